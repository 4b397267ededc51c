# SPDX-License-Identifier: GPL-2.0
#
# zcopy - top-level Makefile. See README.md.
#
#   make            module for the running kernel (or KDIR=...), library, CLI
#   make demo       install what is missing, boot a VM, send a file
#   make check      install what is missing, run every test on 6.1 and 6.12
#   make bench      install what is missing, benchmark every file-to-socket
#                   method on 6.1 and 6.12 (results in build/bench/)
#   make stress     the long stress, fuzz and unload tests on 6.1 and 6.12
#   make bench-ab BASE=REV  what the working tree's module costs against
#                   REV's, in guest instructions
#   make check-docs run docs/exercises.md's commands as written (a
#                   bench-ab and a make check with each patch applied)
#   make install    install module, library (shared and static), sendfile
#                   interposer, headers, pkg-config file, CLI, udev rule,
#                   man pages, completion;
#                   DESTDIR and PREFIX (/usr/local) as usual
#   make uninstall  remove exactly what make install put
#   make install-userspace / install-module / uninstall-*  each half alone
#   make dkms-install  register the module with dkms instead (and
#                   make dkms-uninstall)
#
# Everything built goes to build/, except the in-place module build
# (zcopy.ko at the top, as kbuild does it).

VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/zcopy
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# udev reads rules from /usr/lib/udev/rules.d (a package's) and
# /etc/udev/rules.d (the admin's), never from /usr/local: a package
# (PREFIX=/usr) installs into the first, anything else into the second.
UDEVRULESDIR ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/udev/rules.d,/etc/udev/rules.d)
# The group that may open /dev/zcopy; empty: everyone (mode 0666, as the
# module creates it). With a group: mode 0660, that group.
ZCOPY_GROUP ?=
# Where modules_install puts zcopy.ko under /lib/modules/KVER (dkms uses
# updates/dkms; both win over the kernel's own modules in depmod's order).
INSTALL_MOD_DIR ?= updates
B := build
comma := ,

CC ?= cc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror=implicit-function-declaration
LIB_CFLAGS := -std=c11 $(WARN) -Iuapi -Iuserspace/lib -DZCOPY_LIB_VERSION='"$(VERSION)"'
CLI_CFLAGS := -std=c11 $(WARN) -Iuapi -Iuserspace/lib -DZCOPY_CLI_VERSION='"$(VERSION)"'
TEST_CFLAGS := -std=gnu11 $(WARN) -Iuapi -Iuserspace/lib -pthread
EXAMPLE_CFLAGS := -std=c11 $(WARN) -Iuapi -Iuserspace/lib -pthread

LIB := $(B)/lib/libzcopy.so.$(VERSION)
PRELOAD := $(B)/lib/libzcopy-preload.so
USERSPACE := $(LIB) $(B)/lib/libzcopy.so.1 $(B)/lib/libzcopy.so $(B)/lib/libzcopy.a \
	     $(PRELOAD) $(B)/bin/zcopy $(B)/bin/zchttpd $(B)/bin/zcnotify $(B)/bin/zcloop $(B)/tests/zctest \
	     $(B)/tests/zcload

.PHONY: all module userspace check check-docs bench bench-ab stress demo deps install install-module \
	install-userspace uninstall uninstall-module uninstall-userspace dkms-install \
	dkms-uninstall install-dkms-src uninstall-dkms-src clean

all: module userspace

module:
	@test -d $(KDIR) || { echo "No kernel headers in $(KDIR): install" \
		"linux-headers-$(KVER), or pass KDIR=<kernel build dir>." >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

userspace: $(USERSPACE)

# zcopy_nl.c speaks the generic netlink family through libmnl (libmnl-dev).
LIB_SRC := userspace/lib/zcopy.c userspace/lib/zcopy_nl.c
$(LIB): $(LIB_SRC) userspace/lib/zcopy.h userspace/lib/zc_limits.h uapi/linux/zcopy.h \
		uapi/linux/zcopy_netlink.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LIB_CFLAGS) -fPIC -fvisibility=hidden -shared \
		-Wl,-soname,libzcopy.so.1 -o $@ $(LIB_SRC) -lmnl

$(B)/lib/libzcopy.so.1 $(B)/lib/libzcopy.so: $(LIB)
	ln -sf $(notdir $<) $@

# The static library, for programs that link everything in: the same
# sources, each an object of its own (pkg-config --static adds -lmnl).
LIB_OBJ := $(patsubst userspace/lib/%.c,$(B)/lib/obj/%.o,$(LIB_SRC))
$(B)/lib/obj/%.o: userspace/lib/%.c userspace/lib/zcopy.h userspace/lib/zc_limits.h \
		uapi/linux/zcopy.h uapi/linux/zcopy_netlink.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LIB_CFLAGS) -fvisibility=hidden -c -o $@ $<
$(B)/lib/libzcopy.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

# pkg-config's file, for the paths this install uses.
$(B)/lib/libzcopy.pc: userspace/lib/libzcopy.pc.in dkms.conf FORCE
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' $< >$@

$(B)/60-zcopy.rules: packaging/60-zcopy.rules.in FORCE
	@mkdir -p $(@D)
	sed -e 's|@MODE@|$(if $(ZCOPY_GROUP),0660,0666)|' \
		-e 's|@GROUP@|$(if $(ZCOPY_GROUP),$(comma) GROUP="$(ZCOPY_GROUP)")|' $< >$@

FORCE:

# The sendfile(2) interposer of `zcopy run`: libzcopy's sendfile half
# (zcopy.c, without netlink and libmnl) compiled in and kept private by the
# version script, so it loads into any program without a second library.
$(PRELOAD): userspace/lib/preload.c userspace/lib/zcopy.c userspace/lib/preload.map \
		userspace/lib/zcopy.h userspace/lib/zc_limits.h uapi/linux/zcopy.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LIB_CFLAGS) -fPIC -shared -Wl,--version-script=userspace/lib/preload.map \
		-o $@ userspace/lib/preload.c userspace/lib/zcopy.c

$(B)/bin/zcopy: userspace/cli/zcopy.c userspace/lib/zcopy.h $(B)/lib/libzcopy.so
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CLI_CFLAGS) -o $@ $< -L$(B)/lib -lzcopy

# examples/: programs built on libzcopy, to read; not installed. The guest
# suite runs zchttpd against Debian's curl.
$(B)/bin/zchttpd: examples/zchttpd.c userspace/lib/zcopy.h $(B)/lib/libzcopy.so
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(EXAMPLE_CFLAGS) -o $@ $< -L$(B)/lib -lzcopy

# zcnotify: rewrites each chunk of a file as soon as its notice arrives.
$(B)/bin/zcnotify: examples/zcnotify.c userspace/lib/zcopy.h $(B)/lib/libzcopy.so
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(EXAMPLE_CFLAGS) -o $@ $< -L$(B)/lib -lzcopy

# zcloop: an event loop that sends what is cached, a pool the cold rest.
$(B)/bin/zcloop: examples/zcloop.c userspace/lib/zcopy.h $(B)/lib/libzcopy.so
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(EXAMPLE_CFLAGS) -o $@ $< -L$(B)/lib -lzcopy

ZCTEST_SRC := $(wildcard tests/guest/*.c)
$(B)/tests/zctest: $(ZCTEST_SRC) tests/guest/common.h userspace/lib/zcopy.h $(B)/lib/libzcopy.so
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -o $@ $(ZCTEST_SRC) -L$(B)/lib -lzcopy -lmnl

# The load of the benchmark's "cold file" row: keep-alive clients of
# zcloop (examples/zcloop.c), their latencies, and one cold fetch.
$(B)/tests/zcload: tests/bench/zcload.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -o $@ $<

# The benchmark's guest program; it needs liburing (liburing-dev, from
# make deps), which is why it is not part of `make userspace`.
ZCBENCH := $(B)/tests/zcbench
$(ZCBENCH): tests/bench/zcbench.c userspace/lib/zcopy.h $(B)/lib/libzcopy.so
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -o $@ $< -L$(B)/lib -lzcopy -luring

# The packages the VM tests need (kernels, headers, QEMU, busybox).
deps:
	tests/vm/deps.sh

check: deps
	$(MAKE) userspace $(ZCBENCH)
	tests/vm/check.sh

bench: deps
	$(MAKE) userspace $(ZCBENCH)
	tests/bench/bench.sh

# The long forms of the hardening tests (issue 16) on the Debian kernels:
# zctest's bad, fuzz and stress parts (run.sh's shell sections, with the
# unload tests, always run), 5 minutes of stress, 500000 fuzz rounds, 100
# load/unload rounds. ZC_DEBUG_LINES="6.1 6.12" adds the debug kernels.
stress: deps
	$(MAKE) userspace $(ZCBENCH)
	ZC_PARTS="$${ZC_PARTS-bad fuzz stress}" \
	ZC_STRESS_SECONDS=$${ZC_STRESS_SECONDS:-300} \
	ZC_FUZZ_COUNT=$${ZC_FUZZ_COUNT:-500000} ZC_FUZZ_SECONDS=$${ZC_FUZZ_SECONDS:-600} \
	ZC_UNLOAD_LOOPS=$${ZC_UNLOAD_LOOPS:-100} ZC_WATCHDOG=$${ZC_WATCHDOG:-2400} \
	ZC_TIMEOUT=$${ZC_TIMEOUT:-3000} ZC_DEBUG_LINES="$${ZC_DEBUG_LINES-}" \
	tests/vm/check.sh

# What a change costs, in guest instructions: zcopy.ko built from BASE (a
# commit) and from the working tree, alternated in one guest under QEMU's
# -icount (tests/bench/ab.sh). make bench-ab BASE=HEAD~1
bench-ab: deps
	$(MAKE) userspace $(ZCBENCH)
	tests/bench/ab.sh $(BASE)

demo: deps
	$(MAKE) userspace $(ZCBENCH)
	tests/vm/demo.sh

# The exercises of docs/exercises.md, each block of commands run as the
# page writes it (tests/docs.sh): small-batch.patch under make bench-ab
# (ZC_AB_ROUNDS=1 unless set), leak-ref.patch under make check on the
# 6.12 debug kernel, whose KUnit results must say "not ok". Each patch is
# reverted afterwards, on failure too. About 20 minutes (2026-12-03:
# 4.5 for exercise 1, 14.5 for exercise 2).
check-docs: deps
	$(MAKE) userspace $(ZCBENCH)
	tests/docs.sh

install: install-module install-userspace
uninstall: uninstall-module uninstall-userspace

# depmod on the system itself, or on the tree under DESTDIR (-b).
DEPMOD := depmod $(if $(DESTDIR),-b $(DESTDIR)) -a $(KVER)
MODDEST := $(DESTDIR)/lib/modules/$(KVER)/$(INSTALL_MOD_DIR)

# Debian's kernels sign every module at modules_install
# (CONFIG_MODULE_SIG_ALL) with a key only Debian holds: without the key
# there, the module is installed unsigned, as dkms would without a MOK.
SIGKEY := $(shell sed -n 's/^CONFIG_MODULE_SIG_KEY="\(.*\)"/\1/p' $(KDIR)/.config 2>/dev/null)
NOSIGN := $(if $(wildcard $(if $(filter /%,$(SIGKEY)),$(SIGKEY),$(KDIR)/$(SIGKEY))),,CONFIG_MODULE_SIG_ALL=)

install-module: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) $(NOSIGN) modules_install
	$(DEPMOD)

# modules_install may have compressed it (6.12: zcopy.ko.xz).
uninstall-module:
	rm -f $(MODDEST)/zcopy.ko $(MODDEST)/zcopy.ko.xz $(MODDEST)/zcopy.ko.zst \
		$(MODDEST)/zcopy.ko.gz
	-rmdir $(MODDEST) 2>/dev/null
	if [ -d $(DESTDIR)/lib/modules/$(KVER) ]; then $(DEPMOD); fi

# Man pages: one page per group of calls; the other calls' names are
# .so links to it, as man(1) expects.
MAN1 := zcopy.1
MAN3 := zc_sendfile.3 zc_sendv.3 zc_stats_get.3
MAN4 := zcopy.4
MAN3_LINKS := zc_sendfile_flags:zc_sendfile zc_sendfile_ex:zc_sendfile \
	zc_sendfile_notify:zc_sendfile zc_notices_read:zc_sendfile \
	zc_device_fd:zc_sendfile zc_close:zc_sendfile zc_version:zc_sendfile \
	zc_sendv_notify:zc_sendv zc_sendv_advance:zc_sendv zc_send_response:zc_sendv \
	zc_seg_mem:zc_sendv zc_seg_file:zc_sendv \
	zc_stats_reset:zc_stats_get zc_stat_name:zc_stats_get zc_config_get:zc_stats_get \
	zc_config_set:zc_stats_get zc_monitor_open:zc_stats_get zc_monitor_fd:zc_stats_get \
	zc_monitor_read:zc_stats_get zc_monitor_close:zc_stats_get

# Everything install-userspace puts, relative to DESTDIR; uninstall
# removes this list and nothing else (then the directories it made, if
# empty).
USERSPACE_FILES := $(BINDIR)/zcopy \
	$(LIBDIR)/libzcopy.so.$(VERSION) $(LIBDIR)/libzcopy.so.1 $(LIBDIR)/libzcopy.so \
	$(LIBDIR)/libzcopy.a $(LIBDIR)/libzcopy-preload.so $(PKGCONFIGDIR)/libzcopy.pc \
	$(INCLUDEDIR)/zcopy.h $(INCLUDEDIR)/linux/zcopy.h $(INCLUDEDIR)/linux/zcopy_netlink.h \
	$(UDEVRULESDIR)/60-zcopy.rules $(DOCDIR)/modules-load.d/zcopy.conf \
	$(BASHCOMPDIR)/zcopy \
	$(addprefix $(MANDIR)/man1/,$(MAN1)) $(addprefix $(MANDIR)/man3/,$(MAN3)) \
	$(addprefix $(MANDIR)/man4/,$(MAN4)) \
	$(foreach l,$(MAN3_LINKS),$(MANDIR)/man3/$(word 1,$(subst :, ,$(l))).3)
USERSPACE_DIRS := $(DOCDIR)/modules-load.d $(DOCDIR) $(PKGCONFIGDIR)

# Only what it installs is built (not the examples and test programs).
install-userspace: $(LIB) $(B)/lib/libzcopy.so.1 $(B)/lib/libzcopy.so $(B)/lib/libzcopy.a \
		$(PRELOAD) $(B)/bin/zcopy $(B)/lib/libzcopy.pc $(B)/60-zcopy.rules
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(INCLUDEDIR)/linux \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(UDEVRULESDIR) \
		$(DESTDIR)$(DOCDIR)/modules-load.d $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man4
	install -m 0755 $(LIB) $(DESTDIR)$(LIBDIR)/
	ln -sf libzcopy.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libzcopy.so.1
	ln -sf libzcopy.so.1 $(DESTDIR)$(LIBDIR)/libzcopy.so
	install -m 0644 $(B)/lib/libzcopy.a $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(PRELOAD) $(DESTDIR)$(LIBDIR)/
	install -m 0644 $(B)/lib/libzcopy.pc $(DESTDIR)$(PKGCONFIGDIR)/
	install -m 0644 userspace/lib/zcopy.h $(DESTDIR)$(INCLUDEDIR)/zcopy.h
	install -m 0644 uapi/linux/zcopy.h uapi/linux/zcopy_netlink.h \
		$(DESTDIR)$(INCLUDEDIR)/linux/
	install -m 0755 $(B)/bin/zcopy $(DESTDIR)$(BINDIR)/zcopy
	install -m 0644 $(B)/60-zcopy.rules $(DESTDIR)$(UDEVRULESDIR)/
	install -m 0644 packaging/modules-load.conf $(DESTDIR)$(DOCDIR)/modules-load.d/zcopy.conf
	install -m 0644 packaging/zcopy.bash-completion $(DESTDIR)$(BASHCOMPDIR)/zcopy
	install -m 0644 $(addprefix docs/man/,$(MAN1)) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(addprefix docs/man/,$(MAN3)) $(DESTDIR)$(MANDIR)/man3/
	install -m 0644 $(addprefix docs/man/,$(MAN4)) $(DESTDIR)$(MANDIR)/man4/
	$(foreach l,$(MAN3_LINKS),printf '.so man3/%s.3\n' $(word 2,$(subst :, ,$(l))) \
		>$(DESTDIR)$(MANDIR)/man3/$(word 1,$(subst :, ,$(l))).3 &&) true
	if [ -z "$(DESTDIR)" ]; then ldconfig; fi

uninstall-userspace:
	rm -f $(addprefix $(DESTDIR),$(USERSPACE_FILES))
	-rmdir $(addprefix $(DESTDIR),$(USERSPACE_DIRS)) 2>/dev/null
	if [ -z "$(DESTDIR)" ]; then ldconfig; fi

# dkms builds from /usr/src/zcopy-$(VERSION) for every installed kernel.
# install-dkms-src puts that tree (with DESTDIR, for a package);
# dkms-install then registers, builds and installs it for the running
# kernel (KVER), dkms-uninstall undoes both.
DKMS_SRC := $(DESTDIR)/usr/src/zcopy-$(VERSION)
install-dkms-src:
	rm -rf $(DKMS_SRC)
	install -d $(DKMS_SRC)/kmod/tests $(DKMS_SRC)/uapi/linux
	install -m 0644 Kbuild dkms.conf $(DKMS_SRC)/
	install -m 0644 kmod/*.c kmod/*.h $(DKMS_SRC)/kmod/
	install -m 0644 kmod/tests/*.c $(DKMS_SRC)/kmod/tests/
	install -m 0644 uapi/linux/*.h $(DKMS_SRC)/uapi/linux/

uninstall-dkms-src:
	rm -rf $(DKMS_SRC)

dkms-install: install-dkms-src
	dkms add zcopy/$(VERSION)
	dkms install zcopy/$(VERSION) -k $(KVER)

dkms-uninstall:
	-dkms remove zcopy/$(VERSION) --all
	$(MAKE) uninstall-dkms-src

clean:
	rm -rf $(B)
	@if [ -d $(KDIR) ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi

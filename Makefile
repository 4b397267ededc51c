# SPDX-License-Identifier: GPL-2.0
#
# zcopy - top-level Makefile. See README.md.
#
#   make            module for the running kernel (or KDIR=...), library, CLI
#   make demo       install what is missing, boot a VM, send a file
#   make check      install what is missing, run every test on 6.1 and 6.12
#   make bench      install what is missing, benchmark every file-to-socket
#                   method on 6.1 and 6.12 (results in build/bench/)
#   make install    install module, library, interposer, headers and CLI here
#   make dkms-install  register the module with dkms instead
#
# Everything built goes to build/, except the in-place module build
# (zcopy.ko at the top, as kbuild does it).

VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
PREFIX ?= /usr/local
DESTDIR ?=
B := build

CC ?= cc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror=implicit-function-declaration
LIB_CFLAGS := -std=c11 $(WARN) -Iuapi -Iuserspace/lib -DZCOPY_LIB_VERSION='"$(VERSION)"'
CLI_CFLAGS := -std=c11 $(WARN) -Iuapi -Iuserspace/lib -DZCOPY_CLI_VERSION='"$(VERSION)"'
TEST_CFLAGS := -std=gnu11 $(WARN) -Iuapi -Iuserspace/lib -pthread
EXAMPLE_CFLAGS := -std=c11 $(WARN) -Iuapi -Iuserspace/lib -pthread

LIB := $(B)/lib/libzcopy.so.$(VERSION)
PRELOAD := $(B)/lib/libzcopy-preload.so
USERSPACE := $(LIB) $(B)/lib/libzcopy.so.1 $(B)/lib/libzcopy.so $(PRELOAD) $(B)/bin/zcopy \
	     $(B)/bin/zchttpd $(B)/bin/zcnotify $(B)/bin/zcloop $(B)/tests/zctest \
	     $(B)/tests/zcload

.PHONY: all module userspace check bench bench-ab demo deps install install-module \
	install-userspace dkms-install clean

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

# What a change costs, in guest instructions: zcopy.ko built from BASE (a
# commit) and from the working tree, alternated in one guest under QEMU's
# -icount (tests/bench/ab.sh). make bench-ab BASE=HEAD~1
bench-ab: deps
	$(MAKE) userspace $(ZCBENCH)
	tests/bench/ab.sh $(BASE)

demo: deps
	$(MAKE) userspace $(ZCBENCH)
	tests/vm/demo.sh

install: install-module install-userspace

install-module: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	depmod -a $(KVER)

install-userspace: userspace
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(PREFIX)/include/linux
	install -m 0755 $(LIB) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libzcopy.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libzcopy.so.1
	ln -sf libzcopy.so.1 $(DESTDIR)$(PREFIX)/lib/libzcopy.so
	install -m 0755 $(PRELOAD) $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 userspace/lib/zcopy.h $(DESTDIR)$(PREFIX)/include/zcopy.h
	install -m 0644 uapi/linux/zcopy.h uapi/linux/zcopy_netlink.h \
		$(DESTDIR)$(PREFIX)/include/linux/
	install -m 0755 $(B)/bin/zcopy $(DESTDIR)$(PREFIX)/bin/zcopy
	if [ -z "$(DESTDIR)" ]; then ldconfig; fi

# dkms builds from /usr/src/zcopy-$(VERSION) for every installed kernel.
dkms-install:
	rm -rf /usr/src/zcopy-$(VERSION)
	mkdir -p /usr/src/zcopy-$(VERSION)
	cp -r Kbuild dkms.conf kmod uapi /usr/src/zcopy-$(VERSION)/
	dkms add -m zcopy -v $(VERSION)
	dkms install -m zcopy -v $(VERSION)

clean:
	rm -rf $(B)
	@if [ -d $(KDIR) ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi

#!/usr/bin/env bash
# host.sh - the checks of `make check` that need no VM: style, static
# analysis and packaging. Prints "ok"/"not ok" lines and ends with
# "host: N passed, N failed".
#
#   checkpatch.pl --strict  on kmod/ and uapi/ (from Debian's linux-source)
#   sparse, W=1             on the module, against each kernel's headers
#   clang-format            on userspace/, tests/ and examples/ C sources
#   cc -Werror              userspace builds without a warning; compiles -m32
#   tests/unit/t_lib32.c    libzcopy's offset limit, -m64 and -m32
#   ASan, UBSan             t_lib32 and the CLI's no-module paths
#   dkms install           from make install-dkms-src's /usr/src tree,
#                           for each kernel; then removed again
#   tests/ynl-check.sh      uapi/zcopy.yaml is a valid YNL spec, and
#                           ynl-gen-c.py makes uapi/linux/zcopy_netlink.h
#                           from it: the same names with the same values
#   make install DESTDIR   the installed tree, hello.c built against it
#                           with pkg-config (shared, static), the man
#                           pages, make uninstall; the module's install
#   one version             dkms.conf's, in modinfo, zc_version(), the CLI,
#                           pkg-config, the man pages and CHANGELOG.md
#   docs/                   the figure, the links to functions, the
#                           exercises' patches, the commands of the docs
#   tests/bench/nostats.patch  still applies (make bench-ab's no-counting
#                           build, README "What the counters cost")
set -u
. "$(dirname "$0")/vm/lib.sh"
cd "$ZC_TOP" || exit 1

P=0
F=0
ok() { P=$((P + 1)); echo "ok - $*"; }
notok() { F=$((F + 1)); echo "not ok - $*"; }
# check NAME LOG COMMAND...: pass when COMMAND succeeds; else show its output.
check() {
	local name=$1 log=$2
	shift 2
	if "$@" >"$log" 2>&1; then
		ok "$name"
	else
		notok "$name"
		sed 's/^/#   /' "$log" | head -n 40
	fi
}

out=$ZC_BUILD/host
mkdir -p "$out"

# checkpatch.pl and the data files it reads, from linux-source-6.12.
cp_dir=$ZC_CACHE/checkpatch
if [ ! -x "$cp_dir/scripts/checkpatch.pl" ]; then
	src=$(ls /usr/src/linux-source-6.12.tar.* 2>/dev/null | head -n 1)
	mkdir -p "$cp_dir"
	tar -xf "$src" -C "$cp_dir" --strip-components=1 --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
fi
checkpatch() {
	perl "$cp_dir/scripts/checkpatch.pl" --strict --no-tree --quiet \
		--show-types -f kmod/*.c kmod/*.h kmod/tests/*.c uapi/linux/*.h
}
check "checkpatch.pl --strict: kmod/ and uapi/ clean" "$out/checkpatch.log" checkpatch

for kver in $("$ZC_TOP/tests/vm/kernels.sh"); do
	sparse_build() {
		local dir=$out/sparse-$1
		rm -rf "$dir"
		mkdir -p "$dir"
		cp -r Kbuild dkms.conf kmod uapi "$dir/"
		# W=1: the kernel's extra warnings (missing prototypes and
		# declarations, unused but set variables, ...), in the same
		# build as sparse. The guest
		# build (lib.sh) is without W=1; this is where W=1 is kept.
		make -C "/lib/modules/$1/build" M="$dir" C=2 CHECK=sparse W=1 modules >"$dir/log" 2>&1 || {
			cat "$dir/log"
			return 1
		}
		# sparse and the compiler print file:line:col: warning/error.
		! grep -E ': (warning|error):' "$dir/log"
	}
	check "sparse and W=1: module clean against $kver" "$out/sparse-$kver.log" sparse_build "$kver"
done

fmt() {
	clang-format --dry-run --Werror userspace/lib/*.[ch] userspace/cli/*.c tests/guest/*.c \
		tests/bench/*.c tests/unit/*.c tests/pkg/*.c examples/*.c
}
check "clang-format: userspace/, tests/ and examples/ formatted" "$out/clang-format.log" fmt

werror() {
	make -s -B userspace CFLAGS="-O2 -g -Werror"
}
check "userspace builds with -Wall -Wextra -Werror" "$out/werror.log" werror

# 32-bit builds (gcc-multilib). With a 32-bit off_t, sendfile(2) given an
# offset stops at 2 GiB - 1, and so must libzcopy: tests/unit/t_lib32.c
# runs the library as built against a model of the ioctl (no module
# needed), for each off_t. A kernel that cannot run i386 programs (no
# IA32 emulation) runs them in qemu-i386 (qemu-user).
if echo 'int main(void) { return 0; }' | cc -m32 -x c -o "$out/m32-probe" - 2>/dev/null; then
	if "$out/m32-probe" 2>/dev/null; then
		run32=
	elif command -v qemu-i386 >/dev/null && qemu-i386 "$out/m32-probe"; then
		run32=qemu-i386
	else
		run32=none
	fi
	# Compiled, not linked: Debian has no i386 libmnl without a foreign
	# architecture, and what -m32 can get wrong (formats, sizes) is the
	# compiler's to find. t_lib32 below links and runs zcopy.c, which
	# holds the off_t logic, without the netlink half.
	werror32() {
		local f
		mkdir -p "$out/m32"
		for f in userspace/lib/zcopy.c userspace/lib/zcopy_nl.c userspace/lib/preload.c \
			userspace/cli/zcopy.c; do
			cc -m32 -std=c11 -O2 -g -Wall -Wextra -Werror -Iuapi -Iuserspace/lib -c \
				-o "$out/m32/$(echo "$f" | tr / _).o" "$f" || return 1
		done
	}
	check "library and CLI compile -m32 with -Wall -Wextra -Werror" "$out/werror32.log" werror32
else
	run32=nocc
	echo "ok - library and CLI compile -m32 # SKIP cc -m32 cannot link (gcc-multilib)"
fi
# t_lib32 NAME RUNNER CFLAGS...: build the test with the library and run it.
t_lib32() {
	local bin=$out/t_lib32-$1 run=$2
	shift 2
	cc "$@" -std=gnu11 -O2 -g -Wall -Wextra -Werror -Iuapi -Iuserspace/lib -o "$bin" \
		tests/unit/t_lib32.c userspace/lib/zcopy.c \
		-Wl,--wrap=open,--wrap=open64,--wrap=ioctl || return 1
	$run "$bin"
}
check "libzcopy offset limit, 64-bit off_t (t_lib32 -m64)" "$out/t_lib32-m64.log" \
	t_lib32 m64 "" -m64
for v in "m32:32-bit off_t (t_lib32 -m32):-m32" \
	"m32lfs:64-bit off_t on i386 (t_lib32 -m32 -D_FILE_OFFSET_BITS=64):-m32 -D_FILE_OFFSET_BITS=64"; do
	IFS=: read -r tag what flags <<<"$v"
	case $run32 in
	nocc) echo "ok - libzcopy offset limit, $what # SKIP no cc -m32 (gcc-multilib)" ;;
	none) echo "ok - libzcopy offset limit, $what # SKIP cannot run i386 programs (qemu-user)" ;;
	*) check "libzcopy offset limit, $what" "$out/t_lib32-$tag.log" t_lib32 "$tag" "$run32" $flags ;;
	esac
done

# ---- ASan and UBSan --------------------------------------------------------
# The library, the CLI and t_lib32 built with -fsanitize=address,undefined
# (any finding aborts), and run where no module is needed: t_lib32 (the
# library against a model of the ioctl), and the CLI's help, usage errors
# and failures without a module (/dev/zcopy missing: the ioctl path's
# open; stats: libmnl's netlink path to a missing family). The guest's
# programs are not run under ASan: see README.
san() {
	local d=$out/asan f
	local cfl="-std=gnu11 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined
		-fno-sanitize-recover=all -Wall -Wextra -Werror -Iuapi -Iuserspace/lib"
	rm -rf "$d"
	mkdir -p "$d"
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1
	# shellcheck disable=SC2086 # cfl is a list
	cc $cfl -fPIC -shared -fvisibility=hidden -DZCOPY_LIB_VERSION="\"$ZC_VERSION\"" \
		-Wl,-soname,libzcopy.so.1 -o "$d/libzcopy.so.1" userspace/lib/zcopy.c \
		userspace/lib/zcopy_nl.c -lmnl || return 1
	# shellcheck disable=SC2086
	cc $cfl -DZCOPY_CLI_VERSION="\"$ZC_VERSION\"" -o "$d/zcopy" userspace/cli/zcopy.c \
		"$d/libzcopy.so.1" || return 1
	# shellcheck disable=SC2086
	cc $cfl -o "$d/t_lib32" tests/unit/t_lib32.c userspace/lib/zcopy.c \
		-Wl,--wrap=open,--wrap=open64,--wrap=ioctl || return 1
	"$d/t_lib32" || return 1
	z() { LD_LIBRARY_PATH=$d "$d/zcopy" "$@"; }
	# run WANT-STATUS ARGS...: the CLI exits so, and no sanitizer spoke.
	run() {
		local want=$1 rc
		shift
		z "$@" >"$d/out" 2>&1
		rc=$?
		cat "$d/out"
		[ $rc = "$want" ] && ! grep -qE 'Sanitizer|runtime error' "$d/out" ||
			{ echo "^ zcopy $*: exit $rc, want $want"; return 1; }
	}
	run 0 --help && run 0 --version && run 2 && run 2 bogus &&
		run 0 send --help && run 0 stats --help && run 0 monitor --help && run 0 config --help &&
		run 2 send && run 2 send --count 12Q x 127.0.0.1:9 && run 2 send x ::1:80 &&
		run 2 send --bogus x 127.0.0.1:9 &&
		[ "$(cat "$d/out")" = "zcopy: bad option '--bogus' (unknown, or missing its value)
Try 'zcopy --help'." ] &&
		run 1 send /nonexistent 127.0.0.1:9 &&
		[ "$(cat "$d/out")" = "zcopy: /nonexistent: No such file or directory" ] &&
		run 1 send --offset 1G /etc/hostname 127.0.0.1:9 &&
		run 1 send --json /etc/hostname 127.0.0.1:9 &&
		run 2 stats extra && run 2 config --events-rate 0
	[ -e /dev/zcopy ] || { run 1 send /etc/hostname 127.0.0.1:9 && run 1 stats &&
		run 1 monitor --count 1 && run 1 config; }
}
check "ASan+UBSan: t_lib32, and the CLI's help, usage errors and failures without a module" \
	"$out/asan.log" san

# ---- dkms, for real -------------------------------------------------------
# As an operator would: make install-dkms-src puts the sources in
# /usr/src/zcopy-VERSION, then dkms add, build and install for each
# Debian kernel, into /var/lib/dkms and /lib/modules/KVER/updates/dkms.
# The .ko dkms installed is kept in build/dkms/KVER/ for the guest, which
# loads it after the suite (run.sh, ZC_DKMS_KO from check.sh); then dkms
# remove --all and the source tree go, so the machine is as before. Any
# zcopy of this version registered before (an earlier run that died) is
# removed first. System-wide: needs root, and one run at a time.
dkms_real() {
	local kver ko
	dkms remove "zcopy/$ZC_VERSION" --all >/dev/null 2>&1
	make -s uninstall-dkms-src
	make -s install-dkms-src || return 1
	dkms add "zcopy/$ZC_VERSION" || return 1
	for kver in $("$ZC_TOP/tests/vm/kernels.sh"); do
		dkms build "zcopy/$ZC_VERSION" -k "$kver" || return 1
		dkms install "zcopy/$ZC_VERSION" -k "$kver" || return 1
		ko=$(ls "/lib/modules/$kver/updates/dkms/zcopy.ko"*) || return 1
		modinfo -k "$kver" zcopy | grep -E '^(filename|version):'
		# modprobe's choice for this kernel is dkms's module.
		[ "$(modinfo -k "$kver" -F filename zcopy)" = "$ko" ] || return 1
		[ "$(modinfo -F version "$ko")" = "$ZC_VERSION" ] || return 1
		mkdir -p "$ZC_BUILD/dkms/$kver"
		cp "$ko" "$ZC_BUILD/dkms/$kver/"
	done
	dkms status zcopy
}
dkms_clean() {
	local kver
	dkms remove "zcopy/$ZC_VERSION" --all || return 1
	make -s uninstall-dkms-src || return 1
	! dkms status zcopy | grep . || return 1
	for kver in $("$ZC_TOP/tests/vm/kernels.sh"); do
		! ls "/lib/modules/$kver/updates/dkms/zcopy.ko"* 2>/dev/null || return 1
	done
}
# No module from an earlier run may pass for this one's.
rm -rf "$ZC_BUILD/dkms"
if [ "$(id -u)" = 0 ]; then
	check "dkms add, build, install from /usr/src/zcopy-$ZC_VERSION for every kernel; modinfo finds it" \
		"$out/dkms.log" dkms_real
	check "dkms remove --all and make uninstall-dkms-src leave no trace" "$out/dkms-clean.log" dkms_clean
else
	echo "ok - dkms install for every kernel # SKIP not root (dkms writes /usr/src, /var/lib/dkms)"
fi

# ---- packaging: make install into a scratch DESTDIR ----------------------
# The userspace half as a package would install it (PREFIX=/usr), and a
# third-party program (tests/pkg/hello.c) built against it through
# pkg-config alone, shared and static (tests/pkg/build.sh). The guest runs
# both programs (run.sh). The tree is listed in $out/pkg-install.log.
pkg=$ZC_BUILD/pkg
pkg_install() {
	tests/pkg/build.sh "$pkg/root" "$pkg" || return 1
	(cd "$pkg/root" && find . | sort)
	local f
	for f in usr/bin/zcopy usr/lib/libzcopy.so.$ZC_VERSION usr/lib/libzcopy.a \
		usr/lib/libzcopy-preload.so usr/lib/pkgconfig/libzcopy.pc usr/include/zcopy.h usr/include/linux/zcopy.h \
		usr/include/linux/zcopy_netlink.h usr/lib/udev/rules.d/60-zcopy.rules \
		usr/share/doc/zcopy/modules-load.d/zcopy.conf \
		usr/share/bash-completion/completions/zcopy usr/share/man/man1/zcopy.1 \
		usr/share/man/man3/zc_sendfile.3 usr/share/man/man4/zcopy.4; do
		[ -f "$pkg/root/$f" ] || { echo "missing: $f"; return 1; }
	done
	# The soname chain: libzcopy.so -> .so.1 -> .so.VERSION, whose
	# DT_SONAME is libzcopy.so.1.
	[ "$(readlink "$pkg/root/usr/lib/libzcopy.so")" = libzcopy.so.1 ] &&
		[ "$(readlink "$pkg/root/usr/lib/libzcopy.so.1")" = "libzcopy.so.$ZC_VERSION" ] &&
		readelf -d "$pkg/root/usr/lib/libzcopy.so.$ZC_VERSION" | grep -q 'SONAME.*\[libzcopy\.so\.1\]'
}
check "make install DESTDIR PREFIX=/usr: every file in place, soname links; hello.c built with pkg-config" \
	"$out/pkg-install.log" pkg_install
# The installed zcopy run finds the installed interposer: ../lib next to
# itself (PREFIX/bin, PREFIX/lib), not the build tree's.
pkg_run() {
	LD_LIBRARY_PATH="$pkg/root/usr/lib" "$pkg/root/usr/bin/zcopy" run -- \
		sh -c 'echo "$LD_PRELOAD"' >"$pkg/run.out" || return 1
	cat "$pkg/run.out"
	[ "$(cat "$pkg/run.out")" = "$(realpath "$pkg/root/usr/lib/libzcopy-preload.so")" ]
}
check "the installed zcopy run puts the installed libzcopy-preload.so in LD_PRELOAD" \
	"$out/pkg-run.log" pkg_run
pkg_linked() {
	# Shared: loads libzcopy.so.1. Static: libzcopy.a inside, so no
	# libzcopy.so.1, and libmnl.so.0, which only pkg-config --static named.
	readelf -d "$pkg/hello-shared" | grep -q 'NEEDED.*\[libzcopy\.so\.1\]' &&
		! readelf -d "$pkg/hello-static" | grep -q 'libzcopy' &&
		readelf -d "$pkg/hello-static" | grep -q 'NEEDED.*\[libmnl\.so\.0\]' &&
		[ "$(LD_LIBRARY_PATH=$pkg/root/usr/lib "$pkg/hello-shared" --version)" = "$ZC_VERSION" ] &&
		[ "$("$pkg/hello-static" --version)" = "$ZC_VERSION" ]
}
check "hello.c: shared build loads libzcopy.so.1, static build has libzcopy.a in it; both run" \
	"$out/pkg-linked.log" pkg_linked
# Each page renders without a warning (groff -ww: also bad requests and
# escapes), and each other name of a call is a .so link man(1) follows.
pkg_man() {
	local p n bad=0 page
	for p in "$pkg"/root/usr/share/man/man?/*; do
		if head -n 1 "$p" | grep -q '^\.so '; then
			n=${p##*/}
			page=$(MANWIDTH=80 man -M "$pkg/root/usr/share/man" "${n##*.}" "${n%.*}" 2>&1) &&
				grep -q "${n%.*}" <<<"$page" || { echo "$p: link not followed"; bad=1; }
			continue
		fi
		if [ -n "$(groff -man -ww -z "$p" 2>&1)" ] ||
			[ -n "$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l -Tutf8 "$p" 2>&1 >/dev/null)" ]; then
			echo "$p:"
			groff -man -ww -z "$p"
			bad=1
		fi
	done
	# Every call <zcopy.h> declares has its page (or link).
	for n in $(sed -n 's/^[a-z].*[ *]\(zc_[a-z_0-9]*\)(.*/\1/p' userspace/lib/zcopy.h); do
		[ -f "$pkg/root/usr/share/man/man3/$n.3" ] || { echo "no man page for $n()"; bad=1; }
	done
	return $bad
}
check "man pages render with man -l and groff -ww, no warnings; .so links resolve; every call has one" \
	"$out/pkg-man.log" pkg_man
# The completion, as bash calls it: words so far, the index of the word
# being completed; what it offers in COMPREPLY.
pkg_completion() {
	bash -c '
		. "$1"
		offer() { COMP_WORDS=($1); COMP_CWORD=$2; COMPREPLY=(); _zcopy; echo "${COMPREPLY[*]}"; }
		[ "$(offer "zcopy se" 1)" = send ] &&
			[ "$(offer "zcopy send --js" 2)" = --json ] &&
			[ "$(offer "zcopy stats --" 2)" = "--json --reset --help" ] &&
			[ -z "$(offer "zcopy send --count x" 3)" ] &&
			[ "$(offer "zcopy r" 1)" = run ] &&
			[ "$(offer "zcopy run --st" 2)" = --stats ] &&
			offer "zcopy run -- ech" 3 | grep -qw echo &&
			offer "zcopy run --stats ech" 3 | grep -qw echo &&
			complete -p zcopy | grep -q "_zcopy"
	' _ "$pkg/root/usr/share/bash-completion/completions/zcopy"
}
check "bash completion: commands, options per command, nothing after --count, run CMD" \
	"$out/pkg-completion.log" pkg_completion
pkg_uninstall() {
	make -s uninstall-userspace DESTDIR="$pkg/root" PREFIX=/usr || return 1
	# Directories install made may stay (bin/, lib/: a system's own);
	# no file or link may.
	! find "$pkg/root" ! -type d | grep .
}
check "make uninstall DESTDIR: no file left" "$out/pkg-uninstall.log" pkg_uninstall
# The module half, against each Debian kernel's headers, into a DESTDIR
# of its own (modules_install, depmod -b), built in a copy of the sources.
for kver in $("$ZC_TOP/tests/vm/kernels.sh"); do
	pkg_module() {
		local d=$out/modinst-$1 ko
		rm -rf "$d"
		mkdir -p "$d/src"
		cp -r Makefile Kbuild dkms.conf kmod uapi "$d/src/"
		make -s -C "$d/src" install-module KVER="$1" DESTDIR="$d/root" || return 1
		ko=$(ls "$d/root/lib/modules/$1/updates/zcopy.ko"*) || return 1
		grep "^updates/zcopy.ko" "$d/root/lib/modules/$1/modules.dep" || return 1
		[ "$(modinfo -F version "$ko")" = "$ZC_VERSION" ] || return 1
		make -s -C "$d/src" uninstall-module KVER="$1" DESTDIR="$d/root" || return 1
		! ls "$d/root/lib/modules/$1/updates" 2>/dev/null | grep . &&
			! grep zcopy "$d/root/lib/modules/$1/modules.dep"
	}
	check "make install-module DESTDIR for $kver: depmod -b lists it; uninstall-module removes it" \
		"$out/modinst-$kver.log" pkg_module "$kver"
done

# ---- one version everywhere ---------------------------------------------
# dkms.conf writes it; each thing that reports it must agree: the module
# (modinfo, of each sparse build above), the library (zc_version(), by
# hello.c), the CLI, libzcopy.pc, the man pages' footers and CHANGELOG.md's
# first version heading (below "Unreleased").
versions() {
	local v=$ZC_VERSION bad=0 kver f got
	say() {
		echo "$1: $2"
		[ "$2" = "$v" ] || bad=1
	}
	echo "dkms.conf: $v"
	for kver in $("$ZC_TOP/tests/vm/kernels.sh"); do
		say "modinfo ($kver)" "$(modinfo -F version "$out/sparse-$kver/zcopy.ko")"
	done
	say "zc_version() (hello-static)" "$("$pkg/hello-static" --version)"
	got=$(LD_LIBRARY_PATH=$ZC_BUILD/lib "$ZC_BUILD/bin/zcopy" --version)
	[ "$got" = "zcopy $v (libzcopy $v)" ] && say "zcopy --version" "$v" || say "zcopy --version" "$got"
	say "pkg-config --modversion" "$(PKG_CONFIG_PATH=$ZC_BUILD/lib pkg-config --modversion libzcopy)"
	for f in docs/man/*.[0-9]; do
		say "$f" "$(sed -n 's/^\.TH .*"zcopy \([^"]*\)".*/\1/p' "$f")"
	done
	say CHANGELOG.md "$(sed -n 's/^## \([0-9][^ ]*\).*/\1/p' CHANGELOG.md | head -n 1)"
	return $bad
}
check "one version ($ZC_VERSION): modinfo, zc_version(), zcopy --version, pkg-config, man pages, CHANGELOG.md" \
	"$out/versions.log" versions

# ---- the docs (docs/how-it-works.md, docs/exercises.md) -----------------
# The figure is what docs/diagram.py draws; every function a doc links to
# is defined in the file it links to; the exercises' patches apply; the
# blocks marked "tested: host" run from the top of the tree (those marked
# "tested: guest" are run by the guest, run.sh).
docs_check() {
	local bad=0 f fn md b
	python3 docs/diagram.py "$out/page-journey.svg" || return 1
	cmp docs/page-journey.svg "$out/page-journey.svg" || { echo "docs/page-journey.svg is stale"; bad=1; }
	for md in docs/*.md; do
		# [`name()`](../PATH): name( must begin a line of PATH, after
		# its return type, as the kernel's style defines functions.
		grep -o '\[`[a-z_0-9]*()`\](\.\./[^)]*)' "$md" | sed 's/\[`\(.*\)()`\](\.\.\/\(.*\))/\1 \2/' |
			while read -r fn f; do
				grep -qE "^[A-Za-z].*[ *]$fn\(" "$f" || { echo "$md: $fn() is not defined in $f"; exit 1; }
				echo "$md: $fn() in $f"
			done || bad=1
	done
	for f in docs/exercises/*.patch; do
		git apply --check "$f" || { echo "$f no longer applies"; bad=1; }
	done
	for md in docs/*.md; do
		awk '/^<!-- tested: host -->$/ { want = 1; next }
			want && /^```sh$/ { inb = 1; want = 0; next }
			inb && /^```$/ { inb = 0; print "#--"; next }
			inb { print }
			{ want = 0 }' "$md" >"$out/docblocks.sh"
		while IFS= read -r b; do
			[ "$b" = "#--" ] && continue
			echo "$md: \$ $b"
			(bash -ec "$b") || { echo "$md: failed: $b"; bad=1; }
		done <"$out/docblocks.sh"
	done
	git diff --quiet docs/page-journey.svg || { echo "a doc's command changed docs/page-journey.svg"; bad=1; }
	return $bad
}
check "docs: the SVG is diagram.py's, linked functions exist, exercise patches apply, host blocks run" \
	"$out/docs.log" docs_check

# The netlink family's YNL spec, with Linux 6.12's tools/net/ynl.
check "ynl: uapi/zcopy.yaml valid against Linux 6.12's YNL schema for its protocol" "$out/ynl-schema.log" \
	tests/ynl-check.sh schema
check "ynl: ynl-gen-c's uAPI header from uapi/zcopy.yaml = uapi/linux/zcopy_netlink.h" \
	"$out/ynl-names.log" tests/ynl-check.sh names

# The build without counting that make bench-ab measures them against.
check "bench: tests/bench/nostats.patch applies to kmod/" "$out/nostats.log" \
	git apply --check tests/bench/nostats.patch

echo "host: $P passed, $F failed"
[ $F = 0 ]

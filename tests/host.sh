#!/usr/bin/env bash
# host.sh - the checks of `make check` that need no VM: style, static
# analysis and packaging. Prints "ok"/"not ok" lines and ends with
# "host: N passed, N failed".
#
#   checkpatch.pl --strict  on kmod/ and uapi/ (from Debian's linux-source)
#   sparse                  on the module, against each kernel's headers
#   clang-format            on userspace/, tests/ and examples/ C sources
#   cc -Werror              userspace builds without a warning; compiles -m32
#   tests/unit/t_lib32.c    libzcopy's offset limit, -m64 and -m32
#   dkms build              dkms.conf builds the module for each kernel
#   tests/ynl-check.sh      uapi/zcopy.yaml is a valid YNL spec, and
#                           ynl-gen-c.py makes uapi/linux/zcopy_netlink.h
#                           from it: the same names with the same values
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
		make -C "/lib/modules/$1/build" M="$dir" C=2 CHECK=sparse modules >"$dir/log" 2>&1 || {
			cat "$dir/log"
			return 1
		}
		# sparse prints its findings as file:line:col: warning/error.
		! grep -E ': (warning|error):' "$dir/log"
	}
	check "sparse: module clean against $kver" "$out/sparse-$kver.log" sparse_build "$kver"
done

fmt() {
	clang-format --dry-run --Werror userspace/lib/*.[ch] userspace/cli/*.c tests/guest/*.c \
		tests/bench/*.c tests/unit/*.c examples/*.c
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

# dkms with trees of its own, so the check leaves /usr/src and
# /var/lib/dkms untouched.
dkms_build() {
	local d=$out/dkms
	rm -rf "$d"
	mkdir -p "$d/src/zcopy-$ZC_VERSION" "$d/tree"
	cp -r Kbuild dkms.conf kmod uapi "$d/src/zcopy-$ZC_VERSION/"
	dkms add --sourcetree "$d/src" --dkmstree "$d/tree" -m zcopy -v "$ZC_VERSION" || return 1
	for kver in $("$ZC_TOP/tests/vm/kernels.sh"); do
		dkms build --sourcetree "$d/src" --dkmstree "$d/tree" -m zcopy \
			-v "$ZC_VERSION" -k "$kver" || return 1
		ls "$d/tree/zcopy/$ZC_VERSION/$kver/x86_64/module/zcopy.ko"* || return 1
	done
}
check "dkms.conf: dkms builds zcopy.ko for every kernel" "$out/dkms.log" dkms_build

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

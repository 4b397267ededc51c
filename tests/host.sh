#!/usr/bin/env bash
# host.sh - the checks of `make check` that need no VM: style, static
# analysis and packaging. Prints "ok"/"not ok" lines and ends with
# "host: N passed, N failed".
#
#   checkpatch.pl --strict  on kmod/ and uapi/ (from Debian's linux-source)
#   sparse                  on the module, against each kernel's headers
#   clang-format            on userspace/ and tests/ C sources
#   cc -Werror              userspace builds without a warning
#   dkms build              dkms.conf builds the module for each kernel
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
		tests/bench/*.c
}
check "clang-format: userspace/ and tests/ formatted" "$out/clang-format.log" fmt

werror() {
	make -s -B userspace CFLAGS="-O2 -g -Werror"
}
check "userspace builds with -Wall -Wextra -Werror" "$out/werror.log" werror

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

echo "host: $P passed, $F failed"
[ $F = 0 ]

#!/usr/bin/env bash
# debug-kernel.sh LINE - build (once) and print the build tree of a debug
# kernel of LINE (6.1 or 6.12) from Debian's linux-source-LINE package.
#
# Debian's kernels have no KUnit and no sanitizers, so a use-after-free or
# a leaked reference in zcopy.ko would pass every test on them. This
# kernel is allnoconfig plus tests/vm/debug.config: KUnit, KASAN, lockdep,
# kmemleak, fault injection, and everything the guest suite needs built
# in. About 5 minutes per line on 2 cores, so the result is cached under
# $ZC_CACHE/debug/, keyed by the source package's version and the hash of
# the fragment and of this script; a changed key rebuilds, and older
# builds of the same line are removed.
#
# The tree is kept whole (not just bzImage): zcopy.ko and zcopy_kunit.ko
# are built against it like against any kernel build directory, which
# needs its .config, generated headers and Module.symvers.
#
# Prints the tree's path on stdout; the build log goes to the tree's
# build.log, and to stderr on failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

line=${1:?usage: debug-kernel.sh 6.1|6.12}
tarball=/usr/src/linux-source-$line.tar.xz
frag=$ZC_TOP/tests/vm/debug.config
[ -f "$tarball" ] || {
	echo "debug-kernel: $tarball missing (make deps installs linux-source-$line)" >&2
	exit 1
}
pkgver=$(dpkg-query -W -f='${Version}' "linux-source-$line")
key=$(cat "$frag" "$0" | sha256sum | cut -c1-12)
dir=$ZC_CACHE/debug/$line-$pkgver-$key
if [ -f "$dir/.zc-done" ]; then
	echo "$dir"
	exit 0
fi

for old in "$ZC_CACHE/debug/$line"-*; do
	[ -e "$old" ] && [ "$old" != "$dir" ] && rm -rf "$old"
done
rm -rf "$dir"
mkdir -p "$dir"
log=$dir/build.log
echo "debug-kernel: building $line ($pkgver, config $key); about 5 min" >&2
fail() {
	echo "debug-kernel: $*; last lines of $log:" >&2
	tail -n 30 "$log" >&2
	exit 1
}

tar -xf "$tarball" -C "$dir" --strip-components=1 || fail "cannot extract $tarball"
cd "$dir"
mk() { make -j"$(nproc)" LOCALVERSION=-zcdebug "$@" >>"$log" 2>&1; }
mk allnoconfig || fail "allnoconfig failed"
scripts/kconfig/merge_config.sh -m .config "$frag" >>"$log" 2>&1 ||
	fail "merging debug.config failed"
mk olddefconfig || fail "olddefconfig failed"

# A fragment line that did not survive olddefconfig (a missing dependency,
# a renamed symbol) would silently give a weaker kernel than the one the
# tests claim to run on: every =y line must be in .config, except the
# few that exist on one line only.
only_some='CONFIG_DEBUG_INFO_NONE|CONFIG_SERIAL_8250_RUNTIME_UARTS'
missing=$(grep -E '^CONFIG_[A-Z0-9_]+=y$' "$frag" | grep -vE "^($only_some)=" |
	while read -r opt; do grep -qx "$opt" .config || echo "$opt"; done)
[ -z "$missing" ] || fail "options lost by olddefconfig: $(echo $missing)"

# modules as well: it writes Module.symvers, which out-of-tree module
# builds need (modpost checks every symbol, KASAN's included, against it).
mk bzImage modules || fail "kernel build failed"
touch .zc-done
echo "debug-kernel: built $(make -s kernelrelease LOCALVERSION=-zcdebug)" >&2
echo "$dir"

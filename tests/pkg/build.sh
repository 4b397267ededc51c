#!/usr/bin/env bash
# build.sh ROOT OUT - what a packager and then a user do: `make install
# DESTDIR=ROOT PREFIX=/usr` (the userspace half), then build
# tests/pkg/hello.c against ROOT the way a third party would, through
# pkg-config only: OUT/hello-shared (loads libzcopy.so.1) and
# OUT/hello-static (libzcopy.a linked in). Debian ships no libmnl.a, so
# the static one still loads libmnl.so.0 and libc: its link needs
# pkg-config --static, whose -lmnl (from Requires.private) the archive's
# netlink half cannot do without.
# Used by tests/host.sh (which checks each step) and by the initramfs
# (tests/vm/lib.sh: the guest runs both programs).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$1"
root=$(cd "$1" && pwd)
out=$2
mkdir -p "$out"
rm -rf "$root"
make -s -C "$top" install-userspace DESTDIR="$root" PREFIX=/usr
# PKG_CONFIG_SYSROOT_DIR: the .pc file says /usr, as installed; the tree
# is under ROOT until a package manager puts it in place.
export PKG_CONFIG_PATH=$root/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$root
set -x
cc -std=c11 -Wall -Wextra -Werror -O2 -o "$out/hello-shared" "$top/tests/pkg/hello.c" \
	$(pkg-config --cflags --libs libzcopy)
# -l:libzcopy.a: the archive, where -lzcopy would take the .so beside it.
libs=$(pkg-config --static --libs libzcopy)
cc -std=c11 -Wall -Wextra -Werror -O2 -o "$out/hello-static" "$top/tests/pkg/hello.c" \
	$(pkg-config --static --cflags libzcopy) ${libs/-lzcopy/-l:libzcopy.a}

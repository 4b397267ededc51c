#!/bin/sh
# deps.sh - install, from Debian's archive, what building and testing zcopy
# needs and this machine lacks. Idempotent: a second run installs nothing.
set -eu

# Kernels: both Debian 12 lines, image (to boot in QEMU) and headers (to
# build against). The meta-packages follow the newest of each line. The
# sources of both lines, and what building them takes, for the debug
# kernels (tests/vm/debug-kernel.sh) and checkpatch. gcc-multilib and
# qemu-user: tests/host.sh builds and runs a 32-bit libzcopy test (in
# qemu-i386 where the kernel cannot run i386 programs). curl: the guest's
# HTTP client for examples/zchttpd.c. python3-yaml and python3-jsonschema:
# tests/ynl-check.sh runs the kernel's YNL tools on uapi/zcopy.yaml.
# libmnl-dev: libzcopy speaks the module's generic netlink family through
# libmnl. pkgconf, man-db, groff-base: tests/host.sh builds a program
# against `make install`'s tree with pkg-config and renders the man pages.
# libpcre2-8-0, libnettle8, libxxhash0: the libraries of Debian's lighttpd,
# which the guest runs under `zcopy run` (below).
PKGS="linux-image-cloud-amd64 linux-headers-cloud-amd64
linux-image-6.12-cloud-amd64 linux-headers-6.12-cloud-amd64
gcc make libc6-dev kmod gcc-multilib qemu-user
qemu-system-x86 busybox-static iproute2 ethtool e2fsprogs xfsprogs cpio gzip xz-utils
dkms sparse clang-format liburing-dev libmnl-dev gnuplot-nox linux-perf curl
linux-source-6.1 linux-source-6.12 flex bison bc libelf-dev libssl-dev
python3-yaml python3-jsonschema pkgconf man-db groff-base libpcre2-8-0 libnettle8 libxxhash0"

# lighttpd's package is downloaded, never installed: installing it would
# start it as a service on this machine. tests/vm/lib.sh extracts it into
# the guest, which runs it under `zcopy run` (tests/guest/run.sh).
debs=${ZC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zcopy}/debs
if ! ls "$debs"/lighttpd_*_amd64.deb >/dev/null 2>&1; then
	mkdir -p "$debs"
	echo "deps: downloading lighttpd's package into $debs"
	(cd "$debs" && apt-get download -q lighttpd >/dev/null)
fi

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing; run as root to install them" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# --no-install-recommends: no firmware, no bootloader for the test kernels.
apt-get install -y -q --no-install-recommends $missing >/dev/null

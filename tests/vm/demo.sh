#!/usr/bin/env bash
# demo.sh - `make demo`: build, boot the newest kernel in QEMU, send a file
# through /dev/zcopy over TCP and show both checksums.
set -u
. "$(dirname "$0")/lib.sh"

kver=$("$ZC_TOP/tests/vm/kernels.sh" | tail -n 1)
[ -n "$kver" ] || { echo "no Debian cloud kernel installed (make deps)" >&2; exit 1; }
dir=$ZC_BUILD/vm/demo-$kver
mkdir -p "$dir"
echo "== building zcopy.ko for $kver"
kodir=$(build_module "/lib/modules/$kver/build" "$kver") || exit 1
build_initramfs "/lib/modules/$kver" "$kodir" demo "$dir/initramfs.gz"
echo "== booting $kver in QEMU (software emulation; about 10 s)"
boot "/boot/vmlinuz-$kver" "$dir/initramfs.gz" "$dir" 300
rc=$?
tr -d '\r' <"$dir/results.log" | grep -v '^ZCOPY-GUEST-DONE'
if [ $rc != 0 ] || ! grep -q '^DEMO OK' "$dir/results.log"; then
	echo "demo failed (qemu status $rc); kernel log: $dir/console.log" >&2
	exit 1
fi

#!/bin/sh
# kernels.sh - the kernels the tests run on: the newest installed Debian
# 6.1 and 6.12 cloud kernels that have both an image and headers. One
# version per line. ZC_KERNELS="v1 v2" overrides.
set -eu
if [ -n "${ZC_KERNELS:-}" ]; then
	printf '%s\n' $ZC_KERNELS
	exit 0
fi
for line in '6.1.*' '6.12.*'; do
	ls -d /lib/modules/$line-cloud-amd64 2>/dev/null | while read -r d; do
		v=${d##*/}
		[ -f "/boot/vmlinuz-$v" ] && [ -d "$d/build" ] && echo "$v"
	done | sort -V | tail -n 1
done

#!/bin/sh
# demo.sh - `make demo` inside the guest: load the module, send a file
# over TCP through /dev/zcopy, and compare checksums on both ends.
say() { echo "\$ $*"; }
say insmod zcopy.ko
insmod /zc/zcopy.ko || exit 1
dmesg | grep 'zcopy' | sed 's/^\[[ 0-9.]*\] /  kernel: /'
say "dd if=/dev/urandom of=/tmp/file bs=1M count=32"
dd if=/dev/urandom of=/tmp/file bs=1M count=32 2>/dev/null || exit 1
say "nc -l -p 9000 > /tmp/received &    # the receiver: busybox netcat"
nc -l -p 9000 </dev/null >/tmp/received &
nc=$!
sleep 0.5
say "zcopy send /tmp/file 127.0.0.1:9000"
zcopy send /tmp/file 127.0.0.1:9000 2>&1 | sed 's/^/  /' || exit 1
wait $nc
say "sha256sum /tmp/file /tmp/received"
sha256sum /tmp/file /tmp/received | sed 's/^/  /'
a=$(sha256sum </tmp/file)
b=$(sha256sum </tmp/received)
size=$(stat -c %s /tmp/received)
if [ "$a" = "$b" ] && [ "$size" = 33554432 ]; then
	echo "DEMO OK: checksums match; the file went page cache -> socket through /dev/zcopy"
else
	echo "DEMO FAILED: checksums differ or $size bytes arrived, not 33554432"
	exit 1
fi

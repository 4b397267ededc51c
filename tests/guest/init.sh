#!/bin/sh
# init.sh - /init of the test guest (PID 1, busybox sh).
#
# Mounts the basics, sends all output to the second serial port (the
# harness reads it as results.log; the kernel log stays on the first),
# runs the guest script for this boot's mode, and reboots, which QEMU's
# -no-reboot turns into an exit (a poweroff would need ACPI, which the
# debug kernels lack). It never returns: PID 1 exiting would panic.
export PATH=/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs -o size=1536m tmp /tmp
exec >/dev/ttyS1 2>&1
set -a
. /zc/env
set +a
ip link set lo up
echo "# guest: Linux $(uname -r), mode $ZC_MODE"
case $ZC_MODE in
check | kunit) /zc/run.sh ;;
demo) /zc/demo.sh ;;
bench) /zc/bench.sh ;;
ab) /zc/ab.sh ;;
esac
echo "ZCOPY-GUEST-DONE status=$?"
sync
reboot -f

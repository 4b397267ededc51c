#!/bin/sh
# run.sh - the guest test suite (make check), run by init.sh in each kernel.
#
# Loads the module, sets up a second network namespace joined by veth,
# runs zctest (the C suite) and the CLI checks, unloads the module, and
# ends with one line "guest: N passed, N failed" covering all of it.
P=0
F=0
ok() { P=$((P + 1)); echo "ok - $*"; }
notok() { F=$((F + 1)); echo "not ok - $*"; }
# check NAME COMMAND...: one test, passed when COMMAND succeeds.
check() {
	name=$1
	shift
	if "$@"; then ok "$name"; else notok "$name"; fi
}

# ---- a watchdog -----------------------------------------------------------
# A test that hangs would only show as the harness's timeout. Before that,
# dump every task's stack to the kernel log (SysRq t): the log then shows
# where it hangs, and the harness fails the run on the traces.
(
	sleep "${ZC_WATCHDOG:-900}"
	echo "watchdog: the guest suite is still running after ${ZC_WATCHDOG:-900} s; task dump in the kernel log"
	echo t >/proc/sysrq-trigger
) &
WATCHDOG=$!

# ---- the module ----------------------------------------------------------
check "insmod zcopy.ko" insmod /zc/zcopy.ko
check "/dev/zcopy is a character device" test -c /dev/zcopy
check "/dev/zcopy has mode 0666" test "$(stat -c %a /dev/zcopy)" = 666
# The probe in Kbuild must have picked the right send path for this kernel.
case $(uname -r) in
6.1.*) want='kernel_sendpage(), TCP: tcp_sendpage_locked()' ;;
*) want='sendmsg(MSG_SPLICE_PAGES)' ;;
esac
check "send path for $(uname -r) is $want" \
	sh -c "dmesg | grep -qF 'zcopy $ZC_VERSION: /dev/zcopy ready, pages leave by $want'"
check "modinfo version is $ZC_VERSION" \
	test "$(cat /sys/module/zcopy/version 2>/dev/null)" = "$ZC_VERSION"

# ---- debug kernels: KUnit, and a kmemleak baseline -----------------------
# On the debug kernels (ZC_DEBUG=1) zcopy_kunit.ko runs the KUnit suites at
# insmod; each suite's KTAP is in debugfs. Every test case line ("ok N" or
# "not ok N", indented under its suite) counts in this suite's totals.
if [ "${ZC_DEBUG:-0}" = 1 ]; then
	mount -t debugfs debugfs /sys/kernel/debug
	# What the kernel itself left unreferenced while booting is not ours:
	# scan once and mark it as seen, so the final scan reports only what
	# leaked during the tests.
	echo scan >/sys/kernel/debug/kmemleak
	echo clear >/sys/kernel/debug/kmemleak
	check "insmod zcopy_kunit.ko (runs the KUnit suites)" insmod /zc/zcopy_kunit.ko
	for suite in zcopy_pages zcopy_send; do
		r=/sys/kernel/debug/kunit/$suite/results
		if [ ! -r "$r" ]; then
			notok "KUnit suite $suite ran"
			continue
		fi
		echo "# KTAP of KUnit suite $suite:"
		sed 's/^/# | /' "$r"
		# Test cases are the indented result lines; the suite's own
		# line is not. A skipped case is neither passed nor failed.
		n_ok=$(grep -cE '^[[:space:]]+ok [0-9]+ ' "$r" | tr -d ' ')
		n_skip=$(grep -E '^[[:space:]]+ok [0-9]+ ' "$r" | grep -c '# SKIP')
		n_bad=$(grep -cE '^[[:space:]]+not ok [0-9]+ ' "$r")
		P=$((P + n_ok - n_skip))
		F=$((F + n_bad))
		echo "# KUnit $suite: $((n_ok - n_skip)) passed, $n_bad failed, $n_skip skipped"
		[ $((n_ok + n_bad)) -gt 0 ] || notok "KUnit suite $suite has test cases"
		grep -qE '^(not )?ok [0-9]+ ' "$r" || notok "KUnit suite $suite finished"
	done
	check "rmmod zcopy_kunit" rmmod zcopy_kunit
fi

# ---- kernel modules the tests need (veth, loop), dependencies first ------
for m in $(cat /lib/modules/zc/order); do
	check "insmod $m" insmod /lib/modules/zc/$m.ko
done

# ---- a peer namespace over veth ------------------------------------------
. /zc/peer.sh
# A process in a new network namespace holds it; zctest enters it through
# /proc/PID/ns/net to listen there, and connects from this namespace. A
# second veth pair has scatter-gather off at both ends: with TCP_MD5SIG
# (which turns GSO off) TCP over it must copy.
start_peer
check "veth pair between two network namespaces" setup_veth
setup_nosg() {
	/sbin/ip link add zc2 type veth peer name zc3 &&
		/sbin/ip link set zc3 netns "$PEER" &&
		/sbin/ip addr add 198.51.100.1/24 dev zc2 &&
		/sbin/ip link set zc2 up &&
		/sbin/ethtool -K zc2 sg off >/dev/null &&
		nsenter -t "$PEER" -n /sbin/ip addr add 198.51.100.2/24 dev zc3 &&
		nsenter -t "$PEER" -n /sbin/ip link set zc3 up &&
		nsenter -t "$PEER" -n /sbin/ethtool -K zc3 sg off >/dev/null &&
		/sbin/ethtool -k zc2 | grep -q '^scatter-gather: off'
}
check "second veth pair with scatter-gather off" setup_nosg

# ---- file systems: ext4 on a loop device, tmpfs with huge pages ----------
setup_ext4() {
	dd if=/dev/zero of=/tmp/ext4.img bs=1M count=0 seek=256 2>/dev/null &&
		/sbin/mke2fs -q -t ext4 -F /tmp/ext4.img &&
		losetup /dev/loop0 /tmp/ext4.img &&
		mkdir -p /mnt/ext4 &&
		mount -t ext4 /dev/loop0 /mnt/ext4 &&
		test -r /sys/block/loop0/stat
}
check "ext4 on /dev/loop0" setup_ext4
check "overlayfs over tmpfs" sh -c 'mkdir -p /tmp/ovl/lower /tmp/ovl/upper /tmp/ovl/work /mnt/ovl &&
	mount -t overlay ovl -o lowerdir=/tmp/ovl/lower,upperdir=/tmp/ovl/upper,workdir=/tmp/ovl/work /mnt/ovl'
check "tmpfs huge=always" sh -c 'mkdir -p /mnt/huge && mount -t tmpfs -o huge=always,size=64m huge /mnt/huge'

# ---- more sources for t_fsmatrix.c: xfs (on a second loop device; mkfs.xfs
# wants at least 300 MB), a plain tmpfs, and pseudo file systems whose files
# have no data in the page cache: cgroup2, configfs (a netconsole target's
# attributes), debugfs (mounted here on every kernel)
setup_xfs() {
	dd if=/dev/zero of=/tmp/xfs.img bs=1M count=0 seek=320 2>/dev/null &&
		/sbin/mkfs.xfs -q -f /tmp/xfs.img &&
		losetup /dev/loop1 /tmp/xfs.img &&
		mkdir -p /mnt/xfs &&
		mount -t xfs /dev/loop1 /mnt/xfs
}
check "xfs on /dev/loop1" setup_xfs
check "plain tmpfs" sh -c 'mkdir -p /mnt/tmpfs && mount -t tmpfs -o size=256m tmpfs /mnt/tmpfs'
check "cgroup2 on /sys/fs/cgroup" mount -t cgroup2 none /sys/fs/cgroup
check "configfs, with a netconsole target" sh -c 'mount -t configfs none /sys/kernel/config &&
	mkdir /sys/kernel/config/netconsole/zc'
check "debugfs" sh -c 'grep -q debugfs /proc/mounts || mount -t debugfs debugfs /sys/kernel/debug'

# ---- FUSE: a daemon of the suite's own (tests/guest/zcfuse.c)
# Files whose reads go to a process by FUSE_READ, cached and direct-io,
# one with a read error at a known offset. `zctest fuse` returns once the
# daemon answers; the daemon stays until the umount at the end.
setup_fuse() {
	mkdir -p /mnt/fuse &&
		/zc/zctest fuse /mnt/fuse &&
		printf 'hello\n' | cmp -s - /mnt/fuse/small.txt &&
		test "$(stat -c %s /mnt/fuse/cached.bin)" = $((3 * 1048576 + 12345))
}
check "zcfuse mounted on /mnt/fuse" setup_fuse

# ---- the C suite ---------------------------------------------------------
export ZC_PEER_NETNS=/proc/$PEER/ns/net ZC_PEER_ADDR=192.0.2.2
export ZC_NOSG_ADDR=198.51.100.2 ZC_NOSG_FROM=198.51.100.1
export ZC_EXT4_DIR=/mnt/ext4 ZC_EXT4_DEV=/dev/loop0 ZC_EXT4_STAT=/sys/block/loop0/stat
export ZC_HUGE_DIR=/mnt/huge ZC_OVL_DIR=/mnt/ovl ZC_OVL_LOWER=/tmp/ovl/lower
export ZC_TMPFS_DIR=/mnt/tmpfs ZC_XFS_DIR=/mnt/xfs ZC_CGROUP_DIR=/sys/fs/cgroup
export ZC_CONFIGFS_DIR=/sys/kernel/config/netconsole/zc
export ZC_FUSE_DIR=/mnt/fuse
# Shown as it runs (tee), so that a hang shows where it happened.
(
	/zc/zctest /tmp
	echo $? >/tmp/zctest.rc
) 2>&1 | tee /tmp/zctest.out
status=$(cat /tmp/zctest.rc 2>/dev/null || echo 99)
line=$(grep -E '^zctest: [0-9]+ passed, [0-9]+ failed$' /tmp/zctest.out)
if [ -n "$line" ]; then
	set -- $line
	P=$((P + $2))
	F=$((F + $4))
	[ "$4" = 0 ] || [ $status != 0 ] || notok "zctest exit status with failures"
	[ "$4" != 0 ] || [ $status = 0 ] || notok "zctest exited $status with no failure"
else
	notok "zctest ended without its summary line (status $status)"
fi

# The tests can fail: with every receiver corrupting one byte, the
# transfer tests must report failures.
check "zctest selftest: a corrupted received byte fails the transfer tests" \
	sh -c '/zc/zctest selftest >/dev/null'

# ---- the benchmark's smoke test ------------------------------------------
# Not a benchmark (make bench is): every method of tests/bench/zcbench.c
# sends two odd-sized files over loopback and veth, and the receiver's
# checksum must equal the file's. With --corrupt the receiver flips a bit,
# and the smoke test must fail: it can.
/zc/zcbench smoke --dir /tmp >/tmp/zcbench.out 2>&1
status=$?
cat /tmp/zcbench.out
line=$(grep -E '^zcbench: [0-9]+ passed, [0-9]+ failed$' /tmp/zcbench.out)
if [ -n "$line" ]; then
	set -- $line
	P=$((P + $2))
	F=$((F + $4))
	[ "$4" = 0 ] || [ $status != 0 ] || notok "zcbench smoke exit status with failures"
	[ "$4" != 0 ] || [ $status = 0 ] || notok "zcbench smoke exited $status with no failure"
else
	notok "zcbench smoke ended without its summary line (status $status)"
fi
check "zcbench smoke selftest: a corrupted received byte fails it" \
	sh -c '! /zc/zcbench smoke --corrupt --links lo --dir /tmp >/dev/null 2>&1'

# ---- debug kernels: allocation failures ---------------------------------
# failslab fails slab allocations (GFP_KERNEL ones too) with probability
# 1/10, in tasks that asked for it only: zctest marks its sending thread
# around each call. verbose=0: an injected failure is not a report. The
# budget of failures ("times") counts down; zctest reads it to know that
# failures were injected.
if [ "${ZC_DEBUG:-0}" = 1 ]; then
	fs=/sys/kernel/debug/failslab
	echo Y >$fs/task-filter
	echo N >$fs/ignore-gfp-wait
	echo 0 >$fs/verbose
	echo 1000000 >$fs/times
	echo 1 >$fs/interval
	echo 10 >$fs/probability
	/zc/zctest faults >/tmp/faults.out 2>&1
	status=$?
	echo 0 >$fs/probability
	cat /tmp/faults.out
	line=$(grep -E '^zctest faults: [0-9]+ passed, [0-9]+ failed$' /tmp/faults.out)
	if [ -n "$line" ]; then
		set -- $line
		P=$((P + $3))
		F=$((F + $5))
	else
		notok "zctest faults ended without its summary line (status $status)"
	fi
fi

# ---- the CLI -------------------------------------------------------------
head -c 3000001 /dev/urandom >/tmp/cli.bin
# start_sink [-6] PORT: a receiver saving one connection to /tmp/cli.out;
# returns once it listens (it creates the file after listen()).
start_sink() {
	rm -f /tmp/cli.out
	/zc/zctest sink "$@" /tmp/cli.out &
	sink=$!
	i=0
	while [ ! -e /tmp/cli.out ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}
# cli_case NAME EXPECTED-FILE ZCOPY-SEND-ARGS...: send with the CLI to the
# sink started last; pass if it exits 0 and the sink got EXPECTED-FILE.
cli_case() {
	name=$1
	expect=$2
	shift 2
	zcopy send --quiet "$@"
	rc=$?
	wait $sink
	if [ $rc = 0 ] && cmp -s /tmp/cli.out "$expect"; then
		ok "$name"
	else
		notok "$name (zcopy exit $rc)"
	fi
}
start_sink 9001
cli_case "zcopy send over IPv4" /tmp/cli.bin /tmp/cli.bin 127.0.0.1:9001
start_sink 9007
check "zcopy send reports all 3000001 bytes sent by reference" sh -c \
	"zcopy send /tmp/cli.bin 127.0.0.1:9007 2>&1 | grep -q 'sent 3000001 bytes .*, 3000001 by reference (zero-copy), 0 copied'"
wait $sink
start_sink -6 9002
cli_case "zcopy send over IPv6" /tmp/cli.bin /tmp/cli.bin '[::1]:9002'
start_sink 9003
cli_case "zcopy send to a host name" /tmp/cli.bin /tmp/cli.bin localhost:9003
dd if=/tmp/cli.bin of=/tmp/cli.range bs=1 skip=4097 count=70000 2>/dev/null
start_sink 9004
cli_case "zcopy send --offset 4097 --count 70000" /tmp/cli.range \
	--offset 4097 --count 70000 /tmp/cli.bin 127.0.0.1:9004
dd if=/tmp/cli.bin of=/tmp/cli.k bs=1024 skip=1 count=2 2>/dev/null
start_sink 9005
cli_case "zcopy send --offset 1K --count 2K" /tmp/cli.k \
	--offset 1K --count 2K /tmp/cli.bin 127.0.0.1:9005

# exit_is WANT COMMAND...: COMMAND exits with status WANT.
exit_is() {
	want=$1
	shift
	"$@" >/dev/null 2>&1
	[ $? = "$want" ]
}
check "zcopy --version names $ZC_VERSION" sh -c "zcopy --version | grep -q '^zcopy $ZC_VERSION '"
check "zcopy --help exits 0" exit_is 0 zcopy --help
check "zcopy without a command exits 2" exit_is 2 zcopy
check "zcopy send with a bare IPv6 address exits 2" exit_is 2 zcopy send /tmp/cli.bin ::1:80
check "zcopy send with a bad count exits 2" exit_is 2 zcopy send --count 12Q /tmp/cli.bin 127.0.0.1:9
check "zcopy send of a missing file exits 1" exit_is 1 zcopy send /nonexistent 127.0.0.1:9
check "zcopy send to a closed port exits 1" exit_is 1 zcopy send /tmp/cli.bin 127.0.0.1:9
start_sink 9006
check "zcopy send --count past end of file exits 1" exit_is 1 \
	zcopy send --count 4000000 /tmp/cli.bin 127.0.0.1:9006
wait $sink
check "  ... after sending the whole file" cmp -s /tmp/cli.out /tmp/cli.bin

# An offset past the end of the file is the user's error: exit 1 and one
# line saying so, before connecting (nothing listens on port 9). At the
# end, there is nothing to send, and that is no error.
# fails_with LINE COMMAND...: COMMAND exits 1 and prints just LINE.
fails_with() {
	line=$1
	shift
	"$@" >/tmp/cli.err 2>&1
	rc=$?
	[ $rc = 1 ] && [ "$(cat /tmp/cli.err)" = "$line" ] && return 0
	echo "# exit $rc, printed: $(cat /tmp/cli.err)"
	return 1
}
check "zcopy send --offset past end of file exits 1, saying so" fails_with \
	'zcopy: /tmp/cli.bin: offset 3000002 is past the end of the file (3000001 bytes)' \
	zcopy send --offset 3000002 /tmp/cli.bin 127.0.0.1:9
start_sink 9008
cli_case "zcopy send --offset at end of file sends nothing" /dev/null \
	--offset 3000001 /tmp/cli.bin 127.0.0.1:9008
# Files whose st_size is not their length are sent to their end: procfs
# (st_size 0), sysfs (4096) and block devices (0; BLKGETSIZE64 says).
cat /proc/sys/kernel/ostype >/tmp/cli.ostype
start_sink 9009
cli_case "zcopy send of a procfs file (st_size 0) sends its contents" /tmp/cli.ostype \
	/proc/sys/kernel/ostype 127.0.0.1:9009
tail -c +3 /tmp/cli.ostype >/tmp/cli.ostype2
start_sink 9010
cli_case "zcopy send --offset 2 of a procfs file" /tmp/cli.ostype2 \
	--offset 2 /proc/sys/kernel/ostype 127.0.0.1:9010
start_sink 9011
check "zcopy send --offset past end of a procfs file exits 1, saying so" fails_with \
	'zcopy: /proc/sys/kernel/ostype: offset 100 is past the end of the file' \
	zcopy send --offset 100 /proc/sys/kernel/ostype 127.0.0.1:9011
wait $sink
cat /sys/class/net/lo/mtu >/tmp/cli.mtu
start_sink 9012
cli_case "zcopy send of a sysfs file (st_size 4096) sends its contents" /tmp/cli.mtu \
	/sys/class/net/lo/mtu 127.0.0.1:9012
# A loop device over the random file: 3000001 bytes, less the last partial
# 512-byte sector.
loopdev=$(losetup -f) && losetup "$loopdev" /tmp/cli.bin
head -c $((3000001 / 512 * 512)) /tmp/cli.bin >/tmp/cli.blk
check "loop device $loopdev over /tmp/cli.bin has $((3000001 / 512 * 512)) bytes" \
	test "$(blockdev --getsize64 "$loopdev")" = $((3000001 / 512 * 512))
start_sink 9013
cli_case "zcopy send of a block device sends it whole (BLKGETSIZE64)" /tmp/cli.blk \
	"$loopdev" 127.0.0.1:9013
losetup -d "$loopdev"
# The ext4 image's last MiB, and past its end.
dd if=/dev/loop0 of=/tmp/cli.tail bs=1M skip=255 2>/dev/null
start_sink 9014
cli_case "zcopy send --offset 255M of /dev/loop0 (256 MiB) sends its last MiB" /tmp/cli.tail \
	--offset 255M /dev/loop0 127.0.0.1:9014
check "zcopy send --offset past end of /dev/loop0 exits 1, saying so" fails_with \
	'zcopy: /dev/loop0: offset 269484032 is past the end of the file (268435456 bytes)' \
	zcopy send --offset 257M /dev/loop0 127.0.0.1:9

# ---- unload --------------------------------------------------------------
kill $PEER 2>/dev/null
check "umount /mnt/fuse" umount /mnt/fuse
check "rmmod zcopy" rmmod zcopy
check "/dev/zcopy is gone after rmmod" test ! -e /dev/zcopy
check "without the module the CLI says so" sh -c \
	"zcopy send /tmp/cli.bin 127.0.0.1:9 2>&1 | grep -qF 'No such file or directory (is the zcopy module loaded?)'"

# ---- debug kernels: kmemleak ---------------------------------------------
# kmemleak reports an object only once it is 5 s old and was found
# unreferenced by two scans, so wait and scan twice.
if [ "${ZC_DEBUG:-0}" = 1 ]; then
	sleep 6
	echo scan >/sys/kernel/debug/kmemleak
	sleep 1
	echo scan >/sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak >/tmp/kmemleak.txt
	if [ -s /tmp/kmemleak.txt ]; then
		notok "kmemleak finds no leak after the tests"
		head -n 80 /tmp/kmemleak.txt
	else
		ok "kmemleak finds no leak after the tests"
	fi
fi

kill $WATCHDOG 2>/dev/null
echo "guest: $P passed, $F failed"
[ $F = 0 ]

#!/bin/sh
# bench.sh - the guest side of `make bench`, run by init.sh.
#
# Loads the module and veth, puts a receiver namespace behind a veth pair
# (peer.sh, as make check does), and runs zcbench with the arguments the
# host passed in ZC_BENCH_ARGS once per file system of ZC_BENCH_FS
# (default "tmpfs ext4"): tmpfs is the guest's /tmp; ext4 is made on
# /dev/loop0, backed by a sparse image file in /tmp, so that on ext4 each
# file takes twice its size in memory (the image, and ext4's page cache).
# It prints every file zcbench wrote between "==> FS/NAME <==" lines, for
# tests/bench/bench.sh to cut out of the serial log. zcbench's progress
# goes to the same log.
insmod /zc/zcopy.ko || echo "BENCH-ERROR insmod zcopy.ko"
for m in $(cat /lib/modules/zc/order); do
	insmod /lib/modules/zc/$m.ko || echo "BENCH-ERROR insmod $m"
done
. /zc/peer.sh
start_peer
setup_veth || echo "BENCH-ERROR veth"
export ZC_PEER_NETNS=/proc/$PEER/ns/net ZC_PEER_ADDR=192.0.2.2

# setup_ext4: ext4 on /dev/loop0 at /mnt/ext4, as run.sh's setup_ext4, in
# an image of 1280 MiB (sparse: it takes what is written), room for the
# largest file zcbench makes (1 GiB at most; 512 MiB in 3 GiB). The inode
# tables and journal are written now, not by ext4lazyinit during the
# samples.
setup_ext4() {
	dd if=/dev/zero of=/tmp/ext4.img bs=1M count=0 seek=1280 2>/dev/null &&
		/sbin/mke2fs -q -t ext4 -F -E lazy_itable_init=0,lazy_journal_init=0 /tmp/ext4.img &&
		losetup /dev/loop0 /tmp/ext4.img &&
		mkdir -p /mnt/ext4 &&
		mount -t ext4 /dev/loop0 /mnt/ext4
}
teardown_ext4() {
	umount /mnt/ext4 && losetup -d /dev/loop0 && rm -f /tmp/ext4.img
}

echo "# guest: $(nproc) CPUs, $(sed -n 's/MemTotal: *//p' /proc/meminfo) memory"
mkdir -p /tmp/bench
status=0
for fs in ${ZC_BENCH_FS:-tmpfs ext4}; do
	case $fs in
	none) continue ;; # the cold file row alone
	tmpfs) dir=/tmp ;;
	ext4)
		dir=/mnt/ext4
		setup_ext4 || {
			echo "BENCH-ERROR ext4 on /dev/loop0"
			status=1
			continue
		}
		;;
	*)
		echo "BENCH-ERROR ZC_BENCH_FS: no file system $fs (tmpfs, ext4)"
		status=1
		continue
		;;
	esac
	out=/tmp/bench/$fs
	mkdir -p "$out"
	echo "# bench: files on $fs ($dir)"
	if [ -n "${ZC_BENCH_PERF:-}" ]; then
		# Profiling (the host's ZC_BENCH_PERF): each method alone, sampled
		# on CPU 0, where zcbench pins the sender (and where the receive
		# side's softirq work of loopback and veth runs too).
		for m in $ZC_BENCH_PERF; do
			# shellcheck disable=SC2086 # the arguments are a list
			/usr/bin/perf record -q -C 0 -g -F 1999 -o /tmp/perf.data -- \
				/zc/zcbench profile "$m" --dir "$dir" $ZC_BENCH_ARGS || status=1
			/usr/bin/perf report -i /tmp/perf.data --stdio --no-children --sort sym \
				-n -g none --percent-limit 0.3 >"$out/perf-$m.txt" 2>&1 || status=1
			# Inclusive (children) too: where a call's time goes below it.
			/usr/bin/perf report -i /tmp/perf.data --stdio --children --sort sym \
				-n -g none --percent-limit 1 >"$out/perf-$m-children.txt" 2>&1 || status=1
			rm -f /tmp/perf.data
		done
	else
		# shellcheck disable=SC2086 # the arguments are a list
		/zc/zcbench run "$out" --dir "$dir" $ZC_BENCH_ARGS || status=1
	fi
	[ "$fs" = ext4 ] && { teardown_ext4 || echo "BENCH-ERROR ext4 teardown"; }
done

# The "cold file" row (ZC_BENCH_COLD, on by default): examples/zcloop.c
# serves 4 KiB hot files from the throttled virtio drive (make_disk with
# ZC_DISK_BENCH=1: /dev/vda, 4 MiB/s and 200 requests/s) to zcload's 8
# keep-alive clients, in each of its three modes, without cold traffic
# and then with one fetch of the cold 64 MiB big.bin beside them (16 s at
# the drive's 4 MiB/s: longer than the 10 s window it starts with). The
# caches are dropped before each run and the hot files read back in, so
# only big.bin is cold. ZC_BENCH_COLD_ROUNDS rounds (3), each starting
# with the next mode; zcload's lines go to cold/rows.txt.
cold_row() {
	modes="sendfile pool nodiskio"
	mkdir -p /mnt/disk /tmp/bench/cold
	mount -t ext4 -o ro /dev/vda /mnt/disk || return 1
	for r in $(seq 1 "${ZC_BENCH_COLD_ROUNDS:-3}"); do
		for m in $modes; do
			for traffic in none cold; do
				sync
				echo 3 >/proc/sys/vm/drop_caches
				cat /mnt/disk/hot*.bin >/dev/null
				/zc/zcloop -m $m -w 4 -p 8091 /mnt/disk &
				srv=$!
				sleep 0.5
				echo "# bench: cold file row, round $r, zcloop -m $m, cold traffic: $traffic"
				if [ $traffic = cold ]; then
					/zc/zcload -p 8091 -w 1 -d 10 -k big.bin -l $m
				else
					/zc/zcload -p 8091 -w 1 -d 10 -l $m
				fi >>/tmp/bench/cold/rows.txt || echo "BENCH-ERROR zcload -m $m ($traffic)"
				kill $srv
				wait $srv 2>/dev/null
			done
		done
		modes="${modes#* } ${modes%% *}" # the next round starts with the next mode
	done
	umount /mnt/disk
}
if [ "${ZC_BENCH_COLD:-1}" = 1 ] && [ -z "${ZC_BENCH_PERF:-}" ]; then
	cold_row || { echo "BENCH-ERROR cold file row"; status=1; }
fi

# The "server" row (ZC_BENCH_SERVER, on by default): Debian's lighttpd,
# unmodified, serving one file of 4 KiB, 64 KiB, 1 MiB and 64 MiB (each
# its own run, the file as hot0.bin in a document root of its own) to
# zcload's 8 keep-alive clients for ZC_BENCH_SERVER_SECS seconds (5;
# three times that for 64 MiB), which drop the bodies unread (-t: the
# server is what is measured), plain and under `zcopy run`, in
# ZC_BENCH_SERVER_ROUNDS rounds (4) that alternate which goes first;
# lighttpd on CPU 0, zcload on CPU 1, as zcbench pins them. lighttpd
# sends bodies of 16 KiB or more with sendfile64() (the 4 KiB file: pread
# and writev, so zcopy cannot help there and must not hurt). zcload's
# lines, labelled plain-SIZE and zcopy-SIZE, go to server/rows.txt.
# srv_start MODE SIZE: lighttpd on CPU 0 serving /tmp/srv/SIZE, plain or
# under `zcopy run`; srv_stop ends it.
srv_start() {
	printf 'server.document-root = "/tmp/srv/%s"\nserver.port = 8092\nserver.bind = "127.0.0.1"\nserver.errorlog = "/tmp/srv/error.log"\nserver.max-keep-alive-requests = 100000\nmimetype.assign = ( "" => "application/octet-stream" )\n' \
		"$2" >/tmp/srv/lighttpd.conf
	if [ "$1" = zcopy ]; then
		taskset -c 0 env ZCOPY_PRELOAD_QUIET=1 zcopy run -- \
			/usr/sbin/lighttpd -D -f /tmp/srv/lighttpd.conf &
	else
		taskset -c 0 /usr/sbin/lighttpd -D -f /tmp/srv/lighttpd.conf &
	fi
	srv=$!
	sleep 0.5
}
srv_stop() {
	kill $srv
	wait $srv 2>/dev/null
}
server_row() {
	[ -x /usr/sbin/lighttpd ] || return 1
	mkdir -p /tmp/bench/server /var/tmp
	for sz in 4096 65536 1048576 67108864; do
		mkdir -p /tmp/srv/$sz
		head -c $sz /dev/urandom >/tmp/srv/$sz/hot0.bin
	done
	secs=${ZC_BENCH_SERVER_SECS:-5}
	# ZC_BENCH_SERVER_PERF="SIZE ...": before the measured rounds, a run
	# of each mode and size sampled on lighttpd's CPU (its rows apart:
	# perf's sampling costs the server time). Flat (perf-MODE-SIZE.txt)
	# and inclusive of callees (perf-MODE-SIZE-children.txt), and for
	# zcopy the module's counters of that run alone (zstats-SIZE.txt:
	# calls and pages per response, for the profile's per-call costs).
	for sz in ${ZC_BENCH_SERVER_PERF:-}; do
		for m in plain zcopy; do
			zcopy stats --reset || echo "BENCH-ERROR zcopy stats --reset"
			cat /proc/net/snmp >/tmp/snmp.before
			srv_start $m $sz
			echo "# bench: server row, profile, $m, $sz bytes, $secs s"
			/usr/bin/perf record -q -C 0 -g -F 999 -o /tmp/perf.data -- \
				taskset -c 1 /zc/zcload -t -p 8092 -n 1 -w 1 -d $secs -l $m-$sz \
				>>/tmp/bench/server/perf-rows.txt || echo "BENCH-ERROR zcload profile $m $sz"
			srv_stop
			[ $m = zcopy ] && zcopy stats >/tmp/bench/server/zstats-$sz.txt
			{ cat /tmp/snmp.before; echo "--"; cat /proc/net/snmp; } >/tmp/bench/server/snmp-$m-$sz.txt
			/usr/bin/perf report -i /tmp/perf.data --stdio --no-children --sort dso,sym \
				-n -g none --percent-limit 0.3 >/tmp/bench/server/perf-$m-$sz.txt 2>&1 ||
				echo "BENCH-ERROR perf report $m $sz"
			/usr/bin/perf report -i /tmp/perf.data --stdio --children --sort sym \
				-n -g none --percent-limit 0.2 \
				>/tmp/bench/server/perf-$m-$sz-children.txt 2>&1 ||
				echo "BENCH-ERROR perf report --children $m $sz"
			rm -f /tmp/perf.data
		done
	done
	order="plain zcopy"
	for r in $(seq 1 "${ZC_BENCH_SERVER_ROUNDS:-4}"); do
		for sz in 4096 65536 1048576 67108864; do
			for m in $order; do
				srv_start $m $sz
				t=$secs
				[ $sz = 67108864 ] && t=$((secs * 3))
				echo "# bench: server row, round $r, $m, $sz bytes, $t s"
				taskset -c 1 /zc/zcload -t -p 8092 -n 1 -w 1 -d $t -l $m-$sz \
					>>/tmp/bench/server/rows.txt || echo "BENCH-ERROR zcload server $m $sz"
				srv_stop
			done
		done
		order="${order#* } ${order%% *}"
	done
	rm -rf /tmp/srv
}
if [ "${ZC_BENCH_SERVER:-1}" = 1 ] && [ -z "${ZC_BENCH_PERF:-}" ]; then
	server_row || { echo "BENCH-ERROR server row"; status=1; }
fi

for f in /tmp/bench/*/*; do
	[ -f "$f" ] || continue
	echo "==> ${f#/tmp/bench/} <=="
	cat "$f"
done
echo "==> end <=="
echo "BENCH-STATUS $status"
kill $PEER 2>/dev/null
rmmod zcopy

#!/bin/sh
# bench.sh - the guest side of `make bench`, run by init.sh.
#
# Loads the module and veth, puts a receiver namespace behind a veth pair
# (peer.sh, as make check does), runs zcbench with the arguments the host
# passed in ZC_BENCH_ARGS, and prints every file zcbench wrote between
# "==> NAME <==" lines, for tests/bench/bench.sh to cut out of the serial
# log. zcbench's progress goes to the same log.
insmod /zc/zcopy.ko || echo "BENCH-ERROR insmod zcopy.ko"
for m in $(cat /lib/modules/zc/order); do
	insmod /lib/modules/zc/$m.ko || echo "BENCH-ERROR insmod $m"
done
. /zc/peer.sh
start_peer
setup_veth || echo "BENCH-ERROR veth"
export ZC_PEER_NETNS=/proc/$PEER/ns/net ZC_PEER_ADDR=192.0.2.2

echo "# guest: $(nproc) CPUs, $(sed -n 's/MemTotal: *//p' /proc/meminfo) memory"
mkdir -p /tmp/bench
if [ -n "${ZC_BENCH_PERF:-}" ]; then
	# Profiling (the host's ZC_BENCH_PERF): each method alone, sampled
	# on CPU 0, where zcbench pins the sender (and where the receive
	# side's softirq work of loopback and veth runs too).
	status=0
	for m in $ZC_BENCH_PERF; do
		# shellcheck disable=SC2086 # the arguments are a list
		/usr/bin/perf record -q -C 0 -g -F 1999 -o /tmp/perf.data -- \
			/zc/zcbench profile "$m" $ZC_BENCH_ARGS || status=1
		/usr/bin/perf report -i /tmp/perf.data --stdio --no-children --sort sym \
			-n -g none --percent-limit 0.3 >/tmp/bench/perf-$m.txt 2>&1 || status=1
	done
else
	# shellcheck disable=SC2086 # the arguments are a list
	/zc/zcbench run /tmp/bench $ZC_BENCH_ARGS
	status=$?
fi
for f in /tmp/bench/*; do
	echo "==> ${f##*/} <=="
	cat "$f"
done
echo "==> end <=="
echo "BENCH-STATUS $status"
kill $PEER 2>/dev/null
rmmod zcopy

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
# shellcheck disable=SC2086 # the arguments are a list
/zc/zcbench run /tmp/bench $ZC_BENCH_ARGS
status=$?
for f in /tmp/bench/*; do
	echo "==> ${f##*/} <=="
	cat "$f"
done
echo "==> end <=="
echo "BENCH-STATUS $status"
kill $PEER 2>/dev/null
rmmod zcopy

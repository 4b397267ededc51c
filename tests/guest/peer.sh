# shellcheck shell=sh
# peer.sh - a second network namespace joined by veth, sourced by run.sh
# (make check) and bench.sh (make bench).
#
# start_peer: a process in a new network namespace holds it; programs
# enter it through /proc/$PEER/ns/net. setup_veth: the pair zc0 (here,
# 192.0.2.1) and zc1 (there, 192.0.2.2).

start_peer() {
	unshare -n sleep 100000 &
	PEER=$!
	i=0
	while [ "$(readlink /proc/$PEER/ns/net)" = "$(readlink /proc/self/ns/net)" ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}

setup_veth() {
	/sbin/ip link add zc0 type veth peer name zc1 &&
		/sbin/ip link set zc1 netns "$PEER" &&
		/sbin/ip addr add 192.0.2.1/24 dev zc0 &&
		/sbin/ip link set zc0 up &&
		nsenter -t "$PEER" -n /sbin/ip addr add 192.0.2.2/24 dev zc1 &&
		nsenter -t "$PEER" -n /sbin/ip link set zc1 up &&
		nsenter -t "$PEER" -n /sbin/ip link set lo up
}

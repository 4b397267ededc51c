#!/usr/bin/env bash
# server-cost.sh DIR SIZE - what one response costs lighttpd's CPU, by part
#
# Reads a server row's profiles (ZC_BENCH_SERVER_PERF=SIZE, make bench):
# DIR/perf-MODE-SIZE-children.txt (inclusive shares of lighttpd's CPU,
# perf's "Event count" of nanoseconds sampled) and DIR/perf-rows.txt
# (zcload's requests in that run), and prints per response, in
# microseconds of the guest's CPU, plain sendfile(2) beside `zcopy run`:
#   total      everything sampled on lighttpd's CPU (idle included);
#   send       the sending system call (sendfile64, or the ioctl);
#   socket     the protocol's part of it: sock_sendmsg() (6.5+; on 6.1,
#              where pages go by ->sendpage, n/a);
#   file       send minus socket: finding, pinning and releasing the
#              pages, the pipe (sendfile) or batch (zcopy), the checks;
#   net_rx     the loopback receive that runs inline on the sender's CPU
#              (part of socket);
#   setsockopt lighttpd's TCP_CORK on and off, the push of the uncork.
# Then TCP segments per response, sent and received on loopback (both
# ends: the bodies, the requests, the ACKs), from DIR/snmp-MODE-SIZE.txt
# (/proc/net/snmp before "--" and after the run, warm-up included); and
# from DIR/zstats-SIZE.txt, zcopy's calls and bytes per response.
# Under TCG, and with perf sampling, the figures are slower than native
# and the run's throughput lower than an unprofiled run's: compare the
# two modes, not absolute numbers.
set -eu
dir=$1 size=$2
printf '%-6s %8s %9s %9s %9s %9s %9s %10s\n' mode requests total send socket file net_rx setsockopt
for m in plain zcopy; do
	f=$dir/perf-$m-$size-children.txt
	[ -f "$f" ] || { echo "server-cost: no $f" >&2; exit 1; }
	ev=$(awk '/^# Event count/ { print $NF }' "$f")
	req=$(awk -v l="$m-$size" '$2 == l { print $4 }' "$dir/perf-rows.txt")
	if [ -z "$ev" ] || [ -z "$req" ]; then
		echo "server-cost: $m: no event count or requests" >&2
		exit 1
	fi
	awk -v ev="$ev" -v req="$req" -v m="$m" '
	/%/ { p = $1; sub(/%/, "", p); share[$NF] = p }
	function us(p) { return p / 100 * ev / req / 1000 }
	END {
		send = m == "plain" ? share["__x64_sys_sendfile64"] : share["__x64_sys_ioctl"]
		sock = share["sock_sendmsg"]
		printf "%-6s %8d %9.1f %9.1f ", m, req, us(100), us(send)
		if (sock > 0)
			printf "%9.1f %9.1f ", us(sock), us(send - sock)
		else
			printf "%9s %9s ", "n/a", "n/a"
		printf "%9.1f %10.1f\n", us(share["net_rx_action"]), us(share["__x64_sys_setsockopt"])
	}' "$f"
done
for m in plain zcopy; do
	f=$dir/snmp-$m-$size.txt
	[ -f "$f" ] || continue
	req=$(awk -v l="$m-$size" '$2 == l { print $4 }' "$dir/perf-rows.txt")
	awk -v req="$req" -v m="$m" '
	BEGIN { after = 0 }
	$0 == "--" { after = 1; next }
	$1 == "Tcp:" && $2 !~ /^[0-9-]/ { for (i = 2; i <= NF; i++) name[i] = $i; next }
	$1 == "Tcp:" { for (i = 2; i <= NF; i++) v[after, name[i]] = $i }
	END {
		printf "%s: TCP segments per response: %.2f out, %.2f in, %.3f retransmitted\n", m,
		       (v[1, "OutSegs"] - v[0, "OutSegs"]) / req, (v[1, "InSegs"] - v[0, "InSegs"]) / req,
		       (v[1, "RetransSegs"] - v[0, "RetransSegs"]) / req
	}' "$f"
done
z=$dir/zstats-$size.txt
[ -f "$z" ] && awk -v size="$size" '
	$1 == "calls_sendfile:" { calls = $2 }
	$1 == "bytes_sent:" { bytes = $2 }
	END { if (bytes) printf "zcopy: %d calls, %.2f per response of %d bytes, %.0f bytes per call\n", calls, calls / (bytes / size), size, bytes / calls }' "$z"
exit 0

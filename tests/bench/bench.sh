#!/usr/bin/env bash
# bench.sh - `make bench`: the benchmark on each kernel, and its report.
#
# For each kernel (tests/vm/kernels.sh): build zcopy.ko, boot QEMU with the
# bench initramfs (tests/bench/guest/bench.sh runs zcbench in the guest,
# once per file system), cut the guest's table, JSON and plot data out of
# the serial log into build/bench/KVER/FS/, and check the kernel log
# stayed clean. Then join the kernels and file systems into
# build/bench/bench.txt, bench.json, and the plots throughput.svg and
# ratio.svg (and .png; gnuplot; a panel per kernel, file system and link),
# and for zcbench's other workloads response.svg, response-ratio.svg and
# files16-ratio.svg.
# And the "cold file" row (ZC_BENCH_COLD=1, the default): in the same
# guest, examples/zcloop.c serves 4 KiB hot files from the throttled
# virtio drive to 8 keep-alive clients (tests/bench/zcload.c) while one
# more client fetches a cold 64 MiB file from it, with sendfile(2) in the
# loop, a pool for every request, and NODISKIO; each also without the cold
# fetch. Tables in bench.txt, rows in bench.json ("cold_file"), the plot
# coldfile.svg.
# And the "server" row (ZC_BENCH_SERVER=1, the default): Debian's lighttpd
# serving files of 4 KiB, 64 KiB, 1 MiB and 64 MiB to 8 keep-alive clients
# (zcload -t), plain and under `zcopy run`, ZC_BENCH_SERVER_ROUNDS rounds
# (4: each side goes first twice) of ZC_BENCH_SERVER_SECS seconds (5) per run. A table per kernel in
# bench.txt, rows in bench.json ("server").
# Exits non-zero if any kernel's run failed.
#
# Environment: ZC_BENCH_ARGS (zcbench run options, e.g. "--reps 3
# --sizes 4K,16M", or "--workloads response,files16" for the header +
# file + trailer and many-small-files workloads alone), ZC_BENCH_FS (the
# file systems the files are on, in this order: "tmpfs ext4" by default;
# ext4 is on a loop device over an image in the guest's tmpfs), ZC_BENCH_MEM (guest memory, MiB; default
# 3072), ZC_BENCH_TIMEOUT (seconds per kernel; default 1500 per file
# system), ZC_KERNELS. ZC_BENCH_FS=none skips zcbench (the cold file and
# server rows alone); ZC_BENCH_COLD=0 skips the cold file row, ZC_BENCH_COLD_ROUNDS
# sets its rounds (3; medians of them).
#
# ZC_BENCH_PERF="METHOD ..." profiles instead of measuring: in the guest,
# each METHOD runs alone (zcbench profile, with ZC_BENCH_ARGS as its
# options) under `perf record` on the sender's CPU, on each file system,
# and the flat profile of each lands in build/bench/KVER/FS/perf-METHOD.txt
# (perf-METHOD-children.txt: the same, inclusive of callees).
# Needs perf on the host (Debian's linux-perf), which is copied into the
# guest.
#
# ZC_BENCH_SERVER_PERF="SIZE ...": the server row as usual, after one run
# per mode of each of those file sizes (4096 65536 1048576 67108864)
# sampled on lighttpd's CPU, plain and under `zcopy run`, whose rows are
# kept apart (server/perf-rows.txt): build/bench/KVER/server/
# perf-MODE-SIZE.txt (perf report --sort dso,sym), perf-MODE-SIZE-children.txt
# (inclusive of callees), snmp-MODE-SIZE.txt (/proc/net/snmp before and
# after) and zstats-SIZE.txt (the module's counters for the profiled zcopy
# run: calls, bytes and pages). tests/bench/server-cost.sh DIR SIZE turns
# them into costs, segments and calls per response. Needs perf, as above.
set -u
. "$(dirname "$0")/../vm/lib.sh"

OUT=$ZC_BUILD/bench
ARGS=${ZC_BENCH_ARGS:-}
MEM=${ZC_BENCH_MEM:-3072}
FSS=$(echo ${ZC_BENCH_FS:-tmpfs ext4})
COLD=${ZC_BENCH_COLD:-1}
COLD_ROUNDS=${ZC_BENCH_COLD_ROUNDS:-3}
SERVER=${ZC_BENCH_SERVER:-1}
SERVER_ROUNDS=${ZC_BENCH_SERVER_ROUNDS:-4}
SERVER_SECS=${ZC_BENCH_SERVER_SECS:-5}
[ "$FSS" = none ] && FSS=""
for fs in $FSS; do
	case $fs in
	tmpfs | ext4) ;;
	*) echo "ZC_BENCH_FS: no file system $fs (tmpfs, ext4)" >&2; exit 2 ;;
	esac
done
PROFILE=${ZC_BENCH_PERF:-}
[ -n "$PROFILE" ] && COLD=0 && SERVER=0
[ -n "$FSS" ] || [ "$COLD" = 1 ] || [ "$SERVER" = 1 ] || { echo "ZC_BENCH_FS: nothing to run" >&2; exit 2; }
# The cold file row: six runs of 11 to 20 s a round, and the throttled
# drive's files (ZC_DISK_BENCH: big.bin and hot*.bin on it, tests/vm/lib.sh).
# The server row: eight runs of 2.5 s plus SERVER_SECS a round.
LIMIT=${ZC_BENCH_TIMEOUT:-$((1500 * $(echo $FSS | wc -w) + (60 + 150 * COLD_ROUNDS) * COLD + (60 + 8 * (10 + 2 * SERVER_SECS) * SERVER_ROUNDS) * SERVER))}
export ZC_DISK_BENCH=$COLD
SERVER_PERF=${ZC_BENCH_SERVER_PERF:-}
PERF=""
if [ -n "$PROFILE$SERVER_PERF" ]; then
	PERF=$(command -v perf) || { echo "ZC_BENCH_PERF: no perf here (apt-get install linux-perf)" >&2; exit 1; }
fi
mkdir -p "$OUT"
rc=0
done_runs="" # KVER/FS of every run with results
cold_runs="" # KVER of every run with a cold file row
server_runs="" # KVER of every run with a server row

# section NAME LOG: the lines between "==> NAME <==" and the next "==>".
section() {
	awk -v want="==> $1 <==" '$0 == want { on = 1; next } /^==> / { on = 0 } on' "$2"
}

for kver in $("$ZC_TOP/tests/vm/kernels.sh"); do
	dir=$OUT/$kver
	rm -rf "$dir"
	mkdir -p "$dir"
	echo "=== $kver"
	kodir=$(build_module "/lib/modules/$kver/build" "$kver") || { rc=1; continue; }
	ZC_EXTRA_BINS=${PERF:+$PERF} build_initramfs "/lib/modules/$kver" "$kodir" bench \
		"$dir/initramfs.gz" "ZC_BENCH_ARGS=\"$ARGS\""$'\n'"ZC_BENCH_PERF=\"$PROFILE\""$'\n'"ZC_BENCH_FS=\"${FSS:-none}\""$'\n'"ZC_BENCH_COLD=$COLD"$'\n'"ZC_BENCH_COLD_ROUNDS=$COLD_ROUNDS"$'\n'"ZC_BENCH_SERVER=$SERVER"$'\n'"ZC_BENCH_SERVER_ROUNDS=$SERVER_ROUNDS"$'\n'"ZC_BENCH_SERVER_SECS=$SERVER_SECS"$'\n'"ZC_BENCH_SERVER_PERF=\"$SERVER_PERF\"" ||
		{ rc=1; continue; }
	t0=$SECONDS
	ZC_GUEST_MEM=$MEM boot "/boot/vmlinuz-$kver" "$dir/initramfs.gz" "$dir" "$LIMIT"
	qrc=$?
	tr -d '\r' <"$dir/results.log" >"$dir/guest.log"
	# Every file the guest printed, as FS/NAME: table.txt, results.json,
	# LINK.dat, LINK-ratio.dat; or, profiling, perf-METHOD.txt.
	for f in $(sed -n 's/^==> \([a-z0-9_.-]*\/[a-z0-9_.-]*\) <==$/\1/p' "$dir/guest.log"); do
		mkdir -p "$dir/${f%/*}"
		section "$f" "$dir/guest.log" >"$dir/$f"
		[ -s "$dir/$f" ] || rm -f "$dir/$f"
	done
	missing=""
	for fs in $FSS; do
		want=$dir/$fs/results.json
		[ -n "$PROFILE" ] && want=$dir/$fs/perf-${PROFILE%% *}.txt
		[ -s "$want" ] || missing="$missing $fs"
	done
	if [ "$COLD" = 1 ] && [ "$(grep -c '^zcload ' "$dir/cold/rows.txt" 2>/dev/null)" != $((6 * COLD_ROUNDS)) ]; then
		missing="$missing cold-file-row"
	fi
	if [ "$SERVER" = 1 ] && [ "$(grep -c '^zcload ' "$dir/server/rows.txt" 2>/dev/null)" != $((8 * SERVER_ROUNDS)) ]; then
		missing="$missing server-row"
	fi
	if [ $qrc != 0 ] || ! grep -q '^BENCH-STATUS 0$' "$dir/guest.log" ||
		grep -q '^BENCH-ERROR' "$dir/guest.log" || [ -n "$missing" ]; then
		echo "not ok - benchmark on $kver (qemu status $qrc${missing:+; no results on$missing}; see $dir/guest.log)"
		grep -E '^(zcbench|BENCH)' "$dir/guest.log" | head -n 20
		rc=1
	else
		echo "ok - benchmark on $kver ($((SECONDS - t0)) s)"
	fi
	if grep -aE "$ZC_BAD_KLOG" "$dir/console.log" >"$dir/bad-klog.txt"; then
		echo "not ok - kernel log is clean: see $dir/console.log"
		head -n 30 "$dir/bad-klog.txt"
		rc=1
	fi
	for fs in $FSS; do
		[ -s "$dir/$fs/results.json" ] && done_runs="$done_runs $kver/$fs"
	done
	[ -s "$dir/cold/rows.txt" ] && cold_runs="$cold_runs $kver"
	[ -s "$dir/server/rows.txt" ] && server_runs="$server_runs $kver"
done

if [ -n "$PROFILE" ]; then
	for kver in $("$ZC_TOP/tests/vm/kernels.sh"); do
		for fs in $FSS; do
			for m in $PROFILE; do
				f=$OUT/$kver/$fs/perf-$m.txt
				[ -s "$f" ] || continue
				echo "=== $kver, $fs, $m: $f"
				grep -vE '^#|^$' "$f" | head -n 25
			done
		done
	done
	exit $rc
fi
[ -n "$done_runs$cold_runs$server_runs" ] || { echo "no kernel produced results" >&2; exit 1; }

# The server row of each kernel, from zcload's lines ("zcload MODE-SIZE
# none REQUESTS REQ/S P50_US P99_US MAX_US 0 ERRORS", MODE plain or
# zcopy; the 64 MiB file measured three times as long): per size, the
# median over the rounds of each mode's requests/s,
# as MiB/s of bodies too, and zcopy's as a multiple of plain's
# (server/table.txt).
for kver in $server_runs; do
	awk -v kver="$kver" -v secs="$SERVER_SECS" '$1 == "zcload" {
		split($2, a, "-"); k = a[1] " " a[2]; n[k]++
		v[k, n[k]] = $4 / (a[2] == 67108864 ? 3 * secs : secs)
		if ($10 != 0) err[k] += $10
	}
	function median(k,   i, j, t, m, x) {
		m = n[k]
		for (i = 1; i <= m; i++) x[i] = v[k, i]
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
		return m % 2 ? x[(m + 1) / 2] : (x[m / 2] + x[m / 2 + 1]) / 2
	}
	END {
		printf "Linux %s, server row: Debian'"'"'s lighttpd 1.4.69 serving one file to 8 keep-alive clients\n", kver
		printf "(tests/bench/zcload.c -t) over loopback for %s s (64 MiB: %s s), plain and under `zcopy run`;\n", secs, 3 * secs
		printf "medians of %d rounds\n", n["plain 4096"]
		printf "%-10s %12s %12s %12s %12s %8s\n", "size", "plain req/s", "zcopy req/s", "plain MiB/s", "zcopy MiB/s", "zcopy x"
		split("4096 65536 1048576 67108864", sz, " ")
		for (i = 1; i <= 4; i++) {
			p = median("plain " sz[i]); z = median("zcopy " sz[i])
			printf "%-10s %12.1f %12.1f %12.1f %12.1f %8.2f%s\n", sz[i], p, z, p * sz[i] / 1048576,
				z * sz[i] / 1048576, (p > 0 ? z / p : 0),
				(err["plain " sz[i]] + err["zcopy " sz[i]] ? "  (errors)" : "")
		}
	}' "$OUT/$kver/server/rows.txt" >"$OUT/$kver/server/table.txt"
done

# The cold file row of each kernel, from zcload's lines ("zcload MODE
# none|cold REQUESTS REQ/S P50_US P99_US MAX_US COLD_MIB ERRORS", one per
# run): the median of each figure over the rounds, in a table
# (cold/table.txt) with each mode's p99 as a multiple of its own p99
# without the cold fetch, and its requests/s as a multiple of the pool's
# with the same traffic, both ratios taken within each round (the runs
# they compare are a minute apart at most) and their median given; and
# the plot's data (cold/cold.dat), a line per mode, milliseconds.
COLD_AWK='
function med(k, f,   n, i, j, t, a) {
	n = cnt[k]
	for (i = 1; i <= n; i++) a[i] = val[k, i, f]
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
# the median over the rounds of field f of key k divided by field f of key b
function medratio(k, b, f,   n, i, j, t, a) {
	n = cnt[k] < cnt[b] ? cnt[k] : cnt[b]
	for (i = 1; i <= n; i++) a[i] = val[b, i, f] > 0 ? val[k, i, f] / val[b, i, f] : 0
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
$1 == "zcload" {
	k = $2 " " $3; c = ++cnt[k]
	for (f = 4; f <= 9; f++) val[k, c, f] = $f
	if (!($2 in seen)) { seen[$2] = 1; modes[++nm] = $2 }
}'
for kver in $cold_runs; do
	rows=$OUT/$kver/cold/rows.txt
	awk -v kver="$kver" "$COLD_AWK"'
	END {
		printf "Linux %s, cold file row: examples/zcloop.c serving 4 KiB hot files to 8 keep-alive clients for 10 s,\n", kver
		printf "with and without one fetch of a cold 64 MiB file from the throttled drive (4 MiB/s, 200 IOPS) beside them;\n"
		printf "medians of %d rounds (of the ratios: each taken within a round)\n", cnt[modes[1] " none"]
		printf "%-9s %-11s %9s %9s %10s %10s %10s %9s %13s %12s\n", "mode", "cold fetch", "requests", "req/s",
			"p50 ms", "p99 ms", "max ms", "cold MiB", "p99 x no-cold", "req/s x pool"
		for (i = 1; i <= nm; i++) for (t = 0; t < 2; t++) {
			m = modes[i]; k = m " " (t ? "cold" : "none")
			if (!(k in cnt)) continue
			b = m " none"; pk = "pool " (t ? "cold" : "none")
			printf "%-9s %-11s %9d %9d %10.2f %10.2f %10.2f %9.1f %13s %12s\n", m, t ? "64 MiB" : "-",
				med(k, 4), med(k, 5), med(k, 6) / 1e3, med(k, 7) / 1e3, med(k, 8) / 1e3, med(k, 9),
				(t && (b in cnt)) ? sprintf("%.2fx", medratio(k, b, 7)) : "-",
				(pk in cnt) ? sprintf("%.2fx", medratio(k, pk, 5)) : "-"
		}
	}' "$rows" >"$OUT/$kver/cold/table.txt"
	awk "$COLD_AWK"'
	END {
		print "# mode p50_none p99_none p50_cold p99_cold max_cold rps_none rps_cold"
		for (i = 1; i <= nm; i++) {
			m = modes[i]; n = m " none"; c = m " cold"
			printf "%s %g %g %g %g %g %g %g\n", m, med(n, 6) / 1e3, med(n, 7) / 1e3, med(c, 6) / 1e3,
				med(c, 7) / 1e3, med(c, 8) / 1e3, med(n, 5), med(c, 5)
		}
	}' "$rows" >"$OUT/$kver/cold/cold.dat"
done

# bench.txt: every kernel's tables, one after the other; in each kernel,
# one file system's after the other.
{
	echo "zcopy benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), zcopy $ZC_VERSION" \
		"($(git -C "$ZC_TOP" describe --always --dirty 2>/dev/null || echo '?'))"
	echo "command: make bench${ARGS:+ (ZC_BENCH_ARGS=\"$ARGS\")} (ZC_BENCH_FS=\"${FSS:-none}\", ZC_BENCH_COLD=$COLD);" \
		"guest: QEMU TCG, 2 vCPUs, $MEM MiB; host: $(nproc) CPUs"
	echo "files on tmpfs: the guest's /tmp; on ext4: /dev/loop0, over an image in /tmp"
	for run in $done_runs; do
		echo
		cat "$OUT/$run/table.txt"
	done
	for kver in $cold_runs; do
		echo
		cat "$OUT/$kver/cold/table.txt"
	done
	for kver in $server_runs; do
		echo
		cat "$OUT/$kver/server/table.txt"
	done
} >"$OUT/bench.txt"

# bench.json: {"generated", "command", ..., "kernels": [zcbench's object
# per kernel and file system, each naming its "kernel" and "fs"]}.
{
	printf '{"generated": "%s", "zcopy_version": "%s", "command": "make bench", ' \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$ZC_VERSION"
	printf '"zcbench_args": "%s", "filesystems": "%s", "guest_memory_MiB": %s, "kernels": [' \
		"$ARGS" "$FSS" "$MEM"
	sep=""
	for run in $done_runs; do
		printf '%s' "$sep"
		tr -d '\n' <"$OUT/$run/results.json"
		sep=", "
	done
	printf '], "cold_file": ['
	sep=""
	for kver in $cold_runs; do
		awk -v kver="$kver" -v sep="$sep" '$1 == "zcload" {
			printf "%s{\"kernel\": \"%s\", \"mode\": \"%s\", \"cold_fetch\": %s, \"requests\": %d, " \
				"\"requests_per_s\": %s, \"p50_us\": %s, \"p99_us\": %s, \"max_us\": %s, " \
				"\"cold_MiB_in_window\": %s, \"errors\": %d}", sep, kver, $2, $3 == "cold" ? "true" : "false",
				$4, $5, $6, $7, $8, $9, $10
			sep = ", " }' "$OUT/$kver/cold/rows.txt"
		sep=", "
	done
	printf '], "server": ['
	sep=""
	for kver in $server_runs; do
		awk -v kver="$kver" -v sep="$sep" -v secs="$SERVER_SECS" '$1 == "zcload" {
			split($2, a, "-"); rps = $4 / (a[2] == 67108864 ? 3 * secs : secs)
			printf "%s{\"kernel\": \"%s\", \"server\": \"lighttpd\", \"zcopy_run\": %s, \"file_bytes\": %d, " \
				"\"requests\": %d, \"requests_per_s\": %.2f, \"MiB_per_s\": %.1f, \"p50_us\": %s, " \
				"\"p99_us\": %s, \"max_us\": %s, \"errors\": %d}", sep, kver,
				(a[1] == "zcopy" ? "true" : "false"), a[2], $4, rps, rps * a[2] / 1048576, $6, $7, $8, $10
			sep = ", " }' "$OUT/$kver/server/rows.txt"
		sep=", "
	done
	printf ']}\n'
} >"$OUT/bench.json"

# The plots, one panel per kernel, file system and link, zcopy (the last
# column) drawn thick: throughput against file size, and the ratio to
# sendfile(2) in the same rounds, the figure that survives emulation.
# Each as SVG and PNG. columnheader() needs the header line without its
# leading '#'.
for run in $done_runs; do
	for f in "$OUT/$run"/*.dat; do
		[ -s "$f" ] && sed -i '1s/^# //' "$f"
	done
done
# plot NAME SUFFIX TITLE YLABEL LOG-AXES [GOAL [BARS]]: NAME.svg and
# NAME.png from every run's LINK$SUFFIX.dat, a row per run (kernel and
# file system) that has one, a column per link. GOAL draws a dashed line
# at that ratio; BARS draws the one row of a single-size workload
# (files16) as a bar per method instead of lines over file sizes. KEYPOS
# places the legend (default "left top").
plot() {
	local name=$1 suffix=$2 title=$3 ylabel=$4 logaxes=$5 goal=${6:-} bars=${7:-}
	local ext dat ncol run link runs="" nk nl=1 extra=""
	for run in $done_runs; do
		if [ -s "$OUT/$run/lo$suffix.dat" ] || [ -s "$OUT/$run/veth$suffix.dat" ]; then
			runs="$runs $run"
		fi
		[ -s "$OUT/$run/lo$suffix.dat" ] && [ -s "$OUT/$run/veth$suffix.dat" ] && nl=2
	done
	[ -n "$runs" ] || return 0
	nk=$(echo $runs | wc -w)
	[ -n "$goal" ] && extra=", $goal with lines dt 2 lw 1.5 lc 'black' title 'goal ${goal}x'"
	for ext in svg png; do
		case $ext in
		svg) echo "set terminal svg size 1400,$((480 * nk)) dynamic font 'Sans,11'" ;;
		png) echo "set terminal pngcairo size 1400,$((480 * nk)) font 'Sans,10'" ;;
		esac
		echo "set output '$OUT/$name.$ext'"
		echo "set termoption noenhanced" # method ids have underscores
		echo "set multiplot layout $nk,$nl title '$title (QEMU TCG guest: compare ratios, not absolute values)'"
		if [ -n "$bars" ]; then
			echo "set style fill solid 0.6 border -1"
			echo "set boxwidth 0.7"
			echo "unset xtics"
			echo "set yrange [0:*]"
		else
			echo "set logscale $logaxes 2"
			echo "set xtics ('4K' 4096, '64K' 65536, '1M' 1048576, '16M' 16777216, '256M' 268435456, '1G' 1073741824)"
			echo "set xlabel 'file size'"
		fi
		echo "set ylabel '$ylabel'"
		echo "set grid"
		if [ -n "$bars" ]; then
			echo "set key right top font 'Sans,9'"
		else
			echo "set key ${KEYPOS:-left top} font 'Sans,9'"
		fi
		[ -n "$goal" ] && echo "set offsets 0, 0, graph 0.1, 0"
		echo "set datafile missing 'NaN'"
		for run in $runs; do
			for link in lo veth; do
				dat=$OUT/$run/$link$suffix.dat
				[ -s "$dat" ] || continue
				echo "set title 'Linux ${run%/*}, $link, files on ${run#*/}'"
				ncol=$(head -n 1 "$dat" | wc -w)
				if [ -n "$bars" ]; then
					echo "set xrange [0.3:$((ncol - 1)).7]"
					printf "plot for [i=2:%d] '%s' using (i-1):i with boxes title columnheader(i)%s\n" \
						"$ncol" "$dat" "$extra"
				else
					printf "plot for [i=2:%d] '%s' using 1:i with linespoints lw (i==%d?3:1.2) title columnheader(i)%s\n" \
						"$ncol" "$dat" "$ncol" "$extra"
				fi
			done
		done
		echo "unset multiplot"
		echo "unset logscale"
	done >"$OUT/$name.gp"
	gnuplot "$OUT/$name.gp" || rc=1
}
plot throughput "" "median throughput vs file size" "MiB/s" xy
plot ratio -ratio "throughput as a multiple of sendfile(2), same rounds" "x sendfile" x
# The workloads (zcbench's --workloads), zcopy's vector the last column.
KEYPOS="left bottom" plot response -response "HTTP responses (header + file + trailer) per second, one connection" \
	"responses/s" xy
plot response-ratio -response-ratio \
	"responses: throughput as a multiple of the faster sendfile(2) baseline (cork or MSG_MORE), same rounds" \
	"x best sendfile baseline" x 1.3
plot files16-ratio -files16-ratio \
	"16 files of 4 KiB per call: throughput as a multiple of sendfile(2) once per file, same rounds" \
	"x sendfile per file" "" 2 bars

# coldfile: per kernel, each mode's hot latency (p99 without and with
# the cold fetch, and the longest with it; log scale) and requests/s.
plot_cold() {
	local ext kver dat nk
	[ -n "$cold_runs" ] || return 0
	nk=$(echo $cold_runs | wc -w)
	for ext in svg png; do
		case $ext in
		svg) echo "set terminal svg size 1400,$((440 * nk)) dynamic font 'Sans,11'" ;;
		png) echo "set terminal pngcairo size 1400,$((440 * nk)) font 'Sans,10'" ;;
		esac
		echo "set output '$OUT/coldfile.$ext'"
		echo "set termoption noenhanced"
		echo "set multiplot layout $nk,2 title 'cold file row: 8 keep-alive clients of 4 KiB hot files, and one cold 64 MiB fetch (QEMU TCG guest: compare ratios)'"
		echo "set style data histograms"
		echo "set style histogram clustered gap 1"
		echo "set style fill solid 0.6 border -1"
		echo "set grid ytics"
		echo "set key below horizontal font 'Sans,9'"
		for kver in $cold_runs; do
			dat=$OUT/$kver/cold/cold.dat
			echo "set title 'Linux $kver: hot request latency'"
			echo "set logscale y 10"
			echo "set ylabel 'ms'"
			echo "set yrange [0.1:*]"
			echo "plot '$dat' using 3:xtic(1) title 'p99, no cold fetch', '' using 5 title 'p99, with the cold fetch', '' using 6 title 'max, with the cold fetch'"
			echo "unset logscale y"
			echo "set title 'Linux $kver: hot requests per second'"
			echo "set ylabel 'requests/s'"
			echo "set yrange [0:*]"
			echo "plot '$dat' using 7:xtic(1) title 'no cold fetch', '' using 8 title 'with the cold fetch'"
		done
		echo "unset multiplot"
	done >"$OUT/coldfile.gp"
	gnuplot "$OUT/coldfile.gp" || rc=1
}
plot_cold

cat "$OUT/bench.txt"
echo "==="
echo "results: $OUT/bench.txt, $OUT/bench.json, and the plots (.svg, .png):" \
	"$(cd "$OUT" && echo *.svg)"
exit $rc

#!/bin/sh
# ab.sh - the guest side of `make bench-ab` (tests/bench/ab.sh), run by
# init.sh: loads /zc/zcopy-base.ko and /zc/zcopy-change.ko in turn, the
# order swapped every round, and runs zcbench (ZC_AB_ARGS) under each.
# Prints one "AB VARIANT ROUND SIZE METHOD MIBPS" line per figure of
# zcbench's throughput table, then AB-DONE; AB-ERROR on any failure.
for m in $(cat /lib/modules/zc/order); do
	insmod /lib/modules/zc/$m.ko || echo "AB-ERROR insmod $m"
done
r=1
while [ "$r" -le "${ZC_AB_ROUNDS:-3}" ]; do
	if [ $((r % 2)) = 1 ]; then order="base change"; else order="change base"; fi
	for v in $order; do
		insmod /zc/zcopy-$v.ko || { echo "AB-ERROR insmod zcopy-$v.ko"; exit 1; }
		out=/tmp/ab-$v-$r
		mkdir -p $out
		# shellcheck disable=SC2086 # the arguments are a list
		if ! /zc/zcbench run $out --dir /tmp $ZC_AB_ARGS >/tmp/zcbench.log 2>&1; then
			echo "AB-ERROR zcbench ($v, round $r)"
			tail -5 /tmp/zcbench.log
		fi
		# Each workload's throughput table: a header of a label
		# ("size", "file, B per response", ...) padded to its width,
		# then 11-character method columns; then one row per size
		# ("4 KiB  n/a ... 804±1%"): the figures are the row's last
		# fields, one per column. The columns are counted from the
		# header's end, as the label's width differs per workload.
		awk -v v=$v -v r=$r '
		/throughput, MiB\/s/ { t = 1; next }
		t == 1 {
			lab = $0; sub(/  .*/, "", lab)
			n = int((length($0) - length(lab)) / 11)
			for (i = 1; i <= n; i++) {
				c = substr($0, length($0) - 11 * (n - i + 1) + 1, 11)
				gsub(/^ +| +$/, "", c); gsub(/ /, "_", c)
				m[i] = c
			}
			t = 2
			next
		}
		t && !NF { t = 0; next }
		t {
			sz = $1 $2; sub(/,$/, "", sz)
			for (i = 1; i <= n; i++) {
				f = $(NF - n + i); sub(/±.*/, "", f)
				if (f != "n/a") printf "AB %s %d %s %s %s\n", v, r, sz, m[i], f
			}
		}' $out/table.txt
		rmmod zcopy || { echo "AB-ERROR rmmod ($v)"; exit 1; }
	done
	r=$((r + 1))
done
echo "AB-DONE"

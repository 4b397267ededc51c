#!/usr/bin/env bash
# ab.sh - `make bench-ab BASE=REV`: what a change costs, in instructions.
#
# Builds zcopy.ko twice for each kernel (tests/vm/kernels.sh): from the
# commit REV (the "base") and from the working tree (the "change"). One
# guest per kernel loads them in turn, ZC_AB_ROUNDS times each (default
# 3), and runs zcbench with ZC_AB_ARGS (default: 4 KiB files over
# loopback, sendfile(2) and zcopy) under each; every workload's throughput
# table counts (--workloads response: lighttpd's pattern is resp_cork
# against resp_cork_zc).
#
# Why a mode of its own: make bench's ratios come from wall-clock time
# under QEMU TCG, and a change of one or two per cent drowns in TCG's
# run-to-run noise (5 to 10 per cent at 4 KiB on a busy host). Here QEMU
# runs with -icount shift=0,sleep=off: the guest's clock advances one
# nanosecond per guest instruction executed, so "MiB/s" is bytes per
# instruction, repeatable to a few tenths of a per cent whatever else the
# host is doing, and the two modules' figures differ by exactly what the
# change adds to or takes from the path. What it does not see: cache
# misses, branch mispredictions, the real cost of each instruction (a
# rep-string instruction counts once per iteration, as TCG runs it). It
# measures a change's instruction cost; make bench measures speed.
#
# Kernels: Debian's 6.1 stops at SMP bring-up under -icount (it waits
# there on a clock that, with sleep=off, does not run while it waits), so
# kernels before 6.12 are skipped with a note; ZC_KERNELS picks others.
#
# Output: build/bench-ab/KVER.txt per kernel, and on stdout a table of
# each variant's zcopy and sendfile figures (medians over the rounds) and
# the change's zcopy figure relative to the base's.
# Exits non-zero if a build, a boot or a guest run failed.
set -u
. "$(dirname "$0")/../vm/lib.sh"

BASE=${1:-${ZC_AB_BASE:-}}
[ -n "$BASE" ] || { echo "usage: $0 REV (or make bench-ab BASE=REV)" >&2; exit 2; }
rev=$(git -C "$ZC_TOP" rev-parse --verify -q "$BASE^{commit}") ||
	{ echo "ab: $BASE is not a commit here" >&2; exit 2; }
ROUNDS=${ZC_AB_ROUNDS:-3}
ARGS=${ZC_AB_ARGS:---workloads file --sizes 4K --methods sendfile,zcopy --reps 5 --links lo}
OUT=$ZC_BUILD/bench-ab
mkdir -p "$OUT"
rc=0

# module SRC KDIR OUT: build zcopy.ko from the tree SRC into OUT.
module() {
	rm -rf "$3" && mkdir -p "$3" &&
		cp -r "$1/Kbuild" "$1/dkms.conf" "$1/kmod" "$1/uapi" "$3/" &&
		make -s -C "$2" M="$3" modules >"$3/build.log" 2>&1 ||
		{ cat "$3/build.log" >&2; return 1; }
}

src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
git -C "$ZC_TOP" archive "$rev" Kbuild dkms.conf kmod uapi | tar -x -C "$src" ||
	{ echo "ab: cannot read $rev" >&2; exit 1; }

echo "# bench-ab: base $(git -C "$ZC_TOP" log -1 --format='%h %s' "$rev" | cut -c1-70)"
echo "# change: the working tree ($(git -C "$ZC_TOP" describe --always --dirty))"
ran=0
for kver in $("$ZC_TOP/tests/vm/kernels.sh"); do
	case $kver in
	6.[0-9].* | 6.1[01].*)
		echo "# $kver: skipped (stops at SMP bring-up under -icount)"
		continue
		;;
	esac
	ran=$((ran + 1))
	dir=$OUT/$kver
	kodir=$dir/ko
	mkdir -p "$kodir"
	module "$src" "/lib/modules/$kver/build" "$dir/base" &&
		module "$ZC_TOP" "/lib/modules/$kver/build" "$dir/change" || { rc=1; continue; }
	rm -f "$kodir"/*.ko
	cp "$dir/base/zcopy.ko" "$kodir/zcopy-base.ko"
	cp "$dir/change/zcopy.ko" "$kodir/zcopy-change.ko"
	build_initramfs "/lib/modules/$kver" "$kodir" ab "$dir/initramfs.gz" \
		"ZC_AB_ARGS=\"$ARGS\""$'\n'"ZC_AB_ROUNDS=$ROUNDS" || { rc=1; continue; }
	ZC_QEMU_ARGS="-icount shift=0,sleep=off" ZC_GUEST_MEM=3072 \
		boot "/boot/vmlinuz-$kver" "$dir/initramfs.gz" "$dir" 3000
	tr -d '\r' <"$dir/results.log" >"$OUT/$kver.txt"
	if ! grep -q '^AB-DONE' "$OUT/$kver.txt" || grep -q '^AB-ERROR' "$OUT/$kver.txt" ||
		grep -aqE "$ZC_BAD_KLOG" "$dir/console.log"; then
		echo "ab: $kver failed (see $OUT/$kver.txt, $dir/console.log)" >&2
		grep '^AB-ERROR' "$OUT/$kver.txt" >&2
		rc=1
		continue
	fi
	# "AB variant round size method MiB/s" lines: medians per variant,
	# size and method, then change/base.
	awk -v kver="$kver" '
	$1 == "AB" { k = $2 SUBSEP $4 SUBSEP $5; v[k] = v[k] " " $6; sizes[$4] = 1; meth[$5] = 1 }
	function median(s,   a, n, i, j, t) {
		n = split(s, a, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	END {
		printf "%s: MiB/s per instruction-nanosecond (median of the rounds)\n", kver
		printf "%-8s %-10s %10s %10s %9s\n", "size", "method", "base", "change", "change/base"
		for (s in sizes) for (m in meth) {
			b = median(v["base", s, m]); c = median(v["change", s, m])
			printf "%-8s %-10s %10.1f %10.1f %9.4f\n", s, m, b, c, b ? c / b : 0
		}
	}' "$OUT/$kver.txt" | tee "$OUT/$kver-summary.txt"
done
[ $ran -gt 0 ] || { echo "ab: no kernel to run (6.12 or later)" >&2; rc=1; }
exit $rc

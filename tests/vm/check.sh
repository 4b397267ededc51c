#!/usr/bin/env bash
# check.sh - `make check`: the guest suite on each kernel, and the verdict.
#
# First the host checks (tests/host.sh: style, sparse, dkms). Then, for
# each kernel: the two Debian kernels (tests/vm/kernels.sh) and a debug
# kernel of each line, built from Debian's sources with KUnit, KASAN,
# lockdep, kmemleak and fault injection (tests/vm/debug-kernel.sh, cached
# after the first run). On each: build zcopy.ko against it, boot it in
# QEMU with the test initramfs, run tests/guest/run.sh (on the debug
# kernels also the KUnit suites of zcopy_kunit.ko and a kmemleak scan),
# and judge: the guest's own counts, plus three harness checks (the module
# built without warnings, the guest ran to the end within the time limit,
# the kernel log holds no WARN, oops, lockdep, KASAN or kmemleak report).
# Prints one "KERNEL: N passed, N failed" line per kernel, then the total
# as the last line, and exits non-zero on any failure.
#
# With the 6.12 debug line, one more boot: docs/exercises.md's exercise 2
# in small (run_leak_smoke: the KUnit suites must catch leak-ref.patch).
#
# ZC_KERNELS picks the Debian kernels, ZC_DEBUG_LINES the debug kernel
# lines ("6.1 6.12" by default; empty for none, when iterating quickly).
set -u
. "$(dirname "$0")/lib.sh"

LIMIT=${ZC_TIMEOUT:-1200}
DEBUG_LINES=${ZC_DEBUG_LINES-6.1 6.12}
total_p=0
total_f=0

# run_kernel NAME KDIR IMAGE MODDIR [GUEST-ENV]
run_kernel() {
	local name=$1 kdir=$2 image=$3 moddir=$4 env=${5:-}
	local dir=$ZC_BUILD/vm/$1 kodir p=0 f=0 line
	mkdir -p "$dir"
	echo "=== $name"
	if kodir=$(build_module "$kdir" "$name"); then
		echo "ok - zcopy.ko builds against $name without warnings"
		p=$((p + 1))
	else
		echo "not ok - zcopy.ko builds against $name without warnings"
		KP=0 KF=1
		return
	fi
	if ! build_initramfs "$moddir" "$kodir" check "$dir/initramfs.gz" "$env"; then
		echo "not ok - initramfs for $name"
		KP=$p KF=1
		return
	fi

	local t0=$SECONDS
	boot "$image" "$dir/initramfs.gz" "$dir" "$LIMIT"
	local rc=$?
	tr -d '\r' <"$dir/results.log" >"$dir/results.txt"
	cat "$dir/results.txt"

	line=$(grep -E '^guest: [0-9]+ passed, [0-9]+ failed$' "$dir/results.txt")
	if [ -n "$line" ]; then
		set -- $line
		p=$((p + $2))
		f=$((f + $4))
	fi
	if [ $rc = 0 ] && grep -q '^ZCOPY-GUEST-DONE' "$dir/results.txt" && [ -n "$line" ]; then
		echo "ok - guest ran to the end ($((SECONDS - t0)) s)"
		p=$((p + 1))
	else
		echo "not ok - guest ran to the end (qemu status $rc$([ $rc = 124 ] && echo ': timed out after '"$LIMIT"' s'))"
		f=$((f + 1))
		tail -n 40 "$dir/console.log" | tr -d '\r'
	fi
	if grep -aE "$ZC_BAD_KLOG" "$dir/console.log" >"$dir/bad-klog.txt"; then
		echo "not ok - kernel log is clean: see $dir/console.log"
		head -n 60 "$dir/bad-klog.txt"
		f=$((f + 1))
	else
		echo "ok - kernel log is clean (no WARN, oops, lockdep, KASAN or kmemleak report)"
		p=$((p + 1))
	fi
	KP=$p KF=$f
}

# run_leak_smoke KVER KDIR: docs/exercises.md's exercise 2, in small.
# zcopy.ko built with docs/exercises/leak-ref.patch applied to a copy of
# the sources (never the working tree), booted on the debug kernel KVER
# (tree KDIR) in mode kunit: load the module, run the KUnit suites and
# run.sh's orphaned-page check in small, stop. The point of the exercise
# is that KUnit catches the leaked page reference, so here a suite must
# report failures, and the guest-level check (lru_orphans) must fail too;
# the unpatched module passing both is the normal debug run's. The kernel log is not judged:
# what a broken module leaves there is this boot's expected outcome.
# make check-docs runs the exercise's own commands (tests/docs.sh).
run_leak_smoke() {
	local name=$1-leak-ref kdir=$2 dir kodir p=0 f=0 n=0 s
	dir=$ZC_BUILD/vm/$name
	mkdir -p "$dir"
	echo "=== $name (docs/exercises.md, exercise 2)"
	if kodir=$(build_module "$kdir" "$name" "$ZC_TOP/docs/exercises/leak-ref.patch"); then
		echo "ok - zcopy.ko with leak-ref.patch builds against $1"
		p=$((p + 1))
	else
		echo "not ok - zcopy.ko with leak-ref.patch builds against $1"
		KP=0 KF=1
		return
	fi
	if ! build_initramfs "$kdir" "$kodir" kunit "$dir/initramfs.gz" ZC_DEBUG=1; then
		echo "not ok - initramfs for $name"
		KP=$p KF=1
		return
	fi
	local t0=$SECONDS
	boot "$kdir/arch/x86/boot/bzImage" "$dir/initramfs.gz" "$dir" "${ZC_LEAK_TIMEOUT:-600}"
	local rc=$?
	tr -d '\r' <"$dir/results.log" >"$dir/results.txt"
	# The guest's own lines, as comments: some must say "not ok" here.
	grep -E '^# KUnit |^# orphaned |^(not )?ok |^guest: ' "$dir/results.txt" | sed 's/^/#   /'
	if [ $rc = 0 ] && grep -q '^ZCOPY-GUEST-DONE' "$dir/results.txt" &&
		grep -qE '^guest: [0-9]+ passed, [0-9]+ failed$' "$dir/results.txt"; then
		echo "ok - leak-ref guest ran to the end ($((SECONDS - t0)) s)"
		p=$((p + 1))
	else
		echo "not ok - leak-ref guest ran to the end (qemu status $rc$([ $rc = 124 ] && echo ': timed out'))"
		f=$((f + 1))
		tail -n 40 "$dir/console.log" | tr -d '\r'
	fi
	# Each suite's "# KUnit SUITE: N passed, N failed, N skipped" line.
	for s in $(sed -n 's/^# KUnit [a-z_]*: [0-9]* passed, \([0-9]*\) failed.*/\1/p' "$dir/results.txt"); do
		[ "$s" -gt 0 ] && n=$((n + 1))
	done
	if [ $n -gt 0 ]; then
		echo "ok - KUnit catches leak-ref.patch's leaked page reference ($n suites report failures)"
		p=$((p + 1))
	else
		echo "not ok - KUnit catches leak-ref.patch's leaked page reference (no suite reports a failure)"
		f=$((f + 1))
	fi
	# The guest-level check for the same leak (run.sh's lru_orphans).
	if grep -q '^not ok - no page is left orphaned by 1024 calls' "$dir/results.txt"; then
		echo "ok - the guest's orphaned-page check catches it too ($(sed -n 's/^# orphaned pages: //p' "$dir/results.txt"))"
		p=$((p + 1))
	else
		echo "not ok - the guest's orphaned-page check catches it too ($(sed -n 's/^# orphaned pages: //p' "$dir/results.txt"))"
		f=$((f + 1))
	fi
	KP=$p KF=$f
}

kernels=$("$ZC_TOP/tests/vm/kernels.sh")
if [ -z "$kernels" ]; then
	echo "not ok - no Debian 6.1/6.12 cloud kernel with headers installed (make deps)"
	echo "0 passed, 1 failed"
	exit 1
fi
summary=""
"$ZC_TOP/tests/host.sh" | tee "$ZC_BUILD/host.log"
line=$(grep -E '^host: [0-9]+ passed, [0-9]+ failed$' "$ZC_BUILD/host.log")
if [ -n "$line" ]; then
	set -- $line
	total_p=$2
	total_f=$4
	summary="$line"$'\n'
else
	total_f=1
	summary="host: checks ended without a summary"$'\n'
fi
for kver in $kernels; do
	# The zcopy.ko dkms installed for this kernel (tests/host.sh), which
	# the guest loads after the suite.
	ko=$(ls "$ZC_BUILD/dkms/$kver/zcopy.ko"* 2>/dev/null | head -n 1)
	ZC_DKMS_KO=$ko run_kernel "$kver" "/lib/modules/$kver/build" "/boot/vmlinuz-$kver" "/lib/modules/$kver"
	summary="$summary$kver: $KP passed, $KF failed"$'\n'
	total_p=$((total_p + KP))
	total_f=$((total_f + KF))
done
for line in $DEBUG_LINES; do
	if tree=$("$ZC_TOP/tests/vm/debug-kernel.sh" "$line"); then
		kver=$(cat "$tree/include/config/kernel.release")
		# kmemleak scans only when asked (make check asks at the end).
		run_kernel "$kver" "$tree" "$tree/arch/x86/boot/bzImage" "$tree" ZC_DEBUG=1
	else
		echo "not ok - debug kernel $line builds"
		KP=0 KF=1 kver="debug-$line"
	fi
	summary="$summary$kver: $KP passed, $KF failed"$'\n'
	total_p=$((total_p + KP))
	total_f=$((total_f + KF))
	if [ "$line" = 6.12 ] && [ -n "$tree" ] && [ -f "$tree/.zc-done" ]; then
		run_leak_smoke "$kver" "$tree"
		summary="$summary$kver-leak-ref: $KP passed, $KF failed"$'\n'
		total_p=$((total_p + KP))
		total_f=$((total_f + KF))
	fi
done
echo "==="
printf '%s' "$summary"
echo "$total_p passed, $total_f failed"
[ $total_f = 0 ]

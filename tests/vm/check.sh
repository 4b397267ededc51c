#!/usr/bin/env bash
# check.sh - `make check`: the guest suite on each kernel, and the verdict.
#
# First the host checks (tests/host.sh: style, sparse, dkms). Then, for
# each kernel (tests/vm/kernels.sh): build zcopy.ko against its
# headers, boot it in QEMU with the test initramfs, run tests/guest/run.sh,
# and judge: the guest's own counts, plus three harness checks (the module
# built without warnings, the guest ran to the end within the time limit,
# the kernel log holds no WARN, oops, lockdep or sanitizer report).
# Prints one "KVER: N passed, N failed" line per kernel, then the total
# as the last line, and exits non-zero on any failure.
set -u
. "$(dirname "$0")/lib.sh"

LIMIT=${ZC_TIMEOUT:-900}
total_p=0
total_f=0

run_kernel() {
	local kver=$1 dir=$ZC_BUILD/vm/$1 ko p=0 f=0 line
	mkdir -p "$dir"
	echo "=== $kver"
	if ko=$(build_module "$kver"); then
		echo "ok - zcopy.ko builds against $kver without warnings"
		p=$((p + 1))
	else
		echo "not ok - zcopy.ko builds against $kver without warnings"
		KP=0 KF=1
		return
	fi
	build_initramfs "$kver" "$ko" check "$dir/initramfs.gz"

	local t0=$SECONDS
	boot "$kver" "$dir/initramfs.gz" "$dir" "$LIMIT"
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
		echo "ok - kernel log is clean (no WARN, oops, lockdep or sanitizer report)"
		p=$((p + 1))
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
	run_kernel "$kver"
	summary="$summary$kver: $KP passed, $KF failed"$'\n'
	total_p=$((total_p + KP))
	total_f=$((total_f + KF))
done
echo "==="
printf '%s' "$summary"
echo "$total_p passed, $total_f failed"
[ $total_f = 0 ]

#!/usr/bin/env bash
# docs.sh - `make check-docs`: the exercises of docs/exercises.md, run as
# the page writes them.
#
# Each exercise's ```sh block (the first after its "## N." heading) runs
# as written, from the top of the tree: it applies the exercise's patch,
# runs the command, and reverts the patch. Then its output is judged:
#   1. small-batch.patch, `make bench-ab BASE=HEAD`: the table of
#      tests/bench/ab.sh, with its change/base column and a zcopy row for
#      each of the block's two sizes. ZC_AB_ROUNDS is 1 here unless set
#      (the page's command, run by hand, does 3 rounds).
#   2. leak-ref.patch, `ZC_DEBUG_LINES=6.12 ZC_PARTS=transfers make check`:
#      that make check fails (the patch no longer applies over itself, for
#      tests/host.sh, and KUnit fails), and the 6.12 debug kernel's KUnit
#      results hold `not ok` lines of test cases.
# make check runs a smaller form of exercise 2 (tests/vm/check.sh,
# run_leak_smoke); nothing smaller runs exercise 1.
#
# The tree's kmod/, Kbuild and uapi/ must have no changes to begin with;
# whatever happens (a failure, ^C), each patch still applied is reverted
# on exit, and the run fails if the tree is not clean then.
# ZC_DOCS_EXERCISES picks the exercises ("1 2" by default). Logs in
# build/check-docs/. Ends with one line "check-docs: N passed, N failed".
set -u
. "$(dirname "$0")/vm/lib.sh"
cd "$ZC_TOP" || exit 1
md=docs/exercises.md
out=$ZC_BUILD/check-docs
mkdir -p "$out"
P=0
F=0
ok() { P=$((P + 1)); echo "ok - $*"; }
notok() { F=$((F + 1)); echo "not ok - $*"; }

if ! git diff --quiet HEAD -- Kbuild kmod uapi; then
	echo "check-docs: Kbuild, kmod/ or uapi/ has changes; commit or stash them first" >&2
	exit 2
fi
revert() {
	local p
	for p in docs/exercises/*.patch; do
		if git apply -R --check "$p" 2>/dev/null; then
			echo "check-docs: reverting $p"
			git apply -R "$p"
		fi
	done
}
trap revert EXIT
trap 'exit 130' INT TERM

# block N: the first ```sh block after the heading "## N.".
block() {
	awk -v n="$1." '/^## / { sec = ($2 == n) }
		sec && /^```sh$/ { inb = 1; next }
		inb && /^```$/ { exit }
		inb { print }' "$md"
}

exercise1() {
	local b log=$out/exercise1.log
	b=$(block 1)
	echo "=== exercise 1"
	printf '%s\n' "$b" | sed 's/^/$ /'
	ZC_AB_ROUNDS=${ZC_AB_ROUNDS:-1} bash -c "$b" 2>&1 | tee "$log"
	if grep -qE '^size +method +base +change +change/base$' "$log" &&
		grep -qE '^4K(iB)? +zcopy +[0-9.]+ +[0-9.]+ +[0-9]+\.[0-9]+$' "$log" &&
		grep -qE '^1M(iB)? +zcopy +[0-9.]+ +[0-9.]+ +[0-9]+\.[0-9]+$' "$log" &&
		! grep -qE '^1M(iB)? +zcopy .* 0\.0000$' "$log"; then
		ok "exercise 1: make bench-ab with small-batch.patch prints the change/base table (4K and 1M zcopy rows)"
	else
		notok "exercise 1: make bench-ab with small-batch.patch prints the change/base table (see $log)"
	fi
}

exercise2() {
	local b log=$out/exercise2.log tree kver r
	b=$(block 2)
	echo "=== exercise 2"
	printf '%s\n' "$b" | sed 's/^/$ /'
	bash -c "$b" 2>&1 | tee "$log"
	if tree=$(tests/vm/debug-kernel.sh 6.12) &&
		kver=$(cat "$tree/include/config/kernel.release") &&
		r=$ZC_BUILD/vm/$kver/results.txt && [ "$r" -nt "$out/start" ] &&
		grep -E '^# KUnit [a-z_]+: [0-9]+ passed, [0-9]+ failed' "$r" &&
		grep -qE '^# \|[[:space:]]+not ok [0-9]+ zt_' "$r"; then
		ok "exercise 2: with leak-ref.patch the 6.12 debug kernel's KUnit results have not ok lines"
	else
		notok "exercise 2: with leak-ref.patch the 6.12 debug kernel's KUnit results have not ok lines (see $log)"
	fi
}

touch "$out/start"
for n in ${ZC_DOCS_EXERCISES:-1 2}; do
	case $n in
	1 | 2) "exercise$n" ;;
	*) notok "no exercise $n in $md" ;;
	esac
	revert
done
if git diff --quiet; then
	ok "the working tree is as it was (git diff --quiet)"
else
	notok "the working tree is as it was: git diff shows changes"
	git diff --stat
fi
echo "check-docs: $P passed, $F failed"
[ $F = 0 ]

#!/bin/sh
# Runs the whole suite against the build in $1 (build or build-asan):
#   unit tests (cmocka, TAP output), CLI tests (tests/cli/*.sh, TAP output),
#   fuzz corpus replay. Ends with one line "N passed, N failed[, N skipped]"
# and exits non-zero on any failure.
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
export YOC="$ROOT/$BUILD/yoc"
export YOC_ROOT="$ROOT"
export YOC_QUIET=1
export CMOCKA_MESSAGE_OUTPUT=TAP
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
pass=0; fail=0; skip=0

count() { # $1 = name, stdin = TAP
	while IFS= read -r line; do
		case "$line" in
		"ok "*"# SKIP"*|"ok "*"# skip"*|"not ok "*"# SKIP"*) skip=$((skip+1)) ;;
		"ok "*) pass=$((pass+1)) ;;
		"not ok "*) fail=$((fail+1)); echo "FAIL $1: $line" ;;
		esac
	done
	echo "$pass $fail $skip" > "$LOG.n"
}

run_tap() { # $1 = name, rest = command
	name=$1; shift
	out=$("$@" 2>"$LOG.err"); rc=$?
	printf '%s\n' "$out" > "$LOG.out"
	count "$name" < "$LOG.out"
	read -r pass fail skip < "$LOG.n"
	n_ok=$(grep -c '^ok ' "$LOG.out")
	n_bad=$(grep '^not ok ' "$LOG.out" | grep -vc '# SKIP')
	if [ $rc -ne 0 ] && [ "$n_bad" -eq 0 ]; then
		fail=$((fail+1))
		echo "FAIL $name: exited $rc"
		tail -n 20 "$LOG.err"
	elif [ "$n_bad" -ne 0 ]; then
		tail -n 40 "$LOG.err"
		grep -v '^ok ' "$LOG.out" | tail -n 40
	fi
	[ "${VERBOSE:-0}" = 1 ] && cat "$LOG.out"
	echo "  $name: $n_ok ok, $n_bad failed"
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	run_tap "$(basename "$t")" "$t"
done

for t in tests/cli/*.sh; do
	[ -f "$t" ] || continue
	[ "$(basename "$t")" = lib.sh ] && continue # sourced helpers, not a test
	run_tap "$(basename "$t" .sh)" sh "$t"
done

for r in "$BUILD"/replay/fuzz_*; do
	[ -x "$r" ] || continue
	n=$(basename "$r")
	run_tap "replay $n" "$r" "tests/fuzz/corpus/$n"
done

rm -f "$LOG.n" "$LOG.out" "$LOG.err"
if [ $skip -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ $fail -eq 0 ] && [ $pass -gt 0 ]

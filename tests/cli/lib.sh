# Shared helpers for CLI tests (sourced). TAP output: one "ok N - what" or
# "not ok N - what" per check, "1..N" at the end (done_testing).
# $YOC is the binary under test, $YOC_ROOT the repository root.
: "${YOC:=./yoc}"
: "${YOC_ROOT:=$(pwd)}"
T_N=0
T_FAIL=0
TMP=$(mktemp -d /tmp/yoc_cli_XXXXXX)
trap 'rm -rf "$TMP"' EXIT

ok() { T_N=$((T_N+1)); echo "ok $T_N - $1"; }
not_ok() { T_N=$((T_N+1)); T_FAIL=$((T_FAIL+1)); echo "not ok $T_N - $1"; }
skip() { T_N=$((T_N+1)); echo "ok $T_N - $1 # SKIP $2"; }
# check "description" command...: passes when the command exits 0
check() { d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else not_ok "$d"; fi; }
# expect_rc N "description" command...: passes when the command exits N
expect_rc() {
	want=$1; d=$2; shift 2
	"$@" >"$TMP/.out" 2>"$TMP/.err"; rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$d"; else not_ok "$d (exit $rc, want $want)"; sed 's/^/# /' "$TMP/.err" | head -5; fi
}
# same "description" got want
same() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "# got:  $2"; echo "# want: $3"; fi
}
done_testing() { echo "1..$T_N"; [ "$T_FAIL" -eq 0 ]; }

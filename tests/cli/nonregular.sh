#!/bin/sh
# Inputs that are not regular files. A named pipe given as a key, opt-out
# list, register, input CSV, audit log, contracts file or database must be
# refused at once with a message naming it, never waited on: every run here
# is under `timeout 10` (exit 124 would mean it blocked). Directory walks
# skip named pipes, symbolic links and hidden files, and the summaries of
# `yoc pseudonymise` and `yoc load` count them.
. "$(dirname "$0")/lib.sh"
if ! command -v mkfifo > /dev/null 2>&1 || ! command -v timeout > /dev/null 2>&1; then
	skip "non-regular inputs" "mkfifo or timeout missing"; done_testing; exit 0
fi
W=$TMP
F=$W/pipe; mkfifo "$F"
PIPE_MSG="is a named pipe, not a regular file"

# refused VERB-DESCRIPTION command...: exits 1 (not 124: blocked) naming the pipe
refused() {
	d=$1; shift
	timeout 10 "$@" > "$W/.out" 2> "$W/.err"; rc=$?
	if [ "$rc" -eq 1 ] && grep -q "$PIPE_MSG" "$W/.err"; then
		ok "$d: refused without blocking"
	else
		not_ok "$d: refused without blocking (exit $rc)"; sed 's/^/# /' "$W/.err" | head -3
	fi
}

"$YOC" keygen --out "$W/k" > /dev/null
printf 'NEWNHSNO,DOB,EPIKEY\n9434765919,1970-03-15,E1\n4010232137,1999-02-28,E2\n' > "$W/in.csv"
printf 'nhs_number\n9434765919\n' > "$W/list.csv"
"$YOC" pseudonymise --key "$W/k" --in "$W/in.csv" --out "$W/p.csv" --kind apc > /dev/null

refused "pseudonymise --key PIPE" "$YOC" pseudonymise --key "$F" --in "$W/in.csv" --out "$W/o1.csv"
refused "pseudonymise --optout PIPE" "$YOC" pseudonymise --key "$W/k" --in "$W/in.csv" --out "$W/o2.csv" --optout "$F"
refused "pseudonymise --in PIPE" "$YOC" pseudonymise --key "$W/k" --in "$F" --out "$W/o3.csv"
same "nothing written for them" "$(ls "$W"/o*.csv 2> /dev/null)" ""
RE="--user alice --purpose test"
refused "reidentify --key PIPE" "$YOC" reidentify --key "$F" --register "$W/list.csv" --in "$W/p.csv" --out "$W/r1.csv" $RE --audit "$W/a.log"
refused "reidentify --register PIPE" "$YOC" reidentify --key "$W/k" --register "$F" --in "$W/p.csv" --out "$W/r2.csv" $RE --audit "$W/a.log"
refused "reidentify --in PIPE" "$YOC" reidentify --key "$W/k" --register "$W/list.csv" --in "$F" --out "$W/r3.csv" $RE --audit "$W/a.log"
refused "reidentify --audit PIPE" "$YOC" reidentify --key "$W/k" --register "$W/list.csv" --in "$W/p.csv" --out "$W/r4.csv" $RE --audit "$F"
[ ! -e "$W/r4.csv" ] && ok "no re-identified output without its audit record" || not_ok "no re-identified output without its audit record"
refused "audit verify PIPE" "$YOC" audit verify "$F"
refused "inspect PIPE" "$YOC" inspect "$F"
"$YOC" init "$W/ds" > /dev/null
refused "quality --contracts PIPE" "$YOC" quality --db "$W/ds" --out "$W/q" --contracts "$F"
refused "report --db PIPE" "$YOC" report --db "$F" --out "$W/rep"
timeout 10 "$YOC" load --db "$W/ds" "$F" > "$W/.out" 2> "$W/.err"; rc=$?
if [ "$rc" -eq 1 ] && grep -q "$PIPE_MSG" "$W/.out"; then
	ok "load PIPE: the file is rejected without blocking"
else
	not_ok "load PIPE: the file is rejected without blocking (exit $rc)"
fi
# a socket or a device is refused the same way
refused_kind() { grep -q "is $1, not a regular file" "$W/.err" && ok "$2" || not_ok "$2"; }
timeout 10 "$YOC" pseudonymise --key /dev/zero --in "$W/in.csv" --out "$W/o4.csv" > /dev/null 2> "$W/.err"
refused_kind "a character device" "a device as the key is refused by name"

# ---- directory walks: skipped and counted ------------------------------------
# Two feeds; beside them a named pipe, a symbolic link to a file and one to a
# directory (never followed), three hidden files and a hidden folder.
T=$W/tree; mkdir -p "$T/apc" "$T/.cache"
python3 "$YOC_ROOT/tests/cli/feedgen.py" "$W/feeds" 20 1 10 > /dev/null
cp "$W/feeds/apc/"*.csv "$T/apc/"
mkfifo "$T/apc/RXC_2023-01.csv"
ln -s "$W/in.csv" "$T/apc/RXD_2023-01.csv"
ln -s "$W/feeds/op" "$T/op"
for h in .a.csv .b.csv apc/.c.csv .cache/d.csv; do cp "$W/feeds/apc/"RXA_*.csv "$T/$h"; done
cp -r "$T" "$W/itree"
for f in $(cd "$W/itree" && find . -type f -name '*.csv'); do # identifiable again
	awk -F, -v OFS=, 'NR == 1 { $1 = "NEWNHSNO"; print; next } { $1 = "9434765919"; print }' \
		"$W/itree/$f" > "$W/x" && cat "$W/x" > "$W/itree/$f"
done

timeout 10 "$YOC" pseudonymise --key "$W/k" --in "$W/itree" --out "$W/po" > "$W/.out" 2> "$W/.err"; rc=$?
same "pseudonymise a tree holding a pipe, links and hidden files: exit" "$rc" 0
same "pseudonymise summary counts what was skipped" \
	"$(grep '^skipped' "$W/.out")" \
	"skipped under $W/itree: 1 named pipe, 2 symbolic links (not followed), 3 hidden files, 1 hidden folder"
same "only the two regular feeds (and their source account) were written" "$(cd "$W/po" && find . -type f | sort | tr '\n' ' ')" \
	"./.yoc-output ./apc/RXA_2023-01.csv ./apc/RXB_2023-01.csv ./yoc-account.json "
timeout 10 "$YOC" pseudonymise --key "$W/k" --in "$W/itree" --out "$W/po2" --json > "$W/.out" 2> "$W/.err"
grep -q "skipped under .*1 named pipe" "$W/.err" && ! grep -q skipped "$W/.out" &&
	ok "with --json the count goes to stderr" || not_ok "with --json the count goes to stderr"

echo "notes" > "$T/apc/README.md"
timeout 10 "$YOC" load --db "$W/ds" "$T" > "$W/.out" 2> "$W/.err"; rc=$?
same "load a tree holding a pipe, links and hidden files: exit" "$rc" 0
same "load summary counts what was skipped" "$(grep '^skipped' "$W/.out")" \
	"skipped in directories: 1 file not .csv or .txt, 1 named pipe, 2 symbolic links (not followed), 3 hidden files, 1 hidden folder"
same "load read only the two regular feeds" "$(grep -c ': apc ' "$W/.out")" 2
"$YOC" load --db "$W/ds" "$W/feeds/op" > "$W/.out" 2>&1
grep -q '^skipped' "$W/.out" && not_ok "no skipped line when nothing was skipped" ||
	ok "no skipped line when nothing was skipped"
done_testing

#!/bin/sh
# yoc load and feed file names: names that are not PROVIDER_PERIOD[_vN].csv
# are refused with the reason; two different files for one kind, provider,
# period and version in one load are both refused (each naming the other)
# while the rest loads; identical copies stay unchanged duplicates; and of
# two versions the higher is current whatever the order of the paths.
. "$(dirname "$0")/lib.sh"

# an outpatient feed with n rows (content differs with $2)
opfeed() { # $1 = file, $2 = rows, $3 = attendance key prefix
	mkdir -p "$(dirname "$1")"
	{
		echo "PSEUDO_ID,NHSNO_STATUS,ATTENDKEY,APPTDATE,ATTENDED"
		i=0
		while [ $i -lt "$2" ]; do i=$((i+1)); echo ",missing,$3$i,2023-05-0$((1 + i % 9)),5"; done
	} > "$1"
}
q() { sqlite3 "$D/yoc.db" "$1"; }

# --- names
D=$TMP/names; "$YOC" init "$D" > /dev/null
N=$TMP/n
opfeed "$N/RA1_2023-05.csv" 3 K
opfeed "$N/RA1_2099-13.csv" 3 K
opfeed "$N/RA1_.csv" 3 K
opfeed "$N/RA1_2023-05_v1.csv" 3 L
opfeed "$N/ra1_2023-06.csv" 3 K
opfeed "$N/RA1_202307.csv" 3 K
opfeed "$N/P90001_2023-24.csv" 3 K
opfeed "$N/RA1_2023-08
ok: RA1_2023-08.csv.csv" 3 K
expect_rc 1 "badly named files make the load exit 1" "$YOC" load --db "$D" "$N"
grep -q "RA1_2099-13.csv: rejected: file name RA1_2099-13.csv: period 2099-13: month must be 01-12" "$TMP/.out" &&
	ok "month 13 refused, naming the file and the rule" || not_ok "month 13 refused, naming the file and the rule"
grep -q "RA1_.csv: rejected: .*no period" "$TMP/.out" && ok "empty period refused" || not_ok "empty period refused"
grep -q "RA1_2023-05_v1.csv: rejected: .*suffix _v1" "$TMP/.out" && ok "_v1 refused" || not_ok "_v1 refused"
grep -q "ra1_2023-06.csv: rejected: .*provider ra1: must be 2-10 upper-case" "$TMP/.out" && ok "lower-case provider refused" || not_ok "lower-case provider refused"
grep -q "RA1_202307.csv: rejected: .*period 202307: must be YYYY-MM" "$TMP/.out" && ok "YYYYMM refused" || not_ok "YYYYMM refused"
grep -q 'RA1_2023-08\\x0aok: RA1_2023-08.csv.csv: rejected: file name RA1_2023-08\\x0aok' "$TMP/.out" &&
	ok "a newline in a name is refused and shown escaped" || not_ok "a newline in a name is refused and shown escaped"
same "no output line is forged by a name" "$(grep -c '^ok: ' "$TMP/.out")" 0
same "no stderr line is forged by a name" "$(grep -c '^ok: ' "$TMP/.err")" 0
same "good names load (month, financial year)" "$(q "select group_concat(provider || ' ' || period, ';') from (select * from files order by path)")" \
	"P90001 2023-24;RA1 2023-05"
"$YOC" load --db "$D" --json "$N" > "$TMP/n.json" 2>/dev/null
python3 - "$TMP/n.json" > "$TMP/n.check" <<'PY'
import json, sys
rej = [r for r in map(json.loads, open(sys.argv[1])) if r["status"] == "rejected"]
print(len(rej), all(r["message"].startswith("file name ") and "\n" not in r["message"] for r in rej))
PY
same "--json: six names refused, each message one line" "$(cat "$TMP/n.check")" "6 True"

# --- two different files for one submission in one load
D=$TMP/amb; "$YOC" init "$D" > /dev/null
A=$TMP/a
opfeed "$A/x/RA1_2023-05.csv" 4 K
opfeed "$A/y/RA1_2023-05.csv" 5 K          # other content, same kind/provider/period/version
opfeed "$A/y/RA1_2023-06.csv" 4 K
opfeed "$A/z/RA1_2023-06.txt" 4 K          # identical copy: not ambiguous
opfeed "$A/z/RA1_2023-07.csv" 4 K
opfeed "$A/z/RA1_2023-07.txt" 6 K          # other content under another extension
opfeed "$A/w/RA2_2023-05.csv" 4 K
expect_rc 1 "an ambiguous submission makes the load exit 1" "$YOC" load --db "$D" "$A"
grep -q "x/RA1_2023-05.csv: rejected: ambiguous: op RA1 2023-05 submission 1 is also sent, with other content, as $A/y/RA1_2023-05.csv; none of them is loaded" "$TMP/.out" &&
	ok "first file refused, naming the second" || not_ok "first file refused, naming the second"
grep -q "y/RA1_2023-05.csv: rejected: ambiguous: .* as $A/x/RA1_2023-05.csv;" "$TMP/.out" &&
	ok "second file refused, naming the first" || not_ok "second file refused, naming the first"
grep -q "z/RA1_2023-07.txt: rejected: ambiguous: .* as $A/z/RA1_2023-07.csv;" "$TMP/.out" &&
	ok ".csv and .txt of one submission are ambiguous" || not_ok ".csv and .txt of one submission are ambiguous"
same "neither ambiguous file is loaded" "$(q "select count(*) from files where period in ('2023-05', '2023-07') and provider = 'RA1'")" 0
same "the rest of the load proceeds" "$(q "select group_concat(path, ' ') from (select replace(path, '$A/', '') path from current_files order by path)")" \
	"w/RA2_2023-05.csv y/RA1_2023-06.csv"
same "an identical copy is a duplicate, not ambiguous" "$(q "select replace(path, '$A/', '') from duplicate_files")" "z/RA1_2023-06.txt"
grep -q "z/RA1_2023-06.txt: op RA1 2023-06: .*\[unchanged\]" "$TMP/.out" && ok "the copy is unchanged" || not_ok "the copy is unchanged"

# --- versions: the higher wins whatever the order of the paths
for order in up down; do
	D=$TMP/ver_$order; "$YOC" init "$D" > /dev/null
	V=$TMP/v_$order
	opfeed "$V/a/RM1_2023-05.csv" 4 K
	opfeed "$V/b/RM1_2023-05_v2.csv" 5 K
	opfeed "$V/c/RM1_2023-05_v3.csv" 6 K
	if [ $order = up ]; then set -- "$V/a" "$V/b" "$V/c"; else set -- "$V/c" "$V/b" "$V/a"; fi
	expect_rc 0 "versions load ($order)" "$YOC" load --db "$D" "$@"
	same "v3 is current ($order)" "$(q "select replace(path, '$V/', '') || ' ' || rows from current_files")" "c/RM1_2023-05_v3.csv 6"
	same "file list in version order ($order)" "$(grep -o 'RM1_2023-05[_v0-9]*\.csv' "$TMP/.out" | tr '\n' ' ')" \
		"RM1_2023-05.csv RM1_2023-05_v2.csv RM1_2023-05_v3.csv "
	q .dump > "$TMP/dump1"
	expect_rc 0 "reloading the versions ($order)" "$YOC" load --db "$D" "$@"
	same "reloading changes nothing ($order)" "$(grep -c '\[unchanged\]' "$TMP/.out")" 3
	q .dump > "$TMP/dump2"
	check "catalog unchanged by the reload ($order)" cmp -s "$TMP/dump1" "$TMP/dump2"
done
# a version sent twice with different content is ambiguous; the other versions load
D=$TMP/ver2; "$YOC" init "$D" > /dev/null
V=$TMP/v2
opfeed "$V/a/RM1_2023-05.csv" 4 K
opfeed "$V/b/RM1_2023-05_v2.csv" 5 K
opfeed "$V/c/RM1_2023-05_v2.csv" 7 K
expect_rc 1 "two different _v2 files: exit 1" "$YOC" load --db "$D" "$V"
same "both _v2 refused" "$(grep -c '_v2.csv: rejected: ambiguous: op RM1 2023-05 submission 2 ' "$TMP/.out")" 2
same "the first submission is loaded and current" "$(q "select replace(path, '$V/', '') from current_files")" "a/RM1_2023-05.csv"
# a later load: an older submission with other content cannot undo a newer one
opfeed "$TMP/v3/RM1_2023-05_v3.csv" 8 K
expect_rc 0 "v3 in a later load" "$YOC" load --db "$D" "$TMP/v3"
opfeed "$TMP/v4/RM1_2023-05.csv" 9 K
expect_rc 1 "an older submission with new content later: exit 1" "$YOC" load --db "$D" "$TMP/v4"
grep -q "rejected: submission 1 of op RM1 2023-05 is older than the current file $TMP/v3/RM1_2023-05_v3.csv (submission 3)" "$TMP/.out" &&
	ok "message names the current file" || not_ok "message names the current file"
same "v3 still current" "$(q "select rows from current_files")" 8
done_testing

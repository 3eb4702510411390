#!/bin/sh
# yoc sql and the loadable extension build/yoc_sqlite.so on a synthetic
# economy of 2,000 persons x 3 years (synth, pseudonymise, load, analyse,
# risk, a cohort register fixture, one month resubmitted): every kind's
# table equals `yoc export` of the kind row for row (python3); queries the
# module pushes down (by person, IN lists, date ranges and their boundaries,
# empty ranges, both) equal the same query with the constraint hidden from
# the planner and a python3 recomputation from the export, and read less
# (--stats); a join of apc with person_year, risk_score and the register in
# the sqlite3 shell with .load equals python3; superseded rows never show;
# a load during a shell session is seen by its next query; bad SQL, writes
# and a damaged segment fail with exit 1 and a clear message. docs/sql.md.
. "$(dirname "$0")/lib.sh"
for v in synth keygen pseudonymise init load analyse risk export sql; do
	if ! "$YOC" help "$v" >/dev/null 2>&1; then
		skip "sql" "yoc $v not built"; done_testing; exit 0
	fi
done
if ! command -v python3 >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then
	skip "sql" "python3 or the sqlite3 CLI missing"; done_testing; exit 0
fi
export YOC_DATA="${YOC_DATA:-$YOC_ROOT/data}"
SO=${YOC_SQLITE:-$(dirname "$YOC")/yoc_sqlite.so}
[ -f "$SO" ] || SO=$YOC_ROOT/build/yoc_sqlite.so
CHK="python3 $YOC_ROOT/tests/cli/sql_check.py"
cd "$TMP" || exit 1
"$YOC" synth --persons 2000 --out S >/dev/null 2>&1 &&
	"$YOC" keygen --out K >/dev/null 2>&1 &&
	"$YOC" pseudonymise --key K --in S/feeds --out P --optout S/optout.csv >/dev/null 2>&1 &&
	"$YOC" init D >/dev/null 2>&1 && "$YOC" load --db D P >/dev/null 2>&1 &&
	"$YOC" analyse --db D >/dev/null 2>&1 &&
	"$YOC" risk fit --db D --year 2021/22 --min-events-per-term 2 >/dev/null 2>&1 &&
	"$YOC" risk score --db D --year 2022/23 >/dev/null 2>&1 &&
	python3 "$YOC_ROOT/tests/cli/budget_register.py" D/yoc.db make >/dev/null
same "synthetic economy loaded, analysed, scored, with a register" "$?" 0
q() { sqlite3 D/yoc.db "$1"; }

# a resubmitted month: the first version is superseded
mkdir -p R/apc
head -n 4 P/apc/RA1_2022-05.csv > R/apc/RA1_2022-05_v2.csv
old=$(q "select file_id from current_files where kind = 'apc' and provider = 'RA1' and period = '2022-05'")
"$YOC" load --db D R/apc/RA1_2022-05_v2.csv >/dev/null 2>&1
same "resubmission loaded, the first version superseded" \
	"$(q "select count(*) from files where file_id = $old and superseded_by is not null")" 1

# usage
expect_rc 2 "sql without --db: usage error" "$YOC" sql "select 1"
expect_rc 2 "QUERY and -f together: usage error" "$YOC" sql --db D -f x.sql "select 1"
expect_rc 2 "--csv and --json together: usage error" "$YOC" sql --db D --csv --json "select 1"
expect_rc 1 "no dataset: exit 1" "$YOC" sql --db nowhere "select 1"
grep -q "nowhere: no dataset here" "$TMP/.err"; same "... named" "$?" 0

# every kind's table equals yoc export of the kind, row for row
MONEY=$(q "select group_concat(distinct name) from file_columns where type = 'money'")
for k in apc op ae community mh gp_appt gp_register social_care ambulance deaths careplan pam; do
	"$YOC" export --db D --table $k --out exp_$k.csv 2>/dev/null
	"$YOC" sql --db D "select * from $k" > sql_$k.csv 2>sql_$k.err
	r=$($CHK same exp_$k.csv sql_$k.csv "$MONEY")
	case "$r" in "ok 0") not_ok "$k: no rows to compare" ;;
	ok*) ok "$k: table equals yoc export (${r#ok } rows)" ;;
	*) not_ok "$k: table equals yoc export"; echo "# $r"; head -3 sql_$k.err | sed 's/^/# /' ;; esac
done
# the Artificial HES samples: many columns the kinds do not know
HES=$YOC_ROOT/../shared/reference/hes/samples
if [ -d "$HES" ]; then
	for f in "$HES"/artificial_hes_*_*.csv; do
		b=$(basename "$f" .csv); k=${b#artificial_hes_}; k=${k%_*}; y=${b##*_}
		mkdir -p "H/$k" && ln -s "$f" "H/$k/HES_20${y%??}-${y#??}.csv"
	done
	"$YOC" init DH >/dev/null 2>&1 && "$YOC" load --db DH H/*/*.csv >/dev/null 2>&1
	for k in apc op ae; do
		"$YOC" export --db DH --table $k --out hexp_$k.csv 2>/dev/null
		"$YOC" sql --db DH "select * from $k" > hsql_$k.csv 2>/dev/null
		r=$($CHK same hexp_$k.csv hsql_$k.csv "$MONEY")
		case "$r" in "ok 0") not_ok "HES $k: no rows to compare" ;;
		ok*) ok "HES $k: table equals yoc export (${r#ok } rows, $(head -1 hsql_$k.csv | tr ',' '\n' | wc -l) columns)" ;;
		*) not_ok "HES $k: table equals yoc export"; echo "# $r" ;; esac
	done
else
	skip "HES samples" "no ../shared/reference"
fi
same "superseded rows never shown" "$(q "select count(*) from files where file_id = $old")|$("$YOC" sql --db D "select count(*) from apc where file_id = $old" | tail -1)" "1|0"
same "... and the export of all files holds them (the check can fail)" \
	"$("$YOC" export --db D --table apc --all | grep -c "^$old,")" "$(q "select loaded from files where file_id = $old")"
same "the table holds the current files' rows" "$("$YOC" sql --db D "select count(*) from apc" | tail -1)" \
	"$(q "select sum(loaded) from current_files where kind = 'apc'")"

# pushdown: the same answer as with the constraint hidden, and as python3
# (rows listed as file_id,line in the table's order)
ids() { "$YOC" sql --db D --stats "select file_id, line from $1 where $2" 2>"$TMP/stats" | tail -n +2; }
pd() { # pd "what" KIND DATECOL "WHERE (pushed)" "WHERE (hidden)" python-filter-args...
	what=$1 k=$2 col=$3 w1=$4 w2=$5; shift 5
	a=$(ids "$k" "$w1"); st=$(cat "$TMP/stats")
	b=$(ids "$k" "$w2")
	c=$($CHK filter exp_$k.csv date="$col" "$@")
	if [ "$a" = "$b" ] && [ "$a" = "$c" ]; then ok "$what ($(printf '%s' "$a" | grep -c .) rows)"
	else not_ok "$what"; echo "# pushed $(printf '%s' "$a" | grep -c .), hidden $(printf '%s' "$b" | grep -c .), python $(printf '%s' "$c" | grep -c .)"; fi
	LAST_STATS=$st
}
n_of() { printf '%s\n' "$LAST_STATS" | sed -n "s/.*$1 \([0-9]*\).*/\1/p"; }
# people with several episodes, and dates present in the data
P1=$(cut -d, -f3 exp_apc.csv | tail -n +2 | sort | uniq -c | sort -rn | awk 'NR == 1 {print $2}')
P2=$(cut -d, -f3 exp_apc.csv | tail -n +2 | sort | uniq -c | sort -rn | awk 'NR == 5 {print $2}')
P3=$(cut -d, -f3 exp_op.csv | tail -n +2 | sort | uniq -c | sort -rn | awk 'NR == 2 {print $2}')
D1=$("$YOC" sql --db D "select EPISTART from apc order by EPISTART limit 1 offset (select count(*) / 2 from apc)" | tail -1)
DPREV=$(q "select date('$D1', '-1 day')")
DNEXT=$(q "select date('$D1', '+1 day')")
DMIN=$("$YOC" sql --db D "select min(EPISTART) from apc" | tail -1)
DMAX=$("$YOC" sql --db D "select max(EPISTART) from apc" | tail -1)
[ -n "$P1" ] && [ -n "$P2" ] && [ -n "$DMIN" ]; same "test persons and dates found" "$?" 0

pd "apc: one person" apc EPISTART "PSEUDO_ID = '$P1'" "+PSEUDO_ID = '$P1'" pseudo="$P1"
total=$(q "select sum(loaded) from current_files where kind = 'apc'")
[ "$(n_of "rows examined")" -lt "$total" ] && [ "$(n_of "person column scans")" -gt 0 ]
same "... looked up by person: fewer rows examined than $total" "$?" 0
pd "apc: person IN list (with NULL and an unknown pseudonym)" apc EPISTART \
	"PSEUDO_ID IN ('$P1', '$P2', NULL, 'nobody')" "PSEUDO_ID || '' IN ('$P1', '$P2', NULL, 'nobody')" pseudo="$P1,$P2,nobody"
pd "apc: a quarter (BETWEEN)" apc EPISTART "EPISTART BETWEEN '2022-01-01' AND '2022-03-31'" \
	"+EPISTART BETWEEN '2022-01-01' AND '2022-03-31'" ge=2022-01-01 le=2022-03-31
[ "$(n_of "skipped whole")" -gt 0 ]; same "... segments outside the quarter skipped whole" "$?" 0
pd "apc: >= the first date" apc EPISTART "EPISTART >= '$DMIN'" "+EPISTART >= '$DMIN'" ge="$DMIN"
pd "apc: > the first date" apc EPISTART "EPISTART > '$DMIN'" "+EPISTART > '$DMIN'" gt="$DMIN"
pd "apc: <= the first date" apc EPISTART "EPISTART <= '$DMIN'" "+EPISTART <= '$DMIN'" le="$DMIN"
pd "apc: < the first date (none)" apc EPISTART "EPISTART < '$DMIN'" "+EPISTART < '$DMIN'" lt="$DMIN"
pd "apc: = the last date" apc EPISTART "EPISTART = '$DMAX'" "+EPISTART = '$DMAX'" eq="$DMAX"
pd "apc: > the last date (none)" apc EPISTART "EPISTART > '$DMAX'" "+EPISTART > '$DMAX'" gt="$DMAX"
pd "apc: = a date" apc EPISTART "EPISTART = '$D1'" "+EPISTART = '$D1'" eq="$D1"
pd "apc: > the day before and < the day after" apc EPISTART "EPISTART > '$DPREV' AND EPISTART < '$DNEXT'" \
	"+EPISTART > '$DPREV' AND +EPISTART < '$DNEXT'" gt="$DPREV" lt="$DNEXT"
pd "apc: >= and <= the day" apc EPISTART "EPISTART >= '$D1' AND EPISTART <= '$D1'" \
	"+EPISTART >= '$D1' AND +EPISTART <= '$D1'" ge="$D1" le="$D1"
pd "apc: an empty range (lower above upper)" apc EPISTART \
	"EPISTART BETWEEN '2023-05-01' AND '2023-04-01'" "+EPISTART BETWEEN '2023-05-01' AND '2023-04-01'" ge=2023-05-01 le=2023-04-01
pd "apc: a range before the data" apc EPISTART "EPISTART BETWEEN '1990-01-01' AND '1990-12-31'" \
	"+EPISTART BETWEEN '1990-01-01' AND '1990-12-31'" ge=1990-01-01 le=1990-12-31
[ "$(n_of "rows examined")" -eq 0 ]; same "... examines no row" "$?" 0
pd "apc: person and year" apc EPISTART "PSEUDO_ID = '$P1' AND EPISTART >= '2022-04-01' AND EPISTART < '2023-04-01'" \
	"+PSEUDO_ID = '$P1' AND +EPISTART >= '2022-04-01' AND +EPISTART < '2023-04-01'" pseudo="$P1" ge=2022-04-01 lt=2023-04-01
pd "apc: a month prefix (not an ISO date: compared by SQLite)" apc EPISTART "EPISTART >= '2022-07' AND EPISTART < '2022-08'" \
	"+EPISTART >= '2022-07' AND +EPISTART < '2022-08'" ge=2022-07 lt=2022-08
pd "op: person and month" op APPTDATE "PSEUDO_ID = '$P3' AND APPTDATE LIKE '2022-%' AND APPTDATE BETWEEN '2022-01-01' AND '2022-06-30'" \
	"+PSEUDO_ID = '$P3' AND +APPTDATE BETWEEN '2022-01-01' AND '2022-06-30'" pseudo="$P3" ge=2022-01-01 le=2022-06-30
pd "gp_appt: a month" gp_appt APPT_DATE "APPT_DATE >= '2023-02-01' AND APPT_DATE <= '2023-02-28'" \
	"+APPT_DATE >= '2023-02-01' AND +APPT_DATE <= '2023-02-28'" ge=2023-02-01 le=2023-02-28
pd "apc: file_id" apc EPISTART "file_id = $old + 1" "+file_id = $old + 1" file=$((old + 1))
# a person probed once per row of another table: every lookup after the first uses the index
got=$("$YOC" sql --db D --stats "select count(*) from person p cross join apc a on a.PSEUDO_ID = p.pseudo_id" 2>"$TMP/stats" | tail -1)
LAST_STATS=$(cat "$TMP/stats")
same "person-by-person join: every episode of a registered person" "$got" \
	"$("$YOC" sql --db D "select count(*) from apc where PSEUDO_ID in (select pseudo_id from person)" | tail -1)"
[ "$(n_of "person index lookups")" -gt "$(n_of "person column scans")" ]; same "... through the person index" "$?" 0
got=$("$YOC" sql --db D "select count(*) from person p cross join apc a on a.PSEUDO_ID = p.pseudo_id;
 select file_id, line from apc where PSEUDO_ID IN ('$P2', '$P1')" | tail -n +4)
same "an IN list through the person index: rows in table order" "$got" "$($CHK filter exp_apc.csv pseudo="$P1,$P2")"

# a join of activity with person_year, risk_score and the register, in the sqlite3 shell
JOIN="SELECT a.PSEUDO_ID, py.band, py.emergency_admissions, coalesce(rs.tier, ''), count(*)
 FROM apc a JOIN person_year py ON py.pseudo_id = a.PSEUDO_ID AND py.fyear = '2022/23'
 LEFT JOIN risk_score rs ON rs.pseudo_id = a.PSEUDO_ID AND rs.fyear = '2022/23'
 WHERE a.EPISTART BETWEEN '2022-04-01' AND '2023-03-31'
 AND a.PSEUDO_ID IN (SELECT pseudo_id FROM cohort_register WHERE cohort = 'frailty')
 GROUP BY a.PSEUDO_ID ORDER BY a.PSEUDO_ID;"
want=$($CHK join exp_apc.csv D/yoc.db)
got=$(printf '.load %s\n%s\n' "${SO%.so}" "$JOIN" | sqlite3 D/yoc.db 2>&1)
if [ -n "$want" ] && [ "$got" = "$want" ]; then ok "sqlite3 shell with .load: apc x person_year x risk_score x register ($(printf '%s\n' "$want" | wc -l) members)"
else not_ok "sqlite3 shell with .load: apc x person_year x risk_score x register"; printf '%s\n' "$got" | head -3 | sed 's/^/# /'; fi
same "... and yoc sql gives the same" "$("$YOC" sql --db D "$JOIN" | tail -n +2 | tr ',' '|')" "$want"

# a load during a shell session: the next query sees it
mkdir -p R2/apc && head -n 3 P/apc/RA1_2022-06.csv > R2/apc/RA1_2022-06_v2.csv
before=$(q "select sum(loaded) from current_files where kind = 'apc'")
got=$(printf '.load %s\nselect count(*) from apc;\n.shell "%s" load --db D R2/apc/RA1_2022-06_v2.csv > /dev/null 2>&1\nselect count(*) from apc;\n' \
	"${SO%.so}" "$YOC" | sqlite3 D/yoc.db 2>&1 | tr '\n' ' ')
same "a load between two queries of one session is seen" "$got" "$before $(q "select sum(loaded) from current_files where kind = 'apc'") "

# input and output forms
printf 'select count(*) n from op;\n-- a comment\nselect 1 one, null two, 2.5 three, %s four;\n' "'a\"b'" > two.sql
expect_rc 0 "-f FILE with two statements" "$YOC" sql --db D -f two.sql
same "... each statement's rows with its header" "$(tr '\n' ' ' < "$TMP/.out")" "n $(q "select sum(loaded) from current_files where kind='op'") one,two,three,four 1,,2.5,\"a\"\"b\" "
expect_rc 1 "-f of a folder is refused" "$YOC" sql --db D -f S
grep -q "S: is a directory, not a regular file" "$TMP/.err"; same "... said so" "$?" 0
expect_rc 0 "--out FILE" "$YOC" sql --db D --out o.csv -f two.sql
same "... holds what stdout would" "$(cat o.csv)" "$("$YOC" sql --db D -f two.sql)"
expect_rc 1 "--out FILE with a failing statement" "$YOC" sql --db D --out o.csv "select 1; select nosuch"
same "... leaves FILE as it was, and no temporary" "$(cat o.csv)|$(ls o.csv.tmp.* 2>/dev/null)" "$("$YOC" sql --db D -f two.sql)|"
same "the query from stdin" "$("$YOC" sql --db D < two.sql | tail -1)" '1,,2.5,"a""b"'
same "--json: one object per row, typed" "$("$YOC" sql --db D --json -f two.sql | tail -1)" '{"one":1,"two":null,"three":2.5,"four":"a\"b"}'
"$YOC" sql --db D "select * from apc" > now_apc.csv
"$YOC" sql --db D --json "select * from apc" | python3 -c '
import json, sys, csv
rows = [json.loads(l) for l in sys.stdin]
with open(sys.argv[1], newline="") as f:
    ref = list(csv.DictReader(f))
bad = sum(1 for a, b in zip(rows, ref) if any(("" if v is None else str(v)) != b[k] for k, v in a.items()))
print(len(rows) == len(ref) > 0 and bad == 0)' now_apc.csv > json.ok
same "--json of apc equals its CSV" "$(cat json.ok)" True

# errors
expect_rc 1 "a syntax error: exit 1" "$YOC" sql --db D "select count(*)
 from apc wher EPISTART > '2022-01-01'"
grep -q "yoc sql: query:2:16: near \"EPISTART\": syntax error" "$TMP/.err"; same "... named with line and column" "$?" 0
expect_rc 1 "an unknown column: exit 1" sh -c "echo 'select nosuch from apc' | \"$YOC\" sql --db D"
grep -q "stdin:1:8: no such column: nosuch" "$TMP/.err"; same "... named with line and column" "$?" 0
expect_rc 1 "the activity tables are read-only" "$YOC" sql --db D "delete from apc"
grep -q "table apc may not be modified" "$TMP/.err"; same "... said so" "$?" 0
np=$(q "select count(*) from person")
expect_rc 1 "the catalog is read-only" "$YOC" sql --db D "delete from person"
same "... and unchanged" "$(q "select count(*) from person")" "$np"
cp -r D D2
seg=$(q "select segment from current_files where kind = 'op' limit 1")
printf 'X' | dd of=D2/segments/$seg bs=1 seek=200 conv=notrunc 2>/dev/null
expect_rc 1 "a damaged segment: exit 1" "$YOC" sql --db D2 "select count(*) from op"
grep -q "$seg.*checksum" "$TMP/.err"; same "... naming the segment" "$?" 0
rm -rf D2
done_testing

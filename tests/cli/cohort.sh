#!/bin/sh
# yoc cohort end to end on a clean synthetic economy of 12,000 persons x 3
# years (two practices): the rule's candidates against the same rule in SQL;
# worklists carrying no NHS number, date or area code; the review simulator's
# decisions against its truth and the deaths in the synthetic truth; review
# files rejected whole with file:line:col; re-import changing nothing;
# enrolment only with consent; refresh against the synthetic registrations
# truth (deaths, practice moves, leaving the area), mapped to pseudonyms with
# the key in python3; the register as of many dates against a python3 replay
# of cohort_log. docs/cohorts.md.
. "$(dirname "$0")/lib.sh"
for v in synth keygen pseudonymise init load analyse risk cohort; do
	if ! "$YOC" help "$v" >/dev/null 2>&1; then
		skip "cohort" "yoc $v not built"; done_testing; exit 0
	fi
done
if ! command -v python3 >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then
	skip "cohort" "python3 or the sqlite3 CLI missing"; done_testing; exit 0
fi
export YOC_DATA="${YOC_DATA:-$YOC_ROOT/data}"
export USER=tester
cd "$TMP" || exit 1
"$YOC" synth --persons 12000 --clean --out S >/dev/null 2>&1 &&
	"$YOC" keygen --out K >/dev/null 2>&1 &&
	"$YOC" pseudonymise --key K --in S/feeds --out P >/dev/null 2>&1 &&
	"$YOC" init D >/dev/null 2>&1 && "$YOC" load --db D P >/dev/null 2>&1 &&
	"$YOC" analyse --db D >/dev/null 2>&1 &&
	"$YOC" risk fit --db D --year 2021/22 --min-events-per-term 5 >/dev/null 2>&1 &&
	"$YOC" risk score --db D --year 2022/23 >/dev/null 2>&1
same "synthetic economy analysed and scored" "$?" 0
q() { sqlite3 D/yoc.db "$1"; }
RULE='age >= 18 and died = 0 and (percentile >= 98 or ltc_count >= 4)'
SQLRULE="py.age >= 18 AND py.died = 0 AND (rs.percentile >= 98 OR py.ltc_count >= 4)"

# definitions
expect_rc 2 "cohort without a subcommand: usage error" "$YOC" cohort
expect_rc 1 "a bad rule is refused" "$YOC" cohort define c1 --db D --rule 'age >= and copd'
grep -q "rule:1:8:" "$TMP/.err"; same "... with the column of the problem" "$?" 0
expect_rc 1 "an unknown field is refused" "$YOC" cohort define c1 --db D --rule 'agee >= 18'
grep -q "nearest: age.*known: fyear, age" "$TMP/.err"; same "... listing the fields" "$?" 0
expect_rc 0 "define version 1" "$YOC" cohort define complex --db D --rule 'copd'
expect_rc 0 "define version 2" "$YOC" cohort define complex --db D --rule "$RULE" \
	--description "Adults, top 2% risk or 4+ LTCs" --service-model "MDT"
same "both versions kept, with the author" "$(q "SELECT group_concat(version || author, ',') FROM cohort_def WHERE name='complex'")" "1tester,2tester"

# selection against SQL
expect_rc 0 "select on 2022/23 with worklists" "$YOC" cohort select complex --db D --year 2022/23 --out W
got=$(q "SELECT pseudo_id FROM cohort_candidate ORDER BY 1" | md5sum)
want=$(q "SELECT py.pseudo_id FROM person_year py LEFT JOIN risk_score rs ON rs.pseudo_id = py.pseudo_id AND rs.fyear = py.fyear WHERE py.fyear = '2022/23' AND $SQLRULE ORDER BY 1" | md5sum)
same "candidates equal the rule in SQL" "$got" "$want"
n=$(q "SELECT count(*) FROM cohort_candidate")
[ "$n" -gt 100 ]; same "... a few hundred of them ($n)" "$?" 0
same "every candidate has its reasons" "$(q "SELECT count(*) FROM cohort_candidate WHERE reasons NOT LIKE 'age >= 18; died = 0; %'")" 0

# worklists identify nobody
same "one worklist CSV per practice" "$(ls W/*.csv | wc -l)" "$(q "SELECT count(DISTINCT practice) FROM cohort_candidate")"
cut -d, -f1 S/truth/registrations.csv | tail -n +2 | sort -u > nhs.txt
grep -q -F -f nhs.txt W/* ; same "no NHS number in worklists" "$?" 1
grep -q -E '[0-9]{4}-[0-9]{2}-[0-9]{2}|E01[0-9]{6}' W/*.csv W/*.html; same "no date or area code in worklists" "$?" 1
same "worklist rows = candidates" "$(cat W/P*.csv | grep -vc '^pseudo_id,')" "$n"

# the simulated review against its truth and the synthetic deaths
expect_rc 0 "simulate-review" "$YOC" cohort simulate-review complex --db D --out R --date 2023-04-20
python3 - <<'PY' > sim.txt
import csv, hmac, hashlib, datetime
key = bytes.fromhex(open("K").read().strip())
dod = {}
for r in csv.DictReader(open("S/truth/registrations.csv")):
    if r["date_of_death"]:
        dod[hmac.new(key, r["nhs_number"].encode(), hashlib.sha256).hexdigest()] = r["date_of_death"]
rev = datetime.date(2023, 4, 20)
bad = 0
for r in csv.DictReader(open("R/truth.csv")):
    d = dod.get(r["pseudo_id"])
    if d:
        d = datetime.date.fromisoformat(d)
        if rev < d <= rev + datetime.timedelta(days=int(6 * 30.44)) and r["decision"] != "add":
            bad += r["reason"] != "end_of_life"
print(bad)
PY
same "everyone dying within 6 months of review is excluded as end of life" "$(cat sim.txt)" 0

# bad review files are rejected whole, line by line
cp R/review_P90001.csv bad.csv
P1=$(sed -n 2p bad.csv | cut -d, -f1)
printf '%s\n' "zzzz,P90001,include,,,GP,2023-04-20" "$P1,P90001,include,,,GP,2023-04-21" \
	"$P1,P90001,include,,,nurse,2099-01-01" >> bad.csv
L=$(wc -l < bad.csv)
expect_rc 1 "a bad review file is refused" "$YOC" cohort review complex --db D bad.csv
grep -q "bad.csv:$((L-2)):1: .*unknown pseudonym" "$TMP/.err"; same "... unknown pseudonym at its line and column" "$?" 0
grep -q "bad.csv:$((L-1)):1: .*duplicate decision" "$TMP/.err"; same "... duplicate decision" "$?" 0
grep -q "bad.csv:$L:6: .*unknown reviewer role" "$TMP/.err"; same "... unknown role" "$?" 0
grep -q "bad.csv:$L:7: .*in the future" "$TMP/.err"; same "... future date" "$?" 0
same "... and nothing imported" "$(q "SELECT count(*) FROM cohort_review")" 0

expect_rc 0 "review import" "$YOC" cohort review complex --db D R/review_*.csv
dump() { sqlite3 D/yoc.db ".dump cohort_review" ".dump cohort_log" ".dump cohort_consent" | md5sum; }
before=$(dump)
expect_rc 0 "the same files again" "$YOC" cohort review complex --db D R/review_*.csv
same "... change nothing" "$(dump)" "$before"
grep -q "0 new" "$TMP/.out"; same "... and say so" "$?" 0

# consent gates enrolment
expect_rc 0 "enrol before any consent" "$YOC" cohort enrol complex --db D
same "... enrols nobody" "$(q "SELECT count(*) FROM cohort_register")" 0
expect_rc 0 "consent import" "$YOC" cohort consent complex --db D R/consent_*.csv
expect_rc 0 "enrol" "$YOC" cohort enrol complex --db D
got=$(q "SELECT pseudo_id FROM cohort_register ORDER BY 1" | md5sum)
want=$(q "SELECT c.pseudo_id FROM cohort_consent c JOIN cohort_review r USING(cohort, pseudo_id) JOIN person p USING(pseudo_id) WHERE c.status='given' AND c.care=1 AND r.decision IN ('include','add') AND (p.date_of_death IS NULL OR p.date_of_death >= max(c.consent_date, r.review_date)) ORDER BY 1" | md5sum)
same "members are exactly the included with consent (alive at joining)" "$got" "$want"

# refresh against the synthetic registrations
expect_rc 0 "refresh" "$YOC" cohort refresh --db D
python3 - <<'PY' > refresh.txt
import csv, hmac, hashlib, sqlite3
key = bytes.fromhex(open("K").read().strip())
regs = {}
for r in csv.DictReader(open("S/truth/registrations.csv")):
    p = hmac.new(key, r["nhs_number"].encode(), hashlib.sha256).hexdigest()
    regs.setdefault(p, []).append(r)
db = sqlite3.connect("D/yoc.db")
bad = n = ended = 0
for ps, prac, join, leave, why in db.execute(
        "SELECT pseudo_id, practice, join_date, leave_date, leave_reason FROM cohort_register"):
    n += 1
    rs = regs[ps]
    dod = rs[0]["date_of_death"]
    want = (None, None)
    if dod:
        want = ("died", max(dod, join))
    else:
        at = [r for r in rs if r["practice"] == prac and r["reg_start"] <= join]
        if at:
            r = max(at, key=lambda r: r["reg_start"])
            if r["reg_end"]:
                want = ({"changed_practice": "left_practice", "moved_out": "deregistered"}[r["end_reason"]],
                        max(r["reg_end"], join))
    ended += want[0] is not None
    if (why, leave) != want:
        bad += 1
print(n, ended, bad)
PY
read -r n ended bad < refresh.txt
same "every membership ends as the truth says (died, left_practice, deregistered; $ended of $n)" "$bad" 0
[ "$ended" -gt 10 ]; same "... with some leavers" "$?" 0
same "... of each kind" "$(q "SELECT count(DISTINCT leave_reason) FROM cohort_register")" 3
before=$(sqlite3 D/yoc.db ".dump cohort_register" | md5sum)
expect_rc 0 "refresh again" "$YOC" cohort refresh --db D
same "... changes nothing" "$(sqlite3 D/yoc.db ".dump cohort_register" | md5sum)" "$before"
same "every leave is logged with its cause" "$(q "SELECT count(*) FROM cohort_log WHERE action='leave' AND actor LIKE '%refresh%' AND detail <> ''")" "$ended"

# the register as of any date = the change log replayed
cat > replay.py <<'PY'
import sqlite3, sys
db = sqlite3.connect("D/yoc.db")
d = sys.argv[1]
open_ = {}
for action, row, ps, date in db.execute(
        "SELECT action, register_row, pseudo_id, date FROM cohort_log"
        " WHERE cohort='complex' AND action IN ('join','leave') ORDER BY log_id"):
    if action == "join" and date <= d:
        open_[row] = ps
    elif action == "leave" and date < d:
        open_.pop(row, None)
for ps in sorted(open_.values()):
    print(ps)
PY
ok_all=0
for d in 2023-04-19 2023-05-01 2023-05-15 2023-06-30 2023-09-01 2023-12-31 2024-02-29 2024-03-31; do
	a=$("$YOC" cohort register complex --db D --as-of $d | tail -n +2 | cut -d, -f1 | md5sum)
	b=$(python3 replay.py $d | md5sum)
	[ "$a" = "$b" ] || { ok_all=1; echo "# as of $d differs"; }
done
same "register --as-of 8 dates equals the replayed change log" "$ok_all" 0
same "the register is append-only" "$(sqlite3 D/yoc.db "DELETE FROM cohort_register" 2>&1 | grep -c append-only)" 1
expect_rc 0 "export" "$YOC" cohort export complex --db D --out reg.csv
same "... every row of the history" "$(($(wc -l < reg.csv) - 1))" "$(q "SELECT count(*) FROM cohort_register")"
expect_rc 0 "show" "$YOC" cohort show complex --db D
grep -q "enrolled" "$TMP/.out"; same "... prints the funnel" "$?" 0
expect_rc 0 "list" "$YOC" cohort list --db D

# the report's Cohorts page, through disclosure control
expect_rc 0 "report" "$YOC" report --db D --out REP
[ -f REP/cohorts.html ]; same "the report has a Cohorts page" "$?" 0
sel=$(q "SELECT count(*) FROM cohort_candidate WHERE selection_id = (SELECT max(selection_id) FROM cohort_selection)")
want=$(( (sel + 2) / 5 * 5 ))
same "funnel: selected, rounded to 5" "$(grep '^Selected by the rule,' REP/csv/cohort_complex_funnel.csv | cut -d, -f2)" "$want"
bad=$(cat REP/csv/cohort_complex_funnel.csv REP/csv/cohort_complex_practices.csv REP/csv/cohort_complex_months.csv REP/csv/cohort_complex_people.csv \
	| tail -n +2 | tr ',' '\n' | grep -E '^[0-9]+$' | awk '$1 % 5 != 0 || ($1 > 0 && $1 <= 7)' | wc -l)
same "every published count is rounded to 5 and none is 1-7" "$bad" 0
same "each practice pack has its cohort section" "$(ls REP/csv/practices/*_cohorts.csv | wc -l)" "$(ls W/*.csv | wc -l)"
done_testing

#!/bin/sh
# yoc rule on a synthetic economy of 2,000 persons x 3 years (analysed, risk
# scored for 2022/23): each rule's selected pseudo_ids are compared with the
# same rule written in SQL over person_year (LEFT JOINed to itself for the
# look-backs) and risk_score, run by the sqlite3 CLI. docs/rules.md.
. "$(dirname "$0")/lib.sh"
for v in synth keygen pseudonymise init load analyse risk rule; do
	if ! "$YOC" help "$v" >/dev/null 2>&1; then
		skip "rule" "yoc $v not built"; done_testing; exit 0
	fi
done
if ! command -v sqlite3 >/dev/null 2>&1; then
	skip "rule" "the sqlite3 CLI missing"; done_testing; exit 0
fi
export YOC_DATA="${YOC_DATA:-$YOC_ROOT/data}"
cd "$TMP" || exit 1
"$YOC" synth --persons 2000 --out S >/dev/null 2>&1 &&
	"$YOC" keygen --out K >/dev/null 2>&1 &&
	"$YOC" pseudonymise --key K --in S/feeds --out P --optout S/optout.csv >/dev/null 2>&1 &&
	"$YOC" init D >/dev/null 2>&1 && "$YOC" load --db D P >/dev/null 2>&1 &&
	"$YOC" analyse --db D >/dev/null 2>&1 &&
	"$YOC" risk fit --db D --year 2021/22 --min-events-per-term 1 >/dev/null 2>&1 &&
	"$YOC" risk score --db D --year 2022/23 >/dev/null 2>&1
same "synthetic economy analysed and scored" "$?" 0
q() { sqlite3 D/yoc.db "$1"; }
Y=2022/23
# the data has what the rules need: NULL practices, risk tiers, a missing look-back year
same "some practices are NULL" "$(q "select count(*) > 0 from person_year where fyear = '$Y' and practice is null")" 1
same "risk_score has the year" "$(q "select count(*) > 0 from risk_score where fyear = '$Y'")" 1
J="person_year a left join person_year b on b.pseudo_id = a.pseudo_id and b.fyear = '2021/22'
 left join person_year c on c.pseudo_id = a.pseudo_id and c.fyear = '2020/21'
 left join risk_score r on r.pseudo_id = a.pseudo_id and r.fyear = a.fyear"
n=0
# rule_vs_sql 'RULE' 'SQL condition' (a: year t, b: t-1, c: t-2, r: risk_score)
rule_vs_sql() {
	n=$((n+1))
	"$YOC" rule eval --db D --year $Y --rule "$1" --out sel$n.csv >/dev/null 2>err$n.txt
	rc=$?
	tail -n +2 sel$n.csv 2>/dev/null | cut -d, -f1 | sort > got$n.txt
	q "select a.pseudo_id from $J where a.fyear = '$Y' and ($2)" | sort > want$n.txt
	w=$(wc -l < want$n.txt | tr -d ' ')
	if [ $rc -eq 0 ] && cmp -s got$n.txt want$n.txt; then
		ok "$1: the same $w pseudo_ids as SQL"
	else
		not_ok "$1: differs from SQL (exit $rc, got $(wc -l < got$n.txt | tr -d ' '), want $w)"
		sed 's/^/# /' err$n.txt | head -3
	fi
	[ "$w" -gt 0 ] && echo "$w" >> nonempty.txt
}
rule_vs_sql "copd and not dementia" "a.copd and not a.dementia"
rule_vs_sql "count(copd, heart_failure, ckd, diabetes) >= 2" \
	"(a.copd <> 0) + (a.heart_failure <> 0) + (a.ckd <> 0) + (a.diabetes <> 0) >= 2"
rule_vs_sql "practice in (P90001, P90004)" "a.practice in ('P90001', 'P90004')"
rule_vs_sql "practice not in (P90001, P90004)" "a.practice not in ('P90001', 'P90004')"
rule_vs_sql "not practice = 'P90002'" "not a.practice = 'P90002'"
rule_vs_sql "practice is null or age >= 90" "a.practice is null or a.age >= 90"
rule_vs_sql "practice in ()" "0"
rule_vs_sql "practice not in () and age < 5" "a.age < 5"
rule_vs_sql "band not in ('0', 'A') and sex = 2" "a.band not in ('0', 'A') and a.sex = '2'"
rule_vs_sql "emergency_admissions[t-1] >= 1" "b.emergency_admissions >= 1"
rule_vs_sql "not (emergency_admissions[t-1] >= 1)" "not (b.emergency_admissions >= 1)"
rule_vs_sql "emergency_admissions[t-1] is null" "b.pseudo_id is null"
rule_vs_sql "not (bed_days[t-2] > 0) or copd" "not (c.bed_days > 0) or a.copd"
rule_vs_sql "ltc_count > ltc_count[t-1] and emergency_admissions >= 1" \
	"a.ltc_count > b.ltc_count and a.emergency_admissions >= 1"
rule_vs_sql "tier in ('top0.5', '0.5-2', '2-5')" "r.tier in ('top0.5', '0.5-2', '2-5')"
rule_vs_sql "percentile >= 95 and age >= 75" "r.percentile >= 95 and a.age >= 75"
rule_vs_sql "probability > 0.2 or not tier = 'rest'" "r.probability > 0.2 or not r.tier = 'rest'"
rule_vs_sql "copd or asthma and age < 40" "a.copd or (a.asthma and a.age < 40)"
rule_vs_sql "not copd or asthma" "(not a.copd) or a.asthma"
rule_vs_sql "not (copd or asthma) and ltc_count >= 3" "not (a.copd or a.asthma) and a.ltc_count >= 3"
rule_vs_sql "cost_total / 100 > 5000 and imd_decile <= 2" "a.cost_total / 100 > 5000 and a.imd_decile <= 2"
rule_vs_sql "(cost_emergency + cost_ae) * 2 >= cost_total and cost_total > 0" \
	"(a.cost_emergency + a.cost_ae) * 2 >= a.cost_total and a.cost_total > 0"
rule_vs_sql "imd_decile[t-1] != imd_decile or practice != practice[t-1]" \
	"b.imd_decile != a.imd_decile or a.practice != b.practice"
rule_vs_sql "AGE >= 65 AND Fyear = '2022/23' and died = 0" "a.age >= 65 and a.died = 0"
same "most rules select someone (the comparisons are not vacuous)" "$(test "$(wc -l < nonempty.txt)" -ge 20 && echo yes)" yes

# reasons: the clause columns are each disjunct's truth, as SQL gives it
"$YOC" rule eval --db D --year $Y --rule "copd or emergency_admissions[t-1] >= 1 or tier = 'top0.5'" \
	--out why.csv --json > why.json 2>/dev/null
same "reasons CSV header" "$(head -1 why.csv)" "pseudo_id,clause_1,clause_2,clause_3,reasons"
tail -n +2 why.csv | cut -d, -f1-4 | tr ',' '|' | sort > why_got.txt
q "select a.pseudo_id, coalesce(a.copd <> 0, 0), coalesce(b.emergency_admissions >= 1, 0),
 coalesce(r.tier = 'top0.5', 0) from $J where a.fyear = '$Y' and (a.copd or b.emergency_admissions >= 1
 or r.tier = 'top0.5')" | sort > why_want.txt
check "per-clause bits equal SQL's per disjunct" cmp why_got.txt why_want.txt
same "JSON counts per clause" "$(python3 -c 'import json; j=json.load(open("why.json")); print(j["selected"], [c["true"] for c in j["clauses"]])' 2>/dev/null)" \
	"$(q "select sum(a.copd or b.emergency_admissions >= 1 or r.tier = 'top0.5') from $J where a.fyear = '$Y'") [$(q "select sum(coalesce(a.copd <> 0, 0)) || ', ' || sum(coalesce(b.emergency_admissions >= 1, 0)) || ', ' || sum(coalesce(r.tier = 'top0.5', 0)) from $J where a.fyear = '$Y'")]"
grep -q "emergency_admissions\[t-1\] >= 1" why.csv
same "reasons name the clause's text" "$?" 0

# errors: column and caret, nearest names, usage
expect_rc 1 "unknown field: error" "$YOC" rule check "copd and cpod" --db D
grep -q "rule:1:10: unknown field 'cpod'; nearest: .*copd" "$TMP/.err"
same "... at its column with the nearest names" "$?" 0
same "... a caret under column 10" "$(sed -n 3p "$TMP/.err")" "           ^"
grep -q "^  learning_disability " "$TMP/.err"
same "... and the list of fields" "$?" 0
expect_rc 1 "syntax error" "$YOC" rule check "age >= 65 and (copd"
grep -q "rule:1:20: expected ')'" "$TMP/.err"
same "... at the end, naming the missing ')'" "$?" 0
expect_rc 0 "rule check without a dataset parses" "$YOC" rule check "x in () or y[t-2] > 1"
grep -q "^rule: (x in ()) or (y\[t-2\] > 1)" "$TMP/.out"
same "... and prints the normalised rule" "$?" 0
expect_rc 2 "rule eval without --year: usage" "$YOC" rule eval --db D --rule copd
expect_rc 2 "rule with an unknown subcommand: usage" "$YOC" rule evaluate
expect_rc 0 "rule fields lists the risk fields" "$YOC" rule fields --db D
grep -q "^  tier  *text  *risk_score" "$TMP/.out"
same "... tier from risk_score" "$?" 0
done_testing

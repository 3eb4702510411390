#!/bin/sh
# yoc simulate on a synthetic economy of 4,000 persons x 3 years: the
# scenario file's errors name line and field, the shipped scenarios pass the
# published JSON Schema, a no-change scenario equals the baseline exactly,
# the same seed gives the same output whatever the threads, and the stored
# figures are recomputed independently in SQL (population, observed next
# year per cohort). docs/simulation.md.
. "$(dirname "$0")/lib.sh"
for v in synth keygen pseudonymise init load analyse risk simulate report; do
	if ! "$YOC" help "$v" >/dev/null 2>&1; then
		skip "simulate" "yoc $v not built"; done_testing; exit 0
	fi
done
if ! command -v python3 >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then
	skip "simulate" "python3 or the sqlite3 CLI missing"; done_testing; exit 0
fi
export YOC_DATA="${YOC_DATA:-$YOC_ROOT/data}"
SC="$YOC_ROOT/data/scenarios"
cd "$TMP" || exit 1

# scenario files: errors by line and field
printf '{"format": "yoc-scenario-1",\n "name": "x",\n "cohorts": ["0-0.5"],\n "effects": {"gp": 1.1,\n   "acute": 0.9, "dentist": 2}}\n' > bad1.json
expect_rc 1 "unknown settings: error" "$YOC" simulate --check bad1.json
grep -q "bad1.json:5: effects.acute: unknown setting(s): acute, dentist" "$TMP/.err"; same "... at line 5, every unknown setting listed" "$?" 0
printf '{"format": "yoc-scenario-1", "name": "x", "cohorts": ["0-0.5"],\n "workforce": {\n  "surgeon": {"contacts_per_person": 3}, "porter": {"contacts_per_person": 1}}}\n' > bad2.json
expect_rc 1 "unknown staff groups: error" "$YOC" simulate --check bad2.json
grep -q "bad2.json:3: workforce.surgeon: unknown staff group(s): surgeon, porter" "$TMP/.err"; same "... at line 3, both listed" "$?" 0
printf '{"format": "yoc-scenario-1",\n "name": "x",\n "cohorts": ["0-0.5"],\n "uptake": {"low": 0.9, "high": 0.2}}\n' > bad3.json
expect_rc 1 "a range upside down" "$YOC" simulate --check bad3.json
grep -q "bad3.json:4: uptake: low 0.9 is above high 0.2" "$TMP/.err"; same "... names line and field" "$?" 0
printf '{"format": "yoc-scenario-1",\n "name": "x",,\n}\n' > bad4.json
expect_rc 1 "JSON syntax error" "$YOC" simulate --check bad4.json
grep -q "bad4.json:2:" "$TMP/.err"; same "... at its line" "$?" 0
for f in "$SC"/*.json; do
	expect_rc 0 "shipped scenario $(basename "$f") is valid" "$YOC" simulate --check "$f"
done
if python3 -c "import jsonschema" 2>/dev/null; then
	python3 - "$YOC_ROOT/data/scenario.schema.json" "$SC"/*.json bad1.json > schema.out 2>&1 <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
for f in sys.argv[2:]:
    try:
        jsonschema.validate(json.load(open(f)), schema); print(f.split('/')[-1], "valid")
    except jsonschema.ValidationError:
        print(f.split('/')[-1], "invalid")
PY
	same "the JSON Schema accepts the shipped scenarios" "$(grep -c 'json valid' schema.out)" "$(ls "$SC"/*.json | wc -l)"
	grep -q "bad1.json invalid" schema.out; same "... and rejects the unknown setting" "$?" 0
else
	skip "JSON Schema" "python3-jsonschema missing"
fi

# a fixed key: the pseudonyms, hence every person's draws, are the same
# on every run of the suite, so the validation below is a fixed economy's
(umask 077; printf '5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed\n' > K)
"$YOC" synth --persons 4000 --out S >/dev/null 2>&1 &&
	"$YOC" pseudonymise --key K --in S/feeds --out P --optout S/optout.csv >/dev/null 2>&1 &&
	"$YOC" init D >/dev/null 2>&1 && "$YOC" load --db D P >/dev/null 2>&1 &&
	"$YOC" analyse --db D >/dev/null 2>&1 &&
	"$YOC" risk fit --db D --year 2021/22 --min-events-per-term 5 >/dev/null 2>&1 &&
	"$YOC" risk score --db D --year 2022/23 >/dev/null 2>&1
same "synthetic economy analysed and scored" "$?" 0
q() { sqlite3 D/yoc.db "$1"; }

expect_rc 1 "a year without risk scores: error" "$YOC" simulate --db D --scenario "$SC/top2_integrated.json" --base-year 2023/24
grep -q "risk score --year 2023/24" "$TMP/.err"; same "... saying what to run" "$?" 0
printf '{"format": "yoc-scenario-1", "name": "y", "cohorts": ["0-3"]}\n' > nocoh.json
expect_rc 1 "a cohort the run does not have: error" "$YOC" simulate --db D --scenario nocoh.json --runs 2
grep -q "'0-3' is not a cohort of this run" "$TMP/.err"; same "... naming it" "$?" 0

R="--runs 12 --seed 5"
expect_rc 0 "simulate the top 2%" "$YOC" simulate --db D --scenario "$SC/top2_integrated.json" $R --csv a.csv --threads 1
expect_rc 0 "... again with 2 threads" "$YOC" simulate --db D --scenario "$SC/top2_integrated.json" $R --csv b.csv --threads 2 --no-store
cmp -s a.csv b.csv; same "same seed: the same CSV whatever the threads" "$?" 0
expect_rc 0 "... another seed" "$YOC" simulate --db D --scenario "$SC/top2_integrated.json" --runs 12 --seed 6 --csv c.csv --no-store
cmp -s a.csv c.csv; same "another seed: other figures" "$?" 1

printf '{"format": "yoc-scenario-1", "name": "none", "cohorts": ["0-0.5", "0.5-2"], "uptake": 0.8}\n' > none.json
expect_rc 0 "a scenario that changes nothing" "$YOC" simulate --db D --scenario none.json $R --csv n.csv --no-store
python3 - a.csv n.csv > nc.out <<'PY'
import csv, sys
def rows(f):
    return {(r['cohort'], r['year'], r['measure'], r['arm']): r for r in csv.DictReader(open(f))}
a, n = rows(sys.argv[1]), rows(sys.argv[2])
bad = sum(1 for k, r in n.items() if r['arm'] == 'scenario' and
          any(r[c] != n[(k[0], k[1], k[2], 'baseline')][c] for c in ('mean', 'p5', 'p50', 'p95')))
same_base = sum(1 for k, r in n.items() if r['arm'] == 'baseline' and k in a and
                all(r[c] == a[k][c] for c in ('mean', 'p5', 'p95')))
nbase = sum(1 for k in n if k[3] == 'baseline')
print(bad, same_base == nbase)
PY
same "no change: every scenario figure equals the baseline's exactly; baseline as in the scenario run (CRN)" "$(cat nc.out)" "0 True"

# the stored figures against SQL over person_year and risk_score
same "sim_run persons = alive at the end of the base year with a score" \
	"$(q "SELECT persons FROM sim_run WHERE scenario = 'Integrated care team for the top 2%'")" \
	"$(q "SELECT count(*) FROM person_year p JOIN risk_score r USING (pseudo_id, fyear) WHERE p.fyear = '2022/23' AND p.died = 0")"
obs=$(q "SELECT printf('%.2f', observed) FROM sim_table3 WHERE scenario = 'Integrated care team for the top 2%' AND cohort = '0.5-2' AND year = 1 AND measure = 'mean_cost' AND arm = 'baseline'")
sql=$(q "WITH n AS (SELECT count(*) AS n FROM risk_score WHERE fyear = '2022/23')
	SELECT printf('%.2f', avg(b.cost_total) / 100.0) FROM person_year a JOIN risk_score r USING (pseudo_id, fyear)
	JOIN person_year b ON b.pseudo_id = a.pseudo_id AND b.fyear = '2023/24', n
	WHERE a.fyear = '2022/23' AND a.died = 0 AND r.rank > n.n * 0.5 / 100 AND r.rank <= n.n * 2 / 100")
same "observed next-year mean cost of the 0.5-2% cohort = SQL" "$obs" "$sql"
# validation: the year-1 baseline mean cost within its 90% interval of the
# dataset's observed next year (stored beside it, checked against SQL above
# for one cohort), for the cohorts of 100 people or more at this size (the
# top two have 20 and 60; docs/simulation.md gives the full-size figures)
expect_rc 0 "validation run: 60 runs, stored" "$YOC" simulate --db D --scenario "$SC/top2_integrated.json" --runs 60 --seed 5
same "year-1 baseline mean cost within the 90% interval of the observed next year (2-5, 5-10, 10-100)" \
	"$(q "SELECT count(*) FROM sim_table3 WHERE scenario LIKE 'Integrated%' AND year = 1 AND measure = 'mean_cost'
	AND arm = 'baseline' AND cohort IN ('2-5', '5-10', '10-100') AND observed BETWEEN p5 AND p95")" 3
# the period effect's spread: the log change in cost per person-year of the
# eleven settings from 2021/22 to 2022/23, the one pair learned from
sd=$(sed -n 's/^  period effect: sd \([0-9.]*\).*/\1/p' "$TMP/.out")
sqlsd=$(q "WITH l AS (SELECT fyear, avg(cost_elective + cost_emergency + cost_other_nonelective + cost_daycase
	+ cost_outpatient + cost_ae + cost_community + cost_mh + cost_gp + cost_social_care + cost_ambulance) AS m
	FROM person_year GROUP BY fyear)
	SELECT (SELECT m FROM l WHERE fyear = '2022/23') / (SELECT m FROM l WHERE fyear = '2021/22')")
same "period effect sd = |log| of the year-on-year change in cost per person (SQL)" \
	"$(python3 -c "import math; print('%.4f' % abs(math.log($sqlsd)))")" "$sd"
same "total budget = mean cost per person x people, year 1, run means (within 2%)" \
	"$(q "SELECT abs(t.mean - m.mean * p.mean) / t.mean < 0.02 FROM sim_table3 t, sim_table3 m, sim_table3 p
	WHERE t.scenario = m.scenario AND m.scenario = p.scenario AND t.cohort = '10-100' AND m.cohort = t.cohort AND p.cohort = t.cohort
	AND t.year = 1 AND m.year = 1 AND p.year = 1 AND t.measure = 'total_cost' AND t.arm = 'baseline'
	AND m.measure = 'mean_cost' AND m.arm = 'baseline' AND p.measure = 'people' AND t.scenario LIKE 'Integrated%'")" 1
same "waterfall factors sum to the change of the offered cohorts (within 0.1%)" \
	"$(q "SELECT abs((SELECT sum(mean) FROM sim_waterfall WHERE scenario LIKE 'Integrated%') -
	(SELECT sum(mean) * 3 FROM sim_table3 WHERE scenario LIKE 'Integrated%' AND offered = 1 AND year = 0 AND measure = 'total_cost' AND arm = 'difference'))
	<= 0.001 * abs((SELECT sum(mean) FROM sim_waterfall WHERE scenario LIKE 'Integrated%'))")" 1

expect_rc 0 "--compare the two shipped scenarios" "$YOC" simulate --db D --compare "$SC/top2_integrated.json" "$SC/relaxed_top10.json" --runs 8 --no-store
grep -q "^Compare (same draws)" "$TMP/.out"; same "... prints the comparison" "$?" 0
expect_rc 0 "report with the simulation" "$YOC" report --db D --out rep
grep -q "Table 3: Integrated care team for the top 2%" rep/sim.html; same "the Simulation page has the Table 3 view" "$?" 0
test -f rep/csv/sim_table3_0.csv; same "... and its CSV" "$?" 0
done_testing

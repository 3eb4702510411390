#!/bin/sh
# yoc simulate against a synthetic pilot's truth (docs/simulation.md, "Against
# the truth"): a world of 20,000 persons x 4 years with the default pilot
# (data/pilot_default.txt), pseudonymised with a fixed key, loaded and
# analysed; the enrolled cohort simulated with data/scenarios/pilot_default.json
# (the pilot's multipliers and service cost). The true change of 2023/24
# (the pilot run minus the same seed without it) is computed here from
# truth/pilot.csv alone and must lie inside the simulation's 90% interval
# for emergency admissions, total cost, community and GP cost; a scenario
# that changes nothing reproduces the baseline exactly.
. "$(dirname "$0")/lib.sh"
for v in synth pseudonymise init load analyse simulate report; do
	if ! "$YOC" help "$v" >/dev/null 2>&1; then
		skip "simulate against a pilot" "yoc $v not built"; done_testing; exit 0
	fi
done
if ! command -v python3 >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then
	skip "simulate against a pilot" "python3 or the sqlite3 CLI missing"; done_testing; exit 0
fi
export YOC_DATA="${YOC_DATA:-$YOC_ROOT/data}"
SCN="$YOC_ROOT/data/scenarios/pilot_default.json"
cd "$TMP" || exit 1

# a fixed key: the pseudonyms, hence every person's draws, are the same on
# every run of the suite
(umask 077; printf '5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed\n' > K)
"$YOC" synth --persons 20000 --years 4 --pilot "$YOC_ROOT/data/pilot_default.txt" --out S >/dev/null 2>&1 &&
	"$YOC" pseudonymise --key K --in S/feeds --out P --optout S/optout.csv >/dev/null 2>&1 &&
	"$YOC" init D >/dev/null 2>&1 && "$YOC" load --db D P >/dev/null 2>&1 &&
	"$YOC" analyse --db D >/dev/null 2>&1
same "synthetic world with the default pilot, 4 years, analysed" "$?" 0
q() { sqlite3 D/yoc.db "$1"; }

# usage and the scenario's cohort
expect_rc 2 "--truth without --key: usage error" "$YOC" simulate --db D --scenario "$SCN" --truth S
expect_rc 2 "--enrolled without --base-year: usage error" "$YOC" simulate --db D --scenario "$SCN" --enrolled x.csv
printf '{"format": "yoc-scenario-1",\n "name": "r",\n "rule": "ltc_count >= 3"}\n' > rule.json
expect_rc 1 "a scenario by rule on an enrolled cohort: error" "$YOC" simulate --db D --scenario rule.json --truth S --key K --runs 2
grep -q "rule.json: a scenario by rule cannot run on an enrolled cohort" "$TMP/.err"; same "... naming the file" "$?" 0
printf '{"format": "yoc-scenario-1",\n "name": "c",\n "cohorts": ["0-0.5"]}\n' > coh.json
expect_rc 1 "a risk cohort on an enrolled cohort: error" "$YOC" simulate --db D --scenario coh.json --truth S --key K --runs 2
grep -q "'0-0.5' is not a cohort of this run (cohorts: enrolled)" "$TMP/.err"; same "... listing the run's cohort" "$?" 0

R="--runs 200 --seed 1"
expect_rc 0 "simulate the pilot's service on its enrolled cohort" "$YOC" simulate --db D --scenario "$SCN" --truth S --key K $R --csv a.csv
cp "$TMP/.out" sim.out
grep -q "2024/25 left out of the comparison with the truth" sim.out; same "the window's last year, cut at its end, is left out" "$?" 0

# the truth, independently: enrolled people of truth/pilot.csv less those
# who opted out (they are not in the dataset), 2023/24, with minus without
python3 - S/truth/pilot.csv S/optout.csv > truth.out <<'PY'
import csv, sys
opt = {l.strip() for l in open(sys.argv[2])}
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r['fyear'] == '2023/24' and r['nhs_number'] not in opt]
n = len(rows)
d = lambda k: sum(float(r[k + '_with']) - float(r[k + '_without']) for r in rows) / n
print(n)
print('emergency_admissions %.6f' % d('emergency_admissions'))
print('total_cost %.6f' % (d('cost_total') + sum(float(r['service_cost']) for r in rows) / n))
print('cost_community %.6f' % d('cost_community'))
print('cost_gp %.6f' % d('cost_gp'))
PY
n=$(sed -n 1p truth.out)
same "people simulated = enrolled less opted out (sim_enrolled)" \
	"$(q "SELECT count(*) FROM sim_enrolled WHERE scenario LIKE 'Case management%' AND status = 'simulated'")" "$n"
same "... and sim_truth's people" "$(q "SELECT DISTINCT people FROM sim_truth WHERE scenario LIKE 'Case management%'")" "$n"
same "the opted-out enrolled: no row in the base year" \
	"$(q "SELECT count(*) FROM sim_enrolled WHERE status = 'no row in the base year'")" \
	"$(($(tail -n +2 S/truth/pilot.csv | cut -d, -f4 | grep -c 2023/24) - n))"
for m in emergency_admissions total_cost cost_community cost_gp; do
	t=$(sed -n "s/^$m //p" truth.out)
	same "$m: stored truth = truth/pilot.csv recomputed" \
		"$(q "SELECT abs(truth - ($t)) < 1e-6 FROM sim_truth WHERE measure = '$m'")" 1
	iv=$(q "SELECT printf('%.4f (%.4f .. %.4f)', mean, p5, p95) FROM sim_truth WHERE measure = '$m'")
	same "$m: the true change $t inside the simulated 90% interval $iv" \
		"$(python3 -c "import sys; lo, hi = [float(x) for x in sys.argv[2:]]; print(int(lo <= float(sys.argv[1]) <= hi))" \
		"$t" $(q "SELECT p5, p95 FROM sim_truth WHERE measure = '$m'" | tr '|' ' '))" 1
done
same "the simulated change in emergency admissions is a fall" \
	"$(q "SELECT p95 < 0 FROM sim_truth WHERE measure = 'emergency_admissions'")" 1
# the change from the CSV's own figures: year 1, scenario - baseline over the people
same "sim_truth's emergency admissions = CSV year 1 (scenario - baseline) / people" \
	"$(python3 - a.csv "$n" <<'PY'
import csv, sys
r = {(x['cohort'], x['year'], x['measure'], x['arm']): float(x['mean']) for x in csv.DictReader(open(sys.argv[1]))}
k = ('enrolled', '1', 'emergency_admissions')
print('%.4f' % ((r[k + ('scenario',)] - r[k + ('baseline',)]) / int(sys.argv[2])))
PY
)" "$(q "SELECT printf('%.4f', mean) FROM sim_truth WHERE measure = 'emergency_admissions'")"

# a scenario that changes nothing reproduces the baseline exactly
printf '{"format": "yoc-scenario-1", "name": "none", "cohorts": ["enrolled"], "uptake": 1}\n' > none.json
expect_rc 0 "a scenario that changes nothing, same seed" "$YOC" simulate --db D --scenario none.json --truth S --key K $R --csv n.csv --no-store
python3 - a.csv n.csv > nc.out <<'PY'
import csv, sys
def rows(f):
    return {(r['cohort'], r['year'], r['measure'], r['arm']): r for r in csv.DictReader(open(f))}
a, n = rows(sys.argv[1]), rows(sys.argv[2])
bad = sum(1 for k, r in n.items() if r['arm'] == 'scenario' and
          any(r[c] != n[(k[0], k[1], k[2], 'baseline')][c] for c in ('mean', 'p5', 'p50', 'p95')))
same_base = all(r[c] == a[k][c] for k, r in n.items() if r['arm'] == 'baseline' and k in a
                for c in ('mean', 'p5', 'p95'))
print(bad, same_base, sum(1 for k in n if k[3] == 'baseline') > 20)
PY
same "no change: every scenario figure equals the baseline's, and the baseline the pilot run's" "$(cat nc.out)" "0 True True"

# --enrolled FILE: the same people from a list give the same figures
q "SELECT pseudo_id FROM sim_enrolled WHERE scenario LIKE 'Case management%'" | sed '1i pseudo_id' > enrolled.csv
expect_rc 0 "--enrolled FILE --base-year 2022/23" "$YOC" simulate --db D --scenario "$SCN" --enrolled enrolled.csv --base-year 2022/23 $R --csv e.csv --no-store
cmp -s a.csv e.csv; same "... the same CSV as --truth" "$?" 0

# a three-year world: the truth's only year is the window's last, cut at its end
"$YOC" synth --persons 3000 --pilot "$YOC_ROOT/data/pilot_default.txt" --out S3 >/dev/null 2>&1 &&
	"$YOC" pseudonymise --key K --in S3/feeds --out P3 --optout S3/optout.csv >/dev/null 2>&1 &&
	"$YOC" init D3 >/dev/null 2>&1 && "$YOC" load --db D3 P3 >/dev/null 2>&1 &&
	"$YOC" analyse --db D3 >/dev/null 2>&1
same "a three-year world with the pilot" "$?" 0
expect_rc 1 "... its truth has only the cut year: error" "$YOC" simulate --db D3 --scenario "$SCN" --truth S3 --key K --runs 2 --no-store
grep -q "S3/truth/pilot.csv: its only year after the base year, 2023/24, is the last of the dataset" "$TMP/.err"; same "... naming the file and the year" "$?" 0

expect_rc 0 "report with the comparison" "$YOC" report --db D --out rep
grep -q "Against the truth" rep/sim.html; same "the Simulation page shows the comparison with the truth" "$?" 0
done_testing

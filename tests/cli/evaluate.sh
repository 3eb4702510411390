#!/bin/sh
# A synthetic pilot with a known effect, and yoc evaluate --db on it
# (docs/synth.md "A pilot", docs/evaluation.md). Checked independently:
# without a pilot (or with one that changes nothing) synth writes the same
# bytes; with a pilot, only enrolled people's rows from their enrolment on
# differ, and truth/pilot.csv's "without" and "with" columns are the two
# runs' own truth; the evaluation's difference in differences is recomputed
# in python3 from eval_pairs and person_year (sqlite3); its 95% CI covers the
# truth's effect on emergency admissions and on total cost while the naive
# before/after estimate is far off; bad inputs are named with counts; the
# report gains the Evaluation page only when there is an evaluation.
. "$(dirname "$0")/lib.sh"
for v in synth keygen pseudonymise init load analyse evaluate report; do
	if ! "$YOC" help "$v" >/dev/null 2>&1; then
		skip "evaluate" "yoc $v not built"; done_testing; exit 0
	fi
done
if ! command -v python3 >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then
	skip "evaluate" "python3 or the sqlite3 CLI missing"; done_testing; exit 0
fi
export YOC_DATA="${YOC_DATA:-$YOC_ROOT/data}"
cd "$TMP" || exit 1
N=20000
sed 's/^practices = .*/practices = P90001, P90002/' "$YOC_DATA/pilot_default.txt" > pilot.txt
sed -e 's/^effect\.[a-z]* = .*//' pilot.txt > null_pilot.txt

"$YOC" synth --persons $N --clean --out A >/dev/null 2>&1
"$YOC" synth --persons $N --clean --pilot null_pilot.txt --out Z > z.out 2>&1
same "a pilot that changes nothing: synth runs" "$?" 0
check "... and enrols people" grep -q "pilot: [0-9]* people eligible, [1-9][0-9]* enrolled" z.out
rm Z/truth/pilot.csv
check "... and writes the same bytes as no pilot" diff -r A Z
"$YOC" synth --persons $N --clean --pilot pilot.txt --out P > p.out 2>&1
same "synth --pilot runs" "$?" 0

check "only enrolled people's truth differs, and only from the start; pilot.csv holds both runs' truth" python3 - <<'PEOF'
import csv, sys
def rows(d):
    return {(r['nhs_number'], r['fyear']): r for r in csv.DictReader(open(d + '/truth/person_year.csv'))}
a, p = rows('A'), rows('P')
pil = list(csv.DictReader(open('P/truth/pilot.csv')))
enr = {r['nhs_number'] for r in pil}
bad = 0
assert a.keys() == p.keys() and len(enr) > 50
for k in a:
    if a[k] != p[k] and not (k[0] in enr and k[1] >= '2023/24'):
        bad += 1
changed = sum(a[k] != p[k] for k in a)
for r in pil:
    k = (r['nhs_number'], r['fyear'])
    for col in ('emergency_admissions', 'emergency_bed_days', 'bed_days'):
        bad += int(r[col + '_without']) != int(a[k][col]) or int(r[col + '_with']) != int(p[k][col])
    for col in ('cost_total', 'cost_nonelective', 'cost_ae', 'cost_community', 'cost_gp'):
        bad += abs(float(r[col + '_without']) - float(a[k][col])) > 0.005
        bad += abs(float(r[col + '_with']) - float(p[k][col])) > 0.005
print('changed person-years', changed, 'bad', bad)
sys.exit(bad or changed == 0)
PEOF

check "feed rows differ only for enrolled people, dated from the start" python3 - <<'PEOF'
import csv, os, re, sys
enr = {r['nhs_number'] for r in csv.DictReader(open('P/truth/pilot.csv'))}
def rows(d):
    out = set()
    for root, _, files in os.walk(d + '/feeds'):
        for f in files:
            for line in open(os.path.join(root, f)):
                out.add((f, line))
    return out
a, p = rows('A'), rows('P')
bad = 0
for f, line in a ^ p:
    nhs = line.split(',')[0]
    dates = re.findall(r'\d{4}-\d{2}-\d{2}', line)
    if nhs not in enr or not dates or max(dates) < '2023-04-01':
        bad += 1
print('rows that differ', len(a ^ p), 'not explained', bad)
sys.exit(bad or not (a ^ p))
PEOF

# the dataset: pseudonymised, loaded and analysed (defects included)
"$YOC" synth --persons $N --pilot pilot.txt --out S >/dev/null 2>&1 &&
	"$YOC" keygen --out K >/dev/null 2>&1 &&
	"$YOC" pseudonymise --key K --in S/feeds --out Q --optout S/optout.csv >/dev/null 2>&1 &&
	"$YOC" init D >/dev/null 2>&1 && "$YOC" load --db D Q >/dev/null 2>&1 &&
	"$YOC" analyse --db D >/dev/null 2>&1
same "synthetic economy with the pilot analysed" "$?" 0
"$YOC" report --db D --out R0 >/dev/null 2>&1
check "no evaluation yet: no Evaluation page and no link to it" \
	sh -c '! test -e R0/evaluation.html && ! grep -q evaluation.html R0/index.html'

EV="--exact emergency_admissions,ltc_count --other-practices"
"$YOC" evaluate --db D --truth S --key K $EV > ev.txt 2> ev.err
same "evaluate --db --truth --key runs" "$?" 0
q() { sqlite3 D/yoc.db "$1"; }
check "the counts of people at each step are printed" grep -q "treated list: [0-9]* people; left out: [0-9]* not in the dataset" ev.txt
same "eval_pairs holds every matched set" "$(q "select count(distinct set_id) from eval_pairs")" \
	"$(q "select value from eval_run where key='matched_treated'")"
check "no control is used twice (matching without replacement)" \
	test "$(q "select count(*) - count(distinct control) from eval_pairs")" = 0

cat > did.py <<'PEOF'
import sqlite3, sys
db = sqlite3.connect('D/yoc.db')
def year(fy, col):
    return dict(db.execute(f'select pseudo_id, {col} from person_year where fyear = ?', (fy,)))
bad = 0
for col, scale in (('emergency_admissions', 1), ('cost_total', 100), ('emergency_bed_days', 1)):
    pre, post = year('2022/23', col), year('2023/24', col)
    sets = {}
    for s, t, c in db.execute('select set_id, treated, control from eval_pairs'):
        sets.setdefault(s, (t, []))[1].append(c)
    d = [(post.get(t, 0) - pre[t]) - sum(post.get(c, 0) - pre[c] for c in cs) / len(cs)
         for t, cs in sets.values()]
    want = sum(d) / len(d) / scale
    got = db.execute('select did from eval_outcome where outcome = ?', (col,)).fetchone()[0]
    print(col, got, want)
    bad += abs(got - want) > 1e-6 * max(1, abs(want))
sys.exit(bad)
PEOF
check "the matched DiD of each outcome recomputed from eval_pairs and person_year" python3 did.py

check "the matched DiD's 95% CI covers the truth for emergency admissions and total cost" python3 - <<'PEOF'
import sqlite3, sys
db = sqlite3.connect('D/yoc.db')
bad = 0
for col in ('emergency_admissions', 'cost_total'):
    did, lo, hi, naive, nlo, nhi, truth = db.execute(
        'select did, did_lo, did_hi, naive, naive_lo, naive_hi, truth from eval_outcome '
        'where outcome = ?', (col,)).fetchone()
    print(col, 'truth', truth, 'DiD', did, (lo, hi), 'naive', naive, (nlo, nhi))
    bad += not (lo <= truth <= hi)
    bad += nlo <= truth <= nhi          # the naive estimate is biased ...
    bad += abs(naive - truth) < 3 * abs(did - truth)  # ... and visibly so
sys.exit(bad)
PEOF

"$YOC" evaluate --db D --truth S --key K $EV --boot 200 --seed 9 >/dev/null 2>&1
a=$(q "select did_lo, did_hi from eval_outcome")
"$YOC" evaluate --db D --truth S --key K $EV --boot 200 --seed 9 >/dev/null 2>&1
b=$(q "select did_lo, did_hi from eval_outcome")
same "the bootstrap CI is the same with the same seed" "$a" "$b"

"$YOC" report --db D --out R1 >/dev/null 2>&1
check "the report gains the Evaluation page" test -s R1/evaluation.html
check "... linked from the overview" grep -q 'href="evaluation.html"' R1/index.html
check "... with its tables as CSV" test -s R1/csv/evaluation_outcomes.csv
check "... and the love plot and trend charts" test "$(grep -o '<svg' R1/evaluation.html | wc -l)" -ge 3
check "... naming the method" grep -q "greedy nearest neighbour" R1/evaluation.html

# optimal pair matching through the dataset: recorded, reported, never farther than nearest
dist() { q "select printf('%.17g', sum(abs(score_treated - score_control))) from eval_pairs"; }
dn=$(dist)
"$YOC" evaluate --db D --truth S --key K $EV --boot 200 --method optimal > evo.txt 2>&1
same "evaluate --db --method optimal runs" "$?" 0
same "eval_run records the method" "$(q "select value from eval_run where key='method'")" optimal
do=$(dist)
check "optimal's total score distance ($do) is at most nearest's ($dn)" \
	python3 -c "import sys; sys.exit(not float('$do') <= float('$dn'))"
check "... as printed (to 1e-9)" python3 -c "
import sys
got = [l.split(': ')[1] for l in open('evo.txt') if l.startswith('total distance: ')]
sys.exit(len(got) != 1 or abs(float(got[0]) - float('$do')) > 1e-9)"
check "no control is used twice in the optimal sets" \
	test "$(q "select count(*) - count(distinct control) from eval_pairs")" = 0
check "every optimal pair within its exact strata" test "$(q "select count(*) from eval_pairs e
	join person_year t on t.pseudo_id = e.treated and t.fyear = '2022/23'
	join person_year c on c.pseudo_id = e.control and c.fyear = '2022/23'
	where t.emergency_admissions != c.emergency_admissions or t.ltc_count != c.ltc_count")" = 0
check "the matched DiD on the optimal sets recomputed from eval_pairs and person_year" python3 did.py
"$YOC" report --db D --out R2 >/dev/null 2>&1
check "the report names optimal pair matching" grep -q "optimal pair matching" R2/evaluation.html

# balance recomputed independently, on a treated list given as a file
q "select 'pseudo_id' union all select * from (select distinct treated from eval_pairs order by 1)" > tl2.csv
"$YOC" evaluate --db D --treated tl2.csv --start 2023-04-01 --other-practices >/dev/null 2>&1
check "SMD and variance ratio before matching recomputed from person_year" python3 - <<'PEOF'
import csv, sqlite3, sys, statistics
db = sqlite3.connect('D/yoc.db')
listed = {r['pseudo_id'] for r in csv.DictReader(open('tl2.csv'))}
rows = db.execute("select pseudo_id, age, ltc_count from person_year "
                  "where fyear = '2022/23' and died = 0").fetchall()
bad = 0
for k, col in ((1, 'age'), (2, 'ltc_count')):
    ta = [r[k] for r in rows if r[0] in listed]
    ca = [r[k] for r in rows if r[0] not in listed]
    smd = (statistics.mean(ta) - statistics.mean(ca)) / statistics.stdev(ta)
    vr = statistics.variance(ta) / statistics.variance(ca)
    got = db.execute("select smd_before, vr_before from eval_balance where covariate = ?",
                     (col,)).fetchone()
    print(col, got, smd, vr)
    bad += abs(got[0] - smd) > 1e-9 or abs(got[1] - vr) > 1e-9
sys.exit(bad)
PEOF

# the risk score as a covariate: refused while the baseline year has no scores,
# then part of the default set; its SMD recomputed from risk_score
expect_rc 1 "the risk score as a covariate needs the baseline year's scores" \
	"$YOC" evaluate --db D --treated tl2.csv --start 2023-04-01 --covariates age,risk_score
check "... and says how to make them" grep -q "no risk scores of 2022/23.*yoc risk score" "$TMP/.err"
"$YOC" risk fit --db D --year 2022/23 >/dev/null 2>&1 && "$YOC" risk score --db D --year 2022/23 >/dev/null 2>&1
same "risk model fitted and 2022/23 scored" "$?" 0
"$YOC" evaluate --db D --treated tl2.csv --start 2023-04-01 --other-practices >/dev/null 2>&1
same "evaluate with the default covariates and risk scores runs" "$?" 0
check "the default covariates gain risk_score, its SMD recomputed from risk_score" python3 - <<'PEOF'
import csv, sqlite3, sys, statistics
db = sqlite3.connect('D/yoc.db')
listed = {r['pseudo_id'] for r in csv.DictReader(open('tl2.csv'))}
rows = db.execute("select p.pseudo_id, r.probability from person_year p join risk_score r "
                  "on r.pseudo_id = p.pseudo_id and r.fyear = p.fyear "
                  "where p.fyear = '2022/23' and p.died = 0").fetchall()
ta = [r[1] for r in rows if r[0] in listed]
ca = [r[1] for r in rows if r[0] not in listed]
smd = (statistics.mean(ta) - statistics.mean(ca)) / statistics.stdev(ta)
got = db.execute("select smd_before from eval_balance where covariate = 'risk_score'").fetchone()
print(got, smd, len(ta), len(ca))
sys.exit(got is None or abs(got[0] - smd) > 1e-9)
PEOF

# bad inputs: named, with counts
q "select pseudo_id from person_year where fyear = '2023/24' and pseudo_id not in (select pseudo_id from person_year where fyear = '2022/23') limit 3" > late.csv
printf 'pseudo_id\nnot-a-person\n' > tl.csv
cat late.csv >> tl.csv
q "select distinct treated from eval_pairs limit 40" >> tl.csv
"$YOC" evaluate --db D --treated tl.csv --start 2023-04-01 > bad.txt 2>&1
check "people not in the dataset and with no baseline year are counted" \
	grep -q "left out: 1 not in the dataset, $(wc -l < late.csv) with no baseline year" bad.txt
expect_rc 1 "a caliper that drops everyone fails" "$YOC" evaluate --db D --treated tl.csv --start 2023-04-01 --caliper 0.00000001
check "... with the numbers dropped" grep -q "beyond the caliper" "$TMP/.err"
expect_rc 1 "a start whose baseline year is not in the dataset fails" "$YOC" evaluate --db D --treated tl.csv --start 2021-04-01
check "... saying which year is missing" grep -q "no person_year rows in 2020/21" "$TMP/.err"
expect_rc 2 "--db without --start or a truth is a usage error" "$YOC" evaluate --db D --treated tl.csv
expect_rc 1 "an unknown covariate is named" "$YOC" evaluate --db D --treated tl.csv --start 2023-04-01 --covariates age,nope
check "... by name" grep -q "covariate nope: no such column" "$TMP/.err"
printf 'pseudo_id\nnobody\n' > none.csv
expect_rc 1 "a treated list with nobody in the dataset fails" "$YOC" evaluate --db D --treated none.csv --start 2023-04-01
check "... clearly" grep -q "no treated person can be evaluated" "$TMP/.err"
done_testing

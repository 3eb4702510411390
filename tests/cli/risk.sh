#!/bin/sh
# yoc risk on a synthetic economy of 4,000 persons x 3 years: fit, score and
# validate, checked against independent computations: ranks and tiers
# recomputed in SQL with a window function, the validation AUC recomputed in
# python3 (Mann-Whitney with midranks) from the stored probabilities and the
# outcome taken from person_year of the next year, calibration sums against
# the event count. docs/risk.md.
. "$(dirname "$0")/lib.sh"
for v in synth keygen pseudonymise init load analyse risk; do
	if ! "$YOC" help "$v" >/dev/null 2>&1; then
		skip "risk" "yoc $v not built"; done_testing; exit 0
	fi
done
if ! command -v python3 >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then
	skip "risk" "python3 or the sqlite3 CLI missing"; done_testing; exit 0
fi
export YOC_DATA="${YOC_DATA:-$YOC_ROOT/data}"
cd "$TMP" || exit 1
"$YOC" synth --persons 4000 --out S >/dev/null 2>&1 &&
	"$YOC" keygen --out K >/dev/null 2>&1 &&
	"$YOC" pseudonymise --key K --in S/feeds --out P --optout S/optout.csv >/dev/null 2>&1 &&
	"$YOC" init D >/dev/null 2>&1 && "$YOC" load --db D P >/dev/null 2>&1 &&
	"$YOC" analyse --db D >/dev/null 2>&1
same "synthetic economy analysed (synth, keygen, pseudonymise, init, load, analyse)" "$?" 0
q() { sqlite3 D/yoc.db "$1"; }
EPV="--min-events-per-term 5" # 4,000 persons give ~8 events per term

# usage and data errors
expect_rc 2 "risk without a subcommand: usage error" "$YOC" risk
expect_rc 2 "unknown subcommand" "$YOC" risk fitt --db D
expect_rc 2 "bad --tiers" "$YOC" risk score --db D --tiers 5,2
expect_rc 1 "too few events per term: error" "$YOC" risk fit --db D --min-events-per-term 1000
grep -q "events (outcome 1) for [0-9]* terms" "$TMP/.err"; same "... with the numbers" "$?" 0
expect_rc 1 "the latest year cannot be a training year" "$YOC" risk fit --db D --year 2023/24 $EPV
printf '# version: t\nage_bands\nbogus\nfemale\nnope\n' > bad.txt
expect_rc 1 "unknown feature names: error" "$YOC" risk fit --db D --features bad.txt $EPV
grep -q "bogus, nope" "$TMP/.err"; same "... naming each" "$?" 0

# fit on 2021/22 -> 2022/23, as validate does
expect_rc 0 "risk fit --year 2021/22 --out m.json" "$YOC" risk fit --db D --year 2021/22 $EPV --out m.json
python3 -c 'import json,sys; m=json.load(open("m.json")); assert len(m["terms"])==len(m["coef"])==len(m["se"])>10 and m["train_year"]=="2021/22" and m["features_version"]=="yoc-risk-features-1" and m["codelist_version"]' 2>/dev/null
same "model JSON: terms, coefficients, SEs, versions" "$?" 0
same "model stored in risk_model" "$(q "select count(*), train_year from risk_model")" "1|2021/22"
ev=$(q "select count(*) from person_year a join person_year b on b.pseudo_id = a.pseudo_id and b.fyear = '2022/23' where a.fyear = '2021/22' and a.died = 0 and (b.emergency_admissions > 0 or b.died = 1)")
same "model's events = SQL count of the outcome" "$(python3 -c 'import json; print(json.load(open("m.json"))["events"])')" "$ev"

# score 2022/23 with the catalog's model, then with the JSON file
expect_rc 0 "risk score --year 2022/23" "$YOC" risk score --db D --year 2022/23
same "one row per person-year of the year" "$(q "select count(*), count(distinct pseudo_id) from risk_score where fyear = '2022/23'")" \
	"$(q "select count(*), count(distinct pseudo_id) from person_year where fyear = '2022/23'")"
sum1=$(q "select printf('%.12f', sum(probability)) from risk_score")
expect_rc 0 "risk score --model m.json gives the same" "$YOC" risk score --db D --year 2022/23 --model m.json
same "... probabilities (JSON round trip)" "$(q "select printf('%.12f', sum(probability)) from risk_score")" "$sum1"
bad=$(q "with r as (select *, row_number() over (order by probability desc, pseudo_id) rn, count(*) over () n from risk_score where fyear = '2022/23')
select count(*) from r where rn != rank or abs(percentile - 100.0 * (n - rn) / n) > 1e-9 or tier != case
 when rn <= cast(n * 0.5 / 100 as int) then 'top0.5' when rn <= cast(n * 2 / 100 as int) then '0.5-2'
 when rn <= cast(n * 5 / 100 as int) then '2-5' when rn <= cast(n * 10 / 100 as int) then '5-10'
 when rn <= cast(n * 20 / 100 as int) then '10-20' else 'rest' end")
same "ranks, percentiles and tiers as recomputed in SQL" "$bad" 0
same "tier sizes are the shares of the year" "$(q "select group_concat(c) from (select tier, count(*) c from risk_score group by tier order by min(rank))")" \
	"$(q "select cast(n*0.005 as int)||','||(cast(n*0.02 as int)-cast(n*0.005 as int))||','||(cast(n*0.05 as int)-cast(n*0.02 as int))||','||(cast(n*0.1 as int)-cast(n*0.05 as int))||','||(cast(n*0.2 as int)-cast(n*0.1 as int))||','||(n-cast(n*0.2 as int)) from (select count(*) n from person_year where fyear = '2022/23')")"
same "top3 contributions formatted term:+x.xx" "$(q "select count(*) from risk_score where top3 != '' and top3 not glob '*:+[0-9]*.[0-9][0-9]*'")" 0
expect_rc 0 "risk score --tiers 1,50" "$YOC" risk score --db D --year 2022/23 --tiers 1,50 --model m.json
same "... custom tiers" "$(q "select group_concat(tier) from (select distinct tier from risk_score order by rank)")" "top1,1-50,rest"
"$YOC" risk score --db D --year 2022/23 --model m.json >/dev/null 2>&1

# validation: fit 2021/22 -> 2022/23, evaluate 2022/23 -> 2023/24
"$YOC" risk validate --db D $EPV --json > v.json 2>v.err
same "risk validate --json (exit 0)" "$?" 0
expect_rc 0 "risk validate (text)" "$YOC" risk validate --db D $EPV
q "select s.probability, (n.emergency_admissions > 0 or n.died = 1) from risk_score s
 join person_year a on a.pseudo_id = s.pseudo_id and a.fyear = s.fyear
 join person_year n on n.pseudo_id = s.pseudo_id and n.fyear = '2023/24'
 where s.fyear = '2022/23' and a.died = 0" > py.txt
python3 - v.json py.txt > cmp.txt <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
rows = [l.split("|") for l in open(sys.argv[2]).read().split()]
p = [float(a) for a, b in rows]; y = [int(b) for a, b in rows]
order = sorted(range(len(p)), key=lambda i: p[i]); rank = [0.0] * len(p); i = 0
while i < len(order):
    j = i
    while j + 1 < len(order) and p[order[j + 1]] == p[order[i]]: j += 1
    for k in range(i, j + 1): rank[order[k]] = (i + j) / 2 + 1
    i = j + 1
n1 = sum(y); n0 = len(y) - n1
auc = (sum(r for r, t in zip(rank, y) if t) - n1 * (n1 + 1) / 2) / (n1 * n0)
m = {(r["metric"], r["model"]): r for r in v["metrics"]}
print("n", v["n"] == len(y), "events", v["events"] == n1)
print("auc", abs(m["auc", "model"]["value"] - auc) < 1e-9)
obs = sum(m["decile%02d_observed" % k, "model"]["value"] for k in range(1, 11))
exp = sum(m["decile%02d_expected" % k, "model"]["value"] for k in range(1, 11))
print("calib", obs == n1, abs(exp - sum(p)) < 1e-6)
a, l = m["auc", "model"], m["auc", "ltc_count"]
print("better", a["value"] > l["value"] and a["value"] > 0.6 and a["lo"] < a["value"] < a["hi"])
print("AUC model %.4f (%.4f-%.4f), ltc_count %.4f, cost_total %.4f; n %d, events %d" % (
    a["value"], a["lo"], a["hi"], l["value"], m["auc", "cost_total"]["value"], len(y), n1), file=sys.stderr)
PY
same "validation n and events = rows and outcomes from person_year" "$(sed -n 1p cmp.txt)" "n True events True"
same "validation AUC = rank-based AUC in python3 from risk_score and person_year" "$(sed -n 2p cmp.txt)" "auc True"
same "calibration by decile: observed sums to the events, expected to the risks" "$(sed -n 3p cmp.txt)" "calib True True"
same "model AUC > ltc_count alone and > 0.6" "$(sed -n 4p cmp.txt)" "better True"
same "risk_validation stored: AUC of model and both comparators" "$(q "select group_concat(model) from (select model from risk_validation where metric = 'auc' order by model)")" "cost_total,ltc_count,model,qadmissions"
# defaults: score the latest year with the catalog's model; two years cannot be validated
expect_rc 0 "risk score (latest year, catalog model)" "$YOC" risk score --db D
same "... one row per person-year of 2023/24" "$(q "select count(*) from risk_score where fyear = '2023/24'")" \
	"$(q "select count(*) from person_year where fyear = '2023/24'")"
cp -R D D2 && sqlite3 D2/yoc.db "delete from person_year where fyear = '2021/22'"
expect_rc 1 "validate with two analysed years: error" "$YOC" risk validate --db D2 $EPV
grep -q "needs three analysed years" "$TMP/.err"; same "... saying three years are needed" "$?" 0
done_testing

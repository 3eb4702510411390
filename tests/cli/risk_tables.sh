#!/bin/sh
# yoc synth's true risk (truth/risk.csv) and the tables of yoc risk validate
# and yoc risk summarise, each recomputed independently in python3 from the
# catalog (risk_score, person_year, risk_validation_rows) or the synthetic
# truth; the design matrix refitted with R's glm. docs/risk.md.
. "$(dirname "$0")/lib.sh"
for v in synth keygen pseudonymise init load analyse risk; do
	if ! "$YOC" help "$v" >/dev/null 2>&1; then
		skip "risk tables" "yoc $v not built"; done_testing; exit 0
	fi
done
if ! command -v python3 >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then
	skip "risk tables" "python3 or the sqlite3 CLI missing"; done_testing; exit 0
fi
export YOC_DATA="${YOC_DATA:-$YOC_ROOT/data}"
cd "$TMP" || exit 1
"$YOC" synth --persons 4000 --out S >/dev/null 2>&1 &&
	"$YOC" keygen --out K >/dev/null 2>&1 &&
	"$YOC" pseudonymise --key K --in S/feeds --out P --optout S/optout.csv >/dev/null 2>&1 &&
	"$YOC" init D >/dev/null 2>&1 && "$YOC" load --db D P >/dev/null 2>&1 &&
	"$YOC" analyse --db D >/dev/null 2>&1
same "synthetic economy analysed" "$?" 0
q() { sqlite3 D/yoc.db "$1"; }
EPV="--min-events-per-term 5"

# 1. the oracle: one probability in [0, 1] per truth person-year; its mean per
# year matches the share with an emergency admission within 4 standard errors
# (the variance of a sum of Bernoullis: sum p (1 - p))
python3 - S/truth/person_year.csv S/truth/risk.csv > oracle.txt <<'PY'
import csv, math, sys
o = {}
for r in csv.DictReader(open(sys.argv[2])):
    o[(r["nhs_number"], r["fyear"])] = float(r["p_emergency"])
keys = set(); agg = {}
for r in csv.DictReader(open(sys.argv[1])):
    k = (r["nhs_number"], r["fyear"]); keys.add(k)
    p = o.get(k)
    if p is None: continue
    a = agg.setdefault(r["fyear"], [0, 0.0, 0, 0.0])
    a[0] += 1; a[1] += p; a[2] += int(r["emergency_admissions"]) > 0; a[3] += p * (1 - p)
print("keys", keys == set(o))
print("range", all(0 <= p <= 1 for p in o.values()))
zs = [(a[2] - a[1]) / math.sqrt(a[3]) for a in agg.values()]
print("mean", len(zs) == 3 and all(abs(z) < 4 for z in zs))
for y, a in sorted(agg.items()):
    print("%s: mean oracle %.4f, observed %.4f (z %.2f)" % (y, a[1] / a[0], a[2] / a[0],
          (a[2] - a[1]) / math.sqrt(a[3])), file=sys.stderr)
PY
same "truth/risk.csv: one row per truth person-year" "$(sed -n 1p oracle.txt)" "keys True"
same "... every probability in [0, 1]" "$(sed -n 2p oracle.txt)" "range True"
same "... mean per year = share with an emergency admission (|z| < 4)" "$(sed -n 3p oracle.txt)" "mean True"

# 2. validate with the oracle (pseudonyms through the key) and the model card
expect_rc 1 "validate --truth without the key: pseudonyms do not match, error" \
	"$YOC" risk validate --db D $EPV --truth S
grep -q "no oracle risk for" "$TMP/.err"; same "... saying so" "$?" 0
expect_rc 0 "risk validate --truth S --key K --card card" "$YOC" risk validate --db D $EPV --truth S --key K --card card
q "select pseudo_id, outcome, probability, cost_total, ltc_count, oracle from risk_validation_rows" > rows.txt
q "select metric, model, ifnull(value, ''), ifnull(lo, ''), ifnull(hi, '') from risk_validation" > val.txt
q "select model, point, ifnull(threshold, ''), selected, tp, fp from risk_roc" > roc.txt
q "select r.outcome, r.probability, r.oracle, p.age, p.sex, p.imd_decile from risk_validation_rows r
 join person_year p using (pseudo_id, fyear)" > sub.txt
q "select model, grouping, grp, n, observed, expected, ifnull(oe_lo, ''), ifnull(oe_hi, '') from risk_calibration where grouping != 'decile'" > cal.txt
python3 - > valid.txt <<'PY'
import math, sys
rows = [l.split("|") for l in open("rows.txt").read().split()]
y = [int(r[1]) for r in rows]
score = {"model": [float(r[2]) for r in rows], "cost_total": [float(r[3]) for r in rows],
         "ltc_count": [float(r[4]) for r in rows], "oracle": [float(r[5]) for r in rows]}
val = {}
for l in open("val.txt").read().split("\n"):
    if l:
        f = l.split("|"); val[(f[0], f[1])] = f[2:]
def auc(p):
    order = sorted(range(len(p)), key=lambda i: p[i]); rank = [0.0] * len(p); i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and p[order[j + 1]] == p[order[i]]: j += 1
        for k in range(i, j + 1): rank[order[k]] = (i + j) / 2 + 1
        i = j + 1
    n1 = sum(y); n0 = len(y) - n1
    return (sum(r for r, t in zip(rank, y) if t) - n1 * (n1 + 1) / 2) / (n1 * n0)
def ap(p):  # average precision, tied scores entering together
    o = sorted(range(len(p)), key=lambda i: -p[i]); P = sum(y); tp = 0; prev = 0; s = 0; r = 0
    while r < len(o):
        q = r
        while q < len(o) and p[o[q]] == p[o[r]]: tp += y[o[q]]; q += 1
        s += (tp / P - prev) * tp / q; prev = tp / P; r = q
    return s
ok_auc = all(abs(float(val[("auc", m)][0]) - auc(score[m])) < 1e-9 for m in score)
ok_ap = all(abs(float(val[("auprc", m)][0]) - ap(score[m])) < 1e-9 for m in score)
print("auc", ok_auc, "auprc", ok_ap)
# ROC: point k selects every row scoring at least the score at rank ceil(k n / 100)
n = len(y); bad = 0; npts = {}
for l in open("roc.txt").read().split("\n"):
    if not l: continue
    m, k, t, sel, tp, fp = l.split("|"); k = int(k); npts[m] = npts.get(m, 0) + 1
    s = sorted(score[m], reverse=True)
    if k == 0:
        want = (0, 0)
    else:
        thr = s[max(1, math.ceil(k * n / 100 - 1e-9)) - 1]
        if abs(float(t) - thr) > 0: bad += 1
        want = (sum(1 for v in score[m] if v >= thr), sum(yy for v, yy in zip(score[m], y) if v >= thr))
    if (int(sel), int(tp)) != want or int(fp) != want[0] - want[1]: bad += 1
print("roc", bad == 0 and sorted(npts.items()) == [(m, 101) for m in sorted(score)])
# subgroup calibration: observed and expected by age band, sex, IMD quintile
def band(a):
    if a == "": return "unknown"
    a = int(a)
    return "0-17" if a < 18 else "18-44" if a < 45 else "45-64" if a < 65 else "65-74" if a < 75 else "75-84" if a < 85 else "85+"
g = {}
for l in open("sub.txt").read().split("\n"):
    if not l: continue
    o, p, orc, age, sex, imd = l.split("|")
    keys = [("age_band", band(age)),
            ("sex", "female" if sex in ("2", "F") else "male" if sex in ("1", "M") else "unknown"),
            ("imd_quintile", str((int(imd) + 1) // 2) if imd not in ("", "0") else "unknown")]
    for k in keys:
        a = g.setdefault(k, [0, 0, 0.0, 0.0]); a[0] += 1; a[1] += int(o); a[2] += float(p); a[3] += float(orc)
bad = 0; seen = set()
for l in open("cal.txt").read().split("\n"):
    if not l: continue
    m, gr, grp, cn, ob, ex, lo, hi = l.split("|"); a = g[(gr, grp)]; seen.add((gr, grp))
    want = a[2] if m == "model" else a[3]
    if int(cn) != a[0] or float(ob) != a[1] or abs(float(ex) - want) > 1e-6: bad += 1
    oe = a[1] / want
    if a[1] > 0 and (abs(float(lo) - oe * math.exp(-1.96 / math.sqrt(a[1]))) > 1e-9 or abs(float(hi) - oe * math.exp(1.96 / math.sqrt(a[1]))) > 1e-9): bad += 1
print("calibration", bad == 0 and seen == set(g))
am, ao = float(val[("auc", "model")][0]), float(val[("auc", "oracle")][0])
print("oracle", ao > 0.8 and ao > float(val[("auc", "ltc_count")][0]))
print("AUC model %.4f, oracle %.4f, ltc_count %.4f, cost_total %.4f" % (am, ao,
      float(val[("auc", "ltc_count")][0]), float(val[("auc", "cost_total")][0])), file=sys.stderr)
PY
same "AUC (midranks) and AUPRC of model, comparators and oracle recomputed" "$(sed -n 1p valid.txt)" "auc True auprc True"
same "risk_roc: 101 points a score, recomputed" "$(sed -n 2p valid.txt)" "roc True"
same "risk_calibration by age band, sex, IMD quintile (O, E, O/E CI) recomputed" "$(sed -n 3p valid.txt)" "calibration True"
same "oracle matched through the key: AUC > 0.8 and above ltc_count" "$(sed -n 4p valid.txt)" "oracle True"
python3 -c '
import json
c = json.load(open("card.json"))
assert c["intended_use"] and c["training"]["n"] > 0 and c["evaluation"]["events"] > 0 and c["limits"]
ms = {(p["model"], p["metric"]) for p in c["performance"]}
assert ("model", "auc") in ms and ("oracle", "auc") in ms and ("qadmissions", "auc") in ms
assert any(s["grouping"] == "sex" for s in c["subgroups"])
' 2>/dev/null
same "model card JSON: use, data, performance, comparators, subgroups, limits" "$?" 0
grep -q "^## Intended use" card.md && grep -q "^## Known limits" card.md
same "model card Markdown" "$?" 0
expect_rc 0 "risk card --out c2" "$YOC" risk card --db D --out c2
cmp -s card.json c2.json; same "... the same card" "$?" 0

# 3. the design matrix refitted by R's glm (default control, as the fit): coefficients
# and SEs to 1e-6 relative, also for the separated terms
expect_rc 0 "risk fit --design-out d.csv" "$YOC" risk fit --db D --year 2021/22 $EPV --out m.json --design-out d.csv
same "design: one row per training person-year" "$(($(wc -l < d.csv) - 1))" "$(python3 -c 'import json; print(json.load(open("m.json"))["n"])')"
if command -v Rscript >/dev/null 2>&1; then
	Rscript -e 'd <- read.csv("d.csv", check.names = FALSE)
f <- glm(outcome ~ ., family = binomial, data = d)
s <- summary(f)$coefficients
co <- coef(f); se <- rep(NA, length(co)); se[match(rownames(s), names(co))] <- s[, 2]
write.table(data.frame(co, se), "r.txt", row.names = FALSE, col.names = FALSE, sep = "|")' >/dev/null 2>&1
	python3 - > r.out <<'PY'
import json
m = json.load(open("m.json"))
r = [l.split("|") for l in open("r.txt").read().split("\n") if l]
def close(a, b):
    if a is None or b == "NA": return a is None and b == "NA"
    b = float(b); return abs(a - b) <= 1e-6 * max(abs(b), 1e-8)
print(len(r) == len(m["coef"]) and all(close(c, x[0]) and close(s, x[1]) for c, s, x in zip(m["coef"], m["se"], r)))
PY
	same "R glm on the design: coefficients and SEs equal to 1e-6 relative (NA = dropped)" "$(cat r.out)" "True"
else
	skip "R glm on the design" "Rscript missing"
fi

# 4. summary tables, recomputed from risk_score and person_year
expect_rc 0 "risk summarise (scores every year, then the tables)" "$YOC" risk summarise --db D
same "... every analysed year scored" "$(q "select count(distinct fyear) from risk_score")" 3
q "select s.fyear, s.pseudo_id, s.rank, s.percentile, s.tier, p.cost_total, p.emergency_admissions, p.ltc_count, p.died, ifnull(p.practice, '')
 from risk_score s join person_year p using (pseudo_id, fyear)" > s.txt
q "select fyear, pseudo_id, cost_total from person_year" > py.txt
for t in risk_pyramid risk_crisis risk_rising risk_turnover risk_retention risk_overlap risk_practice; do
	q "select * from $t" > "$t.txt"
done
python3 - > sum.txt <<'PY'
import sys
S = {}; years = set()
for l in open("s.txt").read().split("\n"):
    if not l: continue
    f = l.split("|")
    S[(f[0], f[1])] = dict(fy=f[0], id=f[1], rank=int(f[2]), pct=float(f[3]), tier=f[4], cost=int(f[5]) / 100,
                          ea=int(f[6]), ltc=int(f[7]), died=int(f[8]), prac=f[9])
    years.add(f[0])
PY_ = {}
for l in open("py.txt").read().split("\n"):
    if l:
        f = l.split("|"); PY_[(f[0], f[1])] = int(f[2]) / 100
years = sorted(years)
def nxt(y): return "%d/%02d" % (int(y[:4]) + 1, (int(y[:4]) + 2) % 100)
def prv(y): return "%d/%02d" % (int(y[:4]) - 1, int(y[:4]) % 100)
def rows(t): return [l.split("|") for l in open(t + ".txt").read().split("\n") if l]
def top(n, k): return int(n * k / 100 + 1e-9)
def near(a, b): return abs(float(a) - b) <= 1e-6 * max(1, abs(b))
byy = {y: [r for r in S.values() if r["fy"] == y] for y in years}
res = {}
# pyramid
bad = 0; got = rows("risk_pyramid")
for f in got:
    y, tier = f[0], f[1]; m = [r for r in byy[y] if r["tier"] == tier]
    cost = sum(r["cost"] for r in m); tot = sum(r["cost"] for r in byy[y])
    ea = sum(r["ea"] for r in m); tea = sum(r["ea"] for r in byy[y])
    if int(f[3]) != len(m) or not near(f[4], cost) or not near(f[6], cost / tot) or int(f[7]) != ea or not near(f[8], ea / tea): bad += 1
    if nxt(y) in years:
        ne = sum(S[(nxt(y), r["id"])]["ea"] for r in m if (nxt(y), r["id"]) in S)
        tne = sum(S[(nxt(y), r["id"])]["ea"] for r in byy[y] if (nxt(y), r["id"]) in S)
        if int(f[10]) != ne or not near(f[11], ne / tne): bad += 1
res["pyramid"] = bad == 0 and len(got) == sum(len({r["tier"] for r in byy[y]}) for y in years)
# crisis curve: top 5% by cost (ties by pseudo_id) and by risk rank in t; mean cost of those present
bad = 0; got = rows("risk_crisis"); falls = []
for f in got:
    y, coh, off = f[0], f[1], int(f[3]); n = len(byy[y]); m = top(n, 5)
    ids = [r["id"] for r in sorted(byy[y], key=lambda r: (-r["cost"], r["id"]))[:m]] if coh == "top_cost" \
        else [r["id"] for r in byy[y] if r["rank"] <= m]
    yr = {-1: prv(y), 0: y, 1: nxt(y)}[off]
    c = [PY_[(yr, i)] for i in ids if (yr, i) in PY_]
    if f[4] != yr or int(f[5]) != len(ids) or int(f[6]) != len(c) or not near(f[8], sum(c) / len(c)): bad += 1
cc = {(f[0], f[1], int(f[3])): float(f[8]) for f in got}
falls = [cc[(y, "top_cost", 1)] < cc[(y, "top_cost", 0)] for y in years if (y, "top_cost", 1) in cc]
res["crisis"] = bad == 0 and len(got) == 14
res["crisis_falls"] = len(falls) == 2 and all(falls)
# rising: top 10% in t, below the 80th percentile in t - 1
want = {(y, r["id"]) for y in years for r in byy[y] if r["rank"] <= top(len(byy[y]), 10)
        and (prv(y), r["id"]) in S and S[(prv(y), r["id"])]["pct"] < 80}
res["rising"] = {(f[0], f[1]) for f in rows("risk_rising")} == want and len(rows("risk_rising")) == len(want)
# turnover: tier in t against tier in t + 1, died or left
want = {}
for y in years:
    if nxt(y) not in years: continue
    for r in byy[y]:
        b = S.get((nxt(y), r["id"]))
        to = b["tier"] if b else "died" if r["died"] else "left"
        want[(y, r["tier"], to)] = want.get((y, r["tier"], to), 0) + 1
res["turnover"] = {(f[0], f[1], f[3]): int(f[5]) for f in rows("risk_turnover")} == want
# retention and overlap: top k% by risk rank, or by LTC count (ties by pseudo_id)
def cohort(y, k, kind):
    n = len(byy[y]); m = top(n, k)
    if kind == "risk": return {r["id"] for r in byy[y] if r["rank"] <= m}
    return {r["id"] for r in sorted(byy[y], key=lambda r: (-r["ltc"], r["id"]))[:m]}
want = {}
for y in years:
    if nxt(y) not in years: continue
    for k in (0.5, 2, 5, 10):
        for kind in ("risk", "ltc"):
            a = cohort(y, k, kind); b = cohort(nxt(y), k, kind)
            want[(y, k, kind)] = (len(a), len(a & b))
got = {(f[0], float(f[1]), f[2]): (int(f[3]), int(f[5])) for f in rows("risk_retention")}
res["retention"] = got == want
want = {(y, k): (len(cohort(y, k, "risk")), len(cohort(y, k, "risk") & cohort(y, k, "ltc"))) for y in years for k in (0.5, 2, 5, 10)}
res["overlap"] = {(f[0], float(f[1])): (int(f[2]), int(f[3])) for f in rows("risk_overlap")} == want
# practice: tiers, all, rising
want = {}
ris = {(f[0], f[1]) for f in rows("risk_rising")}
for r in S.values():
    for t in (r["tier"], "all"):
        want[(r["fy"], r["prac"], t)] = want.get((r["fy"], r["prac"], t), 0) + 1
    if prv(r["fy"]) in years:
        k = (r["fy"], r["prac"], "rising"); want[k] = want.get(k, 0) + ((r["fy"], r["id"]) in ris)
res["practice"] = {(f[0], f[1], f[2]): int(f[4]) for f in rows("risk_practice")} == want
for k in ("pyramid", "crisis", "crisis_falls", "rising", "turnover", "retention", "overlap", "practice"):
    print(k, res[k])
PY
for k in pyramid crisis crisis_falls rising turnover retention overlap practice; do
	same "risk summary table recomputed: $k" "$(grep "^$k " sum.txt)" "$k True"
done
expect_rc 2 "summarise: bad --rising-from" "$YOC" risk summarise --db D --rising-from 120
done_testing

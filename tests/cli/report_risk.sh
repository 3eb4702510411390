#!/bin/sh
# The Risk page of yoc report (risk.html) and the practice packs' risk section
# (docs/report.md, docs/disclosure.md): absent without risk tables; with
# --no-suppression every published table equals the catalog's tables and an
# independent python3 recomputation from risk_score and person_year; with
# disclosure control every count is the rounded count or hidden, hidden cells
# beside a published total are never alone, and pack tiers add up.
. "$(dirname "$0")/lib.sh"
for v in synth keygen pseudonymise init load analyse risk report; do
	if ! "$YOC" help "$v" >/dev/null 2>&1; then
		skip "risk page" "yoc $v not built"; done_testing; exit 0
	fi
done
if ! command -v python3 >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then
	skip "risk page" "python3 or the sqlite3 CLI missing"; done_testing; exit 0
fi
export YOC_DATA="${YOC_DATA:-$YOC_ROOT/data}"
cd "$TMP" || exit 1
"$YOC" synth --persons 5000 --out S >/dev/null 2>&1 &&
	"$YOC" keygen --out K >/dev/null 2>&1 &&
	"$YOC" pseudonymise --key K --in S/feeds --out P --optout S/optout.csv >/dev/null 2>&1 &&
	"$YOC" init D >/dev/null 2>&1 && "$YOC" load --db D P >/dev/null 2>&1 &&
	"$YOC" analyse --db D >/dev/null 2>&1
same "synthetic economy of 5,000 analysed" "$?" 0

# 1. no risk tables: no page, no link
expect_rc 0 "report without risk tables" "$YOC" report --db D --out R_none
check "... no risk.html" test ! -e R_none/risk.html
same "... no link to it" "$(grep -l 'risk.html' R_none/index.html R_none/practices/*.html | wc -l)" 0
same "... no risk CSV" "$(ls R_none/csv | grep -c '^risk')" 0

# 2. the risk steps, then the report exact and protected
EPV="--min-events-per-term 5"
expect_rc 0 "risk fit" "$YOC" risk fit --db D $EPV
expect_rc 0 "risk validate --truth --key" "$YOC" risk validate --db D $EPV --truth S --key K
expect_rc 0 "risk summarise" "$YOC" risk summarise --db D
expect_rc 0 "report --no-suppression" "$YOC" report --db D --out R0 --no-suppression
expect_rc 0 "report (disclosure control)" "$YOC" report --db D --out R1
check "risk.html written" test -s R1/risk.html
same "... linked from the overview" "$(grep -c 'href="risk.html"' R1/index.html)" 1
same "... and from a pack" "$(grep -l 'href="../risk.html"' R1/practices/*.html | wc -l)" \
	"$(ls R1/practices/*.html | wc -l)"
check "... has its ROC, calibration and crisis charts" \
	sh -c "grep -q 'ROC curves' R1/risk.html && grep -q 'Calibration: observed' R1/risk.html && grep -q 'Mean cost per person of each cohort' R1/risk.html"

python3 - D/yoc.db R0 R1 > checks.txt <<'PY'
import csv, glob, math, os, sqlite3, sys
db, R0, R1 = sys.argv[1:4]
con = sqlite3.connect(db)
Q = lambda s, *a: con.execute(s, a).fetchall()
def load(rep, name):
    rows = [r for r in csv.reader(open(os.path.join(rep, "csv", name + ".csv")))
            if r and not r[0].startswith("#")]
    return rows[0], rows[1:]
def say(name, ok): print("%s %s" % ("ok" if ok else "FAIL", name))
def rnd(n): return 0 if n == 0 else (None if n <= 7 else 5 * int(math.floor(n / 5 + 0.5)))
def pub_ok(p, n):           # published count p of the exact count n
    if p == "*": return n != 0
    return int(p) == rnd(n)
def secondary(col):         # a column with its total last: never exactly one hidden
    return sum(1 for v in col[:-1] if v == "*") != 1 or col[-1] == "*"
fy = Q("select max(fyear) from person_year")[0][0]

# pyramid, recomputed from risk_score and person_year (not from risk_pyramid)
ind = {}
for tier, n, cost, ea in Q("""select s.tier, count(*), sum(p.cost_total) / 100.0, sum(p.emergency_admissions)
    from risk_score s join person_year p using (pseudo_id, fyear) where s.fyear = ? group by s.tier""", fy):
    ind[tier] = (n, cost, ea)
h, rows = load(R0, "risk_pyramid")
tot = [sum(v[k] for v in ind.values()) for k in range(3)]
ok = len(rows) == len(ind) + 1
for r in rows:
    n, cost, ea = tot if r[0] == "Total" else ind[r[0]]
    ok &= int(r[1]) == n and abs(float(r[2]) - cost) < 0.01 and int(r[5]) == ea
    ok &= abs(float(r[3]) - cost / n) < 0.01
    ok &= abs(float(r[4]) - 100 * cost / tot[1]) < 0.051 and abs(float(r[6]) - 100 * ea / tot[2]) < 0.051
say("pyramid exact = risk_score x person_year", ok)
h, rows = load(R1, "risk_pyramid")
ok = True
for r in rows:
    n, cost, ea = tot if r[0] == "Total" else ind[r[0]]
    ok &= pub_ok(r[1], n) and pub_ok(r[5], ea)
    if r[2] != "*":
        ok &= abs(float(r[2]) - cost) <= 0.005 * cost + 0.5   # 3 significant figures
say("pyramid protected: rounded or hidden, money to 3 sf", ok and secondary([r[1] for r in rows]) and secondary([r[5] for r in rows]))

# AUC table = risk_validation; ROC points = risk_roc rates
val = {(m, k): (v, lo, hi) for m, k, v, lo, hi in Q("select metric, model, value, lo, hi from risk_validation")}
lab = {"Risk model": "model", "True risk (synthetic oracle)": "oracle", "Number of LTCs this year": "ltc_count",
       "Cost this year": "cost_total", "QAdmissions (published)": "qadmissions"}
h, rows = load(R0, "risk_auc")
ok = len(rows) == 5
for r in rows:
    v = val[("auc", lab[r[0]])]
    ok &= all(abs(float(r[1 + k]) - v[k]) < 1e-4 for k in range(3))
    if lab[r[0]] != "qadmissions":
        ok &= abs(float(r[4]) - 100 * val[("sensitivity_top5", lab[r[0]])][0]) < 0.051
        ok &= abs(float(r[5]) - 100 * val[("ppv_top5", lab[r[0]])][0]) < 0.051
say("AUC, CI, sensitivity and PPV = risk_validation (oracle included)", ok)
n, ev = val[("n", "model")][0], val[("events", "model")][0]
h, rows = load(R0, "risk_roc")
roc = {(m, p): (sel, tp, fp) for m, p, sel, tp, fp in Q("select model, point, selected, tp, fp from risk_roc")}
ok = len(rows) == len(roc)
for r in rows:
    sel, tp, fp = roc[(lab[r[0]], int(r[1]))]
    ok &= int(r[2]) == sel and abs(float(r[3]) - 100 * tp / ev) < 0.051 and abs(float(r[4]) - 100 * fp / (n - ev)) < 0.051
say("ROC points exact = risk_roc", ok)
h, rows = load(R1, "risk_roc")
ok = len(rows) > 0
for r in rows:
    sel, tp, fp = roc[(lab[r[0]], int(r[1]))]
    ok &= (sel == 0 or sel > 7) and pub_ok(r[2], sel)
    if r[3] != "*" and sel:
        ok &= abs(float(r[3]) - 100 * rnd(tp) / rnd(int(ev))) < 0.051
say("ROC points protected: no small selection, rates of rounded counts", ok)

# calibration: deciles and groups = risk_calibration, recounted from the rows
rows_ = Q("""select r.outcome, r.probability, p.sex from risk_validation_rows r
    join person_year p using (pseudo_id, fyear)""")
sexes = {}
for y, pr, sx in rows_:
    g = "female" if sx in ("2", "F") else "male" if sx in ("1", "M") else "unknown"
    a = sexes.setdefault(g, [0, 0, 0.0]); a[0] += 1; a[1] += y; a[2] += pr
h, rows = load(R0, "risk_calibration_groups")
ok = True
got = {r[1]: r for r in rows if r[0] == "Sex"}
for g, (cn, co, ce) in sexes.items():
    r = got[g]
    ok &= int(r[2]) == cn and int(r[3]) == co and abs(float(r[4]) - ce) < 0.051
    ok &= abs(float(r[5]) - co / ce) < 1e-4
say("calibration by sex = recount of risk_validation_rows", ok and len(got) == len(sexes))
cal = {(g, k): (cn, co, ce) for g, k, cn, co, ce in Q("select grouping, grp, n, observed, expected from risk_calibration where model = 'model'")}
h, rows = load(R0, "risk_calibration_deciles")
ok = len(rows) == 11
for r in rows[:-1]:
    cn, co, ce = cal[("decile", r[1])]
    ok &= int(r[2]) == cn and int(r[3]) == co and abs(float(r[5]) - co / ce) < 1e-4
    lo, hi = (co / ce * math.exp(-1.96 / math.sqrt(co)), co / ce * math.exp(1.96 / math.sqrt(co))) if co else (0, 3.689 / ce)
    ok &= abs(float(r[6]) - lo) < 1e-4 and abs(float(r[7]) - hi) < 1e-4
ok &= int(rows[-1][3]) == ev and int(rows[-1][2]) == n
say("calibration deciles = risk_calibration, O/E and interval by formula", ok)
h, rows = load(R1, "risk_calibration_groups")
ok = True
for grp in ("Age band", "Sex", "IMD quintile"):
    part = [r for r in rows if r[0] == grp]
    tot_r = rows[rows.index(part[-1]) + 1]
    for r in part:
        cn, co, ce = cal[({"Age band": "age_band", "Sex": "sex", "IMD quintile": "imd_quintile"}[grp], r[1])]
        ok &= pub_ok(r[2], cn) and pub_ok(r[3], co)
        ok &= (r[5] == "*") == (r[2] == "*" or r[3] == "*")
        if r[5] != "*": ok &= abs(float(r[5]) - rnd(co) / ce) < 1e-4
    ok &= secondary([r[2] for r in part] + [tot_r[2]]) and secondary([r[3] for r in part] + [tot_r[3]])
say("calibration groups protected: rounded or hidden, O/E of the published count", ok)

# turnover matrix, crisis, retention, overlap, rising = catalog (exact) / rounded
ty = Q("select max(fyear) from risk_turnover")[0][0]
tv = {(a, b): p for a, b, p in Q("select from_tier, to_tier, people from risk_turnover where fyear = ?", ty)}
for rep, exact in ((R0, True), (R1, False)):
    h, rows = load(rep, "risk_turnover")
    tos = [c.replace("next_year_", "") for c in h[1:-1]]
    ok = True
    for r in rows:
        for j, c in enumerate(r[1:-1]):
            to = {"died_in_the_year": "died", "left_no_row_next_year": "left"}.get(tos[j], tos[j])
            want = sum(v for (a, b), v in tv.items() if (r[0] == "Total" or a == r[0]) and b.replace(".", "_").replace("-", "_") == to)
            ok &= (int(c) == want) if exact else pub_ok(c, want)
        want = sum(v for (a, b), v in tv.items() if r[0] == "Total" or a == r[0])
        ok &= (int(r[-1]) == want) if exact else pub_ok(r[-1], want)
    if not exact:
        for row in rows: ok &= secondary(row[1:])
        for j in range(1, len(h)): ok &= secondary([row[j] for row in rows])
    say("turnover matrix %s" % ("exact = risk_turnover" if exact else "protected, secondary suppression"), ok)
ry = Q("select max(fyear) from risk_crisis where year_offset = 1")[0][0]
cr = {(c, o): (p, pr, d, m) for c, o, p, pr, d, m in Q("select cohort, year_offset, people, present, died, mean_cost from risk_crisis where fyear = ?", ry)}
h, rows = load(R0, "risk_crisis")
ok = len(rows) == len(cr)
for r in rows:
    p, pr, d, m = cr[("top_risk" if r[0] == "Top risk" else "top_cost", int(r[2]))]
    ok &= int(r[3]) == p and int(r[4]) == pr and int(r[5]) == d and abs(float(r[6]) - m) < 0.01
say("crisis curve exact = risk_crisis", ok)
# the crisis curve recomputed: top 5% by cost in year t, mean cost the year after
years = [y for (y,) in Q("select distinct fyear from person_year order by fyear")]
t1 = years[years.index(ry) + 1]
cost = {pid: c for pid, c in Q("select pseudo_id, cost_total from person_year where fyear = ?", ry)}   # pence
nsel = len(cost) * 5 // 100
top = sorted(cost, key=lambda k: (-cost[k], k))[:nsel]
nxt = dict(Q("select pseudo_id, cost_total from person_year where fyear = ?", t1))
pres = [nxt[k] for k in top if k in nxt]
r = [x for x in rows if x[0] == "Top cost" and x[2] == "+1"][0]
say("crisis top-cost year after = python3 recomputation", int(r[4]) == len(pres) and abs(float(r[6]) - sum(pres) / len(pres) / 100) < 0.01)
h, rows = load(R1, "risk_crisis")
ok = True
for r in rows:
    p, pr, d, m = cr[("top_risk" if r[0] == "Top risk" else "top_cost", int(r[2]))]
    ok &= pub_ok(r[3], p) and (r[4] == "*" or pub_ok(r[4], pr)) and (r[5] == "*" or pub_ok(r[5], d))
    if r[6] != "*": ok &= abs(float(r[6]) - m) <= 0.01 * m + 1
say("crisis curve protected", ok)
for name, sql, key in (("risk_retention", "select k, cohort, people, still from risk_retention where fyear = (select max(fyear) from risk_retention) order by k, cohort desc", None),
                       ("risk_overlap", "select k, people, overlap from risk_overlap where fyear = '%s' order by k" % fy, None)):
    want = Q(sql)
    for rep, exact in ((R0, True), (R1, False)):
        h, rows = load(rep, name)
        ok = len(rows) == len(want)
        for r, w in zip(rows, want):
            cnt = w[2:] if name == "risk_retention" else w[1:]
            got = r[2:4] if name == "risk_retention" else r[1:3]
            ok &= float(r[0]) == w[0]
            ok &= all((int(g) == x) if exact else pub_ok(g, x) or g == "*" for g, x in zip(got, cnt))
        say("%s %s" % (name, "exact" if exact else "rounded or hidden"), ok)
want = dict(Q("select fyear, count(*) from risk_rising group by fyear"))
h, rows = load(R0, "risk_rising")
say("rising risk counts exact = risk_rising", {r[0]: int(r[1]) for r in rows} == want)

# packs: tiers per practice recomputed from risk_score x person_year
pt = {}
for pr, tier, k in Q("""select p.practice, s.tier, count(*) from risk_score s join person_year p
    using (pseudo_id, fyear) where s.fyear = ? group by 1, 2""", fy):
    pt.setdefault(pr, {})[tier] = k
rising = dict(Q("select practice, count(*) from risk_rising where fyear = ? group by 1", fy))
okx, okp, npk = True, True, 0
for f in glob.glob(os.path.join(R0, "csv", "practices", "*_risk.csv")):
    code = os.path.basename(f)[:-len("_risk.csv")]
    h, rows = load(R0, "practices/" + code + "_risk")
    want = pt.get(code, {})
    tiers = [r for r in rows if r[0] != "Total" and not r[0].startswith("Rising")]
    okx &= {r[0]: int(r[1]) for r in tiers if int(r[1])} == want
    okx &= int([r for r in rows if r[0] == "Total"][0][1]) == sum(want.values())
    okx &= int(rows[-1][1]) == rising.get(code, 0)
    h, prow = load(R1, "practices/" + code + "_risk")
    col = [r[1] for r in prow if not r[0].startswith("Rising")]
    okp &= secondary(col)
    for r in prow:
        if r[0] == "Total": okp &= r[1] == "*" or pub_ok(r[1], sum(want.values()))
        elif not r[0].startswith("Rising"): okp &= pub_ok(r[1], want.get(r[0], 0))
    shown = [int(v) for v in col[:-1] if v != "*"]
    if col[-1] != "*" and "*" not in col[:-1]:
        okp &= abs(sum(shown) - int(col[-1])) <= 2.5 * len(shown)   # rounding only
    npk += 1
say("pack tiers exact = recount (tiers sum to the total, rising risk)", okx and npk > 0)
say("pack tiers protected: rounded or hidden, never one hidden beside the total, sums within rounding", okp and npk > 0)
PY
while read -r res name; do
	if [ "$res" = ok ]; then ok "$name"; else not_ok "$name"; fi
done < checks.txt
same "every python check ran" "$(wc -l < checks.txt)" 20

# the attacker's format check: each Risk-page table's HTML and sheet = its CSV
python3 "$YOC_ROOT/tests/cli/sdc_attack.py" R1 R0 > attack.txt 2>&1
grep -q "HTML tables and .* sheets compared" attack.txt; same "sdc_attack.py ran on the report" "$?" 0
same "... no finding on a risk table" "$(grep -c 'risk_' attack.txt)" 0
done_testing

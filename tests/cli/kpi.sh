# yoc kpi end to end on a synthetic economy of 3,000 persons: loaded without
# its outcome fields and careplan and pam feeds (those KPIs "not available in
# this dataset"), then as synthesised (with its defects): every KPI of every
# month recomputed independently in Python from the exported rows, the person
# table and the reference data (the spell rules of docs/costing.md written out
# again), with and without a cohort; a clean economy against the synthetic
# truth (delayed transfers, ASCOF 2B(1), PAM levels); the
# Making Data Count limits of a p-chart and an XmR chart recomputed; a
# tampered month must be caught; bad --from/--to/--steps and an unknown
# cohort are usage errors naming the option.
. "$(dirname "$0")/lib.sh"

for v in synth keygen pseudonymise init load kpi export cohort; do
	if ! "$YOC" help $v >/dev/null 2>&1; then
		skip "kpi" "yoc $v not built"; done_testing; exit 0
	fi
done
if ! command -v python3 >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then
	skip "kpi" "python3 or sqlite3 missing"; done_testing; exit 0
fi
CHK="$YOC_ROOT/tests/cli/kpi_check.py"
DATA="$YOC_ROOT/data"
cd "$TMP" || exit 1
export YOC_QUIET=1
"$YOC" synth --persons 3000 --out S >/dev/null 2>&1 && cp -r S S1 &&
	python3 "$CHK" strip S1/feeds && "$YOC" keygen --out K >/dev/null 2>&1 &&
	"$YOC" pseudonymise --key K --in S1/feeds --out P1 >/dev/null 2>&1 &&
	"$YOC" init D1 >/dev/null 2>&1 && "$YOC" load --db D1 P1 >/dev/null 2>&1
same "synthetic economy without the outcome fields loaded" "$?" 0

# 1. without the outcome fields
expect_rc 0 "kpi runs on a dataset without the outcome fields" "$YOC" kpi --db D1 --data "$DATA"
grep -q "dtoc_days  *not available in this dataset: the APC feed has no DISREADYDATE" "$TMP/.out"
same "delayed transfers: not available in this dataset" "$?" 0
grep -q "ascof2b1  *not available in this dataset" "$TMP/.out"
same "ASCOF 2B(1): not available in this dataset" "$?" 0
grep -q "careplan_coverage  *not available in this dataset: no careplan feed" "$TMP/.out"
same "care plans: not available in this dataset" "$?" 0
same "unavailable KPIs have no months" \
	"$(sqlite3 D1/yoc.db "SELECT count(*) FROM kpi_month m JOIN kpi_def d USING (kpi) WHERE d.available = 0")" 0
same "eight KPIs unavailable, six computed" \
	"$(sqlite3 D1/yoc.db "SELECT sum(available = 0) || ',' || sum(available) FROM kpi_def")" "8,6"
mkdir -p X1
for t in apc social_care; do "$YOC" export --db D1 --table $t --out X1/$t.csv >/dev/null 2>&1; done
check "available KPIs equal the recomputation (no outcome fields)" python3 "$CHK" check D1 X1 "$DATA"

# 2. with the outcome fields and the careplan and pam feeds, as synthesised
"$YOC" pseudonymise --key K --in S/feeds --out P2 >/dev/null 2>&1 &&
	"$YOC" init D2 >/dev/null 2>&1 && "$YOC" load --db D2 P2 >/dev/null 2>&1
same "dataset with the outcome fields loaded" "$?" 0
expect_rc 0 "kpi runs" "$YOC" kpi --db D2 --data "$DATA"
same "every KPI available" "$(sqlite3 D2/yoc.db "SELECT sum(available) FROM kpi_def")" 14
mkdir -p X2
for t in apc social_care careplan pam; do "$YOC" export --db D2 --table $t --out X2/$t.csv >/dev/null 2>&1; done
python3 "$CHK" check D2 X2 "$DATA" >"$TMP/chk.out" 2>&1
same "every KPI of every month equals the recomputation" "$?" 0
sed 's/^/# /' "$TMP/chk.out" | head -5
same "36 months of 14 KPIs" "$(sqlite3 D2/yoc.db "SELECT count(*) FROM kpi_month")" 504
# rolling 12 months: flows add up; a population is its 12 months' mean (an annual rate);
# a stock takes the means of both (sum / 12, half up)
same "rolling 12 months: sums of flows, means of populations and stocks" \
	"$(sqlite3 D2/yoc.db "WITH w AS (SELECT m.kpi, m.month, m.r12_numerator rn, m.r12_denominator rd,
	   d.rolling ro, (SELECT sum(numerator) FROM kpi_month x WHERE x.kpi = m.kpi AND x.month <= m.month
	   AND x.month > printf('%04d-%s', substr(m.month, 1, 4) - 1, substr(m.month, 6))) sn,
	   (SELECT sum(denominator) FROM kpi_month x WHERE x.kpi = m.kpi AND x.month <= m.month
	   AND x.month > printf('%04d-%s', substr(m.month, 1, 4) - 1, substr(m.month, 6))) sd
	   FROM kpi_month m JOIN kpi_def d USING (kpi) WHERE m.month >= '2022-03')
	   SELECT count(*) FROM w WHERE rn <> CASE ro WHEN 'mean' THEN (sn + 6) / 12 ELSE sn END
	   OR rd <> CASE ro WHEN 'sum' THEN sd ELSE (sd + 6) / 12 END")" 0
same "every rolling rule is used" "$(sqlite3 D2/yoc.db "SELECT group_concat(DISTINCT rolling) FROM (SELECT rolling FROM kpi_def ORDER BY rolling)")" "mean,population,sum"
same "practices add up to the whole population" \
	"$(sqlite3 D2/yoc.db "SELECT count(*) FROM kpi_month m WHERE numerator <> (SELECT sum(numerator)
	   FROM kpi_practice p WHERE p.kpi = m.kpi AND p.month = m.month) OR denominator <>
	   (SELECT sum(denominator) FROM kpi_practice p WHERE p.kpi = m.kpi AND p.month = m.month)")" 0
same "no rolling value before 12 months" \
	"$(sqlite3 D2/yoc.db "SELECT count(*) FROM kpi_month WHERE month < '2022-03' AND r12_numerator IS NOT NULL")" 0
same "the chart defaults are recorded" \
	"$(sqlite3 D2/yoc.db "SELECT DISTINCT shift_len || ',' || trend_len FROM kpi_spc")" "7,6"
same "each point's rules say which rule fired" \
	"$(sqlite3 D2/yoc.db "SELECT count(*) FROM kpi_month WHERE variation LIKE 'special%' AND rules = ''")" 0
# a tampered month must be caught by the recomputation
cp D2/yoc.db D2/yoc.db.bak
sqlite3 D2/yoc.db "UPDATE kpi_month SET numerator = numerator + 1 WHERE kpi = 'dtoc_days' AND month = '2022-07'"
python3 "$CHK" check D2 X2 "$DATA" >/dev/null 2>&1
same "a tampered month fails the recomputation" "$?" 1
mv D2/yoc.db.bak D2/yoc.db

# 2b. a clean economy against the synthetic truth
"$YOC" synth --persons 3000 --clean --seed 11 --out SC >/dev/null 2>&1 &&
	"$YOC" pseudonymise --key K --in SC/feeds --out PC >/dev/null 2>&1 &&
	"$YOC" init DC >/dev/null 2>&1 && "$YOC" load --db DC PC >/dev/null 2>&1 &&
	"$YOC" kpi --db DC --data "$DATA" >/dev/null 2>&1
same "clean economy loaded, KPIs computed" "$?" 0
python3 "$CHK" truth DC SC >"$TMP/truth.out" 2>&1
same "delayed transfers, ASCOF 2B(1) and PAM levels equal the synthetic truth, month by month" "$?" 0
sed 's/^/# /' "$TMP/truth.out" | head -5

# 3. a cohort: its members on each event's date
"$YOC" cohort define frail --db D2 --rule "age >= 75" >/dev/null 2>&1
sqlite3 D2/yoc.db "INSERT INTO cohort_register(cohort, pseudo_id, practice, join_date, leave_date,
  secondary_use) SELECT 'frail', pseudo_id, practice, '2022-01-15', CASE WHEN person_idx % 3 = 0
  THEN '2023-06-30' END, 1 FROM person WHERE birth_year < 1950 AND person_idx % 2 = 0"
expect_rc 0 "kpi --cohort runs" "$YOC" kpi --db D2 --cohort frail --data "$DATA"
check "cohort KPIs equal the recomputation" python3 "$CHK" check D2 X2 "$DATA" frail
same "no member before joining" \
	"$(sqlite3 D2/yoc.db "SELECT sum(denominator) FROM kpi_month WHERE kpi = 'ne_admissions' AND month <= '2022-01'")" 0

# 4. step changes and run lengths
expect_rc 0 "kpi with a step change and run lengths" "$YOC" kpi --db D2 --data "$DATA" \
	--steps ne_alos:2022-10,weekend_discharges:2023-01 --shift-len 8 --trend-len 5
same "the step is recorded and limits recalculated" \
	"$(sqlite3 D2/yoc.db "SELECT phases || ' ' || steps || ' ' || shift_len || ' ' || trend_len FROM kpi_spc WHERE kpi = 'ne_alos'")" \
	"2 2022-10 8 5"
same "two centre lines across the step" \
	"$(sqlite3 D2/yoc.db "SELECT count(DISTINCT round(centre, 9)) FROM kpi_month WHERE kpi = 'ne_alos'")" 2

# 4b. the report's KPI page: every published count through disclosure control
"$YOC" kpi --db D2 --data "$DATA" >/dev/null 2>&1 && "$YOC" analyse --db D2 >/dev/null 2>&1
expect_rc 0 "report with the KPI page" "$YOC" report --db D2 --out REP --data "$DATA"
[ -f REP/kpi.html ] && grep -q 'href="kpi.html"' REP/index.html
same "kpi.html written and in the navigation" "$?" 0
python3 - REP/csv/kpi_months.csv D2/yoc.db <<'PY' >"$TMP/sdc.out" 2>&1
import csv, sqlite3, sys
db = sqlite3.connect(sys.argv[2])
exact = {(k, m): (n, d, rn, rd) for k, m, n, d, rn, rd in db.execute(
    "SELECT kpi, month, numerator, denominator, r12_numerator, r12_denominator FROM kpi_month")}
def pub(n):  # 1-7 hidden, else to the nearest 5 (docs/disclosure.md)
    if n is None: return "*"
    return "0" if n == 0 else "*" if n <= 7 else str((n + 2) // 5 * 5)
def num(t):
    return t.replace(",", "")
bad = 0
rows = list(csv.DictReader(open(sys.argv[1])))
for r in rows:
    n, d, rn, rd = exact[(r["kpi"], r["month"])]
    got = [num(r["numerator"]), num(r["denominator"]), num(r["12_month_numerator"]), num(r["12_month_denominator"])]
    want = [pub(n), pub(d), pub(rn), pub(rd)]
    if got != want:
        bad += 1
        if bad < 5: print(r["kpi"], r["month"], got, want)
print("rows", len(rows), "bad", bad)
sys.exit(1 if bad or not rows else 0)
PY
same "every count of kpi_months.csv is the published value of the exact count" "$?" 0
sed 's/^/# /' "$TMP/sdc.out" | tail -2
if command -v unzip >/dev/null 2>&1; then
	same "the workbook has the KPI sheets" \
		"$(unzip -p REP/yoc-report.xlsx xl/workbook.xml | grep -o 'name="kpi_[a-z_]*"' | tr '\n' ' ')" \
		'name="kpi_summary" name="kpi_months" name="kpi_weekday" name="kpi_pam_change" '
else
	skip "the workbook has the KPI sheets" "unzip missing"
fi
ls REP/csv/practices/*_kpi.csv >/dev/null 2>&1 && grep -q "<h2>Outcome KPIs</h2>" REP/practices/*.html
same "the practice packs have their KPI section" "$?" 0
# chart titles fit left of the icons: long ones are cut with an ellipsis in the
# visible text, and the tooltip keeps them whole
same "chart titles fit beside the icons; long ones cut, whole in the tooltip" "$(python3 - REP <<'PY'
import glob, html, re, sys
cut = whole = long_ = 0
for f in [sys.argv[1] + '/kpi.html'] + glob.glob(sys.argv[1] + '/practices/*.html'):
    s = open(f, encoding='utf-8').read()
    for t, v in re.findall(r'<svg class="chart"[^>]*><title>(.*?)</title><text [^>]*class="ct">(.*?)</text>', s):
        t, v = html.unescape(t), html.unescape(v)
        if len(v) > 69: long_ += 1
        if v.endswith('\u2026'):
            cut += 1
            if len(t) > 68 and t.startswith(v[:-1]): whole += 1
        elif v != t: long_ += 1
print(long_, cut > 0, cut == whole)
PY
)" "0 True True"

# 5. errors
expect_rc 2 "a bad --from is a usage error" "$YOC" kpi --db D2 --from 2022-13
grep -q "^yoc kpi: --from:1:1: '2022-13' is not a month" "$TMP/.err"
same "... naming the option" "$?" 0
expect_rc 2 "--to before --from is a usage error" "$YOC" kpi --db D2 --from 2023-01 --to 2022-01
grep -q "^yoc kpi: --to:1:1: the last month (2022-01) is before the first (2023-01)" "$TMP/.err"
same "... naming both months" "$?" 0
expect_rc 2 "an unknown cohort is an error" "$YOC" kpi --db D2 --cohort nope
grep -q "no cohort named 'nope'" "$TMP/.err"
same "... naming the cohort" "$?" 0
expect_rc 2 "a step outside the months is an error" "$YOC" kpi --db D2 --steps ne_alos:2019-01
expect_rc 2 "a step of an unknown KPI is an error" "$YOC" kpi --db D2 --steps nothing:2022-01
expect_rc 0 "a failed run left the last tables in place" sqlite3 D2/yoc.db "SELECT 1 FROM kpi_spc WHERE kpi = 'ne_alos' AND phases = 2"
done_testing

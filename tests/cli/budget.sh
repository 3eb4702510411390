#!/bin/sh
# yoc tariff and yoc budget on a synthetic economy of 3,000 persons x 3 years:
# tariffs recomputed in Python/SQL from person_year and person equal yoc's to
# the penny (percentile trim with and without merges, winsorising, uplift);
# a cohort register fixture (the cohort module's table) with leavers,
# rejoiners and overlapping rows: every member paid exactly tariff x days /
# 365 (days as a set of dates, so never twice), Σ payments = budget; the
# bootstrap reproducible with a seed; the settlement against its formula;
# bad inputs named by file and line. docs/budget.md.
. "$(dirname "$0")/lib.sh"
for v in synth keygen pseudonymise init load analyse tariff budget; do
	if ! "$YOC" help "$v" >/dev/null 2>&1; then
		skip "budget" "yoc $v not built"; done_testing; exit 0
	fi
done
if ! command -v python3 >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then
	skip "budget" "python3 or the sqlite3 CLI missing"; done_testing; exit 0
fi
export YOC_DATA="${YOC_DATA:-$YOC_ROOT/data}"
H="$YOC_ROOT/tests/cli"
cd "$TMP" || exit 1
"$YOC" synth --persons 3000 --out S >/dev/null 2>&1 &&
	"$YOC" keygen --out K >/dev/null 2>&1 &&
	"$YOC" pseudonymise --key K --in S/feeds --out P --optout S/optout.csv >/dev/null 2>&1 &&
	"$YOC" init D >/dev/null 2>&1 && "$YOC" load --db D P >/dev/null 2>&1 &&
	"$YOC" analyse --db D >/dev/null 2>&1
same "synthetic economy analysed" "$?" 0
q() { sqlite3 D/yoc.db "$1"; }

# tariffs against the independent computation
expect_rc 0 "tariff build, two base years, no merging" "$YOC" tariff build --db D --base-years 2021/22,2022/23 --min-person-years 0
same "... 14 categories in version 1" "$(q "select count(*) from tariff where version = 1")" 14
same "... every base tariff and trim as recomputed" "$(python3 "$H/budget_tariff.py" D/yoc.db 2021/22,2022/23 pct:5,97 0 1)" 0
same "... trims removed people (default pct:5,97)" "$(q "select sum(trim_low) > 0 and sum(trim_high) > 0 from tariff where version = 1")" 1
expect_rc 0 "tariff build with merging of small categories (default 30)" "$YOC" tariff build --db D --base-years 2021/22,2022/23
same "... recomputed, merges included" "$(python3 "$H/budget_tariff.py" D/yoc.db 2021/22,2022/23 pct:5,97 30 2)" 0
same "... merged categories carry their pool's tariff and a note" \
	"$(q "select count(*) from tariff a join tariff b on b.version = a.version and b.category = a.pool where a.version = 2 and a.pool != a.category and (a.tariff != b.tariff or a.note not like 'merged into %')")" 0
same "... some category was merged" "$(q "select count(*) > 0 from tariff where version = 2 and pool != category")" 1
expect_rc 0 "tariff build --trim winsor:2,98" "$YOC" tariff build --db D --base-years 2022/23 --trim winsor:2,98
same "... recomputed" "$(python3 "$H/budget_tariff.py" D/yoc.db 2022/23 winsor:2,98 30 3)" 0
expect_rc 0 "tariff build --trim none --uplift" "$YOC" tariff build --db D --base-years 2022/23 --trim none --uplift inflation=2.5,efficiency=-1.1,demography=0.4
same "... recomputed (no trim)" "$(python3 "$H/budget_tariff.py" D/yoc.db 2022/23 none 30 4)" 0
same "... tariff = base x 1.025 x 0.989 x 1.004, rounded half away" \
	"$(python3 -c "
import sqlite3,math
c=sqlite3.connect('D/yoc.db')
print(sum(1 for b,t in c.execute('select base,tariff from tariff where version=4') if math.floor(b*(1.025*0.989*1.004)+0.5)!=t))")" 0
same "tariff_build records the inputs" "$(q "select group_concat(key || '=' || value, ';') from tariff_build where version = 4 and key in ('base_years', 'trim', 'settings_in')")" \
	"base_years=2022/23;settings_in=elective,nonelective,daycase,outpatient,ae,community,mh,ambulance;trim=none"
expect_rc 0 "tariff show" "$YOC" tariff show --db D --version 2
grep -q "merged into" "$TMP/.out"; same "... prints the merges" "$?" 0

# bad input
printf 'a : ltc_count >= 3\nb : ltc_count = 1\n' > nocatch.txt
expect_rc 1 "categories leaving people out: error" "$YOC" tariff build --db D --base-years 2022/23 --categories nocatch.txt
grep -q "nocatch.txt:2:.*person-years of 2022/23 are in no category" "$TMP/.err"; same "... naming the file's last line" "$?" 0
printf 'a : ltc_count >= 3\nb : ltc_cuont = 1\nc : true\n' > badrule.txt
expect_rc 1 "a category rule with an unknown field" "$YOC" tariff build --db D --base-years 2022/23 --categories badrule.txt
grep -q "badrule.txt:2:5: unknown field 'ltc_cuont'" "$TMP/.err"; same "... named by line and column" "$?" 0
printf 'a < nope : ltc_count >= 3\nc : true\n' > badparent.txt
expect_rc 1 "an unknown parent" "$YOC" tariff build --db D --base-years 2022/23 --categories badparent.txt
grep -q "badparent.txt:1:1: parent 'nope'" "$TMP/.err"; same "... named" "$?" 0
{ head -3 "$YOC_DATA/service_map.csv"; echo "m1,in,elective,*,*,*,2020-04-01,2021-03-31,again"; } > overlap.csv
expect_rc 1 "service map with overlapping lines" "$YOC" tariff build --db D --base-years 2022/23 --service-map overlap.csv
grep -q "overlap.csv:4:.*version 'm1' differs" "$TMP/.err"; same "... (a mixed version named first)" "$?" 0
sed 's/^m1/yoc-service-map-1/' overlap.csv > overlap2.csv
expect_rc 1 "service map: the same scope twice on overlapping dates" "$YOC" tariff build --db D --base-years 2022/23 --service-map overlap2.csv
grep -q "overlap2.csv:4:.*overlaps line 2" "$TMP/.err"; same "... names both lines" "$?" 0
{ head -2 "$YOC_DATA/service_map.csv"; echo "yoc-service-map-1,out,*,*,*,RXX,2015-04-01,,a provider out"; echo "yoc-service-map-1,in,*,daycase,*,*,2015-04-01,,daycases in"; } > contra.csv
expect_rc 1 "service map: contradictory lines" "$YOC" tariff build --db D --base-years 2022/23 --service-map contra.csv
grep -q "contra.csv:3:.*contradicts line 2" "$TMP/.err"; same "... names both lines" "$?" 0
expect_rc 1 "a base year with no data" "$YOC" tariff build --db D --base-years 2022/23,2019/20
grep -q "base year 2 (2019/20) has no data" "$TMP/.err"; same "... named" "$?" 0
expect_rc 2 "bad --trim" "$YOC" tariff build --db D --base-years 2022/23 --trim pct:50,10

# budget and payments from a register fixture
expect_rc 0 "tariff for the budget (base 2021/22)" "$YOC" tariff build --db D --base-years 2021/22
first=$(python3 "$H/budget_register.py" D/yoc.db make | cut -d' ' -f1)
expect_rc 0 "budget --cohort frailty --year 2022/23" "$YOC" budget --db D --cohort frailty --year 2022/23
same "members paid tariff x days / 365 (days as sets), Σ = budget, Σ payments = budget, 12 months, days" \
	"$(python3 "$H/budget_register.py" D/yoc.db check)" "0 True True 12 True"
same "a member present 100 of 365 days is paid exactly 100/365 of the tariff" \
	"$(q "select m.days, m.amount = (t.tariff * 100 * 2 + 365) / 730 from budget_member m join tariff t on t.category = m.category and t.version = 5 where m.pseudo_id = '$first'")" "100|1"
grep -q "days were covered by two register rows of one person and paid once" "$TMP/.out"; same "overlapping rows reported, paid once" "$?" 0
expect_rc 0 "seasonal profile" "$YOC" budget --db D --cohort frailty --year 2022/23 --profile seasonal
same "... same members and budget, payments still sum to it" "$(python3 "$H/budget_register.py" D/yoc.db check)" "0 True True 12 True"
expect_rc 1 "an unknown cohort" "$YOC" budget --db D --cohort nobody --year 2022/23
expect_rc 2 "bad --profile" "$YOC" budget --db D --cohort frailty --year 2022/23 --profile lumpy

# tagging
expect_rc 0 "tag --cohort frailty" "$YOC" tag --db D --cohort frailty
same "full-year members: capitated cost = in-scope person_year cost, all = cost_total" "$(python3 "$H/budget_tag.py" D/yoc.db)" "True 0"
same "tag_summary adds up to activity_tag" "$(q "select (select sum(cost) from tag_summary where cohort='frailty') = (select sum(cost) from activity_tag where cohort='frailty' and activity_date is not null)")" 1
same "no row of a non-member tagged" "$(q "select count(*) from activity_tag where pseudo_id not in (select pseudo_id from cohort_register)")" 0
same "capitated rows are dated inside a membership" "$(q "select count(*) from activity_tag t where tag='capitated' and not exists (select 1 from cohort_register r where r.pseudo_id=t.pseudo_id and r.join_date <= t.activity_date and (r.leave_date is null or r.leave_date >= t.activity_date))")" 0
same "outside_membership rows are dated outside every membership" "$(q "select count(*) from activity_tag t where tag='outside_membership' and exists (select 1 from cohort_register r where r.pseudo_id=t.pseudo_id and r.join_date <= t.activity_date and (r.leave_date is null or r.leave_date >= t.activity_date))")" 0
same "gp and social care stay outside the map" "$(q "select count(*) from activity_tag where setting in ('gp','social_care') and tag = 'capitated'")" 0
# the summary counted from the row-writing run's own rows (dated 1990-2029,
# the summary's months), and the rows by tag from its own table
q "select month, setting, tag, rows, cost from tag_summary where cohort='frailty' order by 1, 2, 3" > sum_rows.txt
q "select substr(activity_date, 1, 7), setting, tag, count(*), sum(cost) from activity_tag where cohort='frailty' and activity_date between '1990-01-01' and '2029-12-31' group by 1, 2, 3 order by 1, 2, 3" > sum_own.txt
check "tag_summary equals activity_tag counted by month, setting and tag ($(wc -l < sum_own.txt) lines)" cmp -s sum_rows.txt sum_own.txt
"$YOC" tag --db D --cohort frailty > tag_rows.out 2>/dev/null
tags_of() { awk '$2 ~ /^[0-9]+$/ && $3 == "rows" { print $1, $2 }' "$1"; }
same "the printed rows by tag equal activity_tag's" "$(tags_of tag_rows.out | tr '\n' ' ')" \
	"$(q "select tag, count(*) from activity_tag where cohort='frailty' group by tag order by case tag when 'capitated' then 0 when 'outside_map' then 1 else 2 end" | tr '|' ' ' | tr '\n' ' ')"
# --summary-only reads files on worker threads: the summary and the rows by
# tag must equal the serial, row-writing run's, for any number of threads
for n in 1 2 4; do
	expect_rc 0 "tag --summary-only --threads $n" "$YOC" tag --db D --cohort frailty --summary-only --threads $n
	q "select month, setting, tag, rows, cost from tag_summary where cohort='frailty' order by 1, 2, 3" > sum_t$n.txt
	check "... tag_summary equals the row-writing run's ($(wc -l < sum_t$n.txt) lines)" cmp -s sum_rows.txt sum_t$n.txt
	same "... rows by tag equal the row-writing run's" "$(tags_of "$TMP/.out")" "$(tags_of tag_rows.out)"
done
expect_rc 2 "tag --threads -1 refused" "$YOC" tag --db D --cohort frailty --summary-only --threads -1
expect_rc 0 "tag again with rows (the checks below read activity_tag)" "$YOC" tag --db D --cohort frailty
{ head -2 "$YOC_DATA/service_map.csv"; echo "yoc-service-map-1,in,ae,*,*,*,2015-04-01,,"; } > aeonly.csv
expect_rc 0 "tag with another map (elective and A&E only)" "$YOC" tag --db D --cohort frailty --service-map aeonly.csv
same "... only those settings capitated" "$(q "select group_concat(distinct setting) from (select setting from activity_tag where tag='capitated' order by setting)")" "ae,elective"

# per member per month and the shadow year
expect_rc 0 "budget again (flat), tag, view" "$YOC" budget --db D --cohort frailty --year 2022/23
expect_rc 0 "... tag" "$YOC" tag --db D --cohort frailty
expect_rc 0 "... view" "$YOC" budget view --db D --cohort frailty --year 2022/23
same "member-months: partial months by days (recomputed from the register)" "$(python3 -c "
import sqlite3, datetime, calendar
c = sqlite3.connect('D/yoc.db')
d0, d1 = datetime.date(2022,4,1), datetime.date(2023,3,31)
days = {}
for p, j, l in c.execute(\"select pseudo_id, join_date, leave_date from cohort_register where cohort='frailty'\"):
    a = max(d0, datetime.date.fromisoformat(j)); b = min(d1, datetime.date.fromisoformat(l) if l else d1)
    while a <= b:
        days.setdefault(p, set()).add(a); a += datetime.timedelta(days=1)
mm = sum(1.0 / calendar.monthrange(d.year, d.month)[1] for s in days.values() for d in s)
got = c.execute(\"select member_months from budget_pmpm where cohort='frailty' and dimension='all'\").fetchone()[0]
print(abs(mm - got) < 1e-6)")" True
same "expected (all) = the budget; actual = capitated cost dated in the year" \
	"$(q "select (select expected from budget_pmpm where dimension='all') = (select budget from budget_plan where cohort='frailty'), (select actual from budget_pmpm where dimension='all') = (select sum(cost) from activity_tag where cohort='frailty' and tag='capitated' and activity_date between '2022-04-01' and '2023-03-31')")" "1|1"
same "categories and months add up to all" "$(q "select (select sum(actual) from budget_pmpm where dimension='category') = (select actual from budget_pmpm where dimension='all'), (select sum(expected) from budget_pmpm where dimension='month') = (select budget from budget_plan where cohort='frailty')")" "1|1"
same "shadow: months, categories and settings each add up to the budget and to what was paid" \
	"$(q "select count(distinct b) || ' ' || count(distinct p) from (select dimension, sum(budget) b, sum(paid) p from budget_shadow where cohort='frailty' group by dimension)")" "1 1"
same "... the budget of the months is the plan's" "$(q "select (select sum(budget) from budget_shadow where dimension='month') = (select budget from budget_plan where cohort='frailty')")" 1

# the finance workbook and the report's Budget page
expect_rc 0 "budget workbook" "$YOC" budget workbook --db D --cohort frailty --year 2022/23 --out fw.xlsx
same "sheets; schedule pays the budget to the penny; no small line; tariffs exact" "$(python3 "$H/budget_xlsx.py" fw.xlsx D/yoc.db)" \
	"about tariffs tariff_build service_map budget schedule shadow tagging risk True 0 0"
expect_rc 0 "budget risk for the report" "$YOC" budget risk --db D --reps 100 --seed 9 --sizes 100,1000
expect_rc 0 "report with the Budget page" "$YOC" report --db D --out REP
[ -f REP/budget.html ] && grep -q 'href="budget.html"' REP/index.html; same "... budget.html, in the navigation" "$?" 0
same "... person-years published through the rule (multiples of 5 or *)" \
	"$(python3 -c "
import csv
print(all(r['person_years_in_the_base'] == '*' or int(r['person_years_in_the_base'].replace(',', '')) % 5 == 0 for r in csv.DictReader(open('REP/csv/budget_tariffs.csv'))))")" True
same "... sums of money to 3 significant figures" "$(python3 -c "
import csv
v=[float(r['budget']) for r in csv.DictReader(open('REP/csv/budget_cohorts.csv'))]
print(len(v) > 0 and all(float('%.3g' % x) == x for x in v))")" True
grep -q "person-years, below" REP/csv/budget_tariffs.csv REP/budget.html; same "... no exact exposure of a small category in the notes" "$?" 1

# reconciliation of the synthetic billing feed
expect_rc 0 "tag with the tariff's map again" "$YOC" tag --db D --cohort frailty
expect_rc 0 "reconcile the billing feed" "$YOC" reconcile --db D --cohort frailty --billing S/billing --out R
mkdir X && for k in apc op ae community; do "$YOC" export --db D --table $k --out X/$k.csv >/dev/null 2>&1; done
same "every double-billed line of the truth found, capitated lines as recomputed from export and register, nothing else" \
	"$(python3 "$H/budget_reconcile.py" D/yoc.db S/billing S/truth/billing_duplicates.csv R X | cut -d' ' -f3-)" "True True True 0"
same "summary adds up to the challenge files" "$(python3 -c "
import csv,glob
s=sum(int(r['duplicate_lines'])+int(r['capitated_lines']) for r in csv.DictReader(open('R/summary.csv')))
c=sum(1 for f in glob.glob('R/challenges_*.csv') for r in csv.DictReader(open(f)))
print(s==c and c>0)")" True
expect_rc 0 "workbook with the reconciliation" "$YOC" budget workbook --db D --cohort frailty --year 2022/23 --out fw2.xlsx --reconcile R
same "... its sheet" "$(python3 "$H/budget_xlsx.py" fw2.xlsx D/yoc.db | cut -d' ' -f1-10)" \
	"about tariffs tariff_build service_map budget schedule shadow tagging risk reconciliation"
expect_rc 1 "reconcile without tags for the cohort" "$YOC" reconcile --db D --cohort nobody --billing S/billing --out R2
expect_rc 1 "reconcile a folder with no billing files" "$YOC" reconcile --db D --cohort frailty --billing X/none --out R2

# risk
expect_rc 0 "budget risk, seed 5" "$YOC" budget risk --db D --reps 200 --seed 5 --sizes 100,1000,3000
a=$(q "select group_concat(p_over5 || ',' || cv, ';') from budget_risk where seed = 5")
expect_rc 0 "... again" "$YOC" budget risk --db D --reps 200 --seed 5 --sizes 100,1000,3000
same "... reproduces with the seed" "$(q "select group_concat(p_over5 || ',' || cv, ';') from budget_risk where seed = 5")" "$a"
expect_rc 0 "... seed 6" "$YOC" budget risk --db D --reps 200 --seed 6 --sizes 100,1000,3000
b=$(q "select group_concat(p_over5 || ',' || cv, ';') from budget_risk where seed = 6")
[ "$a" != "$b" ] && [ -n "$a" ]; same "... another seed, other figures" "$?" 0
same "volatility falls with size (CV 100 > 1000 > 3000)" "$(q "select (select cv from budget_risk where seed=5 and size=100) > (select cv from budget_risk where seed=5 and size=1000) and (select cv from budget_risk where seed=5 and size=1000) > (select cv from budget_risk where seed=5 and size=3000)")" 1

# settlement
expect_rc 0 "settle" "$YOC" budget settle --budget 1000000 --actual 1080000 --corridor 2 --share 50 --kpi 1
same "... overspend: provider bears the corridor and half beyond" "$(tail -1 "$TMP/.out")" "1000000.00,1080000.00,80000.00,50000.00,30000.00,10000.00,1040000.00"
expect_rc 0 "settle an underspend" "$YOC" budget settle --budget 500000 --actual 450000 --corridor 3 --share 40
same "... saving shared beyond the corridor" "$(tail -1 "$TMP/.out")" "500000.00,450000.00,-50000.00,-29000.00,-21000.00,0.00,479000.00"
expect_rc 0 "settle the tagged year against the budget" "$YOC" budget settle --db D --cohort frailty --year 2022/23 --corridor 2 --share 50 --kpi -1
same "... from budget_plan and activity_tag, by the formula" "$(tail -1 "$TMP/.out")" "$(python3 -c "
import sqlite3, math
c = sqlite3.connect('D/yoc.db')
B = c.execute(\"select budget from budget_plan where cohort='frailty'\").fetchone()[0]
A = c.execute(\"select sum(cost) from activity_tag where cohort='frailty' and tag='capitated' and activity_date between '2022-04-01' and '2023-03-31'\").fetchone()[0]
r = lambda x: int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)
V = A - B; C = r(B * 0.02); ic = max(-C, min(C, V)); be = V - ic; pb = r(be * 0.5); k = r(B * -0.01)
f = lambda p: ('-' if p < 0 else '') + '%d.%02d' % (abs(p) // 100, abs(p) % 100)
print(','.join(f(x) for x in (B, A, V, ic + pb, be - pb, k, B + be - pb + k)))")"
done_testing

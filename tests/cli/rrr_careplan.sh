#!/bin/sh
# yoc rrr and yoc careplan on hand-made feeds (tests/cli/rrr_fixture.py writes
# pseudonymised APC with discharge ready dates, a GP register, care plans and
# PAM results, and computes every answer itself in python): delays and delayed
# bed days by reason and by provider and month, the discharge model's bed days
# released and beds freed for the default and given cuts, care plan coverage
# by practice and cohort, overdue reviews, goals, actions and needs, PAM change
# by first level; disclosure control of what is printed and published; a
# dataset without the fields; bad options.
. "$(dirname "$0")/lib.sh"
if ! command -v python3 >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then
	skip "rrr and careplan" "no python3 or sqlite3"
	done_testing
	exit 0
fi
export YOC_DATA="${YOC_DATA:-$YOC_ROOT/data}"
F=$TMP/feeds; D=$TMP/ds; E=$TMP/exp
mkdir -p "$E"
python3 "$YOC_ROOT/tests/cli/rrr_fixture.py" "$F" "$E" || { not_ok "fixture"; done_testing; exit 1; }
q() { sqlite3 "$D/yoc.db" "$1"; }
val() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

expect_rc 0 "init" "$YOC" init "$D"
expect_rc 0 "load the fixture feeds" "$YOC" load --db "$D" "$F"/gp_register/*.csv "$F"/apc/*.csv \
	"$F"/careplan/*.csv "$F"/pam/*.csv

# ---- RRR audit ---------------------------------------------------------------
expect_rc 0 "rrr" "$YOC" rrr --db "$D"
cp "$TMP/.out" "$TMP/rrr.out"
for m in spells_with_ready_date ready_after_discharge rrr_spells rrr_delayed_spells rrr_delayed_days \
	delayed_spells delayed_days; do
	same "rrr_summary $m equals the count from the feeds" \
		"$(q "select value from rrr_summary where measure = '$m'")" "$(val $m "$E/rrr_summary.txt")"
done
same "delayed spells and bed days by reason (UNKNOWN: delayed with no reason)" \
	"$(q "select reason || '|' || delayed_spells || '|' || delayed_days from rrr_reason order by reason")" \
	"$(cat "$E/rrr_reason.txt")"
same "spells, RRR spells and delayed bed days by provider and month of discharge" \
	"$(q "select provider || '|' || month || '|' || spells || '|' || rrr_spells || '|' || delayed_days
		from rrr_provider order by provider, month")" "$(cat "$E/rrr_provider.txt")"
same "destinations cover every RRR spell" \
	"$(q "select sum(rrr_spells) from rrr_destination")" "$(val rrr_spells "$E/rrr_summary.txt")"
same "the model's window and spells (needed RRR or delayed)" \
	"$(q "select distinct window_from || '|' || window_to || '|' || model_spells from rrr_cut")" \
	"$(cat "$E/rrr_window.txt")"
cut_rows() {
	q "select reason || '|' || pct || '|' || bed_days_released || '|' || printf('%.6f', mean_before)
		|| '|' || printf('%.6f', beds_freed_mean) || '|' || p95_before || '|' || beds_freed_p95
		from rrr_cut order by ord"
}
same "default cuts (each reason by 50%): bed days released and beds freed as computed in python" \
	"$(cut_rows)" "$(cat "$E/rrr_cut_default.txt")"
expect_rc 0 "rrr --cut HOME=30 --cut=ALL=100 --cut UNKNOWN" \
	"$YOC" rrr --db "$D" --cut HOME=30 --cut=ALL=100 --cut UNKNOWN=50
same "given cuts: bed days released and beds freed as computed in python" \
	"$(cut_rows)" "$(cat "$E/rrr_cut_given.txt")"
same "beds freed on average x nights is at most the bed days released (days before the window)" \
	"$(q "select count(*) from rrr_cut where beds_freed_mean * nights > bed_days_released + 1e-6")" 0

# disclosure control of the printed summary: the rule applied to the exact counts
pub() { python3 -c "import sys; n = int(sys.argv[1]); print(0 if n == 0 else '*' if n <= 7 else (n + 2) // 5 * 5)" "$1"; }
ra=$(val ready_after_discharge "$E/rrr_summary.txt")
check "2 spells ready after discharge are printed as * ($(pub "$ra"))" \
	grep -q "($(pub "$ra") ignored: ready after discharge)" "$TMP/rrr.out"
rs=$(val rrr_spells "$E/rrr_summary.txt")
check "RRR spells printed rounded ($rs -> $(pub "$rs"))" grep -q "^$(pub "$rs") needed rehabilitation" "$TMP/rrr.out"
unk=$(q "select delayed_spells from rrr_reason where reason = 'UNKNOWN'")
check "a small reason's spell count is printed as the rule says ($unk -> $(pub "$unk"))" \
	grep -Eq "UNKNOWN +\\$(pub "$unk") spells" "$TMP/rrr.out"
expect_rc 0 "rrr --no-suppression" "$YOC" rrr --db "$D" --no-suppression
check "--no-suppression prints exact counts" grep -q "^$rs needed rehabilitation" "$TMP/.out"

# ---- care plans ------------------------------------------------------------------
expect_rc 0 "cohort define (the register's tables)" "$YOC" cohort define frail --db "$D" --rule "age >= 65"
sqlite3 "$D/yoc.db" < "$E/cohort.sql"
expect_rc 0 "careplan" "$YOC" careplan --db "$D"
cp "$TMP/.out" "$TMP/careplan.out"
same "reporting date: the latest RECORD_DATE" "$(q "select asof from careplan_run")" "$(val asof "$E/careplan.txt")"
same "plans" "$(q "select count(*) from careplan_plan")" "$(val plans "$E/careplan.txt")"
same "reviews overdue (next review before the reporting date, none since)" \
	"$(q "select sum(overdue) from careplan_plan")" "$(val overdue "$E/careplan.txt")"
same "coverage of the registered population" \
	"$(q "select people || ' ' || with_plan from careplan_cover where grp_kind = 'all'")" \
	"$(val registered "$E/careplan.txt") $(val with_plan "$E/careplan.txt")"
same "coverage and overdue plans by practice" \
	"$(q "select grp || '|' || people || '|' || with_plan || '|' || plans_overdue from careplan_cover
		where grp_kind = 'practice' order by grp")" "$(cat "$E/careplan_cover.txt")"
same "coverage of the cohort's members on the reporting date (cohort_register)" \
	"$(q "select grp || '|' || people || '|' || with_plan from careplan_cover where grp_kind = 'cohort'")" \
	"$(cat "$E/cohort.txt")"
same "goals by domain and status (an item's latest row)" \
	"$(q "select domain || '|' || status || '|' || goals from careplan_goal order by 1")" \
	"$(cat "$E/careplan_goal.txt")"
same "actions and referrals by kind and status" \
	"$(q "select action_kind || '|' || status || '|' || actions from careplan_action order by 1")" \
	"$(cat "$E/careplan_action.txt")"
same "needs by need: all, partly met, unmet (summed over localities)" \
	"$(q "select need || '|' || sum(needs) || '|' || sum(partly) || '|' || sum(unmet) from careplan_need
		group by need order by need")" "$(cat "$E/careplan_need.txt")"
same "unmet and partly met needs by reason add up to the needs table" \
	"$(q "select sum(needs) from careplan_unmet")" "$(q "select sum(partly + unmet) from careplan_need")"
same "PAM: people, measured twice and mean change by first level" \
	"$(q "select baseline_level || '|' || people || '|' || measured_twice || '|' ||
		printf('%.4f', coalesce(mean_change, 0)) from pam_change order by 1")" "$(cat "$E/pam_change.txt")"
np=$(val plans "$E/careplan.txt")
check "careplan prints published counts ($np plans -> $(pub "$np"))" grep -q ": $(pub "$np") plans;" "$TMP/careplan.out"
check "a PAM level measured twice by few people is printed as *" \
	grep -Eq "level [1-4] +[0-9*,]+ people +\\* measured twice" "$TMP/careplan.out"
expect_rc 0 "careplan --asof 2023-12-31" "$YOC" careplan --db "$D" --asof 2023-12-31
same "--asof: only plans created by then" "$(q "select asof from careplan_run")" "2023-12-31"

# ---- the report pages ---------------------------------------------------------------
expect_rc 0 "careplan again on the latest date" "$YOC" careplan --db "$D"
expect_rc 0 "analyse" "$YOC" analyse --db "$D"
expect_rc 0 "report" "$YOC" report --db "$D" --out "$TMP/r"
check "the report has an RRR page" test -s "$TMP/r/rrr.html"
check "... and a Care plans page" test -s "$TMP/r/careplan.html"
check "... linked from the overview" grep -q 'href="rrr.html"' "$TMP/r/index.html"
check "... with sheets in the workbook" test -s "$TMP/r/yoc-report.xlsx"
csvcell() { awk -F, -v r="$2" -v c="$3" '$1 == r { print $c }' "$TMP/r/csv/$1.csv"; }
same "the page's delayed spells with no reason ($unk) are published by the rule" \
	"$(csvcell rrr_reason UNKNOWN 2)" "$(pub "$unk")"
same "... and their bed days are hidden with them" "$(csvcell rrr_reason UNKNOWN 3)" "*"
same "the page's total delayed bed days are the exact total, rounded" \
	"$(csvcell rrr_reason Total 3)" "$(pub "$(val delayed_days "$E/rrr_summary.txt")")"
hidden=$(awk -F, 'NR > 1 && $1 != "Total" && $2 == "*"' "$TMP/r/csv/rrr_reason.csv" | wc -l)
check "no reason's spells can be had by subtraction: 0 or 2+ hidden ($hidden)" test "$hidden" -ne 1
same "goals: the page's total is the exact count, rounded" "$(csvcell careplan_goal Total 6)" \
	"$(pub "$(awk -F'|' '{ s += $3 } END { print s }' "$E/careplan_goal.txt")")"
small=$(q "select count(*) from careplan_goal where goals between 1 and 7")
shown_small=$(awk -F, 'NR > 1 { for (i = 2; i <= NF; i++) if ($i ~ /^[1-7]$/) n++ } END { print n + 0 }' \
	"$TMP/r/csv/careplan_goal.csv")
same "no count of 1-7 goals is published ($small in the table)" "$shown_small" 0
check "PAM means are hidden where few people were measured twice" \
	grep -q '^2 (becoming aware),[^,]*,[^,]*,\*,\*,\*,\*' "$TMP/r/csv/pam_change.csv"

# ---- a dataset without the fields, bad options ---------------------------------
expect_rc 0 "init a dataset of older extracts" "$YOC" init "$TMP/old"
expect_rc 0 "load APC without DISREADYDATE" "$YOC" load --db "$TMP/old" "$F"/gp_register/*.csv \
	"$TMP"/old/apc/*.csv
expect_rc 1 "rrr on it fails" "$YOC" rrr --db "$TMP/old"
check "... saying there are no discharge ready dates" grep -q "no discharge ready dates in this dataset" "$TMP/.err"
check "... and no tables written" test "$(sqlite3 "$TMP/old/yoc.db" "select count(*) from sqlite_master where name like 'rrr%'")" = 0
expect_rc 1 "careplan on it fails" "$YOC" careplan --db "$TMP/old"
check "... saying there are no care plans" grep -q "no care plans in this dataset" "$TMP/.err"
expect_rc 2 "--cut with a lower-case reason" "$YOC" rrr --db "$D" --cut home=30
check "... names the option, line and column" grep -q "rrr: --cut:1:1: " "$TMP/.err"
expect_rc 2 "--cut above 100%" "$YOC" rrr --db "$D" --cut HOME=101
check "... at the column of the number" grep -q "rrr: --cut:1:6: a percentage is at most 100" "$TMP/.err"
expect_rc 2 "--cut of an unknown reason" "$YOC" rrr --db "$D" --cut BEDS=10
check "... lists the reasons" grep -q "not a delay reason (NO_SERVICE, ASSESSMENT" "$TMP/.err"
expect_rc 2 "--cut without a value" "$YOC" rrr --db "$D" --cut
expect_rc 2 "rrr without --db" "$YOC" rrr
expect_rc 2 "rrr --round 0" "$YOC" rrr --db "$D" --round 0
expect_rc 2 "rrr with an unknown option" "$YOC" rrr --db "$D" --cuts HOME=5
expect_rc 2 "careplan --asof not a date" "$YOC" careplan --db "$D" --asof 2024-13-01
expect_rc 1 "rrr on a folder that is not a dataset" "$YOC" rrr --db "$TMP/nowhere"

# ---- the synthetic economy against its truth ----------------------------------------
S=$TMP/synth; K=$TMP/key.hex; P=$TMP/pseudo; SD=$TMP/sds
expect_rc 0 "synth --clean 3000 persons x 2 years" "$YOC" synth --clean --persons 3000 --years 2 --out "$S"
if [ ! -f "$S/truth/discharge.csv" ]; then
	skip "the synthetic economy's discharges against truth/discharge.csv" "synth writes no discharge truth"
	done_testing
	exit $?
fi
expect_rc 0 "keygen" "$YOC" keygen --out "$K"
expect_rc 0 "pseudonymise" "$YOC" pseudonymise --key "$K" --in "$S/feeds" --out "$P"
expect_rc 0 "init" "$YOC" init "$SD"
expect_rc 0 "load" "$YOC" load --db "$SD" "$P"
expect_rc 0 "rrr on the synthetic economy" "$YOC" rrr --db "$SD"
expect_rc 0 "careplan on the synthetic economy" "$YOC" careplan --db "$SD"
sqlite3 -csv -header "$SD/yoc.db" "select susspellid, rrr_need, coalesce(delay_reason, ''), delayed_days,
	ready from rrr_spell" > "$TMP/spells.csv"
sqlite3 -csv -header "$SD/yoc.db" "select plan_id, review_due, goals, actions, needs, needs_unmet from careplan_plan" \
	> "$TMP/plans.csv"
sqlite3 -csv -header "$SD/yoc.db" "select * from pam_change" > "$TMP/pam.csv"
asof=$(sqlite3 "$SD/yoc.db" "select asof from careplan_run")
python3 - "$S/truth" "$TMP/spells.csv" "$TMP/plans.csv" "$TMP/pam.csv" "$asof" > "$TMP/truth.txt" <<'PY'
import csv, sys
truth, spells, plans, pamf, asof = sys.argv[1:6]
t = {r['susspellid']: r for r in csv.DictReader(open(truth + '/discharge.csv'))}
ours = {r['susspellid']: r for r in csv.DictReader(open(spells))}
print('spells', len(t), len(ours))
print('spells_missing', sum(1 for k in t if k not in ours))
bad = [k for k, r in t.items() if k in ours and (int(r['delayed_days'] or 0) != int(ours[k]['delayed_days'])
       or (r['rrr_need'] == 'Y') != (ours[k]['rrr_need'] == '1')
       or (r['delay_reason'] or '') != (ours[k]['coalesce(delay_reason, \'\')'] or '')
       and int(r['delayed_days'] or 0) > 0)]
print('spells_differ', len(bad), ' '.join(bad[:3]))
for why in ('NO_SERVICE', 'ASSESSMENT', 'RESIDENTIAL', 'HOME'):
    a = sum(int(r['delayed_days'] or 0) for r in t.values() if r['delay_reason'] == why)
    b = sum(int(r['delayed_days']) for r in ours.values() if r['coalesce(delay_reason, \'\')'] == why)
    print('days_' + why, a, b)
rrr = [r for r in t.values() if r['rrr_need'] == 'Y']
print('rrr_delayed', sum(int(r['delayed_days'] or 0) > 0 for r in rrr),
      sum(1 for r in ours.values() if r['rrr_need'] == '1' and int(r['delayed_days']) > 0))
tp = {r['plan_id']: r for r in csv.DictReader(open(truth + '/careplan.csv'))}
op = {r['plan_id']: r for r in csv.DictReader(open(plans))}
print('plans', len(tp), len(op))
print('plans_differ', sum(1 for k, r in tp.items() if k not in op or int(r['goals']) != int(op[k]['goals'])
      or int(r['actions']) != int(op[k]['actions'])))
od = sum(1 for r in tp.values() if r['next_review'] and r['next_review'] < asof
         and (not r['last_review'] or r['last_review'] < r['next_review']))
print('overdue', od, sum(int(r['review_due']) for r in op.values()))
lv = lambda s: 1 if s <= 470 else 2 if s <= 551 else 3 if s <= 670 else 4
by = {}
for r in sorted(csv.DictReader(open(truth + '/pam.csv')), key=lambda r: (r['nhs_number'], r['pam_date'])):
    if r['pam_date'] <= asof:
        by.setdefault(r['nhs_number'], []).append(round(float(r['score']) * 10))
ch = {int(r['baseline_level']): r for r in csv.DictReader(open(pamf))}
for l in (1, 2, 3, 4):
    two = [v for v in by.values() if lv(v[0]) == l and len(v) >= 2]
    m = sum(v[-1] - v[0] for v in two) / len(two) / 10 if two else 0
    print('pam_%d' % l, len(two), '%.4f' % m, ch[l]['measured_twice'], '%.4f' % float(ch[l]['mean_change'] or 0))
PY
tv() { awk -v k="$1" '$1 == k { $1 = ""; print substr($0, 2) }' "$TMP/truth.txt"; }
r=$(tv spells); same "every spell with a ready date in truth/discharge.csv is found (truth, ours)" \
	"$(echo "$r" | awk '{ print $2 }')" "$(echo "$r" | awk '{ print $1 }')"
same "no truth spell is missing" "$(tv spells_missing)" 0
same "delayed days, RRR need and reason equal the truth spell by spell" "$(tv spells_differ | awk '{ print $1 }')" 0
for why in NO_SERVICE ASSESSMENT RESIDENTIAL HOME; do
	r=$(tv days_$why)
	same "delayed bed days, $why: $r" "$(echo "$r" | awk '{ print $2 }')" "$(echo "$r" | awk '{ print $1 }')"
done
r=$(tv rrr_delayed); same "RRR spells delayed: $r" "$(echo "$r" | awk '{ print $2 }')" "$(echo "$r" | awk '{ print $1 }')"
r=$(tv plans); same "care plans equal truth/careplan.csv: $r" "$(echo "$r" | awk '{ print $2 }')" "$(echo "$r" | awk '{ print $1 }')"
same "goals and actions per plan equal the truth" "$(tv plans_differ)" 0
r=$(tv overdue); same "reviews due and not done on $asof: $r" "$(echo "$r" | awk '{ print $2 }')" "$(echo "$r" | awk '{ print $1 }')"
for l in 1 2 3 4; do
	r=$(tv pam_$l)
	same "PAM change, first level $l (people, mean change): $r" "$(echo "$r" | awk '{ print $3, $4 }')" \
		"$(echo "$r" | awk '{ print $1, $2 }')"
done

# with defects: a ready date after the discharge is counted and ignored, once per spell
S2=$TMP/synth2; SD2=$TMP/sds2
expect_rc 0 "synth with defects" "$YOC" synth --persons 3000 --years 2 --out "$S2"
expect_rc 0 "pseudonymise it" "$YOC" pseudonymise --key "$K" --in "$S2/feeds" --out "$TMP/pseudo2"
expect_rc 0 "init" "$YOC" init "$SD2"
expect_rc 0 "load" "$YOC" load --db "$SD2" "$TMP/pseudo2"
expect_rc 0 "rrr" "$YOC" rrr --db "$SD2"
same "spells with a ready date after discharge: as many as synth injected" \
	"$(sqlite3 "$SD2/yoc.db" "select value from rrr_summary where measure = 'ready_after_discharge'")" \
	"$(python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['outcome_defect_totals']['ready_after_discharge'])" "$S2/manifest.json")"
same "... and their ready dates are not used" \
	"$(sqlite3 "$SD2/yoc.db" "select count(*) from rrr_spell where ready_after = 1 and (ready is not null or delayed_days != 0)")" 0
done_testing

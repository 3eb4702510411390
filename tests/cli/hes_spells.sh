#!/bin/sh
# NHS Digital's Artificial HES APC sample (2,075 episodes, 2001/02) through
# load -> analyse -> report, with a GP register written here for its 994
# people: HES's own "no procedure" (`-` padded to the field width) and "not
# known" (`&`) values load without a flag; emergency admissions are the 739
# spells whose first episode (EPIORDER 1) has an emergency ADMIMETH (817
# episodes carry one), counted apart from the other non-elective admissions
# (maternity, births, transfers); its SUSHRG is empty, so every spell is
# priced at a department average, and the report says so with a warning.
# Expected figures are computed here with python's csv module.
. "$(dirname "$0")/lib.sh"
HES=$YOC_ROOT/../shared/reference/hes/samples
APC=$HES/artificial_hes_apc_0102.csv
if [ ! -f "$APC" ] || ! command -v python3 >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then
	skip "Artificial HES spells" "no ../shared/reference, python3 or sqlite3"
	done_testing
	exit 0
fi
export YOC_DATA="${YOC_DATA:-$YOC_ROOT/data}"
F=$TMP/feeds; D=$TMP/ds
mkdir -p "$F/apc" "$F/gp_register"
ln -s "$APC" "$F/apc/HES_2001-02.csv"
# A register snapshot for every financial year the admissions fall in.
python3 - "$APC" "$F/gp_register" > "$TMP/expect.txt" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline='')))
people = {}
for r in rows:
    people.setdefault(r['PSEUDO_HESID'], (r['MYDOB'], r['SEX']))
for y in range(1996, 2003):
    with open('%s/HES_%d-%02d.csv' % (sys.argv[2], y, (y + 1) % 100), 'w') as f:
        f.write('PSEUDO_HESID,GPPRAC,REG_START,SEX,MYDOB\n')
        for p, (dob, sex) in sorted(people.items()):
            f.write('%s,P00001,1990-01-01,%s,%s\n' % (p, sex, dob if dob[2:] != '1801' else ''))
em = {'21', '22', '23', '24', '25', '28', '2A', '2B', '2C', '2D'}
first = [r for r in rows if r['EPIORDER'].strip() == '1']
print('emergency_episodes', sum(r['ADMIMETH'].strip() in em for r in rows))
print('emergency_admissions', sum(r['ADMIMETH'].strip() in em for r in first))
print('other_nonelective', sum(r['ADMIMETH'].strip() not in em | {'11', '12', '13'}
                               and r['CLASSPAT'].strip() != '2' for r in first))
print('maternity_births_transfers', sum(r['ADMIMETH'].strip() in ('31', '32', '81', '82', '83')
                                        for r in rows))
print('padded', sum(1 for r in rows for k, v in r.items()
                    if k.startswith(('OPERTN_4_0', 'DIAG_4_0')) and v.strip() in ('-', '&') and v != v.strip()))
print('unknown', sum(1 for r in rows for k, v in r.items()
                     if k in ('GPPRAC', 'TRETSPEF', 'MAINSPEF') or k.startswith(('OPERTN_4_0', 'DIAG_4_0'))
                     if v.strip() == '&'))
PY
val() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/expect.txt"; }
same "the sample: 817 episodes carry an emergency method, 739 start a spell" \
	"$(val emergency_episodes) $(val emergency_admissions)" "817 739"
same "the sample: 268 episodes are maternity, births or transfers" "$(val maternity_births_transfers)" 268

expect_rc 0 "init" "$YOC" init "$D"
expect_rc 0 "load the APC sample and the register" "$YOC" load --db "$D" "$F/apc/HES_2001-02.csv" "$F"/gp_register/*.csv
q() { sqlite3 "$D/yoc.db" "$1"; }
n=$(q "select count(*) from flags f join files using(file_id) where kind = 'apc' and reason = 'bad_code'
	and (trim(value, ' ' || char(9)) in ('-', '&'))")
same "padded '-' ($(val padded) cells) and '&' ($(val unknown) cells) are HES values, not bad codes" "$n" 0
expect_rc 0 "analyse" "$YOC" analyse --db "$D"
same "emergency admissions: the 739 spells with an emergency first episode" \
	"$(q "select sum(emergency_admissions) from person_year")" "$(val emergency_admissions)"
same "other non-elective admissions (maternity, births, transfers, unknown) counted apart" \
	"$(q "select sum(other_nonelective_admissions) from person_year")" "$(val other_nonelective)"
same "cost_nonelective = cost_emergency + cost_other_nonelective in every person-year" \
	"$(q "select count(*) from person_year where cost_nonelective != cost_emergency + cost_other_nonelective")" 0
same "every APC episode is priced at a department average (SUSHRG empty)" \
	"$(q "select group_concat(how) from (select distinct how from costing_summary where feed = 'apc')")" \
	"priced_at_average"
expect_rc 0 "report" "$YOC" report --db "$D" --out "$TMP/r" --fyear 2001/02
check "the report states how the cost was priced" test -s "$TMP/r/csv/costing_basis.csv"
avg=$(awk -F, '/^Department average/ { print $3 }' "$TMP/r/csv/costing_basis.csv")
same "the report's share priced at department averages is 100%" "$avg" "100.0"
check "the report warns that averages dominate" grep -q "Warning:</b> most of the cost" "$TMP/r/index.html"
done_testing

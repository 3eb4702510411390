#!/bin/sh
# What linkage at source adds, checked independently (docs/linkage.md):
# synth --identifiers sends some rows under a person's temporary NHS number
# (truth/duplicates.csv), and yoc link must report exactly those as the same
# person under two numbers; then the economy is analysed twice, from the
# linked feeds and from the feeds as they came, and the linkage_gain table
# (LINK_STATUS carried through pseudonymise and load) must equal, to the
# penny, the difference between the two person_year tables, setting by
# setting, and in emergency admissions; the quality report shows it.
. "$(dirname "$0")/lib.sh"
for v in synth link keygen pseudonymise init load analyse quality; do
	if ! "$YOC" help "$v" >/dev/null 2>&1; then
		skip "link_gain" "yoc $v not built"; done_testing; exit 0
	fi
done
if ! command -v python3 >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then
	skip "link_gain" "python3 or the sqlite3 CLI missing"; done_testing; exit 0
fi
export YOC_DATA="${YOC_DATA:-$YOC_ROOT/data}"
cd "$TMP" || exit 1

"$YOC" synth --persons 12000 --seed 3 --identifiers --out S >/dev/null 2>&1
same "synth --identifiers" "$?" 0
check "truth/duplicates.csv lists rows sent under a temporary number" \
	test "$(wc -l < S/truth/duplicates.csv)" -gt 50
"$YOC" link --register S/feeds/gp_register --in S/feeds --out L --review r.csv >/dev/null 2>&1
same "link" "$?" 0
check "the same person under two NHS numbers: every report is right, 98% found" python3 - <<'PEOF'
import csv, sys
truth = {(r['file'][len('feeds/'):], r['row']): (r['nhs_number'], r['true_nhs_number'])
         for r in csv.DictReader(open('S/truth/duplicates.csv'))}
found = {}
for r in csv.DictReader(open('L/.link/duplicates.csv')):
    # a file sent twice holds the same rows as its first copy
    found[(r['file'].replace('_v2.csv', '.csv'), r['row'])] = (r['nhs_number'],
                                                              r['register_nhs_number'])
wrong = sum(1 for k, v in found.items() if truth.get(k) != v)
hit = sum(1 for k, v in truth.items() if found.get(k) == v)
print('truth', len(truth), 'reported', len(found), 'wrong', wrong, 'found', hit)
sys.exit(wrong != 0 or hit < 0.98 * len(truth))
PEOF

"$YOC" keygen --out K >/dev/null 2>&1 &&
	"$YOC" pseudonymise --key K --in L --out P >/dev/null 2>&1 &&
	"$YOC" pseudonymise --key K --in S/feeds --out P0 >/dev/null 2>&1 &&
	"$YOC" init D >/dev/null 2>&1 && "$YOC" load --db D P >/dev/null 2>&1 &&
	"$YOC" analyse --db D >/dev/null 2>&1 &&
	"$YOC" init D0 >/dev/null 2>&1 && "$YOC" load --db D0 P0 >/dev/null 2>&1 &&
	"$YOC" analyse --db D0 >/dev/null 2>&1
same "both economies loaded and analysed" "$?" 0
check "LINK_STATUS reaches the dataset" sh -c \
	"head -1 P/apc/\$(ls P/apc | head -1) | grep -q LINK_STATUS"
check "linkage_gain equals the difference with and without linkage, to the penny" python3 - <<'PEOF'
import sqlite3, sys
setting = {'op': ['cost_outpatient'], 'ae': ['cost_ae'], 'community': ['cost_community'],
           'mh': ['cost_mh'], 'gp_appt': ['cost_gp'], 'social_care': ['cost_social_care'],
           'ambulance': ['cost_ambulance'],
           'apc': ['cost_elective', 'cost_nonelective', 'cost_daycase']}
def totals(path):
    db = sqlite3.connect(path)
    out = {}
    for feed, cols in setting.items():
        for fy, v in db.execute('select fyear, sum(%s) from person_year group by 1' % '+'.join(cols)):
            out[(fy, feed)] = v
    for fy, v in db.execute('select fyear, sum(emergency_admissions) from person_year group by 1'):
        out[(fy, 'emergency')] = v
    return out
a, b = totals('D/yoc.db'), totals('D0/yoc.db')
db = sqlite3.connect('D/yoc.db')
gain = {}
for fy, feed, cost, em in db.execute('select fyear, feed, sum(cost), sum(emergency_admissions) '
                                     'from linkage_gain group by 1, 2'):
    gain[(fy, feed)] = cost
    gain[(fy, 'emergency')] = gain.get((fy, 'emergency'), 0) + em
bad = 0
for k in a:
    want = a[k] - b.get(k, 0)
    got = gain.get(k, 0)
    if want != got:
        print('differs', k, 'with - without', want, 'linkage_gain', got)
        bad += 1
print('checked', len(a), 'figures; linked cost', sum(v for k, v in gain.items() if k[1] != 'emergency'))
sys.exit(bad or not gain)
PEOF
"$YOC" quality --db D --out Q >/dev/null 2>&1
same "quality" "$?" 0
check "the quality report shows what linkage found" grep -q 'id="linkage-gain"' Q/quality.html
"$YOC" quality --db D0 --out Q0 >/dev/null 2>&1
check "... and not without linkage" sh -c '! grep -q "id=\"linkage-gain\"" Q0/quality.html'
done_testing

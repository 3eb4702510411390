#!/bin/sh
# The report's content pages (conditions, trends, deprivation, concentration)
# on a crafted person_year of 4,000 people over two years, with three
# conditions of the code list, IMD deciles, and an activity_month table with
# a step change. tests/cli/report_pages.py recomputes every published table
# independently from the database (python3's sqlite3): exactly with
# --no-suppression; with the default rule every published value must be the
# rule applied to the independent value, or hidden. SPC limits are
# recomputed from the published monthly series, Lorenz points and the Gini
# coefficient from the sorted costs.
. "$(dirname "$0")/lib.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip "report pages" "python3 missing"; done_testing; exit 0
fi
D="$TMP/ds"; mkdir -p "$D"
python3 - "$D/yoc.db" "$YOC_ROOT/data/ltc_codelist.csv" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
sets = ['elective', 'nonelective', 'daycase', 'outpatient', 'ae', 'community', 'mh', 'gp',
        'social_care', 'ambulance']
db.execute('CREATE TABLE person_year(pseudo_id TEXT, fyear TEXT, age INTEGER, sex TEXT, '
           'practice TEXT, imd_decile INTEGER, hypertension INTEGER, diabetes INTEGER, '
           'asthma INTEGER, depression INTEGER, ltc_count INTEGER, mental_ltc_count INTEGER, '
           'band TEXT, emergency_admissions INTEGER, bed_days INTEGER, died INTEGER, '
           'cost_total INTEGER, ' + ', '.join('cost_%s INTEGER' % s for s in sets) + ')')
state = 12345
def rnd(n):
    global state
    state = (state * 6364136223846793005 + 1442695040888963407) % 2 ** 64
    return (state >> 33) % n
rows = []
for fy in ('2022/23', '2023/24'):
    for i in range(4000 if fy == '2023/24' else 3900):
        age = rnd(100)
        dec = None if rnd(50) == 0 else 1 + rnd(10)
        c = [int(rnd(100) < 10 + age // 3), int(rnd(100) < 3 + age // 8 + (dec or 5) // 3),
             int(rnd(100) < 8), int(rnd(100) < 6 + (11 - (dec or 5)))]
        l = sum(c)
        em = rnd(3) * (rnd(10) < 2 + l + (11 - (dec or 5)) // 3)
        cost = [rnd(40000) * (rnd(10) < 1 + l) for _ in sets]
        if i < 5:                      # a few very costly people
            cost[1] += 2000000 + i
        rows.append(('p%05d' % i, fy, age, 'F' if rnd(2) else 'M', 'P%02d' % rnd(6), dec,
                     *c, l, c[3], 'A' if l <= 1 else 'B', em, 0, 0, sum(cost), *cost))
db.executemany('INSERT INTO person_year VALUES(%s)' % ','.join('?' * 27), rows)
db.execute('CREATE TABLE analyse_run(key TEXT, value TEXT)')
db.executemany('INSERT INTO analyse_run VALUES(?,?)', [('codelist', sys.argv[2]),
               ('bands', 'A:0-1,B:2+'), ('first_fyear', '2022/23'), ('last_fyear', '2023/24')])
db.execute('CREATE TABLE activity_month(fyear TEXT, month TEXT, setting TEXT, events INTEGER, cost INTEGER)')
am = []
for m in range(24):
    fy = '2022/23' if m < 12 else '2023/24'
    ym = '%04d-%02d' % (2022 + (m + 3) // 12, (m + 3) % 12 + 1)
    for k, s in enumerate(sets):
        ev = 0 if s == 'mh' else 3 if s == 'daycase' and m == 5 else \
            200 + 10 * k + rnd(40) + (150 if s == 'gp' and m >= 14 else 0)
        am.append((fy, ym, s, ev, ev * 1234 + rnd(100)))
db.executemany('INSERT INTO activity_month VALUES(?,?,?,?,?)', am)
db.commit()
PY
expect_rc 0 "report --no-suppression" "$YOC" report --db "$D" --out "$TMP/raw" --no-suppression
expect_rc 0 "report (default rule)" "$YOC" report --db "$D" --out "$TMP/r5"
for p in conditions trends deprivation concentration; do
	[ -s "$TMP/r5/$p.html" ] && ok "$p.html written" || not_ok "$p.html written"
	grep -q "href=\"$p.html\"" "$TMP/r5/index.html" && ok "index links to $p.html" ||
		not_ok "index links to $p.html"
done
for mode in raw r5; do
	out=$(python3 "$YOC_ROOT/tests/cli/report_pages.py" "$D/yoc.db" "$TMP/$mode" "$mode" 2>&1)
	echo "$out" | sed 's/^/# /' | head -30
	n=$(echo "$out" | grep -c '^checked ')
	bad=$(echo "$out" | grep -c '^BAD ')
	same "every new table recomputed ($mode): $(echo "$out" | grep '^checked' | tr '\n' ' ')" "$n:$bad" "8:0"
done
# the step change in GP activity from month 15 is a special cause (shift)
grep -q '^2023-06,GP,.*shift' "$TMP/r5/csv/activity_month.csv" && ok "GP step change flagged as a shift" ||
	not_ok "GP step change flagged as a shift"
# a series with a hidden month (day case, 3 events) gets no limits
grep '^[^,]*,Day case,' "$TMP/r5/csv/activity_month.csv" | cut -d, -f6,7 | sort -u | grep -qv '^\*,\*$' &&
	not_ok "a series with a hidden month has no limits" || ok "a series with a hidden month has no limits"
# the attacker's view: the new tables are in the workbook and the CSVs agree
python3 "$YOC_ROOT/tests/cli/sdc_attack.py" "$TMP/r5" "$TMP/raw" > "$TMP/attack.txt"
grep -q ': 0 leaks$' "$TMP/attack.txt" && ok "attack: $(tail -1 "$TMP/attack.txt")" ||
	{ not_ok "attack: $(tail -1 "$TMP/attack.txt")"; grep '^# ' "$TMP/attack.txt" | head -10; }
done_testing

#!/bin/sh
# Disclosure control of yoc report, attacked: a person_year table with small
# cells (a 3-person practice, a 12-person practice, 25 people whose practice
# is unknown, one small count of unpriced activity) is reported with and
# without suppression, and tests/cli/sdc_attack.py tries to recover every
# protected count from everything published (CSVs, pages, charts, workbook):
# by subtraction (a total with one hidden term), by linear algebra over
# every relation between the published tables, and by ratios (a total cost
# over its mean; a percentage of a group), then by exact differences with
# what the ratios gave. With --round 1 the published counts are exact, so
# only hidden ones are protected; with the default rule the exact value of
# every rounded count is protected too.
. "$(dirname "$0")/lib.sh"

if ! command -v sqlite3 >/dev/null 2>&1; then
	skip "report disclosure attack" "sqlite3 CLI missing"; done_testing; exit 0
fi
D="$TMP/ds"; mkdir -p "$D"
sqlite3 "$D/yoc.db" <<'SQL'
CREATE TABLE person_year(pseudo_id TEXT, fyear TEXT, age INTEGER, sex TEXT,
  practice TEXT, imd_decile INTEGER, ltc_count INTEGER, mental_ltc_count INTEGER,
  band TEXT, emergency_admissions INTEGER, bed_days INTEGER, died INTEGER,
  cost_total INTEGER, cost_elective INTEGER, cost_nonelective INTEGER,
  cost_daycase INTEGER, cost_outpatient INTEGER, cost_ae INTEGER,
  cost_community INTEGER, cost_mh INTEGER, cost_gp INTEGER,
  cost_social_care INTEGER, cost_ambulance INTEGER);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3017)
INSERT INTO person_year
SELECT printf('p%05d', i), '2023/24', (i * 37) % 100, CASE i % 3 WHEN 0 THEN 'F' WHEN 1 THEN 'M' ELSE 'F' END,
  CASE WHEN i <= 3 THEN 'TINY' WHEN i <= 15 THEN 'SMALL' WHEN i > 2992 THEN NULL
    ELSE printf('P%02d', (i * 7) % 5) END,
  1 + i % 10, l, min(l, (i * 5) % 3),
  CASE WHEN l <= 1 THEN 'A' WHEN l = 2 THEN 'B' WHEN l <= 5 THEN 'C' WHEN l <= 8 THEN 'D' ELSE 'E' END,
  (i * 3) % 4 * (l > 3), 0, 0, c, 0, c, 0, 0, 0, 0, 0, 0, 0, 0
FROM (SELECT i, l, 100 * l * (1 + i % 7) + (i * 7919) % 9000 AS c
  FROM (SELECT i, CASE WHEN i % 50 = 0 THEN 9 + i % 3 ELSE (i * 13 % 97) % 9 END AS l FROM n));
CREATE TABLE analyse_run(key TEXT, value TEXT);
INSERT INTO analyse_run VALUES ('bands', 'A:0-1,B:2,C:3-5,D:6-8,E:9+'), ('first_fyear', '2023/24'),
  ('last_fyear', '2023/24'), ('person_years', '3017');
-- exactly one small cell: 3 records
CREATE TABLE unpriced_activity(fyear TEXT, feed TEXT, reason TEXT, records INTEGER);
INSERT INTO unpriced_activity VALUES ('2023/24', 'op', 'no_price', 3),
  ('2023/24', 'op', 'not_registered', 50), ('2023/24', 'apc', 'no_pseudonym', 40),
  ('2023/24', 'ae', 'outside_registration', 120);
SQL
expect_rc 0 "report without suppression (the truth)" "$YOC" report --db "$D" --out "$TMP/raw" --no-suppression
expect_rc 0 "report, rounding off (--round 1)" "$YOC" report --db "$D" --out "$TMP/r1" --round 1
expect_rc 0 "report, default rule" "$YOC" report --db "$D" --out "$TMP/r5"

# unpriced activity: the small cell and a second one hidden, the total shown
U="$TMP/r1/csv/unpriced_activity.csv"
same "unpriced: the 3 is hidden" "$(grep '^op,no_price,' "$U")" "op,no_price,*"
same "unpriced: two cells hidden, not one" "$(sed 1d "$U" | grep -v '^Total' | grep -c ',\*$')" 2
same "unpriced: the total is published in the table" "$(grep '^Total,' "$U")" "Total,,213"
grep -q '<p>213 activity records in 2023/24' "$TMP/r1/index.html" && ok "unpriced: the same total in the page" ||
	not_ok "unpriced: the same total in the page"
# the subtraction attack on the table as published, written out
got=$(python3 - "$U" <<'PY'
import csv, sys
r = [x for x in csv.reader(open(sys.argv[1]))][1:]
total = int(r[-1][2])
hid = [x for x in r[:-1] if x[2] == '*']
print(total - sum(int(x[2]) for x in r[:-1] if x[2] != '*') if len(hid) == 1 else "no single hidden cell")
PY
)
same "unpriced: total minus the shown cells does not give the hidden one" "$got" "no single hidden cell"

# practice packs: a practice hidden in the table of practices is hidden in its pack too
for p in TINY SMALL; do
	same "$p: count hidden in the table of practices" "$(grep "^$p," "$TMP/r1/csv/practices.csv" | cut -d, -f2)" "*"
done
nh=$(sed 1d "$TMP/r1/csv/practices.csv" | cut -d, -f2 | grep -c '^\*$')
[ "$nh" -ge 2 ] && ok "table of practices: $nh counts hidden" || not_ok "table of practices: $nh counts hidden"
for f in bands:2 ltc_count:2 population:5; do
	leak=0
	for p in $(sed 1d "$TMP/r1/csv/practices.csv" | grep -v '^Practice unknown,' | grep '^[^,]*,\*,' | cut -d, -f1); do
		grep '^Total,' "$TMP/r1/csv/practices/${p}_${f%:*}.csv" | cut -d, -f"${f#*:}" | grep -qv '^\*$' && leak=1
	done
	same "a hidden practice's total is hidden in its ${f%:*} pack table" "$leak" 0
done

# people whose practice is unknown (NULL): a group, not an organisation
for r in r1 r5; do
	same "practice unknown: a row of the table of practices ($r)" \
		"$(grep -c '^Practice unknown,25,' "$TMP/$r/csv/practices.csv")" 1
	same "practice unknown: no data pack ($r)" \
		"$(ls "$TMP/$r/practices" "$TMP/$r/csv/practices" | grep -ci 'unknown')" 0
	grep -q '25 people registered in 2023/24 are counted under <i>Practice unknown</i>' "$TMP/$r/index.html" &&
		ok "practice unknown: the page says how many and why ($r)" ||
		not_ok "practice unknown: the page says how many and why ($r)"
done
same "practice unknown: no link to a pack" "$(grep -c 'practices/[^"]*nknown' "$TMP/r5/index.html")" 0

# money: means are published sums over published counts; sums to 3
# significant figures (never finer than pounds). The mean of LTC group 1:
# its total over its published count, to whole pounds.
got=$(python3 - "$TMP/r5" "$TMP/raw" <<'PY'
import csv, sys
from decimal import Decimal, ROUND_HALF_UP
def rows(d, n): return [r for r in csv.reader(open(d + '/csv/' + n)) if r and r[0][0] != '#']
def sf3(x):  # pounds -> 3 significant figures, at least whole pounds
    x = Decimal(x); e = max(0, len(str(int(abs(x)))) - 3)
    q = Decimal(10) ** e
    return (x / q).quantize(Decimal(1), rounding=ROUND_HALF_UP) * q
bad = []
pub, raw = rows(sys.argv[1], 'cost_by_ltc_count.csv'), rows(sys.argv[2], 'cost_by_ltc_count.csv')
for p, r in zip(pub[1:], raw[1:]):
    if p[-1] == '*':
        continue
    if Decimal(p[-1]) != sf3(r[-1]): bad.append('total %s: %s, want %s' % (p[0], p[-1], sf3(r[-1])))
    want = (Decimal(p[-1]) / int(p[1])).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    if Decimal(p[-2]) != want: bad.append('mean %s: %s, want %s' % (p[0], p[-2], want))
print('; '.join(bad) or 'ok')
PY
)
same "Figure 5: totals to 3 significant figures, means = total / published count" "$got" ok

# every relation, every attack
for r in r1 r5; do
	python3 "$YOC_ROOT/tests/cli/sdc_attack.py" "$TMP/$r" "$TMP/raw" > "$TMP/attack_$r.txt"
	same "attack script ran ($r)" "$?" 0
	grep '^# ' "$TMP/attack_$r.txt" | head -8
	grep -q 'small, [0-9]* protected, [1-9][0-9]* figures (0 underived): 0 leaks$' "$TMP/attack_$r.txt" &&
		ok "no protected count recovered from what is published ($r: $(tail -1 "$TMP/attack_$r.txt"))" ||
		not_ok "no protected count recovered from what is published ($r: $(tail -1 "$TMP/attack_$r.txt"))"
done
done_testing

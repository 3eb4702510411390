#!/bin/sh
# Disclosure control of yoc report, attacked: a person_year table with small
# cells (a 3-person practice, a 12-person practice, one small count of
# unpriced activity) is reported with and without suppression, and
# tests/cli/sdc_attack.py tries to recover every hidden small count from the
# published totals: by subtraction (a total with one hidden term) and by
# linear algebra over every relation between the published tables. With
# --round 1 the published counts are exact, so recovering is exact too.
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
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3015)
INSERT INTO person_year
SELECT printf('p%05d', i), '2023/24', (i * 37) % 100, CASE i % 3 WHEN 0 THEN 'F' WHEN 1 THEN 'M' ELSE 'F' END,
  CASE WHEN i <= 3 THEN 'TINY' WHEN i <= 15 THEN 'SMALL' ELSE printf('P%02d', (i * 7) % 5) END,
  1 + i % 10, l, min(l, (i * 5) % 3),
  CASE WHEN l <= 1 THEN 'A' WHEN l = 2 THEN 'B' WHEN l <= 5 THEN 'C' WHEN l <= 8 THEN 'D' ELSE 'E' END,
  0, 0, 0, 100 * l, 0, 100 * l, 0, 0, 0, 0, 0, 0, 0, 0
FROM (SELECT i, CASE WHEN i % 50 = 0 THEN 9 + i % 3 ELSE (i * 13 % 97) % 9 END AS l FROM n);
CREATE TABLE analyse_run(key TEXT, value TEXT);
INSERT INTO analyse_run VALUES ('bands', 'A:0-1,B:2,C:3-5,D:6-8,E:9+');
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
	for p in $(sed 1d "$TMP/r1/csv/practices.csv" | grep '^[^,]*,\*,' | cut -d, -f1); do
		grep '^Total,' "$TMP/r1/csv/practices/${p}_${f%:*}.csv" | cut -d, -f"${f#*:}" | grep -qv '^\*$' && leak=1
	done
	same "a hidden practice's total is hidden in its ${f%:*} pack table" "$leak" 0
done

# every relation, both attacks
for r in r1 r5; do
	python3 "$YOC_ROOT/tests/cli/sdc_attack.py" "$TMP/$r" "$TMP/raw" > "$TMP/attack_$r.txt"
	same "attack script ran ($r)" "$?" 0
	grep '^# leak' "$TMP/attack_$r.txt" | head -5
	grep -q 'hidden, [1-9][0-9]* small: 0 leaks$' "$TMP/attack_$r.txt" &&
		ok "no small count recovered from the published totals ($r: $(tail -1 "$TMP/attack_$r.txt"))" ||
		not_ok "no small count recovered from the published totals ($r: $(tail -1 "$TMP/attack_$r.txt"))"
done
done_testing

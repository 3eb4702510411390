# yoc report on a crafted person_year table: every checked number is
# recomputed independently with SQL over person_year (sqlite3 CLI), with
# the disclosure rule (1-7 -> *, else nearest 5) written out in SQL.
. "$(dirname "$0")/lib.sh"

if ! "$YOC" help report >/dev/null 2>&1; then
	skip "report" "yoc report not built"; done_testing; exit 0
fi
if ! command -v sqlite3 >/dev/null 2>&1; then
	skip "report" "sqlite3 CLI missing"; done_testing; exit 0
fi
D="$TMP/ds"; mkdir -p "$D"
DB="$D/yoc.db"
sqlite3 "$DB" <<'SQL'
CREATE TABLE person_year(pseudo_id TEXT, fyear TEXT, age INTEGER, sex TEXT,
  practice TEXT, imd_decile INTEGER, ltc_count INTEGER, mental_ltc_count INTEGER,
  band TEXT, emergency_admissions INTEGER, bed_days INTEGER, died INTEGER,
  cost_total INTEGER, cost_elective INTEGER, cost_nonelective INTEGER,
  cost_daycase INTEGER, cost_outpatient INTEGER, cost_ae INTEGER,
  cost_community INTEGER, cost_mh INTEGER, cost_gp INTEGER,
  cost_social_care INTEGER, cost_ambulance INTEGER);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000)
INSERT INTO person_year
SELECT printf('p%05d', i), '2023/24', (i * 37) % 100, CASE i % 3 WHEN 0 THEN 'F' WHEN 1 THEN 'M' ELSE 'F' END,
  printf('P%02d', (i * 7) % 9), 1 + i % 10, l, min(l, (i * 5) % 3), 
  CASE WHEN l <= 1 THEN 'A' WHEN l = 2 THEN 'B' WHEN l <= 5 THEN 'C' WHEN l <= 8 THEN 'D' ELSE 'E' END,
  (i * 3) % 4 * (l > 3), 0, 0,
  0, (i * 7919) % 50000 * (l > 2), (i * 104729) % 90000 * (l > 1), 0, (i * 31) % 20000, (i * 17) % 28000,
  (i * 13) % 9000, (i * 11) % 30600 * ((i * 5) % 3 > 0), 4800 * (1 + l), 0, 0
FROM (SELECT i, CASE WHEN i % 50 = 0 THEN 9 + i % 3 ELSE (i * 13 % 97) % 9 END AS l FROM n);
UPDATE person_year SET cost_total = cost_elective + cost_nonelective + cost_daycase + cost_outpatient
  + cost_ae + cost_community + cost_mh + cost_gp + cost_social_care + cost_ambulance;
-- a tiny practice: its count must be hidden, and (secondary) one more practice too
INSERT INTO person_year SELECT 't' || pseudo_id, fyear, age, sex, 'TINY', imd_decile, ltc_count,
  mental_ltc_count, band, emergency_admissions, bed_days, died, cost_total, cost_elective,
  cost_nonelective, cost_daycase, cost_outpatient, cost_ae, cost_community, cost_mh, cost_gp,
  cost_social_care, cost_ambulance FROM person_year LIMIT 3;
-- an older year that must not be reported by default
INSERT INTO person_year SELECT pseudo_id, '2022/23', age, sex, practice, imd_decile, ltc_count,
  mental_ltc_count, band, emergency_admissions, bed_days, died, cost_total, cost_elective,
  cost_nonelective, cost_daycase, cost_outpatient, cost_ae, cost_community, cost_mh, cost_gp,
  cost_social_care, cost_ambulance FROM person_year LIMIT 100;
CREATE TABLE analyse_run(key TEXT, value TEXT);
INSERT INTO analyse_run VALUES ('codelist_version', 'test-1'), ('lookback_years', '3'),
  ('bands', 'A:0-1,B:2,C:3-5,D:6-8,E:9+');
SQL
Y="2023/24"
q() { sqlite3 -csv "$DB" "$1"; }
# the published value of a count n, in SQL
SDC="CASE WHEN n = 0 THEN '0' WHEN n <= 7 THEN '*' ELSE CAST((n + 2) / 5 * 5 AS TEXT) END"
money() { echo "printf('%d.%02d', $1 / 100, $1 % 100)"; }
# money as published (docs/disclosure.md): a sum of pence s >= 0 to 3
# significant figures, never finer than whole pounds (halves up); a mean is
# that over the published count (n > 7: rounded to 5), to whole pounds
unit() { echo "CAST(substr('100000000000000000000', 1, max(3, length($1) - 2)) AS INTEGER)"; }
money3() { echo "(($1 + $(unit "$1") / 2) / $(unit "$1") * $(unit "$1"))"; }
PUBN="((n + 2) / 5 * 5)"
MEAN="(($(money3 s) * 2 + 100 * $PUBN) / (200 * $PUBN) * 100)"

expect_rc 0 "report runs" "$YOC" report --db "$D" --out "$TMP/r"
O="$TMP/r"
[ -s "$O/index.html" ] && ok "index.html written" || not_ok "index.html written"
[ -s "$O/yoc-report.xlsx" ] && ok "workbook written" || not_ok "workbook written"
np=$(q "SELECT count(DISTINCT practice) FROM person_year WHERE fyear='$Y'")
same "one data pack per practice" "$(ls "$O/practices" | grep -c '\.html$')" "$np"
for t in population multimorbidity cost_by_ltc_count r_squared physical_mental cost_by_setting currency_bands practices; do
	[ -s "$O/csv/$t.csv" ] && ok "csv/$t.csv" || not_ok "csv/$t.csv"
done
grep -q "2023/24" "$O/index.html" && ok "latest year reported" || not_ok "latest year reported"

# currency bands: people, mean, median, total cost
# nearest-rank percentile p of cost_total within each band: rank ceil(p * n / 100)
R="WITH r AS (SELECT band, cost_total, row_number() OVER (PARTITION BY band ORDER BY cost_total) rn,
  count(*) OVER (PARTITION BY band) n FROM person_year WHERE fyear='$Y')"
nth() { echo "(SELECT cost_total FROM r WHERE r.band = c.band AND rn = ($1 * c.n + 99) / 100)"; }
CB="$R, c AS (SELECT band, count(*) n, sum(cost_total) s FROM person_year WHERE fyear='$Y' GROUP BY band)"
want=$(q "$CB SELECT band, $SDC, $(money "$MEAN"), $(money "$(nth 50)"), $(money "$(money3 s)") FROM c ORDER BY band")
got=$(sed 1d "$O/csv/currency_bands.csv" | grep -v '^Total' | cut -d, -f1,3,5,6,9)
same "currency bands: people, mean, median, total cost = SQL" "$got" "$want"
# 5th and 95th percentiles by nearest rank
want=$(q "$CB SELECT band, $(money "$(nth 5)"), $(money "$(nth 95)") FROM c ORDER BY band")
got=$(sed 1d "$O/csv/currency_bands.csv" | grep -v '^Total' | cut -d, -f1,7,8)
same "currency bands: 5th and 95th percentiles = SQL" "$got" "$want"
# Figure 5: people and mean non-elective cost by LTC count 0..9+
want=$(q "SELECT g, $SDC, $(money "$MEAN") FROM (SELECT min(ltc_count, 9) g, count(*) n,
  sum(cost_nonelective) s FROM person_year WHERE fyear='$Y' GROUP BY g) ORDER BY g" | sed 's/^9,/9+,/')
got=$(sed 1d "$O/csv/cost_by_ltc_count.csv" | grep -v '^Total' | cut -d, -f1,2,4)
same "Figure 5: people and mean non-elective cost = SQL" "$got" "$want"
# population by age band and sex, totals row
want=$(q "SELECT 'Total', (SELECT $SDC FROM (SELECT count(*) n FROM person_year WHERE fyear='$Y' AND sex='F')),
  (SELECT $SDC FROM (SELECT count(*) n FROM person_year WHERE fyear='$Y' AND sex='M')), '0',
  (SELECT $SDC FROM (SELECT count(*) n FROM person_year WHERE fyear='$Y'))")
same "population totals = SQL" "$(grep '^Total' "$O/csv/population.csv")" "$want"
# setting totals: the published (rounded) totals reconcile with the dataset
want=$(q "SELECT $(money "$(money3 s)") FROM (SELECT sum(cost_gp) s FROM person_year WHERE fyear='$Y')")
same "GP total cost = SQL total to 3 significant figures" "$(grep '^GP,' "$O/csv/cost_by_setting.csv" | cut -d, -f3)" "$want"
got=""; want=""
for s in elective:Elective nonelective:Non-elective daycase:Day\ case outpatient:Outpatient ae:A\&E \
	community:Community mh:Mental\ health gp:GP social_care:Social\ care ambulance:Ambulance total:Total; do
	v=$(grep "^${s#*:}," "$O/csv/cost_by_setting.csv" | cut -d, -f3)
	[ "$v" = "*" ] && continue
	got="$got $v"
	want="$want $(q "SELECT $(money "$(money3 s)") FROM (SELECT sum(cost_${s%%:*}) s FROM person_year WHERE fyear='$Y')")"
done
same "every setting's published total = SQL total to 3 significant figures" "$got" "$want"
same "the total beside them = SQL total to 3 significant figures, mean per head = it / published people" \
	"$(grep '^Total,' "$O/csv/cost_by_setting.csv" | cut -d, -f2,3,5)" \
	"$(q "SELECT $SDC || ',' || $(money "$(money3 s)") || ',' || $(money "$MEAN") FROM
	  (SELECT count(*) n, sum(cost_total) s FROM person_year WHERE fyear='$Y')" | tr -d '"')"
# R squared of cost on LTC count groups, independently
want=$(q "WITH g AS (SELECT min(ltc_count, 9) k, count(*) n, sum(cost_total * 1.0) s FROM person_year WHERE fyear='$Y' GROUP BY k),
  t AS (SELECT count(*) n, sum(cost_total * 1.0) s, sum(cost_total * 1.0 * cost_total) ss FROM person_year WHERE fyear='$Y')
  SELECT printf('%.3f', ((SELECT sum(s * s / n) FROM g) - t.s * t.s / t.n) / (t.ss - t.s * t.s / t.n)) FROM t")
same "R squared (LTC count) = SQL" "$(grep '^Number of LTCs' "$O/csv/r_squared.csv" | cut -d, -f3)" "$want"

# disclosure control: TINY (3 people) hidden, and one more practice hidden with it
grep -q '^TINY,\*,' "$O/csv/practices.csv" && ok "tiny practice count hidden" || not_ok "tiny practice count hidden"
nh=$(sed 1d "$O/csv/practices.csv" | cut -d, -f2 | grep -c '^\*$')
[ "$nh" -ge 2 ] && ok "secondary suppression among practices ($nh hidden)" || not_ok "secondary suppression among practices ($nh hidden)"
grep -q '^TINY,\*,\*,\*,\*,\*,\*$' "$O/csv/practices.csv" && ok "tiny practice: every statistic hidden" || not_ok "tiny practice: every statistic hidden"
bad=$(cat "$O"/csv/*.csv | grep -c '^#') 
same "no banner when suppression is on" "$bad" 0
# every shown count in the population table is a multiple of 5
odd=$(sed 1d "$O/csv/population.csv" | cut -d, -f2-5 | tr ',' '\n' | grep -v '^\*$' | awk '$1 % 5 != 0' | wc -l)
same "population counts rounded to 5" "$odd" 0

expect_rc 0 "report --no-suppression" "$YOC" report --db "$D" --out "$TMP/raw" --no-suppression
nb=0; nf=0
for f in "$TMP/raw"/csv/*.csv "$TMP/raw"/csv/practices/*.csv; do
	nf=$((nf+1)); head -1 "$f" | grep -q 'NOT DISCLOSURE CONTROLLED' && nb=$((nb+1))
done
same "banner on every CSV" "$nb" "$nf"
nb=0; nf=0
for f in "$TMP/raw"/index.html "$TMP/raw"/practices/*.html; do
	nf=$((nf+1)); grep -q 'NOT DISCLOSURE CONTROLLED' "$f" && nb=$((nb+1))
done
same "banner on every page" "$nb" "$nf"
same "exact count without suppression" "$(grep '^TINY,' "$TMP/raw/csv/practices.csv" | cut -d, -f2)" 3
expect_rc 0 "--fyear chooses the year" "$YOC" report --db "$D" --out "$TMP/old" --fyear 2022/23
grep -q '^Total,100,' "$TMP/old/csv/currency_bands.csv" 2>/dev/null || grep -q '^Total,,100,' "$TMP/old/csv/currency_bands.csv" && ok "older year: 100 people" || not_ok "older year: 100 people"
expect_rc 2 "missing --out is a usage error" "$YOC" report --db "$D"
expect_rc 1 "no database is a job failure" "$YOC" report --db "$TMP/none" --out "$TMP/x"
done_testing

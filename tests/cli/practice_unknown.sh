#!/bin/sh
# An invalid practice code never becomes a practice. The default (defective)
# synthetic economy injects the practice code P00000 into some GP register
# rows (docs/feeds.md, unknown_code); load keeps and flags it. End to end:
#   synth -> keygen -> pseudonymise -> init -> load -> analyse -> report, quality
# then: person_year has practice NULL for those person-years (and no code
# failing the ODS check); P00000 appears nowhere in the report (pages, CSVs,
# file names, workbook); the table of practices counts the people under
# "Practice unknown" (the disclosure rule applied, checked with SQL), the
# page says how many and why, and the quality report gives the count of
# person-years per year, equal to person_year's.
. "$(dirname "$0")/lib.sh"

for v in synth keygen pseudonymise init load analyse report quality; do
	if ! "$YOC" help "$v" >/dev/null 2>&1; then
		skip "practice unknown" "yoc $v not built"; done_testing; exit 0
	fi
done
if ! command -v sqlite3 >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
	skip "practice unknown" "sqlite3 CLI or python3 missing"; done_testing; exit 0
fi
export YOC_DATA="${YOC_DATA:-$YOC_ROOT/data}"
cd "$TMP" || exit 1
expect_rc 0 "synth: a small economy with defects" "$YOC" synth --persons 4000 --years 1 --out S
n_src=$(cat S/feeds/gp_register/*.csv | grep -c ',P00000,')
[ "$n_src" -gt 0 ] && ok "the register feeds carry the invalid code P00000 ($n_src rows)" ||
	not_ok "the register feeds carry the invalid code P00000"
expect_rc 0 "keygen" "$YOC" keygen --out K
expect_rc 0 "pseudonymise" "$YOC" pseudonymise --key K --in S/feeds --out P --optout S/optout.csv
expect_rc 0 "init" "$YOC" init D
expect_rc 0 "load" "$YOC" load --db D P
"$YOC" analyse --db D > analyse.out 2>&1
same "analyse runs" "$?" 0
q() { sqlite3 -csv D/yoc.db "$1"; }
Y=$(q "SELECT max(fyear) FROM person_year")
n_unk=$(q "SELECT count(*) FROM person_year WHERE practice IS NULL")
[ "$n_unk" -gt 0 ] && ok "person_year: $n_unk person-years with practice unknown (NULL)" ||
	not_ok "person_year: person-years with practice unknown (NULL)"
same "person_year: no practice code fails the ODS check" \
	"$(q "SELECT count(*) FROM person_year WHERE practice IS NOT NULL AND NOT (practice GLOB
	  '[A-Z][0-9][0-9][0-9][0-9][0-9]' AND substr(practice, 2) <> '00000')")" 0
grep -q "^  $n_unk person-years with practice unknown" analyse.out &&
	ok "analyse says how many person-years have practice unknown" ||
	not_ok "analyse says how many person-years have practice unknown"

expect_rc 0 "report" "$YOC" report --db D --out R
same "report: P00000 in no page or CSV" "$(grep -rl 'P00000' R | wc -l)" 0
same "report: no file named after P00000" "$(find R -name '*P00000*' | wc -l)" 0
same "report: P00000 not in the workbook" "$(python3 -c "
import sys, zipfile
z = zipfile.ZipFile('R/yoc-report.xlsx')
print(sum(b'P00000' in z.read(n) for n in z.namelist()))")" 0
np=$(q "SELECT count(DISTINCT practice) FROM person_year WHERE fyear = '$Y'")
same "report: one data pack per valid practice" "$(ls R/practices | grep -c '\.html$')" "$np"
n_y=$(q "SELECT count(*) FROM person_year WHERE fyear = '$Y' AND practice IS NULL")
want=$(q "SELECT CASE WHEN n = 0 THEN '0' WHEN n <= 7 THEN '*' ELSE CAST((n + 2) / 5 * 5 AS TEXT) END
  FROM (SELECT $n_y AS n)")
same "report: the table of practices counts practice unknown ($n_y, published $want)" \
	"$(grep '^Practice unknown,' R/csv/practices.csv | cut -d, -f2)" "$want"
grep -q "Data quality: $(echo "$want" | sed 's/\*/\\*/') people registered in $Y are counted under <i>Practice unknown</i>: the practice code of their GP registration failed validation" R/index.html &&
	ok "report: the practices section says how many and why" ||
	not_ok "report: the practices section says how many and why"

expect_rc 0 "quality" "$YOC" quality --db D --out Q
same "quality: person-years with practice unknown, per year, = person_year" \
	"$(grep '^linkage,practice_unknown_person_years,' Q/quality.csv | cut -d, -f5,7)" \
	"$(sqlite3 -separator , D/yoc.db "SELECT fyear, sum(practice IS NULL) FROM person_year GROUP BY fyear ORDER BY fyear")"
same "quality: the registrations with the invalid code, per file" \
	"$(grep '^linkage,practice_unknown,gp_register,' Q/quality.csv | cut -d, -f7 | awk '{ s += $1 } END { print s + 0 }')" \
	"$(q "SELECT count(*) FROM flags g JOIN current_files f USING(file_id) WHERE f.kind = 'gp_register'
	  AND g.field = 'GPPRAC' AND g.reason = 'bad_code'")"
grep -q '<h3 id="practice">Practice unknown</h3>' Q/quality.html && grep -q 'person-years with practice unknown' Q/quality.html &&
	ok "quality.html: a practice-unknown section and the count in the summary" ||
	not_ok "quality.html: a practice-unknown section and the count in the summary"
done_testing

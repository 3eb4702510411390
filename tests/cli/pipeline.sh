#!/bin/sh
# The whole pipeline on a clean synthetic economy: synth --clean -> keygen ->
# pseudonymise -> init -> load -> analyse, then person_year is compared with
# synth's truth/person_year.csv exactly (every person-year: age, sex,
# practice, IMD decile, LTCs, emergency admissions, bed days, death, cost in
# every setting to the penny). Truth NHS numbers are mapped to pseudonyms
# independently here (python3 hmac: HMAC-SHA256 hex under the key file's 32
# bytes). Then the report runs and some of its tables are recomputed with
# SQL over person_year (sqlite3 CLI) with the disclosure rule written out.
. "$(dirname "$0")/lib.sh"

for v in synth keygen pseudonymise init load analyse report; do
	if ! "$YOC" help "$v" >/dev/null 2>&1; then
		skip "pipeline" "yoc $v not built"; done_testing; exit 0
	fi
done
if ! command -v sqlite3 >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
	skip "pipeline" "sqlite3 CLI or python3 missing"; done_testing; exit 0
fi
export YOC_DATA="${YOC_DATA:-$YOC_ROOT/data}"
S=$TMP/synth; K=$TMP/key.hex; P=$TMP/pseudo; D=$TMP/ds; R=$TMP/report

expect_rc 0 "synth --clean 3000 persons x 3 years" "$YOC" synth --clean --persons 3000 --years 3 --out "$S"
expect_rc 0 "keygen" "$YOC" keygen --out "$K"
expect_rc 0 "pseudonymise" "$YOC" pseudonymise --key "$K" --in "$S/feeds" --out "$P" --optout "$S/optout.csv"
expect_rc 0 "init" "$YOC" init "$D"
expect_rc 0 "load" "$YOC" load --db "$D" "$P"
expect_rc 0 "analyse" "$YOC" analyse --db "$D"
DB=$D/yoc.db
q() { sqlite3 -csv "$DB" "$1"; }

same "no load quarantine on a clean economy" "$(q "select count(*) from quarantine")" 0

# --- person_year == truth, field by field -----------------------------------------
sqlite3 -csv -header "$DB" "select * from person_year" > "$TMP/py.csv"
python3 - "$S/truth/person_year.csv" "$TMP/py.csv" "$K" "$YOC_DATA/ltc_codelist.csv" "$S/feeds" > "$TMP/cmp.txt" <<'PY'
import csv, glob, hmac, hashlib, os, sys
truth_path, py_path, key_path, codelist, feeds = sys.argv[1:6]
key = bytes.fromhex(open(key_path).read().strip())
assert len(key) == 32, "key file must hold 32 bytes as hex"
def pseudo(nhs):
    return hmac.new(key, nhs.encode(), hashlib.sha256).hexdigest()
def pence(s):  # exact pounds text -> integer pence
    neg = s.startswith('-'); s = s.lstrip('-')
    whole, _, frac = s.partition('.')
    v = int(whole) * 100 + int((frac + '00')[:2])
    return -v if neg else v
conds = []
for r in csv.DictReader(open(codelist, newline='')):
    if r['condition'] not in conds:
        conds.append(r['condition'])
truth = {}
optout = 0
for r in csv.DictReader(open(truth_path, newline='')):
    if r['opted_out'] == '1':
        optout += 1
        continue
    truth[(pseudo(r['nhs_number']), r['fyear'])] = r
got = {}
for r in csv.DictReader(open(py_path, newline='')):
    got[(r['pseudo_id'], r['fyear'])] = r
print("truth_rows %d" % len(truth))
print("analyse_rows %d" % len(got))
print("optout_rows %d" % optout)
print("missing %d" % len(set(truth) - set(got)))
print("extra %d" % len(set(got) - set(truth)))
fields = ['age', 'sex', 'practice', 'imd_decile', 'ltc_count', 'mental_ltc_count', 'ltcs',
          'emergency_admissions', 'other_nonelective_admissions', 'bed_days',
          'emergency_bed_days', 'mh_bed_days', 'died', 'cost_total',
          'cost_elective', 'cost_nonelective', 'cost_daycase', 'cost_outpatient', 'cost_ae',
          'cost_community', 'cost_mh', 'cost_gp', 'cost_social_care', 'cost_ambulance',
          'cost_emergency', 'cost_other_nonelective', 'cost_apc_provider']
bad = {f: 0 for f in fields}
example = {}
for k in sorted(set(truth) & set(got)):
    t, g = truth[k], got[k]
    for f in fields:
        if f == 'ltcs':
            want = sorted(x for x in t['ltcs'].split(';') if x)
            have = sorted(c for c in conds if g.get(c) == '1')
        elif f.startswith('cost_'):
            want, have = pence(t[f]), int(g[f])
        else:
            want, have = t[f], g[f]
        if want != have:
            bad[f] += 1
            example.setdefault(f, "%s %s: truth %s, analyse %s" % (k[0][:12], k[1], want, have))
for f in fields:
    print("field %s %d %s" % (f, bad[f], example.get(f, '')))
PY
same "the comparison ran over all 27 fields" "$(grep -c '^field ' "$TMP/cmp.txt")" 27
n_truth=$(awk '$1=="truth_rows"{print $2}' "$TMP/cmp.txt")
[ "${n_truth:-0}" -gt 5000 ] && ok "truth has $n_truth person-years" || not_ok "truth has person-years (${n_truth:-none})"
same "person-years: none missing from person_year" "$(awk '$1=="missing"{print $2}' "$TMP/cmp.txt")" 0
same "person-years: none extra in person_year" "$(awk '$1=="extra"{print $2}' "$TMP/cmp.txt")" 0
while read -r tag f n rest; do
	[ "$tag" = field ] || continue
	if [ "$n" = 0 ]; then ok "person_year.$f = truth for every person-year"
	else not_ok "person_year.$f = truth for every person-year ($n differ)"; echo "# e.g. $rest"; fi
done < "$TMP/cmp.txt"

# --- analyse bookkeeping -----------------------------------------------------------
same "analyse_run records the code-list version" "$(q "select value from analyse_run where key='codelist_version'")" \
	"$(sed -n 2p "$YOC_DATA/ltc_codelist.csv" | awk -F, '{print $NF}')"
same "cost_total is the sum of the settings" "$(q "select count(*) from person_year where cost_total <> cost_elective
  + cost_nonelective + cost_daycase + cost_outpatient + cost_ae + cost_community + cost_mh + cost_gp
  + cost_social_care + cost_ambulance")" 0
same "provider_cost adds up to person_year by setting" \
	"$(q "select fyear, setting, sum(cost) from provider_cost group by 1, 2 order by 1, 2")" \
	"$(q "with s(setting, c) as (values ('elective','cost_elective'),('nonelective','cost_nonelective'),
  ('daycase','cost_daycase'),('outpatient','cost_outpatient'),('ae','cost_ae'),('community','cost_community'),
  ('mh','cost_mh'),('gp','cost_gp'),('social_care','cost_social_care'),('ambulance','cost_ambulance'))
  select fyear, setting, total from (
  select fyear, 'elective' setting, sum(cost_elective) total from person_year group by 1 union all
  select fyear, 'nonelective', sum(cost_nonelective) from person_year group by 1 union all
  select fyear, 'daycase', sum(cost_daycase) from person_year group by 1 union all
  select fyear, 'outpatient', sum(cost_outpatient) from person_year group by 1 union all
  select fyear, 'ae', sum(cost_ae) from person_year group by 1 union all
  select fyear, 'community', sum(cost_community) from person_year group by 1 union all
  select fyear, 'mh', sum(cost_mh) from person_year group by 1 union all
  select fyear, 'gp', sum(cost_gp) from person_year group by 1 union all
  select fyear, 'social_care', sum(cost_social_care) from person_year group by 1 union all
  select fyear, 'ambulance', sum(cost_ambulance) from person_year group by 1) where total <> 0 order by 1, 2")"

# --- report tables recomputed from person_year -------------------------------------------
expect_rc 0 "report" "$YOC" report --db "$D" --out "$R"
Y=$(q "select max(fyear) from person_year")
SDC="CASE WHEN n = 0 THEN '0' WHEN n <= 7 THEN '*' ELSE CAST((n + 2) / 5 * 5 AS TEXT) END"
money() { echo "printf('%d.%02d', $1 / 100, $1 % 100)"; }
# money as published (docs/disclosure.md): a sum of pence s >= 0 to 3
# significant figures, never finer than whole pounds (halves up); a mean is
# that over the published count (n > 7: rounded to 5), to whole pounds
unit() { echo "CAST(substr('100000000000000000000', 1, max(3, length($1) - 2)) AS INTEGER)"; }
money3() { echo "(($1 + $(unit "$1") / 2) / $(unit "$1") * $(unit "$1"))"; }
PUBN="((n + 2) / 5 * 5)"
MEAN="(($(money3 s) * 2 + 100 * $PUBN) / (200 * $PUBN) * 100)"
# Compare a published table ($1: report rows "key,people,...") with SQL ($2:
# the same with the disclosure rule applied to people). A group SQL lacks
# must be published as 0; a row the report hides ("*") must hold 1-7
# people, or be a secondary cell: then at least two rows are hidden.
cmp_published() {
	printf '%s\n' "$1" > "$TMP/pub.got"
	printf '%s\n' "$2" > "$TMP/pub.want"
	awk -F, 'NR == FNR { want[$1] = $0; next }
		{ got[$1] = $0; if ($2 == "*") hidden++ }
		END {
			for (k in want) if (!(k in got)) print k ": missing from the report"
			for (k in got) {
				split(got[k], g, ",")
				if (!(k in want)) { if (g[2] != "0") print k ": report " got[k] ", SQL has no such group"; continue }
				split(want[k], w, ",")
				if (g[2] == "*") { if (w[2] != "*" && hidden < 2) print k ": hidden without cause"; continue }
				if (got[k] != want[k]) print k ": report " got[k] ", SQL " want[k]
			}
		}' "$TMP/pub.want" "$TMP/pub.got" | sort
}
want=$(q "SELECT band, $SDC, $(money "$MEAN"), $(money "$(money3 s)") FROM (SELECT band, count(*) n, sum(cost_total) s
  FROM person_year WHERE fyear='$Y' GROUP BY band) ORDER BY band")
got=$(sed 1d "$R/csv/currency_bands.csv" | grep -v '^Total' | cut -d, -f1,3,5,9)
same "currency bands (people, mean, total) = SQL over person_year" "$(cmp_published "$got" "$want")" ""
want=$(q "SELECT g, $SDC, $(money "$MEAN") FROM (SELECT min(ltc_count, 9) g, count(*) n, sum(cost_total) s
  FROM person_year WHERE fyear='$Y' GROUP BY g) ORDER BY g" | sed 's/^9,/9+,/')
got=$(sed 1d "$R/csv/cost_by_ltc_count.csv" | grep -v '^Total' | awk -F, '{print $1 "," $2 "," $(NF-1)}')
same "Figure 5 people and mean cost by LTC count = SQL over person_year" "$(cmp_published "$got" "$want")" ""
np=$(q "SELECT count(DISTINCT practice) FROM person_year WHERE fyear='$Y'")
same "one data pack per practice" "$(ls "$R/practices" | grep -c '\.html$')" "$np"
grep -q "yoc-ltc-" "$R/index.html" && ok "report states the code-list version" || not_ok "report states the code-list version"
done_testing

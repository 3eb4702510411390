#!/bin/sh
# End-to-end tests of `yoc synth` (TAP). Everything is checked from the files
# the binary writes, with tools independent of the C code: sha256sum for
# determinism, awk (synth_recount.awk) to recount every defect in every feed
# file against the manifest and the shipped code sets, and sqlite3 to
# re-derive the ground truth (costs, emergency admissions, bed days, LTC
# counts, population) from the clean feeds and to check the calibration
# against docs/synth.md. Uses $YOC (the binary) and $YOC_ROOT (the repository).
ROOT=${YOC_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
YOC=${YOC:-$ROOT/build/yoc}
DATA="$ROOT/data"
HERE="$ROOT/tests/cli"
T=$(mktemp -d "${TMPDIR:-/tmp}/yoc_synth_XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
export YOC_QUIET=1
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; fi; }
sql() { sqlite3 -batch -noheader "$@"; }

run_synth() { # dir, args...
	d=$1; shift
	"$YOC" synth --data "$DATA" --out "$T/$d" "$@" > "$T/$d.out" 2> "$T/$d.err"
}

hashes() { (cd "$T/$1" && find . -type f | LC_ALL=C sort | xargs sha256sum); }

# ---- runs -----------------------------------------------------------------------
run_synth big --persons 20000 --seed 11; rc_big=$?
run_synth a --persons 3000 --years 2 --seed 5; rc_a=$?
run_synth b --persons 3000 --years 2 --seed 5; rc_b=$?
run_synth c --persons 3000 --years 2 --seed 6; rc_c=$?
run_synth clean --persons 3000 --years 2 --seed 5 --clean; rc_clean=$?

check "synth runs (20k persons x 3 years, and 3k x 2 years four times)" \
	test $rc_big -eq 0 -a $rc_a -eq 0 -a $rc_b -eq 0 -a $rc_c -eq 0 -a $rc_clean -eq 0
for f in manifest.json truth/person_year.csv contracts.csv optout.csv; do
	[ -s "$T/big/$f" ] || { notok "writes $f"; continue; }
	ok "writes $f"
done

# ---- determinism ------------------------------------------------------------------
hashes a > "$T/ha"; hashes b > "$T/hb"; hashes c > "$T/hc"
check "same seed and options: byte-identical output ($(wc -l < "$T/ha") files)" cmp -s "$T/ha" "$T/hb"
check "another seed: different output" sh -c "! cmp -s '$T/ha' '$T/hc'"
# ---- the output folder is written whole -------------------------------------------
mkdir "$T/mine"; echo precious > "$T/mine/notes.txt"
check "refuses a non-empty folder that yoc synth did not make" \
	sh -c "! '$YOC' synth --data '$DATA' --persons 10 --years 1 --out '$T/mine' 2>/dev/null"
check "... and leaves it as it was, with no temporary beside it" \
	sh -c "[ \"\$(ls -A '$T/mine')\" = notes.txt ] && [ -z \"\$(ls -d '$T'/mine.tmp.* 2>/dev/null)\" ]"
check "--force writes into it in place, keeping what was there" \
	sh -c "'$YOC' synth --data '$DATA' --persons 10 --years 1 --force --out '$T/mine' >/dev/null &&
	       grep -q precious '$T/mine/notes.txt' && [ -s '$T/mine/manifest.json' ]"
run_synth re --persons 10 --years 1 --seed 1 && run_synth re --persons 10 --years 1 --seed 2 &&
	run_synth re2 --persons 10 --years 1 --seed 2
hashes re | sed 's#  ./#  #' > "$T/hre"; hashes re2 | sed 's#  ./#  #' > "$T/hre2"
check "an earlier synth output is replaced whole: equal to a fresh run" cmp -s "$T/hre" "$T/hre2"
check "--clean and the default write the same truth" cmp -s "$T/a/truth/person_year.csv" "$T/clean/truth/person_year.csv"

# ---- the manifest against the files -------------------------------------------------
manifest_tsv() { # dir -> m.tsv
	q="select json_extract(value,'\$.path'), json_extract(value,'\$.kind'), json_extract(value,'\$.rows')"
	for d in nhs_bad_check_digit nhs_missing date_wrong_format date_out_of_range date_in_future \
		unknown_code duplicate_row stray_quote cost_mismatch truncated_last_line duplicate_file \
		renamed_column; do
		q="$q, json_extract(value,'\$.defects.$d')"
	done
	q="$q, coalesce(json_extract(value,'\$.renamed_column.from'),'-'), coalesce(json_extract(value,'\$.renamed_column.to'),'-') from json_each(readfile('manifest.json'),'\$.files')"
	(cd "$T/$1" && sql -separator "$(printf '\t')" :memory: "$q")
}

recount() { # dir -> recount.txt
	dir="$T/$1"
	manifest_tsv "$1" > "$dir.m.tsv"
	(cd "$dir" && sql :memory: "select distinct json_extract(value,'\$.provider') from json_each(readfile('manifest.json'),'\$.files')") > "$dir.prov"
	(cd "$dir" && ls feeds/*/*.csv) > "$dir.files"
	# Files whose last byte is not a newline: "path data-rows".
	(cd "$dir" && tail -qc1 $(cat "$dir.files") | od -An -v -tx1 | tr -s ' \n' '\n\n' | grep -v '^$') > "$dir.last"
	paste -d' ' "$dir.files" "$dir.last" | while read -r f b; do
		[ "$b" = 0a ] || echo "$f $(cd "$dir" && wc -l < "$f")"
	done > "$dir.noeol"
	ex=$(cd "$dir" && sql :memory: "select json_extract(readfile('manifest.json'),'\$.extract_date')")
	(cd "$dir" && awk -v MANIFEST="$dir.m.tsv" -v CODES="$DATA/code_sets.csv" \
		-v NCC="$DATA/ncc_2023_24.csv" -v PROVIDERS="$dir.prov" -v NOEOL="$dir.noeol" \
		-v EXTRACT="$ex" -f "$HERE/synth_recount.awk" $(cat "$dir.files")) > "$dir.recount"
}
recount big
recount clean
R="$T/big.recount"

# Files on disk = files in the manifest; withheld months are absent.
cut -f1 "$T/big.m.tsv" | LC_ALL=C sort > "$T/listed"
LC_ALL=C sort "$T/big.files" > "$T/ondisk"
check "manifest lists exactly the $(wc -l < "$T/ondisk") files on disk" cmp -s "$T/listed" "$T/ondisk"
(cd "$T/big" && sql :memory: "select json_extract(value,'\$.path') from json_each(readfile('manifest.json'),'\$.withheld')") > "$T/withheld"
check "withheld months ($(wc -l < "$T/withheld")) are listed and absent" \
	sh -c "[ -s '$T/withheld' ] && ! grep -qxFf '$T/withheld' '$T/ondisk'"
check "row count of every file (including the cut last line)" sh -c "! grep -q '^rows ' '$R'"
check "every file of the clean run is accounted for" sh -c "! grep -q '^UNLISTED' '$R' '$T/clean.recount'"

for d in nhs_bad_check_digit nhs_missing date_wrong_format date_out_of_range date_in_future \
	unknown_code duplicate_row stray_quote cost_mismatch truncated_last_line duplicate_file \
	renamed_column; do
	tot=$(awk -v d="$d" '$1 == "TOTAL" && $2 == d { print $3 }' "$R")
	bad=$(grep -c "^$d " "$R")
	if [ "$bad" -eq 0 ] && [ "${tot:-0}" -gt 0 ]; then
		ok "recount of $d matches the manifest in every file ($tot rows)"
	else
		notok "recount of $d: $bad files disagree, $tot rows found"
		grep "^$d " "$R" | head -5 | sed 's/^/# /'
	fi
done
# unknown_code agreeing means every other coded cell is in its code set.
rows=$(awk -F'\t' '{ s += $3 } END { print s }' "$T/big.m.tsv")
defect_rows=$(awk '$1 == "TOTAL" && $2 ~ /^(nhs_|date_|unknown|duplicate_row|stray|cost)/ { s += $3 } END { print s }' "$R")
check "row defects at realistic rates: $defect_rows of $rows rows" \
	awk -v a="$defect_rows" -v b="$rows" 'BEGIN { exit !(a > 0.005 * b && a < 0.03 * b) }'
check "--clean writes no defects (recount and manifest all zero)" sh -c \
	"awk '\$1 == \"TOTAL\" && \$3 != 0 { bad = 1 } END { exit bad }' '$T/clean.recount' && \
	! grep -qv '^TOTAL' '$T/clean.recount' && ! ls '$T/clean/feeds'/*/*_v2.csv >/dev/null 2>&1 && \
	[ \$(cd '$T/clean' && sqlite3 :memory: \"select count(*) from json_each(readfile('manifest.json'),'\\\$.withheld')\") -eq 0 ]"

# ---- truth and calibration (20k persons x 3 years) ------------------------------------------
DB="$T/big.db"
sql "$DB" ".import --csv $T/big/truth/person_year.csv t" \
	"create table c as select cast(ltc_count as int) n, cast(age as int) age, * from t;"
val() { sql "$DB" "$1"; }

v=$(val "select count(*) from t where length(nhs_number) != 10 or substr(nhs_number,1,3) != '999'")
check "every truth NHS number is in the 999 test range" test "$v" -eq 0
v=$(awk -F, 'NR > 1 { s = 0; for (i = 1; i <= 9; i++) s += substr($1, i, 1) * (11 - i); c = 11 - s % 11; if (c == 11) c = 0; if (c == 10 || c != substr($1, 10, 1)) bad++ } END { print bad + 0 }' "$T/big/truth/person_year.csv")
check "every truth NHS number passes Modulus 11" test "$v" -eq 0
v=$(val "select count(*) - count(distinct nhs_number || fyear) from t")
check "one truth row per person and financial year" test "$v" -eq 0
sql "$DB" ".import --csv $T/big/optout.csv o"
v=$(val "select round(100.0 * (select count(*) from o) / count(distinct nhs_number), 2) from t")
check "about 3% opted out ($v%)" awk -v x="$v" 'BEGIN { exit !(x != "" && x >= 2 && x <= 4) }'

adults=$(val "select round(100.0 * avg(n >= 2), 1) from c where age >= 18")
old=$(val "select round(100.0 * avg(n >= 2), 1) from c where age >= 65")
oldest=$(val "select round(100.0 * avg(n >= 2), 1) from c where age >= 80")
check "adults with 2+ LTCs about 25-30% (22-33 accepted): $adults%" awk -v x="$adults" 'BEGIN { exit !(x != "" && x >= 22 && x <= 33) }'
check "over half of 65+ have 2+ LTCs: $old%" awk -v x="$old" 'BEGIN { exit !(x != "" && x > 50) }'
check "over 70% of 80+ have 2+ LTCs: $oldest%" awk -v x="$oldest" 'BEGIN { exit !(x != "" && x > 70) }'
v=$(val "select group_concat(round(p,1), ' < ') from (select avg(n >= 2) * 100 p, (age / 20) b from c where age between 20 and 99 group by b order by b)")
mono=$(val "select count(*) from (select b, p, lag(p) over (order by b) q from (select age / 20 b, avg(n >= 2) p from c where age between 20 and 99 group by b)) where q is not null and p <= q")
check "multimorbidity rises with age band 20-39 .. 80-99 ($v)" test "$mono" -eq 0
dep=$(val "select round(100.0 * avg(case when cast(imd_decile as int) <= 2 then n >= 2 end) - 100.0 * avg(case when cast(imd_decile as int) >= 9 then n >= 2 end), 1) from c where age between 45 and 74")
check "more multimorbidity in the most deprived fifth than the least, ages 45-74 (+$dep points)" awk -v x="$dep" 'BEGIN { exit !(x != "" && x > 3) }'

# Calibration (docs/synth.md): the cost gradient by LTC count within 25% of the
# published GBP 1,000 / 3,000 / 8,000 (figures.md l.7-10), and emergency
# admissions within 20% of England's, about 105 per 1,000 person-years
# (figures.md: roughly 6.3-6.5 million a year, about 110 per 1,000).
for k in 1:1000 2:3000 3:8000; do
	l=${k%%:*}; want=${k#*:}
	m=$(val "select round(avg(cast(cost_total as real))) from c where n = $l")
	check "mean annual cost at $l LTC GBP $m within 25% of GBP $want" \
		awk -v m="$m" -v w="$want" 'BEGIN { exit !(m != "" && m >= w * 0.75 && m <= w * 1.25) }'
done
v=$(val "select round(1000.0 * avg(cast(emergency_admissions as int)), 1) from c")
check "emergency admissions $v per 1,000 person-years, within 20% of England's 105" \
	awk -v x="$v" 'BEGIN { exit !(x != "" && x >= 84 && x <= 126) }'
v=$(val "select round(sum(case when n = 1 then cast(cost_emergency as real) end) / sum(case when n = 1 then cast(emergency_admissions as int) end)) || ' ' ||
	round(sum(case when n = 3 then cast(cost_emergency as real) end) / sum(case when n = 3 then cast(emergency_admissions as int) end)) from c")
check "emergency spells of the multimorbid cost more: longer stays (GBP per admission at 1 vs 3 LTCs: $v)" \
	awk -v a="${v% *}" -v b="${v#* }" 'BEGIN { exit !(a != "" && b > a) }'
s1=$(val "select sum(cast(cost_nonelective as real)) / sum(cast(cost_total as real)) from c where n = 1")
s2=$(val "select sum(cast(cost_nonelective as real)) / sum(cast(cost_total as real)) from c where n = 2")
s3=$(val "select sum(cast(cost_nonelective as real)) / sum(cast(cost_total as real)) from c where n = 3")
check "non-elective share grows with LTC count ($s1 < $s2 < $s3)" \
	awk -v a="$s1" -v b="$s2" -v c="$s3" 'BEGIN { exit !(a != "" && a < b && b < c) }'
v=$(val "select round(avg(emergency_admissions), 3) || ' ' || (select round(avg(emergency_admissions), 3) from c where n = 3) from c where n = 0")
check "emergency admissions rise with LTC count (0 LTC vs 3 LTC: $v)" \
	awk -v a="${v% *}" -v b="${v#* }" 'BEGIN { exit !(a != "" && b > 5 * a) }'
# LTC count explains cost better than age: compare the spread of means.
r=$(val "with l as (select avg(cast(cost_total as real)) m from c where age >= 18 group by min(n, 5)),
	a as (select avg(cast(cost_total as real)) m from c where age >= 18 group by min(age / 15, 5))
	select round((select max(m) / min(m) from l) / (select max(m) / min(m) from a), 2)")
check "cost varies more across LTC counts than across age bands (ratio $r)" awk -v x="$r" 'BEGIN { exit !(x != "" && x > 1) }'
# The crisis curve: the top 5% by cost in year 1 cost less the next year.
cc=$(val "with y1 as (select nhs_number, cast(cost_total as real) - cast(cost_social_care as real) h, cast(cost_total as real) tot from t where fyear = '2021/22' and died = '0'),
	top as (select * from y1 order by tot desc limit (select count(*) / 20 from y1))
	select round(avg(cast(y2.cost_total as real) - cast(y2.cost_social_care as real)) / avg(top.h), 3) || ' ' || round(avg(cast(y2.cost_total as real)) / avg(top.tot), 3)
	from top join t y2 on y2.nhs_number = top.nhs_number and y2.fyear = '2022/23'")
check "crisis curve: year-1 top 5% next year at NHS cost x${cc% *}, total x${cc#* }" \
	awk -v a="${cc% *}" -v b="${cc#* }" 'BEGIN { exit !(a != "" && b != "" && a < 0.85 && b < 0.97) }'
v=$(val "select round(avg(case when died = '1' then cast(cost_total as real) end) / avg(case when died = '0' then cast(cost_total as real) end), 2) from c where age >= 75")
check "costs climb in the last year of life (x$v at 75+)" awk -v x="$v" 'BEGIN { exit !(x != "" && x > 1.2) }'
# Winter peak of emergency admissions, from the APC feed itself.
w=$(cd "$T/big" && awk -F, 'FNR > 1 && $12 == "01" && $13 ~ /^2/ { m = substr($8, 6, 2); if (m == "12" || m == "01" || m == "02") w++; if (m == "06" || m == "07" || m == "08") s++ } END { print w + 0, s + 0 }' feeds/apc/*.csv)
check "winter peak: emergency admissions Dec-Feb vs Jun-Aug ($w)" \
	awk -v a="${w% *}" -v b="${w#* }" 'BEGIN { exit !(b > 0 && a > 1.1 * b) }'

# Contracts: provider totals add up to the truth, and "off" means off.
tr_pence=$(val "select sum(cast(round(cast(cost_total as real) * 100) as int) - cast(round(cast(cost_gp as real) * 100) as int) - cast(round(cast(cost_social_care as real) * 100) as int)) from t")
ct_pence=$(cd "$T/big" && sql :memory: "select sum(cast(round(json_extract(value,'\$.priced_activity') * 100) as int)) from json_each(readfile('manifest.json'),'\$.contracts')")
check "contract providers' priced activity = truth NHS cost excl. GP, to the penny ($ct_pence)" test -n "$tr_pence" -a "$tr_pence" = "$ct_pence"
bad=$(cd "$T/big" && sql :memory: ".import --csv contracts.csv k" "select count(*) from json_each(readfile('manifest.json'),'\$.contracts') j join k on k.provider = json_extract(j.value,'\$.provider') and k.fyear = json_extract(j.value,'\$.fyear') where (abs(k.contract_value - json_extract(j.value,'\$.priced_activity')) > 0.1 * json_extract(j.value,'\$.priced_activity')) != json_extract(j.value,'\$.off')")
noff=$(cd "$T/big" && sql :memory: "select count(*) from json_each(readfile('manifest.json'),'\$.contracts') where json_extract(value,'\$.off')")
coff=$(cd "$T/clean" && sql :memory: "select count(*) from json_each(readfile('manifest.json'),'\$.contracts') where json_extract(value,'\$.off')")
check "contracts off by >10% are exactly those flagged ($noff flagged; clean run $coff)" \
	test "$bad" -eq 0 -a "$noff" -gt 0 -a "$coff" -eq 0

# ---- the truth re-derived from the clean feeds (3k persons x 2 years) -------------------------
CDB="$T/clean.db"
load_kind() { # kind
	f1=$(ls "$T/clean/feeds/$1"/*.csv | head -1)
	cols=$(head -1 "$f1" | sed 's/,/ text, /g; s/$/ text/')
	{
		echo "create table $1 ($cols);"
		for f in "$T/clean/feeds/$1"/*.csv; do echo ".import --csv --skip 1 $f $1"; done
	} | sql "$CDB"
}
for k in apc op ae community mh gp_appt social_care ambulance deaths gp_register; do load_kind $k; done
sql "$CDB" ".import --csv $T/clean/truth/person_year.csv t" ".import --csv $DATA/ncc_2023_24.csv ncc_raw" \
	".import --csv $DATA/unit_costs.csv uc" ".import --csv $DATA/ltc_codelist.csv cl" \
	".import --csv $DATA/apc_trim_points.csv trim_raw" "
create table ncc as select \"Service Code\" svc, \"Dept or Currency Code\" code,
  cast(case when instr(\"Unit cost\", '.') = 0 then \"Unit cost\" else substr(\"Unit cost\", 1, instr(\"Unit cost\", '.') - 1) end as int) * 100
  + cast(substr(case when instr(\"Unit cost\", '.') = 0 then '' else substr(\"Unit cost\", instr(\"Unit cost\", '.') + 1) end || '000', 1, 2) as int)
  + (cast(substr(case when instr(\"Unit cost\", '.') = 0 then '' else substr(\"Unit cost\", instr(\"Unit cost\", '.') + 1) end || '000', 3, 1) as int) >= 5) p
  from ncc_raw;
create table ucp as select code, cast(round(cast(unit_cost as real) * 100) as int) p from uc;
create table trims as select hrg, admission, cast(trim_days as int) d,
  cast(round(cast(excess_bed_day as real) * 100) as int) p from trim_raw;
"
FY="(cast(substr(%s,1,4) as int) - (cast(substr(%s,6,2) as int) < 4))"
fy() { printf "$FY" "$1" "$1"; }
sql "$CDB" "
create table priced (nhs, fy, setting, pence);
-- APC: one price per spell (SUSSPELLID), from its first episode's method, its
-- length (ADMIDATE to DISDATE), the highest-priced HRG of its episodes under
-- the spell's point of delivery, plus (days - trim point) x the excess bed
-- day price of that HRG (its own row, else its chapter's, else '*'); all in
-- the year of ADMIDATE. Cost to provider: every episode at its NCC price.
create table ep as select NEWNHSNO nhs, SUSSPELLID sid, cast(EPIORDER as int) o, * from apc;
create table sp0 as select distinct nhs, sid,
  first_value(ADMIMETH) over w m, first_value(CLASSPAT) over w c, first_value(ADMIDATE) over w a,
  last_value(DISDATE) over w dd, first_value(o) over w o1
  from ep window w as (partition by nhs, sid order by o rows between unbounded preceding and unbounded following);
create table sp1 as select *, case when m in ('21','22','23','24','25','28','2A','2B','2C','2D') then 'emergency'
  when c = '2' then 'daycase' when m in ('11','12','13') then 'elective' else 'other' end kind,
  cast(julianday(dd) - julianday(a) as int) los from sp0;
create table sp2 as select *, case kind when 'daycase' then 'Daycase' when 'elective' then 'Elective Inpatients'
  else case when los <= 1 then 'Non-Elective Inpatient - Short Stay' else 'Non-Elective Inpatient - Long Stay' end end svc from sp1;
create table sp3 as select sp2.*, (select SUSHRG from ep join ncc on ncc.code = ep.SUSHRG and ncc.svc = sp2.svc
  where ep.nhs = sp2.nhs and ep.sid = sp2.sid order by ncc.p desc, ep.o limit 1) h from sp2;
create table sp4 as select sp3.*, (select p from ncc where code = h and svc = sp3.svc) base,
  (select d from trims where admission = case kind when 'elective' then 'elective' else 'nonelective' end
   and hrg in (h, substr(h, 1, 2), '*') order by length(hrg) desc limit 1) td,
  (select p from trims where admission = case kind when 'elective' then 'elective' else 'nonelective' end
   and hrg in (h, substr(h, 1, 2), '*') order by length(hrg) desc limit 1) tp
  from sp3;
create table spells as select nhs, sid, kind, o1, $(fy a) fy, los,
  base + case when kind != 'daycase' and los > td then (los - td) * tp else 0 end pence from sp4;
insert into priced select nhs, fy, case kind when 'daycase' then 'daycase' when 'elective' then 'elective' else 'nonelective' end,
  pence from spells;
insert into priced select nhs, fy, case kind when 'emergency' then 'emergency' else 'other_nonelective' end, pence
  from spells where kind in ('emergency', 'other');
insert into priced select ep.NEWNHSNO, $(fy ep.ADMIDATE), 'apc_provider',
  (select p from ncc where code = SUSHRG and svc = case when CLASSPAT = '2' then 'Daycase'
     when ADMIMETH in ('11','12','13') then 'Elective Inpatients'
     when julianday(EPIEND) - julianday(EPISTART) <= 1 then 'Non-Elective Inpatient - Short Stay'
     else 'Non-Elective Inpatient - Long Stay' end) from ep;
insert into priced select NEWNHSNO, $(fy APPTDATE), 'outpatient',
  (select p from ncc where code = SUSHRG and svc = case when SUSHRG like 'WF%' then 'Consultant Led' else 'Outpatient Procedures' end)
  from op where ATTENDED in ('5','6');
insert into priced select NEWNHSNO, $(fy ARRIVALDATE), 'ae', (select p from ncc where code = SUSHRG and svc = 'Emergency Care') from ae;
insert into priced select NEWNHSNO, $(fy CONTACT_DATE), 'community', (select p from ncc where code = CURRENCY_CODE and svc = 'Community Health Service')
  from community where ATTENDED in ('5','6');
insert into priced select NEWNHSNO, $(fy CONTACT_DATE), 'mh',
  case when RECORD_TYPE = 'BEDDAYS' then cast(BED_DAYS as int) * (select p from ncc where code = 'MHPS' and svc = 'Mental Health Provider Spell')
       when ATTENDED in ('5','6') then (select p from ncc where code = CURRENCY_CODE and svc = case CURRENCY_CODE when 'MHCC' then 'Mental Health Care Contact' else 'NHS Talking Therapy Care Contact' end)
       else 0 end from mh;
insert into priced select NEWNHSNO, $(fy INCIDENT_DATE), 'ambulance', (select p from ncc where code = CURRENCY_CODE and svc = 'Ambulance') from ambulance;
insert into priced select NEWNHSNO, $(fy APPT_DATE), 'gp', case when APPT_STATUS = 'Attended' then cast(DURATION_MIN as int) * (select p from ucp where code = HCP_TYPE) else 0 end from gp_appt;
insert into priced select NEWNHSNO, $(fy START_DATE), 'social_care', cast(round(cast(COST as real) * 100) as int) from social_care;
"
nullp=$(sql "$CDB" "select count(*) from priced where pence is null")
check "every clean feed row prices from the shipped tables ($nullp unpriced)" test "$nullp" -eq 0
for s in elective nonelective daycase outpatient ae community mh gp social_care ambulance total \
	emergency other_nonelective apc_provider; do
	case $s in
	total) cond="where setting not in ('emergency', 'other_nonelective', 'apc_provider')" ;;
	*) cond="where setting = '$s'" ;;
	esac
	bad=$(sql "$CDB" "with f as (select nhs, fy, sum(pence) p from priced $cond group by nhs, fy)
		select count(*) from t left join f on f.nhs = t.nhs_number and f.fy = cast(substr(t.fyear,1,4) as int)
		where coalesce(f.p, 0) != cast(round(cast(t.cost_$s as real) * 100) as int)")
	check "truth cost_$s = the clean feeds priced by docs/costing.md, every person-year to the penny" test "$bad" -eq 0
done
orphan=$(sql "$CDB" "select count(*) from (select distinct nhs, fy from priced) f left join t on f.nhs = t.nhs_number and f.fy = cast(substr(t.fyear,1,4) as int) where t.nhs_number is null")
check "all activity falls in a registered person-year ($orphan outside)" test "$orphan" -eq 0
bad=$(sql "$CDB" "with e as (select NEWNHSNO nhs, $(fy ADMIDATE) fy, count(*) k from apc where EPIORDER = '01'
	and ADMIMETH in ('21','22','23','24','25','28','2A','2B','2C','2D') group by 1, 2)
	select count(*) from t left join e on e.nhs = t.nhs_number and e.fy = cast(substr(t.fyear,1,4) as int)
	where coalesce(e.k, 0) != cast(t.emergency_admissions as int)")
check "truth emergency_admissions = spells with an emergency first episode, every person-year" test "$bad" -eq 0
bad=$(sql "$CDB" "with e as (select nhs, fy, count(*) k from spells where kind = 'other' and o1 = 1 group by 1, 2)
	select count(*) from t left join e on e.nhs = t.nhs_number and e.fy = cast(substr(t.fyear,1,4) as int)
	where coalesce(e.k, 0) != cast(t.other_nonelective_admissions as int)")
o=$(sql "$CDB" "select sum(other_nonelective_admissions) from t")
check "truth other_nonelective_admissions = other non-elective spells (transfers: $o)" test "$bad" -eq 0 -a "$o" -gt 0
# Bed days: each night of each episode in the financial year it falls in.
for k in all emergency; do
	if [ $k = all ]; then col=bed_days; cond=1; else col=emergency_bed_days
		cond="ADMIMETH in ('21','22','23','24','25','28','2A','2B','2C','2D')"; fi
	bad=$(sql "$CDB" "with y(y) as (select distinct cast(substr(fyear,1,4) as int) from t),
		b as (select NEWNHSNO nhs, y fy, sum(max(0, min(julianday(EPIEND), julianday((y + 1) || '-04-01'))
		  - max(julianday(EPISTART), julianday(y || '-04-01')))) d from apc, y where $cond group by 1, 2)
		select count(*) from t left join b on b.nhs = t.nhs_number and b.fy = cast(substr(t.fyear,1,4) as int)
		where coalesce(b.d, 0) != cast(t.$col as int)")
	check "truth $col = nights of APC episodes, each in the year it falls in" test "$bad" -eq 0
done
v=$(sql "$CDB" "select count(*) from spells s join apc a on a.NEWNHSNO = s.nhs and a.SUSSPELLID = s.sid
	where $(fy a.EPIEND) != s.fy")
check "some spells cross 31 March ($v episodes end in a later year than their admission)" test "$v" -gt 0
bad=$(sql "$CDB" "with d as (select NEWNHSNO nhs, $(fy DOD) fy from deaths)
	select count(*) from t left join d on d.nhs = t.nhs_number and d.fy = cast(substr(t.fyear,1,4) as int)
	where (d.nhs is not null) != (t.died = '1')")
check "truth died = a death in the deaths feed in that year" test "$bad" -eq 0
bad=$(sql "$CDB" "with y(y) as (select distinct cast(substr(fyear,1,4) as int) from t),
	r as (select distinct NEWNHSNO nhs, y from gp_register, y where REG_START <= (y + 1) || '-03-31' and (REG_END = '' or REG_END >= y || '-04-01'))
	select (select count(*) from r) - (select count(*) from r join t on t.nhs_number = r.nhs and cast(substr(t.fyear,1,4) as int) = r.y) + abs((select count(*) from r) - (select count(*) from t))")
pop=$(sql "$CDB" "select count(*) from t")
check "truth person-years = registrations overlapping each year in the GP register feed ($pop)" test "$bad" -eq 0
# LTC count: register dates by the year end, or APC diagnoses in the year and the two before.
flags=$(head -1 "$(ls "$T/clean/feeds/gp_register"/*.csv | head -1)" | tr ',' '\n' | tail -n +9)
q="create table regflag (nhs, cond, d);"
for f in $flags; do
	q="$q insert into regflag select NEWNHSNO, (select condition from cl where source = 'register' and code = '$f'), \"$f\" from gp_register where \"$f\" != '';"
done
q="$q create table dx (nhs, d, code);"
for i in 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16 17 18 19 20; do
	q="$q insert into dx select NEWNHSNO, EPISTART, DIAG_4_$i from apc where DIAG_4_$i != '';"
done
sql "$CDB" "$q
create table dxc as select distinct dx.nhs, dx.d, cl.condition cond from dx join cl on cl.source = 'icd10' and substr(dx.code, 1, length(cl.code)) = cl.code;
create table tl as select t.nhs_number nhs, t.fyear, cast(substr(t.fyear,1,4) as int) y, cast(t.ltc_count as int) n, cast(t.mental_ltc_count as int) nm from t;
create table got as select tl.nhs, tl.y, c.cond from tl join regflag c on c.nhs = tl.nhs and c.d <= (tl.y + 1) || '-03-31'
  union select tl.nhs, tl.y, x.cond from tl join dxc x on x.nhs = tl.nhs and x.d >= (tl.y - 2) || '-04-01' and x.d <= (tl.y + 1) || '-03-31';"
bad=$(sql "$CDB" "select count(*) from tl left join (select nhs, y, count(*) k, sum((select kind from cl where cl.condition = got.cond limit 1) = 'mental') km from got group by 1, 2) g
	on g.nhs = tl.nhs and g.y = tl.y where coalesce(g.k, 0) != tl.n or coalesce(g.km, 0) != tl.nm")
check "truth ltc_count and mental_ltc_count = register flags + APC diagnoses via data/ltc_codelist.csv" test "$bad" -eq 0
nc=$(sql "$CDB" "select count(distinct condition) from cl")
check "the code list has at least 20 conditions ($nc), physical and mental" test "$nc" -ge 20

echo "1..$n"

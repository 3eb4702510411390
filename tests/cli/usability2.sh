#!/bin/sh
# Messages that stay readable: load and pseudonymise collapse a file's many
# bad rows of one kind into one line (count and first place), every row
# under --verbose; a year not in the dataset names the years there (report,
# quality, risk); quality of an empty dataset says so and exits 3;
# quarantine prints its summary per feed and reason.
. "$(dirname "$0")/lib.sh"

G=$TMP/feeds
python3 "$YOC_ROOT/tests/cli/feedgen.py" "$G" 200 1 3 > /dev/null
f=$(ls "$G"/*/*.csv "$G"/*.csv 2> /dev/null | while read -r p; do head -1 "$p" | grep -q ARRIVALDATE && echo "$p"; done | head -1)
if [ -z "$f" ]; then
	# no A&E file from the generator: write one with the loader's spec
	mkdir -p "$G/ae"; f=$G/ae/RA1_2023-05.csv
	printf 'PSEUDO_ID,NHSNO_STATUS,ARRIVALDATE\n' > "$f"
	i=0; while [ $i -lt 40 ]; do printf '%064d,valid,2023-05-%02d\n' $i $((i % 28 + 1)) >> "$f"; i=$((i+1)); done
fi
# every other row gets an impossible ARRIVALDATE
python3 - "$f" <<'PY'
import sys
p = sys.argv[1]
L = open(p).read().splitlines()
h = L[0].split(","); i = h.index("ARRIVALDATE")
out = [L[0]]
for k, l in enumerate(L[1:]):
    c = l.split(",")
    if k % 2 == 1: c[i] = "2023-02-30"
    out.append(",".join(c))
open(p, "w").write("\n".join(out) + "\n")
PY
col=$(head -1 "$f" | tr ',' '\n' | grep -n '^ARRIVALDATE$' | cut -d: -f1)
"$YOC" init "$TMP/d1" > /dev/null
"$YOC" load --db "$TMP/d1" "$f" > /dev/null 2> "$TMP/l.err"
want=$(sqlite3 "$TMP/d1/yoc.db" "select count(*) || ' rows quarantined: bad_date in ARRIVALDATE (first at $f:' || min(line) || ':$col)' from quarantine where reason = 'bad_date'")
same "load: one line per file and reason with the count and the first place" \
	"$(grep 'bad_date' "$TMP/l.err")" "yoc load: $f: $want"
"$YOC" init "$TMP/d2" > /dev/null
"$YOC" load --db "$TMP/d2" --verbose "$f" > /dev/null 2> "$TMP/v.err"
same "load --verbose: every quarantined row" "$(grep -c ': quarantined: bad_date in ARRIVALDATE$' "$TMP/v.err")" \
	"$(sqlite3 "$TMP/d2/yoc.db" "select count(*) from quarantine where reason = 'bad_date'")"

# pseudonymise: stray quotes in many rows
"$YOC" keygen "$TMP/k" > /dev/null 2>&1 || "$YOC" keygen --out "$TMP/k" > /dev/null 2>&1
P=$TMP/p.csv
{ echo "NEWNHSNO,ARRIVALDATE,PROCODE,AEATTENDDISP"; i=0
  while [ $i -lt 30 ]; do
	if [ $((i % 3)) -eq 0 ]; then echo '9434765919,"2023-05-01"x,RA1,01'; else echo '9434765919,2023-05-01,RA1,01'; fi
	i=$((i+1)); done; } > "$P"
"$YOC" pseudonymise --key "$TMP/k" --in "$P" --out "$TMP/po.csv" --kind ae > /dev/null 2> "$TMP/p.err"
same "pseudonymise: one line for 10 rows with the same fault" \
	"$(grep -c 'rows rejected (not written' "$TMP/p.err") $(grep -o '10 rows rejected (not written, counted): stray_quote (first at [^:]*:2:' "$TMP/p.err" | wc -l)" "1 1"
"$YOC" pseudonymise --key "$TMP/k" --in "$P" --out "$TMP/po2.csv" --kind ae --verbose > /dev/null 2> "$TMP/pv.err"
same "pseudonymise --verbose: each rejected row" "$(grep -v 'rows rejected' "$TMP/pv.err" | grep -c "$P:[0-9]*:[0-9]*: ")" 10

# quality of an empty dataset
"$YOC" init "$TMP/e" > /dev/null
expect_rc 3 "quality of an empty dataset exits 3" "$YOC" quality --db "$TMP/e" --out "$TMP/eq"
check "... saying nothing is loaded" grep -q "holds no data: nothing has been loaded" "$TMP/.err"
check "... and writing nothing" test ! -e "$TMP/eq"
check "the exit code is in its help" sh -c "'$YOC' help quality | grep -q '3 the dataset holds no data'"

# quarantine summary: per feed and reason, as in the store
"$YOC" quarantine --db "$TMP/d1" > "$TMP/q.csv" 2> "$TMP/q.err"
got=$(grep '^  ' "$TMP/q.err" | awk '{print $1, $2, $3}')
want=$(sqlite3 -separator ' ' "$TMP/d1/yoc.db" "select f.kind, q.reason, count(*) from quarantine q join files f using(file_id) group by 1, 2 order by 1, 3 desc, 2")
same "quarantine prints its summary per feed and reason" "$got" "$want"
check "... and stdout stays CSV" sh -c "head -1 '$TMP/q.csv' | grep -q '^file,kind,provider'"

# years: one lister for every verb
D=$TMP/demo
YOC_QUIET=1 "$YOC" demo --persons 600 --out "$D" > /dev/null 2>&1
years=$(sqlite3 "$D/dataset/yoc.db" "select group_concat(fyear, ', ') from (select distinct fyear from person_year order by 1)")
msg="2019/20 is not in the dataset; years available: $years"
expect_rc 1 "report --fyear 2019/20 fails" "$YOC" report --db "$D/dataset" --out "$TMP/r" --fyear 2019/20
same "... listing the years" "$(cat "$TMP/.err")" "yoc report: $msg"
expect_rc 1 "quality --fyear 2019/20 fails" "$YOC" quality --db "$D/dataset" --out "$TMP/r" --fyear 2019/20
same "... listing the years" "$(cat "$TMP/.err")" "yoc quality: $msg"
expect_rc 1 "risk fit --year 2019/20 fails" "$YOC" risk fit --db "$D/dataset" --year 2019/20
same "... listing the years" "$(cat "$TMP/.err")" "yoc risk fit: $msg"
done_testing

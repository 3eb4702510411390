#!/bin/sh
# yoc init/load/status/export/quarantine end to end: exact row accounting on
# the Artificial HES samples and on a generated feed tree with known defects
# (tests/cli/feedgen.py computes the expected counts independently), refusal
# of identifiable files, unchanged reloads, and monthly replacement.
. "$(dirname "$0")/lib.sh"
HES=$YOC_ROOT/../shared/reference/hes/samples
D=$TMP/ds

expect_rc 0 "init creates a dataset" "$YOC" init "$D"
check "yoc.db is a SQLite database with a person table" sqlite3 "$D/yoc.db" "select count(*) from person"
expect_rc 1 "init refuses an existing dataset" "$YOC" init "$D"
expect_rc 2 "load without --db is a usage error" "$YOC" load "$HES"

# --- Artificial HES samples: rows counted independently with python's csv module
if [ -d "$HES" ]; then
	# The samples are published as artificial_hes_<kind>_<YYZZ>.csv; yoc takes
	# provider and period from a feed name PROVIDER_PERIOD.csv, so they are
	# linked under feed names: provider HES, the financial year 20YY-ZZ.
	H=$TMP/hes
	for f in "$HES"/artificial_hes_*_*.csv; do
		b=$(basename "$f" .csv); k=${b#artificial_hes_}; k=${k%_*}; y=${b##*_}
		mkdir -p "$H/$k" && ln -s "$f" "$H/$k/HES_20${y%??}-${y#??}.csv"
	done
	"$YOC" load --db "$D" --json "$H"/*/*.csv > "$TMP/hes.json" 2>"$TMP/hes.err"
	same "HES samples load (exit 0)" "$?" 0
	python3 - "$TMP/hes.json" "$H" > "$TMP/hes.check" <<'PY'
import csv, json, sys, os
res = [json.loads(l) for l in open(sys.argv[1])]
for r in res:
    n = sum(1 for _ in csv.reader(open(r["file"], newline=''))) - 1
    ok = r["rows"] == n and r["rows"] == r["loaded"] + r["quarantined"] and \
         sum(r["reasons"].values()) == r["quarantined"] and r["status"] == "loaded"
    print("%s %s %s %s %d %d" % (os.path.relpath(r["file"], sys.argv[2]), r["provider"],
                                 r["period"], "ok" if ok else "bad", r["rows"], n))
PY
	same "HES apc: 2075 rows, rows = loaded + quarantined" "$(grep ^apc/ "$TMP/hes.check")" "apc/HES_2001-02.csv HES 2001-02 ok 2075 2075"
	same "HES op: 1000 rows, rows = loaded + quarantined" "$(grep ^op/ "$TMP/hes.check")" "op/HES_2003-04.csv HES 2003-04 ok 1000 1000"
	same "HES ae: 1000 rows, rows = loaded + quarantined" "$(grep ^ae/ "$TMP/hes.check")" "ae/HES_2007-08.csv HES 2007-08 ok 1000 1000"
	q=$(sqlite3 "$D/yoc.db" "select count(*) from quarantine")
	qj=$(python3 -c "import json,sys; print(sum(json.loads(l)['quarantined'] for l in open(sys.argv[1])))" "$TMP/hes.json")
	same "quarantine table holds every quarantined row" "$q" "$qj"
	n=$("$YOC" export --db "$D" --table apc | python3 -c "import csv,sys; print(sum(1 for _ in csv.reader(sys.stdin))-1)")
	same "export apc returns every loaded row" "$n" "$(sqlite3 "$D/yoc.db" "select loaded from files where kind='apc'")"
	# PSEUDO_HESID is the person key; the export carries it under PSEUDO_ID
	h=$("$YOC" export --db "$D" --table apc | head -1 | tr ',' '\n' | grep -c '^PSEUDO_ID$')
	same "PSEUDO_HESID stored as PSEUDO_ID" "$h" 1
	sqlite3 "$D/yoc.db" .dump > "$TMP/dump1"
	"$YOC" load --db "$D" --json "$H"/*/*.csv > "$TMP/hes2.json"
	same "reload: every file unchanged" "$(grep -c '"status":"unchanged"' "$TMP/hes2.json")" 3
	sqlite3 "$D/yoc.db" .dump > "$TMP/dump2"
	check "reload changes nothing in the catalog" cmp -s "$TMP/dump1" "$TMP/dump2"
	expect_rc 1 "a sample under its published name is refused" "$YOC" load --db "$D" "$HES/artificial_hes_op_0304.csv"
	check "message names the file and the rule" grep -q "artificial_hes_op_0304.csv: rejected: file name artificial_hes_op_0304.csv: too many parts" "$TMP/.out"
else
	skip "HES samples" "no ../shared/reference"
fi

# --- identifiable data is refused whole
printf 'NEWNHSNO,DOB,APPTDATE,ATTENDED\n9434765919,1970-01-01,2023-01-02,5\n' > "$TMP/OPX_2023-01.csv"
expect_rc 1 "a file with NEWNHSNO is refused" "$YOC" load --db "$D" "$TMP/OPX_2023-01.csv"
check "message says to pseudonymise" grep -q pseudonymise "$TMP/.err"
same "refused file left no trace" "$(sqlite3 "$D/yoc.db" "select count(*) from files where provider='OPX'")" 0
printf 'PSEUDO_ID,POSTCODE,APPTDATE\n,AB1 2CD,2023-01-02\n' > "$TMP/OPY_2023-01.csv"
expect_rc 1 "a file with POSTCODE is refused" "$YOC" load --db "$D" "$TMP/OPY_2023-01.csv"

# --- generated feeds with known defects
G=$TMP/feeds
python3 "$YOC_ROOT/tests/cli/feedgen.py" "$G" 300 3 120 > "$TMP/expect.json"
E=$TMP/ds2
"$YOC" init "$E" >/dev/null
"$YOC" load --db "$E" --json "$G" > "$TMP/g.json"
same "generated tree loads (exit 0)" "$?" 0
sqlite3 -separator ' ' "$E/yoc.db" "select f.path, sum(l.linked), sum(l.no_pseudonym), sum(l.not_registered) from linkage l join current_files f using(file_id) group by f.path" > "$TMP/link.txt"
sqlite3 -separator ' ' "$E/yoc.db" "select f.path, reason, count(*) from flags join files f using(file_id) group by 1,2" > "$TMP/flags.txt"
python3 - "$TMP/expect.json" "$TMP/g.json" "$TMP/link.txt" "$TMP/flags.txt" > "$TMP/g.check" <<'PY'
import json, sys, os
exp = json.load(open(sys.argv[1]))
got = {os.path.abspath(j["file"]): j for j in map(json.loads, open(sys.argv[2]))}
link = {l.split()[0]: list(map(int, l.split()[1:])) for l in open(sys.argv[3])}
flags = {}
for l in open(sys.argv[4]):
    p, r, n = l.split()
    flags.setdefault(os.path.abspath(p), {})[r] = int(n)
bad = []
for f, e in exp["files"].items():
    g = got.get(f)
    if not g:
        bad.append("missing " + f); continue
    if g["rows"] != e["rows"] or g["quarantined"] != e["quarantined"] or g["rows"] != g["loaded"] + g["quarantined"]:
        bad.append("accounting " + f)
    if g["reasons"] != e["reasons"]:
        bad.append("reasons %s %s %s" % (f, g["reasons"], e["reasons"]))
    if link.get(g["file"]) != [e["linked"], e["no_pseudonym"], e["not_registered"]]:
        bad.append("linkage %s %s %s" % (f, link.get(g["file"]), e))
    if flags.get(f, {}).get("bad_code", 0) != e["flags"].get("bad_code", 0):
        bad.append("flags " + f)
print("ok %d" % len(exp["files"]) if not bad else "\n".join(bad))
PY
same "every generated file: rows, quarantine reasons, linkage and flags as injected" "$(cat "$TMP/g.check")" "ok 12"
same "person table = registered population" "$(sqlite3 "$E/yoc.db" "select count(*) from person")" 300
st=$("$YOC" status --db "$E" --json | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['persons'], len(d['feeds']))")
same "status --json: people and feeds" "$st" "300 3"
nq=$("$YOC" quarantine --db "$E" | python3 -c "import csv,sys; print(sum(1 for _ in csv.reader(sys.stdin))-1)")
same "yoc quarantine lists every quarantined row" "$nq" "$(sqlite3 "$E/yoc.db" "select sum(quarantined) from files")"
expect_rc 0 "quarantine --out writes a file" "$YOC" quarantine --db "$E" --out "$TMP/q.csv"
check "quarantine export has file, line, field, value, reason" grep -q '^file,kind,provider,period,line,field,value,reason,raw$' "$TMP/q.csv"
expect_rc 0 "export person table" "$YOC" export --db "$E" --table person --out "$TMP/person.csv"
same "person export rows" "$(($(wc -l < "$TMP/person.csv") - 1))" 300
expect_rc 1 "export of an unknown table fails" "$YOC" export --db "$E" --table nosuch

# --- monthly refresh: a resubmitted month replaces its predecessor
F=$G/apc/RXA_2023-01.csv
head -n 11 "$F" > "$TMP/resub" && cp "$TMP/resub" "$F"
"$YOC" load --db "$E" --json "$G" > "$TMP/r.json"
same "resubmitted month is 'replaced'" "$(grep -c '"status":"replaced"' "$TMP/r.json")" 1
same "other files unchanged" "$(grep -c '"status":"unchanged"' "$TMP/r.json")" 12
same "predecessor kept as superseded" "$(sqlite3 "$E/yoc.db" "select count(*) from files where superseded_by is not null")" 1
cur=$(sqlite3 "$E/yoc.db" "select rows from current_files where path like '%apc/RXA_2023-01.csv'")
same "current file is the resubmission (10 rows)" "$cur" 10
n=$("$YOC" export --db "$E" --table apc | python3 -c "import csv,sys; print(sum(1 for _ in csv.reader(sys.stdin))-1)")
same "export holds only current rows" "$n" "$(sqlite3 "$E/yoc.db" "select sum(loaded) from current_files where kind='apc'")"
# --- data-quality report: feedback rows = quarantined rows + flagged values
expect_rc 0 "quality report written" "$YOC" quality --db "$E" --out "$TMP/q"
check "quality.html exists" test -s "$TMP/q/quality.html"
fb=$(ls "$TMP/q"/feedback/*.csv | grep -v '_files\.csv$' | xargs cat | grep -vc '^file,')
same "provider feedback lists every quarantined row and flag" "$fb" "$(sqlite3 "$E/yoc.db" "select (select count(*) from quarantine join current_files using(file_id)) + (select count(*) from flags join current_files using(file_id))")"
qn=$(python3 -c "import csv,sys; print(sum(int(float(r['value'])) for r in csv.DictReader(open(sys.argv[1])) if r['check']=='rows_quarantined'))" "$TMP/q/quality.csv")
same "report's quarantined rows = sum over current files" "$qn" "$(sqlite3 "$E/yoc.db" "select sum(quarantined) from current_files")"
done_testing

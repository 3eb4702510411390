#!/bin/sh
# Output folders are written whole (docs/ARCHITECTURE.md, atomic output
# trees). `yoc report` and `yoc pseudonymise` (directory mode) are killed
# with SIGKILL at moments spread over a run: each time the output folder
# must be exactly the previous run's or exactly the new one (checksums of
# every file), and the next run must leave no *.tmp.* anywhere. Also: a
# failed file means nothing is swapped in; a folder that yoc did not write
# is refused; stale temporaries of dead processes are swept.
. "$(dirname "$0")/lib.sh"
KILLS=${YOC_KILLS:-20}
if ! command -v sqlite3 > /dev/null 2>&1 || ! command -v python3 > /dev/null 2>&1; then
	skip "output trees" "sqlite3 or python3 missing"; done_testing; exit 0
fi

# The checksum of a tree: every file's relative path and content. The
# workbook's docProps/core.xml holds its creation time, so a workbook is
# hashed member by member without it; pseudonymise's source account
# (yoc-account.json) is hashed without the line of the time it was written.
treesum() {
	python3 - "$1" <<'EOF'
import hashlib, os, sys, zipfile
root, h = sys.argv[1], hashlib.sha256()
if not os.path.isdir(root):
    print("missing"); sys.exit()
for d, dirs, files in sorted(os.walk(root)):
    dirs.sort()
    for f in sorted(files):
        p = os.path.join(d, f)
        h.update(os.path.relpath(p, root).encode() + b"\0")
        if f.endswith(".xlsx"):
            try:
                z = zipfile.ZipFile(p)
                for n in sorted(z.namelist()):
                    if n != "docProps/core.xml":
                        h.update(n.encode() + z.read(n))
            except Exception:
                h.update(b"broken workbook")
        elif f == "yoc-account.json":
            h.update(b"".join(l for l in open(p, "rb") if not l.lstrip().startswith(b'"written"')))
        else:
            h.update(open(p, "rb").read())
print(h.hexdigest())
EOF
}

# ms a run of "$@" takes, at least 50 (to spread the kills over it)
duration() {
	t0=$(date +%s%N); "$@" > /dev/null 2>&1; t1=$(date +%s%N)
	ms=$(( (t1 - t0) / 1000000 )); [ "$ms" -lt 50 ] && ms=50; echo "$ms"
}

# kill_loop NAME OUT OLDCOPY OLDSUM NEWSUM MS command...: KILLS runs of the
# command, each killed after a delay spread over MS; after each, OUT must
# sum to OLDSUM or NEWSUM (then OUT is put back to the old copy).
kill_loop() {
	name=$1 out=$2 oldcopy=$3 oldsum=$4 newsum=$5 ms=$6; shift 6
	bad=0 killed=0 leftover=0 i=0
	while [ $i -lt "$KILLS" ]; do
		i=$((i+1))
		delay=$(awk -v i="$i" -v n="$KILLS" -v ms="$ms" -v r="$(od -An -N2 -tu2 /dev/urandom)" \
			'BEGIN { printf "%.3f", ((i - 1) + r / 65536) / n * ms / 1000 }')
		"$@" > /dev/null 2>&1 &
		pid=$!
		sleep "$delay"
		if kill -9 "$pid" 2> /dev/null; then killed=$((killed+1)); fi
		wait "$pid" 2> /dev/null
		[ -n "$(ls -d "$out".tmp.* 2> /dev/null)" ] && leftover=$((leftover+1))
		got=$(treesum "$out")
		if [ "$got" = "$newsum" ]; then
			rm -rf "$out" && cp -a "$oldcopy" "$out"
		elif [ "$got" != "$oldsum" ]; then
			bad=$((bad+1)); echo "# $name: kill $i after ${delay}s: the output is neither the old nor the new"
			rm -rf "$out" && cp -a "$oldcopy" "$out"
		fi
	done
	echo "# $name: $killed of $KILLS runs killed, $leftover left a temporary behind"
	[ "$killed" -gt 0 ] && ok "$name: runs were killed mid-way" || not_ok "$name: no run was killed"
	same "$name: after every kill the output is exactly the old or the new" "$bad" 0
}

# ---- yoc report --------------------------------------------------------------
D=$TMP/ds; mkdir -p "$D"
sqlite3 "$D/yoc.db" <<'SQL'
CREATE TABLE person_year(pseudo_id TEXT, fyear TEXT, age INTEGER, sex TEXT,
  practice TEXT, imd_decile INTEGER, ltc_count INTEGER, mental_ltc_count INTEGER,
  band TEXT, emergency_admissions INTEGER, bed_days INTEGER, died INTEGER,
  cost_total INTEGER, cost_elective INTEGER, cost_nonelective INTEGER,
  cost_daycase INTEGER, cost_outpatient INTEGER, cost_ae INTEGER,
  cost_community INTEGER, cost_mh INTEGER, cost_gp INTEGER,
  cost_social_care INTEGER, cost_ambulance INTEGER);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000)
INSERT INTO person_year
SELECT printf('p%05d', i), '2023/24', (i * 37) % 100, CASE i % 3 WHEN 1 THEN 'M' ELSE 'F' END,
  printf('P%02d', (i * 7) % 9), 1 + i % 10, l, min(l, (i * 5) % 3),
  CASE WHEN l <= 1 THEN 'A' WHEN l = 2 THEN 'B' WHEN l <= 5 THEN 'C' ELSE 'D' END,
  (i * 3) % 4 * (l > 3), 0, 0, 0, (i * 7919) % 50000 * (l > 2), (i * 104729) % 90000 * (l > 1),
  0, (i * 31) % 20000, (i * 17) % 28000, (i * 13) % 9000, (i * 11) % 30600, 4800 * (1 + l), 0, 0
FROM (SELECT i, (i * 13 % 97) % 9 AS l FROM n);
UPDATE person_year SET cost_total = cost_elective + cost_nonelective + cost_daycase
  + cost_outpatient + cost_ae + cost_community + cost_mh + cost_gp + cost_social_care
  + cost_ambulance;
SQL
R=$TMP/rep
expect_rc 0 "report: the old run" "$YOC" report --db "$D" --out "$R" --threshold 7
cp -a "$R" "$TMP/rep.old"
expect_rc 0 "report: the new run (a reference)" "$YOC" report --db "$D" --out "$TMP/rep.new" --threshold 10
OLD=$(treesum "$R"); NEW=$(treesum "$TMP/rep.new")
[ "$OLD" != "$NEW" ] && ok "report: old and new runs differ" || not_ok "report: old and new runs differ"
ms=$(duration "$YOC" report --db "$D" --out "$TMP/rep.timed" --threshold 10)
kill_loop report "$R" "$TMP/rep.old" "$OLD" "$NEW" "$ms" "$YOC" report --db "$D" --out "$R" --threshold 10
expect_rc 0 "report: the next run succeeds" "$YOC" report --db "$D" --out "$R" --threshold 10
same "report: ... and writes exactly the new report" "$(treesum "$R")" "$NEW"
same "report: no *.tmp.* left anywhere" "$(find "$TMP" -name '*.tmp.*' | head -3)" ""

# ---- yoc pseudonymise, directory mode -----------------------------------------
IN=$TMP/in
for d in apc op ae mh; do mkdir -p "$IN/$d"; done
awk -v dir="$IN" 'BEGIN { # 32 identifiable files, 2,000 rows each
	for (f = 0; f < 32; f++) {
		split("apc op ae mh", kind, " ")
		p = sprintf("%s/%s/P%02d_2023%02d.csv", dir, kind[1 + f % 4], f, 1 + f % 12)
		print "NEWNHSNO,DOB,NAME,EPIKEY,COST" > p
		for (i = 0; i < 2000; i++) printf "9434765919,1970-03-15,Ann Smith,E%d_%d,%d\n", f, i, i % 97 > p
		close(p)
	}
}'
"$YOC" keygen --out "$TMP/k1" > /dev/null && "$YOC" keygen --out "$TMP/k2" > /dev/null
P=$TMP/pseudo
expect_rc 0 "pseudonymise: the old run" "$YOC" pseudonymise --key "$TMP/k1" --in "$IN" --out "$P"
cp -a "$P" "$TMP/pseudo.old"
expect_rc 0 "pseudonymise: the new run (a reference)" "$YOC" pseudonymise --key "$TMP/k2" --in "$IN" --out "$TMP/pseudo.new"
OLD=$(treesum "$P"); NEW=$(treesum "$TMP/pseudo.new")
[ "$OLD" != "$NEW" ] && ok "pseudonymise: old and new runs differ" || not_ok "pseudonymise: old and new runs differ"
echo "# $(find "$IN" -name '*.csv' | wc -l) input files"
ms=$(duration "$YOC" pseudonymise --key "$TMP/k2" --in "$IN" --out "$TMP/pseudo.timed")
kill_loop pseudonymise "$P" "$TMP/pseudo.old" "$OLD" "$NEW" "$ms" "$YOC" pseudonymise --key "$TMP/k2" --in "$IN" --out "$P"
expect_rc 0 "pseudonymise: the next run succeeds" "$YOC" pseudonymise --key "$TMP/k2" --in "$IN" --out "$P"
same "pseudonymise: ... and writes exactly the new tree" "$(treesum "$P")" "$NEW"
same "pseudonymise: no *.tmp.* left anywhere" "$(find "$TMP" -name '*.tmp.*' | head -3)" ""

# ---- one failed file: nothing is swapped in -------------------------------------
S=$TMP/strict; mkdir -p "$S/apc"
printf 'NEWNHSNO,EPISTART,EPIKEY\n9434765919,2023-01-01,E1\n' > "$S/apc/good.csv"
printf 'NEWNHSNO,EPISTART,EPIKEY\n9434765919,2023-01-01,E1\n9434765919,2023-01-01,"E2\n' > "$S/apc/zbad.csv"
"$YOC" pseudonymise --key "$TMP/k1" --in "$IN" --out "$TMP/so" > /dev/null 2>&1
before=$(treesum "$TMP/so")
expect_rc 1 "a tree with a failing file (--strict, malformed row) exits 1" \
	"$YOC" pseudonymise --key "$TMP/k1" --in "$S" --out "$TMP/so" --strict
grep -q "zbad.csv" "$TMP/.err" && ok "... naming the failing file" || not_ok "... naming the failing file"
grep -q "nothing written" "$TMP/.err" && ok "... saying nothing was written" || not_ok "... saying nothing was written"
same "... and the previous output is intact (not mixed with good.csv)" "$(treesum "$TMP/so")" "$before"
same "... with no temporary beside it" "$(ls -d "$TMP"/so.tmp.* 2> /dev/null)" ""

# ---- refusals: a folder yoc did not write is never replaced -----------------------
mkdir -p "$TMP/mine"; echo precious > "$TMP/mine/notes.txt"
expect_rc 1 "report refuses a non-empty folder it did not write" "$YOC" report --db "$D" --out "$TMP/mine"
"$YOC" init "$TMP/qds" > /dev/null
expect_rc 1 "quality refuses it too" "$YOC" quality --db "$TMP/qds" --out "$TMP/mine"
grep -q "not written by 'yoc quality'" "$TMP/.err" && ok "... saying why" || not_ok "... saying why"
expect_rc 1 "pseudonymise (a tree) refuses it too" "$YOC" pseudonymise --key "$TMP/k1" --in "$IN" --out "$TMP/mine"
grep -q "not written by 'yoc pseudonymise'" "$TMP/.err" && ok "... saying why" || not_ok "... saying why"
expect_rc 1 "report refuses the output of another verb" "$YOC" report --db "$D" --out "$P"
same "the refused folders are untouched" "$(ls -A "$TMP/mine") $(treesum "$P")" "notes.txt $NEW"
printf 'x\n' > "$TMP/afile"
expect_rc 1 "report refuses an --out that is a file" "$YOC" report --db "$D" --out "$TMP/afile"
mkdir "$TMP/empty"
expect_rc 0 "an empty folder is fine" "$YOC" report --db "$D" --out "$TMP/empty"

# ---- stale temporaries of dead processes are swept --------------------------------
sh -c 'exit 0' & dead=$!; wait $dead
mkdir -p "$TMP/rep.tmp.$dead/csv" && echo half > "$TMP/rep.tmp.$dead/csv/x.csv"
mkdir -p "$TMP/rep.tmp.$$" # a live process's (this shell): kept
"$YOC" report --db "$D" --out "$R" > /dev/null
[ ! -e "$TMP/rep.tmp.$dead" ] && ok "a dead run's tree beside the output is removed" || not_ok "a dead run's tree beside the output is removed"
[ -d "$TMP/rep.tmp.$$" ] && ok "a live process's temporary is kept" || not_ok "a live process's temporary is kept"
rmdir "$TMP/rep.tmp.$$"
echo half > "$TMP/one.csv.tmp.$dead"
"$YOC" pseudonymise --key "$TMP/k1" --in "$S/apc/good.csv" --out "$TMP/one.csv" > /dev/null
[ ! -e "$TMP/one.csv.tmp.$dead" ] && ok "a single-file output's dead temporary is removed" || not_ok "a single-file output's dead temporary is removed"
echo half > "$TMP/k3.tmp.$dead"
"$YOC" keygen --out "$TMP/k3" > /dev/null
[ ! -e "$TMP/k3.tmp.$dead" ] && ok "keygen removes a dead run's key temporary" || not_ok "keygen removes a dead run's key temporary"
done_testing

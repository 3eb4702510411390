# Provenance: every output of a report run carries its manifest. The
# dataset state hash is recomputed independently in python (SHA-256 over
# the load log, analyse_run and person_year as docs/report.md defines it);
# two runs on the same data give the same hash, and a change to one cell of
# person_year, to analyse_run or to the load log changes it. manifest.json
# lists every file with its SHA-256 (checked with sha256sum), every HTML
# page's footer cites the hash, the workbook's properties carry it, and the
# reference data files are hashed as analyse recorded them.
. "$(dirname "$0")/lib.sh"

for tool in sqlite3 python3 sha256sum; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip "report manifest" "$tool missing"; done_testing; exit 0
	fi
done
D="$TMP/ds"; mkdir -p "$D"
printf 'condition,label\nx,y\n' > "$TMP/codelist.csv"
sqlite3 "$D/yoc.db" <<SQL
CREATE TABLE person_year(pseudo_id TEXT, fyear TEXT, age INTEGER, sex TEXT,
  practice TEXT, imd_decile INTEGER, ltc_count INTEGER, mental_ltc_count INTEGER,
  band TEXT, emergency_admissions INTEGER, bed_days INTEGER, died INTEGER,
  cost_total INTEGER, cost_elective INTEGER, cost_nonelective INTEGER,
  cost_daycase INTEGER, cost_outpatient INTEGER, cost_ae INTEGER,
  cost_community INTEGER, cost_mh INTEGER, cost_gp INTEGER,
  cost_social_care INTEGER, cost_ambulance INTEGER, weight REAL, note BLOB);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
INSERT INTO person_year
SELECT printf('p%05d', i), '2023/24', (i * 37) % 100, CASE i % 2 WHEN 0 THEN 'F' ELSE 'M' END,
  printf('P%02d', i % 3), CASE WHEN i % 5 = 0 THEN NULL ELSE 1 END, i % 4, 0, 'A', i % 3, 0, 0,
  4800 * (1 + i % 4), 0, 0, 0, 0, 0, 0, 0, 4800 * (1 + i % 4), 0, 0, i / 7.0, x'00ff'
FROM n;
CREATE TABLE analyse_run(key TEXT, value TEXT);
INSERT INTO analyse_run VALUES ('codelist_version', 'test-1'), ('bands', 'A:0-9+'),
  ('codelist', '$TMP/codelist.csv');
CREATE TABLE loads(load_id INTEGER PRIMARY KEY, started TEXT, finished TEXT, files INTEGER,
  rows INTEGER, loaded INTEGER, quarantined INTEGER, unchanged INTEGER, replaced INTEGER);
INSERT INTO loads VALUES (1, '2024-05-01T10:00:00Z', '2024-05-01T10:01:00Z', 1, 2000, 2000, 0, 0, 0);
CREATE TABLE files(file_id INTEGER PRIMARY KEY, load_id INTEGER NOT NULL, kind TEXT NOT NULL,
  provider TEXT NOT NULL, period TEXT NOT NULL, path TEXT, hash TEXT NOT NULL, bytes INTEGER,
  delimiter TEXT, segment TEXT NOT NULL, rows INTEGER, loaded INTEGER, quarantined INTEGER,
  flagged INTEGER, status TEXT, superseded_by INTEGER, loaded_at TEXT);
INSERT INTO files VALUES (1, 1, 'apc', 'RXX', '2023-04', 'a.csv', 'abc', 10, ',', 's1', 2000,
  2000, 0, 0, 'loaded', NULL, '2024-05-01T10:01:00Z');
SQL
# the dataset state hash as docs/report.md defines it, written out again
cat > "$TMP/state.py" <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.text_factory = bytes
h = hashlib.sha256(b"yoc-dataset-state-1\n")
Q = [("loads", "load_id, started, finished, files, rows, loaded, quarantined, unchanged, replaced", "load_id"),
     ("files", "file_id, load_id, kind, provider, period, hash, bytes, rows, loaded, quarantined, flagged, status, superseded_by", "file_id"),
     ("analyse_run", "key, value", "key"),
     ("person_year", None, "rowid")]
T = {"integer": b"I", "real": b"R", "text": b"T", "blob": b"B", "null": b"N"}
for name, cols, order in Q:
    if not db.execute("SELECT 1 FROM sqlite_master WHERE type IN ('table','view') AND name = ?", (name,)).fetchone():
        h.update(name.encode() + b" absent\n"); continue
    h.update(name.encode() + b"\n")
    if cols is None:
        cols = ", ".join('"%s"' % r[1].decode() for r in db.execute("PRAGMA table_info(%s)" % name))
    sel = ", ".join("typeof(%s), %s" % (c, c) for c in cols.split(", "))
    for row in db.execute("SELECT %s FROM %s ORDER BY %s" % (sel, name, order)):
        for i in range(0, len(row), 2):
            t, v = row[i].decode(), row[i + 1]
            if v is None:
                v = b""
            elif t == "real":
                v = b"%.17g" % v
            elif t == "integer":
                v = b"%d" % v
            else:
                v = bytes(v)
            h.update(T[t] + b"%d:" % len(v) + v)
        h.update(b"\n")
print(h.hexdigest())
PY
hash_of() { sed -n 's/.*"dataset_state_sha256": "\([0-9a-f]*\)".*/\1/p' "$1/manifest.json"; }
expect_rc 0 "report runs" "$YOC" report --db "$D" --out "$TMP/r1" --pcn /dev/null
h1=$(hash_of "$TMP/r1")
same "the dataset state hash = python's recomputation of its definition" "$h1" "$(python3 "$TMP/state.py" "$D/yoc.db")"
expect_rc 0 "report runs again" "$YOC" report --db "$D" --out "$TMP/r2" --pcn /dev/null
same "two runs on the same data give the same hash" "$(hash_of "$TMP/r2")" "$h1"
same "... and the same manifest" "$(cat "$TMP/r2/manifest.json")" "$(cat "$TMP/r1/manifest.json")"
bad=0
for f in $(sed -n 's/.*{"path": "\([^"]*\)", "sha256": "\([0-9a-f]*\)"}.*/\1=\2/p' "$TMP/r1/manifest.json"); do
	[ "$(sha256sum "$TMP/r1/${f%%=*}" | cut -d' ' -f1)" = "${f#*=}" ] || bad=$((bad + 1))
done
nlisted=$(grep -c '{"path": ' "$TMP/r1/manifest.json")
nfiles=$(cd "$TMP/r1" && find . -type f ! -name manifest.json ! -name '.*' | wc -l)
same "manifest lists every file ($nfiles) with its SHA-256" "$nlisted $bad" "$nfiles 0"
same "the code list is hashed as analyse recorded it" \
	"$(grep -o '"name": "codelist", "path": "[^"]*", "version": "test-1", "sha256": "[0-9a-f]*"' "$TMP/r1/manifest.json" | sed 's/.*"sha256": "//; s/"$//')" \
	"$(sha256sum "$TMP/codelist.csv" | cut -d' ' -f1)"
short=$(echo "$h1" | cut -c1-16)
nopages=$(find "$TMP/r1" -name '*.html' | wc -l)
same "every HTML page's footer cites the hash and the manifest ($nopages pages)" \
	"$(grep -l "dataset state SHA-256 $short.*manifest.json" $(find "$TMP/r1" -name '*.html') | wc -l)" "$nopages"
grep -q 'href="../manifest.json"' "$TMP/r1/practices/P00.html" && ok "a pack links to the manifest one folder up" || not_ok "a pack links to the manifest one folder up"
python3 -c "
import zipfile, sys
z = zipfile.ZipFile(sys.argv[1])
core = z.read('docProps/core.xml').decode(); cust = z.read('docProps/custom.xml').decode()
sys.exit(0 if sys.argv[2] in core and sys.argv[2] in cust and '<dc:creator>yoc</dc:creator>' in core else 1)" \
	"$TMP/r1/yoc-report.xlsx" "$h1" && ok "workbook properties carry the hash" || not_ok "workbook properties carry the hash"
grep -q '"threshold": 7, "round_to": 5' "$TMP/r1/manifest.json" && ok "parameters recorded" || not_ok "parameters recorded"

# any change to the data changes the hash
for change in "UPDATE person_year SET cost_gp = cost_gp + 1 WHERE rowid = 1234" \
	"UPDATE person_year SET weight = weight * (1 + 1e-15) WHERE rowid = 7" \
	"UPDATE analyse_run SET value = 'test-2' WHERE key = 'codelist_version'" \
	"INSERT INTO loads VALUES (2, '2024-06-01T10:00:00Z', '2024-06-01T10:01:00Z', 0, 0, 0, 0, 0, 0)"; do
	sqlite3 "$D/yoc.db" "$change"
	"$YOC" report --db "$D" --out "$TMP/r3" --pcn /dev/null >/dev/null 2>&1
	h3=$(hash_of "$TMP/r3")
	[ -n "$h3" ] && [ "$h3" != "$h1" ] && [ "$h3" = "$(python3 "$TMP/state.py" "$D/yoc.db")" ] \
		&& ok "changed hash after: $change" || not_ok "changed hash after: $change"
	h1=$h3
done
done_testing

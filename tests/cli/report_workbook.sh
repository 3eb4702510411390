# The workbook as a finance lead opens it: read with python's zipfile and
# xml (no spreadsheet library needed): one table per sheet with its header
# row at A1 equal to the CSV's, a frozen header, an autofilter over the
# table, landscape A4 fitted to the width with the header repeated,
# percentages stored as fractions with a % format (= the CSV's / 100),
# R squared to 3 decimals, the about sheet linking to every sheet and
# explaining *, and the properties carrying the provenance hash.
. "$(dirname "$0")/lib.sh"

for tool in sqlite3 python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip "report workbook" "$tool missing"; done_testing; exit 0
	fi
done
D="$TMP/ds"; mkdir -p "$D"
sqlite3 "$D/yoc.db" <<'SQL'
CREATE TABLE person_year(pseudo_id TEXT, fyear TEXT, age INTEGER, sex TEXT,
  practice TEXT, imd_decile INTEGER, ltc_count INTEGER, mental_ltc_count INTEGER,
  band TEXT, emergency_admissions INTEGER, bed_days INTEGER, died INTEGER,
  cost_total INTEGER, cost_elective INTEGER, cost_nonelective INTEGER,
  cost_daycase INTEGER, cost_outpatient INTEGER, cost_ae INTEGER,
  cost_community INTEGER, cost_mh INTEGER, cost_gp INTEGER,
  cost_social_care INTEGER, cost_ambulance INTEGER);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
INSERT INTO person_year
SELECT printf('p%05d', i), '2023/24', (i * 37) % 100, CASE i % 2 WHEN 0 THEN 'F' ELSE 'M' END,
  printf('P%02d', i % 4), 1, l, 0, CASE WHEN l < 2 THEN 'A' ELSE 'B' END, (i % 7 = 0) * (1 + l), 0, 0,
  0, 0, (i * 7919) % 50000 * (l > 1), 0, 0, 0, 0, 0, 4800 * (1 + l), 0, 0
FROM (SELECT i, (i * 13 % 97) % 6 AS l FROM n);
UPDATE person_year SET cost_total = cost_nonelective + cost_gp;
INSERT INTO person_year SELECT 't' || pseudo_id, fyear, age, sex, 'TINY', imd_decile, ltc_count,
  mental_ltc_count, band, emergency_admissions, bed_days, died, cost_total, cost_elective,
  cost_nonelective, cost_daycase, cost_outpatient, cost_ae, cost_community, cost_mh, cost_gp,
  cost_social_care, cost_ambulance FROM person_year LIMIT 3;
CREATE TABLE analyse_run(key TEXT, value TEXT);
INSERT INTO analyse_run VALUES ('codelist_version', 'test-1'), ('bands', 'A:0-1,B:2+');
SQL
expect_rc 0 "report runs" "$YOC" report --db "$D" --out "$TMP/r" --pcn /dev/null
cat > "$TMP/wb.py" <<'PY'
import csv, os, re, sys, zipfile
import xml.etree.ElementTree as ET
out = sys.argv[1]
N = {'m': 'http://schemas.openxmlformats.org/spreadsheetml/2006/main',
     'r': 'http://schemas.openxmlformats.org/officeDocument/2006/relationships'}
z = zipfile.ZipFile(os.path.join(out, 'yoc-report.xlsx'))
shared = [''.join(t.text or '' for t in si.iter('{%s}t' % N['m']))
          for si in ET.fromstring(z.read('xl/sharedStrings.xml')).findall('m:si', N)]
styles = ET.fromstring(z.read('xl/styles.xml'))
fmts = {int(f.get('numFmtId')): f.get('formatCode') for f in styles.iter('{%s}numFmt' % N['m'])}
xfs = [int(x.get('numFmtId', 0)) for x in styles.find('m:cellXfs', N)]
wb = ET.fromstring(z.read('xl/workbook.xml'))
rels = {r.get('Id'): r.get('Target') for r in ET.fromstring(z.read('xl/_rels/workbook.xml.rels'))}
sheets = [(s.get('name'), 'xl/' + rels[s.get('{%s}id' % N['r'])]) for s in wb.find('m:sheets', N)]
def cells(path):
    root = ET.fromstring(z.read(path))
    rows = {}
    for c in root.iter('{%s}c' % N['m']):
        m = re.match(r'([A-Z]+)(\d+)', c.get('r'))
        v = c.find('m:v', N)
        val = None if v is None else (shared[int(v.text)] if c.get('t') == 's' else float(v.text))
        fmt = fmts.get(xfs[int(c.get('s', 0))], '')
        rows.setdefault(int(m.group(2)), {})[m.group(1)] = (val, fmt)
    return root, rows
def snake(s):
    return re.sub(r'_+', '_', re.sub(r'[^a-z0-9]+', '_', s.lower())).strip('_')
res = {}
def check(name, ok):
    res[name] = res.get(name, True) and bool(ok)
for name, path in sheets[1:]:
    root, rows = cells(path)
    head = [rows[1][k][0] for k in sorted(rows[1], key=lambda x: (len(x), x))]
    with open(os.path.join(out, 'csv', name + '.csv'), newline='') as f:
        data = [r for r in csv.reader(f) if r and not r[0].startswith('#')]
    check('A1: header row = the CSV header', [snake(h) for h in head] == data[0])
    check('one table per sheet: as many rows as the CSV', len(rows) == len(data))
    pane = root.find('.//m:pane', N)
    check('frozen header', pane is not None and pane.get('ySplit') == '1' and pane.get('state') == 'frozen')
    af = root.find('m:autoFilter', N)
    check('autofilter over the table', af is not None and af.get('ref').startswith('A1:')
          and af.get('ref').endswith(str(len(data))))
    ps = root.find('m:pageSetup', N)
    check('landscape A4 fitted to the width', ps is not None and ps.get('orientation') == 'landscape'
          and ps.get('paperSize') == '9' and ps.get('fitToHeight') == '0')
    check('suppressed cells are *', all(v == '*' for r in rows.values() for v, f in r.values()
                                        if isinstance(v, str) and v.strip() == '*'))
    for ci, col in enumerate(data[0]):
        letter = chr(65 + ci)
        for ri, row in enumerate(data[1:], start=2):
            v, f = rows[ri].get(letter, (None, ''))
            if f == '0.0%':
                res['percentages seen'] = True
                check('percentage = CSV / 100 with a % format', abs(v - float(row[ci]) / 100) < 1e-9)
            if name == 'r_squared' and col == 'r_squared' and isinstance(v, float):
                check('R squared to 3 decimals', f == '0.000' and row[ci] == '%.3f' % v)
            if row[ci] == '*':
                check('hidden in the CSV = * in the sheet', v == '*')
# print titles and the about sheet
names = [n for n, _ in sheets]
check('print titles repeat the header', sorted(
    dn.text.split('!')[1] for dn in wb.iter('{%s}definedName' % N['m'])
    if dn.get('name') == '_xlnm.Print_Titles') == ['$1:$1'] * (len(sheets) - 1))
root, rows = cells(sheets[0][1])
links = ET.fromstring(z.read(sheets[0][1])).findall('.//m:hyperlink', N)
check('about: a hyperlink to every sheet', sorted(l.get('location').split('!')[0].strip("'")
                                                   for l in links) == sorted(names[1:]))
about = ' '.join(str(v) for r in rows.values() for v, f in r.values())
check('about explains *', 'a cell holding * is hidden by disclosure control' in about)
core = z.read('docProps/core.xml').decode()
man = open(os.path.join(out, 'manifest.json')).read()
h = re.search(r'"dataset_state_sha256": "([0-9a-f]{64})"', man).group(1)
check('properties: author yoc, title, provenance hash in the comments',
      '<dc:creator>yoc</dc:creator>' in core and '<dc:title>' in core and h in core and h in about)
for k, v in res.items():
    print(('ok' if v else 'not ok'), k)
PY
python3 "$TMP/wb.py" "$TMP/r" > "$TMP/wb.out" 2>&1 || sed 's/^/# /' "$TMP/wb.out"
while read -r line; do
	case "$line" in
	"ok "*) ok "${line#ok }" ;;
	"not ok "*) not_ok "${line#not ok }" ;;
	esac
done < "$TMP/wb.out"
grep -q '^ok percentages seen' "$TMP/wb.out" && grep -q '^ok R squared' "$TMP/wb.out" \
	&& ok "percent and R squared columns were checked" || not_ok "percent and R squared columns were checked"
done_testing

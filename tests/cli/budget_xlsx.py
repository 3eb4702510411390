# Reads cells of an xlsx sheet without third-party modules (zipfile + the
# sheet XML): prints checks of yoc budget workbook against the catalog.
# usage: budget_xlsx.py FILE.xlsx DB  -> "sheets payments=budget stars tariffs"
import re, sqlite3, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
db = sqlite3.connect(sys.argv[2])
ss = [re.sub(r'<[^>]+>', '', m) for m in re.findall(r'<si>(.*?)</si>', z.read('xl/sharedStrings.xml').decode())]
book = z.read('xl/workbook.xml').decode()
names = re.findall(r'<sheet name="([^"]+)"', book)
def sheet(name):
    i = names.index(name) + 1
    x = z.read('xl/worksheets/sheet%d.xml' % i).decode()
    rows = {}
    for ref, attrs, body in re.findall(r'<c r="([A-Z]+\d+)"([^>]*?)(?:/>|>(.*?)</c>)', x):
        col, row = re.match(r'([A-Z]+)(\d+)', ref).groups()
        v = re.search(r'<v>(.*?)</v>', body or '')
        if v is None:
            continue
        val = ss[int(v.group(1))] if 't="s"' in attrs else float(v.group(1))
        rows.setdefault(int(row), {})[col] = val
    return rows
sch = sheet('schedule')
pay = [r['E'] for n, r in sorted(sch.items()) if n > 1 and isinstance(r.get('E'), float)]
budget = db.execute("select budget from budget_plan where cohort='frailty'").fetchone()[0]
stars = sum(1 for n, r in sch.items() if n > 1 and r.get('C') == '*')
tar = sheet('tariffs')
want = dict(db.execute("select category, tariff from tariff where version=(select tariff_version from budget_plan where cohort='frailty')"))
bad = sum(1 for n, r in tar.items() if n > 1 and 'A' in r and r['A'] in want and isinstance(r.get('L'), float) and round(r['L'] * 100) != want[r['A']])
print(' '.join(names), round(sum(pay) * 100) == budget, stars, bad)

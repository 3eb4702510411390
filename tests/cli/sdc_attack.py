#!/usr/bin/env python3
"""An attacker's view of a yoc report: reads everything the report publishes
(the CSVs, the tables, charts and text of index.html and the practice data
packs, and every sheet of yoc-report.xlsx), writes down every relation
between published figures that the disclosure rule must hold against, and
tries to work out each protected count from them.

usage: sdc_attack.py REPORT RAW
  REPORT  a report folder written with disclosure control
  RAW     the same report written with --no-suppression (the true values)

A count is protected when it is hidden ("*"), or, with rounding (--round
above 1), when it is published rounded: its exact value is then protected
too. The attacks:

  1. formats: every table in the HTML and in the workbook must show the
     figures of its CSV (to the HTML's precision); a page or sheet that
     publishes more than the CSV would be attacked instead.
  2. subtraction and linear algebra over the count relations: the margins
     of every count table; the unpriced-activity total in the page; a
     practice's pack totals = its count in the table of practices; each
     pack cell summed over the practices (and the "practice unknown" group,
     whose cells are published nowhere) = the index's cell; the run table's
     person-years = the year's population when the dataset has one year. A
     hidden count of 1..7 is leaked when a relation has it as its only
     hidden term, or when it is determined (its unit vector lies in the row
     space of the relations restricted to the hidden counts).
  3. ratios: every published mean with a published total of the same group
     (total / mean = count), and every percentage or rate of a group
     (percentage x count must be a whole number of people). For each count
     the attack keeps the values its window allows (a published 50 is 48..52
     with rounding to 5) that agree with every such figure computed from the
     exact count. A figure that the documented rule computes from other
     published figures only (a mean = rounded total / published count; a
     percentage of published counts) cannot tell anything they do not, so
     it narrows nothing: an attacker cannot tell which way it was made. A
     count narrowed to its true value alone is recovered. "underived" counts
     the figures that are not computed from published figures.
  4. exact differences: counts recovered exactly (by 3, or published
     exactly with --round 1, or zeros) are put back into the count
     relations; a relation with one term left gives it exactly.
  5. money: hidden sums of money (a setting's, a provider's, a group's,
     a practice's total) against the money relations (settings add up to
     the total, providers to their setting, groups and practices to the
     whole population); a hidden sum is leaked when it is determined with
     every published term in its combination exact (not rounded).

Prints a line per finding ("# leak (how): cell = true value", "# mismatch:",
"# model:") and ends with
  "checked R relations, H hidden, S small, P protected, F figures (U underived): L leaks"
where L counts leaks of every kind, mismatches and model errors.
Test support only."""
import csv, html as htmllib, math, os, re, sys, zipfile
from fractions import Fraction
from xml.etree import ElementTree as ET

rep, raw = sys.argv[1], sys.argv[2]
findings = []


def note(kind, text):
    findings.append((kind, text))


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


IDX = read(os.path.join(rep, 'index.html'))
RAWIDX = read(os.path.join(raw, 'index.html'))
m = re.search(r'counts of 1 to (\d+) are shown as \*, other counts are rounded to the '
              r'nearest (\d+)', IDX)
if not m:
    sys.exit('sdc_attack: %s does not state a disclosure rule' % rep)
THR, RND = int(m.group(1)), int(m.group(2))


def rows(d, name):
    with open(os.path.join(d, 'csv', name), newline='', encoding='utf-8') as f:
        return [r for r in csv.reader(f) if r and not r[0].startswith('#')]


def num(s):
    return s.replace(',', '')


def pence(s):
    """'1234.56' -> 123456"""
    s = num(s).lstrip('£')
    neg = s.startswith('-')
    s = s.lstrip('-')
    whole, _, frac = s.partition('.')
    v = int(whole or '0') * 100 + int((frac + '00')[:2])
    return -v if neg else v


def round_half_away(x):
    """x: Fraction -> nearest integer, halves away from zero (C's round)"""
    if x >= 0:
        return int(math.floor(x + Fraction(1, 2)))
    return -int(math.floor(-x + Fraction(1, 2)))


def unit3(p):
    """the step of the money rule for pence p: 3 significant figures, at least 1 pound"""
    return 10 ** max(2, len(str(abs(p))) - 3)


# ---- counts -------------------------------------------------------------------
pub, true = {}, {}   # count cell id -> published value (None = hidden), true value
rels = []            # each: list of (cell id, coefficient); sum = 0
CSV = {}             # csv name -> (published rows, raw rows)


def load(name):
    if name not in CSV:
        a, b = rows(rep, name), rows(raw, name)
        assert len(a) == len(b), name
        CSV[name] = (a, b)
    return CSV[name]


def table(name, cols):
    """Registers the count columns cols of csv/name; returns ids[row][k], labels."""
    a, b = load(name)
    ids = []
    for i in range(1, len(a)):
        line = []
        for c in cols:
            cid = (name, i, a[i][0], c)
            v = num(a[i][c])
            pub[cid] = None if v == '*' else int(v)
            true[cid] = int(num(b[i][c]))
            line.append(cid)
        ids.append(line)
    return ids, [r[0] for r in a[1:]]


def col_total(cells):          # cells[:-1] add up to cells[-1]
    rels.append([(c, 1) for c in cells[:-1]] + [(cells[-1], -1)])


def margins(ids):               # a table with row totals (last column) and a total row
    for line in ids:
        col_total(line)
    for k in range(len(ids[0])):
        col_total([line[k] for line in ids])


pop, _ = table('population.csv', [1, 2, 3, 4])
margins(pop)
ALL = pop[-1][-1]               # the population's count
mm, _ = table('multimorbidity.csv', [1, 2, 3, 4, 5, 6])
margins(mm)
pm, _ = table('physical_mental.csv', [1, 2, 3, 4])
margins(pm)
ltc, ltc_names = table('cost_by_ltc_count.csv', [1])
col_total([l[0] for l in ltc])
bands, band_names = table('currency_bands.csv', [2])
col_total([l[0] for l in bands])
prac, prac_names = table('practices.csv', [1])
col_total([l[0] for l in prac])
for same in (mm[-1][-1], pm[-1][-1], ltc[-1][0], bands[-1][0], prac[-1][0]):
    rels.append([(same, 1), (ALL, -1)])
if os.path.exists(os.path.join(rep, 'csv', 'unpriced_activity.csv')):
    up, labels = table('unpriced_activity.csv', [2])
    if labels and labels[-1] == 'Total':
        col_total([l[0] for l in up])
        up = up[:-1]
    # the page's text publishes the total of the records
    m = re.search(r'<p>([0-9,*]+) activity records in', IDX)
    t = ('index.html', 'unpriced total', 0)
    pub[t] = None if m.group(1) == '*' else int(num(m.group(1)))
    m = re.search(r'<p>([0-9,]+) activity records in', RAWIDX)
    true[t] = int(num(m.group(1)))
    rels.append([(l[0], 1) for l in up] + [(t, -1)])
# the run table: person-years over every analysed year
run = {r[0]: r[1] for r in load('run.csv')[0][1:]}
rawrun = {r[0]: r[1] for r in load('run.csv')[1][1:]}
if 'person_years' in run:
    t = ('run.csv', 'person_years', 1)
    pub[t] = None if run['person_years'] == '*' else int(num(run['person_years']))
    true[t] = int(num(rawrun['person_years']))
    if run.get('first_fyear') and run.get('first_fyear') == run.get('last_fyear'):
        rels.append([(t, 1), (ALL, -1)])

# the practice packs, and the "practice unknown" group (no pack: its cells are
# unknowns whose true values are the index's minus the packs')
UNKNOWN = 'Practice unknown'
packs = [(i, code) for i, code in enumerate(prac_names[:-1]) if code != UNKNOWN]
unk = [i for i, code in enumerate(prac_names[:-1]) if code == UNKNOWN]
sums = {}
PACK = {}
for i, code in packs:
    safe = re.sub(r'[^A-Za-z0-9-]', '_', code) or '_'
    count = prac[i][0]
    pp, _ = table('practices/%s_population.csv' % safe, [1, 2, 3, 4])
    margins(pp)
    pb, _ = table('practices/%s_bands.csv' % safe, [1])
    col_total([l[0] for l in pb])
    pl, _ = table('practices/%s_ltc_count.csv' % safe, [1])
    col_total([l[0] for l in pl])
    PACK[code] = (safe, pp, pb, pl)
    for total in (pp[-1][-1], pb[-1][0], pl[-1][0]):
        rels.append([(total, 1), (count, -1)])
    for r in range(len(pp)):
        for k in range(4):
            sums.setdefault(('pop', r, k), []).append(pp[r][k])
    for r in range(len(pb)):
        sums.setdefault(('band', r), []).append(pb[r][0])
    for r in range(len(pl)):
        sums.setdefault(('ltc', r), []).append(pl[r][0])


def index_cell(key):
    return pop[key[1]][key[2]] if key[0] == 'pop' else (bands if key[0] == 'band' else ltc)[key[1]][0]


if unk:
    ucount = prac[unk[0]][0]
    ukeys = {}
    for key in [('pop', r, k) for r in range(len(pop)) for k in range(4)] + \
            [('band', r) for r in range(len(bands))] + [('ltc', r) for r in range(len(ltc))]:
        u = ('unknown practice', key)
        pub[u] = None
        true[u] = true[index_cell(key)] - sum(true[c] for c in sums.get(key, []))
        sums.setdefault(key, []).append(u)
        ukeys[key] = u
    # its tables add up like a pack's, to its count in the table of practices
    nr = len(pop)
    for r in range(nr):
        col_total([ukeys[('pop', r, k)] for k in range(4)])
    for k in range(4):
        col_total([ukeys[('pop', r, k)] for r in range(nr)])
    col_total([ukeys[('band', r)] for r in range(len(bands))])
    col_total([ukeys[('ltc', r)] for r in range(len(ltc))])
    for key in (('pop', nr - 1, 3), ('band', len(bands) - 1), ('ltc', len(ltc) - 1)):
        rels.append([(ukeys[key], 1), (ucount, -1)])
for key, cells in sums.items():
    rels.append([(c, 1) for c in cells] + [(index_cell(key), -1)])

# sanity: the true counts satisfy every relation
for r in rels:
    if sum(true[c] * k for c, k in r) != 0:
        note('model', 'a relation does not hold for the true counts: %s' % (r,))

# ---- 1. formats: HTML tables and workbook sheets = the CSVs ------------------


def html_tables(text):
    out = {}
    for m in re.finditer(r'<table><caption>.*?</caption>(.*?)</table>(.*?)'
                         r'<a href="(?:\.\./)?csv/([^"]+)\.csv">', text, re.S):
        body, name = m.group(1), m.group(3) + '.csv'
        trs = re.findall(r'<tr[^>]*>(.*?)</tr>', body, re.S)
        out[name] = [[htmllib.unescape(x) for x in re.findall(r'<t[hd][^>]*>(.*?)</t[hd]>', tr, re.S)]
                     for tr in trs]
    return out


def same_html(c, h):
    if c == h:
        return True
    if c == '*' or h == '*':
        return False
    try:
        if h.startswith('£'):
            p, pounds = pence(c), int(num(h[1:]))
            return (p + 50) // 100 == pounds if p >= 0 else -((-p + 50) // 100) == pounds
        if h.endswith('%'):
            return float(h[:-1]) == float(c)
        return float(num(h)) == float(c)
    except ValueError:
        return False


pages = {'index.html': IDX}
for code, (safe, *_rest) in PACK.items():
    pages['practices/%s.html' % safe] = read(os.path.join(rep, 'practices', safe + '.html'))
files = {f[:-5] for f in os.listdir(os.path.join(rep, 'practices')) if f.endswith('.html')}
want = {safe for safe, *_rest in PACK.values()}
for f in sorted(files ^ want):
    note('mismatch', 'practices/%s.html: a data pack %s' % (f, 'for no practice in the table' if f in files else 'missing'))
nhtml = 0
for page, text in pages.items():
    for name, trs in html_tables(text).items():
        nhtml += 1
        c = load(name)[0]
        if len(trs) != len(c):
            note('mismatch', '%s: %s has %d rows, the CSV %d' % (page, name, len(trs), len(c)))
            continue
        for i in range(1, len(c)):
            for k in range(len(c[i])):
                if not same_html(c[i][k], trs[i][k]):
                    note('mismatch', '%s: %s row %d col %d: HTML %r, CSV %r' % (page, name, i, k, trs[i][k], c[i][k]))


def xlsx_sheets(path):
    ns = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'
    rns = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships'
    z = zipfile.ZipFile(path)
    ss = []
    if 'xl/sharedStrings.xml' in z.namelist():
        for si in ET.fromstring(z.read('xl/sharedStrings.xml')).findall('{%s}si' % ns):
            ss.append(''.join(t.text or '' for t in si.iter('{%s}t' % ns)))
    target = {r.get('Id'): r.get('Target') for r in ET.fromstring(z.read('xl/_rels/workbook.xml.rels'))}
    out = {}
    for s in ET.fromstring(z.read('xl/workbook.xml')).find('{%s}sheets' % ns):
        grid = {}
        t = target[s.get('{%s}id' % rns)]
        for c in ET.fromstring(z.read('xl/' + t.lstrip('/').replace('xl/', '', 1))).iter('{%s}c' % ns):
            ref, kind, v = c.get('r'), c.get('t'), c.find('{%s}v' % ns)
            if kind == 's':
                val = ss[int(v.text)]
            elif kind == 'inlineStr':
                val = ''.join(x.text or '' for x in c.iter('{%s}t' % ns))
            elif v is None:
                continue
            elif kind == 'str':
                val = v.text
            else:
                val = float(v.text)
            col = re.match(r'[A-Z]+', ref).group(0)
            ci = 0
            for ch in col:
                ci = ci * 26 + ord(ch) - 64
            grid[(int(ref[len(col):]) - 1, ci - 1)] = val
        nr = 1 + max((r for r, _ in grid), default=-1)
        nc = 1 + max((c for _, c in grid), default=-1)
        out[s.get('name')] = [[grid.get((r, c), '') for c in range(nc)] for r in range(nr)]
    return out


def same_xlsx(c, x):
    if isinstance(x, str):
        return c == x
    if c == '*':
        return False
    try:
        f = float(c)
    except ValueError:
        return False
    # the same number (a percentage stored as its fraction): the sheet says
    # no more than the CSV
    return x == f or abs(x * 100 - f) < 1e-9 * max(1.0, abs(f))


nsheet = 0
sheets = xlsx_sheets(os.path.join(rep, 'yoc-report.xlsx'))
for name, grid in sheets.items():
    if name == 'about':
        continue
    nsheet += 1
    csvname = name + '.csv'
    if not os.path.exists(os.path.join(rep, 'csv', csvname)):
        note('mismatch', 'sheet %s has no CSV' % name)
        continue
    c = load(csvname)[0]
    data = grid[1:1 + len(c) - 1]    # the header row at A1, then the table
    if len(data) != len(c) - 1:
        note('mismatch', 'sheet %s has %d rows, the CSV %d' % (name, len(data), len(c) - 1))
        continue
    for i, row in enumerate(data, 1):
        for k in range(len(c[i])):
            if not same_xlsx(c[i][k], row[k] if k < len(row) else ''):
                note('mismatch', 'sheet %s row %d col %d: %r, CSV %r' % (name, i, k, row[k], c[i][k]))

# ---- figures: means with totals, percentages and rates -------------------------
# A mean figure: (count cell, total in pence or None, exactness of the total
# when exact (half-width in pence), mean in pence, half-width of the mean as
# printed, where). A share: (count cell of the denominator, numerator cells or
# None, value, scale (100: % of the group; 1000: per 1,000), half-width, where).
means, shares = [], []


def cell(name, label, col, rowidx=None):
    a, _ = load(name)
    for i in range(1, len(a)):
        if a[i][0] == label and (rowidx is None or i == rowidx):
            return a[i][col]
    raise KeyError((name, label, col))


def add_mean(count, total, htotal, mean, hmean, where):
    if mean == '*' or pub.get(count) is None:
        return
    means.append((count, None if total in (None, '*') else total, htotal, mean, hmean, where))


def add_share(den, nums, value, scale, h, where):
    if value == '*' or pub.get(den) is None:
        return
    shares.append((den, nums, float(value), scale, h, where))


# index: Figure 5 (means and totals; the totals chart by setting)
fig5 = load('cost_by_ltc_count.csv')[0]
fig5_head = html_tables(IDX)['cost_by_ltc_count.csv'][0]    # "Mean Elective", ...


def charts(text):
    """{chart title: {(category, series): value}} from the rect titles of every SVG"""
    out = {}
    for m in re.finditer(r'<svg[^>]*><title>(.*?)</title>(.*?)</svg>', text, re.S):
        vals = {}
        for t in re.findall(r'<rect[^>]*><title>(.*?)</title></rect>', m.group(2), re.S):
            t = htmllib.unescape(t)
            key, _, v = t.rpartition(': ')
            cat, _, ser = key.partition(' - ')
            vals[(cat, ser)] = v
        out[htmllib.unescape(m.group(1))] = (vals, m.group(2))
    return out


CH = charts(IDX)
KNOWN_CHARTS = {'Population pyramid (people)', 'Percentage of people with two or more long-term conditions',
                'Mean annual cost per person by number of LTCs', 'Total annual cost by number of LTCs',
                'Total annual cost by setting of care',
                'Total annual cost by provider, stacked by setting (largest 16)'}
for title in CH:
    if title not in KNOWN_CHARTS:
        note('model', 'index.html: a chart the attack does not read: %s' % title)
tot_chart = CH.get('Total annual cost by number of LTCs', ({}, ''))[0]
mean_chart = CH.get('Mean annual cost per person by number of LTCs', ({}, ''))[0]
fig5_row = {fig5[i][0]: i for i in range(1, len(fig5))}
for i in range(1, len(fig5)):
    add_mean(ltc[i - 1][0], fig5[i][-1], 0, fig5[i][-2], 0.5, 'cost_by_ltc_count %s: total / mean' % fig5[i][0])
for chart, vals in (('totals', tot_chart), ('means', mean_chart)):
    for (lab, sname), v in vals.items():
        i, k = fig5_row.get(lab), fig5_head.index('Mean ' + sname) if 'Mean ' + sname in fig5_head else None
        if i is None or k is None:
            note('model', 'Figure 5 %s chart: %s - %s is in no table' % (chart, lab, sname))
        elif chart == 'totals':   # a setting's total for the group: with its mean, a count
            add_mean(ltc[i - 1][0], '%d.00' % int(num(v.lstrip('£'))), 50, fig5[i][k], 0.5,
                     'Figure 5 chart total / mean, %s %s' % (lab, sname))
        elif not same_html(fig5[i][k], v):
            note('mismatch', 'Figure 5 mean chart %s %s: %s, table %s' % (lab, sname, v, fig5[i][k]))
# cost by setting: total and cost per head of the whole population
cbs = load('cost_by_setting.csv')[0]
for i in range(1, len(cbs)):
    add_mean(ALL, cbs[i][2], 0, cbs[i][4], 0.5, 'cost_by_setting %s: total / per head' % cbs[i][0])
    v = CH.get('Total annual cost by setting of care', ({}, ''))[0].get((cbs[i][0], ''))
    if v is not None and not same_html(cbs[i][2], v):
        note('mismatch', 'setting chart %s: %s, table %s' % (cbs[i][0], v, cbs[i][2]))
TOTAL_COST = cbs[-1][2]
# physical x mental: the whole population's mean with the total cost
pmc = load('physical_mental_cost.csv')[0]
add_mean(pm[-1][-1], TOTAL_COST, 0, pmc[-1][-1], 0.5, 'physical_mental_cost total / mean')
# currency bands
cb = load('currency_bands.csv')[0]
for i in range(1, len(cb)):
    add_mean(bands[i - 1][0], cb[i][8], 0, cb[i][4], 0.5, 'currency_bands %s: total / mean' % cb[i][0])
    add_share(bands[-1][0], [bands[i - 1][0]], cb[i][3], 100, 0.05, 'currency_bands %s %%' % cb[i][0])
# multimorbidity: % with 2+ LTCs of the row
mmt = load('multimorbidity.csv')[0]
for i in range(1, len(mmt)):
    add_share(mm[i - 1][5], mm[i - 1][2:5], mmt[i][7], 100, 0.05, 'multimorbidity %s %%2+' % mmt[i][0])
# the practices table and the packs
pt = load('practices.csv')[0]
KEY = {}
for i, code in enumerate(prac_names[:-1]):
    row = pt[i + 1]
    cnt = prac[i][0]
    for k, what in ((2, 'aged 65+'), (3, '2+ LTCs'), (4, 'mental health LTC')):
        add_share(cnt, None, row[k], 100, 0.05, 'practices %s %% %s' % (code, what))
    add_share(cnt, None, row[5], 1000, 0.05, 'practices %s emergency rate' % code)
    if code in PACK:
        safe, pp, pb, pl = PACK[code]
        kf = load('practices/%s_key_figures.csv' % safe)[0]
        KEY[code] = kf
        for col, c2 in ((1, cnt), (2, ALL)):
            fig = {r[0]: r[col] for r in kf[1:]}
            tot = fig['Total annual cost (£)']
            totp = '*' if tot == '*' else '%d.00' % round(float(tot))
            mv = fig['Mean annual cost per person (£)']
            add_mean(c2, totp, 50, mv if mv == '*' else '%.2f' % float(mv), 5.5,
                     '%s key figures %s: total / mean' % (code, kf[0][col]))
            want = pub[c2]
            if fig['Registered people'] != ('*' if want is None else str(want)):
                note('mismatch', '%s key figures %s: %s people, the index %s' % (code, kf[0][col], fig['Registered people'], want))
            for lab, sc in (('% aged 65 and over', 100), ('% with two or more LTCs', 100),
                            ('% with a mental health LTC', 100),
                            ('Emergency admissions per 1,000 people', 1000)):
                add_share(c2, None, fig[lab], sc, 0.05, '%s key figures %s %s' % (code, kf[0][col], lab))
            if col == 1:
                add_mean(cnt, totp, 50, row[6], 0.5, 'practices %s mean / pack total' % code)
        cs = load('practices/%s_cost_by_setting.csv' % safe)[0]
        for r in cs[1:]:
            tot = TOTAL_COST if r[0] == 'Total' else cell('cost_by_setting.csv', r[0], 2)
            add_mean(ALL, tot, 0, r[2], 0.5, '%s pack cost by setting, whole population %s' % (code, r[0]))
            if r[0] == 'Total':
                fig = {x[0]: x[1] for x in kf[1:]}
                tot = fig['Total annual cost (£)']
                add_mean(cnt, '*' if tot == '*' else '%d.00' % round(float(tot)), 50, r[1], 0.5,
                         '%s pack cost by setting, practice total' % code)
        # "Practice %" and "Whole population %" of the bands and LTC counts
        for part, cells, idx in (('bands', pb, bands), ('ltc_count', pl, ltc)):
            t = load('practices/%s_%s.csv' % (safe, part))[0]
            for r in range(1, len(t)):
                add_share(cells[-1][0], [cells[r - 1][0]], t[r][2], 100, 0.05, '%s %s %s practice %%' % (code, part, t[r][0]))
                add_share(ALL, [idx[r - 1][0]], t[r][3], 100, 0.05, '%s %s %s whole population %%' % (code, part, t[r][0]))
        # the pyramid: practice bars (% of its count) and whole-population marks
        text = pages['practices/%s.html' % safe]
        pch = charts(text)
        for title in pch:
            if title not in ('Age and sex (% of the practice\'s people)',
                             'Mean annual cost per person, by setting'):
                note('model', '%s: a chart the attack does not read: %s' % (code, title))
        vals, body = pch.get('Age and sex (% of the practice\'s people)', ({}, ''))
        names = [l for l in (r[0] for r in load('population.csv')[0][1:]) if l != 'Total']
        for (cat, _), v in vals.items():
            side, _, band = cat.partition(' ')
            r = names.index(band)
            add_share(pp[-1][-1], [pp[r][0 if side == 'Female' else 1]], v.rstrip('%'), 100, 0.05,
                      '%s pyramid %s' % (code, cat))
        ticks = [float(x) for x in re.findall(r'class="ax" text-anchor="middle">([0-9.]+)%</text>', body)]
        labels = {float(y): htmllib.unescape(t) for y, t in
                  re.findall(r'<text x="380\.0" y="([0-9.]+)" class="ax" text-anchor="middle">([^<]+)</text>', body)}
        if ticks:
            top, half = max(ticks), 380 - 23 - 30
            for x1, y1, y2 in re.findall(r'<line x1="([0-9.]+)" x2="[0-9.]+" y1="([0-9.]+)" '
                                         r'y2="([0-9.]+)" class="mark"/>', body):
                x1, y2 = float(x1), float(y2)
                band = labels.get(round(y2 - 4, 1))
                if band is None:
                    continue
                left = x1 < 380
                v = abs(x1 - (357 if left else 403)) / half * top
                r = names.index(band)
                add_share(ALL, [pop[r][0 if left else 1]], '%.6f' % v, 100, 0.05 / half * top + 1e-6,
                          '%s pyramid mark %s %s' % (code, 'Female' if left else 'Male', band))
        vals, _ = pch.get('Mean annual cost per person, by setting', ({}, ''))
        for (cat, ser), v in vals.items():
            r = [x for x in cs[1:] if x[0] == ser]
            if r and not same_html(r[0][1 if cat == code else 2], v):
                note('mismatch', '%s cost chart %s %s: %s, table %s' % (code, cat, ser, v, r[0][1 if cat == code else 2]))

# ---- 3. ratios -------------------------------------------------------------------


def window(c):
    v = pub[c]
    if v == 0:
        return [0]
    if RND == 1 or v % RND:
        return [v]      # not a rounded value: exact
    lo = v - RND // 2
    return [x for x in range(max(lo, THR + 1), lo + RND)]


def pubform(a):
    """the published form of a count, as the rule writes it"""
    if a == 0:
        return 0
    if a <= THR:
        return None
    return (a + RND // 2) // RND * RND


def derived_mean(count, total, mean):
    """mean == the published total / the published count, to whole pounds"""
    n = pub[count]
    if total is None or not n:
        return False
    t = pence(total)
    return pence(mean) == 100 * round_half_away(Fraction(t, 100 * n))


def derived_share(den, nums, value, scale):
    n = pub[den]
    if not n:
        return False
    if nums is not None:
        if any(pub[c] is None for c in nums):
            return False
        cands = [sum(pub[c] for c in nums)]
    else:  # a count the report does not publish: any value the rule could publish
        a0 = int(value * n / scale)
        cands = {pubform(a) for a in range(max(0, a0 - 2 * RND - 2), a0 + 2 * RND + 3)} - {None}
    # the published value is the rounding (to 0.1) of the ratio of published counts
    return any(abs(Fraction(scale * a, n) - Fraction(value).limit_denominator(10 ** 6)) <= Fraction(1, 20)
               for a in cands)


def mean_ok(n, total, htotal, mean, hmean):
    """can the group have n people, the total and mean being exact (to their precision)?"""
    if total is None:
        return True
    t, mu = Fraction(pence(total)), Fraction(pence(mean))
    if n == 0:
        return t == 0
    return abs(t / n - mu) <= Fraction(htotal) / n + Fraction(hmean)


def share_ok(n, nums, value, scale, h):
    if n == 0:
        return False
    lo = math.ceil((value - h) * n / scale - 1e-9)
    hi = math.floor((value + h) * n / scale + 1e-9)
    if nums is not None:
        wl = sum(min(window(c)) if pub[c] is not None else 0 for c in nums)
        wh = sum(max(window(c)) if pub[c] is not None else THR for c in nums)
        lo, hi = max(lo, wl), min(hi, wh)
    lo = max(lo, 0)
    if scale == 100:
        hi = min(hi, n)
    return lo <= hi


cand = {}
underived = 0
nfig = len(means) + len(shares)
for count, total, htotal, mean, hmean, where in means:
    if derived_mean(count, total, mean):
        continue
    if total is not None:
        underived += 1
    w = cand.setdefault(count, window(count))
    cand[count] = [n for n in w if mean_ok(n, total, htotal, mean, hmean)]
    if true[count] not in cand[count]:
        note('model', '%s: the true count %d fails the exact model' % (where, true[count]))
        cand[count] = w
for den, nums, value, scale, h, where in shares:
    if derived_share(den, nums, value, scale):
        continue
    underived += 1
    w = cand.setdefault(den, window(den))
    cand[den] = [n for n in w if share_ok(n, nums, value, scale, h)]
    if true[den] not in cand[den]:
        note('model', '%s: the true count %d fails the exact model' % (where, true[den]))
        cand[den] = w


def protected(c):
    """a hidden count of 1..threshold, or with rounding any count that is not 0"""
    if true[c] == 0:
        return False
    return (pub[c] is None and true[c] <= THR) or RND > 1


exact = {}
for c, v in pub.items():
    if v is not None and RND > 1 and v % RND and protected(c):
        exact[c] = v
        note('leak', '(unrounded) %s = %d is published exactly' % (c, v))
for c, w in cand.items():
    if len(w) == 1 and protected(c):
        exact[c] = w[0]
        note('leak', '(ratio) %s = %d, published %s' % (c, true[c], pub[c]))
    elif len(w) == 1:
        exact[c] = w[0]

# ---- 2. subtraction and linear algebra over the hidden counts -------------------
hidden = sorted((c for c in pub if pub[c] is None), key=str)
small = {c for c in hidden if 1 <= true[c] <= THR}
for r in rels:
    h = [c for c, k in r if pub[c] is None]
    if len(h) == 1 and h[0] in small:
        note('leak', '(subtraction) %s = %d' % (h[0], true[h[0]]))


def determined(unknowns, relations):
    """the unknowns whose unit vector lies in the row space of the relations
    restricted to them, with the combination of relations that gives each"""
    col = {c: i for i, c in enumerate(unknowns)}
    pivots = []  # (pivot column, row, combination)
    for ri, r in enumerate(relations):
        row = {}
        for c, k in r:
            if c in col:
                row[col[c]] = row.get(col[c], 0) + Fraction(k)
        row = {j: x for j, x in row.items() if x != 0}
        if not row:
            continue
        comb = {ri: Fraction(1)}
        for pc, pr, pcomb in pivots:
            f = row.get(pc)
            if f:
                for j, x in pr.items():
                    row[j] = row.get(j, 0) - f * x
                for j, x in pcomb.items():
                    comb[j] = comb.get(j, 0) - f * x
                row = {j: x for j, x in row.items() if x != 0}
        if not row:
            continue
        pc = min(row)
        f = row[pc]
        row = {j: x / f for j, x in row.items()}
        comb = {j: x / f for j, x in comb.items()}
        for i, (qc, qr, qcomb) in enumerate(pivots):
            g = qr.get(pc)
            if g:
                for j, x in row.items():
                    qr[j] = qr.get(j, 0) - g * x
                for j, x in comb.items():
                    qcomb[j] = qcomb.get(j, 0) - g * x
                pivots[i] = (qc, {j: x for j, x in qr.items() if x != 0}, qcomb)
        pivots.append((pc, row, comb))
    return {unknowns[pc]: comb for pc, pr, comb in pivots if len(pr) == 1}


for c in determined(hidden, rels):
    if c in small:
        note('leak', '(linear) %s = %d' % (c, true[c]))

# ---- 4. exact differences with the counts known exactly --------------------------
known = dict(exact)
for c, v in pub.items():
    if v == 0 or (v is not None and RND == 1):
        known[c] = v
for _ in range(20):
    grew = False
    for r in rels:
        left = [(c, k) for c, k in r if c not in known]
        if len(left) == 1:
            c, k = left[0]
            known[c] = -sum(known[x] * kk for x, kk in r if x != c) // k
            grew = True
            if protected(c) and known[c] == true[c]:
                note('leak', '(exact difference) %s = %d, published %s' % (c, true[c], pub[c]))
    if not grew:
        break

# ---- 5. money ---------------------------------------------------------------------
mpub, mtrue, mh = {}, {}, {}
mrels = []


def money(name, label, col, rowidx=None):
    a, b = load(name)
    for i in range(1, len(a)):
        if a[i][0] == label and (rowidx is None or rowidx == i):
            mid = ('£', name, i, label, col)
            v = a[i][col]
            mpub[mid] = None if v == '*' else pence(v)
            mtrue[mid] = 0 if b[i][col] == '*' else pence(b[i][col])  # * of no people
            p = mpub[mid]
            # an attacker takes a round figure as rounded, any other as exact
            mh[mid] = 0 if p is None or p == 0 or p % unit3(p) else unit3(p) // 2
            return mid
    raise KeyError((name, label))


set_tot = {r[0]: money('cost_by_setting.csv', r[0], 2) for r in cbs[1:]}
mrels.append([(set_tot[r[0]], 1) for r in cbs[1:-1]] + [(set_tot['Total'], -1)])
for name, col in (('cost_by_ltc_count.csv', len(fig5[0]) - 1), ('currency_bands.csv', 8)):
    a = load(name)[0]
    ids = [money(name, a[i][0], col, i) for i in range(1, len(a))]
    mrels.append([(x, 1) for x in ids[:-1]] + [(ids[-1], -1)])
if os.path.exists(os.path.join(rep, 'csv', 'provider_cost.csv')):
    a = load('provider_cost.csv')[0]
    by = {}
    for i in range(1, len(a)):
        by.setdefault(a[i][1], []).append(money('provider_cost.csv', a[i][0], 4, i))
    for s, ids in by.items():
        if s in set_tot:
            mrels.append([(x, 1) for x in ids] + [(set_tot[s], -1)])
ptot = []
for code, kf in KEY.items():
    mid = ('£', 'key figures', code)
    v = {r[0]: r[1] for r in kf[1:]}['Total annual cost (£)']
    rv = {r[0]: r[1] for r in rows(raw, 'practices/%s_key_figures.csv' % PACK[code][0])[1:]}['Total annual cost (£)']
    mpub[mid] = None if v == '*' else int(round(float(v))) * 100
    mtrue[mid] = int(round(float(rv))) * 100
    mh[mid] = 50 if mpub[mid] is None or mpub[mid] % unit3(mpub[mid]) else unit3(mpub[mid]) // 2
    ptot.append(mid)
if ptot:
    if unk:
        u = ('£', 'practice unknown total')
        mpub[u] = None
        mtrue[u] = mtrue[set_tot['Total']] - sum(mtrue[x] for x in ptot)
        mh[u] = 0
        ptot.append(u)
    mrels.append([(x, 1) for x in ptot] + [(set_tot['Total'], -1)])
mhidden = sorted((c for c in mpub if mpub[c] is None), key=str)
for c, comb in determined(mhidden, mrels).items():
    # the error of the combination: every published term's half-width
    err = sum(abs(f) * sum(mh[x] for x, _ in mrels[ri] if mpub[x] is not None) for ri, f in comb.items())
    if err == 0 and mtrue[c] != 0:
        note('leak', '(money) %s = %.2f' % (c, mtrue[c] / 100))

nleaks = 0
for kind, text in findings:
    print('# %s %s' % (kind, text))
    nleaks += 1
nprot = sum(1 for c in pub if protected(c))
print('# formats: %d HTML tables and %d sheets compared with their CSVs' % (nhtml, nsheet))
print('checked %d relations, %d hidden, %d small, %d protected, %d figures (%d underived): %d leaks'
      % (len(rels) + len(mrels), len(hidden), len(small), nprot, nfig, underived, nleaks))

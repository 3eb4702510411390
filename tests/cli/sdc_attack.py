#!/usr/bin/env python3
"""An attacker's view of a yoc report: reads the published CSVs, writes down
every additive relation between published counts that the disclosure rule
must hold against, and tries to work out each hidden count from them.

usage: sdc_attack.py REPORT RAW
  REPORT  a report folder written with disclosure control
  RAW     the same report written with --no-suppression (the true counts)

Relations: the margins of every count table (rows and columns add up to
their totals); the unpriced-activity records add up to the total published
in the table and in index.html; a practice's pack totals equal its count in
the table of practices; and each pack cell summed over practices equals the
index's cell (population by age and sex, currency bands, LTC counts).

Two attacks, both exact (fractions):
  - subtraction: a relation with exactly one hidden term gives it away, up
    to the rounding of the others;
  - linear algebra: a hidden count is determined when its unit vector lies
    in the row space of the relations restricted to the hidden counts.
Prints one line per hidden count of 1..7 (true value) that either attack
recovers, then "checked N relations, H hidden, S small: L leaks".
Test support only."""
import csv, os, re, sys
from fractions import Fraction

rep, raw = sys.argv[1], sys.argv[2]
pub, true = {}, {}   # cell id -> published value (None = hidden), true value
rels = []            # each: list of (cell id, coefficient); sum = 0


def rows(d, name):
    with open(os.path.join(d, 'csv', name), newline='') as f:
        return [r for r in csv.reader(f) if r and not r[0].startswith('#')]


def table(name, cols):
    """Registers the count columns cols of csv/name; returns ids[row][k]."""
    a, b = rows(rep, name), rows(raw, name)
    assert len(a) == len(b), name
    ids = []
    for i in range(1, len(a)):
        line = []
        for c in cols:
            cid = (name, i, a[i][0], c)
            v = a[i][c].replace(',', '')
            pub[cid] = None if v == '*' else int(v)
            true[cid] = int(b[i][c].replace(',', ''))
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


# the index
pop, _ = table('population.csv', [1, 2, 3, 4])
margins(pop)
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
if os.path.exists(os.path.join(rep, 'csv', 'unpriced_activity.csv')):
    up, labels = table('unpriced_activity.csv', [2])
    if labels and labels[-1] == 'Total':
        col_total([l[0] for l in up])
        up = up[:-1]
    # the page's text publishes the total of the records
    m = re.search(r'<p>([0-9,*]+) activity records in', open(os.path.join(rep, 'index.html')).read())
    t = ('index.html', 'unpriced total', 0)
    pub[t] = None if m.group(1) == '*' else int(m.group(1).replace(',', ''))
    m = re.search(r'<p>([0-9,]+) activity records in', open(os.path.join(raw, 'index.html')).read())
    true[t] = int(m.group(1).replace(',', ''))
    rels.append([(l[0], 1) for l in up] + [(t, -1)])

# the practice packs
sums = {}
for i, code in enumerate(prac_names[:-1]):
    safe = re.sub(r'[^A-Za-z0-9-]', '_', code) or '_'
    count = prac[i][0]
    pp, _ = table('practices/%s_population.csv' % safe, [1, 2, 3, 4])
    margins(pp)
    pb, _ = table('practices/%s_bands.csv' % safe, [1])
    col_total([l[0] for l in pb])
    pl, _ = table('practices/%s_ltc_count.csv' % safe, [1])
    col_total([l[0] for l in pl])
    for total in (pp[-1][-1], pb[-1][0], pl[-1][0]):
        rels.append([(total, 1), (count, -1)])
    for r in range(len(pp)):
        for k in range(4):
            sums.setdefault(('pop', r, k), []).append(pp[r][k])
    for r in range(len(pb)):
        sums.setdefault(('band', r), []).append(pb[r][0])
    for r in range(len(pl)):
        sums.setdefault(('ltc', r), []).append(pl[r][0])
for key, cells in sums.items():
    index = pop[key[1]][key[2]] if key[0] == 'pop' else (bands if key[0] == 'band' else ltc)[key[1]][0]
    rels.append([(c, 1) for c in cells] + [(index, -1)])

# sanity: the true counts satisfy every relation
for r in rels:
    assert sum(true[c] * k for c, k in r) == 0, r

hidden = sorted(c for c in pub if pub[c] is None)
small = {c for c in hidden if 1 <= true[c] <= 7}
leaks = set()
# subtraction
for r in rels:
    h = [c for c, k in r if pub[c] is None]
    if len(h) == 1 and h[0] in small:
        leaks.add((h[0], 'subtraction'))
# linear algebra over the hidden counts
col = {c: i for i, c in enumerate(hidden)}
m = []
for r in rels:
    row = {}
    for c, k in r:
        if c in col:
            row[col[c]] = row.get(col[c], 0) + Fraction(k)
    if row:
        m.append(row)
pivots = []  # (pivot column, row) in reduced form
for row in m:
    for pc, pr in pivots:  # reduce by the pivots so far
        f = row.get(pc)
        if f:
            for j, x in pr.items():
                row[j] = row.get(j, 0) - f * x
            row = {j: x for j, x in row.items() if x != 0}
    if not row:
        continue
    pc = min(row)
    f = row[pc]
    row = {j: x / f for j, x in row.items()}
    for i, (qc, qr) in enumerate(pivots):  # keep earlier rows reduced
        g = qr.get(pc)
        if g:
            for j, x in row.items():
                qr[j] = qr.get(j, 0) - g * x
            pivots[i] = (qc, {j: x for j, x in qr.items() if x != 0})
    pivots.append((pc, row))
for pc, pr in pivots:
    if len(pr) == 1 and hidden[pc] in small:
        leaks.add((hidden[pc], 'linear'))
for c, how in sorted(leaks):
    print('# leak (%s): %s = %d' % (how, c, true[c]))
print('checked %d relations, %d hidden, %d small: %d leaks' % (len(rels), len(hidden), len(small), len(leaks)))

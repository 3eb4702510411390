#!/usr/bin/env python3
"""Recomputes the tables of the report's content pages independently from the
database (person_year, analyse_run's code list, activity_month) and compares.

usage: report_pages.py DB REPORT MODE
  MODE raw: the report was made with --no-suppression: values must be exact
        (percentages and rates to 0.1, means to the penny, SPC to 4 decimals);
  MODE r5: the default rule (threshold 7, rounding to 5, money to 3
        significant figures): every value must be the rule applied to the
        independent value, or hidden where the rule hides it.
Prints "BAD ..." per mismatch and "checked TABLE: N values" per table.
Test support only."""
import csv, math, os, sqlite3, sys
from fractions import Fraction

dbp, rep, mode = sys.argv[1:4]
RAW = mode == 'raw'
db = sqlite3.connect(dbp)
SETS = ['elective', 'nonelective', 'daycase', 'outpatient', 'ae', 'community', 'mh', 'gp',
        'social_care', 'ambulance']
SETNAME = ['Elective', 'Non-elective', 'Day case', 'Outpatient', 'A&E', 'Community',
           'Mental health', 'GP', 'Social care', 'Ambulance']
FY = db.execute('SELECT max(fyear) FROM person_year').fetchone()[0]
bad = []
nval = [0]


def rows(name):
    with open(os.path.join(rep, 'csv', name + '.csv'), newline='') as f:
        return [r for r in csv.reader(f) if r and not r[0].startswith('#')][1:]


def half_away(x):
    x = Fraction(x)
    return int(math.floor(x + Fraction(1, 2))) if x >= 0 else -int(math.floor(-x + Fraction(1, 2)))


def sdc(n):
    if RAW or n == 0:
        return n
    return None if n <= 7 else (n + 2) // 5 * 5


def money3(p):
    if RAW:
        return p
    step = 10 ** max(2, len(str(abs(p))) - 3)
    return half_away(Fraction(p, step)) * step


def ok_stat(n):
    return n > 0 if RAW else n > 7


def mean(s, n):
    """pence; None when hidden"""
    if not ok_stat(n):
        return None
    if RAW:
        return Fraction(s, n)
    return 100 * half_away(Fraction(money3(s), 100 * sdc(n)))


def rate(num, den, scale, complement):
    if not ok_stat(den):
        return None
    if not RAW and (1 <= num <= 7 or (complement and 1 <= den - num <= 7)):
        return None
    return Fraction(scale * sdc(num), sdc(den))


def pence(s):
    neg = s.startswith('-')
    a, _, b = s.lstrip('-').partition('.')
    v = int(a) * 100 + int((b + '00')[:2])
    return -v if neg else v


def cmp(where, got, want, tol=Fraction(0)):
    """got: the CSV text; want: None (hidden), int/Fraction, text"""
    nval[0] += 1
    if want is None:
        if got != '*':
            bad.append('%s: %r, want hidden' % (where, got))
        return
    if isinstance(want, str):
        if got != want:
            bad.append('%s: %r, want %r' % (where, got, want))
        return
    if got == '*':
        bad.append('%s: hidden, want %s' % (where, float(want)))
        return
    g = Fraction(got)
    if abs(g - Fraction(want)) > tol:
        bad.append('%s: %s, want %s' % (where, got, float(want)))


def cmp_pence(where, got, want, tol=0):
    if want is None or got == '*':
        return cmp(where, got, want)
    nval[0] += 1
    if abs(pence(got) - want) > tol:
        bad.append('%s: %s, want %.2f' % (where, got, float(want) / 100))


PCT = Fraction(1, 20) + Fraction(1, 10 ** 9)   # to 0.1
MTOL = 1                                       # a mean to the penny


def done(name):
    print('checked %s: %d values' % (name, nval[0]))
    nval[0] = 0


py = db.execute('SELECT * FROM person_year WHERE fyear = ?', (FY,))
cols = [d[0] for d in py.description]
P = [dict(zip(cols, r)) for r in py.fetchall()]
N = len(P)

# ---- conditions -------------------------------------------------------------
clpath = db.execute("SELECT value FROM analyse_run WHERE key = 'codelist'").fetchone()[0]
conds, labels = [], {}
with open(clpath, newline='') as f:
    for r in csv.DictReader(f):
        if r['condition'] not in labels:
            labels[r['condition']] = r['label']
            if r['condition'] in cols:
                conds.append(r['condition'])
t, ts = rows('conditions'), rows('conditions_by_setting')
if len(t) != len(conds):
    bad.append('conditions: %d rows, want %d' % (len(t), len(conds)))
for k, cid in enumerate(conds):
    g = [p for p in P if p[cid]]
    n, s = len(g), sum(p['cost_total'] for p in g)
    r = t[k]
    cmp('conditions %s name' % cid, r[0], labels[cid])
    cmp('conditions %s people' % cid, r[1], sdc(n))
    cmp('conditions %s prevalence' % cid, r[2], rate(n, N, 100, 1), PCT)
    cmp_pence('conditions %s mean' % cid, r[3], mean(s, n), MTOL)
    cmp_pence('conditions %s total' % cid, r[4], money3(s) if ok_stat(n) else None)
done('conditions')
for k, cid in enumerate(conds):
    g = [p for p in P if p[cid]]
    n = len(g)
    for j, st in enumerate(SETS):
        s = sum(p['cost_' + st] for p in g)
        cmp_pence('conditions_by_setting %s mean %s' % (cid, st), ts[k][1 + j], mean(s, n), MTOL)
        cmp_pence('conditions_by_setting %s total %s' % (cid, st), ts[k][11 + j],
                  money3(s) if ok_stat(n) else None)
done('conditions_by_setting')
for name, size in (('condition_pairs', 2), ('condition_triples', 3)):
    import itertools
    combos = []
    for idx in itertools.combinations(range(len(conds)), size):
        g = [p for p in P if all(p[conds[i]] for i in idx)]
        if g:
            combos.append((-len(g), idx, sum(p['cost_total'] for p in g)))
    combos.sort()
    t = rows(name)
    want = combos[:20]
    if len(t) != len(want):
        bad.append('%s: %d rows, want %d' % (name, len(t), len(want)))
    for r, (mn, idx, s) in zip(t, want):
        cmp('%s name' % name, r[0], ' + '.join(labels[conds[i]] for i in idx))
        cmp('%s people' % name, r[1], sdc(-mn))
        cmp_pence('%s mean' % name, r[2], mean(s, -mn), MTOL)
        cmp_pence('%s total' % name, r[3], money3(s) if ok_stat(-mn) else None)
    done(name)

# ---- trends: every year -----------------------------------------------------
t, ts = rows('trends_years'), rows('trends_cost_by_setting')
years = [y for (y,) in db.execute('SELECT DISTINCT fyear FROM person_year ORDER BY fyear')]
for i, y in enumerate(years):
    q = db.execute('SELECT count(*), sum(ltc_count > 0), sum(ltc_count >= 2), sum(cost_total), ' +
                   ', '.join('sum(cost_%s)' % s for s in SETS) + ' FROM person_year WHERE fyear = ?',
                   (y,)).fetchone()
    n = q[0]
    cmp('trends %s' % y, t[i][0], y)
    cmp('trends %s people' % y, t[i][1], sdc(n))
    cmp('trends %s ltc' % y, t[i][2], rate(q[1], n, 100, 1), PCT)
    cmp('trends %s ltc2' % y, t[i][3], rate(q[2], n, 100, 1), PCT)
    cmp_pence('trends %s total' % y, t[i][4], money3(q[3]))
    cmp_pence('trends %s per head' % y, t[i][5], mean(q[3], n), MTOL)
    for j in range(len(SETS)):
        cmp_pence('trends %s total %s' % (y, SETS[j]), ts[i][1 + j], money3(q[4 + j]))
        cmp_pence('trends %s per head %s' % (y, SETS[j]), ts[i][11 + j], mean(q[4 + j], n), MTOL)
done('trends_years and trends_cost_by_setting')

# ---- activity by month: the series and its XmR limits ------------------------
t = rows('activity_month')
months = [m for (m,) in db.execute('SELECT DISTINCT month FROM activity_month ORDER BY month')]
k = 0
for j, st in enumerate(SETS):
    ser = db.execute('SELECT events, cost FROM activity_month WHERE setting = ? ORDER BY month',
                     (st,)).fetchall()
    if not any(e for e, _ in ser):
        continue
    pub = [sdc(e) for e, _ in ser]
    hidden = any(v is None for v in pub)
    if not hidden:
        x = [Fraction(v) for v in pub]
        m = sum(x) / len(x)
        mr = sum(abs(x[i] - x[i - 1]) for i in range(1, len(x))) / (len(x) - 1)
        lim = (m, m - Fraction(266, 100) * mr, m + Fraction(266, 100) * mr)
    for i, mo in enumerate(months):
        r = t[k]
        k += 1
        cmp('activity_month %s %s' % (mo, st), r[0] + '|' + r[1], mo + '|' + SETNAME[j])
        cmp('activity_month %s %s events' % (mo, st), r[2], pub[i])
        cmp_pence('activity_month %s %s cost' % (mo, st), r[3],
                  None if pub[i] is None else money3(ser[i][1]))
        for c, v in zip((4, 5, 6), lim if not hidden else (None, None, None)):
            cmp('activity_month %s %s limit %d' % (mo, st, c), r[c], v, Fraction(1, 20000) + Fraction(1, 10 ** 9))
if k != len(t):
    bad.append('activity_month: %d rows, want %d' % (len(t), k))
done('activity_month (SPC limits from the published series)')

# ---- deprivation: crude and directly age-sex standardised --------------------
def sexi(s):
    return 0 if s in ('F', 'f', '2') else 1 if s in ('M', 'm', '1') else 2


def strat(p):
    a = p['age']
    return (min(a // 5, 18) if a >= 0 else 0, sexi(p['sex']))


W = {}
for p in P:
    W[strat(p)] = W.get(strat(p), 0) + 1
t = rows('deprivation')
groups = [(str(d), [p for p in P if p['imd_decile'] == d]) for d in range(1, 11)]
unk = [p for p in P if p['imd_decile'] is None]
if unk:
    groups.append(('Unknown', unk))
groups.append(('Total', P))
# the rule's secondary suppression is not recomputed: a decile's count must
# be the rule's value, or hidden by it
for r, (name, g) in zip(t, groups):
    n = len(g)
    cmp('deprivation %s name' % name, r[0].split(' ')[0], name)
    if r[1] == '*' and sdc(n) is not None and not RAW:
        for c in range(2, 8):
            cmp('deprivation %s hidden col %d' % (name, c), r[c], None)
        continue
    cmp('deprivation %s people' % name, r[1], sdc(n))
    ys = [lambda p: p['cost_total'], lambda p: int(p['ltc_count'] > 0), lambda p: p['emergency_admissions']]
    cmp_pence('deprivation %s cost per head' % name, r[2], mean(sum(ys[0](p) for p in g), n), MTOL)
    cmp('deprivation %s ltc' % name, r[3], rate(sum(ys[1](p) for p in g), n, 100, 1), PCT)
    cmp('deprivation %s emergency' % name, r[4], rate(sum(ys[2](p) for p in g), n, 1000, 0), PCT)
    if name == 'Total':
        cmp('deprivation total standardised = crude', r[5] + r[6] + r[7], r[2] + r[3] + r[4])
        continue
    cell = {}
    for p in g:
        c = cell.setdefault(strat(p), [0, 0, 0, 0])
        c[0] += 1
        for m in range(3):
            c[1 + m] += ys[m](p)
    dsr = []
    for m in range(3):
        num = sum(Fraction(W[s], N) * Fraction(c[1 + m], c[0]) for s, c in cell.items())
        den = sum(Fraction(W[s], N) for s in cell)
        dsr.append(num / den)
    okd = ok_stat(n)
    cmp_pence('deprivation %s std cost' % name, r[5], None if not okd else dsr[0], 50)
    cmp('deprivation %s std ltc' % name, r[6], None if not okd else 100 * dsr[1], PCT)
    cmp('deprivation %s std emergency' % name, r[7], None if not okd else 1000 * dsr[2], PCT)
done('deprivation')

# ---- concentration, Lorenz curve, Gini ----------------------------------------
S = sorted(P, key=lambda p: (-p['cost_total'], p['pseudo_id']))
tot = sum(p['cost_total'] for p in S)
t = rows('concentration')
ta, tse = rows('concentration_age'), rows('concentration_settings')
bands = [(0, 17), (18, 64), (65, 74), (75, 84), (85, 999)]
for i, pc in enumerate((1, 5, 10, 20, 100)):
    k = (pc * N + 99) // 100
    g = S[:k]
    s = sum(p['cost_total'] for p in g)
    r = t[i]
    cmp('concentration %d%% people' % pc, r[1], sdc(k))
    cmp_pence('concentration %d%% total' % pc, r[2], money3(s))
    cmp('concentration %d%% share' % pc, r[3], Fraction(half_away(Fraction(1000 * money3(s), money3(tot))), 10),
        Fraction(1, 10 ** 9) if not RAW else PCT)
    cmp_pence('concentration %d%% mean' % pc, r[4], mean(s, k), MTOL)
    cmp('concentration %d%% mean ltc' % pc, r[5], Fraction(half_away(Fraction(10 * sum(p['ltc_count'] for p in g), k)), 10))
    cmp('concentration %d%% emergency' % pc, r[6], rate(sum(p['emergency_admissions'] > 0 for p in g), k, 100, 1), PCT)
    for b, (lo, hi) in enumerate(bands):
        cmp('concentration_age %d%% %d' % (pc, lo), ta[i][1 + b],
            rate(sum(lo <= p['age'] <= hi for p in g), k, 100, 1), PCT)
    for j, st in enumerate(SETS):
        cmp('concentration_settings %d%% %s' % (pc, st), tse[i][1 + j],
            rate(sum(p['cost_' + st] != 0 for p in g), k, 100, 1), PCT)
asc = sorted(p['cost_total'] for p in P)
lz = rows('lorenz')
cum = [0]
for v in asc:
    cum.append(cum[-1] + v)
for pc in range(101):
    cmp('lorenz %d' % pc, lz[pc][1], Fraction(100 * cum[pc * N // 100], tot), PCT)
gini = Fraction(2 * sum((i + 1) * v for i, v in enumerate(asc)), N * tot) - Fraction(N + 1, N)
cmp('gini', rows('gini')[0][1], gini, Fraction(1, 20000) + Fraction(1, 10 ** 9))
done('concentration, lorenz and gini')
for b in bad:
    print('BAD', b)

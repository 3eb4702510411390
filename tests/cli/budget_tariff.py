# Recomputes yoc tariff build from person_year and person with SQL and exact
# fractions (docs/budget.md written out independently): prints the number of
# categories whose base tariff or trim counts differ from the table tariff.
# usage: budget_tariff.py DB YEARS TRIM MIN_PERSON_YEARS VERSION
import sqlite3, sys, datetime
from fractions import Fraction
db, years, trim, minpy, version = sys.argv[1], sys.argv[2].split(','), sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
c = sqlite3.connect(db)
SETS = ['elective','nonelective','daycase','outpatient','ae','community','mh','ambulance']  # default map
CATS = [('frail_6plus','frail_3to5'),('frail_3to5','frail_0to2'),('frail_0to2',None),
 ('e_9plus_mental','d_6to8_mental'),('e_9plus_physical','d_6to8_physical'),
 ('d_6to8_mental','c_3to5_mental'),('d_6to8_physical','c_3to5_physical'),
 ('c_3to5_mental','b_2_mental'),('c_3to5_physical','b_2_physical'),
 ('b_2_mental','a_1_mental'),('b_2_physical','a_1_physical'),
 ('a_1_mental','a_0'),('a_1_physical','a_0'),('a_0',None)]
FR = "(dementia or palliative or (age >= 85 and ltc_count >= 3))"
CASE = f"""case when {FR} and ltc_count >= 6 then 0 when {FR} and ltc_count >= 3 then 1 when {FR} then 2
 when ltc_count >= 9 and mental_ltc_count >= 1 then 3 when ltc_count >= 9 then 4
 when ltc_count >= 6 and mental_ltc_count >= 1 then 5 when ltc_count >= 6 then 6
 when ltc_count >= 3 and mental_ltc_count >= 1 then 7 when ltc_count >= 3 then 8
 when ltc_count = 2 and mental_ltc_count >= 1 then 9 when ltc_count = 2 then 10
 when ltc_count = 1 and mental_ltc_count >= 1 then 11 when ltc_count = 1 then 12 else 13 end"""
YU = 133590
def d(s): return datetime.date.fromisoformat(s) if s else None
rows = []
for fy in years:
    y = int(fy[:4]); y0 = datetime.date(y,4,1); y1 = datetime.date(y+1,3,31); yd = (y1-y0).days+1
    q = f"select y.pseudo_id, {CASE}, {'+'.join('cost_'+s for s in SETS)}, p.reg_start, p.reg_end, p.date_of_death from person_year y left join person p using(pseudo_id) where fyear = ?"
    for pid, cat, cost, rs, re, dod in c.execute(q, (fy,)):
        lo = max(y0, d(rs) or y0); hi = min(y1, d(re) or y1, d(dod) or y1)
        days = (hi-lo).days+1 if hi >= lo else yd
        rows.append(dict(pid=pid, fy=y, cat=cat, cost=cost, units=days*(YU//yd)))
n = len(CATS); idx = {name:i for i,(name,_) in enumerate(CATS)}
par = [idx[p] if p else -1 for _,p in CATS]
units = [sum(r['units'] for r in rows if r['cat']==i) for i in range(n)]
depth = []
for i in range(n):
    k=0; j=par[i]
    while j>=0: k+=1; j=par[j]
    depth.append(k)
merged=[0]*n
for dd in range(max(depth),0,-1):
    for i in range(n):
        if depth[i]==dd and units[i] < minpy*YU:
            merged[i]=1; units[par[i]] += units[i]
def pool(i):
    while merged[i]: i = par[i]
    return i
def rnd(num, den):  # half away from zero, den > 0
    q, r = divmod(abs(num)*2 + den, den*2)
    return q if num >= 0 else -q
import math
got = {cat:(base,tl,th,tc) for cat,base,tl,th,tc in c.execute("select category, base, trim_low, trim_high, trim_cost from tariff where version=?", (version,))}
bad = 0
for i,(name,_) in enumerate(CATS):
    p = pool(i)
    m = [r for r in rows if pool(r['cat'])==p]
    m.sort(key=lambda r:(Fraction(r['cost'], r['units']), r['pid'], r['fy']))
    N = len(m); cost = sum(r['cost'] for r in m); un = sum(r['units'] for r in m)
    kind = trim.split(':')[0]
    lo_n = hi_n = 0
    if kind in ('pct','winsor'):
        lo, hi = map(float, trim.split(':')[1].split(','))
        lo_n = math.floor(N*lo/100+1e-9); hi_n = math.floor(N*(100-hi)/100+1e-9)
        if lo_n+hi_n >= N: lo_n = hi_n = 0
    kc, ku = cost, un
    if kind == 'pct':
        for j,r in enumerate(m):
            if j < lo_n or j >= N-hi_n: kc -= r['cost']; ku -= r['units']
    elif kind == 'winsor':
        bl, bh = (m[lo_n], m[N-1-hi_n]) if N else (None, None)
        for j,r in enumerate(m):
            b = bl if j < lo_n else bh if j >= N-hi_n else None
            if b: kc += rnd(b['cost']*r['units'], b['units']) - r['cost']
    exp = rnd(cost*YU, un) if un else 0
    base = rnd(kc*YU, ku) if ku else exp
    want = (base, lo_n if N else 0, hi_n if N else 0, cost-kc)
    g = got.get(name)
    if p != i: want = (base, 0, 0, 0)
    if g is None or g[0] != want[0] or (p == i and tuple(g[1:]) != want[1:]):
        bad += 1; print("mismatch", name, g, want, file=sys.stderr)
print(bad)

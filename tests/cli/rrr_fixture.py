"""Fixture feeds for tests/cli/rrr_careplan.sh and the answers, computed here
from the rows written (python only, nothing from yoc): pseudonymised APC with
discharge ready dates, a GP register, care plans and PAM results.

usage: rrr_fixture.py FEEDS_DIR OUT_EXPECT_DIR
Writes FEEDS_DIR/{apc,gp_register,careplan,pam}/ and the old-style APC without
the new columns under FEEDS_DIR/../old/apc/, and OUT_EXPECT_DIR/*.txt."""
import csv, datetime, math, os, random, sys

feeds, exp = sys.argv[1], sys.argv[2]
rnd = random.Random(7)
D = datetime.date
def iso(d): return d.isoformat() if d else ''
def days(d): return (d - D(1970, 1, 1)).days

for k in ('apc', 'gp_register', 'careplan', 'pam'):
    os.makedirs(os.path.join(feeds, k), exist_ok=True)
os.makedirs(os.path.join(feeds, '..', 'old', 'apc'), exist_ok=True)

people = ['%064x' % (0xabc000 + i) for i in range(90)]
prac = {p: ('P%05d' % (1 + i % 3)) for i, p in enumerate(people)}
lsoa = {p: 'E0100%04d' % (i % 4) for i, p in enumerate(people)}
dob = {p: '%02d%d' % (1 + i % 12, 1930 + i % 40) for i, p in enumerate(people)}
sex = {p: str(1 + i % 2) for i, p in enumerate(people)}
with open(os.path.join(feeds, 'gp_register', 'REG_2023-24.csv'), 'w') as f:
    f.write('PSEUDO_HESID,GPPRAC,REG_START,SEX,MYDOB,LSOA11\n')
    for p in people:
        f.write('%s,%s,2010-01-01,%s,%s,%s\n' % (p, prac[p], sex[p], dob[p], lsoa[p]))

# ---- APC: spells of one or two episodes ------------------------------------
reasons = ['NO_SERVICE', 'ASSESSMENT', 'RESIDENTIAL', 'HOME']
providers = ['RAA', 'RBB']
spells = []
for s in range(160):
    p = rnd.choice(people)
    adm = D(2023, 4, 1) + datetime.timedelta(days=rnd.randrange(0, 180))
    los = rnd.randrange(1, 25)
    dis = adm + datetime.timedelta(days=los)
    need = rnd.random() < 0.6
    ready = None
    reason = ''
    if rnd.random() < 0.9:
        if need and rnd.random() < 0.5 or (not need and rnd.random() < 0.15):
            delay = min(los, rnd.choice([1, 1, 2, 3, 4, 5, 7, 9, 12, 20]))
            ready = dis - datetime.timedelta(days=delay)
            reason = rnd.choice(reasons if need else ['HOME', 'RESIDENTIAL'])
            if rnd.random() < 0.08:
                reason = ''   # delayed with no reason given: UNKNOWN
        else:
            ready = dis
    if s in (5, 17):
        ready = dis + datetime.timedelta(days=3)   # a defect: ready after discharge
        reason = ''
    spells.append(dict(id='SP%04d' % s, p=p, adm=adm, dis=dis, ready=ready,
                       need='Y' if need else 'N', reason=reason,
                       pro=providers[s % 2], dest=rnd.choice(['19', '19', '54', '65', '29'])))

cols = ['PSEUDO_HESID', 'EPIKEY', 'SUSSPELLID', 'EPISTART', 'EPIEND', 'ADMIDATE', 'DISDATE',
        'ADMIMETH', 'CLASSPAT', 'DISDEST', 'EPIORDER', 'SUSHRG', 'PROCODE3', 'SEX', 'MYDOB',
        'DISREADYDATE', 'RRR_NEED', 'DELAY_REASON']
rows = []
for sp in spells:
    two = (sp['dis'] - sp['adm']).days > 4 and int(sp['id'][2:]) % 3 == 0
    mid = sp['adm'] + datetime.timedelta(days=2)
    eps = [(sp['adm'], mid), (mid, sp['dis'])] if two else [(sp['adm'], sp['dis'])]
    for k, (a, b) in enumerate(eps):
        last = k == len(eps) - 1
        rows.append({'PSEUDO_HESID': sp['p'], 'EPIKEY': '%s%d' % (sp['id'], k),
                     'SUSSPELLID': sp['id'], 'EPISTART': iso(a), 'EPIEND': iso(b),
                     'ADMIDATE': iso(sp['adm']), 'DISDATE': iso(sp['dis']) if last else '',
                     'ADMIMETH': '21', 'CLASSPAT': '1', 'DISDEST': sp['dest'] if last else '98',
                     'EPIORDER': '%02d' % (k + 1), 'SUSHRG': 'WJ06J', 'PROCODE3': sp['pro'],
                     'SEX': sex[sp['p']], 'MYDOB': dob[sp['p']], 'DISREADYDATE': iso(sp['ready']),
                     'RRR_NEED': sp['need'], 'DELAY_REASON': sp['reason']})
for pro in providers:
    with open(os.path.join(feeds, 'apc', '%s_2023-09.csv' % pro), 'w', newline='') as f:
        w = csv.DictWriter(f, cols, lineterminator='\n')
        w.writeheader()
        w.writerows(r for r in rows if r['PROCODE3'] == pro)
    with open(os.path.join(feeds, '..', 'old', 'apc', '%s_2023-09.csv' % pro), 'w', newline='') as f:
        w = csv.DictWriter(f, cols[:-3], lineterminator='\n', extrasaction='ignore')
        w.writeheader()
        w.writerows(r for r in rows if r['PROCODE3'] == pro)

# ---- the RRR answers ----------------------------------------------------------
good = [s for s in spells if s['ready'] is not None and s['ready'] <= s['dis']]
for s in good:
    s['delay'] = (s['dis'] - s['ready']).days
    s['why'] = (s['reason'] or 'UNKNOWN') if s['delay'] > 0 else ''
rrr = [s for s in good if s['need'] == 'Y']
with open(os.path.join(exp, 'rrr_summary.txt'), 'w') as f:
    f.write('spells_with_ready_date %d\n' % len(good))
    f.write('ready_after_discharge %d\n' % sum(1 for s in spells if s['ready'] and s['ready'] > s['dis']))
    f.write('rrr_spells %d\n' % len(rrr))
    f.write('rrr_delayed_spells %d\n' % sum(s['delay'] > 0 for s in rrr))
    f.write('rrr_delayed_days %d\n' % sum(s['delay'] for s in rrr))
    f.write('delayed_spells %d\n' % sum(s['delay'] > 0 for s in good))
    f.write('delayed_days %d\n' % sum(s['delay'] for s in good))
with open(os.path.join(exp, 'rrr_reason.txt'), 'w') as f:
    for r in sorted({s['why'] for s in good if s['delay'] > 0}):
        d = [s for s in good if s['why'] == r]
        f.write('%s|%d|%d\n' % (r, len(d), sum(s['delay'] for s in d)))
with open(os.path.join(exp, 'rrr_provider.txt'), 'w') as f:
    keys = sorted({(s['pro'], iso(s['dis'])[:7]) for s in good})
    for k in keys:
        d = [s for s in good if (s['pro'], iso(s['dis'])[:7]) == k]
        f.write('%s|%s|%d|%d|%d\n' % (k[0], k[1], len(d), sum(s['need'] == 'Y' for s in d),
                                      sum(s['delay'] for s in d)))

# the discharge model: nightly census of spells that needed RRR or were delayed
model = [s for s in good if s['need'] == 'Y' or s['delay'] > 0]
lo = min(days(s['dis']) for s in model)
hi = max(days(s['dis']) for s in model)
def cut_days(delay, pct):
    return (delay * pct + 50) // 100 if delay > 0 else 0
def census(reason, pct):
    occ = [0] * (hi - lo)
    for s in model:
        a, b = days(s['adm']), days(s['dis'])
        if s['delay'] > 0 and (reason == 'ALL' or reason == s['why']):
            b -= cut_days(s['delay'], pct)
        for n in range(max(a, lo), min(b, hi)):
            occ[n - lo] += 1
    srt = sorted(occ)
    return sum(occ) / len(occ), srt[math.ceil(0.95 * len(occ)) - 1]
m0, p0 = census(None, 0)
def cut_lines(cuts):
    out = []
    for r, pct in cuts:
        m1, p1 = census(r, pct)
        rel = sum(cut_days(s['delay'], pct) for s in model
                  if s['delay'] > 0 and (r == 'ALL' or r == s['why']))
        out.append('%s|%d|%d|%.6f|%.6f|%d|%d' % (r, pct, rel, m0, m0 - m1, p0, p0 - p1))
    return '\n'.join(out) + '\n'
open(os.path.join(exp, 'rrr_cut_default.txt'), 'w').write(
    cut_lines([(r, 50) for r in reasons]))
open(os.path.join(exp, 'rrr_cut_given.txt'), 'w').write(
    cut_lines([('HOME', 30), ('ALL', 100), ('UNKNOWN', 50)]))
open(os.path.join(exp, 'rrr_window.txt'), 'w').write('%s|%s|%d\n' % (
    iso(D(1970, 1, 1) + datetime.timedelta(days=lo)), iso(D(1970, 1, 1) + datetime.timedelta(days=hi)),
    len(model)))

# ---- care plans -----------------------------------------------------------------
ccols = ['PSEUDO_HESID', 'GPPRAC', 'PLAN_ID', 'ITEM_TYPE', 'ITEM_ID', 'RECORD_DATE', 'CREATED',
         'LAST_REVIEW', 'NEXT_REVIEW', 'COORDINATOR', 'DOMAIN', 'STATUS', 'ACTION_KIND', 'NEED',
         'UNMET_REASON', 'CONSENT_PURPOSE', 'SEX', 'MYDOB', 'LSOA11']
crows = []
plans = {}
items = {}
item_n = 0
for i, p in enumerate(people):
    if i % 5 in (1, 3):
        continue   # no plan
    pid = 'PL%03d' % i
    created = D(2023, 1, 1) + datetime.timedelta(days=rnd.randrange(0, 200))
    # two PLAN rows: as created, then a later one (reviewed or not)
    nxt1 = created + datetime.timedelta(days=180)
    states = [(created, created, None, nxt1)]
    rec2 = D(2024, 3, 1) if i % 2 else D(2024, 2, 1)
    if rnd.random() < 0.6:
        rv = nxt1 - datetime.timedelta(days=rnd.randrange(0, 30))
        states.append((rec2, created, rv, rv + datetime.timedelta(days=365)))
    else:
        states.append((rec2, created, None, nxt1))
    for rec, cr, lr, nr in states:
        crows.append(dict(PSEUDO_HESID=p, GPPRAC=prac[p], PLAN_ID=pid, ITEM_TYPE='PLAN',
                          ITEM_ID='%s-%s' % (pid, iso(rec)), RECORD_DATE=iso(rec), CREATED=iso(cr),
                          LAST_REVIEW=iso(lr), NEXT_REVIEW=iso(nr), COORDINATOR='GP'))
    plans[pid] = dict(p=p, state=states[-1])
    for kind, n in (('GOAL', rnd.randrange(2, 5)), ('ACTION', rnd.randrange(1, 5)),
                    ('NEED', rnd.randrange(1, 6))):
        for j in range(n):
            item_n += 1
            iid = 'IT%05d' % item_n
            r = dict(PSEUDO_HESID=p, GPPRAC=prac[p], PLAN_ID=pid, ITEM_TYPE=kind, ITEM_ID=iid,
                     RECORD_DATE=iso(created), LSOA11=lsoa[p])
            if kind == 'GOAL':
                r['DOMAIN'] = rnd.choice(['CLINICAL', 'CARE', 'WELLBEING'])
                r['STATUS'] = rnd.choice(['NOT_STARTED', 'IN_PROGRESS', 'ACHIEVED', 'ABANDONED'])
            elif kind == 'ACTION':
                r['ACTION_KIND'] = rnd.choice(['REFERRAL_COMMUNITY', 'REFERRAL_SOCIAL_CARE',
                                               'SOCIAL_PRESCRIBING', 'TELEHEALTH'])
                r['STATUS'] = rnd.choice(['OPEN', 'DONE'])
            else:
                r['NEED'] = rnd.choice(['MOBILITY', 'FALLS', 'LONELINESS', 'HOUSING'])
                r['STATUS'] = rnd.choice(['MET', 'MET', 'PARTLY', 'UNMET'])
                if r['STATUS'] != 'MET':
                    r['UNMET_REASON'] = rnd.choice(['NO_SERVICE', 'WAITING_LIST'])
            crows.append(r)
            items[iid] = r
            # some items are sent again later with a new status: the latest counts
            if kind == 'GOAL' and j == 0 and i % 4 == 0:
                r2 = dict(r, RECORD_DATE=iso(created + datetime.timedelta(days=40)), STATUS='ACHIEVED')
                crows.append(r2)
                items[iid] = r2
    crows.append(dict(PSEUDO_HESID=p, GPPRAC=prac[p], PLAN_ID=pid, ITEM_TYPE='CONSENT',
                      ITEM_ID='CS%03d' % i, RECORD_DATE=iso(created), CONSENT_PURPOSE='DIRECT_CARE'))
for r in crows:
    r.setdefault('SEX', sex[r['PSEUDO_HESID']])
    r.setdefault('MYDOB', dob[r['PSEUDO_HESID']])
for pr in sorted(set(prac.values())):
    with open(os.path.join(feeds, 'careplan', '%s_2024-03.csv' % pr), 'w', newline='') as f:
        w = csv.DictWriter(f, ccols, lineterminator='\n')
        w.writeheader()
        w.writerows(r for r in crows if r['GPPRAC'] == pr)
asof = max(r['RECORD_DATE'] for r in crows)
overdue = {pid for pid, v in plans.items()
           if v['state'][3] and iso(v['state'][3]) < asof
           and (v['state'][2] is None or v['state'][2] < v['state'][3])}
with open(os.path.join(exp, 'careplan.txt'), 'w') as f:
    f.write('asof %s\n' % asof)
    f.write('plans %d\n' % len(plans))
    f.write('overdue %d\n' % len(overdue))
    f.write('registered %d\n' % len(people))
    f.write('with_plan %d\n' % len({v['p'] for v in plans.values()}))
with open(os.path.join(exp, 'careplan_cover.txt'), 'w') as f:
    for pr in sorted(set(prac.values())):
        ps = [p for p in people if prac[p] == pr]
        f.write('%s|%d|%d|%d\n' % (pr, len(ps), len({v['p'] for v in plans.values() if prac[v['p']] == pr}),
                                   sum(1 for pid in overdue if prac[plans[pid]['p']] == pr)))
def tally(kind, a, b):
    t = {}
    for r in items.values():
        if r['ITEM_TYPE'] == kind:
            t[(r[a], r[b])] = t.get((r[a], r[b]), 0) + 1
    return ''.join('%s|%s|%d\n' % (k[0], k[1], v) for k, v in sorted(t.items()))
open(os.path.join(exp, 'careplan_goal.txt'), 'w').write(tally('GOAL', 'DOMAIN', 'STATUS'))
open(os.path.join(exp, 'careplan_action.txt'), 'w').write(tally('ACTION', 'ACTION_KIND', 'STATUS'))
with open(os.path.join(exp, 'careplan_need.txt'), 'w') as f:
    for nd in sorted({r['NEED'] for r in items.values() if r['ITEM_TYPE'] == 'NEED'}):
        d = [r for r in items.values() if r['ITEM_TYPE'] == 'NEED' and r['NEED'] == nd]
        f.write('%s|%d|%d|%d\n' % (nd, len(d), sum(r['STATUS'] == 'PARTLY' for r in d),
                                   sum(r['STATUS'] == 'UNMET' for r in d)))
# cohort: the first 40 people join on 2023-06-01; 3 of them leave on 2023-12-31
cohort = people[:40]
with open(os.path.join(exp, 'cohort.sql'), 'w') as f:
    for i, p in enumerate(cohort):
        f.write("INSERT INTO cohort_register(cohort, pseudo_id, practice, join_date, leave_date,"
                " leave_reason, secondary_use) VALUES('frail', '%s', '%s', '2023-06-01', %s, %s, 1);\n"
                % (p, prac[p], "'2023-12-31'" if i < 3 else 'NULL', "'died'" if i < 3 else 'NULL'))
members = cohort[3:]
open(os.path.join(exp, 'cohort.txt'), 'w').write('frail|%d|%d\n' % (
    len(members), len({v['p'] for v in plans.values() if v['p'] in members})))

# ---- PAM -------------------------------------------------------------------------
def level(t): return 1 if t <= 470 else 2 if t <= 551 else 3 if t <= 670 else 4
pam = []
for i, p in enumerate(people):
    if i % 5 in (1, 3) or i % 7 == 0:
        continue
    s0 = rnd.randrange(300, 900)
    d0 = D(2023, 2, 1) + datetime.timedelta(days=i)
    pam.append((p, 'PM%03d0' % i, d0, s0))
    if i % 3:
        gain = {1: 55, 2: 45, 3: 20, 4: 0}[level(s0)] + rnd.randrange(-10, 11)
        pam.append((p, 'PM%03d1' % i, d0 + datetime.timedelta(days=365), max(0, min(1000, s0 + gain))))
with open(os.path.join(feeds, 'pam', 'P00001_2024-03.csv'), 'w') as f:
    f.write('PSEUDO_HESID,GPPRAC,PAM_ID,PAM_DATE,PAM_SCORE,PAM_LEVEL,SEX,MYDOB,LSOA11\n')
    for p, pid, d, s in pam:
        f.write('%s,%s,%s,%s,%d.%d,%d,%s,%s,%s\n' % (p, prac[p], pid, iso(d), s // 10, s % 10,
                                                    level(s), sex[p], dob[p], lsoa[p]))
by = {}
for p, pid, d, s in sorted(pam, key=lambda x: (x[0], x[2])):
    if iso(d) <= asof:
        by.setdefault(p, []).append(s)
with open(os.path.join(exp, 'pam_change.txt'), 'w') as f:
    for lv in (1, 2, 3, 4):
        ppl = [v for v in by.values() if level(v[0]) == lv]
        two = [v for v in ppl if len(v) >= 2]
        mc = sum(v[-1] - v[0] for v in two) / len(two) / 10 if two else 0
        f.write('%d|%d|%d|%.4f\n' % (lv, len(ppl), len(two), mc))

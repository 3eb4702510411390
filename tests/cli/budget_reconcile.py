# Checks yoc reconcile's challenges independently of yoc tag: the exported
# activity (yoc export, KIND -> record key -> pseudonym) and the cohort
# register give, for each billing line, whether it bills a member's activity
# dated inside a membership (every billed kind is inside the default service
# map); duplicates come from the synthetic truth. Prints: truth duplicates,
# duplicates found, exact match, capitated expected, exact match, unexpected.
# usage: budget_reconcile.py DB BILLING_DIR TRUTH_CSV CHALLENGE_DIR EXPORT_DIR
import csv, glob, os, sqlite3, sys
db, billing, truth, out, exp = sys.argv[1:6]
KEY = {'apc': 'SUSSPELLID', 'op': 'ATTENDKEY', 'ae': 'AEKEY', 'community': 'CONTACTKEY'}
who = {}
for k, col in KEY.items():
    for r in csv.DictReader(open(os.path.join(exp, k + '.csv'))):
        if r.get('PSEUDO_ID') and r.get(col):
            who[(k, r[col])] = r['PSEUDO_ID']
spans = {}
for p, j, l in sqlite3.connect(db).execute("select pseudo_id, join_date, leave_date from cohort_register where cohort='frailty'"):
    spans.setdefault(p, []).append((j, l or '9999-12-31'))
seen, want_cap = set(), set()
for f in sorted(glob.glob(os.path.join(billing, '**', '*.csv'), recursive=True)):
    for r in csv.DictReader(open(f)):
        k = (r['KIND'], r['RECORD_KEY'])
        if k in seen:
            continue
        seen.add(k)
        p = who.get(k)
        if p and any(j <= r['ACTIVITY_DATE'] <= l for j, l in spans.get(p, [])):
            want_cap.add(r['LINE_ID'])
dup_truth = {r['line_id'] for r in csv.DictReader(open(truth))}
got = {}
for f in glob.glob(os.path.join(out, 'challenges_*.csv')):
    for r in csv.DictReader(open(f)):
        got[r['LINE_ID'] if 'LINE_ID' in r else r['line_id']] = r['reason']
dups = {k for k, v in got.items() if v == 'duplicate'}
caps = {k for k, v in got.items() if v == 'capitated'}
print(len(dup_truth), len(dups), dups == dup_truth, len(want_cap) > 0, caps == want_cap, len(set(got) - dup_truth - want_cap))

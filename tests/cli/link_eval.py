#!/usr/bin/env python3
"""Scores a yoc link output against the synthetic truth (independent of yoc).

usage: link_eval.py SYNTH_DIR LINK_OUT [--json]
SYNTH_DIR/truth/link.csv says whose each row with a lost NHS number is;
LINK_OUT/.link/links.csv says what yoc link decided. Paths in the truth are
relative to SYNTH_DIR ("feeds/apc/..."), in the ledger to --in (SYNTH_DIR/feeds).
A file sent twice (_v2) carries the same rows as its first copy.
Prints precision and recall of the links (recall of linkable rows: those
whose person has a register row with a valid NHS number; and of all rows) (automatic and clerical), the
review band, and the emergency admissions (APC ADMIMETH 21-2D, first
episode) that reach the right person.
"""
import csv, json, os, sys

synth, out = sys.argv[1], sys.argv[2]
truth = {}
for r in csv.DictReader(open(os.path.join(synth, 'truth', 'link.csv'))):
    f = r['file'][len('feeds/'):]
    truth[(f, int(r['row']))] = r['nhs_number']
    truth[(f.replace('.csv', '_v2.csv'), int(r['row']))] = r['nhs_number']

def mod11(s):
    if len(s) != 10 or not s.isdigit() or len(set(s)) == 1:
        return False
    c = 11 - sum(int(d) * (10 - i) for i, d in enumerate(s[:9])) % 11
    c = 0 if c == 11 else c
    return c != 10 and c == int(s[9])

# Linkable: the person has a register row with a valid NHS number.
import glob
register = set()
for p in glob.glob(os.path.join(synth, 'feeds', 'gp_register', '*.csv')):
    with open(p) as fh:
        next(fh, None)
        for line in fh:
            v = line.split(',', 1)[0]
            if mod11(v):
                register.add(v)

led = list(csv.DictReader(open(os.path.join(out, '.link', 'links.csv'))))
n = len(led)
linked = [r for r in led if r['status'] in ('linked', 'clerical')]
right = sum(1 for r in linked if truth.get((r['file'], int(r['row']))) == r['nhs_number'])
in_truth = sum(1 for r in led if (r['file'], int(r['row'])) in truth)
linkable = sum(1 for r in led if truth.get((r['file'], int(r['row']))) in register)
review = sum(1 for r in led if r['status'] == 'review')
unlinked = sum(1 for r in led if r['status'] == 'unlinked')

# Emergency admissions among linked apc rows: first episode of an emergency spell.
emerg_total = emerg_right = 0
for r in led:
    if not r['file'].startswith('apc/'):
        continue
    rows = getattr(sys.modules[__name__], '_cache', {})
    path = os.path.join(out, r['file'])
    if path not in rows:
        with open(path) as fh:
            rows[path] = fh.read().split('\n')
        sys.modules[__name__]._cache = rows
    hdr = rows[path][0].split(',')
    cells = rows[path][int(r['row'])].split(',')
    if len(cells) != len(hdr):
        continue
    row = dict(zip(hdr, cells))
    if row.get('ADMIMETH', '') in ('21', '22', '23', '24', '28', '2A', '2B', '2D') and row.get('EPIORDER') == '01':
        emerg_total += 1
        if r['status'] in ('linked', 'clerical') and truth.get((r['file'], int(r['row']))) == r['nhs_number']:
            emerg_right += 1

res = {
    'rows_to_link': n, 'rows_in_truth': in_truth, 'linked': len(linked), 'correct': right,
    'precision': right / len(linked) if linked else 1.0,
    'rows_linkable': linkable,
    'recall': right / linkable if linkable else 1.0,
    'recall_all_rows': right / in_truth if in_truth else 1.0,
    'review': review, 'review_share': review / n if n else 0.0, 'unlinked': unlinked,
    'emergency_admissions_to_link': emerg_total, 'emergency_admissions_linked_right': emerg_right,
}
if '--json' in sys.argv:
    print(json.dumps(res))
else:
    for k, v in res.items():
        print(f'{k}: {v:.4f}' if isinstance(v, float) else f'{k}: {v}')

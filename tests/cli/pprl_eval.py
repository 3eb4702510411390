#!/usr/bin/env python3
"""Prepares the two sides of a yoc pprl run from a synthetic economy, and
scores a match against the synthetic truth (independent of yoc).

usage: pprl_eval.py prep SYNTH_DIR OUT_DIR
         writes OUT_DIR/a.csv (the GP register, id NEWNHSNO), OUT_DIR/b.csv
         (the feed rows sent without a valid NHS number, one per distinct set
         of identifiers, id FILE:ROW) and OUT_DIR/truth.csv (b id, true NHS
         number), from SYNTH_DIR/truth/link.csv.
       pprl_eval.py score OUT_DIR PAIRS [T R M]
         precision and recall of the links in PAIRS (yoc pprl match --out),
         and, given the thresholds, the pairs that break them.
"""
import csv, glob, os, sys

IDS = ('DOB', 'SEX', 'GIVEN_NAME', 'FAMILY_NAME', 'POSTCODE')


def mod11(s):
    if len(s) != 10 or not s.isdigit() or len(set(s)) == 1:
        return False
    c = 11 - sum(int(d) * (10 - i) for i, d in enumerate(s[:9])) % 11
    c = 0 if c == 11 else c
    return c != 10 and c == int(s[9])


def prep(synth, out):
    os.makedirs(out, exist_ok=True)
    register = set()
    with open(os.path.join(out, 'a.csv'), 'w', newline='') as fa:
        w = csv.writer(fa, lineterminator='\n')
        w.writerow(('NEWNHSNO',) + IDS)
        for p in sorted(glob.glob(os.path.join(synth, 'feeds', 'gp_register', '*.csv'))):
            for r in csv.DictReader(open(p, newline='')):
                if not mod11(r['NEWNHSNO']):
                    continue
                register.add(r['NEWNHSNO'])
                w.writerow([r['NEWNHSNO']] + [r[k] for k in IDS])
    truth = [t for t in csv.DictReader(open(os.path.join(synth, 'truth', 'link.csv')))
             if os.path.exists(os.path.join(synth, t['file']))]  # files never sent aside
    want = {}
    for t in truth:
        want.setdefault(t['file'], set()).add(int(t['row']))
    cells = {}
    for f, rows in want.items():
        with open(os.path.join(synth, f), newline='') as fh:
            rd = csv.reader(fh)
            hdr = next(rd)
            for i, row in enumerate(rd, 1):
                if i in rows:
                    cells[(f, i)] = tuple(row[hdr.index(k)] for k in IDS)
    seen = set()
    with open(os.path.join(out, 'b.csv'), 'w', newline='') as fb, \
            open(os.path.join(out, 'truth.csv'), 'w', newline='') as ft:
        wb = csv.writer(fb, lineterminator='\n')
        wt = csv.writer(ft, lineterminator='\n')
        wb.writerow(('ID',) + IDS)
        wt.writerow(('b_id', 'nhs_number', 'linkable'))
        for t in truth:
            key = cells[(t['file'], int(t['row']))]
            if key in seen:
                continue  # the same identifiers again: one record
            seen.add(key)
            bid = '%s:%s' % (t['file'][len('feeds/'):], t['row'])
            wb.writerow((bid,) + key)
            wt.writerow((bid, t['nhs_number'], int(t['nhs_number'] in register)))


def score(out, pairs, thr=None):
    truth = {r['b_id']: r for r in csv.DictReader(open(os.path.join(out, 'truth.csv')))}
    links = right = review = 0
    bad_thr = 0
    linked_b, linked_a = set(), {}
    dup_b = 0
    for r in csv.DictReader(open(pairs)):
        s, second = float(r['similarity']), float(r['second'])
        if r['status'] == 'link':
            links += 1
            if r['b_id'] in linked_b:
                dup_b += 1
            linked_b.add(r['b_id'])
            linked_a[r['a_id']] = linked_a.get(r['a_id'], 0) + 1
            if truth.get(r['b_id'], {}).get('nhs_number') == r['a_id']:
                right += 1
            if thr and not (s >= thr[0] - 1e-9 and s - second >= thr[2] - 1e-9):
                bad_thr += 1
        else:
            review += 1
            if thr and not (s >= thr[1] - 1e-9 and (s < thr[0] or s - second < thr[2] + 1e-9)):
                bad_thr += 1
    linkable = sum(1 for r in truth.values() if r['linkable'] == '1')
    print('records_b: %d' % len(truth))
    print('linkable: %d' % linkable)
    print('links: %d' % links)
    print('right: %d' % right)
    print('precision: %.4f' % (right / links if links else 0))
    print('recall: %.4f' % (right / linkable if linkable else 0))
    print('review: %d' % review)
    print('threshold_breaks: %d' % bad_thr)
    print('b_linked_twice: %d' % dup_b)
    print('a_linked_twice: %d' % sum(1 for v in linked_a.values() if v > 1))


if __name__ == '__main__':
    if sys.argv[1] == 'prep':
        prep(sys.argv[2], sys.argv[3])
    else:
        thr = tuple(float(x) for x in sys.argv[4:7]) if len(sys.argv) >= 7 else None
        score(sys.argv[2], sys.argv[3], thr)

#!/usr/bin/env python3
"""Writes a small pseudonymised feed tree for the load and kill tests, with
known defects, and prints the expected counts as JSON (independent of yoc).

usage: feedgen.py OUTDIR PERSONS MONTHS [ROWS_PER_FILE] [SEED]
Files: OUTDIR/gp_register/GPREG_2023-01.csv, OUTDIR/apc/<PROV>_<yyyy-mm>.csv,
OUTDIR/op/<PROV>_<yyyy-mm>.csv (feed names as docs/data-spec.md asks). Test support only."""
import json, os, random, sys

out, persons, months = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows_per = int(sys.argv[4]) if len(sys.argv) > 4 else 200
rnd = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 7)

def pid(i):
    return ('%08x' % (i * 2654435761 % 2**32)) * 8

exp = {"files": {}, "register": 0}
os.makedirs(out + '/gp_register', exist_ok=True)
os.makedirs(out + '/apc', exist_ok=True)
os.makedirs(out + '/op', exist_ok=True)
with open(out + '/gp_register/GPREG_2023-01.csv', 'w') as f:
    f.write('PSEUDO_ID,NHSNO_STATUS,GPPRAC,REG_START,REG_END,SEX,MYDOB,LSOA11,IMD_DECILE\n')
    for i in range(persons):
        f.write('%s,valid,P%05d,2010-01-01,,%d,%02d%04d,E0100%04d,%d\n' % (
            pid(i), 1 + i % 50, 1 + i % 2, 1 + i % 12, 1930 + i % 80, i % 999, 1 + i % 10))
    exp["register"] = persons
meths = ['11', '12', '21', '22', '13']
for m in range(months):
    y, mo = 2023 + (m // 12), 1 + m % 12
    for prov in ('RXA', 'RXB'):
        for kind in ('apc', 'op'):
            name = '%s/%s/%s_%04d-%02d.csv' % (out, kind, prov, y, mo)
            e = {"rows": 0, "quarantined": 0, "linked": 0, "no_pseudonym": 0,
                 "not_registered": 0, "reasons": {}, "flags": {}}
            with open(name, 'w') as f:
                if kind == 'apc':
                    f.write('PSEUDO_ID,NHSNO_STATUS,EPIKEY,EPISTART,EPIEND,ADMIMETH,CLASSPAT,EPIORDER,SUSHRG,PROCODE3\n')
                else:
                    f.write('PSEUDO_ID,NHSNO_STATUS,ATTENDKEY,APPTDATE,ATTENDED,FIRSTATT,SUSHRG,PROCODE3\n')
                for r in range(rows_per):
                    e["rows"] += 1
                    d = '%04d-%02d-%02d' % (y, mo, 1 + r % 28)
                    who = rnd.randrange(persons)
                    p, st = pid(who), 'valid'
                    u = rnd.random()
                    defect = None
                    if u < 0.02:
                        defect = 'ragged'
                    elif u < 0.04:
                        defect = 'nodate'
                    elif u < 0.06:
                        p, st = '', 'missing'
                    elif u < 0.08:
                        p = pid(persons + 1000 + r)  # not registered
                    elif u < 0.10:
                        defect = 'badcode'
                    key = '%s%04d%02d%06d' % (prov, y, mo, r)  # record key: rows are distinct
                    if kind == 'apc':
                        meth = 'Q9' if defect == 'badcode' else meths[r % 5]
                        cells = [p, st, key, '' if defect == 'nodate' else d, d, meth, '1', '1', 'FD05A', prov]
                    else:
                        att = 'Q' if defect == 'badcode' else '5'
                        cells = [p, st, key, '' if defect == 'nodate' else d, att, '1', 'WF01A', prov]
                    if defect == 'ragged':
                        cells = cells[:-2]
                    f.write(','.join(cells) + '\n')
                    if defect in ('ragged', 'nodate'):
                        e["quarantined"] += 1
                        code = 'csv_ragged_row' if defect == 'ragged' else 'missing_required'
                        e["reasons"][code] = e["reasons"].get(code, 0) + 1
                        continue
                    if defect == 'badcode':
                        e["flags"]["bad_code"] = e["flags"].get("bad_code", 0) + 1
                    if p == '':
                        e["no_pseudonym"] += 1
                    elif u >= 0.06 and u < 0.08:
                        e["not_registered"] += 1
                    else:
                        e["linked"] += 1
            exp["files"][os.path.abspath(name)] = e
print(json.dumps(exp))

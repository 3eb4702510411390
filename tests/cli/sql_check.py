# Independent checks for tests/cli/sql.sh, from `yoc export` CSVs and the
# catalog read with python's own sqlite3 (which cannot load the extension):
#   same EXPORT.csv SQL.csv MONEYCOLS   the SQL table equals the export row for row
#   filter EXPORT.csv [file=ID] [pseudo=a,b] [date=COL] [ge=D] [gt=D] [le=D] [lt=D] [eq=D]
#                                       file_id,line of the rows a filter keeps
#   join EXPORT_APC.csv DB              the join query of sql.sh, recomputed
import csv, sys, sqlite3
from decimal import Decimal


def rows(path):
    with open(path, newline='') as f:
        r = csv.reader(f)
        return next(r), list(r)


def same(exp_path, sql_path, money):
    money = {m for m in money.split(',') if m}
    eh, er = rows(exp_path)
    sh, sr = rows(sql_path)
    # export: _FILE_ID, _LINE, then its columns; the table: file_id, line, then its own
    names = {'_FILE_ID': 'FILE_ID', '_LINE': 'LINE'}
    ekey = [names.get(h, h).upper() for h in eh]
    skey = [h.upper() for h in sh]
    if len(er) != len(sr):
        return 'rows: export %d, sql %d' % (len(er), len(sr))
    missing = [k for k in ekey if k not in skey]
    if missing:
        return 'columns missing from the table: %s' % missing
    pos = {k: i for i, k in enumerate(skey)}
    extra = [k for k in skey if k not in ekey]
    for n, (a, b) in enumerate(zip(er, sr)):
        for k, v in zip(ekey, a):
            w = b[pos[k]]
            if k in money and v != '':
                if w == '' or Decimal(v) * 100 != Decimal(w):
                    return 'row %d %s: export %r, sql %r (pence)' % (n + 1, k, v, w)
            elif v != w:
                return 'row %d %s: export %r, sql %r' % (n + 1, k, v, w)
        for k in extra:  # fields the files do not carry read as NULL
            if b[pos[k]] != '':
                return 'row %d %s: %r not in the export' % (n + 1, k, b[pos[k]])
    return 'ok %d' % len(er)


def filt(exp_path, args):
    eh, er = rows(exp_path)
    opt = dict(a.split('=', 1) for a in args)
    pseudo = set(opt['pseudo'].split(',')) if 'pseudo' in opt else None
    di = eh.index(opt['date']) if 'date' in opt else None
    pi = eh.index('PSEUDO_ID')
    out = []
    for r in er:
        if 'file' in opt and r[0] != opt['file']:
            continue
        if pseudo is not None and r[pi] not in pseudo:
            continue
        if di is not None:
            d = r[di]
            if d == '':
                continue  # NULL: no comparison holds
            if ('ge' in opt and not d >= opt['ge']) or ('gt' in opt and not d > opt['gt']) or \
               ('le' in opt and not d <= opt['le']) or ('lt' in opt and not d < opt['lt']) or \
               ('eq' in opt and d != opt['eq']):
                continue
        out.append('%s,%s' % (r[0], r[1]))
    return '\n'.join(out)


def join(exp_path, db):
    # per register member: the member's 2022/23 apc episodes, with person_year and risk_score
    eh, er = rows(exp_path)
    pi, di = eh.index('PSEUDO_ID'), eh.index('EPISTART')
    c = sqlite3.connect(db)
    reg = {p for (p,) in c.execute("select pseudo_id from cohort_register where cohort = 'frailty'")}
    py = {p: (b, e) for p, b, e in c.execute(
        "select pseudo_id, band, emergency_admissions from person_year where fyear = '2022/23'")}
    rs = {p: t for p, t in c.execute("select pseudo_id, tier from risk_score where fyear = '2022/23'")}
    n = {}
    for r in er:
        p = r[pi]
        if p in reg and p in py and '2022-04-01' <= r[di] <= '2023-03-31':
            n[p] = n.get(p, 0) + 1
    out = ['%s|%s|%d|%s|%d' % (p, py[p][0], py[p][1], rs.get(p, ''), n[p]) for p in sorted(n)]
    return '\n'.join(out)


if __name__ == '__main__':
    mode = sys.argv[1]
    if mode == 'same':
        print(same(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else ''))
    elif mode == 'filter':
        print(filt(sys.argv[2], sys.argv[3:]))
    elif mode == 'join':
        print(join(sys.argv[2], sys.argv[3]))

#!/bin/sh
# yoc evaluate --method optimal against an independent solver: the
# propensity score refitted in python3 (numpy, the IRLS of R's glm with its
# start and stopping rule, which reproduces yoc's scores), the cost matrix |score_t - score_c| solved by
# scipy.optimize.linear_sum_assignment (treated rows repeated K times for
# 1:K, a dummy column per copy for leaving it unmatched, at a penalty above
# any total distance, and for a person's first copy above all other
# penalties together; forbidden pairs, beyond the caliper or across exact
# strata, above every dummy: so the number of treated people matched is
# maximised first, then the number of pairs, then the distance). On generated data without ties: the total distance
# equals scipy's to 1e-9 and the same people are matched (paired in score
# order within strata, as yoc reports them: on a line an optimum fixes who
# is matched, not who with whom); with a caliper the
# number matched is scipy's maximum; optimal's total distance is never above
# greedy nearest's and is below it here; exact strata are respected;
# shuffled rows give the same pairs; the effect and bootstrap run on the
# optimal sets; bad inputs get clear messages. docs/evaluation.md.
. "$(dirname "$0")/lib.sh"
# Debian's python3-scipy is for the system python3, which a python3 first
# on the PATH may not see.
PY=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import numpy, scipy.optimize' >/dev/null 2>&1; then
		PY=$p; break
	fi
done
if [ -z "$PY" ]; then
	skip "evaluate --method optimal vs scipy" "python3-scipy not installed (make deps)"
	done_testing; exit 0
fi
cd "$TMP" || exit 1
"$PY" - <<'PEOF'
import math, random
r = random.Random(29)
n = 500
with open('d.csv', 'w') as f:
    f.write('id,treat,x1,x2,x3,g,y,pre\n')
    for i in range(n):
        x1, x2, x3 = r.gauss(0, 1), r.random(), r.gauss(0, 1)
        g = 1 if r.random() < 0.4 else 0
        lp = -0.9 + 0.9 * x1 - 0.8 * x2 + 0.4 * x3 + 0.3 * g
        t = 1 if r.random() < 1 / (1 + math.exp(-lp)) else 0
        y = 2 + x1 + 0.5 * x2 + 1.5 * t + r.gauss(0, 1)
        pre = 1 + x1 + r.gauss(0, 1)
        f.write('q%04d,%d,%.15g,%.15g,%.15g,%d,%.15g,%.15g\n' % (i, t, x1, x2, x3, g, y, pre))
PEOF

# The reference: scores refitted here, the assignment by scipy.
cat > ref.py <<'PEOF'
import csv, sys
import numpy as np
from scipy.optimize import linear_sum_assignment

def scores(path, cov):
    """The logistic regression by the IRLS of R's glm: its start and its stopping rule."""
    rows = list(csv.DictReader(open(path)))
    X = np.array([[1.0] + [float(r[c]) for c in cov] for r in rows])
    y = np.array([float(r['treat']) for r in rows])
    mu = (y + 0.5) / 2
    eta = np.log(mu / (1 - mu))
    dev = lambda mu: -2 * np.sum(y * np.log(mu) + (1 - y) * np.log(1 - mu))
    d0 = dev(mu)
    for _ in range(25):
        w = mu * (1 - mu)
        z = eta + (y - mu) / w
        eta = X @ np.linalg.solve(X.T @ (X * w[:, None]), X.T @ (w * z))
        mu = 1 / (1 + np.exp(-eta))
        d1 = dev(mu)
        if abs(d1 - d0) / (abs(d1) + 0.1) < 1e-8:
            break
        d0 = d1
    return rows, eta, mu

def sorted_pairs(pairs, rows, ps, exact):
    """The same people paired in score order within each stratum (the pairing
    yoc reports: on a line, who is matched is what an optimum fixes)."""
    at = {r['id']: i for i, r in enumerate(rows)}
    g = lambda i: rows[at[i]][exact] if exact else ''
    ts = sorted((g(t), ps[at[t]], t) for t, _ in pairs)
    cs = sorted((g(c), ps[at[c]], c) for _, c in pairs)
    assert all(a[0] == b[0] for a, b in zip(ts, cs))
    return sorted((a[2], b[2]) for a, b in zip(ts, cs))

def reference(path, cov, ratio, caliper, exact):
    """The matched pairs (treated id, control id) and their total distance."""
    rows, lps, ps = scores(path, cov)
    t = [i for i, r in enumerate(rows) if r['treat'] == '1']
    c = [i for i, r in enumerate(rows) if r['treat'] == '0']
    w = caliper * np.std(lps, ddof=1) if caliper > 0 else 0
    tr = [i for i in t for _ in range(ratio)]
    first = np.array([k % ratio == 0 for k in range(len(tr))])
    D = np.abs(ps[tr][:, None] - ps[c][None, :])
    bad = np.zeros(D.shape, dtype=bool)
    if w > 0:
        bad |= np.abs(lps[tr][:, None] - lps[c][None, :]) > w
    if exact:
        g = np.array([r[exact] for r in rows])
        bad |= g[tr][:, None] != g[c][None, :]
    # a copy left unmatched goes to a dummy column: p1 is above any total
    # distance (a pair costs at most 1), p0 (a treated person's first copy)
    # above all p1 together; a forbidden pair costs more than any dummy
    p1 = len(tr) + 1.0
    p0 = p1 * (len(tr) + 1)
    dummy = np.repeat(np.where(first, p0, p1)[:, None], len(tr), axis=1)
    a, b = linear_sum_assignment(np.hstack([np.where(bad, 4 * p0, D), dummy]))
    ok = [(i, j) for i, j in zip(a, b) if j < len(c) and not bad[i, j]]
    pairs = sorted((rows[tr[i]]['id'], rows[c[j]]['id']) for i, j in ok)
    return pairs, sum(D[i, j] for i, j in ok), rows, ps

def yoc_pairs(path):
    return sorted((r['treated'], r['control']) for r in csv.DictReader(open(path)))

def total(pairs, rows, ps):
    at = {r['id']: i for i, r in enumerate(rows)}
    return sum(abs(ps[at[x]] - ps[at[y]]) for x, y in pairs)

if __name__ == '__main__':
    # ref.py data pairs.csv ratio caliper exact what
    data, got, ratio, caliper, exact, what = sys.argv[1:7]
    cov = ['x1', 'x2', 'x3'] + ([exact] if exact != '-' else [])
    want, dist, rows, ps = reference(data, cov, int(ratio), float(caliper),
                                     exact if exact != '-' else None)
    mine = yoc_pairs(got)
    mdist = total(mine, rows, ps)
    if what == 'distance':
        print('yoc %.12f scipy %.12f (%d and %d pairs)' % (mdist, dist, len(mine), len(want)))
        sys.exit(not (len(mine) == len(want) and abs(mdist - dist) <= 1e-9))
    if what == 'set':
        ex = exact if exact != '-' else None
        sys.exit(mine != sorted_pairs(want, rows, ps, ex) or mine != sorted_pairs(mine, rows, ps, ex))
    if what == 'count':
        print('yoc %d pairs, scipy %d' % (len(mine), len(want)))
        sys.exit(len(mine) != len(want))
    sys.exit(2)
PEOF

EV="--treat treat --covariates x1,x2,x3 --outcome y --id id"
dist_of() { sed -n 's/^total distance: //p' "$1"; }

"$YOC" evaluate --csv d.csv $EV --method optimal --pairs o1.csv > o1.txt 2>&1
same "evaluate --method optimal runs" "$?" 0
check "the pairs file's scores equal the refitted scores to 1e-9" "$PY" -c "
import csv, sys
sys.path.insert(0, '.')
from ref import scores
rows, lps, ps = scores('d.csv', ['x1', 'x2', 'x3'])
at = {r['id']: i for i, r in enumerate(rows)}
bad = 0
for r in csv.DictReader(open('o1.csv')):
    bad += int(abs(float(r['score_treated']) - ps[at[r['treated']]]) > 1e-9)
    bad += int(abs(float(r['score_control']) - ps[at[r['control']]]) > 1e-9)
sys.exit(bad)"
check "1:1 optimal: the total distance equals scipy's to 1e-9" "$PY" ref.py d.csv o1.csv 1 0 - distance
check "1:1 optimal: the matched set equals scipy's" "$PY" ref.py d.csv o1.csv 1 0 - set
check "1:1 optimal: the printed total distance is that of the pairs" "$PY" -c "
import sys
sys.path.insert(0, '.')
from ref import scores, yoc_pairs, total
rows, lps, ps = scores('d.csv', ['x1', 'x2', 'x3'])
sys.exit(int(abs(total(yoc_pairs('o1.csv'), rows, ps) - float('$(dist_of o1.txt)')) > 1e-9))"

"$YOC" evaluate --csv d.csv $EV --pairs n1.csv > n1.txt 2>&1
on=$(dist_of o1.txt); nn=$(dist_of n1.txt)
check "1:1: optimal's total distance ($on) is below greedy nearest's ($nn)" \
	"$PY" -c "import sys; sys.exit(not float('$on') < float('$nn') - 1e-12)"

"$YOC" evaluate --csv d.csv $EV --method optimal --ratio 2 --pairs o2.csv > o2.txt 2>&1
check "1:2 optimal: the total distance equals scipy's to 1e-9" "$PY" ref.py d.csv o2.csv 2 0 - distance
check "1:2 optimal: the matched set equals scipy's" "$PY" ref.py d.csv o2.csv 2 0 - set
"$YOC" evaluate --csv d.csv $EV --ratio 2 > n2.txt 2>&1
on=$(dist_of o2.txt); nn=$(dist_of n2.txt)
check "1:2: optimal's total distance ($on) is at most nearest's ($nn)" \
	"$PY" -c "import sys; sys.exit(not float('$on') <= float('$nn'))"

# a caliper: as many pairs as can be made within it, then the least distance
"$YOC" evaluate --csv d.csv $EV --method optimal --caliper 0.05 --json --pairs oc.csv > oc.txt 2>&1
check "caliper 0.05: the number matched is scipy's maximum" "$PY" ref.py d.csv oc.csv 1 0.05 - count
check "caliper 0.05: the total distance equals scipy's to 1e-9" "$PY" ref.py d.csv oc.csv 1 0.05 - distance
check "caliper 0.05: the matched set equals scipy's" "$PY" ref.py d.csv oc.csv 1 0.05 - set
check "caliper 0.05: the dropped are counted (matched + dropped = treated)" "$PY" -c "
import json, sys
j = json.loads(open('oc.txt').read().splitlines()[-1])
sys.exit(not (j['dropped_caliper'] > 0 and
              j['matched_sets'] + j['dropped_caliper'] + j['dropped_no_control'] == j['treated']))"
"$YOC" evaluate --csv d.csv $EV --caliper 0.05 --json > nc.txt 2>&1
check "caliper 0.05: optimal matches at least as many as nearest, or as many at no more distance" \
	"$PY" -c "
import json, sys
o = json.loads(open('oc.txt').read().splitlines()[-1])
g = json.loads(open('nc.txt').read().splitlines()[-1])
sys.exit(not (o['matched_sets'] > g['matched_sets'] or
              (o['matched_sets'] == g['matched_sets'] and o['distance'] <= g['distance'])))"
"$YOC" evaluate --csv d.csv $EV --method optimal --caliper 0.2 --ratio 3 --pairs oc3.csv > /dev/null 2>&1
check "1:3 with caliper 0.2: the number of pairs is scipy's" "$PY" ref.py d.csv oc3.csv 3 0.2 - count
check "1:3 with caliper 0.2: the total distance equals scipy's to 1e-9" "$PY" ref.py d.csv oc3.csv 3 0.2 - distance
check "1:3 with caliper 0.2: the same people matched as scipy" "$PY" ref.py d.csv oc3.csv 3 0.2 - set
"$YOC" evaluate --csv d.csv $EV --method optimal --ratio 3 --pairs o3n.csv > /dev/null 2>&1
check "1:3 with too few controls: the total distance equals scipy's to 1e-9" "$PY" ref.py d.csv o3n.csv 3 0 - distance

# 1:3 asks for more controls than there are: every treated person who can be
# matched is matched (the most treated people first, then pairs)
"$YOC" evaluate --csv d.csv $EV --method optimal --ratio 3 --json > o3.txt 2>&1
check "1:3 with too few controls: every treated person matched, every control used" "$PY" -c "
import csv, json, sys
rows = list(csv.DictReader(open('d.csv')))
nt = sum(r['treat'] == '1' for r in rows)
j = json.loads(open('o3.txt').read().splitlines()[-1])
print(j['matched_sets'], nt, j['controls_used'], len(rows) - nt)
sys.exit(not (3 * nt > len(rows) - nt and j['matched_sets'] == nt and
              j['controls_used'] == len(rows) - nt))"

# exact strata
"$YOC" evaluate --csv d.csv --treat treat --covariates x1,x2,x3,g --outcome y --id id \
	--exact g --method optimal --pairs oe.csv > oe.txt 2>&1
check "--exact g: every pair within one stratum" "$PY" -c "
import csv, sys
g = {r['id']: r['g'] for r in csv.DictReader(open('d.csv'))}
sys.exit(any(g[r['treated']] != g[r['control']] for r in csv.DictReader(open('oe.csv'))))"
check "--exact g: the total distance equals scipy's within strata to 1e-9" "$PY" ref.py d.csv oe.csv 1 0 g distance
check "--exact g: the matched set equals scipy's" "$PY" ref.py d.csv oe.csv 1 0 g set

# row order does not change the pairs
"$PY" -c "
import random
l = open('d.csv').read().splitlines(); h, b = l[0], l[1:]
random.Random(5).shuffle(b); open('shuf.csv', 'w').write('\n'.join([h] + b) + '\n')"
for cfg in "1:" "2:--ratio 2" "c:--caliper 0.05"; do
	name=${cfg%%:*}; extra=${cfg#*:}
	"$YOC" evaluate --csv d.csv $EV --method optimal $extra --pairs a_$name.csv >/dev/null 2>&1
	"$YOC" evaluate --csv shuf.csv $EV --method optimal $extra --pairs b_$name.csv >/dev/null 2>&1
	check "shuffled rows: the same matched set (optimal ${extra:-1:1})" "$PY" -c "
import sys
sys.path.insert(0, '.')
from ref import yoc_pairs
a, b = yoc_pairs('a_$name.csv'), yoc_pairs('b_$name.csv')
sys.exit(not a or a != b)"
done

# the effect, balance and bootstrap on the optimal sets
"$YOC" evaluate --csv d.csv $EV --method optimal --pre pre --boot 300 > od.txt 2>&1
check "difference in differences with its bootstrap interval on the optimal sets" \
	grep -q 'matched difference in differences.*95% CI' od.txt
est=$(sed -n 's/^estimate //p' o1.txt)
check "the 1:1 estimate is the mean difference over the optimal pairs ($est)" "$PY" -c "
import csv, sys
y = {r['id']: float(r['y']) for r in csv.DictReader(open('d.csv'))}
p = list(csv.DictReader(open('o1.csv')))
want = sum(y[r['treated']] - y[r['control']] for r in p) / len(p)
sys.exit(abs(want - float('$est')) > 1e-9)"

# bad inputs
expect_rc 2 "--method optimal --replace is refused" "$YOC" evaluate --csv d.csv $EV --method optimal --replace
check "... saying it is nearest with replacement" grep -q "method nearest --replace" "$TMP/.err"
expect_rc 2 "--method full is refused" "$YOC" evaluate --csv d.csv $EV --method full
check "... naming the methods offered" grep -q "use optimal" "$TMP/.err"
expect_rc 2 "an unknown method is refused" "$YOC" evaluate --csv d.csv $EV --method best
check "... by name" grep -q "nearest or optimal, not 'best'" "$TMP/.err"
expect_rc 1 "optimal with a caliper that drops everyone fails" \
	"$YOC" evaluate --csv d.csv $EV --method optimal --caliper 0.0000001
check "... counting those without a control within the caliper" grep -q "no control within the caliper" "$TMP/.err"
done_testing

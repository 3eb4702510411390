#!/bin/sh
# Benchmark: matching 10,000 treated among 1,000,000 controls (yoc evaluate
# --csv: logistic propensity score, greedy 1:1 nearest neighbour without
# replacement, from the largest score down) next to R MatchIt's
# matchit(method = "nearest") on the same CSV in the same run. Goal: yoc at
# least 20x faster (wall clock), same pairs. Same pairs are checked against
# an independent greedy matcher in python3 run on MatchIt's own scores
# (MatchIt 4.5.1, Debian bookworm, takes the lower-score neighbour whenever
# one exists: its C++ compares abs() of doubles as integers, fixed in 4.5.2,
# so its pairs are compared directly only from 4.5.2). Then yoc's optimal
# pair matching (--method optimal) on the same data: its time and its total
# distance next to nearest's. BENCH_EVAL_CONTROLS and BENCH_EVAL_TREATED
# change the sizes; BENCH_EVAL_R=0 leaves out R.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
YOC=${YOC:-$ROOT/build/yoc}
NC=${BENCH_EVAL_CONTROLS:-1000000}
NT=${BENCH_EVAL_TREATED:-10000}
D=bench/data/evaluate
mkdir -p "$D"
if [ "${BENCH_EVAL_R:-1}" = 0 ]; then
	HAVE_R=0
elif ! Rscript -e 'suppressMessages(library(MatchIt))' >/dev/null 2>&1; then
	echo "evaluate: R MatchIt not installed (r-cran-matchit); yoc alone:"
	HAVE_R=0
else
	HAVE_R=1
fi
if [ ! -s "$D/m_${NT}_${NC}.csv" ]; then
	python3 - "$NT" "$NC" "$D/m_${NT}_${NC}.csv" <<'PEOF'
import math, random, sys
nt, nc, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
r = random.Random(16)
with open(out, 'w') as f:
    f.write('id,treat,x1,x2,x3,x4,x5,y\n')
    rows = []
    n = nt + nc
    # treated drawn with odds exp(lp) among n people: a realistic overlap
    keys = []
    for i in range(n):
        x = [r.gauss(0, 1), r.random(), r.gauss(0, 1), r.random(), r.gauss(0, 0.5)]
        lp = 0.6 * x[0] - 0.8 * x[1] + 0.4 * x[2] + 0.3 * x[3] + 0.5 * x[4]
        keys.append((r.random() ** (1.0 / math.exp(lp)), i))
        rows.append(x)
    treated = {i for _, i in sorted(keys, reverse=True)[:nt]}
    for i, x in enumerate(rows):
        t = 1 if i in treated else 0
        y = 1 + x[0] + 0.5 * x[1] + 0.2 * t + r.gauss(0, 1)
        f.write('p%07d,%d,%.12g,%.12g,%.12g,%.12g,%.12g,%.6g\n' % (i, t, *x, y))
PEOF
fi
CSV="$D/m_${NT}_${NC}.csv"
echo "data: $NT treated, $NC controls, 5 covariates ($CSV)"
t0=$(date +%s.%N)
"$YOC" evaluate --csv "$CSV" --treat treat --covariates x1,x2,x3,x4,x5 --outcome y --id id \
	--boot 200 --pairs "$D/yoc_pairs.csv" > "$D/yoc.txt" || exit 1
t1=$(date +%s.%N)
ty=$(echo "$t1 - $t0" | bc)
echo "yoc evaluate --csv: ${ty}s (read, score, match, balance, 200 bootstrap replicates)"
t0=$(date +%s.%N)
"$YOC" evaluate --csv "$CSV" --treat treat --covariates x1,x2,x3,x4,x5 --outcome y --id id \
	--boot 200 --method optimal --pairs "$D/yoc_opt_pairs.csv" > "$D/yoc_opt.txt" || exit 1
t1=$(date +%s.%N)
to=$(echo "$t1 - $t0" | bc)
dn=$(sed -n 's/^total distance: //p' "$D/yoc.txt")
do=$(sed -n 's/^total distance: //p' "$D/yoc_opt.txt")
echo "yoc evaluate --csv --method optimal: ${to}s (the same steps, optimal pair matching)"
echo "total distance |score_t - score_c|: nearest $dn, optimal $do ($(echo "scale=4; 100 * ($dn - $do) / $dn" | bc)% less)"
[ "$HAVE_R" = 1 ] || exit 0
cat > "$D/m.R" <<'REOF'
suppressMessages(library(MatchIt))
a <- commandArgs(TRUE)
d <- read.csv(a[1])
t0 <- Sys.time()
m <- matchit(treat ~ x1 + x2 + x3 + x4 + x5, data = d, method = "nearest")
t1 <- Sys.time()
mm <- m$match.matrix
write.csv(data.frame(t = d$id[as.integer(rownames(mm))], c = d$id[as.integer(mm[, 1])]),
	  a[2], row.names = FALSE, quote = FALSE)
write.csv(data.frame(id = d$id, treat = d$treat, ps = sprintf("%.17g", m$distance)), a[3],
	  row.names = FALSE, quote = FALSE)
cat(sprintf("%.3f %s\n", as.numeric(difftime(t1, t0, units = "secs")), packageVersion("MatchIt")))
REOF
t0=$(date +%s.%N)
out=$(Rscript "$D/m.R" "$CSV" "$D/r_pairs.csv" "$D/r_ps.csv") || exit 1
t1=$(date +%s.%N)
tr=$(echo "$t1 - $t0" | bc)
set -- $out
echo "R MatchIt $2 matchit(method = \"nearest\"): ${1}s (${tr}s with reading the CSV)"
echo "ratio: MatchIt / yoc = $(echo "scale=1; $1 / $ty" | bc)x (matching alone in R, everything in yoc; goal >= 20x)"
python3 - "$D" "$2" <<'PEOF'
import bisect, csv, sys
d, ver = sys.argv[1], sys.argv[2]
ps = [(r['id'], int(r['treat']), float(r['ps'])) for r in csv.DictReader(open(d + '/r_ps.csv'))]
# independent greedy nearest on MatchIt's scores: treated from the largest score down,
# the control with the nearest score (ties to the lower), without replacement
ctrl = sorted((p, i) for i, t, p in ps if t == 0)
keys = [p for p, _ in ctrl]
pairs = {}
for p, i in sorted(((p, i) for i, t, p in ps if t == 1), reverse=True):
    k = bisect.bisect_left(keys, p)
    cand = [j for j in (k - 1, k) if 0 <= j < len(keys)]
    j = min(cand, key=lambda j: (abs(keys[j] - p), j))
    c = ctrl.pop(j); keys.pop(j)
    pairs[i] = c[1]
yoc = {r['treated']: r['control'] for r in csv.DictReader(open(d + '/yoc_pairs.csv'))}
same = sum(yoc.get(t) == c for t, c in pairs.items())
print("pairs: yoc equals the independent greedy matcher on MatchIt's scores for %d of %d treated"
      % (same, len(pairs)))
r = {row['t']: row['c'] for row in csv.DictReader(open(d + '/r_pairs.csv'))}
same_r = sum(yoc.get(t) == c for t, c in r.items())
print("pairs: yoc equals MatchIt %s for %d of %d treated%s" % (ver, same_r, len(r),
      "" if ver >= "4.5.2" else " (4.5.1 takes the lower neighbour: see above)"))
PEOF

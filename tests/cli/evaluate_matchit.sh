#!/bin/sh
# yoc evaluate --csv against R MatchIt (Debian r-cran-matchit) on data
# without ties: the matched sets of greedy nearest-neighbour matching on the
# logistic propensity score, treated from the largest score down, equal
# MatchIt's, and the estimate (difference of weighted means, from MatchIt's
# match.data weights) agrees to 1e-9. MatchIt 4.5.1 (Debian bookworm) takes
# the lower-score neighbour whenever one exists (its C++ compares
# abs(double) as integers; fixed upstream in 4.5.2, issue #163), so on that
# version the same greedy algorithm is run by MatchIt from the distance
# matrix |score_t - score_c| (its matrix code path, treated in data order =
# score order); from 4.5.2 the plain matchit(method = "nearest") call is
# compared as well. Also: ratio 2 and replacement through the same path, the
# balance table recomputed in python3, the bootstrap's reproducibility, row
# order, and bad inputs. docs/evaluation.md.
. "$(dirname "$0")/lib.sh"
if ! command -v Rscript >/dev/null 2>&1 || ! Rscript -e 'suppressMessages(library(MatchIt))' >/dev/null 2>&1; then
	skip "evaluate vs MatchIt" "R MatchIt (r-cran-matchit) not installed"; done_testing; exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
	skip "evaluate vs MatchIt" "python3 missing"; done_testing; exit 0
fi
cd "$TMP" || exit 1
cat > ref.R <<'REOF'
suppressMessages(library(MatchIt))
args <- commandArgs(TRUE)
set.seed(as.integer(args[1])); n <- as.integer(args[2])
x1 <- rnorm(n); x2 <- runif(n); x3 <- rbinom(n, 1, 0.4) + rnorm(n, 0, 0.01)
treat <- rbinom(n, 1, plogis(-1.2 + 0.8 * x1 - 0.7 * x2 + 0.5 * x3))
y <- 2 + x1 + 0.5 * x2 + 1.5 * treat + rnorm(n)
pre <- 1 + x1 + rnorm(n)
d <- data.frame(id = sprintf("p%05d", 1:n), treat, x1, x2, x3, y, pre)
write.csv(d, "d.csv", row.names = FALSE, quote = FALSE)
f <- treat ~ x1 + x2 + x3
ps <- fitted(glm(f, data = d, family = binomial))
pairs_of <- function(m, dd) {
	mm <- m$match.matrix
	out <- NULL
	for (k in seq_len(ncol(mm))) {
		ok <- !is.na(mm[, k])
		out <- rbind(out, data.frame(t = dd$id[match(rownames(mm)[ok], rownames(dd))],
					     c = dd$id[match(mm[ok, k], rownames(dd))]))
	}
	out[order(out$t, out$c), ]
}
est_of <- function(m, dd) {
	w <- m$weights
	weighted.mean(dd$y[dd$treat == 1], w[dd$treat == 1]) -
		weighted.mean(dd$y[dd$treat == 0], w[dd$treat == 0])
}
# greedy nearest through MatchIt's distance-matrix path: treated in score order
o <- order(-ps * d$treat, seq_len(n))
dd <- d[o, ]; rownames(dd) <- as.character(seq_len(n)); pso <- ps[o]
D <- abs(outer(pso[dd$treat == 1], pso[dd$treat == 0], "-"))
dimnames(D) <- list(rownames(dd)[dd$treat == 1], rownames(dd)[dd$treat == 0])
for (cfg in list(list("1", 1, FALSE), list("2", 2, FALSE), list("r2", 2, TRUE))) {
	m <- matchit(f, data = dd, method = "nearest", distance = D, ratio = cfg[[2]],
		     replace = cfg[[3]])
	write.csv(pairs_of(m, dd), paste0("r_pairs_", cfg[[1]], ".csv"), row.names = FALSE, quote = FALSE)
	cat(sprintf("%.17g\n", est_of(m, dd)), file = paste0("r_est_", cfg[[1]], ".txt"))
}
if (packageVersion("MatchIt") >= "4.5.2") {
	rownames(d) <- as.character(seq_len(n))
	m <- matchit(f, data = d, method = "nearest")
	write.csv(pairs_of(m, d), "r_pairs_default.csv", row.names = FALSE, quote = FALSE)
}
cat(sprintf("%.17g\n", ps), file = "r_ps.txt", sep = "")
REOF
Rscript ref.R 11 800 >r.log 2>&1
same "R generated the data and MatchIt's matched sets" "$?" 0

EV="--treat treat --covariates x1,x2,x3 --outcome y --id id"
pairs_sorted() { # yoc pairs file -> t,c sorted like R's
	python3 -c "
import csv,sys
r=sorted((x['treated'],x['control']) for x in csv.DictReader(open(sys.argv[1])))
print('t,c'); [print(a+','+b) for a,b in r]" "$1"
}
"$YOC" evaluate --csv d.csv $EV --pairs p1.csv > out1.txt 2>err1.txt
same "evaluate --csv runs" "$?" 0
pairs_sorted p1.csv > y1.csv
check "1:1 nearest: the matched set equals MatchIt's ($(($(wc -l < y1.csv) - 1)) pairs)" cmp -s y1.csv r_pairs_1.csv
est=$(sed -n 's/^estimate //p' out1.txt)
check "1:1 nearest: the estimate equals MatchIt's to 1e-9 ($est)" \
	python3 -c "import sys; sys.exit(abs(float('$est')-float(open('r_est_1.txt').read()))>1e-9)"
if [ -f r_pairs_default.csv ]; then
	check "1:1 nearest: equals matchit(method = \"nearest\") with defaults" cmp -s y1.csv r_pairs_default.csv
else
	skip "1:1 nearest: equals matchit(method = \"nearest\") with defaults" "MatchIt < 4.5.2 picks the lower neighbour (issue #163)"
fi
"$YOC" evaluate --csv d.csv $EV --ratio 2 --pairs p2.csv > out2.txt 2>&1
pairs_sorted p2.csv > y2.csv
check "1:2 nearest: the matched set equals MatchIt's" cmp -s y2.csv r_pairs_2.csv
est=$(sed -n 's/^estimate //p' out2.txt)
check "1:2 nearest: the estimate equals MatchIt's to 1e-9" \
	python3 -c "import sys; sys.exit(abs(float('$est')-float(open('r_est_2.txt').read()))>1e-9)"
"$YOC" evaluate --csv d.csv $EV --ratio 2 --replace --pairs pr.csv > outr.txt 2>&1
pairs_sorted pr.csv > yr.csv
check "1:2 with replacement: the matched set equals MatchIt's" cmp -s yr.csv r_pairs_r2.csv
est=$(sed -n 's/^estimate //p' outr.txt)
check "1:2 with replacement: the estimate equals MatchIt's to 1e-9" \
	python3 -c "import sys; sys.exit(abs(float('$est')-float(open('r_est_r2.txt').read()))>1e-9)"

# the propensity scores are R's glm fitted values
check "propensity scores equal R's glm to 1e-9" python3 -c "
import csv,sys
ps=[float(x) for x in open('r_ps.txt').read().split()]
ids=[r['id'] for r in csv.DictReader(open('d.csv'))]
pos={k:i for i,k in enumerate(ids)}
bad=0
for r in csv.DictReader(open('p1.csv')):
    bad+=abs(float(r['score_treated'])-ps[pos[r['treated']]])>1e-9
    bad+=abs(float(r['score_control'])-ps[pos[r['control']]])>1e-9
sys.exit(bad)"

# row order does not change the matched set (keys break ties)
python3 -c "
import random
l=open('d.csv').read().splitlines(); h,b=l[0],l[1:]
random.Random(3).shuffle(b); open('shuf.csv','w').write('\n'.join([h]+b)+'\n')"
"$YOC" evaluate --csv shuf.csv $EV --pairs ps.csv >/dev/null 2>&1
pairs_sorted ps.csv > ys.csv
check "shuffled rows: the same matched set" cmp -s ys.csv y1.csv

# balance recomputed independently
"$YOC" evaluate --csv d.csv $EV --ratio 2 --pairs p2.csv --balance bal.csv >/dev/null 2>&1
check "balance table: SMDs and variance ratios recomputed in python3" python3 - <<'PEOF'
import csv, math, sys
rows = list(csv.DictReader(open('d.csv')))
by = {r['id']: r for r in rows}
w = {}
sets = {}
for r in csv.DictReader(open('p2.csv')):
    sets.setdefault(r['set'], (r['treated'], []))[1].append(r['control'])
for t, cs in sets.values():
    w[t] = 1.0
    for c in cs:
        w[c] = w.get(c, 0.0) + 1.0 / len(cs)
bad = 0
def wm(xs, ws): return sum(x * v for x, v in zip(xs, ws)) / sum(ws)
def wv(xs, ws):
    m = wm(xs, ws); s = sum(ws); s2 = sum(v * v for v in ws)
    return sum(v * (x - m) ** 2 for x, v in zip(xs, ws)) * s / (s * s - s2)
for b in csv.DictReader(open('bal.csv')):
    k = b['covariate']
    t = [float(r[k]) for r in rows if r['treat'] == '1']
    c = [float(r[k]) for r in rows if r['treat'] == '0']
    sd = math.sqrt(wv(t, [1] * len(t)))
    before = (sum(t) / len(t) - sum(c) / len(c)) / sd
    tm = [(float(by[i][k]), v) for i, v in w.items() if by[i]['treat'] == '1']
    cm = [(float(by[i][k]), v) for i, v in w.items() if by[i]['treat'] == '0']
    after = (wm(*zip(*tm)) - wm(*zip(*cm))) / sd
    vr = wv(*zip(*tm)) / wv(*zip(*cm))
    for got, want in ((b['smd_before'], before), (b['smd_after'], after), (b['vr_after'], vr)):
        if abs(float(got) - want) > 1e-9:
            print(k, got, want); bad += 1
sys.exit(bad)
PEOF

# the bootstrap is reproducible with its seed
ci() { "$YOC" evaluate --csv d.csv $EV --pre pre --boot 400 "$@" 2>/dev/null | grep 'matched difference in differences'; }
a=$(ci --seed 5); b=$(ci --seed 5); c=$(ci --seed 6)
same "bootstrap: the same seed gives the same interval" "$a" "$b"
check "bootstrap: another seed gives another interval" test "$a" != "$c"
check "difference in differences and naive before/after are reported" \
	sh -c "\"$YOC\" evaluate --csv d.csv $EV --pre pre | grep -q 'naive before/after'"

# bad inputs: clear messages and counts
awk -F, 'BEGIN{OFS=","} NR==1{print $0",k"; next} {print $0",3"}' d.csv > const.csv
"$YOC" evaluate --csv const.csv --treat treat --covariates x1,k --outcome y > oc.txt 2>&1
check "a constant covariate is named and left out of the score" grep -q "covariate k is constant" oc.txt
expect_rc 1 "a caliper that drops everyone fails" "$YOC" evaluate --csv d.csv $EV --caliper 0.0000001
check "... saying how many were beyond the caliper" grep -q "beyond the caliper" "$TMP/.err"
awk -F, 'BEGIN{OFS=","} NR==1{print; next} {$2=1; print}' d.csv > allt.csv
expect_rc 1 "no eligible controls fails" "$YOC" evaluate --csv allt.csv $EV
check "... with a message saying so" grep -q "no eligible controls" "$TMP/.err"
awk -F, 'BEGIN{OFS=","} NR==1{print; next} NR==5{$3=""} NR==7{$2=2} {print}' d.csv > holes.csv
"$YOC" evaluate --csv holes.csv $EV > /dev/null 2> oh.txt
check "rows with empty values or a bad treatment are dropped and counted" \
	grep -q "2 rows dropped (1 with an empty or non-numeric value, 1 with treat not 0 or 1" oh.txt
expect_rc 1 "a missing column is named" "$YOC" evaluate --csv d.csv --treat treat --covariates x1,nope --outcome y
check "... by name" grep -q "no column 'nope'" "$TMP/.err"
expect_rc 2 "--method full is refused clearly" "$YOC" evaluate --csv d.csv $EV --method full
expect_rc 2 "--db and --csv together are a usage error" "$YOC" evaluate --csv d.csv --db x $EV
done_testing

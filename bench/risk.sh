#!/bin/sh
# Benchmark: risk stratification's fit and scoring (bench/risk_bench.c).
# The fit: BENCH_RISK_ROWS (default 1,000,000) person-years x 40 terms by
# IRLS in yoc, then the same matrix (raw doubles) in R (glm.fit) and in
# python3-statsmodels (GLM, Binomial, IRLS), each timing the fit alone; peak
# memory is the whole process's (GNU time), data included. Scoring:
# BENCH_RISK_SCORE (default 3,000,000) person-years, probabilities and the
# rank order; goal under 1 s. Peers missing are reported and skipped.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
BIN=bench/data/bin
DATA=bench/data/risk_design.bin
N=${BENCH_RISK_ROWS:-1000000}
S=${BENCH_RISK_SCORE:-3000000}
mkdir -p "$BIN"
gcc -std=c11 -D_GNU_SOURCE -O2 -Iinclude -Isrc -o "$BIN/risk_bench" bench/risk_bench.c \
	build/libyoc.a -lsqlite3 -lm || exit 1
TIME=/usr/bin/time
[ -x "$TIME" ] || TIME=
peak() { # command...: runs it, prints its output and peak memory (MB)
	if [ -n "$TIME" ]; then
		"$TIME" -f "%M" -o bench/data/.peak "$@"; rc=$?
		echo "      process peak $(($(cat bench/data/.peak) / 1024)) MB"
		return $rc
	fi
	"$@"
}
out=$(peak "$BIN/risk_bench" fit "$N" "$DATA") || exit 1
echo "$out"
yoc_s=$(echo "$out" | sed -n 's/.* iterations, \([0-9.]*\) s.*/\1/p')
ratio() { awk -v a="$1" -v b="$yoc_s" 'BEGIN { if (b > 0) printf "%.1f", a / b }'; }
if command -v Rscript >/dev/null 2>&1; then
	out=$(peak Rscript -e "n <- $N; p <- 40
con <- file('$DATA', 'rb'); v <- readBin(con, 'double', n * (p + 1)); close(con)
m <- matrix(v, ncol = p + 1, byrow = TRUE); rm(v); y <- m[, 1]; X <- m[, -1]; rm(m); invisible(gc())
t <- system.time(f <- glm.fit(X, y, family = binomial()))[['elapsed']]
se <- sqrt(diag(chol2inv(f\$qr\$qr[1:p, 1:p, drop = FALSE])))[2]
cat(sprintf('R     glm.fit %d x %d: %d iterations, %.3f s, coef[1] %.10f, se[1] %.10f\n', n, p, f\$iter, t, coef(f)[2], se))")
	echo "$out"
	r_s=$(echo "$out" | sed -n 's/.* iterations, \([0-9.]*\) s.*/\1/p')
	echo "      R / yoc: $(ratio "$r_s")x"
else
	echo "R     not installed (r-base-core): skipped"
fi
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
# statsmodels is a peer for this benchmark only, so it is installed here, not by make deps
if ! "$PY" -c "import statsmodels" 2>/dev/null && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
	echo "installing python3-statsmodels (benchmark peer)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-statsmodels >/dev/null 2>&1 || true
fi
if "$PY" -c "import statsmodels" 2>/dev/null; then
	out=$(peak "$PY" -c "
import time, numpy as np, statsmodels.api as sm
n, p = $N, 40
m = np.fromfile('$DATA').reshape(n, p + 1); y = m[:, 0].copy(); X = m[:, 1:].copy(); del m
t = time.perf_counter(); f = sm.GLM(y, X, family=sm.families.Binomial()).fit(method='IRLS')
t = time.perf_counter() - t
print('statsmodels GLM %d x %d: %d iterations, %.3f s, coef[1] %.10f, se[1] %.10f' % (n, p, f.fit_history['iteration'], t, f.params[1], f.bse[1]))")
	echo "$out"
	sm_s=$(echo "$out" | sed -n 's/.* iterations, \([0-9.]*\) s.*/\1/p')
	echo "      statsmodels / yoc: $(ratio "$sm_s")x"
else
	echo "statsmodels not installed (python3-statsmodels): skipped"
fi
rm -f "$DATA"
out=$(peak "$BIN/risk_bench" score "$S") || exit 1
echo "$out"
echo "$out" | awk '/total/ { for (i = 1; i <= NF; i++) if ($i == "total") t = $(i + 1) }
	END { if (t + 0 >= 1) { print "goal missed: scoring over 1 s"; exit 1 } }'

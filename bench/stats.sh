#!/bin/sh
# Benchmark: logistic regression by IRLS (src/stats/stats_logit.c) on
# generated designs of 200,000 and 1,000,000 rows x 40 columns. Goal: the
# 1M x 40 fit in a few seconds (wall clock, one core). BENCH_STATS_ROWS
# overrides the list of row counts.
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BIN=bench/data/bin
mkdir -p "$BIN"
gcc -std=c11 -D_GNU_SOURCE -O2 -Iinclude -Isrc -o "$BIN/stats_irls" bench/stats_irls.c \
	build/libyoc.a -lm
for n in ${BENCH_STATS_ROWS:-200000 1000000}; do
	"$BIN/stats_irls" "$n"
done

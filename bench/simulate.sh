#!/bin/sh
# Benchmark: the simulation's Monte Carlo (bench/sim_bench.c): BENCH_SIM_PERSONS
# (default 1,000,000) persons x 3 years x BENCH_SIM_RUNS (default 200) runs of
# the shipped top-2% scenario, threads across cores; goal under a minute for
# the runs. Peak memory is the whole process's (GNU time), the in-memory
# person_year it builds included.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
BIN=bench/data/bin
N=${BENCH_SIM_PERSONS:-1000000}
RUNS=${BENCH_SIM_RUNS:-200}
mkdir -p "$BIN"
gcc -std=c11 -D_GNU_SOURCE -O2 -Iinclude -Isrc -o "$BIN/sim_bench" bench/sim_bench.c \
	build/libyoc.a $(pkg-config --libs sqlite3 libcrypto jansson) -lm -lpthread || exit 1
TIME=/usr/bin/time
if [ -x "$TIME" ]; then
	"$TIME" -f "%M" -o bench/data/.peak "$BIN/sim_bench" "$N" "$RUNS" 0 data/scenarios/top2_integrated.json || exit 1
	echo "      process peak $(($(cat bench/data/.peak) / 1024)) MB"
else
	"$BIN/sim_bench" "$N" "$RUNS" 0 data/scenarios/top2_integrated.json || exit 1
fi

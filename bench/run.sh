#!/bin/sh
# Benchmark driver (make bench): runs each benchmark in turn, each printing
# its own figures and, where a peer runs on the same data, the ratio.
# Benchmarks measure; a missed goal is reported, never fatal, and the next
# benchmark still runs. Run one alone with `sh bench/NAME.sh`. Generated
# data goes to bench/data/ (git-ignored). Last, bench/summary.sh prints one
# table of yoc against DuckDB (load, analyse + report, feeds -> report).
cd "$(dirname "$0")/.." || exit 1
failed=""
for b in csv synth pseudo load analyse stats risk rule cohort simulate evaluate link budget serve sql mpi reshard; do
	echo "== bench/$b.sh"
	sh "bench/$b.sh" || failed="$failed $b"
	echo
done
sh bench/summary.sh
[ -n "$failed" ] && echo "bench: goal missed or run failed in:$failed (see above)"
exit 0

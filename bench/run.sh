#!/bin/sh
# Benchmark driver (make bench): runs each benchmark in turn, each printing
# its own figures and, where a peer runs on the same data, the ratio.
# Benchmarks measure; they never fail on a time. Run one alone with
# `sh bench/NAME.sh`. Generated data goes to bench/data/ (git-ignored).
set -e
cd "$(dirname "$0")/.."
for b in csv synth pseudo load analyse; do
	echo "== bench/$b.sh"
	sh "bench/$b.sh"
	echo
done

#!/bin/sh
# Benchmark driver (make bench): runs each benchmark script in turn. One
# line per benchmark; add new ones below. Benchmarks measure, they never
# fail on a time.
set -e
cd "$(dirname "$0")/.."
sh bench/csv.sh

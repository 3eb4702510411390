#!/bin/sh
# Benchmark of `yoc synth`: 1,000,000 persons x 3 financial years on one core.
# Target (issue #3): at most 60 s and at most 2 GB of memory. Prints one
# summary line and exits 1 when a target is missed. Not a test: run by
# `make bench` (bench/run.sh) or by hand:
#
#   sh bench/synth.sh                 # 1M persons, build/yoc
#   PERSONS=200000 sh bench/synth.sh  # a quicker look
#   PIN_CPU=1 sh bench/synth.sh       # pinned to CPU 0 with taskset
#
# Writes about 3.5 GB under $TMPDIR (default /tmp) and removes it afterwards.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
YOC=${YOC:-$ROOT/build/yoc}
PERSONS=${PERSONS:-1000000}
YEARS=${YEARS:-3}
LIMIT_S=${LIMIT_S:-60}
LIMIT_MB=${LIMIT_MB:-2048}
[ -x "$YOC" ] || { echo "bench/synth.sh: no binary at $YOC (run make)"; exit 1; }
[ -x /usr/bin/time ] || { echo "bench/synth.sh: needs /usr/bin/time (Debian package 'time')"; exit 1; }
OUT=$(mktemp -d "${TMPDIR:-/tmp}/yoc_bench_synth_XXXXXX") || exit 1
trap 'rm -rf "$OUT"' EXIT INT TERM
# synth is single-threaded, so it uses one core whatever; PIN_CPU=1 also pins it to CPU 0.
PIN=""
[ "${PIN_CPU:-0}" = 1 ] && command -v taskset >/dev/null 2>&1 && PIN="taskset -c 0"

YOC_QUIET=1 /usr/bin/time -v $PIN "$YOC" synth --persons "$PERSONS" --years "$YEARS" --seed 1 \
	--data "$ROOT/data" --out "$OUT/s" > "$OUT/out" 2> "$OUT/time" || {
	echo "bench/synth.sh: synth failed"; cat "$OUT/out" "$OUT/time"; exit 1; }

wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; printf "%.1f", s }' "$OUT/time")
user=$(awk -F': ' '/User time/ { print $2 }' "$OUT/time")
sys=$(awk -F': ' '/System time/ { print $2 }' "$OUT/time")
rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$OUT/time")
bytes=$(du -sk "$OUT/s" | awk '{ printf "%.2f", $1 / 1048576 }')
rows=$(sed -n 's/.* files, \([0-9]*\) rows.*/\1/p' "$OUT/out")
cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.1f", u + s }')
verdict=ok
awk -v w="$wall" -v l="$LIMIT_S" 'BEGIN { exit !(w > l) }' && verdict="OVER TIME"
[ "$rss" -gt "$LIMIT_MB" ] && verdict="OVER MEMORY"
echo "synth $PERSONS persons x $YEARS years: ${wall}s wall (${cpu}s CPU: ${user} user + ${sys} sys)," \
	"peak RSS ${rss} MB, ${rows} rows, ${bytes} GB written; target <= ${LIMIT_S}s, <= ${LIMIT_MB} MB: $verdict"
[ "$verdict" = ok ]

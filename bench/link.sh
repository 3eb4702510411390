#!/bin/sh
# Benchmark: `yoc link` of 100,000 rows without an NHS number against a GP
# register of 3,000,000 people, next to a straightforward DuckDB SQL
# linkage (Node @duckdb/node-api, bench/node_modules) of the same rows with
# the same blocking rules and the same model (bench/duckdb_link.mjs). Both
# report the pairs they scored and pairs per second; yoc also by CPU time,
# which a busy machine inflates less than wall time. The links are checked
# against the generator's truth (precision and recall, by python).
#
#   sh bench/link.sh [REGISTER [ROWS]]      (YOC=path/to/yoc, default ./yoc)
#
# Data (generated once by bench/link_gen.py into bench/data/link_R_N/,
# reused). Goal: the whole yoc link run under 60 s. A benchmark measures;
# a missed goal is reported, never fatal to bench/run.sh.
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
YOC=${YOC:-$ROOT/yoc}
R=${1:-${BENCH_LINK_REGISTER:-3000000}}
N=${2:-${BENCH_LINK_ROWS:-100000}}
W=$ROOT/bench/data/link_${R}_$N
[ -x "$YOC" ] || { echo "bench/link.sh: build yoc first ($YOC)" >&2; exit 1; }
if [ ! -f "$W/.done" ]; then
	rm -rf "$W"
	echo "link: generating a register of $R and $N rows to link (once) into $W"
	python3 "$ROOT/bench/link_gen.py" "$W" "$R" "$N"
	touch "$W/.done"
fi
rm -rf "$W/out"
/usr/bin/time -f "%e %U %S %M" -o "$W/time.txt" \
	"$YOC" link --register "$W/register.csv" --in "$W/in" --out "$W/out" > "$W/yoc.txt"
cat "$W/yoc.txt"
read -r wall user sys rss < "$W/time.txt"
echo "yoc:    wall $wall s, CPU $(echo "$user + $sys" | bc) s (user $user, system $sys), peak memory $((rss / 1024)) MB"
python3 - "$W" <<'EOF'
import csv, sys
w = sys.argv[1]
t = {(r['file'], r['row']): r['nhs_number'] for r in csv.DictReader(open(w + '/truth.csv'))}
n = l = ok = rv = 0
for r in csv.DictReader(open(w + '/out/.link/links.csv')):
    n += 1
    if r['status'] == 'linked':
        l += 1
        ok += t[(r['file'], r['row'])] == r['nhs_number']
    rv += r['status'] == 'review'
print(f"yoc:    precision {ok / max(l, 1):.5f}, recall {ok / max(n, 1):.4f}, review {rv / max(n, 1):.4f} (of {n} rows, against the truth)")
EOF
if [ ! -d "$ROOT/bench/node_modules/@duckdb/node-api" ]; then
	(cd "$ROOT/bench" && npm install --no-audit --no-fund @duckdb/node-api > /dev/null 2>&1) ||
		{ echo "link: could not install @duckdb/node-api; DuckDB comparison skipped"; exit 0; }
fi
node "$ROOT/bench/duckdb_link.mjs" "$W" "$W/out/.link/model.json" > "$W/duck.txt"
cat "$W/duck.txt"
yoc_pps=$(sed -n 's/.*(\([0-9]*\) per second.*/\1/p' "$W/yoc.txt")
duck_pps=$(sed -n 's/^duckdb_pairs_per_s \([0-9]*\)/\1/p' "$W/duck.txt")
[ -n "$yoc_pps" ] && [ -n "$duck_pps" ] && [ "$duck_pps" -gt 0 ] &&
	echo "ratio: yoc / DuckDB pairs per second = $(echo "scale=1; $yoc_pps / $duck_pps" | bc)x"
if [ "$(echo "$wall < 60" | bc)" = 1 ]; then
	echo "goal: $N rows against $R under 60 s: met ($wall s)"
else
	echo "goal: $N rows against $R under 60 s: MISSED ($wall s wall, $(echo "$user + $sys" | bc) s CPU; load average $(cut -d' ' -f1 /proc/loadavg))"
	exit 1
fi

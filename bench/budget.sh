#!/bin/sh
# Benchmark: `yoc tag` tagging all activity of 1,000,000 persons x 3 years
# (about 33M rows) for a cohort holding everyone (10% leave for three months
# and rejoin), next to DuckDB (Node @duckdb/node-api, bench/node_modules)
# doing the same join on the same rows in the same run: each activity row
# with its person's register rows, inside a membership or not, inside the
# service map by setting or not, counted by tag (bench/duckdb_budget.mjs).
# yoc's time is the whole verb: read and verify every segment, price every
# row of a member (hospital spells grouped and priced once), decide, and
# write tag_summary (--summary-only: no per-row table). DuckDB's time is the
# join and count over tables already in memory; its CSV reading is printed
# apart. Both print rows by tag so a reader can compare (they differ by the
# rows yoc quarantined or flagged at load, which DuckDB reads raw).
#
# Data (once, reused): bench/data/feeds_<P>_<Y> (yoc synth + pseudonymise,
# shared with bench/load.sh and bench/analyse.sh), loaded into
# bench/data/budget_<P>_<Y>/ds, and a cohort_register written by sqlite3.
# BENCH_PERSONS (default 1000000), BENCH_YEARS (3), BENCH_THREADS (2). A
# benchmark measures; it never fails on a time. Goal: a few seconds, faster
# than DuckDB. On a shared machine compare the CPU times as well as the wall.
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
YOC=${YOC:-$ROOT/yoc}
P=${BENCH_PERSONS:-1000000}
Y=${BENCH_YEARS:-3}
DATA=$ROOT/bench/data
S=$DATA/synth_${P}_${Y}
FEEDS=$DATA/feeds_${P}_${Y}
W=$DATA/budget_${P}_${Y}
command -v sqlite3 > /dev/null || { echo "budget: sqlite3 CLI missing, skipped"; exit 0; }
mkdir -p "$DATA" "$W"
if [ ! -f "$FEEDS/.done" ]; then
	rm -rf "$S" "$FEEDS" "$DATA/bench.key"
	echo "budget: generating $P persons x $Y years (once) into $S"
	YOC_QUIET=1 "$YOC" synth --persons "$P" --years "$Y" --data "$ROOT/data" --out "$S" > /dev/null
	"$YOC" keygen --out "$DATA/bench.key" > /dev/null
	YOC_QUIET=1 "$YOC" pseudonymise --key "$DATA/bench.key" --in "$S/feeds" --out "$FEEDS" > /dev/null
	touch "$FEEDS/.done"
fi
if [ ! -f "$W/.loaded" ] || [ "$FEEDS/.done" -nt "$W/.loaded" ]; then
	rm -rf "$W/ds"
	echo "budget: loading the feeds (once) into $W/ds"
	"$YOC" init "$W/ds" > /dev/null
	YOC_QUIET=1 "$YOC" load --db "$W/ds" "$FEEDS" > /dev/null
	touch "$W/.loaded"
fi
if [ ! -f "$W/.register" ] || [ "$W/.loaded" -nt "$W/.register" ]; then
	sqlite3 "$W/ds/yoc.db" <<SQL
DROP TABLE IF EXISTS cohort_register;
CREATE TABLE cohort_register(row_id INTEGER PRIMARY KEY, cohort TEXT NOT NULL,
 pseudo_id TEXT NOT NULL, practice TEXT NOT NULL, join_date TEXT NOT NULL, leave_date TEXT,
 leave_reason TEXT, tariff_category TEXT, secondary_use INTEGER NOT NULL, opened_log INTEGER,
 closed_log INTEGER);
INSERT INTO cohort_register(cohort, pseudo_id, practice, join_date, leave_date, secondary_use)
 SELECT 'everyone', pseudo_id, coalesce(practice, ''), '2000-01-01',
 CASE WHEN person_idx % 10 = 3 THEN '2022-06-30' END, 1 FROM person;
INSERT INTO cohort_register(cohort, pseudo_id, practice, join_date, leave_date, secondary_use)
 SELECT 'everyone', pseudo_id, coalesce(practice, ''), '2022-10-01', NULL, 1 FROM person
 WHERE person_idx % 10 = 3;
SQL
	sqlite3 -csv -header "$W/ds/yoc.db" "SELECT pseudo_id, join_date, leave_date FROM cohort_register" > "$W/register.csv"
	touch "$W/.register"
fi
rows=$(sqlite3 "$W/ds/yoc.db" "SELECT sum(loaded) FROM current_files WHERE kind NOT IN ('gp_register', 'deaths', 'careplan', 'pam')")
echo "budget: $rows activity rows of $(sqlite3 "$W/ds/yoc.db" "SELECT count(*) FROM person") persons; cohort 'everyone' (10% leave 2022-07-01..09-30)"
# yoc with as many threads as DuckDB is given (BENCH_THREADS, default 2);
# wall and CPU (user + sys) of the fastest of 3 runs, and its steps (--timing)
T=${BENCH_THREADS:-2}
best=""
for k in 1 2 3; do
	sync
	YOC_QUIET=1 /usr/bin/time -f "%e %U %S %M" -o "$W/time" "$YOC" tag --db "$W/ds" \
		--cohort everyone --service-map "$ROOT/data/service_map.csv" --summary-only \
		--threads "$T" --timing > "$W/yoc.txt" 2> "$W/steps"
	read -r s u y rss < "$W/time"
	if [ -z "$best" ] || [ "$(echo "$s < $best" | bc)" = 1 ]; then
		best=$s; cpu=$(echo "$u + $y" | bc); peak=$rss; steps=$(cat "$W/steps")
	fi
done
sed 's/^/yoc: /' "$W/yoc.txt"
echo "yoc $steps"
echo "yoc tag: $best s wall, $cpu s CPU (user + sys) with --threads $T (fastest of 3, all of the verb), peak RSS $peak KB"
if [ ! -d "$ROOT/bench/node_modules/@duckdb/node-api" ]; then
	(cd "$ROOT/bench" && npm install --no-audit --no-fund @duckdb/node-api > /dev/null 2>&1) ||
		{ echo "budget: could not install @duckdb/node-api; DuckDB comparison skipped"; exit 0; }
fi
node "$ROOT/bench/duckdb_budget.mjs" "$FEEDS" "$W/register.csv" > "$W/duck.txt"
cat "$W/duck.txt"
duck=$(sed -n 's/^duckdb_join_s \([0-9.]*\)/\1/p' "$W/duck.txt")
dcpu=$(sed -n 's/^duckdb_join_cpu_s \([0-9.]*\)/\1/p' "$W/duck.txt")
[ -n "$duck" ] && echo "ratio: DuckDB join / yoc tag = $(echo "scale=2; $duck / $best" | bc)x wall, $(echo "scale=2; $dcpu / $cpu" | bc)x CPU"

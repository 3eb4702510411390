#!/bin/sh
# Benchmark: `yoc rule eval` of a realistic case-finding rule over 3,000,000
# person-years, next to DuckDB (Node @duckdb/node-api, bench/node_modules)
# running the same rule in SQL on the same rows. Load and evaluation are
# timed apart: yoc reads the columns the rule uses from SQLite into arrays
# (load) and evaluates the plan over them (eval, fastest of 5); DuckDB reads
# the same rows from CSV into tables (load, not compared) and runs the query
# twice: over one pre-joined table (the same shape as yoc's frame) and with
# the look-back and risk joins written out. Both sides print the count of
# persons selected so a reader can see they agree. Goal: yoc's evaluation
# under 100 ms.
#
# Data (generated once into bench/data/rule_<N>/, reused): a dataset whose
# person_year holds N persons in 2023/24 and in 2022/23 (only the columns the
# rule needs; the rule language discovers columns from the table) and a
# risk_score for 2023/24, written by the sqlite3 CLI. BENCH_RULE_ROWS
# (default 3000000). A benchmark measures; it never fails on a time.
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
YOC=${YOC:-$ROOT/yoc}
N=${BENCH_RULE_ROWS:-3000000}
W=$ROOT/bench/data/rule_$N
RULE="(age >= 65 and count(copd, heart_failure, ckd, diabetes) >= 2) or emergency_admissions[t-1] >= 2
 or tier in ('top0.5', '0.5-2') or (practice in (P90001, P90004) and cost_total > 500000 and not dementia)"
command -v sqlite3 > /dev/null || { echo "rule: sqlite3 CLI missing, skipped"; exit 0; }
if [ ! -f "$W/.done" ]; then
	rm -rf "$W"
	mkdir -p "$W"
	"$YOC" init "$W/ds" > /dev/null
	echo "rule: generating $N person-years x 2 years and risk_score (once) into $W"
	sqlite3 "$W/ds/yoc.db" <<SQL
PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
CREATE TABLE person_year(pseudo_id TEXT NOT NULL, fyear TEXT NOT NULL, age INTEGER, sex TEXT,
 practice TEXT, copd INTEGER NOT NULL, heart_failure INTEGER NOT NULL, ckd INTEGER NOT NULL,
 diabetes INTEGER NOT NULL, dementia INTEGER NOT NULL, ltc_count INTEGER NOT NULL,
 emergency_admissions INTEGER NOT NULL, cost_total INTEGER NOT NULL);
CREATE TABLE risk_score(pseudo_id TEXT NOT NULL, fyear TEXT NOT NULL, probability REAL NOT NULL,
 rank INTEGER NOT NULL, percentile REAL NOT NULL, tier TEXT NOT NULL);
CREATE TEMP TABLE base AS WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $N - 1)
 SELECT i, printf('%012x', (i * 2654435761) % 281474976710656) id, abs(random()) % 1000000 r FROM n;
INSERT INTO person_year SELECT id, y.fy, (r % 97) - y.k, CASE r % 2 WHEN 0 THEN '1' ELSE '2' END,
 CASE WHEN r % 53 = 0 THEN NULL ELSE printf('P9%04d', r % 40) END,
 (r / 7) % 11 = 0, (r / 11) % 19 = 0, (r / 13) % 9 = 0, (r / 17) % 8 = 0, (r / 19) % 30 = 0, r % 5,
 CASE WHEN (r / 23 + y.k) % 9 = 0 THEN (r / 29) % 4 ELSE 0 END, (r * 7 + y.k * 13) % 900000
 FROM base, (SELECT '2023/24' fy, 0 k UNION ALL SELECT '2022/23', 1) y
 WHERE y.k = 0 OR i % 10 != 3 ORDER BY y.fy, id;
INSERT INTO risk_score SELECT id, '2023/24', (r % 1000) / 1000.0, 0, (r % 10000) / 100.0,
 CASE WHEN r % 1000 < 5 THEN 'top0.5' WHEN r % 1000 < 20 THEN '0.5-2' WHEN r % 1000 < 50 THEN '2-5'
 ELSE 'rest' END FROM base WHERE i % 50 != 7 ORDER BY id;
SQL
	sqlite3 -csv -header "$W/ds/yoc.db" "SELECT * FROM person_year" > "$W/person_year.csv"
	sqlite3 -csv -header "$W/ds/yoc.db" "SELECT * FROM risk_score" > "$W/risk_score.csv"
	touch "$W/.done"
fi
echo "rule: $(sqlite3 "$W/ds/yoc.db" "select count(*) from person_year where fyear = '2023/24'") person-years of 2023/24 (look-back 2022/23, risk_score)"
YOC_QUIET=1 "$YOC" rule eval --db "$W/ds" --year 2023/24 --rule "$RULE" --timing --repeat 5 \
	> "$W/yoc.txt" 2> "$W/yoc_timing.txt"
head -1 "$W/yoc.txt"
load_ms=$(sed -n 's/.*load_ms=\([0-9.]*\).*/\1/p' "$W/yoc_timing.txt")
eval_ms=$(sed -n 's/.*eval_ms=\([0-9.]*\).*/\1/p' "$W/yoc_timing.txt")
yoc_sel=$(sed -n 's/.*: \([0-9]*\) of .*/\1/p' "$W/yoc.txt" | head -1)
echo "yoc:    load $load_ms ms (SQLite -> column arrays), evaluation $eval_ms ms (fastest of 5)"
if [ ! -d "$ROOT/bench/node_modules/@duckdb/node-api" ]; then
	(cd "$ROOT/bench" && npm install --no-audit --no-fund @duckdb/node-api > /dev/null 2>&1) ||
		{ echo "rule: could not install @duckdb/node-api; DuckDB comparison skipped"; exit 0; }
fi
node "$ROOT/bench/duckdb_rule.mjs" "$W" > "$W/duck.txt"
cat "$W/duck.txt"
duck_ms=$(sed -n 's/^duckdb_frame_ms \([0-9.]*\)/\1/p' "$W/duck.txt")
duck_sel=$(sed -n 's/^duckdb_selected \([0-9]*\)/\1/p' "$W/duck.txt")
[ "$duck_sel" = "$yoc_sel" ] && echo "selected: both $yoc_sel" || echo "selected: yoc $yoc_sel, DuckDB $duck_sel (DIFFER)"
echo "ratio: DuckDB / yoc evaluation = $(echo "scale=1; $duck_ms / $eval_ms" | bc)x"
if [ "$(echo "$eval_ms < 100" | bc)" = 1 ]; then
	echo "goal: evaluation under 100 ms: met"
else
	echo "goal: evaluation under 100 ms: MISSED"
	exit 1
fi

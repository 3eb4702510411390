#!/bin/sh
# Benchmark: the selection tool's cohort queries (filters + every aggregate
# of POST /api/select, the trend by month included) over 3,000,000 persons.
# Three figures:
#   - server side: bench/serve_bench.c loads the dataset into the selection
#     engine once (as yoc serve does) and answers the cohort queries of
#     bench/serve_queries.txt (small and large groups) 50 times
#     each, first with the answer cache off (every answer computed), then on:
#     p50/p95/p99 in ms per query and overall, and CPU seconds (goal: p95
#     <= 5 ms, judged on the uncached answers); then, the same way, the
#     further groups of bench/serve_queries_more.txt (thresholds on cost and
#     activity, alone and with other filters), printed apart;
#   - under load: yoc serve on 127.0.0.1 driven by wrk (Debian; installed
#     here if missing) for 10 s with 4 connections cycling the same queries,
#     each answer also appended and fsynced to the access log: requests/s
#     and errors (goal zero);
#   - DuckDB (Node @duckdb/node-api, bench/node_modules) computing the same
#     aggregates with the same filters over the same rows (from CSV).
# Data (generated once into bench/data/serve_<N>/): person_year with the
# analysis's columns and risk_score, by the sqlite3 CLI (bench/serve_gen.sql),
# and person_month spreading each person's cost and emergency admissions
# over 1-6 months (bench/serve_months.py).
# BENCH_SERVE_ROWS (default 3000000). A benchmark measures; it never fails
# on a time.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
YOC=${YOC:-$ROOT/yoc}
N=${BENCH_SERVE_ROWS:-3000000}
W=$ROOT/bench/data/serve_$N
BIN=bench/data/bin
command -v sqlite3 > /dev/null || { echo "serve: sqlite3 CLI missing, skipped"; exit 0; }
mkdir -p "$BIN"
[ -f build/libyoc.a ] || make -s build/libyoc.a || exit 1
gcc -std=c11 -D_GNU_SOURCE -O2 -Iinclude -Isrc -o "$BIN/serve_bench" bench/serve_bench.c \
	build/libyoc.a $(pkg-config --libs sqlite3 libsodium jansson) -lm || exit 1
if [ ! -f "$W/.done" ]; then
	rm -rf "$W"
	mkdir -p "$W"
	"$YOC" init "$W/ds" > /dev/null || exit 1
	echo "serve: generating $N persons (once) into $W"
	sed "s/@N@/$N/" bench/serve_gen.sql | sqlite3 "$W/ds/yoc.db" || exit 1
	sqlite3 -csv -header "$W/ds/yoc.db" "SELECT * FROM person_year" > "$W/person_year.csv"
	sqlite3 -csv -header "$W/ds/yoc.db" "SELECT pseudo_id, tier FROM risk_score" > "$W/risk_score.csv"
	touch "$W/.done"
fi
if [ ! -f "$W/.months" ]; then
	echo "serve: monthly figures of $N persons (once)"
	python3 bench/serve_months.py "$W/ds/yoc.db" "$W/person_month.csv" || exit 1
	touch "$W/.months"
fi
"$BIN/serve_bench" "$W/ds" bench/serve_queries.txt 50 > "$W/yoc.txt" || exit 1
cat "$W/yoc.txt"
p95=$(sed -n 's/^uncached all answers.*p95_ms \([0-9.]*\).*/\1/p' "$W/yoc.txt")
p95c=$(sed -n 's/^cached all answers.*p95_ms \([0-9.]*\).*/\1/p' "$W/yoc.txt")
echo "further groups (bench/serve_queries_more.txt), uncached:"
"$BIN/serve_bench" "$W/ds" bench/serve_queries_more.txt 50 > "$W/yoc_more.txt" || exit 1
grep -E '^query |^uncached (query|all)' "$W/yoc_more.txt"

# under load
if ! command -v wrk > /dev/null; then
	SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
	$SUDO apt-get install -y -qq wrk > /dev/null 2>&1 || echo "serve: wrk missing and not installable; load test skipped"
fi
if command -v wrk > /dev/null; then
	rm -f "$W/ds/serve/users"
	echo 'bench-password-1' | "$YOC" user add bench --db "$W/ds" --role analyst > /dev/null
	# twice: the answer cache off (YOC_SERVE_CACHE=0: every request computed), then on
	for cache in 0 1; do
		rm -f "$W/port"
		YOC_SERVE_CACHE=$cache "$YOC" serve --db "$W/ds" --listen 127.0.0.1:0 --ready-file "$W/port" \
			--threads 2 2> "$W/serve.log" &
		pid=$!
		i=0
		while [ ! -s "$W/port" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done
		P=$(cat "$W/port")
		cookie=$(curl -s -i -H 'Content-Type: application/json' \
			-d '{"user":"bench","password":"bench-password-1"}' "http://127.0.0.1:$P/api/login" |
			sed -n 's/^Set-Cookie: \(yoc_session=[0-9a-f]*\).*/\1/p')
		csrf=$(curl -s -H "Cookie: $cookie" "http://127.0.0.1:$P/api/session" |
			sed 's/.*"csrf":"\([0-9a-f]*\)".*/\1/')
		{
			echo "local q = {}"
			while IFS= read -r l; do printf 'q[#q+1] = [[%s]]\n' "$l"; done < bench/serve_queries.txt
			echo "local i = 0"
			echo "request = function() i = i % #q + 1; return wrk.format('POST', '/api/select', {['Cookie'] = '$cookie', ['X-CSRF-Token'] = '$csrf', ['Content-Type'] = 'application/json'}, q[i]) end"
		} > "$W/wrk.lua"
		c0=$(awk '{print $14 + $15}' /proc/$pid/stat)
		wrk -t 2 -c 4 -d 10s --timeout 30s --latency -s "$W/wrk.lua" "http://127.0.0.1:$P/" > "$W/wrk.txt" 2>&1
		c1=$(awk '{print $14 + $15}' /proc/$pid/stat)
		kill $pid; wait $pid 2>/dev/null
		[ $cache = 0 ] && echo "wrk, answer cache off:" || echo "wrk, answer cache on:"
		grep -E 'Requests/sec|Non-2xx|Socket errors|^ +50%|^ +99%|requests in' "$W/wrk.txt"
		echo "serve cpu_s during wrk: $(( (c1 - c0) / $(getconf CLK_TCK) ))"
		grep -q 'Non-2xx\|Socket errors' "$W/wrk.txt" && echo "wrk: ERRORS (see above)" || echo "wrk: zero errors"
	done
fi

# DuckDB
if command -v node > /dev/null; then
	if [ ! -d "$ROOT/bench/node_modules/@duckdb/node-api" ]; then
		(cd "$ROOT/bench" && npm install --no-audit --no-fund @duckdb/node-api > /dev/null 2>&1) ||
			echo "serve: could not install @duckdb/node-api; DuckDB comparison skipped"
	fi
	[ -d "$ROOT/bench/node_modules/@duckdb/node-api" ] && node bench/duckdb_serve.mjs "$W" 10
fi
if [ "$(echo "$p95 <= 5" | bc)" = 1 ]; then
	echo "goal: server-side p95 <= 5 ms: met ($p95 ms uncached; $p95c ms with the answer cache)"
else
	echo "goal: server-side p95 <= 5 ms: MISSED ($p95 ms uncached; $p95c ms with the answer cache)"
fi
exit 0

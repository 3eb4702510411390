#!/bin/sh
# Benchmark: `yoc sql` over the activity tables of 100,000 persons x 3 years,
# next to DuckDB (Node @duckdb/node-api, bench/node_modules) on the same
# feeds' CSVs. Queries: apc episodes and episode days by month (every apc
# row), gp_appt appointments and minutes by month (every gp_appt row), one
# person's apc rows, and one person's rows of every activity kind. yoc's
# time is the whole command, fastest of 3: open the catalog, open and verify
# the kind's segments, run the query (a person is looked up by the module,
# not read row by row into SQLite). DuckDB's times are its queries over
# tables read from the CSVs first (the read printed apart) and the same
# queries reading the CSVs each time. Both print the rows of each answer and
# the total of its counts so a reader can compare (they differ by the rows
# yoc quarantined at load, which DuckDB reads raw).
#
# Data (once, reused): bench/data/feeds_<P>_<Y> (shared with bench/load.sh,
# bench/analyse.sh, bench/budget.sh), loaded into bench/data/sql_<P>_<Y>/ds.
# BENCH_PERSONS (default 100000), BENCH_YEARS (3). A benchmark measures; it
# never fails on a time.
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
YOC=${YOC:-$ROOT/yoc}
P=${BENCH_PERSONS:-100000}
Y=${BENCH_YEARS:-3}
DATA=$ROOT/bench/data
S=$DATA/synth_${P}_${Y}
FEEDS=$DATA/feeds_${P}_${Y}
W=$DATA/sql_${P}_${Y}
mkdir -p "$DATA" "$W"
if [ ! -f "$FEEDS/.done" ]; then
	rm -rf "$S" "$FEEDS" "$DATA/bench.key"
	echo "sql: generating $P persons x $Y years (once) into $S"
	YOC_QUIET=1 "$YOC" synth --persons "$P" --years "$Y" --data "$ROOT/data" --out "$S" > /dev/null
	"$YOC" keygen --out "$DATA/bench.key" > /dev/null
	YOC_QUIET=1 "$YOC" pseudonymise --key "$DATA/bench.key" --in "$S/feeds" --out "$FEEDS" > /dev/null
	touch "$FEEDS/.done"
fi
if [ ! -f "$W/.loaded" ] || [ "$FEEDS/.done" -nt "$W/.loaded" ]; then
	rm -rf "$W/ds"
	echo "sql: loading the feeds (once) into $W/ds"
	"$YOC" init "$W/ds" > /dev/null
	YOC_QUIET=1 "$YOC" load --db "$W/ds" "$FEEDS" > /dev/null 2> "$W/load.log" ||
		{ tail -3 "$W/load.log"; exit 1; }
	touch "$W/.loaded"
fi
export YOC_QUIET=1
# the person with the most apc episodes (not timed)
PID=$("$YOC" sql --db "$W/ds" "SELECT PSEUDO_ID FROM apc WHERE PSEUDO_ID IS NOT NULL
 GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1" | tail -1)
ALL=""
for k in apc op ae community mh gp_appt social_care ambulance; do
	ALL="$ALL${ALL:+ UNION ALL }SELECT '$k' kind, count(*) n FROM $k WHERE PSEUDO_ID = '$PID'"
done
Q1="SELECT substr(EPISTART, 1, 7) month, count(*) episodes,
 sum(julianday(EPIEND) - julianday(EPISTART)) days FROM apc GROUP BY 1 ORDER BY 1"
Q2="SELECT substr(APPT_DATE, 1, 7) month, count(*) appointments, sum(DURATION_MIN) minutes
 FROM gp_appt GROUP BY 1 ORDER BY 1"
Q3="SELECT EPISTART, SUSHRG FROM apc WHERE PSEUDO_ID = '$PID' ORDER BY EPISTART, file_id, line"
Q4="$ALL"
now() { date +%s.%N; }
# run NAME QUERY: fastest wall of 3 and its CPU (user+sys), answer checksum
run() {
	best=""
	for i in 1 2 3; do
		t0=$(now)
		/usr/bin/time -f "%U %S" -o "$W/time.txt" "$YOC" sql --db "$W/ds" "$2" > "$W/$1.csv"
		t1=$(now)
		ms=$(echo "($t1 - $t0) * 1000" | bc)
		cpu=$(awk '{printf "%.0f", ($1 + $2) * 1000}' "$W/time.txt")
		if [ -z "$best" ] || [ "$(echo "$ms < $best" | bc)" = 1 ]; then best=$ms; bcpu=$cpu; fi
	done
	rows=$(($(wc -l < "$W/$1.csv") - 1))
	total=$(tail -n +2 "$W/$1.csv" | awk -F, '{s += $2} END {print s + 0}')
	[ "$1" = person ] && total=-
	printf 'yoc    %-10s %6.0f ms wall, %s ms CPU   %s rows, total %s\n' "$1" "$best" "$bcpu" "$rows" "$total"
	"$YOC" sql --db "$W/ds" --stats "$2" 2>&1 >/dev/null | sed 's/^yoc sql: /    /'
}
echo "sql: $P persons x $Y years; apc $("$YOC" sql --db "$W/ds" "SELECT count(*) FROM apc" | tail -1) rows,\
 gp_appt $("$YOC" sql --db "$W/ds" "SELECT count(*) FROM gp_appt" | tail -1) rows; person $PID"
run by_month "$Q1"
run gp_month "$Q2"
run person "$Q3"
run person_all "$Q4"
if [ ! -d "$ROOT/bench/node_modules/@duckdb/node-api" ]; then
	(cd "$ROOT/bench" && npm install --no-audit --no-fund @duckdb/node-api > /dev/null 2>&1) ||
		{ echo "sql: could not install @duckdb/node-api; DuckDB comparison skipped"; exit 0; }
fi
node "$ROOT/bench/duckdb_sql.mjs" "$FEEDS" "$PID"

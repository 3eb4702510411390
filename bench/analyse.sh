#!/bin/sh
# Benchmark: `yoc analyse` + `yoc report` against DuckDB (Node
# @duckdb/node-api, installed here into bench/node_modules) computing the
# same person-year table and report aggregates from the same pseudonymised
# CSV feeds (bench/duckdb_analyse.mjs: the rules of docs/analysis.md in SQL,
# CSV reading included), in the same run. Prints both wall times, the ratio,
# yoc's peak RSS and both sides' totals (person-years, cost, LTCs, emergency
# admissions) so a reader can see they computed the same thing.
#
# Feeds: the same tree bench/load.sh uses, generated once and reused:
#   bench/data/feeds_<P>_<Y>/    yoc synth + yoc pseudonymise
# and loaded once into bench/data/analyse_<P>_<Y>/ds (yoc load: its own
# benchmark is bench/load.sh). BENCH_PERSONS (default 1000000), BENCH_YEARS
# (3), BENCH_THREADS (2, both sides). DuckDB runs twice: from the CSVs
# (its feeds -> report path end to end) and, when bench/load.sh left its
# database of the same feeds (bench/data/load_<P>_<Y>/duck.db), from those
# tables (its analyse + report after its load). Goal: yoc at least 2x
# DuckDB's speed. The figures also go to bench/data/results_analyse_<P>_<Y>.txt
# for the summary table of bench/run.sh.
# A benchmark measures; it never fails on a time. With default defects in
# the feeds the two sides differ slightly (yoc quarantines, flags and
# standardises codes; DuckDB skips unreadable rows); on a clean economy they
# agree exactly.
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
YOC=${YOC:-$ROOT/yoc}
P=${BENCH_PERSONS:-1000000}
Y=${BENCH_YEARS:-3}
T=${BENCH_THREADS:-2}
DATA=$ROOT/bench/data
S=$DATA/synth_${P}_${Y}
FEEDS=$DATA/feeds_${P}_${Y}
W=$DATA/analyse_${P}_${Y}
RES=$DATA/results_analyse_${P}_${Y}.txt
DUCKDB_FILE=$DATA/load_${P}_${Y}/duck.db
mkdir -p "$DATA" "$W"
if [ ! -f "$FEEDS/.done" ]; then
	rm -rf "$S" "$FEEDS" "$DATA/bench.key"
	echo "analyse: generating $P persons x $Y years (once) into $S"
	YOC_QUIET=1 "$YOC" synth --persons "$P" --years "$Y" --data "$ROOT/data" --out "$S" > /dev/null
	"$YOC" keygen --out "$DATA/bench.key" > /dev/null
	YOC_QUIET=1 "$YOC" pseudonymise --key "$DATA/bench.key" --in "$S/feeds" --out "$FEEDS" > /dev/null
	touch "$FEEDS/.done"
fi
# The dataset bench/load.sh left of the same feeds with the same binary,
# else one loaded here (again when the feeds or the yoc binary changed: a
# new build may write another segment format).
LDS=$DATA/load_${P}_${Y}/ds
DS=$W/ds
if [ -f "$LDS.loaded" ] && [ "$LDS.loaded" -nt "$YOC" ] && [ "$LDS.loaded" -nt "$FEEDS/.done" ]; then
	DS=$LDS
	rm -rf "$W/ds" "$W/.loaded"
elif [ ! -f "$W/.loaded" ] || [ "$FEEDS/.done" -nt "$W/.loaded" ] || [ "$YOC" -nt "$W/.loaded" ]; then
	rm -rf "$W/ds"
	echo "analyse: loading the feeds (once) into $W/ds"
	"$YOC" init "$W/ds" > /dev/null
	t0=$(date +%s.%N)
	YOC_QUIET=1 "$YOC" load --db "$W/ds" "$FEEDS" > /dev/null 2> "$W/load.err"
	t1=$(date +%s.%N)
	echo "analyse: load took $(echo "$t1 - $t0" | bc) s"
	touch "$W/.loaded"
fi
if [ ! -d "$ROOT/bench/node_modules/@duckdb/node-api" ]; then
	(cd "$ROOT/bench" && npm install --no-audit --no-fund @duckdb/node-api > /dev/null)
fi
bytes=$(du -sbL "$FEEDS" | cut -f1)

# yoc: analyse then report, wall clock of both
sync
t0=$(date +%s.%N)
YOC_QUIET=1 /usr/bin/time -f "%M %U %S" -o "$W/rss_analyse" "$YOC" analyse --db "$DS" --threads "$T" > "$W/analyse.txt"
t1=$(date +%s.%N)
YOC_QUIET=1 /usr/bin/time -f "%M %U %S" -o "$W/rss_report" "$YOC" report --db "$DS" --out "$W/report" > "$W/report.txt"
t2=$(date +%s.%N)
cpu_s=$(cat "$W/rss_analyse" "$W/rss_report" | awk '{s += $2 + $3} END {printf "%.2f", s}')
a_s=$(echo "$t1 - $t0" | bc)
r_s=$(echo "$t2 - $t1" | bc)
yoc_s=$(echo "$t2 - $t0" | bc)

# DuckDB: the same from the CSVs (in-memory database)
sync
t0=$(date +%s.%N)
node "$ROOT/bench/duckdb_analyse.mjs" "$FEEDS" "$ROOT/data" "$T" > "$W/duck.txt"
t1=$(date +%s.%N)
duck_s=$(echo "$t1 - $t0" | bc)
duck_db_s=""
if [ -f "$DUCKDB_FILE" ]; then
	sync
	t0=$(date +%s.%N)
	node "$ROOT/bench/duckdb_analyse.mjs" "$FEEDS" "$ROOT/data" "$T" "$DUCKDB_FILE" > "$W/duck_db.txt"
	t1=$(date +%s.%N)
	duck_db_s=$(echo "$t1 - $t0" | bc)
fi

yv=$(sqlite3 "$DS/yoc.db" "select count(*), sum(cost_total), sum(ltc_count), sum(emergency_admissions) from person_year" | tr '|' ' ')
dv=$(awk '$1=="person_years"||$1=="cost_total"||$1=="ltc_sum"||$1=="emergency_sum"{printf "%s ", $2}' "$W/duck.txt")
echo "analyse+report: $P persons x $Y years, feeds $(echo "$bytes / 1000000" | bc) MB, $T threads"
sed -n '$p' "$W/analyse.txt" | sed 's/^/  yoc /'
sed -n '3p' "$W/analyse.txt" | sed 's/^ */  yoc /'
printf '  yoc analyse %.2f s (peak %d MB) + report %.2f s (peak %d MB) = %.2f s wall, %s s CPU\n' \
	"$a_s" $(($(cut -d' ' -f1 "$W/rss_analyse") / 1024)) "$r_s" \
	$(($(cut -d' ' -f1 "$W/rss_report") / 1024)) "$yoc_s" "$cpu_s"
printf '  duckdb      %.2f s from the CSVs (%s)\n' "$duck_s" "$(sed -n 's/^steps //p' "$W/duck.txt")"
if [ -n "$duck_db_s" ]; then
	printf '  duckdb      %.2f s from its loaded tables\n' "$duck_db_s"
fi
printf '  ratio       duckdb / yoc = %.2fx (goal >= 2)\n' "$(echo "$duck_s / $yoc_s" | bc -l)"
echo "  totals (person-years, cost pence, LTCs, emergency admissions):"
echo "    yoc    $yv"
echo "    duckdb $dv"
cat > "$RES" <<EOF
persons $P
years $Y
csv_bytes $bytes
yoc_ar_s $yoc_s
yoc_ar_cpu $cpu_s
yoc_ar_rss_kb $(cut -d' ' -f1 "$W/rss_analyse")
duck_csv_report_s $duck_s
duck_db_report_s ${duck_db_s:-NA}
EOF

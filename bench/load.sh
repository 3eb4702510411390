#!/bin/sh
# Benchmark: `yoc load` against DuckDB loading the same CSV files into
# tables (Node @duckdb/node-api, installed here into bench/node_modules),
# in the same run. Prints the wall times (yoc with --jobs 1 and with the
# default, one worker per CPU, each with its CPU time), the ratio and the
# peak RSS.
#
# The feeds are a `yoc synth` economy pseudonymised with `yoc pseudonymise`,
# generated once into bench/data/ and reused:
#   bench/data/synth_<P>_<Y>/    yoc synth --persons P --years Y
#   bench/data/feeds_<P>_<Y>/    its pseudonymised feeds (what is loaded)
# BENCH_PERSONS (default 1000000), BENCH_YEARS (3), BENCH_REPEAT (3: runs
# of the default load and of DuckDB's, the median reported). Goal: yoc >= 4x its
# speed before parallel loading, >= 1.5x DuckDB's, memory <= 4 GB. A
# benchmark measures; it never fails on a time. The figures also go to
# bench/data/results_load_<P>_<Y>.txt ("key value" lines), from which
# bench/run.sh prints its summary table.
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
YOC=${YOC:-$ROOT/yoc}
P=${BENCH_PERSONS:-1000000}
Y=${BENCH_YEARS:-3}
DATA=$ROOT/bench/data
S=$DATA/synth_${P}_${Y}
FEEDS=$DATA/feeds_${P}_${Y}
W=$DATA/load_${P}_${Y}
RES=$DATA/results_load_${P}_${Y}.txt
mkdir -p "$DATA" "$W"
if [ ! -f "$FEEDS/.done" ]; then
	rm -rf "$S" "$FEEDS" "$DATA/bench.key"
	echo "load: generating $P persons x $Y years (once) into $S"
	YOC_QUIET=1 "$YOC" synth --persons "$P" --years "$Y" --data "$ROOT/data" --out "$S" > /dev/null
	"$YOC" keygen --out "$DATA/bench.key" > /dev/null
	YOC_QUIET=1 "$YOC" pseudonymise --key "$DATA/bench.key" --in "$S/feeds" --out "$FEEDS" > /dev/null
	touch "$FEEDS/.done"
fi
files=$(find -L "$FEEDS" -name '*.csv' | wc -l)
bytes=$(du -sbL "$FEEDS" | cut -f1)

# yoc: one process, the whole tree, one atomic load; one file at a time
# (--jobs 1) and with the default (a worker per CPU). Wall and CPU time
# (user + sys, all threads) of each: the machine may be shared.
yoc_run() { # $1 = --jobs value or "" for the default; sets yoc_s, cpu_s, rss
	rm -rf "$W/ds" "$W/ds.loaded" && "$YOC" init "$W/ds" > /dev/null
	sync
	t0=$(date +%s.%N)
	YOC_QUIET=1 /usr/bin/time -v "$YOC" load ${1:+--jobs "$1"} --db "$W/ds" "$FEEDS" \
		> /dev/null 2> "$W/time.txt"
	t1=$(date +%s.%N)
	yoc_s=$(echo "$t1 - $t0" | bc)
	cpu_s=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$W/time.txt")
	rss=$(awk '/Maximum resident/ {print $NF}' "$W/time.txt")
}
# The default load and DuckDB's are each run BENCH_REPEAT times (default 3)
# and the median reported, every run beside it: on this machine (a virtual
# machine whose host lends memory on first touch) the same load's system
# time moves between 7 and 25 s from one run to the next (docs/scale.md).
REPEAT=${BENCH_REPEAT:-3}
median() { # of the numbers on stdin
	tr ' ' '\n' | grep . | sort -g |
		awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
yoc_run 1
yoc1_s=$yoc_s cpu1_s=$cpu_s rss1=$rss
runs="" cpus="" rssmax=0
i=0
while [ "$i" -lt "$REPEAT" ]; do
	yoc_run ""
	runs="$runs $yoc_s" cpus="$cpus $cpu_s"
	[ "$rss" -gt "$rssmax" ] && rssmax=$rss
	i=$((i + 1))
done
yoc_s=$(echo "$runs" | median) cpu_s=$(echo "$cpus" | median) rss=$rssmax
touch "$W/ds.loaded" # bench/analyse.sh analyses this dataset rather than load its own
rows=$(sqlite3 "$W/ds/yoc.db" "select sum(rows) from files")
loaded=$(sqlite3 "$W/ds/yoc.db" "select sum(loaded) from files")
ds_bytes=$(du -sb "$W/ds" | cut -f1)

# DuckDB: one table per feed kind from all its files, persisted (CHECKPOINT)
[ -d "$ROOT/bench/node_modules/@duckdb/node-api" ] ||
	npm install --silent --prefix "$ROOT/bench" @duckdb/node-api > /dev/null
druns="" dcpus="" duck_rss=0
i=0
while [ "$i" -lt "$REPEAT" ]; do
	rm -f "$W/duck.db" "$W/duck.db.wal"
	sync
	duck_out=$(cd "$ROOT/bench" && /usr/bin/time -v node duckdb_load.mjs "$FEEDS" "$W/duck.db" 2> "$W/duck_time.txt")
	duck_rows=${duck_out#* }
	druns="$druns ${duck_out% *}"
	dcpus="$dcpus $(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$W/duck_time.txt")"
	r=$(awk '/Maximum resident/ {print $NF}' "$W/duck_time.txt")
	[ "$r" -gt "$duck_rss" ] && duck_rss=$r
	i=$((i + 1))
done
duck_s=$(echo "$druns" | median) duck_cpu=$(echo "$dcpus" | median)
duck_bytes=$(du -sb "$W/duck.db" | cut -f1)
echo "load: $files files, $rows rows ($loaded loaded), $((bytes / 1048576)) MiB of CSV"
echo "load: yoc --jobs 1   ${yoc1_s}s wall, ${cpu1_s}s CPU  peak RSS $((rss1 / 1024)) MiB"
echo "load: yoc (default) ${yoc_s}s wall, ${cpu_s}s CPU  peak RSS $((rss / 1024)) MiB ($(nproc) CPUs; median of$runs)"
echo "load: duckdb ${duck_s}s wall, ${duck_cpu}s CPU  peak RSS $((duck_rss / 1024)) MiB ($duck_rows rows, $(nproc) threads; median of$druns)"
echo "load: speed ratio duckdb/yoc = $(echo "scale=2; $duck_s / $yoc_s" | bc)x (goal >= 1.5x)"
echo "load: dataset $((ds_bytes / 1048576)) MiB, DuckDB database $((duck_bytes / 1048576)) MiB, CSV $((bytes / 1048576)) MiB"
cat > "$RES" <<EOF
persons $P
years $Y
files $files
rows $rows
csv_bytes $bytes
yoc_load_s $yoc_s
yoc_load_runs$runs
yoc_load_cpu $cpu_s
yoc_load_rss_kb $rss
yoc_load1_s $yoc1_s
yoc_load1_cpu $cpu1_s
yoc_ds_bytes $ds_bytes
duck_load_s $duck_s
duck_load_runs$druns
duck_load_cpu $duck_cpu
duck_load_rss_kb $duck_rss
duck_db_bytes $duck_bytes
EOF

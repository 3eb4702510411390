#!/bin/sh
# Benchmark: strong scaling of the sharded verbs under MPI (docs/mpi.md).
# The same pseudonymised feeds (bench/load.sh makes them once into
# bench/data/feeds_<P>_<Y>) are loaded, analysed and reported by one
# process without MPI, then under mpirun with K = 1 and K = 2 ranks, each
# rank one thread (--jobs 1, --threads 1), so K ranks use K cores.
# Prints per verb the wall and CPU time (user + sys of every rank), the
# speed-up and efficiency T1 / (K * TK) at K = 2 (goal >= 80%), and the
# bytes sent per row read (the load's all-to-all) and gathered for the
# report (tables and partials received by rank 0), and the report's CPU
# efficiency: the busiest rank's until the partials are merged, and rank
# 0's in all (its critical path on cores of its own). BENCH_PERSONS (default
# 100000), BENCH_YEARS (3). BENCH_KEEP=1 keeps the datasets (BENCH_MPI_DIR,
# default bench/data/mpi) and, when they are there, BENCH_REPORT_ONLY=1
# times the reports alone.
# A benchmark measures; it never fails on a time.
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
YOC=${YOC:-$ROOT/yoc}
P=${BENCH_PERSONS:-100000}
Y=${BENCH_YEARS:-3}
DATA=$ROOT/bench/data
FEEDS=$DATA/feeds_${P}_${Y}
W=${BENCH_MPI_DIR:-$DATA/mpi}
if ! command -v mpirun > /dev/null 2>&1; then
	echo "mpi: mpirun not installed (openmpi-bin): skipped"
	exit 0
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 YOC_QUIET=1
export YOC_DATA="${YOC_DATA:-$ROOT/data}"
S=$DATA/synth_${P}_${Y}
if [ ! -f "$FEEDS/.done" ]; then # as bench/load.sh makes them
	rm -rf "$S" "$FEEDS"
	echo "mpi: generating $P persons x $Y years (once) into $S"
	mkdir -p "$DATA"
	[ -f "$DATA/bench.key" ] || "$YOC" keygen --out "$DATA/bench.key" > /dev/null
	"$YOC" synth --persons "$P" --years "$Y" --data "$ROOT/data" --out "$S" > /dev/null
	"$YOC" pseudonymise --key "$DATA/bench.key" --in "$S/feeds" --out "$FEEDS" > /dev/null
	touch "$FEEDS/.done"
fi
if [ "${BENCH_REPORT_ONLY:-0}" = 1 ] && [ -f "$W/load2.t" ]; then
	only=1
else
	only=0
	rm -rf "$W" && mkdir -p "$W"
fi

# run NAME command...: wall and CPU (user + sys of the process and every
# child it waited for: mpirun's ranks) into $W/NAME.t, output into $W/NAME.out
run() {
	name=$1; shift
	sync
	t0=$(date +%s.%N)
	/usr/bin/time -f '%U %S %M' -o "$W/$name.time" "$@" > "$W/$name.out" 2> "$W/$name.err" || {
		echo "mpi: $name failed"; tail -5 "$W/$name.err"; exit 1; }
	t1=$(date +%s.%N)
	awk -v w="$(echo "$t1 - $t0" | bc)" '{ printf "%.2f %.2f %d\n", w, $1 + $2, $3 }' \
		"$W/$name.time" > "$W/$name.t"
}
wall() { cut -d' ' -f1 "$W/$1.t"; }
cpu() { cut -d' ' -f2 "$W/$1.t"; }

MPI="mpirun --oversubscribe --bind-to none"
if [ $only = 0 ]; then
	"$YOC" init "$W/plain" > /dev/null
	run load0 "$YOC" load --jobs 1 --db "$W/plain" "$FEEDS"
	run analyse0 "$YOC" analyse --threads 1 --db "$W/plain"
fi
run report0 "$YOC" report --db "$W/plain" --out "$W/r0"
if [ $only = 0 ]; then
	run load1 $MPI -n 1 "$YOC" load --jobs 1 --shards "$W/k1s0" "$FEEDS"
	run analyse1 $MPI -n 1 "$YOC" analyse --threads 1 --shards "$W/k1s0"
fi
run report1 $MPI -n 1 "$YOC" report --shards "$W/k1s0" --out "$W/r1"
if [ $only = 0 ]; then
	run load2 $MPI -n 2 "$YOC" load --jobs 1 --shards "$W/k2s0" "$W/k2s1" "$FEEDS"
	run analyse2 $MPI -n 2 "$YOC" analyse --threads 1 --shards "$W/k2s0" "$W/k2s1"
fi
run report2 $MPI -n 2 "$YOC" report --shards "$W/k2s0" "$W/k2s1" --out "$W/r2"

same=yes
diff -r "$W/r0/csv" "$W/r2/csv" > /dev/null || same=NO
rows=$(sed -n 's/^shards: [0-9]*; rows read \([0-9]*\),.*/\1/p' "$W/load2.out")
sent=$(sed -n 's/.*; \([0-9]*\) bytes sent .*/\1/p' "$W/load2.out")
py=$(sqlite3 "$W/plain/yoc.db" "select count(*) from person_year" 2>/dev/null || echo 0)
pyr=$(sqlite3 "$W/plain/yoc.db" "select count(*) from person_year where fyear = (select max(fyear) from person_year)" 2>/dev/null || echo 0)
tabs=$(sed -n 's/^shards: 2; rank 0 received \([0-9]*\) bytes of tables.*/\1/p' "$W/report2.out")
parts=$(sed -n 's/^shards: 2; .* and \([0-9]*\) bytes of partials.*/\1/p' "$W/report2.out")
echo "mpi: $P persons x $Y years: $rows rows read, $py person-years; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %22s %22s %22s %9s %9s\n' verb "plain wall/CPU s" "K=1 wall/CPU s" "K=2 wall/CPU s" "speed-up" "effic."
for v in load analyse report; do
	[ -f "$W/${v}1.t" ] || continue
	printf '%-8s %22s %22s %22s' $v "$(wall ${v}0) / $(cpu ${v}0)" "$(wall ${v}1) / $(cpu ${v}1)" \
		"$(wall ${v}2) / $(cpu ${v}2)"
	awk -v a="$(wall ${v}1)" -v b="$(wall ${v}2)" 'BEGIN { printf " %8.2fx %8.0f%%\n", a / b, 100 * a / (2 * b) }'
done
awk -v s="$sent" -v r="$rows" 'BEGIN { printf "mpi: load K=2 sent %.0f bytes, %.1f per row read\n", s, s / r }'
awk -v t="$tabs" -v g="$parts" -v p="$py" -v q="$pyr" 'BEGIN { printf "mpi: report K=2: rank 0 received %.0f bytes of tables and %.0f of partials, %.1f per person-year of the whole dataset (%.1f per person-year of the year reported)\n", t, g, p ? (t + g) / p : 0, q ? (t + g) / q : 0 }'
# the report's own CPU figures: the busiest rank's until the partials are
# merged (the part on every rank) and rank 0's in all (the critical path)
b1=$(sed -n "s/.*busiest rank's CPU until then \([0-9.]*\)s.*/\1/p" "$W/report1.out")
b2=$(sed -n "s/.*busiest rank's CPU until then \([0-9.]*\)s.*/\1/p" "$W/report2.out")
z1=$(sed -n 's/.*report \([0-9.]*\)s CPU at rank 0 in all.*/\1/p' "$W/report1.out")
z2=$(sed -n 's/.*report \([0-9.]*\)s CPU at rank 0 in all.*/\1/p' "$W/report2.out")
awk -v a="$b1" -v b="$b2" -v c="$z1" -v d="$z2" 'BEGIN { if (b > 0 && d > 0) printf "mpi: report CPU: busiest rank until the partials are merged %.2f s (K=1), %.2f s (K=2): %.0f%%; rank 0 in all %.2f s, %.2f s: %.0f%%\n", a, b, 100 * a / (2 * b), c, d, 100 * c / (2 * d) }'
echo "mpi: K=2 report tables equal the single process's: $same"
awk -v a="$(wall load1)" -v b="$(wall load2)" -v c="$(wall analyse1)" -v d="$(wall analyse2)" \
	'BEGIN { e = 100 * (a + c) / (2 * (b + d)); printf "mpi: load + analyse efficiency at K=2: %.0f%% (goal 80%%)%s\n", e, e < 80 ? " MISSED" : "" }'
[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$W"

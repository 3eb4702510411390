#!/bin/sh
# Benchmark: yoc reshard (docs/mpi.md, "Resharding"). The pseudonymised
# feeds (bench/load.sh makes them once into bench/data/feeds_<P>_<Y>) are
# loaded into one dataset; then 1 -> 2 from the dataset, 2 -> 1 from the
# shards, and 1 -> 2 by --replay of the feeds. Prints the wall and CPU time
# (user + sys) and peak memory of each, the bytes read (the source's
# segments and catalog) and written (the targets), and checks that the
# 2 -> 1 segments are the source's and the 1 -> 2 segments the replay's,
# byte for byte. BENCH_PERSONS (default 100000), BENCH_YEARS (3),
# BENCH_WORK (default bench/data/reshard: removed and made again). A
# benchmark measures; it never fails on a time.
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
YOC=${YOC:-$ROOT/yoc}
P=${BENCH_PERSONS:-100000}
Y=${BENCH_YEARS:-3}
DATA=$ROOT/bench/data
FEEDS=$DATA/feeds_${P}_${Y}
W=${BENCH_WORK:-$DATA/reshard}
export YOC_QUIET=1 YOC_DATA="${YOC_DATA:-$ROOT/data}"
S=$DATA/synth_${P}_${Y}
if [ ! -f "$FEEDS/.done" ]; then # as bench/load.sh makes them
	rm -rf "$S" "$FEEDS"
	echo "reshard: generating $P persons x $Y years (once) into $S"
	mkdir -p "$DATA"
	[ -f "$DATA/bench.key" ] || "$YOC" keygen --out "$DATA/bench.key" > /dev/null
	"$YOC" synth --persons "$P" --years "$Y" --data "$ROOT/data" --out "$S" > /dev/null
	"$YOC" pseudonymise --key "$DATA/bench.key" --in "$S/feeds" --out "$FEEDS" > /dev/null
	touch "$FEEDS/.done"
fi
rm -rf "$W" && mkdir -p "$W"

# run NAME command...: wall, CPU (user + sys) and peak RSS into $W/NAME.t
run() {
	name=$1; shift
	sync
	t0=$(date +%s.%N)
	/usr/bin/time -f '%U %S %M' -o "$W/$name.time" "$@" > "$W/$name.out" 2> "$W/$name.err" || {
		echo "reshard: $name failed"; tail -5 "$W/$name.err"; exit 1; }
	t1=$(date +%s.%N)
	awk -v w="$(echo "$t1 - $t0" | bc)" '{ printf "%.2f %.2f %d\n", w, $1 + $2, $3 }' \
		"$W/$name.time" > "$W/$name.t"
}
bytes() { du -sb "$@" | awk '{ s += $1 } END { print s }'; }
segs() { (cd "$1/segments" && ls | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-16); }

"$YOC" init "$W/ds" > /dev/null
run load "$YOC" load --db "$W/ds" "$FEEDS"
run split "$YOC" reshard --from "$W/ds" --to "$W/two/s0" "$W/two/s1"
run join "$YOC" reshard --from "$W/two/s0" "$W/two/s1" --to "$W/one"
run replay "$YOC" reshard --replay --from "$W/ds" --to "$W/rep/s0" "$W/rep/s1"

rows=$(sqlite3 "$W/ds/yoc.db" "select sum(loaded) from files")
echo "reshard: $P persons x $Y years: $rows rows loaded; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %10s %10s %10s %14s %14s\n' step "wall s" "CPU s" "peak MB" "read bytes" "written bytes"
line() { # $1 name, $2 what, $3 bytes read, $4 bytes written
	read -r w c m < "$W/$1.t"
	printf '%-34s %10s %10s %10d %14s %14s\n' "$2" "$w" "$c" $((m / 1024)) "$3" "$4"
}
line load "load (for scale)" "$(bytes "$FEEDS")" "$(bytes "$W/ds")"
line split "1 -> 2 from the dataset" "$(bytes "$W/ds")" "$(bytes "$W/two/s0" "$W/two/s1")"
line join "2 -> 1 from the shards" "$(bytes "$W/two/s0" "$W/two/s1")" "$(bytes "$W/one")"
line replay "1 -> 2 --replay (reads the feeds)" "$(bytes "$FEEDS")" "$(bytes "$W/rep/s0" "$W/rep/s1")"
same1=yes; [ "$(segs "$W/ds")" = "$(segs "$W/one")" ] || same1=NO
same2=yes
for i in 0 1; do [ "$(segs "$W/two/s$i")" = "$(segs "$W/rep/s$i")" ] || same2=NO; done
echo "reshard: 2 -> 1 segments equal the source's: $same1; 1 -> 2 segments equal --replay's: $same2"

#!/bin/sh
# Benchmark: the yoc CSV reader against DuckDB, both on one core, reading
# the same two generated HES-like files (21 columns, >= 1 GiB each): one
# without quotes, one with 20% of fields quoted (some holding commas or
# doubled quotes). Both count rows and non-empty cells of every column and
# sum the length of the last column; the script checks that they agree.
# Prints: file, size MB, yoc MB/s (best of 3), DuckDB MB/s (best of 2), ratio.
#
# MB/s is file size (10^6 bytes) over the CPU time (user + system) the
# reading process spent on the read, which is the time on one core and does
# not count waiting for a busy machine's CPU; BENCH_CSV_CLOCK=wall uses the
# wall clock instead. Both readers time only the read, not process start.
#
#   BENCH_CSV_BYTES  size of each file (default 1073741824)
#   BENCH_CSV_RUNS   yoc runs (default 3); DuckDB gets BENCH_CSV_DUCK_RUNS (2)
#   BENCH_CSV_CLOCK  cpu (default) or wall
#
# Data goes to bench/data/ (git-ignored) and is reused when present with the
# right size. DuckDB comes from npm (@duckdb/node-api into bench/node_modules);
# without node/npm the DuckDB columns say n/a. Chatter goes to stderr, and
# only when stderr is a terminal.
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BYTES=${BENCH_CSV_BYTES:-1073741824}
RUNS=${BENCH_CSV_RUNS:-3}
DUCK_RUNS=${BENCH_CSV_DUCK_RUNS:-2}
CLOCK=${BENCH_CSV_CLOCK:-cpu}
case $CLOCK in
cpu) off=0 ;;
wall) off=1 ;;
*) echo "bench/csv: BENCH_CSV_CLOCK must be cpu or wall" >&2; exit 2 ;;
esac
DATA=bench/data
BIN=build/bench

say() { [ -t 2 ] && echo "bench/csv: $*" >&2 || true; }
die() { echo "bench/csv: $*" >&2; exit 1; }

command -v gcc > /dev/null || die "gcc not found (run: make deps)"
say "building build/libyoc.a"
make --no-print-directory build/libyoc.a > /dev/null || die "cannot build build/libyoc.a"
mkdir -p "$DATA" "$BIN"
gcc -O2 -o "$BIN/gen_csv" bench/gen_csv.c || die "cannot build bench/gen_csv.c"
gcc -std=c11 -D_GNU_SOURCE -O2 -Iinclude -o "$BIN/csv_scan" bench/csv_scan.c build/libyoc.a \
	|| die "cannot build bench/csv_scan.c"

size_of() { stat -c %s "$1" 2> /dev/null || echo 0; }

# gen NAME QUOTED_PERCENT: makes bench/data/NAME unless it is already there.
gen() {
	f=$DATA/$1
	if [ "$(size_of "$f")" -lt "$BYTES" ]; then
		say "generating $f ($BYTES bytes, $2% quoted)"
		"$BIN/gen_csv" "$f.tmp" "$BYTES" "$2" || die "generating $f failed"
		mv "$f.tmp" "$f"
	fi
}
# The generator version is in the names, so a changed generator never
# reuses stale files.
gen hes_plain_v1.csv 0
gen hes_quoted20_v1.csv 20

duck=1
if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
	say "node/npm not found: DuckDB columns skipped"
	duck=0
elif [ ! -d bench/node_modules/@duckdb/node-api ]; then
	say "installing @duckdb/node-api into bench/node_modules"
	if ! npm install --prefix bench --no-save --no-audit --no-fund --silent @duckdb/node-api \
		> /dev/null 2>&1; then
		echo "bench/csv: npm install @duckdb/node-api failed: DuckDB columns skipped" >&2
		duck=0
	fi
fi

# best_of N CMD...: runs CMD N times, prints the output line with the
# smallest time (the last field for cpu, the one before it for wall).
best_of() {
	n=$1
	shift
	all=""
	i=0
	while [ "$i" -lt "$n" ]; do
		out=$("$@") || die "failed: $*"
		all=$(printf '%s\n%s' "$all" "$out")
		i=$((i + 1))
	done
	printf '%s\n' "$all" | awk -v off="$off" 'NF { t = $(NF - off) + 0
		if (line == "" || t < min) { min = t; line = $0 } } END { print line }'
}

echo "CSV read, one core, MB/s by $CLOCK time (yoc best of $RUNS, DuckDB best of $DUCK_RUNS)"
printf '%-22s %9s %10s %12s %7s\n' file "size MB" "yoc MB/s" "DuckDB MB/s" ratio
for name in hes_plain_v1.csv hes_quoted20_v1.csv; do
	f=$DATA/$name
	mb=$(awk -v b="$(size_of "$f")" 'BEGIN { printf "%.1f", b / 1e6 }')
	say "yoc: $name x$RUNS"
	cat "$f" > /dev/null # into the page cache, for both readers alike
	y=$(best_of "$RUNS" "$BIN/csv_scan" "$f")
	# rows cells nonempty lastlen bad wall cpu
	set -- $y
	y_rows=$1 y_ne=$3 y_last=$4 y_bad=$5 y_s=$7
	[ $CLOCK = wall ] && y_s=$6
	[ "$y_bad" = 0 ] || die "yoc reported $y_bad malformed rows in $f"
	y_rate=$(awk -v m="$mb" -v s="$y_s" 'BEGIN { printf "%.0f", m / s }')
	d_rate=n/a ratio=n/a
	if [ $duck = 1 ]; then
		say "DuckDB: $name x$DUCK_RUNS"
		d=$(best_of "$DUCK_RUNS" node bench/duckdb_csv.mjs "$f")
		# rows nonempty lastlen wall cpu
		set -- $d
		d_s=$5
		[ $CLOCK = wall ] && d_s=$4
		if [ "$1 $2 $3" != "$y_rows $y_ne $y_last" ]; then
			die "yoc and DuckDB disagree on $name: yoc $y_rows $y_ne $y_last, DuckDB $1 $2 $3"
		fi
		d_rate=$(awk -v m="$mb" -v s="$d_s" 'BEGIN { printf "%.0f", m / s }')
		ratio=$(awk -v a="$y_rate" -v b="$d_rate" 'BEGIN { printf "%.1fx", a / b }')
	fi
	printf '%-22s %9s %10s %12s %7s\n' "$name" "$mb" "$y_rate" "$d_rate" "$ratio"
done

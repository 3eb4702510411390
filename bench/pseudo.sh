#!/bin/sh
# Benchmark: rows per second of `yoc pseudonymise` on one core, over a large
# identifiable feed (default 10 million rows, 500,000 distinct NHS numbers,
# 16 columns of which 3 are dropped and 2 transformed).
#
#   sh bench/pseudo.sh [ROWS]          (YOC=path/to/yoc, default ./yoc)
#
# The feed is generated once into $BENCH_DIR (default: /dev/shm if it has
# room, else $TMPDIR or /tmp, so the disk's fsync speed is not what is
# measured) and removed afterwards. yoc pseudonymise is single-threaded, so
# it runs on one core. The best of 3 runs is reported, by wall clock and by
# CPU time (user + system, which a busy machine inflates less):
#   pseudonymise: N rows (M MB) in S s = R million rows/s, ...
#   pseudonymise: C s of CPU = R million rows per CPU-second
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
YOC=${YOC:-$ROOT/yoc}
ROWS=${1:-${PSEUDO_BENCH_ROWS:-10000000}}
DISTINCT=500000
[ -x "$YOC" ] || { echo "bench/pseudo.sh: build yoc first ($YOC)" >&2; exit 1; }

if [ -z "$BENCH_DIR" ]; then
	BENCH_DIR=${TMPDIR:-/tmp}
	if [ -d /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR==2{print $4}')" -gt 6000000 ]; then
		BENCH_DIR=/dev/shm
	fi
fi
W=$(mktemp -d "$BENCH_DIR/yoc_bench_pseudo.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM

# One block of up to 1,000,000 rows drawn from DISTINCT people (about 1%
# invalid and 0.5% missing NHS numbers), repeated to make ROWS.
BLOCK=$ROWS
[ "$BLOCK" -gt 1000000 ] && BLOCK=1000000
awk -v n="$BLOCK" -v distinct="$DISTINCT" 'BEGIN {
	srand(42)
	k = 0
	for (p = 400000000; k < distinct; p++) {
		s = 0; t = p
		for (w = 2; w <= 10; w++) { s += (t % 10) * w; t = int(t / 10) }
		c = 11 - s % 11; if (c == 11) c = 0
		if (c == 10) continue
		nhs[k++] = sprintf("%09d%d", p, c)
	}
	split("Ann Bob Cara Dev Eve Finn Gita Hal Ida Jon", fn, " ")
	split("Smith Jones Patel Khan Brown Taylor Wilson Evans Ali Wood", sn, " ")
	split("A00 B20 C34 E11 F32 I10 I21 J44 K35 N18 R69 Z00", dg, " ")
	print "NEWNHSNO,DOB,FORENAME,SURNAME,POSTCODE,SEX,ADMISORC,GPPRAC,LSOA11,PROCODE,EPISTART,ADMIMETH,DIAG_4_01,HRG,SUSSPELLID,COST"
	for (r = 0; r < n; r++) {
		i = int(rand() * distinct)
		u = rand()
		id = nhs[i]
		if (u < 0.005) id = ""
		else if (u < 0.015) id = substr(id, 1, 9) (substr(id, 10, 1) + 1) % 10
		printf "%s,%04d-%02d-%02d,%s,%s,LS%d %dAB,%d,%s,B%05d,E0100%04d,RR8,2023-%02d-%02d,%d,%s,HRG%03d,S%08d,%d.%02d\n",
			id, 1930 + i % 90, 1 + i % 12, 1 + i % 28, fn[1 + i % 10], sn[1 + int(i / 10) % 10],
			i % 30, i % 9, 1 + i % 2, substr("ABCDEFGHJ", 1 + i % 9, 1), 80000 + i % 700,
			i % 9000, 1 + r % 12, 1 + r % 28, 11 + r % 3, dg[1 + r % 12], r % 1000, r,
			100 + r % 5000, r % 100
	}
}' > "$W/block.csv"
head -n 1 "$W/block.csv" > "$W/feed.csv"
left=$ROWS
while [ "$left" -gt 0 ]; do
	take=$left
	[ "$take" -gt "$BLOCK" ] && take=$BLOCK
	tail -n +2 "$W/block.csv" | head -n "$take" >> "$W/feed.csv"
	left=$((left - take))
done
rm -f "$W/block.csv"
umask 077
"$YOC" keygen --out "$W/key" > /dev/null

TIME=""
[ -x /usr/bin/time ] && TIME="/usr/bin/time -f %U+%S -o $W/cpu.txt"
best=""
bestcpu=""
for run in 1 2 3; do
	t0=$(date +%s.%N)
	YOC_QUIET=1 $TIME "$YOC" pseudonymise --key "$W/key" --in "$W/feed.csv" \
		--out "$W/out.csv" > "$W/summary.txt"
	t1=$(date +%s.%N)
	s=$(echo "$t0 $t1" | awk '{printf "%.3f", $2 - $1}')
	if [ -z "$best" ]; then best=$s; else best=$(echo "$best $s" | awk '{ print ($2 < $1) ? $2 : $1 }'); fi
	if [ -n "$TIME" ]; then
		c=$(awk -F+ '{ printf "%.3f", $1 + $2 }' "$W/cpu.txt")
		if [ -z "$bestcpu" ]; then bestcpu=$c; else bestcpu=$(echo "$bestcpu $c" | awk '{ print ($2 < $1) ? $2 : $1 }'); fi
	fi
done
rows_in=$(sed -n 's/.*rows in \([0-9]*\),.*/\1/p' "$W/summary.txt")
[ "$rows_in" = "$ROWS" ] || { echo "bench/pseudo.sh: expected $ROWS rows, got '$rows_in'" >&2; exit 1; }
bytes=$(wc -c < "$W/feed.csv")
echo "$ROWS $best $bytes" | awk '{printf "pseudonymise: %d rows (%.0f MB) in %.2f s = %.2f million rows/s, %.0f MB/s (best of 3, one core; goal 3 million rows/s)\n", $1, $3 / 1e6, $2, $1 / $2 / 1e6, $3 / $2 / 1e6}'
# CPU time (user + system) does not count time spent waiting for a busy machine.
[ -n "$bestcpu" ] && echo "$ROWS $bestcpu" | awk '{printf "pseudonymise: %.2f s of CPU = %.2f million rows per CPU-second\n", $2, $1 / $2 / 1e6}'
exit 0

#!/bin/sh
# Opt-in benchmark (not part of make bench): an integrated care system's
# scale, BENCH_PERSONS (default 3000000) x BENCH_YEARS (3) years, about 100
# million rows. Runs synth -> pseudonymise -> load -> analyse -> report
# under /usr/bin/time -v and records wall time, CPU time (user + sys) and
# peak RSS of each step in bench/data/results_scale_<P>_<Y>.txt, which
# bench/summary.sh prints. Goals (docs/scale.md): every step within 24 GiB;
# load + analyse + report <= 5 minutes and <= 8 GiB peak.
#
# Disk: the synthetic extracts (about 5 GB of CSV per million persons over
# 3 years) are deleted once pseudonymised; the feeds and the dataset are
# deleted at the end (BENCH_KEEP=1 keeps them). The script refuses to start
# unless the file system holding bench/data has room for the largest moment
# (extracts + feeds, or feeds + dataset) plus BENCH_FREE_GB (10) to spare.
# A benchmark measures; it never fails on a time.
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
YOC=${YOC:-$ROOT/yoc}
P=${BENCH_PERSONS:-3000000}
Y=${BENCH_YEARS:-3}
SPARE=${BENCH_FREE_GB:-10}
DATA=$ROOT/bench/data
W=$DATA/scale_${P}_${Y}
RES=$DATA/results_scale_${P}_${Y}.txt
mkdir -p "$DATA"
# GB per million persons over 3 years: extracts 5, feeds 5, dataset 1.6
# (segment format 2); the largest moment is extracts + feeds
need=$(awk -v p="$P" -v y="$Y" -v s="$SPARE" 'BEGIN {printf "%d", p / 1e6 * y / 3 * 10 + s + 1}')
free=$(df -Pk "$DATA" | awk 'NR == 2 {print int($4 / 1048576)}')
if [ "$free" -lt "$need" ]; then
	echo "scale: $P persons x $Y years needs about $need GB free on $DATA (incl. $SPARE GB" \
		"to spare), $free GB free: not run" >&2
	exit 1
fi
rm -rf "$W"
mkdir -p "$W"

step() { # name, command...: runs it under time -v, prints and records the figures
	name=$1
	shift
	YOC_QUIET=1 /usr/bin/time -v "$@" > "$W/$name.out" 2> "$W/$name.time"
	wall=$(awk -F': ' '/Elapsed/ {n = split($2, t, ":"); s = 0;
		for (i = 1; i <= n; i++) s = s * 60 + t[i]; printf "%.1f", s}' "$W/$name.time")
	cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$W/$name.time")
	rss=$(awk '/Maximum resident/ {print $NF}' "$W/$name.time")
	printf 'scale: %-13s %8s s wall %8s s CPU  peak RSS %6d MiB\n' "$name" "$wall" "$cpu" \
		$((rss / 1024))
	printf '%s_s %s\n%s_cpu %s\n%s_rss_kb %s\n' "$name" "$wall" "$name" "$cpu" "$name" "$rss" \
		>> "$RES.tmp"
}

printf 'persons %s\nyears %s\ndate %s\n' "$P" "$Y" "$(date -u +%Y-%m-%dT%H:%MZ)" > "$RES.tmp"
step synth "$YOC" synth --persons "$P" --years "$Y" --data "$ROOT/data" --out "$W/synth"
"$YOC" keygen --out "$W/k.key" > /dev/null
step pseudonymise "$YOC" pseudonymise --key "$W/k.key" --in "$W/synth/feeds" --out "$W/feeds"
rm -rf "$W/synth"
printf 'csv_bytes %s\n' "$(du -sb "$W/feeds" | cut -f1)" >> "$RES.tmp"
"$YOC" init "$W/ds" > /dev/null
step load "$YOC" load --db "$W/ds" "$W/feeds"
printf 'ds_bytes %s\nrows %s\n' "$(du -sb "$W/ds" | cut -f1)" \
	"$(sed -n 's/^load committed: .*; \([0-9]*\) rows:.*/\1/p' "$W/load.out")" >> "$RES.tmp"
step analyse "$YOC" analyse --db "$W/ds"
step report "$YOC" report --db "$W/ds" --out "$W/report"
mv "$RES.tmp" "$RES"
awk '/^(load|analyse|report)_s / {s += $2} END {printf "scale: load + analyse + report %.1f s wall (goal <= 300)\n", s}' "$RES"
awk '/^(load|analyse|report)_rss_kb / {if ($2 > m) m = $2} END {printf "scale: largest peak RSS of the three %d MiB (goal <= 8192)\n", m / 1024}' "$RES"
[ -n "$BENCH_KEEP" ] || rm -rf "$W"

#!/bin/sh
# The summary table of make bench: yoc against DuckDB on the same feeds, in
# the same run, for the load, analyse + report, and the whole path from
# pseudonymised feeds to the report, with the dataset's size next to the
# CSV's. Reads what bench/load.sh and bench/analyse.sh left in
# bench/data/results_{load,analyse}_<P>_<Y>.txt (P = BENCH_PERSONS, default
# 1000000; Y = BENCH_YEARS, 3), and the figures of bench/scale.sh (3,000,000
# persons, opt-in) when it has run. Wall times on a shared machine vary; CPU
# time (user + sys) is printed beside yoc's.
#   feeds -> report: yoc load + analyse + report; DuckDB reading the CSVs and
#   computing the report's aggregates in one go (bench/duckdb_analyse.mjs),
#   its fastest path.
#   analyse + report: DuckDB from the tables of its load (duckdb_load.mjs).
cd "$(dirname "$0")/.." || exit 1
P=${BENCH_PERSONS:-1000000}
Y=${BENCH_YEARS:-3}
DATA=bench/data
L=$DATA/results_load_${P}_${Y}.txt
A=$DATA/results_analyse_${P}_${Y}.txt
S=$DATA/results_scale_3000000_${Y}.txt

get() { # file key
	awk -v k="$2" '$1 == k {print $2}' "$1" 2>/dev/null
}
ratio() { # duckdb yoc
	if [ -n "$1" ] && [ -n "$2" ] && [ "$1" != NA ]; then
		echo "scale=2; $1 / $2" | bc
	else
		echo "-"
	fi
}
mib() {
	[ -n "$1" ] && echo "$(($1 / 1048576)) MiB" || echo "-"
}

echo "== summary: yoc vs DuckDB, $P persons x $Y years"
if [ ! -f "$L" ] || [ ! -f "$A" ]; then
	echo "  (needs bench/load.sh and bench/analyse.sh at BENCH_PERSONS=$P: not both run)"
else
	yl=$(get "$L" yoc_load_s) ylc=$(get "$L" yoc_load_cpu) dl=$(get "$L" duck_load_s)
	ya=$(get "$A" yoc_ar_s) yac=$(get "$A" yoc_ar_cpu) da=$(get "$A" duck_db_report_s)
	de=$(get "$A" duck_csv_report_s)
	ye=$(echo "$yl + $ya" | bc) yec=$(echo "$ylc + $yac" | bc)
	echo "  feeds: $(get "$L" files) files, $(get "$L" rows) rows, CSV $(mib "$(get "$L" csv_bytes)");" \
		"yoc dataset $(mib "$(get "$L" yoc_ds_bytes)"), DuckDB database $(mib "$(get "$L" duck_db_bytes)")"
	printf '  %-18s %12s %12s %12s %12s\n' "" "yoc wall s" "yoc CPU s" "duckdb s" "duckdb/yoc"
	printf '  %-18s %12.1f %12.1f %12.1f %12s\n' "load" "$yl" "$ylc" "$dl" "$(ratio "$dl" "$yl")"
	if [ "$da" = NA ]; then
		printf '  %-18s %12.1f %12.1f %12s %12s\n' "analyse+report" "$ya" "$yac" "-" "-"
	else
		printf '  %-18s %12.1f %12.1f %12.1f %12s\n' "analyse+report" "$ya" "$yac" "$da" \
			"$(ratio "$da" "$ya")"
	fi
	printf '  %-18s %12.1f %12.1f %12.1f %12s\n' "feeds -> report" "$ye" "$yec" "$de" \
		"$(ratio "$de" "$ye")"
	runs=$(awk '$1 == "yoc_load_runs" {$1 = ""; print}' "$L") druns=$(awk '$1 == "duck_load_runs" {$1 = ""; print}' "$L")
	[ -n "$runs" ] && echo "  load: medians; yoc's runs:$runs s, DuckDB's:$druns s"
	echo "  goals: load >= 4x faster than one thread before parallel loading;" \
		"feeds -> report >= 2x DuckDB's speed"
fi
if [ -f "$S" ]; then
	echo "  3,000,000 persons x $Y years (bench/scale.sh, run $(get "$S" date)):" \
		"CSV $(mib "$(get "$S" csv_bytes)"), dataset $(mib "$(get "$S" ds_bytes)")"
	for step in load analyse report; do
		printf '    %-8s %8s s wall %8s s CPU  peak RSS %s MiB\n' "$step" "$(get "$S" ${step}_s)" \
			"$(get "$S" ${step}_cpu)" "$(($(get "$S" ${step}_rss_kb) / 1024))"
	done
else
	echo "  3,000,000 persons: not measured here (opt-in: sh bench/scale.sh; docs/scale.md)"
fi

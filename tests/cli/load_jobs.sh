#!/bin/sh
# yoc load --jobs N: files are read, validated and encoded by N threads and
# committed in load order, so the dataset (catalog rows, segments, exports),
# the per-file output and the quarantine are the same whatever N; a load
# with several workers killed mid-way leaves the previous state and the next
# load succeeds.
. "$(dirname "$0")/lib.sh"
G=$TMP/feeds
python3 "$YOC_ROOT/tests/cli/feedgen.py" "$G" 600 8 900 5 > /dev/null
# files refused or quarantined in various ways, spread among the good ones
mkdir -p "$G/odd"
printf 'NEWNHSNO,DOB,APPTDATE,ATTENDED\n9434765919,1970-01-01,2023-01-02,5\n' > "$G/odd/OPX_2023-01.csv"
{
	echo 'PSEUDO_ID,APPTDATE,ATTENDED,ATTENDKEY'
	for i in 1 2 3 4 5 6; do echo "$(printf '%064d' $i),2023-01-0$i,5,9434765919"; done
} > "$G/odd/OPP_2023-01.csv"
printf 'not,a,feed\n1,2,3\n' > "$G/odd/notes.csv"
cp "$G/apc/RXA_2023-02.csv" "$G/apc/RXA_2023-02_v2.csv"
head -n 40 "$G/op/RXB_2023-03.csv" > "$G/op/RXB_2023-03_v2.csv"
printf 'x,y\n' >> "$G/op/RXB_2023-03_v2.csv"

# the dataset's content, timestamps aside, and its activity as exported
dump() { # $1 dataset, $2 output
	db=$1/yoc.db
	{
		sqlite3 "$db" "select file_id, load_id, kind, provider, period, path, hash, bytes,
			delimiter, segment, status, rows, loaded, quarantined, flagged, superseded_by
			from files order by file_id"
		for t in quarantine flags file_stats file_columns nhsno_status source_account \
			source_rejected duplicate_files person linkage; do
			echo "== $t"; sqlite3 "$db" "select * from $t order by rowid"
		done
		sqlite3 "$db" "select files, rows, loaded, quarantined, unchanged, replaced from loads"
		(cd "$1/segments" && cksum *)
		for k in apc op gp_register person linkage quarantine flags file_stats; do
			"$YOC" export --db "$1" --table "$k"
		done
	} > "$2" 2>&1
}

for n in 1 2 4; do
	"$YOC" init "$TMP/d$n" > /dev/null
	"$YOC" load --jobs $n --db "$TMP/d$n" "$G" > "$TMP/out$n" 2> "$TMP/err$n"
	echo $? > "$TMP/rc$n"
	# a second load: every file unchanged (or refused again)
	"$YOC" load --jobs $n --db "$TMP/d$n" "$G" > "$TMP/again$n" 2>&1
	dump "$TMP/d$n" "$TMP/dump$n"
done
same "--jobs 1 refuses the odd files (exit 1)" "$(cat "$TMP/rc1")" 1
check "the identifier in values is refused" grep -q "OPP_2023-01.csv: .*NHS numbers" "$TMP/err1"
check "the identifier header is refused" grep -q "OPX_2023-01.csv: .*pseudonymise" "$TMP/err1"
check "rows were quarantined" grep -q "rows* quarantined: " "$TMP/err1"
check "a file was replaced by its _v2" grep -q "RXB_2023-03_v2.csv: .*\[replaced\]" "$TMP/out1"
same "the dataset holds files" "$(sqlite3 "$TMP/d1/yoc.db" "select count(*) > 20 from files")" 1
for n in 2 4; do
	same "--jobs $n: same exit status as --jobs 1" "$(cat "$TMP/rc$n")" "$(cat "$TMP/rc1")"
	check "--jobs $n: same per-file output and totals" cmp "$TMP/out1" "$TMP/out$n"
	check "--jobs $n: same messages (refusals, quarantine)" cmp "$TMP/err1" "$TMP/err$n"
	check "--jobs $n: same reload output" cmp "$TMP/again1" "$TMP/again$n"
	check "--jobs $n: same catalog rows, segments and exports" cmp "$TMP/dump1" "$TMP/dump$n"
done
"$YOC" load --jobs 4 --json --db "$TMP/d4" "$G" > "$TMP/json4" 2>/dev/null
"$YOC" load --jobs 1 --json --db "$TMP/d1" "$G" > "$TMP/json1" 2>/dev/null
check "--json output is the same for --jobs 1 and 4" cmp "$TMP/json1" "$TMP/json4"
expect_rc 2 "--jobs 0 is refused" "$YOC" load --jobs 0 --db "$TMP/d1" "$G"
expect_rc 2 "--jobs x is refused" "$YOC" load --jobs x --db "$TMP/d1" "$G"

# --- kills with several workers: the dataset is the previous state or the new one
D=$TMP/k
"$YOC" init "$D" > /dev/null
"$YOC" load --db "$D" "$G/gp_register" > /dev/null
sqlite3 "$D/yoc.db" .dump > "$TMP/pre.dump"
cp -r "$D" "$TMP/pre.ds"
t0=$(date +%s%N)
"$YOC" load --jobs 2 --db "$TMP/d1x" "$G" > /dev/null 2>&1
cp -r "$TMP/pre.ds" "$TMP/ref" && "$YOC" load --jobs 2 --db "$TMP/ref" "$G" > /dev/null 2>&1
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
[ "$ms" -lt 50 ] && ms=50
KILLS=${YOC_KILLS:-12}
bad=0; killed=0; i=0
while [ $i -lt "$KILLS" ]; do
	i=$((i+1))
	jobs=$((2 + (i % 2) * 2))
	delay=$(awk -v i="$i" -v n="$KILLS" -v ms="$ms" -v r="$(od -An -N2 -tu2 /dev/urandom)" \
		'BEGIN { printf "%.3f", ((i - 1) + r / 65536) / n * ms / 1000 }')
	"$YOC" load --jobs $jobs --db "$D" "$G" > /dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	if kill -9 "$pid" 2>/dev/null; then killed=$((killed+1)); fi
	wait "$pid" 2>/dev/null
	if sqlite3 "$D/yoc.db" "select count(*) from loads" | grep -qx 1; then
		sqlite3 "$D/yoc.db" .dump > "$TMP/post.dump"
		if ! cmp -s "$TMP/pre.dump" "$TMP/post.dump"; then
			bad=$((bad+1)); echo "# kill $i (--jobs $jobs) after ${delay}s: dataset differs"
		fi
	else
		rm -rf "$D" && cp -r "$TMP/pre.ds" "$D"
	fi
done
[ "$killed" -gt 0 ] && ok "$killed of $KILLS loads with 2 or 4 workers killed mid-way" ||
	not_ok "no load was killed"
same "after every kill the dataset equals its pre-load state" "$bad" 0
"$YOC" load --jobs 2 --db "$D" "$G" > /dev/null 2>&1
same "the next load runs (exit 1: the odd files are refused)" "$?" 1
check "no orphan segments or temporaries remain" sh -c \
	"[ \$(ls '$D/segments' | wc -l) -eq \$(sqlite3 '$D/yoc.db' 'select count(*) from files') ]"
dump "$D" "$TMP/kdump"
dump "$TMP/ref" "$TMP/rdump"
check "the dataset equals a clean load of the same files" cmp "$TMP/kdump" "$TMP/rdump"
done_testing

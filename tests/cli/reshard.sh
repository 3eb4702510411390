#!/bin/sh
# yoc reshard from the datasets themselves, the feeds moved away
# (docs/mpi.md, "Resharding"). A small economy with its defects and a few
# made ones (a nulled pseudonym, a ragged row, a refused value holding a
# comma, a resubmission, a copy sent twice) is loaded in three loads into
# one dataset D1; then, with no feed left to read:
#   - 1 -> 2: each file's rows, loaded and quarantined (and flags, and the
#     file statistics' filled, empty and invalid counts, and the NHS number
#     statuses) add up over the shards to D1's, with rows = loaded +
#     quarantined in each shard; every person's rows (activity, person
#     table, quarantine) are in shard FNV-1a-64(pseudonym) mod 2, recomputed
#     here in Python; the segments and catalog rows are those that
#     `reshard --replay` (the load history replayed, through the loader)
#     makes, load times aside;
#   - 2 -> 1: the dataset is D1 again: every catalog table (linkage of
#     superseded files aside, documented) and every segment byte for byte;
#   - 1 -> 3 -> 2 equals 1 -> 2; under mpirun, 3 shards of a sharded load
#     resharded to 2 give the account, person_year and report of a 2-rank load;
#   - after analyse: person_year equals D1's; the sharded report's tables
#     equal D1's report (mpirun only);
#   - the sources are only read; a reshard killed at moments spread over its
#     run leaves each target empty or whole, and the rerun finishes it;
#   - targets holding other data, a source given as a target, shards out of
#     order, and --kind without --replay are refused.
. "$(dirname "$0")/lib.sh"

for c in sqlite3 python3; do
	if ! command -v $c >/dev/null 2>&1; then
		skip "reshard" "$c missing"; done_testing; exit 0
	fi
done
HAVE_MPI=0
command -v mpirun >/dev/null 2>&1 && HAVE_MPI=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export YOC_DATA="${YOC_DATA:-$YOC_ROOT/data}"
MPI="env ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 mpirun --oversubscribe"
cd "$TMP" || exit 1
PERSONS=${YOC_RESHARD_PERSONS:-2000}

"$YOC" synth --persons "$PERSONS" --years 2 --out S > /dev/null 2>&1
"$YOC" keygen --out K > /dev/null 2>&1
expect_rc 0 "pseudonymise a $PERSONS-person economy" \
	"$YOC" pseudonymise --key K --in S/feeds --out P --optout S/optout.csv
# made defects: a pseudonym the load nulls (its row is routed by the cell as
# sent), a ragged row (no person), a refused date holding a comma
f=P/op/RA1_2021-04.csv
awk -F, 'NR == 5 { $1 = "not-a-pseudonym" } NR == 7 { $0 = $1 ",x" } { print }' OFS=, "$f" > f.tmp && mv f.tmp "$f"
hdr=$(head -n 1 "$f")
datecol=$(echo "$hdr" | tr ',' '\n' | grep -n 'DATE' | head -1 | cut -d: -f1)
awk -F, -v c="$datecol" 'NR == 9 { $c = "\"1,2\"" } { print }' OFS=, "$f" > f.tmp && mv f.tmp "$f"
# a later resubmission, and a copy of a loaded file under another name
mkdir -p L3/op L3/copy
head -n 40 P/op/RA2_2021-05.csv > L3/op/RA2_2021-05_v2.csv
cp P/ae/RA1_2021-06.csv L3/copy/RA1_2021-06.csv 2>/dev/null ||
	cp "$(ls P/ae/*.csv | head -1)" L3/copy/
"$YOC" init D1 > /dev/null
"$YOC" load --db D1 P/gp_register P/deaths > /dev/null 2>&1
"$YOC" load --db D1 P > /dev/null 2>&1
"$YOC" load --db D1 L3 > /dev/null 2>&1
"$YOC" analyse --db D1 > /dev/null
same "D1: three loads" "$(sqlite3 D1/yoc.db 'select count(*) from loads')" 3
same "D1: a file replaced, a copy remembered" \
	"$(sqlite3 D1/yoc.db "select (select count(*) from files where status = 'replaced') > 0,
		(select count(*) from duplicate_files) > 0")" "1|1"
same "D1: a nulled pseudonym, a ragged row, a refused value with a comma" \
	"$(sqlite3 D1/yoc.db "select (select count(*) from flags where field = 'PSEUDO_ID' and action = 'nulled') > 0,
		(select count(*) from quarantine where reason = 'csv_ragged_row') > 0,
		(select count(*) from quarantine where value like '%,%') > 0")" "1|1|1"
[ $HAVE_MPI = 1 ] && "$YOC" report --db D1 --out R1 > /dev/null 2>&1

# the same history written in segment format 1 (the test-only switch of the writer)
"$YOC" init D1v1 > /dev/null
{ YOC_SEG_VERSION=1 "$YOC" load --db D1v1 P/gp_register P/deaths
  YOC_SEG_VERSION=1 "$YOC" load --db D1v1 P
  YOC_SEG_VERSION=1 "$YOC" load --db D1v1 L3; } > /dev/null 2>&1
# a file whose person is its second column and whose first holds a refused
# value with a comma: that quarantined row's person cannot be read back
mkdir -p O/op
python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
c = rows[0].index("PSEUDO_ID"); d = int(sys.argv[2]) - 1
w = csv.writer(open(sys.argv[3], "w", newline=""), lineterminator="\n")
for r in rows:
    if len(r) == len(rows[0]):
        w.writerow([r[d], r[c]] + [x for i, x in enumerate(r) if i not in (c, d)])' \
	P/op/RA1_2021-04.csv "$datecol" O/op/RC1_2021-04.csv
"$YOC" init D2 > /dev/null && "$YOC" load --db D2 O > /dev/null 2>&1
# the replay, while the feeds are there (run from the folder the loads ran in)
expect_rc 0 "reshard --replay 1 -> 2 (the feeds read again)" \
	"$YOC" reshard --replay --from D1 --to XR/s0 XR/s1
tree_sum() { (cd "$1" && find . -type f | LC_ALL=C sort | xargs sha256sum); }
tree_sum D1 > d1.before
mkdir away && mv P L3 away/
expect_rc 1 "with the feeds moved away, --replay cannot run" \
	"$YOC" reshard --replay --from D1 --to XQ
check "and says which feed it cannot read" grep -q "cannot be read: reshard replays" "$TMP/.err"

# ---- 1 -> 2, from the dataset ----
expect_rc 0 "reshard 1 -> 2 from the dataset" "$YOC" reshard --from D1 --to X/s0 X/s1
cp "$TMP/.out" x.out
check "it says the analysis is not carried" grep -q "not carried: the analysis" x.out
same "it names no row it could not place exactly (stderr empty)" "$(cat "$TMP/.err")" ""
tree_sum D1 > d1.after
check "the source is only read" cmp -s d1.before d1.after

acct() { # $@ dbs: per file, the sums over shards and rows = loaded + quarantined in each
	for db in "$@"; do
		sqlite3 -csv "$db" "select file_id, path, status, hash, bytes, rows, loaded, quarantined,
			flagged, rows = loaded + quarantined from files"
	done | python3 -c '
import sys, csv
t = {}
for fid, p, st, h, b, r, l, q, f, ok in csv.reader(sys.stdin):
    a = t.setdefault((fid, p, st, h, b), [0, 0, 0, 0, 1])
    for i, v in enumerate((r, l, q, f)): a[i] += int(v)
    a[4] &= int(ok)
for k in sorted(t): print(",".join(k), *t[k])'
}
sums() { # $1 sql giving key..., counts (last $2 columns summed); $@ dbs
	sql=$1; n=$2; shift 2
	for db in "$@"; do sqlite3 -csv "$db" "$sql"; done | python3 -c '
import sys, csv
n = int(sys.argv[1]); t = {}
for r in csv.reader(sys.stdin):
    a = t.setdefault(tuple(r[:-n]), [0] * n)
    for i, v in enumerate(r[-n:]): a[i] += int(v or 0)
for k in sorted(t): print(",".join(k), *t[k])' "$n"
}
rowsets() { # $@ dbs: quarantine and flags, as one sorted list
	for db in "$@"; do
		sqlite3 -csv "$db" "select 'q', file_id, line, field, value, reason, raw from quarantine;
			select 'f', file_id, line, field, value, reason, action from flags"
	done | LC_ALL=C sort
}
STATS="select file_id, field, filled, empty, invalid from file_stats"
NHS="select file_id, status, rows from nhsno_status"
acct D1/yoc.db > acct1
[ -s acct1 ] && awk '$NF != 1 { bad = 1 } END { exit bad }' acct1 && ok "D1: rows = loaded + quarantined" ||
	not_ok "D1: rows = loaded + quarantined"
rowsets D1/yoc.db > rows1
sums "$STATS" 3 D1/yoc.db > stats1
sums "$NHS" 1 D1/yoc.db > nhs1
same_file() { # $1 what, $2 $3 files
	if cmp -s "$2" "$3"; then ok "$1"; else not_ok "$1"; diff "$2" "$3" | head -5 | sed 's/^/# /'; fi
}
acct X/s0/yoc.db X/s1/yoc.db > acctX
same_file "1 -> 2: every file's rows, loaded, quarantined, flagged add up to D1's; rows = loaded + quarantined in each shard" acct1 acctX
rowsets X/s0/yoc.db X/s1/yoc.db > rowsX
same_file "1 -> 2: every quarantined row and flag is in one shard" rows1 rowsX
sums "$STATS" 3 X/s0/yoc.db X/s1/yoc.db > statsX
same_file "1 -> 2: file statistics (filled, empty, invalid) add up to D1's" stats1 statsX
sums "$NHS" 1 X/s0/yoc.db X/s1/yoc.db > nhsX
same_file "1 -> 2: NHS number statuses add up to D1's" nhs1 nhsX
same "1 -> 2: each shard is marked" "$(sqlite3 X/s0/yoc.db "select value from meta where key = 'shard'") $(sqlite3 X/s1/yoc.db "select value from meta where key = 'shard'")" "0/2 1/2"

# every person in the shard FNV-1a-64(pseudonym) mod k names
placed() { # $1 k, then dirs: bad placements (-1 when too few rows were seen)
	k=$1; shift
	i=0
	for d in "$@"; do
		sqlite3 "$d/yoc.db" "select pseudo_id from person" | sed "s/^/$i /"
		for kind in apc op ae gp_appt gp_register; do
			"$YOC" export --db "$d" --table $kind 2>/dev/null | python3 -c '
import sys, csv
r = csv.reader(sys.stdin); h = next(r, [])
c = h.index("PSEUDO_ID") if "PSEUDO_ID" in h else -1
for row in r:
    if c >= 0 and row[c]: print(sys.argv[1], row[c])' $i
		done
		sqlite3 -csv "$d/yoc.db" "select raw from quarantine where reason not like 'csv_%'" |
			python3 -c '
import sys, csv
for (raw,) in csv.reader(sys.stdin):
    p = raw.split(",")[0]
    if len(p) == 64: print(sys.argv[1], p)' $i
		i=$((i+1))
	done | python3 -c '
import sys
k = int(sys.argv[1]); bad = 0; n = 0
for line in sys.stdin:
    s, p = line.split()
    h = 0xcbf29ce484222325
    for c in p.encode(): h = ((h ^ c) * 0x100000001b3) % (1 << 64)
    n += 1
    bad += (h % k) != int(s)
print(bad if n > 1000 else -1)' "$k"
}
same "1 -> 2: every person's rows are in shard FNV-1a-64(pseudonym) mod 2" "$(placed 2 X/s0 X/s1)" 0
# the nulled pseudonym's row follows the cell as sent; the ragged row file_id mod 2
fid=$(sqlite3 D1/yoc.db "select file_id from files where path like '%RA1_2021-04.csv' and kind = 'op'")
want=$(python3 -c '
h = 0xcbf29ce484222325
for c in b"not-a-pseudonym": h = ((h ^ c) * 0x100000001b3) % (1 << 64)
print(h % 2)')
got=$(for i in 0 1; do sqlite3 X/s$i/yoc.db "select $i from flags where file_id = $fid and field = 'PSEUDO_ID' and action = 'nulled'"; done)
same "1 -> 2: a nulled pseudonym's flag is in the shard of the cell as sent" "$got" "$want"
got=$(for i in 0 1; do sqlite3 X/s$i/yoc.db "select $i from quarantine where file_id = $fid and reason = 'csv_ragged_row'"; done)
same "1 -> 2: a ragged row is in shard file_id mod 2" "$got" "$((fid % 2))"

# the same as the replay through the loader: segments byte for byte, catalog rows
catalog() { # $1 dir: the catalog without load times and meta
	sqlite3 "$1/yoc.db" "select file_id, load_id, kind, provider, period, path, hash, bytes, delimiter,
		segment, rows, loaded, quarantined, flagged, status, superseded_by from files order by file_id;
		select * from file_columns; select * from quarantine; select * from flags;
		select * from file_stats; select * from nhsno_status; select * from person order by person_idx;
		select * from linkage where file_id in (select file_id from current_files) order by file_id, month;
		select path, file_id, hash, load_id from duplicate_files order by path;
		select load_id, files, rows, loaded, quarantined, replaced from loads order by load_id"
}
# (loads.unchanged aside: the replay counts only the copies it replays as
# unchanged, not the files an earlier load had; the full loads rows are
# checked 2 -> 1 below)
segs_same() { # $1 $2 dirs: every segment of $1 is in $2 with the same bytes
	n=0; bad=0
	for s in "$1"/segments/*; do
		n=$((n+1)); cmp -s "$s" "$2/segments/$(basename "$s")" || bad=$((bad+1))
	done
	[ $n -gt 100 ] && [ $bad -eq 0 ] && [ "$(ls "$2/segments" | wc -l)" -eq $n ]
}
for i in 0 1; do
	catalog X/s$i > catX$i; catalog XR/s$i > catR$i
	same_file "1 -> 2: shard $i's catalog is the replay's (load times aside)" catR$i catX$i
	check "1 -> 2: shard $i's segments are the replay's, byte for byte" segs_same XR/s$i X/s$i
done

# ---- 2 -> 1: D1 again ----
expect_rc 0 "reshard 2 -> 1" "$YOC" reshard --from X/s0 X/s1 --to Y
catalog D1 > cat1; catalog Y > catY
same_file "2 -> 1: every catalog table is D1's" cat1 catY
full() { sqlite3 "$1/yoc.db" "select * from files; select * from loads; select * from source_account;
	select * from source_rejected; select * from meta where key <> 'shard'"; }
full D1 > full1; full Y > fullY
same_file "2 -> 1: files, loads (with their times), source accounts and meta are D1's" full1 fullY
check "2 -> 1: every segment is D1's, byte for byte" segs_same D1 Y
"$YOC" analyse --db Y > /dev/null 2>&1
py_dump() { for db in "$@"; do sqlite3 -csv "$db" "select * from person_year"; done | LC_ALL=C sort; }
py_dump D1/yoc.db > py1
py_dump Y/yoc.db > pyY
[ "$(wc -l < py1)" -gt 1000 ] && same_file "2 -> 1: person_year after analyse is D1's" py1 pyY ||
	not_ok "2 -> 1: person_year after analyse is D1's (too few rows)"

# format 1 in, format 3 out: the segments a format-3 load writes
expect_rc 0 "reshard a format-1 dataset into one dataset" "$YOC" reshard --from D1v1 --to Yv2
check "its segments are those of the format-2 load, byte for byte" segs_same D1 Yv2

# a quarantined row whose person cannot be read back: named, by the no-person rule
same "D2: the row with a comma before its person is quarantined" \
	"$(sqlite3 D2/yoc.db "select count(*) from quarantine where raw like '%,%,%' and value like '%,%'")" 1
expect_rc 0 "reshard D2 1 -> 2" "$YOC" reshard --from D2 --to X2/s0 X2/s1
check "it names the quarantined row whose person it could not read" \
	grep -q "^yoc reshard: 1 quarantined rows hold commas" "$TMP/.err"
fid2=$(sqlite3 D2/yoc.db "select file_id from files")
got=$(for i in 0 1; do sqlite3 X2/s$i/yoc.db "select $i from quarantine where value like '%,%'"; done)
same "and puts it in shard file_id mod 2" "$got" "$((fid2 % 2))"
acct D2/yoc.db > acctD2; acct X2/s0/yoc.db X2/s1/yoc.db > acctX2
same_file "and every row is still counted once" acctD2 acctX2

# ---- 1 -> 3 -> 2 ----
expect_rc 0 "reshard 1 -> 3" "$YOC" reshard --from D1 --to T3/s0 T3/s1 T3/s2
same "1 -> 3: every person's rows are in shard FNV-1a-64(pseudonym) mod 3" "$(placed 3 T3/s0 T3/s1 T3/s2)" 0
acct T3/s0/yoc.db T3/s1/yoc.db T3/s2/yoc.db > acct3
same_file "1 -> 3: every file's rows add up to D1's" acct1 acct3
expect_rc 0 "reshard 3 -> 2" "$YOC" reshard --from T3/s0 T3/s1 T3/s2 --to Z/s0 Z/s1
for i in 0 1; do
	catalog Z/s$i > catZ$i
	same_file "3 -> 2: shard $i's catalog is that of 1 -> 2" catX$i catZ$i
	check "3 -> 2: shard $i's segments are those of 1 -> 2" segs_same X/s$i Z/s$i
done

# ---- analyse and report the shards ----
if [ $HAVE_MPI = 1 ]; then
	expect_rc 0 "analyse the 2 shards (mpirun)" $MPI -n 2 "$YOC" analyse --shards X/s0 X/s1
else
	"$YOC" analyse --db X/s0 > /dev/null 2>&1; "$YOC" analyse --db X/s1 > /dev/null 2>&1
fi
py_dump X/s0/yoc.db X/s1/yoc.db > pyX
same_file "1 -> 2: person_year after analyse is D1's" py1 pyX
if [ $HAVE_MPI = 1 ]; then
	$MPI -n 2 "$YOC" report --shards X/s0 X/s1 --out RX > /dev/null 2>&1
	if diff -r R1/csv RX/csv > /dev/null; then ok "1 -> 2: every report table equals D1's report"
	else not_ok "1 -> 2: every report table equals D1's report"; diff -r R1/csv RX/csv | head -5 | sed 's/^/# /'; fi
	# 3 shards of a sharded load (the feeds back for the load) into 2, against a 2-rank load
	mv away/P away/L3 .
	for k in 2 3; do
		dirs=""; i=0
		while [ $i -lt $k ]; do dirs="$dirs M$k/s$i"; i=$((i+1)); done
		# shellcheck disable=SC2086
		{ $MPI -n $k "$YOC" load --shards $dirs P/gp_register P/deaths
		  $MPI -n $k "$YOC" load --shards $dirs P
		  $MPI -n $k "$YOC" load --shards $dirs L3; } > /dev/null 2>&1
	done
	mv P L3 away/
	expect_rc 0 "reshard the 3 shards of a sharded load into 2" \
		"$YOC" reshard --from M3/s0 M3/s1 M3/s2 --to W/s0 W/s1
	acct M2/s0/yoc.db M2/s1/yoc.db > acctM2
	acct W/s0/yoc.db W/s1/yoc.db > acctW
	same_file "3 -> 2: every file's rows add up to those of a 2-rank load" acctM2 acctW
	same_file "3 -> 2: and to D1's" acct1 acctW
	same "3 -> 2: every person's rows are in shard FNV-1a-64(pseudonym) mod 2" "$(placed 2 W/s0 W/s1)" 0
	$MPI -n 2 "$YOC" analyse --shards M2/s0 M2/s1 > /dev/null 2>&1
	expect_rc 0 "analyse the resharded 2 shards" $MPI -n 2 "$YOC" analyse --shards W/s0 W/s1
	py_dump M2/s0/yoc.db M2/s1/yoc.db > pyM2
	py_dump W/s0/yoc.db W/s1/yoc.db > pyW
	same_file "3 -> 2: person_year equals that of a 2-rank load" pyM2 pyW
	$MPI -n 2 "$YOC" report --shards M2/s0 M2/s1 --out RM2 > /dev/null 2>&1
	$MPI -n 2 "$YOC" report --shards W/s0 W/s1 --out RW > /dev/null 2>&1
	if diff -r RM2/csv RW/csv > /dev/null; then ok "3 -> 2: every report table equals a 2-rank load's"
	else not_ok "3 -> 2: every report table equals a 2-rank load's"; diff -r RM2/csv RW/csv | head -5 | sed 's/^/# /'; fi
else
	skip "the reshard of a sharded load, the sharded report" "mpirun not installed (openmpi-bin)"
fi

# ---- a finished target, refused targets ----
expect_rc 0 "reshard again into finished targets" "$YOC" reshard --from D1 --to X/s0 X/s1
check "it has nothing to do" grep -q "nothing to do" "$TMP/.out"
"$YOC" init Zo > /dev/null && "$YOC" load --db Zo away/P/deaths > /dev/null 2>&1
expect_rc 1 "a target holding other data is refused" "$YOC" reshard --from D1 --to Zo
check "saying so" grep -q "holds other data" "$TMP/.err"
expect_rc 1 "a target that is a source is refused" "$YOC" reshard --from D1 --to D1
expect_rc 1 "shards out of order are refused" "$YOC" reshard --from X/s1 X/s0 --to Y3
check "naming the shard" grep -q "is shard 1/2 (rank/shards), not 0/2" "$TMP/.err"
expect_rc 1 "a target marked as another shard is refused" "$YOC" reshard --from D1 --to X/s1 X/s0
expect_rc 2 "--kind without --replay is a usage error" "$YOC" reshard --from D1 --to Y4 --kind op

# ---- killed at moments spread over a reshard, then run again ----
KILLS=${YOC_RESHARD_KILLS:-8}
t0=$(date +%s%N)
"$YOC" reshard --from D1 --to KR/s0 KR/s1 > /dev/null 2>&1
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
echo "# a 1 -> 2 reshard takes $ms ms; $KILLS kills spread over it"
i=0; badk=0; partial=0
while [ $i -lt "$KILLS" ]; do
	i=$((i+1))
	rm -rf K
	delay=$(awk -v i="$i" -v n="$KILLS" -v ms="$ms" 'BEGIN { printf "%.3f", (i - 0.5) / n * ms / 1000 }')
	"$YOC" reshard --from D1 --to K/s0 K/s1 > /dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	for s in 0 1; do
		[ -f K/s$s/yoc.db ] || continue
		if ! "$YOC" status --db K/s$s > /dev/null 2>&1; then badk=$((badk+1)); echo "# kill $i: shard $s does not open"; continue; fi
		n=$(sqlite3 K/s$s/yoc.db "select count(*) from files")
		if [ "$n" -eq 0 ]; then partial=$((partial+1)); continue; fi
		catalog K/s$s > now
		cmp -s now catX$s || { badk=$((badk+1)); echo "# kill $i: shard $s neither empty nor whole"; }
	done
	"$YOC" reshard --from D1 --to K/s0 K/s1 > /dev/null 2>&1 || { badk=$((badk+1)); echo "# kill $i: the rerun failed"; }
	for s in 0 1; do
		catalog K/s$s > now
		cmp -s now catX$s && segs_same X/s$s K/s$s || { badk=$((badk+1)); echo "# kill $i: shard $s after the rerun differs"; }
	done
done
echo "# $partial targets found empty after a kill"
# a kill between the commits leaves one target whole and the other empty
rm -rf K && mkdir -p K && cp -r X/s0 K/s0 && "$YOC" init K/s1 > /dev/null
expect_rc 0 "one target whole, one empty (killed between the commits): the rerun" \
	"$YOC" reshard --from D1 --to K/s0 K/s1
check "does the empty one and leaves the whole one" grep -q "1 target already held this reshard" "$TMP/.out"
catalog K/s1 > now
if cmp -s now catX1 && segs_same X/s1 K/s1; then ok "and the result equals a reshard never killed"
else not_ok "and the result equals a reshard never killed"; fi
same "killed reshards: every target opens empty or whole; reruns equal a reshard never killed" "$badk" 0

done_testing

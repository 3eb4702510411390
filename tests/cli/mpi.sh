#!/bin/sh
# Sharded load, analyse and report under MPI (docs/mpi.md): for K = 1..4
# ranks, on a small synthetic economy with its defects and a few odd files,
#   - every person's rows are in one shard, the one FNV-1a 64 of the
#     pseudonym mod K names (recomputed here in Python);
#   - person_year (every shard's, sorted) equals the single dataset's;
#   - every file's row accounting adds up across shards: rows = loaded +
#     quarantined in each, and the sums equal the single load's, as do the
#     quarantined rows themselves (file, line, field, reason);
#   - the printed per-file lines and messages equal the single load's;
#   - every report table (csv/) and page equals the single report's (the
#     dataset state hash of the footer aside: it hashes load times), and so
#     for an earlier year (--fyear); the sharded report merges partials;
#   - loading again changes nothing.
# Shards out of order, or a single dataset given as a shard, are refused.
# yoc reshard (1 -> 2, 3 -> 1, from the datasets, and 1 -> 2 by --replay of
# the feeds) gives the same catalog, person_year and report; a rerun changes
# nothing; a changed feed is refused by name by --replay (tests/cli/reshard.sh
# tests the reshard from the datasets further, without the feeds).
# Then ranks are killed at moments spread over a load: every shard must
# open, each at its previous state or the new one, and a rerun must equal
# a load never killed.
. "$(dirname "$0")/lib.sh"

if ! command -v mpirun >/dev/null 2>&1; then
	skip "mpi" "mpirun not installed (openmpi-bin)"; done_testing; exit 0
fi
for c in sqlite3 python3; do
	if ! command -v $c >/dev/null 2>&1; then
		skip "mpi" "$c missing"; done_testing; exit 0
	fi
done
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export YOC_DATA="${YOC_DATA:-$YOC_ROOT/data}"
# Under AddressSanitizer (make asan) the ranks do not check for leaks: Open MPI
# leaves memory allocated by its plugins at MPI_Finalize, reported from
# unloaded modules that no suppression can name. Every yoc run here without
# mpirun, the unit test and the fuzz corpus of src/shard still check.
MPI="env ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 mpirun --oversubscribe"
cd "$TMP" || exit 1
PERSONS=${YOC_MPI_PERSONS:-2500}

"$YOC" synth --persons "$PERSONS" --years 2 --out S > /dev/null 2>&1
"$YOC" keygen --out K > /dev/null 2>&1
expect_rc 0 "pseudonymise a $PERSONS-person economy" \
	"$YOC" pseudonymise --key K --in S/feeds --out P --optout S/optout.csv
# odd files: identifiers in values (refused whole on every shard), a header
# that is no feed's, a file with a header only, line ends CR alone and CRLF
pid=$(sed -n 2p P/ae/RA1_2021-04.csv | cut -d, -f1)
mkdir -p P/odd
{
	echo 'PSEUDO_ID,APPTDATE,ATTENDED,ATTENDKEY'
	for i in 1 2 3 4 5 6; do echo "$(printf '%064d' $i),2021-05-0$i,5,9434765919"; done
} > P/odd/OPP_2021-05.csv
printf 'not,a,feed\n1,2,3\n' > P/odd/notes.csv
head -n 1 P/op/RA1_2021-04.csv > P/odd/RA9_2021-04.csv
mkdir -p P/odd2
awk '{ printf "%s\r", $0 }' P/op/RA2_2021-04.csv > P/odd2/RA7_2021-04.csv
awk '{ printf "%s\r\n", $0 }' P/op/RA2_2021-05.csv > P/odd2/RA7_2021-05.csv

"$YOC" init D1 > /dev/null
"$YOC" load --db D1 P > single.out 2> single.err
"$YOC" analyse --db D1 > /dev/null
expect_rc 0 "single-process report" "$YOC" report --db D1 --out R1
grep -q "OPP_2021-05.csv: .*NHS numbers" single.err && ok "the single load refuses identifiers" ||
	not_ok "the single load refuses identifiers"

# person_year sorted; the quarantine by file path; the file accounting
py_dump() { # $@ shard dbs
	for db in "$@"; do sqlite3 -csv "$db" "select * from person_year"; done | LC_ALL=C sort
}
acct() { # $@ shard dbs: per file path, the sums over shards
	for db in "$@"; do
		sqlite3 -csv "$db" "select path, status, hash, bytes, rows, loaded, quarantined, flagged,
			rows = loaded + quarantined from files"
	done | python3 -c '
import sys, csv
t = {}
for p, st, h, b, r, l, q, f, ok in csv.reader(sys.stdin):
    a = t.setdefault((p, st, h, b), [0, 0, 0, 0, 1])
    for i, v in enumerate((r, l, q, f)): a[i] += int(v)
    a[4] &= int(ok)
for k in sorted(t): print(",".join(k), *t[k])'
}
quar() {
	for db in "$@"; do
		sqlite3 -csv "$db" "select f.path, q.line, q.field, q.reason, q.value from quarantine q
			join files f using(file_id)"
	done | LC_ALL=C sort
}
py_dump D1/yoc.db > py1
acct D1/yoc.db > acct1
quar D1/yoc.db > quar1
[ "$(wc -l < py1)" -gt 1000 ] && ok "single person_year has rows" || not_ok "single person_year has rows"
[ -s acct1 ] && awk '$NF != 1 { bad = 1 } END { exit bad }' acct1 && ok "single: rows = loaded + quarantined" ||
	not_ok "single: rows = loaded + quarantined"

# the page as published, its provenance footer (load times) aside
pages() { # $1 report dir
	(cd "$1" && find . -name '*.html' | LC_ALL=C sort | while read -r f; do
		echo "== $f"; sed 's/dataset state SHA-256 [0-9a-f]*/dataset state/' "$f"; done)
}
pages R1 > pages1

for k in 1 2 3 4; do
	dirs=""
	i=0
	while [ $i -lt $k ]; do dirs="$dirs M$k/s$i"; i=$((i+1)); done
	mkdir -p M$k
	# shellcheck disable=SC2086
	$MPI -n $k "$YOC" load --jobs 2 --shards $dirs P > load$k.mpi 2> load$k.err
	echo $? > rc$k
	same "K=$k: load exits as the single load does (a file refused: 1)" "$(cat rc$k)" 1
	grep -v '^source accounts' single.out > l1
	grep -v '^shards:' load$k.mpi > lk
	if cmp -s l1 lk; then ok "K=$k: per-file lines equal the single load's"; else
		not_ok "K=$k: per-file lines equal the single load's"; diff l1 lk | head -5; fi
	# yoc's own lines (mpirun adds a notice of the exit status 1)
	grep '^yoc ' load$k.err > ek
	if cmp -s single.err ek; then ok "K=$k: messages equal the single load's"; else
		not_ok "K=$k: messages equal the single load's"; diff single.err ek | head -10; fi
	grep -q "bytes sent" load$k.mpi && ok "K=$k: bytes sent reported" || not_ok "K=$k: bytes sent reported"
	dbs=""
	for d in $dirs; do dbs="$dbs $d/yoc.db"; done
	# shellcheck disable=SC2086
	acct $dbs > acct$k
	if cmp -s acct1 acct$k; then ok "K=$k: every file's rows add up to the single load's"; else
		not_ok "K=$k: every file's rows add up to the single load's"; diff acct1 acct$k | head -5; fi
	# shellcheck disable=SC2086
	quar $dbs > quar$k
	cmp -s quar1 quar$k && ok "K=$k: the quarantined rows are the single load's" ||
		not_ok "K=$k: the quarantined rows are the single load's"
	# every person in one shard, the documented one
	i=0
	for d in $dirs; do
		sqlite3 "$d/yoc.db" "select distinct pseudo_id from person" | sed "s/\$/ $i/"
		for kind in apc op ae gp_appt; do
			"$YOC" export --db "$d" --table $kind 2>/dev/null | sed 1d | cut -d, -f3 | sed "s/\$/ $i/"
		done
		i=$((i+1))
	done > who$k
	bad=$(python3 -c '
import sys
k = int(sys.argv[1]); bad = 0; n = 0
for line in open(sys.argv[2]):
    p, s = line.rsplit(" ", 1)
    p = p.strip("\"")
    if not p: continue
    h = 0xcbf29ce484222325
    for c in p.encode(): h = ((h ^ c) * 0x100000001b3) % (1 << 64)
    n += 1
    bad += (h % k) != int(s)
print(bad if n > 1000 else -1)' $k who$k)
	same "K=$k: every person's rows are in shard FNV-1a(pseudonym) mod K" "$bad" 0

	# shellcheck disable=SC2086
	expect_rc 0 "K=$k: analyse" $MPI -n $k "$YOC" analyse --shards $dirs
	# shellcheck disable=SC2086
	py_dump $dbs > py$k
	if cmp -s py1 py$k; then ok "K=$k: person_year equals the single dataset's"; else
		not_ok "K=$k: person_year equals the single dataset's"; diff py1 py$k | head -4; fi
	# shellcheck disable=SC2086
	expect_rc 0 "K=$k: report" $MPI -n $k "$YOC" report --shards $dirs --out R$k
	if diff -r R1/csv R$k/csv > /dev/null; then ok "K=$k: every report table equals the single's"
	else not_ok "K=$k: every report table equals the single's"; diff -r R1/csv R$k/csv | head -5; fi
	pages R$k > pages$k
	cmp -s pages1 pages$k && ok "K=$k: every report page equals the single's" ||
		not_ok "K=$k: every report page equals the single's"
	ls R$k.shards.* > /dev/null 2>&1 && not_ok "K=$k: the merged catalog is removed" ||
		ok "K=$k: the merged catalog is removed"
	# shellcheck disable=SC2086
	$MPI -n $k "$YOC" load --shards $dirs P > again$k 2>&1
	grep -q "(0 loaded, 0 replaced, 3[0-9]* unchanged" again$k && ok "K=$k: a second load changes nothing" ||
		{ not_ok "K=$k: a second load changes nothing"; grep committed again$k; }
done

# the report by reduction: an earlier year, every figure of it from the
# shards' partials; rank 0 says what it received; a year no shard holds
fy0=$(sqlite3 D1/yoc.db "select min(fyear) from person_year")
"$YOC" report --db D1 --fyear "$fy0" --out RF1 > /dev/null 2>&1
$MPI -n 3 "$YOC" report --shards M3/s0 M3/s1 M3/s2 --fyear "$fy0" --out RF3 > rf3.out 2>&1
if [ -n "$fy0" ] && diff -r RF1/csv RF3/csv > /dev/null; then ok "K=3, --fyear $fy0: every report table equals the single's"
else not_ok "K=3, --fyear $fy0: every report table equals the single's"; diff -r RF1/csv RF3/csv | head -5; fi
grep -q "rank 0 received [0-9]* bytes of tables and [0-9]* bytes of partials" rf3.out &&
	ok "K=3: the bytes rank 0 received are printed" || not_ok "K=3: the bytes rank 0 received are printed"
$MPI -n 2 "$YOC" report --shards M2/s0 M2/s1 --fyear 1999/00 --out RF9 > rf9.out 2>&1
grep -q "no person_year rows for 1999/00" rf9.out && [ ! -e RF9 ] &&
	ok "K=2: a year no shard holds is refused, nothing written" ||
	not_ok "K=2: a year no shard holds is refused, nothing written"

# --shards must name one folder per rank, in order, of one split
expect_rc 2 "two ranks, one folder: usage error" $MPI -n 2 "$YOC" analyse --shards M2/s0
$MPI -n 2 "$YOC" analyse --shards M2/s1 M2/s0 > /dev/null 2> swapped.err
grep -q "is shard 1/2 (rank/shards), not 0/2" swapped.err && ok "shards out of order are refused" ||
	not_ok "shards out of order are refused"
$MPI -n 2 "$YOC" analyse --shards D1 M2/s1 > /dev/null 2> plain.err
grep -q "loaded without --shards cannot be shard 0/2" plain.err && ok "a single dataset is not a shard" ||
	not_ok "a single dataset is not a shard"

# ---- reshard: 1 -> 2 (from the dataset, and replaying the feeds), 3 -> 1 ----
expect_rc 0 "reshard a single dataset into 2 shards" "$YOC" reshard --from D1 --to X/s0 X/s1
expect_rc 0 "the same by replaying the loaded feeds" "$YOC" reshard --replay --from D1 --to XR/s0 XR/s1
for i in 0 1; do
	a=$(cd X/s$i/segments && ls | LC_ALL=C sort | xargs cat | sha256sum)
	b=$(cd XR/s$i/segments && ls | LC_ALL=C sort | xargs cat | sha256sum)
	same "shard $i: the segments from the dataset are the replay's" "$a" "$b"
done
expect_rc 0 "analyse the 2 new shards" $MPI -n 2 "$YOC" analyse --shards X/s0 X/s1
py_dump X/s0/yoc.db X/s1/yoc.db > pyX
cmp -s py1 pyX && ok "resharded 1 -> 2: person_year equals the single dataset's" ||
	not_ok "resharded 1 -> 2: person_year equals the single dataset's"
acct X/s0/yoc.db X/s1/yoc.db > acctX
cmp -s acct1 acctX && ok "resharded 1 -> 2: every file's rows add up" || not_ok "resharded 1 -> 2: every file's rows add up"
$MPI -n 2 "$YOC" report --shards X/s0 X/s1 --out RX > /dev/null 2>&1
diff -r R1/csv RX/csv > /dev/null && ok "resharded 1 -> 2: the report's tables are the single's" ||
	not_ok "resharded 1 -> 2: the report's tables are the single's"
expect_rc 0 "reshard 3 shards into one dataset" "$YOC" reshard --from M3/s0 M3/s1 M3/s2 --to Y
catalog() { sqlite3 "$1/yoc.db" "select file_id, load_id, path, hash, bytes, rows, loaded, quarantined,
	flagged, status, superseded_by from files order by file_id; select * from quarantine;
	select * from flags; select * from person order by person_idx; select * from linkage;
	select path, file_id, hash from duplicate_files"; }
catalog D1 > cat1; catalog Y > catY
cmp -s cat1 catY && ok "resharded 3 -> 1: files, quarantine, flags, person and linkage are the single load's" ||
	{ not_ok "resharded 3 -> 1: files, quarantine, flags, person and linkage are the single load's"; diff cat1 catY | head -5; }
"$YOC" analyse --db Y > /dev/null
py_dump Y/yoc.db > pyY
cmp -s py1 pyY && ok "resharded 3 -> 1: person_year equals the single dataset's" ||
	not_ok "resharded 3 -> 1: person_year equals the single dataset's"
expect_rc 0 "reshard again into a finished target: nothing to do" "$YOC" reshard --from M3/s0 M3/s1 M3/s2 --to Y
catalog Y > catY2
cmp -s cat1 catY2 && ok "the rerun changes nothing" || not_ok "the rerun changes nothing"
mkdir -p Q && cp P/deaths/*.csv Q/
"$YOC" init DQ > /dev/null && "$YOC" load --db DQ Q > /dev/null 2>&1
expect_rc 1 "a target holding other data is refused" "$YOC" reshard --from D1 --to DQ Z1
f=$(ls Q/*.csv | head -1); sed -i '$d' "$f"
"$YOC" reshard --replay --from DQ --to ZQ > /dev/null 2> changed.err
grep -q "has changed since it was loaded as file" changed.err && ok "a feed changed since its load is refused by name" ||
	not_ok "a feed changed since its load is refused by name"

# ---- killed ranks ----
KILLS=${YOC_MPI_KILLS:-6}
mkdir -p first && cp -r P/gp_register P/deaths first/
state() { # $1 shard: its catalog without times
	sqlite3 "$1/yoc.db" "select file_id, hash, bytes, rows, loaded, quarantined, status,
		superseded_by from files order by file_id; select count(*) from person;
		select count(*) from quarantine; select count(*), sum(rows) from linkage"
}
$MPI -n 2 "$YOC" load --shards B/s0 B/s1 first > /dev/null 2>&1
cp -r B Bpre
state B/s0 > pre0; state B/s1 > pre1
cp -r B Bref
t0=$(date +%s%N)
$MPI -n 2 "$YOC" load --shards Bref/s0 Bref/s1 P > /dev/null 2>&1
t1=$(date +%s%N)
state Bref/s0 > new0; state Bref/s1 > new1
ms=$(( (t1 - t0) / 1000000 ))
echo "# a 2-rank load takes $ms ms; $KILLS kills spread over it"
i=0; badk=0; killed=0
while [ $i -lt "$KILLS" ]; do
	i=$((i+1))
	rm -rf B && cp -r Bpre B
	delay=$(awk -v i="$i" -v n="$KILLS" -v ms="$ms" 'BEGIN { printf "%.3f", (i - 0.5) / n * ms / 1000 }')
	$MPI -n 2 "$YOC" load --shards B/s0 B/s1 P > /dev/null 2>&1 &
	mp=$!
	sleep "$delay"
	# one rank (ours: a child of this mpirun), alternately the first and the second
	victims=$(ps -o pid= --ppid $mp 2>/dev/null | tr -d ' ')
	v=$(echo "$victims" | sed -n "$((1 + i % 2))p")
	[ -n "$v" ] && kill -9 "$v" 2>/dev/null && killed=$((killed+1))
	# mpirun ends the other rank; a rank killed while MPI starts can leave
	# mpirun waiting: after 60 s it is ended too (it is ours)
	n=0
	while kill -0 $mp 2>/dev/null && [ $n -lt 600 ]; do sleep 0.1; n=$((n+1)); done
	kill -0 $mp 2>/dev/null && { echo "# kill $i: mpirun still waiting after 60 s: ended"; kill -9 $mp; }
	wait $mp 2>/dev/null
	for s in 0 1; do
		if ! "$YOC" status --db B/s$s > /dev/null 2>&1; then badk=$((badk+1)); echo "# kill $i: shard $s does not open"; continue; fi
		state B/s$s > now
		cmp -s now pre$s || cmp -s now new$s || { badk=$((badk+1)); echo "# kill $i: shard $s neither old nor new"; }
	done
	$MPI -n 2 "$YOC" load --shards B/s0 B/s1 P > /dev/null 2>&1
	state B/s0 > now0; state B/s1 > now1
	cmp -s now0 new0 && cmp -s now1 new1 || { badk=$((badk+1)); echo "# kill $i: the rerun differs"; }
done
echo "# $killed ranks killed"
same "killed ranks: every shard opens at its previous or new state; reruns equal a clean load" "$badk" 0

done_testing

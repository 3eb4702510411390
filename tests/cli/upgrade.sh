#!/bin/sh
# yoc upgrade: a dataset written in segment format 1 (the writer's test-only
# switch YOC_SEG_VERSION=1, as releases before format 2 wrote) opens, gives
# the same exports after `yoc upgrade`, and holds only format-3 segments; so
# does one written in format 2 (YOC_SEG_VERSION=2, before the pseudonym pool).
# Killed with SIGKILL at moments spread over its run, the upgrade leaves a
# dataset that opens and gives the same exports, and the next run finishes.
. "$(dirname "$0")/lib.sh"
KILLS=${YOC_KILLS:-12}
KINDS="apc op gp_register"
G=$TMP/feeds
python3 "$YOC_ROOT/tests/cli/feedgen.py" "$G" 2000 12 4000 11 > /dev/null
V1=$TMP/v1
"$YOC" init "$V1" > /dev/null
YOC_SEG_VERSION=1 "$YOC" load --db "$V1" "$G" > /dev/null 2>&1
# and a person table as datasets written before it was keyed by pseudonym
sqlite3 "$V1/yoc.db" "BEGIN; ALTER TABLE person RENAME TO person_new;
CREATE TABLE person(person_idx INTEGER PRIMARY KEY, pseudo_id TEXT NOT NULL UNIQUE,
 sex TEXT, birth_month INTEGER, birth_year INTEGER, practice TEXT, lsoa TEXT,
 imd_decile INTEGER, reg_start TEXT, reg_end TEXT, date_of_death TEXT);
INSERT INTO person SELECT * FROM person_new ORDER BY person_idx; DROP TABLE person_new;
COMMIT; VACUUM;"
person_sql() { sqlite3 "$1/yoc.db" "select sql from sqlite_schema where name = 'person'"; }
same "the old dataset's person table has a rowid" "$(person_sql "$V1" | grep -c 'WITHOUT ROWID')" 0
magics() { for f in "$1"/segments/*; do head -c 8 "$f"; echo; done | sort | uniq -c | awk '{print $2 "=" $1}' | paste -sd' ' -; }
nfiles=$(sqlite3 "$V1/yoc.db" 'select count(*) from files')
same "the old writer wrote format 1" "$(magics "$V1")" "YOCSEG01=$nfiles"

export_all() { # $1 dataset, $2 output
	for k in $KINDS person linkage quarantine; do "$YOC" export --db "$1" --table $k; done > "$2"
}
export_all "$V1" "$TMP/v1.exp"
rows=$(for k in $KINDS; do "$YOC" export --db "$V1" --table $k | tail -n +2; done | wc -l)
same "format 1 is read: every loaded row exported" "$rows" \
	"$(sqlite3 "$V1/yoc.db" "select sum(loaded) from current_files where kind in ('apc','op','gp_register')")"

D=$TMP/ds
cp -r "$V1" "$D"
t0=$(date +%s%N)
expect_rc 0 "yoc upgrade succeeds" "$YOC" upgrade --db "$D"
t1=$(date +%s%N)
check "it reports the segments rewritten" grep -q "^upgrade: $nfiles segments rewritten in format 3" "$TMP/.out"
same "every segment is format 3" "$(magics "$D")" "YOCSEG03=$nfiles"
same "no old or stray files remain" "$(ls "$D/segments" | wc -l)" "$nfiles"
export_all "$D" "$TMP/up.exp"
check "the upgraded dataset exports the same" cmp "$TMP/v1.exp" "$TMP/up.exp"
check "it reports the person table converted" grep -q "^upgrade: person table keyed by pseudonym" "$TMP/.out"
same "the person table is keyed by pseudonym" "$(person_sql "$D" | grep -c 'pseudo_id TEXT PRIMARY KEY.*WITHOUT ROWID')" 1
same "no index on person is left" "$(sqlite3 "$D/yoc.db" "select count(*) from sqlite_schema where type = 'index' and tbl_name like 'person%'")" 0
same "the person rows are the same, in the same order" \
	"$(sqlite3 "$D/yoc.db" 'select * from person order by pseudo_id' | md5sum)" \
	"$(sqlite3 "$V1/yoc.db" 'select * from person order by person_idx' | md5sum)"
check "the catalog is smaller" test "$(stat -c %s "$D/yoc.db")" -lt "$(stat -c %s "$V1/yoc.db")"
same "the catalog is sound" "$(sqlite3 "$D/yoc.db" 'pragma integrity_check')" ok
check "the upgraded segments are smaller" test "$(du -sk "$D/segments" | cut -f1)" -lt "$(du -sk "$V1/segments" | cut -f1)"
expect_rc 0 "a second upgrade succeeds" "$YOC" upgrade --db "$D"
check "and has nothing to do" grep -q "^upgrade: nothing to do" "$TMP/.out"
# a later load into the upgraded dataset works as ever
"$YOC" init "$TMP/fresh" > /dev/null
"$YOC" load --db "$TMP/fresh" "$G" > /dev/null 2>&1
export_all "$TMP/fresh" "$TMP/fresh.exp"
same "a new dataset's person table is keyed by pseudonym" "$(person_sql "$TMP/fresh" | grep -c 'WITHOUT ROWID')" 1
check "a dataset loaded in format 3 exports the same as format 1" cmp "$TMP/v1.exp" "$TMP/fresh.exp"
# the pool holds each pseudonym of the loaded rows once (PSEUDO_ID: the third column of an export)
pool_n() { echo $(( ($(stat -c %s "$1/pseudonyms.pool") - 16) / 32 )); }
distinct=$(for k in $KINDS; do "$YOC" export --db "$TMP/fresh" --table $k | tail -n +2 | cut -d, -f3; done |
	grep -v '^$' | sort -u | wc -l)
[ "$distinct" -gt 100 ] && same "the pool holds each distinct pseudonym once" "$(pool_n "$TMP/fresh")" "$distinct" ||
	not_ok "the pool holds each distinct pseudonym once (too few pseudonyms: $distinct)"

# format 2 -> 3: the same rows, each pseudonym once in the pool instead of once per segment
V2=$TMP/v2
"$YOC" init "$V2" > /dev/null
YOC_SEG_VERSION=2 "$YOC" load --db "$V2" "$G" > /dev/null 2>&1
same "the format-2 writer wrote format 2" "$(magics "$V2")" "YOCSEG02=$nfiles"
same "and no pseudonym pool" "$(ls "$V2" | grep -c pseudonyms)" 0
export_all "$V2" "$TMP/v2.exp"
check "format 2 is read: it exports the same" cmp "$TMP/v1.exp" "$TMP/v2.exp"
kb2=$(du -sk "$V2/segments" | cut -f1)
expect_rc 0 "yoc upgrade of the format-2 dataset succeeds" "$YOC" upgrade --db "$V2"
check "it reports the segments rewritten" grep -q "^upgrade: $nfiles segments rewritten in format 3" "$TMP/.out"
same "every segment is format 3" "$(magics "$V2")" "YOCSEG03=$nfiles"
export_all "$V2" "$TMP/v2up.exp"
check "the upgraded dataset exports the same" cmp "$TMP/v1.exp" "$TMP/v2up.exp"
same "its pool holds each distinct pseudonym once" "$(pool_n "$V2")" "$distinct"
check "its segments and pool are smaller than the format-2 segments" \
	test $(( $(du -sk "$V2/segments" | cut -f1) + $(du -sk "$V2/pseudonyms.pool" | cut -f1) )) -lt "$kb2"

ms=$(( (t1 - t0) / 1000000 ))
[ "$ms" -lt 50 ] && ms=50
echo "# upgrade takes ${ms} ms; $KILLS kills spread over it"
bad=0; killed=0; i=0
while [ $i -lt "$KILLS" ]; do
	i=$((i+1))
	delay=$(awk -v i="$i" -v n="$KILLS" -v ms="$ms" -v r="$(od -An -N2 -tu2 /dev/urandom)" \
		'BEGIN { printf "%.3f", ((i - 1) + r / 65536) / n * ms / 1000 }')
	rm -rf "$D" && cp -r "$V1" "$D"
	"$YOC" upgrade --db "$D" > /dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	if kill -9 "$pid" 2>/dev/null; then killed=$((killed+1)); fi
	wait "$pid" 2>/dev/null
	export_all "$D" "$TMP/k.exp" 2> "$TMP/k.err"
	if ! cmp -s "$TMP/v1.exp" "$TMP/k.exp"; then
		bad=$((bad+1)); echo "# kill $i after ${delay}s: exports differ"; head -3 "$TMP/k.err" | sed 's/^/# /'
	fi
	if [ "$(sqlite3 "$D/yoc.db" 'pragma integrity_check')" != ok ]; then
		bad=$((bad+1)); echo "# kill $i: catalog integrity check failed"
	fi
	"$YOC" upgrade --db "$D" > /dev/null 2>&1
	export_all "$D" "$TMP/k2.exp" 2> /dev/null
	if ! cmp -s "$TMP/v1.exp" "$TMP/k2.exp" || [ "$(magics "$D")" != "YOCSEG03=$nfiles" ] ||
		[ "$(ls "$D/segments" | wc -l)" -ne "$nfiles" ] ||
		[ "$(person_sql "$D" | grep -c 'WITHOUT ROWID')" != 1 ]; then
		bad=$((bad+1)); echo "# kill $i: the next upgrade did not finish the job: $(magics "$D")"
	fi
done
[ "$killed" -gt 0 ] && ok "$killed of $KILLS upgrades killed mid-way" || not_ok "no upgrade was killed"
same "after every kill the dataset exports the same, and the next upgrade completes it leaving no stray file" "$bad" 0
done_testing

# A writer killed while committing leaves a hot rollback journal beside
# yoc.db. Readers open the dataset read-only and cannot roll it back
# themselves; they must still work (yoc_store_recover rolls it back when no
# writer holds the lock) and see exactly the state before the killed write.
. "$(dirname "$0")/lib.sh"
W=$TMP
"$YOC" synth --persons 400 --years 1 --clean --out "$W/eco" > /dev/null 2>&1
"$YOC" keygen --out "$W/k" > /dev/null
"$YOC" pseudonymise --key "$W/k" --in "$W/eco/feeds" --out "$W/ps" > /dev/null 2>&1
"$YOC" init "$W/ds" > /dev/null
"$YOC" load --db "$W/ds" "$W/ps" > /dev/null 2>&1
expect_rc 0 "analyse" "$YOC" analyse --db "$W/ds"
before=$(sqlite3 "$W/ds/yoc.db" "select count(*), sum(cost_total) from person_year")
"$YOC" status --db "$W/ds" > "$W/status.before" 2>&1

# The killed writer: a transaction that spilled pages into yoc.db, then death.
python3 - "$W/ds/yoc.db" <<'PY'
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("pragma cache_size=10")
db.execute("begin immediate")
db.execute("delete from person_year")
db.execute("update files set rows = rows + 1")
os._exit(0)
PY
[ -s "$W/ds/yoc.db-journal" ] && ok "a hot journal is left" || not_ok "a hot journal is left"
expect_rc 0 "status works after the killed writer" "$YOC" status --db "$W/ds"
cmp -s "$TMP/.out" "$W/status.before" && ok "... and shows the state before it" || not_ok "... and shows the state before it"
same "the killed write is rolled back" "$(sqlite3 "$W/ds/yoc.db" "select count(*), sum(cost_total) from person_year")" "$before"
[ ! -s "$W/ds/yoc.db-journal" ] && ok "the journal is gone" || not_ok "the journal is gone"

python3 - "$W/ds/yoc.db" <<'PY'
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("pragma cache_size=10")
db.execute("begin immediate")
db.execute("delete from person_year")
os._exit(0)
PY
expect_rc 0 "report works after a killed writer" "$YOC" report --db "$W/ds" --out "$W/rep"
expect_rc 0 "export works after it" "$YOC" export --db "$W/ds" --table person
same "person_year intact" "$(sqlite3 "$W/ds/yoc.db" "select count(*), sum(cost_total) from person_year")" "$before"

# A killed init's temporary (yoc.db.init.PID of a dead process) is removed by
# the next writer; a live process's is kept.
sh -c 'exit 0' & dead=$!; wait $dead
touch "$W/ds/yoc.db.init.$dead" "$W/ds/yoc.db.init.$$"
expect_rc 0 "analyse again" "$YOC" analyse --db "$W/ds"
[ ! -e "$W/ds/yoc.db.init.$dead" ] && [ -e "$W/ds/yoc.db.init.$$" ] &&
	ok "a dead init's temporary is removed, a live one kept" || not_ok "a dead init's temporary is removed, a live one kept"

done_testing

#!/bin/sh
# Crash safety: `yoc load` killed with SIGKILL at random moments must leave
# the dataset exactly as before that load (catalog dump and activity export
# compared byte for byte), and the next load must succeed and equal a clean
# load of the same files. Kills alternate between --jobs 1 and --jobs 4.
. "$(dirname "$0")/lib.sh"
KILLS=${YOC_KILLS:-25}
G=$TMP/feeds
python3 "$YOC_ROOT/tests/cli/feedgen.py" "$G" 2000 12 4000 11 > /dev/null
mkdir -p "$TMP/first" && mv "$G/gp_register" "$TMP/first/"
D=$TMP/ds
"$YOC" init "$D" > /dev/null
expect_rc 0 "base load (register)" "$YOC" load --db "$D" "$TMP/first"

snapshot() { # $1 = output prefix
	sqlite3 "$D/yoc.db" .dump > "$1.dump"
	for k in apc op gp_register; do "$YOC" export --db "$D" --table $k; done > "$1.act"
}
snapshot "$TMP/pre"
cp -r "$D" "$TMP/pre.ds"

# A reference: the same load on a copy, timed to spread the kills over it.
cp -r "$D" "$TMP/ref"
t0=$(date +%s%N)
"$YOC" load --db "$TMP/ref" "$G" > /dev/null
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
[ "$ms" -lt 50 ] && ms=50
echo "# clean load takes ${ms} ms; $KILLS kills spread over it"

bad=0; killed=0
i=0
while [ $i -lt "$KILLS" ]; do
	i=$((i+1))
	# spread evenly over the load's duration, with jitter
	delay=$(awk -v i="$i" -v n="$KILLS" -v ms="$ms" -v r="$(od -An -N2 -tu2 /dev/urandom)" \
		'BEGIN { printf "%.3f", ((i - 1) + r / 65536) / n * ms / 1000 }')
	# one file at a time, or four workers, in turn
	"$YOC" load --jobs $((1 + (i % 2) * 3)) --db "$D" "$G" > /dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	if kill -9 "$pid" 2>/dev/null; then killed=$((killed+1)); fi
	wait "$pid" 2>/dev/null
	# the load may have finished before the kill: then restore and go on
	if sqlite3 "$D/yoc.db" "select count(*) from loads" | grep -qx 1; then
		snapshot "$TMP/post"
		if ! cmp -s "$TMP/pre.dump" "$TMP/post.dump" || ! cmp -s "$TMP/pre.act" "$TMP/post.act"; then
			bad=$((bad+1)); echo "# kill $i after ${delay}s: dataset differs"; diff "$TMP/pre.dump" "$TMP/post.dump" | head -3 | sed "s/^/# /"
		fi
	else
		rm -rf "$D" && cp -r "$TMP/pre.ds" "$D"
	fi
done
[ "$killed" -gt 0 ] && ok "$killed of $KILLS loads killed mid-way" || not_ok "no load was killed"
same "after every kill the dataset equals its pre-load state" "$bad" 0

expect_rc 0 "the next load succeeds" "$YOC" load --db "$D" "$G"
check "no orphan segments remain" sh -c "[ \$(ls '$D/segments' | wc -l) -eq \$(sqlite3 '$D/yoc.db' 'select count(*) from files') ]"
for k in apc op gp_register person linkage quarantine; do
	"$YOC" export --db "$D" --table $k > "$TMP/a.$k"
	"$YOC" export --db "$TMP/ref" --table $k > "$TMP/b.$k"
done
check "final dataset equals a clean load (activity, person, linkage, quarantine)" \
	sh -c "for k in apc op gp_register person linkage quarantine; do cmp -s '$TMP/a.'\$k '$TMP/b.'\$k || exit 1; done"
done_testing

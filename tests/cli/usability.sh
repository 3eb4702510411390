#!/bin/sh
# Help and first mistakes: `yoc VERB --help`, `-h` and `yoc help VERB` show
# the verb's own help (exit 0) for every verb of `yoc --help`; a load of a
# path that does not exist names it, exits 1 and commits nothing.
. "$(dirname "$0")/lib.sh"

verbs=$("$YOC" --help | awk '/^Verbs:/ {v=1; next} v && /^  [a-z]/ {print $1}')
[ -n "$verbs" ] && ok "yoc --help lists verbs" || not_ok "yoc --help lists verbs"
for v in $verbs; do
	want=$("$YOC" help "$v")
	case $want in "Usage: yoc $v"*|"Usage: yoc help"*) ok "yoc help $v shows its usage" ;;
		*) not_ok "yoc help $v shows its usage" ;; esac
	for flag in --help -h; do
		got=$("$YOC" "$v" $flag 2>"$TMP/h.err"); rc=$?
		if [ "$rc" -eq 0 ] && [ "$got" = "$want" ] && [ ! -s "$TMP/h.err" ]; then
			ok "yoc $v $flag: the verb's help, exit 0"
		else
			not_ok "yoc $v $flag: the verb's help, exit 0 (exit $rc)"
			head -2 "$TMP/h.err" | sed 's/^/# /'
		fi
	done
done
# --help after other options, even unknown ones, still wins
got=$("$YOC" load --db /nonexistent --bogus --help); rc=$?
same "yoc load --db X --bogus --help: help, exit 0" "$rc $(echo "$got" | head -1 | cut -c1-15)" "0 Usage: yoc load"
# after "--" it is a path, not a request for help
expect_rc 1 "yoc load --db D -- --help treats --help as a path" "$YOC" load --db "$TMP/none" -- --help

# --- a path that does not exist
D=$TMP/ds
"$YOC" init "$D" >/dev/null
sqlite3 "$D/yoc.db" .dump > "$TMP/before"
G=$TMP/feeds
python3 "$YOC_ROOT/tests/cli/feedgen.py" "$G" 30 1 6 > /dev/null
"$YOC" load --db "$D" "$G" "$TMP/no/such/RA1_2023-05.csv" > "$TMP/m.out" 2> "$TMP/m.err"; rc=$?
same "load of a missing path exits 1" "$rc" 1
if grep -q committed "$TMP/m.out" "$TMP/m.err"; then not_ok "load of a missing path does not say committed"; else ok "load of a missing path does not say committed"; fi
check "the error names the missing path" grep -q "$TMP/no/such/RA1_2023-05.csv: no such file or directory" "$TMP/m.err"
sqlite3 "$D/yoc.db" .dump > "$TMP/after"
check "nothing is committed: the dataset is unchanged" cmp -s "$TMP/before" "$TMP/after"
same "no file recorded" "$(sqlite3 "$D/yoc.db" 'select count(*) from files')" 0
# the same load without the slip does load
expect_rc 0 "the same load without the missing path loads" "$YOC" load --db "$D" "$G"
done_testing

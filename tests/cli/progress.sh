#!/bin/sh
# The progress line: on a terminal (a pty from script(1)) load draws one line
# redrawn with carriage returns, with rows, and prints no per-file lines (those
# come under --verbose); piped, or with YOC_QUIET=1, there is no progress and
# the per-file lines go to stdout as before.
. "$(dirname "$0")/lib.sh"

G=$TMP/feeds
python3 "$YOC_ROOT/tests/cli/feedgen.py" "$G" 300 1 3 > /dev/null
nfiles=$(find "$G" -name '*.csv' | wc -l)
for d in d1 d2 d3 d4; do "$YOC" init "$TMP/$d" > /dev/null || exit 1; done
if ! command -v script > /dev/null; then
	skip "progress on a terminal" "script(1) not installed"
	done_testing
	exit $?
fi
# a pty for both streams; YOC_QUIET unset so progress may draw
tty_run() { # $1 = transcript, rest = command
	t=$1; shift
	env -u YOC_QUIET script -qec "$*" /dev/null > "$t" 2>&1 < /dev/null
}
tty_run "$TMP/tty.txt" "'$YOC' load --db '$TMP/d1' '$G'"
cr=$(tr -cd '\r' < "$TMP/tty.txt" | wc -c)
lines=$(tr -d '\r' < "$TMP/tty.txt" | grep -c ' rows, .* loaded, ')
prog=$(tr '\r' '\n' < "$TMP/tty.txt" | grep -c '^ *load .*%.* rows')
if [ "$cr" -gt 0 ] && [ "$prog" -gt 0 ]; then ok "terminal: a progress line with percent and rows, redrawn in place"; else not_ok "terminal: progress line (cr $cr, progress lines $prog)"; sed 's/^/# /' "$TMP/tty.txt" | head -5; fi
same "terminal: no per-file lines without --verbose" "$lines" 0
grep -q 'load committed' "$TMP/tty.txt" && ok "terminal: the summary is printed" || not_ok "terminal: the summary is printed"

tty_run "$TMP/ttyv.txt" "'$YOC' load --verbose --db '$TMP/d2' '$G'"
linesv=$(tr -d '\r' < "$TMP/ttyv.txt" | grep -c ' rows, .* loaded, ')
same "terminal --verbose: one line per file" "$linesv" "$nfiles"

"$YOC" load --db "$TMP/d3" "$G" > "$TMP/pipe.out" 2> "$TMP/pipe.err"
linesp=$(grep -c ' rows, .* loaded, ' "$TMP/pipe.out")
same "piped: one line per file on stdout" "$linesp" "$nfiles"
crp=$(cat "$TMP/pipe.out" "$TMP/pipe.err" | tr -cd '\r' | wc -c)
same "piped: no progress drawn" "$crp" 0

YOC_QUIET=1 script -qec "'$YOC' load --db '$TMP/d4' '$G'" /dev/null > "$TMP/quiet.txt" 2>&1 < /dev/null
prq=$(tr '\r' '\n' < "$TMP/quiet.txt" | grep -c '^ *load .*%')
same "YOC_QUIET=1 on a terminal: no progress line" "$prq" 0

# the same data whichever way it was shown
q='select count(*), sum(rows) from files'
a=$(sqlite3 "$TMP/d1/yoc.db" "$q")
b=$(sqlite3 "$TMP/d3/yoc.db" "$q")
same "terminal load committed every file" "${a%%|*}" "$nfiles"
same "terminal and piped loads commit the same files and rows" "$a" "$b"
done_testing

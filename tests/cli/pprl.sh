#!/bin/sh
# End-to-end tests of `yoc pprl` (TAP): linkage between organisations on
# keyed Bloom-filter encodings. A synthetic economy with identifiers gives
# the two sides (the GP register; the feed rows sent without a valid NHS
# number) and the truth (truth/link.csv); precision and recall are computed
# by python from that truth (pprl_eval.py), never taken from yoc's counts.
. "$(dirname "$0")/lib.sh"
export YOC_QUIET=1
HERE="$YOC_ROOT/tests/cli"
S=$TMP/s
P=$TMP/p

expect_rc 0 "synth --identifiers" "$YOC" synth --persons 8000 --years 1 --seed 7 --identifiers \
	--data "$YOC_ROOT/data" --out "$S"
python3 "$HERE/pprl_eval.py" prep "$S" "$P"
check "prepared: register and rows to link" test "$(wc -l < "$P/b.csv")" -gt 200
"$YOC" keygen --out "$TMP/k1" >/dev/null 2>&1
"$YOC" keygen --out "$TMP/k2" >/dev/null 2>&1

expect_rc 0 "encode the register (side a)" "$YOC" pprl encode --key "$TMP/k1" --in "$P/a.csv" \
	--out "$P/ea.csv" --id NEWNHSNO
expect_rc 0 "encode the rows (side b)" "$YOC" pprl encode --key "$TMP/k1" --in "$P/b.csv" \
	--out "$P/eb.csv" --id ID
same "every row encoded" "$(($(wc -l < "$P/eb.csv") - 1))" "$(($(wc -l < "$P/b.csv") - 1))"

# No clear identifier in the encodings: no cell equals an identifier of its
# row, and no line contains its row's names (6 letters or more: a shorter
# string turns up in base64 by chance), postcode or date of birth.
python3 - "$P/b.csv" "$P/eb.csv" "$P/a.csv" "$P/ea.csv" > "$TMP/clear.txt" <<'EOF'
import csv, sys
bad = n = 0
for src, enc in ((sys.argv[1], sys.argv[2]), (sys.argv[3], sys.argv[4])):
    rows = list(csv.reader(open(src)))
    out = open(enc).read().split('\n')
    if any(h in out[0] for h in ('DOB', 'NAME', 'POSTCODE', 'SEX')):
        bad += 1
    for r, line in zip(rows[1:], out[1:]):
        dob, sex, given, family, pc = r[1:6]
        cells = set(line.split(','))
        vals = [v for v in (dob, given, family, pc, pc.replace(' ', ''), dob.replace('-', '')) if v]
        n += 1
        if cells & set(vals):
            bad += 1
        for v in vals:
            if len(v) >= 6 and v in line:
                bad += 1
print(bad, n)
EOF
same "no clear identifier in the encodings" "$(cut -d' ' -f1 "$TMP/clear.txt")" 0

# The same key gives the same encodings; another key unrelated ones.
"$YOC" pprl encode --key "$TMP/k1" --in "$P/a.csv" --out "$TMP/ea_again.csv" --id NEWNHSNO >/dev/null 2>&1
check "same key: identical encodings" cmp "$P/ea.csv" "$TMP/ea_again.csv"
"$YOC" pprl encode --key "$TMP/k2" --in "$P/b.csv" --out "$TMP/eb_k2.csv" --id ID >/dev/null 2>&1
python3 - "$P/eb.csv" "$TMP/eb_k2.csv" > "$TMP/k2.txt" <<'EOF'
import sys
a = open(sys.argv[1]).read().split('\n')[1:]
b = open(sys.argv[2]).read().split('\n')[1:]
same = sum(1 for x, y in zip(a, b) if x and set(x.split(',')[1:]) & set(y.split(',')[1:]) - {''})
print(same, len(a))
EOF
same "another key: no encoding or token in common" "$(cut -d' ' -f1 "$TMP/k2.txt")" 0
expect_rc 1 "match refuses files encoded under different keys" "$YOC" pprl match --a "$P/ea.csv" \
	--b "$TMP/eb_k2.csv" --out "$TMP/m_k2.csv"
check "  and says so" grep -q "different keys" "$TMP/.err"
check "  and writes nothing" test ! -e "$TMP/m_k2.csv"

# Accuracy against the truth: a register against activity rows.
expect_rc 0 "match (many to one, default thresholds)" "$YOC" pprl match --a "$P/ea.csv" \
	--b "$P/eb.csv" --out "$P/m.csv" --many-to-one
check "  prints the counts" grep -q "candidate pairs compared.*pairs per second.*links.*for review" "$TMP/.out"
python3 "$HERE/pprl_eval.py" score "$P" "$P/m.csv" 0.75 0.60 0.05 > "$TMP/eval.txt"
prec=$(awk '$1=="precision:"{print $2}' "$TMP/eval.txt")
rec=$(awk '$1=="recall:"{print $2}' "$TMP/eval.txt")
check "precision >= 0.99 against the truth ($prec)" awk -v p="$prec" 'BEGIN{exit !(p >= 0.99)}'
check "recall >= 0.93 of linkable rows against the truth ($rec)" awk -v p="$rec" 'BEGIN{exit !(p >= 0.93)}'
same "default thresholds honoured" "$(awk '$1=="threshold_breaks:"{print $2}' "$TMP/eval.txt")" 0
same "a row links at most once" "$(awk '$1=="b_linked_twice:"{print $2}' "$TMP/eval.txt")" 0

# Other thresholds: every link >= T with the margin over its second; every
# review pair >= R and below T or within the margin.
expect_rc 0 "match --threshold 0.85 --review-threshold 0.5 --margin 0.1" "$YOC" pprl match \
	--a "$P/ea.csv" --b "$P/eb.csv" --out "$P/m2.csv" --many-to-one --threshold 0.85 \
	--review-threshold 0.5 --margin 0.1
python3 "$HERE/pprl_eval.py" score "$P" "$P/m2.csv" 0.85 0.5 0.1 > "$TMP/eval2.txt"
same "thresholds 0.85/0.5/0.1 honoured" "$(awk '$1=="threshold_breaks:"{print $2}' "$TMP/eval2.txt")" 0
check "a review band exists" test "$(awk '$1=="review:"{print $2}' "$TMP/eval2.txt")" -gt 0
check "a higher threshold links fewer" test "$(awk '$1=="links:"{print $2}' "$TMP/eval2.txt")" -lt \
	"$(awk '$1=="links:"{print $2}' "$TMP/eval.txt")"

# One to one (the default): no record of either side links twice.
expect_rc 0 "match (one to one)" "$YOC" pprl match --a "$P/ea.csv" --b "$P/eb.csv" --out "$P/m1.csv"
python3 "$HERE/pprl_eval.py" score "$P" "$P/m1.csv" > "$TMP/eval1.txt"
same "one to one: no register record linked twice" "$(awk '$1=="a_linked_twice:"{print $2}' "$TMP/eval1.txt")" 0
prec1=$(awk '$1=="precision:"{print $2}' "$TMP/eval1.txt")
check "one to one: precision >= 0.99 ($prec1)" awk -v p="$prec1" 'BEGIN{exit !(p >= 0.99)}'
"$YOC" pprl match --a "$P/ea.csv" --b "$P/eb.csv" --out "$P/m1b.csv" >/dev/null 2>&1
check "match is deterministic" cmp "$P/m1.csv" "$P/m1b.csv"

# Bad rows are reported with file, line and column; none is lost silently.
printf 'ID,DOB,SEX,GIVEN_NAME,FAMILY_NAME,POSTCODE\n' > "$TMP/bad.csv"
printf 'r1,1970-01-02,1,JOHN,SMITH,YA1 2AB\n' >> "$TMP/bad.csv"
printf 'r2,1970-13-45,2,MARY,JONES,YA1 3CD\n' >> "$TMP/bad.csv"
printf 'r3,1971-02-03,X,ANN,BROWN,YA1 4EF\n' >> "$TMP/bad.csv"
printf ',1972-03-04,1,PAUL,GREEN,YA1 5GH\n' >> "$TMP/bad.csv"
printf 'r5,1973-04-05,1,PETER\n' >> "$TMP/bad.csv"
expect_rc 0 "encode a file with bad rows" "$YOC" pprl encode --key "$TMP/k1" --in "$TMP/bad.csv" \
	--out "$TMP/bad_enc.csv" --id ID
check "  bad date of birth: file, line, column" grep -q "bad.csv:3:2: date of birth is not a date" "$TMP/.err"
check "  bad sex: file, line, column" grep -q "bad.csv:4:3: sex is not" "$TMP/.err"
check "  empty id: file, line, column" grep -q "bad.csv:5:1: empty record id" "$TMP/.err"
check "  ragged row: file and line" grep -q "bad.csv:6:.*malformed row" "$TMP/.err"
check "  counted" grep -q "5 rows, 3 encoded (2 without an unreadable field), 2 not encoded" "$TMP/.out"
same "  the rows with a bad field are still encoded" "$(cut -d, -f1 "$TMP/bad_enc.csv" | tr '\n' ' ')" "id r1 r2 r3 "
# A damaged encoding file: the bad rows are reported and left out.
sed -e '3s/^\([^,]*\),[A-Za-z]/\1,!/' -e '4s/,[0-9a-f]\{32\},/,zz,/' "$P/eb.csv" > "$TMP/eb_bad.csv"
expect_rc 0 "match reads a damaged encoding file" "$YOC" pprl match --a "$P/ea.csv" \
	--b "$TMP/eb_bad.csv" --out "$TMP/m_bad.csv"
check "  bad encoding: file, line, column" grep -q "eb_bad.csv:3:2: encoding is not base64" "$TMP/.err"
check "  bad token: file, line, column" grep -q "eb_bad.csv:4:[3-8]: blocking token" "$TMP/.err"
check "  counted as refused" grep -q "(0 and 2 rows refused)" "$TMP/.out"
printf 'id,name\n1,x\n' > "$TMP/notenc.csv"
expect_rc 1 "match refuses a file that is not an encoding file" "$YOC" pprl match --a "$TMP/notenc.csv" \
	--b "$P/eb.csv" --out "$TMP/m_x.csv"
check "  naming file, line and column" grep -q "notenc.csv:1:1: not a yoc pprl encoding file" "$TMP/.err"

# A missing or unsafe key is refused, and nothing is written.
expect_rc 2 "encode without --key is refused" "$YOC" pprl encode --in "$P/b.csv" --out "$TMP/nokey.csv"
check "  nothing written" test ! -e "$TMP/nokey.csv"
expect_rc 1 "encode with a key file that does not exist is refused" "$YOC" pprl encode \
	--key "$TMP/none" --in "$P/b.csv" --out "$TMP/nokey.csv"
check "  nothing written" test ! -e "$TMP/nokey.csv"
cp "$TMP/k1" "$TMP/k_open"
chmod 644 "$TMP/k_open"
expect_rc 1 "encode with a key readable by others is refused" "$YOC" pprl encode \
	--key "$TMP/k_open" --in "$P/b.csv" --out "$TMP/nokey.csv"
check "  nothing written" test ! -e "$TMP/nokey.csv"
expect_rc 2 "match without --b is refused" "$YOC" pprl match --a "$P/ea.csv" --out "$TMP/x.csv"
expect_rc 2 "review threshold above the threshold is refused" "$YOC" pprl match --a "$P/ea.csv" \
	--b "$P/eb.csv" --out "$TMP/x.csv" --threshold 0.7 --review-threshold 0.8
check "help lists pprl" sh -c "'$YOC' --help | grep -q pprl"

done_testing

#!/bin/sh
# End-to-end tests of `yoc link` (TAP): a small synthetic economy with
# identifiers, linked against its own GP register. Checked against the
# synthetic truth (truth/link.csv, whose each row with a lost NHS number is)
# by python (link_eval.py), never by yoc's own numbers: precision and recall,
# thresholds honoured, the review file round trip (decisions imported,
# applied, audited, standing on refresh), stable identities on a second run,
# --explain, and nothing identifiable after pseudonymise.
. "$(dirname "$0")/lib.sh"
export YOC_QUIET=1
HERE="$YOC_ROOT/tests/cli"
S=$TMP/s
L=$TMP/l

expect_rc 0 "synth --identifiers" "$YOC" synth --persons 4000 --years 1 --seed 5 --identifiers \
	--data "$YOC_ROOT/data" --out "$S"
"$YOC" synth --persons 4000 --years 1 --seed 5 --data "$YOC_ROOT/data" --out "$TMP/s0" >/dev/null 2>&1
# Without the option the feeds are as before: same truth, and the feeds are
# the identifier-free columns of the feeds with identifiers (rows with a lost
# NHS number aside, whose DOB and SEX carry noise).
check "synth: truth unchanged by --identifiers" cmp "$S/truth/person_year.csv" "$TMP/s0/truth/person_year.csv"
check "synth: no truth/link.csv without --identifiers" test ! -e "$TMP/s0/truth/link.csv"
python3 - "$S" "$TMP/s0" > "$TMP/strip.out" <<'EOF'
import glob, os, sys
a, b = sys.argv[1], sys.argv[2]
bad = 0
for p in glob.glob(os.path.join(b, 'feeds', '*', '*.csv')):
    q = os.path.join(a, os.path.relpath(p, b))
    la = open(q).read().split('\n'); lb = open(p).read().split('\n')
    if len(la) != len(lb) or not la[0].endswith(',GIVEN_NAME,FAMILY_NAME,POSTCODE'):
        bad += 1; continue
    for x, y in zip(la, lb):
        cx = x.split(',')[:-3] if x.count(',') >= 3 else x.split(',')
        cy = y.split(',')
        if cx != cy and cx[3:] != cy[3:] and not (len(y) < len(x) and x.startswith(y[:20])):
            bad += 1
print(bad)
EOF
same "synth: feeds without identifiers are those with them, less 3 columns" "$(cat "$TMP/strip.out")" 0
check "synth: truth/link.csv lists rows" test "$(wc -l < "$S/truth/link.csv")" -gt 100

expect_rc 0 "link" "$YOC" link --register "$S/feeds/gp_register" --in "$S/feeds" --out "$L" \
	--review "$TMP/review.csv"
python3 "$HERE/link_eval.py" "$S" "$L" > "$TMP/eval.txt"
prec=$(awk '$1=="precision:"{print $2}' "$TMP/eval.txt")
rec=$(awk '$1=="recall:"{print $2}' "$TMP/eval.txt")
check "precision >= 0.995 against the truth ($prec)" awk -v p="$prec" 'BEGIN{exit !(p >= 0.995)}'
check "recall >= 0.93 against the truth ($rec)" awk -v p="$rec" 'BEGIN{exit !(p >= 0.93)}'
same "every row with a lost NHS number is in the ledger" \
	"$(awk '$1=="rows_to_link:"{print $2}' "$TMP/eval.txt")" "$(($(wc -l < "$S/truth/link.csv") - 1))"

# The output: same files, NHS number filled in where linked, status columns.
same "same files out as in" "$(cd "$S/feeds" && find . -name '*.csv' | sort | md5sum)" \
	"$(cd "$L" && find . -name '*.csv' -not -path './.link/*' | sort | md5sum)"
python3 - "$S/feeds" "$L" > "$TMP/out.txt" <<'EOF'
import csv, os, sys
src, out = sys.argv[1], sys.argv[2]
led = {(r['file'], int(r['row'])): r for r in csv.DictReader(open(os.path.join(out, '.link', 'links.csv')))}
bad = checked = 0
for (f, row), r in led.items():
    lines = open(os.path.join(out, f)).read().split('\n')
    hdr = lines[0].split(',')
    cells = lines[row].split(',')
    st, w = cells[hdr.index('LINK_STATUS')], cells[hdr.index('LINK_WEIGHT')]
    nhs = cells[0]
    checked += 1
    if st != r['status']: bad += 1
    if st in ('linked', 'clerical') and nhs != r['nhs_number']: bad += 1
    if st in ('review', 'unlinked') and nhs == r['nhs_number'] and nhs: bad += 1
    orig = open(os.path.join(src, f)).read().split('\n')[row].split(',')
    if cells[1:len(orig)] != orig[1:]: bad += 1
print(bad, checked)
EOF
same "output rows: status, weight, NHS number as the ledger; other cells unchanged" \
	"$(cut -d' ' -f1 "$TMP/out.txt")" 0

# Thresholds honoured, with non-default thresholds: a linked row's best weight
# is at least logit2(upper); a review row's at least logit2(lower); an
# unlinked row's below it.
expect_rc 0 "link --upper 0.9999 --lower 0.2" "$YOC" link --register "$S/feeds/gp_register" \
	--in "$S/feeds" --out "$TMP/l2" --upper 0.9999 --lower 0.2
python3 - "$TMP/l2" > "$TMP/thr.txt" <<'EOF'
import csv, math, os, sys
lg = lambda p: math.log2(p / (1 - p))
bad = 0
n = {}
for r in csv.DictReader(open(os.path.join(sys.argv[1], '.link', 'links.csv'))):
    w = float(r['weight']) if r['weight'] else -1e9
    s = r['status']; n[s] = n.get(s, 0) + 1
    if s == 'linked' and w < lg(0.9999) - 0.01: bad += 1
    if s == 'review' and w < lg(0.2) - 0.01: bad += 1
    if s == 'unlinked' and w >= lg(0.2) + 0.01: bad += 1
print(bad, n.get('linked', 0), n.get('review', 0))
EOF
same "thresholds honoured" "$(cut -d' ' -f1 "$TMP/thr.txt")" 0
l1=$(grep -c ',linked,' "$L/.link/links.csv")
l2=$(cut -d' ' -f2 "$TMP/thr.txt")
check "a higher upper threshold links fewer rows ($l2 < $l1)" test "$l2" -lt "$l1"
expect_rc 2 "thresholds out of order refused" "$YOC" link --register "$S/feeds/gp_register" \
	--in "$S/feeds" --out "$TMP/l3" --upper 0.5 --lower 0.9

# The review file: both records side by side, blind to the weight by default.
check "review file has pairs" test "$(wc -l < "$TMP/review.csv")" -gt 1
check "review file is blind to the weight" sh -c "! head -1 '$TMP/review.csv' | grep -q WEIGHT"
same "review rows = pairs of review rows" "$(awk -F, 'NR>1{print $2","$3}' "$TMP/review.csv" | sort -u | wc -l)" \
	"$(grep -c ',review,' "$L/.link/links.csv")"

# Round trip: decide every pair from the truth, plus one malformed line.
python3 - "$S" "$TMP/review.csv" "$TMP/decided.csv" > "$TMP/dec.txt" <<'EOF'
import csv, sys
truth = {(r['file'][6:], r['row']): r['nhs_number'] for r in csv.DictReader(open(sys.argv[1] + '/truth/link.csv'))}
rows = list(csv.DictReader(open(sys.argv[2])))
m = nm = 0
with open(sys.argv[3], 'w', newline='') as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator='\n')
    w.writeheader()
    for r in rows:
        good = truth.get((r['FILE'], r['ROW'])) == r['NHS_NUMBER']
        r['DECISION'] = 'MATCH' if good else 'NON-MATCH'
        r['REVIEWER'] = 'tester'
        m += good; nm += not good
        w.writerow(r)
    bad = dict(rows[0]); bad['DECISION'] = 'PERHAPS'
    w.writerow(bad)
print(m, nm)
EOF
read -r nmatch nnon < "$TMP/dec.txt"
expect_rc 0 "link --decisions" "$YOC" link --register "$S/feeds/gp_register" --in "$S/feeds" \
	--out "$L" --decisions "$TMP/decided.csv" --review "$TMP/review2.csv"
same "MATCH decisions applied (clerical rows)" "$(grep -c ',clerical,' "$L/.link/links.csv")" "$nmatch"
same "audit: every decision, with its reviewer" "$(grep -c ',tester$' "$L/.link/audit.csv")" "$((nmatch + nnon))"
grep -q "1 malformed (not applied)" "$TMP/.out" && ok "a malformed decision is counted, not applied" || not_ok "a malformed decision is counted, not applied"
python3 "$HERE/link_eval.py" "$S" "$L" > "$TMP/eval2.txt"
rec2=$(awk '$1=="recall:"{print $2}' "$TMP/eval2.txt")
prec2=$(awk '$1=="precision:"{print $2}' "$TMP/eval2.txt")
check "review raises recall ($rec -> $rec2) at precision $prec2" \
	awk -v a="$rec" -v b="$rec2" -v p="$prec2" 'BEGIN{exit !(b > a && p >= 0.995)}'
same "clerical rows carry the NHS number in the feed" \
	"$(cat "$L"/*/*.csv | grep -c ',clerical,')" "$nmatch"
same "no pair left for review when all were decided" "$(($(wc -l < "$TMP/review2.csv") - 1))" \
	"$(($(wc -l < "$TMP/review.csv") - 1 - nmatch - nnon))"

# Refresh: a second run carries the ledger (decisions stand, identities kept).
cp "$L/.link/links.csv" "$TMP/links1.csv"
expect_rc 0 "link again (refresh)" "$YOC" link --register "$S/feeds/gp_register" --in "$S/feeds" --out "$L"
check "refresh: the same rows, persons and clusters" cmp "$TMP/links1.csv" "$L/.link/links.csv"
same "refresh: no changes logged" "$(($(wc -l < "$L/.link/changes.csv") - 1))" 0
same "refresh: audit trail kept" "$(grep -c ',tester$' "$L/.link/audit.csv")" "$((nmatch + nnon))"
# A row whose person changes is logged: drop a linked row's register record.
victim=$(awk -F, 'NR>1 && $4=="linked"{print $5; exit}' "$L/.link/links.csv")
mkdir -p "$TMP/reg2"
cat "$S"/feeds/gp_register/*.csv | awk -F, -v v="$victim" 'NR==1 || ($1 != v && $1 != "NEWNHSNO")' > "$TMP/reg2/register.csv"
expect_rc 0 "link with a person gone from the register" "$YOC" link --register "$TMP/reg2/register.csv" \
	--in "$S/feeds" --out "$L"
check "the change is logged (split from the person)" grep -q ",split,$victim," "$L/.link/changes.csv"

# The same person under a second NHS number (one the register lacks) is
# reported for the provider's feedback, and the row is left as it came.
cp -r "$S/feeds" "$TMP/dupin"
python3 - "$TMP/dupin" > "$TMP/dup.txt" <<'EOF'
import glob, os, sys
d = sys.argv[1]
def mod11(s):
    c = 11 - sum(int(x) * (10 - i) for i, x in enumerate(s[:9])) % 11
    return s[:9] + str(0 if c == 11 else c) if c != 10 else None
seen = set()
for p in glob.glob(os.path.join(d, '*', '*.csv')):
    with open(p) as fh:
        for line in fh:
            seen.add(line.split(',', 1)[0])
new = next(n for n in (mod11('%09d' % (990000000 + k) + '0') for k in range(1000)) if n and n not in seen)
p = sorted(glob.glob(os.path.join(d, 'op', '*.csv')))[3]
lines = open(p).read().split('\n')
for i in range(1, len(lines)):
    c = lines[i].split(',')
    if len(c) > 3 and len(c[0]) == 10 and mod11(c[0]) == c[0] and c[-3] and c[-2]:
        old = c[0]; c[0] = new; lines[i] = ','.join(c); break
open(p, 'w').write('\n'.join(lines))
print(os.path.relpath(p, d), i, new, old)
EOF
read -r dfile drow dnew dold < "$TMP/dup.txt"
expect_rc 0 "link a feed with a second NHS number" "$YOC" link --register "$S/feeds/gp_register" \
	--in "$TMP/dupin" --out "$TMP/ldup"
check "the second number is reported with the register's" grep -q "^$dfile,$drow,$dnew,$dold," "$TMP/ldup/.link/duplicates.csv"
check "the other rows reported are the synthetic economy's own (truth/duplicates.csv)" python3 - \
	"$S/truth/duplicates.csv" "$TMP/ldup/.link/duplicates.csv" "$dfile" "$drow" <<'EOF'
import csv, sys
truth = {(r['file'][len('feeds/'):], r['row']) for r in csv.DictReader(open(sys.argv[1]))}
rest = [(r['file'].replace('_v2.csv', '.csv'), r['row']) for r in csv.DictReader(open(sys.argv[2]))
        if (r['file'], r['row']) != (sys.argv[3], sys.argv[4])]
print(len(rest), 'reported besides the crafted row,', len(truth), 'in the truth')
sys.exit(any(k not in truth for k in rest))
EOF
same "the row keeps its own NHS number" "$(sed -n "$((drow + 1))p" "$TMP/ldup/$dfile" | cut -d, -f1)" "$dnew"
same "and is not counted as linked" "$(grep -c ",$dnew," "$TMP/ldup/.link/links.csv")" 0

# --explain: the comparison vector and weights of one row.
row=$(awk -F, 'NR>1 && $4=="linked"{print $1":"$2; exit}' "$TMP/links1.csv")
expect_rc 0 "--explain $row" "$YOC" link --register "$S/feeds/gp_register" --in "$S/feeds" --explain "$row"
check "explain shows the fields and weights" grep -q "family_name" "$TMP/.out"
check "explain names the candidate" grep -q "candidate 1" "$TMP/.out"
expect_rc 1 "--explain a row with a valid NHS number" "$YOC" link --register "$S/feeds/gp_register" \
	--in "$S/feeds" --explain "apc/nope.csv:1"

# Nothing identifiable after pseudonymise.
expect_rc 0 "keygen" "$YOC" keygen --out "$TMP/key"
expect_rc 0 "pseudonymise the linked feeds" "$YOC" pseudonymise --key "$TMP/key" --in "$L" --out "$TMP/p"
check "no name or postcode column after pseudonymise" \
	sh -c "! cat '$TMP'/p/*/*.csv | head -c 100000000 | grep -Eq 'GIVEN_NAME|FAMILY_NAME|POSTCODE'"
check "no register name after pseudonymise" \
	sh -c "! grep -rqE ',(SMITH|JONES|TAYLOR|MARGARET),' '$TMP/p'"
check "no ledger after pseudonymise" test ! -e "$TMP/p/.link"
expect_rc 0 "pseudonymise the feeds as they came" "$YOC" pseudonymise --key "$TMP/key" --in "$S/feeds" --out "$TMP/p0"
nopseudo() { # rows whose PSEUDO_ID is empty, over every feed file
	for f in "$1"/*/*.csv; do
		awk -F, 'NR==1{for(i=1;i<=NF;i++) if($i=="PSEUDO_ID") c=i; next} c && $c==""{n++} END{print n+0}' "$f"
	done | awk '{s+=$1} END{print s}'
}
before=$(nopseudo "$TMP/p0"); after=$(nopseudo "$TMP/p")
nlinked=$(grep -cE ',(linked|clerical),' "$L/.link/links.csv")
same "every linked row reaches a pseudonym ($before -> $after rows without one)" "$((before - after))" "$nlinked"

done_testing

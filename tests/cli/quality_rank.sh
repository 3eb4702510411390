#!/bin/sh
# The quality report on the demo: issues ranked by impact (issues.csv and
# quality.html agree, biggest first); no distribution shift flagged for the
# financial-year rollover (FYEAR) or the sparse secondary diagnosis columns,
# while a shift injected into one month of ADMIMETH is; the monthly volume
# grid gives each blank cell one meaning, with a legend; quality.csv and
# quality.html agree on the count of volume gaps.
. "$(dirname "$0")/lib.sh"

D=$TMP/demo
YOC_QUIET=1 "$YOC" demo --persons 1500 --out "$D" > "$TMP/demo.log" 2>&1
same "the demo runs" "$?" 0
Q=$D/quality
check "issues.csv is written" test -s "$Q/issues.csv"

# ranked: pence, then people, then rows, then findings, all descending; ranks 1..n
python3 - "$Q/issues.csv" "$Q/quality.html" > "$TMP/rank.out" <<'PY'
import csv, sys, re, html
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
key = lambda r: (-int(r["pence"]), -int(r["people"]), -int(r["rows"]), -int(r["findings"]))
print("sorted" if [key(r) for r in rows] == sorted(key(r) for r in rows) else "unsorted")
print("ranks" if [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1)) else "bad ranks")
h = open(sys.argv[2], encoding="utf-8").read()
t = h[h.index('id="issues-table"'):]
t = t[:t.index("</table>")]
shown = [html.unescape(m) for m in re.findall(r'<td><a href="#[^"]*">(.*?)</a></td>', t)]
print("html agrees" if shown == [r["text"] for r in rows][:len(shown)] and shown else "html differs")
# every caveat is an issue with its people and pence
cav = {(r["text"], r["people"], r["pence"]) for r in csv.DictReader(open(sys.argv[1].replace("issues", "caveats"), encoding="utf-8"))}
iss = {(r["text"], r["people"], r["pence"]) for r in rows}
print("caveats in" if cav <= iss and cav else "caveats missing")
PY
same "issues.csv is ranked biggest first" "$(sed -n 1p "$TMP/rank.out")" sorted
same "issues.csv ranks run 1..n" "$(sed -n 2p "$TMP/rank.out")" ranks
same "quality.html lists the issues in issues.csv's order" "$(sed -n 3p "$TMP/rank.out")" "html agrees"
same "every caveat is an issue with its people and pence" "$(sed -n 4p "$TMP/rank.out")" "caveats in"

# no shift for FYEAR nor DIAG_n / OPERTN_n (n >= 2)
n=$(awk -F, '$2 == "distribution_shift" && ($6 == "FYEAR" || $6 ~ /^(DIAG|OPERTN)_[0-9]+_(0[2-9]|[1-9][0-9])$/)' "$Q/quality.csv" | wc -l)
same "no shift flagged for the year rollover or sparse diagnosis columns" "$n" 0

# a real shift: every ADMIMETH of one month's file of one provider set to one code
P=$TMP/pseudo
cp -r "$D/pseudo" "$P"
f=$(ls "$P"/apc/*_2022-09.csv | head -1)
python3 - "$f" <<'PY'
import csv, sys
p = sys.argv[1]
rows = list(csv.reader(open(p, newline="")))
i = rows[0].index("ADMIMETH")
for r in rows[1:]:
    if len(r) > i:
        r[i] = "2B"
csv.writer(open(p, "w", newline=""), lineterminator="\n").writerows(rows)
PY
rm -f "$P/yoc-account.json"
"$YOC" init "$TMP/ds2" > /dev/null
"$YOC" load --db "$TMP/ds2" "$P" > /dev/null 2>&1
"$YOC" quality --db "$TMP/ds2" --out "$TMP/q2" > /dev/null 2>&1
prov=$(basename "$f" | cut -d_ -f1)
n=$(awk -F, -v p="$prov" '$2 == "distribution_shift" && $4 == p && $5 == "2022-09" && $6 == "ADMIMETH"' "$TMP/q2/quality.csv" | wc -l)
same "an injected shift in ADMIMETH is still flagged" "$n" 1

# gaps: quality.csv, the summary and the month grid agree
csvgaps=$(awk -F, '$2 == "volume" && $9 == "gap"' "$Q/quality.csv" | wc -l)
htmlgaps=$(grep -o '<b>[0-9,]*</b><span>volume gaps' "$Q/quality.html" | sed 's/<b>//; s/<.*//; s/,//g')
grid=$(sed -n '/id="monthly"/,/id="contracts"/p' "$Q/quality.html")
cells=$(printf '%s' "$grid" | grep -o 'class="n \(zero\|miss\)">0<' | wc -l)
same "quality.csv and the summary agree on volume gaps" "$htmlgaps" "$csvgaps"
same "quality.csv and the month grid agree on volume gaps" "$cells" "$csvgaps"
# each blank-cell style has its legend entry, and no grid cell is blank without a style
check "the grid has a legend" grep -q 'id="monthly-legend"' "$Q/quality.html"
for w in "missing month" "zero rows" "no data expected"; do
	case $grid in *"$w"*) ok "legend: $w" ;; *) not_ok "legend: $w" ;; esac
done
n=$(printf '%s' "$grid" | grep -o '<td class=n></td>' | wc -l)
same "no unexplained blank cell in the month grid" "$n" 0
done_testing

#!/bin/sh
# Gaps in the GP register on the default (defective) synthetic economy:
# synth -> keygen -> pseudonymise -> init -> load -> analyse, then
# person_year is compared with synth's truth year by year (pseudonyms
# recomputed independently with python3's hmac). A register row lost to a
# defect must not drop a person from the latest year more than from the
# earlier ones (docs/analysis.md, Population: registrations reach back, and
# forward when the person is registered later or has activity at the
# practice), no person-year the truth lacks may appear, and the residual
# loss is reported in register_gaps and by yoc quality.
. "$(dirname "$0")/lib.sh"
for v in synth keygen pseudonymise init load analyse quality; do
	if ! "$YOC" help "$v" >/dev/null 2>&1; then
		skip "register gaps" "yoc $v not built"; done_testing; exit 0
	fi
done
if ! command -v python3 >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then
	skip "register gaps" "python3 or the sqlite3 CLI missing"; done_testing; exit 0
fi
export YOC_DATA="${YOC_DATA:-$YOC_ROOT/data}"
cd "$TMP" || exit 1
PERSONS=${YOC_GAPS_PERSONS:-5000}
expect_rc 0 "synth $PERSONS persons x 3 years, with defects" "$YOC" synth --persons "$PERSONS" --out S
expect_rc 0 "keygen" "$YOC" keygen --out K
expect_rc 0 "pseudonymise" "$YOC" pseudonymise --key K --in S/feeds --out P --optout S/optout.csv
expect_rc 0 "init" "$YOC" init D
expect_rc 0 "load" "$YOC" load --db D P
"$YOC" analyse --db D > analyse.txt 2>&1
same "analyse runs (exit 0)" "$?" 0
sqlite3 -csv D/yoc.db "select pseudo_id, fyear from person_year" > py.csv
sqlite3 -csv D/yoc.db "select fyear, outcome, sum(persons) from register_gaps group by 1, 2" > gaps.csv
same "register_gaps written" "$?" 0

python3 - S/truth/person_year.csv py.csv gaps.csv K > cmp.txt <<'PY'
import csv, hmac, hashlib, sys
from collections import Counter
truth_path, py_path, gaps_path, key_path = sys.argv[1:5]
key = bytes.fromhex(open(key_path).read().strip())
ps = lambda n: hmac.new(key, n.encode(), hashlib.sha256).hexdigest()
truth = set()
for r in csv.DictReader(open(truth_path, newline="")):
    if r["opted_out"] != "1":
        truth.add((ps(r["nhs_number"]), r["fyear"]))
got = {(p, y) for p, y in csv.reader(open(py_path, newline=""))}
gaps = Counter()
for y, outcome, n in csv.reader(open(gaps_path, newline="")):
    gaps[(y, outcome)] += int(n)
years = sorted({y for _, y in truth})
def check(ok, what, detail=""):
    print(("ok - " if ok else "not ok - ") + what + ("" if ok or not detail else "  # " + detail))
miss = Counter(y for (p, y) in truth - got)
extra = Counter(y for (p, y) in got - truth)
size = Counter(y for (p, y) in truth)
print("# person-years missing by year: " + ", ".join("%s %d of %d" % (y, miss[y], size[y]) for y in years))
print("# register_gaps: " + ", ".join("%s %s %d" % (k[0], k[1], v) for k, v in sorted(gaps.items())))
check(sum(extra.values()) == 0, "no person-year the truth lacks", str(dict(extra)))
last, earlier = years[-1], years[:-1]
bound = 2 * max(miss[y] for y in earlier) + 0.001 * size[last]
check(miss[last] <= bound,
      "the latest year loses no more than the earlier ones (%d; at most twice the worst earlier"
      " year, %d, plus 0.1%%)" % (miss[last], max(miss[y] for y in earlier)))
# who the analysis had the year before and lost: each is reported as lost
for i in range(1, len(years)):
    y, prev = years[i], years[i - 1]
    had = sum(1 for (p, yy) in truth - got if yy == y and (p, prev) in got)
    check(had <= gaps[(y, "lost")],
          "%s: the %d persons in person_year the year before and missing now are reported"
          " as lost (%d)" % (y, had, gaps[(y, "lost")]))
carried = sum(v for k, v in gaps.items() if k[1] != "lost")
check(carried > 0, "person-years carried over register rows lost to defects (%d)" % carried)
PY
same "comparison script runs" "$?" 0
while IFS= read -r line; do
	case "$line" in "ok - "*) ok "${line#ok - }" ;; "not ok - "*) not_ok "${line#not ok - }" ;; *) echo "$line" ;; esac
done < cmp.txt
check "yoc analyse reports the register gaps" grep -q "register gaps: [0-9]* person-years carried" analyse.txt
expect_rc 0 "quality after analyse" "$YOC" quality --db D --out Q
same "quality.csv holds register_gaps as analysed" \
	"$(awk -F, '$2=="register_gaps"{s+=$7} END {print s+0}' Q/quality.csv)" \
	"$(sqlite3 D/yoc.db "select sum(persons) from register_gaps")"
check "quality.html shows the gaps" grep -q "Gaps in the GP register" Q/quality.html
done_testing

#!/bin/sh
# End to end on a small synthetic economy with injected defects:
#   yoc synth -> keygen -> pseudonymise -> init -> load -> quality
# then python3 compares, file by file and defect by defect, the quality
# report's counts with `yoc synth`'s manifest.json, and checks that every
# file's accounting balances from the source rows to the dataset.
#
# Pseudonymisation changes what can be seen downstream, and the test takes
# that from independent evidence, never from yoc load or yoc quality:
#   - rows pseudonymise rejects as malformed CSV (stray quotes, the truncated
#     last line) come from its --json report and must equal the manifest's;
#     they reach the quality report through the source account pseudonymise
#     writes and load records: per file the defects stray_quote and
#     truncated_last_line, rows_rejected_at_source by reason, and source_rows
#     (the manifest's rows of the extract = loaded + quarantined + rejected
#     at source + opted out);
#   - a defect in DOB is coarsened to MYDOB: a DD/MM/YYYY DOB becomes a
#     normal MYDOB and an impossible DOB (30 February, month 13) an empty
#     one. The test finds those cells itself in the source feeds and takes
#     them off the expected date counts; a DOB before 1900 stays visible in
#     MYDOB and must be found;
#   - a date pushed 10-30 years on is in the future only when it lands
#     after today (a DOB of 1950 pushed to 1975 is just a wrong DOB): the
#     test counts the source rows holding a date after today, and every one
#     must be found.
. "$(dirname "$0")/lib.sh"

if ! "$YOC" help synth >/dev/null 2>&1 || ! "$YOC" help pseudonymise >/dev/null 2>&1; then
	skip "synthetic economy end to end" "yoc synth or yoc pseudonymise not built"
	done_testing
	exit 0
fi
cd "$TMP" || exit 1
PERSONS=${YOC_QM_PERSONS:-3000}
expect_rc 0 "synth writes a small economy with defects" \
	"$YOC" synth --persons "$PERSONS" --years 1 --data "$YOC_ROOT/data" --out S
expect_rc 0 "keygen" "$YOC" keygen --out K
"$YOC" pseudonymise --key K --in S/feeds --out P --json > pseudo.json 2> pseudo.err
same "pseudonymise runs (exit 0)" "$?" 0
expect_rc 0 "init" "$YOC" init D
"$YOC" load --db D --json P > load.json 2> load.err
same "load runs (exit 0)" "$?" 0
expect_rc 0 "quality runs with contracts and the tariff" \
	"$YOC" quality --db D --out Q --contracts S/contracts.csv --data "$YOC_ROOT/data"
"$YOC" load --db D --json P > load2.json 2>/dev/null
same "loading the same tree again changes nothing" \
	"$(python3 -c 'import json,sys; print(sorted(set(json.loads(l)["status"] for l in open(sys.argv[1]))))' load2.json)" \
	"['unchanged']"

python3 - > checks.txt 2> checks.err <<'PY'
import csv, datetime, json, os, re
from collections import defaultdict

man = json.load(open("S/manifest.json"))
pseudo = {}
for l in open("pseudo.json"):
    if l.strip():
        r = json.loads(l)
        pseudo[os.path.relpath(r["file"], "S")] = r
load = {}
for l in open("load.json"):
    if l.strip():
        r = json.loads(l)
        load[os.path.relpath(r["file"], "P")] = r
quality = defaultdict(dict)          # (kind, provider, period) -> check -> value
source = defaultdict(dict)           # (kind, provider, period) -> source_rows etc.
missing = set()
dupfiles = {}
contracts = {}
with open("Q/quality.csv", newline="") as f:
    for r in csv.DictReader(f):
        key = (r["kind"], r["provider"], r["period"])
        if r["section"] == "defects":
            if r["check"] == "missing_month":
                missing.add(key)
            elif r["check"] == "duplicate_file":
                dupfiles[key] = float(r["value"])
            elif r["kind"]:
                quality[key][r["check"]] = float(r["value"])
        elif r["check"] in ("source_rows", "rows_opted_out") and r["kind"]:
            source[key][r["check"]] = r
        elif r["check"] == "rows_rejected_at_source":
            source[key].setdefault("rejected", {})[r["field"]] = float(r["value"])
        elif r["check"] == "contract_triangulation" and r["provider"]:
            contracts[(r["provider"], r["period"])] = r

def check(ok, what, detail=""):
    print(("ok - " if ok else "not ok - ") + what)
    if not ok and detail:
        print("# " + detail)

today = datetime.date.today()
def dob_class(v):
    """What pseudonymise makes of a DOB cell: 'format', 'invalid' or None."""
    if re.fullmatch(r"\d\d/\d\d/\d{4}", v):
        return "format"
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)", v)
    if m:
        try:
            datetime.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return "invalid"
    return None

def iso_after_today(v):
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)", v)
    if not m:
        return False
    try:
        return datetime.date(int(m[1]), int(m[2]), int(m[3])) > today
    except ValueError:
        return False

def dob_defects(path):
    """Counts, from the source, DOB cells pseudonymise normalises or blanks,
    and rows holding a date after today."""
    n = defaultdict(int)
    with open(path, newline="") as f:
        head = f.readline().rstrip("\n").split(",")
        col = head.index("DOB") if "DOB" in head else -1
        for line in f:
            cells = line.rstrip("\n").split(",")
            if col >= 0 and len(cells) == len(head) and '"' not in line:
                c = dob_class(cells[col])
                if c:
                    n[c] += 1
            if len(cells) == len(head) and '"' not in line and any(map(iso_after_today, cells)):
                n["future"] += 1
    return n

exact = ["nhs_bad_check_digit", "nhs_missing", "date_in_future", "unknown_code",
         "duplicate_row", "cost_mismatch"]
bad_rows = bad_acct = bad_defect = bad_reject = bad_source = 0
found = defaultdict(int)
erased = defaultdict(int)
want_total = defaultdict(int)
for f in man["files"]:
    rel = f["path"]
    src = os.path.relpath(rel, "feeds")
    ps, ld = pseudo.get(rel), load.get(src)
    if ps is None or ld is None:
        check(False, "file present at every stage: " + rel)
        continue
    d = f["defects"]
    # accounting: source rows -> pseudonymise -> load
    if ps["rows_in"] != f["rows"] or ld["rows"] != ps["rows_out"]:
        bad_rows += 1
        print("# %s: manifest %d, pseudonymise in %d out %d, load %d" %
              (rel, f["rows"], ps["rows_in"], ps["rows_out"], ld["rows"]))
    if ld["rows"] != ld["loaded"] + ld["quarantined"] or \
       f["rows"] != ld["rows"] + ps["rejected"] + ps["opted_out"]:
        bad_acct += 1
        print("# %s: does not balance" % rel)
    if ps["rejected"] != d["stray_quote"] + d["truncated_last_line"]:
        bad_reject += 1
        print("# %s: pseudonymise rejected %d, manifest stray quotes %d + truncated %d" %
              (rel, ps["rejected"], d["stray_quote"], d["truncated_last_line"]))
    if "duplicate_of" in f:
        key = (f["kind"], f["provider"], f["period"])
        want = f["rows"] - ps["rejected"] - ps["opted_out"]
        check(dupfiles.get(key) == want and ld["status"] == "unchanged",
              "month sent twice found: %s (%d rows)" % (rel, want),
              "got %s, status %s" % (dupfiles.get(key), ld["status"]))
        continue
    got = quality.get((f["kind"], f["provider"], f["period"]), {})
    dob = dob_defects(os.path.join("S", rel))
    want = {k: d[k] for k in exact}
    want["date_wrong_format"] = d["date_wrong_format"] - dob["format"]
    want["date_out_of_range"] = d["date_out_of_range"] - dob["invalid"]
    want["date_in_future"] = dob["future"]
    erased["date_in_future"] += d["date_in_future"] - dob["future"]
    erased["date_wrong_format"] += dob["format"]
    erased["date_out_of_range"] += dob["invalid"]
    if dob["future"] > d["date_in_future"]:
        print("# %s: %d rows dated after today, manifest has %d" %
              (rel, dob["future"], d["date_in_future"]))
        bad_defect += 1
    want["renamed_column"] = d["renamed_column"] - ps["rejected"] - ps["opted_out"] \
        if d["renamed_column"] else 0
    # rejected at source, known downstream from the source account
    want["stray_quote"] = d["stray_quote"]
    want["truncated_last_line"] = d["truncated_last_line"]
    want["malformed_row"] = 0
    src = source.get((f["kind"], f["provider"], f["period"]), {})
    sr = src.get("source_rows")
    rej = {k: v for k, v in src.get("rejected", {}).items()}
    want_rej = {k: float(v) for k, v in (("stray_quote", d["stray_quote"]),
                                         ("truncated", d["truncated_last_line"])) if v}
    if sr is None or float(sr["value"]) != f["rows"] or float(sr["expected"]) != f["rows"] or \
       sr["flag"] != "" or rej != want_rej or \
       float(src.get("rows_opted_out", {}).get("value", -1)) != ps["opted_out"]:
        bad_source += 1
        print("# %s: source_rows %s, rejected at source %s (manifest %s), opted out %s (pseudonymise %d)" %
              (rel, sr and (sr["value"], sr["expected"], sr["flag"]), rej, want_rej,
               src.get("rows_opted_out", {}).get("value"), ps["opted_out"]))
    if ps["dob_unparsed"] != dob["invalid"]:
        print("# %s: pseudonymise dob_unparsed %d, impossible DOBs in the source %d" %
              (rel, ps["dob_unparsed"], dob["invalid"]))
        bad_defect += 1
    for k, v in want.items():
        g = got.get(k)
        want_total[k] += v
        found[k] += g or 0
        if g != v:
            bad_defect += 1
            print("# %s %s: report %s, expected %d (manifest %d)" % (rel, k, g, v, d.get(k, 0)))
check(bad_rows == 0, "every file's rows: manifest = pseudonymise input, pseudonymise output = load")
check(bad_acct == 0, "every file balances: rows = loaded + quarantined; source = loaded + quarantined + rejected + opted out")
check(bad_reject == 0, "stray quotes and truncated last lines: rejected by pseudonymise, as many as injected")
check(bad_source == 0, "every file in the quality report: manifest rows = loaded + quarantined + rejected at source (stray quotes, truncated lines as injected) + opted out")
for k in sorted(want_total):
    check(found[k] == want_total[k] and (want_total[k] > 0 or k == "malformed_row"),
          "defect %s: %d found, %d expected%s" % (k, found[k], want_total[k],
          " (%d more not detectable downstream: see the header)" % erased[k] if erased[k] else ""))
check(bad_defect == 0, "every file's count of every defect equals the manifest's")
withheld = {(w["kind"], w["provider"], w["period"]) for w in man["withheld"]}
check(len(withheld) > 0 and missing == withheld, "missing months found exactly (%d)" % len(withheld),
      "report %s, manifest %s" % (sorted(missing), sorted(withheld)))
off = [c for c in man["contracts"] if c["off"]]
bad_c = []
for c in man["contracts"]:
    r = contracts.get((c["provider"], c["fyear"]))
    flagged = r is not None and r["flag"] == "variance"
    if r is None or flagged != c["off"]:
        bad_c.append("%s %s off=%s flag=%s" % (c["provider"], c["fyear"], c["off"],
                                                 r and r["flag"]))
    elif abs(float(r["value"]) - float(c["priced_activity"])) > 0.03 * float(c["priced_activity"]):
        bad_c.append("%s costed %s, manifest priced %s" % (c["provider"], r["value"],
                                                            c["priced_activity"]))
check(len(off) > 0 and not bad_c,
      "contract contradictions flagged exactly (%d of %d), costed activity within 3%% of the truth"
      % (len(off), len(man["contracts"])), "; ".join(bad_c))
PY
same "comparison script runs" "$?" 0
sed 's/^/# /' checks.err | head -5
while IFS= read -r line; do
	case "$line" in
	"ok - "*) ok "${line#ok - }" ;;
	"not ok - "*) not_ok "${line#not ok - }" ;;
	*) echo "$line" ;;
	esac
done < checks.txt
done_testing

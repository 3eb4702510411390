#!/bin/sh
# The outcome data end to end: yoc synth -> pseudonymise -> load -> quality,
# checked against synth's truth files (truth/discharge.csv, reablement.csv,
# careplan.csv, pam.csv) and manifest.json by python3 reading the source
# feeds, the truth and the exported dataset, never yoc's own figures:
#   - every spell of truth/discharge.csv is in the dataset with its ready
#     date, RRR need, delay reason and delayed days on every episode (or all
#     its rows are accounted for: a withheld month, quarantined, rejected at
#     source); about half of RRR discharges delayed, 1-20 days;
#   - reablement packages in social_care as in truth/reablement.csv, each
#     after an RRR discharge of the same person;
#   - care plans and PAM results as in their truth; PAM levels by the
#     published cut-offs;
#   - the outcome defects found by load and yoc quality exactly as often as
#     the manifest says (PAM score out of range quarantined naming the column,
#     ready date after discharge and PAM level mismatch flagged, plans and
#     results under NHS numbers on no register counted as not registered);
#   - the analysis does not see the new columns and kinds: person_year is
#     byte-identical from the feeds with them and from the same feeds without
#     (columns cut, careplan and pam left out), reablement rows left out of
#     both.
. "$(dirname "$0")/lib.sh"

if ! "$YOC" help synth >/dev/null 2>&1; then
	skip "outcome data end to end" "yoc synth not built"
	done_testing
	exit 0
fi
cd "$TMP" || exit 1
PERSONS=${YOC_OD_PERSONS:-4000}
DATA="$YOC_ROOT/data"
expect_rc 0 "synth writes a small economy with outcome feeds" \
	"$YOC" synth --persons "$PERSONS" --years 3 --data "$DATA" --out S
expect_rc 0 "the same seed again" "$YOC" synth --persons "$PERSONS" --years 3 --data "$DATA" --out S2
expect_rc 0 "and without defects" "$YOC" synth --persons "$PERSONS" --years 3 --clean --data "$DATA" --out C
same_files() { # $1 $2: dirs, rest: relative paths; exits 0 when every file is the same
	a=$1; b=$2; shift 2
	for f in "$@"; do cmp -s "$a/$f" "$b/$f" || return 1; done
}
check "the same seed writes the same outcome feeds and truth" same_files S S2 \
	truth/discharge.csv truth/reablement.csv truth/careplan.csv truth/pam.csv manifest.json \
	$(cd S && ls feeds/careplan/*.csv feeds/pam/*.csv | head -40)
check "defects do not change the discharge and reablement truth (clean run)" same_files S C \
	truth/discharge.csv truth/reablement.csv
# the clean run has no plans under NHS numbers issued to no one; else the same
for f in careplan pam; do
	awk -F, 'NR == FNR { if (FNR > 1) reg[$1] = 1; next } FNR == 1 || ($2 in reg)' \
		S/truth/registrations.csv "S/truth/$f.csv" > "$f.registered"
done
check "nor the care plan and PAM truth of registered people" sh -c \
	"cmp -s careplan.registered C/truth/careplan.csv && cmp -s pam.registered C/truth/pam.csv"
expect_rc 0 "keygen" "$YOC" keygen --out K
"$YOC" pseudonymise --key K --in S/feeds --out P --json > pseudo.json 2> pseudo.err
same "pseudonymise runs (exit 0)" "$?" 0
expect_rc 0 "init" "$YOC" init D
"$YOC" load --db D --json P > load.json 2> load.err
same "load runs (exit 0)" "$?" 0
expect_rc 0 "quality runs" "$YOC" quality --db D --out Q --data "$DATA"
for t in apc social_care careplan pam quarantine person; do
	"$YOC" export --db D --table "$t" --out "$t.csv" 2>>export.err || echo "export $t failed" >> export.err
done
same "the dataset exports (apc, social_care, careplan, pam, quarantine)" "$(cat export.err)" ""

DATA="$DATA" python3 - > checks.txt 2> checks.err <<'PY'
import csv, datetime, glob, json, os
from collections import Counter, defaultdict

def check(ok, what, detail=""):
    print(("ok - " if ok else "not ok - ") + what)
    if not ok and detail:
        print("# " + str(detail)[:600])

def D(s):
    return datetime.date.fromisoformat(s)

def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))

man = json.load(open("S/manifest.json"))
tot = man["outcome_defect_totals"]
per_file = {f["path"]: f.get("outcome_defects", {}) for f in man["files"]}

# ---- source feeds: every line, as sent -------------------------------------------
def source(kind):
    out = []
    for p in sorted(glob.glob("S/feeds/%s/*.csv" % kind)):
        if "_v" in os.path.basename(p):
            continue  # a month sent twice: loaded once
        with open(p, newline="") as f:
            text = f.read()
        lines = text.split("\n")
        head = lines[0].split(",")
        body = lines[1:]
        cut = not text.endswith("\n")  # the last line was cut (truncated)
        if not cut:
            body = body[:-1]
        for i, l in enumerate(body):
            cells = l.split(",")
            rec = dict(zip(head, cells)) if len(cells) == len(head) else {}
            rec["_bad"] = '"' in l or len(cells) != len(head) or (cut and i == len(body) - 1)
            rec["_line"] = l
            out.append(rec)
    return out

apc_src = source("apc")
quar = rows("quarantine.csv")
quar_raw = "\n".join(r["raw"] for r in quar)

# ---- discharges --------------------------------------------------------------------
truth = rows("S/truth/discharge.csv")
apc = rows("apc.csv")
by_spell = defaultdict(list)
for r in apc:
    by_spell[r["SUSSPELLID"]].append(r)
src_spell = defaultdict(list)
for r in apc_src:
    if "SUSSPELLID" in r:
        src_spell[r["SUSSPELLID"]].append(r)
bad_val, unexplained, ready_after, missing = [], [], 0, 0
for t in truth:
    got = by_spell.get(t["susspellid"])
    if not got:
        missing += 1
        srcs = src_spell.get(t["susspellid"], [])
        if srcs and not all(s["_bad"] or t["susspellid"] in quar_raw for s in srcs):
            unexplained.append(t["susspellid"])
        continue
    for r in got:
        if r["DISREADYDATE"] and r["DISDATE"] and D(r["DISREADYDATE"]) > D(r["DISDATE"]):
            ready_after += 1
            continue
        # a row defect may have nulled DISDATE: delayed days only where it is the truth's
        delayed = (D(r["DISDATE"]) - D(r["DISREADYDATE"])).days if r["DISDATE"] == t["disdate"] \
            else int(t["delayed_days"])
        if (r["DISREADYDATE"] != t["disready"] or r["RRR_NEED"] != t["rrr_need"] or
                r["DELAY_REASON"] != t["delay_reason"] or delayed != int(t["delayed_days"])):
            bad_val.append((t["susspellid"], r["DISREADYDATE"], r["RRR_NEED"], r["DELAY_REASON"], t))
check(len(truth) > 500 and not bad_val,
      "every episode of the %d spells with a ready date carries the truth's ready date, RRR need, "
      "delay reason and delayed days" % len(truth), bad_val[:3])
check(missing < 0.03 * len(truth) and not unexplained,
      "spells missing from the dataset (%d) are all in withheld months, quarantined or rejected at source"
      % missing, unexplained[:5])
check(ready_after == tot["ready_after_discharge"] > 0,
      "ready date after discharge: %d rows in the dataset, manifest %d" % (ready_after, tot["ready_after_discharge"]))
def iso(v):
    try:
        return D(v)
    except (TypeError, ValueError):
        return None
ready_src = sum(1 for r in apc_src if not r["_bad"] and iso(r.get("DISREADYDATE")) and
                iso(r.get("DISDATE")) and iso(r["DISREADYDATE"]) > iso(r["DISDATE"]))
check(ready_src == ready_after, "and as many in the source feeds (%d)" % ready_src)
# no ready date on day cases or deaths; one per other spell in the source
nodate = [r["SUSSPELLID"] for r in apc_src if not r["_bad"] and r.get("CLASSPAT") == "2" and r.get("DISREADYDATE")]
nodate += [r["SUSSPELLID"] for r in apc_src if not r["_bad"] and r.get("DISMETH") == "4" and r.get("DISREADYDATE")]
check(not nodate, "no ready date on day cases and spells ending in death", nodate[:3])

rrr = [t for t in truth if t["rrr_need"] == "Y"]
delayed = [t for t in rrr if int(t["delayed_days"]) > 0]
share = len(delayed) / max(len(rrr), 1)
check(len(rrr) > 50 and 0.40 <= share <= 0.60,
      "about half of RRR discharges delayed: %d of %d (%.0f%%)" % (len(delayed), len(rrr), 100 * share))
days = [int(t["delayed_days"]) for t in truth if int(t["delayed_days"]) > 0]
check(days and min(days) >= 1 and max(days) <= 20 and sorted(days)[len(days) // 2] < sum(days) / len(days) + 1,
      "delays 1-20 days (median %s, mean %.1f)" % (sorted(days)[len(days) // 2] if days else "-",
                                                  sum(days) / max(len(days), 1)))
bad_reason = [t for t in truth if (int(t["delayed_days"]) > 0) != (t["delay_reason"] != "")
              or (t["rrr_need"] == "N" and t["delay_reason"] not in ("", "HOME", "RESIDENTIAL"))
              or D(t["disready"]) < D(t["admidate"]) or D(t["disready"]) > D(t["disdate"])]
check(not bad_reason, "a reason exactly when delayed (HOME or RESIDENTIAL without RRR need); "
      "admission <= ready <= discharge", bad_reason[:3])
# RRR need among emergency spells at 65+ (age from the source DOB)
first = {}
for r in apc_src:
    if not r["_bad"] and r.get("EPIORDER") == "01":
        first[r["SUSSPELLID"]] = r
em = Counter()
for t in truth:
    s = first.get(t["susspellid"])
    if not s or not s["ADMIMETH"].startswith("2") or len(s["DOB"]) != 10 or s["DOB"][4] != "-":
        continue
    try:
        age = (D(t["admidate"]) - D(s["DOB"])).days / 365.25
    except ValueError:
        continue
    if age >= 65:
        em["n"] += 1
        em["rrr"] += t["rrr_need"] == "Y"
r65 = em["rrr"] / max(em["n"], 1)
check(em["n"] > 200 and 0.08 <= r65 <= 0.16,
      "RRR need in about 12%% of emergency spells at 65+: %.1f%% of %d" % (100 * r65, em["n"]))

# ---- reablement --------------------------------------------------------------------
reab = rows("S/truth/reablement.csv")
sc = rows("social_care.csv")
sc_by = defaultdict(list)
for r in sc:
    sc_by[r["SERVICEKEY"]].append(r)
rrr_dis = {(t["nhs_number"], t["disdate"]) for t in rrr}
bad_r = [t for t in reab if (t["nhs_number"], t["hosp_discharge"]) not in rrr_dis]
check(len(reab) > 20 and not bad_r, "each of %d reablement packages follows an RRR discharge of the person"
      % len(reab), bad_r[:3])
bad_r, found = [], 0
for t in reab:
    for r in sc_by.get(t["servicekey"], []):
        found += 1
        if (r["REABLEMENT"], r["HOSP_DISCHARGE"], r["PLACE_91D"], r["SERVICE_TYPE"]) != \
                ("Y", t["hosp_discharge"], t["place_91d"], "HOME_CARE"):
            bad_r.append((r["SERVICEKEY"], r["REABLEMENT"], r["HOSP_DISCHARGE"], r["PLACE_91D"]))
not_reab = [r["SERVICEKEY"] for r in sc if r["REABLEMENT"] == "Y" and r["SERVICEKEY"] not in
            {t["servicekey"] for t in reab}]
check(found >= len(reab) and not bad_r and not not_reab,
      "reablement rows in social_care as in the truth (%d rows)" % found, (bad_r + not_reab)[:3])
home = sum(t["place_91d"] == "HOME" for t in reab) / max(len(reab), 1)
check(0.65 <= home <= 0.95, "at home 91 days after discharge: %.0f%% (ASCOF 2B(1) target 65%%+)" % (100 * home))
perm = Counter((r["SERVICE_TYPE"], r["PLACEMENT"]) for r in sc)
check(all(v in ("PERMANENT", "TEMPORARY") for (k, v) in perm if k in ("RESIDENTIAL", "NURSING"))
      and all(v == "" for (k, v) in perm if k == "HOME_CARE"),
      "PLACEMENT on every residential and nursing row, none on home care", dict(perm))

# ---- care plans ----------------------------------------------------------------------
regs = {r["nhs_number"] for r in rows("S/truth/registrations.csv")}
plans = rows("S/truth/careplan.csv")
cp = rows("careplan.csv")
latest = {}
items = defaultdict(Counter)
for r in cp:
    if r["ITEM_TYPE"] == "PLAN":
        if r["PLAN_ID"] not in latest or r["RECORD_DATE"] >= latest[r["PLAN_ID"]]["RECORD_DATE"]:
            latest[r["PLAN_ID"]] = r
    else:
        items[r["PLAN_ID"]][r["ITEM_TYPE"]] += 1
        if r["ITEM_TYPE"] == "NEED" and r["STATUS"] in ("PARTLY", "UNMET"):
            items[r["PLAN_ID"]]["unmet"] += 1
bad_p = []
for t in plans:
    l = latest.get(t["plan_id"])
    got = l and (l["GPPRAC"], l["CREATED"], l["LAST_REVIEW"], l["NEXT_REVIEW"],
                 items[t["plan_id"]]["GOAL"], items[t["plan_id"]]["ACTION"], items[t["plan_id"]]["unmet"])
    want = (t["practice"], t["created"], t["last_review"], t["next_review"], int(t["goals"]),
            int(t["actions"]), int(t["needs_unmet"]))
    if got != want:
        bad_p.append((t["plan_id"], got, want))
check(len(plans) > 100 and not bad_p, "every one of %d care plans as in the truth: practice, dates, "
      "goals, actions, needs unmet" % len(plans), bad_p[:3])
codes = {}
for r in csv.reader(open(os.environ["DATA"] + "/code_sets.csv")):
    codes.setdefault(r[0], set()).add(r[1])
bad_c = [(k, r[k]) for r in cp for k in ("ITEM_TYPE", "COORDINATOR", "DOMAIN", "STATUS", "ACTION_KIND",
         "NEED", "UNMET_REASON", "CONSENT_PURPOSE") if r[k] and r[k] not in codes.get(k, ())]
check(not bad_c, "every care plan code is in data/code_sets.csv", bad_c[:3])
py = rows("S/truth/person_year.csv")
lastfy = max(r["fyear"] for r in py)
with_plan = {t["nhs_number"] for t in plans}
multi = [r for r in py if r["fyear"] == lastfy and int(r["ltc_count"]) >= 3 and int(r["age"]) >= 18]
cov = sum(r["nhs_number"] in with_plan for r in multi) / max(len(multi), 1)
check(len(multi) > 100 and 0.45 <= cov <= 0.75,
      "plans for about 60%% of adults with 3+ conditions: %.0f%% of %d" % (100 * cov, len(multi)))
# overdue: next review before the end of the window, of people registered to its end
at_end = {r["nhs_number"] for r in rows("S/truth/registrations.csv") if r["reg_end"] == ""}
open_plans = [t for t in plans if t["nhs_number"] in at_end]
overdue = sum(t["next_review"] < man["window"]["end"] for t in open_plans) / max(len(open_plans), 1)
check(0.08 <= overdue <= 0.25, "reviews overdue at the end of the window: %.0f%% of %d plans"
      % (100 * overdue, len(open_plans)))

# ---- PAM ------------------------------------------------------------------------------
def level(score):
    t = round(float(score) * 10)
    return 1 if t <= 470 else 2 if t <= 551 else 3 if t <= 670 else 4
pams = rows("S/truth/pam.csv")
bad_l = [t for t in pams if level(t["score"]) != int(t["level"])]
check(len(pams) > 100 and not bad_l, "PAM levels of %d results by the cut-offs (47.0, 55.1, 67.0)"
      % len(pams), bad_l[:3])
pam = rows("pam.csv")
tp = {t["pam_id"]: t for t in pams}
mism = [r for r in pam if r["PAM_SCORE"] and r["PAM_LEVEL"] and level(r["PAM_SCORE"]) != int(r["PAM_LEVEL"])]
wrong = [r["PAM_ID"] for r in pam if r["PAM_ID"] not in tp or r["PAM_SCORE"] != tp[r["PAM_ID"]]["score"]]
check(not wrong, "every PAM score in the dataset is the truth's", wrong[:3])
check(len(mism) == tot["pam_level_mismatch"] > 0,
      "levels not matching the score: %d in the dataset, manifest %d" % (len(mism), tot["pam_level_mismatch"]))
oor = [r for r in quar if r["reason"] == "out_of_range"]
check(len(oor) == tot["pam_score_out_of_range"] > 0 and all(r["field"] == "PAM_SCORE"
      and not 0 <= float(r["value"]) <= 100 for r in oor),
      "scores out of range quarantined naming PAM_SCORE: %d, manifest %d" % (len(oor), tot["pam_score_out_of_range"]))
# gains: the least activated gain most
gain = defaultdict(list)
series = defaultdict(list)
for t in pams:
    series[t["nhs_number"]].append((t["pam_date"], float(t["score"]), int(t["level"])))
for s in series.values():
    s.sort()
    for a, b in zip(s, s[1:]):
        gain[a[2]].append(b[1] - a[1])
g = {k: sum(v) / len(v) for k, v in gain.items() if len(v) >= 10}
check(1 in g or 2 in g, "enough repeat measurements for the gains", g)
lo = [g[k] for k in (1, 2) if k in g]
check(lo and 4 in g and min(lo) > 3 and abs(g[4]) < 2.5,
      "yearly gain: levels 1-2 about 5 points, level 4 about 0 (%s)" %
      ", ".join("L%d %+.1f" % (k, v) for k, v in sorted(g.items())))

# ---- the quality report ------------------------------------------------------------------
qsum = Counter()
unreg = Counter()
with open("Q/quality.csv", newline="") as f:
    for r in csv.DictReader(f):
        if r["section"] == "defects" and r["check"] in ("ready_after_discharge", "pam_level_mismatch",
                                                        "pam_score_out_of_range"):
            qsum[r["check"]] += float(r["value"])
        if r["check"] == "unlinked_not_registered" and r["kind"] in ("careplan", "pam"):
            unreg[r["kind"]] += float(r["value"])
for k in ("ready_after_discharge", "pam_level_mismatch", "pam_score_out_of_range"):
    check(qsum[k] == tot[k], "quality report %s: %d, manifest %d" % (k, qsum[k], tot[k]))
# unregistered: rows under NHS numbers on no register, in the source feeds; in
# the dataset their pseudonyms are in no person row, as are those of people
# whose register rows were lost to defects
src = [(r, k) for k in ("careplan", "pam") for r in source(k)]
phantom = {r["ITEM_ID" if k == "careplan" else "PAM_ID"] for r, k in src if r.get("NEWNHSNO") not in regs}
man_unreg = sum(f.get("outcome_defects", {}).get("unregistered", 0) for f in man["files"])
check(len(phantom) == man_unreg == tot["unregistered"] > 0,
      "care plans and PAM on no register: %d source rows, manifest %d" % (len(phantom), tot["unregistered"]))
persons = {r["pseudo_id"] for r in rows("person.csv")}
ds = [(r, "ITEM_ID") for r in cp] + [(r, "PAM_ID") for r in pam]
unlinked = [r for r, key in ds if r["PSEUDO_ID"] not in persons]
lost = [r[key] for r, key in ds if r[key] in phantom and r["PSEUDO_ID"] in persons]
check(not lost and len(unlinked) == unreg["careplan"] + unreg["pam"] >= len(phantom),
      "quality counts them not registered (%d rows with no person, %d of them sent so)"
      % (unreg["careplan"] + unreg["pam"], len(phantom)), lost[:3])
bad_f = [p for p, d in per_file.items() if p.startswith("feeds/apc/") and "ready_after_discharge" not in d]
check(not bad_f, "the manifest gives the outcome defects of every apc, careplan and pam file", bad_f[:3])
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

# ---- the analysis does not see the outcome data ------------------------------------------
# new: the feeds as written, reablement rows left out; old: the same, the new
# columns cut and careplan and pam left out (the feeds as they were before).
mkdir -p new old
cp -R S/feeds/. new/
rm -rf new/careplan new/pam
for f in new/social_care/*.csv; do
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "REABLEMENT") c = i } $c != "Y"' "$f" > "$f.t" &&
		mv "$f.t" "$f"
done
cp -R new/. old/
cut_cols() { # file n: drops the last n columns of every line (a cut last line stays cut)
	awk -F, -v OFS=, -v n="$2" '{ if (NF > n) NF -= n; print }' "$1" > "$1.t" && mv "$1.t" "$1"
}
for f in old/apc/*.csv; do cut_cols "$f" 3; done
for f in old/social_care/*.csv; do cut_cols "$f" 4; done
cp -R S/feeds/careplan S/feeds/pam new/
check "the old apc header has no outcome column" sh -c "! head -1 old/apc/*.csv | grep -q DISREADYDATE"
for v in new old; do
	"$YOC" pseudonymise --key K --in "$v" --out "P$v" >/dev/null 2>&1 &&
		"$YOC" init "D$v" >/dev/null 2>&1 &&
		"$YOC" load --db "D$v" "P$v" >/dev/null 2>&1 &&
		"$YOC" analyse --db "D$v" --data "$DATA" >/dev/null 2>"an$v.err" &&
		sqlite3 -csv -header "D$v/yoc.db" "SELECT * FROM person_year ORDER BY pseudo_id, fyear" > "py$v.csv"
	same "analyse on the $v feeds" "$?" 0
done
check "person_year has rows" test "$(wc -l < pynew.csv)" -gt 1000
check "person_year is byte-identical with and without the outcome columns and kinds" cmp -s pynew.csv pyold.csv
done_testing

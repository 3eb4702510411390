#!/bin/sh
# The source account, end to end: yoc pseudonymise -> yoc load -> yoc quality
# on a small identifiable tree with rows rejected at source (stray quote,
# ragged row, NUL byte, truncated last line), opt-outs and rows load
# quarantines. For every file, with counts taken independently from the
# source files (python3, by construction and by counting lines):
#     rows in the extract = loaded + quarantined + rejected at source + opted out
# in quality.csv, in the catalog and in the provider feedback; the account
# holds no identifier, no value of a rejected row and no key; files moved,
# changed, copied out of the tree, pseudonymised one by one, or described
# by a doctored account, and a dataset from before accounts existed.
. "$(dirname "$0")/lib.sh"
for v in keygen pseudonymise init load quality; do
	if ! "$YOC" help "$v" >/dev/null 2>&1; then
		skip "source account" "yoc $v not built"; done_testing; exit 0
	fi
done
if ! command -v python3 >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then
	skip "source account" "python3 or the sqlite3 CLI missing"; done_testing; exit 0
fi
cd "$TMP" || exit 1

# --- the identifiable extracts, and what should become of each row ----------
python3 - > expect.json <<'PY'
import json, os
def nhs(i):  # valid NHS numbers of the test range 999xxxxxxx
    k = 0
    for p in range(999000000, 999999999):
        s = sum(int(d) * w for d, w in zip('%09d' % p, range(10, 1, -1)))
        c = 11 - s % 11
        c = 0 if c == 11 else c
        if c == 10:
            continue
        if k == i:
            return '%09d%d' % (p, c)
        k += 1
H = "NEWNHSNO,DOB,SEX,PROCODE,ATTENDKEY,FYEAR,APPTDATE,ATTENDED,FIRSTATT,TRETSPEF,OPERTN_4_01,SUSHRG,GPPRAC,LSOA11,SURNAME\n"
people = [nhs(i) for i in range(40)]
optout = people[30:34]
exp = {"identifiers": [], "secrets": [], "files": {}}
def row(i, who, prov, date="2023-04-%02d", key=None, surname=None):
    sn = surname or "Surname%d" % i
    exp["identifiers"] += [who, "19%02d-03-15" % (40 + i % 50), sn]
    return "%s,19%02d-03-15,%d,%s,%s,2324,%s,5,1,110,-,WF01C,P90001,E01000001,%s\n" % (
        who, 40 + i % 50, 1 + i % 2, prov, key or "K%s%d" % (prov, i),
        date % (1 + i % 28) if "%" in date else date, sn)
def write(rel, rows, tail=""):
    os.makedirs(os.path.dirname("src/" + rel), exist_ok=True)
    with open("src/" + rel, "w", newline="") as f:
        f.write(H + "".join(rows) + tail)
# RA1: 2 stray quotes, 1 ragged row, 1 NUL byte, 3 opted out, 2 bad dates (load quarantines)
rows = []
for i in range(30):
    rows.append(row(i, people[i], "RA1"))
rows.insert(5, row(50, people[1], 'R"A1', surname="StraySecretA"))
rows.insert(9, row(51, people[2], 'R"A1', surname="StraySecretB"))
rows.insert(12, "%s,1960-01-01,1,RA1,RAGGEDKEY\n" % people[3])
rows.insert(15, row(52, people[4], "RA1", key="NUL\x00KEY"))
rows += [row(60 + j, optout[j], "RA1", surname="OptedOutSecret%d" % j) for j in range(3)]
rows += [row(70, people[5], "RA1", date="2023-13-45"), row(71, people[6], "RA1", date="2023-02-30")]
write("op/RA1_2023-04.csv", rows)
lines = {}
for n, r in enumerate(rows, start=2):
    if 'R"A1' in r: lines[n] = "stray_quote"
    elif "RAGGED" in r: lines[n] = "ragged_row"
    elif "\x00" in r: lines[n] = "nul_byte"
exp["secrets"] += ["StraySecretA", "StraySecretB", "RAGGEDKEY", "OptedOutSecret0"]
exp["files"]["op/RA1_2023-04.csv"] = {"rejected": {"stray_quote": 2, "ragged_row": 1, "nul_byte": 1},
                                      "opted_out": 3, "lines": lines}
# RA2: a truncated last line, 1 opted out
rows = [row(i, people[i], "RA2") for i in range(10)] + [row(80, optout[3], "RA2")]
write("op/RA2_2023-04.csv", rows, tail="%s,1950-01-01" % people[11])
exp["files"]["op/RA2_2023-04.csv"] = {"rejected": {"truncated": 1}, "opted_out": 1,
                                      "lines": {len(rows) + 2: "truncated"}}
# RA3, one folder down: clean
write("op/sub/RA3_2023-04.csv", [row(i, people[i], "RA3") for i in range(7)])
exp["files"]["op/sub/RA3_2023-04.csv"] = {"rejected": {}, "opted_out": 0, "lines": {}}
with open("src/notes.txt", "w") as f:
    f.write("not a feed\n")
with open("optout.csv", "w") as f:
    f.write("nhs_number\n" + "\n".join(optout) + "\n")
for rel, e in exp["files"].items():
    b = open("src/" + rel, "rb").read()
    e["extract"] = b.count(b"\n") - 1 + (0 if b.endswith(b"\n") else 1)
    e["rejected_total"] = sum(e["rejected"].values())
print(json.dumps(exp))
PY
same "source tree written" "$?" 0

expect_rc 0 "keygen" "$YOC" keygen --out key.hex
"$YOC" pseudonymise --key key.hex --in src --out P --optout optout.csv --json > pseudo.json 2> pseudo.err
same "pseudonymise runs (exit 0, rows rejected)" "$?" 0
check "the account is written into the output tree" test -f P/yoc-account.json

# --- the account: what it says, and what it must never hold -----------------
python3 - expect.json P/yoc-account.json key.hex src > acct.txt <<'PY'
import hashlib, json, os, sys
exp, acct = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
key = open(sys.argv[3]).read().strip()
text = open(sys.argv[2], encoding="utf-8").read()
def check(ok, what, detail=""):
    print(("ok - " if ok else "not ok - ") + what + ("" if ok or not detail else "  # " + detail))
check(acct.get("format") == "yoc-source-account-1", "format yoc-source-account-1")
files = {f["path"]: f for f in acct["files"]}
check(sorted(files) == sorted(exp["files"]), "one entry per output file, by relative path",
      str(sorted(files)))
bad = []
for rel, e in exp["files"].items():
    f = files.get(rel, {})
    out = open("P/" + rel, "rb").read()
    written = out.count(b"\n") - 1
    want = (e["extract"], written, e["opted_out"], e["rejected_total"], e["rejected"],
            len(out), hashlib.sha256(out).hexdigest(),
            sorted((int(k), v) for k, v in e["lines"].items()))
    got = (f.get("rows_read"), f.get("rows_written"), f.get("opted_out"), f.get("rejected"),
           f.get("rejected_reasons"), f.get("bytes"), f.get("sha256"),
           sorted((r["line"], r["reason"]) for r in f.get("rejected_rows", [])))
    if got != want or e["extract"] != written + e["opted_out"] + e["rejected_total"]:
        bad.append("%s: %s != %s" % (rel, got, want))
check(not bad, "per file: rows read, written (counted in the output), opted out, rejected by reason and line, size, SHA-256", "; ".join(bad))
leaks = [s for s in exp["identifiers"] + exp["secrets"] + [key] if s in text]
check(not leaks, "no NHS number, date of birth, name, value of a rejected or opted-out row, or key in the account", str(leaks[:5]))
check(acct.get("key_id") and acct["key_id"] not in key and len(acct["key_id"]) == 16, "the key id, not the key")
check("src" not in text and "notes" not in text, "no input path, and no note about files not copied")
PY
while IFS= read -r line; do
	case "$line" in "ok - "*) ok "${line#ok - }" ;; "not ok - "*) not_ok "${line#not ok - }" ;; *) echo "# $line" ;; esac
done < acct.txt

# --- load records it, quality reports the identity per file -----------------
expect_rc 0 "init" "$YOC" init D
"$YOC" load --db D P > load.txt 2> load.err
same "load runs (exit 0)" "$?" 0
check "load says the accounts matched" grep -q "source accounts: 3 files matched (5 rows rejected at source, 4 opted out), 0 without an account" load.txt
if grep -q "not .csv or .txt" load.txt; then not_ok "the account is not counted as a skipped file"; else ok "the account is not counted as a skipped file"; fi
same "source_account: every file matched" "$(sqlite3 D/yoc.db "select group_concat(status) from (select status from source_account order by file_id)")" "matched,matched,matched"
expect_rc 0 "quality" "$YOC" quality --db D --out Q

python3 - expect.json D/yoc.db Q > qual.txt <<'PY'
import csv, json, os, sqlite3, sys
exp, db, q = json.load(open(sys.argv[1])), sqlite3.connect(sys.argv[2]), sys.argv[3]
def check(ok, what, detail=""):
    print(("ok - " if ok else "not ok - ") + what + ("" if ok or not detail else "  # " + detail))
files = {os.path.relpath(p, "P"): (fid, prov, per, loaded, quar) for fid, p, prov, per, loaded, quar in
         db.execute("select file_id, path, provider, period, loaded, quarantined from current_files")}
rows = list(csv.DictReader(open(q + "/quality.csv", newline="")))
def find(check_, prov, per, field=None):
    return [r for r in rows if r["check"] == check_ and r["provider"] == prov and r["period"] == per
            and (field is None or r["field"] == field)]
bad = []
for rel, e in exp["files"].items():
    fid, prov, per, loaded, quar = files[rel]
    sr = find("source_rows", prov, per)
    ok = len(sr) == 1 and float(sr[0]["value"]) == e["extract"] and \
        float(sr[0]["expected"]) == e["extract"] and sr[0]["flag"] == "" and \
        e["extract"] == loaded + quar + e["rejected_total"] + e["opted_out"]
    oo = find("rows_opted_out", prov, per)
    ok = ok and len(oo) == 1 and float(oo[0]["value"]) == e["opted_out"]
    got = {r["field"]: float(r["value"]) for r in find("rows_rejected_at_source", prov, per)}
    ok = ok and got == e["rejected"]
    defects = {r["check"]: float(r["value"]) for r in rows if r["section"] == "defects" and
               r["provider"] == prov and r["period"] == per}
    want_d = {"stray_quote": e["rejected"].get("stray_quote", 0),
              "truncated_last_line": e["rejected"].get("truncated", 0),
              "malformed_row": e["rejected"].get("ragged_row", 0) + e["rejected"].get("nul_byte", 0)}
    ok = ok and all(defects.get(k) == v for k, v in want_d.items())
    if not ok:
        bad.append("%s: %s %s %s %s" % (rel, sr, oo, got, defects))
check(not bad, "quality.csv per file: extract rows = loaded + quarantined + rejected at source (by reason, also as defects) + opted out", "; ".join(bad))
tot = [r for r in rows if r["check"] == "source_rows_total"]
n = sum(e["extract"] for e in exp["files"].values())
check(len(tot) == 1 and float(tot[0]["value"]) == n and float(tot[0]["expected"]) == n and tot[0]["flag"] == "",
      "quality.csv total: %d rows in the extracts, balanced" % n, str(tot))
quar = sum(v[4] for v in files.values())
check(quar >= 2, "load quarantined the rows with impossible dates (%d)" % quar)
# provider feedback: the row account per file, and each rejected line
bad = []
for rel, e in exp["files"].items():
    fid, prov, per, loaded, quar = files[rel]
    fb = [r for r in csv.DictReader(open("%s/feedback/%s_files.csv" % (q, prov), newline=""))]
    ok = len(fb) == 1 and int(fb[0]["rows_in_extract"]) == e["extract"] and \
        int(fb[0]["rejected_at_source"]) == e["rejected_total"] and \
        int(fb[0]["opted_out"]) == e["opted_out"] and fb[0]["balances"] == "yes" and \
        fb[0]["source_account"] == "matched"
    listed = []
    if os.path.exists("%s/feedback/%s.csv" % (q, prov)):
        listed = sorted((int(r["line"]), r["reason"]) for r in
                        csv.DictReader(open("%s/feedback/%s.csv" % (q, prov), newline=""))
                        if r["action"] == "rejected_at_source")
    ok = ok and listed == sorted((int(k), v) for k, v in e["lines"].items())
    if not ok:
        bad.append("%s: %s %s" % (rel, fb, listed))
check(not bad, "feedback: PROVIDER_files.csv balances, PROVIDER.csv lists each rejected line", "; ".join(bad))
html = open(q + "/quality.html").read()
check("Rows from the providers&#39; extracts to the dataset" in html or "Rows from the providers' extracts to the dataset" in html,
      "quality.html has the extract-to-dataset table")
check("rows rejected at source" in html and "stray quote" in html, "quality.html: rejected at source, by reason")
PY
while IFS= read -r line; do
	case "$line" in "ok - "*) ok "${line#ok - }" ;; "not ok - "*) not_ok "${line#not ok - }" ;; *) echo "# $line" ;; esac
done < qual.txt

# --- a file moved inside the tree still matches; a changed one does not -----
cp -R P P2
mv P2/op/sub/RA3_2023-04.csv P2/op/RA3_2023-05.csv
printf '%s\n' "$(tail -n 1 P2/op/RA2_2023-04.csv)" >> P2/op/RA2_2023-04.csv
mkdir -p loose/op && cp P/op/RA1_2023-04.csv loose/op/RA4_2023-04.csv
expect_rc 0 "init a second dataset" "$YOC" init D2
"$YOC" load --db D2 P2 loose > load2.txt 2> load2.err
same "load of moved, changed and loose files runs (exit 0)" "$?" 0
same "statuses: changed, matched (moved), matched, no account" \
	"$(sqlite3 D2/yoc.db "select group_concat(s, ' ') from (select f.provider || ':' || a.status as s from files f join source_account a using(file_id) order by f.provider)")" \
	"RA1:matched RA2:changed RA3:matched RA4:no_account"
check "a changed file is named on stderr" grep -q "RA2_2023-04.csv: source account .*yoc-account.json changed" load2.err
expect_rc 0 "quality of the second dataset" "$YOC" quality --db D2 --out Q2
same "quality says which files have no matching account" \
	"$(awk -F, '$2=="source_rows"{print $4 ":" $9}' Q2/quality.csv | sort | tr '\n' ' ')" \
	"RA1: RA2:changed RA3: RA4:no_account "
check "quality: a file without an account says so" grep -q "no source account: rows rejected or opted out at source are not known" Q2/quality.csv
check "feedback: unknown for a file without an account" grep -q ",unknown,,no_account" Q2/feedback/RA4_files.csv

# --- a single file pseudonymised by itself: OUT.account.json beside it ------
mkdir S
"$YOC" pseudonymise --key key.hex --in src/op/RA2_2023-04.csv --out S/RA2_2023-04.csv --optout optout.csv > /dev/null 2>&1
same "single file: exit 0" "$?" 0
check "single file: OUT.account.json written" test -f S/RA2_2023-04.csv.account.json
expect_rc 0 "init a third dataset" "$YOC" init D3
expect_rc 0 "load the single file" "$YOC" load --db D3 S/RA2_2023-04.csv
same "single file: matched, rows as in the extract" \
	"$(sqlite3 D3/yoc.db "select status, rows_read, rejected, opted_out, rejected_reasons from source_account")" \
	"matched|12|1|1|truncated=1"

# --- an account that does not agree with the rows load reads ----------------
cp -R P P4
python3 - P4/yoc-account.json <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
for f in a["files"]:
    if f["path"] == "op/sub/RA3_2023-04.csv":
        f["rows_written"] += 1; f["rows_read"] += 1; f["valid"] += 1
json.dump(a, open(sys.argv[1], "w"))
PY
expect_rc 0 "init a fourth dataset" "$YOC" init D4
"$YOC" load --db D4 P4 > load4.txt 2> load4.err
same "a doctored account: load still exits 0" "$?" 0
check "rows written != rows read is named" grep -q "RA3_2023-04.csv: source account .* rows_differ: the account says 8 rows were written, load read 7" load4.err
expect_rc 0 "quality of the fourth dataset" "$YOC" quality --db D4 --out Q4
same "quality flags rows_differ" "$(awk -F, '$2=="source_rows" && $4=="RA3"{print $9}' Q4/quality.csv)" "rows_differ"
printf '{"format":"yoc-source-account-1","files":[' > P4/yoc-account.json
expect_rc 0 "init a fifth dataset" "$YOC" init D5
"$YOC" load --db D5 P4 > /dev/null 2> load5.err
same "a broken account: load still exits 0" "$?" 0
same "a broken account: every file unreadable" "$(sqlite3 D5/yoc.db "select group_concat(distinct status) from source_account")" "unreadable"
check "a broken account is named with why" grep -q "yoc-account.json unreadable: not a source account" load5.err

# --- a dataset from before accounts existed ----------------------------------
sqlite3 D3/yoc.db "drop table source_account; drop table source_rejected"
expect_rc 0 "quality on a dataset without the tables" "$YOC" quality --db D3 --out Q3
same "its files have no account" "$(awk -F, '$2=="source_rows"{print $9}' Q3/quality.csv)" "no_account"
check "the dataset is left as it was (read only)" sh -c "! sqlite3 D3/yoc.db .tables | grep -q source_account"
printf 'x\n' >> S/RA2_2023-04.csv
"$YOC" load --db D3 S/RA2_2023-04.csv > /dev/null 2>&1
same "the next load adds the tables" "$(sqlite3 D3/yoc.db "select status from source_account")" "changed"
done_testing

#!/usr/bin/env python3
"""Checks for scripts/soak.sh: what a SIGKILLed yoc verb left on disk.

Independent of yoc's code (only the segment header layout and yoc_hash64 of
docs/store.md are written out again here). Subcommands:

  ids FEEDS OPTOUT KEY...       the identifiers to look for in outputs: every
                                NHS number of the identifiable feeds, and the
                                pseudonym of every opted-out number under
                                each key
  manifest PATH                 "sha256 rows relpath" per file of a tree (or
                                one line with relpath "." for a file)
  scan IDS PATH                 identifiers in a pseudonymised tree or file
  tree IDS OLD NEW PARENT NAME START
                                classify PARENT/NAME after a kill against the
                                manifests OLD and NEW (START: old | none)
  segments DIR MANIFEST...      the catalog's segments (stdin: "segment
                                loaded" per files row) against DIR/segments
                                and against the same segments of reference
                                datasets (a load is deterministic: same files,
                                same file ids, same segment bytes)

Output of tree and segments: one line "STATE STALE BAD" (segments: "ok
STALE BAD"), then one line per problem. IDS, OLD may be "-" (none).

Volatile content: an .xlsx written by libxlsxwriter records the time it was
written (docProps/core.xml, dcterms:created and dcterms:modified, to the
second); those two elements are blanked before hashing. Nothing else in
yoc's outputs varies between runs on the same inputs.
"""
import csv
import hashlib
import hmac
import io
import os
import re
import sys
import zipfile

TMP_RE = re.compile(r"\.tmp\.[0-9]+$")
NHSNO_RE = re.compile(rb"(?<![0-9])[0-9](?:[ -]?[0-9]){9}(?![0-9])")
HEX64_RE = re.compile(rb"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
XLSX_TIME_RE = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")
# A source account (yoc-account.json, NAME.account.json) records when it was written.
ACCOUNT_TIME_RE = re.compile(rb'("written": ")[^"]*(")')
# Columns that must never reach a pseudonymised file (docs/pseudonymisation.md).
IDENT_COLS = {"NEWNHSNO", "DOB", "NHSNO", "NHS_NO", "NHS_NUMBER", "NHSNUMBER", "DATE_OF_BIRTH",
              "NAME", "FORENAME", "FORENAMES", "SURNAME", "POSTCODE", "HOMEADD", "ADDRESS"}
MYDOB_RE = re.compile(r"^([0-9]{6})?$")


# --- file content -------------------------------------------------------------

def digest(path):
    """sha256 of a file; of an .xlsx, of its members with the write time blanked."""
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".xlsx"):
        try:
            h = hashlib.sha256(b"xlsx\0")
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for info in z.infolist():
                    body = z.read(info)
                    if info.filename == "docProps/core.xml":
                        body = XLSX_TIME_RE.sub(rb"\1\2", body)
                    h.update(info.filename.encode() + b"\0" + body + b"\0")
            return h.hexdigest(), "-"
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            return "corrupt-xlsx-" + hashlib.sha256(data).hexdigest(), data.count(b"\n")
    if path.endswith("yoc-account.json") or path.endswith(".account.json"):
        data = ACCOUNT_TIME_RE.sub(rb"\1\2", data, count=1)
    return hashlib.sha256(data).hexdigest(), data.count(b"\n")


def walk(root):
    """Files under root as {relpath: abspath}; root itself if it is a file."""
    if os.path.isfile(root):
        return {".": root}
    out = {}
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            out[os.path.relpath(p, root)] = p
    return out


def read_manifest(path):
    if path == "-":
        return {}
    m = {}
    with open(path) as f:
        for line in f:
            sha, rows, rel = line.rstrip("\n").split(" ", 2)
            m[rel] = (sha, rows)
    return m


# --- identifiers --------------------------------------------------------------

def load_ids(path):
    numbers, pseudos = set(), set()
    if path == "-":
        return None
    with open(path) as f:
        for line in f:
            k, v = line.split()
            (numbers if k == "n" else pseudos).add(v.encode())
    return numbers, pseudos


def scan_file(path, ids):
    """Problems (strings) found in one pseudonymised file, or a partial one."""
    if ids is None:
        return []
    numbers, pseudos = ids
    with open(path, "rb") as f:
        data = f.read()
    probs = []
    first = data.split(b"\n", 1)[0].decode("utf-8", "replace").rstrip("\r")
    delim = max(",|\t;", key=first.count)
    header = [c.strip().strip('"').upper() for c in first.split(delim)]
    bad_cols = sorted(set(header) & IDENT_COLS)
    if bad_cols:
        probs.append("identifying column(s) %s" % ",".join(bad_cols))
    hits = {re.sub(rb"[ -]", b"", m.group(0)) for m in NHSNO_RE.finditer(data)} & numbers
    if hits:
        probs.append("%d NHS number(s), e.g. %s" % (len(hits), sorted(hits)[0].decode()))
    hits = {m.group(0) for m in HEX64_RE.finditer(data)} & pseudos
    if hits:
        probs.append("%d opted-out pseudonym(s)" % len(hits))
    if "MYDOB" in header:
        col = header.index("MYDOB")
        # a temporary cut by the kill ends in a partial line: only whole lines are checked
        body = data if data.endswith(b"\n") else data[:data.rfind(b"\n") + 1]
        text = body.decode("utf-8", "replace")
        for n, row in enumerate(csv.reader(io.StringIO(text), delimiter=delim)):
            if n and len(row) > col and not MYDOB_RE.match(row[col]):
                probs.append("line %d: MYDOB %r is not MMYYYY" % (n + 1, row[col][:20]))
                break
    return ["%s: %s" % (path, p) for p in probs]


def cmd_ids(feeds, optout, keys):
    numbers = set()
    for rel, p in walk(feeds).items():
        if not rel.endswith(".csv"):
            continue
        with open(p, newline="", encoding="utf-8", errors="replace") as f:
            first = f.readline()
            delim = max(",|\t;", key=first.count)
            header = [c.strip().upper() for c in first.rstrip("\r\n").split(delim)]
            if "NEWNHSNO" not in header:
                continue
            col = header.index("NEWNHSNO")
            for row in csv.reader(f, delimiter=delim):
                n = re.sub(r"[ \t-]", "", row[col]) if len(row) > col else ""
                if re.fullmatch(r"[0-9]{10}", n):
                    numbers.add(n)
    out = ["n " + n for n in sorted(numbers)]
    opted = []
    with open(optout) as f:
        for row in csv.reader(f):
            if row and re.fullmatch(r"[0-9]{10}", re.sub(r"[ \t-]", "", row[0])):
                opted.append(re.sub(r"[ \t-]", "", row[0]))
    for kf in keys:
        with open(kf) as f:
            key = bytes.fromhex(f.read().strip())
        out += ["p " + hmac.new(key, n.encode(), hashlib.sha256).hexdigest() for n in opted]
    print("\n".join(out))


def cmd_manifest(root):
    for rel, p in walk(root).items():
        sha, rows = digest(p)
        print(sha, rows, rel)


def cmd_scan(idsf, root):
    ids = load_ids(idsf)
    probs = []
    for rel, p in walk(root).items():
        probs += scan_file(p, ids)
    for p in probs:
        print(p)
    return 1 if probs else 0


# --- a tree after a kill ------------------------------------------------------

def cmd_tree(idsf, oldf, newf, parent, name, start):
    ids = load_ids(idsf)
    old, new = read_manifest(oldf), read_manifest(newf)
    target = os.path.join(parent, name)
    bad, stale = [], 0
    for e in sorted(os.listdir(parent)):
        p = os.path.join(parent, e)
        if e == name:
            continue
        if e == name + ".account.json":
            # a single file's source account, written after it (docs/pseudonymisation.md):
            # scanned, not compared (it names the file it describes)
            bad += scan_file(p, ids)
            continue
        if TMP_RE.search(e):
            stale += 1
            for q in walk(p).values():
                bad += scan_file(q, ids)
        else:
            bad.append("%s: unexpected entry beside the output" % p)
    cur = {}
    if os.path.lexists(target):
        for rel, p in walk(target).items():
            if TMP_RE.search(rel):
                stale += 1
                bad += scan_file(p, ids)
            else:
                cur[rel] = p
    got = {rel: digest(p) for rel, p in cur.items()}

    def match(ref, rel):
        return rel in ref and got[rel][0] == ref[rel][0]

    for rel, (sha, rows) in sorted(got.items()):
        if not (match(new, rel) or (start == "old" and match(old, rel))):
            want = "; ".join("%s %s rows" % (k, r[rel][1]) for k, r in (("new", new), ("old", old))
                             if rel in r)
            bad.append("%s: neither the old nor the new version (%s rows; reference: %s)"
                       % (os.path.join(target, rel), rows, want or "no such file"))
            bad += scan_file(cur[rel], ids)
    is_new = set(got) == set(new) and all(match(new, r) for r in got)
    if start == "old":
        is_old = os.path.lexists(target) and set(got) == set(old) and all(match(old, r) for r in got)
        if not os.path.lexists(target):
            bad.append("%s: gone (it held the old output)" % target)
        elif not is_new:
            bad += ["%s: missing (was in the old output)" % os.path.join(target, r)
                    for r in sorted(set(old) - set(got))]
    else:
        is_old = not os.path.lexists(target)
    state = "new" if is_new else "old" if is_old else "mixed"
    print(state, stale, len(bad))
    for b in bad:
        print(b)


# --- segments -----------------------------------------------------------------

M64 = (1 << 64) - 1


def mix64(x):
    x ^= x >> 32
    x = (x * 0xD6E8FEB86659FD93) & M64
    x ^= x >> 32
    x = (x * 0xD6E8FEB86659FD93) & M64
    x ^= x >> 32
    return x


def hash64(b, seed):
    """yoc_hash64 (src/core/map.c), written out again."""
    n = len(b)
    h = (seed ^ (0x9E3779B97F4A7C15 * (n + 1))) & M64
    full = n - n % 8
    for i in range(0, full, 8):
        h = ((h ^ mix64(int.from_bytes(b[i:i + 8], "little"))) * 0xFF51AFD7ED558CCD) & M64
        h = ((h << 29) | (h >> 35)) & M64
    t = int.from_bytes(b[full:], "little") if n > full else 0
    h ^= mix64((t + n - full) & M64)
    return mix64(h)


def cmd_segments(ds, mans):
    segdir = os.path.join(ds, "segments")
    ref = {}
    for m in mans:
        ref.update(read_manifest(m))
    named, bad = set(), []
    for line in sys.stdin:
        seg, loaded = line.split()
        named.add(seg)
        p = os.path.join(segdir, seg)
        try:
            with open(p, "rb") as f:
                data = f.read()
        except OSError as ex:
            bad.append("%s: named in the catalog, cannot read: %s" % (p, ex.strerror))
            continue
        if len(data) < 56 or data[:8] not in (b"YOCSEG01", b"YOCSEG02"):
            bad.append("%s: not a segment (%d bytes)" % (p, len(data)))
            continue
        nrows, _ncols, dir_off, dir_len = (int.from_bytes(data[o:o + 8], "little")
                                           for o in (16, 24, 32, 40))
        if dir_off + dir_len + 8 != len(data):
            bad.append("%s: size %d, header says %d" % (p, len(data), dir_off + dir_len + 8))
            continue
        if nrows != int(loaded):
            bad.append("%s: %d rows, catalog says %s loaded" % (p, nrows, loaded))
        want = hash64(data[:48], 3) ^ hash64(data[dir_off:dir_off + dir_len], 4)
        if int.from_bytes(data[-8:], "little") != want:
            bad.append("%s: trailer checksum mismatch" % p)
        elif seg not in ref or ref[seg][0] != hashlib.sha256(data).hexdigest():
            bad.append("%s: differs from the reference datasets' %s" % (p, seg))
    stale = [e for e in os.listdir(segdir) if e not in named] if os.path.isdir(segdir) else []
    print("ok", len(stale), len(bad))
    for b in bad:
        print(b)


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "ids":
        return cmd_ids(args[0], args[1], args[2:])
    if cmd == "manifest":
        return cmd_manifest(args[0])
    if cmd == "scan":
        return cmd_scan(args[0], args[1])
    if cmd == "tree":
        return cmd_tree(*args)
    if cmd == "segments":
        return cmd_segments(args[0], args[1:])
    sys.exit("soak_check.py: unknown command %s" % cmd)


if __name__ == "__main__":
    sys.exit(main(sys.argv) or 0)

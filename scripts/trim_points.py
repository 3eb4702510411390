#!/usr/bin/env python3
"""Derive HRG trim points for data/apc_trim_points.csv by the national
definition: for each HRG, the upper quartile of spell length of stay plus
1.5 x the inter-quartile range, rounded up to whole days (NHS Payment Scheme /
national tariff; published per HRG in the tariff workbooks, which yoc cannot
ship). Elective (ADMIMETH 11-13, not day cases) and non-elective spells (every
other non-day-case spell) are taken separately.

    scripts/trim_points.py --ncc data/ncc_2023_24.csv --version NAME \\
        --excess-bed-day POUNDS APC.csv... > data/apc_trim_points.csv

APC.csv are HES-style admitted patient care extracts (one row per episode:
a person column NEWNHSNO, PSEUDO_ID or PSEUDO_HESID, and SUSSPELLID or
PROCODE, ADMIDATE, DISDATE, EPISTART, EPIEND, EPIORDER, ADMIMETH, CLASSPAT,
SUSHRG). Spells are grouped and their HRG chosen exactly as src/cost does
(docs/costing.md): SUSSPELLID, else person + provider + ADMIDATE; the
dominant episode's HRG (the highest NCC price under the spell's point of
delivery). Open spells (no DISDATE) are left out. An HRG with fewer than
--min-spells closed spells gets no row of its own: its chapter's row (the
first two characters, pooled) applies, else the "*" row (all spells).
"""
import argparse
import collections
import csv
import datetime
import math
import sys

EMERGENCY = {"21", "22", "23", "24", "25", "28", "2A", "2B", "2C", "2D"}
ELECTIVE = {"11", "12", "13"}


def day(s):
    s = (s or "").strip()
    if len(s) < 10 or s.startswith("1800") or s.startswith("1801"):
        return None
    try:
        return datetime.date.fromisoformat(s[:10]).toordinal()
    except ValueError:
        return None


def quartiles(xs):
    """Q1 and Q3 by linear interpolation between order statistics (R type 7)."""
    xs = sorted(xs)
    def q(p):
        h = (len(xs) - 1) * p
        lo = math.floor(h)
        hi = min(lo + 1, len(xs) - 1)
        return xs[lo] + (h - lo) * (xs[hi] - xs[lo])
    return q(0.25), q(0.75)


def trim_point(xs):
    q1, q3 = quartiles(xs)
    return math.ceil(q3 + 1.5 * (q3 - q1) - 1e-9)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ncc", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--excess-bed-day", required=True, help="pounds per excess day")
    ap.add_argument("--min-spells", type=int, default=30)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()

    price = {}
    for r in csv.DictReader(open(a.ncc, newline="", encoding="utf-8-sig")):
        price[(r["Service Code"].strip(), r["Dept or Currency Code"].strip())] = float(r["Unit cost"])

    spells = collections.defaultdict(list)
    for path in a.files:
        for r in csv.DictReader(open(path, newline="")):
            who = r.get("NEWNHSNO") or r.get("PSEUDO_ID") or r.get("PSEUDO_HESID") or ""
            sid = (r.get("SUSSPELLID") or "").strip()
            key = (who, "S", sid) if sid else (who, "A", r.get("PROCODE", "").strip(), r.get("ADMIDATE"))
            spells[key].append(r)

    los = {"elective": collections.defaultdict(list), "nonelective": collections.defaultdict(list)}
    for eps in spells.values():
        eps.sort(key=lambda r: (int(r["EPIORDER"]) if r["EPIORDER"].strip().isdigit()
                                and int(r["EPIORDER"]) > 0 else 1 << 30, day(r["EPISTART"]) or 0))
        first, last = eps[0], eps[-1]
        meth, cls = first["ADMIMETH"].strip(), first["CLASSPAT"].strip()
        if meth not in EMERGENCY and cls == "2":
            continue  # day case: no trim point
        adm, dis = day(first["ADMIDATE"]) or day(first["EPISTART"]), day(last["DISDATE"])
        if adm is None or dis is None:
            continue  # open spell
        n = max(dis - adm, 0)
        kind = "elective" if meth in ELECTIVE and meth not in EMERGENCY else "nonelective"
        pod = "Elective Inpatients" if kind == "elective" else (
            "Non-Elective Inpatient - Short Stay" if n <= 1 else "Non-Elective Inpatient - Long Stay")
        best, hrg = -1.0, eps[0]["SUSHRG"].strip()
        for r in eps:
            p = price.get((pod, r["SUSHRG"].strip()))
            if p is not None and p > best:
                best, hrg = p, r["SUSHRG"].strip()
        los[kind][hrg].append(n)

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["hrg", "admission", "trim_days", "excess_bed_day", "spells", "basis", "version"])
    for kind in ("elective", "nonelective"):
        chapters = collections.defaultdict(list)
        every = []
        for hrg, xs in sorted(los[kind].items()):
            chapters[hrg[:2]].extend(xs)
            every.extend(xs)
            if len(xs) >= a.min_spells:
                out.writerow([hrg, kind, trim_point(xs), a.excess_bed_day, len(xs), "hrg", a.version])
        for ch, xs in sorted(chapters.items()):
            if len(xs) >= a.min_spells and len(ch) == 2:
                out.writerow([ch, kind, trim_point(xs), a.excess_bed_day, len(xs), "chapter", a.version])
        if every:
            out.writerow(["*", kind, trim_point(every), a.excess_bed_day, len(every), "all", a.version])


if __name__ == "__main__":
    main()

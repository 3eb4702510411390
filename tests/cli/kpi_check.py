#!/usr/bin/env python3
"""Independent check of yoc kpi (tests/cli/kpi.sh).

  kpi_check.py strip FEEDS
      removes the outcome columns and the careplan and pam feeds from a
      synthetic economy's feeds (an extract from before they existed).
  kpi_check.py truth DB_DIR SYNTH_DIR
      compares the KPIs the synthetic truth gives directly (delayed transfers
      from truth/discharge.csv, ASCOF 2B(1) from truth/reablement.csv with the
      ages of the GP register, PAM levels from truth/pam.csv) with yoc's, month
      by month, on a clean economy (no defects, everyone linked).
  kpi_check.py check DB_DIR EXPORT_DIR DATA_DIR [COHORT]
      recomputes every available KPI month by month from the exported rows
      (yoc export), the person table and the shipped reference data, with the
      spell rules of docs/costing.md written out here, and the Making Data
      Count limits of two charts; prints one line per mismatch and "ok N".
"""
import csv
import datetime as dt
import glob
import math
import os
import sqlite3
import sys
from collections import defaultdict

D0 = dt.date(1970, 1, 1)


def day(s):
    if not s:
        return None
    try:
        return (dt.date.fromisoformat(s) - D0).days
    except ValueError:
        return None


def iso(d):
    return (D0 + dt.timedelta(days=d)).isoformat()


def hval(s, n):
    h = 0
    for ch in s:
        h = (h * 131 + ord(ch)) % 1000003
    return h % n


def rewrite(path, add_cols, fn):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
        cols = list(rows[0].keys()) if rows else None
    if cols is None:
        return
    for r in rows:
        fn(r)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols + add_cols, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


OUTCOME_COLS = {"DISREADYDATE", "RRR_NEED", "DELAY_REASON", "REABLEMENT", "HOSP_DISCHARGE",
                "PLACE_91D", "PLACEMENT"}


def strip(feeds):
    """The feeds as an older extract sends them: no outcome columns, no
    careplan or pam feeds."""
    for kind in ("careplan", "pam"):
        for p in glob.glob(os.path.join(feeds, kind, "*")):
            os.remove(p)
        if os.path.isdir(os.path.join(feeds, kind)):
            os.rmdir(os.path.join(feeds, kind))
    for kind in ("apc", "social_care"):
        for p in glob.glob(os.path.join(feeds, kind, "*.csv")):
            with open(p, newline="") as f:
                rows = list(csv.reader(f))
            keep = [i for i, c in enumerate(rows[0]) if c not in OUTCOME_COLS]
            with open(p, "w", newline="") as f:
                w = csv.writer(f, lineterminator="\n")
                for r in rows:
                    w.writerow([r[i] for i in keep if i < len(r)])


# ---- the recomputation ----------------------------------------------------

def read_csv(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def pence(text):
    from decimal import Decimal, ROUND_HALF_UP
    return int((Decimal(text) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def check(dbdir, exp, data, cohort=None):
    db = sqlite3.connect(os.path.join(dbdir, "yoc.db"))
    run = dict(db.execute("SELECT key, value FROM kpi_run"))
    y0, m0 = map(int, run["from"].split("-"))
    y1, m1 = map(int, run["to"].split("-"))
    months = []
    y, m = y0, m0
    while (y, m) <= (y1, m1):
        months.append("%04d-%02d" % (y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    mi = {mm: i for i, mm in enumerate(months)}
    NM = len(months)

    def slot(d):
        return mi.get(iso(d)[:7], -1) if d is not None else -1

    def mstart(i):
        return day(months[i] + "-01")

    def mend(i):
        return (day(months[i + 1] + "-01") if i + 1 < NM else
                day("%04d-%02d-01" % ((y1 + 1, 1) if m1 == 12 else (y1, m1 + 1)))) - 1

    pers = {}
    for pid, by, bm, rs, re_, dod in db.execute(
            "SELECT pseudo_id, birth_year, birth_month, reg_start, reg_end, date_of_death FROM person"):
        pers[pid] = (by or 0, bm or 0, day(rs), day(re_), day(dod))

    def age(p, d):
        by, bm = pers[p][0], pers[p][1]
        if by <= 0:
            return -1
        x = D0 + dt.timedelta(days=d)
        return x.year - by - (1 if x.month < (bm if bm > 0 else 1) else 0)

    def registered(p, d):
        _, _, rs, re_, dod = pers[p]
        if rs is None or rs > d or (re_ is not None and re_ < d):
            return False
        return not (dod is not None and dod <= d)

    members = None
    if cohort:
        members = defaultdict(list)
        for pid, j, l in db.execute("SELECT pseudo_id, join_date, leave_date FROM cohort_register "
                                    "WHERE cohort = ?", (cohort,)):
            members[pid].append((day(j), day(l)))

    def scope(p, d):
        if p not in pers:
            return False
        if members is None:
            return True
        return any(j <= d and (l is None or l >= d) for j, l in members.get(p, []))

    K = defaultdict(lambda: ([0] * NM, [0] * NM))

    def add(k, i, n, dn):
        if i >= 0:
            K[k][0][i] += n
            K[k][1][i] += dn

    # population on each month's first day
    for i in range(NM):
        d = mstart(i)
        for p in pers:
            if not registered(p, d) or not scope(p, d):
                continue
            a = age(p, d)
            for k in ("ne_admissions", "ne_admissions_targeted", "careplan_coverage"):
                add(k, i, 0, 1)
            if a >= 65:
                add("ascof2a_65", i, 0, 1)
            elif a >= 18:
                add("ascof2a_18_64", i, 0, 1)

    # spells (docs/costing.md)
    ncc = {}
    with open(os.path.join(data, "ncc_2023_24.csv"), newline="") as f:
        for r in csv.DictReader(f):
            ncc[(r["Service Code"].strip(), r["Dept or Currency Code"].strip())] = pence(r["Unit cost"].strip())
    trims = {}
    with open(os.path.join(data, "apc_trim_points.csv"), newline="") as f:
        for r in csv.DictReader(f):
            trims[(r["hrg"].strip(), r["admission"].strip())] = int(r["trim_days"])
    targeted = [r["hrg"] for r in read_csv(os.path.join(data, "kpi_targeted_hrg.csv"))]

    def trim_of(h, adm):
        for key in (h, h[:2], "*"):
            if (key, adm) in trims:
                return trims[(key, adm)]
        return None

    spells = defaultdict(list)
    apc = read_csv(os.path.join(exp, "apc.csv"))
    has_ready = bool(apc) and "DISREADYDATE" in apc[0]
    for r in apc:
        p = r["PSEUDO_ID"]
        if p not in pers:
            continue
        key = (p, r["SUSSPELLID"]) if r["SUSSPELLID"] else (p, r["PROCODE3"], r["ADMIDATE"], r["_FILE_ID"], r["_LINE"])
        spells[key].append(r)
    dow = [0] * 7
    for key, eps in spells.items():
        p = key[0]
        eps.sort(key=lambda r: (int(r["EPIORDER"]) if r["EPIORDER"].strip().isdigit() and int(r["EPIORDER"]) > 0 else 1 << 32,
                                day(r["EPISTART"]) or -10 ** 9))
        f, l = eps[0], eps[-1]
        am = f["ADMIMETH"].strip()
        if len(am) == 2 and am[0] == "2" and (am[1] in "123458ABCD"):
            typ = "emergency"
        elif f["CLASSPAT"].strip() == "2":
            typ = "daycase"
        elif am in ("11", "12", "13"):
            typ = "elective"
        else:
            typ = "other"
        adm_flag = f["EPIORDER"].strip().isdigit() and int(f["EPIORDER"]) == 1
        admitted = day(f["ADMIDATE"]) if day(f["ADMIDATE"]) is not None else day(f["EPISTART"])
        disch = day(l["DISDATE"])
        ne = typ in ("emergency", "other")
        los = max(0, disch - admitted) if disch is not None and admitted is not None else 0
        if disch is None:
            end = admitted
            for e in eps:
                for c in ("EPISTART", "EPIEND"):
                    v = day(e[c])
                    if v is not None and end is not None and v > end:
                        end = v
            los = max(0, end - admitted) if admitted is not None and end is not None else 0
        svc = {"daycase": "Daycase", "elective": "Elective Inpatients"}.get(
            typ, "Non-Elective Inpatient - Short Stay" if los <= 1 else "Non-Elective Inpatient - Long Stay")
        best, dom = -1, 0
        for i, e in enumerate(eps):
            pr = ncc.get((svc, e["SUSHRG"].strip()))
            if pr is not None and pr > best:
                best, dom = pr, i
        hrg = eps[dom]["SUSHRG"].strip()
        tg = ne and any(hrg.upper().startswith(t.upper()) for t in targeted)
        ia = slot(admitted)
        if ne and adm_flag and ia >= 0 and scope(p, admitted):
            add("ne_admissions", ia, 1, 0)
            if tg:
                add("ne_admissions_targeted", ia, 1, 0)
        idd = slot(disch)
        if idd < 0 or not scope(p, disch):
            continue
        if ne:
            add("ne_alos", idd, los, 1)
            if tg:
                add("ne_alos_targeted", idd, los, 1)
        if typ != "daycase":
            t = trim_of(hrg, "elective" if typ == "elective" else "nonelective")
            if t is not None:
                add("excess_bed_days", idd, max(0, los - t), los)
            wd = (D0 + dt.timedelta(days=disch)).weekday()
            dow[wd] += 1
            add("weekend_discharges", idd, 1 if wd >= 5 else 0, 1)
        if has_ready:
            rd = None
            for e in reversed(eps):
                rd = day(e.get("DISREADYDATE", ""))
                if rd is not None:
                    break
            if rd is not None and rd <= disch:
                add("dtoc_days", idd, disch - rd, 1)
                add("dtoc_share", idd, 1 if disch > rd else 0, 1)

    # social care
    sc = read_csv(os.path.join(exp, "social_care.csv"))
    if sc and "PLACEMENT" in sc[0]:
        first = {}
        for r in sc:
            p = r["PSEUDO_ID"]
            if p not in pers or r["SERVICE_TYPE"].strip().upper() not in ("RESIDENTIAL", "NURSING"):
                continue
            if r["PLACEMENT"].strip().upper() != "PERMANENT":
                continue
            d = day(r["PACKAGE_START"]) if day(r["PACKAGE_START"]) is not None else day(r["START_DATE"])
            if d is not None and (p not in first or d < first[p]):
                first[p] = d
        for p, d in first.items():
            i = slot(d)
            if i < 0 or not scope(p, d):
                continue
            a = age(p, d)
            if a >= 65:
                add("ascof2a_65", i, 1, 0)
            elif a >= 18:
                add("ascof2a_18_64", i, 1, 0)
    if sc and "REABLEMENT" in sc[0]:
        seen = set()
        for r in sorted(sc, key=lambda r: (int(r["_FILE_ID"]), int(r["_LINE"]))):
            p = r["PSEUDO_ID"]
            if p not in pers or r["REABLEMENT"].strip().upper() != "Y":
                continue
            hd = day(r["HOSP_DISCHARGE"])
            if hd is None:
                continue
            k = (p, r["SERVICEKEY"])
            if r["SERVICEKEY"] and k in seen:
                continue
            seen.add(k)
            i = slot(hd)
            if i < 0 or hd + 91 > mend(NM - 1) or not scope(p, hd) or age(p, hd) < 65:
                continue
            add("ascof2b1", i, 1 if r["PLACE_91D"].strip().upper() == "HOME" else 0, 1)

    # care plans
    cpr = [r for r in read_csv(os.path.join(exp, "careplan.csv"))
           if r["PSEUDO_ID"] in pers and r["ITEM_TYPE"].strip().upper() == "PLAN"]
    if os.path.exists(os.path.join(exp, "careplan.csv")):
        made = {}
        plans = defaultdict(list)
        for r in cpr:
            rec = day(r["RECORD_DATE"])
            cr = day(r["CREATED"]) if day(r["CREATED"]) is not None else rec
            if cr is not None and (r["PSEUDO_ID"] not in made or cr < made[r["PSEUDO_ID"]]):
                made[r["PSEUDO_ID"]] = cr
            plans[r["PLAN_ID"]].append((rec, r["PSEUDO_ID"], cr, day(r["LAST_REVIEW"]), day(r["NEXT_REVIEW"])))
        for i in range(NM):
            d0, d1 = mstart(i), mend(i)
            for p, c in made.items():
                if c <= d1 and registered(p, d0) and scope(p, d0):
                    add("careplan_coverage", i, 1, 0)
            for rows in plans.values():
                rows.sort(key=lambda x: x[0])
                last = None
                for x in rows:
                    if x[0] is not None and x[0] <= d1:
                        last = x
                if last and last[2] <= d1 and scope(last[1], d1):
                    over = last[4] is not None and last[4] < d1 and not (last[3] is not None and last[3] >= last[4])
                    add("careplan_overdue", i, 1 if over else 0, 1)
    if os.path.exists(os.path.join(exp, "pam.csv")):
        for r in read_csv(os.path.join(exp, "pam.csv")):
            p = r["PSEUDO_ID"]
            d = day(r["PAM_DATE"])
            try:
                s = float(r["PAM_SCORE"])
            except ValueError:
                continue
            if p not in pers or d is None or not 0 <= s <= 100:
                continue
            i = slot(d)
            if i >= 0 and scope(p, d):
                add("pam_level12", i, 1 if s <= 55.15 else 0, 1)

    # compare
    bad = 0
    n = 0
    avail = dict(db.execute("SELECT kpi, available FROM kpi_def"))
    got = defaultdict(dict)
    for k, mm, num, den in db.execute("SELECT kpi, month, numerator, denominator FROM kpi_month"):
        got[k][mm] = (num, den)
    for k, a in avail.items():
        if not a:
            continue
        for i, mm in enumerate(months):
            want = (K[k][0][i], K[k][1][i])
            n += 1
            if got[k].get(mm) != want:
                bad += 1
                if bad <= 20:
                    print("%s %s: yoc %s, recomputed %s" % (k, mm, got[k].get(mm), want))
    if avail.get("weekend_discharges"):
        ydow = dict(db.execute("SELECT weekday, discharges FROM kpi_dow"))
        n += 1
        if [ydow.get(i + 1) for i in range(7)] != dow:
            bad += 1
            print("kpi_dow: yoc %s, recomputed %s" % (ydow, dow))
        # p-chart limits of the latest month (Making Data Count: p-bar over the months)
        num, den = K["weekend_discharges"]
        pb = sum(num) / sum(den)
        s = math.sqrt(pb * (1 - pb) / den[-1])
        row = db.execute("SELECT centre, ucl, lcl FROM kpi_month WHERE kpi = 'weekend_discharges' "
                         "AND month = ?", (months[-1],)).fetchone()
        n += 1
        if any(abs(a - b) > 1e-9 for a, b in zip(row, (100 * pb, 100 * min(1, pb + 3 * s), 100 * max(0, pb - 3 * s)))):
            bad += 1
            print("weekend p-chart: yoc %s, recomputed %s" % (row, (pb, s)))
    if avail.get("ne_alos"):
        num, den = K["ne_alos"]
        x = [a / b for a, b in zip(num, den) if b > 0]
        mr = [abs(x[i] - x[i - 1]) for i in range(1, len(x))]
        mb = sum(mr) / len(mr)
        kept = [r for r in mr if r <= 3.267 * mb]
        mb = sum(kept) / len(kept)
        mean = sum(x) / len(x)
        row = db.execute("SELECT centre, ucl, lcl FROM kpi_spc WHERE kpi = 'ne_alos'").fetchone()
        n += 1
        if any(abs(a - b) > 1e-9 for a, b in zip(row, (mean, mean + 2.66 * mb, mean - 2.66 * mb))):
            bad += 1
            print("ne_alos XmR: yoc %s, recomputed %s" % (row, (mean, mb)))
    print("ok %d" % n if bad == 0 else "bad %d of %d" % (bad, n))
    return 1 if bad else 0


def truth(dbdir, synth):
    db = sqlite3.connect(os.path.join(dbdir, "yoc.db"))
    run = dict(db.execute("SELECT key, value FROM kpi_run"))
    lo, hi = run["from"], run["to"]
    K = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for r in read_csv(os.path.join(synth, "truth", "discharge.csv")):
        m = r["disdate"][:7]
        if not r["disready"] or not lo <= m <= hi:
            continue
        dd, rd = day(r["disdate"]), day(r["disready"])
        if rd > dd:
            continue
        K["dtoc_days"][m][0] += int(r["delayed_days"])
        K["dtoc_days"][m][1] += 1
        K["dtoc_share"][m][0] += 1 if int(r["delayed_days"]) > 0 else 0
        K["dtoc_share"][m][1] += 1
    dob = {}
    for p in glob.glob(os.path.join(synth, "feeds", "gp_register", "*.csv")):
        for r in read_csv(p):
            dob.setdefault(r["NEWNHSNO"], r["DOB"])
    for r in read_csv(os.path.join(synth, "truth", "reablement.csv")):
        m = r["hosp_discharge"][:7]
        b = dob.get(r["nhs_number"])
        if not lo <= m <= hi or not b:
            continue
        # the 91 days must have passed by the end of the last month reported
        ny, nm = (int(hi[:4]) + 1, 1) if hi[5:7] == "12" else (int(hi[:4]), int(hi[5:7]) + 1)
        if day(r["hosp_discharge"]) + 91 > day("%04d-%02d-01" % (ny, nm)) - 1:
            continue
        y, mo = int(r["hosp_discharge"][:4]), int(r["hosp_discharge"][5:7])
        if y - int(b[:4]) - (1 if mo < int(b[5:7]) else 0) < 65:
            continue
        K["ascof2b1"][m][0] += 1 if r["place_91d"] == "HOME" else 0
        K["ascof2b1"][m][1] += 1
    for r in read_csv(os.path.join(synth, "truth", "pam.csv")):
        m = r["pam_date"][:7]
        if lo <= m <= hi:
            K["pam_level12"][m][0] += 1 if int(r["level"]) <= 2 else 0
            K["pam_level12"][m][1] += 1
    bad = n = 0
    for k, months in K.items():
        got = {m: (a, b) for m, a, b in db.execute(
            "SELECT month, numerator, denominator FROM kpi_month WHERE kpi = ?", (k,))}
        if not got:
            bad += 1
            print("%s: not computed" % k)
        for m, v in sorted(got.items()):
            n += 1
            want = tuple(months[m]) if m in months else (0, 0)
            if v != want:
                bad += 1
                if bad <= 20:
                    print("%s %s: yoc %s, truth %s" % (k, m, v, want))
    print("ok %d" % n if bad == 0 else "bad %d of %d" % (bad, n))
    return 1 if bad or n == 0 else 0


if __name__ == "__main__":
    if sys.argv[1] == "strip":
        strip(sys.argv[2])
    elif sys.argv[1] == "truth":
        sys.exit(truth(*sys.argv[2:]))
    else:
        sys.exit(check(*sys.argv[2:]))

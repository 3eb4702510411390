#!/usr/bin/env python3
"""bench/serve.sh's monthly figures: a person_month table (docs/analysis.md:
one row a person-year, a BLOB of 13-byte records: month 0-11, cost in pence
int64 LE, emergency admissions uint32 LE) for the generated person_year, each
person's cost_total and emergency admissions spread over 1 to 6 months so
that the months add up to the year exactly, and the same figures as CSV
(pseudo_id, month, cost, emergency) for DuckDB.
Usage: serve_months.py DB CSV"""
import random, sqlite3, struct, sys

db, csv = sys.argv[1], sys.argv[2]
con = sqlite3.connect(db)
con.execute("PRAGMA journal_mode = OFF")
con.execute("PRAGMA synchronous = OFF")
con.execute("DROP TABLE IF EXISTS person_month")
con.execute("CREATE TABLE person_month(pseudo_id TEXT NOT NULL, fyear TEXT NOT NULL, months BLOB NOT NULL)")
rng = random.Random(20231)
out = open(csv, "w")
out.write("pseudo_id,month,cost,emergency\n")
batch = []
rows = con.execute("SELECT pseudo_id, fyear, cost_total, emergency_admissions FROM person_year").fetchall()
for pid, fy, cost, em in rows:
    if not cost and not em:
        continue
    k = rng.randint(1, 6)
    ms = sorted(rng.sample(range(12), k))
    cuts = sorted(rng.randint(0, cost) for _ in range(k - 1))
    parts = [b - a for a, b in zip([0] + cuts, cuts + [cost])]
    adm = [0] * k
    for _ in range(em):
        adm[rng.randrange(k)] += 1
    blob = b"".join(struct.pack("<BqI", m, c, a) for m, c, a in zip(ms, parts, adm))
    batch.append((pid, fy, blob))
    for m, c, a in zip(ms, parts, adm):
        out.write("%s,%d,%d,%d\n" % (pid, m, c, a))
    if len(batch) == 100000:
        con.executemany("INSERT INTO person_month VALUES(?,?,?)", batch)
        batch = []
con.executemany("INSERT INTO person_month VALUES(?,?,?)", batch)
con.commit()
out.close()

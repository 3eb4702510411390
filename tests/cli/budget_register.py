# Writes a cohort register fixture (the cohort module's table) and, with
# "check", verifies yoc budget's tables against an independent computation.
import sqlite3, sys, random, datetime
db, mode = sys.argv[1], sys.argv[2]
c = sqlite3.connect(db)
FY0, FY1 = datetime.date(2022,4,1), datetime.date(2023,3,31)
if mode == 'make':
    c.execute("""CREATE TABLE IF NOT EXISTS cohort_register(row_id INTEGER PRIMARY KEY,
 cohort TEXT NOT NULL, pseudo_id TEXT NOT NULL, practice TEXT NOT NULL,
 join_date TEXT NOT NULL, leave_date TEXT, leave_reason TEXT, tariff_category TEXT,
 secondary_use INTEGER NOT NULL, opened_log INTEGER, closed_log INTEGER)""")
    ids = [r[0] for r in c.execute("select pseudo_id from person_year where fyear='2021/22' order by pseudo_id")]
    rnd = random.Random(7)
    people = rnd.sample(ids, 400)
    def ins(pid, j, l):
        c.execute("insert into cohort_register(cohort,pseudo_id,practice,join_date,leave_date,secondary_use) values('frailty',?,?,?,?,1)",
                  (pid, 'P90001', j.isoformat(), l.isoformat() if l else None))
    # the named cases first
    ins(people[0], datetime.date(2022,6,1), datetime.date(2022,9,8))           # 100 days
    ins(people[1], datetime.date(2022,5,1), datetime.date(2022,7,31))          # leave ...
    ins(people[1], datetime.date(2022,7,15), None)                             # ... and rejoin overlapping
    ins(people[2], datetime.date(2021,1,1), datetime.date(2022,4,30))          # leave ...
    ins(people[2], datetime.date(2022,10,1), datetime.date(2023,6,30))         # ... rejoin after a gap
    ins(people[3], datetime.date(2023,4,2), None)                              # joins after the year
    for pid in people[4:]:
        j = FY0 + datetime.timedelta(days=rnd.randint(-200, 364))
        l = None if rnd.random() < 0.6 else j + datetime.timedelta(days=rnd.randint(0, 300))
        ins(pid, j, l)
        if rnd.random() < 0.15:   # a second membership, sometimes overlapping
            j2 = j + datetime.timedelta(days=rnd.randint(-30, 200))
            ins(pid, j2, None if rnd.random() < 0.5 else j2 + datetime.timedelta(days=rnd.randint(0, 100)))
    c.commit()
    print(people[0], people[1])
    sys.exit(0)
# check
YD = (FY1 - FY0).days + 1
tariff = dict(c.execute("select category, tariff from tariff where version = (select max(version) from tariff)"))
FR = "(dementia or palliative or (age >= 85 and ltc_count >= 3))"
NAMES = ['frail_6plus','frail_3to5','frail_0to2','e_9plus_mental','e_9plus_physical','d_6to8_mental','d_6to8_physical','c_3to5_mental','c_3to5_physical','b_2_mental','b_2_physical','a_1_mental','a_1_physical','a_0']
CASE = f"""case when {FR} and ltc_count >= 6 then 0 when {FR} and ltc_count >= 3 then 1 when {FR} then 2
 when ltc_count >= 9 and mental_ltc_count >= 1 then 3 when ltc_count >= 9 then 4
 when ltc_count >= 6 and mental_ltc_count >= 1 then 5 when ltc_count >= 6 then 6
 when ltc_count >= 3 and mental_ltc_count >= 1 then 7 when ltc_count >= 3 then 8
 when ltc_count = 2 and mental_ltc_count >= 1 then 9 when ltc_count = 2 then 10
 when ltc_count = 1 and mental_ltc_count >= 1 then 11 when ltc_count = 1 then 12 else 13 end"""
cat = {pid: NAMES[k] for pid, k in c.execute(f"select pseudo_id, {CASE} from person_year where fyear='2021/22'")}
days = {}
for pid, j, l in c.execute("select pseudo_id, join_date, leave_date from cohort_register where cohort='frailty'"):
    a = max(FY0, datetime.date.fromisoformat(j)); b = min(FY1, datetime.date.fromisoformat(l) if l else FY1)
    s = days.setdefault(pid, set())
    while a <= b:
        s.add(a); a += datetime.timedelta(days=1)
def rnd(num, den):
    q = (abs(num)*2 + den) // (den*2)
    return q if num >= 0 else -q
want = {pid: (cat[pid], len(s), rnd(tariff[cat[pid]]*len(s), YD)) for pid, s in days.items() if s}
got = {pid: (k, d, a) for pid, k, d, a in c.execute("select pseudo_id, category, days, amount from budget_member where cohort='frailty' and fyear='2022/23'")}
bad = sum(1 for p in set(want) | set(got) if want.get(p) != got.get(p))
budget = c.execute("select budget from budget_plan where cohort='frailty' and fyear='2022/23'").fetchone()[0]
pay = c.execute("select sum(amount) from budget_payment where cohort='frailty' and fyear='2022/23'").fetchone()[0]
months = c.execute("select count(distinct month) from budget_payment where cohort='frailty' and fyear='2022/23'").fetchone()[0]
mdays = c.execute("select sum(days) from budget_payment where cohort='frailty' and fyear='2022/23'").fetchone()[0]
print(bad, budget == sum(v[2] for v in want.values()), pay == budget, months, mdays == sum(v[1] for v in want.values()))

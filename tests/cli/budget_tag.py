# Checks yoc tag against person_year (written by yoc analyse, independently
# of the tagger): for every cohort member whose one register row covers the
# whole of 2022/23, the cost tagged capitated and dated in that year equals
# the in-scope settings of their person_year row (whole-setting service map),
# and capitated + outside_map equals cost_total. Prints: members checked, mismatches.
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
full = [r[0] for r in c.execute("""select pseudo_id from cohort_register where cohort='frailty'
 group by pseudo_id having count(*) = 1 and min(join_date) <= '2022-04-01'
 and max(coalesce(leave_date, '9999')) >= '2023-03-31'""")]
S = "cost_elective+cost_nonelective+cost_daycase+cost_outpatient+cost_ae+cost_community+cost_mh+cost_ambulance"
bad = n = 0
for p in full:
    a = c.execute(f"select {S}, cost_total from person_year where pseudo_id=? and fyear='2022/23'", (p,)).fetchone()
    if not a:
        continue
    n += 1
    cap, allc = c.execute("""select coalesce(sum(case when tag='capitated' then cost end), 0), coalesce(sum(cost), 0)
      from activity_tag where cohort='frailty' and pseudo_id=? and activity_date between '2022-04-01' and '2023-03-31'""", (p,)).fetchone()
    if a[0] != cap or a[1] != allc:
        bad += 1
print(n > 20, bad)

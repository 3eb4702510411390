/*
** The finance lead's views of a budgeted year, from the tables yoc budget
** and yoc tag wrote: spend per member per month (partial months by days) by
** category, attributed practice, risk tier, provider and month, expected
** (the members' pay) against actual (their capitated activity); and the
** shadow year: month by month, the capitated budget next to what the
** current contracts paid for the same people's in-scope activity, the
** difference by category and by setting. SQL over the catalog; writes
** budget_pmpm and budget_shadow for the cohort and year.
*/
#include <stdio.h>
#include <string.h>

#include "budget/budget.h"
#include "yoc/date.h"

static int has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = NULL;
	int yes = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		yes = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return yes;
}

static int run(sqlite3 *db, const char *sql, const char *cohort, const char *fy,
	       const char *d0, const char *d1, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
		goto done;
	}
	sqlite3_bind_text(st, 1, cohort, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, fy, -1, SQLITE_STATIC);
	for (int i = 3; i <= sqlite3_bind_parameter_count(st); i++)
		sqlite3_bind_text(st, i, i == 3 ? d0 : d1, -1, SQLITE_STATIC);
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (s != SQLITE_DONE)
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
done:
	sqlite3_finalize(st);
	return rc;
}

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS budget_pmpm(cohort TEXT NOT NULL, fyear TEXT NOT NULL,"
	" dimension TEXT NOT NULL, value TEXT, members INTEGER NOT NULL, member_months REAL,"
	" expected INTEGER, actual INTEGER NOT NULL, pmpm_expected REAL, pmpm_actual REAL);"
	"CREATE TABLE IF NOT EXISTS budget_shadow(cohort TEXT NOT NULL, fyear TEXT NOT NULL,"
	" dimension TEXT NOT NULL, value TEXT, budget INTEGER NOT NULL, paid INTEGER NOT NULL,"
	" difference INTEGER NOT NULL);";

/*
** ?1 cohort, ?2 fyear, ?3 first day, ?4 last day of the year. The member-months,
** the members' capitated activity, its sum per month and the per-member rows
** are made once as temporary tables, so every cut below reads them instead of
** recomputing them (and no correlated subquery scans the activity per group).
*/
static const char prep_mm[] =
	"CREATE TEMP TABLE bv_mm AS SELECT pseudo_id, month, days, amount, days * 1.0 /"
	" (julianday(date(month || '-01', '+1 month')) - julianday(month || '-01')) AS m"
	" FROM budget_member_month WHERE cohort = ?1 AND fyear = ?2";
static const char prep_act[] =
	"CREATE TEMP TABLE bv_act AS SELECT pseudo_id, substr(activity_date, 1, 7) AS month,"
	" provider, setting, cost FROM activity_tag WHERE cohort = ?1 AND tag = 'capitated'"
	" AND activity_date BETWEEN ?3 AND ?4";
static const char prep_actm[] =
	"CREATE TEMP TABLE bv_actm AS SELECT month, sum(cost) AS cost FROM bv_act GROUP BY month";
static const char prep_tier[] =
	"CREATE TEMP TABLE bv_tier AS SELECT s.pseudo_id, s.fyear, s.tier FROM risk_score s"
	" JOIN budget_member b ON b.pseudo_id = s.pseudo_id AND s.fyear = b.category_year"
	" WHERE b.cohort = ?1 AND b.fyear = ?2";
static const char prep_tier_none[] =
	"CREATE TEMP TABLE bv_tier(pseudo_id TEXT, fyear TEXT, tier TEXT)";
static const char prep_pm[] =
	"CREATE TEMP TABLE bv_pm AS WITH"
	" mmm AS (SELECT pseudo_id, sum(m) AS months, sum(amount) AS expected FROM bv_mm GROUP BY 1),"
	" am AS (SELECT pseudo_id, sum(cost) AS actual FROM bv_act GROUP BY 1)"
	" SELECT b.pseudo_id, b.category,"
	"  coalesce((SELECT practice FROM cohort_register r WHERE r.cohort = ?1 AND"
	"   r.pseudo_id = b.pseudo_id ORDER BY join_date DESC LIMIT 1), 'unknown') AS practice,"
	"  coalesce((SELECT tier FROM bv_tier s WHERE s.pseudo_id = b.pseudo_id"
	"   AND s.fyear = b.category_year), 'unscored') AS tier,"
	"  mmm.months, mmm.expected, coalesce(am.actual, 0) AS actual"
	"  FROM budget_member b JOIN mmm USING (pseudo_id) LEFT JOIN am USING (pseudo_id)"
	"  WHERE b.cohort = ?1 AND b.fyear = ?2";

static const char pmpm_body[] =
	"INSERT INTO budget_pmpm SELECT ?1, ?2, d, v, n, mo, ex, ac, ex / 100.0 / mo, ac / 100.0 / mo"
	" FROM (SELECT 'all' AS d, NULL AS v, count(*) AS n, sum(months) AS mo, sum(expected) AS ex,"
	"  sum(actual) AS ac FROM bv_pm"
	" UNION ALL SELECT 'category', category, count(*), sum(months), sum(expected), sum(actual)"
	"  FROM bv_pm GROUP BY category"
	" UNION ALL SELECT 'practice', practice, count(*), sum(months), sum(expected), sum(actual)"
	"  FROM bv_pm GROUP BY practice"
	" UNION ALL SELECT 'tier', tier, count(*), sum(months), sum(expected), sum(actual)"
	"  FROM bv_pm GROUP BY tier"
	" UNION ALL SELECT 'provider', provider, count(DISTINCT pseudo_id),"
	"  (SELECT sum(months) FROM bv_pm), NULL, sum(cost) FROM bv_act GROUP BY provider"
	" UNION ALL SELECT 'month', mm.month, count(*), sum(m), sum(amount),"
	"  coalesce((SELECT cost FROM bv_actm a WHERE a.month = mm.month), 0)"
	"  FROM bv_mm mm GROUP BY mm.month)";

static const char shadow_body[] =
	"INSERT INTO budget_shadow SELECT ?1, ?2, d, v, b, p, p - b FROM ("
	" SELECT 'month' AS d, month AS v, sum(amount) AS b,"
	"  coalesce((SELECT cost FROM bv_actm a WHERE a.month = y.month), 0) AS p"
	"  FROM budget_payment y WHERE cohort = ?1 AND fyear = ?2 GROUP BY month"
	" UNION ALL SELECT 'category', category, sum(expected), sum(actual) FROM bv_pm"
	"  GROUP BY category)";

static const char drop_temp[] =
	"DROP TABLE IF EXISTS temp.bv_mm; DROP TABLE IF EXISTS temp.bv_act;"
	"DROP TABLE IF EXISTS temp.bv_actm; DROP TABLE IF EXISTS temp.bv_tier;"
	"DROP TABLE IF EXISTS temp.bv_pm;";

static int64_t one_int(sqlite3 *db, const char *sql, const char *a, const char *b)
{
	sqlite3_stmt *st = NULL;
	int64_t v = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return v;
}

/*
** The difference by setting: the budget split over the settings inside the
** budget in proportion to what the members' care in those settings cost in
** the year their category was taken from (largest remainder, so the rows add
** up to the budget), next to what was paid in each setting.
*/
static int by_setting(sqlite3 *db, const char *cohort, const char *fy, const char *d0,
		      const char *d1, struct yoc_error *e)
{
	int in[YOC_BSET_COUNT] = {0};
	double w[YOC_BSET_COUNT] = {0};
	int64_t paid[YOC_BSET_COUNT] = {0}, part[YOC_BSET_COUNT];
	sqlite3_stmt *st = NULL;
	int rc = 0;
	int64_t budget = one_int(db, "SELECT budget FROM budget_plan WHERE cohort = ?1 AND fyear = ?2",
				 cohort, fy);
	if (sqlite3_prepare_v2(db, "SELECT value FROM tariff_build WHERE key = 'settings_in' AND"
				   " version = (SELECT tariff_version FROM budget_plan WHERE cohort = ?1"
				   " AND fyear = ?2)", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, cohort, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, fy, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
			const char *v = (const char *)sqlite3_column_text(st, 0);
			while (*v) {
				const char *c = strchr(v, ',');
				size_t l = c ? (size_t)(c - v) : strlen(v);
				int k = yoc_budget_setting_of(v, l);
				if (k >= 0)
					in[k] = 1;
				v += l + (c != NULL);
			}
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT sum(cost_elective), sum(cost_nonelective), sum(cost_daycase),"
				   " sum(cost_outpatient), sum(cost_ae), sum(cost_community), sum(cost_mh),"
				   " sum(cost_gp), sum(cost_social_care), sum(cost_ambulance) FROM"
				   " person_year y JOIN budget_member b ON b.pseudo_id = y.pseudo_id AND"
				   " y.fyear = b.category_year WHERE b.cohort = ?1 AND b.fyear = ?2",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, cohort, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, fy, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			for (int k = 0; k < YOC_BSET_COUNT; k++)
				w[k] = in[k] ? sqlite3_column_double(st, k) : 0;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT setting, sum(cost) FROM activity_tag WHERE cohort = ?1 AND"
				   " tag = 'capitated' AND activity_date BETWEEN ?2 AND ?3 GROUP BY 1",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, cohort, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, d0, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, d1, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *v = (const char *)sqlite3_column_text(st, 0);
			int k = v ? yoc_budget_setting_of(v, strlen(v)) : -1;
			if (k >= 0)
				paid[k] = sqlite3_column_int64(st, 1);
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = yoc_budget_split(budget, w, YOC_BSET_COUNT, part)))
		return yoc_error_set(e, rc, "views", 0, 0, "out of memory");
	if (sqlite3_prepare_v2(db, "INSERT INTO budget_shadow VALUES(?1, ?2, 'setting', ?3, ?4, ?5,"
				   " ?5 - ?4)", -1, &st, NULL) != SQLITE_OK)
		return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
	for (int k = 0; k < YOC_BSET_COUNT && !rc; k++) {
		if (!in[k] && !paid[k])
			continue;
		sqlite3_bind_text(st, 1, cohort, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, fy, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, yoc_budget_setting_name(k), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, part[k]);
		sqlite3_bind_int64(st, 5, paid[k]);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc;
}

int yoc_budget_views(sqlite3 *db, const char *cohort, int fyear, struct yoc_error *e)
{
	char fy[16], d0[16], d1[16];
	yoc_fyear_format(fyear, fy);
	yoc_date_format(yoc_fyear_start(fyear), d0);
	yoc_date_format(yoc_fyear_end(fyear), d1);
	if (!has_table(db, "activity_tag") || !has_table(db, "budget_member_month"))
		return yoc_error_set(e, YOC_ENOTFOUND, "yoc.db", 0, 0,
				     "run yoc budget and yoc tag for cohort %s first", cohort);
	int rc = 0;
	if ((rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
		goto cleanup;
	}
	if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, drop_temp, NULL, NULL, NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
		goto rollback;
	}
	if ((rc = run(db, "DELETE FROM budget_pmpm WHERE cohort = ?1 AND fyear = ?2", cohort, fy,
		      d0, d1, e)) ||
	    (rc = run(db, "DELETE FROM budget_shadow WHERE cohort = ?1 AND fyear = ?2", cohort, fy,
		      d0, d1, e)) ||
	    (rc = run(db, prep_mm, cohort, fy, d0, d1, e)) ||
	    (rc = run(db, prep_act, cohort, fy, d0, d1, e)) ||
	    (rc = run(db, prep_actm, cohort, fy, d0, d1, e)) ||
	    (rc = run(db, has_table(db, "risk_score") ? prep_tier : prep_tier_none, cohort, fy, d0,
		      d1, e)) ||
	    (rc = run(db, "CREATE INDEX temp.bv_tier_i ON bv_tier(pseudo_id, fyear)", cohort, fy,
		      d0, d1, e)) ||
	    (rc = run(db, prep_pm, cohort, fy, d0, d1, e)) ||
	    (rc = run(db, pmpm_body, cohort, fy, d0, d1, e)) ||
	    (rc = run(db, shadow_body, cohort, fy, d0, d1, e)))
		goto rollback;
	if ((rc = by_setting(db, cohort, fy, d0, d1, e)))
		goto rollback;
	sqlite3_exec(db, drop_temp, NULL, NULL, NULL);
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
		goto rollback;
	}
	goto cleanup;
rollback:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_exec(db, drop_temp, NULL, NULL, NULL);
cleanup:
	return rc;
}

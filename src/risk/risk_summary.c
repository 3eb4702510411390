/*
** Summary tables of the risk scores for the report's Risk page and the
** practice packs, all by financial year, computed in SQL from risk_score and
** person_year: the risk pyramid by tier, the crisis curve of the top-cost
** and top-risk cohorts, rising risk, tier turnover and cohort retention year
** on year, the overlap of risk and multimorbidity cohorts, tiers by
** practice. Each table is replaced whole in one transaction. Counts here are
** unrounded: whatever publishes them passes them through src/sdc.
** docs/risk.md gives every column.
*/
#include <stdio.h>
#include <string.h>

#include "risk/risk.h"

void yoc_risk_summary_opts_init(struct yoc_risk_summary_opts *o)
{
	o->rising_from = 80;
	o->rising_top = 10;
	o->crisis_top = 5;
}

/* The top share k% of a year of n rows: ranks 1 .. floor(n k / 100), as the tiers. */
#define TOPM(n, k) "CAST(" n " * " k " / 100.0 + 1e-9 AS INTEGER)"
#define NEXTFY(f) "printf('%d/%02d', substr(" f ", 1, 4) + 1, (substr(" f ", 1, 4) + 2) % 100)"
#define PREVFY(f) "printf('%d/%02d', substr(" f ", 1, 4) - 1, substr(" f ", 1, 4) % 100)"

static const char setup_sql[] =
	"DROP TABLE IF EXISTS temp.rs_py; DROP TABLE IF EXISTS temp.rs_s;"
	"DROP TABLE IF EXISTS temp.rs_y;"
	"CREATE TEMP TABLE rs_py AS SELECT pseudo_id, fyear, practice, ltc_count, died,"
	" emergency_admissions, cost_total / 100.0 AS cost FROM person_year;"
	"CREATE INDEX temp.rs_py_i ON rs_py(pseudo_id, fyear);"
	/* scored person-years with their year's size and the cost and LTC orders */
	"CREATE TEMP TABLE rs_s AS SELECT r.pseudo_id, r.fyear, r.rank, r.percentile, r.tier,"
	" r.probability, p.practice, p.cost, p.ltc_count, p.died, p.emergency_admissions,"
	" count(*) OVER (PARTITION BY r.fyear) AS n,"
	" row_number() OVER (PARTITION BY r.fyear ORDER BY p.cost DESC, r.pseudo_id) AS cost_rank,"
	" row_number() OVER (PARTITION BY r.fyear ORDER BY p.ltc_count DESC, r.pseudo_id)"
	"  AS ltc_rank"
	" FROM risk_score r JOIN rs_py p ON p.pseudo_id = r.pseudo_id AND p.fyear = r.fyear;"
	"CREATE INDEX temp.rs_s_i ON rs_s(pseudo_id, fyear);"
	"CREATE INDEX temp.rs_s_y ON rs_s(fyear, rank);"
	"CREATE TEMP TABLE rs_y AS SELECT y.fyear, y.prev, y.next,"
	" EXISTS (SELECT 1 FROM rs_s s WHERE s.fyear = y.next) AS next_scored,"
	" EXISTS (SELECT 1 FROM rs_s s WHERE s.fyear = y.prev) AS prev_scored,"
	" EXISTS (SELECT 1 FROM rs_py p WHERE p.fyear = y.next) AS next_analysed,"
	" EXISTS (SELECT 1 FROM rs_py p WHERE p.fyear = y.prev) AS prev_analysed"
	" FROM (SELECT DISTINCT fyear, " PREVFY("fyear") " AS prev, " NEXTFY("fyear") " AS next"
	" FROM rs_s) y;"
	/* tier order within a year */
	"DROP TABLE IF EXISTS temp.rs_t;"
	"CREATE TEMP TABLE rs_t AS SELECT fyear, tier, dense_rank() OVER (PARTITION BY fyear"
	" ORDER BY min(rank)) AS tier_order FROM rs_s GROUP BY fyear, tier;";

static const char pyramid_sql[] =
	"DROP TABLE IF EXISTS risk_pyramid;"
	"CREATE TABLE risk_pyramid(fyear TEXT NOT NULL, tier TEXT NOT NULL, tier_order INTEGER"
	" NOT NULL, people INTEGER NOT NULL, cost_total REAL NOT NULL, mean_cost REAL,"
	" cost_share REAL, emergency_admissions INTEGER NOT NULL, emergency_share REAL,"
	" people_next INTEGER, next_emergency_admissions INTEGER, next_emergency_share REAL);"
	"INSERT INTO risk_pyramid SELECT g.fyear, g.tier, t.tier_order, g.people, g.cost,"
	" g.cost / g.people, g.cost / nullif(sum(g.cost) OVER w, 0), g.ea,"
	" 1.0 * g.ea / nullif(sum(g.ea) OVER w, 0),"
	" CASE WHEN y.next_analysed THEN g.pn END, CASE WHEN y.next_analysed THEN g.nea END,"
	" CASE WHEN y.next_analysed THEN 1.0 * g.nea / nullif(sum(g.nea) OVER w, 0) END"
	" FROM (SELECT s.fyear, s.tier, count(*) AS people, sum(s.cost) AS cost,"
	"  sum(s.emergency_admissions) AS ea, count(q.pseudo_id) AS pn,"
	"  coalesce(sum(q.emergency_admissions), 0) AS nea"
	"  FROM rs_s s LEFT JOIN rs_py q ON q.pseudo_id = s.pseudo_id AND q.fyear = "
	NEXTFY("s.fyear") " GROUP BY s.fyear, s.tier) g"
	" JOIN rs_t t ON t.fyear = g.fyear AND t.tier = g.tier"
	" JOIN rs_y y ON y.fyear = g.fyear"
	" WINDOW w AS (PARTITION BY g.fyear) ORDER BY g.fyear, t.tier_order;";

static const char crisis_fmt[] =
	"DROP TABLE IF EXISTS risk_crisis;"
	"CREATE TABLE risk_crisis(fyear TEXT NOT NULL, cohort TEXT NOT NULL, top_pct REAL NOT NULL,"
	" year_offset INTEGER NOT NULL, year TEXT NOT NULL, people INTEGER NOT NULL,"
	" present INTEGER NOT NULL, died INTEGER NOT NULL, mean_cost REAL);"
	"INSERT INTO risk_crisis SELECT c.fyear, c.cohort, %.17g, o.k,"
	" CASE o.k WHEN -1 THEN y.prev WHEN 0 THEN c.fyear ELSE y.next END,"
	" count(*), count(p.pseudo_id), coalesce(sum(p.died), 0), avg(p.cost)"
	" FROM (SELECT fyear, pseudo_id, 'top_cost' AS cohort FROM rs_s WHERE cost_rank <= "
	TOPM("n", "%.17g") " UNION ALL SELECT fyear, pseudo_id, 'top_risk' FROM rs_s WHERE rank <= "
	TOPM("n", "%.17g") ") c JOIN rs_y y ON y.fyear = c.fyear"
	" CROSS JOIN (SELECT -1 AS k UNION ALL SELECT 0 UNION ALL SELECT 1) o"
	" LEFT JOIN rs_py p ON p.pseudo_id = c.pseudo_id AND p.fyear ="
	"  CASE o.k WHEN -1 THEN y.prev WHEN 0 THEN c.fyear ELSE y.next END"
	" WHERE (o.k != -1 OR y.prev_analysed) AND (o.k != 1 OR y.next_analysed)"
	" GROUP BY c.fyear, c.cohort, o.k ORDER BY c.fyear, c.cohort, o.k;";

static const char rising_fmt[] =
	"DROP TABLE IF EXISTS risk_rising;"
	"CREATE TABLE risk_rising(fyear TEXT NOT NULL, pseudo_id TEXT NOT NULL, practice TEXT,"
	" prev_percentile REAL NOT NULL, percentile REAL NOT NULL, probability REAL NOT NULL,"
	" tier TEXT NOT NULL, from_below REAL NOT NULL, to_top REAL NOT NULL);"
	"INSERT INTO risk_rising SELECT s.fyear, s.pseudo_id, s.practice, b.percentile,"
	" s.percentile, s.probability, s.tier, %.17g, %.17g"
	" FROM rs_s s JOIN rs_y y ON y.fyear = s.fyear"
	" JOIN rs_s b ON b.pseudo_id = s.pseudo_id AND b.fyear = y.prev"
	" WHERE s.rank <= " TOPM("s.n", "%.17g") " AND b.percentile < %.17g"
	" ORDER BY s.fyear, s.rank;";

static const char turnover_sql[] =
	"DROP TABLE IF EXISTS risk_turnover;"
	"CREATE TABLE risk_turnover(fyear TEXT NOT NULL, from_tier TEXT NOT NULL, from_order"
	" INTEGER NOT NULL, to_tier TEXT NOT NULL, to_order INTEGER NOT NULL, people INTEGER NOT"
	" NULL);"
	"INSERT INTO risk_turnover SELECT s.fyear, s.tier, t.tier_order,"
	" CASE WHEN b.pseudo_id IS NOT NULL THEN b.tier WHEN s.died THEN 'died' ELSE 'left' END,"
	" CASE WHEN b.pseudo_id IS NOT NULL THEN u.tier_order WHEN s.died THEN 100 ELSE 101 END,"
	" count(*)"
	" FROM rs_s s JOIN rs_y y ON y.fyear = s.fyear AND y.next_scored"
	" JOIN rs_t t ON t.fyear = s.fyear AND t.tier = s.tier"
	" LEFT JOIN rs_s b ON b.pseudo_id = s.pseudo_id AND b.fyear = y.next"
	" LEFT JOIN rs_t u ON u.fyear = b.fyear AND u.tier = b.tier"
	" GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 3, 5;";

#define KS "(SELECT 0.5 AS k UNION ALL SELECT 2 UNION ALL SELECT 5 UNION ALL SELECT 10)"

static const char retention_sql[] =
	"DROP TABLE IF EXISTS risk_retention;"
	"CREATE TABLE risk_retention(fyear TEXT NOT NULL, k REAL NOT NULL, cohort TEXT NOT NULL,"
	" people INTEGER NOT NULL, present INTEGER NOT NULL, still INTEGER NOT NULL,"
	" still_share REAL);"
	"INSERT INTO risk_retention SELECT s.fyear, ks.k, 'risk', count(*), count(b.pseudo_id),"
	" coalesce(sum(b.rank <= " TOPM("b.n", "ks.k") "), 0),"
	" 1.0 * coalesce(sum(b.rank <= " TOPM("b.n", "ks.k") "), 0) / count(*)"
	" FROM " KS " ks JOIN rs_s s ON s.rank <= " TOPM("s.n", "ks.k")
	" JOIN rs_y y ON y.fyear = s.fyear AND y.next_scored"
	" LEFT JOIN rs_s b ON b.pseudo_id = s.pseudo_id AND b.fyear = y.next"
	" GROUP BY s.fyear, ks.k;"
	"INSERT INTO risk_retention SELECT s.fyear, ks.k, 'ltc', count(*), count(b.pseudo_id),"
	" coalesce(sum(b.ltc_rank <= " TOPM("b.n", "ks.k") "), 0),"
	" 1.0 * coalesce(sum(b.ltc_rank <= " TOPM("b.n", "ks.k") "), 0) / count(*)"
	" FROM " KS " ks JOIN rs_s s ON s.ltc_rank <= " TOPM("s.n", "ks.k")
	" JOIN rs_y y ON y.fyear = s.fyear AND y.next_scored"
	" LEFT JOIN rs_s b ON b.pseudo_id = s.pseudo_id AND b.fyear = y.next"
	" GROUP BY s.fyear, ks.k;";

static const char overlap_sql[] =
	"DROP TABLE IF EXISTS risk_overlap;"
	"CREATE TABLE risk_overlap(fyear TEXT NOT NULL, k REAL NOT NULL, people INTEGER NOT NULL,"
	" overlap INTEGER NOT NULL, overlap_share REAL, risk_min_ltc INTEGER,"
	" ltc_min_ltc INTEGER);"
	"INSERT INTO risk_overlap SELECT s.fyear, ks.k, sum(s.rank <= " TOPM("s.n", "ks.k") "),"
	" sum(s.rank <= " TOPM("s.n", "ks.k") " AND s.ltc_rank <= " TOPM("s.n", "ks.k") "),"
	" 1.0 * sum(s.rank <= " TOPM("s.n", "ks.k") " AND s.ltc_rank <= " TOPM("s.n", "ks.k") ")"
	"  / nullif(sum(s.rank <= " TOPM("s.n", "ks.k") "), 0),"
	" min(CASE WHEN s.rank <= " TOPM("s.n", "ks.k") " THEN s.ltc_count END),"
	" min(CASE WHEN s.ltc_rank <= " TOPM("s.n", "ks.k") " THEN s.ltc_count END)"
	" FROM " KS " ks JOIN rs_s s GROUP BY s.fyear, ks.k ORDER BY s.fyear, ks.k;";

static const char practice_sql[] =
	"DROP TABLE IF EXISTS risk_practice;"
	"CREATE TABLE risk_practice(fyear TEXT NOT NULL, practice TEXT, tier TEXT NOT NULL,"
	" tier_order INTEGER NOT NULL, people INTEGER NOT NULL);"
	"INSERT INTO risk_practice SELECT s.fyear, s.practice, s.tier, t.tier_order, count(*)"
	" FROM rs_s s JOIN rs_t t ON t.fyear = s.fyear AND t.tier = s.tier GROUP BY 1, 2, 3, 4;"
	"INSERT INTO risk_practice SELECT fyear, practice, 'all', 0, count(*) FROM rs_s"
	" GROUP BY 1, 2;"
	"INSERT INTO risk_practice SELECT s.fyear, s.practice, 'rising', 1000, count(r.pseudo_id)"
	" FROM rs_s s JOIN rs_y y ON y.fyear = s.fyear AND y.prev_scored"
	" LEFT JOIN risk_rising r ON r.pseudo_id = s.pseudo_id AND r.fyear = s.fyear"
	" GROUP BY 1, 2;";

static int run(sqlite3 *db, const char *sql, struct yoc_error *e)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", msg ? msg : "?");
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

int yoc_risk_summarise(sqlite3 *db, const struct yoc_risk_summary_opts *o, struct yoc_error *e)
{
	struct yoc_risk_summary_opts d;
	if (!o) {
		yoc_risk_summary_opts_init(&d);
		o = &d;
	}
	if (!(o->rising_from > 0 && o->rising_from < 100) || !(o->rising_top > 0 && o->rising_top < 100) ||
	    !(o->crisis_top > 0 && o->crisis_top < 100) || 100 - o->rising_top < o->rising_from)
		return yoc_error_set(e, YOC_EINVAL, "risk summarise", 0, 0,
				     "want 0 < percentile from < 100 - top share < 100 (from %g, "
				     "top %g%%, crisis top %g%%)", o->rising_from, o->rising_top,
				     o->crisis_top);
	char crisis[sizeof crisis_fmt + 128], rising[sizeof rising_fmt + 128];
	snprintf(crisis, sizeof crisis, crisis_fmt, o->crisis_top, o->crisis_top, o->crisis_top);
	snprintf(rising, sizeof rising, rising_fmt, o->rising_from, o->rising_top, o->rising_top,
		 o->rising_from);
	sqlite3_stmt *st = NULL;
	int has = 0, rc;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM risk_score LIMIT 1", -1, &st, NULL) == SQLITE_OK)
		has = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (!has)
		return yoc_error_set(e, YOC_ENOTFOUND, "risk_score", 0, 0,
				     "no risk scores: run yoc risk score first");
	/* the temporary tables (a few hundred bytes per scored person-year) and
	 * their sorts stay in the page cache instead of spilling to temp files */
	if ((rc = run(db, "PRAGMA temp.cache_size = -1048576; BEGIN IMMEDIATE", e)))
		return rc;
	if ((rc = run(db, setup_sql, e)) || (rc = run(db, pyramid_sql, e)) ||
	    (rc = run(db, crisis, e)) || (rc = run(db, rising, e)) ||
	    (rc = run(db, turnover_sql, e)) || (rc = run(db, retention_sql, e)) ||
	    (rc = run(db, overlap_sql, e)) || (rc = run(db, practice_sql, e)) ||
	    (rc = run(db, "DROP TABLE temp.rs_py; DROP TABLE temp.rs_s; DROP TABLE temp.rs_y;"
			  "DROP TABLE temp.rs_t; COMMIT", e))) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return 0;
}

/*
** Care plans, unmet needs and patient activation (careplan.h,
** docs/outcomes.md "Care plans"). Copies the careplan and pam rows of the
** store into temporary tables of the catalog connection, keeps each plan's
** latest PLAN row and each item's latest row up to the reporting date, and
** aggregates them in SQL. Coverage denominators are the people registered
** on the reporting date (the person table) and each cohort's members on it
** (yoc_cohort_register_asof). Writes only its own tables, in one
** transaction; never prints.
*/
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "cohort/cohort.h"
#include "outcome/careplan.h"
#include "yoc/date.h"

int yoc_pam_score_parse(const char *s, size_t n, int *tenths)
{
	size_t i = 0;
	int whole = 0, nd = 0;
	while (i < n && s[i] >= '0' && s[i] <= '9' && nd < 4) {
		whole = whole * 10 + (s[i++] - '0');
		nd++;
	}
	if (nd == 0 || nd > 3)
		return YOC_EPARSE;
	int t = 0;
	if (i < n && s[i] == '.') {
		if (i + 2 != n || s[i + 1] < '0' || s[i + 1] > '9')
			return YOC_EPARSE;
		t = s[i + 1] - '0';
		i += 2;
	}
	if (i != n || whole * 10 + t > 1000)
		return YOC_EPARSE;
	*tenths = whole * 10 + t;
	return 0;
}

int yoc_pam_level(int tenths)
{
	return tenths <= 470 ? 1 : tenths <= 551 ? 2 : tenths <= 670 ? 3 : 4;
}

static int exec(sqlite3 *db, const char *sql, struct yoc_error *e)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", msg ? msg : "SQLite error");
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

static int known(int32_t d)
{
	return d > YOC_DATE_HES_INVALID;
}

static void bind_date(sqlite3_stmt *q, int i, int32_t d)
{
	if (known(d))
		sqlite3_bind_int(q, i, d);
	else
		sqlite3_bind_null(q, i);
}

static void bind_cell(sqlite3_stmt *q, int i, struct yoc_cell c)
{
	if (c.n)
		sqlite3_bind_text(q, i, c.p, (int)c.n, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(q, i);
}

static const char temp_sql[] =
	"DROP TABLE IF EXISTS temp.cp_row; DROP TABLE IF EXISTS temp.pam_row;"
	"DROP TABLE IF EXISTS temp.cp_person; DROP TABLE IF EXISTS temp.cp_member;"
	"CREATE TEMP TABLE cp_row(seq INTEGER, pidx INTEGER, pseudo TEXT, practice TEXT,"
	" plan_id TEXT, item_type TEXT, item_id TEXT, record_date INTEGER, created INTEGER,"
	" last_review INTEGER, next_review INTEGER, coordinator TEXT, domain TEXT, status TEXT,"
	" action_kind TEXT, need TEXT, unmet_reason TEXT, lsoa TEXT);"
	"CREATE TEMP TABLE pam_row(seq INTEGER, pidx INTEGER, pseudo TEXT, pam_id TEXT,"
	" pam_date INTEGER, score INTEGER, level INTEGER);"
	"CREATE TEMP TABLE cp_person(pidx INTEGER PRIMARY KEY, pseudo TEXT, practice TEXT,"
	" lsoa TEXT, registered INTEGER);"
	"CREATE TEMP TABLE cp_member(cohort TEXT, pidx INTEGER);";

/* Copies the rows of one careplan segment into temp.cp_row. */
static int copy_careplan(sqlite3_stmt *q, const yoc_seg *g, int64_t *seq,
			 struct yoc_careplan_stats *st, struct yoc_error *e)
{
	static const char *const names[] = {"PSEUDO_ID", "GPPRAC", "PLAN_ID", "ITEM_TYPE", "ITEM_ID",
		"RECORD_DATE", "CREATED", "LAST_REVIEW", "NEXT_REVIEW", "COORDINATOR", "DOMAIN",
		"STATUS", "ACTION_KIND", "NEED", "UNMET_REASON", "LSOA11"};
	int c[16];
	for (int k = 0; k < 16; k++)
		c[k] = yoc_seg_col(g, names[k]);
	size_t nr = yoc_seg_nrows(g);
	for (size_t r = 0; r < nr; r++) {
		sqlite3_bind_int64(q, 1, (*seq)++);
		int32_t p = yoc_seg_person(g, r);
		if (p >= 0)
			sqlite3_bind_int(q, 2, p);
		else
			sqlite3_bind_null(q, 2);
		for (int k = 0; k < 16; k++) {
			if (k >= 5 && k <= 8)
				bind_date(q, 3 + k, yoc_seg_date(g, c[k], r));
			else
				bind_cell(q, 3 + k, yoc_seg_text(g, c[k], r));
		}
		if (sqlite3_step(q) != SQLITE_DONE)
			return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s",
					     sqlite3_errmsg(sqlite3_db_handle(q)));
		sqlite3_reset(q);
		st->rows++;
	}
	return 0;
}

/* Copies the rows of one pam segment into temp.pam_row (score in tenths). */
static int copy_pam(sqlite3_stmt *q, const yoc_seg *g, int64_t *seq,
		    struct yoc_careplan_stats *st, struct yoc_error *e)
{
	int c_pid = yoc_seg_col(g, "PSEUDO_ID"), c_id = yoc_seg_col(g, "PAM_ID"),
	    c_date = yoc_seg_col(g, "PAM_DATE"), c_score = yoc_seg_col(g, "PAM_SCORE");
	size_t nr = yoc_seg_nrows(g);
	for (size_t r = 0; r < nr; r++) {
		struct yoc_cell sc = yoc_seg_text(g, c_score, r);
		int tenths;
		if (yoc_pam_score_parse(sc.p, sc.n, &tenths))
			continue; /* the loader quarantines such rows; none should be here */
		sqlite3_bind_int64(q, 1, (*seq)++);
		int32_t p = yoc_seg_person(g, r);
		if (p >= 0)
			sqlite3_bind_int(q, 2, p);
		else
			sqlite3_bind_null(q, 2);
		bind_cell(q, 3, yoc_seg_text(g, c_pid, r));
		bind_cell(q, 4, yoc_seg_text(g, c_id, r));
		bind_date(q, 5, yoc_seg_date(g, c_date, r));
		sqlite3_bind_int(q, 6, tenths);
		sqlite3_bind_int(q, 7, yoc_pam_level(tenths));
		if (sqlite3_step(q) != SQLITE_DONE)
			return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s",
					     sqlite3_errmsg(sqlite3_db_handle(q)));
		sqlite3_reset(q);
		st->pam_rows++;
	}
	return 0;
}

static int copy_kind(yoc_store *s, int kind, int is_pam, struct yoc_careplan_stats *st,
		     struct yoc_error *e)
{
	struct yoc_file_info *fi = NULL;
	size_t nf = 0;
	sqlite3 *db = yoc_store_db(s);
	sqlite3_stmt *q = NULL;
	int64_t seq = 0;
	int rc = yoc_store_files(s, kind, 0, &fi, &nf, e);
	if (rc)
		return rc;
	if (nf && is_pam)
		st->has_pam = 1;
	else if (nf)
		st->has_careplan = 1;
	const char *sql = is_pam ? "INSERT INTO temp.pam_row VALUES(?1,?2,?3,?4,?5,?6,?7)"
				 : "INSERT INTO temp.cp_row VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,"
				   "?10,?11,?12,?13,?14,?15,?16,?17,?18)";
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
		goto cleanup;
	}
	for (size_t f = 0; f < nf && !rc; f++) {
		yoc_seg *g = NULL;
		if ((rc = yoc_seg_open(s, fi[f].file_id, &g, e)))
			break;
		rc = is_pam ? copy_pam(q, g, &seq, st, e) : copy_careplan(q, g, &seq, st, e);
		yoc_seg_close(g);
	}
cleanup:
	sqlite3_finalize(q);
	yoc_store_files_free(fi);
	return rc;
}

/* The person table, registered on asof or not, into temp.cp_person. */
static int copy_persons(yoc_store *s, int32_t asof, struct yoc_careplan_stats *st,
			struct yoc_error *e)
{
	const struct yoc_person *pp = NULL;
	size_t np = 0;
	int rc = yoc_store_persons(s, &pp, &np, e);
	if (rc)
		return rc;
	sqlite3 *db = yoc_store_db(s);
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, "INSERT INTO temp.cp_person VALUES(?1,?2,?3,?4,?5)", -1, &q,
			       NULL) != SQLITE_OK)
		return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
	for (size_t i = 0; i < np && !rc; i++) {
		const struct yoc_person *p = &pp[i];
		int reg = p->practice[0] && (!known(p->reg_start) || p->reg_start <= asof) &&
			  (!known(p->reg_end) || p->reg_end >= asof) &&
			  (!known(p->dod) || p->dod > asof);
		st->registered += reg;
		sqlite3_bind_int64(q, 1, (int64_t)i);
		sqlite3_bind_text(q, 2, p->pseudo, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, p->practice, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 4, p->lsoa, -1, SQLITE_STATIC);
		sqlite3_bind_int(q, 5, reg);
		if (sqlite3_step(q) != SQLITE_DONE)
			rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
		sqlite3_reset(q);
	}
	sqlite3_finalize(q);
	return rc;
}

/* Each cohort's members on asof (the cohort register) into temp.cp_member. */
static int copy_members(yoc_store *s, int32_t asof, struct yoc_error *e)
{
	sqlite3 *db = yoc_store_db(s);
	sqlite3_stmt *names = NULL, *q = NULL;
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT cohort FROM cohort_register ORDER BY cohort", -1,
			       &names, NULL) != SQLITE_OK)
		return 0; /* no cohort register yet: no cohort rows */
	int rc = 0;
	if (sqlite3_prepare_v2(db, "INSERT INTO temp.cp_member VALUES(?1,?2)", -1, &q, NULL) !=
	    SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
		goto cleanup;
	}
	while (!rc && sqlite3_step(names) == SQLITE_ROW) {
		char cohort[128];
		snprintf(cohort, sizeof cohort, "%s", (const char *)sqlite3_column_text(names, 0));
		struct yoc_cohort_member *m = NULL;
		size_t n = 0;
		if ((rc = yoc_cohort_register_asof(db, cohort, asof, &m, &n, e)))
			break;
		for (size_t i = 0; i < n && !rc; i++) {
			int32_t p = yoc_store_person_index(s, m[i].pseudo, strlen(m[i].pseudo));
			sqlite3_bind_text(q, 1, cohort, -1, SQLITE_STATIC);
			if (p >= 0)
				sqlite3_bind_int(q, 2, p);
			else
				sqlite3_bind_null(q, 2);
			if (sqlite3_step(q) != SQLITE_DONE)
				rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
			sqlite3_reset(q);
		}
		yoc_free(m);
	}
cleanup:
	sqlite3_finalize(names);
	sqlite3_finalize(q);
	return rc;
}

#define D(x) "date(" x " * 86400, 'unixepoch')"

/* ?1 is the reporting date (days since 1970) wherever it appears. */
static const char tables_sql[] =
	"DROP TABLE IF EXISTS careplan_plan; DROP TABLE IF EXISTS careplan_cover;"
	"DROP TABLE IF EXISTS careplan_goal; DROP TABLE IF EXISTS careplan_action;"
	"DROP TABLE IF EXISTS careplan_need; DROP TABLE IF EXISTS careplan_unmet;"
	"DROP TABLE IF EXISTS pam_level; DROP TABLE IF EXISTS pam_change;"
	"DROP TABLE IF EXISTS careplan_run;"
	"CREATE TABLE careplan_run(asof TEXT, plans INTEGER, registered INTEGER);"
	"CREATE TABLE careplan_plan(plan_id TEXT PRIMARY KEY, pseudo_id TEXT, registered INTEGER,"
	" practice TEXT, created TEXT, last_review TEXT, next_review TEXT, coordinator TEXT,"
	" review_due INTEGER, overdue INTEGER, goals INTEGER, actions INTEGER, needs INTEGER,"
	" needs_unmet INTEGER);"
	"CREATE TABLE careplan_cover(ord INTEGER, grp_kind TEXT, grp TEXT, people INTEGER,"
	" with_plan INTEGER, plans INTEGER, plans_overdue INTEGER);"
	"CREATE TABLE careplan_goal(domain TEXT, status TEXT, goals INTEGER);"
	"CREATE TABLE careplan_action(action_kind TEXT, status TEXT, actions INTEGER);"
	"CREATE TABLE careplan_need(need TEXT, locality TEXT, needs INTEGER, met INTEGER,"
	" partly INTEGER, unmet INTEGER);"
	"CREATE TABLE careplan_unmet(need TEXT, reason TEXT, needs INTEGER);"
	"CREATE TABLE pam_level(level INTEGER, first_people INTEGER, latest_people INTEGER);"
	"CREATE TABLE pam_change(baseline_level INTEGER, people INTEGER, measured_twice INTEGER,"
	" mean_first REAL, mean_latest REAL, mean_change REAL, moved_up INTEGER,"
	" moved_down INTEGER);";

static const char *const fill_sql[] = {
	/* each plan's latest PLAN row up to the reporting date */
	"CREATE TEMP TABLE cp_plan AS SELECT plan_id, pidx, pseudo, practice, created,"
	" last_review, next_review, coordinator, (next_review IS NOT NULL AND next_review < ?1"
	" AND (last_review IS NULL OR last_review < next_review)) AS overdue FROM (SELECT *,"
	" row_number() OVER (PARTITION BY plan_id ORDER BY record_date DESC, seq DESC) AS rn"
	" FROM temp.cp_row WHERE item_type = 'PLAN' AND record_date <= ?1) WHERE rn = 1"
	" AND (created IS NULL OR created <= ?1)",
	/* each item's latest row up to the reporting date, of a plan that exists then */
	"CREATE TEMP TABLE cp_item AS SELECT * FROM (SELECT *, row_number() OVER"
	" (PARTITION BY item_type, item_id ORDER BY record_date DESC, seq DESC) AS rn"
	" FROM temp.cp_row WHERE item_type != 'PLAN' AND record_date <= ?1) WHERE rn = 1"
	" AND plan_id IN (SELECT plan_id FROM temp.cp_plan)",
	"CREATE INDEX temp.cp_item_plan ON cp_item(plan_id, item_type)",
	"INSERT INTO careplan_plan SELECT p.plan_id, p.pseudo, coalesce(r.registered, 0),"
	" p.practice, " D("p.created") ", " D("p.last_review") ", " D("p.next_review") ","
	" p.coordinator, p.overdue, p.overdue AND coalesce(r.registered, 0),"
	" (SELECT count(*) FROM temp.cp_item i WHERE i.plan_id = p.plan_id AND i.item_type = 'GOAL'),"
	" (SELECT count(*) FROM temp.cp_item i WHERE i.plan_id = p.plan_id AND i.item_type = 'ACTION'),"
	" (SELECT count(*) FROM temp.cp_item i WHERE i.plan_id = p.plan_id AND i.item_type = 'NEED'),"
	" (SELECT count(*) FROM temp.cp_item i WHERE i.plan_id = p.plan_id AND i.item_type = 'NEED'"
	" AND i.status IN ('PARTLY', 'UNMET'))"
	" FROM temp.cp_plan p LEFT JOIN temp.cp_person r ON r.pidx = p.pidx ORDER BY p.plan_id",
	/* coverage: the registered population, by practice, by cohort */
	"CREATE TEMP TABLE cp_has AS SELECT pidx, count(*) AS plans, sum(overdue) AS overdue"
	" FROM temp.cp_plan WHERE pidx IS NOT NULL GROUP BY pidx",
	"INSERT INTO careplan_cover SELECT 0, 'all', 'Registered population', count(*),"
	" count(h.pidx), coalesce(sum(h.plans), 0), coalesce(sum(h.overdue), 0)"
	" FROM temp.cp_person p LEFT JOIN temp.cp_has h ON h.pidx = p.pidx WHERE p.registered",
	"INSERT INTO careplan_cover SELECT 1, 'practice', p.practice, count(*), count(h.pidx),"
	" coalesce(sum(h.plans), 0), coalesce(sum(h.overdue), 0) FROM temp.cp_person p"
	" LEFT JOIN temp.cp_has h ON h.pidx = p.pidx WHERE p.registered GROUP BY p.practice"
	" ORDER BY p.practice",
	"INSERT INTO careplan_cover SELECT 2, 'cohort', m.cohort, count(*), count(h.pidx),"
	" coalesce(sum(h.plans), 0), coalesce(sum(h.overdue), 0) FROM temp.cp_member m"
	" LEFT JOIN temp.cp_has h ON h.pidx = m.pidx GROUP BY m.cohort ORDER BY m.cohort",
	"INSERT INTO careplan_goal SELECT coalesce(domain, 'unknown'), coalesce(status, 'unknown'),"
	" count(*) FROM temp.cp_item WHERE item_type = 'GOAL' GROUP BY 1, 2 ORDER BY 1, 2",
	"INSERT INTO careplan_action SELECT coalesce(action_kind, 'unknown'),"
	" coalesce(status, 'unknown'), count(*) FROM temp.cp_item WHERE item_type = 'ACTION'"
	" GROUP BY 1, 2 ORDER BY 1, 2",
	"INSERT INTO careplan_need SELECT coalesce(i.need, 'unknown'),"
	" coalesce(nullif(i.lsoa, ''), nullif(r.lsoa, ''), 'unknown'), count(*),"
	" sum(i.status = 'MET'), sum(i.status = 'PARTLY'), sum(i.status = 'UNMET')"
	" FROM temp.cp_item i LEFT JOIN temp.cp_person r ON r.pidx = i.pidx"
	" WHERE i.item_type = 'NEED' GROUP BY 1, 2 ORDER BY 1, 2",
	"INSERT INTO careplan_unmet SELECT coalesce(need, 'unknown'),"
	" coalesce(unmet_reason, 'unknown'), count(*) FROM temp.cp_item WHERE item_type = 'NEED'"
	" AND status IN ('PARTLY', 'UNMET') GROUP BY 1, 2 ORDER BY 1, 2",
	/* PAM: each person's first and latest measure up to the reporting date */
	"CREATE TEMP TABLE pam_person AS SELECT f.pseudo, f.score AS first_score, f.level AS"
	" first_level, l.score AS latest_score, l.level AS latest_level, f.n FROM (SELECT pseudo,"
	" score, level, n FROM (SELECT pseudo, score, level, count(*) OVER (PARTITION BY pseudo)"
	" AS n, row_number() OVER (PARTITION BY pseudo ORDER BY pam_date, seq) AS rn FROM"
	" temp.pam_row WHERE pam_date <= ?1 AND pseudo IS NOT NULL) WHERE rn = 1) f JOIN"
	" (SELECT pseudo, score, level FROM (SELECT pseudo, score, level, row_number() OVER"
	" (PARTITION BY pseudo ORDER BY pam_date DESC, seq DESC) AS rn FROM temp.pam_row WHERE"
	" pam_date <= ?1 AND pseudo IS NOT NULL) WHERE rn = 1) l ON l.pseudo = f.pseudo",
	"INSERT INTO pam_level WITH lv(level) AS (VALUES (1), (2), (3), (4)) SELECT lv.level,"
	" (SELECT count(*) FROM temp.pam_person WHERE first_level = lv.level),"
	" (SELECT count(*) FROM temp.pam_person WHERE latest_level = lv.level) FROM lv",
	"INSERT INTO pam_change WITH lv(level) AS (VALUES (1), (2), (3), (4)) SELECT lv.level,"
	" (SELECT count(*) FROM temp.pam_person WHERE first_level = lv.level),"
	" (SELECT count(*) FROM temp.pam_person WHERE first_level = lv.level AND n >= 2),"
	" (SELECT avg(first_score) / 10.0 FROM temp.pam_person WHERE first_level = lv.level"
	" AND n >= 2),"
	" (SELECT avg(latest_score) / 10.0 FROM temp.pam_person WHERE first_level = lv.level"
	" AND n >= 2),"
	" (SELECT avg(latest_score - first_score) / 10.0 FROM temp.pam_person WHERE first_level"
	" = lv.level AND n >= 2),"
	" (SELECT count(*) FROM temp.pam_person WHERE first_level = lv.level AND n >= 2 AND"
	" latest_level > first_level),"
	" (SELECT count(*) FROM temp.pam_person WHERE first_level = lv.level AND n >= 2 AND"
	" latest_level < first_level) FROM lv",
	"INSERT INTO careplan_run SELECT " D("?1") ", (SELECT count(*) FROM careplan_plan),"
	" (SELECT count(*) FROM temp.cp_person WHERE registered)",
	"DROP TABLE temp.cp_plan; DROP TABLE temp.cp_item; DROP TABLE temp.cp_has;"
	" DROP TABLE temp.pam_person",
};

static int fill(sqlite3 *db, int32_t asof, struct yoc_error *e)
{
	for (size_t i = 0; i < sizeof fill_sql / sizeof fill_sql[0]; i++) {
		const char *sql = fill_sql[i];
		while (*sql) {
			sqlite3_stmt *q = NULL;
			const char *tail = NULL;
			if (sqlite3_prepare_v2(db, sql, -1, &q, &tail) != SQLITE_OK)
				return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s",
						     sqlite3_errmsg(db));
			if (!q)
				break;
			if (sqlite3_bind_parameter_count(q) >= 1)
				sqlite3_bind_int(q, 1, asof);
			int r = sqlite3_step(q);
			sqlite3_finalize(q);
			if (r != SQLITE_DONE && r != SQLITE_ROW)
				return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s",
						     sqlite3_errmsg(db));
			sql = tail;
		}
	}
	return 0;
}

static int64_t one(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q = NULL;
	int64_t v = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

int yoc_careplan_run(yoc_store *s, const struct yoc_careplan_opts *o,
		     struct yoc_careplan_stats *st, struct yoc_error *e)
{
	memset(st, 0, sizeof *st);
	int kc = yoc_spec_kind_by_name("careplan"), kp = yoc_spec_kind_by_name("pam");
	if (kc < 0 && kp < 0)
		return yoc_error_set(e, YOC_ENOTFOUND, NULL, 0, 0,
				     "no care plans in this dataset: this build's data specification "
				     "has no careplan or pam feed");
	sqlite3 *db = yoc_store_db(s);
	int rc, began = 0;
	if ((rc = exec(db, "BEGIN IMMEDIATE", e)))
		return rc;
	began = 1;
	if ((rc = exec(db, temp_sql, e)) || (kc >= 0 && (rc = copy_kind(s, kc, 0, st, e))) ||
	    (kp >= 0 && (rc = copy_kind(s, kp, 1, st, e))))
		goto cleanup;
	if (!st->has_careplan && !st->has_pam) {
		rc = yoc_error_set(e, YOC_ENOTFOUND, yoc_store_dir(s), 0, 0,
				   "no care plans in this dataset: no careplan or pam feed is loaded "
				   "(feeds/careplan/, feeds/pam/; docs/feeds.md)");
		goto cleanup;
	}
	st->asof = o->asof;
	if (!known(st->asof)) {
		int64_t a = one(db, "SELECT coalesce(max(record_date), (SELECT max(pam_date) FROM"
				    " temp.pam_row), -2147483648) FROM temp.cp_row");
		st->asof = (int32_t)a;
	}
	if (!known(st->asof)) {
		rc = yoc_error_set(e, YOC_ENOTFOUND, yoc_store_dir(s), 0, 0,
				   "no care plans in this dataset: the careplan and pam feeds have "
				   "no dated rows");
		goto cleanup;
	}
	if ((rc = copy_persons(s, st->asof, st, e)) || (rc = copy_members(s, st->asof, e)) ||
	    (rc = exec(db, tables_sql, e)) || (rc = fill(db, st->asof, e)))
		goto cleanup;
	st->plans = one(db, "SELECT count(*) FROM careplan_plan");
	st->plans_unregistered = one(db, "SELECT count(*) FROM careplan_plan WHERE NOT registered");
	st->people = one(db, "SELECT with_plan FROM careplan_cover WHERE grp_kind = 'all'");
	st->overdue = one(db, "SELECT sum(overdue) FROM careplan_plan");
	st->goals = one(db, "SELECT sum(goals) FROM careplan_goal");
	st->actions = one(db, "SELECT sum(actions) FROM careplan_action");
	st->needs = one(db, "SELECT sum(needs) FROM careplan_need");
	st->needs_partly = one(db, "SELECT sum(partly) FROM careplan_need");
	st->needs_unmet = one(db, "SELECT sum(unmet) FROM careplan_need");
	st->pam_people = one(db, "SELECT sum(people) FROM pam_change");
	st->pam_twice = one(db, "SELECT sum(measured_twice) FROM pam_change");
	if ((rc = exec(db, "DROP TABLE temp.cp_row; DROP TABLE temp.pam_row;"
			   " DROP TABLE temp.cp_person; DROP TABLE temp.cp_member; COMMIT", e)))
		goto cleanup;
	began = 0;
cleanup:
	if (began)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/*
** Cohort catalog tables, versioned definitions and the change log. Every
** change to a cohort (definition, selection, import, joining, leaving) adds
** a cohort_log row naming who or what caused it. Definitions are never
** changed: redefining adds a version.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cohort/cohort.h"
#include "yoc/date.h"

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS cohort_def(name TEXT NOT NULL, version INTEGER NOT NULL,"
	" rule TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',"
	" service_model TEXT NOT NULL DEFAULT '', author TEXT NOT NULL, created TEXT NOT NULL,"
	" PRIMARY KEY(name, version));"
	"CREATE TABLE IF NOT EXISTS cohort_selection(selection_id INTEGER PRIMARY KEY,"
	" cohort TEXT NOT NULL, version INTEGER NOT NULL, fyear TEXT NOT NULL, month TEXT,"
	" population INTEGER NOT NULL, selected INTEGER NOT NULL, author TEXT, created TEXT);"
	"CREATE TABLE IF NOT EXISTS cohort_candidate(selection_id INTEGER NOT NULL,"
	" cohort TEXT NOT NULL, pseudo_id TEXT NOT NULL, practice TEXT, reasons TEXT,"
	" age_band TEXT, ltcs TEXT, ltc_count INTEGER, risk_percentile REAL, risk_tier TEXT,"
	" emergency_admissions INTEGER, cost_total INTEGER,"
	" PRIMARY KEY(selection_id, pseudo_id));"
	"CREATE TABLE IF NOT EXISTS cohort_review(review_id INTEGER PRIMARY KEY,"
	" cohort TEXT NOT NULL, pseudo_id TEXT NOT NULL, practice TEXT NOT NULL,"
	" decision TEXT NOT NULL, reason TEXT NOT NULL, reason_text TEXT NOT NULL,"
	" reviewer_role TEXT NOT NULL, review_date TEXT NOT NULL, file TEXT, line INTEGER,"
	" imported TEXT, actor TEXT, UNIQUE(cohort, pseudo_id, review_date));"
	"CREATE TABLE IF NOT EXISTS cohort_consent(consent_id INTEGER PRIMARY KEY,"
	" cohort TEXT NOT NULL, pseudo_id TEXT NOT NULL, practice TEXT NOT NULL,"
	" consent_date TEXT NOT NULL, status TEXT NOT NULL, care INTEGER NOT NULL,"
	" secondary INTEGER NOT NULL, file TEXT, line INTEGER, imported TEXT, actor TEXT,"
	" UNIQUE(cohort, pseudo_id, consent_date));"
	"CREATE TABLE IF NOT EXISTS cohort_register(row_id INTEGER PRIMARY KEY,"
	" cohort TEXT NOT NULL, pseudo_id TEXT NOT NULL, practice TEXT NOT NULL,"
	" join_date TEXT NOT NULL, leave_date TEXT, leave_reason TEXT, tariff_category TEXT,"
	" secondary_use INTEGER NOT NULL, opened_log INTEGER, closed_log INTEGER);"
	"CREATE INDEX IF NOT EXISTS cohort_register_person ON cohort_register(pseudo_id);"
	"CREATE TRIGGER IF NOT EXISTS cohort_register_no_delete BEFORE DELETE ON cohort_register"
	" BEGIN SELECT RAISE(ABORT, 'cohort_register is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS cohort_register_close_once BEFORE UPDATE ON cohort_register"
	" WHEN OLD.leave_date IS NOT NULL OR NEW.leave_date IS NULL"
	" OR NEW.row_id IS NOT OLD.row_id OR NEW.cohort IS NOT OLD.cohort"
	" OR NEW.pseudo_id IS NOT OLD.pseudo_id OR NEW.practice IS NOT OLD.practice"
	" OR NEW.join_date IS NOT OLD.join_date OR NEW.tariff_category IS NOT OLD.tariff_category"
	" OR NEW.secondary_use IS NOT OLD.secondary_use OR NEW.opened_log IS NOT OLD.opened_log"
	" BEGIN SELECT RAISE(ABORT, 'a cohort_register row is closed once and never changed');"
	" END;"
	"CREATE TABLE IF NOT EXISTS cohort_log(log_id INTEGER PRIMARY KEY, at TEXT NOT NULL,"
	" cohort TEXT NOT NULL, pseudo_id TEXT, action TEXT NOT NULL, date TEXT, reason TEXT,"
	" register_row INTEGER, actor TEXT NOT NULL, detail TEXT);";

int yoc__cohort_exec(sqlite3 *db, const char *sql, struct yoc_error *e)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		return YOC_OK;
	int st = rc == SQLITE_NOMEM ? YOC_ENOMEM : YOC_EIO;
	yoc_error_set(e, st, sqlite3_db_filename(db, "main"), 0, 0, "catalog: %s",
		      msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return st;
}

int yoc_cohort_schema(sqlite3 *db, struct yoc_error *e)
{
	return yoc__cohort_exec(db, schema_sql, e);
}

int yoc_cohort_ready(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int found = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND"
			       " name = 'cohort_log'", -1, &st, NULL) == SQLITE_OK)
		found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

int yoc_cohort_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > YOC_COHORT_NAME_MAX)
		return 0;
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z')))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

void yoc_cohort_now(char *buf, size_t cap)
{
	const char *t = getenv("YOC_NOW");
	if (t && *t) {
		snprintf(buf, cap, "%s", t);
		return;
	}
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int32_t yoc_cohort_today(void)
{
	const char *t = getenv("YOC_TODAY");
	int32_t d;
	if (t && *t && yoc_date_parse(t, strlen(t), &d) == 0)
		return d;
	return yoc_date_today();
}

static int db_err(sqlite3 *db, struct yoc_error *e)
{
	int rc = sqlite3_errcode(db);
	return yoc_error_set(e, rc == SQLITE_NOMEM ? YOC_ENOMEM : YOC_EIO,
			     sqlite3_db_filename(db, "main"), 0, 0, "catalog: %s",
			     sqlite3_errmsg(db));
}

int yoc__cohort_log(sqlite3 *db, const char *cohort, const char *pseudo, const char *action,
		    int32_t date, const char *reason, int64_t register_row, const char *actor,
		    const char *detail, int64_t *log_id, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	char at[40], d[11];
	yoc_cohort_now(at, sizeof at);
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO cohort_log(at, cohort, pseudo_id, action, date, reason,"
			       " register_row, actor, detail) VALUES(?,?,?,?,?,?,?,?,?)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(db, e);
	sqlite3_bind_text(st, 1, at, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, cohort, -1, SQLITE_STATIC);
	if (pseudo)
		sqlite3_bind_text(st, 3, pseudo, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
	if (date != YOC_DATE_NONE) {
		yoc_date_format(date, d);
		sqlite3_bind_text(st, 5, d, 10, SQLITE_TRANSIENT);
	}
	if (reason)
		sqlite3_bind_text(st, 6, reason, -1, SQLITE_STATIC);
	if (register_row > 0)
		sqlite3_bind_int64(st, 7, register_row);
	sqlite3_bind_text(st, 8, actor, -1, SQLITE_STATIC);
	if (detail)
		sqlite3_bind_text(st, 9, detail, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? YOC_OK : db_err(db, e);
	sqlite3_finalize(st);
	if (rc == YOC_OK && log_id)
		*log_id = sqlite3_last_insert_rowid(db);
	return rc;
}

void yoc_cohort_def_free(struct yoc_cohort_def *d)
{
	if (!d)
		return;
	yoc_free(d->rule);
	yoc_free(d->description);
	yoc_free(d->service_model);
	d->rule = d->description = d->service_model = NULL;
}

static char *dup_text(const unsigned char *s)
{
	size_t n = s ? strlen((const char *)s) : 0;
	char *p = yoc_malloc(n + 1);
	if (p) {
		if (n)
			memcpy(p, s, n);
		p[n] = 0;
	}
	return p;
}

int yoc_cohort_def_get(sqlite3 *db, const char *name, int version, struct yoc_cohort_def *d,
		       struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc;
	memset(d, 0, sizeof *d);
	if (!yoc_cohort_ready(db))
		return yoc_error_set(e, YOC_ENOTFOUND, NULL, 0, 0,
				     "no cohort named '%s' (see yoc cohort list)", name);
	if (sqlite3_prepare_v2(db,
			       "SELECT name, version, rule, description, service_model, author,"
			       " created FROM cohort_def WHERE name = ?1 AND (?2 = 0 OR version = ?2)"
			       " ORDER BY version DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(db, e);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, version);
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		snprintf(d->name, sizeof d->name, "%s", (const char *)sqlite3_column_text(st, 0));
		d->version = sqlite3_column_int(st, 1);
		d->rule = dup_text(sqlite3_column_text(st, 2));
		d->description = dup_text(sqlite3_column_text(st, 3));
		d->service_model = dup_text(sqlite3_column_text(st, 4));
		snprintf(d->author, sizeof d->author, "%s", (const char *)sqlite3_column_text(st, 5));
		snprintf(d->created, sizeof d->created, "%s",
			 (const char *)sqlite3_column_text(st, 6));
		rc = d->rule && d->description && d->service_model
			? YOC_OK
			: yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	} else if (s == SQLITE_DONE) {
		rc = version ? yoc_error_set(e, YOC_ENOTFOUND, NULL, 0, 0,
					     "cohort '%s' has no version %d", name, version)
			     : yoc_error_set(e, YOC_ENOTFOUND, NULL, 0, 0,
					     "no cohort named '%s' (see yoc cohort list)", name);
	} else {
		rc = db_err(db, e);
	}
	sqlite3_finalize(st);
	if (rc)
		yoc_cohort_def_free(d);
	return rc;
}

int yoc_cohort_define(sqlite3 *db, const char *name, const char *rule, const char *description,
		      const char *service_model, const char *author, int *version,
		      struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc, v = 0;
	char created[40], detail[64];
	if (!yoc_cohort_name_ok(name))
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
				     "cohort name '%s': want 1-64 letters, digits, '_' or '-',"
				     " starting with a letter", name);
	if ((rc = yoc_cohort_schema(db, e)) || (rc = yoc__cohort_exec(db, "BEGIN IMMEDIATE", e)))
		return rc;
	if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM cohort_def WHERE name = ?",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_err(db, e);
		goto cleanup;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = db_err(db, e);
		goto cleanup;
	}
	v = sqlite3_column_int(st, 0) + 1;
	sqlite3_finalize(st);
	st = NULL;
	yoc_cohort_now(created, sizeof created);
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO cohort_def(name, version, rule, description,"
			       " service_model, author, created) VALUES(?,?,?,?,?,?,?)",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_err(db, e);
		goto cleanup;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, v);
	sqlite3_bind_text(st, 3, rule, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, description ? description : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, service_model ? service_model : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, author, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, created, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_err(db, e);
		goto cleanup;
	}
	snprintf(detail, sizeof detail, "version %d", v);
	if ((rc = yoc__cohort_log(db, name, NULL, "define", YOC_DATE_NONE, NULL, 0, author, detail,
				  NULL, e)))
		goto cleanup;
	rc = yoc__cohort_exec(db, "COMMIT", e);
cleanup:
	sqlite3_finalize(st);
	if (rc)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	else if (version)
		*version = v;
	return rc;
}

int yoc_cohort_names(sqlite3 *db, char ***names, size_t *n, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	char **a = NULL;
	size_t k = 0, cap = 0;
	int rc = YOC_OK;
	*names = NULL;
	*n = 0;
	if (!yoc_cohort_ready(db))
		return YOC_OK;
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT name FROM cohort_def ORDER BY name", -1, &st,
			       NULL) != SQLITE_OK)
		return db_err(db, e);
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			size_t nc = cap ? cap * 2 : 8;
			char **na = yoc_realloc(a, nc * sizeof *na);
			if (!na) {
				rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
				goto cleanup;
			}
			a = na;
			cap = nc;
		}
		if (!(a[k] = dup_text(sqlite3_column_text(st, 0)))) {
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			goto cleanup;
		}
		k++;
	}
	if (s != SQLITE_DONE)
		rc = db_err(db, e);
cleanup:
	sqlite3_finalize(st);
	if (rc) {
		yoc_cohort_names_free(a, k);
		return rc;
	}
	*names = a;
	*n = k;
	return YOC_OK;
}

void yoc_cohort_names_free(char **names, size_t n)
{
	for (size_t i = 0; names && i < n; i++)
		yoc_free(names[i]);
	yoc_free(names);
}

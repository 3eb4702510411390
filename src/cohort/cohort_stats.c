/*
** Figures of a cohort for the report: the review outcome by practice, and
** people and costs of a year for the cohort against everyone else. Raw
** counts and sums: the report applies disclosure control before publishing.
*/
#include <stdio.h>
#include <string.h>

#include "cohort/cohort.h"
#include "yoc/date.h"

static int db_err(sqlite3 *db, struct yoc_error *e)
{
	int rc = sqlite3_errcode(db);
	return yoc_error_set(e, rc == SQLITE_NOMEM ? YOC_ENOMEM : YOC_EIO,
			     sqlite3_db_filename(db, "main"), 0, 0, "catalog: %s",
			     sqlite3_errmsg(db));
}

#define LATEST_DECISION                                                                     \
	"(SELECT r.* FROM cohort_review r WHERE r.cohort = ?1 AND r.review_id = (SELECT"     \
	" r2.review_id FROM cohort_review r2 WHERE r2.cohort = ?1 AND r2.pseudo_id ="        \
	" r.pseudo_id AND r2.decision <> 'discharge' ORDER BY r2.review_date DESC,"          \
	" r2.review_id DESC LIMIT 1))"

static const char prac_sql[] =
	"SELECT practice, 0, count(*) FROM cohort_candidate WHERE selection_id = (SELECT"
	" max(selection_id) FROM cohort_selection WHERE cohort = ?1) AND practice IS NOT NULL"
	" GROUP BY practice"
	" UNION ALL SELECT practice, 1, sum(decision = 'include') FROM " LATEST_DECISION
	" GROUP BY practice"
	" UNION ALL SELECT practice, 2, sum(decision = 'exclude') FROM " LATEST_DECISION
	" GROUP BY practice"
	" UNION ALL SELECT practice, 3, sum(decision = 'defer') FROM " LATEST_DECISION
	" GROUP BY practice"
	" UNION ALL SELECT practice, 4, sum(decision = 'add') FROM " LATEST_DECISION
	" GROUP BY practice"
	" UNION ALL SELECT practice, 5, count(DISTINCT pseudo_id) FROM cohort_consent WHERE"
	" cohort = ?1 AND status = 'given' AND care = 1 GROUP BY practice"
	" UNION ALL SELECT practice, 6, count(*) FROM cohort_register WHERE cohort = ?1 AND"
	" leave_date IS NULL GROUP BY practice"
	" ORDER BY 1";

int yoc_cohort_practices(sqlite3 *db, const char *cohort, struct yoc_cohort_prac **out,
			 size_t *n, struct yoc_error *e)
{
	sqlite3_stmt *q = NULL;
	struct yoc_cohort_prac *a = NULL;
	size_t k = 0, cap = 0;
	int rc = YOC_OK, s;
	*out = NULL;
	*n = 0;
	if (!yoc_cohort_ready(db))
		return YOC_OK;
	if (sqlite3_prepare_v2(db, prac_sql, -1, &q, NULL) != SQLITE_OK)
		return db_err(db, e);
	sqlite3_bind_text(q, 1, cohort, -1, SQLITE_STATIC);
	while ((s = sqlite3_step(q)) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(q, 0);
		if (!p)
			continue;
		if (!k || strcmp(a[k - 1].practice, p) != 0) {
			if (k == cap) {
				size_t nc = cap ? cap * 2 : 32;
				struct yoc_cohort_prac *na = yoc_realloc(a, nc * sizeof *na);
				if (!na) {
					rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
					goto cleanup;
				}
				a = na;
				cap = nc;
			}
			memset(&a[k], 0, sizeof a[k]);
			snprintf(a[k].practice, sizeof a[k].practice, "%s", p);
			k++;
		}
		struct yoc_cohort_prac *x = &a[k - 1];
		int64_t v = sqlite3_column_int64(q, 2);
		switch (sqlite3_column_int(q, 1)) {
		case 0: x->candidates = v; break;
		case 1: x->include = v; break;
		case 2: x->exclude = v; break;
		case 3: x->defer = v; break;
		case 4: x->add = v; break;
		case 5: x->consented = v; break;
		default: x->current = v; break;
		}
	}
	if (s != SQLITE_DONE)
		rc = db_err(db, e);
cleanup:
	sqlite3_finalize(q);
	if (rc) {
		yoc_free(a);
		return rc;
	}
	*out = a;
	*n = k;
	return YOC_OK;
}

int yoc_cohort_year_sums(sqlite3 *db, const char *cohort, const char *fyear,
			 const char *const *cols, int ncols, int64_t people[3], int64_t *sums,
			 struct yoc_error *e)
{
	sqlite3_stmt *q = NULL;
	struct yoc_buf sql;
	int fy, rc = YOC_OK;
	memset(people, 0, 3 * sizeof *people);
	memset(sums, 0, 3 * (size_t)ncols * sizeof *sums);
	if (!yoc_cohort_ready(db))
		return YOC_OK;
	if (yoc_fyear_parse(fyear, strlen(fyear), &fy))
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0, "'%s' is not a financial year", fyear);
	char y0[11], y1[11];
	yoc_date_format(yoc_fyear_start(fy), y0);
	yoc_date_format(yoc_fyear_end(fy), y1);
	yoc_buf_init(&sql, 1 << 16);
	yoc_buf_puts(&sql, "SELECT CASE WHEN m.pseudo_id IS NULL THEN 2 WHEN m.sec THEN 0 ELSE 1"
			   " END AS g, count(*)");
	for (int k = 0; k < ncols; k++)
		yoc_buf_printf(&sql, ", coalesce(sum(py.\"%s\"), 0)", cols[k]);
	yoc_buf_puts(&sql, " FROM person_year py LEFT JOIN (SELECT pseudo_id, max(secondary_use)"
			   " AS sec FROM cohort_register WHERE cohort = ?1 AND join_date <= ?3 AND"
			   " (leave_date IS NULL OR leave_date >= ?2) GROUP BY pseudo_id) m ON"
			   " m.pseudo_id = py.pseudo_id WHERE py.fyear = ?4 GROUP BY g");
	if (yoc_buf_putc(&sql, 0)) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	if (sqlite3_prepare_v2(db, sql.data, -1, &q, NULL) != SQLITE_OK) {
		rc = db_err(db, e);
		goto cleanup;
	}
	sqlite3_bind_text(q, 1, cohort, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, y0, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 3, y1, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 4, fyear, -1, SQLITE_STATIC);
	int s;
	while ((s = sqlite3_step(q)) == SQLITE_ROW) {
		int g = sqlite3_column_int(q, 0);
		people[g] = sqlite3_column_int64(q, 1);
		for (int k = 0; k < ncols; k++)
			sums[g * ncols + k] = sqlite3_column_int64(q, 2 + k);
	}
	if (s != SQLITE_DONE)
		rc = db_err(db, e);
cleanup:
	sqlite3_finalize(q);
	yoc_buf_free(&sql);
	return rc;
}

/*
** A selection: the people a cohort's rule picked in a year, stored with the
** reasons and what a reviewer needs to see (cohort_candidate), and the
** review worklists written from it, one per practice. Worklists carry
** pseudonyms only: age in bands, conditions by name, risk as a percentile,
** activity and cost of the year; never an NHS number, date of birth, name
** or postcode. The rule itself is evaluated by the caller.
*/
#include <stdio.h>
#include <string.h>

#include "cohort/cohort.h"
#include "yoc/csv.h"
#include "yoc/date.h"
#include "yoc/io.h"

void yoc_cohort_pick_free(struct yoc_cohort_pick *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nsel; i++) {
		if (p->pseudo)
			yoc_free(p->pseudo[i]);
		if (p->reasons)
			yoc_free(p->reasons[i]);
	}
	yoc_free(p->pseudo);
	yoc_free(p->reasons);
	memset(p, 0, sizeof *p);
}

static int db_err(sqlite3 *db, struct yoc_error *e)
{
	int rc = sqlite3_errcode(db);
	return yoc_error_set(e, rc == SQLITE_NOMEM ? YOC_ENOMEM : YOC_EIO,
			     sqlite3_db_filename(db, "main"), 0, 0, "catalog: %s",
			     sqlite3_errmsg(db));
}

static int table_exists(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = NULL;
	int found = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", -1,
			       &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return found;
}

/*
** The condition columns of person_year (between imd_decile and ltc_count, as
** analyse writes them) as a SQL expression listing the names of the ones
** set: "rtrim(CASE WHEN \"copd\" = 1 THEN 'copd ' ELSE '' END || ...)".
*/
static int ltc_expr(sqlite3 *db, struct yoc_buf *b, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int on = 0, n = 0, rc = YOC_OK;
	if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info('person_year') ORDER BY cid",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(db, e);
	yoc_buf_puts(b, "rtrim(''");
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(st, 0);
		if (strcmp(c, "ltc_count") == 0)
			break;
		if (on && strspn(c, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(c)) {
			yoc_buf_printf(b, " || CASE WHEN py.\"%s\" = 1 THEN '%s ' ELSE '' END", c, c);
			n++;
		}
		if (strcmp(c, "imd_decile") == 0)
			on = 1;
	}
	sqlite3_finalize(st);
	if (yoc_buf_puts(b, ")"))
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	(void)n;
	return rc;
}

int yoc_cohort_select_store(sqlite3 *db, const struct yoc_cohort_def *d, int fyear,
			    const char *month, const struct yoc_cohort_pick *pick,
			    const char *author, struct yoc_cohort_sel_stats *st,
			    struct yoc_error *e)
{
	sqlite3_stmt *q = NULL;
	struct yoc_buf sql;
	char fy[8], created[40], detail[160];
	int rc, in_tx = 0;
	int64_t sid = 0;
	yoc_buf_init(&sql, 1 << 20);
	memset(st, 0, sizeof *st);
	yoc_fyear_format(fyear, fy);
	if ((rc = yoc_cohort_schema(db, e)))
		goto cleanup;
	if ((rc = yoc__cohort_exec(db, "BEGIN IMMEDIATE", e)))
		goto cleanup;
	in_tx = 1;
	yoc_cohort_now(created, sizeof created);
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO cohort_selection(cohort, version, fyear, month, population,"
			       " selected, author, created) VALUES(?,?,?,?,?,?,?,?)",
			       -1, &q, NULL) != SQLITE_OK) {
		rc = db_err(db, e);
		goto cleanup;
	}
	sqlite3_bind_text(q, 1, d->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 2, d->version);
	sqlite3_bind_text(q, 3, fy, -1, SQLITE_STATIC);
	if (month && *month)
		sqlite3_bind_text(q, 4, month, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 5, (int64_t)pick->n);
	sqlite3_bind_int64(q, 6, (int64_t)pick->nsel);
	sqlite3_bind_text(q, 7, author, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 8, created, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) != SQLITE_DONE) {
		rc = db_err(db, e);
		goto cleanup;
	}
	sqlite3_finalize(q);
	q = NULL;
	sid = sqlite3_last_insert_rowid(db);
	if ((rc = yoc__cohort_exec(db,
				   "CREATE TEMP TABLE IF NOT EXISTS cohort_pick(pseudo_id TEXT PRIMARY"
				   " KEY, reasons TEXT); DELETE FROM temp.cohort_pick;",
				   e)))
		goto cleanup;
	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO temp.cohort_pick VALUES(?,?)", -1, &q,
			       NULL) != SQLITE_OK) {
		rc = db_err(db, e);
		goto cleanup;
	}
	for (size_t i = 0; i < pick->nsel; i++) {
		sqlite3_bind_text(q, 1, pick->pseudo[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, pick->reasons ? pick->reasons[i] : "", -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_DONE) {
			rc = db_err(db, e);
			goto cleanup;
		}
		sqlite3_reset(q);
	}
	sqlite3_finalize(q);
	q = NULL;
	int risk = table_exists(db, "risk_score");
	yoc_buf_printf(&sql,
		       "INSERT INTO cohort_candidate(selection_id, cohort, pseudo_id, practice,"
		       " reasons, age_band, ltcs, ltc_count, risk_percentile, risk_tier,"
		       " emergency_admissions, cost_total) SELECT %lld, ?1, k.pseudo_id, py.practice,"
		       " k.reasons, CASE WHEN py.age IS NULL THEN 'unknown' WHEN py.age < 18 THEN"
		       " '0-17' WHEN py.age < 45 THEN '18-44' WHEN py.age < 65 THEN '45-64' WHEN"
		       " py.age < 75 THEN '65-74' WHEN py.age < 85 THEN '75-84' ELSE '85+' END, ",
		       (long long)sid);
	if ((rc = ltc_expr(db, &sql, e)))
		goto cleanup;
	yoc_buf_printf(&sql, ", py.ltc_count, %s, %s, py.emergency_admissions, py.cost_total"
			     " FROM temp.cohort_pick k JOIN person_year py ON py.pseudo_id ="
			     " k.pseudo_id AND py.fyear = ?2",
		       risk ? "rs.percentile" : "NULL", risk ? "rs.tier" : "NULL");
	if (risk)
		yoc_buf_puts(&sql, " LEFT JOIN risk_score rs ON rs.pseudo_id = k.pseudo_id AND"
				   " rs.fyear = ?2");
	if (yoc_buf_putc(&sql, 0)) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	if (sqlite3_prepare_v2(db, sql.data, -1, &q, NULL) != SQLITE_OK) {
		rc = db_err(db, e);
		goto cleanup;
	}
	sqlite3_bind_text(q, 1, d->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, fy, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE) {
		rc = db_err(db, e);
		goto cleanup;
	}
	sqlite3_finalize(q);
	q = NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT count(*), count(DISTINCT practice) FROM cohort_candidate WHERE"
			       " selection_id = ?",
			       -1, &q, NULL) != SQLITE_OK) {
		rc = db_err(db, e);
		goto cleanup;
	}
	sqlite3_bind_int64(q, 1, sid);
	if (sqlite3_step(q) != SQLITE_ROW) {
		rc = db_err(db, e);
		goto cleanup;
	}
	st->selected = (size_t)sqlite3_column_int64(q, 0);
	st->practices = (size_t)sqlite3_column_int64(q, 1);
	sqlite3_finalize(q);
	q = NULL;
	if (st->selected != pick->nsel) {
		rc = yoc_error_set(e, YOC_EDATA, NULL, 0, 0,
				   "%zu of %zu people picked have no person_year row in %s",
				   pick->nsel - st->selected, pick->nsel, fy);
		goto cleanup;
	}
	st->selection_id = sid;
	st->population = pick->n;
	snprintf(detail, sizeof detail, "selection %lld: version %d, %s, %zu of %zu",
		 (long long)sid, d->version, fy, st->selected, st->population);
	if ((rc = yoc__cohort_log(db, d->name, NULL, "select", YOC_DATE_NONE, NULL, 0, author,
				  detail, NULL, e)))
		goto cleanup;
	rc = yoc__cohort_exec(db, "COMMIT", e);
	in_tx = 0;
cleanup:
	sqlite3_finalize(q);
	if (in_tx)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	yoc_buf_free(&sql);
	return rc;
}

/* ---- worklists ---------------------------------------------------------------------- */

static void html_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static const char css[] =
	"<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;"
	"font-size:0.85em}th,td{border:1px solid #999;padding:3px 6px;text-align:left}"
	"td.n{text-align:right}.id{font-family:monospace;font-size:0.8em}"
	"@media print{body{margin:0}}</style>";

struct wl {
	struct yoc_afile csv, html;
	struct yoc_csvw w;
	char practice[16];
	size_t rows;
};

static int wl_open(struct wl *x, const char *dir, const char *practice, const char *cohort,
		   const char *fy, struct yoc_error *e)
{
	char p[4200];
	int rc;
	snprintf(x->practice, sizeof x->practice, "%s", practice);
	x->rows = 0;
	snprintf(p, sizeof p, "%s/%s.csv", dir, practice);
	if ((rc = yoc_afile_open(&x->csv, p, e)))
		return rc;
	snprintf(p, sizeof p, "%s/%s.html", dir, practice);
	if ((rc = yoc_afile_open(&x->html, p, e))) {
		yoc_afile_abort(&x->csv);
		return rc;
	}
	yoc_csvw_init(&x->w, x->csv.f, ',');
	static const char *const hdr[] = {"pseudo_id", "practice", "age_band", "ltc_count",
					  "ltcs", "risk_percentile", "risk_tier",
					  "emergency_admissions", "cost", "selected_because",
					  "decision", "reason", "reason_text", "reviewer_role",
					  "review_date", NULL};
	for (int i = 0; hdr[i]; i++)
		yoc_csvw_str(&x->w, hdr[i]);
	yoc_csvw_end(&x->w);
	FILE *f = x->html.f;
	fputs("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>", f);
	html_text(f, cohort);
	fputs(" review worklist ", f);
	html_text(f, practice);
	fprintf(f, "</title>%s</head><body><h1>", css);
	html_text(f, cohort);
	fputs(": review worklist for practice ", f);
	html_text(f, practice);
	fputs("</h1><p>People the cohort's rule selected from ", f);
	html_text(f, fy);
	fputs(" data, for review by a care practitioner before referral. Pseudonyms only:"
	      " the practice turns them back into NHS numbers with the key holder's"
	      " <code>yoc reidentify</code>. Record each decision (include, exclude with a reason,"
	      " defer) in the CSV beside this page and return it for <code>yoc cohort"
	      " review</code>.</p><table><tr><th>Pseudonym</th><th>Age</th><th>LTCs</th>"
	      "<th>Conditions</th><th>Risk percentile</th><th>Emergency admissions</th>"
	      "<th>Cost</th><th>Selected because</th><th>Decision</th></tr>\n", f);
	return YOC_OK;
}

static int wl_close(struct wl *x, struct yoc_error *e)
{
	fputs("</table></body></html>\n", x->html.f);
	int rc = yoc_csvw_status(&x->w) ? yoc_error_set(e, YOC_EIO, x->csv.path, 0, 0,
							 "write failed")
					: YOC_OK;
	if (rc == YOC_OK)
		rc = yoc_afile_commit(&x->csv, e);
	else
		yoc_afile_abort(&x->csv);
	if (rc == YOC_OK)
		rc = yoc_afile_commit(&x->html, e);
	else
		yoc_afile_abort(&x->html);
	return rc;
}

int yoc_cohort_worklists(sqlite3 *db, const char *cohort, const char *dir, size_t *npractices,
			 struct yoc_error *e)
{
	sqlite3_stmt *q = NULL;
	struct wl x;
	int open = 0, rc = YOC_OK;
	struct yoc_afile idx = {0};
	int idx_open = 0;
	char fy[16] = "";
	*npractices = 0;
	if (!yoc_cohort_ready(db))
		return yoc_error_set(e, YOC_ENOTFOUND, NULL, 0, 0, "no cohort named '%s'", cohort);
	if (sqlite3_prepare_v2(db,
			       "SELECT c.pseudo_id, coalesce(c.practice, ''), c.age_band, c.ltc_count,"
			       " c.ltcs, c.risk_percentile, coalesce(c.risk_tier, ''),"
			       " c.emergency_admissions, c.cost_total, c.reasons, s.fyear"
			       " FROM cohort_candidate c JOIN cohort_selection s USING(selection_id)"
			       " WHERE c.selection_id = (SELECT max(selection_id) FROM"
			       " cohort_selection WHERE cohort = ?1) AND c.practice IS NOT NULL"
			       " ORDER BY c.practice, c.risk_percentile DESC, c.pseudo_id",
			       -1, &q, NULL) != SQLITE_OK)
		return db_err(db, e);
	sqlite3_bind_text(q, 1, cohort, -1, SQLITE_STATIC);
	char p[4200];
	snprintf(p, sizeof p, "%s/index.html", dir);
	if ((rc = yoc_afile_open(&idx, p, e)))
		goto cleanup;
	idx_open = 1;
	fprintf(idx.f, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
		       "<title>Review worklists</title>%s</head><body><h1>Review worklists: ", css);
	html_text(idx.f, cohort);
	fputs("</h1><table><tr><th>Practice</th><th>People</th><th>Files</th></tr>\n", idx.f);
	int s;
	while ((s = sqlite3_step(q)) == SQLITE_ROW) {
		const char *prac = (const char *)sqlite3_column_text(q, 1);
		if (!fy[0])
			snprintf(fy, sizeof fy, "%s", (const char *)sqlite3_column_text(q, 10));
		if (!open || strcmp(prac, x.practice) != 0) {
			if (open) {
				fprintf(idx.f, "<tr><td>%s</td><td class=\"n\">%zu</td><td><a href=\"%s.html\">"
					       "page</a> <a href=\"%s.csv\">CSV</a></td></tr>\n",
					x.practice, x.rows, x.practice, x.practice);
				open = 0;
				if ((rc = wl_close(&x, e)))
					goto cleanup;
			}
			/* practice codes were validated as ODS codes on load: safe as file names */
			if (strspn(prac, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != strlen(prac)) {
				continue;
			}
			if ((rc = wl_open(&x, dir, prac, cohort, fy, e)))
				goto cleanup;
			open = 1;
			(*npractices)++;
		}
		const char *pid = (const char *)sqlite3_column_text(q, 0);
		const char *band = (const char *)sqlite3_column_text(q, 2);
		const char *ltcs = (const char *)sqlite3_column_text(q, 4);
		const char *tier = (const char *)sqlite3_column_text(q, 6);
		const char *why = (const char *)sqlite3_column_text(q, 9);
		char pct[32] = "";
		if (sqlite3_column_type(q, 5) != SQLITE_NULL)
			snprintf(pct, sizeof pct, "%.1f", sqlite3_column_double(q, 5));
		int64_t nltc = sqlite3_column_int64(q, 3), adm = sqlite3_column_int64(q, 7);
		int64_t cost = sqlite3_column_int64(q, 8);
		yoc_csvw_str(&x.w, pid);
		yoc_csvw_str(&x.w, prac);
		yoc_csvw_str(&x.w, band);
		yoc_csvw_int(&x.w, nltc);
		yoc_csvw_str(&x.w, ltcs ? ltcs : "");
		yoc_csvw_str(&x.w, pct);
		yoc_csvw_str(&x.w, tier ? tier : "");
		yoc_csvw_int(&x.w, adm);
		yoc_csvw_pence(&x.w, cost);
		yoc_csvw_str(&x.w, why ? why : "");
		for (int k = 0; k < 5; k++)
			yoc_csvw_str(&x.w, "");
		yoc_csvw_end(&x.w);
		FILE *f = x.html.f;
		fputs("<tr><td class=\"id\">", f);
		html_text(f, pid);
		fputs("</td><td>", f);
		html_text(f, band);
		fprintf(f, "</td><td class=\"n\">%lld</td><td>", (long long)nltc);
		html_text(f, ltcs);
		fprintf(f, "</td><td class=\"n\">%s</td><td class=\"n\">%lld</td>"
			   "<td class=\"n\">&pound;%lld</td><td>",
			pct, (long long)adm, (long long)((cost + 50) / 100));
		html_text(f, why);
		fputs("</td><td></td></tr>\n", f);
		x.rows++;
	}
	if (s != SQLITE_DONE) {
		rc = db_err(db, e);
		goto cleanup;
	}
	if (open) {
		fprintf(idx.f, "<tr><td>%s</td><td class=\"n\">%zu</td><td><a href=\"%s.html\">"
			       "page</a> <a href=\"%s.csv\">CSV</a></td></tr>\n",
			x.practice, x.rows, x.practice, x.practice);
		open = 0;
		if ((rc = wl_close(&x, e)))
			goto cleanup;
	}
	fputs("</table></body></html>\n", idx.f);
	idx_open = 0;
	rc = yoc_afile_commit(&idx, e);
cleanup:
	sqlite3_finalize(q);
	if (open) {
		yoc_afile_abort(&x.csv);
		yoc_afile_abort(&x.html);
	}
	if (idx_open)
		yoc_afile_abort(&idx);
	return rc;
}

/*
** The cohort register: who is in a cohort, from when to when, and why they
** left. Rows are only ever inserted (joining) and closed once (leaving):
** the catalog's triggers refuse anything else, so the register on any past
** date is the rows with join_date <= D and no leave_date or leave_date >= D
** (leave_date is the last day of membership). Enrolment follows review and
** consent; refresh ends memberships from the deaths feed and the GP
** register. Every change is logged in cohort_log with its cause.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

static int32_t col_date(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);
	int32_t d;
	if (!t || yoc_date_parse((const char *)t, strlen((const char *)t), &d))
		return YOC_DATE_NONE;
	return d;
}

static void bind_date(sqlite3_stmt *q, int i, int32_t d)
{
	char b[11];
	if (d == YOC_DATE_NONE) {
		sqlite3_bind_null(q, i);
		return;
	}
	yoc_date_format(d, b);
	sqlite3_bind_text(q, i, b, 10, SQLITE_TRANSIENT);
}

int yoc__cohort_close(sqlite3 *db, const char *cohort, int64_t row_id, const char *pseudo,
		      int32_t leave, const char *reason, const char *actor, const char *detail,
		      struct yoc_error *e)
{
	sqlite3_stmt *q = NULL;
	int64_t log_id = 0;
	int rc = yoc__cohort_log(db, cohort, pseudo, "leave", leave, reason, row_id, actor, detail,
				 &log_id, e);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(db,
			       "UPDATE cohort_register SET leave_date = ?, leave_reason = ?,"
			       " closed_log = ? WHERE row_id = ? AND leave_date IS NULL",
			       -1, &q, NULL) != SQLITE_OK)
		return db_err(db, e);
	bind_date(q, 1, leave);
	sqlite3_bind_text(q, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, log_id);
	sqlite3_bind_int64(q, 4, row_id);
	rc = sqlite3_step(q) == SQLITE_DONE ? YOC_OK : db_err(db, e);
	if (rc == YOC_OK && sqlite3_changes(db) != 1)
		rc = yoc_error_set(e, YOC_EINTERNAL, NULL, 0, 0, "register row %lld is not open",
				   (long long)row_id);
	sqlite3_finalize(q);
	return rc;
}

int yoc__cohort_open_row(sqlite3 *db, const char *cohort, const char *pseudo, int64_t *row_id,
			 char *practice, size_t cap, struct yoc_error *e)
{
	sqlite3_stmt *q = NULL;
	*row_id = 0;
	if (practice && cap)
		practice[0] = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT row_id, practice FROM cohort_register WHERE cohort = ? AND"
			       " pseudo_id = ? AND leave_date IS NULL",
			       -1, &q, NULL) != SQLITE_OK)
		return db_err(db, e);
	sqlite3_bind_text(q, 1, cohort, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, pseudo, -1, SQLITE_STATIC);
	int s = sqlite3_step(q);
	if (s == SQLITE_ROW) {
		*row_id = sqlite3_column_int64(q, 0);
		if (practice)
			snprintf(practice, cap, "%s", (const char *)sqlite3_column_text(q, 1));
	}
	int rc = s == SQLITE_ROW || s == SQLITE_DONE ? YOC_OK : db_err(db, e);
	sqlite3_finalize(q);
	return rc;
}

/* ---- enrolment ---------------------------------------------------------------- */

static const char elig_sql[] =
	"WITH lr AS (SELECT r.pseudo_id, r.practice, r.decision, r.review_date FROM cohort_review r"
	"  WHERE r.cohort = ?1 AND r.review_id = (SELECT r2.review_id FROM cohort_review r2"
	"  WHERE r2.cohort = ?1 AND r2.pseudo_id = r.pseudo_id"
	"  ORDER BY r2.review_date DESC, r2.review_id DESC LIMIT 1)),"
	" lc AS (SELECT c.pseudo_id, c.consent_date, c.status, c.care, c.secondary"
	"  FROM cohort_consent c WHERE c.cohort = ?1 AND c.consent_id = (SELECT c2.consent_id"
	"  FROM cohort_consent c2 WHERE c2.cohort = ?1 AND c2.pseudo_id = c.pseudo_id"
	"  ORDER BY c2.consent_date DESC, c2.consent_id DESC LIMIT 1))"
	" SELECT lr.pseudo_id, lr.practice, max(lr.review_date, lc.consent_date), lc.secondary,"
	"  (SELECT count(*) FROM cohort_register g WHERE g.cohort = ?1 AND"
	"   g.pseudo_id = lr.pseudo_id AND (g.leave_date IS NULL OR"
	"   g.join_date >= max(lr.review_date, lc.consent_date))),"
	"  p.date_of_death"
	" FROM lr JOIN lc USING(pseudo_id) LEFT JOIN person p ON p.pseudo_id = lr.pseudo_id"
	" WHERE lr.decision IN ('include', 'add') AND lc.status = 'given' AND lc.care = 1"
	" ORDER BY lr.pseudo_id";

struct elig {
	char pseudo[72];
	char practice[16];
	int32_t join;
	int secondary;
	char tariff[16];
};

int yoc_cohort_enrol(sqlite3 *db, const char *cohort, int32_t on, const char *actor,
		     struct yoc_cohort_enrol_stats *st, struct yoc_error *e)
{
	sqlite3_stmt *q = NULL, *ins = NULL, *other = NULL;
	struct elig *a = NULL;
	size_t n = 0, cap = 0;
	int rc, in_tx = 0;
	memset(st, 0, sizeof *st);
	if ((rc = yoc_cohort_schema(db, e)))
		return rc;
	if ((rc = yoc__cohort_exec(db, "BEGIN IMMEDIATE", e)))
		return rc;
	in_tx = 1;
	if (sqlite3_prepare_v2(db, elig_sql, -1, &q, NULL) != SQLITE_OK) {
		rc = db_err(db, e);
		goto cleanup;
	}
	sqlite3_bind_text(q, 1, cohort, -1, SQLITE_STATIC);
	int s;
	while ((s = sqlite3_step(q)) == SQLITE_ROW) {
		st->eligible++;
		if (sqlite3_column_int64(q, 4) > 0) {
			st->already++;
			continue;
		}
		int32_t join = col_date(q, 2);
		if (on != YOC_DATE_NONE && on > join)
			join = on;
		int32_t dod = col_date(q, 5);
		if (dod != YOC_DATE_NONE && dod < join)
			continue; /* died before they could join */
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 256;
			struct elig *na = yoc_realloc(a, nc * sizeof *na);
			if (!na) {
				rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
				goto cleanup;
			}
			a = na;
			cap = nc;
		}
		struct elig *x = &a[n++];
		memset(x, 0, sizeof *x);
		snprintf(x->pseudo, sizeof x->pseudo, "%s", (const char *)sqlite3_column_text(q, 0));
		snprintf(x->practice, sizeof x->practice, "%s",
			 (const char *)sqlite3_column_text(q, 1));
		x->join = join;
		x->secondary = sqlite3_column_int(q, 3);
	}
	if (s != SQLITE_DONE) {
		rc = db_err(db, e);
		goto cleanup;
	}
	sqlite3_finalize(q);
	q = NULL;
	/* tariff category: the band of the year of joining, or the latest year before */
	if ((rc = yoc__cohort_exec(db,
				   "CREATE TEMP TABLE IF NOT EXISTS cohort_elig(pseudo_id TEXT PRIMARY"
				   " KEY, fyear TEXT); DELETE FROM temp.cohort_elig;",
				   e)))
		goto cleanup;
	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO temp.cohort_elig VALUES(?,?)", -1, &q,
			       NULL) != SQLITE_OK) {
		rc = db_err(db, e);
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		char fy[8];
		yoc_fyear_format(yoc_fyear_of(a[i].join), fy);
		sqlite3_bind_text(q, 1, a[i].pseudo, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, fy, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(q) != SQLITE_DONE) {
			rc = db_err(db, e);
			goto cleanup;
		}
		sqlite3_reset(q);
	}
	sqlite3_finalize(q);
	q = NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT py.pseudo_id, py.band FROM person_year py JOIN temp.cohort_elig"
			       " k ON k.pseudo_id = py.pseudo_id AND py.fyear <= k.fyear"
			       " ORDER BY py.pseudo_id, py.fyear",
			       -1, &q, NULL) == SQLITE_OK) {
		size_t j = 0;
		while (sqlite3_step(q) == SQLITE_ROW) {
			const char *pid = (const char *)sqlite3_column_text(q, 0);
			while (j < n && strcmp(a[j].pseudo, pid) < 0)
				j++;
			if (j < n && strcmp(a[j].pseudo, pid) == 0 && sqlite3_column_text(q, 1))
				snprintf(a[j].tariff, sizeof a[j].tariff, "%s",
					 (const char *)sqlite3_column_text(q, 1));
		}
	}
	sqlite3_finalize(q);
	q = NULL;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO cohort_register(cohort, pseudo_id, practice, join_date,"
			       " tariff_category, secondary_use, opened_log) VALUES(?,?,?,?,?,?,?)",
			       -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT row_id, cohort FROM cohort_register WHERE pseudo_id = ? AND"
			       " cohort <> ? AND leave_date IS NULL",
			       -1, &other, NULL) != SQLITE_OK) {
		rc = db_err(db, e);
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		struct elig *x = &a[i];
		/* one cohort at a time: an open membership elsewhere ends the day before */
		sqlite3_bind_text(other, 1, x->pseudo, -1, SQLITE_STATIC);
		sqlite3_bind_text(other, 2, cohort, -1, SQLITE_STATIC);
		while ((s = sqlite3_step(other)) == SQLITE_ROW) {
			int64_t rid = sqlite3_column_int64(other, 0);
			char oc[YOC_COHORT_NAME_MAX + 1], det[128];
			snprintf(oc, sizeof oc, "%s", (const char *)sqlite3_column_text(other, 1));
			snprintf(det, sizeof det, "joined cohort %s", cohort);
			sqlite3_reset(other);
			if ((rc = yoc__cohort_close(db, oc, rid, x->pseudo, x->join - 1,
						    "moved_to_another_cohort", actor, det, e)))
				goto cleanup;
			st->moved++;
			sqlite3_bind_text(other, 1, x->pseudo, -1, SQLITE_STATIC);
			sqlite3_bind_text(other, 2, cohort, -1, SQLITE_STATIC);
		}
		sqlite3_reset(other);
		if (s != SQLITE_DONE && s != SQLITE_ROW) {
			rc = db_err(db, e);
			goto cleanup;
		}
		int64_t log_id;
		char det[96];
		snprintf(det, sizeof det, "reviewed and consented%s",
			 x->secondary ? " (care and secondary use)" : " (care only)");
		if ((rc = yoc__cohort_log(db, cohort, x->pseudo, "join", x->join, NULL, 0, actor, det,
					  &log_id, e)))
			goto cleanup;
		sqlite3_bind_text(ins, 1, cohort, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, x->pseudo, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, x->practice, -1, SQLITE_STATIC);
		bind_date(ins, 4, x->join);
		if (x->tariff[0])
			sqlite3_bind_text(ins, 5, x->tariff, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(ins, 5);
		sqlite3_bind_int(ins, 6, x->secondary);
		sqlite3_bind_int64(ins, 7, log_id);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			rc = db_err(db, e);
			goto cleanup;
		}
		sqlite3_reset(ins);
		/* the log row names the register row it opened */
		char upd[128];
		snprintf(upd, sizeof upd, "UPDATE cohort_log SET register_row = %lld WHERE log_id = %lld",
			 (long long)sqlite3_last_insert_rowid(db), (long long)log_id);
		if ((rc = yoc__cohort_exec(db, upd, e)))
			goto cleanup;
		st->joined++;
	}
	if ((rc = yoc__cohort_exec(db, "COMMIT", e)))
		goto cleanup;
	in_tx = 0;
cleanup:
	sqlite3_finalize(q);
	sqlite3_finalize(ins);
	sqlite3_finalize(other);
	if (in_tx)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	yoc_free(a);
	return rc;
}

/* ---- refresh -------------------------------------------------------------------------- */

struct member {
	int64_t row_id;
	char cohort[YOC_COHORT_NAME_MAX + 1];
	char pseudo[72];
	char practice[16];
	int32_t join;
	int32_t person;       /* person index or -1 */
};

struct reg {
	uint32_t member;
	char practice[16];
	int32_t start, end;   /* end YOC_DATE_NONE: open in its snapshot */
};

static int reg_cmp(const void *a, const void *b)
{
	const struct reg *x = a, *y = b;
	if (x->member != y->member)
		return x->member < y->member ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return strcmp(x->practice, y->practice);
}

static int collect_regs(yoc_store *s, const int32_t *who, struct reg **out, size_t *nout,
			struct yoc_error *e)
{
	struct yoc_file_info *fi = NULL;
	size_t nf = 0, n = 0, cap = 0;
	struct reg *a = NULL;
	int rc = yoc_store_files(s, YOC_KIND_GP_REGISTER, 0, &fi, &nf, e);
	if (rc)
		return rc;
	for (size_t i = 0; i < nf && !rc; i++) {
		yoc_seg *g = NULL;
		if ((rc = yoc_seg_open(s, fi[i].file_id, &g, e)))
			break;
		int cprac = yoc_seg_col(g, "GPPRAC"), crs = yoc_seg_col(g, "REG_START");
		int cre = yoc_seg_col(g, "REG_END");
		for (size_t r = 0; r < yoc_seg_nrows(g); r++) {
			int32_t p = yoc_seg_person(g, r);
			if (p < 0 || who[p] < 0)
				continue;
			int32_t rs = yoc_seg_date(g, crs, r);
			if (rs <= YOC_DATE_HES_INVALID)
				continue;
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 1024;
				struct reg *na = yoc_realloc(a, nc * sizeof *na);
				if (!na) {
					rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
					break;
				}
				a = na;
				cap = nc;
			}
			struct reg *x = &a[n++];
			x->member = (uint32_t)who[p];
			struct yoc_cell c = yoc_seg_text(g, cprac, r);
			size_t k = c.n < sizeof x->practice - 1 ? c.n : sizeof x->practice - 1;
			memcpy(x->practice, c.p, k);
			x->practice[k] = 0;
			x->start = rs;
			int32_t re = yoc_seg_date(g, cre, r);
			x->end = re > YOC_DATE_HES_INVALID ? re : YOC_DATE_NONE;
		}
		yoc_seg_close(g);
	}
	yoc_store_files_free(fi);
	if (rc) {
		yoc_free(a);
		return rc;
	}
	qsort(a, n, sizeof *a, reg_cmp);
	*out = a;
	*nout = n;
	return YOC_OK;
}

/*
** The last day the deaths feed covers: the end of the month of its latest
** current file (periods YYYY-MM); INT32_MAX when there is no deaths feed
** (nothing to wait for).
*/
static int deaths_cover(yoc_store *s, int32_t *until, struct yoc_error *e)
{
	struct yoc_file_info *fi = NULL;
	size_t nf = 0;
	int rc = yoc_store_files(s, YOC_KIND_DEATHS, 0, &fi, &nf, e);
	if (rc)
		return rc;
	*until = nf ? YOC_DATE_NONE : INT32_MAX;
	for (size_t i = 0; i < nf; i++) {
		int y, m;
		if (sscanf(fi[i].period, "%4d-%2d", &y, &m) != 2 || m < 1 || m > 12)
			continue;
		int32_t end = (m == 12 ? yoc_date_from_ymd(y + 1, 1, 1) : yoc_date_from_ymd(y, m + 1, 1)) - 1;
		if (*until == YOC_DATE_NONE || end > *until)
			*until = end;
	}
	if (*until == YOC_DATE_NONE)
		*until = INT32_MAX;
	yoc_store_files_free(fi);
	return YOC_OK;
}

int yoc_cohort_refresh(yoc_store *s, const char *cohort, const char *actor,
		       struct yoc_cohort_refresh_stats *st, struct yoc_error *e)
{
	sqlite3 *db = yoc_store_db(s);
	sqlite3_stmt *q = NULL;
	struct member *m = NULL;
	struct reg *rg = NULL;
	int32_t *who = NULL;
	size_t nm = 0, cap = 0, nr = 0, np = 0;
	const struct yoc_person *pp;
	int rc, in_tx = 0;
	memset(st, 0, sizeof *st);
	int32_t cover;
	if ((rc = yoc_cohort_schema(db, e)) || (rc = yoc_store_persons(s, &pp, &np, e)) ||
	    (rc = deaths_cover(s, &cover, e)))
		return rc;
	if ((rc = yoc__cohort_exec(db, "BEGIN IMMEDIATE", e)))
		return rc;
	in_tx = 1;
	if (sqlite3_prepare_v2(db,
			       "SELECT row_id, cohort, pseudo_id, practice, join_date FROM"
			       " cohort_register WHERE leave_date IS NULL AND (?1 IS NULL OR cohort = ?1)"
			       " ORDER BY row_id",
			       -1, &q, NULL) != SQLITE_OK) {
		rc = db_err(db, e);
		goto cleanup;
	}
	if (cohort)
		sqlite3_bind_text(q, 1, cohort, -1, SQLITE_STATIC);
	int sq;
	while ((sq = sqlite3_step(q)) == SQLITE_ROW) {
		if (nm == cap) {
			size_t nc = cap ? cap * 2 : 256;
			struct member *na = yoc_realloc(m, nc * sizeof *na);
			if (!na) {
				rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
				goto cleanup;
			}
			m = na;
			cap = nc;
		}
		struct member *x = &m[nm++];
		x->row_id = sqlite3_column_int64(q, 0);
		snprintf(x->cohort, sizeof x->cohort, "%s", (const char *)sqlite3_column_text(q, 1));
		snprintf(x->pseudo, sizeof x->pseudo, "%s", (const char *)sqlite3_column_text(q, 2));
		snprintf(x->practice, sizeof x->practice, "%s",
			 (const char *)sqlite3_column_text(q, 3));
		x->join = col_date(q, 4);
		x->person = yoc_store_person_index(s, x->pseudo, strlen(x->pseudo));
	}
	if (sq != SQLITE_DONE) {
		rc = db_err(db, e);
		goto cleanup;
	}
	sqlite3_finalize(q);
	q = NULL;
	st->open = nm;
	if (!nm)
		goto commit;
	if (!(who = yoc_malloc((np ? np : 1) * sizeof *who))) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < np; i++)
		who[i] = -1;
	for (size_t i = 0; i < nm; i++)
		if (m[i].person >= 0)
			who[m[i].person] = (int32_t)i; /* one open row per person in a cohort;
							  across cohorts enrol keeps one */
	if ((rc = collect_regs(s, who, &rg, &nr, e)))
		goto cleanup;
	for (size_t i = 0; i < nm; i++) {
		struct member *x = &m[i];
		if (x->person < 0)
			continue;
		char det[256];
		const struct yoc_person *p = &pp[x->person];
		if (p->dod != YOC_DATE_NONE) {
			char d[11];
			yoc_date_format(p->dod, d);
			snprintf(det, sizeof det, "deaths feed: date of death %s", d);
			if ((rc = yoc__cohort_close(db, x->cohort, x->row_id, x->pseudo,
						    p->dod > x->join ? p->dod : x->join, "died", actor,
						    det, e)))
				goto cleanup;
			st->died++;
			continue;
		}
		uint32_t mi = (uint32_t)who[x->person];
		size_t a0 = 0, hi = nr;
		while (a0 < hi) { /* first registration of member mi */
			size_t mid = a0 + (hi - a0) / 2;
			if (rg[mid].member < mi)
				a0 = mid + 1;
			else
				hi = mid;
		}
		size_t a1 = a0;
		while (a1 < nr && rg[a1].member == mi)
			a1++;
		/* the registration with the member's practice current at joining: the latest
		 * start on or before the join date (else the first after it) */
		int32_t start = YOC_DATE_NONE;
		for (size_t k = a0; k < a1; k++)
			if (strcmp(rg[k].practice, x->practice) == 0 &&
			    (start == YOC_DATE_NONE ||
			     (rg[k].start <= x->join ? (start > x->join || rg[k].start > start)
						     : (start > x->join && rg[k].start < start))))
				start = rg[k].start;
		if (start == YOC_DATE_NONE)
			continue; /* no register row for the practice: nothing to go on */
		int32_t end = YOC_DATE_NONE;
		for (size_t k = a0; k < a1; k++)
			if (strcmp(rg[k].practice, x->practice) == 0 && rg[k].start == start &&
			    rg[k].end != YOC_DATE_NONE && (end == YOC_DATE_NONE || rg[k].end < end))
				end = rg[k].end;
		if (end == YOC_DATE_NONE)
			continue;
		const char *next = NULL;
		int32_t nstart = YOC_DATE_NONE;
		for (size_t k = a0; k < a1; k++)
			if (rg[k].start > start && strcmp(rg[k].practice, x->practice) != 0 &&
			    (nstart == YOC_DATE_NONE || rg[k].start < nstart)) {
				nstart = rg[k].start;
				next = rg[k].practice;
			}
		char ed[11], nd[11];
		yoc_date_format(end, ed);
		int32_t leave = end > x->join ? end : x->join;
		if (next) {
			yoc_date_format(nstart, nd);
			snprintf(det, sizeof det,
				 "gp_register: registration with %s ended %s; registered with %s"
				 " from %s", x->practice, ed, next, nd);
			rc = yoc__cohort_close(db, x->cohort, x->row_id, x->pseudo, leave,
					       "left_practice", actor, det, e);
			st->left_practice++;
		} else if (end > cover) {
			/* the end may be a death the deaths feed has not reported yet:
			 * decided when the feed covers that day */
			st->pending++;
			continue;
		} else {
			snprintf(det, sizeof det, "gp_register: registration with %s ended %s",
				 x->practice, ed);
			rc = yoc__cohort_close(db, x->cohort, x->row_id, x->pseudo, leave,
					       "deregistered", actor, det, e);
			st->deregistered++;
		}
		if (rc)
			goto cleanup;
	}
commit:
	if ((rc = yoc__cohort_exec(db, "COMMIT", e)))
		goto cleanup;
	in_tx = 0;
cleanup:
	sqlite3_finalize(q);
	if (in_tx)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	yoc_free(m);
	yoc_free(rg);
	yoc_free(who);
	return rc;
}

/* ---- reading the register ------------------------------------------------------------ */

static int read_members(sqlite3 *db, const char *sql, const char *cohort, int32_t asof,
			struct yoc_cohort_member **out, size_t *n, struct yoc_error *e)
{
	sqlite3_stmt *q = NULL;
	struct yoc_cohort_member *a = NULL;
	size_t k = 0, cap = 0;
	int rc = YOC_OK, s;
	*out = NULL;
	*n = 0;
	if (!yoc_cohort_ready(db))
		return YOC_OK;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return db_err(db, e);
	sqlite3_bind_text(q, 1, cohort, -1, SQLITE_STATIC);
	if (asof != YOC_DATE_NONE)
		bind_date(q, 2, asof);
	while ((s = sqlite3_step(q)) == SQLITE_ROW) {
		if (k == cap) {
			size_t nc = cap ? cap * 2 : 256;
			struct yoc_cohort_member *na = yoc_realloc(a, nc * sizeof *na);
			if (!na) {
				rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
				goto cleanup;
			}
			a = na;
			cap = nc;
		}
		struct yoc_cohort_member *x = &a[k++];
		memset(x, 0, sizeof *x);
		x->row_id = sqlite3_column_int64(q, 0);
		snprintf(x->pseudo, sizeof x->pseudo, "%s", (const char *)sqlite3_column_text(q, 1));
		snprintf(x->practice, sizeof x->practice, "%s",
			 (const char *)sqlite3_column_text(q, 2));
		x->join = col_date(q, 3);
		x->leave = col_date(q, 4);
		if (sqlite3_column_text(q, 5))
			snprintf(x->leave_reason, sizeof x->leave_reason, "%s",
				 (const char *)sqlite3_column_text(q, 5));
		if (sqlite3_column_text(q, 6))
			snprintf(x->tariff, sizeof x->tariff, "%s",
				 (const char *)sqlite3_column_text(q, 6));
		x->secondary_use = sqlite3_column_int(q, 7);
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

#define MEMBER_COLS "row_id, pseudo_id, practice, join_date, leave_date, leave_reason," \
	" tariff_category, secondary_use"

int yoc_cohort_register_asof(sqlite3 *db, const char *cohort, int32_t asof,
			     struct yoc_cohort_member **out, size_t *n, struct yoc_error *e)
{
	return read_members(db,
			    "SELECT " MEMBER_COLS " FROM cohort_register WHERE cohort = ?1 AND"
			    " join_date <= ?2 AND (leave_date IS NULL OR leave_date >= ?2)"
			    " ORDER BY pseudo_id, row_id",
			    cohort, asof, out, n, e);
}

int yoc_cohort_register_all(sqlite3 *db, const char *cohort, struct yoc_cohort_member **out,
			    size_t *n, struct yoc_error *e)
{
	return read_members(db,
			    "SELECT " MEMBER_COLS " FROM cohort_register WHERE cohort = ?1"
			    " ORDER BY row_id",
			    cohort, YOC_DATE_NONE, out, n, e);
}

/* ---- funnel and months ----------------------------------------------------------------- */

static int one_count(sqlite3 *db, const char *sql, const char *cohort, size_t *out,
		     struct yoc_error *e)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return db_err(db, e);
	sqlite3_bind_text(q, 1, cohort, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q) == SQLITE_ROW ? YOC_OK : db_err(db, e);
	if (rc == YOC_OK)
		*out = (size_t)sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return rc;
}

#define LATEST_REVIEW                                                                     \
	"(SELECT r.* FROM cohort_review r WHERE r.cohort = ?1 AND r.review_id = (SELECT"   \
	" r2.review_id FROM cohort_review r2 WHERE r2.cohort = ?1 AND r2.pseudo_id ="      \
	" r.pseudo_id AND r2.decision <> 'discharge' ORDER BY r2.review_date DESC,"        \
	" r2.review_id DESC LIMIT 1))"
int yoc_cohort_funnel(sqlite3 *db, const char *cohort, struct yoc_cohort_funnel *f,
		      struct yoc_error *e)
{
	sqlite3_stmt *q = NULL;
	int rc;
	memset(f, 0, sizeof *f);
	snprintf(f->cohort, sizeof f->cohort, "%s", cohort);
	if (!yoc_cohort_ready(db))
		return YOC_OK;
	if (sqlite3_prepare_v2(db,
			       "SELECT version, fyear, population, selected FROM cohort_selection"
			       " WHERE cohort = ? ORDER BY selection_id DESC LIMIT 1",
			       -1, &q, NULL) != SQLITE_OK)
		return db_err(db, e);
	sqlite3_bind_text(q, 1, cohort, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW) {
		f->version = sqlite3_column_int(q, 0);
		snprintf(f->fyear, sizeof f->fyear, "%s", (const char *)sqlite3_column_text(q, 1));
		f->population = (size_t)sqlite3_column_int64(q, 2);
		f->selected = (size_t)sqlite3_column_int64(q, 3);
	}
	sqlite3_finalize(q);
	q = NULL;
	struct {
		const char *sql;
		size_t *out;
	} c[] = {
		{"SELECT count(*) FROM " LATEST_REVIEW " WHERE decision <> 'add'", &f->reviewed},
		{"SELECT count(*) FROM " LATEST_REVIEW " WHERE decision = 'include'", &f->included},
		{"SELECT count(*) FROM " LATEST_REVIEW " WHERE decision = 'add'", &f->added},
		{"SELECT count(*) FROM " LATEST_REVIEW " WHERE decision = 'exclude'", &f->excluded},
		{"SELECT count(*) FROM " LATEST_REVIEW " WHERE decision = 'defer'", &f->deferred},
		{"SELECT count(DISTINCT pseudo_id) FROM cohort_consent WHERE cohort = ?1 AND"
		 " status = 'given' AND care = 1", &f->consented},
		{"SELECT count(DISTINCT pseudo_id) FROM cohort_consent WHERE cohort = ?1 AND"
		 " status = 'given' AND care = 1 AND secondary = 1", &f->secondary},
		{"SELECT count(DISTINCT pseudo_id) FROM cohort_register WHERE cohort = ?1",
		 &f->enrolled},
		{"SELECT count(*) FROM cohort_register WHERE cohort = ?1 AND leave_date IS NULL",
		 &f->current},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		if ((rc = one_count(db, c[i].sql, cohort, c[i].out, e)))
			return rc;
	if (sqlite3_prepare_v2(db,
			       "SELECT reason, count(*) FROM " LATEST_REVIEW
			       " WHERE decision = 'exclude' GROUP BY reason ORDER BY count(*) DESC,"
			       " reason",
			       -1, &q, NULL) != SQLITE_OK)
		return db_err(db, e);
	sqlite3_bind_text(q, 1, cohort, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW && f->nreason < 16) {
		snprintf(f->reason[f->nreason], sizeof f->reason[0], "%s",
			 (const char *)sqlite3_column_text(q, 0));
		f->reason_n[f->nreason++] = (size_t)sqlite3_column_int64(q, 1);
	}
	sqlite3_finalize(q);
	if (sqlite3_prepare_v2(db,
			       "SELECT leave_reason, count(*) FROM cohort_register WHERE cohort = ?1"
			       " AND leave_date IS NOT NULL GROUP BY leave_reason"
			       " ORDER BY count(*) DESC, leave_reason",
			       -1, &q, NULL) != SQLITE_OK)
		return db_err(db, e);
	sqlite3_bind_text(q, 1, cohort, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW && f->nleave < 8) {
		snprintf(f->leave[f->nleave], sizeof f->leave[0], "%s",
			 (const char *)sqlite3_column_text(q, 0));
		f->leave_n[f->nleave++] = (size_t)sqlite3_column_int64(q, 1);
	}
	sqlite3_finalize(q);
	return YOC_OK;
}

int yoc_cohort_months(sqlite3 *db, const char *cohort, int32_t until,
		      struct yoc_cohort_month **out, size_t *n, struct yoc_error *e)
{
	struct yoc_cohort_member *m = NULL;
	size_t nm = 0;
	struct yoc_cohort_month *a = NULL;
	*out = NULL;
	*n = 0;
	int rc = yoc_cohort_register_all(db, cohort, &m, &nm, e);
	if (rc || nm == 0) {
		yoc_free(m);
		return rc;
	}
	int32_t first = m[0].join;
	for (size_t i = 0; i < nm; i++)
		if (m[i].join < first)
			first = m[i].join;
	int y, mo, d;
	yoc_date_to_ymd(first, &y, &mo, &d);
	int y1, m1;
	yoc_date_to_ymd(until, &y1, &m1, &d);
	long nmon = (long)(y1 - y) * 12 + (m1 - mo) + 1;
	if (nmon <= 0) {
		yoc_free(m);
		return YOC_OK;
	}
	if (nmon > 1200)
		nmon = 1200;
	if (!(a = yoc_calloc((size_t)nmon, sizeof *a))) {
		yoc_free(m);
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	}
	for (long k = 0; k < nmon; k++) {
		int yy = y + (int)((mo - 1 + k) / 12), mm = (int)((mo - 1 + k) % 12) + 1;
		int32_t m0 = yoc_date_from_ymd(yy, mm, 1);
		int32_t mend = (mm == 12 ? yoc_date_from_ymd(yy + 1, 1, 1)
					 : yoc_date_from_ymd(yy, mm + 1, 1)) - 1;
		snprintf(a[k].month, sizeof a[k].month, "%04d-%02d", yy % 10000, mm);
		for (size_t i = 0; i < nm; i++) {
			if (m[i].join <= mend && (m[i].leave == YOC_DATE_NONE || m[i].leave >= mend))
				a[k].size++;
			if (m[i].join >= m0 && m[i].join <= mend)
				a[k].joined++;
			if (m[i].leave != YOC_DATE_NONE && m[i].leave >= m0 && m[i].leave <= mend)
				a[k].left++;
		}
	}
	yoc_free(m);
	*out = a;
	*n = (size_t)nmon;
	return YOC_OK;
}

/*
** Review and consent files from practices (docs/cohorts.md): every line is
** checked against the catalog before anything is written, every problem is
** reported as file:line:col, and the import is one transaction, all or
** nothing. Rows identical to ones already imported are left alone, so a file
** imported twice changes nothing the second time. Extra columns (the
** worklist's own) are ignored, except ones named as identifiers.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cohort/cohort.h"
#include "ident/ident.h"
#include "yoc/csv.h"
#include "yoc/date.h"
#include "yoc/io.h"

static const char *const decisions[] = {"include", "exclude", "defer", "add", "discharge", NULL};
static const char *const exclude_reasons[] = {"end_of_life", "case_managed", "declined",
					      "not_appropriate", "moved_away", "other", NULL};
static const char *const add_reasons[] = {"community_referral", "clinician_referral", "other",
					  NULL};
static const char *const discharge_reasons[] = {"goals_met", "needs_changed", "other", NULL};
static const char *const roles[] = {"GP", "community", "MDT", NULL};

enum { F_PSEUDO, F_PRACTICE, F_DECISION, F_REASON, F_TEXT, F_ROLE, F_DATE, F_STATUS,
       F_PURPOSES, F_COUNT };

static const char *const review_cols[F_COUNT] = {"pseudo_id", "practice", "decision", "reason",
						 "reason_text", "reviewer_role", "review_date",
						 NULL, NULL};
static const char *const consent_cols[F_COUNT] = {"pseudo_id", "practice", NULL, NULL, NULL,
						  NULL, "consent_date", "status", "purposes"};

struct row {
	const char *file;
	long line;
	int col[F_COUNT];       /* 1-based column of each field in its file */
	char pseudo[72];
	char practice[16];
	char decision[16];
	char reason[32];
	char text[256];
	char role[16];
	int32_t date;
	char status[16];
	int care, secondary;
	int in_year;            /* has a person_year row in the selection's year */
	char ypr[16];           /* ... with this practice */
};

struct ctx {
	sqlite3 *db;
	const char *cohort;
	int kind;
	struct yoc_cohort_errors *errs;
	int32_t today;
	int64_t selection;
	char fyear[8];
};

static void bad(struct ctx *c, const char *file, long line, long col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void bad(struct ctx *c, const char *file, long line, long col, const char *fmt, ...)
{
	if (c->errs->n < YOC_COHORT_MAXERR) {
		va_list ap;
		va_start(ap, fmt);
		yoc_error_vset(&c->errs->err[c->errs->n], YOC_EDATA, file, line, col, fmt, ap);
		va_end(ap);
	}
	c->errs->n++;
}

static int db_err(sqlite3 *db, struct yoc_error *e)
{
	int rc = sqlite3_errcode(db);
	return yoc_error_set(e, rc == SQLITE_NOMEM ? YOC_ENOMEM : YOC_EIO,
			     sqlite3_db_filename(db, "main"), 0, 0, "catalog: %s",
			     sqlite3_errmsg(db));
}

/* Index of s (case-insensitive) in list, else -1. */
static int lookup(const char *s, const char *const *list)
{
	for (int i = 0; list[i]; i++)
		if (strcasecmp(s, list[i]) == 0)
			return i;
	return -1;
}

static void list_text(const char *const *list, char *buf, size_t cap)
{
	size_t k = 0;
	buf[0] = 0;
	for (int i = 0; list[i] && k < cap; i++)
		k += (size_t)snprintf(buf + k, cap - k, "%s%s", i ? ", " : "", list[i]);
}

static void cell_copy(char *dst, size_t cap, struct yoc_cell c)
{
	/* trim blanks */
	while (c.n && (c.p[0] == ' ' || c.p[0] == '\t'))
		c.p++, c.n--;
	while (c.n && (c.p[c.n - 1] == ' ' || c.p[c.n - 1] == '\t'))
		c.n--;
	size_t k = c.n < cap - 1 ? c.n : cap - 1;
	memcpy(dst, c.p, k);
	dst[k] = 0;
}

/* Reads one file into rows (appended); problems of form go to c->errs. */
static int read_file(struct ctx *c, const char *path, struct row **rows, size_t *n,
		     size_t *cap, struct yoc_error *e)
{
	yoc_csv *r = NULL;
	struct yoc_csv_row row;
	const char *const *want = c->kind == YOC_COHORT_REVIEW ? review_cols : consent_cols;
	int idx[F_COUNT];
	int rc;
	if ((rc = yoc_check_regular(path, e)))
		return rc;
	struct yoc_csv_opts o = {.delim = ','};
	if ((rc = yoc_csv_open(&r, path, &o, e)))
		return rc;
	size_t nh = yoc_csv_ncols(r);
	const struct yoc_cell *h = yoc_csv_header(r);
	for (size_t k = 0; k < nh; k++) {
		int cls = yoc_ident_name_class(h[k].p, h[k].n);
		if (cls != YOC_IDC_NONE && cls != YOC_IDC_FREETEXT) {
			char show[80];
			yoc_ident_show(h[k].p, h[k].n, show, 64);
			bad(c, path, 1, (long)k + 1,
			    "column '%s' is named as an identifier (%s): files for yoc carry"
			    " pseudonyms only", show, yoc_ident_class_str(cls));
		}
	}
	int missing = 0;
	for (int f = 0; f < F_COUNT; f++) {
		idx[f] = want[f] ? yoc_csv_col(r, want[f]) : -1;
		if (want[f] && idx[f] < 0) {
			bad(c, path, 1, 0, "missing column '%s'", want[f]);
			missing = 1;
		}
	}
	if (missing) {
		yoc_csv_close(r);
		return YOC_OK;
	}
	for (;;) {
		int got = yoc_csv_next(r, &row, e);
		if (got == 0)
			break;
		if (got < 0) {
			if (row.fault == YOC_CSV_OK) {
				yoc_csv_close(r);
				return got;
			}
			bad(c, path, row.line, 0, "malformed row: %s", yoc_csv_fault_str(row.fault));
			continue;
		}
		if (row.ncells == 1 && row.cells[0].n == 0)
			continue; /* blank line */
		struct yoc_cell cell[F_COUNT];
		for (int f = 0; f < F_COUNT; f++)
			cell[f] = idx[f] >= 0 && (size_t)idx[f] < row.ncells
				? row.cells[idx[f]] : (struct yoc_cell){"", 0};
		/* a worklist row not yet reviewed (no decision) is skipped */
		if (c->kind == YOC_COHORT_REVIEW) {
			char d[16];
			cell_copy(d, sizeof d, cell[F_DECISION]);
			if (!d[0])
				continue;
		}
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 256;
			struct row *na = yoc_realloc(*rows, nc * sizeof *na);
			if (!na) {
				yoc_csv_close(r);
				return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			}
			*rows = na;
			*cap = nc;
		}
		struct row *x = &(*rows)[(*n)++];
		memset(x, 0, sizeof *x);
		x->file = path;
		x->line = row.line;
		for (int f = 0; f < F_COUNT; f++)
			x->col[f] = idx[f] + 1;
		cell_copy(x->pseudo, sizeof x->pseudo, cell[F_PSEUDO]);
		cell_copy(x->practice, sizeof x->practice, cell[F_PRACTICE]);
		char datebuf[32];
		cell_copy(datebuf, sizeof datebuf, cell[F_DATE]);
		if (yoc_date_parse(datebuf, strlen(datebuf), &x->date) || !datebuf[0]) {
			bad(c, path, x->line, x->col[F_DATE], "date '%s': want YYYY-MM-DD", datebuf);
			x->date = YOC_DATE_NONE;
		} else if (x->date > c->today) {
			bad(c, path, x->line, x->col[F_DATE], "date %s is in the future", datebuf);
		}
		if (c->kind == YOC_COHORT_REVIEW) {
			char list[200];
			cell_copy(x->decision, sizeof x->decision, cell[F_DECISION]);
			cell_copy(x->reason, sizeof x->reason, cell[F_REASON]);
			cell_copy(x->text, sizeof x->text, cell[F_TEXT]);
			cell_copy(x->role, sizeof x->role, cell[F_ROLE]);
			int d = lookup(x->decision, decisions);
			if (d < 0) {
				list_text(decisions, list, sizeof list);
				bad(c, path, x->line, x->col[F_DECISION],
				    "unknown decision '%s' (want one of: %s)", x->decision, list);
			} else {
				snprintf(x->decision, sizeof x->decision, "%s", decisions[d]);
				const char *const *rl = d == 1 ? exclude_reasons : d == 3 ? add_reasons
							: d == 4 ? discharge_reasons : NULL;
				if (rl && !(d == 4 && !x->reason[0])) {
					int k = lookup(x->reason, rl);
					if (k < 0) {
						list_text(rl, list, sizeof list);
						bad(c, path, x->line, x->col[F_REASON],
						    "unknown reason code '%s' for %s (want one of: %s)",
						    x->reason, x->decision, list);
					} else {
						snprintf(x->reason, sizeof x->reason, "%s", rl[k]);
						if (strcmp(x->reason, "other") == 0 && !x->text[0])
							bad(c, path, x->line, x->col[F_TEXT],
							    "reason 'other' needs reason_text");
					}
				} else if (x->reason[0] && !rl) {
					bad(c, path, x->line, x->col[F_REASON],
					    "a %s decision takes no reason code (got '%s')",
					    x->decision, x->reason);
				}
			}
			int ro = lookup(x->role, roles);
			if (ro < 0) {
				list_text(roles, list, sizeof list);
				bad(c, path, x->line, x->col[F_ROLE],
				    "unknown reviewer role '%s' (want one of: %s)", x->role, list);
			} else {
				snprintf(x->role, sizeof x->role, "%s", roles[ro]);
			}
		} else {
			char pur[128];
			cell_copy(x->status, sizeof x->status, cell[F_STATUS]);
			cell_copy(pur, sizeof pur, cell[F_PURPOSES]);
			if (strcasecmp(x->status, "given") == 0)
				snprintf(x->status, sizeof x->status, "given");
			else if (strcasecmp(x->status, "withdrawn") == 0)
				snprintf(x->status, sizeof x->status, "withdrawn");
			else
				bad(c, path, x->line, x->col[F_STATUS],
				    "unknown consent status '%s' (want given or withdrawn)", x->status);
			/* purposes: care, secondary, separated by ';' */
			char *save = NULL;
			for (char *t = strtok_r(pur, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
				while (*t == ' ')
					t++;
				size_t tn = strlen(t);
				while (tn && t[tn - 1] == ' ')
					t[--tn] = 0;
				if (strcasecmp(t, "care") == 0)
					x->care = 1;
				else if (strcasecmp(t, "secondary") == 0)
					x->secondary = 1;
				else
					bad(c, path, x->line, x->col[F_PURPOSES],
					    "unknown purpose '%s' (want care, secondary)", t);
			}
			if (strcmp(x->status, "given") == 0 && !x->care)
				bad(c, path, x->line, x->col[F_PURPOSES],
				    "consent given must include care (purposes care or care;secondary)");
		}
	}
	yoc_csv_close(r);
	return YOC_OK;
}

/* ---- checks against the catalog ---------------------------------------------------- */

struct stmts {
	sqlite3_stmt *cand, *same, *open, *decided, *consented;
};

static void stmts_free(struct stmts *s)
{
	sqlite3_finalize(s->cand);
	sqlite3_finalize(s->same);
	sqlite3_finalize(s->open);
	sqlite3_finalize(s->decided);
	sqlite3_finalize(s->consented);
}

static int stmts_make(struct ctx *c, struct stmts *s, struct yoc_error *e)
{
	sqlite3 *db = c->db;
	int review = c->kind == YOC_COHORT_REVIEW;
	memset(s, 0, sizeof *s);
	if (sqlite3_prepare_v2(db,
			       "SELECT practice FROM cohort_candidate WHERE selection_id = ? AND"
			       " pseudo_id = ?",
			       -1, &s->cand, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       review ? "SELECT practice, decision, reason, reason_text,"
					" reviewer_role, file, line FROM cohort_review WHERE cohort = ?"
					" AND pseudo_id = ? AND review_date = ?"
				      : "SELECT practice, status, care, secondary, '', file, line"
					" FROM cohort_consent WHERE cohort = ? AND pseudo_id = ? AND"
					" consent_date = ?",
			       -1, &s->same, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT row_id, practice FROM cohort_register WHERE cohort = ? AND"
			       " pseudo_id = ? AND leave_date IS NULL",
			       -1, &s->open, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT decision, practice FROM cohort_review WHERE cohort = ? AND"
			       " pseudo_id = ? AND review_date <= ? ORDER BY review_date DESC,"
			       " review_id DESC LIMIT 1",
			       -1, &s->decided, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT status FROM cohort_consent WHERE cohort = ? AND pseudo_id = ?"
			       " AND consent_date <= ? ORDER BY consent_date DESC, consent_id DESC"
			       " LIMIT 1",
			       -1, &s->consented, NULL) != SQLITE_OK) {
		int rc = db_err(db, e);
		stmts_free(s);
		return rc;
	}
	return YOC_OK;
}

/* Runs q with (cohort or text, pseudo[, date]) and copies column 0 into out; 1 if a row. */
static int lookup_one(sqlite3_stmt *q, const char *a, const char *pseudo, int32_t date,
		      char *out, size_t cap, char *out2, size_t cap2)
{
	char d[11];
	sqlite3_reset(q);
	sqlite3_bind_text(q, 1, a, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 2, pseudo, -1, SQLITE_TRANSIENT);
	if (sqlite3_bind_parameter_count(q) >= 3) {
		yoc_date_format(date, d);
		sqlite3_bind_text(q, 3, d, 10, SQLITE_TRANSIENT);
	}
	if (sqlite3_step(q) != SQLITE_ROW)
		return 0;
	if (out) {
		const unsigned char *t = sqlite3_column_text(q, 0);
		snprintf(out, cap, "%s", t ? (const char *)t : "");
	}
	if (out2) {
		const unsigned char *t = sqlite3_column_text(q, 1);
		snprintf(out2, cap2, "%s", t ? (const char *)t : "");
	}
	return 1;
}

/*
** Checks row x against the catalog. Returns 1 when it is identical to a row
** already imported (unchanged), else 0.
*/
static int check_row(struct ctx *c, struct stmts *s, struct row *x)
{
	char prac[16], what[32], sel[32];
	snprintf(sel, sizeof sel, "%lld", (long long)c->selection);
	int review = c->kind == YOC_COHORT_REVIEW;
	int is_cand = c->selection > 0 && lookup_one(s->cand, sel, x->pseudo, 0, prac,
						     sizeof prac, NULL, 0);
	/* sqlite binds ?1 of cand as text; selection_id compares by affinity */
	const char *ypr = x->ypr;
	int in_year = x->in_year;
	int64_t open_row = 0;
	char open_prac[16] = "";
	if (lookup_one(s->open, c->cohort, x->pseudo, 0, NULL, 0, open_prac, sizeof open_prac))
		open_row = sqlite3_column_int64(s->open, 0);
	int dec = review ? lookup(x->decision, decisions) : -1;
	if (!is_cand && !in_year && !open_row) {
		bad(c, x->file, x->line, x->col[F_PSEUDO], "unknown pseudonym '%.16s...'%s",
		    x->pseudo, c->fyear[0] ? "" : " (the cohort has no selection yet)");
		return 0;
	}
	if (review && dec == 4) { /* discharge */
		if (!open_row)
			bad(c, x->file, x->line, x->col[F_PSEUDO],
			    "person is not a current member of %s: nothing to discharge", c->cohort);
		else if (strcmp(open_prac, x->practice) != 0)
			bad(c, x->file, x->line, x->col[F_PRACTICE],
			    "person is not in practice %s's part of the cohort", x->practice);
	} else if (review && dec == 3) { /* add */
		if (is_cand)
			bad(c, x->file, x->line, x->col[F_DECISION],
			    "person was selected by the rule: use include, not add");
		else if (!in_year || strcmp(ypr, x->practice) != 0)
			bad(c, x->file, x->line, x->col[F_PRACTICE],
			    "person is not in practice %s's list in %s", x->practice, c->fyear);
	} else if (review && dec >= 0) {
		if (!is_cand)
			bad(c, x->file, x->line, x->col[F_PSEUDO],
			    "person is not a candidate of %s's latest selection (to add someone the"
			    " rule did not select, use decision add with a reason)", c->cohort);
		else if (strcmp(prac, x->practice) != 0)
			bad(c, x->file, x->line, x->col[F_PRACTICE],
			    "person is not on practice %s's worklist", x->practice);
	} else if (!review) {
		char last[16] = "", lprac[16] = "";
		if (x->date != YOC_DATE_NONE &&
		    !lookup_one(s->decided, c->cohort, x->pseudo, x->date, last, sizeof last, lprac,
				sizeof lprac))
			last[0] = 0;
		if (strcmp(x->status, "given") == 0 && strcmp(last, "include") != 0 &&
		    strcmp(last, "add") != 0)
			bad(c, x->file, x->line, x->col[F_PSEUDO],
			    "consent for someone not included by review on or before that date%s%s",
			    last[0] ? " (latest decision: " : "", last[0] ? last : "");
		else if (lprac[0] && strcmp(lprac, x->practice) != 0)
			bad(c, x->file, x->line, x->col[F_PRACTICE],
			    "person was reviewed by practice %s, not %s", lprac, x->practice);
		if (strcmp(x->status, "withdrawn") == 0) {
			char st[16] = "";
			if (x->date == YOC_DATE_NONE ||
			    !lookup_one(s->consented, c->cohort, x->pseudo, x->date, st, sizeof st,
					NULL, 0) ||
			    strcmp(st, "given") != 0)
				bad(c, x->file, x->line, x->col[F_STATUS],
				    "consent withdrawn but none was given before");
		}
	}
	/* the same person and date imported before: identical is unchanged, else a clash */
	if (x->date == YOC_DATE_NONE)
		return 0;
	if (lookup_one(s->same, c->cohort, x->pseudo, x->date, what, sizeof what, NULL, 0)) {
		sqlite3_stmt *q = s->same;
		int same;
		if (review)
			same = strcmp(what, x->practice) == 0 &&
			       strcmp((const char *)sqlite3_column_text(q, 1), x->decision) == 0 &&
			       strcmp((const char *)sqlite3_column_text(q, 2), x->reason) == 0 &&
			       strcmp((const char *)sqlite3_column_text(q, 3), x->text) == 0 &&
			       strcmp((const char *)sqlite3_column_text(q, 4), x->role) == 0;
		else
			same = strcmp(what, x->practice) == 0 &&
			       strcmp((const char *)sqlite3_column_text(q, 1), x->status) == 0 &&
			       sqlite3_column_int(q, 2) == x->care &&
			       sqlite3_column_int(q, 3) == x->secondary;
		if (same)
			return 1;
		const unsigned char *f = sqlite3_column_text(q, 5);
		bad(c, x->file, x->line, x->col[F_DATE],
		    "duplicate decision: a different %s for this person on this date was imported"
		    " before (%s:%d)", review ? "decision" : "consent", f ? (const char *)f : "?",
		    sqlite3_column_int(q, 6));
	}
	return 0;
}

static int insert_row(struct ctx *c, sqlite3_stmt *ins, const struct row *x, const char *at,
		      const char *actor, struct yoc_error *e)
{
	char d[11];
	yoc_date_format(x->date, d);
	sqlite3_reset(ins);
	sqlite3_bind_text(ins, 1, c->cohort, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 2, x->pseudo, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 3, x->practice, -1, SQLITE_STATIC);
	if (c->kind == YOC_COHORT_REVIEW) {
		sqlite3_bind_text(ins, 4, x->decision, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 5, x->reason, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 6, x->text, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 7, x->role, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_text(ins, 4, x->status, -1, SQLITE_STATIC);
		sqlite3_bind_int(ins, 5, x->care);
		sqlite3_bind_int(ins, 6, x->secondary);
	}
	sqlite3_bind_text(ins, 8, d, 10, SQLITE_TRANSIENT);
	sqlite3_bind_text(ins, 9, x->file, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 10, x->line);
	sqlite3_bind_text(ins, 11, at, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 12, actor, -1, SQLITE_STATIC);
	return sqlite3_step(ins) == SQLITE_DONE ? YOC_OK : db_err(c->db, e);
}

int yoc_cohort_import(sqlite3 *db, const char *cohort, int kind, const char *const *paths,
		      size_t npaths, const char *actor, struct yoc_cohort_import_stats *st,
		      struct yoc_cohort_errors *errs, struct yoc_error *e)
{
	struct ctx c = {.db = db, .cohort = cohort, .kind = kind, .errs = errs};
	struct row *rows = NULL;
	size_t n = 0, cap = 0;
	unsigned char *unchanged = NULL;
	struct stmts s = {0};
	sqlite3_stmt *q = NULL;
	struct yoc_map seen;
	int rc, in_tx = 0, have_stmts = 0, have_map = 0;
	memset(st, 0, sizeof *st);
	errs->n = 0;
	c.today = yoc_cohort_today();
	if ((rc = yoc_cohort_schema(db, e)))
		return rc;
	struct yoc_cohort_def d;
	if ((rc = yoc_cohort_def_get(db, cohort, 0, &d, e)))
		return rc;
	yoc_cohort_def_free(&d);
	if ((rc = yoc__cohort_exec(db, "BEGIN IMMEDIATE", e)))
		return rc;
	in_tx = 1;
	if (sqlite3_prepare_v2(db,
			       "SELECT selection_id, fyear FROM cohort_selection WHERE cohort = ?"
			       " ORDER BY selection_id DESC LIMIT 1",
			       -1, &q, NULL) != SQLITE_OK) {
		rc = db_err(db, e);
		goto cleanup;
	}
	sqlite3_bind_text(q, 1, cohort, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW) {
		c.selection = sqlite3_column_int64(q, 0);
		snprintf(c.fyear, sizeof c.fyear, "%s", (const char *)sqlite3_column_text(q, 1));
	}
	sqlite3_finalize(q);
	q = NULL;
	for (size_t i = 0; i < npaths; i++) {
		if ((rc = read_file(&c, paths[i], &rows, &n, &cap, e)))
			goto cleanup;
		st->files++;
	}
	st->rows = n;
	if ((rc = stmts_make(&c, &s, e)))
		goto cleanup;
	have_stmts = 1;
	if (!(unchanged = yoc_calloc(n ? n : 1, 1))) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	/* one decision per person in an import; the practice of each person in
	 * the selection's year from one pass over person_year */
	if (yoc_map_init(&seen, n ? n : 1)) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	have_map = 1;
	if ((rc = yoc__cohort_exec(db, "CREATE TEMP TABLE IF NOT EXISTS cohort_imp(pseudo_id TEXT"
				       " PRIMARY KEY, i INTEGER); DELETE FROM temp.cohort_imp;", e)))
		goto cleanup;
	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO temp.cohort_imp VALUES(?, ?)", -1, &q,
			       NULL) != SQLITE_OK) {
		rc = db_err(db, e);
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		int isnew = 0;
		uint64_t *had = yoc_map_get(&seen, rows[i].pseudo, strlen(rows[i].pseudo));
		if (had) {
			const struct row *j = &rows[*had];
			bad(&c, rows[i].file, rows[i].line, rows[i].col[F_PSEUDO],
			    "duplicate decision: this person is also on %s:%ld", j->file, j->line);
		} else if (yoc_map_put(&seen, rows[i].pseudo, strlen(rows[i].pseudo), i, &isnew)) {
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			goto cleanup;
		}
		sqlite3_reset(q);
		sqlite3_bind_text(q, 1, rows[i].pseudo, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, (int64_t)i);
		if (sqlite3_step(q) != SQLITE_DONE) {
			rc = db_err(db, e);
			goto cleanup;
		}
	}
	sqlite3_finalize(q);
	q = NULL;
	if (c.fyear[0]) {
		if (sqlite3_prepare_v2(db, "SELECT k.i, py.practice FROM person_year py JOIN"
				       " temp.cohort_imp k ON k.pseudo_id = py.pseudo_id WHERE"
				       " py.fyear = ?", -1, &q, NULL) != SQLITE_OK) {
			rc = db_err(db, e);
			goto cleanup;
		}
		sqlite3_bind_text(q, 1, c.fyear, -1, SQLITE_STATIC);
		while (sqlite3_step(q) == SQLITE_ROW) {
			size_t i = (size_t)sqlite3_column_int64(q, 0);
			const unsigned char *pr = sqlite3_column_text(q, 1);
			if (i < n) {
				rows[i].in_year = 1;
				snprintf(rows[i].ypr, sizeof rows[i].ypr, "%s", pr ? (const char *)pr : "");
			}
		}
		sqlite3_finalize(q);
		q = NULL;
	}
	for (size_t i = 0; i < n; i++)
		unchanged[i] = (unsigned char)check_row(&c, &s, &rows[i]);
	if (errs->n) {
		rc = yoc_error_set(e, YOC_EDATA, npaths == 1 ? paths[0] : NULL, 0, 0,
				   "%zu problem%s found: nothing imported", errs->n,
				   errs->n == 1 ? "" : "s");
		goto cleanup;
	}
	char at[40];
	yoc_cohort_now(at, sizeof at);
	if (sqlite3_prepare_v2(db,
			       kind == YOC_COHORT_REVIEW
				       ? "INSERT INTO cohort_review(cohort, pseudo_id, practice, decision,"
					 " reason, reason_text, reviewer_role, review_date, file, line,"
					 " imported, actor) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)"
				       : "INSERT INTO cohort_consent(cohort, pseudo_id, practice, status,"
					 " care, secondary, consent_date, file, line, imported, actor)"
					 " VALUES(?1,?2,?3,?4,?5,?6,?8,?9,?10,?11,?12)",
			       -1, &q, NULL) != SQLITE_OK) {
		rc = db_err(db, e);
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		if (unchanged[i]) {
			st->unchanged++;
			continue;
		}
		struct row *x = &rows[i];
		if ((rc = insert_row(&c, q, x, at, actor, e)))
			goto cleanup;
		st->added++;
		/* a discharge or a withdrawal ends the membership on its date */
		int ends = kind == YOC_COHORT_REVIEW ? strcmp(x->decision, "discharge") == 0
						     : strcmp(x->status, "withdrawn") == 0;
		int64_t rid = 0;
		if (ends && (rc = yoc__cohort_open_row(db, cohort, x->pseudo, &rid, NULL, 0, e)))
			goto cleanup;
		if (ends && rid) {
			char det[600];
			snprintf(det, sizeof det, "%s:%ld", x->file, x->line);
			if ((rc = yoc__cohort_close(db, cohort, rid, x->pseudo, x->date,
						    kind == YOC_COHORT_REVIEW ? "clinician_discharged"
									      : "withdrew_consent",
						    actor, det, e)))
				goto cleanup;
			st->left++;
		}
	}
	if (st->added) {
		char det[128];
		snprintf(det, sizeof det, "%zu file%s, %zu new row%s, %zu unchanged", st->files,
			 st->files == 1 ? "" : "s", st->added, st->added == 1 ? "" : "s",
			 st->unchanged);
		if ((rc = yoc__cohort_log(db, cohort, NULL,
					  kind == YOC_COHORT_REVIEW ? "review" : "consent",
					  YOC_DATE_NONE, NULL, 0, actor, det, NULL, e)))
			goto cleanup;
	}
	if ((rc = yoc__cohort_exec(db, "COMMIT", e)))
		goto cleanup;
	in_tx = 0;
cleanup:
	sqlite3_finalize(q);
	if (have_map)
		yoc_map_free(&seen);
	if (have_stmts)
		stmts_free(&s);
	if (in_tx)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	yoc_free(rows);
	yoc_free(unchanged);
	return rc;
}

/*
** careplan.html: care and support plans, unmet needs and patient activation
** (docs/outcomes.md "Care plans"), from the tables of yoc careplan; present
** only when they exist. Every published count passes src/sdc: tables with
** margins (goals by domain and status, actions by kind and status, needs by
** need and status, unmet needs by need and reason) through yoc__protect with
** their row and column totals; columns (coverage by practice, needs by
** locality) with their total; coverage and overdue shares of published
** counts (yoc_sdc_rate); mean PAM scores only where the count of people
** measured twice is shown and above the threshold (yoc_sdc_stat_ok).
*/
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "report/report_int.h"
#include "report/svg.h"

#define MAXG 2048

int yoc__careplan_present(sqlite3 *db, const struct report *R)
{
	return yoc__report_has_table(db, "careplan_run");
}

static int oom(struct ctx *c)
{
	return c->oom ? yoc_error_set(c->e, YOC_ENOMEM, NULL, 0, 0, "out of memory") : 0;
}

static int state_of(int64_t pub)
{
	return pub == YOC_SDC_HIDDEN ? YOC_SDC_PRIMARY : YOC_SDC_SHOWN;
}

/* ---- coverage ------------------------------------------------------------------ */

struct cover {
	int n;
	const char *kind[MAXG], *grp[MAXG];
	int64_t v[3][MAXG + 1];  /* people, with a plan, plans overdue; [n]: totals */
	int64_t plans[MAXG + 1];
	int64_t pub[3][MAXG + 1];
	unsigned char st[3][MAXG + 1];
};

static int coverage(struct ctx *c, sqlite3 *db, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, "SELECT grp_kind, grp, people, with_plan, plans_overdue, plans"
				   " FROM careplan_cover ORDER BY ord, grp", -1, &q, NULL) != SQLITE_OK)
		return yoc_error_set(c->e, YOC_EDATA, "careplan_cover", 0, 0, "%s", sqlite3_errmsg(db));
	struct cover *C = yoc_calloc(1, sizeof *C);
	if (!C) {
		sqlite3_finalize(q);
		return yoc_error_set(c->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	}
	int rc = 0, all = -1;
	while (sqlite3_step(q) == SQLITE_ROW && C->n < MAXG) {
		C->kind[C->n] = yoc__pt_str(c, (const char *)sqlite3_column_text(q, 0));
		C->grp[C->n] = yoc__pt_str(c, (const char *)sqlite3_column_text(q, 1));
		for (int k = 0; k < 3; k++)
			C->v[k][C->n] = sqlite3_column_int64(q, 2 + k);
		C->plans[C->n] = sqlite3_column_int64(q, 5);
		if (C->kind[C->n] && strcmp(C->kind[C->n], "all") == 0)
			all = C->n;
		C->n++;
	}
	sqlite3_finalize(q);
	/* practices are protected as a column whose total is the whole population's
	 * row; cohorts (which overlap nothing published) count by count */
	int np = 0, first = -1;
	for (int i = 0; i < C->n; i++)
		if (C->kind[i] && strcmp(C->kind[i], "practice") == 0) {
			if (first < 0)
				first = i;
			np++;
		}
	for (int k = 0; k < 3 && !rc; k++) {
		for (int i = 0; i < C->n; i++)
			C->pub[k][i] = yoc_sdc_one(s, C->v[k][i]);
		if (np && all >= 0) {
			int64_t col[MAXG + 1], pub[MAXG + 1];
			unsigned char st[MAXG + 1];
			int64_t sum = 0;
			for (int i = 0; i < np; i++)
				sum += col[i] = C->v[k][first + i];
			col[np] = sum;
			if (sum != C->v[k][all])
				continue; /* not a partition: each count alone */
			if ((rc = yoc__protect(c, np + 1, 1, 1, 0, col, st, pub)))
				break;
			for (int i = 0; i < np; i++) {
				C->pub[k][first + i] = pub[i];
				C->st[k][first + i] = st[i];
			}
			C->pub[k][all] = pub[np];
			C->st[k][all] = st[np];
		}
	}
	if (rc)
		goto cleanup;
	static const char *const cols[] = {"Group", "Name", "People", "With a plan", "Coverage (%)",
		"Plans with a review overdue", "Overdue (% of people with a plan)"};
	int kinds[7] = {K_TEXT, K_TEXT, K_COUNT, K_COUNT, K_PCT, K_COUNT, K_PCT};
	struct ptable *t = yoc__pt_new(c, "careplan_cover", "Care plan coverage",
				       "People: registered on the reporting date (practices) or "
				       "members of the cohort on it. Overdue: the next review was due "
				       "before the reporting date and none has been recorded since.",
				       7, cols, kinds);
	for (int i = 0; t && i < C->n; i++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			break;
		r[0].s = strcmp(C->kind[i], "all") == 0 ? "All" : C->kind[i];
		r[1].s = C->grp[i];
		yoc__set_count(&r[2], C->pub[0][i]);
		yoc__set_count(&r[3], C->pub[1][i]);
		double cv = yoc_sdc_rate(s, C->v[1][i], C->v[0][i], state_of(C->pub[0][i]), 100, 1);
		yoc__set_pct(&r[4], cv, C->pub[1][i] != YOC_SDC_HIDDEN && !isnan(cv));
		yoc__set_count(&r[5], C->pub[2][i]);
		double ov = yoc_sdc_rate(s, C->v[2][i], C->v[1][i], state_of(C->pub[1][i]), 100, 1);
		yoc__set_pct(&r[6], ov, C->pub[2][i] != YOC_SDC_HIDDEN && !isnan(ov));
	}
	yoc__add_table(c, t);
	yoc_buf_puts(b, "<section id=\"coverage\"><h2>Who has a care and support plan</h2><p>A "
			"care and support plan records what matters to the person, their goals, "
			"the actions agreed and the needs found, with a named coordinator and a "
			"date for review. Coverage is the share of the registered population, of "
			"each practice's and of each cohort's people with a plan.</p>");
	yoc__html_table(c, b, t);
	yoc_buf_puts(b, "</section>\n");
	rc = oom(c);
cleanup:
	yoc_free(C);
	return rc;
}

/* ---- cross tables with margins ---------------------------------------------------- */

#define MAXA 24
#define MAXB 12

/*
** A table a x b of counts from sql (a, b, n rows), with row and column
** totals, through yoc__protect; published as id.
*/
static int cross(struct ctx *c, sqlite3 *db, struct yoc_buf *b, const char *sql, const char *id,
		 const char *title, const char *note, const char *a_label, const char *chart_title)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return yoc_error_set(c->e, YOC_EDATA, id, 0, 0, "%s", sqlite3_errmsg(db));
	const char *A[MAXA], *B[MAXB];
	int na = 0, nb = 0;
	int64_t v[(MAXA + 1) * (MAXB + 1)];
	memset(v, 0, sizeof v);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *x = (const char *)sqlite3_column_text(q, 0),
			   *y = (const char *)sqlite3_column_text(q, 1);
		int i = 0, j = 0;
		while (i < na && strcmp(A[i], x) != 0)
			i++;
		if (i == na) {
			if (na == MAXA)
				continue;
			A[na++] = yoc__pt_str(c, x);
		}
		while (j < nb && strcmp(B[j], y) != 0)
			j++;
		if (j == nb) {
			if (nb == MAXB)
				continue;
			B[nb++] = yoc__pt_str(c, y);
		}
		v[i * (MAXB + 1) + j] += sqlite3_column_int64(q, 2);
	}
	sqlite3_finalize(q);
	if (na == 0 || nb == 0 || c->oom)
		return oom(c);
	/* pack into (na + 1) x (nb + 1) with margins */
	int nc = nb + 1, nr = na + 1;
	int64_t m[(MAXA + 1) * (MAXB + 1)], pub[(MAXA + 1) * (MAXB + 1)];
	unsigned char st[(MAXA + 1) * (MAXB + 1)];
	memset(m, 0, sizeof m);
	for (int i = 0; i < na; i++)
		for (int j = 0; j < nb; j++) {
			int64_t x = v[i * (MAXB + 1) + j];
			m[i * nc + j] = x;
			m[i * nc + nb] += x;
			m[na * nc + j] += x;
			m[na * nc + nb] += x;
		}
	int rc = yoc__protect(c, nr, nc, 1, 1, m, st, pub);
	if (rc)
		return rc;
	const char *cols[MAXB + 2];
	int kinds[MAXB + 2];
	cols[0] = a_label;
	kinds[0] = K_TEXT;
	for (int j = 0; j < nb; j++) {
		cols[1 + j] = B[j];
		kinds[1 + j] = K_COUNT;
	}
	cols[nb + 1] = "Total";
	kinds[nb + 1] = K_COUNT;
	struct ptable *t = yoc__pt_new(c, id, title, note, nb + 2, cols, kinds);
	double chart[(MAXA + 1) * MAXB];
	for (int i = 0; t && i < nr; i++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			break;
		r[0].s = i < na ? A[i] : "Total";
		for (int j = 0; j < nc; j++)
			yoc__set_count(&r[1 + j], pub[i * nc + j]);
		for (int j = 0; i < na && j < nb; j++) {
			double d = yoc__dv(pub[i * nc + j]);
			chart[i * nb + j] = isnan(d) ? 0 : d;
		}
	}
	yoc__add_table(c, t);
	if (chart_title)
		yoc__svg_stacked(b, chart_title, na, A, nb, B, chart, 0);
	yoc__html_table(c, b, t);
	return oom(c);
}

/* Needs by locality (LSOA): partly met and unmet, a column with its total. */
static int localities(struct ctx *c, sqlite3 *db, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, "SELECT locality, sum(needs), sum(partly + unmet) FROM careplan_need"
				   " GROUP BY locality ORDER BY sum(partly + unmet) DESC, locality", -1,
			       &q, NULL) != SQLITE_OK)
		return yoc_error_set(c->e, YOC_EDATA, "careplan_need", 0, 0, "%s", sqlite3_errmsg(db));
	struct cover *C = yoc_calloc(1, sizeof *C);
	if (!C) {
		sqlite3_finalize(q);
		return yoc_error_set(c->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	}
	int rc = 0;
	while (sqlite3_step(q) == SQLITE_ROW && C->n < MAXG) {
		C->grp[C->n] = yoc__pt_str(c, (const char *)sqlite3_column_text(q, 0));
		C->v[0][C->n] = sqlite3_column_int64(q, 1);
		C->v[1][C->n] = sqlite3_column_int64(q, 2);
		C->n++;
	}
	sqlite3_finalize(q);
	if (C->n == 0)
		goto cleanup;
	for (int k = 0; k < 2 && !rc; k++) {
		C->v[k][C->n] = 0;
		for (int i = 0; i < C->n; i++)
			C->v[k][C->n] += C->v[k][i];
		rc = yoc__protect(c, C->n + 1, 1, 1, 0, C->v[k], C->st[k], C->pub[k]);
	}
	if (rc)
		goto cleanup;
	static const char *const cols[] = {"Locality (LSOA)", "Needs recorded",
		"Partly met or unmet", "Share not met (%)"};
	int kinds[4] = {K_TEXT, K_COUNT, K_COUNT, K_PCT};
	struct ptable *t = yoc__pt_new(c, "careplan_locality", "Needs not met by locality",
				       "Locality: the small area (LSOA) of the need's row, else of "
				       "the person; in order of needs not met.", 4, cols, kinds);
	for (int i = 0; t && i <= C->n; i++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			break;
		r[0].s = i < C->n ? C->grp[i] : "Total";
		yoc__set_count(&r[1], C->pub[0][i]);
		yoc__set_count(&r[2], C->pub[1][i]);
		double sh = yoc_sdc_rate(s, C->v[1][i], C->v[0][i], C->st[0][i], 100, 1);
		yoc__set_pct(&r[3], sh, C->pub[1][i] != YOC_SDC_HIDDEN && !isnan(sh));
	}
	yoc__add_table(c, t);
	yoc__html_table(c, b, t);
	rc = oom(c);
cleanup:
	yoc_free(C);
	return rc;
}

static int pam(struct ctx *c, sqlite3 *db, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, "SELECT l.level, l.first_people, l.latest_people, p.measured_twice,"
				   " p.mean_first, p.mean_latest, p.mean_change, p.moved_up FROM"
				   " pam_level l JOIN pam_change p ON p.baseline_level = l.level ORDER BY"
				   " l.level", -1, &q, NULL) != SQLITE_OK)
		return yoc_error_set(c->e, YOC_EDATA, "pam_change", 0, 0, "%s", sqlite3_errmsg(db));
	int64_t v[3][5];
	double mean[3][4];
	int64_t up[4];
	memset(v, 0, sizeof v);
	memset(mean, 0, sizeof mean);
	int n = 0;
	while (sqlite3_step(q) == SQLITE_ROW && n < 4) {
		for (int k = 0; k < 3; k++) {
			v[k][n] = sqlite3_column_int64(q, 1 + k);
			v[k][4] += v[k][n];
		}
		for (int k = 0; k < 3; k++)
			mean[k][n] = sqlite3_column_double(q, 4 + k);
		up[n] = sqlite3_column_int64(q, 7);
		n++;
	}
	sqlite3_finalize(q);
	if (n != 4 || v[0][4] == 0)
		return 0;
	int64_t pub[3][5];
	unsigned char st[3][5];
	for (int k = 0; k < 3; k++) {
		int rc = yoc__protect(c, 5, 1, 1, 0, v[k], st[k], pub[k]);
		if (rc)
			return rc;
	}
	static const char *const cols[] = {"Level", "People at first measure", "People at latest measure",
		"Measured twice or more", "Mean first score", "Mean latest score", "Mean change",
		"Moved up a level"};
	int kinds[8] = {K_TEXT, K_COUNT, K_COUNT, K_COUNT, K_NUM, K_NUM, K_NUM, K_COUNT};
	struct ptable *t = yoc__pt_new(c, "pam_change", "Patient activation: levels and change",
				       "Level by the published cut-offs of the score (1: up to 47.0, 2: "
				       "up to 55.1, 3: up to 67.0, 4: above). Change: latest minus "
				       "first score of people measured at least twice, by their first "
				       "level; shown where that count may carry a statistic.",
				       8, cols, kinds);
	static const char *const lv[] = {"1 (disengaged)", "2 (becoming aware)", "3 (taking action)",
		"4 (maintaining)", "Total"};
	const char *cat[4];
	double chart[4];
	for (int i = 0; t && i < 5; i++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			break;
		r[0].s = lv[i];
		for (int k = 0; k < 3; k++)
			yoc__set_count(&r[1 + k], pub[k][i]);
		int ok = i < 4 && yoc_sdc_stat_ok(s, v[2][i], st[2][i]);
		for (int k = 0; k < 3; k++) {
			r[4 + k].d = round(mean[k][i < 4 ? i : 0] * 10) / 10;
			r[4 + k].hidden = !ok;
		}
		if (i < 4) {
			yoc__set_count(&r[7], ok ? yoc_sdc_one(s, up[i]) : YOC_SDC_HIDDEN);
			cat[i] = lv[i];
			chart[i] = ok ? r[6].d : 0;
		} else {
			r[7].hidden = 1;
		}
	}
	yoc__add_table(c, t);
	yoc_buf_puts(b, "<section id=\"pam\"><h2>Patient activation</h2><p>The Patient "
			"Activation Measure scores a person's knowledge, skills and confidence "
			"to manage their own health (0-100, four levels). Published evaluations "
			"find that the least activated gain most from support; the change "
			"between each person's first and latest measure, by their first level, "
			"shows whether that holds here.</p>");
	static const char *const ser[] = {"Mean change in score"};
	yoc__svg_stacked(b, "Mean change in PAM score by first level", 4, cat, 1, ser, chart, 0);
	yoc__html_table(c, b, t);
	yoc_buf_puts(b, "</section>\n");
	return oom(c);
}

int yoc__page_careplan(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b)
{
	char asof[16] = "";
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, "SELECT asof FROM careplan_run", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
		snprintf(asof, sizeof asof, "%s", (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	yoc_buf_printf(b, "<p>Care and support plans from GP systems and Patient Activation "
			  "Measure results, on %s (docs/outcomes.md). Every count passes "
			  "disclosure control.</p>\n", asof);
	int rc = coverage(c, db, b);
	if (rc)
		return rc;
	yoc_buf_puts(b, "<section id=\"goals\"><h2>Goals</h2>");
	if ((rc = cross(c, db, b, "SELECT domain, status, goals FROM careplan_goal ORDER BY domain,"
				  " CASE status WHEN 'NOT_STARTED' THEN 0 WHEN 'IN_PROGRESS' THEN 1 WHEN"
				  " 'ACHIEVED' THEN 2 WHEN 'ABANDONED' THEN 3 ELSE 4 END",
			"careplan_goal", "Goals by domain and status", "Each goal's latest status.",
			"Domain", "Goals by domain and status")))
		return rc;
	yoc_buf_puts(b, "</section>\n<section id=\"actions\"><h2>Actions and referrals</h2>");
	if ((rc = cross(c, db, b, "SELECT action_kind, status, actions FROM careplan_action ORDER BY"
				  " action_kind, status DESC",
			"careplan_action", "Actions and referrals by kind and status",
			"Each action's latest status.", "Kind", NULL)))
		return rc;
	yoc_buf_puts(b, "</section>\n<section id=\"needs\"><h2>Unmet needs</h2><p>What people's "
			"plans found they need and could not get: the needs commissioners "
			"should buy more for, where they are, and why they were not met.</p>");
	if ((rc = cross(c, db, b, "SELECT need, s, n FROM (SELECT need, 'MET' AS s, sum(met) AS n"
				  " FROM careplan_need GROUP BY need UNION ALL SELECT need, 'PARTLY',"
				  " sum(partly) FROM careplan_need GROUP BY need UNION ALL SELECT need,"
				  " 'UNMET', sum(unmet) FROM careplan_need GROUP BY need) ORDER BY need,"
				  " CASE s WHEN 'MET' THEN 0 WHEN 'PARTLY' THEN 1 ELSE 2 END",
			"careplan_need", "Needs by need and status", "Each need's latest status.",
			"Need", "Needs by status")) ||
	    (rc = cross(c, db, b, "SELECT need, reason, needs FROM careplan_unmet ORDER BY need, reason",
			"careplan_unmet", "Needs partly met or unmet, by reason", NULL, "Need",
			NULL)) ||
	    (rc = localities(c, db, b)))
		return rc;
	yoc_buf_puts(b, "</section>\n");
	return pam(c, db, b);
}

/*
** cohorts.html: for each cohort (src/cohort), the funnel from population to
** enrolment, the review outcome per practice (how often clinicians
** overrode the rule, and why), size and turnover by month, and the cohort's
** people and cost by setting against the rest of the population in the
** report's year. Also the practice packs' cohort section. Every count goes
** through disclosure control (yoc_sdc_one, yoc__protect), money through
** yoc_sdc_money and yoc_sdc_mean, shares from published counts.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cohort/cohort.h"
#include "report/report_int.h"
#include "sdc/sdc.h"
#include "yoc/date.h"

static void esc(struct yoc_buf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '<')
			yoc_buf_puts(b, "&lt;");
		else if (*s == '>')
			yoc_buf_puts(b, "&gt;");
		else if (*s == '&')
			yoc_buf_puts(b, "&amp;");
		else if (*s == '"')
			yoc_buf_puts(b, "&quot;");
		else
			yoc_buf_putc(b, *s);
	}
}

static const char *tid(struct ctx *c, const char *cohort, const char *what)
{
	char id[160];
	snprintf(id, sizeof id, "cohort_%s_%s", cohort, what);
	return yoc__pt_str(c, id);
}

static int funnel_table(struct ctx *c, struct yoc_buf *b, const struct yoc_cohort_funnel *f)
{
	const struct yoc_sdc *s = &c->o->sdc;
	static const char *const cols[] = {"Stage", "People"};
	int kinds[2] = {K_TEXT, K_COUNT};
	struct ptable *t = yoc__pt_new(c, tid(c, f->cohort, "funnel"), "Funnel",
				       "From the population the rule was run on to the members now;"
				       " each count rounded and small counts hidden on its own.",
				       2, cols, kinds);
	const char *stage[] = {"Population (person-years of the selection year)",
			       "Selected by the rule", "Reviewed by a clinician",
			       "Included after review", "Added by clinicians",
			       "Excluded after review", "Deferred", "Consented (care)",
			       "... and to secondary use (counted in evaluation)",
			       "Enrolled (ever)", "Members now"};
	size_t v[] = {f->population, f->selected, f->reviewed, f->included, f->added,
		      f->excluded, f->deferred, f->consented, f->secondary, f->enrolled,
		      f->current};
	for (size_t i = 0; t && i < sizeof v / sizeof v[0]; i++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			return YOC_ENOMEM;
		r[0].s = stage[i];
		yoc__set_count(&r[1], yoc_sdc_one(s, (int64_t)v[i]));
	}
	if (!t)
		return YOC_ENOMEM;
	yoc__add_table(c, t);
	return yoc__html_table(c, b, t);
}

static int practice_table(struct ctx *c, sqlite3 *db, struct yoc_buf *b, const char *cohort)
{
	const struct yoc_sdc *s = &c->o->sdc;
	struct yoc_cohort_prac *p = NULL;
	size_t n = 0;
	int64_t *v = NULL, *pub = NULL;
	unsigned char *st = NULL;
	int rc = yoc_cohort_practices(db, cohort, &p, &n, c->e);
	if (rc || n == 0 || n > 1000)
		goto cleanup;
	/* include, exclude, defer and their total (reviewed), with a total row */
	size_t cells = (n + 1) * 4;
	v = yoc_calloc(cells, sizeof *v);
	pub = yoc_calloc(cells, sizeof *pub);
	st = yoc_calloc(cells, 1);
	if (!v || !pub || !st) {
		rc = YOC_ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		int64_t x[3] = {p[i].include, p[i].exclude, p[i].defer};
		for (int k = 0; k < 3; k++) {
			v[i * 4 + k] = x[k];
			v[i * 4 + 3] += x[k];
			v[n * 4 + k] += x[k];
			v[n * 4 + 3] += x[k];
		}
	}
	if ((rc = yoc__protect(c, (int)n + 1, 4, 1, 1, v, st, pub)))
		goto cleanup;
	static const char *const cols[] = {"Practice", "Candidates", "Included", "Excluded",
					   "Deferred", "Reviewed", "% overridden (excluded)",
					   "Added by clinicians", "Consented", "Members now"};
	int kinds[10] = {K_TEXT, K_COUNT, K_COUNT, K_COUNT, K_COUNT, K_COUNT, K_PCT, K_COUNT,
			 K_COUNT, K_COUNT};
	struct ptable *t = yoc__pt_new(c, tid(c, cohort, "practices"),
				       "Review outcome by practice",
				       "Each person's latest decision. Overridden: the share of the"
				       " reviewed people the clinicians excluded although the rule"
				       " selected them.",
				       10, cols, kinds);
	int64_t tot[4] = {0, 0, 0, 0};
	for (size_t i = 0; t && i <= n; i++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r) {
			rc = YOC_ENOMEM;
			goto cleanup;
		}
		int64_t cand = i < n ? p[i].candidates : tot[0], add = i < n ? p[i].add : tot[1];
		int64_t cons = i < n ? p[i].consented : tot[2], cur = i < n ? p[i].current : tot[3];
		if (i < n) {
			tot[0] += cand;
			tot[1] += add;
			tot[2] += cons;
			tot[3] += cur;
		}
		r[0].s = i < n ? yoc__pt_str(c, p[i].practice) : "Total";
		yoc__set_count(&r[1], yoc_sdc_one(s, cand));
		for (int k = 0; k < 4; k++)
			yoc__set_count(&r[2 + k], pub[i * 4 + k]);
		yoc__set_pct(&r[6], yoc__pub_pct(pub[i * 4 + 1], pub[i * 4 + 3]), 1);
		yoc__set_count(&r[7], yoc_sdc_one(s, add));
		yoc__set_count(&r[8], yoc_sdc_one(s, cons));
		yoc__set_count(&r[9], yoc_sdc_one(s, cur));
	}
	if (!t) {
		rc = YOC_ENOMEM;
		goto cleanup;
	}
	yoc__add_table(c, t);
	rc = yoc__html_table(c, b, t);
cleanup:
	yoc_free(p);
	yoc_free(v);
	yoc_free(pub);
	yoc_free(st);
	return rc;
}

static int reason_tables(struct ctx *c, struct yoc_buf *b, const struct yoc_cohort_funnel *f)
{
	for (int which = 0; which < 2; which++) {
		size_t n = which ? f->nleave : f->nreason;
		if (!n)
			continue;
		int64_t v[17] = {0}, pub[17];
		unsigned char st[17];
		for (size_t i = 0; i < n; i++) {
			v[i] = (int64_t)(which ? f->leave_n[i] : f->reason_n[i]);
			v[n] += v[i];
		}
		int rc = yoc__protect(c, (int)n + 1, 1, 1, 0, v, st, pub);
		if (rc)
			return rc;
		static const char *const cols[] = {"Reason", "People"};
		int kinds[2] = {K_TEXT, K_COUNT};
		struct ptable *t = yoc__pt_new(c, tid(c, f->cohort, which ? "leavers" : "exclusions"),
					       which ? "Why members left" : "Why clinicians excluded"
									   " people",
					       NULL, 2, cols, kinds);
		for (size_t i = 0; t && i <= n; i++) {
			struct pcell *r = yoc__pt_row(c, t);
			if (!r)
				return YOC_ENOMEM;
			r[0].s = i < n ? (which ? f->leave[i] : f->reason[i]) : "Total";
			yoc__set_count(&r[1], pub[i]);
		}
		if (!t)
			return YOC_ENOMEM;
		yoc__add_table(c, t);
		if ((rc = yoc__html_table(c, b, t)))
			return rc;
	}
	return YOC_OK;
}

static int month_table(struct ctx *c, sqlite3 *db, struct yoc_buf *b, const char *cohort,
		       const char *fyear)
{
	const struct yoc_sdc *s = &c->o->sdc;
	struct yoc_cohort_month *m = NULL;
	size_t n = 0;
	int fy;
	int32_t until = yoc_cohort_today();
	if (yoc_fyear_parse(fyear, strlen(fyear), &fy) == 0 && yoc_fyear_end(fy) < until)
		until = yoc_fyear_end(fy);
	int rc = yoc_cohort_months(db, cohort, until, &m, &n, c->e);
	if (rc || !n) {
		yoc_free(m);
		return rc;
	}
	static const char *const cols[] = {"Month", "Members at month end", "Joined", "Left"};
	int kinds[4] = {K_TEXT, K_COUNT, K_COUNT, K_COUNT};
	struct ptable *t = yoc__pt_new(c, tid(c, cohort, "months"), "Size and turnover by month",
				       NULL, 4, cols, kinds);
	for (size_t i = 0; t && i < n; i++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r) {
			yoc_free(m);
			return YOC_ENOMEM;
		}
		r[0].s = yoc__pt_str(c, m[i].month);
		yoc__set_count(&r[1], yoc_sdc_one(s, (int64_t)m[i].size));
		yoc__set_count(&r[2], yoc_sdc_one(s, (int64_t)m[i].joined));
		yoc__set_count(&r[3], yoc_sdc_one(s, (int64_t)m[i].left));
	}
	yoc_free(m);
	if (!t)
		return YOC_ENOMEM;
	yoc__add_table(c, t);
	return yoc__html_table(c, b, t);
}

static int cost_table(struct ctx *c, sqlite3 *db, struct yoc_buf *b, const char *cohort,
		      const char *fyear)
{
	const struct yoc_sdc *s = &c->o->sdc;
	const char *cols_db[NSET + 1];
	int64_t people[3], sums[3 * (NSET + 1)];
	for (int k = 0; k < NSET; k++)
		cols_db[k] = yoc__set_col[k];
	cols_db[NSET] = "cost_total";
	int rc = yoc_cohort_year_sums(db, cohort, fyear, cols_db, NSET + 1, people, sums, c->e);
	if (rc)
		return rc;
	if (people[0] + people[1] == 0)
		return YOC_OK;
	int64_t np[2] = {yoc_sdc_one(s, people[0]), yoc_sdc_one(s, people[2])};
	static const char *const pcols[] = {"Group", "People"};
	int pkinds[2] = {K_TEXT, K_COUNT};
	struct ptable *pt = yoc__pt_new(c, tid(c, cohort, "people"), "People in the year", NULL, 2,
					pcols, pkinds);
	const char *grp[3] = {"Cohort members who consented to secondary use",
			      "Cohort members without that consent (not compared)",
			      "Rest of the population"};
	for (int g = 0; pt && g < 3; g++) {
		struct pcell *r = yoc__pt_row(c, pt);
		if (!r)
			return YOC_ENOMEM;
		r[0].s = grp[g];
		yoc__set_count(&r[1], yoc_sdc_one(s, people[g]));
	}
	if (!pt)
		return YOC_ENOMEM;
	yoc__add_table(c, pt);
	if ((rc = yoc__html_table(c, b, pt)))
		return rc;
	static const char *const cols[] = {"Setting", "Cohort: cost", "Cohort: mean per person",
					   "Rest of the population: cost",
					   "Rest: mean per person"};
	int kinds[5] = {K_TEXT, K_PENCE, K_PENCE, K_PENCE, K_PENCE};
	char note[300];
	snprintf(note, sizeof note,
		 "Members at any time in %s who consented to secondary use (the others are left"
		 " out of both columns); money to 3 significant figures, means of published"
		 " figures.", fyear);
	struct ptable *t = yoc__pt_new(c, tid(c, cohort, "cost"), "People and cost by setting",
				       yoc__pt_str(c, note), 5, cols, kinds);
	for (int j = 0; t && j <= NSET; j++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			return YOC_ENOMEM;
		r[0].s = j < NSET ? yoc__set_name[j] : "Total";
		for (int g = 0; g < 2; g++) {
			int src = g ? 2 : 0;
			int ok = yoc_sdc_stat_ok(s, people[src], np[g] == YOC_SDC_HIDDEN);
			int64_t sum = sums[src * (NSET + 1) + j];
			yoc__set_pence(&r[1 + 2 * g], yoc_sdc_money(s, sum), ok);
			yoc__set_pence(&r[2 + 2 * g], ok ? yoc_sdc_mean(s, sum, people[src], np[g]) : 0,
				       ok);
		}
	}
	if (!t)
		return YOC_ENOMEM;
	yoc__add_table(c, t);
	return yoc__html_table(c, b, t);
}

int yoc__cohorts_present(sqlite3 *db, const struct report *R)
{
	char **names = NULL;
	size_t n = 0;
	(void)R;
	if (yoc_cohort_names(db, &names, &n, NULL))
		return 0;
	yoc_cohort_names_free(names, n);
	return n > 0;
}

int yoc__page_cohorts(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b)
{
	char **names = NULL;
	size_t n = 0;
	int rc = yoc_cohort_names(db, &names, &n, c->e);
	if (rc)
		return rc;
	yoc_buf_puts(b, "<section id=\"cohorts\"><h2>Cohorts</h2><p>Cohorts are selected by"
			" rules, every person selected is reviewed by a clinician before referral,"
			" and the register records who is in each cohort, from when to when and why"
			" they left (docs/cohorts.md).</p>");
	if (!n)
		yoc_buf_puts(b, "<p>No cohorts are defined in this dataset (<code>yoc cohort"
				" define</code>).</p>");
	for (size_t i = 0; i < n && !rc; i++) {
		struct yoc_cohort_def d;
		struct yoc_cohort_funnel f;
		if ((rc = yoc_cohort_def_get(db, names[i], 0, &d, c->e)))
			break;
		if ((rc = yoc_cohort_funnel(db, names[i], &f, c->e))) {
			yoc_cohort_def_free(&d);
			break;
		}
		yoc_buf_puts(b, "<section><h3>");
		esc(b, d.name);
		yoc_buf_printf(b, "</h3><p>Version %d, by ", d.version);
		esc(b, d.author);
		yoc_buf_puts(b, ". Rule: <code>");
		esc(b, d.rule);
		yoc_buf_puts(b, "</code>");
		if (d.description[0]) {
			yoc_buf_puts(b, ". ");
			esc(b, d.description);
		}
		if (d.service_model[0]) {
			yoc_buf_puts(b, ". Service model: ");
			esc(b, d.service_model);
		}
		yoc_buf_printf(b, ". Selected on %s data.</p>", f.fyear[0] ? f.fyear : "no");
		yoc_cohort_def_free(&d);
		if ((rc = funnel_table(c, b, &f)) || (rc = practice_table(c, db, b, names[i])) ||
		    (rc = reason_tables(c, b, &f)) || (rc = month_table(c, db, b, names[i], R->fyear)) ||
		    (rc = cost_table(c, db, b, names[i], R->fyear)))
			break;
		yoc_buf_puts(b, "</section>");
	}
	yoc_buf_puts(b, "</section>\n");
	yoc_cohort_names_free(names, n);
	return c->oom ? YOC_ENOMEM : rc;
}

/* A practice pack's own cohorts: candidates, decisions, consent, members. */
int yoc__pack_cohorts(struct ctx *c, sqlite3 *db, struct report *R, const struct prac *p,
		      struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	char **names = NULL;
	size_t n = 0;
	(void)R;
	int rc = yoc_cohort_names(db, &names, &n, c->e);
	if (rc || !n || p->unknown) {
		yoc_cohort_names_free(names, n);
		return rc;
	}
	char name[64], id[128];
	yoc__safe_name(p->code, name, sizeof name);
	snprintf(id, sizeof id, "practices/%s_cohorts", name);
	/* no split of the decisions here: the page's table protects that split
	 * (a pack showing it beside the candidates would undo its suppression) */
	static const char *const cols[] = {"Cohort", "Candidates", "Included", "Added",
					   "Consented", "Members now"};
	int kinds[6] = {K_TEXT, K_COUNT, K_COUNT, K_COUNT, K_COUNT, K_COUNT};
	struct ptable *t = yoc__pt_new(c, yoc__pt_str(c, id), "Cohorts: this practice", NULL, 6,
				       cols, kinds);
	for (size_t i = 0; t && i < n && !rc; i++) {
		struct yoc_cohort_prac *pr = NULL;
		size_t np = 0;
		if ((rc = yoc_cohort_practices(db, names[i], &pr, &np, c->e)))
			break;
		struct yoc_cohort_prac z;
		memset(&z, 0, sizeof z);
		const struct yoc_cohort_prac *x = &z;
		for (size_t k = 0; k < np; k++)
			if (strcmp(pr[k].practice, p->code) == 0)
				x = &pr[k];
		struct pcell *r = yoc__pt_row(c, t);
		if (!r) {
			yoc_free(pr);
			rc = YOC_ENOMEM;
			break;
		}
		r[0].s = yoc__pt_str(c, names[i]);
		int64_t v[5] = {x->candidates, x->include, x->add, x->consented, x->current};
		for (int k = 0; k < 5; k++)
			yoc__set_count(&r[1 + k], p->state ? YOC_SDC_HIDDEN : yoc_sdc_one(s, v[k]));
		yoc_free(pr);
	}
	yoc_cohort_names_free(names, n);
	if (rc)
		return rc;
	if (!t)
		return YOC_ENOMEM;
	yoc_buf_puts(b, "<h2>Cohorts</h2><p>This practice's part of each cohort: the people the"
			" rule selected for review, the practice's decisions and the members now"
			" (see the Cohorts page for the whole picture).</p>");
	if ((rc = yoc__html_table(c, b, t)))
		return rc;
	return yoc__write_csv(c, t);
}

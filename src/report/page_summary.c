/*
** The top and the caveats of index.html: the executive summary in plain
** language (the population, the total cost, the three biggest drivers of
** cost, computed and ranked by their share of it, and the largest
** data-quality caveats), and the ranked list of data-quality caveats with
** their effect in people and pounds, each linking to its section of the
** quality report (src/quality, yoc_quality_caveats). Every figure is a
** published one (src/sdc): counts through yoc_sdc_one, sums of money
** through yoc_sdc_money, shares of published sums.
*/
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quality/quality.h"
#include "report/report_int.h"
#include "report/svg.h"

/* "£1,740,000" of published pence. */
static const char *pounds(int64_t pence, char *buf, size_t n)
{
	char t[32];
	int64_t p = pence >= 0 ? (pence + 50) / 100 : -((-pence + 50) / 100);
	snprintf(buf, n, "£%s", yoc_sdc_fmt(p, 1, t));
	return buf;
}

/* A share of published values as "31%" (whole percent), "*" when hidden. */
static const char *share(int64_t part, int64_t whole, char *buf, size_t n)
{
	double x = yoc__pub_pct(part, whole);
	if (isnan(x))
		snprintf(buf, n, "*");
	else
		snprintf(buf, n, "%.0f%%", x);
	return buf;
}

struct driver {
	double cost_share;   /* for ranking: of published sums */
	char text[400];
};

/* The cost of the most costly pct% of people, in pence (exact), from the
 * partial's sorted costs (yoc__part_finish). */
static int64_t top_cost(const struct acc *a, int pct, int64_t *npeople)
{
	size_t k = a->allc ? (size_t)a->all.n : 0;
	const int64_t *all = a->allc;
	size_t top = (k * (size_t)pct + 99) / 100;
	int64_t s = 0;
	for (size_t i = 0; i < top; i++)
		s += all[k - 1 - i];
	*npeople = (int64_t)top;
	return s;
}

static int drv_cmp(const void *x, const void *y)
{
	const struct driver *a = x, *b = y;
	return (a->cost_share < b->cost_share) - (a->cost_share > b->cost_share);
}

/* The caveat's issue in words of its kind (the quality report's own
 * sentence holds exact counts, which a published page may not). */
static const char *caveat_issue(const struct yoc_caveat *k, char *buf, size_t n)
{
	static const char *const kind[][2] = {
		{"missing_month", "A provider sent only some months of the year: its costs are "
				  "incomplete"},
		{"renamed_column", "A column was sent under another name"},
		{"average_priced", "Activity priced at the average price of its kind"},
		{"unpriced", "Activity with no price, left out of the costs"},
		{"no_pseudonym", "Activity linked to nobody (no pseudonym), in no one's costs"},
		{"practice_unknown", "People with no valid practice, in no practice's figures"},
	};
	const char *what = k->kind;
	for (size_t i = 0; i < sizeof kind / sizeof kind[0]; i++)
		if (strcmp(k->kind, kind[i][0]) == 0)
			what = kind[i][1];
	/* the feed, where the sentence starts "N FEED records" */
	char feed[24] = "";
	const char *sp = strchr(k->text, ' ');
	if (sp && sscanf(sp + 1, "%23[a-z_] records", feed) == 1 && strstr(sp, " records"))
		snprintf(buf, n, "%s (%s feed)", what, feed);
	else
		snprintf(buf, n, "%s", what);
	return buf;
}

/* The quality report's link for a caveat: its anchor on --quality-url. */
static const char *caveat_href(const struct ctx *c, const struct yoc_caveat *k, char *buf,
			       size_t n)
{
	const char *hash = strchr(k->anchor, '#');
	snprintf(buf, n, "%s%s", c->o->quality_url ? c->o->quality_url
						   : "../quality/quality.html", hash ? hash : "");
	return buf;
}

/* The caveats of the year (none when the dataset has no load records),
 * read once into R for the summary and the caveats section. */
static int load_caveats(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_caveat **cv,
			size_t *n)
{
	if (!R->caveats_read) {
		struct yoc_error e;
		yoc_error_clear(&e);
		/* the practice unknown from the partial: a sharded report's catalog
		 * holds no person_year rows */
		int64_t unknown[2] = {0, 0};
		for (size_t i = 0; i < R->a.nprac; i++)
			if (R->a.prac[i].unknown) {
				unknown[0] += R->a.prac[i].all.n;
				unknown[1] += R->a.prac[i].all.cost;
			}
		int rc = yoc_quality_caveats_with(db, R->fyear, unknown, &R->caveats,
						  &R->ncaveats, &e);
		if (rc == YOC_ENOMEM)
			return yoc_error_set(c->e, rc, NULL, 0, 0, "out of memory");
		if (rc) { /* a dataset without the load records: no caveats known */
			yoc_free(R->caveats);
			R->caveats = NULL;
			R->ncaveats = 0;
		}
		R->caveats_read = 1;
	}
	*cv = R->caveats;
	*n = R->ncaveats;
	return 0;
}

int yoc__summary_section(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b)
{
	const struct acc *a = &R->a;
	const struct yoc_sdc *s = &c->o->sdc;
	char n1[48], n2[48], n3[48], n4[48];
	int64_t npub = yoc_sdc_one(s, a->all.n);
	int64_t tot = yoc_sdc_money(s, a->all.cost);
	int ok = yoc_sdc_stat_ok(s, a->all.n, 0);
	yoc_buf_puts(b, "<section id=\"summary\" class=\"summary\"><h2>Summary</h2><p>");
	yoc_buf_printf(b, "In %s, %s people were registered with the population's practices. "
		       "Their care cost %s in all", R->fyear, yoc_sdc_fmt(npub, 1, n1),
		       ok ? pounds(tot, n2, sizeof n2) : "*");
	if (ok)
		yoc_buf_printf(b, ", %s a person on average",
			       pounds(yoc_sdc_mean(s, a->all.cost, a->all.n, npub), n3, sizeof n3));
	yoc_buf_puts(b, ".</p>");

	/* the drivers: each a share of the published total */
	struct driver d[4];
	int nd = 0;
	int top = 0;
	for (int k = 1; k < NSET; k++)
		if (a->all.set[k] > a->all.set[top])
			top = k;
	int64_t sp = yoc_sdc_money(s, a->all.set[top]);
	d[nd].cost_share = yoc__pub_pct(sp, tot);
	snprintf(d[nd++].text, sizeof d[0].text, "%s care is the largest part of the cost: %s "
		 "(%s).", yoc__set_name[top], pounds(sp, n1, sizeof n1), share(sp, tot, n2, sizeof n2));
	int64_t mmc = 0;
	for (int k = 2; k < NLTC; k++)
		mmc += a->ltc[k].cost;
	int64_t mmp = yoc_sdc_money(s, mmc), mmn = yoc_sdc_one(s, a->all.mm);
	d[nd].cost_share = yoc__pub_pct(mmp, tot);
	snprintf(d[nd++].text, sizeof d[0].text, "People with two or more long-term conditions "
		 "are %s of the population but account for %s of the cost.",
		 share(mmn, npub, n1, sizeof n1), share(mmp, tot, n2, sizeof n2));
	int64_t ntop = 0, tc = top_cost(a, 5, &ntop);
	int64_t tcp = yoc_sdc_money(s, tc);
	d[nd].cost_share = yoc__pub_pct(tcp, tot);
	snprintf(d[nd++].text, sizeof d[0].text, "The most costly 5%% of people (%s) account for "
		 "%s of the cost (%s).", yoc_sdc_fmt(yoc_sdc_one(s, ntop), 1, n3),
		 share(tcp, tot, n1, sizeof n1), pounds(tcp, n2, sizeof n2));
	int64_t oc = 0, on = 0;
	for (int i = 13; i < NAGE; i++) { /* 65-69 ... 90+ */
		oc += a->age_cost[i];
		on += a->pop[i][0] + a->pop[i][1] + a->pop[i][2];
	}
	int64_t ocp = yoc_sdc_money(s, oc);
	d[nd].cost_share = yoc__pub_pct(ocp, tot);
	snprintf(d[nd++].text, sizeof d[0].text, "People aged 65 and over are %s of the population "
		 "and account for %s of the cost.", share(yoc_sdc_one(s, on), npub, n1, sizeof n1),
		 share(ocp, tot, n4, sizeof n4));
	for (int k = 0; k < nd; k++)
		if (isnan(d[k].cost_share))
			d[k].cost_share = -1; /* hidden: last */
	qsort(d, (size_t)nd, sizeof d[0], drv_cmp);
	yoc_buf_puts(b, "<p>The three biggest drivers of cost:</p><ol class=\"drivers\">");
	for (int k = 0; k < 3 && k < nd; k++) {
		yoc_buf_puts(b, "<li>");
		yoc__html_esc(b, d[k].text);
		yoc_buf_puts(b, "</li>");
	}
	yoc_buf_puts(b, "</ol>");

	struct yoc_caveat *cv = NULL;
	size_t ncv = 0;
	int rc = load_caveats(c, db, R, &cv, &ncv);
	if (rc)
		return rc;
	if (ncv) {
		yoc_buf_puts(b, "<p>The largest data-quality caveats: ");
		for (size_t k = 0; k < ncv && k < 2; k++) {
			char issue[160], m[48];
			caveat_issue(&cv[k], issue, sizeof issue);
			yoc_buf_printf(b, "%s<a href=\"#caveat-%d\">", k ? "; " : "", cv[k].rank);
			yoc__html_esc(b, issue);
			yoc_buf_puts(b, "</a>");
			if (cv[k].pence > 0)
				yoc_buf_printf(b, " (about %s)",
					       pounds(yoc_sdc_money(s, cv[k].pence), m, sizeof m));
		}
		yoc_buf_printf(b, ". <a href=\"#caveats\">All %zu caveats</a>.</p>", ncv);
	} else {
		yoc_buf_puts(b, "<p>No data-quality caveats are recorded for this year.</p>");
	}
	yoc_buf_puts(b, "</section>\n");
	return 0;
}

int yoc__caveats_section(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	struct yoc_caveat *cv = NULL;
	size_t ncv = 0;
	int rc = load_caveats(c, db, R, &cv, &ncv);
	if (rc)
		return rc;
	static const char *const cols[] = {"Rank", "Issue", "People affected", "Cost affected",
					   "Records", "Detail in the quality report"};
	int kinds[6] = {K_NUM, K_TEXT, K_COUNT, K_PENCE, K_COUNT, K_TEXT};
	struct ptable *t = yoc__pt_new(c, "caveats", "Data-quality caveats, largest effect first",
				       "People: 0 where the issue is not about people. Cost: the "
				       "money affected, or estimated missing.", 6, cols, kinds);
	char href[600];
	yoc_buf_puts(b, "<section id=\"caveats\"><h2>Data-quality caveats</h2><p>What the "
			"figures above miss or estimate, largest effect first (money, then "
			"people, then records). Each links to the detail in the "
			"<a href=\"");
	yoc__html_esc(b, c->o->quality_url ? c->o->quality_url : "../quality/quality.html");
	yoc_buf_puts(b, "\">data-quality report</a>.</p>");
	if (!ncv)
		yoc_buf_puts(b, "<p>None recorded for this year.</p>");
	else
		yoc_buf_puts(b, "<ol class=\"caveats\">");
	for (size_t k = 0; t && k < ncv; k++) {
		char issue[160], m[48], p1[32], p2[32];
		struct pcell *r = yoc__pt_row(c, t);
		if (!r) {
			rc = YOC_ENOMEM;
			goto cleanup;
		}
		caveat_issue(&cv[k], issue, sizeof issue);
		int64_t pp = cv[k].people ? yoc_sdc_one(s, cv[k].people) : 0;
		int64_t pm = yoc_sdc_money(s, cv[k].pence);
		int64_t pr = cv[k].rows ? yoc_sdc_one(s, cv[k].rows) : 0;
		r[0].d = cv[k].rank;
		r[1].s = yoc__pt_str(c, issue);
		yoc__set_count(&r[2], pp);
		yoc__set_pence(&r[3], pm, 1);
		yoc__set_count(&r[4], pr);
		caveat_href(c, &cv[k], href, sizeof href);
		r[5].s = yoc__pt_str(c, href);
		if (k >= 10)
			continue; /* the rest in the table */
		yoc_buf_printf(b, "<li id=\"caveat-%d\"><a href=\"", cv[k].rank);
		yoc__html_esc(b, href);
		yoc_buf_puts(b, "\">");
		yoc__html_esc(b, issue);
		yoc_buf_puts(b, "</a>: ");
		if (cv[k].pence)
			yoc_buf_printf(b, "%s", pounds(pm, m, sizeof m));
		if (cv[k].people)
			yoc_buf_printf(b, "%s%s people", cv[k].pence ? ", " : "",
				       yoc_sdc_fmt(pp, 1, p1));
		if (cv[k].rows && strcmp(cv[k].kind, "practice_unknown") != 0)
			yoc_buf_printf(b, "%s%s records", cv[k].pence || cv[k].people ? ", " : "",
				       yoc_sdc_fmt(pr, 1, p2));
		yoc_buf_puts(b, ".</li>");
	}
	if (ncv)
		yoc_buf_printf(b, "</ol>%s", ncv > 10 ? "<p class=\"note\">The full list is in the "
			       "table below and in the quality report.</p>" : "");
	if (t && ncv) {
		yoc__add_table(c, t); /* CSV and workbook; on the page beyond ten */
		if (ncv > 10)
			yoc__html_table(c, b, t);
	}
	yoc_buf_puts(b, "</section>\n");
cleanup:
	return rc;
}

/*
** concentration.html: how the year's cost is concentrated in few people.
** The share of the total cost spent on the top 1, 5, 10 and 20% of people
** by cost, a Lorenz curve with the Gini coefficient, and who the top groups
** are (LTCs, age, emergency admissions, settings used). People in cost
** order (highest first; ties by pseudonym, so a rerun gives the same
** groups): the sorted costs and the top groups are the partial's
** (report_part.c: exact over the shards of a sharded dataset).
*/
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "report/report_int.h"
#include "report/svg_line.h"

static const char *const broad_name[NBROAD] = {"0-17", "18-64", "65-74", "75-84", "85+"};
static const char *const top_name[NTOP] = {"Top 1%", "Top 5%", "Top 10%", "Top 20%",
					   "Everyone"};

int yoc__page_concentration(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	/* the costs ascending and the top groups, from the partial */
	const int64_t *x = R->a.allc;
	const int64_t n = R->a.all.n, total = R->a.all.cost;
	const struct topg *g = R->a.top;
	int rc = 0;
	(void)db;
	if (n == 0 || !x)
		goto cleanup;
	yoc_buf_puts(b, "<section id=\"concentration\"><h2>How concentrated is the cost?</h2>"
			"<p>A few people account for much of the cost of care. This page ranks "
			"everyone by their cost in the year and shows the share of the total "
			"spent on the most costly 1%, 5%, 10% and 20%, the Lorenz curve of the "
			"whole population, and who the most costly people are. Read the "
			"Lorenz curve from left to right: the further it bows below the "
			"diagonal, the more unequal the cost; the Gini coefficient is 0 when "
			"everyone costs the same and close to 1 when one person has it all.</p>");
	/* 1. shares of cost */
	int64_t ptot = yoc_sdc_money(s, total);
	static const char *const cols[] = {"Group", "People", "Total cost", "Share of total cost",
					   "Mean cost", "Mean number of LTCs",
					   "% with an emergency admission"};
	int kinds[7] = {K_TEXT, K_COUNT, K_PENCE, K_PCT, K_PENCE, K_NUM, K_PCT};
	struct ptable *t = yoc__pt_new(c, "concentration", "Share of the year's cost in the most "
				       "costly people", "People ranked by annual cost (ties by "
				       "pseudonym); the top p% is the first ceil(p x people / 100). "
				       "Shares of cost are of the published sums.", 7, cols, kinds);
	int64_t pub[NTOP];
	for (int i = 0; t && i < NTOP; i++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			break;
		pub[i] = yoc_sdc_one(s, g[i].n);
		int ok = yoc_sdc_stat_ok(s, g[i].n, pub[i] == YOC_SDC_HIDDEN ? YOC_SDC_PRIMARY : 0);
		int64_t pc = yoc_sdc_money(s, g[i].cost);
		r[0].s = top_name[i];
		yoc__set_count(&r[1], pub[i]);
		yoc__set_pence(&r[2], pc, ok);
		yoc__set_pct(&r[3], ptot ? round(1000.0 * (double)pc / (double)ptot) / 10 : NAN, ok);
		yoc__set_pence(&r[4], yoc_sdc_mean(s, g[i].cost, g[i].n, pub[i]), ok);
		r[5].d = g[i].n ? round(10.0 * (double)g[i].ltc / (double)g[i].n) / 10 : 0;
		r[5].hidden = !ok;
		yoc__set_pct(&r[6], yoc_sdc_rate(s, g[i].emerg, g[i].n, 0, 100, 1), ok);
	}
	yoc__add_table(c, t);
	/* 2. the Lorenz curve: people in ascending cost; at each whole percent
	 * of people, the share of the cost of the floor(pct * n / 100) cheapest */
	double px[101], py[101];
	static const char *const lcols[] = {"% of people (lowest cost first)", "% of cost"};
	int lkinds[2] = {K_NUM, K_PCT};
	struct ptable *tl = yoc__pt_new(c, "lorenz", "Lorenz curve of annual cost", "Cumulative "
					"share of the total cost of the cheapest x% of people.",
					2, lcols, lkinds);
	int64_t cum = 0, done = 0;
	for (int pc = 0; pc <= 100; pc++) {
		int64_t k = (int64_t)pc * n / 100;
		while (done < k) /* ascending = from the end of the sorted array */
			cum += x[done++];
		px[pc] = pc;
		py[pc] = total > 0 ? round(1000.0 * (double)cum / (double)total) / 10 : NAN;
		struct pcell *r = tl ? yoc__pt_row(c, tl) : NULL;
		if (r) {
			r[0].d = pc;
			yoc__set_pct(&r[1], py[pc], total > 0 && yoc_sdc_stat_ok(s, n, 0));
		}
	}
	yoc__add_table(c, tl);
	/* Gini: 2 sum(i x_i) / (n sum x) - (n + 1) / n, x ascending, i = 1..n */
	long double wsum = 0;
	for (int64_t i = 0; i < n; i++)
		wsum += (long double)(i + 1) * (long double)x[i];
	double gini = total > 0 ? (double)(2 * wsum / ((long double)n * total) -
					   (long double)(n + 1) / n) : NAN;
	static const char *const gcols[] = {"Measure", "Value"};
	int gkinds[2] = {K_TEXT, K_REAL};
	struct ptable *tg = yoc__pt_new(c, "gini", "Inequality of annual cost", "Gini coefficient "
					"of annual cost per person over everyone, from exact costs.",
					2, gcols, gkinds);
	struct pcell *gr = tg ? yoc__pt_row(c, tg) : NULL;
	if (gr) {
		gr[0].s = "Gini coefficient";
		gr[1].d = round(gini * 10000) / 10000;
		gr[1].hidden = isnan(gini) || !yoc_sdc_stat_ok(s, n, 0);
	}
	yoc__add_table(c, tg);
	if (t && t->nrows > 2 && !t->cells[1 * 7 + 3].hidden)
		yoc_buf_printf(b, "<p>The most costly 5%% of people account for <b>%.1f%%</b> of "
			       "the cost in %s, and the most costly 20%% for <b>%.1f%%</b>. Gini "
			       "coefficient: <b>%.3f</b>.</p>", t->cells[1 * 7 + 3].d, R->fyear,
			       t->cells[3 * 7 + 3].d, gini);
	yoc__html_table(c, b, t);
	if (total > 0) {
		char title[96];
		snprintf(title, sizeof title, "Lorenz curve of annual cost (Gini %.3f)", gini);
		yoc__svg_lorenz(b, title, 101, px, py);
	}
	yoc__html_table(c, b, tg);
	yoc__html_table(c, b, tl);
	/* 3. who they are: age mix and settings used */
	const char *acols[1 + NBROAD];
	int akinds[1 + NBROAD];
	acols[0] = "Group";
	akinds[0] = K_TEXT;
	for (int k = 0; k < NBROAD; k++) {
		char h[32];
		snprintf(h, sizeof h, "%% aged %s", broad_name[k]);
		acols[1 + k] = yoc__pt_str(c, h);
		akinds[1 + k] = K_PCT;
	}
	struct ptable *ta = yoc__pt_new(c, "concentration_age", "Age of the most costly people",
					"Percentage of each group in each age band.", 1 + NBROAD,
					acols, akinds);
	const char *scols[1 + NSET];
	int skinds[1 + NSET];
	scols[0] = "Group";
	skinds[0] = K_TEXT;
	for (int k = 0; k < NSET; k++) {
		char h[64];
		snprintf(h, sizeof h, "%% using %s", yoc__set_name[k]);
		scols[1 + k] = yoc__pt_str(c, h);
		skinds[1 + k] = K_PCT;
	}
	struct ptable *ts = yoc__pt_new(c, "concentration_settings", "Settings of care used by the "
					"most costly people", "Percentage of each group with any "
					"cost in the setting in the year.", 1 + NSET, scols, skinds);
	for (int i = 0; ta && ts && i < NTOP; i++) {
		struct pcell *ra = yoc__pt_row(c, ta), *rs = yoc__pt_row(c, ts);
		if (!ra || !rs)
			break;
		int st0 = pub[i] == YOC_SDC_HIDDEN ? YOC_SDC_PRIMARY : 0;
		ra[0].s = rs[0].s = top_name[i];
		for (int k = 0; k < NBROAD; k++)
			yoc__set_pct(&ra[1 + k], yoc_sdc_rate(s, g[i].age[k], g[i].n, st0, 100, 1), 1);
		for (int k = 0; k < NSET; k++)
			yoc__set_pct(&rs[1 + k], yoc_sdc_rate(s, g[i].used[k], g[i].n, st0, 100, 1), 1);
	}
	yoc__add_table(c, ta);
	yoc__add_table(c, ts);
	yoc_buf_puts(b, "<h3>Who the most costly people are</h3>");
	yoc__html_table(c, b, ta);
	yoc__html_table(c, b, ts);
	yoc_buf_puts(b, "</section>\n");
cleanup:
	return rc;
}

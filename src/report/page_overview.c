/*
** The overview page (index.html): population, multimorbidity, cost by
** number of LTCs (Figure 5), R squared, physical x mental, providers and
** settings (Figure 7), currency bands, unpriced activity, costing basis,
** then the table of practices (page_practices.c) and the analyse run.
*/
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "report/svg.h"

/* Age by sex (rows: bands + total; cols: F, M, other, total). */
static int age_sex_table(struct ctx *c, const int64_t (*pop)[3], const char *id,
			 const char *title, int64_t *pub)
{
	int64_t v[(NAGE + 1) * 4] = {0};
	unsigned char st[(NAGE + 1) * 4];
	for (int i = 0; i < NAGE; i++)
		for (int s = 0; s < 3; s++) {
			v[i * 4 + s] = pop[i][s];
			v[i * 4 + 3] += pop[i][s];
			v[NAGE * 4 + s] += pop[i][s];
			v[NAGE * 4 + 3] += pop[i][s];
		}
	int rc = yoc__protect(c, NAGE + 1, 4, 1, 1, v, st, pub);
	if (rc)
		return rc;
	static const char *const cols[] = {"Age band", "Female", "Male", "Other or unknown", "Total"};
	struct ptable *t = yoc__pt_new(c, id, title, NULL, 5, cols, yoc__kinds_count);
	if (!t)
		return YOC_ENOMEM;
	for (int i = 0; i <= NAGE; i++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			return YOC_ENOMEM;
		r[0].s = i < NAGE ? yoc__age_name[i] : "Total";
		for (int k = 0; k < 4; k++)
			yoc__set_count(&r[1 + k], pub[i * 4 + k]);
	}
	yoc__add_table(c, t);
	return 0;
}


static void band_range(const struct report *R, const char *band, char *buf, size_t n)
{
	/* from the bands parameter "A:0-1,B:2,...,E:9+" recorded by analyse */
	const char *p = R->bands_spec;
	size_t bl = strlen(band);
	buf[0] = 0;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > bl && strncmp(p, band, bl) == 0 && p[bl] == ':') {
			snprintf(buf, n, "%.*s", (int)(len - bl - 1), p + bl + 1);
			return;
		}
		p += len + (end ? 1 : 0);
	}
}

static int64_t pctl(const int64_t *sorted, int64_t n, int p)
{
	/* nearest rank: the value at rank ceil(p/100 * n), 1-based */
	if (n <= 0)
		return 0;
	int64_t rank = (p * n + 99) / 100;
	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

/*
** 9. How the cost was priced (analyse's costing_summary): the share of the
** year's cost from an exact price (tariff HRG, currency or unit cost), a
** department average (a code the schedule does not list) and the feed's own
** cost, with a warning when averages make most of it. Money and shares
** only: no counts of people.
*/
static int costing_basis(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b)
{
	static const char *const how[3] = {"priced", "priced_at_average", "feed_cost"};
	static const char *const label[3] = {"Exact price (HRG, currency or unit cost)",
		"Department average (code not in the price list)", "Cost given in the feed"};
	sqlite3_stmt *q = NULL;
	int64_t v[3] = {0, 0, 0}, all = 0;
	yoc_buf_puts(b, "<section id=\"costing\"><h2>How the cost was priced</h2>");
	if (sqlite3_prepare_v2(db, "SELECT how, sum(cost) FROM costing_summary WHERE fyear = ?1 "
			       "GROUP BY how", -1, &q, NULL) != SQLITE_OK) {
		sqlite3_finalize(q);
		yoc_buf_puts(b, "<p>Not recorded: the database has no costing_summary table.</p></section>\n");
		return YOC_OK;
	}
	sqlite3_bind_text(q, 1, R->fyear, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW)
		for (int k = 0; k < 3; k++)
			if (sqlite3_column_text(q, 0) && strcmp((const char *)sqlite3_column_text(q, 0), how[k]) == 0)
				v[k] += sqlite3_column_int64(q, 1);
	sqlite3_finalize(q);
	/* the disclosure rule for money (docs/disclosure.md): sums published
	 * rounded, shares computed from the published sums */
	for (int k = 0; k < 3; k++) {
		v[k] = yoc_sdc_money(&c->o->sdc, v[k]);
		all += v[k];
	}
	static const char *const cols[] = {"How priced", "Cost", "Share of cost"};
	int kinds[3] = {K_TEXT, K_PENCE, K_PCT};
	struct ptable *t = yoc__pt_new(c, "costing_basis", "How the cost was priced", NULL, 3, cols, kinds);
	for (int k = 0; t && k < 3; k++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			return YOC_ENOMEM;
		r[0].s = label[k];
		yoc__set_pence(&r[1], v[k], 1);
		yoc__set_pct(&r[2], all ? 100.0 * (double)v[k] / (double)all : NAN, all != 0);
	}
	if (!t)
		return YOC_ENOMEM;
	double avg = all ? 100.0 * (double)v[1] / (double)all : 0;
	yoc_buf_printf(b, "<p>Hospital stays are priced per spell as commissioners pay for them "
		       "(docs/costing.md). %.1f%% of the cost in %s was priced from an exact "
		       "price, %.1f%% at a department average and %.1f%% from the feed's own "
		       "cost.</p>", all ? 100.0 * (double)v[0] / (double)all : 0, R->fyear, avg,
		       all ? 100.0 * (double)v[2] / (double)all : 0);
	if (avg > 50.0)
		yoc_buf_printf(b, "<p style=\"border:2px solid #b36b00;padding:8px 12px\"><b>Warning:</b> "
			       "most of the cost (%.1f%%) is priced at department averages, because "
			       "the feeds' codes (HRGs, currencies) are not in the price list, for "
			       "example codes of another year's grouper. Costs by person, practice "
			       "and setting are indicative only.</p>", avg);
	yoc__add_table(c, t);
	yoc__html_table(c, b, t);
	yoc_buf_puts(b, "</section>\n");
	return YOC_OK;
}

static int build_index(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b)
{
	struct acc *a = &R->a;
	const struct yoc_sdc *s = &c->o->sdc;
	int rc;
	yoc_buf_puts(b, "<nav><a href=\"#pop\">Population</a><a href=\"#mm\">Multimorbidity</a>"
			"<a href=\"#fig5\">Cost by LTC count</a><a href=\"#r2\">Variation explained</a>"
			"<a href=\"#pm\">Physical and mental</a><a href=\"#fig7\">Providers and settings</a>"
			"<a href=\"#bands\">Currency bands</a><a href=\"#practices\">Practices</a>"
			"<a href=\"#caveats\">Data-quality caveats</a>"
			"<a href=\"yoc-report.xlsx\">Workbook</a></nav>\n");
	/* 1. population pyramid */
	int64_t pub[(NAGE + 1) * 8];
	if ((rc = age_sex_table(c, (const int64_t (*)[3])a->pop, "population",
				"Registered population by age band and sex", pub)))
		return rc;
	memcpy(R->pop_pub, pub, sizeof R->pop_pub);
	double L[NAGE], Rr[NAGE];
	for (int i = 0; i < NAGE; i++) {
		L[i] = yoc__dv(pub[i * 4]);
		Rr[i] = yoc__dv(pub[i * 4 + 1]);
	}
	yoc_buf_puts(b, "<section id=\"pop\"><h2>Population</h2>");
	yoc__svg_pyramid(b, "Population pyramid (people)", NAGE, yoc__age_name, L, Rr, "Female",
			 "Male", NULL, NULL, NULL, 0);
	yoc__html_table(c, b, c->last);
	yoc_buf_puts(b, "</section>\n");
	/* 2. multimorbidity by age band */
	{
		int64_t v[(NAGE + 1) * NMM] = {0};
		unsigned char st[(NAGE + 1) * NMM];
		for (int i = 0; i < NAGE; i++)
			for (int k = 0; k < NMM - 1; k++) {
				v[i * NMM + k] = a->mm[i][k];
				v[i * NMM + NMM - 1] += a->mm[i][k];
				v[NAGE * NMM + k] += a->mm[i][k];
				v[NAGE * NMM + NMM - 1] += a->mm[i][k];
			}
		if ((rc = yoc__protect(c, NAGE + 1, NMM, 1, 1, v, st, pub)))
			return rc;
		static const char *const cols[] = {"Age band", "0 LTCs", "1 LTC", "2 LTCs",
						   "3-4 LTCs", "5+ LTCs", "Total",
						   "% with 2+ LTCs"};
		int kinds[8] = {K_TEXT, K_COUNT, K_COUNT, K_COUNT, K_COUNT, K_COUNT, K_COUNT, K_PCT};
		struct ptable *t = yoc__pt_new(c, "multimorbidity", "People by number of long-term "
					  "conditions and age band", NULL, 8, cols, kinds);
		double pc[NAGE];
		for (int i = 0; t && i <= NAGE; i++) {
			struct pcell *r = yoc__pt_row(c, t);
			if (!r)
				return YOC_ENOMEM;
			r[0].s = i < NAGE ? yoc__age_name[i] : "Total";
			for (int k = 0; k < NMM; k++)
				yoc__set_count(&r[1 + k], pub[i * NMM + k]);
			int64_t *p = &pub[i * NMM];
			double x = NAN;
			if (p[2] != YOC_SDC_HIDDEN && p[3] != YOC_SDC_HIDDEN && p[4] != YOC_SDC_HIDDEN)
				x = yoc__pub_pct(p[2] + p[3] + p[4], p[5]);
			yoc__set_pct(&r[7], round(x * 10) / 10, 1);
			if (i < NAGE)
				pc[i] = isnan(x) ? NAN : round(x * 10) / 10;
		}
		yoc__add_table(c, t);
		yoc_buf_puts(b, "<section id=\"mm\"><h2>Multimorbidity by age</h2>");
		static const char *const one[] = {"% with 2+ LTCs"};
		yoc__svg_stacked(b, "Percentage of people with two or more long-term conditions",
				 NAGE, yoc__age_name, 1, one, pc, 0);
		yoc__html_table(c, b, t);
		yoc_buf_puts(b, "</section>\n");
	}
	/* 3. Figure 5: cost by number of LTCs, stacked by setting */
	{
		int64_t v[NLTC + 1];
		unsigned char st[NLTC + 1];
		for (int i = 0; i < NLTC; i++)
			v[i] = a->ltc[i].n;
		v[NLTC] = a->all.n;
		if ((rc = yoc__protect(c, NLTC + 1, 1, 1, 0, v, st, pub)))
			return rc;
		memcpy(R->ltc_pub, pub, sizeof R->ltc_pub);
		const char *cols[3 + NSET + 1];
		int kinds[3 + NSET + 1];
		cols[0] = "LTCs";
		kinds[0] = K_TEXT;
		cols[1] = "People";
		kinds[1] = K_COUNT;
		for (int k = 0; k < NSET; k++) {
			char h[64];
			snprintf(h, sizeof h, "Mean %s", yoc__set_name[k]);
			cols[2 + k] = yoc__pt_str(c, h);
			kinds[2 + k] = K_PENCE;
		}
		cols[2 + NSET] = "Mean total cost";
		kinds[2 + NSET] = K_PENCE;
		cols[3 + NSET] = "Total cost";
		kinds[3 + NSET] = K_PENCE;
		struct ptable *t = yoc__pt_new(c, "cost_by_ltc_count", "Mean and total annual cost by "
					  "number of long-term conditions (Figure 5)",
					  "Mean cost per person per year in each setting; a group's "
					  "means and total are hidden when its count is.",
					  4 + NSET, cols, kinds);
		double mean[NLTC * NSET], tot[NLTC * NSET];
		for (int i = 0; t && i <= NLTC; i++) {
			const struct grp *g = i < NLTC ? &a->ltc[i] : &a->all;
			int ok = yoc_sdc_stat_ok(s, g->n, st[i]);
			struct pcell *r = yoc__pt_row(c, t);
			if (!r)
				return YOC_ENOMEM;
			r[0].s = i < NLTC ? yoc__ltc_name[i] : "Total";
			yoc__set_count(&r[1], pub[i]);
			/* money as published; the charts show the same figures */
			for (int k = 0; k < NSET; k++) {
				int64_t mk = yoc_sdc_mean(s, g->set[k], g->n, pub[i]);
				yoc__set_pence(&r[2 + k], mk, ok);
				if (i < NLTC) {
					mean[i * NSET + k] = ok ? (double)mk / 100 : NAN;
					tot[i * NSET + k] = ok ? (double)yoc_sdc_money(s, g->set[k]) / 100 : NAN;
				}
			}
			yoc__set_pence(&r[2 + NSET], yoc_sdc_mean(s, g->cost, g->n, pub[i]), ok);
			yoc__set_pence(&r[3 + NSET], yoc_sdc_money(s, g->cost), ok);
		}
		yoc__add_table(c, t);
		yoc_buf_puts(b, "<section id=\"fig5\"><h2>Annual cost by number of long-term "
				"conditions</h2><p>The handbook's Figure 5: mean annual cost per person "
				"by number of long-term conditions, stacked by setting of care.</p>");
		yoc__svg_stacked(b, "Mean annual cost per person by number of LTCs", NLTC,
				 yoc__ltc_name, NSET, yoc__set_name, mean, 1);
		yoc__svg_stacked(b, "Total annual cost by number of LTCs", NLTC, yoc__ltc_name,
				 NSET, yoc__set_name, tot, 1);
		yoc__html_table(c, b, t);
		yoc_buf_puts(b, "</section>\n");
	}
	/* 4. R squared */
	{
		long double N = (long double)a->all.n, sum = (long double)a->all.cost;
		long double mean2 = N > 0 ? sum * sum / N : 0;
		long double sst = (long double)a->sumsq - mean2;
		long double ssb[3] = {-mean2, -mean2, -mean2};
		int ng[3] = {0, 0, 0};
		for (int i = 0; i < NLTC; i++)
			if (a->ltc[i].n) {
				ssb[0] += (long double)a->ltc[i].cost * a->ltc[i].cost / a->ltc[i].n;
				ng[0]++;
			}
		int64_t agen[NAGE] = {0};
		for (int i = 0; i < NAGE; i++)
			agen[i] = a->pop[i][0] + a->pop[i][1] + a->pop[i][2];
		for (int i = 0; i < NAGE; i++)
			if (agen[i]) {
				ssb[1] += (long double)a->age_cost[i] * a->age_cost[i] / agen[i];
				ng[1]++;
			}
		for (int i = 0; i < a->nband; i++)
			if (a->bandg[i].n) {
				ssb[2] += (long double)a->bandg[i].cost * a->bandg[i].cost / a->bandg[i].n;
				ng[2]++;
			}
		static const char *const cols[] = {"Explanatory variable", "Groups", "R squared"};
		int kinds[3] = {K_TEXT, K_REAL, K_R2};
		static const char *const nm[3] = {"Number of LTCs (0 to 9+)",
						  "Age (5-year bands)", "Currency band"};
		struct ptable *t = yoc__pt_new(c, "r_squared", "Share of the variation in annual cost "
					  "explained (one-way ANOVA R squared)",
					  "R squared = between-group sum of squares / total sum of "
					  "squares of annual cost per person, for each grouping.",
					  3, cols, kinds);
		yoc_buf_puts(b, "<section id=\"r2\"><h2>How much of the variation in cost is "
				"explained</h2>");
		for (int k = 0; t && k < 3; k++) {
			struct pcell *r = yoc__pt_row(c, t);
			if (!r)
				return YOC_ENOMEM;
			r[0].s = nm[k];
			r[1].d = ng[k];
			r[2].d = sst > 0 ? (double)(ssb[k] / sst) : NAN;
			r[2].hidden = !(sst > 0);
		}
		t->kinds[1] = K_COUNT;
		for (int k = 0; t && k < 3; k++)
			t->cells[k * 3 + 1].i = ng[k];
		yoc__add_table(c, t);
		if (t && sst > 0)
			yoc_buf_printf(b, "<p>The number of long-term conditions explains <b>%.1f%%</b> "
				       "of the variation in annual cost between people; age in 5-year "
				       "bands explains <b>%.1f%%</b>.</p>",
				       100 * (double)(ssb[0] / sst), 100 * (double)(ssb[1] / sst));
		yoc__html_table(c, b, t);
		yoc_buf_puts(b, "</section>\n");
	}
	/* 5. physical x mental */
	{
		int64_t v[6 * 4] = {0}, cs[6 * 4] = {0};
		unsigned char st[6 * 4];
		for (int i = 0; i < 5; i++)
			for (int j = 0; j < 3; j++) {
				int64_t x = a->pm[i][j], y = a->pm_cost[i][j];
				v[i * 4 + j] += x, v[i * 4 + 3] += x, v[5 * 4 + j] += x, v[23] += x;
				cs[i * 4 + j] += y, cs[i * 4 + 3] += y, cs[5 * 4 + j] += y, cs[23] += y;
			}
		if ((rc = yoc__protect(c, 6, 4, 1, 1, v, st, pub)))
			return rc;
		static const char *const cols[] = {"Physical LTCs", "No mental LTC", "1 mental LTC",
						   "2+ mental LTCs", "Total"};
		int kinds[5] = {K_TEXT, K_COUNT, K_COUNT, K_COUNT, K_COUNT};
		struct ptable *t = yoc__pt_new(c, "physical_mental", "People by physical and mental "
					  "health long-term conditions", NULL, 5, cols, kinds);
		int kinds2[5] = {K_TEXT, K_PENCE, K_PENCE, K_PENCE, K_PENCE};
		struct ptable *t2 = yoc__pt_new(c, "physical_mental_cost", "Mean annual cost by physical "
					   "and mental health long-term conditions", NULL, 5, cols,
					   kinds2);
		for (int i = 0; t && t2 && i < 6; i++) {
			struct pcell *r = yoc__pt_row(c, t), *r2 = yoc__pt_row(c, t2);
			if (!r || !r2)
				return YOC_ENOMEM;
			r[0].s = r2[0].s = i < 5 ? yoc__phys_name[i] : "Total";
			for (int j = 0; j < 4; j++) {
				yoc__set_count(&r[1 + j], pub[i * 4 + j]);
				yoc__set_pence(&r2[1 + j], yoc_sdc_mean(s, cs[i * 4 + j], v[i * 4 + j],
								   pub[i * 4 + j]),
					  yoc_sdc_stat_ok(s, v[i * 4 + j], st[i * 4 + j]));
			}
		}
		yoc__add_table(c, t);
		yoc__add_table(c, t2);
		yoc_buf_puts(b, "<section id=\"pm\"><h2>Physical and mental health conditions</h2>");
		yoc__html_table(c, b, t);
		yoc__html_table(c, b, t2);
		yoc_buf_puts(b, "</section>\n");
	}
	/* 6. settings and providers (Figure 7) */
	{
		int64_t pp[NSET + 1];
		int hid[NSET + 1] = {0};
		int64_t sv[NSET];
		for (int k = 0; k < NSET; k++) {
			pp[k] = yoc_sdc_one(s, a->set_people[k]);
			hid[k] = !yoc_sdc_stat_ok(s, a->set_people[k],
						  pp[k] == YOC_SDC_HIDDEN ? YOC_SDC_PRIMARY : 0);
			sv[k] = a->all.set[k];
		}
		yoc__protect_sums(NSET, sv, hid);
		pp[NSET] = yoc_sdc_one(s, a->all.n);
		static const char *const cols[] = {"Setting", "People with any cost", "Total cost",
						   "Share of cost", "Cost per head of population"};
		int kinds[5] = {K_TEXT, K_COUNT, K_PENCE, K_PCT, K_PENCE};
		struct ptable *t = yoc__pt_new(c, "cost_by_setting", "Annual cost by setting of care",
					  NULL, 5, cols, kinds);
		double sc[NSET];
		for (int k = 0; t && k <= NSET; k++) {
			struct pcell *r = yoc__pt_row(c, t);
			if (!r)
				return YOC_ENOMEM;
			int64_t cost = k < NSET ? a->all.set[k] : a->all.cost;
			int64_t pc = yoc_sdc_money(s, cost), ptot = yoc_sdc_money(s, a->all.cost);
			int ok = k < NSET ? !hid[k] : yoc_sdc_stat_ok(s, a->all.n, 0);
			r[0].s = k < NSET ? yoc__set_name[k] : "Total";
			yoc__set_count(&r[1], pp[k]);
			yoc__set_pence(&r[2], pc, ok);
			yoc__set_pct(&r[3], ptot ? round(1000.0 * pc / ptot) / 10 : NAN, ok);
			yoc__set_pence(&r[4], yoc_sdc_mean(s, cost, a->all.n, pp[NSET]), ok);
			if (k < NSET)
				sc[k] = ok ? (double)pc / 100 : NAN;
		}
		yoc__add_table(c, t);
		yoc_buf_puts(b, "<section id=\"fig7\"><h2>Cost across providers and settings</h2>");
		static const char *const one[] = {"Total cost"};
		yoc__svg_stacked(b, "Total annual cost by setting of care", NSET, yoc__set_name, 1, one,
				 sc, 1);
		yoc__html_table(c, b, t);
		/* providers, when analyse recorded them */
		sqlite3_stmt *q = NULL;
		if (sqlite3_prepare_v2(db, "SELECT provider, setting, sum(people), sum(activity), "
				       "sum(cost) FROM provider_cost WHERE fyear = ?1 "
				       "GROUP BY provider, setting ORDER BY sum(sum(cost)) OVER "
				       "(PARTITION BY provider) DESC, provider, setting",
				       -1, &q, NULL) == SQLITE_OK) {
			sqlite3_bind_text(q, 1, R->fyear, -1, SQLITE_STATIC);
			static const char *const pc[] = {"Provider", "Setting", "People", "Activity",
							 "Total cost"};
			int pk[5] = {K_TEXT, K_TEXT, K_COUNT, K_COUNT, K_PENCE};
			struct ptable *tp = yoc__pt_new(c, "provider_cost", "Annual cost by provider and "
						   "setting (Figure 7)", "Activity is the number of "
						   "priced records (attendances, spells, contacts).",
						   5, pc, pk);
			enum { MAXP = 16 };
			const char *pname[MAXP];
			double pv[MAXP * NSET];
			int np = 0;
			/* the exact costs decide what is hidden; published rounded below */
			while (tp && sqlite3_step(q) == SQLITE_ROW) {
				struct pcell *r = yoc__pt_row(c, tp);
				if (!r)
					return YOC_ENOMEM;
				const char *pv0 = (const char *)sqlite3_column_text(q, 0);
				const char *sv1 = (const char *)sqlite3_column_text(q, 1);
				r[0].s = yoc__pt_str(c, pv0 ? pv0 : "");
				int si = -1;
				for (int k = 0; k < NSET; k++)
					if (sv1 && (strcmp(sv1, yoc__set_col[k] + 5) == 0 ||
						    strcmp(sv1, yoc__set_name[k]) == 0))
						si = k;
				r[1].s = si >= 0 ? yoc__set_name[si] : yoc__pt_str(c, sv1 ? sv1 : "");
				int64_t people = sqlite3_column_int64(q, 2);
				int64_t pub_people = yoc_sdc_one(s, people);
				yoc__set_count(&r[2], pub_people);
				yoc__set_count(&r[3], yoc_sdc_one(s, sqlite3_column_int64(q, 3)));
				int ok = yoc_sdc_stat_ok(s, people, pub_people == YOC_SDC_HIDDEN);
				yoc__set_pence(&r[4], sqlite3_column_int64(q, 4), ok);
			}
			/* a provider-setting cost beside the setting's total: protect by
			 * setting, as with the setting sums above */
			for (int k = 0; tp && k < NSET; k++) {
				int idx[64], n = 0, hh[64];
				int64_t vv[64], sum = 0;
				for (int r = 0; r < tp->nrows && n < 64; r++)
					if (strcmp(tp->cells[r * 5 + 1].s, yoc__set_name[k]) == 0) {
						idx[n] = r;
						vv[n] = tp->cells[r * 5 + 4].i;
						hh[n] = tp->cells[r * 5 + 4].hidden;
						sum += vv[n++];
					}
				if (n == 0 || sum != a->all.set[k])
					continue;
				yoc__protect_sums(n, vv, hh);
				for (int q2 = 0; q2 < n; q2++)
					tp->cells[idx[q2] * 5 + 4].hidden = hh[q2];
			}
			/* the chart, from the table as published: providers by total
			 * cost, general practices as one bar (dozens of small bars
			 * would not read) */
			for (int i = 0; tp && i < tp->nrows; i++) {
				struct pcell *r = &tp->cells[(size_t)i * 5];
				r[4].i = yoc_sdc_money(s, r[4].i);
				int si = -1;
				for (int k = 0; k < NSET; k++)
					if (strcmp(r[1].s, yoc__set_name[k]) == 0)
						si = k;
				const char *cname = si >= 0 && strcmp(yoc__set_col[si], "cost_gp") == 0 ?
					"GP practices" : r[0].s;
				int pi = -1;
				for (int k = 0; k < np; k++)
					if (strcmp(pname[k], cname) == 0)
						pi = k;
				if (pi < 0 && np < MAXP) {
					pname[np] = cname;
					for (int k = 0; k < NSET; k++)
						pv[np * NSET + k] = 0;
					pi = np++;
				}
				if (pi >= 0 && si >= 0)
					pv[pi * NSET + si] += r[4].hidden ? NAN : (double)r[4].i / 100;
			}
			sqlite3_finalize(q);
			if (tp) {
				yoc__add_table(c, tp);
				if (np > 0)
					yoc__svg_stacked(b, "Total annual cost by provider, stacked by "
							 "setting (largest 16)", np, pname,
							 NSET, yoc__set_name, pv, 1);
				yoc__html_table(c, b, tp);
			}
		} else {
			sqlite3_finalize(q);
			yoc_buf_puts(b, "<p class=\"note\">No provider breakdown: the database has "
					"no provider_cost table (run yoc analyse).</p>");
		}
		yoc_buf_puts(b, "</section>\n");
	}
	/* 7. currency bands */
	{
		int nb = a->nband;
		int64_t v[MAXBAND + 1];
		unsigned char st[MAXBAND + 1];
		for (int i = 0; i < nb; i++)
			v[i] = a->bandg[i].n;
		v[nb] = a->all.n;
		if ((rc = yoc__protect(c, nb + 1, 1, 1, 0, v, st, pub)))
			return rc;
		memcpy(R->band_pub, pub, sizeof *pub * (size_t)(nb + 1));
		static const char *const cols[] = {"Band", "LTCs", "People", "% of people",
						   "Mean cost", "Median cost", "5th percentile",
						   "95th percentile", "Total cost"};
		int kinds[9] = {K_TEXT, K_TEXT, K_COUNT, K_PCT, K_PENCE, K_PENCE, K_PENCE,
				K_PENCE, K_PENCE};
		struct ptable *t = yoc__pt_new(c, "currency_bands", "Currency bands: people and annual "
					  "cost", "Percentiles by the nearest-rank method; 5th and "
					  "95th percentiles need at least the minimum group size.",
					  9, cols, kinds);
		/* every band's costs and everyone's, sorted (yoc__part_finish) */
		const int64_t *allc = a->allc;
		for (int i = 0; t && i <= nb; i++) {
			const struct grp *g = i < nb ? &a->bandg[i] : &a->all;
			const int64_t *sorted = i < nb ? a->bcost[i] : allc;
			struct pcell *r = yoc__pt_row(c, t);
			if (!r)
				return YOC_ENOMEM;
			char range[64];
			if (i < nb)
				band_range(R, a->band[i], range, sizeof range);
			r[0].s = i < nb ? a->band[i] : "Total";
			r[1].s = i < nb ? yoc__pt_str(c, range) : "";
			yoc__set_count(&r[2], pub[i]);
			double x = yoc__pub_pct(pub[i], pub[nb]);
			yoc__set_pct(&r[3], round(x * 10) / 10, 1);
			int ok = yoc_sdc_stat_ok(s, g->n, st[i]);
			int okp = yoc_sdc_pctl_ok(s, g->n, st[i]);
			yoc__set_pence(&r[4], yoc_sdc_mean(s, g->cost, g->n, pub[i]), ok);
			yoc__set_pence(&r[5], pctl(sorted, g->n, 50), ok);
			yoc__set_pence(&r[6], pctl(sorted, g->n, 5), okp);
			yoc__set_pence(&r[7], pctl(sorted, g->n, 95), okp);
			yoc__set_pence(&r[8], yoc_sdc_money(s, g->cost), ok);
		}
		yoc__add_table(c, t);
		yoc_buf_puts(b, "<section id=\"bands\"><h2>Currency bands</h2>");
		yoc__html_table(c, b, t);
		yoc_buf_puts(b, "</section>\n");
	}
	/* 8. unpriced activity */
	{
		sqlite3_stmt *q = NULL;
		yoc_buf_puts(b, "<section id=\"unpriced\"><h2>Activity left out of the costs</h2>");
		if (sqlite3_prepare_v2(db, "SELECT feed, reason, sum(records) FROM unpriced_activity "
				       "WHERE fyear = ?1 GROUP BY feed, reason ORDER BY feed, reason",
				       -1, &q, NULL) == SQLITE_OK) {
			sqlite3_bind_text(q, 1, R->fyear, -1, SQLITE_STATIC);
			static const char *const cols[] = {"Feed", "Reason", "Records"};
			int kinds[3] = {K_TEXT, K_TEXT, K_COUNT};
			struct ptable *t = yoc__pt_new(c, "unpriced_activity", "Activity records left out "
						  "of the costs, by reason", NULL, 3,
						  cols, kinds);
			/* the records with their total: one table through yoc_sdc_protect,
			 * so a hidden count is not the total minus the others */
			int64_t *v = NULL;
			int nv = 0, cv = 0;
			while (t && sqlite3_step(q) == SQLITE_ROW) {
				struct pcell *r = yoc__pt_row(c, t);
				if (nv + 1 >= cv) {
					int nc = cv ? cv * 2 : 32;
					int64_t *nvv = yoc_realloc(v, sizeof *v * (size_t)nc);
					if (!nvv)
						r = NULL;
					else
						v = nvv, cv = nc;
				}
				if (!r) {
					yoc_free(v);
					sqlite3_finalize(q);
					return YOC_ENOMEM;
				}
				const char *f0 = (const char *)sqlite3_column_text(q, 0);
				const char *f1 = (const char *)sqlite3_column_text(q, 1);
				r[0].s = yoc__pt_str(c, f0 ? f0 : "");
				r[1].s = yoc__pt_str(c, f1 ? f1 : "");
				v[nv++] = sqlite3_column_int64(q, 2);
			}
			sqlite3_finalize(q);
			int64_t total = 0, ptotal = 0;
			for (int i = 0; i < nv; i++)
				total += v[i];
			if (t && nv > 0) {
				unsigned char *ust = yoc_malloc((size_t)nv + 1);
				int64_t *upub = yoc_malloc(sizeof *upub * ((size_t)nv + 1));
				struct pcell *r = yoc__pt_row(c, t);
				v[nv] = total;
				if (!ust || !upub || !r)
					rc = YOC_ENOMEM;
				else if (!(rc = yoc__protect(c, nv + 1, 1, 1, 0, v, ust, upub))) {
					r[0].s = "Total";
					r[1].s = "";
					for (int i = 0; i <= nv; i++)
						yoc__set_count(&t->cells[(size_t)i * 3 + 2], upub[i]);
					ptotal = upub[nv];
				}
				yoc_free(ust);
				yoc_free(upub);
			}
			yoc_free(v);
			if (rc)
				return rc;
			char nb[32];
			yoc_buf_printf(b, "<p>%s activity records in %s are left out of every cost "
				       "above and counted here. Reasons: <i>no_price</i>, the costing "
				       "rules cannot price the record (unknown currency or clinician "
				       "type); <i>no_pseudonym</i>, no NHS number to link it to a "
				       "person; <i>not_registered</i>, the person is not on the GP "
				       "register; <i>outside_registration</i>, the person was not "
				       "registered in that year.</p>",
				       yoc_sdc_fmt(ptotal, 1, nb), R->fyear);
			if (t && t->nrows) {
				yoc__add_table(c, t);
				yoc__html_table(c, b, t);
			} else if (t) {
				yoc__add_table(c, t);
			}
		} else {
			sqlite3_finalize(q);
			yoc_buf_puts(b, "<p>Not recorded: the database has no unpriced_activity table.</p>");
		}
		yoc_buf_puts(b, "</section>\n");
	}
	return rc ? rc : costing_basis(c, db, R, b);
}

int yoc__page_overview(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b)
{
	int rc = yoc__summary_section(c, db, R, b);
	if (rc || (rc = build_index(c, db, R, b)) || (rc = yoc__practices_section(c, db, R, b)) ||
	    (rc = yoc__caveats_section(c, db, R, b)))
		return rc;
	for (struct ptable *t = c->tables; t; t = t->next)
		if (strcmp(t->id, "run") == 0) {
			yoc_buf_puts(b, "<section id=\"run\"><h2>About these results</h2>");
			yoc__html_table(c, b, t);
			yoc_buf_puts(b, "</section>\n");
		}
	return 0;
}

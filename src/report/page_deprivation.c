/*
** deprivation.html: cost, long-term conditions and emergency admissions by
** IMD decile (1 most deprived), crude and directly age-sex standardised to
** the whole population of the year, as RightCare packs show them. Reads
** person_year's partial (report_int.h, struct acc).
**
** Direct standardisation: for each decile d and age-sex stratum s (5-year
** band x sex, as the population pyramid), the decile's rate r_ds = y_ds /
** n_ds is weighted by the whole population's share of the stratum, w_s =
** N_s / N: DSR_d = sum_s w_s r_ds / sum_s w_s over the strata the decile
** has people in (an empty stratum has no rate; its weight is left out and
** the rest renormalised). A decile whose age-sex mix were the population's
** would have DSR = its crude rate.
*/
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "report/report_int.h"
#include "report/svg.h"


static const char *const dec_name[NDEC + 1] = {
	"1 (most deprived)", "2", "3", "4", "5", "6", "7", "8", "9", "10 (least deprived)",
	"Unknown", "Total"};

static double dsr(const struct dcell *row, const int64_t *stratn, int64_t N, int m)
{
	long double num = 0, w = 0;
	for (int s = 0; s < NSTRAT; s++)
		if (row[s].n > 0 && stratn[s] > 0) {
			long double ws = (long double)stratn[s] / N;
			num += ws * row[s].y[m] / row[s].n;
			w += ws;
		}
	return w > 0 ? (double)(num / w) : NAN;
}

int yoc__page_deprivation(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	/* the deciles by age-sex stratum, from the year's partial (report_acc.c) */
	struct dcell (*cell)[NSTRAT] = R->a.dep;
	int rc = 0;
	int64_t stratn[NSTRAT] = {0}, N = 0;
	struct dcell grp[NDEC + 1];
	memset(grp, 0, sizeof grp);
	(void)db;
	for (int d = 0; d < NDEC; d++)
		for (int x = 0; x < NSTRAT; x++) {
			const struct dcell *v = &cell[d][x];
			grp[d].n += v->n;
			grp[NDEC].n += v->n;
			for (int m = 0; m < NDMEAS; m++) {
				grp[d].y[m] += v->y[m];
				grp[NDEC].y[m] += v->y[m];
			}
			stratn[x] += v->n;
			N += v->n;
		}
	/* people by decile with their total: one table through the rule */
	int64_t v[NDEC + 1], pub[NDEC + 1];
	unsigned char state[NDEC + 1];
	for (int d = 0; d <= NDEC; d++)
		v[d] = grp[d].n;
	if ((rc = yoc__protect(c, NDEC + 1, 1, 1, 0, v, state, pub)))
		goto cleanup;
	static const char *const cols[] = {"IMD decile", "People", "Cost per head",
		"% with a long-term condition", "Emergency admissions per 1,000",
		"Standardised cost per head", "Standardised % with a long-term condition",
		"Standardised emergency admissions per 1,000"};
	int kinds[8] = {K_TEXT, K_COUNT, K_PENCE, K_PCT, K_PCT, K_PENCE, K_PCT, K_PCT};
	struct ptable *t = yoc__pt_new(c, "deprivation", "Cost, long-term conditions and emergency "
				       "admissions by deprivation (IMD decile)", "Standardised: "
				       "directly age-sex standardised to the whole population of the "
				       "year (5-year age bands by sex). Rates of published counts; "
				       "standardised figures from exact counts, shown where the "
				       "decile's count is.", 8, cols, kinds);
	double chart[2][NDEC];
	const char *cat[NDEC];
	int ncat = 0;
	for (int d = 0; t && d <= NDEC; d++) {
		if (d == NDEC - 1 && grp[d].n == 0)
			continue; /* no "Unknown" row when every decile is known */
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			break;
		int ok = yoc_sdc_stat_ok(s, grp[d].n, state[d]);
		r[0].s = dec_name[d];
		yoc__set_count(&r[1], pub[d]);
		yoc__set_pence(&r[2], yoc_sdc_mean(s, grp[d].y[0], grp[d].n, pub[d]), ok);
		yoc__set_pct(&r[3], yoc_sdc_rate(s, grp[d].y[1], grp[d].n, state[d], 100, 1), ok);
		yoc__set_pct(&r[4], yoc_sdc_rate(s, grp[d].y[2], grp[d].n, state[d], 1000, 0), ok);
		if (d < NDEC) {
			double c0 = dsr(cell[d], stratn, N, 0), c1 = dsr(cell[d], stratn, N, 1);
			double c2 = dsr(cell[d], stratn, N, 2);
			/* money: pence to whole pounds, the precision of a mean */
			yoc__set_pence(&r[5], (int64_t)(100 * round(c0 / 100)), ok && !isnan(c0));
			yoc__set_pct(&r[6], round(1000 * c1) / 10, ok);
			yoc__set_pct(&r[7], round(10000 * c2) / 10, ok);
			if (d < 10) {
				cat[ncat] = d == 0 ? "1" : d == 9 ? "10" : dec_name[d];
				chart[0][ncat] = ok ? round(c0 / 100) : NAN;
				chart[1][ncat] = ok ? round(10000 * c2) / 10 : NAN;
				ncat++;
			}
		} else {
			/* the whole population is its own standard */
			r[5] = r[2];
			r[6] = r[3];
			r[7] = r[4];
		}
	}
	yoc__add_table(c, t);
	yoc_buf_puts(b, "<section id=\"deprivation\"><h2>Deprivation</h2><p>People grouped by the "
			"Index of Multiple Deprivation decile of where they live, 1 the most "
			"deprived tenth of areas in England and 10 the least. Crude figures "
			"are what each decile's people cost and use; <i>standardised</i> "
			"figures ask what they would be if every decile had the age and sex "
			"mix of the whole population, so a gradient that remains is not "
			"explained by age. Read across the rows: a higher standardised figure "
			"in the deprived deciles means more need or use at the same age.</p>");
	static const char *const one[] = {"Standardised cost per head"};
	static const char *const two[] = {"Standardised emergency admissions per 1,000"};
	if (ncat) {
		yoc__svg_stacked(b, "Age-sex standardised cost per head by IMD decile (1 = most "
				 "deprived)", ncat, cat, 1, one, chart[0], 1);
		yoc__svg_stacked(b, "Age-sex standardised emergency admissions per 1,000 by IMD "
				 "decile", ncat, cat, 1, two, chart[1], 0);
	}
	yoc__html_table(c, b, t);
	yoc_buf_puts(b, "</section>\n");
cleanup:
	return rc;
}

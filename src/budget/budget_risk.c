/*
** Financial risk of a capitated budget. The bootstrap draws cohorts of a
** given size from the base year's person-years, category by category in
** the base's mix, and compares their actual in-scope cost with what their
** budget would have been at the categories' expected (pooled, untrimmed)
** annual cost: the volatility a small cohort brings (docs/budget.md). The
** settlement splits a year's variance between commissioner and provider.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "budget/budget.h"
#include "stats/stats.h"

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

int yoc_budget_bootstrap(const struct yoc_tpy *py, size_t n, size_t ncats,
			 const int64_t *expected, const int64_t *sizes, size_t nsizes,
			 int reps, uint64_t seed, struct yoc_risk_size *out,
			 struct yoc_error *e)
{
	if (n == 0 || reps < 2)
		return yoc_error_set(e, YOC_EINVAL, "bootstrap", 0, 0,
				     "need person-years and at least 2 replicates");
	size_t *start = yoc_calloc(ncats + 1, sizeof *start);
	size_t *fill = yoc_calloc(ncats + 1, sizeof *fill);
	size_t *idx = yoc_malloc(n * sizeof *idx);
	double *w = yoc_calloc(ncats + 1, sizeof *w);
	int64_t *take = yoc_calloc(ncats + 1, sizeof *take);
	double *ratio = yoc_malloc((size_t)reps * sizeof *ratio);
	int rc = 0;
	if (!start || !fill || !idx || !w || !take || !ratio) {
		rc = yoc_error_set(e, YOC_ENOMEM, "bootstrap", 0, 0, "out of memory");
		goto cleanup;
	}
	/* person-years grouped by category, in their given order */
	for (size_t i = 0; i < n; i++)
		start[py[i].cat + 1]++;
	for (size_t c = 0; c < ncats; c++) {
		w[c] = (double)start[c + 1];
		start[c + 1] += start[c];
	}
	for (size_t i = 0; i < n; i++) {
		size_t c = (size_t)py[i].cat;
		idx[start[c] + fill[c]++] = i;
	}
	struct yoc_rng rng;
	yoc_rng_seed(&rng, seed);
	for (size_t k = 0; k < nsizes; k++) {
		struct yoc_risk_size *o = &out[k];
		memset(o, 0, sizeof *o);
		o->size = sizes[k];
		if ((rc = yoc_budget_split(sizes[k], w, ncats, take))) {
			yoc_error_set(e, rc, "bootstrap", 0, 0, "out of memory");
			goto cleanup;
		}
		double s1 = 0, s2 = 0;
		for (int r = 0; r < reps; r++) {
			__int128 bnum = 0;
			int64_t actual = 0;
			for (size_t c = 0; c < ncats; c++) {
				size_t nc = start[c + 1] - start[c];
				for (int64_t j = 0; j < take[c] && nc; j++) {
					const struct yoc_tpy *p =
						&py[idx[start[c] + yoc_rng_below(&rng, nc)]];
					bnum += (__int128)expected[c] * p->units;
					actual += p->cost;
				}
			}
			double budget = (double)bnum / YOC_BUDGET_YEAR_UNITS;
			double q = budget > 0 ? (double)actual / budget : 1;
			ratio[r] = q;
			s1 += q;
			s2 += q * q;
			o->p_over5 += q > 1.05;
			o->p_over10 += q > 1.10;
			o->p_under5 += q < 0.95;
		}
		o->p_over5 /= reps;
		o->p_over10 /= reps;
		o->p_under5 /= reps;
		double mean = s1 / reps, var = (s2 - s1 * s1 / reps) / (reps - 1);
		o->cv = mean > 0 && var > 0 ? sqrt(var) / mean : 0;
		qsort(ratio, (size_t)reps, sizeof *ratio, cmp_double);
		o->q05 = yoc_quantile_sorted(ratio, (size_t)reps, 0.05);
		o->q50 = yoc_quantile_sorted(ratio, (size_t)reps, 0.50);
		o->q95 = yoc_quantile_sorted(ratio, (size_t)reps, 0.95);
	}
cleanup:
	yoc_free(start);
	yoc_free(fill);
	yoc_free(idx);
	yoc_free(w);
	yoc_free(take);
	yoc_free(ratio);
	return rc;
}

static int64_t pct_of(int64_t v, double pct)
{
	double x = (double)v * pct / 100;
	return (int64_t)(x < 0 ? -floor(-x + 0.5) : floor(x + 0.5));
}

void yoc_budget_settle(int64_t budget, int64_t actual, const struct yoc_settle_opts *o,
		       struct yoc_settlement *s)
{
	memset(s, 0, sizeof *s);
	s->budget = budget;
	s->actual = actual;
	s->variance = actual - budget;
	int64_t c = pct_of(budget, o->corridor);
	if (c < 0)
		c = -c;
	s->in_corridor = s->variance > c ? c : s->variance < -c ? -c : s->variance;
	s->beyond = s->variance - s->in_corridor;
	int64_t prov_beyond = pct_of(s->beyond, o->share);
	s->provider = s->in_corridor + prov_beyond;
	s->commissioner = s->beyond - prov_beyond;
	s->kpi = pct_of(budget, o->kpi);
	s->payment = budget + s->commissioner + s->kpi;
}

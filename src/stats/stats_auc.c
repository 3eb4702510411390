/*
** Area under the ROC curve and DeLong's variance, from midranks.
**
** AUC = P(score of a 1 > score of a 0) + P(tie) / 2. DeLong, DeLong and
** Clarke-Pearson (1988) write its variance through the structural
** components: for each positive i, V10_i = the share of negatives it
** out-scores (ties half); for each negative j, V01_j = the share of
** positives that out-score it. Then AUC = mean V10 = mean V01 and
**   var(AUC) = var(V10) / n1 + var(V01) / n0
** (sample variances, denominators n1 - 1 and n0 - 1). Sun and Xu (2014)
** get the components from midranks after one sort: a positive's midrank
** among all scores minus its midrank among the positives counts the
** negatives below it (ties half). So the whole is O(n log n).
*/
#include <math.h>
#include <stdlib.h>

#include "stats/stats.h"

struct scored {
	double s;
	int pos;
};

static int by_score(const void *a, const void *b)
{
	double x = ((const struct scored *)a)->s, y = ((const struct scored *)b)->s;
	return (x > y) - (x < y);
}

int yoc_auc_delong(const double *score, const double *y, size_t n, struct yoc_auc *out,
		   struct yoc_error *e)
{
	struct scored *v = NULL;
	int rc = 0;
	size_t n1 = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(score[i]) || (y[i] != 0 && y[i] != 1))
			return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
					     "AUC: row %zu: score not finite or outcome not 0 or 1",
					     i + 1);
		n1 += y[i] == 1;
	}
	size_t n0 = n - n1;
	if (n1 == 0 || n0 == 0)
		return yoc_error_set(e, YOC_EDATA, NULL, 0, 0,
				     "AUC: needs both outcomes (%zu ones, %zu zeros)", n1, n0);
	v = yoc_malloc(sizeof *v * n);
	if (!v)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	for (size_t i = 0; i < n; i++) {
		v[i].s = score[i];
		v[i].pos = y[i] == 1;
	}
	qsort(v, n, sizeof *v, by_score);

	/* Walk the tie groups in score order. In a group starting after `before`
	 * scores (pos_before of them positive) with g scores (gp positive):
	 * the midrank among all is before + (g + 1) / 2, among the positives
	 * pos_before + (gp + 1) / 2, among the negatives likewise. */
	double sum10 = 0, sumsq10 = 0, sum01 = 0, sumsq01 = 0;
	size_t before = 0, pos_before = 0;
	while (before < n) {
		size_t g = 0, gp = 0;
		while (before + g < n && v[before + g].s == v[before].s) {
			gp += v[before + g].pos;
			g++;
		}
		size_t gn = g - gp, neg_before = before - pos_before;
		double rank_all = (double)before + ((double)g + 1) / 2;
		if (gp) {
			double rank_pos = (double)pos_before + ((double)gp + 1) / 2;
			double v10 = (rank_all - rank_pos) / (double)n0; /* negatives below */
			sum10 += v10 * (double)gp;
			sumsq10 += v10 * v10 * (double)gp;
		}
		if (gn) {
			double rank_neg = (double)neg_before + ((double)gn + 1) / 2;
			double v01 = 1 - (rank_all - rank_neg) / (double)n1; /* positives above */
			sum01 += v01 * (double)gn;
			sumsq01 += v01 * v01 * (double)gn;
		}
		before += g;
		pos_before += gp;
	}
	out->n_pos = n1;
	out->n_neg = n0;
	out->auc = sum10 / (double)n1;
	if (n1 < 2 || n0 < 2) {
		out->var = out->se = out->lo = out->hi = NAN;
		goto cleanup;
	}
	/* Sample variances; the sums of squares form is exact enough for
	 * components in [0, 1]. */
	double m01 = sum01 / (double)n0;
	double s10 = (sumsq10 - (double)n1 * out->auc * out->auc) / (double)(n1 - 1);
	double s01 = (sumsq01 - (double)n0 * m01 * m01) / (double)(n0 - 1);
	out->var = s10 / (double)n1 + s01 / (double)n0;
	if (out->var < 0) /* rounding when every component is equal */
		out->var = 0;
	out->se = sqrt(out->var);
	const double z = 1.959963984540054; /* qnorm(0.975) */
	out->lo = fmax(0, out->auc - z * out->se);
	out->hi = fmin(1, out->auc + z * out->se);
cleanup:
	yoc_free(v);
	return rc;
}

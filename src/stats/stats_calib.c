/*
** How well predicted risks p agree with outcomes y: the Brier score and its
** scaled form, observed against expected events by group of predicted risk
** (deciles by default in callers), and the calibration slope and intercept
** from a logistic recalibration of y on logit(p) with the IRLS of
** stats_logit.c (Cox 1958; Van Calster et al. 2019 for the terms).
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats/stats.h"

static int check_py(const double *p, const double *y, size_t n, const char *what,
		    struct yoc_error *e)
{
	if (n == 0)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0, "%s: no rows", what);
	for (size_t i = 0; i < n; i++)
		if (!(p[i] >= 0 && p[i] <= 1) || (y[i] != 0 && y[i] != 1))
			return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
					     "%s: row %zu: risk not in [0, 1] or outcome not 0 or 1",
					     what, i + 1);
	return 0;
}

int yoc_brier(const double *p, const double *y, size_t n, struct yoc_brier *out,
	      struct yoc_error *e)
{
	int rc = check_py(p, y, n, "Brier score", e);
	if (rc)
		return rc;
	double sum = 0, ybar = 0;
	for (size_t i = 0; i < n; i++) {
		sum += (p[i] - y[i]) * (p[i] - y[i]);
		ybar += y[i];
	}
	ybar /= (double)n;
	out->brier = sum / (double)n;
	out->brier_max = ybar * (1 - ybar);
	out->scaled = out->brier_max > 0 ? 1 - out->brier / out->brier_max : NAN;
	return 0;
}

struct ranked {
	double p;
	size_t i;
};

/* By risk, then input order: a stable order, so groups are reproducible. */
static int by_risk(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->p != y->p)
		return (x->p > y->p) - (x->p < y->p);
	return (x->i > y->i) - (x->i < y->i);
}

int yoc_calib_groups(const double *p, const double *y, size_t n, int ngroups,
		     struct yoc_calib_group *out, struct yoc_error *e)
{
	int rc = check_py(p, y, n, "calibration", e);
	if (rc)
		return rc;
	if (ngroups < 1 || (size_t)ngroups > n)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
				     "calibration: %d groups for %zu rows", ngroups, n);
	struct ranked *r = yoc_malloc(sizeof *r * n);
	if (!r)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	for (size_t i = 0; i < n; i++) {
		r[i].p = p[i];
		r[i].i = i;
	}
	qsort(r, n, sizeof *r, by_risk);
	/* Group g holds sorted rows [n g / G, n (g + 1) / G): sizes differ by at
	 * most one, the larger groups last. */
	size_t G = (size_t)ngroups;
	for (size_t g = 0; g < G; g++) {
		size_t lo = n * g / G, hi = n * (g + 1) / G;
		struct yoc_calib_group *c = &out[g];
		memset(c, 0, sizeof *c);
		c->n = hi - lo;
		c->p_min = r[lo].p;
		c->p_max = r[hi - 1].p;
		for (size_t k = lo; k < hi; k++) {
			c->observed += y[r[k].i];
			c->expected += r[k].p;
		}
		c->p_mean = c->expected / (double)c->n;
	}
	yoc_free(r);
	return 0;
}

int yoc_calib_slope(const double *p, const double *y, size_t n, struct yoc_calib *out,
		    struct yoc_error *e)
{
	double *X = NULL, *lp = NULL;
	struct yoc_logit_fit fit = { 0 };
	int rc = check_py(p, y, n, "calibration slope", e);
	if (rc)
		return rc;
	X = yoc_malloc(sizeof *X * n * 2);
	lp = yoc_malloc(sizeof *lp * n);
	if (!X || !lp) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		double q = fmin(fmax(p[i], 1e-12), 1 - 1e-12);
		lp[i] = log(q / (1 - q));
		X[2 * i] = 1;
		X[2 * i + 1] = lp[i];
	}
	struct yoc_logit_opts o;
	yoc_logit_opts_init(&o);
	o.intercept = 0;

	/* 1. Slope and intercept: logit P(y) = a + b logit(p). */
	rc = yoc_logit_fit(X, n, 2, y, &o, &fit, e);
	if (rc)
		goto cleanup;
	if (fit.separation || fit.rank < 2) {
		rc = yoc_error_set(e, YOC_EDATA, NULL, 0, 0,
				   "calibration slope: %s",
				   fit.separation ? fit.warning
						  : "predicted risks are all equal, no slope");
		goto cleanup;
	}
	out->intercept = fit.coef[0];
	out->intercept_se = fit.se[0];
	out->slope = fit.coef[1];
	out->slope_se = fit.se[1];
	yoc_logit_fit_free(&fit);

	/* 2. Calibration-in-the-large: logit P(y) = a + logit(p), the slope
	 * fixed at 1 through an offset. */
	for (size_t i = 0; i < n; i++)
		X[i] = 1; /* X becomes the n x 1 intercept column */
	o.offset = lp;
	rc = yoc_logit_fit(X, n, 1, y, &o, &fit, e);
	if (rc)
		goto cleanup;
	out->citl = fit.coef[0];
	out->citl_se = fit.se[0];
cleanup:
	yoc_logit_fit_free(&fit);
	yoc_free(X);
	yoc_free(lp);
	return rc;
}

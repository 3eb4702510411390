/*
** Balance of the covariates before and after matching: standardised mean
** differences and variance ratios, as MatchIt's summary() reports them for
** the effect on the treated (docs/evaluation.md). Nothing here prints.
*/
#include <math.h>

#include "eval/eval.h"

struct wstat {
	long double sw, sw2, swx;
};

static double wmean(const struct wstat *s)
{
	return s->sw > 0 ? (double)(s->swx / s->sw) : NAN;
}

/* Weighted variance sum w (x - m)^2 x sum w / ((sum w)^2 - sum w^2). */
static double wvar(const struct yoc_eval_input *in, const double *w, int want, int j, double mean,
		   const struct wstat *s)
{
	long double ss = 0;
	for (size_t i = 0; i < in->n; i++) {
		double wi = w ? w[i] : 1.0;
		if ((in->treat[i] != 0) != want || wi == 0)
			continue;
		double d = in->X[i * (size_t)in->p + j] - mean;
		ss += wi * d * d;
	}
	long double den = s->sw * s->sw - s->sw2;
	return den > 0 ? (double)(ss * s->sw / den) : NAN;
}

static void acc(const struct yoc_eval_input *in, const double *w, int j, struct wstat *t,
		struct wstat *c)
{
	for (size_t i = 0; i < in->n; i++) {
		double wi = w ? w[i] : 1.0;
		if (wi == 0)
			continue;
		struct wstat *s = in->treat[i] ? t : c;
		double x = in->X[i * (size_t)in->p + j];
		s->sw += wi;
		s->sw2 += (long double)wi * wi;
		s->swx += (long double)wi * x;
	}
}

int yoc_eval_balance(const struct yoc_eval_input *in, const struct yoc_eval_match *m,
		     struct yoc_eval_balance *out)
{
	for (int j = 0; j < in->p; j++) {
		struct yoc_eval_balance *b = &out[j];
		struct wstat t = {0}, c = {0}, tm = {0}, cm = {0};
		acc(in, NULL, j, &t, &c);
		acc(in, m->w, j, &tm, &cm);
		b->mean_t = wmean(&t);
		b->mean_c = wmean(&c);
		b->mean_t_m = wmean(&tm);
		b->mean_c_m = wmean(&cm);
		double vt = wvar(in, NULL, 1, j, b->mean_t, &t);
		double vc = wvar(in, NULL, 0, j, b->mean_c, &c);
		double vtm = wvar(in, m->w, 1, j, b->mean_t_m, &tm);
		double vcm = wvar(in, m->w, 0, j, b->mean_c_m, &cm);
		double sd = sqrt(vt);
		b->constant = 0;
		if (!(sd > 0)) {
			/* no variation among the treated: the SD of everyone */
			struct wstat a = {t.sw + c.sw, t.sw2 + c.sw2, t.swx + c.swx};
			long double mean = a.swx / a.sw, ss = 0;
			for (size_t i = 0; i < in->n; i++) {
				long double d = in->X[i * (size_t)in->p + j] - mean;
				ss += d * d;
			}
			sd = in->n > 1 ? (double)sqrtl(ss / (long double)(in->n - 1)) : 0;
		}
		if (!(sd > 0)) {
			b->constant = 1;
			b->smd_before = b->smd_after = 0;
		} else {
			b->smd_before = (b->mean_t - b->mean_c) / sd;
			b->smd_after = (b->mean_t_m - b->mean_c_m) / sd;
		}
		b->vr_before = vc > 0 ? vt / vc : NAN;
		b->vr_after = vcm > 0 ? vtm / vcm : NAN;
	}
	return 0;
}

double yoc_eval_max_smd(const struct yoc_eval_balance *b, int p)
{
	double mx = 0;
	for (int j = 0; j < p; j++)
		if (!b[j].constant && fabs(b[j].smd_after) > mx)
			mx = fabs(b[j].smd_after);
	return mx;
}

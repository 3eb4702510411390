/*
** Effects on an outcome (docs/evaluation.md): the matched difference in
** differences with a cluster bootstrap over matched sets, the naive
** before/after change of the treated, the unmatched treated-vs-rest
** difference, and the placebo difference in differences over the pre years
** that checks the trends were parallel. The bootstrap draws from its own
** xoshiro256** stream seeded from the seed alone, so a seed gives the same
** interval on every run and machine. Nothing here prints.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"

struct xrng {
	uint64_t s[4];
};

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void xseed(struct xrng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t xnext(struct xrng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* Uniform integer in [0, n) without bias (Lemire's method with rejection). */
static size_t xbelow(struct xrng *r, size_t n)
{
	uint64_t x = xnext(r);
	unsigned __int128 mlt = (unsigned __int128)x * n;
	uint64_t l = (uint64_t)mlt;
	if (l < n) {
		uint64_t t = -(uint64_t)n % n;
		while (l < t) {
			x = xnext(r);
			mlt = (unsigned __int128)x * n;
			l = (uint64_t)mlt;
		}
	}
	return (size_t)(mlt >> 64);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* R's quantile type 7 of sorted v. */
static double quantile7(const double *v, size_t n, double p)
{
	double h = (double)(n - 1) * p;
	size_t lo = (size_t)floor(h);
	if (lo + 1 >= n)
		return v[n - 1];
	return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}

/* Mean of d with a percentile bootstrap CI, resampling its k values. */
static int boot_mean(const double *d, size_t k, const struct yoc_eval_opts *o, uint64_t stream,
		     struct yoc_eval_est *out, struct yoc_error *e)
{
	long double s = 0;
	for (size_t i = 0; i < k; i++)
		s += d[i];
	out->n = k;
	out->est = k ? (double)(s / (long double)k) : NAN;
	out->lo = out->hi = out->se = NAN;
	int B = o->nboot;
	if (k < 2 || B < 2)
		return 0;
	double *rep = yoc_malloc((size_t)B * sizeof *rep);
	if (!rep)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	struct xrng r;
	xseed(&r, o->seed ^ (stream * 0xd1b54a32d192ed03ULL));
	long double sm = 0, sm2 = 0;
	for (int b = 0; b < B; b++) {
		long double t = 0;
		for (size_t i = 0; i < k; i++)
			t += d[xbelow(&r, k)];
		rep[b] = (double)(t / (long double)k);
		sm += rep[b];
	}
	long double mb = sm / B;
	for (int b = 0; b < B; b++)
		sm2 += (rep[b] - mb) * (rep[b] - mb);
	out->se = (double)sqrtl(sm2 / (B - 1));
	qsort(rep, (size_t)B, sizeof *rep, cmp_d);
	out->lo = quantile7(rep, (size_t)B, 0.025);
	out->hi = quantile7(rep, (size_t)B, 0.975);
	yoc_free(rep);
	return 0;
}

/* Per matched set: change of the treated minus the mean change of its controls. */
static void set_diffs(const struct yoc_eval_match *m, const double *pre, const double *post,
		      double *d)
{
	for (size_t s = 0; s < m->nsets; s++) {
		size_t t = m->set_t[s], c0 = m->set_c0[s], c1 = m->set_c0[s + 1];
		long double cs = 0;
		for (size_t k = c0; k < c1; k++)
			cs += post[m->ctrl[k]] - (pre ? pre[m->ctrl[k]] : 0.0);
		d[s] = (post[t] - (pre ? pre[t] : 0.0)) - (double)(cs / (long double)(c1 - c0));
	}
}

int yoc_eval_effect(const struct yoc_eval_input *in, const struct yoc_eval_match *m,
		    const double *pre, const double *post, const struct yoc_eval_opts *o,
		    struct yoc_eval_effect *out, struct yoc_error *e)
{
	int rc;
	double *d = yoc_malloc((m->nsets ? m->nsets : 1) * sizeof *d);
	if (!d)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	memset(out, 0, sizeof *out);
	set_diffs(m, pre, post, d);
	if ((rc = boot_mean(d, m->nsets, o, 1, &out->did, e)) != 0)
		goto cleanup;
	/* means of the matched: treated weight 1, controls their weights */
	long double tp = 0, tq = 0, cp = 0, cq = 0, cw = 0;
	for (size_t s = 0; s < m->nsets; s++) {
		size_t t = m->set_t[s];
		tq += post[t];
		tp += pre ? pre[t] : 0.0;
	}
	for (size_t i = 0; i < in->n; i++) {
		if (in->treat[i] || m->w[i] == 0)
			continue;
		cq += m->w[i] * post[i];
		cp += m->w[i] * (pre ? pre[i] : 0.0);
		cw += m->w[i];
	}
	out->t_post = (double)(tq / m->nsets);
	out->t_pre = pre ? (double)(tp / m->nsets) : NAN;
	out->c_post = (double)(cq / cw);
	out->c_pre = pre ? (double)(cp / cw) : NAN;
	/* naive: the matched treated alone, post - pre */
	if (pre) {
		for (size_t s = 0; s < m->nsets; s++)
			d[s] = post[m->set_t[s]] - pre[m->set_t[s]];
		if ((rc = boot_mean(d, m->nsets, o, 2, &out->naive, e)) != 0)
			goto cleanup;
	} else {
		out->naive.est = out->naive.lo = out->naive.hi = out->naive.se = NAN;
	}
	/* unmatched: every treated person against every candidate control, post */
	long double st = 0, st2 = 0, sc = 0, sc2 = 0;
	size_t nt = 0, nc = 0;
	for (size_t i = 0; i < in->n; i++) {
		if (in->treat[i]) {
			st += post[i];
			st2 += (long double)post[i] * post[i];
			nt++;
		} else {
			sc += post[i];
			sc2 += (long double)post[i] * post[i];
			nc++;
		}
	}
	double mt = (double)(st / nt), mc = (double)(sc / nc);
	double vt = nt > 1 ? (double)((st2 - st * st / nt) / (nt - 1)) : 0;
	double vc = nc > 1 ? (double)((sc2 - sc * sc / nc) / (nc - 1)) : 0;
	out->unmatched.est = mt - mc;
	out->unmatched.se = sqrt(vt / nt + vc / nc);
	out->unmatched.lo = out->unmatched.est - 1.959963984540054 * out->unmatched.se;
	out->unmatched.hi = out->unmatched.est + 1.959963984540054 * out->unmatched.se;
	out->unmatched.n = nt + nc;
cleanup:
	yoc_free(d);
	return rc;
}

int yoc_eval_trend(const struct yoc_eval_input *in, const struct yoc_eval_match *m,
		   const double *first, const double *last, const struct yoc_eval_opts *o,
		   struct yoc_eval_trend *out, struct yoc_error *e)
{
	double *d = yoc_malloc((m->nsets ? m->nsets : 1) * sizeof *d);
	if (!d)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	set_diffs(m, first, last, d);
	int rc = boot_mean(d, m->nsets, o, 3, &out->placebo, e);
	yoc_free(d);
	if (rc)
		return rc;
	long double s = 0, s2 = 0;
	for (size_t k = 0; k < m->nsets; k++) {
		double v = last[m->set_t[k]];
		s += v;
		s2 += (long double)v * v;
	}
	double sd = m->nsets > 1 ? sqrt((double)((s2 - s * s / m->nsets) / (m->nsets - 1))) : 0;
	int excl = out->placebo.lo > 0 || out->placebo.hi < 0;
	out->ok = !(excl && fabs(out->placebo.est) > 0.1 * sd);
	(void)in;
	return 0;
}

/*
** Propensity score and greedy nearest-neighbour matching (docs/evaluation.md).
** The order follows R MatchIt's method = "nearest" with its defaults, so the
** same data give the same pairs: the score by logistic regression, treated
** people from the highest score down, each taking the available control with
** the nearest score. Ties (equal scores) are broken by the rows' keys, never
** by row order when keys are given. Sorted controls with "next available"
** links to each side (union-find with path halving) make a match O(log n),
** so 10,000 treated among a million controls take well under a second.
** With method optimal the score is fitted here and the pairs are chosen by
** eval_optimal.c. Nothing here prints.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"

void yoc_eval_opts_init(struct yoc_eval_opts *o)
{
	memset(o, 0, sizeof *o);
	o->ratio = 1;
	o->nboot = 1000;
	o->seed = 1;
}

void yoc_eval_match_free(struct yoc_eval_match *m)
{
	if (!m)
		return;
	yoc_free(m->ps);
	yoc_free(m->lps);
	yoc_free(m->w);
	yoc_free(m->set_t);
	yoc_free(m->set_c0);
	yoc_free(m->ctrl);
	yoc_free(m->in_model);
	yoc_logit_fit_free(&m->fit);
	memset(m, 0, sizeof *m);
}

/* ---- the propensity score ------------------------------------------------ */

static void note(struct yoc_eval_match *m, const char *s)
{
	size_t l = strlen(m->notes);
	snprintf(m->notes + l, sizeof m->notes - l, "%s%s", l ? "; " : "", s);
}

static int fit_score(const struct yoc_eval_input *in, struct yoc_eval_match *m,
		     struct yoc_error *e)
{
	size_t n = in->n;
	int p = in->p, q = 1;
	double *Z = NULL, *y = NULL;
	const char **names = NULL;
	int rc;
	for (int j = 0; j < p; j++) {
		double lo = INFINITY, hi = -INFINITY;
		for (size_t i = 0; i < n; i++) {
			double v = in->X[i * (size_t)p + j];
			if (!isfinite(v))
				return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
						     "covariate %s: not a finite number in row %zu",
						     in->names[j], i + 1);
			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
		}
		m->in_model[j] = hi > lo;
		if (!m->in_model[j]) {
			char buf[160];
			snprintf(buf, sizeof buf, "covariate %s is constant (%g): left out of the score",
				 in->names[j], lo);
			note(m, buf);
		}
		q += m->in_model[j];
	}
	Z = yoc_malloc(n * (size_t)q * sizeof *Z);
	y = yoc_malloc(n * sizeof *y);
	names = yoc_malloc((size_t)q * sizeof *names);
	if (!Z || !y || !names) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	names[0] = "(Intercept)";
	for (int j = 0, k = 1; j < p; j++)
		if (m->in_model[j])
			names[k++] = in->names[j];
	for (size_t i = 0; i < n; i++) {
		double *z = Z + i * (size_t)q;
		z[0] = 1.0;
		for (int j = 0, k = 1; j < p; j++)
			if (m->in_model[j])
				z[k++] = in->X[i * (size_t)p + j];
		y[i] = in->treat[i] ? 1.0 : 0.0;
	}
	struct yoc_logit_opts lo;
	yoc_logit_opts_init(&lo);
	lo.intercept = 0;
	lo.names = names;
	if ((rc = yoc_logit_fit(Z, n, q, y, &lo, &m->fit, e)) != 0)
		goto cleanup;
	if (m->fit.warning[0])
		note(m, m->fit.warning);
	for (size_t i = 0; i < n; i++) {
		const double *z = Z + i * (size_t)q;
		double eta = 0;
		for (int k = 0; k < q; k++)
			if (!m->fit.aliased[k])
				eta += z[k] * m->fit.coef[k];
		m->lps[i] = eta;
		m->ps[i] = 1.0 / (1.0 + exp(-eta));
	}
cleanup:
	yoc_free(Z);
	yoc_free(y);
	yoc_free(names);
	return rc;
}

/* ---- ordering ------------------------------------------------------------------ */

struct sortctx {
	const struct yoc_eval_input *in;
	const double *ps;
};
static _Thread_local const struct sortctx *g_sc;

int yoc__eval_key_cmp(const struct yoc_eval_input *in, size_t a, size_t b)
{
	if (in->key) {
		int c = strcmp(in->key[a], in->key[b]);
		if (c)
			return c;
	}
	return a < b ? -1 : a > b;
}

/* Controls: stratum, score ascending, key. */
static int cmp_ctrl(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	const struct yoc_eval_input *in = g_sc->in;
	if (in->stratum && in->stratum[a] != in->stratum[b])
		return in->stratum[a] < in->stratum[b] ? -1 : 1;
	if (g_sc->ps[a] != g_sc->ps[b])
		return g_sc->ps[a] < g_sc->ps[b] ? -1 : 1;
	return yoc__eval_key_cmp(in, a, b);
}

/* Treated: score descending, key. */
static int cmp_treat(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	if (g_sc->ps[a] != g_sc->ps[b])
		return g_sc->ps[a] > g_sc->ps[b] ? -1 : 1;
	return yoc__eval_key_cmp(g_sc->in, a, b);
}

/* "Next available" links: R[i] leads right to the first available >= i
 * (nc when none), L[i + 1] leads left to the last available <= i (0 = none). */
static size_t find_r(size_t *R, size_t i)
{
	while (R[i] != i) {
		R[i] = R[R[i]];
		i = R[i];
	}
	return i;
}

static size_t find_l(size_t *L, size_t i)
{
	while (L[i] != i) {
		L[i] = L[L[i]];
		i = L[i];
	}
	return i;
}

struct matcher {
	const struct yoc_eval_input *in;
	const struct yoc_eval_opts *o;
	struct yoc_eval_match *m;
	size_t *cs;       /* controls sorted */
	size_t nc;
	size_t *R, *L;    /* nc + 1 each */
};

/* First position in [lo, hi) of cs whose score is >= v. */
static size_t lower(const struct matcher *M, size_t lo, size_t hi, double v)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (M->m->ps[M->cs[mid]] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The stratum range [lo, hi) of cs for treated row t. */
static void stratum_range(const struct matcher *M, size_t t, size_t *lo, size_t *hi)
{
	const int64_t *s = M->in->stratum;
	*lo = 0;
	*hi = M->nc;
	if (!s)
		return;
	size_t a = 0, b = M->nc;
	while (a < b) {
		size_t mid = a + (b - a) / 2;
		if (s[M->cs[mid]] < s[t])
			a = mid + 1;
		else
			b = mid;
	}
	*lo = a;
	b = M->nc;
	while (a < b) {
		size_t mid = a + (b - a) / 2;
		if (s[M->cs[mid]] <= s[t])
			a = mid + 1;
		else
			b = mid;
	}
	*hi = a;
}

static int within(const struct matcher *M, size_t t, size_t c)
{
	double w = M->m->caliper_width;
	return w <= 0 || fabs(M->m->lps[c] - M->m->lps[t]) <= w;
}

/*
** Of two candidate positions (SIZE_MAX: none), the one whose control is
** nearer in score to treated row t, ties by key.
*/
static size_t nearer(const struct matcher *M, size_t t, size_t a, size_t b)
{
	if (a == SIZE_MAX)
		return b;
	if (b == SIZE_MAX)
		return a;
	double da = fabs(M->m->ps[M->cs[a]] - M->m->ps[t]);
	double db = fabs(M->m->ps[M->cs[b]] - M->m->ps[t]);
	if (da != db)
		return da < db ? a : b;
	return yoc__eval_key_cmp(M->in, M->cs[a], M->cs[b]) <= 0 ? a : b;
}

/*
** One control for treated row t without replacement: the nearest available
** on each side; returns its position in cs, SIZE_MAX if none is available,
** SIZE_MAX - 1 if the nearest is beyond the caliper.
*/
static size_t pick_once(struct matcher *M, size_t t)
{
	size_t lo, hi;
	stratum_range(M, t, &lo, &hi);
	if (lo >= hi)
		return SIZE_MAX;
	size_t pos = lower(M, lo, hi, M->m->ps[t]);
	size_t r = find_r(M->R, pos), l = find_l(M->L, pos);
	size_t a = r < hi ? r : SIZE_MAX;
	size_t b = l > lo ? l - 1 : SIZE_MAX;
	if (a == SIZE_MAX && b == SIZE_MAX)
		return SIZE_MAX;
	int oka = a != SIZE_MAX && within(M, t, M->cs[a]);
	int okb = b != SIZE_MAX && within(M, t, M->cs[b]);
	if (!oka && !okb)
		return SIZE_MAX - 1;
	size_t c = nearer(M, t, oka ? a : SIZE_MAX, okb ? b : SIZE_MAX);
	/* take c out: right links skip it to c + 1, left links to c */
	M->R[c] = c + 1;
	M->L[c + 1] = c;
	return c;
}

/* With replacement: the k nearest controls of t (positions into out). */
static size_t pick_k(struct matcher *M, size_t t, int k, size_t *out, int *beyond)
{
	size_t lo, hi, got = 0;
	stratum_range(M, t, &lo, &hi);
	*beyond = 0;
	if (lo >= hi)
		return 0;
	size_t pos = lower(M, lo, hi, M->m->ps[t]);
	size_t r = pos, l = pos; /* next right candidate r, next left l - 1 */
	while ((int)got < k) {
		size_t a = r < hi ? r : SIZE_MAX, b = l > lo ? l - 1 : SIZE_MAX;
		if (a == SIZE_MAX && b == SIZE_MAX)
			break;
		size_t c = nearer(M, t, a, b);
		if (!within(M, t, M->cs[c])) {
			*beyond = got == 0;
			break;
		}
		out[got++] = c;
		if (c == a)
			r++;
		else
			l--;
	}
	return got;
}

int yoc_eval_match(const struct yoc_eval_input *in, const struct yoc_eval_opts *o,
		   struct yoc_eval_match *m, struct yoc_error *e)
{
	struct yoc_eval_opts dflt;
	if (!o) {
		yoc_eval_opts_init(&dflt);
		o = &dflt;
	}
	memset(m, 0, sizeof *m);
	struct matcher M = {in, o, m, NULL, 0, NULL, NULL};
	size_t *ts = NULL, *tc = NULL, *tk = NULL, *pk = NULL;
	unsigned char *failed = NULL;
	int rc = 0;
	size_t n = in->n, nt = 0;
	if (o->ratio < 1 || o->ratio > 100)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0, "ratio must be 1 to 100");
	if (o->caliper < 0 || !isfinite(o->caliper))
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0, "caliper must be 0 or more");
	if (o->method != YOC_EVAL_NEAREST && o->method != YOC_EVAL_OPTIMAL)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0, "unknown matching method %d", o->method);
	if (o->method == YOC_EVAL_OPTIMAL && o->replace)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
				     "optimal matching is without replacement: with replacement the "
				     "optimum gives each treated person its nearest controls, which "
				     "is nearest matching with replacement");
	for (size_t i = 0; i < n; i++)
		nt += in->treat[i] != 0;
	m->n = n;
	m->n_treated = nt;
	m->n_controls = n - nt;
	if (nt == 0)
		return yoc_error_set(e, YOC_EDATA, NULL, 0, 0, "no treated people to match");
	if (nt == n)
		return yoc_error_set(e, YOC_EDATA, NULL, 0, 0,
				     "no eligible controls: all %zu people are treated", n);
	m->ps = yoc_malloc(n * sizeof *m->ps);
	m->lps = yoc_malloc(n * sizeof *m->lps);
	m->w = yoc_calloc(n, sizeof *m->w);
	m->in_model = yoc_calloc((size_t)(in->p > 0 ? in->p : 1), 1);
	if (!m->ps || !m->lps || !m->w || !m->in_model) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	if ((rc = fit_score(in, m, e)) != 0)
		goto cleanup;
	if (o->caliper > 0) {
		long double s = 0, s2 = 0;
		for (size_t i = 0; i < n; i++)
			s += m->lps[i];
		long double mean = s / (long double)n;
		for (size_t i = 0; i < n; i++)
			s2 += (m->lps[i] - mean) * (m->lps[i] - mean);
		m->caliper_width = o->caliper * (double)sqrtl(s2 / (long double)(n - 1));
	}
	if (o->method == YOC_EVAL_OPTIMAL) {
		rc = yoc__eval_optimal(in, o, m, e);
		goto cleanup;
	}
	M.nc = n - nt;
	M.cs = yoc_malloc(M.nc * sizeof *M.cs);
	ts = yoc_malloc(nt * sizeof *ts);
	M.R = yoc_malloc((M.nc + 1) * sizeof *M.R);
	M.L = yoc_malloc((M.nc + 1) * sizeof *M.L);
	size_t cap = nt * (size_t)o->ratio;
	tc = yoc_malloc(cap * sizeof *tc);            /* position in cs per (treated, round) */
	tk = yoc_calloc(nt, sizeof *tk);               /* controls found per treated */
	pk = yoc_malloc((size_t)o->ratio * sizeof *pk);
	failed = yoc_calloc(nt, 1);
	if (!M.cs || !ts || !M.R || !M.L || !tc || !tk || !pk || !failed) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0, a = 0, b = 0; i < n; i++) {
		if (in->treat[i])
			ts[a++] = i;
		else
			M.cs[b++] = i;
	}
	struct sortctx sc = {in, m->ps};
	g_sc = &sc;
	qsort(M.cs, M.nc, sizeof *M.cs, cmp_ctrl);
	qsort(ts, nt, sizeof *ts, cmp_treat);
	g_sc = NULL;
	for (size_t i = 0; i <= M.nc; i++)
		M.R[i] = M.L[i] = i;
	if (o->replace) {
		for (size_t j = 0; j < nt; j++) {
			int beyond;
			size_t got = pick_k(&M, ts[j], o->ratio, pk, &beyond);
			for (size_t k = 0; k < got; k++)
				tc[j * (size_t)o->ratio + k] = pk[k];
			tk[j] = got;
			if (!got)
				failed[j] = beyond ? 2 : 1;
		}
	} else {
		for (int r = 0; r < o->ratio; r++) {
			for (size_t j = 0; j < nt; j++) {
				if (failed[j])
					continue;
				size_t c = pick_once(&M, ts[j]);
				if (c >= SIZE_MAX - 1) {
					if (r == 0)
						failed[j] = c == SIZE_MAX ? 1 : 2;
					else
						failed[j] = 3; /* keeps the controls it has */
					continue;
				}
				tc[j * (size_t)o->ratio + tk[j]++] = c;
			}
		}
	}
	/* The sets, in the order treated people were matched. */
	size_t nsets = 0, nctrl = 0;
	for (size_t j = 0; j < nt; j++) {
		if (tk[j]) {
			nsets++;
			nctrl += tk[j];
		} else if (failed[j] == 2) {
			m->n_caliper++;
		} else {
			m->n_no_control++;
		}
	}
	if (nsets == 0) {
		rc = yoc_error_set(e, YOC_EDATA, NULL, 0, 0,
				   "nobody matched: of %zu treated people, %zu had their nearest control "
				   "beyond the caliper (%g SD of the logit) and %zu had no control left",
				   nt, m->n_caliper, o->caliper, m->n_no_control);
		goto cleanup;
	}
	m->set_t = yoc_malloc(nsets * sizeof *m->set_t);
	m->set_c0 = yoc_malloc((nsets + 1) * sizeof *m->set_c0);
	m->ctrl = yoc_malloc(nctrl * sizeof *m->ctrl);
	if (!m->set_t || !m->set_c0 || !m->ctrl) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	size_t s = 0, c = 0;
	for (size_t j = 0; j < nt; j++) {
		if (!tk[j])
			continue;
		m->set_t[s] = ts[j];
		m->set_c0[s] = c;
		m->w[ts[j]] = 1.0;
		for (size_t k = 0; k < tk[j]; k++) {
			size_t row = M.cs[tc[j * (size_t)o->ratio + k]];
			if (m->w[row] == 0)
				m->n_controls_used++;
			m->ctrl[c++] = row;
			m->w[row] += 1.0 / (double)tk[j];
		}
		s++;
	}
	m->set_c0[nsets] = c;
	m->nsets = nsets;
cleanup:
	if (rc == 0) {
		long double d = 0;
		for (size_t k = 0; k < m->nsets; k++)
			for (size_t i = m->set_c0[k]; i < m->set_c0[k + 1]; i++)
				d += fabs(m->ps[m->set_t[k]] - m->ps[m->ctrl[i]]);
		m->distance = (double)d;
	}
	yoc_free(M.cs);
	yoc_free(M.R);
	yoc_free(M.L);
	yoc_free(ts);
	yoc_free(tc);
	yoc_free(tk);
	yoc_free(pk);
	yoc_free(failed);
	if (rc)
		yoc_eval_match_free(m);
	return rc;
}

/*
** Logistic regression by iteratively reweighted least squares, written to be
** read beside R's glm.fit (family = binomial, link = logit): the same start,
** the same working weights and response, the same convergence test, the
** same clamps on the link, the same warning about fitted probabilities of 0
** or 1. The least-squares step solves the normal equations with the
** Cholesky of stats_chol.c rather than R's QR; aliased columns are found by
** the pivot test there and dropped, as R reports NA.
**
** Added to glm.fit: an optional ridge penalty lambda * sum beta_j^2 over all
** columns but the intercept (the Newton step then solves
** (X'WX + lambda D) beta = X'Wz, and convergence is judged on the penalised
** deviance); the terms whose coefficients still move when the fitted
** probabilities reach 0 or 1 are named; a fit that does not converge is an
** error carrying the deviance of every iteration.
**
** Nothing here prints; all memory goes through yoc_malloc and friends.
*/
#include <float.h>
#include <pthread.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stats/stats.h"

/* R's binomial()$linkinv and $mu.eta (family.c): eta is clamped at +-30 so
 * that mu stays inside (0, 1) and the weights stay positive. */
#define THRESH 30.0
#define MTHRESH (-30.0)

static double linkinv(double eta)
{
	double t = eta < MTHRESH ? DBL_EPSILON : eta > THRESH ? 1 / DBL_EPSILON : exp(eta);
	return t / (1 + t);
}

static double mu_eta(double eta)
{
	if (eta > THRESH || eta < MTHRESH)
		return DBL_EPSILON;
	double opexp = 1 + exp(eta);
	return exp(eta) / (opexp * opexp);
}

/* binomial()$dev.resids for y in {0, 1}, unit weights. */
static double dev_resid(double y, double mu)
{
	return y > 0 ? -2 * log(mu) : -2 * log(1 - mu);
}

void yoc_logit_opts_init(struct yoc_logit_opts *o)
{
	memset(o, 0, sizeof *o);
	o->intercept = -1;
	o->lambda = 0;
	o->maxit = 25;
	o->epsilon = 1e-8;
	o->alias_tol = 1e-10;
}

void yoc_logit_fit_free(struct yoc_logit_fit *fit)
{
	if (!fit)
		return;
	yoc_free(fit->coef);
	yoc_free(fit->se);
	yoc_free(fit->aliased);
	yoc_free(fit->dev_log);
	yoc_free(fit->diverging);
	memset(fit, 0, sizeof *fit);
}

static void term_name(const struct yoc_logit_opts *o, int j, char *buf, size_t cap)
{
	if (o->names && o->names[j])
		snprintf(buf, cap, "%s", o->names[j]);
	else
		snprintf(buf, cap, "x%d", j + 1);
}

static int check_args(const double *X, size_t n, int p, const double *y,
		      const struct yoc_logit_opts *o, struct yoc_error *e)
{
	if (!X || !y || n == 0 || p < 1 || p > 4096)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
				     "logistic regression: need n >= 1 rows and 1..4096 columns");
	if (o->intercept < -1 || o->intercept >= p)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
				     "logistic regression: intercept column %d out of range",
				     o->intercept);
	if (!(o->lambda >= 0) || !isfinite(o->lambda) || o->maxit < 1 ||
	    o->maxit > YOC_LOGIT_MAXIT || !(o->epsilon > 0) || !(o->alias_tol >= 0))
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
				     "logistic regression: bad lambda, maxit, epsilon or alias_tol");
	for (size_t i = 0; i < n; i++) {
		if (y[i] != 0 && y[i] != 1)
			return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
					     "logistic regression: outcome of row %zu is not 0 or 1",
					     i + 1);
		if (o->offset && !isfinite(o->offset[i]))
			return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
					     "logistic regression: offset of row %zu is not finite",
					     i + 1);
		for (int j = 0; j < p; j++)
			if (!isfinite(X[i * p + j]))
				return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
						     "logistic regression: row %zu column %d is not finite",
						     i + 1, j + 1);
	}
	return 0;
}

/* eta = X beta + offset, mu = linkinv(eta); returns the deviance. */
static double predict(const double *X, size_t n, int p, const double *y, const double *beta,
		      const double *offset, double *eta, double *mu)
{
	double dev = 0;
	for (size_t i = 0; i < n; i++) {
		const double *xi = X + i * p;
		double s = offset ? offset[i] : 0;
		for (int j = 0; j < p; j++)
			s += xi[j] * beta[j];
		eta[i] = s;
		mu[i] = linkinv(s);
		dev += dev_resid(y[i], mu[i]);
	}
	return dev;
}

/*
** The weighted cross-products of one IRLS step: A = X'WX (lower triangle)
** and b = X'Wz, with W = mu.eta^2 / var and z = eta - offset + (y - mu) /
** mu.eta, as glm.fit.
**
** Up to CP_MAXP columns the rows are cut into CP_NCHUNK fixed chunks, each
** summed on its own (two threads share them) and the chunks added in order,
** so the result is the same whatever the number of threads. Within a chunk,
** rows go in blocks of CP_BLK, transposed, and A is built in 2 x 2 tiles of
** dot products over the block (one load per multiply-add, A touched once
** per block instead of once per row). Wider designs use one pass of rank-one
** updates per row.
*/
enum { CP_NCHUNK = 8, CP_BLK = 64, CP_MAXP = 256, CP_THREAD_ROWS = 50000 };

struct cp_work {
	int pp;                /* p rounded up to even */
	double *chunk;         /* CP_NCHUNK x (pp * pp + pp) sums */
	double *blk;           /* CP_NCHUNK x 2 x pp x CP_BLK transposed blocks */
};

struct cp_job {
	const double *X, *y, *offset, *eta, *mu;
	size_t n;
	int p, c0, c1;
	struct cp_work *w;
};

static void cp_weights(const double *y, const double *offset, const double *eta,
		       const double *mu, size_t i, double *w, double *z)
{
	double me = mu_eta(eta[i]);
	double var = mu[i] * (1 - mu[i]);
	*w = me * me / var;
	*z = eta[i] - (offset ? offset[i] : 0) + (y[i] - mu[i]) / me;
}

static void cp_chunk(const struct cp_job *J, int c)
{
	const int p = J->p, pp = J->w->pp;
	size_t r0 = J->n * (size_t)c / CP_NCHUNK, r1 = J->n * (size_t)(c + 1) / CP_NCHUNK;
	double *A = J->w->chunk + (size_t)c * ((size_t)pp * pp + pp), *b = A + (size_t)pp * pp;
	double *WXt = J->w->blk + (size_t)c * 2 * pp * CP_BLK, *Xt = WXt + (size_t)pp * CP_BLK;
	memset(A, 0, sizeof *A * ((size_t)pp * pp + pp));
	memset(WXt, 0, sizeof *WXt * 2 * (size_t)pp * CP_BLK);
	for (size_t i0 = r0; i0 < r1; i0 += CP_BLK) {
		int m = (int)(r1 - i0 < CP_BLK ? r1 - i0 : CP_BLK);
		for (int r = 0; r < m; r++) {
			const double *xi = J->X + (i0 + (size_t)r) * p;
			double w, z;
			cp_weights(J->y, J->offset, J->eta, J->mu, i0 + (size_t)r, &w, &z);
			for (int j = 0; j < p; j++) {
				double wx = w * xi[j];
				WXt[(size_t)j * CP_BLK + r] = wx;
				Xt[(size_t)j * CP_BLK + r] = xi[j];
				b[j] += wx * z;
			}
		}
		for (int r = m; r < CP_BLK; r++)
			for (int j = 0; j < pp; j++)
				WXt[(size_t)j * CP_BLK + r] = Xt[(size_t)j * CP_BLK + r] = 0;
		for (int j = 0; j < pp; j += 2) {
			const double *u0 = WXt + (size_t)j * CP_BLK, *u1 = u0 + CP_BLK;
			for (int k = 0; k <= j; k += 2) {
				const double *v0 = Xt + (size_t)k * CP_BLK, *v1 = v0 + CP_BLK;
				double s00 = 0, s01 = 0, s10 = 0, s11 = 0;
				for (int r = 0; r < CP_BLK; r++) {
					s00 += u0[r] * v0[r];
					s01 += u0[r] * v1[r];
					s10 += u1[r] * v0[r];
					s11 += u1[r] * v1[r];
				}
				double *a0 = A + (size_t)j * pp + k, *a1 = a0 + pp;
				a0[0] += s00;
				a0[1] += s01;
				a1[0] += s10;
				a1[1] += s11;
			}
		}
	}
}

static void *cp_thread(void *arg)
{
	const struct cp_job *J = arg;
	for (int c = J->c0; c < J->c1; c++)
		cp_chunk(J, c);
	return NULL;
}

static void cross_products(const double *X, size_t n, int p, const double *y,
			   const double *offset, const double *eta, const double *mu,
			   struct cp_work *cw, double *A, double *b)
{
	memset(A, 0, sizeof *A * (size_t)p * p);
	memset(b, 0, sizeof *b * (size_t)p);
	if (cw->chunk) {
		struct cp_job lo = {X, y, offset, eta, mu, n, p, 0, CP_NCHUNK / 2, cw};
		struct cp_job hi = lo;
		hi.c0 = CP_NCHUNK / 2;
		hi.c1 = CP_NCHUNK;
		pthread_t t;
		int threaded = n >= CP_THREAD_ROWS && pthread_create(&t, NULL, cp_thread, &hi) == 0;
		if (!threaded)
			lo.c1 = CP_NCHUNK;
		cp_thread(&lo);
		if (threaded)
			pthread_join(t, NULL);
		const int pp = cw->pp;
		for (int c = 0; c < CP_NCHUNK; c++) {
			const double *Ac = cw->chunk + (size_t)c * ((size_t)pp * pp + pp);
			const double *bc = Ac + (size_t)pp * pp;
			for (int j = 0; j < p; j++) {
				b[j] += bc[j];
				for (int k = 0; k <= j; k++)
					A[(size_t)j * p + k] += Ac[(size_t)j * pp + k];
			}
		}
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const double *xi = X + i * p;
		double w, z;
		cp_weights(y, offset, eta, mu, i, &w, &z);
		for (int j = 0; j < p; j++) {
			double wx = w * xi[j];
			double *aj = A + (size_t)j * p;
			b[j] += wx * z;
			for (int k = 0; k <= j; k++)
				aj[k] += wx * xi[k];
		}
	}
}

static double penalty(const double *beta, int p, const struct yoc_logit_opts *o)
{
	double s = 0;
	for (int j = 0; j < p; j++)
		if (j != o->intercept)
			s += beta[j] * beta[j];
	return o->lambda * s;
}

/* Null deviance: of mean(y) with an intercept, of eta = offset without; with
 * both, R's glm refits the intercept alone with the offset, and so do we
 * (unless the model is that one: then it is the model's own deviance, set
 * by the caller after the fit). */
static int null_deviance(const double *X, size_t n, int p, const double *y,
			 const struct yoc_logit_opts *o, double *out, struct yoc_error *e)
{
	if (o->intercept < 0 || !o->offset) {
		double ybar = 0, dev = 0;
		for (size_t i = 0; i < n; i++)
			ybar += y[i];
		ybar /= (double)n;
		for (size_t i = 0; i < n; i++) {
			double mu = o->intercept < 0 ? linkinv(o->offset ? o->offset[i] : 0) : ybar;
			/* y_log_y(0, .) is 0: an all-0 or all-1 outcome has null deviance 0 */
			dev += (mu == y[i]) ? 0 : dev_resid(y[i], mu);
		}
		*out = dev;
		return 0;
	}
	if (p == 1) {
		*out = NAN;
		return 0;
	}
	double *col = yoc_malloc(sizeof *col * n);
	if (!col)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	for (size_t i = 0; i < n; i++)
		col[i] = X[i * p + o->intercept];
	struct yoc_logit_opts o1;
	yoc_logit_opts_init(&o1);
	o1.intercept = 0;
	o1.maxit = o->maxit;
	o1.epsilon = o->epsilon;
	o1.offset = o->offset;
	struct yoc_logit_fit f1 = { 0 };
	int rc = yoc_logit_fit(col, n, 1, y, &o1, &f1, e);
	*out = rc == 0 ? f1.deviance : NAN;
	if (rc == YOC_EDATA) /* the null model not converging does not spoil the fit */
		rc = 0;
	yoc_logit_fit_free(&f1);
	yoc_free(col);
	return rc;
}

/* Names the diverging terms and fills fit->warning. */
static void separation_warning(struct yoc_logit_fit *fit, size_t n,
			       const struct yoc_logit_opts *o)
{
	char terms[200] = ""; /* sized so that the warning always fits */
	size_t len = 0;
	int nterms = 0;
	for (int j = 0; j < fit->p && len < sizeof terms - 1; j++) {
		if (!fit->diverging[j])
			continue;
		char name[64];
		term_name(o, j, name, sizeof name);
		int w = snprintf(terms + len, sizeof terms - len, "%s%s", nterms ? ", " : "", name);
		len = w < 0 ? len : len + (size_t)w;
		nterms++;
	}
	char conv[64] = "";
	if (!fit->converged)
		snprintf(conv, sizeof conv, "; the fit did not converge in %d iterations", fit->iter);
	snprintf(fit->warning, sizeof fit->warning,
		 "fitted probabilities numerically 0 or 1 for %zu of %zu observations "
		 "(separation or quasi-separation)%s; %s%s; consider a ridge penalty "
		 "(lambda > 0) or removing %s",
		 fit->n_boundary, n, conv,
		 nterms ? "coefficients diverging: " : "the diverging terms could not be singled out",
		 terms, nterms == 1 ? "that term" : "those terms");
}

static int not_converged(struct yoc_logit_fit *fit, struct yoc_error *e)
{
	char log[400] = "";
	size_t len = 0;
	for (int k = 0; k < fit->iter && len < sizeof log - 1; k++) {
		int w = snprintf(log + len, sizeof log - len, "%s%d: %.10g", k ? ", " : "", k + 1,
				 fit->dev_log[k]);
		len = w < 0 ? len : len + (size_t)w;
	}
	return yoc_error_set(e, YOC_EDATA, NULL, 0, 0,
			     "logistic regression did not converge in %d iterations; "
			     "deviance by iteration: %s",
			     fit->iter, log);
}

int yoc_logit_fit(const double *X, size_t n, int p, const double *y,
		  const struct yoc_logit_opts *opts, struct yoc_logit_fit *fit,
		  struct yoc_error *e)
{
	struct yoc_logit_opts defaults;
	if (!opts) {
		yoc_logit_opts_init(&defaults);
		opts = &defaults;
	}
	const struct yoc_logit_opts *o = opts;
	const double *offset = o->offset;
	double *eta = NULL, *mu = NULL, *A = NULL, *b = NULL, *coefold = NULL, *work = NULL;
	struct cp_work cw = {0, NULL, NULL};
	int rc;

	memset(fit, 0, sizeof *fit);
	rc = check_args(X, n, p, y, o, e);
	if (rc)
		return rc;
	fit->p = p;
	fit->coef = yoc_calloc((size_t)p, sizeof *fit->coef);
	fit->se = yoc_calloc((size_t)p, sizeof *fit->se);
	fit->aliased = yoc_calloc((size_t)p, 1);
	fit->diverging = yoc_calloc((size_t)p, 1);
	fit->dev_log = yoc_calloc((size_t)o->maxit, sizeof *fit->dev_log);
	eta = yoc_malloc(sizeof *eta * n);
	mu = yoc_malloc(sizeof *mu * n);
	A = yoc_malloc(sizeof *A * (size_t)p * p);
	b = yoc_malloc(sizeof *b * (size_t)p);
	coefold = yoc_calloc((size_t)p, sizeof *coefold);
	work = yoc_malloc(sizeof *work * (size_t)p);
	if (p <= CP_MAXP) {
		cw.pp = p + (p & 1);
		cw.chunk = yoc_malloc(sizeof *cw.chunk * CP_NCHUNK *
				      ((size_t)cw.pp * cw.pp + (size_t)cw.pp));
		cw.blk = yoc_malloc(sizeof *cw.blk * CP_NCHUNK * 2 * (size_t)cw.pp * CP_BLK);
	}
	if (!fit->coef || !fit->se || !fit->aliased || !fit->diverging || !fit->dev_log ||
	    !eta || !mu || !A || !b || !coefold || !work ||
	    (p <= CP_MAXP && (!cw.chunk || !cw.blk))) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	rc = null_deviance(X, n, p, y, o, &fit->null_deviance, e);
	if (rc)
		goto cleanup;

	/* Start as glm.fit: mustart = (y + 0.5) / 2, eta = logit(mustart);
	 * devold is the deviance there (the coefficients are not yet defined). */
	double devold = 0;
	for (size_t i = 0; i < n; i++) {
		mu[i] = (y[i] + 0.5) / 2;
		eta[i] = log(mu[i] / (1 - mu[i]));
		devold += dev_resid(y[i], mu[i]);
	}
	int have_coefold = 0;
	double dev = devold, pdev = devold;
	double *coef = fit->coef;

	for (int iter = 1; iter <= o->maxit; iter++) {
		/* 1. Weighted least squares of z on X: (X'WX + lambda D) beta = X'Wz. */
		cross_products(X, n, p, y, offset, eta, mu, &cw, A, b);
		for (int j = 0; j < p; j++)
			if (j != o->intercept)
				A[(size_t)j * p + j] += o->lambda;
		int nalias = yoc_chol_factor(A, p, o->alias_tol, fit->aliased);
		if (nalias < 0) {
			rc = yoc_error_set(e, YOC_EINTERNAL, NULL, 0, 0,
					   "logistic regression: X'WX is not positive semi-definite");
			goto cleanup;
		}
		fit->rank = p - nalias;
		memcpy(coef, b, sizeof *b * (size_t)p);
		yoc_chol_solve(A, p, fit->aliased, coef);

		/* 2. New linear predictor, fitted values and deviance. */
		dev = predict(X, n, p, y, coef, offset, eta, mu);
		/* 3. A deviance that is not finite (overflow in eta): halve the
		 * step back towards the last coefficients, as glm.fit. */
		for (int half = 0; !isfinite(dev); half++) {
			if (!have_coefold || half >= o->maxit) {
				rc = yoc_error_set(e, YOC_EDATA, NULL, 0, 0,
						   "logistic regression: no valid set of coefficients "
						   "(deviance not finite at iteration %d)", iter);
				goto cleanup;
			}
			for (int j = 0; j < p; j++)
				coef[j] = (coef[j] + coefold[j]) / 2;
			dev = predict(X, n, p, y, coef, offset, eta, mu);
		}
		pdev = dev + penalty(coef, p, o);
		fit->dev_log[iter - 1] = pdev;
		fit->iter = iter;
		/* How far each coefficient moved: terms still moving at the end of
		 * a fit with fitted 0s or 1s are the diverging ones. */
		for (int j = 0; j < p; j++)
			fit->diverging[j] = have_coefold && !fit->aliased[j] &&
					    fabs(coef[j] - coefold[j]) > 1e-3 * (fabs(coef[j]) + 1);

		/* 4. Converged when the deviance no longer changes (glm.fit). */
		if (fabs(pdev - devold) / (fabs(pdev) + 0.1) < o->epsilon) {
			fit->converged = 1;
			break;
		}
		devold = pdev;
		memcpy(coefold, coef, sizeof *coef * (size_t)p);
		have_coefold = 1;
	}
	fit->deviance = dev;
	if (p == 1 && o->intercept == 0 && offset)
		fit->null_deviance = dev; /* the model is its own null model */

	/* Standard errors from the factor of the last iteration, as summary.glm
	 * (R's chol2inv of the last QR): the diagonal of (L L')^-1. */
	for (int j = 0; j < p; j++) {
		if (fit->aliased[j]) {
			fit->coef[j] = NAN;
			fit->se[j] = NAN;
			continue;
		}
		for (int k = 0; k < p; k++)
			work[k] = k == j;
		yoc_chol_solve(A, p, fit->aliased, work);
		fit->se[j] = sqrt(work[j]);
	}

	/* 5. Fitted probabilities numerically 0 or 1 (glm.fit's eps): the data
	 * are separated, or nearly, and the coefficients of some terms grow
	 * without bound; the deviance criterion may still have been met. */
	const double eps = 10 * DBL_EPSILON;
	for (size_t i = 0; i < n; i++)
		fit->n_boundary += mu[i] > 1 - eps || mu[i] < eps;
	fit->separation = fit->n_boundary > 0;
	if (fit->separation)
		separation_warning(fit, n, o);
	else
		memset(fit->diverging, 0, (size_t)p);
	rc = fit->converged || fit->separation ? 0 : not_converged(fit, e);

cleanup:
	yoc_free(cw.chunk);
	yoc_free(cw.blk);
	yoc_free(eta);
	yoc_free(mu);
	yoc_free(A);
	yoc_free(b);
	yoc_free(coefold);
	yoc_free(work);
	if (rc && rc != YOC_EDATA)
		yoc_logit_fit_free(fit);
	return rc;
}

int yoc_logit_check_events(const double *y, size_t n, int nterms, double min_per_term,
			   struct yoc_error *e)
{
	size_t ones = 0;
	for (size_t i = 0; i < n; i++)
		ones += y[i] == 1;
	size_t zeros = n - ones;
	size_t events = ones < zeros ? ones : zeros;
	if (nterms < 1 || (double)events >= min_per_term * nterms)
		return 0;
	return yoc_error_set(e, YOC_EDATA, NULL, 0, 0,
			     "%zu events (outcome %d) for %d terms: %.1f per term, fewer than %g",
			     events, ones < zeros ? 1 : 0, nterms, (double)events / nterms,
			     min_per_term);
}

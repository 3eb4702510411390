/*
** Statistics: the Cholesky on known matrices; logistic regression compared
** with R's glm(family = binomial) on a seeded synthetic design (coefficients,
** standard errors, deviances, an aliased column), and the calibration slope,
** calibration-in-the-large and DeLong's AUC variance compared with R (base R
** code, the pROC formula written out); AUC against a brute-force pair count,
** DeLong against a small example worked by hand; separation, aliased
** columns, non-convergence, events per term, ridge shrinkage; and every
** allocation failing in turn.
**
** The R comparison writes the data to a temporary CSV and runs Rscript; it
** is skipped when Rscript is missing (scripts/deps.sh installs r-base-core).
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stats/stats.h"
#include "testutil.h"

/* ---- a seeded random stream (splitmix64) ----------------------------- */

static uint64_t rng_state;

static double runif(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static double rnorm(void)
{
	double u = runif(), v = runif();
	return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

static double plogis(double x)
{
	return 1 / (1 + exp(-x));
}

static double rel_diff(double a, double b)
{
	return fabs(a - b) / fmax(fabs(b), 1e-300);
}

/* ---- Cholesky --------------------------------------------------------- */

static void test_chol_known(void **state)
{
	(void)state;
	/* The classic example: L = [2 0 0; 6 1 0; -8 5 3]. */
	double a[9] = { 4, 12, -16, 12, 37, -43, -16, -43, 98 };
	const double a0[9] = { 4, 12, -16, 12, 37, -43, -16, -43, 98 };
	const double l[9] = { 2, 0, 0, 6, 1, 0, -8, 5, 3 };
	unsigned char al[3];
	assert_int_equal(yoc_chol_factor(a, 3, 1e-10, al), 0);
	for (int i = 0; i < 9; i++)
		assert_true(fabs(a[i] - l[i]) < 1e-12);
	/* solve A x = A (1, 2, 3)' */
	double b[3] = { 0 };
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			b[i] += a0[i * 3 + j] * (j + 1);
	yoc_chol_solve(a, 3, al, b);
	for (int i = 0; i < 3; i++)
		assert_true(fabs(b[i] - (i + 1)) < 1e-10);
	/* A inv(A) = I */
	double inv[9], work[3];
	yoc_chol_inverse(a, 3, al, inv, work);
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++) {
			double s = 0;
			for (int k = 0; k < 3; k++)
				s += a0[i * 3 + k] * inv[k * 3 + j];
			assert_true(fabs(s - (i == j)) < 1e-10);
		}
}

static void test_chol_aliased(void **state)
{
	(void)state;
	/* X'X of columns x1, 2 x1, x3, 0: the second and fourth are aliased. */
	double x[5][4];
	for (int i = 0; i < 5; i++) {
		x[i][0] = i + 1.0;
		x[i][1] = 2 * x[i][0];
		x[i][2] = (i * i) % 3 + 0.5;
		x[i][3] = 0;
	}
	double a[16] = { 0 };
	for (int r = 0; r < 5; r++)
		for (int i = 0; i < 4; i++)
			for (int j = 0; j < 4; j++)
				a[i * 4 + j] += x[r][i] * x[r][j];
	unsigned char al[4];
	assert_int_equal(yoc_chol_factor(a, 4, 1e-10, al), 2);
	assert_int_equal(al[0], 0);
	assert_int_equal(al[1], 1);
	assert_int_equal(al[2], 0);
	assert_int_equal(al[3], 1);
	/* Not positive semi-definite: refused. */
	double bad[4] = { 1, 2, 2, 1 };
	assert_int_equal(yoc_chol_factor(bad, 2, 1e-10, al), YOC_EDATA);
}

/* ---- the synthetic design --------------------------------------------- */

#define N 500
#define P 5 /* intercept, x1 normal, x2 uniform, x3 binary, x4 = x1 - 2 x3 */

struct design {
	double X[N * P];
	double y[N];
	double p[N]; /* a risk score for calibration and AUC: rounded, so ties */
};

static void make_design(struct design *d, uint64_t seed)
{
	rng_state = seed;
	for (int i = 0; i < N; i++) {
		double *x = d->X + i * P;
		x[0] = 1;
		x[1] = rnorm();
		x[2] = runif() * 4 - 2;
		x[3] = runif() < 0.3;
		x[4] = x[1] - 2 * x[3];
		double eta = -0.5 + 0.8 * x[1] - 0.6 * x[2] + 0.9 * x[3];
		d->y[i] = runif() < plogis(eta);
		double q = round(plogis(0.2 + 0.7 * eta) * 100) / 100;
		d->p[i] = fmin(fmax(q, 0.01), 0.99);
	}
}

/* ---- compared with R ------------------------------------------------- */

#define R_SCRIPT \
	"a <- commandArgs(TRUE); d <- read.csv(a[1]);" \
	"out <- function(k, v) cat(sprintf(\"%s %s %.17g\\n\", k, names(v), v), sep = \"\");" \
	"f <- glm(y ~ x1 + x2 + x3, family = binomial, data = d);" \
	"out(\"coef\", coef(f)); out(\"se\", summary(f)$coefficients[, 2]);" \
	"out(\"dev\", c(m = f$deviance, null = f$null.deviance, iter = f$iter));" \
	"g <- glm(y ~ x1 + x2 + x3 + x4, family = binomial, data = d);" \
	"out(\"acoef\", coef(g)); out(\"ase\", summary(g)$coefficients[, 2]);" \
	"h <- glm(y ~ qlogis(p), family = binomial, data = d);" \
	"out(\"cal\", c(a = coef(h)[[1]], b = coef(h)[[2]], " \
	"ase = summary(h)$coefficients[1, 2], bse = summary(h)$coefficients[2, 2]));" \
	"k <- glm(y ~ 1, offset = qlogis(p), family = binomial, data = d);" \
	"out(\"citl\", c(a = coef(k)[[1]], se = summary(k)$coefficients[1, 2], " \
	"null = k$null.deviance));" \
	"x <- d$p[d$y == 1]; z <- d$p[d$y == 0];" \
	"V10 <- sapply(x, function(s) mean((s > z) + 0.5 * (s == z)));" \
	"V01 <- sapply(z, function(s) mean((x > s) + 0.5 * (x == s)));" \
	"out(\"auc\", c(auc = mean(V10), var = var(V10) / length(x) + var(V01) / length(z)));"

static char r_out[16384];

/* The value printed by R as "KEY NAME VALUE"; NAN for NA; fails if absent. */
static double r_get(const char *key, const char *name)
{
	char pat[128];
	snprintf(pat, sizeof pat, "\n%s %s ", key, name);
	const char *s = strstr(r_out, pat);
	if (!s)
		fail_msg("R printed no %s %s", key, name);
	s += strlen(pat);
	if (strncmp(s, "NA", 2) == 0)
		return NAN;
	return strtod(s, NULL);
}

static double max_rel; /* the largest relative difference from R, reported */

static void near_r(double ours, const char *key, const char *name, double tol)
{
	double r = r_get(key, name);
	double d = rel_diff(ours, r);
	if (d > max_rel)
		max_rel = d;
	if (!(d <= tol))
		fail_msg("%s %s: ours %.17g, R %.17g (relative difference %.3g)", key, name, ours,
			 r, d);
}

static int run_r(const struct design *d, char *csv, size_t cap)
{
	char body[N * 160 + 64];
	size_t len = (size_t)snprintf(body, sizeof body, "y,x1,x2,x3,x4,p\n");
	for (int i = 0; i < N; i++) {
		const double *x = d->X + i * P;
		len += (size_t)snprintf(body + len, sizeof body - len,
					"%.0f,%.17g,%.17g,%.0f,%.17g,%.17g\n", d->y[i], x[1], x[2],
					x[3], x[4], d->p[i]);
	}
	if (tu_temp_file(csv, cap, "stats_csv", body, len) != 0)
		return -1;
	char cmd[4096];
	snprintf(cmd, sizeof cmd, "Rscript -e '%s' '%s' 2>&1", R_SCRIPT, csv);
	FILE *f = popen(cmd, "r");
	if (!f)
		return -1;
	r_out[0] = '\n';
	size_t n = fread(r_out + 1, 1, sizeof r_out - 2, f);
	r_out[n + 1] = 0;
	return pclose(f) == 0 ? 0 : -1;
}

static void test_logit_vs_r(void **state)
{
	(void)state;
	if (system("command -v Rscript >/dev/null 2>&1") != 0) {
		skip(); /* scripts/deps.sh installs r-base-core */
		return;
	}
	static struct design d;
	make_design(&d, 20261202);
	char csv[512];
	int rrc = run_r(&d, csv, sizeof csv);
	unlink(csv);
	if (rrc != 0)
		fail_msg("Rscript failed:%s", r_out);

	static const char *const names[P] = { "(Intercept)", "x1", "x2", "x3", "x4" };
	struct yoc_logit_opts o;
	yoc_logit_opts_init(&o);
	o.intercept = 0;
	o.names = names;
	struct yoc_error e = { 0 };
	struct yoc_logit_fit fit;
	/* the first four columns: X is row-major with P columns, so copy */
	static double X4[N * 4];
	for (int i = 0; i < N; i++)
		memcpy(X4 + i * 4, d.X + i * P, 4 * sizeof(double));
	assert_int_equal(yoc_logit_fit(X4, N, 4, d.y, &o, &fit, &e), 0);
	assert_true(fit.converged);
	assert_int_equal(fit.separation, 0);
	for (int j = 0; j < 4; j++) {
		near_r(fit.coef[j], "coef", names[j], 1e-6);
		near_r(fit.se[j], "se", names[j], 1e-6);
	}
	near_r(fit.deviance, "dev", "m", 1e-9);
	near_r(fit.null_deviance, "dev", "null", 1e-9);
	assert_int_equal(fit.iter, (int)r_get("dev", "iter"));
	yoc_logit_fit_free(&fit);

	/* with x4 = x1 - 2 x3: R reports NA for x4, the rest as before */
	assert_int_equal(yoc_logit_fit(d.X, N, P, d.y, &o, &fit, &e), 0);
	assert_int_equal(fit.rank, 4);
	assert_int_equal(fit.aliased[4], 1);
	assert_true(isnan(fit.coef[4]) && isnan(r_get("acoef", "x4")));
	for (int j = 0; j < 4; j++) {
		near_r(fit.coef[j], "acoef", names[j], 1e-6);
		near_r(fit.se[j], "ase", names[j], 1e-6);
	}
	yoc_logit_fit_free(&fit);

	/* calibration slope, intercept, in-the-large */
	struct yoc_calib c;
	assert_int_equal(yoc_calib_slope(d.p, d.y, N, &c, &e), 0);
	near_r(c.intercept, "cal", "a", 1e-6);
	near_r(c.slope, "cal", "b", 1e-6);
	near_r(c.intercept_se, "cal", "ase", 1e-6);
	near_r(c.slope_se, "cal", "bse", 1e-6);
	near_r(c.citl, "citl", "a", 1e-6);
	near_r(c.citl_se, "citl", "se", 1e-6);

	/* AUC and DeLong's variance, pROC's formula in base R */
	struct yoc_auc a;
	assert_int_equal(yoc_auc_delong(d.p, d.y, N, &a, &e), 0);
	near_r(a.auc, "auc", "auc", 1e-12);
	near_r(a.var, "auc", "var", 1e-9);
	print_message("# stats: largest relative difference from R: %.3g\n", max_rel);
}

/* ---- AUC ------------------------------------------------------------- */

static void test_auc_brute_force(void **state)
{
	(void)state;
	enum { M = 700 };
	static double s[M], y[M];
	rng_state = 42;
	for (int i = 0; i < M; i++) {
		y[i] = runif() < 0.3;
		s[i] = round((rnorm() + y[i]) * 4) / 4; /* many ties */
	}
	struct yoc_auc a;
	assert_int_equal(yoc_auc_delong(s, y, M, &a, NULL), 0);
	/* every pair, and DeLong's components straight from their definition */
	double pairs = 0, n1 = 0, n0 = 0;
	static double v10[M], v01[M];
	for (int i = 0; i < M; i++) {
		n1 += y[i] == 1;
		n0 += y[i] == 0;
	}
	for (int i = 0; i < M; i++) {
		v10[i] = v01[i] = 0;
		for (int j = 0; j < M; j++) {
			if (y[i] == 1 && y[j] == 0) {
				double c = s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
				pairs += c;
				v10[i] += c / n0;
			}
			if (y[i] == 0 && y[j] == 1)
				v01[i] += (s[j] > s[i] ? 1 : s[j] == s[i] ? 0.5 : 0) / n1;
		}
	}
	double auc = pairs / (n1 * n0);
	double m01 = 0, s10 = 0, s01 = 0;
	for (int i = 0; i < M; i++)
		m01 += y[i] == 0 ? v01[i] / n0 : 0;
	for (int i = 0; i < M; i++) {
		if (y[i] == 1)
			s10 += (v10[i] - auc) * (v10[i] - auc) / (n1 - 1);
		else
			s01 += (v01[i] - m01) * (v01[i] - m01) / (n0 - 1);
	}
	assert_true(fabs(a.auc - auc) < 1e-12);
	assert_true(fabs(a.var - (s10 / n1 + s01 / n0)) < 1e-12);
	assert_true(a.n_pos == (size_t)n1 && a.n_neg == (size_t)n0);
	assert_true(a.lo < a.auc && a.auc < a.hi);
	assert_true(fabs(a.hi - a.auc - 1.959963984540054 * a.se) < 1e-12);
}

static void test_auc_by_hand(void **state)
{
	(void)state;
	/* positives 0.9 0.6 0.4, negatives 0.7 0.4 0.2:
	 * V10 = 1, 2/3, 1/2; V01 = 1/3, 5/6, 1; AUC = 13/18;
	 * var(V10) = 7/108, var(V01) = 13/108; var = (20/108) / 3 = 5/81 */
	const double s[6] = { 0.9, 0.7, 0.6, 0.4, 0.4, 0.2 };
	const double y[6] = { 1, 0, 1, 1, 0, 0 };
	struct yoc_auc a;
	assert_int_equal(yoc_auc_delong(s, y, 6, &a, NULL), 0);
	assert_true(fabs(a.auc - 13.0 / 18) < 1e-15);
	assert_true(fabs(a.var - 5.0 / 81) < 1e-15);
	/* degenerate: one class only, or one case of a class */
	struct yoc_error e = { 0 };
	const double y1[3] = { 1, 1, 1 };
	assert_int_equal(yoc_auc_delong(s, y1, 3, &a, &e), YOC_EDATA);
	const double y2[3] = { 1, 0, 0 };
	assert_int_equal(yoc_auc_delong(s, y2, 3, &a, &e), 0);
	assert_true(a.auc == 1 && isnan(a.var));
	const double bad[2] = { NAN, 1 };
	assert_int_equal(yoc_auc_delong(bad, y2, 2, &a, &e), YOC_EINVAL);
}

/* ---- Brier and calibration groups ------------------------------------ */

static void test_brier_and_groups(void **state)
{
	(void)state;
	const double p[6] = { 0.1, 0.8, 0.3, 0.6, 0.2, 0.9 };
	const double y[6] = { 0, 1, 1, 0, 0, 1 };
	struct yoc_brier b;
	assert_int_equal(yoc_brier(p, y, 6, &b, NULL), 0);
	double want = (0.01 + 0.04 + 0.49 + 0.36 + 0.04 + 0.01) / 6;
	assert_true(fabs(b.brier - want) < 1e-15);
	assert_true(fabs(b.brier_max - 0.25) < 1e-15);
	assert_true(fabs(b.scaled - (1 - want / 0.25)) < 1e-15);

	struct yoc_calib_group g[3];
	assert_int_equal(yoc_calib_groups(p, y, 6, 3, g, NULL), 0);
	/* sorted: 0.1(0) 0.2(0) | 0.3(1) 0.6(0) | 0.8(1) 0.9(1) */
	assert_true(g[0].n == 2 && g[0].observed == 0 && fabs(g[0].expected - 0.3) < 1e-15);
	assert_true(g[1].n == 2 && g[1].observed == 1 && fabs(g[1].expected - 0.9) < 1e-15);
	assert_true(g[2].n == 2 && g[2].observed == 2 && fabs(g[2].expected - 1.7) < 1e-15);
	assert_true(g[1].p_min == 0.3 && g[1].p_max == 0.6 && fabs(g[1].p_mean - 0.45) < 1e-15);
	/* 6 rows in 4 groups: sizes 1 2 1 2 (n g / G) */
	struct yoc_calib_group g4[4];
	assert_int_equal(yoc_calib_groups(p, y, 6, 4, g4, NULL), 0);
	assert_true(g4[0].n + g4[1].n + g4[2].n + g4[3].n == 6);
	assert_int_equal(yoc_calib_groups(p, y, 6, 7, g4, NULL), YOC_EINVAL);
}

/* ---- degenerate fits ------------------------------------------------- */

static void test_separation(void **state)
{
	(void)state;
	enum { M = 200 };
	static double X[M * 3], y[M];
	rng_state = 7;
	for (int i = 0; i < M; i++) {
		X[i * 3] = 1;
		X[i * 3 + 1] = rnorm();      /* age: separates completely */
		X[i * 3 + 2] = rnorm();      /* noise */
		y[i] = X[i * 3 + 1] > 0.2;
	}
	static const char *const names[3] = { "(Intercept)", "age", "noise" };
	struct yoc_logit_opts o;
	yoc_logit_opts_init(&o);
	o.intercept = 0;
	o.names = names;
	struct yoc_logit_fit fit;
	struct yoc_error e = { 0 };
	assert_int_equal(yoc_logit_fit(X, M, 3, y, &o, &fit, &e), 0);
	assert_int_equal(fit.separation, 1);
	assert_true(fit.n_boundary > 0);
	assert_int_equal(fit.diverging[1], 1);
	assert_non_null(strstr(fit.warning, "age"));
	assert_non_null(strstr(fit.warning, "ridge"));
	assert_true(fabs(fit.coef[1]) > 10);
	yoc_logit_fit_free(&fit);

	/* a ridge penalty gives a finite, converged fit */
	o.lambda = 1;
	assert_int_equal(yoc_logit_fit(X, M, 3, y, &o, &fit, &e), 0);
	assert_int_equal(fit.separation, 0);
	assert_int_equal(fit.converged, 1);
	assert_string_equal(fit.warning, "");
	yoc_logit_fit_free(&fit);
}

static void test_aliased_columns(void **state)
{
	(void)state;
	enum { M = 300 };
	static double X[M * 5], y[M];
	rng_state = 11;
	for (int i = 0; i < M; i++) {
		double *x = X + i * 5;
		x[0] = 1;
		x[1] = 5;                 /* constant: the intercept already says it */
		x[2] = rnorm();
		x[3] = rnorm();
		x[4] = x[2] + x[3];       /* collinear */
		y[i] = runif() < plogis(0.3 * x[2] - 0.4 * x[3]);
	}
	struct yoc_logit_opts o;
	yoc_logit_opts_init(&o);
	o.intercept = 0;
	struct yoc_logit_fit fit, ref;
	assert_int_equal(yoc_logit_fit(X, M, 5, y, &o, &fit, NULL), 0);
	assert_int_equal(fit.rank, 3);
	const unsigned char want[5] = { 0, 1, 0, 0, 1 };
	for (int j = 0; j < 5; j++) {
		assert_int_equal(fit.aliased[j], want[j]);
		assert_int_equal(isnan(fit.coef[j]) != 0, want[j]);
		assert_int_equal(isnan(fit.se[j]) != 0, want[j]);
	}
	/* the same as the fit without those columns */
	static double X3[M * 3];
	for (int i = 0; i < M; i++) {
		X3[i * 3] = 1;
		X3[i * 3 + 1] = X[i * 5 + 2];
		X3[i * 3 + 2] = X[i * 5 + 3];
	}
	assert_int_equal(yoc_logit_fit(X3, M, 3, y, &o, &ref, NULL), 0);
	assert_true(rel_diff(fit.coef[2], ref.coef[1]) < 1e-9);
	assert_true(rel_diff(fit.se[3], ref.se[2]) < 1e-9);
	assert_true(rel_diff(fit.deviance, ref.deviance) < 1e-12);
	yoc_logit_fit_free(&fit);
	yoc_logit_fit_free(&ref);
}

static void test_not_converged(void **state)
{
	(void)state;
	static struct design d;
	make_design(&d, 5);
	struct yoc_logit_opts o;
	yoc_logit_opts_init(&o);
	o.intercept = 0;
	o.maxit = 2;
	struct yoc_logit_fit fit;
	struct yoc_error e = { 0 };
	/* all five columns: the aliased x4 changes nothing here */
	assert_int_equal(yoc_logit_fit(d.X, N, P, d.y, &o, &fit, &e), YOC_EDATA);
	assert_int_equal(fit.iter, 2);
	assert_int_equal(fit.converged, 0);
	assert_non_null(strstr(e.msg, "did not converge in 2 iterations"));
	assert_non_null(strstr(e.msg, "deviance by iteration: 1: "));
	assert_non_null(strstr(e.msg, ", 2: "));
	assert_true(fit.dev_log[1] < fit.dev_log[0]);
	yoc_logit_fit_free(&fit);

	/* bad arguments */
	double y[2] = { 0, 2 }, X[2] = { 1, 1 };
	assert_int_equal(yoc_logit_fit(X, 2, 1, y, NULL, &fit, &e), YOC_EINVAL);
	yoc_logit_fit_free(&fit);
}

static void test_events_per_term(void **state)
{
	(void)state;
	static double y[1000];
	for (int i = 0; i < 1000; i++)
		y[i] = i < 38;
	struct yoc_error e = { 0 };
	assert_int_equal(yoc_logit_check_events(y, 1000, 5, 10, &e), YOC_EDATA);
	assert_string_equal(e.msg,
			    "38 events (outcome 1) for 5 terms: 7.6 per term, fewer than 10");
	assert_int_equal(yoc_logit_check_events(y, 1000, 3, 10, &e), 0);
	/* the rarer outcome counts: 38 zeros */
	for (int i = 0; i < 1000; i++)
		y[i] = i >= 38;
	assert_int_equal(yoc_logit_check_events(y, 1000, 4, 10, &e), YOC_EDATA);
	assert_non_null(strstr(e.msg, "(outcome 0)"));
}

static void test_ridge_shrinks(void **state)
{
	(void)state;
	static struct design d;
	make_design(&d, 99);
	struct yoc_logit_opts o;
	yoc_logit_opts_init(&o);
	o.intercept = 0;
	const double lambdas[] = { 0, 1, 10, 100, 1000, 1e8 };
	double prev_norm = INFINITY, prev[4] = { INFINITY, INFINITY, INFINITY, INFINITY };
	static double X4[N * 4];
	for (int i = 0; i < N; i++)
		memcpy(X4 + i * 4, d.X + i * P, 4 * sizeof(double));
	for (size_t k = 0; k < sizeof lambdas / sizeof lambdas[0]; k++) {
		struct yoc_logit_fit fit;
		o.lambda = lambdas[k];
		assert_int_equal(yoc_logit_fit(X4, N, 4, d.y, &o, &fit, NULL), 0);
		double norm = 0;
		for (int j = 1; j < 4; j++) {
			norm += fit.coef[j] * fit.coef[j];
			assert_true(fabs(fit.coef[j]) < fabs(prev[j]));
			prev[j] = fit.coef[j];
		}
		assert_true(norm < prev_norm);
		prev_norm = norm;
		if (lambdas[k] == 1e8) {
			/* everything but the unpenalised intercept is gone: it is
			 * the logit of the prevalence */
			double ybar = 0;
			for (int i = 0; i < N; i++)
				ybar += d.y[i] / N;
			assert_true(fabs(fit.coef[0] - log(ybar / (1 - ybar))) < 1e-4);
		}
		yoc_logit_fit_free(&fit);
	}
}

/* ---- every allocation failing in turn ------------------------------- */

static int run_all(const struct design *d, const double *X4)
{
	static double off[N];
	for (int i = 0; i < N; i++)
		off[i] = 0.1 * d->X[i * P + 2];
	struct yoc_logit_opts o;
	yoc_logit_opts_init(&o);
	o.intercept = 0;
	o.offset = off; /* the null deviance then needs a fit of its own */
	struct yoc_logit_fit fit;
	int rc = yoc_logit_fit(X4, N, 4, d->y, &o, &fit, NULL);
	yoc_logit_fit_free(&fit);
	if (rc)
		return rc;
	struct yoc_auc a;
	if ((rc = yoc_auc_delong(d->p, d->y, N, &a, NULL)) != 0)
		return rc;
	struct yoc_calib_group g[10];
	if ((rc = yoc_calib_groups(d->p, d->y, N, 10, g, NULL)) != 0)
		return rc;
	struct yoc_calib c;
	return yoc_calib_slope(d->p, d->y, N, &c, NULL);
}

static void test_alloc_failures(void **state)
{
	(void)state;
	static struct design d;
	make_design(&d, 3);
	static double X4[N * 4];
	for (int i = 0; i < N; i++)
		memcpy(X4 + i * 4, d.X + i * P, 4 * sizeof(double));
	int rc = -1;
	unsigned long nth;
	for (nth = 1; nth < 1000 && rc != 0; nth++) {
		yoc_alloc_fail_at(nth);
		rc = run_all(&d, X4);
		yoc_alloc_fail_at(0);
		assert_true(rc == 0 || rc == YOC_ENOMEM);
	}
	assert_int_equal(rc, 0);
	assert_true(nth > 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chol_known),
		cmocka_unit_test(test_chol_aliased),
		cmocka_unit_test(test_logit_vs_r),
		cmocka_unit_test(test_auc_brute_force),
		cmocka_unit_test(test_auc_by_hand),
		cmocka_unit_test(test_brier_and_groups),
		cmocka_unit_test(test_separation),
		cmocka_unit_test(test_aliased_columns),
		cmocka_unit_test(test_not_converged),
		cmocka_unit_test(test_events_per_term),
		cmocka_unit_test(test_ridge_shrinks),
		cmocka_unit_test(test_alloc_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

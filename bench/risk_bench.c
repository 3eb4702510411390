/*
** Benchmark of risk stratification's arithmetic on a generated design shaped
** like the risk model's (an intercept, five age bands, sex, IMD decile, 25
** condition flags, log costs; a fixed seed):
**   risk_bench fit N [FILE]    fits by IRLS (src/stats); with FILE, first
**                              writes the design as raw doubles, row by row,
**                              the outcome first (for R and statsmodels);
**   risk_bench score N         scores N person-years with a fitted model's
**                              coefficients (yoc_risk_predict) and ranks them.
** Prints the wall time of the fit or the scoring alone, and the peak memory.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "risk/risk.h"
#include "stats/stats.h"

#define P 40

static uint64_t state = 1;

static double runif(void)
{
	state = state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(state >> 11) / 9007199254740992.0;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double peak_mb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss / 1024.0;
}

/* One row: x[0] = 1, then features; returns the true linear predictor. */
static double gen_row(double *x)
{
	double eta = -4.5;
	x[0] = 1;
	double u = runif();
	int band = u < 0.2 ? 0 : u < 0.55 ? 1 : u < 0.8 ? -1 : u < 0.9 ? 2 : u < 0.97 ? 3 : 4;
	for (int b = 0; b < 5; b++)
		x[1 + b] = band == b;
	static const double age_eff[5] = {-0.5, -0.5, 0.5, 1.1, 1.3};
	if (band >= 0)
		eta += age_eff[band];
	x[6] = runif() < 0.5;
	x[7] = 1 + (int)(runif() * 10);
	eta += -0.2 * x[6] - 0.08 * (x[7] - 5.5);
	double need = 0;
	for (int c = 0; c < 25; c++) {
		x[8 + c] = runif() < 0.02 + 0.005 * c * (band >= 2 ? 3 : 1);
		need += x[8 + c];
		eta += x[8 + c] * (0.2 + 0.04 * c);
	}
	for (int k = 0; k < P - 33; k++) {
		x[33 + k] = runif() < 0.3 + 0.1 * need ? log1p(runif() * 2000 * (1 + need)) : 0;
		eta += 0.03 * x[33 + k] * (k % 3 - 0.5);
	}
	return eta;
}

/* Rank order as risk_score's: risk descending, then row. */
static const double *g_prob;
static int by_risk(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	if (g_prob[i] != g_prob[j])
		return g_prob[i] > g_prob[j] ? -1 : 1;
	return (i > j) - (i < j);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	size_t n = strtoul(argv[2], NULL, 10);
	double *X = malloc(sizeof *X * n * P), *y = malloc(sizeof *y * n);
	if (!X || !y || n == 0)
		return 1;
	for (size_t i = 0; i < n; i++)
		y[i] = runif() < 1 / (1 + exp(-gen_row(X + i * P)));
	if (strcmp(argv[1], "fit") && strcmp(argv[1], "score"))
		return 2;
	struct yoc_logit_opts o;
	yoc_logit_opts_init(&o);
	o.intercept = 0;
	struct yoc_logit_fit fit;
	struct yoc_error e = {0};
	if (strcmp(argv[1], "fit") == 0) {
		if (argc > 3) {
			FILE *f = fopen(argv[3], "wb");
			if (!f)
				return 1;
			for (size_t i = 0; i < n; i++) {
				fwrite(&y[i], sizeof(double), 1, f);
				fwrite(X + i * P, sizeof(double), P, f);
			}
			fclose(f);
		}
		double t0 = now();
		int rc = yoc_logit_fit(X, n, P, y, &o, &fit, &e);
		double t1 = now();
		if (rc) {
			fprintf(stderr, "risk_bench: %s\n", e.msg);
			return 1;
		}
		printf("yoc   fit %zu x %d: %d iterations, %.3f s, peak %.0f MB, coef[1] %.10f, se[1] "
		       "%.10f\n", n, P, fit.iter, t1 - t0, peak_mb(), fit.coef[1], fit.se[1]);
		yoc_logit_fit_free(&fit);
		return 0;
	}
	/* score: a model fitted on the first 200,000 rows, applied to all n */
	if (yoc_logit_fit(X, n < 200000 ? n : 200000, P, y, &o, &fit, &e))
		return 1;
	struct yoc_risk_model m;
	struct yoc_risk_data d;
	memset(&m, 0, sizeof m);
	memset(&d, 0, sizeof d);
	char names[P][16];
	char *terms[P];
	for (int j = 0; j < P; j++) {
		snprintf(names[j], sizeof names[j], j ? "x%d" : "(Intercept)", j);
		terms[j] = names[j];
	}
	m.p = d.p = P;
	m.terms = d.terms = terms;
	m.coef = fit.coef;
	m.se = fit.se;
	d.n = n;
	d.X = X;
	double *prob = malloc(sizeof *prob * n);
	size_t *order = malloc(sizeof *order * n);
	int map[P];
	if (!prob || !order)
		return 1;
	double t0 = now();
	if (yoc_risk_predict(&m, &d, prob, map, &e))
		return 1;
	double t1 = now();
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	g_prob = prob;
	qsort(order, n, sizeof *order, by_risk);
	double t2 = now();
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += prob[i];
	printf("yoc   score %zu person-years x %d terms: probabilities %.3f s, ranking %.3f s, "
	       "total %.3f s; mean risk %.4f, peak %.0f MB\n", n, P, t1 - t0, t2 - t1, t2 - t0,
	       sum / (double)n, peak_mb());
	yoc_logit_fit_free(&fit);
	free(prob);
	free(order);
	free(X);
	free(y);
	return 0;
}

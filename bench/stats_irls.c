/*
** Benchmark: logistic regression by IRLS (src/stats) on a generated dense
** design, n rows x 40 columns (an intercept and 39 uniform covariates, a
** fixed seed). Prints rows, columns, iterations and the wall time of the fit
** alone (not the generation). Usage: stats_irls N.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "stats/stats.h"

static uint64_t state = 1;

static double runif(void)
{
	state = state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(state >> 11) / 9007199254740992.0;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
	const int p = 40;
	double *X = malloc(sizeof *X * n * p), *y = malloc(sizeof *y * n);
	if (!X || !y || n == 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		double eta = -1;
		X[i * p] = 1;
		for (int j = 1; j < p; j++) {
			X[i * p + j] = runif() * 2 - 1;
			eta += 0.1 * X[i * p + j] * (j % 5 - 2);
		}
		y[i] = runif() < 1 / (1 + exp(-eta));
	}
	struct yoc_logit_opts o;
	yoc_logit_opts_init(&o);
	o.intercept = 0;
	struct yoc_logit_fit fit;
	struct yoc_error e = { 0 };
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = yoc_logit_fit(X, n, p, y, &o, &fit, &e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (rc)
		fprintf(stderr, "stats_irls: %s\n", e.msg);
	else
		printf("%zu rows x %d columns: %d iterations, %.3f s\n", n, p, fit.iter, s);
	yoc_logit_fit_free(&fit);
	free(X);
	free(y);
	return rc ? 1 : 0;
}

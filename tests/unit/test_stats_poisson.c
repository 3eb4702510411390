/*
** Poisson statistics (src/stats/stats_poisson.c): indirect standardisation
** on an example worked by hand; the exact (Garwood) interval and the
** funnel limits compared with R (poisson.test, and Spiegelhalter's formula
** written out with qpois/ppois) over a grid of counts and expected values.
** The R comparison is skipped when Rscript is missing.
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

/* Two age-sex cells: the reference population has 1,000 people with 100
 * events (rate 0.1) and 500 with 150 (0.3); a practice with 100 and 50
 * people there is expected to have 100 x 0.1 + 50 x 0.3 = 25 events; with
 * 30 observed its ratio is 30 / 25 = 1.2. */
static void test_expected_by_hand(void **state)
{
	(void)state;
	double rate[2] = {100.0 / 1000, 150.0 / 500}, n[2] = {100, 50};
	double e = yoc_indirect_expected(2, n, rate);
	assert_true(fabs(e - 25) < 1e-12);
	assert_true(fabs(30 / e - 1.2) < 1e-12);
	/* the whole reference population is exactly as expected */
	double all[2] = {1000, 500};
	assert_true(fabs(yoc_indirect_expected(2, all, rate) - 250) < 1e-9);
}

/* Garwood by hand: for 0 observed the lower limit is 0 and the upper
 * -log(0.025) = 3.6889 (the chi-square with 2 df is exponential). */
static void test_ci_zero(void **state)
{
	(void)state;
	double lo, hi;
	assert_int_equal(yoc_poisson_ci(0, 0.95, &lo, &hi), 0);
	assert_true(lo == 0);
	assert_true(fabs(hi + log(0.025)) < 1e-9);
	assert_int_equal(yoc_poisson_ci(-1, 0.95, &lo, &hi), YOC_EINVAL);
	assert_int_equal(yoc_poisson_ci(3, 1.5, &lo, &hi), YOC_EINVAL);
	assert_true(isnan(yoc_funnel_limit(0, 0.975)));
}

static const int obs[] = {1, 2, 5, 13, 30, 100, 505, 1159, 2045, 2185, 7777, 9999};
static const double expv[] = {0.7, 3.2, 10, 24.5, 99.9, 862.2, 1802.5};
static const double ps[] = {0.001, 0.025, 0.975, 0.999};
#define NOBS (sizeof obs / sizeof obs[0])
#define NEXP (sizeof expv / sizeof expv[0])

static void test_vs_r(void **state)
{
	(void)state;
	if (system("command -v Rscript >/dev/null 2>&1") != 0) {
		skip(); /* scripts/deps.sh installs r-base-core */
		return;
	}
	/* R prints: the interval of each count, then each limit, 17 digits */
	char cmd[2048];
	int n = snprintf(cmd, sizeof cmd, "Rscript -e 'o <- c(");
	for (size_t i = 0; i < NOBS; i++)
		n += snprintf(cmd + n, sizeof cmd - (size_t)n, "%s%d", i ? "," : "", obs[i]);
	n += snprintf(cmd + n, sizeof cmd - (size_t)n, "); e <- c(");
	for (size_t i = 0; i < NEXP; i++)
		n += snprintf(cmd + n, sizeof cmd - (size_t)n, "%s%.17g", i ? "," : "", expv[i]);
	snprintf(cmd + n, sizeof cmd - (size_t)n,
		 "); for (x in o) cat(sprintf(\"%%.17g\", poisson.test(x)$conf.int), \"\\n\");"
		 " for (E in e) for (p in c(0.001, 0.025, 0.975, 0.999)) {"
		 " r <- qpois(p, E); a <- (ppois(r, E) - p) / (ppois(r, E) - ppois(r - 1, E));"
		 " cat(sprintf(\"%%.17g\", max(0, (r - a) / E)), \"\\n\") }' 2>&1");
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	double worst = 0;
	for (size_t i = 0; i < NOBS; i++) {
		double rlo, rhi, lo, hi;
		assert_int_equal(fscanf(f, "%lf %lf", &rlo, &rhi), 2);
		assert_int_equal(yoc_poisson_ci(obs[i], 0.95, &lo, &hi), 0);
		double d = fmax(fabs(lo - rlo) / fmax(rlo, 1e-300), fabs(hi - rhi) / rhi);
		worst = fmax(worst, obs[i] ? d : fabs(hi - rhi) / rhi);
	}
	for (size_t i = 0; i < NEXP; i++)
		for (size_t k = 0; k < 4; k++) {
			double r;
			assert_int_equal(fscanf(f, "%lf", &r), 1);
			double mine = yoc_funnel_limit(expv[i], ps[k]);
			worst = fmax(worst, r > 0 ? fabs(mine - r) / r : fabs(mine));
			assert_true(yoc_poisson_quantile(ps[k], expv[i]) >= 0);
		}
	char rest[512];
	while (fgets(rest, sizeof rest, f))
		print_message("# R: %s", rest);
	assert_int_equal(pclose(f), 0);
	print_message("# poisson: largest relative difference from R: %.3g\n", worst);
	assert_true(worst < 1e-8);
	/* large counts (a year's emergency admissions of a million people):
	 * Byar's approximation, against R's exact interval */
	static const double big[] = {1e4, 3e5, 1e6, 3e6};
	n = snprintf(cmd, sizeof cmd, "Rscript -e 'for (x in c(1e4, 3e5, 1e6, 3e6)) cat(sprintf("
		     "\"%%.17g\", poisson.test(x)$conf.int), \"\\n\")' 2>&1");
	f = popen(cmd, "r");
	assert_non_null(f);
	worst = 0;
	for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
		double rlo, rhi, lo, hi;
		assert_int_equal(fscanf(f, "%lf %lf", &rlo, &rhi), 2);
		assert_int_equal(yoc_poisson_ci(big[i], 0.95, &lo, &hi), 0);
		worst = fmax(worst, fmax(fabs(lo - rlo) / rlo, fabs(hi - rhi) / rhi));
	}
	while (fgets(rest, sizeof rest, f))
		print_message("# R: %s", rest);
	assert_int_equal(pclose(f), 0);
	print_message("# poisson, large counts: largest relative difference from R: %.3g\n", worst);
	assert_true(worst < 2e-8);
}

/* A limit lies on the right side of 1 and narrows as E grows fourfold
 * (the interpolated steps need not be monotone between nearby E). */
static void test_funnel_shape(void **state)
{
	(void)state;
	double prev_hi = INFINITY, prev_lo = 0;
	for (double e = 5; e < 50000; e *= 4) {
		double lo = yoc_funnel_limit(e, 0.001), hi = yoc_funnel_limit(e, 0.999);
		assert_true(lo < 1 && hi > 1);
		assert_true(hi < prev_hi && lo >= prev_lo);
		prev_hi = hi;
		prev_lo = lo;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expected_by_hand),
		cmocka_unit_test(test_ci_zero),
		cmocka_unit_test(test_vs_r),
		cmocka_unit_test(test_funnel_shape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
** Poisson statistics for comparing units: the exact (Garwood) confidence
** interval of a Poisson count, and funnel-plot control limits for an
** indirectly standardised ratio (Spiegelhalter 2005, Stat Med 24:1185,
** appendix A.1.1). Quantiles and distribution functions come from GSL.
*/
#include <math.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>

#include "stats/stats.h"

/*
** The p quantile of the chi-square distribution with nu degrees of
** freedom: Newton's method on GSL's distribution function from the
** Wilson-Hilferty approximation, kept inside a bracket (bisection when a
** step leaves it). GSL's own quantile (gsl_cdf_chisq_Pinv) fails to
** converge for many counts from about a thousand on, and its error handler
** then aborts the process.
*/
static double chisq_quantile(double p, double nu)
{
	double z = gsl_cdf_ugaussian_Pinv(p), c = 2 / (9 * nu);
	double x = nu * pow(fmax(1 - c + z * sqrt(c), 0.05), 3);
	double lo = 0, hi = INFINITY;
	for (int i = 0; i < 200; i++) {
		/* F(x) - p, from the upper tail when p is in it (no cancellation) */
		double d = p < 0.5 ? gsl_cdf_chisq_P(x, nu) - p : (1 - p) - gsl_cdf_chisq_Q(x, nu);
		if (d == 0)
			break;
		if (d > 0)
			hi = x;
		else
			lo = x;
		double f = gsl_ran_chisq_pdf(x, nu);
		double nx = f > 0 ? x - d / f : NAN;
		if (!(nx > lo && nx < hi))
			nx = isfinite(hi) ? (lo + hi) / 2 : 2 * x;
		if (fabs(nx - x) <= 1e-15 * x) {
			x = nx;
			break;
		}
		x = nx;
	}
	return x;
}

int yoc_poisson_ci(double obs, double level, double *lo, double *hi)
{
	if (!(obs >= 0) || !(level > 0 && level < 1) || !isfinite(obs))
		return YOC_EINVAL;
	double a = (1 - level) / 2;
	if (obs >= 1e4) {
		/*
		** Byar's approximation (Wilson-Hilferty's for the chi-square):
		** within 2e-8 of the exact interval at 1e4 and closer as the count
		** grows, where GSL's distribution function itself gives up (its
		** large-x asymptotic fails by a million).
		*/
		double z = gsl_cdf_ugaussian_Pinv(1 - a), x1 = obs + 1;
		*lo = obs * pow(1 - 1 / (9 * obs) - z / (3 * sqrt(obs)), 3);
		*hi = x1 * pow(1 - 1 / (9 * x1) + z / (3 * sqrt(x1)), 3);
		return 0;
	}
	/* chi-square with 2x and 2(x+1) degrees of freedom, halved */
	*lo = obs > 0 ? chisq_quantile(a, 2 * obs) / 2 : 0;
	*hi = chisq_quantile(1 - a, 2 * (obs + 1)) / 2;
	return 0;
}

double yoc_poisson_quantile(double p, double mu)
{
	if (!(mu > 0) || !(p > 0 && p < 1))
		return 0;
	/* start near the normal approximation, then step to the smallest k
	 * with P(X <= k) >= p (R's qpois) */
	double k = floor(mu + gsl_cdf_ugaussian_Pinv(p) * sqrt(mu));
	if (k < 0)
		k = 0;
	while (k > 0 && gsl_cdf_poisson_P((unsigned)(k - 1), mu) >= p)
		k--;
	while (gsl_cdf_poisson_P((unsigned)k, mu) < p)
		k++;
	return k;
}

double yoc_funnel_limit(double expected, double p)
{
	if (!(expected > 0) || !(p > 0 && p < 1))
		return NAN;
	/* r_p, the p-quantile of Poisson(E); interpolated between the steps
	 * of the distribution function so the limit is a smooth curve */
	double r = yoc_poisson_quantile(p, expected);
	double fr = gsl_cdf_poisson_P((unsigned)r, expected);
	double fr1 = r > 0 ? gsl_cdf_poisson_P((unsigned)(r - 1), expected) : 0;
	double alpha = fr > fr1 ? (fr - p) / (fr - fr1) : 0;
	double lim = (r - alpha) / expected;
	return lim > 0 ? lim : 0; /* below 0 for small E at r = 0: no lower limit */
}

double yoc_indirect_expected(size_t ncell, const double *n, const double *rate)
{
	double e = 0;
	for (size_t i = 0; i < ncell; i++)
		e += n[i] * rate[i];
	return e;
}

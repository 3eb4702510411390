/*
** The Fellegi-Sunter model: m (agreement levels among matches) and u
** (among non-matches) per field, and lambda, the share of candidate pairs
** that match. EM without labels under conditional independence (Winkler
** 1988; Jaro 1989), worked on counts of comparison patterns so its cost does
** not grow with the number of pairs. Match weights log2(m/u), with the
** term-frequency adjustment at exact agreement.
*/
#include <math.h>
#include <string.h>

#include "link/link.h"

#define BASE 5 /* levels 0..3 and missing (4) per field */

uint32_t yoc_link_pattern(const uint8_t lv[YOC_LF_COUNT])
{
	uint32_t p = 0;
	for (int f = YOC_LF_COUNT - 1; f >= 0; f--)
		p = p * BASE + (lv[f] == YOC_LV_MISSING ? BASE - 1 : lv[f]);
	return p;
}

void yoc_link_unpattern(uint32_t pat, uint8_t lv[YOC_LF_COUNT])
{
	for (int f = 0; f < YOC_LF_COUNT; f++) {
		uint32_t l = pat % BASE;
		lv[f] = l == BASE - 1 ? YOC_LV_MISSING : (uint8_t)l;
		pat /= BASE;
	}
}

void yoc_link_model_init(struct yoc_link_model *md)
{
	memset(md, 0, sizeof *md);
	for (int f = 0; f < YOC_LF_COUNT; f++) {
		int n = yoc_link_nlevels[f];
		for (int l = 0; l < n; l++) {
			/* m rises and u falls towards exact agreement. */
			md->m[f][l] = l == n - 1 ? 0.9 : 0.1 / (n - 1);
			md->u[f][l] = l == 0 ? 0.9 : 0.1 / (n - 1);
		}
	}
	md->lambda = 0.1;
}

/* P(pattern | class) for the levels present. */
static double prod(const double (*p)[YOC_LINK_MAXLV], const uint8_t lv[YOC_LF_COUNT])
{
	double r = 1.0;
	for (int f = 0; f < YOC_LF_COUNT; f++)
		if (lv[f] != YOC_LV_MISSING)
			r *= p[f][lv[f]];
	return r;
}

#define FLOOR 1e-6 /* no level is impossible: keeps every weight finite */
#define M_FLOOR 1e-3

int yoc_link_em(const uint64_t *counts, struct yoc_link_model *md, int fix_u, int max_iter,
		double tol)
{
	double total = 0;
	for (uint32_t p = 0; p < YOC_LINK_NPAT; p++)
		total += (double)counts[p];
	if (total <= 0)
		return YOC_EINVAL;
	md->converged = 0;
	md->iterations = 0;
	for (int it = 0; it < max_iter; it++) {
		double sm[YOC_LF_COUNT][YOC_LINK_MAXLV] = {{0}}, su[YOC_LF_COUNT][YOC_LINK_MAXLV] = {{0}};
		double gsum = 0;
		/* E step: the probability each pattern is a match; M step sums. */
		for (uint32_t p = 0; p < YOC_LINK_NPAT; p++) {
			if (!counts[p])
				continue;
			uint8_t lv[YOC_LF_COUNT];
			yoc_link_unpattern(p, lv);
			double a = md->lambda * prod(md->m, lv), b = (1 - md->lambda) * prod(md->u, lv);
			double g = a + b > 0 ? a / (a + b) : 0;
			double n = (double)counts[p];
			gsum += n * g;
			for (int f = 0; f < YOC_LF_COUNT; f++) {
				if (lv[f] == YOC_LV_MISSING)
					continue;
				sm[f][lv[f]] += n * g;
				su[f][lv[f]] += n * (1 - g);
			}
		}
		double delta = 0, lam = gsum / total;
		if (lam < FLOOR)
			lam = FLOOR;
		if (lam > 1 - FLOOR)
			lam = 1 - FLOOR;
		delta = fabs(lam - md->lambda);
		md->lambda = lam;
		for (int f = 0; f < YOC_LF_COUNT; f++) {
			int nl = yoc_link_nlevels[f];
			double tm = 0, tu = 0;
			for (int l = 0; l < nl; l++)
				tm += sm[f][l], tu += su[f][l];
			for (int l = 0; l < nl; l++) {
				if (tm > 0) {
					double v = sm[f][l] / tm;
					v = v < FLOOR ? FLOOR : v;
					delta = fmax(delta, fabs(v - md->m[f][l]));
					md->m[f][l] = v;
				}
				if (!fix_u && tu > 0) {
					double v = su[f][l] / tu;
					v = v < FLOOR ? FLOOR : v;
					delta = fmax(delta, fabs(v - md->u[f][l]));
					md->u[f][l] = v;
				}
			}
		}
		md->iterations = it + 1;
		if (delta < tol) {
			md->converged = 1;
			break;
		}
	}
	return 0;
}

double yoc_link_field_weight(const struct yoc_link_model *md, int f, int lv, double tf_u)
{
	if (lv == YOC_LV_MISSING || lv < 0 || lv >= yoc_link_nlevels[f])
		return 0.0;
	double m = md->m[f][lv], u = md->u[f][lv];
	if (tf_u > 0 && lv == yoc_link_nlevels[f] - 1)
		u = tf_u;
	if (m < M_FLOOR)
		m = M_FLOOR; /* EM can drive m to nothing; true matches still disagree at times */
	if (u < FLOOR * FLOOR)
		u = FLOOR * FLOOR;
	return log2(m / u);
}

double yoc_link_prior(const struct yoc_link_model *md)
{
	double l = md->lambda;
	if (l < FLOOR)
		l = FLOOR;
	if (l > 1 - FLOOR)
		l = 1 - FLOOR;
	return log2(l / (1 - l));
}

double yoc_link_prob(double w)
{
	if (w > 60)
		return 1.0;
	if (w < -60)
		return 0.0;
	double x = exp2(w);
	return x / (1 + x);
}

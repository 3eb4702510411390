/*
** Statistical process control: the XmR (individuals) chart as NHS England's
** "Making Data Count" (MDC) draws it. Read against the MDC guide:
**
**   1. the centre line is the mean of the points;
**   2. the moving ranges are |x[i] - x[i-1]| (n - 1 of them) and the mean
**      moving range MR-bar their mean;
**   3. sigma is estimated as MR-bar / 1.128 (d2 for subgroups of 2), so the
**      process limits mean +- 3 sigma are mean +- 2.66 MR-bar;
**   4. special-cause rules, each flagging the points that make it:
**        a. a point outside the process limits;
**        b. a shift: a run of 7 or more consecutive points on one side of
**           the mean (a point on the mean breaks the run);
**        c. a trend: 6 or more consecutive points each higher (or each
**           lower) than the one before (an equal value breaks the trend);
**        d. two out of three consecutive points beyond 2 sigma on the same
**           side of the mean (the points beyond 2 sigma are flagged);
**   5. a special-cause point is "improvement" or "concern" by whether it
**      lies on the better side (higher is better, or lower is better), or
**      "neither" when no direction is better (activity volumes); a point
**      flagged on both sides at once counts as concern.
**
** Degenerate cases are explicit: fewer than 2 points have no moving range
** (valid 0: limits NaN, no rule applied); all moving ranges zero gives
** limits equal to the mean, and no point is outside them (strictly).
** Pure computation: no allocation, no output.
*/
#include <math.h>
#include <string.h>

#include "stats/stats.h"

static int side_of(double x, double mean)
{
	return x > mean ? 1 : x < mean ? -1 : 0;
}

int yoc_spc_xmr(const double *x, size_t n, int better, struct yoc_spc *out,
		struct yoc_spc_point *pt, struct yoc_error *e)
{
	memset(out, 0, sizeof *out);
	if (n == 0 || !x || !pt)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0, "an XmR chart needs points");
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
					     "point %zu of the series is not a number", i + 1);
	memset(pt, 0, sizeof *pt * n);
	/* 1. mean */
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += x[i];
	out->mean = s / (double)n;
	out->n = n;
	pt[0].mr = NAN;
	if (n < 2) {
		out->mr_mean = out->sigma = out->ucl = out->lcl = NAN;
		out->upper2 = out->lower2 = NAN;
		return YOC_OK;
	}
	/* 2. moving ranges */
	double mr = 0;
	for (size_t i = 1; i < n; i++) {
		pt[i].mr = fabs(x[i] - x[i - 1]);
		mr += pt[i].mr;
	}
	out->mr_mean = mr / (double)(n - 1);
	/* 3. sigma and limits */
	out->sigma = out->mr_mean / YOC_SPC_D2;
	out->ucl = out->mean + YOC_SPC_E2 * out->mr_mean;
	out->lcl = out->mean - YOC_SPC_E2 * out->mr_mean;
	out->upper2 = out->mean + 2 * out->sigma;
	out->lower2 = out->mean - 2 * out->sigma;
	out->valid = 1;
	/* 4a. outside the limits */
	for (size_t i = 0; i < n; i++) {
		if (x[i] > out->ucl) {
			pt[i].rules |= YOC_SPC_OUTSIDE;
			pt[i].high = 1;
		} else if (x[i] < out->lcl) {
			pt[i].rules |= YOC_SPC_OUTSIDE;
			pt[i].low = 1;
		}
	}
	/* 4b. shifts: maximal runs on one side */
	for (size_t i = 0; i < n;) {
		int sd = side_of(x[i], out->mean);
		size_t j = i + 1;
		while (j < n && sd && side_of(x[j], out->mean) == sd)
			j++;
		if (sd && j - i >= YOC_SPC_SHIFT_LEN)
			for (size_t k = i; k < j; k++) {
				pt[k].rules |= YOC_SPC_SHIFT;
				pt[k].high |= sd > 0;
				pt[k].low |= sd < 0;
			}
		i = j;
	}
	/* 4c. trends: maximal runs of strict rises (or falls); the run of
	 * points i..j has j - i steps */
	for (int dir = -1; dir <= 1; dir += 2)
		for (size_t i = 0; i + 1 < n;) {
			size_t j = i;
			while (j + 1 < n && (dir > 0 ? x[j + 1] > x[j] : x[j + 1] < x[j]))
				j++;
			if (j - i + 1 >= YOC_SPC_TREND_LEN)
				for (size_t k = i; k <= j; k++) {
					pt[k].rules |= YOC_SPC_TREND;
					pt[k].high |= dir > 0;
					pt[k].low |= dir < 0;
				}
			i = j > i ? j : i + 1;
		}
	/* 4d. two out of three beyond 2 sigma on one side */
	for (size_t i = 0; i + 2 < n; i++)
		for (int sd = -1; sd <= 1; sd += 2) {
			int c = 0;
			for (size_t k = i; k < i + 3; k++)
				c += sd > 0 ? x[k] > out->upper2 : x[k] < out->lower2;
			if (c < 2)
				continue;
			for (size_t k = i; k < i + 3; k++)
				if (sd > 0 ? x[k] > out->upper2 : x[k] < out->lower2) {
					pt[k].rules |= YOC_SPC_TWO_OF_THREE;
					pt[k].high |= sd > 0;
					pt[k].low |= sd < 0;
				}
		}
	/* 5. the variation of each point */
	for (size_t i = 0; i < n; i++) {
		struct yoc_spc_point *p = &pt[i];
		if (!p->rules)
			p->variation = YOC_SPC_COMMON;
		else if (better == 0)
			p->variation = YOC_SPC_NEITHER;
		else if ((better > 0 && p->low) || (better < 0 && p->high))
			p->variation = YOC_SPC_CONCERN;
		else
			p->variation = YOC_SPC_IMPROVEMENT;
		out->special += p->rules != 0;
	}
	return YOC_OK;
}

const char *yoc_spc_variation_name(int v)
{
	switch (v) {
	case YOC_SPC_COMMON: return "common cause";
	case YOC_SPC_IMPROVEMENT: return "special cause: improvement";
	case YOC_SPC_CONCERN: return "special cause: concern";
	case YOC_SPC_NEITHER: return "special cause: neither";
	default: return "?";
	}
}

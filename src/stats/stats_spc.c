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
** The steps are those of the general chart (yoc_spc_chart in
** stats_spc_mdc.c) with screening off and one phase; this function keeps
** the single-phase interface the Trends page uses. Allocates one working
** array; no output.
*/
#include <math.h>
#include <string.h>

#include "stats/stats.h"

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
	/* the general chart (stats_spc_mdc.c) without screening or steps */
	struct yoc_spc_opts o;
	yoc_spc_opts_init(&o, YOC_SPC_XMR, better);
	o.screen = 0;
	struct yoc_spc_chart c;
	struct yoc_spc_mpoint *m = yoc_malloc(sizeof *m * n);
	if (!m)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	int rc = yoc_spc_chart(x, NULL, n, &o, &c, m, e);
	if (rc == YOC_OK) {
		memset(pt, 0, sizeof *pt * n);
		out->n = n;
		out->valid = c.valid;
		out->mean = n < 2 ? NAN : c.centre;
		if (n < 2) {
			double s = 0;
			for (size_t i = 0; i < n; i++)
				s += x[i];
			out->mean = s / (double)n;
		}
		out->mr_mean = c.mr_mean;
		out->sigma = c.sigma;
		out->ucl = m[0].ucl;
		out->lcl = m[0].lcl;
		out->upper2 = m[0].upper2;
		out->lower2 = m[0].lower2;
		out->special = c.special;
		for (size_t i = 0; i < n; i++) {
			pt[i].mr = m[i].mr;
			pt[i].rules = m[i].rules;
			pt[i].high = m[i].high;
			pt[i].low = m[i].low;
			pt[i].variation = m[i].variation;
		}
	}
	yoc_free(m);
	return rc;
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

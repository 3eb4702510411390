/*
** Statistical process control as NHS England's "Making Data Count" (MDC)
** tools do it: XmR charts for any measure, p-charts for proportions and
** u-charts for rates, special-cause rules, step changes, and the variation
** and assurance icons. Read against the MDC guide, step by step:
**
**   1. phases: the points are cut at each marked step change; every phase
**      gets its own centre line and limits, computed from its own points,
**      and the rules look at one phase at a time (a run does not carry over
**      a step change, which is what recalculating the limits means);
**   2. missing points (x NaN for XmR, a denominator <= 0 for p and u) are
**      left out: the rules run over the points present, in order;
**   3. XmR: centre = the mean of the phase's points; moving ranges
**      |x[i] - x[i-1]| between consecutive points of the phase; MR-bar their
**      mean; with screening on, moving ranges above 3.267 x MR-bar (the
**      upper range limit of a moving range) are left out and MR-bar is
**      computed again from the rest, once; sigma = MR-bar / 1.128; limits
**      centre +- 2.66 MR-bar (3 sigma), the 2-sigma lines centre +- 2 sigma;
**   4. p-chart: centre p-bar = sum of numerators / sum of denominators over
**      the phase; each point's sigma sqrt(p-bar (1 - p-bar) / n_i); limits
**      p-bar +- 3 sigma_i clipped to [0, 1];
**      u-chart: centre u-bar likewise; sigma_i = sqrt(u-bar / n_i); the
**      lower limit clipped at 0;
**   5. rules, each flagging the points that make it, within a phase:
**        a. a point beyond its limits (strictly);
**        b. a shift: shift_len (default 7) or more consecutive points on one
**           side of the centre line (a point on the line breaks the run);
**        c. a trend: trend_len (default 6) or more consecutive points each
**           higher (or each lower) than the one before (equal breaks it);
**        d. two of three consecutive points beyond 2 sigma on the same side
**           (the points beyond are flagged);
**   6. each flagged point is improvement or concern by its side and the
**      better direction, or neither (no direction; flagged on both sides at
**      once counts as concern); the variation icon is that of the latest
**      present point with its side;
**   7. assurance against a target (a better direction needed): the latest
**      point's limits both on the better side of the target consistently
**      pass, both on the worse side consistently fail, else hit and miss.
**
** Degenerate cases are explicit: an XmR phase of one point has no moving
** range (no limits, no rules); all moving ranges zero give limits equal to
** the centre (nothing is beyond them); a p-chart with p-bar 0 or 1 has
** limits equal to the centre. Allocates only its index array.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stats/stats.h"

void yoc_spc_opts_init(struct yoc_spc_opts *o, int type, int better)
{
	memset(o, 0, sizeof *o);
	o->type = type;
	o->better = better;
	o->shift_len = YOC_SPC_SHIFT_LEN;
	o->trend_len = YOC_SPC_TREND_LEN;
	o->screen = 1;
	o->target = NAN;
}

static int side_of(const struct yoc_spc_mpoint *p)
{
	return p->x > p->centre ? 1 : p->x < p->centre ? -1 : 0;
}

static void flag(struct yoc_spc_mpoint *p, unsigned rule, int sd)
{
	p->rules |= rule;
	p->high |= sd > 0;
	p->low |= sd < 0;
}

/* Steps 3 and 4: the lines of the phase's points q[0..m-1]. */
static void limits(const struct yoc_spc_opts *o, const double *num, const double *den,
		   struct yoc_spc_mpoint **q, const size_t *ix, size_t m, struct yoc_spc_chart *out)
{
	if (o->type == YOC_SPC_XMR) {
		double s = 0;
		for (size_t k = 0; k < m; k++)
			s += q[k]->x;
		double mean = s / (double)m, mr = 0;
		for (size_t k = 1; k < m; k++)
			mr += q[k]->mr = fabs(q[k]->x - q[k - 1]->x);
		double mrbar = m > 1 ? mr / (double)(m - 1) : NAN;
		if (m > 1 && o->screen) {
			double cut = YOC_SPC_SCREEN * mrbar, kept = 0;
			size_t nk = 0;
			for (size_t k = 1; k < m; k++) {
				if (q[k]->mr > cut) {
					q[k]->screened = 1;
					out->screened++;
				} else {
					kept += q[k]->mr;
					nk++;
				}
			}
			if (nk)
				mrbar = kept / (double)nk;
		}
		double sigma = mrbar / YOC_SPC_D2;
		for (size_t k = 0; k < m; k++) {
			q[k]->centre = mean;
			q[k]->ucl = mean + YOC_SPC_E2 * mrbar;
			q[k]->lcl = mean - YOC_SPC_E2 * mrbar;
			q[k]->upper2 = mean + 2 * sigma;
			q[k]->lower2 = mean - 2 * sigma;
		}
		out->centre = mean;
		out->mr_mean = mrbar;
		out->sigma = sigma;
		return;
	}
	double sn = 0, sd = 0;
	for (size_t k = 0; k < m; k++) {
		sn += num[ix[k]];
		sd += den[ix[k]];
	}
	double c = sn / sd;
	for (size_t k = 0; k < m; k++) {
		double n = den[ix[k]];
		double sg = o->type == YOC_SPC_PCHART ? sqrt(c * (1 - c) / n) : sqrt(c / n);
		q[k]->centre = c;
		q[k]->ucl = c + 3 * sg;
		q[k]->lcl = fmax(0, c - 3 * sg);
		if (o->type == YOC_SPC_PCHART)
			q[k]->ucl = fmin(1, q[k]->ucl);
		q[k]->upper2 = c + 2 * sg;
		q[k]->lower2 = c - 2 * sg;
	}
	out->centre = c;
	out->mr_mean = NAN;
	out->sigma = m ? (q[m - 1]->upper2 - c) / 2 : NAN;
}

/* Step 5: the rules over the phase's points q[0..m-1]. */
static void rules(const struct yoc_spc_opts *o, struct yoc_spc_mpoint **q, size_t m)
{
	/* a. beyond the limits */
	for (size_t k = 0; k < m; k++) {
		if (q[k]->x > q[k]->ucl)
			flag(q[k], YOC_SPC_OUTSIDE, 1);
		else if (q[k]->x < q[k]->lcl)
			flag(q[k], YOC_SPC_OUTSIDE, -1);
	}
	/* b. shifts: maximal runs on one side */
	for (size_t i = 0; i < m;) {
		int sd = side_of(q[i]);
		size_t j = i + 1;
		while (j < m && sd && side_of(q[j]) == sd)
			j++;
		if (sd && j - i >= (size_t)o->shift_len)
			for (size_t k = i; k < j; k++)
				flag(q[k], YOC_SPC_SHIFT, sd);
		i = j;
	}
	/* c. trends: maximal runs of strict rises (or falls), counted in points */
	for (int dir = -1; dir <= 1; dir += 2)
		for (size_t i = 0; i + 1 < m;) {
			size_t j = i;
			while (j + 1 < m && (dir > 0 ? q[j + 1]->x > q[j]->x : q[j + 1]->x < q[j]->x))
				j++;
			if (j - i + 1 >= (size_t)o->trend_len)
				for (size_t k = i; k <= j; k++)
					flag(q[k], YOC_SPC_TREND, dir);
			i = j > i ? j : i + 1;
		}
	/* d. two of three beyond 2 sigma on one side */
	for (size_t i = 0; i + 2 < m; i++)
		for (int sd = -1; sd <= 1; sd += 2) {
			int c = 0;
			for (size_t k = i; k < i + 3; k++)
				c += sd > 0 ? q[k]->x > q[k]->upper2 : q[k]->x < q[k]->lower2;
			if (c < 2)
				continue;
			for (size_t k = i; k < i + 3; k++)
				if (sd > 0 ? q[k]->x > q[k]->upper2 : q[k]->x < q[k]->lower2)
					flag(q[k], YOC_SPC_TWO_OF_THREE, sd);
		}
}

int yoc_spc_chart(const double *num, const double *den, size_t n,
		  const struct yoc_spc_opts *o, struct yoc_spc_chart *out,
		  struct yoc_spc_mpoint *pt, struct yoc_error *e)
{
	memset(out, 0, sizeof *out);
	if (n == 0 || !num || !pt || !o)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0, "a chart needs points");
	if (o->type < YOC_SPC_XMR || o->type > YOC_SPC_UCHART || (o->type != YOC_SPC_XMR && !den))
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0, "a p- or u-chart needs denominators");
	if (o->shift_len < 2 || o->trend_len < 2 || o->shift_len > 1000 || o->trend_len > 1000)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
				     "run and trend lengths must be 2 to 1000 points");
	for (size_t k = 0; k < o->nsteps; k++)
		if (o->steps[k] == 0 || o->steps[k] >= n || (k && o->steps[k] <= o->steps[k - 1]))
			return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
					     "step change %zu is not inside the series in order", k + 1);
	out->n = n;
	out->type = o->type;
	out->better = o->better;
	out->shift_len = o->shift_len;
	out->trend_len = o->trend_len;
	out->screen = o->type == YOC_SPC_XMR && o->screen;
	out->target = o->target;
	out->nphase = o->nsteps + 1;
	out->icon = YOC_SPC_ICON_NONE;
	memset(pt, 0, sizeof *pt * n);
	/* 1, 2: phases and the points present */
	size_t step = 0;
	for (size_t i = 0; i < n; i++) {
		struct yoc_spc_mpoint *p = &pt[i];
		while (step < o->nsteps && o->steps[step] <= i)
			step++;
		p->phase = (int)step;
		p->centre = p->ucl = p->lcl = p->upper2 = p->lower2 = p->mr = NAN;
		double x;
		if (o->type == YOC_SPC_XMR) {
			x = num[i];
			if (isinf(x))
				return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
						     "point %zu of the series is not a number", i + 1);
		} else {
			if (!isfinite(num[i]) || !isfinite(den[i]) || num[i] < 0 ||
			    (o->type == YOC_SPC_PCHART && den[i] > 0 && num[i] > den[i]))
				return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
						     "point %zu: a %s-chart needs 0 <= numerator%s",
						     i + 1, yoc_spc_type_name(o->type),
						     o->type == YOC_SPC_PCHART ? " <= denominator" : "");
			x = den[i] > 0 ? num[i] / den[i] : NAN;
		}
		p->x = x;
		p->present = !isnan(x);
		out->present += p->present;
	}
	struct yoc_spc_mpoint **q = yoc_malloc(sizeof *q * n);
	size_t *ix = yoc_malloc(sizeof *ix * n);
	if (!q || !ix) {
		yoc_free(q);
		yoc_free(ix);
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	}
	/* 3-5, phase by phase */
	for (size_t i = 0; i < n;) {
		size_t j = i, m = 0;
		while (j < n && pt[j].phase == pt[i].phase) {
			if (pt[j].present) {
				ix[m] = j;
				q[m++] = &pt[j];
			}
			j++;
		}
		size_t need = o->type == YOC_SPC_XMR ? 2 : 1;
		out->valid = m >= need;
		if (m >= need) {
			limits(o, num, den, q, ix, m, out);
			rules(o, q, m);
		} else {
			for (size_t k = 0; k < m && o->type == YOC_SPC_XMR; k++)
				q[k]->centre = q[k]->x;
			out->centre = out->mr_mean = out->sigma = NAN;
		}
		i = j;
	}
	yoc_free(q);
	yoc_free(ix);
	/* 6. variation of each point and the icon of the latest */
	const struct yoc_spc_mpoint *last = NULL;
	for (size_t i = 0; i < n; i++) {
		struct yoc_spc_mpoint *p = &pt[i];
		if (!p->present)
			continue;
		last = p;
		if (!p->rules)
			p->variation = YOC_SPC_COMMON;
		else if (o->better == 0)
			p->variation = YOC_SPC_NEITHER;
		else if ((o->better > 0 && p->low) || (o->better < 0 && p->high))
			p->variation = YOC_SPC_CONCERN;
		else
			p->variation = YOC_SPC_IMPROVEMENT;
		out->special += p->rules != 0;
	}
	out->ucl = out->lcl = NAN;
	if (last && out->valid) {
		out->ucl = last->ucl;
		out->lcl = last->lcl;
		/* flagged on both sides: the side of concern */
		int high = last->high != last->low ? last->high : o->better < 0;
		switch (last->variation) {
		case YOC_SPC_COMMON: out->icon = YOC_SPC_ICON_COMMON; break;
		case YOC_SPC_IMPROVEMENT:
			out->icon = high ? YOC_SPC_ICON_IMPROVE_HIGH : YOC_SPC_ICON_IMPROVE_LOW;
			break;
		case YOC_SPC_CONCERN:
			out->icon = high ? YOC_SPC_ICON_CONCERN_HIGH : YOC_SPC_ICON_CONCERN_LOW;
			break;
		default: out->icon = high ? YOC_SPC_ICON_NEITHER_HIGH : YOC_SPC_ICON_NEITHER_LOW;
		}
	}
	/* 7. assurance */
	out->assurance = YOC_SPC_ASSURE_NONE;
	if (last && out->valid && isfinite(o->target) && o->better != 0) {
		double good = o->better > 0 ? last->lcl : last->ucl;
		double bad = o->better > 0 ? last->ucl : last->lcl;
		int beats_good = o->better > 0 ? good > o->target : good < o->target;
		int misses_bad = o->better > 0 ? bad < o->target : bad > o->target;
		out->assurance = beats_good ? YOC_SPC_ASSURE_PASS
				 : misses_bad ? YOC_SPC_ASSURE_FAIL : YOC_SPC_ASSURE_HIT_MISS;
	}
	return YOC_OK;
}

const char *yoc_spc_type_name(int type)
{
	return type == YOC_SPC_PCHART ? "p" : type == YOC_SPC_UCHART ? "u" : "XmR";
}

const char *yoc_spc_icon_name(int icon)
{
	switch (icon) {
	case YOC_SPC_ICON_COMMON: return "common cause";
	case YOC_SPC_ICON_IMPROVE_HIGH: return "improvement (high)";
	case YOC_SPC_ICON_IMPROVE_LOW: return "improvement (low)";
	case YOC_SPC_ICON_CONCERN_HIGH: return "concern (high)";
	case YOC_SPC_ICON_CONCERN_LOW: return "concern (low)";
	case YOC_SPC_ICON_NEITHER_HIGH: return "neither (high)";
	case YOC_SPC_ICON_NEITHER_LOW: return "neither (low)";
	default: return "no chart";
	}
}

const char *yoc_spc_assurance_name(int assurance)
{
	switch (assurance) {
	case YOC_SPC_ASSURE_PASS: return "consistently passes the target";
	case YOC_SPC_ASSURE_FAIL: return "consistently fails the target";
	case YOC_SPC_ASSURE_HIT_MISS: return "hit and miss: the target is inside the limits";
	default: return "";
	}
}

char *yoc_spc_rules_text(unsigned r, int shift_len, int trend_len, char *buf, size_t cap)
{
	size_t n = 0;
	if (!cap)
		return buf;
	buf[0] = 0;
#define ADD(...)                                                                           \
	do {                                                                               \
		if (n < cap) {                                                             \
			int w_ = snprintf(buf + n, cap - n, "%s", n ? "; " : "");          \
			n += w_ > 0 ? (size_t)w_ : 0;                                      \
		}                                                                          \
		if (n < cap) {                                                             \
			int w_ = snprintf(buf + n, cap - n, __VA_ARGS__);                  \
			n += w_ > 0 ? (size_t)w_ : 0;                                      \
		}                                                                          \
	} while (0)
	if (r & YOC_SPC_OUTSIDE)
		ADD("beyond the limits");
	if (r & YOC_SPC_SHIFT)
		ADD("shift (%d on one side)", shift_len);
	if (r & YOC_SPC_TREND)
		ADD("trend (%d rising or falling)", trend_len);
	if (r & YOC_SPC_TWO_OF_THREE)
		ADD("2 of 3 beyond 2 sigma");
#undef ADD
	return buf;
}

/*
** Making Data Count charts (stats_spc_mdc.c) against series worked by hand:
** each special-cause rule alone (beyond the limits, a shift of 7, a trend of
** 6, two of three beyond 2 sigma), a series with none, the screening of a
** huge moving range (MR-bar from the others, 3.267 x MR-bar the cut), a
** marked step change (limits per phase, no signal left), the configurable
** run and trend lengths, p- and u-chart limits, the variation icon and the
** assurance icon against a target, and bad input.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "stats/stats.h"
#include "testutil.h"

#define N(a) (sizeof a / sizeof a[0])
#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-9)

/* the flags of each point: '-' none, else O (beyond), S, T, 2 in that order */
static void flags(const struct yoc_spc_mpoint *pt, size_t n, char *buf)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf[k++] = ' ';
		if (!pt[i].rules)
			buf[k++] = '-';
		if (pt[i].rules & YOC_SPC_OUTSIDE)
			buf[k++] = 'O';
		if (pt[i].rules & YOC_SPC_SHIFT)
			buf[k++] = 'S';
		if (pt[i].rules & YOC_SPC_TREND)
			buf[k++] = 'T';
		if (pt[i].rules & YOC_SPC_TWO_OF_THREE)
			buf[k++] = '2';
	}
	buf[k] = 0;
}

static struct yoc_spc_chart run_xmr(const double *x, size_t n, int better,
				    struct yoc_spc_mpoint *pt, char *buf)
{
	struct yoc_spc_opts o;
	yoc_spc_opts_init(&o, YOC_SPC_XMR, better);
	struct yoc_spc_chart c;
	assert_int_equal(yoc_spc_chart(x, NULL, n, &o, &c, pt, NULL), 0);
	flags(pt, n, buf);
	return c;
}

/* 10, 11 alternating: mean 10.5, every moving range 1, limits 10.5 +- 2.66,
 * 2 sigma 1.773; nothing fires; the target tests the assurance icon. */
static void test_none_and_assurance(void **state)
{
	(void)state;
	double x[] = {10, 11, 10, 11, 10, 11, 10, 11, 10, 11};
	struct yoc_spc_mpoint pt[N(x)];
	char f[64];
	struct yoc_spc_chart c = run_xmr(x, N(x), 1, pt, f);
	assert_string_equal(f, "- - - - - - - - - -");
	NEAR(c.centre, 10.5);
	NEAR(c.mr_mean, 1);
	NEAR(c.ucl, 13.16);
	NEAR(c.lcl, 7.84);
	NEAR(pt[3].upper2, 10.5 + 2 / 1.128);
	assert_int_equal(c.special, 0);
	assert_int_equal(c.icon, YOC_SPC_ICON_COMMON);
	assert_int_equal(c.assurance, YOC_SPC_ASSURE_NONE);
	assert_int_equal(c.shift_len, 7);
	assert_int_equal(c.trend_len, 6);
	struct yoc_spc_opts o;
	yoc_spc_opts_init(&o, YOC_SPC_XMR, 1);
	o.target = 5; /* both limits above: higher is better, so it passes */
	assert_int_equal(yoc_spc_chart(x, NULL, N(x), &o, &c, pt, NULL), 0);
	assert_int_equal(c.assurance, YOC_SPC_ASSURE_PASS);
	o.target = 15;
	assert_int_equal(yoc_spc_chart(x, NULL, N(x), &o, &c, pt, NULL), 0);
	assert_int_equal(c.assurance, YOC_SPC_ASSURE_FAIL);
	o.target = 10;
	assert_int_equal(yoc_spc_chart(x, NULL, N(x), &o, &c, pt, NULL), 0);
	assert_int_equal(c.assurance, YOC_SPC_ASSURE_HIT_MISS);
	o.better = -1; /* lower is better: a target of 15 above both limits passes */
	o.target = 15;
	assert_int_equal(yoc_spc_chart(x, NULL, N(x), &o, &c, pt, NULL), 0);
	assert_int_equal(c.assurance, YOC_SPC_ASSURE_PASS);
	o.better = 0; /* no direction: no assurance */
	assert_int_equal(yoc_spc_chart(x, NULL, N(x), &o, &c, pt, NULL), 0);
	assert_int_equal(c.assurance, YOC_SPC_ASSURE_NONE);
}

/* A huge moving range: 10 11 10 11 10 30 10 11 10 11. Moving ranges
 * 1 1 1 1 20 20 1 1 1, mean 47/9 = 5.22, cut 3.267 x 5.22 = 17.06: the two
 * 20s are screened, MR-bar 7/7 = 1; mean 12.4, limits 12.4 +- 2.66. 30 is
 * beyond; the 10s are below 12.4 - 2/1.128 = 10.627, two of three. */
static void test_screening(void **state)
{
	(void)state;
	double x[] = {10, 11, 10, 11, 10, 30, 10, 11, 10, 11};
	struct yoc_spc_mpoint pt[N(x)];
	char f[64];
	struct yoc_spc_chart c = run_xmr(x, N(x), 0, pt, f);
	NEAR(c.centre, 12.4);
	NEAR(c.mr_mean, 1);
	NEAR(c.ucl, 15.06);
	NEAR(c.lcl, 9.74);
	assert_int_equal(c.screened, 2);
	assert_int_equal(pt[5].screened, 1);
	assert_int_equal(pt[6].screened, 1);
	assert_int_equal(pt[4].screened, 0);
	assert_string_equal(f, "2 - 2 - 2 O 2 - 2 -");
	/* without screening MR-bar is 47/9 and 30 is still beyond */
	struct yoc_spc_opts o;
	yoc_spc_opts_init(&o, YOC_SPC_XMR, 0);
	o.screen = 0;
	assert_int_equal(yoc_spc_chart(x, NULL, N(x), &o, &c, pt, NULL), 0);
	NEAR(c.mr_mean, 47.0 / 9);
	NEAR(c.ucl, 12.4 + 2.66 * 47.0 / 9);
	assert_int_equal(c.screened, 0);
	flags(pt, N(x), f);
	assert_string_equal(f, "- - - - - O - - - -");
	assert_int_equal(c.icon, YOC_SPC_ICON_COMMON);
}

/* The shift alone: 7 points alternating 10/12, then 7 alternating
 * 11.5/12.5, mean 159.5/14 = 11.393: the last 7 are all above. MR-bar 1.5,
 * limits 11.393 +- 3.99, 2 sigma 2.66: nothing else. */
static void test_shift_only(void **state)
{
	(void)state;
	double x[] = {10, 12, 10, 12, 10, 12, 10, 11.5, 12.5, 11.5, 12.5, 11.5, 12.5, 11.5};
	struct yoc_spc_mpoint pt[N(x)];
	char f[64];
	struct yoc_spc_chart c = run_xmr(x, N(x), 1, pt, f);
	NEAR(c.centre, 159.5 / 14);
	NEAR(c.mr_mean, 1.5);
	assert_string_equal(f, "- - - - - - - S S S S S S S");
	assert_int_equal(c.special, 7);
	assert_int_equal(c.icon, YOC_SPC_ICON_IMPROVE_HIGH);
	assert_int_equal(pt[13].variation, YOC_SPC_IMPROVEMENT);
	c = run_xmr(x, N(x), -1, pt, f);
	assert_int_equal(c.icon, YOC_SPC_ICON_CONCERN_HIGH);
	c = run_xmr(x, N(x), 0, pt, f);
	assert_int_equal(c.icon, YOC_SPC_ICON_NEITHER_HIGH);
	/* a run length of 8 is not met by these 7 */
	struct yoc_spc_opts o;
	yoc_spc_opts_init(&o, YOC_SPC_XMR, 1);
	o.shift_len = 8;
	assert_int_equal(yoc_spc_chart(x, NULL, N(x), &o, &c, pt, NULL), 0);
	assert_int_equal(c.special, 0);
	assert_int_equal(c.shift_len, 8);
	char t[128];
	assert_string_equal(yoc_spc_rules_text(YOC_SPC_SHIFT | YOC_SPC_OUTSIDE, 8, 6, t, sizeof t),
			    "beyond the limits; shift (8 on one side)");
}

/* The trend alone: 5.0 5.2 ... 6.0 rise 6 points in a row (after an equal
 * 5); mean 82/15, MR-bar 9/14, limits 5.467 +- 1.71. */
static void test_trend_only(void **state)
{
	(void)state;
	double x[] = {5, 6, 5, 6, 5, 5.0, 5.2, 5.4, 5.6, 5.8, 6.0, 5, 6, 5, 6};
	struct yoc_spc_mpoint pt[N(x)];
	char f[64];
	struct yoc_spc_chart c = run_xmr(x, N(x), -1, pt, f);
	NEAR(c.centre, 82.0 / 15);
	NEAR(c.mr_mean, 9.0 / 14);
	assert_string_equal(f, "- - - - - T T T T T T - - - -");
	assert_int_equal(pt[8].variation, YOC_SPC_CONCERN); /* rising, lower is better */
	assert_int_equal(c.icon, YOC_SPC_ICON_COMMON);
	struct yoc_spc_opts o;
	yoc_spc_opts_init(&o, YOC_SPC_XMR, -1);
	o.trend_len = 7;
	assert_int_equal(yoc_spc_chart(x, NULL, N(x), &o, &c, pt, NULL), 0);
	assert_int_equal(c.special, 0);
}

/* Two of three alone: 12.9 and 13 above 10.806 + 2 x 1.1333 / 1.128 =
 * 12.816 and below the limit 13.821. */
static void test_two_of_three_only(void **state)
{
	(void)state;
	double x[] = {10, 11, 10, 11, 10, 11, 10, 11, 12.9, 13, 10, 11, 10, 11, 10, 11};
	struct yoc_spc_mpoint pt[N(x)];
	char f[64];
	struct yoc_spc_chart c = run_xmr(x, N(x), 1, pt, f);
	NEAR(c.centre, 172.9 / 16);
	NEAR(c.mr_mean, 17.0 / 15);
	assert_string_equal(f, "- - - - - - - - 2 2 - - - - - -");
}

/* The beyond-the-limits rule alone: 14/16 alternating with one 30. Moving
 * ranges 2 x 6, 16, 16, 2 x 5: mean 54/13 = 4.15, cut 13.57: the 16s are
 * screened, MR-bar 2; mean 224/14 = 16 (the 16s on the line break every
 * run), limits 16 +- 5.32, 2 sigma 3.55: only 30 fires. */
static void test_outside_only(void **state)
{
	(void)state;
	double x[] = {14, 16, 14, 16, 14, 16, 14, 30, 14, 16, 14, 16, 14, 16};
	struct yoc_spc_mpoint pt[N(x)];
	char f[64];
	struct yoc_spc_chart c = run_xmr(x, N(x), 1, pt, f);
	NEAR(c.mr_mean, 2);
	NEAR(c.centre, 16);
	NEAR(c.ucl, 21.32);
	assert_int_equal(c.screened, 2);
	assert_string_equal(f, "- - - - - - - O - - - - - -");
	assert_int_equal(pt[7].variation, YOC_SPC_IMPROVEMENT);
}

/* A step change at point 6: 10/11 then 20/21. Unmarked, every point is
 * beyond limits 15.5 +- 2.66 (the jump screened); marked, each phase has
 * its own mean (10.5, 20.5) and MR-bar 1, and nothing fires. */
static void test_step_change(void **state)
{
	(void)state;
	double x[] = {10, 11, 10, 11, 10, 11, 20, 21, 20, 21, 20, 21};
	struct yoc_spc_mpoint pt[N(x)];
	char f[64];
	struct yoc_spc_chart c = run_xmr(x, N(x), 0, pt, f);
	NEAR(c.centre, 15.5);
	NEAR(c.mr_mean, 1);
	assert_int_equal(c.special, 12);
	struct yoc_spc_opts o;
	yoc_spc_opts_init(&o, YOC_SPC_XMR, 0);
	size_t steps[] = {6};
	o.steps = steps;
	o.nsteps = 1;
	assert_int_equal(yoc_spc_chart(x, NULL, N(x), &o, &c, pt, NULL), 0);
	assert_int_equal(c.nphase, 2);
	assert_int_equal(c.special, 0);
	NEAR(pt[0].centre, 10.5);
	NEAR(pt[5].ucl, 13.16);
	NEAR(pt[6].centre, 20.5);
	NEAR(pt[11].lcl, 17.84);
	assert_true(isnan(pt[6].mr)); /* no moving range across the step */
	assert_int_equal(pt[6].phase, 1);
	NEAR(c.centre, 20.5);
	size_t bad[] = {12};
	o.steps = bad;
	assert_int_equal(yoc_spc_chart(x, NULL, N(x), &o, &c, pt, NULL), YOC_EINVAL);
}

/* p-chart: 10, 12, 8, 30 of 100 each: p-bar 0.15, sigma 0.0357, limits
 * 0.0429 .. 0.2571: 0.30 is beyond. A missing month (denominator 0) is
 * skipped. u-chart: 4 events in 1, 2, 2, 3 units: u-bar 16/8 = 2. */
static void test_p_and_u(void **state)
{
	(void)state;
	double num[] = {10, 12, 8, 0, 30}, den[] = {100, 100, 100, 0, 100};
	struct yoc_spc_mpoint pt[5];
	struct yoc_spc_opts o;
	yoc_spc_opts_init(&o, YOC_SPC_PCHART, 1);
	o.target = 0.04; /* below the lower limit 0.0429: passes */
	struct yoc_spc_chart c;
	assert_int_equal(yoc_spc_chart(num, den, 5, &o, &c, pt, NULL), 0);
	double s = sqrt(0.15 * 0.85 / 100);
	NEAR(c.centre, 0.15);
	NEAR(pt[0].ucl, 0.15 + 3 * s);
	NEAR(pt[0].lcl, 0.15 - 3 * s);
	NEAR(pt[1].upper2, 0.15 + 2 * s);
	assert_int_equal(pt[3].present, 0);
	assert_int_equal(c.present, 4);
	assert_int_equal(pt[4].rules, YOC_SPC_OUTSIDE);
	assert_int_equal(pt[0].rules | pt[1].rules | pt[2].rules | pt[3].rules, 0);
	assert_int_equal(c.icon, YOC_SPC_ICON_IMPROVE_HIGH);
	assert_int_equal(c.assurance, YOC_SPC_ASSURE_PASS);
	double un[] = {4, 4, 4, 4}, ud[] = {1, 2, 2, 3};
	o.type = YOC_SPC_UCHART;
	o.target = NAN;
	assert_int_equal(yoc_spc_chart(un, ud, 4, &o, &c, pt, NULL), 0);
	NEAR(c.centre, 2);
	NEAR(pt[0].ucl, 2 + 3 * sqrt(2.0));
	NEAR(pt[0].lcl, 0);
	NEAR(pt[3].ucl, 2 + 3 * sqrt(2.0 / 3));
	NEAR(pt[3].lcl, 0); /* 2 - 2.449 clipped at 0 */
	NEAR(pt[0].x, 4);
	/* a proportion above 1 is refused */
	double bn[] = {5}, bd[] = {4};
	o.type = YOC_SPC_PCHART;
	assert_int_equal(yoc_spc_chart(bn, bd, 1, &o, &c, pt, NULL), YOC_EINVAL);
	o.type = YOC_SPC_XMR;
	o.shift_len = 1;
	assert_int_equal(yoc_spc_chart(un, NULL, 4, &o, &c, pt, NULL), YOC_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none_and_assurance), cmocka_unit_test(test_screening),
		cmocka_unit_test(test_shift_only), cmocka_unit_test(test_trend_only),
		cmocka_unit_test(test_two_of_three_only), cmocka_unit_test(test_outside_only),
		cmocka_unit_test(test_step_change), cmocka_unit_test(test_p_and_u),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

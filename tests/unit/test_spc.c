/*
** XmR charts (stats_spc.c) against examples worked by hand with the rules
** of NHS England's "Making Data Count": mean, mean moving range, limits at
** mean +- 2.66 MR-bar, and each special-cause rule on its own (a point
** outside the limits; a shift of 7 points on one side of the mean; a trend
** of 6 rising or falling points; two of three points beyond 2 sigma on one
** side), the direction of a special cause, and the edge cases: no points,
** one point, all points equal (zero moving range), a step change caught by
** the shift rule, a run broken by a point on the mean, a trend broken by an
** equal value.
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

static unsigned rules_of(const struct yoc_spc_point *pt, size_t n, unsigned rule, char *buf)
{
	/* the flagged points as a string of 0/1, for readable comparisons */
	unsigned c = 0;
	for (size_t i = 0; i < n; i++) {
		buf[i] = (pt[i].rules & rule) ? '1' : '0';
		c += (pt[i].rules & rule) != 0;
	}
	buf[n] = 0;
	return c;
}

/* 1..5 rising: mean 3, every moving range 1, limits 3 +- 2.66; 5 points
 * are one short of a trend; no rule fires. */
static void test_hand_limits(void **state)
{
	(void)state;
	double x[] = {1, 2, 3, 4, 5};
	struct yoc_spc s;
	struct yoc_spc_point pt[N(x)];
	assert_int_equal(yoc_spc_xmr(x, N(x), 0, &s, pt, NULL), 0);
	assert_int_equal(s.valid, 1);
	assert_true(fabs(s.mean - 3) < 1e-12);
	assert_true(fabs(s.mr_mean - 1) < 1e-12);
	assert_true(fabs(s.ucl - 5.66) < 1e-12);
	assert_true(fabs(s.lcl - 0.34) < 1e-12);
	assert_true(fabs(s.sigma - 1 / 1.128) < 1e-12);
	assert_true(isnan(pt[0].mr));
	assert_true(fabs(pt[4].mr - 1) < 1e-12);
	assert_int_equal(s.special, 0);
	for (size_t i = 0; i < N(x); i++)
		assert_int_equal(pt[i].variation, YOC_SPC_COMMON);
}

/* 1..6 rising: a trend of 6 points (5 rises); with higher better, every
 * point is special cause improvement; lower better: concern. 1..6 with the
 * 4th equal to the 3rd is no trend. */
static void test_trend(void **state)
{
	(void)state;
	double x[] = {1, 2, 3, 4, 5, 6};
	struct yoc_spc s;
	struct yoc_spc_point pt[7];
	char b[16];
	assert_int_equal(yoc_spc_xmr(x, N(x), 1, &s, pt, NULL), 0);
	assert_int_equal(rules_of(pt, N(x), YOC_SPC_TREND, b), 6);
	assert_int_equal(rules_of(pt, N(x), YOC_SPC_OUTSIDE | YOC_SPC_SHIFT | YOC_SPC_TWO_OF_THREE, b), 0);
	for (size_t i = 0; i < N(x); i++)
		assert_int_equal(pt[i].variation, YOC_SPC_IMPROVEMENT);
	assert_int_equal(yoc_spc_xmr(x, N(x), -1, &s, pt, NULL), 0);
	assert_int_equal(pt[0].variation, YOC_SPC_CONCERN);
	double down[] = {7, 6, 5, 4, 3, 2, 1};
	assert_int_equal(yoc_spc_xmr(down, N(down), 0, &s, pt, NULL), 0);
	assert_int_equal(rules_of(pt, N(down), YOC_SPC_TREND, b), 7);
	assert_int_equal(pt[3].low, 1);
	assert_int_equal(pt[3].high, 0);
	assert_int_equal(pt[3].variation, YOC_SPC_NEITHER);
	double flat[] = {1, 2, 3, 3, 4, 5, 6};
	assert_int_equal(yoc_spc_xmr(flat, N(flat), 0, &s, pt, NULL), 0);
	assert_int_equal(rules_of(pt, N(flat), YOC_SPC_TREND, b), 0);
}

/* A step change: 7 points around 5.5 then 7 around 9.5. Mean 104/14 =
 * 7.4286; moving ranges twelve 1s and one 4: MR-bar 16/13 = 1.2308; limits
 * 7.4286 +- 3.2738 = 4.1547 .. 10.7024: nothing outside. Both halves are
 * runs of 7 on one side of the mean: all 14 points are a shift, the first
 * half low (concern when higher is better), the second high. 2 sigma =
 * 2.1822: the 5s (below 5.2464) and the 10s (above 9.6108) come two in
 * every three: flagged too; the 6s and 9s are not. */
static void test_step_change(void **state)
{
	(void)state;
	double x[] = {5, 6, 5, 6, 5, 6, 5, 9, 10, 9, 10, 9, 10, 9};
	struct yoc_spc s;
	struct yoc_spc_point pt[N(x)];
	char b[32];
	assert_int_equal(yoc_spc_xmr(x, N(x), 1, &s, pt, NULL), 0);
	assert_true(fabs(s.mean - 104.0 / 14) < 1e-12);
	assert_true(fabs(s.mr_mean - 16.0 / 13) < 1e-12);
	assert_true(fabs(s.ucl - (104.0 / 14 + 2.66 * 16 / 13)) < 1e-12);
	assert_true(fabs(s.lcl - 4.1547252747) < 1e-9);
	rules_of(pt, N(x), YOC_SPC_OUTSIDE, b);
	assert_string_equal(b, "00000000000000");
	rules_of(pt, N(x), YOC_SPC_SHIFT, b);
	assert_string_equal(b, "11111111111111");
	rules_of(pt, N(x), YOC_SPC_TWO_OF_THREE, b);
	assert_string_equal(b, "10101010101010");
	rules_of(pt, N(x), YOC_SPC_TREND, b);
	assert_string_equal(b, "00000000000000");
	assert_int_equal(pt[0].variation, YOC_SPC_CONCERN);
	assert_int_equal(pt[13].variation, YOC_SPC_IMPROVEMENT);
	assert_int_equal(s.special, 14);
	/* 6 points on one side are not a shift: drop the last of each half */
	double y[] = {5, 6, 5, 6, 5, 6, 9, 10, 9, 10, 9, 10};
	struct yoc_spc_point q[N(y)];
	assert_int_equal(yoc_spc_xmr(y, N(y), 0, &s, q, NULL), 0);
	assert_int_equal(rules_of(q, N(y), YOC_SPC_SHIFT, b), 0);
}

/* A point on the mean breaks a run: 1 1 1 2 1 1 1 has mean 8/7; the 2 is
 * above it, so no run of 7 below. 0 0 0 0 0 0 0 3 0 has mean 1/3: the
 * seven zeros below it are a shift. */
static void test_shift_runs(void **state)
{
	(void)state;
	struct yoc_spc s;
	struct yoc_spc_point pt[16];
	char b[16];
	double x[] = {1, 1, 1, 2, 1, 1, 1};
	assert_int_equal(yoc_spc_xmr(x, N(x), 0, &s, pt, NULL), 0);
	assert_int_equal(rules_of(pt, N(x), YOC_SPC_SHIFT, b), 0);
	double y[] = {0, 0, 0, 0, 0, 0, 0, 3, 0};
	assert_int_equal(yoc_spc_xmr(y, N(y), 0, &s, pt, NULL), 0);
	rules_of(pt, N(y), YOC_SPC_SHIFT, b);
	assert_string_equal(b, "111111100");
	/* the 3: mean 1/3, MR-bar 6/8 = 0.75, UCL 1/3 + 1.995 = 2.328: outside */
	rules_of(pt, N(y), YOC_SPC_OUTSIDE, b);
	assert_string_equal(b, "000000010");
	assert_int_equal(pt[7].high, 1);
	/* 1 3 1 3 2 2 2 2 2 2 2 2 has mean 2: the eight 2s are on it, so they
	 * are no run on either side */
	double z[] = {1, 3, 1, 3, 2, 2, 2, 2, 2, 2, 2, 2};
	assert_int_equal(yoc_spc_xmr(z, N(z), 0, &s, pt, NULL), 0);
	assert_true(fabs(s.mean - 2) < 1e-12);
	assert_int_equal(rules_of(pt, N(z), YOC_SPC_SHIFT, b), 0);
}

/* Two of three beyond 2 sigma, inside the limits: 10 12 x 8, then 11 18 11
 * 18 11. Mean 245/21 = 11.6667; moving ranges fifteen 2s, a 1 and four 7s:
 * MR-bar 59/20 = 2.95; UCL 11.6667 + 7.847 = 19.5137; 2 sigma = 5.9/1.128
 * = 5.2305, so the 2-sigma line is 16.8972: the two 18s (inside the limits)
 * are two of three beyond it: flagged, nothing else. */
static void test_two_of_three(void **state)
{
	(void)state;
	double x[21];
	for (int i = 0; i < 16; i++)
		x[i] = i % 2 ? 12 : 10;
	double tail[] = {11, 18, 11, 18, 11};
	memcpy(x + 16, tail, sizeof tail);
	struct yoc_spc s;
	struct yoc_spc_point pt[21];
	char b[32];
	assert_int_equal(yoc_spc_xmr(x, 21, 1, &s, pt, NULL), 0);
	assert_true(fabs(s.mean - 245.0 / 21) < 1e-12);
	assert_true(fabs(s.mr_mean - 2.95) < 1e-12);
	assert_true(fabs(s.ucl - 19.5136666667) < 1e-9);
	assert_true(fabs(s.upper2 - (245.0 / 21 + 5.9 / 1.128)) < 1e-12);
	rules_of(pt, 21, YOC_SPC_TWO_OF_THREE, b);
	assert_string_equal(b, "000000000000000001010");
	assert_int_equal(rules_of(pt, 21, YOC_SPC_OUTSIDE | YOC_SPC_SHIFT | YOC_SPC_TREND, b), 0);
	assert_int_equal(pt[17].variation, YOC_SPC_IMPROVEMENT);
	assert_int_equal(s.special, 2);
	/* one beyond 2 sigma in three is not enough */
	x[19] = 11;
	assert_int_equal(yoc_spc_xmr(x, 21, 1, &s, pt, NULL), 0);
	assert_int_equal(rules_of(pt, 21, YOC_SPC_TWO_OF_THREE, b), 0);
}

/* Fewer than 2 points, and a zero moving range. */
static void test_edges(void **state)
{
	(void)state;
	struct yoc_spc s;
	struct yoc_spc_point pt[4];
	struct yoc_error e;
	yoc_error_clear(&e);
	double one[] = {42};
	assert_int_equal(yoc_spc_xmr(one, 0, 0, &s, pt, &e), YOC_EINVAL);
	assert_int_equal(yoc_spc_xmr(one, 1, 0, &s, pt, NULL), 0);
	assert_int_equal(s.valid, 0);
	assert_true(fabs(s.mean - 42) < 1e-12);
	assert_true(isnan(s.ucl) && isnan(s.lcl) && isnan(s.mr_mean));
	assert_int_equal(pt[0].rules, 0);
	assert_int_equal(pt[0].variation, YOC_SPC_COMMON);
	double flat[] = {4, 4, 4, 4};
	assert_int_equal(yoc_spc_xmr(flat, 4, 1, &s, pt, NULL), 0);
	assert_int_equal(s.valid, 1);
	assert_true(s.mr_mean == 0 && s.ucl == 4 && s.lcl == 4);
	assert_int_equal(s.special, 0);
	double bad[] = {1, NAN};
	assert_int_equal(yoc_spc_xmr(bad, 2, 0, &s, pt, NULL), YOC_EINVAL);
	assert_string_equal(yoc_spc_variation_name(YOC_SPC_NEITHER), "special cause: neither");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand_limits),
		cmocka_unit_test(test_trend),
		cmocka_unit_test(test_step_change),
		cmocka_unit_test(test_shift_runs),
		cmocka_unit_test(test_two_of_three),
		cmocka_unit_test(test_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

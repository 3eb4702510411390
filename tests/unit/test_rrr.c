/*
** The discharge model and the parsers of the outcome module (src/outcome:
** rrr.h, careplan.h) on cases small enough to check by hand: the nightly
** census of a few stays drawn on paper, the days a cut takes off, the --cut
** option's errors with their columns, and the PAM score and its level at
** every published cut-off.
*/
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "outcome/careplan.h"
#include "outcome/rrr.h"

/*
**  night:   0  1  2  3  4  5
**  A        x  x  x                admitted 0, discharged 3
**  B           x                   admitted 1, discharged 2
**  C              x  x  x  x       admitted 2, discharged 6, 4 days delayed (HOME)
**  census   1  2  2  1  1  1       = 8 bed days, mean 8/6, 95th percentile 2
*/
static const struct yoc_rrr_stay three[] = {
	{0, 3, 0, -1},
	{1, 2, 0, -1},
	{2, 6, 4, YOC_RRR_HOME},
};

static void test_census(void **state)
{
	struct yoc_rrr_occ o;
	struct yoc_error e;
	assert_int_equal(yoc_rrr_occupancy(three, 3, -1, 0, 0, 6, &o, &e), 0);
	assert_int_equal(o.bed_days, 8);
	assert_true(fabs(o.mean - 8.0 / 6.0) < 1e-12);
	assert_int_equal(o.p95, 2);
	assert_int_equal(o.max, 2);
}

static void test_cut_one_reason(void **state)
{
	struct yoc_rrr_occ o;
	struct yoc_error e;
	/* C loses 2 of its 4 delayed days: nights 2, 3 only; census 1 2 2 1 0 0 */
	assert_int_equal(yoc_rrr_occupancy(three, 3, YOC_RRR_HOME, 50, 0, 6, &o, &e), 0);
	assert_int_equal(o.bed_days, 6);
	assert_true(fabs(o.mean - 1.0) < 1e-12);
	assert_int_equal(o.p95, 2);
	/* another reason changes nothing */
	assert_int_equal(yoc_rrr_occupancy(three, 3, YOC_RRR_ASSESSMENT, 50, 0, 6, &o, &e), 0);
	assert_int_equal(o.bed_days, 8);
	/* every delay removed: C leaves on its ready day, 2, and holds no night */
	assert_int_equal(yoc_rrr_occupancy(three, 3, YOC_RRR_ALL, 100, 0, 6, &o, &e), 0);
	assert_int_equal(o.bed_days, 4);
	assert_int_equal(o.max, 2);
}

static void test_window(void **state)
{
	struct yoc_rrr_occ o;
	struct yoc_error e;
	/* nights 2..3 only: A holds night 2, C nights 2 and 3; census 2 1 */
	assert_int_equal(yoc_rrr_occupancy(three, 3, -1, 0, 2, 4, &o, &e), 0);
	assert_int_equal(o.bed_days, 3);
	assert_true(fabs(o.mean - 1.5) < 1e-12);
	assert_int_equal(o.p95, 2);
	/* 20 nights of one bed and one night of 3 beds: the 95th percentile
	 * (nearest rank 20 of 21) is 1, the maximum 3 */
	struct yoc_rrr_stay s[] = {{0, 21, 0, -1}, {10, 11, 0, -1}, {10, 11, 0, -1}};
	assert_int_equal(yoc_rrr_occupancy(s, 3, -1, 0, 0, 21, &o, &e), 0);
	assert_int_equal(o.p95, 1);
	assert_int_equal(o.max, 3);
	assert_int_equal(yoc_rrr_occupancy(three, 3, -1, 0, 5, 5, &o, &e), YOC_EINVAL);
	assert_int_equal(yoc_rrr_occupancy(three, 3, -1, 0, 0, 200000, &o, &e), YOC_EINVAL);
	assert_int_equal(yoc_rrr_occupancy(NULL, 0, -1, 0, 0, 4, &o, &e), 0);
	assert_int_equal(o.bed_days, 0);
}

static void test_out_of_memory(void **state)
{
	struct yoc_rrr_occ o;
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_alloc_fail_at(1);
	int rc = yoc_rrr_occupancy(three, 3, -1, 0, 0, 6, &o, &e);
	yoc_alloc_fail_at(0);
	assert_int_equal(rc, YOC_ENOMEM);
	assert_int_equal(e.code, YOC_ENOMEM);
	assert_int_equal(yoc_rrr_occupancy(three, 3, -1, 0, 0, 6, &o, &e), 0);
	assert_int_equal(o.bed_days, 8);
}

static void test_cut_days(void **state)
{
	assert_int_equal(yoc_rrr_cut_days(5, 50), 3); /* 2.5 rounds up */
	assert_int_equal(yoc_rrr_cut_days(3, 50), 2);
	assert_int_equal(yoc_rrr_cut_days(1, 50), 1);
	assert_int_equal(yoc_rrr_cut_days(1, 49), 0);
	assert_int_equal(yoc_rrr_cut_days(10, 25), 3); /* 2.5 */
	assert_int_equal(yoc_rrr_cut_days(7, 100), 7);
	assert_int_equal(yoc_rrr_cut_days(7, 0), 0);
	assert_int_equal(yoc_rrr_cut_days(0, 50), 0);
	assert_int_equal(yoc_rrr_cut_days(-3, 50), 0);
}

static void bad_cut(const char *s, long col)
{
	struct yoc_rrr_cut c;
	struct yoc_error e;
	yoc_error_clear(&e);
	assert_int_equal(yoc_rrr_cut_parse(s, strlen(s), &c, &e), YOC_EPARSE);
	assert_string_equal(e.file, "--cut");
	assert_int_equal(e.line, 1);
	assert_int_equal(e.col, col);
}

static void test_cut_parse(void **state)
{
	struct yoc_rrr_cut c;
	struct yoc_error e;
	assert_int_equal(yoc_rrr_cut_parse("HOME=30", 7, &c, &e), 0);
	assert_int_equal(c.reason, YOC_RRR_HOME);
	assert_int_equal(c.pct, 30);
	assert_int_equal(yoc_rrr_cut_parse("NO_SERVICE", 10, &c, &e), 0);
	assert_int_equal(c.reason, YOC_RRR_NO_SERVICE);
	assert_int_equal(c.pct, 50);
	assert_int_equal(yoc_rrr_cut_parse("ALL=100", 7, &c, &e), 0);
	assert_int_equal(c.reason, YOC_RRR_ALL);
	assert_int_equal(c.pct, 100);
	assert_int_equal(yoc_rrr_cut_parse("RESIDENTIAL=0", 13, &c, &e), 0);
	assert_int_equal(c.pct, 0);
	bad_cut("", 1);
	bad_cut("=5", 1);
	bad_cut("home=30", 1);
	bad_cut("HOME=", 6);
	bad_cut("HOME=3x", 7);
	bad_cut("HOME=101", 6);
	bad_cut("HOME=-1", 6);
	bad_cut("BOGUS=5", 1);
	bad_cut("HO ME=5", 3);
	assert_string_equal(yoc_rrr_reason_name(YOC_RRR_ASSESSMENT), "ASSESSMENT");
	assert_string_equal(yoc_rrr_reason_name(YOC_RRR_ALL), "ALL");
	assert_int_equal(yoc_rrr_reason_parse("UNKNOWN", 7), YOC_RRR_UNKNOWN);
	assert_int_equal(yoc_rrr_reason_parse("HOMES", 5), -1);
}

static void test_pam(void **state)
{
	static const struct {
		const char *s;
		int tenths, level;
	} ok[] = {{"0", 0, 1}, {"47", 470, 1}, {"47.0", 470, 1}, {"47.1", 471, 2},
		  {"55.1", 551, 2}, {"55.2", 552, 3}, {"67.0", 670, 3}, {"67.2", 672, 4},
		  {"100", 1000, 4}, {"100.0", 1000, 4}, {"63.4", 634, 3}};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		int t = -1;
		assert_int_equal(yoc_pam_score_parse(ok[i].s, strlen(ok[i].s), &t), 0);
		assert_int_equal(t, ok[i].tenths);
		assert_int_equal(yoc_pam_level(t), ok[i].level);
	}
	static const char *const bad[] = {"", "100.1", "101", "-1", "63.45", "63.", ".5", "6 3",
		"1000", "abc"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int t = 0;
		assert_int_equal(yoc_pam_score_parse(bad[i], strlen(bad[i]), &t), YOC_EPARSE);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_census),
		cmocka_unit_test(test_cut_one_reason),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_out_of_memory),
		cmocka_unit_test(test_cut_days),
		cmocka_unit_test(test_cut_parse),
		cmocka_unit_test(test_pam),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
** Unit tests of dates, HES sentinel dates, financial years and ages, checked
** against the C library's own calendar (timegm) as an independent reference.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "yoc/core.h"
#include "yoc/date.h"

static int32_t ref_days(int y, int m, int d)
{
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	return (int32_t)(timegm(&tm) / 86400);
}

static void test_civil_against_libc(void **state)
{
	(void)state;
	/* Every day from 1900 to 2100 round-trips and agrees with timegm. */
	int32_t start = ref_days(1900, 1, 1), end = ref_days(2100, 12, 31);
	for (int32_t z = start; z <= end; z++) {
		int y, m, d;
		yoc_date_to_ymd(z, &y, &m, &d);
		assert_true(yoc_date_valid_ymd(y, m, d));
		assert_int_equal(yoc_date_from_ymd(y, m, d), z);
		if (d == 1 || d == 28)
			assert_int_equal(ref_days(y, m, d), z);
	}
	assert_int_equal(yoc_date_from_ymd(1970, 1, 1), 0);
	assert_int_equal(yoc_date_from_ymd(1800, 1, 1), ref_days(1800, 1, 1));
}

static int parse(const char *s, int32_t *out)
{
	return yoc_date_parse(s, strlen(s), out);
}

static void test_parse_forms(void **state)
{
	(void)state;
	int32_t d = -1;
	assert_int_equal(parse("2023-04-01", &d), YOC_DATE_VALID);
	assert_int_equal(d, ref_days(2023, 4, 1));
	assert_int_equal(parse("01/04/2023", &d), YOC_DATE_VALID);
	assert_int_equal(d, ref_days(2023, 4, 1));
	assert_int_equal(parse(" 29/02/2024 ", &d), YOC_DATE_VALID);
	assert_int_equal(d, ref_days(2024, 2, 29));
	char buf[11];
	yoc_date_format(d, buf);
	assert_string_equal(buf, "2024-02-29");
}

static void test_hes_sentinels_distinct(void **state)
{
	(void)state;
	int32_t d = 12345;
	assert_int_equal(parse("1800-01-01", &d), YOC_DATE_NULL);
	assert_int_equal(parse("1801-01-01", &d), YOC_DATE_INVALID);
	assert_int_equal(parse("01/01/1800", &d), YOC_DATE_NULL);
	assert_int_equal(parse("01/01/1801", &d), YOC_DATE_INVALID);
	assert_int_equal(parse("", &d), YOC_DATE_EMPTY);
	assert_int_equal(parse("   ", &d), YOC_DATE_EMPTY);
	assert_int_equal(d, 12345); /* untouched for non-valid kinds */
	/* All four kinds and the parse failure are different values. */
	int kinds[] = {YOC_DATE_VALID, YOC_DATE_EMPTY, YOC_DATE_NULL, YOC_DATE_INVALID, YOC_EPARSE};
	for (int i = 0; i < 5; i++)
		for (int j = i + 1; j < 5; j++)
			assert_int_not_equal(kinds[i], kinds[j]);
	assert_true(YOC_EPARSE < 0);
}

static void test_parse_failures(void **state)
{
	(void)state;
	int32_t d;
	const char *bad[] = {"2023-02-29", "2023-13-01", "2023-00-10", "2023-04-31",
			     "31/04/2023", "2023/04/01", "23-04-01", "2023-4-1", "abcd-ef-gh",
			     "2023-04-01x", "1/4/2023", "2023-04-0a", "0000-01-01", "13/13/2023",
			     "1900-02-29", "2023-04-01T00:00"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(parse(bad[i], &d), YOC_EPARSE);
	assert_int_equal(parse("2000-02-29", &d), YOC_DATE_VALID); /* 400-year leap */
}

static void test_fyear(void **state)
{
	(void)state;
	assert_int_equal(yoc_fyear_of(yoc_date_from_ymd(2023, 4, 1)), 2023);
	assert_int_equal(yoc_fyear_of(yoc_date_from_ymd(2023, 3, 31)), 2022);
	assert_int_equal(yoc_fyear_of(yoc_date_from_ymd(2024, 3, 31)), 2023);
	assert_int_equal(yoc_fyear_of(yoc_date_from_ymd(2024, 1, 15)), 2023);
	assert_int_equal(yoc_fyear_start(2023), ref_days(2023, 4, 1));
	assert_int_equal(yoc_fyear_end(2023), ref_days(2024, 3, 31));
	/* The year 2023/24 holds 366 days (29 Feb 2024). */
	assert_int_equal(yoc_fyear_end(2023) - yoc_fyear_start(2023) + 1, 366);
	char b[8], h[5];
	yoc_fyear_format(2023, b);
	yoc_fyear_format_hes(2023, h);
	assert_string_equal(b, "2023/24");
	assert_string_equal(h, "2324");
	yoc_fyear_format(1999, b);
	yoc_fyear_format_hes(1999, h);
	assert_string_equal(b, "1999/00");
	assert_string_equal(h, "9900");
	int fy = 0;
	assert_int_equal(yoc_fyear_parse("2023/24", 7, &fy), 0);
	assert_int_equal(fy, 2023);
	assert_int_equal(yoc_fyear_parse("2324", 4, &fy), 0);
	assert_int_equal(fy, 2023);
	assert_int_equal(yoc_fyear_parse("0102", 4, &fy), 0);
	assert_int_equal(fy, 2001);
	assert_int_equal(yoc_fyear_parse("9900", 4, &fy), 0);
	assert_int_equal(fy, 1999);
	assert_int_equal(yoc_fyear_parse("1999-00", 7, &fy), 0);
	assert_int_equal(fy, 1999);
	assert_int_equal(yoc_fyear_parse("2023/25", 7, &fy), YOC_EPARSE);
	assert_int_equal(yoc_fyear_parse("2325", 4, &fy), YOC_EPARSE);
	assert_int_equal(yoc_fyear_parse("23/24", 5, &fy), YOC_EPARSE);
	/* Every day of a year maps back to that year. */
	for (int32_t z = yoc_fyear_start(2021); z <= yoc_fyear_end(2021); z++)
		assert_int_equal(yoc_fyear_of(z), 2021);
}

static void test_age(void **state)
{
	(void)state;
	int32_t dob = yoc_date_from_ymd(1950, 4, 2);
	assert_int_equal(yoc_age_on(dob, yoc_date_from_ymd(2023, 4, 1)), 72);
	assert_int_equal(yoc_age_on(dob, yoc_date_from_ymd(2023, 4, 2)), 73);
	int32_t leapling = yoc_date_from_ymd(2000, 2, 29);
	assert_int_equal(yoc_age_on(leapling, yoc_date_from_ymd(2001, 2, 28)), 0);
	assert_int_equal(yoc_age_on(leapling, yoc_date_from_ymd(2001, 3, 1)), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_civil_against_libc), cmocka_unit_test(test_parse_forms),
		cmocka_unit_test(test_hes_sentinels_distinct), cmocka_unit_test(test_parse_failures),
		cmocka_unit_test(test_fyear), cmocka_unit_test(test_age),
	};
	return cmocka_run_group_tests_name("date", tests, NULL, NULL);
}

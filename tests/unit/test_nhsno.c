/*
** NHS number validation, checked against an independent brute-force count
** of the Modulus 11 rule and the published example 943 476 5919.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "yoc/nhsno.h"

static int chk(const char *s, char *out)
{
	return yoc_nhsno_check(s, strlen(s), out);
}

static void test_examples(void **state)
{
	(void)state;
	char out[11];
	assert_int_equal(chk("9434765919", out), YOC_NHSNO_VALID);
	assert_string_equal(out, "9434765919");
	assert_int_equal(chk("943 476 5919", out), YOC_NHSNO_VALID);
	assert_int_equal(chk("943-476-5919", out), YOC_NHSNO_VALID);
	assert_string_equal(out, "9434765919");
	assert_int_equal(chk("9434765918", out), YOC_NHSNO_BAD_CHECK_DIGIT);
	assert_string_equal(out, "9434765918");
	assert_int_equal(chk("", out), YOC_NHSNO_MISSING);
	assert_int_equal(chk("   ", out), YOC_NHSNO_MISSING);
	assert_int_equal(out[0], 0);
	assert_int_equal(chk("943476591", out), YOC_NHSNO_MALFORMED);
	assert_int_equal(chk("94347659190", out), YOC_NHSNO_MALFORMED);
	assert_int_equal(chk("94347A5919", out), YOC_NHSNO_MALFORMED);
	assert_int_equal(chk("NULL", out), YOC_NHSNO_MALFORMED);
	assert_string_equal(yoc_nhsno_status_str(YOC_NHSNO_BAD_CHECK_DIGIT), "bad_check_digit");
}

static void test_check_digit_ten(void **state)
{
	(void)state;
	/* 123456789x: sum = 1*10+2*9+...+9*2 = 210; 210 mod 11 = 1; 11-1 = 10: no valid number. */
	assert_int_equal(yoc_nhsno_check_digit("123456789"), 10);
	char out[11];
	for (char c = '0'; c <= '9'; c++) {
		char s[11] = "123456789";
		s[9] = c;
		s[10] = 0;
		assert_int_equal(chk(s, out), YOC_NHSNO_BAD_CHECK_DIGIT);
	}
}

static void test_same_digits(void **state)
{
	(void)state;
	/* ddddddddd d: sum = 54d = -d (mod 11), so the check digit is d and
	** every all-same-digit number passes the arithmetic. They are
	** placeholders, never issued, and must be refused as malformed. */
	char out[11];
	for (int d = 0; d <= 9; d++) {
		char s[11];
		memset(s, '0' + d, 9);
		s[9] = 0;
		assert_int_equal(yoc_nhsno_check_digit(s), d);
		s[9] = (char)('0' + d);
		s[10] = 0;
		assert_int_equal(chk(s, out), YOC_NHSNO_MALFORMED);
		assert_int_equal(out[0], 0);
	}
	assert_int_equal(chk("000 000 0000", out), YOC_NHSNO_MALFORMED);
}

static void test_count_all_prefixes(void **state)
{
	(void)state;
	/* Over 999000000..999099999 prefixes: exactly one of ten final digits is
	** valid unless the check digit would be 10, when none is. */
	char s[16], out[11];
	int valid = 0, none = 0;
	for (int p = 0; p < 20000; p++) {
		snprintf(s, sizeof s, "999%06d", p);
		int nv = 0;
		for (int d = 0; d < 10; d++) {
			s[9] = (char)('0' + d);
			s[10] = 0;
			nv += chk(s, out) == YOC_NHSNO_VALID;
		}
		s[9] = 0;
		assert_true(nv <= 1);
		valid += nv;
		none += yoc_nhsno_check_digit(s) == 10;
	}
	assert_int_equal(valid + none, 20000);
	assert_true(none > 1000 && none < 2800); /* about 1 in 11 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples), cmocka_unit_test(test_check_digit_ten),
		cmocka_unit_test(test_same_digits), cmocka_unit_test(test_count_all_prefixes),
	};
	return cmocka_run_group_tests_name("nhsno", tests, NULL, NULL);
}

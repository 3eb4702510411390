/* Unit tests for src/load/feedname.c: feed file names PROVIDER_PERIOD[_vN].csv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "load/feedname.h"

static void ok(const char *path, const char *prov, const char *per, int version)
{
	struct yoc_feedname f;
	struct yoc_error e;
	yoc_error_clear(&e);
	if (yoc_feedname_parse(path, &f, &e) != 0)
		fail_msg("%s refused: %s", path, e.msg);
	assert_string_equal(f.provider, prov);
	assert_string_equal(f.period, per);
	assert_int_equal(f.version, version);
}

/* Refused, with a message containing want. */
static void no(const char *path, const char *want)
{
	struct yoc_feedname f;
	struct yoc_error e;
	yoc_error_clear(&e);
	assert_int_equal(yoc_feedname_parse(path, &f, &e), YOC_EPARSE);
	if (!strstr(e.msg, want))
		fail_msg("%s: message \"%s\" lacks \"%s\"", path, e.msg, want);
	assert_string_equal(f.provider, "");
	assert_string_equal(f.period, "");
	assert_int_equal(f.version, 0);
}

/* Every name `yoc synth` writes, and the forms of docs/data-spec.md. */
static void test_accepted(void **state)
{
	(void)state;
	ok("feeds/apc/RA1_2021-04.csv", "RA1", "2021-04", 1);
	ok("RC1_2024-03.csv", "RC1", "2024-03", 1);
	ok("/x/y/P90001_2023-12.csv", "P90001", "2023-12", 1);
	ok("gp_register/P90001_2021-22.csv", "P90001", "2021-22", 1);
	ok("LA1_2023-06.csv", "LA1", "2023-06", 1);
	ok("ONS_2022-01.csv", "ONS", "2022-01", 1);
	ok("RY1_2022-01.TXT", "RY1", "2022-01", 1);
	ok("mh/RM1_2023-05_v2.csv", "RM1", "2023-05", 2);
	ok("RM1_2023-05_v999.csv", "RM1", "2023-05", 999);
	ok("E09000001_2023-05.csv", "E09000001", "2023-05", 1); /* an ONS local authority code */
	ok("406_2023-05.csv", "406", "2023-05", 1);              /* an ODS local authority code */
	ok("RA1_1990-01.csv", "RA1", "1990-01", 1);
	ok("RA1_2100-12.csv", "RA1", "2100-12", 1);
	ok("RA1_2099-00.csv", "RA1", "2099-00", 1);              /* financial year 2099/2100 */
	ok("RA1_2011-12.csv", "RA1", "2011-12", 1);              /* December 2011 and 2011/12 */
}

static void test_refused(void **state)
{
	(void)state;
	no("RA1_2099-13.csv", "period 2099-13: month must be 01-12");
	no("RA1_2023-00.csv", "period 2023-00: month must be 01-12 (or the financial year 2023-24)");
	no("RA1_2023-25.csv", "month must be 01-12 (or the financial year 2023-24)");
	no("RA1_2100-01x.csv", "must be YYYY-MM");
	no("RA1_2100-13.csv", "period 2100-13: month must be 01-12");
	no("RA1_1989-12.csv", "period 1989-12: year must be 1990-2100");
	no("RA1_2101-01.csv", "year must be 1990-2100");
	no("RA1_202301.csv", "period 202301: must be YYYY-MM (a month) or YYYY-YY");
	no("RA1_2023-5.csv", "must be YYYY-MM");
	no("RA1_2023_05.csv", "period 2023: must be YYYY-MM");
	no("RA1_.csv", "no period");
	no("RA1.csv", "no period");
	no("_2023-05.csv", "no provider");
	no(".csv", "no provider");
	no("", "empty file name");
	no("dir/", "empty file name");
	no("RA1_2023-05", "no extension");
	no("RA1_2023-05.csv.gz", "extension .gz");
	no("RA1_2023-05.xlsx", "extension .xlsx");
	no("ra1_2023-05.csv", "provider ra1: must be 2-10 upper-case letters and digits");
	no("R_2023-05.csv", "provider R:");
	no("ABCDEFGHIJK_2023-05.csv", "provider ABCDEFGHIJK:");
	no("artificial_hes_apc_0102.csv", "too many parts");
	no("RA1_2023-05_v1.csv", "suffix _v1: a resubmission is _v2 to _v999");
	no("RA1_2023-05_v0.csv", "suffix _v0");
	no("RA1_2023-05_v02.csv", "suffix _v02");
	no("RA1_2023-05_v1000.csv", "suffix _v1000");
	no("RA1_2023-05_V2.csv", "suffix _V2");
	no("RA1_2023-05_final.csv", "suffix _final");
	no("RA1_2023-05_v2_x.csv", "too many parts");
	no("RA1__2023-05.csv", "no period");
}

/* A newline, a quote or a control byte never reaches the message raw. */
static void test_escaped(void **state)
{
	(void)state;
	struct yoc_feedname f;
	struct yoc_error e;
	yoc_error_clear(&e);
	assert_int_equal(yoc_feedname_parse("d/RA1_2023-05\nok: loaded.csv", &f, &e), YOC_EPARSE);
	assert_null(strchr(e.msg, '\n'));
	assert_null(strchr(e.file, '\n'));
	assert_string_equal(e.file, "RA1_2023-05\\x0aok: loaded.csv");
	yoc_error_clear(&e);
	assert_int_equal(yoc_feedname_parse("RA1_2023-0\"5.csv", &f, &e), YOC_EPARSE);
	assert_non_null(strstr(e.msg, "period 2023-0\"5: must be YYYY-MM"));
	yoc_error_clear(&e);
	assert_int_equal(yoc_feedname_parse("R\x01\x7f\\_2023-05.csv", &f, &e), YOC_EPARSE);
	assert_non_null(strstr(e.msg, "provider R\\x01\\x7f\\x5c:"));
	/* a long name is cut, the message stays within its buffer */
	char longname[3000];
	memset(longname, 'A', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	yoc_error_clear(&e);
	assert_int_equal(yoc_feedname_parse(longname, &f, &e), YOC_EPARSE);
	assert_true(strlen(e.file) < 100);
	assert_non_null(strstr(e.file, "..."));
	assert_int_equal(yoc_feedname_parse("RA1_2023-05.csv", &f, NULL), 0);
	assert_int_equal(yoc_feedname_parse("RA1_2023-13.csv", &f, NULL), YOC_EPARSE);
}

static void test_validators(void **state)
{
	(void)state;
	assert_true(yoc_feedname_provider_ok("RA1", 3));
	assert_false(yoc_feedname_provider_ok("RA1", 1));
	assert_false(yoc_feedname_provider_ok("Ra1", 3));
	assert_false(yoc_feedname_provider_ok("RA-1", 4));
	assert_true(yoc_feedname_period_ok("2021-22", 7));
	assert_true(yoc_feedname_period_ok("2023-01", 7));
	assert_false(yoc_feedname_period_ok("2021-23", 7));
	assert_false(yoc_feedname_period_ok("2023-01x", 8));
	assert_false(yoc_feedname_period_ok("", 0));
	/* every month and every financial year of the documented range */
	char p[32];
	for (int y = YOC_FEEDNAME_YEAR_MIN - 1; y <= YOC_FEEDNAME_YEAR_MAX + 1; y++)
		for (int t = 0; t < 100; t++) {
			snprintf(p, sizeof p, "%04d-%02d", y % 10000, t % 100);
			int in = y >= YOC_FEEDNAME_YEAR_MIN && y <= YOC_FEEDNAME_YEAR_MAX;
			int want = in && ((t >= 1 && t <= 12) ||
					  (y < YOC_FEEDNAME_YEAR_MAX && t == (y + 1) % 100));
			assert_int_equal(yoc_feedname_period_ok(p, 7), want);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted), cmocka_unit_test(test_refused),
		cmocka_unit_test(test_escaped), cmocka_unit_test(test_validators),
	};
	return cmocka_run_group_tests_name("feedname", tests, NULL, NULL);
}

/*
** libFuzzer target for the date and financial-year parsers
** (yoc_date_parse, yoc_fyear_parse). The input is the text to parse.
**
** Checked: results are in range; a valid date converts to a real calendar
** day, formats and parses back to the same day and lies in its financial
** year; a parsed financial year formats (both ways) and parses back.
** A failed check aborts, which libFuzzer (or the corpus replay) reports.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yoc/core.h"
#include "yoc/date.h"

#define CHECK(x) do { if (!(x)) { \
	fprintf(stderr, "fuzz_date: check failed: %s (line %d)\n", #x, __LINE__); \
	abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	int32_t day = 123456789;
	int k = yoc_date_parse(s, size, &day);
	CHECK(k == YOC_EPARSE || (k >= YOC_DATE_VALID && k <= YOC_DATE_INVALID));
	if (k != YOC_DATE_VALID)
		CHECK(day == 123456789);
	if (k == YOC_DATE_VALID) {
		int y, m, d;
		yoc_date_to_ymd(day, &y, &m, &d);
		CHECK(yoc_date_valid_ymd(y, m, d));
		CHECK(yoc_date_from_ymd(y, m, d) == day);
		CHECK(!(y == 1800 && m == 1 && d == 1) && !(y == 1801 && m == 1 && d == 1));
		char buf[11];
		yoc_date_format(day, buf);
		int32_t again = 0;
		CHECK(yoc_date_parse(buf, strlen(buf), &again) == YOC_DATE_VALID);
		CHECK(again == day);
		int fy = yoc_fyear_of(day);
		CHECK(yoc_fyear_start(fy) <= day && day <= yoc_fyear_end(fy));
		CHECK(yoc_age_on(day, day) == 0);
	}
	int fy = -1;
	if (yoc_fyear_parse(s, size, &fy) == 0) {
		CHECK(fy >= 0 && fy <= 9999);
		char buf[8], hes[5];
		yoc_fyear_format(fy, buf);
		int back = -1;
		CHECK(yoc_fyear_parse(buf, strlen(buf), &back) == 0 && back == fy);
		yoc_fyear_format_hes(fy, hes);
		back = -1;
		CHECK(yoc_fyear_parse(hes, strlen(hes), &back) == 0);
		CHECK(back % 100 == fy % 100);
		if (fy >= 1950 && fy <= 2049)
			CHECK(back == fy);
	} else {
		CHECK(fy == -1);
	}
	return 0;
}

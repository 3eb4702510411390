/*
** libFuzzer target for the clerical review file reader (yoc_review_parse,
** src/link/link_review.c): a file a reviewer edits by hand and yoc link
** reads back with --decisions, so outside input.
**
** Checked: nothing crashes or leaks; every accepted decision has a pair id
** "R" and digits, a valid ten-digit NHS number, a known decision and a
** printable reviewer; a refused file leaves no decisions and a message.
** A failed check aborts, which libFuzzer (or the replay) reports.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link/link.h"
#include "yoc/nhsno.h"

#define CHECK(x) do { if (!(x)) { \
	fprintf(stderr, "fuzz_link: check failed: %s (line %d)\n", #x, __LINE__); \
	abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct yoc_review_decision *d = NULL;
	size_t n = 0, bad = 0;
	struct yoc_error e;
	yoc_error_clear(&e);
	int rc = yoc_review_parse((const char *)data, size, "fuzz.csv", &d, &n, &bad, &e);
	if (rc) {
		CHECK(rc < 0 && d == NULL && n == 0);
		CHECK(e.msg[0] && memchr(e.msg, 0, sizeof e.msg));
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		CHECK(d[i].pair[0] == 'R' && strlen(d[i].pair) >= 2);
		for (const char *p = d[i].pair + 1; *p; p++)
			CHECK(*p >= '0' && *p <= '9');
		char out[11];
		CHECK(strlen(d[i].nhs) == 10 && yoc_nhsno_check(d[i].nhs, 10, out) == YOC_NHSNO_VALID);
		CHECK(d[i].decision == YOC_REVIEW_UNDECIDED || d[i].decision == YOC_REVIEW_MATCH ||
		      d[i].decision == YOC_REVIEW_NONMATCH);
		for (const char *p = d[i].reviewer; *p; p++)
			CHECK(*p >= 32 && *p < 127 && *p != ',');
	}
	CHECK(bad == 0 || e.msg[0]);
	yoc_free(d);
	return 0;
}

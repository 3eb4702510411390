/*
** libFuzzer target for the outcome module's parsers of outside text: the
** --cut option of yoc rrr (yoc_rrr_cut_parse) and the PAM score of the pam
** feed (yoc_pam_score_parse). The input is the text to parse.
**
** Checked: a parsed cut names a reason (or ALL) and a percentage 0-100, and
** formats back ("REASON=PCT") to text that parses to the same cut; a
** rejected one points at a column inside the text (or just after it) on
** line 1 of "--cut"; a parsed score is 0-1000 tenths with a level 1-4 that
** rises with the score; cutting a delay never takes more days than it has.
** A failed check aborts, which libFuzzer (or the corpus replay) reports.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outcome/careplan.h"
#include "outcome/rrr.h"

#define CHECK(x) do { if (!(x)) { \
	fprintf(stderr, "fuzz_rrr: check failed: %s (line %d)\n", #x, __LINE__); \
	abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct yoc_rrr_cut c = {99, 999};
	struct yoc_error e;
	yoc_error_clear(&e);
	if (yoc_rrr_cut_parse(s, size, &c, &e) == 0) {
		CHECK(c.reason == YOC_RRR_ALL || (c.reason >= 0 && c.reason < YOC_RRR_NREASON));
		CHECK(c.pct >= 0 && c.pct <= 100);
		char buf[64];
		int n = snprintf(buf, sizeof buf, "%s=%d", yoc_rrr_reason_name(c.reason), c.pct);
		struct yoc_rrr_cut d = {0, 0};
		CHECK(yoc_rrr_cut_parse(buf, (size_t)n, &d, &e) == 0);
		CHECK(d.reason == c.reason && d.pct == c.pct);
		for (int32_t delay = 0; delay < 40; delay += 7) {
			int32_t k = yoc_rrr_cut_days(delay, c.pct);
			CHECK(k >= 0 && k <= delay);
		}
	} else {
		CHECK(strcmp(e.file, "--cut") == 0 && e.line == 1);
		CHECK(e.col >= 1 && (size_t)e.col <= size + 1);
		CHECK(e.msg[0] != 0);
	}
	int t = -1;
	if (yoc_pam_score_parse(s, size, &t) == 0) {
		CHECK(t >= 0 && t <= 1000);
		int lv = yoc_pam_level(t);
		CHECK(lv >= 1 && lv <= 4);
		CHECK(t == 1000 || yoc_pam_level(t + 1) >= lv);
	} else {
		CHECK(t == -1);
	}
	return 0;
}

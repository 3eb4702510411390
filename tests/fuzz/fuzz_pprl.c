/*
** libFuzzer target for the encoding file reader of yoc pprl match
** (yoc_pprl_parse, src/link/link_pprl.c): a file made by another
** organisation, so outside input.
**
** Checked: nothing crashes or leaks; an accepted file has a key id of 16
** hex characters, every record an id of 1 to 64 bytes with no NUL, and the
** ids laid end to end within their buffer; every refused row is counted
** with a line and column; a refused file leaves no records and a message.
** A failed check aborts, which libFuzzer (or the replay) reports.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link/link.h"

#define CHECK(x) do { if (!(x)) { \
	fprintf(stderr, "fuzz_pprl: check failed: %s (line %d)\n", #x, __LINE__); \
	abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct yoc_pprl_set s;
	struct yoc_error e;
	yoc_error_clear(&e);
	int rc = yoc_pprl_parse((const char *)data, size, "fuzz.csv", &s, &e);
	if (rc) {
		CHECK(rc < 0 && s.n == 0 && s.f == NULL && s.ids == NULL);
		CHECK(e.msg[0] && memchr(e.msg, 0, sizeof e.msg));
		return 0;
	}
	CHECK(strlen(s.key_id) == 16);
	for (int i = 0; i < 16; i++)
		CHECK((s.key_id[i] >= '0' && s.key_id[i] <= '9') ||
		      (s.key_id[i] >= 'a' && s.key_id[i] <= 'f'));
	size_t end = 0;
	for (size_t i = 0; i < s.n; i++) {
		CHECK(s.idoff[i] == end);
		size_t l = strlen(s.ids + s.idoff[i]);
		CHECK(l >= 1 && l <= YOC_PPRL_ID_MAX);
		end += l + 1;
		CHECK(end <= s.idlen);
	}
	CHECK(end == s.idlen);
	size_t kept = s.issues.n < YOC_PPRL_ISSUES ? (size_t)s.issues.n : YOC_PPRL_ISSUES;
	for (size_t i = 0; i < kept; i++) {
		CHECK(s.issues.first[i].line >= 2 && s.issues.first[i].col >= 1);
		CHECK(memchr(s.issues.first[i].what, 0, sizeof s.issues.first[i].what));
	}
	/* Similarities of what was read stay in [0, 1]. */
	for (size_t i = 0; i + 1 < s.n && i < 8; i++) {
		double x = yoc_pprl_similarity(s.f[i], s.f[i + 1], NULL, NULL);
		CHECK(x >= 0 && x <= 1);
	}
	yoc_pprl_set_free(&s);
	return 0;
}

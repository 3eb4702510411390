/*
** libFuzzer target for the source account reader (yoc_account_parse,
** src/account/account.c): the JSON `yoc pseudonymise` writes and `yoc load`
** reads from beside the feeds, so outside input.
**
** Checked: nothing crashes or leaks; an accepted account holds entries that
** balance (rows read = written + opted out + rejected, reasons adding up to
** rejected), each with a path, a 64-hex SHA-256 and at most the listed cap
** of rejected rows; a refused one leaves the account empty and a message.
** A failed check aborts, which libFuzzer (or the replay) reports.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"

#define CHECK(x) do { if (!(x)) { \
	fprintf(stderr, "fuzz_account: check failed: %s (line %d)\n", #x, __LINE__); \
	abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct yoc_account a;
	struct yoc_error e;
	yoc_error_clear(&e);
	int rc = yoc_account_parse(&a, (const char *)data, size, "fuzz.json", &e);
	if (rc) {
		CHECK(rc == YOC_EPARSE || rc == YOC_ETOOBIG || rc == YOC_ENOMEM);
		CHECK(a.n == 0 && a.files == NULL);
		CHECK(e.msg[0] && memchr(e.msg, 0, sizeof e.msg));
		return 0;
	}
	for (size_t i = 0; i < a.n; i++) {
		const struct yoc_account_file *f = &a.files[i];
		uint64_t by = 0;
		for (int r = 0; r < YOC_ACCOUNT_NREASONS; r++)
			by += f->rejected_by[r];
		CHECK(f->path != NULL);
		CHECK(strlen(f->sha256) == 64 && strspn(f->sha256, "0123456789abcdef") == 64);
		CHECK(f->rows_read == f->rows_written + f->opted_out + f->rejected);
		CHECK(by == f->rejected);
		CHECK(f->nlisted <= YOC_ACCOUNT_MAX_LISTED);
		for (size_t k = 0; k < f->nlisted; k++)
			CHECK(f->listed[k].reason >= 0 && f->listed[k].reason < YOC_ACCOUNT_NREASONS);
		char text[256];
		yoc_account_reasons_text(f, text, sizeof text);
		CHECK(memchr(text, 0, sizeof text) != NULL);
		const struct yoc_account_file *bp = NULL;
		CHECK(yoc_account_match(&a, f->path, f->sha256, &bp) != NULL && bp == NULL);
	}
	CHECK(memchr(a.key_id, 0, sizeof a.key_id) && memchr(a.written, 0, sizeof a.written));
	yoc_account_free(&a);
	return 0;
}

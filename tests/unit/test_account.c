/*
** The source account (src/account): the JSON file written and read back,
** refused when damaged or unbalanced, unknown keys skipped, entries matched
** by content and path; and the SHA-256 (SHA extensions and libsodium, on the
** caller's thread and on the helper thread) against libsodium's.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "account/account.h"
#include "testutil.h"


static void entry(struct yoc_account_file *f, const char *path, char fill)
{
	memset(f, 0, sizeof *f);
	f->path = (char *)path;
	f->bytes = 1234;
	memset(f->sha256, fill, 64);
	f->sha256[64] = 0;
	snprintf(f->kind, sizeof f->kind, "apc");
	f->valid = 5;
	f->missing = 1;
	f->rows_written = 6;
	f->opted_out = 2;
	f->rejected_by[YOC_CSV_STRAY_QUOTE] = 2;
	f->rejected_by[YOC_CSV_TRUNCATED] = 1;
	f->rejected = 3;
	f->rows_read = 11;
}

static void test_round_trip(void **state)
{
	(void)state;
	char dir[512], path[600];
	struct yoc_account a, b;
	struct yoc_account_file f;
	struct yoc_error e;
	assert_int_equal(tu_temp_dir(dir, sizeof dir, "account"), 0);
	snprintf(path, sizeof path, "%s/%s", dir, YOC_ACCOUNT_NAME);
	yoc_account_init(&a);
	snprintf(a.key_id, sizeof a.key_id, "0123456789abcdef");
	entry(&f, "apc/RA1_2023-04.csv", 'a');
	assert_int_equal(yoc_account_list_reject(&f, 3, YOC_CSV_STRAY_QUOTE), 0);
	assert_int_equal(yoc_account_list_reject(&f, 9, YOC_CSV_TRUNCATED), 0);
	assert_int_equal(yoc_account_add(&a, &f), 0);
	yoc_free(f.listed);
	entry(&f, "odd \"name\"\n\\ \xc3\xa9.csv", 'b');
	f.rejected_by[YOC_CSV_STRAY_QUOTE] = 0;
	f.rejected_by[YOC_CSV_TRUNCATED] = 0;
	f.rejected = 0;
	f.rows_read = 8;
	assert_int_equal(yoc_account_add(&a, &f), 0);
	yoc_error_clear(&e);
	assert_int_equal(yoc_account_write(&a, path, &e), 0);
	assert_int_equal(yoc_account_read(&b, path, &e), 0);
	assert_int_equal(b.n, 2);
	assert_string_equal(b.key_id, "0123456789abcdef");
	assert_string_equal(b.generator, "yoc " YOC_VERSION);
	assert_int_equal(strlen(b.written), 20);
	for (size_t i = 0; i < 2; i++) {
		const struct yoc_account_file *x = &a.files[i], *y = &b.files[i];
		assert_string_equal(x->path, y->path);
		assert_string_equal(x->sha256, y->sha256);
		assert_string_equal(y->kind, "apc");
		assert_int_equal(x->bytes, y->bytes);
		assert_int_equal(x->rows_read, y->rows_read);
		assert_int_equal(x->rows_written, y->rows_written);
		assert_int_equal(x->opted_out, y->opted_out);
		assert_int_equal(x->rejected, y->rejected);
		assert_int_equal(x->valid, y->valid);
		assert_int_equal(x->missing, y->missing);
		assert_memory_equal(x->rejected_by, y->rejected_by, sizeof x->rejected_by);
		assert_int_equal(x->nlisted, y->nlisted);
	}
	assert_int_equal(b.files[0].listed[0].line, 3);
	assert_int_equal(b.files[0].listed[0].reason, YOC_CSV_STRAY_QUOTE);
	assert_int_equal(b.files[0].listed[1].line, 9);
	assert_int_equal(b.files[0].listed[1].reason, YOC_CSV_TRUNCATED);
	char text[128];
	yoc_account_reasons_text(&b.files[0], text, sizeof text);
	assert_string_equal(text, "stray_quote=2;truncated=1");

	/* matching: by content first (the path may have changed), else by path */
	char sha_a[65], sha_c[65];
	memset(sha_a, 'a', 64);
	sha_a[64] = 0;
	memset(sha_c, 'c', 64);
	sha_c[64] = 0;
	const struct yoc_account_file *by_path = NULL;
	assert_ptr_equal(yoc_account_match(&b, "renamed.csv", sha_a, &by_path), &b.files[0]);
	assert_null(by_path);
	assert_null(yoc_account_match(&b, "apc/RA1_2023-04.csv", sha_c, &by_path));
	assert_ptr_equal(by_path, &b.files[0]);
	assert_null(yoc_account_match(&b, "other.csv", sha_c, &by_path));
	assert_null(by_path);

	yoc_account_free(&a);
	yoc_account_free(&b);
	yoc_account_free(&b); /* twice is fine */
	tu_rm_rf(dir);
}

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define MEMBERS "\"format\":\"yoc-source-account-1\",\"files\":["
#define HEAD "{" MEMBERS
#define GOOD "{\"path\":\"a.csv\",\"bytes\":10,\"sha256\":\"" SHA_A "\",\"rows_read\":5," \
	"\"rows_written\":3,\"opted_out\":1,\"rejected\":1,\"rejected_reasons\":{\"nul_byte\":1}}"

static int parse(const char *text, struct yoc_error *e)
{
	struct yoc_account a;
	yoc_error_clear(e);
	int rc = yoc_account_parse(&a, text, strlen(text), "t.json", e);
	if (rc == 0) {
		assert_int_equal(a.n, 1);
		yoc_account_free(&a);
	} else {
		assert_int_equal(a.n, 0); /* nothing half read is kept */
	}
	return rc;
}

static void test_parse(void **state)
{
	(void)state;
	struct yoc_error e;
	assert_int_equal(parse(HEAD GOOD "]}", &e), 0);
	/* keys a newer writer may add are skipped, whatever their values */
	assert_int_equal(parse("{\"x\":[1,{\"y\":null},true,-2.5e3,\"s\\u00e9\"]," MEMBERS
			       GOOD "],\"totals\":{\"files\":1}}\n", &e), 0);
	assert_int_equal(parse(HEAD "{\"new\":{\"a\":[]},\"path\":\"a.csv\",\"bytes\":10,"
			       "\"sha256\":\"" SHA_A "\",\"rows_read\":5,\"rows_written\":3,"
			       "\"opted_out\":1,\"rejected\":1,\"rejected_reasons\":{\"future_fault\":1}}]}",
			       &e), 0);
	/* refused */
	assert_int_equal(parse("{\"files\":[" GOOD "]}", &e), YOC_EPARSE); /* no format */
	assert_non_null(strstr(e.msg, "format"));
	assert_int_equal(parse("{\"format\":\"yoc-source-account-9\"}", &e), YOC_EPARSE);
	assert_int_equal(parse(HEAD GOOD "]} x", &e), YOC_EPARSE);
	assert_int_equal(parse(HEAD GOOD, &e), YOC_EPARSE);
	assert_int_equal(parse("", &e), YOC_EPARSE);
	assert_int_equal(parse("[]", &e), YOC_EPARSE);
	/* counts that do not balance: rows read 6 != 3 + 1 + 1 */
	assert_int_equal(parse(HEAD "{\"path\":\"a.csv\",\"bytes\":10,\"sha256\":\"" SHA_A "\","
			       "\"rows_read\":6,\"rows_written\":3,\"opted_out\":1,\"rejected\":1,"
			       "\"rejected_reasons\":{\"nul_byte\":1}}]}", &e), YOC_EPARSE);
	assert_non_null(strstr(e.msg, "does not balance"));
	/* rejected by reason must add up to rejected */
	assert_int_equal(parse(HEAD "{\"path\":\"a.csv\",\"bytes\":10,\"sha256\":\"" SHA_A "\","
			       "\"rows_read\":5,\"rows_written\":3,\"opted_out\":1,\"rejected\":1}]}",
			       &e), YOC_EPARSE);
	/* a required count missing; a bad checksum; a negative or fractional count */
	assert_int_equal(parse(HEAD "{\"path\":\"a.csv\",\"sha256\":\"" SHA_A "\",\"rows_read\":0,"
			       "\"rows_written\":0,\"opted_out\":0,\"rejected\":0}]}", &e), YOC_EPARSE);
	assert_int_equal(parse(HEAD "{\"path\":\"a.csv\",\"bytes\":1,\"sha256\":\"ABC\","
			       "\"rows_read\":0,\"rows_written\":0,\"opted_out\":0,\"rejected\":0}]}",
			       &e), YOC_EPARSE);
	assert_int_equal(parse(HEAD "{\"path\":\"a.csv\",\"bytes\":-1,\"sha256\":\"" SHA_A "\","
			       "\"rows_read\":0,\"rows_written\":0,\"opted_out\":0,\"rejected\":0}]}",
			       &e), YOC_EPARSE);
	assert_int_equal(parse(HEAD "{\"path\":\"a.csv\",\"bytes\":1.5,\"sha256\":\"" SHA_A "\","
			       "\"rows_read\":0,\"rows_written\":0,\"opted_out\":0,\"rejected\":0}]}",
			       &e), YOC_EPARSE);
	assert_int_equal(parse(HEAD "{\"path\":\"a.csv\",\"bytes\":99999999999999999999}]}", &e),
			 YOC_EPARSE);
	/* strings: unterminated, a raw control character, a bad escape, NUL */
	assert_int_equal(parse("{\"format\":\"yoc-source-account-1", &e), YOC_EPARSE);
	assert_int_equal(parse("{\"format\":\"a\nb\"}", &e), YOC_EPARSE);
	assert_int_equal(parse("{\"format\":\"\\q\"}", &e), YOC_EPARSE);
	assert_int_equal(parse("{\"format\":\"\\u0000\"}", &e), YOC_EPARSE);
	/* deep nesting is refused, not a stack overflow */
	char deep[400];
	snprintf(deep, sizeof deep, "{\"x\":");
	for (int i = 0; i < 100; i++)
		strcat(deep, "[");
	assert_int_equal(parse(deep, &e), YOC_EPARSE);
}

/* Rejected rows past the cap are counted, not listed. */
static void test_listed_cap(void **state)
{
	(void)state;
	struct yoc_account_file f;
	memset(&f, 0, sizeof f);
	for (long i = 0; i < YOC_ACCOUNT_MAX_LISTED + 50; i++)
		assert_int_equal(yoc_account_list_reject(&f, i + 2, YOC_CSV_RAGGED_ROW), 0);
	assert_int_equal(f.nlisted, YOC_ACCOUNT_MAX_LISTED);
	assert_int_equal(f.listed[YOC_ACCOUNT_MAX_LISTED - 1].line, YOC_ACCOUNT_MAX_LISTED + 1);
	yoc_free(f.listed);
}

static void ref_hex(const unsigned char *p, size_t n, char out[65])
{
	unsigned char d[32];
	crypto_hash_sha256(d, p, n);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_sha256(void **state)
{
	(void)state;
	assert_true(sodium_init() >= 0);
	size_t cap = 3 << 20;
	unsigned char *b = malloc(cap);
	assert_non_null(b);
	for (size_t i = 0; i < cap; i++)
		b[i] = (unsigned char)(i * 2654435761u >> 13);
	char got[65], want[65];
	yoc_sha256_hex("abc", 3, got);
	assert_string_equal(got, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	{
		for (size_t n = 0; n < cap; n = n < 200 ? n + 1 : n * 3 + 17) {
			ref_hex(b, n, want);
			yoc_sha256_hex(b, n, got);
			assert_string_equal(got, want);
			/* in chunks of every size, handed over or hashed in place */
			struct yoc_sha256_bg *h = yoc_sha256_bg_create();
			assert_non_null(h);
			size_t step = 1 + n % 131, at = 0;
			int k = 0;
			while (at < n) {
				size_t m = n - at < step ? n - at : step;
				if (k++ % 3 == 2)
					yoc_sha256_bg_feed_sync(h, b + at, m);
				else
					yoc_sha256_bg_feed(h, b + at, m);
				at += m;
				step = step * 7 % 1000 + 1;
			}
			yoc_sha256_bg_finish(h, got);
			assert_string_equal(got, want);
		}
	}
	yoc_sha256_bg_abort(yoc_sha256_bg_create()); /* never fed */
	yoc_sha256_bg_abort(NULL);
	yoc_sha256_bg_finish(NULL, got);
	assert_string_equal(got, "");
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_listed_cap),
		cmocka_unit_test(test_sha256),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
** Unit tests of the core: error records, allocation with injected failure,
** arena, capped buffer, hash and hash map.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "yoc/core.h"

static void test_error_record(void **state)
{
	(void)state;
	struct yoc_error e;
	yoc_error_clear(&e);
	int rc = yoc_error_set(&e, YOC_EPARSE, "feed.csv", 12, 7, "stray quote in %s", "DIAG_4_01");
	assert_int_equal(rc, YOC_EPARSE);
	assert_int_equal(e.line, 12);
	assert_int_equal(e.col, 7);
	char buf[256] = {0};
	FILE *f = fmemopen(buf, sizeof buf, "w");
	yoc_error_print(f, &e);
	fclose(f);
	assert_string_equal(buf, "feed.csv:12:7: stray quote in DIAG_4_01\n");
	/* Without a line, the position is left out. */
	yoc_error_set(&e, YOC_EIO, "x.csv", 0, 0, "cannot open");
	memset(buf, 0, sizeof buf);
	f = fmemopen(buf, sizeof buf, "w");
	yoc_error_print(f, &e);
	fclose(f);
	assert_string_equal(buf, "x.csv: cannot open\n");
	assert_int_equal(yoc_error_set(NULL, YOC_EIO, "a", 1, 1, "x"), YOC_EIO);
	assert_string_equal(yoc_status_str(YOC_ENOMEM), "out of memory");
}

static void test_alloc_fail_nth(void **state)
{
	(void)state;
	yoc_alloc_fail_at(3);
	void *a = yoc_malloc(10), *b = yoc_malloc(10), *c = yoc_malloc(10), *d = yoc_malloc(10);
	assert_non_null(a);
	assert_non_null(b);
	assert_null(c);
	assert_non_null(d); /* only the nth fails */
	yoc_free(a);
	yoc_free(b);
	yoc_free(d);
	unsigned long n0 = yoc_alloc_count();
	char *s = yoc_strdup("hello");
	assert_int_equal(yoc_alloc_count(), n0 + 1);
	assert_string_equal(s, "hello");
	yoc_free(s);
	yoc_alloc_fail_at(0);
	yoc_free(NULL);
}

static void test_arena(void **state)
{
	(void)state;
	struct yoc_arena a;
	yoc_arena_init(&a, 256);
	char *p[100];
	for (int i = 0; i < 100; i++) {
		p[i] = yoc_arena_alloc(&a, 40);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % 16, 0);
		memset(p[i], i, 40);
	}
	for (int i = 0; i < 100; i++)
		for (int j = 0; j < 40; j++)
			assert_int_equal((unsigned char)p[i][j], i);
	char *big = yoc_arena_alloc(&a, 10000); /* larger than a block */
	assert_non_null(big);
	memset(big, 1, 10000);
	char *s = yoc_arena_strndup(&a, "abcdef", 3);
	assert_string_equal(s, "abc");
	yoc_arena_reset(&a);
	assert_true(a.total <= 10000);
	assert_non_null(yoc_arena_alloc(&a, 8));
	yoc_arena_free(&a);
	yoc_arena_free(&a); /* idempotent */
	/* OOM: the failed allocation returns NULL and the arena stays usable. */
	yoc_arena_init(&a, 64);
	yoc_alloc_fail_at(1);
	assert_null(yoc_arena_alloc(&a, 8));
	assert_non_null(yoc_arena_alloc(&a, 8));
	yoc_arena_free(&a);
}

static void test_buf_cap(void **state)
{
	(void)state;
	struct yoc_buf b;
	yoc_buf_init(&b, 10);
	assert_int_equal(yoc_buf_puts(&b, "hello"), YOC_OK);
	assert_int_equal(yoc_buf_printf(&b, "%d", 1234), YOC_OK);
	assert_string_equal(b.data, "hello1234");
	assert_int_equal(yoc_buf_puts(&b, "xy"), YOC_ETOOBIG);
	assert_string_equal(b.data, "hello1234"); /* unchanged */
	assert_int_equal(yoc_buf_putc(&b, '!'), YOC_OK);
	assert_int_equal(b.len, 10);
	assert_int_equal(yoc_buf_putc(&b, '!'), YOC_ETOOBIG);
	yoc_buf_reset(&b);
	assert_int_equal(b.len, 0);
	yoc_buf_free(&b);

	yoc_buf_init(&b, 0);
	char big[300];
	memset(big, 'x', sizeof big);
	for (int i = 0; i < 100; i++)
		assert_int_equal(yoc_buf_append(&b, big, sizeof big), YOC_OK);
	assert_int_equal(b.len, 30000);
	assert_int_equal(yoc_buf_printf(&b, "%s|%0400d", "long", 7), YOC_OK);
	assert_int_equal(b.len, 30000 + 5 + 400);
	yoc_buf_free(&b);

	yoc_buf_init(&b, 0);
	yoc_alloc_fail_at(1);
	assert_int_equal(yoc_buf_puts(&b, "x"), YOC_ENOMEM);
	assert_int_equal(yoc_buf_puts(&b, "x"), YOC_OK);
	yoc_buf_free(&b);
}

static void test_hash(void **state)
{
	(void)state;
	assert_int_equal(yoc_hash64("abc", 3, 0), yoc_hash64("abc", 3, 0));
	assert_true(yoc_hash64("abc", 3, 0) != yoc_hash64("abd", 3, 0));
	assert_true(yoc_hash64("abc", 3, 0) != yoc_hash64("abc", 3, 1));
	assert_true(yoc_hash64("", 0, 0) != yoc_hash64("\0", 1, 0));
	/* Spread: 10,000 keys, low 12 bits nearly uniform over 4,096 buckets. */
	static int bucket[4096];
	memset(bucket, 0, sizeof bucket);
	char k[32];
	for (int i = 0; i < 40960; i++) {
		int n = snprintf(k, sizeof k, "999%07d", i);
		bucket[yoc_hash64(k, (size_t)n, 0) & 4095]++;
	}
	int mx = 0;
	for (int i = 0; i < 4096; i++)
		mx = bucket[i] > mx ? bucket[i] : mx;
	assert_true(mx < 30); /* mean 10 */
}

static void test_map(void **state)
{
	(void)state;
	struct yoc_map m;
	assert_int_equal(yoc_map_init(&m, 0), YOC_OK);
	char k[32];
	for (int i = 0; i < 50000; i++) {
		int n = snprintf(k, sizeof k, "key%d", i);
		int isnew = 0;
		assert_int_equal(yoc_map_put(&m, k, (size_t)n, (uint64_t)i * 3, &isnew), YOC_OK);
		assert_int_equal(isnew, 1);
	}
	assert_int_equal(m.count, 50000);
	for (int i = 0; i < 50000; i++) {
		int n = snprintf(k, sizeof k, "key%d", i);
		uint64_t *v = yoc_map_get(&m, k, (size_t)n);
		assert_non_null(v);
		assert_int_equal(*v, (uint64_t)i * 3);
	}
	assert_null(yoc_map_get(&m, "key50000", 8));
	assert_null(yoc_map_get(&m, "key1", 3));
	int isnew = 1;
	assert_int_equal(yoc_map_put(&m, "key7", 4, 99, &isnew), YOC_OK);
	assert_int_equal(isnew, 0);
	assert_int_equal(*yoc_map_get(&m, "key7", 4), 99);
	size_t pos = 0, seen = 0;
	uint64_t sum = 0;
	const struct yoc_map_slot *s;
	while ((s = yoc_map_next(&m, &pos)) != NULL) {
		seen++;
		sum += s->value;
	}
	assert_int_equal(seen, 50000);
	/* sum of 3i for i<50000, with key7 changed from 21 to 99 */
	assert_int_equal(sum, (uint64_t)3 * 49999 * 50000 / 2 - 21 + 99);
	/* Empty key is a valid key. */
	assert_int_equal(yoc_map_put(&m, "", 0, 5, NULL), YOC_OK);
	assert_int_equal(*yoc_map_get(&m, "", 0), 5);
	yoc_map_free(&m);
}

static void test_map_oom(void **state)
{
	(void)state;
	/* Fail each allocation in turn: the map reports ENOMEM, stays consistent. */
	for (unsigned long nth = 1; nth < 40; nth++) {
		struct yoc_map m;
		yoc_alloc_fail_at(nth);
		int rc = yoc_map_init(&m, 0);
		int inserted = 0;
		if (rc == YOC_OK) {
			char k[16];
			for (int i = 0; i < 200; i++) {
				int n = snprintf(k, sizeof k, "k%d", i);
				rc = yoc_map_put(&m, k, (size_t)n, (uint64_t)i, NULL);
				if (rc)
					break;
				inserted++;
			}
			for (int i = 0; i < inserted; i++) {
				int n = snprintf(k, sizeof k, "k%d", i);
				uint64_t *v = yoc_map_get(&m, k, (size_t)n);
				assert_non_null(v);
				assert_int_equal(*v, (uint64_t)i);
			}
			assert_int_equal(m.count, (size_t)inserted);
		}
		yoc_alloc_fail_at(0);
		if (rc == YOC_OK || m.slots)
			yoc_map_free(&m);
		else
			yoc_arena_free(&m.keys);
		assert_true(rc == YOC_OK || rc == YOC_ENOMEM);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_record), cmocka_unit_test(test_alloc_fail_nth),
		cmocka_unit_test(test_arena),        cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_hash),         cmocka_unit_test(test_map),
		cmocka_unit_test(test_map_oom),
	};
	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}

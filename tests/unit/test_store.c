/* Unit tests for src/store: init/open, segment round trip, damage detection, garbage removal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/store.h"
#include "testutil.h"

static void test_init_open(void **state)
{
	(void)state;
	char dir[512];
	struct yoc_error e;
	yoc_store *s = NULL;
	assert_int_equal(tu_temp_dir(dir, sizeof dir, "store"), 0);
	assert_int_equal(yoc_store_open(&s, dir, 0, &e), YOC_ENOTFOUND);
	assert_int_equal(yoc_store_init(dir, &e), 0);
	assert_int_equal(yoc_store_init(dir, &e), YOC_EEXIST);
	assert_int_equal(yoc_store_open(&s, dir, YOC_STORE_WRITE, &e), 0);
	yoc_store *s2 = NULL;
	/* a second writer is refused while the first holds the lock */
	assert_int_equal(yoc_store_open(&s2, dir, YOC_STORE_WRITE, &e), YOC_EPERM);
	yoc_store_close(s);
	tu_rm_rf(dir);
}

static void test_segment_roundtrip(void **state)
{
	(void)state;
	char dir[512], path[700];
	struct yoc_error e;
	yoc_store *s = NULL;
	assert_int_equal(tu_temp_dir(dir, sizeof dir, "seg"), 0);
	assert_int_equal(yoc_store_init(dir, &e), 0);
	assert_int_equal(yoc_store_open(&s, dir, YOC_STORE_WRITE, &e), 0);
	const char *names[] = {"PSEUDO_ID", "EPISTART", "EPIORDER", "COST"};
	int types[] = {YOC_COL_TEXT, YOC_COL_DATE, YOC_COL_INT, YOC_COL_MONEY};
	struct yoc_segw *w = NULL;
	assert_int_equal(yoc_segw_create(&w, YOC_KIND_APC, 4, names, NULL, types), 0);
	for (int r = 0; r < 1000; r++) {
		char t[16];
		int n = snprintf(t, sizeof t, "p%d", r);
		assert_int_equal(yoc_segw_text(w, 0, t, r % 7 ? (size_t)n : 0), 0);
		assert_int_equal(yoc_segw_i32(w, 1, r == 5 ? YOC_DATE_HES_NULL : 19000 + r), 0);
		assert_int_equal(yoc_segw_i64(w, 2, r % 3 ? r : YOC_INT_NONE), 0);
		assert_int_equal(yoc_segw_i64(w, 3, -12345 + r), 0);
		yoc_segw_row_end(w);
	}
	assert_int_equal(yoc_segw_write(w, s, "t.seg", &e), 0);
	yoc_segw_free(w);
	snprintf(path, sizeof path, "%s/segments/t.seg", dir);
	yoc_seg *g = NULL;
	assert_int_equal(yoc_seg_open_path(path, &g, &e), 0);
	assert_int_equal(yoc_seg_nrows(g), 1000);
	assert_int_equal(yoc_seg_col(g, "EPISTART"), 1);
	assert_int_equal(yoc_seg_col(g, "NOPE"), -1);
	struct yoc_cell c = yoc_seg_text(g, 0, 8);
	assert_int_equal(c.n, 2);
	assert_memory_equal(c.p, "p8", 2);
	assert_int_equal(yoc_seg_text(g, 0, 7).n, 0);
	assert_int_equal(yoc_seg_date(g, 1, 10), 19010);
	assert_int_equal(yoc_seg_activity_date(g, 10), 19010);
	assert_int_equal(yoc_seg_date(g, 1, 5), YOC_DATE_HES_NULL);
	assert_true(yoc_seg_int(g, 2, 3) == YOC_INT_NONE);
	assert_int_equal(yoc_seg_int(g, 2, 4), 4);
	char buf[64];
	const char *t;
	size_t n = yoc_seg_format(g, 3, 0, buf, sizeof buf, &t);
	assert_int_equal(n, 7);
	assert_memory_equal(t, "-123.45", 7);
	n = yoc_seg_format(g, 1, 5, buf, sizeof buf, &t);
	assert_memory_equal(t, "1800-01-01", n);
	assert_int_equal(yoc_seg_person(g, 8), -1); /* no store: unlinked */
	yoc_seg_close(g);

	/* flip one byte anywhere in the data: the open must fail, never crash */
	FILE *f = fopen(path, "r+b");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	for (long off = 0; off < sz; off += 97) {
		fseek(f, off, SEEK_SET);
		int ch = fgetc(f);
		fseek(f, off, SEEK_SET);
		fputc(ch ^ 0x5a, f);
		fflush(f);
		assert_int_not_equal(yoc_seg_open_path(path, &g, &e), 0);
		assert_null(g);
		fseek(f, off, SEEK_SET);
		fputc(ch, f);
		fflush(f);
	}
	fclose(f);
	yoc_store_close(s);
	/* an uncommitted segment is garbage: removed by the next writer */
	assert_int_equal(yoc_store_open(&s, dir, YOC_STORE_WRITE, &e), 0);
	assert_int_not_equal(access(path, F_OK), 0);
	yoc_store_close(s);
	tu_rm_rf(dir);
}

static void test_segw_alloc_failures(void **state)
{
	(void)state;
	const char *names[] = {"A", "B"};
	int types[] = {YOC_COL_TEXT, YOC_COL_INT};
	for (unsigned long k = 1; k < 40; k++) {
		struct yoc_segw *w = NULL;
		yoc_alloc_fail_at(k);
		int rc = yoc_segw_create(&w, 0, 2, names, NULL, types);
		for (int r = 0; rc == 0 && r < 300; r++) {
			rc = yoc_segw_text(w, 0, "abcdef", 6);
			if (!rc)
				rc = yoc_segw_i64(w, 1, r);
		}
		yoc_alloc_fail_at(0);
		if (rc)
			assert_int_equal(rc, YOC_ENOMEM);
		yoc_segw_free(w);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_open), cmocka_unit_test(test_segment_roundtrip),
		cmocka_unit_test(test_segw_alloc_failures),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}

/* Unit tests for src/store: init/open, segment round trip, damage detection, garbage removal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"
#include "testutil.h"

/* yoc_seg_link_reasons codes, named as yoc_seg_link_reason names them */
static const char *const link_names[] = {"linked", "no_pseudonym", "not_registered"};

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
	/* the person column by its dictionary: each row's entry is its cell */
	uint32_t codes[1000];
	unsigned char why[1000];
	int64_t nd = yoc_seg_dict_codes(g, 0, codes);
	assert_int_equal(nd, 1000 - 1000 / 7 - 1 + 1); /* distinct p<r>, and "" */
	for (size_t r = 0; r < 1000; r++) {
		struct yoc_cell a = yoc_seg_text(g, 0, r), b = yoc_seg_dict_entry(g, 0, codes[r]);
		assert_true(codes[r] < (uint32_t)nd);
		assert_int_equal(a.n, b.n);
		assert_memory_equal(a.p, b.p, a.n);
	}
	assert_int_equal(yoc_seg_dict_entry(g, 0, (uint32_t)nd).n, 0);
	assert_int_equal(yoc_seg_dict_codes(g, 1, NULL), -1); /* a date column */
	assert_int_equal(yoc_seg_link_reasons(g, why), 0);
	for (size_t r = 0; r < 1000; r++)
		assert_string_equal(yoc_seg_link_reason(g, r),
				    link_names[why[r]]);
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

/*
** Why a dataset cannot be opened for writing: permission is said as such,
** with the path and strerror; only a lock held elsewhere is "another yoc
** process". errno is injected, so this holds when tests run as root too.
*/
static void test_write_error_messages(void **state)
{
	(void)state;
	struct yoc_error e;
	static const int perm[] = {EACCES, EPERM, EROFS};
	for (int i = 0; i < 3; i++) {
		for (int locking = 0; locking < 2; locking++) {
			yoc_error_clear(&e);
			assert_int_equal(yoc__store_write_error(&e, "/d", "/d/lock", locking, perm[i]),
					 YOC_EPERM);
			char want[256];
			snprintf(want, sizeof want, "dataset not writable by this user: /d/lock: %s",
				 strerror(perm[i]));
			assert_string_equal(e.msg, want);
			assert_string_equal(e.file, "/d");
		}
	}
	assert_int_equal(yoc__store_write_error(&e, "/d", "/d/lock", 1, EWOULDBLOCK), YOC_EPERM);
	assert_string_equal(e.msg, "another yoc process is writing to this dataset");
	/* Any other failure names the step, the path and strerror. */
	assert_int_equal(yoc__store_write_error(&e, "/d", "/d/lock", 0, ENOSPC), YOC_EIO);
	assert_non_null(strstr(e.msg, "cannot open for writing /d/lock: "));
	assert_int_equal(yoc__store_write_error(&e, "/d", "/d/lock", 1, ENOLCK), YOC_EIO);
	assert_non_null(strstr(e.msg, "cannot lock /d/lock: "));
	assert_null(strstr(e.msg, "another"));
}

/*
** A read-only dataset, for real: permission bits do not stop root, so as
** root the open runs with the effective user nobody (skipped if that fails).
*/
static void test_open_read_only(void **state)
{
	(void)state;
	char dir[512];
	struct yoc_error e;
	yoc_store *s = NULL;
	assert_int_equal(tu_temp_dir(dir, sizeof dir, "storero"), 0);
	assert_int_equal(yoc_store_init(dir, &e), 0);
	assert_int_equal(chmod(dir, 0555), 0);
	int was_root = geteuid() == 0, tested = 0;
	if (!was_root || seteuid(65534) == 0) {
		yoc_error_clear(&e);
		int rc = yoc_store_open(&s, dir, YOC_STORE_WRITE, &e);
		if (was_root && seteuid(0) != 0)
			fail_msg("cannot return to root");
		assert_int_equal(rc, YOC_EPERM);
		assert_null(s);
		char want[1024];
		snprintf(want, sizeof want, "dataset not writable by this user: %s: %s", dir,
			 strerror(EACCES));
		assert_string_equal(e.msg, want);
		tested = 1;
	}
	chmod(dir, 0755);
	tu_rm_rf(dir);
	if (!tested)
		skip();
}

/*
** Format 2 round trip of every column type and edge, against the values
** written (kept here, independent of the segment): empty segment, all
** "none", one distinct value, many distinct values, negative and extreme
** ints, every kind of date, rising numbers (steps), decimal keys plain and
** zero-padded, pseudonyms (hex) with an empty one, text that only looks
** like one; each written uncompressed, compressed, and in format 1.
*/
#define RT_COLS 14
static uint64_t rt_rng(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void rt_text(int col, int r, uint64_t *x, char *t, size_t *n)
{
	uint64_t v = rt_rng(x);
	switch (col) {
	case 0: /* pseudonyms: 64 hex, some repeated, some empty */
		if (r % 11 == 3) {
			*n = 0;
			return;
		}
		{
			uint64_t k = (uint64_t)r % 97 * 0x9E3779B97F4A7C15ull;
			for (int i = 0; i < 64; i++)
				t[i] = "0123456789abcdef"[((k >> (i % 16 * 4)) & 15) ^ (uint64_t)(i / 16)];
			*n = 64;
		}
		return;
	case 1: /* one distinct value */
		*n = (size_t)snprintf(t, 64, "RA1");
		return;
	case 2: /* many distinct values */
		*n = (size_t)snprintf(t, 64, "v%llu", (unsigned long long)(v % 1000000));
		return;
	case 3: /* zero-padded keys */
		*n = (size_t)snprintf(t, 64, "%019llu", (unsigned long long)(v % 10000000000000000000ull));
		return;
	case 4: /* canonical keys, some empty, up to 19 digits */
		*n = r % 5 == 0 ? 0 : (size_t)snprintf(t, 64, "%llu", (unsigned long long)(r % 3 == 0 ?
			9999999999999999999ull - (uint64_t)r : v % 100000));
		return;
	default: /* looks like keys or hex, is not: leading zeros of varying length, capitals */
		*n = (size_t)snprintf(t, 64, r % 2 ? "0%llu" : "ABCDEF%llu", (unsigned long long)(v % 1000));
		return;
	}
}

static int32_t rt_date(int col, int r, uint64_t *x)
{
	uint64_t v = rt_rng(x);
	if (col == 6) { /* all kinds of none, extremes */
		static const int32_t sp[] = {YOC_DATE_NONE, YOC_DATE_HES_NULL, YOC_DATE_HES_INVALID,
					     INT32_MIN + 3, INT32_MAX, 0, -1};
		return r % 3 ? sp[v % 7] : (int32_t)(v % 40000) - 5000;
	}
	if (col == 7)
		return YOC_DATE_NONE; /* all none */
	return 18000 + r / 3; /* rising */
}

static int64_t rt_int(int col, int r, uint64_t *x)
{
	uint64_t v = rt_rng(x);
	switch (col) {
	case 9: { /* negative and extreme */
		static const int64_t sp[] = {INT64_MIN + 1, INT64_MAX, -1, 0, 1, YOC_INT_NONE};
		return r % 2 ? sp[v % 6] : -(int64_t)(v % 100000);
	}
	case 10: return YOC_INT_NONE;                 /* all none */
	case 11: return 42;                           /* one value */
	case 12: return 2 + r + (r > 500 ? 1000 : 0); /* rising (line numbers) */
	default: return r % 7 ? (int64_t)(v % 100000) - 50000 : YOC_INT_NONE; /* money */
	}
}

static void rt_check(const char *dir, yoc_store *s, int nrows, int mode)
{
	static const char *names[RT_COLS] = {"PSEUDO_ID", "PROCODE3", "DIAG", "EPIKEY", "SPELL",
					     "ODD", "ADMIDATE", "DISDATE", "EPISTART", "N1", "N2", "N3",
					     "_LINE", "COST"};
	int types[RT_COLS];
	for (int c = 0; c < RT_COLS; c++)
		types[c] = c < 6 ? YOC_COL_TEXT : c < 9 ? YOC_COL_DATE : c == 13 ? YOC_COL_MONEY : YOC_COL_INT;
	struct yoc_error e;
	struct yoc_segw *w = NULL;
	/* mode 0: format 3; 1: format 1; 2: format 3 compressed; 3: format 2 compressed */
	if (mode == 1 || mode == 3)
		setenv("YOC_SEG_VERSION", mode == 1 ? "1" : "2", 1);
	yoc_store_compress(s, mode >= 2 ? YOC_STORE_ZSTD_LEVEL : 0);
	assert_int_equal(yoc_segw_create(&w, YOC_KIND_APC, RT_COLS, names, NULL, types), 0);
	unsetenv("YOC_SEG_VERSION");
	uint64_t x = 88172645463325252ull;
	char t[80];
	size_t n;
	for (int r = 0; r < nrows; r++) {
		for (int c = 0; c < RT_COLS; c++) {
			if (c < 6) {
				rt_text(c, r, &x, t, &n);
				assert_int_equal(yoc_segw_text(w, (size_t)c, t, n), 0);
			} else if (c < 9) {
				assert_int_equal(yoc_segw_i32(w, (size_t)c, rt_date(c, r, &x)), 0);
			} else {
				assert_int_equal(yoc_segw_i64(w, (size_t)c, rt_int(c, r, &x)), 0);
			}
		}
		yoc_segw_row_end(w);
	}
	assert_int_equal(yoc_segw_write(w, s, "rt.seg", &e), 0);
	yoc_segw_free(w);
	char path[700];
	snprintf(path, sizeof path, "%s/segments/rt.seg", dir);
	FILE *f = fopen(path, "rb");
	char magic[9] = {0};
	assert_int_equal(fread(magic, 1, 8, f), 8);
	fclose(f);
	assert_string_equal(magic, mode == 1 ? "YOCSEG01" : mode == 3 ? "YOCSEG02" : "YOCSEG03");
	yoc_seg *g = NULL;
	assert_int_equal(yoc_seg_open_path(path, &g, &e), 0);
	assert_int_equal(yoc_seg_nrows(g), nrows);
	x = 88172645463325252ull;
	for (int r = 0; r < nrows; r++) {
		for (int c = 0; c < RT_COLS; c++) {
			if (c < 6) {
				rt_text(c, r, &x, t, &n);
				struct yoc_cell v = yoc_seg_text(g, c, (size_t)r);
				assert_int_equal(v.n, n);
				assert_memory_equal(v.p, t, n);
			} else if (c < 9) {
				int32_t d = rt_date(c, r, &x);
				assert_int_equal(yoc_seg_date(g, c, (size_t)r), d);
				assert_int_equal(yoc_seg_dates(g, c)[r], d);
			} else {
				int64_t v = rt_int(c, r, &x);
				assert_true(yoc_seg_int(g, c, (size_t)r) == v);
				assert_true(yoc_seg_ints(g, c)[r] == v);
			}
		}
	}
	assert_int_equal(yoc_seg_person(g, 0), -1); /* no store: unlinked */
	yoc_seg_close(g);
	unlink(path);
}

static void test_segment_v2_edges(void **state)
{
	(void)state;
	char dir[512];
	struct yoc_error e;
	yoc_store *s = NULL;
	assert_int_equal(tu_temp_dir(dir, sizeof dir, "segv2"), 0);
	assert_int_equal(yoc_store_init(dir, &e), 0);
	assert_int_equal(yoc_store_open(&s, dir, YOC_STORE_WRITE, &e), 0);
	/* 40000 rows: blocks larger than the writer's gathering buffer go
	 * out directly, between small ones that it gathers */
	static const int sizes[] = {0, 1, 2, 300, 5000, 40000};
	for (int mode = 0; mode < 4; mode++)
		for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
			rt_check(dir, s, sizes[i], mode);
	yoc_store_close(s);
	tu_rm_rf(dir);
}

/* ---- the pseudonym pool (pool.c, format 3) ---- */

/* Pseudonym k: 64 lowercase hex digits, distinct for each k. */
static void pool_pseudo(int k, char *t)
{
	uint64_t x = (uint64_t)(k + 1) * 0x9E3779B97F4A7C15ull;
	for (int i = 0; i < 64; i++) {
		x ^= x >> 29;
		x *= 0xbf58476d1ce4e5b9ull;
		t[i] = "0123456789abcdef"[x >> 60];
	}
}

/* The pseudonym of row r of a segment of persons lo..lo+n-1 ("" every 13th row). */
static int pool_row(int lo, int n, int r, char *t)
{
	if (r % 13 == 5)
		return 0;
	pool_pseudo(lo + (r * 7) % n, t);
	return 64;
}

static void pool_write(yoc_store *s, const char *name, int lo, int n, int nrows)
{
	const char *names[] = {"PSEUDO_ID", "EPIORDER"};
	int types[] = {YOC_COL_TEXT, YOC_COL_INT};
	struct yoc_segw *w = NULL;
	struct yoc_error e;
	char t[64];
	assert_int_equal(yoc_segw_create(&w, YOC_KIND_APC, 2, names, NULL, types), 0);
	for (int r = 0; r < nrows; r++) {
		assert_int_equal(yoc_segw_text(w, 0, t, (size_t)pool_row(lo, n, r, t)), 0);
		assert_int_equal(yoc_segw_i64(w, 1, r), 0);
		yoc_segw_row_end(w);
	}
	assert_int_equal(yoc_segw_write(w, s, name, &e), 0);
	yoc_segw_free(w);
}

/* Segment dir/segments/name holds what pool_write wrote; 0 or the open's status. */
static int pool_read(const char *dir, const char *name, int lo, int n, int nrows, char *msg)
{
	char path[700], t[64];
	struct yoc_error e;
	yoc_seg *g = NULL;
	snprintf(path, sizeof path, "%s/segments/%s", dir, name);
	int rc = yoc_seg_open_path(path, &g, &e);
	if (rc) {
		snprintf(msg, 600, "%s", e.msg);
		return rc;
	}
	assert_int_equal(yoc_seg_nrows(g), nrows);
	for (int r = 0; r < nrows; r++) {
		size_t k = (size_t)pool_row(lo, n, r, t);
		struct yoc_cell v = yoc_seg_text(g, 0, (size_t)r);
		assert_int_equal(v.n, k);
		assert_memory_equal(v.p, t, k);
	}
	yoc_seg_close(g);
	return 0;
}

static int64_t pool_entries(const char *dir)
{
	char path[700];
	struct stat st;
	snprintf(path, sizeof path, "%s/pseudonyms.pool", dir);
	return stat(path, &st) == 0 ? ((int64_t)st.st_size - 16) / 32 : -1;
}

/* A copy of dataset dir (a new directory: read afresh, as by another process). */
static void pool_copy(const char *dir, const char *tag, char *out, size_t cap)
{
	char cmd[1600];
	assert_int_equal(tu_temp_dir(out, cap, tag), 0);
	snprintf(cmd, sizeof cmd, "cp -r '%s/.' '%s/'", dir, out);
	assert_int_equal(system(cmd), 0);
}

static void test_pseudonym_pool(void **state)
{
	(void)state;
	char dir[512], d2[512], d3[512], d4[512], msg[600], path[700];
	struct yoc_error e;
	yoc_store *s = NULL;
	assert_int_equal(tu_temp_dir(dir, sizeof dir, "pool"), 0);
	assert_int_equal(yoc_store_init(dir, &e), 0);
	assert_int_equal(yoc_store_open(&s, dir, YOC_STORE_WRITE, &e), 0);
	assert_int_equal(pool_entries(dir), -1); /* none until a segment needs it */
	/* persons 0-49, then 25-99: each pseudonym is in the pool once */
	pool_write(s, "a.seg", 0, 50, 400);
	assert_int_equal(pool_entries(dir), 50);
	pool_write(s, "b.seg", 25, 75, 600);
	assert_int_equal(pool_entries(dir), 100);
	assert_int_equal(pool_read(dir, "a.seg", 0, 50, 400, msg), 0);
	assert_int_equal(pool_read(dir, "b.seg", 25, 75, 600, msg), 0);
	/* the person column holds 4-byte indexes: 28 bytes less per pseudonym than format 2 */
	struct stat a3, a2;
	snprintf(path, sizeof path, "%s/segments/b.seg", dir);
	assert_int_equal(stat(path, &a3), 0);
	setenv("YOC_SEG_VERSION", "2", 1);
	pool_write(s, "b2.seg", 25, 75, 600);
	unsetenv("YOC_SEG_VERSION");
	snprintf(path, sizeof path, "%s/segments/b2.seg", dir);
	assert_int_equal(stat(path, &a2), 0);
	assert_true(a2.st_size - a3.st_size >= 75 * 28 - 8 && a2.st_size - a3.st_size <= 75 * 28 + 8);
	assert_int_equal(pool_read(dir, "b2.seg", 25, 75, 600, msg), 0);
	assert_int_equal(pool_entries(dir), 100);

	/* read from the file alone, as another process would */
	pool_copy(dir, "pool2", d2, sizeof d2);
	assert_int_equal(pool_read(d2, "b.seg", 25, 75, 600, msg), 0);
	assert_int_equal(pool_read(d2, "a.seg", 0, 50, 400, msg), 0);
	/* a pool that lost entries a segment names: the segment is refused, the pool named */
	pool_copy(dir, "pool3", d3, sizeof d3);
	snprintf(path, sizeof path, "%s/pseudonyms.pool", d3);
	assert_int_equal(truncate(path, 16 + 60 * 32), 0);
	assert_int_equal(pool_read(d3, "a.seg", 0, 50, 400, msg), 0);
	assert_int_equal(pool_read(d3, "b.seg", 25, 75, 600, msg), YOC_EDATA);
	assert_non_null(strstr(msg, "pseudonyms.pool"));
	assert_int_equal(pool_read(d3, "b2.seg", 25, 75, 600, msg), 0); /* format 2: its own */

	/* a torn last entry (a crash mid-append) is written over by the next writer */
	yoc_store_close(s);
	snprintf(path, sizeof path, "%s/pseudonyms.pool", dir);
	FILE *f = fopen(path, "ab");
	assert_non_null(f);
	assert_int_equal(fwrite("0123456789", 1, 10, f), 10);
	fclose(f);
	assert_int_equal(yoc_store_open(&s, dir, YOC_STORE_WRITE, &e), 0);
	pool_write(s, "c.seg", 90, 20, 300); /* 10 known, 10 new */
	struct stat ps;
	assert_int_equal(stat(path, &ps), 0);
	assert_int_equal(ps.st_size, 16 + 110 * 32);
	yoc_store_close(s);
	pool_copy(dir, "pool4", d4, sizeof d4);
	/* (the reopened writer removed a.seg and b.seg: no catalog row names them) */
	assert_int_equal(pool_read(d4, "c.seg", 90, 20, 300, msg), 0);
	tu_rm_rf(d4);
	tu_rm_rf(d3);
	tu_rm_rf(d2);
	tu_rm_rf(dir);
}


/* ---- the write-behind VFS of a writing store (wbvfs.c) ---- */

/* sum(v), count(*) of table t through a plain SQLite connection (default VFS). */
static void wb_plain(const char *dir, int64_t *sum, int64_t *n, int *ok)
{
	char path[700];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	snprintf(path, sizeof path, "%s/yoc.db", dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	*sum = *n = -1;
	if (sqlite3_prepare_v2(db, "select coalesce(sum(v), 0), count(*) from t", -1, &st, NULL) ==
		    SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		*sum = sqlite3_column_int64(st, 0);
		*n = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	st = NULL;
	*ok = sqlite3_prepare_v2(db, "pragma integrity_check", -1, &st, NULL) == SQLITE_OK &&
	      sqlite3_step(st) == SQLITE_ROW &&
	      strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* Rows k0..k1 of t (v = k, a 200-byte pad) inserted in one transaction on db. */
static int wb_fill(sqlite3 *db, int k0, int k1)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	if (!rc)
		rc = sqlite3_prepare_v2(db, "insert into t values(?, zeroblob(200))", -1, &st, NULL);
	for (int k = k0; !rc && k < k1; k++) {
		sqlite3_bind_int(st, 1, k);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sqlite3_errcode(db);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (!rc)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	else
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/*
** Writes queued on the helper thread are seen by the writer's own reads
** mid-transaction (the cache is kept small, so pages spill and are read
** back), by another connection once committed, and survive the process
** being killed straight after the commit (the helper slowed down, so the
** queue is long when the commit is asked for); a writer killed before its
** commit leaves the previous state; a write that fails on the helper fails
** the commit.
*/
static void test_write_behind(void **state)
{
	(void)state;
	char dir[512];
	struct yoc_error e;
	yoc_store *s = NULL;
	int64_t sum, n;
	int ok;
	assert_int_equal(tu_temp_dir(dir, sizeof dir, "wb"), 0);
	assert_int_equal(yoc_store_init(dir, &e), 0);
	assert_int_equal(yoc_store_open(&s, dir, YOC_STORE_WRITE, &e), 0);
	sqlite3 *db = yoc_store_db(s);
	sqlite3_vfs *vfs = NULL;
	assert_int_equal(sqlite3_file_control(db, "main", SQLITE_FCNTL_VFS_POINTER, &vfs), SQLITE_OK);
	assert_non_null(vfs);
	assert_string_equal(vfs->zName, "yoc-wb");
	assert_int_equal(sqlite3_exec(db, "PRAGMA cache_size = 20; CREATE TABLE t(v INTEGER, pad BLOB)",
				      NULL, NULL, NULL), SQLITE_OK);
	/* in one transaction: spilled pages read back by a sum over the table */
	assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, "insert into t values(?, zeroblob(200))", -1, &st, NULL),
			 SQLITE_OK);
	for (int k = 0; k < 20000; k++) {
		sqlite3_bind_int(st, 1, k);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
		if (k % 5000 == 4999) {
			sqlite3_stmt *q = NULL;
			assert_int_equal(sqlite3_prepare_v2(db, "select sum(v), count(*) from t", -1, &q, NULL),
					 SQLITE_OK);
			assert_int_equal(sqlite3_step(q), SQLITE_ROW);
			assert_int_equal(sqlite3_column_int64(q, 0), (int64_t)k * (k + 1) / 2);
			assert_int_equal(sqlite3_column_int64(q, 1), k + 1);
			sqlite3_finalize(q);
		}
	}
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	wb_plain(dir, &sum, &n, &ok);
	assert_int_equal(n, 20000);
	assert_int_equal(sum, (int64_t)19999 * 20000 / 2);
	assert_true(ok);
	yoc_store_close(s);
	s = NULL;

	/* a process killed right after its commit returned: every row is there */
	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		yoc_store *c = NULL;
		char b = 'x';
		setenv("YOC_WB_TEST_DELAY_US", "2000", 1); /* a slow disk: the queue is long */
		if (yoc_store_open(&c, dir, YOC_STORE_WRITE, &e) ||
		    sqlite3_exec(yoc_store_db(c), "PRAGMA cache_size = 20", NULL, NULL, NULL) ||
		    wb_fill(yoc_store_db(c), 20000, 60000))
			b = 'f';
		if (write(pfd[1], &b, 1) != 1)
			_exit(3);
		for (;;)
			pause(); /* killed here, nothing closed */
	}
	char b = 0;
	assert_int_equal(read(pfd[0], &b, 1), 1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(b, 'x');
	wb_plain(dir, &sum, &n, &ok);
	assert_int_equal(n, 60000);
	assert_int_equal(sum, (int64_t)59999 * 60000 / 2);
	assert_true(ok);

	/* killed inside its transaction, pages spilled: the committed state */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		yoc_store *c = NULL;
		char b2 = 'x';
		sqlite3_stmt *ins = NULL;
		if (yoc_store_open(&c, dir, YOC_STORE_WRITE, &e) ||
		    sqlite3_exec(yoc_store_db(c), "PRAGMA cache_size = 20; BEGIN", NULL, NULL, NULL) ||
		    sqlite3_prepare_v2(yoc_store_db(c), "insert into t values(1, zeroblob(200))", -1,
				       &ins, NULL))
			b2 = 'f';
		for (int k = 0; b2 == 'x' && k < 30000; k++) {
			if (sqlite3_step(ins) != SQLITE_DONE)
				b2 = 'f';
			sqlite3_reset(ins);
		}
		if (write(pfd[1], &b2, 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	b = 0;
	assert_int_equal(read(pfd[0], &b, 1), 1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(b, 'x');
	assert_int_equal(yoc_store_open(&s, dir, YOC_STORE_WRITE, &e), 0); /* rolls the journal back */
	yoc_store_close(s);
	s = NULL;
	wb_plain(dir, &sum, &n, &ok);
	assert_int_equal(n, 60000);
	assert_int_equal(sum, (int64_t)59999 * 60000 / 2);
	assert_true(ok);
	close(pfd[0]);
	close(pfd[1]);

	/* a write the helper fails (the file size limit) fails what follows */
	assert_int_equal(yoc_store_open(&s, dir, YOC_STORE_WRITE, &e), 0);
	db = yoc_store_db(s);
	struct stat sb;
	char path[700];
	snprintf(path, sizeof path, "%s/yoc.db", dir);
	assert_int_equal(stat(path, &sb), 0);
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)sb.st_size + 64 * 1024;
	void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	/* the cache holds the transaction: only the commit writes, and must fail */
	int rc = wb_fill(db, 0, 20000);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, prev);
	assert_int_not_equal(rc, SQLITE_OK);
	yoc_store_close(s);
	s = NULL;
	wb_plain(dir, &sum, &n, &ok);
	assert_int_equal(n, 60000); /* the failed transaction left nothing */
	assert_true(ok);
	tu_rm_rf(dir);
}

/*
** Reads of bytes not queued go to the file without waiting for the queue;
** reads of queued bytes still see them. With the helper slowed, the queue
** holds spilled pages of a table being filled while another table is read
** and has half its rows deleted (scattered reads and freelist writes, as
** when analyse replaces its tables) in the same transaction; every answer
** is checked against its formula, mid-transaction and after the commit.
*/
static void test_write_behind_reads(void **state)
{
	(void)state;
	char dir[512];
	struct yoc_error e;
	yoc_store *s = NULL;
	int64_t sum, n;
	int ok;
	assert_int_equal(tu_temp_dir(dir, sizeof dir, "wbr"), 0);
	assert_int_equal(yoc_store_init(dir, &e), 0);
	setenv("YOC_WB_TEST_DELAY_US", "300", 1);
	int rc = yoc_store_open(&s, dir, YOC_STORE_WRITE, &e);
	unsetenv("YOC_WB_TEST_DELAY_US");
	assert_int_equal(rc, 0);
	sqlite3 *db = yoc_store_db(s);
	assert_int_equal(sqlite3_exec(db, "PRAGMA cache_size = 20; CREATE TABLE t(v INTEGER, pad BLOB);"
					  "CREATE TABLE u(v INTEGER, pad BLOB)",
				      NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(wb_fill(db, 0, 30000), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, "insert into u values(?, zeroblob(300))", -1, &st, NULL),
			 SQLITE_OK);
	for (int k = 0; k < 12000; k++) {
		sqlite3_bind_int(st, 1, k);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
		if (k % 3000 == 2999) {
			/* t's pages are in the file; u's spilled ones are queued */
			assert_int_equal(tu_sql_int(db, "select sum(v) from t where v % 7 = 0"),
					 (int64_t)7 * 4285 * 4286 / 2);
			assert_int_equal(tu_sql_int(db, "select sum(v) from u"), (int64_t)k * (k + 1) / 2);
			assert_int_equal(tu_sql_int(db, "select count(*) from u"), k + 1);
		}
	}
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_exec(db, "DELETE FROM t WHERE v % 2 = 0", NULL, NULL, NULL), SQLITE_OK);
	/* odd v below 30000: 15000 of them, summing to 15000^2 */
	assert_int_equal(tu_sql_int(db, "select sum(v) from t"), (int64_t)15000 * 15000);
	assert_int_equal(tu_sql_int(db, "select sum(v) from u where v % 2 = 1"), (int64_t)6000 * 6000);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	wb_plain(dir, &sum, &n, &ok);
	assert_int_equal(n, 15000);
	assert_int_equal(sum, (int64_t)15000 * 15000);
	assert_true(ok);
	yoc_store_close(s);
	tu_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_open), cmocka_unit_test(test_segment_roundtrip),
		cmocka_unit_test(test_write_behind), cmocka_unit_test(test_write_behind_reads),
		cmocka_unit_test(test_segment_v2_edges), cmocka_unit_test(test_pseudonym_pool),
		cmocka_unit_test(test_segw_alloc_failures),
		cmocka_unit_test(test_write_error_messages), cmocka_unit_test(test_open_read_only),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}

/*
** Atomic file replacement, directory listing and whole-file reads.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "yoc/io.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/yoc_test_io_XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void slurp(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t n = fread(out, 1, cap - 1, f);
	out[n] = 0;
	fclose(f);
}

static void test_afile(void **state)
{
	(void)state;
	char p[300], got[64];
	snprintf(p, sizeof p, "%s/out.csv", dir);
	struct yoc_afile a;
	struct yoc_error e;
	yoc_error_clear(&e);
	assert_int_equal(yoc_afile_open(&a, p, &e), 0);
	fputs("first\n", a.f);
	assert_int_equal(access(p, F_OK), -1); /* not visible before commit */
	assert_int_equal(yoc_afile_commit(&a, &e), 0);
	slurp(p, got, sizeof got);
	assert_string_equal(got, "first\n");
	/* An aborted rewrite leaves the previous content and no temporary. */
	assert_int_equal(yoc_afile_open(&a, p, &e), 0);
	fputs("second\n", a.f);
	yoc_afile_abort(&a);
	slurp(p, got, sizeof got);
	assert_string_equal(got, "first\n");
	assert_int_equal(access(a.tmp, F_OK), -1);
	/* A committed rewrite replaces it whole. */
	assert_int_equal(yoc_afile_open(&a, p, &e), 0);
	fputs("second\n", a.f);
	assert_int_equal(yoc_afile_commit(&a, &e), 0);
	slurp(p, got, sizeof got);
	assert_string_equal(got, "second\n");
	/* A folder that does not exist: a clear error naming the path. */
	char q[300];
	snprintf(q, sizeof q, "%s/missing/x.csv", dir);
	assert_int_equal(yoc_afile_open(&a, q, &e), YOC_EIO);
	assert_string_equal(e.file, q);
}

static void test_list_files(void **state)
{
	(void)state;
	char p[300];
	snprintf(p, sizeof p, "%s/tree/b/c", dir);
	assert_int_equal(yoc_mkdirs(p, 0755), 0);
	assert_true(yoc_is_dir(p));
	const char *files[] = {"tree/z.csv", "tree/b/c/a.csv", "tree/a.csv", "tree/.hidden",
			       "tree/b/x.csv.tmp.123"};
	for (int i = 0; i < 5; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		FILE *f = fopen(p, "w");
		assert_non_null(f);
		fputs("x\n", f);
		fclose(f);
	}
	char **v;
	size_t n;
	snprintf(p, sizeof p, "%s/tree", dir);
	assert_int_equal(yoc_list_files(p, &v, &n, NULL), 0);
	assert_int_equal(n, 3);
	char want[300];
	snprintf(want, sizeof want, "%s/tree/a.csv", dir);
	assert_string_equal(v[0], want);
	snprintf(want, sizeof want, "%s/tree/b/c/a.csv", dir);
	assert_string_equal(v[1], want);
	snprintf(want, sizeof want, "%s/tree/z.csv", dir);
	assert_string_equal(v[2], want);
	assert_null(v[3]);
	yoc_paths_free(v);
	snprintf(p, sizeof p, "%s/tree/b/c", dir);
	char deep[300];
	snprintf(deep, sizeof deep, "%s/empty", dir);
	assert_int_equal(yoc_mkdirs(deep, 0755), 0);
	assert_int_equal(yoc_list_files(deep, &v, &n, NULL), 0);
	assert_int_equal(n, 0);
	assert_null(v[0]);
	yoc_paths_free(v);
	struct yoc_error e;
	snprintf(deep, sizeof deep, "%s/nope", dir);
	assert_int_equal(yoc_list_files(deep, &v, &n, &e), YOC_EIO);
}

static void test_read_file(void **state)
{
	(void)state;
	char p[300];
	snprintf(p, sizeof p, "%s/r.txt", dir);
	FILE *f = fopen(p, "w");
	for (int i = 0; i < 10000; i++)
		fputs("0123456789", f);
	fclose(f);
	char *d;
	size_t n;
	struct yoc_error e;
	assert_int_equal(yoc_read_file(p, 0, &d, &n, &e), 0);
	assert_int_equal(n, 100000);
	assert_int_equal(d[n], 0);
	assert_memory_equal(d + 99990, "0123456789", 10);
	yoc_free(d);
	assert_int_equal(yoc_read_file(p, 1000, &d, &n, &e), YOC_ETOOBIG);
	assert_null(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_afile), cmocka_unit_test(test_list_files),
		cmocka_unit_test(test_read_file),
	};
	return cmocka_run_group_tests_name("io", tests, setup, teardown);
}

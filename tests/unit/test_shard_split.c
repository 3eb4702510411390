/*
** Unit tests for src/shard/shard_split.c (yoc_shard_reshard): rows and
** catalog rows go to the shard of their person (a nulled pseudonym by the
** cell as sent, rows without a person to file_id mod k2), the accounting
** adds up, and the Nth allocation failing leaves every target empty.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "load/load.h"
#include "shard/shard.h"
#include "testutil.h"

#define P1 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define P2 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
static const char reg[] =
	"PSEUDO_ID,NHSNO_STATUS,GPPRAC,REG_START,REG_END,SEX,MYDOB,LSOA11,IMD_DECILE\n"
	P1 ",valid,P81001,2010-01-01,,1,011950,E01000001,3\n"
	P2 ",valid,P81001,2011-01-01,,2,021960,E01000001,3\n";
static const char apc[] =
	"PSEUDO_ID,NHSNO_STATUS,EPISTART,ADMIMETH,EPIORDER,COST\n"
	P1 ",valid,2023-01-05,21,03,1234.50\n"         /* loaded */
	",missing,2023-01-06,11,1,10\n"                 /* loaded, no pseudonym: file_id mod k2 */
	P2 ",valid,,21,1,1\n"                          /* quarantined: missing_required */
	P1 ",valid,2023-13-01,21,1,1\n"                /* quarantined: bad_date */
	P2 ",valid,2023-01-07,zz,x,abc\n"              /* loaded: three flags */
	P1 ",valid,2023-01-09\n"                       /* quarantined: ragged, no person */
	"cccc,valid,2023-01-10,21,1,1\n"                /* loaded: pseudonym nulled, flagged */
	P2 ",valid,2023-01-11,21,02,5\n";              /* loaded */


/* A dataset of the two feeds above. */
static void source(char *dir, size_t cap)
{
	yoc_store *s = NULL;
	struct yoc_loader *L = NULL;
	struct yoc_load_result r;
	struct yoc_error e;
	assert_int_equal(tu_temp_dir(dir, cap, "split"), 0);
	assert_int_equal(yoc_store_init(dir, &e), 0);
	assert_int_equal(yoc_store_open(&s, dir, YOC_STORE_WRITE, &e), 0);
	assert_int_equal(yoc_loader_begin(&L, s, &e), 0);
	assert_int_equal(yoc_loader_mem(L, "reg/GP_2023-01.csv", reg, sizeof reg - 1, -1, &r, &e), 0);
	assert_int_equal(yoc_loader_mem(L, "apc/RX1_2023-01.csv", apc, sizeof apc - 1, -1, &r, &e), 0);
	assert_int_equal(r.status, YOC_LOAD_LOADED);
	assert_int_equal(yoc_loader_commit(L, &e), 0);
	yoc_loader_free(L);
	yoc_store_close(s);
}

/* k2 new targets under base, open for writing. */
static void targets(const char *base, int k2, yoc_store **dst, char (*dirs)[600])
{
	struct yoc_error e;
	for (int t = 0; t < k2; t++) {
		snprintf(dirs[t], 600, "%s/t%d", base, t);
		tu_rm_rf(dirs[t]);
		assert_int_equal(yoc_store_init(dirs[t], &e), 0);
		assert_int_equal(yoc_store_open(&dst[t], dirs[t], YOC_STORE_WRITE, &e), 0);
	}
}

static void test_split(void **state)
{
	(void)state;
	char dir[512], dirs[2][600];
	yoc_store *src = NULL, *dst[2] = {NULL, NULL};
	struct yoc_error e;
	struct yoc_shard_reshard st;
	int pending[2] = {1, 1};
	source(dir, sizeof dir);
	assert_int_equal(yoc_store_open(&src, dir, 0, &e), 0);
	targets(dir, 2, dst, dirs);
	int rc0 = yoc_shard_reshard(&src, 1, dst, 2, pending, NULL, NULL, &st, &e);
	if (rc0)
		fprintf(stderr, "%s: %s\n", e.file, e.msg);
	assert_int_equal(rc0, 0);
	assert_int_equal(st.committed, 2);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.loaded, 2 + 5);
	assert_int_equal(st.quarantined, 3);
	assert_int_equal(st.unread + st.unmatched + st.flagged_differ + st.unwritten, 0);
	int64_t fid = tu_sql_int(yoc_store_db(src), "select file_id from files where kind = 'apc'");
	int s1 = yoc_shard_of(P1, 64, 2), s2 = yoc_shard_of(P2, 64, 2);
	int sc = yoc_shard_of("cccc", 4, 2), none = (int)(fid % 2);
	/* the loaded rows: P1 1, P2 2, cccc 1, no person 1 */
	int64_t want[2] = {0, 0}, wantq[2] = {0, 0};
	want[s1] += 1;
	want[s2] += 2;
	want[sc] += 1;
	want[none] += 1;
	wantq[s2] += 1;   /* missing_required */
	wantq[s1] += 1;   /* bad_date */
	wantq[none] += 1; /* ragged */
	for (int t = 0; t < 2; t++) {
		sqlite3 *db = yoc_store_db(dst[t]);
		assert_int_equal(tu_sql_int(db, "select loaded from files where kind = 'apc'"), want[t]);
		assert_int_equal(tu_sql_int(db, "select quarantined from files where kind = 'apc'"), wantq[t]);
		assert_int_equal(tu_sql_int(db, "select count(*) from files where rows <> loaded + quarantined"), 0);
		assert_int_equal(tu_sql_int(db, "select count(*) from flags where reason = 'bad_pseudo_id'"),
				 t == sc);
		assert_int_equal(tu_sql_int(db, "select count(*) from flags where reason = 'bad_code'"), t == s2);
		assert_int_equal(tu_sql_int(db, "select count(*) from person"), (t == s1) + (t == s2));
		assert_int_equal(tu_sql_int(db, "select count(*) from loads"), 1);
	}
	/* EPIORDER written "03" in the feed: its value count keeps the text */
	int64_t n01 = 0;
	for (int t = 0; t < 2; t++)
		n01 += tu_sql_int(yoc_store_db(dst[t]), "select count(*) from file_stats where field ="
						" 'EPIORDER' and top_values like '%03=1%'");
	assert_int_equal(n01, 1);
	for (int t = 0; t < 2; t++)
		yoc_store_close(dst[t]);
	yoc_store_close(src);
	tu_rm_rf(dir);
}

/* The Nth allocation fails: an error, and every target still empty; then it succeeds. */
static void test_alloc_failures(void **state)
{
	(void)state;
	char dir[512], dirs[2][600];
	yoc_store *src = NULL, *dst[2] = {NULL, NULL};
	struct yoc_error e;
	struct yoc_shard_reshard st;
	int pending[2] = {1, 1}, ok = 0, failed = 0;
	source(dir, sizeof dir);
	assert_int_equal(yoc_store_open(&src, dir, 0, &e), 0);
	for (unsigned long n = 1; n < 5000 && !ok; n++) {
		targets(dir, 2, dst, dirs);
		yoc_alloc_fail_at(n);
		int rc = yoc_shard_reshard(&src, 1, dst, 2, pending, NULL, NULL, &st, &e);
		yoc_alloc_fail_at(0);
		if (rc == 0) {
			ok = 1;
		} else {
			failed++;
			assert_true(rc < 0);
			for (int t = 0; t < 2; t++)
				assert_int_equal(tu_sql_int(yoc_store_db(dst[t]), "select count(*) from files"), 0);
		}
		for (int t = 0; t < 2; t++)
			yoc_store_close(dst[t]);
	}
	assert_true(ok);
	assert_true(failed > 10);
	yoc_store_close(src);
	tu_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_alloc_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

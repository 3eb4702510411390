/*
** Unit tests for src/sqlext: the activity tables on a small dataset written
** through the store's catalog and segment APIs, with what the synthetic
** feeds never hold: HES null dates as activity dates, a segment with no
** person or date column, unknown columns whose names clash, empty cells.
** Each pushed-down query is compared with the same query with its
** constraint hidden (+col); allocation failures at every step of a query
** must fail cleanly. tests/cli/sql.sh tests against yoc export.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sqlext/sqlext.h"
#include "store/store.h"
#include "testutil.h"
#include "yoc/date.h"

static char g_dir[512];

/* One apc file: ncols columns named in names, rows given by the callback. */
static void add_file(yoc_store *s, int64_t load_id, const char *period, size_t ncols,
		     const char *const *names, const int *types,
		     void (*row)(struct yoc_segw *w, int r), int nrows)
{
	struct yoc_error e;
	struct yoc_catalog_new_file nf = {load_id, "apc", "RA1", period, period, period, ",", 10, 0};
	int64_t fid = 0;
	char seg[64];
	struct yoc_segw *w = NULL;
	assert_int_equal(yoc_catalog_file_begin(s, &e), 0);
	assert_int_equal(yoc_catalog_file_add(s, &nf, &fid, &e), 0);
	assert_int_equal(yoc_segw_create(&w, YOC_KIND_APC, ncols, names, NULL, types), 0);
	for (int r = 0; r < nrows; r++) {
		row(w, r);
		yoc_segw_row_end(w);
	}
	snprintf(seg, sizeof seg, "f%lld.seg", (long long)fid);
	assert_int_equal(yoc_segw_write(w, s, seg, &e), 0);
	yoc_segw_free(w);
	assert_int_equal(yoc_catalog_file_counts(s, fid, seg, nrows, nrows, 0, 0, &e), 0);
	assert_int_equal(yoc_catalog_file_end(s, 1, &e), 0);
}

static const char *const pseudo[] = {"aa", "bb", "cc", ""};

/* 40 rows: pseudonyms aa, bb, cc and empty; dates from 2023-01-01, one HES null. */
static void row1(struct yoc_segw *w, int r)
{
	const char *p = pseudo[r % 4];
	int32_t d = r == 7 ? YOC_DATE_HES_NULL : r == 9 ? YOC_DATE_NONE :
		yoc_date_from_ymd(2023, 1, 1) + r;
	char x[16];
	int n = snprintf(x, sizeof x, "x%d", r);
	yoc_segw_text(w, 0, p, strlen(p));
	yoc_segw_i32(w, 1, d);
	yoc_segw_i64(w, 2, r % 5 ? -1234 + r : YOC_INT_NONE);
	yoc_segw_i64(w, 3, r + 2);
	yoc_segw_text(w, 4, x, r % 3 ? (size_t)n : 0);
	yoc_segw_text(w, 5, "L", 1);
}

/* 10 rows with neither a pseudonym nor an activity date. */
static void row2(struct yoc_segw *w, int r)
{
	yoc_segw_text(w, 0, "A", 1);
	yoc_segw_i64(w, 1, r + 2);
}

static int setup(void **state)
{
	(void)state;
	struct yoc_error e;
	yoc_store *s = NULL;
	int64_t load_id = 0;
	assert_int_equal(tu_temp_dir(g_dir, sizeof g_dir, "sqlext"), 0);
	assert_int_equal(yoc_store_init(g_dir, &e), 0);
	assert_int_equal(yoc_store_open(&s, g_dir, YOC_STORE_WRITE, &e), 0);
	assert_int_equal(yoc_catalog_load_begin(s, &load_id, &e), 0);
	const char *n1[] = {"PSEUDO_ID", "EPISTART", "COST", "_LINE", "Extra", "line"};
	int t1[] = {YOC_COL_TEXT, YOC_COL_DATE, YOC_COL_MONEY, YOC_COL_INT, YOC_COL_TEXT,
		    YOC_COL_TEXT};
	add_file(s, load_id, "2023-01", 6, n1, t1, row1, 40);
	const char *n2[] = {"ADMIMETH", "_LINE"};
	int t2[] = {YOC_COL_TEXT, YOC_COL_INT};
	add_file(s, load_id, "2023-02", 2, n2, t2, row2, 10);
	struct yoc_catalog_load c = {2, 50, 50, 0, 0, 0};
	assert_int_equal(yoc_catalog_load_end(s, load_id, &c, 0, &e), 0);
	yoc_store_close(s);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rm_rf(g_dir);
	return 0;
}

static sqlite3 *open_db(const struct yoc_sqlext_stats **st)
{
	char path[700];
	sqlite3 *db = NULL;
	snprintf(path, sizeof path, "%s/yoc.db", g_dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(yoc_sqlext_register(db, st), SQLITE_OK);
	return db;
}

/* The rows of a query as one string: cells "|"-separated, rows ";"-ended. */
static char *rows(sqlite3 *db, const char *sql)
{
	static char out[8192];
	sqlite3_stmt *st = NULL;
	size_t o = 0;
	out[0] = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(out, sizeof out, "error: %s", sqlite3_errmsg(db));
		return out;
	}
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const char *z = (const char *)sqlite3_column_text(st, i);
			o += (size_t)snprintf(out + o, sizeof out - o, "%s%s",
					      z ? z : (sqlite3_column_type(st, i) == SQLITE_NULL ? "NULL" : ""),
					      i + 1 < sqlite3_column_count(st) ? "|" : ";");
			assert_true(o < sizeof out);
		}
	if (rc != SQLITE_DONE)
		snprintf(out, sizeof out, "error: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return out;
}

/* A query and the same with "+" before the constrained column give the same rows. */
static void same_hidden(sqlite3 *db, const char *where, const char *hidden, const char *want)
{
	char a[8192], q[512];
	snprintf(q, sizeof q, "SELECT file_id, line FROM apc WHERE %s", where);
	snprintf(a, sizeof a, "%s", rows(db, q));
	snprintf(q, sizeof q, "SELECT file_id, line FROM apc WHERE %s", hidden);
	assert_string_equal(a, rows(db, q));
	if (want)
		assert_string_equal(a, want);
}

static void test_columns_and_values(void **state)
{
	(void)state;
	sqlite3 *db = open_db(NULL);
	/* the kind's fields, then the unknown columns, a clash with "line" renamed */
	assert_string_equal(rows(db, "SELECT group_concat(name) FROM pragma_table_info('apc')"
				 " WHERE name NOT LIKE 'DIAG%' AND name NOT LIKE 'OPERTN%'"
				 " AND cid < 5 OR name IN ('COST', 'Extra', 'line_2')"),
			    "file_id,line,PSEUDO_ID,NHSNO_STATUS,LINK_STATUS,COST,Extra,line_2;");
	assert_string_equal(rows(db, "SELECT type FROM pragma_table_info('apc') WHERE name = 'COST'"),
			    "INTEGER;");
	/* row 1 (line 3): bb, 2023-01-02, pence, x1; row 3: empty pseudonym is NULL */
	assert_string_equal(rows(db, "SELECT PSEUDO_ID, EPISTART, COST, Extra, line_2, ADMIMETH"
				 " FROM apc WHERE line IN (3, 5) AND file_id = 1"),
			    "bb|2023-01-02|-1233|x1|L|NULL;NULL|2023-01-04|-1231|NULL|L|NULL;");
	assert_string_equal(rows(db, "SELECT EPISTART, typeof(COST) FROM apc WHERE line IN (9, 11, 2) AND file_id = 1"),
			    "2023-01-01|null;1800-01-01|integer;NULL|integer;");
	/* the second file: no pseudonym, no date */
	assert_string_equal(rows(db, "SELECT count(*), count(PSEUDO_ID), count(EPISTART), min(ADMIMETH)"
				 " FROM apc WHERE file_id = 2"),
			    "10|0|0|A;");
	assert_string_equal(rows(db, "SELECT count(*) FROM apc"), "50;");
	sqlite3_close(db);
}

static void test_pushdown(void **state)
{
	(void)state;
	const struct yoc_sqlext_stats *st = NULL;
	sqlite3 *db = open_db(&st);
	/* HES null date as an activity date: at 1800-01-01 */
	same_hidden(db, "EPISTART = '1800-01-01'", "+EPISTART = '1800-01-01'", "1|9;");
	same_hidden(db, "EPISTART < '1900-01-01'", "+EPISTART < '1900-01-01'", "1|9;");
	same_hidden(db, "EPISTART >= '2023-01-30'", "+EPISTART >= '2023-01-30'", NULL);
	same_hidden(db, "EPISTART > '2023-01-30' AND EPISTART <= '2023-02-02'",
		    "+EPISTART > '2023-01-30' AND +EPISTART <= '2023-02-02'", NULL);
	same_hidden(db, "EPISTART BETWEEN '2023-01-03' AND '2023-01-02'",
		    "+EPISTART BETWEEN '2023-01-03' AND '2023-01-02'", "");
	same_hidden(db, "EPISTART = NULL", "+EPISTART = NULL", "");
	same_hidden(db, "EPISTART = '2023-02-30'", "+EPISTART = '2023-02-30'", "");
	/* a number: the column's TEXT affinity makes it text (CAST keeps it, + would not) */
	same_hidden(db, "EPISTART > 20230101", "CAST(EPISTART AS TEXT) > 20230101", "");
	/* persons: text, IN with NULL and '', a number, NOCASE */
	same_hidden(db, "PSEUDO_ID = 'bb'", "+PSEUDO_ID = 'bb'", NULL);
	/* the first lookup in a segment reads its person column, the next ones its index */
	assert_int_equal(st->person_scans, 1);
	assert_int_equal(st->person_index, 0);
	same_hidden(db, "PSEUDO_ID IN ('cc', NULL, '', 'aa')", "+PSEUDO_ID IN ('cc', NULL, '', 'aa')", NULL);
	assert_int_equal(st->person_scans, 1);
	assert_int_equal(st->person_index, 1);
	same_hidden(db, "PSEUDO_ID = ''", "+PSEUDO_ID = ''", "");
	same_hidden(db, "PSEUDO_ID = 12", "+PSEUDO_ID = 12", "");
	same_hidden(db, "PSEUDO_ID = 'BB' COLLATE NOCASE", "+PSEUDO_ID = 'BB' COLLATE NOCASE", NULL);
	assert_string_equal(rows(db, "SELECT count(*) FROM apc WHERE PSEUDO_ID = 'BB' COLLATE NOCASE"),
			    "10;");
	same_hidden(db, "PSEUDO_ID = 'aa' AND EPISTART BETWEEN '2023-01-05' AND '2023-01-20'",
		    "+PSEUDO_ID = 'aa' AND +EPISTART BETWEEN '2023-01-05' AND '2023-01-20'",
		    "1|6;1|10;1|14;1|18;");
	/* a date range outside the first file: it is passed over, and the second has no dates */
	uint64_t skipped = st->skipped, examined = st->rows;
	assert_string_equal(rows(db, "SELECT count(*) FROM apc WHERE EPISTART > '2024-01-01'"), "0;");
	assert_int_equal(st->skipped - skipped, 2);
	assert_int_equal(st->rows - examined, 0);
	/* probed person by person: the index answers from the second lookup on */
	uint64_t idx = st->person_index;
	assert_string_equal(rows(db, "WITH p(id) AS (VALUES ('aa'), ('bb'), ('zz'), ('cc'))"
				 " SELECT p.id, count(a.line) FROM p CROSS JOIN apc a"
				 " ON a.PSEUDO_ID = p.id GROUP BY p.id ORDER BY p.id"),
			    "aa|10;bb|10;cc|10;");
	assert_true(st->person_index > idx);
	sqlite3_close(db);
}

static void test_errors(void **state)
{
	(void)state;
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(yoc_sqlext_register(db, NULL), SQLITE_OK);
	assert_non_null(strstr(rows(db, "SELECT count(*) FROM apc"), "open DIR/yoc.db"));
	sqlite3_close(db);
	db = open_db(NULL);
	assert_non_null(strstr(rows(db, "DELETE FROM apc"), "may not be modified"));
	sqlite3_close(db);
}

/* Every allocation of opening the tables and running a query may fail: an error, never a crash. */
static void test_alloc_failures(void **state)
{
	(void)state;
	int done = 0;
	char want[256];
	sqlite3 *db0 = open_db(NULL);
	snprintf(want, sizeof want, "%s", rows(db0, "SELECT count(*), sum(COST) FROM apc"
						" WHERE +PSEUDO_ID IN ('aa', 'bb') AND +EPISTART > '2023-01-02'"));
	sqlite3_close(db0);
	assert_string_equal(want, "17|-16966;");
	for (unsigned long k = 1; k < 400 && !done; k++) {
		sqlite3 *db = open_db(NULL);
		yoc_alloc_fail_at(k);
		const char *r = rows(db, "SELECT count(*), sum(COST) FROM apc WHERE PSEUDO_ID IN ('aa', 'bb')"
				    " AND EPISTART > '2023-01-02'");
		yoc_alloc_fail_at(0);
		done = strcmp(r, want) == 0;
		if (!done)
			assert_non_null(strstr(r, "error"));
		sqlite3_close(db);
	}
	assert_true(done);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_columns_and_values), cmocka_unit_test(test_pushdown),
		cmocka_unit_test(test_errors), cmocka_unit_test(test_alloc_failures),
	};
	return cmocka_run_group_tests_name("sqlext", tests, setup, teardown);
}

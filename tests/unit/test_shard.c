/*
** src/shard without MPI: the shard of a pseudonym (FNV-1a 64 test vectors),
** and the routing of a sharded load: a file cut into K parts and each part
** rebuilt must keep every line where it was (rows of other shards as empty
** lines) with LF, CRLF and lone CR line ends, a quoted cell across lines,
** rows without a pseudonym on the reader's shard, and files that go whole
** (not a feed) or refused (identifiers in the values) to every shard.
** The report's small tables merged flat and up a tree as three ranks do
** ((0 + 1) + 2) give the same catalog, with the shards' sums.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "shard/shard.h"

#define P(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
	     c c c c c c c c c c c c c c c c c c c c c c c c

static void test_hash(void **state)
{
	(void)state;
	/* the published FNV-1a 64 vectors */
	assert_true(yoc_shard_hash("", 0) == 0xcbf29ce484222325ULL);
	assert_true(yoc_shard_hash("a", 1) == 0xaf63dc4c8601ec8cULL);
	assert_true(yoc_shard_hash("foobar", 6) == 0x85944171f73967e8ULL);
	assert_int_equal(yoc_shard_of("a", 1, 1), 0);
	assert_int_equal(yoc_shard_of("a", 1, 3), (int)(0xaf63dc4c8601ec8cULL % 3));
}

/* The lines of text split at LF, CRLF or a lone CR, without their ends. */
static size_t lines(const char *p, size_t n, const char **at, size_t *len, size_t cap)
{
	size_t k = 0, s = 0;
	for (size_t i = 0; i <= n && k < cap; i++) {
		if (i < n && p[i] != '\n' && p[i] != '\r')
			continue;
		at[k] = p + s;
		len[k++] = i - s;
		if (i < n && p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
			i++;
		s = i + 1;
	}
	return k;
}

/* Splits data into k parts (reader rank self) and checks each rebuilt file. */
static void roundtrip(const char *name, const char *data, int k, int self)
{
	struct yoc_buf part[4], file[4];
	struct yoc_error e;
	struct yoc_shard_split_stats st = {0, 0};
	size_t n = strlen(data);
	yoc_error_clear(&e);
	for (int s = 0; s < k; s++) {
		yoc_buf_init(&part[s], 0);
		yoc_buf_init(&file[s], 0);
	}
	assert_int_equal(yoc_shard_split(name, data, n, 7, -1, NULL, 0, k, self, part, &st, &e), 0);
	const char *ol[64], *pl[64];
	size_t on[64], pn[64];
	size_t no = lines(data, n, ol, on, 64);
	size_t seen[64] = {0};
	for (int s = 0; s < k; s++) {
		struct yoc_shard_part pt;
		size_t pos = 0;
		assert_int_equal(yoc_shard_join(part[s].data, part[s].len, &pos, &pt, &file[s], &e), 0);
		assert_int_equal(pos, part[s].len);
		assert_int_equal(pt.index, 7);
		assert_false(pt.whole);
		assert_false(pt.refused);
		assert_int_equal(pt.bytes, n);
		size_t np = lines(file[s].data, file[s].len, pl, pn, 64);
		assert_true(np <= no);
		/* the header in every part; every other line its own or empty */
		assert_int_equal(pn[0], on[0]);
		for (size_t i = 1; i < np; i++) {
			if (!pn[i])
				continue;
			assert_int_equal(pn[i], on[i]);
			assert_memory_equal(pl[i], ol[i], on[i]);
			seen[i]++;
		}
		/* the rows of a part are its shard's; rows without a pseudonym or
		 * of the wrong width (ragged: the reader's) are checked below */
		for (size_t i = 1; i < np; i++) {
			size_t commas = 0;
			for (size_t j = 0; j < pn[i]; j++)
				commas += pl[i][j] == ',';
			if (!pn[i] || pn[i] < 64 || pl[i][64] != ',' || commas != 5)
				continue;
			int want = yoc_shard_of(pl[i], 64, k);
			assert_int_equal(s, want);
		}
	}
	for (size_t i = 1; i < no; i++)
		if (on[i])
			assert_int_equal(seen[i], 1); /* each line in exactly one part */
	/* the row without a pseudonym and the ragged one: on the reader's shard */
	const char *marks[] = {",missing,", P("5")};
	for (size_t m = 0; m < 2; m++) {
		const char *miss = strstr(data, marks[m]);
		if (!miss)
			continue;
		size_t line = 0;
		for (const char *p = data; p < miss; p++)
			if (*p == '\n' || (*p == '\r' && p[1] != '\n'))
				line++;
		const char *a[64];
		size_t l[64];
		size_t np = lines(file[self].data, file[self].len, a, l, 64);
		assert_true(line < np);
		assert_true(l[line] > 0);
	}
	for (int s = 0; s < k; s++) {
		yoc_buf_free(&part[s]);
		yoc_buf_free(&file[s]);
	}
}

static char *with_eol(const char *lf, const char *eol)
{
	static char buf[8192];
	size_t n = 0;
	for (const char *p = lf; *p && n + 3 < sizeof buf; p++) {
		if (*p == '\n') {
			memcpy(buf + n, eol, strlen(eol));
			n += strlen(eol);
		} else {
			buf[n++] = *p;
		}
	}
	buf[n] = 0;
	return buf;
}

static const char apc[] =
	"PSEUDO_ID,NHSNO_STATUS,EPISTART,ADMIMETH,EPIORDER,COST\n"
	P("1") ",valid,2023-01-05,21,1,1234.50\n"
	P("2") ",valid,2023-01-05,21,1,1\n"
	"\n"
	P("3") ",valid,2023-01-06,11,1,10\n"
	",missing,2023-01-06,11,1,10\n"
	P("4") ",valid,\"2023-\n01-07\",21,1,1\n"
	P("1") ",valid,2023-02-05,21,1,2\n"
	P("5") ",valid,2023-02-05,21,1\n"
	P("6") ",valid,2023-02-06,21,1,3\n";

static void test_split_join(void **state)
{
	(void)state;
	const char *eols[] = {"\n", "\r\n", "\r"};
	for (int k = 1; k <= 4; k++)
		for (int self = 0; self < k; self++)
			for (size_t i = 0; i < 3; i++)
				roundtrip("RA1_2023-01.csv", with_eol(apc, eols[i]), k, self);
	/* no final line end */
	char nofinal[sizeof apc];
	memcpy(nofinal, apc, sizeof apc);
	nofinal[strlen(nofinal) - 1] = 0;
	roundtrip("RA1_2023-01.csv", nofinal, 3, 1);
}

static void test_whole_and_refused(void **state)
{
	(void)state;
	struct yoc_buf part[2], file;
	struct yoc_error e;
	struct yoc_shard_split_stats st = {0, 0};
	struct yoc_shard_part pt;
	yoc_error_clear(&e);
	yoc_buf_init(&file, 0);
	/* not a feed: the whole file to every shard */
	const char notfeed[] = "not,a,feed\n1,2,3\n";
	for (int s = 0; s < 2; s++)
		yoc_buf_init(&part[s], 0);
	assert_int_equal(yoc_shard_split("notes.csv", notfeed, strlen(notfeed), 1, -1, NULL, 0, 2, 0,
					 part, &st, &e), 0);
	for (int s = 0; s < 2; s++) {
		size_t pos = 0;
		assert_int_equal(yoc_shard_join(part[s].data, part[s].len, &pos, &pt, &file, &e), 0);
		assert_true(pt.whole);
		assert_int_equal(file.len, strlen(notfeed));
		assert_memory_equal(file.data, notfeed, file.len);
		yoc_buf_reset(&part[s]);
	}
	/* NHS numbers in a column: refused for every shard, with why */
	char ids[2048];
	size_t n = (size_t)snprintf(ids, sizeof ids, "PSEUDO_ID,APPTDATE,ATTENDED,ATTENDKEY\n");
	for (int i = 1; i <= 6; i++)
		n += (size_t)snprintf(ids + n, sizeof ids - n, "%064d,2023-01-0%d,5,9434765919\n", i, i);
	assert_int_equal(yoc_shard_split("OPP_2023-01.csv", ids, n, 2, -1, NULL, 0, 2, 1, part, &st,
					 &e), 0);
	for (int s = 0; s < 2; s++) {
		size_t pos = 0;
		assert_int_equal(yoc_shard_join(part[s].data, part[s].len, &pos, &pt, &file, &e), 0);
		assert_true(pt.refused);
		assert_int_equal(pt.rows, 6);
		assert_non_null(strstr(pt.why, "NHS numbers"));
		/* a message cut short is broken, never read past its end */
		pos = 0;
		assert_int_equal(yoc_shard_join(part[s].data, part[s].len - 3, &pos, &pt, &file, &e),
				 YOC_EDATA);
		yoc_buf_free(&part[s]);
	}
	yoc_buf_free(&file);
}

/* ---- the report's small tables, merged flat and up a tree ---------------- */

/* A shard's catalog with a few of the report's tables: files (summed by
 * file_id), linkage (by file and month, months differing by shard),
 * analyse_run (person_years summed), meta and file_columns (the first's),
 * person_year (schema only). */
static void small_catalog(const char *path, int r)
{
	sqlite3 *db = NULL;
	unlink(path);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *sql = sqlite3_mprintf(
		"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
		"INSERT INTO meta VALUES ('shard', '%d/3');"
		"CREATE TABLE file_columns (file_id INTEGER, col TEXT);"
		"INSERT INTO file_columns VALUES (1, 'a'), (2, 'b');"
		"CREATE TABLE files (file_id INTEGER PRIMARY KEY, path TEXT, rows INTEGER, loaded "
		"INTEGER, quarantined INTEGER, flagged INTEGER);"
		"INSERT INTO files VALUES (1, 'x.csv', %d, %d, 1, 0), (2, 'y.csv', %d, %d, 0, %d);"
		"CREATE TABLE linkage (file_id INTEGER, month TEXT, rows INTEGER, linked INTEGER, "
		"no_pseudonym INTEGER, not_registered INTEGER);"
		"INSERT INTO linkage VALUES (1, '2021-0%d', %d, %d, 0, 1), (2, '2021-05', 3, 2, 1, 0);"
		"CREATE TABLE analyse_run (key TEXT, value TEXT);"
		"INSERT INTO analyse_run VALUES ('version', 'v'), ('person_years', '%d');"
		"CREATE TABLE person_year (pseudo_id TEXT, fyear TEXT, cost_total INTEGER);"
		"INSERT INTO person_year VALUES ('p%d', '2021/22', 5);",
		r, 10 + r, 9 + r, 20 * r, 20 * r, r, 1 + r % 2, 7 + r, 6, 100 + r, r);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_free(sql);
	sqlite3_close(db);
}

static void dump(const char *path, struct yoc_buf *out)
{
	static const char *const q[] = {
		"SELECT * FROM meta", "SELECT * FROM file_columns ORDER BY rowid",
		"SELECT * FROM files ORDER BY file_id", "SELECT * FROM linkage ORDER BY rowid",
		"SELECT * FROM analyse_run ORDER BY rowid", "SELECT count(*) FROM person_year"};
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
		sqlite3_stmt *st = NULL;
		assert_int_equal(sqlite3_prepare_v2(db, q[i], -1, &st, NULL), SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			for (int c = 0; c < sqlite3_column_count(st); c++)
				yoc_buf_printf(out, "%s|", (const char *)sqlite3_column_text(st, c));
			yoc_buf_putc(out, '\n');
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
}

static void test_merge_tree(void **state)
{
	(void)state;
	char path[4][256];
	struct yoc_buf img[3], flat, tree;
	struct yoc_error e;
	yoc_error_clear(&e);
	for (int r = 0; r < 4; r++)
		snprintf(path[r], sizeof path[r], "%s/yoc_mtree_%d_%d.db",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid(), r);
	for (int r = 0; r < 3; r++) {
		void *p = NULL;
		size_t n = 0;
		small_catalog(path[r], r);
		assert_int_equal(yoc_shard_pack_rank(path[r], r, &p, &n, &e), 0);
		yoc_buf_init(&img[r], 0);
		assert_int_equal(yoc_buf_append(&img[r], p, n), 0);
		sqlite3_free(p);
		unlink(path[r]);
	}
	/* flat: the three at once */
	assert_int_equal(yoc_shard_merge(path[3], img, 3, &e), 0);
	yoc_buf_init(&flat, 0);
	dump(path[3], &flat);
	/* a tree as three ranks merge: (0 + 1) + 2 */
	void *m01 = NULL;
	size_t n01 = 0;
	assert_int_equal(yoc_shard_merge_image(img, 2, &m01, &n01, &e), 0);
	struct yoc_buf two[2] = {{m01, n01, n01, 0}, img[2]};
	assert_int_equal(yoc_shard_merge(path[3], two, 2, &e), 0);
	yoc_buf_init(&tree, 0);
	dump(path[3], &tree);
	assert_string_equal(flat.data, tree.data);
	/* and the sums are the shards': rows 10 + 11 + 12 of file 1, 100 + 101 +
	 * 102 person-years, the first shard's meta, no person-year rows */
	assert_non_null(strstr(flat.data, "1|x.csv|33|30|3|0|"));
	assert_non_null(strstr(flat.data, "person_years|303|"));
	assert_non_null(strstr(flat.data, "shard|0/3|"));
	assert_non_null(strstr(flat.data, "\n0|\n"));
	sqlite3_free(m01);
	for (int r = 0; r < 3; r++)
		yoc_buf_free(&img[r]);
	yoc_buf_free(&flat);
	yoc_buf_free(&tree);
	unlink(path[3]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_split_join),
		cmocka_unit_test(test_whole_and_refused),
		cmocka_unit_test(test_merge_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

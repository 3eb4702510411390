/*
** libFuzzer target for the selection tool's request parser (src/server,
** yoc_sel_query): the input is the body of POST /api/select.
**
** Checked, over a small dataset made once in a temporary folder: a request
** is either answered or refused with a status and a message; an answer is
** JSON with a count; a practice user's answer never counts more people than
** its practice has (20 of the 40 rows), whatever the request; the extract of
** the same request succeeds or fails with it and has one line a person. A failed check
** aborts.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "server/server.h"

#define CHECK(x) do { if (!(x)) { \
	fprintf(stderr, "fuzz_select: check failed: %s (line %d)\n", #x, __LINE__); \
	abort(); } } while (0)

static yoc_sel *sel;
static char dir[] = "/tmp/yoc_fuzz_select_XXXXXX";

static void cleanup(void)
{
	static const char *const files[] = {"yoc.db", "serve/cellkey.key", "serve", NULL};
	char p[96];
	yoc_sel_free(sel);
	for (int i = 0; files[i]; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		if (unlink(p) != 0)
			rmdir(p);
	}
	rmdir(dir);
}

static void setup(void)
{
	char path[64];
	struct yoc_error e;
	sqlite3 *db;
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/yoc.db", dir);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db,
		"CREATE TABLE person_year(pseudo_id TEXT, fyear TEXT, age INTEGER, sex TEXT,"
		" practice TEXT, imd_decile INTEGER, copd INTEGER, ckd INTEGER, ltc_count INTEGER,"
		" band TEXT, emergency_admissions INTEGER, other_nonelective_admissions INTEGER,"
		" bed_days INTEGER, emergency_bed_days INTEGER, cost_total INTEGER,"
		" cost_elective INTEGER, cost_gp INTEGER);"
		"CREATE TABLE analyse_run(key TEXT, value TEXT);"
		"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 39)"
		" INSERT INTO person_year SELECT printf('%04d', i), '2023/24', i * 2, CASE i % 3 WHEN 0"
		" THEN '1' WHEN 1 THEN '2' ELSE NULL END, CASE WHEN i < 20 THEN 'P1' ELSE 'P2' END,"
		" 1 + i % 10, i % 2, i % 3 = 0, i % 4, substr('ABCDE', 1 + i % 5, 1), i % 3, 0, i % 7,"
		" 0, i * 100, i * 50, i * 50 FROM n;",
		NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK(yoc_sel_load(dir, NULL, &sel, &e) == 0);
	CHECK(yoc_sel_rows(sel) == 40);
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!sel)
		setup();
	for (int role = 0; role < 2; role++) {
		struct yoc_buf out, filt;
		struct yoc_error e;
		yoc_buf_init(&out, 1 << 22);
		yoc_buf_init(&filt, 1 << 16);
		int rc = yoc_sel_query(sel, (const char *)data, size,
				       role ? YOC_ROLE_PRACTICE : YOC_ROLE_ANALYST, role ? "P1" : NULL,
				       &out, &filt, &e);
		if (rc == 0) {
			json_error_t je;
			json_t *o = json_loadb(out.data, out.len, 0, &je);
			CHECK(o != NULL);
			json_t *c = json_object_get(o, "count");
			CHECK(c != NULL && (json_is_null(c) || json_is_integer(c)));
			/* 20 people, perturbed by at most 2 and rounded to 5 */
			if (role && json_is_integer(c))
				CHECK(json_integer_value(c) <= 25);
			json_decref(o);
		} else {
			CHECK(rc < 0 && e.msg[0]);
		}
		yoc_buf_free(&out);
		yoc_buf_free(&filt);
		/* the extract selects the same people: one CSV line each, under a header */
		size_t rows = 0, lines = 0;
		yoc_buf_init(&out, 1 << 22);
		int rc2 = yoc_sel_extract(sel, (const char *)data, size,
					  role ? YOC_ROLE_PRACTICE : YOC_ROLE_ANALYST, role ? "P1" : NULL,
					  &out, NULL, &rows, &e);
		CHECK((rc2 == 0) == (rc == 0));
		for (size_t i = 0; i < out.len; i++)
			lines += out.data[i] == '\n';
		if (rc2 == 0)
			CHECK(lines == rows + 1 && rows <= (role ? 20u : 40u));
		yoc_buf_free(&out);
	}
	return 0;
}

/*
** libFuzzer target for the rule language (src/rule): the input is a rule.
**
** Checked: compile either succeeds or fails with a status and a column
** inside the text (+1 for the end); a compiled rule explains, its normalised
** text compiles again to the same normalised text, and evaluating both over
** a small in-memory person_year (with NULLs and a look-back year) selects
** the same rows. A failed check aborts.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule/rule.h"

#define CHECK(x) do { if (!(x)) { \
	fprintf(stderr, "fuzz_rule: check failed: %s (line %d)\n", #x, __LINE__); \
	abort(); } } while (0)

static sqlite3 *db;
static yoc_rule_schema *sc;

static void setup(void)
{
	struct yoc_error e;
	CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db,
		"CREATE TABLE person_year(pseudo_id TEXT, fyear TEXT, age INTEGER, practice TEXT,"
		" copd INTEGER, ckd INTEGER, cost_total INTEGER, w REAL);"
		"CREATE TABLE risk_score(pseudo_id TEXT, fyear TEXT, probability REAL, tier TEXT);"
		"INSERT INTO person_year VALUES ('a','2023/24',70,'P1',1,0,100,0.5),"
		" ('b','2023/24',NULL,NULL,0,1,0,NULL), ('c','2023/24',3,'P2',1,1,-5,2.0),"
		" ('a','2022/23',69,'P1',0,0,50,1.0), ('c','2022/23',NULL,'P3',1,0,7,NULL);"
		"INSERT INTO risk_score VALUES ('a','2023/24',0.9,'top0.5'), ('c','2023/24',0.1,'rest');",
		NULL, NULL, NULL) == SQLITE_OK);
	CHECK(yoc_rule_schema_load(db, &sc, &e) == 0);
}

static void rows(yoc_rule *r, char *out)
{
	yoc_rule_frame *f = NULL;
	struct yoc_rule_result res;
	struct yoc_error e;
	CHECK(yoc_rule_frame_load(db, "2023/24", &r, 1, &f, &e) == 0);
	CHECK(yoc_rule_eval(r, f, &res, &e) == 0);
	CHECK(res.nrows == 3);
	for (size_t i = 0; i < 3; i++)
		out[i] = (char)('0' + yoc_rule_bit(res.selected, i));
	out[3] = 0;
	yoc_rule_result_free(&res);
	yoc_rule_frame_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!db)
		setup();
	if (size > 4096)
		return 0;
	char *text = malloc(size + 1);
	CHECK(text);
	memcpy(text, data, size);
	text[size] = 0;
	yoc_rule *r = NULL, *r2 = NULL;
	struct yoc_error e;
	yoc_error_clear(&e);
	int rc = yoc_rule_compile(text, sc, &r, &e);
	if (rc) {
		CHECK(r == NULL);
		CHECK(rc == YOC_EPARSE || rc == YOC_ENOTFOUND || rc == YOC_ETOOBIG);
		CHECK(e.col >= 1 && (size_t)e.col <= size + 1);
		free(text);
		return 0;
	}
	struct yoc_buf b, b2, ex;
	yoc_buf_init(&b, 0);
	yoc_buf_init(&b2, 0);
	yoc_buf_init(&ex, 0);
	CHECK(yoc_rule_explain(r, &ex) == 0);
	CHECK(yoc_rule_normalised(r, &b) == 0);
	CHECK(yoc_rule_nclauses(r) >= 1);
	rc = yoc_rule_compile(b.data, sc, &r2, &e);
	if (rc != 0)
		fprintf(stderr, "normalised '%s' fails: %s\n", b.data, e.msg);
	CHECK(rc == 0);
	CHECK(yoc_rule_normalised(r2, &b2) == 0);
	CHECK(strcmp(b.data, b2.data) == 0);
	char x[4], y[4];
	rows(r, x);
	rows(r2, y);
	CHECK(strcmp(x, y) == 0);
	yoc_buf_free(&b);
	yoc_buf_free(&b2);
	yoc_buf_free(&ex);
	yoc_rule_free(r);
	yoc_rule_free(r2);
	free(text);
	return 0;
}

/*
** Unit tests of the rule language (src/rule): errors and their columns,
** every operator, SQL's three-valued logic, empty sets, look-backs, reasons
** and allocation failure at every point.
**
** The data is a small in-memory SQLite database holding person_year (with
** NULLs, persons absent from the year before) and risk_score. Every rule's
** selection is compared with SQLite running the same condition, so the
** expected rows are computed independently, not written down by hand.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rule/rule.h"

static sqlite3 *make_db(void)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	const char *sql =
		"CREATE TABLE person_year(pseudo_id TEXT NOT NULL, fyear TEXT NOT NULL, age INTEGER,"
		" sex TEXT, practice TEXT, copd INTEGER NOT NULL, dementia INTEGER NOT NULL,"
		" ckd INTEGER NOT NULL, band TEXT, emergency_admissions INTEGER, cost_total INTEGER,"
		" weight REAL);"
		"CREATE TABLE risk_score(pseudo_id TEXT NOT NULL, fyear TEXT NOT NULL,"
		" probability REAL NOT NULL, rank INTEGER NOT NULL, percentile REAL NOT NULL,"
		" tier TEXT NOT NULL);"
		"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 59)"
		" INSERT INTO person_year SELECT printf('p%02d', i), '2023/24',"
		" CASE WHEN i % 7 = 3 THEN NULL ELSE (i * 37) % 95 END,"
		" CASE i % 3 WHEN 0 THEN '1' WHEN 1 THEN '2' ELSE NULL END,"
		" CASE WHEN i % 5 = 4 THEN NULL ELSE printf('P9000%d', i % 5) END,"
		" i % 2, (i / 3) % 2, (i / 5) % 2,"
		" CASE i % 4 WHEN 0 THEN '0-4' WHEN 1 THEN '5-14' WHEN 2 THEN 'A' ELSE 'b''x' END,"
		" CASE WHEN i % 11 = 5 THEN NULL ELSE i % 4 END,"
		" (i * 7919) % 1000 - 100, CASE WHEN i % 6 = 1 THEN NULL ELSE (i % 9) / 4.0 END"
		" FROM n;"
		/* the year before: two thirds of the persons, other values */
		"INSERT INTO person_year SELECT pseudo_id, '2022/23', age - 1, sex, practice, copd,"
		" 0, ckd, band, (CAST(substr(pseudo_id, 2) AS INTEGER) * 3) % 5, cost_total / 2, weight"
		" FROM person_year WHERE fyear = '2023/24' AND CAST(substr(pseudo_id, 2) AS INTEGER) % 3 != 2;"
		/* scored: all but every eighth person */
		"INSERT INTO risk_score SELECT pseudo_id, fyear, (CAST(substr(pseudo_id, 2) AS INTEGER) % 13) / 13.0,"
		" 0, (CAST(substr(pseudo_id, 2) AS INTEGER) * 17) % 100,"
		" CASE WHEN CAST(substr(pseudo_id, 2) AS INTEGER) % 10 = 0 THEN 'top0.5'"
		" WHEN CAST(substr(pseudo_id, 2) AS INTEGER) % 10 < 3 THEN '2-5' ELSE 'rest' END"
		" FROM person_year WHERE fyear = '2023/24' AND CAST(substr(pseudo_id, 2) AS INTEGER) % 8 != 7;";
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("setup: %s", err);
	return db;
}

struct ctx {
	sqlite3 *db;
	yoc_rule_schema *sc;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof *c);
	struct yoc_error e;
	c->db = make_db();
	assert_int_equal(yoc_rule_schema_load(c->db, &c->sc, &e), 0);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	yoc_rule_schema_free(c->sc);
	sqlite3_close(c->db);
	free(c);
	return 0;
}

/* Pseudo_ids the rule selects in 2023/24, as "p01 p07 ...". */
static void rule_rows(struct ctx *c, const char *rule, char *out, size_t cap, size_t *nclause)
{
	yoc_rule *r = NULL;
	yoc_rule_frame *f = NULL;
	struct yoc_rule_result res;
	struct yoc_error e;
	if (yoc_rule_compile(rule, c->sc, &r, &e))
		fail_msg("%s: compile: %s (col %ld)", rule, e.msg, e.col);
	assert_int_equal(yoc_rule_frame_load(c->db, "2023/24", &r, 1, &f, &e), 0);
	assert_int_equal(yoc_rule_eval(r, f, &res, &e), 0);
	size_t used = 0, n = 0;
	out[0] = 0;
	for (size_t i = 0; i < res.nrows; i++)
		if (yoc_rule_bit(res.selected, i)) {
			used += (size_t)snprintf(out + used, cap - used, "%s ", yoc_rule_frame_pseudo(f, i));
			n++;
		}
	assert_int_equal(n, res.nselected);
	if (nclause)
		*nclause = res.nclauses;
	yoc_rule_result_free(&res);
	yoc_rule_frame_free(f);
	yoc_rule_free(r);
}

static const char *JOIN =
	" FROM person_year a LEFT JOIN person_year b ON b.pseudo_id = a.pseudo_id AND b.fyear = '2022/23'"
	" LEFT JOIN risk_score r ON r.pseudo_id = a.pseudo_id AND r.fyear = a.fyear"
	" WHERE a.fyear = '2023/24' AND (%s) ORDER BY a.pseudo_id";

static void sql_rows(struct ctx *c, const char *cond, char *out, size_t cap)
{
	char sql[2048];
	snprintf(sql, sizeof sql, "SELECT a.pseudo_id%s", JOIN);
	char *q = sqlite3_mprintf(sql, cond);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(c->db, q, -1, &st, NULL) != SQLITE_OK)
		fail_msg("sql %s: %s", cond, sqlite3_errmsg(c->db));
	size_t used = 0;
	out[0] = 0;
	while (sqlite3_step(st) == SQLITE_ROW)
		used += (size_t)snprintf(out + used, cap - used, "%s ", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_free(q);
}

static void same_as_sql(struct ctx *c, const char *rule, const char *cond)
{
	char got[4096], want[4096];
	rule_rows(c, rule, got, sizeof got, NULL);
	sql_rows(c, cond, want, sizeof want);
	if (strcmp(got, want) != 0)
		fail_msg("%s\n  rule: %s\n  sql:  %s", rule, got, want);
}

static void test_operators(void **state)
{
	struct ctx *c = *state;
	static const char *const pairs[][2] = {
		{"age = 37", "a.age = 37"},
		{"age == 37", "a.age = 37"},
		{"age != 37", "a.age != 37"},
		{"age <> 37", "a.age <> 37"},
		{"age < 20", "a.age < 20"},
		{"age <= 20", "a.age <= 20"},
		{"age > 80", "a.age > 80"},
		{"age >= 80", "a.age >= 80"},
		{"20 < age", "20 < a.age"},
		{"80 >= age", "80 >= a.age"},
		{"practice = 'P90001'", "a.practice = 'P90001'"},
		{"practice < 'P90002'", "a.practice < 'P90002'"},
		{"practice <= 'P90002'", "a.practice <= 'P90002'"},
		{"practice > 'P9'", "a.practice > 'P9'"},
		{"practice >= 'P90003x'", "a.practice >= 'P90003x'"},
		{"practice != 'Q'", "a.practice != 'Q'"},
		{"band = 'b''x'", "a.band = 'b''x'"},
		{"band > practice", "a.band > a.practice"},
		{"sex = 1", "a.sex = 1"},
		{"sex in (1, 3)", "a.sex in (1, 3)"},
		{"age = '37'", "a.age = '37'"},
		{"age + 1 = 38", "a.age + 1 = 38"},
		{"age - cost_total > 0", "a.age - a.cost_total > 0"},
		{"age * 2 >= 100", "a.age * 2 >= 100"},
		{"age / 10 = 3", "a.age / 10 = 3"},
		{"cost_total / 7 < -3", "a.cost_total / 7 < -3"},
		{"weight / 0.5 > 2", "a.weight / 0.5 > 2"},
		{"age / (copd - copd) is null", "a.age / (a.copd - a.copd) is null"},
		{"-age < -50", "-a.age < -50"},
		{"weight * 4 = 5", "a.weight * 4 = 5"},
		{"weight > 1.25e0", "a.weight > 1.25"},
		{"copd", "a.copd"},
		{"copd and not dementia", "a.copd and not a.dementia"},
		{"copd or dementia and ckd", "a.copd or (a.dementia and a.ckd)"},
		{"not copd = 1 or ckd", "(not (a.copd = 1)) or a.ckd"},
		{"not (copd or ckd)", "not (a.copd or a.ckd)"},
		{"count(copd, dementia, ckd) >= 2", "(a.copd<>0) + (a.dementia<>0) + (a.ckd<>0) >= 2"},
		{"count(copd, age > 50) = 1", "(a.copd<>0) + (a.age > 50) = 1"},
		{"count(emergency_admissions, weight) >= 1",
		 "(a.emergency_admissions<>0) + (a.weight<>0) >= 1"},
		{"(age > 50) + copd = 2", "(a.age > 50) + a.copd = 2"},
		{"true and copd", "1 and a.copd"},
		{"false or ckd", "0 or a.ckd"},
		{"practice in (P90001, P90003)", "a.practice in ('P90001', 'P90003')"},
		{"band not in ('0-4','5-14')", "a.band not in ('0-4', '5-14')"},
		{"age in (1, 2, 3, 5, 8, 13, 21, 34, 55, 89)", "a.age in (1, 2, 3, 5, 8, 13, 21, 34, 55, 89)"},
		{"age not in (-1, 74, 37.0)", "a.age not in (-1, 74, 37.0)"},
		{"age in ('74')", "a.age in (74)"},
		{"(copd > 0) in (1)", "(a.copd > 0) in (1)"},
		{"practice is null", "a.practice is null"},
		{"practice is not null and age is null", "a.practice is not null and a.age is null"},
		{"(age > 50) is null", "(a.age > 50) is null"},
		{"TIER = 'top0.5' OR Percentile >= 90", "r.tier = 'top0.5' or r.percentile >= 90"},
		{"probability > 0.5", "r.probability > 0.5"},
		{"tier in ('2-5', 'rest') and not copd", "r.tier in ('2-5', 'rest') and not a.copd"},
		{"fyear = '2023/24' and age < 10", "a.fyear = '2023/24' and a.age < 10"},
		{"  age\t>\n40  ", "a.age > 40"},
	};
	for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++)
		same_as_sql(c, pairs[k][0], pairs[k][1]);
}

/* Three-valued logic: every and/or/not combination of TRUE, FALSE and NULL. */
static void test_null_logic(void **state)
{
	struct ctx *c = *state;
	/* age is NULL for i % 7 == 3, practice for i % 5 == 4, sex for i % 3 == 2 */
	static const char *const pairs[][2] = {
		{"age > 30 and practice = 'P90001'", "a.age > 30 and a.practice = 'P90001'"},
		{"age > 30 or practice = 'P90001'", "a.age > 30 or a.practice = 'P90001'"},
		{"not (age > 30 or practice = 'P90001')", "not (a.age > 30 or a.practice = 'P90001')"},
		{"not (age > 30 and sex = '1')", "not (a.age > 30 and a.sex = '1')"},
		{"not not (age > 30)", "not not (a.age > 30)"},
		{"age > 30 or not (age > 30)", "a.age > 30 or not (a.age > 30)"},
		{"(age > 30) = (sex = '1')", "(a.age > 30) = (a.sex = '1')"},
		{"emergency_admissions", "a.emergency_admissions"},
		{"not emergency_admissions", "not a.emergency_admissions"},
		{"age + emergency_admissions >= 3", "a.age + a.emergency_admissions >= 3"},
		{"practice != 'P90001'", "a.practice != 'P90001'"},
		{"practice not in (P90001)", "a.practice not in ('P90001')"},
		{"count(age > 30, copd) >= 1", "(a.age > 30) + (a.copd <> 0) >= 1"},
		{"not (count(age > 30, copd) >= 1)", "not ((a.age > 30) + (a.copd <> 0) >= 1)"},
	};
	for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++)
		same_as_sql(c, pairs[k][0], pairs[k][1]);
}

static void test_empty_sets(void **state)
{
	struct ctx *c = *state;
	char got[4096], want[4096];
	same_as_sql(c, "practice in ()", "0");
	same_as_sql(c, "age in ()", "0");
	/* NULL not in () is TRUE (SQLite): every row */
	same_as_sql(c, "practice not in ()", "1");
	same_as_sql(c, "not (practice in ())", "1");
	rule_rows(c, "practice not in ()", got, sizeof got, NULL);
	sql_rows(c, "a.practice is null", want, sizeof want);
	assert_true(strlen(want) > 0);
	assert_non_null(strstr(got, strtok(want, " ")));
}

static void test_lookbacks(void **state)
{
	struct ctx *c = *state;
	static const char *const pairs[][2] = {
		{"emergency_admissions[t-1] >= 1", "b.emergency_admissions >= 1"},
		{"not (emergency_admissions[t-1] >= 1)", "not (b.emergency_admissions >= 1)"},
		{"emergency_admissions[T - 1] is null", "b.emergency_admissions is null"},
		{"age[t-1] is null", "b.age is null"},
		{"copd[t-1] is null", "b.pseudo_id is null"},
		{"cost_total > cost_total[t-1] * 2", "a.cost_total > b.cost_total * 2"},
		{"practice[t-1] = practice", "b.practice = a.practice"},
		{"practice[t-1] < practice", "b.practice < a.practice"},
		{"copd[t] and copd[t-1]", "a.copd and b.copd"},
		{"dementia[t-1] or ckd[t-1]", "b.dementia or b.ckd"},
		{"age[t-2] is null", "1"},
		{"age[t-2] > 0 or copd", "a.copd"},
		{"not (age[t-2] > 0) or copd", "a.copd"},
	};
	for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++)
		same_as_sql(c, pairs[k][0], pairs[k][1]);
}

static void test_clauses(void **state)
{
	struct ctx *c = *state;
	yoc_rule *r = NULL;
	yoc_rule_frame *f = NULL;
	struct yoc_rule_result res;
	struct yoc_error e;
	const char *rule = "copd or (dementia and ckd) or tier = 'top0.5'";
	assert_int_equal(yoc_rule_compile(rule, c->sc, &r, &e), 0);
	assert_int_equal(yoc_rule_nclauses(r), 3);
	assert_true(yoc_rule_clauses_are_or(r));
	assert_string_equal(yoc_rule_clause_text(r, 0), "copd");
	assert_string_equal(yoc_rule_clause_text(r, 1), "(dementia and ckd)");
	assert_string_equal(yoc_rule_clause_text(r, 2), "tier = 'top0.5'");
	assert_int_equal(yoc_rule_frame_load(c->db, "2023/24", &r, 1, &f, &e), 0);
	assert_int_equal(yoc_rule_eval(r, f, &res, &e), 0);
	static const char *const conds[] = {"a.copd", "a.dementia and a.ckd", "r.tier = 'top0.5'"};
	for (int k = 0; k < 3; k++) {
		char want[4096], got[4096];
		sql_rows(c, conds[k], want, sizeof want);
		size_t used = 0, n = 0;
		got[0] = 0;
		for (size_t i = 0; i < res.nrows; i++)
			if (yoc_rule_bit(res.clause + (size_t)k * res.words, i)) {
				used += (size_t)snprintf(got + used, sizeof got - used, "%s ",
							 yoc_rule_frame_pseudo(f, i));
				n++;
				assert_true(yoc_rule_bit(res.selected, i));
			}
		assert_string_equal(got, want);
		assert_int_equal(n, res.clause_count[k]);
	}
	yoc_rule_result_free(&res);
	yoc_rule_frame_free(f);
	yoc_rule_free(r);
	/* and-rules report their conjuncts; a single comparison is one clause */
	assert_int_equal(yoc_rule_compile("copd and age > 3 and (ckd or dementia)", c->sc, &r, &e), 0);
	assert_int_equal(yoc_rule_nclauses(r), 3);
	assert_false(yoc_rule_clauses_are_or(r));
	assert_string_equal(yoc_rule_clause_text(r, 2), "(ckd or dementia)");
	yoc_rule_free(r);
	assert_int_equal(yoc_rule_compile("not (copd or ckd)", c->sc, &r, &e), 0);
	assert_int_equal(yoc_rule_nclauses(r), 1);
	yoc_rule_free(r);
}

static void test_errors(void **state)
{
	struct ctx *c = *state;
	static const struct { const char *text; int code; long col; const char *msg; } cases[] = {
		{"", YOC_EPARSE, 1, "empty rule"},
		{"   ", YOC_EPARSE, 4, "empty rule"},
		{"copd and", YOC_EPARSE, 9, "ends where a value"},
		{"age >= 65 and (copd", YOC_EPARSE, 20, "expected ')'"},
		{"age >= 65)", YOC_EPARSE, 10, "without its '('"},
		{"copd ckd", YOC_EPARSE, 6, "missing 'and' or 'or'"},
		{"copd and cpod", YOC_ENOTFOUND, 10, "nearest: copd"},
		{"agee > 1", YOC_ENOTFOUND, 1, "known: fyear, age"},
		{"age > 'abc'", YOC_EPARSE, 7, "not a number"},
		{"practice > 3.5", YOC_EPARSE, 12, "quote the value"},
		{"practice + 1 > 2", YOC_EPARSE, 1, "needs a number"},
		{"practice and copd", YOC_EPARSE, 1, "not a truth value"},
		{"'a' = 'b'", YOC_EPARSE, 5, "two texts"},
		{"age = practice", YOC_EPARSE, 5, "text with a number"},
		{"age > 1 > 0", YOC_EPARSE, 9, "do not chain"},
		{"age in (1, 'x')", YOC_EPARSE, 12, "not a number"},
		{"age in (1 2)", YOC_EPARSE, 11, "expected ',' or ')'"},
		{"age in 1", YOC_EPARSE, 8, "expected '('"},
		{"age not 1", YOC_EPARSE, 9, "expected 'in'"},
		{"age is 1", YOC_EPARSE, 8, "expected 'null'"},
		{"age[1] > 0", YOC_EPARSE, 5, "look-back"},
		{"age[t+1] > 0", YOC_EPARSE, 6, "expected ']'"},
		{"age[t-x] > 0", YOC_EPARSE, 7, "look-back"},
		{"age[t-99] > 0", YOC_ETOOBIG, 7, "beyond"},
		{"age > 1 & copd", YOC_EPARSE, 9, "unexpected character '&'"},
		{"age ! 1", YOC_EPARSE, 5, "'!' alone"},
		{"band = \"A\"", YOC_EPARSE, 8, "single quotes"},
		{"band = 'A", YOC_EPARSE, 8, "unterminated"},
		{"\xc3\xa9\xc3\xa9 = 1", YOC_EPARSE, 1, "byte 0xc3"},
		{"band = '\xc3\xa9' and ag > 1", YOC_ENOTFOUND, 16, "unknown field 'ag'"},
		{"age > 12abc", YOC_EPARSE, 9, "runs into a name"},
		{"count(copd, ckd", YOC_EPARSE, 16, "in count"},
		{"count() > 1", YOC_EPARSE, 7, "found ')'"},
		{"- 'a' > 1", YOC_EPARSE, 3, "needs a number"},
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		yoc_rule *r = (yoc_rule *)1;
		struct yoc_error e;
		yoc_error_clear(&e);
		int rc = yoc_rule_compile(cases[k].text, c->sc, &r, &e);
		if (rc != cases[k].code || e.col != cases[k].col || !strstr(e.msg, cases[k].msg))
			fail_msg("'%s': rc %d col %ld '%s'; want %d col %ld '%s'", cases[k].text, rc,
				 e.col, e.msg, cases[k].code, cases[k].col, cases[k].msg);
		assert_null(r);
		assert_int_equal(e.line, 1);
	}
	/* caps: nesting and length */
	char deep[1200];
	memset(deep, '(', 600);
	strcpy(deep + 600, "copd");
	yoc_rule *r = NULL;
	struct yoc_error e;
	assert_int_equal(yoc_rule_compile(deep, c->sc, &r, &e), YOC_ETOOBIG);
	char *big = malloc(YOC_RULE_MAX_TEXT + 10);
	memset(big, ' ', YOC_RULE_MAX_TEXT + 9);
	big[YOC_RULE_MAX_TEXT + 9] = 0;
	assert_int_equal(yoc_rule_compile(big, c->sc, &r, &e), YOC_ETOOBIG);
	free(big);
	/* without a schema any name parses but cannot be evaluated */
	assert_int_equal(yoc_rule_compile("anything[t-2] in ('x') or y > 1", NULL, &r, &e), 0);
	yoc_rule_frame *f = NULL;
	assert_int_equal(yoc_rule_frame_load(c->db, "2023/24", &r, 1, &f, &e), YOC_EINVAL);
	yoc_rule_free(r);
	/* a bad year */
	assert_int_equal(yoc_rule_compile("copd", c->sc, &r, &e), 0);
	assert_int_equal(yoc_rule_frame_load(c->db, "2023", &r, 1, &f, &e), YOC_EINVAL);
	yoc_rule_free(r);
}

/* The normalised text parses back to the same normalised text and the same rows. */
static void test_normalised(void **state)
{
	struct ctx *c = *state;
	static const char *const rules[] = {
		"NOT copd OR age/2 >= 30 AND practice IN (P90001,'P90002') and band is not null",
		"count(copd,ckd)=1 or -age<-3 or tier = 'it''s' or emergency_admissions[t-1] not in ()",
		"20 < age and not not ckd",
	};
	for (size_t k = 0; k < sizeof rules / sizeof rules[0]; k++) {
		yoc_rule *r = NULL, *r2 = NULL;
		struct yoc_error e;
		struct yoc_buf b1, b2;
		yoc_buf_init(&b1, 0);
		yoc_buf_init(&b2, 0);
		assert_int_equal(yoc_rule_compile(rules[k], c->sc, &r, &e), 0);
		assert_int_equal(yoc_rule_normalised(r, &b1), 0);
		assert_int_equal(yoc_rule_compile(b1.data, c->sc, &r2, &e), 0);
		assert_int_equal(yoc_rule_normalised(r2, &b2), 0);
		assert_string_equal(b1.data, b2.data);
		char x[4096], y[4096];
		rule_rows(c, rules[k], x, sizeof x, NULL);
		rule_rows(c, b1.data, y, sizeof y, NULL);
		assert_string_equal(x, y);
		struct yoc_buf ex;
		yoc_buf_init(&ex, 0);
		assert_int_equal(yoc_rule_explain(r, &ex), 0);
		assert_non_null(strstr(ex.data, "select rows where r"));
		yoc_buf_free(&ex);
		yoc_buf_free(&b1);
		yoc_buf_free(&b2);
		yoc_rule_free(r);
		yoc_rule_free(r2);
	}
}

/* Frames: rows in pseudo_id order; no risk_score table means NULL risk fields are unknown names. */
static void test_frame(void **state)
{
	struct ctx *c = *state;
	yoc_rule *r = NULL;
	yoc_rule_frame *f = NULL;
	struct yoc_error e;
	assert_int_equal(yoc_rule_compile("copd", c->sc, &r, &e), 0);
	assert_int_equal(yoc_rule_frame_load(c->db, "2023/24", &r, 1, &f, &e), 0);
	assert_int_equal(yoc_rule_frame_rows(f), 60);
	assert_string_equal(yoc_rule_frame_pseudo(f, 0), "p00");
	assert_string_equal(yoc_rule_frame_pseudo(f, 59), "p59");
	yoc_rule_frame_free(f);
	/* a year with no rows: an empty frame, nothing selected */
	assert_int_equal(yoc_rule_frame_load(c->db, "2010/11", &r, 1, &f, &e), 0);
	assert_int_equal(yoc_rule_frame_rows(f), 0);
	struct yoc_rule_result res;
	assert_int_equal(yoc_rule_eval(r, f, &res, &e), 0);
	assert_int_equal(res.nselected, 0);
	yoc_rule_result_free(&res);
	yoc_rule_frame_free(f);
	yoc_rule_free(r);
	/* schema without risk_score */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	yoc_rule_schema *sc = NULL;
	assert_int_equal(yoc_rule_schema_load(db, &sc, &e), YOC_ENOTFOUND);
	sqlite3_exec(db, "CREATE TABLE person_year(pseudo_id TEXT, fyear TEXT, x INTEGER)", 0, 0, 0);
	assert_int_equal(yoc_rule_schema_load(db, &sc, &e), 0);
	assert_int_equal(yoc_rule_schema_count(sc), 2);
	assert_int_equal(yoc_rule_compile("tier = 'x'", sc, &r, &e), YOC_ENOTFOUND);
	yoc_rule_schema_free(sc);
	sqlite3_close(db);
}

/* Allocation failure at every point of compile, load and eval: an error, never a crash or leak. */
static void test_alloc_failures(void **state)
{
	struct ctx *c = *state;
	const char *rule = "(copd and count(ckd, dementia) >= 1) or practice in (P90001, 'P90003')"
			   " or tier = 'top0.5' or emergency_admissions[t-1] > 2 or age / 2 is null";
	char want[4096];
	rule_rows(c, rule, want, sizeof want, NULL);
	int rc = -1;
	unsigned long nth;
	for (nth = 1; nth < 2000; nth++) {
		yoc_rule *r = NULL;
		yoc_rule_frame *f = NULL;
		struct yoc_rule_result res = {0};
		struct yoc_error e;
		struct yoc_buf b;
		yoc_buf_init(&b, 0);
		yoc_alloc_fail_at(nth);
		rc = yoc_rule_compile(rule, c->sc, &r, &e);
		if (!rc)
			rc = yoc_rule_explain(r, &b);
		if (!rc)
			rc = yoc_rule_frame_load(c->db, "2023/24", &r, 1, &f, &e);
		if (!rc)
			rc = yoc_rule_eval(r, f, &res, &e);
		yoc_alloc_fail_at(0);
		if (rc != 0 && rc != YOC_ENOMEM)
			fail_msg("allocation %lu failed: rc %d (%s)", nth, rc, e.msg);
		if (rc == 0) {
			char got[4096];
			size_t used = 0;
			got[0] = 0;
			for (size_t i = 0; i < res.nrows; i++)
				if (yoc_rule_bit(res.selected, i))
					used += (size_t)snprintf(got + used, sizeof got - used, "%s ",
								 yoc_rule_frame_pseudo(f, i));
			assert_string_equal(got, want);
		}
		yoc_buf_free(&b);
		yoc_rule_result_free(&res);
		yoc_rule_frame_free(f);
		yoc_rule_free(r);
		if (rc == 0)
			break;
	}
	assert_int_equal(rc, 0);
	assert_true(nth > 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_operators, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_logic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_sets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookbacks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clauses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_normalised, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_failures, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
** Unit tests for src/risk: the feature file, the design matrix built from a
** tiny hand-written person_year table (who is kept, the outcome, every kind
** of feature worked out by hand), unknown feature names, tier cut points and
** the model's JSON round trip.
*/
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "risk/risk.h"
#include "testutil.h"

static const char schema[] =
	"CREATE TABLE person_year(pseudo_id TEXT, fyear TEXT, age INTEGER, sex TEXT,"
	" practice TEXT, imd_decile INTEGER, diabetes INTEGER, copd INTEGER, ltc_count INTEGER,"
	" emergency_admissions INTEGER, emergency_bed_days INTEGER, died INTEGER,"
	" cost_total INTEGER, cost_elective INTEGER, cost_nonelective INTEGER,"
	" cost_daycase INTEGER, cost_outpatient INTEGER, cost_ae INTEGER,"
	" cost_community INTEGER, cost_mh INTEGER, cost_gp INTEGER,"
	" cost_social_care INTEGER, cost_ambulance INTEGER);"
	"CREATE TABLE analyse_run(key TEXT PRIMARY KEY, value TEXT);"
	"INSERT INTO analyse_run VALUES ('codelist_version', 'test-1');";

/* pseudo, fyear, age, sex, imd, diabetes, copd, ltc, ea, ebd, died, cost_elective */
static const char rows[] =
	"INSERT INTO person_year (pseudo_id, fyear, age, sex, imd_decile, diabetes, copd,"
	" ltc_count, emergency_admissions, emergency_bed_days, died, cost_total, cost_elective,"
	" cost_nonelective, cost_daycase, cost_outpatient, cost_ae, cost_community, cost_mh,"
	" cost_gp, cost_social_care, cost_ambulance) VALUES"
	" ('A','2021/22',80,'2',3,1,0,1,1,2,0,0,0,0,0,0,0,0,0,0,0,0),"
	" ('B','2021/22',30,'1',NULL,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0),"
	" ('A','2022/23',81,'2',3,1,0,1,7,10,0,12345,12345,0,0,0,0,0,0,0,0,0),"
	" ('B','2022/23',31,'1',NULL,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0),"
	" ('C','2022/23',10,'2',8,0,1,1,0,0,1,0,0,0,0,0,0,0,0,0,0,0),"
	" ('D','2022/23',50,'9',6,0,0,0,2,0,0,0,0,0,0,0,0,0,0,0,0,0),"
	" ('E','2022/23',90,'1',1,0,1,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0),"
	" ('A','2023/24',82,'2',3,1,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0),"
	" ('B','2023/24',32,'1',NULL,0,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0),"
	" ('E','2023/24',91,'1',1,0,1,1,0,0,1,0,0,0,0,0,0,0,0,0,0,0)";

static sqlite3 *tiny_db(void)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, schema, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, rows, NULL, NULL, NULL), SQLITE_OK);
	return db;
}

static void featlist(struct yoc_risk_featlist *fl, const char *const *names)
{
	memset(fl, 0, sizeof *fl);
	for (; *names; names++)
		snprintf(fl->name[fl->n++], sizeof fl->name[0], "%s", *names);
}

static int col(const struct yoc_risk_data *d, const char *term)
{
	for (int j = 0; j < d->p; j++)
		if (strcmp(d->terms[j], term) == 0)
			return j;
	fail_msg("no term %s", term);
	return -1;
}

static double X(const struct yoc_risk_data *d, size_t i, const char *term)
{
	return d->X[i * (size_t)d->p + (size_t)col(d, term)];
}

static void test_features_file(void **state)
{
	(void)state;
	static const char text[] = "# risk features\n# version: v7\n\nage_bands\n  female  \n# x\nltc_count\n";
	char path[512];
	assert_int_equal(tu_temp_file(path, sizeof path, "risk", text, sizeof text - 1), 0);
	struct yoc_risk_featlist fl;
	struct yoc_error e;
	assert_int_equal(yoc_risk_features_read(path, &fl, &e), 0);
	assert_int_equal(fl.n, 3);
	assert_string_equal(fl.version, "v7");
	assert_string_equal(fl.name[1], "female");
	unlink(path);
	/* the shipped file reads and every name is known */
	char shipped[1024];
	snprintf(shipped, sizeof shipped, "%s/../../data/risk_features.txt", __FILE__);
	char *slash = strstr(shipped, "tests/unit/test_risk.c");
	if (slash) {
		memcpy(slash, "data/risk_features.txt", sizeof "data/risk_features.txt");
		assert_int_equal(yoc_risk_features_read(shipped, &fl, &e), 0);
		sqlite3 *db = tiny_db();
		struct yoc_risk_data d;
		assert_int_equal(yoc_risk_data_build(db, 2022, &fl, 1, NAN, &d, &e), 0);
		yoc_risk_data_free(&d);
		sqlite3_close(db);
	}
}

static void test_design_by_hand(void **state)
{
	(void)state;
	sqlite3 *db = tiny_db();
	static const char *const names[] = {"age_bands", "female", "imd_decile", "imd_missing",
					    "ltc_flags", "emergency_admissions",
					    "log_emergency_bed_days", "log_cost_elective",
					    "prev_emergency_admissions", "prev_missing", NULL};
	struct yoc_risk_featlist fl;
	featlist(&fl, names);
	struct yoc_risk_data d;
	struct yoc_error e;
	assert_int_equal(yoc_risk_data_build(db, 2022, &fl, 1, NAN, &d, &e), 0);
	/* C died in 2022/23: left out; D has no 2023/24 row: lost */
	assert_int_equal(d.n_year, 5);
	assert_int_equal(d.n_died, 1);
	assert_int_equal(d.n_lost, 1);
	assert_int_equal(d.n, 3);
	assert_int_equal(d.p, 16);
	assert_string_equal(d.ids[0], "A");
	assert_string_equal(d.ids[1], "B");
	assert_string_equal(d.ids[2], "E");
	/* A: no admission next year; B: one; E: died next year */
	assert_true(d.y[0] == 0 && d.y[1] == 1 && d.y[2] == 1);
	assert_true(X(&d, 0, "(Intercept)") == 1);
	assert_true(X(&d, 0, "age_75_84") == 1 && X(&d, 0, "age_85plus") == 0);
	assert_true(X(&d, 1, "age_18_44") == 1 && X(&d, 2, "age_85plus") == 1);
	assert_true(X(&d, 0, "female") == 1 && X(&d, 1, "female") == 0);
	/* median of the kept rows' known deciles (3, 1) is 2 */
	assert_true(d.imd_median == 2);
	assert_true(X(&d, 1, "imd_decile") == 2 && X(&d, 1, "imd_missing") == 1);
	assert_true(X(&d, 0, "imd_decile") == 3 && X(&d, 0, "imd_missing") == 0);
	assert_true(X(&d, 0, "diabetes") == 1 && X(&d, 2, "copd") == 1);
	assert_true(X(&d, 0, "emergency_admissions") == 5); /* 7 capped */
	assert_true(fabs(X(&d, 0, "log_emergency_bed_days") - log(11.0)) < 1e-12);
	assert_true(fabs(X(&d, 0, "log_cost_elective") - log1p(123.45)) < 1e-12);
	assert_true(X(&d, 0, "prev_emergency_admissions") == 1 && X(&d, 0, "prev_missing") == 0);
	assert_true(X(&d, 1, "prev_emergency_admissions") == 0 && X(&d, 1, "prev_missing") == 0);
	assert_true(X(&d, 2, "prev_emergency_admissions") == 0 && X(&d, 2, "prev_missing") == 1);
	assert_true(d.cost_total[0] == 123.45 && d.ltc_count[2] == 1);
	yoc_risk_data_free(&d);

	/* scoring design: every person-year; median of all known deciles (3, 8, 6, 1) */
	assert_int_equal(yoc_risk_data_build(db, 2022, &fl, 0, NAN, &d, &e), 0);
	assert_int_equal(d.n, 5);
	assert_null(d.y);
	assert_true(d.imd_median == 4.5);
	yoc_risk_data_free(&d);
	/* a given median is used as is */
	assert_int_equal(yoc_risk_data_build(db, 2022, &fl, 0, 7, &d, &e), 0);
	assert_true(X(&d, 1, "imd_decile") == 7);
	yoc_risk_data_free(&d);
	sqlite3_close(db);
}

static void test_unknown_names(void **state)
{
	(void)state;
	sqlite3 *db = tiny_db();
	static const char *const names[] = {"age_bands", "bogus", "diabetes", "zzz", NULL};
	struct yoc_risk_featlist fl;
	featlist(&fl, names);
	struct yoc_risk_data d;
	struct yoc_error e;
	assert_int_equal(yoc_risk_data_build(db, 2022, &fl, 1, NAN, &d, &e), YOC_EINVAL);
	assert_non_null(strstr(e.msg, "bogus, zzz"));
	yoc_risk_data_free(&d);
	static const char *const twice[] = {"diabetes", "ltc_flags", NULL};
	featlist(&fl, twice);
	assert_int_equal(yoc_risk_data_build(db, 2022, &fl, 1, NAN, &d, &e), YOC_EINVAL);
	assert_non_null(strstr(e.msg, "diabetes"));
	yoc_risk_data_free(&d);
	sqlite3_close(db);
}

static void test_tiers(void **state)
{
	(void)state;
	struct yoc_risk_tiers t;
	struct yoc_error e;
	assert_int_equal(yoc_risk_tiers_parse(NULL, &t, &e), 0);
	assert_int_equal(t.n, 5);
	assert_true(t.cut[0] == 0.5 && t.cut[4] == 20);
	assert_int_equal(yoc_risk_tiers_parse("1,50", &t, &e), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(yoc_risk_tiers_parse("5,2", &t, &e), YOC_EINVAL);
	assert_int_equal(yoc_risk_tiers_parse("0,2", &t, &e), YOC_EINVAL);
	assert_int_equal(yoc_risk_tiers_parse("2,x", &t, &e), YOC_EINVAL);
	assert_int_equal(yoc_risk_tiers_parse("", &t, &e), YOC_EINVAL);
}

static void test_model_json(void **state)
{
	(void)state;
	struct yoc_risk_model m, r;
	memset(&m, 0, sizeof m);
	snprintf(m.model_id, sizeof m.model_id, "risk-2122-1");
	snprintf(m.created, sizeof m.created, "2024-01-01T00:00:00Z");
	m.train_year = 2021;
	m.n = 100;
	m.events = 9;
	m.ridge = 0.25;
	m.imd_median = 5.5;
	static const char *const names[] = {"age_bands", "female", NULL};
	featlist(&m.feat, names);
	snprintf(m.feat.version, sizeof m.feat.version, "v1");
	static char t0[] = "(Intercept)", t1[] = "age_0_17", t2[] = "female";
	char *terms[] = {t0, t1, t2};
	double coef[] = {-2.0 / 3, NAN, 0.1}, se[] = {1e-300, NAN, 12345.678901234567};
	m.p = 3;
	m.terms = terms;
	m.coef = coef;
	m.se = se;
	struct yoc_buf b;
	yoc_buf_init(&b, 1 << 20);
	assert_int_equal(yoc_risk_model_json(&m, &b), 0);
	struct yoc_error e;
	assert_int_equal(yoc_risk_model_parse(b.data, &r, &e), 0);
	assert_string_equal(r.model_id, m.model_id);
	assert_int_equal(r.train_year, 2021);
	assert_int_equal(r.n, 100);
	assert_int_equal(r.events, 9);
	assert_true(r.ridge == 0.25 && r.imd_median == 5.5);
	assert_int_equal(r.feat.n, 2);
	assert_string_equal(r.feat.name[1], "female");
	assert_string_equal(r.feat.version, "v1");
	assert_int_equal(r.p, 3);
	for (int j = 0; j < 3; j++) {
		assert_string_equal(r.terms[j], terms[j]);
		assert_true(isnan(coef[j]) ? isnan(r.coef[j]) : r.coef[j] == coef[j]);
		assert_true(isnan(se[j]) ? isnan(r.se[j]) : r.se[j] == se[j]);
	}
	yoc_risk_model_free(&r);
	assert_int_equal(yoc_risk_model_parse("{\"model_id\": \"x\"}", &r, &e), YOC_EPARSE);
	assert_int_equal(yoc_risk_model_parse("not json", &r, &e), YOC_EPARSE);
	yoc_buf_free(&b);
}

/* Scores the tiny table with a hand-made model; the first failure's code. */
static int score_all(sqlite3 *db, const char *json)
{
	static const char *const names[] = {"age_bands", "female", "imd_decile", "imd_missing",
					    "ltc_flags", "emergency_admissions",
					    "log_emergency_bed_days", "log_cost_elective",
					    "prev_emergency_admissions", "prev_missing", NULL};
	struct yoc_risk_featlist fl;
	featlist(&fl, names);
	struct yoc_risk_data d;
	struct yoc_error e;
	int rc = yoc_risk_data_build(db, 2022, &fl, 1, NAN, &d, &e);
	yoc_risk_data_free(&d);
	if (rc)
		return rc;
	struct yoc_risk_model m;
	if ((rc = yoc_risk_model_parse(json, &m, &e)))
		return rc;
	struct yoc_risk_tiers t;
	yoc_risk_tiers_parse("20,60", &t, &e);
	struct yoc_risk_score_stats st;
	rc = yoc_risk_score(db, &m, 2022, &t, &st, &e);
	yoc_risk_model_free(&m);
	return rc;
}

static const char tiny_model[] =
	"{\"model_id\": \"m1\", \"created\": \"x\", \"train_year\": \"2021/22\", \"n\": 3,"
	" \"events\": 1, \"ridge\": 0, \"imd_median\": 5, \"features\": [\"female\", \"ltc_flags\"],"
	" \"terms\": [\"(Intercept)\", \"female\", \"diabetes\", \"copd\"],"
	" \"coef\": [-1, 0.5, 2, null], \"se\": [1, 1, 1, null]}";

static void test_score_tiny(void **state)
{
	(void)state;
	sqlite3 *db = tiny_db();
	assert_int_equal(score_all(db, tiny_model), 0);
	/* A: female, diabetes: -1 + 0.5 + 2; C, E: copd (dropped term): -1; B, D: -1 */
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT pseudo_id, probability, rank, tier, top3"
					    " FROM risk_score ORDER BY rank", -1, &st, NULL), SQLITE_OK);
	static const char *const want_id[] = {"A", "C", "B", "D", "E"};
	static const char *const want_tier[] = {"top20", "20-60", "20-60", "rest", "rest"};
	for (int r = 0; r < 5; r++) {
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(st, 0), want_id[r]);
		assert_int_equal(sqlite3_column_int(st, 2), r + 1);
		assert_string_equal((const char *)sqlite3_column_text(st, 3), want_tier[r]);
	}
	sqlite3_finalize(st);
	/* A's contributions: coef x (x - mean): diabetes 2 x (1 - 0.2), female 0.5 x (1 - 0.4) */
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT probability, top3 FROM risk_score"
					    " WHERE pseudo_id = 'A'", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_true(fabs(sqlite3_column_double(st, 0) - 1 / (1 + exp(-1.5))) < 1e-15);
	assert_string_equal((const char *)sqlite3_column_text(st, 1), "diabetes:+1.60;female:+0.30");
	sqlite3_finalize(st);
	/* a second run replaces the year's rows */
	assert_int_equal(score_all(db, tiny_model), 0);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM risk_score", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 5);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/*
** ROC points by hand: 10 rows, scores with a tie across the 20% cut, so point
** 20 (rank 2's score) must select both tied rows, never split them.
*/
static void test_roc_ties(void **state)
{
	(void)state;
	const double score[10] = {0.9, 0.8, 0.8, 0.5, 0.4, 0.4, 0.3, 0.2, 0.1, 0.05};
	const double y[10] = {1, 0, 1, 1, 0, 0, 1, 0, 0, 0};
	size_t o[10];
	for (size_t i = 0; i < 10; i++)
		o[i] = i; /* already in descending order */
	struct yoc_risk_validation v;
	memset(&v, 0, sizeof v);
	assert_int_equal(yoc__risk_roc(&v, "model", score, y, 10, o), 0);
	assert_int_equal(v.nroc, 101);
	assert_int_equal(v.roc[0].selected, 0);
	assert_true(isnan(v.roc[0].threshold));
	/* point 10: rank 1 (0.9): one row, a true positive */
	assert_int_equal(v.roc[10].selected, 1);
	assert_int_equal(v.roc[10].tp, 1);
	/* point 20: rank 2's score 0.8, tied with rank 3: three rows, tp 2, fp 1 */
	assert_true(v.roc[20].threshold == 0.8);
	assert_int_equal(v.roc[20].selected, 3);
	assert_int_equal(v.roc[20].tp, 2);
	assert_int_equal(v.roc[20].fp, 1);
	assert_true(fabs(v.roc[20].tpr - 0.5) < 1e-15 && fabs(v.roc[20].fpr - 1.0 / 6) < 1e-15);
	/* point 11 (rank ceil(1.1) = 2) selects the same as point 20 */
	assert_int_equal(v.roc[11].selected, 3);
	/* point 50: rank 5's score 0.4, tied with rank 6 */
	assert_int_equal(v.roc[50].selected, 6);
	assert_int_equal(v.roc[100].selected, 10);
	assert_true(v.roc[100].tpr == 1 && v.roc[100].fpr == 1);
	yoc_risk_validation_free(&v);
}

static void test_alloc_failures(void **state)
{
	(void)state;
	sqlite3 *db = tiny_db();
	int rc = -1;
	unsigned long nth;
	for (nth = 1; nth < 2000 && rc != 0; nth++) {
		yoc_alloc_fail_at(nth);
		rc = score_all(db, tiny_model);
		yoc_alloc_fail_at(0);
		if (rc != 0 && rc != YOC_ENOMEM)
			fail_msg("allocation %lu failed: rc %d", nth, rc);
	}
	assert_int_equal(rc, 0);
	assert_true(nth > 20);
	sqlite3_close(db);
}

/* Every scored year of the tiny table (2021/22 to 2023/24), practices set for some. */
static sqlite3 *tiny_scored(void)
{
	sqlite3 *db = tiny_db();
	struct yoc_risk_model m;
	struct yoc_risk_tiers t;
	struct yoc_risk_score_stats st;
	struct yoc_error e;
	assert_int_equal(sqlite3_exec(db, "UPDATE person_year SET practice = 'P1' WHERE pseudo_id"
					  " IN ('A', 'C'); UPDATE person_year SET cost_total = 500"
					  " WHERE pseudo_id = 'B'", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(yoc_risk_model_parse(tiny_model, &m, &e), 0);
	assert_int_equal(yoc_risk_tiers_parse("20,60", &t, &e), 0);
	for (int y = 2021; y <= 2023; y++)
		assert_int_equal(yoc_risk_score(db, &m, y, &t, &st, &e), 0);
	yoc_risk_model_free(&m);
	return db;
}

static long long q1(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	long long v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/*
** Summary tables of the tiny table, every allocation failing in turn: a
** failure leaves no table behind; the tables then agree with SQL over
** risk_score and person_year.
*/
static void test_summary_tiny(void **state)
{
	(void)state;
	sqlite3 *db = tiny_scored();
	struct yoc_error e;
	int rc = -1;
	unsigned long nth;
	for (nth = 1; nth < 2000 && rc != 0; nth++) {
		yoc_alloc_fail_at(nth);
		rc = yoc_risk_summarise(db, NULL, &e);
		yoc_alloc_fail_at(0);
		if (rc != 0 && rc != YOC_ENOMEM)
			fail_msg("allocation %lu failed: rc %d", nth, rc);
		if (rc)
			assert_int_equal(q1(db, "SELECT count(*) FROM sqlite_master WHERE name"
						" LIKE 'risk_p%'"), 0);
	}
	assert_int_equal(rc, 0);
	assert_true(nth > 20);
	/* the pyramid: people and cost per year and tier */
	assert_int_equal(q1(db, "SELECT count(*) FROM (SELECT r.fyear, r.tier, count(*) n,"
				" sum(p.cost_total) / 100.0 c, sum(p.emergency_admissions) ea"
				" FROM risk_score r JOIN person_year p USING (pseudo_id, fyear)"
				" GROUP BY 1, 2 EXCEPT SELECT fyear, tier, people, cost_total,"
				" emergency_admissions FROM risk_pyramid)"), 0);
	assert_int_equal(q1(db, "SELECT count(*) FROM risk_pyramid"),
			 q1(db, "SELECT count(DISTINCT fyear || tier) FROM risk_score"));
	/* turnover: every scored person-year of 2021/22 and 2022/23, to a tier or away */
	assert_int_equal(q1(db, "SELECT sum(people) FROM risk_turnover"), 7);
	assert_int_equal(q1(db, "SELECT sum(people) FROM risk_turnover WHERE fyear = '2022/23'"
				" AND to_tier IN ('died', 'left')"), 2); /* C died, D left */
	assert_int_equal(q1(db, "SELECT people FROM risk_turnover WHERE fyear = '2022/23'"
				" AND to_tier = 'died'"), 1);
	/* practices: P1 (A, C) and NULL, every scored person-year once in 'all' */
	assert_int_equal(q1(db, "SELECT count(*) FROM (SELECT r.fyear, p.practice, count(*)"
				" FROM risk_score r JOIN person_year p USING (pseudo_id, fyear)"
				" GROUP BY 1, 2 EXCEPT SELECT fyear, practice, people FROM"
				" risk_practice WHERE tier = 'all')"), 0);
	assert_int_equal(q1(db, "SELECT count(*) FROM risk_practice WHERE tier = 'all'"), 6);
	/* the top-cost cohort of 2022/23 (top 5% of 5 rows: nobody) is left out */
	assert_int_equal(q1(db, "SELECT count(*) FROM risk_crisis"), 0);
	/* overlap: every year and k, cohorts empty below 20% of 5 rows */
	assert_int_equal(q1(db, "SELECT count(*) FROM risk_overlap"), 12);
	assert_int_equal(q1(db, "SELECT count(*) FROM risk_overlap WHERE people = 0"
				" AND overlap_share IS NULL AND risk_min_ltc IS NULL"), 12);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_features_file),
		cmocka_unit_test(test_design_by_hand),
		cmocka_unit_test(test_unknown_names),
		cmocka_unit_test(test_tiers),
		cmocka_unit_test(test_model_json),
		cmocka_unit_test(test_score_tiny),
		cmocka_unit_test(test_roc_ties),
		cmocka_unit_test(test_alloc_failures),
		cmocka_unit_test(test_summary_tiny),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

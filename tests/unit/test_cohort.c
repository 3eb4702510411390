/*
** Unit tests for src/cohort on a tiny hand-written catalog: versioned
** definitions; a selection's candidates (age bands, conditions, risk);
** worklists free of identifiers (the identifier policy's own name and value
** checks); review files rejected whole with file:line:col for each kind of
** problem; re-import changing nothing; consent gating enrolment; discharge
** and withdrawal closing memberships; the register's append-only triggers;
** the register as of any date against the change log replayed here; and
** every allocation failing in turn.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cohort/cohort.h"
#include "ident/ident.h"
#include "yoc/csv.h"
#include "yoc/date.h"
#include "testutil.h"

static const char schema[] =
	"CREATE TABLE person(person_idx INTEGER PRIMARY KEY, pseudo_id TEXT NOT NULL UNIQUE,"
	" date_of_death TEXT);"
	"CREATE TABLE person_year(pseudo_id TEXT, fyear TEXT, age INTEGER, sex TEXT,"
	" practice TEXT, imd_decile INTEGER, copd INTEGER, heart_failure INTEGER,"
	" palliative INTEGER, ltc_count INTEGER, mental_ltc_count INTEGER, band TEXT,"
	" emergency_admissions INTEGER, died INTEGER, cost_total INTEGER);"
	"CREATE TABLE risk_score(pseudo_id TEXT, fyear TEXT, probability REAL, rank INTEGER,"
	" percentile REAL, tier TEXT, top3 TEXT, model_id TEXT);";

/* A..F in P90001, G..H in P90002; C died 2023-06-10 */
static const char rows[] =
	"INSERT INTO person(pseudo_id, date_of_death) VALUES ('AAAA',NULL),('BBBB',NULL),"
	" ('CCCC','2023-06-10'),('DDDD',NULL),('EEEE',NULL),('FFFF',NULL),('GGGG',NULL),"
	" ('HHHH',NULL);"
	"INSERT INTO person_year VALUES"
	" ('AAAA','2022/23',81,'2','P90001',3,1,1,0,2,0,'B',2,0,123456),"
	" ('BBBB','2022/23',17,'1','P90001',5,1,0,0,1,0,'A',0,0,1000),"
	" ('CCCC','2022/23',90,'1','P90001',1,1,1,1,3,0,'C',3,0,999999),"
	" ('DDDD','2022/23',50,'2','P90001',7,0,0,0,0,0,'A',0,0,0),"
	" ('EEEE','2022/23',66,'1','P90001',2,1,1,0,2,0,'B',1,0,5000),"
	" ('FFFF','2022/23',70,'1','P90001',2,1,1,0,2,0,'B',0,0,100),"
	" ('GGGG','2022/23',45,'2','P90002',4,1,0,0,1,0,'A',1,0,2000),"
	" ('HHHH','2022/23',NULL,'2','P90002',4,0,0,0,0,0,'A',0,0,0),"
	" ('AAAA','2023/24',82,'2','P90001',3,1,1,0,2,0,'C',2,0,1),"
	" ('EEEE','2023/24',67,'1','P90001',2,1,1,0,2,0,'C',1,0,1);"
	"INSERT INTO risk_score VALUES ('AAAA','2022/23',0.5,2,75.0,'top0.5','','m'),"
	" ('CCCC','2022/23',0.9,1,87.5,'top0.5','','m'),"
	" ('GGGG','2022/23',0.2,3,62.5,'0.5-2','','m');";

static sqlite3 *tiny(void)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, schema, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, rows, NULL, NULL, NULL), SQLITE_OK);
	setenv("YOC_TODAY", "2024-03-31", 1);
	return db;
}

static long count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	long n = (long)sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return n;
}

static char *text(sqlite3 *db, const char *sql, char *buf, size_t cap)
{
	sqlite3_stmt *q = NULL;
	buf[0] = 0;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
		snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	return buf;
}

/* Defines "frail" and selects A, B, C, E, G (rule evaluated by hand). */
static void define_select(sqlite3 *db)
{
	struct yoc_error e;
	int v = 0;
	assert_int_equal(yoc_cohort_define(db, "frail", "copd", NULL, NULL, "tester", &v, &e), 0);
	assert_int_equal(v, 1);
	assert_int_equal(yoc_cohort_define(db, "frail", "copd and ltc_count >= 1", "Frail people",
					   "MDT", "tester", &v, &e), 0);
	assert_int_equal(v, 2);
	struct yoc_cohort_def d;
	assert_int_equal(yoc_cohort_def_get(db, "frail", 0, &d, &e), 0);
	char *pseudo[] = {"AAAA", "BBBB", "CCCC", "EEEE", "GGGG"};
	char *reasons[] = {"copd", "copd", "copd", "copd", "copd"};
	struct yoc_cohort_pick pk = {.n = 8, .nsel = 5, .pseudo = pseudo, .reasons = reasons};
	struct yoc_cohort_sel_stats st;
	int rc_ = yoc_cohort_select_store(db, &d, 2022, "2023-04", &pk, "tester", &st, &e);
	if (rc_)
		fail_msg("select: %s", e.msg);
	assert_int_equal(st.selected, 5);
	assert_int_equal(st.practices, 2);
	yoc_cohort_def_free(&d);
}

static void test_definitions(void **state)
{
	(void)state;
	sqlite3 *db = tiny();
	struct yoc_error e;
	define_select(db);
	struct yoc_cohort_def d;
	assert_int_equal(yoc_cohort_def_get(db, "frail", 1, &d, &e), 0);
	assert_string_equal(d.rule, "copd");
	yoc_cohort_def_free(&d);
	assert_int_equal(yoc_cohort_def_get(db, "frail", 0, &d, &e), 0);
	assert_int_equal(d.version, 2);
	assert_string_equal(d.service_model, "MDT");
	assert_string_equal(d.author, "tester");
	yoc_cohort_def_free(&d);
	assert_int_equal(yoc_cohort_def_get(db, "nosuch", 0, &d, &e), YOC_ENOTFOUND);
	int v;
	assert_int_equal(yoc_cohort_define(db, "9bad name", "copd", NULL, NULL, "t", &v, &e),
			 YOC_EINVAL);
	/* candidates: bands, conditions, risk as in the tables */
	char b[128];
	assert_string_equal(text(db, "SELECT age_band FROM cohort_candidate WHERE pseudo_id='BBBB'",
				 b, sizeof b), "0-17");
	assert_string_equal(text(db, "SELECT ltcs FROM cohort_candidate WHERE pseudo_id='CCCC'", b,
				 sizeof b), "copd heart_failure palliative");
	assert_string_equal(text(db, "SELECT risk_tier FROM cohort_candidate WHERE"
				     " pseudo_id='GGGG'", b, sizeof b), "0.5-2");
	assert_int_equal(count(db, "SELECT count(*) FROM cohort_candidate WHERE risk_percentile"
				   " IS NULL"), 2);
	assert_int_equal(count(db, "SELECT count(*) FROM cohort_log WHERE action='define'"), 2);
	sqlite3_close(db);
}

static int put_file(char *path, size_t cap, const char *body)
{
	return tu_temp_file(path, cap, "cohort", body, strlen(body));
}

static void test_worklists_identify_nobody(void **state)
{
	(void)state;
	sqlite3 *db = tiny();
	struct yoc_error e;
	define_select(db);
	char dir[512];
	assert_int_equal(tu_temp_dir(dir, sizeof dir, "cohortwl"), 0);
	size_t np = 0;
	assert_int_equal(yoc_cohort_worklists(db, "frail", dir, &np, &e), 0);
	assert_int_equal(np, 2);
	const char *files[] = {"P90001.csv", "P90002.csv"};
	size_t nrows = 0;
	for (int f = 0; f < 2; f++) {
		char p[700];
		snprintf(p, sizeof p, "%s/%s", dir, files[f]);
		yoc_csv *r;
		assert_int_equal(yoc_csv_open(&r, p, NULL, &e), 0);
		const struct yoc_cell *h = yoc_csv_header(r);
		for (size_t k = 0; k < yoc_csv_ncols(r); k++) {
			int cls = yoc_ident_name_class(h[k].p, h[k].n);
			/* reason_text is where a clinician writes: free text, nothing else */
			assert_true(cls == YOC_IDC_NONE ||
				    (cls == YOC_IDC_FREETEXT && yoc_cell_eq(h[k], "reason_text")));
		}
		struct yoc_csv_row row;
		while (yoc_csv_next(r, &row, &e) == 1) {
			nrows++;
			for (size_t k = 0; k < row.ncells; k++) {
				assert_int_equal(yoc_ident_value(row.cells[k].p, row.cells[k].n), 0);
				assert_int_equal(yoc_ident_text(row.cells[k].p, row.cells[k].n), 0);
			}
		}
		yoc_csv_close(r);
	}
	assert_int_equal(nrows, 5);
	tu_rm_rf(dir);
	sqlite3_close(db);
}

static const char good_review[] =
	"pseudo_id,practice,decision,reason,reason_text,reviewer_role,review_date\n"
	"AAAA,P90001,include,,,GP,2023-05-01\n"
	"BBBB,P90001,exclude,not_appropriate,,MDT,2023-05-01\n"
	"CCCC,P90001,exclude,end_of_life,,GP,2023-05-01\n"
	"EEEE,P90001,include,,,community,2023-05-01\n"
	"FFFF,P90001,add,community_referral,,community,2023-05-02\n"
	"GGGG,P90002,defer,,,gp,2023-05-03\n";

static void test_review_idempotent(void **state)
{
	(void)state;
	sqlite3 *db = tiny();
	struct yoc_error e;
	struct yoc_cohort_errors errs;
	struct yoc_cohort_import_stats st;
	define_select(db);
	char p[512];
	assert_int_equal(put_file(p, sizeof p, good_review), 0);
	const char *paths[] = {p};
	assert_int_equal(yoc_cohort_import(db, "frail", YOC_COHORT_REVIEW, paths, 1, "t", &st, &errs,
					   &e), 0);
	assert_int_equal(st.added, 6);
	long logs = count(db, "SELECT count(*) FROM cohort_log");
	assert_int_equal(yoc_cohort_import(db, "frail", YOC_COHORT_REVIEW, paths, 1, "t", &st, &errs,
					   &e), 0);
	assert_int_equal(st.added, 0);
	assert_int_equal(st.unchanged, 6);
	assert_int_equal(count(db, "SELECT count(*) FROM cohort_review"), 6);
	assert_int_equal(count(db, "SELECT count(*) FROM cohort_log"), logs);
	char b[64];
	assert_string_equal(text(db, "SELECT reviewer_role FROM cohort_review WHERE"
				     " pseudo_id='GGGG'", b, sizeof b), "GP");
	unlink(p);
	sqlite3_close(db);
}

struct bad_case {
	const char *line;   /* one data line after the header */
	long col;           /* expected column of the error */
	const char *words;  /* expected in the message */
};

static void test_review_rejected_whole(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
		{"ZZZZ,P90001,include,,,GP,2023-05-01", 1, "unknown pseudonym"},
		{"AAAA,P90002,include,,,GP,2023-05-01", 2, "not on practice P90002"},
		{"AAAA,P90001,maybe,,,GP,2023-05-01", 3, "unknown decision"},
		{"AAAA,P90001,exclude,bored,,GP,2023-05-01", 4, "unknown reason code"},
		{"AAAA,P90001,exclude,other,,GP,2023-05-01", 5, "needs reason_text"},
		{"AAAA,P90001,include,,,nurse,2023-05-01", 6, "unknown reviewer role"},
		{"AAAA,P90001,include,,,GP,2030-01-01", 7, "in the future"},
		{"AAAA,P90001,include,,,GP,2023-02-30", 7, "want YYYY-MM-DD"},
		{"AAAA,P90001,include,,,GP,2023-05-09", 1, "duplicate decision"},
		{"DDDD,P90001,include,,,GP,2023-05-01", 1, "not a candidate"},
		{"AAAA,P90001,add,community_referral,,GP,2023-05-01", 3, "use include"},
		{"HHHH,P90001,add,community_referral,,GP,2023-05-01", 2, "not in practice P90001"},
		{"AAAA,P90001,discharge,,,GP,2023-05-01", 1, "nothing to discharge"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sqlite3 *db = tiny();
		struct yoc_error e;
		struct yoc_cohort_errors errs;
		struct yoc_cohort_import_stats st;
		define_select(db);
		/* a good line first, the bad one on line 3 */
		char body[1024];
		snprintf(body, sizeof body,
			 "pseudo_id,practice,decision,reason,reason_text,reviewer_role,review_date\n"
			 "%s\n%s\n", strstr(cases[i].words, "duplicate")
					? "AAAA,P90001,exclude,declined,,GP,2023-05-02"
					: "EEEE,P90001,include,,,GP,2023-05-01", cases[i].line);
		char p[512];
		assert_int_equal(put_file(p, sizeof p, body), 0);
		const char *paths[] = {p};
		long before = count(db, "SELECT count(*) FROM cohort_review") +
			      count(db, "SELECT count(*) FROM cohort_log");
		int rc = yoc_cohort_import(db, "frail", YOC_COHORT_REVIEW, paths, 1, "t", &st, &errs,
					   &e);
		if (rc != YOC_EDATA || errs.n != 1 || errs.err[0].line != 3 ||
		    errs.err[0].col != cases[i].col || !strstr(errs.err[0].msg, cases[i].words) ||
		    strcmp(errs.err[0].file, p) != 0)
			fail_msg("case %zu (%s): rc %d, %zu errors, first %ld:%ld %s", i,
				 cases[i].line, rc, errs.n, errs.n ? errs.err[0].line : 0,
				 errs.n ? errs.err[0].col : 0, errs.n ? errs.err[0].msg : "");
		/* nothing half-imported: the good line 2 is not there either */
		assert_int_equal(count(db, "SELECT count(*) FROM cohort_review") +
					 count(db, "SELECT count(*) FROM cohort_log"), before);
		unlink(p);
		sqlite3_close(db);
	}
}

static void test_review_identifier_column(void **state)
{
	(void)state;
	sqlite3 *db = tiny();
	struct yoc_error e;
	struct yoc_cohort_errors errs;
	struct yoc_cohort_import_stats st;
	define_select(db);
	char p[512];
	assert_int_equal(put_file(p, sizeof p,
			       "pseudo_id,practice,decision,reason,reason_text,reviewer_role,"
			       "review_date,nhs_number\nAAAA,P90001,include,,,GP,2023-05-01,\n"), 0);
	const char *paths[] = {p};
	assert_int_equal(yoc_cohort_import(db, "frail", YOC_COHORT_REVIEW, paths, 1, "t", &st, &errs,
					   &e), YOC_EDATA);
	assert_int_equal(errs.err[0].col, 8);
	assert_non_null(strstr(errs.err[0].msg, "identifier"));
	unlink(p);
	sqlite3_close(db);
}

static void import_ok(sqlite3 *db, int kind, const char *body)
{
	struct yoc_error e;
	struct yoc_cohort_errors errs;
	struct yoc_cohort_import_stats st;
	char p[512];
	assert_int_equal(put_file(p, sizeof p, body), 0);
	const char *paths[] = {p};
	int rc = yoc_cohort_import(db, "frail", kind, paths, 1, "t", &st, &errs, &e);
	if (rc)
		fail_msg("import: %s; %s", e.msg, errs.n ? errs.err[0].msg : "");
	unlink(p);
}

/* The register on day d replayed from cohort_log alone: join opens, leave closes. */
static void replay(sqlite3 *db, int32_t d, char *out, size_t cap)
{
	sqlite3_stmt *q = NULL;
	char day[11];
	yoc_date_format(d, day);
	out[0] = 0;
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT j.pseudo_id FROM cohort_log j WHERE j.action='join'"
					    " AND j.date <= ?1 AND NOT EXISTS (SELECT 1 FROM cohort_log l"
					    " WHERE l.action='leave' AND l.register_row = j.register_row"
					    " AND l.date < ?1) ORDER BY j.pseudo_id",
					    -1, &q, NULL), SQLITE_OK);
	sqlite3_bind_text(q, 1, day, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		size_t k = strlen(out);
		snprintf(out + k, cap - k, "%s ", (const char *)sqlite3_column_text(q, 0));
	}
	sqlite3_finalize(q);
}

static void test_consent_enrol_register(void **state)
{
	(void)state;
	sqlite3 *db = tiny();
	struct yoc_error e;
	struct yoc_cohort_enrol_stats es;
	define_select(db);
	import_ok(db, YOC_COHORT_REVIEW, good_review);
	/* consent gating: nobody consented, nobody joins */
	assert_int_equal(yoc_cohort_enrol(db, "frail", YOC_DATE_NONE, "t", &es, &e), 0);
	assert_int_equal(es.joined, 0);
	/* consent for an excluded person is refused */
	struct yoc_cohort_errors errs;
	struct yoc_cohort_import_stats st;
	char p[512];
	assert_int_equal(put_file(p, sizeof p, "pseudo_id,practice,consent_date,status,purposes\n"
					    "BBBB,P90001,2023-05-10,given,care\n"), 0);
	const char *paths[] = {p};
	assert_int_equal(yoc_cohort_import(db, "frail", YOC_COHORT_CONSENT, paths, 1, "t", &st,
					   &errs, &e), YOC_EDATA);
	assert_non_null(strstr(errs.err[0].msg, "not included"));
	unlink(p);
	import_ok(db, YOC_COHORT_CONSENT,
		  "pseudo_id,practice,consent_date,status,purposes\n"
		  "AAAA,P90001,2023-05-10,given,care;secondary\n"
		  "EEEE,P90001,2023-05-20,given,care\n"
		  "FFFF,P90001,2023-06-01,given,care;secondary\n");
	assert_int_equal(yoc_cohort_enrol(db, "frail", YOC_DATE_NONE, "t", &es, &e), 0);
	assert_int_equal(es.joined, 3);
	/* again: nobody new */
	assert_int_equal(yoc_cohort_enrol(db, "frail", YOC_DATE_NONE, "t", &es, &e), 0);
	assert_int_equal(es.joined, 0);
	assert_int_equal(es.already, 3);
	char b[64];
	assert_string_equal(text(db, "SELECT join_date FROM cohort_register WHERE pseudo_id='EEEE'",
				 b, sizeof b), "2023-05-20");
	/* the band of the year of joining (2023/24), or the latest before it */
	assert_string_equal(text(db, "SELECT tariff_category FROM cohort_register WHERE"
				     " pseudo_id='AAAA'", b, sizeof b), "C");
	assert_string_equal(text(db, "SELECT tariff_category FROM cohort_register WHERE"
				     " pseudo_id='FFFF'", b, sizeof b), "B");
	assert_int_equal(count(db, "SELECT secondary_use FROM cohort_register WHERE"
				   " pseudo_id='EEEE'"), 0);
	/* discharge and withdrawal close memberships */
	import_ok(db, YOC_COHORT_REVIEW,
		  "pseudo_id,practice,decision,reason,reason_text,reviewer_role,review_date\n"
		  "EEEE,P90001,discharge,goals_met,,MDT,2023-11-30\n");
	import_ok(db, YOC_COHORT_CONSENT,
		  "pseudo_id,practice,consent_date,status,purposes\n"
		  "FFFF,P90001,2023-09-15,withdrawn,\n");
	assert_string_equal(text(db, "SELECT leave_reason FROM cohort_register WHERE"
				     " pseudo_id='EEEE'", b, sizeof b), "clinician_discharged");
	assert_string_equal(text(db, "SELECT leave_date FROM cohort_register WHERE"
				     " pseudo_id='FFFF'", b, sizeof b), "2023-09-15");
	/* append-only */
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM cohort_register", NULL, NULL, NULL),
			     SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE cohort_register SET leave_date='2024-01-01'"
					      " WHERE pseudo_id='EEEE'", NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE cohort_register SET practice='X'"
					      " WHERE pseudo_id='AAAA'", NULL, NULL, NULL), SQLITE_OK);
	/* as of every day from April 2023 to March 2024 equals the replayed log */
	for (int32_t d = yoc_date_from_ymd(2023, 4, 1); d <= yoc_date_from_ymd(2024, 3, 31); d++) {
		struct yoc_cohort_member *m;
		size_t n;
		assert_int_equal(yoc_cohort_register_asof(db, "frail", d, &m, &n, &e), 0);
		char got[256] = "", want[256];
		for (size_t i = 0; i < n; i++) {
			size_t k = strlen(got);
			snprintf(got + k, sizeof got - k, "%s ", m[i].pseudo);
		}
		yoc_free(m);
		replay(db, d, want, sizeof want);
		assert_string_equal(got, want);
	}
	struct yoc_cohort_funnel f;
	assert_int_equal(yoc_cohort_funnel(db, "frail", &f, &e), 0);
	assert_int_equal(f.selected, 5);
	assert_int_equal(f.reviewed, 5);
	assert_int_equal(f.included, 2);
	assert_int_equal(f.added, 1);
	assert_int_equal(f.excluded, 2);
	assert_int_equal(f.deferred, 1);
	assert_int_equal(f.consented, 3);  /* ever: FFFF withdrew later */
	assert_int_equal(f.secondary, 2);
	assert_int_equal(f.enrolled, 3);
	assert_int_equal(f.current, 1);
	struct yoc_cohort_month *mo;
	size_t nmo;
	assert_int_equal(yoc_cohort_months(db, "frail", yoc_date_from_ymd(2024, 3, 31), &mo, &nmo,
					   &e), 0);
	assert_int_equal(nmo, 11);  /* 2023-05 .. 2024-03 */
	assert_string_equal(mo[0].month, "2023-05");
	assert_int_equal(mo[0].size, 2);
	assert_int_equal(mo[1].joined, 1);
	assert_int_equal(mo[4].left, 1);   /* 2023-09: FFFF */
	assert_int_equal(mo[10].size, 1);
	yoc_free(mo);
	sqlite3_close(db);
}

static void test_moved_to_another_cohort(void **state)
{
	(void)state;
	sqlite3 *db = tiny();
	struct yoc_error e;
	struct yoc_cohort_enrol_stats es;
	define_select(db);
	import_ok(db, YOC_COHORT_REVIEW, good_review);
	import_ok(db, YOC_COHORT_CONSENT, "pseudo_id,practice,consent_date,status,purposes\n"
					  "AAAA,P90001,2023-05-10,given,care\n");
	assert_int_equal(yoc_cohort_enrol(db, "frail", YOC_DATE_NONE, "t", &es, &e), 0);
	/* a second cohort takes AAAA from 2023-08-01 */
	int v;
	assert_int_equal(yoc_cohort_define(db, "eol", "palliative", NULL, NULL, "t", &v, &e), 0);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO cohort_review(cohort, pseudo_id, practice,"
					  " decision, reason, reason_text, reviewer_role, review_date)"
					  " VALUES('eol','AAAA','P90001','add','other','x','GP',"
					  "'2023-08-01');"
					  "INSERT INTO cohort_consent(cohort, pseudo_id, practice,"
					  " consent_date, status, care, secondary) VALUES('eol','AAAA',"
					  "'P90001','2023-08-01','given',1,0)", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(yoc_cohort_enrol(db, "eol", YOC_DATE_NONE, "t", &es, &e), 0);
	assert_int_equal(es.moved, 1);
	char b[64];
	assert_string_equal(text(db, "SELECT leave_date || ' ' || leave_reason FROM cohort_register"
				     " WHERE cohort='frail'", b, sizeof b),
			    "2023-07-31 moved_to_another_cohort");
	sqlite3_close(db);
}

static void test_alloc_failures(void **state)
{
	(void)state;
	for (unsigned long n = 1; n < 400; n++) {
		sqlite3 *db = tiny();
		struct yoc_error e;
		struct yoc_cohort_errors errs;
		struct yoc_cohort_import_stats st;
		struct yoc_cohort_enrol_stats es;
		define_select(db);
		char p[512];
		assert_int_equal(put_file(p, sizeof p, good_review), 0);
		const char *paths[] = {p};
		yoc_alloc_fail_at(n);
		int rc = yoc_cohort_import(db, "frail", YOC_COHORT_REVIEW, paths, 1, "t", &st, &errs,
					   &e);
		if (rc == 0)
			rc = yoc_cohort_enrol(db, "frail", YOC_DATE_NONE, "t", &es, &e);
		yoc_alloc_fail_at(0);
		unlink(p);
		if (rc)
			assert_int_equal(rc, YOC_ENOMEM);
		/* all or nothing */
		long nrev = count(db, "SELECT count(*) FROM cohort_review");
		assert_true(nrev == 0 || nrev == 6);
		sqlite3_close(db);
		if (rc == 0)
			break;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_definitions),
		cmocka_unit_test(test_worklists_identify_nobody),
		cmocka_unit_test(test_review_idempotent),
		cmocka_unit_test(test_review_rejected_whole),
		cmocka_unit_test(test_review_identifier_column),
		cmocka_unit_test(test_consent_enrol_register),
		cmocka_unit_test(test_moved_to_another_cohort),
		cmocka_unit_test(test_alloc_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

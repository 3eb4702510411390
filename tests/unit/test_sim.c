/*
** Unit tests of src/sim: the scenario file's checks (line and field of each
** error, unknown settings and staff groups listed), and the engine on an
** in-memory catalog of 3,000 people over three years: a scenario that
** changes nothing reproduces the baseline exactly, the baseline is the same
** whatever the scenario (common random numbers), results do not depend on
** the number of threads, and a known multiplier gives the scenario value
** computed independently from the baseline's.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sim/sim.h"

static int parse(const char *text, struct yoc_scenario *s, struct yoc_error *e)
{
	yoc_error_clear(e);
	return yoc_scenario_parse(text, strlen(text), "t.json", s, e);
}

static void test_scenario_ok(void **st)
{
	(void)st;
	struct yoc_scenario s;
	struct yoc_error e;
	const char *t = "{\"format\": \"yoc-scenario-1\", \"name\": \"x\", \"cohorts\": [\"0-0.5\"],\n"
			"\"uptake\": {\"low\": 0.5, \"high\": 0.7}, \"effects\": {\"gp\": 1.2,\n"
			"\"emergency_admissions\": {\"mean\": 0.8, \"sd\": 0.05}}, \"ramp\": [0.5],\n"
			"\"shifts\": [{\"from\": \"emergency_admissions\", \"to\": \"community\", \"share\": 0.2}]}";
	assert_int_equal(parse(t, &s, &e), 0);
	assert_string_equal(s.name, "x");
	assert_int_equal(s.uptake.kind, YOC_UV_UNIFORM);
	assert_true(s.eff[SE_GP].a == 1.2);
	assert_int_equal(s.eff[SE_EMERGENCY_ADMISSIONS].kind, YOC_UV_NORMAL);
	assert_true(s.ramp[0] == 0.5 && s.ramp[2] == 0.5); /* later years keep the last */
	assert_int_equal(s.nshift, 1);
	assert_int_equal(strlen(s.sha256), 64);
	assert_false(yoc_scenario_is_null(&s));
	yoc_scenario_free(&s);
}

static void test_scenario_errors(void **st)
{
	(void)st;
	struct yoc_scenario s;
	struct yoc_error e;
	/* unknown settings, all listed, at the line of the first */
	const char *t1 = "{\"format\": \"yoc-scenario-1\",\n\"name\": \"x\",\n\"cohorts\": [\"0-0.5\"],\n"
			 "\"effects\": {\n  \"gp\": 1.1,\n  \"gpp\": 1.2,\n  \"acute\": 0.9\n}}";
	assert_int_equal(parse(t1, &s, &e), YOC_EPARSE);
	assert_int_equal(e.line, 6);
	assert_non_null(strstr(e.msg, "effects.gpp"));
	assert_non_null(strstr(e.msg, "gpp, acute"));
	/* unknown staff group */
	const char *t2 = "{\"format\": \"yoc-scenario-1\", \"name\": \"x\", \"cohorts\": [\"0-0.5\"],\n"
			 "\"workforce\": {\n\"surgeon\": {\"contacts_per_person\": 1}}}";
	assert_int_equal(parse(t2, &s, &e), YOC_EPARSE);
	assert_int_equal(e.line, 3);
	assert_non_null(strstr(e.msg, "unknown staff group(s): surgeon"));
	/* a value out of range names its field and line */
	const char *t3 = "{\"format\": \"yoc-scenario-1\", \"name\": \"x\", \"cohorts\": [\"0-0.5\"],\n"
			 "\"effects\": {\"ae\": 0.9},\n\"uptake\": 1.5}";
	assert_int_equal(parse(t3, &s, &e), YOC_EPARSE);
	assert_int_equal(e.line, 3);
	assert_non_null(strstr(e.msg, "uptake"));
	/* the JSON itself: line and column from the parser */
	const char *t4 = "{\"format\": \"yoc-scenario-1\",\n\"name\": \"x\"\n\"cohorts\": []}";
	assert_int_equal(parse(t4, &s, &e), YOC_EPARSE);
	assert_int_equal(e.line, 3);
	/* unknown top-level key; wrong format; both cohorts and rule */
	assert_int_equal(parse("{\"format\": \"yoc-scenario-1\", \"name\": \"x\", \"cohorts\": [\"a\"], \"budget\": 1}", &s, &e), YOC_EPARSE);
	assert_non_null(strstr(e.msg, "unknown setting(s): budget"));
	assert_int_equal(parse("{\"format\": \"yoc-scenario-9\", \"name\": \"x\", \"cohorts\": [\"a\"]}", &s, &e), YOC_EPARSE);
	assert_int_equal(parse("{\"format\": \"yoc-scenario-1\", \"name\": \"x\", \"cohorts\": [\"a\"], \"rule\": \"age > 1\"}", &s, &e), YOC_EPARSE);
	/* a range upside down; a shift to an unknown setting */
	assert_int_equal(parse("{\"format\": \"yoc-scenario-1\", \"name\": \"x\", \"cohorts\": [\"a\"], \"effects\": {\"gp\": {\"low\": 2, \"high\": 1}}}", &s, &e), YOC_EPARSE);
	assert_non_null(strstr(e.msg, "effects.gp"));
	assert_int_equal(parse("{\"format\": \"yoc-scenario-1\", \"name\": \"x\", \"cohorts\": [\"a\"],\n\"shifts\": [{\"from\": \"ae\", \"to\": \"moon\", \"share\": 1}]}", &s, &e), YOC_EPARSE);
	assert_non_null(strstr(e.msg, "shifts[0].to"));
	assert_int_equal(e.line, 2);
}

/* ---- the engine on a small catalog ------------------------------------------ */

static uint64_t lcg = 12345;
static double rnd(void)
{
	lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(lcg >> 11) / 9007199254740992.0;
}

static sqlite3 *make_db(void)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
		"CREATE TABLE person_year(pseudo_id TEXT, fyear TEXT, age INTEGER, sex TEXT,"
		" ltc_count INTEGER, died INTEGER, cost_total INTEGER, cost_elective INTEGER,"
		" cost_emergency INTEGER, cost_other_nonelective INTEGER, cost_daycase INTEGER,"
		" cost_outpatient INTEGER, cost_ae INTEGER, cost_community INTEGER, cost_mh INTEGER,"
		" cost_gp INTEGER, cost_social_care INTEGER, cost_ambulance INTEGER,"
		" emergency_admissions INTEGER, emergency_bed_days INTEGER, mh_bed_days INTEGER);"
		"CREATE TABLE risk_score(pseudo_id TEXT, fyear TEXT, rank INTEGER);",
		NULL, NULL, NULL), SQLITE_OK);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db,
		"INSERT INTO person_year VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21)",
		-1, &st, NULL), SQLITE_OK);
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	const char *fy[3] = {"2021/22", "2022/23", "2023/24"};
	for (int i = 0; i < 3000; i++) {
		char pid[32];
		snprintf(pid, sizeof pid, "p%05d", i);
		int age = (int)(rnd() * 95), ltc = (int)(rnd() * rnd() * 8);
		double frail = rnd() * rnd() * (1 + ltc);
		for (int y = 0; y < 3; y++) {
			if (y > 0 && rnd() < 0.03)
				break; /* moved away */
			int died = rnd() < 0.01 * (1 + ltc);
			int64_t c[11], tot = 0;
			for (int k = 0; k < 11; k++) {
				c[k] = rnd() < 0.3 + 0.1 * frail ? (int64_t)(rnd() * 50000 * (1 + frail)) : 0;
				tot += c[k];
			}
			sqlite3_bind_text(st, 1, pid, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 2, fy[y], -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 3, age + y);
			sqlite3_bind_text(st, 4, i % 2 ? "1" : "2", -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 5, ltc);
			sqlite3_bind_int(st, 6, died);
			sqlite3_bind_int64(st, 7, tot);
			for (int k = 0; k < 11; k++)
				sqlite3_bind_int64(st, 8 + k, c[k]);
			sqlite3_bind_int(st, 19, c[1] > 0 ? 1 + (int)(rnd() * 2) : 0);
			sqlite3_bind_int(st, 20, c[1] > 0 ? (int)(rnd() * 10) : 0);
			sqlite3_bind_int(st, 21, 0);
			assert_int_equal(sqlite3_step(st), SQLITE_DONE);
			sqlite3_reset(st);
			if (died)
				break;
		}
	}
	sqlite3_finalize(st);
	/* risk ranks of the base year by cost (ties by pseudonym) */
	assert_int_equal(sqlite3_exec(db,
		"INSERT INTO risk_score SELECT pseudo_id, fyear, row_number() OVER"
		" (ORDER BY cost_total DESC, pseudo_id) FROM person_year WHERE fyear = '2022/23';"
		"COMMIT", NULL, NULL, NULL), SQLITE_OK);
	return db;
}

static const char top2[] =
	"{\"format\": \"yoc-scenario-1\", \"name\": \"t\", \"cohorts\": [\"0-2\", \"2-10\"],"
	" \"uptake\": {\"low\": 0.6, \"high\": 0.9}, \"ramp\": [0.5, 1],"
	" \"effects\": {\"emergency_admissions\": {\"low\": 0.7, \"high\": 0.9}, \"community\": 1.4,"
	" \"length_of_stay\": 0.9}, \"bed_day_cost\": 600, \"service_cost\": 400,"
	" \"shifts\": [{\"from\": \"emergency_admissions\", \"to\": \"gp\", \"share\": 0.5}]}";
static const char nochange[] =
	"{\"format\": \"yoc-scenario-1\", \"name\": \"n\", \"cohorts\": [\"0-2\", \"2-10\"]}";
static const char gp2[] =
	"{\"format\": \"yoc-scenario-1\", \"name\": \"g\", \"cohorts\": [\"0-2\"], \"effects\": {\"gp\": 2}}";

static const char em_half[] =
	"{\"format\": \"yoc-scenario-1\", \"name\": \"h\", \"cohorts\": [\"0-2\", \"2-10\"],"
	" \"effects\": {\"emergency_admissions\": 0.5}}";

static void run_with(sqlite3 *db, const char *text, int threads, struct yoc_sim_data *d,
		     struct yoc_sim_result *r, struct yoc_scenario *s)
{
	struct yoc_error e;
	yoc_error_clear(&e);
	assert_int_equal(yoc_scenario_parse(text, strlen(text), "t.json", s, &e), 0);
	if (!d->p) {
		const double cuts[2] = {2, 10};
		int rc = yoc_sim_data_load(db, 2022, cuts, 2, NULL, d, &e);
		if (rc)
			fail_msg("%s", e.msg);
	}
	struct yoc_sim_opts o = {3, 24, 7, threads};
	assert_int_equal(yoc_sim_run(d, s, &o, r, &e), 0);
}

static void test_engine(void **st)
{
	(void)st;
	sqlite3 *db = make_db();
	struct yoc_sim_data d;
	memset(&d, 0, sizeof d);
	struct yoc_sim_result rn, rt1, rt2, rg;
	struct yoc_scenario sn, st1, st2, sg;
	run_with(db, nochange, 1, &d, &rn, &sn);
	run_with(db, top2, 1, &d, &rt1, &st1);
	run_with(db, top2, 2, &d, &rt2, &st2);
	run_with(db, gp2, 2, &d, &rg, &sg);
	assert_int_equal(d.ncohort, 3);
	assert_true(d.n > 2500);
	assert_true(d.have_next);
	size_t cells = (size_t)rn.runs * (size_t)rn.nc * (size_t)rn.years;
	/* no change: the scenario is the baseline exactly, every run, cohort, year */
	for (size_t i = 0; i < cells; i++) {
		const double *A = rn.res + i * SM_N;
		assert_memory_equal(A + SM_BASE, A + SM_SCN, SA_N * sizeof(double));
		for (int f = 0; f < SE_N + 2; f++)
			assert_true(A[SM_FACTOR + f] == 0);
	}
	/* CRN: the baseline does not depend on the scenario; the scenario changes costs */
	int differs = 0;
	for (size_t i = 0; i < cells; i++) {
		const double *A = rn.res + i * SM_N, *B = rt1.res + i * SM_N;
		assert_true(A[SM_PEOPLE] == B[SM_PEOPLE] && A[SM_DIED] == B[SM_DIED] &&
			    A[SM_MOVED] == B[SM_MOVED]);
		assert_memory_equal(A + SM_BASE, B + SM_BASE, SA_N * sizeof(double));
		differs |= memcmp(B + SM_BASE, B + SM_SCN, SA_N * sizeof(double)) != 0;
	}
	assert_true(differs);
	/* threads: identical results with 1 and 2 */
	assert_memory_equal(rt1.res, rt2.res, cells * SM_N * sizeof(double));
	assert_memory_equal(rt1.param, rt2.param, (size_t)rt1.runs * YOC_SIM_NPARAM * sizeof(double));
	/* gp x 2, uptake 1, ramp 1: the offered cohort's scenario gp cost is twice
	 * its baseline, the change by factor is the baseline's gp, others unchanged */
	for (int run = 0; run < rg.runs; run++)
		for (int c = 0; c < rg.nc; c++)
			for (int y = 0; y < rg.years; y++) {
				const double *A = rg.res + (((size_t)run * rg.nc + c) * rg.years + y) * SM_N;
				double want = A[SM_BASE + SA_GP] * 2;
				assert_true(fabs(A[SM_SCN + SA_GP] - want) <= 1e-6 * (1 + want));
				assert_true(fabs(A[SM_FACTOR + SE_GP] - A[SM_BASE + SA_GP]) <=
					    1e-6 * (1 + want));
				assert_true(A[SM_SCN + SA_EMERGENCY] == A[SM_BASE + SA_EMERGENCY]);
				assert_true(A[SM_ENROLLED] == (c < d.ncohort ? A[SM_PEOPLE] : 0));
			}
	/* emergency admissions x 0.5: prevented admission by admission, so a
	 * cohort-year keeps no more than its baseline and not exactly half of
	 * it, and over the runs about half; nothing else changes */
	{
		struct yoc_sim_result rh;
		struct yoc_scenario sh;
		run_with(db, em_half, 1, &d, &rh, &sh);
		double kb = 0, ks = 0;
		int inexact = 0;
		for (int run = 0; run < rh.runs; run++)
			for (int c = 0; c < 2; c++)
				for (int y = 0; y < rh.years; y++) {
					const double *A = rh.res + (((size_t)run * rh.nc + c) * rh.years + y) * SM_N;
					assert_true(A[SM_SCN + SA_EM_ADM] <= A[SM_BASE + SA_EM_ADM] + 1e-9);
					assert_true(A[SM_SCN + SA_GP] == A[SM_BASE + SA_GP]);
					inexact |= fabs(A[SM_SCN + SA_EM_ADM] - 0.5 * A[SM_BASE + SA_EM_ADM]) > 1e-6;
					kb += A[SM_BASE + SA_EM_ADM];
					ks += A[SM_SCN + SA_EM_ADM];
				}
		assert_true(inexact);
		assert_true(kb > 200);
		assert_true(fabs(ks / kb - 0.5) < 0.05);
		yoc_sim_result_free(&rh);
		yoc_scenario_free(&sh);
	}
	/* waterfall factors add up to the scenario's total change (offered cohorts) */
	struct yoc_sim_stat wf[SE_N + 2];
	assert_int_equal(yoc_sim_waterfall(&d, &st1, &rt1, wf), 0);
	double sumf = 0, diff = 0;
	for (int k = 0; k < SE_N + 2; k++)
		sumf += wf[k].mean;
	for (int run = 0; run < rt1.runs; run++)
		for (int c = 0; c < 2; c++)
			for (int y = 0; y < rt1.years; y++) {
				const double *A = rt1.res + (((size_t)run * rt1.nc + c) * rt1.years + y) * SM_N;
				for (int k = 0; k < SA_NCOST; k++)
					diff += A[SM_SCN + k] - A[SM_BASE + k];
				diff += A[SM_SERVICE_COST];
			}
	diff /= rt1.runs;
	assert_true(fabs(sumf - diff) <= 1e-6 * fabs(diff) + 1e-3);
	/* the observed next-year mean of the top cohort, recomputed in SQL */
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(db,
		"SELECT avg(b.cost_total) / 100.0 FROM person_year a JOIN risk_score r USING (pseudo_id, fyear)"
		" JOIN person_year b ON b.pseudo_id = a.pseudo_id AND b.fyear = '2023/24'"
		" WHERE a.fyear = '2022/23' AND a.died = 0 AND r.rank <= (SELECT count(*) * 2 / 100 FROM risk_score)",
		-1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_true(fabs(sqlite3_column_double(q, 0) - d.obs_next_mean[0]) < 0.01);
	sqlite3_finalize(q);
	/* the same seed gives the same draws; another seed does not */
	assert_true(yoc_sim_u(7, 3, 99, 1, 0) == yoc_sim_u(7, 3, 99, 1, 0));
	assert_true(yoc_sim_u(7, 3, 99, 1, 0) != yoc_sim_u(8, 3, 99, 1, 0));
	yoc_sim_result_free(&rn);
	yoc_sim_result_free(&rt1);
	yoc_sim_result_free(&rt2);
	yoc_sim_result_free(&rg);
	yoc_scenario_free(&sn);
	yoc_scenario_free(&st1);
	yoc_scenario_free(&st2);
	yoc_scenario_free(&sg);
	yoc_sim_data_free(&d);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenario_ok),
		cmocka_unit_test(test_scenario_errors),
		cmocka_unit_test(test_engine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

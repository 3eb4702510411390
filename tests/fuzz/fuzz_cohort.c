/*
** libFuzzer target for the cohort review and consent files (src/cohort):
** the input's first byte picks review or consent, the rest is the file.
**
** Checked, on a small in-memory catalog with a selection: an import either
** succeeds or fails; a failure leaves the review, consent, register and log
** tables exactly as they were (nothing half-imported) and, when it is for
** the file's content (YOC_EDATA), names the file with a line; a success
** imported again changes nothing. A failed check aborts.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cohort/cohort.h"

#define CHECK(x) do { if (!(x)) { \
	fprintf(stderr, "fuzz_cohort: check failed: %s (line %d)\n", #x, __LINE__); \
	abort(); } } while (0)

static const char setup_sql[] =
	"CREATE TABLE person(person_idx INTEGER PRIMARY KEY, pseudo_id TEXT UNIQUE,"
	" date_of_death TEXT);"
	"CREATE TABLE person_year(pseudo_id TEXT, fyear TEXT, age INTEGER, practice TEXT,"
	" imd_decile INTEGER, copd INTEGER, ltc_count INTEGER, band TEXT,"
	" emergency_admissions INTEGER, died INTEGER, cost_total INTEGER);"
	"INSERT INTO person(pseudo_id) VALUES ('a'),('b'),('c'),('d');"
	"INSERT INTO person_year VALUES ('a','2022/23',70,'P90001',1,1,1,'B',1,0,100),"
	" ('b','2022/23',40,'P90001',2,1,1,'A',0,0,0), ('c','2022/23',80,'P90002',3,0,0,'A',0,0,5),"
	" ('d','2022/23',NULL,NULL,NULL,0,0,'A',0,0,0);";

static long state(sqlite3 *db)
{
	sqlite3_stmt *q = NULL;
	long v = 0;
	CHECK(sqlite3_prepare_v2(db,
				 "SELECT (SELECT count(*) FROM cohort_review) * 1000000 +"
				 " (SELECT count(*) FROM cohort_consent) * 10000 +"
				 " (SELECT count(*) FROM cohort_log) * 100 +"
				 " (SELECT count(*) FROM cohort_register WHERE leave_date IS NULL)",
				 -1, &q, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(q) == SQLITE_ROW);
	v = (long)sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	if (!path[0]) {
		snprintf(path, sizeof path, "/tmp/fuzz_cohort_%d.csv", (int)getpid());
		setenv("YOC_TODAY", "2024-03-31", 1);
	}
	if (size < 1)
		return 0;
	sqlite3 *db = NULL;
	struct yoc_error e;
	CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, setup_sql, NULL, NULL, NULL) == SQLITE_OK);
	int v;
	CHECK(yoc_cohort_define(db, "c", "copd", NULL, NULL, "fuzz", &v, &e) == 0);
	struct yoc_cohort_def d;
	CHECK(yoc_cohort_def_get(db, "c", 0, &d, &e) == 0);
	char *ps[] = {"a", "b", "c"}, *rs[] = {"copd", "copd", ""};
	struct yoc_cohort_pick pk = {.n = 4, .nsel = 3, .pseudo = ps, .reasons = rs};
	struct yoc_cohort_sel_stats ss;
	CHECK(yoc_cohort_select_store(db, &d, 2022, "", &pk, "fuzz", &ss, &e) == 0);
	yoc_cohort_def_free(&d);
	/* a member to discharge or withdraw */
	CHECK(sqlite3_exec(db, "INSERT INTO cohort_review(cohort, pseudo_id, practice, decision,"
			       " reason, reason_text, reviewer_role, review_date) VALUES('c','a',"
			       "'P90001','include','','','GP','2023-05-01'); INSERT INTO"
			       " cohort_consent(cohort, pseudo_id, practice, consent_date, status, care,"
			       " secondary) VALUES('c','a','P90001','2023-05-02','given',1,1)",
			       NULL, NULL, NULL) == SQLITE_OK);
	struct yoc_cohort_enrol_stats es;
	CHECK(yoc_cohort_enrol(db, "c", YOC_DATE_NONE, "fuzz", &es, &e) == 0);
	FILE *f = fopen(path, "wb");
	CHECK(f);
	CHECK(fwrite(data + 1, 1, size - 1, f) == size - 1);
	CHECK(fclose(f) == 0);
	int kind = data[0] & 1 ? YOC_COHORT_CONSENT : YOC_COHORT_REVIEW;
	const char *paths[] = {path};
	struct yoc_cohort_import_stats st;
	static struct yoc_cohort_errors errs;
	long before = state(db);
	int rc = yoc_cohort_import(db, "c", kind, paths, 1, "fuzz", &st, &errs, &e);
	if (rc) {
		CHECK(state(db) == before);
		if (rc == YOC_EDATA) {
			CHECK(errs.n > 0);
			CHECK(strcmp(errs.err[0].file, path) == 0);
			CHECK(errs.err[0].line >= 1);
		}
	} else {
		long after = state(db);
		CHECK(yoc_cohort_import(db, "c", kind, paths, 1, "fuzz", &st, &errs, &e) == 0);
		CHECK(st.added == 0);
		CHECK(state(db) == after);
	}
	sqlite3_close(db);
	unlink(path);
	return 0;
}

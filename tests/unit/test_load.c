/* Unit tests for src/load: row accounting, reasons, unchanged/replaced, rollback, allocation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "load/load.h"
#include "testutil.h"

#define P1 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
static const char reg[] =
	"PSEUDO_ID,NHSNO_STATUS,GPPRAC,REG_START,REG_END,SEX,MYDOB,LSOA11,IMD_DECILE\n"
	P1 ",valid,P81001,2010-01-01,,1,011950,E01000001,3\n";
static const char apc[] =
	"PSEUDO_ID,NHSNO_STATUS,EPISTART,ADMIMETH,EPIORDER,COST\n"
	P1 ",valid,2023-01-05,21,1,1234.50\n"          /* loaded, linked */
	",missing,2023-01-06,11,1,10\n"                 /* loaded, no pseudonym */
	P1 ",valid,,21,1,1\n"                          /* quarantined: missing_required */
	P1 ",valid,2023-13-01,21,1,1\n"                /* quarantined: bad_date */
	P1 ",valid,2023-01-07,zz,x,abc\n"              /* loaded: flags bad_code, bad_number, bad_money */
	P1 ",valid,2023-01-08,2a,1,1\n"                /* loaded: code standardised to 2A */
	P1 ",valid,2023-01-09\n"                       /* quarantined: ragged */
	"bbbb,valid,2023-01-10,21,1,1\n";               /* loaded: bad pseudo id nulled */

static int newstore(char *dir, size_t cap, yoc_store **s)
{
	struct yoc_error e;
	if (tu_temp_dir(dir, cap, "load") || yoc_store_init(dir, &e))
		return -1;
	return yoc_store_open(s, dir, YOC_STORE_WRITE, &e);
}

static int64_t q1(yoc_store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	if (sqlite3_prepare_v2(yoc_store_db(s), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int64_t reason(const struct yoc_load_result *r, const char *code)
{
	for (size_t i = 0; i < r->nreasons; i++)
		if (strcmp(r->reasons[i].code, code) == 0)
			return r->reasons[i].rows;
	return 0;
}

static void test_accounting(void **state)
{
	(void)state;
	char dir[512];
	yoc_store *s = NULL;
	struct yoc_loader *L = NULL;
	struct yoc_load_result r;
	struct yoc_error e;
	assert_int_equal(newstore(dir, sizeof dir, &s), 0);
	assert_int_equal(yoc_loader_begin(&L, s, &e), 0);
	assert_int_equal(yoc_loader_mem(L, "reg/GP_202301.csv", reg, sizeof reg - 1, -1, &r, &e), 0);
	assert_int_equal(r.kind, YOC_KIND_GP_REGISTER);
	assert_int_equal(yoc_loader_mem(L, "apc/RX1_202301.csv", apc, sizeof apc - 1, -1, &r, &e), 0);
	assert_int_equal(r.status, YOC_LOAD_LOADED);
	assert_string_equal(r.provider, "RX1");
	assert_string_equal(r.period, "202301");
	assert_int_equal(r.rows, 8);
	assert_int_equal(r.loaded, 5);
	assert_int_equal(r.quarantined, 3);
	assert_int_equal(reason(&r, "missing_required"), 1);
	assert_int_equal(reason(&r, "bad_date"), 1);
	assert_int_equal(reason(&r, "csv_ragged_row"), 1);
	assert_int_equal(yoc_loader_commit(L, &e), 0);
	yoc_loader_free(L);
	assert_int_equal(q1(s, "select count(*) from flags where reason='bad_code'"), 1);
	assert_int_equal(q1(s, "select count(*) from flags where reason='bad_number'"), 1);
	assert_int_equal(q1(s, "select count(*) from flags where reason='bad_money'"), 1);
	assert_int_equal(q1(s, "select count(*) from flags where reason='code_standardised'"), 1);
	assert_int_equal(q1(s, "select count(*) from flags where reason='bad_pseudo_id'"), 1);
	assert_int_equal(q1(s, "select linked from linkage l join files using(file_id) where kind='apc'"), 3);
	assert_int_equal(q1(s, "select no_pseudonym from linkage l join files using(file_id) where kind='apc'"), 2);
	assert_int_equal(q1(s, "select count(*) from person"), 1);
	assert_int_equal(q1(s, "select birth_year from person"), 1950);

	/* read API */
	struct yoc_file_info *fi;
	size_t nf;
	assert_int_equal(yoc_store_files(s, YOC_KIND_APC, 0, &fi, &nf, &e), 0);
	assert_int_equal(nf, 1);
	yoc_seg *g;
	assert_int_equal(yoc_seg_open(s, fi[0].file_id, &g, &e), 0);
	assert_int_equal(yoc_seg_nrows(g), 5);
	assert_int_equal(yoc_seg_person(g, 0), 0);
	assert_int_equal(yoc_seg_person(g, 1), -1);
	assert_int_equal(yoc_seg_int(g, yoc_seg_col(g, "COST"), 0), 123450);
	struct yoc_cell c = yoc_seg_text(g, yoc_seg_col(g, "ADMIMETH"), 3);
	assert_int_equal(c.n, 2);
	assert_memory_equal(c.p, "2A", 2);
	yoc_seg_close(g);
	yoc_store_files_free(fi);

	/* same content again: unchanged; new content for the same month: replaced */
	assert_int_equal(yoc_loader_begin(&L, s, &e), 0);
	assert_int_equal(yoc_loader_mem(L, "x/RX1_202301.csv", apc, sizeof apc - 1, -1, &r, &e), 0);
	assert_int_equal(r.status, YOC_LOAD_UNCHANGED);
	assert_int_equal(r.rows, 8);
	assert_int_equal(r.quarantined, 3);
	assert_int_equal(yoc_loader_mem(L, "x/RX1_202301.csv", apc, 100, -1, &r, &e), 0);
	assert_int_equal(r.status, YOC_LOAD_REPLACED);
	/* rollback: nothing of this load remains */
	yoc_loader_free(L);
	assert_int_equal(q1(s, "select count(*) from files"), 2);
	assert_int_equal(q1(s, "select count(*) from files where superseded_by is not null"), 0);

	/* identifiable header refused */
	assert_int_equal(yoc_loader_begin(&L, s, &e), 0);
	assert_int_equal(yoc_loader_mem(L, "x/A_1.csv", "NEWNHSNO,APPTDATE\n1,2023-01-01\n", 31, -1, &r, &e), 0);
	assert_int_equal(r.status, YOC_LOAD_REJECTED);
	assert_non_null(strstr(r.message, "pseudonymise"));
	yoc_loader_free(L);
	yoc_store_close(s);
	tu_rm_rf(dir);
}

/* Dates, duplicate rows and a month sent twice under a second name. */
static const char op[] =
	"PSEUDO_ID,NHSNO_STATUS,ATTENDKEY,APPTDATE,ATTENDED,MYDOB,TRETSPEF,GPPRAC\n"
	P1 ",valid,K1,2023-01-05,5,011950,300,P81001\n"     /* clean */
	P1 ",valid,K2,05/01/2023,5,011950,300,P81001\n"     /* date_format, kept */
	P1 ",valid,K3,2099-01-05,5,011950,300,P81001\n"     /* quarantined: date_in_future */
	P1 ",valid,K4,1850-01-05,5,011950,300,P81001\n"     /* quarantined: date_out_of_range */
	P1 ",valid,K5,2023-01-05,5,011850,999,P00000\n"     /* MYDOB out of range; 2 bad codes */
	P1 ",valid,K1,2023-01-05,5,011950,300,P81001\n";    /* duplicate of line 2 */

static void test_dates_duplicates(void **state)
{
	(void)state;
	char dir[512];
	yoc_store *s = NULL;
	struct yoc_loader *L = NULL;
	struct yoc_load_result r;
	struct yoc_error e;
	assert_int_equal(newstore(dir, sizeof dir, &s), 0);
	assert_int_equal(yoc_loader_begin(&L, s, &e), 0);
	assert_int_equal(yoc_loader_mem(L, "op/RX1_2023-01.csv", op, sizeof op - 1, -1, &r, &e), 0);
	assert_int_equal(r.kind, YOC_KIND_OP);
	assert_string_equal(r.period, "2023-01");
	assert_int_equal(r.rows, 6);
	assert_int_equal(r.loaded, 3);
	assert_int_equal(reason(&r, "date_in_future"), 1);
	assert_int_equal(reason(&r, "date_out_of_range"), 1);
	assert_int_equal(reason(&r, "duplicate_row"), 1);
	/* the same bytes under a _v2 name: same provider and period, unchanged, remembered */
	assert_int_equal(yoc_loader_mem(L, "op/RX1_2023-01_v2.csv", op, sizeof op - 1, -1, &r, &e), 0);
	assert_int_equal(r.status, YOC_LOAD_UNCHANGED);
	assert_string_equal(r.provider, "RX1");
	assert_string_equal(r.period, "2023-01");
	assert_int_equal(yoc_loader_commit(L, &e), 0);
	yoc_loader_free(L);
	assert_int_equal(q1(s, "select count(*) from flags where reason='date_format' and line=3"), 1);
	assert_int_equal(q1(s, "select count(*) from flags where reason='date_out_of_range' and field='MYDOB'"), 1);
	assert_int_equal(q1(s, "select count(*) from flags where reason='bad_code' and line=6"), 2);
	assert_int_equal(q1(s, "select count(*) from duplicate_files where path='op/RX1_2023-01_v2.csv'"), 1);
	/* loading both again changes nothing */
	assert_int_equal(yoc_loader_begin(&L, s, &e), 0);
	assert_int_equal(yoc_loader_mem(L, "op/RX1_2023-01_v2.csv", op, sizeof op - 1, -1, &r, &e), 0);
	assert_int_equal(yoc_loader_commit(L, &e), 0);
	yoc_loader_free(L);
	assert_int_equal(q1(s, "select count(*) from duplicate_files"), 1);
	assert_int_equal(q1(s, "select count(*) from loads"), 1);
	yoc_store_close(s);
	tu_rm_rf(dir);
}

static void test_alloc_failures(void **state)
{
	(void)state;
	int completed = 0;
	for (unsigned long k = 1; k < 400 && !completed; k++) {
		char dir[512];
		yoc_store *s = NULL;
		struct yoc_loader *L = NULL;
		struct yoc_load_result r;
		struct yoc_error e;
		assert_int_equal(newstore(dir, sizeof dir, &s), 0);
		yoc_alloc_fail_at(k);
		int rc = yoc_loader_begin(&L, s, &e);
		if (!rc)
			rc = yoc_loader_mem(L, "r/GP_1.csv", reg, sizeof reg - 1, -1, &r, &e);
		if (!rc)
			rc = yoc_loader_mem(L, "a/RX_1.csv", apc, sizeof apc - 1, -1, &r, &e);
		if (!rc)
			rc = yoc_loader_commit(L, &e);
		yoc_alloc_fail_at(0);
		yoc_loader_free(L);
		int64_t files = q1(s, "select count(*) from files");
		if (rc == 0) {
			completed = 1;
			assert_int_equal(files, 2);
		} else {
			assert_int_equal(files, 0); /* all or nothing */
		}
		yoc_store_close(s);
		tu_rm_rf(dir);
	}
	assert_true(completed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accounting), cmocka_unit_test(test_dates_duplicates),
		cmocka_unit_test(test_alloc_failures),
	};
	return cmocka_run_group_tests_name("load", tests, NULL, NULL);
}

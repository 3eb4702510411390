/* Unit tests for src/load: row accounting, reasons, unchanged/replaced, rollback, allocation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>

#include "account/account.h"
#include "load/load.h"
#include "testutil.h"
#include "yoc/date.h"
#include "yoc/io.h"

#define P1 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
/* yoc_seg_link_reasons codes, named as yoc_seg_link_reason names them */
static const char *const link_names[] = {"linked", "no_pseudonym", "not_registered"};

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
	return tu_sql_int(yoc_store_db(s), sql);
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
	assert_int_equal(yoc_loader_mem(L, "reg/GP_2023-01.csv", reg, sizeof reg - 1, -1, &r, &e), 0);
	assert_int_equal(r.kind, YOC_KIND_GP_REGISTER);
	assert_int_equal(yoc_loader_mem(L, "apc/RX1_2023-01.csv", apc, sizeof apc - 1, -1, &r, &e), 0);
	assert_int_equal(r.status, YOC_LOAD_LOADED);
	assert_string_equal(r.provider, "RX1");
	assert_string_equal(r.period, "2023-01");
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
	/* every row's linkage at once, as row by row (a linked row included) */
	unsigned char why[5];
	assert_int_equal(yoc_seg_link_reasons(g, why), 0);
	assert_int_equal(why[0], 0);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(yoc_seg_link_reason(g, i),
				    link_names[why[i]]);
	assert_int_equal(yoc_seg_int(g, yoc_seg_col(g, "COST"), 0), 123450);
	struct yoc_cell c = yoc_seg_text(g, yoc_seg_col(g, "ADMIMETH"), 3);
	assert_int_equal(c.n, 2);
	assert_memory_equal(c.p, "2A", 2);
	yoc_seg_close(g);
	yoc_store_files_free(fi);

	/* same content again: unchanged; new content for the same month: replaced */
	assert_int_equal(yoc_loader_begin(&L, s, &e), 0);
	assert_int_equal(yoc_loader_mem(L, "x/RX1_2023-01.csv", apc, sizeof apc - 1, -1, &r, &e), 0);
	assert_int_equal(r.status, YOC_LOAD_UNCHANGED);
	assert_int_equal(r.rows, 8);
	assert_int_equal(r.quarantined, 3);
	assert_int_equal(yoc_loader_mem(L, "x/RX1_2023-01.csv", apc, 100, -1, &r, &e), 0);
	assert_int_equal(r.status, YOC_LOAD_REPLACED);
	/* rollback: nothing of this load remains */
	yoc_loader_free(L);
	assert_int_equal(q1(s, "select count(*) from files"), 2);
	assert_int_equal(q1(s, "select count(*) from files where superseded_by is not null"), 0);

	/* identifiable header refused */
	assert_int_equal(yoc_loader_begin(&L, s, &e), 0);
	assert_int_equal(yoc_loader_mem(L, "x/AB1_2023-01.csv", "NEWNHSNO,APPTDATE\n1,2023-01-01\n", 31, -1, &r, &e), 0);
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

/*
** Duplicate rows are equal cells, however they were quoted: lines 3 and 4
** repeat line 2 with quotes; lines 5 and 6 hold the same characters as
** each other with the delimiter inside different cells, so differ; line 7
** repeats line 6.
*/
static const char opq[] =
	"PSEUDO_ID,NHSNO_STATUS,ATTENDKEY,APPTDATE,ATTENDED,MYDOB,TRETSPEF,GPPRAC\n"
	P1 ",valid,K1,2023-01-05,5,011950,300,P81001\n"
	"\"" P1 "\",valid,K1,2023-01-05,5,011950,300,P81001\n"
	P1 ",\"valid\",\"K1\",2023-01-05,5,011950,300,\"P81001\"\n"
	P1 ",valid,\"K2,x\",y,5,011950,300,P81001\n"
	P1 ",valid,K2,\"x,y\",5,011950,300,P81001\n"
	P1 ",valid,\"K2\",\"x,y\",5,011950,300,P81001\n";

static void test_duplicates_quoted(void **state)
{
	(void)state;
	char dir[512];
	yoc_store *s = NULL;
	struct yoc_loader *L = NULL;
	struct yoc_load_result r;
	struct yoc_error e;
	assert_int_equal(newstore(dir, sizeof dir, &s), 0);
	assert_int_equal(yoc_loader_begin(&L, s, &e), 0);
	assert_int_equal(yoc_loader_mem(L, "op/RX1_2023-02.csv", opq, sizeof opq - 1, -1, &r, &e), 0);
	assert_int_equal(r.rows, 6);
	assert_int_equal(reason(&r, "duplicate_row"), 3);
	assert_int_equal(yoc_loader_commit(L, &e), 0);
	yoc_loader_free(L);
	assert_int_equal(q1(s, "select count(*) from quarantine where reason='duplicate_row'"
			       " and line in (3, 4, 7)"), 3);
	yoc_store_close(s);
	tu_rm_rf(dir);
}

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

/* A name that is not PROVIDER_PERIOD[_vN].csv is refused whole, saying what is wrong. */
static void test_bad_names(void **state)
{
	(void)state;
	char dir[512];
	yoc_store *s = NULL;
	struct yoc_loader *L = NULL;
	struct yoc_load_result r;
	struct yoc_error e;
	static const char *const names[][2] = {
		{"op/RX1_2099-13.csv", "file name RX1_2099-13.csv: period 2099-13: month must be 01-12"},
		{"op/RX1_.csv", "no period"},
		{"op/RX1.csv", "no period"},
		{"op/rx1_2023-01.csv", "provider rx1: must be"},
		{"op/RX1_2023-01\n.csv", "file name RX1_2023-01\\x0a.csv: period 2023-01\\x0a"},
		{"op/RX1_2023-\"1.csv", "period 2023-\"1: must be YYYY-MM"},
		{"op/RX1_202301.csv", "period 202301: must be YYYY-MM"},
		{"op/RX1_2023-01_v1.csv", "suffix _v1"},
	};
	assert_int_equal(newstore(dir, sizeof dir, &s), 0);
	assert_int_equal(yoc_loader_begin(&L, s, &e), 0);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		assert_int_equal(yoc_loader_mem(L, names[i][0], op, sizeof op - 1, -1, &r, &e), 0);
		assert_int_equal(r.status, YOC_LOAD_REJECTED);
		if (!strstr(r.message, names[i][1]))
			fail_msg("%s: \"%s\" lacks \"%s\"", names[i][0], r.message, names[i][1]);
		assert_null(strchr(r.message, '\n'));
	}
	assert_int_equal(yoc_loader_mem(L, "op/RX1_2023-01.csv", op, sizeof op - 1, -1, &r, &e), 0);
	assert_int_equal(r.status, YOC_LOAD_LOADED);
	assert_int_equal(r.version, 1);
	assert_int_equal(yoc_loader_commit(L, &e), 0);
	yoc_loader_free(L);
	assert_int_equal(q1(s, "select count(*) from files"), 1);
	yoc_store_close(s);
	tu_rm_rf(dir);
}

/*
** Submissions of one kind, provider and period are ordered by version: the
** higher wins whatever the order the files come in, an older submission with
** other content is refused, and reloading the same files changes nothing.
*/
static void test_versions(void **state)
{
	(void)state;
	char dir[512];
	yoc_store *s = NULL;
	struct yoc_loader *L = NULL;
	struct yoc_load_result r;
	struct yoc_error e;
	size_t short_op = 200; /* the header and two rows: other content than op */
	assert_int_equal(newstore(dir, sizeof dir, &s), 0);
	/* v2 first, then the original with other content: v2 stays current */
	assert_int_equal(yoc_loader_begin(&L, s, &e), 0);
	assert_int_equal(yoc_loader_mem(L, "b/RX1_2023-01_v2.csv", op, sizeof op - 1, -1, &r, &e), 0);
	assert_int_equal(r.status, YOC_LOAD_LOADED);
	assert_int_equal(r.version, 2);
	assert_int_equal(yoc_loader_mem(L, "a/RX1_2023-01.csv", op, short_op, -1, &r, &e), 0);
	assert_int_equal(r.status, YOC_LOAD_REJECTED);
	assert_non_null(strstr(r.message, "older than the current file b/RX1_2023-01_v2.csv"));
	assert_non_null(strstr(r.message, "_v3"));
	assert_int_equal(yoc_loader_commit(L, &e), 0);
	yoc_loader_free(L);
	assert_int_equal(q1(s, "select count(*) from current_files where path = 'b/RX1_2023-01_v2.csv'"), 1);
	assert_int_equal(q1(s, "select count(*) from files"), 1);
	/* a later load: v3 replaces v2 */
	assert_int_equal(yoc_loader_begin(&L, s, &e), 0);
	assert_int_equal(yoc_loader_mem(L, "c/RX1_2023-01_v3.csv", op, short_op, -1, &r, &e), 0);
	assert_int_equal(r.status, YOC_LOAD_REPLACED);
	assert_int_equal(yoc_loader_commit(L, &e), 0);
	yoc_loader_free(L);
	/* the whole history again, in any order: nothing changes (v2's content is
	 * a superseded, lower submission: seen before, not re-applied) */
	assert_int_equal(yoc_loader_begin(&L, s, &e), 0);
	assert_int_equal(yoc_loader_mem(L, "b/RX1_2023-01_v2.csv", op, sizeof op - 1, -1, &r, &e), 0);
	assert_int_equal(r.status, YOC_LOAD_UNCHANGED);
	assert_int_equal(r.rows, 6);
	assert_int_equal(yoc_loader_mem(L, "c/RX1_2023-01_v3.csv", op, short_op, -1, &r, &e), 0);
	assert_int_equal(r.status, YOC_LOAD_UNCHANGED);
	assert_int_equal(yoc_loader_commit(L, &e), 0);
	yoc_loader_free(L);
	assert_int_equal(q1(s, "select count(*) from loads"), 2);
	assert_int_equal(q1(s, "select count(*) from current_files where path = 'c/RX1_2023-01_v3.csv'"), 1);
	/* v4 with v2's content is a new submission: it replaces v3 */
	assert_int_equal(yoc_loader_begin(&L, s, &e), 0);
	assert_int_equal(yoc_loader_mem(L, "d/RX1_2023-01_v4.csv", op, sizeof op - 1, -1, &r, &e), 0);
	assert_int_equal(r.status, YOC_LOAD_REPLACED);
	yoc_loader_free(L); /* rolled back */
	/* the same name with new content is a monthly refresh, as before */
	assert_int_equal(yoc_loader_begin(&L, s, &e), 0);
	assert_int_equal(yoc_loader_mem(L, "c/RX1_2023-01_v3.csv", op, 150, -1, &r, &e), 0);
	assert_int_equal(r.status, YOC_LOAD_REPLACED);
	yoc_loader_free(L);
	yoc_store_close(s);
	tu_rm_rf(dir);
}

static void put_file(const char *dir, const char *name, const char *text, size_t n)
{
	char p[1024];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	char *slash = strrchr(p, '/');
	*slash = 0;
	mkdir(p, 0755);
	*slash = '/';
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, n, f), n);
	fclose(f);
}

/*
** The plan of a load: versions of one submission in version order in the
** places they held, different files for one submission refused (naming each
** other), identical copies and unrecognised files left for the loader.
*/
static void test_plan(void **state)
{
	(void)state;
	char dir[512];
	assert_int_equal(tu_temp_dir(dir, sizeof dir, "plan"), 0);
	static const char *const rel[] = {
		"c/RX1_2023-01_v3.csv", "x/RX2_2023-01.csv", "b/RX1_2023-01_v2.csv",
		"a/RX1_2023-01.csv", "d/RX3_2023-01.csv", "e/RX3_2023-01.csv", "f/RX3_2023-01.txt",
		"g/bad_name.csv", "h/RX4_2023-01.csv", "i/RX4_2023-01.csv",
	};
	enum { N = sizeof rel / sizeof rel[0] };
	size_t len[N] = {150, 150, 200, 250, 150, 150, 200, 150, 150, 150};
	char paths[N][1100];
	const char *pp[N];
	for (size_t i = 0; i < N; i++) {
		put_file(dir, rel[i], op, len[i]);
		snprintf(paths[i], sizeof paths[i], "%s/%s", dir, rel[i]);
		pp[i] = paths[i];
	}
	struct yoc_load_plan p;
	struct yoc_error e;
	assert_int_equal(yoc_load_plan_make(&p, pp, N, -1, &e), 0);
	assert_int_equal(p.n, N);
	/* RX1's three places (0, 2, 3) hold v1, v2, v3; the rest stay put */
	static const int want[N] = {3, 1, 2, 0, 4, 5, 6, 7, 8, 9};
	for (size_t i = 0; i < N; i++) {
		assert_ptr_equal(p.items[i].path, pp[want[i]]);
		int refused = want[i] >= 4 && want[i] <= 6; /* RX3: d and e equal, f differs */
		assert_int_equal(p.items[i].refuse != NULL, refused);
	}
	assert_int_equal(p.items[0].version, 1);
	assert_int_equal(p.items[3].version, 3);
	assert_int_equal(p.items[0].kind, YOC_KIND_OP);
	assert_int_equal(p.items[7].kind, -1);       /* bad name: for the loader */
	assert_int_equal(p.items[7].version, 0);
	assert_non_null(strstr(p.items[4].refuse, "ambiguous: op RX3 2023-01 submission 1"));
	assert_non_null(strstr(p.items[4].refuse, "f/RX3_2023-01.txt;"));
	assert_null(strstr(p.items[4].refuse, "e/RX3"));  /* e is d's identical copy */
	assert_non_null(strstr(p.items[6].refuse, "d/RX3_2023-01.csv, "));
	assert_non_null(strstr(p.items[6].refuse, "e/RX3_2023-01.csv;"));
	struct yoc_load_result r;
	yoc_load_refused(&p.items[6], &r);
	assert_int_equal(r.status, YOC_LOAD_REJECTED);
	assert_string_equal(r.provider, "RX3");
	assert_string_equal(r.message, p.items[6].refuse);
	yoc_load_plan_free(&p);
	yoc_load_plan_free(&p); /* freed plans are zeroed */
	/* a given kind applies to every file */
	assert_int_equal(yoc_load_plan_make(&p, pp, N, YOC_KIND_APC, &e), 0);
	assert_int_equal(p.items[0].kind, YOC_KIND_APC);
	yoc_load_plan_free(&p);
	/* allocation failures: ENOMEM and nothing leaked, or the same plan */
	int completed = 0;
	for (unsigned long k = 1; k < 200 && !completed; k++) {
		yoc_alloc_fail_at(k);
		int rc = yoc_load_plan_make(&p, pp, N, -1, &e);
		yoc_alloc_fail_at(0);
		if (rc == 0) {
			completed = 1;
			assert_ptr_equal(p.items[0].path, pp[3]);
			assert_non_null(p.items[6].refuse);
		} else {
			assert_int_equal(rc, YOC_ENOMEM);
			assert_null(p.items);
		}
		yoc_load_plan_free(&p);
	}
	assert_true(completed);
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
			rc = yoc_loader_mem(L, "r/GP_2023-01.csv", reg, sizeof reg - 1, -1, &r, &e);
		if (!rc)
			rc = yoc_loader_mem(L, "a/RX_2023-01.csv", apc, sizeof apc - 1, -1, &r, &e);
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

/* ---- yoc_loader_file: read into memory, never mapped ------------------- */

/* A pipe holding data[n], its write end closed; returns the read end. */
static int pipe_with(const char *data, size_t n)
{
	int fd[2];
	assert_int_equal(pipe(fd), 0);
	assert_int_equal(write(fd[1], data, n), (ssize_t)n);
	close(fd[1]);
	return fd[0];
}

/*
** The read loop: short reads are read on; a file that ends before the size
** fstat gave (truncated while read) or runs past it (grew) is refused with a
** message, and so is a failed read. Before, the file was mapped and a
** truncation killed the load with SIGBUS.
*/
static void test_read_fd(void **state)
{
	(void)state;
	struct yoc_error e;
	char *buf = (char *)&e;
	int fd = pipe_with("abc", 3);
	yoc_error_clear(&e);
	assert_int_equal(yoc__load_read_fd(fd, 10, "f.csv", &buf, &e), YOC_EDATA);
	assert_null(buf);
	assert_string_equal(e.msg, "file changed while being read (shrank: 10 bytes expected)");
	assert_string_equal(e.file, "f.csv");
	close(fd);

	fd = pipe_with("abcdefghijkl", 12);
	assert_int_equal(yoc__load_read_fd(fd, 10, "f.csv", &buf, &e), YOC_EDATA);
	assert_null(buf);
	assert_string_equal(e.msg, "file changed while being read (grew: 10 bytes expected)");
	close(fd);

	fd = pipe_with("", 0);
	assert_int_equal(yoc__load_read_fd(fd, 0, "f.csv", &buf, &e), 0);
	assert_string_equal(buf, "");
	yoc_free(buf);
	close(fd);

	/* read(2) fails: a directory */
	fd = open(tu_tmpdir(), O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(yoc__load_read_fd(fd, 10, "d", &buf, &e), YOC_EIO);
	assert_null(buf);
	assert_non_null(strstr(e.msg, "read failed: "));
	assert_non_null(strstr(e.msg, strerror(EISDIR)));
	close(fd);

	/* 1 MB through a pipe (64 KiB at most per read): many short reads. */
	const size_t n = 1 << 20;
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		char chunk[4099];
		for (size_t i = 0; i < sizeof chunk; i++)
			chunk[i] = (char)('a' + i % 26);
		for (size_t done = 0; done < n;) {
			size_t k = n - done < sizeof chunk ? n - done : sizeof chunk;
			if (write(p[1], chunk, k) != (ssize_t)k)
				_exit(1);
			done += k;
		}
		_exit(0);
	}
	close(p[1]);
	int rc = yoc__load_read_fd(p[0], n, "p", &buf, &e);
	close(p[0]);
	int status;
	waitpid(pid, &status, 0);
	assert_int_equal(rc, 0);
	assert_int_equal(buf[n], 0);
	for (size_t i = 0; i < n; i += 4099)
		assert_int_equal(buf[i], 'a');
	assert_int_equal(buf[n - 1], (char)('a' + (n - 1) % 4099 % 26));
	yoc_free(buf);
}

/* A FIFO (or any non-regular file) is refused at once, never waited on. */
static void test_file_not_regular(void **state)
{
	(void)state;
	char dir[512], fifo[600];
	yoc_store *s = NULL;
	struct yoc_loader *L = NULL;
	struct yoc_load_result r;
	struct yoc_error e;
	assert_int_equal(newstore(dir, sizeof dir, &s), 0);
	snprintf(fifo, sizeof fifo, "%s/RX1_202301.csv", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(yoc_loader_begin(&L, s, &e), 0);
	/* no writer ever opens the FIFO: a blocking open would hang here */
	assert_int_equal(yoc_loader_file(L, fifo, -1, &r, &e), 0);
	assert_int_equal(r.status, YOC_LOAD_REJECTED);
	assert_non_null(strstr(r.message, "not a regular file"));
	assert_int_equal(yoc_loader_file(L, dir, -1, &r, &e), 0);
	assert_int_equal(r.status, YOC_LOAD_REJECTED);
	assert_non_null(strstr(r.message, "not a regular file"));
	yoc_loader_free(L);
	yoc_store_close(s);
	tu_rm_rf(dir);
}

/* An account in dir (file name) with one entry for rel: text's SHA-256, rows written. */
static void put_account(const char *dir, const char *name, const char *rel, const char *text,
			uint64_t written)
{
	char p[1200];
	struct yoc_account a;
	struct yoc_account_file f;
	struct yoc_error e;
	memset(&f, 0, sizeof f);
	f.path = (char *)rel;
	f.bytes = strlen(text);
	yoc_sha256_hex(text, strlen(text), f.sha256);
	f.rows_written = f.valid = written;
	f.opted_out = 2;
	f.rejected = f.rejected_by[YOC_CSV_STRAY_QUOTE] = 1;
	f.rows_read = written + 3;
	yoc_account_init(&a);
	assert_int_equal(yoc_account_add(&a, &f), 0);
	snprintf(p, sizeof p, "%s/%s", dir, name);
	assert_int_equal(yoc_account_write(&a, p, &e), 0);
	yoc_account_free(&a);
}

static const char *account_of(yoc_store *s, const char *path, const char *root)
{
	static struct yoc_load_result r;
	struct yoc_loader *L = NULL;
	struct yoc_error e;
	assert_int_equal(yoc_loader_begin(&L, s, &e), 0);
	assert_int_equal(yoc_loader_file_from(L, path, root, -1, &r, &e), 0);
	assert_true(r.status == YOC_LOAD_LOADED);
	yoc_loader_free(L); /* rolled back: the next call loads the file afresh */
	return r.account.status;
}

/*
** After a load that rebuilds the person table, the person cache holds the
** new table: the same persons and values as a fresh read of the committed
** table gives (a person registered twice, empty fields, a later period
** winning, a death).
*/
/* The person and linkage tables as text, in row order. */
static void dump_derived(yoc_store *s, struct yoc_buf *b)
{
	static const char *const q[] = {"select * from person order by person_idx",
					"select * from linkage order by rowid"};
	yoc_buf_reset(b);
	for (int k = 0; k < 2; k++) {
		sqlite3_stmt *st = NULL;
		assert_int_equal(sqlite3_prepare_v2(yoc_store_db(s), q[k], -1, &st, NULL), SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW)
			for (int c = 0; c < sqlite3_column_count(st); c++) {
				const unsigned char *t = sqlite3_column_text(st, c);
				yoc_buf_printf(b, "%s%c", t ? (const char *)t : "NULL",
					       c + 1 < sqlite3_column_count(st) ? '|' : '\n');
			}
		sqlite3_finalize(st);
		yoc_buf_printf(b, "==\n");
	}
}

/*
** yoc_store_rebuild_all (the load's end when the registered population
** changed: linkage counted on threads while the person rows are written)
** gives the tables of the rebuilds one after the other, with 1 or 3
** threads, and counts match the files as written; a damaged segment fails
** it with the segment named, threads or not.
*/
static void test_rebuild_all(void **state)
{
	(void)state;
	char dir[512];
	yoc_store *s = NULL;
	struct yoc_loader *L = NULL;
	struct yoc_load_result r;
	struct yoc_error e;
	struct yoc_buf csv, want, got;
	yoc_buf_init(&csv, 0);
	yoc_buf_init(&want, 0);
	yoc_buf_init(&got, 0);
	assert_int_equal(newstore(dir, sizeof dir, &s), 0);
	assert_int_equal(yoc_loader_begin(&L, s, &e), 0);
	assert_int_equal(yoc_loader_mem(L, "reg/GP_2023-01.csv", reg, sizeof reg - 1, -1, &r, &e), 0);
	/* file k: k rows of the registered person, 2 of an unknown one, 1 without */
	enum { NF = 40 };
	for (int k = 1; k <= NF; k++) {
		char name[64];
		yoc_buf_reset(&csv);
		yoc_buf_printf(&csv, "PSEUDO_ID,NHSNO_STATUS,EPISTART,ADMIMETH,EPIORDER,COST\n");
		for (int i = 0; i < k; i++)
			yoc_buf_printf(&csv, P1 ",valid,2023-%02d-%02d,21,%d,1\n", 1 + i % 12, 1 + k % 28, i);
		for (int i = 0; i < 2; i++)
			yoc_buf_printf(&csv, "%064d,valid,2023-01-02,21,%d,1\n", 7, i);
		yoc_buf_printf(&csv, ",missing,2023-01-03,21,1,1\n");
		snprintf(name, sizeof name, "apc/R%02d_2023-01.csv", k);
		assert_int_equal(yoc_loader_mem(L, name, csv.data, csv.len, -1, &r, &e), 0);
		assert_int_equal(r.loaded, k + 3);
	}
	assert_int_equal(yoc_loader_commit(L, &e), 0);
	yoc_loader_free(L);
	for (int k = 1; k <= NF; k++) {
		char q[256];
		snprintf(q, sizeof q, "select sum(linked) * 1000000 + sum(not_registered) * 1000 +"
			 " sum(no_pseudonym) from linkage join files using(file_id)"
			 " where path = 'apc/R%02d_2023-01.csv'", k);
		assert_int_equal(q1(s, q), (int64_t)k * 1000000 + 2000 + 1);
	}
	dump_derived(s, &want);
	/* the rebuilds one after the other, then the overlapped one */
	for (int jobs = 1; jobs <= 3; jobs += 2) {
		yoc_store_jobs(s, jobs);
		assert_int_equal(sqlite3_exec(yoc_store_db(s), "BEGIN", NULL, NULL, NULL), SQLITE_OK);
		assert_int_equal(yoc_store_rebuild_persons(s, &e), 0);
		assert_int_equal(sqlite3_exec(yoc_store_db(s), "DELETE FROM linkage", NULL, NULL, NULL),
				 SQLITE_OK);
		assert_int_equal(yoc_store_rebuild_linkage(s, &e), 0);
		dump_derived(s, &got);
		assert_int_equal(got.len, want.len);
		assert_memory_equal(got.data, want.data, want.len);
		assert_int_equal(yoc_store_rebuild_all(s, &e), 0);
		dump_derived(s, &got);
		assert_int_equal(got.len, want.len);
		assert_memory_equal(got.data, want.data, want.len);
		assert_int_equal(sqlite3_exec(yoc_store_db(s), "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
		yoc_store_persons_reset(s);
	}
	/* a damaged segment (verified when opened: not written by this load) */
	struct yoc_file_info *fi;
	size_t nf;
	assert_int_equal(yoc_store_files(s, YOC_KIND_APC, 0, &fi, &nf, &e), 0);
	assert_int_equal(nf, NF);
	char path[1200];
	snprintf(path, sizeof path, "%s/segments/%s", dir, fi[NF / 2].segment);
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	unsigned char c;
	assert_int_equal(pread(fd, &c, 1, 60), 1);
	c ^= 0x40;
	assert_int_equal(pwrite(fd, &c, 1, 60), 1);
	close(fd);
	for (int jobs = 1; jobs <= 3; jobs += 2) {
		yoc_store_jobs(s, jobs);
		yoc_error_clear(&e);
		assert_int_equal(sqlite3_exec(yoc_store_db(s), "BEGIN", NULL, NULL, NULL), SQLITE_OK);
		assert_int_not_equal(yoc_store_rebuild_all(s, &e), 0);
		assert_non_null(strstr(e.file, fi[NF / 2].segment));
		assert_int_equal(sqlite3_exec(yoc_store_db(s), "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
		yoc_store_persons_reset(s);
	}
	yoc_store_files_free(fi);
	yoc_buf_free(&csv);
	yoc_buf_free(&want);
	yoc_buf_free(&got);
	yoc_store_close(s);
	tu_rm_rf(dir);
}

static void test_person_cache(void **state)
{
	(void)state;
	static const char reg2[] =
		"PSEUDO_ID,NHSNO_STATUS,GPPRAC,REG_START,REG_END,SEX,MYDOB,LSOA11,IMD_DECILE\n"
		"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc,valid,P81002,"
		"2012-03-04,2023-02-01,2,021960,E01000002,7\n"
		P1 ",valid,P81003,2015-05-06,,,,,\n"
		"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb,valid,P81002,"
		"2001-01-01,,9,,,\n";
	static const char deaths[] = "PSEUDO_ID,NHSNO_STATUS,DOD\n"
		"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc,valid,2023-02-01\n";
	char dir[512];
	yoc_store *s = NULL;
	struct yoc_loader *L = NULL;
	struct yoc_load_result r;
	struct yoc_error e;
	assert_int_equal(newstore(dir, sizeof dir, &s), 0);
	assert_int_equal(yoc_loader_begin(&L, s, &e), 0);
	assert_int_equal(yoc_loader_mem(L, "reg/GP_2023-01.csv", reg, sizeof reg - 1, -1, &r, &e), 0);
	assert_int_equal(yoc_loader_mem(L, "reg/GP_2023-02.csv", reg2, sizeof reg2 - 1, -1, &r, &e),
			 0);
	assert_int_equal(yoc_loader_mem(L, "deaths/ONS_2023-02.csv", deaths, sizeof deaths - 1, -1,
					&r, &e), 0);
	assert_int_equal(yoc_loader_commit(L, &e), 0);
	yoc_loader_free(L);
	const struct yoc_person *c, *f;
	size_t nc, nf;
	assert_int_equal(yoc_store_persons(s, &c, &nc, &e), 0);
	yoc_store *s2 = NULL;
	assert_int_equal(yoc_store_open(&s2, dir, 0, &e), 0);
	assert_int_equal(yoc_store_persons(s2, &f, &nf, &e), 0);
	assert_int_equal(nc, 3);
	assert_int_equal(nc, nf);
	for (size_t i = 0; i < nc; i++) {
		assert_string_equal(c[i].pseudo, f[i].pseudo);
		assert_string_equal(c[i].sex, f[i].sex);
		assert_int_equal(c[i].birth_month, f[i].birth_month);
		assert_int_equal(c[i].birth_year, f[i].birth_year);
		assert_string_equal(c[i].practice, f[i].practice);
		assert_string_equal(c[i].lsoa, f[i].lsoa);
		assert_int_equal(c[i].imd_decile, f[i].imd_decile);
		assert_int_equal(c[i].reg_start, f[i].reg_start);
		assert_int_equal(c[i].reg_end, f[i].reg_end);
		assert_int_equal(c[i].dod, f[i].dod);
		assert_int_equal(yoc_store_person_index(s, c[i].pseudo, strlen(c[i].pseudo)), (int)i);
	}
	/* the later period wins; a death is kept */
	assert_string_equal(f[0].pseudo, P1);
	assert_string_equal(f[0].practice, "P81003");
	assert_int_equal(f[2].dod, yoc_date_from_ymd(2023, 2, 1));
	assert_int_equal(yoc_store_person_index(s, "dddd", 4), -1);
	/* the batched lookup answers as the single one, over more keys than
	 * its pipeline holds: persons, absent keys, prefixes, a NUL, empty */
	enum { NK = 100 };
	struct yoc_map_key keys[NK];
	int32_t got[NK];
	static const char nul[] = "cccccccccccccccccccccccccccccccc\0ccccccccccccccccccccccccccccccc";
	for (size_t i = 0; i < NK; i++) {
		const char *z = c[i % nc].pseudo;
		size_t zn = strlen(z);
		switch (i % 5) {
		case 0: case 1: keys[i] = (struct yoc_map_key){z, zn}; break;
		case 2: keys[i] = (struct yoc_map_key){z, zn - 1 - i % 7}; break;
		case 3: keys[i] = (struct yoc_map_key){nul, sizeof nul - 1}; break;
		default: keys[i] = (struct yoc_map_key){"", 0}; break;
		}
	}
	yoc_store_person_indexes(s2, keys, NK, got);
	for (size_t i = 0; i < NK; i++) {
		int32_t want = yoc_store_person_index(s2, keys[i].p, keys[i].n);
		assert_int_equal(got[i], want);
		assert_int_equal(got[i], i % 5 < 2 ? (int32_t)(i % nc) : -1);
	}
	yoc_store_close(s2);
	yoc_store_close(s);
	tu_rm_rf(dir);
}

/* An account of n entries: paths rel[i], contents text[i], rows written w[i]. */
static void put_accountv(const char *dir, const char *const *rel, const char *const *text,
			 const uint64_t *w, size_t n)
{
	char p[1200];
	struct yoc_account a;
	struct yoc_error e;
	yoc_account_init(&a);
	for (size_t i = 0; i < n; i++) {
		struct yoc_account_file f;
		memset(&f, 0, sizeof f);
		f.path = (char *)rel[i];
		f.bytes = strlen(text[i]);
		yoc_sha256_hex(text[i], strlen(text[i]), f.sha256);
		f.rows_written = f.valid = f.rows_read = w[i];
		assert_int_equal(yoc_account_add(&a, &f), 0);
	}
	snprintf(p, sizeof p, "%s/%s", dir, YOC_ACCOUNT_NAME);
	assert_int_equal(yoc_account_write(&a, p, &e), 0);
	yoc_account_free(&a);
}

/*
** Which entry of an account of many describes a file: the loader finds it
** through its index; yoc_account_match, a scan of the entries, is the
** reference. Same content under several paths, the file's own path among
** them or not, and entries under its path with other content.
*/
static void test_source_account_entries(void **state)
{
	(void)state;
	static const char *const own = "apc/RXA_2023-01.csv";
	struct {
		const char *rel[3], *text[3];
		uint64_t w[3];
		size_t n;
		const char *status, *entry;
	} cases[] = {
		{{"x/other.csv", own}, {apc, apc}, {8, 8}, 2, "matched", own},
		{{"x/a.csv", "x/b.csv"}, {apc, apc}, {8, 7}, 2, "matched", "x/a.csv"},
		{{"x/a.csv", "x/b.csv"}, {apc, apc}, {7, 8}, 2, "rows_differ", "x/a.csv"},
		{{"y.csv", own, "z.csv"}, {apc, apc, apc}, {8, 7, 8}, 3, "rows_differ", own},
		{{own, own}, {"one", "two"}, {8, 8}, 2, "changed", own},
		{{"y.csv", own}, {"one", "two"}, {8, 8}, 2, "changed", own},
		{{"y.csv", "z.csv"}, {"one", apc}, {8, 8}, 2, "matched", "z.csv"},
		{{"y.csv"}, {"one"}, {8}, 1, "no_entry", NULL},
	};
	char dir[512], top[700], sub[800], file[900], acct[900], sha[65];
	yoc_store *s = NULL;
	assert_int_equal(newstore(dir, sizeof dir, &s), 0);
	snprintf(top, sizeof top, "%s/feeds", dir);
	snprintf(sub, sizeof sub, "%s/apc", top);
	snprintf(acct, sizeof acct, "%s/%s", top, YOC_ACCOUNT_NAME);
	assert_int_equal(yoc_mkdirs(sub, 0755), 0);
	put_file(sub, "RXA_2023-01.csv", apc, strlen(apc));
	snprintf(file, sizeof file, "%s/RXA_2023-01.csv", sub);
	yoc_sha256_hex(apc, strlen(apc), sha);
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		put_accountv(top, cases[k].rel, cases[k].text, cases[k].w, cases[k].n);
		/* the reference: a scan of the account as read back */
		struct yoc_account a;
		struct yoc_error e;
		assert_int_equal(yoc_account_read(&a, acct, &e), 0);
		const struct yoc_account_file *named = NULL;
		const struct yoc_account_file *hit = yoc_account_match(&a, own, sha, &named);
		const struct yoc_account_file *want = hit ? hit : named;
		/* the loader's answer, read from the catalog before it rolls back */
		struct yoc_load_result r;
		struct yoc_loader *L = NULL;
		assert_int_equal(yoc_loader_begin(&L, s, &e), 0);
		assert_int_equal(yoc_loader_file_from(L, file, top, -1, &r, &e), 0);
		assert_string_equal(r.account.status, cases[k].status);
		sqlite3_stmt *st = NULL;
		assert_int_equal(sqlite3_prepare_v2(yoc_store_db(s), "SELECT entry, rows_written"
						    " FROM source_account", -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		const char *entry = (const char *)sqlite3_column_text(st, 0);
		if (cases[k].entry) {
			assert_non_null(entry);
			assert_string_equal(entry, cases[k].entry);
			assert_non_null(want);
			assert_string_equal(entry, want->path);
		} else {
			assert_null(entry);
			assert_null(want);
		}
		if (hit)
			assert_int_equal(sqlite3_column_int64(st, 1), (int64_t)hit->rows_written);
		sqlite3_finalize(st);
		yoc_loader_free(L);
		yoc_account_free(&a);
	}
	yoc_store_close(s);
	tu_rm_rf(dir);
}

/*
** Where a file's source account is looked for: FILE.account.json, then
** yoc-account.json in its folder and each folder above up to the PATH it
** was found under, never above; matched by content, not by name.
*/
static void test_source_account_lookup(void **state)
{
	(void)state;
	char dir[512], top[700], sub[800], file[900], root[800];
	yoc_store *s = NULL;
	assert_int_equal(newstore(dir, sizeof dir, &s), 0);
	snprintf(top, sizeof top, "%s/feeds", dir);
	snprintf(sub, sizeof sub, "%s/apc", top);
	assert_int_equal(yoc_mkdirs(sub, 0755), 0);
	put_file(sub, "RXA_2023-01.csv", apc, strlen(apc));
	snprintf(file, sizeof file, "%s/RXA_2023-01.csv", sub);
	put_account(top, YOC_ACCOUNT_NAME, "apc/RXA_2023-01.csv", apc, 8);
	/* found under feeds/: the account in feeds/ describes it */
	assert_string_equal(account_of(s, file, top), "matched");
	snprintf(root, sizeof root, "%s/", top); /* a trailing slash changes nothing */
	assert_string_equal(account_of(s, file, root), "matched");
	/* found under feeds/apc/, or named by itself: feeds/ is above, not looked at */
	assert_string_equal(account_of(s, file, sub), "no_account");
	assert_string_equal(account_of(s, file, file), "no_account");
	/* an account of the wrong row count: named, not trusted */
	put_account(top, YOC_ACCOUNT_NAME, "apc/RXA_2023-01.csv", apc, 7);
	assert_string_equal(account_of(s, file, top), "rows_differ");
	/* an entry under the file's name with other content */
	put_account(top, YOC_ACCOUNT_NAME, "apc/RXA_2023-01.csv", "other", 8);
	assert_string_equal(account_of(s, file, top), "changed");
	/* the nearest wins: FILE.account.json beside the file, under another name */
	put_account(sub, "RXA_2023-01.csv.account.json", "renamed.csv", apc, 8);
	assert_string_equal(account_of(s, file, file), "matched");
	assert_string_equal(account_of(s, file, top), "matched");
	yoc_store_close(s);
	tu_rm_rf(dir);
}

/*
** yoc_loader_file with allocation N failing, N = 1, 2, ... until the load
** completes without reaching it. The file has a row of 100 cells, so the
** reader itself runs out of memory mid-file for some N: the load must stop
** (not spin on the stopped reader) and say "out of memory"; out of memory
** while reading the file is never "empty input".
*/
static void test_file_alloc_failures(void **state)
{
	(void)state;
	char *data = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&data, &n);
	fputs(apc, f);
	for (int i = 0; i < 100; i++)
		fprintf(f, "%sx%d", i ? "," : "", i);
	fputs("\r" P1 ",valid,2023-01-11,21,1,2\r", f);
	fclose(f);
	/* A feed name (PROVIDER_PERIOD.csv) in a directory of its own. */
	char fdir[512], path[600];
	assert_int_equal(tu_temp_dir(fdir, sizeof fdir, "loadoom"), 0);
	snprintf(path, sizeof path, "%s/RX2_2023-01.csv", fdir);
	FILE *ff = fopen(path, "wb");
	assert_non_null(ff);
	assert_int_equal(fwrite(data, 1, n, ff), n);
	fclose(ff);
	int completed = 0, saw_oom = 0;
	for (unsigned long k = 1; k < 600 && !completed; k++) {
		char dir[512];
		yoc_store *s = NULL;
		struct yoc_loader *L = NULL;
		struct yoc_load_result r;
		struct yoc_error e;
		assert_int_equal(newstore(dir, sizeof dir, &s), 0);
		yoc_error_clear(&e);
		unsigned long before = yoc_alloc_count();
		yoc_alloc_fail_at(k);
		int rc = yoc_loader_begin(&L, s, &e);
		if (!rc)
			rc = yoc_loader_file(L, path, YOC_KIND_APC, &r, &e);
		if (!rc)
			rc = yoc_loader_commit(L, &e);
		yoc_alloc_fail_at(0);
		unsigned long used = yoc_alloc_count() - before;
		yoc_loader_free(L);
		if (rc == 0) {
			assert_int_equal(r.status, YOC_LOAD_LOADED);
			assert_int_equal(r.rows, 10);
			assert_int_equal(r.quarantined, 4);
			completed = used < k;
		} else {
			assert_int_equal(rc, YOC_ENOMEM);
			assert_null(strstr(e.msg, "empty input"));
			saw_oom = 1;
		}
		yoc_store_close(s);
		tu_rm_rf(dir);
	}
	assert_true(completed);
	assert_true(saw_oom);
	unlink(path);
	rmdir(fdir);
	free(data);
}


/*
** The person table is built in s->jobs parts by pseudonym hash and the
** parts joined: with 1, 2, 3 and 7 parts it equals a plain pass over the
** rows in file order, modelled here (the earliest registration start, the
** latest file's other fields, the earliest death, rows without a valid
** pseudonym skipped), in pseudonym order, persons sharing their first
** eight characters included.
*/
enum { PP_N = 240, PP_FILES = 5 };
struct pp_model {
	char pseudo[72];
	int seen;
	char sex[4], practice[16], lsoa[16];
	int bm, by, imd;
	char rs[16], re[16], dod[16];
};

static void pp_pseudo(int i, char *out)
{
	/* a third share their first 8 characters; the rest spread out */
	uint64_t h = (uint64_t)(i + 1) * 0x9e3779b97f4a7c15ULL;
	if (i % 3 == 0)
		snprintf(out, 72, "cafef00d%056llx", (unsigned long long)(h >> 8));
	else
		snprintf(out, 72, "%016llx%048llx", (unsigned long long)h,
			 (unsigned long long)(h ^ 0x5555));
}

static unsigned pp_rnd(unsigned *r)
{
	*r = *r * 1103515245u + 12345u;
	return (*r >> 16) & 0x7fff;
}

static int pp_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pp_model *)a)->pseudo, ((const struct pp_model *)b)->pseudo);
}

static void test_persons_parts(void **state)
{
	(void)state;
	char dir[512];
	yoc_store *s = NULL;
	struct yoc_loader *L = NULL;
	struct yoc_load_result r;
	struct yoc_error e;
	struct yoc_buf csv, want, got;
	struct pp_model *m = calloc(PP_N, sizeof *m);
	assert_non_null(m);
	yoc_buf_init(&csv, 0);
	yoc_buf_init(&want, 0);
	yoc_buf_init(&got, 0);
	for (int i = 0; i < PP_N; i++)
		pp_pseudo(i, m[i].pseudo);
	assert_int_equal(newstore(dir, sizeof dir, &s), 0);
	assert_int_equal(yoc_loader_begin(&L, s, &e), 0);
	unsigned rnd = 12345;
	for (int f = 0; f < PP_FILES; f++) {
		yoc_buf_reset(&csv);
		yoc_buf_printf(&csv, "PSEUDO_ID,NHSNO_STATUS,GPPRAC,REG_START,REG_END,SEX,MYDOB,"
				     "LSOA11,IMD_DECILE\n");
		for (int i = 0; i < PP_N; i++) {
			if (pp_rnd(&rnd) % 4 == 0)
				continue; /* not in this file */
			int valid = pp_rnd(&rnd) % 10 != 0;
			char rs[16], re[16] = "", prac[16], lsoa[16], imd[8] = "";
			int y = 2000 + (int)(pp_rnd(&rnd) % 20), mo = 1 + (int)(pp_rnd(&rnd) % 12);
			snprintf(rs, sizeof rs, "%04d-%02d-%02d", y, mo, 1 + (int)(pp_rnd(&rnd) % 28));
			if (pp_rnd(&rnd) % 3 == 0)
				snprintf(re, sizeof re, "%04d-%02d-15", y + 1 + (int)(pp_rnd(&rnd) % 2), mo);
			snprintf(prac, sizeof prac, "P8100%d", (int)(pp_rnd(&rnd) % 9));
			snprintf(lsoa, sizeof lsoa, "E0100%04d", (int)(pp_rnd(&rnd) % 5000));
			if (pp_rnd(&rnd) % 5)
				snprintf(imd, sizeof imd, "%d", 1 + (int)(pp_rnd(&rnd) % 10));
			int sex = 1 + (int)(pp_rnd(&rnd) % 2), bm = 1 + (int)(pp_rnd(&rnd) % 12);
			int by = 1930 + (int)(pp_rnd(&rnd) % 80);
			yoc_buf_printf(&csv, "%s,%s,%s,%s,%s,%d,%02d%04d,%s,%s\n", m[i].pseudo,
				       valid ? "valid" : "unverified", prac, rs, re, sex, bm, by, lsoa, imd);
			if (!valid)
				continue;
			struct pp_model *p = &m[i];
			p->seen = 1;
			snprintf(p->sex, sizeof p->sex, "%d", sex);
			snprintf(p->practice, sizeof p->practice, "%s", prac);
			snprintf(p->lsoa, sizeof p->lsoa, "%s", lsoa);
			if (imd[0])
				p->imd = atoi(imd);
			p->bm = bm;
			p->by = by;
			if (!p->rs[0] || strcmp(rs, p->rs) < 0)
				snprintf(p->rs, sizeof p->rs, "%s", rs);
			snprintf(p->re, sizeof p->re, "%s", re);
		}
		char name[64];
		snprintf(name, sizeof name, "reg/G%d_2023-0%d.csv", f, 1 + f);
		assert_int_equal(yoc_loader_mem(L, name, csv.data, csv.len, -1, &r, &e), 0);
		assert_int_equal(r.quarantined, 0);
	}
	for (int f = 0; f < 2; f++) {
		yoc_buf_reset(&csv);
		yoc_buf_printf(&csv, "PSEUDO_ID,NHSNO_STATUS,DOD\n");
		for (int i = f; i < PP_N; i += 7) {
			char d[16];
			snprintf(d, sizeof d, "2022-%02d-%02d", 1 + (int)(pp_rnd(&rnd) % 12),
				 1 + (int)(pp_rnd(&rnd) % 28));
			yoc_buf_printf(&csv, "%s,valid,%s\n", m[i].pseudo, d);
			if (m[i].seen && (!m[i].dod[0] || strcmp(d, m[i].dod) < 0))
				snprintf(m[i].dod, sizeof m[i].dod, "%s", d);
		}
		yoc_buf_printf(&csv, "%064d,valid,2022-01-01\n", 5); /* never registered */
		char name[64];
		snprintf(name, sizeof name, "deaths/ONS%d_2022-12.csv", f);
		assert_int_equal(yoc_loader_mem(L, name, csv.data, csv.len, -1, &r, &e), 0);
		assert_int_equal(r.quarantined, 0);
	}
	assert_int_equal(yoc_loader_commit(L, &e), 0);
	yoc_loader_free(L);
	/* the model, as the table should read */
	qsort(m, PP_N, sizeof *m, pp_cmp);
	int idx = 0;
	for (int i = 0; i < PP_N; i++) {
		struct pp_model *p = &m[i];
		if (!p->seen)
			continue;
		char imd[8] = "NULL";
		if (p->imd)
			snprintf(imd, sizeof imd, "%d", p->imd);
		yoc_buf_printf(&want, "%d|%s|%s|%d|%d|%s|%s|%s|%s|%s|%s\n", idx++, p->pseudo, p->sex,
			       p->bm, p->by, p->practice, p->lsoa, imd, p->rs,
			       p->re[0] ? p->re : "NULL", p->dod[0] ? p->dod : "NULL");
	}
	assert_true(idx > PP_N / 2);
	yoc_buf_printf(&want, "==\n");
	static const int parts[] = {1, 2, 3, 7};
	for (size_t k = 0; k < sizeof parts / sizeof *parts; k++) {
		yoc_store_jobs(s, parts[k]);
		assert_int_equal(sqlite3_exec(yoc_store_db(s), "BEGIN", NULL, NULL, NULL), SQLITE_OK);
		assert_int_equal(yoc_store_rebuild_persons(s, &e), 0);
		dump_derived(s, &got);
		assert_true(got.len > want.len);
		assert_memory_equal(got.data, want.data, want.len); /* then the linkage */
		assert_int_equal(sqlite3_exec(yoc_store_db(s), "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
		yoc_store_persons_reset(s);
	}
	free(m);
	yoc_buf_free(&csv);
	yoc_buf_free(&want);
	yoc_buf_free(&got);
	yoc_store_close(s);
	tu_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accounting), cmocka_unit_test(test_dates_duplicates),
		cmocka_unit_test(test_duplicates_quoted),
		cmocka_unit_test(test_alloc_failures), cmocka_unit_test(test_read_fd),
		cmocka_unit_test(test_file_not_regular), cmocka_unit_test(test_file_alloc_failures),
		cmocka_unit_test(test_bad_names), cmocka_unit_test(test_versions),
		cmocka_unit_test(test_plan), cmocka_unit_test(test_source_account_lookup),
		cmocka_unit_test(test_source_account_entries), cmocka_unit_test(test_person_cache),
		cmocka_unit_test(test_rebuild_all), cmocka_unit_test(test_persons_parts),
	};
	return cmocka_run_group_tests_name("load", tests, NULL, NULL);
}

/*
** Unit tests for src/analyse: currency bands, and the person-year rules on a
** tiny dataset loaded through the real loader: who is in which year and at
** which practice, the register flags, the ICD-10 lookback window, the
** emergency admission rule, bed days, feed costs, and the counting of
** activity that cannot be priced or attributed.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "analyse/analyse.h"
#include "cost/cost.h"
#include "load/load.h"
#include "testutil.h"

/* ---- bands --------------------------------------------------------------------- */

static void test_bands(void **state)
{
	(void)state;
	struct yoc_bands b;
	struct yoc_error e;
	char buf[128];
	assert_int_equal(yoc_bands_parse(&b, NULL, &e), 0);
	assert_int_equal(b.n, 5);
	static const char *const want[] = {"A", "A", "B", "C", "C", "C", "D", "D", "D", "E", "E"};
	for (int i = 0; i <= 10; i++)
		assert_string_equal(yoc_bands_of(&b, i), want[i]);
	assert_string_equal(yoc_bands_of(&b, 40), "E");
	assert_string_equal(yoc_bands_format(&b, buf, sizeof buf), yoc_bands_default);

	assert_int_equal(yoc_bands_parse(&b, "low:0-2,mid:3-4,high:5+", &e), 0);
	assert_string_equal(yoc_bands_of(&b, 2), "low");
	assert_string_equal(yoc_bands_of(&b, 3), "mid");
	assert_string_equal(yoc_bands_of(&b, 5), "high");
	assert_int_equal(yoc_bands_parse(&b, "X:0+", &e), 0);
	assert_string_equal(yoc_bands_of(&b, 7), "X");

	/* every count exactly once, the last band open */
	assert_int_equal(yoc_bands_parse(&b, "A:0,B:2+", &e), YOC_EPARSE);     /* gap */
	assert_int_equal(yoc_bands_parse(&b, "A:0-2,B:2+", &e), YOC_EPARSE);   /* overlap */
	assert_int_equal(yoc_bands_parse(&b, "A:1+", &e), YOC_EPARSE);         /* misses 0 */
	assert_int_equal(yoc_bands_parse(&b, "A:0-1,B:2", &e), YOC_EPARSE);    /* not open */
	assert_int_equal(yoc_bands_parse(&b, "A:0+,B:5+", &e), YOC_EPARSE);    /* after open */
	assert_int_equal(yoc_bands_parse(&b, "A:0,A:1+", &e), YOC_EPARSE);     /* name twice */
	assert_int_equal(yoc_bands_parse(&b, "A:3-1,B:4+", &e), YOC_EPARSE);
	assert_int_equal(yoc_bands_parse(&b, "A0-1", &e), YOC_EPARSE);
	assert_int_equal(yoc_bands_parse(&b, "", &e), YOC_EPARSE);
	assert_int_equal(yoc_bands_parse(&b, "A:0;B:1+", &e), YOC_EPARSE);
}

/* ---- a tiny dataset -------------------------------------------------------------------- */

#define PA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define PB "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define PC "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define PZ "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

static const char codelist[] =
	"condition,label,kind,source,code,origin,version\n"
	"hypertension,Hypertension,physical,register,HYP,t,test-7\n"
	"hypertension,Hypertension,physical,icd10,I10,t,test-7\n"
	"diabetes,Diabetes,physical,register,DM,t,test-7\n"
	"diabetes,Diabetes,physical,icd10,E11,t,test-7\n"
	"depression,Depression,mental,register,DEP,t,test-7\n"
	"depression,Depression,mental,icd10,F32,t,test-7\n";

/*
** Register snapshots, one per financial year. A: at P1 throughout, on the
** diabetes register from 2022-06-01. B: at P1 until 2022-09-30, then P2
** (both rows in 2022-23; absent from 2023-24). C: registered from
** 2023-05-01, born 04/2000. Practice codes are ODS codes (P81001 is
** "P1" below): a code that fails the check is practice unknown.
*/
#define REGH "PSEUDO_ID,NHSNO_STATUS,MYDOB,SEX,GPPRAC,REG_START,REG_END,LSOA11,IMD_DECILE,HYP,DM,DEP\n"
static const char reg21[] = REGH
	PA ",valid,031950,2,P81001,2010-01-01,,E01000001,3,,,\n"
	PB ",valid,121990,1,P81001,2015-01-01,,E01000002,7,,,\n";
static const char reg22[] = REGH
	PA ",valid,031950,2,P81001,2010-01-01,,E01000001,3,,2022-06-01,\n"
	PB ",valid,121990,1,P81001,2015-01-01,2022-09-30,E01000002,7,,,\n"
	PB ",valid,121990,1,P81002,2022-10-01,,E01000002,7,,,\n";
static const char reg23[] = REGH
	PA ",valid,031950,2,P81001,2010-01-01,,E01000001,3,,2022-06-01,\n"
	PC ",valid,042000,9,P81002,2023-05-01,,E01000003,1,,,\n";

/*
** APC. A: hypertension coded on 2020-06-01 (before the analysed years: inside
** the 3-year window of 2021/22 and 2022/23 only); depression on 2024-03-31
** (2023/24). An emergency spell admitted 2022-03-30 with a second episode
** in 2022/23: one emergency admission, in 2021/22. An elective admission
** (11) and a 2A emergency whose first episode is not in the file.
*/
#define APCH "PSEUDO_ID,NHSNO_STATUS,PROCODE,ADMIDATE,EPISTART,EPIEND,EPIORDER,ADMIMETH,CLASSPAT,SUSHRG,DIAG_4_01,DIAG_4_02\n"
static const char apc[] = APCH
	PA ",valid,RX1,2020-06-01,2020-06-01,2020-06-03,1,11,1,FD01A,R69X,I10X\n"
	PA ",valid,RX1,2024-03-31,2024-03-31,2024-03-31,1,11,2,FD01A,F329,\n"
	PB ",valid,RX1,2022-03-30,2022-03-30,2022-04-02,1,21,1,FD01A,R69X,\n"
	PB ",valid,RX1,2022-03-30,2022-04-02,2022-04-06,2,21,1,FD01A,R69X,\n"
	PB ",valid,RX1,2022-11-01,2022-11-01,2022-11-03,1,11,1,FD01A,R69X,\n"
	PB ",valid,RX1,2022-12-01,2022-12-05,2022-12-06,2,2A,1,FD01A,R69X,\n";

/* Mental health: one priced contact, one unknown currency (unpriced), one
 * row without a pseudonym, one for a pseudonym not on the register, one for
 * B after leaving the register (2023/24). Social care carries its own cost. */
#define MHH "PSEUDO_ID,NHSNO_STATUS,PROCODE,MHKEY,RECORD_TYPE,CONTACT_DATE,TEAM,CLUSTER,ATTENDED,BED_DAYS,CURRENCY_CODE\n"
static const char mh[] = MHH
	PA ",valid,RM1,1,CONTACT,2022-05-01,CMHT,12,5,,MHCC\n"
	PA ",valid,RM1,2,CONTACT,2022-05-02,CMHT,12,5,,ZZZZ\n"
	",missing,RM1,3,CONTACT,2022-05-03,CMHT,12,5,,MHCC\n"
	PZ ",valid,RM1,4,CONTACT,2022-05-04,CMHT,12,5,,MHCC\n"
	PB ",valid,RM1,5,CONTACT,2023-06-01,CMHT,12,5,,MHCC\n";
#define SCH "PSEUDO_ID,NHSNO_STATUS,LA_CODE,SERVICEKEY,SERVICE_TYPE,START_DATE,END_DATE,UNITS,UNIT_TYPE,COST\n"
static const char social[] = SCH
	PC ",valid,LA1,1,HOME_CARE,2023-06-01,2023-06-30,10,HOURS,280.50\n"
	PC ",valid,LA1,2,HOME_CARE,2023-07-01,2023-07-31,3,HOURS,\n";

struct fx {
	char dir[512], codelist[600], data[600];
	sqlite3 *db;
};

static const char *data_dir(char *buf, size_t cap)
{
	const char *root = getenv("YOC_ROOT");
	snprintf(buf, cap, "%s/data", root && *root ? root : ".");
	return buf;
}

static int load(struct fx *f, const char *name, const char *text)
{
	yoc_store *s = NULL;
	struct yoc_loader *L = NULL;
	struct yoc_load_result r;
	struct yoc_error e;
	int rc = yoc_store_open(&s, f->dir, YOC_STORE_WRITE, &e);
	if (!rc)
		rc = yoc_loader_begin(&L, s, &e);
	if (!rc)
		rc = yoc_loader_mem(L, name, text, strlen(text), -1, &r, &e);
	if (!rc && r.quarantined) {
		print_error("%s: %lld rows quarantined\n", name, (long long)r.quarantined);
		rc = -1;
	}
	if (!rc)
		rc = yoc_loader_commit(L, &e);
	yoc_loader_free(L);
	yoc_store_close(s);
	return rc;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct yoc_error e;
	if (!f || tu_temp_dir(f->dir, sizeof f->dir, "analyse") || yoc_store_init(f->dir, &e))
		return -1;
	snprintf(f->codelist, sizeof f->codelist, "%s/codelist.csv", f->dir);
	FILE *fp = fopen(f->codelist, "w");
	if (!fp || fputs(codelist, fp) < 0 || fclose(fp))
		return -1;
	data_dir(f->data, sizeof f->data);
	if (load(f, "gp_register/GP_2021-22.csv", reg21) || load(f, "gp_register/GP_2022-23.csv", reg22) ||
	    load(f, "gp_register/GP_2023-24.csv", reg23) || load(f, "apc/RX1_2022-04.csv", apc) ||
	    load(f, "mh/RM1_2022-05.csv", mh) || load(f, "social_care/LA1_2023-06.csv", social))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	sqlite3_close(f->db);
	tu_rm_rf(f->dir);
	free(f);
	return 0;
}

static struct yoc_analyse_stats last_stats;

static int run(struct fx *f, int lookback, const char *bands)
{
	struct yoc_analyse_opts o;
	struct yoc_error e;
	yoc_analyse_opts_init(&o);
	o.dir = f->dir;
	o.codelist = f->codelist;
	o.tariff_dir = f->data;
	o.lookback_years = lookback;
	o.bands = bands;
	o.threads = 2;
	yoc_error_clear(&e);
	int rc = yoc_analyse_run(&o, &last_stats, &e);
	if (rc)
		print_error("analyse: %s: %s\n", e.file, e.msg);
	sqlite3_close(f->db);
	f->db = NULL;
	char path[700];
	snprintf(path, sizeof path, "%s/yoc.db", f->dir);
	if (sqlite3_open(path, &f->db) != SQLITE_OK)
		return -1;
	return rc;
}

/* One value (as text) of a query; "-" when no row, "NULL" for NULL. */
static const char *q(struct fx *f, const char *sql)
{
	static char buf[256];
	sqlite3_stmt *st = NULL;
	snprintf(buf, sizeof buf, "-");
	if (sqlite3_prepare_v2(f->db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(buf, sizeof buf, "SQL: %s", sqlite3_errmsg(f->db));
	} else if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *z = sqlite3_column_text(st, 0);
		snprintf(buf, sizeof buf, "%s", z ? (const char *)z : "NULL");
	}
	sqlite3_finalize(st);
	return buf;
}

#define PY(who, fy, col) "SELECT " col " FROM person_year WHERE pseudo_id = '" who "' AND fyear = '" fy "'"

static void test_population(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run(f, 3, NULL), 0);
	assert_int_equal(last_stats.direct_lookup, 1); /* 64-hex pseudonyms: found by their bits */
	/* A in all three years; B in 2021/22 and 2022/23 only (the 2022-23 snapshot
	 * has no end for the P2 registration, but B is not in 2023-24's); C from 2023/24 */
	assert_string_equal(q(f, "SELECT count(*) FROM person_year"), "6");
	assert_string_equal(q(f, PY(PB, "2023/24", "count(*)")), "0");
	assert_string_equal(q(f, PY(PC, "2022/23", "count(*)")), "0");
	/* the practice on the first day registered in the year */
	assert_string_equal(q(f, PY(PB, "2022/23", "practice")), "P81001");
	assert_string_equal(q(f, PY(PC, "2023/24", "practice")), "P81002");
	assert_int_equal(last_stats.practice_unknown, 0);
	/* age on 1 April from MYDOB: born 03/1950 -> 72 on 2022-04-01; born
	 * 04/2000 -> 22 on 2023-04-01 (April births counted as not yet reached) */
	assert_string_equal(q(f, PY(PA, "2022/23", "age")), "72");
	assert_string_equal(q(f, PY(PC, "2023/24", "age")), "22");
	assert_string_equal(q(f, PY(PA, "2022/23", "sex || imd_decile")), "23");
	assert_string_equal(q(f, "SELECT value FROM analyse_run WHERE key = 'codelist_version'"),
			    "test-7");
	assert_string_equal(q(f, "SELECT value FROM analyse_run WHERE key = 'lookback_years'"), "3");
}

static void test_ltc_lookback(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run(f, 3, NULL), 0);
	/* I10 on 2020-06-01 (2020/21): in the 3-year windows of 2021/22, 2022/23 */
	assert_string_equal(q(f, PY(PA, "2021/22", "hypertension")), "1");
	assert_string_equal(q(f, PY(PA, "2022/23", "hypertension")), "1");
	assert_string_equal(q(f, PY(PA, "2023/24", "hypertension")), "0");
	/* DM on the register from 2022-06-01: 2022/23 on, never before */
	assert_string_equal(q(f, PY(PA, "2021/22", "diabetes")), "0");
	assert_string_equal(q(f, PY(PA, "2022/23", "diabetes")), "1");
	assert_string_equal(q(f, PY(PA, "2023/24", "diabetes")), "1");
	/* F32 on 2024-03-31, the last day of 2023/24: mental */
	assert_string_equal(q(f, PY(PA, "2023/24", "depression || mental_ltc_count")), "11");
	assert_string_equal(q(f, PY(PA, "2022/23", "depression")), "0");
	/* counts and bands (A 0-1, B 2) */
	assert_string_equal(q(f, PY(PA, "2021/22", "ltc_count || band")), "1A");
	assert_string_equal(q(f, PY(PA, "2022/23", "ltc_count || band")), "2B");
	assert_string_equal(q(f, PY(PA, "2023/24", "ltc_count || band")), "2B");

	/* a 1-year lookback: 2020/21 is outside every window */
	assert_int_equal(run(f, 1, "low:0,high:1+"), 0);
	assert_string_equal(q(f, PY(PA, "2021/22", "hypertension || ltc_count || band")), "00low");
	assert_string_equal(q(f, PY(PA, "2022/23", "ltc_count || band")), "1high");
	assert_string_equal(q(f, "SELECT value FROM analyse_run WHERE key = 'bands'"),
			    "low:0,high:1+");
}

static void test_emergency_and_beds(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run(f, 3, NULL), 0);
	/* the spell admitted 2022-03-30 (first episode 21): one, in 2021/22, though
	 * its second episode is in 2022/23; elective 11 and a second episode never count */
	assert_string_equal(q(f, PY(PB, "2021/22", "emergency_admissions")), "1");
	assert_string_equal(q(f, PY(PB, "2022/23", "emergency_admissions")), "0");
	/* bed days: each night in the year it falls in. The spell admitted
	 * 2022-03-30 has the nights of 03-30 and 03-31 in 2021/22, and 04-01
	 * (first episode) + 4 (second) in 2022/23; then 2 elective nights and
	 * 1 of the 2A episode */
	assert_string_equal(q(f, PY(PB, "2021/22", "bed_days || ' ' || emergency_bed_days")), "2 2");
	assert_string_equal(q(f, PY(PB, "2022/23", "bed_days || ' ' || emergency_bed_days")), "8 6");
	/* the spell is priced once, in the year of admission: 2022/23 has the
	 * elective spell and the 2A spell (its first episode missing: priced,
	 * not an admission), nothing of the spell admitted in 2021/22 */
	assert_string_equal(q(f, PY(PB, "2021/22", "cost_nonelective > 0 AND cost_elective = 0 AND "
				 "cost_emergency = cost_nonelective")), "1");
	assert_string_equal(q(f, PY(PB, "2022/23", "cost_nonelective > 0 AND cost_elective > 0")), "1");
	assert_string_equal(q(f, "SELECT records FROM costing_summary WHERE fyear = '2022/23' AND "
				 "feed = 'apc' AND how = 'priced'"), "2");
	/* A's day case in 2023/24 */
	assert_string_equal(q(f, PY(PA, "2023/24", "cost_daycase > 0 AND cost_total = cost_daycase")), "1");
}

static void test_unpriced(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run(f, 3, NULL), 0);
	/* nothing is silently zero: each left-out row is counted with its reason */
	assert_string_equal(q(f, "SELECT group_concat(fyear || ' ' || feed || ' ' || reason || ' ' || records, '; ') "
				 "FROM (SELECT * FROM unpriced_activity ORDER BY fyear, feed, reason)"),
			    "2022/23 mh no_price 1; 2022/23 mh no_pseudonym 1; 2022/23 mh not_registered 1; "
			    "2023/24 mh outside_registration 1");
	/* the priced contact is in A's mental health cost, the unknown currency is not */
	assert_string_equal(q(f, PY(PA, "2022/23", "cost_mh = (SELECT cost FROM costing_summary WHERE "
				 "fyear = '2022/23' AND feed = 'mh' AND how = 'priced') AND cost_mh > 0")),
			    "1");
	/* social care: the feed's cost is the price (280.50); a row with no cost is
	 * priced from unit_costs.csv only when it can be: HOME_CARE x 3 hours */
	assert_string_equal(q(f, "SELECT records || ' ' || cost FROM costing_summary WHERE feed = 'social_care' "
				 "AND how = 'feed_cost'"), "1 28050");
	assert_string_equal(q(f, PY(PC, "2023/24", "cost_social_care")), "36450");
	/* provider_cost: people and activity of priced rows */
	assert_string_equal(q(f, "SELECT people || ' ' || activity FROM provider_cost WHERE provider = 'RX1' "
				 "AND setting = 'nonelective' AND fyear = '2022/23'"), "1 1");
}

/* The months of person_month blob b (13-byte records) as pence by month. */
static void months_of(const unsigned char *b, int n, int64_t pence[12], int32_t emerg[12])
{
	memset(pence, 0, 12 * sizeof *pence);
	memset(emerg, 0, 12 * sizeof *emerg);
	assert_int_equal(n % 13, 0);
	for (int i = 0; i < n; i += 13) {
		uint64_t v = 0;
		uint32_t k = 0;
		for (int j = 7; j >= 0; j--)
			v = v << 8 | b[i + 1 + j];
		for (int j = 3; j >= 0; j--)
			k = k << 8 | b[i + 9 + j];
		assert_true(b[i] < 12);
		pence[b[i]] = (int64_t)v;
		emerg[b[i]] = (int32_t)k;
	}
}

/*
** A person-month's and a person-year's pence beyond what their int32
** counters hold (an_add32 sends such adds to a list of wide adds): 20 and 15 million pounds and a
** pound in August 2023, and a refund in September taking the month below
** zero. person_month holds the exact sums, and its months sum to the
** person-year's cost; an emergency admission is in its month.
*/
static void test_months_wide(void **state)
{
	struct fx *f = *state;
	static const char big[] = SCH
		PC ",valid,LA2,1,HOME_CARE,2023-08-01,2023-08-31,1,HOURS,20000000.00\n"
		PC ",valid,LA2,2,HOME_CARE,2023-08-02,2023-08-31,1,HOURS,15000000.00\n"
		PC ",valid,LA2,3,HOME_CARE,2023-08-03,2023-08-31,1,HOURS,1.00\n"
		PC ",valid,LA2,4,HOME_CARE,2023-09-01,2023-09-30,1,HOURS,-25000000.00\n"
		PC ",valid,LA2,5,HOME_CARE,2023-09-02,2023-09-30,1,HOURS,2.50\n";
	assert_int_equal(load(f, "social_care/LA2_2023-08.csv", big), 0);
	assert_int_equal(run(f, 3, NULL), 0);
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT m.months, p.cost_total FROM person_month m "
					    "JOIN person_year p USING (pseudo_id, fyear) WHERE "
					    "pseudo_id = '" PC "' AND fyear = '2023/24'", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t pence[12], sum = 0;
	int32_t emerg[12];
	months_of(sqlite3_column_blob(st, 0), sqlite3_column_bytes(st, 0), pence, emerg);
	for (int m = 0; m < 12; m++)
		sum += pence[m];
	assert_int_equal(pence[4], 3500000100LL);   /* August */
	assert_int_equal(pence[5], -2499999750LL);  /* September */
	assert_int_equal(sum, sqlite3_column_int64(st, 1));
	sqlite3_finalize(st);
	/* the person-year's own counters (int32 too): the exact sum, with the
	 * 36450 pence of the fixture's June and July */
	assert_string_equal(q(f, PY(PC, "2023/24", "cost_social_care || ' ' || cost_total")),
			    "1000036800 1000036800");
	/* B's emergency spell admitted 2022-03-30: March of 2021/22 */
	assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT months FROM person_month WHERE pseudo_id = '"
					    PB "' AND fyear = '2021/22'", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	months_of(sqlite3_column_blob(st, 0), sqlite3_column_bytes(st, 0), pence, emerg);
	assert_int_equal(emerg[11], 1);
	for (int m = 0; m < 11; m++)
		assert_int_equal(emerg[m], 0);
	sqlite3_finalize(st);
}

/* A published HES extract's PSEUDO_HESID is opaque: persons are then found
 * through the store, with the same results. */
static void test_opaque_pseudonyms(void **state)
{
	struct fx *f = *state;
	assert_int_equal(load(f, "gp_register/HES_2023-24.csv",
			      "PSEUDO_HESID,GPPRAC,REG_START,SEX,MYDOB\n"
			      "TOKEN00042,P81003,2000-01-01,2,061980\n"), 0);
	assert_int_equal(load(f, "op/RX1_2023-04.csv",
			      "PSEUDO_HESID,PROCODE,APPTDATE,ATTENDED,SUSHRG\n"
			      "TOKEN00042,RX1,2023-06-01,5,WF01A\n"), 0);
	assert_int_equal(run(f, 3, NULL), 0);
	assert_int_equal(last_stats.direct_lookup, 0);
	/* registered since 2000 with no end: in every analysed year up to the end
	 * of its snapshot's period */
	assert_string_equal(q(f, "SELECT count(*) FROM person_year"), "9");
	assert_string_equal(q(f, "SELECT practice || ' ' || age || ' ' || (cost_outpatient > 0) FROM "
				 "person_year WHERE pseudo_id = 'TOKEN00042' AND fyear = '2023/24'"),
			    "P81003 42 1");
	assert_string_equal(q(f, PY(PA, "2022/23", "ltc_count || band || practice")), "2BP81001");
	assert_string_equal(q(f, PY(PB, "2021/22", "emergency_admissions || bed_days")), "12");
	assert_string_equal(q(f, PY(PC, "2023/24", "cost_social_care")), "36450");
}

/*
** A practice code that fails validation (load keeps it, flagged bad_code)
** names no practice: the person-year is kept, counted, with practice NULL
** ("practice unknown"). D: at P00000 (the synthetic economy's injected
** code); E: at a code with a letter in it, then at P81002 from a later date
** in the same year (the first registration gives the practice: unknown).
*/
static void test_practice_unknown(void **state)
{
	struct fx *f = *state;
	assert_int_equal(load(f, "gp_register/GP2_2023-24.csv", REGH
			      "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
			      ",valid,061980,2,P00000,2020-01-01,,E01000004,5,,,\n"
			      "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
			      ",valid,061981,1,P8100X,2019-01-01,2023-06-30,E01000005,5,,,\n"
			      "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
			      ",valid,061981,1,P81002,2023-07-01,,E01000005,5,,,\n"), 0);
	assert_int_equal(run(f, 3, NULL), 0);
	assert_string_equal(q(f, "SELECT count(*) || ' ' || count(practice) FROM person_year "
				 "WHERE fyear = '2023/24'"), "4 2");
	assert_string_equal(q(f, "SELECT group_concat(pseudo_id) FROM person_year WHERE practice IS NULL "
				 "AND fyear = '2023/24'"),
			    "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd,"
			    "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee");
	/* both registered before 2021 (the snapshot covers earlier years too) */
	assert_int_equal(last_stats.practice_unknown, 6);
	/* no invalid code anywhere in person_year */
	assert_string_equal(q(f, "SELECT count(*) FROM person_year WHERE practice IN ('P00000', 'P8100X')"),
			    "0");
	assert_string_equal(q(f, "SELECT group_concat(DISTINCT practice) FROM "
				 "(SELECT practice FROM person_year WHERE practice IS NOT NULL ORDER BY 1)"),
			    "P81001,P81002");
}

/*
** Spells (findings 5-8). D: three emergency spells at RX2 (SUSSPELLID): 3
** days; 60 days in two episodes (a 1-day first episode, then the rest); and
** one admitted 2023-03-25, discharged 2023-04-10 (across 31 March). E: a
** maternity (31) spell, a transfer (81), a birth (82, no SUSSPELLID: found by
** provider and ADMIDATE) and an emergency whose discharge is not known yet.
*/
#define PD "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
#define PE "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
static const char reg22de[] = REGH
	PD ",valid,011940,1,P81003,2000-01-01,,E01000004,2,,,\n"
	PE ",valid,011990,2,P81003,2000-01-01,,E01000004,2,,,\n";
static const char reg23de[] = REGH
	PD ",valid,011940,1,P81003,2000-01-01,,E01000004,2,,,\n"
	PE ",valid,011990,2,P81003,2000-01-01,,E01000004,2,,,\n";
#define APC2H "PSEUDO_ID,NHSNO_STATUS,PROCODE,SUSSPELLID,ADMIDATE,DISDATE,EPISTART,EPIEND,EPIORDER,ADMIMETH,CLASSPAT,SUSHRG\n"
static const char apc_spells[] = APC2H
	PD ",valid,RX2,S1,2022-06-01,2022-06-04,2022-06-01,2022-06-04,1,21,1,DZ11R\n"
	PD ",valid,RX2,S2,2022-08-01,2022-09-30,2022-08-01,2022-08-02,1,21,1,WH07G\n"
	PD ",valid,RX2,S2,2022-08-01,2022-09-30,2022-08-02,2022-09-30,2,21,1,DZ11R\n"
	PD ",valid,RX2,S3,2023-03-25,2023-04-10,2023-03-25,2023-04-10,1,21,1,DZ11R\n"
	PE ",valid,RX2,S4,2022-07-01,2022-07-03,2022-07-01,2022-07-03,1,31,1,NZ16Z\n"
	PE ",valid,RX2,S5,2022-10-01,2022-10-06,2022-10-01,2022-10-06,1,81,1,DZ11R\n"
	PE ",valid,RX2,,2022-11-01,2022-11-02,2022-11-01,2022-11-02,1,82,1,PB03Z\n"
	PE ",valid,RX2,S7,2023-03-01,,2023-03-01,2023-03-05,1,22,1,DZ11R\n"
	PE ",valid,RX2,S7,2023-03-01,,2023-03-05,,2,22,1,DZ11R\n";

static int64_t qi(struct fx *f, const char *sql)
{
	return strtoll(q(f, sql), NULL, 10);
}

static void test_spells(void **state)
{
	struct fx *f = *state;
	assert_int_equal(load(f, "gp_register/GQ_2022-23.csv", reg22de), 0);
	assert_int_equal(load(f, "gp_register/GQ_2023-24.csv", reg23de), 0);
	assert_int_equal(load(f, "apc/RX2_2022-06.csv", apc_spells), 0);
	assert_int_equal(run(f, 3, NULL), 0);
	yoc_tariff *t = NULL;
	struct yoc_error e;
	assert_int_equal(yoc_tariff_load_dir(&t, f->data, &e), 0);
	int64_t lng, shrt, wh, per;
	int32_t trim;
	assert_int_equal(yoc_tariff_price(t, YOC_POD_NEL_LONG, "DZ11R", 5, &lng), 0);
	assert_int_equal(yoc_tariff_price(t, YOC_POD_NEL_SHORT, "WH07G", 5, &shrt), 0);
	assert_int_equal(yoc_tariff_price(t, YOC_POD_NEL_LONG, "WH07G", 5, &wh), 0);
	assert_int_equal(yoc_tariff_trim(t, 1, "DZ11R", 5, &trim, &per), 0);
	assert_true(trim > 3 && trim < 60 && per > 0 && lng > wh);

	/* finding 5: 3 days and 60 days of DZ11R cost differently; the spell of
	 * two episodes is one long-stay price (its dominant HRG, DZ11R) plus a
	 * long-stay payment per day beyond the trim point; before, it cost a
	 * short-stay WH07G episode plus a long-stay DZ11R episode */
	int64_t s1 = lng, s2 = lng + (60 - trim) * per;
	char sql[512];
	snprintf(sql, sizeof sql, PY(PD, "2022/23", "cost_nonelective = %lld + %lld + %lld"),
		 (long long)s1, (long long)s2, (long long)(lng + (16 > trim ? 16 - trim : 0) * per));
	assert_string_equal(q(f, sql), "1");
	assert_true(s2 > s1);
	/* the cost to provider: every episode at its NCC price */
	snprintf(sql, sizeof sql, PY(PD, "2022/23", "cost_apc_provider = %lld"),
		 (long long)(lng + shrt + lng + lng));
	assert_string_equal(q(f, sql), "1");

	/* finding 6: the spell across 31 March counts (admission, cost) in
	 * 2022/23; its 16 nights split 7 (25-31 March) and 9 (1-9 April) */
	assert_string_equal(q(f, PY(PD, "2022/23", "emergency_admissions")), "3");
	assert_string_equal(q(f, PY(PD, "2022/23", "bed_days || ' ' || emergency_bed_days")),
			    "70 70"); /* 3 + 60 + 7 */
	assert_string_equal(q(f, PY(PD, "2023/24", "bed_days || ' ' || emergency_bed_days || ' ' || "
				 "emergency_admissions || ' ' || cost_total")), "9 9 0 0");

	/* findings 7 and 8: maternity, transfer and birth are other
	 * non-elective admissions, not emergencies; their cost is split out and
	 * their nights are not emergency bed days. The open emergency spell (no
	 * DISDATE) is an admission priced on the 4 nights known. */
	assert_string_equal(q(f, PY(PE, "2022/23", "emergency_admissions || ' ' || "
				 "other_nonelective_admissions")), "1 3");
	assert_string_equal(q(f, PY(PE, "2022/23", "bed_days || ' ' || emergency_bed_days")), "12 4");
	assert_string_equal(q(f, PY(PE, "2022/23", "cost_other_nonelective > 0 AND cost_emergency > 0 "
				 "AND cost_emergency + cost_other_nonelective = cost_nonelective")), "1");
	snprintf(sql, sizeof sql, PY(PE, "2022/23", "cost_emergency = %lld"), (long long)lng);
	assert_string_equal(q(f, sql), "1");
	/* every person-year: the split adds up, cost_total is the settings' sum */
	assert_string_equal(q(f, "SELECT count(*) FROM person_year WHERE cost_emergency + "
				 "cost_other_nonelective != cost_nonelective OR emergency_bed_days > bed_days"),
			    "0");
	/* the costing summary counts rows (episodes) of spells by how priced */
	assert_true(qi(f, "SELECT sum(records) FROM costing_summary WHERE feed = 'apc'") >= 9);
	assert_string_equal(q(f, "SELECT value FROM analyse_run WHERE key = 'trim_points_version'"),
			    yoc_tariff_trims_version(t));
	yoc_tariff_free(t);
}

/* ---- gaps in the register ----------------------------------------------------------- */

#define GD "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
#define GE "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
#define GF "1111111111111111111111111111111111111111111111111111111111111111"
#define GG "2222222222222222222222222222222222222222222222222222222222222222"
#define GH "3333333333333333333333333333333333333333333333333333333333333333"
#define GK "4444444444444444444444444444444444444444444444444444444444444444"
#define GM "5555555555555555555555555555555555555555555555555555555555555555"
#define GN "6666666666666666666666666666666666666666666666666666666666666666"

/*
** Who is missing from which snapshot (P1, P2, P9 stand for P81001, P81002,
** P81009; a defective row never reaches a
** segment, so it is simply absent):
**   D  open at P1 in 2021-22; absent from 2022-23; at P2 from 2023-05-01
**   E  open at P1 in 2021-22 and 2022-23; absent from 2023-24; seen at P1 in 2023/24
**   F  the same, but its 2023/24 appointment names another practice (P9)
**   G  the same, no activity in 2023/24
**   H  the same, seen at P1 in 2023/24, dies on 2023-07-01
**   K  open at P1 in 2021-22; absent after; seen at P1 in 2022/23 and 2023/24
**   M  open at P1 in 2021-22; absent after; seen at P1 in 2023/24 only
**   N  at P1 in 2022-23 until 2023-03-31 (REG_END): not open; seen at P1 in 2023/24
*/
static const char greg21[] = REGH
	GD ",valid,011960,1,P81001,2010-01-01,,E01000001,3,,,\n"
	GE ",valid,011960,1,P81001,2010-01-01,,E01000001,3,,,\n"
	GF ",valid,011960,1,P81001,2010-01-01,,E01000001,3,,,\n"
	GG ",valid,011960,1,P81001,2010-01-01,,E01000001,3,,,\n"
	GH ",valid,011960,1,P81001,2010-01-01,,E01000001,3,,,\n"
	GK ",valid,011960,1,P81001,2010-01-01,,E01000001,3,,,\n"
	GM ",valid,011960,1,P81001,2010-01-01,,E01000001,3,,,\n";
static const char greg22[] = REGH
	GE ",valid,011960,1,P81001,2010-01-01,,E01000001,3,,,\n"
	GF ",valid,011960,1,P81001,2010-01-01,,E01000001,3,,,\n"
	GG ",valid,011960,1,P81001,2010-01-01,,E01000001,3,,,\n"
	GH ",valid,011960,1,P81001,2010-01-01,,E01000001,3,,,\n"
	GN ",valid,011960,1,P81001,2022-06-01,2023-03-31,E01000001,3,,,\n";
static const char greg23[] = REGH
	GD ",valid,011960,1,P81002,2023-05-01,,E01000001,3,,,\n";
#define GPH "PSEUDO_ID,NHSNO_STATUS,GPPRAC,APPTKEY,APPT_DATE,HCP_TYPE,APPT_MODE,DURATION_MIN,APPT_STATUS\n"
static const char gappt[] = GPH
	GE ",valid,P81001,1,2023-06-01,GP,Face-to-face,10,Attended\n"
	GF ",valid,P81009,2,2023-06-01,GP,Face-to-face,10,Attended\n"
	GH ",valid,P81001,3,2023-05-01,GP,Face-to-face,10,Attended\n"
	GK ",valid,P81001,4,2022-06-01,GP,Face-to-face,10,Attended\n"
	GK ",valid,P81001,5,2023-06-01,GP,Face-to-face,10,Attended\n"
	GM ",valid,P81001,6,2023-06-01,GP,Face-to-face,10,Attended\n"
	GN ",valid,P81001,7,2023-06-01,GP,Face-to-face,10,Attended\n";
#define DTH "PSEUDO_ID,NHSNO_STATUS,SEX,DOD,DOR,PLACE,CAUSE,GPPRAC,LSOA11\n"
static const char gdeaths[] = DTH GH ",valid,1,2023-07-01,2023-07-05,HOME,I219,P81001,E01000001\n";

static int setup_gaps(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct yoc_error e;
	if (!f || tu_temp_dir(f->dir, sizeof f->dir, "gaps") || yoc_store_init(f->dir, &e))
		return -1;
	snprintf(f->codelist, sizeof f->codelist, "%s/codelist.csv", f->dir);
	FILE *fp = fopen(f->codelist, "w");
	if (!fp || fputs(codelist, fp) < 0 || fclose(fp))
		return -1;
	data_dir(f->data, sizeof f->data);
	if (load(f, "gp_register/P1_2021-22.csv", greg21) ||
	    load(f, "gp_register/P1_2022-23.csv", greg22) ||
	    load(f, "gp_register/P1_2023-24.csv", greg23) || load(f, "gp_appt/P1_2023-06.csv", gappt) ||
	    load(f, "deaths/ONS_2023-07.csv", gdeaths))
		return -1;
	*state = f;
	return 0;
}

static void test_register_gaps(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run(f, 3, NULL), 0);

	/* seen before and after: D in 2022/23 at the practice it was open at */
	assert_string_equal(q(f, "SELECT group_concat(fyear || ' ' || practice, ', ') FROM (SELECT * FROM "
				 "person_year WHERE pseudo_id = '" GD "' ORDER BY fyear)"),
			    "2021/22 P81001, 2022/23 P81001, 2023/24 P81002");
	/* seen at the practice in the latest year: E and H carried, with the
	 * appointment's cost; H dies in the year */
	assert_string_equal(q(f, PY(GE, "2023/24", "practice || ' ' || (cost_gp > 0)")), "P81001 1");
	assert_string_equal(q(f, PY(GH, "2023/24", "practice || ' ' || died")), "P81001 1");
	/* seen elsewhere, or not at all: not carried */
	assert_string_equal(q(f, PY(GF, "2023/24", "count(*)")), "0");
	assert_string_equal(q(f, PY(GG, "2023/24", "count(*)")), "0");
	/* the rule chains: K carried through two years, each with evidence; M's
	 * chain stops at the first year without */
	assert_string_equal(q(f, "SELECT count(*) FROM person_year WHERE pseudo_id = '" GK "'"), "3");
	assert_string_equal(q(f, "SELECT group_concat(fyear) FROM person_year WHERE pseudo_id = '" GM "'"),
			    "2021/22");
	/* a registration that ended (REG_END) is not carried, activity or not */
	assert_string_equal(q(f, "SELECT group_concat(fyear) FROM person_year WHERE pseudo_id = '" GN "'"),
			    "2022/23");
	assert_string_equal(q(f, "SELECT count(*) FROM person_year"), "18");
	/* the account of it, by year, practice and outcome */
	assert_string_equal(q(f, "SELECT group_concat(fyear || ' ' || practice || ' ' || outcome || ' ' || "
				 "persons, '; ') FROM (SELECT * FROM register_gaps ORDER BY fyear, practice, "
				 "outcome)"),
			    "2022/23 P81001 bridged_activity 1; 2022/23 P81001 bridged_seen_after 1; "
			    "2022/23 P81001 lost 1; 2023/24 P81001 bridged_activity 3; 2023/24 P81001 lost 2");
	assert_int_equal(last_stats.gaps_bridged, 5);
	assert_int_equal(last_stats.gaps_lost, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bands),
		cmocka_unit_test_setup_teardown(test_population, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ltc_lookback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_emergency_and_beds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unpriced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_months_wide, setup, teardown),
		cmocka_unit_test_setup_teardown(test_opaque_pseudonyms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_practice_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spells, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_gaps, setup_gaps, teardown),
	};
	return cmocka_run_group_tests_name("analyse", tests, NULL, NULL);
}

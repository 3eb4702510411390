/*
** The costing module (src/cost): exact money parsing and rounding, the
** point-of-delivery rules of docs/costing.md, tariff loading and look-ups
** with department-average fallback, unit costs, and the shipped tables
** (data/ncc_2023_24.csv, data/unit_costs.csv) against prices computed by
** hand from the published file.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cost/cost.h"
#include "testutil.h"

static struct yoc_cell C(const char *s)
{
	struct yoc_cell c = {s, strlen(s)};
	return c;
}

static int64_t pp(const char *s)
{
	int64_t v = -999999;
	assert_int_equal(yoc_pounds_parse(s, strlen(s), &v), 0);
	return v;
}

static void test_money(void **state)
{
	(void)state;
	assert_int_equal(pp("326.9878"), 32699);
	assert_int_equal(pp("65.5602"), 6556);
	assert_int_equal(pp("0.005"), 1);   /* half away from zero */
	assert_int_equal(pp("0.0049"), 0);
	assert_int_equal(pp("1.0050"), 101);
	assert_int_equal(pp("-1.005"), -101);
	assert_int_equal(pp(" 12 "), 1200);
	assert_int_equal(pp("2228782763"), 222878276300);
	int64_t v;
	assert_int_equal(yoc_pounds_parse("1,000", 5, &v), YOC_EPARSE);
	assert_int_equal(yoc_pounds_parse("", 0, &v), YOC_EPARSE);
	assert_int_equal(yoc_pounds_parse("1e3", 3, &v), YOC_EPARSE);
	char b[32];
	assert_int_equal(yoc_pence_format(0, b), 4);
	assert_string_equal(b, "0.00");
	yoc_pence_format(5, b);
	assert_string_equal(b, "0.05");
	yoc_pence_format(-5, b);
	assert_string_equal(b, "-0.05");
	yoc_pence_format(123456, b);
	assert_string_equal(b, "1234.56");
	yoc_pence_format(-100, b);
	assert_string_equal(b, "-1.00");
}

static void test_rules(void **state)
{
	(void)state;
	const char *em[] = {"21", "22", "23", "24", "25", "28", "2A", "2B", "2C", "2D"};
	const char *not_em[] = {"11", "12", "13", "31", "32", "81", "82", "2E", "2", "", "99"};
	for (size_t i = 0; i < sizeof em / sizeof *em; i++)
		assert_true(yoc_admimeth_emergency(em[i], strlen(em[i])));
	for (size_t i = 0; i < sizeof not_em / sizeof *not_em; i++)
		assert_false(yoc_admimeth_emergency(not_em[i], strlen(not_em[i])));
	assert_true(yoc_admimeth_elective("11", 2));
	assert_true(yoc_admimeth_elective("13", 2));
	assert_false(yoc_admimeth_elective("14", 2));
	assert_false(yoc_admimeth_elective("21", 2));

	int32_t d = 19000;
	assert_int_equal(yoc_pod_apc("2", 1, "21", 2, d, d + 3), YOC_POD_DAYCASE);
	assert_int_equal(yoc_pod_apc("1", 1, "11", 2, d, d), YOC_POD_ELECTIVE);
	assert_int_equal(yoc_pod_apc("1", 1, "12", 2, d, d + 9), YOC_POD_ELECTIVE);
	assert_int_equal(yoc_pod_apc("1", 1, "21", 2, d, d), YOC_POD_NEL_SHORT);
	assert_int_equal(yoc_pod_apc("1", 1, "21", 2, d, d + 1), YOC_POD_NEL_SHORT);
	assert_int_equal(yoc_pod_apc("1", 1, "21", 2, d, d + 2), YOC_POD_NEL_LONG);
	assert_int_equal(yoc_pod_apc("1", 1, "81", 2, d, d + 5), YOC_POD_NEL_LONG);
	assert_int_equal(yoc_pod_apc("1", 1, "31", 2, d, d), YOC_POD_NEL_SHORT);

	assert_true(yoc_attended("5", 1));
	assert_true(yoc_attended("6", 1));
	assert_false(yoc_attended("3", 1));
	assert_false(yoc_attended("7", 1));
	assert_false(yoc_attended("", 0));
	assert_int_equal(yoc_pod_op("WF01A", 5), YOC_POD_OP_CONSULTANT);
	assert_int_equal(yoc_pod_op("LB72A", 5), YOC_POD_OP_PROCEDURE);
	assert_int_equal(yoc_pod_mh("MHCC", 4), YOC_POD_MH_CONTACT);
	assert_int_equal(yoc_pod_mh("IAPT", 4), YOC_POD_TALKING);
	assert_int_equal(yoc_pod_mh("MHPS", 4), YOC_POD_MH_BEDDAY);
	assert_int_equal(yoc_pod_mh("MHXX", 4), -1);
	assert_string_equal(yoc_pod_service(YOC_POD_NEL_SHORT), "Non-Elective Inpatient - Short Stay");
	assert_int_equal(yoc_pod_from_service("Daycase", 7), YOC_POD_DAYCASE);
	assert_int_equal(yoc_pod_from_service("Daycases", 8), -1);
}

static const char small_ncc[] =
	"\xef\xbb\xbfService Code,Dept or Currency Code,Dept or Currency Desc,Activity,Unit cost,Cost\n"
	"Emergency Care,VB01Z ,\" Emergency Medicine, Cat 1\",3,1.00,3.00\n"
	"Emergency Care,VB02Z , x,1,2.005,2.005\n"
	"Daycase,AA01A , y,10,100.005,1000.05\n"
	"Ambulance,01 , Hear & Treat,4,65.5602,262.2408\n"
	"Mental Health Provider Spell,MHPS , bed day,2,651.2938,1302.5876\n"
	"Mental Health Care Contact,MHCC , contact,1,302.1096,302.1096\n"
	"Consultant Led,WF01A , fu,1,192.2812,192.2812\n"
	"Outpatient Procedures,LB72A , cysto,1,258.3039,258.3039\n"
	"Community Health Service,N02AF , DN,1,58.1112,58.1112\n";

static const char small_units[] =
	"code,setting,description,unit,unit_cost,source\n"
	"GP,gp,\"GP time, per minute\",minute,4.80,PSSRU\n"
	"NURSE,gp,nurse,minute,1.00,assumption\n"
	"RESIDENTIAL,social_care,placement,week,950.00,assumption\n";

static yoc_tariff *small_tariff(void)
{
	char p1[512], p2[512];
	struct yoc_error e;
	yoc_tariff *t = NULL;
	assert_int_equal(tu_temp_file(p1, sizeof p1, "ncc", small_ncc, strlen(small_ncc)), 0);
	assert_int_equal(tu_temp_file(p2, sizeof p2, "uc", small_units, strlen(small_units)), 0);
	yoc_error_clear(&e);
	assert_int_equal(yoc_tariff_load(&t, p1, &e), 0);
	assert_int_equal(yoc_tariff_load_units(t, p2, &e), 0);
	unlink(p1);
	unlink(p2);
	return t;
}

static void test_tariff(void **state)
{
	(void)state;
	yoc_tariff *t = small_tariff();
	int64_t v;
	assert_int_equal(yoc_tariff_rows(t), 9);
	assert_int_equal(yoc_tariff_price(t, YOC_POD_EMERGENCY, "VB01Z", 5, &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(yoc_tariff_price(t, YOC_POD_EMERGENCY, " VB02Z ", 7, &v), 0);
	assert_int_equal(v, 201); /* 2.005 -> 201 */
	assert_int_equal(yoc_tariff_price(t, YOC_POD_DAYCASE, "VB01Z", 5, &v), YOC_ENOTFOUND);
	assert_int_equal(yoc_tariff_price_service(t, "Ambulance", 9, "01", 2, &v), 0);
	assert_int_equal(v, 6556);
	/* (3.00 + 2.005) * 100 / 4 = 125.125 -> 125 */
	assert_int_equal(yoc_tariff_average(t, YOC_POD_EMERGENCY, &v), 0);
	assert_int_equal(v, 125);
	/* 1000.05 * 100 / 10 = 10000.5 -> 10001 (half away from zero) */
	assert_int_equal(yoc_tariff_average(t, YOC_POD_DAYCASE, &v), 0);
	assert_int_equal(v, 10001);
	assert_int_equal(yoc_tariff_average(t, YOC_POD_ELECTIVE, &v), YOC_ENOTFOUND);

	int pod;
	assert_int_equal(yoc_price_ae(t, C("VB01Z"), &v), YOC_PRICED);
	assert_int_equal(v, 100);
	assert_int_equal(yoc_price_ae(t, C("VB12Z"), &v), YOC_PRICED_AVERAGE);
	assert_int_equal(v, 125);
	assert_int_equal(yoc_price_apc(t, C("2"), C("11"), 0, 0, C("AA01A"), &v, &pod), YOC_PRICED);
	assert_int_equal(pod, YOC_POD_DAYCASE);
	assert_int_equal(v, 10001);
	assert_int_equal(yoc_price_apc(t, C("1"), C("21"), 0, 5, C("DZ11R"), &v, &pod), YOC_UNPRICED);
	assert_int_equal(pod, YOC_POD_NEL_LONG);
	assert_int_equal(v, 0);
	assert_int_equal(yoc_price_op(t, C("5"), C("WF01A"), &v, &pod), YOC_PRICED);
	assert_int_equal(v, 19228);
	assert_int_equal(pod, YOC_POD_OP_CONSULTANT);
	assert_int_equal(yoc_price_op(t, C("3"), C("WF01A"), &v, &pod), YOC_PRICED_ZERO);
	assert_int_equal(v, 0);
	assert_int_equal(yoc_price_op(t, C("6"), C("LB72A"), &v, &pod), YOC_PRICED);
	assert_int_equal(v, 25830);
	assert_int_equal(yoc_price_community(t, C("5"), C("N02AF"), &v), YOC_PRICED);
	assert_int_equal(v, 5811);
	assert_int_equal(yoc_price_community(t, C("3"), C("N02AF"), &v), YOC_PRICED_ZERO);
	assert_int_equal(yoc_price_mh(t, C("MHPS"), C(""), 7, &v, &pod), YOC_PRICED);
	assert_int_equal(v, 7 * 65129);
	assert_int_equal(yoc_price_mh(t, C("MHCC"), C("5"), 0, &v, &pod), YOC_PRICED);
	assert_int_equal(v, 30211);
	assert_int_equal(yoc_price_mh(t, C("MHCC"), C("3"), 0, &v, &pod), YOC_PRICED_ZERO);
	assert_int_equal(yoc_price_mh(t, C("XXXX"), C("5"), 0, &v, &pod), YOC_UNPRICED);
	assert_int_equal(yoc_price_ambulance(t, C("01"), &v), YOC_PRICED);
	assert_int_equal(v, 6556);

	const char *unit;
	assert_int_equal(yoc_tariff_unit(t, "GP", 2, &v, &unit), 0);
	assert_int_equal(v, 480);
	assert_string_equal(unit, "minute");
	assert_int_equal(yoc_price_gp(t, C("GP"), C("Attended"), 10, &v), YOC_PRICED);
	assert_int_equal(v, 4800); /* GBP 48 per 10-minute consultation */
	assert_int_equal(yoc_price_gp(t, C("NURSE"), C("Attended"), 15, &v), YOC_PRICED);
	assert_int_equal(v, 1500);
	assert_int_equal(yoc_price_gp(t, C("GP"), C("DNA"), 10, &v), YOC_PRICED_ZERO);
	assert_int_equal(v, 0);
	assert_int_equal(yoc_price_gp(t, C("RESIDENTIAL"), C("Attended"), 10, &v), YOC_UNPRICED);
	assert_int_equal(yoc_price_gp(t, C("LOCUM"), C("Attended"), 10, &v), YOC_UNPRICED);
	assert_string_equal(yoc_price_how_str(YOC_PRICED_AVERAGE), "priced_at_average");
	yoc_tariff_free(t);
	yoc_tariff_free(NULL);
}

static void expect_load_error(const char *ncc, int code)
{
	char p[512];
	struct yoc_error e;
	yoc_tariff *t = (yoc_tariff *)1;
	assert_int_equal(tu_temp_file(p, sizeof p, "ncc", ncc, strlen(ncc)), 0);
	yoc_error_clear(&e);
	assert_int_equal(yoc_tariff_load(&t, p, &e), code);
	assert_null(t);
	assert_true(e.msg[0] != 0);
	unlink(p);
}

static void test_load_errors(void **state)
{
	(void)state;
	const char *h = "Service Code,Dept or Currency Code,Dept or Currency Desc,Activity,Unit cost,Cost\n";
	char buf[1024];
	snprintf(buf, sizeof buf, "%sDaycase,A,x,1,1.0,1\nDaycase,A ,y,1,2.0,2\n", h);
	expect_load_error(buf, YOC_EPARSE); /* duplicate service and code */
	snprintf(buf, sizeof buf, "%sDaycase,A,x,1,one,1\n", h);
	expect_load_error(buf, YOC_EPARSE);
	expect_load_error("Service Code,Code,Activity,Unit cost,Cost\nDaycase,A,1,1,1\n", YOC_EPARSE);
	expect_load_error(h, YOC_EPARSE); /* no prices */
	struct yoc_error e;
	yoc_tariff *t = NULL;
	yoc_error_clear(&e);
	assert_int_equal(yoc_tariff_load(&t, "/nonexistent/ncc.csv", &e), YOC_EIO);

	/* Unit costs: a bad unit is refused. */
	t = small_tariff();
	char p[512];
	const char *bad = "code,setting,description,unit,unit_cost,source\nX,gp,x,fortnight,1.00,s\n";
	assert_int_equal(tu_temp_file(p, sizeof p, "uc", bad, strlen(bad)), 0);
	assert_int_equal(yoc_tariff_load_units(t, p, &e), YOC_EPARSE);
	unlink(p);
	yoc_tariff_free(t);
}

/* Out of memory at every allocation of a load: an error, never a crash or leak. */
static void test_alloc_failures(void **state)
{
	(void)state;
	char p[512];
	assert_int_equal(tu_temp_file(p, sizeof p, "ncc", small_ncc, strlen(small_ncc)), 0);
	int failed = 0;
	for (unsigned long n = 1; n < 200; n++) {
		struct yoc_error e;
		yoc_tariff *t = NULL;
		yoc_error_clear(&e);
		yoc_alloc_fail_at(n);
		int rc = yoc_tariff_load(&t, p, &e);
		yoc_alloc_fail_at(0);
		if (rc == 0) {
			assert_non_null(t);
			yoc_tariff_free(t);
			break;
		}
		assert_null(t);
		failed++;
	}
	assert_true(failed > 0);
	unlink(p);
}

static const char *data_path(char *buf, size_t cap, const char *name)
{
	const char *root = getenv("YOC_ROOT");
	snprintf(buf, cap, "%s/data/%s", root && *root ? root : ".", name);
	return buf;
}

static void test_shipped_tables(void **state)
{
	(void)state;
	char dir[512];
	struct yoc_error e;
	yoc_tariff *t = NULL;
	const char *root = getenv("YOC_ROOT");
	snprintf(dir, sizeof dir, "%s/data", root && *root ? root : ".");
	yoc_error_clear(&e);
	if (yoc_tariff_load_dir(&t, dir, &e) != 0) {
		yoc_error_print(stderr, &e);
		fail();
	}
	int64_t v;
	assert_int_equal(yoc_tariff_rows(t), 11303);
	/* Prices computed by hand from the published unit costs. */
	assert_int_equal(yoc_tariff_price(t, YOC_POD_AMBULANCE, "01", 2, &v), 0);
	assert_int_equal(v, 6556);     /* 65.5602 */
	assert_int_equal(yoc_tariff_price(t, YOC_POD_AMBULANCE, "03", 2, &v), 0);
	assert_int_equal(v, 45873);    /* 458.7311 */
	assert_int_equal(yoc_tariff_price(t, YOC_POD_OP_CONSULTANT, "WF01A", 5, &v), 0);
	assert_int_equal(v, 19228);    /* 192.2812 */
	assert_int_equal(yoc_tariff_price(t, YOC_POD_NEL_LONG, "DZ11R", 5, &v), 0);
	assert_int_equal(v, 505586);   /* 5055.8624 */
	assert_int_equal(yoc_tariff_price(t, YOC_POD_EMERGENCY, "VB08Z", 5, &v), 0);
	assert_int_equal(v, 26093);    /* 260.9285 */
	assert_int_equal(yoc_tariff_price(t, YOC_POD_MH_BEDDAY, "MHPS", 4, &v), 0);
	assert_int_equal(v, 65129);    /* 651.2938 */
	/* Department averages: sum(Cost) x 100 / sum(Activity), exact. */
	assert_int_equal(yoc_tariff_average(t, YOC_POD_EMERGENCY, &v), 0);
	assert_int_equal(v, 27297);
	assert_int_equal(yoc_tariff_average(t, YOC_POD_NEL_LONG, &v), 0);
	assert_int_equal(v, 513223);
	assert_int_equal(yoc_tariff_average(t, YOC_POD_DAYCASE, &v), 0);
	assert_int_equal(v, 103111);
	assert_int_equal(yoc_tariff_average(t, YOC_POD_AMBULANCE, &v), 0);
	assert_int_equal(v, 25002);
	/* Every POD yoc prices has rows in the schedule. */
	for (int pod = 0; pod < YOC_POD_COUNT; pod++)
		assert_int_equal(yoc_tariff_average(t, pod, &v), 0);
	const char *unit;
	assert_int_equal(yoc_tariff_unit(t, "GP", 2, &v, &unit), 0);
	assert_int_equal(v * 10, 4800); /* PSSRU 2025: GBP 48 per 10-minute surgery consultation */
	/* trim points: every HRG has a non-elective and an elective one (the "*" rows) */
	int32_t days;
	assert_int_equal(yoc_tariff_trim(t, 1, "ZZ99Z", 5, &days, &v), 0);
	assert_int_equal(yoc_tariff_trim(t, 0, "ZZ99Z", 5, &days, &v), 0);
	assert_true(yoc_tariff_trims_version(t)[0] != 0);
	for (const char *const *c = (const char *const[]){"NURSE", "OTHER", "HOME_CARE",
		"RESIDENTIAL", "NURSING", NULL}; *c; c++)
		assert_int_equal(yoc_tariff_unit(t, *c, strlen(*c), &v, &unit), 0);
	yoc_tariff_free(t);
	char p[512];
	assert_int_equal(access(data_path(p, sizeof p, "README.md"), R_OK), 0);
}


/* ---- spells ------------------------------------------------------------------------ */

static const char spell_ncc[] =
	"Service Code,Dept or Currency Code,Dept or Currency Desc,Activity,Unit cost,Cost\n"
	"Non-Elective Inpatient - Short Stay,DZ11R,pneumonia,10,800.00,8000\n"
	"Non-Elective Inpatient - Long Stay,DZ11R,pneumonia,10,5000.00,50000\n"
	"Non-Elective Inpatient - Long Stay,WH07G,infection,10,3000.00,30000\n"
	"Non-Elective Inpatient - Short Stay,WH07G,infection,10,600.00,6000\n"
	"Non-Elective Inpatient - Long Stay,HD39D,pain,10,2000.00,20000\n"
	"Elective Inpatients,HN12F,hip,10,7000.00,70000\n"
	"Daycase,BZ34C,cataract,10,1000.00,10000\n";

static const char spell_trims[] =
	"hrg,admission,trim_days,excess_bed_day,spells,basis,version\n"
	"DZ11R,nonelective,10,300.00,100,hrg,test-trim-1\n"
	"DZ,nonelective,20,250.00,200,chapter,test-trim-1\n"
	"*,nonelective,15,200.50,900,all,test-trim-1\n"
	"HN12F,elective,6,400.00,100,hrg,test-trim-1\n"
	"BZ34C,elective,0,999.00,100,hrg,test-trim-1\n";

static yoc_tariff *spell_tariff(void)
{
	char p1[512], p2[512];
	struct yoc_error e;
	yoc_tariff *t = NULL;
	assert_int_equal(tu_temp_file(p1, sizeof p1, "ncc", spell_ncc, strlen(spell_ncc)), 0);
	assert_int_equal(tu_temp_file(p2, sizeof p2, "trim", spell_trims, strlen(spell_trims)), 0);
	yoc_error_clear(&e);
	assert_int_equal(yoc_tariff_load(&t, p1, &e), 0);
	assert_int_equal(yoc_tariff_load_trims(t, p2, &e), 0);
	unlink(p1);
	unlink(p2);
	return t;
}

/* An episode: CLASSPAT 1, the given method and HRG, days from day 0. */
static struct yoc_apc_epi EP(const char *meth, const char *hrg, int order, int32_t adm,
			     int32_t dis, int32_t start, int32_t end)
{
	struct yoc_apc_epi e;
	memset(&e, 0, sizeof e);
	e.classpat = C("1");
	e.admimeth = C(meth);
	e.sushrg = C(hrg);
	e.epiorder = order;
	e.admidate = adm;
	e.disdate = dis;
	e.epistart = start;
	e.epiend = end;
	e.feed_cost = INT64_MIN;
	return e;
}

#define NOD YOC_SPELL_NODATE

/*
** Finding 5: a spell is priced once, from its dominant episode's HRG, with a
** long-stay payment per day beyond the HRG's trim point; its POD (short or
** long stay) follows the spell's length, not an episode's.
*/
static void test_spell_price(void **state)
{
	(void)state;
	yoc_tariff *t = spell_tariff();
	struct yoc_spell_price sp;
	int32_t d = 19000;
	int32_t days;
	int64_t per;

	/* trim points: the HRG, its chapter, any HRG; none for an unknown admission */
	assert_string_equal(yoc_tariff_trims_version(t), "test-trim-1");
	assert_int_equal(yoc_tariff_trim(t, 1, "DZ11R", 5, &days, &per), 0);
	assert_true(days == 10 && per == 30000);
	assert_int_equal(yoc_tariff_trim(t, 1, " DZ22K ", 7, &days, &per), 0);
	assert_true(days == 20 && per == 25000);
	assert_int_equal(yoc_tariff_trim(t, 1, "WH07G", 5, &days, &per), 0);
	assert_true(days == 15 && per == 20050);
	assert_int_equal(yoc_tariff_trim(t, 1, "", 0, &days, &per), 0);
	assert_int_equal(yoc_tariff_trim(t, 0, "WH07G", 5, &days, &per), YOC_ENOTFOUND);

	/* 3 days and 60 days of the same emergency: the long stay costs more */
	struct yoc_apc_epi a = EP("21", "DZ11R", 1, d, d + 3, d, d + 3);
	assert_int_equal(yoc_price_spell(t, &a, 1, &sp), YOC_PRICED);
	assert_int_equal(sp.type, YOC_SPELL_EMERGENCY);
	assert_int_equal(sp.pod, YOC_POD_NEL_LONG);
	assert_true(sp.admission && sp.los == 3 && sp.trim == 10 && sp.excess_days == 0);
	assert_int_equal(sp.pence, 500000);
	struct yoc_apc_epi b = EP("21", "DZ11R", 1, d, d + 60, d, d + 60);
	assert_int_equal(yoc_price_spell(t, &b, 1, &sp), YOC_PRICED);
	assert_int_equal(sp.excess_days, 50);
	assert_int_equal(sp.base, 500000);
	assert_int_equal(sp.excess, 50 * 30000);
	assert_int_equal(sp.pence, 500000 + 50 * 30000);
	assert_int_equal(sp.provider, 500000); /* the NCC episode price ignores length */

	/* two episodes: a 0-day first episode (an episode rule would call it
	 * short stay) then 29 days; one long-stay price, from the dominant
	 * (costliest) HRG, plus 19 excess days of that HRG */
	struct yoc_apc_epi two[2] = {EP("21", "WH07G", 1, d, d + 29, d, d),
				     EP("21", "DZ11R", 2, d, d + 29, d, d + 29)};
	assert_int_equal(yoc_price_spell(t, two, 2, &sp), YOC_PRICED);
	assert_true(sp.dominant == 1 && sp.los == 29 && sp.pod == YOC_POD_NEL_LONG);
	assert_int_equal(sp.pence, 500000 + 19 * 30000);
	assert_int_equal(sp.provider, 60000 + 500000); /* short stay WH07G + long stay DZ11R */
	/* the same HRGs the other way round: the dominant is still DZ11R */
	two[0].sushrg = C("DZ11R");
	two[1].sushrg = C("WH07G");
	assert_int_equal(yoc_price_spell(t, two, 2, &sp), YOC_PRICED);
	assert_int_equal(sp.dominant, 0);
	assert_int_equal(sp.pence, 500000 + 19 * 30000);

	/* 0-1 days: short stay; an HRG not in the schedule: the department
	 * average, and the trim point of its chapter */
	struct yoc_apc_epi c = EP("22", "DZ99Z", 1, d, d + 1, d, d + 1);
	assert_int_equal(yoc_price_spell(t, &c, 1, &sp), YOC_PRICED_AVERAGE);
	assert_int_equal(sp.pod, YOC_POD_NEL_SHORT);
	assert_int_equal(sp.pence, 70000); /* (8000 + 6000) / 20 */
	c.disdate = d + 25;
	c.epiend = d + 25;
	assert_int_equal(yoc_price_spell(t, &c, 1, &sp), YOC_PRICED_AVERAGE);
	assert_int_equal(sp.pence, 333333 + 5 * 25000); /* (50000+30000+20000)/30 */

	/* elective: its own trim point; day case: none */
	struct yoc_apc_epi el = EP("11", "HN12F", 1, d, d + 9, d, d + 9);
	assert_int_equal(yoc_price_spell(t, &el, 1, &sp), YOC_PRICED);
	assert_true(sp.type == YOC_SPELL_ELECTIVE && sp.pod == YOC_POD_ELECTIVE);
	assert_int_equal(sp.pence, 700000 + 3 * 40000);
	struct yoc_apc_epi dc = EP("11", "BZ34C", 1, d, d + 2, d, d + 2);
	dc.classpat = C("2");
	assert_int_equal(yoc_price_spell(t, &dc, 1, &sp), YOC_PRICED);
	assert_true(sp.type == YOC_SPELL_DAYCASE && sp.trim == -1 && sp.pence == 100000);
	/* an emergency is an emergency whatever its CLASSPAT */
	dc.admimeth = C("21");
	assert_int_equal(yoc_spell_type(dc.classpat, dc.admimeth), YOC_SPELL_EMERGENCY);

	/* other non-elective: maternity, births, transfers, unknown */
	for (const char *const *m = (const char *const[]){"31", "32", "82", "83", "81", "99", "", NULL};
	     *m; m++)
		assert_int_equal(yoc_spell_type(C("1"), C(*m)), YOC_SPELL_OTHER_NE);
	assert_string_equal(yoc_spell_type_name(YOC_SPELL_OTHER_NE), "other_nonelective");

	/* an open spell (no DISDATE): its length runs to the last date known */
	struct yoc_apc_epi open[2] = {EP("21", "DZ11R", 1, d, NOD, d, d + 4),
				      EP("21", "DZ11R", 2, d, NOD, d + 4, NOD)};
	assert_int_equal(yoc_price_spell(t, open, 2, &sp), YOC_PRICED);
	assert_true(sp.discharged == NOD && sp.los == 4);
	/* a spell whose first episode is missing is priced, but is no admission */
	struct yoc_apc_epi later = EP("21", "DZ11R", 2, d, d + 2, d + 1, d + 2);
	yoc_price_spell(t, &later, 1, &sp);
	assert_true(!sp.admission && sp.admitted == d && sp.pence > 0);

	/* nights of a stay within a year: [from, to) cut to [lo, hi) */
	assert_int_equal(yoc_nights_between(d, d + 10, d + 3, d + 100), 7);
	assert_int_equal(yoc_nights_between(d, d + 10, d - 50, d + 3), 3);
	assert_int_equal(yoc_nights_between(d, NOD, d, d + 3), 0);
	assert_int_equal(yoc_nights_between(d, d, d, d + 3), 0);
	yoc_tariff_free(t);
}

static void expect_trim_error(const char *text)
{
	char p[512];
	struct yoc_error e;
	yoc_tariff *t = spell_tariff();
	assert_int_equal(tu_temp_file(p, sizeof p, "trim", text, strlen(text)), 0);
	yoc_error_clear(&e);
	assert_int_equal(yoc_tariff_load_trims(t, p, &e), YOC_EPARSE);
	assert_true(e.msg[0] != 0);
	unlink(p);
	yoc_tariff_free(t);
}

static void test_trim_errors(void **state)
{
	(void)state;
	const char *h = "hrg,admission,trim_days,excess_bed_day,spells,basis,version\n";
	char b[512];
	snprintf(b, sizeof b, "%sXX01A,daycase,5,1.00,1,hrg,v\n", h);
	expect_trim_error(b);
	snprintf(b, sizeof b, "%sXX01A,elective,-1,1.00,1,hrg,v\n", h);
	expect_trim_error(b);
	snprintf(b, sizeof b, "%sXX01A,elective,5,lots,1,hrg,v\n", h);
	expect_trim_error(b);
	snprintf(b, sizeof b, "%sXX01A,elective,5,1.00,1,hrg,v\nXX02A,elective,5,1.00,1,hrg,w\n", h);
	expect_trim_error(b); /* two versions */
	snprintf(b, sizeof b, "%sDZ11R,nonelective,5,1,1,hrg,v\n", h);
	expect_trim_error(b); /* already in spell_tariff's table */
	expect_trim_error("hrg,trim_days\nA,1\n");
}

/* Spells are grouped by person and SUSSPELLID, else person, provider and
 * ADMIDATE; whatever order episodes arrive in, from however many sets. */
static void test_spell_grouping(void **state)
{
	(void)state;
	int32_t d = 19000;
	struct yoc_apc_epi e[6] = {
		EP("21", "WH07G", 1, d, d + 9, d, d + 1),       /* person 7, spell S1 */
		EP("21", "DZ11R", 2, d, d + 9, d + 1, d + 9),   /* person 7, spell S1 */
		EP("11", "HN12F", 1, d + 40, d + 44, d + 40, d + 44), /* person 7, no id: RX1 + date */
		EP("11", "HN12F", 2, d + 40, d + 44, d + 42, d + 44), /* the same spell */
		EP("81", "DZ11R", 1, d + 40, d + 44, d + 40, d + 44), /* same date, other provider */
		EP("21", "DZ11R", 1, NOD, NOD, d + 60, d + 61), /* no id, no date: on its own */
	};
	const char *ids[6] = {"S1", "S1", "", "", "", ""};
	const char *prov[6] = {"RX1", "RX1", "RX1", "RX1", "RX2", "RX1"};
	char got[2][256];
	for (int pass = 0; pass < 2; pass++) {
		yoc_spells *a = yoc_spells_create(), *b = yoc_spells_create();
		assert_non_null(a);
		assert_non_null(b);
		for (int k = 0; k < 6; k++) {
			int i = pass ? 5 - k : k; /* the second pass adds them backwards, in two sets */
			yoc_spells *to = pass && k % 2 ? b : a;
			assert_int_equal(yoc_spells_add(to, 7, (uint32_t)i, C(ids[i]), C(prov[i]), &e[i]), 0);
		}
		/* and one episode of another person with the same SUSSPELLID */
		assert_int_equal(yoc_spells_add(b, 8, 99, C("S1"), C("RX1"), &e[0]), 0);
		assert_int_equal(yoc_spells_merge(a, b), 0);
		assert_int_equal(yoc_spells_count(a), 7);
		assert_int_equal(yoc_spells_count(b), 0);
		assert_int_equal(yoc_spells_sort(a), 0);
		struct yoc_spell_view v;
		int n = 0;
		got[pass][0] = 0;
		char one[64];
		char lines[8][64];
		while (yoc_spells_next(a, &v) > 0) {
			size_t k = 0;
			k += (size_t)snprintf(one + k, sizeof one - k, "%d:", (int)v.owner);
			for (size_t j = 0; j < v.n; j++)
				k += (size_t)snprintf(one + k, sizeof one - k, "%u,", v.tag[j]);
			snprintf(lines[n++], sizeof lines[0], "%s", one);
		}
		assert_int_equal(n, 5);
		/* spell order inside a spell; spells sorted by owner, then key */
		qsort(lines, (size_t)n, sizeof lines[0], (int (*)(const void *, const void *))strcmp);
		for (int i = 0; i < n; i++) {
			strcat(got[pass], lines[i]);
			strcat(got[pass], " ");
		}
		yoc_spells_free(a);
		yoc_spells_free(b);
	}
	assert_string_equal(got[0], "7:0,1, 7:2,3, 7:4, 7:5, 8:99, ");
	assert_string_equal(got[1], got[0]);
	yoc_spells_free(NULL);
}

/* Out of memory at every allocation of grouping: an error status, never a crash or leak. */
static int group_some(void)
{
	int32_t d = 19000;
	int rc = YOC_OK;
	yoc_spells *a = yoc_spells_create(), *b = yoc_spells_create();
	if (!a || !b) {
		rc = YOC_ENOMEM;
		goto cleanup;
	}
	for (int i = 0; i < 3000 && !rc; i++) {
		struct yoc_apc_epi e = EP("21", "DZ11R", 1 + i % 3, d, d + 9, d + i % 3, d + 9);
		char id[16];
		snprintf(id, sizeof id, "S%d", i / 3);
		rc = yoc_spells_add(i % 2 ? a : b, (uint64_t)(i % 7), (uint32_t)i, C(id), C("RX1"), &e);
	}
	if (!rc)
		rc = yoc_spells_merge(a, b);
	if (!rc)
		rc = yoc_spells_sort(a);
	struct yoc_spell_view v;
	int k;
	size_t n = 0;
	while (!rc && (k = yoc_spells_next(a, &v)) != 0) {
		if (k < 0)
			rc = k;
		else
			n += v.n;
	}
	if (!rc)
		assert_int_equal(n, 3000);
cleanup:
	yoc_spells_free(a);
	yoc_spells_free(b);
	return rc;
}

static void test_spell_alloc_failures(void **state)
{
	(void)state;
	int failed = 0;
	for (unsigned long n = 1; n < 500; n++) {
		yoc_alloc_fail_at(n);
		int rc = group_some();
		yoc_alloc_fail_at(0);
		if (rc == 0)
			break;
		assert_int_equal(rc, YOC_ENOMEM);
		failed++;
	}
	assert_true(failed > 3);
	assert_int_equal(group_some(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_money),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_tariff),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_alloc_failures),
		cmocka_unit_test(test_shipped_tables),
		cmocka_unit_test(test_spell_price),
		cmocka_unit_test(test_trim_errors),
		cmocka_unit_test(test_spell_grouping),
		cmocka_unit_test(test_spell_alloc_failures),
	};
	return cmocka_run_group_tests_name("cost", tests, NULL, NULL);
}

/*
** Unit tests of src/budget: pro-rating by days (100 of 365 days is exactly
** 100/365 of the tariff, rounded half away from zero), largest-remainder
** splits that add up to the penny, payment plans with leavers, rejoiners
** and overlapping register rows (never two payments for one day, checked
** against a day-by-day count), category files and service maps (errors
** named by line), trim and uplift specs, the seeded bootstrap (same seed,
** same figures), the settlement, and every allocation failing in turn.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "budget/budget.h"
#include "stats/stats.h"
#include "yoc/date.h"

static int32_t D(int y, int m, int d)
{
	return yoc_date_from_ymd(y, m, d);
}

static void test_prorate(void **state)
{
	(void)state;
	/* 100/365 of £1,000.00: 27,397.26...p -> 27,397p */
	assert_int_equal(yoc_budget_prorate(100000, 100, 365), 27397);
	/* exact halves round away from zero: 73 x 5 / 365 = 1 exactly; 365 x 0.5 */
	assert_int_equal(yoc_budget_prorate(73, 5, 365), 1);
	assert_int_equal(yoc_budget_div_round(1, 2), 1);
	assert_int_equal(yoc_budget_div_round(-1, 2), -1);
	assert_int_equal(yoc_budget_div_round(5, 2), 3);
	assert_int_equal(yoc_budget_div_round(7, 3), 2);
	assert_int_equal(yoc_budget_prorate(123456, 365, 365), 123456);
	assert_int_equal(yoc_budget_prorate(123456, 366, 366), 123456);
	assert_int_equal(yoc_budget_units(365, 365), YOC_BUDGET_YEAR_UNITS);
	assert_int_equal(yoc_budget_units(366, 366), YOC_BUDGET_YEAR_UNITS);
}

static void test_split(void **state)
{
	(void)state;
	double w[3] = {1, 1, 1};
	int64_t out[3];
	assert_int_equal(yoc_budget_split(100, w, 3, out), 0);
	assert_int_equal(out[0] + out[1] + out[2], 100);
	assert_int_equal(out[0], 34); /* ties go to the first part */
	assert_int_equal(out[1], 33);
	double w2[4] = {0.1, 0.2, 0.3, 0.4};
	int64_t o2[4];
	for (int64_t t = -1001; t <= 1001; t += 77) {
		assert_int_equal(yoc_budget_split(t, w2, 4, o2), 0);
		assert_int_equal(o2[0] + o2[1] + o2[2] + o2[3], t);
	}
}

/* Pays day by day, independently of the plan: a person's days are a set. */
static int64_t by_days(int fy, const struct yoc_member_span *m, size_t n, const int64_t *tariff,
		       int64_t *days_out)
{
	int32_t y0 = yoc_fyear_start(fy), y1 = yoc_fyear_end(fy);
	int yd = (int)(y1 - y0 + 1);
	int64_t total = 0, alldays = 0;
	for (size_t i = 0; i < n; i++) {
		int first = 1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(m[j].pseudo, m[i].pseudo) == 0)
				first = 0;
		if (!first)
			continue;
		__int128 num = 0;
		int64_t days = 0;
		for (int32_t d = y0; d <= y1; d++) {
			/* the earliest-joining row covering the day pays it */
			int best = -1;
			for (size_t j = 0; j < n; j++)
				if (strcmp(m[j].pseudo, m[i].pseudo) == 0 && m[j].join <= d &&
				    d <= m[j].leave && (best < 0 || m[j].join < m[best].join))
					best = (int)j;
			if (best >= 0) {
				num += tariff[m[best].cat];
				days++;
			}
		}
		total += yoc_budget_div_round(num, yd);
		alldays += days;
	}
	*days_out = alldays;
	return total;
}

static void test_plan(void **state)
{
	(void)state;
	int64_t tariff[2] = {100000, 365000};
	struct yoc_member_span m[] = {
		{"a", D(2022, 6, 1), D(2022, 9, 8), 0},   /* 100 days */
		{"b", D(2022, 5, 1), D(2022, 7, 31), 1},  /* leaves ... */
		{"b", D(2022, 7, 15), INT32_MAX, 1},      /* ... rejoins, overlapping */
		{"c", D(2021, 1, 1), D(2022, 4, 30), 0},  /* leaves in April */
		{"c", D(2022, 10, 1), D(2023, 6, 30), 1}, /* rejoins in another category */
		{"d", D(2023, 4, 2), INT32_MAX, 0},       /* after the year */
		{"e", D(2022, 8, 1), D(2022, 8, 31), 0},  /* inside ... */
		{"e", D(2022, 7, 1), D(2022, 12, 31), 0}, /* ... a longer row */
	};
	size_t n = sizeof m / sizeof m[0];
	struct yoc_budget_plan p;
	struct yoc_error e;
	yoc_error_clear(&e);
	assert_int_equal(yoc_budget_plan_make(2022, m, n, tariff, 2, NULL, &p, &e), 0);
	int64_t days;
	int64_t want = by_days(2022, m, n, tariff, &days);
	assert_int_equal(p.budget, want);
	assert_int_equal(p.member_days, days);
	assert_int_equal(p.members, 4);
	int64_t s = 0, sd = 0, sl = 0;
	for (int k = 0; k < 12; k++) {
		s += p.month[k];
		sd += p.month_days[k];
	}
	for (size_t i = 0; i < p.nlines; i++)
		sl += p.lines[i].amount;
	assert_int_equal(s, p.budget);
	assert_int_equal(sl, p.budget);
	assert_int_equal(sd, days);
	/* b: 2022-07-15..31 twice (17 days); e: August inside July-December (31) */
	assert_int_equal(p.overlap_days, 17 + 31);
	yoc_budget_plan_free(&p);

	/* one member alone: 100 of 365 days is 100/365 of the tariff */
	assert_int_equal(yoc_budget_plan_make(2022, m, 1, tariff, 2, NULL, &p, &e), 0);
	assert_int_equal(p.budget, yoc_budget_prorate(100000, 100, 365));
	assert_int_equal(p.member_days, 100);
	yoc_budget_plan_free(&p);

	/* seasonal weights move money between months, never the total */
	double w[12] = {1.2, 1, 1, 0.8, 0.8, 1, 1, 1.1, 1.3, 1.4, 1.2, 1};
	assert_int_equal(yoc_budget_plan_make(2022, m, n, tariff, 2, w, &p, &e), 0);
	s = 0;
	for (int k = 0; k < 12; k++)
		s += p.month[k];
	assert_int_equal(s, want);
	yoc_budget_plan_free(&p);

	struct yoc_member_span bad = {"x", D(2022, 4, 1), INT32_MAX, 5};
	assert_int_equal(yoc_budget_plan_make(2022, &bad, 1, tariff, 2, NULL, &p, &e), YOC_EINVAL);
}

static void test_cats(void **state)
{
	(void)state;
	yoc_budget_cats *c = NULL;
	struct yoc_error e;
	yoc_error_clear(&e);
	const char ok[] = "# version: v1\n\nhigh < low : ltc_count >= 3\n# note\nlow: true\n";
	assert_int_equal(yoc_budget_cats_parse(ok, strlen(ok), "c.txt", &c, &e), 0);
	assert_int_equal(yoc_budget_cats_count(c), 2);
	assert_string_equal(yoc_budget_cats_version(c), "v1");
	assert_int_equal(yoc_budget_cats_parent(c, 0), 1);
	assert_int_equal(yoc_budget_cats_parent(c, 1), -1);
	assert_int_equal(yoc_budget_cats_line(c, 0), 3);
	assert_string_equal(yoc_budget_cats_rule(c, 0), "ltc_count >= 3");
	yoc_budget_cats_free(c);
	static const struct {
		const char *text;
		long line, col;
		const char *msg;
	} bad[] = {
		{"a : x >=\n", 1, 9, ""},
		{"a : true\nb c : true\n", 2, 3, "expected ':'"},
		{"a : true\na : false\n", 2, 1, "already defined on line 1"},
		{"a < z : true\n", 1, 1, "parent 'z'"},
		{"a < b : true\nb < a : true\n", 1, 1, "loop"},
		{"a < a : true\n", 1, 1, "own parent"},
		{"a :   \n", 1, 7, "no rule"},
		{"# only comments\n", 1, 0, "no categories"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		yoc_error_clear(&e);
		assert_int_not_equal(yoc_budget_cats_parse(bad[i].text, strlen(bad[i].text), "c.txt",
							   &c, &e), 0);
		assert_null(c);
		assert_int_equal(e.line, bad[i].line);
		if (bad[i].col)
			assert_int_equal(e.col, bad[i].col);
		assert_non_null(strstr(e.msg, bad[i].msg));
	}
}

#define HDR "version,decision,setting,pod,hrg,provider,effective_from,effective_to,note\n"

static void test_smap(void **state)
{
	(void)state;
	yoc_smap *m = NULL;
	struct yoc_error e;
	yoc_error_clear(&e);
	const char ok[] = HDR
		"v,in,elective,*,*,*,2020-04-01,,\n"
		"v,out,elective,*,*,RXX,2020-04-01,2022-03-31,out of area\n"
		"v,in,outpatient,*,*,*,2020-04-01,,\n"
		"v,out,outpatient,outpatient_procedure,LB,*,2020-04-01,,\n"
		"v,out,*,*,*,*,2020-04-01,,everything else\n";
	assert_int_equal(yoc_smap_parse(ok, strlen(ok), "m.csv", &m, &e), 0);
	long line;
	assert_int_equal(yoc_smap_decide(m, YOC_BSET_ELECTIVE, "elective", "FZ11", "RAA",
					 D(2021, 5, 1), &line), 1);
	assert_int_equal(line, 0);
	assert_int_equal(yoc_smap_decide(m, YOC_BSET_ELECTIVE, "elective", "FZ11", "RXX",
					 D(2021, 5, 1), &line), 0);
	assert_int_equal(line, 1);
	/* the provider's exclusion ended: the setting's line decides again */
	assert_int_equal(yoc_smap_decide(m, YOC_BSET_ELECTIVE, "elective", "FZ11", "RXX",
					 D(2022, 4, 1), NULL), 1);
	assert_int_equal(yoc_smap_decide(m, YOC_BSET_OUTPATIENT, "outpatient_procedure", "LB40",
					 "RAA", D(2022, 4, 1), NULL), 0);
	assert_int_equal(yoc_smap_decide(m, YOC_BSET_OUTPATIENT, "outpatient_attendance", "WF01",
					 "RAA", D(2022, 4, 1), NULL), 1);
	assert_int_equal(yoc_smap_decide(m, YOC_BSET_GP, "", "", "", D(2022, 4, 1), &line), 0);
	assert_int_equal(line, 4);
	assert_int_equal(yoc_smap_decide(m, YOC_BSET_GP, "", "", "", D(2019, 4, 1), &line), 0);
	assert_int_equal(line, -1);
	int in[YOC_BSET_COUNT], part[YOC_BSET_COUNT];
	yoc_smap_settings(m, D(2021, 4, 1), in, part);
	assert_int_equal(in[YOC_BSET_ELECTIVE], 1);
	assert_int_equal(part[YOC_BSET_ELECTIVE], 1);
	assert_int_equal(in[YOC_BSET_AE], 0);
	yoc_smap_settings(m, D(2022, 4, 1), in, part);
	assert_int_equal(part[YOC_BSET_ELECTIVE], 0);
	assert_int_equal(part[YOC_BSET_OUTPATIENT], 1);
	yoc_smap_free(m);

	static const struct {
		const char *text;
		long line;
		const char *msg;
	} bad[] = {
		{HDR "v,in,elective,*,*,*,2020-04-01,,\nv,out,elective,*,*,*,2021-04-01,,\n", 3,
		 "overlaps line 2"},
		{HDR "v,in,elective,*,*,*,2020-04-01,2021-03-31,\nv,in,elective,*,*,*,2021-04-01,,\n"
		     "v,out,*,*,*,RXX,2021-01-01,,\n", 4, "contradicts line 2"},
		{HDR "v,maybe,elective,*,*,*,2020-04-01,,\n", 2, "decision"},
		{HDR "v,in,surgery,*,*,*,2020-04-01,,\n", 2, "unknown setting"},
		{HDR "v,in,*,theatre,*,*,2020-04-01,,\n", 2, "point of delivery"},
		{HDR "v,in,*,*,*,*,2020-13-01,,\n", 2, "effective_from"},
		{HDR "v,in,*,*,*,*,2021-04-01,2020-04-01,\n", 2, "before"},
		{HDR "v,in,ae,*,*,*,2021-04-01,,\nw,in,gp,*,*,*,2021-04-01,,\n", 3, "version"},
		{"version,decision\nv,in\n", 1, "missing column"},
		{HDR, 1, "no lines"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		yoc_error_clear(&e);
		assert_int_not_equal(yoc_smap_parse(bad[i].text, strlen(bad[i].text), "m.csv", &m, &e),
				     0);
		assert_null(m);
		assert_int_equal(e.line, bad[i].line);
		assert_non_null(strstr(e.msg, bad[i].msg));
	}
}

static void test_specs(void **state)
{
	(void)state;
	struct yoc_trim t;
	struct yoc_uplift u;
	struct yoc_error e;
	assert_int_equal(yoc_trim_parse("pct:5,97", &t, &e), 0);
	assert_int_equal(t.kind, YOC_TRIM_PCT);
	assert_true(t.lo == 5 && t.hi == 97);
	assert_int_equal(yoc_trim_parse("sd:3", &t, &e), 0);
	assert_int_equal(t.kind, YOC_TRIM_SD);
	assert_int_equal(yoc_trim_parse("none", &t, &e), 0);
	assert_int_equal(yoc_trim_parse("pct:9,5", &t, &e), YOC_EINVAL);
	assert_int_equal(yoc_trim_parse("sd:-1", &t, &e), YOC_EINVAL);
	assert_int_equal(yoc_trim_parse("median", &t, &e), YOC_EINVAL);
	assert_int_equal(yoc_uplift_parse("inflation=10,efficiency=-10", &u, &e), 0);
	assert_int_equal(yoc_uplift_apply(&u, 100000), 99000); /* 1.1 x 0.9 */
	assert_int_equal(yoc_uplift_parse("", &u, &e), 0);
	assert_int_equal(yoc_uplift_apply(&u, 12345), 12345);
	assert_int_equal(yoc_uplift_parse("inflation=2,bogus=1", &u, &e), YOC_EINVAL);
	assert_int_equal(e.col, 13);
}

static void test_bootstrap(void **state)
{
	(void)state;
	struct yoc_tpy py[400];
	memset(py, 0, sizeof py);
	struct yoc_rng r;
	yoc_rng_seed(&r, 99);
	for (int i = 0; i < 400; i++) {
		py[i].cat = i % 2;
		py[i].units = YOC_BUDGET_YEAR_UNITS;
		/* category 1 costs ten times as much, with a heavy tail */
		py[i].cost = (int64_t)(yoc_rng_below(&r, 1000) * (i % 2 ? 10 : 1)) *
			     (yoc_rng_below(&r, 20) == 0 ? 20 : 1);
	}
	int64_t exp[2] = {0, 0}, n[2] = {0, 0};
	for (int i = 0; i < 400; i++) {
		exp[py[i].cat] += py[i].cost;
		n[py[i].cat]++;
	}
	exp[0] /= n[0];
	exp[1] /= n[1];
	int64_t sizes[3] = {20, 100, 400};
	struct yoc_risk_size a[3], b[3], c[3];
	struct yoc_error e;
	assert_int_equal(yoc_budget_bootstrap(py, 400, 2, exp, sizes, 3, 300, 7, a, &e), 0);
	assert_int_equal(yoc_budget_bootstrap(py, 400, 2, exp, sizes, 3, 300, 7, b, &e), 0);
	assert_int_equal(yoc_budget_bootstrap(py, 400, 2, exp, sizes, 3, 300, 8, c, &e), 0);
	assert_memory_equal(a, b, sizeof a);
	assert_memory_not_equal(a, c, sizeof a);
	assert_true(a[0].cv > a[1].cv && a[1].cv > a[2].cv);
	for (int k = 0; k < 3; k++) {
		assert_true(a[k].p_over10 <= a[k].p_over5);
		assert_true(a[k].q05 <= a[k].q50 && a[k].q50 <= a[k].q95);
	}
	assert_int_equal(yoc_budget_bootstrap(py, 400, 2, exp, sizes, 3, 1, 7, a, &e), YOC_EINVAL);
}

static void test_rng(void **state)
{
	(void)state;
	struct yoc_rng a, b;
	yoc_rng_seed(&a, 1);
	yoc_rng_seed(&b, 1);
	for (int i = 0; i < 100; i++)
		assert_true(yoc_rng_next(&a) == yoc_rng_next(&b));
	int hist[7] = {0};
	for (int i = 0; i < 70000; i++)
		hist[yoc_rng_below(&a, 7)]++;
	for (int k = 0; k < 7; k++)
		assert_true(hist[k] > 9500 && hist[k] < 10500);
	double x[5] = {1, 2, 3, 4, 10};
	/* R: quantile(c(1,2,3,4,10), c(.1,.5,.9)) = 1.4 3.0 7.6 */
	assert_true(yoc_quantile_sorted(x, 5, 0.1) > 1.3999 && yoc_quantile_sorted(x, 5, 0.1) < 1.4001);
	assert_true(yoc_quantile_sorted(x, 5, 0.5) == 3);
	assert_true(yoc_quantile_sorted(x, 5, 0.9) > 7.5999 && yoc_quantile_sorted(x, 5, 0.9) < 7.6001);
}

static void test_settle(void **state)
{
	(void)state;
	struct yoc_settle_opts o = {2, 50, 1};
	struct yoc_settlement s;
	yoc_budget_settle(100000000, 108000000, &o, &s);
	assert_int_equal(s.variance, 8000000);
	assert_int_equal(s.in_corridor, 2000000);
	assert_int_equal(s.provider, 5000000);
	assert_int_equal(s.commissioner, 3000000);
	assert_int_equal(s.kpi, 1000000);
	assert_int_equal(s.payment, 104000000);
	assert_int_equal(s.provider + s.commissioner, s.variance);
	/* inside the corridor: the provider keeps the saving, the payment is the budget */
	o.kpi = 0;
	yoc_budget_settle(100000000, 99000000, &o, &s);
	assert_int_equal(s.provider, -1000000);
	assert_int_equal(s.commissioner, 0);
	assert_int_equal(s.payment, 100000000);
}

static void test_alloc_failures(void **state)
{
	(void)state;
	const char cats[] = "high < low : ltc_count >= 3\nlow: true\n";
	const char map[] = HDR "v,in,elective,*,*,*,2020-04-01,,\nv,out,*,*,*,*,2020-04-01,,\n";
	int64_t tariff[2] = {100000, 365000};
	struct yoc_member_span m[] = {
		{"a", D(2022, 6, 1), D(2022, 9, 8), 0},
		{"b", D(2022, 5, 1), INT32_MAX, 1},
	};
	for (unsigned long k = 1; k < 200; k++) {
		struct yoc_error e;
		yoc_budget_cats *c = NULL;
		yoc_smap *sm = NULL;
		struct yoc_budget_plan p;
		yoc_alloc_fail_at(k);
		int r1 = yoc_budget_cats_parse(cats, strlen(cats), "c", &c, &e);
		int r2 = yoc_smap_parse(map, strlen(map), "m", &sm, &e);
		int r3 = yoc_budget_plan_make(2022, m, 2, tariff, 2, NULL, &p, &e);
		yoc_alloc_fail_at(0);
		assert_true(r1 == 0 || r1 == YOC_ENOMEM);
		assert_true(r2 == 0 || r2 == YOC_ENOMEM);
		assert_true(r3 == 0 || r3 == YOC_ENOMEM);
		yoc_budget_cats_free(c);
		yoc_smap_free(sm);
		if (r3 == 0)
			yoc_budget_plan_free(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prorate),   cmocka_unit_test(test_split),
		cmocka_unit_test(test_plan),      cmocka_unit_test(test_cats),
		cmocka_unit_test(test_smap),      cmocka_unit_test(test_specs),
		cmocka_unit_test(test_bootstrap), cmocka_unit_test(test_rng),
		cmocka_unit_test(test_settle),    cmocka_unit_test(test_alloc_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
** The synthetic care economy through its C API (src/synth) and the shared
** LTC code list (src/ltc): code-list loading and ICD-10 matching, the size
** of the 999 NHS number test range, determinism (including independence
** from the row-buffer budget), --clean writing the same truth, the truth
** file's internal consistency, option and data errors, and out-of-memory at
** every allocation of a small run. End-to-end checks of the files (defect
** recounts, calibration, re-pricing) are in tests/cli/synth.sh.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ltc/ltc.h"
#include "synth/synth.h"
#include "testutil.h"
#include "yoc/csv.h"
#include "yoc/io.h"
#include "yoc/nhsno.h"

static char data_dir[1024];

static int setup(void **state)
{
	(void)state;
	const char *root = getenv("YOC_ROOT");
	snprintf(data_dir, sizeof data_dir, "%s/data", root && *root ? root : ".");
	setenv("YOC_QUIET", "1", 1);
	return 0;
}

static yoc_ltc *load_codelist(void)
{
	char p[1200];
	struct yoc_error e;
	yoc_ltc *l = NULL;
	snprintf(p, sizeof p, "%s/ltc_codelist.csv", data_dir);
	yoc_error_clear(&e);
	if (yoc_ltc_load(&l, p, &e) != 0) {
		yoc_error_print(stderr, &e);
		fail();
	}
	return l;
}

static uint64_t mask_of(const yoc_ltc *l, const char *id)
{
	int i = yoc_ltc_by_id(l, id, strlen(id));
	assert_true(i >= 0);
	return (uint64_t)1 << i;
}

static uint64_t icd(const yoc_ltc *l, const char *code)
{
	return yoc_ltc_icd10(l, code, strlen(code));
}

static void test_codelist(void **state)
{
	(void)state;
	yoc_ltc *l = load_codelist();
	assert_true(yoc_ltc_count(l) >= 20);
	assert_string_equal(yoc_ltc_version(l), "yoc-ltc-1");
	/* The conditions the issue names are all there, each with a register flag. */
	const char *need[] = {"hypertension", "diabetes", "chd", "heart_failure",
		"atrial_fibrillation", "stroke_tia", "copd", "asthma", "ckd", "cancer", "dementia",
		"depression", "smi", "epilepsy", "learning_disability", "osteoporosis",
		"rheumatoid_arthritis", "pad", "palliative"};
	for (size_t i = 0; i < sizeof need / sizeof *need; i++) {
		int k = yoc_ltc_by_id(l, need[i], strlen(need[i]));
		assert_true(k >= 0);
		assert_true(yoc_ltc_get(l, (size_t)k)->flag[0] != 0);
	}
	uint64_t mental = yoc_ltc_mental_mask(l);
	assert_true(mental & mask_of(l, "depression"));
	assert_true(mental & mask_of(l, "dementia"));
	assert_false(mental & mask_of(l, "diabetes"));
	/* Prefix matching on normalised codes. */
	assert_int_equal(icd(l, "I10X"), mask_of(l, "hypertension"));
	assert_int_equal(icd(l, "I10"), mask_of(l, "hypertension"));
	assert_int_equal(icd(l, "i10.x"), mask_of(l, "hypertension"));
	assert_int_equal(icd(l, "I110"), mask_of(l, "hypertension") | mask_of(l, "heart_failure"));
	assert_int_equal(icd(l, "E119"), mask_of(l, "diabetes"));
	assert_int_equal(icd(l, "F329"), mask_of(l, "depression"));
	assert_int_equal(icd(l, "C349"), mask_of(l, "cancer"));
	assert_int_equal(icd(l, "J441"), mask_of(l, "copd"));
	assert_int_equal(icd(l, "J459"), mask_of(l, "asthma"));
	assert_int_equal(icd(l, "N183"), mask_of(l, "ckd"));
	assert_int_equal(icd(l, "Z515"), mask_of(l, "palliative"));
	/* Acute reasons for admission are not long-term conditions. */
	const char *acute[] = {"J189", "J22X", "N390", "R074", "L031", "A419", "N179", "S720",
		"R296", "E871", "K922", "H259", "M161", "T391", "R55X", "", "U999"};
	for (size_t i = 0; i < sizeof acute / sizeof *acute; i++)
		assert_int_equal(icd(l, acute[i]), 0);
	assert_int_equal(yoc_ltc_by_flag(l, "HYP", 3), yoc_ltc_by_id(l, "hypertension", 12));
	assert_int_equal(yoc_ltc_by_flag(l, "XYZ", 3), -1);
	yoc_ltc_free(l);
	yoc_ltc_free(NULL);
}

static void expect_codelist_error(const char *text)
{
	char p[512];
	struct yoc_error e;
	yoc_ltc *l = (yoc_ltc *)1;
	assert_int_equal(tu_temp_file(p, sizeof p, "ltc", text, strlen(text)), 0);
	yoc_error_clear(&e);
	assert_true(yoc_ltc_load(&l, p, &e) < 0);
	assert_null(l);
	assert_true(e.msg[0] != 0);
	unlink(p);
}

static void test_codelist_errors(void **state)
{
	(void)state;
	const char *h = "condition,label,kind,source,code,origin,version\n";
	char b[1024];
	snprintf(b, sizeof b, "%sa,A,bodily,icd10,I10,x,v1\n", h);
	expect_codelist_error(b);
	snprintf(b, sizeof b, "%sa,A,physical,icd10,I10,x,v1\nb,B,physical,icd10,I20,x,v2\n", h);
	expect_codelist_error(b);
	snprintf(b, sizeof b, "%sa,A,physical,snomed,123,x,v1\n", h);
	expect_codelist_error(b);
	snprintf(b, sizeof b, "%sa,A,physical,register,F1,x,v1\na,A,physical,register,F2,x,v1\n", h);
	expect_codelist_error(b);
	snprintf(b, sizeof b, "%sa,A,physical,icd10,I10,x,v1\na,A,mental,icd10,I11,x,v1\n", h);
	expect_codelist_error(b);
	expect_codelist_error(h);
	expect_codelist_error("condition,label\na,b\n");
}

static void test_nhs_capacity(void **state)
{
	(void)state;
	/* Independent count: Modulus 11 over every 9-digit prefix 999000000..999999999. */
	uint64_t k = 0;
	for (uint32_t p = 0; p < 1000000; p++) {
		int d[9] = {9, 9, 9, (int)(p / 100000 % 10), (int)(p / 10000 % 10),
			    (int)(p / 1000 % 10), (int)(p / 100 % 10), (int)(p / 10 % 10), (int)(p % 10)};
		int s = 0;
		for (int i = 0; i < 9; i++)
			s += d[i] * (10 - i);
		k += 11 - s % 11 != 10;
	}
	assert_int_equal(yoc_synth_nhs_capacity(), k);
	assert_true(k > 900000 && k < 920000);
}

static int run(const char *dir, uint64_t persons, int years, uint64_t seed, double rate,
	       size_t budget, struct yoc_synth_stats *st)
{
	struct yoc_synth_opts o;
	struct yoc_error e;
	yoc_synth_opts_init(&o);
	o.persons = persons;
	o.years = years;
	o.seed = seed;
	o.defect_rate = rate;
	o.out_dir = dir;
	o.data_dir = data_dir;
	o.buffer_bytes = budget;
	yoc_error_clear(&e);
	int rc = yoc_synth_run(&o, st, &e);
	if (rc && rc != YOC_ENOMEM && rc != YOC_EEXIST)
		yoc_error_print(stderr, &e);
	return rc;
}

/* 0 when the two trees hold the same files with the same bytes. */
static int same_tree(const char *a, const char *b)
{
	char **pa = NULL, **pb = NULL;
	size_t na = 0, nb = 0;
	struct yoc_error e;
	int diff = 0;
	if (yoc_list_files(a, &pa, &na, &e) || yoc_list_files(b, &pb, &nb, &e))
		return -1;
	if (na != nb)
		diff = 1;
	for (size_t i = 0; !diff && i < na; i++) {
		char *da = NULL, *db = NULL;
		size_t la = 0, lb = 0;
		if (strcmp(pa[i] + strlen(a), pb[i] + strlen(b)) != 0 ||
		    yoc_read_file(pa[i], (size_t)1 << 30, &da, &la, &e) ||
		    yoc_read_file(pb[i], (size_t)1 << 30, &db, &lb, &e) || la != lb ||
		    memcmp(da, db, la) != 0)
			diff = 1;
		yoc_free(da);
		yoc_free(db);
	}
	yoc_paths_free(pa);
	yoc_paths_free(pb);
	return diff;
}

static void test_determinism(void **state)
{
	(void)state;
	char a[512], b[512], c[512];
	struct yoc_synth_stats st;
	assert_int_equal(tu_temp_dir(a, sizeof a, "syA"), 0);
	assert_int_equal(tu_temp_dir(b, sizeof b, "syB"), 0);
	assert_int_equal(tu_temp_dir(c, sizeof c, "syC"), 0);
	assert_int_equal(run(a, 1500, 2, 42, 1.0, 0, &st), 0);
	assert_true(st.persons > 1500 && st.person_years > 2500 && st.rows > 10000);
	assert_true(st.defect_rows > 0 && st.defect_rows < st.rows / 20);
	/* A tiny buffer budget flushes many times: the files must not change. */
	assert_int_equal(run(b, 1500, 2, 42, 1.0, 65536, NULL), 0);
	assert_int_equal(same_tree(a, b), 0);
	assert_int_equal(run(c, 1500, 2, 43, 1.0, 0, NULL), 0);
	assert_int_equal(same_tree(a, c), 1);
	tu_rm_rf(a);
	tu_rm_rf(b);
	tu_rm_rf(c);
}

static void test_clean_same_truth(void **state)
{
	(void)state;
	char a[512], b[512], pa[600], pb[600];
	struct yoc_synth_stats st;
	char *da = NULL, *db = NULL;
	size_t la, lb;
	struct yoc_error e;
	assert_int_equal(tu_temp_dir(a, sizeof a, "syD"), 0);
	assert_int_equal(tu_temp_dir(b, sizeof b, "syE"), 0);
	assert_int_equal(run(a, 1200, 1, 9, 2.0, 0, NULL), 0);
	assert_int_equal(run(b, 1200, 1, 9, 0.0, 0, &st), 0);
	assert_int_equal(st.defect_rows, 0);
	snprintf(pa, sizeof pa, "%s/truth/person_year.csv", a);
	snprintf(pb, sizeof pb, "%s/truth/person_year.csv", b);
	assert_int_equal(yoc_read_file(pa, 1 << 28, &da, &la, &e), 0);
	assert_int_equal(yoc_read_file(pb, 1 << 28, &db, &lb, &e), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(da, db, la);
	yoc_free(da);
	yoc_free(db);
	tu_rm_rf(a);
	tu_rm_rf(b);
}

static int64_t money(struct yoc_cell c)
{
	int64_t v = 0;
	assert_int_equal(yoc_cell_pence(c, &v), 0);
	return v;
}

static void test_truth_consistency(void **state)
{
	(void)state;
	char a[512], p[600];
	struct yoc_error e;
	yoc_csv *r = NULL;
	struct yoc_csv_opts o = {0};
	assert_int_equal(tu_temp_dir(a, sizeof a, "syF"), 0);
	assert_int_equal(run(a, 2500, 2, 5, 1.0, 0, NULL), 0);
	snprintf(p, sizeof p, "%s/truth/person_year.csv", a);
	yoc_error_clear(&e);
	assert_int_equal(yoc_csv_open(&r, p, &o, &e), 0);
	assert_int_equal(yoc_csv_ncols(r), 31);
	int c_ne = yoc_csv_col(r, "cost_nonelective"), c_em = yoc_csv_col(r, "cost_emergency");
	int c_oth = yoc_csv_col(r, "cost_other_nonelective");
	int c_bd = yoc_csv_col(r, "bed_days"), c_ebd = yoc_csv_col(r, "emergency_bed_days");
	assert_true(c_ne >= 0 && c_em >= 0 && c_oth >= 0 && c_bd >= 0 && c_ebd >= 0);
	int c_nhs = yoc_csv_col(r, "nhs_number"), c_tot = yoc_csv_col(r, "cost_total");
	int c_ltc = yoc_csv_col(r, "ltc_count"), c_mltc = yoc_csv_col(r, "mental_ltc_count");
	int c_list = yoc_csv_col(r, "ltcs"), c_age = yoc_csv_col(r, "age");
	int c_first = yoc_csv_col(r, "cost_elective"), c_last = yoc_csv_col(r, "cost_ambulance");
	assert_true(c_nhs >= 0 && c_tot >= 0 && c_ltc >= 0 && c_list >= 0 && c_first > c_tot);
	assert_int_equal(c_last - c_first, 9);
	struct yoc_csv_row row;
	long rows = 0, with_ltc = 0;
	while ((r ? yoc_csv_next(r, &row, &e) : 0) > 0) {
		char nhs[11];
		rows++;
		assert_int_equal(yoc_nhsno_check(row.cells[c_nhs].p, row.cells[c_nhs].n, nhs),
				 YOC_NHSNO_VALID);
		int64_t sum = 0;
		for (int k = c_first; k <= c_last; k++)
			sum += money(row.cells[k]);
		assert_int_equal(sum, money(row.cells[c_tot]));
		/* non-elective = emergency + other non-elective; emergency bed days are bed days */
		assert_int_equal(money(row.cells[c_em]) + money(row.cells[c_oth]),
				 money(row.cells[c_ne]));
		int64_t bd, ebd;
		assert_int_equal(yoc_cell_int(row.cells[c_bd], &bd), 0);
		assert_int_equal(yoc_cell_int(row.cells[c_ebd], &ebd), 0);
		assert_true(ebd >= 0 && ebd <= bd);
		int64_t n, nm, age;
		assert_int_equal(yoc_cell_int(row.cells[c_ltc], &n), 0);
		assert_int_equal(yoc_cell_int(row.cells[c_mltc], &nm), 0);
		assert_int_equal(yoc_cell_int(row.cells[c_age], &age), 0);
		assert_true(nm <= n && age >= 0 && age <= 115);
		/* ltcs lists exactly ltc_count condition ids. */
		int64_t k = row.cells[c_list].n ? 1 : 0;
		for (size_t i = 0; i < row.cells[c_list].n; i++)
			k += row.cells[c_list].p[i] == ';';
		assert_int_equal(k, n);
		with_ltc += n > 0;
	}
	assert_true(rows > 4000);
	assert_true(with_ltc > rows / 5);
	yoc_csv_close(r);
	tu_rm_rf(a);
}

static void test_errors(void **state)
{
	(void)state;
	char a[512], p[600], d[512];
	struct yoc_synth_opts o;
	struct yoc_error e;
	assert_int_equal(tu_temp_dir(a, sizeof a, "syG"), 0);
	snprintf(p, sizeof p, "%s/something", a);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(run(a, 100, 1, 1, 1.0, 0, NULL), YOC_EEXIST);
	yoc_synth_opts_init(&o);
	o.out_dir = a;
	o.data_dir = data_dir;
	o.force = 1;
	o.persons = 50;
	o.years = 1;
	yoc_error_clear(&e);
	assert_int_equal(yoc_synth_run(&o, NULL, &e), 0); /* --force */
	o.persons = 0;
	assert_int_equal(yoc_synth_run(&o, NULL, &e), YOC_EINVAL);
	o.persons = 10;
	o.years = 0;
	assert_int_equal(yoc_synth_run(&o, NULL, &e), YOC_EINVAL);
	o.years = 11;
	assert_int_equal(yoc_synth_run(&o, NULL, &e), YOC_EINVAL);
	o.years = 1;
	o.defect_rate = -1;
	assert_int_equal(yoc_synth_run(&o, NULL, &e), YOC_EINVAL);
	o.defect_rate = 1;
	o.out_dir = NULL;
	assert_int_equal(yoc_synth_run(&o, NULL, &e), YOC_EINVAL);
	o.out_dir = a;
	o.data_dir = "/nonexistent";
	assert_int_equal(yoc_synth_run(&o, NULL, &e), YOC_EIO);

	/* A code list without a condition the model needs is refused. */
	assert_int_equal(tu_temp_dir(d, sizeof d, "syH"), 0);
	char src[1200], dst[1200], *text = NULL;
	size_t n;
	static const char *const copy[] = {"ncc_2023_24.csv", "unit_costs.csv",
					   "apc_trim_points.csv"};
	for (int i = 0; i < 3; i++) {
		snprintf(src, sizeof src, "%s/%s", data_dir, copy[i]);
		snprintf(dst, sizeof dst, "%s/%s", d, copy[i]);
		assert_int_equal(yoc_read_file(src, 1 << 24, &text, &n, &e), 0);
		f = fopen(dst, "w");
		assert_non_null(f);
		assert_int_equal(fwrite(text, 1, n, f), n);
		fclose(f);
		yoc_free(text);
		text = NULL;
	}
	snprintf(dst, sizeof dst, "%s/ltc_codelist.csv", d);
	f = fopen(dst, "w");
	assert_non_null(f);
	fputs("condition,label,kind,source,code,origin,version\n"
	      "diabetes,Diabetes,physical,icd10,E11,x,v\n", f);
	fclose(f);
	o.data_dir = d;
	yoc_error_clear(&e);
	assert_int_equal(yoc_synth_run(&o, NULL, &e), YOC_EDATA);
	assert_non_null(strstr(e.msg, "not in the code list"));
	tu_rm_rf(a);
	tu_rm_rf(d);
}

/* Out of memory at allocation n: an error status, nothing leaked, no crash. */
static void test_alloc_failures(void **state)
{
	(void)state;
	int failures = 0;
	unsigned long n = 1;
	for (;;) {
		char a[512];
		assert_int_equal(tu_temp_dir(a, sizeof a, "syI"), 0);
		yoc_alloc_fail_at(n);
		int rc = run(a, 30, 1, 3, 1.0, 0, NULL);
		yoc_alloc_fail_at(0);
		tu_rm_rf(a);
		if (rc == 0)
			break;
		assert_int_equal(rc, YOC_ENOMEM);
		failures++;
		n += n < 40 ? 1 : 31;
		assert_true(n < 100000);
	}
	assert_true(failures > 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codelist),
		cmocka_unit_test(test_codelist_errors),
		cmocka_unit_test(test_nhs_capacity),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_clean_same_truth),
		cmocka_unit_test(test_truth_consistency),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_alloc_failures),
	};
	return cmocka_run_group_tests_name("synth", tests, setup, NULL);
}

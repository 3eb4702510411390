/* Unit tests for src/spec: kind detection, aliases, identifiers, code sets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "spec/spec.h"
#include "yoc/csv.h"

static int detect(const char *const *names)
{
	struct yoc_cell c[32];
	size_t n = 0;
	for (; names[n]; n++) {
		c[n].p = names[n];
		c[n].n = strlen(names[n]);
	}
	return yoc_spec_detect(c, n);
}

static void test_detect(void **state)
{
	(void)state;
	assert_int_equal(detect((const char *[]){"FYEAR", "PSEUDO_HESID", "EPISTART", "ADMIMETH", NULL}), YOC_KIND_APC);
	assert_int_equal(detect((const char *[]){"PSEUDO_HESID", "APPTDATE", "ATTENDED", NULL}), YOC_KIND_OP);
	assert_int_equal(detect((const char *[]){"ARRIVALDATE", NULL}), YOC_KIND_AE);
	assert_int_equal(detect((const char *[]){"PSEUDO_ID", "REG_START", "GPPRAC", NULL}), YOC_KIND_GP_REGISTER);
	assert_int_equal(detect((const char *[]){"PSEUDO_ID", "DATE_OF_DEATH", NULL}), YOC_KIND_DEATHS);
	assert_int_equal(detect((const char *[]){"CONTACTKEY", "CONTACT_DATE", "SERVICE", NULL}), YOC_KIND_COMMUNITY);
	assert_int_equal(detect((const char *[]){"MHKEY", "CONTACT_DATE", "CLUSTER", NULL}), YOC_KIND_MH);
	assert_int_equal(detect((const char *[]){"PSEUDO_ID", "GPPRAC", "PLAN_ID", "ITEM_TYPE", "ITEM_ID", "RECORD_DATE", NULL}), YOC_KIND_CAREPLAN);
	assert_int_equal(detect((const char *[]){"PSEUDO_ID", "PAM_ID", "PAM_DATE", "PAM_SCORE", NULL}), YOC_KIND_PAM);
	assert_int_equal(detect((const char *[]){"A", "B", NULL}), -1);
	/* both signatures present: ambiguous, refused */
	assert_int_equal(detect((const char *[]){"EPISTART", "APPTDATE", NULL}), -1);
}

static void test_fields(void **state)
{
	(void)state;
	const struct yoc_kind_spec *k = yoc_spec_kind(YOC_KIND_APC);
	assert_non_null(k);
	assert_string_equal(k->name, "apc");
	const struct yoc_field *f = yoc_spec_field(k, "PSEUDO_HESID", 12);
	assert_non_null(f);
	assert_string_equal(f->name, "PSEUDO_ID");
	assert_int_equal(f->role, YOC_ROLE_PERSON);
	f = yoc_spec_field(k, "ADMIMETH", 8);
	assert_non_null(f);
	assert_true(yoc_spec_code_ok(f->codes, "2A", 2));
	assert_false(yoc_spec_code_ok(f->codes, "2Z", 2));
	assert_null(yoc_spec_field(k, "NOPE", 4));
	for (int i = 0; i < YOC_KIND_COUNT; i++) {
		assert_int_equal(yoc_spec_kind_by_name(yoc_spec_kind_name(i)), i);
		int dates = 0;
		for (size_t j = 0; j < yoc_spec_kind(i)->nfields; j++)
			dates += yoc_spec_kind(i)->fields[j].role == YOC_ROLE_DATE;
		assert_int_equal(dates, 1); /* every kind has exactly one activity date */
	}
}

/* Names compare normalised; no two fields of a kind collide once normalised. */
static void test_identifiers(void **state)
{
	(void)state;
	const struct yoc_kind_spec *apc = yoc_spec_kind(YOC_KIND_APC);
	const char *sp = NULL;
	assert_ptr_equal(yoc_spec_match(apc, "diag 4 01", 9, &sp), yoc_spec_field(apc, "DIAG_4_01", 9));
	assert_string_equal(sp, "DIAG_4_01");
	assert_non_null(yoc_spec_match(apc, "Discharge Date", 14, &sp));
	assert_string_equal(sp, "DISCHARGE_DATE");
	assert_null(yoc_spec_field(apc, "DIAG_4_011", 10));
	assert_null(yoc_spec_field(apc, "", 0));
	assert_int_equal(yoc_spec_name_eq("PSEUDO_ID", " pseudo-id ", 11), 1);
	assert_int_equal(yoc_spec_name_eq("PSEUDO_ID", "PSEUDO_IDX", 10), 0);
	for (int k = 0; k < YOC_KIND_COUNT; k++) {
		const struct yoc_kind_spec *ks = yoc_spec_kind(k);
		for (size_t i = 0; i < ks->nfields; i++) {
			const char *nm = ks->fields[i].name;
			if (yoc_spec_field(ks, nm, strlen(nm)) != &ks->fields[i])
				fail_msg("%s: field %s is shadowed by another field", ks->name, nm);
			for (const char *const *a = ks->fields[i].aliases; a && *a; a++)
				if (yoc_spec_field(ks, *a, strlen(*a)) != &ks->fields[i])
					fail_msg("%s: alias %s of %s is shadowed", ks->name, *a, nm);
		}
	}
}

/* Only activity kinds are costed and counted; the outcome fields are optional. */
static void test_outcomes(void **state)
{
	(void)state;
	int activity = 0;
	for (int k = 0; k < YOC_KIND_COUNT; k++)
		activity += yoc_spec_kind_activity(k);
	assert_int_equal(activity, YOC_KIND_COUNT - 4);
	assert_false(yoc_spec_kind_activity(YOC_KIND_GP_REGISTER));
	assert_false(yoc_spec_kind_activity(YOC_KIND_DEATHS));
	assert_false(yoc_spec_kind_activity(YOC_KIND_CAREPLAN));
	assert_false(yoc_spec_kind_activity(YOC_KIND_PAM));
	assert_false(yoc_spec_kind_activity(-1));
	assert_false(yoc_spec_kind_activity(YOC_KIND_COUNT));
	assert_true(yoc_spec_kind_activity(YOC_KIND_APC));
	assert_true(yoc_spec_kind_activity(YOC_KIND_SOCIAL_CARE));
	assert_int_equal(yoc_spec_kind_by_name("careplan"), YOC_KIND_CAREPLAN);
	assert_int_equal(yoc_spec_kind_by_name("pam"), YOC_KIND_PAM);

	const struct yoc_kind_spec *apc = yoc_spec_kind(YOC_KIND_APC);
	const char *opt[] = {"DISREADYDATE", "RRR_NEED", "DELAY_REASON"};
	for (size_t i = 0; i < 3; i++) {
		const struct yoc_field *f = yoc_spec_field(apc, opt[i], strlen(opt[i]));
		assert_non_null(f);
		assert_false(f->required);
		assert_int_not_equal(f->onbad, YOC_BAD_QUARANTINE);
	}
	const struct yoc_field *f = yoc_spec_field(apc, "DELAY_REASON", 12);
	assert_true(yoc_spec_code_ok(f->codes, "ASSESSMENT", 10));
	assert_false(yoc_spec_code_ok(f->codes, "OTHER", 5));
	const struct yoc_kind_spec *sc = yoc_spec_kind(YOC_KIND_SOCIAL_CARE);
	f = yoc_spec_field(sc, "PLACE_91D", 9);
	assert_non_null(f);
	assert_true(yoc_spec_code_ok(f->codes, "DIED", 4));
	assert_non_null(yoc_spec_field(sc, "HOSP_DISCHARGE", 14));
	assert_non_null(yoc_spec_field(sc, "PLACEMENT", 9));

	f = yoc_spec_field(yoc_spec_kind(YOC_KIND_PAM), "PAM_SCORE", 9);
	assert_non_null(f);
	assert_int_equal(f->onbad, YOC_BAD_QUARANTINE);
	const char *good[] = {"0", "0.0", "47", "47.1", "99.9", "100", "100.0", NULL};
	const char *bad[] = {"100.1", "101", "-0.1", "-5", "1000", "4.25", "4.", ".5", "x", "5 ", NULL};
	for (size_t i = 0; good[i]; i++)
		if (!f->check(good[i], strlen(good[i])))
			fail_msg("PAM_SCORE %s refused", good[i]);
	for (size_t i = 0; bad[i]; i++)
		if (f->check(bad[i], strlen(bad[i])))
			fail_msg("PAM_SCORE %s accepted", bad[i]);
}

static void test_pseudo(void **state)
{
	(void)state;
	char h[65];
	memset(h, 'a', 64);
	h[64] = 0;
	assert_true(yoc_spec_pseudo_ok(h, 64));
	h[3] = 'A';
	assert_false(yoc_spec_pseudo_ok(h, 64));
	assert_false(yoc_spec_pseudo_ok(h, 63));
	/* every byte value at every position, against the characters 0-9 a-f */
	for (int pos = 0; pos < 64; pos++)
		for (int c = 0; c < 256; c++) {
			memset(h, pos % 2 ? '9' : 'f', 64);
			h[pos] = (char)c;
			int want = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
			assert_int_equal(yoc_spec_pseudo_ok(h, 64), want);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect), cmocka_unit_test(test_fields),
		cmocka_unit_test(test_identifiers), cmocka_unit_test(test_pseudo),
		cmocka_unit_test(test_outcomes),
	};
	return cmocka_run_group_tests_name("spec", tests, NULL, NULL);
}

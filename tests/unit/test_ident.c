/*
** Unit tests for src/ident: the identifier policy shared by pseudonymise and
** load. Names in every spelling a provider sends, the default-deny plan and
** refused headers, the allow-list, and the value detectors both ways: every
** identifier shape is seen, and no code the feeds legitimately carry (HRG,
** ICD-10, OPCS-4, LSOA, practice and NCC currency codes from data/, the
** synthetic record keys) raises a false alarm.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ident/ident.h"
#include "yoc/csv.h"

static int cls(const char *s)
{
	return yoc_ident_name_class(s, strlen(s));
}

static void test_names(void **state)
{
	(void)state;
	static const struct { const char *name; int cls; } want[] = {
		{"NEWNHSNO", YOC_IDC_NHSNO}, {"NHS Number", YOC_IDC_NHSNO},
		{"nhs_no", YOC_IDC_NHSNO}, {"NHS-NUMBER", YOC_IDC_NHSNO},
		{" NEWNHSNO ", YOC_IDC_NHSNO}, {"Patient NHS No.", YOC_IDC_NHSNO},
		{"NHS_Number", YOC_IDC_NHSNO}, {"OLD_NHSNO", YOC_IDC_NHSNO},
		{"DOB", YOC_IDC_DOB}, {" DOB", YOC_IDC_DOB}, {"Date of Birth", YOC_IDC_DOB},
		{"date-of-birth", YOC_IDC_DOB}, {"BirthDate", YOC_IDC_DOB},
		{"MOTHER_DOB", YOC_IDC_DOB}, {"DOB_FULL", YOC_IDC_DOB},
		{"Patient Name", YOC_IDC_NAME}, {"Full Name", YOC_IDC_NAME},
		{"Surname", YOC_IDC_NAME}, {"first name", YOC_IDC_NAME},
		{"FORENAME(S)", YOC_IDC_NAME}, {"Given Name", YOC_IDC_NAME},
		{"Initials", YOC_IDC_NAME},
		{"Post Code", YOC_IDC_ADDRESS}, {"POSTCODE ", YOC_IDC_ADDRESS},
		{"Home Address Line 1", YOC_IDC_ADDRESS}, {"ADDR1", YOC_IDC_ADDRESS},
		{"HOMEADD", YOC_IDC_ADDRESS}, {"Street", YOC_IDC_ADDRESS},
		{"Mobile Number", YOC_IDC_CONTACT}, {"Telephone", YOC_IDC_CONTACT},
		{"TEL", YOC_IDC_CONTACT}, {"home_tel", YOC_IDC_CONTACT},
		{"E-mail", YOC_IDC_CONTACT}, {"email address", YOC_IDC_CONTACT},
		{"Notes", YOC_IDC_FREETEXT}, {"Clinical Comments", YOC_IDC_FREETEXT},
		{"FREE TEXT", YOC_IDC_FREETEXT}, {"note_text", YOC_IDC_FREETEXT},
		{"Hospital Number", YOC_IDC_LOCALID}, {"MRN", YOC_IDC_LOCALID},
		{"Local Patient ID", YOC_IDC_LOCALID}, {"LOPATID", YOC_IDC_LOCALID},
		{"NI Number", YOC_IDC_LOCALID}, {"National Insurance No", YOC_IDC_LOCALID},
		{"CHI", YOC_IDC_LOCALID},
		{"NOK_RELATION", YOC_IDC_NOK}, {"Next of Kin", YOC_IDC_NOK},
		/* not identifiers */
		{"MYDOB", YOC_IDC_NONE}, {"NHSNO_STATUS", YOC_IDC_NONE},
		{"PSEUDO_ID", YOC_IDC_NONE}, {"LSOA11", YOC_IDC_NONE},
		{"GPPRAC", YOC_IDC_NONE}, {"SEX", YOC_IDC_NONE}, {"EPIKEY", YOC_IDC_NONE},
		{"DOD", YOC_IDC_NONE}, {"", YOC_IDC_NONE}, {"Token_Person_ID", YOC_IDC_NONE},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (cls(want[i].name) != want[i].cls)
			fail_msg("'%s': class %d, want %d", want[i].name, cls(want[i].name),
				 want[i].cls);
	assert_string_equal(yoc_ident_class_str(YOC_IDC_DOB), "date of birth");
	char out[8];
	assert_int_equal(yoc_ident_norm("Nhs-No 1", 8, out, sizeof out), 6);
	assert_string_equal(out, "NHSNO1");
	assert_int_equal(yoc_ident_norm("abcdefghij", 10, out, 4), 10);
	assert_string_equal(out, "ABC");
}

/* No field yoc loads may itself be classed as an identifier. */
static void test_spec_fields_are_not_identifiers(void **state)
{
	(void)state;
	for (int k = 0; k < YOC_KIND_COUNT; k++) {
		const struct yoc_kind_spec *ks = yoc_spec_kind(k);
		for (size_t i = 0; i < ks->nfields; i++) {
			const struct yoc_field *f = &ks->fields[i];
			if (cls(f->name))
				fail_msg("%s.%s is classed %s", ks->name, f->name,
					 yoc_ident_class_str(cls(f->name)));
			for (const char *const *a = f->aliases; a && *a; a++)
				if (cls(*a))
					fail_msg("%s.%s alias %s is classed an identifier", ks->name,
						 f->name, *a);
		}
	}
}

/* A header from a comma-separated line (no quoting: test names only). */
struct hdr {
	char buf[8192];
	struct yoc_cell c[1200];
	size_t n;
};

static void split(struct hdr *h, const char *line)
{
	snprintf(h->buf, sizeof h->buf, "%s", line);
	h->n = 0;
	char *p = h->buf;
	for (;;) {
		char *c = strchr(p, ',');
		h->c[h->n].p = p;
		h->c[h->n].n = c ? (size_t)(c - p) : strlen(p);
		h->n++;
		if (!c)
			break;
		p = c + 1;
	}
}

static int plan(struct yoc_ident_plan *pl, const char *line, int mode, int kind,
		const yoc_allow *al, int strict, struct yoc_error *e)
{
	struct hdr h;
	split(&h, line);
	struct yoc_ident_opts o = {mode, kind, al, strict};
	yoc_error_clear(e);
	return yoc_ident_plan_make(pl, h.c, h.n, &o, "f.csv", e);
}

static void test_plan_pseudo(void **state)
{
	(void)state;
	struct yoc_ident_plan pl;
	struct yoc_error e;
	assert_int_equal(plan(&pl, "NHS Number,Date of Birth,Patient Name,Post Code,epistart,"
			      "diag 4 01,Mobile Number,MYSTERY,PSEUDO_ID,MYDOB",
			      YOC_IDENT_PSEUDO, -1, NULL, 0, &e), 0);
	assert_int_equal(pl.kind, YOC_KIND_APC);
	assert_int_equal(pl.nhs_col, 0);
	assert_int_equal(pl.dob_col, 1);
	static const int act[] = {YOC_IA_NHSNO, YOC_IA_DOB, YOC_IA_IDENT, YOC_IA_IDENT,
				  YOC_IA_KEEP, YOC_IA_KEEP, YOC_IA_IDENT, YOC_IA_DROP,
				  YOC_IA_RESERVED, YOC_IA_RESERVED};
	for (size_t i = 0; i < 10; i++)
		assert_int_equal(pl.cols[i].act, act[i]);
	assert_string_equal(pl.cols[4].spelling, "EPISTART");
	assert_string_equal(pl.cols[5].spelling, "DIAG_4_01");
	assert_int_equal(pl.cols[4].dates, 1);
	assert_int_equal(pl.cols[5].dates, 0);
	assert_int_equal(pl.nkeep, 2);
	assert_int_equal(pl.ndrop, 1);
	assert_int_equal(pl.nident, 3);
	yoc_ident_plan_free(&pl);

	/* NEWNHSNO is preferred to another NHS number column; the other is dropped. */
	assert_int_equal(plan(&pl, "NHS_NUMBER,EPISTART,NEWNHSNO,MYDOB", YOC_IDENT_PSEUDO, -1,
			      NULL, 0, &e), 0);
	assert_int_equal(pl.nhs_col, 2);
	assert_int_equal(pl.cols[0].act, YOC_IA_IDENT);
	assert_int_equal(pl.cols[3].act, YOC_IA_KEEP); /* MYDOB with no DOB: already coarse */
	yoc_ident_plan_free(&pl);

	/* strict: a column that would be dropped refuses the file */
	assert_int_equal(plan(&pl, "NEWNHSNO,EPISTART,MYSTERY", YOC_IDENT_PSEUDO, -1, NULL, 1, &e),
			 YOC_EPERM);
	assert_non_null(strstr(e.msg, "MYSTERY"));
	assert_int_equal(e.col, 3);
	assert_null(pl.cols);
	/* no NHS number column, no kind */
	assert_int_equal(plan(&pl, "EPISTART,SEX", YOC_IDENT_PSEUDO, -1, NULL, 0, &e), YOC_EINVAL);
	assert_non_null(strstr(e.msg, "NEWNHSNO"));
	assert_int_equal(plan(&pl, "NEWNHSNO,SEX", YOC_IDENT_PSEUDO, -1, NULL, 0, &e), YOC_EINVAL);
	assert_non_null(strstr(e.msg, "--kind"));
	assert_int_equal(plan(&pl, "NEWNHSNO,SEX", YOC_IDENT_PSEUDO, YOC_KIND_OP, NULL, 0, &e), 0);
	yoc_ident_plan_free(&pl);
}

static void test_plan_load(void **state)
{
	(void)state;
	struct yoc_ident_plan pl;
	struct yoc_error e;
	static const char *const leaks[] = {
		"PSEUDO_ID,EPISTART, DOB", "PSEUDO_ID,EPISTART,NEWNHSNO ",
		"PSEUDO_ID,EPISTART,POSTCODE ", "PSEUDO_ID,EPISTART,nhs_no",
		"PSEUDO_ID,EPISTART,NHS Number", "PSEUDO_ID,EPISTART,Patient Name",
		"PSEUDO_ID,EPISTART,Full Name", "PSEUDO_ID,EPISTART,Post Code",
		"PSEUDO_ID,EPISTART,Date of Birth", "PSEUDO_ID,EPISTART,Mobile Number",
		NULL
	};
	for (int i = 0; leaks[i]; i++) {
		if (plan(&pl, leaks[i], YOC_IDENT_LOAD, -1, NULL, 0, &e) != YOC_EPERM)
			fail_msg("'%s' was not refused", leaks[i]);
		assert_int_equal(e.col, 3);
		assert_non_null(strstr(e.msg, "pseudonymise"));
	}
	/* Unknown columns are dropped, known ones kept under any spelling. */
	assert_int_equal(plan(&pl, "Pseudo ID,epistart,ETHNOS,admimeth", YOC_IDENT_LOAD, -1, NULL,
			      0, &e), 0);
	assert_int_equal(pl.cols[0].act, YOC_IA_KEEP);
	assert_int_equal(pl.cols[2].act, YOC_IA_DROP);
	assert_int_equal(pl.cols[3].act, YOC_IA_KEEP);
	yoc_ident_plan_free(&pl);
	/* In load, PSEUDO_ID and NHSNO_STATUS are fields, not reserved names. */
	assert_int_equal(plan(&pl, "PSEUDO_ID,NHSNO_STATUS,EPISTART", YOC_IDENT_LOAD, -1, NULL, 0,
			      &e), 0);
	assert_int_equal(pl.nkeep, 3);
	yoc_ident_plan_free(&pl);
}

static void test_refused_headers(void **state)
{
	(void)state;
	struct yoc_ident_plan pl;
	struct yoc_error e;
	/* A CR-only file read as one line: NHS numbers and dates as names. */
	assert_int_equal(plan(&pl, "NEWNHSNO,DOB,EPISTART\r9434765919,1970-01-01,2023-01-01",
			      YOC_IDENT_PSEUDO, -1, NULL, 0, &e), YOC_EPARSE);
	assert_int_equal(plan(&pl, "NEWNHSNO,EPISTART,9434765919", YOC_IDENT_PSEUDO, -1, NULL, 0,
			      &e), YOC_EPARSE);
	assert_null(strstr(e.msg, "9434765919")); /* never echoed */
	assert_non_null(strstr(e.msg, "digits"));
	assert_int_equal(e.col, 3);
	/* duplicates, also after normalising, and two empty names */
	assert_int_equal(plan(&pl, "NEWNHSNO,EPISTART,SEX,SEX", YOC_IDENT_PSEUDO, -1, NULL, 0, &e),
			 YOC_EPARSE);
	assert_non_null(strstr(e.msg, "columns 3 'SEX' and 4 'SEX'"));
	assert_int_equal(plan(&pl, "PSEUDO_ID,EPISTART,DIAG_4_01,diag 4 01", YOC_IDENT_LOAD, -1,
			      NULL, 0, &e), YOC_EPARSE);
	assert_int_equal(plan(&pl, "PSEUDO_ID,EPISTART,,", YOC_IDENT_LOAD, -1, NULL, 0, &e),
			 YOC_EPARSE);
	assert_non_null(strstr(e.msg, "(empty)"));
	/* thousands of columns */
	static char big[8192];
	size_t n = (size_t)snprintf(big, sizeof big, "NEWNHSNO,EPISTART");
	for (int i = 0; i < 1100 && n + 8 < sizeof big; i++)
		n += (size_t)snprintf(big + n, sizeof big - n, ",C%d", i);
	assert_int_equal(plan(&pl, big, YOC_IDENT_PSEUDO, -1, NULL, 0, &e), YOC_EPARSE);
	assert_non_null(strstr(e.msg, "columns"));
	/* a name far too long */
	char longname[400];
	memset(longname, 'A', sizeof longname);
	memcpy(longname, "NEWNHSNO,EPISTART,", 18);
	longname[sizeof longname - 1] = 0;
	assert_int_equal(plan(&pl, longname, YOC_IDENT_PSEUDO, -1, NULL, 0, &e), YOC_EPARSE);
}

static void test_allow(void **state)
{
	(void)state;
	yoc_allow *a = NULL;
	struct yoc_error e;
	const char *txt = "# the key holder's list\nETHNOS\n  Admission Age , text \nRTT_START,date\n\n";
	assert_int_equal(yoc_allow_parse(&a, txt, strlen(txt), "allow.txt", &e), 0);
	assert_int_equal(yoc_allow_count(a), 3);
	assert_int_equal(yoc_allow_has(a, "ethnos", 6), 1);
	assert_int_equal(yoc_allow_has(a, "ADMISSION_AGE", 13), 1);
	assert_int_equal(yoc_allow_has(a, "RTT START", 9), 2);
	assert_int_equal(yoc_allow_has(a, "SEX", 3), 0);
	struct yoc_ident_plan pl;
	assert_int_equal(plan(&pl, "PSEUDO_ID,EPISTART,ETHNOS,RTT_START,OTHER", YOC_IDENT_LOAD, -1,
			      a, 0, &e), 0);
	assert_int_equal(pl.cols[2].act, YOC_IA_KEEP);
	assert_int_equal(pl.cols[2].allowed, 1);
	assert_int_equal(pl.cols[3].dates, 1);
	assert_int_equal(pl.cols[4].act, YOC_IA_DROP);
	yoc_ident_plan_free(&pl);
	yoc_allow_free(a);
	/* an identifier cannot be allowed; nor a name pseudonymise writes */
	static const char *const bad[] = {"Surname\n", "NHS Number\n", "x\nPost Code\n",
					  "PSEUDO_ID\n", "ETHNOS,maybe\n", "!!!\n", NULL};
	for (int i = 0; bad[i]; i++) {
		a = NULL;
		if (yoc_allow_parse(&a, bad[i], strlen(bad[i]), "allow.txt", &e) == 0)
			fail_msg("allow-list '%s' was accepted", bad[i]);
		assert_null(a);
		assert_true(e.line >= 1);
	}
}

static unsigned val(const char *s)
{
	return yoc_ident_value(s, strlen(s));
}

static void test_values_found(void **state)
{
	(void)state;
	static const struct { const char *v; unsigned bit; } yes[] = {
		{"943 476 5919", YOC_IV_NHS_FMT}, {"943-476-5919", YOC_IV_NHS_FMT},
		{" 9434765919 ", YOC_IV_NHS10_OK}, {"9434765919", YOC_IV_NHS10},
		{"1970-03-15", YOC_IV_DATE}, {"15/03/1970", YOC_IV_DATE},
		{"15.03.1970", YOC_IV_DATE}, {"5/3/1970", YOC_IV_DATE},
		{"1970-03-15 00:00:00", YOC_IV_DATE}, {"1970-03-15T00:00", YOC_IV_DATE},
		{"19700315", YOC_IV_DATE8},
		{"LS1 4AP", YOC_IV_POSTCODE}, {"SW1A 1AA", YOC_IV_POSTCODE},
		{"ls1 4ap", YOC_IV_POSTCODE}, {"M1 1AE", YOC_IV_POSTCODE},
		{"EC1A 1BB", YOC_IV_POSTCODE}, {"LS14AP", YOC_IV_POSTCODE_C},
		{"SW1A1AA", YOC_IV_POSTCODE_C},
		{"0113 496 0000", YOC_IV_PHONE}, {"07700 900123", YOC_IV_PHONE},
		{"+44 7700 900123", YOC_IV_PHONE}, {"+44 (0)113 496 0000", YOC_IV_PHONE},
		{"(0113) 496-0000", YOC_IV_PHONE}, {"07700900123", YOC_IV_PHONE_D},
		{"ann.smith@example.nhs.uk", YOC_IV_EMAIL}, {"a@b.co", YOC_IV_EMAIL},
	};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		if (!(val(yes[i].v) & yes[i].bit))
			fail_msg("'%s' not seen (0x%x)", yes[i].v, val(yes[i].v));
	assert_false(val("9434765918") & YOC_IV_NHS10_OK); /* wrong check digit */
	assert_false(val("0000000000") & YOC_IV_NHS10);    /* placeholder */
	/* inside free text */
	static const char *const text[] = {
		"patient 943 476 5919 seen at home", "NHS no 9434765919 confirmed",
		"lives at 1 High St, Leeds LS1 4AP.", "call (0113) 496 0000 after 5",
		"email <ann.smith@example.com> please", "born 15/03/1970 in Leeds",
	};
	for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
		if (!(yoc_ident_text(text[i], strlen(text[i])) &
		      (YOC_IV_NHS_FMT | YOC_IV_POSTCODE | YOC_IV_PHONE | YOC_IV_EMAIL | YOC_IV_DATE)))
			fail_msg("text '%s' not seen", text[i]);
}

static void test_values_not_alarms(void **state)
{
	(void)state;
	/* Codes the feeds carry: none may look like an identifier. */
	static const char *const no[] = {
		"FD11H", "VB08Z", "WF01A", "EB03E", "AA22C", "I10X", "E119", "J440", "C189",
		"U071", "W371", "P90001", "E01090002", "E01000001", "RA1", "2A", "HOME_CARE",
		"SEE_CONVEY", "DISTRICT_NURSING", "FACE_TO_FACE", "23:29", "2122", "2023",
		"N02AF", "A01AG", "MHCC", "4913665257186956226", "0160054880907458530",
		"315.84", "131.60", "26.32", "-", "&", "", "Attended", "100.50", "12345",
		"1234567", "123456789", "2023-24", "Q1 2023", "not a date", "x@y",
	};
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		if (val(no[i]) & ~(unsigned)(YOC_IV_NHS10 | YOC_IV_DIG8 | YOC_IV_DIGLONG))
			fail_msg("'%s' raised 0x%x", no[i], val(no[i]));
	/* Every code in the shipped reference data. */
	const char *root = getenv("YOC_ROOT");
	static const char *const files[] = {"data/ncc_2023_24.csv", "data/code_sets.csv",
					    "data/ltc_codelist.csv", "data/unit_costs.csv", NULL};
	for (int f = 0; files[f]; f++) {
		char path[1024];
		snprintf(path, sizeof path, "%s/%s", root ? root : ".", files[f]);
		yoc_csv *r = NULL;
		struct yoc_csv_opts o = {0};
		struct yoc_error e;
		assert_int_equal(yoc_csv_open(&r, path, &o, &e), 0);
		struct yoc_csv_row row;
		long checked = 0;
		int k;
		while ((k = yoc_csv_next(r, &row, &e)) != 0) {
			assert_true(k > 0);
			/* codes: the first three columns (descriptions may hold anything) */
			for (size_t c = 0; c < row.ncells && c < 3; c++) {
				unsigned v = yoc_ident_value(row.cells[c].p, row.cells[c].n);
				if (v & (YOC_IV_NHS_FMT | YOC_IV_NHS10_OK | YOC_IV_POSTCODE |
					 YOC_IV_POSTCODE_C | YOC_IV_PHONE | YOC_IV_PHONE_D |
					 YOC_IV_EMAIL | YOC_IV_DATE | YOC_IV_DATE8))
					fail_msg("%s:%ld: '%.*s' raised 0x%x", files[f], row.line,
						 (int)row.cells[c].n, row.cells[c].p, v);
				checked++;
			}
		}
		assert_true(checked > 10);
		yoc_csv_close(r);
	}
}

/* The column verdict: certain shapes at once, plain digits by proportion. */
static int verdict(const char *hdrline, const char *const *rows, struct yoc_error *e)
{
	struct yoc_ident_plan pl;
	struct hdr h;
	split(&h, hdrline);
	struct yoc_ident_opts o = {YOC_IDENT_LOAD, -1, NULL, 0};
	assert_int_equal(yoc_ident_plan_make(&pl, h.c, h.n, &o, "f.csv", e), 0);
	struct yoc_idscan s;
	assert_int_equal(yoc_idscan_init(&s, &pl), 0);
	long line = 2;
	for (const char *const *r = rows; *r; r++, line++) {
		struct hdr row;
		split(&row, *r);
		yoc_idscan_row(&s, row.c, row.n, line, row.n != pl.ncols);
	}
	yoc_error_clear(e);
	int rc = yoc_idscan_verdict(&s, h.c, "f.csv", e);
	yoc_idscan_free(&s);
	yoc_ident_plan_free(&pl);
	return rc;
}

#define ROWS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_verdict(void **state)
{
	(void)state;
	struct yoc_error e;
	const char *H = "PSEUDO_ID,EPISTART,EPIKEY,LSOA11";
	/* clean */
	assert_int_equal(verdict(H, ROWS(",2023-01-01,4913665257186956226,E01090002",
					 ",2023-01-02,E2,E01090003"), &e), 0);
	/* an NHS number among record keys: a column of NHS numbers */
	assert_int_equal(verdict(H, ROWS(",2023-01-01,E1,E01090002", ",2023-01-01,9434765919,x"), &e),
			 YOC_EPERM);
	assert_int_equal(e.line, 3);
	assert_int_equal(e.col, 3);
	assert_non_null(strstr(e.msg, "EPIKEY"));
	assert_non_null(strstr(e.msg, "NHS number"));
	assert_null(strstr(e.msg, "9434765919"));
	/* ten-digit record keys: about one in eleven pass by chance; not refused */
	assert_int_equal(verdict(H, ROWS(",2023-01-01,1234567890,x", ",2023-01-01,1000000001,x",
					 ",2023-01-01,9434765919,x", ",2023-01-01,1111111112,x",
					 ",2023-01-01,2000000003,x"), &e), 0);
	/* a postcode where the LSOA should be */
	assert_int_equal(verdict(H, ROWS(",2023-01-01,E1,LS1 4AP"), &e), YOC_EPERM);
	assert_non_null(strstr(e.msg, "postcode"));
	assert_int_equal(verdict(H, ROWS(",2023-01-01,E1,LS14AP", ",2023-01-01,E1,E01090002",
					 ",2023-01-01,E1,E01090003"), &e), 0);
	assert_int_equal(verdict(H, ROWS(",2023-01-01,E1,LS14AP"), &e), YOC_EPERM);
	/* a full date in a text column, never in a date column */
	assert_int_equal(verdict(H, ROWS(",1970-03-15,1970-03-15,x"), &e), YOC_EPERM);
	assert_int_equal(e.col, 3);
	assert_int_equal(verdict("PSEUDO_ID,EPISTART,MYDOB", ROWS(",2023-01-01,15/03/1970"), &e),
			 YOC_EPERM);
	assert_int_equal(verdict("PSEUDO_ID,EPISTART,MYDOB", ROWS(",2023-01-01,031970"), &e), 0);
	/* e-mail and phone */
	assert_int_equal(verdict(H, ROWS(",2023-01-01,a.b@nhs.net,x"), &e), YOC_EPERM);
	assert_int_equal(verdict(H, ROWS(",2023-01-01,07700 900123,x"), &e), YOC_EPERM);
	/* a malformed row: every cell is scanned, even past the header */
	assert_int_equal(verdict(H, ROWS(",2023-01-01,E1,x,9434765919"), &e), YOC_EPERM);
	assert_non_null(strstr(e.msg, "past the header"));
	/* dropped columns are not scanned (they never reach the output) */
	assert_int_equal(verdict("PSEUDO_ID,EPISTART,MYSTERY", ROWS(",2023-01-01,9434765919"), &e),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_spec_fields_are_not_identifiers),
		cmocka_unit_test(test_plan_pseudo),
		cmocka_unit_test(test_plan_load),
		cmocka_unit_test(test_refused_headers),
		cmocka_unit_test(test_allow),
		cmocka_unit_test(test_values_found),
		cmocka_unit_test(test_values_not_alarms),
		cmocka_unit_test(test_verdict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

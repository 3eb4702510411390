/*
** libFuzzer target for the identifier policy (src/ident): header names and
** the value scan. The input is read as a CSV file (header, rows): the plan
** is made for pseudonymise and for load, every row is scanned, and the
** verdict given; the input is also an allow-list, and each line a value.
**
** Checked: a plan accounts for every column exactly once; a column named
** as an identifier is never kept; a refused header allocates nothing; in
** load mode no identifier column survives; a value flagged as a passing
** NHS number has ten digits that pass an independent Modulus 11; a verdict
** message never holds a ten-digit run of the input (values are not shown);
** shown names are printable ASCII.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ident/ident.h"
#include "yoc/csv.h"

#define CHECK(x) do { if (!(x)) { \
	fprintf(stderr, "fuzz_ident: check failed: %s (line %d)\n", #x, __LINE__); \
	abort(); } } while (0)

static int mod11_ok(const char *d)
{
	int same = 1, sum = 0;
	for (int i = 0; i < 10; i++)
		same &= d[i] == d[0];
	for (int i = 0; i < 9; i++)
		sum += (d[i] - '0') * (10 - i);
	int c = (11 - sum % 11) % 11;
	return !same && c != 10 && c == d[9] - '0';
}

static void check_value(const char *p, size_t n)
{
	unsigned v = yoc_ident_value(p, n);
	if (v & YOC_IV_NHS10_OK) {
		char d[10];
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (p[i] >= '0' && p[i] <= '9') {
				CHECK(k < 10);
				d[k++] = p[i];
			}
		CHECK(k == 10 && mod11_ok(d));
	}
	if (v & YOC_IV_EMAIL)
		CHECK(memchr(p, '@', n) != NULL);
	(void)yoc_ident_text(p, n);
}

/*
** 1 if msg holds a run of ten digits that is in the input but in no header
** name (header names may be shown; values never).
*/
static int echoes(const char *msg, const uint8_t *data, size_t size,
		  const struct yoc_cell *h, size_t nc)
{
	size_t run = 0;
	for (size_t i = 0; msg[i]; i++) {
		run = (msg[i] >= '0' && msg[i] <= '9') ? run + 1 : 0;
		if (run < 10 || !memmem(data, size, msg + i - 9, 10))
			continue;
		int named = 0;
		for (size_t c = 0; c < nc && !named; c++)
			named = memmem(h[c].p, h[c].n, msg + i - 9, 10) != NULL;
		if (!named)
			return 1;
	}
	return 0;
}

static void one_mode(yoc_csv *r, int mode, const yoc_allow *al, const uint8_t *data,
		     size_t size)
{
	const struct yoc_cell *h = yoc_csv_header(r);
	size_t nc = yoc_csv_ncols(r);
	struct yoc_ident_plan pl;
	struct yoc_ident_opts o = {mode, -1, al, 0};
	struct yoc_error e;
	yoc_error_clear(&e);
	int rc = yoc_ident_plan_make(&pl, h, nc, &o, "f.csv", &e);
	if (rc) {
		CHECK(pl.cols == NULL);
		CHECK(!echoes(e.msg, data, size, h, nc));
		return;
	}
	CHECK(pl.ncols == nc);
	size_t nkeep = 0, ndrop = 0, nident = 0, nres = 0, other = 0;
	for (size_t i = 0; i < nc; i++) {
		const struct yoc_ident_col *c = &pl.cols[i];
		int cls = yoc_ident_name_class(h[i].p, h[i].n);
		switch (c->act) {
		case YOC_IA_KEEP: nkeep++; CHECK(cls == YOC_IDC_NONE); break;
		case YOC_IA_DROP: ndrop++; break;
		case YOC_IA_IDENT: nident++; CHECK(mode == YOC_IDENT_PSEUDO); break;
		case YOC_IA_RESERVED: nres++; break;
		default: other++; CHECK(mode == YOC_IDENT_PSEUDO); break;
		}
		if (mode == YOC_IDENT_LOAD)
			CHECK(cls == YOC_IDC_NONE);
	}
	CHECK(nkeep == pl.nkeep && ndrop == pl.ndrop && nident == pl.nident &&
	      nres == pl.nreserved);
	CHECK(nkeep + ndrop + nident + nres + other == nc);
	if (mode == YOC_IDENT_PSEUDO)
		CHECK(pl.nhs_col >= 0 && pl.cols[pl.nhs_col].act == YOC_IA_NHSNO);
	struct yoc_idscan s;
	if (yoc_idscan_init(&s, &pl) == 0) {
		struct yoc_csv_row row;
		int k;
		while ((k = yoc_csv_next(r, &row, &e)) != 0 && k != YOC_EIO && k != YOC_ENOMEM) {
			yoc_idscan_row(&s, row.cells, row.ncells, row.line,
				       k < 0 || row.ncells != nc);
			for (size_t i = 0; i < row.ncells; i++)
				check_value(row.cells[i].p, row.cells[i].n);
		}
		yoc_error_clear(&e);
		if (yoc_idscan_verdict(&s, h, "f.csv", &e)) {
			CHECK(e.code == YOC_EPERM && e.line >= 1 && e.col >= 1);
			CHECK(!echoes(e.msg, data, size, h, nc));
		}
		yoc_idscan_free(&s);
	}
	yoc_ident_plan_free(&pl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct yoc_error e;
	yoc_allow *al = NULL;
	if (yoc_allow_parse(&al, (const char *)data, size, "allow", &e) == 0) {
		CHECK(al != NULL);
		yoc_allow_free(al);
		al = NULL;
	}
	/* A fixed allow-list, so allowed columns are exercised too. */
	static const char allow_text[] = "ETHNOS\nRTT_START,date\nCARER\n";
	if (yoc_allow_parse(&al, allow_text, sizeof allow_text - 1, "allow", &e))
		return 0;
	for (int mode = 0; mode < 2; mode++) {
		yoc_csv *r = NULL;
		struct yoc_csv_opts o = {0};
		if (yoc_csv_open_mem(&r, data, size, "f.csv", &o, &e) == 0) {
			one_mode(r, mode, al, data, size);
			yoc_csv_close(r);
		}
	}
	/* Each line as one value. */
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		check_value(p, n);
		char shown[64];
		yoc_ident_show(p, n, shown, 40);
		for (size_t i = 0; shown[i]; i++)
			CHECK(shown[i] >= 0x20 && shown[i] < 0x7f);
		p += n + 1;
	}
	yoc_allow_free(al);
	return 0;
}

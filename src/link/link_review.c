/*
** The clerical review file read back: a CSV that yoc link wrote (one line
** per pair, the row and the register record side by side) with DECISION
** filled in by a reviewer. Outside input: every line is checked, a line
** that is malformed is counted and never applied, and nothing here trusts
** the identifier columns (only PAIR, NHS_NUMBER, DECISION and REVIEWER are
** read; the run checks the pair against its own queue).
*/
#include <string.h>

#include "link/link.h"
#include "yoc/csv.h"
#include "yoc/nhsno.h"

#define MAX_DECISIONS 10000000

static int ieq(struct yoc_cell c, const char *s)
{
	size_t n = strlen(s);
	if (c.n != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char x = c.p[i];
		if (x >= 'a' && x <= 'z')
			x = (char)(x - 32);
		if (x != s[i])
			return 0;
	}
	return 1;
}

static int col(const struct yoc_cell *h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (ieq(h[i], name))
			return (int)i;
	return -1;
}

/* "R" and 1-20 digits. */
static int pair_ok(struct yoc_cell c)
{
	if (c.n < 2 || c.n > 21 || c.p[0] != 'R')
		return 0;
	for (size_t i = 1; i < c.n; i++)
		if (c.p[i] < '0' || c.p[i] > '9')
			return 0;
	return 1;
}

int yoc_review_parse(const char *text, size_t n, const char *name,
		     struct yoc_review_decision **out, size_t *nout, size_t *bad,
		     struct yoc_error *e)
{
	int rc;
	yoc_csv *r = NULL;
	struct yoc_review_decision *d = NULL;
	size_t nd = 0, cap = 0;
	*out = NULL;
	*nout = 0;
	*bad = 0;
	struct yoc_csv_opts co = {0};
	co.delim = ',';
	co.max_field = 4096;
	co.max_row = 65536;
	if ((rc = yoc_csv_open_mem(&r, text, n, name, &co, e)) != 0)
		return rc;
	size_t nc = yoc_csv_ncols(r);
	const struct yoc_cell *h = yoc_csv_header(r);
	int cp = col(h, nc, "PAIR"), cn = col(h, nc, "NHS_NUMBER"), cd = col(h, nc, "DECISION"),
	    cr = col(h, nc, "REVIEWER");
	if (cp < 0 || cn < 0 || cd < 0) {
		rc = yoc_error_set(e, YOC_EPARSE, name, 1, 1,
				   "not a review file: PAIR, NHS_NUMBER and DECISION columns needed");
		goto cleanup;
	}
	for (;;) {
		struct yoc_csv_row row;
		struct yoc_error re = {0};
		int k = yoc_csv_next(r, &row, &re);
		if (k == 0)
			break;
		if (k < 0 && row.fault == YOC_CSV_OK) {
			rc = k;
			*e = re;
			goto cleanup;
		}
		if (k < 0 || row.ncells != nc) {
			if (!*bad)
				yoc_error_set(e, YOC_EPARSE, name, row.line, 1, "malformed line");
			(*bad)++;
			continue;
		}
		struct yoc_cell p = row.cells[cp], nh = row.cells[cn], dc = row.cells[cd];
		char nb[11];
		int dec;
		if (dc.n == 0)
			dec = YOC_REVIEW_UNDECIDED;
		else if (ieq(dc, "MATCH") || ieq(dc, "M") || ieq(dc, "YES"))
			dec = YOC_REVIEW_MATCH;
		else if (ieq(dc, "NON-MATCH") || ieq(dc, "NONMATCH") || ieq(dc, "NO") || ieq(dc, "N"))
			dec = YOC_REVIEW_NONMATCH;
		else
			dec = -1;
		if (dec < 0 || !pair_ok(p) || yoc_nhsno_check(nh.p, nh.n, nb) != YOC_NHSNO_VALID) {
			if (!*bad)
				yoc_error_set(e, YOC_EPARSE, name, row.line, 1,
					      dec < 0 ? "DECISION is not MATCH, NON-MATCH or empty"
						      : "PAIR or NHS_NUMBER malformed");
			(*bad)++;
			continue;
		}
		if (nd == cap) {
			if (cap >= MAX_DECISIONS) {
				rc = yoc_error_set(e, YOC_ETOOBIG, name, row.line, 1,
						   "more than %d decisions", MAX_DECISIONS);
				goto cleanup;
			}
			size_t nc2 = cap ? cap * 2 : 64;
			struct yoc_review_decision *g = yoc_realloc(d, nc2 * sizeof *d);
			if (!g) {
				rc = yoc_error_set(e, YOC_ENOMEM, name, 0, 0, "out of memory");
				goto cleanup;
			}
			d = g;
			cap = nc2;
		}
		struct yoc_review_decision *x = &d[nd++];
		memset(x, 0, sizeof *x);
		memcpy(x->pair, p.p, p.n);
		memcpy(x->nhs, nb, 10);
		x->decision = dec;
		if (cr >= 0) {
			struct yoc_cell rv = row.cells[cr];
			size_t m = rv.n < sizeof x->reviewer - 1 ? rv.n : sizeof x->reviewer - 1;
			for (size_t i = 0; i < m; i++) {
				char c = rv.p[i];
				x->reviewer[i] = (c >= 32 && c < 127 && c != ',') ? c : '?';
			}
		}
	}
	*out = d;
	*nout = nd;
	d = NULL;
	rc = 0;
cleanup:
	yoc_free(d);
	yoc_csv_close(r);
	return rc;
}

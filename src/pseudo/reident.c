/*
** Re-identification for direct care: NEWNHSNO is added back to the rows of a
** pseudonymised file whose PSEUDO_ID is the pseudonym of someone on the
** supplied register, and to no other row.
**
** The register's pseudonyms are computed with the key and held in a map from
** the 32 raw HMAC bytes to the person's index. Rows not matched keep an empty
** NEWNHSNO; the pseudonym is never inverted. Must not: write anything but to
** the FILE it is given (the caller commits or discards it, and writes the
** audit record first), or accept an input that already holds NEWNHSNO.
*/
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "pseudo/outbuf.h"
#include "ident/ident.h"
#include "pseudo/pseudo.h"
#include "yoc/csv.h"
#include "yoc/io.h"
#include "yoc/nhsno.h"

struct yoc_reident {
	struct yoc_map map;   /* 32 raw bytes -> index into nums */
	char (*nums)[11];     /* the register's valid numbers */
	unsigned char *seen;  /* per number: re-identified in this run */
	size_t n;
	int map_ready;
};

void yoc_reident_free(yoc_reident *r)
{
	if (!r)
		return;
	if (r->map_ready)
		yoc_map_free(&r->map);
	if (r->nums)
		sodium_memzero(r->nums, r->n * sizeof *r->nums);
	yoc_free(r->nums);
	yoc_free(r->seen);
	yoc_free(r);
}

int yoc_reident_create(yoc_reident **out, const struct yoc_key *key,
		       const yoc_nhsset *reg, struct yoc_error *e)
{
	yoc_pseudo *ps = NULL;
	yoc_reident *r = NULL;
	size_t total = yoc_nhsset_count(reg);
	int rc;

	*out = NULL;
	r = yoc_calloc(1, sizeof *r);
	if (!r) {
		rc = YOC_ENOMEM;
		goto cleanup;
	}
	r->nums = yoc_calloc(total ? total : 1, sizeof *r->nums);
	r->seen = yoc_calloc(total ? total : 1, 1);
	rc = r->nums && r->seen ? yoc_map_init(&r->map, total) : YOC_ENOMEM;
	if (rc)
		goto cleanup;
	r->map_ready = 1;
	rc = yoc_pseudo_create(&ps, key, 1);
	if (rc)
		goto cleanup;
	for (size_t i = 0; i < total; i++) {
		char ten[11], chk[11];
		unsigned char raw[32];
		yoc_nhsset_get(reg, i, ten);
		/* Numbers failing the check never received a pseudonym. */
		if (yoc_nhsno_check(ten, 10, chk) != YOC_NHSNO_VALID)
			continue;
		yoc_pseudo_raw(ps, ten, raw);
		memcpy(r->nums[r->n], ten, 11);
		rc = yoc_map_put(&r->map, raw, sizeof raw, r->n, NULL);
		if (rc)
			goto cleanup;
		r->n++;
	}
	*out = r;
	r = NULL;
cleanup:
	if (rc)
		yoc_error_set(e, rc, "", 0, 0, "%s while preparing the register",
			      yoc_status_str(rc));
	yoc_pseudo_free(ps);
	yoc_reident_free(r);
	return rc;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The register index of a PSEUDO_ID cell, or -1. */
static long lookup(const yoc_reident *r, const char *s, size_t n)
{
	unsigned char raw[32];
	if (n != YOC_PSEUDO_HEXLEN)
		return -1;
	for (size_t i = 0; i < 32; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		raw[i] = (unsigned char)(hi << 4 | lo);
	}
	const uint64_t *v = yoc_map_get(&r->map, raw, sizeof raw);
	return v ? (long)*v : -1;
}

int yoc_reident_write(yoc_reident *r, const char *in, FILE *f,
		      const struct yoc_pseudo_opts *o, struct yoc_reident_stats *st,
		      struct yoc_error *e)
{
	struct yoc_csv_opts copts = {0};
	struct yoc__out ob = {0};
	struct yoc_csv_row row;
	yoc_csv *c = NULL;
	long pcol = -1;
	int rc;

	memset(st, 0, sizeof *st);
	memset(r->seen, 0, r->n ? r->n : 1);
	rc = yoc_check_regular(in, e); /* a named pipe would block the reader */
	if (!rc)
		rc = yoc_csv_open(&c, in, &copts, e);
	if (rc)
		goto cleanup;
	const struct yoc_cell *h = yoc_csv_header(c);
	size_t ncols = yoc_csv_ncols(c);
	for (size_t i = 0; i < ncols; i++) {
		if (yoc_ident_name_class(h[i].p, h[i].n) == YOC_IDC_NHSNO) {
			rc = yoc_error_set(e, YOC_EINVAL, in, 1, (long)i + 1,
					   "input already has an NHS number column; "
					   "expected a pseudonymised file");
			goto cleanup;
		}
		if (pcol < 0 && yoc__pseudo_name_is(&h[i], "PSEUDO_ID"))
			pcol = (long)i;
	}
	if (pcol < 0) {
		rc = yoc_error_set(e, YOC_EINVAL, in, 1, 0,
				   "no PSEUDO_ID column: not a pseudonymised file");
		goto cleanup;
	}
	rc = yoc__out_init(&ob, f, yoc_csv_delim(c));
	if (rc) {
		yoc_error_set(e, rc, in, 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < ncols; i++) {
		if (i)
			yoc__out_byte(&ob, ob.delim);
		if ((long)i == pcol) {
			yoc__out_put(&ob, "NEWNHSNO", 8);
			yoc__out_byte(&ob, ob.delim);
		}
		yoc__out_cell(&ob, h[i].p, h[i].n, 1);
	}
	yoc__out_byte(&ob, '\n');

	for (;;) {
		rc = yoc__pseudo_next_row(c, in, ncols, o, &row, &st->rows_in, &st->rejected, e);
		if (rc == 0)
			break;
		if (rc < 0)
			goto cleanup;
		if (rc == 2)
			continue;
		const struct yoc_cell *cell = row.cells;
		long who = lookup(r, cell[pcol].p, cell[pcol].n);
		for (size_t i = 0; i < ncols; i++) {
			if (i)
				yoc__out_byte(&ob, ob.delim);
			if ((long)i == pcol) {
				if (who >= 0)
					yoc__out_put(&ob, r->nums[who], 10);
				yoc__out_byte(&ob, ob.delim);
			}
			yoc__out_cell(&ob, cell[i].p, cell[i].n, row.quoted);
		}
		yoc__out_byte(&ob, '\n');
		st->rows_out++;
		if (who >= 0) {
			st->reidentified++;
			if (!r->seen[who]) {
				r->seen[who] = 1;
				st->persons++;
			}
		}
	}
	yoc__out_flush(&ob);
	rc = ob.err ? yoc_error_set(e, YOC_EIO, in, 0, 0, "write failed") : YOC_OK;
cleanup:
	yoc__out_free(&ob);
	yoc_csv_close(c);
	return rc;
}

/*
** The pseudonymising rewrite of one feed file.
**
** The identifier policy (src/ident) decides each column: kept (a field of
** the feed kind's spec, or on the key holder's allow-list), replaced (the
** NHS number by PSEUDO_ID and NHSNO_STATUS, the date of birth by MYDOB,
** MMYYYY) or dropped and listed in the account. Every value kept is scanned
** for identifiers; a column that holds them refuses the file, and since the
** output is written to a temporary first, nothing is written at all.
**
** Must not: copy a raw NHS number (even an invalid one), a full date of
** birth or a dropped column into the output; write a partial output file
** (yoc_afile: temporary, then rename); drop a row without counting it.
** Malformed CSV rows are counted as rejected and reported through the
** caller's callback with file:line:col; they are not written, because their
** cells cannot be trusted to be in the right columns.
*/
#include <string.h>
#include <strings.h>

#include "ident/ident.h"
#include "pseudo/outbuf.h"
#include "pseudo/pseudo.h"
#include "yoc/csv.h"
#include "yoc/date.h"
#include "yoc/io.h"
#include "yoc/nhsno.h"

/*
** The output plan for one header, from the identifier policy's column plan
** (src/ident): kept columns in runs, the NHS number and date of birth
** replaced where they stand, everything else dropped.
*/
enum { SEG_RUN, SEG_NHS, SEG_DOB };
struct seg {
	int kind;
	size_t a, b; /* SEG_RUN: input columns a..b, all kept, consecutive */
};
struct plan {
	struct yoc_ident_plan ip;
	struct seg *segs; /* the output, left to right */
	size_t ncols, nsegs;
	long nhs_col;
	long dob_col;
};

static void plan_free(struct plan *pl)
{
	yoc_ident_plan_free(&pl->ip);
	yoc_free(pl->segs);
	pl->segs = NULL;
}

static int plan_make(struct plan *pl, yoc_csv *r, const char *path,
		     const struct yoc_pseudo_opts *o, struct yoc_error *e)
{
	struct yoc_ident_opts io = {YOC_IDENT_PSEUDO, o && o->kind_set ? o->kind : -1,
				    o ? o->allow : NULL,
				    o ? o->strict : 0};
	int rc = yoc_ident_plan_make(&pl->ip, yoc_csv_header(r), yoc_csv_ncols(r), &io, path, e);
	if (rc)
		return rc;
	pl->ncols = pl->ip.ncols;
	pl->nhs_col = pl->ip.nhs_col;
	pl->dob_col = pl->ip.dob_col;
	pl->segs = yoc_calloc(pl->ncols ? pl->ncols : 1, sizeof *pl->segs);
	if (!pl->segs) {
		plan_free(pl);
		return yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "out of memory");
	}
	pl->nsegs = 0;
	for (size_t i = 0; i < pl->ncols; i++) {
		struct seg *last = pl->nsegs ? &pl->segs[pl->nsegs - 1] : NULL;
		switch (pl->ip.cols[i].act) {
		case YOC_IA_KEEP:
			if (last && last->kind == SEG_RUN && last->b + 1 == i)
				last->b = i;
			else
				pl->segs[pl->nsegs++] = (struct seg){SEG_RUN, i, i};
			break;
		case YOC_IA_NHSNO:
			pl->segs[pl->nsegs++] = (struct seg){SEG_NHS, i, i};
			break;
		case YOC_IA_DOB:
			pl->segs[pl->nsegs++] = (struct seg){SEG_DOB, i, i};
			break;
		}
	}
	return YOC_OK;
}

int yoc_pseudo_check_file(const char *in, const struct yoc_pseudo_opts *po,
			  struct yoc_error *e)
{
	struct yoc_csv_opts o = {0};
	struct plan pl = {0};
	yoc_csv *r = NULL;
	int rc = yoc_csv_open(&r, in, &o, e);
	if (rc)
		return rc;
	rc = plan_make(&pl, r, in, po, e);
	plan_free(&pl);
	yoc_csv_close(r);
	return rc;
}

/* ---- the row transform -------------------------------------------------- */

static const char *const status_text[] = {"valid", "missing", "malformed",
					  "bad_check_digit"};
static const size_t status_len[] = {5, 7, 9, 15};

static inline int isdig(char c)
{
	return c >= '0' && c <= '9';
}

/* MYDOB for a DOB cell into out (6 bytes); returns its length, or -1 if unparsed. */
static int coarsen_dob(const char *s, size_t n, char *out)
{
	int y, m, d;
	if (n == 10 && s[4] == '-' && s[7] == '-' && isdig(s[0]) && isdig(s[1]) &&
	    isdig(s[2]) && isdig(s[3]) && isdig(s[5]) && isdig(s[6]) && isdig(s[8]) &&
	    isdig(s[9])) {
		y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
		m = (s[5] - '0') * 10 + (s[6] - '0');
		d = (s[8] - '0') * 10 + (s[9] - '0');
		if (yoc_date_valid_ymd(y, m, d)) {
			out[0] = s[5];
			out[1] = s[6];
			memcpy(out + 2, s, 4);
			return 6;
		}
	}
	int32_t days;
	int k = yoc_date_parse(s, n, &days);
	if (k == YOC_DATE_EMPTY)
		return 0;
	if (k == YOC_DATE_NULL || k == YOC_DATE_INVALID) {
		/* HES sentinels stay recognisable: 1800-01-01 -> 011800, 1801-01-01 -> 011801. */
		memcpy(out, k == YOC_DATE_NULL ? "011800" : "011801", 6);
		return 6;
	}
	if (k != YOC_DATE_VALID)
		return -1;
	yoc_date_to_ymd(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		return -1;
	out[0] = (char)('0' + m / 10);
	out[1] = (char)('0' + m % 10);
	out[2] = (char)('0' + y / 1000);
	out[3] = (char)('0' + y / 100 % 10);
	out[4] = (char)('0' + y / 10 % 10);
	out[5] = (char)('0' + y % 10);
	return 6;
}

/* The account of dropped columns: "name (why), ..." cut short to fit. */
static void note_dropped(struct yoc_pseudo_stats *st, const struct yoc_cell *h, size_t i,
			 const struct yoc_ident_col *c)
{
	char shown[64], item[160];
	yoc_ident_show(h[i].p, h[i].n, shown, 40);
	const char *why = c->act == YOC_IA_IDENT ? yoc_ident_class_str(c->cls) :
			  c->act == YOC_IA_RESERVED ? "replaced" : "not in the spec";
	int k = snprintf(item, sizeof item, "%s%s (%s)", st->cols_dropped ? ", " : "", shown, why);
	size_t len = strlen(st->dropped);
	if (k > 0 && len + (size_t)k + 4 < sizeof st->dropped)
		memcpy(st->dropped + len, item, (size_t)k + 1);
	else if (len + 4 < sizeof st->dropped && !strstr(st->dropped, "..."))
		memcpy(st->dropped + len, "...", 4);
	st->cols_dropped++;
	if (c->act == YOC_IA_IDENT)
		st->cols_identifier++;
	else if (c->act == YOC_IA_DROP)
		st->cols_unknown++;
}

static void write_header(struct yoc__out *o, const struct plan *pl, yoc_csv *r,
			 struct yoc_pseudo_stats *st)
{
	const struct yoc_cell *h = yoc_csv_header(r);
	for (size_t i = 0; i < pl->ncols; i++) {
		const struct yoc_ident_col *c = &pl->ip.cols[i];
		if (c->act == YOC_IA_DROP || c->act == YOC_IA_IDENT || c->act == YOC_IA_RESERVED)
			note_dropped(st, h, i, c);
	}
	for (size_t k = 0; k < pl->nsegs; k++) {
		const struct seg *g = &pl->segs[k];
		if (k)
			yoc__out_byte(o, o->delim);
		if (g->kind == SEG_NHS) {
			yoc__out_put(o, "PSEUDO_ID", 9);
			yoc__out_byte(o, o->delim);
			yoc__out_put(o, "NHSNO_STATUS", 12);
			st->cols_out += 2;
		} else if (g->kind == SEG_DOB) {
			yoc__out_put(o, "MYDOB", 5);
			st->cols_out++;
		} else {
			for (size_t i = g->a; i <= g->b; i++) {
				const char *sp = pl->ip.cols[i].spelling;
				if (i > g->a)
					yoc__out_byte(o, o->delim);
				if (sp) {
					yoc__out_cell(o, sp, strlen(sp), 1);
				} else {
					const char *p = h[i].p;
					size_t n = h[i].n;
					while (n && (*p == ' ' || *p == '\t')) {
						p++;
						n--;
					}
					while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
						n--;
					yoc__out_cell(o, p, n, 1);
				}
				st->cols_out++;
			}
		}
	}
	yoc__out_byte(o, '\n');
}

/*
** Pseudonyms still to be written: their place in the output buffer is left
** blank and filled RING rows later, by which time the prefetch started for
** the row has brought the cache slot in. Drained before every flush.
*/
#define RING 16
struct ring {
	size_t off[RING];
	char ten[RING][10];
	unsigned head, n;
};

static void ring_drain(struct ring *q, yoc_pseudo *ps, struct yoc__out *ob)
{
	while (q->n) {
		yoc_pseudo_hex(ps, q->ten[q->head], ob->p + q->off[q->head]);
		q->head = (q->head + 1) % RING;
		q->n--;
	}
}

static void ring_push(struct ring *q, yoc_pseudo *ps, struct yoc__out *ob,
		      const char *ten, size_t off)
{
	if (q->n == RING) {
		yoc_pseudo_hex(ps, q->ten[q->head], ob->p + q->off[q->head]);
		q->head = (q->head + 1) % RING;
		q->n--;
	}
	unsigned k = (q->head + q->n) % RING;
	memcpy(q->ten[k], ten, 10);
	q->off[k] = off;
	q->n++;
	yoc_pseudo_prefetch(ps, ten);
}

/* A cell into space already reserved (at most 2n + 2 bytes). */
static inline char *put_cell(char *w, const char *s, size_t n, char delim, int check)
{
	if (check && yoc__needs_quote(s, n, delim)) {
		*w++ = '"';
		for (size_t i = 0; i < n; i++) {
			if (s[i] == '"')
				*w++ = '"';
			*w++ = s[i];
		}
		*w++ = '"';
		return w;
	}
	memcpy(w, s, n);
	return w + n;
}

/* The transformed cells of one row, into reserved space at w; returns the end. */
static char *write_row(char *w, const struct plan *pl, const struct yoc_cell *c,
		       int status, const char *ten, int check, char delim,
		       struct ring *q, yoc_pseudo *ps, struct yoc__out *ob,
		       struct yoc_pseudo_stats *st)
{
	char dob[8];
	for (size_t k = 0; k < pl->nsegs; k++) {
		const struct seg *g = &pl->segs[k];
		if (k)
			*w++ = delim;
		if (g->kind == SEG_RUN) {
			size_t a = g->a, b = g->b, i;
			if (!check) {
				/* Unquoted cells of a run are usually still side by side
				** in the reader's buffer, delimiters between: one copy. */
				for (i = a; i < b && c[i].p + c[i].n + 1 == c[i + 1].p; i++)
					;
				if (i == b) {
					size_t len = (size_t)(c[b].p + c[b].n - c[a].p);
					memcpy(w, c[a].p, len);
					w += len;
					continue;
				}
			}
			for (i = a; i <= b; i++) {
				if (i > a)
					*w++ = delim;
				w = put_cell(w, c[i].p, c[i].n, delim, check);
			}
		} else if (g->kind == SEG_NHS) {
			if (status == YOC_NHSNO_VALID) {
				if (q) {
					ring_push(q, ps, ob, ten, (size_t)(w - ob->p));
				} else {
					yoc_pseudo_hex(ps, ten, w);
				}
				w += YOC_PSEUDO_HEXLEN;
			}
			*w++ = delim;
			memcpy(w, status_text[status], status_len[status]);
			w += status_len[status];
		} else {
			int n = coarsen_dob(c[g->a].p, c[g->a].n, dob);
			if (n > 0) {
				memcpy(w, dob, (size_t)n);
				w += n;
			} else if (n < 0) {
				st->dob_unparsed++;
			}
		}
	}
	*w++ = '\n';
	return w;
}

int yoc__pseudo_next_row(yoc_csv *r, const char *in, size_t ncols,
			 const struct yoc_pseudo_opts *o, struct yoc_csv_row *row,
			 uint64_t *rows_in, uint64_t *rejected, struct yoc_error *e)
{
	/* The reader fills rowerr on a fault, so it needs no clearing per row. */
	struct yoc_error rowerr;
	int rc = yoc_csv_next(r, row, &rowerr);
	if (rc == 0)
		return 0;
	(*rows_in)++;
	if (rc < 0 && row->fault == YOC_CSV_OK) { /* YOC_EIO, YOC_ENOMEM: the reader stopped */
		if (e)
			*e = rowerr;
		return rc;
	}
	if (rc == 1 && row->ncells != ncols) {
		rc = yoc_error_set(&rowerr, YOC_EPARSE, in, row->line, 0,
				   "row has %zu cells, header has %zu", row->ncells, ncols);
		row->fault = YOC_CSV_RAGGED_ROW;
	}
	if (rc > 0)
		return 1;
	(*rejected)++;
	if (o && o->on_reject)
		o->on_reject(o->ctx, &rowerr, row->fault);
	if (o && o->strict) {
		if (e)
			*e = rowerr;
		return YOC_EPARSE;
	}
	return 2;
}

int yoc_pseudo_file(yoc_pseudo *ps, const char *in, const char *out,
		    const struct yoc_pseudo_opts *o, struct yoc_pseudo_stats *st,
		    struct yoc_error *e)
{
	struct yoc_csv_opts copts = {0};
	struct plan pl = {0};
	struct yoc_afile af = {0};
	struct yoc__out ob = {0};
	struct yoc_csv_row row;
	struct ring q = {0};
	struct yoc_idscan scan = {0};
	char *big = NULL;
	yoc_csv *r = NULL;
	int rc, opened = 0;
	char ten[11];

	memset(st, 0, sizeof *st);
	rc = yoc_csv_open(&r, in, &copts, e);
	if (rc)
		goto cleanup;
	rc = plan_make(&pl, r, in, o, e);
	if (rc)
		goto cleanup;
	if ((rc = yoc_idscan_init(&scan, &pl.ip))) {
		rc = yoc_error_set(e, rc, in, 0, 0, "out of memory");
		goto cleanup;
	}
	st->cols_in = pl.ncols;
	st->kind = pl.ip.kind;
	rc = yoc_afile_open(&af, out, e);
	if (rc)
		goto cleanup;
	opened = 1;
	rc = yoc__out_init(&ob, af.f, yoc_csv_delim(r));
	if (!rc && o && o->sha256)
		rc = yoc__out_hash(&ob);
	if (rc) {
		yoc_error_set(e, rc, out, 0, 0, "out of memory");
		goto cleanup;
	}
	write_header(&ob, &pl, r, st);

	const size_t ncols = pl.ncols;
	const char delim = ob.delim;
	for (;;) {
		rc = yoc__pseudo_next_row(r, in, ncols, o, &row, &st->rows_in, &st->rejected, e);
		if (rc == 0)
			break;
		if (rc < 0)
			goto cleanup;
		if (rc == 2) {
			if (row.fault > 0 && row.fault <= YOC_CSV_ROW_TOO_LONG)
				st->rejected_by[row.fault]++;
			else
				st->rejected_by[YOC_CSV_OK]++; /* cannot happen: every reject has a fault */
			continue;
		}
		const struct yoc_cell *c = row.cells;
		const struct yoc_cell *nc = &c[pl.nhs_col];
		int status = yoc_pseudo_nhsno(nc->p, nc->n, ten);
		if (o && o->optout && (status == YOC_NHSNO_VALID ||
				       status == YOC_NHSNO_BAD_CHECK_DIGIT) &&
		    yoc_nhsset_has(o->optout, ten)) {
			st->opted_out++;
			continue;
		}
		switch (status) {
		case YOC_NHSNO_VALID: st->valid++; break;
		case YOC_NHSNO_MISSING: st->missing++; break;
		case YOC_NHSNO_MALFORMED: st->malformed++; break;
		default: st->bad_check_digit++; break;
		}
		st->rows_out++;
		yoc_idscan_row(&scan, c, ncols, row.line, 0);
		/* A row with no quoted cell has no delimiter, quote or line break
		** in any cell, so the quoting scan can be skipped. */
		const int check = row.quoted;
		size_t need = 128 + 2 * ncols;
		for (size_t i = 0; i < ncols; i++)
			need += check ? 2 * c[i].n + 2 : c[i].n;
		if (ob.n + need > YOC__OUT_CAP) {
			ring_drain(&q, ps, &ob);
			yoc__out_flush(&ob);
		}
		if (need <= YOC__OUT_CAP) {
			char *w = write_row(ob.p + ob.n, &pl, c, status, ten, check, delim, &q, ps,
					    &ob, st);
			ob.n = (size_t)(w - ob.p);
		} else {
			/* A row larger than the buffer: build it alone, write it through. */
			yoc_free(big);
			big = yoc_malloc(need);
			if (!big) {
				rc = yoc_error_set(e, YOC_ENOMEM, in, row.line, 0, "out of memory");
				goto cleanup;
			}
			char *w = write_row(big, &pl, c, status, ten, check, delim, NULL, ps, &ob,
					    st);
			yoc__out_put(&ob, big, (size_t)(w - big));
			yoc_free(big);
			big = NULL;
		}
	}
	ring_drain(&q, ps, &ob);
	yoc__out_flush(&ob);
	/* Values that look like identifiers in a kept column refuse the file. */
	if ((rc = yoc_idscan_verdict(&scan, yoc_csv_header(r), in, e)))
		goto cleanup;
	if (ob.err) {
		rc = yoc_error_set(e, YOC_EIO, out, 0, 0, "write failed");
		goto cleanup;
	}
	st->bytes_out = ob.total;
	if (ob.sha)
		yoc__out_digest(&ob, st->sha256);
	rc = yoc_afile_commit(&af, e);
	opened = 0;
cleanup:
	if (opened)
		yoc_afile_abort(&af);
	yoc_free(big);
	yoc__out_free(&ob);
	yoc_idscan_free(&scan);
	plan_free(&pl);
	yoc_csv_close(r);
	return rc;
}

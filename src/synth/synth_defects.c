/*
** Data defects with ground truth. Row defects are decided from the person's
** defect stream as each clean row is finished, and applied to the row's text
** (the truth was already taken from the clean fields): at most one defect
** per row, so every count in the manifest is the exact number of rows
** carrying that defect. File defects (a month withheld, a month sent twice,
** a renamed column, a truncated last line) are chosen from the seed before
** any row is written and completed after the last one.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "synth/synth_int.h"

static const struct colspec *kind_cols(const struct world *w, int kind, int *n)
{
	if (kind == K_REGISTER) {
		*n = w->reg_ncols;
		return w->reg_spec;
	}
	*n = synth_kinds[kind].ncols;
	return synth_kinds[kind].cols;
}

/* Start and length of field k of a row (no quoting in clean rows). */
static int field_at(const char *row, size_t n, int k, size_t *fs, size_t *fl)
{
	size_t s = 0;
	int col = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || row[i] == ',' || row[i] == '\n') {
			if (col == k) {
				*fs = s;
				*fl = i - s;
				return 1;
			}
			col++;
			s = i + 1;
			if (i < n && row[i] == '\n')
				break;
		}
	}
	return 0;
}

/*
** Replaces field k of the row (the last one in f's tail chunk, *n bytes) by
** text; returns 0 or -1. The row start keeps ROW_RESERVE bytes free.
*/
static int replace_field(struct world *w, struct sfile *f, char *row, size_t *n, int k,
			 const char *text, size_t tn)
{
	size_t fs, fl;
	if (!field_at(row, *n, k, &fs, &fl))
		return -1;
	size_t nn = *n - fl + tn;
	if (nn >= ROW_RESERVE)
		return -1;
	char *s = w->scratch;
	memcpy(s, row, fs);
	memcpy(s + fs, text, tn);
	memcpy(s + fs + tn, row + fs + fl, *n - fs - fl);
	memcpy(row, s, nn);
	f->wp = row + nn; /* the row is the last in the tail chunk */
	f->len = f->len - *n + nn;
	*n = nn;
	return 0;
}

static int pick_date_field(struct world *w, const struct sfile *f, const char *row, size_t n,
			   struct rng *r, size_t *fs)
{
	int ncols, cand[64], nc = 0;
	const struct colspec *cols = kind_cols(w, f->kind, &ncols);
	for (int k = 0; k < ncols && nc < 64; k++) {
		size_t s, l;
		if (cols[k].type == CT_DATE && field_at(row, n, k, &s, &l) && l == 10)
			cand[nc++] = k;
	}
	if (!nc)
		return -1;
	int k = cand[rng_below(r, (uint32_t)nc)];
	size_t l;
	field_at(row, n, k, fs, &l);
	return k;
}

static void put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

static void put4(char *p, int v)
{
	put2(p, v / 100);
	put2(p + 2, v % 100);
}

/* Applies row defect d; returns 0 if applied, -1 if the row cannot carry it. */
static int apply(struct world *w, struct sfile *f, char *row, size_t *n, int d, struct rng *r)
{
	const struct kindspec *ks = &synth_kinds[f->kind];
	int ncols;
	const struct colspec *cols = kind_cols(w, f->kind, &ncols);
	size_t fs;
	switch (d) {
	case D_NHS_BAD_CHECK: {
		if (*n < 11 || row[10] != ',')
			return -1;
		int c = row[9] - '0';
		row[9] = (char)('0' + (c + 1 + (int)rng_below(r, 9)) % 10);
		return 0;
	}
	case D_NHS_MISSING:
		return replace_field(w, f, row, n, 0, "", 0);
	case D_DATE_FORMAT: {
		if (pick_date_field(w, f, row, *n, r, &fs) < 0)
			return -1;
		char t[10], *p = row + fs;
		memcpy(t, p, 10);
		/* YYYY-MM-DD -> DD/MM/YYYY */
		p[0] = t[8], p[1] = t[9], p[2] = '/', p[3] = t[5], p[4] = t[6], p[5] = '/';
		memcpy(p + 6, t, 4);
		return 0;
	}
	case D_DATE_RANGE: {
		if (pick_date_field(w, f, row, *n, r, &fs) < 0)
			return -1;
		char *p = row + fs;
		uint32_t how = rng_below(r, 3);
		if (how == 0) {
			put4(p, 1850 + (int)rng_below(r, 50)); /* before 1900, never 1800/1801 */
		} else if (how == 1) {
			put2(p + 5, 2);
			put2(p + 8, 30); /* 30 February */
		} else {
			put2(p + 5, 13 + (int)rng_below(r, 7)); /* month 13-19 */
		}
		return 0;
	}
	case D_DATE_FUTURE: {
		if (pick_date_field(w, f, row, *n, r, &fs) < 0)
			return -1;
		char *p = row + fs;
		int ey, em, ed;
		yoc_date_to_ymd(w->extract_date, &ey, &em, &ed);
		put4(p, ey + 1 + (int)rng_below(r, 20)); /* always after the extract date */
		if (p[5] == '0' && p[6] == '2' && p[8] == '2' && p[9] == '9')
			p[9] = '8'; /* 29 February may not exist in the new year */
		return 0;
	}
	case D_UNKNOWN_CODE: {
		int cand[64], nc = 0;
		for (int k = 0; k < ncols && nc < 64; k++)
			if (cols[k].type == CT_CODE && cols[k].unknown)
				cand[nc++] = k;
		if (!nc)
			return -1;
		int k = cand[rng_below(r, (uint32_t)nc)];
		return replace_field(w, f, row, n, k, cols[k].unknown, strlen(cols[k].unknown));
	}
	case D_STRAY_QUOTE: {
		size_t l;
		if (!field_at(row, *n, ks->stray_col, &fs, &l) || l < 1)
			return -1;
		char t[64];
		if (l + 1 > sizeof t)
			return -1;
		t[0] = row[fs];
		t[1] = '"';
		memcpy(t + 2, row + fs + 1, l - 1);
		return replace_field(w, f, row, n, ks->stray_col, t, l + 1);
	}
	case D_COST_MISMATCH: {
		size_t l;
		if (ks->cost_col < 0 || !field_at(row, *n, ks->cost_col, &fs, &l) || l == 0 || l > 20)
			return -1;
		int64_t pence;
		if (yoc_pounds_parse(row + fs, l, &pence))
			return -1;
		int64_t extra = pence / 10 > 100 ? pence / 10 : 100;
		int64_t bad = pence + extra +
			      (int64_t)rng_below(r, (uint32_t)(extra < 1000000000 ? extra : 1000000000));
		char t[32];
		size_t tn = yoc_pence_format(bad, t);
		return replace_field(w, f, row, n, ks->cost_col, t, tn);
	}
	case D_DUPLICATE: {
		if ((size_t)(f->wend - f->wp) < *n) {
			if (synth_file_grow(w, f) != 0)
				return -1;
		}
		memcpy(f->wp, row, *n);
		f->wp += *n;
		f->len += *n;
		return 0;
	}
	}
	return -1;
}

void synth_defect_row(struct world *w, struct rowb *b, struct person *p)
{
	struct sfile *f = b->f;
	const double *cum = &w->defect_cum[f->kind][(size_t)f->prov * D_ROW_COUNT];
	double u = rng_unif(&p->d);
	if (u >= cum[D_ROW_COUNT - 1])
		return;
	int d = 0;
	while (u >= cum[d])
		d++;
	size_t n = (size_t)(b->p - b->start);
	if (apply(w, f, b->start, &n, d, &p->d) != 0)
		return;
	f->defects[d]++;
	f->last_clean = 0;
	w->defect_rows++;
	if (d == D_DUPLICATE) {
		f->rows++;
		w->rows++;
	}
	f->last_len = (uint32_t)n;
}

int synth_defect_clean_ahead(const struct world *w, const struct sfile *f,
			     const struct person *p, int n)
{
	const double *cum = &w->defect_cum[f->kind][(size_t)f->prov * D_ROW_COUNT];
	struct rng d = p->d;
	for (int i = 0; i < n; i++)
		if (rng_unif(&d) < cum[D_ROW_COUNT - 1])
			return 0;
	return 1;
}

/*
** Distinct random files among candidates (kind mask), not already marked.
** Only the files before the outcome kinds' (which come last) are drawn from,
** so the choice is the same with or without them.
*/
static struct sfile *pick_file(struct world *w, struct rng *r, unsigned kinds)
{
	for (int tries = 0; tries < 10000; tries++) {
		struct sfile *f = &w->files[rng_below(r, (uint32_t)w->fbase[K_CAREPLAN])];
		if (!(kinds & (1u << f->kind)))
			continue;
		if (f->withheld || f->dupfile || f->renamed || f->truncate)
			continue;
		return f;
	}
	return NULL;
}

static uint32_t how_many(double rate, double scale, size_t n)
{
	if (scale <= 0)
		return 0;
	long k = lround(rate * scale * (double)n);
	return k < 1 ? 1 : (uint32_t)k;
}

void synth_defect_files(struct world *w)
{
	struct rng r;
	rng_seed(&r, w->o->seed, STREAM_FILES, 0);
	double s = w->defect_scale;
	/* Row defect thresholds per kind and provider. */
	for (int k = 0; k < K_COUNT; k++) {
		for (uint32_t i = 0; i < w->nprov[k]; i++) {
			double *cum = &w->defect_cum[k][(size_t)i * D_ROW_COUNT], acc = 0;
			for (int d = 0; d < D_ROW_COUNT; d++) {
				double rate = synth_defect_rates[d] * s * w->prov_quality[k][i];
				/* outcome feeds carry their own defects only (synth_outcome.c) */
				if ((d == D_COST_MISMATCH && synth_kinds[k].cost_col < 0) || k >= K_CAREPLAN)
					rate = 0;
				acc += rate;
				cum[d] = acc;
			}
		}
	}
	if (s <= 0)
		return;
	unsigned secondary = 1u << K_APC | 1u << K_OP | 1u << K_AE | 1u << K_COMMUNITY | 1u << K_MH;
	unsigned all = (1u << K_CAREPLAN) - 1;
	size_t nsec = 0, nold = w->fbase[K_CAREPLAN];
	for (size_t i = 0; i < nold; i++)
		nsec += (secondary >> w->files[i].kind) & 1;
	uint32_t n = how_many(0.0015, s, nsec);
	for (uint32_t i = 0; i < n; i++) {
		struct sfile *f = pick_file(w, &r, secondary);
		if (f)
			f->withheld = 1;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct sfile *f = pick_file(w, &r, secondary);
		if (f)
			f->dupfile = 1;
	}
	n = how_many(0.001, s, nold);
	for (uint32_t i = 0; i < n; i++) {
		struct sfile *f = pick_file(w, &r, all);
		if (f)
			f->renamed = 1;
	}
	n = how_many(0.004, s, nold);
	for (uint32_t i = 0; i < n; i++) {
		struct sfile *f = pick_file(w, &r, all);
		if (f)
			f->truncate = 1;
	}
}

static int copy_file(const char *from, const char *to, struct yoc_error *e)
{
	int rc = YOC_OK;
	char buf[1 << 16];
	int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return yoc_error_set(e, YOC_EIO, from, 0, 0, "cannot open: %s", strerror(errno));
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		close(in);
		return yoc_error_set(e, YOC_EIO, to, 0, 0, "cannot create: %s", strerror(errno));
	}
	for (;;) {
		ssize_t k = read(in, buf, sizeof buf);
		if (k == 0)
			break;
		if (k < 0 || write(out, buf, (size_t)k) != k) {
			rc = yoc_error_set(e, YOC_EIO, to, 0, 0, "copy failed: %s", strerror(errno));
			break;
		}
	}
	close(in);
	if (close(out) != 0 && rc == YOC_OK)
		rc = yoc_error_set(e, YOC_EIO, to, 0, 0, "close failed: %s", strerror(errno));
	return rc;
}

int synth_defect_finish(struct world *w, struct yoc_error *e)
{
	char path[4096], copy[4096];
	for (size_t i = 0; i < w->nfiles; i++) {
		struct sfile *f = &w->files[i];
		if (f->withheld || !f->created)
			continue;
		if (f->truncate && f->rows > 0 && f->last_clean && f->last_len > 40) {
			/* Cut the last line part way (after NEWNHSNO and DOB), with no newline. */
			uint32_t keep = f->last_len * 6 / 10;
			if (keep < 32)
				keep = 32;
			if (keep > f->last_len - 2)
				keep = f->last_len - 2;
			off_t size = (off_t)(f->bytes - f->last_len + keep);
			synth_file_path(w, f, 0, path, sizeof path);
			if (truncate(path, size) != 0)
				return yoc_error_set(e, YOC_EIO, path, 0, 0, "truncate failed: %s",
						     strerror(errno));
			f->bytes = (uint64_t)size;
			f->truncated = 1;
			f->defects[D_TRUNCATED] = 1;
			if (f->last_odef < OD_COUNT)
				f->odef[f->last_odef]--; /* rejected at source with the line */
		}
		if (f->dupfile) {
			synth_file_path(w, f, 0, path, sizeof path);
			synth_file_path(w, f, 1, copy, sizeof copy);
			int rc = copy_file(path, copy, e);
			if (rc)
				return rc;
		}
		if (f->renamed)
			f->defects[D_RENAMED] = f->rows;
	}
	return YOC_OK;
}

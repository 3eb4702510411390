/*
** Load, second stage: encode the rows that passed validation into the
** file's segment (src/store segment writer, in memory until the commit
** writes it), count each column's values for the file's statistics, and
** hold the flags of values kept, nulled or standardised. Like reading,
** touches no catalog, so files are encoded on any thread.
*/
#include <string.h>

#include "load/load_int.h"

/* Appends a NUL-terminated copy of p (n bytes) to lf->text; its offset in *off. */
static int put(struct yoc__lfile *lf, const char *p, size_t n, size_t *off)
{
	*off = lf->text.len;
	if (yoc_buf_append(&lf->text, p ? p : "", n) || yoc_buf_putc(&lf->text, 0))
		return YOC_ENOMEM;
	return YOC_OK;
}

int yoc__lf_hold(struct yoc__lfile *lf, struct yoc__recs *rs, long line, const char *field,
		 const char *v, size_t vn, const char *reason, const char *extra, size_t nextra)
{
	if (rs->n == rs->cap) {
		size_t nc = rs->cap ? rs->cap * 2 : 64;
		struct yoc__rec *nv = yoc_realloc(rs->v, nc * sizeof *nv);
		if (!nv)
			return YOC_ENOMEM;
		rs->v = nv;
		rs->cap = nc;
	}
	struct yoc__rec *r = &rs->v[rs->n];
	r->line = line;
	r->nvalue = vn;
	r->nextra = nextra;
	if (put(lf, field, field ? strlen(field) : 0, &r->field) ||
	    put(lf, reason, strlen(reason), &r->reason) || put(lf, v, vn, &r->value) ||
	    put(lf, extra, nextra, &r->extra))
		return YOC_ENOMEM;
	rs->n++;
	return YOC_OK;
}

int yoc__lf_encode_begin(struct yoc__lfile *lf)
{
	const char **names = NULL, **sources = NULL;
	int *types = NULL;
	int rc = YOC_ENOMEM;
	size_t n = lf->ncols;
	names = yoc_calloc(n + 1, sizeof *names);
	sources = yoc_calloc(n + 1, sizeof *sources);
	types = yoc_calloc(n + 1, sizeof *types);
	if (!names || !sources || !types)
		goto cleanup;
	for (size_t c = 0; c < n; c++) {
		names[c] = lf->cols[c].name;
		sources[c] = lf->cols[c].name + strlen(lf->cols[c].name) + 1;
		types[c] = lf->cols[c].segtype;
	}
	names[n] = "_LINE";
	sources[n] = "_LINE";
	types[n] = YOC_COL_INT;
	rc = yoc_segw_create(&lf->w, lf->res.kind, n + 1, names, sources, types);
	if (!rc)
		yoc_segw_pool_later(lf->w); /* pooled in load order (load_commit.c) */
cleanup:
	yoc_free(names);
	yoc_free(sources);
	yoc_free(types);
	return rc;
}

#define FREQ_SLOTS 512

int yoc__freq_init(struct yoc__freq *q)
{
	memset(q, 0, sizeof *q);
	yoc_buf_init(&q->keys, 0);
	q->slots = yoc_calloc(FREQ_SLOTS, sizeof *q->slots);
	return q->slots ? YOC_OK : YOC_ENOMEM;
}

void yoc__freq_free(struct yoc__freq *q)
{
	if (!q)
		return;
	yoc_free(q->slots);
	q->slots = NULL;
	yoc_buf_free(&q->keys);
}

static inline uint64_t load64(const char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline uint64_t load32(const char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/*
** Short keys (codes, numbers) hashed from overlapping fixed-size loads and
** a multiply; equal hashes are told apart by comparing the keys.
*/
static uint64_t freq_hash(const char *p, size_t n)
{
	uint64_t a, b;
	if (n > 24)
		return yoc_hash64(p, n, 5) | 1;
	if (n >= 8) {
		a = load64(p);
		b = load64(p + n - 8) ^ (n > 16 ? load64(p + 8) * 0x9fb21c651e98df25ULL : 0);
	} else if (n >= 4) {
		a = load32(p);
		b = load32(p + n - 4);
	} else {
		a = n ? (uint64_t)(unsigned char)p[0] | (uint64_t)(unsigned char)p[n / 2] << 8 |
				(uint64_t)(unsigned char)p[n - 1] << 16
		      : 0;
		b = 0;
	}
	uint64_t h = (a ^ 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
	h ^= (b + n) * 0x94d049bb133111ebULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return h | 1; /* 0 marks an empty slot */
}

/*
** Equal bytes: codes and numbers are short, and a call to memcmp costs more
** than two overlapping loads of each key, which cover it whole and read
** nothing outside it.
*/
static inline int same(const char *a, const char *b, size_t n)
{
	if (n >= 8 && n <= 16)
		return load64(a) == load64(b) && load64(a + n - 8) == load64(b + n - 8);
	if (n >= 4 && n < 8)
		return load32(a) == load32(b) && load32(a + n - 4) == load32(b + n - 4);
	if (n < 4)
		return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
	return memcmp(a, b, n) == 0;
}

int yoc__freq_count(struct yoc__freq *q, const char *p, size_t n, int64_t *other)
{
	struct yoc__freq_slot *last = q->last;
	if (last && last->len == n && same(q->keys.data + last->off, p, n)) {
		last->count++;
		return YOC_OK;
	}
	uint64_t h = freq_hash(p, n);
	size_t i = (size_t)h & (FREQ_SLOTS - 1);
	for (;; i = (i + 1) & (FREQ_SLOTS - 1)) {
		struct yoc__freq_slot *sl = &q->slots[i];
		if (!sl->h)
			break;
		if (sl->h == h && sl->len == n && same(q->keys.data + sl->off, p, n)) {
			sl->count++;
			q->last = sl;
			return YOC_OK;
		}
	}
	if (q->n >= YOC__FREQ_MAX) {
		(*other)++;
		return YOC_OK;
	}
	if (q->keys.len > UINT32_MAX - n)
		return YOC_ETOOBIG;
	struct yoc__freq_slot *sl = &q->slots[i];
	sl->off = (uint32_t)q->keys.len;
	if (yoc_buf_append(&q->keys, p, n))
		return YOC_ENOMEM;
	sl->h = h;
	sl->len = (uint32_t)n;
	sl->count = 1;
	q->order[q->n++] = (uint16_t)i;
	q->last = sl;
	return YOC_OK;
}

int yoc__freq_map(const struct yoc__freq *q, struct yoc_map *m)
{
	for (size_t k = 0; k < q->n; k++) {
		const struct yoc__freq_slot *sl = &q->slots[q->order[k]];
		if (yoc_map_put(m, q->keys.data + sl->off, sl->len, sl->count, NULL))
			return YOC_ENOMEM;
	}
	return YOC_OK;
}

int yoc__lf_append(struct yoc__lfile *lf, const struct yoc__val *vals, long line,
		   struct yoc_error *e)
{
	struct yoc_segw *w = lf->w;
	int rc = YOC_OK;
	for (size_t c = 0; c < lf->ncols && !rc; c++) {
		const struct yoc__val *v = &vals[c];
		struct yoc__colinfo *ci = &lf->cols[c];
		int nulled = v->action && v->action[0] == 'n';
		if (v->why) {
			ci->invalid++;
			if (yoc__lf_hold(lf, &lf->flags, line, ci->name, v->p, v->n > 2000 ? 2000 : v->n,
					 v->why, v->action, strlen(v->action)))
				return yoc_error_set(e, YOC_ENOMEM, lf->res.file, line, 0,
						     "out of memory");
		}
		if (v->n == 0 || nulled)
			ci->empty++;
		else
			ci->filled++;
		if (ci->count && v->n && !nulled)
			if ((rc = yoc__freq_count(ci->count, v->p, v->n, &ci->freq_other)))
				break;
		switch (ci->segtype) {
		case YOC_COL_TEXT:
			rc = nulled ? yoc_segw_text(w, c, "", 0) : yoc_segw_text(w, c, v->p, v->n);
			break;
		case YOC_COL_DATE:
			rc = yoc_segw_i32(w, c, v->n == 0 ? YOC_DATE_NONE : (int32_t)v->i);
			break;
		default:
			rc = yoc_segw_i64(w, c, v->n == 0 ? YOC_INT_NONE : v->i);
			break;
		}
	}
	if (!rc)
		rc = yoc_segw_i64(w, lf->ncols, line);
	if (!rc)
		rc = yoc_segw_row_end(w);
	if (!rc && lf->c_status >= 0) {
		const struct yoc__val *v = &vals[lf->c_status];
		rc = yoc__freq_count(&lf->status, v->n ? v->p : "(empty)", v->n ? v->n : 7,
				     &lf->cols[lf->c_status].freq_other);
	} else if (!rc && lf->c_person >= 0) {
		int has = vals[lf->c_person].n && !(vals[lf->c_person].action &&
						    vals[lf->c_person].action[0] == 'n');
		rc = yoc__freq_count(&lf->status, has ? "pseudonym" : "missing", has ? 9 : 7,
				     &lf->cols[lf->c_person].freq_other);
	}
	if (rc == YOC_ENOMEM || rc == YOC_ETOOBIG)
		return yoc_error_set(e, rc, lf->res.file, line, 0, "out of memory building segment");
	return rc;
}

/*
** The selection engine's query path: the tool's filters evaluated as word
** operations over bitmaps built once per load (per category, per
** condition, per cohort; "value >= l" for whole-number columns, with the
** largest values also kept sorted for thresholds past the bitmaps; the rows
** of each practice), then the group's figures summed over packed rows of
** one cache line a person (and the next line: the monthly figures), and an
** answer cache keyed by the normalised filter. The rows are kept in an
** order that follows the common filters (sex, age band, conditions count,
** band, IMD decile, tier, age), with running sums per block of 64 rows, so
** a run of selected blocks adds as one difference and only partial blocks
** are summed row by row; each condition's rows, and the rows of each
** level of the activity columns, have blocks of their own for groups
** inside one condition or a few, or inside an activity threshold; a group
** of more than half the people is the population minus the rest.
**
** Must not: change what a filter means (each index gives exactly the rows
** the filter's rule text selects, NULLs included: a NULL value passes no
** comparison), or publish anything (srv_data.c applies the disclosure
** control to the sums made here).
*/
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "server/srv_int.h"
#include "yoc/io.h"

#define AGE_LEVELS 131 /* ages 0-130, the filter's range */
#define CACHE_SLOTS 256
#define CACHE_MAX_VALUE (256 * 1024)

/*
** The bits set in x: one instruction where the build targets it (-mpopcnt,
** see the Makefile), else a few register operations rather than the
** compiler's library call.
*/
static inline int pop64(uint64_t x)
{
#ifdef __POPCNT__
	return __builtin_popcountll(x);
#else
	x = x - ((x >> 1) & UINT64_C(0x5555555555555555));
	x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
	x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
	return (int)((x * UINT64_C(0x0101010101010101)) >> 56);
#endif
}

static void bit_set(uint64_t *bm, size_t i)
{
	bm[i >> 6] |= UINT64_C(1) << (i & 63);
}

static void bit_clear(uint64_t *bm, size_t i)
{
	bm[i >> 6] &= ~(UINT64_C(1) << (i & 63));
}

static int bit_get(const uint64_t *bm, size_t i)
{
	return (int)((bm[i >> 6] >> (i & 63)) & 1);
}

/*
** n bytes, zeroed, on 2 MiB boundaries and marked for huge pages: a group's
** rows are far apart, and with 4 KiB pages nearly every one would also miss
** the TLB. *base is what to yoc_free.
*/
static void *huge_alloc(size_t n, void **base)
{
	const size_t H = (size_t)2 << 20;
	char *b = yoc_malloc(n + H);
	*base = b;
	if (!b)
		return NULL;
	char *p = (char *)(((uintptr_t)b + H - 1) & ~(uintptr_t)(H - 1));
#ifdef MADV_HUGEPAGE
	madvise(p, n, MADV_HUGEPAGE); /* advice only: without it the rows still work */
#endif
	memset(p, 0, n);
	return p;
}

int yoc__sel_months_alloc(yoc_sel *s)
{
	s->has_months = 1; /* the rows' month lines are zero from the start */
	return 0;
}

/* ---- numeric columns ---- */

struct tail_pair { double v; uint32_t row; };

static int tail_cmp(const void *a, const void *b)
{
	const struct tail_pair *x = a, *y = b;
	if (x->v != y->v)
		return x->v > y->v ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

/*
** Index of column c with at most cap levels. Columns with a value that is
** not a whole number from 0 to 2^31 get no index (ok 0): their filters go
** through the rule module.
*/
static int numidx_build(const yoc_sel *s, const struct numcol *c, int cap, struct numidx *x)
{
	size_t n = s->n, W = s->words;
	double maxv = 0;
	memset(x, 0, sizeof *x);
	for (size_t i = 0; i < n; i++) {
		if (c->null[i])
			continue;
		double v = c->v[i];
		if (!(v >= 0 && v < 2147483648.0) || v != (double)(int64_t)v)
			return 0;
		if (v > maxv)
			maxv = v;
	}
	x->nlev = maxv + 1 < cap ? (int)maxv + 1 : cap;
	x->nonnull = yoc_calloc(W, 8);
	x->ge = yoc_calloc(W * (size_t)x->nlev, 8);
	if (!x->nonnull || !x->ge)
		return YOC_ENOMEM;
	/* the frame's rows in its order (the columns are read in sequence), set
	 * at their engine rows (the bitmaps fit the cache) */
	for (size_t f = 0; f < n; f++) {
		if (c->null[f])
			continue;
		size_t i = s->inv[f];
		int l = c->v[f] >= x->nlev - 1 ? x->nlev - 1 : (int)c->v[f];
		bit_set(x->nonnull, i);
		bit_set(x->ge + W * (size_t)l, i);
	}
	for (int l = x->nlev - 2; l >= 0; l--) {
		uint64_t *a = x->ge + W * (size_t)l;
		const uint64_t *b = a + W;
		for (size_t w = 0; w < W; w++)
			a[w] |= b[w];
	}
	const uint64_t *top = x->ge + W * (size_t)(x->nlev - 1);
	for (size_t w = 0; w < W; w++)
		x->ntail += (size_t)pop64(top[w]);
	struct tail_pair *tp = yoc_malloc(sizeof *tp * (x->ntail ? x->ntail : 1));
	x->tail_row = yoc_malloc(sizeof *x->tail_row * (x->ntail ? x->ntail : 1));
	x->tail_v = yoc_malloc(sizeof *x->tail_v * (x->ntail ? x->ntail : 1));
	if (!tp || !x->tail_row || !x->tail_v) {
		yoc_free(tp);
		return YOC_ENOMEM;
	}
	size_t k = 0;
	for (size_t w = 0; w < W; w++)
		for (uint64_t b = top[w]; b; b &= b - 1) {
			size_t i = w * 64 + (size_t)__builtin_ctzll(b);
			tp[k].v = c->v[s->perm[i]];
			tp[k++].row = (uint32_t)i;
		}
	qsort(tp, x->ntail, sizeof *tp, tail_cmp);
	for (k = 0; k < x->ntail; k++) {
		x->tail_row[k] = tp[k].row;
		x->tail_v[k] = tp[k].v;
	}
	yoc_free(tp);
	x->ok = 1;
	return 0;
}

/* The last l < n with bound[l] <= v (bound increasing; 0 if none). */
static int last_bound(const double *bound, int n, double v)
{
	int lo = 0, hi = n - 1;
	while (lo < hi) {
		int mid = (lo + hi + 1) / 2;
		if (bound[mid] <= v)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* How many of x's tail (values descending) are >= t. */
static size_t tail_count(const struct numidx *x, double t)
{
	size_t lo = 0, hi = x->ntail;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (x->tail_v[mid] >= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/*
** Column c in at most cap buckets of about as many rows each: bound[l] is
** the value at the l-th cap-quantile of the column's values (the least for
** l = 0, repeated values merged, so some buckets hold more), ge[l] the
** rows whose value is at least bound[l]. For the level lists only: the
** filters use the exact index.
*/
static int numidx_buckets(const yoc_sel *s, const struct numcol *c, int cap, struct numidx *x)
{
	size_t n = s->n, W = s->words, m = 0;
	memset(x, 0, sizeof *x);
	double *v = yoc_malloc(sizeof *v * (n ? n : 1));
	x->bound = yoc_malloc(sizeof *x->bound * (size_t)cap);
	x->nonnull = yoc_calloc(W, 8);
	if (!v || !x->bound || !x->nonnull) {
		yoc_free(v);
		return YOC_ENOMEM;
	}
	for (size_t f = 0; f < n; f++)
		if (!c->null[f] && c->v[f] == c->v[f])
			v[m++] = c->v[f];
	if (m == 0) {
		yoc_free(v);
		return 0;
	}
	qsort(v, m, sizeof *v, dbl_cmp);
	x->bound[0] = v[0];
	x->nlev = 1;
	for (int l = 1; l < cap; l++) {
		double b = v[m * (size_t)l / (size_t)cap];
		if (b > x->bound[x->nlev - 1])
			x->bound[x->nlev++] = b;
	}
	yoc_free(v);
	if (!(x->ge = yoc_calloc(W * (size_t)x->nlev, 8)))
		return YOC_ENOMEM;
	for (size_t f = 0; f < n; f++) {
		if (c->null[f] || c->v[f] != c->v[f])
			continue;
		int lo = last_bound(x->bound, x->nlev, c->v[f]);
		bit_set(x->nonnull, s->inv[f]);
		bit_set(x->ge + W * (size_t)lo, s->inv[f]);
	}
	for (int l = x->nlev - 2; l >= 0; l--)
		for (size_t w = 0; w < W; w++)
			x->ge[W * (size_t)l + w] |= x->ge[W * (size_t)(l + 1) + w];
	x->ok = 1;
	return 0;
}

static void numidx_free(struct numidx *x)
{
	yoc_free(x->bound);
	yoc_free(x->nonnull);
	yoc_free(x->ge);
	yoc_free(x->tail_row);
	yoc_free(x->tail_v);
	memset(x, 0, sizeof *x);
}

/* out = the rows whose value is >= t (NULL: never). */
static void num_ge(const yoc_sel *s, const struct numidx *x, double t, uint64_t *out)
{
	size_t W = s->words;
	if (t <= 0) {
		memcpy(out, x->nonnull, 8 * W);
		return;
	}
	if (t < x->nlev && t == (double)(int64_t)t) {
		memcpy(out, x->ge + W * (size_t)t, 8 * W);
		return;
	}
	/* past the levels: the tail's first k rows (values descending) */
	size_t k = tail_count(x, t);
	if (k <= x->ntail / 2) {
		memset(out, 0, 8 * W);
		for (size_t j = 0; j < k; j++)
			bit_set(out, x->tail_row[j]);
	} else {
		memcpy(out, x->ge + W * (size_t)(x->nlev - 1), 8 * W);
		for (size_t j = k; j < x->ntail; j++)
			bit_clear(out, x->tail_row[j]);
	}
}

static void and_into(uint64_t *bm, const uint64_t *x, size_t W)
{
	for (size_t w = 0; w < W; w++)
		bm[w] &= x[w];
}

/* bm &= value >= t */
/*
** out = the rows whose cost is >= t: the cost bucket holding t and those
** above it (ix_costb), less that bucket's rows below t, which are a run of
** the exact index's tail (every cost, descending), so only they are
** touched and not the rows of every bucket below.
*/
static void cost_ge(const yoc_sel *s, double t, uint64_t *out)
{
	const struct numidx *b = &s->ix_costb, *x = &s->ix_cost;
	if (!b->ok || x->nlev != 1 || !(t > b->bound[0])) {
		num_ge(s, x, t, out);
		return;
	}
	int l = last_bound(b->bound, b->nlev, t);
	/* tail positions [k, k2): values in [bound[l], t) */
	size_t k = tail_count(x, t), k2 = tail_count(x, b->bound[l]);
	memcpy(out, b->ge + s->words * (size_t)l, 8 * s->words);
	for (size_t j = k; j < k2; j++)
		bit_clear(out, x->tail_row[j]);
}

static void and_ge(const yoc_sel *s, const struct numidx *x, double t, uint64_t *bm,
		   uint64_t *tmp)
{
	num_ge(s, x, t, tmp);
	and_into(bm, tmp, s->words);
}

/* bm &= value <= t (not NULL) */
static void and_le(const yoc_sel *s, const struct numidx *x, double t, uint64_t *bm,
		   uint64_t *tmp)
{
	num_ge(s, x, t + 1, tmp);
	for (size_t w = 0; w < s->words; w++)
		bm[w] &= x->nonnull[w] & ~tmp[w];
}

/* ---- categories ---- */

static uint64_t *cat_bitmaps(const yoc_sel *s, const struct txtcol *c, const int32_t *codes,
			     size_t nc)
{
	uint64_t *bm = yoc_calloc(s->words * (nc ? nc : 1), 8);
	if (!bm)
		return NULL;
	for (size_t f = 0; f < s->n; f++) {
		if (c->null[f])
			continue;
		for (size_t k = 0; k < nc; k++)
			if (codes[k] == c->v[f]) {
				bit_set(bm + s->words * k, s->inv[f]);
				break;
			}
	}
	return bm;
}

/* bm &= rows of the categories in mask */
static void and_cats(const yoc_sel *s, const uint64_t *cbm, size_t nc, uint32_t mask,
		     uint64_t *bm)
{
	size_t W = s->words;
	for (size_t w = 0; w < W; w++) {
		uint64_t any = 0;
		for (size_t k = 0; k < nc; k++)
			if (mask >> k & 1)
				any |= cbm[W * k + w];
		bm[w] &= any;
	}
}

int yoc__sel_practice_index(const yoc_sel *s, int32_t c)
{
	size_t lo = 0, hi = s->npractices;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->practices[mid] == c)
			return (int)mid;
		if (s->practices[mid] < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* bm &= rows of the practices listed (indexes into s->practices) */
static void and_practices(const yoc_sel *s, const int32_t *pi, size_t np, uint64_t *bm,
			  uint64_t *tmp)
{
	memset(tmp, 0, 8 * s->words);
	for (size_t j = 0; j < np; j++) {
		if (pi[j] < 0)
			continue;
		for (uint32_t r = s->prac_start[pi[j]]; r < s->prac_start[pi[j] + 1]; r++)
			bit_set(tmp, s->prac_rows[r]);
	}
	and_into(bm, tmp, s->words);
}

void yoc__sel_practice_mask(const yoc_sel *s, int32_t code, uint64_t *bm)
{
	int32_t k = code < 0 ? -1 : yoc__sel_practice_index(s, code);
	uint64_t *tmp = yoc_malloc(8 * s->words);
	if (!tmp) {
		/* no memory for the mask: select nobody rather than too many */
		memset(bm, 0, 8 * s->words);
		return;
	}
	and_practices(s, &k, 1, bm, tmp);
	yoc_free(tmp);
}

/* ---- the filters ---- */

void yoc__sel_filter_eval(const yoc_sel *s, const struct sel_filter *f, uint64_t *bm)
{
	size_t W = s->words;
	uint64_t *tmp = yoc_malloc(8 * W);
	if (!tmp) {
		memset(bm, 0, 8 * W);
		return;
	}
	if (f->age_lo >= 0)
		and_ge(s, &s->ix_age, f->age_lo, bm, tmp);
	if (f->age_hi >= 0)
		and_le(s, &s->ix_age, f->age_hi, bm, tmp);
	if (f->lc_lo >= 0)
		and_ge(s, &s->ix_lc, f->lc_lo, bm, tmp);
	if (f->lc_hi >= 0)
		and_le(s, &s->ix_lc, f->lc_hi, bm, tmp);
	if (f->emerg_min >= 0)
		and_ge(s, &s->ix_emerg, (double)f->emerg_min, bm, tmp);
	if (f->bed_min >= 0)
		and_ge(s, &s->ix_bed, (double)f->bed_min, bm, tmp);
	if (f->cost_min >= 0) {
		cost_ge(s, (double)f->cost_min, tmp);
		and_into(bm, tmp, s->words);
	}
	if (f->has_sex)
		and_cats(s, s->sex_bm, s->nsexes, f->sex, bm);
	if (f->has_band)
		and_cats(s, s->band_bm, s->nbands, f->band, bm);
	if (f->has_tier)
		and_cats(s, s->tier_bm, s->ntiers, f->tier, bm);
	if (f->imd) {
		/* decile d: imd >= d and not imd >= d + 1 */
		uint64_t *t2 = yoc_malloc(8 * W), *any = yoc_calloc(W, 8);
		if (!t2 || !any) {
			memset(bm, 0, 8 * W);
		} else {
			for (int d = 1; d <= 10; d++) {
				if (!(f->imd >> d & 1))
					continue;
				num_ge(s, &s->ix_imd, d, tmp);
				num_ge(s, &s->ix_imd, d + 1, t2);
				for (size_t w = 0; w < W; w++)
					any[w] |= tmp[w] & ~t2[w];
			}
			and_into(bm, any, W);
		}
		yoc_free(t2);
		yoc_free(any);
	}
	if (f->ltc) {
		for (size_t w = 0; w < W; w++) {
			uint64_t x = f->ltc_or ? 0 : ~UINT64_C(0);
			for (uint32_t m = f->ltc; m; m &= m - 1) {
				const uint64_t *c = s->ltc_bm + W * (size_t)__builtin_ctz(m);
				x = f->ltc_or ? x | c[w] : x & c[w];
			}
			bm[w] &= x;
		}
	}
	if (f->has_cohort) {
		for (size_t w = 0; w < W; w++) {
			uint64_t x = 0;
			for (uint64_t m = f->cohort; m; m &= m - 1)
				x |= s->cohort_bm[W * (size_t)__builtin_ctzll(m) + w];
			bm[w] &= x;
		}
	}
	if (f->has_prac)
		and_practices(s, f->prac, f->nprac, bm, tmp);
	yoc_free(tmp);
}

/* ---- packed rows ---- */

static int age_band(double a)
{
	int b = (int)(a / 5);
	return b < 0 ? 0 : b >= NAGE ? NAGE - 1 : b;
}

static int cat_index(const int32_t *codes, size_t n, int32_t c)
{
	for (size_t i = 0; i < n; i++)
		if (codes[i] == c)
			return (int)i;
	return -1;
}

/* The wide row of row (made, figures 0, if the row is not yet wide). */
static struct wide *wide_of(yoc_sel *s, uint32_t row, size_t *cap)
{
	if (s->rows[row].c.flags & 2)
		for (size_t k = s->nwide; k-- > 0;)
			if (s->wide[k].row == row)
				return &s->wide[k];
	if (s->nwide == *cap) {
		size_t nc = *cap ? 2 * *cap : 16;
		struct wide *nw = yoc_realloc(s->wide, nc * sizeof *nw);
		if (!nw)
			return NULL;
		s->wide = nw;
		*cap = nc;
	}
	struct wide *w = &s->wide[s->nwide++];
	memset(w, 0, sizeof *w);
	w->row = row;
	s->rows[row].c.flags |= 2;
	return w;
}

/*
** Row i's activity and money (frame row f): packed when every value fits,
** else a wide row.
*/
static int pack_row(yoc_sel *s, size_t i, size_t f, size_t *wcap)
{
	struct crow *r = &s->rows[i].c;
	int64_t act[NACT], mo[ROW_MONEY] = {0};
	int fits = 1;
	for (int q = 0; q < NACT; q++) {
		act[q] = s->act_col[q].null[f] ? 0 : (int64_t)s->act_col[q].v[f];
		fits &= act[q] >= 0 && act[q] <= UINT16_MAX;
	}
	mo[0] = s->cost_total.null[f] ? 0 : (int64_t)s->cost_total.v[f];
	for (size_t q = 0; q < s->nset; q++)
		mo[1 + q] = s->set[q].null[f] ? 0 : (int64_t)s->set[q].v[f];
	for (int q = 0; q < ROW_MONEY; q++)
		fits &= mo[q] >= 0 && mo[q] <= UINT32_MAX;
	if (fits) {
		for (int q = 0; q < NACT; q++)
			r->act[q] = (uint16_t)act[q];
		for (int q = 0; q < ROW_MONEY; q++)
			r->money[q] = (uint32_t)mo[q];
		return 0;
	}
	struct wide *w = wide_of(s, (uint32_t)i, wcap);
	if (!w)
		return YOC_ENOMEM;
	memcpy(w->act, act, sizeof act);
	memcpy(w->money, mo, sizeof mo);
	return 0;
}

static int pack_rows(yoc_sel *s, size_t *wcap)
{
	for (size_t f = 0; f < s->n; f++) {
		size_t i = s->inv[f];
		struct crow *r = &s->rows[i].c;
		memset(r, 0, sizeof *r);
		r->key = s->key[f];
		int sx = s->sex.null[f] ? -1 : s->sex.v[f] == s->male ? 0 : s->sex.v[f] == s->female ? 1 : -1;
		r->pyr = s->age.null[f] || sx < 0 ? 255 : (uint8_t)(age_band(s->age.v[f]) * 2 + sx);
		int b = s->band.null[f] ? -1 : cat_index(s->bands, s->nbands, s->band.v[f]);
		r->band = b < 0 ? 255 : (uint8_t)b;
		if (b < 0 && !s->band.null[f])
			s->cats_unindexed = 1; /* more than MAX_CAT bands */
		b = !s->has_tier || s->tier.null[f] ? -1 : cat_index(s->tiers, s->ntiers, s->tier.v[f]);
		r->tier = b < 0 ? 255 : (uint8_t)b;
		if (b < 0 && s->has_tier && !s->tier.null[f])
			s->cats_unindexed = 1;
		r->flags = !s->act_col[0].null[f] && s->act_col[0].v[f] >= 1;
		for (size_t k = 0; k < s->nltc && k < 32; k++)
			if (!s->ltc[k].null[f] && s->ltc[k].v[f] != 0)
				r->ltc |= UINT32_C(1) << k;
		if (pack_row(s, i, f, wcap))
			return YOC_ENOMEM;
	}
	return 0;
}

int yoc__sel_months_put(yoc_sel *s, size_t f, const int64_t cost[NMONTH],
			const int64_t emerg[NMONTH], size_t *wcap)
{
	size_t i = s->inv[f];
	struct mrow *m = &s->rows[i].m;
	int fits = 1;
	s->rows[i].c.mbits = 0;
	for (int k = 0; k < NMONTH; k++) {
		fits &= cost[k] >= 0 && cost[k] <= UINT32_MAX && emerg[k] >= 0 && emerg[k] <= UINT8_MAX;
		if (emerg[k] > 0)
			s->rows[i].c.mbits |= (uint16_t)(1u << k);
	}
	if (fits) {
		for (int k = 0; k < NMONTH; k++) {
			m->cost[k] = (uint32_t)cost[k];
			m->emerg[k] = (uint8_t)emerg[k];
			if (cost[k] || emerg[k])
				s->rows[i].c.flags |= 4;
		}
		return 0;
	}
	memset(m, 0, sizeof *m);
	int was_wide = s->rows[i].c.flags & 2;
	struct wide *w = wide_of(s, (uint32_t)i, wcap);
	if (!w)
		return YOC_ENOMEM;
	if (!was_wide) {
		/* the row's other figures were packed: move them to the wide row */
		for (int q = 0; q < NACT; q++)
			w->act[q] = s->rows[i].c.act[q];
		for (int q = 0; q < ROW_MONEY; q++)
			w->money[q] = s->rows[i].c.money[q];
		memset(s->rows[i].c.act, 0, sizeof s->rows[i].c.act);
		memset(s->rows[i].c.money, 0, sizeof s->rows[i].c.money);
	}
	memcpy(w->mcost, cost, sizeof w->mcost);
	memcpy(w->memerg, emerg, sizeof w->memerg);
	return 0;
}

/* ---- sums ---- */

#define CHUNK 512
#define PARALLEL_ROWS 100000 /* rows summed on two threads from this many */
#define BLOCK_WORDS 1 /* a pre-summed block: 64 rows */
#define LIST_WALK 20000 /* a walk this long tries a condition's rows */
#define AHEAD 24 /* rows prefetched ahead: the rows are apart, so the hardware does not */

/*
** Adds the packed figures of rows idx[0..m) (increasing) to a. The sums are
** kept in locals (the packed bytes could alias a's fields otherwise) and
** each row's lines are fetched AHEAD rows before they are read.
*/
static void add_rows(const yoc_sel *s, struct agg *a, const uint32_t *idx, size_t m)
{
	const struct prow *rows = s->rows;
	struct agg x = *a;
	for (size_t j = 0; j < m; j++) {
		if (j + AHEAD < m) {
			const char *ahead = (const char *)&rows[idx[j + AHEAD]];
			__builtin_prefetch(ahead);
			__builtin_prefetch(ahead + 64);
		}
		size_t i = idx[j];
		const struct crow *r = &rows[i].c;
		int64_t k = r->key;
		x.ck += k;
		if (r->pyr != 255) {
			x.pyr[r->pyr]++;
			x.pyr_ck[r->pyr] += k;
		}
		if (r->band != 255) {
			x.band[r->band]++;
			x.band_ck[r->band] += k;
		}
		if (r->tier != 255) {
			x.tier[r->tier]++;
			x.tier_ck[r->tier] += k;
		}
		if (r->flags & 1) {
			x.emerg_people++;
			x.emerg_ck += k;
		}
		for (uint32_t c = r->ltc; c; c &= c - 1) {
			int l = __builtin_ctz(c);
			x.ltc[l]++;
			x.ltc_ck[l] += k;
		}
		for (int q = 0; q < NACT; q++)
			x.act[q] += r->act[q];
		x.cost_total += r->money[0];
		for (int q = 0; q < ROW_MONEY - 1; q++)
			x.cost[q] += r->money[1 + q];
		if (r->flags & 4) {
			const struct mrow *mo = &rows[i].m;
			for (int q = 0; q < NMONTH; q++) {
				x.mcost[q] += mo->cost[q];
				x.memerg[q] += mo->emerg[q];
			}
			for (unsigned c = r->mbits; c; c &= c - 1) {
				int q = __builtin_ctz(c);
				x.mpeople[q]++;
				x.mpeople_ck[q] += k;
			}
		}
	}
	x.n += (int64_t)m;
	*a = x;
}

/* Adds the rows of words [w0, w1) of bitmap bm (complemented within s->valid if comp) to a. */
static void add_bitmap(const yoc_sel *s, struct agg *a, const uint64_t *bm, int comp, size_t w0,
		       size_t w1)
{
	uint32_t idx[CHUNK + 64];
	size_t m = 0;
	for (size_t w = w0; w < w1; w++) {
		uint64_t b = comp ? ~bm[w] & s->valid[w] : bm[w];
		for (; b; b &= b - 1)
			idx[m++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(b));
		if (m >= CHUNK) {
			add_rows(s, a, idx, m);
			m = 0;
		}
	}
	add_rows(s, a, idx, m);
}

static void add_wide(struct agg *a, const struct wide *w)
{
	for (int q = 0; q < NACT; q++)
		a->act[q] += w->act[q];
	a->cost_total += w->money[0];
	for (int q = 0; q < ROW_MONEY - 1; q++)
		a->cost[q] += w->money[1 + q];
	for (int q = 0; q < NMONTH; q++) {
		a->mcost[q] += w->mcost[q];
		a->memerg[q] += w->memerg[q];
	}
}

/* a += b, a -= b, field by field (struct agg is all int64_t) */
static void agg_add(struct agg *a, const struct agg *b)
{
	int64_t *x = (int64_t *)a;
	const int64_t *y = (const int64_t *)b;
	for (size_t k = 0; k < sizeof *a / sizeof(int64_t); k++)
		x[k] += y[k];
}

static void agg_sub(struct agg *a, const struct agg *b)
{
	int64_t *x = (int64_t *)a;
	const int64_t *y = (const int64_t *)b;
	for (size_t k = 0; k < sizeof *a / sizeof(int64_t); k++)
		x[k] -= y[k];
}

/* ---- pre-summed blocks ---- */

/* The int64 fields of struct agg that a packed row can make non-zero. */
static size_t agg_fields(const yoc_sel *s, uint16_t *pf)
{
	struct agg a;
	size_t nf = 0;
#define F(x) (pf[nf++] = (uint16_t)((const int64_t *)&(x) - (const int64_t *)&a))
	F(a.n);
	F(a.ck);
	for (int k = 0; k < NAGE * 2; k++) {
		F(a.pyr[k]);
		F(a.pyr_ck[k]);
	}
	for (size_t k = 0; k < s->nltc && k < MAX_LTC; k++) {
		F(a.ltc[k]);
		F(a.ltc_ck[k]);
	}
	for (size_t k = 0; k < s->nbands; k++) {
		F(a.band[k]);
		F(a.band_ck[k]);
	}
	for (size_t k = 0; k < s->ntiers; k++) {
		F(a.tier[k]);
		F(a.tier_ck[k]);
	}
	for (int q = 0; q < NACT; q++)
		F(a.act[q]);
	F(a.emerg_people);
	F(a.emerg_ck);
	F(a.cost_total);
	for (size_t q = 0; q < s->nset; q++)
		F(a.cost[q]);
	if (s->has_months)
		for (int m = 0; m < NMONTH; m++) {
			F(a.mcost[m]);
			F(a.memerg[m]);
			F(a.mpeople[m]);
			F(a.mpeople_ck[m]);
		}
#undef F
	return nf;
}

/*
** A space the blocks are laid over: the engine's rows (map NULL), or the
** rows of one condition, position j being engine row map[j] (increasing).
** valid: the positions that exist; pre: the running sums of its blocks.
*/
struct space {
	const int64_t *pre;
	const uint64_t *valid;
	const uint32_t *map;
	size_t words, nblocks;
};

static struct space engine_space(const yoc_sel *s)
{
	struct space sp = { s->pre, s->valid, NULL, s->words, s->nblocks };
	return sp;
}

/* The running sums of every block of sp (nblocks + 1 rows of s->nf). */
static int64_t *presums(const yoc_sel *s, const struct space *sp)
{
	int64_t *pre = yoc_malloc(sizeof *pre * s->nf * (sp->nblocks + 1));
	struct agg *x = yoc_calloc(1, sizeof *x);
	uint32_t idx[64];
	if (!pre || !x) {
		yoc_free(pre);
		yoc_free(x);
		return NULL;
	}
	for (size_t b = 0; b <= sp->nblocks; b++) {
		const int64_t *v = (const int64_t *)x;
		int64_t *p = pre + b * s->nf;
		for (size_t f = 0; f < s->nf; f++)
			p[f] = v[s->pf[f]];
		size_t w1 = (b + 1) * s->bwords < sp->words ? (b + 1) * s->bwords : sp->words;
		for (size_t w = b * s->bwords; b < sp->nblocks && w < w1; w++) {
			size_t m = 0;
			for (uint64_t y = sp->valid[w]; y; y &= y - 1) {
				size_t j = w * 64 + (size_t)__builtin_ctzll(y);
				idx[m++] = sp->map ? sp->map[j] : (uint32_t)j;
			}
			add_rows(s, x, idx, m);
		}
	}
	yoc_free(x);
	return pre;
}

/* The space of list L's positions. */
static struct space list_space(const yoc_sel *s, const struct rowlist *L)
{
	struct space sp = { L->pre, L->valid, L->row, L->words,
			    (L->words + s->bwords - 1) / s->bwords };
	return sp;
}

static void list_free(struct rowlist *L)
{
	yoc_free(L->row);
	yoc_free(L->pre);
	yoc_free(L->valid);
	memset(L, 0, sizeof *L);
}

static void lists_free(yoc_sel *s)
{
	for (size_t k = 0; k < s->nlist; k++)
		list_free(&s->cond[k]);
	s->nlist = 0;
	for (int c = 0; c < NLVCOL; c++)
		for (int l = 0; l < SMALL_LEVELS; l++)
			list_free(&s->lv[c][l]);
	yoc_free(s->any_ltc);
	s->any_ltc = NULL;
}

/* L = the rows of c that are not in out (NULL: none), with their blocks. YOC_ENOMEM. */
static int list_build(const yoc_sel *s, struct rowlist *L, const uint64_t *c, const uint64_t *out)
{
	size_t n = 0;
	for (size_t w = 0; w < s->words; w++)
		n += (size_t)pop64(c[w] & ~(out ? out[w] : 0));
	L->num = n;
	L->words = n / 64 + 1;
	L->row = yoc_malloc(sizeof *L->row * (n ? n : 1));
	L->valid = yoc_calloc(L->words, 8);
	if (!L->row || !L->valid)
		return YOC_ENOMEM;
	n = 0;
	for (size_t w = 0; w < s->words; w++)
		for (uint64_t y = c[w] & ~(out ? out[w] : 0); y; y &= y - 1)
			L->row[n++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(y));
	for (size_t j = 0; j < n; j++)
		bit_set(L->valid, j);
	struct space sp = list_space(s, L);
	return (L->pre = presums(s, &sp)) ? 0 : YOC_ENOMEM;
}

/* The index whose levels are lists c (0: emergency admissions, 1: bed days, 2: cost). */
static const struct numidx *lv_index(const yoc_sel *s, int c)
{
	const struct numidx *x[NLVCOL] = { &s->ix_emerg, &s->ix_bed, &s->ix_costb, &s->ix_costb };
	return x[c];
}

/*
** The levels of set c: level l's list and its bitmaps (ge[l] less ge[l +
** *step]). Set 3 is cost's coarse buckets from each multiple of COARSE,
** and below the first one at or above l, the fine buckets of set 2.
*/
static const struct rowlist *lv_level(const yoc_sel *s, int c, int l, int *step)
{
	if (c == 3 && l % COARSE != 0) {
		*step = 1;
		return &s->lv[2][l];
	}
	*step = c == 3 ? COARSE : 1;
	return &s->lv[c][l];
}

/* ge[l] and the bitmap of the level after the one from l (NULL: none), of set c */
static const uint64_t *lv_next(const yoc_sel *s, const struct numidx *x, int l, int step)
{
	return l + step < x->nlev ? x->ge + s->words * (size_t)(l + step) : NULL;
}

int yoc__sel_blocks_build(yoc_sel *s, size_t bwords)
{
	size_t W = s->words;
	yoc_free(s->pre);
	yoc_free(s->pf);
	lists_free(s);
	s->pre = NULL;
	s->pf = NULL;
	s->bwords = bwords ? bwords : 1;
	s->nblocks = (W + s->bwords - 1) / s->bwords;
	s->pf = yoc_malloc(sizeof *s->pf * (sizeof(struct agg) / sizeof(int64_t)));
	if (!s->pf)
		return YOC_ENOMEM;
	s->nf = agg_fields(s, s->pf);
	/* the conditions' rows, each with its own blocks */
	for (size_t k = 0; k < s->nltc && k < MAX_LTC; k++) {
		s->nlist = k + 1;
		if (list_build(s, &s->cond[k], s->ltc_bm + W * k, NULL))
			return YOC_ENOMEM;
	}
	if (!(s->any_ltc = yoc_calloc(W, 8)))
		return YOC_ENOMEM;
	for (size_t k = 0; k < s->nlist; k++)
		for (size_t w = 0; w < W; w++)
			s->any_ltc[w] |= s->ltc_bm[W * k + w];
	/* the activity columns' levels from 1 up: ge[l] without ge[l + 1] */
	for (int c = 0; c < NLVCOL; c++) {
		const struct numidx *x = lv_index(s, c);
		int step = c == 3 ? COARSE : 1;
		for (int l = step; x->ok && l < x->nlev; l += step)
			if (list_build(s, &s->lv[c][l], x->ge + W * (size_t)l, lv_next(s, x, l, step)))
				return YOC_ENOMEM;
	}
	struct space sp = engine_space(s);
	return (s->pre = presums(s, &sp)) ? 0 : YOC_ENOMEM;
}

/* a += the packed sums of blocks [b0, b1): one difference of the pre-sums */
static void add_presum(const yoc_sel *s, const struct space *sp, struct agg *a, size_t b0,
		       size_t b1)
{
	int64_t *x = (int64_t *)a;
	const int64_t *p0 = sp->pre + b0 * s->nf, *p1 = sp->pre + b1 * s->nf;
	for (size_t f = 0; f < s->nf; f++)
		x[s->pf[f]] += p1[f] - p0[f];
}

/* Selected and valid positions of block b (complemented within valid if comp). */
static void block_count(const yoc_sel *s, const struct space *sp, const uint64_t *bm, int comp,
			size_t b, int *c, int *v)
{
	size_t w0 = b * s->bwords, w1 = w0 + s->bwords < sp->words ? w0 + s->bwords : sp->words;
	*c = *v = 0;
	for (size_t w = w0; w < w1; w++) {
		/* empty and whole words, the common ones, need no count (without
		 * -mpopcnt a count is a library call) */
		uint64_t vw = sp->valid[w], x = comp ? ~bm[w] & vw : bm[w];
		int vc = vw == ~UINT64_C(0) ? 64 : pop64(vw);
		*v += vc;
		*c += x == 0 ? 0 : x == vw ? vc : pop64(x);
	}
}

/*
** Adds the positions of blocks [b0, b1) of bm (complemented within valid
** if comp) in space sp: a run of whole blocks as one difference of the
** pre-sums into plus; a partial block row by row, its selected rows into
** plus or, when more than half of it is selected, the block's pre-sum into
** plus and its other rows into minus. The result is plus - minus.
*/
static void add_blocks(const yoc_sel *s, const struct space *sp, struct agg *plus,
		       struct agg *minus, const uint64_t *bm, int comp, size_t b0, size_t b1)
{
	uint32_t ip[CHUNK + 64], im[CHUNK + 64];
	size_t np = 0, nm = 0, run = 0;
	int open = 0;
	for (size_t b = b0; b < b1; b++) {
		int c, v;
		block_count(s, sp, bm, comp, b, &c, &v);
		if (c == v) {
			if (!open)
				run = b;
			open = 1;
			continue;
		}
		if (open)
			add_presum(s, sp, plus, run, b);
		open = 0;
		if (c == 0)
			continue;
		int whole = 2 * c > v;
		if (whole)
			add_presum(s, sp, plus, b, b + 1);
		size_t w0 = b * s->bwords, w1 = w0 + s->bwords < sp->words ? w0 + s->bwords : sp->words;
		for (size_t w = w0; w < w1; w++) {
			uint64_t x = comp ? ~bm[w] & sp->valid[w] : bm[w];
			if (whole) {
				for (uint64_t y = sp->valid[w] & ~x; y; y &= y - 1) {
					size_t j = w * 64 + (size_t)__builtin_ctzll(y);
					im[nm++] = sp->map ? sp->map[j] : (uint32_t)j;
				}
				if (nm >= CHUNK) {
					add_rows(s, minus, im, nm);
					nm = 0;
				}
			} else {
				for (; x; x &= x - 1) {
					size_t j = w * 64 + (size_t)__builtin_ctzll(x);
					ip[np++] = sp->map ? sp->map[j] : (uint32_t)j;
				}
				if (np >= CHUNK) {
					add_rows(s, plus, ip, np);
					np = 0;
				}
			}
		}
	}
	if (open)
		add_presum(s, sp, plus, run, b1);
	add_rows(s, plus, ip, np);
	add_rows(s, minus, im, nm);
}

/*
** A piece of a group: the positions bm of space sp, blocks [b0, b1), walk
** its estimated rows walked; added, or subtracted if neg. A group is summed as one piece over the
** engine's rows, or as disjoint pieces over lists (conditions, levels).
*/
struct piece {
	struct space sp;
	const uint64_t *bm;
	int comp, neg; /* neg: the piece's sums are subtracted */
	size_t b0, b1, walk;
};

struct half {
	const yoc_sel *s;
	const struct piece *p;
	int np;
	struct agg plus, minus;
};

static void add_piece_set(const yoc_sel *s, const struct piece *p, int np, struct agg *plus,
			  struct agg *minus)
{
	for (int i = 0; i < np; i++)
		add_blocks(s, &p[i].sp, p[i].neg ? minus : plus, p[i].neg ? plus : minus, p[i].bm,
			   p[i].comp, p[i].b0, p[i].b1);
}

static void *half_run(void *arg)
{
	struct half *h = arg;
	add_piece_set(h->s, h->p, h->np, &h->plus, &h->minus);
	return NULL;
}

/*
** Sums the np pieces p into plus and minus. When they walk parallel_rows or
** more, the second half of the walk (by whole pieces, the piece across the
** middle cut at its middle block) is summed on a second thread: the walk
** waits on memory, and two cores fetch more. p is changed, and has room
** for np + 1 pieces.
*/
static void add_pieces(const yoc_sel *s, struct piece *p, int np, struct agg *plus,
		       struct agg *minus)
{
	size_t walk = 0, half = 0;
	int i = 0;
	for (int k = 0; k < np; k++)
		walk += p[k].walk;
	struct half *h = NULL;
	pthread_t tid;
	if (walk >= s->parallel_rows && s->ncpu > 1 && np > 0 && np <= SMALL_LEVELS &&
	    (h = yoc_calloc(1, sizeof *h)) != NULL) {
		while (i < np - 1 && half + p[i].walk <= walk / 2)
			half += p[i++].walk;
		/* piece i is cut: its first half here, the rest there */
		p[np] = p[i];
		p[np].b0 = p[i].b1 = p[i].b0 + (p[i].b1 - p[i].b0) / 2;
		h->s = s;
		h->p = p + i + 1;
		h->np = np - i; /* pieces i + 1 .. np - 1, then the cut half */
		if (pthread_create(&tid, NULL, half_run, h) != 0) {
			p[i].b1 = p[np].b1;
			yoc_free(h);
			h = NULL;
		}
	}
	add_piece_set(s, p, h ? i + 1 : np, plus, minus);
	if (h) {
		pthread_join(tid, NULL);
		agg_add(plus, &h->plus);
		agg_add(minus, &h->minus);
		yoc_free(h);
	}
}

struct bhalf {
	const yoc_sel *s;
	const uint64_t *bm;
	int comp;
	size_t w0, w1;
	struct agg a;
};

static void *bhalf_run(void *arg)
{
	struct bhalf *h = arg;
	add_bitmap(h->s, &h->a, h->bm, h->comp, h->w0, h->w1);
	return NULL;
}

/* Without blocks: every row of bm one by one, the second half of the words on a second thread. */
static void add_bitmap_halves(const yoc_sel *s, struct agg *a, const uint64_t *bm, int comp,
			      size_t walk)
{
	struct bhalf *h = NULL;
	pthread_t tid;
	size_t W = s->words;
	if (walk >= s->parallel_rows && s->ncpu > 1 && (h = yoc_calloc(1, sizeof *h)) != NULL) {
		*h = (struct bhalf){ s, bm, comp, W / 2, W, { 0 } };
		if (pthread_create(&tid, NULL, bhalf_run, h) != 0) {
			yoc_free(h);
			h = NULL;
		}
	}
	add_bitmap(s, a, bm, comp, 0, h ? W / 2 : W);
	if (h) {
		pthread_join(tid, NULL);
		agg_add(a, &h->a);
		yoc_free(h);
	}
}

void yoc__sel_aggregate_plain(const yoc_sel *s, const uint64_t *bm, struct agg *a)
{
	memset(a, 0, sizeof *a);
	add_bitmap(s, a, bm, 0, 0, s->words);
	for (size_t k = 0; k < s->nwide; k++)
		if (bit_get(bm, s->wide[k].row))
			add_wide(a, &s->wide[k]);
}

/* 1 when every row of bm is in c. */
static int inside(const uint64_t *bm, const uint64_t *c, size_t W)
{
	for (size_t w = 0; w < W; w++)
		if (bm[w] & ~c[w])
			return 0;
	return 1;
}

int yoc__sel_list_for(const yoc_sel *s, const uint64_t *bm)
{
	int best = -1;
	for (size_t k = 0; k < s->nlist; k++) {
		if (best >= 0 && s->cond[k].num >= s->cond[best].num)
			continue;
		if (inside(bm, s->ltc_bm + s->words * k, s->words))
			best = (int)k;
	}
	return best;
}

int yoc__sel_level_for(const yoc_sel *s, const uint64_t *bm, int c)
{
	const struct numidx *x = lv_index(s, c);
	size_t W = s->words;
	if (!s->pf || !x->ok || x->nlev < 2 || !inside(bm, x->ge + W, W))
		return 0;
	int lo = 1, hi = x->nlev - 1; /* inside level lo's "from" bitmap */
	while (lo < hi) {
		int mid = (lo + hi + 1) / 2;
		if (inside(bm, x->ge + W * (size_t)mid, W))
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* Walk estimate of bm in sp: at most half of each partial block; *m its positions. */
static size_t walk_of(const yoc_sel *s, const struct space *sp, const uint64_t *bm, size_t *m)
{
	size_t walk = 0;
	*m = 0;
	for (size_t b = 0; b < sp->nblocks; b++) {
		int c, v;
		block_count(s, sp, bm, 0, b, &c, &v);
		*m += (size_t)c;
		if (c && c < v)
			walk += (size_t)(c < v - c ? c : v - c);
	}
	return walk;
}

/* A piece: bm over list L, all its blocks. */
static struct piece list_piece(const yoc_sel *s, const struct rowlist *L, const uint64_t *bm)
{
	struct piece p;
	size_t m;
	p.sp = list_space(s, L);
	p.bm = bm;
	p.comp = p.neg = 0;
	p.b0 = 0;
	p.b1 = p.sp.nblocks;
	p.walk = walk_of(s, &p.sp, bm, &m);
	return p;
}

/* bits [at, at + k) of bm set, k <= 64 */
static void set_run(uint64_t *bm, size_t at, int k)
{
	uint64_t ones = k == 64 ? ~UINT64_C(0) : (UINT64_C(1) << k) - 1;
	size_t w = at >> 6, o = at & 63;
	bm[w] |= ones << o;
	if (o + (size_t)k > 64)
		bm[w + 1] |= ones >> (64 - o);
}

/*
** o = the positions of bm's rows in the list of the rows of g not in h
** (NULL: none), num of them, in engine order. Each word of bm is laid over
** the list at once when it holds all or none of the list's rows there (as
** the groups of the sorted filters mostly do), bit by bit otherwise.
*/
static void lay_over(const uint64_t *bm, const uint64_t *g, const uint64_t *h, size_t W,
		     size_t num, uint64_t *o)
{
	size_t at = 0;
	for (size_t w = 0; w < W && at < num; w++) {
		uint64_t e = h ? g[w] & ~h[w] : g[w];
		if (!e)
			continue;
		uint64_t b = bm[w] & e;
		int k = pop64(e);
		if (b == e) {
			set_run(o, at, k);
		} else if (b) {
			size_t j = at;
			for (uint64_t y = e; y; y &= y - 1, j++)
				if (b & y & -y)
					bit_set(o, j);
		}
		at += (size_t)k;
	}
}

#define MAX_PIECES 3

/*
** The pieces of a group inside one condition, or inside the union of up to
** MAX_PIECES conditions (conditions with "or"), each inside one condition:
** the rows of the condition that holds most of the group, then of the one
** that holds most of the rest, and so on. The pieces' bitmaps are
** allocated into lbm. Their number, or 0 when there is no such cover.
*/
static int cond_pieces(const yoc_sel *s, const uint64_t *bm, struct piece *p, uint64_t **lbm)
{
	size_t W = s->words;
	int np = 0, done = 0;
	uint64_t *rest = NULL;
	if (!s->any_ltc)
		return 0;
	int one = yoc__sel_list_for(s, bm);
	if (one < 0 && !inside(bm, s->any_ltc, W))
		return 0; /* someone without a condition */
	if (!(rest = yoc_malloc(8 * W)))
		return 0;
	memcpy(rest, bm, 8 * W);
	for (;;) {
		int bk = one;
		/* the choice needs only to be good, not best: counted on every
		 * 16th word, then on every word if that finds nobody */
		for (size_t step = 16; bk < 0 || np > 0; step = 1) {
			size_t best = 0;
			bk = -1;
			for (size_t k = 0; k < s->nlist; k++) {
				const uint64_t *c = s->ltc_bm + W * k;
				size_t n = 0;
				for (size_t w = 0; w < W; w += step)
					n += (size_t)pop64(rest[w] & c[w]);
				if (n > best) {
					best = n;
					bk = (int)k;
				}
			}
			if (bk >= 0 || step == 1)
				break;
		}
		if (bk < 0) {
			done = 1; /* the rest is empty */
			break;
		}
		const struct rowlist *L = &s->cond[bk];
		if (np == MAX_PIECES || !(lbm[np] = yoc_calloc(L->words, 8)))
			break;
		lay_over(rest, s->ltc_bm + W * (size_t)bk, NULL, W, L->num, lbm[np]);
		p[np] = list_piece(s, L, lbm[np]);
		np++;
		const uint64_t *c = s->ltc_bm + W * (size_t)bk;
		for (size_t w = 0; w < W; w++)
			rest[w] &= ~c[w];
		if (bk == one) {
			done = 1;
			break;
		}
	}
	yoc_free(rest);
	return done ? np : 0;
}

struct lay_job {
	const yoc_sel *s;
	const uint64_t *bm;
	const struct numidx *x;
	int c, *lev, n;
	struct piece *p;
	uint64_t **lbm;
};

/* Lays bm over the lists of levels j->lev[0..n) into j->lbm, and their pieces. */
static void *lay_run(void *arg)
{
	struct lay_job *j = arg;
	for (int i = 0; i < j->n; i++) {
		int l = j->lev[i], step;
		const struct rowlist *L = lv_level(j->s, j->c, l, &step);
		lay_over(j->bm, j->x->ge + j->s->words * (size_t)l, lv_next(j->s, j->x, l, step),
			 j->s->words, L->num, j->lbm[i]);
		j->p[i] = list_piece(j->s, L, j->lbm[i]);
	}
	return NULL;
}

/*
** The pieces of a group inside "value >= t" of level set c (t from
** yoc__sel_level_for): one over each level's rows from t up. Their number,
** the bitmaps allocated into lbm; 0 (nothing left allocated) when out of
** memory. est: the laying's cost (levels_cost); from a quarter of
** parallel_rows, half the levels are laid on a second thread.
*/
static int level_pieces(const yoc_sel *s, const uint64_t *bm, int c, int t, size_t est,
			struct piece *p, uint64_t **lbm)
{
	const struct numidx *x = lv_index(s, c);
	int np = 0, lev[SMALL_LEVELS];
	for (int l = t, step; l < x->nlev; l += step) {
		const struct rowlist *L = lv_level(s, c, l, &step);
		if (!L->num)
			continue;
		if (!(lbm[np] = yoc_calloc(L->words, 8))) {
			while (np > 0)
				yoc_free(lbm[--np]);
			return 0;
		}
		lev[np++] = l;
	}
	/* a long laying: the second half of the levels on a second thread */
	struct lay_job a = { s, bm, x, c, lev, np, p, lbm }, b = a;
	pthread_t tid;
	int two = est >= s->parallel_rows / 4 && s->ncpu > 1 && np > 1;
	if (two) {
		a.n = np / 2;
		b.lev += a.n;
		b.n = np - a.n;
		b.p += a.n;
		b.lbm += a.n;
		if (pthread_create(&tid, NULL, lay_run, &b) != 0) {
			two = 0;
			a.n = np;
		}
	}
	lay_run(&a);
	if (two)
		pthread_join(tid, NULL);
	return np;
}

/*
** The pieces of a group inside level t or above of column c as every row
** of those levels (each level's rows whole: one difference of its sums)
** minus the rows the group leaves out (over all rows, subtracted): for a
** group that is most of "value >= t" ("cost of 2,000 pounds or more" lies
** inside a cost bucket and above, less a part of that bucket). Their number;
** the bitmap of the rows left out allocated into lbm[0].
*/
static int level_rest(const yoc_sel *s, const uint64_t *bm, int c, int t, struct piece *p,
		      uint64_t **lbm)
{
	const struct numidx *x = lv_index(s, c);
	size_t W = s->words, m;
	int np = 0;
	uint64_t *d = lbm[0] = yoc_malloc(8 * W);
	if (!d)
		return 0;
	const uint64_t *g = x->ge + W * (size_t)t;
	for (size_t w = 0; w < W; w++)
		d[w] = g[w] & ~bm[w];
	for (int l = t; l < x->nlev; l++)
		if (s->lv[c][l].num)
			p[np++] = list_piece(s, &s->lv[c][l], s->lv[c][l].valid);
	struct space es = engine_space(s);
	p[np] = (struct piece){ es, d, 0, 1, 0, es.nblocks, walk_of(s, &es, d, &m) };
	return np + 1;
}

/*
** What laying a group over the levels of column c from t costs, in rows
** walked (about 25 ns each): each word of a level that holds rows of it,
** about 5 ns (a level of scattered rows, as a cost bucket, has about one
** in each word, all or none of it selected at random; words laid bit by
** bit are rare and not counted).
*/
static size_t levels_cost(const yoc_sel *s, int c, int t)
{
	const struct numidx *x = lv_index(s, c);
	size_t words = 0;
	for (int l = t, step; l < x->nlev; l += step) {
		const struct rowlist *L = lv_level(s, c, l, &step);
		words += L->num < s->words ? L->num : s->words;
	}
	return words / 5;
}

static void pieces_free(uint64_t **lbm, int n)
{
	for (int i = 0; i < n; i++) {
		yoc_free(lbm[i]);
		lbm[i] = NULL;
	}
}

/*
** The sums of bitmap bm's rows. With the pre-summed blocks, runs of whole
** blocks cost one difference each and only partial blocks are walked row
** by row (at most half of each). When that walk is long, the group is also
** laid over lists where it may be denser: the rows of the conditions that
** hold it (one, or a few with "or"), and the levels of an activity column
** it is inside ("bed days >= 5": the rows with 5, with 6, ...); the
** shortest walk is summed. A group of more than half the people, summed
** over all rows, is the population minus the rest (every field is a sum,
** cell-key sums included). Long walks are shared with a second thread. Wide
** rows then add what their packed row lacks.
*/
int yoc__sel_aggregate(const yoc_sel *s, const uint64_t *bm, struct agg *a)
{
	struct space es = engine_space(s);
	struct piece best[SMALL_LEVELS + 2], cand[SMALL_LEVELS + 2];
	uint64_t *bl[SMALL_LEVELS] = {NULL}, *cl[SMALL_LEVELS] = {NULL};
	int nb = 1, comp = 0;
	size_t m = 0, walk = 0;
	struct agg *plus = yoc_calloc(2, sizeof *plus);
	if (!plus)
		return YOC_ENOMEM;
	struct agg *minus = plus + 1;
	if (s->pre && !s->blocks_off) {
		walk = walk_of(s, &es, bm, &m);
		comp = s->pop_packed && m > s->n / 2;
		best[0] = (struct piece){ es, bm, comp, 0, 0, es.nblocks, walk };
		/* candidates, each kept if its cost (walk, and the rows and words
		 * laid over its lists) is lower (list_walk 0: always, so the tests
		 * cover every path): the conditions; then for each column whose
		 * levels hold the group, the levels whole less the rest, and level
		 * by level */
		int lt[NLVCOL];
		size_t cost = walk;
		for (int c = 0; c < NLVCOL; c++)
			lt[c] = -1;
		for (int k = 0; k < 1 + 2 * NLVCOL && walk >= s->list_walk; k++) {
			int c = (k - 1) / 2, nc;
			size_t est = 0;
			if (k == 0) {
				nc = cond_pieces(s, bm, cand, cl);
			} else {
				if (lt[c] < 0)
					lt[c] = c == 3 && lt[2] >= 0 ? lt[2] : yoc__sel_level_for(s, bm, c);
				if (!lt[c] || (c == 3 && k % 2))
					continue; /* (set 3's rows whole are set 2's) */
				if (k % 2 == 0 && (est = levels_cost(s, c, lt[c])) >= cost && s->list_walk)
					continue;
				nc = k % 2 ? level_rest(s, bm, c, lt[c], cand, cl)
					   : level_pieces(s, bm, c, lt[c], est, cand, cl);
			}
			size_t cw = 0;
			for (int i = 0; i < nc; i++)
				cw += cand[i].walk;
			if (nc > 0 && (cw + est < cost || s->list_walk == 0)) {
				pieces_free(bl, SMALL_LEVELS);
				memcpy(best, cand, sizeof *cand * (size_t)nc);
				memcpy(bl, cl, sizeof *cl * (size_t)nc);
				memset(cl, 0, sizeof cl);
				nb = nc;
				walk = cw;
				cost = cw + est;
				comp = 0; /* pieces are never complemented */
			} else {
				pieces_free(cl, SMALL_LEVELS);
			}
		}
	} else {
		/* no blocks: every row, one by one, in halves of the words */
		for (size_t w = 0; w < s->words; w++)
			m += (size_t)pop64(bm[w]);
		comp = s->pop_packed && m > s->n / 2;
		walk = comp ? s->n - m : m;
	}
	if (s->pre && !s->blocks_off)
		add_pieces(s, best, nb, plus, minus);
	else
		add_bitmap_halves(s, plus, bm, comp, walk);
	pieces_free(bl, SMALL_LEVELS);
	agg_sub(plus, minus);
	if (comp) {
		*a = *s->pop_packed;
		agg_sub(a, plus);
	} else {
		*a = *plus;
	}
	yoc_free(plus);
	for (size_t k = 0; k < s->nwide; k++)
		if (bit_get(bm, s->wide[k].row))
			add_wide(a, &s->wide[k]);
	return 0;
}

/* ---- building ---- */

struct order_pair { uint64_t k; uint32_t row; };

static int order_cmp(const void *a, const void *b)
{
	const struct order_pair *x = a, *y = b;
	if (x->k != y->k)
		return x->k < y->k ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

/* v clamped to 0..cap - 1 as a whole number, cap for NULL */
static uint64_t order_num(const struct numcol *c, size_t f, unsigned cap)
{
	if (c->null[f])
		return cap;
	double v = c->v[f];
	return !(v >= 0) ? 0 : v >= cap - 1 ? cap - 1 : (uint64_t)v;
}

/*
** The engine's row order: by sex, age band, number of conditions, band,
** IMD decile, tier and age (NULL last in each), then the frame's order.
** Only speed depends on it: the common filters take runs of rows, which
** the pre-summed blocks add as one difference. perm: engine row to frame
** row; inv: back.
*/
static int order_rows(yoc_sel *s)
{
	size_t n = s->n;
	struct order_pair *op = yoc_malloc(sizeof *op * (n ? n : 1));
	s->perm = yoc_malloc(sizeof *s->perm * (n ? n : 1));
	s->inv = yoc_malloc(sizeof *s->inv * (n ? n : 1));
	if (!op || !s->perm || !s->inv) {
		yoc_free(op);
		return YOC_ENOMEM;
	}
	for (size_t f = 0; f < n; f++) {
		uint64_t sx = s->sex.null[f] ? 3 : s->sex.v[f] == s->male ? 0 : s->sex.v[f] == s->female ? 1 : 2;
		uint64_t ab = s->age.null[f] ? 31 : (uint64_t)age_band(s->age.v[f]);
		int b = s->band.null[f] ? -1 : cat_index(s->bands, s->nbands, s->band.v[f]);
		int t = !s->has_tier || s->tier.null[f] ? -1 : cat_index(s->tiers, s->ntiers, s->tier.v[f]);
		uint64_t k = sx;
		k = k << 5 | ab;
		k = k << 6 | order_num(&s->ltc_count, f, 63);
		k = k << 6 | (b < 0 ? 63 : (uint64_t)b);
		k = k << 5 | order_num(&s->imd, f, 31);
		k = k << 6 | (t < 0 ? 63 : (uint64_t)t);
		k = k << 8 | order_num(&s->age, f, 255);
		op[f].k = k;
		op[f].row = (uint32_t)f;
	}
	qsort(op, n, sizeof *op, order_cmp);
	for (size_t r = 0; r < n; r++) {
		s->perm[r] = op[r].row;
		s->inv[op[r].row] = (uint32_t)r;
	}
	yoc_free(op);
	return 0;
}

int yoc__sel_and_frame(const yoc_sel *s, const uint64_t *fbm, size_t fwords, uint64_t *bm)
{
	uint64_t *t = yoc_calloc(s->words, 8);
	if (!t)
		return YOC_ENOMEM;
	for (size_t w = 0; w < fwords && w < s->words; w++)
		for (uint64_t b = fbm[w]; b; b &= b - 1) {
			size_t f = w * 64 + (size_t)__builtin_ctzll(b);
			if (f < s->n)
				bit_set(t, s->inv[f]);
		}
	and_into(bm, t, s->words);
	yoc_free(t);
	return 0;
}

void yoc__sel_to_frame(const yoc_sel *s, const uint64_t *bm, uint64_t *fbm)
{
	memset(fbm, 0, 8 * s->words);
	for (size_t w = 0; w < s->words; w++)
		for (uint64_t b = bm[w]; b; b &= b - 1) {
			size_t r = w * 64 + (size_t)__builtin_ctzll(b);
			if (r < s->n)
				bit_set(fbm, s->perm[r]);
		}
}

int yoc__sel_engine_build(yoc_sel *s, struct yoc_error *e)
{
	size_t n = s->n, W = s->words, wcap = 0;
	int rc;
	s->valid = yoc_calloc(W, 8);
	s->rows = huge_alloc(sizeof *s->rows * (n ? n : 1), &s->rows_base);
	s->has_months = 0;
	if (!s->valid || !s->rows)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		bit_set(s->valid, i);
	if (order_rows(s))
		goto nomem;
	long nc = sysconf(_SC_NPROCESSORS_ONLN);
	s->ncpu = nc < 1 ? 1 : (int)nc;
	s->parallel_rows = PARALLEL_ROWS;
	s->list_walk = LIST_WALK;
	if ((rc = numidx_build(s, &s->age, AGE_LEVELS, &s->ix_age)) ||
	    (rc = numidx_build(s, &s->ltc_count, SMALL_LEVELS, &s->ix_lc)) ||
	    (rc = numidx_build(s, &s->imd, 12, &s->ix_imd)) ||
	    (rc = numidx_build(s, &s->act_col[0], SMALL_LEVELS, &s->ix_emerg)) ||
	    (rc = numidx_build(s, &s->act_col[2], SMALL_LEVELS, &s->ix_bed)) ||
	    (rc = numidx_build(s, &s->cost_total, 1, &s->ix_cost)) ||
	    (rc = numidx_buckets(s, &s->cost_total, SMALL_LEVELS, &s->ix_costb)))
		goto nomem;
	/* sexes present (the rule path serves a column of more than MAX_CAT) */
	{
		size_t nd = yoc_rule_frame_ndict(s->frame);
		uint8_t *seen = yoc_calloc(nd ? nd : 1, 1);
		if (!seen)
			goto nomem;
		for (size_t i = 0; i < n; i++)
			if (!s->sex.null[i])
				seen[s->sex.v[i]] = 1; /* frame order: only which are present */
		s->nsexes = 0;
		s->sex_indexed = 1;
		for (size_t d = 0; d < nd; d++)
			if (seen[d]) {
				if (s->nsexes == MAX_CAT)
					s->sex_indexed = 0;
				else
					s->sexes[s->nsexes++] = (int32_t)d;
			}
		yoc_free(seen);
	}
	if (!(s->sex_bm = cat_bitmaps(s, &s->sex, s->sexes, s->nsexes)) ||
	    !(s->band_bm = cat_bitmaps(s, &s->band, s->bands, s->nbands)) ||
	    (s->has_tier && !(s->tier_bm = cat_bitmaps(s, &s->tier, s->tiers, s->ntiers))))
		goto nomem;
	s->ltc_bm = yoc_calloc(W * (s->nltc ? s->nltc : 1), 8);
	if (!s->ltc_bm)
		goto nomem;
	for (size_t k = 0; k < s->nltc; k++)
		for (size_t f = 0; f < n; f++)
			if (!s->ltc[k].null[f] && s->ltc[k].v[f] != 0)
				bit_set(s->ltc_bm + W * k, s->inv[f]);
	/* the rows of each practice, in row order (a counting sort) */
	s->prac_start = yoc_calloc(s->npractices + 2, sizeof *s->prac_start);
	s->prac_rows = yoc_malloc(sizeof *s->prac_rows * (n ? n : 1));
	int32_t *pidx = yoc_malloc(sizeof *pidx * (n ? n : 1));
	if (!s->prac_start || !s->prac_rows || !pidx) {
		yoc_free(pidx);
		goto nomem;
	}
	for (size_t f = 0; f < n; f++) {
		size_t i = s->inv[f];
		pidx[i] = s->practice.null[f] ? -1 : yoc__sel_practice_index(s, s->practice.v[f]);
		if (pidx[i] >= 0)
			s->prac_start[pidx[i] + 2]++;
	}
	for (size_t k = 2; k < s->npractices + 2; k++)
		s->prac_start[k] += s->prac_start[k - 1];
	for (size_t i = 0; i < n; i++)
		if (pidx[i] >= 0)
			s->prac_rows[s->prac_start[pidx[i] + 1]++] = (uint32_t)i;
	yoc_free(pidx);
	if (pack_rows(s, &wcap))
		goto nomem;
	return 0;
nomem:
	return yoc_error_set(e, YOC_ENOMEM, "serve", 0, 0, "out of memory");
}

/* The population's sums, after the rows (and months) are packed. */
int yoc__sel_engine_population(yoc_sel *s, struct yoc_error *e)
{
	s->pop_packed = yoc_calloc(1, sizeof *s->pop_packed);
	s->pop = yoc_calloc(1, sizeof *s->pop);
	if (!s->pop_packed || !s->pop)
		return yoc_error_set(e, YOC_ENOMEM, "serve", 0, 0, "out of memory");
	add_bitmap(s, s->pop_packed, s->valid, 0, 0, s->words);
	*s->pop = *s->pop_packed;
	for (size_t k = 0; k < s->nwide; k++)
		add_wide(s->pop, &s->wide[k]);
	if (yoc__sel_blocks_build(s, BLOCK_WORDS))
		return yoc_error_set(e, YOC_ENOMEM, "serve", 0, 0, "out of memory");
	return 0;
}

void yoc__sel_engine_free(yoc_sel *s)
{
	numidx_free(&s->ix_age);
	numidx_free(&s->ix_lc);
	numidx_free(&s->ix_imd);
	numidx_free(&s->ix_emerg);
	numidx_free(&s->ix_bed);
	numidx_free(&s->ix_cost);
	numidx_free(&s->ix_costb);
	yoc_free(s->valid);
	yoc_free(s->sex_bm);
	yoc_free(s->band_bm);
	yoc_free(s->tier_bm);
	yoc_free(s->ltc_bm);
	yoc_free(s->prac_start);
	yoc_free(s->prac_rows);
	yoc_free(s->rows_base);
	yoc_free(s->wide);
	yoc_free(s->pop);
	yoc_free(s->pop_packed);
	yoc_free(s->cohort_bm);
	yoc_free(s->perm);
	yoc_free(s->inv);
	yoc_free(s->pre);
	yoc_free(s->pf);
	lists_free(s);
	yoc__sel_cache_free(s);
}

/* ---- the answer cache ---- */

struct slot {
	uint64_t h;
	char *k, *v;
	size_t klen, vlen;
};

struct sel_cache {
	pthread_mutex_t lock;
	int on;
	struct slot slot[CACHE_SLOTS];
};

static uint64_t hash(const char *k, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)k[i]) * 0x100000001b3ULL;
	return h;
}

int yoc__sel_cache_create(yoc_sel *s)
{
	s->cache = yoc_calloc(1, sizeof *s->cache);
	if (!s->cache || pthread_mutex_init(&s->cache->lock, NULL) != 0) {
		yoc_free(s->cache);
		s->cache = NULL;
		return YOC_ENOMEM;
	}
	s->cache->on = 1;
	return 0;
}

void yoc__sel_cache_free(yoc_sel *s)
{
	if (!s->cache)
		return;
	for (size_t k = 0; k < CACHE_SLOTS; k++) {
		yoc_free(s->cache->slot[k].k);
		yoc_free(s->cache->slot[k].v);
	}
	pthread_mutex_destroy(&s->cache->lock);
	yoc_free(s->cache);
	s->cache = NULL;
}

void yoc__sel_rule_path(yoc_sel *s, int on)
{
	s->rule_path = on;
}

void yoc__sel_cache_enable(yoc_sel *s, int on)
{
	if (s->cache)
		s->cache->on = on;
}

int yoc__sel_cache_get(const yoc_sel *s, const char *k, size_t klen, struct yoc_buf *out)
{
	struct sel_cache *c = s->cache;
	int rc = YOC_ENOTFOUND;
	if (!c || !c->on)
		return rc;
	uint64_t h = hash(k, klen);
	pthread_mutex_lock(&c->lock);
	struct slot *sl = &c->slot[h % CACHE_SLOTS];
	if (sl->k && sl->h == h && sl->klen == klen && memcmp(sl->k, k, klen) == 0)
		rc = yoc_buf_append(out, sl->v, sl->vlen) == 0 ? 0 : YOC_ENOMEM;
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void yoc__sel_cache_put(const yoc_sel *s, const char *k, size_t klen, const char *v,
			size_t vlen)
{
	struct sel_cache *c = s->cache;
	if (!c || !c->on || vlen > CACHE_MAX_VALUE)
		return;
	uint64_t h = hash(k, klen);
	char *kc = yoc_malloc(klen + 1), *vc = yoc_malloc(vlen + 1);
	if (!kc || !vc) {
		yoc_free(kc);
		yoc_free(vc);
		return;
	}
	memcpy(kc, k, klen);
	memcpy(vc, v, vlen);
	pthread_mutex_lock(&c->lock);
	struct slot *sl = &c->slot[h % CACHE_SLOTS];
	char *ok = sl->k, *ov = sl->v;
	sl->h = h;
	sl->k = kc;
	sl->klen = klen;
	sl->v = vc;
	sl->vlen = vlen;
	pthread_mutex_unlock(&c->lock);
	yoc_free(ok);
	yoc_free(ov);
}

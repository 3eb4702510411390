/*
** The report's mergeable partial (docs/mpi.md "Report"): what every page
** reads of person_year, computed on one catalog and merged exactly over the
** shards of a sharded dataset. One process is the same code with one rank.
**
**   1. The year: the latest of any shard (a gather and a broadcast).
**   2. Each rank scans its shard (yoc__part_scan: counts and pence sums,
**      and the year's costs by band) and rank 0 gathers and merges the
**      partials: sums added, bands, practices and years matched by name,
**      the cost column appended (8 bytes per person-year of the year).
**   3. Rank 0 sorts the costs (percentiles, Lorenz curve, Gini, from them)
**      and cuts each top group of concentration.html: the people with cost
**      above v, and of those whose cost is v the first m by pseudonym.
**   4. When a cut splits a run of equal costs, each rank sends its first m
**      pseudonyms of cost v (at most m each); rank 0 picks the m-th
**      smallest of them all, and every rank sums its own members of each
**      group, summed at rank 0, from the rows its scan kept (cost, LTCs,
**      emergency, age group, settings used, rowid: 32 bytes a
**      person-year; the pseudonyms of a split run looked up by rowid).
**      So the groups are exactly those of one sorted pass over the whole
**      population, ties broken alike.
** The years of trends.html come from one read of person_year grouped here
** (yoc__part_years), which also gives the latest year.
** Never calls MPI: the collective steps are the caller's (report.h).
*/
#include <openssl/evp.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

const int yoc__top_pct[NTOP] = {1, 5, 10, 20, 100};

#define MAXPSEUDO 256
#define MAGIC "yocpart1"

/* ---- packing ------------------------------------------------------------ */

struct rd {
	const char *p;
	size_t n, pos;
	int bad;
};

static void get(struct rd *r, void *out, size_t n)
{
	if (!n)
		return;
	if (r->bad || n > r->n - r->pos) {
		r->bad = 1;
		memset(out, 0, n);
		return;
	}
	memcpy(out, r->p + r->pos, n);
	r->pos += n;
}

static int64_t get_i64(struct rd *r)
{
	int64_t v;
	get(r, &v, sizeof v);
	return v;
}

#define PUT(b, x) yoc_buf_append((b), &(x), sizeof(x))
#define GET(r, x) get((r), &(x), sizeof(x))

/* The members of struct acc of fixed size, packed and added alike. */
#define FIXED(X)                                                                            \
	X(all) X(pop) X(mm) X(ltc) X(pm) X(pm_cost) X(set_people) X(age_cost) X(sumsq)      \
	X(as_cost) X(as_emerg) X(as_mm) X(as_sq) X(dep)

int yoc__part_pack(const struct acc *a, struct yoc_buf *b)
{
	int bad = yoc_buf_append(b, MAGIC, 8);
#define PACK1(m) bad |= PUT(b, a->m);
	FIXED(PACK1)
#undef PACK1
	int64_t n = a->nband;
	bad |= PUT(b, n);
	for (int i = 0; i < a->nband; i++) {
		bad |= PUT(b, a->band[i]);
		bad |= PUT(b, a->bandg[i]);
		bad |= yoc_buf_append(b, a->bcost[i], sizeof(int64_t) * (size_t)a->bandg[i].n);
	}
	n = (int64_t)a->nprac;
	bad |= PUT(b, n);
	for (size_t i = 0; i < a->nprac; i++) {
		const struct prac *p = &a->prac[i];
		bad |= PUT(b, p->code);
		n = p->unknown;
		bad |= PUT(b, n);
		bad |= PUT(b, p->all);
		bad |= PUT(b, p->pop);
		bad |= PUT(b, p->ltc);
		bad |= PUT(b, p->band);
	}
	size_t nc = (size_t)a->ncond;
	n = a->ncond;
	bad |= PUT(b, n);
	bad |= yoc_buf_append(b, a->cond, sizeof a->cond[0] * nc);
	bad |= yoc_buf_append(b, a->cagg, sizeof *a->cagg * nc);
	/* pairs and triples: only a < b (< c) are ever counted */
	for (size_t i = 0; i < nc; i++)
		for (size_t j = i + 1; j < nc; j++) {
			bad |= yoc_buf_append(b, &a->pair[2 * (i * nc + j)], 2 * sizeof(int64_t));
			for (size_t l = j + 1; l < nc; l++)
				bad |= yoc_buf_append(b, &a->tri[2 * ((i * nc + j) * nc + l)],
						      2 * sizeof(int64_t));
		}
	n = a->nyear;
	bad |= PUT(b, n);
	bad |= yoc_buf_append(b, a->year, sizeof a->year[0] * (size_t)a->nyear);
	return bad ? YOC_ENOMEM : 0;
}

int yoc__part_unpack(const void *p, size_t n, struct acc *a, struct yoc_error *e)
{
	struct rd r = {p, n, 0, 0};
	char magic[8];
	memset(a, 0, sizeof *a);
	if (yoc_map_init(&a->pmap, 256))
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	GET(&r, magic);
	if (r.bad || memcmp(magic, MAGIC, 8) != 0)
		goto bad;
#define UNPACK1(m) GET(&r, a->m);
	FIXED(UNPACK1)
#undef UNPACK1
	int64_t nb = get_i64(&r);
	if (nb < 0 || nb > MAXBAND)
		goto bad;
	a->nband = (int)nb;
	for (int i = 0; i < a->nband && !r.bad; i++) {
		GET(&r, a->band[i]);
		a->band[i][sizeof a->band[0] - 1] = 0;
		GET(&r, a->bandg[i]);
		int64_t k = a->bandg[i].n;
		if (k < 0 || (uint64_t)k > (r.n - r.pos) / sizeof(int64_t))
			goto bad;
		a->bcost[i] = yoc_malloc(sizeof(int64_t) * (size_t)(k ? k : 1));
		if (!a->bcost[i])
			return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		a->bcap[i] = (size_t)k;
		get(&r, a->bcost[i], sizeof(int64_t) * (size_t)k);
	}
	int64_t np = get_i64(&r);
	if (np < 0 || (uint64_t)np > r.n - r.pos)
		goto bad;
	for (int64_t i = 0; i < np && !r.bad; i++) {
		char code[32];
		GET(&r, code);
		code[sizeof code - 1] = 0;
		struct prac *x = yoc__prac_get(a, code);
		if (!x)
			return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		x->unknown = get_i64(&r) != 0;
		GET(&r, x->all);
		GET(&r, x->pop);
		GET(&r, x->ltc);
		GET(&r, x->band);
	}
	int64_t nc = get_i64(&r);
	if (nc < 0 || nc > 64)
		goto bad;
	a->ncond = (int)nc;
	get(&r, a->cond, sizeof a->cond[0] * (size_t)nc);
	for (int i = 0; i < a->ncond; i++)
		a->cond[i][sizeof a->cond[0] - 1] = 0;
	if (yoc__cond_alloc(a))
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	size_t z = (size_t)nc;
	get(&r, a->cagg, sizeof *a->cagg * z);
	for (size_t i = 0; i < z; i++)
		for (size_t j = i + 1; j < z; j++) {
			get(&r, &a->pair[2 * (i * z + j)], 2 * sizeof(int64_t));
			for (size_t l = j + 1; l < z; l++)
				get(&r, &a->tri[2 * ((i * z + j) * z + l)], 2 * sizeof(int64_t));
		}
	int64_t ny = get_i64(&r);
	if (ny < 0 || ny > MAXY)
		goto bad;
	a->nyear = (int)ny;
	get(&r, a->year, sizeof a->year[0] * (size_t)ny);
	for (int i = 0; i < a->nyear; i++)
		a->year[i].fyear[sizeof a->year[0].fyear - 1] = 0;
	if (r.bad || r.pos != r.n)
		goto bad;
	return 0;
bad:
	return yoc_error_set(e, YOC_EDATA, "report partial", 0, 0,
			     "a shard's partial is malformed (%zu bytes)", n);
}

/* ---- merging ------------------------------------------------------------ */

static void grp_sum(struct grp *g, const struct grp *x)
{
	g->n += x->n;
	g->cost += x->cost;
	g->emerg += x->emerg;
	g->mm += x->mm;
	g->mental += x->mental;
	g->age65 += x->age65;
	for (int k = 0; k < NSET; k++)
		g->set[k] += x->set[k];
}

/* n int64 (or __int128) elements of x added into a */
static void add64(int64_t *a, const int64_t *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		a[i] += x[i];
}

int yoc__part_merge(struct acc *a, const struct acc *x, struct yoc_error *e)
{
	/* the fixed members: all int64 but the two exact sums of squares */
	grp_sum(&a->all, &x->all);
	for (int i = 0; i < NLTC; i++)
		grp_sum(&a->ltc[i], &x->ltc[i]);
	add64(&a->pop[0][0], &x->pop[0][0], NAGE * 3);
	add64(&a->mm[0][0], &x->mm[0][0], NAGE * (NMM - 1));
	add64(&a->pm[0][0], &x->pm[0][0], 15);
	add64(&a->pm_cost[0][0], &x->pm_cost[0][0], 15);
	add64(a->set_people, x->set_people, NSET);
	add64(a->age_cost, x->age_cost, NAGE);
	a->sumsq += x->sumsq;
	add64(&a->as_cost[0][0], &x->as_cost[0][0], NAGE * 3);
	add64(&a->as_emerg[0][0], &x->as_emerg[0][0], NAGE * 3);
	add64(&a->as_mm[0][0], &x->as_mm[0][0], NAGE * 3);
	for (int i = 0; i < NAGE; i++)
		for (int s = 0; s < 3; s++)
			a->as_sq[i][s] += x->as_sq[i][s];
	for (int d = 0; d < NDEC; d++)
		for (int s = 0; s < NSTRAT; s++) {
			a->dep[d][s].n += x->dep[d][s].n;
			add64(a->dep[d][s].y, x->dep[d][s].y, NDMEAS);
		}
	/* bands by name, their cost columns appended */
	int map[MAXBAND];
	for (int i = 0; i < x->nband; i++) {
		int j = map[i] = yoc__band_index(a, x->band[i]);
		if (j < 0)
			return yoc_error_set(e, YOC_EDATA, "person_year", 0, 0,
					     "more than %d currency bands", MAXBAND);
		size_t have = (size_t)a->bandg[j].n, add = (size_t)x->bandg[i].n;
		if (have + add > a->bcap[j]) {
			int64_t *p = yoc_realloc(a->bcost[j], sizeof *p * (have + add + 1));
			if (!p)
				return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			a->bcost[j] = p;
			a->bcap[j] = have + add + 1;
		}
		if (add)
			memcpy(a->bcost[j] + have, x->bcost[i], sizeof(int64_t) * add);
		if (add && have) { /* a new sorted run from here */
			size_t *r = yoc_realloc(a->brun[j], sizeof *r * (a->nbrun[j] + 1));
			if (!r)
				return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			a->brun[j] = r;
			r[a->nbrun[j]++] = have;
		}
		grp_sum(&a->bandg[j], &x->bandg[i]);
	}
	for (size_t i = 0; i < x->nprac; i++) {
		const struct prac *q = &x->prac[i];
		struct prac *p = yoc__prac_get(a, q->code);
		if (!p)
			return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		p->unknown |= q->unknown;
		grp_sum(&p->all, &q->all);
		add64(&p->pop[0][0], &q->pop[0][0], NAGE * 3);
		add64(p->ltc, q->ltc, NLTC);
		for (int b = 0; b < x->nband; b++)
			p->band[map[b]] += q->band[b];
	}
	/* conditions: the same columns in every shard */
	if (!a->cagg) {
		a->ncond = x->ncond;
		memcpy(a->cond, x->cond, sizeof a->cond);
		if (yoc__cond_alloc(a))
			return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	} else if (a->ncond != x->ncond ||
		   memcmp(a->cond, x->cond, sizeof a->cond[0] * (size_t)a->ncond) != 0) {
		return yoc_error_set(e, YOC_EDATA, "person_year", 0, 0, "the shards' person_year "
				     "tables have different condition columns");
	}
	size_t nc = (size_t)a->ncond;
	for (size_t i = 0; i < nc; i++) {
		a->cagg[i].n += x->cagg[i].n;
		a->cagg[i].cost += x->cagg[i].cost;
		add64(a->cagg[i].set, x->cagg[i].set, NSET);
	}
	add64(a->pair, x->pair, 2 * nc * nc);
	add64(a->tri, x->tri, 2 * nc * nc * nc);
	/* years by name, in order */
	for (int i = 0; i < x->nyear; i++) {
		const struct ygrp *y = &x->year[i];
		int j = 0;
		while (j < a->nyear && strcmp(a->year[j].fyear, y->fyear) < 0)
			j++;
		if (j == a->nyear || strcmp(a->year[j].fyear, y->fyear) != 0) {
			if (a->nyear == MAXY)
				continue; /* as the single report: the first MAXY years */
			memmove(&a->year[j + 1], &a->year[j], sizeof *y * (size_t)(a->nyear - j));
			memset(&a->year[j], 0, sizeof *y);
			memcpy(a->year[j].fyear, y->fyear, sizeof y->fyear);
			a->nyear++;
		}
		struct ygrp *g = &a->year[j];
		g->n += y->n;
		g->ltc1 += y->ltc1;
		g->ltc2 += y->ltc2;
		g->cost += y->cost;
		add64(g->set, y->set, NSET);
	}
	return 0;
}

static int prac_order(const void *x, const void *y)
{
	const struct prac *a = x, *b = y;
	if (a->unknown != b->unknown)
		return a->unknown - b->unknown;
	return strcmp(a->code, b->code);
}

/*
** Merges the sorted runs of x[0..n) in place: runs start at 0 and at each
** of start[0..nr) (ascending). Pairs of neighbouring runs are merged in
** passes until one is left. tmp: n values of scratch, or NULL (allocated).
** 0, or YOC_ENOMEM.
*/
static int merge_runs(int64_t *x, size_t n, const size_t *start, size_t nr, int64_t *tmp)
{
	size_t m = nr + 1;
	size_t *at = yoc_malloc(sizeof *at * (m + 1));
	int64_t *buf = tmp ? tmp : yoc_malloc(sizeof *buf * (n ? n : 1));
	if (!at || !buf) {
		yoc_free(at);
		if (!tmp)
			yoc_free(buf);
		return YOC_ENOMEM;
	}
	at[0] = 0;
	for (size_t i = 0; i < nr; i++)
		at[i + 1] = start[i];
	at[m] = n;
	int64_t *src = x, *dst = buf;
	while (m > 1) {
		size_t w = 0;
		for (size_t r = 0; r < m; r += 2) {
			size_t lo = at[r], mid = r + 1 < m ? at[r + 1] : at[m], hi = r + 1 < m ? at[r + 2]
											     : at[m];
			size_t i = lo, j = mid, o = lo;
			while (i < mid && j < hi)
				dst[o++] = src[j] < src[i] ? src[j++] : src[i++];
			while (i < mid)
				dst[o++] = src[i++];
			while (j < hi)
				dst[o++] = src[j++];
			at[w++] = lo;
		}
		at[w] = n;
		m = w;
		int64_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != x)
		memcpy(x, src, sizeof *x * n);
	yoc_free(at);
	if (!tmp)
		yoc_free(buf);
	return 0;
}

int yoc__part_finish(struct acc *a, struct yoc_error *e)
{
	/* bands in name order, as one catalog's scan has them */
	int ord[MAXBAND];
	for (int i = 0; i < a->nband; i++)
		ord[i] = i;
	for (int i = 1; i < a->nband; i++)
		for (int j = i; j > 0 && strcmp(a->band[ord[j - 1]], a->band[ord[j]]) > 0; j--) {
			int t = ord[j];
			ord[j] = ord[j - 1];
			ord[j - 1] = t;
		}
	char band[MAXBAND][8];
	struct grp g[MAXBAND];
	int64_t *bc[MAXBAND];
	size_t cap[MAXBAND], *run[MAXBAND], nrun[MAXBAND];
	for (int i = 0; i < a->nband; i++) {
		memcpy(band[i], a->band[ord[i]], sizeof band[0]);
		g[i] = a->bandg[ord[i]];
		bc[i] = a->bcost[ord[i]];
		cap[i] = a->bcap[ord[i]];
		run[i] = a->brun[ord[i]];
		nrun[i] = a->nbrun[ord[i]];
	}
	for (int i = 0; i < a->nband; i++) {
		memcpy(a->band[i], band[i], sizeof band[0]);
		a->bandg[i] = g[i];
		a->bcost[i] = bc[i];
		a->bcap[i] = cap[i];
		a->brun[i] = run[i];
		a->nbrun[i] = nrun[i];
	}
	for (size_t i = 0; i < a->nprac; i++) {
		int64_t b[MAXBAND];
		for (int k = 0; k < a->nband; k++)
			b[k] = a->prac[i].band[ord[k]];
		memcpy(a->prac[i].band, b, sizeof b[0] * (size_t)a->nband);
	}
	/* practices by code (the practice unknown last): the same order for any
	 * number of shards; the lookup map is not used after this */
	if (a->nprac > 1) /* none in a shard without the year (and a->prac NULL) */
		qsort(a->prac, a->nprac, sizeof *a->prac, prac_order);
	yoc_map_free(&a->pmap);
	memset(&a->pmap, 0, sizeof a->pmap);
	/* each band's sorted runs merged into one, then the bands' into
	 * everyone's: O(n log runs), not a sort */
	size_t n = (size_t)a->all.n, k = 0, bstart[MAXBAND];
	yoc_free(a->allc);
	a->allc = yoc_malloc(sizeof *a->allc * (n ? n : 1));
	if (!a->allc)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	for (int b = 0; b < a->nband; b++) {
		if (a->nbrun[b] && merge_runs(a->bcost[b], (size_t)a->bandg[b].n, a->brun[b],
					      a->nbrun[b], a->allc))
			return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		yoc_free(a->brun[b]);
		a->brun[b] = NULL;
		a->nbrun[b] = 0;
	}
	int nb = 0;
	for (int b = 0; b < a->nband; b++) {
		if (b)
			bstart[nb++] = k;
		for (int64_t i = 0; i < a->bandg[b].n && k < n; i++)
			a->allc[k++] = a->bcost[b][i];
	}
	if (nb && merge_runs(a->allc, k, bstart, (size_t)nb, NULL))
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	return 0;
}

/* The first index of sorted x[0..n) holding a value > v (or >= v). */
static size_t bound(const int64_t *x, size_t n, int64_t v, int strict)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strict ? x[mid] <= v : x[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void yoc__part_top_cut(const struct acc *a, int64_t v[NTOP], int64_t m[NTOP],
		       int64_t ties[NTOP])
{
	size_t n = (size_t)a->all.n;
	for (int t = 0; t < NTOP; t++) {
		size_t k = ((size_t)yoc__top_pct[t] * n + 99) / 100; /* ceil(pct n / 100) */
		if (k == 0 || !a->allc) {
			v[t] = INT64_MAX;
			m[t] = ties[t] = 0;
			continue;
		}
		v[t] = a->allc[n - k];
		size_t above = bound(a->allc, n, v[t], 1), from = bound(a->allc, n, v[t], 0);
		m[t] = (int64_t)(k - (n - above));
		ties[t] = (int64_t)(above - from);
	}
}

/* ---- the steps over the ranks ------------------------------------------- */

static int local_gather(void *ud, int fail, const void *p, size_t n, struct yoc_buf *recv,
			struct yoc_error *e)
{
	(void)ud;
	if (fail)
		return YOC_EDATA;
	yoc_buf_reset(&recv[0]);
	return n && yoc_buf_append(&recv[0], p, n) ? yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0,
							      "out of memory") : 0;
}

static int local_bcast(void *ud, void *p, size_t n, struct yoc_error *e)
{
	(void)ud, (void)p, (void)n, (void)e;
	return 0;
}

/* The people of cost v among the rows kept, with their pseudonyms (one
 * look-up by rowid each), in pseudonym order as SQL's ORDER BY sorts text
 * (bytes; the pseudonyms hold no NUL). */
struct tie {
	char *name;
	const struct trow *r;
};

static int tie_cmp(const void *x, const void *y)
{
	return strcmp(((const struct tie *)x)->name, ((const struct tie *)y)->name);
}

static void ties_free(struct tie *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++)
		yoc_free(t[i].name);
	yoc_free(t);
}

static int tie_list(sqlite3 *db, const struct trow *r, size_t n, int64_t v, struct tie **out,
		    size_t *nout, struct yoc_error *e)
{
	size_t k = 0, j = 0;
	struct tie *t = NULL;
	sqlite3_stmt *st = NULL;
	int rc = 0;
	for (size_t i = 0; i < n; i++)
		k += r[i].cost == v;
	*out = NULL;
	*nout = 0;
	if (!(t = yoc_calloc(k ? k : 1, sizeof *t)))
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	if (sqlite3_prepare_v2(db, "SELECT pseudo_id FROM person_year WHERE rowid = ?1", -1, &st,
			       NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EDATA, "person_year", 0, 0, "cannot read person_year: %s",
				   sqlite3_errmsg(db));
		goto cleanup;
	}
	for (size_t i = 0; i < n && j < k; i++) {
		if (r[i].cost != v)
			continue;
		sqlite3_bind_int64(st, 1, r[i].rowid);
		if (sqlite3_step(st) != SQLITE_ROW) {
			rc = yoc_error_set(e, YOC_EDATA, "person_year", 0, 0,
					   "reading person_year: %s", sqlite3_errmsg(db));
			goto cleanup;
		}
		const char *p = (const char *)sqlite3_column_text(st, 0);
		size_t len = p ? strlen(p) : 0;
		if (len >= MAXPSEUDO) {
			rc = yoc_error_set(e, YOC_EDATA, "person_year", 0, 0,
					   "a pseudonym longer than %d bytes", MAXPSEUDO - 1);
			goto cleanup;
		}
		if (!(t[j].name = yoc_strndup(p ? p : "", len))) {
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			goto cleanup;
		}
		t[j++].r = &r[i];
		sqlite3_reset(st);
	}
	qsort(t, j, sizeof *t, tie_cmp);
cleanup:
	sqlite3_finalize(st);
	if (rc) {
		ties_free(t, j);
		return rc;
	}
	*out = t;
	*nout = j;
	return 0;
}

/* A person-year of the rows kept into a top group. */
static void top_add(struct topg *g, const struct trow *r)
{
	g->n++;
	g->cost += r->cost;
	g->ltc += r->ltc;
	g->emerg += r->emerg;
	g->age[r->age]++;
	for (int k = 0; k < NSET; k++)
		g->used[k] += (r->used >> k) & 1;
}

/* A top group without a cut: the people of cost v and above, from the rows
 * the scan kept. */
static void top_rows(const struct trow *r, size_t n, int64_t v, struct topg *g)
{
	memset(g, 0, sizeof *g);
	for (size_t i = 0; i < n; i++)
		if (r[i].cost >= v)
			top_add(g, &r[i]);
}

/* A top group whose cut splits the run of v: the people of cost above v,
 * and of cost v those whose pseudonym is up to cut (t: the ties of v from
 * tie_list, in pseudonym order). */
static void top_rows_cut(const struct trow *r, size_t n, int64_t v, const struct tie *t,
			 size_t nt, const char *cut, struct topg *g)
{
	memset(g, 0, sizeof *g);
	for (size_t i = 0; i < n; i++)
		if (r[i].cost > v)
			top_add(g, &r[i]);
	for (size_t i = 0; i < nt && strcmp(t[i].name, cut) <= 0; i++)
		top_add(g, t[i].r);
}

static int str_cmp(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The m-th smallest (1-based) of the NUL-terminated names in recv[0..k). */
static int tie_cut(const struct yoc_buf *recv, int k, int64_t m, char *out, struct yoc_error *e)
{
	size_t n = 0;
	for (int r = 0; r < k; r++)
		for (size_t i = 0; i < recv[r].len; i++)
			n += recv[r].data[i] == 0;
	const char **v = yoc_malloc(sizeof *v * (n ? n : 1));
	if (!v)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	size_t j = 0;
	for (int r = 0; r < k; r++)
		for (size_t i = 0; i < recv[r].len; i += strlen(recv[r].data + i) + 1)
			v[j++] = recv[r].data + i;
	qsort(v, j, sizeof *v, str_cmp);
	int rc = 0;
	if (m < 1 || (size_t)m > j)
		rc = yoc_error_set(e, YOC_EDATA, "person_year", 0, 0, "the shards hold %zu people "
				   "of the cost that cuts a top group, fewer than %lld", j,
				   (long long)m);
	else
		snprintf(out, MAXPSEUDO, "%s", v[m - 1]);
	yoc_free(v);
	return rc;
}

/* A shard's dataset state, hashed on a thread of its own beside the scan
 * (its own read-only connection), as the single report's manifest does. */
struct state_job {
	const char *db;
	char hex[65];
	int rc;
	struct yoc_error e;
};

static void *state_main(void *arg)
{
	struct state_job *j = arg;
	sqlite3 *db = NULL;
	yoc_error_clear(&j->e);
	if (sqlite3_open_v2(j->db, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		j->rc = yoc_error_set(&j->e, YOC_EIO, j->db, 0, 0, "cannot open: %s",
				      db ? sqlite3_errmsg(db) : "out of memory");
	} else {
		sqlite3_exec(db, "PRAGMA mmap_size = 1073741824", NULL, NULL, NULL);
		j->rc = yoc__dataset_state(db, j->hex, &j->e);
	}
	sqlite3_close(db);
	return NULL;
}

/* What rank 0 sends after each gather: whether to go on, and the cuts. */
struct cuts {
	int64_t status;
	int64_t v[NTOP], m[NTOP], ties[NTOP];
	char fyear[16];
	char name[NTOP][MAXPSEUDO];
};

void yoc_report_part_free(struct yoc_report_part *p)
{
	if (!p)
		return;
	yoc__acc_free(&p->a);
	yoc_free(p);
}

/* SHA-256 over "K\n" and each shard's state hash on its own line. */
static int combine_states(const struct yoc_buf *recv, int k, char hex[65])
{
	unsigned char d[32];
	unsigned int dn = 0;
	char line[80];
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	int ok = h && EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1;
	snprintf(line, sizeof line, "yoc shards %d\n", k);
	ok = ok && EVP_DigestUpdate(h, line, strlen(line)) == 1;
	for (int r = 0; ok && r < k; r++) {
		ok = recv[r].len >= 64;
		snprintf(line, sizeof line, "%.64s\n", ok ? recv[r].data : "");
		ok = ok && EVP_DigestUpdate(h, line, strlen(line)) == 1;
	}
	ok = ok && EVP_DigestFinal_ex(h, d, &dn) == 1 && dn == 32;
	EVP_MD_CTX_free(h);
	for (int i = 0; ok && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return ok ? 0 : YOC_ENOMEM;
}

int yoc_report_part_make(const char *dbpath, const char *fyear,
			 const struct yoc_report_comm *cm, struct yoc_report_part **out,
			 uint64_t *received, struct yoc_error *e)
{
	static const struct yoc_report_comm one = {0, 1, NULL, local_gather, local_bcast};
	const int sharded = cm != NULL;
	if (!cm)
		cm = &one;
	const int root = cm->rank == 0, k = cm->size;
	sqlite3 *db = NULL;
	struct yoc_report_part *P = NULL;
	struct yoc_buf send, *recv = NULL;
	struct acc mine, x;
	struct cuts *cu = yoc_calloc(1, sizeof *cu);
	int rc = 0, fail = 0;
	uint64_t got = 0;
	memset(&mine, 0, sizeof mine);
	memset(&x, 0, sizeof x);
	yoc_buf_init(&send, 0);
	*out = NULL;
	/* sharded: this shard's state for the manifest, beside the scan */
	struct state_job sj;
	pthread_t sth;
	int sjoin = 0;
	memset(&sj, 0, sizeof sj);
	sj.db = dbpath;
	if (sharded)
		sjoin = pthread_create(&sth, NULL, state_main, &sj) == 0;
	P = root ? yoc_calloc(1, sizeof *P) : NULL;
	recv = root ? yoc_calloc((size_t)k, sizeof *recv) : NULL;
	if (!cu || (root && (!P || !recv))) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		fail = 1;
	}
	for (int r = 0; recv && r < k; r++)
		yoc_buf_init(&recv[r], 0);
	if (!fail && sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
				     NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EIO, dbpath, 0, 0, "cannot open: %s",
				   db ? sqlite3_errmsg(db) : "out of memory");
		fail = 1;
	}
	if (!fail) /* read by mapping: the scans make no call per page */
		sqlite3_exec(db, "PRAGMA mmap_size = 1073741824", NULL, NULL, NULL);

	/* 1. the year: as given, or the latest of any shard */
	char fy[16] = "";
	struct ygrp *yrs = yoc_calloc(MAXY, sizeof *yrs);
	int nyrs = 0, have_yrs = 0;
	struct trow *trow = NULL;
	size_t ntrow = 0, ntl[NTOP] = {0};
	struct tie *tl[NTOP] = {NULL};
	if (!yrs && !fail) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		fail = 1;
	}
	if (fyear) {
		snprintf(fy, sizeof fy, "%s", fyear);
	} else {
		/* the years' sums come with the latest: one read serves both */
		if (!fail && (rc = yoc__part_years(db, dbpath, yrs, &nyrs, fy, e)))
			fail = 1;
		have_yrs = !fail;
		if (cm->gather(cm->ud, fail, fy, sizeof fy, recv, e))
			goto cleanup_rc;
		memset(cu, 0, sizeof *cu);
		for (int r = 0; root && r < k; r++)
			if (recv[r].len == sizeof fy && recv[r].data[sizeof fy - 1] == 0 &&
			    strcmp(recv[r].data, cu->fyear) > 0)
				memcpy(cu->fyear, recv[r].data, sizeof fy);
		cu->status = root && !cu->fyear[0];
		if ((rc = cm->bcast(cm->ud, cu, sizeof *cu, e)))
			goto cleanup;
		if (cu->status) {
			rc = yoc_error_set(e, YOC_EDATA, dbpath, 0, 0, "person_year is empty");
			goto cleanup;
		}
		memcpy(fy, cu->fyear, sizeof fy);
	}

	/* 2. each shard's partial, merged at rank 0; the year's rows kept for
	 * the top groups (step 4) */
	if (!fail && (rc = yoc__part_scan(db, fy, &mine, e)))
		fail = 1;
	if (!fail && !have_yrs && (rc = yoc__part_years(db, dbpath, yrs, &nyrs, NULL, e)))
		fail = 1;
	if (!fail) {
		mine.nyear = nyrs;
		memcpy(mine.year, yrs, sizeof yrs[0] * (size_t)nyrs);
	}
	if (!fail && yoc__part_pack(&mine, &send)) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		fail = 1;
	}
	trow = mine.trow;
	ntrow = mine.ntrow;
	mine.trow = NULL;
	yoc__acc_free(&mine);
	if (cm->gather(cm->ud, fail, send.data, send.len, recv, e))
		goto cleanup_rc;
	memset(cu, 0, sizeof *cu);
	if (root) {
		snprintf(P->fyear, sizeof P->fyear, "%s", fy);
		if (yoc_map_init(&P->a.pmap, 256))
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		for (int r = 0; !rc && r < k; r++) {
			if (r)
				got += recv[r].len;
			if (!(rc = yoc__part_unpack(recv[r].data, recv[r].len, &x, e)))
				rc = yoc__part_merge(&P->a, &x, e);
			yoc__acc_free(&x);
			yoc_buf_free(&recv[r]);
		}
		if (!rc)
			rc = yoc__part_finish(&P->a, e);
		if (!rc && P->a.all.n == 0)
			rc = yoc_error_set(e, YOC_EDATA, dbpath, 0, 0, "no person_year rows for %s", fy);
		if (!rc)
			yoc__part_top_cut(&P->a, cu->v, cu->m, cu->ties);
		cu->status = rc != 0;
	}
	if (cm->bcast(cm->ud, cu, sizeof *cu, e) || cu->status)
		goto cleanup_rc;

	/* 3. a cut inside a run of equal costs: the m-th pseudonym of the run */
	for (int t = 0; t < NTOP; t++) {
		if (cu->m[t] <= 0 || cu->m[t] >= cu->ties[t])
			continue; /* the whole run is in the group */
		yoc_buf_reset(&send);
		if (!fail && (rc = tie_list(db, trow, ntrow, cu->v[t], &tl[t], &ntl[t], e)))
			fail = 1;
		/* the first m of them, each NUL-terminated */
		for (size_t i = 0; !fail && i < ntl[t] && i < (size_t)cu->m[t]; i++)
			if (yoc_buf_append(&send, tl[t][i].name, strlen(tl[t][i].name) + 1)) {
				rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
				fail = 1;
			}
		if (cm->gather(cm->ud, fail, send.data, send.len, recv, e))
			goto cleanup_rc;
		cu->status = 0;
		if (root) {
			for (int r = 1; r < k; r++)
				got += recv[r].len;
			rc = tie_cut(recv, k, cu->m[t], cu->name[t], e);
			cu->status = rc != 0;
		}
		if (cm->bcast(cm->ud, cu, sizeof *cu, e) || cu->status)
			goto cleanup_rc;
	}

	/* 4. each top group's members on every shard, summed */
	struct topg g[NTOP];
	memset(g, 0, sizeof g);
	for (int t = 0; !fail && t < NTOP; t++) {
		if (cu->m[t] <= 0)
			continue;
		if (cu->m[t] >= cu->ties[t]) /* the whole run of v */
			top_rows(trow, ntrow, cu->v[t], &g[t]);
		else
			top_rows_cut(trow, ntrow, cu->v[t], tl[t], ntl[t], cu->name[t], &g[t]);
	}
	/* and, sharded, this shard's dataset state for the manifest */
	char st[65] = "";
	if (sjoin) {
		pthread_join(sth, NULL);
		sjoin = 0;
	} else if (sharded) {
		state_main(&sj); /* no thread: in line */
	}
	if (!fail && sharded && sj.rc) {
		rc = sj.rc;
		*e = sj.e;
		fail = 1;
	}
	memcpy(st, sj.hex, sizeof st);
	yoc_buf_reset(&send);
	if (yoc_buf_append(&send, g, sizeof g) || yoc_buf_append(&send, st, sizeof st)) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		fail = 1;
	}
	if (cm->gather(cm->ud, fail, send.data, send.len, recv, e))
		goto cleanup_rc;
	if (root) {
		struct yoc_buf *sv = yoc_calloc((size_t)k, sizeof *sv);
		if (!sv) {
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			goto cleanup;
		}
		for (int r = 0; !rc && r < k; r++) {
			if (recv[r].len != sizeof g + sizeof st) {
				rc = yoc_error_set(e, YOC_EDATA, "report partial", 0, 0,
						   "rank %d sent %zu bytes of top groups", r, recv[r].len);
				break;
			}
			if (r)
				got += recv[r].len;
			memcpy(g, recv[r].data, sizeof g);
			for (int t = 0; t < NTOP; t++) {
				struct topg *a = &P->a.top[t];
				a->n += g[t].n;
				a->cost += g[t].cost;
				a->ltc += g[t].ltc;
				a->emerg += g[t].emerg;
				add64(a->age, g[t].age, NBROAD);
				add64(a->used, g[t].used, NSET);
			}
			sv[r].data = recv[r].data + sizeof g;
			sv[r].len = sizeof st - 1;
		}
		if (!rc && sharded && combine_states(sv, k, P->state))
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		yoc_free(sv);
		if (!rc) {
			*out = P;
			P = NULL;
		}
	}
	goto cleanup;
cleanup_rc:
	if (!rc)
		rc = e->code ? e->code : YOC_EDATA;
	if (!e->msg[0])
		yoc_error_set(e, rc, NULL, 0, 0, "another rank failed");
cleanup:
	if (sjoin)
		pthread_join(sth, NULL);
	if (received)
		*received = got;
	yoc__acc_free(&mine);
	yoc__acc_free(&x);
	yoc_report_part_free(P);
	for (int r = 0; recv && r < k; r++)
		yoc_buf_free(&recv[r]);
	yoc_free(recv);
	yoc_buf_free(&send);
	yoc_free(cu);
	yoc_free(yrs);
	yoc_free(trow);
	for (int t = 0; t < NTOP; t++)
		ties_free(tl[t], ntl[t]);
	sqlite3_close(db);
	return rc;
}

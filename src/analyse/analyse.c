/*
** yoc_analyse_run: the person-year analysis (see analyse.h for the shape,
** docs/analysis.md for the rules). Three steps:
**   1. years and registrations: the analysed financial years are those of
**      the current gp_register files; one pass over their rows marks every
**      person registered (and alive) in each year, picks the practice and
**      collects the GP register LTC flags;
**   2. activity: every current activity segment is read once by a worker
**      thread; each row is costed (analyse_price.c) and added to its
**      person's accumulator for the year of its activity date, and APC
**      diagnoses mark LTCs for the years whose lookback covers the episode;
**      APC episodes are collected instead, and after the pass grouped into
**      spells, each priced once (src/cost) in the year of admission, its
**      bed days split over the years its nights fall in;
**   3. output (analyse_write.c).
** Accumulators are updated with relaxed atomic operations (integer sums and
** bit ORs), so the result does not depend on the order rows are read in.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "analyse/analyse_int.h"
#include "yoc/date.h"
#include "yoc/io.h"

/* A spell episode's tag: provider id below this bit, LK_* + 1 from it */
#define TAG_LINK_SHIFT 30

void yoc_analyse_opts_init(struct yoc_analyse_opts *o)
{
	memset(o, 0, sizeof *o);
	o->codelist = "data/ltc_codelist.csv";
	o->tariff_dir = "data";
	o->lookback_years = 3;
	o->bands = NULL;
}

/* Year index (0..ny-1) of a date, or -1 outside the analysed years. */
static inline int year_of(const struct an_run *R, int32_t d)
{
	if (d < R->fs[0] || d >= R->fs[R->ny])
		return -1;
	int y = 0;
	while (d >= R->fs[y + 1])
		y++;
	return y;
}

int an_month_of(int y, int32_t d)
{
	int yy, mm, dd;
	yoc_date_to_ymd(d, &yy, &mm, &dd);
	return y * 12 + (mm + 8) % 12; /* April 0 ... March 11 */
}

/* ---- step 1: years ----------------------------------------------------------- */

/*
** Financial year of a register file's period ("2021-22", "2021/22", "2122",
** or a month "2021-04", "202104") and the days it covers, [*d0, *d1).
*/
static int period_span(const char *p, int *fy, int32_t *d0, int32_t *d1)
{
	size_t n = strlen(p);
	if (yoc_fyear_parse(p, n, fy) == 0) {
		*d0 = yoc_fyear_start(*fy);
		*d1 = yoc_fyear_start(*fy + 1);
		return 0;
	}
	int y, m;
	if ((n == 7 && p[4] == '-' && sscanf(p, "%4d-%2d", &y, &m) == 2) ||
	    (n == 6 && sscanf(p, "%4d%2d", &y, &m) == 2)) {
		if (m < 1 || m > 12 || y < 1900 || y > 2200)
			return -1;
		*fy = m >= 4 ? y : y - 1;
		*d0 = yoc_date_from_ymd(y, m, 1);
		*d1 = m == 12 ? yoc_date_from_ymd(y + 1, 1, 1) : yoc_date_from_ymd(y, m + 1, 1);
		return 0;
	}
	return -1;
}

static int period_fyear(const char *p, int *fy)
{
	int32_t a, b;
	return period_span(p, fy, &a, &b);
}

static int find_years(struct an_run *R, struct yoc_error *e)
{
	struct yoc_file_info *fi = NULL;
	size_t nf = 0;
	int rc = yoc_store_files(R->s, YOC_KIND_GP_REGISTER, 0, &fi, &nf, e);
	if (rc)
		return rc;
	int lo = 0, hi = -1;
	for (size_t i = 0; i < nf; i++) {
		int fy;
		if (period_fyear(fi[i].period, &fy))
			continue;
		if (hi < lo) {
			lo = hi = fy;
		} else {
			lo = fy < lo ? fy : lo;
			hi = fy > hi ? fy : hi;
		}
	}
	yoc_store_files_free(fi);
	if (nf == 0)
		return yoc_error_set(e, YOC_EDATA, yoc_store_dir(R->s), 0, 0,
				     "no gp_register files loaded: the registered population is "
				     "needed (load the GP register feed first)");
	if (hi < lo)
		return yoc_error_set(e, YOC_EDATA, yoc_store_dir(R->s), 0, 0,
				     "no gp_register file has a financial-year period in its name "
				     "(PRACTICE_2023-24.csv)");
	if (hi - lo + 1 > AN_MAX_YEARS)
		return yoc_error_set(e, YOC_ETOOBIG, yoc_store_dir(R->s), 0, 0,
				     "more than %d financial years of registrations", AN_MAX_YEARS);
	R->fy0 = lo;
	R->ny = hi - lo + 1;
	for (int y = 0; y <= R->ny; y++)
		R->fs[y] = yoc_fyear_start(lo + y);
	return YOC_OK;
}

/* ---- step 1: registrations and register flags ----------------------------------- */

static int prac_id(struct an_run *R, struct yoc_cell c, uint32_t *id)
{
	uint64_t *v = yoc_map_get(&R->pracmap, c.p, c.n);
	if (v) {
		*id = (uint32_t)*v;
		return YOC_OK;
	}
	if (R->nprac == R->cprac) {
		size_t nc = R->cprac ? R->cprac * 2 : 256;
		char **na = yoc_realloc(R->prac, nc * sizeof *na);
		if (!na)
			return YOC_ENOMEM;
		R->prac = na;
		R->cprac = nc;
	}
	char *z = yoc_strndup(c.p, c.n);
	if (!z)
		return YOC_ENOMEM;
	if (yoc_map_put(&R->pracmap, c.p, c.n, R->nprac, NULL)) {
		yoc_free(z);
		return YOC_ENOMEM;
	}
	R->prac[R->nprac] = z;
	*id = (uint32_t)R->nprac++;
	return YOC_OK;
}

/* A register flag cell: its date, or for a yes/no flag "known" with no date. */
enum { FLAG_NO = 0, FLAG_DATE, FLAG_YES };
static int flag_value(struct yoc_cell c, int32_t *d)
{
	while (c.n && c.p[c.n - 1] == ' ')
		c.n--;
	while (c.n && c.p[0] == ' ') {
		c.p++;
		c.n--;
	}
	if (c.n == 0)
		return FLAG_NO;
	if (yoc_date_parse(c.p, c.n, d) == YOC_DATE_VALID)
		return FLAG_DATE;
	if ((c.n == 1 && (c.p[0] == '1' || c.p[0] == 'Y' || c.p[0] == 'y')) ||
	    (c.n == 3 && strncasecmp(c.p, "yes", 3) == 0) ||
	    (c.n == 4 && strncasecmp(c.p, "true", 4) == 0))
		return FLAG_YES;
	return FLAG_NO;
}

struct worker {
	struct an_run *R;
	struct an_cache *pc;
	/* counts kept per worker and added up at the end */
	int64_t why[AN_MAX_YEARS][YOC_KIND_COUNT][NWHY];
	int64_t how_n[AN_MAX_YEARS][YOC_KIND_COUNT][NHOW];
	int64_t how_cost[AN_MAX_YEARS][YOC_KIND_COUNT][NHOW];
	struct an_link lk[AN_MAX_YEARS][YOC_KIND_COUNT][NLK];
	int64_t mon_n[AN_MAX_YEARS * 12][NSET];
	int64_t mon_cost[AN_MAX_YEARS * 12][NSET];
	uint64_t rows, unlinked, outside;
	/* person index of each row of the current segment, its rows' codes of
	 * a dictionary person column and each entry's person */
	int32_t *pidx;
	uint32_t *codes;
	size_t pcap;
	int32_t *dpidx;
	size_t dcap;
	/* APC episodes of linked persons (merged into R->spells at the end) */
	yoc_spells *spells;
	/* month of the period of recent dates (month_in) */
	int32_t mdate[256];
	int16_t mmon[256];
	/* memo of the last provider name */
	char last_prov[64];
	size_t last_len;
	int last_id;
};

/*
** Eight lowercase hex digits at p as the 32-bit number they spell; *bad gets
** a bit set unless all eight are such digits. Eight bytes at once: with each
** byte's top bit set, subtracting c from all of them leaves the top bit set
** where the byte was >= c (no borrow crosses a byte); a digit's value is its
** low four bits, plus 9 for a letter (bit 6); then the nibbles are packed,
** the first the most significant.
*/
static inline uint64_t hex8(const unsigned char *p, uint64_t *bad)
{
	const uint64_t H = 0x8080808080808080ULL, L = 0x0101010101010101ULL;
	uint64_t w, t;
	memcpy(&w, p, 8);
	t = w | H;
	uint64_t digit = ((t - '0' * L) & ~(t - ':' * L)) & H;
	uint64_t lower = ((t - 'a' * L) & ~(t - 'g' * L)) & H;
	*bad |= (w & H) | ((digit | lower) ^ H);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t x = (w & 0x0F0F0F0F0F0F0F0FULL) + ((w >> 6) & L) * 9;
	x = ((x << 4) | (x >> 8)) & 0x00FF00FF00FF00FFULL;
	x = (x | x >> 8) & 0x0000FFFF0000FFFFULL;
	x = (x | x >> 16) & 0xFFFFFFFFULL;
	return __builtin_bswap32((uint32_t)x);
#else
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 4 | (uint64_t)((p[i] & 0xF) + (p[i] >> 6 & 1) * 9);
	return v;
#endif
}

/* A 64-hex pseudonym as four big-endian words (so word order is text order); 0 if not. */
static inline int hex_key(const char *p, size_t n, uint64_t k[4])
{
	if (n != 64)
		return 0;
	const unsigned char *u = (const unsigned char *)p;
	uint64_t bad = 0;
	for (int w = 0; w < 4; w++)
		k[w] = hex8(u + 16 * w, &bad) << 32 | hex8(u + 16 * w + 8, &bad);
	return bad == 0;
}

static inline uint32_t key_bucket(const struct an_run *R, const uint64_t k[4])
{
	return (uint32_t)(k[0] >> (64 - R->bbits));
}

/*
** Builds R->keys (each person's pseudonym as 32 bytes, in person order) and
** R->bucket (bucket b = the persons whose first bits are b) when every
** pseudonym is 64 lowercase hex; otherwise leaves them NULL and persons are
** found through the store (yoc_seg_person).
*/
static int build_keys(struct an_run *R)
{
	R->bbits = 1;
	while (R->bbits < 31 && ((size_t)1 << R->bbits) < R->np)
		R->bbits++;
	size_t nb = (size_t)1 << R->bbits;
	R->keys = yoc_malloc((R->np + 1) * sizeof *R->keys);
	R->bucket = yoc_malloc((nb + 1) * sizeof *R->bucket);
	if (!R->keys || !R->bucket)
		goto none;
	for (size_t i = 0; i < R->np; i++) {
		const char *z = R->persons[i].pseudo;
		if (!hex_key(z, strlen(z), R->keys[i].w))
			goto none;
		if (i > 0 && memcmp(R->persons[i - 1].pseudo, z, 64) >= 0)
			goto none; /* not sorted and distinct: cannot happen, but never guess */
	}
	size_t i = 0;
	for (size_t b = 0; b <= nb; b++) {
		while (i < R->np && key_bucket(R, R->keys[i].w) < b)
			i++;
		R->bucket[b] = (uint32_t)i;
	}
	return YOC_OK;
none:
	yoc_free(R->keys);
	yoc_free(R->bucket);
	R->keys = NULL;
	R->bucket = NULL;
	return YOC_OK;
}

/* Key i of a person column: its dictionary entry i, or row i's cell. */
static inline struct yoc_cell key_at(const yoc_seg *g, int col, int dict, size_t i)
{
	return dict ? yoc_seg_dict_entry(g, col, (uint32_t)i) : yoc_seg_text(g, col, i);
}

/*
** Person index of n keys of a person column (key_at) into out. A
** pseudonym's first bits name a bucket of R->keys of about one person
** (every pseudonym is 64 hex, and keyed hashes are uniform), whose whole
** key is then compared: a cache miss or two instead of a hash and a probe,
** and the loads of keys ahead are started early (prefetch) so the misses
** overlap. A run of equal keys is looked up once.
*/
static void lookup_keys(const struct an_run *R, const yoc_seg *g, int col, int dict, size_t n,
			int32_t *out)
{
	/*
	 * Keys are taken in blocks of A. Each distinct key is decoded once,
	 * 2A keys ahead, into a ring of 3A entries, and its bucket prefetched;
	 * A keys ahead, its first key is prefetched; then it is looked up.
	 */
	enum { A = 16, RING = 3 * A };
	struct { uint64_t k[4]; int state; } ring[RING]; /* state: 0 not hex, 1 key, 2 as key before */
	size_t decoded = 0, staged = 0;
	int32_t last_p = -1;
	for (size_t r = 0; r < n; r++) {
		if (r % A == 0) {
			size_t to = r + 3 * A < n ? r + 3 * A : n;
			for (; decoded < to; decoded++) {
				struct yoc_cell c = key_at(g, col, dict, decoded);
				int slot = (int)(decoded % RING);
				if (decoded > 0 && !dict) {
					struct yoc_cell pc = key_at(g, col, dict, decoded - 1);
					if (pc.n == c.n && memcmp(pc.p, c.p, c.n) == 0) {
						ring[slot].state = 2;
						continue;
					}
				}
				ring[slot].state = hex_key(c.p, c.n, ring[slot].k);
				if (ring[slot].state)
					__builtin_prefetch(&R->bucket[key_bucket(R, ring[slot].k)]);
			}
			to = r + 2 * A < n ? r + 2 * A : n;
			for (; staged < to; staged++) {
				int slot = (int)(staged % RING);
				if (ring[slot].state == 1)
					__builtin_prefetch(&R->keys[R->bucket[key_bucket(R, ring[slot].k)]]);
			}
		}
		int slot = (int)(r % RING);
		if (ring[slot].state == 2) {
			out[r] = last_p;
			continue;
		}
		int32_t found = -1;
		if (ring[slot].state == 1) {
			const uint64_t *k = ring[slot].k;
			uint32_t b = key_bucket(R, k);
			for (uint32_t i = R->bucket[b]; i < R->bucket[b + 1]; i++) {
				const uint64_t *q = R->keys[i].w;
				if (q[0] == k[0] && q[1] == k[1] && q[2] == k[2] && q[3] == k[3]) {
					found = (int32_t)i;
					break;
				}
			}
		} /* else not 64 hex: not in a person table whose pseudonyms all are */
		out[r] = found;
		last_p = found;
	}
}

/*
** Person index of every row of a segment: with R->keys, each distinct
** pseudonym of a dictionary-encoded column (format 2) is looked up once
** and the rows take their entry's answer (a pooled one, format 3, through
** the store's answer per pseudonym id, once for the dataset); a plain column (format 1) is
** looked up row by row. Same answers as yoc_seg_person (which is used
** without R->keys).
*/
static int resolve_persons(struct worker *w, const yoc_seg *g, size_t nr)
{
	struct an_run *R = w->R;
	if (nr > w->pcap) {
		int32_t *np = yoc_realloc(w->pidx, nr * sizeof *np);
		uint32_t *nc = yoc_realloc(w->codes, nr * sizeof *nc);
		if (np)
			w->pidx = np;
		if (nc)
			w->codes = nc;
		if (!np || !nc)
			return YOC_ENOMEM;
		w->pcap = nr;
	}
	int col = yoc_seg_col(g, "PSEUDO_ID");
	if (!R->keys || col < 0) {
		for (size_t r = 0; r < nr; r++)
			w->pidx[r] = yoc_seg_person(g, r);
		return YOC_OK;
	}
	int64_t nd = yoc_seg_dict_codes(g, col, NULL);
	if (nd < 0) {
		lookup_keys(R, g, col, 0, nr, w->pidx);
		return YOC_OK;
	}
	/* entry nd: a damaged code, which reads as "" (no person) */
	if ((size_t)nd + 1 > w->dcap) {
		int32_t *nx = yoc_realloc(w->dpidx, ((size_t)nd + 1) * sizeof *nx);
		if (!nx)
			return YOC_ENOMEM;
		w->dpidx = nx;
		w->dcap = (size_t)nd + 1;
	}
	if (yoc_seg_pool_ids(g, col, w->codes) == nd)
		/* pooled (format 3): each pseudonym's person once for the dataset */
		yoc_store_pool_persons(R->s, w->codes, (size_t)nd, w->dpidx);
	else
		lookup_keys(R, g, col, 1, (size_t)nd, w->dpidx);
	w->dpidx[nd] = -1;
	yoc_seg_dict_codes(g, col, w->codes);
	for (size_t r = 0; r < nr; r++)
		w->pidx[r] = w->dpidx[w->codes[r]];
	return YOC_OK;
}

static int register_pass(struct an_run *R, struct yoc_error *e)
{
	struct yoc_file_info *fi = NULL;
	size_t nf = 0;
	int rc = yoc_store_files(R->s, YOC_KIND_GP_REGISTER, 0, &fi, &nf, e);
	if (rc)
		return rc;
	size_t ncond = yoc_ltc_count(R->ltc);
	struct worker *w = yoc_calloc(1, sizeof *w);
	if (!w) {
		yoc_store_files_free(fi);
		return yoc_error_set(e, YOC_ENOMEM, yoc_store_dir(R->s), 0, 0, "out of memory");
	}
	w->R = R;
	for (size_t i = 0; i < nf && !rc; i++) {
		yoc_seg *g = NULL;
		if ((rc = yoc_seg_open(R->s, fi[i].file_id, &g, e)))
			break;
		if ((rc = resolve_persons(w, g, yoc_seg_nrows(g)))) {
			yoc_seg_close(g);
			yoc_error_set(e, rc, yoc_store_dir(R->s), 0, 0, "out of memory");
			break;
		}
		/* A register file is a snapshot of its period: an empty REG_END means
		 * still registered at the end of the period, not for ever. */
		int fy = 0;
		int32_t p0 = INT32_MIN, p1 = INT32_MAX;
		period_span(fi[i].period, &fy, &p0, &p1);
		if ((rc = an_gaps_file(R, fi[i].provider))) {
			yoc_seg_close(g);
			yoc_error_set(e, rc, yoc_store_dir(R->s), 0, 0, "out of memory");
			break;
		}
		int c_prac = yoc_seg_col(g, "GPPRAC"), c_rs = yoc_seg_col(g, "REG_START");
		int c_re = yoc_seg_col(g, "REG_END");
		/* flag columns: typed dates (fdate) or text */
		int fcol[YOC_LTC_MAX];
		const int32_t *fdate[YOC_LTC_MAX];
		for (size_t k = 0; k < ncond; k++) {
			const struct yoc_ltc_cond *cd = yoc_ltc_get(R->ltc, k);
			fcol[k] = cd->flag[0] ? yoc_seg_col(g, cd->flag) : -1;
			fdate[k] = fcol[k] >= 0 ? yoc_seg_dates(g, fcol[k]) : NULL;
		}
		size_t nr = yoc_seg_nrows(g);
		struct yoc_cell last_prac = {NULL, 0};
		uint32_t pid = 0;
		for (size_t r = 0; r < nr; r++) {
			int32_t p = w->pidx[r];
			int32_t rs = yoc_seg_date(g, c_rs, r), re = yoc_seg_date(g, c_re, r);
			if (p < 0) {
				R->st->unlinked++;
				continue;
			}
			if (rs <= YOC_DATE_HES_INVALID)
				continue; /* REG_START is required: cannot happen in a segment */
			if (re <= YOC_DATE_HES_INVALID)
				re = INT32_MAX;
			int32_t dod = R->persons[p].dod;
			if (dod > YOC_DATE_HES_INVALID && dod < re)
				re = dod; /* nobody is registered after death */
			struct yoc_cell pc = yoc_seg_text(g, c_prac, r);
			if (!last_prac.p || pc.n != last_prac.n || memcmp(pc.p, last_prac.p, pc.n) != 0) {
				if ((rc = prac_id(R, pc, &pid))) {
					yoc_error_set(e, rc, yoc_store_dir(R->s), 0, 0, "out of memory");
					break;
				}
				last_prac = pc;
			}
			an_gaps_note(R, p, fy, rs, re, p1, pid); /* still open at the period's end? */
			if (re >= p1)
				re = p1 - 1;
			uint64_t yes = 0;
			struct py *row = &R->py[(size_t)p * R->ny];
			for (size_t k = 0; k < ncond; k++) {
				int32_t d = YOC_DATE_NONE;
				int f = FLAG_NO;
				if (fcol[k] < 0)
					continue;
				if (fdate[k])
					f = (d = fdate[k][r]) > YOC_DATE_HES_INVALID ? FLAG_DATE : FLAG_NO;
				else
					f = flag_value(yoc_seg_text(g, fcol[k], r), &d);
				if (f == FLAG_YES) {
					yes |= (uint64_t)1 << k;
				} else if (f == FLAG_DATE) {
					/* on the register from d on: every year ending on or after d */
					for (int y = 0; y < R->ny; y++)
						if (d < R->fs[y + 1])
							row[y].reg_mask |= (uint64_t)1 << k;
				}
			}
			for (int y = 0; y < R->ny; y++) {
				if (rs >= R->fs[y + 1] || re < R->fs[y] || re < p0)
					continue;
				struct py *q = &row[y];
				q->reg_mask |= yes;
				/* the practice on the first day registered in the year: the
				 * overlapping registration that started first; equal starts:
				 * the smaller practice code */
				if (q->prac == 0 || rs < q->prac_start ||
				    (rs == q->prac_start && strcmp(R->prac[pid], R->prac[q->prac - 1]) < 0)) {
					q->prac = pid + 1;
					q->prac_start = rs;
				}
			}
		}
		yoc_seg_close(g);
	}
	yoc_free(w->pidx);
	yoc_free(w->codes);
	yoc_free(w->dpidx);
	yoc_free(w);
	yoc_store_files_free(fi);
	return rc;
}

/* ---- step 2: activity ----------------------------------------------------------------- */

static inline void add64(int64_t *p, int64_t v)
{
	if (v)
		__atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

static inline void add32(int32_t *p, int32_t v)
{
	if (v)
		__atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

static inline void or64(uint64_t *p, uint64_t v)
{
	if ((__atomic_load_n(p, __ATOMIC_RELAXED) & v) != v)
		__atomic_fetch_or(p, v, __ATOMIC_RELAXED);
}

/* Provider id of a name (worker side: takes the lock on a miss of the caller's memo). */
static int prov_id(struct an_run *R, struct yoc_cell c, int *id)
{
	int rc = YOC_OK;
	pthread_mutex_lock(&R->lock);
	uint64_t *v = yoc_map_get(&R->provmap, c.p, c.n);
	if (v) {
		*id = (int)*v;
		goto done;
	}
	if (R->nprov == AN_MAX_PROV) {
		/* past the cap every further provider shares the last slot, named OTHER */
		*id = AN_MAX_PROV - 1;
		goto done;
	}
	size_t i = R->nprov;
	R->prov[i] = R->nprov == AN_MAX_PROV - 1 ? yoc_strdup("OTHER") : yoc_strndup(c.p, c.n);
	R->pacc[i] = yoc_calloc((size_t)R->ny * NSET, sizeof(struct pacc));
	if (!R->prov[i] || !R->pacc[i] || yoc_map_put(&R->provmap, c.p, c.n, i, NULL)) {
		yoc_free(R->prov[i]);
		yoc_free(R->pacc[i]);
		R->prov[i] = NULL;
		R->pacc[i] = NULL;
		rc = YOC_ENOMEM;
		goto done;
	}
	R->nprov++;
	*id = (int)i;
done:
	pthread_mutex_unlock(&R->lock);
	return rc;
}

static int prov_people(struct an_run *R, struct pacc *a, int32_t p)
{
	uint64_t *bits = __atomic_load_n(&a->people, __ATOMIC_ACQUIRE);
	if (!bits) {
		pthread_mutex_lock(&R->lock);
		if (!a->people) {
			uint64_t *nb = yoc_calloc(R->np / 64 + 1, sizeof *nb);
			if (!nb) {
				pthread_mutex_unlock(&R->lock);
				return YOC_ENOMEM;
			}
			__atomic_store_n(&a->people, nb, __ATOMIC_RELEASE);
		}
		bits = a->people;
		pthread_mutex_unlock(&R->lock);
	}
	or64(&bits[p >> 6], (uint64_t)1 << (p & 63));
	return YOC_OK;
}

static int provider_of(struct worker *w, const struct yoc_file_info *f, const yoc_seg *g,
		       const struct an_cols *c, size_t r, int *id)
{
	struct yoc_cell pc = yoc_seg_text(g, c->provider, r);
	if (pc.n == 0) {
		pc.p = f->provider;
		pc.n = strlen(f->provider);
	}
	if (pc.n < sizeof w->last_prov && w->last_id >= 0 && pc.n == w->last_len &&
	    memcmp(pc.p, w->last_prov, pc.n) == 0) {
		*id = w->last_id;
		return YOC_OK;
	}
	int rc = prov_id(w->R, pc, id);
	if (rc == 0 && pc.n < sizeof w->last_prov) {
		memcpy(w->last_prov, pc.p, pc.n);
		w->last_len = pc.n;
		w->last_id = *id;
	}
	return rc;
}

/*
** The month of the period (an_month_of) of date d, or -1 outside the
** analysed years; memoised, since a file's rows share few dates.
*/
static inline int month_in(struct worker *w, int32_t d)
{
	unsigned h = (unsigned)d & 255;
	if (w->mdate[h] == d)
		return w->mmon[h];
	int y = d > YOC_DATE_HES_INVALID ? year_of(w->R, d) : -1;
	w->mdate[h] = d;
	w->mmon[h] = (int16_t)(y < 0 ? -1 : an_month_of(y, d));
	return w->mmon[h];
}

static void month_memo_init(struct worker *w)
{
	for (int i = 0; i < 256; i++) {
		w->mdate[i] = YOC_DATE_NONE; /* outside every year: -1 */
		w->mmon[i] = -1;
	}
}

static int do_segment(struct worker *w, const struct yoc_file_info *f, yoc_seg *g,
		      struct yoc_error *e)
{
	struct an_run *R = w->R;
	struct an_cols c;
	an_cols_resolve(g, &c);
	const int kind = c.kind;
	const int apc = kind == YOC_KIND_APC;
	const int lb = R->o->lookback_years;
	const size_t nr = yoc_seg_nrows(g);
	w->last_id = -1;
	if (resolve_persons(w, g, nr))
		return yoc_error_set(e, YOC_ENOMEM, yoc_store_dir(R->s), 0, 0, "out of memory");
	for (size_t r = 0; r < nr; r++) {
		int32_t p = w->pidx[r];
		int32_t d = yoc_seg_activity_date(g, r);
		if (r + 8 < nr && w->pidx[r + 8] >= 0) {
			/* the person-year and the month the row 8 ahead adds to */
			size_t p8 = (size_t)w->pidx[r + 8];
			int m8 = month_in(w, yoc_seg_activity_date(g, r + 8));
			__builtin_prefetch(&R->py[p8 * R->ny]);
			if (m8 >= 0 && R->mcost)
				__builtin_prefetch(&R->mcost[p8 * (size_t)R->ny * 12 + (size_t)m8]);
		}
		if (apc && p >= 0 && d > YOC_DATE_HES_INVALID && R->ny) {
			/* diagnoses count for every year whose lookback window
			 * (that year and the lb - 1 before it) holds the episode */
			int fy = yoc_fyear_of(d) - R->fy0;
			if (fy < R->ny && fy + lb - 1 >= 0) {
				uint64_t m = an_diag_mask(R, w->pc, g, &c, r);
				if (m) {
					struct py *row = &R->py[(size_t)p * R->ny];
					int y1 = fy + lb - 1 < R->ny - 1 ? fy + lb - 1 : R->ny - 1;
					for (int k = fy < 0 ? 0 : fy; k <= y1; k++)
						or64(&row[k].icd_mask, m);
				}
			}
		}
		if (apc) {
			/* an episode of a spell: priced with its spell (spell_pass), which
			 * counts in the year of admission */
			struct yoc_apc_epi ep;
			an_apc_episode(g, &c, r, d, &ep);
			if (p >= 0) {
				int pid;
				struct yoc_cell pc = yoc_seg_text(g, c.provider, r);
				if (pc.n == 0) {
					pc.p = f->provider;
					pc.n = strlen(f->provider);
				}
				int rc = provider_of(w, f, g, &c, r, &pid);
				/* the tag: the provider, and in its top bits how linkage
				 * found the person (LK_* + 1), for linkage_gain */
				int lk = an_link_of(g, &c, r);
				if (!rc && pid >= (1 << TAG_LINK_SHIFT))
					rc = YOC_ETOOBIG;
				if (!rc)
					rc = yoc_spells_add(w->spells, (uint64_t)p,
							    (uint32_t)pid | (uint32_t)(lk + 1) << TAG_LINK_SHIFT,
							    yoc_seg_text(g, c.susspellid, r), pc, &ep);
				if (rc)
					return yoc_error_set(e, rc, yoc_store_dir(R->s), 0, 0,
							     rc == YOC_ENOMEM ? "out of memory"
							     : "too many APC episodes");
				continue;
			}
			d = ep.admidate > YOC_DATE_HES_INVALID ? ep.admidate : d;
		}
		int y = d > YOC_DATE_HES_INVALID ? year_of(R, d) : -1;
		if (y < 0) {
			w->outside++;
			continue;
		}
		if (p < 0) {
			w->unlinked++;
			struct yoc_cell pk = yoc_seg_text(g, yoc_seg_col(g, "PSEUDO_ID"), r);
			w->why[y][kind][pk.n ? WHY_NOT_REGISTERED : WHY_NO_PSEUDONYM]++;
			continue;
		}
		struct py *q = &R->py[(size_t)p * R->ny + y];
		if (q->prac == 0) {
			w->why[y][kind][WHY_OUTSIDE_REG]++;
			continue;
		}
		struct an_cost ac;
		an_cost_row(R, w->pc, g, &c, r, d, &ac);
		if (ac.setting < 0)
			continue;
		w->how_n[y][kind][ac.how]++;
		w->how_cost[y][kind][ac.how] += ac.pence;
		if (ac.how == HOW_UNPRICED) {
			w->why[y][kind][WHY_NO_PRICE]++;
			continue;
		}
		int mo = month_in(w, d);
		if (an_add32(R, &q->cost[ac.setting], &R->pwide, an_py_key(R, y, p, ac.setting),
			     ac.pence) ||
		    an_month_cost(R, p, mo, ac.pence))
			return yoc_error_set(e, YOC_ENOMEM, yoc_store_dir(R->s), 0, 0, "out of memory");
		if (kind == YOC_KIND_MH) {
			int64_t bd = an_int(g, c.bed_days, r);
			if (bd > 0 && bd < INT32_MAX)
				add32(&q->mh_bed_days, (int32_t)bd);
		}
		if (ac.how != HOW_ZERO) {
			int pid;
			int rc = provider_of(w, f, g, &c, r, &pid);
			struct pacc *a = rc ? NULL : &R->pacc[pid][y * NSET + ac.setting];
			if (rc || (rc = prov_people(R, a, p)))
				return yoc_error_set(e, rc, yoc_store_dir(R->s), 0, 0, "out of memory");
			add64(&a->activity, 1);
			add64(&a->cost, ac.pence);
			int lk = an_link_of(g, &c, r);
			if (lk >= 0) {
				w->lk[y][kind][lk].records++;
				w->lk[y][kind][lk].cost += ac.pence;
			}
			w->mon_n[mo][ac.setting]++;
			w->mon_cost[mo][ac.setting] += ac.pence;
		}
	}
	w->rows += nr;
	return YOC_OK;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct an_run *R = w->R;
	for (;;) {
		pthread_mutex_lock(&R->lock);
		if (R->failed || R->next == R->nfiles) {
			pthread_mutex_unlock(&R->lock);
			break;
		}
		const struct yoc_file_info *f = &R->files[R->next++];
		yoc_seg *g = NULL;
		struct yoc_error e;
		yoc_error_clear(&e);
		int rc;
		if (R->keys) {
			/* persons are found without the store (resolve_persons), so the
			 * segment is opened, and its checksums verified, outside the lock */
			pthread_mutex_unlock(&R->lock);
			char path[4096];
			snprintf(path, sizeof path, "%s/segments/%s", yoc_store_dir(R->s), f->segment);
			rc = yoc_seg_open_path(path, &g, &e);
		} else {
			/* the store is used by one thread at a time: open under the lock */
			rc = yoc_seg_open(R->s, f->file_id, &g, &e);
			pthread_mutex_unlock(&R->lock);
		}
		if (rc == 0)
			rc = do_segment(w, f, g, &e);
		size_t nr = g ? yoc_seg_nrows(g) : 0;
		yoc_seg_close(g);
		pthread_mutex_lock(&R->lock);
		if (rc && !R->failed) {
			R->failed = rc;
			R->err = e;
		}
		R->rows_done += nr;
		yoc_progress_update(&R->prog, R->rows_done);
		pthread_mutex_unlock(&R->lock);
		if (rc)
			break;
	}
	return NULL;
}

int an_threads(const struct an_run *R, size_t nfiles)
{
	int nt = R->o->threads;
	if (nt <= 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		nt = c < 1 ? 1 : c > 8 ? 8 : (int)c;
	}
	if ((size_t)nt > nfiles)
		nt = nfiles ? (int)nfiles : 1;
	return nt;
}

static int activity_pass(struct an_run *R, struct yoc_error *e)
{
	struct yoc_file_info *all = NULL;
	size_t n = 0;
	int rc = yoc_store_files(R->s, -1, 0, &all, &n, e);
	if (rc)
		return rc;
	/* activity kinds only; biggest files first so the workers finish together */
	size_t k = 0;
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		if (yoc_spec_kind_activity(all[i].kind)) {
			all[k++] = all[i];
			total += (uint64_t)all[i].loaded;
		}
	for (size_t i = 1; i < k; i++) {
		struct yoc_file_info t = all[i];
		size_t j = i;
		while (j > 0 && all[j - 1].loaded < t.loaded) {
			all[j] = all[j - 1];
			j--;
		}
		all[j] = t;
	}
	R->files = all;
	R->nfiles = k;
	R->next = 0;
	R->st->files = k;
	int nt = an_threads(R, k);
	struct worker *w = yoc_calloc((size_t)nt, sizeof *w);
	pthread_t *tid = yoc_calloc((size_t)nt, sizeof *tid);
	int started = 0;
	if (!w || !tid) {
		rc = yoc_error_set(e, YOC_ENOMEM, yoc_store_dir(R->s), 0, 0, "out of memory");
		goto cleanup;
	}
	for (int i = 0; i < nt; i++) {
		w[i].R = R;
		month_memo_init(&w[i]);
		if (!(w[i].pc = an_cache_create()) || !(w[i].spells = yoc_spells_create())) {
			rc = yoc_error_set(e, YOC_ENOMEM, yoc_store_dir(R->s), 0, 0, "out of memory");
			goto cleanup;
		}
	}
	if (R->o->progress) {
		yoc_progress_start(&R->prog, "analyse", total);
		R->prog.unit = "rows";
	}
	/* worker 0 runs on this thread */
	for (int i = 1; i < nt; i++) {
		if (pthread_create(&tid[i], NULL, work, &w[i]) != 0)
			break;
		started = i;
	}
	work(&w[0]);
	for (int i = 1; i <= started; i++)
		pthread_join(tid[i], NULL);
	if (R->o->progress)
		yoc_progress_end(&R->prog);
	if (R->failed) {
		rc = R->failed;
		*e = R->err;
		goto cleanup;
	}
	for (int i = 0; i < nt; i++) {
		if ((rc = yoc_spells_merge(R->spells, w[i].spells))) {
			yoc_error_set(e, rc, yoc_store_dir(R->s), 0, 0, "out of memory");
			goto cleanup;
		}
		R->st->rows += w[i].rows;
		R->st->unlinked += w[i].unlinked;
		R->st->outside += w[i].outside;
		for (int y = 0; y < R->ny; y++)
			for (int k2 = 0; k2 < YOC_KIND_COUNT; k2++) {
				for (int j = 0; j < NWHY; j++)
					R->why[y][k2][j] += w[i].why[y][k2][j];
				for (int j = 0; j < NHOW; j++) {
					R->how_n[y][k2][j] += w[i].how_n[y][k2][j];
					R->how_cost[y][k2][j] += w[i].how_cost[y][k2][j];
				}
				for (int j = 0; j < NLK; j++) {
					R->lk[y][k2][j].records += w[i].lk[y][k2][j].records;
					R->lk[y][k2][j].cost += w[i].lk[y][k2][j].cost;
				}
			}
		for (int mo = 0; mo < R->ny * 12; mo++)
			for (int k2 = 0; k2 < NSET; k2++) {
				R->mon_n[mo][k2] += w[i].mon_n[mo][k2];
				R->mon_cost[mo][k2] += w[i].mon_cost[mo][k2];
			}
	}
cleanup:
	if (w)
		for (int i = 0; i < nt; i++) {
			an_cache_free(w[i].pc);
			yoc_spells_free(w[i].spells);
			yoc_free(w[i].pidx);
			yoc_free(w[i].codes);
			yoc_free(w[i].dpidx);
		}
	yoc_free(w);
	yoc_free(tid);
	return rc;
}

/* ---- step 2b: spells ------------------------------------------------------------------------------ */

static int how_of_price(int price_how)
{
	switch (price_how) {
	case YOC_PRICED: return HOW_PRICED;
	case YOC_PRICED_AVERAGE: return HOW_AVERAGE;
	case YOC_PRICED_ZERO: return HOW_ZERO;
	}
	return HOW_UNPRICED;
}

/*
** linkage_gain of a spell some of whose episodes yoc link found the person
** for (LK_* + 1 in the tag's top bits): what linkage added, i.e. the spell's
** price less the price of the spell its other episodes would have made
** without it (those rows would have had no person), and the emergency
** admission when that smaller spell would not count as one.
*/
static void link_gain(struct an_run *R, const struct yoc_spell_view *v, int y,
		      const struct yoc_spell_price *sp, int64_t pence)
{
	struct yoc_apc_epi rest[32];
	size_t nrest = 0, nlinked = 0;
	int lk = -1;
	for (size_t i = 0; i < v->n; i++) {
		int k = (int)(v->tag[i] >> TAG_LINK_SHIFT) - 1;
		if (k >= 0) {
			lk = lk < 0 ? k : lk;
			nlinked++;
		} else if (nrest < sizeof rest / sizeof rest[0]) {
			rest[nrest++] = v->epi[i];
		}
	}
	if (lk < 0)
		return;
	struct an_link *l = &R->lk[y][YOC_KIND_APC][lk];
	int emerg = sp->admission && sp->type == YOC_SPELL_EMERGENCY;
	l->records++;
	if (nlinked == v->n || nrest + nlinked != v->n) {
		l->emergency += emerg;
		l->cost += pence;
		return;
	}
	struct yoc_spell_price rp;
	yoc_price_spell(R->tariff, rest, nrest, &rp);
	int64_t rest_pence = how_of_price(rp.how) == HOW_UNPRICED ? 0 : rp.pence, fsum = 0;
	size_t nfeed = 0;
	for (size_t i = 0; i < nrest; i++)
		if (rest[i].feed_cost != INT64_MIN) {
			nfeed++;
			fsum += rest[i].feed_cost;
		}
	if (nfeed == nrest)
		rest_pence = fsum; /* as spell_pass: the feed's cost is the price */
	l->emergency += emerg && !(rp.admission && rp.type == YOC_SPELL_EMERGENCY);
	l->cost += pence - rest_pence;
}

/*
** Every spell of a linked person, priced once by the shared rules
** (yoc_price_spell): its cost, admission and setting count in the year of
** admission; its bed days in the years its nights fall in (each episode's
** nights EPISTART..EPIEND); a year the person has no row keeps nothing.
** Single-threaded: spells were grouped from every worker's episodes.
*/
static int spell_pass(struct an_run *R, struct yoc_error *e)
{
	const int K = YOC_KIND_APC;
	struct yoc_spell_view v;
	int k;
	yoc_spells_sort(R->spells);
	while ((k = yoc_spells_next(R->spells, &v)) > 0) {
		int32_t p = (int32_t)v.owner;
		struct py *row = &R->py[(size_t)p * R->ny];
		struct yoc_spell_price sp;
		yoc_price_spell(R->tariff, v.epi, v.n, &sp);
		int emerg = sp.type == YOC_SPELL_EMERGENCY, other = sp.type == YOC_SPELL_OTHER_NE;
		for (size_t i = 0; i < v.n; i++)
			for (int y = 0; y < R->ny; y++) {
				int32_t nb = yoc_nights_between(v.epi[i].epistart, v.epi[i].epiend,
								R->fs[y], R->fs[y + 1]);
				if (!nb || !row[y].prac)
					continue;
				row[y].bed_days += nb;
				if (emerg)
					row[y].emerg_bed_days += nb;
			}
		int y = sp.admitted > YOC_DATE_HES_INVALID ? year_of(R, sp.admitted) : -1;
		if (y < 0) {
			R->st->outside += v.n;
			continue;
		}
		struct py *q = &row[y];
		if (!q->prac) {
			R->why[y][K][WHY_OUTSIDE_REG] += (int64_t)v.n;
			continue;
		}
		if (sp.admission) {
			q->emerg += emerg;
			q->other_ne += other;
			if (emerg && an_month_emergency(R, p, an_month_of(y, sp.admitted)))
				return yoc_error_set(e, YOC_ENOMEM, yoc_store_dir(R->s), 0, 0,
						     "out of memory");
		}
		int how = how_of_price(sp.how);
		int64_t pence = sp.pence, fsum = 0;
		size_t nfeed = 0;
		for (size_t i = 0; i < v.n; i++)
			if (v.epi[i].feed_cost != INT64_MIN) {
				nfeed++;
				fsum += v.epi[i].feed_cost;
			}
		if (nfeed == v.n) {
			/* the feed's cost is the price: every episode carries one */
			how = HOW_FEED;
			pence = fsum;
		}
		R->how_n[y][K][how] += (int64_t)v.n;
		R->how_cost[y][K][how] += how == HOW_UNPRICED ? 0 : pence;
		if (how == HOW_UNPRICED) {
			R->why[y][K][WHY_NO_PRICE] += (int64_t)v.n;
			continue;
		}
		int set = an_spell_setting(sp.type);
		if (an_add32(R, &q->cost[set], &R->pwide, an_py_key(R, y, p, set), pence) ||
		    an_month_cost(R, p, an_month_of(y, sp.admitted), pence) ||
		    (emerg && an_add32(R, &q->cost[PY_EMERG], &R->pwide,
				       an_py_key(R, y, p, PY_EMERG), pence)) ||
		    (other && an_add32(R, &q->cost[PY_OTHER_NE], &R->pwide,
				       an_py_key(R, y, p, PY_OTHER_NE), pence)) ||
		    an_add32(R, &q->cost[PY_APC_PROV], &R->pwide, an_py_key(R, y, p, PY_APC_PROV),
			     sp.provider))
			return yoc_error_set(e, YOC_ENOMEM, yoc_store_dir(R->s), 0, 0, "out of memory");
		link_gain(R, &v, y, &sp, pence);
		/* Figure 7: the spell's provider is its first episode's */
		struct pacc *a = &R->pacc[v.tag[0] & ((1u << TAG_LINK_SHIFT) - 1)][y * NSET + set];
		int rc = prov_people(R, a, p);
		if (rc)
			return yoc_error_set(e, rc, yoc_store_dir(R->s), 0, 0, "out of memory");
		a->activity += (int64_t)v.n;
		a->cost += pence;
		/* one event per spell, in the month of admission */
		int mo = an_month_of(y, sp.admitted);
		R->mon_n[mo][set]++;
		R->mon_cost[mo][set] += pence;
	}
	if (k < 0)
		return yoc_error_set(e, k, yoc_store_dir(R->s), 0, 0, "out of memory");
	return YOC_OK;
}

/* ---- the run ------------------------------------------------------------------------------------ */

int yoc_analyse_run(const struct yoc_analyse_opts *o, struct yoc_analyse_stats *st,
		    struct yoc_error *e)
{
	struct an_run *R = yoc_calloc(1, sizeof *R);
	int rc = YOC_OK, locked = 0;
	double t0 = yoc_now();
	memset(st, 0, sizeof *st);
	if (!R)
		return yoc_error_set(e, YOC_ENOMEM, o->dir, 0, 0, "out of memory");
	R->o = o;
	R->st = st;
	if (o->lookback_years < 1 || o->lookback_years > AN_MAX_YEARS) {
		rc = yoc_error_set(e, YOC_EINVAL, "--lookback-years", 0, 0,
				   "the lookback must be 1 to %d years", AN_MAX_YEARS);
		goto cleanup;
	}
	if ((rc = yoc_bands_parse(&R->bands, o->bands, e)))
		goto cleanup;
	if ((rc = yoc_ltc_load(&R->ltc, o->codelist, e)))
		goto cleanup;
	snprintf(st->codelist_version, sizeof st->codelist_version, "%s", yoc_ltc_version(R->ltc));
	R->mental_mask = yoc_ltc_mental_mask(R->ltc);
	if ((rc = yoc_tariff_load_dir(&R->tariff, o->tariff_dir, e)))
		goto cleanup;
	if (pthread_mutex_init(&R->lock, NULL) != 0) {
		rc = yoc_error_set(e, YOC_EINTERNAL, o->dir, 0, 0, "mutex");
		goto cleanup;
	}
	locked = 1;
	if (yoc_map_init(&R->pracmap, 1024) || yoc_map_init(&R->provmap, 256)) {
		rc = yoc_error_set(e, YOC_ENOMEM, o->dir, 0, 0, "out of memory");
		goto cleanup;
	}
	if ((rc = yoc_store_open(&R->s, o->dir, YOC_STORE_WRITE, e)))
		goto cleanup;
	if ((rc = yoc_store_persons(R->s, &R->persons, &R->np, e)))
		goto cleanup;
	if ((rc = find_years(R, e)))
		goto cleanup;
	if ((rc = build_keys(R)))
		goto cleanup;
	st->direct_lookup = R->keys != NULL;
	st->first_year = R->fy0;
	st->years = R->ny;
	R->py = yoc_calloc(R->np * (size_t)R->ny + 1, sizeof *R->py);
	if (!R->py) {
		rc = yoc_error_set(e, YOC_ENOMEM, o->dir, 0, 0,
				   "out of memory (%zu person-years)", R->np * (size_t)R->ny);
		goto cleanup;
	}
	double t1 = yoc_now();
	if ((rc = an_month_begin(R, e)) || (rc = an_gaps_begin(R, e)) ||
	    (rc = register_pass(R, e)) || (rc = an_gaps_fill(R, e)))
		goto cleanup;
	double t2 = yoc_now();
	if (!(R->spells = yoc_spells_create())) {
		rc = yoc_error_set(e, YOC_ENOMEM, o->dir, 0, 0, "out of memory");
		goto cleanup;
	}
	if ((rc = activity_pass(R, e)) || (rc = spell_pass(R, e)))
		goto cleanup;
	double t3 = yoc_now();
	if ((rc = an_write(R, e)))
		goto cleanup;
	st->t_setup = t1 - t0;
	st->t_register = t2 - t1;
	st->t_activity = t3 - t2;
	st->t_write = yoc_now() - t3;
	for (int y = 0; y < R->ny; y++)
		for (int k = 0; k < YOC_KIND_COUNT; k++) {
			for (int j = 0; j < NWHY; j++)
				st->unpriced += (uint64_t)R->why[y][k][j];
			st->priced_average += (uint64_t)R->how_n[y][k][HOW_AVERAGE];
		}
cleanup:
	st->seconds = yoc_now() - t0;
	yoc_store_files_free(R->files);
	yoc_store_close(R->s);
	yoc_tariff_free(R->tariff);
	yoc_spells_free(R->spells);
	yoc_ltc_free(R->ltc);
	an_gaps_free(R);
	an_month_free(R);
	yoc_free(R->py);
	yoc_free(R->keys);
	yoc_free(R->bucket);
	for (size_t i = 0; i < R->nprac; i++)
		yoc_free(R->prac[i]);
	yoc_free(R->prac);
	for (size_t i = 0; i < R->nprov; i++) {
		for (int k = 0; R->pacc[i] && k < R->ny * NSET; k++)
			yoc_free(R->pacc[i][k].people);
		yoc_free(R->pacc[i]);
		yoc_free(R->prov[i]);
	}
	yoc_map_free(&R->pracmap);
	yoc_map_free(&R->provmap);
	if (locked)
		pthread_mutex_destroy(&R->lock);
	yoc_free(R);
	return rc;
}

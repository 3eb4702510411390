/*
** Columnar segment files: one per loaded feed file, immutable once written.
**
** Format 2 (written; docs/store.md), native little-endian:
**   header   "YOCSEG02", u32 version, u32 kind, u64 nrows, u64 ncols,
**            u64 dir_off, u64 dir_len                         (48 bytes)
**   blocks   per column a data block and an aux block (either may be
**            empty), each 8-byte aligned, encoded as the directory says:
**              plain   int32[nrows] (date), int64[nrows] (int, money),
**                      u32 offsets[nrows+1] + heap in aux (text)
**              packed  (date, int, money) i64 lo, u64 c0, u32 width, u32 0,
**                      then a code of width bytes (0-8) per row; width 0:
**                      every code is c0. Code c < K is the K-th "none"
**                      value (K 3 for dates, 1 for ints), else lo + c - K
**              dict    (text) u32 ndict, u32 width (1-4), a code of width
**                      bytes per row; aux: u32 offsets[ndict+1] + heap
**              hexdict (text) as dict, but aux is u32 hexlen, u32 empty
**                      (the code of "", or 0xFFFFFFFF), then each other
**                      entry, in code order, as hexlen/2 raw bytes of its
**                      lowercase hex text (pseudonyms)
**            with flag zstd, the block and aux are each one zstd frame (when
**            not empty) of the encoded bytes
**   dir      per column: u32 type, u32 name_len, u32 src_len, u32 encoding,
**            u64 off, u64 len, u64 aux_off, u64 aux_len, u64 hash(block),
**            u64 hash(aux), u64 raw_len, u64 raw_aux_len, name, source, pad 8
**   trailer  u64 checksum = yoc_hash64(header) ^ yoc_hash64(dir)
** Format 1 ("YOCSEG01", still read): every column plain, directory entries
** without the encoding (0) and the two raw lengths.
** A reader checks the trailer, every block hash and every bound at open; a
** column is decompressed, checked and decoded on its first use (a handle is
** used by one thread at a time), and every code is checked where it is read.
** Writers create "NAME.tmp", fsync, and rename to NAME; the catalog row that
** names the segment is committed afterwards, by the caller. A store in
** deferred-sync mode (the loader's) skips the per-file fsyncs and makes all
** its new segments durable at once in yoc_store_sync, before the commit.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_int.h"
#include "yoc/date.h"

#define SEG_MAGIC1 "YOCSEG01"
#define SEG_MAGIC2 "YOCSEG02"
#define SEG_MAGIC3 "YOCSEG03"
#define HDR_LEN 48
#define MAX_TEXT_HEAP 0xF0000000u
#define NO_EMPTY 0xFFFFFFFFu
#define PACK_HDR 24
#define MAX_HEXLEN 1024

enum { ENC_PLAIN = 0, ENC_PACKED = 1, ENC_DICT = 2, ENC_HEXDICT = 3, ENC_DELTA = 4,
       ENC_DIGITS = 5, ENC_POOL = 6, ENC_MASK = 0xFF, ENC_ZSTD = 0x100, ENC_ZSTD_AUX = 0x200 };

/* "none" values of a packed column: codes below K */
static int none_count(int type)
{
	return type == YOC_COL_DATE ? 3 : 1;
}

static int bytes_for(uint64_t v)
{
	int w = 1;
	while (w < 8 && (v >> (8 * w)))
		w++;
	return w;
}

/* Little-endian unsigned of w bytes (0-8) at p (native little-endian assumed, as the format). */
static inline uint64_t get_le(const unsigned char *p, unsigned w)
{
	uint64_t v = 0;
	memcpy(&v, p, w);
	return v;
}

static inline uint32_t code_at(const unsigned char *p, unsigned w, size_t r)
{
	switch (w) {
	case 1: return p[r];
	case 2: {
		uint16_t v;
		memcpy(&v, p + 2 * r, 2);
		return v;
	}
	case 4: {
		uint32_t v;
		memcpy(&v, p + 4 * r, 4);
		return v;
	}
	default: return (uint32_t)get_le(p + (size_t)w * r, w);
	}
}

struct wcol {
	int type;
	int person;      /* the kind's person column: always a dictionary */
	char *name, *source;
	size_t n, cap;   /* elements (for text: offsets count) */
	void *a;         /* int32_t / int64_t / uint32_t offsets */
	struct yoc_buf heap;
};

struct yoc_segw {
	int kind;
	int version;     /* 3; 1 or 2 under the test switch YOC_SEG_VERSION */
	size_t ncols;
	size_t nrows;
	struct wcol *cols;
	int pool_later;             /* yoc_segw_pool_later */
	struct yoc_segpool *later;  /* what write_tmp left to yoc_segpool_apply */
};

/* A written segment's pseudonyms, pooled when it commits (yoc_segpool_apply). */
struct yoc_segpool {
	struct yoc_buf keys;        /* raw entries in code order */
	unsigned char aux_head[8];  /* the pooled aux's head: u32 hexlen, u32 empty */
	uint64_t aux_off;           /* where the aux is in the file */
	unsigned char hdr[48];
	struct yoc_buf dir;         /* the directory as written */
	uint64_t dir_off;
	size_t hash_at;             /* the column's aux hash, in dir */
};

void yoc_segpool_free(struct yoc_segpool *p)
{
	if (!p)
		return;
	yoc_buf_free(&p->keys);
	yoc_buf_free(&p->dir);
	yoc_free(p);
}

void yoc_segw_pool_later(struct yoc_segw *w)
{
	w->pool_later = 1;
}

struct yoc_segpool *yoc_segw_take_pool(struct yoc_segw *w)
{
	struct yoc_segpool *p = w->later;
	w->later = NULL;
	return p;
}

int yoc_segw_create(struct yoc_segw **out, int kind, size_t ncols, const char *const *names,
		    const char *const *sources, const int *types)
{
	*out = NULL;
	struct yoc_segw *w = yoc_calloc(1, sizeof *w);
	if (!w)
		return YOC_ENOMEM;
	w->kind = kind;
	/* Test-only: writes format 1 or 2, as releases before format 3 did. */
	const char *ver = getenv("YOC_SEG_VERSION");
	w->version = ver && (strcmp(ver, "1") == 0 || strcmp(ver, "2") == 0) ? ver[0] - '0' : 3;
	w->cols = yoc_calloc(ncols ? ncols : 1, sizeof *w->cols);
	if (!w->cols)
		goto oom;
	w->ncols = ncols;
	const struct yoc_kind_spec *ks = yoc_spec_kind(kind);
	int have_person = 0;
	for (size_t i = 0; i < ncols; i++) {
		struct wcol *c = &w->cols[i];
		c->type = types[i];
		yoc_buf_init(&c->heap, MAX_TEXT_HEAP);
		c->name = yoc_strdup(names[i]);
		c->source = yoc_strdup(sources && sources[i] ? sources[i] : names[i]);
		if (!c->name || !c->source)
			goto oom;
		const struct yoc_field *f = ks ? yoc_spec_field(ks, c->name, strlen(c->name)) : NULL;
		if (f && f->role == YOC_ROLE_PERSON && c->type == YOC_COL_TEXT && !have_person)
			c->person = have_person = 1;
		if (c->type == YOC_COL_TEXT) {
			c->a = yoc_malloc(64 * sizeof(uint32_t));
			if (!c->a)
				goto oom;
			c->cap = 64;
			((uint32_t *)c->a)[0] = 0;
			c->n = 1;
		}
	}
	*out = w;
	return YOC_OK;
oom:
	yoc_segw_free(w);
	return YOC_ENOMEM;
}

void yoc_segw_free(struct yoc_segw *w)
{
	if (!w)
		return;
	for (size_t i = 0; w->cols && i < w->ncols; i++) {
		yoc_free(w->cols[i].name);
		yoc_free(w->cols[i].source);
		yoc_free(w->cols[i].a);
		yoc_buf_free(&w->cols[i].heap);
	}
	yoc_free(w->cols);
	yoc_segpool_free(w->later);
	yoc_free(w);
}

static int grow(struct wcol *c, size_t esz)
{
	if (c->n < c->cap)
		return YOC_OK;
	size_t nc = c->cap ? c->cap * 2 : 256;
	void *na = yoc_realloc(c->a, nc * esz);
	if (!na)
		return YOC_ENOMEM;
	c->a = na;
	c->cap = nc;
	return YOC_OK;
}

int yoc_segw_text(struct yoc_segw *w, size_t col, const char *p, size_t n)
{
	struct wcol *c = &w->cols[col];
	if (c->type != YOC_COL_TEXT)
		return YOC_EINVAL;
	int rc = grow(c, sizeof(uint32_t));
	if (rc)
		return rc;
	if (n && (rc = yoc_buf_append(&c->heap, p, n)))
		return rc;
	((uint32_t *)c->a)[c->n++] = (uint32_t)c->heap.len;
	return YOC_OK;
}

int yoc_segw_i32(struct yoc_segw *w, size_t col, int32_t v)
{
	struct wcol *c = &w->cols[col];
	if (c->type != YOC_COL_DATE)
		return YOC_EINVAL;
	int rc = grow(c, sizeof(int32_t));
	if (rc)
		return rc;
	((int32_t *)c->a)[c->n++] = v;
	return YOC_OK;
}

int yoc_segw_i64(struct yoc_segw *w, size_t col, int64_t v)
{
	struct wcol *c = &w->cols[col];
	if (c->type != YOC_COL_INT && c->type != YOC_COL_MONEY)
		return YOC_EINVAL;
	int rc = grow(c, sizeof(int64_t));
	if (rc)
		return rc;
	((int64_t *)c->a)[c->n++] = v;
	return YOC_OK;
}

int yoc_segw_reserve(struct yoc_segw *w, size_t nrows)
{
	if (nrows <= w->nrows)
		return YOC_OK;
	for (size_t i = 0; i < w->ncols; i++) {
		struct wcol *c = &w->cols[i];
		size_t esz = c->type == YOC_COL_TEXT ? sizeof(uint32_t) :
			     c->type == YOC_COL_DATE ? sizeof(int32_t) : sizeof(int64_t);
		size_t want = nrows + 1;
		if (want > c->cap) {
			void *na = yoc_realloc(c->a, want * esz);
			if (!na)
				return YOC_ENOMEM;
			c->a = na;
			c->cap = want;
		}
		/* text: as many bytes per row to come as per row so far */
		if (c->type == YOC_COL_TEXT && w->nrows && c->heap.len) {
			size_t per = c->heap.len / w->nrows + 1;
			size_t more = (nrows - w->nrows) < SIZE_MAX / per ? (nrows - w->nrows) * per : 0;
			if (more && more < MAX_TEXT_HEAP - c->heap.len)
				yoc_buf_reserve(&c->heap, more); /* a hint: failing is fine */
		}
	}
	return YOC_OK;
}

int yoc_segw_row_end(struct yoc_segw *w)
{
	w->nrows++;
	return YOC_OK;
}

size_t yoc_segw_nrows(const struct yoc_segw *w)
{
	return w->nrows;
}

void yoc__segw_set_version(struct yoc_segw *w, int version)
{
	w->version = version;
}

/* ---- encoding a column ---- */

/* A column as written: block and aux, borrowed from the column or owned in b and x. */
struct colenc {
	uint32_t enc;
	const void *blk, *aux;
	size_t blen, alen;
	size_t rawb, rawa;     /* sizes before compression */
	struct yoc_buf b, x;
	struct yoc_buf zb, zx; /* the zstd frames */
};

/* Appends the low w bytes of v (little-endian) to a buffer with room reserved. */
static inline void put_le(struct yoc_buf *b, uint64_t v, unsigned w)
{
	memcpy(b->data + b->len, &v, w);
	b->len += w;
}

/*
** What a packed block holds per row (see the top of the file): the value's
** code above lo (packed), its step from the row before (delta), or a
** decimal text's value above lo, 0 for "" (digits).
*/
struct numsrc {
	int mode;            /* ENC_PACKED, ENC_DELTA, ENC_DIGITS */
	int date;
	const int32_t *d;
	const int64_t *v;
	const uint64_t *u;   /* digits: value + 1, 0 for "" */
	int64_t lo;
};

static uint64_t num_code(const struct numsrc *x, size_t r)
{
	if (x->mode == ENC_DIGITS)
		return x->u[r] ? x->u[r] - (uint64_t)x->lo : 0;
	if (x->mode == ENC_DELTA) {
		if (r == 0)
			return 0;
		return x->date ? (uint64_t)((int64_t)x->d[r] - x->d[r - 1]) :
				 (uint64_t)x->v[r] - (uint64_t)x->v[r - 1];
	}
	if (x->date)
		return x->d[r] < INT32_MIN + 3 ? (uint64_t)((int64_t)x->d[r] - INT32_MIN) :
						 (uint64_t)((int64_t)x->d[r] - x->lo) + 3;
	return x->v[r] == INT64_MIN ? 0 : (uint64_t)x->v[r] - (uint64_t)x->lo + 1;
}

/* Writes the packed block of x: header, then a code of the narrowest width per row. */
static int put_packed(const struct numsrc *x, size_t nrows, uint64_t maxc, struct colenc *ce)
{
	/* delta: row 0's code is never read; giving it row 1's lets a constant step pack to width 0 */
	size_t first = x->mode == ENC_DELTA && nrows > 1 ? 1 : 0;
	uint64_t c0 = nrows ? num_code(x, first) : 0;
	int same = 1;
	for (size_t r = first + 1; r < nrows && same; r++)
		same = num_code(x, r) == c0;
	unsigned width = same ? 0 : (unsigned)bytes_for(maxc > c0 ? maxc : c0);
	struct yoc_buf *b = &ce->b;
	int rc = yoc_buf_reserve(b, PACK_HDR + nrows * width + 8);
	if (rc)
		return rc;
	uint32_t w32[2] = {width, 0};
	memcpy(b->data, &x->lo, 8);
	memcpy(b->data + 8, &c0, 8);
	memcpy(b->data + 16, w32, 8);
	b->len = PACK_HDR;
	for (size_t r = 0; r < nrows && width; r++)
		put_le(b, r < first ? c0 : num_code(x, r), width);
	ce->enc = (uint32_t)x->mode;
	ce->blk = b->data;
	ce->blen = b->len;
	ce->aux = "";
	ce->alen = 0;
	return YOC_OK;
}

static int pack_nums(const struct wcol *c, size_t nrows, struct colenc *ce)
{
	int K = none_count(c->type), have = 0, date = c->type == YOC_COL_DATE, sorted = 1;
	int64_t lo = 0, hi = 0;
	uint64_t maxstep = 0;
	const int32_t *d = c->a;
	const int64_t *v = c->a;
	for (size_t r = 0; r < nrows; r++) {
		int64_t x = date ? d[r] : v[r];
		if (date ? x < INT32_MIN + 3 : x == INT64_MIN) {
			sorted = 0;
			continue;
		}
		if (r > 0 && sorted) {
			int64_t p = date ? d[r - 1] : v[r - 1];
			if (x < p)
				sorted = 0;
			else if ((uint64_t)x - (uint64_t)p > maxstep)
				maxstep = (uint64_t)x - (uint64_t)p;
		}
		if (!have || x < lo)
			lo = x;
		if (!have || x > hi)
			hi = x;
		have = 1;
	}
	struct numsrc src = {ENC_PACKED, date, d, v, NULL, lo};
	uint64_t maxc = have ? (uint64_t)hi - (uint64_t)lo + (uint64_t)K : 0;
	/* rising values (line numbers): the steps are narrower, and compress to almost nothing */
	if (sorted && nrows > 1 && bytes_for(maxstep) <= bytes_for(maxc)) {
		src.mode = ENC_DELTA;
		src.lo = date ? d[0] : v[0];
		return put_packed(&src, nrows, maxstep, ce);
	}
	return put_packed(&src, nrows, maxc, ce);
}

/*
** Text whose every value is "" or a decimal number of at most 19 digits,
** either all without leading zeros or all of one length (zero-padded keys):
** packed numbers, 8 bytes or fewer a row instead of the digits and an
** offset. 0 when the column is not such text.
*/
static int pack_digits(const struct wcol *c, size_t nrows, struct colenc *ce)
{
	const uint32_t *o = c->a;
	const char *heap = c->heap.data ? c->heap.data : "";
	uint32_t pad = 0;
	for (size_t r = 0; r < nrows && pad != UINT32_MAX; r++) {
		uint32_t n = o[r + 1] - o[r];
		if (n && !pad)
			pad = n;
		else if (n && n != pad)
			pad = UINT32_MAX;
	}
	if (pad == UINT32_MAX)
		pad = 0;
	uint64_t *u = yoc_malloc((nrows ? nrows : 1) * sizeof *u), lo = UINT64_MAX, hi = 0;
	if (!u)
		return YOC_ENOMEM;
	for (size_t r = 0; r < nrows; r++) {
		const char *p = heap + o[r];
		uint32_t n = o[r + 1] - o[r];
		uint64_t x = 0;
		if (n > 19 || (!pad && n > 1 && p[0] == '0')) {
			yoc_free(u);
			return 0;
		}
		for (uint32_t k = 0; k < n; k++) {
			if (p[k] < '0' || p[k] > '9') {
				yoc_free(u);
				return 0;
			}
			x = x * 10 + (uint64_t)(p[k] - '0');
		}
		u[r] = n ? x + 1 : 0; /* 19 digits stay below 2^64 - 1 */
		if (n && u[r] < lo)
			lo = u[r];
		if (n && u[r] > hi)
			hi = u[r];
	}
	/* code: value + 1 - lo + 1, so that 0 stays "" */
	struct numsrc src = {ENC_DIGITS, 0, NULL, NULL, u, (int64_t)(lo == UINT64_MAX ? 0 : lo - 1)};
	int rc = put_packed(&src, nrows, hi ? hi - (uint64_t)src.lo : 0, ce);
	yoc_free(u);
	if (!rc)
		memcpy(ce->b.data + 20, &pad, 4);
	return rc ? rc : 1;
}

struct dent {
	uint64_t h;
	uint32_t off, len;
};

/* 1 + the value of a lowercase hex digit, 0 for any other byte */
static const unsigned char hexv[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
	['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15,
	['f'] = 16};

/*
** 1 when every byte is a lowercase hex digit. Eight bytes at a time: with
** each byte's top bit set first, subtracting c from every byte at once
** leaves the top bit set exactly where the byte was >= c (no borrow crosses
** a byte), so a digit is >= '0' and not >= ':' and a letter >= 'a' and not
** >= 'g'. No early exit: pseudonyms are hex.
*/
static int is_hex(const char *p, size_t n)
{
	const uint64_t H = 0x8080808080808080ULL, L = 0x0101010101010101ULL;
	uint64_t bad = 0;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w, t;
		memcpy(&w, p + i, 8);
		t = w | H;
		uint64_t digit = ((t - '0' * L) & ~(t - ':' * L)) & H;
		uint64_t lower = ((t - 'a' * L) & ~(t - 'g' * L)) & H;
		bad |= (w & H) | ((digit | lower) ^ H);
	}
	for (; i < n; i++)
		bad |= hexv[(unsigned char)p[i]] == 0;
	return bad == 0;
}

/*
** A value's hash for the dictionary's table only (nothing stored depends on
** it): two multiply lanes over 16-byte steps, so a 64-digit pseudonym costs
** four short rounds rather than eight dependent ones.
*/
static inline uint64_t dict_hash(const char *p, size_t n)
{
	uint64_t a = 0x9e3779b97f4a7c15ULL ^ n, b = 0xc2b2ae3d27d4eb4fULL, w, v;
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		memcpy(&w, p + i, 8);
		memcpy(&v, p + i + 8, 8);
		a = (a ^ w) * 0xbf58476d1ce4e5b9ULL;
		b = (b ^ v) * 0x94d049bb133111ebULL;
		a ^= a >> 29;
		b ^= b >> 31;
	}
	if (n - i >= 8) {
		memcpy(&v, p + i, 8);
		b = (b ^ v) * 0x94d049bb133111ebULL;
		b ^= b >> 31;
		i += 8;
	}
	uint64_t t = 0;
	for (; i < n; i++)
		t = t << 8 | (unsigned char)p[i];
	a = (a ^ t) * 0xbf58476d1ce4e5b9ULL;
	uint64_t h = (a ^ (b >> 7) ^ (b << 13)) * 0xd6e8feb86659fd93ULL;
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ULL;
	return h ^ (h >> 29);
}

/*
** The dictionary of a text column, codes in order of first appearance.
** Returns 1 when written into ce, 0 when plain is smaller (never when
** force), or a negative status. Gives up early on columns of mostly
** distinct values (keys), so they cost little.
*/
static int build_dict(const struct wcol *c, size_t nrows, int force, struct colenc *ce)
{
	const uint32_t *o = c->a;
	const char *heap = c->heap.data ? c->heap.data : "";
	size_t cap = 256, nd = 0, dcap = 64, dbytes = 0;
	uint32_t *slot = yoc_calloc(cap, sizeof *slot);
	uint32_t *codes = yoc_malloc((nrows ? nrows : 1) * sizeof *codes);
	struct dent *de = yoc_malloc(dcap * sizeof *de);
	int rc = YOC_OK;
	if (!slot || !codes || !de) {
		rc = YOC_ENOMEM;
		goto cleanup;
	}
	for (size_t r = 0; r < nrows; r++) {
		const char *p = heap + o[r];
		uint32_t n = o[r + 1] - o[r];
		uint64_t h = dict_hash(p, n);
		size_t i = (size_t)h & (cap - 1);
		for (; slot[i]; i = (i + 1) & (cap - 1)) {
			const struct dent *x = &de[slot[i] - 1];
			if (x->h == h && x->len == n && memcmp(heap + x->off, p, n) == 0)
				break;
		}
		if (!slot[i]) {
			if (!force && nd > r / 2 + 256)
				goto cleanup; /* mostly distinct: plain */
			if (nd == dcap) {
				struct dent *nde = yoc_realloc(de, 2 * dcap * sizeof *de);
				if (!nde) {
					rc = YOC_ENOMEM;
					goto cleanup;
				}
				de = nde;
				dcap *= 2;
			}
			de[nd] = (struct dent){h, o[r], n};
			slot[i] = (uint32_t)++nd;
			dbytes += n;
			if (nd * 2 > cap) {
				uint32_t *ns = yoc_calloc(cap * 2, sizeof *ns);
				if (!ns) {
					rc = YOC_ENOMEM;
					goto cleanup;
				}
				cap *= 2;
				for (size_t k = 0; k < nd; k++) {
					size_t j = (size_t)de[k].h & (cap - 1);
					while (ns[j])
						j = (j + 1) & (cap - 1);
					ns[j] = (uint32_t)(k + 1);
				}
				yoc_free(slot);
				slot = ns;
			}
			codes[r] = (uint32_t)(nd - 1);
		} else {
			codes[r] = slot[i] - 1;
		}
	}
	unsigned width = nd <= 0x100 ? 1 : nd <= 0x10000 ? 2 : nd <= 0x1000000 ? 3 : 4;
	if (!force && 8 + (uint64_t)nrows * width + 4 * (uint64_t)(nd + 1) + dbytes >=
	    4 * (uint64_t)(nrows + 1) + c->heap.len)
		goto cleanup;
	/* pseudonyms and other hex digests: raw bytes, half the size */
	size_t hexlen = 0, nempty = 0;
	uint32_t empty = NO_EMPTY;
	int hex = nd > 0;
	for (size_t k = 0; k < nd && hex; k++) {
		if (de[k].len == 0) {
			empty = (uint32_t)k;
			nempty++;
			continue;
		}
		if (!hexlen)
			hexlen = de[k].len;
		hex = de[k].len == hexlen && hexlen % 2 == 0 && hexlen <= MAX_HEXLEN &&
		      is_hex(heap + de[k].off, de[k].len);
	}
	hex = hex && hexlen && nempty <= 1;
	struct yoc_buf *b = &ce->b, *x = &ce->x;
	if ((rc = yoc_buf_reserve(b, 8 + nrows * width)))
		goto cleanup;
	uint32_t h32[2] = {(uint32_t)nd, width};
	memcpy(b->data, h32, 8);
	b->len = 8;
	for (size_t r = 0; r < nrows; r++)
		put_le(b, codes[r], width);
	if (hex) {
		uint32_t a32[2] = {(uint32_t)hexlen, empty};
		if ((rc = yoc_buf_reserve(x, 8 + (nd - nempty) * (hexlen / 2))))
			goto cleanup;
		memcpy(x->data, a32, 8);
		unsigned char *out = (unsigned char *)x->data + 8; /* a local pointer: stores alias x */
		for (size_t k = 0; k < nd; k++) {
			const unsigned char *p = (const unsigned char *)heap + de[k].off;
			for (size_t j = 0; j < de[k].len; j += 2)
				*out++ = (unsigned char)((hexv[p[j]] - 1) << 4 | (hexv[p[j + 1]] - 1));
		}
		x->len = (size_t)(out - (unsigned char *)x->data);
		ce->enc = ENC_HEXDICT;
	} else {
		if ((rc = yoc_buf_reserve(x, 4 * (nd + 1) + dbytes)))
			goto cleanup;
		uint32_t at = 0;
		put_le(x, 0, 4);
		for (size_t k = 0; k < nd; k++) {
			at += de[k].len;
			put_le(x, at, 4);
		}
		for (size_t k = 0; k < nd; k++) {
			memcpy(x->data + x->len, heap + de[k].off, de[k].len);
			x->len += de[k].len;
		}
		ce->enc = ENC_DICT;
	}
	ce->blk = b->data;
	ce->blen = b->len;
	ce->aux = x->data;
	ce->alen = x->len;
	rc = 1;
cleanup:
	yoc_free(slot);
	yoc_free(codes);
	yoc_free(de);
	return rc;
}

/*
** Format 3: a person column's raw pseudonyms (a hex dictionary of 32-byte
** entries) become indexes into the dataset's pool, which gets the new ones.
*/
static int pool_col(const struct yoc_segw *w, const yoc_store *s, struct colenc *ce)
{
	uint32_t a32[2];
	struct yoc_buf *x = &ce->x;
	memcpy(a32, x->data, 8);
	if (a32[0] != 2 * YOC_POOL_ENTRY || !s || !s->pool)
		return YOC_OK;
	size_t n = (x->len - 8) / YOC_POOL_ENTRY;
	uint32_t *idx = yoc_calloc(n ? n : 1, sizeof *idx);
	if (!idx)
		return YOC_ENOMEM;
	int rc = YOC_OK;
	struct yoc_segpool *p = w->later;
	if (p) {
		/* indexes left as zeros: yoc_segpool_apply fills them in */
		memcpy(p->aux_head, x->data, 8);
		rc = yoc_buf_append(&p->keys, x->data + 8, n * YOC_POOL_ENTRY);
	} else {
		rc = yoc__pool_intern(s->pool, (const unsigned char *)x->data + 8, n, idx);
	}
	if (!rc) {
		memcpy(x->data + 8, idx, n * sizeof *idx);
		x->len = 8 + n * sizeof *idx;
		ce->aux = x->data;
		ce->alen = x->len;
		ce->enc = ENC_POOL;
	}
	yoc_free(idx);
	return rc;
}

/* Chooses and applies a column's encoding (format 2 and 3; format 1 is plain). */
static int encode_col(const struct yoc_segw *w, const yoc_store *s, const struct wcol *c,
		      struct colenc *ce)
{
	memset(ce, 0, sizeof *ce);
	yoc_buf_init(&ce->b, 0);
	yoc_buf_init(&ce->x, 0);
	yoc_buf_init(&ce->zb, 0);
	yoc_buf_init(&ce->zx, 0);
	ce->enc = ENC_PLAIN;
	ce->blk = c->a ? c->a : "";
	ce->blen = c->type == YOC_COL_DATE ? w->nrows * 4 :
		   c->type == YOC_COL_TEXT ? (w->nrows + 1) * 4 : w->nrows * 8;
	ce->aux = c->heap.len ? c->heap.data : "";
	ce->alen = c->heap.len;
	if (w->version == 1)
		return YOC_OK;
	if (c->type != YOC_COL_TEXT)
		return pack_nums(c, w->nrows, ce);
	int rc = build_dict(c, w->nrows, c->person, ce);
	if (rc == 0 && !c->person)
		rc = pack_digits(c, w->nrows, ce);
	if (rc == 1 && c->person && ce->enc == ENC_HEXDICT && w->version >= 3)
		rc = pool_col(w, s, ce);
	return rc < 0 ? rc : YOC_OK;
}

static void colenc_free(struct colenc *ce)
{
	yoc_buf_free(&ce->b);
	yoc_buf_free(&ce->x);
	yoc_buf_free(&ce->zb);
	yoc_buf_free(&ce->zx);
}

/*
** Compresses the block and the aux of an encoded column (format 2), each
** when that saves a sixteenth or more. Raw pseudonym bytes (keyed
** hashes, which never compress) are left alone.
*/
static int compress_col(void **cctx, struct colenc *ce, int level, int person)
{
	ce->rawb = ce->blen;
	ce->rawa = ce->alen;
	if (level <= 0)
		return YOC_OK;
	int rc;
	if (ce->blen >= 256) {
		if ((rc = yoc__seg_deflate(cctx, ce->blk, ce->blen, level, &ce->zb)))
			return rc;
		if (ce->zb.len * 16 <= ce->blen * 15) {
			ce->enc |= ENC_ZSTD;
			ce->blk = ce->zb.data;
			ce->blen = ce->zb.len;
		}
	}
	/* raw pseudonyms never compress; pool indexes are checked at open, so stay plain */
	if (ce->alen >= 256 && !(person && ((ce->enc & ENC_MASK) == ENC_HEXDICT ||
					    (ce->enc & ENC_MASK) == ENC_POOL))) {
		if ((rc = yoc__seg_deflate(cctx, ce->aux, ce->alen, level, &ce->zx)))
			return rc;
		if (ce->zx.len * 16 <= ce->alen * 15) {
			ce->enc |= ENC_ZSTD_AUX;
			ce->aux = ce->zx.data;
			ce->alen = ce->zx.len;
		}
	}
	return YOC_OK;
}

/*
** The segment file being written: small pieces (directory entries, short
** blocks, padding) gather in buf and go out in one write, so a segment
** costs a few system calls rather than four per column; large blocks go
** straight from the caller's memory. pos counts every byte put.
*/
#define OUT_CAP (256 * 1024)
struct segout {
	int fd;
	uint64_t pos;
	size_t n;
	unsigned char *buf; /* OUT_CAP bytes */
};

static int wr_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t k = write(fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return YOC_EIO;
		c += k;
		n -= (size_t)k;
	}
	return YOC_OK;
}

static int out_flush(struct segout *o)
{
	int rc = o->n ? wr_all(o->fd, o->buf, o->n) : YOC_OK;
	o->n = 0;
	return rc;
}

static int wr(struct segout *o, const void *p, size_t n)
{
	int rc = YOC_OK;
	int direct = n >= OUT_CAP / 2; /* after what is gathered, in order */
	if ((direct || o->n + n > OUT_CAP) && (rc = out_flush(o)))
		return rc;
	if (direct)
		rc = wr_all(o->fd, p, n);
	else if (n) {
		memcpy(o->buf + o->n, p, n);
		o->n += n;
	}
	if (!rc)
		o->pos += n;
	return rc;
}

static int pad8(struct segout *o)
{
	static const char z[8];
	size_t p = (size_t)((8 - (o->pos & 7)) & 7);
	return p ? wr(o, z, p) : YOC_OK;
}

/* Writes the segment to tmp (created; removed again on failure). */
static int write_tmp(struct yoc_segw *w, const yoc_store *s, const char *tmp,
		     struct yoc_error *e)
{
	int fd = -1, rc = YOC_OK;
	struct yoc_buf dir;
	struct colenc ce;
	struct segout out = {-1, 0, 0, NULL};
	void *cctx = NULL; /* one zstd context for every block of the segment */
	memset(&ce, 0, sizeof ce);
	yoc_buf_init(&dir, 0);
	for (size_t i = 0; i < w->ncols; i++)
		if (w->cols[i].n != (w->cols[i].type == YOC_COL_TEXT ? w->nrows + 1 : w->nrows))
			return yoc_error_set(e, YOC_EINTERNAL, tmp, 0, 0, "column %zu has %zu values for %zu rows",
					     i, w->cols[i].n, w->nrows);
	yoc_segpool_free(w->later);
	w->later = NULL;
	if (w->pool_later && w->version >= 3 && !(w->later = yoc_calloc(1, sizeof *w->later)))
		return yoc_error_set(e, YOC_ENOMEM, tmp, 0, 0, "out of memory");
	if (w->later) {
		yoc_buf_init(&w->later->keys, 0);
		yoc_buf_init(&w->later->dir, 0);
	}
	if (!(out.buf = yoc_malloc(OUT_CAP)))
		return yoc_error_set(e, YOC_ENOMEM, tmp, 0, 0, "out of memory");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = yoc_error_set(e, YOC_EIO, tmp, 0, 0, "cannot create: %s", strerror(errno));
		goto cleanup;
	}
	out.fd = fd;
	unsigned char hdr[HDR_LEN] = {0};
	if ((rc = wr(&out, hdr, HDR_LEN)))
		goto ioerr;
	for (size_t i = 0; i < w->ncols; i++) {
		struct wcol *c = &w->cols[i];
		if ((rc = encode_col(w, s, c, &ce)) ||
		    (rc = compress_col(&cctx, &ce, w->version == 1 ? 0 : s->zlevel < 0 ? 0 :
					  s->zlevel ? s->zlevel : YOC_STORE_ZSTD_LEVEL, c->person)))
			goto oom;
		uint64_t off = out.pos, len = ce.blen;
		if ((rc = wr(&out, ce.blk, ce.blen)) || (rc = pad8(&out)))
			goto ioerr;
		uint64_t hoff = out.pos, hlen = ce.alen;
		if (hlen && ((rc = wr(&out, ce.aux, ce.alen)) || (rc = pad8(&out))))
			goto ioerr;
		uint64_t h = yoc_hash64(ce.blk, ce.blen, 1);
		uint64_t hh = yoc_hash64(ce.aux, ce.alen, 2);
		if (w->later && (ce.enc & ENC_MASK) == ENC_POOL) {
			w->later->aux_off = hoff;
			w->later->hash_at = dir.len + sizeof(uint32_t[4]) + 5 * 8;
		}
		uint32_t d32[4] = {(uint32_t)c->type, (uint32_t)strlen(c->name),
				   (uint32_t)strlen(c->source), ce.enc};
		uint64_t d64[8] = {off, len, hoff, hlen, h, hh, ce.rawb, ce.rawa};
		if ((rc = yoc_buf_append(&dir, d32, sizeof d32)) ||
		    (rc = yoc_buf_append(&dir, d64, w->version == 1 ? 48 : sizeof d64)) ||
		    (rc = yoc_buf_append(&dir, c->name, d32[1])) ||
		    (rc = yoc_buf_append(&dir, c->source, d32[2])))
			goto oom;
		while (dir.len & 7)
			if ((rc = yoc_buf_putc(&dir, 0)))
				goto oom;
		colenc_free(&ce);
	}
	uint64_t dir_off = out.pos, dir_len = dir.len;
	if (dir_len && (rc = wr(&out, dir.data, dir.len)))
		goto ioerr;
	memcpy(hdr, w->version == 1 ? SEG_MAGIC1 : w->version == 2 ? SEG_MAGIC2 : SEG_MAGIC3, 8);
	uint32_t ver = (uint32_t)w->version, kind = (uint32_t)w->kind;
	uint64_t nrows = w->nrows, ncols = w->ncols;
	memcpy(hdr + 8, &ver, 4);
	memcpy(hdr + 12, &kind, 4);
	memcpy(hdr + 16, &nrows, 8);
	memcpy(hdr + 24, &ncols, 8);
	memcpy(hdr + 32, &dir_off, 8);
	memcpy(hdr + 40, &dir_len, 8);
	uint64_t sum = yoc_hash64(hdr, HDR_LEN, 3) ^ yoc_hash64(dir_len ? dir.data : "", dir.len, 4);
	if ((rc = wr(&out, &sum, 8)) || (rc = out_flush(&out)))
		goto ioerr;
	if (w->later && w->later->keys.len) {
		memcpy(w->later->hdr, hdr, HDR_LEN);
		w->later->dir_off = dir_off;
		if ((rc = yoc_buf_append(&w->later->dir, dir.data, dir.len)))
			goto oom;
	} else if (w->later) {
		yoc_segpool_free(w->later); /* no pseudonym to pool */
		w->later = NULL;
	}
	/* the pool entries it names, durable before it can be (deferred: yoc_store_sync) */
	if (!s->defer_sync && (rc = yoc__pool_flush(s->pool, e)))
		goto fail;
	if (pwrite(fd, hdr, HDR_LEN, 0) != HDR_LEN || (!s->defer_sync && fsync(fd) != 0))
		goto ioerr;
	/* deferred: start the write-back now, wait for it in yoc_store_sync */
	if (s->defer_sync)
		sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	if (close(fd) != 0) {
		fd = -1;
		goto ioerr;
	}
	fd = -1;
	goto cleanup;
oom:
	rc = rc == YOC_ETOOBIG ? yoc_error_set(e, rc, tmp, 0, 0, "column too large") :
				 yoc_error_set(e, YOC_ENOMEM, tmp, 0, 0, "out of memory");
	goto fail;
ioerr:
	rc = yoc_error_set(e, YOC_EIO, tmp, 0, 0, "write failed: %s", strerror(errno));
fail:
	if (fd >= 0)
		close(fd);
	fd = -1;
	unlink(tmp);
cleanup:
	colenc_free(&ce);
	yoc_buf_free(&dir);
	yoc_free(out.buf);
	yoc__seg_zctx_free(cctx, NULL);
	if (rc) {
		yoc_segpool_free(w->later);
		w->later = NULL;
	}
	return rc;
}

int yoc_segpool_apply(struct yoc_segpool *p, yoc_store *s, const char *tmp, struct yoc_error *e)
{
	if (!p)
		return YOC_OK;
	if (p->aux_off < HDR_LEN || !p->dir_off)
		return yoc_error_set(e, YOC_EINTERNAL, tmp, 0, 0, "no pooled column to fill in");
	size_t n = p->keys.len / YOC_POOL_ENTRY;
	size_t alen = 8 + 4 * n;
	unsigned char *aux = yoc_malloc(alen);
	if (!aux)
		return yoc_error_set(e, YOC_ENOMEM, tmp, 0, 0, "out of memory");
	int rc = YOC_OK, fd = -1;
	memcpy(aux, p->aux_head, 8);
	if ((rc = yoc__pool_intern(s->pool, (const unsigned char *)p->keys.data, n,
				   (uint32_t *)(void *)(aux + 8)))) {
		rc = yoc_error_set(e, rc, tmp, 0, 0, rc == YOC_ENOMEM ? "out of memory" :
						       "the pseudonym pool is full");
		goto cleanup;
	}
	/* the column's aux hash, then the trailer over header and directory */
	uint64_t hh = yoc_hash64(aux, alen, 2);
	memcpy(p->dir.data + p->hash_at, &hh, 8);
	uint64_t sum = yoc_hash64(p->hdr, HDR_LEN, 3) ^ yoc_hash64(p->dir.data, p->dir.len, 4);
	fd = open(tmp, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || pwrite(fd, aux, alen, (off_t)p->aux_off) != (ssize_t)alen ||
	    pwrite(fd, p->dir.data, p->dir.len, (off_t)p->dir_off) != (ssize_t)p->dir.len ||
	    pwrite(fd, &sum, 8, (off_t)(p->dir_off + p->dir.len)) != 8 ||
	    (!s->defer_sync && (fsync(fd) != 0 || (rc = yoc__pool_flush(s->pool, e)))))
		rc = rc ? rc : yoc_error_set(e, YOC_EIO, tmp, 0, 0, "write failed: %s", strerror(errno));
cleanup:
	if (fd >= 0)
		close(fd);
	yoc_free(aux);
	return rc;
}

int yoc_segw_publish(yoc_store *s, const char *tmp, const char *name, struct yoc_error *e)
{
	char path[4300];
	int rc = YOC_OK;
	snprintf(path, sizeof path, "%s/segments/%s", s->dir, name);
	if (rename(tmp, path) != 0) {
		rc = yoc_error_set(e, YOC_EIO, tmp, 0, 0, "write failed: %s", strerror(errno));
		unlink(tmp);
		return rc;
	}
	if (s->defer_sync) {
		char **np = yoc_realloc(s->pending, (s->npending + 1) * sizeof *np);
		char *dup = np ? yoc_strdup(path) : NULL;
		if (np)
			s->pending = np;
		if (!dup) {
			/* cannot defer: make this one durable now */
			int sfd = open(path, O_RDONLY | O_CLOEXEC);
			int bad2 = sfd < 0 || fsync(sfd) != 0;
			if (sfd >= 0)
				close(sfd);
			if (bad2)
				return yoc_error_set(e, YOC_EIO, path, 0, 0, "fsync failed: %s",
						     strerror(errno));
		} else {
			s->pending[s->npending++] = dup;
			/* without it in the set, it is only verified when opened */
			if (s->pending_set.slots || yoc_map_init(&s->pending_set, 1024) == 0)
				yoc_map_put(&s->pending_set, path, strlen(path), 1, NULL);
		}
		s->sync_pending = 1;
		return YOC_OK;
	}
	char segdir[4300];
	snprintf(segdir, sizeof segdir, "%s/segments", s->dir);
	int dfd = open(segdir, O_RDONLY | O_DIRECTORY);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return YOC_OK;
}

int yoc_segw_write_tmp(struct yoc_segw *w, const yoc_store *s, char *tmp, size_t cap,
		       struct yoc_error *e)
{
	static unsigned long seq;
	unsigned long k = __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED);
	int n = snprintf(tmp, cap, "%s/segments/w%ld-%lu.tmp", s->dir, (long)getpid(), k);
	if (n < 0 || (size_t)n >= cap)
		return yoc_error_set(e, YOC_ETOOBIG, s->dir, 0, 0, "path too long");
	return write_tmp(w, s, tmp, e);
}

int yoc_segw_write(struct yoc_segw *w, yoc_store *s, const char *name, struct yoc_error *e)
{
	char path[4300], tmp[4400];
	int rc;
	snprintf(path, sizeof path, "%s/segments/%s", s->dir, name);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if ((rc = write_tmp(w, s, tmp, e)))
		return rc;
	return yoc_segw_publish(s, tmp, name, e);
}


/* ---- reader ---- */

struct rcol {
	int type, enc;
	const char *name, *source; /* NUL-terminated copies in names */
	/* text: entry i is heap[off[i] .. off[i+1]); a row's entry is the row
	 * (plain) or its code (dictionary) */
	const uint32_t *off;
	const char *heap;
	const unsigned char *codes; /* dictionary codes or packed codes, NULL if plain */
	unsigned width;
	uint32_t ndict;
	int64_t lo;                 /* packed */
	uint64_t c0;
	unsigned pad;               /* digits: zero-padded to this many digits */
	const unsigned char *pix;   /* pooled: a pool index per entry but the empty one */
	uint32_t empty;             /* pooled: the code of "", or NO_EMPTY */
	const void *vals;           /* dates / ints: the plain block, or decoded */
	void *own[4];               /* buffers this column owns */
	/* a compressed column is decoded on first use: 0 not yet, 1 ready, -1 unusable */
	int state;
	uint32_t zflags;            /* ENC_ZSTD, ENC_ZSTD_AUX */
	const unsigned char *zb, *za;
	uint64_t zbl, zal, rawb, rawa;
};

struct yoc_seg {
	yoc_store *store;
	const unsigned char *map;
	size_t size;
	int kind;
	int version;
	size_t nrows, ncols;
	struct rcol *cols;
	char *names;
	int date_col;
	int person_col;
	int32_t *pidx;     /* person index per row (plain person column), lazily */
	int32_t *dpidx;    /* person index per dictionary entry, lazily */
	struct yoc__pool *pool; /* the dataset's pseudonym pool, when a column uses it */
	void *dctx;        /* zstd context of the columns decoded so far */
};

static int bad(struct yoc_error *e, const char *path, const char *what)
{
	return yoc_error_set(e, YOC_EDATA, path, 0, 0, "segment is damaged: %s", what);
}

static void *own(struct rcol *c, size_t n)
{
	for (int i = 0; i < 4; i++)
		if (!c->own[i])
			return c->own[i] = yoc_malloc(n ? n : 1);
	return NULL;
}

/* Offsets off[0..n] of a heap of len bytes: from 0, never decreasing, ending at len. */
static int offsets_ok(const uint32_t *o, size_t n, uint64_t len)
{
	if (o[0] != 0 || o[n] != len)
		return 0;
	for (size_t r = 0; r < n; r++)
		if (o[r + 1] < o[r])
			return 0;
	return 1;
}

static size_t fmt_u64(char *out, uint64_t x, unsigned pad)
{
	char t[24];
	size_t n = 0;
	do
		t[n++] = (char)('0' + x % 10);
	while (x /= 10);
	while (n < pad)
		t[n++] = '0';
	for (size_t i = 0; i < n; i++)
		out[i] = t[n - 1 - i];
	return n;
}

/* Decodes a digits column to offsets and heap, as a plain text column. */
static const char *digits_setup(struct rcol *c, size_t nrows, const unsigned char *codes)
{
	uint64_t total = 0;
	char tmp[24];
	for (size_t r = 0; r < nrows; r++) {
		uint64_t k = c->width ? get_le(codes + (size_t)c->width * r, c->width) : c->c0;
		total += k ? fmt_u64(tmp, k + (uint64_t)c->lo - 1, c->pad) : 0;
	}
	if (total >= MAX_TEXT_HEAP)
		return "bad packed column";
	uint32_t *o = own(c, (nrows + 1) * 4);
	char *hp = own(c, (size_t)total);
	if (!o || !hp)
		return "out of memory";
	uint32_t at = 0;
	o[0] = 0;
	for (size_t r = 0; r < nrows; r++) {
		uint64_t k = c->width ? get_le(codes + (size_t)c->width * r, c->width) : c->c0;
		if (k)
			at += (uint32_t)fmt_u64(hp + at, k + (uint64_t)c->lo - 1, c->pad);
		o[r + 1] = at;
	}
	c->off = o;
	c->heap = hp;
	return NULL;
}

/* The lowercase hex text of n bytes into out (2n characters); returns 2n. */
uint32_t yoc__hex_of(const unsigned char *raw, uint64_t n, char *out)
{
	/* byte b -> its two hex digits at 2b */
	static const char pairs[] =
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
		"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
		"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
		"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
		"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
		"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
		"e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
	for (uint64_t j = 0; j < n; j++)
		memcpy(out + 2 * j, pairs + 2 * raw[j], 2);
	return (uint32_t)(2 * n);
}

/*
** The text of a pooled column's entries, made on first use from the pool
** (single-threaded per handle, as every lazy part). NULL: out of memory.
*/
static const char *pooled_heap(const yoc_seg *g, struct rcol *c)
{
	if (c->heap)
		return c->heap;
	uint32_t nraw = c->ndict - (c->empty != NO_EMPTY);
	char *hp = own(c, (size_t)nraw * 2 * YOC_POOL_ENTRY);
	if (!hp)
		return NULL;
	const unsigned char *ix = c->pix;
	uint32_t at = 0;
	for (uint32_t k = 0; k < nraw; k++) {
		/* entries are scattered over the pool: fetch ahead */
		uint32_t v;
		if (k + 8 < nraw) {
			memcpy(&v, ix + 4 * (k + 8), 4);
			__builtin_prefetch(yoc__pool_entry(g->pool, v));
		}
		memcpy(&v, ix + 4 * k, 4);
		at += yoc__hex_of(yoc__pool_entry(g->pool, v), YOC_POOL_ENTRY, hp + at);
	}
	return c->heap = hp;
}

/*
** Checks a column's (decompressed) block and aux against its encoding and
** the row count, and sets up access. Returns a reason, or NULL when sound.
*/
static const char *col_setup(struct rcol *c, size_t nrows, const unsigned char *blk,
			     uint64_t blen, const unsigned char *aux, uint64_t alen)
{
	uint64_t n = nrows;
	switch (c->enc) {
	case ENC_PLAIN:
		if (c->type == YOC_COL_TEXT) {
			if (blen != (n + 1) * 4 || ((uintptr_t)blk & 3) || !offsets_ok((const uint32_t *)blk, nrows, alen))
				return "text offsets";
			c->off = (const uint32_t *)blk;
			c->heap = (const char *)aux;
			return NULL;
		}
		/* read in place: aligned for its type (a writer aligns every block to 8) */
		if (blen != n * (c->type == YOC_COL_DATE ? 4 : 8) ||
		    ((uintptr_t)blk & (c->type == YOC_COL_DATE ? 3 : 7)) || alen)
			return "column out of bounds";
		c->vals = blk;
		return NULL;
	case ENC_PACKED:
	case ENC_DELTA:
	case ENC_DIGITS: {
		uint32_t w32[2];
		if ((c->type == YOC_COL_TEXT) != (c->enc == ENC_DIGITS) || blen < PACK_HDR || alen)
			return "bad packed column";
		memcpy(&c->lo, blk, 8);
		memcpy(&c->c0, blk + 8, 8);
		memcpy(w32, blk + 16, 8);
		if (w32[0] > 8 || blen != PACK_HDR + n * w32[0] ||
		    w32[1] > (c->enc == ENC_DIGITS ? 19u : 0u))
			return "bad packed column";
		c->width = w32[0];
		c->pad = w32[1];
		if (c->enc != ENC_DIGITS) {
			c->codes = blk + PACK_HDR;
			return NULL;
		}
		return digits_setup(c, nrows, blk + PACK_HDR);
	}
	case ENC_DICT:
	case ENC_HEXDICT:
	case ENC_POOL: {
		uint32_t h32[2];
		if (c->type != YOC_COL_TEXT || blen < 8)
			return "bad dictionary";
		memcpy(h32, blk, 8);
		if (h32[1] < 1 || h32[1] > 4 || blen != 8 + n * h32[1])
			return "bad dictionary";
		c->ndict = h32[0];
		c->width = h32[1];
		c->codes = blk + 8; /* each is checked against ndict where read */
		uint64_t nd = c->ndict;
		if (c->enc == ENC_DICT) {
			if (alen < (nd + 1) * 4 || ((uintptr_t)aux & 3) ||
			    !offsets_ok((const uint32_t *)aux, (size_t)nd, alen - (nd + 1) * 4))
				return "dictionary offsets";
			c->off = (const uint32_t *)aux;
			c->heap = (const char *)aux + (nd + 1) * 4;
			return NULL;
		}
		uint32_t a32[2];
		if (alen < 8)
			return "bad hex dictionary";
		memcpy(a32, aux, 8);
		uint64_t hexlen = a32[0], nraw = nd - (a32[1] != NO_EMPTY);
		int pooled = c->enc == ENC_POOL;
		if (hexlen < 2 || hexlen > MAX_HEXLEN || hexlen % 2 ||
		    (a32[1] != NO_EMPTY && a32[1] >= nd) ||
		    alen != 8 + nraw * (pooled ? 4 : hexlen / 2) || nraw * hexlen >= MAX_TEXT_HEAP ||
		    (pooled && hexlen != 2 * YOC_POOL_ENTRY))
			return "bad hex dictionary";
		/* pooled: every index was checked against the pool at open (pool_check) */
		uint32_t *o = own(c, (size_t)(nd + 1) * 4);
		if (!o)
			return "out of memory";
		if (pooled) {
			/* the entries' text is made on first use (pooled_heap): most
			 * readers of pseudonyms want only the persons (yoc_seg_pool_ids) */
			uint32_t at = 0;
			o[0] = 0;
			for (uint64_t k = 0; k < nd; k++)
				o[k + 1] = at += k != a32[1] ? (uint32_t)hexlen : 0;
			c->off = o;
			c->heap = NULL;
			c->pix = aux + 8;
			c->empty = a32[1];
			return NULL;
		}
		char *hp = own(c, (size_t)(nraw * hexlen));
		if (!hp)
			return "out of memory";
		const unsigned char *raw = aux + 8;
		uint32_t at = 0;
		o[0] = 0;
		for (uint64_t k = 0; k < nd; k++) {
			if (k != a32[1]) {
				at += yoc__hex_of(raw, hexlen / 2, hp + at);
				raw += hexlen / 2;
			}
			o[k + 1] = at;
		}
		c->off = o;
		c->heap = hp;
		return NULL;
	}
	default:
		return "unknown column encoding";
	}
}

/* The padding after a block that ends at end is zeros: every byte of a segment is checked. */
static int pad_ok(const yoc_seg *g, uint64_t end)
{
	for (; (end & 7) && end < g->size; end++)
		if (g->map[end])
			return 0;
	return 1;
}

/* The pool of the dataset that holds segment path (DIR/segments/NAME). */
static struct yoc__pool *pool_of(const char *path)
{
	char dir[4400];
	snprintf(dir, sizeof dir, "%s", path);
	char *sl = strrchr(dir, '/');
	if (!sl)
		return yoc__pool_get("..");
	*sl = 0;
	size_t n = strlen(dir);
	if (n >= 9 && strcmp(dir + n - 9, "/segments") == 0)
		dir[n - 9] = 0;
	else if (strcmp(dir, "segments") == 0)
		snprintf(dir, sizeof dir, ".");
	return yoc__pool_get(dir[0] ? dir : "/");
}

/*
** A pooled column's aux (never compressed): every index it holds names an
** entry of the dataset's pool (read from the file if need be).
*/
static int pool_check(const yoc_seg *g, const struct rcol *c, const unsigned char *aux,
		      uint64_t alen, uint32_t enc, const char *path, struct yoc_error *e)
{
	(void)c;
	if ((enc & ENC_ZSTD_AUX) || alen < 8 || (alen - 8) % 4)
		return bad(e, path, "bad pooled column");
	uint32_t top = 0, v;
	for (uint64_t at = 8; at < alen; at += 4) {
		memcpy(&v, aux + at, 4);
		top = v > top ? v : top;
	}
	if (alen > 8 && (top == UINT32_MAX || !yoc__pool_have(g->pool, top + 1)))
		return yoc_error_set(e, YOC_EDATA, path, 0, 0,
				     "segment is damaged: it names pseudonym %lu of the dataset's "
				     "pseudonyms.pool, which is missing or holds fewer",
				     (unsigned long)top);
	return YOC_OK;
}

/* verify 0: checksums skipped (a segment this process wrote in this load); bounds still checked */
static int seg_open(const char *path, int verify, yoc_seg **out, struct yoc_error *e)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot open segment: %s", strerror(errno));
	struct stat st;
	int rc = YOC_OK;
	yoc_seg *g = yoc_calloc(1, sizeof *g);
	if (!g) {
		close(fd);
		return yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "out of memory");
	}
	g->date_col = g->person_col = -1;
	if (fstat(fd, &st) != 0 || st.st_size < HDR_LEN + 8) {
		rc = bad(e, path, "too short");
		goto cleanup;
	}
	g->size = (size_t)st.st_size;
	g->map = mmap(NULL, g->size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (g->map == MAP_FAILED) {
		g->map = NULL;
		rc = yoc_error_set(e, YOC_EIO, path, 0, 0, "mmap: %s", strerror(errno));
		goto cleanup;
	}
	const unsigned char *h = g->map;
	uint32_t kind;
	uint64_t nrows, ncols, dir_off, dir_len, sum;
	if (memcmp(h, SEG_MAGIC3, 8) == 0) {
		g->version = 3;
	} else if (memcmp(h, SEG_MAGIC2, 8) == 0) {
		g->version = 2;
	} else if (memcmp(h, SEG_MAGIC1, 8) == 0) {
		g->version = 1;
	} else {
		rc = bad(e, path, "bad magic");
		goto cleanup;
	}
	size_t nd64 = g->version == 1 ? 6 : 8;
	memcpy(&kind, h + 12, 4);
	memcpy(&nrows, h + 16, 8);
	memcpy(&ncols, h + 24, 8);
	memcpy(&dir_off, h + 32, 8);
	memcpy(&dir_len, h + 40, 8);
	memcpy(&sum, h + g->size - 8, 8);
	if (dir_off > g->size - 8 || dir_len > g->size - 8 - dir_off || ncols > 100000 ||
	    nrows > UINT32_MAX || kind >= YOC_KIND_COUNT) {
		rc = bad(e, path, "bad header");
		goto cleanup;
	}
	if (verify && (yoc_hash64(h, HDR_LEN, 3) ^ yoc_hash64(h + dir_off, (size_t)dir_len, 4)) != sum) {
		rc = bad(e, path, "checksum mismatch");
		goto cleanup;
	}
	g->kind = (int)kind;
	g->nrows = (size_t)nrows;
	g->ncols = (size_t)ncols;
	g->cols = yoc_calloc(ncols ? ncols : 1, sizeof *g->cols);
	g->names = yoc_malloc((size_t)dir_len + 2 * ncols + 1);
	if (!g->cols || !g->names) {
		rc = yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "out of memory");
		goto cleanup;
	}
	const unsigned char *d = h + dir_off, *dend = d + dir_len;
	char *np = g->names;
	const struct yoc_kind_spec *ks = yoc_spec_kind(g->kind);
	for (size_t i = 0; i < ncols; i++) {
		uint32_t d32[4];
		uint64_t d64[8];
		if ((size_t)(dend - d) < sizeof d32 + nd64 * 8) {
			rc = bad(e, path, "short directory");
			goto cleanup;
		}
		memcpy(d32, d, sizeof d32);
		memcpy(d64, d + sizeof d32, nd64 * 8);
		d += sizeof d32 + nd64 * 8;
		if (g->version == 1) {
			d32[3] = ENC_PLAIN;
			d64[6] = d64[1];
			d64[7] = d64[3];
		}
		if (d32[0] > YOC_COL_MONEY || d32[1] > (size_t)(dend - d) ||
		    d32[2] > (size_t)(dend - d) - d32[1]) {
			rc = bad(e, path, "bad directory entry");
			goto cleanup;
		}
		struct rcol *c = &g->cols[i];
		c->type = (int)d32[0];
		c->enc = (int)(d32[3] & ENC_MASK);
		if (c->enc == ENC_POOL && g->version < 3) {
			rc = bad(e, path, "bad directory entry");
			goto cleanup;
		}
		if (c->enc == ENC_POOL && !g->pool)
			g->pool = pool_of(path);
		/* the pool is outside the segment's checksums: its entries are checked here */
		if (c->enc == ENC_POOL && (rc = pool_check(g, c, h + d64[2], d64[3], d32[3], path, e)))
			goto cleanup;
		c->name = np;
		memcpy(np, d, d32[1]);
		np += d32[1];
		*np++ = 0;
		c->source = np;
		memcpy(np, d + d32[1], d32[2]);
		np += d32[2];
		*np++ = 0;
		d += ((size_t)d32[1] + d32[2] + 7) & ~(size_t)7;
		if (d > dend)
			d = dend;
		if (d64[0] > g->size || d64[1] > g->size - d64[0] || d64[2] > g->size ||
		    d64[3] > g->size - d64[2] ||
		    (d32[3] & ~(uint32_t)(ENC_MASK | ENC_ZSTD | ENC_ZSTD_AUX))) {
			rc = bad(e, path, "column out of bounds");
			goto cleanup;
		}
		if (verify && (yoc_hash64(h + d64[0], (size_t)d64[1], 1) != d64[4] ||
			       yoc_hash64(h + d64[2], (size_t)d64[3], 2) != d64[5] ||
			       !pad_ok(g, d64[0] + d64[1]) || !pad_ok(g, d64[2] + d64[3]))) {
			rc = bad(e, path, "column checksum mismatch");
			goto cleanup;
		}
		const unsigned char *blk = h + d64[0], *aux = h + d64[2];
		uint64_t blen = d64[1], alen = d64[3];
		const char *why = NULL;
		c->zflags = d32[3] & (ENC_ZSTD | ENC_ZSTD_AUX);
		if (((c->zflags & ENC_ZSTD) ? !yoc__seg_frame_ok(blk, blen, d64[6]) : d64[6] != blen) ||
		    ((c->zflags & ENC_ZSTD_AUX) ? !yoc__seg_frame_ok(aux, alen, d64[7]) : d64[7] != alen)) {
			why = "bad compressed block";
		} else {
			/* checked and set up on first use */
			c->zb = blk;
			c->za = aux;
			c->zbl = blen;
			c->zal = alen;
			c->rawb = d64[6];
			c->rawa = d64[7];
		}
		if (why) {
			rc = strcmp(why, "out of memory") == 0 ?
				yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "out of memory") : bad(e, path, why);
			goto cleanup;
		}
		const struct yoc_field *f = ks ? yoc_spec_field(ks, c->name, strlen(c->name)) : NULL;
		if (f && f->role == YOC_ROLE_DATE && c->type == YOC_COL_DATE && g->date_col < 0)
			g->date_col = (int)i;
		if (f && f->role == YOC_ROLE_PERSON && c->type == YOC_COL_TEXT && g->person_col < 0)
			g->person_col = (int)i;
	}
	*out = g;
	g = NULL;
cleanup:
	close(fd);
	yoc_seg_close(g);
	return rc;
}

int yoc_seg_open_path(const char *path, yoc_seg **out, struct yoc_error *e)
{
	return seg_open(path, 1, out, e);
}

/*
** 1 if this process wrote path in the load still in progress. A hash set:
** the linkage opens every segment of a load, and a scan of the list for
** each was quadratic (106 million comparisons at 14,595 files).
*/
static int fresh(const yoc_store *s, const char *path)
{
	return s->pending_set.slots && yoc_map_get(&s->pending_set, path, strlen(path)) != NULL;
}

static int open_by_id(yoc_store *s, int64_t file_id, int verify, yoc_seg **out,
		      struct yoc_error *e);

int yoc__seg_open_named(yoc_store *s, const char *segment, yoc_seg **out,
			struct yoc_error *e)
{
	char path[4400];
	snprintf(path, sizeof path, "%s/segments/%s", s->dir, segment);
	int rc = seg_open(path, !fresh(s, path), out, e);
	if (!rc)
		(*out)->store = s;
	return rc;
}

int yoc_seg_open(yoc_store *s, int64_t file_id, yoc_seg **out, struct yoc_error *e)
{
	return open_by_id(s, file_id, 1, out, e);
}

int yoc_seg_open_unverified(yoc_store *s, int64_t file_id, yoc_seg **out,
			    struct yoc_error *e)
{
	return open_by_id(s, file_id, 0, out, e);
}

static int open_by_id(yoc_store *s, int64_t file_id, int verify, yoc_seg **out,
		      struct yoc_error *e)
{
	*out = NULL;
	sqlite3_stmt *st = NULL;
	char path[4400];
	int rc = YOC_OK;
	if (sqlite3_prepare_v2(s->db, "SELECT segment FROM files WHERE file_id = ?", -1, &st, NULL))
		return yoc_error_set(e, YOC_EIO, s->dbpath, 0, 0, "sqlite: %s", sqlite3_errmsg(s->db));
	sqlite3_bind_int64(st, 1, file_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = yoc_error_set(e, YOC_ENOTFOUND, s->dbpath, 0, 0, "no file %lld", (long long)file_id);
		goto cleanup;
	}
	snprintf(path, sizeof path, "%s/segments/%s", s->dir, (const char *)sqlite3_column_text(st, 0));
	/* A segment written moments ago by this load is what it computed: its
	 * checksums are for readers that come after. */
	if ((rc = seg_open(path, verify && !fresh(s, path), out, e)))
		goto cleanup;
	(*out)->store = s;
cleanup:
	sqlite3_finalize(st);
	return rc;
}

void yoc_seg_close(yoc_seg *g)
{
	if (!g)
		return;
	if (g->map)
		munmap((void *)g->map, g->size);
	for (size_t i = 0; g->cols && i < g->ncols; i++)
		for (int k = 0; k < 4; k++)
			yoc_free(g->cols[i].own[k]);
	yoc_free(g->cols);
	yoc_free(g->names);
	yoc_free(g->pidx);
	yoc_free(g->dpidx);
	yoc__seg_zctx_free(NULL, g->dctx);
	yoc_free(g);
}

size_t yoc_seg_nrows(const yoc_seg *g) { return g->nrows; }
size_t yoc_seg_ncols(const yoc_seg *g) { return g->ncols; }
int yoc_seg_kind(const yoc_seg *g) { return g->kind; }
int yoc__seg_version(const yoc_seg *g) { return g->version; }

int yoc_seg_col(const yoc_seg *g, const char *name)
{
	for (size_t i = 0; i < g->ncols; i++)
		if (strcmp(g->cols[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *yoc_seg_col_name(const yoc_seg *g, int col) { return g->cols[col].name; }
const char *yoc_seg_col_source(const yoc_seg *g, int col) { return g->cols[col].source; }
int yoc_seg_col_type(const yoc_seg *g, int col) { return g->cols[col].type; }

/*
** 1 when column col can be read: a compressed column is decompressed and
** checked on first use. A column that cannot be (out of memory, or damage
** that its checksums did not show: an unverified open) reads as empty.
*/
static int col_ready(const yoc_seg *g, int col)
{
	struct rcol *c = &((yoc_seg *)g)->cols[col]; /* lazy; single-threaded per handle */
	if (c->state)
		return c->state > 0;
	const unsigned char *blk = c->zb, *aux = c->za;
	uint64_t blen = c->zbl, alen = c->zal;
	c->state = -1;
	void **dctx = &((yoc_seg *)g)->dctx; /* lazy, as c */
	if (((c->zflags & ENC_ZSTD) && yoc__seg_inflate(dctx, &blk, &blen, c->rawb, &c->own[0])) ||
	    ((c->zflags & ENC_ZSTD_AUX) && yoc__seg_inflate(dctx, &aux, &alen, c->rawa, &c->own[1])) ||
	    col_setup(c, g->nrows, blk, blen, aux, alen))
		return 0;
	c->state = 1;
	return 1;
}

struct yoc_cell yoc_seg_text(const yoc_seg *g, int col, size_t row)
{
	struct yoc_cell c = {"", 0};
	if (col < 0 || g->cols[col].type != YOC_COL_TEXT || row >= g->nrows)
		return c;
	const struct rcol *k = &g->cols[col];
	if (k->state <= 0 && !col_ready(g, col))
		return c;
	size_t i = k->codes ? code_at(k->codes, k->width, row) : row;
	if (i >= (k->codes ? k->ndict : g->nrows))
		return c; /* damage an unverified open let through */
	if (!k->heap && !pooled_heap(g, (struct rcol *)k))
		return c;
	c.p = k->heap + k->off[i];
	c.n = k->off[i + 1] - k->off[i];
	return c;
}

/*
** The values of a date or int column: the plain block, or the packed codes
** decoded on first use (kept until close). NULL when col is no such column,
** or out of memory.
*/
static const void *num_values(const yoc_seg *g, int col)
{
	if (col < 0 || (size_t)col >= g->ncols || g->cols[col].type == YOC_COL_TEXT)
		return NULL;
	struct rcol *c = &((yoc_seg *)g)->cols[col]; /* lazy; single-threaded per handle */
	if (c->vals)
		return c->vals;
	if (!col_ready(g, col) || c->vals)
		return c->vals;
	size_t n = g->nrows;
	int date = c->type == YOC_COL_DATE, K = none_count(c->type);
	void *v = own(c, n * (date ? 4 : 8));
	if (!v)
		return NULL;
	int32_t *d = v;
	int64_t *q = v;
	/* the codes first (fixed widths unrolled by the compiler), then their values */
	uint64_t *k = date ? NULL : (uint64_t *)v;
	uint64_t *tmp = date ? yoc_malloc((n ? n : 1) * 8) : NULL;
	if (date) {
		if (!tmp)
			return NULL;
		k = tmp;
	}
	switch (c->width) {
	case 0: for (size_t r = 0; r < n; r++) k[r] = c->c0; break;
	case 1: for (size_t r = 0; r < n; r++) k[r] = c->codes[r]; break;
	case 2: for (size_t r = 0; r < n; r++) k[r] = get_le(c->codes + 2 * r, 2); break;
	case 4: for (size_t r = 0; r < n; r++) k[r] = get_le(c->codes + 4 * r, 4); break;
	default:
		for (size_t r = 0; r < n; r++)
			k[r] = get_le(c->codes + (size_t)c->width * r, c->width);
	}
	uint64_t lo = (uint64_t)c->lo, x = lo;
	for (size_t r = 0; r < n; r++) {
		if (c->enc == ENC_DELTA)
			x = r ? x + k[r] : lo;
		else
			x = k[r] < (uint64_t)K ? (date ? (uint64_t)(int64_t)(INT32_MIN + (int32_t)k[r]) :
						       (uint64_t)INT64_MIN) :
						 lo + (k[r] - (uint64_t)K);
		if (date)
			d[r] = (int32_t)(uint32_t)x;
		else
			q[r] = (int64_t)x;
	}
	yoc_free(tmp);
	c->vals = v;
	return v;
}

int32_t yoc_seg_date(const yoc_seg *g, int col, size_t row)
{
	if (col < 0 || g->cols[col].type != YOC_COL_DATE || row >= g->nrows)
		return YOC_DATE_NONE;
	const int32_t *v = num_values(g, col);
	return v ? v[row] : YOC_DATE_NONE;
}

int64_t yoc_seg_int(const yoc_seg *g, int col, size_t row)
{
	if (col < 0 || (g->cols[col].type != YOC_COL_INT && g->cols[col].type != YOC_COL_MONEY) ||
	    row >= g->nrows)
		return YOC_INT_NONE;
	const char *a = num_values(g, col);
	if (!a)
		return YOC_INT_NONE;
	int64_t v;
	memcpy(&v, a + row * 8, 8);
	return v;
}

const int32_t *yoc_seg_dates(const yoc_seg *g, int col)
{
	return col >= 0 && g->cols[col].type == YOC_COL_DATE ? num_values(g, col) : NULL;
}

const int64_t *yoc_seg_ints(const yoc_seg *g, int col)
{
	return col >= 0 && (g->cols[col].type == YOC_COL_INT || g->cols[col].type == YOC_COL_MONEY) ?
		num_values(g, col) : NULL;
}

size_t yoc_seg_format(const yoc_seg *g, int col, size_t row, char *buf, size_t cap,
		      const char **text)
{
	*text = buf;
	switch (g->cols[col].type) {
	case YOC_COL_TEXT: {
		struct yoc_cell c = yoc_seg_text(g, col, row);
		*text = c.p;
		return c.n;
	}
	case YOC_COL_DATE: {
		int32_t d = yoc_seg_date(g, col, row);
		if (d == YOC_DATE_NONE)
			return 0;
		if (d == YOC_DATE_HES_NULL)
			return (size_t)snprintf(buf, cap, "1800-01-01");
		if (d == YOC_DATE_HES_INVALID)
			return (size_t)snprintf(buf, cap, "1801-01-01");
		if (d < -719528 || d > 2932896) /* outside years 0000-9999: no load writes one */
			return (size_t)snprintf(buf, cap, "%ld", (long)d);
		char tmp[16];
		yoc_date_format(d, tmp);
		return (size_t)snprintf(buf, cap, "%s", tmp);
	}
	case YOC_COL_INT: {
		int64_t v = yoc_seg_int(g, col, row);
		return v == YOC_INT_NONE ? 0 : (size_t)snprintf(buf, cap, "%lld", (long long)v);
	}
	default: {
		int64_t v = yoc_seg_int(g, col, row);
		if (v == YOC_INT_NONE)
			return 0;
		uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
		return (size_t)snprintf(buf, cap, "%s%llu.%02llu", v < 0 ? "-" : "",
					(unsigned long long)(a / 100), (unsigned long long)(a % 100));
	}
	}
}

int32_t yoc_seg_activity_date(const yoc_seg *g, size_t row)
{
	return yoc_seg_date(g, g->date_col, row);
}


/*
** Person index per row. A dictionary-encoded person column (format 2) is
** resolved once per distinct pseudonym; a plain one (format 1) once per row.
*/
static int fill_pidx(yoc_seg *g)
{
	const struct rcol *c = &g->cols[g->person_col];
	if (!col_ready(g, g->person_col))
		c = NULL;
	int dict = c && c->codes;
	size_t n = dict ? c->ndict : g->nrows;
	if (dict && c->pix && g->store) {
		/* pooled: each pseudonym's person once per dataset (yoc_store_pool_persons) */
		int32_t *out = yoc_malloc((n ? n : 1) * sizeof *out);
		uint32_t *ids = yoc_malloc((n ? n : 1) * sizeof *ids);
		if (out && ids) {
			yoc_seg_pool_ids(g, g->person_col, ids);
			yoc_store_pool_persons(g->store, ids, n, out);
		}
		yoc_free(ids);
		if (!out || !ids) {
			yoc_free(out);
			return YOC_ENOMEM;
		}
		g->dpidx = out;
		return YOC_OK;
	}
	if (dict && !pooled_heap(g, (struct rcol *)c))
		return YOC_ENOMEM;
	int32_t *out = yoc_malloc((n ? n : 1) * sizeof *out);
	struct yoc_map_key *keys = yoc_malloc((n ? n : 1) * sizeof *keys);
	if (!out || !keys) {
		yoc_free(out);
		yoc_free(keys);
		return YOC_ENOMEM;
	}
	for (size_t k = 0; k < n; k++) {
		if (dict) {
			keys[k].p = c->heap + c->off[k];
			keys[k].n = c->off[k + 1] - c->off[k];
		} else {
			struct yoc_cell c1 = yoc_seg_text(g, g->person_col, k);
			keys[k].p = c1.p;
			keys[k].n = c1.n;
		}
	}
	/* all at once: the person map's cache misses overlap */
	if (g->store)
		yoc_store_person_indexes(g->store, keys, n, out);
	for (size_t k = 0; k < n; k++)
		if (!g->store || keys[k].n == 0)
			out[k] = -1;
	yoc_free(keys);
	if (dict)
		g->dpidx = out;
	else
		g->pidx = out;
	return YOC_OK;
}

int32_t yoc_seg_person(const yoc_seg *g, size_t row)
{
	if (g->person_col < 0 || row >= g->nrows)
		return -1;
	yoc_seg *mg = (yoc_seg *)g; /* lazy cache; documented as single-threaded per handle */
	if (!g->pidx && !g->dpidx && fill_pidx(mg))
		return -1;
	if (g->dpidx) {
		const struct rcol *c = &g->cols[g->person_col];
		uint32_t k = code_at(c->codes, c->width, row);
		return k < c->ndict ? g->dpidx[k] : -1;
	}
	return g->pidx[row];
}

int64_t yoc_seg_pool_ids(const yoc_seg *g, int col, uint32_t *out)
{
	if (col < 0 || (size_t)col >= g->ncols || g->cols[col].enc != ENC_POOL || !col_ready(g, col))
		return -1;
	const struct rcol *c = &g->cols[col];
	const unsigned char *ix = c->pix;
	for (uint32_t k = 0; out && k < c->ndict; k++) {
		if (k == c->empty) {
			out[k] = UINT32_MAX;
		} else {
			memcpy(&out[k], ix, 4);
			ix += 4;
		}
	}
	return c->ndict;
}

const unsigned char *yoc_seg_pool_entry(const yoc_seg *g, uint32_t id)
{
	return g->pool && yoc__pool_have(g->pool, id + 1) ? yoc__pool_entry(g->pool, id) : NULL;
}

/* Each row's code of a dictionary column with room for them; a damaged code reads as ndict. */
static void dict_codes(const struct rcol *c, size_t nrows, uint32_t *out)
{
	const unsigned char *p = c->codes;
	uint32_t nd = c->ndict;
	switch (c->width) {
	case 1:
		for (size_t r = 0; r < nrows; r++)
			out[r] = p[r] < nd ? p[r] : nd;
		break;
	case 2:
		for (size_t r = 0; r < nrows; r++) {
			uint32_t k = code_at(p, 2, r);
			out[r] = k < nd ? k : nd;
		}
		break;
	default:
		for (size_t r = 0; r < nrows; r++) {
			uint32_t k = code_at(p, c->width, r);
			out[r] = k < nd ? k : nd;
		}
	}
}

int64_t yoc_seg_dict_codes(const yoc_seg *g, int col, uint32_t *out)
{
	if (col < 0 || (size_t)col >= g->ncols || g->cols[col].type != YOC_COL_TEXT ||
	    !col_ready(g, col))
		return -1;
	const struct rcol *c = &g->cols[col];
	if (c->enc != ENC_DICT && c->enc != ENC_HEXDICT && c->enc != ENC_POOL)
		return -1;
	if (out)
		dict_codes(c, g->nrows, out);
	return c->ndict;
}

struct yoc_cell yoc_seg_dict_entry(const yoc_seg *g, int col, uint32_t k)
{
	struct yoc_cell v = {"", 0};
	if (col < 0 || (size_t)col >= g->ncols || !col_ready(g, col))
		return v;
	const struct rcol *c = &g->cols[col];
	if ((c->enc != ENC_DICT && c->enc != ENC_HEXDICT && c->enc != ENC_POOL) || k >= c->ndict ||
	    (!c->heap && !pooled_heap(g, (struct rcol *)c)))
		return v;
	v.p = c->heap + c->off[k];
	v.n = c->off[k + 1] - c->off[k];
	return v;
}

int yoc_seg_link_reasons(const yoc_seg *g, unsigned char *why)
{
	size_t n = g->nrows;
	if (g->person_col < 0) {
		memset(why, 1, n); /* no person column: no pseudonym */
		return YOC_OK;
	}
	int64_t nd = yoc_seg_dict_codes(g, g->person_col, NULL);
	if (nd < 0 || (g->dpidx == NULL && fill_pidx((yoc_seg *)g)) || !g->dpidx) {
		for (size_t r = 0; r < n; r++) {
			const char *w = yoc_seg_link_reason(g, r);
			why[r] = w[0] == 'l' ? 0 : w[0] == 'n' && w[1] == 'o' && w[2] == '_' ? 1 : 2;
		}
		return YOC_OK;
	}
	/* once per distinct pseudonym; entry nd: a damaged code, read as "" */
	const struct rcol *c = &g->cols[g->person_col];
	unsigned char *ew = yoc_malloc((size_t)nd + 1);
	uint32_t *codes = yoc_malloc((n ? n : 1) * sizeof *codes);
	if (!ew || !codes) {
		yoc_free(ew);
		yoc_free(codes);
		return YOC_ENOMEM;
	}
	for (uint32_t k = 0; k < (uint32_t)nd; k++)
		ew[k] = c->off[k + 1] == c->off[k] ? 1 : g->dpidx[k] >= 0 ? 0 : 2;
	ew[nd] = 1;
	dict_codes(c, n, codes);
	for (size_t r = 0; r < n; r++)
		why[r] = ew[codes[r]];
	yoc_free(ew);
	yoc_free(codes);
	return YOC_OK;
}

const char *yoc_seg_link_reason(const yoc_seg *g, size_t row)
{
	struct yoc_cell c = yoc_seg_text(g, g->person_col, row);
	if (c.n == 0)
		return "no_pseudonym";
	return yoc_seg_person(g, row) >= 0 ? "linked" : "not_registered";
}

void yoc__store_pending_free(yoc_store *s)
{
	for (size_t i = 0; i < s->npending; i++)
		yoc_free(s->pending[i]);
	yoc_free(s->pending);
	s->pending = NULL;
	s->npending = 0;
	if (s->pending_set.slots)
		yoc_map_free(&s->pending_set);
	memset(&s->pending_set, 0, sizeof s->pending_set);
	s->sync_pending = 0;
}

void yoc_store_compress(yoc_store *s, int level)
{
	s->zlevel = level > 0 ? (level > 19 ? 19 : level) : -1;
}

void yoc_store_defer_sync(yoc_store *s, int on)
{
	s->defer_sync = on;
	if (!on)
		yoc__store_pending_free(s);
}

int yoc_store_sync(yoc_store *s, struct yoc_error *e)
{
	int rc = yoc__pool_flush(s->pool, e);
	if (rc)
		return rc;
	if (!s->sync_pending)
		return YOC_OK;
	char segdir[4300];
	snprintf(segdir, sizeof segdir, "%s/segments", s->dir);
	int dfd = open(segdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return yoc_error_set(e, YOC_EIO, segdir, 0, 0, "cannot open: %s", strerror(errno));
	/*
	 * Each new segment (its write-back started when written), then the
	 * directory. Past a few dozen files one syncfs is far cheaper than a
	 * journal commit per fdatasync; it also flushes other dirty data of the
	 * file system, which only costs time.
	 */
	int bad = 0, err = 0;
	if (s->npending > 32) {
		bad = syncfs(dfd) != 0;
		err = errno;
	}
	for (size_t i = 0; i < s->npending && !bad && s->npending <= 32; i++) {
		int fd = open(s->pending[i], O_RDONLY | O_CLOEXEC);
		bad = fd < 0 || fdatasync(fd) != 0;
		err = errno;
		if (fd >= 0)
			close(fd);
	}
	if (!bad) {
		bad = fsync(dfd) != 0;
		err = errno;
	}
	close(dfd);
	if (bad)
		return yoc_error_set(e, YOC_EIO, segdir, 0, 0, "sync failed: %s", strerror(err));
	yoc__store_pending_free(s);
	return YOC_OK;
}

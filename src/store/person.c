/*
** The person table (registered population from gp_register, dates of death
** from deaths) and the linkage table (per file and month: rows linked to a
** registered person, rows without a pseudonym, rows whose pseudonym is not
** registered). Both are derived from current segments and rebuilt inside the
** loader's transaction, so they always agree with the committed files.
** Every person's row depends only on that person's records.
*/
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "yoc/date.h"

/* ---- the pseudonym index ---- */

/*
** Pseudonyms are 64 hex digits (HES ones opaque text): every 8-byte word
** folded in with a multiply; two lanes keep the chain short.
*/
static uint64_t pkey_hash(const char *p, size_t n)
{
	uint64_t a = 0x9e3779b97f4a7c15ULL ^ n, b = 0xc2b2ae3d27d4eb4fULL, w;
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		memcpy(&w, p + i, 8);
		a = (a ^ w) * 0xbf58476d1ce4e5b9ULL;
		a ^= a >> 29;
		memcpy(&w, p + i + 8, 8);
		b = (b ^ w) * 0x94d049bb133111ebULL;
		b ^= b >> 31;
	}
	for (; i < n; i++)
		a = (a ^ (unsigned char)p[i]) * 0x100000001b3ULL;
	uint64_t h = (a ^ (b >> 7) ^ (b << 13)) * 0xd6e8feb86659fd93ULL;
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ULL;
	return h ^ (h >> 29);
}

static int pindex_init(struct yoc__pindex *x, size_t expected)
{
	size_t cap = 64;
	while (cap < 2 * expected)
		cap *= 2;
	x->slot = yoc_calloc(cap, sizeof *x->slot);
	x->mask = x->slot ? cap - 1 : 0;
	return x->slot ? YOC_OK : YOC_ENOMEM;
}

static void pindex_free(struct yoc__pindex *x)
{
	yoc_free(x->slot);
	x->slot = NULL;
	x->mask = 0;
}

/*
** The index of key among a[] (keys in a[i].pseudo), or -1; *at: the slot
** where it would go (the caller fills it, keeping the load at most 1/2).
*/
static int64_t pindex_find(const struct yoc__pindex *x, const struct yoc_person *a,
			   const char *key, size_t n, uint64_t h, size_t *at)
{
	uint64_t tag = h >> 32 << 32;
	size_t i = (size_t)h & x->mask;
	for (;; i = (i + 1) & x->mask) {
		uint64_t v = x->slot[i];
		if (!v)
			break;
		if ((v >> 32 << 32) != tag)
			continue;
		/* equal bytes and length (a key with a NUL in it is no pseudo) */
		const char *z = a[(uint32_t)v - 1].pseudo;
		if (memcmp(z, key, n) == 0 && z[n] == 0 && !memchr(key, 0, n))
			return (int64_t)(uint32_t)v - 1;
	}
	if (at)
		*at = i;
	return -1;
}

/* Adds a[idx] (not present; the index sized for it). */
static void pindex_put(struct yoc__pindex *x, const struct yoc_person *a, uint32_t idx)
{
	const char *z = a[idx].pseudo;
	size_t n = strlen(z), at;
	uint64_t h = pkey_hash(z, n);
	if (pindex_find(x, a, z, n, h, &at) < 0)
		x->slot[at] = (h >> 32 << 32) | ((uint64_t)idx + 1);
}

/* Doubles the index (a[] holds n persons). */
static int pindex_grow(struct yoc__pindex *x, const struct yoc_person *a, size_t n)
{
	struct yoc__pindex y;
	if (pindex_init(&y, x->mask + 1))
		return YOC_ENOMEM;
	for (size_t i = 0; i < n; i++)
		pindex_put(&y, a, (uint32_t)i);
	pindex_free(x);
	*x = y;
	return YOC_OK;
}

void yoc_store_persons_reset(yoc_store *s)
{
	if (!s->persons_loaded)
		return;
	yoc_free(s->persons);
	s->persons = NULL;
	s->npersons = 0;
	pindex_free(&s->pmap);
	yoc_free(s->pool_pidx);
	s->pool_pidx = NULL;
	s->npool_pidx = 0;
	s->persons_loaded = 0;
}

/*
** With the person cache: room to remember the person of every pseudonym id
** the pool holds now (ids added later are looked up each time).
*/
static void pool_cache_init(yoc_store *s)
{
	uint32_t n = yoc__pool_size(s->pool);
	yoc_free(s->pool_pidx);
	s->pool_pidx = n ? yoc_malloc((size_t)n * sizeof *s->pool_pidx) : NULL;
	s->npool_pidx = s->pool_pidx ? n : 0;
	for (uint32_t i = 0; i < s->npool_pidx; i++)
		s->pool_pidx[i] = -2;
}

void yoc_store_pool_persons(yoc_store *s, const uint32_t *ids, size_t n, int32_t *out)
{
	if (!s->persons_loaded) {
		const struct yoc_person *p;
		size_t np;
		struct yoc_error e;
		if (yoc_store_persons(s, &p, &np, &e)) {
			for (size_t i = 0; i < n; i++)
				out[i] = -1;
			return;
		}
	}
	char hex[2 * YOC_POOL_ENTRY];
	for (size_t i = 0; i < n; i++) {
		uint32_t id = ids[i];
		int32_t v = -1;
		if (id != UINT32_MAX && yoc__pool_have(s->pool, id + 1)) {
			/* threads may race to fill a slot: each writes the same answer */
			v = id < s->npool_pidx ? __atomic_load_n(&s->pool_pidx[id], __ATOMIC_RELAXED) : -2;
			if (v == -2) {
				yoc__hex_of(yoc__pool_entry(s->pool, id), YOC_POOL_ENTRY, hex);
				v = (int32_t)pindex_find(&s->pmap, s->persons, hex, sizeof hex,
							 pkey_hash(hex, sizeof hex), NULL);
				if (id < s->npool_pidx)
					__atomic_store_n(&s->pool_pidx[id], v, __ATOMIC_RELAXED);
			}
		}
		out[i] = v;
	}
}

static int32_t date_of_text(const unsigned char *z)
{
	int32_t d;
	if (!z || !*z)
		return YOC_DATE_NONE;
	return yoc_date_parse((const char *)z, strlen((const char *)z), &d) == YOC_DATE_VALID ?
		d : YOC_DATE_NONE;
}

static void cpy(char *dst, size_t cap, const unsigned char *z)
{
	snprintf(dst, cap, "%s", z ? (const char *)z : "");
}

int yoc_store_persons(yoc_store *s, const struct yoc_person **out, size_t *n,
		      struct yoc_error *e)
{
	if (s->persons_loaded) {
		*out = s->persons;
		*n = s->npersons;
		return YOC_OK;
	}
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st = NULL;
	int rc = YOC_OK;
	int64_t count = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM person", -1, &st, NULL) ||
	    sqlite3_step(st) != SQLITE_ROW) {
		rc = yoc_error_set(e, YOC_EIO, s->dbpath, 0, 0, "sqlite: %s", sqlite3_errmsg(s->db));
		goto cleanup;
	}
	count = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	s->persons = yoc_calloc((size_t)count + 1, sizeof *s->persons);
	if (!s->persons || (uint64_t)count >= UINT32_MAX || pindex_init(&s->pmap, (size_t)count + 1)) {
		yoc_free(s->persons);
		s->persons = NULL;
		rc = yoc_error_set(e, YOC_ENOMEM, s->dbpath, 0, 0, "out of memory");
		goto cleanup;
	}
	s->persons_loaded = 1;
	/* person_idx order is pseudonym order: each table read in its own key order */
	if (sqlite3_prepare_v2(s->db, yoc__store_person_keyed(s) ?
			       "SELECT person_idx, pseudo_id, sex, birth_month, birth_year,"
			       " practice, lsoa, imd_decile, reg_start, reg_end, date_of_death"
			       " FROM person ORDER BY pseudo_id" :
			       "SELECT person_idx, pseudo_id, sex, birth_month, birth_year,"
			       " practice, lsoa, imd_decile, reg_start, reg_end, date_of_death"
			       " FROM person ORDER BY person_idx", -1, &st, NULL)) {
		rc = yoc_error_set(e, YOC_EIO, s->dbpath, 0, 0, "sqlite: %s", sqlite3_errmsg(s->db));
		goto cleanup;
	}
	size_t i = 0;
	while (i < (size_t)count && sqlite3_step(st) == SQLITE_ROW) {
		struct yoc_person *p = &s->persons[i];
		if (sqlite3_column_int64(st, 0) != (int64_t)i) {
			rc = yoc_error_set(e, YOC_EDATA, s->dbpath, 0, 0, "the person table is not"
					   " numbered in pseudonym order (person_idx %lld is row %zu);"
					   " run yoc load again", (long long)sqlite3_column_int64(st, 0), i);
			goto cleanup;
		}
		cpy(p->pseudo, sizeof p->pseudo, sqlite3_column_text(st, 1));
		cpy(p->sex, sizeof p->sex, sqlite3_column_text(st, 2));
		p->birth_month = sqlite3_column_int(st, 3);
		p->birth_year = sqlite3_column_int(st, 4);
		cpy(p->practice, sizeof p->practice, sqlite3_column_text(st, 5));
		cpy(p->lsoa, sizeof p->lsoa, sqlite3_column_text(st, 6));
		p->imd_decile = sqlite3_column_int(st, 7);
		p->reg_start = date_of_text(sqlite3_column_text(st, 8));
		p->reg_end = date_of_text(sqlite3_column_text(st, 9));
		p->dod = date_of_text(sqlite3_column_text(st, 10));
		pindex_put(&s->pmap, s->persons, (uint32_t)i);
		i++;
	}
	s->npersons = i;
	*out = s->persons;
	*n = s->npersons;
	pool_cache_init(s);
cleanup:
	sqlite3_finalize(st);
	if (rc)
		yoc_store_persons_reset(s);
	return rc;
}

int32_t yoc_store_person_index(yoc_store *s, const char *pseudo, size_t n)
{
	if (!s->persons_loaded) {
		const struct yoc_person *p;
		size_t np;
		struct yoc_error e;
		if (yoc_store_persons(s, &p, &np, &e))
			return -1;
	}
	if (n >= sizeof s->persons[0].pseudo)
		return -1;
	return (int32_t)pindex_find(&s->pmap, s->persons, pseudo, n, pkey_hash(pseudo, n), NULL);
}

void yoc_store_person_indexes(yoc_store *s, const struct yoc_map_key *keys, size_t n,
			      int32_t *out)
{
	if (!s->persons_loaded) {
		const struct yoc_person *p;
		size_t np;
		struct yoc_error e;
		if (yoc_store_persons(s, &p, &np, &e)) {
			for (size_t i = 0; i < n; i++)
				out[i] = -1;
			return;
		}
	}
	/*
	 * Three steps D keys apart: hash key i and fetch its slot; fetch the
	 * person the slot of key i - D names; look up key i - 2D, whose lines
	 * are then in the cache.
	 */
	enum { D = 16, RING = 64 };
	uint64_t h[RING];
	const struct yoc__pindex *x = &s->pmap;
	for (size_t i = 0; i < n + 2 * D; i++) {
		if (i < n) {
			h[i % RING] = pkey_hash(keys[i].p, keys[i].n);
			__builtin_prefetch(&x->slot[h[i % RING] & x->mask]);
		}
		if (i >= D && i - D < n) {
			uint64_t v = x->slot[h[(i - D) % RING] & x->mask];
			if (v && (v >> 32) == (h[(i - D) % RING] >> 32))
				__builtin_prefetch(s->persons[(uint32_t)v - 1].pseudo);
		}
		if (i >= 2 * D) {
			size_t j = i - 2 * D;
			out[j] = keys[j].n < sizeof s->persons[0].pseudo ?
				(int32_t)pindex_find(x, s->persons, keys[j].p, keys[j].n,
						     h[j % RING], NULL) : -1;
		}
	}
}

/* ---- rebuild ---- */

struct pbuild {
	struct yoc_person *a;
	size_t n, cap;
	struct yoc__pindex map;
};

static struct yoc_person *pb_get(struct pbuild *b, struct yoc_cell key, uint64_t h, int create,
			       int *rc)
{
	size_t at;
	int64_t v = pindex_find(&b->map, b->a, key.p, key.n, h, &at);
	if (v >= 0)
		return &b->a[v];
	if (!create)
		return NULL;
	if (b->n >= UINT32_MAX - 1) {
		*rc = YOC_ENOMEM;
		return NULL;
	}
	if (2 * (b->n + 1) > b->map.mask + 1) {
		if ((*rc = pindex_grow(&b->map, b->a, b->n)))
			return NULL;
		pindex_find(&b->map, b->a, key.p, key.n, h, &at);
	}
	if (b->n == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 1024;
		struct yoc_person *na = yoc_realloc(b->a, nc * sizeof *na);
		if (!na) {
			*rc = YOC_ENOMEM;
			return NULL;
		}
		b->a = na;
		b->cap = nc;
	}
	struct yoc_person *p = &b->a[b->n];
	memset(p, 0, sizeof *p);
	memcpy(p->pseudo, key.p, key.n);
	b->map.slot[at] = (h >> 32 << 32) | ((uint64_t)b->n + 1);
	b->n++;
	p->reg_start = p->reg_end = p->dod = YOC_DATE_NONE;
	return p;
}

static int usable_key(const yoc_seg *g, int c_person, int c_status, size_t r, struct yoc_cell *key)
{
	*key = yoc_seg_text(g, c_person, r);
	if (key->n == 0 || key->n >= 72)
		return 0;
	if (c_status >= 0) {
		struct yoc_cell st = yoc_seg_text(g, c_status, r);
		if (!(st.n == 5 && memcmp(st.p, "valid", 5) == 0))
			return 0;
	}
	return 1;
}

/* The cell into dst as a string, cut to cap - 1 bytes (and at a NUL). */
static void cellcpy(char *dst, size_t cap, struct yoc_cell c)
{
	if (c.n == 0)
		return;
	size_t n = c.n < cap - 1 ? c.n : cap - 1;
	const char *z = memchr(c.p, 0, n);
	if (z)
		n = (size_t)(z - c.p);
	memcpy(dst, c.p, n);
	dst[n] = 0;
}

/*
** A person to sort: the first 8 bytes of its pseudo as a big-endian number
** (zeros after the NUL), so that comparing two of them orders as strcmp on
** those bytes, and the person's index; only equal prefixes (8 equal bytes
** before any NUL) need the persons themselves.
*/
struct psort {
	uint64_t k;
	uint32_t i;
};

static uint64_t prefix_key(const char *z)
{
	uint64_t k = 0;
	int end = 0;
	for (int i = 0; i < 8; i++) {
		unsigned char c = end ? 0 : (unsigned char)z[i]; /* nothing read past the NUL */
		end |= c == 0;
		k = k << 8 | c;
	}
	return k;
}

/* Two persons (ctx) by pseudo: by prefix, then by strcmp. */
static int cmp_person(const void *a, const void *b, void *ctx)
{
	const struct psort *x = a, *y = b;
	if (x->k != y->k)
		return x->k < y->k ? -1 : 1;
	const struct yoc_person *v = ctx;
	return strcmp(v[x->i].pseudo, v[y->i].pseudo);
}

static void bind_date(sqlite3_stmt *st, int i, int32_t d)
{
	if (d == YOC_DATE_NONE || d == YOC_DATE_HES_NULL || d == YOC_DATE_HES_INVALID) {
		sqlite3_bind_null(st, i);
		return;
	}
	char buf[16];
	yoc_date_format(d, buf);
	sqlite3_bind_text(st, i, buf, -1, SQLITE_TRANSIENT);
}

/*
** One part of the person build: the persons whose pseudo hashes to part
** (of nparts), from every current gp_register file, then every deaths
** file, each in file and row order, so that a person's fields come out as
** one pass over all the rows would leave them. The parts are disjoint, so
** they are built on threads side by side and only joined at the end.
*/
struct pscan {
	yoc_store *s;
	const struct yoc_file_info *fi[2]; /* gp_register, deaths */
	size_t nf[2];
	int part, nparts;
	struct pbuild b;
	struct psort *ps; /* b's persons in pseudo order (psort.i into b.a) */
	int rc;
	struct yoc_error e;
};

static int scan_files(struct pscan *P, int kind, const struct yoc_file_info *fi, size_t nf)
{
	struct pbuild *b = &P->b;
	int rc = YOC_OK;
	for (size_t i = 0; i < nf && !rc; i++) {
		yoc_seg *g = NULL;
		if ((rc = yoc__seg_open_named(P->s, fi[i].segment, &g, &P->e)))
			break;
		int cp = yoc_seg_col(g, "PSEUDO_ID"), cs = yoc_seg_col(g, "NHSNO_STATUS");
		int csex = yoc_seg_col(g, "SEX"), cdob = yoc_seg_col(g, "MYDOB");
		int cprac = yoc_seg_col(g, "GPPRAC"), clsoa = yoc_seg_col(g, "LSOA11");
		int cimd = yoc_seg_col(g, "IMD_DECILE"), crs = yoc_seg_col(g, "REG_START");
		int cre = yoc_seg_col(g, "REG_END"), cdod = yoc_seg_col(g, "DOD");
		for (size_t r = 0; r < yoc_seg_nrows(g); r++) {
			struct yoc_cell key;
			if (!usable_key(g, cp, cs, r, &key))
				continue;
			uint64_t h = pkey_hash(key.p, key.n);
			if (P->nparts > 1 && (int)((h >> 32) % (uint64_t)P->nparts) != P->part)
				continue;
			struct yoc_person *p = pb_get(b, key, h, kind == YOC_KIND_GP_REGISTER, &rc);
			if (rc)
				break;
			if (!p)
				continue;
			if (kind == YOC_KIND_DEATHS) {
				int32_t d = yoc_seg_date(g, cdod, r);
				if (d > YOC_DATE_HES_INVALID && (p->dod == YOC_DATE_NONE || d < p->dod))
					p->dod = d;
				continue;
			}
			cellcpy(p->sex, sizeof p->sex, yoc_seg_text(g, csex, r));
			struct yoc_cell dob = yoc_seg_text(g, cdob, r);
			if (dob.n == 6) {
				p->birth_month = (dob.p[0] - '0') * 10 + (dob.p[1] - '0');
				p->birth_year = (dob.p[2] - '0') * 1000 + (dob.p[3] - '0') * 100 +
					(dob.p[4] - '0') * 10 + (dob.p[5] - '0');
			}
			cellcpy(p->practice, sizeof p->practice, yoc_seg_text(g, cprac, r));
			cellcpy(p->lsoa, sizeof p->lsoa, yoc_seg_text(g, clsoa, r));
			int64_t imd = yoc_seg_int(g, cimd, r);
			if (imd >= 1 && imd <= 10)
				p->imd_decile = (int)imd;
			int32_t rs = yoc_seg_date(g, crs, r);
			if (rs > YOC_DATE_HES_INVALID && (p->reg_start == YOC_DATE_NONE || rs < p->reg_start))
				p->reg_start = rs;
			int32_t re = yoc_seg_date(g, cre, r);
			p->reg_end = re > YOC_DATE_HES_INVALID ? re : YOC_DATE_NONE;
		}
		yoc_seg_close(g);
	}
	if (rc == YOC_ENOMEM)
		yoc_error_set(&P->e, rc, P->s->dbpath, 0, 0, "out of memory");
	return rc;
}

static void *pscan_run(void *arg)
{
	struct pscan *P = arg;
	struct pbuild *b = &P->b;
	yoc_error_clear(&P->e);
	if (pindex_init(&b->map, 1024)) {
		P->rc = yoc_error_set(&P->e, YOC_ENOMEM, P->s->dbpath, 0, 0, "out of memory");
		return NULL;
	}
	if ((P->rc = scan_files(P, YOC_KIND_GP_REGISTER, P->fi[0], P->nf[0])) ||
	    (P->rc = scan_files(P, YOC_KIND_DEATHS, P->fi[1], P->nf[1])))
		return NULL;
	pindex_free(&b->map);
	if (!(P->ps = yoc_malloc((b->n ? b->n : 1) * sizeof *P->ps))) {
		P->rc = yoc_error_set(&P->e, YOC_ENOMEM, P->s->dbpath, 0, 0, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < b->n; i++) {
		P->ps[i].k = prefix_key(b->a[i].pseudo);
		P->ps[i].i = (uint32_t)i;
	}
	qsort_r(P->ps, b->n, sizeof *P->ps, cmp_person, b->a);
	return NULL;
}

/*
** The person table from the current gp_register and deaths segments, in
** pseudo_id order, into *out (n persons; the caller frees it). Built in
** s->jobs parts on as many threads (the same table whatever their number),
** the parts joined into one array and their sorted orders merged. Nothing
** is written.
*/
static int persons_build(yoc_store *s, struct yoc_person **out, size_t *out_n,
			 struct yoc_error *e)
{
	enum { MAXP = 16 };
	struct yoc_file_info *fi[2] = {NULL, NULL};
	size_t nf[2] = {0, 0};
	struct pscan part[MAXP];
	pthread_t th[MAXP];
	int started[MAXP] = {0};
	uint32_t *order = NULL;
	struct yoc_person *all = NULL;
	int np = s->jobs < 1 ? 1 : s->jobs > MAXP ? MAXP : s->jobs, rc;
	*out = NULL;
	*out_n = 0;
	memset(part, 0, sizeof part);
	if ((rc = yoc_store_files(s, YOC_KIND_GP_REGISTER, 0, &fi[0], &nf[0], e)) ||
	    (rc = yoc_store_files(s, YOC_KIND_DEATHS, 0, &fi[1], &nf[1], e)))
		goto cleanup;
	for (int t = 0; t < np; t++) {
		struct pscan *P = &part[t];
		P->s = s;
		P->fi[0] = fi[0];
		P->fi[1] = fi[1];
		P->nf[0] = nf[0];
		P->nf[1] = nf[1];
		P->part = t;
		P->nparts = np;
		if (t > 0 && pthread_create(&th[t], NULL, pscan_run, P) == 0)
			started[t] = 1;
	}
	pscan_run(&part[0]);
	for (int t = 1; t < np; t++) {
		if (started[t])
			pthread_join(th[t], NULL);
		else
			pscan_run(&part[t]); /* no thread: built here */
	}
	size_t n = 0, base[MAXP];
	for (int t = 0; t < np && !rc; t++) {
		if (part[t].rc) {
			*e = part[t].e;
			rc = part[t].rc;
		}
		base[t] = n;
		n += part[t].b.n;
	}
	if (rc)
		goto cleanup;
	/* the parts in one array: the first part's grown, the others copied after it */
	all = part[0].b.a;
	part[0].b.a = NULL;
	if (np > 1 && n > base[1]) {
		struct yoc_person *na = yoc_realloc(all, n * sizeof *na);
		if (!na) {
			rc = yoc_error_set(e, YOC_ENOMEM, s->dbpath, 0, 0, "out of memory");
			goto cleanup;
		}
		all = na;
		for (int t = 1; t < np; t++)
			if (part[t].b.n)
				memcpy(all + base[t], part[t].b.a, part[t].b.n * sizeof *all);
	}
	if (!all && !(all = yoc_calloc(1, sizeof *all))) {
		rc = yoc_error_set(e, YOC_ENOMEM, s->dbpath, 0, 0, "out of memory");
		goto cleanup;
	}
	/* the parts' orders merged: order[j] is the person that goes to j */
	if (!(order = yoc_malloc((n ? n : 1) * sizeof *order))) {
		rc = yoc_error_set(e, YOC_ENOMEM, s->dbpath, 0, 0, "out of memory");
		goto cleanup;
	}
	size_t at[MAXP] = {0};
	for (size_t j = 0; j < n; j++) {
		int best = -1;
		struct psort bk = {0, 0};
		for (int t = 0; t < np; t++) {
			if (at[t] == part[t].b.n)
				continue;
			struct psort c = part[t].ps[at[t]];
			c.i += (uint32_t)base[t];
			if (best < 0 || cmp_person(&c, &bk, all) < 0) {
				best = t;
				bk = c;
			}
		}
		order[j] = bk.i;
		at[best]++;
	}
	/* each person moved once, in place, along the cycles of the permutation
	 * (a sort of the records themselves moves them many times) */
	for (size_t i = 0; i < n; i++) {
		if (order[i] == i)
			continue;
		struct yoc_person tmp = all[i];
		size_t j = i;
		for (;;) { /* all[j] takes the person at order[j] */
			size_t k = order[j];
			order[j] = (uint32_t)j;
			if (k == i) {
				all[j] = tmp;
				break;
			}
			all[j] = all[k];
			j = k;
		}
	}
	if (n) {
		struct yoc_person *fit = yoc_realloc(all, n * sizeof *all);
		if (fit)
			all = fit;
	}
	for (size_t i = 0; i < n; i++)
		if (!all[i].birth_month)
			all[i].birth_year = 0; /* as the table gives it back: both NULL */
	*out = all;
	*out_n = n;
	all = NULL;
cleanup:
	for (int t = 0; t < np; t++) {
		yoc_free(part[t].b.a);
		yoc_free(part[t].ps);
		pindex_free(&part[t].b.map);
	}
	yoc_free(all);
	yoc_free(order);
	yoc_store_files_free(fi[0]);
	yoc_store_files_free(fi[1]);
	return rc;
}

/* The person table's rows: persons a[0..n), person index i for a[i]. */
static int persons_write(yoc_store *s, const struct yoc_person *a, size_t n, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc;
	if ((rc = yoc__store_exec(s, "DELETE FROM person", e)))
		return rc;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO person VALUES(?,?,?,?,?,?,?,?,?,?,?)", -1, &st, NULL))
		return yoc_error_set(e, YOC_EIO, s->dbpath, 0, 0, "sqlite: %s", sqlite3_errmsg(s->db));
	for (size_t i = 0; i < n && !rc; i++) {
		const struct yoc_person *p = &a[i];
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, (int64_t)i);
		sqlite3_bind_text(st, 2, p->pseudo, -1, SQLITE_STATIC);
		if (p->sex[0])
			sqlite3_bind_text(st, 3, p->sex, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 3);
		if (p->birth_month) {
			sqlite3_bind_int(st, 4, p->birth_month);
			sqlite3_bind_int(st, 5, p->birth_year);
		} else {
			sqlite3_bind_null(st, 4);
			sqlite3_bind_null(st, 5);
		}
		sqlite3_bind_text(st, 6, p->practice, -1, SQLITE_STATIC);
		if (p->lsoa[0])
			sqlite3_bind_text(st, 7, p->lsoa, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 7);
		if (p->imd_decile)
			sqlite3_bind_int(st, 8, p->imd_decile);
		else
			sqlite3_bind_null(st, 8);
		bind_date(st, 9, p->reg_start);
		bind_date(st, 10, p->reg_end);
		bind_date(st, 11, p->dod);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = yoc_error_set(e, YOC_EIO, s->dbpath, 0, 0, "sqlite: %s", sqlite3_errmsg(s->db));
	}
	sqlite3_finalize(st);
	return rc;
}

/*
** The persons just built become the person cache: what yoc_store_persons
** would read back from the table (every value goes in and comes out the
** same), so the linkage rebuild need not read a million rows back. Takes
** a (freed on failure).
*/
static int persons_cache(yoc_store *s, struct yoc_person *a, size_t n, struct yoc_error *e)
{
	yoc_store_persons_reset(s);
	if (pindex_init(&s->pmap, n + 1)) {
		yoc_free(a);
		return yoc_error_set(e, YOC_ENOMEM, s->dbpath, 0, 0, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		pindex_put(&s->pmap, a, (uint32_t)i);
	s->persons = a;
	s->npersons = n;
	s->persons_loaded = 1;
	pool_cache_init(s);
	return YOC_OK;
}

int yoc_store_rebuild_persons(yoc_store *s, struct yoc_error *e)
{
	struct yoc_person *a = NULL;
	size_t n = 0;
	int rc;
	yoc_store_persons_reset(s);
	if ((rc = persons_build(s, &a, &n, e)) || (rc = persons_write(s, a, n, e))) {
		yoc_free(a);
		return rc;
	}
	return persons_cache(s, a, n, e);
}

/* One file's linkage counts per month, counted on any thread. */
#define LINK_MAXM 512
struct link_file {
	int64_t file_id;
	const char *segment;
	size_t nm;
	int32_t months[LINK_MAXM];  /* yyyy*12+m, -1 for no date */
	int64_t cnt[LINK_MAXM][4];  /* rows, linked, no_pseudonym, not_registered */
	int rc;
	struct yoc_error e;
};

static void link_count(yoc_store *s, struct link_file *lf)
{
	yoc_seg *g = NULL;
	yoc_error_clear(&lf->e);
	if ((lf->rc = yoc__seg_open_named(s, lf->segment, &g, &lf->e)))
		return;
	size_t nr = yoc_seg_nrows(g);
	unsigned char *why = yoc_malloc(nr ? nr : 1);
	if (!why || yoc_seg_link_reasons(g, why)) {
		lf->rc = yoc_error_set(&lf->e, YOC_ENOMEM, lf->segment, 0, 0, "out of memory");
		yoc_free(why);
		yoc_seg_close(g);
		return;
	}
	/* small files, so a linear table of distinct months is fine */
	size_t nm = 0;
	/* rows of a file share few dates: their months, memoised */
	int32_t mdate[64], mmon[64];
	for (int i = 0; i < 64; i++)
		mdate[i] = YOC_DATE_NONE;
	for (size_t r = 0; r < nr; r++) {
		int32_t d = yoc_seg_activity_date(g, r);
		int32_t m = -1;
		if (d > YOC_DATE_HES_INVALID && mdate[d & 63] == d) {
			m = mmon[d & 63];
		} else if (d > YOC_DATE_HES_INVALID) {
			int y, mo, dd;
			yoc_date_to_ymd(d, &y, &mo, &dd);
			m = y * 12 + (mo - 1);
			mdate[d & 63] = d;
			mmon[d & 63] = m;
		}
		size_t k = 0;
		while (k < nm && lf->months[k] != m)
			k++;
		if (k == nm) {
			if (nm == LINK_MAXM)
				k = 0; /* pathological spread of months: fold into the first */
			else {
				lf->months[nm] = m;
				memset(lf->cnt[nm], 0, sizeof lf->cnt[nm]);
				nm++;
			}
		}
		lf->cnt[k][0]++;
		lf->cnt[k][1 + why[r]]++; /* linked, no_pseudonym, not_registered */
	}
	yoc_free(why);
	if (nm == 0) {
		lf->months[0] = -1;
		memset(lf->cnt[0], 0, sizeof lf->cnt[0]);
		nm = 1;
	}
	lf->nm = nm;
	yoc_seg_close(g);
}

/* A file's linkage rows: nm months (yyyy*12+m, -1 for none) and their counts. */
static int link_insert(yoc_store *s, sqlite3_stmt *st, int64_t file_id, size_t nm,
		       const int32_t *months, const int64_t (*cnt)[4], struct yoc_error *e)
{
	for (size_t k = 0; k < nm; k++) {
		char mon[16] = "";
		if (months[k] >= 0)
			snprintf(mon, sizeof mon, "%04d-%02d", months[k] / 12, months[k] % 12 + 1);
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, file_id);
		sqlite3_bind_text(st, 2, mon, -1, SQLITE_TRANSIENT);
		for (int j = 0; j < 4; j++)
			sqlite3_bind_int64(st, 3 + j, cnt[k][j]);
		if (sqlite3_step(st) != SQLITE_DONE)
			return yoc_error_set(e, YOC_EIO, s->dbpath, 0, 0, "sqlite: %s",
					     sqlite3_errmsg(s->db));
	}
	return YOC_OK;
}

struct link_pool {
	yoc_store *s;
	struct link_file *v;
	size_t n, next;
};

static void *link_worker(void *arg)
{
	struct link_pool *P = arg;
	size_t i;
	while ((i = __atomic_fetch_add(&P->next, 1, __ATOMIC_RELAXED)) < P->n)
		link_count(P->s, &P->v[i]);
	return NULL;
}

/*
** Linkage counts per file and month for current files that have none yet.
** Files are counted in batches on s->jobs threads (segments are read-only
** and the person table is loaded first) and their rows inserted in file
** order, so the table is the same whatever the number of threads.
*/
int yoc_store_rebuild_linkage(yoc_store *s, struct yoc_error *e)
{
	enum { BATCH = 64, MAXT = 64 };
	struct yoc_file_info *fi = NULL;
	struct link_file *v = NULL;
	size_t nf = 0;
	sqlite3_stmt *st = NULL, *q = NULL;
	const struct yoc_person *pp;
	size_t np;
	int rc = yoc_store_files(s, -1, 0, &fi, &nf, e);
	if (rc)
		return rc;
	if ((rc = yoc_store_persons(s, &pp, &np, e)))
		goto cleanup;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO linkage VALUES(?,?,?,?,?,?)", -1, &st, NULL) ||
	    sqlite3_prepare_v2(s->db, "SELECT 1 FROM linkage WHERE file_id = ?", -1, &q, NULL)) {
		rc = yoc_error_set(e, YOC_EIO, s->dbpath, 0, 0, "sqlite: %s", sqlite3_errmsg(s->db));
		goto cleanup;
	}
	if (!(v = yoc_calloc(BATCH, sizeof *v))) {
		rc = yoc_error_set(e, YOC_ENOMEM, s->dbpath, 0, 0, "out of memory");
		goto cleanup;
	}
	int nthreads = s->jobs < 1 ? 1 : s->jobs > MAXT ? MAXT : s->jobs;
	for (size_t i = 0; i < nf && !rc;) {
		struct link_pool P = {s, v, 0, 0};
		for (; i < nf && P.n < BATCH; i++) {
			sqlite3_reset(q);
			sqlite3_bind_int64(q, 1, fi[i].file_id);
			if (sqlite3_step(q) == SQLITE_ROW)
				continue;
			v[P.n].file_id = fi[i].file_id;
			v[P.n].segment = fi[i].segment;
			P.n++;
		}
		pthread_t th[MAXT];
		int nt = 0;
		for (; nthreads > 1 && nt < nthreads && (size_t)nt < P.n; nt++)
			if (pthread_create(&th[nt], NULL, link_worker, &P) != 0)
				break;
		link_worker(&P); /* this thread counts too (all of them with one thread) */
		for (int t = 0; t < nt; t++)
			pthread_join(th[t], NULL);
		for (size_t b = 0; b < P.n && !rc; b++) {
			struct link_file *lf = &v[b];
			if (lf->rc) {
				*e = lf->e;
				rc = lf->rc;
				break;
			}
			rc = link_insert(s, st, lf->file_id, lf->nm, lf->months, lf->cnt, e);
		}
	}
cleanup:
	yoc_free(v);
	sqlite3_finalize(st);
	sqlite3_finalize(q);
	yoc_store_files_free(fi);
	return rc;
}

/*
** Both tables after a load that changed the registered population: the
** persons are built and become the cache, then every current file's
** linkage is counted on s->jobs threads while this thread writes the
** person rows; each file's linkage rows follow in file order as its
** counts arrive. The tables are those of yoc_store_rebuild_persons
** followed by yoc_store_rebuild_linkage on an empty linkage table.
*/
struct link_done { /* one file's counts, as link_insert takes them */
	int rc;
	struct yoc_error e;
	size_t nm;
	int32_t *months;
	int64_t (*cnt)[4];
};

static struct link_done link_oom; /* a file a thread had no memory to count */

struct link_run {
	yoc_store *s;
	const struct yoc_file_info *fi;
	size_t n, next;           /* files; the next to count (claimed atomically) */
	struct link_done **done;  /* per file, once counted (guarded by mu) */
	int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

/* File i counted into a link_done of its own size (NULL: out of memory). */
static struct link_done *link_one(yoc_store *s, const struct yoc_file_info *f,
				  struct link_file *lf)
{
	lf->file_id = f->file_id;
	lf->segment = f->segment;
	link_count(s, lf);
	size_t nm = lf->rc ? 0 : lf->nm;
	struct link_done *d = yoc_malloc(sizeof *d + nm * (sizeof(int64_t[4]) + sizeof(int32_t)));
	if (!d)
		return NULL;
	d->rc = lf->rc;
	d->e = lf->e;
	d->nm = nm;
	d->cnt = (int64_t(*)[4])(d + 1);
	d->months = (int32_t *)(d->cnt + nm);
	memcpy(d->cnt, lf->cnt, nm * sizeof *d->cnt);
	memcpy(d->months, lf->months, nm * sizeof *d->months);
	return d;
}

static void *link_run_worker(void *arg)
{
	struct link_run *R = arg;
	struct link_file *lf = yoc_malloc(sizeof *lf);
	size_t i;
	while (!__atomic_load_n(&R->stop, __ATOMIC_RELAXED) &&
	       (i = __atomic_fetch_add(&R->next, 1, __ATOMIC_RELAXED)) < R->n) {
		struct link_done *d = lf ? link_one(R->s, &R->fi[i], lf) : NULL;
		pthread_mutex_lock(&R->mu);
		R->done[i] = d ? d : &link_oom;
		pthread_cond_broadcast(&R->cv);
		pthread_mutex_unlock(&R->mu);
	}
	yoc_free(lf);
	return NULL;
}

int yoc_store_rebuild_all(yoc_store *s, struct yoc_error *e)
{
	enum { MAXT = 64 };
	struct yoc_person *a = NULL;
	size_t np = 0, nf = 0;
	struct yoc_file_info *fi = NULL;
	struct link_file *lf = NULL;
	sqlite3_stmt *st = NULL;
	pthread_t th[MAXT];
	int nt = 0, rc;
	struct link_run R;
	memset(&R, 0, sizeof R);
	pthread_mutex_init(&R.mu, NULL);
	pthread_cond_init(&R.cv, NULL);
	yoc_store_persons_reset(s);
	if ((rc = persons_build(s, &a, &np, e)))
		goto cleanup;
	rc = persons_cache(s, a, np, e); /* a is the cache's now */
	a = NULL;
	if (rc || (rc = yoc__store_exec(s, "DELETE FROM linkage", e)) ||
	    (rc = yoc_store_files(s, -1, 0, &fi, &nf, e)))
		goto cleanup;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO linkage VALUES(?,?,?,?,?,?)", -1, &st, NULL)) {
		rc = yoc_error_set(e, YOC_EIO, s->dbpath, 0, 0, "sqlite: %s", sqlite3_errmsg(s->db));
		goto cleanup;
	}
	R.s = s;
	R.fi = fi;
	R.n = nf;
	R.done = yoc_calloc(nf ? nf : 1, sizeof *R.done);
	lf = yoc_malloc(sizeof *lf);
	if (!R.done || !lf) {
		rc = yoc_error_set(e, YOC_ENOMEM, s->dbpath, 0, 0, "out of memory");
		goto cleanup;
	}
	int want = s->jobs < 1 ? 1 : s->jobs > MAXT ? MAXT : s->jobs;
	for (; want > 1 && nt < want && (size_t)nt < nf; nt++)
		if (pthread_create(&th[nt], NULL, link_run_worker, &R) != 0)
			break;
	if ((rc = persons_write(s, s->persons, s->npersons, e)))
		goto cleanup;
	for (size_t i = 0; i < nf && !rc; i++) {
		struct link_done *d;
		if (!nt) { /* no threads: counted here, in order */
			d = link_one(s, &fi[i], lf);
		} else {
			pthread_mutex_lock(&R.mu);
			while (!R.done[i])
				pthread_cond_wait(&R.cv, &R.mu);
			d = R.done[i];
			R.done[i] = NULL;
			pthread_mutex_unlock(&R.mu);
		}
		if (!d || d == &link_oom) {
			rc = yoc_error_set(e, YOC_ENOMEM, s->dbpath, 0, 0, "out of memory");
		} else if (d->rc) {
			*e = d->e;
			rc = d->rc;
		} else {
			rc = link_insert(s, st, fi[i].file_id, d->nm, d->months,
					 (const int64_t(*)[4])d->cnt, e);
		}
		if (d != &link_oom)
			yoc_free(d);
	}
cleanup:
	__atomic_store_n(&R.stop, 1, __ATOMIC_RELAXED);
	for (int t = 0; t < nt; t++)
		pthread_join(th[t], NULL);
	for (size_t i = 0; R.done && i < nf; i++)
		if (R.done[i] != &link_oom)
			yoc_free(R.done[i]);
	yoc_free(R.done);
	yoc_free(lf);
	yoc_free(a);
	sqlite3_finalize(st);
	yoc_store_files_free(fi);
	pthread_mutex_destroy(&R.mu);
	pthread_cond_destroy(&R.cv);
	return rc;
}

void yoc_store_jobs(yoc_store *s, int n)
{
	s->jobs = n;
}

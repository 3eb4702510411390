/*
** Gaps in the register (docs/analysis.md, "Population"): the symmetric
** rule that keeps a person in a year for which their register row is
** missing or defective.
**
** A register row reaches back: a registration that started years ago
** counts in every analysed year since it started, so a person whose row is
** lost from an early snapshot is still in that year through the next
** snapshot's row. Nothing reached forward, so a bad row in the latest
** snapshot dropped the person from the year the report publishes. Forward,
** a registration still open at the end of a year (its snapshot gives no
** REG_END and the person did not die) carries into the next year when
** there is evidence the person was still registered:
**
**   seen_after  the person is registered in a later year, or
**   activity    an activity row dated in the year names the practice
**               (GPPRAC) of the open registration, or the practice whose
**               register snapshot held it (the file's provider: a row whose
**               own GPPRAC is defective is still that practice's).
**
** The practice of the carried year is that registration's. A carried year
** is itself open at its end unless the person died in it, so the rule
** chains. A person is counted as lost in a year when the snapshot of the
** year before shows them still registered at its end, no snapshot of the
** year or a later one has a row for them, and no activity row confirms
** them: the residual loss. (When a carried year is not confirmed the next
** year, the chain just ends: nothing said they were still registered.)
** register_gaps holds the counts by year, practice and outcome.
**
** Runs between the register pass and the activity pass (so carried years
** collect their activity and cost like any other), on one thread. The
** evidence scan reads only the pseudonym, date and GPPRAC of activity rows,
** and only when some person needs it. Per person: nothing depends on
** anyone else's records. Must not: print, or change a year some register
** row covers.
*/
#include <stdlib.h>
#include <string.h>

#include "analyse/analyse_int.h"
#include "yoc/date.h"

enum { G_SEEN_AFTER = 0, G_ACTIVITY, G_LOST, G_NOUT };
static const char *const outcome_names[G_NOUT] = {"bridged_seen_after", "bridged_activity",
						  "lost"};

/* A person some of whose years wait for evidence of activity. */
struct cand {
	int32_t p;
	uint32_t need;   /* years (bits) carried only if evidence is found, in order */
	uint32_t have;   /* years with evidence */
	uint32_t prac;   /* practice id + 1 of the open registration */
	uint32_t file;   /* its snapshot's provider (an index of files[]) + 1 */
	int32_t start;   /* its REG_START */
};

struct an_gaps {
	uint32_t *open_prac;  /* [np * ny] practice id + 1 of a registration open at the end of y */
	int32_t *open_start;  /* its REG_START */
	uint32_t *open_file;  /* its snapshot's provider + 1 */
	char **files;         /* providers of the register snapshots */
	size_t nfiles, cfiles;
	struct cand *c;
	size_t nc, cc;
	int64_t *count;       /* [ny * nprac * G_NOUT] */
};

int an_gaps_begin(struct an_run *R, struct yoc_error *e)
{
	struct an_gaps *g = yoc_calloc(1, sizeof *g);
	size_t n = R->np * (size_t)R->ny + 1;
	if (g) {
		g->open_prac = yoc_calloc(n, sizeof *g->open_prac);
		g->open_start = yoc_calloc(n, sizeof *g->open_start);
		g->open_file = yoc_calloc(n, sizeof *g->open_file);
	}
	R->gaps = g;
	if (!g || !g->open_prac || !g->open_start || !g->open_file)
		return yoc_error_set(e, YOC_ENOMEM, yoc_store_dir(R->s), 0, 0, "out of memory");
	return YOC_OK;
}

void an_gaps_free(struct an_run *R)
{
	struct an_gaps *g = R->gaps;
	if (!g)
		return;
	yoc_free(g->open_prac);
	yoc_free(g->open_start);
	yoc_free(g->open_file);
	for (size_t i = 0; i < g->nfiles; i++)
		yoc_free(g->files[i]);
	yoc_free(g->files);
	yoc_free(g->c);
	yoc_free(g->count);
	yoc_free(g);
	R->gaps = NULL;
}

int an_gaps_file(struct an_run *R, const char *provider)
{
	struct an_gaps *g = R->gaps;
	if (!g)
		return YOC_OK;
	if (g->nfiles && strcmp(g->files[g->nfiles - 1], provider) == 0)
		return YOC_OK;
	if (g->nfiles == g->cfiles) {
		size_t n = g->cfiles ? g->cfiles * 2 : 64;
		char **f = yoc_realloc(g->files, n * sizeof *f);
		if (!f)
			return YOC_ENOMEM;
		g->files = f;
		g->cfiles = n;
	}
	if (!(g->files[g->nfiles] = yoc_strdup(provider)))
		return YOC_ENOMEM;
	g->nfiles++;
	return YOC_OK;
}

void an_gaps_note(struct an_run *R, int32_t p, int fy, int32_t rs, int32_t re, int32_t p1,
		  uint32_t pid)
{
	int y = fy - R->fy0;
	/* only a snapshot that ends with a financial year says who is registered
	** on its last day: a yearly file, or March's monthly one */
	if (!R->gaps || y < 0 || y >= R->ny || p1 != R->fs[y + 1] || re < p1 || rs >= p1)
		return;
	size_t k = (size_t)p * R->ny + y;
	/* two open registrations at once: the later one is the current one */
	if (!R->gaps->open_prac[k] || rs > R->gaps->open_start[k]) {
		R->gaps->open_prac[k] = pid + 1;
		R->gaps->open_start[k] = rs;
		R->gaps->open_file[k] = (uint32_t)R->gaps->nfiles;
	}
}

static void tally(struct an_run *R, int y, uint32_t prac, int outcome)
{
	if (R->gaps->count && prac)
		R->gaps->count[((size_t)y * R->nprac + prac - 1) * G_NOUT + outcome]++;
	if (outcome == G_LOST)
		R->st->gaps_lost++;
	else
		R->st->gaps_bridged++;
}

static void carry(struct an_run *R, int32_t p, int y, uint32_t prac, int32_t start, int outcome)
{
	struct py *q = &R->py[(size_t)p * R->ny + y];
	q->prac = prac;
	q->prac_start = start;
	tally(R, y, prac, outcome);
}

static int year_of(const struct an_run *R, int32_t d)
{
	if (d < R->fs[0] || d >= R->fs[R->ny])
		return -1;
	int y = 0;
	while (d >= R->fs[y + 1])
		y++;
	return y;
}

/*
** A cheap first look at a pseudonym: bits of its first 8 bytes in a filter of
** the candidates', so that most rows are passed over without hashing it.
*/
#define FILTER_BITS 20
static inline uint32_t filter_slot(const char *p, size_t n)
{
	uint64_t w = 0;
	memcpy(&w, p, n < 8 ? n : 8);
	return (uint32_t)((w * 0x9e3779b97f4a7c15ULL) >> (64 - FILTER_BITS));
}

/*
** The candidate (its index in m, or -1) of each of the nd entries of a
** dictionary pseudonym column, into (*ent)[0 .. nd], entry nd being a
** damaged code's (""): none; and each of the nr rows' codes into *codes.
*/
static int dict_cands(const yoc_seg *s, int cp, size_t nd, size_t nr, const uint64_t *filter,
		      const struct yoc_map *m, uint32_t **codes, size_t *ccap, int64_t **ent,
		      size_t *ecap)
{
	if (nr > *ccap) {
		uint32_t *nc = yoc_realloc(*codes, nr * sizeof *nc);
		if (!nc)
			return YOC_ENOMEM;
		*codes = nc;
		*ccap = nr;
	}
	if (nd + 1 > *ecap) {
		int64_t *ne = yoc_realloc(*ent, (nd + 1) * sizeof *ne);
		if (!ne)
			return YOC_ENOMEM;
		*ent = ne;
		*ecap = nd + 1;
	}
	for (size_t k = 0; k < nd; k++) {
		struct yoc_cell c = yoc_seg_dict_entry(s, cp, (uint32_t)k);
		uint32_t b = c.n ? filter_slot(c.p, c.n) : 0;
		uint64_t *v = c.n && (filter[b >> 6] >> (b & 63) & 1) ? yoc_map_get(m, c.p, c.n) : NULL;
		(*ent)[k] = v ? (int64_t)*v : -1;
	}
	(*ent)[nd] = -1;
	yoc_seg_dict_codes(s, cp, *codes);
	return YOC_OK;
}

/* The evidence scan's shared state: files taken in turn by its threads. */
struct scan {
	struct an_run *R;
	const struct yoc_map *m;
	const uint64_t *filter;
	struct yoc_file_info *fi;
	size_t nf, next;
	pthread_mutex_t lock;
	int rc;
	struct yoc_error err;
};

/* One segment's rows of candidates: evidence bits ORed in (atomically: a
 * candidate's rows may be in files another thread reads; the bits are the
 * same in any order). */
static int scan_file(struct scan *S, size_t i, uint32_t **codes, size_t *ccap, int64_t **ent,
		     size_t *ecap, struct yoc_error *e)
{
	struct an_run *R = S->R;
	struct an_gaps *g = R->gaps;
	yoc_seg *s = NULL;
	/* the activity pass opens it again, verified, before anything is
	 * written; the store is used by one thread at a time: opened under the
	 * lock (the rows are read outside it) */
	pthread_mutex_lock(&S->lock);
	int rc = yoc_seg_open_unverified(R->s, S->fi[i].file_id, &s, e);
	pthread_mutex_unlock(&S->lock);
	if (rc)
		return rc;
	int cp = yoc_seg_col(s, "PSEUDO_ID"), cg = yoc_seg_col(s, "GPPRAC");
	size_t nr = cp >= 0 && cg >= 0 ? yoc_seg_nrows(s) : 0;
	/* a dictionary's pseudonyms are looked for once each, not once per row */
	int64_t nd = nr ? yoc_seg_dict_codes(s, cp, NULL) : -1;
	if (nd >= 0 && (rc = dict_cands(s, cp, (size_t)nd, nr, S->filter, S->m, codes, ccap, ent,
					ecap))) {
		yoc_seg_close(s);
		return yoc_error_set(e, rc, yoc_store_dir(R->s), 0, 0, "out of memory");
	}
	for (size_t r = 0; r < nr; r++) {
		int64_t ci;
		if (nd >= 0) {
			if ((ci = (*ent)[(*codes)[r]]) < 0)
				continue;
		} else {
			struct yoc_cell c = yoc_seg_text(s, cp, r);
			if (!c.n)
				continue;
			uint32_t b = filter_slot(c.p, c.n);
			if (!(S->filter[b >> 6] >> (b & 63) & 1))
				continue;
			uint64_t *v = yoc_map_get(S->m, c.p, c.n);
			if (!v)
				continue;
			ci = (int64_t)*v;
		}
		struct cand *x = &g->c[ci];
		int y = year_of(R, yoc_seg_activity_date(s, r));
		if (y < 0 || !(x->need >> y & 1) ||
		    (__atomic_load_n(&x->have, __ATOMIC_RELAXED) >> y & 1))
			continue;
		struct yoc_cell gp = yoc_seg_text(s, cg, r);
		const char *want = R->prac[x->prac - 1];
		const char *alt = x->file ? g->files[x->file - 1] : "";
		if ((gp.n == strlen(want) && memcmp(gp.p, want, gp.n) == 0) ||
		    (gp.n == strlen(alt) && memcmp(gp.p, alt, gp.n) == 0))
			__atomic_fetch_or(&x->have, (uint32_t)1 << y, __ATOMIC_RELAXED);
	}
	yoc_seg_close(s);
	return YOC_OK;
}

static void *scan_main(void *arg)
{
	struct scan *S = arg;
	uint32_t *codes = NULL;
	int64_t *ent = NULL;
	size_t ccap = 0, ecap = 0;
	struct yoc_error e;
	yoc_error_clear(&e);
	for (;;) {
		pthread_mutex_lock(&S->lock);
		size_t i = S->next;
		while (i < S->nf && !yoc_spec_kind_activity(S->fi[i].kind))
			i++;
		S->next = i < S->nf ? i + 1 : S->nf;
		int stop = S->rc || i >= S->nf;
		pthread_mutex_unlock(&S->lock);
		if (stop)
			break;
		int rc = scan_file(S, i, &codes, &ccap, &ent, &ecap, &e);
		if (rc) {
			pthread_mutex_lock(&S->lock);
			if (!S->rc) {
				S->rc = rc;
				S->err = e;
			}
			pthread_mutex_unlock(&S->lock);
			break;
		}
	}
	yoc_free(codes);
	yoc_free(ent);
	return NULL;
}

/*
** Evidence: activity rows of the candidates, dated in a year they need, at
** their practice. Files are read by as many threads as the activity pass.
*/
static int scan_activity(struct an_run *R, struct yoc_error *e)
{
	struct an_gaps *g = R->gaps;
	struct yoc_map m;
	struct scan S;
	int rc, locked = 0;
	memset(&S, 0, sizeof S);
	uint64_t *filter = yoc_calloc((size_t)1 << (FILTER_BITS - 6), sizeof *filter);
	if (!filter || yoc_map_init(&m, g->nc * 2 + 16)) {
		yoc_free(filter);
		return yoc_error_set(e, YOC_ENOMEM, yoc_store_dir(R->s), 0, 0, "out of memory");
	}
	for (size_t i = 0; i < g->nc; i++) {
		const char *z = R->persons[g->c[i].p].pseudo;
		uint32_t b = filter_slot(z, strlen(z));
		filter[b >> 6] |= (uint64_t)1 << (b & 63);
		if (yoc_map_put(&m, z, strlen(z), i, NULL)) {
			rc = yoc_error_set(e, YOC_ENOMEM, yoc_store_dir(R->s), 0, 0, "out of memory");
			goto cleanup;
		}
	}
	S.R = R;
	S.m = &m;
	S.filter = filter;
	if ((rc = yoc_store_files(R->s, -1, 0, &S.fi, &S.nf, e)))
		goto cleanup;
	if (pthread_mutex_init(&S.lock, NULL) != 0) {
		rc = yoc_error_set(e, YOC_EINTERNAL, yoc_store_dir(R->s), 0, 0, "mutex");
		goto cleanup;
	}
	locked = 1;
	int nt = an_threads(R, S.nf);
	pthread_t tid[64];
	int started = 0;
	for (int i = 1; i < nt && i < 64; i++) {
		if (pthread_create(&tid[started], NULL, scan_main, &S) != 0)
			break;
		started++;
	}
	scan_main(&S);
	for (int i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	if ((rc = S.rc))
		*e = S.err;
cleanup:
	if (locked)
		pthread_mutex_destroy(&S.lock);
	yoc_store_files_free(S.fi);
	yoc_map_free(&m);
	yoc_free(filter);
	return rc;
}

int an_gaps_fill(struct an_run *R, struct yoc_error *e)
{
	struct an_gaps *g = R->gaps;
	const int ny = R->ny;
	if (!g || ny < 2)
		return YOC_OK;
	if (R->nprac && !(g->count = yoc_calloc((size_t)ny * R->nprac * G_NOUT, sizeof *g->count)))
		return yoc_error_set(e, YOC_ENOMEM, yoc_store_dir(R->s), 0, 0, "out of memory");
	for (size_t pi = 0; pi < R->np; pi++) {
		int32_t p = (int32_t)pi;
		const struct py *row = &R->py[pi * ny];
		uint32_t covered = 0;
		for (int y = 0; y < ny; y++)
			covered |= (uint32_t)(row[y].prac != 0) << y;
		if (covered == ((uint32_t)1 << ny) - 1 || !covered)
			continue;
		int32_t dod = R->persons[pi].dod;
		int has_dod = dod > YOC_DATE_HES_INVALID;
		uint32_t prac = 0, file = 0; /* the registration open at the end of the year before */
		int32_t start = 0;
		struct cand x = {p, 0, 0, 0, 0, 0};
		for (int y = 0; y < ny; y++) {
			if (covered >> y & 1) {
				prac = g->open_prac[pi * ny + y];
				start = g->open_start[pi * ny + y];
				file = g->open_file[pi * ny + y];
				continue;
			}
			if (!prac)
				continue;
			if (has_dod && dod < R->fs[y])
				break; /* died before the year: nothing to carry */
			if (covered >> y) { /* registered in a later year */
				carry(R, p, y, prac, start, G_SEEN_AFTER);
			} else {
				/* the rest of the years wait for evidence, in order */
				x.need |= (uint32_t)1 << y;
				x.prac = prac;
				x.start = start;
				x.file = file;
			}
			if (has_dod && dod < R->fs[y + 1])
				prac = 0; /* died in the year: not open at its end */
		}
		if (!x.need)
			continue;
		if (g->nc == g->cc) {
			size_t n = g->cc ? g->cc * 2 : 256;
			struct cand *c = yoc_realloc(g->c, n * sizeof *c);
			if (!c)
				return yoc_error_set(e, YOC_ENOMEM, yoc_store_dir(R->s), 0, 0,
						     "out of memory");
			g->c = c;
			g->cc = n;
		}
		g->c[g->nc++] = x;
	}
	int rc;
	if (g->nc && (rc = scan_activity(R, e)))
		return rc;
	for (size_t i = 0; i < g->nc; i++) {
		const struct cand *x = &g->c[i];
		int first = 1;
		for (int y = 0; y < ny; y++) {
			if (!(x->need >> y & 1))
				continue;
			if (!(x->have >> y & 1)) {
				/* the chain stops here; lost only if a snapshot said the person
				** was still registered at the end of the year before (after a
				** carried year, nothing said so: they may have left in it) */
				if (first)
					tally(R, y, x->prac, G_LOST);
				break;
			}
			carry(R, x->p, y, x->prac, x->start, G_ACTIVITY);
			first = 0;
		}
	}
	return YOC_OK;
}

static int by_code(const void *a, const void *b, void *names)
{
	char **n = names;
	return strcmp(n[*(const size_t *)a], n[*(const size_t *)b]);
}

int an_gaps_write(struct an_run *R, sqlite3 *db, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc = YOC_OK;
	if (sqlite3_exec(db, "DROP TABLE IF EXISTS register_gaps; CREATE TABLE register_gaps("
			 "fyear TEXT, practice TEXT, outcome TEXT, persons INTEGER)", NULL, NULL, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO register_gaps VALUES(?,?,?,?)", -1, &st, NULL))
		return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "sqlite: %s", sqlite3_errmsg(db));
	const struct an_gaps *g = R->gaps;
	/* in key order: year, practice code, outcome */
	size_t *order = R->nprac ? yoc_malloc(R->nprac * sizeof *order) : NULL;
	if (R->nprac && !order) {
		sqlite3_finalize(st);
		return yoc_error_set(e, YOC_ENOMEM, yoc_store_dir(R->s), 0, 0, "out of memory");
	}
	for (size_t i = 0; i < R->nprac; i++)
		order[i] = i;
	if (R->nprac)
		qsort_r(order, R->nprac, sizeof *order, by_code, R->prac);
	for (int y = 0; g && g->count && y < R->ny && !rc; y++) {
		char fy[16];
		yoc_fyear_format(R->fy0 + y, fy);
		for (size_t k = 0; k < R->nprac && !rc; k++)
			for (int o = 0; o < G_NOUT; o++) {
				int64_t n = g->count[((size_t)y * R->nprac + order[k]) * G_NOUT + o];
				if (!n)
					continue;
				sqlite3_bind_text(st, 1, fy, -1, SQLITE_TRANSIENT);
				sqlite3_bind_text(st, 2, R->prac[order[k]], -1, SQLITE_STATIC);
				sqlite3_bind_text(st, 3, outcome_names[o], -1, SQLITE_STATIC);
				sqlite3_bind_int64(st, 4, n);
				if (sqlite3_step(st) != SQLITE_DONE) {
					rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "sqlite: %s",
							   sqlite3_errmsg(db));
					break;
				}
				sqlite3_reset(st);
			}
	}
	yoc_free(order);
	sqlite3_finalize(st);
	return rc;
}

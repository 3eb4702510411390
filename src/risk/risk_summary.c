/*
** Summary tables of the risk scores for the report's Risk page and the
** practice packs, all by financial year: the risk pyramid by tier, the
** crisis curve of the top-cost and top-risk cohorts, rising risk, tier
** turnover and cohort retention year on year, the overlap of risk and
** multimorbidity cohorts, tiers by practice. docs/risk.md gives every column.
**
** Computed in memory: person_year and risk_score are each read once, every
** pseudo_id becomes a dense integer in pseudo_id (BINARY) order, so "ties by
** pseudo_id" is an integer comparison and a person's row in another year is
** an array index; each year's scored person-years are sorted by rank, by
** cost and by LTC count once, and the seven tables are written with prepared
** statements. Reads and writes share one transaction; each table is
** replaced whole. The semantics are those of a join of risk_score to
** person_year on (pseudo_id, fyear): NULL values are left out of sums,
** counts and minima, sort last in descending orders, and a sum of nothing
** but NULLs is NULL. Counts here are unrounded: whatever publishes them
** passes them through src/sdc.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "risk/risk.h"

void yoc_risk_summary_opts_init(struct yoc_risk_summary_opts *o)
{
	o->rising_from = 80;
	o->rising_top = 10;
	o->crisis_top = 5;
}

#define NONE (-1)

static size_t atleast1(size_t n)
{
	return n ? n : 1;
}

/* which values of a person_year row are not NULL */
enum { HAS_LTC = 1, HAS_DIED = 2, HAS_EA = 4, HAS_COST = 8 };

struct str {
	const char *s;
	int n;
};

struct py {		  /* a person_year row */
	uint32_t person;  /* dense, in pseudo_id order once the persons are sorted */
	int32_t year;
	int32_t practice; /* NONE (NULL) while reading, then 0 (NULL) or 1 + name order */
	unsigned flags;
	int64_t ltc, died, ea;
	double pence; /* cost_total: sums of whole pence are exact in a double */
};

struct sc { /* a risk_score row joined to its person_year row */
	int32_t py;
	int32_t tier;
	int rising;
	int64_t rank, cost_rank, ltc_rank;
	double percentile, probability;
};

struct year {
	struct str name;
	char prev[32], next[32]; /* the previous and next financial years' names */
	int32_t iprev, inext;	 /* their indexes; NONE when not analysed */
	size_t first, n;	 /* scored rows: ord[first .. first + n), by rank */
};

struct rs {
	struct yoc_arena text;		  /* every name below */
	struct yoc_map pmap, prmap, ymap, tmap; /* name -> index */
	struct str *pkey, *prac, *tier;
	size_t np, pkcap, npr, prcap, nt, tcap;
	struct year *yr;
	size_t ny, ycap;
	struct py *py;
	size_t npy, pycap;
	struct sc *sc;
	size_t nsc, sccap;
	int32_t *pyat, *scat; /* [year * np + person]: row of py / sc, or NONE */
	size_t *ord;	      /* sc rows by year, then by rank */
	int32_t *torder;      /* [year * nt + tier]: the tier's order in the year, 0 absent */
	size_t *yorder;	      /* years in name order */
	size_t *tname;	      /* tiers in name order */
};

static int nomem(struct yoc_error *e)
{
	return yoc_error_set(e, YOC_ENOMEM, "risk summarise", 0, 0, "out of memory");
}

static int dberr(sqlite3 *db, struct yoc_error *e)
{
	return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
}

static int grow(void *pp, size_t *cap, size_t need, size_t size)
{
	void **p = pp;
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 1024;
	while (nc < need)
		nc *= 2;
	void *q = yoc_realloc(*p, nc * size);
	if (!q)
		return YOC_ENOMEM;
	*p = q;
	*cap = nc;
	return 0;
}

static int cmp_str(struct str a, struct str b)
{
	int c = memcmp(a.s, b.s, (size_t)(a.n < b.n ? a.n : b.n));
	return c ? c : (a.n > b.n) - (a.n < b.n);
}

/* The index of name s in m (a new one at the end of *arr when absent). */
static int intern(struct rs *R, struct yoc_map *m, struct str **arr, size_t *n, size_t *cap,
		  const unsigned char *s, int len, int32_t *id)
{
	uint64_t *v = yoc_map_get(m, s, (size_t)len);
	if (v) {
		*id = (int32_t)*v;
		return 0;
	}
	if (*n >= INT32_MAX || grow(arr, cap, *n + 1, sizeof **arr))
		return YOC_ENOMEM;
	char *c = yoc_arena_strndup(&R->text, (const char *)s, (size_t)len);
	if (!c || yoc_map_put(m, s, (size_t)len, *n, NULL))
		return YOC_ENOMEM;
	(*arr)[*n] = (struct str){c, len};
	*id = (int32_t)(*n)++;
	return 0;
}

/* The financial years either side of "YYYY/YY", as the catalog names them. */
static void neighbours(struct year *y)
{
	const char *s = y->name.s;
	int i = 0, neg = 0, v = 0;
	while (i < 4 && i < y->name.n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < 4 && i < y->name.n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	for (; i < 4 && i < y->name.n && s[i] >= '0' && s[i] <= '9'; i++)
		v = v * 10 + (s[i] - '0');
	if (neg)
		v = -v;
	snprintf(y->next, sizeof y->next, "%d/%02d", v + 1, (v + 2) % 100);
	snprintf(y->prev, sizeof y->prev, "%d/%02d", v - 1, v % 100);
}

static int col_text(sqlite3_stmt *st, int i, const unsigned char **s, int *n)
{
	*s = NULL;
	*n = 0;
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return 0;
	*s = sqlite3_column_text(st, i);
	*n = sqlite3_column_bytes(st, i);
	return *s ? 0 : YOC_ENOMEM;
}

struct pkey_ord {
	struct str k;
	uint32_t id;
};

static int by_pkey(const void *a, const void *b)
{
	return cmp_str(((const struct pkey_ord *)a)->k, ((const struct pkey_ord *)b)->k);
}

static int read_person_year(struct rs *R, sqlite3 *db, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	struct pkey_ord *po = NULL;
	uint32_t *pos = NULL;
	int rc = 0, s;
	int32_t lasty = NONE, lastpr = NONE;
	if (sqlite3_prepare_v2(db, "SELECT pseudo_id, fyear, practice, ltc_count, died,"
				   " emergency_admissions, cost_total FROM person_year",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = dberr(db, e);
		goto cleanup;
	}
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *pid, *fy, *pr;
		int npid, nfy, npr;
		int32_t y, p, prac = NONE;
		if (col_text(st, 0, &pid, &npid) || col_text(st, 1, &fy, &nfy) ||
		    col_text(st, 2, &pr, &npr)) {
			rc = nomem(e);
			goto cleanup;
		}
		if (!pid || !fy) /* joins nothing */
			continue;
		if (lasty != NONE && R->yr[lasty].name.n == nfy &&
		    !memcmp(R->yr[lasty].name.s, fy, (size_t)nfy)) {
			y = lasty;
		} else {
			size_t n = R->ny;
			if (grow(&R->yr, &R->ycap, R->ny + 1, sizeof *R->yr)) {
				rc = nomem(e);
				goto cleanup;
			}
			uint64_t *v = yoc_map_get(&R->ymap, fy, (size_t)nfy);
			if (v) {
				y = (int32_t)*v;
			} else {
				char *c = yoc_arena_strndup(&R->text, (const char *)fy, (size_t)nfy);
				if (!c || yoc_map_put(&R->ymap, fy, (size_t)nfy, n, NULL)) {
					rc = nomem(e);
					goto cleanup;
				}
				memset(&R->yr[n], 0, sizeof R->yr[n]);
				R->yr[n].name = (struct str){c, nfy};
				y = (int32_t)R->ny++;
			}
			lasty = y;
		}
		if (intern(R, &R->pmap, &R->pkey, &R->np, &R->pkcap, pid, npid, &p)) {
			rc = nomem(e);
			goto cleanup;
		}
		if (pr) {
			if (lastpr != NONE && R->prac[lastpr].n == npr &&
			    !memcmp(R->prac[lastpr].s, pr, (size_t)npr))
				prac = lastpr;
			else if (intern(R, &R->prmap, &R->prac, &R->npr, &R->prcap, pr, npr, &prac)) {
				rc = nomem(e);
				goto cleanup;
			}
			lastpr = prac;
		}
		if (R->npy >= INT32_MAX || grow(&R->py, &R->pycap, R->npy + 1, sizeof *R->py)) {
			rc = nomem(e);
			goto cleanup;
		}
		struct py *q = &R->py[R->npy++];
		q->person = (uint32_t)p;
		q->year = y;
		q->practice = prac;
		q->flags = 0;
		q->ltc = q->died = q->ea = 0;
		q->pence = 0;
		if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
			q->flags |= HAS_LTC;
			q->ltc = sqlite3_column_int64(st, 3);
		}
		if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
			q->flags |= HAS_DIED;
			q->died = sqlite3_column_int64(st, 4);
		}
		if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
			q->flags |= HAS_EA;
			q->ea = sqlite3_column_int64(st, 5);
		}
		if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
			q->flags |= HAS_COST;
			q->pence = sqlite3_column_double(st, 6);
		}
	}
	if (s != SQLITE_DONE) {
		rc = dberr(db, e);
		goto cleanup;
	}
	/* persons in pseudo_id order */
	po = yoc_malloc(atleast1(R->np) * sizeof *po);
	pos = yoc_malloc(atleast1(R->np) * sizeof *pos);
	if (!po || !pos) {
		rc = nomem(e);
		goto cleanup;
	}
	for (size_t i = 0; i < R->np; i++)
		po[i] = (struct pkey_ord){R->pkey[i], (uint32_t)i};
	qsort(po, R->np, sizeof *po, by_pkey);
	for (size_t i = 0; i < R->np; i++) {
		pos[po[i].id] = (uint32_t)i;
		R->pkey[i] = po[i].k;
	}
	for (size_t i = 0; i < R->np; i++) /* the map now gives sorted positions */
		*yoc_map_get(&R->pmap, R->pkey[i].s, (size_t)R->pkey[i].n) = i;
	for (size_t i = 0; i < R->npy; i++)
		R->py[i].person = pos[R->py[i].person];
	if (R->ny && R->np > SIZE_MAX / sizeof(int32_t) / R->ny) {
		rc = nomem(e);
		goto cleanup;
	}
	R->pyat = yoc_malloc(atleast1(R->ny * R->np) * sizeof *R->pyat);
	if (!R->pyat) {
		rc = nomem(e);
		goto cleanup;
	}
	memset(R->pyat, 0xff, R->ny * R->np * sizeof *R->pyat);
	for (size_t i = 0; i < R->npy; i++) {
		const struct py *q = &R->py[i];
		int32_t *at = &R->pyat[(size_t)q->year * R->np + q->person];
		if (*at != NONE) {
			rc = yoc_error_set(e, YOC_EDATA, "person_year", 0, 0,
					   "two rows for pseudo_id %.*s in %.*s",
					   R->pkey[q->person].n, R->pkey[q->person].s,
					   R->yr[q->year].name.n, R->yr[q->year].name.s);
			goto cleanup;
		}
		*at = (int32_t)i;
	}
	for (size_t y = 0; y < R->ny; y++) {
		uint64_t *v;
		neighbours(&R->yr[y]);
		v = yoc_map_get(&R->ymap, R->yr[y].prev, strlen(R->yr[y].prev));
		R->yr[y].iprev = v ? (int32_t)*v : NONE;
		v = yoc_map_get(&R->ymap, R->yr[y].next, strlen(R->yr[y].next));
		R->yr[y].inext = v ? (int32_t)*v : NONE;
	}
cleanup:
	sqlite3_finalize(st);
	yoc_free(po);
	yoc_free(pos);
	return rc;
}

struct key {
	int64_t i;
	double v;
	uint32_t person;
	uint32_t row;
	int null;
};

/* rank ascending */
static int by_rank(const void *pa, const void *pb)
{
	const struct key *a = pa, *b = pb;
	if (a->i != b->i)
		return a->i < b->i ? -1 : 1;
	return (a->person > b->person) - (a->person < b->person);
}

/* v descending, NULL last, then pseudo_id */
static int by_v_desc(const void *pa, const void *pb)
{
	const struct key *a = pa, *b = pb;
	if (a->null != b->null)
		return a->null - b->null;
	if (!a->null && a->v != b->v)
		return a->v > b->v ? -1 : 1;
	return (a->person > b->person) - (a->person < b->person);
}

/* i descending, NULL last, then pseudo_id */
static int by_i_desc(const void *pa, const void *pb)
{
	const struct key *a = pa, *b = pb;
	if (a->null != b->null)
		return a->null - b->null;
	if (!a->null && a->i != b->i)
		return a->i > b->i ? -1 : 1;
	return (a->person > b->person) - (a->person < b->person);
}

struct tmin {
	int64_t min;
	size_t t;
};

static int by_min(const void *pa, const void *pb)
{
	const struct tmin *a = pa, *b = pb;
	return (a->min > b->min) - (a->min < b->min);
}

/* o[0 .. n) = 0 .. n - 1 in the order of their names (a few years or tiers) */
static void name_order(size_t *o, size_t n, const struct str *name, size_t stride)
{
	for (size_t i = 0; i < n; i++) {
		size_t j = i;
		for (; j > 0; j--) {
			const struct str *a = (const struct str *)((const char *)name + o[j - 1] * stride);
			const struct str *b = (const struct str *)((const char *)name + i * stride);
			if (cmp_str(*a, *b) <= 0)
				break;
			o[j] = o[j - 1];
		}
		o[j] = i;
	}
}

struct prac_ord {
	struct str k;
	int32_t id;
};

static int by_prac(const void *a, const void *b)
{
	return cmp_str(((const struct prac_ord *)a)->k, ((const struct prac_ord *)b)->k);
}

static int read_scores(struct rs *R, sqlite3 *db, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	struct key *k = NULL;
	struct tmin *tm = NULL;
	struct prac_ord *pr = NULL;
	int32_t *prpos = NULL;
	size_t *cnt = NULL, *y_of = NULL, ycap = 0;
	int rc = 0, s;
	int32_t lasty = NONE, lastt = NONE;
	if (sqlite3_prepare_v2(db, "SELECT pseudo_id, fyear, rank, percentile, tier, probability"
				   " FROM risk_score", -1, &st, NULL) != SQLITE_OK) {
		rc = dberr(db, e);
		goto cleanup;
	}
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *pid, *fy, *tn;
		int npid, nfy, ntn;
		int32_t y, t;
		uint64_t *v;
		if (col_text(st, 0, &pid, &npid) || col_text(st, 1, &fy, &nfy) ||
		    col_text(st, 4, &tn, &ntn)) {
			rc = nomem(e);
			goto cleanup;
		}
		if (!pid || !fy)
			continue;
		if (lasty != NONE && R->yr[lasty].name.n == nfy &&
		    !memcmp(R->yr[lasty].name.s, fy, (size_t)nfy)) {
			y = lasty;
		} else {
			if (!(v = yoc_map_get(&R->ymap, fy, (size_t)nfy)))
				continue; /* a year without person_year rows */
			y = lasty = (int32_t)*v;
		}
		if (!(v = yoc_map_get(&R->pmap, pid, (size_t)npid)))
			continue;
		int32_t pyi = R->pyat[(size_t)y * R->np + *v];
		if (pyi == NONE)
			continue;
		if (!tn)
			tn = (const unsigned char *)"", ntn = 0;
		if (lastt != NONE && R->tier[lastt].n == ntn &&
		    !memcmp(R->tier[lastt].s, tn, (size_t)ntn))
			t = lastt;
		else if (intern(R, &R->tmap, &R->tier, &R->nt, &R->tcap, tn, ntn, &t)) {
			rc = nomem(e);
			goto cleanup;
		}
		lastt = t;
		if (R->nsc >= INT32_MAX || grow(&R->sc, &R->sccap, R->nsc + 1, sizeof *R->sc) ||
		    grow(&y_of, &ycap, R->nsc + 1, sizeof *y_of)) {
			rc = nomem(e);
			goto cleanup;
		}
		int32_t *at = &R->scat[(size_t)y * R->np + *v];
		if (*at != NONE) {
			rc = yoc_error_set(e, YOC_EDATA, "risk_score", 0, 0,
					   "two rows for pseudo_id %.*s in %.*s", npid, pid, nfy,
					   fy);
			goto cleanup;
		}
		*at = (int32_t)R->nsc;
		y_of[R->nsc] = (size_t)y;
		R->sc[R->nsc++] = (struct sc){.py = pyi, .tier = t,
					      .rank = sqlite3_column_int64(st, 2),
					      .percentile = sqlite3_column_double(st, 3),
					      .probability = sqlite3_column_double(st, 5)};
	}
	if (s != SQLITE_DONE) {
		rc = dberr(db, e);
		goto cleanup;
	}
	/* rows by year, each year by rank; cost and LTC orders */
	cnt = yoc_calloc(R->ny + 1, sizeof *cnt);
	R->ord = yoc_malloc(atleast1(R->nsc) * sizeof *R->ord);
	k = yoc_malloc(atleast1(R->nsc) * sizeof *k);
	R->torder = yoc_calloc(atleast1(R->ny * R->nt), sizeof *R->torder);
	tm = yoc_malloc(atleast1(R->nt) * sizeof *tm);
	R->yorder = yoc_malloc(atleast1(R->ny) * sizeof *R->yorder);
	R->tname = yoc_malloc(atleast1(R->nt) * sizeof *R->tname);
	pr = yoc_malloc(atleast1(R->npr) * sizeof *pr);
	prpos = yoc_malloc(atleast1(R->npr) * sizeof *prpos);
	if (!cnt || !R->ord || !k || !R->torder || !tm || !R->yorder || !R->tname || !pr ||
	    !prpos) {
		rc = nomem(e);
		goto cleanup;
	}
	for (size_t i = 0; i < R->nsc; i++)
		cnt[y_of[i] + 1]++;
	for (size_t y = 0; y < R->ny; y++) {
		R->yr[y].first = cnt[y];
		R->yr[y].n = cnt[y + 1];
		cnt[y + 1] += cnt[y];
	}
	for (size_t i = 0; i < R->nsc; i++)
		R->ord[cnt[y_of[i]]++] = i;
	for (size_t y = 0; y < R->ny; y++) {
		size_t n = R->yr[y].n, *o = R->ord + R->yr[y].first;
		for (size_t j = 0; j < n; j++) {
			const struct sc *c = &R->sc[o[j]];
			const struct py *q = &R->py[c->py];
			k[j] = (struct key){.i = c->rank, .person = q->person, .row = (uint32_t)o[j]};
		}
		qsort(k, n, sizeof *k, by_rank);
		for (size_t j = 0; j < n; j++)
			o[j] = k[j].row;
		for (size_t j = 0; j < n; j++) {
			const struct py *q = &R->py[R->sc[o[j]].py];
			k[j] = (struct key){.v = q->pence / 100.0, .null = !(q->flags & HAS_COST),
					    .person = q->person, .row = (uint32_t)o[j]};
		}
		qsort(k, n, sizeof *k, by_v_desc);
		for (size_t j = 0; j < n; j++)
			R->sc[k[j].row].cost_rank = (int64_t)j + 1;
		for (size_t j = 0; j < n; j++) {
			const struct py *q = &R->py[R->sc[o[j]].py];
			k[j] = (struct key){.i = q->ltc, .null = !(q->flags & HAS_LTC),
					    .person = q->person, .row = (uint32_t)o[j]};
		}
		qsort(k, n, sizeof *k, by_i_desc);
		for (size_t j = 0; j < n; j++)
			R->sc[k[j].row].ltc_rank = (int64_t)j + 1;
		/* tier order: dense rank of the tier's smallest rank */
		size_t ntm = 0;
		for (size_t j = 0; j < n; j++) {
			const struct sc *c = &R->sc[o[j]];
			int32_t *to = &R->torder[y * R->nt + (size_t)c->tier];
			if (!*to) { /* rows are in rank order: the first is the smallest */
				*to = 1;
				tm[ntm++] = (struct tmin){c->rank, (size_t)c->tier};
			}
		}
		qsort(tm, ntm, sizeof *tm, by_min);
		for (size_t j = 0, d = 0; j < ntm; j++) {
			if (!j || tm[j].min != tm[j - 1].min)
				d++;
			R->torder[y * R->nt + tm[j].t] = (int32_t)d;
		}
	}
	if (R->ny)
		name_order(R->yorder, R->ny, &R->yr[0].name, sizeof *R->yr);
	if (R->nt)
		name_order(R->tname, R->nt, R->tier, sizeof *R->tier);
	/* practices renumbered in name order from 1, 0 for NULL */
	for (size_t i = 0; i < R->npr; i++)
		pr[i] = (struct prac_ord){R->prac[i], (int32_t)i};
	qsort(pr, R->npr, sizeof *pr, by_prac);
	for (size_t i = 0; i < R->npr; i++) {
		R->prac[i] = pr[i].k;
		prpos[pr[i].id] = (int32_t)i + 1;
	}
	for (size_t i = 0; i < R->npy; i++)
		R->py[i].practice = R->py[i].practice == NONE ? 0 : prpos[R->py[i].practice];
cleanup:
	sqlite3_finalize(st);
	yoc_free(k);
	yoc_free(tm);
	yoc_free(pr);
	yoc_free(prpos);
	yoc_free(cnt);
	yoc_free(y_of);
	return rc;
}

/* ---- writing ------------------------------------------------------------ */

static int run(sqlite3 *db, const char *sql, struct yoc_error *e)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", msg ? msg : "?");
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

/* Creates a table and prepares its INSERT of n values. */
static int table(sqlite3 *db, const char *ddl, const char *name, int n, sqlite3_stmt **st,
		 struct yoc_error *e)
{
	char sql[160];
	int rc, k = snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (?", name);
	for (int i = 1; i < n; i++)
		k += snprintf(sql + k, sizeof sql - (size_t)k, ",?");
	snprintf(sql + k, sizeof sql - (size_t)k, ")");
	if ((rc = run(db, ddl, e)))
		return rc;
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
		return dberr(db, e);
	return 0;
}

static int insert(sqlite3 *db, sqlite3_stmt *st, struct yoc_error *e)
{
	int s = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return s == SQLITE_DONE ? 0 : dberr(db, e);
}

static void bind_str(sqlite3_stmt *st, int i, struct str s)
{
	sqlite3_bind_text(st, i, s.s, s.n, SQLITE_STATIC);
}

static void bind_cstr(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* x / d, NULL (left unbound) when x is NULL or d is NULL or 0 */
static void bind_ratio(sqlite3_stmt *st, int i, int xnull, double x, int dnull, double d)
{
	if (!xnull && !dnull && d != 0)
		sqlite3_bind_double(st, i, x / d);
}

/* The top share k% of a year of n rows: ranks 1 .. floor(n k / 100), as the tiers. */
static int64_t topm(size_t n, double k)
{
	return (int64_t)((double)n * k / 100.0 + 1e-9);
}

static const struct py *py_in(const struct rs *R, int32_t y, uint32_t person)
{
	int32_t i = y == NONE ? NONE : R->pyat[(size_t)y * R->np + person];
	return i == NONE ? NULL : &R->py[i];
}

static const struct sc *sc_in(const struct rs *R, int32_t y, uint32_t person)
{
	int32_t i = y == NONE ? NONE : R->scat[(size_t)y * R->np + person];
	return i == NONE ? NULL : &R->sc[i];
}

static uint32_t person_of(const struct rs *R, const struct sc *c)
{
	return R->py[c->py].person;
}

static int scored(const struct rs *R, int32_t y)
{
	return y != NONE && R->yr[y].n > 0;
}

/* The tiers of year y by their order, then name, into o; returns how many. */
static size_t tiers_of(const struct rs *R, size_t y, size_t *o)
{
	size_t n = 0;
	for (size_t ti = 0; ti < R->nt; ti++) {
		size_t t = R->tname[ti], j = n++;
		int32_t ord = R->torder[y * R->nt + t];
		if (!ord) {
			n--;
			continue;
		}
		for (; j > 0 && R->torder[y * R->nt + o[j - 1]] > ord; j--)
			o[j] = o[j - 1];
		o[j] = t;
	}
	return n;
}

struct tacc {
	int64_t people, ncost, ea, nea_n, pn, nea;
	double pence;
};

static int pyramid(struct rs *R, sqlite3 *db, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	struct tacc *a = yoc_malloc(atleast1(R->nt) * sizeof *a);
	size_t *to = yoc_malloc(atleast1(R->nt) * sizeof *to);
	int rc;
	if (!a || !to) {
		rc = nomem(e);
		goto cleanup;
	}
	if ((rc = table(db, "DROP TABLE IF EXISTS risk_pyramid;"
			    "CREATE TABLE risk_pyramid(fyear TEXT NOT NULL, tier TEXT NOT NULL,"
			    " tier_order INTEGER NOT NULL, people INTEGER NOT NULL, cost_total REAL"
			    " NOT NULL, mean_cost REAL, cost_share REAL, emergency_admissions"
			    " INTEGER NOT NULL, emergency_share REAL, people_next INTEGER,"
			    " next_emergency_admissions INTEGER, next_emergency_share REAL);",
			"risk_pyramid", 12, &st, e)))
		goto cleanup;
	for (size_t yi = 0; yi < R->ny; yi++) {
		size_t y = R->yorder[yi];
		const struct year *Y = &R->yr[y];
		if (!Y->n)
			continue;
		memset(a, 0, R->nt * sizeof *a);
		for (size_t j = 0; j < Y->n; j++) {
			const struct sc *c = &R->sc[R->ord[Y->first + j]];
			const struct py *q = &R->py[c->py], *x = py_in(R, Y->inext, q->person);
			struct tacc *t = &a[c->tier];
			t->people++;
			if (q->flags & HAS_COST)
				t->pence += q->pence, t->ncost++;
			if (q->flags & HAS_EA)
				t->ea += q->ea, t->nea_n++;
			if (x) {
				t->pn++;
				if (x->flags & HAS_EA)
					t->nea += x->ea;
			}
		}
		double pence = 0;
		int64_t ea = 0, nea = 0, ncost = 0, nean = 0;
		for (size_t t = 0; t < R->nt; t++) {
			if (!a[t].people)
				continue;
			if (a[t].ncost)
				pence += a[t].pence, ncost++;
			if (a[t].nea_n)
				ea += a[t].ea, nean++;
			nea += a[t].nea;
		}
		size_t nto = tiers_of(R, y, to);
		for (size_t ti = 0; ti < nto; ti++) {
			size_t t = to[ti];
			const struct tacc *g = &a[t];
			double cost = g->pence / 100.0;
			bind_str(st, 1, Y->name);
			bind_str(st, 2, R->tier[t]);
			sqlite3_bind_int(st, 3, R->torder[y * R->nt + t]);
			sqlite3_bind_int64(st, 4, g->people);
			if (g->ncost)
				sqlite3_bind_double(st, 5, cost);
			bind_ratio(st, 6, !g->ncost, cost, 0, (double)g->people);
			bind_ratio(st, 7, !g->ncost, cost, !ncost, pence / 100.0);
			if (g->nea_n)
				sqlite3_bind_int64(st, 8, g->ea);
			bind_ratio(st, 9, !g->nea_n, (double)g->ea, !nean, (double)ea);
			if (Y->inext != NONE) {
				sqlite3_bind_int64(st, 10, g->pn);
				sqlite3_bind_int64(st, 11, g->nea);
				bind_ratio(st, 12, 0, (double)g->nea, 0, (double)nea);
			}
			if ((rc = insert(db, st, e)))
				goto cleanup;
		}
	}
cleanup:
	sqlite3_finalize(st);
	yoc_free(a);
	yoc_free(to);
	return rc;
}

static int crisis(struct rs *R, sqlite3 *db, double top, struct yoc_error *e)
{
	static const char *const cohort[2] = {"top_cost", "top_risk"};
	sqlite3_stmt *st = NULL;
	uint32_t *m = NULL;
	int rc;
	if ((rc = table(db, "DROP TABLE IF EXISTS risk_crisis;"
			    "CREATE TABLE risk_crisis(fyear TEXT NOT NULL, cohort TEXT NOT NULL,"
			    " top_pct REAL NOT NULL, year_offset INTEGER NOT NULL, year TEXT NOT"
			    " NULL, people INTEGER NOT NULL, present INTEGER NOT NULL, died INTEGER"
			    " NOT NULL, mean_cost REAL);",
			"risk_crisis", 9, &st, e)))
		goto cleanup;
	if (!(m = yoc_malloc(atleast1(R->np) * sizeof *m))) {
		rc = nomem(e);
		goto cleanup;
	}
	for (size_t yi = 0; yi < R->ny; yi++) {
		size_t y = R->yorder[yi];
		const struct year *Y = &R->yr[y];
		int64_t top_n = topm(Y->n, top);
		for (int c = 0; c < 2; c++) {
			size_t nm = 0;
			for (size_t j = 0; j < Y->n; j++) {
				const struct sc *s = &R->sc[R->ord[Y->first + j]];
				if ((c == 0 ? s->cost_rank : s->rank) <= top_n)
					m[nm++] = person_of(R, s);
			}
			if (!nm)
				continue;
			for (int k = -1; k <= 1; k++) {
				int32_t t = k < 0 ? Y->iprev : k == 0 ? (int32_t)y : Y->inext;
				if (t == NONE)
					continue;
				int64_t present = 0, died = 0, ncost = 0;
				double pence = 0;
				for (size_t j = 0; j < nm; j++) {
					const struct py *q = py_in(R, t, m[j]);
					if (!q)
						continue;
					present++;
					if (q->flags & HAS_DIED)
						died += q->died;
					if (q->flags & HAS_COST)
						pence += q->pence, ncost++;
				}
				bind_str(st, 1, Y->name);
				bind_cstr(st, 2, cohort[c]);
				sqlite3_bind_double(st, 3, top);
				sqlite3_bind_int(st, 4, k);
				if (k)
					bind_cstr(st, 5, k < 0 ? Y->prev : Y->next);
				else
					bind_str(st, 5, Y->name);
				sqlite3_bind_int64(st, 6, (int64_t)nm);
				sqlite3_bind_int64(st, 7, present);
				sqlite3_bind_int64(st, 8, died);
				bind_ratio(st, 9, !ncost, pence / 100.0, 0, (double)ncost);
				if ((rc = insert(db, st, e)))
					goto cleanup;
			}
		}
	}
cleanup:
	sqlite3_finalize(st);
	yoc_free(m);
	return rc;
}

static int rising(struct rs *R, sqlite3 *db, const struct yoc_risk_summary_opts *o,
		  struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc;
	if ((rc = table(db, "DROP TABLE IF EXISTS risk_rising;"
			    "CREATE TABLE risk_rising(fyear TEXT NOT NULL, pseudo_id TEXT NOT NULL,"
			    " practice TEXT, prev_percentile REAL NOT NULL, percentile REAL NOT"
			    " NULL, probability REAL NOT NULL, tier TEXT NOT NULL, from_below REAL"
			    " NOT NULL, to_top REAL NOT NULL);",
			"risk_rising", 9, &st, e)))
		goto cleanup;
	for (size_t yi = 0; yi < R->ny; yi++) {
		size_t y = R->yorder[yi];
		const struct year *Y = &R->yr[y];
		int64_t top_n = topm(Y->n, o->rising_top);
		if (!scored(R, Y->iprev))
			continue;
		for (size_t j = 0; j < Y->n; j++) {
			struct sc *s = &R->sc[R->ord[Y->first + j]];
			const struct py *q = &R->py[s->py];
			const struct sc *b = sc_in(R, Y->iprev, q->person);
			if (s->rank > top_n)
				break;
			if (!b || !(b->percentile < o->rising_from))
				continue;
			s->rising = 1;
			bind_str(st, 1, Y->name);
			bind_str(st, 2, R->pkey[q->person]);
			if (q->practice)
				bind_str(st, 3, R->prac[q->practice - 1]);
			sqlite3_bind_double(st, 4, b->percentile);
			sqlite3_bind_double(st, 5, s->percentile);
			sqlite3_bind_double(st, 6, s->probability);
			bind_str(st, 7, R->tier[s->tier]);
			sqlite3_bind_double(st, 8, o->rising_from);
			sqlite3_bind_double(st, 9, o->rising_top);
			if ((rc = insert(db, st, e)))
				goto cleanup;
		}
	}
cleanup:
	sqlite3_finalize(st);
	return rc;
}

static int turnover(struct rs *R, sqlite3 *db, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	size_t w = R->nt + 2; /* next year's tiers, died, left */
	int64_t *n = yoc_malloc(atleast1(R->nt * w) * sizeof *n);
	size_t *fo = yoc_malloc(atleast1(R->nt) * sizeof *fo);
	size_t *to = yoc_malloc(w * sizeof *to);
	int rc;
	if (!n || !fo || !to) {
		rc = nomem(e);
		goto cleanup;
	}
	if ((rc = table(db, "DROP TABLE IF EXISTS risk_turnover;"
			    "CREATE TABLE risk_turnover(fyear TEXT NOT NULL, from_tier TEXT NOT"
			    " NULL, from_order INTEGER NOT NULL, to_tier TEXT NOT NULL, to_order"
			    " INTEGER NOT NULL, people INTEGER NOT NULL);",
			"risk_turnover", 6, &st, e)))
		goto cleanup;
	for (size_t yi = 0; yi < R->ny; yi++) {
		size_t y = R->yorder[yi];
		const struct year *Y = &R->yr[y];
		int32_t x = Y->inext;
		if (!Y->n || !scored(R, x))
			continue;
		memset(n, 0, R->nt * w * sizeof *n);
		for (size_t j = 0; j < Y->n; j++) {
			const struct sc *s = &R->sc[R->ord[Y->first + j]];
			const struct py *q = &R->py[s->py];
			const struct sc *b = sc_in(R, x, q->person);
			size_t dst = b ? (size_t)b->tier
				   : (q->flags & HAS_DIED) && q->died ? R->nt : R->nt + 1;
			n[(size_t)s->tier * w + dst]++;
		}
		size_t nf = tiers_of(R, y, fo), nx = tiers_of(R, (size_t)x, to);
		to[nx++] = R->nt; /* died */
		to[nx++] = R->nt + 1; /* left */
		for (size_t fi = 0; fi < nf; fi++)
			for (size_t ti = 0; ti < nx; ti++) {
				size_t f = fo[fi], t = to[ti];
				int64_t c = n[f * w + t];
				if (!c)
					continue;
				bind_str(st, 1, Y->name);
				bind_str(st, 2, R->tier[f]);
				sqlite3_bind_int(st, 3, R->torder[y * R->nt + f]);
				if (t < R->nt) {
					bind_str(st, 4, R->tier[t]);
					sqlite3_bind_int(st, 5, R->torder[(size_t)x * R->nt + t]);
				} else {
					bind_cstr(st, 4, t == R->nt ? "died" : "left");
					sqlite3_bind_int(st, 5, t == R->nt ? 100 : 101);
				}
				sqlite3_bind_int64(st, 6, c);
				if ((rc = insert(db, st, e)))
					goto cleanup;
			}
	}
cleanup:
	sqlite3_finalize(st);
	yoc_free(n);
	yoc_free(fo);
	yoc_free(to);
	return rc;
}

static const double ks[4] = {0.5, 2, 5, 10};

static int retention(struct rs *R, sqlite3 *db, struct yoc_error *e)
{
	static const char *const cohort[2] = {"risk", "ltc"};
	sqlite3_stmt *st = NULL;
	int rc;
	if ((rc = table(db, "DROP TABLE IF EXISTS risk_retention;"
			    "CREATE TABLE risk_retention(fyear TEXT NOT NULL, k REAL NOT NULL,"
			    " cohort TEXT NOT NULL, people INTEGER NOT NULL, present INTEGER NOT"
			    " NULL, still INTEGER NOT NULL, still_share REAL);",
			"risk_retention", 7, &st, e)))
		goto cleanup;
	for (int c = 0; c < 2; c++)
		for (size_t yi = 0; yi < R->ny; yi++) {
			size_t y = R->yorder[yi];
			const struct year *Y = &R->yr[y];
			if (!Y->n || !scored(R, Y->inext))
				continue;
			for (int ki = 0; ki < 4; ki++) {
				int64_t m = topm(Y->n, ks[ki]), mx = topm(R->yr[Y->inext].n, ks[ki]);
				int64_t people = 0, present = 0, still = 0;
				for (size_t j = 0; j < Y->n; j++) {
					const struct sc *s = &R->sc[R->ord[Y->first + j]];
					if ((c ? s->ltc_rank : s->rank) > m)
						continue;
					people++;
					const struct sc *b = sc_in(R, Y->inext, person_of(R, s));
					if (b) {
						present++;
						still += (c ? b->ltc_rank : b->rank) <= mx;
					}
				}
				if (!people)
					continue;
				bind_str(st, 1, Y->name);
				sqlite3_bind_double(st, 2, ks[ki]);
				bind_cstr(st, 3, cohort[c]);
				sqlite3_bind_int64(st, 4, people);
				sqlite3_bind_int64(st, 5, present);
				sqlite3_bind_int64(st, 6, still);
				sqlite3_bind_double(st, 7, (double)still / (double)people);
				if ((rc = insert(db, st, e)))
					goto cleanup;
			}
		}
cleanup:
	sqlite3_finalize(st);
	return rc;
}

static int overlap(struct rs *R, sqlite3 *db, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc;
	if ((rc = table(db, "DROP TABLE IF EXISTS risk_overlap;"
			    "CREATE TABLE risk_overlap(fyear TEXT NOT NULL, k REAL NOT NULL, people"
			    " INTEGER NOT NULL, overlap INTEGER NOT NULL, overlap_share REAL,"
			    " risk_min_ltc INTEGER, ltc_min_ltc INTEGER);",
			"risk_overlap", 7, &st, e)))
		goto cleanup;
	for (size_t yi = 0; yi < R->ny; yi++) {
		size_t y = R->yorder[yi];
		const struct year *Y = &R->yr[y];
		if (!Y->n)
			continue;
		for (int ki = 0; ki < 4; ki++) {
			int64_t m = topm(Y->n, ks[ki]), people = 0, both = 0, rmin = 0, lmin = 0;
			int rhas = 0, lhas = 0;
			for (size_t j = 0; j < Y->n; j++) {
				const struct sc *s = &R->sc[R->ord[Y->first + j]];
				const struct py *q = &R->py[s->py];
				int inr = s->rank <= m, inl = s->ltc_rank <= m;
				people += inr;
				both += inr && inl;
				if (!(q->flags & HAS_LTC))
					continue;
				if (inr && (!rhas || q->ltc < rmin))
					rmin = q->ltc, rhas = 1;
				if (inl && (!lhas || q->ltc < lmin))
					lmin = q->ltc, lhas = 1;
			}
			bind_str(st, 1, Y->name);
			sqlite3_bind_double(st, 2, ks[ki]);
			sqlite3_bind_int64(st, 3, people);
			sqlite3_bind_int64(st, 4, both);
			bind_ratio(st, 5, 0, (double)both, 0, (double)people);
			if (rhas)
				sqlite3_bind_int64(st, 6, rmin);
			if (lhas)
				sqlite3_bind_int64(st, 7, lmin);
			if ((rc = insert(db, st, e)))
				goto cleanup;
		}
	}
cleanup:
	sqlite3_finalize(st);
	return rc;
}

static int practice(struct rs *R, sqlite3 *db, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	size_t np = R->npr + 1, w = R->nt + 2; /* tiers, all, rising */
	int64_t *n = yoc_malloc(np * w * sizeof *n);
	int rc;
	if (!n)
		return nomem(e);
	if ((rc = table(db, "DROP TABLE IF EXISTS risk_practice;"
			    "CREATE TABLE risk_practice(fyear TEXT NOT NULL, practice TEXT, tier"
			    " TEXT NOT NULL, tier_order INTEGER NOT NULL, people INTEGER NOT NULL);",
			"risk_practice", 5, &st, e)))
		goto cleanup;
	/* as three GROUP BYs: every tier row, then the 'all' rows, then 'rising' */
	for (int pass = 0; pass < 3; pass++)
		for (size_t yi = 0; yi < R->ny; yi++) {
			size_t y = R->yorder[yi];
			const struct year *Y = &R->yr[y];
			if (!Y->n || (pass == 2 && !scored(R, Y->iprev)))
				continue;
			memset(n, 0, np * w * sizeof *n);
			for (size_t j = 0; j < Y->n; j++) {
				const struct sc *s = &R->sc[R->ord[Y->first + j]];
				int64_t *r = n + (size_t)R->py[s->py].practice * w;
				r[s->tier]++;
				r[R->nt]++;
				r[R->nt + 1] += s->rising;
			}
			for (size_t p = 0; p < np; p++) {
				const int64_t *r = n + p * w;
				if (!r[R->nt])
					continue;
				for (size_t ti = 0; ti < (pass ? 1 : R->nt); ti++) {
					size_t t = R->tname[ti];
					if (!pass && !r[t])
						continue;
					bind_str(st, 1, Y->name);
					if (p)
						bind_str(st, 2, R->prac[p - 1]);
					if (pass) {
						bind_cstr(st, 3, pass == 1 ? "all" : "rising");
						sqlite3_bind_int(st, 4, pass == 1 ? 0 : 1000);
						sqlite3_bind_int64(st, 5, r[R->nt + pass - 1]);
					} else {
						bind_str(st, 3, R->tier[t]);
						sqlite3_bind_int(st, 4, R->torder[y * R->nt + t]);
						sqlite3_bind_int64(st, 5, r[t]);
					}
					if ((rc = insert(db, st, e)))
						goto cleanup;
				}
			}
		}
cleanup:
	sqlite3_finalize(st);
	yoc_free(n);
	return rc;
}

static void rs_free(struct rs *R)
{
	yoc_map_free(&R->pmap);
	yoc_map_free(&R->prmap);
	yoc_map_free(&R->ymap);
	yoc_map_free(&R->tmap);
	yoc_arena_free(&R->text);
	yoc_free(R->pkey);
	yoc_free(R->prac);
	yoc_free(R->tier);
	yoc_free(R->yr);
	yoc_free(R->py);
	yoc_free(R->sc);
	yoc_free(R->pyat);
	yoc_free(R->scat);
	yoc_free(R->ord);
	yoc_free(R->torder);
	yoc_free(R->yorder);
	yoc_free(R->tname);
}

int yoc_risk_summarise(sqlite3 *db, const struct yoc_risk_summary_opts *o, struct yoc_error *e)
{
	struct yoc_risk_summary_opts d;
	struct rs R;
	int in_tx = 0, rc;
	if (!o) {
		yoc_risk_summary_opts_init(&d);
		o = &d;
	}
	if (!(o->rising_from > 0 && o->rising_from < 100) || !(o->rising_top > 0 && o->rising_top < 100) ||
	    !(o->crisis_top > 0 && o->crisis_top < 100) || 100 - o->rising_top < o->rising_from)
		return yoc_error_set(e, YOC_EINVAL, "risk summarise", 0, 0,
				     "want 0 < percentile from < 100 - top share < 100 (from %g, "
				     "top %g%%, crisis top %g%%)", o->rising_from, o->rising_top,
				     o->crisis_top);
	sqlite3_stmt *st = NULL;
	int has = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM risk_score LIMIT 1", -1, &st, NULL) == SQLITE_OK)
		has = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (!has)
		return yoc_error_set(e, YOC_ENOTFOUND, "risk_score", 0, 0,
				     "no risk scores: run yoc risk score first");
	memset(&R, 0, sizeof R);
	yoc_arena_init(&R.text, 256 * 1024);
	if (yoc_map_init(&R.pmap, 1 << 16) || yoc_map_init(&R.prmap, 1024) ||
	    yoc_map_init(&R.ymap, 16) || yoc_map_init(&R.tmap, 16)) {
		rc = nomem(e);
		goto cleanup;
	}
	if ((rc = run(db, "BEGIN IMMEDIATE", e)))
		goto cleanup;
	in_tx = 1;
	if ((rc = read_person_year(&R, db, e)))
		goto cleanup;
	R.scat = yoc_malloc(atleast1(R.ny * R.np) * sizeof *R.scat);
	if (!R.scat) {
		rc = nomem(e);
		goto cleanup;
	}
	memset(R.scat, 0xff, R.ny * R.np * sizeof *R.scat);
	if ((rc = read_scores(&R, db, e)) || (rc = pyramid(&R, db, e)) ||
	    (rc = crisis(&R, db, o->crisis_top, e)) || (rc = rising(&R, db, o, e)) ||
	    (rc = turnover(&R, db, e)) || (rc = retention(&R, db, e)) ||
	    (rc = overlap(&R, db, e)) || (rc = practice(&R, db, e)) ||
	    (rc = run(db, "COMMIT", e)))
		goto cleanup;
	in_tx = 0;
cleanup:
	if (in_tx)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	rs_free(&R);
	return rc;
}

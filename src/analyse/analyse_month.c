/*
** Each person's months: the cost and the emergency admissions of every
** person-year month by month, added where analyse.c adds them to the
** person-year (a priced activity row in the month of its activity date, a
** spell in the month of its admission), and written as the person_month
** table inside the analysis's transaction (docs/analysis.md has the
** format). Reads nothing but what analyse.c hands it; writes nothing but
** person_month.
**
** Memory: the pence of a person-month are an int32 counter (4 bytes where
** an int64 took 8, 12 per person-year), added to by the workers with a
** compare-and-swap that never lets it leave int32: an add that would goes
** whole to a list of wide adds under the run's lock, summed in at the
** write. Exact for any pence and any number of threads.
** Emergency admissions (spell_pass, one thread, one per spell) are a list
** of their person-year months, sorted at the write, not a counter for
** every person-month.
*/
#include <stdlib.h>
#include <string.h>

#include "analyse/analyse_int.h"
#include "yoc/date.h"

#define REC 13 /* month (1 byte), cost (int64 LE), emergency admissions (uint32 LE) */

int an_month_begin(struct an_run *R, struct yoc_error *e)
{
	size_t n = R->np * (size_t)R->ny * 12 + 1;
	R->mcost = yoc_calloc(n, sizeof *R->mcost);
	if (!R->mcost)
		return yoc_error_set(e, YOC_ENOMEM, R->o->dir, 0, 0,
				     "out of memory (monthly figures of %zu person-years)",
				     R->np * (size_t)R->ny);
	return YOC_OK;
}

void an_month_free(struct an_run *R)
{
	yoc_free(R->mcost);
	yoc_free(R->mwide.a);
	yoc_free(R->pwide.a);
	yoc_free(R->memerg);
	R->mcost = NULL;
	R->memerg = NULL;
	memset(&R->mwide, 0, sizeof R->mwide);
	memset(&R->pwide, 0, sizeof R->pwide);
	R->nemerg = R->cemerg = 0;
}

/* The key of person p's month mo in write order: year, person, month. */
static inline uint64_t wkey(const struct an_run *R, int32_t p, int mo)
{
	return ((uint64_t)(mo / 12) * R->np + (uint64_t)p) * 12 + (uint64_t)(mo % 12);
}

int an_add_wide(struct an_run *R, struct an_wides *w, uint64_t key, int64_t v)
{
	int rc = YOC_OK;
	pthread_mutex_lock(&R->lock);
	if (w->n == w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 64;
		struct an_wide *a = yoc_realloc(w->a, nc * sizeof *a);
		if (!a) {
			rc = YOC_ENOMEM;
			goto done;
		}
		w->a = a;
		w->cap = nc;
	}
	w->a[w->n].key = key;
	w->a[w->n].pence = v;
	w->n++;
done:
	pthread_mutex_unlock(&R->lock);
	return rc;
}

static int wide_cmp(const void *x, const void *y)
{
	const struct an_wide *a = x, *b = y;
	return (a->key > b->key) - (a->key < b->key);
}

void an_wides_sort(struct an_wides *w)
{
	if (w->n > 1)
		qsort(w->a, w->n, sizeof *w->a, wide_cmp);
}

void an_py_costs(const struct an_run *R, int y, size_t p, size_t *at, int64_t out[PY_NCOST])
{
	const struct py *q = &R->py[p * (size_t)R->ny + (size_t)y];
	uint64_t k0 = an_py_key(R, y, (int32_t)p, 0);
	for (int f = 0; f < PY_NCOST; f++)
		out[f] = q->cost[f];
	const struct an_wides *w = &R->pwide;
	for (; *at < w->n && w->a[*at].key < k0 + PY_NCOST; (*at)++)
		if (w->a[*at].key >= k0)
			out[w->a[*at].key - k0] += w->a[*at].pence;
}

int an_month_emergency(struct an_run *R, int32_t p, int mo)
{
	if (R->nemerg == R->cemerg) {
		size_t nc = R->cemerg ? R->cemerg * 2 : 1024;
		uint64_t *k = yoc_realloc(R->memerg, nc * sizeof *k);
		if (!k)
			return YOC_ENOMEM;
		R->memerg = k;
		R->cemerg = nc;
	}
	R->memerg[R->nemerg++] = wkey(R, p, mo);
	return YOC_OK;
}

static int u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return (a > b) - (a < b);
}

static int fail(sqlite3 *db, struct yoc_error *e)
{
	return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "person_month: %s", sqlite3_errmsg(db));
}

/* Rows per INSERT statement (as person_year's, analyse_write.c). */
#define ROWS 64

/* "INSERT INTO person_month VALUES(?,?,?),..." for n rows. */
static int prepare_rows(sqlite3 *db, int n, sqlite3_stmt **st)
{
	char sql[64 + ROWS * 10];
	size_t k = (size_t)snprintf(sql, sizeof sql, "INSERT INTO person_month VALUES");
	for (int r = 0; r < n && k < sizeof sql; r++)
		k += (size_t)snprintf(sql + k, sizeof sql - k, r ? ",(?,?,?)" : "(?,?,?)");
	return sqlite3_prepare_v2(db, sql, -1, st, NULL) == SQLITE_OK ? 0 : -1;
}

int an_month_write(struct an_run *R, sqlite3 *db, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL, *tail = NULL;
	int rc = YOC_OK, j = 0;
	/* the rows bound, not yet inserted: their blobs and lengths, person, year */
	unsigned char (*buf)[12 * REC] = yoc_malloc(ROWS * sizeof *buf);
	size_t nbuf[ROWS], who[ROWS];
	int yr[ROWS];
	char (*fy)[8] = yoc_calloc((size_t)R->ny + 1, sizeof *fy);
	if (!buf || !fy) {
		rc = yoc_error_set(e, YOC_ENOMEM, "yoc.db", 0, 0, "out of memory");
		goto cleanup;
	}
	for (int y = 0; y < R->ny; y++)
		yoc_fyear_format(R->fy0 + y, fy[y]);
	if (sqlite3_exec(db, "DROP TABLE IF EXISTS person_month;"
			     "CREATE TABLE person_month(pseudo_id TEXT NOT NULL, fyear TEXT NOT NULL,"
			     " months BLOB NOT NULL)", NULL, NULL, NULL) != SQLITE_OK ||
	    prepare_rows(db, ROWS, &st)) {
		rc = fail(db, e);
		goto cleanup;
	}
	/* both lists in write order; each read once by a cursor */
	if (R->nemerg)
		qsort(R->memerg, R->nemerg, sizeof *R->memerg, u64_cmp);
	an_wides_sort(&R->mwide);
	size_t ie = 0, iw = 0;
	for (int y = 0; y < R->ny; y++) {
		for (size_t p = 0; p < R->np; p++) {
			uint64_t k0 = ((uint64_t)y * R->np + p) * 12;
			int64_t c[12];
			uint32_t a[12] = {0};
			const int32_t *c32 = &R->mcost[(p * (size_t)R->ny + (size_t)y) * 12];
			for (int m = 0; m < 12; m++)
				c[m] = c32[m];
			for (; iw < R->mwide.n && R->mwide.a[iw].key < k0 + 12; iw++)
				if (R->mwide.a[iw].key >= k0)
					c[R->mwide.a[iw].key - k0] += R->mwide.a[iw].pence;
			for (; ie < R->nemerg && R->memerg[ie] < k0 + 12; ie++)
				if (R->memerg[ie] >= k0)
					a[R->memerg[ie] - k0]++;
			if (!R->py[p * (size_t)R->ny + (size_t)y].prac)
				continue; /* no person_year row */
			unsigned char *b = buf[j];
			size_t nb = 0;
			for (int m = 0; m < 12; m++) {
				if (!c[m] && !a[m])
					continue;
				uint64_t v = (uint64_t)c[m];
				uint32_t k = a[m];
				b[nb] = (unsigned char)m;
				for (int i = 0; i < 8; i++)
					b[nb + 1 + (size_t)i] = (unsigned char)(v >> (8 * i));
				for (int i = 0; i < 4; i++)
					b[nb + 9 + (size_t)i] = (unsigned char)(k >> (8 * i));
				nb += REC;
			}
			if (!nb)
				continue;
			/* bound as static: buf[j] is kept until the statement has run */
			sqlite3_bind_text(st, 3 * j + 1, R->persons[p].pseudo, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3 * j + 2, fy[y], -1, SQLITE_STATIC);
			sqlite3_bind_blob(st, 3 * j + 3, b, (int)nb, SQLITE_STATIC);
			nbuf[j] = nb;
			who[j] = p;
			yr[j] = y;
			if (++j == ROWS) {
				if (sqlite3_step(st) != SQLITE_DONE) {
					rc = fail(db, e);
					goto cleanup;
				}
				sqlite3_reset(st);
				j = 0;
			}
		}
	}
	if (j) { /* the last rows, fewer than ROWS: a statement of their own */
		if (prepare_rows(db, j, &tail)) {
			rc = fail(db, e);
			goto cleanup;
		}
		for (int r = 0; r < j; r++) {
			sqlite3_bind_text(tail, 3 * r + 1, R->persons[who[r]].pseudo, -1, SQLITE_STATIC);
			sqlite3_bind_text(tail, 3 * r + 2, fy[yr[r]], -1, SQLITE_STATIC);
			sqlite3_bind_blob(tail, 3 * r + 3, buf[r], (int)nbuf[r], SQLITE_STATIC);
		}
		if (sqlite3_step(tail) != SQLITE_DONE) {
			rc = fail(db, e);
			goto cleanup;
		}
	}
cleanup:
	sqlite3_finalize(st);
	sqlite3_finalize(tail);
	yoc_free(buf);
	yoc_free(fy);
	return rc;
}

/*
** Each person's months: the cost and the emergency admissions of every
** person-year month by month, added where analyse.c adds them to the
** person-year (a priced activity row in the month of its activity date, a
** spell in the month of its admission), and written as the person_month
** table inside the analysis's transaction (docs/analysis.md has the
** format). Reads nothing but what analyse.c hands it; writes nothing but
** person_month.
*/
#include <string.h>

#include "analyse/analyse_int.h"
#include "yoc/date.h"

#define REC 13 /* month (1 byte), cost (int64 LE), emergency admissions (uint32 LE) */

int an_month_begin(struct an_run *R, struct yoc_error *e)
{
	size_t n = R->np * (size_t)R->ny * 12 + 1;
	R->mcost = yoc_calloc(n, sizeof *R->mcost);
	R->memerg = yoc_calloc(n, sizeof *R->memerg);
	if (!R->mcost || !R->memerg)
		return yoc_error_set(e, YOC_ENOMEM, R->o->dir, 0, 0,
				     "out of memory (monthly figures of %zu person-years)",
				     R->np * (size_t)R->ny);
	return YOC_OK;
}

void an_month_free(struct an_run *R)
{
	yoc_free(R->mcost);
	yoc_free(R->memerg);
	R->mcost = NULL;
	R->memerg = NULL;
}

void an_month_cost(struct an_run *R, int32_t p, int mo, int64_t pence)
{
	if (pence && R->mcost)
		__atomic_fetch_add(&R->mcost[(size_t)p * (size_t)R->ny * 12 + (size_t)mo], pence,
				   __ATOMIC_RELAXED);
}

void an_month_emergency(struct an_run *R, int32_t p, int mo)
{
	if (R->memerg)
		__atomic_fetch_add(&R->memerg[(size_t)p * (size_t)R->ny * 12 + (size_t)mo], 1,
				   __ATOMIC_RELAXED);
}

static int fail(sqlite3 *db, struct yoc_error *e)
{
	return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "person_month: %s", sqlite3_errmsg(db));
}

int an_month_write(struct an_run *R, sqlite3 *db, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc = YOC_OK;
	if (sqlite3_exec(db, "DROP TABLE IF EXISTS person_month;"
			     "CREATE TABLE person_month(pseudo_id TEXT NOT NULL, fyear TEXT NOT NULL,"
			     " months BLOB NOT NULL)", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO person_month VALUES(?,?,?)", -1, &st, NULL) !=
		    SQLITE_OK)
		return fail(db, e);
	for (int y = 0; y < R->ny; y++) {
		char fy[8];
		yoc_fyear_format(R->fy0 + y, fy);
		for (size_t p = 0; p < R->np; p++) {
			if (!R->py[p * (size_t)R->ny + (size_t)y].prac)
				continue; /* no person_year row */
			const int64_t *c = &R->mcost[(p * (size_t)R->ny + (size_t)y) * 12];
			const int32_t *a = &R->memerg[(p * (size_t)R->ny + (size_t)y) * 12];
			unsigned char buf[12 * REC];
			size_t nb = 0;
			for (int m = 0; m < 12; m++) {
				if (!c[m] && !a[m])
					continue;
				uint64_t v = (uint64_t)c[m];
				uint32_t k = (uint32_t)a[m];
				buf[nb] = (unsigned char)m;
				for (int j = 0; j < 8; j++)
					buf[nb + 1 + (size_t)j] = (unsigned char)(v >> (8 * j));
				for (int j = 0; j < 4; j++)
					buf[nb + 9 + (size_t)j] = (unsigned char)(k >> (8 * j));
				nb += REC;
			}
			if (!nb)
				continue;
			sqlite3_bind_text(st, 1, R->persons[p].pseudo, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, fy, -1, SQLITE_STATIC);
			sqlite3_bind_blob(st, 3, buf, (int)nb, SQLITE_TRANSIENT);
			if (sqlite3_step(st) != SQLITE_DONE) {
				rc = fail(db, e);
				goto cleanup;
			}
			sqlite3_reset(st);
		}
	}
cleanup:
	sqlite3_finalize(st);
	return rc;
}

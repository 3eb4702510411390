/*
** The report's one pass over person_year for the year reported: every
** count and sum of the partial (struct acc, report_int.h) in one streaming
** read, and every analysed year by one grouped query. Reads one catalog;
** the merge over the shards of a sharded dataset is report_part.c's.
*/
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

const char *const yoc__set_col[NSET] = {
	"cost_elective", "cost_nonelective", "cost_daycase", "cost_outpatient",
	"cost_ae", "cost_community", "cost_mh", "cost_gp", "cost_social_care",
	"cost_ambulance"};
const char *const yoc__set_name[NSET] = {
	"Elective", "Non-elective", "Day case", "Outpatient", "A&E", "Community",
	"Mental health", "GP", "Social care", "Ambulance"};
const char *const yoc__age_name[NAGE] = {
	"0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44",
	"45-49", "50-54", "55-59", "60-64", "65-69", "70-74", "75-79", "80-84",
	"85-89", "90+"};
const char *const yoc__ltc_name[NLTC] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9+"};
const char *const yoc__phys_name[5] = {"0", "1", "2", "3", "4+"};

static int age_band(int64_t age)
{
	if (age < 0)
		age = 0;
	return age >= 90 ? NAGE - 1 : (int)(age / 5);
}

static void grp_add(struct grp *g, int64_t cost, const int64_t *set, int64_t emerg,
		    int64_t ltc, int64_t mental, int64_t age)
{
	g->n++;
	g->cost += cost;
	g->emerg += emerg;
	g->mm += ltc >= 2;
	g->mental += mental > 0;
	g->age65 += age >= 65;
	for (int k = 0; k < NSET; k++)
		g->set[k] += set[k];
}

static int sex_index(const unsigned char *s)
{
	if (!s)
		return 2;
	if (s[0] == 'F' || s[0] == 'f' || (s[0] == '2' && !s[1]))
		return 0;
	if (s[0] == 'M' || s[0] == 'm' || (s[0] == '1' && !s[1]))
		return 1;
	return 2;
}

int yoc__band_index(struct acc *a, const char *b)
{
	for (int i = 0; i < a->nband; i++)
		if (strcmp(a->band[i], b) == 0)
			return i;
	if (a->nband == MAXBAND)
		return -1;
	snprintf(a->band[a->nband], sizeof a->band[0], "%s", b);
	return a->nband++;
}

struct prac *yoc__prac_get(struct acc *a, const char *code)
{
	size_t n = strlen(code);
	uint64_t *v = yoc_map_get(&a->pmap, code, n);
	if (v)
		return &a->prac[*v];
	if (a->nprac == a->cprac) {
		size_t c = a->cprac ? a->cprac * 2 : 64;
		struct prac *p = yoc_realloc(a->prac, c * sizeof *p);
		if (!p)
			return NULL;
		a->prac = p;
		a->cprac = c;
	}
	if (yoc_map_put(&a->pmap, code, n, a->nprac, NULL))
		return NULL;
	struct prac *p = &a->prac[a->nprac++];
	memset(p, 0, sizeof *p);
	snprintf(p->code, sizeof p->code, "%s", code);
	return p;
}

/*
** The group of a person-year's practice. analyse leaves practice NULL when
** the GP register's code failed validation (docs/analysis.md): such people
** are the "practice unknown" group, counted like a practice but never shown
** as an organisation (no code, no data pack).
*/
const char yoc__unknown_label[] = "Practice unknown";

static struct prac *prac_of(struct acc *a, const char *code)
{
	int unknown = !code || !code[0];
	struct prac *p = yoc__prac_get(a, unknown ? "" : code);
	if (p && unknown)
		p->unknown = 1;
	return p;
}

int yoc__i64_cmp(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return a < b ? -1 : a > b;
}

/* Adds one person-year to every pair and triple of its conditions. */
static void cond_add(struct acc *a, const int *has, int nh, int64_t cost, const int64_t *set)
{
	size_t nc = (size_t)a->ncond;
	for (int i = 0; i < nh; i++) {
		struct cagg *g = &a->cagg[has[i]];
		g->n++;
		g->cost += cost;
		for (int k = 0; k < NSET; k++)
			g->set[k] += set[k];
		for (int j = i + 1; j < nh; j++) {
			int64_t *p = &a->pair[2 * ((size_t)has[i] * nc + (size_t)has[j])];
			p[0]++;
			p[1] += cost;
			for (int l = j + 1; l < nh; l++) {
				int64_t *t = &a->tri[2 * (((size_t)has[i] * nc + (size_t)has[j]) * nc +
							 (size_t)has[l])];
				t[0]++;
				t[1] += cost;
			}
		}
	}
}

int yoc__cond_alloc(struct acc *a)
{
	size_t nc = (size_t)a->ncond;
	a->cagg = yoc_calloc(nc ? nc : 1, sizeof *a->cagg);
	a->pair = yoc_calloc(nc * nc * 2 + 1, sizeof *a->pair);
	a->tri = yoc_calloc(nc * nc * nc * 2 + 1, sizeof *a->tri);
	return a->cagg && a->pair && a->tri ? 0 : YOC_ENOMEM;
}

/* The year's rows, one streaming read: every aggregate but the top groups
 * and the years (report_part.c). */
static int accumulate(sqlite3 *db, const char *fyear, struct acc *a, struct yoc_error *e)
{
	struct yoc_buf q;
	yoc_buf_init(&q, 0);
	yoc_buf_puts(&q, "SELECT age, sex, practice, ltc_count, mental_ltc_count, band, "
			 "emergency_admissions, cost_total, imd_decile");
	for (int k = 0; k < NSET; k++)
		yoc_buf_printf(&q, ", %s", yoc__set_col[k]);
	for (int k = 0; k < a->ncond; k++)
		yoc_buf_printf(&q, ", \"%s\"", a->cond[k]);
	yoc_buf_puts(&q, ", rowid FROM person_year WHERE fyear = ?1");
	sqlite3_stmt *st = NULL;
	int rc = 0;
	if (!q.data || sqlite3_prepare_v2(db, q.data, -1, &st, NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EDATA, "person_year", 0, 0,
				   "cannot read person_year: %s", sqlite3_errmsg(db));
		goto cleanup;
	}
	sqlite3_bind_text(st, 1, fyear, -1, SQLITE_STATIC);
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t age = sqlite3_column_int64(st, 0);
		int sx = sex_index(sqlite3_column_text(st, 1));
		const char *pr = (const char *)sqlite3_column_text(st, 2);
		int64_t ltc = sqlite3_column_int64(st, 3);
		int64_t ment = sqlite3_column_int64(st, 4);
		const char *bd = (const char *)sqlite3_column_text(st, 5);
		int64_t emerg = sqlite3_column_int64(st, 6);
		int64_t cost = sqlite3_column_int64(st, 7);
		int d = NDEC - 1;
		if (sqlite3_column_type(st, 8) != SQLITE_NULL) {
			int64_t v = sqlite3_column_int64(st, 8);
			if (v >= 1 && v <= 10)
				d = (int)v - 1;
		}
		int64_t set[NSET];
		for (int k = 0; k < NSET; k++) {
			set[k] = sqlite3_column_int64(st, 9 + k);
			a->set_people[k] += set[k] != 0;
		}
		int has[64], nh = 0;
		for (int k = 0; k < a->ncond; k++)
			if (sqlite3_column_int64(st, 9 + NSET + k))
				has[nh++] = k;
		cond_add(a, has, nh, cost, set);
		int ab = age_band(age), lg = ltc >= 9 ? 9 : (int)(ltc < 0 ? 0 : ltc);
		int mg = ltc >= 5 ? 4 : ltc >= 3 ? 3 : (int)(ltc < 0 ? 0 : ltc);
		int64_t phys = ltc - ment;
		int pg = phys >= 4 ? 4 : (int)(phys < 0 ? 0 : phys);
		int mtg = ment >= 2 ? 2 : (int)(ment < 0 ? 0 : ment);
		if (a->ntrow == a->ctrow) {
			size_t nc = a->ctrow ? a->ctrow * 2 : 4096;
			struct trow *t = yoc_realloc(a->trow, nc * sizeof *t);
			if (!t) {
				rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
				goto cleanup;
			}
			a->trow = t;
			a->ctrow = nc;
		}
		struct trow *tr = &a->trow[a->ntrow++];
		tr->cost = cost;
		tr->ltc = ltc;
		tr->rowid = sqlite3_column_int64(st, 9 + NSET + a->ncond);
		tr->used = 0;
		for (int k = 0; k < NSET; k++)
			tr->used |= (uint16_t)((set[k] != 0) << k);
		tr->emerg = emerg > 0;
		/* the broad age groups of concentration.html: NULL reads as 0 */
		tr->age = age < 18 ? 0 : age <= 64 ? 1 : age <= 74 ? 2 : age <= 84 ? 3 : 4;
		int bi = yoc__band_index(a, bd ? bd : "?");
		if (bi < 0) {
			rc = yoc_error_set(e, YOC_EDATA, "person_year", 0, 0,
					   "more than %d currency bands", MAXBAND);
			goto cleanup;
		}
		grp_add(&a->all, cost, set, emerg, ltc, ment, age);
		grp_add(&a->ltc[lg], cost, set, emerg, ltc, ment, age);
		grp_add(&a->bandg[bi], cost, set, emerg, ltc, ment, age);
		a->pop[ab][sx]++;
		a->mm[ab][mg]++;
		a->pm[pg][mtg]++;
		a->pm_cost[pg][mtg] += cost;
		a->age_cost[ab] += cost;
		a->sumsq += (__int128)cost * cost;
		a->as_cost[ab][sx] += cost;
		a->as_sq[ab][sx] += (__int128)cost * cost;
		a->as_emerg[ab][sx] += emerg;
		a->as_mm[ab][sx] += ltc >= 2;
		struct dcell *x = &a->dep[d][ab * 3 + sx];
		int64_t y[NDMEAS] = {cost, ltc > 0, emerg};
		x->n++;
		for (int m = 0; m < NDMEAS; m++)
			x->y[m] += y[m];
		if (a->bandg[bi].n > (int64_t)a->bcap[bi]) {
			size_t nc = a->bcap[bi] ? a->bcap[bi] * 2 : 1024;
			int64_t *p = yoc_realloc(a->bcost[bi], nc * sizeof *p);
			if (!p) {
				rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
				goto cleanup;
			}
			a->bcost[bi] = p;
			a->bcap[bi] = nc;
		}
		a->bcost[bi][a->bandg[bi].n - 1] = cost;
		struct prac *p = prac_of(a, pr);
		if (!p) {
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			goto cleanup;
		}
		grp_add(&p->all, cost, set, emerg, ltc, ment, age);
		p->pop[ab][sx]++;
		p->ltc[lg]++;
		p->band[bi]++;
	}
	if (s != SQLITE_DONE)
		rc = yoc_error_set(e, YOC_EDATA, "person_year", 0, 0, "reading person_year: %s",
				   sqlite3_errmsg(db));
cleanup:
	sqlite3_finalize(st);
	yoc_buf_free(&q);
	return rc;
}

/* A year met by yoc__part_years: its name (as stored) and sums. */
struct yrow {
	char *name;
	size_t len;
	struct ygrp g;
};

static int yrow_cmp(const void *x, const void *y)
{
	/* SQLite's BINARY collation: bytes, then the shorter first */
	const struct yrow *a = x, *b = y;
	int c = memcmp(a->name, b->name, a->len < b->len ? a->len : b->len);
	return c ? c : (a->len > b->len) - (a->len < b->len);
}

int yoc__part_years(sqlite3 *db, const char *dbpath, struct ygrp *year, int *nyear,
		    char *latest, struct yoc_error *e)
{
	struct yoc_buf q;
	struct yoc_map m;
	struct yrow *y = NULL;
	size_t ny = 0, cy = 0, last = 0;
	sqlite3_stmt *st = NULL;
	int rc = 0, s;
	*nyear = 0;
	if (latest)
		latest[0] = 0;
	yoc_buf_init(&q, 0);
	yoc_buf_puts(&q, "SELECT fyear, ltc_count, cost_total");
	for (int k = 0; k < NSET; k++)
		yoc_buf_printf(&q, ", %s", yoc__set_col[k]);
	yoc_buf_puts(&q, " FROM person_year");
	if (yoc_map_init(&m, 64) || !q.data) {
		yoc_buf_free(&q);
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	}
	if (sqlite3_prepare_v2(db, q.data, -1, &st, NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EDATA, dbpath, 0, 0,
				   "no person_year table (run yoc analyse first): %s",
				   sqlite3_errmsg(db));
		goto cleanup;
	}
	/* rows come in year order (analyse writes them so): the year of the
	 * row before is tried first, the map only when the year changes */
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *fy = (const char *)sqlite3_column_text(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		if (!fy) {
			fy = "";
			n = 0;
		}
		if (!ny || y[last].len != n || memcmp(y[last].name, fy, n) != 0) {
			uint64_t *v = yoc_map_get(&m, fy, n);
			if (v) {
				last = (size_t)*v;
			} else {
				if (ny == cy) {
					size_t nc = cy ? cy * 2 : 8;
					struct yrow *t = yoc_realloc(y, nc * sizeof *t);
					if (!t)
						goto oom;
					y = t;
					cy = nc;
				}
				memset(&y[ny], 0, sizeof y[ny]);
				if (!(y[ny].name = yoc_strndup(fy, n)) || yoc_map_put(&m, fy, n, ny, NULL)) {
					yoc_free(y[ny].name);
					goto oom;
				}
				y[ny].len = n;
				last = ny++;
			}
		}
		struct ygrp *g = &y[last].g;
		int64_t ltc = sqlite3_column_int64(st, 1);
		g->n++;
		g->ltc1 += ltc > 0;
		g->ltc2 += ltc >= 2;
		g->cost += sqlite3_column_int64(st, 2);
		for (int k = 0; k < NSET; k++)
			g->set[k] += sqlite3_column_int64(st, 3 + k);
	}
	if (s != SQLITE_DONE) {
		rc = yoc_error_set(e, YOC_EDATA, dbpath, 0, 0, "reading person_year: %s",
				   sqlite3_errmsg(db));
		goto cleanup;
	}
	if (ny)
		qsort(y, ny, sizeof *y, yrow_cmp);
	for (size_t i = 0; i < ny && i < MAXY; i++) {
		year[i] = y[i].g;
		snprintf(year[i].fyear, sizeof year[i].fyear, "%s", y[i].name);
	}
	*nyear = ny < MAXY ? (int)ny : MAXY;
	if (ny && latest)
		snprintf(latest, 16, "%s", y[ny - 1].name);
	goto cleanup;
oom:
	rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
cleanup:
	for (size_t i = 0; i < ny; i++)
		yoc_free(y[i].name);
	yoc_free(y);
	yoc_map_free(&m);
	sqlite3_finalize(st);
	yoc_buf_free(&q);
	return rc;
}

int yoc__part_scan(sqlite3 *db, const char *fyear, struct acc *a, struct yoc_error *e)
{
	memset(a, 0, sizeof *a);
	if (yoc_map_init(&a->pmap, 256))
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	a->ncond = yoc__conditions(db, a->cond, NULL, 64);
	if (yoc__cond_alloc(a))
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	int rc = accumulate(db, fyear, a, e);
	/* each band's costs sorted here, on the shard's own rank: rank 0
	 * merges sorted runs (yoc__part_finish) */
	for (int b = 0; !rc && b < a->nband; b++)
		qsort(a->bcost[b], (size_t)a->bandg[b].n, sizeof(int64_t), yoc__i64_cmp);
	return rc;
}

void yoc__acc_free(struct acc *a)
{
	for (int i = 0; i < MAXBAND; i++) {
		yoc_free(a->bcost[i]);
		yoc_free(a->brun[i]);
	}
	yoc_free(a->prac);
	yoc_map_free(&a->pmap);
	yoc_free(a->cagg);
	yoc_free(a->pair);
	yoc_free(a->tri);
	yoc_free(a->allc);
	yoc_free(a->trow);
	memset(a, 0, sizeof *a);
}

void yoc__report_free(struct report *R)
{
	yoc__packs_free(R);
	yoc__compare_free(R);
	yoc_free(R->caveats);
	R->caveats = NULL;
	yoc__acc_free(&R->a);
}

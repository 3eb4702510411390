/*
** The report's one pass over person_year for the year reported: every
** aggregate of struct report (report_int.h) in one streaming read.
*/
#include <sqlite3.h>
#include <stdio.h>
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

static int band_index(struct acc *a, const char *b)
{
	for (int i = 0; i < a->nband; i++)
		if (strcmp(a->band[i], b) == 0)
			return i;
	if (a->nband == MAXBAND)
		return -1;
	snprintf(a->band[a->nband], sizeof a->band[0], "%s", b);
	return a->nband++;
}

static struct prac *prac_get(struct acc *a, const char *code)
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
	struct prac *p = prac_get(a, unknown ? "" : code);
	if (p && unknown)
		p->unknown = 1;
	return p;
}

int yoc__i64_cmp(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return a < b ? -1 : a > b;
}

static int accumulate(sqlite3 *db, const char *fyear, struct acc *a, struct yoc_error *e)
{
	struct yoc_buf q;
	yoc_buf_init(&q, 0);
	yoc_buf_puts(&q, "SELECT age, sex, practice, ltc_count, mental_ltc_count, band, "
			 "emergency_admissions, cost_total");
	for (int k = 0; k < NSET; k++)
		yoc_buf_printf(&q, ", %s", yoc__set_col[k]);
	yoc_buf_puts(&q, " FROM person_year WHERE fyear = ?1");
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
		int64_t set[NSET];
		for (int k = 0; k < NSET; k++) {
			set[k] = sqlite3_column_int64(st, 8 + k);
			a->set_people[k] += set[k] != 0;
		}
		int ab = age_band(age), lg = ltc >= 9 ? 9 : (int)(ltc < 0 ? 0 : ltc);
		int mg = ltc >= 5 ? 4 : ltc >= 3 ? 3 : (int)(ltc < 0 ? 0 : ltc);
		int64_t phys = ltc - ment;
		int pg = phys >= 4 ? 4 : (int)(phys < 0 ? 0 : phys);
		int mtg = ment >= 2 ? 2 : (int)(ment < 0 ? 0 : ment);
		int bi = band_index(a, bd ? bd : "?");
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
		long double c = (long double)cost;
		a->age_sum[ab] += c;
		a->ltc_sum[lg] += c;
		a->band_sum[bi] += c;
		a->sum += c;
		a->sumsq += c * c;
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

int yoc__accumulate(sqlite3 *db, struct report *R, struct yoc_error *e)
{
	/* bands in name order, before any row decides it */
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT band FROM person_year WHERE fyear = ?1 "
			       "ORDER BY band", -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, R->fyear, -1, SQLITE_STATIC);
		while (sqlite3_step(q) == SQLITE_ROW)
			band_index(&R->a, sqlite3_column_text(q, 0)
				   ? (const char *)sqlite3_column_text(q, 0) : "?");
	}
	sqlite3_finalize(q);
	return accumulate(db, R->fyear, &R->a, e);
}

void yoc__report_free(struct report *R)
{
	yoc__packs_free(R);
	yoc__compare_free(R);
	yoc_free(R->caveats);
	R->caveats = NULL;
	for (int i = 0; i < MAXBAND; i++)
		yoc_free(R->a.bcost[i]);
	yoc_free(R->a.prac);
	yoc_map_free(&R->a.pmap);
}

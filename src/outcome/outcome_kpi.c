/*
** yoc_kpi_run (kpi.h): the KPI dashboard. Steps:
**   1. the months: --from/--to, else the first and last month of the
**      current APC and social care files' periods;
**   2. the population of each month: people registered on its first day
**      (the person table: REG_START on or before, no REG_END before, not
**      dead), and with --cohort on the cohort register that day; ages
**      from the birth month;
**   3. hospital spells: every current APC episode of a linked person is
**      grouped and priced by src/cost as yoc analyse does; each spell adds
**      to the month of its admission (admissions) or discharge (length of
**      stay, excess bed days, delays, day of the week), when the person is
**      in the population the KPI counts (with --cohort: a member that day);
**   4. social care: the first permanent residential or nursing placement of
**      each person (ASCOF 2A), reablement packages by the month of the
**      hospital discharge they followed (ASCOF 2B(1));
**   5. care plans and PAM results (feeds careplan and pam);
**   6. each KPI's chart (yoc_spc_chart) and rolling 12 months; the kpi_*
**      tables replaced in one transaction.
** A KPI whose fields the dataset lacks is written with available 0 and the
** reason; its months are not written.
*/
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cohort/cohort.h"
#include "cost/cost.h"
#include "outcome/kpi.h"
#include "stats/stats.h"
#include "yoc/csv.h"
#include "yoc/date.h"

enum {
	K_2A_65, K_2A_18_64, K_NE_ADM, K_NE_ADM_T, K_NE_LOS, K_NE_LOS_T, K_EXCESS, K_DTOC_DAYS,
	K_DTOC_SHARE, K_WEEKEND, K_2B1, K_PLAN_COVER, K_PLAN_OVERDUE, K_PAM12, NKPI
};

#define U YOC_SPC_UCHART
#define P YOC_SPC_PCHART
#define X YOC_SPC_XMR
static const struct yoc_kpi_def defs[NKPI] = {
	{"ascof2a_65", "Permanent admissions to residential and nursing care, 65+ (ASCOF 2A(2))",
	 "People aged 65+ whose first permanent residential or nursing placement starts in the "
	 "month, per 100,000 people aged 65+ registered on the month's first day (counted once per "
	 "person, in the month of their first permanent placement)",
	 "people 65+ starting their first permanent placement", "people 65+ registered",
	 "social_care: SERVICE_TYPE, PLACEMENT, PACKAGE_START (else START_DATE)", U, -1, 1e5,
	 "per 100,000", NAN, YOC_KPI_R12_POPULATION},
	{"ascof2a_18_64", "Permanent admissions to residential and nursing care, 18-64 (ASCOF 2A(1))",
	 "As ASCOF 2A(2) for people aged 18-64", "people 18-64 starting their first permanent "
	 "placement", "people 18-64 registered",
	 "social_care: SERVICE_TYPE, PLACEMENT, PACKAGE_START (else START_DATE)", U, -1, 1e5,
	 "per 100,000", NAN, YOC_KPI_R12_POPULATION},
	{"ne_admissions", "Non-elective admissions", "Emergency and other non-elective spells "
	 "admitted in the month (first episode EPIORDER 1), per 1,000 registered people",
	 "non-elective admissions", "people registered", "apc spells (src/cost grouping)", U, -1,
	 1e3, "per 1,000", NAN, YOC_KPI_R12_POPULATION},
	{"ne_admissions_targeted", "Non-elective admissions, targeted HRGs", "Non-elective "
	 "admissions whose spell HRG (the dominant episode's) starts with a code of "
	 "data/kpi_targeted_hrg.csv, per 1,000 registered people", "targeted non-elective "
	 "admissions", "people registered", "apc spells; data/kpi_targeted_hrg.csv", U, -1, 1e3,
	 "per 1,000", NAN, YOC_KPI_R12_POPULATION},
	{"ne_alos", "Average length of stay, non-elective", "Bed days (DISDATE - ADMIDATE) of the "
	 "non-elective spells discharged in the month over those spells", "bed days",
	 "non-elective spells discharged", "apc spells", X, -1, 1, "days", NAN, YOC_KPI_R12_SUM},
	{"ne_alos_targeted", "Average length of stay, non-elective, targeted HRGs", "As the average "
	 "length of stay, for spells with a targeted HRG", "bed days", "targeted non-elective "
	 "spells discharged", "apc spells; data/kpi_targeted_hrg.csv", X, -1, 1, "days", NAN, YOC_KPI_R12_SUM},
	{"excess_bed_days", "Excess bed days beyond the HRG trim point", "Days beyond the trim "
	 "point of the spell HRG (data/apc_trim_points.csv) of the elective and non-elective "
	 "spells discharged in the month, as a share of their bed days", "excess bed days",
	 "bed days of spells with a trim point", "apc spells; data/apc_trim_points.csv", P, -1, 100,
	 "% of bed days", NAN, YOC_KPI_R12_SUM},
	{"dtoc_days", "Delayed transfers of care: days per discharge", "Days between the "
	 "discharge ready date and the discharge (DISDATE - DISREADYDATE when positive) of the "
	 "spells discharged in the month, over the spells with a ready date on or before "
	 "discharge", "delayed days", "spells with a discharge ready date",
	 "apc: DISREADYDATE, DISDATE", X, -1, 1, "days per discharge", NAN, YOC_KPI_R12_SUM},
	{"dtoc_share", "Delayed transfers of care: share of discharges delayed", "Spells "
	 "discharged after their discharge ready date over the spells with a ready date",
	 "delayed discharges", "spells with a discharge ready date", "apc: DISREADYDATE, DISDATE",
	 P, -1, 100, "%", NAN, YOC_KPI_R12_SUM},
	{"weekend_discharges", "Discharges at weekends (spread across seven days)", "Overnight "
	 "spells (not day cases) discharged on a Saturday or Sunday over all discharged in the "
	 "month; an even spread over seven days gives 2/7", "weekend discharges", "discharges",
	 "apc spells: DISDATE", P, 1, 100, "%", 200.0 / 7, YOC_KPI_R12_SUM},
	{"ascof2b1", "At home 91 days after discharge into reablement (ASCOF 2B(1))", "People "
	 "65+ discharged from hospital into reablement in the month who were at home 91 days "
	 "after the discharge, over all discharged into reablement whose 91 days had passed by "
	 "the end of the months reported (target 65%)", "at home "
	 "after 91 days", "discharged into reablement",
	 "social_care: REABLEMENT, HOSP_DISCHARGE, PLACE_91D", P, 1, 100, "%", 65, YOC_KPI_R12_SUM},
	{"careplan_coverage", "People with a care and support plan", "People in the population "
	 "(registered, or the cohort's members) on the month's first day with a plan created by "
	 "the month's end", "people with a plan", "people", "careplan: PLAN rows, CREATED", P, 1,
	 100, "%", NAN, YOC_KPI_R12_MEAN},
	{"careplan_overdue", "Care plan reviews overdue", "Plans whose next review (the latest "
	 "PLAN row by the month's end) fell before the month's end with no review since, over "
	 "the plans known by then", "plans overdue", "plans", "careplan: PLAN rows, NEXT_REVIEW, "
	 "LAST_REVIEW", P, -1, 100, "%", NAN, YOC_KPI_R12_MEAN},
	{"pam_level12", "Patient activation: results at level 1 or 2", "PAM results in the month "
	 "at level 1 or 2 (score 55.1 or less) over all results in the month", "results at level "
	 "1-2", "PAM results", "pam: PAM_SCORE, PAM_DATE", P, -1, 100, "%", NAN, YOC_KPI_R12_SUM},
};
#undef U
#undef P
#undef X

const char *yoc_kpi_rolling_name(int rolling)
{
	return rolling == YOC_KPI_R12_POPULATION ? "population"
	       : rolling == YOC_KPI_R12_MEAN ? "mean" : "sum";
}

const struct yoc_kpi_def *yoc_kpi_defs(size_t *n)
{
	*n = NKPI;
	return defs;
}

struct kpi {
	int available;
	char reason[160];
	int64_t num[YOC_KPI_MAX_MONTHS], den[YOC_KPI_MAX_MONTHS];
	size_t steps[8];
	size_t nsteps;
};

struct member {
	int32_t p, join, leave;
};

struct run {
	yoc_store *s;
	sqlite3 *db;
	const struct yoc_kpi_opts *o;
	struct yoc_error *e;
	int m0, nm;                      /* first month (y * 12 + m - 1), months */
	const struct yoc_person *pers;
	size_t np;
	struct member *mem;              /* the cohort's register rows, by person */
	size_t nmem;
	int32_t *mfirst;                 /* np + 1 offsets into mem; NULL without a cohort */
	char (*hrg)[8];                  /* targeted HRG prefixes */
	size_t nhrg;
	char hrg_version[32];
	int32_t *prac_of;                /* practice index of each person, -1 none */
	const char **prac;               /* practice codes (the person table's) */
	int nprac;
	int64_t *pk;                     /* [prac][kpi][month][num, den] */
	int64_t dow[7];
	int64_t pam_x[4][4], pam_people;
	double pam_change;
	struct kpi k[NKPI];
};

static int month_index(int32_t d)
{
	int y, m, dd;
	yoc_date_to_ymd(d, &y, &m, &dd);
	return y * 12 + m - 1;
}

/* "YYYY-MM" of a month index into b (16 bytes). */
static char *month_text(int mi, char *b)
{
	snprintf(b, 16, "%04d-%02d", (mi / 12) % 10000, mi % 12 + 1);
	return b;
}

static int32_t month_start(int mi)
{
	return yoc_date_from_ymd(mi / 12, mi % 12 + 1, 1);
}

/* Month slot of a date in the window, or -1. */
static int slot(const struct run *R, int32_t d)
{
	if (d <= YOC_DATE_HES_INVALID)
		return -1;
	int i = month_index(d) - R->m0;
	return i >= 0 && i < R->nm ? i : -1;
}

static int parse_month(const char *s, int *mi)
{
	int y, m;
	char c;
	if (!s || strlen(s) != 7 || s[4] != '-' || sscanf(s, "%4d-%2d%c", &y, &m, &c) != 2 ||
	    m < 1 || m > 12 || y < 1900 || y > 2200)
		return -1;
	*mi = y * 12 + m - 1;
	return 0;
}

static int age_at(const struct yoc_person *p, int32_t d)
{
	if (p->birth_year <= 0)
		return -1;
	int y, m, dd;
	yoc_date_to_ymd(d, &y, &m, &dd);
	int bm = p->birth_month > 0 ? p->birth_month : 1;
	return y - p->birth_year - (m < bm ? 1 : 0);
}

static int registered(const struct yoc_person *p, int32_t d)
{
	if (p->reg_start <= YOC_DATE_HES_INVALID || p->reg_start > d)
		return 0;
	if (p->reg_end > YOC_DATE_HES_INVALID && p->reg_end < d)
		return 0;
	return !(p->dod > YOC_DATE_HES_INVALID && p->dod <= d);
}

/* In the population the KPIs count on day d: with a cohort, a member that day. */
static int in_scope(const struct run *R, int32_t p, int32_t d)
{
	if (p < 0 || (size_t)p >= R->np)
		return 0;
	if (!R->mfirst)
		return 1;
	for (int32_t i = R->mfirst[p]; i < R->mfirst[p + 1]; i++)
		if (R->mem[i].join <= d && (R->mem[i].leave <= YOC_DATE_HES_INVALID ||
					    R->mem[i].leave >= d))
			return 1;
	return 0;
}

/* Adds to KPI k in month i, and to the practice of person p. */
static void add(struct run *R, int k, int i, int32_t p, int64_t num, int64_t den)
{
	if (i < 0)
		return;
	R->k[k].num[i] += num;
	R->k[k].den[i] += den;
	int pr = R->prac_of && p >= 0 ? R->prac_of[p] : -1;
	if (pr >= 0) {
		int64_t *c = &R->pk[(((size_t)pr * NKPI + (size_t)k) * (size_t)R->nm + (size_t)i) * 2];
		c[0] += num;
		c[1] += den;
	}
}

static void unavailable(struct run *R, int k, const char *why)
{
	R->k[k].available = 0;
	snprintf(R->k[k].reason, sizeof R->k[k].reason, "not available in this dataset: %s", why);
}

/* ---- 1, 2: months, cohort, population ----------------------------------- */

static int find_months(struct run *R)
{
	const struct yoc_kpi_opts *o = R->o;
	int a = 0, b = 0;
	if (o->from && parse_month(o->from, &a))
		return yoc_error_set(R->e, YOC_EINVAL, "--from", 1, 1,
				     "'%s' is not a month: give YYYY-MM, e.g. 2022-04", o->from);
	if (o->to && parse_month(o->to, &b))
		return yoc_error_set(R->e, YOC_EINVAL, "--to", 1, 1,
				     "'%s' is not a month: give YYYY-MM, e.g. 2023-03", o->to);
	if (!o->from || !o->to) {
		sqlite3_stmt *st = NULL;
		int lo = -1, hi = -1;
		if (sqlite3_prepare_v2(R->db, "SELECT period FROM current_files WHERE kind IN "
				       "('apc', 'social_care')", -1, &st, NULL) != SQLITE_OK)
			return yoc_error_set(R->e, YOC_EDATA, yoc_store_dir(R->s), 0, 0,
					     "cannot read the files: %s", sqlite3_errmsg(R->db));
		while (sqlite3_step(st) == SQLITE_ROW) {
			int mi;
			const char *p = (const char *)sqlite3_column_text(st, 0);
			if (parse_month(p, &mi))
				continue;
			lo = lo < 0 || mi < lo ? mi : lo;
			hi = mi > hi ? mi : hi;
		}
		sqlite3_finalize(st);
		if (lo < 0)
			return yoc_error_set(R->e, YOC_EDATA, yoc_store_dir(R->s), 0, 0,
					     "no APC or social care file with a month in its name "
					     "(PROVIDER_YYYY-MM.csv) is loaded; give --from and --to");
		if (!o->from)
			a = lo;
		if (!o->to)
			b = hi;
	}
	if (b < a)
		return yoc_error_set(R->e, YOC_EINVAL, "--to", 1, 1,
				     "the last month (%04d-%02d) is before the first (%04d-%02d)",
				     b / 12, b % 12 + 1, a / 12, a % 12 + 1);
	if (b - a + 1 > YOC_KPI_MAX_MONTHS)
		return yoc_error_set(R->e, YOC_EINVAL, "--from", 1, 1,
				     "at most %d months can be reported", YOC_KPI_MAX_MONTHS);
	R->m0 = a;
	R->nm = b - a + 1;
	return YOC_OK;
}

static int load_cohort(struct run *R)
{
	const char *name = R->o->cohort;
	if (!name)
		return YOC_OK;
	sqlite3_stmt *st = NULL;
	int found = 0;
	if (sqlite3_prepare_v2(R->db, "SELECT 1 FROM cohort_def WHERE name = ?", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	if (!found)
		return yoc_error_set(R->e, YOC_ENOTFOUND, "--cohort", 1, 1,
				     "no cohort named '%s' (see yoc cohort list)", name);
	struct yoc_cohort_member *m = NULL;
	size_t n = 0;
	int rc = yoc_cohort_register_all(R->db, name, &m, &n, R->e);
	if (rc)
		return rc;
	R->mem = yoc_calloc(n + 1, sizeof *R->mem);
	R->mfirst = yoc_calloc(R->np + 2, sizeof *R->mfirst);
	if (!R->mem || !R->mfirst) {
		yoc_free(m);
		return yoc_error_set(R->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	}
	/* counting sort of the register rows by person */
	int32_t *pi = yoc_calloc(n + 1, sizeof *pi);
	if (!pi) {
		yoc_free(m);
		return yoc_error_set(R->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		pi[i] = yoc_store_person_index(R->s, m[i].pseudo, strlen(m[i].pseudo));
		if (pi[i] >= 0)
			R->mfirst[pi[i] + 1]++;
	}
	for (size_t p = 0; p < R->np; p++)
		R->mfirst[p + 1] += R->mfirst[p];
	int32_t *fill = yoc_calloc(R->np + 1, sizeof *fill);
	if (!fill) {
		yoc_free(pi);
		yoc_free(m);
		return yoc_error_set(R->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		if (pi[i] < 0)
			continue;
		struct member *x = &R->mem[R->mfirst[pi[i]] + fill[pi[i]]++];
		x->p = pi[i];
		x->join = m[i].join;
		x->leave = m[i].leave;
	}
	R->nmem = n;
	yoc_free(fill);
	yoc_free(pi);
	yoc_free(m);
	return YOC_OK;
}

static void population(struct run *R)
{
	for (int i = 0; i < R->nm; i++) {
		int32_t d = month_start(R->m0 + i);
		for (size_t p = 0; p < R->np; p++) {
			const struct yoc_person *q = &R->pers[p];
			if (!registered(q, d) || !in_scope(R, (int32_t)p, d))
				continue;
			int a = age_at(q, d);
			int32_t pp = (int32_t)p;
			add(R, K_NE_ADM, i, pp, 0, 1);
			add(R, K_NE_ADM_T, i, pp, 0, 1);
			add(R, K_PLAN_COVER, i, pp, 0, 1);
			if (a >= 65)
				add(R, K_2A_65, i, pp, 0, 1);
			else if (a >= 18)
				add(R, K_2A_18_64, i, pp, 0, 1);
		}
	}
}

/* The practices of the person table (each person's current practice). */
static int practices(struct run *R)
{
	struct yoc_map m;
	if (yoc_map_init(&m, 64))
		return yoc_error_set(R->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	int rc = YOC_OK;
	R->prac_of = yoc_malloc((R->np + 1) * sizeof *R->prac_of);
	R->prac = yoc_calloc(R->np + 1, sizeof *R->prac);
	if (!R->prac_of || !R->prac)
		rc = yoc_error_set(R->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	for (size_t p = 0; !rc && p < R->np; p++) {
		const char *code = R->pers[p].practice;
		size_t n = strlen(code);
		R->prac_of[p] = -1;
		if (n == 0)
			continue;
		uint64_t *v = yoc_map_get(&m, code, n);
		if (!v) {
			if (yoc_map_put(&m, code, n, (uint64_t)R->nprac, NULL)) {
				rc = yoc_error_set(R->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
				break;
			}
			R->prac[R->nprac] = code;
			R->prac_of[p] = R->nprac++;
		} else {
			R->prac_of[p] = (int32_t)*v;
		}
	}
	yoc_map_free(&m);
	if (!rc && R->nprac &&
	    !(R->pk = yoc_calloc((size_t)R->nprac * NKPI * (size_t)R->nm * 2, sizeof *R->pk)))
		rc = yoc_error_set(R->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	if (rc || !R->pk) {
		yoc_free(R->prac_of);
		R->prac_of = NULL;
	}
	return rc;
}

/* ---- segments by kind name ---------------------------------------------- */

/* Current files of a kind, by name (kinds the spec may not know yet). */
static int files_of(struct run *R, const char *kind, int64_t **ids, size_t *n)
{
	sqlite3_stmt *st = NULL;
	*ids = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(R->db, "SELECT file_id FROM current_files WHERE kind = ? "
			       "ORDER BY file_id", -1, &st, NULL) != SQLITE_OK)
		return yoc_error_set(R->e, YOC_EDATA, yoc_store_dir(R->s), 0, 0,
				     "cannot read the files: %s", sqlite3_errmsg(R->db));
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	size_t cap = 0;
	int rc = YOC_OK;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			int64_t *g = yoc_realloc(*ids, cap * sizeof *g);
			if (!g) {
				rc = yoc_error_set(R->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
				break;
			}
			*ids = g;
		}
		(*ids)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return rc;
}

static int32_t date_of(const yoc_seg *g, int col, size_t r)
{
	if (col < 0)
		return YOC_DATE_NONE;
	if (yoc_seg_col_type(g, col) == YOC_COL_DATE)
		return yoc_seg_date(g, col, r);
	struct yoc_cell c = yoc_seg_text(g, col, r);
	int32_t d;
	if (c.n == 0 || yoc_date_parse(c.p, c.n, &d) < 0)
		return YOC_DATE_NONE;
	return d;
}

static int is(struct yoc_cell c, const char *s)
{
	while (c.n && c.p[0] == ' ') {
		c.p++;
		c.n--;
	}
	while (c.n && c.p[c.n - 1] == ' ')
		c.n--;
	return c.n == strlen(s) && strncasecmp(c.p, s, c.n) == 0;
}

static int64_t int_of(const yoc_seg *g, int col, size_t r)
{
	if (col < 0)
		return YOC_INT_NONE;
	int t = yoc_seg_col_type(g, col);
	if (t == YOC_COL_INT || t == YOC_COL_MONEY)
		return yoc_seg_int(g, col, r);
	struct yoc_cell c = yoc_seg_text(g, col, r);
	char b[24];
	if (c.n == 0 || c.n >= sizeof b)
		return YOC_INT_NONE;
	memcpy(b, c.p, c.n);
	b[c.n] = 0;
	char *end;
	long long v = strtoll(b, &end, 10);
	return *end ? YOC_INT_NONE : v;
}

/* ---- 3: hospital spells --------------------------------------------------- */

static int targeted(const struct run *R, struct yoc_cell h)
{
	for (size_t i = 0; i < R->nhrg; i++) {
		size_t n = strlen(R->hrg[i]);
		if (h.n >= n && strncasecmp(h.p, R->hrg[i], n) == 0)
			return 1;
	}
	return 0;
}

static int load_hrg_list(struct run *R)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/kpi_targeted_hrg.csv", R->o->data_dir);
	yoc_csv *cr = NULL;
	int rc = yoc_csv_open(&cr, path, NULL, R->e);
	if (rc)
		return rc;
	struct yoc_csv_row row;
	size_t cap = 0;
	while ((rc = yoc_csv_next(cr, &row, R->e)) > 0) {
		const struct yoc_cell *c = row.cells;
		if (row.ncells < 4 || c[0].n == 0 || c[0].n >= sizeof R->hrg[0]) {
			rc = yoc_error_set(R->e, YOC_EPARSE, path, row.line, 1,
					   "expected hrg,description,reason,version with an HRG of "
					   "1-7 characters");
			break;
		}
		if (R->nhrg == cap) {
			cap = cap ? cap * 2 : 16;
			char(*g)[8] = yoc_realloc(R->hrg, cap * sizeof *g);
			if (!g) {
				rc = yoc_error_set(R->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
				break;
			}
			R->hrg = g;
		}
		memcpy(R->hrg[R->nhrg], c[0].p, c[0].n);
		R->hrg[R->nhrg++][c[0].n] = 0;
		snprintf(R->hrg_version, sizeof R->hrg_version, "%.*s", (int)c[3].n, c[3].p);
	}
	yoc_csv_close(cr);
	return rc < 0 ? rc : YOC_OK;
}

static void spell(struct run *R, const struct yoc_spell_view *v, const struct yoc_spell_price *sp,
		  const int32_t *ready, int has_ready)
{
	int32_t p = (int32_t)v->owner;
	int ne = sp->type == YOC_SPELL_EMERGENCY || sp->type == YOC_SPELL_OTHER_NE;
	int tg = ne && targeted(R, v->epi[sp->dominant].sushrg);
	/* admissions, in the month of admission */
	int ia = slot(R, sp->admitted);
	if (ne && sp->admission && ia >= 0 && in_scope(R, p, sp->admitted)) {
		add(R, K_NE_ADM, ia, p, 1, 0);
		if (tg)
			add(R, K_NE_ADM_T, ia, p, 1, 0);
	}
	/* discharges, in the month of discharge */
	int32_t dd = sp->discharged;
	int id = dd > YOC_SPELL_NODATE ? slot(R, dd) : -1;
	if (id < 0 || !in_scope(R, p, dd))
		return;
	if (ne) {
		add(R, K_NE_LOS, id, p, sp->los, 1);
		if (tg)
			add(R, K_NE_LOS_T, id, p, sp->los, 1);
	}
	if (sp->trim >= 0 && sp->type != YOC_SPELL_DAYCASE)
		add(R, K_EXCESS, id, p, sp->excess_days, sp->los);
	if (sp->type != YOC_SPELL_DAYCASE) {
		int wd = (int)(((int64_t)dd % 7 + 7 + 3) % 7); /* 0 Monday (day 0 is 1970-01-01, a Thursday) */
		R->dow[wd]++;
		add(R, K_WEEKEND, id, p, wd >= 5, 1);
	}
	if (has_ready) {
		/* the spell's ready date (the same on every episode): the last one given */
		int32_t rd = YOC_DATE_NONE;
		for (size_t i = v->n; i-- > 0 && rd <= YOC_DATE_HES_INVALID;)
			rd = ready[i];
		if (rd > YOC_DATE_HES_INVALID && rd <= dd) {
			add(R, K_DTOC_DAYS, id, p, dd - rd, 1);
			add(R, K_DTOC_SHARE, id, p, dd > rd, 1);
		}
	}
}

static int hospital(struct run *R, const yoc_tariff *t, struct yoc_kpi_stats *st)
{
	int64_t *ids = NULL;
	size_t nf = 0;
	int rc = files_of(R, "apc", &ids, &nf);
	yoc_spells *sp = yoc_spells_create();
	int32_t *ready = NULL, *rbuf = NULL;
	size_t nready = 0, cready = 0;
	int has_ready = 0;
	if (!rc && !sp)
		rc = yoc_error_set(R->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	for (size_t f = 0; !rc && f < nf; f++) {
		yoc_seg *g = NULL;
		if ((rc = yoc_seg_open(R->s, ids[f], &g, R->e)))
			break;
		int c_cp = yoc_seg_col(g, "CLASSPAT"), c_am = yoc_seg_col(g, "ADMIMETH"),
		    c_hrg = yoc_seg_col(g, "SUSHRG"), c_ad = yoc_seg_col(g, "ADMIDATE"),
		    c_dd = yoc_seg_col(g, "DISDATE"), c_ee = yoc_seg_col(g, "EPIEND"),
		    c_eo = yoc_seg_col(g, "EPIORDER"), c_sid = yoc_seg_col(g, "SUSSPELLID"),
		    c_pro = yoc_seg_col(g, "PROCODE3"), c_rd = yoc_seg_col(g, "DISREADYDATE");
		has_ready |= c_rd >= 0;
		for (size_t r = 0; r < yoc_seg_nrows(g); r++) {
			int32_t p = yoc_seg_person(g, r);
			if (p < 0)
				continue;
			struct yoc_apc_epi ep;
			memset(&ep, 0, sizeof ep);
			ep.classpat = yoc_seg_text(g, c_cp, r);
			ep.admimeth = yoc_seg_text(g, c_am, r);
			ep.sushrg = yoc_seg_text(g, c_hrg, r);
			ep.admidate = date_of(g, c_ad, r);
			ep.disdate = date_of(g, c_dd, r);
			ep.epistart = yoc_seg_activity_date(g, r);
			ep.epiend = date_of(g, c_ee, r);
			int64_t eo = int_of(g, c_eo, r);
			ep.epiorder = eo > 0 && eo < 100000 ? (int32_t)eo : 0;
			ep.feed_cost = INT64_MIN;
			if (nready == cready) {
				/* an episode's tag is its index here: at most 2^32 episodes */
				size_t nc = cready ? cready * 2 : 4096;
				int32_t *x = nc <= UINT32_MAX ? yoc_realloc(ready, nc * sizeof *x) : NULL;
				if (!x) {
					rc = yoc_error_set(R->e, nc <= UINT32_MAX ? YOC_ENOMEM : YOC_ETOOBIG,
							   yoc_store_dir(R->s), 0, 0,
							   "too many APC episodes to group into spells");
					break;
				}
				ready = x;
				cready = nc;
			}
			ready[nready] = date_of(g, c_rd, r);
			struct yoc_cell prov = yoc_seg_text(g, c_pro, r);
			if ((rc = yoc_spells_add(sp, (uint64_t)p, (uint32_t)nready++,
						 yoc_seg_text(g, c_sid, r), prov, &ep))) {
				yoc_error_set(R->e, rc, yoc_store_dir(R->s), 0, 0,
					      "out of memory grouping hospital spells");
				break;
			}
		}
		yoc_seg_close(g);
	}
	if (!rc && (rc = yoc_spells_sort(sp)))
		yoc_error_set(R->e, rc, NULL, 0, 0, "out of memory");
	struct yoc_spell_view v;
	int k = 0;
	size_t cap = 0;
	while (!rc && (k = yoc_spells_next(sp, &v)) > 0) {
		struct yoc_spell_price pr;
		yoc_price_spell(t, v.epi, v.n, &pr);
		if (v.n > cap) {
			cap = v.n * 2;
			int32_t *x = yoc_realloc(rbuf, cap * sizeof *x);
			if (!x) {
				rc = yoc_error_set(R->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
				break;
			}
			rbuf = x;
		}
		for (size_t i = 0; i < v.n; i++)
			rbuf[i] = ready[v.tag[i]];
		spell(R, &v, &pr, rbuf, has_ready);
		st->spells++;
	}
	if (!rc && k < 0)
		rc = yoc_error_set(R->e, k, NULL, 0, 0, "out of memory");
	if (nf == 0)
		for (int q = K_NE_ADM; q <= K_WEEKEND; q++)
			unavailable(R, q, "no APC files are loaded");
	else if (!has_ready) {
		unavailable(R, K_DTOC_DAYS, "the APC feed has no DISREADYDATE column");
		unavailable(R, K_DTOC_SHARE, "the APC feed has no DISREADYDATE column");
	}
	yoc_free(rbuf);
	yoc_free(ready);
	yoc_spells_free(sp);
	yoc_free(ids);
	return rc;
}

/* ---- 4: social care --------------------------------------------------------- */

struct pkg {
	char key[40];
	int32_t p, disch;
	int home, set;
};

static int social(struct run *R)
{
	int64_t *ids = NULL;
	size_t nf = 0;
	int rc = files_of(R, "social_care", &ids, &nf);
	int32_t *first = yoc_malloc((R->np + 1) * sizeof *first); /* first permanent placement */
	struct yoc_map keys;
	yoc_map_init(&keys, 1024);
	struct pkg *pk = NULL;
	size_t npk = 0, cpk = 0;
	int has_place = 0, has_reab = 0;
	if (!rc && !first)
		rc = yoc_error_set(R->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	for (size_t p = 0; first && p < R->np; p++)
		first[p] = INT32_MAX;
	for (size_t f = 0; !rc && f < nf; f++) {
		yoc_seg *g = NULL;
		if ((rc = yoc_seg_open(R->s, ids[f], &g, R->e)))
			break;
		int c_type = yoc_seg_col(g, "SERVICE_TYPE"), c_pl = yoc_seg_col(g, "PLACEMENT"),
		    c_ps = yoc_seg_col(g, "PACKAGE_START"), c_re = yoc_seg_col(g, "REABLEMENT"),
		    c_hd = yoc_seg_col(g, "HOSP_DISCHARGE"), c_91 = yoc_seg_col(g, "PLACE_91D"),
		    c_key = yoc_seg_col(g, "SERVICEKEY");
		has_place |= c_pl >= 0;
		has_reab |= c_re >= 0 && c_hd >= 0 && c_91 >= 0;
		for (size_t r = 0; !rc && r < yoc_seg_nrows(g); r++) {
			int32_t p = yoc_seg_person(g, r);
			if (p < 0)
				continue;
			struct yoc_cell ty = yoc_seg_text(g, c_type, r);
			if (c_pl >= 0 && (is(ty, "RESIDENTIAL") || is(ty, "NURSING")) &&
			    is(yoc_seg_text(g, c_pl, r), "PERMANENT")) {
				int32_t d = date_of(g, c_ps, r);
				if (d <= YOC_DATE_HES_INVALID)
					d = yoc_seg_activity_date(g, r);
				if (d > YOC_DATE_HES_INVALID && d < first[p])
					first[p] = d;
			}
			if (c_re >= 0 && c_hd >= 0 && c_91 >= 0 && is(yoc_seg_text(g, c_re, r), "Y")) {
				int32_t hd = date_of(g, c_hd, r);
				if (hd <= YOC_DATE_HES_INVALID)
					continue;
				/* one package per SERVICEKEY (a package is billed over months) */
				struct yoc_cell k = yoc_seg_text(g, c_key, r);
				char kb[64];
				int kn = snprintf(kb, sizeof kb, "%d|%.*s", p, (int)k.n, k.p);
				if (k.n && yoc_map_get(&keys, kb, (size_t)kn))
					continue;
				if (npk == cpk) {
					cpk = cpk ? cpk * 2 : 1024;
					struct pkg *x = yoc_realloc(pk, cpk * sizeof *x);
					if (!x) {
						rc = yoc_error_set(R->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
						break;
					}
					pk = x;
				}
				if (k.n && yoc_map_put(&keys, kb, (size_t)kn, npk, NULL)) {
					rc = yoc_error_set(R->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
					break;
				}
				pk[npk].p = p;
				pk[npk].disch = hd;
				pk[npk].home = is(yoc_seg_text(g, c_91, r), "HOME");
				npk++;
			}
		}
		yoc_seg_close(g);
	}
	for (size_t p = 0; !rc && has_place && p < R->np; p++) {
		int i = first[p] == INT32_MAX ? -1 : slot(R, first[p]);
		if (i < 0 || !in_scope(R, (int32_t)p, first[p]))
			continue;
		int a = age_at(&R->pers[p], first[p]);
		if (a >= 65)
			add(R, K_2A_65, i, (int32_t)p, 1, 0);
		else if (a >= 18)
			add(R, K_2A_18_64, i, (int32_t)p, 1, 0);
	}
	/* ASCOF 2B(1) needs the 91 days to have passed by the end of the months reported */
	int32_t end = month_start(R->m0 + R->nm) - 1;
	for (size_t j = 0; !rc && j < npk; j++) {
		int i = slot(R, pk[j].disch);
		if (i < 0 || pk[j].disch + 91 > end || !in_scope(R, pk[j].p, pk[j].disch) ||
		    age_at(&R->pers[pk[j].p], pk[j].disch) < 65)
			continue;
		add(R, K_2B1, i, pk[j].p, pk[j].home, 1);
	}
	if (!has_place) {
		unavailable(R, K_2A_65, "the social care feed has no PLACEMENT column");
		unavailable(R, K_2A_18_64, "the social care feed has no PLACEMENT column");
	}
	if (!has_reab)
		unavailable(R, K_2B1, "the social care feed has no REABLEMENT, HOSP_DISCHARGE and "
			    "PLACE_91D columns");
	yoc_map_free(&keys);
	yoc_free(pk);
	yoc_free(first);
	yoc_free(ids);
	return rc;
}

/* ---- 5: care plans and PAM ------------------------------------------------------- */

struct plan_row {
	int32_t p, rec, created, last, next;
	uint64_t plan;  /* index of its plan */
};

static int cmp_plan_row(const void *a, const void *b)
{
	const struct plan_row *x = a, *y = b;
	if (x->plan != y->plan)
		return x->plan < y->plan ? -1 : 1;
	return (x->rec > y->rec) - (x->rec < y->rec);
}

static int careplan(struct run *R)
{
	int64_t *ids = NULL;
	size_t nf = 0;
	int rc = files_of(R, "careplan", &ids, &nf);
	struct yoc_map plans;
	yoc_map_init(&plans, 1024);
	struct plan_row *pr = NULL;
	size_t n = 0, cap = 0;
	for (size_t f = 0; !rc && f < nf; f++) {
		yoc_seg *g = NULL;
		if ((rc = yoc_seg_open(R->s, ids[f], &g, R->e)))
			break;
		int c_it = yoc_seg_col(g, "ITEM_TYPE"), c_id = yoc_seg_col(g, "PLAN_ID"),
		    c_cr = yoc_seg_col(g, "CREATED"), c_lr = yoc_seg_col(g, "LAST_REVIEW"),
		    c_nr = yoc_seg_col(g, "NEXT_REVIEW"), c_rd = yoc_seg_col(g, "RECORD_DATE");
		for (size_t r = 0; !rc && r < yoc_seg_nrows(g); r++) {
			int32_t p = yoc_seg_person(g, r);
			if (p < 0 || !is(yoc_seg_text(g, c_it, r), "PLAN"))
				continue;
			struct yoc_cell id = yoc_seg_text(g, c_id, r);
			uint64_t *v = yoc_map_get(&plans, id.p, id.n), pid;
			if (v) {
				pid = *v;
			} else {
				pid = plans.count;
				if (yoc_map_put(&plans, id.p, id.n, pid, NULL)) {
					rc = yoc_error_set(R->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
					break;
				}
			}
			if (n == cap) {
				cap = cap ? cap * 2 : 1024;
				struct plan_row *x = yoc_realloc(pr, cap * sizeof *x);
				if (!x) {
					rc = yoc_error_set(R->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
					break;
				}
				pr = x;
			}
			struct plan_row *q = &pr[n++];
			q->p = p;
			q->plan = pid;
			q->rec = c_rd >= 0 ? date_of(g, c_rd, r) : yoc_seg_activity_date(g, r);
			q->created = date_of(g, c_cr, r);
			if (q->created <= YOC_DATE_HES_INVALID)
				q->created = q->rec;
			q->last = date_of(g, c_lr, r);
			q->next = date_of(g, c_nr, r);
		}
		yoc_seg_close(g);
	}
	if (!rc && nf == 0) {
		unavailable(R, K_PLAN_COVER, "no careplan feed is loaded");
		unavailable(R, K_PLAN_OVERDUE, "no careplan feed is loaded");
	}
	if (!rc && nf > 0) {
		if (n)
			qsort(pr, n, sizeof *pr, cmp_plan_row);
		/* per person, the earliest creation of any plan */
		int32_t *made = yoc_malloc((R->np + 1) * sizeof *made);
		if (!made)
			rc = yoc_error_set(R->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		for (size_t p = 0; made && p < R->np; p++)
			made[p] = INT32_MAX;
		for (size_t j = 0; made && j < n; j++)
			if (pr[j].created > YOC_DATE_HES_INVALID && pr[j].created < made[pr[j].p])
				made[pr[j].p] = pr[j].created;
		for (int i = 0; made && i < R->nm; i++) {
			int32_t d0 = month_start(R->m0 + i), d1 = month_start(R->m0 + i + 1) - 1;
			for (size_t p = 0; p < R->np; p++)
				if (made[p] <= d1 && registered(&R->pers[p], d0) &&
				    in_scope(R, (int32_t)p, d0))
					add(R, K_PLAN_COVER, i, (int32_t)p, 1, 0);
			/* each plan: its latest PLAN row by the month's end */
			for (size_t j = 0; j < n;) {
				size_t e2 = j;
				const struct plan_row *last = NULL;
				while (e2 < n && pr[e2].plan == pr[j].plan) {
					if (pr[e2].rec > YOC_DATE_HES_INVALID && pr[e2].rec <= d1)
						last = &pr[e2];
					e2++;
				}
				if (last && last->created <= d1 && in_scope(R, last->p, d1)) {
					int over = last->next > YOC_DATE_HES_INVALID && last->next < d1 &&
						   !(last->last > YOC_DATE_HES_INVALID &&
						     last->last >= last->next);
					add(R, K_PLAN_OVERDUE, i, last->p, over, 1);
				}
				j = e2;
			}
		}
		yoc_free(made);
	}
	yoc_map_free(&plans);
	yoc_free(pr);
	yoc_free(ids);
	return rc;
}

static int pam_level(double score)
{
	/* the published cut-offs: level 1 <= 47.0, 2 <= 55.1, 3 <= 67.0, else 4 */
	return score <= 47.05 ? 1 : score <= 55.15 ? 2 : score <= 67.05 ? 3 : 4;
}

struct pam_row {
	int32_t p, date;
	double score;
};

static int cmp_pam(const void *a, const void *b)
{
	const struct pam_row *x = a, *y = b;
	if (x->p != y->p)
		return x->p < y->p ? -1 : 1;
	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return (x->score > y->score) - (x->score < y->score);
}

static double score_of(const yoc_seg *g, int col, size_t r)
{
	if (col < 0)
		return NAN;
	int t = yoc_seg_col_type(g, col);
	if (t == YOC_COL_MONEY) {
		int64_t v = yoc_seg_int(g, col, r);
		return v == YOC_INT_NONE ? NAN : (double)v / 100;
	}
	if (t == YOC_COL_INT) {
		int64_t v = yoc_seg_int(g, col, r);
		return v == YOC_INT_NONE ? NAN : (double)v;
	}
	struct yoc_cell c = yoc_seg_text(g, col, r);
	char b[32];
	if (c.n == 0 || c.n >= sizeof b)
		return NAN;
	memcpy(b, c.p, c.n);
	b[c.n] = 0;
	char *end;
	double v = strtod(b, &end);
	return *end ? NAN : v;
}

static int pam(struct run *R)
{
	int64_t *ids = NULL;
	size_t nf = 0;
	int rc = files_of(R, "pam", &ids, &nf);
	struct pam_row *pr = NULL;
	size_t n = 0, cap = 0;
	for (size_t f = 0; !rc && f < nf; f++) {
		yoc_seg *g = NULL;
		if ((rc = yoc_seg_open(R->s, ids[f], &g, R->e)))
			break;
		int c_sc = yoc_seg_col(g, "PAM_SCORE"), c_d = yoc_seg_col(g, "PAM_DATE");
		for (size_t r = 0; !rc && r < yoc_seg_nrows(g); r++) {
			int32_t p = yoc_seg_person(g, r);
			double sc = score_of(g, c_sc, r);
			int32_t d = c_d >= 0 ? date_of(g, c_d, r) : yoc_seg_activity_date(g, r);
			if (p < 0 || !(sc >= 0 && sc <= 100) || d <= YOC_DATE_HES_INVALID)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 1024;
				struct pam_row *x = yoc_realloc(pr, cap * sizeof *x);
				if (!x) {
					rc = yoc_error_set(R->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
					break;
				}
				pr = x;
			}
			pr[n++] = (struct pam_row){p, d, sc};
		}
		yoc_seg_close(g);
	}
	if (!rc && nf == 0)
		unavailable(R, K_PAM12, "no pam feed is loaded");
	if (!rc && nf > 0) {
		for (size_t j = 0; j < n; j++) {
			int i = slot(R, pr[j].date);
			if (i >= 0 && in_scope(R, pr[j].p, pr[j].date))
				add(R, K_PAM12, i, pr[j].p, pam_level(pr[j].score) <= 2, 1);
		}
		/* first and latest result of each person within the months reported */
		if (n)
			qsort(pr, n, sizeof *pr, cmp_pam);
		double sum = 0;
		for (size_t j = 0; j < n;) {
			size_t e2 = j, a = SIZE_MAX, b = SIZE_MAX;
			while (e2 < n && pr[e2].p == pr[j].p) {
				if (slot(R, pr[e2].date) >= 0 && in_scope(R, pr[e2].p, pr[e2].date)) {
					if (a == SIZE_MAX)
						a = e2;
					b = e2;
				}
				e2++;
			}
			if (a != SIZE_MAX && b != a) {
				R->pam_x[pam_level(pr[a].score) - 1][pam_level(pr[b].score) - 1]++;
				R->pam_people++;
				sum += pr[b].score - pr[a].score;
			}
			j = e2;
		}
		R->pam_change = R->pam_people ? sum / (double)R->pam_people : NAN;
	}
	yoc_free(pr);
	yoc_free(ids);
	return rc;
}

/* ---- 6: charts and tables ------------------------------------------------------ */

static int parse_steps(struct run *R)
{
	const char *s = R->o->steps;
	if (!s || !*s)
		return YOC_OK;
	int col = 1;
	while (*s) {
		const char *c = strchr(s, ','), *colon = strchr(s, ':');
		size_t len = c ? (size_t)(c - s) : strlen(s);
		int k = -1, mi = 0;
		char month[16] = "";
		if (colon && colon < s + len) {
			size_t kl = (size_t)(colon - s);
			for (int i = 0; i < NKPI; i++)
				if (strlen(defs[i].id) == kl && strncmp(defs[i].id, s, kl) == 0)
					k = i;
			snprintf(month, sizeof month, "%.*s", (int)(len - kl - 1), colon + 1);
		}
		if (k < 0)
			return yoc_error_set(R->e, YOC_EINVAL, "--steps", 1, col,
					     "'%.*s' is not KPI:YYYY-MM with a KPI of yoc kpi "
					     "(e.g. ne_admissions:2022-10)", (int)len, s);
		if (parse_month(month, &mi) || mi - R->m0 <= 0 || mi - R->m0 >= R->nm)
			return yoc_error_set(R->e, YOC_EINVAL, "--steps", 1, col,
					     "'%s' is not a month after the first reported and "
					     "within the months reported", month);
		struct kpi *q = &R->k[k];
		size_t at = (size_t)(mi - R->m0);
		if (q->nsteps == sizeof q->steps / sizeof q->steps[0] ||
		    (q->nsteps && q->steps[q->nsteps - 1] >= at))
			return yoc_error_set(R->e, YOC_EINVAL, "--steps", 1, col,
					     "the steps of %s must be in order, at most 8",
					     defs[k].id);
		q->steps[q->nsteps++] = at;
		col += (int)len + 1;
		s += len;
		if (*s == ',')
			s++;
	}
	return YOC_OK;
}

static const char schema[] =
	"DROP TABLE IF EXISTS kpi_def; DROP TABLE IF EXISTS kpi_month;"
	"DROP TABLE IF EXISTS kpi_spc; DROP TABLE IF EXISTS kpi_dow;"
	"DROP TABLE IF EXISTS kpi_pam; DROP TABLE IF EXISTS kpi_run;"
	"CREATE TABLE kpi_def(kpi TEXT PRIMARY KEY, ord INTEGER, title TEXT, definition TEXT,"
	" numerator TEXT, denominator TEXT, source TEXT, chart TEXT, better INTEGER, unit TEXT,"
	" scale REAL, target REAL, rolling TEXT, available INTEGER, reason TEXT);"
	"CREATE TABLE kpi_month(kpi TEXT, month TEXT, numerator INTEGER, denominator INTEGER,"
	" value REAL, r12_numerator INTEGER, r12_denominator INTEGER, r12_value REAL,"
	" centre REAL, lcl REAL, ucl REAL, lower2 REAL, upper2 REAL, phase INTEGER,"
	" rules TEXT, variation TEXT, PRIMARY KEY(kpi, month));"
	"CREATE TABLE kpi_spc(kpi TEXT PRIMARY KEY, chart TEXT, better INTEGER, target REAL,"
	" shift_len INTEGER, trend_len INTEGER, screened INTEGER, screen_factor REAL,"
	" limit_factor REAL, points INTEGER, special INTEGER, phases INTEGER, steps TEXT,"
	" centre REAL, lcl REAL, ucl REAL, icon TEXT, assurance TEXT, method TEXT);"
	"DROP TABLE IF EXISTS kpi_practice;"
	"CREATE TABLE kpi_practice(kpi TEXT, practice TEXT, month TEXT, numerator INTEGER,"
	" denominator INTEGER, PRIMARY KEY(kpi, practice, month));"
	"CREATE TABLE kpi_dow(weekday INTEGER PRIMARY KEY, name TEXT, discharges INTEGER);"
	"CREATE TABLE kpi_pam(first_level INTEGER, latest_level INTEGER, people INTEGER);"
	"CREATE TABLE kpi_run(key TEXT PRIMARY KEY, value TEXT);";

static void bind_num(sqlite3_stmt *st, int i, double v)
{
	if (isfinite(v))
		sqlite3_bind_double(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

static int write_kpi(struct run *R, int k, sqlite3_stmt *sm, sqlite3_stmt *ss,
		     struct yoc_spc_mpoint *pt)
{
	const struct yoc_kpi_def *d = &defs[k];
	struct kpi *q = &R->k[k];
	double num[YOC_KPI_MAX_MONTHS], den[YOC_KPI_MAX_MONTHS];
	for (int i = 0; i < R->nm; i++) {
		num[i] = (double)q->num[i];
		den[i] = (double)q->den[i];
		if (d->chart == YOC_SPC_XMR)
			num[i] = q->den[i] > 0 ? num[i] / den[i] * d->scale : NAN;
	}
	struct yoc_spc_opts o;
	yoc_spc_opts_init(&o, d->chart, d->better);
	if (R->o->shift_len)
		o.shift_len = R->o->shift_len;
	if (R->o->trend_len)
		o.trend_len = R->o->trend_len;
	o.target = d->chart == YOC_SPC_XMR ? d->target : d->target / d->scale;
	o.steps = q->steps;
	o.nsteps = q->nsteps;
	struct yoc_spc_chart c;
	int rc = yoc_spc_chart(num, d->chart == YOC_SPC_XMR ? NULL : den, (size_t)R->nm, &o, &c,
			       pt, R->e);
	if (rc)
		return rc;
	double f = d->chart == YOC_SPC_XMR ? 1 : d->scale;
	for (int i = 0; i < R->nm; i++) {
		char m[16], rules[160];
		month_text(R->m0 + i, m);
		int64_t rn = 0, rd = 0;
		for (int j = i - 11; j <= i && i >= 11; j++) {
			rn += q->num[j];
			rd += q->den[j];
		}
		if (d->rolling != YOC_KPI_R12_SUM)
			rd = (rd + 6) / 12;
		if (d->rolling == YOC_KPI_R12_MEAN)
			rn = (rn + 6) / 12;
		sqlite3_reset(sm);
		sqlite3_bind_text(sm, 1, d->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(sm, 2, m, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(sm, 3, q->num[i]);
		sqlite3_bind_int64(sm, 4, q->den[i]);
		bind_num(sm, 5, q->den[i] > 0 ? (double)q->num[i] / (double)q->den[i] * d->scale : NAN);
		if (i >= 11) {
			sqlite3_bind_int64(sm, 6, rn);
			sqlite3_bind_int64(sm, 7, rd);
			bind_num(sm, 8, rd > 0 ? (double)rn / (double)rd * d->scale : NAN);
		} else {
			for (int j = 6; j <= 8; j++)
				sqlite3_bind_null(sm, j);
		}
		bind_num(sm, 9, pt[i].centre * f);
		bind_num(sm, 10, pt[i].lcl * f);
		bind_num(sm, 11, pt[i].ucl * f);
		bind_num(sm, 12, pt[i].lower2 * f);
		bind_num(sm, 13, pt[i].upper2 * f);
		sqlite3_bind_int(sm, 14, pt[i].phase);
		sqlite3_bind_text(sm, 15, yoc_spc_rules_text(pt[i].rules, c.shift_len, c.trend_len,
							     rules, sizeof rules), -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(sm, 16, pt[i].present ? yoc_spc_variation_name(pt[i].variation)
					  : "", -1, SQLITE_STATIC);
		if (sqlite3_step(sm) != SQLITE_DONE)
			return YOC_EIO;
	}
	char steps[160] = "";
	for (size_t j = 0; j < q->nsteps; j++) {
		char mt[16];
		snprintf(steps + strlen(steps), sizeof steps - strlen(steps), "%s%s", j ? "," : "",
			 month_text(R->m0 + (int)q->steps[j], mt));
	}
	sqlite3_reset(ss);
	sqlite3_bind_text(ss, 1, d->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(ss, 2, yoc_spc_type_name(d->chart), -1, SQLITE_STATIC);
	sqlite3_bind_int(ss, 3, d->better);
	bind_num(ss, 4, d->target);
	sqlite3_bind_int(ss, 5, c.shift_len);
	sqlite3_bind_int(ss, 6, c.trend_len);
	sqlite3_bind_int64(ss, 7, (int64_t)c.screened);
	bind_num(ss, 8, c.screen ? YOC_SPC_SCREEN : NAN);
	sqlite3_bind_double(ss, 9, d->chart == YOC_SPC_XMR ? YOC_SPC_E2 : 3);
	sqlite3_bind_int64(ss, 10, (int64_t)c.present);
	sqlite3_bind_int64(ss, 11, (int64_t)c.special);
	sqlite3_bind_int64(ss, 12, (int64_t)c.nphase);
	sqlite3_bind_text(ss, 13, steps, -1, SQLITE_TRANSIENT);
	bind_num(ss, 14, c.centre * f);
	bind_num(ss, 15, c.lcl * f);
	bind_num(ss, 16, c.ucl * f);
	sqlite3_bind_text(ss, 17, yoc_spc_icon_name(c.icon), -1, SQLITE_STATIC);
	sqlite3_bind_text(ss, 18, yoc_spc_assurance_name(c.assurance), -1, SQLITE_STATIC);
	char method[200];
	snprintf(method, sizeof method, "Making Data Count %s chart: shift %d, trend %d, 2 of 3 "
		 "beyond 2 sigma, beyond the limits%s", yoc_spc_type_name(d->chart), c.shift_len,
		 c.trend_len, c.screen ? "; moving ranges above 3.267 x their mean screened once" : "");
	sqlite3_bind_text(ss, 19, method, -1, SQLITE_TRANSIENT);
	return sqlite3_step(ss) == SQLITE_DONE ? YOC_OK : YOC_EIO;
}

static int kv(sqlite3 *db, const char *k, const char *v)
{
	sqlite3_stmt *st = NULL;
	int ok = sqlite3_prepare_v2(db, "INSERT INTO kpi_run VALUES(?, ?)", -1, &st, NULL) ==
		 SQLITE_OK;
	if (ok) {
		sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, v ? v : "", -1, SQLITE_TRANSIENT);
		ok = sqlite3_step(st) == SQLITE_DONE;
	}
	sqlite3_finalize(st);
	return ok ? YOC_OK : YOC_EIO;
}

static int write_tables(struct run *R, const yoc_tariff *t)
{
	sqlite3 *db = R->db;
	sqlite3_stmt *sd = NULL, *sm = NULL, *ss = NULL, *sw = NULL, *sp = NULL;
	struct yoc_spc_mpoint *pt = yoc_calloc((size_t)R->nm, sizeof *pt);
	int rc = YOC_OK;
	if (!pt)
		return yoc_error_set(R->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		yoc_free(pt);
		return yoc_error_set(R->e, YOC_EIO, yoc_store_dir(R->s), 0, 0,
				     "cannot write the catalog: %s", sqlite3_errmsg(db));
	}
	if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO kpi_def VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1,
			       &sd, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO kpi_month VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &sm, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO kpi_spc VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
			       "?,?)", -1, &ss, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO kpi_dow VALUES(?,?,?)", -1, &sw, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO kpi_pam VALUES(?,?,?)", -1, &sp, NULL) != SQLITE_OK) {
		rc = YOC_EIO;
		goto cleanup;
	}
	for (int k = 0; k < NKPI && !rc; k++) {
		const struct yoc_kpi_def *d = &defs[k];
		sqlite3_reset(sd);
		sqlite3_bind_text(sd, 1, d->id, -1, SQLITE_STATIC);
		sqlite3_bind_int(sd, 2, k + 1);
		sqlite3_bind_text(sd, 3, d->title, -1, SQLITE_STATIC);
		sqlite3_bind_text(sd, 4, d->definition, -1, SQLITE_STATIC);
		sqlite3_bind_text(sd, 5, d->numerator, -1, SQLITE_STATIC);
		sqlite3_bind_text(sd, 6, d->denominator, -1, SQLITE_STATIC);
		sqlite3_bind_text(sd, 7, d->source, -1, SQLITE_STATIC);
		sqlite3_bind_text(sd, 8, yoc_spc_type_name(d->chart), -1, SQLITE_STATIC);
		sqlite3_bind_int(sd, 9, d->better);
		sqlite3_bind_text(sd, 10, d->unit, -1, SQLITE_STATIC);
		sqlite3_bind_double(sd, 11, d->scale);
		bind_num(sd, 12, d->target);
		sqlite3_bind_text(sd, 13, yoc_kpi_rolling_name(d->rolling), -1, SQLITE_STATIC);
		sqlite3_bind_int(sd, 14, R->k[k].available);
		sqlite3_bind_text(sd, 15, R->k[k].reason, -1, SQLITE_STATIC);
		if (sqlite3_step(sd) != SQLITE_DONE)
			rc = YOC_EIO;
		else if (R->k[k].available)
			rc = write_kpi(R, k, sm, ss, pt);
	}
	static const char *const dn[7] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
					  "Saturday", "Sunday"};
	for (int i = 0; i < 7 && !rc && R->k[K_WEEKEND].available; i++) {
		sqlite3_reset(sw);
		sqlite3_bind_int(sw, 1, i + 1);
		sqlite3_bind_text(sw, 2, dn[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(sw, 3, R->dow[i]);
		if (sqlite3_step(sw) != SQLITE_DONE)
			rc = YOC_EIO;
	}
	for (int a = 0; a < 4 && !rc && R->k[K_PAM12].available; a++)
		for (int b = 0; b < 4 && !rc; b++) {
			sqlite3_reset(sp);
			sqlite3_bind_int(sp, 1, a + 1);
			sqlite3_bind_int(sp, 2, b + 1);
			sqlite3_bind_int64(sp, 3, R->pam_x[a][b]);
			if (sqlite3_step(sp) != SQLITE_DONE)
				rc = YOC_EIO;
		}
	sqlite3_stmt *sq = NULL;
	if (!rc && sqlite3_prepare_v2(db, "INSERT INTO kpi_practice VALUES(?,?,?,?,?)", -1, &sq,
				      NULL) != SQLITE_OK)
		rc = YOC_EIO;
	for (int pr = 0; !rc && pr < R->nprac; pr++)
		for (int k = 0; !rc && k < NKPI; k++) {
			if (!R->k[k].available)
				continue;
			for (int i = 0; !rc && i < R->nm; i++) {
				const int64_t *x = &R->pk[(((size_t)pr * NKPI + (size_t)k) * (size_t)R->nm +
							    (size_t)i) * 2];
				char mt[16];
				sqlite3_reset(sq);
				sqlite3_bind_text(sq, 1, defs[k].id, -1, SQLITE_STATIC);
				sqlite3_bind_text(sq, 2, R->prac[pr], -1, SQLITE_STATIC);
				sqlite3_bind_text(sq, 3, month_text(R->m0 + i, mt), -1, SQLITE_TRANSIENT);
				sqlite3_bind_int64(sq, 4, x[0]);
				sqlite3_bind_int64(sq, 5, x[1]);
				if (sqlite3_step(sq) != SQLITE_DONE)
					rc = YOC_EIO;
			}
		}
	sqlite3_finalize(sq);
	char v[64];
	rc = rc ? rc : kv(db, "from", month_text(R->m0, v));
	rc = rc ? rc : kv(db, "to", month_text(R->m0 + R->nm - 1, v));
	rc = rc ? rc : kv(db, "cohort", R->o->cohort ? R->o->cohort : "");
	rc = rc ? rc : kv(db, "targeted_hrg_version", R->hrg_version);
	rc = rc ? rc : kv(db, "trim_points_version", yoc_tariff_trims_version(t));
	snprintf(v, sizeof v, "%lld", (long long)R->pam_people);
	rc = rc ? rc : kv(db, "pam_people", v);
	if (isfinite(R->pam_change))
		snprintf(v, sizeof v, "%.2f", R->pam_change);
	else
		v[0] = 0;
	rc = rc ? rc : kv(db, "pam_mean_change", v);
cleanup:
	sqlite3_finalize(sd);
	sqlite3_finalize(sm);
	sqlite3_finalize(ss);
	sqlite3_finalize(sw);
	sqlite3_finalize(sp);
	yoc_free(pt);
	if (rc == YOC_OK && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return YOC_OK;
	if (!R->e || R->e->code == 0 || rc == YOC_EIO)
		yoc_error_set(R->e, rc ? rc : YOC_EIO, yoc_store_dir(R->s), 0, 0,
			      "cannot write the kpi tables: %s", sqlite3_errmsg(db));
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc ? rc : YOC_EIO;
}

int yoc_kpi_run(yoc_store *s, const struct yoc_kpi_opts *o, struct yoc_kpi_stats *st,
		struct yoc_error *e)
{
	struct run *R = yoc_calloc(1, sizeof *R);
	yoc_tariff *t = NULL;
	int rc;
	memset(st, 0, sizeof *st);
	if (!R)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	R->s = s;
	R->db = yoc_store_db(s);
	R->o = o;
	R->e = e;
	R->pam_change = NAN;
	for (int k = 0; k < NKPI; k++)
		R->k[k].available = 1;
	if ((rc = find_months(R)) || (rc = parse_steps(R)) ||
	    (rc = yoc_store_persons(s, &R->pers, &R->np, e)) || (rc = load_cohort(R)) ||
	    (rc = load_hrg_list(R)) || (rc = yoc_tariff_load_dir(&t, o->data_dir, e)) ||
	    (rc = practices(R)))
		goto cleanup;
	population(R);
	if ((rc = hospital(R, t, st)) || (rc = social(R)) || (rc = careplan(R)) || (rc = pam(R)))
		goto cleanup;
	if ((rc = write_tables(R, t)))
		goto cleanup;
	month_text(R->m0, st->from);
	month_text(R->m0 + R->nm - 1, st->to);
	st->nmonths = R->nm;
	st->nkpi = NKPI;
	for (int k = 0; k < NKPI; k++)
		st->available += R->k[k].available;
	st->population_last = R->k[K_NE_ADM].den[R->nm - 1];
cleanup:
	yoc_tariff_free(t);
	yoc_free(R->mem);
	yoc_free(R->mfirst);
	yoc_free(R->hrg);
	yoc_free(R->prac_of);
	yoc_free(R->prac);
	yoc_free(R->pk);
	yoc_free(R);
	return rc;
}

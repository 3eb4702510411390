/*
** Summaries over the Monte Carlo runs (docs/simulation.md, "Output"): the
** Table 3 rows per cohort and year (people, activity by setting, mean cost
** per person and total budget, baseline and scenario, difference), the
** waterfall of the change by scenario factor, workforce WTE by staff group,
** the break-even cohort; the CSV of every figure and the catalog tables the
** report's Simulation page reads. Each statistic is computed run by run and
** then summarised (mean, 5th, 10th, 50th, 90th, 95th percentiles), so a
** difference's interval is the interval of the paired differences.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "yoc/csv.h"

static int dbl_cmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

/* Percentile q of sorted x by linear interpolation (R's type 7). */
static double pct(const double *x, int n, double q)
{
	if (n == 1)
		return x[0];
	double h = (n - 1) * q;
	int i = (int)floor(h);
	if (i >= n - 1)
		return x[n - 1];
	return x[i] + (h - i) * (x[i + 1] - x[i]);
}

void yoc_sim_stat_of(double *x, int n, struct yoc_sim_stat *st)
{
	memset(st, 0, sizeof *st);
	if (n <= 0)
		return;
	double s = 0;
	for (int i = 0; i < n; i++)
		s += x[i];
	st->mean = s / n;
	qsort(x, (size_t)n, sizeof *x, dbl_cmp);
	st->p5 = pct(x, n, 0.05);
	st->p10 = pct(x, n, 0.10);
	st->p50 = pct(x, n, 0.50);
	st->p90 = pct(x, n, 0.90);
	st->p95 = pct(x, n, 0.95);
}

static const double *cell(const struct yoc_sim_result *r, int run, int c, int y)
{
	return r->res + (((size_t)run * (size_t)r->nc + (size_t)c) * (size_t)r->years + (size_t)y) *
				SM_N;
}

static double cost_of(const double *A, int base)
{
	double t = 0;
	for (int k = 0; k < SA_NCOST; k++)
		t += A[base + k];
	return t;
}

/* Scenario cost of a cohort-year (offered), service included. */
static double scn_cost(const double *A)
{
	return cost_of(A, SM_SCN) + A[SM_SERVICE_COST];
}

int yoc_sim_table3(const struct yoc_sim_data *d, const struct yoc_scenario *s,
		   const struct yoc_sim_result *r, int c, int y, struct yoc_sim_t3 *t)
{
	(void)d;
	(void)s;
	int n = r->runs;
	double *x = yoc_malloc((size_t)n * 7 * sizeof *x);
	double *ax = yoc_malloc((size_t)n * 2 * SA_N * sizeof *ax);
	if (!x || !ax) {
		yoc_free(x);
		yoc_free(ax);
		return YOC_ENOMEM;
	}
	int y0 = y < 0 ? 0 : y, y1 = y < 0 ? r->years : y + 1;
	for (int run = 0; run < n; run++) {
		double ppl = 0, bc = 0, sc = 0, act[2 * SA_N];
		memset(act, 0, sizeof act);
		for (int yy = y0; yy < y1; yy++) {
			const double *A = cell(r, run, c, yy);
			ppl += A[SM_PEOPLE];
			bc += cost_of(A, SM_BASE);
			sc += scn_cost(A);
			for (int k = 0; k < SA_N; k++) {
				act[k] += A[SM_BASE + k];
				act[SA_N + k] += A[SM_SCN + k];
			}
		}
		double ny = y1 - y0;
		x[0 * n + run] = ppl / ny;
		x[1 * n + run] = ppl > 0 ? bc / ppl : 0;
		x[2 * n + run] = ppl > 0 ? sc / ppl : 0;
		x[3 * n + run] = ppl > 0 ? (sc - bc) / ppl : 0;
		x[4 * n + run] = bc / ny;
		x[5 * n + run] = sc / ny;
		x[6 * n + run] = (sc - bc) / ny;
		for (int k = 0; k < 2 * SA_N; k++)
			ax[(size_t)k * (size_t)n + (size_t)run] = act[k] / ny;
	}
	struct yoc_sim_stat *o[7] = {&t->people, &t->base_mean, &t->scn_mean, &t->diff_mean,
				     &t->base_total, &t->scn_total, &t->diff_total};
	for (int i = 0; i < 7; i++)
		yoc_sim_stat_of(x + (size_t)i * (size_t)n, n, o[i]);
	for (int k = 0; k < SA_N; k++) {
		yoc_sim_stat_of(ax + (size_t)k * (size_t)n, n, &t->base_act[k]);
		yoc_sim_stat_of(ax + (size_t)(SA_N + k) * (size_t)n, n, &t->scn_act[k]);
	}
	yoc_free(x);
	yoc_free(ax);
	return 0;
}

int yoc_sim_waterfall(const struct yoc_sim_data *d, const struct yoc_scenario *s,
		      const struct yoc_sim_result *r, struct yoc_sim_stat out[SE_N + 2])
{
	int n = r->runs;
	double *x = yoc_malloc((size_t)n * sizeof *x);
	if (!x)
		return YOC_ENOMEM;
	for (int f = 0; f < SE_N + 2; f++) {
		for (int run = 0; run < n; run++) {
			double v = 0;
			for (int c = 0; c < r->nc; c++) {
				if (!yoc_sim_offered(d, s, c))
					continue;
				for (int y = 0; y < r->years; y++)
					v += cell(r, run, c, y)[SM_FACTOR + f];
			}
			x[run] = v;
		}
		yoc_sim_stat_of(x, n, &out[f]);
	}
	yoc_free(x);
	return 0;
}

/* Contacts (or bed days) of a staff group in one cohort-year's values. */
static double contacts(const struct yoc_staff *g, const double *A, int base, int scn,
		       double coord)
{
	switch (g->basis) {
	case YOC_WF_BED_DAYS:
		return A[base + SA_EM_BED_DAYS];
	case YOC_WF_SERVICE:
		return scn ? A[SM_ENROLLED] * coord : 0;
	default:
		return A[base + g->act] * g->share / g->unit_cost;
	}
}

int yoc_sim_wte(const struct yoc_sim_data *d, const struct yoc_scenario *s,
		const struct yoc_workforce *w, const struct yoc_sim_result *r, int g, int y,
		struct yoc_sim_stat *base, struct yoc_sim_stat *scn)
{
	int n = r->runs;
	double *x = yoc_malloc((size_t)n * 2 * sizeof *x);
	if (!x)
		return YOC_ENOMEM;
	const struct yoc_staff *st = &w->s[g];
	for (int run = 0; run < n; run++) {
		double b = 0, sc = 0;
		for (int c = 0; c < r->nc; c++) {
			const double *A = cell(r, run, c, y);
			int off = yoc_sim_offered(d, s, c);
			b += contacts(st, A, SM_BASE, 0, 0);
			sc += contacts(st, A, off ? SM_SCN : SM_BASE, off, s->coordinator_contacts);
		}
		x[run] = b / st->per_wte;
		x[n + run] = sc / st->per_wte;
	}
	yoc_sim_stat_of(x, n, base);
	yoc_sim_stat_of(x + n, n, scn);
	yoc_free(x);
	return 0;
}

int yoc_sim_break_even(const struct yoc_sim_data *d, const struct yoc_sim_result *r)
{
	int best = -1, n = r->runs;
	double *x = yoc_malloc((size_t)n * sizeof *x);
	if (!x)
		return -1;
	for (int c = 0; c < d->ncohort; c++) {
		for (int run = 0; run < n; run++) {
			double ppl = 0, diff = 0;
			for (int y = 0; y < r->years; y++) {
				const double *A = cell(r, run, c, y);
				ppl += A[SM_PEOPLE];
				diff += scn_cost(A) - cost_of(A, SM_BASE);
			}
			x[run] = ppl > 0 ? diff / ppl : 0;
		}
		struct yoc_sim_stat st;
		yoc_sim_stat_of(x, n, &st);
		if (st.p95 < 0)
			best = c;
		else
			break; /* cohorts run from the highest risk down */
	}
	yoc_free(x);
	return best;
}

/* ---- CSV ------------------------------------------------------------------ */

static void put_stat(struct yoc_csvw *w, const char *scenario, const char *cohort, int year,
		     const char *measure, const char *arm, const struct yoc_sim_stat *st)
{
	char b[64];
	yoc_csvw_str(w, scenario);
	yoc_csvw_str(w, cohort);
	if (year > 0)
		yoc_csvw_int(w, year);
	else
		yoc_csvw_str(w, "all");
	yoc_csvw_str(w, measure);
	yoc_csvw_str(w, arm);
	const double v[6] = {st->mean, st->p5, st->p10, st->p50, st->p90, st->p95};
	for (int i = 0; i < 6; i++) {
		snprintf(b, sizeof b, "%.6f", v[i]);
		yoc_csvw_str(w, b);
	}
	yoc_csvw_end(w);
}

int yoc_sim_write_csv(FILE *f, const struct yoc_sim_data *d, const struct yoc_sim_result *r,
		      const struct yoc_sim_meta *m)
{
	struct yoc_csvw w;
	yoc_csvw_init(&w, f, ',');
	static const char *const hdr[] = {"scenario", "cohort", "year", "measure", "arm",
					  "mean", "p5", "p10", "p50", "p90", "p95"};
	for (int i = 0; i < 11; i++)
		yoc_csvw_str(&w, hdr[i]);
	yoc_csvw_end(&w);
	const char *sn = m->s->name;
	for (int c = 0; c < r->nc; c++)
		for (int y = -1; y < r->years; y++) {
			struct yoc_sim_t3 t;
			if (yoc_sim_table3(d, m->s, r, c, y, &t))
				return YOC_ENOMEM;
			const char *lab = d->label[c];
			int yr = y + 1;
			put_stat(&w, sn, lab, yr, "people", "baseline", &t.people);
			put_stat(&w, sn, lab, yr, "mean_cost", "baseline", &t.base_mean);
			put_stat(&w, sn, lab, yr, "mean_cost", "scenario", &t.scn_mean);
			put_stat(&w, sn, lab, yr, "mean_cost", "difference", &t.diff_mean);
			put_stat(&w, sn, lab, yr, "total_cost", "baseline", &t.base_total);
			put_stat(&w, sn, lab, yr, "total_cost", "scenario", &t.scn_total);
			put_stat(&w, sn, lab, yr, "total_cost", "difference", &t.diff_total);
			for (int k = 0; k < SA_N; k++) {
				char mname[64];
				snprintf(mname, sizeof mname, "%s%s", yoc_sim_act_name[k],
					 k < SA_NCOST ? "_cost" : "");
				put_stat(&w, sn, lab, yr, mname, "baseline", &t.base_act[k]);
				put_stat(&w, sn, lab, yr, mname, "scenario", &t.scn_act[k]);
			}
		}
	for (int g = 0; m->w && g < m->w->n; g++)
		for (int y = 0; y < r->years; y++) {
			struct yoc_sim_stat b, s;
			if (yoc_sim_wte(d, m->s, m->w, r, g, y, &b, &s))
				return YOC_ENOMEM;
			char mname[80];
			snprintf(mname, sizeof mname, "wte_%s", m->w->s[g].group);
			put_stat(&w, sn, "all", y + 1, mname, "baseline", &b);
			put_stat(&w, sn, "all", y + 1, mname, "scenario", &s);
		}
	struct yoc_sim_stat wf[SE_N + 2];
	if (yoc_sim_waterfall(d, m->s, r, wf))
		return YOC_ENOMEM;
	for (int k = 0; k < SE_N + 2; k++) {
		char mname[80];
		snprintf(mname, sizeof mname, "change_%s",
			 k < SE_N ? yoc_sim_eff_name[k] : k == SE_N ? "shifts" : "service_cost");
		put_stat(&w, sn, "enrolled", 0, mname, "difference", &wf[k]);
	}
	return ferror(f) ? YOC_EIO : 0;
}

/* ---- against a known truth ------------------------------------------------- */

const char *const yoc_sim_truth_name[ST_N] = {"emergency_admissions", "emergency_bed_days",
					      "cost_ae", "cost_community", "cost_gp",
					      "care_cost", "service_cost", "total_cost"};

int yoc_sim_truth_compare(const struct yoc_sim_data *d, const struct yoc_sim_result *r,
			  struct yoc_sim_truth *t)
{
	int n = r->runs;
	t->people = d->n;
	if (t->y0 < 0 || t->ny < 1 || t->y0 + t->ny > r->years || d->n == 0)
		return YOC_EINVAL;
	double *x = yoc_malloc((size_t)n * ST_N * sizeof *x);
	if (!x)
		return YOC_ENOMEM;
	double den = (double)d->n * t->ny;
	for (int run = 0; run < n; run++) {
		double v[ST_N] = {0};
		for (int y = t->y0; y < t->y0 + t->ny; y++) {
			const double *A = cell(r, run, 0, y);
			v[ST_EM_ADM] += A[SM_SCN + SA_EM_ADM] - A[SM_BASE + SA_EM_ADM];
			v[ST_EM_BED_DAYS] += A[SM_SCN + SA_EM_BED_DAYS] - A[SM_BASE + SA_EM_BED_DAYS];
			v[ST_AE] += A[SM_SCN + SA_AE] - A[SM_BASE + SA_AE];
			v[ST_COMMUNITY] += A[SM_SCN + SA_COMMUNITY] - A[SM_BASE + SA_COMMUNITY];
			v[ST_GP] += A[SM_SCN + SA_GP] - A[SM_BASE + SA_GP];
			v[ST_CARE] += cost_of(A, SM_SCN) - cost_of(A, SM_BASE);
			v[ST_SERVICE] += A[SM_SERVICE_COST];
		}
		v[ST_TOTAL] = v[ST_CARE] + v[ST_SERVICE];
		for (int k = 0; k < ST_N; k++)
			x[(size_t)k * (size_t)n + (size_t)run] = v[k] / den;
	}
	for (int k = 0; k < ST_N; k++)
		yoc_sim_stat_of(x + (size_t)k * (size_t)n, n, &t->sim[k]);
	yoc_free(x);
	return 0;
}

/* ---- the catalog ------------------------------------------------------------ */

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS sim_run(scenario TEXT PRIMARY KEY, run_id TEXT, created TEXT,"
	" base_year TEXT, years INTEGER, runs INTEGER, seed TEXT, scenario_sha256 TEXT,"
	" dataset_sha256 TEXT, workforce TEXT, persons INTEGER, break_even TEXT, seconds REAL,"
	" enrolled_cohorts TEXT);"
	"CREATE TABLE IF NOT EXISTS sim_table3(scenario TEXT, cohort TEXT, cohort_order INTEGER,"
	" offered INTEGER, year INTEGER, measure TEXT, arm TEXT, mean REAL, p5 REAL, p10 REAL,"
	" p50 REAL, p90 REAL, p95 REAL, observed REAL);"
	"CREATE TABLE IF NOT EXISTS sim_workforce(scenario TEXT, staff_group TEXT, year INTEGER,"
	" arm TEXT, mean REAL, p5 REAL, p10 REAL, p50 REAL, p90 REAL, p95 REAL);"
	"CREATE TABLE IF NOT EXISTS sim_waterfall(scenario TEXT, factor TEXT, factor_order INTEGER,"
	" mean REAL, p5 REAL, p10 REAL, p50 REAL, p90 REAL, p95 REAL);"
	"CREATE TABLE IF NOT EXISTS sim_enrolled(scenario TEXT, pseudo_id TEXT, status TEXT);"
	"CREATE TABLE IF NOT EXISTS sim_truth(scenario TEXT, measure TEXT, measure_order INTEGER,"
	" first_year INTEGER, years INTEGER, people INTEGER, truth REAL, mean REAL, p5 REAL,"
	" p10 REAL, p50 REAL, p90 REAL, p95 REAL, inside INTEGER);";

static const char *const enrol_status_name[] = {"simulated", "no row in the base year",
						 "died in the base year", "listed twice"};

struct srow {
	const char *measure, *arm;
	const struct yoc_sim_stat *s;
};

static int ins(sqlite3_stmt *st, int first, const struct yoc_sim_stat *s)
{
	const double v[6] = {s->mean, s->p5, s->p10, s->p50, s->p90, s->p95};
	for (int i = 0; i < 6; i++)
		sqlite3_bind_double(st, first + i, v[i]);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int yoc_sim_store(sqlite3 *db, const struct yoc_sim_data *d, const struct yoc_sim_result *r,
		  const struct yoc_sim_meta *m, struct yoc_error *e)
{
	sqlite3_stmt *t3 = NULL, *wf = NULL, *wk = NULL, *run = NULL, *en = NULL, *tr = NULL;
	int rc = 0, began = 0;
	const char *sn = m->s->name;
	if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto dberr;
	began = 1;
	static const char *const del[] = {"DELETE FROM sim_run WHERE scenario = ?1",
					  "DELETE FROM sim_table3 WHERE scenario = ?1",
					  "DELETE FROM sim_workforce WHERE scenario = ?1",
					  "DELETE FROM sim_waterfall WHERE scenario = ?1",
					  "DELETE FROM sim_enrolled WHERE scenario = ?1",
					  "DELETE FROM sim_truth WHERE scenario = ?1"};
	for (int i = 0; i < 6; i++) {
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(db, del[i], -1, &st, NULL) != SQLITE_OK)
			goto dberr;
		sqlite3_bind_text(st, 1, sn, -1, SQLITE_STATIC);
		int s = sqlite3_step(st);
		sqlite3_finalize(st);
		if (s != SQLITE_DONE)
			goto dberr;
	}
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO sim_run VALUES(?1,?2,datetime('now'),?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)",
			       -1, &run, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO sim_table3 VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)",
			       -1, &t3, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO sim_workforce VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)", -1,
			       &wk, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO sim_waterfall VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)", -1,
			       &wf, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO sim_enrolled VALUES(?1,?2,?3)", -1, &en, NULL) !=
		    SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO sim_truth VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)",
			       -1, &tr, NULL) != SQLITE_OK)
		goto dberr;
	char by[16], seed[32], enr[400] = "";
	snprintf(by, sizeof by, "%d/%02d", d->base_year, (d->base_year + 1) % 100);
	snprintf(seed, sizeof seed, "%llu", (unsigned long long)m->o->seed);
	for (int c = 0; c < d->ncohort; c++)
		if (yoc_sim_offered(d, m->s, c)) {
			size_t l = strlen(enr);
			snprintf(enr + l, sizeof enr - l, "%s%s", l ? "," : "", d->label[c]);
		}
	int be = yoc_sim_break_even(d, r);
	sqlite3_bind_text(run, 1, sn, -1, SQLITE_STATIC);
	sqlite3_bind_text(run, 2, m->run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(run, 3, by, -1, SQLITE_STATIC);
	sqlite3_bind_int(run, 4, r->years);
	sqlite3_bind_int(run, 5, r->runs);
	sqlite3_bind_text(run, 6, seed, -1, SQLITE_STATIC);
	sqlite3_bind_text(run, 7, m->s->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(run, 8, d->dataset_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(run, 9, m->w ? m->w->version : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(run, 10, (sqlite3_int64)d->n);
	if (be >= 0)
		sqlite3_bind_text(run, 11, d->label[be], -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(run, 11);
	sqlite3_bind_double(run, 12, m->seconds);
	sqlite3_bind_text(run, 13, m->s->rule ? "rule" : enr, -1, SQLITE_STATIC);
	if (sqlite3_step(run) != SQLITE_DONE)
		goto dberr;
	for (int c = 0; c < r->nc; c++)
		for (int y = -1; y < r->years; y++) {
			struct yoc_sim_t3 t;
			if (yoc_sim_table3(d, m->s, r, c, y, &t)) {
				rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
				goto cleanup;
			}
			struct srow rows[7 + 2 * SA_N] = {
				{"people", "baseline", &t.people},
				{"mean_cost", "baseline", &t.base_mean},
				{"mean_cost", "scenario", &t.scn_mean},
				{"mean_cost", "difference", &t.diff_mean},
				{"total_cost", "baseline", &t.base_total},
				{"total_cost", "scenario", &t.scn_total},
				{"total_cost", "difference", &t.diff_total},
			};
			for (int k = 0; k < SA_N; k++) {
				rows[7 + 2 * k] = (struct srow){yoc_sim_act_name[k], "baseline",
								    &t.base_act[k]};
				rows[8 + 2 * k] = (struct srow){yoc_sim_act_name[k], "scenario",
								    &t.scn_act[k]};
			}
			for (int i = 0; i < 7 + 2 * SA_N; i++) {
				sqlite3_bind_text(t3, 1, sn, -1, SQLITE_STATIC);
				sqlite3_bind_text(t3, 2, d->label[c], -1, SQLITE_STATIC);
				sqlite3_bind_int(t3, 3, c);
				sqlite3_bind_int(t3, 4, yoc_sim_offered(d, m->s, c));
				sqlite3_bind_int(t3, 5, y + 1);
				sqlite3_bind_text(t3, 6, rows[i].measure, -1, SQLITE_STATIC);
				sqlite3_bind_text(t3, 7, rows[i].arm, -1, SQLITE_STATIC);
				if (i == 1 && y == 0 && c < d->ncohort && d->have_next)
					sqlite3_bind_double(t3, 14, d->obs_next_mean[c]);
				else
					sqlite3_bind_null(t3, 14);
				if (ins(t3, 8, rows[i].s))
					goto dberr;
			}
		}
	for (int g = 0; m->w && g < m->w->n; g++)
		for (int y = 0; y < r->years; y++) {
			struct yoc_sim_stat b, s;
			if (yoc_sim_wte(d, m->s, m->w, r, g, y, &b, &s)) {
				rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
				goto cleanup;
			}
			for (int a = 0; a < 2; a++) {
				sqlite3_bind_text(wk, 1, sn, -1, SQLITE_STATIC);
				sqlite3_bind_text(wk, 2, m->w->s[g].group, -1, SQLITE_STATIC);
				sqlite3_bind_int(wk, 3, y + 1);
				sqlite3_bind_text(wk, 4, a ? "scenario" : "baseline", -1, SQLITE_STATIC);
				if (ins(wk, 5, a ? &s : &b))
					goto dberr;
			}
		}
	struct yoc_sim_stat wfs[SE_N + 2];
	if (yoc_sim_waterfall(d, m->s, r, wfs)) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	for (int k = 0; k < SE_N + 2; k++) {
		sqlite3_bind_text(wf, 1, sn, -1, SQLITE_STATIC);
		sqlite3_bind_text(wf, 2,
				  k < SE_N ? yoc_sim_eff_name[k] : k == SE_N ? "shifts" : "service_cost",
				  -1, SQLITE_STATIC);
		sqlite3_bind_int(wf, 3, k);
		if (ins(wf, 4, &wfs[k]))
			goto dberr;
	}
	for (size_t i = 0; i < d->nenrol_id; i++) {
		sqlite3_bind_text(en, 1, sn, -1, SQLITE_STATIC);
		sqlite3_bind_text(en, 2, d->enrol_id[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(en, 3, enrol_status_name[d->enrol_status[i] & 3], -1, SQLITE_STATIC);
		int s = sqlite3_step(en);
		sqlite3_reset(en);
		if (s != SQLITE_DONE)
			goto dberr;
	}
	for (int k = 0; m->truth && k < ST_N; k++) {
		const struct yoc_sim_truth *T = m->truth;
		sqlite3_bind_text(tr, 1, sn, -1, SQLITE_STATIC);
		sqlite3_bind_text(tr, 2, yoc_sim_truth_name[k], -1, SQLITE_STATIC);
		sqlite3_bind_int(tr, 3, k);
		sqlite3_bind_int(tr, 4, T->y0 + 1);
		sqlite3_bind_int(tr, 5, T->ny);
		sqlite3_bind_int64(tr, 6, (sqlite3_int64)T->people);
		sqlite3_bind_double(tr, 7, T->truth[k]);
		sqlite3_bind_int(tr, 14, T->truth[k] >= T->sim[k].p5 && T->truth[k] <= T->sim[k].p95);
		if (ins(tr, 8, &T->sim[k]))
			goto dberr;
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto dberr;
	began = 0;
	goto cleanup;
dberr:
	rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "storing the simulation: %s",
			   sqlite3_errmsg(db));
cleanup:
	if (began)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_finalize(t3);
	sqlite3_finalize(wf);
	sqlite3_finalize(wk);
	sqlite3_finalize(run);
	sqlite3_finalize(en);
	sqlite3_finalize(tr);
	return rc;
}

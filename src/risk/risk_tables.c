/*
** Tables of the temporal validation's evaluation rows: ROC curve points of
** each score (risk_roc) and calibration by decile of predicted risk and by
** age band, sex and IMD quintile (risk_calibration). Written inside the
** transaction of yoc_risk_validate; docs/risk.md gives the columns.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "risk/risk.h"
#include "yoc/date.h"

#define ROC_POINTS 100

int yoc__risk_roc(struct yoc_risk_validation *v, const char *model, const double *score,
		  const double *y, size_t n, const size_t *o)
{
	size_t need = v->nroc + ROC_POINTS + 1;
	void *q = yoc_realloc(v->roc, need * sizeof *v->roc);
	if (!q)
		return YOC_ENOMEM;
	v->roc = q;
	double pos = 0;
	for (size_t i = 0; i < n; i++)
		pos += y[i];
	double neg = (double)n - pos;
	size_t sel = 0, tp = 0;
	for (int k = 0; k <= ROC_POINTS; k++) {
		struct yoc_risk_roc_point *r = &v->roc[v->nroc++];
		memset(r, 0, sizeof *r);
		snprintf(r->model, sizeof r->model, "%s", model);
		r->point = k;
		r->threshold = NAN;
		if (k > 0 && n > 0) {
			/* the score at rank ceil(k n / 100); every row scoring at least it */
			size_t j = (size_t)ceil((double)k * (double)n / ROC_POINTS - 1e-9);
			j = j < 1 ? 1 : j > n ? n : j;
			double t = score[o[j - 1]];
			while (sel < n && score[o[sel]] >= t)
				tp += y[o[sel++]] > 0.5;
			r->threshold = t;
		}
		r->selected = sel;
		r->tp = tp;
		r->fp = sel - tp;
		r->tpr = pos > 0 ? (double)tp / pos : NAN;
		r->fpr = neg > 0 ? (double)(sel - tp) / neg : NAN;
	}
	return 0;
}

static int fail(sqlite3 *db, struct yoc_error *e)
{
	return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
}

static void bind_real(sqlite3_stmt *st, int i, double x)
{
	if (isfinite(x))
		sqlite3_bind_double(st, i, x);
	else
		sqlite3_bind_null(st, i);
}

int yoc__risk_store_roc(sqlite3 *db, const struct yoc_risk_validation *v, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;
	char fye[8];
	yoc_fyear_format(v->eval_year, fye);
	if (sqlite3_exec(db, "DROP TABLE IF EXISTS risk_roc; CREATE TABLE risk_roc(fyear TEXT NOT "
			 "NULL, model TEXT NOT NULL, point INTEGER NOT NULL, threshold REAL, "
			 "selected INTEGER NOT NULL, tp INTEGER NOT NULL, fp INTEGER NOT NULL, "
			 "tpr REAL, fpr REAL)", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO risk_roc VALUES (?,?,?,?,?,?,?,?,?)", -1, &st,
			       NULL) != SQLITE_OK)
		return fail(db, e);
	for (size_t i = 0; i < v->nroc && !rc; i++) {
		const struct yoc_risk_roc_point *r = &v->roc[i];
		sqlite3_bind_text(st, 1, fye, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, r->model, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, r->point);
		bind_real(st, 4, r->threshold);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)r->selected);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)r->tp);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)r->fp);
		bind_real(st, 8, r->tpr);
		bind_real(st, 9, r->fpr);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = fail(db, e);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc;
}

/* 95% interval of O/E: log-normal, se of log(O/E) = 1/sqrt(O); O = 0: [0, 3.689/E]. */
static void oe_ci(double o, double ex, double *oe, double *lo, double *hi)
{
	*oe = ex > 0 ? o / ex : NAN;
	if (!(ex > 0)) {
		*lo = *hi = NAN;
	} else if (o > 0) {
		*lo = *oe * exp(-1.96 / sqrt(o));
		*hi = *oe * exp(1.96 / sqrt(o));
	} else {
		*lo = 0;
		*hi = -log(0.025) / ex;
	}
}

static const char group_sql[] =
	"SELECT g.grouping, g.grp, count(*), sum(g.outcome), sum(g.probability), sum(g.oracle),"
	" min(g.probability), max(g.probability) FROM ("
	" SELECT 'age_band' grouping, CASE WHEN p.age IS NULL THEN 'unknown'"
	"  WHEN p.age < 18 THEN '0-17' WHEN p.age < 45 THEN '18-44' WHEN p.age < 65 THEN '45-64'"
	"  WHEN p.age < 75 THEN '65-74' WHEN p.age < 85 THEN '75-84' ELSE '85+' END grp,"
	"  r.outcome, r.probability, r.oracle FROM risk_validation_rows r JOIN person_year p"
	"  ON p.pseudo_id = r.pseudo_id AND p.fyear = r.fyear"
	" UNION ALL SELECT 'sex', CASE WHEN p.sex IN ('2', 'F') THEN 'female'"
	"  WHEN p.sex IN ('1', 'M') THEN 'male' ELSE 'unknown' END,"
	"  r.outcome, r.probability, r.oracle FROM risk_validation_rows r JOIN person_year p"
	"  ON p.pseudo_id = r.pseudo_id AND p.fyear = r.fyear"
	" UNION ALL SELECT 'imd_quintile', CASE WHEN p.imd_decile BETWEEN 1 AND 10"
	"  THEN CAST((p.imd_decile + 1) / 2 AS TEXT) ELSE 'unknown' END,"
	"  r.outcome, r.probability, r.oracle FROM risk_validation_rows r JOIN person_year p"
	"  ON p.pseudo_id = r.pseudo_id AND p.fyear = r.fyear"
	") g GROUP BY g.grouping, g.grp ORDER BY g.grouping, g.grp";

static int put_calib(sqlite3_stmt *ins, const char *fye, const char *model, const char *grouping,
		     const char *grp, double n, double o, double ex, double pmin, double pmax)
{
	double oe, lo, hi;
	oe_ci(o, ex, &oe, &lo, &hi);
	sqlite3_bind_text(ins, 1, fye, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 2, model, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(ins, 3, grouping, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(ins, 4, grp, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(ins, 5, (sqlite3_int64)n);
	sqlite3_bind_double(ins, 6, o);
	sqlite3_bind_double(ins, 7, ex);
	bind_real(ins, 8, oe);
	bind_real(ins, 9, lo);
	bind_real(ins, 10, hi);
	bind_real(ins, 11, pmin);
	bind_real(ins, 12, pmax);
	int ok = sqlite3_step(ins) == SQLITE_DONE;
	sqlite3_reset(ins);
	return ok ? 0 : -1;
}

static const struct yoc_risk_metric *metric(const struct yoc_risk_validation *v, const char *nm)
{
	for (size_t k = 0; k < v->nm; k++)
		if (strcmp(v->m[k].metric, nm) == 0 && strcmp(v->m[k].model, "model") == 0)
			return &v->m[k];
	return NULL;
}

int yoc__risk_store_calibration(sqlite3 *db, const struct yoc_risk_validation *v,
				struct yoc_error *e)
{
	sqlite3_stmt *ins = NULL, *st = NULL;
	int rc = 0;
	char fye[8];
	yoc_fyear_format(v->eval_year, fye);
	if (sqlite3_exec(db, "DROP TABLE IF EXISTS risk_calibration; CREATE TABLE "
			 "risk_calibration(fyear TEXT NOT NULL, model TEXT NOT NULL, grouping TEXT "
			 "NOT NULL, grp TEXT NOT NULL, n INTEGER NOT NULL, observed REAL NOT NULL, "
			 "expected REAL NOT NULL, oe REAL, oe_lo REAL, oe_hi REAL, p_min REAL, "
			 "p_max REAL)", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO risk_calibration VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &ins, NULL) != SQLITE_OK) {
		rc = fail(db, e);
		goto cleanup;
	}
	for (int k = 1; k <= 10; k++) {
		char nm[32], grp[16];
		snprintf(nm, sizeof nm, "decile%02d_n", k);
		const struct yoc_risk_metric *mn = metric(v, nm);
		snprintf(nm, sizeof nm, "decile%02d_observed", k);
		const struct yoc_risk_metric *mo = metric(v, nm);
		snprintf(nm, sizeof nm, "decile%02d_expected", k);
		const struct yoc_risk_metric *me = metric(v, nm);
		if (!mn || !mo || !me)
			continue;
		snprintf(grp, sizeof grp, "%02d", k);
		if (put_calib(ins, fye, "model", "decile", grp, mn->value, mo->value, me->value,
			      mn->lo, mn->hi)) {
			rc = fail(db, e);
			goto cleanup;
		}
	}
	if (sqlite3_prepare_v2(db, group_sql, -1, &st, NULL) != SQLITE_OK) {
		rc = fail(db, e);
		goto cleanup;
	}
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *grouping = (const char *)sqlite3_column_text(st, 0);
		const char *grp = (const char *)sqlite3_column_text(st, 1);
		double n = sqlite3_column_double(st, 2), o = sqlite3_column_double(st, 3);
		if (put_calib(ins, fye, "model", grouping, grp, n, o, sqlite3_column_double(st, 4),
			      sqlite3_column_double(st, 6), sqlite3_column_double(st, 7)) ||
		    (v->has_oracle && put_calib(ins, fye, "oracle", grouping, grp, n, o,
						sqlite3_column_double(st, 5), NAN, NAN))) {
			rc = fail(db, e);
			goto cleanup;
		}
	}
	if (step != SQLITE_DONE)
		rc = fail(db, e);
cleanup:
	sqlite3_finalize(st);
	sqlite3_finalize(ins);
	return rc;
}

/*
** Risk scores and validation: ranks, percentiles, tiers and the top
** contributions of each person-year (table risk_score), and the temporal
** validation against two comparators (table risk_validation). Each table's
** rows are replaced in one transaction.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "risk/risk.h"
#include "stats/stats.h"
#include "yoc/date.h"

int yoc_risk_tiers_parse(const char *spec, struct yoc_risk_tiers *t, struct yoc_error *e)
{
	memset(t, 0, sizeof *t);
	if (!spec)
		spec = "0.5,2,5,10,20";
	const char *s = spec;
	while (*s) {
		char *end;
		double v = strtod(s, &end);
		if (end == s || !(v > 0 && v < 100) || (t->n && v <= t->cut[t->n - 1]) ||
		    t->n >= YOC_RISK_MAXTIERS || (*end && *end != ','))
			return yoc_error_set(e, YOC_EINVAL, "--tiers", 0, 0,
					     "'%s': want ascending percentages between 0 and 100, "
					     "comma-separated (at most %d), like 0.5,2,5,10,20",
					     spec, YOC_RISK_MAXTIERS);
		t->cut[t->n++] = v;
		s = *end ? end + 1 : end;
	}
	if (!t->n)
		return yoc_error_set(e, YOC_EINVAL, "--tiers", 0, 0, "no cut points");
	return 0;
}

static void tier_name(const struct yoc_risk_tiers *t, int k, char *out, size_t cap)
{
	if (k == 0)
		snprintf(out, cap, "top%g", t->cut[0]);
	else if (k < t->n)
		snprintf(out, cap, "%g-%g", t->cut[k - 1], t->cut[k]);
	else
		snprintf(out, cap, "rest");
}

/* Sort order: score descending, then the row's index (ids are in pseudo_id order). */
static const double *g_score;
static int cmp_desc(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	if (g_score[i] != g_score[j])
		return g_score[i] > g_score[j] ? -1 : 1;
	return (i > j) - (i < j);
}

/* order[r] = row of rank r + 1. Not thread-safe (qsort has no context in C11). */
static size_t *rank_order(const double *score, size_t n)
{
	size_t *o = yoc_malloc((n ? n : 1) * sizeof *o);
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++)
		o[i] = i;
	g_score = score;
	qsort(o, n, sizeof *o, cmp_desc);
	g_score = NULL;
	return o;
}

/* Rows of the first floor(n * pct / 100) ranks: the top pct% of the year. */
static size_t top_count(size_t n, double pct)
{
	return (size_t)floor((double)n * pct / 100.0 + 1e-9);
}

static int exec(sqlite3 *db, const char *sql, struct yoc_error *e)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", msg ? msg : "?");
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

int yoc_risk_score(sqlite3 *db, const struct yoc_risk_model *m, int fyear,
		   const struct yoc_risk_tiers *t, struct yoc_risk_score_stats *stt,
		   struct yoc_error *e)
{
	memset(stt, 0, sizeof *stt);
	struct yoc_risk_data d;
	double *prob = NULL, *mean = NULL, *contrib = NULL;
	int *map = NULL;
	size_t *order = NULL;
	sqlite3_stmt *st = NULL;
	int rc = 0, in_tx = 0;
	char fy[8];
	yoc_fyear_format(fyear, fy);
	if ((rc = yoc_risk_data_build(db, fyear, &m->feat, 0, m->imd_median, &d, e)))
		goto cleanup;
	size_t n = d.n, p = (size_t)d.p;
	prob = yoc_malloc(n * sizeof *prob);
	map = yoc_malloc((size_t)m->p * sizeof *map);
	mean = yoc_calloc(p, sizeof *mean);
	contrib = yoc_malloc((size_t)m->p * sizeof *contrib);
	if (!prob || !map || !mean || !contrib) {
		rc = yoc_error_set(e, YOC_ENOMEM, "risk score", 0, 0, "out of memory");
		goto cleanup;
	}
	if ((rc = yoc_risk_predict(m, &d, prob, map, e)))
		goto cleanup;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < p; j++)
			mean[j] += d.X[i * p + j] / (double)n;
	if (!(order = rank_order(prob, n))) {
		rc = yoc_error_set(e, YOC_ENOMEM, "risk score", 0, 0, "out of memory");
		goto cleanup;
	}
	if ((rc = exec(db, "BEGIN IMMEDIATE", e)))
		goto cleanup;
	in_tx = 1;
	if ((rc = exec(db, "CREATE TABLE IF NOT EXISTS risk_score(pseudo_id TEXT NOT NULL, "
			   "fyear TEXT NOT NULL, probability REAL NOT NULL, rank INTEGER NOT NULL, "
			   "percentile REAL NOT NULL, tier TEXT NOT NULL, top3 TEXT NOT NULL, "
			   "model_id TEXT NOT NULL)", e)))
		goto cleanup;
	char del[96];
	snprintf(del, sizeof del, "DELETE FROM risk_score WHERE fyear = '%s'", fy);
	if ((rc = exec(db, del, e)))
		goto cleanup;
	if (sqlite3_prepare_v2(db, "INSERT INTO risk_score VALUES (?,?,?,?,?,?,?,?)", -1, &st,
			       NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
		goto cleanup;
	}
	for (int k = 0; k <= t->n; k++)
		tier_name(t, k, stt->tier_name[k], sizeof stt->tier_name[k]);
	stt->n = n;
	for (size_t r = 0; r < n; r++) {
		size_t i = order[r];
		int k = 0;
		while (k < t->n && r + 1 > top_count(n, t->cut[k]))
			k++;
		stt->tier_n[k]++;
		stt->mean_prob += prob[i] / (double)n;
		/* contributions coef * (x - mean); the three largest increases of risk */
		char top3[256] = "";
		for (int j = 0; j < m->p; j++)
			contrib[j] = (j == 0 || map[j] < 0)
					     ? -INFINITY
					     : m->coef[j] * (d.X[i * p + (size_t)map[j]] -
							     mean[map[j]]);
		for (int c = 0; c < 3; c++) {
			int best = -1;
			for (int j = 1; j < m->p; j++)
				if (contrib[j] > 0 && (best < 0 || contrib[j] > contrib[best]))
					best = j;
			if (best < 0)
				break;
			size_t l = strlen(top3);
			snprintf(top3 + l, sizeof top3 - l, "%s%s:%+.2f", l ? ";" : "", m->terms[best],
				 contrib[best]);
			contrib[best] = -INFINITY;
		}
		sqlite3_bind_text(st, 1, d.ids[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, fy, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 3, prob[i]);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)(r + 1));
		sqlite3_bind_double(st, 5, 100.0 * (double)(n - r - 1) / (double)n);
		sqlite3_bind_text(st, 6, stt->tier_name[k], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, top3, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 8, m->model_id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "risk_score: %s",
					   sqlite3_errmsg(db));
			goto cleanup;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = exec(db, "COMMIT", e)))
		goto cleanup;
	in_tx = 0;
cleanup:
	sqlite3_finalize(st);
	if (in_tx)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	yoc_risk_data_free(&d);
	yoc_free(prob);
	yoc_free(map);
	yoc_free(mean);
	yoc_free(contrib);
	yoc_free(order);
	return rc;
}

/* ---- validation ------------------------------------------------------------------- */

void yoc_risk_validation_free(struct yoc_risk_validation *v)
{
	if (v) {
		yoc_free(v->m);
		yoc_free(v->roc);
		memset(v, 0, sizeof *v);
	}
}

static int put(struct yoc_risk_validation *v, const char *metric, const char *model,
	       double value, double lo, double hi)
{
	if ((v->nm & 63) == 0) {
		void *q = yoc_realloc(v->m, (v->nm + 64) * sizeof *v->m);
		if (!q)
			return YOC_ENOMEM;
		v->m = q;
	}
	struct yoc_risk_metric *r = &v->m[v->nm++];
	snprintf(r->metric, sizeof r->metric, "%s", metric);
	snprintf(r->model, sizeof r->model, "%s", model);
	r->value = value;
	r->lo = lo;
	r->hi = hi;
	return 0;
}

static const double top_pcts[] = {0.5, 1, 2, 5, 10};

/*
** Average precision (area under the precision-recall curve): the sum over
** distinct score values, highest first, of the recall gained at that value
** times the precision at it (rows tied on a score enter together).
*/
static double average_precision(const double *score, const double *y, size_t n,
				const size_t *o)
{
	double pos = 0, tp = 0, ap = 0, prev_recall = 0;
	for (size_t i = 0; i < n; i++)
		pos += y[i];
	if (pos <= 0)
		return NAN;
	for (size_t r = 0; r < n;) {
		size_t q = r;
		while (q < n && score[o[q]] == score[o[r]])
			tp += y[o[q++]];
		double recall = tp / pos;
		ap += (recall - prev_recall) * tp / (double)q;
		prev_recall = recall;
		r = q;
	}
	return ap;
}

/* AUC with CI, AUPRC, sensitivity and PPV at the top shares, for one score. */
static int rank_metrics(struct yoc_risk_validation *v, const char *model, const double *score,
			const double *y, size_t n, struct yoc_error *e)
{
	struct yoc_auc a;
	int rc = yoc_auc_delong(score, y, n, &a, e);
	if (rc)
		return rc;
	if (put(v, "auc", model, a.auc, a.lo, a.hi))
		return YOC_ENOMEM;
	size_t *o = rank_order(score, n);
	if (!o)
		return YOC_ENOMEM;
	if (put(v, "auprc", model, average_precision(score, y, n, o), NAN, NAN)) {
		yoc_free(o);
		return YOC_ENOMEM;
	}
	double events = 0;
	for (size_t i = 0; i < n; i++)
		events += y[i];
	for (size_t k = 0; k < sizeof top_pcts / sizeof top_pcts[0]; k++) {
		size_t m = top_count(n, top_pcts[k]);
		double hit = 0;
		for (size_t r = 0; r < m; r++)
			hit += y[o[r]];
		char nm[32];
		snprintf(nm, sizeof nm, "sensitivity_top%g", top_pcts[k]);
		rc = put(v, nm, model, events > 0 ? hit / events : NAN, NAN, NAN);
		snprintf(nm, sizeof nm, "ppv_top%g", top_pcts[k]);
		rc = rc ? rc : put(v, nm, model, m ? hit / (double)m : NAN, NAN, NAN);
		if (rc)
			break;
	}
	if (!rc)
		rc = yoc__risk_roc(v, model, score, y, n, o);
	yoc_free(o);
	return rc;
}

static int prep(sqlite3 *db, const char *sql, sqlite3_stmt **st, struct yoc_error *e)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
		return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
	return 0;
}

/* 1 if the connection has a temp table risk_oracle (yoc risk validate --truth). */
static int has_oracle(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int has = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM temp.sqlite_master WHERE name = 'risk_oracle'",
			       -1, &st, NULL) == SQLITE_OK)
		has = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return has;
}

/*
** The evaluation rows into risk_validation_rows (replaced), and, with an
** oracle, its probability for the outcome year of each row into oracle.
*/
static int store_rows(sqlite3 *db, const struct yoc_risk_validation *v,
		      const struct yoc_risk_data *d, const double *prob, double *oracle,
		      struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc;
	char fye[8], fyo[8];
	yoc_fyear_format(v->eval_year, fye);
	yoc_fyear_format(v->eval_year + 1, fyo);
	if ((rc = exec(db, "DROP TABLE IF EXISTS risk_validation_rows", e)) ||
	    (rc = exec(db, "CREATE TABLE risk_validation_rows(pseudo_id TEXT NOT NULL, "
			   "fyear TEXT NOT NULL, outcome INTEGER NOT NULL, probability REAL NOT NULL, "
			   "cost_total REAL NOT NULL, ltc_count INTEGER NOT NULL, oracle REAL)", e)) ||
	    (rc = prep(db, "INSERT INTO risk_validation_rows VALUES (?,?,?,?,?,?,NULL)", &st, e)))
		goto cleanup;
	for (size_t i = 0; i < d->n; i++) {
		sqlite3_bind_text(st, 1, d->ids[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, fye, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, d->y[i] > 0.5);
		sqlite3_bind_double(st, 4, prob[i]);
		sqlite3_bind_double(st, 5, d->cost_total[i]);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)llround(d->ltc_count[i]));
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
			goto cleanup;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!oracle)
		goto cleanup;
	char sql[256];
	snprintf(sql, sizeof sql,
		 "UPDATE risk_validation_rows AS r SET oracle = o.p FROM temp.risk_oracle AS o "
		 "WHERE o.pseudo_id = r.pseudo_id AND o.fyear = '%s'", fyo);
	if ((rc = exec(db, sql, e)) ||
	    (rc = prep(db, "SELECT oracle FROM risk_validation_rows ORDER BY rowid", &st, e)))
		goto cleanup;
	size_t i = 0, missing = 0;
	while (sqlite3_step(st) == SQLITE_ROW && i < d->n) {
		if (sqlite3_column_type(st, 0) == SQLITE_NULL)
			missing++;
		oracle[i++] = sqlite3_column_double(st, 0);
	}
	if (missing || i != d->n)
		rc = yoc_error_set(e, YOC_EDATA, "truth/risk.csv", 0, 0,
				   "no oracle risk for %zu of the %zu evaluation rows (year %s): is "
				   "the truth of this dataset, and the key the one it was "
				   "pseudonymised with?", missing + (d->n - i), d->n, fyo);
cleanup:
	sqlite3_finalize(st);
	return rc;
}

int yoc_risk_validate(sqlite3 *db, const struct yoc_risk_featlist *fl, double ridge,
		      double min_per_term, struct yoc_risk_validation *v, struct yoc_error *e)
{
	memset(v, 0, sizeof *v);
	int years[64], ny = 0, rc, in_tx = 0;
	struct yoc_risk_model m;
	struct yoc_risk_data d;
	memset(&m, 0, sizeof m);
	memset(&d, 0, sizeof d);
	double *prob = NULL, *oracle = NULL;
	int *map = NULL;
	sqlite3_stmt *st = NULL;
	if ((rc = yoc_risk_years(db, years, 64, &ny, e)))
		return rc;
	if (ny < 3)
		return yoc_error_set(e, YOC_EDATA, "person_year", 0, 0,
				     "temporal validation needs three analysed years (fit on the "
				     "first, evaluate on the second, outcome in the third); found %d",
				     ny);
	v->train_year = years[ny - 3];
	v->eval_year = years[ny - 2];
	if (years[ny - 1] != v->eval_year + 1 || v->eval_year != v->train_year + 1)
		return yoc_error_set(e, YOC_EDATA, "person_year", 0, 0,
				     "the latest three analysed years are not consecutive");
	if ((rc = yoc_risk_fit(db, v->train_year, fl, ridge, min_per_term, &m, e)))
		goto cleanup;
	v->n_train = m.n;
	v->events_train = m.events;
	snprintf(v->dropped, sizeof v->dropped, "%s", m.dropped);
	snprintf(v->features_version, sizeof v->features_version, "%s", m.feat.version);
	snprintf(v->codelist_version, sizeof v->codelist_version, "%s", m.codelist_version);
	v->p = m.p;
	v->ridge = ridge;
	if ((rc = yoc_risk_data_build(db, v->eval_year, fl, 1, m.imd_median, &d, e)))
		goto cleanup;
	size_t n = d.n;
	v->n = n;
	for (size_t i = 0; i < n; i++)
		v->events += d.y[i] > 0.5;
	v->has_oracle = has_oracle(db);
	prob = yoc_malloc((n ? n : 1) * sizeof *prob);
	map = yoc_malloc((size_t)m.p * sizeof *map);
	if (v->has_oracle)
		oracle = yoc_malloc((n ? n : 1) * sizeof *oracle);
	if (!prob || !map || (v->has_oracle && !oracle)) {
		rc = YOC_ENOMEM;
		goto cleanup;
	}
	if ((rc = yoc_risk_predict(&m, &d, prob, map, e)))
		goto cleanup;
	if ((rc = exec(db, "BEGIN IMMEDIATE", e)))
		goto cleanup;
	in_tx = 1;
	if ((rc = store_rows(db, v, &d, prob, oracle, e)))
		goto cleanup;
	if ((rc = put(v, "n", "model", (double)n, NAN, NAN)) ||
	    (rc = put(v, "events", "model", (double)v->events, NAN, NAN)) ||
	    (rc = put(v, "n_train", "model", (double)m.n, NAN, NAN)) ||
	    (rc = put(v, "events_train", "model", (double)m.events, NAN, NAN)))
		goto cleanup;
	if ((rc = rank_metrics(v, "model", prob, d.y, n, e)))
		goto cleanup;
	struct yoc_brier b;
	if ((rc = yoc_brier(prob, d.y, n, &b, e)))
		goto cleanup;
	if ((rc = put(v, "brier", "model", b.brier, NAN, NAN)) ||
	    (rc = put(v, "scaled_brier", "model", b.scaled, NAN, NAN)))
		goto cleanup;
	struct yoc_calib c;
	if ((rc = yoc_calib_slope(prob, d.y, n, &c, e)))
		goto cleanup;
	if ((rc = put(v, "calibration_slope", "model", c.slope, c.slope - 1.96 * c.slope_se,
		      c.slope + 1.96 * c.slope_se)) ||
	    (rc = put(v, "calibration_intercept", "model", c.intercept,
		      c.intercept - 1.96 * c.intercept_se, c.intercept + 1.96 * c.intercept_se)) ||
	    (rc = put(v, "calibration_in_the_large", "model", c.citl, c.citl - 1.96 * c.citl_se,
		      c.citl + 1.96 * c.citl_se)))
		goto cleanup;
	struct yoc_calib_group g[10];
	if (n >= 10) {
		if ((rc = yoc_calib_groups(prob, d.y, n, 10, g, e)))
			goto cleanup;
		for (int k = 0; k < 10; k++) {
			char nm[32];
			snprintf(nm, sizeof nm, "decile%02d_n", k + 1);
			rc = put(v, nm, "model", (double)g[k].n, g[k].p_min, g[k].p_max);
			snprintf(nm, sizeof nm, "decile%02d_observed", k + 1);
			rc = rc ? rc : put(v, nm, "model", g[k].observed, NAN, NAN);
			snprintf(nm, sizeof nm, "decile%02d_expected", k + 1);
			rc = rc ? rc : put(v, nm, "model", g[k].expected, NAN, NAN);
			if (rc)
				goto cleanup;
		}
	}
	if ((rc = rank_metrics(v, "cost_total", d.cost_total, d.y, n, e)) ||
	    (rc = rank_metrics(v, "ltc_count", d.ltc_count, d.y, n, e)))
		goto cleanup;
	if (oracle) {
		struct yoc_brier bo;
		if ((rc = rank_metrics(v, "oracle", oracle, d.y, n, e)) ||
		    (rc = yoc_brier(oracle, d.y, n, &bo, e)) ||
		    (rc = put(v, "brier", "oracle", bo.brier, NAN, NAN)) ||
		    (rc = put(v, "scaled_brier", "oracle", bo.scaled, NAN, NAN)))
			goto cleanup;
	}
	/* published: QAdmissions, figures.md */
	if ((rc = put(v, "auc", "qadmissions", 0.77, 0.76, 0.78)))
		goto cleanup;

	/* store */
	if ((rc = exec(db, "CREATE TABLE IF NOT EXISTS risk_validation(metric TEXT NOT NULL, "
			   "model TEXT NOT NULL, value REAL, lo REAL, hi REAL, train_year TEXT, "
			   "eval_year TEXT)", e)) ||
	    (rc = exec(db, "DELETE FROM risk_validation", e)))
		goto cleanup;
	if (sqlite3_prepare_v2(db, "INSERT INTO risk_validation VALUES (?,?,?,?,?,?,?)", -1, &st,
			       NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
		goto cleanup;
	}
	char fyt[8], fye[8];
	yoc_fyear_format(v->train_year, fyt);
	yoc_fyear_format(v->eval_year, fye);
	for (size_t k = 0; k < v->nm; k++) {
		const struct yoc_risk_metric *r = &v->m[k];
		sqlite3_bind_text(st, 1, r->metric, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, r->model, -1, SQLITE_STATIC);
		const double vals[3] = {r->value, r->lo, r->hi};
		for (int q = 0; q < 3; q++)
			if (isfinite(vals[q]))
				sqlite3_bind_double(st, 3 + q, vals[q]);
			else
				sqlite3_bind_null(st, 3 + q);
		sqlite3_bind_text(st, 6, fyt, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, fye, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
			goto cleanup;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = yoc__risk_store_roc(db, v, e)) || (rc = yoc__risk_store_calibration(db, v, e)))
		goto cleanup;
	if ((rc = exec(db, "COMMIT", e)))
		goto cleanup;
	in_tx = 0;
cleanup:
	if (rc == YOC_ENOMEM)
		yoc_error_set(e, rc, "risk validate", 0, 0, "out of memory");
	sqlite3_finalize(st);
	if (in_tx)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	if (rc)
		yoc_risk_validation_free(v);
	yoc_risk_model_free(&m);
	yoc_risk_data_free(&d);
	yoc_free(prob);
	yoc_free(oracle);
	yoc_free(map);
	return rc;
}

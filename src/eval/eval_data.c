/*
** An evaluation's data from a dataset (docs/evaluation.md): baseline
** characteristics from person_year in the year before the start, the
** outcomes in the pre years and the post years, who is treated and who may
** be a control, with the number of people left out at each step. Reads the
** catalog through the connection it is given; writes nothing (the eval_*
** tables are written by yoc_eval_db_write). Nothing here prints.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"
#include "yoc/date.h"

const char *const yoc_eval_outcomes[YOC_EVAL_NOUT] = {
	"emergency_admissions", "emergency_bed_days", "bed_days", "cost_nonelective",
	"cost_ae", "cost_community", "cost_gp", "cost_social_care", "cost_total", "died"};

/* log_X is ln(1 + X): costs and bed days are heavy-tailed, and the score is linear. */
static const char default_covariates[] =
	"age,male,imd_decile,ltc_count,mental_ltc_count,emergency_admissions,"
	"log_emergency_bed_days,log_cost_total,log_cost_nonelective,log_cost_ae,log_cost_gp,"
	"log_cost_community";

/* The person_year column under a covariate name (log_X: X). */
static const char *base_col(const char *name)
{
	return strncmp(name, "log_", 4) == 0 ? name + 4 : name;
}

/*
** Covariates from the risk module's risk_score table of the baseline year
** (the score computed from that year's features: a pre-treatment value).
*/
static const struct {
	const char *name, *expr;
} risk_covs[] = {
	{"risk_score", "r.probability"},
	{"risk_percentile", "r.percentile"},
};

static const char *risk_expr(const char *name)
{
	for (size_t i = 0; i < sizeof risk_covs / sizeof risk_covs[0]; i++)
		if (strcmp(name, risk_covs[i].name) == 0)
			return risk_covs[i].expr;
	return NULL;
}

/* Whether risk_score holds scores of financial year fy. */
static int has_risk_scores(sqlite3 *db, const char *fy)
{
	sqlite3_stmt *st = NULL;
	int found = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM risk_score WHERE fyear = ? LIMIT 1", -1, &st,
			       NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, fy, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

#define MAXCOV 128

void yoc_eval_data_free(struct yoc_eval_data *d)
{
	if (!d)
		return;
	if (d->ids)
		for (size_t i = 0; i < d->in.n; i++)
			yoc_free(d->ids[i]);
	yoc_free(d->ids);
	if (d->names)
		for (int j = 0; j < d->in.p; j++)
			yoc_free(d->names[j]);
	yoc_free(d->names);
	yoc_free(d->X);
	yoc_free(d->treat);
	yoc_free(d->stratum);
	for (int k = 0; k < YOC_EVAL_MAXYEARS; k++)
		for (int o = 0; o < YOC_EVAL_NOUT; o++)
			yoc_free(d->pre[k][o]);
	for (int o = 0; o < YOC_EVAL_NOUT; o++)
		yoc_free(d->post[o]);
	memset(d, 0, sizeof *d);
}

static char *dup(const char *s)
{
	size_t n = strlen(s);
	char *r = yoc_malloc(n + 1);
	if (r)
		memcpy(r, s, n + 1);
	return r;
}

/* Whether person_year has a column called name. */
static int has_column(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = NULL;
	int found = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info('person_year') WHERE name = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

/* Splits a comma list in place. */
static int split(char *s, char **out, int max)
{
	int n = 0;
	for (char *t = s; t && *t;) {
		char *c = strchr(t, ',');
		if (c)
			*c = 0;
		while (*t == ' ')
			t++;
		size_t l = strlen(t);
		while (l && t[l - 1] == ' ')
			t[--l] = 0;
		if (*t) {
			if (n == max)
				return -1;
			out[n++] = t;
		}
		t = c ? c + 1 : NULL;
	}
	return n;
}

/* A column expression for a covariate or outcome name ("male" is sex = '1'). */
static void col_expr(struct yoc_buf *b, const char *name)
{
	const char *r = risk_expr(name);
	if (strcmp(name, "male") == 0)
		yoc_buf_puts(b, ", (p.sex = '1')");
	else if (r)
		yoc_buf_printf(b, ", %s", r);
	else
		yoc_buf_printf(b, ", p.\"%s\"", base_col(name));
}

int yoc_eval_data_load(sqlite3 *db, const struct yoc_eval_db_opts *o,
		       const struct yoc_eval_treated *t, struct yoc_eval_data *d,
		       struct yoc_error *e)
{
	memset(d, 0, sizeof *d);
	char covbuf[4096], exbuf[1024];
	char *cov[MAXCOV], *ex[MAXCOV];
	struct yoc_map tmap, pmap, pracs;
	struct yoc_buf q;
	sqlite3_stmt *st = NULL;
	unsigned char *seen = NULL, *tfound = NULL;
	double *tmp = NULL;
	char **pr = NULL;
	size_t cap = 0, n = 0;
	int rc = 0;
	memset(&tmap, 0, sizeof tmap);
	memset(&pmap, 0, sizeof pmap);
	memset(&pracs, 0, sizeof pracs);
	yoc_buf_init(&q, 1 << 20);
	if (o->pre_years < 1 || o->pre_years > YOC_EVAL_MAXYEARS || o->post_years < 1 ||
	    o->post_years > YOC_EVAL_MAXYEARS)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0, "pre and post years must be 1 to %d",
				     YOC_EVAL_MAXYEARS);
	char fy[16];
	int base = o->start_fyear - 1;
	yoc_fyear_format(base, fy);
	int scored = has_risk_scores(db, fy);
	/* the default set gains the risk score when the baseline year was scored */
	snprintf(covbuf, sizeof covbuf, "%s%s", o->covariates ? o->covariates : default_covariates,
		 !o->covariates && scored ? ",risk_score" : "");
	snprintf(exbuf, sizeof exbuf, "%s", o->exact ? o->exact : "");
	int p = split(covbuf, cov, MAXCOV), nex = split(exbuf, ex, MAXCOV);
	if (p <= 0 || nex < 0)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0, "1 to %d covariates", MAXCOV);
	for (int j = 0; j < p; j++) {
		if (risk_expr(cov[j]) && !scored)
			return yoc_error_set(e, YOC_ENOTFOUND, NULL, 0, 0,
					     "covariate %s: no risk scores of %s, the baseline year "
					     "(yoc risk score --db DIR --fyear %s)", cov[j], fy, fy);
		if (strcmp(cov[j], "male") != 0 && !risk_expr(cov[j]) &&
		    !has_column(db, base_col(cov[j])))
			return yoc_error_set(e, YOC_ENOTFOUND, NULL, 0, 0,
					     "covariate %s: no such column of person_year "
					     "(yoc rule fields --db DIR lists them)", cov[j]);
	}
	int exi[MAXCOV];
	for (int k = 0; k < nex; k++) {
		exi[k] = -1;
		for (int j = 0; j < p; j++)
			if (strcmp(cov[j], ex[k]) == 0)
				exi[k] = j;
		if (exi[k] < 0)
			return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
					     "exact matching variable %s is not one of the covariates", ex[k]);
	}
	d->pre_years = o->pre_years;
	d->post_years = o->post_years;
	if (yoc_map_init(&tmap, t->n * 2 + 16) || yoc_map_init(&pmap, 1 << 16) ||
	    yoc_map_init(&pracs, 64)) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < t->n; i++) {
		int isnew;
		if (yoc_map_put(&tmap, t->pseudo_id[i], strlen(t->pseudo_id[i]), i, &isnew)) {
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			goto cleanup;
		}
		d->cnt.listed += isnew;
	}
	tfound = yoc_calloc(t->n ? t->n : 1, 1);
	if (!tfound) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	/* 1. The baseline year: covariates, practice, death, the last pre year's outcomes. */
	yoc_buf_puts(&q, "SELECT p.pseudo_id, p.practice, p.died");
	for (int j = 0; j < p; j++)
		col_expr(&q, cov[j]);
	for (int k = 0; k < YOC_EVAL_NOUT; k++)
		col_expr(&q, yoc_eval_outcomes[k]);
	yoc_buf_puts(&q, scored ? " FROM person_year p LEFT JOIN risk_score r ON r.pseudo_id = "
				  "p.pseudo_id AND r.fyear = p.fyear WHERE p.fyear = ?"
				: " FROM person_year p WHERE p.fyear = ?");
	if (!q.data || sqlite3_prepare_v2(db, q.data, -1, &st, NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", q.data ? sqlite3_errmsg(db)
								      : "out of memory");
		goto cleanup;
	}
	sqlite3_bind_text(st, 1, fy, -1, SQLITE_TRANSIENT);
	size_t miss_t = 0, miss_c = 0, nrows = 0;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		nrows++;
		const char *id = (const char *)sqlite3_column_text(st, 0);
		const char *prac = (const char *)sqlite3_column_text(st, 1);
		if (!id)
			continue;
		uint64_t *ti = yoc_map_get(&tmap, id, strlen(id));
		int is_t = ti != NULL;
		if (is_t)
			tfound[*ti] = 1;
		if (sqlite3_column_int(st, 2)) {
			if (is_t)
				d->cnt.died_before++;
			continue;
		}
		int missing = 0;
		for (int j = 0; j < p; j++)
			missing |= sqlite3_column_type(st, 3 + j) == SQLITE_NULL;
		if (missing) {
			if (is_t)
				miss_t++;
			else
				miss_c++;
			continue;
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 4096;
			double *X = yoc_realloc(d->X, nc * (size_t)p * sizeof *X);
			if (X)
				d->X = X;
			unsigned char *tr = X ? yoc_realloc(d->treat, nc) : NULL;
			if (tr)
				d->treat = tr;
			char **ids = tr ? yoc_realloc(d->ids, nc * sizeof *ids) : NULL;
			if (ids)
				d->ids = ids;
			char **prs = ids ? yoc_realloc(pr, nc * sizeof *prs) : NULL;
			if (prs)
				pr = prs;
			double *pv = prs ? yoc_realloc(tmp, nc * YOC_EVAL_NOUT * sizeof *pv) : NULL;
			if (!pv) {
				rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
				goto cleanup;
			}
			tmp = pv;
			cap = nc;
		}
		d->ids[n] = dup(id);
		pr[n] = dup(prac ? prac : "");
		if (!d->ids[n] || !pr[n]) {
			yoc_free(d->ids[n]);
			yoc_free(pr[n]);
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			goto cleanup;
		}
		d->treat[n] = (unsigned char)is_t;
		for (int j = 0; j < p; j++)
			d->X[n * (size_t)p + j] = sqlite3_column_double(st, 3 + j);
		for (int k = 0; k < YOC_EVAL_NOUT; k++)
			tmp[n * YOC_EVAL_NOUT + k] = sqlite3_column_double(st, 3 + p + k);
		if (is_t && prac && yoc_map_put(&pracs, prac, strlen(prac), 1, NULL)) {
			n++;
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			goto cleanup;
		}
		n++;
	}
	if (step != SQLITE_DONE) {
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
		goto cleanup;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (nrows == 0) {
		rc = yoc_error_set(e, YOC_EDATA, NULL, 0, 0,
				   "no person_year rows in %s, the year before the start: analyse "
				   "that year first (yoc analyse)", fy);
		goto cleanup;
	}
	/* 2. Controls: never treated, in the treated people's practices unless asked. */
	size_t k2 = 0;
	for (size_t i = 0; i < n; i++) {
		int keep = d->treat[i] || o->other_practices ||
			   yoc_map_get(&pracs, pr[i], strlen(pr[i])) != NULL;
		if (!keep) {
			d->cnt.other_practice++;
			yoc_free(d->ids[i]);
			yoc_free(pr[i]);
			continue;
		}
		if (k2 != i) {
			memmove(d->X + k2 * (size_t)p, d->X + i * (size_t)p, (size_t)p * sizeof *d->X);
			memmove(tmp + k2 * YOC_EVAL_NOUT, tmp + i * YOC_EVAL_NOUT,
				YOC_EVAL_NOUT * sizeof *tmp);
			d->treat[k2] = d->treat[i];
			d->ids[k2] = d->ids[i];
			pr[k2] = pr[i];
		}
		k2++;
	}
	n = k2;
	d->in.n = n;
	for (size_t i = 0; i < n; i++) {
		d->cnt.treated += d->treat[i];
		if (yoc_map_put(&pmap, d->ids[i], strlen(d->ids[i]), i, NULL)) {
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			goto cleanup;
		}
	}
	d->cnt.controls = n - d->cnt.treated;
	d->cnt.missing_covariate = miss_t;
	d->cnt.missing_covariate_controls = miss_c;
	/* 3. Outcomes of every pre and post year (missing: 0, as dead or moved away). */
	for (int k = 0; k < o->pre_years; k++)
		for (int oc = 0; oc < YOC_EVAL_NOUT; oc++)
			if (!(d->pre[k][oc] = yoc_calloc(n ? n : 1, sizeof(double)))) {
				rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
				goto cleanup;
			}
	for (int oc = 0; oc < YOC_EVAL_NOUT; oc++)
		if (!(d->post[oc] = yoc_calloc(n ? n : 1, sizeof(double)))) {
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			goto cleanup;
		}
	for (size_t i = 0; i < n; i++)
		for (int oc = 0; oc < YOC_EVAL_NOUT; oc++)
			d->pre[o->pre_years - 1][oc][i] = tmp[i * YOC_EVAL_NOUT + oc];
	yoc_buf_reset(&q);
	yoc_buf_puts(&q, "SELECT p.pseudo_id");
	for (int k = 0; k < YOC_EVAL_NOUT; k++)
		col_expr(&q, yoc_eval_outcomes[k]);
	yoc_buf_puts(&q, " FROM person_year p WHERE p.fyear = ?");
	if (!q.data || sqlite3_prepare_v2(db, q.data, -1, &st, NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
		goto cleanup;
	}
	for (int y = o->start_fyear - o->pre_years; y < o->start_fyear + o->post_years; y++) {
		if (y == base)
			continue;
		int postk = y >= o->start_fyear;
		yoc_fyear_format(y, fy);
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, fy, -1, SQLITE_TRANSIENT);
		size_t got = 0;
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			const char *id = (const char *)sqlite3_column_text(st, 0);
			if (!id)
				continue;
			uint64_t *ti = yoc_map_get(&tmap, id, strlen(id));
			if (ti)
				tfound[*ti] |= 2;
			uint64_t *pi = yoc_map_get(&pmap, id, strlen(id));
			got++;
			if (!pi)
				continue;
			for (int oc = 0; oc < YOC_EVAL_NOUT; oc++) {
				double v = sqlite3_column_double(st, 1 + oc);
				if (postk) {
					/* deaths: any post year; the rest: mean a year */
					if (oc == YOC_EVAL_NOUT - 1)
						d->post[oc][*pi] = d->post[oc][*pi] > v ? d->post[oc][*pi] : v;
					else
						d->post[oc][*pi] += v / o->post_years;
				} else {
					d->pre[y - (o->start_fyear - o->pre_years)][oc][*pi] = v;
				}
			}
		}
		if (step != SQLITE_DONE) {
			rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
			goto cleanup;
		}
		if (got == 0) {
			rc = yoc_error_set(e, YOC_EDATA, NULL, 0, 0,
					   "no person_year rows in %s: the dataset does not reach "
					   "that %s year (fewer --%s-years?)", fy, postk ? "post" : "pre",
					   postk ? "post" : "pre");
			goto cleanup;
		}
	}
	for (size_t i = 0; i < t->n; i++) {
		if (!(tfound[i] & 1)) {
			if (tfound[i])
				d->cnt.no_baseline++;
			else
				d->cnt.not_found++;
		}
	}
	/* costs in pounds */
	for (int oc = 0; oc < YOC_EVAL_NOUT; oc++) {
		if (strncmp(yoc_eval_outcomes[oc], "cost_", 5) != 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			d->post[oc][i] /= 100.0;
			for (int k = 0; k < o->pre_years; k++)
				d->pre[k][oc][i] /= 100.0;
		}
	}
	for (int j = 0; j < p; j++) {
		int money = strncmp(base_col(cov[j]), "cost_", 5) == 0, lg = base_col(cov[j]) != cov[j];
		for (size_t i = 0; i < n; i++) {
			double *x = &d->X[i * (size_t)p + j];
			if (money)
				*x /= 100.0;
			if (lg)
				*x = log1p(*x > 0 ? *x : 0);
		}
	}
	d->names = yoc_calloc((size_t)p, sizeof *d->names);
	if (!d->names) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	d->in.p = p;
	for (int j = 0; j < p; j++)
		if (!(d->names[j] = dup(cov[j]))) {
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			goto cleanup;
		}
	if (nex) {
		d->stratum = yoc_malloc((n ? n : 1) * sizeof *d->stratum);
		if (!d->stratum) {
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			goto cleanup;
		}
		for (size_t i = 0; i < n; i++) {
			uint64_t h = 1469598103934665603ULL;
			for (int k = 0; k < nex; k++) {
				double v = d->X[i * (size_t)p + exi[k]];
				h = yoc_hash64(&v, sizeof v, h);
			}
			d->stratum[i] = (int64_t)(h >> 1);
		}
	}
	d->in.names = (const char *const *)d->names;
	d->in.X = d->X;
	d->in.treat = d->treat;
	d->in.key = (const char *const *)d->ids;
	d->in.stratum = d->stratum;
cleanup:
	sqlite3_finalize(st);
	if (pr)
		for (size_t i = 0; i < (rc ? n : d->in.n); i++)
			yoc_free(pr[i]);
	yoc_free(pr);
	yoc_free(tmp);
	yoc_free(seen);
	yoc_free(tfound);
	yoc_map_free(&tmap);
	yoc_map_free(&pmap);
	yoc_map_free(&pracs);
	yoc_buf_free(&q);
	if (rc) {
		d->in.n = n;
		d->in.p = d->names ? p : 0;
		yoc_eval_data_free(d);
	}
	return rc;
}

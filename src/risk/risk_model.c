/*
** The risk model: fitting (stats' IRLS on the design of risk_data.c), the
** model as JSON (written and read back), the catalog table risk_model, and
** prediction. Writes the catalog only in yoc_risk_model_store.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "risk/risk.h"
#include "stats/stats.h"
#include "yoc/date.h"

void yoc_risk_model_free(struct yoc_risk_model *m)
{
	if (!m)
		return;
	for (int j = 0; m->terms && j < m->p; j++)
		yoc_free(m->terms[j]);
	yoc_free(m->terms);
	yoc_free(m->coef);
	yoc_free(m->se);
	memset(m, 0, sizeof *m);
}

static int model_alloc(struct yoc_risk_model *m, int p)
{
	m->p = p;
	m->terms = yoc_calloc((size_t)p, sizeof *m->terms);
	m->coef = yoc_calloc((size_t)p, sizeof *m->coef);
	m->se = yoc_calloc((size_t)p, sizeof *m->se);
	return (m->terms && m->coef && m->se) ? 0 : YOC_ENOMEM;
}

static void codelist_version(sqlite3 *db, char *out, size_t cap)
{
	sqlite3_stmt *st = NULL;
	out[0] = 0;
	if (sqlite3_prepare_v2(db, "SELECT value FROM analyse_run WHERE key = 'codelist_version'",
			       -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0))
		snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

int yoc_risk_fit(sqlite3 *db, int fyear, const struct yoc_risk_featlist *fl, double ridge,
		 double min_per_term, struct yoc_risk_model *m, struct yoc_error *e)
{
	memset(m, 0, sizeof *m);
	struct yoc_risk_data d;
	struct yoc_logit_fit fit;
	memset(&fit, 0, sizeof fit);
	double *Xk = NULL;
	int *keep = NULL;
	char fy[8], fyn[8];
	yoc_fyear_format(fyear, fy);
	yoc_fyear_format(fyear + 1, fyn);
	int rc = yoc_risk_data_build(db, fyear, fl, 1, NAN, &d, e);
	if (rc)
		goto cleanup;
	if (d.n == 0) {
		rc = yoc_error_set(e, YOC_EDATA, "person_year", 0, 0,
				   "no person in %s with a row in %s to train on", fy, fyn);
		goto cleanup;
	}
	size_t n = d.n, p = (size_t)d.p;
	/* constant columns say nothing and would be aliased: drop them first */
	keep = yoc_calloc(p, sizeof *keep);
	if (!keep) {
		rc = YOC_ENOMEM;
		goto cleanup;
	}
	int pk = 0;
	for (size_t j = 0; j < p; j++) {
		int constant = 1;
		for (size_t i = 1; i < n && constant; i++)
			if (d.X[i * p + j] != d.X[j])
				constant = 0;
		if (j == 0 || !constant)
			keep[pk++] = (int)j;
		else
			snprintf(m->dropped + strlen(m->dropped), sizeof m->dropped - strlen(m->dropped),
				 "%s%s (constant)", m->dropped[0] ? ", " : "", d.terms[j]);
	}
	Xk = yoc_malloc(n * (size_t)pk * sizeof *Xk);
	const char **names = yoc_malloc((size_t)pk * sizeof *names);
	if (!Xk || !names) {
		yoc_free(names);
		rc = YOC_ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < pk; k++)
			Xk[i * (size_t)pk + (size_t)k] = d.X[i * p + (size_t)keep[k]];
	for (int k = 0; k < pk; k++)
		names[k] = d.terms[keep[k]];
	if ((rc = yoc_logit_check_events(d.y, n, pk - 1, min_per_term, e))) {
		char msg[sizeof e->msg];
		snprintf(msg, sizeof msg, "%s", e->msg);
		yoc_error_set(e, rc, "risk fit", 0, 0,
			      "%s (training year %s, outcome in %s, n = %zu); use fewer features or "
			      "a larger population", msg, fy, fyn, n);
		yoc_free(names);
		goto cleanup;
	}
	struct yoc_logit_opts o;
	yoc_logit_opts_init(&o);
	o.intercept = 0;
	o.lambda = ridge;
	o.names = names;
	rc = yoc_logit_fit(Xk, n, pk, d.y, &o, &fit, e);
	yoc_free(names);
	if (rc)
		goto cleanup;
	if ((rc = model_alloc(m, d.p)))
		goto cleanup;
	for (int j = 0; j < d.p; j++) {
		m->coef[j] = m->se[j] = NAN;
		if (!(m->terms[j] = yoc_strdup(d.terms[j]))) {
			rc = YOC_ENOMEM;
			goto cleanup;
		}
	}
	for (int k = 0; k < pk; k++) {
		m->coef[keep[k]] = fit.coef[k];
		m->se[keep[k]] = fit.se[k];
		if (fit.aliased[k])
			snprintf(m->dropped + strlen(m->dropped),
				 sizeof m->dropped - strlen(m->dropped), "%s%s (aliased)",
				 m->dropped[0] ? ", " : "", d.terms[keep[k]]);
	}
	snprintf(m->warning, sizeof m->warning, "%s", fit.warning);
	m->n = n;
	for (size_t i = 0; i < n; i++)
		m->events += d.y[i] > 0.5;
	m->train_year = fyear;
	m->ridge = ridge;
	m->imd_median = d.imd_median;
	m->feat = *fl;
	codelist_version(db, m->codelist_version, sizeof m->codelist_version);
	time_t now = time(NULL);
	struct tm tmv;
	gmtime_r(&now, &tmv);
	strftime(m->created, sizeof m->created, "%Y-%m-%dT%H:%M:%SZ", &tmv);
	char fyh[8];
	yoc_fyear_format_hes(fyear, fyh);
	snprintf(m->model_id, sizeof m->model_id, "risk-%s-%lld", fyh, (long long)now);
cleanup:
	if (rc == YOC_ENOMEM)
		yoc_error_set(e, rc, "risk fit", 0, 0, "out of memory");
	if (rc)
		yoc_risk_model_free(m);
	yoc_logit_fit_free(&fit);
	yoc_risk_data_free(&d);
	yoc_free(Xk);
	yoc_free(keep);
	return rc;
}

/* ---- JSON --------------------------------------------------------------------- */

static void jstr(struct yoc_buf *b, const char *s)
{
	yoc_buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			yoc_buf_printf(b, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			yoc_buf_printf(b, "\\u%04x", (unsigned char)*s);
		else
			yoc_buf_putc(b, *s);
	}
	yoc_buf_putc(b, '"');
}

static void jnum(struct yoc_buf *b, double v)
{
	if (isfinite(v))
		yoc_buf_printf(b, "%.17g", v);
	else
		yoc_buf_puts(b, "null");
}

int yoc_risk_model_json(const struct yoc_risk_model *m, struct yoc_buf *b)
{
	char fy[8], fyn[8];
	yoc_fyear_format(m->train_year, fy);
	yoc_fyear_format(m->train_year + 1, fyn);
	yoc_buf_puts(b, "{\n  \"model_id\": ");
	jstr(b, m->model_id);
	yoc_buf_puts(b, ",\n  \"created\": ");
	jstr(b, m->created);
	yoc_buf_puts(b, ",\n  \"outcome\": \"one or more emergency admissions, or death, in the "
			"year after the training year\",\n  \"train_year\": ");
	jstr(b, fy);
	yoc_buf_puts(b, ",\n  \"outcome_year\": ");
	jstr(b, fyn);
	yoc_buf_printf(b, ",\n  \"n\": %zu,\n  \"events\": %zu,\n  \"ridge\": ", m->n, m->events);
	jnum(b, m->ridge);
	yoc_buf_puts(b, ",\n  \"imd_median\": ");
	jnum(b, m->imd_median);
	yoc_buf_puts(b, ",\n  \"features_version\": ");
	jstr(b, m->feat.version);
	yoc_buf_puts(b, ",\n  \"codelist_version\": ");
	jstr(b, m->codelist_version);
	yoc_buf_puts(b, ",\n  \"dropped\": ");
	jstr(b, m->dropped);
	yoc_buf_puts(b, ",\n  \"features\": [");
	for (int f = 0; f < m->feat.n; f++) {
		yoc_buf_puts(b, f ? ", " : "");
		jstr(b, m->feat.name[f]);
	}
	yoc_buf_puts(b, "],\n  \"terms\": [");
	for (int j = 0; j < m->p; j++) {
		yoc_buf_puts(b, j ? ", " : "");
		jstr(b, m->terms[j]);
	}
	yoc_buf_puts(b, "],\n  \"coef\": [");
	for (int j = 0; j < m->p; j++) {
		yoc_buf_puts(b, j ? ", " : "");
		jnum(b, m->coef[j]);
	}
	yoc_buf_puts(b, "],\n  \"se\": [");
	for (int j = 0; j < m->p; j++) {
		yoc_buf_puts(b, j ? ", " : "");
		jnum(b, m->se[j]);
	}
	return yoc_buf_puts(b, "]\n}\n");
}

/* Position just after "key": in text, or NULL. */
static const char *jkey(const char *text, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *s = strstr(text, pat);
	if (!s)
		return NULL;
	s += strlen(pat);
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	return s;
}

static const char *skipws(const char *s)
{
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	return s;
}

/* Reads a JSON string at s into out; returns the position after it or NULL. */
static const char *jread_str(const char *s, char *out, size_t cap)
{
	if (!s || *s != '"')
		return NULL;
	size_t k = 0;
	for (s++; *s && *s != '"'; s++) {
		char c = *s;
		if (c == '\\') {
			s++;
			if (*s != '"' && *s != '\\')
				return NULL; /* we never write other escapes in names */
			c = *s;
		}
		if (k + 1 >= cap)
			return NULL;
		out[k++] = c;
	}
	if (*s != '"')
		return NULL;
	out[k] = 0;
	return s + 1;
}

static const char *jread_num(const char *s, double *v)
{
	if (!s)
		return NULL;
	if (strncmp(s, "null", 4) == 0) {
		*v = NAN;
		return s + 4;
	}
	char *end;
	*v = strtod(s, &end);
	return end == s ? NULL : end;
}

/* Counts the entries of the array at s. */
static int jcount(const char *s)
{
	if (!s || *s != '[')
		return -1;
	s = skipws(s + 1);
	if (*s == ']')
		return 0;
	int n = 1, instr = 0;
	for (; *s && (instr || *s != ']'); s++) {
		if (*s == '\\' && instr && s[1]) {
			s++;
			continue;
		}
		if (*s == '"')
			instr = !instr;
		else if (*s == ',' && !instr)
			n++;
	}
	return *s == ']' ? n : -1;
}

int yoc_risk_model_parse(const char *text, struct yoc_risk_model *m, struct yoc_error *e)
{
	memset(m, 0, sizeof *m);
	const char *s;
	char fy[16];
	double v;
	int rc = YOC_EPARSE;
	const char *what = "model_id";
	if (!jread_str(jkey(text, "model_id"), m->model_id, sizeof m->model_id))
		goto bad;
	jread_str(jkey(text, "created"), m->created, sizeof m->created);
	what = "train_year";
	if (!jread_str(jkey(text, "train_year"), fy, sizeof fy) ||
	    yoc_fyear_parse(fy, strlen(fy), &m->train_year))
		goto bad;
	what = "n";
	if (!jread_num(jkey(text, "n"), &v))
		goto bad;
	m->n = (size_t)v;
	if (!jread_num(jkey(text, "events"), &v))
		goto bad;
	m->events = (size_t)v;
	what = "ridge";
	if (!jread_num(jkey(text, "ridge"), &m->ridge) ||
	    !jread_num(jkey(text, "imd_median"), &m->imd_median))
		goto bad;
	jread_str(jkey(text, "features_version"), m->feat.version, sizeof m->feat.version);
	jread_str(jkey(text, "codelist_version"), m->codelist_version,
		  sizeof m->codelist_version);
	jread_str(jkey(text, "dropped"), m->dropped, sizeof m->dropped);
	what = "features";
	s = jkey(text, "features");
	int nf = jcount(s);
	if (nf <= 0 || nf > YOC_RISK_MAXFEAT)
		goto bad;
	s = skipws(s + 1);
	for (int f = 0; f < nf; f++) {
		if (!(s = jread_str(s, m->feat.name[f], sizeof m->feat.name[f])))
			goto bad;
		s = skipws(s);
		if (*s == ',')
			s = skipws(s + 1);
	}
	m->feat.n = nf;
	what = "terms";
	s = jkey(text, "terms");
	int p = jcount(s);
	if (p <= 0 || jcount(jkey(text, "coef")) != p || jcount(jkey(text, "se")) != p)
		goto bad;
	if (model_alloc(m, p)) {
		yoc_risk_model_free(m);
		return yoc_error_set(e, YOC_ENOMEM, "model", 0, 0, "out of memory");
	}
	s = skipws(s + 1);
	for (int j = 0; j < p; j++) {
		char nm[128];
		if (!(s = jread_str(s, nm, sizeof nm)))
			goto bad;
		if (!(m->terms[j] = yoc_strdup(nm))) {
			yoc_risk_model_free(m);
			return yoc_error_set(e, YOC_ENOMEM, "model", 0, 0, "out of memory");
		}
		s = skipws(s);
		if (*s == ',')
			s = skipws(s + 1);
	}
	for (int pass = 0; pass < 2; pass++) {
		what = pass ? "se" : "coef";
		double *a = pass ? m->se : m->coef;
		s = skipws(jkey(text, what) + 1);
		for (int j = 0; j < p; j++) {
			if (!(s = jread_num(s, &a[j])))
				goto bad;
			s = skipws(s);
			if (*s == ',')
				s = skipws(s + 1);
		}
	}
	return 0;
bad:
	yoc_risk_model_free(m);
	return yoc_error_set(e, rc, "model", 0, 0, "not a yoc risk model: bad or missing \"%s\"",
			     what);
}

/* ---- catalog ------------------------------------------------------------------- */

static const char model_schema[] =
	"CREATE TABLE IF NOT EXISTS risk_model(model_id TEXT PRIMARY KEY, created TEXT NOT NULL,"
	" train_year TEXT NOT NULL, n INTEGER NOT NULL, events INTEGER NOT NULL,"
	" features_version TEXT, codelist_version TEXT, model_json TEXT NOT NULL)";

int yoc_risk_model_store(sqlite3 *db, const struct yoc_risk_model *m, struct yoc_error *e)
{
	struct yoc_buf b;
	yoc_buf_init(&b, 1 << 22);
	sqlite3_stmt *st = NULL;
	int rc = 0;
	char fy[8];
	yoc_fyear_format(m->train_year, fy);
	if (yoc_risk_model_json(m, &b)) {
		rc = yoc_error_set(e, YOC_ENOMEM, "risk_model", 0, 0, "out of memory");
		goto cleanup;
	}
	if (sqlite3_exec(db, model_schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO risk_model VALUES (?,?,?,?,?,?,?,?)", -1,
			       &st, NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "risk_model: %s", sqlite3_errmsg(db));
		goto cleanup;
	}
	sqlite3_bind_text(st, 1, m->model_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, m->created, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, fy, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)m->n);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)m->events);
	sqlite3_bind_text(st, 6, m->feat.version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, m->codelist_version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, b.data, (int)b.len, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "risk_model: %s", sqlite3_errmsg(db));
cleanup:
	sqlite3_finalize(st);
	yoc_buf_free(&b);
	return rc;
}

int yoc_risk_model_latest(sqlite3 *db, struct yoc_risk_model *m, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	memset(m, 0, sizeof *m);
	int rc;
	if (sqlite3_prepare_v2(db, "SELECT model_json FROM risk_model ORDER BY rowid DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		rc = yoc_error_set(e, YOC_ENOTFOUND, "yoc.db", 0, 0,
				   "no risk model in the catalog: run yoc risk fit first");
	else
		rc = yoc_risk_model_parse((const char *)sqlite3_column_text(st, 0), m, e);
	sqlite3_finalize(st);
	return rc;
}

int yoc_risk_predict(const struct yoc_risk_model *m, const struct yoc_risk_data *d,
		     double *prob, int *map, struct yoc_error *e)
{
	/* map[j]: column of d for model term j (-1 for a dropped term) */
	for (int j = 0; j < m->p; j++) {
		map[j] = -1;
		if (isnan(m->coef[j]))
			continue;
		for (int k = 0; k < d->p; k++)
			if (strcmp(m->terms[j], d->terms[k]) == 0)
				map[j] = k;
		if (map[j] < 0)
			return yoc_error_set(e, YOC_EDATA, "model", 0, 0,
					     "model term '%s' is not in this dataset's features "
					     "(a different code list?)", m->terms[j]);
	}
	size_t p = (size_t)d->p;
	for (size_t i = 0; i < d->n; i++) {
		double eta = 0;
		for (int j = 0; j < m->p; j++)
			if (map[j] >= 0)
				eta += m->coef[j] * d->X[i * p + (size_t)map[j]];
		prob[i] = 1.0 / (1.0 + exp(-eta));
	}
	return 0;
}

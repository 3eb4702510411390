/*
** Year of Care tariffs: per category, the baseline annual cost per
** person-year of exposure over the settings the service map puts inside
** the budget, after outlier trimming, with small categories merged into
** their parents and the modifications (uplift, efficiency, demography,
** scenario) applied. Writes a new version of tariff and tariff_build.
** All sums are exact integers (pence, exposure units); each tariff is
** rounded once, half away from zero (docs/budget.md).
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "budget/budget.h"
#include "yoc/date.h"
#include "yoc/io.h"

void yoc_tariff_opts_init(struct yoc_tariff_opts *o)
{
	memset(o, 0, sizeof *o);
	o->trim.kind = YOC_TRIM_PCT;
	o->trim.lo = 5;
	o->trim.hi = 97;
	o->min_py = 30;
}

static int parse_two(const char *s, double *a, double *b)
{
	char *end;
	*a = strtod(s, &end);
	if (end == s || *end != ',')
		return -1;
	s = end + 1;
	*b = strtod(s, &end);
	return end == s || *end ? -1 : 0;
}

int yoc_trim_parse(const char *spec, struct yoc_trim *t, struct yoc_error *e)
{
	memset(t, 0, sizeof *t);
	if (strcmp(spec, "none") == 0)
		return 0;
	if (strncmp(spec, "pct:", 4) == 0 || strncmp(spec, "winsor:", 7) == 0) {
		int w = spec[0] == 'w';
		t->kind = w ? YOC_TRIM_WINSOR : YOC_TRIM_PCT;
		if (parse_two(spec + (w ? 7 : 4), &t->lo, &t->hi) == 0 && t->lo >= 0 &&
		    t->hi <= 100 && t->lo < t->hi)
			return 0;
	} else if (strncmp(spec, "sd:", 3) == 0) {
		char *end;
		t->kind = YOC_TRIM_SD;
		t->k = strtod(spec + 3, &end);
		if (end != spec + 3 && !*end && t->k > 0)
			return 0;
	}
	return yoc_error_set(e, YOC_EINVAL, "--trim", 0, 0,
			     "'%s': expected none, pct:LO,HI or winsor:LO,HI (percentiles,"
			     " 0 <= LO < HI <= 100) or sd:K (K > 0)", spec);
}

int yoc_uplift_parse(const char *spec, struct yoc_uplift *u, struct yoc_error *e)
{
	memset(u, 0, sizeof *u);
	const char *s = spec;
	while (*s) {
		const char *eq = strchr(s, '=');
		if (!eq)
			break;
		size_t k = (size_t)(eq - s);
		char *end;
		double v = strtod(eq + 1, &end);
		if (end == eq + 1 || (*end && *end != ',') || v <= -100 || v > 1000)
			break;
		double *dst = k == 9 && !strncmp(s, "inflation", 9)    ? &u->inflation
			      : k == 10 && !strncmp(s, "efficiency", 10) ? &u->efficiency
			      : k == 10 && !strncmp(s, "demography", 10) ? &u->demography
			      : k == 8 && !strncmp(s, "scenario", 8)     ? &u->scenario
									 : NULL;
		if (!dst)
			break;
		*dst = v;
		s = *end ? end + 1 : end;
	}
	if (*s)
		return yoc_error_set(e, YOC_EINVAL, "--uplift", 0, (long)(s - spec) + 1,
				     "'%s': expected NAME=PERCENT,... with NAME inflation,"
				     " efficiency, demography or scenario (efficiency -1.1 is a"
				     " 1.1%% saving)", spec);
	return 0;
}

int64_t yoc_uplift_apply(const struct yoc_uplift *u, int64_t base)
{
	double f = (1 + u->inflation / 100) * (1 + u->efficiency / 100) *
		   (1 + u->demography / 100) * (1 + u->scenario / 100);
	double v = (double)base * f;
	return (int64_t)(v < 0 ? -floor(-v + 0.5) : floor(v + 0.5));
}

static int32_t date_col(sqlite3_stmt *st, int i, int32_t none)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	int32_t d;
	if (!t || yoc_date_parse((const char *)t, strlen((const char *)t), &d) != YOC_DATE_VALID)
		return none;
	return d;
}

int yoc_tariff_person_years(sqlite3 *db, const yoc_budget_cats *c, int fyear,
			    const int in[YOC_BSET_COUNT], struct yoc_tpy **out, size_t *n,
			    struct yoc_error *e)
{
	*out = NULL;
	*n = 0;
	char fy[16];
	yoc_fyear_format(fyear, fy);
	struct yoc_budget_assign a;
	sqlite3_stmt *st = NULL;
	struct yoc_tpy *py = NULL;
	int rc = yoc_budget_categorise(db, c, fy, &a, e);
	if (rc)
		return rc;
	static const char q[] =
		"SELECT y.pseudo_id, p.reg_start, p.reg_end, p.date_of_death, cost_elective,"
		" cost_nonelective, cost_daycase, cost_outpatient, cost_ae, cost_community, cost_mh,"
		" cost_gp, cost_social_care, cost_ambulance FROM person_year y LEFT JOIN person p"
		" ON p.pseudo_id = y.pseudo_id WHERE y.fyear = ?1 ORDER BY y.pseudo_id";
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EDATA, "person_year", 0, 0, "%s", sqlite3_errmsg(db));
		goto cleanup;
	}
	sqlite3_bind_text(st, 1, fy, -1, SQLITE_TRANSIENT);
	py = yoc_calloc(a.n ? a.n : 1, sizeof *py);
	if (!py) {
		rc = yoc_error_set(e, YOC_ENOMEM, "person_year", 0, 0, "out of memory");
		goto cleanup;
	}
	int32_t y0 = yoc_fyear_start(fyear), y1 = yoc_fyear_end(fyear);
	int ydays = (int)(y1 - y0 + 1);
	size_t k = 0;
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		if (k >= a.n || !id || strcmp(id, a.pseudo[k]) != 0) {
			rc = yoc_error_set(e, YOC_EDATA, "person_year", 0, 0,
					   "person_year of %s changed while it was read", fy);
			goto cleanup;
		}
		struct yoc_tpy *p = &py[k];
		snprintf(p->pseudo, sizeof p->pseudo, "%s", id);
		p->cat = a.cat[k];
		p->fyear = fyear;
		int32_t lo = date_col(st, 1, y0), hi = date_col(st, 2, y1), dod = date_col(st, 3, y1);
		if (lo < y0)
			lo = y0;
		if (hi > y1)
			hi = y1;
		if (dod < hi)
			hi = dod;
		/* A person-year with no registered day by the person table is one the
		 * analysis carried over a gap in the register: a whole year. */
		p->days = hi >= lo ? hi - lo + 1 : ydays;
		p->units = yoc_budget_units(p->days, ydays);
		for (int j = 0; j < YOC_BSET_COUNT; j++)
			if (in[j])
				p->cost += sqlite3_column_int64(st, 4 + j);
		k++;
	}
	if (s != SQLITE_DONE || k != a.n) {
		rc = yoc_error_set(e, YOC_EDATA, "person_year", 0, 0, "reading person_year: %s",
				   s != SQLITE_DONE ? sqlite3_errmsg(db) : "row count changed");
		goto cleanup;
	}
	*out = py;
	*n = k;
	py = NULL;
cleanup:
	sqlite3_finalize(st);
	yoc_free(py);
	yoc_budget_assign_free(&a);
	return rc;
}

/* Annual cost order: cost / units, exactly; ties by pseudonym then year. */
static int cmp_annual(const void *x, const void *y)
{
	const struct yoc_tpy *a = *(const struct yoc_tpy *const *)x;
	const struct yoc_tpy *b = *(const struct yoc_tpy *const *)y;
	__int128 l = (__int128)a->cost * b->units, r = (__int128)b->cost * a->units;
	if (l != r)
		return l < r ? -1 : 1;
	int c = strcmp(a->pseudo, b->pseudo);
	return c ? c : (a->fyear > b->fyear) - (a->fyear < b->fyear);
}

/* Trims one pool (members m[0..n-1]) and fills the row's sums and tariff. */
static int trim_pool(struct yoc_tpy **m, size_t n, const struct yoc_trim *t,
		     struct yoc_tariff_row *row, int64_t *expected)
{
	int64_t units = 0, cost = 0;
	for (size_t i = 0; i < n; i++) {
		units += m[i]->units;
		cost += m[i]->cost;
	}
	*expected = units ? yoc_budget_div_round((__int128)cost * YOC_BUDGET_YEAR_UNITS, units) : 0;
	if (n == 0)
		return 0;
	qsort(m, n, sizeof *m, cmp_annual);
	size_t lo_n = 0, hi_n = 0;
	int64_t kcost = cost, kunits = units;
	if (t->kind == YOC_TRIM_PCT || t->kind == YOC_TRIM_WINSOR) {
		lo_n = (size_t)floor((double)n * t->lo / 100 + 1e-9);
		hi_n = (size_t)floor((double)n * (100 - t->hi) / 100 + 1e-9);
		if (lo_n + hi_n >= n)
			lo_n = hi_n = 0;
	}
	if (t->kind == YOC_TRIM_PCT) {
		for (size_t i = 0; i < n; i++)
			if (i < lo_n || i >= n - hi_n) {
				kcost -= m[i]->cost;
				kunits -= m[i]->units;
			}
		row->trim_low = (int64_t)lo_n;
		row->trim_high = (int64_t)hi_n;
	} else if (t->kind == YOC_TRIM_WINSOR) {
		const struct yoc_tpy *bl = m[lo_n], *bh = m[n - 1 - hi_n];
		for (size_t i = 0; i < n; i++) {
			const struct yoc_tpy *b = i < lo_n ? bl : i >= n - hi_n ? bh : NULL;
			if (!b)
				continue;
			int64_t nc = yoc_budget_div_round((__int128)b->cost * m[i]->units, b->units);
			kcost += nc - m[i]->cost;
		}
		row->trim_low = (int64_t)lo_n;
		row->trim_high = (int64_t)hi_n;
	} else if (t->kind == YOC_TRIM_SD) {
		double s1 = 0, s2 = 0;
		for (size_t i = 0; i < n; i++) {
			double v = (double)m[i]->cost * YOC_BUDGET_YEAR_UNITS / (double)m[i]->units;
			s1 += v;
			s2 += v * v;
		}
		double mean = s1 / (double)n;
		double var = n > 1 ? (s2 - s1 * s1 / (double)n) / (double)(n - 1) : 0;
		double sd = var > 0 ? sqrt(var) : 0;
		for (size_t i = 0; i < n; i++) {
			double v = (double)m[i]->cost * YOC_BUDGET_YEAR_UNITS / (double)m[i]->units;
			if (fabs(v - mean) > t->k * sd) {
				kcost -= m[i]->cost;
				kunits -= m[i]->units;
				if (v < mean)
					row->trim_low++;
				else
					row->trim_high++;
			}
		}
	}
	row->trim_units = units - kunits;
	row->trim_cost = cost - kcost;
	row->base = kunits ? yoc_budget_div_round((__int128)kcost * YOC_BUDGET_YEAR_UNITS, kunits)
			   : *expected;
	return 0;
}

void yoc_tariff_result_free(struct yoc_tariff_result *r)
{
	if (!r)
		return;
	yoc_free(r->rows);
	memset(r, 0, sizeof *r);
}

static int exec(sqlite3 *db, const char *sql, struct yoc_error *e)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return YOC_EIO;
	}
	return 0;
}

static int put_kv(sqlite3_stmt *st, int version, const char *k, const char *v)
{
	sqlite3_bind_int(st, 1, version);
	sqlite3_bind_text(st, 2, k, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, v, -1, SQLITE_STATIC);
	int s = sqlite3_step(st);
	sqlite3_reset(st);
	return s == SQLITE_DONE ? 0 : -1;
}

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS tariff_build(version INTEGER NOT NULL, key TEXT NOT NULL,"
	" value TEXT, PRIMARY KEY(version, key));"
	"CREATE TABLE IF NOT EXISTS tariff(version INTEGER NOT NULL, ord INTEGER NOT NULL,"
	" category TEXT NOT NULL, parent TEXT, pool TEXT NOT NULL, person_years INTEGER NOT NULL,"
	" exposure REAL NOT NULL, units INTEGER NOT NULL, cost INTEGER NOT NULL,"
	" trim_low INTEGER NOT NULL, trim_high INTEGER NOT NULL, trim_exposure REAL NOT NULL,"
	" trim_cost INTEGER NOT NULL, expected INTEGER NOT NULL, base INTEGER NOT NULL,"
	" tariff INTEGER NOT NULL, note TEXT, PRIMARY KEY(version, category));";

static int write_tables(sqlite3 *db, const struct yoc_tariff_opts *o, const yoc_budget_cats *c,
			const yoc_smap *m, const char *map_text, struct yoc_tariff_result *res,
			const int64_t *expected,
			size_t npy, struct yoc_error *e)
{
	sqlite3_stmt *kv = NULL, *tr = NULL, *q = NULL;
	int rc;
	char buf[512];
	if ((rc = exec(db, "BEGIN IMMEDIATE", e)))
		return rc;
	if ((rc = exec(db, schema_sql, e)))
		goto cleanup;
	if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) + 1 FROM tariff_build", -1,
			       &q, NULL) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
		goto cleanup;
	}
	res->version = sqlite3_column_int(q, 0);
	if (sqlite3_prepare_v2(db, "INSERT INTO tariff_build VALUES(?1, ?2, ?3)", -1, &kv, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO tariff VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
				   " ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)", -1, &tr, NULL)) {
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
		goto cleanup;
	}
	int v = res->version;
	char years[256] = "";
	for (size_t i = 0; i < o->nyears; i++) {
		char fy[16];
		yoc_fyear_format(o->fyears[i], fy);
		size_t l = strlen(years);
		snprintf(years + l, sizeof years - l, "%s%s", i ? "," : "", fy);
	}
	char now[32];
	time_t tt = time(NULL);
	struct tm tmv;
	gmtime_r(&tt, &tmv);
	strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tmv);
	char in_s[256] = "", part_s[256] = "", asof[16];
	for (int s = 0; s < YOC_BSET_COUNT; s++) {
		if (res->in[s]) {
			size_t l = strlen(in_s);
			snprintf(in_s + l, sizeof in_s - l, "%s%s", l ? "," : "",
				 yoc_budget_setting_name(s));
		}
		if (res->partial[s]) {
			size_t l = strlen(part_s);
			snprintf(part_s + l, sizeof part_s - l, "%s%s", l ? "," : "",
				 yoc_budget_setting_name(s));
		}
	}
	yoc_date_format(o->as_of, asof);
	char trim_s[64], minpy[32], npy_s[32];
	snprintf(trim_s, sizeof trim_s, "%s", o->spec_trim ? o->spec_trim : "pct:5,97");
	snprintf(minpy, sizeof minpy, "%g", o->min_py);
	snprintf(npy_s, sizeof npy_s, "%zu", npy);
	snprintf(buf, sizeof buf, "%s", o->spec_uplift ? o->spec_uplift : "");
	const char *kvs[][2] = {
		{"built", now},
		{"base_years", years},
		{"categories", o->categories},
		{"categories_version", yoc_budget_cats_version(c)},
		{"categories_text", yoc_budget_cats_text(c)},
		{"service_map", o->service_map},
		{"service_map_version", yoc_smap_version(m)},
		{"service_map_text", map_text},
		{"service_map_as_of", asof},
		{"settings_in", in_s},
		{"settings_partial", part_s},
		{"trim", trim_s},
		{"uplift", buf},
		{"min_person_years", minpy},
		{"person_years", npy_s},
	};
	for (size_t i = 0; i < sizeof kvs / sizeof kvs[0]; i++)
		if (put_kv(kv, v, kvs[i][0], kvs[i][1])) {
			rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
			goto cleanup;
		}
	for (size_t i = 0; i < res->nrows; i++) {
		const struct yoc_tariff_row *r = &res->rows[i];
		sqlite3_bind_int(tr, 1, v);
		sqlite3_bind_int(tr, 2, r->order);
		sqlite3_bind_text(tr, 3, r->category, -1, SQLITE_STATIC);
		if (r->parent[0])
			sqlite3_bind_text(tr, 4, r->parent, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(tr, 4);
		sqlite3_bind_text(tr, 5, r->pool, -1, SQLITE_STATIC);
		sqlite3_bind_int64(tr, 6, r->n);
		sqlite3_bind_double(tr, 7, (double)r->units / YOC_BUDGET_YEAR_UNITS);
		sqlite3_bind_int64(tr, 8, r->units);
		sqlite3_bind_int64(tr, 9, r->cost);
		sqlite3_bind_int64(tr, 10, r->trim_low);
		sqlite3_bind_int64(tr, 11, r->trim_high);
		sqlite3_bind_double(tr, 12, (double)r->trim_units / YOC_BUDGET_YEAR_UNITS);
		sqlite3_bind_int64(tr, 13, r->trim_cost);
		sqlite3_bind_int64(tr, 14, expected[i]);
		sqlite3_bind_int64(tr, 15, r->base);
		sqlite3_bind_int64(tr, 16, r->tariff);
		sqlite3_bind_text(tr, 17, r->note, -1, SQLITE_STATIC);
		if (sqlite3_step(tr) != SQLITE_DONE) {
			rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
			goto cleanup;
		}
		sqlite3_reset(tr);
	}
	rc = exec(db, "COMMIT", e);
cleanup:
	sqlite3_finalize(q);
	sqlite3_finalize(kv);
	sqlite3_finalize(tr);
	if (rc)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int64_t count_year(sqlite3 *db, const char *fy)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM person_year WHERE fyear = ?1", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, fy, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return n;
}

int yoc_tariff_build(sqlite3 *db, const struct yoc_tariff_opts *o,
		     struct yoc_tariff_result *res, struct yoc_error *e)
{
	memset(res, 0, sizeof *res);
	yoc_budget_cats *c = NULL;
	yoc_smap *m = NULL;
	struct yoc_tpy *all = NULL, *part = NULL;
	struct yoc_tpy **mem = NULL;
	int64_t *units = NULL, *expected = NULL;
	int *merged = NULL, *pool = NULL, *depth = NULL;
	size_t nall = 0, map_n = 0;
	char *map_text = NULL;
	int rc;
	struct yoc_tariff_opts oo = *o;
	if (o->nyears == 0)
		return yoc_error_set(e, YOC_EINVAL, "--base-years", 0, 0, "no base year given");
	if ((rc = yoc_budget_cats_load(o->categories, &c, e)) ||
	    (rc = yoc_read_file(o->service_map, 16u << 20, &map_text, &map_n, e)) ||
	    (rc = yoc_smap_parse(map_text, map_n, o->service_map, &m, e)))
		goto cleanup;
	int last = o->fyears[0];
	for (size_t i = 0; i < o->nyears; i++)
		if (o->fyears[i] > last)
			last = o->fyears[i];
	if (!oo.as_of)
		oo.as_of = yoc_fyear_start(last + 1);
	yoc_smap_settings(m, oo.as_of, res->in, res->partial);
	for (size_t i = 0; i < o->nyears; i++) {
		size_t np = 0;
		struct yoc_error ye;
		yoc_error_clear(&ye);
		char fy[16];
		yoc_fyear_format(o->fyears[i], fy);
		if (count_year(db, fy) <= 0) {
			rc = yoc_error_set(e, YOC_ENOTFOUND, "--base-years", 1, 0,
					   "base year %zu (%s) has no data: no person_year rows"
					   " (run yoc analyse over that year)", i + 1, fy);
			goto cleanup;
		}
		if ((rc = yoc_tariff_person_years(db, c, o->fyears[i], res->in, &part, &np, &ye))) {
			*e = ye;
			goto cleanup;
		}
		struct yoc_tpy *na = yoc_realloc(all, (nall + np + 1) * sizeof *na);
		if (!na) {
			rc = yoc_error_set(e, YOC_ENOMEM, "tariff", 0, 0, "out of memory");
			goto cleanup;
		}
		all = na;
		memcpy(all + nall, part, np * sizeof *part);
		nall += np;
		yoc_free(part);
		part = NULL;
	}
	size_t nc = yoc_budget_cats_count(c);
	res->rows = yoc_calloc(nc, sizeof *res->rows);
	units = yoc_calloc(nc, sizeof *units);
	expected = yoc_calloc(nc, sizeof *expected);
	merged = yoc_calloc(nc, sizeof *merged);
	pool = yoc_calloc(nc, sizeof *pool);
	depth = yoc_calloc(nc, sizeof *depth);
	mem = yoc_malloc((nall + 1) * sizeof *mem);
	if (!res->rows || !units || !expected || !merged || !pool || !depth || !mem) {
		rc = yoc_error_set(e, YOC_ENOMEM, "tariff", 0, 0, "out of memory");
		goto cleanup;
	}
	res->nrows = nc;
	for (size_t i = 0; i < nall; i++) {
		struct yoc_tariff_row *r = &res->rows[all[i].cat];
		r->n++;
		r->units += all[i].units;
		r->cost += all[i].cost;
	}
	int maxd = 0;
	for (size_t i = 0; i < nc; i++) {
		struct yoc_tariff_row *r = &res->rows[i];
		snprintf(r->category, sizeof r->category, "%s", yoc_budget_cats_name(c, i));
		int p = yoc_budget_cats_parent(c, i);
		if (p >= 0)
			snprintf(r->parent, sizeof r->parent, "%s", yoc_budget_cats_name(c, (size_t)p));
		r->order = (int)i + 1;
		units[i] = r->units;
		for (int j = p; j >= 0; j = yoc_budget_cats_parent(c, (size_t)j))
			depth[i]++;
		if (depth[i] > maxd)
			maxd = depth[i];
	}
	/* Small categories, deepest first: too little exposure (with what was
	 * merged into them) and a parent to go to. */
	double min_units = o->min_py * YOC_BUDGET_YEAR_UNITS;
	for (int d = maxd; d >= 1; d--)
		for (size_t i = 0; i < nc; i++)
			if (depth[i] == d && (double)units[i] < min_units) {
				int p = yoc_budget_cats_parent(c, i);
				merged[i] = 1;
				units[p] += units[i];
			}
	for (size_t i = 0; i < nc; i++) {
		int j = (int)i;
		while (merged[j])
			j = yoc_budget_cats_parent(c, (size_t)j);
		pool[i] = j;
		snprintf(res->rows[i].pool, sizeof res->rows[i].pool, "%s",
			 yoc_budget_cats_name(c, (size_t)j));
	}
	for (size_t i = 0; i < nc; i++) {
		if (pool[i] != (int)i)
			continue;
		size_t k = 0;
		for (size_t r = 0; r < nall; r++)
			if (pool[all[r].cat] == (int)i)
				mem[k++] = &all[r];
		struct yoc_tariff_row *row = &res->rows[i];
		trim_pool(mem, k, &o->trim, row, &expected[i]);
		row->tariff = yoc_uplift_apply(&o->uplift, row->base);
		if (k == 0)
			snprintf(row->note, sizeof row->note, "no person-years in the base years");
		else if ((double)units[i] < min_units)
			snprintf(row->note, sizeof row->note,
				 "small: %.1f person-years, below %g, and no parent",
				 (double)units[i] / YOC_BUDGET_YEAR_UNITS, o->min_py);
		else if (units[i] != row->units)
			snprintf(row->note, sizeof row->note, "pooled with merged categories");
	}
	for (size_t i = 0; i < nc; i++) {
		if (pool[i] == (int)i)
			continue;
		struct yoc_tariff_row *row = &res->rows[i], *pr = &res->rows[pool[i]];
		row->base = pr->base;
		row->tariff = pr->tariff;
		expected[i] = expected[pool[i]];
		snprintf(row->note, sizeof row->note,
			 "merged into %s: %.1f person-years, below %g", pr->category,
			 (double)row->units / YOC_BUDGET_YEAR_UNITS, o->min_py);
	}
	rc = write_tables(db, &oo, c, m, map_text, res, expected, nall, e);
cleanup:
	yoc_free(map_text);
	if (rc)
		yoc_tariff_result_free(res);
	yoc_free(all);
	yoc_free(part);
	yoc_free(mem);
	yoc_free(units);
	yoc_free(expected);
	yoc_free(merged);
	yoc_free(pool);
	yoc_free(depth);
	yoc_budget_cats_free(c);
	yoc_smap_free(m);
	return rc;
}

void yoc_tariff_stored_free(struct yoc_tariff_stored *t)
{
	if (!t)
		return;
	yoc_budget_cats_free(t->cats);
	yoc_smap_free(t->map);
	yoc_free(t->tariff);
	yoc_free(t->expected);
	memset(t, 0, sizeof *t);
}

int yoc_tariff_load_stored(sqlite3 *db, int version, struct yoc_tariff_stored *t,
			   struct yoc_error *e)
{
	memset(t, 0, sizeof *t);
	sqlite3_stmt *st = NULL;
	int rc = 0;
	if (sqlite3_prepare_v2(db, "SELECT max(version) FROM tariff_build", -1, &st, NULL) ||
	    sqlite3_step(st) != SQLITE_ROW || sqlite3_column_type(st, 0) == SQLITE_NULL) {
		rc = yoc_error_set(e, YOC_ENOTFOUND, "tariff", 0, 0,
				   "no tariff in the dataset (run yoc tariff build)");
		goto cleanup;
	}
	if (!version)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	t->version = version;
	if (sqlite3_prepare_v2(db, "SELECT key, value FROM tariff_build WHERE version = ?1", -1,
			       &st, NULL)) {
		rc = yoc_error_set(e, YOC_EIO, "tariff_build", 0, 0, "%s", sqlite3_errmsg(db));
		goto cleanup;
	}
	sqlite3_bind_int(st, 1, version);
	int found = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const char *v = (const char *)sqlite3_column_text(st, 1);
		if (!k || !v)
			continue;
		found = 1;
		if (strcmp(k, "categories_text") == 0) {
			if ((rc = yoc_budget_cats_parse(v, strlen(v), "tariff_build.categories_text",
							&t->cats, e)))
				goto cleanup;
		} else if (strcmp(k, "service_map_text") == 0) {
			if ((rc = yoc_smap_parse(v, strlen(v), "tariff_build.service_map_text",
						 &t->map, e)))
				goto cleanup;
		} else if (strcmp(k, "settings_in") == 0) {
			const char *s = v;
			while (*s) {
				const char *c2 = strchr(s, ',');
				size_t l = c2 ? (size_t)(c2 - s) : strlen(s);
				int set = yoc_budget_setting_of(s, l);
				if (set >= 0)
					t->in[set] = 1;
				s += l + (c2 != NULL);
			}
		} else if (strcmp(k, "base_years") == 0) {
			size_t l = strlen(v);
			if (l >= 7)
				yoc_fyear_parse(v + l - 7, 7, &t->last_year);
		}
	}
	if (!found || !t->cats) {
		rc = yoc_error_set(e, YOC_ENOTFOUND, "tariff", 0, 0, "no tariff version %d", version);
		goto cleanup;
	}
	sqlite3_finalize(st);
	st = NULL;
	size_t nc = yoc_budget_cats_count(t->cats);
	t->tariff = yoc_calloc(nc, sizeof *t->tariff);
	t->expected = yoc_calloc(nc, sizeof *t->expected);
	if (!t->tariff || !t->expected) {
		rc = yoc_error_set(e, YOC_ENOMEM, "tariff", 0, 0, "out of memory");
		goto cleanup;
	}
	if (sqlite3_prepare_v2(db, "SELECT category, tariff, expected FROM tariff WHERE version = ?1",
			       -1, &st, NULL)) {
		rc = yoc_error_set(e, YOC_EIO, "tariff", 0, 0, "%s", sqlite3_errmsg(db));
		goto cleanup;
	}
	sqlite3_bind_int(st, 1, version);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int i = yoc_budget_cats_find(t->cats, (const char *)sqlite3_column_text(st, 0));
		if (i >= 0) {
			t->tariff[i] = sqlite3_column_int64(st, 1);
			t->expected[i] = sqlite3_column_int64(st, 2);
		}
	}
cleanup:
	sqlite3_finalize(st);
	if (rc)
		yoc_tariff_stored_free(t);
	return rc;
}

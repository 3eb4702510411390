/*
** The dashboards of yoc serve, one per audience (docs/server.md,
** "Dashboards"): the whole population, risk tiers, a practice's own figures,
** its cohort worklist and data pack, budget and payments, outcome KPIs,
** the evaluation, and the administrator's users and access log. Each is a
** view of tables that other verbs wrote to DIR/yoc.db, read with fixed SQL
** statements (the only bound values are the served year and the session's
** practice, never request text) on a read-only connection opened per
** request, and published through the report's disclosure control
** (src/sdc): counts alone through yoc_sdc_one, a column with its total
** through yoc_sdc_protect, money to 3 significant figures, means over the
** published count, rates of published counts.
**
** Also POST /api/cohort: the analyst saves the current group's filters as a
** cohort definition (src/cohort) whose rule is the selection engine's
** normalised rule text (printed from the compiled rule, not copied from
** the request).
**
** Must not: publish a count that did not pass disclosure control, show a
** practice user anything of another practice, run SQL made from request
** text, or decide a role's access anywhere but dash_roles[] below.
*/
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sqlite3.h>

#include "alog/alog.h"
#include "cohort/cohort.h"
#include "sdc/sdc.h"
#include "server/server.h"
#include "stats/stats.h"

#define MAX_COLS 16
#define MAX_ROWS 2000
#define PH (1u << YOC_ROLE_PUBLIC_HEALTH)
#define PL (1u << YOC_ROLE_PLANNER)
#define AN (1u << YOC_ROLE_ANALYST)
#define PR (1u << YOC_ROLE_PRACTICE)
#define FI (1u << YOC_ROLE_FINANCE)
#define AD (1u << YOC_ROLE_ADMIN)

struct dctx {
	sqlite3 *db;
	const char *dir;
	const char *fyear;
	const char *practice;
	const char *user;
	json_t *meta;          /* the selection engine's meta (fyear, conditions) */
	struct yoc_sdc sdc;
	size_t rows_out;       /* person-level rows sent (the worklist) */
};

/*
** A column of a published table. kinds:
**   t text as read       i integer as read (a person's own figure, a month)
**   c count (protected)  m money in pence, published to 3 s.f. in pounds
**   a mean: the column is a sum of pence, over the published count `ref`
**   g a price in pence, whole pounds, shown when count `ref` is
**   r rate: count `src` over count `ref` times `scale`
**   n number, 1 decimal  f 2 decimals  x 3 decimals
** Money and rates are shown only when the count `ref` is.
*/
struct col {
	const char *name;
	char kind;
	signed char ref, src;
	int scale;
};

struct table {
	const char *id, *caption, *sql;
	int total;              /* add a Total row; counts protected with it */
	const char *chart;      /* "bar:LABEL:VALUE", "line:..", "spc" or NULL */
	struct col cols[MAX_COLS];
};

/* ---- reading and publishing a table ---- */

struct cell {
	int null;
	int64_t i;
	double d;
	char *s;
};

static void free_cells(struct cell *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		yoc_free(c[i].s);
	yoc_free(c);
}

static int ncols_of(const struct table *t)
{
	int n = 0;
	while (n < MAX_COLS && t->cols[n].name)
		n++;
	return n;
}

/* 1 if table name exists and has rows. */
static int has_rows(struct dctx *d, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int n = 0;
	if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0) > 0;
	sqlite3_finalize(st);
	return n;
}

static json_t *num_or_null(double v, int dec)
{
	if (isnan(v) || isinf(v))
		return json_null();
	double p = dec == 1 ? 10 : dec == 2 ? 100 : dec == 3 ? 1000 : 1;
	return json_real(round(v * p) / p);
}

/*
** Runs t's statement (binding ?1 the year, ?2 the practice) and appends the
** published table to arr. Returns the number of rows, or -1 on an SQL error
** (the table is then left out and named in the section's note).
*/
static int table_add(struct dctx *d, json_t *arr, const struct table *t)
{
	sqlite3_stmt *st = NULL;
	int nc = ncols_of(t), nr = 0, cap = 64;
	struct cell *v = yoc_calloc((size_t)cap * nc, sizeof *v);
	if (!v)
		return -1;
	if (sqlite3_prepare_v2(d->db, t->sql, -1, &st, NULL) != SQLITE_OK) {
		yoc_free(v);
		return -1;
	}
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_text(st, 1, d->fyear, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_text(st, 2, d->practice ? d->practice : "", -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && nr < MAX_ROWS) {
		if (nr + 2 > cap) {
			struct cell *w = yoc_realloc(v, (size_t)cap * 2 * nc * sizeof *v);
			if (!w)
				break;
			memset(w + (size_t)cap * nc, 0, (size_t)cap * nc * sizeof *v);
			v = w;
			cap *= 2;
		}
		for (int j = 0; j < nc && j < sqlite3_column_count(st); j++) {
			struct cell *c = &v[(size_t)nr * nc + j];
			c->null = sqlite3_column_type(st, j) == SQLITE_NULL;
			c->i = sqlite3_column_int64(st, j);
			c->d = sqlite3_column_double(st, j);
			if (strchr("t", t->cols[j].kind)) {
				const unsigned char *s = sqlite3_column_text(st, j);
				c->s = s ? yoc_strdup((const char *)s) : NULL;
			} else if (strchr("cma", t->cols[j].kind) && !c->null) {
				c->i = (int64_t)llround(c->d);
			}
		}
		nr++;
	}
	sqlite3_finalize(st);
	int truncated = rc == SQLITE_ROW;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		free_cells(v, (size_t)cap * nc);
		return -1;
	}
	int rows = nr;
	if (t->total && nr > 0) { /* the Total row: sums of counts and money */
		struct cell *tr = &v[(size_t)nr * nc];
		for (int j = 0; j < nc; j++) {
			char k = t->cols[j].kind;
			tr[j].null = !strchr("cma", k);
			if (k == 't' && j == 0) {
				tr[j].s = yoc_strdup("Total");
				tr[j].null = 0;
			}
			for (int i = 0; i < nr && strchr("cma", k); i++)
				tr[j].i += v[(size_t)i * nc + j].null ? 0 : v[(size_t)i * nc + j].i;
		}
		nr++;
	}
	/* counts: each column protected with its total, or each cell alone */
	int64_t *pub = yoc_calloc((size_t)nr * nc + 1, sizeof *pub);
	int64_t *col = yoc_calloc((size_t)nr + 1, sizeof *col);
	unsigned char *state = yoc_calloc((size_t)nr * nc + 1, 1), *cs = yoc_calloc((size_t)nr + 1, 1);
	json_t *rowsj = json_array(), *colsj = json_array(), *kinds = json_array();
	for (int j = 0; pub && col && state && cs && j < nc; j++) {
		if (t->cols[j].kind != 'c')
			continue;
		for (int i = 0; i < nr; i++) {
			struct cell *c = &v[(size_t)i * nc + j];
			col[i] = c->null || c->i < 0 ? 0 : c->i;
		}
		if (t->total && nr > 1) {
			int64_t tmp[MAX_ROWS + 1];
			if (yoc_sdc_protect(&d->sdc, nr, 1, 1, 0, col, cs, tmp) != 0)
				memset(cs, 1, (size_t)nr);
			for (int i = 0; i < nr; i++) {
				pub[(size_t)i * nc + j] = cs[i] ? YOC_SDC_HIDDEN : tmp[i];
				state[(size_t)i * nc + j] = cs[i];
			}
		} else {
			for (int i = 0; i < nr; i++) {
				int64_t p = yoc_sdc_one(&d->sdc, col[i]);
				pub[(size_t)i * nc + j] = p;
				state[(size_t)i * nc + j] = p == YOC_SDC_HIDDEN;
			}
		}
	}
	for (int j = 0; j < nc; j++) {
		json_array_append_new(colsj, json_string(t->cols[j].name));
		char k[2] = {t->cols[j].kind, 0};
		json_array_append_new(kinds, json_string(k));
	}
	for (int i = 0; pub && state && i < nr; i++) {
		json_t *r = json_array();
		for (int j = 0; j < nc; j++) {
			const struct col *cd = &t->cols[j];
			struct cell *c = &v[(size_t)i * nc + j];
			int ref = cd->ref, src = cd->src;
			int64_t n = ref >= 0 && ref < nc ? v[(size_t)i * nc + ref].i : 0;
			int64_t npub = ref >= 0 && ref < nc ? pub[(size_t)i * nc + ref] : 0;
			int nst = ref >= 0 && ref < nc ? state[(size_t)i * nc + ref] : 1;
			int ok = ref >= 0 && ref < nc && yoc_sdc_stat_ok(&d->sdc, n, nst) && npub > 0;
			json_t *x;
			switch (cd->kind) {
			case 't':
				x = c->s ? json_string(c->s) : json_null();
				break;
			case 'i':
				x = c->null ? json_null() : json_integer(c->i);
				break;
			case 'c':
				x = c->null ? json_null()
					    : pub[(size_t)i * nc + j] == YOC_SDC_HIDDEN
						      ? json_null()
						      : json_integer(pub[(size_t)i * nc + j]);
				break;
			case 'm':
				x = c->null || !ok ? json_null()
						   : json_integer(yoc_sdc_money(&d->sdc, c->i) / 100);
				break;
			case 'a':
				x = c->null || !ok ? json_null()
						   : json_integer(yoc_sdc_mean(&d->sdc, c->i, n, npub) / 100);
				break;
			case 'g':
				x = c->null || !ok ? json_null() : json_integer((int64_t)llround(c->d / 100));
				break;
			case 'r': {
				/* of published counts (yoc_sdc_rate), one decimal at its scale */
				int64_t sc = cd->scale;
				int64_t num = src >= 0 && src < nc ? v[(size_t)i * nc + src].i : 0;
				double rate = ref < 0 || sc <= 0
						      ? NAN
						      : yoc_sdc_rate(&d->sdc, num, n, nst, sc, 0);
				x = num_or_null(rate, 1);
				break;
			}
			case 'n':
				x = c->null ? json_null() : num_or_null(c->d, 1);
				break;
			case 'f':
				x = c->null ? json_null() : num_or_null(c->d, 2);
				break;
			default:
				x = c->null ? json_null() : num_or_null(c->d, 3);
			}
			json_array_append_new(r, x);
		}
		json_array_append_new(rowsj, r);
	}
	json_t *tj = json_pack("{s:s,s:s,s:o,s:o,s:o}", "id", t->id, "caption", t->caption,
			       "columns", colsj, "kinds", kinds, "rows", rowsj);
	if (t->chart)
		json_object_set_new(tj, "chart", json_string(t->chart));
	if (truncated) /* more rows than a page holds: say so, never drop them silently */
		json_object_set_new(tj, "truncated", json_integer(MAX_ROWS));
	json_array_append_new(arr, tj);
	yoc_free(pub);
	yoc_free(col);
	yoc_free(state);
	yoc_free(cs);
	free_cells(v, (size_t)cap * nc);
	return rows;
}

/* A section: title, the tables, or the sentence saying what to run. */
static json_t *section(json_t *secs, const char *id, const char *title)
{
	json_t *s = json_pack("{s:s,s:s,s:[]}", "id", id, "title", title, "tables");
	json_array_append_new(secs, s);
	return s;
}

static void missing(json_t *s, const char *verb)
{
	char m[160];
	snprintf(m, sizeof m, "not yet run: run yoc %s", verb);
	json_object_set_new(s, "missing", json_string(m));
}

static void note(json_t *s, const char *text)
{
	json_object_set_new(s, "note", json_string(text));
}

static void tables(struct dctx *d, json_t *s, const struct table *t, size_t n)
{
	json_t *arr = json_object_get(s, "tables");
	for (size_t i = 0; i < n; i++)
		if (table_add(d, arr, &t[i]) < 0)
			note(s, "a table of this section could not be read from the dataset");
}

/* ---- the dashboards ---- */

#define SETTINGS_SUMS                                                                    \
	"sum(cost_total), sum(cost_elective + cost_nonelective + cost_daycase), "        \
	"sum(cost_outpatient), sum(cost_ae), sum(cost_community), sum(cost_mh), "        \
	"sum(cost_gp), sum(cost_social_care)"
#define SETTINGS_COLS                                                                    \
	{"Cost a person £", 'a', 1, -1, 0}, {"Inpatient £", 'a', 1, -1, 0},               \
		{"Outpatient £", 'a', 1, -1, 0}, {"A&E £", 'a', 1, -1, 0},                \
		{"Community £", 'a', 1, -1, 0}, {"Mental health £", 'a', 1, -1, 0},       \
		{"GP £", 'a', 1, -1, 0}, {                                                \
		"Social care £", 'a', 1, -1, 0                                            \
	}

static const struct table pop_tables[] = {
	{"ltc_count", "People by number of long-term conditions, and cost a person by setting",
	 "SELECT CASE WHEN ltc_count IS NULL THEN 'unknown' WHEN ltc_count >= 9 THEN '9+' "
	 "ELSE CAST(ltc_count AS TEXT) END, count(*), " SETTINGS_SUMS
	 " FROM person_year WHERE fyear = ?1 GROUP BY 1 ORDER BY min(coalesce(ltc_count, 99))",
	 1, "bar:0:1",
	 {{"Long-term conditions", 't', -1, -1, 0}, {"People", 'c', -1, -1, 0}, SETTINGS_COLS}},
	{"bands", "People by band", "SELECT coalesce(band, 'unknown'), count(*), sum(cost_total), "
	 "sum(cost_total) FROM person_year WHERE fyear = ?1 GROUP BY 1 ORDER BY 1",
	 1, "bar:0:1",
	 {{"Band", 't', -1, -1, 0}, {"People", 'c', -1, -1, 0}, {"Total cost £", 'm', 1, -1, 0},
	  {"Cost a person £", 'a', 1, -1, 0}}},
	{"concentration", "Cost concentration: the most costly people's share of the cost",
	 "WITH r AS (SELECT cost_total AS c, row_number() OVER (ORDER BY cost_total DESC) AS rn, "
	 "count(*) OVER () AS n FROM person_year WHERE fyear = ?1), "
	 "a AS MATERIALIZED (SELECT sum(c) AS tot, "
	 "sum(rn * 100 <= n + 99) AS k1, sum(CASE WHEN rn * 100 <= n + 99 THEN c END) AS s1, "
	 "sum(rn * 100 <= n * 5 + 99) AS k5, sum(CASE WHEN rn * 100 <= n * 5 + 99 THEN c END) AS s5, "
	 "sum(rn * 100 <= n * 10 + 99) AS k10, "
	 "sum(CASE WHEN rn * 100 <= n * 10 + 99 THEN c END) AS s10, "
	 "sum(rn * 100 <= n * 20 + 99) AS k20, "
	 "sum(CASE WHEN rn * 100 <= n * 20 + 99 THEN c END) AS s20 FROM r) "
	 "SELECT 'Most costly 1%', k1, s1, s1, 100.0 * s1 / tot FROM a WHERE tot > 0 "
	 "UNION ALL SELECT 'Most costly 5%', k5, s5, s5, 100.0 * s5 / tot FROM a WHERE tot > 0 "
	 "UNION ALL SELECT 'Most costly 10%', k10, s10, s10, 100.0 * s10 / tot FROM a WHERE tot > 0 "
	 "UNION ALL SELECT 'Most costly 20%', k20, s20, s20, 100.0 * s20 / tot FROM a WHERE tot > 0",
	 0, "bar:0:4",
	 {{"People", 't', -1, -1, 0}, {"Number", 'c', -1, -1, 0}, {"Total cost £", 'm', 1, -1, 0},
	  {"Cost a person £", 'a', 1, -1, 0}, {"Share of cost %", 'n', -1, -1, 0}}},
};

static const struct table crisis_table = {
	"crisis", "The crisis curve: mean cost of the most costly and the highest-risk 5% before "
	"and after the year they were selected",
	"SELECT cohort, year, present, died, round(mean_cost * present * 100) FROM risk_crisis "
	"WHERE fyear = (SELECT max(fyear) FROM risk_crisis) ORDER BY cohort, year_offset",
	0, NULL,
	{{"Selected by", 't', -1, -1, 0}, {"Year", 't', -1, -1, 0}, {"People present", 'c', -1, -1, 0},
	 {"Died", 'c', -1, -1, 0}, {"Mean cost £", 'a', 2, -1, 0}}};

static int conditions_table(struct dctx *d, json_t *s)
{
	/*
	** One scan of the year for every condition the engine knows (names
	** from the dataset's own schema, checked again here, never from a
	** request), then a row per condition from the one aggregate row.
	*/
	json_t *conds = json_object_get(d->meta, "conditions");
	struct yoc_buf q, sel;
	size_t k;
	json_t *c;
	int nc = 0;
	yoc_buf_init(&q, 1 << 17);
	yoc_buf_init(&sel, 1 << 16);
	json_array_foreach(conds, k, c) {
		const char *n = json_string_value(c);
		int ok = n && *n && strlen(n) < 40;
		for (const char *p = n; ok && *p; p++)
			ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
		if (!ok)
			continue;
		yoc_buf_printf(&q, ", sum(\"%s\" = 1) AS a%d, sum(CASE WHEN \"%s\" = 1 THEN cost_total "
				   "END) AS b%d", n, nc, n, nc);
		yoc_buf_printf(&sel, "%sSELECT '%s', n, a%d, NULL, b%d FROM s", nc ? " UNION ALL " : "",
			       n, nc, nc);
		nc++;
	}
	int rc = -1;
	if (nc && q.data && sel.data) {
		struct yoc_buf sql;
		yoc_buf_init(&sql, 1 << 18);
		yoc_buf_printf(&sql, "WITH s AS MATERIALIZED (SELECT count(*) AS n%s FROM person_year "
				     "WHERE fyear = ?1) %s", q.data, sel.data);
		struct table t = {"prevalence", "Prevalence of each long-term condition", sql.data, 0,
				  "bar:0:3",
				  {{"Condition", 't', -1, -1, 0}, {"Population", 'c', -1, -1, 0},
				   {"People", 'c', -1, -1, 0}, {"Prevalence %", 'r', 1, 2, 100},
				   {"Cost a person £", 'a', 2, -1, 0}}};
		if (sql.data)
			rc = table_add(d, json_object_get(s, "tables"), &t);
		yoc_buf_free(&sql);
	}
	yoc_buf_free(&q);
	yoc_buf_free(&sel);
	return rc;
}

static void dash_population(struct dctx *d, json_t *secs)
{
	json_t *s = section(secs, "population", "The whole population");
	tables(d, s, pop_tables, 1);
	s = section(secs, "prevalence", "Long-term conditions");
	if (conditions_table(d, s) < 0)
		note(s, "the conditions could not be read from the dataset");
	s = section(secs, "bands", "Bands");
	tables(d, s, pop_tables + 1, 1);
	s = section(secs, "concentration", "Cost concentration");
	tables(d, s, pop_tables + 2, 1);
	s = section(secs, "crisis", "The crisis curve");
	if (!has_rows(d, "SELECT count(*) FROM risk_crisis"))
		missing(s, "risk summarise");
	else
		tables(d, s, &crisis_table, 1);
}

static const struct table risk_tables[] = {
	{"risk_pyramid", "The risk pyramid: people, cost and emergency admissions by risk tier",
	 "SELECT tier, people, round(cost_total * 100), round(cost_total * 100), "
	 "100.0 * cost_share, emergency_admissions, 100.0 * emergency_share FROM risk_pyramid "
	 "WHERE fyear = (SELECT CASE WHEN EXISTS (SELECT 1 FROM risk_pyramid WHERE fyear = ?1) "
	 "THEN ?1 ELSE (SELECT max(fyear) FROM risk_pyramid) END) ORDER BY tier_order",
	 1, "bar:0:1",
	 {{"Tier", 't', -1, -1, 0}, {"People", 'c', -1, -1, 0}, {"Total cost £", 'm', 1, -1, 0},
	  {"Cost a person £", 'a', 1, -1, 0}, {"Share of cost %", 'n', -1, -1, 0},
	  {"Emergency admissions", 'c', -1, -1, 0}, {"Share of emergency admissions %", 'n', -1, -1, 0}}},
	{"risk_rising", "Rising risk: people whose risk rose into a higher tier",
	 "SELECT fyear, count(*) FROM risk_rising WHERE ?1 IS NOT NULL GROUP BY fyear ORDER BY 1",
	 0, NULL,
	 {{"Year", 't', -1, -1, 0}, {"People", 'c', -1, -1, 0}}},
};

static void dash_risk(struct dctx *d, json_t *secs)
{
	json_t *s = section(secs, "risk", "Risk tiers");
	if (!has_rows(d, "SELECT count(*) FROM risk_pyramid")) {
		missing(s, "risk summarise");
		return;
	}
	tables(d, s, risk_tables, 1);
	s = section(secs, "crisis", "The crisis curve");
	tables(d, s, &crisis_table, 1);
}

static const struct table prac_tables[] = {
	{"practice_figures", "Key figures: the practice beside the whole ICS",
	 "SELECT 'Practice ' || ?2, count(*), sum(ltc_count >= 2), NULL, "
	 "sum(emergency_admissions), NULL, sum(cost_total), sum(cost_total) FROM person_year "
	 "WHERE fyear = ?1 AND practice = ?2 UNION ALL SELECT 'Whole ICS', count(*), "
	 "sum(ltc_count >= 2), NULL, sum(emergency_admissions), NULL, sum(cost_total), "
	 "sum(cost_total) FROM person_year WHERE fyear = ?1",
	 0, NULL,
	 {{"Area", 't', -1, -1, 0}, {"People", 'c', -1, -1, 0}, {"With 2+ conditions", 'c', -1, -1, 0},
	  {"With 2+ conditions %", 'r', 1, 2, 100}, {"Emergency admissions", 'c', -1, -1, 0},
	  {"Emergency admissions per 1,000", 'r', 1, 4, 1000}, {"Total cost £", 'm', 1, -1, 0},
	  {"Cost a person £", 'a', 1, -1, 0}}},
	{"practice_settings", "Cost a person by setting: the practice beside the whole ICS",
	 "SELECT 'Practice ' || ?2, count(*), " SETTINGS_SUMS " FROM person_year "
	 "WHERE fyear = ?1 AND practice = ?2 UNION ALL SELECT 'Whole ICS', count(*), "
	 SETTINGS_SUMS " FROM person_year WHERE fyear = ?1",
	 0, NULL, {{"Area", 't', -1, -1, 0}, {"People", 'c', -1, -1, 0}, SETTINGS_COLS}},
	{"practice_bands", "Bands: the practice beside the whole ICS",
	 "WITH b AS MATERIALIZED (SELECT coalesce(band, 'unknown') AS k, count(*) AS ics, "
	 "sum(coalesce(practice = ?2, 0)) AS pr FROM person_year WHERE fyear = ?1 GROUP BY 1) "
	 "SELECT k, (SELECT sum(pr) FROM b), pr, NULL, (SELECT sum(ics) FROM b), ics, NULL "
	 "FROM b ORDER BY k",
	 0, NULL,
	 {{"Band", 't', -1, -1, 0}, {"Practice: everyone", 'c', -1, -1, 0},
	  {"Practice: in the band", 'c', -1, -1, 0}, {"Practice %", 'r', 1, 2, 100},
	  {"ICS: everyone", 'c', -1, -1, 0}, {"ICS: in the band", 'c', -1, -1, 0},
	  {"ICS %", 'r', 4, 5, 100}}},
	{"practice_ltc", "People by number of long-term conditions: the practice beside the ICS",
	 "SELECT CASE WHEN b.ltc_count IS NULL THEN 'unknown' WHEN b.ltc_count >= 4 THEN '4+' "
	 "ELSE CAST(b.ltc_count AS TEXT) END AS k, "
	 "sum(coalesce(b.practice = ?2, 0)), count(*) FROM person_year b WHERE b.fyear = ?1 GROUP BY 1 "
	 "ORDER BY min(coalesce(b.ltc_count, 99))",
	 1, "bar:0:1",
	 {{"Long-term conditions", 't', -1, -1, 0}, {"Practice people", 'c', -1, -1, 0},
	  {"ICS people", 'c', -1, -1, 0}}},
};

static const struct table prac_kpi = {
	"practice_kpi", "Outcome KPIs of the practice, latest month",
	"SELECT d.title, k.month, k.numerator, k.denominator FROM kpi_practice k JOIN kpi_def d "
	"USING (kpi) WHERE k.practice = ?2 AND k.month = (SELECT max(month) FROM kpi_practice) "
	"AND ?1 IS NOT NULL ORDER BY d.ord",
	0, NULL,
	{{"KPI", 't', -1, -1, 0}, {"Month", 't', -1, -1, 0}, {"Numerator", 'c', -1, -1, 0},
	 {"Denominator", 'c', -1, -1, 0}}};

static void dash_practice(struct dctx *d, json_t *secs)
{
	json_t *s = section(secs, "practice", "The practice beside the whole ICS");
	tables(d, s, prac_tables, sizeof prac_tables / sizeof *prac_tables);
	s = section(secs, "practice_kpi", "Outcome KPIs");
	if (!has_rows(d, "SELECT count(*) FROM kpi_practice"))
		missing(s, "kpi");
	else
		tables(d, s, &prac_kpi, 1);
}

static const struct table worklist_tables[] = {
	{"worklist", "Cohort worklist: the practice's people selected by each cohort's rule "
	 "(pseudonyms only; the latest selection of each cohort, with the latest review decision)",
	 "SELECT c.cohort, c.pseudo_id, c.age_band, c.ltc_count, c.ltcs, c.risk_tier, "
	 "c.emergency_admissions, (c.cost_total + 50) / 100, coalesce((SELECT r.decision FROM "
	 "cohort_review r WHERE r.cohort = c.cohort AND r.pseudo_id = c.pseudo_id ORDER BY "
	 "r.review_id DESC LIMIT 1), 'not reviewed'), c.reasons FROM cohort_candidate c "
	 "WHERE c.practice = ?2 AND ?1 IS NOT NULL AND c.selection_id = (SELECT max(selection_id) "
	 "FROM cohort_selection s WHERE s.cohort = c.cohort) ORDER BY c.cohort, "
	 "c.risk_percentile DESC, c.pseudo_id",
	 0, NULL,
	 {{"Cohort", 't', -1, -1, 0}, {"Pseudonym", 't', -1, -1, 0}, {"Age band", 't', -1, -1, 0},
	  {"Conditions", 'i', -1, -1, 0}, {"Which", 't', -1, -1, 0}, {"Risk tier", 't', -1, -1, 0},
	  {"Emergency admissions", 'i', -1, -1, 0}, {"Cost £", 'i', -1, -1, 0},
	  {"Review", 't', -1, -1, 0}, {"Why selected", 't', -1, -1, 0}}},
	{"register", "Cohort register: the practice's current members",
	 "SELECT cohort, count(*) FROM cohort_register WHERE practice = ?2 AND ?1 IS NOT NULL "
	 "AND leave_date IS NULL GROUP BY cohort ORDER BY cohort",
	 0, NULL, {{"Cohort", 't', -1, -1, 0}, {"Members", 'c', -1, -1, 0}}},
};

static void dash_worklist(struct dctx *d, json_t *secs)
{
	json_t *s = section(secs, "worklist", "Cohort worklist");
	if (!has_rows(d, "SELECT count(*) FROM cohort_candidate")) {
		missing(s, "cohort select");
		return;
	}
	int n = table_add(d, json_object_get(s, "tables"), &worklist_tables[0]);
	d->rows_out = n > 0 ? (size_t)n : 0;
	note(s, "Person-level rows of the practice's own patients for clinician review: "
		"pseudonyms only; the practice turns them back into NHS numbers with the key "
		"holder's yoc reidentify.");
	s = section(secs, "register", "Cohort register");
	if (!has_rows(d, "SELECT count(*) FROM cohort_register"))
		missing(s, "cohort enrol");
	else
		tables(d, s, &worklist_tables[1], 1);
}

static const struct table fin_tables[] = {
	{"budget_plan", "Budgets: each cohort's capitated budget",
	 "SELECT cohort, fyear, tariff_version, profile, members, budget, budget FROM budget_plan "
	 "WHERE ?1 IS NOT NULL ORDER BY fyear, cohort",
	 0, NULL,
	 {{"Cohort", 't', -1, -1, 0}, {"Year", 't', -1, -1, 0}, {"Tariff version", 'i', -1, -1, 0},
	  {"Profile", 't', -1, -1, 0}, {"Members", 'c', -1, -1, 0}, {"Budget £", 'm', 4, -1, 0},
	  {"Budget a member £", 'a', 4, -1, 0}}},
	{"tariffs", "Tariffs by category (the latest tariff version)",
	 "SELECT category, coalesce(parent, ''), person_years, tariff, coalesce(note, '') FROM tariff "
	 "WHERE version = (SELECT max(version) FROM tariff) AND ?1 IS NOT NULL ORDER BY ord",
	 0, "bar:0:3",
	 {{"Category", 't', -1, -1, 0}, {"Parent", 't', -1, -1, 0}, {"Person-years", 'c', -1, -1, 0},
	  {"Tariff a person-year £", 'g', 2, -1, 0}, {"Note", 't', -1, -1, 0}}},
	{"payments", "Monthly payment schedule (the latest budget)",
	 "SELECT month, sum(members), sum(amount) FROM budget_payment p WHERE ?1 IS NOT NULL AND "
	 "p.rowid IN (SELECT rowid FROM budget_payment WHERE (cohort, fyear) = (SELECT cohort, "
	 "fyear FROM budget_plan ORDER BY built DESC, rowid DESC LIMIT 1)) GROUP BY month "
	 "ORDER BY month",
	 1, "bar:0:2",
	 {{"Month", 't', -1, -1, 0}, {"Member-months", 'c', -1, -1, 0}, {"Payment £", 'm', 1, -1, 0}}},
	{"reconciliation", "Reconciliation: the cohort's activity by tag",
	 "SELECT cohort, tag, sum(rows), sum(cost) FROM tag_summary WHERE ?1 IS NOT NULL "
	 "GROUP BY cohort, tag ORDER BY cohort, tag",
	 0, NULL,
	 {{"Cohort", 't', -1, -1, 0}, {"Tag", 't', -1, -1, 0}, {"Activity rows", 'c', -1, -1, 0},
	  {"Cost £", 'm', 2, -1, 0}}},
	{"risk_share", "Overspend risk by cohort size (shares of simulated cohorts, not people)",
	 "SELECT size, reps, 100.0 * p_over5, 100.0 * p_over10, 100.0 * p_under5, cv, q05, q50, "
	 "q95 FROM budget_risk WHERE ?1 IS NOT NULL AND tariff_version = (SELECT max(tariff_version) "
	 "FROM budget_risk) ORDER BY size",
	 0, NULL,
	 {{"Cohort size", 'i', -1, -1, 0}, {"Simulated cohorts", 'i', -1, -1, 0},
	  {"Over budget by 5%+ (%)", 'n', -1, -1, 0}, {"Over by 10%+ (%)", 'n', -1, -1, 0},
	  {"Under by 5%+ (%)", 'n', -1, -1, 0}, {"Coefficient of variation", 'x', -1, -1, 0},
	  {"Actual/budget 5th pct", 'x', -1, -1, 0}, {"Median", 'x', -1, -1, 0},
	  {"95th pct", 'x', -1, -1, 0}}},
};

static void dash_finance(struct dctx *d, json_t *secs)
{
	static const char *const have[] = {
		"SELECT count(*) FROM budget_plan", "SELECT count(*) FROM tariff",
		"SELECT count(*) FROM budget_payment", "SELECT count(*) FROM tag_summary",
		"SELECT count(*) FROM budget_risk"};
	static const char *const verb[] = {"budget", "tariff build", "budget", "tag",
					   "budget risk"};
	static const char *const title[] = {"Budgets", "Tariffs", "Payments", "Reconciliation",
					    "Risk share"};
	for (int i = 0; i < 5; i++) {
		json_t *s = section(secs, fin_tables[i].id, title[i]);
		if (!has_rows(d, have[i]))
			missing(s, verb[i]);
		else
			tables(d, s, &fin_tables[i], 1);
	}
}

static const struct table kpi_list = {
	"kpi_list", "KPIs",
	"SELECT title, unit, CASE better WHEN 1 THEN 'higher' WHEN -1 THEN 'lower' ELSE '' END, "
	"target, CASE WHEN available THEN 'yes' ELSE 'not available in this dataset: ' || "
	"coalesce(reason, '') END FROM kpi_def WHERE ?1 IS NOT NULL ORDER BY ord",
	0, NULL,
	{{"KPI", 't', -1, -1, 0}, {"Unit", 't', -1, -1, 0}, {"Better", 't', -1, -1, 0},
	 {"Target", 'n', -1, -1, 0}, {"Available", 't', -1, -1, 0}}};

#define KPI_MONTHS 240

/*
** One KPI's months as published, and its Making Data Count chart drawn again
** from the published counts as the report's KPI page does (page_kpi.c): the
** chart type, run lengths, screening and steps yoc kpi recorded, the centre
** line and limits computed here from the published numerators and
** denominators (never the exact ones), and no chart when a month is hidden.
*/
static void kpi_chart(struct dctx *d, json_t *arr, sqlite3_stmt *def)
{
	const char *kpi = (const char *)sqlite3_column_text(def, 0);
	const char *tt = (const char *)sqlite3_column_text(def, 1);
	const char *unit = (const char *)sqlite3_column_text(def, 2);
	const char *ch = (const char *)sqlite3_column_text(def, 3);
	double scale = sqlite3_column_double(def, 4);
	int better = sqlite3_column_int(def, 5);
	double target = sqlite3_column_type(def, 6) == SQLITE_NULL ? NAN
				   : sqlite3_column_double(def, 6);
	int shift = sqlite3_column_int(def, 7), trend = sqlite3_column_int(def, 8);
	const char *steps = (const char *)sqlite3_column_text(def, 9);
	int screen = sqlite3_column_int(def, 10);
	int type = !ch ? YOC_SPC_XMR : strcmp(ch, "p") == 0 ? YOC_SPC_PCHART
				 : strcmp(ch, "u") == 0 ? YOC_SPC_UCHART : YOC_SPC_XMR;
	char label[KPI_MONTHS][16];
	int64_t pn[KPI_MONTHS], pd[KPI_MONTHS];
	double num[KPI_MONTHS], den[KPI_MONTHS];
	struct yoc_spc_mpoint *pt = yoc_calloc(KPI_MONTHS, sizeof *pt);
	sqlite3_stmt *st = NULL;
	int n = 0, shown = 0;
	if (!kpi || !pt || sqlite3_prepare_v2(d->db, "SELECT month, numerator, denominator FROM "
					      "kpi_month WHERE kpi = ?1 ORDER BY month", -1, &st,
					      NULL) != SQLITE_OK) {
		yoc_free(pt);
		return;
	}
	sqlite3_bind_text(st, 1, kpi, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW && n < KPI_MONTHS) {
		const char *m = (const char *)sqlite3_column_text(st, 0);
		snprintf(label[n], sizeof label[n], "%s", m ? m : "");
		pn[n] = yoc_sdc_one(&d->sdc, sqlite3_column_int64(st, 1));
		pd[n] = yoc_sdc_one(&d->sdc, sqlite3_column_int64(st, 2));
		int ok = pn[n] != YOC_SDC_HIDDEN && pd[n] != YOC_SDC_HIDDEN && pd[n] > 0 &&
			 (type != YOC_SPC_PCHART || pn[n] <= pd[n]);
		num[n] = ok ? (double)pn[n] : 0;
		den[n] = ok ? (double)pd[n] : 0;
		if (type == YOC_SPC_XMR)
			num[n] = ok ? (double)pn[n] / (double)pd[n] * scale : NAN;
		shown += ok;
		n++;
	}
	sqlite3_finalize(st);
	struct yoc_spc_chart c;
	struct yoc_spc_opts o;
	struct yoc_error e;
	size_t stp[8], nstp = 0;
	memset(&c, 0, sizeof c);
	yoc_spc_opts_init(&o, type, better);
	if (shift >= 2)
		o.shift_len = shift;
	if (trend >= 2)
		o.trend_len = trend;
	o.screen = screen;
	o.target = type == YOC_SPC_XMR ? target : target / scale;
	for (const char *p = steps; p && *p && nstp < 8;) { /* "2022-10,2023-01" */
		for (int i = 1; i < n; i++)
			if (strncmp(label[i], p, 7) == 0 && (nstp == 0 || stp[nstp - 1] < (size_t)i))
				stp[nstp++] = (size_t)i;
		p = strchr(p, ',');
		p = p ? p + 1 : NULL;
	}
	o.steps = stp;
	o.nsteps = nstp;
	int drawn = n > 0 && shown == n &&
		    yoc_spc_chart(num, type == YOC_SPC_XMR ? NULL : den, (size_t)n, &o, &c, pt, &e) == 0;
	double f = type == YOC_SPC_XMR ? 1 : scale;
	json_t *rows = json_array();
	for (int i = 0; i < n; i++) {
		int lim = drawn && pt[i].present;
		double v = pn[i] == YOC_SDC_HIDDEN || pd[i] == YOC_SDC_HIDDEN || pd[i] <= 0
				   ? NAN
				   : (double)pn[i] / (double)pd[i] * scale;
		json_array_append_new(
			rows, json_pack("[s,o,o,o,o,o,o,s]", label[i],
					pn[i] == YOC_SDC_HIDDEN ? json_null() : json_integer(pn[i]),
					pd[i] == YOC_SDC_HIDDEN ? json_null() : json_integer(pd[i]),
					num_or_null(v, 1), num_or_null(lim ? pt[i].centre * f : NAN, 1),
					num_or_null(lim ? pt[i].lcl * f : NAN, 1),
					num_or_null(lim ? pt[i].ucl * f : NAN, 1),
					lim ? yoc_spc_variation_name(pt[i].variation) : ""));
	}
	char id[96], cap[400];
	snprintf(id, sizeof id, "kpi_%s", kpi);
	snprintf(cap, sizeof cap, "%s (%s; %s chart)", tt ? tt : kpi, unit ? unit : "",
		 yoc_spc_type_name(type));
	json_t *t = json_pack("{s:s,s:s,s:[s,s,s,s,s,s,s,s],s:[s,s,s,s,s,s,s,s],s:o,s:s,s:i,s:o}",
			      "id", id, "caption", cap, "columns", "Month", "Numerator",
			      "Denominator", "Value", "Centre", "Lower limit", "Upper limit",
			      "Variation", "kinds", "t", "c", "c", "r", "n", "n", "n", "t", "rows",
			      rows, "chart", drawn ? "spc" : "spc-none", "better", better, "target",
			      num_or_null(target, 1));
	if (drawn) {
		json_object_set_new(t, "icon", json_string(yoc_spc_icon_name(c.icon)));
		json_object_set_new(t, "assurance", json_string(yoc_spc_assurance_name(c.assurance)));
	}
	json_array_append_new(arr, t);
	yoc_free(pt);
}

static void kpi_charts(struct dctx *d, json_t *s)
{
	/* one table per available KPI; the kpi id is bound, never spliced */
	sqlite3_stmt *st = NULL;
	json_t *arr = json_object_get(s, "tables");
	if (sqlite3_prepare_v2(d->db, "SELECT d.kpi, d.title, d.unit, d.chart, d.scale, d.better, "
				      "d.target, sp.shift_len, sp.trend_len, sp.steps, "
				      "sp.screened IS NOT NULL AND sp.screen_factor IS NOT NULL "
				      "FROM kpi_def d LEFT JOIN kpi_spc sp USING (kpi) "
				      "WHERE d.available ORDER BY d.ord", -1, &st, NULL) != SQLITE_OK) {
		note(s, "the KPI definitions could not be read from the dataset");
		return;
	}
	while (sqlite3_step(st) == SQLITE_ROW)
		kpi_chart(d, arr, st);
	sqlite3_finalize(st);
}

static const struct table outcome_tables[] = {
	{"rrr", "Reduce, Reablement and Recovery: the discharge audit",
	 "SELECT replace(measure, '_', ' '), value FROM rrr_summary WHERE ?1 IS NOT NULL ORDER BY ord",
	 0, NULL, {{"Measure", 't', -1, -1, 0}, {"Count", 'c', -1, -1, 0}}},
	{"careplan", "Care plans: coverage",
	 "SELECT grp_kind || ': ' || grp, people, with_plan, NULL, plans_overdue FROM careplan_cover "
	 "WHERE ?1 IS NOT NULL ORDER BY ord, grp",
	 0, NULL,
	 {{"Group", 't', -1, -1, 0}, {"People", 'c', -1, -1, 0}, {"With a care plan", 'c', -1, -1, 0},
	  {"Coverage %", 'r', 1, 2, 100}, {"Plans overdue", 'c', -1, -1, 0}}},
};

static void dash_outcomes(struct dctx *d, json_t *secs)
{
	json_t *s = section(secs, "kpi", "Outcome KPIs (Making Data Count)");
	if (!has_rows(d, "SELECT count(*) FROM kpi_def"))
		missing(s, "kpi");
	else {
		tables(d, s, &kpi_list, 1);
		kpi_charts(d, s);
		note(s, "Each chart is drawn from the published counts; a KPI with a hidden "
			"month has no chart.");
	}
	s = section(secs, "rrr", "Discharge audit (RRR)");
	if (!has_rows(d, "SELECT count(*) FROM rrr_summary"))
		missing(s, "rrr");
	else
		tables(d, s, &outcome_tables[0], 1);
	s = section(secs, "careplan", "Care plans");
	if (!has_rows(d, "SELECT count(*) FROM careplan_cover"))
		missing(s, "careplan");
	else
		tables(d, s, &outcome_tables[1], 1);
}

static const struct table eval_tables[] = {
	{"eval_people", "The people at each step",
	 "SELECT key, CAST(value AS INTEGER) FROM eval_run WHERE ?1 IS NOT NULL AND key IN "
	 "('listed', 'treated', 'controls', 'matched_treated', 'matched_controls', "
	 "'dropped_no_control', 'dropped_caliper') ORDER BY rowid",
	 0, NULL, {{"Step", 't', -1, -1, 0}, {"People", 'c', -1, -1, 0}}},
	{"eval_release", "Whether the estimate is for release",
	 "SELECT key, value FROM eval_run WHERE ?1 IS NOT NULL AND key IN ('start', 'method', "
	 "'release', 'why') ORDER BY rowid",
	 0, NULL, {{"Item", 't', -1, -1, 0}, {"Value", 't', -1, -1, 0}}},
	{"eval_outcome", "Effect on each outcome: matched difference in differences (a person a "
	 "year), with its 95% interval",
	 "SELECT replace(outcome, '_', ' '), (SELECT CAST(value AS INTEGER) FROM eval_run WHERE "
	 "key = 'matched_treated'), treated_pre, treated_post, control_pre, control_post, did, "
	 "did_lo, did_hi FROM eval_outcome WHERE ?1 IS NOT NULL ORDER BY ord",
	 0, NULL,
	 {{"Outcome", 't', -1, -1, 0}, {"Matched treated", 'c', -1, -1, 0},
	  {"Treated before", 'f', -1, -1, 0}, {"Treated after", 'f', -1, -1, 0},
	  {"Controls before", 'f', -1, -1, 0}, {"Controls after", 'f', -1, -1, 0},
	  {"Difference in differences", 'f', -1, -1, 0}, {"95% from", 'f', -1, -1, 0},
	  {"95% to", 'f', -1, -1, 0}}},
	{"eval_balance", "Balance: standardised mean differences before and after matching",
	 "SELECT covariate, smd_before, smd_after FROM eval_balance WHERE ?1 IS NOT NULL ORDER BY ord",
	 0, NULL,
	 {{"Covariate", 't', -1, -1, 0}, {"SMD before", 'x', -1, -1, 0},
	  {"SMD after", 'x', -1, -1, 0}}},
};

static void dash_evaluation(struct dctx *d, json_t *secs)
{
	json_t *s = section(secs, "evaluation", "Evaluation of the service");
	if (!has_rows(d, "SELECT count(*) FROM eval_outcome")) {
		missing(s, "evaluate");
		return;
	}
	/* statistics of the matched groups only when their count may carry them */
	int64_t mt = 0;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(d->db, "SELECT CAST(value AS INTEGER) FROM eval_run WHERE key = "
				      "'matched_treated'", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		mt = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	tables(d, s, eval_tables, 2);
	if (yoc_sdc_one(&d->sdc, mt) == YOC_SDC_HIDDEN || mt <= 0)
		note(s, "The matched groups are too small to publish their statistics.");
	else
		tables(d, s, eval_tables + 2, 2);
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static void dash_admin(struct dctx *d, json_t *secs)
{
	json_t *s = section(secs, "users", "Users");
	struct yoc_user *u = NULL;
	size_t nu = 0;
	struct yoc_error e;
	json_t *rows = json_array();
	if (yoc_user_list(d->dir, &u, &nu, &e) == 0)
		for (size_t i = 0; i < nu; i++)
			json_array_append_new(rows, json_pack("[s,s,s]", u[i].name,
							      yoc_role_name(u[i].role), u[i].practice));
	yoc_free(u);
	json_array_append_new(json_object_get(s, "tables"),
			      json_pack("{s:s,s:s,s:[s,s,s],s:[s,s,s],s:o}", "id", "users", "caption",
					"Users (no password hashes)", "columns", "User", "Role",
					"Practice", "kinds", "t", "t", "t", "rows", rows));
	s = section(secs, "audit", "The access log");
	char path[4200];
	snprintf(path, sizeof path, "%s/serve/audit.log", d->dir);
	struct yoc_alog_result ar;
	memset(&ar, 0, sizeof ar);
	yoc_error_clear(&e);
	int rc = yoc_alog_verify(path, &ar, &e);
	char status[600];
	if (rc == 0)
		snprintf(status, sizeof status, "intact: %llu records, head %.16s",
			 (unsigned long long)ar.records, ar.head);
	else
		snprintf(status, sizeof status, "BROKEN at line %ld: %s", e.line, e.msg);
	json_object_set_new(s, "chain", json_string(status));
	json_object_set_new(s, "chain_ok", json_boolean(rc == 0));
	/* the last 50 records */
	FILE *f = fopen(path, "r");
	char line[YOC_ALOG_MAX_LINE];
	json_t *ring[50] = {NULL};
	size_t nl = 0;
	while (f && fgets(line, sizeof line, f)) {
		json_t *o = json_loads(line, 0, NULL);
		if (!o)
			continue;
		json_t *r = json_pack("[I,s,s,s,s,s,I,s]", json_integer_value(json_object_get(o, "seq")),
				      str(o, "time"), str(o, "user"), str(o, "ip"), str(o, "event"),
				      str(o, "path"), json_integer_value(json_object_get(o, "status")),
				      str(o, "detail"));
		json_decref(o);
		json_decref(ring[nl % 50]);
		ring[nl % 50] = r;
		nl++;
	}
	if (f)
		fclose(f);
	rows = json_array();
	for (size_t i = nl > 50 ? nl - 50 : 0; i < nl; i++) {
		json_array_append(rows, ring[i % 50]);
	}
	for (int i = 0; i < 50; i++)
		json_decref(ring[i]);
	json_array_append_new(json_object_get(s, "tables"),
			      json_pack("{s:s,s:s,s:[s,s,s,s,s,s,s,s],s:[s,s,s,s,s,s,s,s],s:o}", "id",
					"audit_tail", "caption", "The last 50 records", "columns",
					"Seq", "Time", "User", "Address", "Event", "Path", "Status",
					"Detail", "kinds", "i", "t", "t", "t", "t", "t", "i", "t",
					"rows", rows));
}

/*
** ---- a cache of built dashboards ----
** A dashboard is a view of stored tables, which change only when a verb
** commits: the answer is kept under its name, practice and year, stamped
** with the size and modification time of yoc.db and its WAL, and built
** again when either changes. Access is decided before the cache is
** consulted, and every request is logged whether cached or not. The admin
** page (the access log's tail) is never cached.
*/
#define CACHE_SLOTS 64

struct centry {
	char key[96];
	struct stat db, wal;
	char *json;
	size_t rows;
};

static struct centry cache[CACHE_SLOTS];
static unsigned cache_next;
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;

static void stamp(const char *dir, struct stat *db, struct stat *wal)
{
	char p[4200];
	memset(db, 0, sizeof *db);
	memset(wal, 0, sizeof *wal);
	snprintf(p, sizeof p, "%s/yoc.db", dir);
	if (stat(p, db) != 0)
		memset(db, 0, sizeof *db);
	snprintf(p, sizeof p, "%s/yoc.db-wal", dir);
	if (stat(p, wal) != 0)
		memset(wal, 0, sizeof *wal);
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size && a->st_ino == b->st_ino &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* A copy of the cached text for key (free it), or NULL. */
static char *cache_get(const char *key, const struct stat *db, const struct stat *wal,
		       size_t *rows)
{
	char *out = NULL;
	pthread_mutex_lock(&cache_mu);
	for (int i = 0; i < CACHE_SLOTS && !out; i++)
		if (cache[i].json && strcmp(cache[i].key, key) == 0 &&
		    same_file(&cache[i].db, db) && same_file(&cache[i].wal, wal)) {
			out = yoc_strdup(cache[i].json);
			*rows = cache[i].rows;
		}
	pthread_mutex_unlock(&cache_mu);
	return out;
}

static void cache_put(const char *key, const struct stat *db, const struct stat *wal,
		      const char *json, size_t rows)
{
	char *copy = yoc_strdup(json);
	if (!copy)
		return;
	pthread_mutex_lock(&cache_mu);
	int slot = -1;
	for (int i = 0; i < CACHE_SLOTS && slot < 0; i++)
		if (cache[i].json && strcmp(cache[i].key, key) == 0)
			slot = i;
	if (slot < 0)
		slot = (int)(cache_next++ % CACHE_SLOTS);
	yoc_free(cache[slot].json);
	snprintf(cache[slot].key, sizeof cache[slot].key, "%s", key);
	cache[slot].db = *db;
	cache[slot].wal = *wal;
	cache[slot].json = copy;
	cache[slot].rows = rows;
	pthread_mutex_unlock(&cache_mu);
}

/* ---- the registry: who may see what ---- */

static const struct dash {
	const char *name, *title;
	unsigned roles;
	void (*build)(struct dctx *, json_t *);
} dashes[] = {
	{"population", "Whole population", PH | PL | AN, dash_population},
	{"risk", "Risk tiers", PH | PL | AN, dash_risk},
	{"practice", "My practice", PR, dash_practice},
	{"worklist", "Cohort worklist", PR, dash_worklist},
	{"finance", "Budget and payments", FI, dash_finance},
	{"outcomes", "Outcomes", PH | PL | AN, dash_outcomes},
	{"evaluation", "Evaluation", PH | PL | AN | FI, dash_evaluation},
	{"admin", "Users and access log", AD, dash_admin},
};
#define NDASH (sizeof dashes / sizeof *dashes)

int yoc_dash_route(const char *url)
{
	return strcmp(url, "/api/dash") == 0 || strncmp(url, "/api/dash/", 10) == 0 ||
	       strcmp(url, "/api/cohort") == 0;
}

static int reply_json(struct yoc_dash_reply *r, unsigned status, json_t *o)
{
	char *t = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
	json_decref(o);
	r->status = status;
	r->type = "application/json";
	int rc = t ? yoc_buf_puts(&r->body, t) : YOC_ENOMEM;
	free(t);
	return rc;
}

static int reply_err(struct yoc_dash_reply *r, unsigned status, const char *msg)
{
	if (status == 403 || status == 404 || status == 405)
		r->event = "refused";
	yoc_buf_puts(&r->detail, msg);
	return reply_json(r, status, json_pack("{s:s}", "error", msg));
}

/* A quoted CSV field, its quotes doubled. */
static void csv_str(struct yoc_buf *b, const char *s)
{
	yoc_buf_putc(b, '"');
	for (; s && *s; s++) {
		if (*s == '"')
			yoc_buf_putc(b, '"');
		yoc_buf_putc(b, *s);
	}
	yoc_buf_putc(b, '"');
}

/* The data pack as CSV: every table of the practice dashboard, published figures. */
static void pack_csv(json_t *dash, struct yoc_buf *b)
{
	size_t i, j, k, l;
	json_t *s, *t, *row, *x;
	yoc_buf_printf(b, "# yoc data pack: %s, %s\n",
		       json_string_value(json_object_get(dash, "title")),
		       json_string_value(json_object_get(dash, "fyear")));
	yoc_buf_puts(b, "# figures after disclosure control: * hidden, counts rounded to 5, "
			"money to 3 significant figures\n");
	json_array_foreach(json_object_get(dash, "sections"), i, s) {
		json_array_foreach(json_object_get(s, "tables"), j, t) {
			yoc_buf_printf(b, "\n# %s\n", json_string_value(json_object_get(t, "caption")));
			json_array_foreach(json_object_get(t, "columns"), k, x) {
				if (k)
					yoc_buf_putc(b, ',');
				csv_str(b, json_string_value(x));
			}
			yoc_buf_putc(b, '\n');
			json_array_foreach(json_object_get(t, "rows"), k, row) {
				json_array_foreach(row, l, x) {
					if (l)
						yoc_buf_putc(b, ',');
					if (json_is_null(x))
						yoc_buf_putc(b, '*');
					else if (json_is_string(x))
						csv_str(b, json_string_value(x));
					else if (json_is_integer(x))
						yoc_buf_printf(b, "%lld", (long long)json_integer_value(x));
					else
						yoc_buf_printf(b, "%g", json_real_value(x));
				}
				yoc_buf_putc(b, '\n');
			}
		}
	}
}

/* POST /api/cohort: the group's normalised rule as a new cohort definition. */
static int save_cohort(const yoc_sel *sel, const char *dir, const char *body, size_t n,
		       const char *user, int role, const char *practice, struct yoc_dash_reply *r)
{
	json_error_t je;
	json_t *o = json_loadb(body ? body : "", n, JSON_REJECT_DUPLICATES, &je);
	json_t *sel_req = NULL;
	const char *name = NULL, *desc = "";
	struct yoc_buf out, filt;
	struct yoc_error e;
	sqlite3 *db = NULL;
	int rc, version = 0;
	yoc_buf_init(&out, 1 << 22);
	yoc_buf_init(&filt, 1 << 16);
	yoc_error_clear(&e);
	r->event = "cohort";
	if (!o || !json_is_object(o) || !json_is_string(json_object_get(o, "name"))) {
		rc = reply_err(r, 400, "expected {\"name\":..,\"filters\":{..},\"rule\":..}");
		goto cleanup;
	}
	name = json_string_value(json_object_get(o, "name"));
	if (!yoc_cohort_name_ok(name) || strlen(name) > 64) {
		rc = reply_err(r, 400, "a cohort name is letters, digits, _ and -, starting with a "
				       "letter (at most 64)");
		goto cleanup;
	}
	if (json_is_string(json_object_get(o, "description")))
		desc = json_string_value(json_object_get(o, "description"));
	if (strlen(desc) > 500) {
		rc = reply_err(r, 400, "a description is at most 500 bytes");
		goto cleanup;
	}
	/* the selection part of the request, checked by the engine as /api/select does */
	sel_req = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		if (strcmp(k, "filters") == 0 || strcmp(k, "rule") == 0)
			json_object_set(sel_req, k, v);
		else if (strcmp(k, "name") != 0 && strcmp(k, "description") != 0) {
			rc = reply_err(r, 400, "unknown key in a cohort request");
			goto cleanup;
		}
	}
	char *t = json_dumps(sel_req, JSON_COMPACT);
	rc = t ? yoc_sel_query(sel, t, strlen(t), role, practice, &out, &filt, &e) : YOC_ENOMEM;
	free(t);
	if (rc) {
		char msg[1200];
		snprintf(msg, sizeof msg, "%s: %s", e.file, e.msg);
		rc = reply_err(r, 400, msg);
		goto cleanup;
	}
	if (!filt.len) {
		rc = reply_err(r, 400, "choose some filters first: a cohort of everyone is not a "
				       "cohort");
		goto cleanup;
	}
	char path[4200];
	snprintf(path, sizeof path, "%s/yoc.db", dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		rc = reply_err(r, 500, "the dataset cannot be opened for writing");
		goto cleanup;
	}
	sqlite3_busy_timeout(db, 5000);
	char model[120];
	snprintf(model, sizeof model, "saved from yoc serve by %s", user);
	if (yoc_cohort_schema(db, &e) ||
	    yoc_cohort_define(db, name, filt.data, desc, model, user, &version, &e)) {
		char msg[1200];
		snprintf(msg, sizeof msg, "%s", e.msg);
		rc = reply_err(r, 400, msg);
		goto cleanup;
	}
	yoc_buf_printf(&r->detail, "cohort %s version %d: %s", name, version, filt.data);
	json_t *resp = json_loads(out.data, 0, NULL);
	rc = reply_json(r, 200,
			json_pack("{s:s,s:i,s:s,s:o}", "cohort", name, "version", version, "rule",
				  filt.data, "count",
				  resp ? json_incref(json_object_get(resp, "count")) : json_null()));
	json_decref(resp);
cleanup:
	sqlite3_close(db);
	json_decref(o);
	json_decref(sel_req);
	yoc_buf_free(&out);
	yoc_buf_free(&filt);
	return rc;
}

int yoc_dash_answer(const char *dir, const yoc_sel *sel, const char *url, int post,
		    const char *body, size_t n, const char *user, int role, const char *practice,
		    struct yoc_dash_reply *r)
{
	unsigned bit = 1u << role;
	r->event = "dashboard";
	r->filename = NULL;
	if (strcmp(url, "/api/cohort") == 0) {
		if (!post)
			return reply_err(r, 405, "use POST");
		if (role != YOC_ROLE_ANALYST) {
			r->event = "refused";
			return reply_err(r, 403, "saving a cohort rule is for the analyst role only");
		}
		return save_cohort(sel, dir, body, n, user, role, practice, r);
	}
	if (post)
		return reply_err(r, 405, "use GET");
	if (strcmp(url, "/api/dash") == 0) {
		json_t *arr = json_array();
		for (size_t i = 0; i < NDASH; i++)
			if (dashes[i].roles & bit)
				json_array_append_new(arr, json_pack("{s:s,s:s}", "name", dashes[i].name,
								     "title", dashes[i].title));
		yoc_buf_puts(&r->detail, "list");
		return reply_json(r, 200,
				  json_pack("{s:o,s:b,s:b,s:b}", "dashboards", arr, "select", 1,
					    "extract", role == YOC_ROLE_ANALYST,
					    "cohort", role == YOC_ROLE_ANALYST));
	}
	const char *name = url + 10;
	int csv = 0;
	char nm[32];
	size_t nl = strlen(name);
	if (nl > 4 && strcmp(name + nl - 4, ".csv") == 0) {
		csv = 1;
		nl -= 4;
	}
	snprintf(nm, sizeof nm, "%.*s", (int)(nl < 31 ? nl : 31), name);
	const struct dash *D = NULL;
	for (size_t i = 0; i < NDASH; i++)
		if (strcmp(dashes[i].name, nm) == 0)
			D = &dashes[i];
	if (!D || (csv && strcmp(nm, "practice") != 0)) {
		r->event = "refused";
		return reply_err(r, 404, "no such dashboard");
	}
	if (!(D->roles & bit)) {
		r->event = "refused";
		char m[120];
		snprintf(m, sizeof m, "dashboard %s: not for the %s role", D->name, yoc_role_name(role));
		yoc_buf_puts(&r->detail, m);
		return reply_json(r, 403, json_pack("{s:s}", "error", "not for your role"));
	}
	struct dctx d;
	memset(&d, 0, sizeof d);
	yoc_sdc_init(&d.sdc);
	d.dir = dir;
	d.user = user;
	d.practice = role == YOC_ROLE_PRACTICE ? practice : NULL;
	struct yoc_buf mb;
	yoc_buf_init(&mb, 1 << 22);
	if (yoc_sel_meta(sel, role, practice, &mb) == 0 && mb.data)
		d.meta = json_loads(mb.data, 0, NULL);
	yoc_buf_free(&mb);
	d.fyear = json_string_value(json_object_get(d.meta, "fyear"));
	char path[4200], key[96];
	struct stat sdb, swal;
	char *text = NULL;
	json_t *o = NULL;
	int rc, cacheable = D->build != dash_admin;
	snprintf(key, sizeof key, "%s|%s|%s", D->name, d.practice ? d.practice : "",
		 d.fyear ? d.fyear : "");
	stamp(dir, &sdb, &swal); /* before reading: a later commit changes the stamp */
	if (cacheable && (text = cache_get(key, &sdb, &swal, &d.rows_out)) != NULL)
		o = json_loads(text, 0, NULL);
	if (!o) {
		snprintf(path, sizeof path, "file:%s/yoc.db?mode=ro", dir);
		if (!d.fyear || sqlite3_open_v2(path, &d.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
						NULL) != SQLITE_OK) {
			rc = reply_err(r, 500, "the dataset cannot be read");
			goto cleanup;
		}
		sqlite3_busy_timeout(d.db, 5000);
		json_t *secs = json_array();
		D->build(&d, secs);
		o = json_pack("{s:s,s:s,s:s,s:o,s:s}", "name", D->name, "title", D->title, "fyear",
			      d.fyear, "sections", secs, "disclosure",
			      "Counts of 1 to 7 are hidden (*) and others rounded to 5; money is "
			      "shown to 3 significant figures and means over the published count, "
			      "as in the report. Figures may not add up exactly.");
		if (d.practice)
			json_object_set_new(o, "practice", json_string(d.practice));
		if (cacheable) {
			char *t = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
			if (t)
				cache_put(key, &sdb, &swal, t, d.rows_out);
			free(t);
		}
	}
	yoc_buf_printf(&r->detail, "%s%s%s", D->name, d.practice ? "; practice=" : "",
		       d.practice ? d.practice : "");
	if (d.rows_out)
		yoc_buf_printf(&r->detail, "; rows=%zu", d.rows_out);
	if (csv) {
		pack_csv(o, &r->body);
		json_decref(o);
		r->status = 200;
		r->type = "text/csv; charset=utf-8";
		r->filename = "data-pack.csv";
		r->event = "download";
		rc = 0;
	} else {
		rc = reply_json(r, 200, o);
	}
cleanup:
	yoc_free(text);
	json_decref(d.meta);
	sqlite3_close(d.db);
	return rc;
}

/*
** The report (see report.h): one streaming pass over person_year for the
** year reported accumulates every aggregate (report_acc.c); then every page
** of the page registry below is built and written, then the practice data
** packs from the pack-section registry, then every published table as CSV
** and as a workbook sheet. Tables are published through disclosure control
** into one table model (report_table.c), so HTML, CSV and workbook can never
** disagree. Reads the database only. How to add a page: docs/report.md.
*/
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "yoc/io.h"

/*
** The pages, in navigation order. Each writes OUT/file; the first is the
** overview (index.html), which the practice packs link back to. A page
** added here appears in the navigation of every page and every pack, unless
** its present() hook says the dataset lacks what it shows.
*/
static const struct yoc__page pages[] = {
	{"index.html", "Overview", "Whole population analysis", yoc__page_overview, NULL},
	{"conditions.html", "Conditions", "Long-term conditions", yoc__page_conditions, NULL},
	{"trends.html", "Trends", "Trends: years and months", yoc__page_trends, NULL},
	{"deprivation.html", "Deprivation", "Deprivation", yoc__page_deprivation, NULL},
	{"concentration.html", "Concentration", "Concentration of cost", yoc__page_concentration, NULL},
	{"risk.html", "Risk", "Risk stratification", yoc__page_risk, yoc__risk_present},
	{"practices.html", "Practices compared", "Fair comparison of practices", yoc__page_compare, NULL},
	{"cohorts.html", "Cohorts", "Cohorts: selection, review and register", yoc__page_cohorts,
	 yoc__cohorts_present},
	{"sim.html", "Simulation", "Simulation: baseline vs scenario (Table 3)", yoc__page_sim, yoc__sim_present},
	{"evaluation.html", "Evaluation", "Evaluation of a service", yoc__page_eval,
	 yoc__page_eval_present},
	{"budget.html", "Budget", "Capitated budget", yoc__page_budget, yoc__budget_present},
	{"kpi.html", "KPIs", "Outcome KPIs (Making Data Count)", yoc__page_kpi, yoc__kpi_present},
	{"rrr.html", "RRR", "RRR audit: delayed discharges and the discharge model", yoc__page_rrr,
	 yoc__rrr_present},
	{"careplan.html", "Care plans", "Care plans, unmet needs and patient activation",
	 yoc__page_careplan, yoc__careplan_present},
};

/* The sections of every practice data pack, in page order. */
static const struct yoc__pack_section pack_sections[] = {
	{"key_figures", yoc__pack_key_figures},
	{"population", yoc__pack_population},
	{"bands", yoc__pack_bands},
	{"ltc_count", yoc__pack_ltc},
	{"cost_by_setting", yoc__pack_cost},
	{"risk", yoc__pack_risk},
	{"compare", yoc__pack_compare},
	{"cohorts", yoc__pack_cohorts},
	{"kpi", yoc__pack_kpi},
};

#define NPAGES ((int)(sizeof pages / sizeof pages[0]))
#define NPACKSEC ((int)(sizeof pack_sections / sizeof pack_sections[0]))

/*
** A value of analyse_run as published: counts of people (person_years: the
** whole population when one year is analysed) go through the rule like
** every other count; the rest (versions, parameters, file names) as they are.
*/
static const char *run_value(const struct yoc_sdc *s, const char *key, const char *v,
			     char *buf)
{
	if (strcmp(key, "person_years") != 0)
		return v;
	char *end;
	long long n = strtoll(v, &end, 10);
	if (end == v || *end)
		return "*";
	return yoc_sdc_fmt(yoc_sdc_one(s, n), 0, buf);
}

static void read_meta(sqlite3 *db, struct ctx *c, struct report *R)
{
	char nb[32];
	sqlite3_stmt *q = NULL;
	struct yoc_buf m;
	yoc_buf_init(&m, 900);
	static const char *const cols[] = {"Parameter", "Value"};
	int kinds[2] = {K_TEXT, K_TEXT};
	struct ptable *t = yoc__pt_new(c, "run", "How these results were made (analyse run)", NULL,
				  2, cols, kinds);
	if (sqlite3_prepare_v2(db, "SELECT key, value FROM analyse_run ORDER BY rowid", -1, &q,
			       NULL) == SQLITE_OK) {
		while (sqlite3_step(q) == SQLITE_ROW) {
			const char *k = (const char *)sqlite3_column_text(q, 0);
			const char *v = (const char *)sqlite3_column_text(q, 1);
			if (!k || !v)
				continue;
			if (strcmp(k, "bands") == 0)
				snprintf(R->bands_spec, sizeof R->bands_spec, "%s", v);
			if (strcmp(k, "codelist_version") == 0 || strcmp(k, "lookback_years") == 0 ||
			    strcmp(k, "bands") == 0)
				yoc_buf_printf(&m, "%s%s %s", m.len ? "; " : "", k, v);
			struct pcell *r = t ? yoc__pt_row(c, t) : NULL;
			if (r) {
				r[0].s = yoc__pt_str(c, k);
				r[1].s = yoc__pt_str(c, run_value(&c->o->sdc, k, v, nb));
			}
		}
	}
	sqlite3_finalize(q);
	if (t && t->nrows)
		yoc__add_table(c, t);
	snprintf(R->meta, sizeof R->meta, "%s", m.len ? m.data : "Run parameters not recorded.");
	yoc_buf_free(&m);
}

/* Builds page pg and writes it as OUT/pg->file. */
static int write_page(struct ctx *c, sqlite3 *db, struct report *R, int pg)
{
	char line[1200], path[4096];
	struct yoc_buf b;
	yoc_buf_init(&b, 0);
	c->page = pg;
	c->in_pack = 0;
	snprintf(line, sizeof line, "Financial year %s. %s", R->fyear, R->meta);
	if (yoc__page_start(c, &b, pages[pg].title, line))
		c->oom = 1;
	int rc = pages[pg].build(c, db, R, &b);
	if (!rc && yoc__page_end(c, &b))
		c->oom = 1;
	if (!rc && (c->oom || !b.data))
		rc = yoc_error_set(c->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	if (!rc) {
		snprintf(path, sizeof path, "%s/%s", c->o->out, pages[pg].file);
		rc = yoc__write_buf(c, path, &b);
	}
	yoc_buf_free(&b);
	return rc;
}

int yoc_report_write(const struct yoc_report_opts *o, struct yoc_report_result *res,
		     struct yoc_error *e)
{
	struct ctx c;
	memset(&c, 0, sizeof c);
	c.o = o;
	c.e = e;
	c.pages = pages;
	c.npages = NPAGES;
	yoc_arena_init(&c.ar, 1 << 16);
	struct report *R = yoc_calloc(1, sizeof *R);
	struct yoc_report_part *P = o->part;
	sqlite3 *db = NULL;
	int rc = 0;
	char path[4096];
	unsigned char absent[NPAGES];
	memset(res, 0, sizeof *res);
	if (!R) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	/* the dataset state hash runs beside the scan (report_manifest.c) */
	if ((rc = yoc__manifest_start(&c)))
		goto cleanup;
	/* every figure of person_year: one partial, this catalog's or the
	 * shards' merged (report_part.c) */
	if (!P && (rc = yoc_report_part_make(o->db, o->fyear, NULL, &P, NULL, e)))
		goto cleanup;
	snprintf(R->fyear, sizeof R->fyear, "%s", P->fyear);
	R->a = P->a;
	memset(&P->a, 0, sizeof P->a);
	/* used by this thread alone: no mutex on every call */
	if (sqlite3_open_v2(o->db, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EIO, o->db, 0, 0, "cannot open: %s",
				   db ? sqlite3_errmsg(db) : "out of memory");
		goto cleanup;
	}
	snprintf(path, sizeof path, "%s/practices", o->out);
	if (yoc_mkdirs(path, 0755)) {
		rc = yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot create the folder");
		goto cleanup;
	}
	snprintf(path, sizeof path, "%s/csv/practices", o->out);
	if (yoc_mkdirs(path, 0755)) {
		rc = yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot create the folder");
		goto cleanup;
	}
	read_meta(db, &c, R);
	if ((rc = yoc__manifest_build(&c, db, R)))
		goto cleanup;
	for (int pg = 0; pg < NPAGES; pg++)
		absent[pg] = pages[pg].present && !pages[pg].present(db, R);
	c.absent = absent;
	for (int pg = 0; pg < NPAGES; pg++)
		if (!absent[pg] && (rc = write_page(&c, db, R, pg)))
			goto cleanup;
	if ((rc = yoc__packs_write(&c, db, R, pack_sections, NPACKSEC)))
		goto cleanup;
	for (struct ptable *t = c.tables; t; t = t->next) {
		if ((rc = yoc__write_csv(&c, t)))
			goto cleanup;
		res->tables++;
	}
	if ((rc = yoc__write_xlsx(&c, R->meta)))
		goto cleanup;
	if ((rc = yoc__manifest_write(&c, R)))
		goto cleanup;
	snprintf(res->fyear, sizeof res->fyear, "%s", R->fyear);
	res->persons = (long)R->a.all.n;
	res->practices = (long)R->a.nprac;
	for (size_t i = 0; i < R->a.nprac; i++)
		res->practices -= R->a.prac[i].unknown; /* no pack */
	res->files = c.files;
cleanup:
	yoc_report_part_free(P);
	if (R)
		yoc__report_free(R);
	yoc_free(R);
	sqlite3_close(db);
	yoc__manifest_free(&c);
	yoc_arena_free(&c.ar);
	return rc;
}

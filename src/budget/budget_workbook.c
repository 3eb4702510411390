/*
** The finance workbook of a cohort's budgeted year (docs/budget.md,
** "Finance workbook"): tariffs by category with their trims, the service
** map, the budget, the monthly schedule, the shadow year, the tag summary,
** the overspend risk with its chart and the reconciliation's summary. It is the finance lead's working
** document, not a publication: money is exact, in pence shown as pounds
** (£#,##0.00), because payments are made to the penny. Counts of people
** pass src/sdc: member and person-year counts are published with
** yoc_sdc_one (1..threshold as *, others rounded), a tariff is shown only
** where its pool's person-years may carry a statistic, and each month's
** schedule pools the categories with too few members into one line (with
** the smallest other line when the pool is itself small), so no line's
** exact pence describe fewer people than the threshold.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "budget/budget.h"
#include "sdc/sdc.h"
#include "yoc/date.h"
#include "yoc/csv.h"
#include "yoc/io.h"

struct fmt {
	lxw_format *bold, *money, *count, *pct, *real, *right, *wrap;
};

static void put_count(lxw_worksheet *ws, int r, int c, const struct yoc_sdc *s, int64_t n,
		      const struct fmt *f)
{
	int64_t p = yoc_sdc_one(s, n);
	if (p == YOC_SDC_HIDDEN)
		worksheet_write_string(ws, (lxw_row_t)r, (lxw_col_t)c, "*", f->right);
	else
		worksheet_write_number(ws, (lxw_row_t)r, (lxw_col_t)c, (double)p, f->count);
}

static void put_money(lxw_worksheet *ws, int r, int c, int64_t pence, const struct fmt *f)
{
	worksheet_write_number(ws, (lxw_row_t)r, (lxw_col_t)c, (double)pence / 100, f->money);
}

static void header(lxw_worksheet *ws, int r, const char *const *cols, int n, const struct fmt *f)
{
	for (int k = 0; k < n; k++)
		worksheet_write_string(ws, (lxw_row_t)r, (lxw_col_t)k, cols[k], f->bold);
	worksheet_set_column(ws, 0, 0, 24, NULL);
	worksheet_set_column(ws, 1, (lxw_col_t)(n - 1), 16, NULL);
	worksheet_freeze_panes(ws, (lxw_row_t)(r + 1), 0);
}

static const char *txt(sqlite3_stmt *st, int i)
{
	const char *v = (const char *)sqlite3_column_text(st, i);
	return v ? v : "";
}

static int sheet_tariffs(lxw_workbook *wb, sqlite3 *db, int version, const struct yoc_sdc *s,
			 const struct fmt *f)
{
	lxw_worksheet *ws = workbook_add_worksheet(wb, "tariffs");
	static const char *const cols[] = {"Category", "Merged into", "Person-years",
		"Exposure (years)", "Cost in scope", "Trimmed low", "Trimmed high",
		"Exposure trimmed", "Cost trimmed", "Mean (untrimmed)", "Base tariff",
		"Tariff", "Note"};
	header(ws, 0, cols, 13, f);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT t.category, CASE WHEN t.pool != t.category THEN t.pool"
				   " ELSE '' END, t.person_years, t.exposure, t.cost, t.trim_low,"
				   " t.trim_high, t.trim_exposure, t.trim_cost, t.expected, t.base,"
				   " t.tariff, coalesce(t.note, ''), (SELECT sum(person_years) FROM tariff p"
				   " WHERE p.version = t.version AND p.pool = t.pool) FROM tariff t"
				   " WHERE t.version = ?1 ORDER BY t.ord", -1, &st, NULL) != SQLITE_OK)
		return YOC_EDATA;
	sqlite3_bind_int(st, 1, version);
	int r = 1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t pool_py = sqlite3_column_int64(st, 13);
		int ok = yoc_sdc_stat_ok(s, pool_py, YOC_SDC_SHOWN) || s->off;
		worksheet_write_string(ws, (lxw_row_t)r, 0, txt(st, 0), NULL);
		worksheet_write_string(ws, (lxw_row_t)r, 1, txt(st, 1), NULL);
		put_count(ws, r, 2, s, sqlite3_column_int64(st, 2), f);
		worksheet_write_number(ws, (lxw_row_t)r, 3, sqlite3_column_double(st, 3), f->real);
		for (int k = 4; k <= 11; k++) {
			if (k == 5 || k == 6) {
				put_count(ws, r, k, s, sqlite3_column_int64(st, k), f);
			} else if (k == 7) {
				worksheet_write_number(ws, (lxw_row_t)r, 7, sqlite3_column_double(st, 7),
						       f->real);
			} else if (ok) {
				put_money(ws, r, k, sqlite3_column_int64(st, k), f);
			} else {
				worksheet_write_string(ws, (lxw_row_t)r, (lxw_col_t)k, "*", f->right);
			}
		}
		worksheet_write_string(ws, (lxw_row_t)r, 12, ok ? txt(st, 12) : "", NULL);
		r++;
	}
	sqlite3_finalize(st);
	worksheet_write_string(ws, (lxw_row_t)(r + 1), 0,
			       "Pence shown as pounds, exact. * : fewer person-years in the pool than"
			       " disclosure control allows a statistic for.", NULL);
	return 0;
}

static int sheet_kv(lxw_workbook *wb, sqlite3 *db, int version, const struct fmt *f)
{
	lxw_worksheet *ws = workbook_add_worksheet(wb, "tariff_build");
	static const char *const cols[] = {"Input", "Value"};
	header(ws, 0, cols, 2, f);
	worksheet_set_column(ws, 1, 1, 90, NULL);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT key, value FROM tariff_build WHERE version = ?1 AND key NOT"
				   " IN ('categories_text', 'service_map_text') ORDER BY rowid", -1, &st,
			       NULL) != SQLITE_OK)
		return YOC_EDATA;
	sqlite3_bind_int(st, 1, version);
	int r = 1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		worksheet_write_string(ws, (lxw_row_t)r, 0, txt(st, 0), NULL);
		worksheet_write_string(ws, (lxw_row_t)r, 1, txt(st, 1), NULL);
		r++;
	}
	sqlite3_finalize(st);
	return 0;
}

static void sheet_map(lxw_workbook *wb, const yoc_smap *m, const struct fmt *f)
{
	lxw_worksheet *ws = workbook_add_worksheet(wb, "service_map");
	static const char *const cols[] = {"Line", "Decision", "Setting", "POD", "HRG or TFC",
		"Provider", "From", "To", "Note"};
	header(ws, 0, cols, 9, f);
	worksheet_set_column(ws, 8, 8, 80, NULL);
	if (!m)
		return;
	for (size_t i = 0; i < yoc_smap_count(m); i++) {
		const struct yoc_smap_line *l = yoc_smap_line_at(m, i);
		lxw_row_t r = (lxw_row_t)(i + 1);
		char from[16], to[16] = "";
		yoc_date_format(l->from, from);
		if (l->to != INT32_MAX)
			yoc_date_format(l->to, to);
		worksheet_write_number(ws, r, 0, (double)l->line, NULL);
		worksheet_write_string(ws, r, 1, l->in ? "in" : "out", NULL);
		worksheet_write_string(ws, r, 2, l->setting < 0 ? "*" : yoc_budget_setting_name(l->setting),
				       NULL);
		worksheet_write_string(ws, r, 3, l->pod[0] ? l->pod : "*", NULL);
		worksheet_write_string(ws, r, 4, l->hrg[0] ? l->hrg : "*", NULL);
		worksheet_write_string(ws, r, 5, l->provider[0] ? l->provider : "*", NULL);
		worksheet_write_string(ws, r, 6, from, NULL);
		worksheet_write_string(ws, r, 7, to, NULL);
		worksheet_write_string(ws, r, 8, l->note, NULL);
	}
}

struct sline {
	char cat[48];
	int64_t members, days, amount;
};

/* The schedule: per month, categories with too few members pooled. */
static int sheet_schedule(lxw_workbook *wb, sqlite3 *db, const char *cohort, const char *fy,
			  const struct yoc_sdc *s, const struct fmt *f)
{
	lxw_worksheet *ws = workbook_add_worksheet(wb, "schedule");
	static const char *const cols[] = {"Month", "Category", "Members", "Member-days",
		"Payment"};
	header(ws, 0, cols, 5, f);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT month, category, members, days, amount FROM budget_payment"
				   " WHERE cohort = ?1 AND fyear = ?2 ORDER BY month, amount DESC", -1,
			       &st, NULL) != SQLITE_OK)
		return YOC_EDATA;
	sqlite3_bind_text(st, 1, cohort, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, fy, -1, SQLITE_STATIC);
	struct sline l[256];
	char month[16] = "";
	int n = 0, r = 1, more = 1;
	while (more) {
		more = sqlite3_step(st) == SQLITE_ROW;
		if (!more || (n && strcmp(month, txt(st, 0)) != 0) || n == 256) {
			/* flush the month: pool small lines */
			struct sline pool;
			memset(&pool, 0, sizeof pool);
			snprintf(pool.cat, sizeof pool.cat, "categories with few members");
			int used[256] = {0}, npool = 0;
			for (int i = 0; i < n; i++)
				if (l[i].members <= s->threshold && !s->off) {
					used[i] = 1;
					npool++;
				}
			for (int pass = 0; pass < 2; pass++) {
				memset(&pool.members, 0, sizeof pool - sizeof pool.cat);
				for (int i = 0; i < n; i++)
					if (used[i]) {
						pool.members += l[i].members;
						pool.days += l[i].days;
						pool.amount += l[i].amount;
					}
				if (pass == 0 && npool && pool.members <= s->threshold) {
					int smallest = -1;
					for (int i = 0; i < n; i++)
						if (!used[i] && (smallest < 0 || l[i].members < l[smallest].members))
							smallest = i;
					if (smallest >= 0)
						used[smallest] = 1;
				}
			}
			for (int i = 0; i <= n; i++) {
				const struct sline *x = i < n ? &l[i] : &pool;
				if ((i < n && used[i]) || (i == n && !npool))
					continue;
				worksheet_write_string(ws, (lxw_row_t)r, 0, month, NULL);
				worksheet_write_string(ws, (lxw_row_t)r, 1, x->cat, NULL);
				put_count(ws, r, 2, s, x->members, f);
				if (x->members > s->threshold || s->off)
					worksheet_write_number(ws, (lxw_row_t)r, 3, (double)x->days, f->count);
				else
					worksheet_write_string(ws, (lxw_row_t)r, 3, "*", f->right);
				put_money(ws, r, 4, x->amount, f);
				r++;
			}
			n = 0;
		}
		if (more) {
			snprintf(month, sizeof month, "%s", txt(st, 0));
			snprintf(l[n].cat, sizeof l[n].cat, "%s", txt(st, 1));
			l[n].members = sqlite3_column_int64(st, 2);
			l[n].days = sqlite3_column_int64(st, 3);
			l[n].amount = sqlite3_column_int64(st, 4);
			n++;
		}
	}
	sqlite3_finalize(st);
	char sum[64];
	snprintf(sum, sizeof sum, "=SUM(E2:E%d)", r);
	worksheet_write_string(ws, (lxw_row_t)r, 0, "Total", f->bold);
	worksheet_write_formula(ws, (lxw_row_t)r, 4, sum, f->money);
	return 0;
}

static int sheet_query(lxw_workbook *wb, sqlite3 *db, const char *name, const char *sql,
		       const char *cohort, const char *fy, const char *const *cols,
		       const char *kinds, const struct yoc_sdc *s, const struct fmt *f, int *rows)
{
	lxw_worksheet *ws = workbook_add_worksheet(wb, name);
	int n = (int)strlen(kinds);
	header(ws, 0, cols, n, f);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return YOC_EDATA;
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_text(st, 1, cohort, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_text(st, 2, fy, -1, SQLITE_STATIC);
	int r = 1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int k = 0; k < n; k++) {
			lxw_row_t rr = (lxw_row_t)r;
			lxw_col_t cc = (lxw_col_t)k;
			switch (kinds[k]) {
			case 't': worksheet_write_string(ws, rr, cc, txt(st, k), NULL); break;
			case 'm': put_money(ws, r, k, sqlite3_column_int64(st, k), f); break;
			case 'c': put_count(ws, r, k, s, sqlite3_column_int64(st, k), f); break;
			case 'n': worksheet_write_number(ws, rr, cc, sqlite3_column_double(st, k), f->count); break;
			case 'p': worksheet_write_number(ws, rr, cc, sqlite3_column_double(st, k), f->pct); break;
			default: worksheet_write_number(ws, rr, cc, sqlite3_column_double(st, k), f->real);
			}
		}
		r++;
	}
	sqlite3_finalize(st);
	if (rows)
		*rows = r - 1;
	return 0;
}

/* The reconciliation's summary.csv (yoc reconcile), as it is: money columns as money. */
static int sheet_reconcile(lxw_workbook *wb, const char *dir, const struct fmt *f,
			   struct yoc_error *e)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/summary.csv", dir);
	yoc_csv *r = NULL;
	struct yoc_csv_opts o = {0};
	int rc = yoc_csv_open(&r, path, &o, e);
	if (rc)
		return rc;
	lxw_worksheet *ws = workbook_add_worksheet(wb, "reconciliation");
	size_t nc = yoc_csv_ncols(r);
	const struct yoc_cell *h = yoc_csv_header(r);
	int money[64] = {0};
	for (size_t k = 0; k < nc && k < 64; k++) {
		char name[64];
		snprintf(name, sizeof name, "%.*s", (int)h[k].n, h[k].p);
		money[k] = strcmp(name, "billed") == 0 || strstr(name, "value") != NULL;
		worksheet_write_string(ws, 0, (lxw_col_t)k, name, f->bold);
	}
	worksheet_set_column(ws, 0, (lxw_col_t)(nc ? nc - 1 : 0), 18, NULL);
	struct yoc_csv_row row;
	int got, rr = 1;
	while ((got = yoc_csv_next(r, &row, e)) == 1) {
		for (size_t k = 0; k < row.ncells && k < 64; k++) {
			int64_t p;
			char cell[128];
			snprintf(cell, sizeof cell, "%.*s", (int)row.cells[k].n, row.cells[k].p);
			if (money[k] && yoc_pounds_parse(row.cells[k].p, row.cells[k].n, &p) == 0)
				worksheet_write_number(ws, (lxw_row_t)rr, (lxw_col_t)k, (double)p / 100,
						       f->money);
			else if (k > 0)
				worksheet_write_number(ws, (lxw_row_t)rr, (lxw_col_t)k,
						       strtod(cell, NULL), f->count);
			else
				worksheet_write_string(ws, (lxw_row_t)rr, 0, cell, NULL);
		}
		rr++;
	}
	yoc_csv_close(r);
	return got < 0 ? got : 0;
}

int yoc_budget_workbook(sqlite3 *db, const char *cohort, int fyear, const char *path,
			const char *reconcile, const struct yoc_sdc *s, struct yoc_error *e)
{
	char fy[16];
	yoc_fyear_format(fyear, fy);
	struct yoc_tariff_stored t;
	int version = 0, rc;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT tariff_version FROM budget_plan WHERE cohort = ?1 AND"
				   " fyear = ?2", -1, &st, NULL) != SQLITE_OK)
		return yoc_error_set(e, YOC_ENOTFOUND, "budget_plan", 0, 0,
				     "no budget in the dataset (run yoc budget first)");
	sqlite3_bind_text(st, 1, cohort, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, fy, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (!version)
		return yoc_error_set(e, YOC_ENOTFOUND, "budget_plan", 0, 0,
				     "no budget of cohort %s for %s (run yoc budget first)", cohort, fy);
	if ((rc = yoc_tariff_load_stored(db, version, &t, e)))
		return rc;
	struct yoc_afile af;
	if ((rc = yoc_afile_open(&af, path, e))) {
		yoc_tariff_stored_free(&t);
		return rc;
	}
	fclose(af.f); /* libxlsxwriter writes the temporary by name */
	af.f = NULL;
	lxw_workbook *wb = workbook_new(af.tmp);
	if (!wb) {
		unlink(af.tmp);
		yoc_tariff_stored_free(&t);
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot create workbook");
	}
	struct fmt f;
	f.bold = workbook_add_format(wb);
	format_set_bold(f.bold);
	f.money = workbook_add_format(wb);
	format_set_num_format(f.money, "£#,##0.00;[Red]-£#,##0.00");
	f.count = workbook_add_format(wb);
	format_set_num_format(f.count, "#,##0");
	f.pct = workbook_add_format(wb);
	format_set_num_format(f.pct, "0.0%");
	f.real = workbook_add_format(wb);
	format_set_num_format(f.real, "0.0000");
	f.right = workbook_add_format(wb);
	format_set_align(f.right, LXW_ALIGN_RIGHT);
	f.wrap = workbook_add_format(wb);
	format_set_text_wrap(f.wrap);

	lxw_worksheet *about = workbook_add_worksheet(wb, "about");
	worksheet_set_column(about, 0, 0, 110, NULL);
	char line[512];
	snprintf(line, sizeof line, "Capitated budget of cohort %s for %s (tariff version %d)", cohort,
		 fy, version);
	worksheet_write_string(about, 0, 0, line, f.bold);
	worksheet_write_string(about, 1, 0, "For the finance lead: money is exact (pence shown as "
				"pounds). Counts of people pass disclosure control (1 to the threshold "
				"as *, others rounded); schedule lines of categories with few members "
				"are pooled. docs/budget.md.", f.wrap);
	rc = sheet_tariffs(wb, db, version, s, &f);
	if (!rc)
		rc = sheet_kv(wb, db, version, &f);
	sheet_map(wb, t.map, &f);
	static const char *const pcols[] = {"Cohort", "Year", "Profile", "Members", "Member-days",
		"Days paid once (overlaps)", "Budget"};
	if (!rc)
		rc = sheet_query(wb, db, "budget", "SELECT cohort, fyear, profile, members, member_days,"
				 " overlap_days, budget FROM budget_plan WHERE cohort = ?1 AND fyear = ?2",
				 cohort, fy, pcols, "tttcnnm", s, &f, NULL);
	if (!rc)
		rc = sheet_schedule(wb, db, cohort, fy, s, &f);
	int nshadow = 0, nrisk = 0;
	static const char *const scols[] = {"Dimension", "Value", "Capitated budget",
		"Paid under current contracts", "Difference"};
	if (!rc)
		rc = sheet_query(wb, db, "shadow", "SELECT dimension, value, budget, paid, difference FROM"
				 " budget_shadow WHERE cohort = ?1 AND fyear = ?2 ORDER BY rowid", cohort,
				 fy, scols, "ttmmm", s, &f, &nshadow);
	static const char *const tcols[] = {"Month", "Setting", "Tag", "Rows", "Cost"};
	if (!rc)
		rc = sheet_query(wb, db, "tagging", "SELECT month, setting, tag, rows, cost FROM"
				 " tag_summary WHERE cohort = ?1 ORDER BY month, setting, tag", cohort, fy,
				 tcols, "tttnm", s, &f, NULL);
	static const char *const rcols[] = {"Cohort size", "P(overspend > 5%)",
		"P(overspend > 10%)", "P(underspend > 5%)", "Coefficient of variation",
		"5th percentile of actual/budget", "Median", "95th percentile"};
	if (!rc)
		rc = sheet_query(wb, db, "risk", "SELECT size, p_over5, p_over10, p_under5, cv, q05, q50,"
				 " q95 FROM budget_risk WHERE rowid IN (SELECT max(rowid) FROM budget_risk"
				 " GROUP BY size) ORDER BY size", cohort, fy, rcols, "nppprrrr", s, &f,
				 &nrisk);
	if (rc == YOC_EDATA)
		rc = 0; /* a table not built yet: its sheet stays empty */
	if (!rc && reconcile)
		rc = sheet_reconcile(wb, reconcile, &f, e);
	if (nrisk > 0) {
		lxw_chart *ch = workbook_add_chart(wb, LXW_CHART_LINE);
		lxw_chart_series *se = chart_add_series(ch, NULL, NULL);
		chart_series_set_categories(se, "risk", 1, 0, (lxw_row_t)nrisk, 0);
		chart_series_set_values(se, "risk", 1, 1, (lxw_row_t)nrisk, 1);
		chart_series_set_name(se, "P(overspend > 5%)");
		lxw_chart_series *s2 = chart_add_series(ch, NULL, NULL);
		chart_series_set_categories(s2, "risk", 1, 0, (lxw_row_t)nrisk, 0);
		chart_series_set_values(s2, "risk", 1, 2, (lxw_row_t)nrisk, 2);
		chart_series_set_name(s2, "P(overspend > 10%)");
		chart_title_set_name(ch, "Overspend risk by cohort size");
		lxw_worksheet *rw = workbook_get_worksheet_by_name(wb, "risk");
		if (rw)
			worksheet_insert_chart(rw, (lxw_row_t)(nrisk + 3), 0, ch);
	}
	if (workbook_close(wb) != LXW_NO_ERROR) {
		unlink(af.tmp);
		yoc_tariff_stored_free(&t);
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot write workbook");
	}
	yoc_tariff_stored_free(&t);
	if (rc) {
		unlink(af.tmp);
		return rc;
	}
	if (rename(af.tmp, path) != 0) {
		unlink(af.tmp);
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "rename failed");
	}
	return 0;
}

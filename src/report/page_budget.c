/*
** budget.html: the capitated budget (docs/budget.md) as published: the Year
** of Care tariff of each category with its trims, each cohort's budget and
** monthly payments, the shadow year, and the overspend risk by cohort size.
** Reads the tables yoc tariff, yoc budget and yoc tag wrote; says so when
** there are none. Every count and sum of money passes src/sdc: person-years
** and members through the rule, tariffs as means of their category's
** person-years (whole pounds, shown where the count may carry a
** statistic), sums through yoc_sdc_money; the notes name the category a
** small one was merged into, never its exact exposure. The bootstrap's probabilities are
** shares of simulated cohorts, not counts of people, and are shown as they are.
*/
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "report/report_int.h"
#include "report/svg.h"

#define MAXCAT 64

static int tariffs(struct ctx *c, sqlite3 *db, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	sqlite3_stmt *st = NULL;
	int rc = 0, n = 0;
	const char *name[MAXCAT + 1], *note[MAXCAT];
	int64_t py[MAXCAT + 1], tariff[MAXCAT], trim_n[MAXCAT], trim_cost[MAXCAT];
	int version = 0;
	if (sqlite3_prepare_v2(db, "SELECT category, person_years, tariff, trim_low + trim_high,"
				   " trim_cost, CASE WHEN pool != category THEN 'merged into ' || pool"
				   " WHEN note LIKE 'small%' THEN 'few person-years; no parent to merge into'"
				   " WHEN note LIKE 'no person-years%' THEN 'no person-years in the base'"
				   " ELSE '' END, version FROM tariff WHERE version ="
				   " (SELECT max(version) FROM tariff) ORDER BY ord", -1, &st,
			       NULL) != SQLITE_OK)
		return yoc_error_set(c->e, YOC_EDATA, "tariff", 0, 0, "%s", sqlite3_errmsg(db));
	int64_t total = 0;
	while (sqlite3_step(st) == SQLITE_ROW && n < MAXCAT) {
		name[n] = yoc__pt_str(c, (const char *)sqlite3_column_text(st, 0));
		py[n] = sqlite3_column_int64(st, 1);
		tariff[n] = sqlite3_column_int64(st, 2);
		trim_n[n] = sqlite3_column_int64(st, 3);
		trim_cost[n] = sqlite3_column_int64(st, 4);
		note[n] = yoc__pt_str(c, (const char *)sqlite3_column_text(st, 5));
		version = sqlite3_column_int(st, 6);
		total += py[n];
		n++;
	}
	sqlite3_finalize(st);
	if (n == 0)
		return 0;
	py[n] = total;
	name[n] = "Total";
	int64_t pub[MAXCAT + 1];
	unsigned char state[MAXCAT + 1];
	if ((rc = yoc__protect(c, n + 1, 1, 1, 0, py, state, pub)))
		return rc;
	static const char *const cols[] = {"Category", "Person-years in the base",
		"Tariff per person-year", "Person-years trimmed", "Cost trimmed", "Note"};
	int kinds[6] = {K_TEXT, K_COUNT, K_PENCE, K_COUNT, K_PENCE, K_TEXT};
	char title[128];
	snprintf(title, sizeof title, "Year of Care tariffs by category (tariff version %d)", version);
	struct ptable *t = yoc__pt_new(c, "budget_tariffs", yoc__pt_str(c, title),
				       "Tariff: the annual cost per person-year of exposure over the "
				       "services inside the budget, after trimming, in whole pounds; "
				       "shown where the category's person-years may carry a statistic. "
				       "Sums of money to 3 significant figures.", 6, cols, kinds);
	double chart[MAXCAT];
	const char *cat[MAXCAT];
	for (int i = 0; t && i <= n; i++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			break;
		r[0].s = name[i];
		yoc__set_count(&r[1], pub[i]);
		if (i < n) {
			int ok = yoc_sdc_stat_ok(s, py[i], state[i]);
			int64_t pounds = (tariff[i] >= 0 ? tariff[i] + 50 : tariff[i] - 50) / 100 * 100;
			yoc__set_pence(&r[2], s->off ? tariff[i] : pounds, ok);
			yoc__set_count(&r[3], yoc_sdc_one(s, trim_n[i]));
			yoc__set_pence(&r[4], yoc_sdc_money(s, trim_cost[i]), ok);
			r[5].s = note[i];
			cat[i] = name[i];
			chart[i] = ok ? (double)pounds / 100 : NAN;
		} else {
			r[2].s = r[5].s = "";
			r[2].hidden = 1;
			r[3].hidden = r[4].hidden = 1;
		}
	}
	yoc__add_table(c, t);
	yoc_buf_puts(b, "<section id=\"tariffs\"><h2>Year of Care tariffs</h2><p>Each person in a "
			"cohort is placed in a category by the number and type of their long-term "
			"conditions (frailty and dementia first, then bands of conditions with or "
			"without a mental health condition). A category's tariff is what a year of "
			"a person in it cost in the base years over the services inside the "
			"budget, after removing the many very low-cost and few very high-cost "
			"people, so that it represents the majority. Small categories share their "
			"parent's tariff.</p>");
	static const char *const ser[] = {"Tariff (£ per year)"};
	yoc__svg_stacked(b, "Year of Care tariff by category", n, cat, 1, ser, chart, 1);
	yoc__html_table(c, b, t);
	yoc_buf_puts(b, "</section>\n");
	return c->oom ? yoc_error_set(c->e, YOC_ENOMEM, NULL, 0, 0, "out of memory") : 0;
}

static int budgets(struct ctx *c, sqlite3 *db, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT cohort, fyear, members, budget, profile FROM budget_plan"
				   " ORDER BY cohort, fyear", -1, &st, NULL) != SQLITE_OK)
		return 0;
	static const char *const cols[] = {"Cohort", "Year", "Members", "Budget", "Profile"};
	int kinds[5] = {K_TEXT, K_TEXT, K_COUNT, K_PENCE, K_TEXT};
	struct ptable *t = yoc__pt_new(c, "budget_cohorts", "Capitated budgets",
				       "Budget: each member's tariff for their days in the cohort in "
				       "the year; to 3 significant figures.", 5, cols, kinds);
	char cohort[72] = "", fy[16] = "";
	int rows = 0;
	while (t && sqlite3_step(st) == SQLITE_ROW) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			break;
		r[0].s = yoc__pt_str(c, (const char *)sqlite3_column_text(st, 0));
		r[1].s = yoc__pt_str(c, (const char *)sqlite3_column_text(st, 1));
		int64_t m = sqlite3_column_int64(st, 2), pubm = yoc_sdc_one(s, m);
		yoc__set_count(&r[2], pubm);
		yoc__set_pence(&r[3], yoc_sdc_money(s, sqlite3_column_int64(st, 3)),
			       pubm != YOC_SDC_HIDDEN);
		r[4].s = yoc__pt_str(c, (const char *)sqlite3_column_text(st, 4));
		snprintf(cohort, sizeof cohort, "%s", r[0].s);
		snprintf(fy, sizeof fy, "%s", r[1].s);
		rows++;
	}
	sqlite3_finalize(st);
	if (!rows)
		return 0;
	yoc__add_table(c, t);
	yoc_buf_puts(b, "<section id=\"budgets\"><h2>Capitated budgets and payments</h2><p>The "
			"budget of a cohort is the sum of its members' tariffs for the days they are "
			"in the cohort; a member who joins, leaves or dies part way is paid for their "
			"days only, and never twice for a day. The lead provider is paid monthly, "
			"following the register.</p>");
	yoc__html_table(c, b, t);
	/* the shadow year of the last cohort and year listed */
	if (yoc__report_has_table(db, "budget_shadow") &&
	    sqlite3_prepare_v2(db, "SELECT value, budget, paid FROM budget_shadow WHERE cohort = ?1"
				   " AND fyear = ?2 AND dimension = 'month' ORDER BY value", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, cohort, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, fy, -1, SQLITE_STATIC);
		static const char *const sc[] = {"Month", "Capitated budget", "Paid under current "
						 "contracts", "Difference"};
		int sk[4] = {K_TEXT, K_PENCE, K_PENCE, K_PENCE};
		char title[160];
		snprintf(title, sizeof title, "Shadow year: %s, %s", cohort, fy);
		struct ptable *sh = yoc__pt_new(c, "budget_shadow", yoc__pt_str(c, title),
						"What the budget would have paid each month next to "
						"what payment by results and block contracts paid for "
						"the same people's activity inside the budget; sums "
						"to 3 significant figures.", 4, sc, sk);
		int k = 0;
		while (sh && sqlite3_step(st) == SQLITE_ROW && k < 12) {
			struct pcell *r = yoc__pt_row(c, sh);
			if (!r)
				break;
			int64_t bud = sqlite3_column_int64(st, 1), paid = sqlite3_column_int64(st, 2);
			r[0].s = yoc__pt_str(c, (const char *)sqlite3_column_text(st, 0));
			int64_t pb = yoc_sdc_money(s, bud), pp = yoc_sdc_money(s, paid);
			yoc__set_pence(&r[1], pb, 1);
			yoc__set_pence(&r[2], pp, 1);
			yoc__set_pence(&r[3], pp - pb, 1);
			k++;
		}
		sqlite3_finalize(st);
		if (k) {
			yoc__add_table(c, sh);
			yoc_buf_puts(b, "<h3>Shadow year</h3><p>Before money moves, the budget runs "
					"in shadow: month by month, what the capitated budget would "
					"have paid next to what the current contracts paid for the same "
					"people's activity inside the budget.</p>");
			yoc__html_table(c, b, sh);
		}
	}
	yoc_buf_puts(b, "</section>\n");
	return c->oom ? yoc_error_set(c->e, YOC_ENOMEM, NULL, 0, 0, "out of memory") : 0;
}

static int risk(struct ctx *c, sqlite3 *db, struct yoc_buf *b)
{
	sqlite3_stmt *st = NULL;
	if (!yoc__report_has_table(db, "budget_risk") ||
	    sqlite3_prepare_v2(db, "SELECT size, p_over5, p_over10, cv FROM budget_risk WHERE rowid IN"
				   " (SELECT max(rowid) FROM budget_risk GROUP BY size) ORDER BY size",
			       -1, &st, NULL) != SQLITE_OK)
		return 0;
	static const char *const cols[] = {"Cohort size", "Chance of overspending by more than 5%",
		"... by more than 10%", "Coefficient of variation"};
	int kinds[4] = {K_NUM, K_PCT, K_PCT, K_REAL};
	struct ptable *t = yoc__pt_new(c, "budget_risk", "Overspend risk by cohort size",
				       "Bootstrap over the base year's people within categories: the "
				       "share of simulated cohorts of each size whose actual cost "
				       "exceeded their budget (percent).", 4, cols, kinds);
	double chart[32];
	const char *cat[32];
	int k = 0;
	while (t && sqlite3_step(st) == SQLITE_ROW && k < 32) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			break;
		r[0].d = (double)sqlite3_column_int64(st, 0);
		yoc__set_pct(&r[1], round(1000 * sqlite3_column_double(st, 1)) / 10, 1);
		yoc__set_pct(&r[2], round(1000 * sqlite3_column_double(st, 2)) / 10, 1);
		r[3].d = round(10000 * sqlite3_column_double(st, 3)) / 10000;
		char lab[32];
		snprintf(lab, sizeof lab, "%lld", (long long)sqlite3_column_int64(st, 0));
		cat[k] = yoc__pt_str(c, lab);
		chart[k] = r[1].d;
		k++;
	}
	sqlite3_finalize(st);
	if (!k)
		return 0;
	yoc__add_table(c, t);
	yoc_buf_puts(b, "<section id=\"risk\"><h2>Volatility: how the risk falls with cohort "
			"size</h2><p>A small cohort's cost can differ a lot from its budget even when "
			"every tariff is right: a few unusually expensive people make a large share "
			"of it. Drawing many cohorts of each size from the base year's people shows "
			"how often the cost would exceed the budget.</p>");
	static const char *const ser[] = {"% of cohorts overspending by more than 5%"};
	yoc__svg_stacked(b, "Chance of an overspend of more than 5% by cohort size", k, cat, 1, ser,
			 chart, 0);
	yoc__html_table(c, b, t);
	yoc_buf_puts(b, "</section>\n");
	return c->oom ? yoc_error_set(c->e, YOC_ENOMEM, NULL, 0, 0, "out of memory") : 0;
}

int yoc__budget_present(sqlite3 *db, const struct report *R)
{
	(void)R;
	return yoc__report_has_table(db, "tariff");
}

int yoc__page_budget(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b)
{
	(void)R;
	if (!yoc__report_has_table(db, "tariff")) {
		yoc_buf_puts(b, "<section id=\"budget\"><h2>Capitated budget</h2><p>No Year of Care "
				"tariffs have been built for this dataset yet (<code>yoc tariff "
				"build</code>, then <code>yoc budget</code>; docs/budget.md).</p>"
				"</section>\n");
		return 0;
	}
	int rc;
	if ((rc = tariffs(c, db, b)))
		return rc;
	if (yoc__report_has_table(db, "budget_plan") && (rc = budgets(c, db, b)))
		return rc;
	return risk(c, db, b);
}

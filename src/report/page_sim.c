/*
** sim.html: the Simulation page (docs/simulation.md). Reads the sim_*
** tables `yoc simulate` stored and publishes, per scenario, the Table 3 view
** (people, mean annual cost per person baseline and scenario, the
** difference with its 90% interval, the budgets), workforce WTE and the
** waterfall of the change, beside the handbook's published Table 3, and
** for an enrolled cohort of a synthetic pilot the simulated change against
** the true one (sim_truth). Counts
** of people go through yoc_sdc_one, money through yoc_sdc_money and
** yoc_sdc_mean (docs/disclosure.md). A dataset without simulations gets a
** page saying how to run one. Reads only.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/report_int.h"
#include "report/svg.h"

/* The handbook's Table 3 (reference/figures.md): baseline, scenario, pounds. */
static const double hb[4][2] = {{10179, 9854}, {7454, 7341}, {4537, 4555}, {3085, 3136}};

static int64_t pence(double pounds)
{
	return (int64_t)llround(pounds * 100.0);
}

static int scenario_tables(struct ctx *c, sqlite3 *db, const char *sn, int idx, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	sqlite3_stmt *q = NULL;
	int rc = 0;
	char id[64], title[400];
	static const char *const cols[] = {"Cohort (risk percentile)", "People (year 1)",
					   "Baseline: mean cost per person", "Scenario: mean cost per person",
					   "Difference", "Difference, 5th percentile", "Difference, 95th percentile",
					   "Budget a year, baseline", "Budget a year, scenario", "Offered"};
	const int kinds[] = {K_TEXT, K_COUNT, K_PENCE, K_PENCE, K_PENCE, K_PENCE, K_PENCE,
			     K_PENCE, K_PENCE, K_TEXT};
	snprintf(id, sizeof id, "sim_table3_%d", idx);
	snprintf(title, sizeof title, "Table 3: %s, mean annual cost per person over the years simulated", sn);
	struct ptable *t = yoc__pt_new(c, yoc__pt_str(c, id), yoc__pt_str(c, title),
				       "Means over the Monte Carlo runs; the difference's 90% interval is of the paired runs (common random numbers).",
				       10, cols, kinds);
	if (!t)
		return YOC_ENOMEM;
	if (sqlite3_prepare_v2(db,
			       "SELECT cohort, max(offered),"
			       " max(CASE WHEN year = 1 AND measure = 'people' THEN mean END),"
			       " max(CASE WHEN year = 0 AND measure = 'people' THEN mean END),"
			       " max(CASE WHEN year = 0 AND measure = 'mean_cost' AND arm = 'baseline' THEN mean END),"
			       " max(CASE WHEN year = 0 AND measure = 'mean_cost' AND arm = 'scenario' THEN mean END),"
			       " max(CASE WHEN year = 0 AND measure = 'mean_cost' AND arm = 'difference' THEN mean END),"
			       " max(CASE WHEN year = 0 AND measure = 'mean_cost' AND arm = 'difference' THEN p5 END),"
			       " max(CASE WHEN year = 0 AND measure = 'mean_cost' AND arm = 'difference' THEN p95 END),"
			       " max(CASE WHEN year = 0 AND measure = 'total_cost' AND arm = 'baseline' THEN mean END),"
			       " max(CASE WHEN year = 0 AND measure = 'total_cost' AND arm = 'scenario' THEN mean END)"
			       " FROM sim_table3 WHERE scenario = ?1 GROUP BY cohort_order ORDER BY cohort_order",
			       -1, &q, NULL) != SQLITE_OK)
		return yoc_error_set(c->e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
	sqlite3_bind_text(q, 1, sn, -1, SQLITE_STATIC);
	double rows[16][4];
	int nr = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r) {
			rc = YOC_ENOMEM;
			goto cleanup;
		}
		const char *coh = (const char *)sqlite3_column_text(q, 0);
		int joiners = coh && !strcmp(coh, "joiners");
		int offered = sqlite3_column_int(q, 1);
		double ppl1 = sqlite3_column_double(q, 2), ppl = sqlite3_column_double(q, 3);
		int64_t n = (int64_t)llround(ppl), npub = yoc_sdc_one(s, n);
		r[0].s = yoc__pt_str(c, coh ? coh : "");
		yoc__set_count(&r[1], yoc_sdc_one(s, (int64_t)llround(ppl1)));
		int ok = yoc_sdc_stat_ok(s, n, 0);
		for (int k = 0; k < 5; k++) {
			double mean = sqlite3_column_double(q, 4 + k);
			int show = ok && !(joiners && k >= 1 && k <= 4);
			yoc__set_pence(&r[2 + k], yoc_sdc_mean(s, pence(mean * ppl), n, npub), show);
		}
		yoc__set_pence(&r[7], yoc_sdc_money(s, pence(sqlite3_column_double(q, 9))), 1);
		yoc__set_pence(&r[8], yoc_sdc_money(s, pence(offered ? sqlite3_column_double(q, 10)
								      : sqlite3_column_double(q, 9))), 1);
		r[9].s = joiners ? "-" : offered ? "yes" : "no";
		if (!joiners && nr < 16) {
			rows[nr][0] = sqlite3_column_double(q, 4);
			rows[nr][1] = sqlite3_column_double(q, 5);
			rows[nr][2] = sqlite3_column_double(q, 7);
			rows[nr][3] = sqlite3_column_double(q, 8);
			nr++;
		}
	}
	yoc__add_table(c, t);
	yoc__html_table(c, b, t);
	/* against the handbook's Table 3: the relative change per cohort */
	yoc_buf_puts(b, "<p>Against the handbook's Table 3 (LTC Year of Care Simulation Model, BHR; "
		     "reference/figures.md), change of the mean annual cost per person, scenario vs baseline: ");
	static const char *const hbl[4] = {"0-0.5%", "0.5-2%", "2-5%", "5-10%"};
	for (int k = 0; k < 4; k++)
		yoc_buf_printf(b, "%s%s published %+.1f%%, here %s", k ? "; " : "", hbl[k],
			       100.0 * (hb[k][1] - hb[k][0]) / hb[k][0],
			       k < nr && rows[k][0] > 0 ? "" : "n/a");
	yoc_buf_puts(b, " (here: ");
	for (int k = 0; k < nr && k < 4; k++)
		yoc_buf_printf(b, "%s%+.1f%%", k ? ", " : "",
			       rows[k][0] > 0 ? 100.0 * (rows[k][1] - rows[k][0]) / rows[k][0] : 0);
	yoc_buf_puts(b, " in the same order). The published model saved money in the two "
		     "highest-risk cohorts and cost more in the lower ones; the synthetic economy's "
		     "costs per person are higher than BHR's, so compare the pattern and the relative "
		     "change, not the pounds.</p>\n");
cleanup:
	sqlite3_finalize(q);
	return rc;
}

static int workforce_and_waterfall(struct ctx *c, sqlite3 *db, const char *sn, int idx,
				   struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	sqlite3_stmt *q = NULL;
	char id[64];
	static const char *const wc[] = {"Staff group", "WTE baseline (last year)", "WTE scenario",
					 "Scenario, 5th percentile", "Scenario, 95th percentile"};
	const int wk[] = {K_TEXT, K_REAL, K_REAL, K_REAL, K_REAL};
	snprintf(id, sizeof id, "sim_workforce_%d", idx);
	struct ptable *t = yoc__pt_new(c, yoc__pt_str(c, id), "Workforce: whole-time equivalents by staff group",
				       "Activity by the workforce table (data/workforce_default.csv): contacts per WTE a year.",
				       5, wc, wk);
	if (!t)
		return YOC_ENOMEM;
	if (sqlite3_prepare_v2(db,
			       "SELECT staff_group, max(CASE WHEN arm = 'baseline' THEN mean END),"
			       " max(CASE WHEN arm = 'scenario' THEN mean END), max(CASE WHEN arm = 'scenario' THEN p5 END),"
			       " max(CASE WHEN arm = 'scenario' THEN p95 END) FROM sim_workforce"
			       " WHERE scenario = ?1 AND year = (SELECT max(year) FROM sim_workforce WHERE scenario = ?1)"
			       " GROUP BY staff_group ORDER BY rowid",
			       -1, &q, NULL) != SQLITE_OK)
		return yoc_error_set(c->e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
	sqlite3_bind_text(q, 1, sn, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r) {
			sqlite3_finalize(q);
			return YOC_ENOMEM;
		}
		r[0].s = yoc__pt_str(c, (const char *)sqlite3_column_text(q, 0));
		for (int k = 0; k < 4; k++)
			r[1 + k].d = round(sqlite3_column_double(q, 1 + k) * 10) / 10;
	}
	sqlite3_finalize(q);
	yoc__add_table(c, t);
	yoc__html_table(c, b, t);

	static const char *const fc[] = {"Factor", "Change over the years simulated",
					 "5th percentile", "95th percentile"};
	const int fk[] = {K_TEXT, K_PENCE, K_PENCE, K_PENCE};
	snprintf(id, sizeof id, "sim_waterfall_%d", idx);
	t = yoc__pt_new(c, yoc__pt_str(c, id), "Waterfall: what drives the change in cost (enrolled people)",
			NULL, 4, fc, fk);
	if (!t)
		return YOC_ENOMEM;
	if (sqlite3_prepare_v2(db,
			       "SELECT factor, mean, p5, p95 FROM sim_waterfall WHERE scenario = ?1"
			       " AND (mean != 0 OR p5 != 0 OR p95 != 0) ORDER BY factor_order",
			       -1, &q, NULL) != SQLITE_OK)
		return yoc_error_set(c->e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
	sqlite3_bind_text(q, 1, sn, -1, SQLITE_STATIC);
	double v[32];
	const char *lab[32];
	int n = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r) {
			sqlite3_finalize(q);
			return YOC_ENOMEM;
		}
		r[0].s = yoc__pt_str(c, (const char *)sqlite3_column_text(q, 0));
		for (int k = 0; k < 3; k++)
			yoc__set_pence(&r[1 + k], yoc_sdc_money(s, pence(sqlite3_column_double(q, 1 + k))), 1);
		if (n < 32) {
			lab[n] = r[0].s;
			v[n++] = (double)yoc_sdc_money(s, pence(sqlite3_column_double(q, 1))) / 100.0;
		}
	}
	sqlite3_finalize(q);
	yoc__add_table(c, t);
	/* the waterfall chart: each factor's bar starts where the last ended */
	double run = 0, lo = 0, hi = 0;
	for (int i = 0; i < n; i++) {
		run += v[i];
		lo = fmin(lo, run);
		hi = fmax(hi, run);
	}
	if (n && hi > lo) {
		int W = 640, rowh = 22, H = rowh * (n + 1) + 10, L = 170;
		double sc = (W - L - 20) / (hi - lo);
		yoc_buf_printf(b, "<svg width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"waterfall\">\n", W, H);
		run = 0;
		for (int i = 0; i <= n; i++) {
			double a = i < n ? run : 0, z = i < n ? run + v[i] : run;
			double x0 = L + (fmin(a, z) - lo) * sc, w = fabs(z - a) * sc;
			yoc_buf_puts(b, "<text x=\"4\" font-size=\"12\" ");
			yoc_buf_printf(b, "y=\"%d\">", i * rowh + 16);
			yoc__html_esc(b, i < n ? lab[i] : "total");
			yoc_buf_printf(b, "</text><rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"16\" fill=\"%s\"/>\n",
				       x0, i * rowh + 4, w < 1 ? 1 : w,
				       i == n ? "#444" : (z < a ? "#2a7a2a" : "#b33"));
			if (i < n)
				run += v[i];
		}
		yoc_buf_puts(b, "</svg>\n");
	}
	yoc__html_table(c, b, t);
	return 0;
}

/*
** An enrolled cohort of a synthetic pilot: the simulated change per enrolled
** person-year against the true one (sim_truth). Means over the cohort, so
** shown only when the cohort passes the statistic's threshold.
*/
static int truth_table(struct ctx *c, sqlite3 *db, const char *sn, int idx, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	sqlite3_stmt *q = NULL;
	char id[64];
	static const char *const cols[] = {"Measure", "True change", "Simulated change",
					   "5th percentile", "95th percentile", "Truth inside"};
	const int kinds[] = {K_TEXT, K_REAL, K_REAL, K_REAL, K_REAL, K_TEXT};
	if (sqlite3_prepare_v2(db,
			       "SELECT measure, truth, mean, p5, p95, inside, people, first_year, years"
			       " FROM sim_truth WHERE scenario = ?1 ORDER BY measure_order",
			       -1, &q, NULL) != SQLITE_OK) {
		sqlite3_finalize(q);
		return 0; /* no comparison stored */
	}
	sqlite3_bind_text(q, 1, sn, -1, SQLITE_STATIC);
	snprintf(id, sizeof id, "sim_truth_%d", idx);
	struct ptable *t = NULL;
	while (sqlite3_step(q) == SQLITE_ROW) {
		int64_t n = sqlite3_column_int64(q, 6);
		if (!t) {
			t = yoc__pt_new(c, yoc__pt_str(c, id),
					"Against the truth: change per enrolled person-year",
					"Truth: the synthetic pilot run minus the same seed without it "
					"(truth/pilot.csv); simulated: scenario minus baseline, mean and 90% "
					"interval over the runs (docs/simulation.md).",
					6, cols, kinds);
			if (!t) {
				sqlite3_finalize(q);
				return YOC_ENOMEM;
			}
			yoc_buf_printf(b, "<h3>Against the truth</h3><p>The enrolled cohort of a "
				       "synthetic pilot, simulated from year %d for %d year(s).</p>\n",
				       sqlite3_column_int(q, 7), sqlite3_column_int(q, 8));
		}
		int ok = yoc_sdc_stat_ok(s, n, 0);
		struct pcell *r = yoc__pt_row(c, t);
		if (!r) {
			sqlite3_finalize(q);
			return YOC_ENOMEM;
		}
		r[0].s = yoc__pt_str(c, (const char *)sqlite3_column_text(q, 0));
		for (int k = 0; k < 4; k++) {
			r[1 + k].d = sqlite3_column_double(q, 1 + k);
			r[1 + k].hidden = !ok;
		}
		r[5].s = !ok ? "*" : sqlite3_column_int(q, 5) ? "yes" : "no";
	}
	sqlite3_finalize(q);
	if (t) {
		yoc__add_table(c, t);
		yoc__html_table(c, b, t);
	}
	return 0;
}

/* The page is written when the dataset holds a stored simulation. */
int yoc__sim_present(sqlite3 *db, const struct report *R)
{
	(void)R;
	sqlite3_stmt *q = NULL;
	int ok = sqlite3_prepare_v2(db, "SELECT 1 FROM sim_run LIMIT 1", -1, &q, NULL) == SQLITE_OK &&
		 sqlite3_step(q) == SQLITE_ROW;
	sqlite3_finalize(q);
	return ok;
}

int yoc__page_sim(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b)
{
	(void)R;
	sqlite3_stmt *q = NULL;
	int rc = 0, n = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT scenario, base_year, years, runs, seed, scenario_sha256, dataset_sha256,"
			       " break_even, enrolled_cohorts FROM sim_run ORDER BY scenario",
			       -1, &q, NULL) != SQLITE_OK) {
		sqlite3_finalize(q);
		yoc_buf_puts(b, "<p>No simulation in this dataset: run <code>yoc simulate --db DIR "
			     "--scenario data/scenarios/top2_integrated.json</code> (docs/simulation.md).</p>\n");
		return 0;
	}
	yoc_buf_puts(b, "<p>Three years of the current service (baseline) against a planned service "
		     "change (scenario), by risk cohort, from a person-level microsimulation whose "
		     "rates are learned from this dataset's own year-to-year transitions "
		     "(docs/simulation.md).</p>\n");
	while (!rc && sqlite3_step(q) == SQLITE_ROW) {
		const char *sn = (const char *)sqlite3_column_text(q, 0);
		char *name = yoc_malloc(strlen(sn ? sn : "") + 1);
		if (!name) {
			rc = YOC_ENOMEM;
			break;
		}
		memcpy(name, sn ? sn : "", strlen(sn ? sn : "") + 1);
		yoc_buf_puts(b, "<section><h2>");
		yoc__html_esc(b, name);
		yoc_buf_printf(b, "</h2><p>Base year %s, %d years, %d Monte Carlo runs, seed %s; "
			       "scenario SHA-256 <code>%.16s</code>, dataset SHA-256 <code>%.16s</code>. "
			       "Cohorts offered the service: %s. ",
			       sqlite3_column_text(q, 1), sqlite3_column_int(q, 2),
			       sqlite3_column_int(q, 3), sqlite3_column_text(q, 4),
			       sqlite3_column_text(q, 5), sqlite3_column_text(q, 6),
			       sqlite3_column_text(q, 8));
		if (sqlite3_column_type(q, 7) != SQLITE_NULL)
			yoc_buf_printf(b, "Break-even cohort: the service saves money down to the %s%% cohort.</p>\n",
				       sqlite3_column_text(q, 7));
		else
			yoc_buf_puts(b, "The service saves money in no cohort.</p>\n");
		rc = scenario_tables(c, db, name, n, b);
		if (!rc)
			rc = workforce_and_waterfall(c, db, name, n, b);
		if (!rc)
			rc = truth_table(c, db, name, n, b);
		yoc_buf_puts(b, "</section>\n");
		yoc_free(name);
		n++;
	}
	sqlite3_finalize(q);
	if (!rc && n == 0)
		yoc_buf_puts(b, "<p>No simulation in this dataset.</p>\n");
	return rc;
}

/*
** evaluation.html: the evaluation of a service from the eval_* tables that
** yoc evaluate writes (docs/evaluation.md): whether the estimate is for
** release, the people at each step, balance before and after matching with
** a love plot, the effect on each outcome as matched difference in
** differences beside the naive before/after change and the unmatched
** comparison (and, on synthetic data, the truth), and the yearly means of
** treated and matched controls. Counts go through yoc_sdc_one; money
** through yoc_sdc_money; the statistics are shown only when the matched
** group's published count allows (yoc_sdc_stat_ok). The matched pairs stay
** in the dataset (eval_pairs), never in the report: they are pseudonyms.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "report/svg.h"

int yoc__page_eval_present(sqlite3 *db, const struct report *R)
{
	sqlite3_stmt *st = NULL;
	int n = 0;
	(void)R;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM eval_outcome", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n > 0;
}

/* A value of eval_run ("" if absent), copied into buf. */
static const char *runval(sqlite3 *db, const char *key, char *buf, size_t cap)
{
	sqlite3_stmt *st = NULL;
	buf[0] = 0;
	if (sqlite3_prepare_v2(db, "SELECT value FROM eval_run WHERE key = ?", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
			snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	return buf;
}

static int64_t runcount(sqlite3 *db, const char *key)
{
	char buf[64];
	return strtoll(runval(db, key, buf, sizeof buf), NULL, 10);
}

static const char *const outcome_label[] = {
	"Emergency admissions", "Emergency bed days", "Bed days", "Non-elective cost",
	"A&E cost", "Community cost", "GP cost", "Social care cost", "Total cost", "Deaths"};
#define NOUT 10

static int is_money(const char *outcome)
{
	return strncmp(outcome, "cost_", 5) == 0;
}

/* An effect per person a year as published: money to 3 significant figures
 * (yoc_sdc_money), activity per 1,000 people to one decimal. */
static double pub_effect(struct ctx *c, const char *outcome, double v)
{
	if (isnan(v))
		return NAN;
	if (is_money(outcome))
		return (double)yoc_sdc_money(&c->o->sdc, (int64_t)llround(v * 100.0)) / 100.0;
	return round(v * 10000.0) / 10.0;
}

static void put_effect(struct pcell *p, double v, int ok)
{
	p->d = v;
	p->hidden = !ok || isnan(v);
}

int yoc__page_eval(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b)
{
	char v[1024], start[32];
	sqlite3_stmt *st = NULL;
	int rc = 0;
	(void)R;
	int release = runcount(db, "release") != 0, has_truth = runcount(db, "truth") != 0;
	runval(db, "start", start, sizeof start);
	int64_t matched = yoc_sdc_one(&c->o->sdc, runcount(db, "matched_treated"));
	int ok = yoc_sdc_stat_ok(&c->o->sdc, runcount(db, "matched_treated"),
				 matched == YOC_SDC_HIDDEN ? YOC_SDC_PRIMARY : YOC_SDC_SHOWN);
	c->oom |= yoc_buf_printf(b, "<h2>Evaluation of a service starting %s</h2>\n", start) != 0;
	if (release) {
		c->oom |= yoc_buf_puts(b, "<p class=\"ok\"><strong>For release.</strong> Treated people and "
				       "their matched controls are alike at the start (every |SMD| at "
				       "most 0.1) and their trends before the start run together.") != 0;
		runval(db, "why", v, sizeof v);
		if (v[0]) {
			c->oom |= yoc_buf_puts(b, " Note: ") != 0;
			c->oom |= yoc__html_esc(b, v) != 0;
		}
		c->oom |= yoc_buf_puts(b, "</p>\n") != 0;
	} else {
		c->oom |= yoc_buf_puts(b, "<p class=\"banner\"><strong>Not for release:</strong> ") != 0;
		c->oom |= yoc__html_esc(b, runval(db, "why", v, sizeof v)) != 0;
		c->oom |= yoc_buf_puts(b, ". The figures below are for checking the method, not for "
				       "decisions.</p>\n") != 0;
	}
	int optimal = strcmp(runval(db, "method", v, sizeof v), "optimal") == 0;
	c->oom |= yoc_buf_printf(b, "<p>Each person in the service was matched to people outside "
				 "it with the most similar propensity score (logistic regression "
				 "on the characteristics below, in the year before the start; "
				 "%s, ratio %s, caliper %s). The effect is the "
				 "difference in differences: the change in the treated from the "
				 "year before to the years after, minus the change in their matched "
				 "controls, with a 95%% confidence interval from %s bootstrap "
				 "replicates over matched sets. The naive before/after change of the "
				 "treated alone mistakes regression to the mean (people chosen after "
				 "a bad year have better years anyway) for an effect; the unmatched "
				 "comparison mistakes who was chosen for what the service did.</p>\n",
				 optimal ? "optimal pair matching: as many people matched as the caliper "
					   "allows, with the least total difference in score"
					 : "greedy nearest neighbour",
				 runval(db, "ratio", v, 64), runval(db, "caliper", v + 64, 64),
				 runval(db, "nboot", v + 128, 64)) != 0;

	/* people at each step */
	static const char *const steps[][2] = {
		{"listed", "People in the treated list"},
		{"not_found", "... not in the dataset"},
		{"no_baseline", "... with no record in the year before the start"},
		{"died_before", "... who died in the year before the start"},
		{"missing_covariate", "... with a characteristic unknown"},
		{"treated", "Treated people evaluated"},
		{"dropped_caliper", "... whose controls left were all beyond the caliper"},
		{"dropped_no_control", "... with no control left"},
		{"matched_treated", "Treated people matched"},
		{"controls", "Candidate controls"},
		{"matched_controls", "Controls matched"},
	};
	static const char *const pcols[] = {"Step", "People"};
	static const int pkinds[] = {K_TEXT, K_COUNT};
	struct ptable *t = yoc__pt_new(c, "evaluation_people", "People at each step of the evaluation",
				       "Counts rounded and small counts suppressed (src/sdc).", 2,
				       pcols, pkinds);
	for (size_t i = 0; t && i < sizeof steps / sizeof steps[0]; i++) {
		struct pcell *p = yoc__pt_row(c, t);
		if (!p)
			break;
		p[0].s = steps[i][1];
		yoc__set_count(&p[1], yoc_sdc_one(&c->o->sdc, runcount(db, steps[i][0])));
	}
	if (t) {
		yoc__add_table(c, t);
		c->oom |= yoc__html_table(c, b, t) != 0;
	}

	/* balance */
	static const char *const bcols[] = {"Characteristic", "Mean, treated", "Mean, controls before",
					    "Mean, matched controls", "SMD before", "SMD after",
					    "Variance ratio before", "Variance ratio after"};
	static const int bkinds[] = {K_TEXT, K_REAL, K_REAL, K_REAL, K_REAL, K_REAL, K_REAL, K_REAL};
	t = yoc__pt_new(c, "evaluation_balance", "Balance of the characteristics before and after matching",
			"SMD: standardised mean difference (by the SD of the treated); above 0.1 after "
			"matching the estimate is not for release.", 8, bcols, bkinds);
	double bef[64], aft[64];
	const char *names[64];
	int nb = 0;
	if (t && sqlite3_prepare_v2(db, "SELECT covariate, mean_treated, mean_control, "
				    "mean_control_matched, smd_before, smd_after, vr_before, vr_after "
				    "FROM eval_balance ORDER BY ord", -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			struct pcell *p = yoc__pt_row(c, t);
			if (!p)
				break;
			p[0].s = yoc__pt_str(c, (const char *)sqlite3_column_text(st, 0));
			for (int k = 1; k < 8; k++) {
				p[k].d = sqlite3_column_type(st, k) == SQLITE_NULL ? NAN
					 : sqlite3_column_double(st, k);
				p[k].hidden = !ok || isnan(p[k].d);
			}
			if (nb < 64) {
				names[nb] = p[0].s;
				bef[nb] = p[4].d;
				aft[nb] = p[5].d;
				nb++;
			}
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (t) {
		yoc__add_table(c, t);
		if (ok)
			c->oom |= yoc__svg_love(b, "Balance: |SMD| before and after matching", nb, names,
						bef, aft) != 0;
		c->oom |= yoc__html_table(c, b, t) != 0;
	}

	/* outcomes */
	static const char *const ocols[] = {
		"Outcome (per person a year)", "Treated before", "Treated after", "Controls before",
		"Controls after", "Matched DiD", "DiD 95% CI low", "DiD 95% CI high",
		"Naive before/after", "Naive CI low", "Naive CI high", "Unmatched difference",
		"Truth (synthetic)"};
	static const int okinds[] = {K_TEXT, K_NUM, K_NUM, K_NUM, K_NUM, K_NUM, K_NUM,
				     K_NUM, K_NUM, K_NUM, K_NUM, K_NUM, K_NUM};
	int ncol = has_truth ? 13 : 12;
	t = yoc__pt_new(c, "evaluation_outcomes", "Effect of the service on each outcome",
			"Activity per 1,000 people a year; money in pounds per person a year (3 "
			"significant figures). DiD: matched difference in differences.", ncol, ocols,
			okinds);
	double tr_t[2][8], tr_c[2][8];
	const char *years[8];
	int ny = 0;
	if (t && sqlite3_prepare_v2(db, "SELECT outcome, treated_pre, treated_post, control_pre, "
				    "control_post, did, did_lo, did_hi, naive, naive_lo, naive_hi, "
				    "unmatched, truth FROM eval_outcome ORDER BY ord", -1, &st,
				    NULL) == SQLITE_OK) {
		int k = 0;
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *oc = (const char *)sqlite3_column_text(st, 0);
			struct pcell *p = yoc__pt_row(c, t);
			if (!p || !oc)
				break;
			p[0].s = k < NOUT ? outcome_label[k] : yoc__pt_str(c, oc);
			for (int j = 1; j < ncol; j++) {
				double x = sqlite3_column_type(st, j) == SQLITE_NULL ? NAN
					   : sqlite3_column_double(st, j);
				put_effect(&p[j], pub_effect(c, oc, x), ok);
			}
			k++;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (t) {
		yoc__add_table(c, t);
		c->oom |= yoc__html_table(c, b, t) != 0;
	}

	/* trends: emergency admissions and total cost, treated against matched controls */
	static const char *const tout[2] = {"emergency_admissions", "cost_total"};
	static const char *const ttitle[2] = {
		"Emergency admissions per person a year: treated and matched controls",
		"Total cost per person a year: treated and matched controls"};
	for (int o = 0; o < 2 && ok; o++) {
		ny = 0;
		if (sqlite3_prepare_v2(db, "SELECT fyear, treated, control FROM eval_trend WHERE "
				       "outcome = ? ORDER BY rowid", -1, &st, NULL) != SQLITE_OK)
			break;
		sqlite3_bind_text(st, 1, tout[o], -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW && ny < 8) {
			years[ny] = yoc__pt_str(c, (const char *)sqlite3_column_text(st, 0));
			tr_t[o][ny] = pub_effect(c, tout[o], sqlite3_column_double(st, 1));
			tr_c[o][ny] = pub_effect(c, tout[o], sqlite3_column_double(st, 2));
			if (o == 0) {
				tr_t[o][ny] /= 1000.0;
				tr_c[o][ny] /= 1000.0;
			}
			ny++;
		}
		sqlite3_finalize(st);
		st = NULL;
		double xs[8];
		for (int i = 0; i < ny; i++)
			xs[i] = i;
		static const char *const sers[2] = {"Treated", "Matched controls"};
		const int npts[2] = {ny, ny};
		const double *px[2] = {xs, xs}, *py[2] = {tr_t[o], tr_c[o]};
		c->oom |= yoc__svg_lines(b, ttitle[o], 2, sers, npts, px, py, ny > 1 ? ny - 1 : 1, 0,
					 ny, years, 0, "financial year",
					 o == 1 ? "pounds per person" : "per person", o == 1) != 0;
	}
	c->oom |= yoc_buf_puts(b, "<p>The years before the start are the parallel-trends check: "
			       "if treated and matched controls already moved apart before the "
			       "service began, the difference in differences would credit the "
			       "service with that drift, and the estimate is marked not for "
			       "release. The matched pairs, for audit, are in the dataset's "
			       "eval_pairs table (pseudonyms: never published).</p>\n") != 0;
	return rc;
}

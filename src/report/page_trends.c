/*
** trends.html: every analysed year side by side (person_year grouped by
** year in the report's partial, report_acc.c: people, LTC prevalence, cost
** by setting, cost per head), and the monthly activity by setting over the
** whole analysed period (analyse's activity_month) as XmR charts drawn as
** NHS "Making Data Count" draws them (src/stats/stats_spc.c). The SPC is
** computed from the published monthly counts, so the limits follow from
** figures on the page.
*/
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "report/report_int.h"
#include "report/svg.h"
#include "report/svg_line.h"
#include "stats/stats.h"

#define MAXM (MAXY * 12)

static const char *const rule_text[4] = {"outside the limits", "shift (7 on one side)",
					 "trend (6 rising or falling)", "2 of 3 beyond 2 sigma"};

static int years(struct ctx *c, const struct acc *A, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	int rc = 0;
	static const char *const cols[] = {"Year", "People", "% with a long-term condition",
					   "% with two or more", "Total cost", "Cost per head"};
	int kinds[6] = {K_TEXT, K_COUNT, K_PCT, K_PCT, K_PENCE, K_PENCE};
	struct ptable *t = yoc__pt_new(c, "trends_years", "Every analysed year", "People "
				       "registered in the year; percentages of published counts; "
				       "cost per head = published total / published people.",
				       6, cols, kinds);
	const char *scols[1 + 2 * NSET];
	int skinds[1 + 2 * NSET];
	scols[0] = "Year";
	skinds[0] = K_TEXT;
	for (int k = 0; k < NSET; k++) {
		char h[64];
		snprintf(h, sizeof h, "Total %s", yoc__set_name[k]);
		scols[1 + k] = yoc__pt_str(c, h);
		snprintf(h, sizeof h, "Per head %s", yoc__set_name[k]);
		scols[1 + NSET + k] = yoc__pt_str(c, h);
		skinds[1 + k] = skinds[1 + NSET + k] = K_PENCE;
	}
	struct ptable *ts = yoc__pt_new(c, "trends_cost_by_setting", "Cost by setting, every "
					"analysed year", "Totals to 3 significant figures; per head "
					"of the year's registered population.", 1 + 2 * NSET, scols,
					skinds);
	const char *ylab[MAXY];
	double chart[MAXY * NSET];
	int ny = 0;
	for (int i = 0; t && ts && i < A->nyear && ny < MAXY; i++) {
		const struct ygrp *y = &A->year[i];
		struct pcell *r = yoc__pt_row(c, t), *r2 = yoc__pt_row(c, ts);
		if (!r || !r2)
			break;
		int64_t n = y->n;
		int64_t pub = yoc_sdc_one(s, n);
		int hid = pub == YOC_SDC_HIDDEN;
		int ok = yoc_sdc_stat_ok(s, n, hid ? YOC_SDC_PRIMARY : 0);
		r[0].s = r2[0].s = ylab[ny] = yoc__pt_str(c, y->fyear);
		yoc__set_count(&r[1], pub);
		yoc__set_pct(&r[2], yoc_sdc_rate(s, y->ltc1, n, hid, 100, 1), ok);
		yoc__set_pct(&r[3], yoc_sdc_rate(s, y->ltc2, n, hid, 100, 1), ok);
		int64_t tot = y->cost;
		yoc__set_pence(&r[4], yoc_sdc_money(s, tot), ok);
		yoc__set_pence(&r[5], yoc_sdc_mean(s, tot, n, pub), ok);
		for (int k = 0; k < NSET; k++) {
			int64_t v = y->set[k];
			yoc__set_pence(&r2[1 + k], yoc_sdc_money(s, v), ok);
			int64_t ph = yoc_sdc_mean(s, v, n, pub);
			yoc__set_pence(&r2[1 + NSET + k], ph, ok);
			chart[ny * NSET + k] = ok ? (double)ph / 100 : NAN;
		}
		ny++;
	}
	if (!t || !ts)
		return YOC_ENOMEM;
	yoc__add_table(c, t);
	yoc__add_table(c, ts);
	yoc_buf_puts(b, "<section id=\"years\"><h2>Year by year</h2>");
	yoc__svg_stacked(b, "Cost per head by setting, each analysed year", ny, ylab, NSET,
			 yoc__set_name, chart, 1);
	yoc__html_table(c, b, t);
	yoc__html_table(c, b, ts);
	yoc_buf_puts(b, "</section>\n");
	return rc;
}

static int months(struct ctx *c, sqlite3 *db, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	sqlite3_stmt *st = NULL;
	yoc_buf_puts(b, "<section id=\"months\"><h2>Monthly activity</h2><p>Chargeable activity "
			"each month over the whole analysed period, by setting: attendances, "
			"contacts, appointments and other priced events, and hospital stays as "
			"one spell in the month of admission. Each chart is an XmR "
			"(individuals) chart as NHS England's <i>Making Data Count</i> draws it: "
			"the solid line is the mean, the dashed lines the process limits (mean "
			"&plusmn; 2.66 &times; the mean moving range). Grey points are common-"
			"cause variation, what the process does month to month. Purple points "
			"are special-cause variation: a point outside the limits, 7 points in a "
			"row on one side of the mean, 6 points in a row rising or falling, or 2 "
			"of 3 points beyond two sigma on one side. For activity neither more nor "
			"less is better, so special causes are coloured <i>neither</i> "
			"(improvement blue and concern orange are for measures with a better "
			"direction). Look for what changed when a special cause starts; a "
			"series with only grey points is stable.</p>");
	if (sqlite3_prepare_v2(db, "SELECT month, setting, events, cost FROM activity_month "
			       "ORDER BY month, setting", -1, &st, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		yoc_buf_puts(b, "<p>Not recorded: the database has no activity_month table (run "
				"yoc analyse).</p></section>\n");
		return 0;
	}
	struct series {
		char mname[MAXM][8];
		int64_t ev[MAXM][NSET], cost[MAXM][NSET];
		double x[MAXM];
		struct yoc_spc_point pt[MAXM];
	} *S = yoc_calloc(1, sizeof *S);
	if (!S) {
		sqlite3_finalize(st);
		return YOC_ENOMEM;
	}
	char (*mname)[8] = S->mname;
	int64_t (*ev)[NSET] = S->ev, (*cost)[NSET] = S->cost;
	double *x = S->x;
	struct yoc_spc_point *pt = S->pt;
	int nm = 0, rc = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(st, 0);
		const char *set = (const char *)sqlite3_column_text(st, 1);
		if (!m || !set)
			continue;
		if (nm == 0 || strcmp(mname[nm - 1], m) != 0) {
			if (nm == MAXM)
				break;
			snprintf(mname[nm++], sizeof mname[0], "%s", m);
		}
		for (int k = 0; k < NSET; k++)
			if (strcmp(set, yoc__set_col[k] + 5) == 0) {
				ev[nm - 1][k] += sqlite3_column_int64(st, 2);
				cost[nm - 1][k] += sqlite3_column_int64(st, 3);
			}
	}
	sqlite3_finalize(st);
	static const char *const cols[] = {"Month", "Setting", "Events", "Cost", "Mean",
					   "Lower limit", "Upper limit", "Variation", "Rules"};
	int kinds[9] = {K_TEXT, K_TEXT, K_COUNT, K_PENCE, K_REAL, K_REAL, K_REAL, K_TEXT, K_TEXT};
	struct ptable *t = yoc__pt_new(c, "activity_month", "Monthly activity by setting with "
				       "XmR limits", "Events and cost as published (counts rounded, "
				       "sums to 3 significant figures); mean and limits computed "
				       "from the published events; no limits for a series with a "
				       "hidden month.", 9, cols, kinds);
	const char *labels[MAXM];
	for (int i = 0; i < nm; i++)
		labels[i] = yoc__pt_str(c, mname[i]);
	for (int k = 0; t && k < NSET && nm > 0 && !rc; k++) {
		int hidden = 0, any = 0;
		for (int i = 0; i < nm; i++) {
			int64_t p = yoc_sdc_one(s, ev[i][k]);
			hidden |= p == YOC_SDC_HIDDEN;
			any |= ev[i][k] != 0;
			x[i] = (double)p;
		}
		if (!any)
			continue;
		struct yoc_spc spc;
		memset(&spc, 0, sizeof spc);
		memset(pt, 0, sizeof *pt * MAXM);
		if (!hidden && (rc = yoc_spc_xmr(x, (size_t)nm, 0, &spc, pt, c->e)))
			break;
		for (int i = 0; i < nm && !rc; i++) {
			struct pcell *r = yoc__pt_row(c, t);
			if (!r) {
				rc = YOC_ENOMEM;
				break;
			}
			r[0].s = labels[i];
			r[1].s = yoc__set_name[k];
			int64_t p = yoc_sdc_one(s, ev[i][k]);
			yoc__set_count(&r[2], p);
			yoc__set_pence(&r[3], yoc_sdc_money(s, cost[i][k]), p != YOC_SDC_HIDDEN);
			int lim = !hidden && spc.valid;
			r[4].d = spc.mean;
			r[4].hidden = hidden;
			r[5].d = spc.lcl;
			r[5].hidden = !lim;
			r[6].d = spc.ucl;
			r[6].hidden = !lim;
			r[7].s = hidden ? "" : yoc_spc_variation_name(pt[i].variation);
			char rules[128] = "";
			for (int j = 0; j < 4; j++)
				if (!hidden && (pt[i].rules & (1u << j)))
					snprintf(rules + strlen(rules), sizeof rules - strlen(rules),
						 "%s%s", rules[0] ? "; " : "", rule_text[j]);
			r[8].s = yoc__pt_str(c, rules);
		}
		char title[128];
		snprintf(title, sizeof title, "%s: events per month (XmR chart)", yoc__set_name[k]);
		if (hidden)
			yoc_buf_printf(b, "<p class=\"note\">%s: a month's count is hidden (small), "
				       "so no chart is drawn.</p>", yoc__set_name[k]);
		else if (yoc__svg_xmr(b, title, nm, labels, x, &spc, pt))
			rc = YOC_ENOMEM;
	}
	if (!t)
		rc = YOC_ENOMEM;
	if (!rc) {
		yoc__add_table(c, t);
		yoc__html_table(c, b, t);
		yoc_buf_puts(b, "</section>\n");
	}
	yoc_free(S);
	return rc;
}

int yoc__page_trends(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b)
{
	yoc_buf_puts(b, "<p>How the population and its cost changed: first every analysed year "
			"side by side, then activity month by month with statistical process "
			"control limits that separate ordinary month-to-month variation from "
			"changes worth investigating.</p>");
	int rc = years(c, &R->a, b);
	return rc ? rc : months(c, db, b);
}

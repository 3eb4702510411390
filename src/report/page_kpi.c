/*
** kpi.html: the KPI dashboard of yoc kpi (src/outcome, docs/outcomes.md):
** a summary of every KPI's latest month with its variation and assurance
** icons, then each KPI's definition, source and Making Data Count chart,
** the months as a table (with rolling 12 months), discharges by day of the
** week and the change in patient activation. Every count passes disclosure
** control on its own (yoc_sdc_one); values are computed from the published
** numerator and denominator, and each chart is drawn again from the
** published figures (none when a month is hidden), with the chart
** type, run lengths and step changes yoc kpi recorded, so the limits follow
** from figures on the page. A KPI the dataset cannot give is listed as not
** available, with the reason.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/report_int.h"
#include "report/svg.h"
#include "report/svg_line.h"
#include "sdc/sdc.h"
#include "stats/stats.h"

#define KMAX 32
#define MMAX 240

int yoc__kpi_present(sqlite3 *db, const struct report *R)
{
	(void)R;
	return yoc__report_has_table(db, "kpi_def") && yoc__report_has_table(db, "kpi_month") &&
	       yoc__report_has_table(db, "kpi_spc");
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	return s ? s : "";
}

struct kdef {
	const char *id, *title, *definition, *num, *den, *source, *unit, *reason, *chart;
	int better, available, type, shift_len, trend_len, screen;
	int rolling;            /* 0 sum, 1 population, 2 mean (kpi_def.rolling) */
	double scale, target;
	size_t steps[8], nsteps;
	const char *steps_text;
};

static int chart_type(const char *s)
{
	return strcmp(s, "p") == 0 ? YOC_SPC_PCHART : strcmp(s, "u") == 0 ? YOC_SPC_UCHART
	       : YOC_SPC_XMR;
}

/* The published value of num / den x scale: NaN when either is hidden or den 0. */
static double pub_value(int64_t num, int64_t den, double scale)
{
	if (num == YOC_SDC_HIDDEN || den == YOC_SDC_HIDDEN || den <= 0)
		return NAN;
	return (double)num / (double)den * scale;
}

static int read_defs(struct ctx *c, sqlite3 *db, struct kdef *k, int *nk)
{
	sqlite3_stmt *st = NULL;
	*nk = 0;
	if (sqlite3_prepare_v2(db, "SELECT d.kpi, d.title, d.definition, d.numerator, d.denominator,"
			       " d.source, d.unit, d.reason, d.chart, d.better, d.available, d.scale,"
			       " d.target, s.shift_len, s.trend_len, s.steps, s.screened IS NOT NULL"
			       " AND s.screen_factor IS NOT NULL, d.rolling FROM kpi_def d LEFT JOIN kpi_spc s"
			       " USING (kpi) ORDER BY d.ord", -1, &st, NULL) != SQLITE_OK)
		return yoc_error_set(c->e, YOC_EDATA, "kpi_def", 0, 0, "cannot read kpi_def: %s",
				     sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW && *nk < KMAX) {
		struct kdef *d = &k[(*nk)++];
		memset(d, 0, sizeof *d);
		d->id = yoc__pt_str(c, col_text(st, 0));
		d->title = yoc__pt_str(c, col_text(st, 1));
		d->definition = yoc__pt_str(c, col_text(st, 2));
		d->num = yoc__pt_str(c, col_text(st, 3));
		d->den = yoc__pt_str(c, col_text(st, 4));
		d->source = yoc__pt_str(c, col_text(st, 5));
		d->unit = yoc__pt_str(c, col_text(st, 6));
		d->reason = yoc__pt_str(c, col_text(st, 7));
		d->chart = yoc__pt_str(c, col_text(st, 8));
		d->type = chart_type(d->chart);
		d->better = sqlite3_column_int(st, 9);
		d->available = sqlite3_column_int(st, 10);
		d->scale = sqlite3_column_double(st, 11);
		d->target = sqlite3_column_type(st, 12) == SQLITE_NULL ? NAN
			    : sqlite3_column_double(st, 12);
		d->shift_len = sqlite3_column_int(st, 13);
		d->trend_len = sqlite3_column_int(st, 14);
		d->steps_text = yoc__pt_str(c, col_text(st, 15));
		d->screen = sqlite3_column_int(st, 16);
		const char *ro = col_text(st, 17);
		d->rolling = strcmp(ro, "population") == 0 ? 1 : strcmp(ro, "mean") == 0 ? 2 : 0;
	}
	sqlite3_finalize(st);
	return c->oom ? YOC_ENOMEM : 0;
}

struct months {
	int n;
	const char *label[MMAX];
	int64_t num[MMAX], den[MMAX], rnum[MMAX], rden[MMAX];
	int has_r12[MMAX];
	struct yoc_spc_mpoint pt[MMAX];
};

static int read_months(struct ctx *c, sqlite3 *db, const struct kdef *d, struct months *m)
{
	sqlite3_stmt *st = NULL;
	m->n = 0;
	if (sqlite3_prepare_v2(db, "SELECT month, numerator, denominator, r12_numerator,"
			       " r12_denominator FROM kpi_month WHERE kpi = ? ORDER BY month", -1,
			       &st, NULL) != SQLITE_OK)
		return yoc_error_set(c->e, YOC_EDATA, "kpi_month", 0, 0,
				     "cannot read kpi_month: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, d->id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW && m->n < MMAX) {
		int i = m->n++;
		m->label[i] = yoc__pt_str(c, col_text(st, 0));
		m->num[i] = sqlite3_column_int64(st, 1);
		m->den[i] = sqlite3_column_int64(st, 2);
		m->has_r12[i] = sqlite3_column_type(st, 3) != SQLITE_NULL;
		m->rnum[i] = sqlite3_column_int64(st, 3);
		m->rden[i] = sqlite3_column_int64(st, 4);
	}
	sqlite3_finalize(st);
	return c->oom ? YOC_ENOMEM : 0;
}

/* The steps recorded ("2022-10,2023-01") as indices into the months. */
static void steps_of(struct kdef *d, const struct months *m)
{
	d->nsteps = 0;
	const char *s = d->steps_text;
	while (s && *s && d->nsteps < 8) {
		for (int i = 1; i < m->n; i++)
			if (strncmp(m->label[i], s, 7) == 0 &&
			    (d->nsteps == 0 || d->steps[d->nsteps - 1] < (size_t)i))
				d->steps[d->nsteps++] = (size_t)i;
		s = strchr(s, ',');
		s = s ? s + 1 : NULL;
	}
}

/* The chart of the published figures; *drawn 0 when a month is hidden. */
static int chart(struct ctx *c, struct kdef *d, struct months *m, struct yoc_spc_chart *ch,
		 int *drawn)
{
	const struct yoc_sdc *s = &c->o->sdc;
	double num[MMAX], den[MMAX];
	int shown = 0;
	for (int i = 0; i < m->n; i++) {
		int64_t pn = yoc_sdc_one(s, m->num[i]), pd = yoc_sdc_one(s, m->den[i]);
		int ok = pn != YOC_SDC_HIDDEN && pd != YOC_SDC_HIDDEN && pd > 0 &&
			 (d->type != YOC_SPC_PCHART || pn <= pd);
		num[i] = ok ? (double)pn : 0;
		den[i] = ok ? (double)pd : 0;
		if (d->type == YOC_SPC_XMR)
			num[i] = ok ? (double)pn / (double)pd * d->scale : NAN;
		shown += ok;
	}
	*drawn = 0;
	memset(ch, 0, sizeof *ch);
	if (m->n == 0 || shown < m->n)
		return 0; /* a hidden month: leaving it out would bias the limits */
	struct yoc_spc_opts o;
	yoc_spc_opts_init(&o, d->type, d->better);
	if (d->shift_len >= 2)
		o.shift_len = d->shift_len;
	if (d->trend_len >= 2)
		o.trend_len = d->trend_len;
	o.screen = d->screen;
	o.target = d->type == YOC_SPC_XMR ? d->target : d->target / d->scale;
	steps_of(d, m);
	o.steps = d->steps;
	o.nsteps = d->nsteps;
	int rc = yoc_spc_chart(num, d->type == YOC_SPC_XMR ? NULL : den, (size_t)m->n, &o, ch,
			       m->pt, c->e);
	*drawn = rc == 0;
	return rc;
}

static int weekday_table(struct ctx *c, sqlite3 *db, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	sqlite3_stmt *st = NULL;
	if (!yoc__report_has_table(db, "kpi_dow") ||
	    sqlite3_prepare_v2(db, "SELECT name, discharges FROM kpi_dow ORDER BY weekday", -1, &st,
			       NULL) != SQLITE_OK)
		return 0;
	static const char *const cols[] = {"Day of the week", "Discharges", "% of discharges"};
	int kinds[3] = {K_TEXT, K_COUNT, K_PCT};
	struct ptable *t = yoc__pt_new(c, "kpi_weekday", "Discharges by day of the week",
				       "Overnight spells discharged in the months reported; each "
				       "count rounded on its own; shares of the published total.",
				       3, cols, kinds);
	int64_t pub[7], tot = 0;
	const char *nm[7];
	int n = 0;
	while (t && sqlite3_step(st) == SQLITE_ROW && n < 7) {
		nm[n] = yoc__pt_str(c, col_text(st, 0));
		pub[n] = yoc_sdc_one(s, sqlite3_column_int64(st, 1));
		tot += pub[n] == YOC_SDC_HIDDEN ? 0 : pub[n];
		n++;
	}
	sqlite3_finalize(st);
	if (!t)
		return YOC_ENOMEM;
	double share[7];
	for (int i = 0; i < n; i++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			return YOC_ENOMEM;
		r[0].s = nm[i];
		yoc__set_count(&r[1], pub[i]);
		share[i] = pub[i] == YOC_SDC_HIDDEN || tot == 0 ? NAN : 100.0 * (double)pub[i] / (double)tot;
		yoc__set_pct(&r[2], share[i], 1);
	}
	if (n == 0)
		return 0;
	yoc__add_table(c, t);
	yoc_buf_puts(b, "<section id=\"weekday\"><h2>Discharges by day of the week</h2><p>An "
			"even spread over seven days puts 14.3% on each day; fewer at weekends "
			"means patients ready on a Friday wait until Monday.</p>");
	const char *series[1] = {"% of discharges"};
	yoc__svg_stacked(b, "Share of discharges by day of the week", n, nm, 1, series, share, 0);
	yoc__html_table(c, b, t);
	yoc_buf_puts(b, "</section>\n");
	return 0;
}

static int pam_table(struct ctx *c, sqlite3 *db, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	sqlite3_stmt *st = NULL;
	if (!yoc__report_has_table(db, "kpi_pam") ||
	    sqlite3_prepare_v2(db, "SELECT first_level, latest_level, people FROM kpi_pam ORDER BY "
			       "first_level, latest_level", -1, &st, NULL) != SQLITE_OK)
		return 0;
	int64_t x[4][4] = {{0}};
	int any = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		int a = sqlite3_column_int(st, 0), l = sqlite3_column_int(st, 1);
		if (a >= 1 && a <= 4 && l >= 1 && l <= 4) {
			x[a - 1][l - 1] = sqlite3_column_int64(st, 2);
			any = 1;
		}
	}
	sqlite3_finalize(st);
	if (!any)
		return 0;
	static const char *const cols[] = {"First level", "Latest level 1", "Latest level 2",
					   "Latest level 3", "Latest level 4"};
	int kinds[5] = {K_TEXT, K_COUNT, K_COUNT, K_COUNT, K_COUNT};
	struct ptable *t = yoc__pt_new(c, "kpi_pam_change", "Patient activation: first and latest "
				       "level", "People with two or more PAM results in the months "
				       "reported, by the level of the first and of the latest; each "
				       "count rounded on its own (no totals, so none can be "
				       "derived).", 5, cols, kinds);
	static const char *const lv[4] = {"Level 1", "Level 2", "Level 3", "Level 4"};
	for (int a = 0; t && a < 4; a++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			return YOC_ENOMEM;
		r[0].s = lv[a];
		for (int l = 0; l < 4; l++)
			yoc__set_count(&r[1 + l], yoc_sdc_one(s, x[a][l]));
	}
	if (!t)
		return YOC_ENOMEM;
	yoc__add_table(c, t);
	yoc_buf_puts(b, "<section id=\"pam\"><h2>Patient activation: change</h2><p>Above the "
			"diagonal people moved up a level between their first and latest "
			"measurement (more activated: more able to manage their own health).</p>");
	yoc__html_table(c, b, t);
	yoc_buf_puts(b, "</section>\n");
	return 0;
}

int yoc__page_kpi(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b)
{
	(void)R;
	const struct yoc_sdc *s = &c->o->sdc;
	struct kdef *k = yoc_calloc(KMAX, sizeof *k);
	struct months *m = yoc_calloc(1, sizeof *m);
	int nk = 0, rc = 0;
	if (!k || !m) {
		rc = YOC_ENOMEM;
		goto cleanup;
	}
	if ((rc = read_defs(c, db, k, &nk)))
		goto cleanup;
	yoc_buf_puts(b, "<p>The outcome KPIs month by month (yoc kpi; definitions in "
			"docs/outcomes.md), each with its numerator, denominator and source. Each "
			"chart is a statistical process control chart as NHS England's <i>Making "
			"Data Count</i> draws it: an XmR chart for averages (limits at the mean "
			"&plusmn; 2.66 &times; the mean moving range, after screening out moving "
			"ranges above 3.267 times their mean), a p-chart for proportions and a "
			"u-chart for rates (limits at 3 sigma for each month's denominator). Grey "
			"points are common-cause variation; blue improvement and orange concern "
			"are special causes (a point beyond the limits, a run on one side of the "
			"centre line, a trend of rising or falling points, two of three points "
			"beyond two sigma), purple where neither direction is better. The "
			"assurance says whether the process limits lie on the right side of the "
			"target. Counts are rounded and small counts hidden; each chart is drawn "
			"from the published figures, and not drawn when a month is hidden.</p>");
	static const char *const scols[] = {"KPI", "Latest month", "Numerator", "Denominator",
					    "Value", "Unit", "12 months", "Variation", "Assurance",
					    "Target"};
	int skinds[10] = {K_TEXT, K_TEXT, K_COUNT, K_COUNT, K_RATIO, K_TEXT, K_RATIO, K_TEXT,
			  K_TEXT, K_TEXT};
	struct ptable *ts = yoc__pt_new(c, "kpi_summary", "KPIs: the latest month", "Counts "
					"rounded on their own, small ones hidden; values from the "
					"published counts; the variation of the latest month and the "
					"assurance against the target from the chart of published "
					"figures.", 10, scols, skinds);
	static const char *const mcols[] = {"KPI", "Month", "Numerator", "Denominator", "Value",
					    "12-month numerator", "12-month denominator",
					    "12-month value", "Centre", "Lower limit", "Upper limit",
					    "Variation", "Rules"};
	int mkinds[13] = {K_TEXT, K_TEXT, K_COUNT, K_COUNT, K_RATIO, K_COUNT, K_COUNT, K_RATIO,
			  K_RATIO, K_RATIO, K_RATIO, K_TEXT, K_TEXT};
	struct ptable *tm = yoc__pt_new(c, "kpi_months", "KPIs month by month", "Counts rounded "
					"on their own, small ones hidden; values, rolling 12 months "
					"and the chart's lines from the published counts.", 13, mcols,
					mkinds);
	struct yoc_buf body;
	yoc_buf_init(&body, 0);
	for (int i = 0; i < nk && ts && tm && !rc; i++) {
		struct kdef *d = &k[i];
		yoc_buf_printf(&body, "<section id=\"kpi-%s\"><h2>", d->id);
		yoc__html_esc(&body, d->title);
		yoc_buf_puts(&body, "</h2><p>");
		yoc__html_esc(&body, d->definition);
		yoc_buf_puts(&body, ". <b>Numerator</b>: ");
		yoc__html_esc(&body, d->num);
		yoc_buf_puts(&body, "; <b>denominator</b>: ");
		yoc__html_esc(&body, d->den);
		yoc_buf_puts(&body, "; <b>source</b>: ");
		yoc__html_esc(&body, d->source);
		yoc_buf_puts(&body, ".</p>");
		struct pcell *r = yoc__pt_row(c, ts);
		if (!r) {
			rc = YOC_ENOMEM;
			break;
		}
		r[0].s = d->title;
		r[5].s = d->unit;
		char tg[32] = "";
		if (isfinite(d->target))
			snprintf(tg, sizeof tg, "%.1f", d->target);
		r[9].s = yoc__pt_str(c, tg);
		if (!d->available) {
			r[1].s = "";
			r[2].hidden = r[3].hidden = r[4].hidden = r[6].hidden = 1;
			r[7].s = yoc__pt_str(c, d->reason);
			r[8].s = "";
			yoc_buf_puts(&body, "<p class=\"note\">");
			yoc__html_esc(&body, d->reason);
			yoc_buf_puts(&body, ".</p></section>\n");
			continue;
		}
		if ((rc = read_months(c, db, d, m)))
			break;
		struct yoc_spc_chart ch;
		int drawn = 0;
		if ((rc = chart(c, d, m, &ch, &drawn)))
			break;
		double f = d->type == YOC_SPC_XMR ? 1 : d->scale;
		for (int j = 0; j < m->n; j++) {
			struct pcell *q = yoc__pt_row(c, tm);
			if (!q) {
				rc = YOC_ENOMEM;
				break;
			}
			int64_t pn = yoc_sdc_one(s, m->num[j]), pd = yoc_sdc_one(s, m->den[j]);
			q[0].s = d->id;
			q[1].s = m->label[j];
			yoc__set_count(&q[2], pn);
			yoc__set_count(&q[3], pd);
			yoc__set_pct(&q[4], pub_value(pn, pd, d->scale), 1);
			if (m->has_r12[j]) {
				int64_t rn = yoc_sdc_one(s, m->rnum[j]), rd = yoc_sdc_one(s, m->rden[j]);
				yoc__set_count(&q[5], rn);
				yoc__set_count(&q[6], rd);
				yoc__set_pct(&q[7], pub_value(rn, rd, d->scale), 1);
			} else {
				q[5].hidden = q[6].hidden = q[7].hidden = 1;
			}
			const struct yoc_spc_mpoint *p = &m->pt[j];
			int lim = drawn && p->present;
			yoc__set_pct(&q[8], lim ? p->centre * f : NAN, 1);
			yoc__set_pct(&q[9], lim ? p->lcl * f : NAN, 1);
			yoc__set_pct(&q[10], lim ? p->ucl * f : NAN, 1);
			q[11].s = lim ? yoc_spc_variation_name(p->variation) : "";
			char rules[160];
			q[12].s = yoc__pt_str(c, lim ? yoc_spc_rules_text(p->rules, ch.shift_len,
									  ch.trend_len, rules,
									  sizeof rules) : "");
			if (j == m->n - 1) {
				r[1].s = m->label[j];
				yoc__set_count(&r[2], pn);
				yoc__set_count(&r[3], pd);
				yoc__set_pct(&r[4], pub_value(pn, pd, d->scale), 1);
				if (m->has_r12[j])
					yoc__set_pct(&r[6], pub_value(yoc_sdc_one(s, m->rnum[j]),
								      yoc_sdc_one(s, m->rden[j]),
								      d->scale), 1);
				else
					r[6].hidden = 1;
				r[7].s = drawn ? yoc_spc_icon_name(ch.icon) : "no chart";
				r[8].s = drawn ? yoc_spc_assurance_name(ch.assurance) : "";
			}
		}
		if (rc)
			break;
		if (!drawn) {
			yoc_buf_puts(&body, "<p class=\"note\">A month's count is hidden (small), so "
					    "no chart is drawn.</p>");
		} else {
			char title[256];
			/* the section's heading names the KPI */
			snprintf(title, sizeof title, "%s chart, %s", d->chart, d->unit);
			rc = yoc__svg_spc(&body, title, m->n, m->label, m->pt, f, d->target, ch.icon,
					  ch.assurance);
			yoc_buf_printf(&body, "<p class=\"note\">Rules: beyond the limits; a shift of "
				       "%d points on one side; a trend of %d points; 2 of 3 beyond 2 "
				       "sigma%s%s%s. Latest month: %s", ch.shift_len, ch.trend_len,
				       d->screen && d->type == YOC_SPC_XMR ? "; moving ranges above "
				       "3.267 times their mean screened out" : "",
				       d->nsteps ? "; limits recalculated from " : "",
				       d->nsteps ? d->steps_text : "", yoc_spc_icon_name(ch.icon));
			if (ch.assurance)
				yoc_buf_printf(&body, "; %s", yoc_spc_assurance_name(ch.assurance));
			yoc_buf_puts(&body, ".</p>");
		}
		yoc_buf_puts(&body, "</section>\n");
	}
	if (!ts || !tm)
		rc = rc ? rc : YOC_ENOMEM;
	if (!rc) {
		yoc__add_table(c, ts);
		yoc_buf_puts(b, "<section id=\"kpi-summary\"><h2>Summary</h2>");
		yoc__html_table(c, b, ts);
		yoc_buf_puts(b, "</section>\n");
		yoc_buf_append(b, body.data, body.len);
		yoc__add_table(c, tm);
		yoc_buf_puts(b, "<section id=\"kpi-months\"><h2>Month by month</h2>");
		yoc__html_table(c, b, tm);
		yoc_buf_puts(b, "</section>\n");
		rc = weekday_table(c, db, b);
		if (!rc)
			rc = pam_table(c, db, b);
	}
	yoc_buf_free(&body);
cleanup:
	yoc_free(m);
	yoc_free(k);
	return rc;
}

/* A practice's months of KPI d from kpi_practice (no rolling values). */
static int read_practice_months(struct ctx *c, sqlite3 *db, const struct kdef *d,
				const char *code, struct months *m)
{
	sqlite3_stmt *st = NULL;
	m->n = 0;
	if (sqlite3_prepare_v2(db, "SELECT month, numerator, denominator FROM kpi_practice WHERE"
			       " kpi = ? AND practice = ? ORDER BY month", -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, d->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, code, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW && m->n < MMAX) {
		int i = m->n++;
		m->label[i] = yoc__pt_str(c, col_text(st, 0));
		m->num[i] = sqlite3_column_int64(st, 1);
		m->den[i] = sqlite3_column_int64(st, 2);
		m->has_r12[i] = 0;
	}
	sqlite3_finalize(st);
	return c->oom ? YOC_ENOMEM : 0;
}

int yoc__pack_kpi(struct ctx *c, sqlite3 *db, struct report *R, const struct prac *p,
		  struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	if (p->unknown || !yoc__kpi_present(db, R) || !yoc__report_has_table(db, "kpi_practice"))
		return 0;
	struct kdef *k = yoc_calloc(KMAX, sizeof *k);
	struct months *m = yoc_calloc(1, sizeof *m);
	int nk = 0, rc = 0;
	struct yoc_buf charts;
	yoc_buf_init(&charts, 0);
	if (!k || !m) {
		rc = YOC_ENOMEM;
		goto cleanup;
	}
	if ((rc = read_defs(c, db, k, &nk)))
		goto cleanup;
	char name[64], id[128];
	yoc__safe_name(p->code, name, sizeof name);
	snprintf(id, sizeof id, "practices/%s_kpi", name);
	static const char *const cols[] = {"KPI", "Months", "Numerator", "Denominator", "Value",
					   "Unit", "Latest month"};
	int kinds[7] = {K_TEXT, K_TEXT, K_COUNT, K_COUNT, K_RATIO, K_TEXT, K_TEXT};
	struct ptable *t = yoc__pt_new(c, yoc__pt_str(c, id), "KPIs: this practice, the last 12 "
				       "months", "This practice's registered people (their current "
				       "practice); counts rounded on their own, small ones hidden; a "
				       "chart only where no month is hidden.", 7, cols, kinds);
	int any = 0;
	for (int i = 0; t && i < nk && !rc; i++) {
		struct kdef *d = &k[i];
		if (!d->available)
			continue;
		if ((rc = read_practice_months(c, db, d, p->code, m)))
			break;
		if (m->n == 0)
			continue;
		int j0 = m->n >= 12 ? m->n - 12 : 0, nm = m->n - j0;
		int64_t n12 = 0, d12 = 0;
		for (int j = j0; j < m->n; j++) {
			n12 += m->num[j];
			d12 += m->den[j];
		}
		/* as kpi_month's rolling values: a population or a stock by its mean */
		if (d->rolling)
			d12 = (d12 + nm / 2) / nm;
		if (d->rolling == 2)
			n12 = (n12 + nm / 2) / nm;
		struct yoc_spc_chart ch;
		int drawn = 0;
		d->steps_text = ""; /* a practice's chart has no steps of its own */
		if (!p->state && (rc = chart(c, d, m, &ch, &drawn)))
			break;
		struct pcell *r = yoc__pt_row(c, t);
		if (!r) {
			rc = YOC_ENOMEM;
			break;
		}
		char span[40];
		snprintf(span, sizeof span, "%s to %s", m->label[j0], m->label[m->n - 1]);
		r[0].s = d->title;
		r[1].s = yoc__pt_str(c, span);
		int64_t pn = p->state ? YOC_SDC_HIDDEN : yoc_sdc_one(s, n12);
		int64_t pd = p->state ? YOC_SDC_HIDDEN : yoc_sdc_one(s, d12);
		yoc__set_count(&r[2], pn);
		yoc__set_count(&r[3], pd);
		yoc__set_pct(&r[4], pub_value(pn, pd, d->scale), 1);
		r[5].s = d->unit;
		r[6].s = drawn ? yoc_spc_icon_name(ch.icon) : "no chart";
		any = 1;
		if (drawn) {
			char title[256];
			snprintf(title, sizeof title, "%s: this practice (%s chart, %s)", d->title,
				 d->chart, d->unit);
			rc = yoc__svg_spc(&charts, title, m->n, m->label, m->pt,
					  d->type == YOC_SPC_XMR ? 1 : d->scale, d->target, ch.icon,
					  ch.assurance);
		}
	}
	if (!rc && !t)
		rc = YOC_ENOMEM;
	if (!rc && any) {
		yoc_buf_puts(b, "<h2>Outcome KPIs</h2><p>The outcome KPIs for this practice's "
				"registered people (see the KPIs page for definitions and the whole "
				"population). Charts as Making Data Count draws them, where every "
				"month can be published.</p>");
		if ((rc = yoc__html_table(c, b, t)) == 0) {
			yoc_buf_append(b, charts.data ? charts.data : "", charts.len);
			rc = yoc__write_csv(c, t);
		}
	}
cleanup:
	yoc_buf_free(&charts);
	yoc_free(m);
	yoc_free(k);
	return rc;
}

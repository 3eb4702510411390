/*
** risk.html: risk stratification, from the tables of yoc risk validate and
** yoc risk summarise (docs/risk.md): how well the score ranks people (ROC,
** AUC with comparators), how well it is calibrated, the risk pyramid, the
** crisis curve, rising risk, cohort turnover and retention, overlap with a
** multimorbidity cohort, and the model. Also the practice packs' risk
** section. Reads the catalog only; computes nothing the risk module did not,
** but publishes every count, sum and mean through disclosure control
** (docs/disclosure.md, "The Risk page"). A dataset without risk_pyramid rows
** for the report's year has no Risk page (yoc__risk_present).
*/
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "report/svg.h"
#include "risk/risk.h"
#include "sdc/sdc.h"

#define MAXTIER 16
#define NROC 101

/* ---- small helpers ----------------------------------------------------- */

int yoc__risk_present(sqlite3 *db, const struct report *R)
{
	sqlite3_stmt *q = NULL;
	int ok = sqlite3_prepare_v2(db, "SELECT 1 FROM risk_pyramid WHERE fyear = ? LIMIT 1",
				    -1, &q, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_text(q, 1, R->fyear, -1, SQLITE_STATIC);
		ok = sqlite3_step(q) == SQLITE_ROW;
	}
	sqlite3_finalize(q);
	return ok;
}

/* The latest year of a risk table with a condition, into y (or ""). */
static void latest_year(sqlite3 *db, const char *sql, char *y, size_t n)
{
	sqlite3_stmt *q = NULL;
	y[0] = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
		snprintf(y, n, "%s", (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
}

static int64_t pence_of(double pounds)
{
	return (int64_t)llround(pounds * 100.0);
}

/* A count alone, hidden also when its complement within den is small. */
static int64_t pub_part(const struct yoc_sdc *s, int64_t n, int64_t den)
{
	if (!s->off && den - n >= 1 && den - n <= s->threshold)
		return YOC_SDC_HIDDEN;
	return yoc_sdc_one(s, n);
}

static const char *score_label(const char *m)
{
	if (strcmp(m, "model") == 0)
		return "Risk model";
	if (strcmp(m, "oracle") == 0)
		return "True risk (synthetic oracle)";
	if (strcmp(m, "ltc_count") == 0)
		return "Number of LTCs this year";
	if (strcmp(m, "cost_total") == 0)
		return "Cost this year";
	if (strcmp(m, "qadmissions") == 0)
		return "QAdmissions (published)";
	return m;
}

static const char *const score_order[] = {"model", "oracle", "ltc_count", "cost_total",
					  "qadmissions"};

/* A validation metric: value, lo, hi (NAN when absent). */
static int metric(sqlite3 *db, const char *name, const char *model, double *v)
{
	sqlite3_stmt *q = NULL;
	int found = 0;
	v[0] = v[1] = v[2] = NAN;
	if (sqlite3_prepare_v2(db, "SELECT value, lo, hi FROM risk_validation WHERE metric = ? "
			       "AND model = ?", -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, model, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW) {
			found = 1;
			for (int k = 0; k < 3; k++)
				if (sqlite3_column_type(q, k) != SQLITE_NULL)
					v[k] = sqlite3_column_double(q, k);
		}
	}
	sqlite3_finalize(q);
	return found;
}

/* Values are stored as published (4 decimals, 0.1%), so the workbook's
 * numbers equal the CSV's text. */
static void set_real(struct pcell *p, double v)
{
	p->d = isnan(v) ? v : round(v * 1e4) / 1e4;
	p->hidden = isnan(v);
}

static void set_pct1(struct pcell *p, double v)
{
	yoc__set_pct(p, isnan(v) ? v : round(v * 10) / 10, 1);
}

/* ---- 1. discrimination: AUC table and ROC curves --------------------------- */

static int section_auc(struct ctx *c, sqlite3 *db, struct yoc_buf *b, int64_t *n_out,
		       int64_t *ev_out)
{
	const struct yoc_sdc *s = &c->o->sdc;
	double nv[3], ev[3], ty[3], ey[3];
	metric(db, "n", "model", nv);
	metric(db, "events", "model", ev);
	int64_t n = isnan(nv[0]) ? 0 : (int64_t)nv[0], events = isnan(ev[0]) ? 0 : (int64_t)ev[0];
	*n_out = n;
	*ev_out = events;
	char ny[32] = "", eyr[32] = "", nb[32], eb[32];
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, "SELECT train_year, eval_year FROM risk_validation LIMIT 1",
			       -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW) {
		snprintf(ny, sizeof ny, "%s", sqlite3_column_text(q, 0) ?
			 (const char *)sqlite3_column_text(q, 0) : "");
		snprintf(eyr, sizeof eyr, "%s", sqlite3_column_text(q, 1) ?
			 (const char *)sqlite3_column_text(q, 1) : "");
	}
	sqlite3_finalize(q);
	(void)ty;
	(void)ey;
	yoc_buf_printf(b, "<section id=\"discrimination\"><h2>Does the score pick out the right "
		       "people?</h2><p>Temporal validation: the model was fitted on the features "
		       "of %s with the outcome a year later, then scored on the features of %s; "
		       "%s people were followed into the next year and %s of them had an "
		       "emergency admission or died. A score that ranks everyone with the outcome "
		       "above everyone without has an AUC of 1; a coin toss 0.5.</p>",
		       ny, eyr, yoc_sdc_fmt(yoc_sdc_one(s, n), 1, nb),
		       yoc_sdc_fmt(yoc_sdc_one(s, events), 1, eb));
	static const char *const cols[] = {"Score", "AUC", "95% CI low", "95% CI high",
					   "Sensitivity, top 5% (%)", "PPV, top 5% (%)"};
	int kinds[6] = {K_TEXT, K_REAL, K_REAL, K_REAL, K_PCT, K_PCT};
	struct ptable *t = yoc__pt_new(c, "risk_auc", "Discrimination: area under the ROC "
				       "curve, with the comparators", "QAdmissions: Hippisley-Cox "
				       "and Coupland, BMJ Open 2013 (0.77, 0.76-0.78), another "
				       "population, for orientation only. Sensitivity and PPV are "
				       "of the published (rounded) counts.", 6, cols, kinds);
	int64_t ev_pub = yoc_sdc_one(s, events);
	for (size_t k = 0; t && k < sizeof score_order / sizeof score_order[0]; k++) {
		double a[3], se[3], pp[3];
		if (!metric(db, "auc", score_order[k], a))
			continue;
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			return YOC_ENOMEM;
		r[0].s = score_label(score_order[k]);
		set_real(&r[1], a[0]);
		set_real(&r[2], a[1]);
		set_real(&r[3], a[2]);
		int hs = metric(db, "sensitivity_top5", score_order[k], se);
		int hp = metric(db, "ppv_top5", score_order[k], pp);
		r[4].hidden = r[5].hidden = 1;
		if (hs && hp && !isnan(se[0]) && !isnan(pp[0]) && pp[0] > 0) {
			/* back to the counts, then rates of the published counts */
			int64_t tp = llround(se[0] * (double)events);
			int64_t sel = llround((double)tp / pp[0]);
			int64_t tp_pub = yoc_sdc_one(s, tp), sel_pub = yoc_sdc_one(s, sel);
			set_pct1(&r[4], yoc__pub_pct(tp_pub, ev_pub));
			set_pct1(&r[5], yoc__pub_pct(tp_pub, sel_pub));
			if (!s->off && tp >= 1 && tp <= s->threshold)
				r[4].hidden = r[5].hidden = 1;
		}
	}
	if (!t)
		return YOC_ENOMEM;
	yoc__add_table(c, t);

	/* ROC points: rates of rounded counts, only where the selection is not small */
	static const char *const rcols[] = {"Score", "Point", "Selected", "TPR (%)", "FPR (%)"};
	int rk[5] = {K_TEXT, K_NUM, K_COUNT, K_PCT, K_PCT};
	struct ptable *rt = yoc__pt_new(c, "risk_roc", "ROC curve points (top k% by score)",
					"Point k selects every row scoring at least the score at "
					"rank k% of the rows. Rates are of rounded counts; points "
					"selecting few people are left out.", 5, rcols, rk);
	double *xs = yoc_calloc(5 * NROC * 2, sizeof *xs);
	if (!rt || !xs) {
		yoc_free(xs);
		return YOC_ENOMEM;
	}
	int np[5] = {0}, nser = 0;
	const char *sers[5];
	const double *xp[5], *yp[5];
	for (int k = 0; k < 4; k++) {
		if (sqlite3_prepare_v2(db, "SELECT point, selected, tp, fp FROM risk_roc WHERE "
				       "model = ? ORDER BY point", -1, &q, NULL) != SQLITE_OK) {
			sqlite3_finalize(q);
			break;
		}
		sqlite3_bind_text(q, 1, score_order[k], -1, SQLITE_STATIC);
		double *x = xs + (size_t)nser * NROC * 2, *y = x + NROC;
		int m = 0;
		while (sqlite3_step(q) == SQLITE_ROW && m < NROC) {
			int pt = sqlite3_column_int(q, 0);
			int64_t sel = sqlite3_column_int64(q, 1), tp = sqlite3_column_int64(q, 2),
				fp = sqlite3_column_int64(q, 3);
			double tpr, fpr;
			if (pt == 0) {
				tpr = fpr = 0;
			} else if (!s->off && sel <= s->threshold) {
				continue;
			} else {
				tpr = yoc_sdc_rate(s, tp, events, 0, 100, 0);
				fpr = yoc_sdc_rate(s, fp, n - events, 0, 100, 0);
			}
			struct pcell *r = yoc__pt_row(c, rt);
			if (!r) {
				sqlite3_finalize(q);
				yoc_free(xs);
				return YOC_ENOMEM;
			}
			r[0].s = score_label(score_order[k]);
			r[1].d = pt;
			yoc__set_count(&r[2], yoc_sdc_one(s, sel));
			set_pct1(&r[3], tpr);
			set_pct1(&r[4], fpr);
			x[m] = fpr / 100;
			y[m] = tpr / 100;
			m++;
		}
		sqlite3_finalize(q);
		q = NULL;
		if (m) {
			sers[nser] = score_label(score_order[k]);
			np[nser] = m;
			xp[nser] = x;
			yp[nser] = y;
			nser++;
		}
	}
	yoc__add_table(c, rt);
	yoc_buf_puts(b, "<p>The ROC curve plots, for ever larger selections from the top of "
			"each score, the share of the people who went on to have the outcome "
			"(true positive rate) against the share of those who did not (false "
			"positive rate). Higher and further left is better; the dashed diagonal "
			"is chance.</p>");
	if (nser)
		yoc__svg_lines(b, "ROC curves", nser, sers, np, xp, yp, 1, 1, 0, NULL, 1,
			       "False positive rate", "True positive rate", 0);
	yoc_free(xs);
	yoc__html_table(c, b, t);
	yoc_buf_printf(b, "<p class=\"note\">The points of the curves: <a href=\"csv/%s.csv\">"
		       "CSV</a>.</p></section>\n", rt->id);
	return 0;
}

/* ---- 2. calibration ------------------------------------------------------ */

/*
** One grouping of risk_calibration (model 'model') as rows of t: people and
** events protected together with their total row; O/E and its interval of
** the published events. Fills the decile chart arrays when given.
*/
static int calib_rows(struct ctx *c, sqlite3 *db, const char *grouping, const char *label,
		      struct ptable *t, double *cx, double *cy, int *ncx)
{
	sqlite3_stmt *q = NULL;
	int rc = 0, ng = 0;
	char grp[32][24];
	double exp_[33];
	int64_t v[33 * 2];
	unsigned char st[33 * 2];
	int64_t pub[33 * 2];
	memset(v, 0, sizeof v);
	memset(exp_, 0, sizeof exp_);
	if (sqlite3_prepare_v2(db, "SELECT grp, n, observed, expected FROM risk_calibration "
			       "WHERE model = 'model' AND grouping = ? ORDER BY grp", -1, &q,
			       NULL) != SQLITE_OK)
		goto cleanup;
	sqlite3_bind_text(q, 1, grouping, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW && ng < 32) {
		const char *g = (const char *)sqlite3_column_text(q, 0);
		snprintf(grp[ng], sizeof grp[ng], "%s", g ? g : "");
		v[ng * 2] = sqlite3_column_int64(q, 1);
		v[ng * 2 + 1] = sqlite3_column_int64(q, 2);
		exp_[ng] = sqlite3_column_double(q, 3);
		ng++;
	}
	if (!ng)
		goto cleanup;
	/* the total row after the groups */
	v[ng * 2] = v[ng * 2 + 1] = 0;
	exp_[ng] = 0;
	for (int i = 0; i < ng; i++) {
		v[ng * 2] += v[i * 2];
		v[ng * 2 + 1] += v[i * 2 + 1];
		exp_[ng] += exp_[i];
	}
	if ((rc = yoc__protect(c, ng + 1, 2, 1, 0, v, st, pub)))
		goto cleanup;
	for (int i = 0; i <= ng; i++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r) {
			rc = YOC_ENOMEM;
			goto cleanup;
		}
		r[0].s = i < ng ? label : "Total";
		r[1].s = i < ng ? yoc__pt_str(c, grp[i]) : "";
		yoc__set_count(&r[2], pub[i * 2]);
		yoc__set_count(&r[3], pub[i * 2 + 1]);
		int ok = pub[i * 2] != YOC_SDC_HIDDEN && pub[i * 2 + 1] != YOC_SDC_HIDDEN;
		r[4].d = round(exp_[i] * 10) / 10;
		r[4].hidden = !ok; /* expected events beside a hidden count would give it away */
		double o = (double)pub[i * 2 + 1], e = exp_[i], oe = NAN, lo = NAN, hi = NAN;
		if (ok && e > 0) {
			oe = o / e;
			if (o > 0) {
				lo = oe * exp(-1.96 / sqrt(o));
				hi = oe * exp(1.96 / sqrt(o));
			} else {
				lo = 0;
				hi = 3.689 / e;
			}
		}
		set_real(&r[5], oe);
		set_real(&r[6], lo);
		set_real(&r[7], hi);
		if (cx && i < ng && ok && pub[i * 2] > 0) {
			/* mean predicted and observed risk, % of the published count */
			cx[*ncx] = 100.0 * e / (double)pub[i * 2];
			cy[*ncx] = 100.0 * o / (double)pub[i * 2];
			(*ncx)++;
		}
	}
cleanup:
	sqlite3_finalize(q);
	return rc;
}

static int section_calibration(struct ctx *c, sqlite3 *db, struct yoc_buf *b)
{
	static const char *const cols[] = {"Grouping", "Group", "People", "Observed events",
					   "Expected events", "O/E", "O/E 95% low", "O/E 95% high"};
	int kinds[8] = {K_TEXT, K_TEXT, K_COUNT, K_COUNT, K_NUM, K_REAL, K_REAL, K_REAL};
	struct ptable *td = yoc__pt_new(c, "risk_calibration_deciles", "Calibration by tenth "
					"of predicted risk", "O/E is of the published observed "
					"count; its interval exp(-/+1.96 / sqrt(O)).", 8, cols, kinds);
	struct ptable *tg = yoc__pt_new(c, "risk_calibration_groups", "Calibration by age "
					"band, sex and IMD quintile (1 = most deprived)", NULL, 8,
					cols, kinds);
	static const char *const mcols[] = {"Measure", "Value", "95% CI low", "95% CI high"};
	int mk[4] = {K_TEXT, K_REAL, K_REAL, K_REAL};
	struct ptable *tm = yoc__pt_new(c, "risk_calibration_summary", "Calibration and "
					"accuracy of the risk model", NULL, 4, mcols, mk);
	if (!td || !tg || !tm)
		return YOC_ENOMEM;
	double cx[32], cy[32];
	int ncx = 0, rc;
	if ((rc = calib_rows(c, db, "decile", "Decile", td, cx, cy, &ncx)))
		return rc;
	static const char *const grp[3][2] = {{"age_band", "Age band"}, {"sex", "Sex"},
					      {"imd_quintile", "IMD quintile"}};
	for (int k = 0; k < 3; k++)
		if ((rc = calib_rows(c, db, grp[k][0], grp[k][1], tg, NULL, NULL, NULL)))
			return rc;
	static const char *const ms[][2] = {
		{"calibration_slope", "Calibration slope (1 = ideal)"},
		{"calibration_intercept", "Calibration intercept (0 = ideal)"},
		{"calibration_in_the_large", "Calibration in the large (0 = ideal)"},
		{"brier", "Brier score (lower is better)"},
		{"scaled_brier", "Scaled Brier score (1 = perfect, 0 = no better than the average)"},
		{"auprc", "Area under the precision-recall curve"},
	};
	for (size_t k = 0; k < sizeof ms / sizeof ms[0]; k++) {
		double v[3];
		if (!metric(db, ms[k][0], "model", v))
			continue;
		struct pcell *r = yoc__pt_row(c, tm);
		if (!r)
			return YOC_ENOMEM;
		r[0].s = ms[k][1];
		set_real(&r[1], v[0]);
		set_real(&r[2], v[1]);
		set_real(&r[3], v[2]);
	}
	yoc__add_table(c, tm);
	yoc__add_table(c, td);
	yoc__add_table(c, tg);
	yoc_buf_puts(b, "<section id=\"calibration\"><h2>Are the predicted risks right?</h2>"
			"<p>People are put into ten equal groups by predicted risk; for each, the "
			"share who went on to have the outcome (observed) is plotted against the "
			"average predicted risk (expected). On the dashed diagonal the predictions "
			"are right on average; above it the model under-predicts. O/E is observed "
			"over expected events: 1 is right, below 1 over-prediction.</p>");
	if (ncx) {
		static const char *const sers[] = {"Risk model (tenths)"};
		const double *xp[1] = {cx}, *yp[1] = {cy};
		double mx = 0;
		for (int i = 0; i < ncx; i++) {
			if (cx[i] > mx)
				mx = cx[i];
			if (cy[i] > mx)
				mx = cy[i];
		}
		double top = mx <= 0 ? 1 : ceil(mx / 10) * 10;
		yoc__svg_lines(b, "Calibration: observed against predicted risk (%)", 1, sers,
			       &ncx, xp, yp, top, top, 0, NULL, 1, "Mean predicted risk (%)",
			       "Observed (%)", 0);
	}
	yoc__html_table(c, b, tm);
	yoc__html_table(c, b, td);
	yoc__html_table(c, b, tg);
	yoc_buf_puts(b, "</section>\n");
	return 0;
}

/* ---- 3. the risk pyramid ----------------------------------------------- */

static int section_pyramid(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	sqlite3_stmt *q = NULL;
	char tier[MAXTIER][24];
	int64_t v[(MAXTIER + 1) * 2], pub[(MAXTIER + 1) * 2], cost[MAXTIER + 1];
	unsigned char st[(MAXTIER + 1) * 2];
	int nt = 0, rc = 0;
	memset(v, 0, sizeof v);
	memset(cost, 0, sizeof cost);
	if (sqlite3_prepare_v2(db, "SELECT tier, people, cost_total, emergency_admissions FROM "
			       "risk_pyramid WHERE fyear = ? ORDER BY tier_order", -1, &q,
			       NULL) != SQLITE_OK) {
		sqlite3_finalize(q);
		return 0;
	}
	sqlite3_bind_text(q, 1, R->fyear, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW && nt < MAXTIER) {
		const char *tn = (const char *)sqlite3_column_text(q, 0);
		snprintf(tier[nt], sizeof tier[nt], "%s", tn ? tn : "");
		v[nt * 2] = sqlite3_column_int64(q, 1);
		cost[nt] = pence_of(sqlite3_column_double(q, 2));
		v[nt * 2 + 1] = sqlite3_column_int64(q, 3);
		nt++;
	}
	sqlite3_finalize(q);
	if (!nt)
		return 0;
	for (int i = 0; i < nt; i++) {
		v[nt * 2] += v[i * 2];
		v[nt * 2 + 1] += v[i * 2 + 1];
		cost[nt] += cost[i];
	}
	if ((rc = yoc__protect(c, nt + 1, 2, 1, 0, v, st, pub)))
		return rc;
	int hid[MAXTIER];
	int64_t money[MAXTIER + 1];
	for (int i = 0; i <= nt; i++) {
		money[i] = yoc_sdc_money(s, cost[i]);
		if (i < nt)
			hid[i] = !yoc_sdc_stat_ok(s, v[i * 2], st[i * 2]);
	}
	yoc__protect_sums(nt, cost, hid);
	static const char *const cols[] = {"Risk tier", "People", "Total cost", "Mean cost",
					   "Share of cost (%)", "Emergency admissions",
					   "Share of emergency admissions (%)"};
	int kinds[7] = {K_TEXT, K_COUNT, K_PENCE, K_PENCE, K_PCT, K_COUNT, K_PCT};
	char title[96];
	snprintf(title, sizeof title, "Risk pyramid, %s: people, cost and emergency admissions "
		 "by tier of risk", R->fyear);
	struct ptable *t = yoc__pt_new(c, "risk_pyramid", yoc__pt_str(c, title), "Tiers by "
				       "rank: top0.5 is the 0.5% at highest risk, 0.5-2 the next "
				       "1.5%, and so on. Shares are of the published figures.", 7,
				       cols, kinds);
	if (!t)
		return YOC_ENOMEM;
	double ch[3 * MAXTIER];
	const char *cats[MAXTIER];
	for (int i = 0; i <= nt; i++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			return YOC_ENOMEM;
		int ok = i < nt ? !hid[i] : yoc_sdc_stat_ok(s, v[nt * 2], st[nt * 2]);
		r[0].s = i < nt ? yoc__pt_str(c, tier[i]) : "Total";
		yoc__set_count(&r[1], pub[i * 2]);
		yoc__set_pence(&r[2], money[i], ok);
		yoc__set_pence(&r[3], yoc_sdc_mean(s, cost[i], v[i * 2], pub[i * 2]),
			       ok && pub[i * 2] > 0);
		double cs = ok && money[nt] > 0 ? 100.0 * (double)money[i] / (double)money[nt]
						: NAN;
		set_pct1(&r[4], cs);
		yoc__set_count(&r[5], pub[i * 2 + 1]);
		double es = yoc__pub_pct(pub[i * 2 + 1], pub[nt * 2 + 1]);
		set_pct1(&r[6], es);
		if (i < nt) {
			cats[i] = r[0].s;
			ch[0 * MAXTIER + i] = yoc__pub_pct(pub[i * 2], pub[nt * 2]);
			ch[1 * MAXTIER + i] = cs;
			ch[2 * MAXTIER + i] = es;
		}
	}
	yoc__add_table(c, t);
	yoc_buf_puts(b, "<section id=\"pyramid\"><h2>The risk pyramid</h2><p>Everyone scored "
			"in the year, in tiers by their rank on predicted risk. A small share of "
			"people at the top accounts for a large share of cost and emergency "
			"admissions in the same year.</p>");
	static const char *const sers[] = {"% of people", "% of cost",
					   "% of emergency admissions"};
	double xs[MAXTIER];
	for (int i = 0; i < nt; i++)
		xs[i] = i;
	const double *xp[3] = {xs, xs, xs};
	const double *yp[3] = {ch, ch + MAXTIER, ch + 2 * MAXTIER};
	int np[3] = {nt, nt, nt};
	yoc__svg_lines(b, "Share of people, cost and emergency admissions by risk tier", 3,
		       sers, np, xp, yp, 0, 0, nt, cats, 0, "Risk tier (highest first)", "%", 0);
	yoc__html_table(c, b, t);
	yoc_buf_puts(b, "</section>\n");
	return 0;
}

/* ---- 4. the crisis curve ------------------------------------------------ */

static int section_crisis(struct ctx *c, sqlite3 *db, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	char y[32];
	latest_year(db, "SELECT max(fyear) FROM risk_crisis WHERE year_offset = 1", y, sizeof y);
	if (!y[0])
		latest_year(db, "SELECT max(fyear) FROM risk_crisis", y, sizeof y);
	if (!y[0])
		return 0;
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, "SELECT cohort, top_pct, year_offset, year, people, present, "
			       "died, mean_cost FROM risk_crisis WHERE fyear = ? ORDER BY "
			       "cohort DESC, year_offset", -1, &q, NULL) != SQLITE_OK) {
		sqlite3_finalize(q);
		return 0;
	}
	sqlite3_bind_text(q, 1, y, -1, SQLITE_STATIC);
	static const char *const cols[] = {"Cohort", "Year", "Years from selection",
					   "People selected", "Present that year",
					   "Died that year", "Mean cost per person present"};
	int kinds[7] = {K_TEXT, K_TEXT, K_TEXT, K_COUNT, K_COUNT, K_COUNT, K_PENCE};
	char title[128];
	snprintf(title, sizeof title, "The crisis curve: cohorts selected in %s, followed "
		 "over three years", y);
	struct ptable *t = yoc__pt_new(c, "risk_crisis", yoc__pt_str(c, title), NULL, 7, cols,
				       kinds);
	if (!t) {
		sqlite3_finalize(q);
		return YOC_ENOMEM;
	}
	double xs[2][3], ys[2][3];
	int np[2] = {0, 0};
	double pct = 5;
	static const char *const sers[] = {"Top 5% by cost",
					   "Top 5% by risk"};
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < 3; i++)
			xs[k][i] = i, ys[k][i] = NAN;
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *co = (const char *)sqlite3_column_text(q, 0);
		int k = co && strcmp(co, "top_risk") == 0;
		pct = sqlite3_column_double(q, 1);
		int off = sqlite3_column_int(q, 2);
		int64_t people = sqlite3_column_int64(q, 4), present = sqlite3_column_int64(q, 5),
			died = sqlite3_column_int64(q, 6);
		int64_t sum = pence_of(sqlite3_column_double(q, 7) * (double)present);
		int64_t ppub = pub_part(s, present, people);
		struct pcell *r = yoc__pt_row(c, t);
		if (!r) {
			sqlite3_finalize(q);
			return YOC_ENOMEM;
		}
		r[0].s = k ? "Top risk" : "Top cost";
		r[1].s = yoc__pt_str(c, (const char *)sqlite3_column_text(q, 3) ?
					 (const char *)sqlite3_column_text(q, 3) : "");
		r[2].s = off < 0 ? "-1" : off > 0 ? "+1" : "0";
		yoc__set_count(&r[3], yoc_sdc_one(s, people));
		yoc__set_count(&r[4], ppub);
		yoc__set_count(&r[5], pub_part(s, died, present));
		int ok = yoc_sdc_stat_ok(s, present, ppub == YOC_SDC_HIDDEN ? YOC_SDC_PRIMARY
									  : YOC_SDC_SHOWN);
		int64_t mean = yoc_sdc_mean(s, sum, present, ppub);
		yoc__set_pence(&r[6], mean, ok && ppub > 0);
		if (off >= -1 && off <= 1 && ok && ppub > 0) {
			ys[k][off + 1] = (double)mean / 100.0;
			np[k] = 3;
		}
	}
	sqlite3_finalize(q);
	yoc__add_table(c, t);
	yoc_buf_printf(b, "<section id=\"crisis\"><h2>The crisis curve</h2><p>Two cohorts are "
		       "chosen in %s: the %g%% of people with the highest cost that year, and "
		       "the %g%% with the highest predicted risk. Their mean cost is followed a "
		       "year before and a year after. The top-cost cohort is chosen at its peak: "
		       "many were in a one-off crisis (an admission, an operation) and cost less "
		       "the next year without any intervention, so a fall in their cost after a "
		       "programme starts proves nothing (regression to the mean). The top-risk "
		       "cohort is chosen for what is likely to come, so its cost stays high: "
		       "these are the people whose care could change what happens next.</p>",
		       y, pct, pct);
	static const char *const xc[] = {"Year before", "Selection year", "Year after"};
	const double *xp[2] = {xs[0], xs[1]}, *yp[2] = {ys[0], ys[1]};
	if (np[0] || np[1])
		yoc__svg_lines(b, "Mean cost per person of each cohort", 2, sers, np, xp, yp,
			       0, 0, 3, xc, 0, NULL, "Mean cost", 1);
	yoc__html_table(c, b, t);
	yoc_buf_puts(b, "</section>\n");
	return 0;
}

/* ---- 5. rising risk, turnover, retention, overlap --------------------------- */

static int section_rising(struct ctx *c, sqlite3 *db, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	sqlite3_stmt *q = NULL;
	double from = 80, top = 10;
	static const char *const cols[] = {"Year", "People rising into the top"};
	int kinds[2] = {K_TEXT, K_COUNT};
	struct ptable *t = yoc__pt_new(c, "risk_rising", "Rising risk: people newly in the "
				       "top of the risk ranking", NULL, 2, cols, kinds);
	if (!t)
		return YOC_ENOMEM;
	if (sqlite3_prepare_v2(db, "SELECT fyear, count(*), max(from_below), max(to_top) FROM "
			       "risk_rising GROUP BY fyear ORDER BY fyear", -1, &q, NULL) ==
	    SQLITE_OK) {
		while (sqlite3_step(q) == SQLITE_ROW) {
			struct pcell *r = yoc__pt_row(c, t);
			if (!r) {
				sqlite3_finalize(q);
				return YOC_ENOMEM;
			}
			r[0].s = yoc__pt_str(c, (const char *)sqlite3_column_text(q, 0));
			yoc__set_count(&r[1], yoc_sdc_one(s, sqlite3_column_int64(q, 1)));
			from = sqlite3_column_double(q, 2);
			top = sqlite3_column_double(q, 3);
		}
	}
	sqlite3_finalize(q);
	yoc_buf_printf(b, "<section id=\"rising\"><h2>Rising risk</h2><p>People in the top "
		       "%g%% of predicted risk this year who were below the %gth percentile the "
		       "year before: their risk rose quickly, and they are not yet known to "
		       "services as high users. Each practice's count is in its data pack.</p>",
		       top, from);
	if (t->nrows) {
		yoc__add_table(c, t);
		yoc__html_table(c, b, t);
	} else {
		yoc_buf_puts(b, "<p>None: the years before are not scored.</p>");
	}
	yoc_buf_puts(b, "</section>\n");
	return 0;
}

static int section_turnover(struct ctx *c, sqlite3 *db, struct yoc_buf *b)
{
	char y[32];
	latest_year(db, "SELECT max(fyear) FROM risk_turnover", y, sizeof y);
	if (!y[0])
		return 0;
	enum { NT = MAXTIER + 2 };
	char from[MAXTIER][24], to[NT][24];
	int fo[MAXTIER], to_o[NT], nf = 0, nto = 0, rc = 0;
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT from_tier, from_order FROM risk_turnover "
			       "WHERE fyear = ?1 ORDER BY from_order", -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, y, -1, SQLITE_STATIC);
		while (sqlite3_step(q) == SQLITE_ROW && nf < MAXTIER) {
			snprintf(from[nf], sizeof from[nf], "%s", sqlite3_column_text(q, 0));
			fo[nf++] = sqlite3_column_int(q, 1);
		}
	}
	sqlite3_finalize(q);
	q = NULL;
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT to_tier, to_order FROM risk_turnover "
			       "WHERE fyear = ?1 ORDER BY to_order", -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, y, -1, SQLITE_STATIC);
		while (sqlite3_step(q) == SQLITE_ROW && nto < NT) {
			snprintf(to[nto], sizeof to[nto], "%s", sqlite3_column_text(q, 0));
			to_o[nto++] = sqlite3_column_int(q, 1);
		}
	}
	sqlite3_finalize(q);
	q = NULL;
	if (!nf || !nto)
		return 0;
	int nr = nf + 1, nc = nto + 1;
	int64_t v[(MAXTIER + 1) * (NT + 1)], pub[(MAXTIER + 1) * (NT + 1)];
	unsigned char st[(MAXTIER + 1) * (NT + 1)];
	memset(v, 0, sizeof v);
	if (sqlite3_prepare_v2(db, "SELECT from_order, to_order, people FROM risk_turnover "
			       "WHERE fyear = ?1", -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, y, -1, SQLITE_STATIC);
		while (sqlite3_step(q) == SQLITE_ROW) {
			int a = sqlite3_column_int(q, 0), z = sqlite3_column_int(q, 1);
			int i = 0, j = 0;
			while (i < nf && fo[i] != a)
				i++;
			while (j < nto && to_o[j] != z)
				j++;
			if (i < nf && j < nto)
				v[i * nc + j] += sqlite3_column_int64(q, 2);
		}
	}
	sqlite3_finalize(q);
	for (int i = 0; i < nf; i++)
		for (int j = 0; j < nto; j++) {
			v[i * nc + nto] += v[i * nc + j];
			v[nf * nc + j] += v[i * nc + j];
			v[nf * nc + nto] += v[i * nc + j];
		}
	if ((rc = yoc__protect(c, nr, nc, 1, 1, v, st, pub)))
		return rc;
	const char *cols[NT + 2];
	int kinds[NT + 2];
	char nyear[32] = "";
	cols[0] = "Tier in the year";
	kinds[0] = K_TEXT;
	for (int j = 0; j < nto; j++) {
		char h[64];
		snprintf(h, sizeof h, "%s%.23s", strcmp(to[j], "died") == 0 ? "Died in the year" :
			 strcmp(to[j], "left") == 0 ? "Left (no row next year)" : "Next year: ",
			 strcmp(to[j], "died") == 0 || strcmp(to[j], "left") == 0 ? "" : to[j]);
		cols[1 + j] = yoc__pt_str(c, h);
		kinds[1 + j] = K_COUNT;
	}
	cols[1 + nto] = "Total";
	kinds[1 + nto] = K_COUNT;
	(void)nyear;
	char title[128];
	snprintf(title, sizeof title, "Cohort turnover: risk tier in %s against the next year",
		 y);
	struct ptable *t = yoc__pt_new(c, "risk_turnover", yoc__pt_str(c, title), NULL,
				       nto + 2, cols, kinds);
	double *ch = yoc_calloc((size_t)nf * nto, sizeof *ch);
	const char *cats[MAXTIER];
	if (!t || !ch) {
		yoc_free(ch);
		return YOC_ENOMEM;
	}
	for (int i = 0; i <= nf; i++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r) {
			yoc_free(ch);
			return YOC_ENOMEM;
		}
		r[0].s = i < nf ? yoc__pt_str(c, from[i]) : "Total";
		for (int j = 0; j <= nto; j++)
			yoc__set_count(&r[1 + j], pub[i * nc + j]);
		if (i < nf) {
			cats[i] = r[0].s;
			for (int j = 0; j < nto; j++)
				ch[i * nto + j] = yoc__pub_pct(pub[i * nc + j], pub[i * nc + nto]);
		}
	}
	yoc__add_table(c, t);
	yoc_buf_printf(b, "<section id=\"turnover\"><h2>Cohort turnover</h2><p>Where the "
		       "people of each risk tier in %s were a year later: in which tier, dead, or "
		       "gone from the register. Each bar is one tier of %s, split by where its "
		       "people went (%% of the tier's published count).</p>", y, y);
	const char *sers[NT];
	for (int j = 0; j < nto; j++)
		sers[j] = cols[1 + j];
	yoc__svg_stacked(b, "Where each tier's people were a year later (%)", nf, cats, nto,
			 sers, ch, 0);
	yoc_free(ch);
	yoc__html_table(c, b, t);
	yoc_buf_puts(b, "</section>\n");
	return 0;
}

static int section_retention(struct ctx *c, sqlite3 *db, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	char y[32];
	latest_year(db, "SELECT max(fyear) FROM risk_retention", y, sizeof y);
	sqlite3_stmt *q = NULL;
	static const char *const cols[] = {"Top k%", "Chosen by", "People", "Still in the "
					   "top k% a year later", "Share still in (%)"};
	int kinds[5] = {K_NUM, K_TEXT, K_COUNT, K_COUNT, K_PCT};
	char title[128];
	snprintf(title, sizeof title, "Retention: of the top k%% in %s, how many are in the "
		 "top k%% a year later", y);
	struct ptable *t = yoc__pt_new(c, "risk_retention", yoc__pt_str(c, title), "Chosen by "
				       "LTCs: the same number of people with the most long-term "
				       "conditions.", 5, cols, kinds);
	if (!t)
		return YOC_ENOMEM;
	if (y[0] && sqlite3_prepare_v2(db, "SELECT k, cohort, people, still FROM risk_retention "
				       "WHERE fyear = ? ORDER BY k, cohort DESC", -1, &q,
				       NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, y, -1, SQLITE_STATIC);
		while (sqlite3_step(q) == SQLITE_ROW) {
			struct pcell *r = yoc__pt_row(c, t);
			if (!r) {
				sqlite3_finalize(q);
				return YOC_ENOMEM;
			}
			int64_t people = sqlite3_column_int64(q, 2), still = sqlite3_column_int64(q, 3);
			const char *co = (const char *)sqlite3_column_text(q, 1);
			r[0].d = sqlite3_column_double(q, 0);
			r[1].s = co && strcmp(co, "risk") == 0 ? "Predicted risk" :
				 "Number of LTCs";
			yoc__set_count(&r[2], yoc_sdc_one(s, people));
			yoc__set_count(&r[3], pub_part(s, still, people));
			set_pct1(&r[4], yoc_sdc_rate(s, still, people, 0, 100, 1));
		}
	}
	sqlite3_finalize(q);
	if (!t->nrows)
		return 0;
	yoc__add_table(c, t);
	yoc_buf_puts(b, "<section id=\"retention\"><h2>Who stays at the top?</h2><p>A cohort "
			"chosen by predicted risk turns over fast, most at the very top, where "
			"many die within the year or recover; a cohort chosen by number of "
			"long-term conditions is stable, because conditions persist. A programme "
			"for the highest-risk people must expect to find most of them new each "
			"year.</p>");
	yoc__html_table(c, b, t);
	yoc_buf_puts(b, "</section>\n");
	return 0;
}

static int section_overlap(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	sqlite3_stmt *q = NULL;
	static const char *const cols[] = {"Top k%", "People", "In both cohorts",
					   "Share in both (%)", "Fewest LTCs, risk cohort",
					   "Fewest LTCs, LTC cohort"};
	int kinds[6] = {K_NUM, K_COUNT, K_COUNT, K_PCT, K_NUM, K_NUM};
	char title[128];
	snprintf(title, sizeof title, "Overlap of the top k%% by predicted risk and by number "
		 "of LTCs, %s", R->fyear);
	struct ptable *t = yoc__pt_new(c, "risk_overlap", yoc__pt_str(c, title), NULL, 6, cols,
				       kinds);
	if (!t)
		return YOC_ENOMEM;
	if (sqlite3_prepare_v2(db, "SELECT k, people, overlap, risk_min_ltc, ltc_min_ltc FROM "
			       "risk_overlap WHERE fyear = ? ORDER BY k", -1, &q, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(q, 1, R->fyear, -1, SQLITE_STATIC);
		while (sqlite3_step(q) == SQLITE_ROW) {
			struct pcell *r = yoc__pt_row(c, t);
			if (!r) {
				sqlite3_finalize(q);
				return YOC_ENOMEM;
			}
			int64_t people = sqlite3_column_int64(q, 1), ov = sqlite3_column_int64(q, 2);
			r[0].d = sqlite3_column_double(q, 0);
			yoc__set_count(&r[1], yoc_sdc_one(s, people));
			yoc__set_count(&r[2], pub_part(s, ov, people));
			set_pct1(&r[3], yoc_sdc_rate(s, ov, people, 0, 100, 1));
			r[4].d = sqlite3_column_double(q, 3);
			r[5].d = sqlite3_column_double(q, 4);
		}
	}
	sqlite3_finalize(q);
	if (!t->nrows)
		return 0;
	yoc__add_table(c, t);
	yoc_buf_puts(b, "<section id=\"overlap\"><h2>Risk or multimorbidity?</h2><p>How many "
			"of the people at highest predicted risk are also among those with the "
			"most long-term conditions. The two lists agree more as they get longer; "
			"at the very top they choose different people.</p>");
	yoc__html_table(c, b, t);
	yoc_buf_puts(b, "</section>\n");
	return 0;
}

/* ---- 6. the model -------------------------------------------------------- */

static int section_model(struct ctx *c, sqlite3 *db, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	struct yoc_risk_model m;
	struct yoc_error e;
	yoc_error_clear(&e);
	memset(&m, 0, sizeof m);
	if (yoc_risk_model_latest(db, &m, &e)) {
		yoc_risk_model_free(&m);
		return 0;
	}
	char nb[32], eb[32];
	yoc_buf_printf(b, "<section id=\"model\"><h2>The model</h2><p>A logistic regression "
		       "(model <code>");
	yoc__html_esc(b, m.model_id);
	yoc_buf_printf(b, "</code>) fitted on the %d/%02d features of %s person-years, %s of "
		       "whom had an emergency admission or died the next year. Each "
		       "coefficient is the change in the log odds of the outcome for one unit of "
		       "the feature, the others held fixed; the odds ratio is its exponential. "
		       "A model card (intended use, data, performance, subgroups, limits) is "
		       "written by <code>yoc risk card</code>; it holds exact counts and stays "
		       "with the analysts, and its figures appear on this page after disclosure "
		       "control.</p>", m.train_year, (m.train_year + 1) % 100,
		       yoc_sdc_fmt(yoc_sdc_one(s, (int64_t)m.n), 1, nb),
		       yoc_sdc_fmt(yoc_sdc_one(s, (int64_t)m.events), 1, eb));
	static const char *const cols[] = {"Term", "Coefficient", "Standard error",
					   "Odds ratio"};
	int kinds[4] = {K_TEXT, K_REAL, K_REAL, K_REAL};
	struct ptable *t = yoc__pt_new(c, "risk_model", "Model coefficients", "Empty: a term "
				       "dropped as constant or collinear in the training data.",
				       4, cols, kinds);
	int rc = t ? 0 : YOC_ENOMEM;
	for (int k = 0; t && k < m.p; k++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r) {
			rc = YOC_ENOMEM;
			break;
		}
		r[0].s = yoc__pt_str(c, m.terms[k]);
		set_real(&r[1], m.coef[k]);
		set_real(&r[2], m.se[k]);
		set_real(&r[3], k == 0 ? NAN : exp(m.coef[k]));
	}
	if (!rc) {
		yoc__add_table(c, t);
		yoc__html_table(c, b, t);
	}
	yoc_buf_puts(b, "</section>\n");
	yoc_risk_model_free(&m);
	return rc;
}

/* ---- the page ------------------------------------------------------------- */

int yoc__page_risk(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b)
{
	int rc;
	int64_t n = 0, ev = 0;
	yoc_buf_puts(b, "<section id=\"about-risk\"><h2>What the risk score is</h2><p>Each "
			"person's predicted probability of one or more emergency admissions, or "
			"death, in the next financial year, from this year's age, sex, "
			"deprivation, long-term conditions and use of care (a logistic "
			"regression; docs/risk.md). It is meant for <b>case-finding</b>: choosing "
			"people whose care a clinician should review (case management, care "
			"planning, medication review) and describing risk by practice. It is not "
			"a diagnosis, and no decision about a person should rest on it without "
			"clinical review. Below: how well it ranks and how well its risks are "
			"calibrated, where cost and admissions sit in the ranking, and how the "
			"people at the top change from year to year.</p></section>\n");
	if (yoc__report_has_table(db, "risk_validation")) {
		if ((rc = section_auc(c, db, b, &n, &ev)) || (rc = section_calibration(c, db, b)))
			return rc;
	} else {
		yoc_buf_puts(b, "<p>The model has not been validated (yoc risk validate), so its "
				"accuracy is not shown.</p>");
	}
	if ((rc = section_pyramid(c, db, R, b)) || (rc = section_crisis(c, db, b)) ||
	    (rc = section_rising(c, db, b)) || (rc = section_turnover(c, db, b)) ||
	    (rc = section_retention(c, db, b)) || (rc = section_overlap(c, db, R, b)) ||
	    (rc = section_model(c, db, b)))
		return rc;
	return 0;
}

/* ---- the practice pack section -------------------------------------------- */

int yoc__pack_risk(struct ctx *c, sqlite3 *db, struct report *R, const struct prac *p,
		   struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	sqlite3_stmt *q = NULL;
	char tier[MAXTIER][24];
	int64_t v[MAXTIER + 1], pub[MAXTIER + 1], rising = -1, all = -1;
	unsigned char st[MAXTIER + 1], hide[MAXTIER + 1];
	int nt = 0, rc = 0;
	if (!yoc__risk_present(db, R))
		return 0;
	memset(v, 0, sizeof v);
	memset(hide, 0, sizeof hide);
	if (sqlite3_prepare_v2(db, "SELECT tier, tier_order, people FROM risk_practice WHERE "
			       "fyear = ? AND practice = ? ORDER BY tier_order", -1, &q,
			       NULL) != SQLITE_OK) {
		sqlite3_finalize(q);
		return 0;
	}
	sqlite3_bind_text(q, 1, R->fyear, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, p->code, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		int o = sqlite3_column_int(q, 1);
		int64_t n = sqlite3_column_int64(q, 2);
		if (o == 0)
			all = n;
		else if (o == 1000)
			rising = n;
		else if (nt < MAXTIER) {
			snprintf(tier[nt], sizeof tier[nt], "%s", sqlite3_column_text(q, 0));
			v[nt++] = n;
		}
	}
	sqlite3_finalize(q);
	if (!nt)
		return 0;
	/* the total is the tiers' sum; hidden when the table of practices hides the
	 * practice's count, so that no tier can be worked out from it */
	v[nt] = 0;
	for (int i = 0; i < nt; i++)
		v[nt] += v[i];
	(void)all;
	hide[nt] = p->state != YOC_SDC_SHOWN;
	if ((rc = yoc_sdc_protect_hide(s, nt + 1, 1, 1, 0, v, hide, st, pub))) {
		return yoc_error_set(c->e, rc, NULL, 0, 0, "disclosure control failed (%s)",
				     yoc_status_str(rc));
	}
	static const char *const cols[] = {"Risk tier", "People", "% of the practice"};
	int kinds[3] = {K_TEXT, K_COUNT, K_PCT};
	char id[96], name[64];
	yoc__safe_name(p->code, name, sizeof name);
	snprintf(id, sizeof id, "practices/%s_risk", name);
	struct ptable *t = yoc__pt_new(c, yoc__pt_str(c, id), "People by tier of predicted "
				       "risk", NULL, 3, cols, kinds);
	if (!t)
		return YOC_ENOMEM;
	for (int i = 0; i <= nt; i++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			return YOC_ENOMEM;
		r[0].s = i < nt ? yoc__pt_str(c, tier[i]) : "Total";
		yoc__set_count(&r[1], pub[i]);
		set_pct1(&r[2], yoc__pub_pct(pub[i], pub[nt]));
	}
	struct pcell *r = yoc__pt_row(c, t);
	if (!r)
		return YOC_ENOMEM;
	r[0].s = "Rising risk (not in the tiers' total)";
	yoc__set_count(&r[1], rising < 0 ? YOC_SDC_HIDDEN :
			      p->state != YOC_SDC_SHOWN ? YOC_SDC_HIDDEN : yoc_sdc_one(s, rising));
	if (rising < 0)
		r[1].hidden = 1;
	r[2].hidden = 1;
	yoc_buf_puts(b, "<h2>Risk of emergency admission</h2><p>The practice's registered "
			"people by tier of predicted risk of an emergency admission or death next "
			"year (the tiers of the whole population, see the Risk page), and how "
			"many rose into the top 10% from below the 80th percentile. For "
			"case-finding, not diagnosis.</p>");
	yoc__html_table(c, b, t);
	return yoc__write_csv(c, t);
}

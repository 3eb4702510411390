/*
** rrr.html: the RRR audit of delayed discharges and the discharge model
** (docs/outcomes.md "RRR audit"), from the rrr_* tables of yoc rrr; present
** only when they exist. Every published count passes src/sdc: each column
** of spells or bed days is protected with its total (so a hidden cell
** cannot be had by subtraction from the published total), shares are of
** published counts (yoc_sdc_rate), and a figure beside a hidden count is
** hidden with it. The model's mean and 95th percentile beds are statistics
** of every night of the window and are published to 0.1 bed.
*/
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "report/report_int.h"
#include "report/svg.h"

#define MAXR 512
#define NCUT_SHOWN 16

int yoc__rrr_present(sqlite3 *db, const struct report *R)
{
	return yoc__report_has_table(db, "rrr_summary");
}

static int64_t measure(sqlite3 *db, const char *name)
{
	sqlite3_stmt *q = NULL;
	int64_t v = 0;
	if (sqlite3_prepare_v2(db, "SELECT value FROM rrr_summary WHERE measure = ?1", -1, &q,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW)
			v = sqlite3_column_int64(q, 0);
	}
	sqlite3_finalize(q);
	return v;
}

/* v[0..n-1] and their total v[n]: published into pub[], states into st[]. */
static int column(struct ctx *c, int n, int64_t *v, int64_t *pub, unsigned char *st)
{
	return yoc__protect(c, n + 1, 1, 1, 0, v, st, pub);
}

/* The same for bed days: also hidden wherever the spells they belong to
 * (published as spells[]) are, and protected so none of those follows from
 * the total. */
static int column_beside(struct ctx *c, int n, int64_t *v, const int64_t *spells, int64_t *pub,
			 unsigned char *st)
{
	unsigned char hide[MAXR + 1];
	for (int i = 0; i <= n; i++)
		hide[i] = spells[i] == YOC_SDC_HIDDEN;
	if (yoc_sdc_protect_hide(&c->o->sdc, n + 1, 1, 1, 0, v, hide, st, pub))
		return yoc_error_set(c->e, YOC_EINVAL, NULL, 0, 0,
				     "disclosure control: a table that does not add up");
	return 0;
}

static int oom(struct ctx *c)
{
	return c->oom ? yoc_error_set(c->e, YOC_ENOMEM, NULL, 0, 0, "out of memory") : 0;
}

static int key_figures(struct ctx *c, sqlite3 *db, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	int64_t ready = measure(db, "spells_with_ready_date"), rrr = measure(db, "rrr_spells"),
		rdel = measure(db, "rrr_delayed_spells"), rdays = measure(db, "rrr_delayed_days"),
		del = measure(db, "delayed_spells"), days = measure(db, "delayed_days"),
		after = measure(db, "ready_after_discharge");
	int64_t rrr_pub = yoc_sdc_one(s, rrr);
	int rrr_state = rrr_pub == YOC_SDC_HIDDEN ? YOC_SDC_PRIMARY : YOC_SDC_SHOWN;
	static const char *const cols[] = {"Measure", "Value"};
	int kinds[2] = {K_TEXT, K_COUNT};
	struct ptable *t = yoc__pt_new(c, "rrr_key", "RRR audit: key figures",
				       "Spells: hospital stays with a discharge ready date "
				       "(DISREADYDATE), as yoc groups episodes into spells. Delayed: "
				       "discharged after the ready date; delayed bed days: the days "
				       "between them.", 2, cols, kinds);
	struct {
		const char *label;
		int64_t v;
		int pct;   /* a share of RRR spells */
	} rows[] = {
		{"Spells with a discharge ready date", ready, 0},
		{"Ready dates after discharge (ignored)", after, 0},
		{"Spells needing rehabilitation, recovery or reablement (RRR)", rrr, 0},
		{"RRR spells delayed", rdel, 0},
		{"Share of RRR spells delayed (%)", rdel, 1},
		{"Delayed bed days of RRR spells", rdays, 0},
		{"Delayed spells, RRR or not", del, 0},
		{"Delayed bed days, RRR or not", days, 0},
	};
	for (size_t i = 0; t && i < sizeof rows / sizeof rows[0]; i++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			break;
		r[0].s = rows[i].label;
		if (rows[i].pct) {
			double v = yoc_sdc_rate(s, rows[i].v, rrr, rrr_state, 100, 1);
			r[1].kind = K_PCT + 1;
			yoc__set_pct(&r[1], v, !isnan(v));
		} else {
			yoc__set_count(&r[1], yoc_sdc_one(s, rows[i].v));
		}
	}
	yoc__add_table(c, t);
	yoc_buf_puts(b, "<section id=\"key\"><h2>Key figures</h2><p>Spells whose discharge "
			"needed rehabilitation, recovery or reablement (RRR: community or social "
			"care services after the stay) and how many of them stayed in hospital "
			"after the day they were ready to leave.</p>");
	yoc__html_table(c, b, t);
	yoc_buf_puts(b, "</section>\n");
	return oom(c);
}

static int by_reason(struct ctx *c, sqlite3 *db, struct yoc_buf *b)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, "SELECT reason, delayed_spells, delayed_days, rrr_delayed_spells,"
				   " rrr_delayed_days FROM rrr_reason ORDER BY ord", -1, &q,
			       NULL) != SQLITE_OK)
		return yoc_error_set(c->e, YOC_EDATA, "rrr_reason", 0, 0, "%s", sqlite3_errmsg(db));
	const char *name[16];
	int64_t v[4][17];
	int n = 0;
	memset(v, 0, sizeof v);
	while (sqlite3_step(q) == SQLITE_ROW && n < 16) {
		name[n] = yoc__pt_str(c, (const char *)sqlite3_column_text(q, 0));
		for (int k = 0; k < 4; k++) {
			v[k][n] = sqlite3_column_int64(q, 1 + k);
			v[k][16] += v[k][n];
		}
		n++;
	}
	sqlite3_finalize(q);
	if (n == 0)
		return 0;
	int64_t pub[4][17], col[17];
	unsigned char st[4][17];
	for (int k = 0; k < 4; k++) {
		for (int i = 0; i < n; i++)
			col[i] = v[k][i];
		col[n] = v[k][16];
		int rc = k % 2 ? column_beside(c, n, col, pub[k - 1], pub[k], st[k])
			       : column(c, n, col, pub[k], st[k]);
		if (rc)
			return rc;
	}
	static const char *const cols[] = {"Reason", "Delayed spells", "Delayed bed days",
		"RRR spells delayed", "Their delayed bed days"};
	int kinds[5] = {K_TEXT, K_COUNT, K_COUNT, K_COUNT, K_COUNT};
	struct ptable *t = yoc__pt_new(c, "rrr_reason", "Delayed discharges by reason",
				       "Reason: DELAY_REASON of the spell; UNKNOWN: delayed with no "
				       "reason given.", 5, cols, kinds);
	double chart[16];
	for (int i = 0; t && i <= n; i++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			break;
		r[0].s = i < n ? name[i] : "Total";
		for (int k = 0; k < 4; k++)
			yoc__set_count(&r[1 + k], pub[k][i]);
		if (i < n)
			chart[i] = yoc__dv(pub[1][i]);
	}
	yoc__add_table(c, t);
	yoc_buf_puts(b, "<section id=\"reason\"><h2>Delayed bed days by reason</h2>"
			"<p>Why people stayed after they were ready to leave: no suitable "
			"community service, waiting for an assessment, for a care home or "
			"step-down place, or for their home or a care package.</p>");
	static const char *const ser[] = {"Delayed bed days"};
	yoc__svg_stacked(b, "Delayed bed days by reason", n, name, 1, ser, chart, 0);
	yoc__html_table(c, b, t);
	yoc_buf_puts(b, "</section>\n");
	return oom(c);
}

/* A table of many rows, each column protected with its total. */
struct rows {
	int n;
	const char *a[MAXR], *bb[MAXR];
	int64_t v[4][MAXR + 1];
	int64_t pub[4][MAXR + 1];
	unsigned char st[4][MAXR + 1];
};

static int by_provider(struct ctx *c, sqlite3 *db, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, "SELECT provider, month, rrr_spells, rrr_delayed_spells,"
				   " delayed_spells, delayed_days FROM rrr_provider ORDER BY provider,"
				   " month", -1, &q, NULL) != SQLITE_OK)
		return yoc_error_set(c->e, YOC_EDATA, "rrr_provider", 0, 0, "%s", sqlite3_errmsg(db));
	struct rows *R = yoc_calloc(1, sizeof *R);
	if (!R) {
		sqlite3_finalize(q);
		return yoc_error_set(c->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	}
	int rc = 0, more = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (R->n == MAXR) {
			more = 1;
			break;
		}
		R->a[R->n] = yoc__pt_str(c, (const char *)sqlite3_column_text(q, 0));
		R->bb[R->n] = yoc__pt_str(c, (const char *)sqlite3_column_text(q, 1));
		for (int k = 0; k < 4; k++)
			R->v[k][R->n] = sqlite3_column_int64(q, 2 + k);
		R->n++;
	}
	sqlite3_finalize(q);
	if (R->n == 0)
		goto cleanup;
	for (int k = 0; k < 4 && !rc; k++) {
		R->v[k][R->n] = 0;
		for (int i = 0; i < R->n; i++)
			R->v[k][R->n] += R->v[k][i];
		rc = k == 3 ? column_beside(c, R->n, R->v[k], R->pub[2], R->pub[k], R->st[k])
			    : column(c, R->n, R->v[k], R->pub[k], R->st[k]);
	}
	if (rc)
		goto cleanup;
	static const char *const cols[] = {"Provider", "Month of discharge", "RRR spells",
		"RRR spells delayed", "Share delayed (%)", "Delayed spells", "Delayed bed days"};
	int kinds[7] = {K_TEXT, K_TEXT, K_COUNT, K_COUNT, K_PCT, K_COUNT, K_COUNT};
	struct ptable *t = yoc__pt_new(c, "rrr_provider", "RRR spells and delays by provider and month",
				       more ? "The first 512 provider-months; the CSV of yoc rrr's "
					      "table holds them all."
					    : "Share delayed: of the published RRR spells.",
				       7, cols, kinds);
	for (int i = 0; t && i <= R->n; i++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			break;
		r[0].s = i < R->n ? R->a[i] : "Total";
		r[1].s = i < R->n ? R->bb[i] : "";
		yoc__set_count(&r[2], R->pub[0][i]);
		yoc__set_count(&r[3], R->pub[1][i]);
		double sh = yoc_sdc_rate(s, R->v[1][i], R->v[0][i], R->st[0][i], 100, 1);
		yoc__set_pct(&r[4], sh, R->pub[1][i] != YOC_SDC_HIDDEN && !isnan(sh));
		yoc__set_count(&r[5], R->pub[2][i]);
		yoc__set_count(&r[6], R->pub[3][i]);
	}
	yoc__add_table(c, t);
	yoc_buf_puts(b, "<section id=\"provider\"><h2>By provider and month</h2><p>Spells by "
			"the provider of their admission and the month they ended.</p>");
	yoc__html_table(c, b, t);
	yoc_buf_puts(b, "</section>\n");
	rc = oom(c);
cleanup:
	yoc_free(R);
	return rc;
}

static const char *dest_name(const char *code)
{
	static const struct {
		const char *code, *name;
	} d[] = {{"19", "usual place of residence"}, {"29", "temporary place of residence"},
		 {"30", "repatriation from high security psychiatric hospital"},
		 {"37", "court"}, {"38", "penal establishment"}, {"48", "high security psychiatric hospital"},
		 {"49", "NHS medium secure unit"}, {"50", "NHS other ward, mental health"},
		 {"51", "NHS other hospital provider, general"}, {"52", "NHS other provider, maternity"},
		 {"53", "NHS other provider, mental health"}, {"54", "NHS run care home"},
		 {"65", "local authority residential accommodation"}, {"66", "local authority foster care"},
		 {"79", "died"}, {"84", "non-NHS run hospital, mental health"},
		 {"85", "non-NHS run care home"}, {"87", "non-NHS run hospital"},
		 {"88", "non-NHS run hospice"}, {"98", "not applicable (not yet discharged)"},
		 {"99", "not known"}};
	for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
		if (strcmp(d[i].code, code) == 0)
			return d[i].name;
	return "";
}

static int by_destination(struct ctx *c, sqlite3 *db, struct yoc_buf *b)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, "SELECT destination, rrr_spells, rrr_delayed_spells, rrr_delayed_days"
				   " FROM rrr_destination ORDER BY rrr_spells DESC, destination", -1, &q,
			       NULL) != SQLITE_OK)
		return yoc_error_set(c->e, YOC_EDATA, "rrr_destination", 0, 0, "%s", sqlite3_errmsg(db));
	struct rows *R = yoc_calloc(1, sizeof *R);
	if (!R) {
		sqlite3_finalize(q);
		return yoc_error_set(c->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	}
	int rc = 0;
	while (sqlite3_step(q) == SQLITE_ROW && R->n < 64) {
		R->a[R->n] = yoc__pt_str(c, (const char *)sqlite3_column_text(q, 0));
		R->bb[R->n] = dest_name(R->a[R->n] ? R->a[R->n] : "");
		for (int k = 0; k < 3; k++)
			R->v[k][R->n] = sqlite3_column_int64(q, 1 + k);
		R->n++;
	}
	sqlite3_finalize(q);
	if (R->n == 0)
		goto cleanup;
	for (int k = 0; k < 3 && !rc; k++) {
		R->v[k][R->n] = 0;
		for (int i = 0; i < R->n; i++)
			R->v[k][R->n] += R->v[k][i];
		rc = k == 2 ? column_beside(c, R->n, R->v[k], R->pub[1], R->pub[k], R->st[k])
			    : column(c, R->n, R->v[k], R->pub[k], R->st[k]);
	}
	if (rc)
		goto cleanup;
	static const char *const cols[] = {"Destination (DISDEST)", "Meaning", "RRR spells",
		"Delayed", "Delayed bed days"};
	int kinds[5] = {K_TEXT, K_TEXT, K_COUNT, K_COUNT, K_COUNT};
	struct ptable *t = yoc__pt_new(c, "rrr_destination", "Destination after discharge of RRR spells",
				       "Destination: DISDEST of the spell's last episode.", 5, cols,
				       kinds);
	for (int i = 0; t && i <= R->n; i++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			break;
		r[0].s = i < R->n ? R->a[i] : "Total";
		r[1].s = i < R->n ? R->bb[i] : "";
		for (int k = 0; k < 3; k++)
			yoc__set_count(&r[2 + k], R->pub[k][i]);
	}
	yoc__add_table(c, t);
	yoc_buf_puts(b, "<section id=\"destination\"><h2>Destination after discharge</h2>");
	yoc__html_table(c, b, t);
	yoc_buf_puts(b, "</section>\n");
	rc = oom(c);
cleanup:
	yoc_free(R);
	return rc;
}

static int model(struct ctx *c, sqlite3 *db, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, "SELECT reason, pct, spells, bed_days_released, window_from,"
				   " window_to, nights, mean_before, mean_after, beds_freed_mean,"
				   " p95_before, p95_after, beds_freed_p95 FROM rrr_cut ORDER BY ord",
			       -1, &q, NULL) != SQLITE_OK)
		return yoc_error_set(c->e, YOC_EDATA, "rrr_cut", 0, 0, "%s", sqlite3_errmsg(db));
	static const char *const cols[] = {"Delays of", "Cut by (%)", "Spells shortened",
		"Bed days released", "Mean beds occupied after", "Beds freed (mean)",
		"95th percentile beds after", "Beds freed (95th percentile)"};
	int kinds[8] = {K_TEXT, K_NUM, K_COUNT, K_COUNT, K_NUM, K_NUM, K_NUM, K_NUM};
	struct ptable *t = yoc__pt_new(c, "rrr_cut", "The discharge model: cutting delays",
				       "Beds: the spells that needed RRR or were delayed, counted at "
				       "each midnight of the window; freed: the fall in the mean and "
				       "the 95th percentile of that census when a reason's delays are "
				       "shortened.", 8, cols, kinds);
	char from[16] = "", to[16] = "";
	double mean0 = 0;
	int64_t p950 = 0, nights = 0;
	int n = 0;
	const char *cat[NCUT_SHOWN];
	double chart[NCUT_SHOWN];
	while (t && sqlite3_step(q) == SQLITE_ROW) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			break;
		r[0].s = yoc__pt_str(c, (const char *)sqlite3_column_text(q, 0));
		r[1].d = sqlite3_column_int(q, 1);
		yoc__set_count(&r[2], yoc_sdc_one(s, sqlite3_column_int64(q, 2)));
		int64_t rel = yoc_sdc_one(s, sqlite3_column_int64(q, 3));
		yoc__set_count(&r[3], rel);
		r[4].d = round(sqlite3_column_double(q, 8) * 10) / 10;
		r[5].d = round(sqlite3_column_double(q, 9) * 10) / 10;
		r[6].d = (double)sqlite3_column_int64(q, 11);
		r[7].d = (double)sqlite3_column_int64(q, 12);
		snprintf(from, sizeof from, "%s", (const char *)sqlite3_column_text(q, 4));
		snprintf(to, sizeof to, "%s", (const char *)sqlite3_column_text(q, 5));
		nights = sqlite3_column_int64(q, 6);
		mean0 = sqlite3_column_double(q, 7);
		p950 = sqlite3_column_int64(q, 10);
		if (n < NCUT_SHOWN) {
			cat[n] = r[0].s;
			chart[n] = yoc__dv(rel);
			n++;
		}
	}
	sqlite3_finalize(q);
	yoc__add_table(c, t);
	yoc_buf_printf(b, "<section id=\"model\"><h2>The discharge model</h2><p>What cutting "
			  "delays would release. Every spell that needed RRR or was delayed holds "
			  "a bed each night from its admission to the night before its discharge; "
			  "counting them at each midnight from %s to %s (%lld nights, the first to "
			  "the last discharge) gives the beds they occupied: %.1f on average, %lld "
			  "on the busiest 5%% of nights (95th percentile). Cutting a reason's "
			  "delays by a percentage sends each of its delayed spells home that many "
			  "of its delayed days earlier (rounded to whole days); the census is "
			  "counted again. Bed days released are the days taken off; beds freed the "
			  "fall in the mean and in the 95th percentile, which is what a ward plan "
			  "needs: beds that can close or be used for other patients.</p>",
		       from, to, (long long)nights, mean0, (long long)p950);
	static const char *const ser[] = {"Bed days released"};
	if (n)
		yoc__svg_stacked(b, "Bed days released by each cut", n, cat, 1, ser, chart, 0);
	yoc__html_table(c, b, t);
	yoc_buf_puts(b, "</section>\n");
	return oom(c);
}

int yoc__page_rrr(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b)
{
	int rc;
	yoc_buf_puts(b, "<p>The audit of discharges that needed rehabilitation, recovery or "
			"reablement (RRR), from the discharge ready dates of the hospital feed "
			"(docs/outcomes.md). Every count passes disclosure control.</p>\n");
	if ((rc = key_figures(c, db, b)) || (rc = by_reason(c, db, b)) || (rc = model(c, db, b)) ||
	    (rc = by_provider(c, db, b)) || (rc = by_destination(c, db, b)))
		return rc;
	return 0;
}

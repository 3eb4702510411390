/*
** conditions.html: each long-term condition of the code list (src/ltc,
** the list analyse recorded in analyse_run; the person_year columns when it
** cannot be read): people, prevalence, mean and total cost by setting; and
** the commonest pairs and triples of conditions with their cost. From
** person_year's partial (struct acc: report_acc.c counts each person-year's
** conditions, pairs and triples).
*/
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ltc/ltc.h"
#include "report/report_int.h"
#include "report/svg.h"

#define TOPN 20

struct combo {
	int64_t n, cost;
	int a, b, c;     /* condition indexes; c = -1 for a pair */
};

static int combo_cmp(const void *x, const void *y)
{
	const struct combo *p = x, *q = y;
	if (p->n != q->n)
		return p->n < q->n ? 1 : -1;
	if (p->a != q->a)
		return p->a - q->a;
	if (p->b != q->b)
		return p->b - q->b;
	return p->c - q->c;
}

int yoc__conditions(sqlite3 *db, char (*id)[48], char (*label)[128], int max)
{
	char cols[256][48];
	int ncol = 0, n = 0;
	static const char *const fixed[] = {"pseudo_id", "fyear", "age", "sex", "practice",
		"imd_decile", "ltc_count", "mental_ltc_count", "band", "emergency_admissions",
		"other_nonelective_admissions", "bed_days", "emergency_bed_days", "mh_bed_days",
		"died", NULL};
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info('person_year')", -1, &q,
			       NULL) == SQLITE_OK)
		while (sqlite3_step(q) == SQLITE_ROW && ncol < 256)
			snprintf(cols[ncol++], sizeof cols[0], "%s",
				 (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	char path[4096] = "";
	if (sqlite3_prepare_v2(db, "SELECT value FROM analyse_run WHERE key = 'codelist'", -1, &q,
			       NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW &&
	    sqlite3_column_text(q, 0))
		snprintf(path, sizeof path, "%s", (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	yoc_ltc *l = NULL;
	struct yoc_error e;
	yoc_error_clear(&e);
	if (path[0] && yoc_ltc_load(&l, path, &e) == 0) {
		for (size_t k = 0; k < yoc_ltc_count(l) && n < max; k++) {
			const struct yoc_ltc_cond *cd = yoc_ltc_get(l, k);
			for (int j = 0; j < ncol && n < max; j++)
				if (strcmp(cols[j], cd->id) == 0) {
					snprintf(id[n], sizeof id[0], "%s", cd->id);
					if (label)
						snprintf(label[n], sizeof label[0], "%s", cd->label);
					n++;
				}
		}
		yoc_ltc_free(l);
		return n;
	}
	/* no code list: the 0/1 columns that are not person_year's own */
	for (int j = 0; j < ncol && n < max; j++) {
		int own = strncmp(cols[j], "cost_", 5) == 0;
		for (int k = 0; fixed[k] && !own; k++)
			own = strcmp(cols[j], fixed[k]) == 0;
		if (!own) {
			snprintf(id[n], sizeof id[0], "%.47s", cols[j]);
			if (label)
				snprintf(label[n], sizeof label[0], "%.47s", cols[j]);
			n++;
		}
	}
	return n;
}

static int combo_table(struct ctx *c, struct yoc_buf *b, struct combo *v, size_t nv,
		       const char **label, const char *id, const char *title)
{
	const struct yoc_sdc *s = &c->o->sdc;
	qsort(v, nv, sizeof *v, combo_cmp);
	static const char *const cols[] = {"Conditions", "People", "Mean cost", "Total cost"};
	int kinds[4] = {K_TEXT, K_COUNT, K_PENCE, K_PENCE};
	struct ptable *t = yoc__pt_new(c, id, title, "People with (at least) all of these "
				       "conditions, in order of the number of people.", 4, cols,
				       kinds);
	for (size_t i = 0; t && i < nv && i < TOPN && v[i].n > 0; i++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			return YOC_ENOMEM;
		char nm[400];
		if (v[i].c >= 0)
			snprintf(nm, sizeof nm, "%s + %s + %s", label[v[i].a], label[v[i].b],
				 label[v[i].c]);
		else
			snprintf(nm, sizeof nm, "%s + %s", label[v[i].a], label[v[i].b]);
		r[0].s = yoc__pt_str(c, nm);
		int64_t pub = yoc_sdc_one(s, v[i].n);
		int ok = yoc_sdc_stat_ok(s, v[i].n, pub == YOC_SDC_HIDDEN ? YOC_SDC_PRIMARY : 0);
		yoc__set_count(&r[1], pub);
		yoc__set_pence(&r[2], yoc_sdc_mean(s, v[i].cost, v[i].n, pub), ok);
		yoc__set_pence(&r[3], yoc_sdc_money(s, v[i].cost), ok);
	}
	if (!t)
		return YOC_ENOMEM;
	yoc__add_table(c, t);
	return yoc__html_table(c, b, t);
}

int yoc__page_conditions(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b)
{
	const struct yoc_sdc *s = &c->o->sdc;
	const struct acc *A = &R->a;
	const char *label[YOC_LTC_MAX];
	int nc = A->ncond;
	struct combo *pair = NULL, *tri = NULL;
	int rc = 0;
	yoc_buf_puts(b, "<section id=\"conditions\"><h2>Long-term conditions</h2><p>Each "
			"long-term condition of the code list: how many people have it in the "
			"year (prevalence is the percentage of the registered population), and "
			"what care for those people costs in the year, on average and in total, "
			"by setting. The cost is all of their care, not only care for that "
			"condition, and a person with several conditions counts under each. The "
			"last two tables show the commonest combinations of two and three "
			"conditions.</p>");
	if (nc == 0) {
		yoc_buf_puts(b, "<p>No condition columns in person_year.</p></section>\n");
		goto cleanup;
	}
	/* the labels of the partial's conditions (its ids: the same columns) */
	{
		char (*id)[48] = yoc_calloc(YOC_LTC_MAX, sizeof *id);
		char (*lab)[128] = yoc_calloc(YOC_LTC_MAX, sizeof *lab);
		int nl = id && lab ? yoc__conditions(db, id, lab, YOC_LTC_MAX) : 0;
		for (int k = 0; k < nc; k++) {
			label[k] = yoc__pt_str(c, A->cond[k]);
			for (int j = 0; j < nl; j++)
				if (strcmp(id[j], A->cond[k]) == 0)
					label[k] = yoc__pt_str(c, lab[j]);
		}
		yoc_free(id);
		yoc_free(lab);
	}
	size_t np = (size_t)nc * nc, nt = np * nc;
	pair = yoc_calloc(np, sizeof *pair);
	tri = yoc_calloc(nt, sizeof *tri);
	if (!pair || !tri) {
		rc = yoc_error_set(c->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	for (int i = 0; i < nc; i++)
		for (int j = 0; j < nc; j++) {
			size_t x = (size_t)i * nc + j;
			pair[x].n = A->pair[2 * x];
			pair[x].cost = A->pair[2 * x + 1];
			for (int l = 0; l < nc; l++) {
				size_t y = x * nc + l;
				tri[y].n = A->tri[2 * y];
				tri[y].cost = A->tri[2 * y + 1];
			}
		}
	const struct cagg *cond = A->cagg;
	int64_t N = A->all.n;
	int64_t Npub = yoc_sdc_one(s, N);
	/* 1. each condition */
	const char *cols[5 + 2 * NSET];
	int kinds[5 + 2 * NSET];
	static const char *const head[5] = {"Condition", "People", "Prevalence",
					    "Mean annual cost", "Total annual cost"};
	static const int hk[5] = {K_TEXT, K_COUNT, K_PCT, K_PENCE, K_PENCE};
	for (int k = 0; k < 5; k++)
		cols[k] = head[k], kinds[k] = hk[k];
	struct ptable *t = yoc__pt_new(c, "conditions", "People and annual cost by long-term "
				       "condition", "Prevalence: % of the registered population "
				       "of the year. Cost: all care of the people with the "
				       "condition.", 5, cols, kinds);
	cols[0] = "Condition";
	kinds[0] = K_TEXT;
	for (int k = 0; k < NSET; k++) {
		char h[64];
		snprintf(h, sizeof h, "Mean %s", yoc__set_name[k]);
		cols[1 + k] = yoc__pt_str(c, h);
		kinds[1 + k] = K_PENCE;
		snprintf(h, sizeof h, "Total %s", yoc__set_name[k]);
		cols[1 + NSET + k] = yoc__pt_str(c, h);
		kinds[1 + NSET + k] = K_PENCE;
	}
	struct ptable *ts = yoc__pt_new(c, "conditions_by_setting", "Mean and total annual cost "
					"by long-term condition and setting", "Mean per person with "
					"the condition; a condition's figures are hidden when its "
					"count is.", 1 + 2 * NSET, cols, kinds);
	double prev[YOC_LTC_MAX];
	for (int k = 0; t && ts && k < nc; k++) {
		struct pcell *r = yoc__pt_row(c, t), *r2 = yoc__pt_row(c, ts);
		if (!r || !r2)
			break;
		const struct cagg *a = &cond[k];
		int64_t pub = yoc_sdc_one(s, a->n);
		int ok = yoc_sdc_stat_ok(s, a->n, pub == YOC_SDC_HIDDEN ? YOC_SDC_PRIMARY : 0);
		r[0].s = r2[0].s = label[k];
		yoc__set_count(&r[1], pub);
		prev[k] = yoc_sdc_rate(s, a->n, N, Npub == YOC_SDC_HIDDEN, 100, 1);
		yoc__set_pct(&r[2], prev[k], 1);
		yoc__set_pence(&r[3], yoc_sdc_mean(s, a->cost, a->n, pub), ok);
		yoc__set_pence(&r[4], yoc_sdc_money(s, a->cost), ok);
		for (int j = 0; j < NSET; j++) {
			yoc__set_pence(&r2[1 + j], yoc_sdc_mean(s, a->set[j], a->n, pub), ok);
			yoc__set_pence(&r2[1 + NSET + j], yoc_sdc_money(s, a->set[j]), ok);
		}
	}
	if (!t || !ts) {
		rc = YOC_ENOMEM;
		goto cleanup;
	}
	yoc__add_table(c, t);
	yoc__add_table(c, ts);
	static const char *const one[] = {"Prevalence (%)"};
	yoc__svg_stacked(b, "Prevalence of each long-term condition (% of people)", nc, label, 1,
			 one, prev, 0);
	yoc__html_table(c, b, t);
	yoc__html_table(c, b, ts);
	/* 2. pairs and triples, commonest first */
	size_t n2 = 0, n3 = 0;
	for (int i = 0; i < nc; i++)
		for (int j = i + 1; j < nc; j++) {
			struct combo x = pair[(size_t)i * nc + j];
			x.a = i, x.b = j, x.c = -1;
			if (x.n)
				pair[n2++] = x;
			for (int l = j + 1; l < nc; l++) {
				struct combo y = tri[((size_t)i * nc + j) * nc + l];
				y.a = i, y.b = j, y.c = l;
				if (y.n)
					tri[n3++] = y;
			}
		}
	yoc_buf_puts(b, "<h3>The commonest combinations</h3>");
	if ((rc = combo_table(c, b, pair, n2, label, "condition_pairs",
			      "The 20 commonest pairs of long-term conditions")) ||
	    (rc = combo_table(c, b, tri, n3, label, "condition_triples",
			      "The 20 commonest triples of long-term conditions")))
		goto cleanup;
	yoc_buf_puts(b, "</section>\n");
cleanup:
	yoc_free(pair);
	yoc_free(tri);
	return rc;
}

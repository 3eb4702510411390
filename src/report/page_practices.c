/*
** The table of practices (in the overview) and the practice data packs:
** one page per practice, built from the pack-section registry (report.c).
*/
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "report/svg.h"
#include "yoc/io.h"

static int prac_cmp(const void *x, const void *y)
{
	const struct prac *a = x, *b = y;
	if (a->unknown != b->unknown)
		return a->unknown - b->unknown; /* practice unknown last */
	return strcmp(a->code, b->code);
}

void yoc__safe_name(const char *code, char *out, size_t n)
{
	size_t j = 0;
	for (const char *p = code; *p && j < n - 1; p++)
		out[j++] = ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			    (*p >= '0' && *p <= '9') || *p == '-') ? *p : '_';
	out[j] = 0;
	if (!j)
		snprintf(out, n, "_");
}

/*
** The practice packs' count tables, published together: age by sex with
** margins, currency bands and LTC counts, each with its total, one row of
** ncell cells per practice. Each goes through the disclosure engine with
** the practice's total hidden when the table of practices hides its count
** (else the pack would give away what that table's secondary suppression
** protects). The packs are also slices of practice x cell tables whose sums
** over practices the index publishes (population, currency bands, LTC
** counts): where a cell is hidden in one pack only beside a published index
** cell, it would be their difference, so the cheapest other pack's cell is
** hidden too, and that pack is protected again around it, until no such
** cell is left (link_packs).
*/
struct ltab {
	int nr, nc;              /* each practice's table: nr x nc with margins */
	int ncell;
	int64_t *v, *pub;        /* np x ncell */
	unsigned char *st;
	const int64_t *margin;   /* the index's published cells (sums over practices) */
};

static int ltab_init(struct ltab *t, size_t np, int nr, int nc, const int64_t *margin)
{
	memset(t, 0, sizeof *t);
	t->nr = nr;
	t->nc = nc;
	t->ncell = nr * nc;
	t->margin = margin;
	t->v = yoc_calloc(np * (size_t)t->ncell + 1, sizeof *t->v);
	t->pub = yoc_calloc(np * (size_t)t->ncell + 1, sizeof *t->pub);
	t->st = yoc_calloc(np * (size_t)t->ncell + 1, 1);
	return t->v && t->pub && t->st ? 0 : YOC_ENOMEM;
}

static void ltab_free(struct ltab *t)
{
	yoc_free(t->v);
	yoc_free(t->pub);
	yoc_free(t->st);
}

/* Protects practice p's table, keeping hidden every cell hide[] names. */
static int ltab_protect(struct ctx *c, struct ltab *t, size_t p, const unsigned char *hide)
{
	size_t o = p * (size_t)t->ncell;
	int rc = yoc_sdc_protect_hide(&c->o->sdc, t->nr, t->nc, 1, t->nc > 1, t->v + o, hide,
				      t->st + o, t->pub + o);
	if (rc)
		yoc_error_set(c->e, rc, NULL, 0, 0, "disclosure control failed (%s)",
			      yoc_status_str(rc));
	return rc;
}

/*
** One pass over the cells: where the packs and the index hide exactly one
** of cell x's terms (sum over practices = the index's cell), hide the
** cheapest other (non-zero before zero, smallest first) and protect that
** pack again with all its hidden cells kept hidden. Returns the number of
** cells hidden, or a negative status.
*/
static int link_packs(struct ctx *c, struct ltab *t, size_t np)
{
	int added = 0;
	unsigned char hide[(NAGE + 1) * 4 + MAXBAND + NLTC + 2];
	for (int x = 0; x < t->ncell; x++) {
		int nh = t->margin[x] == YOC_SDC_HIDDEN;
		size_t best = SIZE_MAX;
		for (size_t p = 0; p < np; p++) {
			size_t k = p * (size_t)t->ncell + (size_t)x;
			if (t->st[k]) {
				nh++;
				continue;
			}
			if (best == SIZE_MAX || (t->v[k] != 0 && t->v[best] == 0) ||
			    ((t->v[k] != 0) == (t->v[best] != 0) && t->v[k] < t->v[best]))
				best = k;
		}
		if (nh != 1 || best == SIZE_MAX)
			continue;
		size_t p = best / (size_t)t->ncell, o = p * (size_t)t->ncell;
		for (int k = 0; k < t->ncell; k++)
			hide[k] = t->st[o + (size_t)k] != 0;
		hide[x] = 1;
		int rc = ltab_protect(c, t, p, hide);
		if (rc)
			return rc;
		added++;
	}
	return added;
}

/* Fills and protects the three pack tables of every practice (pst[i]: the
 * practice's state in the table of practices). */
static int protect_packs(struct ctx *c, struct report *R, const unsigned char *pst,
			 struct ltab *lt)
{
	struct acc *a = &R->a;
	size_t np = a->nprac;
	int nb = a->nband, rc;
	if ((rc = ltab_init(&lt[0], np, NAGE + 1, 4, R->pop_pub)) ||
	    (rc = ltab_init(&lt[1], np, nb + 1, 1, R->band_pub)) ||
	    (rc = ltab_init(&lt[2], np, NLTC + 1, 1, R->ltc_pub)))
		return yoc_error_set(c->e, rc, NULL, 0, 0, "out of memory");
	unsigned char hide[(NAGE + 1) * 4];
	for (size_t i = 0; i < np; i++) {
		const struct prac *p = &a->prac[i];
		int64_t *v = lt[0].v + i * (size_t)lt[0].ncell;
		for (int r = 0; r < NAGE; r++)
			for (int k = 0; k < 3; k++) {
				v[r * 4 + k] = p->pop[r][k];
				v[r * 4 + 3] += p->pop[r][k];
				v[NAGE * 4 + k] += p->pop[r][k];
				v[NAGE * 4 + 3] += p->pop[r][k];
			}
		for (int part = 1; part <= 2; part++) {
			int n = part == 1 ? nb : NLTC;
			v = lt[part].v + i * (size_t)lt[part].ncell;
			for (int r = 0; r < n; r++) {
				v[r] = part == 1 ? p->band[r] : p->ltc[r];
				v[n] += v[r];
			}
		}
		for (int part = 0; part < 3; part++) {
			memset(hide, 0, sizeof hide);
			hide[lt[part].ncell - 1] = pst[i] != YOC_SDC_SHOWN; /* the practice's total */
			if ((rc = ltab_protect(c, &lt[part], i, hide)))
				return rc;
		}
	}
	for (int added = 1; added > 0;) {
		added = 0;
		for (int part = 0; part < 3; part++) {
			int k = link_packs(c, &lt[part], np);
			if (k < 0)
				return k;
			added += k;
		}
	}
	return 0;
}

struct pack_tabs {
	struct ltab lt[3];       /* age x sex, currency bands, LTC counts */
};

void yoc__packs_free(struct report *R)
{
	if (!R->packs)
		return;
	for (int k = 0; k < 3; k++)
		ltab_free(&R->packs->lt[k]);
	yoc_free(R->packs);
	R->packs = NULL;
}

/* The published count of a practice (pstate: its state in the table of
 * practices) or, for p NULL, of the whole population: means are published
 * sums over them (docs/disclosure.md). */
static int64_t pack_npub(const struct yoc_sdc *s, const struct grp *g, int pstate)
{
	return pstate ? YOC_SDC_HIDDEN : yoc_sdc_one(s, g->n);
}

/* A pack table's id: practices/CODE_what. */
static const char *pack_id(struct ctx *c, const struct prac *p, const char *what)
{
	char name[64], id[128];
	yoc__safe_name(p->code, name, sizeof name);
	snprintf(id, sizeof id, "practices/%s_%s", name, what);
	return yoc__pt_str(c, id);
}

int yoc__pack_key_figures(struct ctx *c, sqlite3 *db, struct report *R,
			  const struct prac *p, struct yoc_buf *b)
{
	struct acc *a = &R->a;
	const struct yoc_sdc *s = &c->o->sdc;
	(void)db;
	static const char *const cols[] = {"Measure", "Practice", "Whole population"};
	int kinds[3] = {K_TEXT, K_NUM, K_NUM};
	struct ptable *t = yoc__pt_new(c, pack_id(c, p, "key_figures"), "Key figures", NULL, 3,
				       cols, kinds);
	const struct grp *g[2] = {&p->all, &a->all};
	int st[2] = {p->state, 0};
	int64_t npub[2] = {pack_npub(s, &p->all, p->state), pack_npub(s, &a->all, 0)};
	for (int m = 0; t && m < 7; m++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			return YOC_ENOMEM;
		static const char *const mn[] = {
			"Registered people", "% aged 65 and over",
			"% with two or more LTCs", "% with a mental health LTC",
			"Emergency admissions per 1,000 people", "Mean annual cost per person (£)",
			"Total annual cost (£)"};
		r[0].s = mn[m];
		for (int k = 0; k < 2; k++) {
			const struct grp *x = g[k];
			int ok = yoc_sdc_stat_ok(s, x->n, st[k]);
			struct pcell *v = &r[1 + k];
			/* each measure in its own format: people, %, per 1,000, £ */
			static const unsigned char kind[7] = {K_COUNT, K_PCT, K_PCT, K_PCT, K_NUM,
							      K_PENCE, K_PENCE};
			v->kind = kind[m] + 1;
			switch (m) {
			case 0: yoc__set_count(v, npub[k]); break;
			case 1: yoc__set_pct(v, yoc_sdc_rate(s, x->age65, x->n, st[k], 100, 1), 1); break;
			case 2: yoc__set_pct(v, yoc_sdc_rate(s, x->mm, x->n, st[k], 100, 1), 1); break;
			case 3: yoc__set_pct(v, yoc_sdc_rate(s, x->mental, x->n, st[k], 100, 1), 1); break;
			case 4: yoc__set_pct(v, yoc_sdc_rate(s, x->emerg, x->n, st[k], 1000, 0), 1); break;
			case 5: yoc__set_pence(v, yoc_sdc_mean(s, x->cost, x->n, npub[k]), ok); break;
			default: yoc__set_pence(v, yoc_sdc_money(s, x->cost), ok); break;
			}
		}
	}
	if (!t)
		return YOC_OK;
	yoc__html_table(c, b, t);
	return yoc__write_csv(c, t);
}

/* The pyramid: practice counts through disclosure control (protect_packs),
 * as % of its total; the table as CSV only. */
int yoc__pack_population(struct ctx *c, sqlite3 *db, struct report *R,
			 const struct prac *p, struct yoc_buf *b)
{
	const struct ltab *lt = &R->packs->lt[0];
	size_t pi = (size_t)(p - R->a.prac);
	(void)db;
	const int64_t *pub = lt->pub + pi * (size_t)lt->ncell;
	double L[NAGE], Rr[NAGE], ML[NAGE], MR[NAGE];
	int64_t tot = pub[NAGE * 4 + 3];
	/* the whole population's marks from its published counts too */
	const int64_t *ip = R->pop_pub;
	for (int i = 0; i < NAGE; i++) {
		L[i] = yoc__pub_pct(pub[i * 4], tot);
		Rr[i] = yoc__pub_pct(pub[i * 4 + 1], tot);
		ML[i] = yoc__pub_pct(ip[i * 4], ip[NAGE * 4 + 3]);
		MR[i] = yoc__pub_pct(ip[i * 4 + 1], ip[NAGE * 4 + 3]);
	}
	yoc_buf_puts(b, "<h2>Population</h2>");
	yoc__svg_pyramid(b, "Age and sex (% of the practice's people)", NAGE, yoc__age_name,
			 L, Rr, "Female", "Male", ML, MR,
			 "whole population (% of all people)", 1);
	static const char *const pc[] = {"Age band", "Female", "Male", "Other or unknown",
					 "Total"};
	struct ptable *tp = yoc__pt_new(c, pack_id(c, p, "population"),
					"People by age band and sex", NULL, 5, pc,
					yoc__kinds_count);
	for (int i = 0; tp && i <= NAGE; i++) {
		struct pcell *r = yoc__pt_row(c, tp);
		if (!r)
			return YOC_ENOMEM;
		r[0].s = i < NAGE ? yoc__age_name[i] : "Total";
		for (int k = 0; k < 4; k++)
			yoc__set_count(&r[1 + k], pub[i * 4 + k]);
	}
	return tp ? yoc__write_csv(c, tp) : YOC_OK;
}

/* Currency bands (part 0) or LTC counts (part 1): practice vs population. */
static int pack_dist(struct ctx *c, struct report *R, const struct prac *p,
		     struct yoc_buf *b, int part)
{
	struct acc *a = &R->a;
	size_t pi = (size_t)(p - a->prac);
	const struct ltab *lt = &R->packs->lt[1 + part];
	int n = part ? NLTC : a->nband;
	const int64_t *pub = lt->pub + pi * (size_t)lt->ncell;
	static const char *const bc[] = {"Band", "Practice people", "Practice %",
					 "Whole population %"};
	static const char *const lc[] = {"LTCs", "Practice people", "Practice %",
					 "Whole population %"};
	int bk[4] = {K_TEXT, K_COUNT, K_PCT, K_PCT};
	struct ptable *tb = yoc__pt_new(c, pack_id(c, p, part ? "ltc_count" : "bands"),
					part ? "People by number of long-term conditions"
					     : "People by currency band", NULL, 4,
					part ? lc : bc, bk);
	for (int i = 0; tb && i <= n; i++) {
		struct pcell *r = yoc__pt_row(c, tb);
		if (!r)
			return YOC_ENOMEM;
		r[0].s = i < n ? (part ? yoc__ltc_name[i] : a->band[i]) : "Total";
		yoc__set_count(&r[1], pub[i]);
		double x = yoc__pub_pct(pub[i], pub[n]);
		yoc__set_pct(&r[2], round(x * 10) / 10, 1);
		/* of the index's published counts, as its % of people */
		const int64_t *ip = part ? R->ltc_pub : R->band_pub;
		double y = yoc__pub_pct(ip[i], ip[n]);
		yoc__set_pct(&r[3], round(y * 10) / 10, 1);
	}
	if (!tb)
		return YOC_OK;
	yoc_buf_puts(b, part ? "<h2>Multimorbidity</h2>" : "<h2>Currency bands</h2>");
	yoc__html_table(c, b, tb);
	return yoc__write_csv(c, tb);
}

int yoc__pack_bands(struct ctx *c, sqlite3 *db, struct report *R, const struct prac *p,
		    struct yoc_buf *b)
{
	(void)db;
	return pack_dist(c, R, p, b, 0);
}

int yoc__pack_ltc(struct ctx *c, sqlite3 *db, struct report *R, const struct prac *p,
		  struct yoc_buf *b)
{
	(void)db;
	return pack_dist(c, R, p, b, 1);
}

/* Cost per person by setting: practice vs population. */
int yoc__pack_cost(struct ctx *c, sqlite3 *db, struct report *R, const struct prac *p,
		   struct yoc_buf *b)
{
	struct acc *a = &R->a;
	const struct yoc_sdc *s = &c->o->sdc;
	(void)db;
	int64_t npub[2] = {pack_npub(s, &p->all, p->state), pack_npub(s, &a->all, 0)};
	static const char *const cc[] = {"Setting", "Practice", "Whole population"};
	int ck[3] = {K_TEXT, K_PENCE, K_PENCE};
	struct ptable *tc = yoc__pt_new(c, pack_id(c, p, "cost_by_setting"),
					"Mean annual cost per person by setting", NULL, 3, cc, ck);
	int ok = yoc_sdc_stat_ok(s, p->all.n, p->state);
	int oka = yoc_sdc_stat_ok(s, a->all.n, 0);
	double v2[2 * NSET];
	for (int k = 0; tc && k <= NSET; k++) {
		struct pcell *r = yoc__pt_row(c, tc);
		if (!r)
			return YOC_ENOMEM;
		int64_t pc_ = k < NSET ? p->all.set[k] : p->all.cost;
		int64_t ac = k < NSET ? a->all.set[k] : a->all.cost;
		r[0].s = k < NSET ? yoc__set_name[k] : "Total";
		int64_t pm = yoc_sdc_mean(s, pc_, p->all.n, npub[0]);
		int64_t am = yoc_sdc_mean(s, ac, a->all.n, npub[1]);
		yoc__set_pence(&r[1], pm, ok);
		yoc__set_pence(&r[2], am, oka);
		if (k < NSET) {
			v2[k] = ok ? (double)pm / 100 : NAN;
			v2[NSET + k] = oka ? (double)am / 100 : NAN;
		}
	}
	if (!tc)
		return YOC_OK;
	const char *cats[2] = {p->code, "Whole population"};
	yoc_buf_puts(b, "<h2>Care usage and cost</h2>");
	yoc__svg_stacked(b, "Mean annual cost per person, by setting", 2, cats, NSET,
			 yoc__set_name, v2, 1);
	yoc__html_table(c, b, tc);
	return yoc__write_csv(c, tc);
}

/* One practice's data pack: the shared frame around every pack section. */
static int practice_page(struct ctx *c, sqlite3 *db, struct report *R, const struct prac *p,
			 const struct yoc__pack_section *sec, int nsec)
{
	char name[64], title[128], meta[256], path[4096];
	int rc = 0;
	yoc__safe_name(p->code, name, sizeof name);
	struct yoc_buf b;
	yoc_buf_init(&b, 0);
	snprintf(title, sizeof title, "Practice data pack: %s", p->code);
	c->in_pack = 1; /* links one folder down; the pack's own navigation */
	snprintf(meta, sizeof meta, "Financial year %s. Compared with the whole population "
		 "of the dataset.", R->fyear);
	if (yoc__page_start(c, &b, title, meta) || yoc__pack_nav(c, &b))
		c->oom = 1;
	for (int k = 0; k < nsec && !rc; k++)
		rc = sec[k].build(c, db, R, p, &b);
	if (rc)
		goto cleanup;
	yoc__page_end(c, &b);
	if (!b.data) {
		rc = YOC_ENOMEM;
		goto cleanup;
	}
	snprintf(path, sizeof path, "%s/practices/%s.html", c->o->out, name);
	rc = yoc__write_buf(c, path, &b);
cleanup:
	yoc_buf_free(&b);
	return rc;
}

int yoc__packs_write(struct ctx *c, sqlite3 *db, struct report *R,
		     const struct yoc__pack_section *sec, int nsec)
{
	if (!R->packs)
		return YOC_OK; /* no table of practices, no packs */
	for (size_t i = 0; i < R->a.nprac; i++) {
		if (R->a.prac[i].unknown)
			continue;
		int rc = practice_page(c, db, R, &R->a.prac[i], sec, nsec);
		if (rc)
			return rc;
	}
	return YOC_OK;
}

/* The data-quality note under the table of practices: who is in "practice
 * unknown" and why (n: the group's published count). */
static void unknown_note(struct yoc_buf *b, const struct report *R, int64_t n)
{
	char nb[32];
	yoc_buf_printf(b, "<p class=\"dq\">Data quality: %s people registered in %s are counted "
		       "under <i>%s</i>: the practice code of their GP registration failed "
		       "validation (an ODS practice code is a letter and five digits, not all "
		       "zero), so it names no organisation. They are in every whole-population "
		       "figure above but in no practice's, and have no data pack. The "
		       "data-quality report (yoc quality) lists the codes and who sent them.</p>",
		       yoc_sdc_fmt(n, 1, nb), R->fyear, yoc__unknown_label);
}

int yoc__practices_section(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b)
{
	struct acc *a = &R->a;
	const struct yoc_sdc *s = &c->o->sdc;
	size_t np = a->nprac;
	qsort(a->prac, np, sizeof *a->prac, prac_cmp);
	int64_t *v = yoc_calloc(np + 1, sizeof *v), *pub = yoc_calloc(np + 1, sizeof *pub);
	unsigned char *st = yoc_calloc(np + 1, 1);
	int rc = 0;
	(void)db;
	yoc__packs_free(R);
	R->packs = yoc_calloc(1, sizeof *R->packs);
	if (!v || !pub || !st || !R->packs) {
		rc = YOC_ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < np; i++) {
		v[i] = a->prac[i].all.n;
		v[np] += v[i];
	}
	/* a column of any length: yoc_sdc_protect needs no linear algebra here */
	if ((rc = yoc__protect(c, (int)np + 1, 1, 1, 0, v, st, pub)) ||
	    (rc = protect_packs(c, R, st, R->packs->lt)))
		goto cleanup;
	for (size_t i = 0; i < np; i++)
		a->prac[i].state = st[i];
	int64_t unknown_pub = 0;
	static const char *const cols[] = {"Practice", "People", "% aged 65+",
					   "% with 2+ LTCs", "% with a mental health LTC",
					   "Emergency admissions per 1,000", "Mean annual cost"};
	int kinds[7] = {K_TEXT, K_COUNT, K_PCT, K_PCT, K_PCT, K_PCT, K_PENCE};
	struct ptable *t = yoc__pt_new(c, "practices", "Practices compared", NULL, 7, cols, kinds);
	yoc_buf_puts(b, "<section id=\"practices\"><h2>Practice data packs</h2><p>One page per "
			"practice comparing its population and care usage with the whole "
			"population:</p><ul class=\"cols\">");
	for (size_t i = 0; t && i <= np; i++) {
		const struct grp *g = i < np ? &a->prac[i].all : &a->all;
		struct pcell *r = yoc__pt_row(c, t);
		if (!r) {
			rc = YOC_ENOMEM;
			goto cleanup;
		}
		int ok = yoc_sdc_stat_ok(s, g->n, st[i]);
		int unknown = i < np && a->prac[i].unknown;
		r[0].s = i < np ? (unknown ? yoc__unknown_label : a->prac[i].code) : "Total";
		yoc__set_count(&r[1], pub[i]);
		yoc__set_pct(&r[2], yoc_sdc_rate(s, g->age65, g->n, st[i], 100, 1), 1);
		yoc__set_pct(&r[3], yoc_sdc_rate(s, g->mm, g->n, st[i], 100, 1), 1);
		yoc__set_pct(&r[4], yoc_sdc_rate(s, g->mental, g->n, st[i], 100, 1), 1);
		double e = yoc_sdc_rate(s, g->emerg, g->n, st[i], 1000, 0);
		yoc__set_pct(&r[5], e, 1);
		t->kinds[5] = K_NUM;
		r[5].d = isnan(e) ? 0 : e;
		r[5].hidden = isnan(e);
		yoc__set_pence(&r[6], yoc_sdc_mean(s, g->cost, g->n, pub[i]), ok);
		if (unknown) {
			unknown_pub = pub[i];
		} else if (i < np) {
			char nm[64];
			yoc__safe_name(a->prac[i].code, nm, sizeof nm);
			yoc_buf_printf(b, "<li><a href=\"practices/%s.html\">", nm);
			yoc__html_esc(b, a->prac[i].code);
			yoc_buf_puts(b, "</a></li>");
		}
	}
	yoc_buf_puts(b, "</ul>");
	yoc__add_table(c, t);
	yoc__html_table(c, b, t);
	if (unknown_pub != 0)
		unknown_note(b, R, unknown_pub);
	yoc_buf_puts(b, "</section>\n");
cleanup:
	yoc_free(v);
	yoc_free(pub);
	yoc_free(st);
	return rc;
}


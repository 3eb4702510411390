/*
** Fair practice comparison (practices.html): indirectly age-sex
** standardised ratios, observed / expected, for each practice's cost,
** emergency admissions and people with two or more LTCs, with 95%
** confidence intervals and funnel plots (95% and 99.8% limits), grouped by
** primary care network when a mapping is given, and the same ratios in
** every practice pack. Expected = sum over the 19 x 3 age-sex cells of the
** practice's people x the whole population's rate in the cell.
** Counts (admissions, people) are Poisson: exact (Garwood) intervals and
** Spiegelhalter's exact funnel limits (src/stats/stats_poisson.c). Cost is
** not a count: its variance is taken as phi x expected, phi the whole
** population's variance-to-mean ratio of cost per person over the cells
** (a quasi-Poisson scale), with normal limits 1 +/- z sqrt(phi / E).
** Observed values are the published ones (a count through yoc_sdc_one, a
** sum of money through yoc_sdc_money), so a ratio tells no more than they
** do; a practice hidden in the table of practices has no ratios.
*/
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "report/svg.h"
#include "stats/stats.h"
#include "yoc/io.h"

static const char *const m_name[NMEAS] = {
	"Cost", "Emergency admissions", "People with two or more LTCs"};
static const char *const m_id[NMEAS] = {"cost", "emergency", "multimorbidity"};
static const char *const pos_name[5] = {
	"Below 99.8% limit", "Below 95% limit", "Within limits", "Above 95% limit",
	"Above 99.8% limit"};

#define Z95 1.959963984540054
#define Z998 3.090232306167813

/* The age-sex cell rates of the whole population (cost in pounds) and phi. */
static void cell_rates(const struct acc *A, double rate[NMEAS][NAGE][3], double *phi)
{
	double vsum = 0, msum = 0;
	memset(rate, 0, sizeof(double) * NMEAS * NAGE * 3);
	for (int a = 0; a < NAGE; a++)
		for (int s = 0; s < 3; s++) {
			double n = (double)A->pop[a][s];
			if (n <= 0)
				continue;
			double cost = (double)A->as_cost[a][s] / 100;
			double sq = (double)A->as_sq[a][s] / 1e4;
			rate[0][a][s] = cost / n;
			rate[1][a][s] = (double)A->as_emerg[a][s] / n;
			rate[2][a][s] = (double)A->as_mm[a][s] / n;
			double var = sq / n - rate[0][a][s] * rate[0][a][s];
			vsum += n * (var > 0 ? var : 0);
			msum += cost;
		}
	*phi = msum > 0 ? vsum / msum : 0;
}

/* The position of ratio r on the funnel of measure m at expected E. */
static int position(int m, double r, double E, double phi)
{
	double lim[4];
	static const double p[4] = {0.001, 0.025, 0.975, 0.999};
	for (int k = 0; k < 4; k++) {
		if (m == 0) {
			double z = k == 0 || k == 3 ? Z998 : Z95;
			lim[k] = 1 + (k < 2 ? -z : z) * sqrt(phi / E);
		} else {
			lim[k] = yoc_funnel_limit(E, p[k]);
		}
	}
	return r < lim[0] ? 0 : r < lim[1] ? 1 : r > lim[3] ? 4 : r > lim[2] ? 3 : 2;
}

/* A unit's ratio from its published observed value O (pounds or a count). */
static void ratio_of(struct cmp_ratio *x, int m, double O, double E, double phi)
{
	x->obs = O;
	x->exp = E;
	x->ok = E > 0;
	if (!x->ok)
		return;
	x->ratio = O / E;
	if (m == 0) {
		double h = Z95 * sqrt(phi * E) / E;
		x->lo = x->ratio - h > 0 ? x->ratio - h : 0;
		x->hi = x->ratio + h;
	} else {
		double lo, hi;
		yoc_poisson_ci(O, 0.95, &lo, &hi);
		x->lo = lo / E;
		x->hi = hi / E;
	}
	x->pos = position(m, x->ratio, E, phi);
}

/* ---- the PCN mapping ------------------------------------------------------ */

/*
** Reads "practice_code,pcn_code,pcn_name" lines (a header line first; no
** quoting: codes and names hold no commas) and sets each practice's PCN.
** Returns the number of practices mapped, or a negative status.
*/
static int read_pcn(struct ctx *c, struct report *R, struct compare *C)
{
	char *text = NULL;
	size_t n = 0;
	int rc = yoc_read_file(c->o->pcn, 1 << 22, &text, &n, c->e);
	if (rc)
		return rc;
	int mapped = 0, line = 0;
	for (char *p = text; p && *p;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		size_t len = strlen(p);
		if (len && p[len - 1] == '\r')
			p[len - 1] = 0;
		char *c1 = strchr(p, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
		if (line++ > 0 && c1) {
			*c1 = 0;
			if (c2)
				*c2 = 0;
			for (size_t i = 0; i < R->a.nprac; i++) {
				if (R->a.prac[i].unknown || strcmp(R->a.prac[i].code, p) != 0)
					continue;
				struct cmp_unit *u = &C->prac[i];
				snprintf(u->pcn, sizeof u->pcn, "%s", c1 + 1);
				snprintf(u->pcn_name, sizeof u->pcn_name, "%s", c2 ? c2 + 1 : "");
				mapped++;
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	yoc_free(text);
	return mapped;
}

static int unit_cmp_pcn(const void *x, const void *y)
{
	const struct cmp_unit *a = x, *b = y;
	return strcmp(a->pcn, b->pcn);
}

/* PCN totals: sums of the members' published values, hidden when any
 * member's is (else a PCN total less its shown members would give a
 * hidden practice's figure back). */
static int pcn_totals(struct compare *C, double rate[NMEAS][NAGE][3], const struct report *R)
{
	(void)rate;
	for (size_t i = 0; i < C->np; i++) {
		const struct cmp_unit *u = &C->prac[i];
		if (!u->pcn[0])
			continue;
		size_t k = 0;
		while (k < C->npcn && strcmp(C->pcn[k].pcn, u->pcn) != 0)
			k++;
		if (k == C->npcn) {
			struct cmp_unit *g = &C->pcn[C->npcn++];
			memset(g, 0, sizeof *g);
			snprintf(g->pcn, sizeof g->pcn, "%s", u->pcn);
			snprintf(g->pcn_name, sizeof g->pcn_name, "%s", u->pcn_name);
			g->people = 0;
		}
		struct cmp_unit *g = &C->pcn[k];
		g->members++;
		g->hidden |= u->hidden;
		if (!g->hidden)
			g->people += u->people;
		for (int m = 0; m < NMEAS; m++) {
			g->r[m].obs += u->r[m].obs;
			g->r[m].exp += u->r[m].exp;
			g->r[m].ok = g->r[m].ok || u->r[m].ok;
			g->missing[m] |= !u->r[m].ok;
		}
	}
	for (size_t k = 0; k < C->npcn; k++) {
		struct cmp_unit *g = &C->pcn[k];
		for (int m = 0; m < NMEAS; m++) {
			double O = g->r[m].obs, E = g->r[m].exp;
			memset(&g->r[m], 0, sizeof g->r[m]);
			if (!g->hidden && !g->missing[m])
				ratio_of(&g->r[m], m, O, E, C->phi);
		}
	}
	qsort(C->pcn, C->npcn, sizeof *C->pcn, unit_cmp_pcn);
	(void)R;
	return 0;
}

void yoc__compare_free(struct report *R)
{
	if (!R->cmp)
		return;
	yoc_free(R->cmp->prac);
	yoc_free(R->cmp->pcn);
	yoc_free(R->cmp);
	R->cmp = NULL;
}

/* Computes R->cmp: every practice's ratios (practices in the table of
 * practices' order, which the overview has sorted). */
static int compute(struct ctx *c, sqlite3 *db, struct report *R)
{
	const struct yoc_sdc *s = &c->o->sdc;
	static double rate[NMEAS][NAGE][3];
	struct compare *C = yoc_calloc(1, sizeof *C);
	if (!C)
		return yoc_error_set(c->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	R->cmp = C;
	C->np = R->a.nprac;
	C->prac = yoc_calloc(C->np + 1, sizeof *C->prac);
	C->pcn = yoc_calloc(C->np + 1, sizeof *C->pcn);
	if (!C->prac || !C->pcn)
		return yoc_error_set(c->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	int rc = 0;
	cell_rates(&R->a, rate, &C->phi);
	for (size_t i = 0; i < C->np; i++) {
		const struct prac *p = &R->a.prac[i];
		struct cmp_unit *u = &C->prac[i];
		u->hidden = p->unknown || p->state != YOC_SDC_SHOWN;
		u->people = u->hidden ? YOC_SDC_HIDDEN : yoc_sdc_one(s, p->all.n);
		if (u->hidden)
			continue;
		double E[NMEAS], n[NAGE * 3];
		for (int a = 0; a < NAGE; a++)
			for (int x = 0; x < 3; x++)
				n[a * 3 + x] = (double)p->pop[a][x];
		for (int m = 0; m < NMEAS; m++)
			E[m] = yoc_indirect_expected(NAGE * 3, n, &rate[m][0][0]);
		int64_t O[NMEAS] = {yoc_sdc_money(s, p->all.cost), yoc_sdc_one(s, p->all.emerg),
				    yoc_sdc_one(s, p->all.mm)};
		for (int m = 0; m < NMEAS; m++) {
			if (O[m] == YOC_SDC_HIDDEN || (m == 0 && !yoc_sdc_stat_ok(s, p->all.n, 0)))
				continue;
			ratio_of(&u->r[m], m, m == 0 ? (double)O[m] / 100 : (double)O[m], E[m],
				 C->phi);
		}
	}
	if (c->o->pcn) {
		rc = read_pcn(c, R, C);
		if (rc < 0)
			return rc;
		C->mapped = rc;
		pcn_totals(C, rate, R);
	}
	return 0;
}

/* ---- the funnel plot ------------------------------------------------------- */

static double fx(double E, double emax, double L, double pw)
{
	return L + E / emax * pw;
}

static double fy(double r, double ylo, double yhi, double T, double ph)
{
	return T + ph - (r - ylo) / (yhi - ylo) * ph;
}

/* 1 if practice i is among the three highest or three lowest ratios of
 * measure m outside the 95% limits: named on the plot (the rest by their
 * tooltip and the table), so labels do not pile up. */
static int named(const struct compare *C, int m, size_t i)
{
	const struct cmp_ratio *x = &C->prac[i].r[m];
	int above = 0;
	for (size_t j = 0; j < C->np; j++) {
		const struct cmp_ratio *y = &C->prac[j].r[m];
		if (j == i || !y->ok || y->pos == 2 || (y->pos > 2) != (x->pos > 2))
			continue;
		/* more extreme on the same side */
		above += x->pos > 2 ? y->ratio > x->ratio : y->ratio < x->ratio;
	}
	return above < 3;
}

/* The funnel of measure m: every shown practice at (E, O/E), the 95% and
 * 99.8% limits around 1, practices outside the limits coloured and named. */
static int funnel_svg(struct yoc_buf *b, const struct compare *C, const struct report *R,
		      int m)
{
	const double W = 720, H = 380, L = 64, T = 34, pw = W - L - 150, ph = H - T - 46;
	double emax = 0, ylo = 0.5, yhi = 1.5;
	for (size_t i = 0; i < C->np; i++) {
		const struct cmp_ratio *x = &C->prac[i].r[m];
		if (!x->ok)
			continue;
		emax = x->exp > emax ? x->exp : emax;
		ylo = x->ratio < ylo ? x->ratio : ylo;
		yhi = x->ratio > yhi ? x->ratio : yhi;
	}
	if (emax <= 0)
		return yoc_buf_puts(b, "<p class=\"note\">No practice can be shown.</p>");
	emax *= 1.08;
	ylo = floor(ylo * 10 - 0.5) / 10;
	yhi = ceil(yhi * 10 + 0.5) / 10;
	if (ylo < 0)
		ylo = 0;
	int rc = yoc_buf_printf(b, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" "
				"role=\"img\" xmlns=\"http://www.w3.org/2000/svg\"><title>Funnel plot: "
				"%s</title><text x=\"%.0f\" y=\"20\" class=\"ct\">Funnel plot: %s "
				"(observed / expected)</text>", W, H, m_name[m], L, m_name[m]);
	for (double t = ceil(ylo * 4) / 4; t <= yhi + 1e-9; t += 0.25) {
		double y = fy(t, ylo, yhi, T, ph);
		rc |= yoc_buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
				     "class=\"grid\"/><text x=\"%.1f\" y=\"%.1f\" class=\"ax\" "
				     "text-anchor=\"end\">%.2f</text>", L, L + pw, y, y, L - 6, y + 4, t);
	}
	double y1 = fy(1, ylo, yhi, T, ph);
	rc |= yoc_buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
			     "stroke=\"#333\"/>", L, L + pw, y1, y1);
	/* the limits: 95% dashed, 99.8% solid */
	static const double p[4] = {0.001, 0.025, 0.975, 0.999};
	static const double z[4] = {-Z998, -Z95, Z95, Z998};
	for (int k = 0; k < 4; k++) {
		rc |= yoc_buf_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"%s "
				     "points=\"", k == 0 || k == 3 ? "#c0504d" : "#d4a017",
				     k == 0 || k == 3 ? "" : " stroke-dasharray=\"5 3\"");
		for (int j = 1; j <= 120; j++) {
			double E = emax * j / 120;
			double lim = m == 0 ? 1 + z[k] * sqrt(C->phi / E) : yoc_funnel_limit(E, p[k]);
			if (lim < ylo || lim > yhi)
				continue;
			rc |= yoc_buf_printf(b, "%.1f,%.1f ", fx(E, emax, L, pw),
					     fy(lim, ylo, yhi, T, ph));
		}
		rc |= yoc_buf_puts(b, "\"/>");
	}
	for (size_t i = 0; i < C->np; i++) {
		const struct cmp_ratio *x = &C->prac[i].r[m];
		if (!x->ok)
			continue;
		static const char *const col[5] = {"#1f4e79", "#5b9bd5", "#7f7f7f", "#f79646",
						   "#b00020"};
		double cx = fx(x->exp, emax, L, pw), cy = fy(x->ratio, ylo, yhi, T, ph);
		rc |= yoc_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"%s\">"
				     "<title>", cx, cy, col[x->pos]);
		rc |= yoc__html_esc(b, R->a.prac[i].code);
		rc |= yoc_buf_printf(b, ": %.2f (%s)</title></circle>", x->ratio, pos_name[x->pos]);
		if (x->pos != 2 && named(C, m, i)) {
			rc |= yoc_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"ax\">", cx + 6,
					     cy - 5);
			rc |= yoc__html_esc(b, R->a.prac[i].code);
			rc |= yoc_buf_puts(b, "</text>");
		}
	}
	rc |= yoc_buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
			     "class=\"axis\"/><text x=\"%.1f\" y=\"%.1f\" class=\"ax\" "
			     "text-anchor=\"middle\">Expected %s</text>",
			     L, L + pw, T + ph, T + ph, L + pw / 2, T + ph + 36,
			     m == 0 ? "cost (£)" : m == 1 ? "admissions" : "people");
	char lab[32];
	for (int j = 0; j <= 4; j++) {
		double E = emax * j / 4;
		if (m == 0 && E >= 1e6)
			snprintf(lab, sizeof lab, "£%.1fm", E / 1e6);
		else if (m == 0)
			snprintf(lab, sizeof lab, "£%.0fk", E / 1e3);
		else
			snprintf(lab, sizeof lab, "%.0f", E);
		rc |= yoc_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"ax\" "
				     "text-anchor=\"middle\">%s</text>", fx(E, emax, L, pw),
				     T + ph + 16, lab);
	}
	double lx = L + pw + 14;
	rc |= yoc_buf_printf(b, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\" "
			     "stroke=\"#c0504d\" stroke-width=\"1.5\"/><text x=\"%.0f\" y=\"%.0f\" "
			     "class=\"ax\">99.8%% limits</text><line x1=\"%.0f\" x2=\"%.0f\" "
			     "y1=\"%.0f\" y2=\"%.0f\" stroke=\"#d4a017\" stroke-width=\"1.5\" "
			     "stroke-dasharray=\"5 3\"/><text x=\"%.0f\" y=\"%.0f\" class=\"ax\">95%% "
			     "limits</text></svg>\n", lx, lx + 20, T + 10, T + 10, lx + 26, T + 14,
			     lx, lx + 20, T + 30, T + 30, lx + 26, T + 34);
	return rc ? YOC_ENOMEM : 0;
}

/* ---- tables ------------------------------------------------------------------ */

static void ratio_cells(struct ctx *c, struct pcell *r, int m, const struct cmp_ratio *x)
{
	(void)c;
	if (m == 0) {
		yoc__set_pence(&r[0], (int64_t)llround(x->obs * 100), x->ok);
		yoc__set_pence(&r[1], (int64_t)llround(x->exp) * 100, x->ok); /* whole pounds */
	} else {
		yoc__set_pct(&r[0], x->obs, x->ok);
		yoc__set_pct(&r[1], round(x->exp * 10) / 10, x->ok);
	}
	yoc__set_pct(&r[2], x->ratio, x->ok);
	yoc__set_pct(&r[3], x->lo, x->ok);
	yoc__set_pct(&r[4], x->hi, x->ok);
	r[5].s = x->ok ? pos_name[x->pos] : "*";
}

static const char *const rcols[] = {"Observed", "Expected", "Ratio", "95% CI lower",
				    "95% CI upper", "Funnel position"};

static void ratio_kinds(int m, int *k)
{
	k[0] = m == 0 ? K_PENCE : K_NUM;
	k[1] = m == 0 ? K_PENCE : K_NUM;
	k[2] = k[3] = k[4] = K_RATIO;
	k[5] = K_TEXT;
}

static int measure_table(struct ctx *c, struct report *R, struct yoc_buf *b, int m)
{
	const struct compare *C = R->cmp;
	const char *cols[9] = {"Practice", "PCN", "People"};
	int kinds[9] = {K_TEXT, K_TEXT, K_COUNT};
	int off = C->mapped ? 3 : 2;
	if (!C->mapped)
		cols[1] = "People", kinds[1] = K_COUNT;
	for (int k = 0; k < 6; k++)
		cols[off + k] = rcols[k];
	ratio_kinds(m, kinds + off);
	char id[64], title[160];
	snprintf(id, sizeof id, "compare_%s", m_id[m]);
	snprintf(title, sizeof title, "%s: observed and expected from the whole population's "
		 "age-sex rates", m_name[m]);
	struct ptable *t = yoc__pt_new(c, yoc__pt_str(c, id), yoc__pt_str(c, title),
				       m == 0 ? "Cost: 95% interval from a normal approximation "
						"with the population's variance-to-mean ratio."
					      : "Exact Poisson 95% interval of the observed count.",
				       off + 6, cols, kinds);
	for (size_t i = 0; t && i < C->np; i++) {
		const struct prac *p = &R->a.prac[i];
		if (p->unknown)
			continue;
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			return YOC_ENOMEM;
		r[0].s = p->code;
		if (C->mapped)
			r[1].s = C->prac[i].pcn[0] ? yoc__pt_str(c, C->prac[i].pcn) : "";
		yoc__set_count(&r[off - 1], C->prac[i].people);
		ratio_cells(c, r + off, m, &C->prac[i].r[m]);
	}
	if (!t)
		return YOC_ENOMEM;
	yoc__add_table(c, t);
	return yoc__html_table(c, b, t);
}

static int pcn_table(struct ctx *c, struct report *R, struct yoc_buf *b)
{
	const struct compare *C = R->cmp;
	static const char *const cols[] = {
		"PCN", "Name", "Practices", "People", "Cost ratio", "Cost lower 95%",
		"Cost upper 95%", "Emergency admissions ratio", "Emergency lower 95%",
		"Emergency upper 95%", "2+ LTCs ratio", "2+ LTCs lower 95%", "2+ LTCs upper 95%"};
	int kinds[13] = {K_TEXT, K_TEXT, K_NUM, K_COUNT, K_RATIO, K_RATIO, K_RATIO, K_RATIO,
			 K_RATIO, K_RATIO, K_RATIO, K_RATIO, K_RATIO};
	struct ptable *t = yoc__pt_new(c, "compare_pcn", "Primary care networks: standardised "
				       "ratios with 95% confidence intervals",
				       "A network's figures are hidden when any of its practices' "
				       "are.", 13, cols, kinds);
	for (size_t k = 0; t && k < C->npcn; k++) {
		const struct cmp_unit *g = &C->pcn[k];
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			return YOC_ENOMEM;
		r[0].s = yoc__pt_str(c, g->pcn);
		r[1].s = yoc__pt_str(c, g->pcn_name);
		r[2].d = g->members;
		yoc__set_count(&r[3], g->hidden ? YOC_SDC_HIDDEN : g->people);
		for (int m = 0; m < NMEAS; m++) {
			const struct cmp_ratio *x = &g->r[m];
			yoc__set_pct(&r[4 + 3 * m], x->ratio, x->ok);
			yoc__set_pct(&r[5 + 3 * m], x->lo, x->ok);
			yoc__set_pct(&r[6 + 3 * m], x->hi, x->ok);
		}
	}
	if (!t)
		return YOC_ENOMEM;
	yoc__add_table(c, t);
	yoc_buf_puts(b, "<section id=\"pcn\"><h2>Primary care networks</h2>");
	int rc = yoc__html_table(c, b, t);
	yoc_buf_printf(b, "<p class=\"note\">Practices are grouped by the mapping in %s "
		       "(%d practices mapped). Replace it with your own: yoc report --pcn FILE "
		       "(practice_code,pcn_code,pcn_name).</p></section>\n", "the PCN file",
		       C->mapped);
	return rc;
}

/*
** One long table of every practice's figures, a row per practice and
** measure, for a pivot table: practice, PCN, measure, value, unit.
*/
static int long_table(struct ctx *c, struct report *R)
{
	const struct compare *C = R->cmp;
	const struct yoc_sdc *s = &c->o->sdc;
	static const char *const cols[] = {"Practice", "PCN", "Measure", "Value", "Unit"};
	int kinds[5] = {K_TEXT, K_TEXT, K_TEXT, K_NUM, K_TEXT};
	struct ptable *t = yoc__pt_new(c, "practice_long", "Every practice figure, one row each "
				       "(for pivot tables)", NULL, 5, cols, kinds);
	for (size_t i = 0; t && i < C->np; i++) {
		const struct prac *p = &R->a.prac[i];
		if (p->unknown)
			continue;
		const struct cmp_unit *u = &C->prac[i];
		int ok = yoc_sdc_stat_ok(s, p->all.n, p->state);
		for (int k = 0; k < 5 + NSET + NMEAS; k++) {
			struct pcell *r = yoc__pt_row(c, t);
			if (!r)
				return YOC_ENOMEM;
			r[0].s = p->code;
			r[1].s = u->pcn[0] ? yoc__pt_str(c, u->pcn) : "";
			char mname[96];
			const char *unit = "£";
			struct pcell *v = &r[3];
			int kind = K_NUM;
			if (k == 0) {
				snprintf(mname, sizeof mname, "People");
				kind = K_COUNT;
				yoc__set_count(v, u->people);
				unit = "people";
			} else if (k == 1) {
				snprintf(mname, sizeof mname, "Total annual cost");
				kind = K_PENCE;
				yoc__set_pence(v, yoc_sdc_money(s, p->all.cost), ok);
			} else if (k == 2) {
				snprintf(mname, sizeof mname, "Emergency admissions per 1,000 people");
				yoc__set_pct(v, yoc_sdc_rate(s, p->all.emerg, p->all.n, p->state, 1000, 0), 1);
				unit = "per 1,000 people";
			} else if (k == 3) {
				snprintf(mname, sizeof mname, "People with two or more LTCs");
				kind = K_PCT;
				yoc__set_pct(v, yoc_sdc_rate(s, p->all.mm, p->all.n, p->state, 100, 1), 1);
				unit = "%";
			} else if (k == 4) {
				snprintf(mname, sizeof mname, "Mean annual cost per person");
				kind = K_PENCE;
				yoc__set_pence(v, yoc_sdc_mean(s, p->all.cost, p->all.n, u->people), ok);
			} else if (k < 5 + NSET) {
				snprintf(mname, sizeof mname, "Mean annual cost per person: %s",
					 yoc__set_name[k - 5]);
				kind = K_PENCE;
				yoc__set_pence(v, yoc_sdc_mean(s, p->all.set[k - 5], p->all.n, u->people),
					       ok);
			} else {
				int m = k - 5 - NSET;
				snprintf(mname, sizeof mname, "Standardised ratio: %s", m_name[m]);
				kind = K_RATIO;
				yoc__set_pct(v, u->r[m].ratio, u->r[m].ok);
				unit = "ratio";
			}
			v->kind = (unsigned char)(kind + 1);
			r[2].s = yoc__pt_str(c, mname);
			r[4].s = unit;
		}
	}
	if (!t)
		return YOC_ENOMEM;
	yoc__add_table(c, t);
	return 0;
}

int yoc__page_compare(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b)
{
	int rc = compute(c, db, R);
	if (rc)
		return rc;
	const struct compare *C = R->cmp;
	yoc_buf_puts(b, "<section id=\"compare\"><h2>Fair comparison of practices</h2>"
			"<p>Each practice's figure is compared with what its own people would "
			"be expected to have if they had the whole population's rates for their "
			"age and sex (indirect age-sex standardisation over 19 age bands and 3 "
			"sex groups). A ratio of 1.00 is as expected; 1.20 is 20% more. The "
			"funnel plots show each practice against its expected value: the "
			"limits narrow as practices get larger, and a practice outside the 99.8% "
			"limits (red) is unlikely to differ by chance alone; outside the 95% "
			"limits (amber), possibly; the three most extreme on each side are named. Ratios use the published (rounded) observed "
			"figures; practices whose counts are hidden are left out.</p></section>\n");
	for (int m = 0; m < NMEAS && !rc; m++) {
		yoc_buf_printf(b, "<section id=\"compare-%s\"><h2>%s</h2>", m_id[m], m_name[m]);
		rc = funnel_svg(b, C, R, m);
		if (!rc)
			rc = measure_table(c, R, b, m);
		yoc_buf_puts(b, "</section>\n");
	}
	if (!rc && C->mapped)
		rc = pcn_table(c, R, b);
	if (!rc)
		rc = long_table(c, R);
	yoc_buf_printf(b, "<p class=\"note\">Cost: the variance of a practice's cost is taken as "
		       "%.0f × its expected cost in pounds (the whole population's variance-to-mean "
		       "ratio over the age-sex cells); limits 1 ± z √(that ratio ÷ expected). "
		       "Counts: exact Poisson limits (Spiegelhalter 2005) and exact (Garwood) "
		       "intervals. See docs/report.md.</p>\n", C->phi);
	return rc;
}

/* The practice's own ratios in its pack. */
int yoc__pack_compare(struct ctx *c, sqlite3 *db, struct report *R, const struct prac *p,
		      struct yoc_buf *b)
{
	(void)db;
	if (!R->cmp)
		return YOC_OK;
	size_t i = (size_t)(p - R->a.prac);
	const struct cmp_unit *u = &R->cmp->prac[i];
	char name[64], id[128];
	yoc__safe_name(p->code, name, sizeof name);
	snprintf(id, sizeof id, "practices/%s_compare", name);
	const char *cols[7] = {"Measure"};
	int kinds[7] = {K_TEXT};
	for (int k = 0; k < 6; k++)
		cols[1 + k] = rcols[k];
	ratio_kinds(1, kinds + 1);
	struct ptable *t = yoc__pt_new(c, yoc__pt_str(c, id), "Standardised ratios: observed / "
				       "expected from the whole population's age-sex rates", NULL,
				       7, cols, kinds);
	for (int m = 0; t && m < NMEAS; m++) {
		struct pcell *r = yoc__pt_row(c, t);
		if (!r)
			return YOC_ENOMEM;
		const struct cmp_ratio *x = &u->r[m];
		static const char *const mu[NMEAS] = {"Cost (£)", "Emergency admissions",
						      "People with two or more LTCs"};
		r[0].s = mu[m];
		yoc__set_pct(&r[1], round(x->obs), x->ok);
		yoc__set_pct(&r[2], m == 0 ? round(x->exp) : round(x->exp * 10) / 10, x->ok);
		yoc__set_pct(&r[3], x->ratio, x->ok);
		yoc__set_pct(&r[4], x->lo, x->ok);
		yoc__set_pct(&r[5], x->hi, x->ok);
		r[6].s = x->ok ? pos_name[x->pos] : "*";
	}
	if (!t)
		return YOC_ENOMEM;
	yoc_buf_puts(b, "<h2>Compared fairly: age-sex standardised ratios</h2>");
	if (u->pcn[0]) {
		yoc_buf_puts(b, "<p>Primary care network: ");
		yoc__html_esc(b, u->pcn);
		if (u->pcn_name[0]) {
			yoc_buf_puts(b, " (");
			yoc__html_esc(b, u->pcn_name);
			yoc_buf_puts(b, ")");
		}
		yoc_buf_puts(b, ".</p>");
	}
	yoc__html_table(c, b, t);
	yoc_buf_puts(b, "<p class=\"note\">See <a href=\"../practices.html\">the comparison of "
			"practices</a> for the funnel plots.</p>");
	return yoc__write_csv(c, t);
}

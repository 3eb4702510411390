/*
** Disclosure control: primary suppression and rounding of counts, and
** secondary suppression of tables with margins, decided by an exact test of
** whether a hidden cell is determined by the published cells and the table's
** sum relations (linear algebra over the hidden cells). Must not print,
** exit or look at anything but the numbers it is given.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sdc/sdc.h"

#define MAX_CELLS 4096

void yoc_sdc_init(struct yoc_sdc *s)
{
	s->threshold = 7;
	s->round_to = 5;
	s->min_pctl = 20;
	s->money_sf = 3;
	s->off = 0;
}

static int64_t round_to(int64_t n, int64_t r)
{
	if (r <= 1)
		return n;
	return (n + r / 2) / r * r; /* n >= 0: halves round up */
}

int64_t yoc_sdc_one(const struct yoc_sdc *s, int64_t n)
{
	if (s->off)
		return n;
	if (n <= 0)
		return 0;
	if (n <= s->threshold)
		return YOC_SDC_HIDDEN;
	return round_to(n, s->round_to);
}

/*
** The sum relations of the table, one per group: with total_col, each row's
** cells minus its total = 0; with total_row, each column's cells minus its
** total = 0. Writes the coefficient (+1, -1) of every cell in group g into
** coef[g * ncells + cell]; returns the number of groups.
*/
static int relations(int nr, int nc, int tr, int tc, signed char *coef)
{
	int n = nr * nc, g = 0;
	if (tc)
		for (int i = 0; i < nr; i++, g++) {
			memset(coef + (size_t)g * n, 0, (size_t)n);
			for (int j = 0; j < nc; j++)
				coef[(size_t)g * n + i * nc + j] = j == nc - 1 ? -1 : 1;
		}
	if (tr)
		for (int j = 0; j < nc; j++, g++) {
			memset(coef + (size_t)g * n, 0, (size_t)n);
			for (int i = 0; i < nr; i++)
				coef[(size_t)g * n + i * nc + j] = i == nr - 1 ? -1 : 1;
		}
	return g;
}

/*
** For every hidden cell, whether it is determined: e_u lies in the row space
** of the relations restricted to the hidden cells. Reduced row echelon form;
** u is determined iff some reduced row is e_u. Entries are small integers
** combined by elimination, so doubles with a tolerance are exact enough for
** tables of this size. det[cell] = 1 when determined. Returns 0 or YOC_ENOMEM.
*/
static int determined(int nr, int nc, int tr, int tc, const unsigned char *state,
		      unsigned char *det)
{
	if (nr < 1 || nc < 1 || nr * nc > MAX_CELLS)
		return YOC_EINVAL;
	int n = nr * nc, rc = YOC_ENOMEM;
	int ng = (tc ? nr : 0) + (tr ? nc : 0);
	int *hid = yoc_malloc(sizeof *hid * (size_t)n);
	signed char *coef = yoc_malloc((size_t)(ng ? ng : 1) * (size_t)n);
	double *m = NULL;
	int k = 0;
	if (!hid || !coef)
		goto cleanup;
	for (int c = 0; c < n; c++)
		if (state[c])
			hid[k++] = c;
	memset(det, 0, (size_t)n & (MAX_CELLS * 2 - 1));
	if (k == 0) {
		rc = 0;
		goto cleanup;
	}
	relations(nr, nc, tr, tc, coef);
	m = yoc_malloc(sizeof *m * (size_t)(ng ? ng : 1) * (size_t)k);
	if (!m)
		goto cleanup;
	for (int g = 0; g < ng; g++)
		for (int u = 0; u < k; u++)
			m[g * k + u] = coef[(size_t)g * n + hid[u]];
	int row = 0;
	for (int col = 0; col < k && row < ng; col++) {
		int piv = -1;
		double best = 1e-9;
		for (int r = row; r < ng; r++)
			if (fabs(m[r * k + col]) > best) {
				best = fabs(m[r * k + col]);
				piv = r;
			}
		if (piv < 0)
			continue;
		if (piv != row)
			for (int u = 0; u < k; u++) {
				double t = m[row * k + u];
				m[row * k + u] = m[piv * k + u];
				m[piv * k + u] = t;
			}
		double p = m[row * k + col];
		for (int u = 0; u < k; u++)
			m[row * k + u] /= p;
		for (int r = 0; r < ng; r++) {
			if (r == row || fabs(m[r * k + col]) < 1e-12)
				continue;
			double f = m[r * k + col];
			for (int u = 0; u < k; u++)
				m[r * k + u] -= f * m[row * k + u];
		}
		row++;
	}
	for (int r = 0; r < row; r++) {
		int nz = 0, last = -1;
		for (int u = 0; u < k; u++)
			if (fabs(m[r * k + u]) > 1e-9) {
				nz++;
				last = u;
			}
		if (nz == 1)
			det[hid[last]] = 1;
	}
	rc = 0;
cleanup:
	yoc_free(hid);
	yoc_free(coef);
	yoc_free(m);
	return rc;
}

/* A column with its total: one relation, protected without linear algebra
 * (see protect_column), so of any length. */
static int one_column(int nr, int nc, int tr, int tc)
{
	return nc == 1 && tr && !tc;
}

static int check_shape(int nr, int nc, int tr, int tc)
{
	if (nr < 1 || nc < 1 || (tr && nr < 2) || (tc && nc < 2))
		return YOC_EINVAL;
	if (nr > MAX_CELLS / nc && !one_column(nr, nc, tr, tc))
		return YOC_EINVAL;
	return 0;
}

int yoc_sdc_derivable(int nr, int nc, int tr, int tc, const unsigned char *state,
		      int idx)
{
	unsigned char det[MAX_CELLS];
	if (check_shape(nr, nc, tr, tc) || nr > MAX_CELLS / nc || idx < 0 || idx >= nr * nc)
		return YOC_EINVAL;
	int rc = determined(nr, nc, tr, tc, state, det);
	return rc ? rc : det[idx];
}

/* Orders candidates for secondary suppression: non-zero before zero,
 * inner cells before margins, then smallest first, then position. */
struct cand {
	int cell;
	int zero, margin;
	int64_t v;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->zero != y->zero)
		return x->zero - y->zero;
	if (x->margin != y->margin)
		return x->margin - y->margin;
	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	return x->cell - y->cell;
}

/*
** A column and its total: one relation (cells - total = 0), so a hidden cell
** is determined exactly when it is the only hidden one. Then the cheapest
** shown cell (cand_cmp order) joins it: the cell the general search below
** would choose first, found without the linear algebra, so a column of any
** length (thousands of practices) is protected.
*/
static void protect_column(int n, const int64_t *v, unsigned char *state)
{
	int nh = 0, best = -1;
	struct cand b = {0, 0, 0, 0}, c;
	for (int i = 0; i < n; i++)
		nh += state[i] != YOC_SDC_SHOWN;
	if (nh != 1)
		return;
	for (int i = 0; i < n; i++) {
		if (state[i])
			continue;
		c.cell = i;
		c.zero = v[i] == 0;
		c.margin = i == n - 1;
		c.v = v[i];
		if (best < 0 || cand_cmp(&c, &b) < 0) {
			b = c;
			best = i;
		}
	}
	if (best >= 0)
		state[best] = YOC_SDC_SECONDARY;
}

/* A candidate pattern for protecting one cell: up to three cells to hide. */
struct pattern {
	int cell[3];
	int ncell;
	int margin, nnew, zero;
	int64_t v;
};

static int pattern_cmp(const void *a, const void *b)
{
	const struct pattern *x = a, *y = b;
	if (x->margin != y->margin)
		return x->margin - y->margin;
	if (x->nnew != y->nnew)
		return x->nnew - y->nnew;
	if (x->zero != y->zero)
		return x->zero - y->zero;
	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	for (int q = 0; q < 3 && q < x->ncell && q < y->ncell; q++)
		if (x->cell[q] != y->cell[q])
			return x->cell[q] - y->cell[q];
	return x->ncell - y->ncell;
}

static int is_margin(int nr, int nc, int tr, int tc, int c)
{
	return (tc && c % nc == nc - 1) || (tr && c / nc == nr - 1);
}

/* Fills p from its cells, counting only those still shown; 0 if it hides nothing new. */
static int pattern_make(struct pattern *p, int nr, int nc, int tr, int tc, const int64_t *v,
			const unsigned char *state, const int *cells, int ncell)
{
	p->ncell = ncell;
	p->margin = p->nnew = p->zero = 0;
	p->v = 0;
	for (int q = 0; q < 3; q++)
		p->cell[q] = q < ncell ? cells[q] : -1;
	for (int q = 0; q < ncell; q++) {
		int c = cells[q];
		if (state[c])
			continue;
		p->nnew++;
		p->margin += is_margin(nr, nc, tr, tc, c);
		p->zero += v[c] == 0;
		p->v += v[c];
	}
	return p->nnew > 0;
}

/*
** Hides the least pattern that leaves the determined primary cell u
** undetermined (see yoc_sdc_protect_hide), or failing every pattern one
** more cell, so that the caller's loop goes on. 0 or a negative status.
*/
static int protect_one(int nr, int nc, int tr, int tc, const int64_t *v, int u,
		       unsigned char *state, unsigned char *det)
{
	int n = nr * nc, ui = u / nc, uj = u % nc, np = 0, rc = YOC_ENOMEM;
	size_t cap = (size_t)n + 1;
	struct pattern *pat = yoc_malloc(sizeof *pat * cap);
	if (!pat)
		return YOC_ENOMEM;
	for (int c = 0; c < n; c++) {
		int i = c / nc, j = c % nc;
		if ((tc && i == ui) || (tr && j == uj))
			np += pattern_make(&pat[np], nr, nc, tr, tc, v, state, &c, 1);
	}
	if (tr && tc) {
		/* rectangles: one per opposite corner, so at most n */
		for (int i = 0; i < nr; i++)
			for (int j = 0; j < nc; j++) {
				if (i == ui || j == uj || (size_t)np >= cap)
					continue;
				int corner[3] = {ui * nc + j, i * nc + uj, i * nc + j};
				np += pattern_make(&pat[np], nr, nc, tr, tc, v, state, corner, 3);
			}
	}
	qsort(pat, (size_t)np, sizeof *pat, pattern_cmp);
	for (int t = 0; t < np; t++) {
		unsigned char old[3];
		for (int q = 0; q < pat[t].ncell; q++) {
			old[q] = state[pat[t].cell[q]];
			if (!old[q])
				state[pat[t].cell[q]] = YOC_SDC_SECONDARY;
		}
		if ((rc = determined(nr, nc, tr, tc, state, det)))
			goto cleanup;
		if (!det[u]) {
			rc = 0;
			goto cleanup;
		}
		for (int q = 0; q < pat[t].ncell; q++)
			state[pat[t].cell[q]] = old[q];
	}
	/* no pattern alone protects u: hide the cheapest single cell (of u's row
	 * or column, else of the table) and let the caller look again */
	int best = -1;
	struct pattern b, c1;
	for (int pass = 0; pass < 2 && best < 0; pass++)
		for (int c = 0; c < n; c++) {
			int i = c / nc, j = c % nc;
			if (state[c] || (pass == 0 && !((tc && i == ui) || (tr && j == uj))))
				continue;
			pattern_make(&c1, nr, nc, tr, tc, v, state, &c, 1);
			if (best < 0 || pattern_cmp(&c1, &b) < 0) {
				b = c1;
				best = c;
			}
		}
	if (best < 0) {
		rc = YOC_EINTERNAL;
		goto cleanup;
	}
	state[best] = YOC_SDC_SECONDARY;
	rc = 0;
cleanup:
	yoc_free(pat);
	return rc;
}

/* Orders secondary cells for pruning: margins first, then largest first. */
struct prune_cand {
	int cell, margin;
	int64_t v;
};

static int prune_cmp(const void *a, const void *b)
{
	const struct prune_cand *x = a, *y = b;
	if (x->margin != y->margin)
		return y->margin - x->margin;
	if (x->v != y->v)
		return x->v > y->v ? -1 : 1;
	return x->cell - y->cell;
}

/*
** Shows again every secondary cell that is not needed: in turn (margins,
** then the largest values first), a secondary cell is shown if no primary
** cell becomes determined. What is left protects every primary cell, by
** the same exact test. 0 or a negative status.
*/
static int prune(int nr, int nc, int tr, int tc, const int64_t *v, unsigned char *state,
		 unsigned char *det)
{
	int n = nr * nc, k = 0, rc = 0;
	struct prune_cand *pc = yoc_malloc(sizeof *pc * (size_t)n);
	if (!pc)
		return YOC_ENOMEM;
	for (int c = 0; c < n; c++)
		if (state[c] == YOC_SDC_SECONDARY) {
			pc[k].cell = c;
			pc[k].margin = is_margin(nr, nc, tr, tc, c);
			pc[k].v = v[c];
			k++;
		}
	qsort(pc, (size_t)k, sizeof *pc, prune_cmp);
	for (int t = 0; t < k; t++) {
		int c = pc[t].cell, bad = 0;
		state[c] = YOC_SDC_SHOWN;
		if ((rc = determined(nr, nc, tr, tc, state, det)))
			break;
		for (int x = 0; x < n && !bad; x++)
			bad = state[x] == YOC_SDC_PRIMARY && det[x];
		if (bad)
			state[c] = YOC_SDC_SECONDARY;
	}
	yoc_free(pc);
	return rc;
}

int yoc_sdc_protect(const struct yoc_sdc *s, int nr, int nc, int tr, int tc,
		    const int64_t *v, unsigned char *state, int64_t *out)
{
	return yoc_sdc_protect_hide(s, nr, nc, tr, tc, v, NULL, state, out);
}

int yoc_sdc_protect_hide(const struct yoc_sdc *s, int nr, int nc, int tr, int tc,
			 const int64_t *v, const unsigned char *hide, unsigned char *state,
			 int64_t *out)
{
	unsigned char det[MAX_CELLS];
	if (check_shape(nr, nc, tr, tc))
		return YOC_EINVAL;
	int n = nr * nc;
	for (int c = 0; c < n; c++)
		if (v[c] < 0)
			return YOC_EINVAL;
	if (tc)
		for (int i = 0; i < nr; i++) {
			int64_t sum = 0;
			for (int j = 0; j < nc - 1; j++)
				sum += v[i * nc + j];
			if (sum != v[i * nc + nc - 1])
				return YOC_EINVAL;
		}
	if (tr)
		for (int j = 0; j < nc; j++) {
			int64_t sum = 0;
			for (int i = 0; i < nr - 1; i++)
				sum += v[i * nc + j];
			if (sum != v[(nr - 1) * nc + j])
				return YOC_EINVAL;
		}
	for (int c = 0; c < n; c++) {
		state[c] = YOC_SDC_SHOWN;
		if (!s->off && ((v[c] > 0 && v[c] <= s->threshold) || (hide && hide[c])))
			state[c] = YOC_SDC_PRIMARY;
	}
	if (one_column(nr, nc, tr, tc)) {
		if (!s->off)
			protect_column(n, v, state);
		goto publish;
	}
	/*
	** Secondary suppression, least hidden first. While some primary cell u
	** is determined, the candidate patterns that would protect it are
	** ranked by what they hide (pattern_cmp: margins last, then fewest
	** newly hidden cells, non-zero before zero, least total) and the first
	** that leaves u undetermined is hidden:
	**   - one cell of u's row or column;
	**   - the other corners of a rectangle through u (with margins on both
	**     sides the least pattern for a lone cell; a corner already hidden
	**     costs nothing, so patterns share cells).
	** Failing all of them, the cheapest cell of u's row or column (or of
	** the table) is hidden and the search goes on. Hiding a cell never makes
	** another cell determined, so this ends, at worst with everything
	** hidden. Then prune: each secondary cell, largest first, is shown
	** again if every primary cell stays undetermined without it.
	*/
	for (;;) {
		int rc = determined(nr, nc, tr, tc, state, det);
		if (rc)
			return rc;
		int u = -1;
		for (int c = 0; c < n && u < 0; c++)
			if (state[c] == YOC_SDC_PRIMARY && det[c])
				u = c;
		if (u < 0)
			break;
		if ((rc = protect_one(nr, nc, tr, tc, v, u, state, det)))
			return rc;
	}
	if (!s->off) {
		int rc = prune(nr, nc, tr, tc, v, state, det);
		if (rc)
			return rc;
	}
publish:
	for (int c = 0; c < n; c++)
		out[c] = state[c] ? YOC_SDC_HIDDEN : s->off ? v[c] : yoc_sdc_one(s, v[c]);
	return 0;
}

/* a / b rounded to the nearest integer, halves away from zero; b > 0 */
static int64_t div_round(int64_t a, int64_t b)
{
	return a >= 0 ? (a + b / 2) / b : -((-a + b / 2) / b);
}

int64_t yoc_sdc_money(const struct yoc_sdc *s, int64_t pence)
{
	if (s->off)
		return pence;
	int sf = s->money_sf > 0 ? s->money_sf : 3;
	int64_t a = pence < 0 ? -pence : pence, top = 1;
	for (int i = 0; i < sf && top <= INT64_MAX / 10; i++)
		top *= 10;
	/* the step: a power of ten leaving sf digits, at least one pound */
	int64_t unit = 100;
	while (a / unit >= top && unit <= INT64_MAX / 10)
		unit *= 10;
	return div_round(pence, unit) * unit;
}

int64_t yoc_sdc_mean(const struct yoc_sdc *s, int64_t sum, int64_t n, int64_t n_pub)
{
	if (s->off)
		return n > 0 ? div_round(sum, n) : 0;
	if (n_pub <= 0)
		return 0;
	return div_round(yoc_sdc_money(s, sum), 100 * n_pub) * 100;
}

double yoc_sdc_rate(const struct yoc_sdc *s, int64_t num, int64_t den, int den_state,
		    int64_t scale, int complement)
{
	if (den <= 0 || num < 0 || !yoc_sdc_stat_ok(s, den, den_state))
		return NAN;
	if (s->off)
		return (double)div_round(10 * scale * num, den) / 10;
	if ((num > 0 && num <= s->threshold) ||
	    (complement && den - num > 0 && den - num <= s->threshold))
		return NAN;
	int64_t a = yoc_sdc_one(s, num), d = yoc_sdc_one(s, den);
	if (a < 0 || d <= 0)
		return NAN;
	return (double)div_round(10 * scale * a, d) / 10;
}

int yoc_sdc_stat_ok(const struct yoc_sdc *s, int64_t n, int state)
{
	if (s->off)
		return n > 0;
	return n > s->threshold && state == YOC_SDC_SHOWN;
}

int yoc_sdc_pctl_ok(const struct yoc_sdc *s, int64_t n, int state)
{
	if (s->off)
		return n > 0;
	return yoc_sdc_stat_ok(s, n, state) && n >= s->min_pctl;
}

const char *yoc_sdc_fmt(int64_t v, int thousands, char *buf)
{
	if (v == YOC_SDC_HIDDEN) {
		buf[0] = '*';
		buf[1] = 0;
		return buf;
	}
	char tmp[32];
	int neg = v < 0;
	uint64_t u = neg ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
	int k = 0, d = 0;
	do {
		if (thousands && d && d % 3 == 0)
			tmp[k++] = ',';
		tmp[k++] = (char)('0' + u % 10);
		u /= 10;
		d++;
	} while (u);
	int o = 0;
	if (neg)
		buf[o++] = '-';
	while (k)
		buf[o++] = tmp[--k];
	buf[o] = 0;
	return buf;
}

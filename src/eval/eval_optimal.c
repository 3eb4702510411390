/*
** Optimal pair matching on the propensity score (--method optimal,
** docs/evaluation.md). Each treated person is to get K controls, without
** replacement, within its exact stratum and the caliper. Of all such
** matchings the one chosen first matches as many treated people as can be
** matched, then as many (treated, control) pairs, then has the smallest
** total distance |score_t - score_c| (the distance nearest uses).
**
** The method is a min-cost flow: each treated person supplies K units, each
** control takes one, and a unit may also be left unmatched ("dropped"). A
** cost is a pair (drops, distance) compared lexicographically, so no
** distance can buy a drop; the last unit of a treated person costs more to
** drop than all other units together (drop_cost), so the flow matches as
** many treated people as can be matched, then as many pairs, then the least
** distance. Units are placed one at a time along a shortest
** augmenting path (successive shortest paths: Dijkstra on reduced costs,
** with node potentials that keep every residual arc nonnegative), which
** leaves the flow optimal for the units placed so far.
**
** The score is one-dimensional, so the graph is kept small. Without a
** caliper the controls of a stratum form a chain (each to the next, at the
** gap between their scores), which carries every pair exactly in O(n) arcs.
** With a caliper a treated person's arcs go only to a window of its nearest
** controls, and the result is then certified against every allowed pair:
** with the final potentials, a pair outside the windows that had a negative
** reduced cost would be the only way to improve, and the smallest reduced
** cost over a range of the sorted controls is a range minimum (a segment
** tree), so the check costs O(log n) per treated person. A person whose
** check fails gets a wider window and the flow is solved again, until the
** certificate holds; the solution is then optimal over all allowed pairs
** (to 1e-10 in any reduced cost, the rounding of the potentials). Either
** way the matched people are then paired in score order (sorted_pairing).
**
** Ties are broken by position in the sorted order (stratum, logit of the
** score, key), never by row order when keys are given. Nothing here prints.
*/
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"

#define OPT_TOL 1e-10 /* a reduced cost below -OPT_TOL fails the certificate */

/* A cost: units left unmatched, then distance; compared lexicographically. */
struct pc {
	long long n;
	double d;
};

static int pc_lt(struct pc a, struct pc b)
{
	return a.n < b.n || (a.n == b.n && a.d < b.d);
}

static struct pc pc_add(struct pc a, struct pc b)
{
	a.n += b.n;
	a.d += b.d;
	return a;
}

static struct pc pc_sub(struct pc a, struct pc b)
{
	a.n -= b.n;
	a.d -= b.d;
	return a;
}

struct hitem {
	struct pc k;
	size_t v;
};

/*
** Nodes: treated person j (index into ts) is node j, the control at
** position c of cs is node nt + c, the sink is node nt + nc.
*/
struct opt {
	const struct yoc_eval_input *in;
	struct yoc_eval_match *m;
	int ratio;
	size_t nt, nc;
	size_t *ts;         /* treated rows, in order of processing */
	size_t *cs;         /* control rows: stratum, logit, key */
	size_t *slo, *shi;  /* per treated: its stratum's range of cs */
	size_t *wlo, *whi;  /* per treated: the controls within the caliper */
	size_t *mid;        /* per treated: first position at or above its logit */
	size_t *span;       /* per treated: candidates taken on each side */
	size_t *mate;       /* per control position: treated index or SIZE_MAX */
	size_t *drops;      /* per treated: units left unmatched */
	struct pc *pot, *dist;
	size_t *pred, *settled;
	unsigned *seen, *done;
	unsigned iter;
	struct hitem *heap;
	size_t nheap, capheap;
	/* without a caliper: the controls of a stratum form a chain */
	int chain;
	long long *flow;    /* per control position: net units from it to the next */
	size_t *fl, *fr;    /* per treated: units sent to its left, right neighbour */
	size_t *bymid;      /* treated indices by midpoint */
	size_t *first;      /* nc + 2: first of bymid with midpoint >= c */
	unsigned char *end; /* per control position: the last of its stratum */
};

/* ---- ordering ----------------------------------------------------------- */

static _Thread_local const struct yoc_eval_match *g_m;
static _Thread_local const struct yoc_eval_input *g_in;

/* Controls: stratum, logit of the score ascending (so the score too), key. */
static int cmp_ctrl(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	if (g_in->stratum && g_in->stratum[a] != g_in->stratum[b])
		return g_in->stratum[a] < g_in->stratum[b] ? -1 : 1;
	if (g_m->lps[a] != g_m->lps[b])
		return g_m->lps[a] < g_m->lps[b] ? -1 : 1;
	return yoc__eval_key_cmp(g_in, a, b);
}

/* Treated: score descending, key (the order of the sets, as nearest). */
static int cmp_treat(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	if (g_m->ps[a] != g_m->ps[b])
		return g_m->ps[a] > g_m->ps[b] ? -1 : 1;
	return yoc__eval_key_cmp(g_in, a, b);
}

/* ---- windows -------------------------------------------------------------- */

/* First position in [lo, hi) of cs whose stratum is >= s (strata ascending). */
static size_t stratum_lower(const struct opt *O, size_t lo, size_t hi, int64_t s, int upper)
{
	const int64_t *st = O->in->stratum;
	while (lo < hi) {
		size_t md = lo + (hi - lo) / 2;
		if (upper ? st[O->cs[md]] <= s : st[O->cs[md]] < s)
			lo = md + 1;
		else
			hi = md;
	}
	return lo;
}

/*
** The stratum range, the caliper window and the midpoint of each treated
** person. The window uses the test of nearest (|logit difference| <= width),
** which is monotone on each side of the midpoint, so a binary search finds it.
*/
static void windows(struct opt *O)
{
	const double *lps = O->m->lps, w = O->m->caliper_width;
	for (size_t j = 0; j < O->nt; j++) {
		size_t t = O->ts[j], lo = 0, hi = O->nc;
		if (O->in->stratum) {
			lo = stratum_lower(O, 0, O->nc, O->in->stratum[t], 0);
			hi = stratum_lower(O, lo, O->nc, O->in->stratum[t], 1);
		}
		O->slo[j] = lo;
		O->shi[j] = hi;
		size_t a = lo, b = hi;
		while (a < b) {
			size_t md = a + (b - a) / 2;
			if (lps[O->cs[md]] < lps[t])
				a = md + 1;
			else
				b = md;
		}
		O->mid[j] = a;
		O->wlo[j] = lo;
		O->whi[j] = hi;
		if (w > 0) {
			size_t x = lo, y = O->mid[j];
			while (x < y) { /* first on the left within the caliper */
				size_t md = x + (y - x) / 2;
				if (fabs(lps[O->cs[md]] - lps[t]) <= w)
					y = md;
				else
					x = md + 1;
			}
			O->wlo[j] = x;
			x = O->mid[j];
			y = hi;
			while (x < y) { /* first on the right beyond it */
				size_t md = x + (y - x) / 2;
				if (fabs(lps[O->cs[md]] - lps[t]) <= w)
					x = md + 1;
				else
					y = md;
			}
			O->whi[j] = x;
		}
	}
}

static size_t cand_lo(const struct opt *O, size_t j)
{
	size_t s = O->span[j];
	return O->mid[j] - O->wlo[j] > s ? O->mid[j] - s : O->wlo[j];
}

static size_t cand_hi(const struct opt *O, size_t j)
{
	size_t s = O->span[j];
	return O->whi[j] - O->mid[j] > s ? O->mid[j] + s : O->whi[j];
}

/* ---- shortest augmenting paths ------------------------------------------ */

static int heap_less(const struct hitem *a, const struct hitem *b)
{
	if (pc_lt(a->k, b->k))
		return 1;
	if (pc_lt(b->k, a->k))
		return 0;
	return a->v < b->v;
}

static int heap_push(struct opt *O, struct pc k, size_t v)
{
	/* at most one entry per arc relaxed in one search */
	if (O->nheap == O->capheap) {
		size_t cap = O->capheap ? 2 * O->capheap : 1024;
		struct hitem *h = yoc_realloc(O->heap, cap * sizeof *h);
		if (!h)
			return YOC_ENOMEM;
		O->heap = h;
		O->capheap = cap;
	}
	size_t i = O->nheap++;
	struct hitem it = {k, v};
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!heap_less(&it, &O->heap[p]))
			break;
		O->heap[i] = O->heap[p];
		i = p;
	}
	O->heap[i] = it;
	return 0;
}

static struct hitem heap_pop(struct opt *O)
{
	struct hitem top = O->heap[0], last = O->heap[--O->nheap];
	size_t i = 0, n = O->nheap;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && heap_less(&O->heap[c + 1], &O->heap[c]))
			c++;
		if (!heap_less(&O->heap[c], &last))
			break;
		O->heap[i] = O->heap[c];
		i = c;
	}
	if (n)
		O->heap[i] = last;
	return top;
}

static int relax(struct opt *O, size_t v, struct pc k, size_t from)
{
	if (O->done[v] == O->iter)
		return 0;
	if (O->seen[v] == O->iter && !pc_lt(k, O->dist[v]))
		return 0;
	O->seen[v] = O->iter;
	O->dist[v] = k;
	O->pred[v] = from;
	return heap_push(O, k, v);
}

/*
** Leaving one more unit of treated person j unmatched: 1 while j keeps a
** control, W = nt K + 1 (more than all other drops together) for its last
** unit. So the flow first matches as many treated people as it can, then
** as many pairs, then minimises the distance. A dropped unit is never taken
** back (arcs out of the sink close only cycles), so the drops of j say which
** price its next one has.
*/
static struct pc drop_cost(const struct opt *O, size_t j)
{
	struct pc a = {1, 0};
	if (O->drops[j] + 1 >= (size_t)O->ratio)
		a.n = (long long)(O->nt * (size_t)O->ratio) + 1;
	return a;
}

static double gap(const struct opt *O, size_t j, size_t c)
{
	return fabs(O->m->ps[O->ts[j]] - O->m->ps[O->cs[c]]);
}

/*
** Without a caliper every control of the stratum is allowed, and on a line
** |score_t - score_c| is the sum of the gaps between them, so the arcs are
** a chain: a treated person to its neighbouring control on each side, each
** control to the next on either side (any number of units; a step against
** the net flow of a gap cancels it, at minus the gap), a free control to the
** sink. The flow says who is matched; the pairs are read off in score order
** (sorted_pairing). O(n) arcs, nothing to certify.
*/
static int relax_arc(struct opt *O, size_t from, size_t to, struct pc k, double cost)
{
	struct pc a = {0, cost};
	return relax(O, to, pc_add(k, pc_sub(pc_add(a, O->pot[from]), O->pot[to])), from);
}

static int relax_chain(struct opt *O, size_t v, struct pc k)
{
	size_t nt = O->nt, sink = nt + O->nc;
	const double *ps = O->m->ps;
	int rc;
	if (v < nt) {
		double s = ps[O->ts[v]];
		size_t md = O->mid[v];
		if (md > O->slo[v] && (rc = relax_arc(O, v, nt + md - 1, k, s - ps[O->cs[md - 1]])) != 0)
			return rc;
		if (md < O->shi[v] && (rc = relax_arc(O, v, nt + md, k, ps[O->cs[md]] - s)) != 0)
			return rc;
		return relax(O, sink, pc_add(k, pc_sub(pc_add(drop_cost(O, v), O->pot[v]), O->pot[sink])), v);
	}
	size_t c = v - nt;
	double s = ps[O->cs[c]];
	if (O->mate[c] == SIZE_MAX && (rc = relax_arc(O, v, sink, k, 0)) != 0)
		return rc;
	if (!O->end[c]) {
		double g = ps[O->cs[c + 1]] - s;
		if ((rc = relax_arc(O, v, v + 1, k, O->flow[c] >= 0 ? g : -g)) != 0)
			return rc;
	}
	if (c > 0 && !O->end[c - 1]) {
		double g = s - ps[O->cs[c - 1]];
		if ((rc = relax_arc(O, v, v - 1, k, O->flow[c - 1] <= 0 ? g : -g)) != 0)
			return rc;
	}
	/* back along the arcs of treated people who sent units here */
	for (size_t i = O->first[c]; i < O->first[c + 2]; i++) {
		size_t j = O->bymid[i];
		double t = ps[O->ts[j]];
		if (O->mid[j] == c + 1 && O->fl[j] && (rc = relax_arc(O, v, j, k, -(t - s))) != 0)
			return rc;
		if (O->mid[j] == c && O->fr[j] && (rc = relax_arc(O, v, j, k, -(s - t))) != 0)
			return rc;
	}
	return 0;
}

/* Moves one unit along the arc from w to v of the chain. */
static void push_chain(struct opt *O, size_t w, size_t v)
{
	size_t nt = O->nt, sink = nt + O->nc;
	if (w < nt) {
		if (v == sink)
			O->drops[w]++;
		else if (v - nt + 1 == O->mid[w])
			O->fl[w]++;
		else
			O->fr[w]++;
	} else if (v == sink) {
		O->mate[w - nt] = 0; /* used */
	} else if (v >= nt) {
		if (v == w + 1)
			O->flow[w - nt]++;
		else
			O->flow[v - nt]--;
	} else if (w - nt + 1 == O->mid[v]) {
		O->fl[v]--;
	} else {
		O->fr[v]--;
	}
}

/*
** Places one unit of treated person u along a shortest augmenting path to
** the sink (a free control, or a drop), then moves the potentials: settled
** nodes by their distance minus the sink's, the rest not at all, which keeps
** every residual arc's reduced cost nonnegative.
*/
static int augment(struct opt *O, size_t u)
{
	size_t nt = O->nt, sink = nt + O->nc, nset = 0;
	const struct pc zero = {0, 0};
	struct pc D = zero;
	int rc;
	if (++O->iter == 0) {
		memset(O->seen, 0, (sink + 1) * sizeof *O->seen);
		memset(O->done, 0, (sink + 1) * sizeof *O->done);
		O->iter = 1;
	}
	O->nheap = 0;
	if ((rc = relax(O, u, zero, SIZE_MAX)) != 0)
		return rc;
	while (O->nheap) {
		struct hitem it = heap_pop(O);
		size_t v = it.v;
		if (O->done[v] == O->iter)
			continue;
		O->done[v] = O->iter;
		O->settled[nset++] = v;
		if (v == sink) {
			D = it.k;
			break;
		}
		struct pc pv = O->pot[v];
		if (O->chain) {
			rc = relax_chain(O, v, it.k);
		} else if (v < nt) {
			for (size_t c = cand_lo(O, v), e = cand_hi(O, v); c < e; c++) {
				if (O->mate[c] == v)
					continue;
				struct pc a = {0, gap(O, v, c)};
				if ((rc = relax(O, nt + c, pc_add(it.k, pc_sub(pc_add(a, pv), O->pot[nt + c])),
						v)) != 0)
					return rc;
			}
			rc = relax(O, sink, pc_add(it.k, pc_sub(pc_add(drop_cost(O, v), pv), O->pot[sink])), v);
		} else if (O->mate[v - nt] == SIZE_MAX) {
			rc = relax(O, sink, pc_add(it.k, pc_sub(pv, O->pot[sink])), v);
		} else {
			size_t j = O->mate[v - nt];
			struct pc a = {0, -gap(O, j, v - nt)};
			rc = relax(O, j, pc_add(it.k, pc_sub(pc_add(a, pv), O->pot[j])), v);
		}
		if (rc)
			return rc;
	}
	/* the drop arc of u always leads to the sink */
	for (size_t i = 0; i < nset; i++) {
		size_t x = O->settled[i];
		O->pot[x] = pc_add(O->pot[x], pc_sub(O->dist[x], D));
	}
	for (size_t v = sink; v != u;) {
		size_t w = O->pred[v];
		if (O->chain) {
			push_chain(O, w, v);
		} else if (w < nt) {
			if (v == sink)
				O->drops[w]++;
			else
				O->mate[v - nt] = w;
		}
		v = w;
	}
	return 0;
}

static int solve(struct opt *O)
{
	size_t nodes = O->nt + O->nc + 1;
	int rc;
	for (size_t c = 0; c < O->nc; c++)
		O->mate[c] = SIZE_MAX;
	memset(O->drops, 0, O->nt * sizeof *O->drops);
	memset(O->pot, 0, nodes * sizeof *O->pot);
	if (O->chain) {
		memset(O->flow, 0, O->nc * sizeof *O->flow);
		memset(O->fl, 0, O->nt * sizeof *O->fl);
		memset(O->fr, 0, O->nt * sizeof *O->fr);
	}
	for (int r = 0; r < O->ratio; r++)
		for (size_t j = 0; j < O->nt; j++)
			if ((rc = augment(O, j)) != 0)
				return rc;
	return 0;
}

/* The chain's arrays: stratum ends, treated people by midpoint (counting sort). */
static int chain_init(struct opt *O)
{
	size_t nt = O->nt, nc = O->nc;
	O->flow = yoc_malloc(nc * sizeof *O->flow);
	O->fl = yoc_malloc(nt * sizeof *O->fl);
	O->fr = yoc_malloc(nt * sizeof *O->fr);
	O->bymid = yoc_malloc(nt * sizeof *O->bymid);
	O->first = yoc_calloc(nc + 2, sizeof *O->first);
	O->end = yoc_malloc(nc);
	if (!O->flow || !O->fl || !O->fr || !O->bymid || !O->first || !O->end)
		return YOC_ENOMEM;
	for (size_t c = 0; c < nc; c++)
		O->end[c] = c + 1 == nc || (O->in->stratum && O->in->stratum[O->cs[c]] !=
							       O->in->stratum[O->cs[c + 1]]);
	for (size_t j = 0; j < nt; j++)
		O->first[O->mid[j] + 1]++;
	for (size_t c = 0; c <= nc; c++)
		O->first[c + 1] += O->first[c];
	for (size_t j = 0; j < nt; j++) /* first[mid] is now the next free slot */
		O->bymid[O->first[O->mid[j]]++] = j;
	for (size_t c = nc + 1; c > 0; c--) /* back to the start of each midpoint */
		O->first[c] = O->first[c - 1];
	O->first[0] = 0;
	O->chain = 1;
	return 0;
}

/* ---- the certificate ------------------------------------------------------- */

static struct pc tree_min(const struct pc *tr, size_t n, size_t l, size_t r)
{
	struct pc best = {LLONG_MAX, INFINITY};
	for (l += n, r += n; l < r; l >>= 1, r >>= 1) {
		if (l & 1) {
			if (pc_lt(tr[l], best))
				best = tr[l];
			l++;
		}
		if (r & 1) {
			--r;
			if (pc_lt(tr[r], best))
				best = tr[r];
		}
	}
	return best;
}

/*
** The reduced cost of the arc from treated j to the control at c, off j's
** window, is (0, |ps_t - ps_c|) + pot[j] - pot[c]. On the left of j's
** midpoint |ps_t - ps_c| = ps_t - ps_c, on the right ps_c - ps_t, so the
** smallest over a range is a range minimum of a key of c alone. Widens the
** window of every person with a negative one; *nbad counts them.
*/
static void certify(struct opt *O, struct pc *tr, size_t *nbad)
{
	size_t nt = O->nt, nc = O->nc;
	*nbad = 0;
	for (int side = 0; side < 2; side++) {
		for (size_t c = 0; c < nc; c++) {
			struct pc p = O->pot[nt + c];
			double s = O->m->ps[O->cs[c]];
			tr[nc + c].n = -p.n;
			tr[nc + c].d = (side ? s : -s) - p.d;
		}
		for (size_t i = nc - 1; i > 0; i--)
			tr[i] = pc_lt(tr[2 * i + 1], tr[2 * i]) ? tr[2 * i + 1] : tr[2 * i];
		for (size_t j = 0; j < nt; j++) {
			size_t l = side ? cand_hi(O, j) : O->wlo[j];
			size_t r = side ? O->whi[j] : cand_lo(O, j);
			if (l >= r)
				continue;
			struct pc k = tree_min(tr, nc, l, r);
			double s = O->m->ps[O->ts[j]];
			long long n = k.n + O->pot[j].n;
			double d = k.d + (side ? -s : s) + O->pot[j].d;
			if (n < 0 || (n == 0 && d < -OPT_TOL)) {
				size_t wide = O->whi[j] - O->wlo[j];
				O->span[j] = O->span[j] > wide / 4 ? wide : 4 * O->span[j];
				(*nbad)++;
			}
		}
	}
}

/* ---- the sets ----------------------------------------------------------------- */

/* Indices into ts: stratum, logit of the score, key (the order of cs). */
static _Thread_local const size_t *g_ts;

static int cmp_treat_line(const void *x, const void *y)
{
	size_t a = g_ts[*(const size_t *)x], b = g_ts[*(const size_t *)y];
	if (g_in->stratum && g_in->stratum[a] != g_in->stratum[b])
		return g_in->stratum[a] < g_in->stratum[b] ? -1 : 1;
	if (g_m->lps[a] != g_m->lps[b])
		return g_m->lps[a] < g_m->lps[b] ? -1 : 1;
	return yoc__eval_key_cmp(g_in, a, b);
}

/*
** Pairs the matched people in score order. On a line, swapping the
** controls of two treated people on the same side of both leaves the total
** distance unchanged, so an optimum fixes who is matched, not who with whom;
** within each stratum the sorted pairing (k-th treated unit with the k-th
** control) has the least total distance and the least largest gap of any
** pairing of the same people, so it keeps the optimum and the caliper, and
** the pairs no longer depend on rounding in the flow. tk: controls per
** treated person (index into ts); mate is rewritten.
*/
static int sorted_pairing(struct opt *O, const size_t *tk)
{
	size_t nm = 0, c = 0;
	for (size_t j = 0; j < O->nt; j++)
		nm += tk[j] > 0;
	size_t *js = yoc_malloc((nm ? nm : 1) * sizeof *js);
	if (!js)
		return YOC_ENOMEM;
	for (size_t j = 0, k = 0; j < O->nt; j++)
		if (tk[j])
			js[k++] = j;
	g_m = O->m;
	g_in = O->in;
	g_ts = O->ts;
	qsort(js, nm, sizeof *js, cmp_treat_line);
	g_m = NULL;
	g_in = NULL;
	g_ts = NULL;
	for (size_t k = 0; k < nm; k++) {
		for (size_t r = 0; r < tk[js[k]]; r++) {
			while (O->mate[c] == SIZE_MAX)
				c++;
			O->mate[c++] = js[k];
		}
	}
	yoc_free(js);
	return 0;
}

static int make_sets(struct opt *O, double caliper, struct yoc_error *e)
{
	struct yoc_eval_match *m = O->m;
	size_t nt = O->nt, nc = O->nc, nsets = 0, nctrl = 0;
	size_t *tk = yoc_calloc(nt + 1, sizeof *tk), *used = yoc_calloc(nc + 1, sizeof *used);
	int rc = 0;
	if (!tk || !used) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t c = 0; c < nc; c++) {
		used[c + 1] = used[c] + (O->mate[c] != SIZE_MAX);
		if (O->mate[c] != SIZE_MAX && !O->chain)
			tk[O->mate[c]]++;
	}
	for (size_t j = 0; O->chain && j < nt; j++)
		tk[j] = (size_t)O->ratio - O->drops[j];
	if (sorted_pairing(O, tk) != 0) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t j = 0; j < nt; j++) {
		if (tk[j]) {
			nsets++;
			nctrl += tk[j];
		} else if (used[O->shi[j]] - used[O->slo[j]] < O->shi[j] - O->slo[j]) {
			m->n_caliper++; /* controls left in its stratum, none within the caliper */
		} else {
			m->n_no_control++;
		}
	}
	if (nsets == 0) {
		rc = yoc_error_set(e, YOC_EDATA, NULL, 0, 0,
				   "nobody matched: of %zu treated people, %zu had no control within the "
				   "caliper (%g SD of the logit) and %zu had no control left",
				   nt, m->n_caliper, caliper, m->n_no_control);
		goto cleanup;
	}
	m->set_t = yoc_malloc(nsets * sizeof *m->set_t);
	m->set_c0 = yoc_malloc((nsets + 1) * sizeof *m->set_c0);
	m->ctrl = yoc_malloc(nctrl * sizeof *m->ctrl);
	if (!m->set_t || !m->set_c0 || !m->ctrl) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	/* start of each person's controls in ctrl, in the order of ts */
	size_t s = 0, at = 0;
	for (size_t j = 0; j < nt; j++) {
		size_t k = tk[j];
		tk[j] = at;
		at += k;
	}
	tk[nt] = at;
	for (size_t c = 0; c < nc; c++)
		if (O->mate[c] != SIZE_MAX)
			m->ctrl[tk[O->mate[c]]++] = c; /* positions, ascending */
	for (size_t j = 0, c0 = 0; j < nt; j++) {
		size_t c1 = tk[j]; /* now the end of j's controls */
		if (c1 == c0)
			continue;
		size_t t = O->ts[j];
		m->set_t[s] = t;
		m->set_c0[s] = c0;
		m->w[t] = 1.0;
		for (size_t k = c0; k < c1; k++) {
			size_t row = O->cs[m->ctrl[k]];
			m->ctrl[k] = row;
			m->w[row] += 1.0 / (double)(c1 - c0);
		}
		s++;
		c0 = c1;
	}
	m->set_c0[nsets] = nctrl;
	m->nsets = nsets;
	m->n_controls_used = nctrl;
cleanup:
	yoc_free(tk);
	yoc_free(used);
	return rc;
}

int yoc__eval_optimal(const struct yoc_eval_input *in, const struct yoc_eval_opts *o,
		      struct yoc_eval_match *m, struct yoc_error *e)
{
	struct opt O;
	memset(&O, 0, sizeof O);
	O.in = in;
	O.m = m;
	O.ratio = o->ratio;
	O.nt = m->n_treated;
	O.nc = m->n_controls;
	size_t nt = O.nt, nc = O.nc, nodes = nt + nc + 1;
	struct pc *tr = NULL;
	int rc = 0;
	O.ts = yoc_malloc(nt * sizeof *O.ts);
	O.cs = yoc_malloc(nc * sizeof *O.cs);
	O.slo = yoc_malloc(nt * sizeof *O.slo);
	O.shi = yoc_malloc(nt * sizeof *O.shi);
	O.wlo = yoc_malloc(nt * sizeof *O.wlo);
	O.whi = yoc_malloc(nt * sizeof *O.whi);
	O.mid = yoc_malloc(nt * sizeof *O.mid);
	O.span = yoc_malloc(nt * sizeof *O.span);
	O.drops = yoc_malloc(nt * sizeof *O.drops);
	O.mate = yoc_malloc(nc * sizeof *O.mate);
	O.pot = yoc_malloc(nodes * sizeof *O.pot);
	O.dist = yoc_malloc(nodes * sizeof *O.dist);
	O.pred = yoc_malloc(nodes * sizeof *O.pred);
	O.settled = yoc_malloc(nodes * sizeof *O.settled);
	O.seen = yoc_calloc(nodes, sizeof *O.seen);
	O.done = yoc_calloc(nodes, sizeof *O.done);
	if (m->caliper_width > 0) /* the certificate's segment tree */
		tr = yoc_malloc(2 * nc * sizeof *tr);
	if (!O.ts || !O.cs || !O.slo || !O.shi || !O.wlo || !O.whi || !O.mid || !O.span ||
	    !O.drops || !O.mate || !O.pot || !O.dist || !O.pred || !O.settled || !O.seen ||
	    !O.done || (m->caliper_width > 0 && !tr)) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0, a = 0, b = 0; i < in->n; i++) {
		if (in->treat[i])
			O.ts[a++] = i;
		else
			O.cs[b++] = i;
	}
	g_m = m;
	g_in = in;
	qsort(O.cs, nc, sizeof *O.cs, cmp_ctrl);
	qsort(O.ts, nt, sizeof *O.ts, cmp_treat);
	g_m = NULL;
	g_in = NULL;
	windows(&O);
	for (size_t j = 0; j < nt; j++)
		O.span[j] = 2 * (size_t)o->ratio + 2;
	if (m->caliper_width <= 0 && (rc = chain_init(&O)) != 0) {
		rc = yoc_error_set(e, rc, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	while (!O.chain || m->rounds == 0) {
		size_t nbad;
		if ((rc = solve(&O)) != 0) {
			rc = yoc_error_set(e, rc, NULL, 0, 0, "out of memory");
			goto cleanup;
		}
		m->rounds++;
		if (O.chain)
			break;
		certify(&O, tr, &nbad);
		if (nbad == 0)
			break;
	}
	rc = make_sets(&O, o->caliper, e);
cleanup:
	yoc_free(O.ts);
	yoc_free(O.cs);
	yoc_free(O.slo);
	yoc_free(O.shi);
	yoc_free(O.wlo);
	yoc_free(O.whi);
	yoc_free(O.mid);
	yoc_free(O.span);
	yoc_free(O.drops);
	yoc_free(O.mate);
	yoc_free(O.pot);
	yoc_free(O.dist);
	yoc_free(O.pred);
	yoc_free(O.settled);
	yoc_free(O.seen);
	yoc_free(O.done);
	yoc_free(O.heap);
	yoc_free(O.flow);
	yoc_free(O.fl);
	yoc_free(O.fr);
	yoc_free(O.bymid);
	yoc_free(O.first);
	yoc_free(O.end);
	yoc_free(tr);
	return rc;
}

/*
** Unit tests of src/eval: matching is deterministic under row order with
** tied scores (keys break ties), respects exact strata and the caliper,
** takes k distinct controls with replacement; balance on a table worked by
** hand; the bootstrap of a constant is that constant and a seed repeats its
** interval; every allocation failure is clean. Optimal pair matching on
** scores set by hand: a case greedy gets wrong, the caliper (as many pairs
** as it allows first), strata, 1:2, row order. R MatchIt agreement is
** tests/cli/evaluate_matchit.sh, scipy's for optimal evaluate_optimal.sh.
*/
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eval/eval.h"

#define N 60

struct rows {
	double X[N * 2];
	unsigned char treat[N];
	char keybuf[N][8];
	const char *key[N];
	int64_t stratum[N];
};

/* Row i: x1 in a few repeated values (so scores tie), x2 a group; every 4th treated. */
static void make_rows(struct rows *r, const int *perm)
{
	for (int j = 0; j < N; j++) {
		int i = perm ? perm[j] : j;
		r->X[j * 2] = (double)(i % 7) + (i % 4 == 0 ? 0.5 : 0.0);
		r->X[j * 2 + 1] = (double)(i % 3);
		r->treat[j] = i % 4 == 0;
		snprintf(r->keybuf[j], sizeof r->keybuf[j], "k%03d", i);
		r->key[j] = r->keybuf[j];
		r->stratum[j] = i % 2;
	}
}

static const char *const names[2] = {"x1", "x2"};

/* The matched pairs as "treatedkey>controlkey" strings, sorted. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}
static size_t pairs_of(const struct rows *r, const struct yoc_eval_match *m, char out[][20])
{
	size_t n = 0;
	for (size_t s = 0; s < m->nsets; s++)
		for (size_t k = m->set_c0[s]; k < m->set_c0[s + 1]; k++)
			snprintf(out[n++], 20, "%s>%s", r->key[m->set_t[s]], r->key[m->ctrl[k]]);
	qsort(out, n, 20, cmp_str);
	return n;
}

static void test_ties_row_order(void **state)
{
	(void)state;
	static struct rows a, b;
	int perm[N];
	for (int i = 0; i < N; i++)
		perm[i] = (i * 37 + 11) % N; /* 37 and 60 coprime: a permutation */
	make_rows(&a, NULL);
	make_rows(&b, perm);
	struct yoc_eval_input ia = {N, 2, names, a.X, a.treat, a.key, NULL};
	struct yoc_eval_input ib = {N, 2, names, b.X, b.treat, b.key, NULL};
	struct yoc_eval_match ma, mb;
	struct yoc_error e;
	assert_int_equal(yoc_eval_match(&ia, NULL, &ma, &e), 0);
	assert_int_equal(yoc_eval_match(&ib, NULL, &mb, &e), 0);
	static char pa[N][20], pb[N][20];
	size_t na = pairs_of(&a, &ma, pa), nb = pairs_of(&b, &mb, pb);
	assert_int_equal(na, 15);
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++)
		assert_string_equal(pa[i], pb[i]);
	yoc_eval_match_free(&ma);
	yoc_eval_match_free(&mb);
}

static void test_exact_caliper_replace(void **state)
{
	(void)state;
	static struct rows r;
	make_rows(&r, NULL);
	struct yoc_eval_input in = {N, 2, names, r.X, r.treat, r.key, r.stratum};
	struct yoc_eval_opts o;
	yoc_eval_opts_init(&o);
	o.ratio = 2;
	struct yoc_eval_match m;
	struct yoc_error e;
	assert_int_equal(yoc_eval_match(&in, &o, &m, &e), 0);
	for (size_t s = 0; s < m.nsets; s++)
		for (size_t k = m.set_c0[s]; k < m.set_c0[s + 1]; k++)
			assert_int_equal(r.stratum[m.set_t[s]], r.stratum[m.ctrl[k]]);
	yoc_eval_match_free(&m);
	/* caliper: every kept pair within the width */
	in.stratum = NULL;
	o.ratio = 1;
	o.caliper = 0.25;
	assert_int_equal(yoc_eval_match(&in, &o, &m, &e), 0);
	assert_true(m.caliper_width > 0);
	for (size_t s = 0; s < m.nsets; s++)
		assert_true(fabs(m.lps[m.set_t[s]] - m.lps[m.ctrl[m.set_c0[s]]]) <= m.caliper_width);
	assert_int_equal(m.nsets + m.n_caliper + m.n_no_control, m.n_treated);
	yoc_eval_match_free(&m);
	/* with replacement, 3 distinct controls each; weights sum to the sets */
	o.caliper = 0;
	o.replace = 1;
	o.ratio = 3;
	assert_int_equal(yoc_eval_match(&in, &o, &m, &e), 0);
	double wc = 0;
	for (size_t i = 0; i < N; i++)
		if (!r.treat[i])
			wc += m.w[i];
	assert_true(fabs(wc - (double)m.nsets) < 1e-12);
	for (size_t s = 0; s < m.nsets; s++) {
		assert_int_equal(m.set_c0[s + 1] - m.set_c0[s], 3);
		size_t c = m.set_c0[s];
		assert_true(m.ctrl[c] != m.ctrl[c + 1] && m.ctrl[c] != m.ctrl[c + 2] &&
			    m.ctrl[c + 1] != m.ctrl[c + 2]);
	}
	yoc_eval_match_free(&m);
}

static void test_errors(void **state)
{
	(void)state;
	static struct rows r;
	make_rows(&r, NULL);
	unsigned char all[N];
	memset(all, 1, sizeof all);
	struct yoc_eval_input in = {N, 2, names, r.X, all, r.key, NULL};
	struct yoc_eval_match m;
	struct yoc_error e;
	assert_int_equal(yoc_eval_match(&in, NULL, &m, &e), YOC_EDATA);
	assert_non_null(strstr(e.msg, "no eligible controls"));
	memset(all, 0, sizeof all);
	assert_int_equal(yoc_eval_match(&in, NULL, &m, &e), YOC_EDATA);
	assert_non_null(strstr(e.msg, "no treated"));
}

/* Balance by hand: one covariate, treated {1, 3}, controls {0, 0, 4}; pairs 3-4, 1-0. */
static void test_balance_by_hand(void **state)
{
	(void)state;
	double X[5] = {1, 3, 0, 0, 4};
	unsigned char t[5] = {1, 1, 0, 0, 0};
	const char *nm[1] = {"x"};
	struct yoc_eval_input in = {5, 1, nm, X, t, NULL, NULL};
	size_t set_t[2] = {1, 0}, c0[3] = {0, 1, 2}, ctrl[2] = {4, 2};
	double w[5] = {1, 1, 1, 0, 1};
	struct yoc_eval_match m = {0};
	m.n = 5;
	m.w = w;
	m.nsets = 2;
	m.set_t = set_t;
	m.set_c0 = c0;
	m.ctrl = ctrl;
	struct yoc_eval_balance b;
	assert_int_equal(yoc_eval_balance(&in, &m, &b), 0);
	/* treated mean 2, SD sqrt(2); controls mean 4/3 before, 2 after */
	assert_true(fabs(b.smd_before - (2.0 - 4.0 / 3.0) / sqrt(2.0)) < 1e-12);
	assert_true(fabs(b.smd_after) < 1e-12);
	/* variance ratio before: 2 / var{0,0,4} = 2 / (16/3) */
	assert_true(fabs(b.vr_before - 2.0 / (16.0 / 3.0)) < 1e-12);
	assert_true(fabs(b.vr_after - 2.0 / 8.0) < 1e-12);
	/* effect: post = x + 1 for everyone, pre = x: DiD 0; ATT without pre = 0 too */
	double post[5], pre[5];
	for (int i = 0; i < 5; i++) {
		pre[i] = X[i];
		post[i] = X[i] + (t[i] ? 2.5 : 1.0);
	}
	struct yoc_eval_opts o;
	yoc_eval_opts_init(&o);
	o.nboot = 50;
	struct yoc_eval_effect ef;
	struct yoc_error e;
	assert_int_equal(yoc_eval_effect(&in, &m, pre, post, &o, &ef, &e), 0);
	assert_true(fabs(ef.did.est - 1.5) < 1e-12);
	/* every set's difference is 1.5: so is every replicate */
	assert_true(fabs(ef.did.lo - 1.5) < 1e-12 && fabs(ef.did.hi - 1.5) < 1e-12);
	assert_true(fabs(ef.naive.est - 2.5) < 1e-12);
}

static void test_bootstrap_seed(void **state)
{
	(void)state;
	static struct rows r;
	make_rows(&r, NULL);
	struct yoc_eval_input in = {N, 2, names, r.X, r.treat, r.key, NULL};
	struct yoc_eval_match m;
	struct yoc_error e;
	assert_int_equal(yoc_eval_match(&in, NULL, &m, &e), 0);
	double post[N];
	for (int i = 0; i < N; i++)
		post[i] = sin((double)i) * 3 + r.treat[i];
	struct yoc_eval_opts o;
	yoc_eval_opts_init(&o);
	o.nboot = 300;
	struct yoc_eval_effect a, b, c;
	assert_int_equal(yoc_eval_effect(&in, &m, NULL, post, &o, &a, &e), 0);
	assert_int_equal(yoc_eval_effect(&in, &m, NULL, post, &o, &b, &e), 0);
	o.seed = 2;
	assert_int_equal(yoc_eval_effect(&in, &m, NULL, post, &o, &c, &e), 0);
	assert_true(a.did.lo == b.did.lo && a.did.hi == b.did.hi);
	assert_true(a.did.lo != c.did.lo || a.did.hi != c.did.hi);
	assert_true(a.did.lo <= a.did.est && a.did.est <= a.did.hi);
	assert_true(isnan(a.naive.est));
	yoc_eval_match_free(&m);
}


/* ---- optimal pair matching on hand-set scores ------------------------------ */

struct hand {
	size_t n;
	double ps[12], lps[12], w[12];
	unsigned char treat[12];
	const char *key[12];
	int64_t stratum[12];
};

/* Runs yoc__eval_optimal on scores set by hand (no model). */
static int run_hand(struct hand *h, int ratio, double width, int strata, struct yoc_eval_match *m)
{
	struct yoc_eval_input in = {h->n, 0, NULL, NULL, h->treat, h->key, strata ? h->stratum : NULL};
	struct yoc_eval_opts o;
	struct yoc_error e;
	yoc_eval_opts_init(&o);
	o.method = YOC_EVAL_OPTIMAL;
	o.ratio = ratio;
	memset(m, 0, sizeof *m);
	memset(h->w, 0, sizeof h->w);
	for (size_t i = 0; i < h->n; i++) {
		h->lps[i] = log(h->ps[i] / (1 - h->ps[i]));
		m->n_treated += h->treat[i];
	}
	m->n = h->n;
	m->n_controls = h->n - m->n_treated;
	m->ps = h->ps;
	m->lps = h->lps;
	m->w = h->w;
	m->caliper_width = width;
	return yoc__eval_optimal(&in, &o, m, &e);
}

static void free_hand(struct yoc_eval_match *m)
{
	yoc_free(m->set_t);
	yoc_free(m->set_c0);
	yoc_free(m->ctrl);
}

/* The control of treated row t (its first), or -1. */
static int ctrl_of(const struct yoc_eval_match *m, size_t t, int k)
{
	for (size_t s = 0; s < m->nsets; s++)
		if (m->set_t[s] == t)
			return (int)m->ctrl[m->set_c0[s] + (size_t)k];
	return -1;
}

static double hand_distance(const struct hand *h, const struct yoc_eval_match *m)
{
	double d = 0;
	for (size_t s = 0; s < m->nsets; s++)
		for (size_t k = m->set_c0[s]; k < m->set_c0[s + 1]; k++)
			d += fabs(h->ps[m->set_t[s]] - h->ps[m->ctrl[k]]);
	return d;
}

static void set_hand(struct hand *h, size_t n, const double *ps, const unsigned char *t)
{
	static const char *const keys[12] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"};
	memset(h, 0, sizeof *h);
	h->n = n;
	for (size_t i = 0; i < n; i++) {
		h->ps[i] = ps[i];
		h->treat[i] = t[i];
		h->key[i] = keys[i];
	}
}

/*
** Treated at 0.30 and 0.45, controls at 0.40 and 0.60. Greedy, from the
** highest score, gives 0.45 its nearest (0.40, distance 0.05) and leaves
** 0.30 with 0.60 (0.30): total 0.35. The optimum pairs 0.30-0.40 (0.10) and
** 0.45-0.60 (0.15): total 0.25. With and without a caliper (the chain and
** the window graphs).
*/
static void test_optimal_beats_greedy(void **state)
{
	(void)state;
	static const double ps[4] = {0.30, 0.40, 0.45, 0.60};
	static const unsigned char t[4] = {1, 0, 1, 0};
	struct hand h;
	struct yoc_eval_match m;
	for (int cal = 0; cal < 2; cal++) {
		set_hand(&h, 4, ps, t);
		assert_int_equal(run_hand(&h, 1, cal ? 10.0 : 0, 0, &m), 0);
		assert_int_equal(m.nsets, 2);
		assert_int_equal(ctrl_of(&m, 0, 0), 1);
		assert_int_equal(ctrl_of(&m, 2, 0), 3);
		assert_true(fabs(hand_distance(&h, &m) - 0.25) < 1e-12);
		assert_true(h.w[1] == 1.0 && h.w[3] == 1.0 && h.w[0] == 1.0);
		free_hand(&m);
	}
	/* the engine through yoc_eval_match, on a fitted score: never above nearest */
	static struct rows r;
	make_rows(&r, NULL);
	struct yoc_eval_input in = {N, 2, names, r.X, r.treat, r.key, NULL};
	struct yoc_eval_opts o;
	struct yoc_eval_match mn, mo;
	struct yoc_error e;
	yoc_eval_opts_init(&o);
	for (int ratio = 1; ratio <= 2; ratio++) {
		o.ratio = ratio;
		o.method = YOC_EVAL_NEAREST;
		assert_int_equal(yoc_eval_match(&in, &o, &mn, &e), 0);
		o.method = YOC_EVAL_OPTIMAL;
		assert_int_equal(yoc_eval_match(&in, &o, &mo, &e), 0);
		assert_int_equal(mo.set_c0[mo.nsets], mn.set_c0[mn.nsets]);
		assert_true(mo.distance <= mn.distance + 1e-12);
		yoc_eval_match_free(&mn);
		yoc_eval_match_free(&mo);
	}
	o.replace = 1;
	assert_int_equal(yoc_eval_match(&in, &o, &mo, &e), YOC_EINVAL);
	assert_non_null(strstr(e.msg, "without replacement"));
}

/*
** Caliper first: treated at 0.50 and 0.56, controls at 0.40 and 0.53; the
** caliper (0.5 on the logit) forbids 0.56-0.40 alone. The least distance
** would be one pair, 0.50-0.53 or 0.56-0.53 (0.03); as many pairs as
** possible is two: 0.50-0.40 and 0.56-0.53 (0.13). A third treated person
** at 0.95 has no control within the caliper while one (0.05) is left: it is
** counted as beyond the caliper.
*/
static void test_optimal_caliper(void **state)
{
	(void)state;
	static const double ps[6] = {0.50, 0.56, 0.40, 0.53, 0.95, 0.05};
	static const unsigned char t[6] = {1, 1, 0, 0, 1, 0};
	struct hand h;
	struct yoc_eval_match m;
	set_hand(&h, 6, ps, t);
	assert_int_equal(run_hand(&h, 1, 0.5, 0, &m), 0);
	assert_int_equal(m.nsets, 2);
	assert_int_equal(ctrl_of(&m, 0, 0), 2);
	assert_int_equal(ctrl_of(&m, 1, 0), 3);
	assert_true(fabs(hand_distance(&h, &m) - 0.13) < 1e-12);
	assert_int_equal(m.n_caliper, 1);
	assert_int_equal(m.n_no_control, 0);
	free_hand(&m);
	/* a caliper nobody meets */
	set_hand(&h, 6, ps, t);
	struct yoc_eval_match m2;
	assert_int_equal(run_hand(&h, 1, 1e-6, 0, &m2), YOC_EDATA);
}

/*
** 1:2 and strata. Stratum 0: treated 0.30 and 0.60, controls 0.25, 0.35,
** 0.55, 0.62, 0.72 and 0.90: each takes its two neighbours (0.10 + 0.07).
** Stratum 1: treated 0.50 and 0.70, one control 0.52 (0.72 is in stratum 0
** and not eligible): 0.50 takes it (0.02), 0.70 has no control left.
*/
static void test_optimal_ratio_strata(void **state)
{
	(void)state;
	static const double ps[11] = {0.30, 0.60, 0.25, 0.35, 0.55, 0.62, 0.90,
				      0.50, 0.70, 0.52, 0.72};
	static const unsigned char t[11] = {1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0};
	static const int64_t st[11] = {0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0};
	struct hand h;
	struct yoc_eval_match m;
	for (int cal = 0; cal < 2; cal++) {
		set_hand(&h, 11, ps, t);
		memcpy(h.stratum, st, sizeof st);
		assert_int_equal(run_hand(&h, 2, cal ? 10.0 : 0, 1, &m), 0);
		assert_int_equal(m.nsets, 3);
		assert_int_equal(ctrl_of(&m, 0, 0), 2);
		assert_int_equal(ctrl_of(&m, 0, 1), 3);
		assert_int_equal(ctrl_of(&m, 1, 0), 4);
		assert_int_equal(ctrl_of(&m, 1, 1), 5);
		assert_int_equal(ctrl_of(&m, 7, 0), 9);
		assert_int_equal(m.set_c0[m.nsets], 5);
		assert_int_equal(m.n_no_control, 1);
		assert_true(fabs(h.w[9] - 1.0) < 1e-12 && fabs(h.w[2] - 0.5) < 1e-12);
		assert_true(fabs(hand_distance(&h, &m) - (0.10 + 0.07 + 0.02)) < 1e-12);
		free_hand(&m);
	}
}

/*
** Treated people first: 1:2 with treated at 0.30 and 0.60 and controls at
** 0.31 and 0.32. Two pairs either way; the least distance would give both
** controls to 0.30 (0.01 + 0.02), but each treated person who can be matched
** is: 0.30-0.31 and 0.60-0.32 (0.01 + 0.28).
*/
static void test_optimal_treated_first(void **state)
{
	(void)state;
	static const double ps[4] = {0.30, 0.60, 0.31, 0.32};
	static const unsigned char t[4] = {1, 1, 0, 0};
	struct hand h;
	struct yoc_eval_match m;
	for (int cal = 0; cal < 2; cal++) {
		set_hand(&h, 4, ps, t);
		assert_int_equal(run_hand(&h, 2, cal ? 10.0 : 0, 0, &m), 0);
		assert_int_equal(m.nsets, 2);
		assert_int_equal(ctrl_of(&m, 0, 0), 2);
		assert_int_equal(ctrl_of(&m, 1, 0), 3);
		assert_true(fabs(hand_distance(&h, &m) - 0.29) < 1e-12);
		free_hand(&m);
	}
}

/* Tied scores: the pairs do not depend on row order (keys break ties). */
static void test_optimal_row_order(void **state)
{
	(void)state;
	static struct rows a, b;
	int perm[N];
	for (int i = 0; i < N; i++)
		perm[i] = (i * 37 + 11) % N;
	make_rows(&a, NULL);
	make_rows(&b, perm);
	struct yoc_eval_input ia = {N, 2, names, a.X, a.treat, a.key, a.stratum};
	struct yoc_eval_input ib = {N, 2, names, b.X, b.treat, b.key, b.stratum};
	struct yoc_eval_opts o;
	yoc_eval_opts_init(&o);
	o.method = YOC_EVAL_OPTIMAL;
	for (int cal = 0; cal < 2; cal++) {
		o.caliper = cal ? 0.5 : 0;
		struct yoc_eval_match ma, mb;
		struct yoc_error e;
		assert_int_equal(yoc_eval_match(&ia, &o, &ma, &e), 0);
		assert_int_equal(yoc_eval_match(&ib, &o, &mb, &e), 0);
		static char pa[N][20], pb[N][20];
		size_t na = pairs_of(&a, &ma, pa), nb = pairs_of(&b, &mb, pb);
		assert_true(na > 0);
		assert_int_equal(na, nb);
		for (size_t i = 0; i < na; i++)
			assert_string_equal(pa[i], pb[i]);
		yoc_eval_match_free(&ma);
		yoc_eval_match_free(&mb);
	}
}

static void test_alloc_failures(void **state)
{
	(void)state;
	static struct rows r;
	make_rows(&r, NULL);
	struct yoc_eval_input in = {N, 2, names, r.X, r.treat, r.key, r.stratum};
	struct yoc_eval_opts o;
	yoc_eval_opts_init(&o);
	o.ratio = 2;
	o.nboot = 20;
	double post[N];
	for (int i = 0; i < N; i++)
		post[i] = (double)i;
	for (int method = 0; method < 3; method++) {
	o.method = method ? YOC_EVAL_OPTIMAL : YOC_EVAL_NEAREST;
	o.caliper = method == 2 ? 0.5 : 0; /* optimal: the chain, then the windows */
	int rc = -1;
	unsigned long nth;
	for (nth = 1; nth < 500 && rc != 0; nth++) {
		struct yoc_eval_match m;
		struct yoc_eval_effect ef;
		struct yoc_error e;
		yoc_alloc_fail_at(nth);
		rc = yoc_eval_match(&in, &o, &m, &e);
		if (rc == 0) {
			rc = yoc_eval_effect(&in, &m, post, post, &o, &ef, &e);
			yoc_eval_match_free(&m);
		}
		yoc_alloc_fail_at(0);
		assert_true(rc == 0 || rc == YOC_ENOMEM);
	}
	assert_int_equal(rc, 0);
	assert_true(nth > 5);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ties_row_order),
		cmocka_unit_test(test_exact_caliper_replace),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_balance_by_hand),
		cmocka_unit_test(test_bootstrap_seed),
		cmocka_unit_test(test_optimal_beats_greedy),
		cmocka_unit_test(test_optimal_caliper),
		cmocka_unit_test(test_optimal_ratio_strata),
		cmocka_unit_test(test_optimal_treated_first),
		cmocka_unit_test(test_optimal_row_order),
		cmocka_unit_test(test_alloc_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
** Disclosure control: primary suppression and rounding, and secondary
** suppression checked against crafted tables where a primary-only rule
** leaks. The check is independent of the code under test: a brute-force
** enumeration of every non-negative integer table that agrees with the
** published cells and the (exact) margins; a hidden primary cell is safe
** only if it takes at least two values across those tables.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdc/sdc.h"

/* ---- brute force --------------------------------------------------- */

struct bf {
	int nr, nc, tr, tc;
	const int64_t *v;
	const unsigned char *hidden; /* nonzero = unknown to the attacker */
	int64_t cur[64];
	int assigned[64];
	int64_t minv[64], maxv[64];
	int64_t bound;
	long solutions;
};

/* Sum relations: returns the number of groups, members listed in mem[g][],
 * the total cell last. */
static int groups(const struct bf *b, int mem[16][17], int *len)
{
	int g = 0;
	if (b->tc)
		for (int i = 0; i < b->nr; i++, g++) {
			len[g] = b->nc;
			for (int j = 0; j < b->nc; j++)
				mem[g][j] = i * b->nc + j;
		}
	if (b->tr)
		for (int j = 0; j < b->nc; j++, g++) {
			len[g] = b->nr;
			for (int i = 0; i < b->nr; i++)
				mem[g][i] = i * b->nc + j;
		}
	return g;
}

static int consistent(struct bf *b, int complete)
{
	int mem[16][17], len[16];
	int ng = groups(b, mem, len);
	for (int g = 0; g < ng; g++) {
		int64_t sum = 0;
		int open = 0;
		for (int k = 0; k < len[g] - 1; k++) {
			int c = mem[g][k];
			if (b->assigned[c])
				sum += b->cur[c];
			else
				open = 1;
		}
		int t = mem[g][len[g] - 1];
		if (!b->assigned[t]) {
			continue;
		}
		if (sum > b->cur[t])
			return 0;
		if ((!open || complete) && sum != b->cur[t])
			return 0;
	}
	return 1;
}

static void search(struct bf *b)
{
	int n = b->nr * b->nc, next = -1;
	/* A group with one unknown member left forces that member's value. */
	int mem[16][17], len[16];
	int ng = groups(b, mem, len);
	for (int g = 0; g < ng; g++) {
		int open = -1, nopen = 0;
		int64_t sum = 0;
		for (int k = 0; k < len[g]; k++) {
			int c = mem[g][k];
			if (!b->assigned[c]) {
				open = c;
				nopen++;
			} else if (k < len[g] - 1) {
				sum += b->cur[c];
			}
		}
		if (nopen != 1)
			continue;
		int t = mem[g][len[g] - 1];
		int64_t x = open == t ? sum : b->cur[t] - sum;
		if (x < 0)
			return;
		b->cur[open] = x;
		b->assigned[open] = 1;
		if (consistent(b, 0))
			search(b);
		b->assigned[open] = 0;
		return;
	}
	for (int c = 0; c < n; c++)
		if (!b->assigned[c]) {
			next = c;
			break;
		}
	if (next < 0) {
		if (!consistent(b, 1))
			return;
		b->solutions++;
		for (int c = 0; c < n; c++) {
			if (b->cur[c] < b->minv[c])
				b->minv[c] = b->cur[c];
			if (b->cur[c] > b->maxv[c])
				b->maxv[c] = b->cur[c];
		}
		return;
	}
	for (int64_t x = 0; x <= b->bound; x++) {
		b->cur[next] = x;
		b->assigned[next] = 1;
		if (consistent(b, 0))
			search(b);
		b->assigned[next] = 0;
	}
}

/* Number of hidden cells that can be solved exactly (min == max). */
static int bf_leaks(int nr, int nc, int tr, int tc, const int64_t *v,
		    const unsigned char *hidden, int only_primary,
		    const unsigned char *state)
{
	struct bf b;
	memset(&b, 0, sizeof b);
	b.nr = nr, b.nc = nc, b.tr = tr, b.tc = tc, b.v = v, b.hidden = hidden;
	int n = nr * nc;
	assert_true(n <= 64);
	for (int c = 0; c < n; c++) {
		if (v[c] > b.bound)
			b.bound = v[c];
		b.assigned[c] = !hidden[c];
		b.cur[c] = v[c];
		b.minv[c] = INT64_MAX;
		b.maxv[c] = INT64_MIN;
	}
	search(&b);
	assert_true(b.solutions >= 1); /* the true table */
	int leaks = 0;
	for (int c = 0; c < n; c++)
		if (hidden[c] && (!only_primary || state[c] == YOC_SDC_PRIMARY) &&
		    b.minv[c] == b.maxv[c])
			leaks++;
	return leaks;
}

/* ---- tests ---------------------------------------------------------- */

static void test_one(void **st)
{
	(void)st;
	struct yoc_sdc s;
	yoc_sdc_init(&s);
	assert_int_equal(yoc_sdc_one(&s, 0), 0);
	for (int i = 1; i <= 7; i++)
		assert_int_equal(yoc_sdc_one(&s, i), YOC_SDC_HIDDEN);
	assert_int_equal(yoc_sdc_one(&s, 8), 10);
	assert_int_equal(yoc_sdc_one(&s, 12), 10);
	assert_int_equal(yoc_sdc_one(&s, 13), 15);
	assert_int_equal(yoc_sdc_one(&s, 1002), 1000);
	s.threshold = 10;
	s.round_to = 10;
	assert_int_equal(yoc_sdc_one(&s, 10), YOC_SDC_HIDDEN);
	assert_int_equal(yoc_sdc_one(&s, 15), 20); /* halves up */
	assert_int_equal(yoc_sdc_one(&s, 14), 10);
	s.off = 1;
	assert_int_equal(yoc_sdc_one(&s, 3), 3);
	char buf[32];
	assert_string_equal(yoc_sdc_fmt(YOC_SDC_HIDDEN, 1, buf), "*");
	assert_string_equal(yoc_sdc_fmt(1234567, 1, buf), "1,234,567");
	assert_string_equal(yoc_sdc_fmt(1234567, 0, buf), "1234567");
	assert_string_equal(yoc_sdc_fmt(0, 1, buf), "0");
}

static void primary_only(int n, const int64_t *v, unsigned char *hidden)
{
	for (int c = 0; c < n; c++)
		hidden[c] = v[c] >= 1 && v[c] <= 7;
}

/* 1-D with a total: one small cell; the total gives it away. */
static void test_1d_leak(void **st)
{
	(void)st;
	struct yoc_sdc s;
	yoc_sdc_init(&s);
	const int64_t v[] = {3, 50, 40, 0, 93};
	unsigned char naive[5], state[5];
	int64_t out[5];
	primary_only(5, v, naive);
	assert_int_equal(bf_leaks(5, 1, 1, 0, v, naive, 0, NULL), 1);
	assert_int_equal(yoc_sdc_protect(&s, 5, 1, 1, 0, v, state, out), 0);
	assert_int_equal(state[0], YOC_SDC_PRIMARY);
	assert_int_equal(state[2], YOC_SDC_SECONDARY); /* smallest non-zero other */
	assert_int_equal(state[3], YOC_SDC_SHOWN);     /* zero stays 0 */
	assert_int_equal(out[0], YOC_SDC_HIDDEN);
	assert_int_equal(out[1], 50);
	assert_int_equal(out[4], 95);
	assert_int_equal(bf_leaks(5, 1, 1, 0, v, state, 1, state), 0);
}

/* 2-D with margins: a single small cell is recovered from its row total. */
static void test_2d_leak(void **st)
{
	(void)st;
	struct yoc_sdc s;
	yoc_sdc_init(&s);
	const int64_t v[] = {
		20, 5,  30, 55,
		12, 40, 9,  61,
		30, 11, 25, 66,
		62, 56, 64, 182,
	};
	unsigned char naive[16], state[16];
	int64_t out[16];
	primary_only(16, v, naive);
	assert_int_equal(bf_leaks(4, 4, 1, 1, v, naive, 0, NULL), 1);
	assert_int_equal(yoc_sdc_protect(&s, 4, 4, 1, 1, v, state, out), 0);
	assert_int_equal(bf_leaks(4, 4, 1, 1, v, state, 1, state), 0);
	int hidden = 0;
	for (int c = 0; c < 16; c++)
		hidden += state[c] != 0;
	assert_int_equal(hidden, 4); /* a 2x2 cycle is the least that protects */
	assert_int_equal(state[1], YOC_SDC_PRIMARY);
	/* the cheapest rectangle: 20 + 11 + 30 = 61 */
	assert_int_equal(state[0], YOC_SDC_SECONDARY);
	assert_int_equal(state[9], YOC_SDC_SECONDARY);
	assert_int_equal(state[8], YOC_SDC_SECONDARY);
}

/*
** Every row and column holds two hidden cells, which a "no group with
** exactly one hidden cell" rule accepts, yet the cell bridging two 2x2
** cycles is determined: rows 0 and 1 minus columns 0 and 1 isolate it.
*/
static void test_bridge(void **st)
{
	(void)st;
	const int64_t v[] = {
		9,  10, 20, 30, 69,
		11, 12, 3,  40, 66,
		20, 30, 13, 14, 77,
		25, 35, 15, 16, 91,
		65, 87, 51, 100, 303,
	};
	unsigned char hid[25] = {0};
	int cyc[] = {0, 1, 5, 6, 12, 13, 17, 18, 7};
	for (size_t k = 0; k < sizeof cyc / sizeof *cyc; k++)
		hid[cyc[k]] = 1;
	/* the naive group rule is satisfied ... */
	for (int i = 0; i < 4; i++) {
		int r = 0, c = 0;
		for (int j = 0; j < 4; j++) {
			r += hid[i * 5 + j];
			c += hid[j * 5 + i];
		}
		assert_true(r == 0 || r >= 2);
		assert_true(c == 0 || c >= 2);
	}
	/* ... but the bridge (1,2) leaks, and the linear test says so */
	assert_int_equal(bf_leaks(5, 5, 1, 1, v, hid, 0, NULL), 1);
	assert_int_equal(yoc_sdc_derivable(5, 5, 1, 1, hid, 7), 1);
	assert_int_equal(yoc_sdc_derivable(5, 5, 1, 1, hid, 0), 0);
	/* protect() with the bridge cell as the only small one is safe */
	struct yoc_sdc s;
	yoc_sdc_init(&s);
	unsigned char state[25];
	int64_t out[25];
	assert_int_equal(yoc_sdc_protect(&s, 5, 5, 1, 1, v, state, out), 0);
	assert_int_equal(state[7], YOC_SDC_PRIMARY);
	assert_int_equal(bf_leaks(5, 5, 1, 1, v, state, 1, state), 0);
}

/* Small cells in the margins themselves, and a whole small row. */
static void test_small_margins(void **st)
{
	(void)st;
	struct yoc_sdc s;
	yoc_sdc_init(&s);
	const int64_t v[] = {
		1, 2, 0, 3,
		20, 30, 25, 75,
		14, 9, 30, 53,
		35, 41, 55, 131,
	};
	unsigned char state[16];
	int64_t out[16];
	assert_int_equal(yoc_sdc_protect(&s, 4, 4, 1, 1, v, state, out), 0);
	assert_int_equal(state[3], YOC_SDC_PRIMARY);
	assert_int_equal(bf_leaks(4, 4, 1, 1, v, state, 1, state), 0);
}

/* Random small tables: whatever the pattern, no primary cell is exact. */
static void test_random(void **st)
{
	(void)st;
	struct yoc_sdc s;
	yoc_sdc_init(&s);
	unsigned long seed = 12345;
	int tables = 0, withsmall = 0;
	for (int t = 0; t < 300; t++) {
		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		int nr = 2 + (int)((seed >> 33) % 2), nc = 2 + (int)((seed >> 40) % 3);
		int R = nr + 1, C = nc + 1;
		int64_t v[64] = {0};
		int small = 0;
		for (int i = 0; i < nr; i++)
			for (int j = 0; j < nc; j++) {
				seed = seed * 6364136223846793005UL + 1442695040888963407UL;
				int r = (int)((seed >> 35) % 10);
				int64_t x = r < 3 ? 1 + (int64_t)((seed >> 20) % 7)
					: r < 4 ? 0 : 8 + (int64_t)((seed >> 20) % 10);
				v[i * C + j] = x;
				small += x >= 1 && x <= 7;
			}
		for (int i = 0; i < nr; i++)
			for (int j = 0; j < nc; j++) {
				v[i * C + nc] += v[i * C + j];
				v[nr * C + j] += v[i * C + j];
				v[nr * C + nc] += v[i * C + j];
			}
		unsigned char state[64];
		int64_t out[64];
		assert_int_equal(yoc_sdc_protect(&s, R, C, 1, 1, v, state, out), 0);
		assert_int_equal(bf_leaks(R, C, 1, 1, v, state, 1, state), 0);
		for (int c = 0; c < R * C; c++) {
			if (v[c] >= 1 && v[c] <= 7)
				assert_int_equal(out[c], YOC_SDC_HIDDEN);
			if (!state[c])
				assert_true(out[c] % 5 == 0);
		}
		tables++;
		withsmall += small > 0;
	}
	assert_int_equal(tables, 300);
	assert_true(withsmall > 200);
}

/* Random columns with a total (the one-relation path): no primary cell exact. */
static void test_random_column(void **st)
{
	(void)st;
	struct yoc_sdc s;
	yoc_sdc_init(&s);
	unsigned long seed = 777;
	for (int t = 0; t < 300; t++) {
		int64_t v[8] = {0};
		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		int n = 2 + (int)((seed >> 33) % 5);
		for (int i = 0; i < n; i++) {
			seed = seed * 6364136223846793005UL + 1442695040888963407UL;
			int r = (int)((seed >> 35) % 10);
			v[i] = r < 3 ? 1 + (int64_t)((seed >> 20) % 7) : r < 4 ? 0 : 8 + (int64_t)((seed >> 20) % 10);
			v[n] += v[i];
		}
		unsigned char state[8];
		int64_t out[8];
		assert_int_equal(yoc_sdc_protect(&s, n + 1, 1, 1, 0, v, state, out), 0);
		assert_int_equal(bf_leaks(n + 1, 1, 1, 0, v, state, 1, state), 0);
		int nh = 0;
		for (int i = 0; i <= n; i++)
			nh += state[i] != 0;
		assert_true(nh != 1);
	}
}

/* A column longer than the linear-algebra limit (thousands of practices). */
static void test_long_column(void **st)
{
	(void)st;
	struct yoc_sdc s;
	yoc_sdc_init(&s);
	enum { N = 5000 };
	int64_t *v = calloc(N + 1, sizeof *v), *out = calloc(N + 1, sizeof *out);
	unsigned char *state = calloc(N + 1, 1);
	assert_non_null(v);
	assert_non_null(out);
	assert_non_null(state);
	for (int i = 0; i < N; i++) {
		v[i] = i == 1234 ? 3 : i == 4000 ? 0 : 100 + i % 37;
		v[N] += v[i];
	}
	assert_int_equal(yoc_sdc_protect(&s, N + 1, 1, 1, 0, v, state, out), 0);
	int nh = 0;
	for (int i = 0; i <= N; i++)
		nh += out[i] == YOC_SDC_HIDDEN;
	assert_int_equal(nh, 2);
	assert_int_equal(state[1234], YOC_SDC_PRIMARY);
	assert_int_equal(state[0], YOC_SDC_SECONDARY); /* the smallest non-zero (100), first */
	assert_int_equal(out[4000], 0);
	assert_true(out[N] != YOC_SDC_HIDDEN);
	/* a 2-D table that large is still refused */
	assert_int_equal(yoc_sdc_protect(&s, N / 2, 2, 1, 0, v, state, out), YOC_EINVAL);
	free(v);
	free(out);
	free(state);
}

/* Cells hidden because another table hides them are protected as primary. */
static void test_hide(void **st)
{
	(void)st;
	struct yoc_sdc s;
	yoc_sdc_init(&s);
	const int64_t col[] = {50, 60, 70, 180};
	const unsigned char hcol[] = {0, 0, 0, 1};
	unsigned char state[16];
	int64_t out[16];
	assert_int_equal(yoc_sdc_protect_hide(&s, 4, 1, 1, 0, col, hcol, state, out), 0);
	assert_int_equal(out[3], YOC_SDC_HIDDEN);
	assert_int_equal(state[3], YOC_SDC_PRIMARY);
	assert_int_equal(state[0], YOC_SDC_SECONDARY);
	assert_int_equal(bf_leaks(4, 1, 1, 0, col, state, 1, state), 0);
	/* a 2-D table whose grand total must be hidden */
	const int64_t v[] = {
		20, 30, 50,
		40, 10, 50,
		60, 40, 100,
	};
	unsigned char h[9] = {0};
	h[8] = 1;
	assert_int_equal(yoc_sdc_protect_hide(&s, 3, 3, 1, 1, v, h, state, out), 0);
	assert_int_equal(out[8], YOC_SDC_HIDDEN);
	assert_int_equal(bf_leaks(3, 3, 1, 1, v, state, 1, state), 0);
	/* without suppression nothing is hidden */
	s.off = 1;
	assert_int_equal(yoc_sdc_protect_hide(&s, 3, 3, 1, 1, v, h, state, out), 0);
	assert_int_equal(out[8], 100);
}

static void test_off_and_errors(void **st)
{
	(void)st;
	struct yoc_sdc s;
	yoc_sdc_init(&s);
	const int64_t bad[] = {3, 4, 8}; /* 3 + 4 != 8 */
	unsigned char state[3];
	int64_t out[3];
	assert_int_equal(yoc_sdc_protect(&s, 3, 1, 1, 0, bad, state, out), YOC_EINVAL);
	const int64_t good[] = {3, 4, 7};
	s.off = 1;
	assert_int_equal(yoc_sdc_protect(&s, 3, 1, 1, 0, good, state, out), 0);
	assert_int_equal(out[0], 3);
	assert_int_equal(state[0], YOC_SDC_SHOWN);
	s.off = 0;
	assert_int_equal(yoc_sdc_protect(&s, 3, 1, 1, 0, good, state, out), 0);
	/* every cell here is small: all hidden, nothing derivable */
	assert_int_equal(out[0], YOC_SDC_HIDDEN);
	assert_int_equal(out[1], YOC_SDC_HIDDEN);
	assert_int_equal(out[2], YOC_SDC_HIDDEN);
	assert_int_equal(yoc_sdc_stat_ok(&s, 30, YOC_SDC_SHOWN), 1);
	assert_int_equal(yoc_sdc_stat_ok(&s, 30, YOC_SDC_SECONDARY), 0);
	assert_int_equal(yoc_sdc_stat_ok(&s, 5, YOC_SDC_SHOWN), 0);
	assert_int_equal(yoc_sdc_pctl_ok(&s, 15, YOC_SDC_SHOWN), 0);
	assert_int_equal(yoc_sdc_pctl_ok(&s, 25, YOC_SDC_SHOWN), 1);
}

/*
** Money beside counts. The attack of issue 11: a band's total GBP
** 1,738,084.77 and mean GBP 35,471.12 gave 49 people (shown as 50), a
** practice's total and mean gave 5,393 (shown as 5,395). With the money rule
** the published total and mean must admit every count the published count
** stands for: for each n in its rounding window, some exact total that
** rounds to the published total has mean(n) = the published mean under the
** exact-mean reading, or the mean is exactly the published total over the
** published count (the documented derivation, which carries nothing else).
*/
static int n_consistent(int64_t total_pub, int64_t mean_pub, int64_t n)
{
	/* the exact reading: total T exact to the penny, mean = T / n to the
	 * penny: is T in [n * (mean - 0.5p), n * (mean + 0.5p)]? */
	return 2 * total_pub >= n * (2 * mean_pub - 1) && 2 * total_pub <= n * (2 * mean_pub + 1);
}

static void test_money(void **st)
{
	(void)st;
	struct yoc_sdc s;
	yoc_sdc_init(&s);
	assert_int_equal(s.money_sf, 3);
	/* 3 significant figures, never finer than whole pounds, halves away */
	assert_int_equal(yoc_sdc_money(&s, 173808477), 174000000);
	assert_int_equal(yoc_sdc_money(&s, 1206889600), 1210000000);
	assert_int_equal(yoc_sdc_money(&s, 54321), 54300);
	assert_int_equal(yoc_sdc_money(&s, 54350), 54400);
	assert_int_equal(yoc_sdc_money(&s, 99950), 100000);
	assert_int_equal(yoc_sdc_money(&s, 149), 100);
	assert_int_equal(yoc_sdc_money(&s, 49), 0);
	assert_int_equal(yoc_sdc_money(&s, 0), 0);
	assert_int_equal(yoc_sdc_money(&s, -173808477), -174000000);
	assert_int_equal(yoc_sdc_money(&s, INT64_MAX / 2) % 100, 0);
	s.money_sf = 2;
	assert_int_equal(yoc_sdc_money(&s, 173808477), 170000000);
	s.money_sf = 3;
	/* the band of the issue: 49 people, published as 50 */
	int64_t sum = 173808477, n = 49, npub = yoc_sdc_one(&s, n);
	assert_int_equal(npub, 50);
	int64_t tpub = yoc_sdc_money(&s, sum), mpub = yoc_sdc_mean(&s, sum, n, npub);
	assert_int_equal(mpub, 3480000); /* GBP 1,740,000 / 50 */
	assert_int_equal(mpub % 100, 0);
	/* today's figures gave 49 and only 49 */
	int64_t old_mean = (sum * 2 + n) / (2 * n);
	int hits = 0;
	for (int64_t k = 48; k <= 52; k++)
		hits += n_consistent(sum, old_mean, k);
	assert_int_equal(hits, 1);
	assert_true(n_consistent(sum, old_mean, 49));
	/* the published mean is the published total over the published count:
	 * the same for every n of the window, so it says nothing about n */
	for (int64_t k = 48; k <= 52; k++) {
		assert_int_equal(yoc_sdc_one(&s, k), npub);
		assert_int_equal(yoc_sdc_mean(&s, sum, k, yoc_sdc_one(&s, k)), mpub);
	}
	assert_int_equal(mpub, (tpub + 100 * npub / 2) / (100 * npub) * 100);
	/* the practice of the issue: 5,393 people, GBP 12,068,896 */
	sum = 1206889600, n = 5393, npub = yoc_sdc_one(&s, n);
	assert_int_equal(npub, 5395);
	mpub = yoc_sdc_mean(&s, sum, n, npub);
	for (int64_t k = 5393; k <= 5397; k++)
		assert_int_equal(yoc_sdc_mean(&s, sum, k, yoc_sdc_one(&s, k)), mpub);
	assert_int_equal(yoc_sdc_mean(&s, sum, n, 0), 0);
	/* --no-suppression: exact, to the penny */
	s.off = 1;
	assert_int_equal(yoc_sdc_money(&s, 173808477), 173808477);
	assert_int_equal(yoc_sdc_mean(&s, 173808477, 49, 49), 3547112);
	assert_int_equal(yoc_sdc_mean(&s, 5, 0, 0), 0);
}

static void test_rate(void **st)
{
	(void)st;
	struct yoc_sdc s;
	yoc_sdc_init(&s);
	/* of published counts: 17 of 49 is published as 15 of 50 = 30.0%, the
	 * same for every count 48..52 and numerator 13..17 */
	assert_true(yoc_sdc_rate(&s, 17, 49, YOC_SDC_SHOWN, 100, 1) == 30.0);
	for (int64_t n = 48; n <= 52; n++)
		for (int64_t a = 13; a <= 17; a++)
			assert_true(yoc_sdc_rate(&s, a, n, YOC_SDC_SHOWN, 100, 1) == 30.0);
	/* hidden: the group, a small numerator, a small complement */
	assert_true(isnan(yoc_sdc_rate(&s, 17, 49, YOC_SDC_SECONDARY, 100, 1)));
	assert_true(isnan(yoc_sdc_rate(&s, 3, 5, YOC_SDC_SHOWN, 100, 1)));
	assert_true(isnan(yoc_sdc_rate(&s, 3, 49, YOC_SDC_SHOWN, 100, 1)));
	assert_true(isnan(yoc_sdc_rate(&s, 45, 49, YOC_SDC_SHOWN, 100, 1)));
	assert_true(yoc_sdc_rate(&s, 0, 49, YOC_SDC_SHOWN, 100, 1) == 0.0);
	assert_true(yoc_sdc_rate(&s, 49, 49, YOC_SDC_SHOWN, 100, 1) == 100.0);
	/* a rate per 1,000 has no complement: 1,234 admissions of 5,393 people */
	assert_true(yoc_sdc_rate(&s, 1234, 5393, YOC_SDC_SHOWN, 1000, 0) == 228.9); /* 1,235 of 5,395 */
	assert_true(yoc_sdc_rate(&s, 60, 55, YOC_SDC_SHOWN, 1000, 0) == 1090.9);
	assert_true(isnan(yoc_sdc_rate(&s, 60, 0, YOC_SDC_SHOWN, 1000, 0)));
	s.off = 1;
	assert_true(yoc_sdc_rate(&s, 17, 49, YOC_SDC_SHOWN, 100, 1) == 34.7);
	assert_true(yoc_sdc_rate(&s, 3, 5, YOC_SDC_SHOWN, 100, 1) == 60.0);
}

/* ---- linear bounds: a small simplex ------------------------------------ */

/*
** The least and greatest value of hidden cell u over every table of
** non-negative reals that agrees with the shown cells and the exact
** margins: minimise and maximise x_u subject to A x = b, x >= 0 over the
** hidden cells (two-phase simplex, Bland's rule). Independent of sdc.c.
** Tables here are small: at most 64 hidden cells and 64 relations.
*/
#define LPM 64
#define LPN 64
static double lp_t[LPM + 1][LPN + LPM + 1];
static int lp_basis[LPM];

static void lp_pivot(int m, int w, int r, int c)
{
	double p = lp_t[r][c];
	for (int j = 0; j <= w; j++)
		lp_t[r][j] /= p;
	for (int i = 0; i <= m; i++) {
		if (i == r || fabs(lp_t[i][c]) < 1e-12)
			continue;
		double f = lp_t[i][c];
		for (int j = 0; j <= w; j++)
			lp_t[i][j] -= f * lp_t[r][j];
	}
	lp_basis[r] = c;
}

/* Minimises row m of lp_t (the objective, reduced) over columns < ncol. */
static void lp_run(int m, int w, int ncol)
{
	for (;;) {
		int c = -1, r = -1;
		for (int j = 0; j < ncol && c < 0; j++)
			if (lp_t[m][j] < -1e-9)
				c = j;
		if (c < 0)
			return;
		double best = 0;
		for (int i = 0; i < m; i++)
			if (lp_t[i][c] > 1e-9) {
				double q = lp_t[i][w] / lp_t[i][c];
				if (r < 0 || q < best - 1e-12 ||
				    (fabs(q - best) <= 1e-12 && lp_basis[i] < lp_basis[r])) {
					best = q;
					r = i;
				}
			}
		assert_true(r >= 0); /* bounded: every cell is at most its margin */
		lp_pivot(m, w, r, c);
	}
}

static void lp_bounds(int nr, int nc, int tr, int tc, const int64_t *v,
		      const unsigned char *hidden, int u, double *lo, double *hi)
{
	int n = nr * nc, hid[LPN], k = 0, col_of_u = -1, m = 0;
	for (int c = 0; c < n; c++)
		if (hidden[c]) {
			if (c == u)
				col_of_u = k;
			hid[k++] = c;
		}
	assert_true(k <= LPN && col_of_u >= 0);
	double A[LPM][LPN], b[LPM];
	/* relations: row cells - row total = 0, column cells - column total = 0 */
	for (int g = 0; g < (tc ? nr : 0) + (tr ? nc : 0); g++) {
		int isrow = tc && g < nr, idx = isrow ? g : g - (tc ? nr : 0);
		double rhs = 0;
		for (int q = 0; q < k; q++)
			A[m][q] = 0;
		for (int t = 0; t < (isrow ? nc : nr); t++) {
			int c = isrow ? idx * nc + t : t * nc + idx;
			int last = isrow ? t == nc - 1 : t == nr - 1;
			double coef = last ? -1 : 1;
			int q = -1;
			for (int z = 0; z < k; z++)
				if (hid[z] == c)
					q = z;
			if (q >= 0)
				A[m][q] += coef;
			else
				rhs -= coef * (double)v[c];
		}
		b[m] = rhs;
		m++;
		assert_true(m <= LPM);
	}
	for (int dir = 0; dir < 2; dir++) {
		int w = k + m; /* columns: k cells, m artificials, then rhs */
		memset(lp_t, 0, sizeof lp_t);
		for (int i = 0; i < m; i++) {
			double sg = b[i] < 0 ? -1 : 1;
			for (int q = 0; q < k; q++)
				lp_t[i][q] = sg * A[i][q];
			lp_t[i][k + i] = 1;
			lp_t[i][w] = sg * b[i];
			lp_basis[i] = k + i;
		}
		/* phase 1: minimise the sum of artificials */
		for (int i = 0; i < m; i++)
			for (int j = 0; j <= w; j++)
				if (j < k || j == w)
					lp_t[m][j] -= lp_t[i][j];
		lp_run(m, w, w);
		assert_true(fabs(lp_t[m][w]) < 1e-6); /* the true table is feasible */
		/* drive artificials left in the basis (at 0) out, where a cell column can */
		for (int i = 0; i < m; i++)
			if (lp_basis[i] >= k)
				for (int q = 0; q < k; q++)
					if (fabs(lp_t[i][q]) > 1e-9) {
						lp_pivot(m, w, i, q);
						break;
					}
		/* phase 2: minimise x_u (dir 0) or -x_u (dir 1), over cell columns */
		for (int j = 0; j <= w; j++)
			lp_t[m][j] = 0;
		lp_t[m][col_of_u] = dir ? -1 : 1;
		for (int i = 0; i < m; i++) {
			int c = lp_basis[i];
			if (c < k && fabs(lp_t[m][c]) > 0) {
				double f = lp_t[m][c];
				for (int j = 0; j <= w; j++)
					lp_t[m][j] -= f * lp_t[i][j];
			}
		}
		lp_run(m, w, k);
		double val = -lp_t[m][w];
		if (dir)
			*hi = -val;
		else
			*lo = val;
	}
}

/*
** Every primary cell's feasible interval has width > 0 and holds its
** protection range: the true value and one other whole number beside it
** (lo <= v - 1 or hi >= v + 1, with lo <= v <= hi).
*/
static void check_bounds(int nr, int nc, int tr, int tc, const int64_t *v,
			 const unsigned char *state)
{
	for (int c = 0; c < nr * nc; c++) {
		if (state[c] != YOC_SDC_PRIMARY)
			continue;
		double lo, hi;
		lp_bounds(nr, nc, tr, tc, v, state, c, &lo, &hi);
		assert_true(lo <= (double)v[c] + 1e-6 && hi >= (double)v[c] - 1e-6);
		assert_true(hi - lo > 0.5);
		assert_true(lo <= (double)v[c] - 1 + 1e-6 || hi >= (double)v[c] + 1 - 1e-6);
	}
}

/*
** A table shaped like the report's multimorbidity by age band (19 bands and
** a total, 5 columns of LTC counts and a total), with the demo's counts
** (`yoc demo`, report made with --no-suppression). The rule before
** ranked rectangles by value alone, one primary cell at a time, and hid 14
** cells here (whole rows 0-4, 10-14, 15-19 and 90+ lost two cells each);
** now fewer, and still none recoverable.
*/
static void test_multimorbidity_shape(void **st)
{
	(void)st;
	static const int64_t body[19][5] = {
		{6551, 181, 1, 0, 0},
		{5391, 425, 10, 0, 0},
		{5254, 725, 30, 2, 0},
		{4905, 987, 117, 8, 0},
		{5251, 1478, 189, 25, 0},
		{5527, 1900, 342, 41, 0},
		{4914, 2099, 450, 87, 3},
		{4288, 2183, 634, 137, 2},
		{3520, 2173, 665, 225, 6},
		{3110, 2277, 926, 339, 22},
		{2536, 2306, 1110, 526, 40},
		{2095, 2314, 1248, 755, 79},
		{1511, 1972, 1307, 946, 145},
		{1026, 1468, 1252, 1137, 231},
		{674, 1257, 1163, 1333, 327},
		{427, 810, 956, 1204, 436},
		{219, 477, 573, 905, 366},
		{105, 262, 356, 505, 242},
		{61, 177, 231, 365, 180}};
	enum { NR = 20, NC = 6 };
	int64_t v[NR * NC] = {0}, out[NR * NC];
	unsigned char state[NR * NC];
	for (int i = 0; i < 19; i++)
		for (int j = 0; j < 5; j++) {
			v[i * NC + j] = body[i][j];
			v[i * NC + 5] += body[i][j];
			v[19 * NC + j] += body[i][j];
			v[19 * NC + 5] += body[i][j];
		}
	struct yoc_sdc s;
	yoc_sdc_init(&s);
	assert_int_equal(yoc_sdc_protect(&s, NR, NC, 1, 1, v, state, out), 0);
	int hidden = 0, primary = 0;
	for (int c = 0; c < NR * NC; c++) {
		hidden += state[c] != YOC_SDC_SHOWN;
		primary += state[c] == YOC_SDC_PRIMARY;
		/* primary exactly the counts 1..7 */
		assert_int_equal(state[c] == YOC_SDC_PRIMARY, v[c] >= 1 && v[c] <= 7);
	}
	assert_int_equal(primary, 5);
	print_message("multimorbidity shape: %d cells hidden\n", hidden);
	assert_true(hidden < 14);
	/* no margin is hidden, and 90+ keeps every cell */
	for (int c = 0; c < NR * NC; c++)
		if (c % NC == NC - 1 || c / NC == NR - 1 || c / NC == 18)
			assert_int_equal(state[c], YOC_SDC_SHOWN);
	check_bounds(NR, NC, 1, 1, v, state);
	for (int c = 0; c < NR * NC; c++)
		if (state[c] == YOC_SDC_PRIMARY)
			assert_int_equal(yoc_sdc_derivable(NR, NC, 1, 1, state, c), 0);
}

/* Random small tables: every primary cell's linear interval is wide enough. */
static void test_random_bounds(void **st)
{
	(void)st;
	srand(4242);
	struct yoc_sdc s;
	yoc_sdc_init(&s);
	for (int iter = 0; iter < 400; iter++) {
		int r = 2 + rand() % 5, c = 2 + rand() % 5; /* inner rows and columns */
		int NR = r + 1, NC = c + 1;
		int64_t v[64] = {0}, out[64];
		unsigned char state[64];
		for (int i = 0; i < r; i++)
			for (int j = 0; j < c; j++) {
				int64_t x = rand() % 4 == 0 ? 1 + rand() % 7 :
					    rand() % 6 == 0 ? 0 : 8 + rand() % 60;
				v[i * NC + j] = x;
				v[i * NC + c] += x;
				v[r * NC + j] += x;
				v[r * NC + c] += x;
			}
		assert_int_equal(yoc_sdc_protect(&s, NR, NC, 1, 1, v, state, out), 0);
		check_bounds(NR, NC, 1, 1, v, state);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one),
		cmocka_unit_test(test_1d_leak),
		cmocka_unit_test(test_2d_leak),
		cmocka_unit_test(test_bridge),
		cmocka_unit_test(test_small_margins),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_random_column),
		cmocka_unit_test(test_long_column),
		cmocka_unit_test(test_hide),
		cmocka_unit_test(test_off_and_errors),
		cmocka_unit_test(test_money),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_multimorbidity_shape),
		cmocka_unit_test(test_random_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
** Seeded random streams for bootstraps (xoshiro256** seeded through
** splitmix64; Blackman and Vigna) and sample quantiles (R's type 7). The
** stream depends only on the seed, so a resampling reproduces exactly.
*/
#include <math.h>

#include "stats/stats.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

void yoc_rng_seed(struct yoc_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t yoc_rng_next(struct yoc_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

uint64_t yoc_rng_below(struct yoc_rng *r, uint64_t n)
{
	/* Lemire: the high word of x * n, rejecting the few x that bias it. */
	unsigned __int128 m = (unsigned __int128)yoc_rng_next(r) * n;
	uint64_t lo = (uint64_t)m;
	if (lo < n) {
		uint64_t t = -n % n;
		while (lo < t) {
			m = (unsigned __int128)yoc_rng_next(r) * n;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

double yoc_quantile_sorted(const double *x, size_t n, double p)
{
	if (n == 1 || p <= 0)
		return x[0];
	if (p >= 1)
		return x[n - 1];
	double h = (double)(n - 1) * p;
	size_t lo = (size_t)floor(h);
	double f = h - (double)lo;
	return lo + 1 < n ? x[lo] + f * (x[lo + 1] - x[lo]) : x[lo];
}

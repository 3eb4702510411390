/*
** Random streams for the synthetic economy: xoshiro256** seeded through
** splitmix64 from (seed, stream, index), so each person's draws depend only
** on the seed and the person's index, never on iteration order. Not for
** anything secret.
*/
#include "synth/synth_int.h"

uint64_t synth_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

void rng_seed(struct rng *r, uint64_t seed, uint64_t stream, uint64_t index)
{
	uint64_t x = synth_mix64(seed ^ synth_mix64(stream * 0x632be59bd9b4e019ULL)) ^
		     synth_mix64(index + 0x2545f4914f6cdd1dULL);
	for (int i = 0; i < 4; i++) {
		x += 0x9e3779b97f4a7c15ULL;
		r->s[i] = synth_mix64(x);
	}
	if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
		r->s[0] = 1;
}

double rng_normal(struct rng *r)
{
	/* Box-Muller, one value per call (the pair's second is discarded: simpler state). */
	double u1 = 1.0 - rng_unif(r), u2 = rng_unif(r);
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int rng_pick(struct rng *r, const double *w, int n)
{
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += w[i];
	double u = rng_unif(r) * sum;
	for (int i = 0; i < n; i++) {
		if (u < w[i])
			return i;
		u -= w[i];
	}
	return n - 1;
}

int rng_poisson(struct rng *r, double lambda)
{
	if (lambda <= 0)
		return 0;
	double l = exp(-lambda), p = rng_unif(r);
	int k = 0;
	while (p > l && k < 1000) {
		p *= rng_unif(r);
		k++;
	}
	return k;
}

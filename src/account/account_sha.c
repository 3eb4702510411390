/*
** SHA-256 of feed files, cheap enough to take of every byte pseudonymised
** and loaded: the x86 SHA extensions where the CPU has them (about five
** times libsodium's portable code), else libsodium; and on a helper thread,
** so that it costs no wall time where a second core is free: the
** pseudonymiser hands over each output buffer as it writes it, the loader
** the whole file while it validates the rows. One chunk is in flight at a
** time; the caller keeps it unchanged until its next call. The unit tests
** compare both paths with libsodium. Must not: print, or hash any chunk out
** of order.
*/
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "account/account.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_SHANI_CODE 1

/* The CPU has the SHA extensions (CPUID.7.0:EBX[29]) and SSE4.1 (CPUID.1:ECX[19]). */
static int cpu_has_sha(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c >> 19 & 1))
		return 0;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return 0;
	return b >> 29 & 1;
}
#endif

int yoc__sha256_portable; /* tests: nonzero forces libsodium */

static const uint32_t K256[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2
};

#ifdef HAVE_SHANI_CODE
/*
** The compression function over nblocks 64-byte blocks with the SHA
** extensions (Intel's published method): state kept as ABEF/CDGH, four
** rounds per step, the message schedule computed four words at a time.
*/
__attribute__((target("sha,sse4.1"))) static void
blocks_ni(uint32_t st[8], const unsigned char *p, size_t nblocks)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i t = _mm_loadu_si128((const __m128i *)&st[0]);
	__m128i s1 = _mm_loadu_si128((const __m128i *)&st[4]);
	t = _mm_shuffle_epi32(t, 0xb1);             /* CDAB */
	s1 = _mm_shuffle_epi32(s1, 0x1b);           /* EFGH */
	__m128i s0 = _mm_alignr_epi8(t, s1, 8);     /* ABEF */
	s1 = _mm_blend_epi16(s1, t, 0xf0);          /* CDGH */
	for (; nblocks; nblocks--, p += 64) {
		__m128i abef = s0, cdgh = s1, w[4];
		for (int g = 0; g < 16; g++) {
			if (g < 4) {
				w[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)),
							bswap);
			} else {
				/* W[t..t+3] from W[t-16..t-1]: sigma0 terms (msg1), W[t-7]
				** (the aligned middle words), sigma1 terms (msg2) */
				__m128i m = _mm_sha256msg1_epu32(w[g & 3], w[(g + 1) & 3]);
				m = _mm_add_epi32(m, _mm_alignr_epi8(w[(g + 3) & 3], w[(g + 2) & 3], 4));
				w[g & 3] = _mm_sha256msg2_epu32(m, w[(g + 3) & 3]);
			}
			__m128i m = _mm_add_epi32(w[g & 3],
						  _mm_loadu_si128((const __m128i *)&K256[4 * g]));
			s1 = _mm_sha256rnds2_epu32(s1, s0, m);
			s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(m, 0x0e));
		}
		s0 = _mm_add_epi32(s0, abef);
		s1 = _mm_add_epi32(s1, cdgh);
	}
	t = _mm_shuffle_epi32(s0, 0x1b);            /* FEBA */
	s1 = _mm_shuffle_epi32(s1, 0xb1);           /* DCHG */
	s0 = _mm_blend_epi16(t, s1, 0xf0);          /* DCBA */
	s1 = _mm_alignr_epi8(s1, t, 8);             /* HGFE */
	_mm_storeu_si128((__m128i *)&st[0], s0);
	_mm_storeu_si128((__m128i *)&st[4], s1);
}
#endif

/* A SHA-256 in progress: the SHA extensions' state, or libsodium's. */
struct sha {
	int ni;
	crypto_hash_sha256_state s;
	uint32_t h[8];
	unsigned char buf[64];
	size_t nbuf;
	uint64_t len;
};

static void sha_init(struct sha *c)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	memset(c, 0, sizeof *c);
#ifdef HAVE_SHANI_CODE
	static int has = -1; /* the same answer for every thread */
	int h = __atomic_load_n(&has, __ATOMIC_RELAXED);
	if (h < 0) {
		h = cpu_has_sha();
		__atomic_store_n(&has, h, __ATOMIC_RELAXED);
	}
	c->ni = !yoc__sha256_portable && h;
#endif
	memcpy(c->h, iv, sizeof iv);
	if (!c->ni)
		crypto_hash_sha256_init(&c->s);
}

static void sha_update(struct sha *c, const unsigned char *p, size_t n)
{
#ifdef HAVE_SHANI_CODE
	if (c->ni) {
		c->len += n;
		if (c->nbuf) {
			size_t k = 64 - c->nbuf < n ? 64 - c->nbuf : n;
			memcpy(c->buf + c->nbuf, p, k);
			c->nbuf += k;
			p += k;
			n -= k;
			if (c->nbuf < 64)
				return;
			blocks_ni(c->h, c->buf, 1);
			c->nbuf = 0;
		}
		blocks_ni(c->h, p, n / 64);
		memcpy(c->buf, p + n / 64 * 64, n % 64);
		c->nbuf = n % 64;
		return;
	}
#endif
	crypto_hash_sha256_update(&c->s, p, n);
}

static void sha_final(struct sha *c, unsigned char out[32])
{
#ifdef HAVE_SHANI_CODE
	if (c->ni) {
		uint64_t bits = c->len * 8;
		unsigned char pad[72] = {0x80};
		size_t np = (c->nbuf < 56 ? 56 : 120) - c->nbuf;
		for (int i = 0; i < 8; i++)
			pad[np + i] = (unsigned char)(bits >> (56 - 8 * i));
		sha_update(c, pad, np + 8);
		for (int i = 0; i < 8; i++) {
			out[4 * i] = (unsigned char)(c->h[i] >> 24);
			out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
			out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
			out[4 * i + 3] = (unsigned char)c->h[i];
		}
		return;
	}
#endif
	crypto_hash_sha256_final(&c->s, out);
}

struct yoc_sha256_bg {
	struct sha st;
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const unsigned char *p; /* the chunk being hashed, NULL when idle */
	size_t n;
	int threaded;           /* 0: the thread could not start, hash inline */
	int stop;
};

static void to_hex(const unsigned char *h, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[h[i] >> 4];
		out[2 * i + 1] = hx[h[i] & 15];
	}
	out[2 * n] = 0;
}

void yoc_sha256_hex(const void *p, size_t n, char hex[65])
{
	unsigned char h[32];
	struct sha c;
	(void)!sodium_init(); /* idempotent; SHA-256 needs no more than that */
	sha_init(&c);
	sha_update(&c, p, n);
	sha_final(&c, h);
	to_hex(h, sizeof h, hex);
}

static void *run(void *arg)
{
	struct yoc_sha256_bg *h = arg;
	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (!h->p && !h->stop)
			pthread_cond_wait(&h->cv, &h->mu);
		if (!h->p)
			break; /* stop, and nothing left */
		const unsigned char *p = h->p;
		size_t n = h->n;
		pthread_mutex_unlock(&h->mu);
		sha_update(&h->st, p, n);
		pthread_mutex_lock(&h->mu);
		h->p = NULL;
		pthread_cond_broadcast(&h->cv);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

struct yoc_sha256_bg *yoc_sha256_bg_create(void)
{
	struct yoc_sha256_bg *h = yoc_calloc(1, sizeof *h);
	if (!h)
		return NULL;
	if (sodium_init() < 0) {
		yoc_free(h);
		return NULL;
	}
	sha_init(&h->st);
	if (pthread_mutex_init(&h->mu, NULL) != 0)
		return h; /* inline */
	if (pthread_cond_init(&h->cv, NULL) != 0) {
		pthread_mutex_destroy(&h->mu);
		return h;
	}
	if (pthread_create(&h->tid, NULL, run, h) != 0) {
		pthread_cond_destroy(&h->cv);
		pthread_mutex_destroy(&h->mu);
		return h;
	}
	h->threaded = 1;
	return h;
}

/* Waits until the chunk in flight is hashed; returns with the lock held. */
static void wait_idle(struct yoc_sha256_bg *h)
{
	pthread_mutex_lock(&h->mu);
	while (h->p)
		pthread_cond_wait(&h->cv, &h->mu);
}

void yoc_sha256_bg_feed(struct yoc_sha256_bg *h, const void *p, size_t n)
{
	if (!h || !n)
		return;
	if (!h->threaded) {
		sha_update(&h->st, p, n);
		return;
	}
	wait_idle(h);
	h->p = p;
	h->n = n;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

void yoc_sha256_bg_feed_sync(struct yoc_sha256_bg *h, const void *p, size_t n)
{
	if (!h || !n)
		return;
	if (h->threaded) {
		wait_idle(h);
		pthread_mutex_unlock(&h->mu);
	}
	sha_update(&h->st, p, n);
}

static void stop(struct yoc_sha256_bg *h)
{
	if (!h->threaded)
		return;
	wait_idle(h);
	h->stop = 1;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->tid, NULL);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	h->threaded = 0;
}

void yoc_sha256_bg_finish(struct yoc_sha256_bg *h, char hex[65])
{
	unsigned char d[32];
	if (!h) {
		hex[0] = 0;
		return;
	}
	stop(h);
	sha_final(&h->st, d);
	to_hex(d, sizeof d, hex);
	yoc_free(h);
}

void yoc_sha256_bg_abort(struct yoc_sha256_bg *h)
{
	if (!h)
		return;
	stop(h);
	yoc_free(h);
}

/*
** SHA-256 of feed files, taken of every byte pseudonymised and loaded, by
** OpenSSL's libcrypto, on a helper thread so that it costs no wall time where a
** second core is free: the pseudonymiser hands over each output buffer as
** it writes it, the loader the whole file while it validates the rows. One
** chunk is in flight at a time; the caller keeps it unchanged until its
** next call. The unit tests compare it with libsodium's one-shot hash over
** every chunking (an independent implementation). Must not: print, or hash any chunk out of order.
*/
#include <pthread.h>
#include <openssl/evp.h>
#include <string.h>

#include "account/account.h"

/*
** A SHA-256 in progress: OpenSSL's (libcrypto's EVP interface, which uses
** the CPU's SHA instructions where it has them; several times libsodium's
** portable code on the megabytes of every feed). Never our own cryptography.
** An EVP context that cannot be made leaves ctx NULL: the hash is then the
** empty string, which no account entry matches (never a wrong match).
*/
struct sha {
	EVP_MD_CTX *ctx;
};

static void sha_init(struct sha *c)
{
	c->ctx = EVP_MD_CTX_new();
	if (c->ctx && EVP_DigestInit_ex(c->ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c->ctx);
		c->ctx = NULL;
	}
}

static void sha_update(struct sha *c, const unsigned char *p, size_t n)
{
	if (c->ctx && EVP_DigestUpdate(c->ctx, p, n) != 1) {
		EVP_MD_CTX_free(c->ctx);
		c->ctx = NULL;
	}
}

/* 1 with the digest in out, 0 if the context failed. Frees the context. */
static int sha_final(struct sha *c, unsigned char out[32])
{
	unsigned int len = 0;
	int ok = c->ctx && EVP_DigestFinal_ex(c->ctx, out, &len) == 1 && len == 32;
	EVP_MD_CTX_free(c->ctx);
	c->ctx = NULL;
	return ok;
}

static void sha_free(struct sha *c)
{
	EVP_MD_CTX_free(c->ctx);
	c->ctx = NULL;
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
	sha_init(&c);
	sha_update(&c, p, n);
	if (sha_final(&c, h))
		to_hex(h, sizeof h, hex);
	else
		hex[0] = 0;
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
	sha_init(&h->st);
	if (!h->st.ctx) {
		yoc_free(h);
		return NULL;
	}
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
	if (sha_final(&h->st, d))
		to_hex(d, sizeof d, hex);
	else
		hex[0] = 0;
	yoc_free(h);
}

void yoc_sha256_bg_abort(struct yoc_sha256_bg *h)
{
	if (!h)
		return;
	stop(h);
	sha_free(&h->st);
	yoc_free(h);
}

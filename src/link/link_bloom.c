/*
** Bloom-filter encodings of quasi-identifiers for linkage between
** organisations that may not share them in clear (Schnell, Bachteler and
** Reiher 2009): each bigram of each field, tagged with the field, sets k
** bits chosen by the keyed HMAC-SHA256 of the key holder (libsodium; no
** hand-written hashing). Two encodings are compared by the Dice coefficient.
** docs/linkage.md lists what an attacker can still learn from them.
*/
#include <sodium.h>
#include <string.h>

#include "link/link.h"
#include "yoc/date.h"

static void set_token(crypto_auth_hmacsha256_state *base, const char *tok, size_t n, int k,
		      unsigned char *out)
{
	crypto_auth_hmacsha256_state st = *base;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)tok, n);
	crypto_auth_hmacsha256_final(&st, mac);
	/* k indexes of 16 bits each from one MAC (k <= 16). */
	for (int i = 0; i < k; i++) {
		unsigned idx = ((unsigned)mac[2 * i] << 8 | mac[2 * i + 1]) % YOC_BLOOM_BITS;
		out[idx / 8] |= (unsigned char)(1u << (idx % 8));
	}
	sodium_memzero(&st, sizeof st);
}

/* Bigrams of " s " (padded, so first and last letters count), tagged. */
static void add_field(crypto_auth_hmacsha256_state *base, char tag, const char *s, size_t n,
		      int k, unsigned char *out)
{
	if (n == 0)
		return;
	char pad[48];
	if (n > sizeof pad - 2)
		n = sizeof pad - 2;
	pad[0] = '_';
	memcpy(pad + 1, s, n);
	pad[n + 1] = '_';
	for (size_t i = 0; i + 1 < n + 2; i++) {
		char tok[3] = {tag, pad[i], pad[i + 1]};
		set_token(base, tok, 3, k, out);
	}
}

int yoc_bloom_encode(const struct yoc_link_rec *r, const unsigned char *key, size_t keylen,
		     int k, unsigned char out[YOC_BLOOM_BYTES])
{
	if (!key || keylen < 16 || k < 1 || k > 16)
		return YOC_EINVAL;
	if (sodium_init() < 0)
		return YOC_EINTERNAL;
	memset(out, 0, YOC_BLOOM_BYTES);
	crypto_auth_hmacsha256_state base;
	crypto_auth_hmacsha256_init(&base, key, keylen);
	add_field(&base, 'G', r->given, r->lgiven, k, out);
	add_field(&base, 'F', r->family, r->lfamily, k, out);
	if (r->dob != YOC_LINK_NODATE) {
		char d[11];
		yoc_date_format(r->dob, d);
		char ymd[8] = {d[0], d[1], d[2], d[3], d[5], d[6], d[8], d[9]};
		add_field(&base, 'D', ymd, 8, k, out);
	}
	if (r->sex) {
		char s = (char)('0' + r->sex);
		set_token(&base, (char[]){'S', s}, 2, k, out);
	}
	add_field(&base, 'P', r->postcode, r->lpostcode, k, out);
	sodium_memzero(&base, sizeof base);
	return 0;
}

double yoc_bloom_dice(const unsigned char *a, const unsigned char *b)
{
	unsigned na = 0, nb = 0, nab = 0;
	for (int i = 0; i < YOC_BLOOM_BYTES; i++) {
		na += (unsigned)__builtin_popcount(a[i]);
		nb += (unsigned)__builtin_popcount(b[i]);
		nab += (unsigned)__builtin_popcount(a[i] & b[i]);
	}
	if (na + nb == 0)
		return 1.0;
	return 2.0 * nab / (double)(na + nb);
}

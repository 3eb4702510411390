/*
** Keys, the keyed hash and the pseudonym cache, and sets of NHS numbers.
**
** All cryptography is libsodium's: randombytes_buf for keys (the operating
** system's CSPRNG), crypto_auth_hmacsha256_* (any key length) for the
** pseudonym, crypto_hash_sha256 for checksums. This file never writes a key
** anywhere but the key file it is asked to create, and wipes key material
** from its buffers when done with them.
**
** The cache maps an NHS number (ten digits, held as an integer below 2^34)
** to its 32 HMAC bytes in an open-addressing table (linear probing). A lookup
** costs one or two cache misses on a large table; the rewrite hides them by
** prefetching a row's slot some rows before it needs the answer.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "pseudo/pseudo.h"
#include "yoc/csv.h"
#include "yoc/io.h"
#include "yoc/nhsno.h"

#define DEFAULT_MAX_CACHED ((size_t)2 << 20)
#define NHSSET_MAX ((size_t)100000000)

static int sodium_ready(void)
{
	return sodium_init() >= 0;
}

static const char hexdigits[] = "0123456789abcdef";

static void to_hex(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdigits[b[i] >> 4];
		out[2 * i + 1] = hexdigits[b[i] & 15];
	}
	out[2 * n] = 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static inline uint64_t ten_to_u64(const char *ten)
{
	uint64_t v = 0;
	for (int i = 0; i < 10; i++)
		v = v * 10 + (uint64_t)(ten[i] - '0');
	return v;
}

int yoc_pseudo_nhsno(const char *s, size_t n, char *out)
{
	if (n == 10) {
		unsigned bad = 0, same = 1, sum = 0;
		for (int i = 0; i < 10; i++) {
			unsigned d = (unsigned)(unsigned char)s[i] - '0';
			bad |= d > 9;
			same &= s[i] == s[0];
			if (i < 9)
				sum += d * (unsigned)(10 - i);
		}
		if (!bad) {
			/* Exactly yoc_nhsno_check's rules for a plain ten-digit cell. */
			if (same) {
				out[0] = 0;
				return YOC_NHSNO_MALFORMED;
			}
			memcpy(out, s, 10);
			out[10] = 0;
			unsigned c = 11 - sum % 11;
			if (c == 11)
				c = 0;
			return c != 10 && c == (unsigned)(s[9] - '0') ? YOC_NHSNO_VALID
								     : YOC_NHSNO_BAD_CHECK_DIGIT;
		}
	}
	return yoc_nhsno_check(s, n, out);
}

/* ---- keys --------------------------------------------------------------- */

int yoc_key_generate(const char *path, struct yoc_error *e)
{
	char tmp[4200], hex[2 * YOC_KEY_BYTES + 2];
	unsigned char k[YOC_KEY_BYTES];
	struct stat st;
	int fd = -1, rc = YOC_OK, made_tmp = 0;

	if (!sodium_ready())
		return yoc_error_set(e, YOC_EINTERNAL, path, 0, 0, "libsodium failed to start");
	if (lstat(path, &st) == 0)
		return yoc_error_set(e, YOC_EEXIST, path, 0, 0,
				     "already exists; a key file is never overwritten");
	if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
		return yoc_error_set(e, YOC_EINVAL, path, 0, 0, "path too long");

	randombytes_buf(k, sizeof k);
	to_hex(k, sizeof k, hex);
	hex[2 * YOC_KEY_BYTES] = '\n';
	hex[2 * YOC_KEY_BYTES + 1] = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot create %s: %s", tmp,
				   strerror(errno));
		goto cleanup;
	}
	made_tmp = 1;
	/* The umask can only remove bits; make the mode exact. */
	if (fchmod(fd, 0600) != 0) {
		rc = yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot set mode 0600: %s",
				   strerror(errno));
		goto cleanup;
	}
	size_t want = 2 * YOC_KEY_BYTES + 1, done = 0;
	while (done < want) {
		ssize_t w = write(fd, hex + done, want - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = yoc_error_set(e, YOC_EIO, path, 0, 0, "write failed: %s",
					   strerror(errno));
			goto cleanup;
		}
		done += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		rc = yoc_error_set(e, YOC_EIO, path, 0, 0, "write failed: %s", strerror(errno));
		goto cleanup;
	}
	fd = -1;
	/* link() never replaces an existing name, so a key that appeared since
	** the check above is not overwritten either. */
	if (link(tmp, path) != 0) {
		int err = errno;
		rc = yoc_error_set(e, err == EEXIST ? YOC_EEXIST : YOC_EIO, path, 0, 0,
				   err == EEXIST ? "already exists; a key file is never overwritten"
						 : "cannot create: %s",
				   strerror(err));
		goto cleanup;
	}
	{
		char dir[4200];
		snprintf(dir, sizeof dir, "%s", path);
		char *slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = 0;
		else if (slash)
			*slash = 0;
		else
			snprintf(dir, sizeof dir, ".");
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
cleanup:
	if (fd >= 0)
		close(fd);
	if (made_tmp)
		unlink(tmp);
	sodium_memzero(k, sizeof k);
	sodium_memzero(hex, sizeof hex);
	return rc;
}

int yoc_key_parse(struct yoc_key *key, const char *text, size_t n,
		  const char *name, struct yoc_error *e)
{
	if (n > 0 && text[n - 1] == '\n')
		n--;
	if (n > 0 && text[n - 1] == '\r')
		n--;
	for (size_t i = 0; i < n; i++)
		if (hexval(text[i]) < 0)
			return yoc_error_set(e, YOC_EPARSE, name, 1, (long)i + 1,
					     "key is not hex: unexpected %s at column %zu; "
					     "expected 64 hex characters",
					     text[i] == '\n' ? "line break"
					     : (unsigned char)text[i] <= ' ' ? "white space or control byte"
									     : "character",
					     i + 1);
	if (n != 2 * YOC_KEY_BYTES)
		return yoc_error_set(e, YOC_EPARSE, name, 0, 0,
				     "key has the wrong length: %zu hex characters, expected %d "
				     "(%d bytes)",
				     n, 2 * YOC_KEY_BYTES, YOC_KEY_BYTES);
	for (size_t i = 0; i < YOC_KEY_BYTES; i++)
		key->k[i] = (unsigned char)(hexval(text[2 * i]) << 4 | hexval(text[2 * i + 1]));
	return YOC_OK;
}

int yoc_key_load(struct yoc_key *key, const char *path, struct yoc_error *e)
{
	char buf[256];
	struct stat st;
	size_t n = 0;
	int rc = YOC_OK;
	/* O_NONBLOCK: a named pipe is refused at once, never waited on */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
			return yoc_error_set(e, YOC_EINVAL, path, 0, 0,
					     "key file is %s, not a regular file",
					     yoc_file_kind(st.st_mode));
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot open key file: %s",
				     strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		rc = yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot stat key file: %s",
				   strerror(errno));
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = yoc_error_set(e, YOC_EINVAL, path, 0, 0, "key file is %s, not a regular file",
				   yoc_file_kind(st.st_mode));
		goto cleanup;
	}
	if (st.st_mode & 077) {
		rc = yoc_error_set(e, YOC_EPERM, path, 0, 0,
				   "key file is accessible by group or others (mode %04o); "
				   "refusing to use it. Run: chmod 600 %s",
				   (unsigned)(st.st_mode & 07777), path);
		goto cleanup;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, sizeof buf - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot read key file: %s",
					   strerror(errno));
			goto cleanup;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == sizeof buf) {
			rc = yoc_error_set(e, YOC_EPARSE, path, 0, 0,
					   "key has the wrong length: over %zu bytes, expected %d "
					   "hex characters",
					   sizeof buf, 2 * YOC_KEY_BYTES);
			goto cleanup;
		}
	}
	rc = yoc_key_parse(key, buf, n, path, e);
cleanup:
	close(fd);
	sodium_memzero(buf, sizeof buf);
	return rc;
}

void yoc_key_wipe(struct yoc_key *key)
{
	if (key)
		sodium_memzero(key->k, sizeof key->k);
}

void yoc_key_id(const struct yoc_key *key, char out[17])
{
	static const char tag[] = "yoc-key-id:";
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state s;
	crypto_hash_sha256_init(&s);
	crypto_hash_sha256_update(&s, (const unsigned char *)tag, sizeof tag - 1);
	crypto_hash_sha256_update(&s, key->k, sizeof key->k);
	crypto_hash_sha256_final(&s, h);
	to_hex(h, 8, out);
	sodium_memzero(&s, sizeof s);
}

int yoc_hmac_sha256(const void *key, size_t klen, const void *msg, size_t n,
		    unsigned char out[32])
{
	crypto_auth_hmacsha256_state s;
	if (!sodium_ready())
		return YOC_EINTERNAL;
	if (crypto_auth_hmacsha256_init(&s, key, klen) != 0 ||
	    crypto_auth_hmacsha256_update(&s, msg, n) != 0 ||
	    crypto_auth_hmacsha256_final(&s, out) != 0) {
		sodium_memzero(&s, sizeof s);
		return YOC_EINTERNAL;
	}
	sodium_memzero(&s, sizeof s);
	return YOC_OK;
}

int yoc_sha256_file(const char *path, char out[65], struct yoc_error *e)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state s;
	int rc = YOC_OK;
	unsigned char *chunk = NULL;
	FILE *f = NULL;
	out[0] = 0;
	if (!sodium_ready())
		return yoc_error_set(e, YOC_EINTERNAL, path, 0, 0, "libsodium failed to start");
	int fd = yoc_open_regular(path, O_RDONLY, 0, e);
	if (fd < 0)
		return fd;
	f = fdopen(fd, "rb");
	if (!f) {
		close(fd);
		return yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "out of memory");
	}
	chunk = yoc_malloc(1 << 16);
	if (!chunk) {
		rc = yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "out of memory");
		goto cleanup;
	}
	crypto_hash_sha256_init(&s);
	size_t got;
	while ((got = fread(chunk, 1, 1 << 16, f)) > 0)
		crypto_hash_sha256_update(&s, chunk, got);
	if (ferror(f)) {
		rc = yoc_error_set(e, YOC_EIO, path, 0, 0, "read failed");
		goto cleanup;
	}
	crypto_hash_sha256_final(&s, h);
	to_hex(h, sizeof h, out);
cleanup:
	yoc_free(chunk);
	fclose(f);
	return rc;
}

/* ---- the pseudonymiser and its cache ------------------------------------ */

/*
** One 64-byte slot per entry, aligned to a cache line: the key (number + 1,
** 0 = empty) and the 32 raw HMAC bytes, so a lookup costs one cache miss.
** The slot of a number is known from its hash before any memory is read, so
** yoc_pseudo_prefetch can start that miss some rows before it is needed.
*/
struct slot {
	uint64_t key;
	unsigned char raw[32];
	unsigned char pad[24];
};

struct yoc_pseudo {
	crypto_auth_hmacsha256_state base; /* after init with the key */
	struct slot *slots;                 /* cache-line aligned, inside mem */
	void *mem;
	size_t cap, count, max;
	int nocache;                        /* set after an allocation failure */
};

int yoc_pseudo_create(yoc_pseudo **out, const struct yoc_key *key, size_t max_cached)
{
	*out = NULL;
	if (!sodium_ready())
		return YOC_EINTERNAL;
	yoc_pseudo *p = yoc_calloc(1, sizeof *p);
	if (!p)
		return YOC_ENOMEM;
	if (crypto_auth_hmacsha256_init(&p->base, key->k, sizeof key->k) != 0) {
		yoc_pseudo_free(p);
		return YOC_EINTERNAL;
	}
	p->max = max_cached ? max_cached : DEFAULT_MAX_CACHED;
	*out = p;
	return YOC_OK;
}

void yoc_pseudo_free(yoc_pseudo *p)
{
	if (!p)
		return;
	if (p->slots)
		sodium_memzero(p->slots, p->cap * sizeof *p->slots);
	yoc_free(p->mem);
	sodium_memzero(p, sizeof *p);
	yoc_free(p);
}

size_t yoc_pseudo_cached(const yoc_pseudo *p)
{
	return p->count;
}

void yoc_pseudo_raw(const yoc_pseudo *p, const char *ten, unsigned char out[32])
{
	crypto_auth_hmacsha256_state s = p->base;
	crypto_auth_hmacsha256_update(&s, (const unsigned char *)ten, 10);
	crypto_auth_hmacsha256_final(&s, out);
	sodium_memzero(&s, sizeof s);
}

#ifndef __SSE2__
/* Two hex characters per byte value, for one store per byte. */
static char hexpairs[512];
static int hexpairs_ready;
#endif

static void hex32(const unsigned char *b, char *out)
{
#ifdef __SSE2__
	const __m128i mask = _mm_set1_epi8(0x0f), nine = _mm_set1_epi8(9);
	const __m128i zero = _mm_set1_epi8('0'), gap = _mm_set1_epi8('a' - '0' - 10);
	for (int k = 0; k < 2; k++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(b + 16 * k));
		__m128i lo = _mm_and_si128(v, mask);
		__m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), mask);
		lo = _mm_add_epi8(_mm_add_epi8(lo, zero), _mm_and_si128(_mm_cmpgt_epi8(lo, nine), gap));
		hi = _mm_add_epi8(_mm_add_epi8(hi, zero), _mm_and_si128(_mm_cmpgt_epi8(hi, nine), gap));
		_mm_storeu_si128((__m128i *)(out + 32 * k), _mm_unpacklo_epi8(hi, lo));
		_mm_storeu_si128((__m128i *)(out + 32 * k + 16), _mm_unpackhi_epi8(hi, lo));
	}
#else
	if (!hexpairs_ready) {
		for (int i = 0; i < 256; i++) {
			hexpairs[2 * i] = hexdigits[i >> 4];
			hexpairs[2 * i + 1] = hexdigits[i & 15];
		}
		hexpairs_ready = 1;
	}
	for (int i = 0; i < 32; i++)
		memcpy(out + 2 * i, hexpairs + 2 * b[i], 2);
#endif
}

/*
** Asks for transparent huge pages on a large table: its lookups are random,
** and with 4 KiB pages nearly every one would also miss the TLB.
*/
static void huge_hint(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
	uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
	uintptr_t b = ((uintptr_t)p + n) & ~(uintptr_t)4095;
	if (n >= ((size_t)4 << 20) && b > a)
		madvise((void *)a, b - a, MADV_HUGEPAGE);
#else
	(void)p;
	(void)n;
#endif
}

static int cache_grow(yoc_pseudo *p)
{
	size_t ncap = p->cap ? p->cap * 2 : 1 << 12;
	size_t bytes = ncap * sizeof(struct slot);
	void *mem = yoc_malloc(bytes + 64);
	if (!mem)
		return YOC_ENOMEM;
	struct slot *ns = (struct slot *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
	huge_hint(ns, bytes);
	for (size_t i = 0; i < ncap; i++)
		ns[i].key = 0;
	for (size_t i = 0; i < p->cap; i++) {
		uint64_t v = p->slots[i].key;
		if (!v)
			continue;
		size_t j = (size_t)mix64(v) & (ncap - 1);
		while (ns[j].key)
			j = (j + 1) & (ncap - 1);
		ns[j] = p->slots[i];
	}
	if (p->slots)
		sodium_memzero(p->slots, p->cap * sizeof *p->slots);
	yoc_free(p->mem);
	p->mem = mem;
	p->slots = ns;
	p->cap = ncap;
	return YOC_OK;
}

void yoc_pseudo_prefetch(const yoc_pseudo *p, const char *ten)
{
	if (!p->cap)
		return;
	size_t i = (size_t)mix64(ten_to_u64(ten) + 1) & (p->cap - 1);
	__builtin_prefetch(&p->slots[i]);
}

void yoc_pseudo_hex(yoc_pseudo *p, const char *ten, char *out)
{
	uint64_t key = ten_to_u64(ten) + 1;
	unsigned char raw[32];
	size_t i = 0, mask = p->cap - 1;
	if (p->cap) {
		for (i = (size_t)mix64(key) & mask; p->slots[i].key; i = (i + 1) & mask) {
			if (p->slots[i].key == key) {
				hex32(p->slots[i].raw, out);
				return;
			}
		}
	}
	yoc_pseudo_raw(p, ten, raw);
	hex32(raw, out);
	if (p->nocache || p->count >= p->max)
		goto cleanup;
	/* Load factor at most 0.7; linear probing on a well-mixed key. */
	if ((p->count + 1) * 10 > p->cap * 7) {
		if (cache_grow(p) != 0) {
			p->nocache = 1;
			goto cleanup;
		}
		mask = p->cap - 1;
		for (i = (size_t)mix64(key) & mask; p->slots[i].key; i = (i + 1) & mask)
			;
	}
	p->slots[i].key = key;
	memcpy(p->slots[i].raw, raw, 32);
	p->count++;
cleanup:
	sodium_memzero(raw, sizeof raw);
}

/* ---- sets of NHS numbers ------------------------------------------------ */

struct yoc_nhsset {
	uint64_t *slots; /* 0 empty; number + 1 */
	size_t cap;
	uint64_t *nums;  /* insertion order */
	size_t count, numcap;
};

int yoc_nhsset_create(yoc_nhsset **out)
{
	*out = yoc_calloc(1, sizeof **out);
	return *out ? YOC_OK : YOC_ENOMEM;
}

void yoc_nhsset_free(yoc_nhsset *s)
{
	if (!s)
		return;
	yoc_free(s->slots);
	yoc_free(s->nums);
	yoc_free(s);
}

size_t yoc_nhsset_count(const yoc_nhsset *s)
{
	return s->count;
}

void yoc_nhsset_get(const yoc_nhsset *s, size_t i, char out[11])
{
	uint64_t v = s->nums[i];
	for (int k = 9; k >= 0; k--) {
		out[k] = (char)('0' + v % 10);
		v /= 10;
	}
	out[10] = 0;
}

int yoc_nhsset_has(const yoc_nhsset *s, const char *ten)
{
	if (!s->cap)
		return 0;
	uint64_t key = ten_to_u64(ten) + 1;
	size_t mask = s->cap - 1;
	for (size_t i = (size_t)mix64(key) & mask; s->slots[i]; i = (i + 1) & mask)
		if (s->slots[i] == key)
			return 1;
	return 0;
}

static int nhsset_grow(yoc_nhsset *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 1 << 10;
	uint64_t *ns = yoc_calloc(ncap, sizeof *ns);
	if (!ns)
		return YOC_ENOMEM;
	for (size_t i = 0; i < s->cap; i++) {
		uint64_t v = s->slots[i];
		if (!v)
			continue;
		size_t j = (size_t)mix64(v) & (ncap - 1);
		while (ns[j])
			j = (j + 1) & (ncap - 1);
		ns[j] = v;
	}
	yoc_free(s->slots);
	s->slots = ns;
	s->cap = ncap;
	return YOC_OK;
}

int yoc_nhsset_add(yoc_nhsset *s, const char *ten, int *isnew)
{
	if (isnew)
		*isnew = 0;
	if (yoc_nhsset_has(s, ten))
		return YOC_OK;
	if (s->count >= NHSSET_MAX)
		return YOC_ETOOBIG;
	if ((s->count + 1) * 2 > s->cap) {
		int rc = nhsset_grow(s);
		if (rc)
			return rc;
	}
	if (s->count == s->numcap) {
		size_t ncap = s->numcap ? s->numcap * 2 : 1 << 10;
		uint64_t *nn = yoc_realloc(s->nums, ncap * sizeof *nn);
		if (!nn)
			return YOC_ENOMEM;
		s->nums = nn;
		s->numcap = ncap;
	}
	uint64_t key = ten_to_u64(ten) + 1;
	size_t mask = s->cap - 1, i = (size_t)mix64(key) & mask;
	while (s->slots[i])
		i = (i + 1) & mask;
	s->slots[i] = key;
	s->nums[s->count++] = key - 1;
	if (isnew)
		*isnew = 1;
	return YOC_OK;
}

int yoc__pseudo_name_is(const struct yoc_cell *c, const char *want)
{
	const char *p = c->p;
	size_t n = c->n;
	while (n && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	return strlen(want) == n && strncasecmp(p, want, n) == 0;
}

static int add_entry(yoc_nhsset *s, const char *p, size_t n,
		     struct yoc_nhsset_stats *st)
{
	char ten[11];
	int isnew, rc = YOC_OK;
	st->rows++;
	int status = yoc_nhsno_check(p, n, ten);
	switch (status) {
	case YOC_NHSNO_VALID:
	case YOC_NHSNO_BAD_CHECK_DIGIT:
		rc = yoc_nhsset_add(s, ten, &isnew);
		if (rc)
			return rc;
		if (!isnew)
			st->duplicates++;
		else if (status == YOC_NHSNO_VALID)
			st->valid++;
		else
			st->bad_check_digit++;
		break;
	case YOC_NHSNO_MISSING:
		st->missing++;
		break;
	default:
		st->malformed++;
		break;
	}
	return rc;
}

int yoc_nhsset_load(yoc_nhsset **out, const char *path,
		    struct yoc_nhsset_stats *st, struct yoc_error *e)
{
	struct yoc_csv_opts o = {0};
	struct yoc_csv_row row;
	yoc_csv *r = NULL;
	yoc_nhsset *s = NULL;
	int rc, col = -1;
	char ten[11];

	*out = NULL;
	memset(st, 0, sizeof *st);
	rc = yoc_nhsset_create(&s);
	if (rc) {
		yoc_error_set(e, rc, path, 0, 0, "out of memory");
		goto cleanup;
	}
	/* a named pipe would block the reader: refused by name instead */
	rc = strcmp(path, "-") ? yoc_check_regular(path, e) : YOC_OK;
	if (!rc)
		rc = yoc_csv_open(&r, path, &o, e);
	if (rc)
		goto cleanup;
	const struct yoc_cell *h = yoc_csv_header(r);
	size_t nc = yoc_csv_ncols(r);
	for (size_t i = 0; i < nc && col < 0; i++)
		if (yoc__pseudo_name_is(&h[i], "nhs_number") || yoc__pseudo_name_is(&h[i], "NEWNHSNO"))
			col = (int)i;
	if (col < 0 && nc == 1) {
		int k = yoc_nhsno_check(h[0].p, h[0].n, ten);
		if (k == YOC_NHSNO_VALID || k == YOC_NHSNO_BAD_CHECK_DIGIT) {
			/* A bare list: the first line is a number, not a header. */
			rc = add_entry(s, h[0].p, h[0].n, st);
			if (rc) {
				yoc_error_set(e, rc, path, 1, 0, "%s", yoc_status_str(rc));
				goto cleanup;
			}
			col = 0;
		}
	}
	if (col < 0) {
		rc = yoc_error_set(e, YOC_EINVAL, path, 1, 0,
				   "no column nhs_number or NEWNHSNO in the list");
		goto cleanup;
	}
	for (;;) {
		rc = yoc_csv_next(r, &row, e);
		if (rc == 0)
			break;
		if (rc < 0) {
			/* e already holds file:line:col from the reader. */
			if (e && row.fault != YOC_CSV_OK) { /* not EIO, ENOMEM */
				char msg[sizeof e->msg];
				snprintf(msg, sizeof msg,
					 "%.400s; a list must be read whole, so it is refused",
					 e->msg);
				snprintf(e->msg, sizeof e->msg, "%s", msg);
			}
			goto cleanup;
		}
		const struct yoc_cell *c = &row.cells[col];
		rc = add_entry(s, c->p, c->n, st);
		if (rc) {
			yoc_error_set(e, rc, path, row.line, 0, "%s", yoc_status_str(rc));
			goto cleanup;
		}
	}
	*out = s;
	s = NULL;
cleanup:
	yoc_csv_close(r);
	yoc_nhsset_free(s);
	return rc;
}

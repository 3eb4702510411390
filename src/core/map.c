/*
** A fast 64-bit non-cryptographic hash and an open-addressing hash map
** (linear probing, power-of-two capacity). The map owns copies of its keys in
** an arena; it never removes keys (yoc's uses are build-then-probe).
*/
#include <string.h>

#include "yoc/core.h"

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	x ^= x >> 32;
	return x;
}

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

uint64_t yoc_hash64(const void *data, size_t n, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = seed ^ (0x9e3779b97f4a7c15ULL * (n + 1));
	while (n >= 8) {
		h = (h ^ mix64(load64(p))) * 0xff51afd7ed558ccdULL;
		h = (h << 29) | (h >> 35);
		p += 8;
		n -= 8;
	}
	uint64_t t = 0;
	for (size_t i = 0; i < n; i++)
		t |= (uint64_t)p[i] << (8 * i);
	h ^= mix64(t + n);
	return mix64(h);
}

int yoc_map_init(struct yoc_map *m, size_t expected)
{
	size_t cap = 16;
	while (cap * 7 < expected * 10)
		cap *= 2;
	m->slots = yoc_calloc(cap, sizeof *m->slots);
	m->cap = m->slots ? cap : 0;
	m->count = 0;
	yoc_arena_init(&m->keys, 64 * 1024);
	return m->slots ? YOC_OK : YOC_ENOMEM;
}

void yoc_map_free(struct yoc_map *m)
{
	yoc_free(m->slots);
	m->slots = NULL;
	m->cap = m->count = 0;
	yoc_arena_free(&m->keys);
}

static struct yoc_map_slot *find(const struct yoc_map *m, uint64_t h,
				 const void *key, size_t klen)
{
	size_t mask = m->cap - 1;
	size_t i = (size_t)h & mask;
	for (;;) {
		struct yoc_map_slot *s = &m->slots[i];
		if (!s->key)
			return s;
		if (s->hash == h && s->klen == klen && memcmp(s->key, key, klen) == 0)
			return s;
		i = (i + 1) & mask;
	}
}

uint64_t *yoc_map_get(const struct yoc_map *m, const void *key, size_t klen)
{
	if (!m->cap)
		return NULL;
	struct yoc_map_slot *s = find(m, yoc_hash64(key, klen, 0), key, klen);
	return s->key ? &s->value : NULL;
}

static int grow(struct yoc_map *m)
{
	size_t ncap = m->cap * 2;
	struct yoc_map_slot *ns = yoc_calloc(ncap, sizeof *ns);
	if (!ns)
		return YOC_ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		struct yoc_map_slot *s = &m->slots[i];
		if (!s->key)
			continue;
		size_t j = (size_t)s->hash & (ncap - 1);
		while (ns[j].key)
			j = (j + 1) & (ncap - 1);
		ns[j] = *s;
	}
	yoc_free(m->slots);
	m->slots = ns;
	m->cap = ncap;
	return YOC_OK;
}

int yoc_map_put(struct yoc_map *m, const void *key, size_t klen, uint64_t value,
		int *isnew)
{
	if (isnew)
		*isnew = 0;
	if (!m->cap)
		return YOC_EINVAL;
	uint64_t h = yoc_hash64(key, klen, 0);
	struct yoc_map_slot *s = find(m, h, key, klen);
	if (s->key) {
		s->value = value;
		return YOC_OK;
	}
	if ((m->count + 1) * 10 > m->cap * 7) {
		int rc = grow(m);
		if (rc)
			return rc;
		s = find(m, h, key, klen);
	}
	char *k = yoc_arena_strndup(&m->keys, key, klen);
	if (!k)
		return YOC_ENOMEM;
	s->key = k;
	s->klen = klen;
	s->hash = h;
	s->value = value;
	m->count++;
	if (isnew)
		*isnew = 1;
	return YOC_OK;
}

const struct yoc_map_slot *yoc_map_next(const struct yoc_map *m, size_t *pos)
{
	while (*pos < m->cap) {
		const struct yoc_map_slot *s = &m->slots[(*pos)++];
		if (s->key)
			return s;
	}
	return NULL;
}

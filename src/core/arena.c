/*
** Bump-pointer arena for batch lifetimes. Blocks are chained; reset keeps the
** first block so a per-batch arena stops allocating after warm-up.
*/
#include <string.h>

#include "yoc/core.h"

struct yoc_arena_block {
	struct yoc_arena_block *next;
	size_t size;
	size_t used;
	_Alignas(16) unsigned char data[];
};

void yoc_arena_init(struct yoc_arena *a, size_t block_size)
{
	a->head = NULL;
	a->block_size = block_size ? block_size : 64 * 1024;
	a->total = 0;
}

void *yoc_arena_alloc(struct yoc_arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	struct yoc_arena_block *b = a->head;
	if (!b || b->size - b->used < n) {
		size_t sz = n > a->block_size ? n : a->block_size;
		b = yoc_malloc(sizeof *b + sz);
		if (!b)
			return NULL;
		b->size = sz;
		b->used = 0;
		b->next = a->head;
		a->head = b;
		a->total += sz;
	}
	void *p = b->data + b->used;
	b->used += n;
	return p;
}

char *yoc_arena_strndup(struct yoc_arena *a, const char *s, size_t n)
{
	char *d = yoc_arena_alloc(a, n + 1);
	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = 0;
	return d;
}

void yoc_arena_reset(struct yoc_arena *a)
{
	struct yoc_arena_block *b = a->head, *keep = NULL;
	while (b) {
		struct yoc_arena_block *next = b->next;
		if (!next) {
			keep = b; /* the oldest block */
		} else {
			a->total -= b->size;
			yoc_free(b);
		}
		b = next;
	}
	if (keep)
		keep->used = 0;
	a->head = keep;
}

void yoc_arena_free(struct yoc_arena *a)
{
	struct yoc_arena_block *b = a->head;
	while (b) {
		struct yoc_arena_block *next = b->next;
		yoc_free(b);
		b = next;
	}
	a->head = NULL;
	a->total = 0;
}

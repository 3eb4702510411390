/*
** The single allocation entry point. Counting and injected failure exist so
** tests can make the Nth allocation fail (SQLite-style OOM tests). The
** counters are process-wide and not thread-safe by design: tests that inject
** failures run single-threaded; counting uses relaxed atomics.
*/
#include <stdlib.h>
#include <string.h>

#include "yoc/core.h"

static unsigned long n_calls;
static unsigned long fail_at; /* absolute call number that fails; 0 = never */

static int should_fail(void)
{
	unsigned long n = __atomic_add_fetch(&n_calls, 1, __ATOMIC_RELAXED);
	return fail_at != 0 && n == fail_at;
}

void yoc_alloc_fail_at(unsigned long nth)
{
	fail_at = nth ? __atomic_load_n(&n_calls, __ATOMIC_RELAXED) + nth : 0;
}

unsigned long yoc_alloc_count(void)
{
	return __atomic_load_n(&n_calls, __ATOMIC_RELAXED);
}

void *yoc_malloc(size_t n)
{
	if (should_fail())
		return NULL;
	return malloc(n ? n : 1);
}

void *yoc_calloc(size_t count, size_t size)
{
	if (should_fail())
		return NULL;
	return calloc(count ? count : 1, size ? size : 1);
}

void *yoc_realloc(void *p, size_t n)
{
	if (should_fail())
		return NULL;
	return realloc(p, n ? n : 1);
}

void yoc_free(void *p)
{
	free(p);
}

char *yoc_strndup(const char *s, size_t n)
{
	char *d = yoc_malloc(n + 1);
	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = 0;
	return d;
}

char *yoc_strdup(const char *s)
{
	return yoc_strndup(s, strlen(s));
}

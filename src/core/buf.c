/*
** Growable byte buffer with a hard cap (curl dynbuf style): input can never
** make it grow past max.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "yoc/core.h"

void yoc_buf_init(struct yoc_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

int yoc_buf_reserve(struct yoc_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1; /* room for the NUL */
	if (need < b->len || (b->max && need > b->max + 1))
		return YOC_ETOOBIG;
	if (need <= b->cap)
		return YOC_OK;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	if (b->max && cap > b->max + 1)
		cap = b->max + 1;
	char *p = yoc_realloc(b->data, cap);
	if (!p)
		return YOC_ENOMEM;
	b->data = p;
	b->cap = cap;
	return YOC_OK;
}

int yoc_buf_append(struct yoc_buf *b, const void *p, size_t n)
{
	int rc = yoc_buf_reserve(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return YOC_OK;
}

int yoc_buf_puts(struct yoc_buf *b, const char *s)
{
	return yoc_buf_append(b, s, strlen(s));
}

int yoc_buf_putc(struct yoc_buf *b, char c)
{
	return yoc_buf_append(b, &c, 1);
}

int yoc_buf_printf(struct yoc_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return YOC_EINVAL;
	if ((size_t)n < sizeof tmp)
		return yoc_buf_append(b, tmp, (size_t)n);
	int rc = yoc_buf_reserve(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return YOC_OK;
}

void yoc_buf_reset(struct yoc_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

void yoc_buf_free(struct yoc_buf *b)
{
	yoc_free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

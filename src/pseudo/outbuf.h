/*
** Private to src/pseudo/: a large output buffer in front of a FILE, so the
** row loops of rewrite.c and reident.c make one memcpy per cell instead of
** one stdio call. Quotes a cell only when it holds the delimiter, a quote, CR
** or LF (RFC 4180), like the core CSV writer. Write errors are sticky in err.
*/
#ifndef YOC_PSEUDO_OUTBUF_H
#define YOC_PSEUDO_OUTBUF_H

#include <stdio.h>
#include <string.h>

#include "yoc/core.h"

#define YOC__OUT_CAP ((size_t)1 << 20)

struct yoc__out {
	char *p;
	size_t n;
	FILE *f;
	char delim;
	int err;
};

static inline int yoc__out_init(struct yoc__out *o, FILE *f, char delim)
{
	o->p = yoc_malloc(YOC__OUT_CAP);
	o->n = 0;
	o->f = f;
	o->delim = delim;
	o->err = 0;
	return o->p ? YOC_OK : YOC_ENOMEM;
}

static inline void yoc__out_flush(struct yoc__out *o)
{
	if (o->n && !o->err && fwrite(o->p, 1, o->n, o->f) != o->n)
		o->err = 1;
	o->n = 0;
}

static inline void yoc__out_free(struct yoc__out *o)
{
	yoc_free(o->p);
	o->p = NULL;
}

static inline void yoc__out_put(struct yoc__out *o, const char *s, size_t n)
{
	if (o->n + n > YOC__OUT_CAP) {
		yoc__out_flush(o);
		if (n > YOC__OUT_CAP) {
			if (!o->err && fwrite(s, 1, n, o->f) != n)
				o->err = 1;
			return;
		}
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
}

static inline void yoc__out_byte(struct yoc__out *o, char c)
{
	if (o->n == YOC__OUT_CAP)
		yoc__out_flush(o);
	o->p[o->n++] = c;
}

static inline int yoc__needs_quote(const char *s, size_t n, char delim)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == delim || c == '"' || c == '\n' || c == '\r')
			return 1;
	}
	return 0;
}

/* A cell; check 0 skips the quoting scan (the caller knows it is plain). */
static inline void yoc__out_cell(struct yoc__out *o, const char *s, size_t n, int check)
{
	if (!check || !yoc__needs_quote(s, n, o->delim)) {
		yoc__out_put(o, s, n);
		return;
	}
	yoc__out_byte(o, '"');
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"') {
			yoc__out_put(o, s + start, i - start + 1);
			yoc__out_byte(o, '"');
			start = i + 1;
		}
	}
	yoc__out_put(o, s + start, n - start);
	yoc__out_byte(o, '"');
}

#endif

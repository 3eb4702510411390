/*
** Private to src/pseudo/: a large output buffer in front of a FILE, so the
** row loops of rewrite.c and reident.c make one memcpy per cell instead of
** one stdio call. Quotes a cell only when it holds the delimiter, a quote, CR
** or LF (RFC 4180), like the core CSV writer. Write errors are sticky in err.
** With yoc__out_hash, every byte written is also fed to a SHA-256 on a
** helper thread (account/account.h): the buffer just written is handed
** over and the other of two buffers filled meanwhile.
*/
#ifndef YOC_PSEUDO_OUTBUF_H
#define YOC_PSEUDO_OUTBUF_H

#include <stdio.h>
#include <string.h>

#include "account/account.h"
#include "yoc/core.h"

#define YOC__OUT_CAP ((size_t)1 << 20)

struct yoc__out {
	char *p;
	size_t n;
	FILE *f;
	char delim;
	int err;
	uint64_t total;              /* bytes written so far */
	char *p2;                    /* with a hash: the buffer being hashed */
	struct yoc_sha256_bg *sha;   /* NULL: no hash */
};

static inline int yoc__out_init(struct yoc__out *o, FILE *f, char delim)
{
	memset(o, 0, sizeof *o);
	o->p = yoc_malloc(YOC__OUT_CAP);
	o->f = f;
	o->delim = delim;
	return o->p ? YOC_OK : YOC_ENOMEM;
}

/* Also hash everything written from now on; 0 or YOC_ENOMEM. */
static inline int yoc__out_hash(struct yoc__out *o)
{
	o->p2 = yoc_malloc(YOC__OUT_CAP);
	o->sha = o->p2 ? yoc_sha256_bg_create() : NULL;
	return o->sha ? YOC_OK : YOC_ENOMEM;
}

static inline void yoc__out_flush(struct yoc__out *o)
{
	if (!o->n)
		return;
	if (o->sha)
		yoc_sha256_bg_feed(o->sha, o->p, o->n); /* waits for p2, hashes p meanwhile */
	if (!o->err && fwrite(o->p, 1, o->n, o->f) != o->n)
		o->err = 1;
	if (o->sha) {
		char *t = o->p;
		o->p = o->p2;
		o->p2 = t;
	}
	o->total += o->n;
	o->n = 0;
}

/* After the last flush: the SHA-256 of every byte written, as hex. */
static inline void yoc__out_digest(struct yoc__out *o, char hex[65])
{
	yoc_sha256_bg_finish(o->sha, hex);
	o->sha = NULL;
}

static inline void yoc__out_free(struct yoc__out *o)
{
	yoc_sha256_bg_abort(o->sha); /* before the buffers it may be reading */
	o->sha = NULL;
	yoc_free(o->p);
	yoc_free(o->p2);
	o->p = o->p2 = NULL;
}

static inline void yoc__out_put(struct yoc__out *o, const char *s, size_t n)
{
	if (o->n + n > YOC__OUT_CAP) {
		yoc__out_flush(o);
		if (n > YOC__OUT_CAP) {
			yoc_sha256_bg_feed_sync(o->sha, s, n); /* s does not outlive the call */
			if (!o->err && fwrite(s, 1, n, o->f) != n)
				o->err = 1;
			o->total += n;
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

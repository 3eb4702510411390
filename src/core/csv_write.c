/*
** CSV writer (see include/yoc/csv.h): quotes a cell only when it must, so
** that yoc_csv_next reads back exactly the cells written. Writes through
** the caller's FILE (stdio buffering); never closes it. The first write
** error is kept and reported by yoc_csvw_status.
*/
#include <string.h>

#include "yoc/csv.h"

void yoc_csvw_init(struct yoc_csvw *w, FILE *f, char delim)
{
	memset(w, 0, sizeof *w);
	w->f = f;
	w->delim = delim ? delim : ',';
	w->first = 1;
}

static void put(struct yoc_csvw *w, const char *p, size_t n)
{
	if (n && fwrite(p, 1, n, w->f) != n)
		w->err = YOC_EIO;
}

static void putch(struct yoc_csvw *w, char c)
{
	if (putc(c, w->f) == EOF)
		w->err = YOC_EIO;
}

void yoc_csvw_cell(struct yoc_csvw *w, const char *p, size_t n)
{
	if (!w->first)
		putch(w, w->delim);
	else
		w->first_empty = n == 0;
	w->first = 0;
	w->ncells++;
	size_t i = 0;
	for (; i < n; i++) {
		char c = p[i];
		if (c == w->delim || c == '"' || c == '\n' || c == '\r')
			break;
	}
	if (i == n) {
		put(w, p, n);
		return;
	}
	putch(w, '"');
	const char *s = p, *e = p + n;
	while (s < e) { /* write up to and including each quote, then one more */
		const char *q = memchr(s, '"', (size_t)(e - s));
		size_t k = q ? (size_t)(q + 1 - s) : (size_t)(e - s);
		put(w, s, k);
		if (q)
			putch(w, '"');
		s += k;
	}
	putch(w, '"');
}

void yoc_csvw_str(struct yoc_csvw *w, const char *s)
{
	yoc_csvw_cell(w, s, strlen(s));
}

/* Decimal digits of v into the end of buf; returns the start. */
static char *utoa_end(uint64_t v, char *end)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

void yoc_csvw_int(struct yoc_csvw *w, int64_t v)
{
	char buf[24], *end = buf + sizeof buf;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	char *p = utoa_end(u, end);
	if (v < 0)
		*--p = '-';
	yoc_csvw_cell(w, p, (size_t)(end - p));
}

void yoc_csvw_pence(struct yoc_csvw *w, int64_t pence)
{
	char buf[32], *end = buf + sizeof buf;
	uint64_t u = pence < 0 ? 0 - (uint64_t)pence : (uint64_t)pence;
	char *p = end;
	*--p = (char)('0' + u % 10);
	*--p = (char)('0' + u / 10 % 10);
	*--p = '.';
	p = utoa_end(u / 100, p);
	if (pence < 0)
		*--p = '-';
	yoc_csvw_cell(w, p, (size_t)(end - p));
}

void yoc_csvw_end(struct yoc_csvw *w)
{
	if (w->ncells == 1 && w->first_empty)
		put(w, "\"\"", 2); /* an empty line would be skipped on reading */
	putch(w, '\n');
	w->first = 1;
	w->ncells = 0;
	w->first_empty = 0;
}

int yoc_csvw_status(const struct yoc_csvw *w)
{
	if (w->err || ferror(w->f))
		return YOC_EIO;
	return 0;
}

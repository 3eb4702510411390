/*
** Currency bands: LTC count ranges with a name each ("A:0-1,B:2,C:3-5,
** D:6-8,E:9+" by default, after Kent). Parsing checks that the bands cover
** every count exactly once, so every person-year falls in one band.
*/
#include <stdio.h>
#include <string.h>

#include "analyse/analyse.h"

const char yoc_bands_default[] = "A:0-1,B:2,C:3-5,D:6-8,E:9+";

static int num(const char **s, int *out)
{
	const char *p = *s;
	long v = 0;
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (*p - '0');
		if (v > 1000)
			return -1;
		p++;
	}
	*out = (int)v;
	*s = p;
	return 0;
}

int yoc_bands_parse(struct yoc_bands *b, const char *spec, struct yoc_error *e)
{
	memset(b, 0, sizeof *b);
	const char *p = spec ? spec : yoc_bands_default;
	int next = 0, open = 0;
	while (*p) {
		if (b->n == YOC_BANDS_MAX)
			return yoc_error_set(e, YOC_EPARSE, "--bands", 0, 0,
					     "more than %d bands", YOC_BANDS_MAX);
		if (open)
			return yoc_error_set(e, YOC_EPARSE, "--bands", 0, 0,
					     "a band after the open band '%s'", b->name[b->n - 1]);
		size_t k = 0;
		while (p[k] && p[k] != ':' && p[k] != ',') {
			char c = p[k];
			if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			      c == '_') || k == 7)
				return yoc_error_set(e, YOC_EPARSE, "--bands", 0, (long)(p - spec) + 1,
						     "band names are 1-7 letters, digits or _");
			k++;
		}
		if (k == 0 || p[k] != ':')
			return yoc_error_set(e, YOC_EPARSE, "--bands", 0, (long)(p - spec) + 1,
					     "expected NAME:RANGE (e.g. A:0-1)");
		memcpy(b->name[b->n], p, k);
		for (int i = 0; i < b->n; i++)
			if (strcmp(b->name[i], b->name[b->n]) == 0)
				return yoc_error_set(e, YOC_EPARSE, "--bands", 0, 0,
						     "band '%s' named twice", b->name[i]);
		p += k + 1;
		int lo, hi;
		if (num(&p, &lo))
			return yoc_error_set(e, YOC_EPARSE, "--bands", 0, (long)(p - spec) + 1,
					     "expected a number of LTCs");
		hi = lo;
		if (*p == '+') {
			hi = -1;
			open = 1;
			p++;
		} else if (*p == '-') {
			p++;
			if (num(&p, &hi) || hi < lo)
				return yoc_error_set(e, YOC_EPARSE, "--bands", 0, (long)(p - spec) + 1,
						     "expected LO-HI with HI >= LO");
		}
		if (lo != next)
			return yoc_error_set(e, YOC_EPARSE, "--bands", 0, 0,
					     "band '%s' starts at %d; the bands must cover every "
					     "count from 0 in order (next is %d)", b->name[b->n], lo, next);
		b->lo[b->n] = lo;
		b->hi[b->n] = hi;
		b->n++;
		next = hi + 1;
		if (*p == ',')
			p++;
		else if (*p)
			return yoc_error_set(e, YOC_EPARSE, "--bands", 0, (long)(p - spec) + 1,
					     "expected ',' between bands");
	}
	if (!open)
		return yoc_error_set(e, YOC_EPARSE, "--bands", 0, 0,
				     "the last band must be open-ended (e.g. E:9+)");
	return YOC_OK;
}

const char *yoc_bands_of(const struct yoc_bands *b, int ltc_count)
{
	for (int i = 0; i < b->n; i++)
		if (ltc_count >= b->lo[i] && (b->hi[i] < 0 || ltc_count <= b->hi[i]))
			return b->name[i];
	return b->n ? b->name[0] : "";
}

char *yoc_bands_format(const struct yoc_bands *b, char *buf, size_t cap)
{
	size_t len = 0;
	if (cap)
		buf[0] = 0;
	for (int i = 0; i < b->n && len < cap; i++) {
		int w;
		if (b->hi[i] < 0)
			w = snprintf(buf + len, cap - len, "%s%s:%d+", i ? "," : "", b->name[i], b->lo[i]);
		else if (b->hi[i] == b->lo[i])
			w = snprintf(buf + len, cap - len, "%s%s:%d", i ? "," : "", b->name[i], b->lo[i]);
		else
			w = snprintf(buf + len, cap - len, "%s%s:%d-%d", i ? "," : "", b->name[i],
				     b->lo[i], b->hi[i]);
		if (w < 0)
			break;
		len += (size_t)w;
	}
	return buf;
}

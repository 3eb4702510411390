/*
** Feed file names (see feedname.h): split "<PROVIDER>_<PERIOD>[_vN].ext"
** and check each part. Pure: no allocation, no I/O, no printing. Every
** message echoes the offending part escaped, so a name holding a newline
** or a quote cannot forge lines in what the CLI prints.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "load/feedname.h"

#define NAME_SHOWN 80 /* bytes of the name echoed in a message */

/* Copies p[0..n) into dst[cap] with bytes outside ' '..'~' and '\' as \xNN. */
static void escape(char *dst, size_t cap, const char *p, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		int plain = ch >= ' ' && ch <= '~' && ch != '\\';
		if (i == NAME_SHOWN || o + (plain ? 1 : 4) + 4 > cap) {
			if (o + 4 <= cap)
				memcpy(dst + o, "...", 3), o += 3;
			break;
		}
		if (plain)
			dst[o++] = (char)ch;
		else
			o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", ch);
	}
	dst[o] = 0;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_upper_alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || is_digit(c);
}

int yoc_feedname_provider_ok(const char *p, size_t n)
{
	if (n < YOC_FEEDNAME_PROVIDER_MIN || n > YOC_FEEDNAME_PROVIDER_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_upper_alnum(p[i]))
			return 0;
	return 1;
}

/*
** NULL if p[0..n) is a period, else why not (into why[cap]). The shape is
** checked first, so the year and month are always four and two digits.
*/
static const char *period_bad(const char *p, size_t n, char *why, size_t cap)
{
	char shown[NAME_SHOWN * 4 + 8];
	escape(shown, sizeof shown, p, n);
	if (n != 7 || p[4] != '-' || !is_digit(p[0]) || !is_digit(p[1]) || !is_digit(p[2]) ||
	    !is_digit(p[3]) || !is_digit(p[5]) || !is_digit(p[6])) {
		snprintf(why, cap, "period %s: must be YYYY-MM (a month) or YYYY-YY "
			 "(a financial year)", shown);
		return why;
	}
	int y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
	int t = (p[5] - '0') * 10 + (p[6] - '0');
	if (y < YOC_FEEDNAME_YEAR_MIN || y > YOC_FEEDNAME_YEAR_MAX) {
		snprintf(why, cap, "period %s: year must be %d-%d", shown, YOC_FEEDNAME_YEAR_MIN,
			 YOC_FEEDNAME_YEAR_MAX);
		return why;
	}
	int month = t >= 1 && t <= 12;
	int fyear = y < YOC_FEEDNAME_YEAR_MAX && t == (y + 1) % 100;
	if (month || fyear)
		return NULL;
	if (y < YOC_FEEDNAME_YEAR_MAX)
		snprintf(why, cap, "period %s: month must be 01-12 (or the financial year "
			 "%04d-%02d)", shown, y, (y + 1) % 100);
	else
		snprintf(why, cap, "period %s: month must be 01-12", shown);
	return why;
}

int yoc_feedname_period_ok(const char *p, size_t n)
{
	char why[8];
	if (n > 7)
		return 0;
	return period_bad(p, n, why, sizeof why) == NULL;
}

/* 0 when v[0..n) is "vN" (2 <= N <= 999, no leading zero), with *version = N. */
static int version_of(const char *v, size_t n, int *version)
{
	if (n < 2 || n > 4 || v[0] != 'v' || v[1] == '0')
		return -1;
	int x = 0;
	for (size_t i = 1; i < n; i++) {
		if (!is_digit(v[i]))
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	if (x < 2 || x > YOC_FEEDNAME_VERSION_MAX)
		return -1;
	*version = x;
	return 0;
}

static int bad(struct yoc_error *e, const char *shown, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(struct yoc_error *e, const char *shown, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	yoc_error_vset(e, YOC_EPARSE, shown, 0, 0, fmt, ap);
	va_end(ap);
	return YOC_EPARSE;
}

int yoc_feedname_parse(const char *path, struct yoc_feedname *out, struct yoc_error *e)
{
	static const char form[] = "; a feed file is named PROVIDER_PERIOD.csv, e.g. "
				   "RA1_2023-05.csv (a resubmission RA1_2023-05_v2.csv)";
	memset(out, 0, sizeof *out);
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	size_t n = strlen(b);
	char shown[NAME_SHOWN * 4 + 8], part[NAME_SHOWN * 4 + 8], why[400];
	escape(shown, sizeof shown, b, n);
	if (n == 0)
		return bad(e, shown, "empty file name%s", form);
	const char *dot = strrchr(b, '.');
	if (!dot)
		return bad(e, shown, "no extension: must end in .csv or .txt%s", form);
	if (strcasecmp(dot, ".csv") != 0 && strcasecmp(dot, ".txt") != 0) {
		escape(part, sizeof part, dot, strlen(dot));
		return bad(e, shown, "extension %s: must be .csv or .txt%s", part, form);
	}
	size_t stem = (size_t)(dot - b);
	/* the parts between '_': provider, period and an optional version */
	size_t at[3], len[3], k = 0, s = 0;
	for (size_t i = 0; i <= stem; i++)
		if (i == stem || b[i] == '_') {
			if (k == 3)
				return bad(e, shown, "too many parts between '_'%s", form);
			at[k] = s;
			len[k++] = i - s;
			s = i + 1;
		}
	if (len[0] == 0)
		return bad(e, shown, "no provider%s", form);
	if (!yoc_feedname_provider_ok(b + at[0], len[0])) {
		escape(part, sizeof part, b + at[0], len[0]);
		return bad(e, shown, "provider %s: must be %d-%d upper-case letters and digits "
			   "(an ODS code such as RA1 or P90001)", part, YOC_FEEDNAME_PROVIDER_MIN,
			   YOC_FEEDNAME_PROVIDER_MAX);
	}
	if (k < 2 || len[1] == 0)
		return bad(e, shown, "no period%s", form);
	if (period_bad(b + at[1], len[1], why, sizeof why))
		return bad(e, shown, "%s", why);
	int version = 1;
	if (k == 3 && version_of(b + at[2], len[2], &version)) {
		escape(part, sizeof part, b + at[2], len[2]);
		return bad(e, shown, "suffix _%s: a resubmission is _v2 to _v%d (the first "
			   "submission has no suffix)", part, YOC_FEEDNAME_VERSION_MAX);
	}
	memcpy(out->provider, b + at[0], len[0]);
	memcpy(out->period, b + at[1], len[1]);
	out->version = version;
	return YOC_OK;
}

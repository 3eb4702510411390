/*
** Values that look like direct identifiers, and the per-column verdict.
**
** Certain shapes refuse a file at once: an NHS number written 3-3-4, a full
** date with separators in a column that is not a date, a UK postcode with
** its space, a phone number written with spaces, dashes, brackets or +44, an
** e-mail address, and an NHS number inside free text. Plain digit strings
** are judged on the whole column, since they are also record keys and
** codes: ten digits pass Modulus 11 one time in eleven by chance, NHS
** numbers every time, so a column is refused when at least half of its
** ten-digit values pass; likewise eight digits reading as dates, eleven
** digits shaped as phone numbers, and postcodes written without the space
** (NCC currency codes such as N02AF have the shape of a five-character
** postcode, so those are not counted at all).
**
** Must not: keep or print a value; cost more than a few comparisons for the
** common short cell (codes, flags, amounts).
*/
#include <string.h>

#include "ident/ident.h"
#include "yoc/date.h"
#include "yoc/nhsno.h"

static inline int dig(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline int alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static inline int upc(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? c - 32 : c;
}

/* Modulus 11 over ten digits (not all the same digit: placeholders). */
static int mod11(const char *t)
{
	int same = 1, sum = 0;
	for (int i = 0; i < 10; i++)
		same &= t[i] == t[0];
	if (same)
		return 0;
	for (int i = 0; i < 9; i++)
		sum += (t[i] - '0') * (10 - i);
	int c = 11 - sum % 11;
	if (c == 11)
		c = 0;
	return c != 10 && c == t[9] - '0';
}

/* Up to two digits at p[*i] as a number; -1 if none. */
static int num12(const char *p, size_t n, size_t *i)
{
	if (*i >= n || !dig((unsigned char)p[*i]))
		return -1;
	int v = p[(*i)++] - '0';
	if (*i < n && dig((unsigned char)p[*i]))
		v = v * 10 + (p[(*i)++] - '0');
	return v;
}

static int num4(const char *p, size_t n, size_t *i)
{
	if (*i + 4 > n)
		return -1;
	int v = 0;
	for (int k = 0; k < 4; k++) {
		if (!dig((unsigned char)p[*i + k]))
			return -1;
		v = v * 10 + (p[*i + k] - '0');
	}
	*i += 4;
	return v;
}

static int plausible(int y, int m, int d)
{
	return y >= 1880 && y <= 2100 && yoc_date_valid_ymd(y, m, d);
}

/* A full date with separators, then the end or a time (' ' or 'T' and a digit). */
static int is_date(const char *p, size_t n)
{
	size_t i = 0;
	int y, m, d;
	char sep;
	if (n >= 8 && dig((unsigned char)p[0]) && dig((unsigned char)p[1]) &&
	    dig((unsigned char)p[2]) && dig((unsigned char)p[3])) {
		y = num4(p, n, &i);
		if (i >= n)
			return 0;
		sep = p[i++];
		if (sep != '-' && sep != '/' && sep != '.')
			return 0;
		if ((m = num12(p, n, &i)) < 0 || i >= n || p[i++] != sep)
			return 0;
		if ((d = num12(p, n, &i)) < 0)
			return 0;
	} else {
		if ((d = num12(p, n, &i)) < 0 || i >= n)
			return 0;
		sep = p[i++];
		if (sep != '-' && sep != '/' && sep != '.')
			return 0;
		if ((m = num12(p, n, &i)) < 0 || i >= n || p[i++] != sep)
			return 0;
		if ((y = num4(p, n, &i)) < 0)
			return 0;
	}
	if (i < n && !((p[i] == ' ' || p[i] == 'T') && i + 1 < n && dig((unsigned char)p[i + 1])))
		return 0;
	return plausible(y, m, d);
}

/* UK postcode letters by position (Royal Mail's rules). */
static int pc_first(int c) { return alpha((unsigned char)c) && !strchr("QVX", upc(c)); }
static int pc_second(int c) { return alpha((unsigned char)c) && !strchr("IJZ", upc(c)); }
static int pc_third(int c) { return alpha((unsigned char)c) && strchr("ABCDEFGHJKPSTUW", upc(c)); }
static int pc_fourth(int c) { return alpha((unsigned char)c) && strchr("ABEHMNPRVWXY", upc(c)); }
static int pc_unit(int c) { return alpha((unsigned char)c) && !strchr("CIKMOV", upc(c)); }

/* The outward code: A9 A99 AA9 AA99 A9A AA9A, exactly the len bytes at p. */
static int pc_outward(const char *p, size_t len)
{
	const unsigned char *s = (const unsigned char *)p;
	if (len < 2 || len > 4 || !pc_first(s[0]))
		return 0;
	switch (len) {
	case 2: return dig(s[1]);
	case 3:
		return (dig(s[1]) && dig(s[2])) || (pc_second(s[1]) && dig(s[2])) ||
		       (dig(s[1]) && pc_third(s[2]));
	default:
		return pc_second(s[1]) && dig(s[2]) && (dig(s[3]) || pc_fourth(s[3]));
	}
}

static int pc_inward(const char *p)
{
	return dig((unsigned char)p[0]) && pc_unit(p[1]) && pc_unit(p[2]);
}

static unsigned postcode(const char *p, size_t n)
{
	if (n >= 6 && n <= 8 && p[n - 4] == ' ' && pc_inward(p + n - 3) && pc_outward(p, n - 4))
		return YOC_IV_POSTCODE;
	if ((n == 6 || n == 7) && pc_inward(p + n - 3) && pc_outward(p, n - 3))
		return YOC_IV_POSTCODE_C;
	return 0;
}

/* A phone number written with separators or +44 (at least one non-digit). */
static unsigned phone(const char *p, size_t n)
{
	char d[24];
	size_t k = 0;
	int other = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (dig(c)) {
			if (k == sizeof d)
				return 0;
			d[k++] = (char)c;
		} else if (c == ' ' || c == '-' || c == '(' || c == ')' || (c == '+' && i == 0)) {
			other = 1;
		} else {
			return 0;
		}
	}
	if (!other)
		return 0;
	const char *r = d;
	size_t rn = k;
	if (p[0] == '+') {
		if (rn < 2 || r[0] != '4' || r[1] != '4')
			return 0;
		r += 2;
		rn -= 2;
		if (rn == 11 && r[0] == '0') { /* +44 (0)113 ... */
			r++;
			rn--;
		}
		return rn == 10 && strchr("1237", r[0]) ? YOC_IV_PHONE : 0;
	}
	if ((rn == 10 || rn == 11) && r[0] == '0' && strchr("1237", r[1]))
		return YOC_IV_PHONE;
	return 0;
}

static int email_local(unsigned char c)
{
	return alpha(c) || dig(c) || (c && strchr("._%+-'", c));
}

static unsigned email(const char *p, size_t n, size_t at)
{
	if (at == 0 || at + 1 >= n)
		return 0;
	for (size_t i = 0; i < at; i++)
		if (!email_local((unsigned char)p[i]))
			return 0;
	size_t labels = 0, len = 0, alen = 0;
	for (size_t i = at + 1; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '.') {
			if (len == 0)
				return 0;
			labels++;
			len = alen = 0;
		} else if (alpha(c) || dig(c) || c == '-') {
			len++;
			alen += alpha(c) != 0;
		} else {
			return 0;
		}
	}
	return labels >= 1 && len >= 2 && alen == len ? YOC_IV_EMAIL : 0;
}

unsigned yoc_ident_value(const char *p, size_t n)
{
	while (n && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n'))
		n--;
	if (n < 6 || n > 254)
		return 0;
	size_t ndig = 0, at = 0, nat = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (dig(c))
			ndig++;
		else if (c == '@') {
			at = i;
			nat++;
		}
	}
	unsigned v = 0;
	if (ndig == n) {
		if (n == 10) {
			int same = 1;
			for (int i = 1; i < 10; i++)
				same &= p[i] == p[0];
			if (!same)
				v |= YOC_IV_NHS10;
			if (mod11(p))
				v |= YOC_IV_NHS10_OK;
		} else if (n == 8) {
			int y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
			int m = (p[4] - '0') * 10 + (p[5] - '0');
			int d = (p[6] - '0') * 10 + (p[7] - '0');
			v |= YOC_IV_DIG8;
			if (plausible(y, m, d))
				v |= YOC_IV_DATE8;
		}
		if (n >= 10 && n <= 12)
			v |= YOC_IV_DIGLONG;
		if (n == 11 && p[0] == '0' && strchr("1237", p[1]))
			v |= YOC_IV_PHONE_D;
		return v;
	}
	if (nat == 1)
		return email(p, n, at);
	if (nat)
		return 0;
	if (n == 12 && ndig == 10 && (p[3] == ' ' || p[3] == '-') && p[7] == p[3]) {
		char t[10];
		memcpy(t, p, 3);
		memcpy(t + 3, p + 4, 3);
		memcpy(t + 6, p + 8, 4);
		int ok = 1;
		for (int i = 0; i < 10; i++)
			ok &= dig((unsigned char)t[i]);
		if (ok && mod11(t))
			v |= YOC_IV_NHS_FMT;
	}
	if (ndig >= 5 && is_date(p, n))
		v |= YOC_IV_DATE;
	if (ndig >= 1 && ndig <= 4 && n <= 8)
		v |= postcode(p, n);
	if (ndig >= 10)
		v |= phone(p, n);
	return v;
}

static int word_sep(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int edge_punct(unsigned char c)
{
	return c && strchr("()<>[]\"',;:.!?", c);
}

unsigned yoc_ident_text(const char *p, size_t n)
{
	unsigned v = 0;
	size_t i = 0;
	while (i < n) {
		while (i < n && word_sep((unsigned char)p[i]))
			i++;
		if (i == n)
			break;
		/* Spans of one, two and three words from here. */
		size_t e = i;
		for (int w = 0; w < 3 && e < n; w++) {
			while (e < n && !word_sep((unsigned char)p[e]))
				e++;
			size_t a = i, b = e;
			while (a < b && edge_punct((unsigned char)p[a]) && p[a] != '(')
				a++;
			while (b > a && edge_punct((unsigned char)p[b - 1]) && p[b - 1] != ')')
				b--;
			if (b - a > (w ? 24u : 254u))
				break;
			unsigned x = yoc_ident_value(p + a, b - a);
			if (x & YOC_IV_NHS10_OK)
				x |= YOC_IV_NHS_FMT; /* an NHS number in a sentence is no record key */
			v |= x;
			if (e < n && word_sep((unsigned char)p[e]) && e + 1 < n &&
			    !word_sep((unsigned char)p[e + 1]))
				e++;
			else
				break;
		}
		while (i < n && !word_sep((unsigned char)p[i]))
			i++;
	}
	return v;
}

/* ---- the column tallies ------------------------------------------------- */

int yoc_idscan_init(struct yoc_idscan *s, const struct yoc_ident_plan *pl)
{
	s->pl = pl;
	s->ncols = pl->ncols + 1;
	s->c = yoc_calloc(s->ncols, sizeof *s->c);
	return s->c ? YOC_OK : YOC_ENOMEM;
}

void yoc_idscan_free(struct yoc_idscan *s)
{
	yoc_free(s->c);
	s->c = NULL;
}

#define SURE (YOC_IV_NHS_FMT | YOC_IV_DATE | YOC_IV_POSTCODE | YOC_IV_PHONE | YOC_IV_EMAIL)

void yoc_idscan_cell(struct yoc_idscan *s, size_t col, const char *p, size_t n, long line)
{
	if (n < 6)
		return;
	if (col >= s->ncols)
		col = s->ncols - 1;
	struct yoc_idscan_col *c = &s->c[col];
	int dates = col < s->pl->ncols && s->pl->cols[col].dates;
	c->nonempty++;
	/* The common cells of date and pseudonym columns, quickly. */
	if (dates && n == 10 && p[4] == '-' && p[7] == '-')
		return;
	if (n == 64 && yoc_spec_pseudo_ok(p, n))
		return;
	unsigned v = yoc_ident_value(p, n);
	if (n >= 14 && (memchr(p, ' ', n) || memchr(p, '\n', n)))
		v |= yoc_ident_text(p, n);
	if (!v)
		return;
	if (dates)
		v &= ~(unsigned)(YOC_IV_DATE | YOC_IV_DATE8);
	if (v & SURE) {
		if (!c->sure++) {
			c->line_sure = line;
			c->sure_bits = v & SURE;
		}
	}
	if (v & YOC_IV_NHS10) {
		c->n10++;
		if ((v & YOC_IV_NHS10_OK) && !c->p10++)
			c->line_p10 = line;
	}
	if (v & YOC_IV_DIG8) {
		c->n8++;
		if ((v & YOC_IV_DATE8) && !c->d8++)
			c->line_d8 = line;
	}
	if (v & YOC_IV_DIGLONG) {
		c->nlong++;
		if ((v & YOC_IV_PHONE_D) && !c->phd++)
			c->line_phd = line;
	}
	if ((v & YOC_IV_POSTCODE_C) && !c->pcc++)
		c->line_pcc = line;
}

void yoc_idscan_row(struct yoc_idscan *s, const struct yoc_cell *c, size_t ncells,
		    long line, int any)
{
	const struct yoc_ident_col *pc = s->pl->cols;
	size_t nc = s->pl->ncols;
	for (size_t i = 0; i < ncells; i++) {
		if (c[i].n < 6)
			continue;
		if (!any && (i >= nc || pc[i].act != YOC_IA_KEEP))
			continue;
		yoc_idscan_cell(s, i, c[i].p, c[i].n, line);
	}
}

static const char *sure_what(unsigned bits)
{
	if (bits & YOC_IV_NHS_FMT)
		return "an NHS number (passing the Modulus 11 check)";
	if (bits & YOC_IV_EMAIL)
		return "an e-mail address";
	if (bits & YOC_IV_POSTCODE)
		return "a UK postcode";
	if (bits & YOC_IV_PHONE)
		return "a phone number";
	return "a full date (a date of birth?) in a column that is not a date";
}

int yoc_idscan_verdict(const struct yoc_idscan *s, const struct yoc_cell *hdr,
		       const char *path, struct yoc_error *e)
{
	for (size_t i = 0; i < s->ncols; i++) {
		const struct yoc_idscan_col *c = &s->c[i];
		const char *what = NULL;
		long line = 0;
		char label[96];
		if (c->sure) {
			what = sure_what(c->sure_bits);
			line = c->line_sure;
		} else if (c->p10 && 2 * c->p10 >= c->n10) {
			what = "NHS numbers (ten digits passing the Modulus 11 check)";
			line = c->line_p10;
		} else if (c->d8 && 2 * c->d8 >= c->n8) {
			what = "full dates YYYYMMDD (dates of birth?) in a column that is not a date";
			line = c->line_d8;
		} else if (c->phd && 2 * c->phd >= c->nlong) {
			what = "phone numbers";
			line = c->line_phd;
		} else if (c->pcc && 2 * c->pcc >= c->nonempty) {
			what = "UK postcodes";
			line = c->line_pcc;
		}
		if (!what)
			continue;
		if (i < s->pl->ncols && hdr) {
			char shown[64];
			yoc_ident_show(hdr[i].p, hdr[i].n, shown, 40);
			snprintf(label, sizeof label, "column %zu '%s'", i + 1, shown);
		} else {
			snprintf(label, sizeof label, "cells past the header's %zu columns",
				 s->pl->ncols);
		}
		return yoc_error_set(e, YOC_EPERM, path, line, (long)i + 1,
				     "%s holds what looks like %s (first at line %ld): the file is "
				     "refused (values are not shown); remove or pseudonymise the "
				     "column at source", label, what, line);
	}
	return YOC_OK;
}

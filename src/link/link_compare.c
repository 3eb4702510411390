/*
** Comparison functions of the linkage: Jaro and Jaro-Winkler, a sound-alike
** key of names, nickname pairs, dates with day and month transposed,
** postcode sector and district, and the comparison vector of two records.
** Pure functions: no allocation, no state.
*/
#include <string.h>

#include "link/link.h"
#include "yoc/date.h"

const int yoc_link_nlevels[YOC_LF_COUNT] = {4, 4, 4, 2, 4};
const char *const yoc_link_field_names[YOC_LF_COUNT] = {"given_name", "family_name", "dob", "sex",
							 "postcode"};

#define JARO_MAX 64

double yoc_jaro(const char *a, size_t an, const char *b, size_t bn)
{
	if (an == 0 && bn == 0)
		return 1.0;
	if (an == 0 || bn == 0)
		return 0.0;
	if (an > JARO_MAX)
		an = JARO_MAX;
	if (bn > JARO_MAX)
		bn = JARO_MAX;
	unsigned char ma[JARO_MAX] = {0}, mb[JARO_MAX] = {0};
	size_t longer = an > bn ? an : bn;
	size_t win = longer / 2 > 0 ? longer / 2 - 1 : 0;
	size_t m = 0;
	for (size_t i = 0; i < an; i++) {
		size_t lo = i > win ? i - win : 0, hi = i + win + 1 < bn ? i + win + 1 : bn;
		for (size_t j = lo; j < hi; j++) {
			if (!mb[j] && a[i] == b[j]) {
				ma[i] = mb[j] = 1;
				m++;
				break;
			}
		}
	}
	if (m == 0)
		return 0.0;
	/* Half the matched characters out of order. */
	size_t t = 0, j = 0;
	for (size_t i = 0; i < an; i++) {
		if (!ma[i])
			continue;
		while (!mb[j])
			j++;
		if (a[i] != b[j])
			t++;
		j++;
	}
	double dm = (double)m;
	return (dm / (double)an + dm / (double)bn + (dm - (double)t / 2.0) / dm) / 3.0;
}

double yoc_jaro_winkler(const char *a, size_t an, const char *b, size_t bn)
{
	double j = yoc_jaro(a, an, b, bn);
	size_t l = 0;
	while (l < 4 && l < an && l < bn && a[l] == b[l])
		l++;
	return j + 0.1 * (double)l * (1.0 - j);
}

size_t yoc_link_norm(const char *s, size_t n, char *out, size_t cap, int digits)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 'a' && c <= 'z')
			out[k++] = (char)(c - 32);
		else if ((c >= 'A' && c <= 'Z') || (digits && c >= '0' && c <= '9'))
			out[k++] = (char)c;
	}
	if (cap)
		out[k] = 0;
	return k;
}

static int is_vowel(int c)
{
	return c == 'A' || c == 'E' || c == 'I' || c == 'O' || c == 'U' || c == 'Y';
}

static int soft(int c)
{
	return c == 'E' || c == 'I' || c == 'Y';
}

/*
** Sound classes: '1' b/p, '2' f/v/ph, '3' hard c/k/q/g/x, '4' s/z/soft c,
** '5' d/t, '6' l, '7' m/n, '8' r, '9' j/soft g, 'X' ch/sh, '0' th; vowels,
** h and w only separate letters.
*/
size_t yoc_phonetic(const char *s, size_t n, char *out)
{
	char w[40];
	size_t wn = yoc_link_norm(s, n, w, sizeof w, 0);
	size_t i = 0, k = 0;
	char last = 0;
	if (wn >= 2) {
		const char *silent[] = {"KN", "GN", "PN", "WR", "PS", "WH"};
		for (size_t q = 0; q < sizeof silent / sizeof *silent; q++)
			if (w[0] == silent[q][0] && w[1] == silent[q][1])
				i = 1;
	}
	while (i < wn && k < YOC_PHON_MAX - 1) {
		int c = w[i], nx = i + 1 < wn ? w[i + 1] : 0;
		char code = 0;
		size_t step = 1;
		switch (c) {
		case 'B':
			code = (i > 0 && w[i - 1] == 'M' && i + 1 == wn) ? 0 : '1'; /* lamb */
			break;
		case 'P':
			code = nx == 'H' ? '2' : '1';
			step = nx == 'H' ? 2 : 1;
			break;
		case 'F':
		case 'V':
			code = '2';
			break;
		case 'C':
			if (nx == 'H') {
				code = 'X';
				step = 2;
			} else if (nx == 'K') {
				code = '3';
				step = 2;
			} else {
				code = soft(nx) ? '4' : '3';
			}
			break;
		case 'S':
			if (nx == 'H') {
				code = 'X';
				step = 2;
			} else if (nx == 'C' && i + 2 < wn && w[i + 2] == 'H') {
				code = 'X';
				step = 3;
			} else {
				code = '4';
			}
			break;
		case 'Z':
			code = '4';
			break;
		case 'K':
		case 'Q':
			code = '3';
			break;
		case 'X':
			code = '4';
			break;
		case 'G':
			if (nx == 'H') {
				code = 0; /* silent gh (Leigh, Hugh) or f: either way weak */
				step = 2;
			} else {
				code = soft(nx) ? '9' : '3';
			}
			break;
		case 'J':
			code = '9';
			break;
		case 'D':
		case 'T':
			if (c == 'T' && nx == 'H') {
				code = '0';
				step = 2;
			} else {
				code = '5';
			}
			break;
		case 'L':
			code = '6';
			break;
		case 'M':
		case 'N':
			code = '7';
			break;
		case 'R':
			code = '8';
			break;
		default:
			code = 0;
			break;
		}
		if (code) {
			if (code != last)
				out[k++] = code;
			last = code;
		} else if (is_vowel(c)) {
			last = 0; /* a vowel separates: "Tatum" keeps both t sounds */
		}
		i += step;
	}
	out[k] = 0;
	return k;
}

/* Given-name nickname pairs, formal name first. */
static const char *const nicknames[][2] = {
	{"WILLIAM", "BILL"}, {"WILLIAM", "BILLY"}, {"WILLIAM", "WILL"}, {"WILLIAM", "LIAM"},
	{"ELIZABETH", "LIZ"}, {"ELIZABETH", "BETH"}, {"ELIZABETH", "BETTY"},
	{"ELIZABETH", "LIZZIE"}, {"ELIZABETH", "ELSIE"}, {"MARGARET", "PEGGY"},
	{"MARGARET", "MAGGIE"}, {"MARGARET", "MEG"}, {"ROBERT", "BOB"}, {"ROBERT", "BOBBY"},
	{"ROBERT", "ROB"}, {"ROBERT", "ROBBIE"}, {"JAMES", "JIM"}, {"JAMES", "JIMMY"},
	{"JAMES", "JAMIE"}, {"JOHN", "JACK"}, {"JOHN", "JOHNNY"}, {"RICHARD", "DICK"},
	{"RICHARD", "RICK"}, {"RICHARD", "RICHIE"}, {"ANTHONY", "TONY"}, {"CATHERINE", "KATE"},
	{"CATHERINE", "CATH"}, {"CATHERINE", "KATIE"}, {"KATHERINE", "KATE"},
	{"KATHLEEN", "KATH"}, {"SUSAN", "SUE"}, {"SUSAN", "SUSIE"}, {"DAVID", "DAVE"},
	{"MICHAEL", "MIKE"}, {"MICHAEL", "MICK"}, {"CHRISTOPHER", "CHRIS"},
	{"CHRISTINE", "CHRIS"}, {"CHRISTINE", "TINA"}, {"PATRICIA", "PAT"},
	{"PATRICIA", "TRISH"}, {"PATRICK", "PAT"}, {"ALFRED", "ALF"}, {"ALEXANDER", "ALEX"},
	{"ALEXANDRA", "ALEX"}, {"ALEXANDRA", "SANDY"}, {"NICHOLAS", "NICK"},
	{"STEPHEN", "STEVE"}, {"STEVEN", "STEVE"}, {"THOMAS", "TOM"}, {"THOMAS", "TOMMY"},
	{"HENRY", "HARRY"}, {"EDWARD", "TED"}, {"EDWARD", "ED"}, {"EDWARD", "EDDIE"},
	{"JENNIFER", "JENNY"}, {"JENNIFER", "JEN"}, {"DOROTHY", "DOT"}, {"DOROTHY", "DOLLY"},
	{"SARAH", "SALLY"}, {"MARY", "MOLLY"}, {"MARY", "POLLY"}, {"DANIEL", "DAN"},
	{"DANIEL", "DANNY"}, {"SAMUEL", "SAM"}, {"SAMANTHA", "SAM"}, {"BENJAMIN", "BEN"},
	{"JOSEPH", "JOE"}, {"FREDERICK", "FRED"}, {"GEOFFREY", "GEOFF"}, {"PETER", "PETE"},
	{"ANDREW", "ANDY"}, {"MATTHEW", "MATT"}, {"REBECCA", "BECKY"}, {"VICTORIA", "VICKY"},
	{"DEBORAH", "DEBBIE"}, {"JACQUELINE", "JACKIE"}, {"GERALD", "GERRY"},
	{"GERALDINE", "GERRY"}, {"LAWRENCE", "LARRY"}, {"ALBERT", "BERT"}, {"HERBERT", "BERT"},
	{"ARTHUR", "ART"}, {"FRANCES", "FRAN"}, {"FRANCIS", "FRANK"}, {"JOAN", "JOANIE"},
	{"RONALD", "RON"}, {"DONALD", "DON"}, {"KENNETH", "KEN"}, {"LEONARD", "LEN"},
	{"ABIGAIL", "ABBY"}, {"OLIVIA", "LIV"}, {"CHARLOTTE", "CHARLIE"}, {"CHARLES", "CHARLIE"},
	{"CHARLES", "CHAS"}, {"EMILY", "EMMY"}, {"EMMA", "EMS"}, {"AMELIA", "MILLIE"},
	{"MILDRED", "MILLIE"}, {"NORMAN", "NORM"}, {"BARBARA", "BABS"}, {"DOUGLAS", "DOUG"},
	{"JOSHUA", "JOSH"}, {"ISABELLA", "BELLA"}, {"ISABEL", "IZZY"}, {"NATHAN", "NATE"},
	{"HARRIET", "HATTIE"}, {"TIMOTHY", "TIM"}, {"PHILIP", "PHIL"}, {"PHILLIP", "PHIL"},
};

static int name_eq(const char *a, size_t an, const char *s)
{
	return an && s[0] == a[0] && strlen(s) == an && memcmp(a, s, an) == 0;
}

int yoc_nickname_pair(const char *a, size_t an, const char *b, size_t bn)
{
	for (size_t i = 0; i < sizeof nicknames / sizeof *nicknames; i++) {
		const char *f = nicknames[i][0], *s = nicknames[i][1];
		if ((name_eq(a, an, f) && name_eq(b, bn, s)) || (name_eq(a, an, s) && name_eq(b, bn, f)))
			return 1;
	}
	return 0;
}

int yoc_link_cmp_name(const char *a, size_t an, const char *pa, const char *b, size_t bn,
		      const char *pb, int given)
{
	if (an == 0 || bn == 0)
		return YOC_LV_MISSING;
	if (an == bn && memcmp(a, b, an) == 0)
		return 3;
	double jw = yoc_jaro_winkler(a, an, b, bn);
	if (jw >= 0.92 || (given && yoc_nickname_pair(a, an, b, bn)))
		return 2;
	if (jw >= 0.80 || (pa && pb && pa[0] && strcmp(pa, pb) == 0))
		return 1;
	return 0;
}

int yoc_link_cmp_dob(const struct yoc_link_rec *a, const struct yoc_link_rec *b)
{
	if (a->dob == YOC_LINK_NODATE || b->dob == YOC_LINK_NODATE)
		return YOC_LV_MISSING;
	if (a->dob == b->dob)
		return 3;
	if (a->y == b->y && a->m == b->d && a->d == b->m)
		return 2;
	return (a->y == b->y) + (a->m == b->m) + (a->d == b->d) >= 2 ? 1 : 0;
}

int yoc_link_cmp_date(int32_t a, int32_t b)
{
	if (a == YOC_LINK_NODATE || b == YOC_LINK_NODATE)
		return YOC_LV_MISSING;
	if (a == b)
		return 3;
	int ya, ma, da, yb, mb, db;
	yoc_date_to_ymd(a, &ya, &ma, &da);
	yoc_date_to_ymd(b, &yb, &mb, &db);
	if (ya == yb && ma == db && da == mb)
		return 2;
	if ((ya == yb) + (ma == mb) + (da == db) >= 2)
		return 1;
	return 0;
}

/* Length of the outward code of a normalised postcode (all but the last 3). */
static size_t outward(size_t n)
{
	return n > 3 ? n - 3 : 0;
}

int yoc_link_cmp_postcode(const char *a, size_t an, const char *b, size_t bn)
{
	if (an < 5 || bn < 5)
		return YOC_LV_MISSING;
	if (an == bn && memcmp(a, b, an) == 0)
		return 3;
	size_t oa = outward(an), ob = outward(bn);
	if (oa != ob || memcmp(a, b, oa) != 0)
		return 0;
	return a[oa] == b[ob] ? 2 : 1;
}

int yoc_link_cmp_sex(int a, int b)
{
	if ((a != 1 && a != 2) || (b != 1 && b != 2))
		return YOC_LV_MISSING;
	return a == b;
}

void yoc_link_rec_make(struct yoc_link_rec *r, const char *given, size_t gn,
		       const char *family, size_t fn, int32_t dob, int sex,
		       const char *postcode, size_t pn)
{
	memset(r, 0, sizeof *r);
	r->lgiven = (uint8_t)yoc_link_norm(given, gn, r->given, sizeof r->given, 0);
	r->lfamily = (uint8_t)yoc_link_norm(family, fn, r->family, sizeof r->family, 0);
	r->lpostcode = (uint8_t)yoc_link_norm(postcode, pn, r->postcode, sizeof r->postcode, 1);
	yoc_phonetic(r->given, r->lgiven, r->pgiven);
	yoc_phonetic(r->family, r->lfamily, r->pfamily);
	r->dob = dob;
	if (dob != YOC_LINK_NODATE) {
		int y, m, d;
		yoc_date_to_ymd(dob, &y, &m, &d);
		r->y = (uint16_t)(y < 0 ? 0 : y > 65535 ? 65535 : y);
		r->m = (uint8_t)m;
		r->d = (uint8_t)d;
	}
	r->sex = (uint8_t)(sex == 1 || sex == 2 ? sex : 0);
}

void yoc_link_compare(const struct yoc_link_rec *a, const struct yoc_link_rec *b,
		      uint8_t lv[YOC_LF_COUNT])
{
	lv[YOC_LF_GIVEN] = (uint8_t)yoc_link_cmp_name(a->given, a->lgiven, a->pgiven, b->given,
						      b->lgiven, b->pgiven, 1);
	lv[YOC_LF_FAMILY] = (uint8_t)yoc_link_cmp_name(a->family, a->lfamily, a->pfamily,
						       b->family, b->lfamily, b->pfamily, 0);
	lv[YOC_LF_DOB] = (uint8_t)yoc_link_cmp_dob(a, b);
	lv[YOC_LF_SEX] = (uint8_t)yoc_link_cmp_sex(a->sex, b->sex);
	lv[YOC_LF_POSTCODE] =
		(uint8_t)yoc_link_cmp_postcode(a->postcode, a->lpostcode, b->postcode, b->lpostcode);
}

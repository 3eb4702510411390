/*
** The capitated budget of a year and its monthly payment schedule, from
** the cohort register's spans: a person's days are the union of their
** spans (a day is paid once however many register rows cover it), paid at
** exactly tariff x days / days-in-year, rounded once per person half away
** from zero; months and lines are shares of that total by largest
** remainder, so they add up to the budget to the penny (docs/budget.md).
*/
#include <stdlib.h>
#include <string.h>

#include "budget/budget.h"
#include "yoc/date.h"

int64_t yoc_budget_prorate(int64_t tariff, int64_t days, int year_days)
{
	return yoc_budget_div_round((__int128)tariff * days, year_days);
}

struct rem {
	__int128 r;
	size_t i;
};

static int cmp_rem(const void *x, const void *y)
{
	const struct rem *a = x, *b = y;
	if (a->r != b->r)
		return a->r > b->r ? -1 : 1;
	return (a->i > b->i) - (a->i < b->i);
}

/* Largest remainder over exact integer weights; ties to the earlier part. */
static int split128(int64_t total, const __int128 *w, size_t k, int64_t *out)
{
	__int128 sum = 0;
	for (size_t i = 0; i < k; i++)
		sum += w[i];
	memset(out, 0, k * sizeof *out);
	if (k == 0)
		return 0;
	if (sum <= 0) {
		out[0] = total;
		return 0;
	}
	struct rem *r = yoc_malloc(k * sizeof *r);
	if (!r)
		return YOC_ENOMEM;
	int neg = total < 0;
	__int128 t = neg ? -(__int128)total : total;
	int64_t given = 0;
	for (size_t i = 0; i < k; i++) {
		__int128 num = t * w[i];
		out[i] = (int64_t)(num / sum);
		r[i].r = num % sum;
		r[i].i = i;
		given += out[i];
	}
	qsort(r, k, sizeof *r, cmp_rem);
	for (size_t j = 0; given < (int64_t)t; j++, given++)
		out[r[j % k].i]++;
	if (neg)
		for (size_t i = 0; i < k; i++)
			out[i] = -out[i];
	yoc_free(r);
	return 0;
}

int yoc_budget_split(int64_t total, const double *w, size_t k, int64_t *out)
{
	__int128 *iw = yoc_malloc((k ? k : 1) * sizeof *iw);
	if (!iw)
		return YOC_ENOMEM;
	for (size_t i = 0; i < k; i++)
		iw[i] = w[i] > 0 ? (__int128)(w[i] * 1e9 + 0.5) : 0;
	int rc = split128(total, iw, k, out);
	yoc_free(iw);
	return rc;
}

void yoc_budget_plan_free(struct yoc_budget_plan *p)
{
	if (!p)
		return;
	yoc_free(p->lines);
	memset(p, 0, sizeof *p);
}

static int cmp_span(const void *x, const void *y)
{
	const struct yoc_member_span *a = x, *b = y;
	int c = strcmp(a->pseudo, b->pseudo);
	if (c)
		return c;
	return (a->join > b->join) - (a->join < b->join);
}

int yoc_budget_plan_make(int fyear, const struct yoc_member_span *m, size_t n,
			 const int64_t *tariff, size_t ncats, const double *w,
			 struct yoc_budget_plan *p, struct yoc_error *e)
{
	memset(p, 0, sizeof *p);
	p->fyear = fyear;
	int32_t y0 = yoc_fyear_start(fyear), y1 = yoc_fyear_end(fyear);
	int yd = (int)(y1 - y0 + 1);
	int32_t ms[13];
	for (int k = 0; k < 12; k++) {
		int y = fyear + (k >= 9), mo = (k + 3) % 12 + 1;
		ms[k] = yoc_date_from_ymd(y, mo, 1);
	}
	ms[12] = y1 + 1;
	struct yoc_member_span *s = NULL;
	__int128 *num = NULL, mnum[12] = {0};
	int64_t *mdays = NULL, *mmembers = NULL;
	int64_t *last_m = NULL;
	int rc = 0;
	s = yoc_malloc((n ? n : 1) * sizeof *s);
	num = yoc_calloc(12 * ncats + 1, sizeof *num);
	mdays = yoc_calloc(12 * ncats + 1, sizeof *mdays);
	mmembers = yoc_calloc(12 * ncats + 1, sizeof *mmembers);
	last_m = yoc_malloc((12 * ncats + 1) * sizeof *last_m);
	if (!s || !num || !mdays || !mmembers || !last_m) {
		rc = yoc_error_set(e, YOC_ENOMEM, "budget", 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < 12 * ncats; i++)
		last_m[i] = -1;
	if (n)
		memcpy(s, m, n * sizeof *s);
	qsort(s, n, sizeof *s, cmp_span);
	int64_t person = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && strcmp(s[j].pseudo, s[i].pseudo) == 0)
			j++;
		/* spans sorted by join: days before `covered` are already paid */
		int32_t covered = y0;
		__int128 pnum = 0;
		int64_t pdays = 0;
		for (size_t k = i; k < j; k++) {
			if (s[k].cat < 0 || (size_t)s[k].cat >= ncats) {
				rc = yoc_error_set(e, YOC_EINVAL, "budget", 0, 0,
						   "member %.16s... has no tariff category", s[k].pseudo);
				goto cleanup;
			}
			int32_t a = s[k].join < y0 ? y0 : s[k].join;
			int32_t b = s[k].leave > y1 ? y1 : s[k].leave;
			if (b < a)
				continue;
			int32_t a2 = a < covered ? covered : a;
			if (a2 > a)
				p->overlap_days += (a2 - 1 < b ? a2 - 1 : b) - a + 1;
			if (b < a2)
				continue;
			covered = b + 1;
			int64_t t = tariff[s[k].cat];
			for (int mo = 0; mo < 12; mo++) {
				int32_t lo = a2 > ms[mo] ? a2 : ms[mo];
				int32_t hi = b < ms[mo + 1] - 1 ? b : ms[mo + 1] - 1;
				if (hi < lo)
					continue;
				int64_t d = hi - lo + 1;
				size_t cell = (size_t)mo * ncats + (size_t)s[k].cat;
				num[cell] += (__int128)t * d;
				mdays[cell] += d;
				if (last_m[cell] != person) {
					last_m[cell] = person;
					mmembers[cell]++;
				}
				p->month_days[mo] += d;
				pnum += (__int128)t * d;
				pdays += d;
			}
		}
		if (pdays) {
			p->budget += yoc_budget_div_round(pnum, yd);
			p->members++;
			p->member_days += pdays;
		}
		person++;
		i = j;
	}
	for (int mo = 0; mo < 12; mo++) {
		for (size_t c = 0; c < ncats; c++)
			mnum[mo] += num[(size_t)mo * ncats + c];
		if (w)
			mnum[mo] = mnum[mo] * (__int128)(w[mo] * 1e6 + 0.5);
	}
	if ((rc = split128(p->budget, mnum, 12, p->month))) {
		yoc_error_set(e, rc, "budget", 0, 0, "out of memory");
		goto cleanup;
	}
	size_t nl = 0;
	for (size_t i = 0; i < 12 * ncats; i++)
		nl += mdays[i] > 0;
	p->lines = yoc_calloc(nl + 1, sizeof *p->lines);
	if (!p->lines) {
		rc = yoc_error_set(e, YOC_ENOMEM, "budget", 0, 0, "out of memory");
		goto cleanup;
	}
	int64_t part[256];
	for (int mo = 0; mo < 12; mo++) {
		size_t done = 0;
		while (done < ncats) {
			size_t k = ncats - done < 256 ? ncats - done : 256;
			/* categories are few (a category file of 256+ lines is split in
			 * blocks, each block's share first) */
			if (k == ncats) {
				if ((rc = split128(p->month[mo], num + (size_t)mo * ncats, ncats, part))) {
					yoc_error_set(e, rc, "budget", 0, 0, "out of memory");
					goto cleanup;
				}
			} else {
				rc = yoc_error_set(e, YOC_ETOOBIG, "budget", 0, 0,
						   "more than 256 tariff categories");
				goto cleanup;
			}
			for (size_t c = 0; c < k; c++) {
				size_t cell = (size_t)mo * ncats + c;
				if (!mdays[cell])
					continue;
				struct yoc_pay_line *L = &p->lines[p->nlines++];
				L->month = mo;
				L->cat = (int)c;
				L->members = mmembers[cell];
				L->days = mdays[cell];
				L->amount = part[c];
			}
			done += k;
		}
	}
cleanup:
	if (rc)
		yoc_budget_plan_free(p);
	yoc_free(s);
	yoc_free(num);
	yoc_free(mdays);
	yoc_free(mmembers);
	yoc_free(last_m);
	return rc;
}

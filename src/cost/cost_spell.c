/*
** Hospital spells: grouping admitted patient care episodes into spells and
** pricing each spell as commissioners pay for it (NHS Payment Scheme shape:
** one price for the spell's HRG, taken from its dominant episode, plus a
** long-stay payment for every bed day beyond the HRG's trim point). The
** per-episode NCC prices (yoc_price_apc) are summed alongside as the "cost
** to provider". docs/costing.md is the prose form; yoc synth (the truth),
** the analysis and yoc quality all price spells here. The pricing is a pure
** function of the episodes and the read-only tariff; the grouper owns its
** memory and never prints.
*/
#include <stdlib.h>
#include <string.h>

#include "cost/cost.h"

static void trim(const char **p, size_t *n)
{
	while (*n && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

static const char *const type_names[YOC_SPELL_TYPES] = {
	"elective", "daycase", "emergency", "other_nonelective"
};

const char *yoc_spell_type_name(int type)
{
	return type >= 0 && type < YOC_SPELL_TYPES ? type_names[type] : "";
}

int yoc_spell_type(struct yoc_cell classpat, struct yoc_cell admimeth)
{
	if (yoc_admimeth_emergency(admimeth.p, admimeth.n))
		return YOC_SPELL_EMERGENCY;
	trim(&classpat.p, &classpat.n);
	if (classpat.n == 1 && classpat.p[0] == '2')
		return YOC_SPELL_DAYCASE;
	if (yoc_admimeth_elective(admimeth.p, admimeth.n))
		return YOC_SPELL_ELECTIVE;
	return YOC_SPELL_OTHER_NE;
}

static int known(int32_t d)
{
	return d > YOC_SPELL_NODATE;
}

int32_t yoc_nights_between(int32_t from, int32_t to, int32_t lo, int32_t hi)
{
	if (!known(from) || !known(to))
		return 0;
	int32_t a = from > lo ? from : lo, b = to < hi ? to : hi;
	return b > a ? b - a : 0;
}

int yoc_price_spell(const yoc_tariff *t, const struct yoc_apc_epi *e, size_t n,
		    struct yoc_spell_price *out)
{
	memset(out, 0, sizeof *out);
	out->dominant = 0;
	out->trim = -1;
	out->how = YOC_UNPRICED;
	if (n == 0)
		return out->how;
	const struct yoc_apc_epi *first = &e[0], *last = &e[n - 1];
	out->type = yoc_spell_type(first->classpat, first->admimeth);
	out->admission = first->epiorder == 1;

	/* admitted: ADMIDATE, else the first episode's start; discharged:
	 * DISDATE of the last episode; an open spell counts to the last date known */
	out->admitted = known(first->admidate) ? first->admidate : first->epistart;
	out->discharged = known(last->disdate) ? last->disdate : YOC_SPELL_NODATE;
	int32_t end = out->discharged;
	if (!known(end)) {
		end = out->admitted;
		for (size_t i = 0; i < n; i++) {
			if (known(e[i].epistart) && e[i].epistart > end)
				end = e[i].epistart;
			if (known(e[i].epiend) && e[i].epiend > end)
				end = e[i].epiend;
		}
	}
	int64_t los = known(out->admitted) && known(end) ? (int64_t)end - out->admitted : 0;
	out->los = los < 0 ? 0 : los > 1000000 ? 1000000 : (int32_t)los;

	/* the POD of the spell: its kind and, non-elective, its length */
	switch (out->type) {
	case YOC_SPELL_DAYCASE: out->pod = YOC_POD_DAYCASE; break;
	case YOC_SPELL_ELECTIVE: out->pod = YOC_POD_ELECTIVE; break;
	default: out->pod = out->los <= 1 ? YOC_POD_NEL_SHORT : YOC_POD_NEL_LONG; break;
	}

	/* the dominant episode: the HRG with the highest price under the spell's
	 * POD (the costliest care the spell needed); ties and unpriced HRGs: the
	 * earlier episode. Its HRG prices the spell. */
	int64_t best = -1;
	for (size_t i = 0; i < n; i++) {
		int64_t p;
		if (yoc_tariff_price(t, out->pod, e[i].sushrg.p, e[i].sushrg.n, &p) == 0 && p > best) {
			best = p;
			out->dominant = (int)i;
		}
	}
	if (best >= 0) {
		out->base = best;
		out->how = YOC_PRICED;
	} else if (yoc_tariff_average(t, out->pod, &out->base) == 0) {
		out->how = YOC_PRICED_AVERAGE;
	} else {
		out->base = 0;
		out->how = YOC_UNPRICED;
	}

	/* long-stay payment: each day beyond the trim point of the spell's HRG */
	if (out->how != YOC_UNPRICED && out->type != YOC_SPELL_DAYCASE) {
		const struct yoc_cell h = e[out->dominant].sushrg;
		int32_t days;
		int64_t per_day;
		if (yoc_tariff_trim(t, out->type != YOC_SPELL_ELECTIVE, h.p, h.n, &days, &per_day) == 0) {
			out->trim = days;
			out->excess_days = out->los > days ? out->los - days : 0;
			out->excess = (int64_t)out->excess_days * per_day;
		}
	}
	out->pence = out->base + out->excess;

	/* cost to provider: every episode at its own NCC price */
	for (size_t i = 0; i < n; i++) {
		int64_t p = 0;
		int32_t s = e[i].epistart, f = known(e[i].epiend) ? e[i].epiend : s;
		yoc_price_apc(t, e[i].classpat, e[i].admimeth, s, f, e[i].sushrg, &p, NULL);
		out->provider += p;
	}
	return out->how;
}

/* ---- grouping ------------------------------------------------------------------ */

/* One episode; its text (spell key, CLASSPAT, ADMIMETH, SUSHRG) in the arena. */
struct rec {
	uint64_t owner;
	uint64_t khash;
	uint64_t text;       /* offset of the spell key; the codes follow it */
	uint16_t klen;
	uint8_t ncp, nam, nhrg;
	uint32_t tag;
	int32_t admidate, disdate, epistart, epiend, epiorder;
	int64_t feed_cost;
};

struct yoc_spells {
	struct rec *r;
	size_t n, cap;
	struct yoc_buf text;
	uint64_t solo;        /* numbers episodes that are spells of their own */
	size_t pos;           /* next spell after sorting */
	int sorted;
	struct yoc_apc_epi *view;
	uint32_t *tags;
	size_t vcap;
};

#define TEXT_MAX ((size_t)1 << 32)

yoc_spells *yoc_spells_create(void)
{
	yoc_spells *s = yoc_calloc(1, sizeof *s);
	if (s)
		yoc_buf_init(&s->text, TEXT_MAX);
	return s;
}

void yoc_spells_free(yoc_spells *s)
{
	if (!s)
		return;
	yoc_free(s->r);
	yoc_buf_free(&s->text);
	yoc_free(s->view);
	yoc_free(s->tags);
	yoc_free(s);
}

size_t yoc_spells_count(const yoc_spells *s)
{
	return s->n;
}

static int grow(yoc_spells *s, size_t more)
{
	if (s->n + more <= s->cap)
		return YOC_OK;
	size_t nc = s->cap ? s->cap * 2 : 1024;
	while (nc < s->n + more)
		nc *= 2;
	struct rec *nr = yoc_realloc(s->r, nc * sizeof *nr);
	if (!nr)
		return YOC_ENOMEM;
	s->r = nr;
	s->cap = nc;
	return YOC_OK;
}

static size_t clip(size_t n, size_t max)
{
	return n < max ? n : max;
}

int yoc_spells_add(yoc_spells *s, uint64_t owner, uint32_t tag, struct yoc_cell susspellid,
		   struct yoc_cell provider, const struct yoc_apc_epi *e)
{
	if (s->sorted)
		return YOC_EINVAL;
	int rc = grow(s, 1);
	if (rc)
		return rc;
	struct rec *r = &s->r[s->n];
	memset(r, 0, sizeof *r);
	r->owner = owner;
	r->tag = tag;
	r->admidate = e->admidate;
	r->disdate = e->disdate;
	r->epistart = e->epistart;
	r->epiend = e->epiend;
	r->epiorder = e->epiorder;
	r->feed_cost = e->feed_cost;
	r->text = s->text.len;
	/* the spell key: "S" SUSSPELLID; else "A" provider, ADMIDATE; else "E" a number */
	char key[600];
	size_t kn = 0;
	trim(&susspellid.p, &susspellid.n);
	trim(&provider.p, &provider.n);
	if (susspellid.n) {
		key[kn++] = 'S';
		memcpy(key + kn, susspellid.p, clip(susspellid.n, 512));
		kn += clip(susspellid.n, 512);
	} else if (known(e->admidate)) {
		key[kn++] = 'A';
		memcpy(key + kn, provider.p, clip(provider.n, 64));
		kn += clip(provider.n, 64);
		key[kn++] = '\x1f';
		memcpy(key + kn, &e->admidate, sizeof e->admidate);
		kn += sizeof e->admidate;
	} else {
		key[kn++] = 'E';
		memcpy(key + kn, &s->solo, sizeof s->solo);
		kn += sizeof s->solo;
		s->solo++;
	}
	r->klen = (uint16_t)kn;
	r->khash = yoc_hash64(key, kn, owner);
	struct yoc_cell cp = e->classpat, am = e->admimeth, hr = e->sushrg;
	trim(&cp.p, &cp.n);
	trim(&am.p, &am.n);
	trim(&hr.p, &hr.n);
	r->ncp = (uint8_t)clip(cp.n, 255);
	r->nam = (uint8_t)clip(am.n, 255);
	r->nhrg = (uint8_t)clip(hr.n, 255);
	if ((rc = yoc_buf_append(&s->text, key, kn)) ||
	    (rc = yoc_buf_append(&s->text, cp.p, r->ncp)) ||
	    (rc = yoc_buf_append(&s->text, am.p, r->nam)) ||
	    (rc = yoc_buf_append(&s->text, hr.p, r->nhrg))) {
		s->text.len = (size_t)r->text;
		return rc;
	}
	s->n++;
	return YOC_OK;
}

int yoc_spells_merge(yoc_spells *dst, yoc_spells *src)
{
	if (dst->sorted || src->sorted)
		return YOC_EINVAL;
	int rc = grow(dst, src->n);
	if (rc)
		return rc;
	size_t base = dst->text.len;
	if (src->text.len && (rc = yoc_buf_append(&dst->text, src->text.data, src->text.len)))
		return rc;
	/* solo keys stay distinct: they carry the numbering of their own set */
	for (size_t i = 0; i < src->n; i++) {
		struct rec *r = &dst->r[dst->n++];
		*r = src->r[i];
		r->text += base;
		if (dst->text.data[r->text] == 'E') {
			uint64_t k;
			memcpy(&k, dst->text.data + r->text + 1, sizeof k);
			k += dst->solo;
			memcpy(dst->text.data + r->text + 1, &k, sizeof k);
			r->khash = yoc_hash64(dst->text.data + r->text, r->klen, r->owner);
		}
	}
	dst->solo += src->solo;
	src->n = 0;
	src->solo = 0;
	yoc_buf_reset(&src->text);
	return YOC_OK;
}

/* qsort has no context argument: the text base for the comparison. */
static _Thread_local const char *cmp_text;

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	return c ? c : an < bn ? -1 : an > bn;
}

#define CMP(x, y) do { if ((x) != (y)) return (x) < (y) ? -1 : 1; } while (0)

static int cmp_rec(const void *x, const void *y)
{
	const struct rec *a = x, *b = y;
	const char *ta = cmp_text + a->text, *tb = cmp_text + b->text;
	CMP(a->owner, b->owner);
	CMP(a->khash, b->khash);
	int c = cmp_bytes(ta, a->klen, tb, b->klen);
	if (c)
		return c;
	/* spell order: EPIORDER (unknown last), EPISTART; then content, so the
	 * order never depends on the order episodes were added in */
	uint32_t oa = a->epiorder > 0 ? (uint32_t)a->epiorder : UINT32_MAX;
	uint32_t ob = b->epiorder > 0 ? (uint32_t)b->epiorder : UINT32_MAX;
	CMP(oa, ob);
	CMP(a->epistart, b->epistart);
	CMP(a->epiend, b->epiend);
	CMP(a->admidate, b->admidate);
	CMP(a->disdate, b->disdate);
	CMP(a->feed_cost, b->feed_cost);
	CMP(a->tag, b->tag);
	size_t la = (size_t)a->ncp + a->nam + a->nhrg, lb = (size_t)b->ncp + b->nam + b->nhrg;
	CMP(a->ncp, b->ncp);
	CMP(a->nam, b->nam);
	return cmp_bytes(ta + a->klen, la, tb + b->klen, lb);
}

int yoc_spells_sort(yoc_spells *s)
{
	cmp_text = s->text.data;
	if (s->n > 1)
		qsort(s->r, s->n, sizeof *s->r, cmp_rec);
	cmp_text = NULL;
	s->sorted = 1;
	s->pos = 0;
	return YOC_OK;
}

static int same_spell(const yoc_spells *s, const struct rec *a, const struct rec *b)
{
	return a->owner == b->owner && a->khash == b->khash && a->klen == b->klen &&
	       memcmp(s->text.data + a->text, s->text.data + b->text, a->klen) == 0;
}

int yoc_spells_next(yoc_spells *s, struct yoc_spell_view *v)
{
	if (!s->sorted || s->pos >= s->n)
		return 0;
	size_t i = s->pos, j = i + 1;
	while (j < s->n && same_spell(s, &s->r[i], &s->r[j]))
		j++;
	size_t n = j - i;
	if (n > s->vcap) {
		struct yoc_apc_epi *nv = yoc_realloc(s->view, n * sizeof *nv);
		if (!nv)
			return YOC_ENOMEM;
		s->view = nv;
		uint32_t *nt = yoc_realloc(s->tags, n * sizeof *nt);
		if (!nt)
			return YOC_ENOMEM;
		s->tags = nt;
		s->vcap = n;
	}
	for (size_t k = 0; k < n; k++) {
		const struct rec *r = &s->r[i + k];
		const char *p = s->text.data + r->text + r->klen;
		struct yoc_apc_epi *e = &s->view[k];
		e->classpat.p = p;
		e->classpat.n = r->ncp;
		e->admimeth.p = p + r->ncp;
		e->admimeth.n = r->nam;
		e->sushrg.p = p + r->ncp + r->nam;
		e->sushrg.n = r->nhrg;
		e->admidate = r->admidate;
		e->disdate = r->disdate;
		e->epistart = r->epistart;
		e->epiend = r->epiend;
		e->epiorder = r->epiorder;
		e->feed_cost = r->feed_cost;
		s->tags[k] = r->tag;
	}
	v->owner = s->r[i].owner;
	v->n = n;
	v->epi = s->view;
	v->tag = s->tags;
	s->pos = j;
	return 1;
}

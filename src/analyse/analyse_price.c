/*
** Costing one activity row for the analysis: which setting of care it
** belongs to and what it costs, by the shared rules of src/cost (the same
** calls yoc synth makes for its ground truth); an APC row's episode as the
** spell rules read it (spells are priced in analyse.c); and which long-term
** conditions an APC row's diagnoses name (src/ltc). The rules are pure
** functions of a row's fields, so their results are memoised per thread by
** the text of the fields they read; this file adds no pricing rule of its
** own except the feed-cost and social-care fallbacks stated in
** docs/costing.md and docs/analysis.md.
*/
#include <string.h>

#include "analyse/analyse_int.h"

const char *const an_setting_names[NSET] = {
	"elective", "nonelective", "daycase", "outpatient", "ae", "community", "mh", "gp",
	"social_care", "ambulance"
};
const char *const an_how_names[NHOW] = {
	"priced", "priced_at_average", "not_chargeable", "unpriced", "feed_cost"
};
const char *const an_why_names[NWHY] = {
	"no_price", "no_pseudonym", "not_registered", "outside_registration"
};

/* ---- memo ------------------------------------------------------------------ */

enum { FN_OP = 1, FN_AE, FN_COMM, FN_MH, FN_MH_BED, FN_AMB, FN_GP, FN_UNIT, FN_DIAG };

#define CACHE_SIZE 4096

struct slot {
	uint64_t a, b;
	uint32_t tag;      /* 0: empty */
	int32_t how;
	int64_t v;         /* pence, or a code-list mask */
};

struct an_cache {
	struct slot s[CACHE_SIZE];
};

struct an_cache *an_cache_create(void)
{
	return yoc_calloc(1, sizeof(struct an_cache));
}

void an_cache_free(struct an_cache *c)
{
	yoc_free(c);
}

/* Packs a cell of at most 8 bytes; 0 if longer (not memoised). */
static int pack(struct yoc_cell c, uint64_t *out)
{
	if (c.n > 8)
		return 0;
	uint64_t v = 0;
	memcpy(&v, c.p, c.n);
	*out = v;
	return 1;
}

static struct slot *memo(struct an_cache *pc, int fn, struct yoc_cell x, struct yoc_cell y,
			 int *hit)
{
	uint64_t a, b;
	*hit = 0;
	if (!pack(x, &a) || !pack(y, &b))
		return NULL;
	uint32_t tag = (uint32_t)fn << 16 | (uint32_t)x.n << 8 | (uint32_t)y.n;
	uint64_t h = (a * 0x9e3779b97f4a7c15ULL) ^ (b * 0xc2b2ae3d27d4eb4fULL) ^ tag;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	struct slot *s = &pc->s[h & (CACHE_SIZE - 1)];
	if (s->tag == tag && s->a == a && s->b == b) {
		*hit = 1;
		return s;
	}
	s->tag = tag;
	s->a = a;
	s->b = b;
	return s;
}

static const struct yoc_cell none = {"", 0};

/* ---- columns ---------------------------------------------------------------- */

void an_cols_resolve(const yoc_seg *g, struct an_cols *c)
{
	memset(c, 0, sizeof *c);
	c->kind = yoc_seg_kind(g);
	c->cost = c->provider = -1;
	const struct yoc_kind_spec *ks = yoc_spec_kind(c->kind);
	for (size_t i = 0; i < yoc_seg_ncols(g); i++) {
		const char *name = yoc_seg_col_name(g, (int)i);
		const struct yoc_field *f = ks ? yoc_spec_field(ks, name, strlen(name)) : NULL;
		if (f && f->role == YOC_ROLE_COST && c->cost < 0 &&
		    yoc_seg_col_type(g, (int)i) == YOC_COL_MONEY)
			c->cost = (int)i;
		if (f && f->role == YOC_ROLE_PROVIDER && c->provider < 0 &&
		    yoc_seg_col_type(g, (int)i) == YOC_COL_TEXT)
			c->provider = (int)i;
		if (strncmp(name, "DIAG", 4) == 0 && c->ndiag < 64 &&
		    yoc_seg_col_type(g, (int)i) == YOC_COL_TEXT)
			c->diag[c->ndiag++] = (int)i;
	}
	c->classpat = yoc_seg_col(g, "CLASSPAT");
	c->admimeth = yoc_seg_col(g, "ADMIMETH");
	c->epiend = yoc_seg_col(g, "EPIEND");
	c->admidate = yoc_seg_col(g, "ADMIDATE");
	c->disdate = yoc_seg_col(g, "DISDATE");
	c->epiorder = yoc_seg_col(g, "EPIORDER");
	c->susspellid = yoc_seg_col(g, "SUSSPELLID");
	/* HRG for hospital feeds, currency code for the others; either name may
	 * carry the code the rules read */
	c->sushrg = yoc_seg_col(g, "SUSHRG");
	c->currency = yoc_seg_col(g, "CURRENCY_CODE");
	if (c->sushrg < 0)
		c->sushrg = c->currency;
	if (c->currency < 0)
		c->currency = c->sushrg;
	c->attended = yoc_seg_col(g, "ATTENDED");
	c->bed_days = yoc_seg_col(g, "BED_DAYS");
	c->hcp = yoc_seg_col(g, "HCP_TYPE");
	c->status = yoc_seg_col(g, "APPT_STATUS");
	c->duration = yoc_seg_col(g, "DURATION_MIN");
	c->units = yoc_seg_col(g, "UNITS");
	c->unit_type = yoc_seg_col(g, "UNIT_TYPE");
	c->service_type = yoc_seg_col(g, "SERVICE_TYPE");
	c->link_status = yoc_seg_col(g, "LINK_STATUS");
}

const char *const an_link_names[NLK] = {"linked", "clerical"};

int an_link_of(const yoc_seg *g, const struct an_cols *c, size_t r)
{
	if (c->link_status < 0)
		return -1;
	struct yoc_cell v = yoc_seg_text(g, c->link_status, r);
	for (int k = 0; k < NLK; k++)
		if (v.n == strlen(an_link_names[k]) && memcmp(v.p, an_link_names[k], v.n) == 0)
			return k;
	return -1;
}

int64_t an_int(const yoc_seg *g, int col, size_t r)
{
	if (col < 0)
		return YOC_INT_NONE;
	int t = yoc_seg_col_type(g, col);
	if (t == YOC_COL_INT || t == YOC_COL_MONEY)
		return yoc_seg_int(g, col, r);
	if (t != YOC_COL_TEXT)
		return YOC_INT_NONE;
	struct yoc_cell c = yoc_seg_text(g, col, r);
	while (c.n && c.p[0] == ' ') {
		c.p++;
		c.n--;
	}
	while (c.n && c.p[c.n - 1] == ' ')
		c.n--;
	if (c.n == 0 || c.n > 15)
		return YOC_INT_NONE;
	int64_t v = 0;
	int neg = c.p[0] == '-';
	for (size_t i = (size_t)neg; i < c.n; i++) {
		if (c.p[i] < '0' || c.p[i] > '9')
			return YOC_INT_NONE;
		v = v * 10 + (c.p[i] - '0');
	}
	if (neg && c.n == 1)
		return YOC_INT_NONE;
	return neg ? -v : v;
}

static int how_of(int price_how)
{
	switch (price_how) {
	case YOC_PRICED: return HOW_PRICED;
	case YOC_PRICED_AVERAGE: return HOW_AVERAGE;
	case YOC_PRICED_ZERO: return HOW_ZERO;
	}
	return HOW_UNPRICED;
}

int an_spell_setting(int type)
{
	return type == YOC_SPELL_DAYCASE ? SET_DAYCASE
	       : type == YOC_SPELL_ELECTIVE ? SET_ELECTIVE : SET_NONELECTIVE;
}

void an_apc_episode(const yoc_seg *g, const struct an_cols *c, size_t r, int32_t d,
		    struct yoc_apc_epi *ep)
{
	ep->classpat = yoc_seg_text(g, c->classpat, r);
	ep->admimeth = yoc_seg_text(g, c->admimeth, r);
	ep->sushrg = yoc_seg_text(g, c->sushrg, r);
	ep->admidate = yoc_seg_date(g, c->admidate, r);
	ep->disdate = yoc_seg_date(g, c->disdate, r);
	ep->epistart = d;
	ep->epiend = yoc_seg_date(g, c->epiend, r);
	int64_t order = an_int(g, c->epiorder, r);
	ep->epiorder = order > 0 && order < 100000 ? (int32_t)order : 0;
	ep->feed_cost = c->cost >= 0 ? yoc_seg_int(g, c->cost, r) : INT64_MIN;
	if (ep->feed_cost == YOC_INT_NONE)
		ep->feed_cost = INT64_MIN;
}

void an_cost_row(const struct an_run *R, struct an_cache *pc, const yoc_seg *g,
		 const struct an_cols *c, size_t r, int32_t d, struct an_cost *out)
{
	const yoc_tariff *t = R->tariff;
	int hit, how = YOC_UNPRICED;
	int64_t pence = 0;
	struct slot *s;
	out->setting = -1;
	switch (c->kind) {
	case YOC_KIND_OP: {
		struct yoc_cell at = yoc_seg_text(g, c->attended, r);
		struct yoc_cell hr = yoc_seg_text(g, c->sushrg, r);
		out->setting = SET_OUTPATIENT;
		s = memo(pc, FN_OP, at, hr, &hit);
		if (s && hit) {
			how = s->how;
			pence = s->v;
		} else {
			how = yoc_price_op(t, at, hr, &pence, NULL);
			if (s) {
				s->how = how;
				s->v = pence;
			}
		}
		break;
	}
	case YOC_KIND_AE: {
		struct yoc_cell hr = yoc_seg_text(g, c->sushrg, r);
		out->setting = SET_AE;
		s = memo(pc, FN_AE, hr, none, &hit);
		if (s && hit) {
			how = s->how;
			pence = s->v;
		} else {
			how = yoc_price_ae(t, hr, &pence);
			if (s) {
				s->how = how;
				s->v = pence;
			}
		}
		break;
	}
	case YOC_KIND_COMMUNITY: {
		struct yoc_cell at = yoc_seg_text(g, c->attended, r);
		struct yoc_cell cu = yoc_seg_text(g, c->currency, r);
		out->setting = SET_COMMUNITY;
		s = memo(pc, FN_COMM, at, cu, &hit);
		if (s && hit) {
			how = s->how;
			pence = s->v;
		} else {
			how = yoc_price_community(t, at, cu, &pence);
			if (s) {
				s->how = how;
				s->v = pence;
			}
		}
		break;
	}
	case YOC_KIND_MH: {
		struct yoc_cell cu = yoc_seg_text(g, c->currency, r);
		struct yoc_cell at = yoc_seg_text(g, c->attended, r);
		out->setting = SET_MH;
		if (yoc_pod_mh(cu.p, cu.n) == YOC_POD_MH_BEDDAY) {
			/* priced per bed day: the unit price is memoised, times the days */
			int64_t days = an_int(g, c->bed_days, r), unit = 0;
			s = memo(pc, FN_MH_BED, cu, none, &hit);
			if (s && hit) {
				how = s->how;
				unit = s->v;
			} else {
				how = yoc_price_mh(t, cu, none, 1, &unit, NULL);
				if (s) {
					s->how = how;
					s->v = unit;
				}
			}
			if (days == YOC_INT_NONE || days < 0)
				days = 0;
			pence = unit * days;
		} else {
			s = memo(pc, FN_MH, cu, at, &hit);
			if (s && hit) {
				how = s->how;
				pence = s->v;
			} else {
				how = yoc_price_mh(t, cu, at, 0, &pence, NULL);
				if (s) {
					s->how = how;
					s->v = pence;
				}
			}
		}
		break;
	}
	case YOC_KIND_GP_APPT: {
		struct yoc_cell hc = yoc_seg_text(g, c->hcp, r);
		struct yoc_cell stt = yoc_seg_text(g, c->status, r);
		int64_t dur = an_int(g, c->duration, r), per = 0;
		out->setting = SET_GP;
		if (dur == YOC_INT_NONE || dur < 0) {
			how = yoc_price_gp(t, hc, stt, dur == YOC_INT_NONE ? -1 : dur, &pence);
			break;
		}
		/* price of one minute, memoised, times the minutes */
		s = memo(pc, FN_GP, hc, stt, &hit);
		if (s && hit) {
			how = s->how;
			per = s->v;
		} else {
			how = yoc_price_gp(t, hc, stt, 1, &per);
			if (s) {
				s->how = how;
				s->v = per;
			}
		}
		pence = per * dur;
		break;
	}
	case YOC_KIND_AMBULANCE: {
		struct yoc_cell cu = yoc_seg_text(g, c->currency, r);
		out->setting = SET_AMBULANCE;
		s = memo(pc, FN_AMB, cu, none, &hit);
		if (s && hit) {
			how = s->how;
			pence = s->v;
		} else {
			how = yoc_price_ambulance(t, cu, &pence);
			if (s) {
				s->how = how;
				s->v = pence;
			}
		}
		break;
	}
	case YOC_KIND_SOCIAL_CARE:
		out->setting = SET_SOCIAL;
		how = yoc_price_social_units(R->tariff, yoc_seg_text(g, c->service_type, r),
				  yoc_seg_text(g, c->unit_type, r), an_int(g, c->units, r), &pence);
		break;
	default:
		break;
	}
	out->how = how_of(how);
	out->pence = pence;
	/* A cost carried by the feed is the price (docs/costing.md). */
	if (c->cost >= 0 && out->setting >= 0) {
		int64_t v = yoc_seg_int(g, c->cost, r);
		if (v != YOC_INT_NONE) {
			out->how = HOW_FEED;
			out->pence = v;
		}
	}
	if (out->how == HOW_UNPRICED)
		out->pence = 0;
}

uint64_t an_diag_mask(const struct an_run *R, struct an_cache *pc, const yoc_seg *g,
		      const struct an_cols *c, size_t r)
{
	uint64_t mask = 0;
	for (int i = 0; i < c->ndiag; i++) {
		struct yoc_cell dc = yoc_seg_text(g, c->diag[i], r);
		if (dc.n == 0 || (dc.n == 1 && dc.p[0] == '-'))
			continue;
		int hit;
		struct slot *s = memo(pc, FN_DIAG, dc, none, &hit);
		if (s && hit) {
			mask |= (uint64_t)s->v;
			continue;
		}
		uint64_t m = yoc_ltc_icd10(R->ltc, dc.p, dc.n);
		if (s)
			s->v = (int64_t)m;
		mask |= m;
	}
	return mask;
}

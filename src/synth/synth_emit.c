/*
** Turning events into feed rows: hand-written formatting into the file's
** buffer (no printf on this path), pricing every row with the shared cost
** rules (src/cost) and adding it to the person's truth and the provider's
** contract total. The truth is computed here from the clean row, before
** synth_defects.c may damage the text.
*/
#include <stdio.h>

#include "synth/synth_int.h"

/* ---- formatting ------------------------------------------------------------ */

void rb_uint(struct rowb *b, uint64_t v)
{
	char tmp[24];
	int k = 0;
	do {
		tmp[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (k)
		*b->p++ = tmp[--k];
}

static const char digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

void rb_uint_pad(struct rowb *b, uint64_t v, int width)
{
	int i = width - 1;
	for (; i >= 1; i -= 2) {
		const char *d = digit_pairs + 2 * (v % 100);
		b->p[i - 1] = d[0];
		b->p[i] = d[1];
		v /= 100;
	}
	if (i == 0)
		b->p[0] = (char)('0' + v % 10);
	b->p += width;
}

void rb_date(struct rowb *b, const struct world *w, int32_t d)
{
	uint32_t i = (uint32_t)(d - w->ds0);
	if (d >= w->ds0 && i < w->nds) {
		memcpy(b->p, w->ds[i], 10);
		b->p += 10;
		return;
	}
	char buf[11];
	yoc_date_format(d, buf);
	rb_str(b, buf);
}

void rb_pence(struct rowb *b, int64_t pence)
{
	b->p += yoc_pence_format(pence, b->p);
}

void rb_person(struct rowb *b, const struct world *w, const struct person *p)
{
	(void)w;
	memcpy(b->p, p->head, 23);
	b->p += 23;
}

static void rb_lsoa(struct rowb *b, uint32_t lsoa)
{
	rb_str(b, "E01");
	rb_uint_pad(b, 90001 + lsoa, 6);
}

static void rb_fyear_hes(struct rowb *b, int fyear)
{
	rb_uint_pad(b, (uint64_t)(fyear % 100), 2);
	rb_uint_pad(b, (uint64_t)((fyear + 1) % 100), 2);
}

static void rb_code(struct rowb *b, const char *s)
{
	if (s)
		rb_str(b, s);
}

/* A bijection on [0, 2^63): keys are unique by construction. */
uint64_t synth_key(const struct world *w, int kind, uint64_t person, uint32_t seq)
{
	const uint64_t mask = ((uint64_t)1 << 63) - 1;
	uint64_t x = ((person << 20) | (seq & 0xfffff)) & mask;
	x ^= synth_mix64(w->o->seed * 31 + (uint64_t)kind) & mask;
	x = (x * 0x9e3779b97f4a7c15ULL) & mask;
	x ^= x >> 29;
	x = (x * 0xbf58476d1ce4e5b9ULL) & mask;
	x ^= x >> 32;
	x = (x * 0x94d049bb133111ebULL) & mask;
	x ^= x >> 29;
	return x;
}

/* Rows the pilot adds take keys from the top half of the sequence space, so
 * every other row keeps the key it has without the pilot. */
static void rb_key(struct rowb *b, struct emit_ctx *c, int kind)
{
	uint32_t seq = c->copy ? 0x80000u + c->cseq[kind]++ : c->seq[kind]++;
	rb_uint_pad(b, synth_key(c->w, kind, c->p->idx, seq), 19);
}

static struct sfile *file_for(struct emit_ctx *c, int kind, uint32_t prov, int32_t day)
{
	struct world *w = c->w;
	int per = synth_kinds[kind].yearly ? world_fyear(w, day) : world_month(w, day);
	if (per < 0)
		per = 0;
	if ((uint32_t)per >= w->nper[kind])
		per = (int)w->nper[kind] - 1;
	return synth_file(w, kind, prov, (uint32_t)per);
}

static int gp_practice(struct emit_ctx *c, int32_t day)
{
	int pr = person_practice_on(c->p, day);
	return pr < 0 ? c->p->reg[0].prac : pr;
}

static void rb_gpprac(struct rowb *b, struct emit_ctx *c, int32_t day)
{
	rb_str(b, c->w->prac_code[gp_practice(c, day)]);
}

/* ---- prices and truth --------------------------------------------------------- */

/* Price of an attended/chargeable row through the cost rules, cached by code. */
static int64_t cprice(struct world *w, int pod, const char *code)
{
	uint64_t h = synth_mix64((uint64_t)(uintptr_t)code ^ ((uint64_t)pod << 56));
	size_t n = sizeof w->pcache / sizeof w->pcache[0];
	for (size_t i = h % n, k = 0; k < n; i = (i + 1) % n, k++) {
		struct pcache *s = &w->pcache[i];
		if (s->code == code && s->pod == pod)
			return s->pence;
		if (s->code)
			continue;
		struct yoc_cell cc = {code, strlen(code)}, five = {"5", 1}, none = {"", 0};
		int64_t pence = 0;
		switch (pod) {
		case YOC_POD_OP_CONSULTANT:
		case YOC_POD_OP_PROCEDURE:
			yoc_price_op(w->tariff, five, cc, &pence, NULL);
			break;
		case YOC_POD_EMERGENCY:
			yoc_price_ae(w->tariff, cc, &pence);
			break;
		case YOC_POD_COMMUNITY:
			yoc_price_community(w->tariff, five, cc, &pence);
			break;
		case YOC_POD_MH_CONTACT:
		case YOC_POD_TALKING:
			yoc_price_mh(w->tariff, cc, five, 0, &pence, NULL);
			break;
		case YOC_POD_MH_BEDDAY:
			yoc_price_mh(w->tariff, cc, none, 1, &pence, NULL);
			break;
		case YOC_POD_AMBULANCE:
			yoc_price_ambulance(w->tariff, cc, &pence);
			break;
		}
		s->code = code;
		s->pod = pod;
		s->pence = pence;
		return pence;
	}
	return 0;
}

void synth_priced(struct world *w, int kind, uint32_t prov, int32_t day, int64_t pence)
{
	if (w->cbase[kind] == UINT32_MAX)
		return;
	int y = world_fyear(w, day);
	if (y < 0 || y >= w->years)
		return;
	w->priced[(size_t)(w->cbase[kind] + prov) * w->years + y] += pence;
}

static void add_cost(struct emit_ctx *c, int setting, int32_t day, int64_t pence)
{
	int y = world_fyear(c->w, day);
	if (y >= 0 && y < c->w->years)
		T_ADD(c, cost[y][setting], pence);
}

/* ---- the feeds ----------------------------------------------------------------- */

static uint64_t code_mask(const struct world *w, const char *code)
{
	return yoc_ltc_icd10(w->ltc, code, strlen(code));
}

void emit_spell(struct emit_ctx *c, const struct ev_spell *s)
{
	struct world *w = c->w;
	struct person *p = c->p;
	struct rowb b;
	uint64_t spell_key = synth_key(w, KEY_SPELL, p->idx, c->seq[K_COUNT]++);
	struct sfile *f = file_for(c, K_APC, s->prov, s->adm);
	uint64_t mask1 = code_mask(w, s->diag1);
	/* A ready date after discharge is sent only on a spell whose rows carry
	 * no other defect, so that downstream finds each one. */
	int32_t ready = s->ready;
	if (s->ready_bad != NEVER && !c->drop && synth_defect_clean_ahead(w, f, p, s->nepi))
		ready = s->ready_bad;
	for (int i = 0; i < s->nepi; i++) {
		const struct ev_episode *e = &s->epi[i];
		int last = i == s->nepi - 1;
		row_begin(w, &b, c->drop ? NULL : f);
		rb_person(&b, w, p);
		rb_comma(&b);
		rb_str(&b, w->prov_code[K_APC][s->prov]);
		rb_comma(&b);
		rb_key(&b, c, K_APC);
		rb_comma(&b);
		rb_uint_pad(&b, spell_key, 19);
		rb_comma(&b);
		rb_fyear_hes(&b, w->first_year + world_fyear(w, e->end));
		rb_comma(&b);
		rb_date(&b, w, s->adm);
		rb_comma(&b);
		rb_date(&b, w, s->dis);
		rb_comma(&b);
		rb_date(&b, w, e->start);
		rb_comma(&b);
		rb_date(&b, w, e->end);
		rb_comma(&b);
		rb_uint_pad(&b, (uint64_t)i + 1, 2);
		rb_comma(&b);
		rb_str(&b, s->admimeth);
		rb_comma(&b);
		rb_str(&b, s->admisorc);
		rb_comma(&b);
		rb_str(&b, last ? s->disdest : "98");
		rb_comma(&b);
		rb_str(&b, last ? s->dismeth : "8");
		rb_comma(&b);
		rb_str(&b, s->classpat);
		rb_comma(&b);
		rb_str(&b, e->tretspef);
		/* Diagnoses: the reason, then the person's known conditions (each recorded
		 * with probability 0.85), in condition order, at most 20 in all. */
		uint64_t mask = mask1;
		int nd = 1;
		rb_comma(&b);
		rb_str(&b, s->diag1);
		for (int k = 0; k < NCOND && nd < 20; k++) {
			if (p->onset[k] > e->start)
				continue;
			double u = rng_unif(&p->r);
			const char *code = synth_conds[k].icd[p->variant[k]];
			if (u >= 0.85 || strcmp(code, s->diag1) == 0)
				continue;
			rb_comma(&b);
			rb_str(&b, code);
			mask |= w->cond_mask[k][p->variant[k]];
			nd++;
		}
		for (; nd < 20; nd++)
			rb_comma(&b);
		rb_comma(&b);
		rb_str(&b, s->opcs && i == s->nepi - 1 ? s->opcs : "-");
		rb_str(&b, ",,,");
		rb_comma(&b);
		rb_str(&b, e->hrg);
		rb_comma(&b);
		rb_gpprac(&b, c, s->adm);
		rb_comma(&b);
		rb_lsoa(&b, p->lsoa);
		rb_comma(&b);
		if (ready != NEVER) {
			rb_date(&b, w, ready);
			rb_str(&b, s->rrr ? ",Y," : ",N,");
		} else {
			rb_str(&b, ",,");
		}
		rb_code(&b, s->delay);
		row_end(w, &b, p);
		if (ready != s->ready && b.f) {
			b.f->odef[OD_READY_AFTER]++;
			b.f->last_odef = OD_READY_AFTER;
		}

		/* Bed days: the nights of the episode, each in its financial year. */
		for (int y = 0; y < w->years; y++) {
			int32_t nb = yoc_nights_between(e->start, e->end, w->fstart[y], w->fstart[y + 1]);
			T_ADD(c, bed_days[y], nb);
			if (yoc_admimeth_emergency(s->admimeth, strlen(s->admimeth)))
				T_ADD(c, emergency_bed_days[y], nb);
		}
		if (c->drop) {
			/* not in the feeds: no diagnoses for the truth's conditions */
		} else if (c->t->nepi < MAX_EPI_LOG) {
			c->t->epi_start[c->t->nepi] = e->start;
			c->t->epi_mask[c->t->nepi] = mask;
			c->t->nepi++;
		} else {
			c->t->epi_overflow = 1;
		}
	}
	/* Price and truth: the spell, by the rules of src/cost on the clean
	 * fields, all in the year of admission (docs/costing.md). */
	struct yoc_apc_epi ep[3];
	for (int i = 0; i < s->nepi; i++) {
		const struct ev_episode *e = &s->epi[i];
		ep[i].classpat = (struct yoc_cell){s->classpat, strlen(s->classpat)};
		ep[i].admimeth = (struct yoc_cell){s->admimeth, strlen(s->admimeth)};
		ep[i].sushrg = (struct yoc_cell){e->hrg, strlen(e->hrg)};
		ep[i].admidate = s->adm;
		ep[i].disdate = s->dis;
		ep[i].epistart = e->start;
		ep[i].epiend = e->end;
		ep[i].epiorder = i + 1;
		ep[i].feed_cost = INT64_MIN;
	}
	struct yoc_spell_price sp;
	yoc_price_spell(w->tariff, ep, (size_t)s->nepi, &sp);
	int setting = sp.type == YOC_SPELL_DAYCASE ? S_DAYCASE
		      : sp.type == YOC_SPELL_ELECTIVE ? S_ELECTIVE : S_NONELECTIVE;
	add_cost(c, setting, s->adm, sp.pence);
	if (!c->drop) {
		synth_priced(w, K_APC, s->prov, s->adm, sp.pence);
		if (s->ready != NEVER)
			synth_outcome_spell_truth(w, p, spell_key, s);
	}
	int ya = world_fyear(w, s->adm);
	if (ya >= 0 && ya < w->years) {
		T_ADD(c, cost_apc_provider[ya], sp.provider);
		if (sp.type == YOC_SPELL_EMERGENCY) {
			T_ADD(c, cost_emergency[ya], sp.pence);
			T_ADD(c, emergency[ya], sp.admission);
		} else if (sp.type == YOC_SPELL_OTHER_NE) {
			T_ADD(c, cost_other_ne[ya], sp.pence);
			T_ADD(c, other_ne[ya], sp.admission);
		}
	}
}

void emit_op(struct emit_ctx *c, const struct ev_op *e)
{
	struct world *w = c->w;
	struct rowb b;
	row_begin(w, &b, c->drop ? NULL : file_for(c, K_OP, e->prov, e->date));
	rb_person(&b, w, c->p);
	rb_comma(&b);
	rb_str(&b, w->prov_code[K_OP][e->prov]);
	rb_comma(&b);
	rb_key(&b, c, K_OP);
	rb_comma(&b);
	rb_fyear_hes(&b, w->first_year + world_fyear(w, e->date));
	rb_comma(&b);
	rb_date(&b, w, e->date);
	rb_comma(&b);
	rb_str(&b, e->attended);
	rb_comma(&b);
	rb_str(&b, e->firstatt);
	rb_comma(&b);
	rb_str(&b, e->tretspef);
	rb_comma(&b);
	rb_str(&b, e->opcs ? e->opcs : "-");
	rb_comma(&b);
	rb_str(&b, e->hrg);
	rb_comma(&b);
	rb_gpprac(&b, c, e->date);
	rb_comma(&b);
	rb_lsoa(&b, c->p->lsoa);
	row_end(w, &b, c->p);
	if (yoc_attended(e->attended, strlen(e->attended))) {
		int64_t pence = cprice(w, yoc_pod_op(e->hrg, strlen(e->hrg)), e->hrg);
		add_cost(c, S_OUTPATIENT, e->date, pence);
		if (!c->drop)
		synth_priced(w, K_OP, e->prov, e->date, pence);
	}
}

void emit_ae(struct emit_ctx *c, const struct ev_ae *e)
{
	struct world *w = c->w;
	struct rowb b;
	row_begin(w, &b, c->drop ? NULL : file_for(c, K_AE, e->prov, e->date));
	rb_person(&b, w, c->p);
	rb_comma(&b);
	rb_str(&b, w->prov_code[K_AE][e->prov]);
	rb_comma(&b);
	rb_key(&b, c, K_AE);
	rb_comma(&b);
	rb_fyear_hes(&b, w->first_year + world_fyear(w, e->date));
	rb_comma(&b);
	rb_date(&b, w, e->date);
	rb_comma(&b);
	rb_uint_pad(&b, (uint64_t)(e->hhmm / 60), 2);
	*b.p++ = ':';
	rb_uint_pad(&b, (uint64_t)(e->hhmm % 60), 2);
	rb_comma(&b);
	rb_str(&b, e->mode);
	rb_comma(&b);
	rb_str(&b, e->cat);
	rb_str(&b, ",01,");
	rb_str(&b, e->disp);
	rb_comma(&b);
	rb_str(&b, e->hrg);
	rb_comma(&b);
	rb_gpprac(&b, c, e->date);
	rb_comma(&b);
	rb_lsoa(&b, c->p->lsoa);
	row_end(w, &b, c->p);
	int64_t pence = cprice(w, YOC_POD_EMERGENCY, e->hrg);
	add_cost(c, S_AE, e->date, pence);
	if (!c->drop)
		synth_priced(w, K_AE, e->prov, e->date, pence);
}

void emit_community(struct emit_ctx *c, const struct ev_community *e)
{
	struct world *w = c->w;
	struct rowb b;
	row_begin(w, &b, c->drop ? NULL : file_for(c, K_COMMUNITY, e->prov, e->date));
	rb_person(&b, w, c->p);
	rb_comma(&b);
	rb_str(&b, w->prov_code[K_COMMUNITY][e->prov]);
	rb_comma(&b);
	rb_key(&b, c, K_COMMUNITY);
	rb_comma(&b);
	rb_date(&b, w, e->date);
	rb_comma(&b);
	rb_str(&b, e->service);
	rb_comma(&b);
	rb_str(&b, e->ctype);
	rb_comma(&b);
	rb_uint(&b, (uint64_t)e->dur);
	rb_comma(&b);
	rb_str(&b, e->attended);
	rb_comma(&b);
	rb_str(&b, e->currency);
	rb_comma(&b);
	rb_gpprac(&b, c, e->date);
	row_end(w, &b, c->p);
	if (yoc_attended(e->attended, strlen(e->attended))) {
		int64_t pence = cprice(w, YOC_POD_COMMUNITY, e->currency);
		add_cost(c, S_COMMUNITY, e->date, pence);
		if (!c->drop)
		synth_priced(w, K_COMMUNITY, e->prov, e->date, pence);
	}
}

void emit_mh(struct emit_ctx *c, const struct ev_mh *e)
{
	struct world *w = c->w;
	struct rowb b;
	row_begin(w, &b, c->drop ? NULL : file_for(c, K_MH, e->prov, e->date));
	rb_person(&b, w, c->p);
	rb_comma(&b);
	rb_str(&b, w->prov_code[K_MH][e->prov]);
	rb_comma(&b);
	rb_key(&b, c, K_MH);
	rb_comma(&b);
	rb_str(&b, e->bedday ? "BEDDAYS" : "CONTACT");
	rb_comma(&b);
	rb_date(&b, w, e->date);
	rb_comma(&b);
	rb_str(&b, e->team);
	rb_comma(&b);
	rb_code(&b, e->cluster);
	rb_comma(&b);
	rb_code(&b, e->bedday ? NULL : e->attended);
	rb_comma(&b);
	if (e->bedday)
		rb_date(&b, w, e->spell_start);
	rb_comma(&b);
	if (e->bedday && e->spell_end != NEVER)
		rb_date(&b, w, e->spell_end);
	rb_comma(&b);
	if (e->bedday)
		rb_uint(&b, (uint64_t)e->bed_days);
	rb_comma(&b);
	rb_str(&b, e->currency);
	rb_comma(&b);
	rb_gpprac(&b, c, e->date);
	row_end(w, &b, c->p);
	int64_t pence = 0;
	if (e->bedday)
		pence = cprice(w, YOC_POD_MH_BEDDAY, e->currency) * e->bed_days;
	else if (yoc_attended(e->attended, strlen(e->attended)))
		pence = cprice(w, yoc_pod_mh(e->currency, strlen(e->currency)), e->currency);
	if (e->bedday) {
		int y = world_fyear(w, e->date);
		if (y >= 0 && y < w->years)
			T_ADD(c, mh_bed_days[y], e->bed_days);
	}
	add_cost(c, S_MH, e->date, pence);
	if (!c->drop)
		synth_priced(w, K_MH, e->prov, e->date, pence);
}

static int hcp_index(const char *hcp)
{
	return hcp[0] == 'G' ? 0 : hcp[0] == 'N' ? 1 : 2;
}

void emit_gp(struct emit_ctx *c, const struct ev_gp *e)
{
	struct world *w = c->w;
	struct rowb b;
	row_begin(w, &b, c->drop ? NULL : synth_file(w, K_GP_APPT, (uint32_t)e->prac,
				    (uint32_t)world_month(w, e->date)));
	rb_person(&b, w, c->p);
	rb_comma(&b);
	rb_str(&b, w->prac_code[e->prac]);
	rb_comma(&b);
	rb_key(&b, c, K_GP_APPT);
	rb_comma(&b);
	rb_date(&b, w, e->date);
	rb_comma(&b);
	rb_str(&b, e->hcp);
	rb_comma(&b);
	rb_str(&b, e->mode);
	rb_comma(&b);
	rb_uint(&b, (uint64_t)e->dur);
	rb_comma(&b);
	rb_str(&b, e->status);
	row_end(w, &b, c->p);
	if (e->status[0] == 'A')
		add_cost(c, S_GP, e->date, w->gp_per_minute[hcp_index(e->hcp)] * e->dur);
}

static const char *const social_types[3] = {"HOME_CARE", "RESIDENTIAL", "NURSING"};

void emit_social(struct emit_ctx *c, const struct ev_social *e)
{
	struct world *w = c->w;
	struct rowb b;
	row_begin(w, &b, c->drop ? NULL : file_for(c, K_SOCIAL, e->la, e->start));
	rb_person(&b, w, c->p);
	rb_comma(&b);
	rb_str(&b, w->prov_code[K_SOCIAL][e->la]);
	rb_comma(&b);
	rb_uint_pad(&b, synth_key(w, K_SOCIAL, c->p->idx, e->package), 19);
	rb_comma(&b);
	rb_str(&b, social_types[e->type]);
	rb_comma(&b);
	rb_date(&b, w, e->pstart);
	rb_comma(&b);
	if (e->pend != NEVER)
		rb_date(&b, w, e->pend);
	rb_comma(&b);
	rb_date(&b, w, e->start);
	rb_comma(&b);
	rb_date(&b, w, e->end);
	rb_comma(&b);
	rb_uint(&b, (uint64_t)e->units);
	rb_comma(&b);
	rb_str(&b, e->type == 0 ? "HOURS" : "DAYS");
	rb_comma(&b);
	if (e->type == 0)
		rb_pence(&b, e->hourly);
	rb_comma(&b);
	rb_pence(&b, e->weekly);
	rb_comma(&b);
	rb_pence(&b, e->cost);
	rb_comma(&b);
	rb_gpprac(&b, c, e->start);
	rb_str(&b, e->reable ? ",Y," : ",N,");
	if (e->reable)
		rb_date(&b, w, e->hosp_dis);
	rb_comma(&b);
	rb_code(&b, e->place91);
	rb_comma(&b);
	rb_code(&b, e->placement);
	row_end(w, &b, c->p);
	/* The cost in the feed is the price (docs/costing.md). */
	add_cost(c, S_SOCIAL, e->start, e->cost);
}

void emit_ambulance(struct emit_ctx *c, const struct ev_amb *e)
{
	struct world *w = c->w;
	struct rowb b;
	row_begin(w, &b, c->drop ? NULL : file_for(c, K_AMBULANCE, 0, e->date));
	rb_person(&b, w, c->p);
	rb_comma(&b);
	rb_str(&b, w->prov_code[K_AMBULANCE][0]);
	rb_comma(&b);
	rb_key(&b, c, K_AMBULANCE);
	rb_comma(&b);
	rb_date(&b, w, e->date);
	rb_comma(&b);
	rb_str(&b, e->cat);
	rb_comma(&b);
	rb_str(&b, e->outcome);
	rb_comma(&b);
	rb_str(&b, e->currency);
	rb_comma(&b);
	if (e->conveyed_to >= 0)
		rb_str(&b, w->prov_code[K_APC][e->conveyed_to]);
	rb_comma(&b);
	rb_gpprac(&b, c, e->date);
	row_end(w, &b, c->p);
	int64_t pence = cprice(w, YOC_POD_AMBULANCE, e->currency);
	add_cost(c, S_AMBULANCE, e->date, pence);
	if (!c->drop)
		synth_priced(w, K_AMBULANCE, 0, e->date, pence);
}

void emit_death(struct emit_ctx *c, const char *place, const char *cause)
{
	struct world *w = c->w;
	struct person *p = c->p;
	struct rowb b;
	int32_t dor = p->death + 2 + (int32_t)rng_below(&p->r, 9);
	row_begin(w, &b, c->drop ? NULL : file_for(c, K_DEATHS, 0, p->death));
	rb_person(&b, w, p);
	rb_comma(&b);
	rb_date(&b, w, p->death);
	rb_comma(&b);
	rb_date(&b, w, dor);
	rb_comma(&b);
	rb_str(&b, place);
	rb_comma(&b);
	rb_str(&b, cause);
	rb_comma(&b);
	rb_gpprac(&b, c, p->death);
	rb_comma(&b);
	rb_lsoa(&b, p->lsoa);
	row_end(w, &b, p);
}

/*
** One gp_register row per registration overlapping each financial year:
** condition columns hold the register date of every condition recorded on
** or before the earlier of the year end and the registration end.
*/
void emit_register(struct emit_ctx *c)
{
	struct world *w = c->w;
	struct person *p = c->p;
	int32_t when[YOC_LTC_MAX];
	for (int i = 0; i < YOC_LTC_MAX; i++)
		when[i] = NEVER;
	for (int k = 0; k < NCOND; k++) {
		int li = w->cond_ltc[k];
		if (p->regdate[k] < when[li])
			when[li] = p->regdate[k];
	}
	for (int y = 0; y < w->years; y++) {
		int32_t fs = w->fstart[y], fe = w->fstart[y + 1] - 1;
		for (int i = 0; i < p->nreg; i++) {
			const struct regp *r = &p->reg[i];
			if (r->start > fe || r->end < fs)
				continue;
			int32_t upto = r->end < fe ? r->end : fe;
			struct rowb b;
			row_begin(w, &b, c->drop ? NULL : synth_file(w, K_REGISTER, r->prac, (uint32_t)y));
			rb_person(&b, w, p);
			rb_comma(&b);
			rb_str(&b, w->prac_code[r->prac]);
			rb_comma(&b);
			rb_date(&b, w, r->start);
			rb_comma(&b);
			if (r->end <= fe)
				rb_date(&b, w, r->end);
			rb_comma(&b);
			rb_lsoa(&b, p->lsoa);
			rb_comma(&b);
			rb_uint(&b, p->decile);
			for (int col = 8; col < w->reg_ncols; col++) {
				int li = w->regcol_ltc[col];
				rb_comma(&b);
				if (li >= 0 && when[li] <= upto) {
					rb_date(&b, w, when[li]);
					if (when[li] < c->t->reg_known[li])
						c->t->reg_known[li] = when[li];
				}
			}
			row_end(w, &b, p);
		}
	}
}

int synth_emit_init(struct world *w, struct yoc_error *e)
{
	static const char *const hcp[3] = {"GP", "NURSE", "OTHER"};
	for (int i = 0; i < 3; i++) {
		struct yoc_cell h = {hcp[i], strlen(hcp[i])}, st = {"Attended", 8};
		int64_t one, ten;
		if (yoc_price_gp(w->tariff, h, st, 1, &one) != YOC_PRICED ||
		    yoc_price_gp(w->tariff, h, st, 10, &ten) != YOC_PRICED || ten != 10 * one)
			return yoc_error_set(e, YOC_EDATA, "unit_costs.csv", 0, 0,
					     "no per-minute unit cost for %s", hcp[i]);
		w->gp_per_minute[i] = one;
	}
	for (int k = 0; k < NCOND; k++)
		for (int v = 0; v < 4 && synth_conds[k].icd[v]; v++) {
			w->cond_mask[k][v] = code_mask(w, synth_conds[k].icd[v]);
			if (!(w->cond_mask[k][v] & ((uint64_t)1 << w->cond_ltc[k])))
				return yoc_error_set(e, YOC_EDATA, "ltc_codelist.csv", 0, 0,
						     "code %s does not map to %s", synth_conds[k].icd[v],
						     synth_conds[k].id);
		}
	for (int r = 0; r < NREASON; r++)
		w->reason_mask[r] = code_mask(w, synth_reasons[r].diag);
	for (int r = 0; r < NPROC; r++)
		w->proc_mask[r] = code_mask(w, synth_procs[r].diag);
	return YOC_OK;
}

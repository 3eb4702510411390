/*
** One person's life course over the window: sex, date of birth, small area
** and deprivation, GP registrations (baseline population, births and people
** moving in; moves out and between practices), long-term conditions with
** onset dates and register dates, and death. Every draw comes from the
** person's own stream, so a person is the same whatever else is generated.
** Must not write anything.
*/
#include "synth/synth_int.h"
#include "yoc/nhsno.h"

/* England population by 5-year age band, 0-4 ... 95-99 (% , ONS mid-2021, rounded). */
static const double age_pop[20] = {5.4, 5.9, 6.0, 5.6, 6.0, 6.6, 6.9, 6.7, 6.3, 6.4,
				   6.8, 6.6, 5.8, 5.0, 5.1, 3.6, 2.5, 1.5, 0.7, 0.2};
/* People registering after moving into the area: mostly young adults. */
static const double age_mover[20] = {6.0, 4.5, 3.5, 6.0, 17.0, 18.0, 14.0, 8.0, 5.0, 4.5,
				     3.5, 2.8, 2.2, 1.7, 1.3, 1.0, 0.8, 0.5, 0.2, 0.05};

/* Calibration shift of every condition's log odds (absorbs the latent factors' inflation). */
#define COND_SHIFT (-0.08)
/* Loading of every condition on the general factor. */
#define GENERAL_LOADING 0.30

static int32_t days_of_years(double y)
{
	return (int32_t)(y * 365.25);
}

static uint32_t pick_lsoa(const struct world *w, struct rng *r)
{
	double u = rng_unif(r);
	uint32_t lo = 0, hi = w->nlsoa - 1;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (w->lsoa_cum[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint16_t pick_practice(const struct world *w, struct rng *r, uint32_t lsoa)
{
	int p = w->lsoa_prac[lsoa];
	double u = rng_unif(r);
	if (u < 0.78 || w->nprac == 1)
		return (uint16_t)p;
	if (u < 0.95) {
		int q = p + (rng_chance(r, 0.5) ? 1 : -1);
		if (q < 0)
			q = 1;
		if (q >= (int)w->nprac)
			q = (int)w->nprac - 2;
		return (uint16_t)(q < 0 ? 0 : q);
	}
	return (uint16_t)rng_below(r, w->nprac);
}

static double out_move_hazard(int age)
{
	if (age < 18)
		return 0.03;
	if (age < 25)
		return 0.09;
	if (age < 35)
		return 0.07;
	if (age < 65)
		return 0.03;
	if (age < 80)
		return 0.015;
	return 0.02;
}

/* Annual death hazard of the reference person at an age. */
static double death_base(int age)
{
	if (age < 1)
		return 0.0035;
	if (age < 15)
		return 0.00012;
	if (age < 30)
		return 0.0005;
	return exp(-11.2 + 0.092 * age);
}

/* Age (years) at which the cumulative prevalence curve reaches q (fraction); -1 if never. */
static double inverse_prev(const float *prev, double q)
{
	if (q <= prev[0] / 100.0)
		return 0.0;
	for (int k = 1; k < NKNOT; k++) {
		double a = prev[k - 1] / 100.0, b = prev[k] / 100.0;
		if (q <= b && b > a)
			return 10.0 * (k - 1) + 10.0 * (q - a) / (b - a);
	}
	return -1.0;
}

static void make_conditions(const struct world *w, struct person *p)
{
	struct rng *r = &p->r;
	double d = (5.5 - p->decile) / 4.5; /* +1 most deprived, -1 least */
	for (int f = 0; f < NFACTOR; f++)
		p->z[f] = (float)rng_normal(r);
	p->frailty = (float)(0.45 * rng_normal(r));
	for (int c = 0; c < NCOND; c++) {
		const struct cond_def *cd = &synth_conds[c];
		double u = rng_unif(r), lag = rng_exp(r), vr = rng_unif(r);
		int regd = rng_chance(r, cd->p_register);
		p->onset[c] = NEVER;
		p->regdate[c] = NEVER;
		int nv = 0;
		while (nv < 4 && cd->icd[nv])
			nv++;
		p->variant[c] = (uint8_t)(vr < 0.7 || nv == 1 ? 0 : 1 + (int)((vr - 0.7) / 0.3 * (nv - 1)));
		if (p->variant[c] >= nv)
			p->variant[c] = (uint8_t)(nv - 1);
		if (c == C_CAN && p->sex == 1 && p->variant[c] == 2)
			p->variant[c] = 1; /* breast cancer written for women only */
		if (c == C_PC)
			continue; /* palliative care follows from death, below */
		double lor = COND_SHIFT + 0.75 * cd->dep_logor * d; /* 1.5 x the table's gradient */
		double ms = 0.5 * log(cd->male_or);
		lor += p->sex == 1 ? ms : -ms;
		if (cd->factor == F_GENERAL)
			lor += (cd->loading + GENERAL_LOADING) * p->z[F_GENERAL];
		else
			lor += cd->loading * p->z[cd->factor] + GENERAL_LOADING * p->z[F_GENERAL];
		double orr = exp(lor);
		double q = u / (orr * (1.0 - u) + u);
		double t = inverse_prev(cd->prev, q);
		if (t < 0)
			continue;
		int32_t on = p->dob + days_of_years(t);
		if (on > w->w1)
			continue;
		p->onset[c] = on;
		if (regd)
			p->regdate[c] = on + (int32_t)(lag * cd->reg_lag_days);
	}
}

int person_ncond(const struct person *p, int32_t d)
{
	int n = 0;
	for (int c = 0; c < NCOND; c++)
		n += c != C_PC && p->onset[c] <= d;
	return n;
}

int person_practice_on(const struct person *p, int32_t d)
{
	for (int i = 0; i < p->nreg; i++)
		if (p->reg[i].start <= d && d <= p->reg[i].end)
			return p->reg[i].prac;
	return -1;
}

static void make_death(const struct world *w, struct person *p)
{
	struct rng *r = &p->r;
	int32_t last = p->obs1; /* last day observed before any death */
	double dep = (5.5 - p->decile) / 4.5;
	p->death = NEVER;
	for (int y = 0; y < w->years; y++) {
		int32_t a = w->fstart[y] > p->obs0 ? w->fstart[y] : p->obs0;
		int32_t b = w->fstart[y + 1] - 1 < last ? w->fstart[y + 1] - 1 : last;
		double u = rng_unif(r), v = rng_unif(r);
		if (a > b)
			continue;
		double h = death_base(person_age(p, a)) * exp(0.15 * dep + 0.4 * p->frailty);
		double hr = 1.0;
		for (int c = 0; c < NCOND; c++)
			if (c != C_PC && p->onset[c] <= a)
				hr *= synth_conds[c].death_hr;
		h *= hr < 10.0 ? hr : 10.0;
		if (h > 0.7)
			h = 0.7;
		double pd = 1.0 - exp(-h * (b - a + 1) / 365.25);
		if (u < pd) {
			p->death = a + (int32_t)(v * (b - a + 1));
			break;
		}
	}
	if (p->death == NEVER)
		return;
	p->obs1 = p->death;
	for (int i = 0; i < p->nreg; i++) {
		if (p->reg[i].start > p->death) {
			p->nreg = (uint8_t)i;
			break;
		}
		if (p->reg[i].end > p->death)
			p->reg[i].end = p->death;
	}
	for (int c = 0; c < NCOND; c++) {
		if (p->onset[c] > p->death)
			p->onset[c] = NEVER;
		if (p->regdate[c] > p->death)
			p->regdate[c] = NEVER;
	}
	/* The palliative care register: most who die of cancer, some others. */
	double ppc = 0.20 + 0.40 * (p->onset[C_CAN] != NEVER) +
		     0.12 * (p->onset[C_DEM] != NEVER || p->onset[C_HF] != NEVER ||
			     p->onset[C_COPD] != NEVER);
	double u = rng_unif(r), t = rng_unif(r);
	if (u < ppc) {
		int32_t on = p->death - 14 - (int32_t)(t * 256);
		if (on < p->dob)
			on = p->dob;
		p->onset[C_PC] = on;
		p->regdate[C_PC] = on;
	}
}

int synth_person_make(struct world *w, struct person *p, uint64_t idx)
{
	struct rng *r = &p->r;
	memset(p, 0, sizeof *p);
	p->idx = idx;
	rng_seed(&p->r, w->o->seed, STREAM_PERSON, idx);
	rng_seed(&p->d, w->o->seed, STREAM_DEFECT, idx);
	rng_seed(&p->o, w->o->seed, STREAM_OUTCOME, idx);
	p->origin = idx < w->nbase ? ORIGIN_BASE
		    : idx < w->nbase + w->nbirth ? ORIGIN_BIRTH : ORIGIN_MOVER;

	/* NHS number: a permutation of the valid numbers of the 999 test range. */
	uint32_t prefix;
	if (idx < w->n999) {
		prefix = w->nhs999[(w->perm_a * idx + w->perm_b) % w->n999];
	} else {
		uint64_t j = (idx - w->n999) % (w->n000 ? w->n000 : 1);
		prefix = w->n000 ? w->nhs000[(w->perm2_a * j + w->perm2_b) % w->n000] : 0;
		w->nhs_overflow++;
	}
	for (int i = 8; i >= 0; i--) {
		p->nhs[i] = (char)('0' + prefix % 10);
		prefix /= 10;
	}
	p->nhs[9] = (char)('0' + yoc_nhsno_check_digit(p->nhs));

	p->sex = rng_chance(r, p->origin == ORIGIN_BIRTH ? 0.512 : 0.494) ? 1 : 2;
	p->lsoa = pick_lsoa(w, r);
	p->decile = w->lsoa_decile[p->lsoa];
	uint16_t prac = pick_practice(w, r, p->lsoa);
	int32_t span = w->w1 - w->w0 + 1, start;
	double u1 = rng_unif(r), u2 = rng_unif(r), u3 = rng_unif(r);
	if (p->origin == ORIGIN_BASE) {
		int band = rng_pick(r, age_pop, 20);
		double age = band * 5 + u1 * 5;
		p->dob = w->w0 - 1 - days_of_years(age);
		int32_t back = days_of_years(u2 * (age < 20 ? age : 20));
		start = w->w0 - back;
		if (start < p->dob + 14)
			start = p->dob + 14 < w->w0 ? p->dob + 14 : w->w0;
	} else if (p->origin == ORIGIN_BIRTH) {
		p->dob = w->w0 + (int32_t)(u1 * (span - 30));
		start = p->dob + 14 + (int32_t)(u2 * 42);
	} else {
		int band = rng_pick(r, age_mover, 20);
		double age = band * 5 + u1 * 5;
		start = w->w0 + 1 + (int32_t)(u2 * (span - 1));
		p->dob = start - days_of_years(age) - 1;
	}
	(void)u3;
	int by, bm, bd;
	yoc_date_to_ymd(p->dob, &by, &bm, &bd);
	p->dob_y = by;
	p->dob_md = bm * 100 + bd;
	p->ymd = w->tab_ymd;
	p->ymd0 = w->tab0;
	p->nymd = w->ntab;
	p->nreg = 1;
	p->reg[0].start = start;
	p->reg[0].end = NEVER;
	p->reg[0].prac = prac;
	p->obs0 = start > w->w0 ? start : w->w0;

	/* Moving out of the area ends the registration. */
	double hz = out_move_hazard(person_age(p, p->obs0));
	int32_t mv = p->obs0 + (int32_t)(rng_exp(r) / hz * 365.25);
	p->moved_out = mv <= w->w1 ? mv : NEVER;
	/* Changing practice within the area. */
	int32_t sw = p->obs0 + 1 + (int32_t)(rng_exp(r) / 0.02 * 365.25);
	uint16_t prac2 = pick_practice(w, r, p->lsoa);
	if (sw <= w->w1 && sw < p->moved_out && prac2 != prac) {
		p->reg[0].end = sw - 1;
		p->reg[1].start = sw;
		p->reg[1].end = NEVER;
		p->reg[1].prac = prac2;
		p->nreg = 2;
	}
	if (p->moved_out != NEVER)
		p->reg[p->nreg - 1].end = p->moved_out;
	p->obs1 = p->moved_out != NEVER ? p->moved_out : w->w1;
	if (p->obs0 > w->w1 || p->obs0 > p->obs1)
		return 0;

	make_conditions(w, p);
	make_death(w, p);
	if (p->nreg == 0)
		return 0;

	uint32_t zone = p->lsoa;
	p->acute = (uint16_t)((uint64_t)zone * w->nprov[K_APC] / w->nlsoa);
	p->community = (uint16_t)((uint64_t)zone * w->nprov[K_COMMUNITY] / w->nlsoa);
	p->mh = (uint16_t)((uint64_t)zone * w->nprov[K_MH] / w->nlsoa);
	p->la = (uint16_t)((uint64_t)zone * w->nprov[K_SOCIAL] / w->nlsoa);
	p->amb = 0;
	p->optout = rng_chance(r, 0.03);
	/* The start of every row of this person: NEWNHSNO,DOB,SEX. */
	char dob[11];
	yoc_date_format(p->dob, dob);
	memcpy(p->head, p->nhs, 10);
	p->head[10] = ',';
	memcpy(p->head + 11, dob, 10);
	p->head[21] = ',';
	p->head[22] = (char)('0' + p->sex);
	p->head[23] = 0;
	return 1;
}

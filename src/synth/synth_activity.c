/*
** A person's use of care, month by month: emergency and planned hospital
** stays, A&E, ambulance, outpatients, GP appointments, community and mental
** health contacts, social care packages and placements, death, and the GP
** register rows; then the person's truth rows. Rates rise with the number
** and weight of long-term conditions (more than with age), with deprivation
** and a persistent personal effect; a yearly "crisis" raises emergency use
** for a few months (so high-cost years regress toward the mean); use climbs
** in the last year of life; winters peak. Every draw is from the person's
** stream. docs/synth.md gives the parameters and what they are calibrated to.
*/
#include <stdlib.h>

#include "synth/synth_int.h"

#define MAX_SPELLS 300
#define MAX_DATES 2048
#define MAX_PLACE 8

/*
** Emergency care, calibrated to about 105 admissions per 1,000 person-years
** with the cost of the multimorbid carried by their longer, costlier spells
** (docs/synth.md, "Use of care"):
**   rate  NE_RATE x ne_base(age) x e^(NE_STEEP min(need, NE_CAP) + NE_TAIL ...)
**         x crisis (CRISIS_NE for three months) x the rest;
**   30-day readmission READMIT_BASE + READMIT_COND x conditions (<= READMIT_MAX);
**   stay  same-day discharge p_zero x (1 - ZERO_PER_COND x conditions), at
**         least 0.3 p_zero; else log-normal (sd LOS_SD) with mean x (1 +
**         LOS_PER_COND x conditions); a delayed discharge at 65+ with 2+
**         conditions, probability DELAY_P x (1 + DELAY_COND (conditions - 2))
**         x 1.5 at 80+ x 2.5 with dementia x 2 with a care package (<=
**         DELAY_MAX), adds a log-normal DELAY_MEAN days (sd 0.6);
**   HRG   the reason's ladder by complexity score (conditions, +1 at 75+ and at
**         85+): score x rungs / LADDER_SPAN rungs up from the simplest.
*/
#define NE_RATE 0.36
#define NE_STEEP 1.3
#define NE_CAP 2.7
#define NE_TAIL 0.0
#define CRISIS_NE 10.0
#define READMIT_BASE 0.04
#define READMIT_COND 0.01
#define READMIT_MAX 0.2
#define ZERO_PER_COND 0.15
#define LOS_PER_COND 0.06
#define LOS_SD 0.6
#define DELAY_P 0.035
#define DELAY_COND 1.0
#define DELAY_MAX 0.5
#define DELAY_MEAN 60.0
#define LADDER_SPAN 4

/* Seasonal factors, April .. March. */
static const double season_ne[12] = {0.97, 0.95, 0.92, 0.92, 0.90, 0.95, 1.00, 1.05, 1.15, 1.18, 1.08, 1.02};
static const double season_ae[12] = {1.00, 1.05, 1.05, 1.05, 1.00, 1.00, 0.98, 0.97, 1.00, 0.95, 0.95, 1.00};
static const double season_gp[12] = {0.95, 0.95, 0.97, 0.92, 0.85, 1.02, 1.08, 1.08, 0.95, 1.10, 1.05, 1.05};

struct mstate {
	int32_t e0, e1;     /* exposed (registered, alive) days of the month */
	int age;
	int ncond;
	double need;        /* sum of condition weights */
	double crisis;      /* >1 during a crisis */
	double eol;         /* 0..1: closeness to death (1 in the month of death) */
};

struct place {
	int32_t start, end; /* end inclusive, NEVER if open */
	int type;           /* 0 home care, 1 residential, 2 nursing */
	uint32_t package;
	int64_t hourly, weekly;
	int hours;          /* per week, home care */
};

struct act {
	struct world *w;
	struct person *p;
	struct rng *r;
	struct emit_ctx ec;
	int M;
	struct mstate ms[MAX_MONTHS];
	struct ev_spell sp[MAX_SPELLS];
	int nsp;
	int32_t days[MAX_DATES];
	struct place pl[MAX_PLACE];
	int npl;
	uint32_t npackage;
};

/* ---- helpers ------------------------------------------------------------------- */

static int season_of(int m)
{
	return m % 12;
}

static double need_cap(double n, double cap)
{
	return n < cap ? n : cap;
}

/* Days of a Poisson process with per-day rate rate[m] over each month's exposed days. */
static int gen_days(struct act *a, const double *rate, int32_t *out, int max)
{
	double t = rng_exp(a->r);
	int n = 0;
	for (int m = 0; m < a->M; m++) {
		const struct mstate *s = &a->ms[m];
		if (s->e0 > s->e1 || rate[m] <= 0)
			continue;
		double h = rate[m] * (s->e1 - s->e0 + 1);
		while (t < h) {
			if (n < max)
				out[n++] = s->e0 + (int32_t)(t / rate[m]);
			t += rng_exp(a->r);
		}
		t -= h;
	}
	return n;
}

static int in_obs(const struct person *p, int32_t d)
{
	return d >= p->obs0 && d <= p->obs1;
}

static int other_acute(struct act *a, int main, double p_other)
{
	uint32_t n = a->w->nprov[K_APC];
	if (n < 2 || !rng_chance(a->r, p_other))
		return main;
	int o = (int)rng_below(a->r, n - 1);
	return o >= main ? o + 1 : o;
}

static int lognormal_days(struct rng *r, double mean, double sd, int lo, int hi)
{
	double mu = log(mean) - 0.5 * sd * sd;
	int v = (int)ceil(exp(mu + sd * rng_normal(r)));
	return v < lo ? lo : v > hi ? hi : v;
}

/* 1 if a social care package or placement covers day d. */
static int package_on(const struct act *a, int32_t d)
{
	for (int i = 0; i < a->npl; i++)
		if (a->pl[i].start <= d && d <= a->pl[i].end)
			return 1;
	return 0;
}

/* Care home type on day d: -1 none, 1 residential, 2 nursing. */
static int care_home_on(const struct act *a, int32_t d)
{
	for (int i = 0; i < a->npl; i++)
		if (a->pl[i].type > 0 && a->pl[i].start <= d && d <= a->pl[i].end)
			return a->pl[i].type;
	return -1;
}

/* ---- month states ----------------------------------------------------------------- */

static void build_months(struct act *a)
{
	struct world *w = a->w;
	struct person *p = a->p;
	int md = p->death != NEVER ? world_month(w, p->death) : -100;
	for (int m = 0; m < a->M; m++) {
		struct mstate *s = &a->ms[m];
		int32_t ms = w->mstart[m], me = w->mstart[m + 1] - 1;
		s->e0 = ms > p->obs0 ? ms : p->obs0;
		s->e1 = me < p->obs1 ? me : p->obs1;
		s->age = person_age(p, ms > p->dob ? ms : p->dob);
		s->ncond = 0;
		s->need = 0;
		for (int c = 0; c < NCOND; c++)
			if (c != C_PC && p->onset[c] <= ms) {
				s->ncond++;
				s->need += synth_conds[c].need;
			}
		s->crisis = 1.0;
		s->eol = md >= m && md - m <= 12 ? exp(-(md - m) / 2.5) : 0.0;
	}
	/* A crisis year: a few months of much higher emergency use. */
	for (int y = 0; y < w->years; y++) {
		const struct mstate *s0 = &a->ms[12 * y];
		double pc = 0.02 * (1.0 + s0->need) * (s0->age >= 65 ? 1.3 : 1.0);
		if (pc > 0.5)
			pc = 0.5;
		double u = rng_unif(a->r);
		int start = 12 * y + (int)rng_below(a->r, 12);
		if (u < pc)
			for (int m = start; m < start + 3 && m < a->M; m++)
				a->ms[m].crisis = CRISIS_NE;
	}
}

/* ---- social care --------------------------------------------------------------- */

static void open_place(struct act *a, int32_t d, int type)
{
	if (a->npl == MAX_PLACE)
		return;
	struct world *w = a->w;
	struct person *p = a->p;
	struct place *q = &a->pl[a->npl++];
	struct yoc_cell code;
	static const char *const codes[3] = {"HOME_CARE", "RESIDENTIAL", "NURSING"};
	int64_t unit = 0;
	code.p = codes[type];
	code.n = strlen(codes[type]);
	yoc_tariff_unit(w->tariff, code.p, code.n, &unit, NULL);
	q->start = d;
	q->end = NEVER;
	q->type = type;
	q->package = a->npackage++;
	double la = 0.94 + 0.04 * (p->la % 4);
	if (type == 0) {
		q->hourly = (int64_t)llround(unit * la);
		q->hours = lognormal_days(a->r, 9.0, 0.6, 2, 40);
		q->weekly = q->hourly * q->hours;
	} else {
		double f = la * (0.92 + 0.25 * rng_unif(a->r));
		q->weekly = (int64_t)llround(unit * f / 100.0) * 100; /* whole pounds */
		q->hourly = 0;
		q->hours = 0;
	}
}

static void social_care(struct act *a)
{
	struct person *p = a->p;
	int state = 0;
	for (int m = 0; m < a->M; m++) {
		const struct mstate *s = &a->ms[m];
		double u = rng_unif(a->r), v = rng_unif(a->r), t = rng_unif(a->r);
		if (s->e0 > s->e1 || s->age < 18)
			continue;
		int32_t d = s->e0 + (int32_t)(t * (s->e1 - s->e0 + 1));
		double nd = need_cap(s->need, 7);
		int dem = p->onset[C_DEM] <= s->e0, ld = p->onset[C_LD] <= s->e0;
		if (state == 0) {
			double base = s->age < 65 ? 0.00012 : s->age < 75 ? 0.00045 : s->age < 85 ? 0.0012 : 0.003;
			double h = base * exp(0.45 * need_cap(nd, 6)) * (dem ? 2.5 : 1.0) *
				   (ld && s->age < 65 ? 10.0 : 1.0) * (1.0 + 2.0 * s->eol);
			if (u < h) {
				open_place(a, d, 0);
				state = 1;
			} else if (u < h * 1.15 && s->age >= 65) {
				int type = v < 0.45 ? 2 : 1;
				open_place(a, d, type);
				state = type + 1;
			}
		} else if (state == 1) {
			double hp = 0.006 * (dem ? 2.5 : 1.0) * (s->age >= 85 ? 1.5 : 1.0);
			if (u < hp) {
				a->pl[a->npl - 1].end = d - 1;
				int type = nd >= 5 || v < 0.4 ? 2 : 1;
				open_place(a, d, type);
				state = type + 1;
			} else if (u < hp + 0.02) {
				a->pl[a->npl - 1].end = d;
				state = 0;
			}
		} else if (state == 2) {
			if (u < 0.01) {
				a->pl[a->npl - 1].end = d - 1;
				open_place(a, d, 2);
				state = 3;
			}
		}
		if (a->npl == MAX_PLACE)
			break;
	}
	for (int i = 0; i < a->npl; i++)
		if (a->pl[i].end > p->obs1)
			a->pl[i].end = p->obs1 < a->w->w1 ? p->obs1 : NEVER;
}

static void emit_social_rows(struct act *a)
{
	struct world *w = a->w;
	struct person *p = a->p;
	for (int i = 0; i < a->npl; i++) {
		const struct place *q = &a->pl[i];
		int32_t qend = q->end == NEVER ? p->obs1 : q->end;
		for (int m = 0; m < a->M; m++) {
			int32_t ms = w->mstart[m], me = w->mstart[m + 1] - 1;
			int32_t s = q->start > ms ? q->start : ms, e = qend < me ? qend : me;
			if (s < p->obs0)
				s = p->obs0;
			if (e > p->obs1)
				e = p->obs1;
			if (s > e)
				continue;
			struct ev_social ev;
			memset(&ev, 0, sizeof ev);
			int64_t days = e - s + 1;
			ev.la = p->la;
			ev.type = (uint8_t)q->type;
			ev.package = q->package;
			ev.pstart = q->start;
			ev.pend = q->end != NEVER && q->end <= e ? q->end : NEVER;
			ev.start = s;
			ev.end = e;
			ev.hourly = q->hourly;
			ev.weekly = q->weekly;
			if (q->type == 0) {
				ev.units = (q->hours * days * 2 + 7) / 14;
				ev.cost = ev.units * q->hourly;
			} else {
				ev.units = days;
				ev.cost = (q->weekly * days * 2 + 7) / 14;
			}
			ev.cost_clean = ev.cost;
			ev.placement = synth_outcome_placement(q->type, q->start, q->end);
			emit_social(&a->ec, &ev);
		}
	}
}

/* ---- hospital stays ----------------------------------------------------------------- */

static const char *ne_method(struct act *a, int age)
{
	static const char *const m[] = {"21", "22", "23", "24", "28", "2A", "2B", "2D"};
	static const double wa[] = {0.70, 0.12, 0.01, 0.04, 0.02, 0.02, 0.02, 0.04};
	static const double wc[] = {0.60, 0.20, 0.0, 0.10, 0.0, 0.0, 0.0, 0.10};
	return m[rng_pick(a->r, age < 16 ? wc : wa, 8)];
}

static int pick_reason(struct act *a, int32_t d, int age)
{
	struct person *p = a->p;
	double wt[NREASON];
	memset(wt, 0, sizeof wt);
	if (age < 16) {
		wt[R_PAED_WHEEZE] = p->onset[C_AST] <= d ? 1.5 : 0.6;
		wt[R_PAED_URTI] = 1.0;
		wt[R_PAED_INFECTION] = 1.0;
		wt[R_PAED_LRT] = age < 2 ? 1.5 : 0.3;
		wt[R_ABDO_PAIN] = age >= 5 ? 0.4 : 0.0;
		wt[R_POISONING] = age >= 12 ? 0.2 : 0.0;
		if (p->onset[C_EP] <= d)
			wt[R_SEIZURE] = 1.5;
		if (p->onset[C_DM] <= d)
			wt[R_DIABETES] = 1.0;
		return rng_pick(a->r, wt, NREASON);
	}
	int n = person_ncond(p, d);
	double pc = 0.18 * n;
	if (rng_unif(a->r) < (pc > 0.75 ? 0.75 : pc)) {
#define HAS(c) (p->onset[c] <= d)
		if (HAS(C_HF)) wt[R_HF] += 3.0;
		if (HAS(C_COPD)) wt[R_COPD] += 3.0, wt[R_PNEUMONIA] += 0.5;
		if (HAS(C_AST)) wt[R_ASTHMA] += 1.5;
		if (HAS(C_CHD)) wt[R_MI] += 1.2, wt[R_CHEST_PAIN] += 1.0;
		if (HAS(C_AF)) wt[R_AF] += 1.5;
		if (HAS(C_STIA)) wt[R_STROKE] += 1.0, wt[R_TIA] += 0.6;
		if (HAS(C_DM)) wt[R_DIABETES] += 1.0, wt[R_CELLULITIS] += 0.3;
		if (HAS(C_EP)) wt[R_SEIZURE] += 2.0;
		if (HAS(C_CAN)) wt[R_CANCER] += 2.5, wt[R_SEPSIS] += 0.5, wt[R_ANAEMIA] += 0.3;
		if (HAS(C_CKD)) wt[R_CKD] += 1.0, wt[R_AKI] += 1.0;
		if (HAS(C_CLD)) wt[R_LIVER] += 2.0, wt[R_GI_BLEED] += 0.8;
		if (HAS(C_DEM)) wt[R_UTI] += 1.0, wt[R_FALL_INJURY] += 1.0, wt[R_HIP_FRACTURE] += 0.5,
			wt[R_PNEUMONIA] += 0.5;
		if (HAS(C_PD)) wt[R_FALL_INJURY] += 1.0, wt[R_PNEUMONIA] += 0.5;
		if (HAS(C_OST)) wt[R_HIP_FRACTURE] += 1.0, wt[R_FALL_INJURY] += 0.5;
		if (HAS(C_SMI) || HAS(C_DEP) || HAS(C_ALC)) wt[R_POISONING] += 1.0;
		if (HAS(C_ALC)) wt[R_GI_BLEED] += 0.5, wt[R_LIVER] += 0.3;
		if (HAS(C_HYP)) wt[R_CHEST_PAIN] += 0.3, wt[R_SYNCOPE] += 0.2;
		if (HAS(C_RA)) wt[R_CELLULITIS] += 0.3;
		if (HAS(C_PAD)) wt[R_CELLULITIS] += 0.5;
		if (HAS(C_LD)) wt[R_SEIZURE] += 0.3, wt[R_PNEUMONIA] += 0.5;
		if (HAS(C_MS)) wt[R_UTI] += 0.5;
#undef HAS
		double sum = 0;
		for (int i = 0; i < NREASON; i++)
			sum += wt[i];
		if (sum > 0)
			return rng_pick(a->r, wt, NREASON);
	}
	if (age < 65) {
		wt[R_ABDO_PAIN] = 3; wt[R_CHEST_PAIN] = 2; wt[R_CELLULITIS] = 1; wt[R_POISONING] = 0.8;
		wt[R_HEADACHE] = 1; wt[R_GASTRO] = 1; wt[R_UTI] = 0.7; wt[R_SYNCOPE] = 0.5;
		wt[R_LRTI] = 0.8; wt[R_PNEUMONIA] = 0.4; wt[R_SEPSIS] = 0.2; wt[R_GI_BLEED] = 0.3;
		wt[R_FALL_INJURY] = 0.3; wt[R_ELECTROLYTE] = 0.2; wt[R_ANAEMIA] = 0.2;
	} else {
		wt[R_PNEUMONIA] = 2.5; wt[R_LRTI] = 2; wt[R_UTI] = 2; wt[R_FALL_INJURY] = 1.5;
		wt[R_HIP_FRACTURE] = 0.4 + 0.02 * (age - 65); wt[R_SYNCOPE] = 1.2; wt[R_CHEST_PAIN] = 1.2;
		wt[R_SEPSIS] = 1; wt[R_AKI] = 0.8; wt[R_ELECTROLYTE] = 0.8; wt[R_CELLULITIS] = 0.8;
		wt[R_ABDO_PAIN] = 1; wt[R_GI_BLEED] = 0.5; wt[R_ANAEMIA] = 0.4; wt[R_GASTRO] = 0.6;
	}
	return rng_pick(a->r, wt, NREASON);
}

extern const char *const synth_cancer_colon[4];
extern const char *const synth_cancer_breast[5];

/* HRG from a ladder by complexity: more conditions and older age -> higher CC. */
static const char *ladder(const char *const *h, int n, int ncond, int age)
{
	int score = ncond + (age >= 75) + (age >= 85);
	int k = score * n / LADDER_SPAN;
	if (k > n - 1)
		k = n - 1;
	return h[n - 1 - k];
}

static const char *reason_hrg(struct act *a, int reason, int ncond, int age)
{
	const struct reason *rs = &synth_reasons[reason];
	if (reason == R_CANCER) {
		int v = a->p->variant[C_CAN];
		if (v == 1)
			return ladder(synth_cancer_colon, 4, ncond, age);
		if (v == 2)
			return ladder(synth_cancer_breast, 5, ncond, age);
	}
	return ladder(rs->hrg, rs->nhrg, ncond, age);
}

static const char *reason_diag(struct act *a, int reason)
{
	if (reason == R_CANCER)
		return synth_conds[C_CAN].icd[a->p->variant[C_CAN]];
	if (reason == R_LIVER)
		return synth_conds[C_CLD].icd[a->p->variant[C_CLD]];
	return synth_reasons[reason].diag;
}

/* Limits a stay to the observed window; returns 0 if nothing is left. */
static int fit_stay(struct act *a, int32_t *adm, int32_t *dis)
{
	const struct person *p = a->p;
	if (*adm < p->obs0)
		*adm = p->obs0;
	if (*dis > p->obs1)
		*dis = p->obs1;
	return *adm <= *dis;
}

static struct ev_spell *new_spell(struct act *a)
{
	if (a->nsp == MAX_SPELLS)
		return NULL;
	struct ev_spell *s = &a->sp[a->nsp++];
	memset(s, 0, sizeof *s);
	return s;
}

/* Splits a stay into 1-3 consultant episodes. */
static void make_episodes(struct act *a, struct ev_spell *s, const char *hrg, const char *tret,
			  int ncond, int age, int reason)
{
	int los = s->dis - s->adm;
	double u = rng_unif(a->r), v = rng_unif(a->r);
	s->nepi = 1;
	s->epi[0].start = s->adm;
	s->epi[0].end = s->dis;
	s->epi[0].hrg = hrg;
	s->epi[0].tretspef = tret;
	if (s->kind != SP_NE && s->kind != SP_TRANSFER)
		return;
	if (los >= 2 && u < 0.22) {
		/* First a short episode under acute medicine, then the specialty. */
		int32_t cut = s->adm + (v < 0.7 ? 0 : 1);
		s->epi[0].end = cut;
		s->epi[0].tretspef = age < 16 ? "420" : "300";
		s->epi[1].start = cut;
		s->epi[1].end = s->dis;
		s->epi[1].hrg = hrg;
		s->epi[1].tretspef = tret;
		s->nepi = 2;
		if (los >= 10 && v < 0.35 && age >= 65) {
			int32_t cut2 = cut + (s->dis - cut) / 2;
			s->epi[1].end = cut2;
			s->epi[2].start = cut2;
			s->epi[2].end = s->dis;
			s->epi[2].hrg = ladder(synth_reasons[reason].hrg, synth_reasons[reason].nhrg,
					       ncond + 1, age);
			s->epi[2].tretspef = "430";
			s->nepi = 3;
		}
	}
}

static void ne_spell(struct act *a, int32_t adm, int terminal, int32_t force_dis,
		     const char *disdest)
{
	struct person *p = a->p;
	int age = person_age(p, adm), ncond = person_ncond(p, adm);
	int reason = pick_reason(a, adm, age);
	const struct reason *rs = &synth_reasons[reason];
	double u = rng_unif(a->r), mt = rng_unif(a->r);
	int los;
	/* same-day discharges are rarer for people with several conditions */
	double pz = rs->p_zero * (1.0 - ZERO_PER_COND * ncond);
	if (u < (pz > 0.3 * rs->p_zero ? pz : 0.3 * rs->p_zero))
		los = 0;
	else
		los = lognormal_days(a->r, rs->los_mean * (1.0 + 0.012 * (age > 60 ? age - 60 : 0)) *
						   (1.0 + LOS_PER_COND * ncond), LOS_SD, 1, 90);
	/* Delayed discharge: older people with several conditions, dementia or
	 * care needs often wait in hospital for community care or a placement
	 * (handbook section 8: about half of those needing rehabilitation). */
	double pd = 0.0;
	if (age >= 65 && ncond >= 2)
		pd = DELAY_P * (1.0 + DELAY_COND * (ncond - 2)) * (age >= 80 ? 1.5 : 1.0) *
		     (p->onset[C_DEM] <= adm ? 2.5 : 1.0) * (package_on(a, adm) ? 2.0 : 1.0);
	if (los > 0 && rng_unif(a->r) < (pd < DELAY_MAX ? pd : DELAY_MAX))
		los += lognormal_days(a->r, DELAY_MEAN, 0.6, 3, 150);
	const char *meth = ne_method(a, age);
	int32_t dis = adm + los;
	if (force_dis != NEVER) {
		dis = force_dis;
		if (adm > dis)
			adm = dis;
	}
	if (!fit_stay(a, &adm, &dis))
		return;
	struct ev_spell *s = new_spell(a);
	if (!s)
		return;
	s->adm = adm;
	s->dis = dis;
	s->kind = SP_NE;
	if (mt < 0.015 && !terminal) {
		meth = "81";
		s->kind = SP_TRANSFER;
	}
	s->admimeth = meth;
	int ch = care_home_on(a, adm);
	s->admisorc = ch == 2 ? "55" : ch == 1 ? "56" : strcmp(meth, "2B") == 0 || s->kind == SP_TRANSFER ? "51" : "19";
	s->classpat = "1";
	s->terminal = (uint8_t)terminal;
	s->disdest = terminal ? "79" : disdest ? disdest : (ch == 2 ? "55" : ch == 1 ? "56" : "19");
	s->dismeth = terminal ? "4" : "1";
	s->diag1 = reason_diag(a, reason);
	s->opcs = rs->opcs;
	s->via_ae = strcmp(meth, "21") == 0;
	s->prov = (uint16_t)other_acute(a, p->acute, 0.12);
	make_episodes(a, s, reason_hrg(a, reason, ncond, age), rs->tretspef, ncond, age, reason);
}

static int pick_procedure(struct act *a, int32_t d, int age)
{
	struct person *p = a->p;
	double wt[NPROC];
	for (int i = 0; i < NPROC; i++)
		wt[i] = age >= synth_procs[i].min_age ? synth_procs[i].weight : 0.0;
	if (age >= 70)
		wt[P_CATARACT] *= 2.0;
	if (p->onset[C_DM] <= d)
		wt[P_CATARACT] *= 1.5;
	if (p->sex == 1)
		wt[P_CYSTOSCOPY] *= 1.6;
	if (p->onset[C_OST] <= d || p->onset[C_RA] <= d)
		wt[P_HIP] *= 2.0, wt[P_KNEE] *= 2.0;
	if (age < 55)
		wt[P_HIP] *= 0.2, wt[P_KNEE] *= 0.2;
	double sum = 0;
	for (int i = 0; i < NPROC; i++)
		sum += wt[i];
	if (sum <= 0)
		return -1;
	return rng_pick(a->r, wt, NPROC);
}

static void planned_spell(struct act *a, int32_t adm, int proc, const char *meth)
{
	struct person *p = a->p;
	const struct procedure *pr = &synth_procs[proc];
	double u = rng_unif(a->r);
	int ordinary = !pr->daycase || (pr->los > 0 ? u < 0.30 : u < 0.05);
	int los = 0;
	if (!pr->daycase)
		los = pr->los - 1 + (int)rng_below(a->r, 3) + (person_age(p, adm) >= 80 ? 2 : 0);
	else if (ordinary)
		los = pr->los > 0 ? pr->los : 0;
	int32_t dis = adm + los;
	if (!fit_stay(a, &adm, &dis))
		return;
	struct ev_spell *s = new_spell(a);
	if (!s)
		return;
	s->adm = adm;
	s->dis = dis;
	s->kind = ordinary ? SP_EL : SP_DC;
	s->admimeth = meth;
	s->admisorc = "19";
	s->disdest = "19";
	s->dismeth = "1";
	s->classpat = ordinary ? "1" : "2";
	s->diag1 = proc == P_CHEMO ? synth_conds[C_CAN].icd[p->variant[C_CAN]] : pr->diag;
	s->opcs = pr->opcs;
	s->prov = (uint16_t)other_acute(a, p->acute, 0.15);
	make_episodes(a, s, pr->hrg, pr->tretspef, person_ncond(p, adm), person_age(p, adm), 0);
}

static int cmp_spell(const void *x, const void *y)
{
	const struct ev_spell *a = x, *b = y;
	if (a->adm != b->adm)
		return a->adm < b->adm ? -1 : 1;
	if (a->terminal != b->terminal)
		return a->terminal ? -1 : 1;
	return a->dis < b->dis ? -1 : a->dis > b->dis;
}

static double ne_base(int age)
{
	double b = age < 1 ? 0.20 : age < 5 ? 0.06 : age < 16 ? 0.025 : age < 45 ? 0.022
		   : age < 65 ? 0.025 : age < 75 ? 0.038 : age < 85 ? 0.055 : 0.085;
	return NE_RATE * b;
}

/* Emergency admissions rise steeply over the first conditions, then less. */
static double ne_mult(double need)
{
	double a = need_cap(need, NE_CAP), b = need_cap(need, 7.0) - a;
	return exp(NE_STEEP * a + NE_TAIL * b);
}

static double ae_base(int age)
{
	if (age < 5) return 0.50;
	if (age < 16) return 0.25;
	if (age < 30) return 0.35;
	if (age < 65) return 0.25;
	if (age < 80) return 0.30;
	return 0.55;
}

static double amb_share(int age)
{
	return age < 16 ? 0.08 : age < 65 ? 0.18 : age < 80 ? 0.40 : 0.60;
}

static void hospital(struct act *a)
{
	struct world *w = a->w;
	struct person *p = a->p;
	double rate[MAX_MONTHS];
	double dep = 1.0 + 0.07 * (5.5 - p->decile), fr = exp(p->frailty);
	/* Emergency admissions. */
	for (int m = 0; m < a->M; m++) {
		const struct mstate *s = &a->ms[m];
		rate[m] = ne_base(s->age) * ne_mult(s->need) * dep * fr * s->crisis *
			  (1.0 + 4.0 * s->eol) * season_ne[season_of(m)] / 365.25;
	}
	int n = gen_days(a, rate, a->days, MAX_DATES);
	for (int i = 0; i < n; i++)
		ne_spell(a, a->days[i], 0, NEVER, NULL);
	/* Readmissions within 30 days. */
	int nfirst = a->nsp;
	for (int i = 0; i < nfirst; i++) {
		const struct ev_spell *s = &a->sp[i];
		double pr = READMIT_BASE + READMIT_COND * person_ncond(p, s->adm);
		int32_t d = s->dis + 1 + (int32_t)rng_below(a->r, 29);
		if (rng_unif(a->r) < (pr > READMIT_MAX ? READMIT_MAX : pr) && in_obs(p, d))
			ne_spell(a, d, 0, NEVER, NULL);
	}
	/* Planned care: electives and day cases. */
	for (int m = 0; m < a->M; m++) {
		const struct mstate *s = &a->ms[m];
		double base = s->age < 16 ? 0.010 : 0.012 + 0.0012 * s->age;
		rate[m] = base * exp(0.3 * need_cap(s->need, 6)) * (1.0 - 0.7 * s->eol) / 365.25;
	}
	n = gen_days(a, rate, a->days, MAX_DATES);
	for (int i = 0; i < n; i++) {
		int age = person_age(p, a->days[i]);
		int proc = pick_procedure(a, a->days[i], age);
		double u = rng_unif(a->r);
		if (proc >= 0 && proc != P_CHEMO)
			planned_spell(a, a->days[i], proc, u < 0.6 ? "11" : u < 0.9 ? "12" : "13");
	}
	/* Chemotherapy courses after a cancer diagnosis. */
	if (p->onset[C_CAN] != NEVER && p->onset[C_CAN] >= w->w0 - 200 && rng_chance(a->r, 0.45)) {
		int32_t d = p->onset[C_CAN] + 30;
		for (int k = 0; k < 6; k++, d += 21)
			if (in_obs(p, d))
				planned_spell(a, d, P_CHEMO, "13");
	}
	/* Moves into a care home often follow a hospital stay. */
	for (int i = 0; i < a->npl; i++) {
		const struct place *q = &a->pl[i];
		if (q->type == 0 || !rng_chance(a->r, 0.5))
			continue;
		int los = lognormal_days(a->r, 12, 0.6, 2, 60);
		ne_spell(a, q->start - 1 - los, 0, q->start - 1, q->type == 2 ? "55" : "56");
	}
	/* Dying in hospital. */
	if (p->death != NEVER) {
		double ph = care_home_on(a, p->death) > 0 ? 0.25 : 0.47;
		if (rng_chance(a->r, ph)) {
			int los = lognormal_days(a->r, 8, 0.8, 1, 60);
			ne_spell(a, p->death - los, 1, p->death, NULL);
			p->dies_in_hospital = 1;
		}
	}
	/* Sort; a death in hospital wins; otherwise the earlier stay wins. */
	qsort(a->sp, (size_t)a->nsp, sizeof a->sp[0], cmp_spell);
	int32_t tadm = NEVER;
	for (int i = 0; i < a->nsp; i++)
		if (a->sp[i].terminal)
			tadm = a->sp[i].adm;
	int k = 0;
	int32_t busy = INT32_MIN;
	for (int i = 0; i < a->nsp; i++) {
		struct ev_spell *s = &a->sp[i];
		if (!s->terminal && tadm != NEVER && s->dis >= tadm)
			continue;
		if (s->adm <= busy)
			continue;
		busy = s->dis;
		a->sp[k++] = *s;
	}
	a->nsp = k;
}

/* ---- oracle risk ------------------------------------------------------------------- */

/*
** The probability, under this generator, of one or more emergency admissions
** in each financial year, given the person's drawn life (registered days,
** condition onsets, death, care placements), with the crisis and every
** Poisson draw integrated out: no draw from the stream, so the rest of the
** output is unchanged. The main process: admissions arrive at rate[m] a day
** (hospital(), without the crisis factor) over the exposed days, a share
** 0.015 become transfers (other non-elective), so P(none) = E[exp(-L)] with
** L = 0.985 sum_m rate[m] days[m] (x CRISIS_NE in crisis months), the
** expectation over this year's crisis (chance pc, start month uniform) and
** last year's (starting in month 11 or 12 it runs into this year's first
** two months). Independent extra chances: dying in hospital (the terminal
** emergency stay) and the hospital stay before a care home move (0.5, less
** transfers). Ignored, so slightly overstated: stays dropped as overlapping
** another, and a terminal or pre-placement stay admitted in the year before.
*/
static double crisis_chance(const struct act *a, int y)
{
	const struct mstate *s0 = &a->ms[12 * y];
	double pc = 0.02 * (1.0 + s0->need) * (s0->age >= 65 ? 1.3 : 1.0);
	return pc > 0.5 ? 0.5 : pc;
}

static void oracle_risk(struct act *a, struct truth_acc *t)
{
	struct world *w = a->w;
	struct person *p = a->p;
	double dep = 1.0 + 0.07 * (5.5 - p->decile), fr = exp(p->frailty);
	for (int y = 0; y < w->years; y++) {
		double lam[12];
		for (int k = 0; k < 12; k++) {
			int m = 12 * y + k;
			const struct mstate *s = &a->ms[m];
			double days = s->e0 > s->e1 ? 0.0 : (double)(s->e1 - s->e0 + 1);
			lam[k] = 0.985 * days * ne_base(s->age) * ne_mult(s->need) * dep * fr *
				 (1.0 + 4.0 * s->eol) * season_ne[season_of(m)] / 365.25;
		}
		double pc = crisis_chance(a, y), pp = y > 0 ? crisis_chance(a, y - 1) : 0.0;
		double none = 0.0;
		/* last year's crisis: none in this year (j = 0), from month 11 (j = 1: covers
		 * this year's first month) or month 12 (j = 2: first two months) */
		for (int j = 0; j < 3; j++) {
			double wj = j == 0 ? 1.0 - pp + pp * 10.0 / 12.0 : pp / 12.0;
			if (wj <= 0)
				continue;
			int prev_end = j == 0 ? 0 : j == 1 ? 1 : 2; /* months [0, prev_end) in crisis */
			for (int c = -1; c < 12; c++) {
				double wc = c < 0 ? 1.0 - pc : pc / 12.0;
				if (wc <= 0)
					continue;
				double l = 0;
				for (int k = 0; k < 12; k++) {
					int on = k < prev_end || (c >= 0 && k >= c && k < c + 3);
					l += lam[k] * (on ? CRISIS_NE : 1.0);
				}
				none += wj * wc * exp(-l);
			}
		}
		int32_t fs = w->fstart[y], fe = w->fstart[y + 1] - 1;
		if (p->death >= fs && p->death <= fe)
			none *= 1.0 - (care_home_on(a, p->death) > 0 ? 0.25 : 0.47);
		for (int i = 0; i < a->npl; i++)
			if (a->pl[i].type > 0 && a->pl[i].start >= fs && a->pl[i].start <= fe)
				none *= 1.0 - 0.5 * 0.985;
		t->p_emergency[y] = 1.0 - none;
	}
}

/* ---- a pilot's effect (docs/synth.md, "A pilot") ---------------------------------------- */

/* Emergency admissions in the 365 days before day d. */
static int prior_emergency(const struct act *a, int32_t d)
{
	int n = 0;
	for (int i = 0; i < a->nsp; i++)
		n += a->sp[i].kind == SP_NE && a->sp[i].adm >= d - 365 && a->sp[i].adm < d;
	return n;
}

/*
** Whether the pilot removes an event of day d with rate multiplier m < 1:
** each of the enrolled person's events from enrolment on stays with chance
** m, drawn from the pilot's own stream, so the person's own stream (and
** everything else they do) is the same with and without the pilot.
*/
static int pilot_drops(struct act *a, int32_t d, double m)
{
	struct emit_ctx *c = &a->ec;
	if (c->enrol == NEVER || d < c->enrol || m >= 1.0)
		return 0;
	return rng_unif(&c->pr) >= m;
}

/* Extra events (copies of one of day d) for a multiplier m > 1: Poisson(m - 1). */
static int pilot_extra(struct act *a, int32_t d, double m)
{
	struct emit_ctx *c = &a->ec;
	if (c->enrol == NEVER || d < c->enrol || m <= 1.0 || c->drop)
		return 0;
	return rng_poisson(&c->pr, m - 1.0);
}

static void pilot_gp(struct act *a, const struct ev_gp *e)
{
	struct emit_ctx *c = &a->ec;
	double m = a->w->o->pilot ? a->w->o->pilot->m_gp : 1.0;
	uint8_t was = c->drop;
	c->drop = (uint8_t)(was | pilot_drops(a, e->date, m));
	emit_gp(c, e);
	c->drop = was;
	int k = pilot_extra(a, e->date, m);
	c->copy = 1;
	for (int j = 0; j < k; j++)
		emit_gp(c, e);
	c->copy = 0;
}

static void pilot_community(struct act *a, const struct ev_community *e)
{
	struct emit_ctx *c = &a->ec;
	double m = a->w->o->pilot ? a->w->o->pilot->m_community : 1.0;
	uint8_t was = c->drop;
	c->drop = (uint8_t)(was | pilot_drops(a, e->date, m));
	emit_community(c, e);
	c->drop = was;
	int k = pilot_extra(a, e->date, m);
	c->copy = 1;
	for (int j = 0; j < k; j++)
		emit_community(c, e);
	c->copy = 0;
}

static void emit_hospital(struct act *a)
{
	struct world *w = a->w;
	struct person *p = a->p;
	for (int i = 0; i < a->nsp; i++) {
		const struct ev_spell *s = &a->sp[i];
		int age = person_age(p, s->adm);
		/* the pilot removes an emergency admission with its A&E attendance,
		 * ambulance and intermediate care */
		if (s->kind == SP_NE && !s->terminal && w->o->pilot)
			a->ec.drop = (uint8_t)pilot_drops(a, s->adm, w->o->pilot->m_emergency);
		if (s->via_ae) {
			struct ev_ae ae;
			static const double wd[4] = {0.1, 0.25, 0.35, 0.3};
			ae.date = s->adm;
			ae.prov = s->prov;
			ae.hhmm = (int)rng_below(a->r, 24 * 60);
			int amb = rng_chance(a->r, amb_share(age) + 0.15);
			ae.mode = amb ? "1" : "2";
			ae.cat = "1";
			ae.disp = "01";
			ae.hrg = synth_ae_hrg[rng_pick(a->r, wd, 4)];
			emit_ae(&a->ec, &ae);
			if (amb) {
				struct ev_amb am = {s->adm, rng_chance(a->r, 0.15) ? "C1" : "C2",
						    "SEE_CONVEY", "03", s->prov};
				emit_ambulance(&a->ec, &am);
			}
		}
		emit_spell(&a->ec, s);
		/* Intermediate care at home after a long emergency stay. */
		if (s->kind == SP_NE && !s->terminal && s->dis - s->adm >= 3 && age >= 65 &&
		    rng_chance(a->r, 0.3)) {
			int k = 3 + (int)rng_below(a->r, 8);
			int32_t d = s->dis + 1;
			for (int j = 0; j < k; j++) {
				d += 1 + (int32_t)rng_below(a->r, 3);
				if (!in_obs(p, d))
					break;
				struct ev_community ev = {d, p->community, 45, "INTERMEDIATE_CARE",
							  "FACE_TO_FACE", "5", "IC01"};
				pilot_community(a, &ev);
			}
		}
		a->ec.drop = 0;
	}
}

static int in_spell(const struct act *a, int32_t d)
{
	for (int i = 0; i < a->nsp; i++)
		if (a->sp[i].adm <= d && d <= a->sp[i].dis)
			return 1;
	return 0;
}

/* ---- A&E and ambulance ------------------------------------------------------------------- */

static void ae_and_ambulance(struct act *a)
{
	struct person *p = a->p;
	double rate[MAX_MONTHS];
	double dep = 1.0 + 0.08 * (5.5 - p->decile), fr = exp(0.8 * p->frailty);
	for (int m = 0; m < a->M; m++) {
		const struct mstate *s = &a->ms[m];
		rate[m] = 0.85 * ae_base(s->age) * exp(0.40 * need_cap(s->need, 7)) * dep * fr *
			  (s->crisis > 1 ? 2.5 : 1.0) * (1.0 + 2.0 * s->eol) * season_ae[season_of(m)] /
			  365.25;
	}
	int n = gen_days(a, rate, a->days, MAX_DATES);
	static const char *const disp[] = {"03", "02", "04", "05", "06", "11", "12", "13", "07", "14"};
	static const double wdisp[] = {0.45, 0.25, 0.03, 0.03, 0.05, 0.05, 0.06, 0.01, 0.01, 0.06};
	static const double whrg[11] = {0.005, 0.01, 0.03, 0.05, 0.03, 0.06, 0.15, 0.25, 0.22, 0.002, 0.193};
	for (int i = 0; i < n; i++) {
		int32_t d = a->days[i];
		if (in_spell(a, d))
			continue;
		int age = person_age(p, d);
		struct ev_ae ae;
		ae.date = d;
		ae.prov = (uint16_t)other_acute(a, p->acute, 0.12);
		ae.hhmm = (int)rng_below(a->r, 24 * 60);
		int amb = rng_chance(a->r, amb_share(age));
		double u = rng_unif(a->r);
		ae.mode = amb ? "1" : "2";
		ae.cat = u < 0.95 ? "1" : u < 0.98 ? "2" : "3";
		ae.disp = disp[rng_pick(a->r, wdisp, 10)];
		ae.hrg = strcmp(ae.disp, "12") == 0 ? "VB11Z" : synth_ae_hrg[rng_pick(a->r, whrg, 11)];
		if (a->w->o->pilot)
			a->ec.drop = (uint8_t)pilot_drops(a, d, a->w->o->pilot->m_ae);
		emit_ae(&a->ec, &ae);
		if (amb) {
			struct ev_amb am = {d, rng_chance(a->r, 0.6) ? "C2" : "C3", "SEE_CONVEY", "03",
					    ae.prov};
			emit_ambulance(&a->ec, &am);
		}
		a->ec.drop = 0;
	}
	/* Calls resolved without going to hospital. */
	for (int m = 0; m < a->M; m++) {
		const struct mstate *s = &a->ms[m];
		double old = s->age >= 65 ? 2.0 : 1.0;
		rate[m] = 0.37 * old * ae_base(s->age) * exp(0.30 * need_cap(s->need, 7)) * dep *
			  (1.0 + 2.0 * s->eol) * season_ne[season_of(m)] / 365.25;
	}
	n = gen_days(a, rate, a->days, MAX_DATES);
	for (int i = 0; i < n; i++) {
		if (in_spell(a, a->days[i]))
			continue;
		int hear = rng_chance(a->r, 0.33);
		struct ev_amb am = {a->days[i], hear ? (rng_chance(a->r, 0.5) ? "C3" : "C4") : "C3",
				    hear ? "HEAR_TREAT" : "SEE_TREAT", hear ? "01" : "02", -1};
		emit_ambulance(&a->ec, &am);
	}
}

/* ---- outpatients --------------------------------------------------------------------- */

static const char *op_specialty(struct act *a, int32_t d, int age)
{
	struct person *p = a->p;
	static const char *const spec[] = {"320", "340", "307", "361", "370", "430", "400", "410",
		"328", "306", "107", "302", "130", "110", "330", "120", "101", "100", "502", "420",
		"301", "300"};
	double wt[22] = {0};
#define HAS(c) (p->onset[c] <= d)
	if (HAS(C_HF) || HAS(C_CHD) || HAS(C_AF)) wt[0] += 2.0;
	if (HAS(C_COPD) || HAS(C_AST)) wt[1] += 1.2;
	if (HAS(C_DM)) wt[2] += 1.5;
	if (HAS(C_CKD)) wt[3] += 1.0;
	if (HAS(C_CAN)) wt[4] += 4.0;
	if (HAS(C_DEM) || (age >= 80 && HAS(C_OST))) wt[5] += 1.0;
	if (HAS(C_EP) || HAS(C_PD) || HAS(C_MS)) wt[6] += 1.5;
	if (HAS(C_RA)) wt[7] += 1.5;
	if (HAS(C_STIA)) wt[8] += 0.8;
	if (HAS(C_CLD)) wt[9] += 1.2;
	if (HAS(C_PAD)) wt[10] += 1.0;
	if (HAS(C_THY)) wt[11] += 0.3;
#undef HAS
	if (age < 16) {
		wt[19] += 3.0;
		wt[15] += 0.5;
		wt[13] += 0.3;
	} else {
		wt[12] += age >= 60 ? 1.5 : 0.5;
		wt[13] += 1.5;
		wt[14] += 0.8;
		wt[15] += 0.7;
		wt[16] += p->sex == 1 ? 0.8 : 0.3;
		wt[17] += 0.8;
		wt[18] += p->sex == 2 && age < 70 ? 1.0 : 0.0;
		wt[20] += 0.6;
		wt[21] += 0.5;
	}
	return spec[rng_pick(a->r, wt, 22)];
}

static void outpatients(struct act *a)
{
	struct person *p = a->p;
	double rate[MAX_MONTHS];
	for (int m = 0; m < a->M; m++) {
		const struct mstate *s = &a->ms[m];
		double base = s->age < 16 ? 0.35 : 0.25 + 0.010 * s->age;
		rate[m] = base * (1.0 + 0.8 * need_cap(s->need, 8)) * (1.0 - 0.5 * s->eol) / 365.25;
	}
	int n = gen_days(a, rate, a->days, MAX_DATES);
	double dna = 0.06 * (1.0 + 0.06 * (5.5 - p->decile));
	for (int i = 0; i < n; i++) {
		int32_t d = a->days[i];
		if (in_spell(a, d))
			continue;
		int age = person_age(p, d);
		struct ev_op e;
		double u = rng_unif(a->r), v = rng_unif(a->r);
		e.date = d;
		e.prov = (uint16_t)other_acute(a, p->acute, 0.10);
		e.tretspef = op_specialty(a, d, age);
		e.firstatt = u < 0.30 ? "1" : u < 0.85 ? "2" : u < 0.88 ? "3" : "4";
		int remote = e.firstatt[0] == '3' || e.firstatt[0] == '4';
		int first = e.firstatt[0] == '1' || e.firstatt[0] == '3';
		e.hrg = remote ? (first ? "WF01D" : "WF01C") : (first ? "WF01B" : "WF01A");
		e.opcs = NULL;
		if (!remote && v < 0.08) {
			const char *t = e.tretspef;
			if (strcmp(t, "101") == 0)
				e.hrg = "LB72A", e.opcs = "M459";
			else if (strcmp(t, "330") == 0)
				e.hrg = "JC43C", e.opcs = "S062";
			else if (strcmp(t, "110") == 0)
				e.hrg = "HN26A", e.opcs = "W903";
			else if (strcmp(t, "370") == 0)
				e.hrg = "SB97Z", e.opcs = "X352";
			else if (strcmp(t, "301") == 0)
				e.hrg = "FE22Z", e.opcs = "G459";
		}
		double w = rng_unif(a->r);
		e.attended = w < dna ? "3" : w < dna + 0.03 ? "2" : w < dna + 0.065 ? "4"
			     : w < dna + 0.07 ? "7" : w < dna + 0.085 ? "6" : "5";
		emit_op(&a->ec, &e);
	}
}

/* ---- GP appointments -------------------------------------------------------------------------- */

static double gp_base(int age, int sex)
{
	if (age < 5) return 4.5;
	if (age < 16) return 2.0;
	if (age < 45) return sex == 2 ? 3.6 : 2.2;
	if (age < 65) return sex == 2 ? 3.9 : 3.0;
	if (age < 80) return 4.8;
	return 6.0;
}

static void gp(struct act *a)
{
	struct person *p = a->p;
	double rate[MAX_MONTHS];
	double fr = exp(0.5 * p->frailty);
	for (int m = 0; m < a->M; m++) {
		const struct mstate *s = &a->ms[m];
		rate[m] = gp_base(s->age, p->sex) * (1.0 + 0.35 * need_cap(s->need, 8)) * fr *
			  (1.0 + 1.0 * s->eol) * season_gp[season_of(m)] / 365.25;
	}
	int n = gen_days(a, rate, a->days, MAX_DATES);
	double dna = 0.045 * (1.0 + 0.06 * (5.5 - p->decile));
	for (int i = 0; i < n; i++) {
		int32_t d = a->days[i];
		if (in_spell(a, d))
			continue;
		int age = person_age(p, d);
		struct ev_gp e;
		double u = rng_unif(a->r), v = rng_unif(a->r), x = rng_unif(a->r);
		e.date = d;
		e.prac = person_practice_on(p, d);
		if (e.prac < 0)
			continue;
		e.hcp = u < 0.55 ? "GP" : u < 0.85 ? "NURSE" : "OTHER";
		int housebound = age >= 80 || care_home_on(a, d) > 0 || a->ms[world_month(a->w, d)].eol > 0.3;
		if (e.hcp[0] == 'G' && housebound && v < 0.08) {
			e.mode = "HOME_VISIT";
			e.dur = x < 0.6 ? 30 : 45;
		} else if (v < 0.66) {
			e.mode = "FACE_TO_FACE";
			e.dur = e.hcp[0] == 'G' ? (x < 0.6 ? 10 : x < 0.85 ? 15 : 20)
				: e.hcp[0] == 'N' ? (x < 0.4 ? 10 : x < 0.75 ? 15 : x < 0.9 ? 20 : 30)
				: (x < 0.5 ? 15 : x < 0.8 ? 20 : 30);
		} else if (v < 0.97) {
			e.mode = "TELEPHONE";
			e.dur = e.hcp[0] == 'G' ? (x < 0.3 ? 5 : x < 0.9 ? 10 : 15) : 10;
		} else {
			e.mode = "VIDEO";
			e.dur = 10;
		}
		double dd = dna * (age >= 16 && age < 30 ? 1.5 : 1.0);
		e.status = rng_unif(a->r) < dd ? "DNA" : "Attended";
		pilot_gp(a, &e);
	}
}

/* ---- community services ----------------------------------------------------------------- */

struct csvc {
	const char *service, *f2f, *remote;
};
static const struct csvc csvcs[] = {
	{"DISTRICT_NURSING", "N02AF", "N02AN"},
	{"PHYSIOTHERAPY", "A08A1", NULL},
	{"PODIATRY", "A09A", NULL},
	{"DIABETES_NURSING", "N15AF", NULL},
	{"RESPIRATORY_NURSING", "N08AF", NULL},
	{"HEART_FAILURE_NURSING", "N11AF", NULL},
	{"CANCER_NURSING", "N10AF", NULL},
	{"CONTINENCE", "N14AF", NULL},
	{"COMMUNITY_MATRON", "N06AF", NULL},
	{"OCCUPATIONAL_THERAPY", "A06A1", NULL},
	{"SPEECH_LANGUAGE", "A13A1", NULL},
	{"SCHOOL_NURSING", "N05CO", NULL},
};
#define NCSVC (int)(sizeof csvcs / sizeof csvcs[0])

static void community(struct act *a)
{
	struct world *w = a->w;
	struct person *p = a->p;
	double rate[MAX_MONTHS];
	/* Health visiting for babies: new baby review, 6-8 weeks, 1 year, 2 years. */
	static const int hv_day[4] = {12, 49, 365, 760};
	static const char *const hv_code[4] = {"N03B", "N03C", "N03D", "N03E"};
	for (int k = 0; k < 4; k++) {
		int32_t d = p->dob + hv_day[k] + (int32_t)rng_below(a->r, 10);
		if (in_obs(p, d)) {
			struct ev_community ev = {d, p->community, 45, "HEALTH_VISITING", "FACE_TO_FACE",
						  rng_chance(a->r, 0.05) ? "3" : "5", hv_code[k]};
			emit_community(&a->ec, &ev);
		}
	}
	/* Episodes of care, each a short series of contacts. */
	for (int m = 0; m < a->M; m++) {
		const struct mstate *s = &a->ms[m];
		double base = s->age < 5 ? 0.0 : s->age < 65 ? 0.05 : s->age < 75 ? 0.25 : s->age < 85 ? 0.6 : 1.3;
		rate[m] = base * exp(0.45 * need_cap(s->need, 5)) * (s->crisis > 1 ? 1.5 : 1.0) *
			  (1.0 + 4.0 * s->eol) / 365.25;
	}
	int n = gen_days(a, rate, a->days, MAX_DATES);
	for (int i = 0; i < n; i++) {
		int32_t d = a->days[i];
		int age = person_age(p, d), nc = person_ncond(p, d);
		double wt[NCSVC] = {0};
		int eol = a->ms[world_month(w, d)].eol > 0.2;
#define HAS(c) (p->onset[c] <= d)
		if (age >= 16) {
			wt[0] = (age >= 75 ? 3.0 : 0.8) * (eol ? 3.0 : 1.0);
			wt[1] = 1.0 + (HAS(C_OST) + HAS(C_STIA) + HAS(C_RA) + HAS(C_COPD)) * 0.5;
			wt[2] = HAS(C_DM) ? 3.0 : age >= 65 ? 0.5 : 0.1;
			wt[3] = HAS(C_DM) ? 1.5 : 0.0;
			wt[4] = HAS(C_COPD) ? 1.5 : HAS(C_AST) ? 0.3 : 0.0;
			wt[5] = HAS(C_HF) ? 2.0 : 0.0;
			wt[6] = HAS(C_CAN) ? 1.5 : 0.0;
			wt[6] += HAS(C_PC) ? 2.0 : 0.0;
			wt[7] = (age >= 75 ? 0.5 : 0.0) + (HAS(C_DEM) ? 0.5 : 0.0) + (HAS(C_MS) ? 1.0 : 0.0);
			wt[8] = nc >= 4 ? 2.0 : 0.0;
			wt[9] = (age >= 75 ? 0.5 : 0.0) + (HAS(C_STIA) ? 0.8 : 0.0) + (HAS(C_PD) ? 0.8 : 0.0);
			wt[10] = (HAS(C_STIA) ? 0.5 : 0.0) + (HAS(C_PD) ? 0.5 : 0.0) + (HAS(C_DEM) ? 0.3 : 0.0);
		} else {
			wt[11] = 1.0;
			wt[1] = 0.3;
			wt[10] = HAS(C_LD) ? 1.0 : 0.5;
		}
#undef HAS
		int sv = rng_pick(a->r, wt, NCSVC);
		const struct csvc *c = &csvcs[sv];
		const char *f2f = c->f2f;
		if (sv == 2 && p->onset[C_DM] <= d)
			f2f = "A09C";
		int k = 1 + (int)(rng_exp(a->r) * (sv == 0 ? 7.0 : 3.0));
		if (k > 40)
			k = 40;
		int32_t day = d;
		for (int j = 0; j < k; j++) {
			if (j)
				day += 2 + (int32_t)rng_below(a->r, 9);
			if (!in_obs(p, day))
				break;
			int remote = c->remote && rng_chance(a->r, 0.12);
			struct ev_community ev = {day, p->community, 20 + 5 * (int)rng_below(a->r, 9),
						  c->service, remote ? "TELEPHONE" : "FACE_TO_FACE",
						  rng_chance(a->r, 0.04) ? "3" : "5",
						  remote ? c->remote : f2f};
			pilot_community(a, &ev);
		}
	}
}

/* ---- mental health ------------------------------------------------------------------------- */

static void mh_contacts(struct act *a, int cond, double per_year, const char *team,
			const char *const *clusters, int ncl, const char *currency)
{
	struct person *p = a->p;
	double rate[MAX_MONTHS];
	int any = 0;
	for (int m = 0; m < a->M; m++) {
		const struct mstate *s = &a->ms[m];
		int has = p->onset[cond] <= s->e0;
		rate[m] = has ? per_year * (s->crisis > 1 ? 2.0 : 1.0) / 365.25 : 0.0;
		any |= has;
	}
	if (!any)
		return;
	const char *cluster = ncl ? clusters[rng_below(a->r, (uint32_t)ncl)] : NULL;
	int n = gen_days(a, rate, a->days, MAX_DATES);
	for (int i = 0; i < n; i++) {
		struct ev_mh e;
		memset(&e, 0, sizeof e);
		e.date = a->days[i];
		e.prov = p->mh;
		e.team = team;
		e.cluster = cluster;
		e.attended = rng_chance(a->r, 0.08) ? "3" : "5";
		e.currency = currency;
		emit_mh(&a->ec, &e);
	}
}

/* A course of talking therapy: weekly sessions. */
static void talking(struct act *a, int cond, double per_year)
{
	struct person *p = a->p;
	for (int y = 0; y < a->w->years; y++) {
		int32_t d = a->w->fstart[y] + (int32_t)rng_below(a->r, 365);
		int k = 4 + (int)rng_below(a->r, 6);
		if (!rng_chance(a->r, per_year) || p->onset[cond] > d)
			continue;
		for (int j = 0; j < k; j++, d += 7) {
			if (!in_obs(p, d))
				break;
			struct ev_mh e;
			memset(&e, 0, sizeof e);
			e.date = d;
			e.prov = p->mh;
			e.team = "TALKING_THERAPIES";
			e.cluster = NULL;
			e.attended = rng_chance(a->r, 0.1) ? "3" : "5";
			e.currency = "IAPT";
			emit_mh(&a->ec, &e);
		}
	}
}

/* An admission to a mental health ward, written as monthly BEDDAYS rows. */
static void mh_spell(struct act *a, int32_t adm)
{
	struct world *w = a->w;
	struct person *p = a->p;
	int los = lognormal_days(a->r, 35, 0.8, 2, 150);
	int32_t dis = adm + los; /* day of discharge: nights adm .. dis-1 */
	int open = 0;
	if (p->death != NEVER && dis > p->death) {
		dis = p->death;                 /* died on the ward */
	} else if (dis > p->obs1 + 1) {
		dis = p->obs1 + 1;              /* moved away, or still in at the window end */
		open = p->obs1 == w->w1;
	}
	if (dis <= adm)
		return;
	for (int m = world_month(w, adm); m < a->M; m++) {
		int32_t ms = w->mstart[m], me1 = w->mstart[m + 1];
		int32_t s = adm > ms ? adm : ms, e = dis < me1 ? dis : me1;
		if (s >= e)
			break;
		struct ev_mh ev;
		memset(&ev, 0, sizeof ev);
		ev.date = s;
		ev.prov = p->mh;
		ev.bedday = 1;
		ev.spell_start = adm;
		ev.spell_end = (!open && dis <= me1) ? dis : NEVER;
		ev.bed_days = e - s;
		ev.team = "INPATIENT";
		ev.cluster = NULL;
		ev.currency = "MHPS";
		emit_mh(&a->ec, &ev);
	}
}

static void mental_health(struct act *a)
{
	struct person *p = a->p;
	static const char *const cl_smi[] = {"12", "13", "14", "15", "16", "17"};
	static const char *const cl_dem[] = {"18", "19", "20", "21"};
	static const char *const cl_dep[] = {"03", "04"};
	static const char *const cl_anx[] = {"01", "02"};
	mh_contacts(a, C_SMI, 10.0, "CMHT", cl_smi, 6, "MHCC");
	mh_contacts(a, C_DEM, 2.5, "MEMORY", cl_dem, 4, "MHCC");
	mh_contacts(a, C_DEP, 0.2, "CMHT", cl_dep, 2, "MHCC");
	mh_contacts(a, C_ANX, 0.1, "CMHT", cl_anx, 2, "MHCC");
	mh_contacts(a, C_LD, 2.0, "LEARNING_DISABILITY", NULL, 0, "MHCC");
	mh_contacts(a, C_ALC, 1.5, "SUBSTANCE_MISUSE", NULL, 0, "MHCC");
	talking(a, C_DEP, 0.08);
	talking(a, C_ANX, 0.07);
	double rate[MAX_MONTHS];
	for (int m = 0; m < a->M; m++) {
		const struct mstate *s = &a->ms[m];
		double r = 0;
		if (p->onset[C_SMI] <= s->e0)
			r += 0.07 * (s->crisis > 1 ? 3.0 : 1.0);
		if (p->onset[C_DEM] <= s->e0 && s->age >= 70)
			r += 0.015;
		if (p->onset[C_DEP] <= s->e0)
			r += 0.004;
		rate[m] = r / 365.25;
	}
	int n = gen_days(a, rate, a->days, 8);
	int32_t busy = INT32_MIN;
	for (int i = 0; i < n; i++)
		if (a->days[i] > busy + 30) {
			mh_spell(a, a->days[i]);
			busy = a->days[i] + 60;
		}
}

/* ---- death ----------------------------------------------------------------------------------- */

static void death(struct act *a)
{
	struct person *p = a->p;
	if (p->death == NEVER)
		return;
	const char *place;
	double u = rng_unif(a->r);
	if (p->dies_in_hospital)
		place = "HOSPITAL";
	else if (care_home_on(a, p->death) > 0)
		place = "CARE_HOME";
	else if (p->onset[C_PC] != NEVER && p->onset[C_CAN] != NEVER && u < 0.35)
		place = "HOSPICE";
	else
		place = u < 0.85 ? "HOME" : "OTHER";
	const char *cause;
	int32_t d = p->death;
	int age = person_age(p, d);
	if (p->onset[C_CAN] <= d)
		cause = synth_conds[C_CAN].icd[p->variant[C_CAN]];
	else if (p->onset[C_DEM] <= d && age >= 75)
		cause = "F03X";
	else if (p->onset[C_HF] <= d)
		cause = "I509";
	else if (p->onset[C_COPD] <= d)
		cause = "J449";
	else if (p->onset[C_STIA] <= d)
		cause = "I64X";
	else if (p->onset[C_CHD] <= d)
		cause = "I219";
	else if (age >= 65)
		cause = "J189";
	else
		cause = "R99X";
	emit_death(&a->ec, place, cause);
}

/* ---- the person ------------------------------------------------------------------------------ */

int synth_person_activity(struct world *w, struct person *p, struct truth_acc *t)
{
	/* One work area for the whole run (the person loop is single-threaded). */
	if (!w->act && (w->act = yoc_malloc(sizeof(struct act))) == NULL)
		return YOC_ENOMEM;
	struct act *a = w->act;
	memset(t, 0, sizeof *t);
	for (int i = 0; i < YOC_LTC_MAX; i++)
		t->reg_known[i] = NEVER;
	a->w = w;
	a->p = p;
	a->r = &p->r;
	a->M = w->nmonths;
	a->nsp = 0;
	a->npl = 0;
	a->npackage = 0;
	a->ec.w = w;
	a->ec.p = p;
	a->ec.t = t;
	memset(a->ec.seq, 0, sizeof a->ec.seq);
	a->ec.enrol = NEVER;
	a->ec.drop = a->ec.copy = 0;
	a->ec.tcf = NULL;
	build_months(a);
	social_care(a);
	hospital(a);
	struct oc_place pl[MAX_PLACE];
	for (int i = 0; i < a->npl; i++) {
		pl[i].start = a->pl[i].start;
		pl[i].end = a->pl[i].end;
		pl[i].type = (uint8_t)a->pl[i].type;
	}
	synth_outcome_spells(w, p, a->sp, a->nsp, pl, a->npl);
	oracle_risk(a, t);
	if (w->o->pilot)
		synth_pilot_enrol(w, p, &a->ec, prior_emergency(a, w->o->pilot->start));
	emit_register(&a->ec);
	emit_hospital(a);
	ae_and_ambulance(a);
	outpatients(a);
	gp(a);
	community(a);
	mental_health(a);
	emit_social_rows(a);
	death(a);
	synth_outcome_rows(&a->ec, a->sp, a->nsp, pl, a->npl);
	if (a->ec.enrol != NEVER)
		synth_pilot_write(w, p, &a->ec, NULL);
	return t->epi_overflow ? YOC_EINTERNAL : YOC_OK;
}

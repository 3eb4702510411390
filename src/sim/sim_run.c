/*
** The Monte Carlo engine (docs/simulation.md, "Runs"). Each run carries
** every person of the base population forward year by year: the person's
** state (age band, sex, LTC band, cost state) picks a cell of observed
** transitions, one uniform draw picks a donor in it, and the donor's next
** year gives the person's activity, death or move and conditions gained.
** Joiners enter each year at the observed rate with a first year drawn from
** the observed joiners. The scenario is applied to the same person-years
** (common random numbers): enrolled people's activity is scaled by the
** effects, money saved is shifted, and the service's cost added, factor by
** factor, so the difference is exactly the scenario's and its interval
** carries no noise of the population's own course.
**
** Every draw is a pure function of (seed, run, person, year, stream)
** (yoc_sim_u), and a run is computed by one thread from start to end: the
** results do not depend on the number of threads or on the order of people.
*/
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "sim/sim.h"

int yoc__sim_cell(const struct yoc_sim_data *d, int age, int sex, int ltc, int cst,
		  uint32_t *lo, uint32_t *n);

static inline uint64_t mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* yoc_sim_u in steps, so the engine hashes the run once and each person
 * once a run: the same numbers, fewer mixes in the hot loop */
static inline uint64_t run_hash(uint64_t seed, uint32_t run)
{
	return mix(mix(seed ^ 0x5eed5eed5eedULL) ^ run);
}

static inline double u_of(uint64_t hp, uint32_t year, uint32_t stream)
{
	uint64_t h = mix(hp ^ ((uint64_t)year << 32 | stream));
	return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

double yoc_sim_u(uint64_t seed, uint32_t run, uint64_t person, uint32_t year, uint32_t stream)
{
	return u_of(mix(run_hash(seed, run) ^ person), year, stream);
}

/* The effect of an effect on which activity value (LOS handled apart). */
static const int eff_act[SE_N] = {SA_EMERGENCY, -1, SA_AE, SA_OUTPATIENT, SA_COMMUNITY,
				  SA_MH, SA_GP, SA_SOCIAL_CARE, SA_ELECTIVE, SA_DAYCASE,
				  SA_AMBULANCE, SA_OTHER_NEL};

#define PARAM_PERSON 0xfffffffffffffff0ULL

static double draw_uval(const struct yoc_uval *v, uint64_t seed, uint32_t run, uint32_t stream)
{
	if (v->kind == YOC_UV_FIXED)
		return v->a;
	double u1 = yoc_sim_u(seed, run, PARAM_PERSON, 0, stream);
	if (v->kind == YOC_UV_UNIFORM)
		return v->a + (v->b - v->a) * u1;
	double u2 = yoc_sim_u(seed, run, PARAM_PERSON, 1, stream);
	double z = sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
	double x = v->a + v->b * z;
	return x < 0 ? 0 : x;
}

struct job {
	const struct yoc_sim_data *d;
	const struct yoc_scenario *s;
	const struct yoc_sim_opts *o;
	struct yoc_sim_result *r;
	uint32_t (*cell)[2];   /* per state: its donors' range (lo, n) in pool */
	struct yoc_sim_donor *pool; /* donors of each state's cell, contiguous */
	size_t njoin_year;
	atomic_int next;
};

enum { NSTATE = YOC_SIM_NCELL };

static inline int age_band(int age)
{
	return age < 18 ? 0 : age < 45 ? 1 : age < 65 ? 2 : age < 75 ? 3 : age < 85 ? 4 : 5;
}

static inline int ltc_band(int ltc)
{
	return ltc <= 0 ? 0 : ltc == 1 ? 1 : ltc == 2 ? 2 : ltc <= 4 ? 3 : 4;
}

static inline int state_cell(int age, int sex, int ltc, int cst)
{
	return ((age_band(age) * 2 + sex) * YOC_SIM_NLTC + ltc_band(ltc)) *
		       YOC_SIM_NCST +
	       cst;
}

struct runp {
	double uptake, m[SE_N], share[YOC_SIM_MAX_SHIFTS], service;
};

/* The stream of the draws that decide which admissions a service prevents. */
#define STREAM_PREVENT 64

/*
** The share of a person-year's emergency admissions the scenario keeps. A
** multiplier m < 1 prevents admissions, not fractions of them: each of the
** year's k admissions stays with chance m (the person's own draws), so the
** kept share is Binomial(k, m) / k, whose mean is m. The change of a finite
** cohort then varies as a real one does: which admissions, of very
** different lengths and costs, are the ones prevented. With m >= 1, or a
** year of no admissions, the share is m itself.
*/
static double em_keep(double m, double count, uint64_t hp, uint32_t year)
{
	long k = lround(count);
	if (m >= 1.0 || k < 1)
		return m;
	if (k > 64)
		k = 64; /* beyond this the share is m to within a percent or so */
	long kept = 0;
	for (long i = 0; i < k; i++)
		kept += u_of(hp, year, STREAM_PREVENT + (uint32_t)i) < m;
	return (double)kept / (double)k;
}

/* One person-year of an enrolled person: scenario values into sc, changes by factor. */
static void overlay(const struct yoc_scenario *s, const struct runp *p, double ramp,
		    const double *a, double *sc, double *fac, uint64_t hp, uint32_t year)
{
	double m[SE_N];
	for (int k = 0; k < SE_N; k++)
		m[k] = 1.0 + ramp * (p->m[k] - 1.0);
	if (m[SE_EMERGENCY_ADMISSIONS] != 1.0)
		m[SE_EMERGENCY_ADMISSIONS] = em_keep(m[SE_EMERGENCY_ADMISSIONS], a[SA_EM_ADM], hp, year);
	for (int k = 0; k < SA_N; k++)
		sc[k] = a[k];
	for (int k = 0; k < SE_N; k++) {
		int j = eff_act[k];
		if (j < 0 || m[k] == 1.0)
			continue;
		sc[j] = a[j] * m[k];
		fac[k] += sc[j] - a[j];
	}
	if (m[SE_EMERGENCY_ADMISSIONS] != 1.0) {
		sc[SA_EM_ADM] = a[SA_EM_ADM] * m[SE_EMERGENCY_ADMISSIONS];
		sc[SA_EM_BED_DAYS] = a[SA_EM_BED_DAYS] * m[SE_EMERGENCY_ADMISSIONS];
	}
	if (m[SE_LENGTH_OF_STAY] != 1.0) {
		double bd = sc[SA_EM_BED_DAYS];
		sc[SA_EM_BED_DAYS] = bd * m[SE_LENGTH_OF_STAY];
		double dc = (sc[SA_EM_BED_DAYS] - bd) * s->bed_day_cost;
		sc[SA_EMERGENCY] += dc;
		fac[SE_LENGTH_OF_STAY] += dc;
	}
	if (m[SE_MENTAL_HEALTH] != 1.0)
		sc[SA_MH_BED_DAYS] = a[SA_MH_BED_DAYS] * m[SE_MENTAL_HEALTH];
	for (int i = 0; i < s->nshift; i++) {
		int f = eff_act[s->shift[i].from], t = eff_act[s->shift[i].to];
		double saved = a[f] - sc[f];
		if (saved > 0 && p->share[i] != 0) {
			double add = saved * p->share[i];
			sc[t] += add;
			fac[YOC_SIM_F_SHIFT] += add;
		}
	}
}

/* A person of the block being carried forward. */
struct pst {
	uint64_t key, hp;
	int age, sex, ltc, cst, c, y0, enrolled, alive;
};

/* People are carried forward in blocks: each year, the donors of the whole
 * block are picked and prefetched first, then their years are added up, so
 * the random reads of the donor pools overlap instead of waiting in turn. */
#define BLOCK 32

static void run_one(struct job *J, int run)
{
	const struct yoc_sim_data *d = J->d;
	const struct yoc_scenario *s = J->s;
	int Y = J->o->years, NC = J->r->nc;
	uint64_t seed = J->o->seed;
	double *acc = J->r->res + (size_t)run * (size_t)NC * (size_t)Y * SM_N;
	double *par = J->r->param + (size_t)run * YOC_SIM_NPARAM;
	struct runp p;
	memset(&p, 0, sizeof p);
	p.uptake = draw_uval(&s->uptake, seed, (uint32_t)run, 1);
	if (p.uptake > 1)
		p.uptake = 1;
	for (int k = 0; k < SE_N; k++)
		p.m[k] = draw_uval(&s->eff[k], seed, (uint32_t)run, 10 + (uint32_t)k);
	for (int i = 0; i < s->nshift; i++)
		p.share[i] = draw_uval(&s->shift[i].share, seed, (uint32_t)run, 40 + (uint32_t)i);
	p.service = draw_uval(&s->service_cost, seed, (uint32_t)run, 2);
	par[0] = p.uptake;
	for (int k = 0; k < SE_N; k++)
		par[1 + k] = p.m[k];
	par[1 + SE_N] = p.service;
	/* the run's period effect: the level of cost of each simulated year, a
	 * random walk from the base year's level with the spread of the
	 * dataset's own year-on-year changes in cost per person */
	double lf[YOC_SIM_MAX_YEARS];
	double lv = 0;
	for (int y = 0; y < Y; y++) {
		double u1 = yoc_sim_u(seed, (uint32_t)run, PARAM_PERSON, 2 + (uint32_t)y, 3);
		double u2 = yoc_sim_u(seed, (uint32_t)run, PARAM_PERSON, 2 + (uint32_t)y, 4);
		lv += d->period_sd * sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
		lf[y] = exp(lv);
	}

	uint64_t hr = run_hash(seed, (uint32_t)run);
	size_t total = d->n + J->njoin_year * (size_t)Y;
	struct pst ps[BLOCK];
	const struct yoc_sim_donor *dns[BLOCK];
	for (size_t i0 = 0; i0 < total; i0 += BLOCK) {
		int nb = total - i0 < BLOCK ? (int)(total - i0) : BLOCK;
		for (int b = 0; b < nb; b++) {
			struct pst *P = &ps[b];
			size_t i = i0 + (size_t)b;
			memset(P, 0, sizeof *P);
			P->alive = 1;
			if (i < d->n) {
				const struct yoc_sim_person *q = &d->p[i];
				P->key = q->key;
				P->age = q->age;
				P->sex = q->sex;
				P->ltc = q->ltc;
				P->cst = q->cstate;
				P->c = q->cohort;
				P->hp = mix(hr ^ P->key);
				P->enrolled = q->eligible && u_of(P->hp, 0, 1) < p.uptake;
			} else {
				size_t j = i - d->n;
				P->y0 = (int)(j / J->njoin_year);
				P->key = 0x8000000000000000ULL | (uint64_t)P->y0 << 40 |
					 (uint64_t)(j % J->njoin_year);
				P->c = d->ncohort;
				P->hp = mix(hr ^ P->key);
			}
		}
		for (int y = 0; y < Y; y++) {
			/* pick and prefetch the block's donors */
			for (int b = 0; b < nb; b++) {
				struct pst *P = &ps[b];
				const struct yoc_sim_donor *dn = NULL;
				if (P->alive && y >= P->y0) {
					double u = u_of(P->hp, (uint32_t)y, 0);
					if (i0 + (size_t)b >= d->n && y == P->y0) {
						size_t t = (size_t)(u * (double)d->njoin);
						dn = &d->join[t];
						P->age = d->join_age[t];
						P->sex = d->join_sex[t];
						P->ltc = d->join_ltc[t];
					} else {
						int cell = state_cell(P->age, P->sex, P->ltc, P->cst);
						uint32_t lo = J->cell[cell][0], n = J->cell[cell][1];
						if (n == 0) {
							P->alive = 0; /* no one observed in any similar state */
						} else {
							/* the run's bootstrap resample of the cell's
							 * donors: the person's draw picks a slot, the
							 * run maps the slot to a donor drawn with
							 * replacement, so each run also carries the
							 * uncertainty of rates learned from a finite
							 * dataset */
							uint32_t slot = (uint32_t)(u * (double)n);
							double ub = u_of(mix(hr ^ (0xb000000000000000ULL |
										   (uint64_t)cell << 32 | slot)),
									 0, 7);
							dn = &J->pool[lo + (uint32_t)(ub * (double)n)];
						}
					}
					if (dn) {
						__builtin_prefetch(dn);
						__builtin_prefetch((const char *)dn + sizeof *dn - 1);
					}
				}
				dns[b] = dn;
			}
			/* add up their years */
			for (int b = 0; b < nb; b++) {
				const struct yoc_sim_donor *dn = dns[b];
				struct pst *P = &ps[b];
				double a[SA_N], sc[SA_N];
				if (!dn)
					continue;
				double *A = acc + ((size_t)P->c * (size_t)Y + (size_t)y) * SM_N;
				if (dn->outcome == 2) {
					A[SM_MOVED] += 1;
					P->alive = 0;
					continue;
				}
				A[SM_PEOPLE] += 1;
				for (int k = 0; k < SA_N; k++) {
					a[k] = dn->act[k] * lf[y];
					A[SM_BASE + k] += a[k];
				}
				if (P->enrolled) {
					overlay(s, &p, s->ramp[y], a, sc, A + SM_FACTOR, P->hp,
						(uint32_t)y);
					A[SM_ENROLLED] += 1;
					A[SM_SERVICE_COST] += p.service;
					A[SM_FACTOR + YOC_SIM_F_SERVICE] += p.service;
					for (int k = 0; k < SA_N; k++)
						A[SM_SCN + k] += sc[k];
				} else {
					for (int k = 0; k < SA_N; k++)
						A[SM_SCN + k] += a[k];
				}
				if (dn->outcome == 1) {
					A[SM_DIED] += 1;
					P->alive = 0;
					continue;
				}
				P->age = P->age < 120 ? P->age + 1 : P->age;
				P->ltc += dn->dltc;
				P->ltc = P->ltc < 0 ? 0 : P->ltc > 60 ? 60 : P->ltc;
				P->cst = dn->cstate;
			}
		}
	}
}

static void *worker(void *arg)
{
	struct job *J = arg;
	for (;;) {
		int run = atomic_fetch_add(&J->next, 1);
		if (run >= J->o->runs)
			break;
		run_one(J, run);
	}
	return NULL;
}

int yoc_sim_offered(const struct yoc_sim_data *d, const struct yoc_scenario *s, int c)
{
	if (c >= d->ncohort)
		return 0;
	if (s->rule)
		return 1;
	for (int i = 0; i < s->nenrol; i++)
		if (!strcmp(s->enrol[i], d->label[c]))
			return 1;
	return 0;
}

int yoc_sim_run(const struct yoc_sim_data *d, const struct yoc_scenario *s,
		const struct yoc_sim_opts *o, struct yoc_sim_result *r, struct yoc_error *e)
{
	memset(r, 0, sizeof *r);
	if (o->years < 1 || o->years > YOC_SIM_MAX_YEARS || o->runs < 1 ||
	    o->runs > YOC_SIM_MAX_RUNS)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
				     "years 1 to %d and runs 1 to %d", YOC_SIM_MAX_YEARS,
				     YOC_SIM_MAX_RUNS);
	for (int i = 0; i < s->nenrol; i++) {
		int found = 0;
		for (int c = 0; c < d->ncohort; c++)
			found |= !strcmp(s->enrol[i], d->label[c]);
		if (!found) {
			char known[400] = "";
			for (int c = 0; c < d->ncohort; c++) {
				size_t l = strlen(known);
				snprintf(known + l, sizeof known - l, "%s%s", c ? ", " : "", d->label[c]);
			}
			return yoc_error_set(e, YOC_EINVAL, s->path, 0, 0,
					     "cohorts: '%s' is not a cohort of this run (cohorts: %s)",
					     s->enrol[i], known);
		}
	}
	int rc = 0;
	struct job J;
	memset(&J, 0, sizeof J);
	pthread_t th[64];
	int nth = 0;
	struct grp {
		int lv;
		uint32_t lo, n, at;
	} *grp = NULL;
	r->runs = o->runs;
	r->nc = d->ncohort + 1;
	r->years = o->years;
	size_t nres = (size_t)r->runs * (size_t)r->nc * (size_t)r->years * SM_N;
	r->res = yoc_calloc(nres, sizeof *r->res);
	r->param = yoc_calloc((size_t)r->runs * YOC_SIM_NPARAM, sizeof *r->param);
	J.cell = yoc_calloc(NSTATE, sizeof *J.cell);
	grp = yoc_calloc(NSTATE, sizeof *grp);
	if (!r->res || !r->param || !J.cell || !grp) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	/* each state's cell once: the finest level with enough donors; a
	 * state no one was seen in falls back to a lower cost state. The
	 * donors of each distinct cell are copied once into the pool, in the
	 * cell's order, so a draw reads one donor and no index */
	int ngrp = 0;
	size_t npool = 0;
	for (int a = 0; a < YOC_SIM_NAGE; a++)
		for (int sx = 0; sx < 2; sx++)
			for (int l = 0; l < YOC_SIM_NLTC; l++)
				for (int cs = 0; cs < YOC_SIM_NCST; cs++) {
					static const int age_of[YOC_SIM_NAGE] = {10, 30, 55, 70, 80, 90};
					static const int ltc_of[YOC_SIM_NLTC] = {0, 1, 2, 3, 5};
					uint32_t lo = 0, n = 0;
					int lv = -1;
					for (int c2 = cs; c2 >= 0 && lv < 0; c2--)
						lv = yoc__sim_cell(d, age_of[a], sx, ltc_of[l], c2, &lo,
								   &n);
					int cell = state_cell(age_of[a], sx, ltc_of[l], cs);
					J.cell[cell][1] = n;
					if (n == 0)
						continue;
					int g = 0;
					while (g < ngrp && !(grp[g].lv == lv && grp[g].lo == lo))
						g++;
					if (g == ngrp) {
						grp[g].lv = lv;
						grp[g].lo = lo;
						grp[g].n = n;
						grp[g].at = (uint32_t)npool;
						npool += n;
						ngrp++;
					}
					J.cell[cell][0] = grp[g].at;
				}
	J.pool = yoc_malloc((npool ? npool : 1) * sizeof *J.pool);
	if (!J.pool) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	for (int g = 0; g < ngrp; g++)
		for (uint32_t k = 0; k < grp[g].n; k++)
			J.pool[grp[g].at + k] = d->donor[d->idx[grp[g].lv][grp[g].lo + k]];
	J.d = d;
	J.s = s;
	J.o = o;
	J.r = r;
	J.njoin_year = d->njoin ? (size_t)llround(d->join_rate * (double)d->n) : 0;
	atomic_init(&J.next, 0);
	int want = o->threads > 0 ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (want < 1)
		want = 1;
	if (want > 64)
		want = 64;
	if (want > o->runs)
		want = o->runs;
	for (int t = 1; t < want; t++) {
		if (pthread_create(&th[nth], NULL, worker, &J))
			break;
		nth++;
	}
	worker(&J);
	for (int t = 0; t < nth; t++)
		pthread_join(th[t], NULL);
cleanup:
	yoc_free(J.cell);
	yoc_free(J.pool);
	yoc_free(grp);
	if (rc)
		yoc_sim_result_free(r);
	return rc;
}

void yoc_sim_result_free(struct yoc_sim_result *r)
{
	if (!r)
		return;
	yoc_free(r->res);
	yoc_free(r->param);
	memset(r, 0, sizeof *r);
}

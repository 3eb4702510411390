/*
** Internal declarations shared by the files of the analyse module:
**   analyse.c        the run: years, register pass, activity workers
**   analyse_price.c  one activity row: cost, setting, LTC codes (pure rules
**                    of src/cost and src/ltc behind a per-thread cache)
**   analyse_write.c  the output tables
**   analyse_bands.c  currency bands
**   analyse_month.c  each person's months
** Not a public header: nothing outside src/analyse includes it.
*/
#ifndef YOC_ANALYSE_INT_H
#define YOC_ANALYSE_INT_H

#include <pthread.h>
#include <stdint.h>

#include "analyse/analyse.h"
#include "cost/cost.h"
#include "ltc/ltc.h"
#include "store/store.h"
#include "yoc/io.h"

#define AN_MAX_YEARS 32
#define AN_MAX_PROV 4096

/* Settings of care: the cost_* columns of person_year, in column order. */
enum {
	SET_ELECTIVE = 0, SET_NONELECTIVE, SET_DAYCASE, SET_OUTPATIENT, SET_AE, SET_COMMUNITY,
	SET_MH, SET_GP, SET_SOCIAL, SET_AMBULANCE, NSET
};
extern const char *const an_setting_names[NSET];

/* How a row's cost was found (costing_summary.how). */
enum { HOW_PRICED = 0, HOW_AVERAGE, HOW_ZERO, HOW_UNPRICED, HOW_FEED, NHOW };
extern const char *const an_how_names[NHOW];

/* Why a row is left out of person-year costs (unpriced_activity.reason). */
enum { WHY_NO_PRICE = 0, WHY_NO_PSEUDONYM, WHY_NOT_REGISTERED, WHY_OUTSIDE_REG, NWHY };
extern const char *const an_why_names[NWHY];

/*
** One person in one financial year. Updated with atomics by the workers.
** Pence are int32 counters (an_add32): an add that would leave int32 goes
** to R->pwide, summed in when the row is written (an_py_costs).
*/
enum { PY_EMERG = NSET, PY_OTHER_NE, PY_APC_PROV, PY_NCOST };
struct py {
	uint64_t reg_mask;     /* conditions from GP register flags */
	uint64_t icd_mask;     /* conditions from APC diagnoses within the lookback */
	/* [SET_*]: cost by setting; [PY_EMERG], [PY_OTHER_NE]: cost[SET_NONELECTIVE]
	 * split into emergency and other non-elective spells; [PY_APC_PROV]: APC
	 * episodes at their NCC prices (cost to provider) */
	int32_t cost[PY_NCOST];
	int32_t emerg;         /* emergency admissions */
	int32_t other_ne;      /* other non-elective admissions */
	int32_t bed_days;      /* APC bed days (nights) in the year */
	int32_t emerg_bed_days;
	int32_t mh_bed_days;   /* mental health hospital bed days */
	int32_t prac_start;    /* REG_START of the registration giving the practice */
	uint32_t prac;         /* practice id + 1; 0: not registered in the year */
};

/* An add too wide for its int32 counter, by the counter's key. */
struct an_wide {
	uint64_t key;
	int64_t pence;
};
struct an_wides {
	struct an_wide *a;
	size_t n, cap;
};

/* A provider's activity in one setting and year (Figure 7). */
struct pacc {
	int64_t activity, cost;
	uint64_t *people;      /* bit per person index */
};

/* How yoc link found a row's person at source (LINK_STATUS). */
enum { LK_LINKED, LK_CLERICAL, NLK };
extern const char *const an_link_names[NLK];
/* Priced records (APC: spells) whose person was found by linkage. */
struct an_link {
	int64_t records, emergency, cost;
};

struct an_run {
	const struct yoc_analyse_opts *o;
	yoc_store *s;
	yoc_tariff *tariff;
	yoc_ltc *ltc;
	struct yoc_bands bands;
	uint64_t mental_mask;
	const struct yoc_person *persons;
	size_t np;
	struct { uint64_t w[4]; } *keys; /* each pseudonym as 32 bytes, or NULL */
	uint32_t *bucket;               /* first person of each key bucket, and the end */
	int bbits;                      /* bits of a key that name its bucket */
	int fy0, ny;
	int32_t fs[AN_MAX_YEARS + 1];   /* first day of each year, and of the next */
	struct py *py;                  /* [np * ny] */

	/* practices (register pass, single thread) */
	struct yoc_map pracmap;
	char **prac;
	size_t nprac, cprac;

	/* providers (workers, under lock) */
	pthread_mutex_t lock;
	struct yoc_map provmap;
	char *prov[AN_MAX_PROV];
	size_t nprov;
	struct pacc *pacc[AN_MAX_PROV]; /* [ny * NSET] per provider */

	/* APC episodes of linked persons, grouped into spells after the activity pass */
	yoc_spells *spells;

	/* counts [year][kind][...] */
	int64_t why[AN_MAX_YEARS][YOC_KIND_COUNT][NWHY];
	int64_t how_n[AN_MAX_YEARS][YOC_KIND_COUNT][NHOW];
	int64_t how_cost[AN_MAX_YEARS][YOC_KIND_COUNT][NHOW];
	/* linkage_gain: priced activity that reached a person through yoc link */
	struct an_link lk[AN_MAX_YEARS][YOC_KIND_COUNT][NLK];
	/* activity_month: chargeable events and their pence by month (April of
	 * the first year = 0) and setting */
	int64_t mon_n[AN_MAX_YEARS * 12][NSET];
	int64_t mon_cost[AN_MAX_YEARS * 12][NSET];

	/* work queue */
	struct yoc_file_info *files;
	size_t nfiles, next;
	uint64_t rows_done;
	int failed;
	struct yoc_error err;
	struct yoc_progress prog;

	struct yoc_analyse_stats *st;

	struct an_gaps *gaps;           /* analyse_gaps.c */

	/* each person-year's months (analyse_month.c): pence [(p * ny + y) * 12 + m],
	 * adds too wide for them, emergency admissions by month (write-order keys) */
	int32_t *mcost;
	struct an_wides mwide;
	/* person-years' adds too wide for their counters: key (y * np + p) *
	 * PY_NCOST + field */
	struct an_wides pwide;
	uint64_t *memerg;
	size_t nemerg, cemerg;
};

/*
** Adds v to the int32 counter *c by compare-and-swap; when the sum would
** leave int32, v goes whole to list w under key (an_add_wide, taking
** R->lock). Thread safe; exact for any v. 0 or YOC_ENOMEM.
*/
int an_add_wide(struct an_run *R, struct an_wides *w, uint64_t key, int64_t v);
static inline int an_add32(struct an_run *R, int32_t *c, struct an_wides *w, uint64_t key,
			   int64_t v)
{
	if (!v)
		return 0;
	int32_t cur = __atomic_load_n(c, __ATOMIC_RELAXED);
	for (;;) {
		int64_t now = (int64_t)cur + v;
		if (now < INT32_MIN || now > INT32_MAX)
			return an_add_wide(R, w, key, v); /* too wide for the counter */
		if (__atomic_compare_exchange_n(c, &cur, (int32_t)now, 1, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return 0;
	}
}
/* Sorts a list of wide adds by key (once every add is in). */
void an_wides_sort(struct an_wides *w);
/* Person p's pence of year y, wide adds included, into out[PY_NCOST];
 * *at: a cursor into the sorted R->pwide, rows taken in (y, p) order. */
void an_py_costs(const struct an_run *R, int y, size_t p, size_t *at, int64_t out[PY_NCOST]);
/* Person p's counter key for field f of year y in R->pwide. */
static inline uint64_t an_py_key(const struct an_run *R, int y, int32_t p, int f)
{
	return ((uint64_t)y * R->np + (uint64_t)p) * PY_NCOST + (uint64_t)f;
}

/* Worker threads of a pass over nfiles files (--threads, else the CPUs up to 8). */
int an_threads(const struct an_run *R, size_t nfiles);

/* ---- analyse_price.c ----------------------------------------------------- */

/* Per-thread memo of pure price and code-list lookups. */
struct an_cache;
struct an_cache *an_cache_create(void);
void an_cache_free(struct an_cache *c);

/* Result of costing one row. */
struct an_cost {
	int setting;      /* SET_*, -1 if none */
	int how;          /* HOW_* */
	int64_t pence;
};

/* Column positions of one segment, resolved once per segment. */
struct an_cols {
	int kind;
	int cost;                 /* feed cost (YOC_ROLE_COST), -1 */
	int provider;             /* YOC_ROLE_PROVIDER, -1 */
	int classpat, admimeth, epiend, admidate, disdate, epiorder, susspellid, sushrg, currency,
	    attended;
	int bed_days, hcp, status, duration, units, unit_type, service_type;
	int link_status;          /* LINK_STATUS (yoc link at source), -1 */
	int ndiag;
	int diag[64];
};
void an_cols_resolve(const yoc_seg *g, struct an_cols *c);
/* LK_* of row r: how yoc link found its person at source, or -1 (own NHS number). */
int an_link_of(const yoc_seg *g, const struct an_cols *c, size_t r);
/* Cost and setting of row r (activity date d). */
void an_cost_row(const struct an_run *R, struct an_cache *pc, const yoc_seg *g,
		 const struct an_cols *c, size_t r, int32_t d, struct an_cost *out);
/* The episode of APC row r (activity date d = EPISTART) as the spell rules read it. */
void an_apc_episode(const yoc_seg *g, const struct an_cols *c, size_t r, int32_t d,
		    struct yoc_apc_epi *ep);
/* SET_* of a spell type. */
int an_spell_setting(int type);
/* Code-list mask of an APC row's diagnoses. */
uint64_t an_diag_mask(const struct an_run *R, struct an_cache *pc, const yoc_seg *g,
		      const struct an_cols *c, size_t r);
/* An int column that may be typed int or kept as text; YOC_INT_NONE if empty or bad. */
int64_t an_int(const yoc_seg *g, int col, size_t r);

/* Month of the analysed period (0: April of the first year) of day d in year y. */
int an_month_of(int y, int32_t d);

/* ---- analyse_write.c ----------------------------------------------------- */

int an_write(struct an_run *R, struct yoc_error *e);

/* ---- analyse_month.c: each person's months ---------------------------------- */

/* After R->py: the monthly accumulators. */
int an_month_begin(struct an_run *R, struct yoc_error *e);
void an_month_free(struct an_run *R);
/* Person p's pence in month mo of the period (an_month_of); thread safe
 * (takes R->lock for an add too wide for the counter). 0 or YOC_ENOMEM.
 * The key of a wide add is the month's in write order: year, person, month. */
static inline int an_month_cost(struct an_run *R, int32_t p, int mo, int64_t pence)
{
	if (!pence || !R->mcost)
		return 0;
	return an_add32(R, &R->mcost[(size_t)p * (size_t)R->ny * 12 + (size_t)mo], &R->mwide,
			((uint64_t)(mo / 12) * R->np + (uint64_t)p) * 12 + (uint64_t)(mo % 12),
			pence);
}
/* One emergency admission of person p in month mo; one thread (spell_pass).
 * 0 or YOC_ENOMEM. */
int an_month_emergency(struct an_run *R, int32_t p, int mo);
/* Inside an_write's transaction: the person_month table. */
int an_month_write(struct an_run *R, sqlite3 *db, struct yoc_error *e);

/* ---- analyse_gaps.c: gaps in the register ---------------------------------- */

/* After the years are known and R->py allocated: the state (R->gaps). */
int an_gaps_begin(struct an_run *R, struct yoc_error *e);
/* Register pass, before the rows of each snapshot: its provider (the practice). */
int an_gaps_file(struct an_run *R, const char *provider);
/*
** Register pass, each linked row of a snapshot of financial year fy ending
** on p1 (exclusive): rs and re (inclusive, before cutting to the period,
** after cutting to the date of death) and the practice id. Remembers a
** registration still open at the end of the year.
*/
void an_gaps_note(struct an_run *R, int32_t p, int fy, int32_t rs, int32_t re, int32_t p1,
		  uint32_t pid);
/* After the register pass, before the activity pass: the years carried forward. */
int an_gaps_fill(struct an_run *R, struct yoc_error *e);
/* Inside an_write's transaction: the register_gaps table. */
int an_gaps_write(struct an_run *R, sqlite3 *db, struct yoc_error *e);
void an_gaps_free(struct an_run *R);

#endif

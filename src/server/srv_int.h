/*
** Internal declarations of the selection engine, shared by
**   srv_data.c    loading a year, requests, responses
**   srv_engine.c  the query path: per-value bitmaps and sorted indexes that
**                 evaluate the tool's filters as word operations, the packed
**                 rows the aggregation streams over, the monthly figures,
**                 and the answer cache
** Not a public header: nothing outside src/server includes it.
*/
#ifndef YOC_SRV_INT_H
#define YOC_SRV_INT_H

#include <pthread.h>
#include <stdint.h>

#include "rule/rule.h"
#include "server/server.h"

#define MAX_LTC 32
#define MAX_SET 24
#define MAX_CAT 32
#define MAX_COHORT 64
#define NAGE 19 /* 0-4 ... 85-89, 90+ */
#define NACT 4
#define NMONTH 12
#define ROW_MONEY 11 /* cost_total and at most 10 settings in the packed row */
#define MAX_LIST 1000
#define SMALL_LEVELS 64 /* levels of a small whole-number column's index */
#define NLVCOL 4 /* level sets with row lists: emergency admissions, bed days, cost, cost coarse */
#define COARSE 8 /* cost buckets in a coarse one */

struct numcol { const double *v; const uint8_t *null; };
struct txtcol { const int32_t *v; const uint8_t *null; };

/*
** A numeric column as bitmaps: ge[l] (l < nlev) has the rows whose value
** is at least l; the rows of ge[nlev - 1] are also listed by value,
** largest first (tail), for thresholds beyond the levels. Built only for
** columns whose values are whole numbers >= 0 (ok = 0 otherwise). With
** bound (a column's buckets), ge[l] has the rows whose value is at least
** bound[l] (bound[0]: the least value; no tail).
*/
struct numidx {
	int ok, nlev;
	double *bound;
	uint64_t *nonnull;
	uint64_t *ge;        /* nlev bitmaps */
	size_t ntail;
	uint32_t *tail_row;
	double *tail_v;      /* descending */
};

/* One packed row: what the aggregation reads of a person, one cache line. */
struct crow {
	uint8_t key, pyr, band, tier; /* pyramid cell (age band * 2 + sex), 255: none */
	uint16_t mbits;               /* month m had an emergency admission */
	uint8_t flags;                /* 1: an emergency admission in the year; 2: wide;
					 4: packed months not all 0 */
	uint8_t pad;
	uint32_t ltc;                 /* bit k: condition k */
	uint16_t act[NACT];
	uint32_t money[ROW_MONEY];    /* cost_total, then the settings */
};

/* The months of a packed row (emergency admissions, cost in pence). */
struct mrow {
	uint32_t cost[NMONTH];
	uint8_t emerg[NMONTH];
	uint32_t pad;
};

/*
** A person's packed figures and months side by side, two adjacent lines: a
** scattered row costs one trip to memory's page, not two.
*/
struct prow {
	struct crow c;
	struct mrow m;
};

/* A row some figure of which does not fit the packed types: its whole values. */
struct wide {
	uint32_t row;
	int64_t act[NACT];
	int64_t money[ROW_MONEY];
	int64_t mcost[NMONTH], memerg[NMONTH];
};

struct agg {
	int64_t n, ck;
	int64_t pyr[NAGE * 2], pyr_ck[NAGE * 2];
	int64_t ltc[MAX_LTC], ltc_ck[MAX_LTC];
	int64_t band[MAX_CAT], band_ck[MAX_CAT];
	int64_t tier[MAX_CAT], tier_ck[MAX_CAT];
	int64_t act[NACT], emerg_people, emerg_ck;
	int64_t cost_total, cost[ROW_MONEY - 1];
	int64_t mcost[NMONTH], memerg[NMONTH], mpeople[NMONTH], mpeople_ck[NMONTH];
};

/* The filters of a request, checked, as the engine evaluates them. */
struct sel_filter {
	int age_lo, age_hi;        /* -1: none */
	int lc_lo, lc_hi;          /* ltc_count */
	long emerg_min, bed_min;   /* -1: none */
	int64_t cost_min;          /* pence, -1: none */
	uint32_t sex, band, tier;  /* bit per category index; has_* says if filtered */
	int has_sex, has_band, has_tier;
	uint32_t imd;              /* bit d: decile d */
	uint32_t ltc;              /* bit k: condition k */
	int ltc_or;
	uint64_t cohort;           /* bit c: cohort c */
	int has_cohort;
	int32_t prac[MAX_LIST];    /* practice indexes */
	size_t nprac;
	int has_prac;
};

/*
** Some rows (engine rows, increasing: num of them) with their own pre-summed
** blocks over words words of positions (position j is row[j]): a group
** inside them is denser there than among all rows.
*/
struct rowlist {
	uint32_t *row;
	int64_t *pre;
	uint64_t *valid;
	size_t num, words;
};

struct sel_cache;

struct yoc_sel {
	char fyear[16];
	char sig[256];
	yoc_rule_schema *schema;
	yoc_rule_frame *frame;
	size_t n, words;
	uint8_t *key;
	struct numcol age, imd, ltc_count, cost_total, act_col[NACT];
	struct txtcol sex, practice, band, tier;
	int has_tier;
	size_t nltc, nset;
	char ltc_name[MAX_LTC][64];
	struct numcol ltc[MAX_LTC];
	char set_name[MAX_SET][64];
	struct numcol set[MAX_SET];
	int32_t male, female; /* dictionary codes of "1" and "2" (-1 absent) */
	/* categories: dictionary codes present in band, tier, sex, practice */
	int32_t bands[MAX_CAT], tiers[MAX_CAT], sexes[MAX_CAT];
	size_t nbands, ntiers, nsexes;
	int sex_indexed;      /* at most MAX_CAT sexes */
	int cats_unindexed;   /* more than MAX_CAT bands or tiers: those filters by rules */
	int32_t *practices;
	size_t npractices;
	/* cohorts: name and members (bitmap) in the year */
	size_t ncohort;
	char cohort_name[MAX_COHORT][64];
	uint64_t *cohort_bm;  /* ncohort bitmaps */
	/* the query path (srv_engine.c) */
	uint64_t *valid;      /* every row */
	struct numidx ix_age, ix_lc, ix_imd, ix_emerg, ix_bed, ix_cost;
	struct numidx ix_costb; /* cost in SMALL_LEVELS buckets of about as many people */
	uint64_t *sex_bm, *band_bm, *tier_bm, *ltc_bm; /* per category / condition */
	uint32_t *prac_start, *prac_rows; /* rows of practice k: [start[k], start[k+1]) */
	struct prow *rows;
	int has_months;       /* 0: no monthly figures for the year (each m zero) */
	void *rows_base;      /* the rows' allocation (huge-page aligned inside) */
	char months[NMONTH][12];
	struct wide *wide;
	size_t nwide;
	struct agg *pop;      /* every row, wide rows included */
	struct agg *pop_packed; /* every row as packed (wide rows' figures 0) */
	struct sel_cache *cache;
	int rule_path;        /* 1: filters through the rule module (tests) */
	int ncpu;             /* processors online: two threads sum a large group */
	size_t parallel_rows; /* ... of at least this many rows walked (tests lower it) */
	/*
	 * Row order: the engine's row r (every bitmap, index, packed row, wide
	 * row and practice list) is the frame's row perm[r]; inv maps back. The
	 * rows are sorted by sex, age band, number of conditions, band, IMD
	 * decile, tier, age, so that the common filters select runs of rows.
	 */
	uint32_t *perm, *inv;
	/*
	 * Pre-summed blocks of bwords * 64 rows: pre[b * nf + f] is the sum of
	 * struct agg's int64 field pf[f] over the packed rows before block b
	 * (nblocks + 1 entries), so a run of whole blocks adds as one
	 * difference. pf lists the fields that can be non-zero.
	 */
	int64_t *pre;
	uint16_t *pf;
	size_t nf, bwords, nblocks;
	int blocks_off;       /* 1: every row summed one by one (tests, bench) */
	struct rowlist cond[MAX_LTC]; /* condition k's rows */
	size_t nlist;
	uint64_t *any_ltc;    /* the rows with at least one of those conditions */
	/*
	 * The rows of each level l >= 1 of the columns with a threshold filter
	 * (ix_emerg, ix_bed, ix_costb): the rows in ge[l] and not in ge[l + 1];
	 * set 3 has cost's coarse buckets, lv[3][l] the rows in ge[l] and not
	 * in ge[l + COARSE] for l a multiple of COARSE. A group inside "value
	 * >= t" is the union of levels t and up, and is denser in each of them.
	 */
	struct rowlist lv[NLVCOL][SMALL_LEVELS];
	size_t list_walk;     /* rows to walk from which a condition's rows are tried (tests lower it) */
};

/* ---- srv_engine.c ---- */

/* Builds the indexes and packed rows of a loaded s (columns read). YOC_ENOMEM. */
int yoc__sel_engine_build(yoc_sel *s, struct yoc_error *e);
/*
** Frame row i's monthly figures (cost in pence, emergency admissions), after
** yoc__sel_engine_build and with s->mrows allocated; *wcap is the wide
** array's capacity (0 first). YOC_ENOMEM.
*/
int yoc__sel_months_put(yoc_sel *s, size_t i, const int64_t cost[NMONTH],
			const int64_t emerg[NMONTH], size_t *wcap);
/* s->mrows, zeroed. YOC_ENOMEM. */
int yoc__sel_months_alloc(yoc_sel *s);
/* The population's sums, once every row (and month) is packed. */
int yoc__sel_engine_population(yoc_sel *s, struct yoc_error *e);
/* Frees what the engine built (and the cache); s itself stays. */
void yoc__sel_engine_free(yoc_sel *s);
/* ANDs the rows f selects into bm. */
void yoc__sel_filter_eval(const yoc_sel *s, const struct sel_filter *f, uint64_t *bm);
/* ANDs the rows of practice code (dictionary) into bm (none if absent). */
void yoc__sel_practice_mask(const yoc_sel *s, int32_t code, uint64_t *bm);
/* Sums of the rows of bm into a. YOC_ENOMEM. */
int yoc__sel_aggregate(const yoc_sel *s, const uint64_t *bm, struct agg *a);
/*
** (Re)builds the pre-summed blocks of bwords words (64 rows each) once every
** row and month is packed. YOC_ENOMEM.
*/
int yoc__sel_blocks_build(yoc_sel *s, size_t bwords);
/* The smallest condition whose rows hold every row of bm, or -1. */
int yoc__sel_list_for(const yoc_sel *s, const uint64_t *bm);
/*
** The largest level t >= 1 such that every row of bm is in level t or above
** of level set c (0: emergency admissions, 1: bed days, 2, 3: cost buckets) and
** that column has level lists, or 0.
*/
int yoc__sel_level_for(const yoc_sel *s, const uint64_t *bm, int c);
/* The sums of bm's rows one by one, no blocks, no complement, one thread (tests). */
void yoc__sel_aggregate_plain(const yoc_sel *s, const uint64_t *bm, struct agg *a);
/* bm &= fbm, fbm a bitmap of frame rows (the rule module's order). YOC_ENOMEM. */
int yoc__sel_and_frame(const yoc_sel *s, const uint64_t *fbm, size_t fwords, uint64_t *bm);
/* fbm (s->words words, zeroed here) = the frame rows of engine bitmap bm. */
void yoc__sel_to_frame(const yoc_sel *s, const uint64_t *bm, uint64_t *fbm);
/* Index of practice dictionary code c in s->practices, or -1. */
int yoc__sel_practice_index(const yoc_sel *s, int32_t c);

/*
** The answer cache: responses keyed by the normalised filter (the practice
** limit included). A response is a pure function of the group and the
** loaded data, and each load has its own cache. get: 0 and a copy appended
** to out, or YOC_ENOTFOUND. Thread safe.
*/
int yoc__sel_cache_get(const yoc_sel *s, const char *k, size_t klen, struct yoc_buf *out);
void yoc__sel_cache_put(const yoc_sel *s, const char *k, size_t klen, const char *v,
			size_t vlen);
int yoc__sel_cache_create(yoc_sel *s);
void yoc__sel_cache_free(yoc_sel *s);
/* 1: every filter through the rule module, as before the indexes (tests compare). */
void yoc__sel_rule_path(yoc_sel *s, int on);
/* Turns the cache off (0) or on (1) for s (bench: the uncached figures). */
void yoc__sel_cache_enable(yoc_sel *s, int on);

#endif

/*
** The report's internal interface, shared by its files (docs/report.md):
**   report.c          yoc_report_write: the page and pack-section registries
**   report_acc.c      one pass over person_year into the partial (struct acc)
**   report_part.c     the partial packed, merged over shards, finished; the
**                     top groups' exact cut (yoc_report_part_make)
**   report_table.c    published tables (struct ptable), HTML/CSV writers,
**                     disclosure helpers
**   report_xlsx.c     the workbook: one sheet per table of c->tables
**   report_html.c     the shared page frame: header, navigation, footer
**   page_overview.c   index.html: the whole population overview
**   page_practices.c  the table of practices and the practice data packs
**   page_eval.c       evaluation.html: matched-cohort evaluation of a service
**   page_risk.c       risk.html: risk stratification (yoc risk tables)
**   page_cohorts.c    cohorts.html and the packs' cohort section (src/cohort)
** Ownership: struct ctx lives for one yoc_report_write; every ptable, cell
** and string made with yoc__pt_* / yoc__pt_str lives in its arena (c->ar)
** and is freed with it. struct report's partial (R->a) is made once by
** yoc_report_part_make, read by every page, and freed by yoc__report_free.
*/
#ifndef YOC_REPORT_INT_H
#define YOC_REPORT_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>

#include "report/report.h"
#include "yoc/core.h"

#define NSET 10
#define NAGE 19     /* 0-4 ... 85-89, 90+ */
#define NLTC 10     /* 0 ... 8, 9+ */
#define NMM 6       /* 0, 1, 2, 3-4, 5+ LTCs ... and the total */
#define MAXBAND 16
#define MAXCOL 24

extern const char *const yoc__set_col[NSET];   /* person_year cost columns */
extern const char *const yoc__set_name[NSET];  /* their names as published */
extern const char *const yoc__age_name[NAGE];
extern const char *const yoc__ltc_name[NLTC];
extern const char *const yoc__phys_name[5];
extern const char yoc__unknown_label[];        /* "Practice unknown" */
extern const char yoc__banner_text[];          /* the --no-suppression warning */

/* ---- the year's aggregates (report_acc.c) ------------------------------ */

struct grp {
	int64_t n, cost, emerg, mm, mental, age65;
	int64_t set[NSET];
};

struct prac {
	char code[32];
	int unknown;     /* the "practice unknown" group: no organisation, no pack */
	int state;       /* its count's state in the table of practices (yoc_sdc) */
	struct grp all;
	int64_t pop[NAGE][3];
	int64_t ltc[NLTC];
	int64_t band[MAXBAND];
};

#define NDEC 11               /* deprivation: IMD deciles 1..10, unknown */
#define NSTRAT (NAGE * 3)     /* age band x sex */
#define NDMEAS 3              /* deprivation: cost, LTC (1+), emergency admissions */
#define NTOP 5                /* concentration: top 1, 5, 10, 20% and everyone */
#define NBROAD 5              /* concentration: broad age groups */
#define MAXY 32               /* trends: analysed years */

struct dcell {                /* page_deprivation.c: a decile x stratum */
	int64_t n, y[NDMEAS];
};

struct cagg {                 /* page_conditions.c: people with a condition */
	int64_t n, cost, set[NSET];
};

struct ygrp {                 /* page_trends.c: one analysed year */
	char fyear[16];
	int64_t n, ltc1, ltc2, cost, set[NSET];
};

struct topg {                 /* page_concentration.c: a top group by cost */
	int64_t n, cost, ltc, emerg, age[NBROAD], used[NSET];
};

/*
** The year's aggregates: what every page reads of person_year. Filled by
** one catalog's scan (report_part.c), or merged from the shards' scans of
** a sharded dataset: every member is a count or a sum of integers (so the
** merge is exact), or a column of costs (bcost, merged then sorted), or
** the top groups, computed by report_part.c's exact selection.
*/
struct acc {
	struct grp all;
	int64_t pop[NAGE][3];            /* female, male, other/unknown */
	int64_t mm[NAGE][NMM - 1];
	struct grp ltc[NLTC];
	int64_t pm[5][3];
	int64_t pm_cost[5][3];
	int64_t set_people[NSET];
	int nband;
	char band[MAXBAND][8];
	struct grp bandg[MAXBAND];
	int64_t *bcost[MAXBAND];         /* every person's cost, for percentiles: sorted
					  * runs (one per merged shard), one sorted run
					  * after yoc__part_finish */
	size_t bcap[MAXBAND];
	size_t *brun[MAXBAND];           /* where each run after the first starts */
	size_t nbrun[MAXBAND];
	int64_t age_cost[NAGE];          /* cost by age band */
	__int128 sumsq;                  /* sum of cost squared, exact */
	struct prac *prac;               /* practices; sorted by the practices page */
	size_t nprac, cprac;
	struct yoc_map pmap;
	/* page_compare.c: by age band and sex (people: pop) */
	int64_t as_cost[NAGE][3], as_emerg[NAGE][3], as_mm[NAGE][3];
	__int128 as_sq[NAGE][3];
	/* page_deprivation.c */
	struct dcell dep[NDEC][NSTRAT];
	/* page_conditions.c: the condition columns, each one's people, and
	 * pairs and triples (n, cost) indexed [a][b] and [a][b][c] over ncond */
	int ncond;
	char cond[64][48];
	struct cagg *cagg;
	int64_t *pair, *tri;
	/* page_trends.c: every analysed year, in year order */
	int nyear;
	struct ygrp year[MAXY];
	/* page_concentration.c */
	struct topg top[NTOP];
	int64_t *allc;                   /* every cost, ascending (made by yoc__part_finish) */
	/* this catalog's person-years of the year as the top groups count them
	 * (yoc__part_scan; neither packed nor merged) */
	struct trow *trow;
	size_t ntrow, ctrow;
};

/* A person-year of the year reported, as a top group counts it. */
struct trow {
	int64_t cost, ltc;
	int64_t rowid;                   /* in person_year: its pseudonym, for a tie */
	uint16_t used;                   /* bit k: cost in setting k */
	uint8_t emerg;                   /* any emergency admission */
	uint8_t age;                     /* broad age group (NBROAD) */
};

struct pack_tabs;                        /* page_practices.c */
struct compare;                          /* page_compare.c */
struct yoc_caveat;                       /* src/quality */

struct report {
	struct acc a;
	char fyear[16];
	char bands_spec[256];
	char meta[1024];
	/* published counts of the index tables whose cells the practice packs
	 * split by practice (YOC_SDC_HIDDEN where hidden); set by the overview */
	int64_t pop_pub[(NAGE + 1) * 4], band_pub[MAXBAND + 1], ltc_pub[NLTC + 1];
	struct pack_tabs *packs;         /* the packs' protected counts; owned */
	struct compare *cmp;             /* standardised ratios (page_compare.c); owned */
	struct yoc_caveat *caveats;      /* data-quality caveats (page_summary.c); owned */
	size_t ncaveats;
	int caveats_read;
};

/* Frees what R owns (not R itself). */
void yoc__report_free(struct report *R);

/* ---- the mergeable partial (report_part.c) ------------------------------ */

/* Scans one catalog's person_year for fyear into a (zeroed first; a->pmap
 * initialised here; bands in the order met, put in name order by
 * yoc__part_finish) and keeps the year's rows as the top groups count them
 * (a->trow). No order statistics beyond bcost; not the years. */
int yoc__part_scan(sqlite3 *db, const char *fyear, struct acc *a, struct yoc_error *e);
/* Every analysed year of one catalog (people, LTC prevalence, cost), in
 * year order, the first MAXY into year[] (*nyear of them), and the latest
 * year of all into latest (16 bytes; "" when person_year is empty): one
 * streaming read of person_year, grouped here rather than sorted by SQL.
 * Errors name dbpath. */
int yoc__part_years(sqlite3 *db, const char *dbpath, struct ygrp *year, int *nyear,
		    char *latest, struct yoc_error *e);
/* Serialises a (host byte order) into b; reads it back into a zeroed a. */
int yoc__part_pack(const struct acc *a, struct yoc_buf *b);
int yoc__part_unpack(const void *p, size_t n, struct acc *a, struct yoc_error *e);
/* Adds x into a: counts and sums added, keyed groups (bands, practices,
 * years) matched by name, cost columns appended. */
int yoc__part_merge(struct acc *a, const struct acc *x, struct yoc_error *e);
/* Sorts the cost columns and makes a->allc (after the last merge). */
int yoc__part_finish(struct acc *a, struct yoc_error *e);
/* The thresholds of the top groups from a finished a: group t is the
 * people with cost > v[t], and of those with cost == v[t] the m[t] first
 * by pseudonym (m[t] = ties[t]: all of them). */
void yoc__part_top_cut(const struct acc *a, int64_t v[NTOP], int64_t m[NTOP],
		       int64_t ties[NTOP]);
/* Frees what a owns. */
void yoc__acc_free(struct acc *a);
/* report_acc.c: the index of band b in a (added; -1 when MAXBAND are in
 * use), the practice of code (added), the condition arrays of a->ncond. */
int yoc__band_index(struct acc *a, const char *b);
struct prac *yoc__prac_get(struct acc *a, const char *code);
int yoc__cond_alloc(struct acc *a);
/* page_conditions.c: the condition columns of person_year in code-list
 * order (ids; labels too when label is not NULL), at most max. */
int yoc__conditions(sqlite3 *db, char (*id)[48], char (*label)[128], int max);

/* The merged partial handed to yoc_report_write (report.h). */
struct yoc_report_part {
	char fyear[16];
	char state[65];          /* sharded: the state hash over the shards'; "" otherwise */
	struct acc a;
};
extern const int yoc__top_pct[NTOP];
int yoc__i64_cmp(const void *x, const void *y);

/* ---- published tables (report_table.c) --------------------------------- */

enum { K_TEXT, K_COUNT, K_PENCE, K_PCT, K_REAL, K_NUM, K_RATIO, K_R2 };  /* K_REAL: 4 decimals, K_R2: 3 (R squared), K_RATIO: 2 */
extern const int yoc__kinds_count[13];   /* K_TEXT then K_COUNT x 12 */

struct pcell {
	int64_t i;       /* K_COUNT: a published count; K_PENCE: pence */
	double d;        /* K_PCT, K_REAL, K_NUM */
	const char *s;   /* K_TEXT; not copied: static or yoc__pt_str */
	int hidden;      /* shown as * */
	unsigned char kind; /* 0: the column's kind; else this cell's kind + 1 (a
			     * table of measures in rows: key figures) */
};
/* The kind of cell p of column col of t. */
#define yoc__cell_kind(t, col, p) ((p)->kind ? (int)(p)->kind - 1 : (t)->kinds[col])

struct ptable {
	const char *id;      /* file name: csv/ID.csv; "practices/..." for packs */
	const char *title, *note;
	int ncols, nrows, cap;
	const char *cols[MAXCOL];
	int kinds[MAXCOL];
	struct pcell *cells; /* nrows x ncols */
	struct ptable *next;
};

struct yoc__page;
struct yoc__pack_section;

struct ctx {
	const struct yoc_report_opts *o;
	struct yoc_arena ar;            /* every table, cell and copied string */
	struct ptable *tables, *last;   /* the report's tables (CSV + workbook), in order */
	struct yoc_error *e;
	const struct yoc__page *pages;  /* the page registry (report.c) */
	int npages, page;               /* ... and the page being built */
	const unsigned char *absent;    /* per page: 1 when its present() said no */
	long files;
	int oom;
	int in_pack;                    /* a practice pack is being built (one level down) */
	struct yoc__manifest *man;      /* the run manifest (report_manifest.c); owned */                        /* set by any helper that ran out of memory */
};

/* A new table of ncols columns (cols and kinds are copied; strings are not).
 * NULL (and c->oom) when out of memory. */
struct ptable *yoc__pt_new(struct ctx *c, const char *id, const char *title,
			   const char *note, int ncols, const char *const *cols,
			   const int *kinds);
/* Appends a zeroed row; returns its ncols cells. */
struct pcell *yoc__pt_row(struct ctx *c, struct ptable *t);
/* Copies s into the arena (for cells, ids and titles built on the stack). */
const char *yoc__pt_str(struct ctx *c, const char *s);
void yoc__set_count(struct pcell *p, int64_t published);  /* YOC_SDC_HIDDEN -> * */
void yoc__set_pence(struct pcell *p, int64_t v, int ok);  /* !ok -> * */
void yoc__set_pct(struct pcell *p, double v, int ok);     /* !ok or NaN -> * */
/* Adds t to c->tables: written as csv/ID.csv and a workbook sheet. */
void yoc__add_table(struct ctx *c, struct ptable *t);
/* Writes t as an HTML table (with its CSV link) into b. */
int yoc__html_table(struct ctx *c, struct yoc_buf *b, const struct ptable *t);
/* Writes OUT/csv/ID.csv now (pack tables; c->tables are written by report.c). */
int yoc__write_csv(struct ctx *c, const struct ptable *t);
/* Writes b to path atomically. */
int yoc__write_buf(struct ctx *c, const char *path, const struct yoc_buf *b);

/* Disclosure helpers: a table of counts nr x nc (totals in the last row if
 * tr, last column if tc) through yoc_sdc_protect; error set in c->e. */
int yoc__protect(struct ctx *c, int nr, int nc, int tr, int tc, const int64_t *v,
		 unsigned char *state, int64_t *out);
/* Sums of money beside their total: hides more until none can be derived. */
void yoc__protect_sums(int n, const int64_t *v, int *hidden);
double yoc__pub_pct(int64_t num, int64_t den);   /* NaN if either is hidden */
double yoc__dv(int64_t published);               /* NaN if hidden */

/* A table or view of that name is in the catalog (the pages' present hooks). */
int yoc__report_has_table(sqlite3 *db, const char *name);

/* ---- the workbook (report_xlsx.c) --------------------------------------- */

int yoc__write_xlsx(struct ctx *c, const char *meta_note);

/* ---- pages (report_html.c, page_*.c) ------------------------------------- */

/*
** A page of the report: OUT/file, titled title, listed in every page's
** navigation as label. build writes the body between the shared header
** (yoc__page_start) and footer (yoc__page_end); tables it publishes go
** through yoc__add_table to reach the CSVs and the workbook. present, when
** not NULL, says whether the dataset has what the page shows (0: the page is
** neither written nor linked, e.g. no risk scores); NULL: always present.
*/
struct yoc__page {
	const char *file, *label, *title;
	int (*build)(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b);
	int (*present)(sqlite3 *db, const struct report *R);
};

/*
** A section of every practice data pack, in registry order: writes its
** HTML into b and its tables as csv/practices/CODE_NAME.csv (yoc__write_csv).
*/
struct yoc__pack_section {
	const char *name;
	int (*build)(struct ctx *c, sqlite3 *db, struct report *R, const struct prac *p,
		     struct yoc_buf *b);
};

/* The header of a page (title, banner, disclosure note, and the navigation
 * of the registry's pages when there are several) and its footer. */
int yoc__page_start(struct ctx *c, struct yoc_buf *b, const char *title, const char *meta);
int yoc__page_end(struct ctx *c, struct yoc_buf *b);
/* A practice pack's navigation: back to every page of the registry. */
int yoc__pack_nav(struct ctx *c, struct yoc_buf *b);

int yoc__page_overview(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b);
int yoc__page_conditions(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b);
int yoc__page_trends(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b);
int yoc__page_deprivation(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b);
int yoc__page_concentration(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b);
/* evaluation.html: the eval_* tables of yoc evaluate (page_eval.c). */
int yoc__page_eval(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b);
int yoc__page_eval_present(sqlite3 *db, const struct report *R);
/* risk.html (present when risk_pyramid has the year) and its pack section. */
int yoc__page_risk(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b);
int yoc__risk_present(sqlite3 *db, const struct report *R);
int yoc__pack_risk(struct ctx *c, sqlite3 *db, struct report *R, const struct prac *p,
		   struct yoc_buf *b);
/* index.html's executive summary (top) and data-quality caveats (page_summary.c). */
int yoc__summary_section(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b);
int yoc__caveats_section(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b);
/* cohorts.html (present when a cohort is defined) and the packs' cohort section. */
int yoc__page_cohorts(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b);
int yoc__cohorts_present(sqlite3 *db, const struct report *R);
int yoc__pack_cohorts(struct ctx *c, sqlite3 *db, struct report *R, const struct prac *p,
		      struct yoc_buf *b);
/* sim.html (present when a simulation is stored). */
int yoc__page_sim(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b);
int yoc__sim_present(sqlite3 *db, const struct report *R);
/* budget.html (present when yoc tariff build has run). */
int yoc__page_budget(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b);
int yoc__budget_present(sqlite3 *db, const struct report *R);
/* rrr.html (present when yoc rrr has run) and careplan.html (yoc careplan). */
int yoc__page_rrr(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b);
int yoc__rrr_present(sqlite3 *db, const struct report *R);
int yoc__page_careplan(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b);
int yoc__careplan_present(sqlite3 *db, const struct report *R);

/* kpi.html (present when yoc kpi has run; page_kpi.c). */
int yoc__page_kpi(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b);
int yoc__kpi_present(sqlite3 *db, const struct report *R);
int yoc__pack_kpi(struct ctx *c, sqlite3 *db, struct report *R, const struct prac *p,
		  struct yoc_buf *b);

/* The table of practices (part of the overview; protects the packs' counts
 * into R->packs) and the packs themselves, one page per practice. */
int yoc__practices_section(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b);
int yoc__packs_write(struct ctx *c, sqlite3 *db, struct report *R,
		     const struct yoc__pack_section *sec, int nsec);
void yoc__packs_free(struct report *R);
/* A practice's code as a file name. */
void yoc__safe_name(const char *code, char *out, size_t n);

/* The pack sections of today's packs (page_practices.c). */
int yoc__pack_key_figures(struct ctx *c, sqlite3 *db, struct report *R,
			  const struct prac *p, struct yoc_buf *b);
int yoc__pack_population(struct ctx *c, sqlite3 *db, struct report *R,
			 const struct prac *p, struct yoc_buf *b);
int yoc__pack_bands(struct ctx *c, sqlite3 *db, struct report *R, const struct prac *p,
		    struct yoc_buf *b);
int yoc__pack_ltc(struct ctx *c, sqlite3 *db, struct report *R, const struct prac *p,
		  struct yoc_buf *b);
int yoc__pack_cost(struct ctx *c, sqlite3 *db, struct report *R, const struct prac *p,
		   struct yoc_buf *b);

/* ---- provenance (report_manifest.c) -------------------------------------- */

/*
** The run manifest: yoc version, reference data (paths recorded by analyse,
** versions, SHA-256 of the files), parameters, and the dataset state hash
** (docs/report.md "Provenance"). Built once before the pages; every page's
** footer and the workbook cite it, and OUT/manifest.json holds it whole
** with the SHA-256 of every file written.
*/
struct yoc__manifest {
	char state[65];          /* SHA-256 of the dataset state, hex */
	pthread_t th;            /* computes state beside the accumulation */
	int running, trc;
	int given;               /* state is a sharded report's (yoc_report_opts.part) */
	struct yoc_error te;
	const char *db;
	struct yoc_buf ref;      /* JSON array of reference data */
	struct yoc_buf params;   /* JSON object of parameters */
	char line[600];          /* one line for footers and the workbook */
	int64_t loaded;          /* the last load's end (Unix time; 0 unknown): the
				  * workbook's creation time, so a rerun writes the same bytes */
};
/* Starts hashing the dataset state on a thread of its own (its own
 * read-only connection), so that it costs no wall time beside the
 * accumulation when a second core is free; then builds the rest. */
int yoc__manifest_start(struct ctx *c);
int yoc__manifest_build(struct ctx *c, sqlite3 *db, struct report *R);
/* Writes OUT/manifest.json listing every file under OUT with its SHA-256. */
int yoc__manifest_write(struct ctx *c, const struct report *R);
void yoc__manifest_free(struct ctx *c);
/* The SHA-256 of the dataset state (person_year, analyse_run, the load log). */
int yoc__dataset_state(sqlite3 *db, char hex[65], struct yoc_error *e);

/* ---- fair practice comparison (page_compare.c) --------------------------- */

#define NMEAS 3          /* cost, emergency admissions, people with 2+ LTCs */

struct cmp_ratio {
	int ok;              /* shown */
	double obs, exp;     /* published observed (pounds or a count), expected */
	double ratio, lo, hi; /* observed / expected and its 95% interval */
	int pos;             /* funnel: 0 below 99.8%, 1 below 95%, 2 within, 3, 4 above */
};

struct cmp_unit {            /* a practice, or a primary care network */
	char pcn[24], pcn_name[96];
	int hidden, members;
	int missing[NMEAS];
	int64_t people;      /* published */
	struct cmp_ratio r[NMEAS];
};

struct compare {
	size_t np, npcn;
	struct cmp_unit *prac;   /* R->a.prac's order (sorted by the overview) */
	struct cmp_unit *pcn;    /* networks, by code */
	int mapped;              /* practices the PCN mapping names */
	double phi;              /* cost: variance-to-mean ratio, pounds */
};

/* practices.html: builds R->cmp (after the overview), writes the page. */
int yoc__page_compare(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b);
int yoc__pack_compare(struct ctx *c, sqlite3 *db, struct report *R, const struct prac *p,
		      struct yoc_buf *b);
void yoc__compare_free(struct report *R);

#endif

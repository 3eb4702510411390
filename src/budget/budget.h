/*
** Capitated budgets (docs/budget.md): tariff categories by number and type
** of long-term condition (ordered rules of the rule language), the service
** map (what is inside the budget), Year of Care tariffs built from
** person_year, the budget and its monthly payment schedule from the cohort
** register, and the financial risk of a cohort of a given size.
**
** Files: budget_cat.c (category files, categorising person-years),
** budget_map.c (the service map: parse, check, decide), budget_tariff.c
** (tariff build, trims, merges, modifications; tables tariff and
** tariff_build), budget_pay.c (budget, payment schedule, pro-rating by
** days), budget_risk.c (bootstrap of cost against budget; risk-share
** settlement).
**
** Money is int64 pence everywhere. Nothing here prints or exits; functions
** return 0 or a negative enum yoc_status with the message (and the file and
** line of a bad input) in a struct yoc_error.
*/
#ifndef YOC_BUDGET_H
#define YOC_BUDGET_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "cost/cost.h"
#include "store/store.h"
#include "yoc/core.h"

/* Exposure units: a day of a 365-day year is 366 units, of a 366-day year
 * 365 units, so a whole year of either length is 133,590 units and sums of
 * exposure stay exact integers. */
#define YOC_BUDGET_YEAR_UNITS 133590

/* Settings of care: the cost_* columns of person_year, in their order. */
enum {
	YOC_BSET_ELECTIVE = 0, YOC_BSET_NONELECTIVE, YOC_BSET_DAYCASE, YOC_BSET_OUTPATIENT,
	YOC_BSET_AE, YOC_BSET_COMMUNITY, YOC_BSET_MH, YOC_BSET_GP, YOC_BSET_SOCIAL,
	YOC_BSET_AMBULANCE, YOC_BSET_COUNT
};
/* "elective", ..., "social_care", "ambulance" (column cost_NAME); -1 unknown. */
const char *yoc_budget_setting_name(int set);
int yoc_budget_setting_of(const char *name, size_t n);

/* Round half away from zero of num / den (den > 0), exact. */
int64_t yoc_budget_div_round(__int128 num, __int128 den);
/* Exposure units of `days` days in a year of `year_days` (365 or 366) days. */
static inline int64_t yoc_budget_units(int64_t days, int year_days)
{
	return days * (YOC_BUDGET_YEAR_UNITS / year_days);
}

/* ---- categories (budget_cat.c) ------------------------------------------ */

/*
** A category file: "# version: V" (optional), comments (#) and blank lines,
** then one category a line in priority order:
**     NAME [< PARENT] : RULE
** NAME and PARENT are [A-Za-z0-9_]+ (1-47 characters); PARENT names a
** category of the file, into which this one is merged when it has too few
** person-years. A person-year is in the first category whose rule is TRUE.
*/
typedef struct yoc_budget_cats yoc_budget_cats;
/* Parses text (name: the file name for errors). Rules are only checked for
 * syntax here; yoc_budget_categorise compiles them against the dataset. */
int yoc_budget_cats_parse(const char *text, size_t n, const char *name,
			  yoc_budget_cats **out, struct yoc_error *e);
int yoc_budget_cats_load(const char *path, yoc_budget_cats **out, struct yoc_error *e);
void yoc_budget_cats_free(yoc_budget_cats *c);
size_t yoc_budget_cats_count(const yoc_budget_cats *c);
const char *yoc_budget_cats_name(const yoc_budget_cats *c, size_t i);
/* Index of the parent, or -1. */
int yoc_budget_cats_parent(const yoc_budget_cats *c, size_t i);
const char *yoc_budget_cats_rule(const yoc_budget_cats *c, size_t i);
long yoc_budget_cats_line(const yoc_budget_cats *c, size_t i);
const char *yoc_budget_cats_version(const yoc_budget_cats *c);
const char *yoc_budget_cats_text(const yoc_budget_cats *c); /* the whole file */
/* Index of a category by name, or -1. */
int yoc_budget_cats_find(const yoc_budget_cats *c, const char *name);

/* The person-years of one year with their category. */
struct yoc_budget_assign {
	size_t n;
	char (*pseudo)[72];  /* in pseudo_id order */
	int *cat;            /* category index */
};
/*
** Categorises every person-year of fyear: the first rule TRUE wins. A rule
** that does not compile gives its line and column; person-years no rule
** catches give YOC_EDATA naming the last line of the file and the first
** such person-year. Empty year: YOC_ENOTFOUND.
*/
int yoc_budget_categorise(sqlite3 *db, const yoc_budget_cats *c, const char *fyear,
			  struct yoc_budget_assign *out, struct yoc_error *e);
void yoc_budget_assign_free(struct yoc_budget_assign *a);

/* ---- service map (budget_map.c) ------------------------------------------ */

struct yoc_smap_line {
	long line;              /* in the file */
	int in;                 /* 1 inside the budget, 0 outside */
	int32_t from, to;       /* effective dates, inclusive; to INT32_MAX: open */
	int setting;            /* YOC_BSET_*, -1 any */
	char pod[32];           /* POD name (yoc_pod_name), "" any */
	char hrg[16];           /* HRG prefix or treatment function, "" any */
	char provider[32];      /* provider code, "" any */
	char note[160];
};
typedef struct yoc_smap yoc_smap;
/*
** Parses a service map CSV (docs/budget.md). Errors name the line: a bad
** field, two lines with the same scope and overlapping dates (overlap), or
** two lines of equal specificity that can both match one row on one day
** with different decisions (contradiction).
*/
int yoc_smap_parse(const char *text, size_t n, const char *name, yoc_smap **out,
		   struct yoc_error *e);
int yoc_smap_load(const char *path, yoc_smap **out, struct yoc_error *e);
void yoc_smap_free(yoc_smap *m);
const char *yoc_smap_version(const yoc_smap *m);
size_t yoc_smap_count(const yoc_smap *m);
const struct yoc_smap_line *yoc_smap_line_at(const yoc_smap *m, size_t i);
/*
** The decision for one row: the most specific line that matches on date
** (-1 when none: outside the budget). Empty strings match only "any".
** Returns 1 inside, 0 outside; *line (may be NULL) the deciding line's index.
*/
int yoc_smap_decide(const yoc_smap *m, int setting, const char *pod, const char *hrg,
		    const char *provider, int32_t date, long *line);
/*
** Whole-setting decisions on date: in[s] 1 when the setting is inside.
** partial[s] 1 when a narrower line (by POD, HRG or provider) also applies
** to the setting on that date: the tariff, built from person_year's costs
** by setting, cannot apply it (tagging does).
*/
void yoc_smap_settings(const yoc_smap *m, int32_t date, int in[YOC_BSET_COUNT],
		       int partial[YOC_BSET_COUNT]);

/* ---- tariffs (budget_tariff.c) ------------------------------------------- */

enum yoc_trim_kind { YOC_TRIM_NONE = 0, YOC_TRIM_PCT, YOC_TRIM_WINSOR, YOC_TRIM_SD };
struct yoc_trim {
	int kind;
	double lo, hi;  /* percentiles (PCT, WINSOR) */
	double k;       /* SD */
};
/* "none", "pct:LO,HI", "winsor:LO,HI", "sd:K". Default pct:5,97. */
int yoc_trim_parse(const char *spec, struct yoc_trim *t, struct yoc_error *e);

struct yoc_uplift {
	double inflation, efficiency, demography, scenario; /* percent */
};
/* "inflation=2.1,efficiency=-1.1,demography=0.4,scenario=0" (any subset). */
int yoc_uplift_parse(const char *spec, struct yoc_uplift *u, struct yoc_error *e);
/* tariff = round half away(base x (1+i)(1+e)(1+d)(1+s)), each a percent / 100. */
int64_t yoc_uplift_apply(const struct yoc_uplift *u, int64_t base);

/* One person-year of a base year, as the tariff sees it. */
struct yoc_tpy {
	int cat;         /* category index */
	int fyear;
	int64_t days;    /* days of exposure in the year */
	int64_t units;   /* exposure units */
	int64_t cost;    /* in-scope cost, pence */
	char pseudo[72];
};

struct yoc_tariff_opts {
	const char *categories;   /* path (NULL: data/tariff_categories.txt found by caller) */
	const char *service_map;  /* path */
	const int *fyears;        /* base years */
	size_t nyears;
	struct yoc_trim trim;
	struct yoc_uplift uplift;
	double min_py;            /* categories below this exposure merge (default 30) */
	int32_t as_of;            /* service map date (0: day after the last base year) */
	const char *spec_trim, *spec_uplift; /* texts recorded in tariff_build */
};
void yoc_tariff_opts_init(struct yoc_tariff_opts *o);

struct yoc_tariff_row {
	char category[48];
	char parent[48];
	char pool[48];          /* the category whose pooled tariff applies */
	int order;
	int64_t n;              /* person-years */
	int64_t units;          /* exposure units */
	int64_t cost;           /* in-scope cost, pence */
	int64_t trim_low, trim_high;   /* person-years removed (or winsorised) */
	int64_t trim_units;     /* exposure units removed */
	int64_t trim_cost;      /* pence removed */
	int64_t base;           /* annual tariff before modifications, pence */
	int64_t tariff;         /* after modifications, pence */
	char note[160];
};
struct yoc_tariff_result {
	int version;
	size_t nrows;
	struct yoc_tariff_row *rows;   /* in category order */
	int in[YOC_BSET_COUNT], partial[YOC_BSET_COUNT];
};
/*
** Builds tariffs from person_year of the base years and writes a new
** version of the tables tariff and tariff_build in one transaction.
** Categories and service map are read from the paths in o.
*/
int yoc_tariff_build(sqlite3 *db, const struct yoc_tariff_opts *o,
		     struct yoc_tariff_result *res, struct yoc_error *e);
void yoc_tariff_result_free(struct yoc_tariff_result *r);

/*
** The person-years of one year with category and in-scope cost under the
** settings in[] (exposure from the person table). *out owned by the caller
** (yoc_free).
*/
int yoc_tariff_person_years(sqlite3 *db, const yoc_budget_cats *c, int fyear,
			    const int in[YOC_BSET_COUNT], struct yoc_tpy **out, size_t *n,
			    struct yoc_error *e);

/*
** A stored tariff: version (0: latest), its categories file text, settings
** in scope and per-category annual tariff (pence), in category order.
*/
struct yoc_tariff_stored {
	int version;
	yoc_budget_cats *cats;
	yoc_smap *map;          /* the service map the tariff was built with */
	int in[YOC_BSET_COUNT];
	int64_t *tariff;        /* [ncats] */
	int64_t *expected;      /* [ncats] pooled untrimmed mean per year, pence */
	int last_year;          /* last base year */
};
int yoc_tariff_load_stored(sqlite3 *db, int version, struct yoc_tariff_stored *t,
			   struct yoc_error *e);
void yoc_tariff_stored_free(struct yoc_tariff_stored *t);

/* ---- payments (budget_pay.c) --------------------------------------------- */

/* A member's days in [from, to] (inclusive) of a register row. */
struct yoc_member_span {
	const char *pseudo;
	int32_t join, leave;    /* leave: last day in the cohort, INT32_MAX open */
	int cat;                /* category index */
};
/*
** Payment of days d of a year of year_days at an annual tariff: exactly
** tariff x d / year_days, rounded half away from zero (docs/budget.md).
*/
int64_t yoc_budget_prorate(int64_t tariff, int64_t days, int year_days);

struct yoc_pay_line {
	int month;              /* 0 = April .. 11 = March */
	int cat;
	int64_t members, days;
	int64_t amount;         /* pence */
};
struct yoc_budget_plan {
	int fyear;
	int64_t budget;         /* Σ over members of their exact pro-rated pay, pence */
	int64_t month[12];      /* payments, Σ = budget */
	int64_t month_days[12]; /* member-days per month */
	struct yoc_pay_line *lines; /* per month and category */
	size_t nlines;
	int64_t members, member_days;
	int64_t overlap_days;   /* days two register rows of one person covered (paid once) */
};
/*
** The budget of a year from register spans: each person's days in the
** year are the union of their spans (a day is never paid twice), each
** person paid tariff[cat] x days / year_days (exact, rounded once per
** person), monthly payments by profile weights w[12] (NULL: by member-days,
** "flat") with largest-remainder rounding so they sum to the budget.
*/
int yoc_budget_plan_make(int fyear, const struct yoc_member_span *m, size_t n,
			 const int64_t *tariff, size_t ncats, const double *w,
			 struct yoc_budget_plan *p, struct yoc_error *e);
void yoc_budget_plan_free(struct yoc_budget_plan *p);
/* Splits total into k parts proportional to w (≥ 0, not all 0), largest remainder. */
int yoc_budget_split(int64_t total, const double *w, size_t k, int64_t *out);

/* ---- financial risk (budget_risk.c) -------------------------------------- */

struct yoc_risk_size {
	int64_t size;
	double p_over5, p_over10;   /* share of replicates with actual > budget x 1.05, 1.10 */
	double p_under5;            /* actual < budget x 0.95 */
	double cv;                  /* SD / mean of actual / budget */
	double q05, q50, q95;       /* quantiles of actual / budget */
};
/*
** Bootstrap over person-years within categories: for a cohort of size n,
** each category gets its share of n (largest remainder of the categories'
** person-year counts), drawn with replacement; budget = Σ expected[cat] x
** units / year units, actual = Σ cost. reps replicates per size; one
** seeded stream, so results reproduce with the seed.
*/
int yoc_budget_bootstrap(const struct yoc_tpy *py, size_t n, size_t ncats,
			 const int64_t *expected, const int64_t *sizes, size_t nsizes,
			 int reps, uint64_t seed, struct yoc_risk_size *out,
			 struct yoc_error *e);

struct yoc_settle_opts {
	double corridor;      /* percent: within ±corridor of budget the provider keeps/bears all */
	double share;         /* percent of the variance beyond the corridor borne by the provider */
	double kpi;           /* percent of budget added (+) or withheld (-) for outcomes */
};
struct yoc_settlement {
	int64_t budget, actual, variance;  /* variance = actual - budget (+: overspend) */
	int64_t in_corridor;     /* part of the variance inside the corridor (provider) */
	int64_t beyond;          /* part beyond it */
	int64_t commissioner;    /* commissioner's share of the variance (pays more if +) */
	int64_t provider;        /* provider's share */
	int64_t kpi;             /* outcome adjustment, pence */
	int64_t payment;         /* budget + commissioner share + kpi: what the provider is paid */
};
void yoc_budget_settle(int64_t budget, int64_t actual, const struct yoc_settle_opts *o,
		       struct yoc_settlement *s);

/* ---- activity tagging (budget_tag.c) ------------------------------------ */

/* Why a member's activity row is or is not paid by the capitated budget. */
enum yoc_tag_kind {
	YOC_TAG_CAPITATED = 0,     /* in membership and in the service map */
	YOC_TAG_OUTSIDE_MAP,       /* in membership, service outside the budget */
	YOC_TAG_OUTSIDE_MEMBERSHIP, /* dated outside the member's days in the cohort */
	YOC_TAG_KINDS
};
const char *yoc_tag_kind_name(int k);

struct yoc_tag_stats {
	int64_t rows;                      /* activity rows read (all people) */
	int64_t member_rows;               /* rows of cohort members */
	int64_t n[YOC_TAG_KINDS];          /* member rows by tag */
	int64_t cost[YOC_TAG_KINDS];       /* their cost, pence */
	int64_t spells;                    /* hospital spells of members */
	/* wall seconds of the steps: persons and register, the files (with the
	 * hospital spells), the tables written and committed */
	double sec_setup, sec_files, sec_write;
};
struct yoc_tag_opts {
	const char *cohort;
	const yoc_smap *map;
	const yoc_tariff *prices;
	int write_rows;           /* 1: the activity_tag table (else only tag_summary) */
	int threads;              /* worker threads without write_rows; 0: number of
				   * CPUs, at most 8 */
};
/*
** Tags every activity row of the cohort's members (current files): dated
** inside a register row's days (join..leave inclusive) and decided 'in' by
** the map that day: capitated; else outside_map or outside_membership.
** Rows are priced as the analysis prices them (src/cost; a hospital spell
** at its spell price, carried by its first episode, dated and decided by its
** admission). Replaces the cohort's rows of activity_tag and tag_summary in
** one transaction. Other people's rows are only counted.
*/
int yoc_budget_tag(yoc_store *s, const struct yoc_tag_opts *o, struct yoc_tag_stats *st,
		   struct yoc_error *e);

/* ---- reconciliation (budget_reconcile.c) ---------------------------------- */

struct yoc_recon_stats {
	int64_t files, lines, bad_lines, providers;
	int64_t billed;                 /* pence */
	int64_t dup_n, dup_v;           /* lines billing a record billed before */
	int64_t cap_n, cap_v;           /* lines billing capitated activity */
};
/*
** Checks every line of the billing files (*.csv under billing, in path
** order) against earlier lines and the cohort's capitated tags
** (activity_tag, matched on KIND and RECORD_KEY), and writes into the
** existing folder out: challenges_PROVIDER.csv (line_id, file, line,
** contract, kind, record_key, activity_date, reason duplicate|capitated,
** value, first_line_id) and summary.csv. A line is challenged once, as a
** duplicate when the record was billed before, else as capitated.
*/
/* ---- views (budget_view.c) ---------------------------------------------- */

/*
** After yoc budget and yoc tag for a cohort and year: writes budget_pmpm
** (dimension all, category, practice, tier, provider, month: members,
** member-months with partial months by days, expected and actual pence and
** per member per month in pounds) and budget_shadow (month, category and
** setting: the capitated budget, what the current contracts paid for the
** members' in-scope activity, the difference).
*/
int yoc_budget_views(sqlite3 *db, const char *cohort, int fyear, struct yoc_error *e);

/* ---- the finance workbook (budget_workbook.c) ----------------------------- */

struct yoc_sdc;
/*
** Writes the finance workbook of cohort's budget for fyear to path
** (atomically): about, tariffs, tariff_build, service_map, budget,
** schedule, shadow, tagging, risk (with a chart) and, when reconcile names
** the folder yoc reconcile wrote, reconciliation (its summary.csv). Money
** exact; counts of people through s (docs/budget.md, "Finance workbook").
*/
int yoc_budget_workbook(sqlite3 *db, const char *cohort, int fyear, const char *path,
			const char *reconcile, const struct yoc_sdc *s, struct yoc_error *e);

int yoc_budget_reconcile(sqlite3 *db, const char *cohort, const char *billing,
			 const char *out, struct yoc_recon_stats *st, struct yoc_error *e);

#endif

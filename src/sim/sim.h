/*
** The Year of Care simulation (docs/simulation.md): a person-level Monte
** Carlo microsimulation of the population alive at the start of a base year,
** carried forward year by year under the current service (baseline) and a
** planned service change (a scenario), with common random numbers.
**
**   sim_scenario.c  the scenario file (JSON, yoc-scenario-1, parsed with
**                   jansson): checks naming line and field, uncertain values
**   sim_workforce.c the workforce table (data/workforce_default.csv)
**   sim_data.c      reads person_year and risk_score: the base population,
**                   its cohorts, and the observed transitions (donor pools)
**   sim_run.c       the Monte Carlo engine: runs on threads, counter-based
**                   random numbers keyed by (seed, run, person, year, stream)
**   sim_summary.c   means and intervals over runs, Table 3, waterfall,
**                   break-even cohort, workforce, CSV, catalog tables
**
** The module reads the catalog by SQL only (person_year, risk_score, and
** the rule module for a cohort given by a rule); it prints nothing.
** Ownership: every struct here is init/free by its caller unless said.
*/
#ifndef YOC_SIM_H
#define YOC_SIM_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "yoc/core.h"

#define YOC_SCENARIO_FORMAT "yoc-scenario-1"
#define YOC_SIM_MAX_COHORTS 12 /* risk cohorts, including the rest */
#define YOC_SIM_MAX_YEARS 5
#define YOC_SIM_MAX_STAFF 16
#define YOC_SIM_MAX_SHIFTS 16
#define YOC_SIM_MAX_RUNS 100000

/* Activity of a person-year: costs by setting (pounds) and counts. */
enum yoc_sim_act {
	SA_ELECTIVE, SA_EMERGENCY, SA_OTHER_NEL, SA_DAYCASE, SA_OUTPATIENT, SA_AE,
	SA_COMMUNITY, SA_MH, SA_GP, SA_SOCIAL_CARE, SA_AMBULANCE,
	SA_NCOST, /* the costs above are pounds; below, counts */
	SA_EM_ADM = SA_NCOST, SA_EM_BED_DAYS, SA_MH_BED_DAYS,
	SA_N
};
extern const char *const yoc_sim_act_name[SA_N];   /* "elective", ... */

/* The settings a scenario may change (its "effects" keys). */
enum yoc_sim_eff {
	SE_EMERGENCY_ADMISSIONS, SE_LENGTH_OF_STAY, SE_AE, SE_OUTPATIENTS, SE_COMMUNITY,
	SE_MENTAL_HEALTH, SE_GP, SE_SOCIAL_CARE, SE_ELECTIVE, SE_DAYCASE, SE_AMBULANCE,
	SE_OTHER_NONELECTIVE, SE_N
};
extern const char *const yoc_sim_eff_name[SE_N];

/* An uncertain number: fixed (lo == hi), uniform [lo, hi], or normal. */
enum { YOC_UV_FIXED, YOC_UV_UNIFORM, YOC_UV_NORMAL };
struct yoc_uval {
	int kind;
	double a, b; /* fixed: a; uniform: lo a, hi b; normal: mean a, sd b */
};

struct yoc_sim_shift {
	int from, to;        /* enum yoc_sim_eff: from; to */
	struct yoc_uval share; /* share of the money saved in `from` spent in `to` */
};

struct yoc_scenario {
	char name[256];
	char path[512];
	char sha256[65];       /* of the file's bytes */
	int nenrol;            /* cohorts enrolled, by label ("0-0.5", "0.5-2") */
	char enrol[YOC_SIM_MAX_COHORTS][32];
	char *rule;            /* or a cohort by rule over the base year (owned) */
	struct yoc_uval uptake;
	struct yoc_uval eff[SE_N];  /* multipliers; fixed 1 when absent */
	int neff_set;               /* how many effects the file gives */
	int nshift;
	struct yoc_sim_shift shift[YOC_SIM_MAX_SHIFTS];
	struct yoc_uval service_cost; /* pounds per enrolled person-year */
	double ramp[YOC_SIM_MAX_YEARS]; /* share of the effect reached, by year */
	int nramp;
	double bed_day_cost;   /* pounds per emergency bed day saved by length_of_stay */
	double coordinator_contacts; /* service contacts per enrolled person-year */
};

/*
** Reads and checks a scenario file. Errors carry the file, the line of the
** offending field and its JSON path in the message ("effects.gp: expected a
** number ..."); unknown settings, staff groups and keys are all listed in
** one message. yoc_scenario_free releases what the struct owns.
*/
int yoc_scenario_read(const char *path, struct yoc_scenario *s, struct yoc_error *e);
/* The same from memory; name is used in messages. */
int yoc_scenario_parse(const char *text, size_t n, const char *name, struct yoc_scenario *s,
		       struct yoc_error *e);
void yoc_scenario_free(struct yoc_scenario *s);
/* True when the scenario changes nothing (every effect 1, no shift, no cost). */
int yoc_scenario_is_null(const struct yoc_scenario *s);

/* ---- workforce ---------------------------------------------------------- */

/* What a staff group's contacts come from. */
enum { YOC_WF_SETTING, YOC_WF_BED_DAYS, YOC_WF_SERVICE };
struct yoc_staff {
	char group[48];
	int basis;             /* YOC_WF_* */
	int act;               /* enum yoc_sim_act for YOC_WF_SETTING */
	double share;          /* share of the setting's money delivered by the group */
	double unit_cost;      /* pounds per contact */
	double per_wte;        /* contacts (bed days) per WTE per year */
};
struct yoc_workforce {
	int n;
	struct yoc_staff s[YOC_SIM_MAX_STAFF];
	char version[64];
};
/* Known staff group names (for the scenario's checks), NULL-terminated. */
extern const char *const yoc_sim_staff_names[];
int yoc_workforce_read(const char *path, struct yoc_workforce *w, struct yoc_error *e);

/* ---- the population and its transitions ---------------------------------- */

struct yoc_sim_person {
	uint64_t key;                  /* yoc_hash64 of the pseudonym: the CRN's person */
	uint8_t age, sex, ltc, cstate; /* sex 0 female, 1 male/other */
	uint8_t cohort, eligible;      /* eligible: selected by the scenario's rule (or 1) */
};

struct yoc_sim_donor {
	float act[SA_N];   /* the next year's activity */
	uint8_t outcome;   /* 0 stayed, 1 died in the year, 2 moved away */
	uint8_t cstate;    /* cost state of that activity */
	int8_t dltc;       /* conditions gained */
};

/* Cells of the transition: age band x sex x LTC band x cost state. */
#define YOC_SIM_NAGE 6
#define YOC_SIM_NLTC 5
#define YOC_SIM_NCST 10
#define YOC_SIM_NCELL (YOC_SIM_NAGE * 2 * YOC_SIM_NLTC * YOC_SIM_NCST)
#define YOC_SIM_LEVELS 4   /* full cell, then without sex, without age, cost state only */

struct yoc_sim_data {
	int base_year;             /* start year of the base financial year */
	int first_pair, npairs;    /* transitions from years first_pair .. +npairs-1 */
	size_t n;                  /* people alive at the end of the base year */
	struct yoc_sim_person *p;
	int ncohort;               /* risk cohorts (the last: the rest) */
	double cut[YOC_SIM_MAX_COHORTS]; /* upper percent of each cohort */
	char label[YOC_SIM_MAX_COHORTS + 1][32]; /* + "joiners" */
	size_t cohort_n[YOC_SIM_MAX_COHORTS];
	double base_cost[YOC_SIM_MAX_COHORTS];   /* base year's mean cost, pounds */
	double cost_cut[YOC_SIM_NCST - 2];       /* pounds: the base year's cost state
						  * boundaries (state 0: no cost); every
						  * year has its own (a rank in its year) */
	double level[SA_N];        /* base year's mean of each activity value per person-year:
				    * donors of earlier years are scaled to it */
	double period_sd;          /* sd of the log year-on-year change in cost per
				    * person over the years learned from: the spread
				    * of each run's period (cost level) effect */
	size_t ndonor;
	struct yoc_sim_donor *donor;
	/* per level: cell offsets (NCELL + 1) into idx */
	uint32_t *off[YOC_SIM_LEVELS];
	uint32_t *idx[YOC_SIM_LEVELS];
	size_t njoin;              /* joiners' first years (template activity) */
	struct yoc_sim_donor *join;
	uint8_t *join_age, *join_sex, *join_ltc;
	double join_rate;          /* joiners per person alive at the start, a year */
	size_t nselected;          /* eligible people when the scenario has a rule */
	/* observed: mean cost in the year after the base year per cohort, when known */
	int have_next;
	double obs_next_mean[YOC_SIM_MAX_COHORTS];
	size_t obs_next_n[YOC_SIM_MAX_COHORTS];
	/* observed rates (deaths, moves) by age band x sex x LTC band, for the docs */
	uint32_t rate_n[YOC_SIM_NAGE * 2 * YOC_SIM_NLTC], rate_died[YOC_SIM_NAGE * 2 * YOC_SIM_NLTC],
		rate_moved[YOC_SIM_NAGE * 2 * YOC_SIM_NLTC];
	char dataset_sha256[65];   /* of the person_year rows read */
	/* an enrolled cohort (yoc_sim_data_load_enrolled): the people listed,
	 * and what became of each (YOC_SIM_ENROL_*) */
	size_t nenrol_id;
	char (*enrol_id)[65];
	uint8_t *enrol_status;
};
enum {
	YOC_SIM_ENROL_SIMULATED, /* alive at the end of the base year: carried forward */
	YOC_SIM_ENROL_NOT_FOUND, /* no person_year row in the base year */
	YOC_SIM_ENROL_DIED,      /* died in the base year */
	YOC_SIM_ENROL_DUPLICATE  /* listed again */
};

/*
** Reads the base year's population (alive at its end, with its risk_score
** cohort) and every transition of consecutive analysed years ending at or
** before the base year. base_year: start year, or 0 for the latest year
** with risk scores. cuts: ncut upper percents (0.5, 2, 5, 10) of the risk
** cohorts; the rest is one more cohort. rule: NULL, or the scenario's rule.
*/
int yoc_sim_data_load(sqlite3 *db, int base_year, const double *cuts, int ncut,
		      const char *rule, struct yoc_sim_data *d, struct yoc_error *e);
/*
** The same for an enrolled cohort: the people of ids (pseudo_ids; copied)
** alive at the end of base_year (required), all in one cohort "enrolled",
** offered the service by a scenario whose cohorts name "enrolled". No risk
** scores are needed and no one joins; the transitions are learned from
** everyone, as above.
*/
int yoc_sim_data_load_enrolled(sqlite3 *db, int base_year, const char *const *ids, size_t nids,
			       struct yoc_sim_data *d, struct yoc_error *e);
void yoc_sim_data_free(struct yoc_sim_data *d);
/* The cost state of a base-year total cost in pounds (the base year's cuts). */
int yoc_sim_cstate(const struct yoc_sim_data *d, double cost);
int yoc_sim_age_band(int age);
int yoc_sim_ltc_band(int ltc);

/* ---- the Monte Carlo ----------------------------------------------------- */

/* Per cohort and year, the accumulators of one run. */
enum yoc_sim_meas {
	SM_PEOPLE, SM_DIED, SM_MOVED, SM_ENROLLED, SM_SERVICE_COST,
	SM_BASE,                 /* SA_N baseline activity values */
	SM_SCN = SM_BASE + SA_N, /* SA_N scenario activity values (the cohort offered) */
	SM_FACTOR = SM_SCN + SA_N, /* change by factor: SE_N effects, shifts, service */
	SM_N = SM_FACTOR + SE_N + 2
};
#define YOC_SIM_F_SHIFT (SE_N)
#define YOC_SIM_F_SERVICE (SE_N + 1)

struct yoc_sim_opts {
	int years;      /* 1 .. YOC_SIM_MAX_YEARS, default 3 */
	int runs;       /* default 200 */
	uint64_t seed;
	int threads;    /* 0: one per core */
};

/*
** Results: run r, cohort c (0 .. ncohort, the last the joiners), year y,
** measure m at res[((r * nc + c) * years + y) * SM_N + m]. Scenario values
** are those of the cohort *offered* the service (all cohorts: the break-even
** view); yoc_sim_offered says which cohorts the scenario actually enrols.
*/
struct yoc_sim_result {
	int runs, nc, years;
	double *res;
	double *param;       /* per run: uptake, SE_N multipliers, service cost */
};
#define YOC_SIM_NPARAM (SE_N + 2)

int yoc_sim_run(const struct yoc_sim_data *d, const struct yoc_scenario *s,
		const struct yoc_sim_opts *o, struct yoc_sim_result *r, struct yoc_error *e);
void yoc_sim_result_free(struct yoc_sim_result *r);
/* 1 when the scenario offers its service to cohort c. */
int yoc_sim_offered(const struct yoc_sim_data *d, const struct yoc_scenario *s, int c);
/* The uniform draw in [0, 1) of (seed, run, person, year, stream): the CRN. */
double yoc_sim_u(uint64_t seed, uint32_t run, uint64_t person, uint32_t year, uint32_t stream);

/* ---- summaries ----------------------------------------------------------- */

struct yoc_sim_stat {
	double mean, p5, p10, p50, p90, p95;
};
/* Statistic over runs of x[0 .. n-1] (sorted in place). */
void yoc_sim_stat_of(double *x, int n, struct yoc_sim_stat *st);

/* One Table 3 row: cohort c, year y (or y = -1: mean of the years). */
struct yoc_sim_t3 {
	struct yoc_sim_stat people, base_mean, scn_mean, diff_mean, base_total, scn_total,
		diff_total;
	struct yoc_sim_stat base_act[SA_N], scn_act[SA_N];
};
int yoc_sim_table3(const struct yoc_sim_data *d, const struct yoc_scenario *s,
		   const struct yoc_sim_result *r, int c, int y, struct yoc_sim_t3 *t);
/* Waterfall: change in total cost (all years, actual enrolment) by factor. */
int yoc_sim_waterfall(const struct yoc_sim_data *d, const struct yoc_scenario *s,
		      const struct yoc_sim_result *r, struct yoc_sim_stat out[SE_N + 2]);
/* WTE of staff group g in year y, baseline and scenario (actual enrolment). */
int yoc_sim_wte(const struct yoc_sim_data *d, const struct yoc_scenario *s,
		const struct yoc_workforce *w, const struct yoc_sim_result *r, int g, int y,
		struct yoc_sim_stat *base, struct yoc_sim_stat *scn);
/* The lowest-risk cohort whose mean cost difference over the years, if
 * offered, is below zero with its whole 90% interval; -1 if none. */
int yoc_sim_break_even(const struct yoc_sim_data *d, const struct yoc_sim_result *r);

/* ---- against a known truth (an enrolled cohort of a synthetic pilot) ----- */

/* The changes compared, per enrolled person-year. */
enum yoc_sim_truth_meas {
	ST_EM_ADM, ST_EM_BED_DAYS, ST_AE, ST_COMMUNITY, ST_GP, ST_CARE, ST_SERVICE, ST_TOTAL,
	ST_N
};
extern const char *const yoc_sim_truth_name[ST_N]; /* "emergency_admissions", ... */
struct yoc_sim_truth {
	int y0, ny;            /* simulated years compared: y0 .. y0 + ny - 1 (0: year 1) */
	size_t people;         /* the denominator's people: the cohort simulated */
	double truth[ST_N];    /* the true change (with minus without) per person-year */
	struct yoc_sim_stat sim[ST_N]; /* scenario minus baseline over runs, per person-year */
};
/*
** Fills t->sim and t->people from cohort 0's runs (the enrolled cohort):
** per run, the change summed over the years compared, divided by the
** people at the start times the years (a person who dies or moves away
** counts 0 from then on, as in the truth). t->y0, t->ny set by the caller.
*/
int yoc_sim_truth_compare(const struct yoc_sim_data *d, const struct yoc_sim_result *r,
			  struct yoc_sim_truth *t);

/* Run metadata written beside the results. */
struct yoc_sim_meta {
	char run_id[64];
	const struct yoc_scenario *s;
	const struct yoc_sim_opts *o;
	const struct yoc_workforce *w;
	double seconds;
	const struct yoc_sim_truth *truth; /* or NULL */
};
/* Writes the CSV of every figure (long format) to f. */
int yoc_sim_write_csv(FILE *f, const struct yoc_sim_data *d, const struct yoc_sim_result *r,
		      const struct yoc_sim_meta *m);
/* Replaces this scenario's rows of sim_run, sim_table3, sim_workforce,
 * sim_waterfall, sim_enrolled (an enrolled cohort's people and status) and
 * sim_truth (m->truth) in the catalog (one transaction) for the report. */
int yoc_sim_store(sqlite3 *db, const struct yoc_sim_data *d, const struct yoc_sim_result *r,
		  const struct yoc_sim_meta *m, struct yoc_error *e);

#endif

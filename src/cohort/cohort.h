/*
** Cohorts: rules-based case-finding, clinician review, consent and the
** cohort register (docs/cohorts.md).
**
** Files: cohort_def.c (catalog schema, versioned definitions, the change
** log), cohort_select.c (candidates of a rule with their reasons, worklists
** per practice), cohort_review.c (review and consent files: validation,
** idempotent import), cohort_register.c (enrolment, refresh from deaths and
** the GP register, the register as of a date, funnel and month-by-month
** figures), cohort_stats.c (figures by practice and year for the report),
** cohort_sim.c (the review simulator of the synthetic economy).
**
** Every statement against the catalog tables cohort_* is in this module.
** The register is append-only: a row is inserted when a membership opens and
** its leave columns are filled once when it closes (a trigger refuses any
** other update and every delete); each change has a cohort_log row naming
** who or what caused it. Nothing here prints or exits; functions return 0 or
** a negative enum yoc_status with the message in a struct yoc_error.
*/
#ifndef YOC_COHORT_H
#define YOC_COHORT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "yoc/core.h"

#define YOC_COHORT_NAME_MAX 64

/* ---- schema and definitions (cohort_def.c) ---------------------------- */

/* Creates the cohort tables if missing (idempotent). */
int yoc_cohort_schema(sqlite3 *db, struct yoc_error *e);

/* 1 when the dataset has the cohort tables (read-only paths never create them). */
int yoc_cohort_ready(sqlite3 *db);

/* A name: 1-64 of [A-Za-z0-9_-], starting with a letter. */
int yoc_cohort_name_ok(const char *name);

struct yoc_cohort_def {
	char name[YOC_COHORT_NAME_MAX + 1];
	int version;
	char *rule;          /* owned */
	char *description;   /* owned, "" if none */
	char *service_model; /* owned, "" if none */
	char author[128];
	char created[32];    /* UTC ISO 8601 */
};
void yoc_cohort_def_free(struct yoc_cohort_def *d);

/*
** Stores a new version of cohort name (1 for a new name). The rule is
** checked by the caller (the rule module) before this is called.
*/
int yoc_cohort_define(sqlite3 *db, const char *name, const char *rule, const char *description,
		      const char *service_model, const char *author, int *version,
		      struct yoc_error *e);
/* The latest version (version 0) or the given one; YOC_ENOTFOUND if none. */
int yoc_cohort_def_get(sqlite3 *db, const char *name, int version, struct yoc_cohort_def *d,
		       struct yoc_error *e);

/* UTC now as "2024-05-01T10:00:00Z" ($YOC_NOW overrides, for tests). */
void yoc_cohort_now(char *buf, size_t cap);
/* Today as days since 1970 ($YOC_TODAY YYYY-MM-DD overrides, for tests). */
int32_t yoc_cohort_today(void);

/* Appends a cohort_log row; *log_id gets its id (may be NULL). */
int yoc__cohort_log(sqlite3 *db, const char *cohort, const char *pseudo, const char *action,
		    int32_t date, const char *reason, int64_t register_row, const char *actor,
		    const char *detail, int64_t *log_id, struct yoc_error *e);

/*
** Closes register row row_id (open) on leave with reason, logged with actor
** and detail (internal: the register, review import and refresh).
*/
int yoc__cohort_close(sqlite3 *db, const char *cohort, int64_t row_id, const char *pseudo,
		      int32_t leave, const char *reason, const char *actor, const char *detail,
		      struct yoc_error *e);
/* The open row of pseudo in cohort (0 if none) and its practice. */
int yoc__cohort_open_row(sqlite3 *db, const char *cohort, const char *pseudo, int64_t *row_id,
			 char *practice, size_t cap, struct yoc_error *e);

/* Runs sql (no rows) on db; errors name what. */
int yoc__cohort_exec(sqlite3 *db, const char *sql, struct yoc_error *e);

/* ---- selection and worklists (cohort_select.c) ------------------------ */

/*
** A rule's verdict on one year: for every person-year of fyear (in
** person_year order), whether it is selected and, if so, the parts of the
** rule it met. Filled by the caller's rule evaluator (the rule module) so
** that this module does not depend on the rule language.
*/
struct yoc_cohort_pick {
	size_t n;            /* person-years of the year */
	size_t nsel;
	char **pseudo;       /* nsel pseudonyms selected */
	char **reasons;      /* nsel reason texts ("risk_percentile >= 98; age >= 18") */
};
void yoc_cohort_pick_free(struct yoc_cohort_pick *p);

struct yoc_cohort_sel_stats {
	int64_t selection_id;
	size_t population;   /* person-years of the year */
	size_t selected;
	size_t practices;    /* with at least one candidate */
};

/*
** Records a selection of cohort d on fyear (month "" or "YYYY-MM": when it
** was made): one cohort_selection row, one cohort_candidate row per picked
** person with their practice, age band, LTCs, risk percentile and tier (of
** the same year, NULL if not scored), and last year's emergency admissions
** and cost. One transaction.
*/
int yoc_cohort_select_store(sqlite3 *db, const struct yoc_cohort_def *d, int fyear,
			    const char *month, const struct yoc_cohort_pick *pick,
			    const char *author, struct yoc_cohort_sel_stats *st,
			    struct yoc_error *e);

/*
** Writes the review worklists of the latest selection of a cohort into dir
** (an existing folder, normally an output tree's temporary): PRACTICE.csv and
** PRACTICE.html per practice, and index.html. Pseudonyms only: no NHS number,
** date of birth, name or postcode (age in bands). *nfiles gets the number of
** practices.
*/
int yoc_cohort_worklists(sqlite3 *db, const char *cohort, const char *dir, size_t *npractices,
			 struct yoc_error *e);

/* ---- review and consent files (cohort_review.c) ----------------------- */

enum yoc_cohort_file_kind { YOC_COHORT_REVIEW = 0, YOC_COHORT_CONSENT = 1 };

#define YOC_COHORT_MAXERR 100

/* The problems found in files being imported (all of them, up to the cap). */
struct yoc_cohort_errors {
	size_t n;            /* found (may exceed the kept ones) */
	struct yoc_error err[YOC_COHORT_MAXERR];
};

struct yoc_cohort_import_stats {
	size_t files, rows;
	size_t added;        /* new rows */
	size_t unchanged;    /* rows identical to ones already imported */
	size_t left;         /* memberships closed (discharge, withdrawn consent) */
};

/*
** Imports review or consent files for a cohort in one transaction. Every line
** is checked first; any problem (each named file:line:col in errs) rejects
** the whole import (YOC_EDATA) and nothing changes. A row identical to one
** already imported is unchanged, so importing a file again changes nothing.
** A discharge decision or a withdrawal of consent closes the person's open
** membership (logged with the file and line). actor names the user.
*/
int yoc_cohort_import(sqlite3 *db, const char *cohort, int kind, const char *const *paths,
		      size_t npaths, const char *actor, struct yoc_cohort_import_stats *st,
		      struct yoc_cohort_errors *errs, struct yoc_error *e);

/* ---- register (cohort_register.c) ------------------------------------- */

struct yoc_cohort_enrol_stats {
	size_t eligible;     /* included or added, consent for care given */
	size_t joined;       /* new memberships */
	size_t already;      /* already members */
	size_t moved;        /* memberships of another cohort closed */
};

/*
** Opens a membership for everyone whose latest decision is include or add
** and whose latest consent gives care, not already a member: join date the
** later of the consent date and the decision date (or on when not 0), the
** practice of the decision, the tariff category (the currency band of their
** person_year in the financial year of joining, or the latest analysed year
** before it) and whether secondary use is consented. A membership of another
** cohort still open is closed the day before (moved to another cohort).
*/
int yoc_cohort_enrol(sqlite3 *db, const char *cohort, int32_t on, const char *actor,
		     struct yoc_cohort_enrol_stats *st, struct yoc_error *e);

struct yoc_cohort_refresh_stats {
	size_t open;         /* memberships looked at */
	size_t died, left_practice, deregistered;
	size_t pending;      /* registration ended after the deaths feed's last day */
};

/*
** Ends open memberships (of cohort, or of every cohort when cohort is NULL)
** from the loaded data: a death (deaths feed) ends it on the date of death;
** the registration with the member's practice ending (GP register REG_END)
** ends it on that day, as left_practice when a registration with another
** practice follows, else deregistered; but a registration that ended after
** the last day the deaths feed covers is left open (pending) until it does,
** since the GP register ends a registration on the day of death too. One
** transaction; logged with the feed as the cause.
*/
int yoc_cohort_refresh(yoc_store *s, const char *cohort, const char *actor,
		       struct yoc_cohort_refresh_stats *st, struct yoc_error *e);

/* One membership as stored. */
struct yoc_cohort_member {
	int64_t row_id;
	char pseudo[72];
	char practice[16];
	int32_t join, leave;          /* leave YOC_DATE_NONE while open; last day a member */
	char leave_reason[32];
	char tariff[16];
	int secondary_use;
};

/*
** The register of cohort on date asof (members with join <= asof and no
** leave or leave >= asof), sorted by pseudonym. Free *out with yoc_free.
*/
int yoc_cohort_register_asof(sqlite3 *db, const char *cohort, int32_t asof,
			     struct yoc_cohort_member **out, size_t *n, struct yoc_error *e);

/* Every row of the register of a cohort (history), by row id. */
int yoc_cohort_register_all(sqlite3 *db, const char *cohort, struct yoc_cohort_member **out,
			    size_t *n, struct yoc_error *e);

/* The funnel of a cohort's latest selection and what followed. */
struct yoc_cohort_funnel {
	char cohort[YOC_COHORT_NAME_MAX + 1];
	int version;
	char fyear[8];
	size_t population, selected, reviewed, included, added, excluded, deferred,
		consented, secondary, enrolled, current;
	size_t nreason;
	char reason[16][32];
	size_t reason_n[16];
	size_t nleave;
	char leave[8][32];
	size_t leave_n[8];
};
int yoc_cohort_funnel(sqlite3 *db, const char *cohort, struct yoc_cohort_funnel *f,
		      struct yoc_error *e);

/* Size at each month end, joins and leaves in the month, from the first join. */
struct yoc_cohort_month {
	char month[16];      /* YYYY-MM */
	size_t size, joined, left;
};
int yoc_cohort_months(sqlite3 *db, const char *cohort, int32_t until,
		      struct yoc_cohort_month **out, size_t *n, struct yoc_error *e);

/* Names of the defined cohorts (latest versions), sorted. Free with yoc_cohort_names_free. */
int yoc_cohort_names(sqlite3 *db, char ***names, size_t *n, struct yoc_error *e);
void yoc_cohort_names_free(char **names, size_t n);

/* ---- figures for the report (cohort_stats.c) --------------------------- */

/* A practice's review of the latest selection and what followed. */
struct yoc_cohort_prac {
	char practice[16];
	int64_t candidates, include, exclude, defer, add, consented, current;
};
/* By practice code; free *out with yoc_free. */
int yoc_cohort_practices(sqlite3 *db, const char *cohort, struct yoc_cohort_prac **out,
			 size_t *n, struct yoc_error *e);

/*
** People and the sums of person_year columns cols (trusted names, e.g. the
** cost columns) in year fyear ("2023/24"), for three groups: [0] members of
** the cohort at some time in the year who consented to secondary use (the
** only members who count in evaluation), [1] members without that consent
** (left out of comparisons), [2] everyone else. sums is 3 x ncols.
*/
int yoc_cohort_year_sums(sqlite3 *db, const char *cohort, const char *fyear,
			 const char *const *cols, int ncols, int64_t people[3], int64_t *sums,
			 struct yoc_error *e);

/* ---- review simulator (cohort_sim.c) ---------------------------------- */

struct yoc_cohort_sim_opts {
	uint64_t seed;
	int32_t review_date;       /* decisions dated this day */
	double exclude_share;      /* of the others, excluded with a reason (default 0.12) */
	double defer_share;        /* deferred (default 0.03) */
	double decline_share;      /* of those included, declining consent (default 0.10) */
	double secondary_share;    /* of those consenting, also to secondary use (default 0.9) */
	int end_of_life_months;    /* a death within this many months: excluded (default 6) */
	double add_per_practice;   /* mean people added per practice (default 1) */
};

struct yoc_cohort_sim_stats {
	size_t candidates, included, excluded, deferred, added, consented;
	size_t end_of_life;
};

/*
** Plays the practices' clinicians on the latest selection of a cohort:
** writes into dir one review file per practice (review_PRACTICE.csv), one
** consent file per practice (consent_PRACTICE.csv) and truth.csv (every
** decision with why it was made: a death within end_of_life_months of the
** review, a palliative flag, or a random draw). Deterministic in seed and
** pseudonym.
*/
int yoc_cohort_simulate(yoc_store *s, const char *cohort, const struct yoc_cohort_sim_opts *o,
			const char *dir, struct yoc_cohort_sim_stats *st, struct yoc_error *e);

#endif

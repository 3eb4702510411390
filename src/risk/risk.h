/*
** Risk stratification: a logistic model of "one or more emergency admissions,
** or death, in year t+1" on features of year t from the person_year table,
** its scores (probability, rank, percentile, tier, top contributions) and a
** temporal validation. docs/risk.md describes the outcome, features, tiers
** and metrics.
**
** Files: risk_data.c (feature list file, design matrix from person_year),
** risk_model.c (fit, model JSON, catalog table risk_model), risk_eval.c
** (scoring into risk_score, validation into risk_validation).
**
** Depends on stats and the catalog (an sqlite3 connection to DIR/yoc.db).
** Nothing here prints or exits; functions return 0 or a negative enum
** yoc_status with the message in a struct yoc_error.
*/
#ifndef YOC_RISK_H
#define YOC_RISK_H

#include <sqlite3.h>
#include <stddef.h>

#include "yoc/core.h"

/* ---- feature list (risk_data.c) ------------------------------------- */

#define YOC_RISK_MAXFEAT 128

/* Names as in data/risk_features.txt; version from its "# version:" line. */
struct yoc_risk_featlist {
	int n;
	char name[YOC_RISK_MAXFEAT][48];
	char version[64];
};

/*
** Reads a feature file: one name a line, '#' comments, blank lines skipped;
** "# version: V" gives the version. Names are checked when a design is built
** (they depend on the code list's condition columns).
*/
int yoc_risk_features_read(const char *path, struct yoc_risk_featlist *fl,
			   struct yoc_error *e);

/* ---- design matrix (risk_data.c) ------------------------------------ */

struct yoc_risk_data {
	size_t n;            /* rows */
	int p;               /* columns, the intercept first */
	char **terms;        /* p names; terms[0] = "(Intercept)" */
	double *X;           /* n x p, row-major */
	double *y;           /* n outcomes 0/1 (with_outcome), else NULL */
	char **ids;          /* n pseudo_ids */
	double *cost_total;  /* n: cost_total of year t in pounds (comparator) */
	double *ltc_count;   /* n: ltc_count of year t (comparator) */
	double imd_median;   /* used for a missing IMD decile */
	size_t n_year;       /* person-years of year t */
	size_t n_died;       /* left out: died in year t (with_outcome) */
	size_t n_lost;       /* left out: no row in t+1, not dead (with_outcome) */
};

/*
** Builds the design for year fyear (start year, as yoc_fyear_parse). With
** with_outcome, keeps the people alive at the end of the year with a row in
** fyear + 1 and sets y = (emergency admissions > 0 or died in fyear + 1);
** otherwise keeps every person-year of the year. imd_median NAN: take the
** median of the kept rows' known deciles. An unknown feature name is YOC_EINVAL
** naming every unknown one. Free with yoc_risk_data_free (also after errors).
*/
int yoc_risk_data_build(sqlite3 *db, int fyear, const struct yoc_risk_featlist *fl,
			int with_outcome, double imd_median, struct yoc_risk_data *d,
			struct yoc_error *e);
void yoc_risk_data_free(struct yoc_risk_data *d);

/* Analysed years (start years, ascending) from person_year; at most cap. */
int yoc_risk_years(sqlite3 *db, int *years, int cap, int *n, struct yoc_error *e);

/* ---- model (risk_model.c) ------------------------------------------- */

struct yoc_risk_model {
	char model_id[64];
	char created[32];            /* UTC, ISO 8601 */
	int train_year;              /* features of this year, outcome the next */
	size_t n, events;
	double ridge;
	double imd_median;
	int p;
	char **terms;                /* p */
	double *coef, *se;           /* p; NAN for a dropped (aliased) term */
	struct yoc_risk_featlist feat;
	char codelist_version[64];
	char dropped[1024];          /* "" or the dropped terms, comma-separated */
	char warning[512];           /* "" or the fit's warning (separation) */
};

/*
** Fits the model on year fyear's features and fyear + 1's outcome. Terms
** constant in the training rows are dropped before the events check
** (yoc_logit_check_events with min_per_term), collinear ones by the fit;
** both are listed in m->dropped. Free with yoc_risk_model_free.
*/
int yoc_risk_fit(sqlite3 *db, int fyear, const struct yoc_risk_featlist *fl, double ridge,
		 double min_per_term, struct yoc_risk_model *m, struct yoc_error *e);
void yoc_risk_model_free(struct yoc_risk_model *m);

/* The model as JSON text into b (appended; b->data is NUL-terminated). */
int yoc_risk_model_json(const struct yoc_risk_model *m, struct yoc_buf *b);
/* Parses what yoc_risk_model_json wrote. */
int yoc_risk_model_parse(const char *text, struct yoc_risk_model *m, struct yoc_error *e);
/* Adds the model to the catalog table risk_model (created if needed). */
int yoc_risk_model_store(sqlite3 *db, const struct yoc_risk_model *m, struct yoc_error *e);
/* The latest model of risk_model; YOC_ENOTFOUND if there is none. */
int yoc_risk_model_latest(sqlite3 *db, struct yoc_risk_model *m, struct yoc_error *e);

/* Linear predictors of the model on d (terms matched by name) into prob (n). */
int yoc_risk_predict(const struct yoc_risk_model *m, const struct yoc_risk_data *d,
		     double *prob, int *map, struct yoc_error *e);

/* ---- scoring and validation (risk_eval.c) --------------------------- */

#define YOC_RISK_MAXTIERS 16

struct yoc_risk_tiers {
	int n;                          /* cut points */
	double cut[YOC_RISK_MAXTIERS];  /* ascending percentages of the year: 0.5, 2, ... */
};
/* Parses "0.5,2,5,10,20" (NULL: that default). */
int yoc_risk_tiers_parse(const char *spec, struct yoc_risk_tiers *t, struct yoc_error *e);

struct yoc_risk_score_stats {
	size_t n;
	size_t tier_n[YOC_RISK_MAXTIERS + 1];
	char tier_name[YOC_RISK_MAXTIERS + 1][40];
	double mean_prob;
};

/*
** Scores every person-year of fyear and replaces that year's rows of
** risk_score in one transaction.
*/
int yoc_risk_score(sqlite3 *db, const struct yoc_risk_model *m, int fyear,
		   const struct yoc_risk_tiers *t, struct yoc_risk_score_stats *st,
		   struct yoc_error *e);

struct yoc_risk_metric {
	char metric[32];
	char model[16];      /* "model", "cost_total", "ltc_count" */
	double value, lo, hi; /* NAN when not applicable */
};

struct yoc_risk_validation {
	int train_year, eval_year;   /* fit on train -> train+1; evaluate eval -> eval+1 */
	size_t n_train, events_train, n, events;
	size_t nm;
	struct yoc_risk_metric *m;   /* nm rows, as stored in risk_validation */
	char dropped[1024];
};

/*
** Temporal validation on the latest three analysed years (YOC_EDATA if
** fewer): fits on the first (outcome in the second), evaluates on the second
** (outcome in the third), with the comparators on the same rows; replaces
** risk_validation. Free with yoc_risk_validation_free.
*/
int yoc_risk_validate(sqlite3 *db, const struct yoc_risk_featlist *fl, double ridge,
		      double min_per_term, struct yoc_risk_validation *v, struct yoc_error *e);
void yoc_risk_validation_free(struct yoc_risk_validation *v);

#endif

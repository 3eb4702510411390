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
	char model[16];      /* "model", "cost_total", "ltc_count", "oracle", "qadmissions" */
	double value, lo, hi; /* NAN when not applicable */
};

/* One point of a ROC curve: the rows scoring at least threshold. */
struct yoc_risk_roc_point {
	char model[16];
	int point;           /* 0 .. 100 */
	double threshold;    /* NAN for point 0 (nothing selected) */
	size_t selected, tp, fp;
	double tpr, fpr;
};

struct yoc_risk_validation {
	int train_year, eval_year;   /* fit on train -> train+1; evaluate eval -> eval+1 */
	size_t n_train, events_train, n, events;
	size_t nm;
	struct yoc_risk_metric *m;   /* nm rows, as stored in risk_validation */
	char dropped[1024];
	char features_version[64], codelist_version[64];
	int p;                       /* terms of the model, the intercept included */
	double ridge;
	int has_oracle;              /* 1: scored against temp.risk_oracle too */
	size_t nroc;
	struct yoc_risk_roc_point *roc;  /* nroc points, as stored in risk_roc */
};

/*
** Temporal validation on the latest three analysed years (YOC_EDATA if
** fewer): fits on the first (outcome in the second), evaluates on the second
** (outcome in the third), with the comparators on the same rows; replaces
** risk_validation, risk_validation_rows, risk_roc and risk_calibration. When
** the connection has a temp table risk_oracle(pseudo_id, fyear, p) (the
** synthetic truth, see yoc_risk_oracle_load), its p of the outcome year is a
** comparator too ("oracle"); a row without one is YOC_EDATA. Free with
** yoc_risk_validation_free.
*/
int yoc_risk_validate(sqlite3 *db, const struct yoc_risk_featlist *fl, double ridge,
		      double min_per_term, struct yoc_risk_validation *v, struct yoc_error *e);
void yoc_risk_validation_free(struct yoc_risk_validation *v);

/* ---- tables of the evaluation rows (risk_tables.c) ------------------- */

/* Adds model's ROC points (o: rows by score, descending) to v->roc. */
int yoc__risk_roc(struct yoc_risk_validation *v, const char *model, const double *score,
		  const double *y, size_t n, const size_t *o);
/* Replaces risk_roc with v->roc; inside the caller's transaction. */
int yoc__risk_store_roc(sqlite3 *db, const struct yoc_risk_validation *v, struct yoc_error *e);
/*
** Replaces risk_calibration from risk_validation_rows: deciles of predicted
** risk and groups by age band, sex and IMD quintile, observed against
** expected with the O/E ratio's 95% interval.
*/
int yoc__risk_store_calibration(sqlite3 *db, const struct yoc_risk_validation *v,
				struct yoc_error *e);

/* ---- summary tables (risk_summary.c) --------------------------------- */

struct yoc_risk_summary_opts {
	double rising_from;   /* percentile below which a person starts (default 80) */
	double rising_top;    /* ... and the top share (%) they reach (default 10) */
	double crisis_top;    /* top share (%) of the crisis curve's cohorts (default 5) */
};
void yoc_risk_summary_opts_init(struct yoc_risk_summary_opts *o);

/*
** From risk_score and person_year, replaces the tables risk_pyramid,
** risk_crisis, risk_rising, risk_turnover, risk_retention, risk_overlap and
** risk_practice (docs/risk.md) in one transaction. Needs risk_score rows.
*/
int yoc_risk_summarise(sqlite3 *db, const struct yoc_risk_summary_opts *o,
		       struct yoc_error *e);

/* ---- model card (risk_card.c) ---------------------------------------- */

/*
** The model card of the last validation (risk_validation, risk_calibration,
** risk_model) as JSON into js and Markdown into md (appended).
*/
int yoc_risk_card(sqlite3 *db, struct yoc_buf *js, struct yoc_buf *md, struct yoc_error *e);

#endif

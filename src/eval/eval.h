/*
** Evaluation of a service: matched cohorts and difference in differences
** (docs/evaluation.md). The engine works on plain arrays, so the same code
** serves a dataset (yoc evaluate --db) and any table an analyst brings
** (yoc evaluate --csv):
**   eval_match.c   propensity score (src/stats logistic regression) and
**                  greedy nearest-neighbour matching: ratio, caliper, exact
**                  variables, with or without replacement
**   eval_optimal.c optimal pair matching: the most pairs, then the least total
**                  distance (min-cost flow on the score line, certified)
**   eval_balance.c standardised mean differences and variance ratios
**   eval_did.c     effects: matched difference in differences with a cluster
**                  bootstrap over matched sets, naive before/after, unmatched
**                  treated against the rest, the pre-period trend check
**   eval_data.c    reading baseline characteristics and outcomes from
**                  person_year, writing the eval_* tables of yoc.db
**   eval_truth.c   truth/pilot.csv of a synthetic pilot (read by evaluate
**                  and simulate)
** Depends on core, stats and pseudo (and SQLite for eval_data.c). Nothing
** here prints.
** Functions return 0 or a negative enum yoc_status with a message in e.
*/
#ifndef YOC_EVAL_H
#define YOC_EVAL_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "stats/stats.h"
#include "yoc/core.h"

enum { YOC_EVAL_NEAREST = 0, YOC_EVAL_OPTIMAL = 1 };

struct yoc_eval_opts {
	int method;         /* YOC_EVAL_NEAREST (default) or YOC_EVAL_OPTIMAL */
	int ratio;          /* controls per treated person (default 1) */
	double caliper;     /* in standard deviations of the logit of the score; 0: none */
	int replace;        /* 1: a control may serve several treated people */
	int nboot;          /* bootstrap replicates (default 1000) */
	uint64_t seed;      /* bootstrap seed (default 1) */
};
void yoc_eval_opts_init(struct yoc_eval_opts *o);

/* The rows to match: n people, p numeric covariates, row-major. Borrowed. */
struct yoc_eval_input {
	size_t n;
	int p;
	const char *const *names;    /* p covariate names */
	const double *X;             /* n x p */
	const unsigned char *treat;  /* n: 1 treated, 0 candidate control */
	const char *const *key;      /* n stable keys that break ties, or NULL (row order) */
	const int64_t *stratum;      /* n exact-matching strata, or NULL */
};

/*
** The matched sets: set s is treated row set_t[s] with controls
** ctrl[set_c0[s] .. set_c0[s + 1] - 1] (rows of the input). Weights are
** MatchIt's for the ATT: 1 for a matched treated person, sum over its sets of
** 1 / (controls in the set) for a control, 0 for everyone unmatched.
*/
struct yoc_eval_match {
	size_t n;
	double *ps;                  /* n propensity scores */
	double *lps;                 /* n logits of the score */
	double *w;                   /* n matching weights */
	size_t nsets;
	size_t *set_t;               /* nsets */
	size_t *set_c0;              /* nsets + 1 */
	size_t *ctrl;                /* set_c0[nsets] rows */
	size_t n_treated, n_controls;
	size_t n_no_control;         /* treated people with no control left (or in their stratum) */
	size_t n_caliper;            /* treated people whose controls left were all beyond the caliper */
	size_t n_controls_used;      /* distinct controls in the matched set */
	double caliper_width;        /* caliper x SD of the logit, 0 when none */
	double distance;             /* total |score difference| over the matched pairs */
	int rounds;                  /* optimal: solves until the certificate held */
	unsigned char *in_model;     /* p: 1 if the covariate entered the score model */
	struct yoc_logit_fit fit;    /* coefficients: intercept, then the in_model covariates */
	char notes[1024];            /* constant covariates dropped, separation, ... */
};

/*
** Fits the propensity score treat ~ 1 + covariates by logistic regression
** (yoc_logit_fit, as R's glm) and matches greedily, nearest neighbour on the
** score, in the order of MatchIt's method "nearest" with m.order "largest":
** treated people from the highest score down (ties by key); for each, the
** available control with the closest score (ties by key) in the same
** stratum; with ratio K, K rounds, each giving every treated person still
** matched one more control. A caliper c drops a match when the controls'
** logits differ by more than c x SD(logit of the score over everyone).
** A covariate constant over all rows is left out of the model (noted).
** With method YOC_EVAL_OPTIMAL (eval_optimal.c), the pairs instead maximise
** the number of treated people matched within the strata and the caliper,
** then the number of pairs, then minimise the total |score difference|; without replacement only
** (replace is refused with YOC_EINVAL). The sets are in the same order
** (treated from the highest score down) and carry the same weights.
** Errors: YOC_EDATA (no treated, no controls, a model that cannot be fitted,
** nobody matched), YOC_EINVAL, YOC_ENOMEM. Free m with yoc_eval_match_free.
*/
int yoc_eval_match(const struct yoc_eval_input *in, const struct yoc_eval_opts *o,
		   struct yoc_eval_match *m, struct yoc_error *e);
void yoc_eval_match_free(struct yoc_eval_match *m);

/* The stable tie-break of both matchers: the key, then the row (eval_match.c). */
int yoc__eval_key_cmp(const struct yoc_eval_input *in, size_t a, size_t b);

/*
** Internal (eval_optimal.c): optimal pair matching of m's treated people on
** m->ps, m->lps and m->caliper_width, filling the sets, weights and drop
** counts of m as yoc_eval_match does. Errors: YOC_EDATA (nobody matched),
** YOC_ENOMEM.
*/
int yoc__eval_optimal(const struct yoc_eval_input *in, const struct yoc_eval_opts *o,
		      struct yoc_eval_match *m, struct yoc_error *e);

/* Balance of one covariate before and after matching. */
struct yoc_eval_balance {
	double mean_t, mean_c;           /* before: all treated, all candidate controls */
	double mean_t_m, mean_c_m;       /* after: matched treated, weighted controls */
	double smd_before, smd_after;    /* (mean_t - mean_c) / SD of the treated (all) */
	double vr_before, vr_after;      /* variance ratio treated / controls */
	int constant;                    /* no variation among the treated or anyone */
};

/*
** Balance of every covariate (out has in->p entries). The SMD divides by the
** standard deviation of all treated people (MatchIt's summary for the ATT);
** when that is 0, by the SD of everyone; when that is 0 too, SMDs are 0 and
** constant is set. Weighted variances: sum w (x - m)^2 x sum w /
** ((sum w)^2 - sum w^2).
*/
int yoc_eval_balance(const struct yoc_eval_input *in, const struct yoc_eval_match *m,
		     struct yoc_eval_balance *out);
/* Largest |SMD| after matching over non-constant covariates. */
double yoc_eval_max_smd(const struct yoc_eval_balance *b, int p);

/* An estimate with its 95% confidence interval. */
struct yoc_eval_est {
	double est, lo, hi, se;
	size_t n;                        /* sets or people it rests on */
};

struct yoc_eval_effect {
	struct yoc_eval_est did;         /* matched difference in differences (or ATT without pre) */
	struct yoc_eval_est naive;       /* treated alone, post - pre */
	struct yoc_eval_est unmatched;   /* all treated - all controls, post (Welch CI) */
	double t_pre, t_post, c_pre, c_post; /* matched treated and weighted control means */
};

/*
** The effect on one outcome. post has n values; pre n values or NULL (then
** did is the matched difference in post means: MatchIt's ATT, and naive is
** not defined: NAN). The DiD is the mean over matched sets of
** (post - pre of the treated) - (mean over the set's controls of post - pre);
** its CI is the percentile interval of nboot cluster-bootstrap replicates
** that resample matched sets with replacement, from a stream seeded by seed
** (so the same seed gives the same interval). The naive CI resamples matched
** treated people the same way.
*/
int yoc_eval_effect(const struct yoc_eval_input *in, const struct yoc_eval_match *m,
		    const double *pre, const double *post, const struct yoc_eval_opts *o,
		    struct yoc_eval_effect *out, struct yoc_error *e);

/*
** The pre-period trend check: the placebo difference in differences
** between the first and the last pre year (the same bootstrap). ok is 0 when
** its 95% CI excludes 0 and its size is over 0.1 SD of the outcome among the
** treated in the last pre year.
*/
struct yoc_eval_trend {
	struct yoc_eval_est placebo;
	int ok;
};
int yoc_eval_trend(const struct yoc_eval_input *in, const struct yoc_eval_match *m,
		   const double *first, const double *last, const struct yoc_eval_opts *o,
		   struct yoc_eval_trend *out, struct yoc_error *e);

/* ---- the dataset (eval_data.c) -------------------------------------- */

#define YOC_EVAL_MAXYEARS 5
#define YOC_EVAL_NOUT 10

/* The outcomes, in table order: person_year columns (deaths: died). */
extern const char *const yoc_eval_outcomes[YOC_EVAL_NOUT];

/*
** truth/pilot.csv of yoc synth --pilot (docs/synth.md): one row per enrolled
** person and financial year from the start, each outcome without and with
** the pilot. With a key (the dataset's pseudonymisation key) people are
** named by their pseudo_id, else by NHS number. Outcomes the file lacks
** (died) are 0 and have[k] is 0. yoc_pilot_truth_free releases it all.
*/
struct yoc_pilot_truth_row {
	uint32_t person;                  /* index into id */
	int fyear;                        /* start year of the financial year */
	double without[YOC_EVAL_NOUT], with[YOC_EVAL_NOUT]; /* costs in pounds */
	double service;                   /* the year's share of the service's cost */
};
struct yoc_pilot_truth {
	size_t n;                         /* enrolled people, in file order */
	char (*id)[65];
	struct yoc_map map;               /* id -> index */
	size_t nrow;
	struct yoc_pilot_truth_row *row;
	int32_t start;                    /* the enrolment day (the first row's) */
	int have[YOC_EVAL_NOUT];
};
int yoc_pilot_truth_read(const char *dir, const char *keypath, struct yoc_pilot_truth *t,
			 struct yoc_error *e);
void yoc_pilot_truth_free(struct yoc_pilot_truth *t);

struct yoc_eval_db_opts {
	int start_fyear;             /* first year of the service (the year of the start date) */
	int32_t start;               /* the start date */
	int pre_years, post_years;   /* defaults 2 and 1 */
	const char *covariates;      /* comma list of person_year columns, or NULL: defaults */
	const char *exact;           /* comma list of covariates to match exactly, or NULL */
	int other_practices;         /* 1: controls from any practice; 0: the treated's practices */
};

/* Who is treated: pseudo_ids (borrowed strings), optional per-person starts. */
struct yoc_eval_treated {
	size_t n;
	const char *const *pseudo_id;
};

/* Counts of people dropped at each step, for the messages and the report. */
struct yoc_eval_counts {
	size_t listed;               /* pseudo_ids in the treated list (distinct) */
	size_t not_found;            /* listed but not in the dataset at all */
	size_t no_baseline;          /* no person_year row in the year before the start */
	size_t died_before;          /* died in the baseline year */
	size_t missing_covariate;    /* treated people with a covariate unknown (NULL) */
	size_t missing_covariate_controls;
	size_t treated;              /* treated people eligible */
	size_t controls;             /* eligible controls */
	size_t other_practice;       /* controls left out for their practice */
};

/* The data of an evaluation read from person_year. */
struct yoc_eval_data {
	struct yoc_eval_input in;
	char **ids;                  /* n pseudo_ids */
	char **names;                /* p covariate names */
	double *X;
	unsigned char *treat;
	int64_t *stratum;            /* or NULL */
	double *pre[YOC_EVAL_MAXYEARS][YOC_EVAL_NOUT];  /* [k][o]: pre year k (0 = earliest) */
	double *post[YOC_EVAL_NOUT];                     /* mean over the post years */
	int pre_years, post_years;
	struct yoc_eval_counts cnt;
};

int yoc_eval_data_load(sqlite3 *db, const struct yoc_eval_db_opts *o,
		       const struct yoc_eval_treated *t, struct yoc_eval_data *d,
		       struct yoc_error *e);
void yoc_eval_data_free(struct yoc_eval_data *d);

#endif

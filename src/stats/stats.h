/*
** Statistics shared by risk stratification, evaluation, simulation and
** outcomes: logistic regression by IRLS (as R's glm.fit), a Cholesky
** factorisation that detects aliased columns, AUC with DeLong's confidence
** interval, Brier scores and calibration.
**
** Files: stats_chol.c (Cholesky), stats_logit.c (IRLS), stats_auc.c (AUC,
** DeLong), stats_calib.c (Brier, calibration by group, slope and intercept).
** See docs/stats.md for the methods and what is compared with R.
**
** Depends on core only. Nothing here prints or exits: functions return 0 or a
** negative enum yoc_status and, where given one, fill a struct yoc_error.
** Matrices are dense, row-major doubles. Outcomes are doubles 0 or 1.
*/
#ifndef YOC_STATS_H
#define YOC_STATS_H

#include <stddef.h>

#include "yoc/core.h"

/* ---- Cholesky (stats_chol.c) ---------------------------------------- */

/*
** Factorises the symmetric p x p matrix a (row-major; only the lower
** triangle is read) in place into L with A = L L' (lower triangle written,
** upper triangle zeroed). Columns are taken in order; column j is aliased
** when the part of it not explained by the earlier kept columns is small:
** pivot d_j <= tol * A_jj (a zero column always is). An aliased column's row
** and column of L are set to zero and aliased[j] = 1 (else 0). This is R's
** "limited pivoting": of a collinear set, the later columns are dropped.
** Returns the number of aliased columns (>= 0), or YOC_EDATA if a pivot is
** clearly negative (the matrix is not positive semi-definite).
*/
int yoc_chol_factor(double *a, int p, double tol, unsigned char *aliased);

/* Solves L L' x = b in place (b has p entries); aliased entries become 0. */
void yoc_chol_solve(const double *l, int p, const unsigned char *aliased, double *b);

/*
** Writes the inverse of L L' restricted to the kept columns into inv
** (p x p, row-major, full symmetric); rows and columns of aliased columns are
** 0. Needs p doubles of scratch in work.
*/
void yoc_chol_inverse(const double *l, int p, const unsigned char *aliased,
		      double *inv, double *work);

/* ---- Logistic regression (stats_logit.c) ---------------------------- */

struct yoc_logit_opts {
	int intercept;       /* column index of the intercept column, or -1 (default -1) */
	double lambda;       /* ridge penalty on every column but the intercept (default 0) */
	int maxit;           /* most IRLS iterations (default 25, as glm.control) */
	double epsilon;      /* |dev - devold| / (|dev| + 0.1) < epsilon (default 1e-8) */
	double alias_tol;    /* Cholesky alias threshold on squared norms (default 1e-10) */
	const double *offset;       /* n values added to the linear predictor, or NULL */
	const char *const *names;   /* p term names for messages, or NULL ("x1".."xp") */
};

/* Fills the defaults above. */
void yoc_logit_opts_init(struct yoc_logit_opts *o);

/* Most IRLS iterations that any fit records (the cap on maxit). */
#define YOC_LOGIT_MAXIT 1000

struct yoc_logit_fit {
	int p;
	double *coef;            /* p; NAN for an aliased column (R's NA) */
	double *se;              /* p; NAN for an aliased column */
	unsigned char *aliased;  /* p; 1: constant or collinear, dropped */
	int rank;                /* p minus aliased columns */
	int iter;                /* IRLS iterations done */
	int converged;           /* 1 if the deviance criterion was met */
	double deviance;         /* -2 log likelihood at coef (without the penalty) */
	double null_deviance;    /* of the intercept-only model (or eta = offset) */
	double *dev_log;         /* deviance after each iteration (iter entries; with
				    lambda > 0, the penalised deviance) */
	int separation;          /* 1: fitted probabilities numerically 0 or 1 */
	size_t n_boundary;       /* observations fitted at 0 or 1 */
	unsigned char *diverging;/* p; 1: coefficient still moving at the end */
	char warning[512];       /* "" or a warning for the user (separation) */
};

/*
** Fits y ~ X by maximum likelihood (penalised when lambda > 0) with IRLS,
** following R's glm.fit (binomial, logit link): start at mu = (y + 0.5) / 2;
** each iteration solves (X'WX + lambda D) beta = X'W z with W = mu (1 - mu),
** z = eta + (y - mu) / W; stop when |dev - devold| / (|dev| + 0.1) < epsilon.
** Standard errors are the square roots of the diagonal of the inverse of
** X'WX + lambda D from the last iteration (as summary.glm).
**
** X is n x p row-major; y has n values 0 or 1. The caller supplies any
** intercept column and gives its index in opts (NULL opts: defaults).
**
** On success returns 0 and fills fit (free with yoc_logit_fit_free): aliased
** columns are dropped and reported; separation is not an error but sets
** fit->separation, fit->diverging and fit->warning (naming the terms and
** suggesting a ridge penalty). If the fit does not converge in maxit
** iterations (and no separation explains why) returns YOC_EDATA with the
** deviance of every iteration in e->msg; fit is still filled, so dev_log has
** the whole log. YOC_EINVAL for bad arguments (y not 0/1, non-finite X),
** YOC_ENOMEM (fit then holds nothing). yoc_logit_fit_free(fit) is safe after
** any return, and needed after 0 and YOC_EDATA.
*/
int yoc_logit_fit(const double *X, size_t n, int p, const double *y,
		  const struct yoc_logit_opts *opts, struct yoc_logit_fit *fit,
		  struct yoc_error *e);

/* Frees what yoc_logit_fit allocated; accepts a zeroed or freed fit. */
void yoc_logit_fit_free(struct yoc_logit_fit *fit);

/*
** Checks there are enough events per term before a fit: events is the rarer
** outcome's count (min of ones and zeros); nterms the terms besides the
** intercept. Returns 0 if events >= min_per_term * nterms, else YOC_EDATA
** with the numbers in e ("38 events (outcome 1) for 5 terms: 7.6 per term,
** fewer than 10").
*/
int yoc_logit_check_events(const double *y, size_t n, int nterms, double min_per_term,
			   struct yoc_error *e);

/* ---- AUC and DeLong (stats_auc.c) ----------------------------------- */

struct yoc_auc {
	double auc;         /* P(score of a 1 > score of a 0), ties counted half */
	double var;         /* DeLong variance */
	double se;          /* sqrt(var) */
	double lo, hi;      /* 95% CI: auc -/+ 1.96 se, clamped to [0, 1] (as pROC) */
	size_t n_pos, n_neg;
};

/*
** AUC from midranks in O(n log n), with DeLong's variance (the structural
** components V10, V01 from midranks, as Sun and Xu's fast DeLong). Needs at
** least one of each outcome (YOC_EDATA otherwise); with a single one of
** either the variance is not defined and is NAN. Non-finite scores or y not
** 0/1: YOC_EINVAL.
*/
int yoc_auc_delong(const double *score, const double *y, size_t n, struct yoc_auc *out,
		   struct yoc_error *e);

/* ---- Brier and calibration (stats_calib.c) -------------------------- */

struct yoc_brier {
	double brier;       /* mean (p - y)^2 */
	double brier_max;   /* of predicting the prevalence: ybar (1 - ybar) */
	double scaled;      /* 1 - brier / brier_max (NAN if brier_max is 0) */
};

int yoc_brier(const double *p, const double *y, size_t n, struct yoc_brier *out,
	      struct yoc_error *e);

struct yoc_calib_group {
	size_t n;
	double observed;    /* events */
	double expected;    /* sum of predicted risk */
	double p_min, p_max, p_mean;
};

/*
** Observed against expected events by group of predicted risk: rows sorted
** by p (ties in input order), cut into ngroups groups of equal size (sizes
** differ by at most one, larger groups last). out has ngroups entries;
** ngroups must be 1..n.
*/
int yoc_calib_groups(const double *p, const double *y, size_t n, int ngroups,
		     struct yoc_calib_group *out, struct yoc_error *e);

struct yoc_calib {
	double slope;       /* b in logit P(y) = a + b logit(p) */
	double slope_se;
	double intercept;   /* a in the same model */
	double intercept_se;
	double citl;        /* calibration-in-the-large: a in logit P(y) = a + logit(p) */
	double citl_se;
};

/*
** Logistic recalibration of y on logit(p) with yoc_logit_fit. Predictions
** are clamped to [1e-12, 1 - 1e-12] before the logit. Errors as
** yoc_logit_fit (separation gives YOC_EDATA here: no slope can be reported).
*/
int yoc_calib_slope(const double *p, const double *y, size_t n, struct yoc_calib *out,
		    struct yoc_error *e);

/* ---- Poisson: exact intervals, funnel limits (stats_poisson.c) ----- */

/*
** The exact (Garwood) two-sided confidence interval at level (0.95) of the
** mean of a Poisson count obs: lo = qchisq((1-level)/2, 2 obs) / 2 (0 when
** obs is 0), hi = qchisq((1+level)/2, 2 (obs + 1)) / 2, as R's
** poisson.test. Returns 0, or YOC_EINVAL for obs < 0 or level outside (0, 1).
*/
int yoc_poisson_ci(double obs, double level, double *lo, double *hi);

/* The p-quantile of Poisson(mu): the smallest k with P(X <= k) >= p (R's
 * qpois); 0 when mu <= 0 or p is outside (0, 1). */
double yoc_poisson_quantile(double p, double mu);

/*
** A funnel-plot control limit for an indirectly standardised ratio O/E
** around a target of 1 (Spiegelhalter 2005, appendix A.1.1): with r the
** p-quantile of Poisson(E) and F its distribution function,
** alpha = (F(r) - p) / (F(r) - F(r - 1)), the limit is (r - alpha) / E.
** p = 0.025/0.975 give the 95% limits, 0.001/0.999 the 99.8% limits.
** A limit below 0 (small E, r = 0) is returned as 0. NaN when expected <= 0 or p is outside (0, 1).
*/
double yoc_funnel_limit(double expected, double p);

/*
** Indirect standardisation: the expected count (or amount) of a unit with
** n[i] people in each of ncell strata (age-sex cells) at the reference
** population's rate[i] per person, sum n[i] x rate[i]. The standardised
** ratio is observed / this.
*/
double yoc_indirect_expected(size_t ncell, const double *n, const double *rate);

/* ---- statistical process control (stats_spc.c) ----------------------- */

/*
** XmR (individuals) charts as NHS "Making Data Count" draws them; the
** method, step by step, heads stats_spc.c (docs/stats.md).
*/
#define YOC_SPC_D2 1.128         /* sigma = mean moving range / d2 */
#define YOC_SPC_E2 2.66          /* limits = mean +- E2 x mean moving range */
#define YOC_SPC_SHIFT_LEN 7      /* points on one side of the mean */
#define YOC_SPC_TREND_LEN 6      /* points each rising or each falling */

/* Rules a point is flagged by (struct yoc_spc_point.rules). */
enum {
	YOC_SPC_OUTSIDE = 1,       /* beyond a process limit */
	YOC_SPC_SHIFT = 2,         /* in a run of 7+ on one side of the mean */
	YOC_SPC_TREND = 4,         /* in a run of 6+ rising or falling points */
	YOC_SPC_TWO_OF_THREE = 8   /* 2 of 3 consecutive beyond 2 sigma, one side */
};

/* The variation a point shows. */
enum { YOC_SPC_COMMON = 0, YOC_SPC_IMPROVEMENT, YOC_SPC_CONCERN, YOC_SPC_NEITHER };

struct yoc_spc {
	size_t n;
	int valid;            /* 0: fewer than 2 points (limits NaN, no rules) */
	double mean, mr_mean, sigma;
	double ucl, lcl;      /* mean +- 2.66 mr_mean */
	double upper2, lower2; /* mean +- 2 sigma */
	size_t special;       /* points flagged by some rule */
};

struct yoc_spc_point {
	double mr;            /* |x[i] - x[i-1]|; NaN for the first point */
	unsigned rules;       /* YOC_SPC_OUTSIDE | ... */
	int high, low;        /* flagged on the high side, the low side */
	int variation;        /* YOC_SPC_COMMON ... */
};

/*
** The XmR chart of the n points x (in time order). better: +1 when higher
** is better, -1 when lower is better, 0 when neither is (special causes are
** then YOC_SPC_NEITHER). Writes out and pt[0..n-1]. YOC_EINVAL for n = 0 or
** a point that is not finite.
*/
int yoc_spc_xmr(const double *x, size_t n, int better, struct yoc_spc *out,
		struct yoc_spc_point *pt, struct yoc_error *e);
/* "common cause", "special cause: improvement", ... */
const char *yoc_spc_variation_name(int variation);

/* ---- Making Data Count charts: XmR, p, u (stats_spc_mdc.c) -------------- */

/*
** The general chart behind yoc_spc_xmr, as NHS England's "Making Data
** Count" tools draw it: an XmR chart whose moving ranges above 3.267 x
** their mean are screened out once before the limits are set, p-charts of
** proportions and u-charts of rates with limits per point, special-cause
** rules with configurable run and trend lengths (recorded with the chart),
** limits recalculated from each marked step change, the variation icon of
** the latest point and the assurance icon against a target. The method,
** step by step, heads stats_spc_mdc.c (docs/stats.md).
*/
#define YOC_SPC_SCREEN 3.267     /* moving ranges above this x their mean are screened */

enum yoc_spc_type { YOC_SPC_XMR = 0, YOC_SPC_PCHART, YOC_SPC_UCHART };

/* The variation icon of the latest point. */
enum {
	YOC_SPC_ICON_COMMON = 0, YOC_SPC_ICON_IMPROVE_HIGH, YOC_SPC_ICON_IMPROVE_LOW,
	YOC_SPC_ICON_CONCERN_HIGH, YOC_SPC_ICON_CONCERN_LOW, YOC_SPC_ICON_NEITHER_HIGH,
	YOC_SPC_ICON_NEITHER_LOW, YOC_SPC_ICON_NONE
};
/* The assurance icon: the latest limits against the target. */
enum {
	YOC_SPC_ASSURE_NONE = 0,   /* no target, no better direction or no limits */
	YOC_SPC_ASSURE_PASS,       /* both limits on the better side: consistently passes */
	YOC_SPC_ASSURE_FAIL,       /* both limits on the worse side: consistently fails */
	YOC_SPC_ASSURE_HIT_MISS    /* the target between the limits: hit and miss */
};

struct yoc_spc_opts {
	int type;               /* enum yoc_spc_type */
	int better;             /* +1 higher is better, -1 lower, 0 neither */
	int shift_len;          /* points on one side of the centre line (default 7) */
	int trend_len;          /* points each rising or each falling (default 6) */
	int screen;             /* XmR: screen moving ranges once (default 1) */
	double target;          /* NaN: none */
	const size_t *steps;    /* ascending indices 0 < s < n where a new phase starts */
	size_t nsteps;
};
/* Defaults: shift 7, trend 6, screening on, no target, no steps. */
void yoc_spc_opts_init(struct yoc_spc_opts *o, int type, int better);

struct yoc_spc_mpoint {
	int present;            /* 0: no value (den <= 0 or x NaN): no rules, no limits */
	int phase;              /* 0, 1, ... from the step changes */
	double x;               /* the value: x (XmR), num / den (p, u) */
	double centre, ucl, lcl, upper2, lower2; /* this point's lines (NaN: none) */
	double mr;              /* XmR: |x - previous present point| in the phase, else NaN */
	int screened;           /* this moving range was left out of the mean */
	unsigned rules;         /* YOC_SPC_OUTSIDE | ... */
	int high, low;
	int variation;          /* YOC_SPC_COMMON ... */
};

struct yoc_spc_chart {
	size_t n, present, nphase, special, screened;
	int type, better, shift_len, trend_len, screen;
	double target;
	/* the last phase (p, u: the latest present point's limits) */
	int valid;              /* the last phase has 2+ points (XmR) or 1+ (p, u) */
	double centre, mr_mean, sigma, ucl, lcl;
	int icon;               /* YOC_SPC_ICON_* of the latest present point */
	int assurance;          /* YOC_SPC_ASSURE_* */
};

/*
** The chart of n points in time order. XmR: x = num[i] (den NULL; a NaN is
** a missing point). p and u: x = num[i] / den[i], a den[i] <= 0 a missing
** point; p needs 0 <= num <= den. Writes out and pt[0..n-1]. YOC_EINVAL for
** n = 0, an infinite value, bad options or steps out of order.
*/
int yoc_spc_chart(const double *num, const double *den, size_t n,
		  const struct yoc_spc_opts *o, struct yoc_spc_chart *out,
		  struct yoc_spc_mpoint *pt, struct yoc_error *e);
/* "XmR", "p", "u". */
const char *yoc_spc_type_name(int type);
/* "common cause", "improvement (high)", ... */
const char *yoc_spc_icon_name(int icon);
/* "consistently passes the target", ... ("" for none). */
const char *yoc_spc_assurance_name(int assurance);
/*
** The rules a point's flags name, joined by "; " into buf ("" for none):
** "beyond the limits; shift (7 on one side)". Returns buf.
*/
char *yoc_spc_rules_text(unsigned rules, int shift_len, int trend_len, char *buf, size_t cap);

/* ---- seeded random streams and quantiles (stats_boot.c) ---------------- */

#include <stdint.h>

/*
** A random stream for resampling: xoshiro256** seeded through splitmix64,
** so one 64-bit seed gives the same stream on every machine. Separate
** streams (one per task) come from different seeds.
*/
struct yoc_rng {
	uint64_t s[4];
};
void yoc_rng_seed(struct yoc_rng *r, uint64_t seed);
uint64_t yoc_rng_next(struct yoc_rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias (Lemire's method). */
uint64_t yoc_rng_below(struct yoc_rng *r, uint64_t n);
/* Quantile p (0..1) of sorted x[0..n-1], n > 0: R's default (type 7). */
double yoc_quantile_sorted(const double *x, size_t n, double p);

#endif

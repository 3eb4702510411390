/*
** Statistical disclosure control for published counts.
**
** Every count that yoc publishes (report pages, workbook, CSV) passes through
** here. The rule, after NHS Digital's HES/ECDS practice:
**   - zero is published as 0 (a structural or true zero is not a small count);
**   - counts 1..threshold (default 7) are suppressed, shown as "*";
**   - other counts are rounded to the nearest `round_to` (default 5; halves
**     round up);
**   - secondary suppression: in a table with margins (row totals, column
**     totals, grand total) further cells are suppressed until no suppressed
**     primary cell can be computed exactly from the published cells and the
**     table's additive relations, choosing the patterns that hide least
**     (fewest cells, no totals, smallest values) and showing again any
**     cell not needed (see docs/disclosure.md);
**   - statistics built on people (means, medians, percentiles, costs) are
**     shown only where their count cell is shown;
**   - money and the count it sits beside are protected together: sums of
**     money are published to 3 significant figures (never finer than whole
**     pounds), a mean is the published sum over the published count (whole
**     pounds), a percentage or rate is of published counts; so no published
**     figure gives back a count more exactly than its published value
**     (total / mean = count was the attack).
**
** Nothing here allocates on the caller's behalf beyond the call, prints or
** exits. Functions return 0 or a negative enum yoc_status.
*/
#ifndef YOC_SDC_H
#define YOC_SDC_H

#include <stdint.h>

#include "yoc/core.h"

struct yoc_sdc {
	int64_t threshold;  /* counts 1..threshold are suppressed (default 7) */
	int64_t round_to;   /* round others to a multiple of this (default 5; 1 = none) */
	int64_t min_pctl;   /* fewest people for a 5th/95th percentile (default 20) */
	int money_sf;       /* significant figures of a published sum of money (default 3) */
	int off;            /* 1: --no-suppression, publish exact values */
};

/* Cell states written by yoc_sdc_protect. */
enum yoc_sdc_state {
	YOC_SDC_SHOWN = 0,
	YOC_SDC_PRIMARY = 1,   /* a count of 1..threshold */
	YOC_SDC_SECONDARY = 2  /* hidden so that a primary cell cannot be derived */
};

/* Value written for a suppressed cell. */
#define YOC_SDC_HIDDEN (-1)

/* Defaults: threshold 7, round to 5, percentiles need 20, money to 3
 * significant figures, on. */
void yoc_sdc_init(struct yoc_sdc *s);

/* One count on its own (no table): the rounded value or YOC_SDC_HIDDEN. */
int64_t yoc_sdc_one(const struct yoc_sdc *s, int64_t n);

/*
** Protects a table of nrows x ncols non-negative counts v (row-major). With
** total_col set the last column holds each row's total; with total_row set
** the last row holds each column's total (and, with both, the last cell is
** the grand total). A 1-D table with a total is ncols 1, total_row 1.
** Writes the state of every cell into state[] and the published value
** (rounded, or YOC_SDC_HIDDEN) into out[]. Margins must add up (YOC_EINVAL
** otherwise: a table that does not add up cannot be protected by reasoning
** about its sums). nrows * ncols at most 4096, except a column with its
** total (ncols 1, total_row 1, total_col 0), which may be of any length.
*/
int yoc_sdc_protect(const struct yoc_sdc *s, int nrows, int ncols, int total_row,
		    int total_col, const int64_t *v, unsigned char *state, int64_t *out);
/*
** The same, with cells that must be hidden whatever their value: hide[c]
** nonzero (hide may be NULL). They are protected like primary cells (state
** YOC_SDC_PRIMARY), so none can be worked out from the table; used for a
** cell that another published table hides, such as a practice's total in
** its data pack when the table of practices hides the practice's count.
*/
int yoc_sdc_protect_hide(const struct yoc_sdc *s, int nrows, int ncols, int total_row,
			 int total_col, const int64_t *v, const unsigned char *hide,
			 unsigned char *state, int64_t *out);

/*
** 1 if the suppressed cell idx of the table (same layout as above, state[]
** from yoc_sdc_protect, 0 = shown) can be computed exactly from the shown
** cells and the margin relations; 0 if not; negative status on error. The
** exact linear-algebra test used by the secondary suppression.
*/
int yoc_sdc_derivable(int nrows, int ncols, int total_row, int total_col,
		      const unsigned char *state, int idx);

/* 1 if a statistic over a group of n people whose count cell has `state` may be shown. */
int yoc_sdc_stat_ok(const struct yoc_sdc *s, int64_t n, int state);
/* Same for a 5th/95th percentile (also needs n >= min_pctl). */
int yoc_sdc_pctl_ok(const struct yoc_sdc *s, int64_t n, int state);

/*
** A sum of money in pence as published: rounded (halves away from zero) to
** money_sf significant figures and never to less than whole pounds
** (173808477 pence, GBP 1,738,084.77, is published as GBP 1,740,000); exact
** with s->off. A rounded total beside a mean of the same group cannot be
** divided by it to give back the group's count.
*/
int64_t yoc_sdc_money(const struct yoc_sdc *s, int64_t pence);

/*
** A mean per person in pence as published: yoc_sdc_money(sum) divided by
** the group's published count n_pub, to whole pounds (halves away from
** zero), so it tells nothing the published total and count do not. With
** s->off the exact mean sum / n to the penny. 0 when the count is hidden or
** 0 (the caller hides such a mean through yoc_sdc_stat_ok).
*/
int64_t yoc_sdc_mean(const struct yoc_sdc *s, int64_t sum, int64_t n, int64_t n_pub);

/*
** A percentage (scale 100) or rate (per 1,000: scale 1000) of a group of
** den people whose count cell has den_state, to one decimal; NAN when it
** may not be shown: the group's statistics are hidden (yoc_sdc_stat_ok),
** num is a small count (1..threshold), or, with complement set (num counts
** some of the group's people), den - num is. Computed from the published
** numerator and the published count (yoc_sdc_one), so it cannot give back
** the exact count the rounding protects. Exact with s->off.
*/
double yoc_sdc_rate(const struct yoc_sdc *s, int64_t num, int64_t den, int den_state,
		    int64_t scale, int complement);

/*
** Text of a published value: "*" for YOC_SDC_HIDDEN, else the decimal
** number; with thousands set, "12,345". buf at least 32 bytes.
*/
const char *yoc_sdc_fmt(int64_t published, int thousands, char *buf);

#endif

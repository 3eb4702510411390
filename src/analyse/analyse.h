/*
** Whole population analysis: builds the person_year table (one row per
** registered person per NHS financial year: demographics, long-term
** conditions, currency band, use and cost of care in every setting) and its
** companions analyse_run, unpriced_activity, costing_summary and
** provider_cost in DIR/yoc.db. docs/analysis.md is the user's contract,
** docs/costing.md the pricing rules (src/cost, shared with yoc synth).
**
** How it runs: one pass over the register segments (who is registered in
** which year, at which practice, GP register LTC flags), then one pass over
** every current activity segment, several segments at a time on worker
** threads, adding each row into per-person-per-year accumulators indexed by
** person index. A row only ever touches its own person's accumulators, so
** every person's result depends on that person's records alone (a dataset
** split by pseudonym gives the same rows). Then one transaction writes the
** tables through prepared statements, replacing earlier results.
**
** Nothing here prints (progress aside) or exits; errors go into the
** caller's struct yoc_error.
*/
#ifndef YOC_ANALYSE_H
#define YOC_ANALYSE_H

#include <stddef.h>
#include <stdint.h>

#include "yoc/core.h"

/* ---- currency bands ------------------------------------------------------- */

#define YOC_BANDS_MAX 16

/* Bands of LTC count: name[i] covers lo[i]..hi[i] (hi -1: no upper bound). */
struct yoc_bands {
	int n;
	char name[YOC_BANDS_MAX][8];
	int lo[YOC_BANDS_MAX], hi[YOC_BANDS_MAX];
};

/* The default, after Kent: "A:0-1,B:2,C:3-5,D:6-8,E:9+". */
extern const char yoc_bands_default[];
/*
** Parses "NAME:LO-HI,NAME:N,NAME:LO+" (names 1-7 letters, digits or '_').
** The bands must cover 0, 1, 2, ... without gaps or overlaps, and the last
** must be open ("LO+"). 0 or YOC_EPARSE with e saying why.
*/
int yoc_bands_parse(struct yoc_bands *b, const char *spec, struct yoc_error *e);
/* Band name of an LTC count (static lifetime of b). */
const char *yoc_bands_of(const struct yoc_bands *b, int ltc_count);
/* Writes the canonical spec ("A:0-1,B:2,...") into buf; returns buf. */
char *yoc_bands_format(const struct yoc_bands *b, char *buf, size_t cap);

/* ---- the analysis ------------------------------------------------------------ */

struct yoc_analyse_opts {
	const char *dir;          /* dataset directory (DIR/yoc.db) */
	const char *codelist;     /* LTC code list CSV (data/ltc_codelist.csv) */
	const char *tariff_dir;   /* ncc_2023_24.csv and unit_costs.csv */
	int lookback_years;       /* ICD-10 lookback in financial years, >= 1; default 3 */
	const char *bands;        /* band spec; NULL: yoc_bands_default */
	int threads;              /* worker threads; 0: number of CPUs, at most 8 */
	int progress;             /* draw progress on a terminal */
};

void yoc_analyse_opts_init(struct yoc_analyse_opts *o);

struct yoc_analyse_stats {
	int first_year, years;        /* analysed financial years (2021 = 2021/22) */
	uint64_t persons;             /* persons with at least one person-year */
	uint64_t person_years;        /* person_year rows */
	uint64_t practice_unknown;    /* of them with practice NULL: invalid practice code */
	uint64_t files, rows;         /* activity segments and rows read */
	uint64_t unlinked;            /* rows without a registered person */
	uint64_t outside;             /* linked rows outside any registered person-year */
	uint64_t unpriced;            /* rows left out of the costs (unpriced_activity) */
	uint64_t priced_average;      /* rows priced at a department average */
	int64_t cost_total;           /* pence over all person-years */
	char codelist_version[64];
	int direct_lookup;            /* persons found by pseudonym bits, not the store's map */
	double seconds;
	/* where the time went: tables and persons, registers, activity, writing */
	double t_setup, t_register, t_activity, t_write;
	/* gaps in the register (register_gaps): person-years carried forward, and
	 * persons lost (open at the end of a year, no row or evidence the next) */
	uint64_t gaps_bridged, gaps_lost;
};

/*
** Runs the analysis on the dataset opts->dir (opened for writing, so it
** waits for no loader and no loader runs meanwhile). Replaces the tables
** person_year, analyse_run, unpriced_activity, costing_summary,
** provider_cost and register_gaps in one transaction: a failure leaves the
** earlier results.
** Returns 0 or a negative status with e filled.
*/
int yoc_analyse_run(const struct yoc_analyse_opts *o, struct yoc_analyse_stats *st,
		    struct yoc_error *e);

#endif

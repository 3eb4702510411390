/*
** yoc synth: a synthetic care economy written as the providers' own feeds,
** with injected data defects and the ground truth to check every later
** stage against. docs/synth.md describes the model and its calibration,
** docs/feeds.md the files, docs/costing.md the pricing rules.
**
** Output under opts.out_dir:
**   feeds/<kind>/<PROVIDER>_<YYYY-MM>.csv   one file per provider per month
**   feeds/gp_register/<PRACTICE>_<YYYY-YY>.csv  one per practice per year
**   manifest.json        every file, its rows and per-defect row counts
**   truth/person_year.csv   one row per registered person per financial year
**   contracts.csv, optout.csv
**
** Determinism: the same options (and data/ tables) give byte-identical
** output. Every person draws from their own random stream seeded by
** (seed, person index), and defects from a second stream, so --clean and
** the default write identical truth. Memory is bounded: rows are buffered
** per file up to opts.buffer_bytes in total and then appended to disk.
**
** Nothing here prints (progress aside, when opts.progress is set) or exits.
*/
#ifndef YOC_SYNTH_H
#define YOC_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "yoc/core.h"

struct yoc_synth_opts {
	uint64_t persons;      /* registered population on 1 April of first_year */
	int years;             /* financial years, 1..10 */
	int first_year;        /* starting calendar year of the first fyear (2021 = 2021/22) */
	uint64_t seed;
	double defect_rate;    /* multiplier of the default defect rates; 0 = clean */
	const char *out_dir;
	const char *data_dir;  /* ncc_2023_24.csv, unit_costs.csv, ltc_codelist.csv */
	int force;             /* allow a non-empty out_dir */
	int progress;          /* draw progress on a terminal */
	size_t buffer_bytes;   /* total row buffer before appending to disk */
	int identifiers;       /* names and postcodes on every row, noisy where the NHS
				* number is lost (synth_idnoise.c); 0: not written */
};

/* Defaults: 100,000 persons, 3 years from 2021, seed 1, defect rate 1. */
void yoc_synth_opts_init(struct yoc_synth_opts *o);

struct yoc_synth_stats {
	uint64_t persons;         /* everyone ever registered (baseline, births, movers in) */
	uint64_t person_years;    /* truth rows */
	uint64_t files;           /* feed files written (withheld ones not counted) */
	uint64_t rows;            /* feed data rows written */
	uint64_t defect_rows;     /* rows carrying a row-level defect */
	uint64_t nhs_overflow;    /* persons numbered outside the 999 test range */
	uint64_t bytes;           /* bytes of feed files */
	double seconds;
};

/*
** Writes the whole synthetic economy. Returns 0 or a negative status with e
** filled (YOC_EEXIST when out_dir is not empty and force is 0).
*/
int yoc_synth_run(const struct yoc_synth_opts *o, struct yoc_synth_stats *st,
		  struct yoc_error *e);

/* Number of valid NHS numbers in the 999 test range (9990000000-9999999999). */
uint64_t yoc_synth_nhs_capacity(void);

#endif

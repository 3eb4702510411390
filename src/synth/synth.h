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
**   truth/pilot.csv      with a pilot: every enrolled person's care per year
**                        with and without the pilot
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

/*
** A pilot service (docs/synth.md, "A pilot"): who is enrolled on the start
** day, by a rule over their true state then, and the true effect on their
** care from that day. Filled by yoc_synth_pilot_read.
*/
#define YOC_PILOT_MAXPRAC 256
struct yoc_synth_pilot {
	char practices[YOC_PILOT_MAXPRAC][8]; /* practice codes; none listed: every practice */
	int npractices;
	int32_t start;          /* enrolment day */
	int min_age;            /* at the start */
	int min_ltc;            /* true long-term conditions (onset on or before the start) */
	int min_prior_emergency;/* emergency admissions in the 365 days before the start */
	double uptake;          /* share of the eligible who enrol */
	double m_emergency;     /* rate multipliers from enrolment on (<= 1 for emergency and A&E) */
	double m_ae, m_community, m_gp;
	int64_t service_pence;  /* the service's own cost per enrolled person-year */
};

/*
** Reads a pilot file of "key = value" lines (# comments): practices, start,
** min_age, min_ltc, min_prior_emergency, uptake, effect.emergency,
** effect.ae, effect.community, effect.gp, service_cost (pounds). Unknown
** keys and bad values are errors with their line.
*/
int yoc_synth_pilot_read(const char *path, struct yoc_synth_pilot *p, struct yoc_error *e);
/* The same from memory (name for messages): YOC_EPARSE with the line. */
int yoc_synth_pilot_parse(const char *text, size_t n, const char *name,
			  struct yoc_synth_pilot *p, struct yoc_error *e);

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
	const struct yoc_synth_pilot *pilot; /* NULL: no pilot (the counterfactual) */
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
	uint64_t pilot_eligible;  /* met the pilot's rule */
	uint64_t pilot_enrolled;  /* ... and enrolled (truth/pilot.csv) */
	int pilot_missing_practices; /* listed but not in this economy: left out */
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

/*
** The data-quality report (after the Kent strategy): (1) linkage and
** standardisation, (2) profiling and gap analysis, (3) consistency over time.
** Computed from the catalog and current segments; writes DIR2/quality.csv
** (one tidy row per finding), DIR2/quality.html, DIR2/caveats.csv (the
** ranked caveats below), DIR2/issues.csv (every flagged check ranked by
** impact, the caveats' people and pence where they apply) and one feedback
** CSV per provider in DIR2/feedback/. Read-only on the dataset. docs/quality.md.
*/
#ifndef YOC_QUALITY_H
#define YOC_QUALITY_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store/store.h"

struct yoc_quality_opts {
	const char *contracts;   /* contracts.csv for triangulation, or NULL */
	double spike_ratio;      /* month flagged when > ratio x trailing median (default 1.5) */
	double dip_ratio;        /* or < ratio x trailing median (default 0.5) */
	double shift_tvd;        /* distribution shift: total variation distance (default 0.2) */
	const char *data_dir;    /* NCC tariff (data/): unknown HRG/currency codes, costing; or NULL */
	double contract_tolerance; /* contract flagged when |costed - contract| > this x contract (0.10) */
	const char *fyear;       /* "YYYY/YY" whose caveats rank the issues, or NULL: the latest */
};

/*
** Data-quality caveats of the published figures of one financial year
** (docs/quality.md "Caveats"), ranked by effect: pence first, then people,
** then rows, biggest first (rank 1 = biggest). Kinds:
**   missing_month    a provider sent some but not all 12 months of the year;
**                    pence: its cost in the year x missing / months sent;
**                    people: the people it costed in the year
**   renamed_column   a column sent under another name (loaded under its
**                    usual one); rows of the files concerned
**   average_priced   records priced at the average price of their kind: the
**                    pence so priced, rows
**   unpriced         records with no price: rows, pence estimated at the
**                    feed's mean price per priced record
**   no_pseudonym     records linked to nobody: rows, pence estimated so
**   practice_unknown people with no valid practice: people, their cost
** text is one plain English sentence; anchor is "quality.html#ID", the
** section of the quality report that shows the detail. Counts and pence
** are exact, NOT disclosure controlled: a published page must pass them
** through src/sdc (yoc_sdc_one, yoc_sdc_money).
** fyear "YYYY/YY", or NULL for the latest analysed year. On success *out
** is a yoc_malloc'd array of *n caveats (NULL and 0 when none; a dataset not
** analysed has none), freed by the caller with yoc_free. Read-only.
** Returns 0, YOC_EINVAL (bad fyear), YOC_ENOMEM or YOC_EIO (error in e).
*/
struct yoc_caveat {
	int rank;          /* 1 = biggest effect */
	char kind[24];     /* one of the kinds above */
	char text[512];    /* one sentence, UTF-8 */
	int64_t people;    /* people affected (0: not a count of people) */
	int64_t pence;     /* money affected or estimated missing, pence */
	int64_t rows;      /* records affected (0 when not applicable) */
	char anchor[48];   /* "quality.html#ID" */
};
int yoc_quality_caveats(sqlite3 *db, const char *fyear, struct yoc_caveat **out, size_t *n,
			struct yoc_error *e);
/* The same, with the people and pence of the year's person-years of no
 * practice given (unknown[0], unknown[1]) rather than counted in db's
 * person_year: a sharded report, whose catalog holds the shards' small
 * tables only (docs/mpi.md). unknown NULL: yoc_quality_caveats. */
int yoc_quality_caveats_with(sqlite3 *db, const char *fyear, const int64_t *unknown,
			     struct yoc_caveat **out, size_t *n, struct yoc_error *e);

int yoc_quality_write(yoc_store *s, const char *outdir, const struct yoc_quality_opts *o,
		      struct yoc_error *e);

#endif

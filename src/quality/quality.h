/*
** The data-quality report (after the Kent strategy): (1) linkage and
** standardisation, (2) profiling and gap analysis, (3) consistency over time.
** Computed from the catalog and current segments; writes DIR2/quality.csv
** (one tidy row per finding), DIR2/quality.html and one feedback CSV per
** provider in DIR2/feedback/. Read-only on the dataset. docs/quality.md.
*/
#ifndef YOC_QUALITY_H
#define YOC_QUALITY_H

#include "store/store.h"

struct yoc_quality_opts {
	const char *contracts;   /* contracts.csv for triangulation, or NULL */
	double spike_ratio;      /* month flagged when > ratio x trailing median (default 1.5) */
	double dip_ratio;        /* or < ratio x trailing median (default 0.5) */
	double shift_tvd;        /* distribution shift: total variation distance (default 0.2) */
	const char *data_dir;    /* NCC tariff (data/): unknown HRG/currency codes, costing; or NULL */
	double contract_tolerance; /* contract flagged when |costed - contract| > this x contract (0.10) */
};

int yoc_quality_write(yoc_store *s, const char *outdir, const struct yoc_quality_opts *o,
		      struct yoc_error *e);

#endif

/*
** yoc report: the published outputs of a whole population analysis, built
** from the person_year table (see docs/analysis.md) in a SQLite database:
**   OUT/index.html             the population report with inline SVG charts
**   OUT/practices.html         the fair comparison of practices
**   OUT/practices/CODE.html    one data pack per practice (a NULL practice,
**                              "practice unknown", is counted but has none)
**   OUT/yoc-report.xlsx        every table, one sheet each
**   OUT/csv/TABLE.csv          every table as CSV
**   OUT/manifest.json          provenance: versions, reference data hashes,
**                              parameters, dataset state hash, every file
** Every count, and every sum of money, mean, percentage and rate beside one,
** passes through src/sdc (unless sdc.off, which stamps a banner on every
** page, sheet and CSV). Every file is written atomically. Reads
** the database only; never changes it. See docs/report.md.
*/
#ifndef YOC_REPORT_H
#define YOC_REPORT_H

#include "sdc/sdc.h"
#include "yoc/core.h"

struct yoc_report_opts {
	const char *db;        /* path of the SQLite database holding person_year */
	const char *out;       /* output folder (created) */
	const char *fyear;     /* "2023/24"; NULL = the latest in person_year */
	struct yoc_sdc sdc;
	const char *pcn;       /* practice to PCN mapping CSV, or NULL (no grouping) */
	const char *quality_url; /* the quality report's page, relative to OUT; NULL: ../quality/quality.html */
	const char *params;    /* the command line's options, for the manifest, or NULL */
};

struct yoc_report_result {
	char fyear[16];
	long persons;          /* person_year rows in the year reported */
	long practices;        /* data packs written */
	long files;            /* files written in all */
	long tables;           /* tables published */
};

int yoc_report_write(const struct yoc_report_opts *o, struct yoc_report_result *res,
		     struct yoc_error *e);

#endif

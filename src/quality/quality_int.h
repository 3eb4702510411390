/*
** Internals shared by the quality report's files (quality.c: report frame,
** sections 1-3 and feedback; quality_checks.c: defects by file and contract
** triangulation). Not for use outside src/quality/.
*/
#ifndef YOC_QUALITY_INT_H
#define YOC_QUALITY_INT_H

#include "cost/cost.h"
#include "quality/quality.h"
#include "yoc/csv.h"

struct q {
	yoc_store *s;
	struct yoc_csvw w;
	struct yoc_buf html;
	const struct yoc_quality_opts *o;
	long findings;
	yoc_tariff *tariff;          /* NULL when data_dir was not given or failed */
	struct yoc_error tariff_err; /* why it failed */
};

/* One finding: a row of quality.csv and of the HTML table. expected NAN = none. */
void yoc__quality_row(struct q *Q, const char *section, const char *check, const char *kind,
		      const char *prov, const char *period, const char *field, double value,
		      double expected, const char *flag, const char *detail);
void yoc__quality_heading(struct q *Q, const char *title);

/* Section 0: every defect class counted per file (docs/quality.md). */
int yoc__quality_defects(struct q *Q, struct yoc_error *e);
/* Costed activity against contracts.csv (section 2). */
int yoc__quality_contracts(struct q *Q, struct yoc_error *e);

#endif

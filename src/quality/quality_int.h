/*
** Internals shared by the quality report's files (quality.c: report frame,
** sections 1-3 and feedback; quality_checks.c: defects by file and contract
** triangulation; quality_html.c: the HTML summary). Not for use outside
** src/quality/.
*/
#ifndef YOC_QUALITY_INT_H
#define YOC_QUALITY_INT_H

#include "cost/cost.h"
#include "quality/quality.h"
#include "yoc/csv.h"

struct q {
	yoc_store *s;
	struct yoc_csvw w;
	sqlite3_stmt *ins;           /* INSERT into temp.qrow: every finding, for the HTML */
	int ins_failed;
	const struct yoc_quality_opts *o;
	long findings;
	yoc_tariff *tariff;          /* NULL when data_dir was not given or failed */
	struct yoc_error tariff_err; /* why it failed */
};

/* One finding: a row of quality.csv, also kept in the connection's temporary
** table temp.qrow(sec, chk, kind, prov, period, field, value, expected, flag,
** detail) for the HTML. expected NAN = none (NULL in qrow). */
void yoc__quality_row(struct q *Q, const char *section, const char *check, const char *kind,
		      const char *prov, const char *period, const char *field, double value,
		      double expected, const char *flag, const char *detail);

/* Writes the HTML summary to f from temp.qrow and the catalog; it reads them
** with aggregate queries, so memory does not grow with the number of findings.
** Returns 0 or a negative status (error in e). */
int yoc__quality_html(struct q *Q, FILE *f, struct yoc_error *e);

/* Section 0: every defect class counted per file (docs/quality.md). */
int yoc__quality_defects(struct q *Q, struct yoc_error *e);
/* Costed activity against contracts.csv (section 2). */
int yoc__quality_contracts(struct q *Q, struct yoc_error *e);

/*
** Source accounts (quality_source.c): the tables, or empty temporary ones
** for a dataset loaded before they existed (drop them with _done); the
** source_rows findings (section 2); feedback/PROVIDER_files.csv in dir.
*/
int yoc__quality_source_tables(struct q *Q, struct yoc_error *e);
void yoc__quality_source_done(struct q *Q);
int yoc__quality_source(struct q *Q, struct yoc_error *e);
int yoc__quality_source_feedback(struct q *Q, const char *dir, struct yoc_error *e);
/* Next "name=n" of a "name=n;name=n" list: 1 with name and *n, 0 at the end. */
int yoc__quality_reason_next(const char **p, char *name, size_t cap, int64_t *n);

/*
** Issues ranked by impact (quality_issues.c): fills temp.qissue from
** temp.qrow and the caveats of fyear (NULL: the latest analysed year);
** yoc__quality_issue_order is the query listing them ranked (rank, check,
** kind, providers, findings, rows, people, pence, anchor, text);
** _csv writes them to path.
*/
int yoc__quality_issues(struct q *Q, const char *fyear, struct yoc_error *e);
int yoc__quality_issues_csv(struct q *Q, const char *path, struct yoc_error *e);
extern const char *const yoc__quality_issue_order;

/* DIR2/caveats.csv: yoc_quality_caveats of fyear (NULL: the latest analysed year). */
int yoc__quality_caveats_csv(sqlite3 *db, const char *fyear, const char *path,
			     struct yoc_error *e);

#endif

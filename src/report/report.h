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

#include <stdint.h>

#include "sdc/sdc.h"
#include "yoc/core.h"

/*
** A sharded report (docs/mpi.md "Report"): every rank of the communicator
** scans its own shard's person_year into a mergeable partial, and rank 0
** merges them exactly. The report module calls no MPI: the caller gives
** the two collective steps it needs.
**   gather: rank r's n bytes at p into recv[r] at rank 0 (recv has size
**           buffers there, reset first; NULL elsewhere). fail: this rank
**           has failed; every rank then returns non-zero.
**   bcast:  n bytes at p from rank 0 to every rank.
** Each returns 0, or a status with e set.
*/
struct yoc_report_comm {
	int rank, size;
	void *ud;
	int (*gather)(void *ud, int fail, const void *p, size_t n, struct yoc_buf *recv,
		      struct yoc_error *e);
	int (*bcast)(void *ud, void *p, size_t n, struct yoc_error *e);
};

/*
** The figures a report computes from person_year, merged over the ranks of
** cm (NULL: one process, db alone). Called on every rank with its own
** shard's catalog db; fyear NULL: the latest year of any shard. At rank 0
** *out is the merged partial (hand it to yoc_report_opts.part); elsewhere
** NULL. *received (may be NULL): bytes rank 0 received from the others.
*/
struct yoc_report_part;
int yoc_report_part_make(const char *db, const char *fyear, const struct yoc_report_comm *cm,
			 struct yoc_report_part **out, uint64_t *received, struct yoc_error *e);
void yoc_report_part_free(struct yoc_report_part *p);

struct yoc_report_opts {
	const char *db;        /* path of the SQLite database holding person_year */
	const char *out;       /* output folder (created) */
	const char *fyear;     /* "2023/24"; NULL = the latest in person_year */
	struct yoc_sdc sdc;
	const char *pcn;       /* practice to PCN mapping CSV, or NULL (no grouping) */
	const char *quality_url; /* the quality report's page, relative to OUT; NULL: ../quality/quality.html */
	const char *params;    /* the command line's options, for the manifest, or NULL */
	/* a sharded report: the merged partial of yoc_report_part_make (taken
	 * over: freed by yoc_report_write), and db the catalog of the shards'
	 * small tables (person_year's rows are not read from it); NULL: one
	 * dataset, db holds everything */
	struct yoc_report_part *part;
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

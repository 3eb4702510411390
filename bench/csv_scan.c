/*
** Benchmark helper (not a CLI verb): reads a CSV with the yoc reader on one
** core and does the work DuckDB is asked to do in bench/duckdb_csv.mjs:
** count the rows, the non-empty cells of every column, and sum the length
** of the last column. Built and run by bench/csv.sh.
**
** Usage: csv_scan FILE
** prints "rows cells nonempty lastlen bad wall_seconds cpu_seconds"
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "yoc/csv.h"

static double now(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: csv_scan FILE\n");
		return 2;
	}
	double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	struct yoc_error e;
	yoc_csv *r;
	if (yoc_csv_open(&r, argv[1], NULL, &e) != 0) {
		yoc_error_print(stderr, &e);
		return 1;
	}
	size_t ncols = yoc_csv_ncols(r);
	uint64_t *nonempty = calloc(ncols ? ncols : 1, sizeof *nonempty);
	uint64_t rows = 0, cells = 0, lastlen = 0, bad = 0;
	struct yoc_csv_row row;
	int rc;
	while ((rc = yoc_csv_next(r, &row, &e)) != 0) {
		if (rc == YOC_EIO || rc == YOC_ENOMEM) {
			yoc_error_print(stderr, &e);
			return 1;
		}
		rows++;
		bad += rc < 0;
		cells += row.ncells;
		size_t n = row.ncells < ncols ? row.ncells : ncols;
		for (size_t i = 0; i < n; i++)
			nonempty[i] += row.cells[i].n != 0;
		if (row.ncells == ncols && ncols)
			lastlen += row.cells[ncols - 1].n;
	}
	yoc_csv_close(r);
	double t = now(CLOCK_MONOTONIC) - t0, c = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
	uint64_t ne = 0;
	for (size_t i = 0; i < ncols; i++)
		ne += nonempty[i];
	free(nonempty);
	printf("%llu %llu %llu %llu %llu %.6f %.6f\n", (unsigned long long)rows,
	       (unsigned long long)cells, (unsigned long long)ne, (unsigned long long)lastlen,
	       (unsigned long long)bad, t, c);
	return 0;
}

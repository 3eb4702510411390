/*
** yoc_csv_inspect: reads a whole CSV file and counts its shape and its
** malformed rows, for `yoc inspect` (see include/yoc/csv.h). A malformed row
** is counted and handed to the caller's callback; a read error or running
** out of memory ends the read (the reader has stopped: asking again would
** only return the same error, forever).
**
** Must not: print, exit, or allocate other than through the reader.
*/
#include <string.h>

#include "yoc/csv.h"

int yoc_csv_inspect(const char *path, const struct yoc_csv_opts *opts,
		    void (*on_fault)(void *ctx, const struct yoc_error *fault), void *ctx,
		    struct yoc_csv_shape *out, struct yoc_error *e)
{
	struct yoc_error fe;
	struct yoc_csv_row row;
	yoc_csv *r = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	rc = yoc_csv_open(&r, path, opts, e);
	if (rc)
		goto cleanup;
	out->delim = yoc_csv_delim(r);
	out->ncols = yoc_csv_ncols(r);
	for (;;) {
		yoc_error_clear(&fe);
		rc = yoc_csv_next(r, &row, &fe);
		if (rc == 0)
			break;
		if (rc < 0 && row.fault == YOC_CSV_OK) { /* YOC_EIO, YOC_ENOMEM */
			if (e)
				*e = fe;
			goto cleanup;
		}
		out->rows++;
		if (rc > 0)
			continue;
		out->malformed++;
		out->faults[row.fault]++;
		if (on_fault)
			on_fault(ctx, &fe);
	}
	out->ncols = yoc_csv_ncols(r); /* set by the first row without a header */
	rc = 0;
cleanup:
	yoc_csv_close(r);
	return rc;
}

/*
** libFuzzer target for the segment reader (yoc_seg_open_path and every
** accessor), formats 1 and 2: the input is a segment file. Whatever the
** bytes, the open fails cleanly or every cell of every column can be read.
**
** Checked: an opened segment's text cells lie inside memory the reader owns
** or maps (read in full), dates and ints read one by one equal the
** whole-column arrays, and a cell formats into the buffer given. A failed
** check aborts, which libFuzzer (or the corpus replay) reports.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

#define CHECK(x) do { if (!(x)) { \
	fprintf(stderr, "fuzz_seg: check failed: %s (line %d)\n", #x, __LINE__); \
	abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	if (!path[0])
		snprintf(path, sizeof path, "/tmp/fuzz_seg.%ld", (long)getpid());
	/* a segment's row count sizes the decoded columns: keep them small here */
	uint64_t nrows = 0;
	if (size >= 24)
		memcpy(&nrows, data + 16, 8);
	if (nrows > 100000)
		return 0;
	FILE *f = fopen(path, "wb");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	struct yoc_error e;
	yoc_seg *g = NULL;
	if (yoc_seg_open_path(path, &g, &e) == 0) {
		size_t nr = yoc_seg_nrows(g), nc = yoc_seg_ncols(g);
		CHECK(nr == nrows);
		volatile unsigned sum = 0;
		for (size_t c = 0; c < nc; c++) {
			int col = (int)c;
			int type = yoc_seg_col_type(g, col);
			CHECK(type >= YOC_COL_TEXT && type <= YOC_COL_MONEY);
			CHECK(yoc_seg_col(g, yoc_seg_col_name(g, col)) >= 0);
			const int32_t *d = yoc_seg_dates(g, col);
			const int64_t *v = yoc_seg_ints(g, col);
			if (type != YOC_COL_DATE)
				CHECK(!d); /* a date column's array is NULL only out of memory */
			if (type == YOC_COL_TEXT || type == YOC_COL_DATE)
				CHECK(!v);
			for (size_t r = 0; r < nr; r++) {
				char buf[64];
				const char *t;
				size_t n = yoc_seg_format(g, col, r, buf, sizeof buf, &t);
				for (size_t k = 0; k < n; k++)
					sum += (unsigned char)t[k];
				if (type == YOC_COL_TEXT) {
					struct yoc_cell x = yoc_seg_text(g, col, r);
					for (size_t k = 0; k < x.n; k++)
						sum += (unsigned char)x.p[k];
				} else if (type == YOC_COL_DATE) {
					CHECK(n < sizeof buf);
					if (d)
						CHECK(d[r] == yoc_seg_date(g, col, r));
				} else {
					CHECK(n < sizeof buf);
					if (v)
						CHECK(v[r] == yoc_seg_int(g, col, r));
				}
			}
		}
		for (size_t r = 0; r < nr; r++) {
			CHECK(yoc_seg_person(g, r) == -1); /* no store */
			sum += (unsigned)yoc_seg_activity_date(g, r);
			sum += (unsigned)strlen(yoc_seg_link_reason(g, r));
		}
		(void)sum;
		yoc_seg_close(g);
	}
	unlink(path);
	return 0;
}

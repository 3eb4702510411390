/*
** libFuzzer target for the segment reader (yoc_seg_open_path and every
** accessor), formats 1 to 3: the input is a segment file, read as
** DIR/segments/x.seg of a dataset whose pseudonym pool holds POOL_N
** entries. Whatever the bytes, the open fails cleanly or every cell of
** every column can be read, and a pooled column names only pool entries.
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
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"

#define CHECK(x) do { if (!(x)) { \
	fprintf(stderr, "fuzz_seg: check failed: %s (line %d)\n", #x, __LINE__); \
	abort(); } } while (0)

#define POOL_N 2048

static char pool_dir[64];

static void rm_pool(void)
{
	char p[128];
	snprintf(p, sizeof p, "%s/pseudonyms.pool", pool_dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/segments", pool_dir);
	rmdir(p);
	rmdir(pool_dir);
}

/* DIR/pseudonyms.pool with POOL_N entries, made once per process (removed at exit). */
static void make_pool(const char *dir)
{
	char p[128];
	snprintf(pool_dir, sizeof pool_dir, "%s", dir);
	atexit(rm_pool);
	snprintf(p, sizeof p, "%s/segments", dir);
	mkdir(dir, 0700);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/pseudonyms.pool", dir);
	FILE *f = fopen(p, "wb");
	if (!f)
		return;
	unsigned char hdr[16] = "YOCPOOL1";
	hdr[8] = 32;
	fwrite(hdr, 1, 16, f);
	uint64_t x = 0x9E3779B97F4A7C15ull;
	for (int i = 0; i < POOL_N * 4; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		fwrite(&x, 1, 8, f);
	}
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[64], path[96];
	if (!path[0]) {
		snprintf(dir, sizeof dir, "/tmp/fuzz_seg.%ld", (long)getpid());
		snprintf(path, sizeof path, "%s/segments/x.seg", dir);
		make_pool(dir);
	}
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
			int64_t nd = yoc_seg_pool_ids(g, col, NULL);
			if (nd >= 0) {
				/* pooled: every id names an entry of the pool, or "" */
				uint32_t *ids = malloc(((size_t)nd + 1) * sizeof *ids);
				CHECK(ids && yoc_seg_pool_ids(g, col, ids) == nd);
				CHECK(yoc_seg_dict_codes(g, col, NULL) == nd);
				for (int64_t k = 0; k < nd; k++) {
					CHECK(ids[k] == UINT32_MAX || ids[k] < POOL_N);
					if (ids[k] != UINT32_MAX)
						CHECK(yoc_seg_pool_entry(g, ids[k]) != NULL);
					struct yoc_cell x = yoc_seg_dict_entry(g, col, (uint32_t)k);
					CHECK(x.n == (ids[k] == UINT32_MAX ? 0 : 64));
				}
				free(ids);
			}
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

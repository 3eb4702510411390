/*
** Fuzz target: a feed file from the fuzz input goes through recognition,
** validation, quarantine and segment writing into a temporary store, and
** the written segment is read back. The load is rolled back every time.
** The first byte picks the kind (>= 0xF0: detect from the header).
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load/load.h"

static yoc_store *store;
static char dir[256];

static void cleanup(void)
{
	yoc_store_close(store);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd)) {
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct yoc_error e;
	if (!store) {
		snprintf(dir, sizeof dir, "/tmp/yoc_fuzz_load_%ld", (long)getpid());
		if (yoc_store_init(dir, &e) || yoc_store_open(&store, dir, YOC_STORE_WRITE, &e))
			abort();
		atexit(cleanup);
	}
	if (size < 1)
		return 0;
	int kind = data[0] >= 0xF0 ? -1 : data[0] % YOC_KIND_COUNT;
	struct yoc_loader *L = NULL;
	struct yoc_load_result r;
	if (yoc_loader_begin(&L, store, &e))
		abort();
	int rc = yoc_loader_mem(L, "fz/P1_2023-01.csv", data + 1, size - 1, kind, &r, &e);
	if (rc == 0 && (r.status == YOC_LOAD_LOADED || r.status == YOC_LOAD_REPLACED)) {
		if (r.rows != r.loaded + r.quarantined)
			abort();
		char path[400];
		snprintf(path, sizeof path, "%s/segments/f%lld.seg", dir, (long long)r.file_id);
		yoc_seg *g = NULL;
		if (yoc_seg_open_path(path, &g, &e))
			abort();
		if ((int64_t)yoc_seg_nrows(g) != r.loaded)
			abort();
		char buf[64];
		for (size_t row = 0; row < yoc_seg_nrows(g); row++)
			for (size_t c = 0; c < yoc_seg_ncols(g); c++) {
				const char *t;
				yoc_seg_format(g, (int)c, row, buf, sizeof buf, &t);
			}
		yoc_seg_close(g);
	}
	yoc_loader_free(L);
	return 0;
}

/*
** Fuzz target: a sharded load's routing (src/shard/shard_route.c). The
** input is a feed file (named RA1_2023-01.csv); byte 0 picks K (1 to 4)
** and the reader's shard. The file is cut into K parts and each part
** rebuilt as its shard would load it.
**
** Checked on every input:
**   - no crash, no read outside a buffer (ASan), every part well formed
**     and read to its end;
**   - a part sent whole holds the file's bytes; a refused file is refused
**     for every shard, with why;
**   - otherwise every row of the file, as the CSV reader returns it (its
**     line, fault, cells), is returned by the reader of exactly one part,
**     on the same line: nothing lost, moved or made up.
** A failed check aborts, which libFuzzer (or the corpus replay) reports.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shard/shard.h"
#include "yoc/csv.h"

#define CHECK(x) do { if (!(x)) { \
	fprintf(stderr, "fuzz_shard: check failed: %s (line %d)\n", #x, __LINE__); \
	abort(); } } while (0)

#define MAXROWS 4096

struct row {
	long line;
	int rc, fault;
	size_t ncells;
	uint64_t hash;
};

/* The rows of text as the loader's reader sees them; -1 when it cannot open it. */
static long rows_of(const char *p, size_t n, struct row *out, size_t cap)
{
	yoc_csv *r = NULL;
	struct yoc_csv_opts o = {0};
	struct yoc_error e;
	struct yoc_csv_row row;
	long k = 0;
	yoc_error_clear(&e);
	if (yoc_csv_open_mem(&r, p, n, "f", &o, &e))
		return -1;
	for (;;) {
		yoc_error_clear(&e);
		int rc = yoc_csv_next(r, &row, &e);
		if (rc == 0 || (rc < 0 && row.fault == YOC_CSV_OK))
			break;
		if ((size_t)k == cap)
			break;
		struct row *x = &out[k++];
		x->line = row.line;
		x->rc = rc > 0 ? 1 : -1;
		x->fault = row.fault;
		x->ncells = row.ncells;
		x->hash = row.ncells;
		for (size_t i = 0; rc > 0 && i < row.ncells; i++)
			x->hash = yoc_hash64(row.cells[i].p, row.cells[i].n, x->hash + i);
	}
	yoc_csv_close(r);
	return k;
}

static struct row orig[MAXROWS], got[MAXROWS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	int k = 1 + data[0] % 4, self = (data[0] >> 2) % k;
	const char *text = (const char *)data + 1;
	size_t n = size - 1;
	struct yoc_buf part[4], file;
	struct yoc_error e;
	struct yoc_shard_split_stats st = {0, 0};
	unsigned char *hit = calloc(MAXROWS, 1);
	CHECK(hit);
	yoc_error_clear(&e);
	yoc_buf_init(&file, 0);
	for (int s = 0; s < k; s++)
		yoc_buf_init(&part[s], 0);
	int rc = yoc_shard_split("RA1_2023-01.csv", text, n, 3, -1, NULL, 0, k, self, part, &st, &e);
	if (rc) {
		CHECK(rc == YOC_ENOMEM || e.code);
		goto cleanup;
	}
	long no = rows_of(text, n, orig, MAXROWS);
	int whole = 0, refused = 0;
	for (int s = 0; s < k; s++) {
		struct yoc_shard_part pt;
		size_t pos = 0;
		CHECK(yoc_shard_join(part[s].data, part[s].len, &pos, &pt, &file, &e) == 0);
		CHECK(pos == part[s].len);
		CHECK(pt.index == 3 && pt.bytes == n);
		whole += pt.whole;
		refused += pt.refused;
		if (pt.whole) {
			CHECK(file.len == n && (!n || memcmp(file.data, text, n) == 0));
			continue;
		}
		if (pt.refused) {
			CHECK(pt.why && *pt.why);
			continue;
		}
		long ng = rows_of(file.data ? file.data : "", file.len, got, MAXROWS);
		if (no < 0 || no >= MAXROWS || ng >= MAXROWS)
			continue; /* not a comparable file, or too many rows to follow */
		for (long j = 0; j < ng; j++) {
			long i = 0;
			while (i < no && orig[i].line != got[j].line)
				i++;
			CHECK(i < no); /* on a line where the file has a row */
			CHECK(orig[i].rc == got[j].rc && orig[i].fault == got[j].fault &&
			      orig[i].ncells == got[j].ncells && orig[i].hash == got[j].hash);
			CHECK(!hit[i]);
			hit[i] = 1;
		}
	}
	CHECK(whole == 0 || whole == k);
	CHECK(refused == 0 || refused == k);
	if (!whole && !refused && no >= 0 && no < MAXROWS)
		for (long i = 0; i < no; i++)
			CHECK(hit[i]); /* every row in some part */
cleanup:
	for (int s = 0; s < k; s++)
		yoc_buf_free(&part[s]);
	yoc_buf_free(&file);
	free(hit);
	return 0;
}

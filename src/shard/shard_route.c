/*
** A sharded load's routing (shard.h, docs/mpi.md). The rank that reads a
** file parses it once, runs the identifier scan over the whole file, and
** cuts it into one part per shard: the header, then runs of rows of one
** shard, each with the line it starts on. The shard rebuilds a file of
** the same lines, with the rows of other shards left as empty lines, which
** the CSV reader skips while counting them: the ordinary loader then reads
** it, so validation, quarantine, flags and line numbers are the loader's
** own, and no rule of a feed is written twice. Touches no catalog and
** calls no MPI.
*/
#include <string.h>

#include "load/feedname.h"
#include "load/load.h"
#include "shard/shard.h"
#include "spec/spec.h"
#include "yoc/csv.h"

#define PART_MAGIC 0x31505359u /* "YSP1" */
enum { PART_SPLIT = 0, PART_WHOLE = 1, PART_REFUSED = 2 };
#define RUN_MAX ((size_t)1 << 30)

static int put32(struct yoc_buf *b, uint32_t v)
{
	return yoc_buf_append(b, &v, sizeof v);
}

static int put64(struct yoc_buf *b, uint64_t v)
{
	return yoc_buf_append(b, &v, sizeof v);
}

static int put_head(struct yoc_buf *b, uint32_t index, uint32_t type, const char *hash,
		    uint64_t bytes)
{
	char h[40] = {0};
	snprintf(h, sizeof h, "%s", hash);
	return put32(b, PART_MAGIC) || put32(b, index) || put32(b, type) || put32(b, 0) ||
	       yoc_buf_append(b, h, sizeof h) || put64(b, bytes);
}

/*
** Offsets of the starts of lines 1..n (ls[0] unused, ls[1] = 0): a line
** ends at LF, CRLF or a lone CR, as the CSV reader counts them.
*/
static int line_starts(const char *p, size_t n, size_t **out, size_t *nlines)
{
	size_t cap = 1024, k = 1;
	size_t *ls = yoc_malloc(cap * sizeof *ls);
	if (!ls)
		return YOC_ENOMEM;
	ls[k++] = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\n' && p[i] != '\r')
			continue;
		if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
			i++;
		if (k == cap) {
			size_t *nl = yoc_realloc(ls, cap * 2 * sizeof *ls);
			if (!nl) {
				yoc_free(ls);
				return YOC_ENOMEM;
			}
			ls = nl;
			cap *= 2;
		}
		ls[k++] = i + 1;
	}
	*out = ls;
	*nlines = k - 1; /* line k-1 starts at ls[k-1] and runs to the end */
	return YOC_OK;
}

static int send_whole(struct yoc_buf *part, int k, uint32_t index, const char *hash,
		      const char *data, size_t n)
{
	for (int d = 0; d < k; d++)
		if (put_head(&part[d], index, PART_WHOLE, hash, n) || put64(&part[d], n) ||
		    yoc_buf_append(&part[d], data, n))
			return YOC_ENOMEM;
	return YOC_OK;
}

/* The column of the person, as the loader maps it: a canonical name first. */
static int person_column(const struct yoc_ident_plan *pl, const struct yoc_cell *hdr)
{
	int alias = -1;
	for (size_t i = 0; i < pl->ncols; i++) {
		const struct yoc_field *f = pl->cols[i].f;
		if (pl->cols[i].act != YOC_IA_KEEP || !f || f->role != YOC_ROLE_PERSON)
			continue;
		if (yoc_spec_name_eq(f->name, hdr[i].p, hdr[i].n))
			return (int)i;
		if (alias < 0)
			alias = (int)i;
	}
	return alias;
}

int yoc_shard_split(const char *path, const char *data, size_t n, uint32_t index,
		    int kind, const yoc_allow *allow, int strict, int k, int self,
		    struct yoc_buf *part, struct yoc_shard_split_stats *st, struct yoc_error *e)
{
	char hash[40];
	yoc_csv *r = NULL;
	struct yoc_ident_plan pl;
	struct yoc_idscan scan;
	struct yoc_error ce, why;
	size_t *ls = NULL, nlines = 0, *nchunk_at = NULL, *nchunks = NULL, *start = NULL;
	int rc = YOC_OK, have_plan = 0, have_scan = 0;
	uint64_t nrows = 0;
	/* runs of rows of one shard: [run_line, line of the next run's first row) */
	int run_d = -1;
	long run_line = 0;
	memset(&pl, 0, sizeof pl);
	memset(&scan, 0, sizeof scan);
	yoc_load_content_hash(data, n, hash);
	struct yoc_csv_opts o = {0};
	yoc_error_clear(&ce);
	if (yoc_csv_open_mem(&r, data, n, path, &o, &ce)) {
		if (ce.code == YOC_ENOMEM)
			goto oom;
		rc = send_whole(part, k, index, hash, data, n);
		goto done;
	}
	size_t nc = yoc_csv_ncols(r);
	const struct yoc_cell *hdr = yoc_csv_header(r);
	struct yoc_ident_opts io = {YOC_IDENT_LOAD, kind, allow, strict};
	struct yoc_feedname fn;
	yoc_error_clear(&ce);
	if (yoc_ident_plan_make(&pl, hdr, nc, &io, path, &ce)) {
		if (ce.code == YOC_ENOMEM)
			goto oom;
		rc = send_whole(part, k, index, hash, data, n); /* each shard rejects it alike */
		goto done;
	}
	have_plan = 1;
	yoc_error_clear(&ce);
	if (yoc_feedname_parse(path, &fn, &ce)) {
		rc = send_whole(part, k, index, hash, data, n);
		goto done;
	}
	if (yoc_idscan_init(&scan, &pl))
		goto oom;
	have_scan = 1;
	int pcol = person_column(&pl, hdr);
	if (line_starts(data, n, &ls, &nlines))
		goto oom;
	nchunk_at = yoc_calloc((size_t)k * 3, sizeof *nchunk_at);
	if (!nchunk_at)
		goto oom;
	nchunks = nchunk_at + k;
	start = nchunk_at + 2 * k;
	for (int s = 0; s < k; s++)
		start[s] = part[s].len;
	/* the header: everything before the first row (rebuilt once it is known) */
	size_t hdr_end = n;
	int first = 1;
	struct yoc_csv_row row;
	for (;;) {
		yoc_error_clear(&ce);
		int got = yoc_csv_next(r, &row, &ce);
		if (got == 0)
			break;
		if (got < 0 && row.fault == YOC_CSV_OK) {
			rc = yoc_error_set(e, got, path, ce.line, 0, "%s", ce.msg);
			goto done;
		}
		st->rows++;
		nrows++;
		yoc_idscan_row(&scan, row.cells, row.ncells, row.line, got < 0 || row.ncells != nc);
		int d = self;
		if (got > 0 && row.ncells == nc && pcol >= 0 && row.cells[pcol].n)
			d = yoc_shard_of(row.cells[pcol].p, row.cells[pcol].n, k);
		if (d != self)
			st->routed++;
		if (row.line < 1 || (size_t)row.line > nlines) {
			rc = yoc_error_set(e, YOC_EINTERNAL, path, row.line, 0,
					   "row line outside the file");
			goto done;
		}
		if (first) {
			hdr_end = ls[row.line];
			for (int s = 0; s < k; s++) {
				if (put_head(&part[s], index, PART_SPLIT, hash, n) || put64(&part[s], hdr_end) ||
				    yoc_buf_append(&part[s], data, hdr_end))
					goto oom;
				nchunk_at[s] = part[s].len;
				if (put64(&part[s], 0))
					goto oom;
			}
			first = 0;
		}
		/* a run ends where a row of another shard starts, or when it is large */
		if (run_d >= 0 && (d != run_d || ls[row.line] - ls[run_line] > RUN_MAX)) {
			size_t a = ls[run_line], b = ls[row.line];
			if (put32(&part[run_d], (uint32_t)run_line) || put32(&part[run_d], (uint32_t)(b - a)) ||
			    yoc_buf_append(&part[run_d], data + a, b - a))
				goto oom;
			nchunks[run_d]++;
			run_d = -1;
		}
		if (run_d < 0) {
			run_d = d;
			run_line = row.line;
		}
	}
	if (first) { /* no rows: the header alone, for every shard */
		for (int s = 0; s < k; s++)
			if (put_head(&part[s], index, PART_SPLIT, hash, n) || put64(&part[s], n) ||
			    yoc_buf_append(&part[s], data, n) || put64(&part[s], 0))
				goto oom;
	} else {
		if (run_d >= 0) {
			size_t a = ls[run_line];
			if (put32(&part[run_d], (uint32_t)run_line) || put32(&part[run_d], (uint32_t)(n - a)) ||
			    yoc_buf_append(&part[run_d], data + a, n - a))
				goto oom;
			nchunks[run_d]++;
		}
		for (int s = 0; s < k; s++)
			memcpy(part[s].data + nchunk_at[s], &nchunks[s], sizeof(uint64_t));
	}
	/* the whole file's identifier scan decides for every shard */
	yoc_error_clear(&why);
	if (yoc_idscan_verdict(&scan, hdr, path, &why) == YOC_EPERM) {
		size_t wl = strlen(why.msg);
		for (int s = 0; s < k; s++) {
			part[s].len = start[s]; /* its rows are dropped: the file is refused whole */
			if (put_head(&part[s], index, PART_REFUSED, hash, n) || put64(&part[s], nrows) ||
			    put64(&part[s], wl) || yoc_buf_append(&part[s], why.msg, wl))
				goto oom;
		}
	} else if (why.code) {
		rc = yoc_error_set(e, why.code, why.file, why.line, why.col, "%s", why.msg);
	}
	goto done;
oom:
	rc = yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "out of memory");
done:
	if (have_scan)
		yoc_idscan_free(&scan);
	if (have_plan)
		yoc_ident_plan_free(&pl);
	yoc_csv_close(r);
	yoc_free(ls);
	yoc_free(nchunk_at);
	return rc;
}

int yoc_shard_refused(struct yoc_buf *part, int k, uint32_t index, const char *why,
		      uint64_t rows)
{
	size_t wl = strlen(why);
	for (int s = 0; s < k; s++)
		if (put_head(&part[s], index, PART_REFUSED, "", 0) || put64(&part[s], rows) ||
		    put64(&part[s], wl) || yoc_buf_append(&part[s], why, wl))
			return YOC_ENOMEM;
	return YOC_OK;
}

static int get(const char *msg, size_t n, size_t *pos, void *out, size_t len)
{
	if (n - *pos < len)
		return 1;
	memcpy(out, msg + *pos, len);
	*pos += len;
	return 0;
}

/* Line breaks in p, counted as the CSV reader counts them. */
static size_t breaks(const char *p, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] == '\n' || (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n')))
			c++;
	return c;
}

int yoc_shard_join(const char *msg, size_t n, size_t *pos, struct yoc_shard_part *part,
		   struct yoc_buf *file, struct yoc_error *e)
{
	uint32_t h[4];
	uint64_t len = 0, cnt = 0;
	memset(part, 0, sizeof *part);
	yoc_buf_reset(file);
	if (get(msg, n, pos, h, sizeof h) || h[0] != PART_MAGIC ||
	    get(msg, n, pos, part->hash, sizeof part->hash) || get(msg, n, pos, &part->bytes, 8))
		goto broken;
	part->hash[sizeof part->hash - 1] = 0;
	part->index = h[1];
	if (h[2] == PART_REFUSED) {
		part->refused = 1;
		if (get(msg, n, pos, &part->rows, 8) || get(msg, n, pos, &len, 8) || n - *pos < len)
			goto broken;
		if (yoc_buf_append(file, msg + *pos, len) || yoc_buf_putc(file, 0))
			goto oom;
		*pos += len;
		part->why = file->data;
		return YOC_OK;
	}
	if (get(msg, n, pos, &len, 8) || n - *pos < len)
		goto broken;
	if (yoc_buf_append(file, msg + *pos, len))
		goto oom;
	*pos += len;
	if (h[2] == PART_WHOLE) {
		part->whole = 1;
		return YOC_OK;
	}
	if (h[2] != PART_SPLIT || get(msg, n, pos, &cnt, 8))
		goto broken;
	size_t line = 1 + breaks(file->data ? file->data : "", file->len);
	for (uint64_t i = 0; i < cnt; i++) {
		uint32_t at, cl;
		if (get(msg, n, pos, &at, 4) || get(msg, n, pos, &cl, 4) || n - *pos < cl ||
		    at < line)
			goto broken;
		/* other shards' lines stay, empty; after a lone CR an LF would join it */
		while (line < at) {
			char pad = file->len && file->data[file->len - 1] == '\r' ? '\r' : '\n';
			if (yoc_buf_putc(file, pad))
				goto oom;
			line++;
		}
		if (yoc_buf_append(file, msg + *pos, cl))
			goto oom;
		line += breaks(msg + *pos, cl);
		*pos += cl;
	}
	return YOC_OK;
broken:
	return yoc_error_set(e, YOC_EDATA, "mpi", 0, 0, "a shard's part of a file is broken");
oom:
	return yoc_error_set(e, YOC_ENOMEM, "mpi", 0, 0, "out of memory");
}

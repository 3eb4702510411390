/*
** libFuzzer target for the CSV reader (and, through a round trip, the
** writer). Byte 0 picks the delimiter, byte 1 the options and a tiny buffer
** size; the rest is the CSV text.
**
** Checked on every input:
**   - the reader never crashes or reads outside its buffer (ASan; every
**     cell byte is touched);
**   - statuses, faults and positions are well formed, line numbers rise,
**     and the whole input is consumed (rows accounted for);
**   - an unquoted good cell holds no quote, delimiter, LF or CR (a CR
**     outside quotes always ends the line);
**   - parsing with a tiny buffer (rows cross refills) gives exactly the
**     same rows, faults and positions as one buffer holding everything;
**   - the good rows, written back with yoc_csvw_* and read again, come
**     back cell for cell.
** A failed check aborts, which libFuzzer (or the corpus replay) reports.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yoc/core.h"
#include "yoc/csv.h"

#define CHECK(x) do { if (!(x)) { \
	fprintf(stderr, "fuzz_csv: check failed: %s (line %d)\n", #x, __LINE__); \
	abort(); } } while (0)

/* What one row looked like, for comparing two parses. */
struct seen {
	int rc, fault;
	long line, eline, ecol;
	size_t ncells;
	uint64_t hash; /* of the cells, good rows only */
};

struct run {
	struct seen *rows;
	size_t n, cap;
	int open_rc;
	long open_line, open_col;
	size_t ncols;
	char delim;
};

static uint64_t hash_cells(const struct yoc_csv_row *row)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < row->ncells; i++) {
		for (size_t k = 0; k < row->cells[i].n; k++)
			h = (h ^ (unsigned char)row->cells[i].p[k]) * 1099511628211ULL;
		h = (h ^ 0x100) * 1099511628211ULL; /* cell boundary */
	}
	return h;
}

static void push(struct run *run, const struct seen *s)
{
	if (run->n == run->cap) {
		run->cap = run->cap ? run->cap * 2 : 64;
		run->rows = realloc(run->rows, run->cap * sizeof *run->rows);
		CHECK(run->rows);
	}
	run->rows[run->n++] = *s;
}

/* Writes the good rows of one parse; returns the text (caller frees). */
static char *parse(const uint8_t *data, size_t size, const struct yoc_csv_opts *o,
		   struct run *run, int write_good, size_t *out_n)
{
	struct yoc_error e;
	yoc_csv *r = NULL;
	char *out = NULL;
	FILE *f = NULL;
	struct yoc_csvw w;

	memset(run, 0, sizeof *run);
	yoc_error_clear(&e);
	run->open_rc = yoc_csv_open_mem(&r, data, size, "fuzz", o, &e);
	if (run->open_rc) {
		CHECK(r == NULL);
		CHECK(run->open_rc == YOC_EPARSE || run->open_rc == YOC_ETOOBIG);
		run->open_line = e.line;
		run->open_col = e.col;
		return NULL;
	}
	run->delim = yoc_csv_delim(r);
	CHECK(run->delim != '"' && run->delim != '\n' && run->delim != '\r');
	if (write_good) {
		f = open_memstream(&out, out_n);
		CHECK(f);
		yoc_csvw_init(&w, f, run->delim);
	}
	size_t ncols = yoc_csv_ncols(r);
	const struct yoc_cell *h = yoc_csv_header(r);
	CHECK(o->no_header ? (h == NULL && ncols == 0) : (h != NULL && ncols > 0));
	for (size_t i = 0; i < ncols; i++)
		CHECK(h[i].n == 0 || memchr(h[i].p, 0, h[i].n) == NULL);
	uint64_t off = yoc_csv_offset(r), sum = 0;
	long last_line = 0;
	int wrote_header = 0;
	struct yoc_csv_row row;
	int rc;
	while ((rc = yoc_csv_next(r, &row, &e)) != 0) {
		struct seen s = {.rc = rc, .fault = row.fault, .line = row.line};
		CHECK(rc == 1 || rc == YOC_EPARSE || rc == YOC_ETOOBIG);
		CHECK((rc == 1) == (row.fault == 0));
		CHECK(row.fault >= 0 && row.fault <= YOC_CSV_ROW_TOO_LONG);
		CHECK(row.line > last_line);
		last_line = row.line;
		CHECK(row.ncells >= 1 && row.ncells <= YOC_CSV_MAX_CELLS);
		if (o->no_header && ncols == 0)
			ncols = yoc_csv_ncols(r);
		CHECK(!o->no_header || ncols > 0 || row.fault == YOC_CSV_ROW_TOO_LONG);
		CHECK(yoc_csv_ncols(r) == ncols);
		for (size_t i = 0; i < row.ncells; i++)
			for (size_t k = 0; k < row.cells[i].n; k++)
				sum += (unsigned char)row.cells[i].p[k];
		uint64_t now = yoc_csv_offset(r);
		CHECK(now > off && now <= size);
		off = now;
		if (rc == 1) {
			CHECK(row.ncells == ncols);
			s.ncells = row.ncells;
			s.hash = hash_cells(&row);
			for (size_t i = 0; i < row.ncells; i++)
				CHECK(row.cells[i].n == 0 ||
				      memchr(row.cells[i].p, 0, row.cells[i].n) == NULL);
			if (!row.quoted)
				for (size_t i = 0; i < row.ncells; i++)
					CHECK(row.cells[i].n == 0 ||
					      (!memchr(row.cells[i].p, '"', row.cells[i].n) &&
					       !memchr(row.cells[i].p, '\n', row.cells[i].n) &&
					       !memchr(row.cells[i].p, '\r', row.cells[i].n) &&
					       !memchr(row.cells[i].p, run->delim, row.cells[i].n)));
			if (write_good) {
				if (!wrote_header) {
					for (size_t i = 0; i < ncols; i++) {
						char name[16];
						int k = snprintf(name, sizeof name, "c%zu", i);
						yoc_csvw_cell(&w, name, (size_t)k);
					}
					yoc_csvw_end(&w);
					wrote_header = 1;
				}
				for (size_t i = 0; i < row.ncells; i++)
					yoc_csvw_cell(&w, row.cells[i].p, row.cells[i].n);
				yoc_csvw_end(&w);
			}
		} else {
			CHECK(e.code == rc);
			CHECK(e.line >= row.line && e.col >= 1);
			CHECK(strcmp(e.file, "fuzz") == 0);
			s.eline = e.line;
			s.ecol = e.col;
		}
		push(run, &s);
	}
	CHECK(yoc_csv_next(r, &row, &e) == 0);
	CHECK(yoc_csv_offset(r) == size); /* every byte was accounted for */
	run->ncols = ncols;
	(void)sum;
	yoc_csv_close(r);
	if (write_good) {
		CHECK(yoc_csvw_status(&w) == 0);
		fclose(f);
		if (!wrote_header) {
			free(out);
			out = NULL;
		}
	}
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char table[] = {0, ',', '|', '\t', ';'};
	if (size < 2)
		return 0;
	struct yoc_csv_opts o = {0};
	int d = data[0];
	o.delim = (d & 7) < 5 ? table[d & 7] : (char)d;
	if (o.delim == '"' || o.delim == '\n' || o.delim == '\r')
		o.delim = 0;
	static const size_t rows[] = {0, 16, 64, 256}, fields[] = {0, 4, 16, 0};
	o.no_header = data[1] & 1;
	o.max_row = rows[(data[1] >> 1) & 3];
	o.max_field = fields[(data[1] >> 3) & 3];
	size_t tiny = 4 + (size_t)(data[1] >> 5) * 3;
	data += 2;
	size -= 2;

	/* Run a: the whole input in one buffer (cheaper than 1 MiB per run). */
	struct run a, b;
	size_t outn = 0;
	o.buf_size = size + 1;
	char *out = parse(data, size, &o, &a, 1, &outn);
	o.buf_size = tiny;
	free(parse(data, size, &o, &b, 0, NULL));

	/* The buffer size changes nothing but the cells of too-long rows. */
	CHECK(a.open_rc == b.open_rc);
	CHECK(a.open_line == b.open_line && a.open_col == b.open_col);
	CHECK(a.n == b.n);
	CHECK(a.delim == b.delim && a.ncols == b.ncols);
	for (size_t i = 0; i < a.n; i++) {
		const struct seen *x = &a.rows[i], *y = &b.rows[i];
		CHECK(x->rc == y->rc && x->fault == y->fault && x->line == y->line);
		CHECK(x->eline == y->eline && x->ecol == y->ecol);
		CHECK(x->ncells == y->ncells && x->hash == y->hash);
	}

	/* Good rows survive writer -> reader. */
	if (out) {
		struct yoc_csv_opts o2 = {.delim = a.delim, .buf_size = outn + 1};
		struct yoc_error e;
		yoc_csv *r;
		CHECK(yoc_csv_open_mem(&r, out, outn, "rt", &o2, &e) == 0);
		CHECK(yoc_csv_ncols(r) == a.ncols);
		struct yoc_csv_row row;
		for (size_t i = 0; i < a.n; i++) {
			if (a.rows[i].rc != 1)
				continue;
			CHECK(yoc_csv_next(r, &row, &e) == 1);
			CHECK(row.ncells == a.rows[i].ncells);
			CHECK(hash_cells(&row) == a.rows[i].hash);
		}
		CHECK(yoc_csv_next(r, &row, &e) == 0);
		yoc_csv_close(r);
		free(out);
	}
	free(a.rows);
	free(b.rows);
	return 0;
}

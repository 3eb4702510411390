/*
** Streaming CSV reader (RFC 4180) and writer.
**
** Reader: quoted fields, doubled quotes, delimiters and newlines inside
** quotes, CRLF or LF line ends, a leading UTF-8 byte-order mark, any
** single-byte delimiter. Memory is constant in the file size: the reader keeps
** one buffer of at most opts.max_row bytes (plus read-ahead).
**
** Cell lifetime: the cells of a row (and their text) are views into the
** reader's buffer. They are valid ONLY until the next call to yoc_csv_next or
** yoc_csv_close. Copy what you keep. Header cells stay valid until close.
** Cell text is not NUL-terminated; quotes are removed and doubled quotes
** collapsed.
**
** Malformed rows: yoc_csv_next returns a negative status and fills the error
** record with the file, 1-based line and column of the fault and a message;
** the row's cells (as far as they could be read) are still returned in *row
** so a loader can quarantine the raw values. The next call continues with the
** row after the bad one. Faults reported:
**   YOC_EPARSE  unterminated quote (at end of file), stray quote inside an
**               unquoted field or text after a closing quote, NUL byte,
**               ragged row (cell count differs from the header),
**               truncated last line (no final newline AND the row is short)
**   YOC_ETOOBIG a field longer than max_field or a row longer than max_row
** The kind of fault is in row->fault (enum yoc_csv_fault).
*/
#ifndef YOC_CSV_H
#define YOC_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "yoc/core.h"

struct yoc_cell {
	const char *p;
	size_t n;
};

enum yoc_csv_fault {
	YOC_CSV_OK = 0,
	YOC_CSV_UNTERMINATED_QUOTE,
	YOC_CSV_STRAY_QUOTE,
	YOC_CSV_RAGGED_ROW,
	YOC_CSV_NUL_BYTE,
	YOC_CSV_TRUNCATED,
	YOC_CSV_FIELD_TOO_LONG,
	YOC_CSV_ROW_TOO_LONG
};
const char *yoc_csv_fault_str(int fault); /* e.g. "ragged_row" */

struct yoc_csv_opts {
	char delim;          /* 0: detect from the header line (',', '|', '\t', ';') */
	int no_header;       /* 1: first line is data */
	size_t max_field;    /* 0: default 1 MiB */
	size_t max_row;      /* 0: default 16 MiB */
};

struct yoc_csv_row {
	const struct yoc_cell *cells;
	size_t ncells;
	long line;           /* 1-based line where the row starts */
	int fault;           /* enum yoc_csv_fault */
	int quoted;          /* 1 if any cell was quoted */
};

typedef struct yoc_csv yoc_csv;

/* Opens a file ("-" reads stdin). On failure *out is NULL and e is filled. */
int yoc_csv_open(yoc_csv **out, const char *path, const struct yoc_csv_opts *opts,
		 struct yoc_error *e);
/* Reads from memory (not copied: must outlive the reader). name is for errors. */
int yoc_csv_open_mem(yoc_csv **out, const void *data, size_t n, const char *name,
		     const struct yoc_csv_opts *opts, struct yoc_error *e);
void yoc_csv_close(yoc_csv *r);

/*
** Next data row. Returns 1 with *row filled, 0 at end of input, or a
** negative status for a malformed row (see above) or an I/O error
** (YOC_EIO, after which the reader stops).
*/
int yoc_csv_next(yoc_csv *r, struct yoc_csv_row *row, struct yoc_error *e);

size_t yoc_csv_ncols(const yoc_csv *r);
const struct yoc_cell *yoc_csv_header(const yoc_csv *r);
/* Index of the column whose header equals name (exact, case-sensitive), or -1. */
int yoc_csv_col(const yoc_csv *r, const char *name);
char yoc_csv_delim(const yoc_csv *r);
/* Bytes consumed so far (for progress). */
uint64_t yoc_csv_offset(const yoc_csv *r);
const char *yoc_csv_name(const yoc_csv *r);

/* Cell helpers. */
int yoc_cell_eq(struct yoc_cell c, const char *s);
/* Parses a decimal integer; 0 ok, YOC_EPARSE otherwise (empty is a failure). */
int yoc_cell_int(struct yoc_cell c, int64_t *out);
/* Parses money "1234.56" / "-3" into pence; YOC_EPARSE on bad text. */
int yoc_cell_pence(struct yoc_cell c, int64_t *out);

/*
** Writer: buffered, quotes a cell only when it holds the delimiter, a quote,
** CR or LF. Write into an already open FILE (not closed by the writer).
*/
struct yoc_csvw {
	FILE *f;
	char delim;
	int first;      /* at start of row */
	int err;        /* sticky: first write error */
};
void yoc_csvw_init(struct yoc_csvw *w, FILE *f, char delim);
void yoc_csvw_cell(struct yoc_csvw *w, const char *p, size_t n);
void yoc_csvw_str(struct yoc_csvw *w, const char *s);
void yoc_csvw_int(struct yoc_csvw *w, int64_t v);
void yoc_csvw_pence(struct yoc_csvw *w, int64_t pence); /* "12.34" */
void yoc_csvw_end(struct yoc_csvw *w);                  /* "\n" */
/* 0 or YOC_EIO if any write failed. */
int yoc_csvw_status(const struct yoc_csvw *w);

#endif

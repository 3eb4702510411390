/*
** Streaming CSV reader (RFC 4180) and writer.
**
** Reader: quoted fields, doubled quotes, delimiters and newlines inside
** quotes, LF, CRLF or bare CR line ends (mixed freely), a leading UTF-8
** byte-order mark, any single-byte delimiter. Memory is constant in the file
** size: the reader keeps one buffer of opts.buf_size bytes (1 MiB), filled
** with large read(2) calls and grown, up to opts.max_row (+1), only for a
** row that does not fit.
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
**
** Every data row is returned exactly once, good or bad, so rows returned with
** 1 plus rows returned with a fault equals the data rows in the file. When a
** row has several faults, the one at the earliest byte is reported. Positions:
** line is 1-based and counts every line end, LF, CRLF or CR (including those
** inside quoted cells); col is the 1-based byte offset in that line (a
** leading BOM is not counted).
**
** Details of the dialect:
**   - Delimiter detection (opts.delim 0): the most frequent of , | TAB ;
**     outside quotes in the first line (its first max_row bytes); ties go
**     in that order; none of them means ','.
**   - A completely empty line (just LF, CRLF or CR) is skipped: it is not a
**     row (so a one-column file cannot hold an empty unquoted cell; write "").
**   - Outside quotes a line ends at LF, at CRLF or at a bare CR (Excel's
**     "CSV (Macintosh)"); a CR followed by LF is one line end, even when a
**     buffer refill falls between them. Inside quotes CR and LF are data.
**   - The first line (the header) ends at its first line end outside quotes,
**     whichever kind it is, and delimiter detection looks at it only.
**   - A quote opens a quoted cell only as the cell's first byte. A quote
**     inside an unquoted cell, or text after a closing quote, is a stray
**     quote: the row is reported and the cell is returned raw (from its
**     first byte, quotes kept) up to the next delimiter.
**   - A row ending at end of input without a final newline is a normal row
**     when it has the header's cell count, truncated when it has fewer.
**   - Unterminated quote: the quoted cell runs to end of input; the row is
**     reported once and the next call returns 0.
**   - Row too long (more than max_row bytes, line ending included, CRLF
**     counting two): this fault is reported whatever else the row holds, at
**     the byte past the limit; the cells read so far are returned (they
**     may stop short) and the rest of the row is skipped (quotes still
**     honoured), so the next call starts at the following row.
**   - A row may hold at most YOC_CSV_MAX_CELLS cells; more is row_too_long
**     (YOC_ETOOBIG, "row too long: more than 65536 cells"), whatever else
**     the row holds: the first YOC_CSV_MAX_CELLS cells are returned.
**   - An empty input (no header line) fails to open with YOC_EPARSE unless
**     no_header is set. A malformed header line fails the open.
**   - With no_header, ncols is 0 until a row is read and is then the cell
**     count of the first row that is not too long; yoc_csv_header returns
**     NULL.
**   - After YOC_EIO or YOC_ENOMEM from yoc_csv_next the reader is stopped:
**     every later call returns the same status. Only close it. These come
**     with row->fault == YOC_CSV_OK, which tells them from a malformed row:
**     a loop that skips malformed rows must stop on any negative status
**     whose row->fault is YOC_CSV_OK, or it would spin.
**   - Running out of memory while opening (reading the header) fails the
**     open with YOC_ENOMEM and an "out of memory" message.
**
** Changes to the first draft of this header (API shape kept):
**   - struct yoc_csv_opts gained buf_size (initial buffer size; tests and
**     fuzzing use tiny buffers to push rows across read boundaries).
**   - struct yoc_csvw gained ncells and first_empty, so a row made of one
**     empty cell is written as "" (an empty line would be skipped on read).
**   - YOC_CSV_MAX_CELLS caps cells per row.
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
	size_t max_row;      /* 0: default 16 MiB (bytes, line ending included) */
	size_t buf_size;     /* 0: default 1 MiB; initial read buffer, grows to max_row */
};

#define YOC_CSV_MAX_CELLS 65536

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
** negative status: a malformed row (YOC_EPARSE or YOC_ETOOBIG, row->fault
** says which fault), or with row->fault == YOC_CSV_OK a read error
** (YOC_EIO) or out of memory (YOC_ENOMEM), after which the reader stops.
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

/*
** What yoc_csv_inspect counted in a file. faults[] is indexed by enum
** yoc_csv_fault (faults[YOC_CSV_OK] stays 0).
*/
struct yoc_csv_shape {
	char delim;
	size_t ncols;
	long rows;       /* data rows, good and malformed */
	long malformed;
	long faults[YOC_CSV_ROW_TOO_LONG + 1];
};

/*
** Reads the whole file at path ("-": stdin) and counts its rows and
** malformed rows into *out. For each malformed row, on_fault (if not NULL)
** gets the reader's error record (file:line:col and message; valid during
** the call only). Returns 0 when the file was read to its end, however many
** rows were malformed; or a negative status with e filled: the file cannot
** be opened or its header read, a read failed (YOC_EIO), or memory ran out
** (YOC_ENOMEM, "out of memory ..."). *out then holds the counts so far.
*/
int yoc_csv_inspect(const char *path, const struct yoc_csv_opts *opts,
		    void (*on_fault)(void *ctx, const struct yoc_error *fault), void *ctx,
		    struct yoc_csv_shape *out, struct yoc_error *e);

/* Cell helpers. */
int yoc_cell_eq(struct yoc_cell c, const char *s);
/*
** Parses a decimal integer ("-12", "+7"; no spaces); 0 ok, YOC_EPARSE
** otherwise (empty and out-of-range are failures).
*/
int yoc_cell_int(struct yoc_cell c, int64_t *out);
/*
** Parses money "1234.56", "-3", "12.3", ".5" into pence; YOC_EPARSE on bad
** text (empty, spaces, thousands separators, currency signs, exponents) or
** overflow. More than two decimals are rounded half away from zero
** ("1.005" -> 101, "-1.005" -> -101).
*/
int yoc_cell_pence(struct yoc_cell c, int64_t *out);

/*
** Writer: buffered, quotes a cell only when it holds the delimiter, a quote,
** CR or LF (and writes a row that is one empty cell as ""). Write into an
** already open FILE (not closed by the writer). NUL bytes are written as is
** and will be reported by the reader.
*/
struct yoc_csvw {
	FILE *f;
	char delim;
	int first;      /* at start of row */
	int err;        /* sticky: first write error */
	size_t ncells;  /* cells written in the current row */
	int first_empty; /* the row's first cell was empty */
};
void yoc_csvw_init(struct yoc_csvw *w, FILE *f, char delim);
void yoc_csvw_cell(struct yoc_csvw *w, const char *p, size_t n);
void yoc_csvw_str(struct yoc_csvw *w, const char *s);
void yoc_csvw_int(struct yoc_csvw *w, int64_t v);
void yoc_csvw_pence(struct yoc_csvw *w, int64_t pence); /* "12.34", "-0.05" */
void yoc_csvw_end(struct yoc_csvw *w);                  /* "\n" */
/* 0 or YOC_EIO if any write failed. */
int yoc_csvw_status(const struct yoc_csvw *w);

#endif

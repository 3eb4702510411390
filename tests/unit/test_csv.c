/*
** Unit tests of the CSV reader, the cell helpers and the writer.
**
** Most cases run a small input through the reader and compare a text dump
** of every row (line, fault, error position, cells) with a hand-written
** expectation. Every case is also re-run with tiny buffers (4..67 bytes) so
** rows cross buffer refills at every possible byte, and the dump must not
** change. Bigger checks: the three Artificial HES samples, a 50 MB file
** streamed without any allocation after the first row, Nth-allocation
** failure, and a writer -> reader round trip of random cells.
*/
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"
#include "yoc/core.h"
#include "yoc/csv.h"

/* ---- dumping a whole parse as text ------------------------------------ */

static void put_cell(FILE *f, const struct yoc_cell *c)
{
	for (size_t i = 0; i < c->n; i++) {
		char ch = c->p[i];
		switch (ch) {
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\0': fputs("\\0", f); break;
		case '\t': fputs("\\t", f); break;
		case '|': fputs("\\|", f); break;
		case '\\': fputs("\\\\", f); break;
		default: fputc(ch, f);
		}
	}
}

/*
** One line per row: "LINE ok a|b|c" or "LINE FAULT@ELINE:ECOL a|b", then
** "end" (or "open STATUS@LINE:COL" when the open fails). Reads the file at
** path, or data[n] (as "t.csv") when path is NULL. Caller frees.
*/
static char *dump_any(const char *data, size_t n, const char *path,
		      const struct yoc_csv_opts *o)
{
	char *out = NULL;
	size_t outn = 0;
	FILE *f = open_memstream(&out, &outn);
	assert_non_null(f);
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_csv *r = NULL;
	const char *name = path ? path : "t.csv";
	int rc = path ? yoc_csv_open(&r, path, o, &e) : yoc_csv_open_mem(&r, data, n, name, o, &e);
	if (rc) {
		assert_null(r);
		fprintf(f, "open %s@%ld:%ld\n", yoc_status_str(rc), e.line, e.col);
		fclose(f);
		return out;
	}
	struct yoc_csv_row row;
	for (int guard = 0; guard < 100000; guard++) {
		rc = yoc_csv_next(r, &row, &e);
		if (rc == 0)
			break;
		if (rc == YOC_EIO || rc == YOC_ENOMEM) {
			fprintf(f, "error %s\n", yoc_status_str(rc));
			break;
		}
		if (rc > 0) {
			assert_int_equal(row.fault, 0);
			fprintf(f, "%ld ok ", row.line);
		} else {
			assert_int_not_equal(row.fault, 0);
			assert_int_equal(rc, row.fault == YOC_CSV_FIELD_TOO_LONG ||
						     row.fault == YOC_CSV_ROW_TOO_LONG
					     ? YOC_ETOOBIG
					     : YOC_EPARSE);
			assert_string_equal(e.file, name);
			fprintf(f, "%ld %s@%ld:%ld ", row.line, yoc_csv_fault_str(row.fault), e.line,
				e.col);
		}
		for (size_t i = 0; i < row.ncells; i++) {
			if (i)
				fputc('|', f);
			put_cell(f, &row.cells[i]);
		}
		fputc('\n', f);
	}
	fputs("end\n", f);
	/* Once finished, it stays finished. */
	if (rc == 0)
		assert_int_equal(yoc_csv_next(r, &row, &e), 0);
	yoc_csv_close(r);
	fclose(f);
	return out;
}

static char *dump_opts(const char *data, size_t n, const struct yoc_csv_opts *o)
{
	return dump_any(data, n, NULL, o);
}

static char *dump_path(const char *path, const struct yoc_csv_opts *o)
{
	return dump_any(NULL, 0, path, o);
}

/* Parses with the default buffer and with every tiny buffer; all must agree. */
static void expect_opts(const char *data, size_t n, struct yoc_csv_opts o, const char *want)
{
	o.buf_size = 0;
	char *got = dump_opts(data, n, &o);
	assert_string_equal(got, want);
	for (size_t b = 4; b < 68; b++) {
		o.buf_size = b;
		char *small = dump_opts(data, n, &o);
		if (strcmp(small, got) != 0) {
			print_error("buf_size %zu differs:\n%s---\n%s", b, small, got);
			fail();
		}
		free(small);
	}
	free(got);
}

#define EXPECT(data, want) expect_opts(data, sizeof(data) - 1, (struct yoc_csv_opts){0}, want)
#define EXPECT_O(data, o, want) expect_opts(data, sizeof(data) - 1, o, want)

/* ---- RFC 4180 --------------------------------------------------------- */

static void test_plain(void **state)
{
	(void)state;
	EXPECT("a,b,c\n1,2,3\n4,5,6\n", "2 ok 1|2|3\n3 ok 4|5|6\nend\n");
	EXPECT("a,b,c\n,,\n", "2 ok ||\nend\n");
	EXPECT("a\nx\ny\n", "2 ok x\n3 ok y\nend\n");
	EXPECT("a,b\n", "end\n"); /* header only */
	EXPECT("a,b", "end\n");   /* header only, no newline */
	EXPECT("a,b\n x , y \n", "2 ok  x | y \nend\n"); /* spaces are data */
}

static void test_quoted(void **state)
{
	(void)state;
	EXPECT("a,b\n\"x\",\"y\"\n", "2 ok x|y\nend\n");
	EXPECT("a,b\n\"\",\"\"\n", "2 ok |\nend\n");
	EXPECT("a,b\n\"say \"\"hi\"\"\",2\n", "2 ok say \"hi\"|2\nend\n");
	EXPECT("a,b\n\"\"\"\",\"\"\"\"\"\"\n", "2 ok \"|\"\"\nend\n");
	EXPECT("a,b\n\"1,2\",\"3,,4\"\n", "2 ok 1,2|3,,4\nend\n");
	EXPECT("a,b\n\"line1\nline2\",x\ny,z\n", "2 ok line1\\nline2|x\n4 ok y|z\nend\n");
	EXPECT("a,b\n\"\n\n\",x\n", "2 ok \\n\\n|x\nend\n");
	EXPECT("a,b\nx,\"last\"\n", "2 ok x|last\nend\n");
	EXPECT("a,b\nx,\"last\"", "2 ok x|last\nend\n"); /* closing quote at end of input */
	EXPECT("a,b\n\"a\"\"\",\"\"\"b\"\n", "2 ok a\"|\"b\nend\n");
	EXPECT("\"h,1\",\"h\"\"2\"\nv,w\n", "2 ok v|w\nend\n");
}

static void test_crlf(void **state)
{
	(void)state;
	EXPECT("a,b\r\n1,2\r\n3,4\r\n", "2 ok 1|2\n3 ok 3|4\nend\n");
	EXPECT("a,b\r\n\"1\",\"2\"\r\n", "2 ok 1|2\nend\n");
	EXPECT("a,b\r\n1,\r\n", "2 ok 1|\nend\n");
	/* CRLF inside quotes is data; a lone CR outside quotes ends the line. */
	EXPECT("a,b\r\n\"x\r\ny\",2\r\n", "2 ok x\\r\\ny|2\nend\n");
	EXPECT("a,b\nx\ry,2\n", "2 ragged_row@2:2 x\n3 ok y|2\nend\n");
	EXPECT("a,b\r\n1,2\r", "2 ok 1|2\nend\n"); /* CR at end of input: a line end */
	EXPECT("a,b\r\n1,\"2\"\r", "2 ok 1|2\nend\n");
	EXPECT("a,b\n1,\"2\"\r\n3,4\n", "2 ok 1|2\n3 ok 3|4\nend\n");
}

static void test_bom(void **state)
{
	(void)state;
	const char d[] = "\xef\xbb\xbf" "id,name\n1,x\n";
	struct yoc_error e;
	yoc_csv *r;
	assert_int_equal(yoc_csv_open_mem(&r, d, sizeof d - 1, "t", NULL, &e), 0);
	assert_int_equal(yoc_csv_col(r, "id"), 0);
	assert_int_equal(yoc_csv_col(r, "name"), 1);
	yoc_csv_close(r);
	EXPECT("\xef\xbb\xbf" "id,name\n1,x\n", "2 ok 1|x\nend\n");
	/* Positions on line one do not count the BOM. */
	EXPECT_O("\xef\xbb\xbf" "1,a\"b\n", ((struct yoc_csv_opts){.no_header = 1}),
		 "1 stray_quote@1:4 1|a\"b\nend\n");
	/* A BOM anywhere else is data. */
	EXPECT("a\n\xef\xbb\xbfx\n", "2 ok \xef\xbb\xbfx\nend\n");
}

/* Excel's "CSV (Macintosh)": a bare CR ends a line, as LF and CRLF do. */
static void test_cr_only(void **state)
{
	(void)state;
	EXPECT("a,b\r1,2\r3,4\r", "2 ok 1|2\n3 ok 3|4\nend\n");
	EXPECT("a,b\r1,2\r3,4", "2 ok 1|2\n3 ok 3|4\nend\n"); /* no final line end */
	EXPECT("a,b\r\"1\",\"2\"\r3,\"4\"", "2 ok 1|2\n3 ok 3|4\nend\n");
	EXPECT("a\rx\r\ry\r", "2 ok x\n4 ok y\nend\n"); /* an empty line is skipped */
	EXPECT("\r\ra,b\r1,2\r", "4 ok 1|2\nend\n");
	EXPECT("a,b\r1,\r,2\r", "2 ok 1|\n3 ok |2\nend\n");
	/* The header is one line: identifiers in the rows never become column names. */
	const char d[] = "nhs_number,name\r9434765919,Ann\r9434765870,Bob\r";
	struct yoc_error e;
	yoc_csv *r;
	assert_int_equal(yoc_csv_open_mem(&r, d, sizeof d - 1, "t", NULL, &e), 0);
	assert_int_equal(yoc_csv_ncols(r), 2);
	assert_true(yoc_cell_eq(yoc_csv_header(r)[1], "name"));
	yoc_csv_close(r);
}

/* LF, CRLF and CR in one file; blank lines of each kind. */
static void test_cr_mixed(void **state)
{
	(void)state;
	EXPECT("a,b\r1,2\n3,4\r\n5,6\r7,8\n", "2 ok 1|2\n3 ok 3|4\n4 ok 5|6\n5 ok 7|8\nend\n");
	EXPECT("\ra,b\r\r1,2\r\n\r3,4\r", "4 ok 1|2\n6 ok 3|4\nend\n");
	EXPECT("a,b\r\n\r1,2\n\r3,4\n", "3 ok 1|2\n5 ok 3|4\nend\n");
	/* LF CR is two line ends (an empty line between), CR LF is one. */
	EXPECT("a,b\n\r1,2\r\n3,4\n\r\n5,6", "3 ok 1|2\n4 ok 3|4\n6 ok 5|6\nend\n");
	/* After a closing quote. */
	EXPECT("a,b\r\"1\",\"2\"\r\"3\",\"4\"\r\n5,\"6\"\n", "2 ok 1|2\n3 ok 3|4\n4 ok 5|6\nend\n");
}

/*
** Inside quotes a CR is data, as today; it still counts as a line end for
** positions (CRLF as one), so faults after it are on the right line.
*/
static void test_cr_quoted(void **state)
{
	(void)state;
	EXPECT("a,b\r\"x\ry\",2\r3,4\r", "2 ok x\\ry|2\n4 ok 3|4\nend\n");
	EXPECT("a,b\r\"x\r\ny\",2\r3,4\r", "2 ok x\\r\\ny|2\n4 ok 3|4\nend\n");
	EXPECT("a,b\r\"\r\",\"\r\r\"\r3,4\r", "2 ok \\r|\\r\\r\n6 ok 3|4\nend\n");
	EXPECT("a,b\r\"p\rq\"z,r\r", "2 stray_quote@3:3 \"p\\rq\"z|r\nend\n");
	EXPECT("a,b\r1,\"x\r2,3\r", "2 unterminated_quote@2:3 1|x\\r2,3\\r\nend\n");
	/* A quoted CR is written back quoted, so it round-trips. */
	char *out = NULL;
	size_t outn = 0;
	FILE *f = open_memstream(&out, &outn);
	struct yoc_csvw w;
	yoc_csvw_init(&w, f, ',');
	yoc_csvw_str(&w, "a");
	yoc_csvw_end(&w);
	yoc_csvw_str(&w, "x\ry");
	yoc_csvw_end(&w);
	fclose(f);
	assert_string_equal(out, "a\n\"x\ry\"\n");
	char *got = dump_opts(out, outn, &(struct yoc_csv_opts){0});
	assert_string_equal(got, "2 ok x\\ry\nend\n");
	free(got);
	free(out);
}

/* Line numbers in faults count CR-terminated lines. */
static void test_cr_positions(void **state)
{
	(void)state;
	EXPECT("a,b\r1,2\r3\r4,5\"\r6,7,8\r", "2 ok 1|2\n3 ragged_row@3:2 3\n"
					       "4 stray_quote@4:4 4|5\"\n5 ragged_row@5:5 6|7|8\nend\n");
	EXPECT("a,b\r\n1\r\n2,3\r4\r", "2 ragged_row@2:2 1\n3 ok 2|3\n4 ragged_row@4:2 4\nend\n");
	const char d[] = "a,b\r1,x\0y\r\"p\rq\0\",r\r3,4\r";
	expect_opts(d, sizeof d - 1, (struct yoc_csv_opts){0},
		    "2 nul_byte@2:4 1|x\\0y\n3 nul_byte@4:2 p\\rq\\0|r\n5 ok 3|4\nend\n");
	/* Delimiter detection reads the first line only, to its CR. */
	EXPECT("a;b\r1,2,3,4,5\r", "2 ragged_row@2:10 1,2,3,4,5\nend\n");
}

/* max_row counts the line end (CRLF as two bytes); a CR never hides it. */
static void test_cr_row_limits(void **state)
{
	(void)state;
	struct yoc_csv_opts o = {.max_row = 8};
	EXPECT_O("a,b\r1234,67\r1234,678\r1,2\r", o,
		 "2 ok 1234|67\n3 row_too_long@3:9 1234|678\n4 ok 1|2\nend\n");
	EXPECT_O("a,b\r\n12,456\r\n123,567\r\n1,2\r\n", o,
		 "2 ok 12|456\n3 row_too_long@3:9 123|567\n4 ok 1|2\nend\n");
	EXPECT_O("a,b\r\"1\r2\",6\r\"1\r\n3\",67\r1,2\r", o,
		 "2 ok 1\\r2|6\n4 row_too_long@5:5 1\\r\\n3|67\n6 ok 1|2\nend\n");
}

/*
** The file reader: every buffer size puts a CR, or a CR and its LF, on
** either side of a refill. The rows must be exactly those read from memory.
*/
static void test_cr_file_boundaries(void **state)
{
	(void)state;
	const char d[] = "id,code\r1,A\r\n22,BB\r\r333,\"C\rC\"\r\n4444,D\n\r55555,\"E\"\r6,F";
	char *want = dump_opts(d, sizeof d - 1, &(struct yoc_csv_opts){0});
	assert_string_equal(want, "2 ok 1|A\n3 ok 22|BB\n5 ok 333|C\\rC\n7 ok 4444|D\n"
				  "9 ok 55555|E\n10 ok 6|F\nend\n");
	char path[512];
	assert_int_equal(tu_temp_file(path, sizeof path, "csvcr", d, sizeof d - 1), 0);
	for (size_t b = 4; b < sizeof d + 2; b++) {
		struct yoc_csv_opts o = {.buf_size = b};
		char *got = dump_path(path, &o);
		if (strcmp(got, want) != 0) {
			print_error("buf_size %zu:\n%s---\n%s", b, got, want);
			fail();
		}
		free(got);
	}
	unlink(path);
	free(want);
}

static void test_blank_lines(void **state)
{
	(void)state;
	EXPECT("a,b\n\n1,2\n\n\n3,4\n\n", "3 ok 1|2\n6 ok 3|4\nend\n");
	EXPECT("\n\r\na,b\r\n\r\n1,2\r\n", "5 ok 1|2\nend\n");
	/* A quoted empty cell is a row, an empty line is not. */
	EXPECT("a\n\"\"\n\nx\n", "2 ok \n4 ok x\nend\n");
}

static void test_delimiters(void **state)
{
	(void)state;
	EXPECT("a|b|c\n1|2,5|3\n", "2 ok 1|2,5|3\nend\n");
	EXPECT("a\tb\n1\t2\n", "2 ok 1|2\nend\n");
	EXPECT("a;b;c\n1,5;2;3\n", "2 ok 1,5|2|3\nend\n");
	EXPECT_O("a;b\n1;2\n", ((struct yoc_csv_opts){.delim = ';'}), "2 ok 1|2\nend\n");
	/* Explicit delimiter wins over what the header suggests. */
	EXPECT_O("a,b|c\n1,2|3\n", ((struct yoc_csv_opts){.delim = '|'}), "2 ok 1,2|3\nend\n");
	/* Any byte may delimit. */
	EXPECT_O("a^b\nx^\"y^\"\n", ((struct yoc_csv_opts){.delim = '^'}), "2 ok x|y^\nend\n");
}

static void test_detect(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		char want;
	} cases[] = {
		{"a,b,c\n", ','},
		{"a|b|c\n", '|'},
		{"a\tb\tc\n", '\t'},
		{"a;b;c\n", ';'},
		{"single\n", ','},
		{"\"x,y,z\"|b\n", '|'},          /* delimiters inside quotes don't count */
		{"a|b,c|d\n", '|'},
		{"a,b|c\n", ','},                /* a tie goes to the comma */
		{"\n\na;b\n", ';'},              /* leading blank lines */
		{"\xef\xbb\xbf" "a\tb\n", '\t'},
		{"a;b\n1,2,3,4,5\n", ';'},       /* only the first line counts */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (size_t b = 0; b < 12; b++) {
			struct yoc_csv_opts o = {0};
			o.buf_size = b ? b : 0;
			struct yoc_error e;
			yoc_csv *r;
			assert_int_equal(yoc_csv_open_mem(&r, cases[i].in, strlen(cases[i].in), "t",
							  &o, &e),
					 0);
			assert_int_equal(yoc_csv_delim(r), cases[i].want);
			yoc_csv_close(r);
		}
	}
}

static void test_header(void **state)
{
	(void)state;
	const char d[] = "ID,\"Na,me\",ID,\"\",x\n1,2,3,4,5\n";
	struct yoc_error e;
	yoc_csv *r;
	struct yoc_csv_opts o = {.buf_size = 8};
	assert_int_equal(yoc_csv_open_mem(&r, d, sizeof d - 1, "t", &o, &e), 0);
	assert_int_equal(yoc_csv_ncols(r), 5);
	assert_int_equal(yoc_csv_col(r, "ID"), 0); /* the first of duplicates */
	assert_int_equal(yoc_csv_col(r, "Na,me"), 1);
	assert_int_equal(yoc_csv_col(r, ""), 3);
	assert_int_equal(yoc_csv_col(r, "id"), -1); /* case-sensitive */
	assert_int_equal(yoc_csv_col(r, "Na"), -1);
	struct yoc_csv_row row;
	assert_int_equal(yoc_csv_next(r, &row, &e), 1);
	assert_int_equal(yoc_csv_next(r, &row, &e), 0);
	/* Header cells outlive the rows and the buffer refills. */
	const struct yoc_cell *h = yoc_csv_header(r);
	assert_true(yoc_cell_eq(h[1], "Na,me"));
	assert_true(yoc_cell_eq(h[3], ""));
	assert_true(yoc_cell_eq(h[4], "x"));
	assert_string_equal(yoc_csv_name(r), "t");
	yoc_csv_close(r);
}

static void test_no_header(void **state)
{
	(void)state;
	struct yoc_csv_opts o = {.no_header = 1};
	EXPECT_O("1,2\n3,4\n5\n", o, "1 ok 1|2\n2 ok 3|4\n3 ragged_row@3:2 5\nend\n");
	EXPECT_O("", o, "end\n");
	struct yoc_error e;
	yoc_csv *r;
	assert_int_equal(yoc_csv_open_mem(&r, "x|y\n", 4, "t", &o, &e), 0);
	assert_null(yoc_csv_header(r));
	assert_int_equal(yoc_csv_ncols(r), 0);
	assert_int_equal(yoc_csv_col(r, "x"), -1);
	struct yoc_csv_row row;
	assert_int_equal(yoc_csv_next(r, &row, &e), 1);
	assert_int_equal(yoc_csv_ncols(r), 2);
	assert_int_equal(yoc_csv_delim(r), '|');
	yoc_csv_close(r);
}

/* ---- faults, each with its position, and what follows ------------------ */

static void test_fault_unterminated(void **state)
{
	(void)state;
	/* Runs to the end of input: reported once, at the opening quote. */
	EXPECT("a,b\n1,2\n3,\"abc\n4,5\n", "2 ok 1|2\n"
					    "3 unterminated_quote@3:3 3|abc\\n4,5\\n\nend\n");
	EXPECT("a,b\nx,\"", "2 unterminated_quote@2:3 x|\nend\n");
	EXPECT("a,b\n\"", "2 unterminated_quote@2:1 \nend\n");
	EXPECT("a,b\n\"a\"\"b", "2 unterminated_quote@2:1 a\"b\nend\n");
}

static void test_fault_stray_quote(void **state)
{
	(void)state;
	EXPECT("a,b\nab\"c,d\n1,2\n", "2 stray_quote@2:3 ab\"c|d\n3 ok 1|2\nend\n");
	EXPECT("a,b\nx,5\"\n1,2\n", "2 stray_quote@2:4 x|5\"\n3 ok 1|2\nend\n");
	/* Text after the closing quote: the cell is kept raw. */
	EXPECT("a,b\n\"ab\"c,d\n1,2\n", "2 stray_quote@2:5 \"ab\"c|d\n3 ok 1|2\nend\n");
	EXPECT("a,b\nd,\"x\" \n1,2\n", "2 stray_quote@2:6 d|\"x\" \n3 ok 1|2\nend\n");
	EXPECT("a,b\n\"x\"\"y\"z,d\n", "2 stray_quote@2:7 \"x\"\"y\"z|d\nend\n");
	/* A second quote inside the cell does not open a quoted part. */
	EXPECT("a,b\nx\"y\"z,w\n1,2\n", "2 stray_quote@2:2 x\"y\"z|w\n3 ok 1|2\nend\n");
	/* But the next cell may be quoted (here: to the end of input). */
	EXPECT("a,b\nx\"y,\"z\n1,2\n", "2 stray_quote@2:2 x\"y|z\\n1,2\\n\nend\n");
	/* The fault is on the line where it is, not where the row starts. */
	EXPECT("a,b\n\"1\n2\"x,y\n3,4\n", "2 stray_quote@3:3 \"1\\n2\"x|y\n4 ok 3|4\nend\n");
	/* A CR after the closing quote is a line end, not stray text. */
	EXPECT("a,b\n\"x\"\ry,z\n", "2 ragged_row@2:4 x\n3 ok y|z\nend\n");
}

static void test_fault_ragged(void **state)
{
	(void)state;
	EXPECT("a,b,c\n1,2\n3,4,5\n", "2 ragged_row@2:4 1|2\n3 ok 3|4|5\nend\n");
	EXPECT("a,b,c\n1,2,3,4,5\n6,7,8\n", "2 ragged_row@2:7 1|2|3|4|5\n3 ok 6|7|8\nend\n");
	EXPECT("a,b\n1,2,\"x\"\n", "2 ragged_row@2:5 1|2|x\nend\n");
	EXPECT("a,b\r\n1\r\n2,3\r\n", "2 ragged_row@2:2 1\n3 ok 2|3\nend\n");
	EXPECT("a,b\n\"1\n\"\n2,3\n", "2 ragged_row@3:2 1\\n\n4 ok 2|3\nend\n");
	/* More cells than the header, at end of input without a newline. */
	EXPECT("a,b\n1,2,3", "2 ragged_row@2:5 1|2|3\nend\n");
}

static void test_fault_nul(void **state)
{
	(void)state;
	const char d[] = "a,b\n1,x\0y\n\"p\0\",q\n3,4\n";
	expect_opts(d, sizeof d - 1, (struct yoc_csv_opts){0},
		    "2 nul_byte@2:4 1|x\\0y\n3 nul_byte@3:3 p\\0|q\n4 ok 3|4\nend\n");
	const char h[] = "a,\0\n1,2\n";
	expect_opts(h, sizeof h - 1, (struct yoc_csv_opts){0}, "open malformed input@1:3\n");
}

static void test_fault_truncated(void **state)
{
	(void)state;
	EXPECT("a,b,c\n1,2,3\n4,5", "2 ok 1|2|3\n3 truncated@3:4 4|5\nend\n");
	EXPECT("a,b,c\n1,2,3\n4,5,", "2 ok 1|2|3\n3 ok 4|5|\nend\n"); /* full count: fine */
	EXPECT("a,b,c\n4,\"5\"", "2 truncated@2:6 4|5\nend\n");
	EXPECT("a,b,c\n4,5\r", "2 ragged_row@2:4 4|5\nend\n"); /* a final CR ends the line */
}

static void test_fault_field_too_long(void **state)
{
	(void)state;
	struct yoc_csv_opts o = {.max_field = 4};
	EXPECT_O("a,b\n1234,5\n12345,6\n7,\"12\"\"3\"\n8,\"12\"\"34\"\n9,0\n", o,
		 "2 ok 1234|5\n3 field_too_long@3:1 12345|6\n4 ok 7|12\"3\n"
		 "5 field_too_long@5:3 8|12\"34\n6 ok 9|0\nend\n");
}

static void test_fault_row_too_long(void **state)
{
	(void)state;
	struct yoc_csv_opts o = {.max_row = 8};
	/* 8 bytes with the newline is the limit. */
	EXPECT_O("a,b\n123,567\n1234,678\n1,2\n", o,
		 "2 ok 123|567\n3 row_too_long@3:9 1234|678\n4 ok 1|2\nend\n");
	/* Quoted LFs in the part that is skipped still count as lines. */
	const char d[] = "a,b\n1,\"2\n3\n4\n5\"\n6,7\n";
	char *got = dump_opts(d, sizeof d - 1, &o);
	assert_string_equal(got, "2 row_too_long@4:2 1|2\\n3\\n4\\n5\n6 ok 6|7\nend\n");
	free(got);
}

/* A row that never fits: skipped to the next LF outside quotes. */
static void test_row_too_long_skip(void **state)
{
	(void)state;
	char data[4096];
	size_t n = 0;
	n += (size_t)snprintf(data + n, sizeof data - n, "a,b\n1,2\n");
	n += (size_t)snprintf(data + n, sizeof data - n, "\"");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(data + n, sizeof data - n, "x,\n\"\"");
	n += (size_t)snprintf(data + n, sizeof data - n, "\",tail\n3,4\nx\"y\n5,6\n");
	for (size_t b = 4; b < 40; b += 5) {
		struct yoc_csv_opts o = {.max_row = 64, .buf_size = b};
		char *got = dump_opts(data, n, &o);
		/* Row 3 starts with a quoted cell that runs over 101 lines. */
		const char *want_head = "2 ok 1|2\n3 row_too_long@";
		assert_memory_equal(got, want_head, strlen(want_head));
		const char *tail = strstr(got, "\n104 ok 3|4\n105 stray_quote@105:2 x\"y\n106 ok 5|6\nend\n");
		assert_non_null(tail);
		free(got);
	}
}

static void test_too_many_cells(void **state)
{
	(void)state;
	size_t n = YOC_CSV_MAX_CELLS + 10;
	char *d = malloc(4 + 2 * n + 4);
	memcpy(d, "a,b\n", 4);
	for (size_t i = 0; i < n; i++) {
		d[4 + 2 * i] = 'x';
		d[5 + 2 * i] = ',';
	}
	memcpy(d + 4 + 2 * n - 1, "\n1,2\n", 5);
	struct yoc_error e;
	yoc_csv *r;
	assert_int_equal(yoc_csv_open_mem(&r, d, 4 + 2 * n + 4, "t", NULL, &e), 0);
	struct yoc_csv_row row;
	/* Too long, not "ragged: 65536 cells" (the cap's echo, nearer the start). */
	assert_int_equal(yoc_csv_next(r, &row, &e), YOC_ETOOBIG);
	assert_int_equal(row.fault, YOC_CSV_ROW_TOO_LONG);
	assert_int_equal(row.ncells, YOC_CSV_MAX_CELLS);
	assert_string_equal(e.msg, "row too long: more than 65536 cells; row rejected");
	assert_int_equal(e.line, 2);
	assert_int_equal(e.col, 2 * YOC_CSV_MAX_CELLS + 1);
	assert_int_equal(yoc_csv_next(r, &row, &e), 1);
	assert_true(yoc_cell_eq(row.cells[1], "2"));
	assert_int_equal(yoc_csv_next(r, &row, &e), 0);
	yoc_csv_close(r);
	/* As a header the cap is its own fault. */
	assert_int_equal(yoc_csv_open_mem(&r, d + 4, 2 * n, "t", NULL, &e), YOC_ETOOBIG);
	assert_null(r);
	assert_int_equal(e.line, 1);
	assert_int_equal(e.col, 2 * YOC_CSV_MAX_CELLS + 1);
	free(d);
}

/* Good and bad rows mixed: every input row comes back exactly once. */
static void test_row_accounting(void **state)
{
	(void)state;
	static const char *good[] = {"1,2,3", "\"a,b\",\"c\nd\",e", "x,,", "\"\",\"\"\"\",q"};
	static const char *bad[] = {"1,2", "1,2,3,4", "a\"b,c,d", "\"a\"b,c,d", "p,\"q\"r,s"};
	char *data = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&data, &n);
	fputs("h1,h2,h3\n", f);
	unsigned seed = 7;
	long want_good = 0, want_bad = 0;
	for (int i = 0; i < 2000; i++) {
		seed = seed * 1103515245u + 12345u;
		if ((seed >> 16) % 4 == 0) {
			fputs(bad[(seed >> 8) % 5], f);
			want_bad++;
		} else {
			fputs(good[(seed >> 8) % 4], f);
			want_good++;
		}
		fputs((seed >> 20) & 1 ? "\r\n" : "\n", f);
		if ((seed >> 24) % 16 == 0)
			fputs("\n", f); /* blank lines are not rows */
	}
	fputs("1,2", f); /* truncated */
	want_bad++;
	fclose(f);
	for (size_t b = 0; b < 3; b++) {
		struct yoc_csv_opts o = {.buf_size = b == 0 ? 0 : b == 1 ? 16 : 4096};
		struct yoc_error e;
		yoc_csv *r;
		assert_int_equal(yoc_csv_open_mem(&r, data, n, "t", &o, &e), 0);
		struct yoc_csv_row row;
		long got_good = 0, got_bad = 0;
		long last_line = 0;
		int rc;
		while ((rc = yoc_csv_next(r, &row, &e)) != 0) {
			assert_true(row.line > last_line);
			last_line = row.line;
			if (rc == 1)
				got_good++;
			else
				got_bad++;
		}
		assert_int_equal(got_good, want_good);
		assert_int_equal(got_bad, want_bad);
		assert_int_equal(yoc_csv_offset(r), n);
		yoc_csv_close(r);
	}
	free(data);
}

/* ---- files and limits ------------------------------------------------- */

static void test_open_errors(void **state)
{
	(void)state;
	struct yoc_error e;
	yoc_csv *r = (yoc_csv *)&e;
	yoc_error_clear(&e);
	assert_int_equal(yoc_csv_open(&r, "/nonexistent/x.csv", NULL, &e), YOC_EIO);
	assert_null(r);
	assert_string_equal(e.file, "/nonexistent/x.csv");
	assert_int_equal(yoc_csv_open(&r, "/", NULL, &e), YOC_EIO); /* read fails */
	assert_null(r);
	assert_int_equal(yoc_csv_open_mem(&r, "", 0, "t", NULL, &e), YOC_EPARSE);
	assert_null(r);
	assert_int_equal(yoc_csv_open_mem(&r, "\n\n", 2, "t", NULL, &e), YOC_EPARSE);
	struct yoc_csv_opts o = {.delim = '"'};
	assert_int_equal(yoc_csv_open_mem(&r, "a\n", 2, "t", &o, &e), YOC_EINVAL);
	o.delim = '\n';
	assert_int_equal(yoc_csv_open_mem(&r, "a\n", 2, "t", &o, &e), YOC_EINVAL);
	/* A malformed header fails the open with its position. */
	assert_int_equal(yoc_csv_open_mem(&r, "a,\"b\n", 5, "t", NULL, &e), YOC_EPARSE);
	assert_int_equal(e.line, 1);
	assert_int_equal(e.col, 3);
	o = (struct yoc_csv_opts){.max_row = 4};
	assert_int_equal(yoc_csv_open_mem(&r, "abcdef\n", 7, "t", &o, &e), YOC_ETOOBIG);
	assert_null(r);
}

static void test_file_and_offset(void **state)
{
	(void)state;
	const char d[] = "a;b\n1;2\n\"x\ny\";3\n";
	char path[512];
	assert_int_equal(tu_temp_file(path, sizeof path, "csv", d, sizeof d - 1), 0);
	struct yoc_error e;
	yoc_csv *r;
	assert_int_equal(yoc_csv_open(&r, path, NULL, &e), 0);
	assert_string_equal(yoc_csv_name(r), path);
	assert_int_equal(yoc_csv_offset(r), 4);
	struct yoc_csv_row row;
	assert_int_equal(yoc_csv_next(r, &row, &e), 1);
	assert_int_equal(yoc_csv_offset(r), 8);
	assert_int_equal(yoc_csv_next(r, &row, &e), 1);
	assert_true(yoc_cell_eq(row.cells[0], "x\ny"));
	assert_int_equal(row.quoted, 1);
	assert_int_equal(yoc_csv_next(r, &row, &e), 0);
	assert_int_equal(yoc_csv_offset(r), sizeof d - 1);
	yoc_csv_close(r);
	unlink(path);
}

/* "-" reads standard input. */
static void test_stdin(void **state)
{
	(void)state;
	const char d[] = "a,b\n1,2\n";
	char path[512];
	assert_int_equal(tu_temp_file(path, sizeof path, "csvin", d, sizeof d - 1), 0);
	int saved = dup(0);
	FILE *in = fopen(path, "r");
	assert_non_null(in);
	assert_int_equal(dup2(fileno(in), 0), 0);
	struct yoc_error e;
	yoc_csv *r;
	int rc = yoc_csv_open(&r, "-", NULL, &e);
	struct yoc_csv_row row;
	int rc2 = rc ? rc : yoc_csv_next(r, &row, &e);
	int ok = rc2 == 1 && yoc_cell_eq(row.cells[1], "2");
	if (!rc) {
		assert_string_equal(yoc_csv_name(r), "<stdin>");
		yoc_csv_close(r); /* must not close fd 0 */
	}
	assert_int_not_equal(fcntl(0, F_GETFD), -1);
	dup2(saved, 0);
	close(saved);
	fclose(in);
	unlink(path);
	assert_int_equal(rc, 0);
	assert_true(ok);
}

/* Writes a ~50 MB file and streams it: no allocation after the first row. */
static void test_large_constant_memory(void **state)
{
	(void)state;
	char path[512];
	assert_int_equal(tu_temp_file(path, sizeof path, "csvbig", "", 0), 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("id,code,when,note,amount\n", f);
	const long rows = 800000;
	int64_t want_sum = 0;
	for (long i = 0; i < rows; i++) {
		if (i % 5 == 0)
			fprintf(f, "%ld,A%02ld,2023-04-%02ld,\"said \"\"hi\"\", then, left\",%ld.%02ld\n", i,
				i % 100, i % 28 + 1, i % 1000, i % 100);
		else
			fprintf(f, "%ld,B%03ld,2024-01-%02ld,plain text note number %ld,%ld.%02ld\n", i,
				i % 1000, i % 28 + 1, i * 7, i % 1000, i % 100);
		want_sum += (i % 1000) * 100 + i % 100;
	}
	assert_int_equal(fclose(f), 0);

	struct yoc_error e;
	yoc_csv *r;
	struct yoc_csv_opts o = {.buf_size = 1 << 16};
	assert_int_equal(yoc_csv_open(&r, path, &o, &e), 0);
	int c_id = yoc_csv_col(r, "id"), c_amt = yoc_csv_col(r, "amount");
	int c_note = yoc_csv_col(r, "note");
	struct yoc_csv_row row;
	assert_int_equal(yoc_csv_next(r, &row, &e), 1);
	unsigned long allocs = yoc_alloc_count();
	long n = 1, quoted = 0;
	int64_t sum = 0, id;
	int64_t p;
	assert_int_equal(yoc_cell_pence(row.cells[c_amt], &p), 0);
	sum += p;
	int rc;
	while ((rc = yoc_csv_next(r, &row, &e)) == 1) {
		assert_int_equal(yoc_cell_int(row.cells[c_id], &id), 0);
		assert_int_equal(id, n);
		assert_int_equal(yoc_cell_pence(row.cells[c_amt], &p), 0);
		sum += p;
		if (row.quoted) {
			quoted++;
			assert_true(yoc_cell_eq(row.cells[c_note], "said \"hi\", then, left"));
		}
		n++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, rows);
	assert_int_equal(quoted, rows / 5 - 1);
	assert_int_equal(sum, want_sum);
	assert_int_equal(yoc_alloc_count(), allocs); /* constant memory */
	yoc_csv_close(r);
	unlink(path);
}

/* Make allocation N fail for N = 1, 2, ... until a whole read succeeds. */
static void test_alloc_failures(void **state)
{
	(void)state;
	/* 100 columns (cells[] must grow), a row longer than the buffer. */
	char *data = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&data, &n);
	for (int i = 0; i < 100; i++)
		fprintf(f, "%scol%d", i ? "," : "", i);
	fputs("\n", f);
	for (int j = 0; j < 3; j++) {
		for (int i = 0; i < 100; i++)
			fprintf(f, "%s\"value%d\"\"%d\"", i ? "," : "", i, j);
		fputs("\n", f);
	}
	fclose(f);
	int saw_open_fail = 0, saw_next_fail = 0, ok = 0;
	for (unsigned long k = 1; k < 1000 && !ok; k++) {
		struct yoc_error e;
		yoc_csv *r = NULL;
		struct yoc_csv_opts o = {.buf_size = 64};
		yoc_alloc_fail_at(k);
		int rc = yoc_csv_open_mem(&r, data, n, "t", &o, &e);
		if (rc) {
			assert_int_equal(rc, YOC_ENOMEM);
			assert_null(r);
			saw_open_fail = 1;
			continue;
		}
		struct yoc_csv_row row;
		long rows = 0;
		while ((rc = yoc_csv_next(r, &row, &e)) == 1) {
			assert_int_equal(row.ncells, 100);
			char want[32];
			snprintf(want, sizeof want, "value99\"%ld", rows);
			assert_true(yoc_cell_eq(row.cells[99], want));
			rows++;
		}
		if (rc == YOC_ENOMEM) {
			saw_next_fail = 1;
			/* Stopped for good. */
			assert_int_equal(yoc_csv_next(r, &row, &e), YOC_ENOMEM);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(rows, 3);
			ok = 1;
		}
		yoc_csv_close(r);
	}
	yoc_alloc_fail_at(0);
	assert_true(ok);
	assert_true(saw_open_fail);
	assert_true(saw_next_fail);
	free(data);
}

struct fault_count {
	long calls, max;
};

static void count_fault(void *ctx, const struct yoc_error *fault)
{
	struct fault_count *fc = ctx;
	assert_true(fault->code == YOC_EPARSE || fault->code == YOC_ETOOBIG);
	/* More faults than the file has rows: the loop is spinning on an error. */
	if (++fc->calls > fc->max)
		fail_msg("fault callback called %ld times for %ld rows", fc->calls, fc->max);
}

/*
** What `yoc inspect` does, with allocation N failing for N = 1, 2, ... until
** the whole file is read without reaching the failing allocation: each run
** ends, with the right counts or with "out of memory" (never a spin on the
** stopped reader, never a misleading message), and leaks nothing (ASan).
*/
static void test_inspect_alloc_failures(void **state)
{
	(void)state;
	char *data = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&data, &n);
	fputs("id,code,note\r", f);
	for (int j = 0; j < 6; j++) {
		if (j == 2) { /* a ragged row that makes the cell array grow */
			for (int i = 0; i < 150; i++)
				fprintf(f, "%sx%d", i ? "," : "", i);
			fputs("\r\n", f);
		} else if (j == 4) { /* a row longer than the buffer */
			fprintf(f, "%d,\"%0300d\",y\r", j, j);
		} else {
			fprintf(f, "%d,C%d,\"a\rb\"\n", j, j);
		}
	}
	fclose(f);
	char path[512];
	assert_int_equal(tu_temp_file(path, sizeof path, "csvoom", data, n), 0);
	int done = 0, saw_oom = 0;
	for (unsigned long k = 1; k < 1000 && !done; k++) {
		struct yoc_csv_opts o = {.buf_size = 64};
		struct yoc_csv_shape sh;
		struct yoc_error e;
		struct fault_count fc = {0, 6};
		yoc_error_clear(&e);
		unsigned long before = yoc_alloc_count();
		yoc_alloc_fail_at(k);
		int rc = yoc_csv_inspect(path, &o, count_fault, &fc, &sh, &e);
		yoc_alloc_fail_at(0);
		if (rc == 0) {
			assert_int_equal(sh.rows, 6);
			assert_int_equal(sh.ncols, 3);
			assert_int_equal(sh.malformed, 1);
			assert_int_equal(sh.faults[YOC_CSV_RAGGED_ROW], 1);
			assert_int_equal(fc.calls, 1);
			done = yoc_alloc_count() - before < k; /* the failure was never reached */
		} else {
			assert_int_equal(rc, YOC_ENOMEM);
			assert_int_equal(e.code, YOC_ENOMEM);
			assert_non_null(strstr(e.msg, "out of memory"));
			assert_true(sh.rows <= 6);
			saw_oom = 1;
		}
	}
	assert_true(done);
	assert_true(saw_oom);
	unlink(path);
	free(data);
}

/* Out of memory while reading the header is reported as such. */
static void test_header_oom_message(void **state)
{
	(void)state;
	char *data = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&data, &n);
	fputs("\r\n\r", f); /* blank lines first */
	for (int i = 0; i < 200; i++)
		fprintf(f, "%s\"col%d\"", i ? "," : "", i);
	fputs("\r1\r", f);
	fclose(f);
	char path[512];
	assert_int_equal(tu_temp_file(path, sizeof path, "csvhdr", data, n), 0);
	int ok = 0;
	for (unsigned long k = 1; k < 200 && !ok; k++) {
		for (int file = 0; file < 2; file++) {
			struct yoc_csv_opts o = {.buf_size = 16};
			struct yoc_error e;
			yoc_csv *r = NULL;
			yoc_error_clear(&e);
			yoc_alloc_fail_at(k);
			int rc = file ? yoc_csv_open(&r, path, &o, &e)
				      : yoc_csv_open_mem(&r, data, n, "h", &o, &e);
			yoc_alloc_fail_at(0);
			if (rc == 0) {
				assert_int_equal(yoc_csv_ncols(r), 200);
				yoc_csv_close(r);
				ok = 1;
				continue;
			}
			assert_int_equal(rc, YOC_ENOMEM);
			assert_non_null(strstr(e.msg, "out of memory"));
			assert_null(strstr(e.msg, "empty input"));
		}
	}
	assert_true(ok);
	unlink(path);
	free(data);
}

/* ---- the Artificial HES samples --------------------------------------- */

static void check_sample(const char *file, long want_rows, size_t want_cols, const char *col)
{
	char rel[256], path[4096];
	snprintf(rel, sizeof rel, "reference/hes/samples/%s", file);
	if (!tu_shared_path(path, sizeof path, rel))
		skip();
	struct yoc_error e;
	yoc_csv *r;
	assert_int_equal(yoc_csv_open(&r, path, NULL, &e), 0);
	assert_int_equal(yoc_csv_ncols(r), want_cols);
	assert_int_equal(yoc_csv_delim(r), ',');
	assert_true(yoc_csv_col(r, col) >= 0);
	struct yoc_csv_row row;
	long rows = 0;
	int rc;
	while ((rc = yoc_csv_next(r, &row, &e)) == 1) {
		assert_int_equal(row.ncells, want_cols);
		rows++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(rows, want_rows);
	yoc_csv_close(r);
}

static void test_hes_samples(void **state)
{
	(void)state;
	check_sample("artificial_hes_apc_0102.csv", 2075, 193, "EPISTART");
	check_sample("artificial_hes_op_0304.csv", 1000, 157, "APPTDATE");
	check_sample("artificial_hes_ae_0708.csv", 1000, 165, "ARRIVALDATE");
}

/* ---- cell helpers ------------------------------------------------------ */

static struct yoc_cell C(const char *s)
{
	return (struct yoc_cell){s, strlen(s)};
}

static void test_cell_eq_int(void **state)
{
	(void)state;
	assert_true(yoc_cell_eq(C("abc"), "abc"));
	assert_false(yoc_cell_eq(C("abc"), "ab"));
	assert_false(yoc_cell_eq(C("ab"), "abc"));
	assert_true(yoc_cell_eq((struct yoc_cell){NULL, 0}, ""));
	int64_t v = 99;
	assert_int_equal(yoc_cell_int(C("0"), &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(yoc_cell_int(C("-42"), &v), 0);
	assert_int_equal(v, -42);
	assert_int_equal(yoc_cell_int(C("+7"), &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(yoc_cell_int(C("007"), &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(yoc_cell_int(C("9223372036854775807"), &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(yoc_cell_int(C("-9223372036854775808"), &v), 0);
	assert_true(v == INT64_MIN);
	v = 5;
	static const char *bad[] = {"", "-", "+", " 1", "1 ", "1.0", "1e3", "0x10", "12a",
				    "9223372036854775808", "-9223372036854775809",
				    "99999999999999999999", "--1"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(yoc_cell_int(C(bad[i]), &v), YOC_EPARSE);
	assert_int_equal(v, 5); /* untouched on failure */
}

static void test_cell_pence(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int64_t want;
	} ok[] = {
		{"12", 1200},    {"12.3", 1230},  {"12.34", 1234}, {"-1.5", -150},
		{"0", 0},        {"-0", 0},       {".5", 50},      {"12.", 1200},
		{"+3.07", 307},  {"1.005", 101},  {"-1.005", -101}, {"1.0049", 100},
		{"1.00499999", 100}, {"2.345", 235}, {"2.3449", 234}, {"0.001", 0},
		{"0.995", 100},  {"-0.995", -100}, {"1234567.89", 123456789},
		{"12.340000", 1234}, {"92233720368547758.07", INT64_MAX},
		{"-92233720368547758.08", INT64_MIN},
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		int64_t v = -1;
		if (yoc_cell_pence(C(ok[i].s), &v) != 0 || v != ok[i].want) {
			print_error("pence(\"%s\") = %lld\n", ok[i].s, (long long)v);
			fail();
		}
	}
	static const char *bad[] = {"", ".", "-", "-.", "+", "1.2.3", "1,000", "£5", "5p", " 5",
				    "5 ", "1e2", "abc", "1.a", "--1", "92233720368547758.08",
				    "-92233720368547758.09", "99999999999999999999"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t v = 77;
		if (yoc_cell_pence(C(bad[i]), &v) != YOC_EPARSE || v != 77) {
			print_error("pence(\"%s\") accepted\n", bad[i]);
			fail();
		}
	}
}

/* ---- writer ----------------------------------------------------------- */

static void test_writer_exact(void **state)
{
	(void)state;
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	struct yoc_csvw w;
	yoc_csvw_init(&w, f, ',');
	yoc_csvw_str(&w, "plain");
	yoc_csvw_str(&w, "a,b");
	yoc_csvw_str(&w, "say \"hi\"");
	yoc_csvw_str(&w, "l1\nl2");
	yoc_csvw_str(&w, "cr\r");
	yoc_csvw_str(&w, "");
	yoc_csvw_str(&w, " sp ");
	yoc_csvw_str(&w, "a|b");
	yoc_csvw_end(&w);
	yoc_csvw_int(&w, 0);
	yoc_csvw_int(&w, -12);
	yoc_csvw_int(&w, INT64_MAX);
	yoc_csvw_int(&w, INT64_MIN);
	yoc_csvw_end(&w);
	yoc_csvw_pence(&w, 1234);
	yoc_csvw_pence(&w, -1234);
	yoc_csvw_pence(&w, -5);
	yoc_csvw_pence(&w, 0);
	yoc_csvw_pence(&w, 100);
	yoc_csvw_pence(&w, INT64_MIN);
	yoc_csvw_end(&w);
	yoc_csvw_str(&w, ""); /* a row of one empty cell */
	yoc_csvw_end(&w);
	yoc_csvw_str(&w, "");
	yoc_csvw_str(&w, "");
	yoc_csvw_end(&w);
	assert_int_equal(yoc_csvw_status(&w), 0);
	fclose(f);
	assert_string_equal(out, "plain,\"a,b\",\"say \"\"hi\"\"\",\"l1\nl2\",\"cr\r\",, sp ,a|b\n"
				 "0,-12,9223372036854775807,-9223372036854775808\n"
				 "12.34,-12.34,-0.05,0.00,1.00,-92233720368547758.08\n"
				 "\"\"\n"
				 ",\n");
	free(out);

	out = NULL;
	f = open_memstream(&out, &n);
	yoc_csvw_init(&w, f, '|');
	yoc_csvw_str(&w, "a,b");
	yoc_csvw_str(&w, "a|b");
	yoc_csvw_end(&w);
	fclose(f);
	assert_string_equal(out, "a,b|\"a|b\"\n");
	free(out);
}

static void test_writer_error(void **state)
{
	(void)state;
	FILE *f = fopen("/dev/full", "w");
	if (!f)
		skip();
	setvbuf(f, NULL, _IONBF, 0);
	struct yoc_csvw w;
	yoc_csvw_init(&w, f, ',');
	yoc_csvw_str(&w, "x");
	yoc_csvw_end(&w);
	assert_int_equal(yoc_csvw_status(&w), YOC_EIO);
	fclose(f);
}

/* Random cells written by the writer and read back by the reader. */
static void test_round_trip(void **state)
{
	(void)state;
	static const char alphabet[] = "ab ,|\t;\"\r\nxyz0123\xc3\xa9";
	const char delims[] = {',', '|', '\t', ';'};
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	for (int round = 0; round < 8; round++) {
		const int ncols = 1 + round % 4 * 3, nrows = 400;
		char delim = delims[round % 4];
		/* The cells, kept as one string per cell. */
		char **cells = calloc((size_t)(ncols * (nrows + 1)), sizeof *cells);
		size_t *lens = calloc((size_t)(ncols * (nrows + 1)), sizeof *lens);
		char *out = NULL;
		size_t outn = 0;
		FILE *f = open_memstream(&out, &outn);
		struct yoc_csvw w;
		yoc_csvw_init(&w, f, delim);
		for (int i = 0; i <= nrows; i++) {
			for (int j = 0; j < ncols; j++) {
				size_t k = (size_t)(i * ncols + j), len;
				seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
				if (i == 0) { /* header: distinct names */
					cells[k] = malloc(16);
					len = (size_t)snprintf(cells[k], 16, "c%d", j);
				} else {
					len = (seed >> 33) % 4 == 0 ? 0 : (seed >> 40) % 12;
					cells[k] = malloc(len + 1);
					for (size_t c = 0; c < len; c++) {
						seed = seed * 6364136223846793005ULL + 1ULL;
						cells[k][c] = alphabet[(seed >> 35) % (sizeof alphabet - 1)];
					}
				}
				lens[k] = len;
				yoc_csvw_cell(&w, cells[k], len);
			}
			yoc_csvw_end(&w);
		}
		assert_int_equal(yoc_csvw_status(&w), 0);
		fclose(f);
		for (size_t b = 0; b < 2; b++) {
			struct yoc_csv_opts o = {.delim = delim, .buf_size = b ? 7 : 0};
			struct yoc_error e;
			yoc_csv *r;
			assert_int_equal(yoc_csv_open_mem(&r, out, outn, "rt", &o, &e), 0);
			assert_int_equal(yoc_csv_ncols(r), (size_t)ncols);
			struct yoc_csv_row row;
			for (int i = 1; i <= nrows; i++) {
				int rc = yoc_csv_next(r, &row, &e);
				if (rc != 1)
					print_error("row %d: %s\n", i, e.msg);
				assert_int_equal(rc, 1);
				assert_int_equal(row.ncells, (size_t)ncols);
				for (int j = 0; j < ncols; j++) {
					size_t k = (size_t)(i * ncols + j);
					assert_int_equal(row.cells[j].n, lens[k]);
					if (lens[k])
						assert_memory_equal(row.cells[j].p, cells[k], lens[k]);
				}
			}
			assert_int_equal(yoc_csv_next(r, &row, &e), 0);
			yoc_csv_close(r);
		}
		for (int k = 0; k < ncols * (nrows + 1); k++)
			free(cells[k]);
		free(cells);
		free(lens);
		free(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_cr_only),
		cmocka_unit_test(test_cr_mixed),
		cmocka_unit_test(test_cr_quoted),
		cmocka_unit_test(test_cr_positions),
		cmocka_unit_test(test_cr_row_limits),
		cmocka_unit_test(test_cr_file_boundaries),
		cmocka_unit_test(test_blank_lines),
		cmocka_unit_test(test_delimiters),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_no_header),
		cmocka_unit_test(test_fault_unterminated),
		cmocka_unit_test(test_fault_stray_quote),
		cmocka_unit_test(test_fault_ragged),
		cmocka_unit_test(test_fault_nul),
		cmocka_unit_test(test_fault_truncated),
		cmocka_unit_test(test_fault_field_too_long),
		cmocka_unit_test(test_fault_row_too_long),
		cmocka_unit_test(test_row_too_long_skip),
		cmocka_unit_test(test_too_many_cells),
		cmocka_unit_test(test_row_accounting),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_file_and_offset),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_large_constant_memory),
		cmocka_unit_test(test_alloc_failures),
		cmocka_unit_test(test_inspect_alloc_failures),
		cmocka_unit_test(test_header_oom_message),
		cmocka_unit_test(test_hes_samples),
		cmocka_unit_test(test_cell_eq_int),
		cmocka_unit_test(test_cell_pence),
		cmocka_unit_test(test_writer_exact),
		cmocka_unit_test(test_writer_error),
		cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}

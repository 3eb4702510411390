/*
** yoc inspect: reads CSV files with the yoc reader and reports their shape
** (delimiter, columns, rows) and every malformed row with file:line:col.
** Read-only; writes nothing but its report. The reading and counting are
** yoc_csv_inspect (core); this file only prints.
*/
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "yoc/csv.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc inspect [--delim C] [--max-faults N] [--json] FILE...\n\n"
	"Reads each CSV file and reports its delimiter, column count, row count\n"
	"and malformed rows (unterminated or stray quotes, ragged rows, NUL bytes,\n"
	"a truncated last line, over-long fields), each as FILE:LINE:COL.\n\n"
	"  --delim C        field delimiter (default: detected from the header)\n"
	"  --max-faults N   faults listed per file (default 20; all are counted)\n"
	"  --json           one JSON object per file on stdout\n\n"
	"Exit status: 0 if every row is well formed, 1 if any is not, 2 on usage.\n";

struct fault_print {
	long shown, max;
	int json;
};

static void print_fault(void *ctx, const struct yoc_error *fault)
{
	struct fault_print *fp = ctx;
	if (!fp->json && fp->shown++ < fp->max)
		yoc_error_print(stdout, fault);
}

static int inspect_one(const char *path, char delim, long max_faults, int json)
{
	struct yoc_csv_opts o = {0};
	struct yoc_csv_shape sh;
	struct yoc_error e;
	struct fault_print fp = {0, max_faults, json};
	o.delim = delim;
	yoc_error_clear(&e);
	/* a named pipe would block the reader: refused by name instead */
	int rc = strcmp(path, "-") ? yoc_check_regular(path, &e) : 0;
	if (!rc)
		rc = yoc_csv_inspect(path, &o, print_fault, &fp, &sh, &e);
	if (rc) {
		cli_err_rec("inspect", &e);
		return 1;
	}
	if (json) {
		printf("{\"file\":");
		cli_json_str(stdout, path);
		printf(",\"delimiter\":");
		char d[2] = {sh.delim, 0};
		cli_json_str(stdout, d);
		printf(",\"columns\":%zu,\"rows\":%ld,\"malformed\":%ld,\"faults\":{",
		       sh.ncols, sh.rows, sh.malformed);
		int first = 1;
		for (int k = 1; k <= YOC_CSV_ROW_TOO_LONG; k++) {
			if (!sh.faults[k])
				continue;
			printf("%s\"%s\":%ld", first ? "" : ",", yoc_csv_fault_str(k), sh.faults[k]);
			first = 0;
		}
		printf("}}\n");
	} else {
		char d = sh.delim;
		printf("%s: %ld rows x %zu columns, delimiter '%s', %ld malformed\n", path,
		       sh.rows, sh.ncols, d == '\t' ? "\\t" : (char[]){d, 0}, sh.malformed);
	}
	return sh.malformed ? 1 : 0;
}

static int run(int argc, char **argv)
{
	struct cli_opt opts[] = {
		{"delim", 1, NULL}, {"max-faults", 1, NULL}, {"json", 0, NULL}, {NULL, 0, NULL}
	};
	int npos;
	if (cli_parse("inspect", argc, argv, opts, &npos))
		return 2;
	long maxf;
	if (cli_get_long("inspect", opts, "max-faults", 20, &maxf))
		return 2;
	const char *d = cli_get(opts, "delim");
	char delim = 0;
	if (d) {
		if (strcmp(d, "\\t") == 0 || strcmp(d, "tab") == 0)
			delim = '\t';
		else if (strlen(d) == 1 && d[0] != '"' && d[0] != '\n' && d[0] != '\r')
			delim = d[0];
		else {
			cli_err("inspect", "--delim wants one character, not '%s'", d);
			return 2;
		}
	}
	if (npos == 0) {
		cli_err("inspect", "no file given; see 'yoc help inspect'");
		return 2;
	}
	int status = 0;
	for (int i = 1; i <= npos; i++)
		if (inspect_one(argv[i], delim, maxf, cli_get(opts, "json") != NULL))
			status = 1;
	return status;
}

const struct cli_verb cli_verb_inspect = {
	"inspect", "check CSV files: shape and malformed rows with line:col", usage_text, run
};

/*
** yoc sql: runs SQL on a dataset, read-only: the catalog's tables and one
** table per feed kind over the current activity (src/sqlext, docs/sql.md).
** Prints each statement's rows as CSV with a header, or as JSON lines.
*/
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sqlext/sqlext.h"
#include "store/store.h"
#include "yoc/csv.h"
#include "yoc/io.h"

#define VERB "sql"
#define MAX_QUERY (64u << 20)

static const char usage_text[] =
	"Usage: yoc sql --db DIR [--csv | --json] [--out FILE] [--stats] [QUERY | -f FILE]\n\n"
	"Runs SQL on a dataset, read-only: the catalog's tables (person, files,\n"
	"person_year, risk_score, cohort_register, ...) and one table per feed kind\n"
	"(apc, op, ae, community, mh, gp_appt, gp_register, social_care, ambulance,\n"
	"deaths, careplan, pam) holding the current files' rows: file_id, line, then\n"
	"the kind's fields; dates as 'YYYY-MM-DD', money in pence, empty cells NULL.\n"
	"QUERY may hold several statements; without QUERY or -f the query is read\n"
	"from standard input. A person (PSEUDO_ID = or IN) or a range of the kind's\n"
	"activity date is looked up without reading every row (docs/sql.md).\n\n"
	"  --csv      CSV, a header row per statement (the default)\n"
	"  --json     one JSON object per row, one per line\n"
	"  -f FILE    read the query from FILE\n"
	"  --out FILE write the rows to FILE (atomically: all of them, or FILE as it was)\n"
	"  --stats    print to stderr what the activity tables read\n\n"
	"The same tables in the sqlite3 shell: sqlite3 DIR/yoc.db, then\n"
	".load build/yoc_sqlite\n";

struct run {
	sqlite3 *db;
	const char *src;          /* the query's name in messages */
	const char *sql;          /* the whole query text */
	int json;
	FILE *out;                /* stdout or the --out file's temporary */
	struct yoc_csvw w;
	struct yoc_progress prog;
	const struct yoc_sqlext_stats *stats;
	int progress_on;          /* drawn until the first row reaches a terminal */
};

/* Reads all of f (capped); NUL-terminated, caller frees. */
static char *slurp(FILE *f, const char *name, struct yoc_error *e)
{
	struct yoc_buf b;
	yoc_buf_init(&b, MAX_QUERY);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (yoc_buf_append(&b, chunk, n)) {
			yoc_buf_free(&b);
			yoc_error_set(e, YOC_ETOOBIG, name, 0, 0, "query longer than %u MiB",
				      MAX_QUERY >> 20);
			return NULL;
		}
	if (ferror(f) || yoc_buf_append(&b, "", 1)) {
		yoc_buf_free(&b);
		yoc_error_set(e, YOC_EIO, name, 0, 0, "cannot read the query");
		return NULL;
	}
	return b.data; /* handed on: freed by the caller */
}

/* "SRC:LINE:COL: message", then the line of the query and a caret under COL. */
static void sql_error(const struct run *r, size_t off, const char *msg)
{
	long line = 1;
	size_t bol = 0;
	for (size_t i = 0; i < off && r->sql[i]; i++)
		if (r->sql[i] == '\n') {
			line++;
			bol = i + 1;
		}
	size_t eol = bol;
	while (r->sql[eol] && r->sql[eol] != '\n')
		eol++;
	yoc_progress_clear((struct yoc_progress *)&r->prog);
	fprintf(stderr, "yoc %s: %s:%ld:%zu: %s\n", VERB, r->src, line, off - bol + 1, msg);
	if (eol - bol <= 200) {
		fprintf(stderr, "  %.*s\n  ", (int)(eol - bol), r->sql + bol);
		for (size_t i = bol; i < off; i++)
			fputc(r->sql[i] == '\t' ? '\t' : ' ', stderr);
		fputs("^\n", stderr);
	}
}

static int on_progress(void *arg)
{
	struct run *r = arg;
	if (r->progress_on) {
		yoc_progress_rows(&r->prog, r->stats ? r->stats->rows : 0);
		yoc_progress_update(&r->prog, 0);
	}
	return 0;
}

static void print_json_row(FILE *f, sqlite3_stmt *st, int nc)
{
	fputc('{', f);
	for (int i = 0; i < nc; i++) {
		if (i)
			fputc(',', f);
		cli_json_str(f, sqlite3_column_name(st, i));
		fputc(':', f);
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_INTEGER:
			fprintf(f, "%lld", (long long)sqlite3_column_int64(st, i));
			break;
		case SQLITE_FLOAT: {
			double v = sqlite3_column_double(st, i);
			if (isfinite(v))
				fprintf(f, "%.17g", v);
			else
				fputs("null", f);
			break;
		}
		case SQLITE_NULL:
			fputs("null", f);
			break;
		case SQLITE_BLOB: {
			const unsigned char *p = sqlite3_column_blob(st, i);
			int n = sqlite3_column_bytes(st, i);
			fputc('"', f);
			for (int k = 0; k < n; k++)
				fprintf(f, "%02x", p[k]);
			fputc('"', f);
			break;
		}
		default:
			cli_json_str(f, (const char *)sqlite3_column_text(st, i));
		}
	}
	fputs("}\n", f);
}

static void print_csv_row(struct run *r, sqlite3_stmt *st, int nc)
{
	for (int i = 0; i < nc; i++) {
		const char *z = (const char *)sqlite3_column_text(st, i);
		yoc_csvw_cell(&r->w, z ? z : "", z ? (size_t)sqlite3_column_bytes(st, i) : 0);
	}
	yoc_csvw_end(&r->w);
}

/* Runs every statement of r->sql in turn. 0, or 1 after printing the error. */
static int run_all(struct run *r)
{
	const char *tail = r->sql;
	int tty = isatty(fileno(r->out));
	while (*tail) {
		sqlite3_stmt *st = NULL;
		const char *next = NULL;
		if (sqlite3_prepare_v2(r->db, tail, -1, &st, &next) != SQLITE_OK) {
			int at = sqlite3_error_offset(r->db);
			size_t off = (size_t)(tail - r->sql) + (at >= 0 ? (size_t)at : 0);
			if (at < 0) /* no position: point at the statement */
				while (r->sql[off] == ' ' || r->sql[off] == '\n' || r->sql[off] == '\t' ||
				       r->sql[off] == '\r')
					off++;
			sql_error(r, off, sqlite3_errmsg(r->db));
			return 1;
		}
		size_t start = (size_t)(tail - r->sql);
		while (r->sql[start] == ' ' || r->sql[start] == '\n' || r->sql[start] == '\t' ||
		       r->sql[start] == '\r')
			start++;
		tail = next;
		if (!st)
			continue; /* only blanks or a comment */
		int nc = sqlite3_column_count(st);
		if (nc && !r->json) {
			for (int i = 0; i < nc; i++)
				yoc_csvw_str(&r->w, sqlite3_column_name(st, i));
			yoc_csvw_end(&r->w);
		}
		r->progress_on = 1;
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (tty && r->progress_on) {
				yoc_progress_clear(&r->prog);
				r->progress_on = 0;
			}
			if (r->json)
				print_json_row(r->out, st, nc);
			else
				print_csv_row(r, st, nc);
		}
		if (rc != SQLITE_DONE) {
			sql_error(r, start, sqlite3_errmsg(r->db));
			sqlite3_finalize(st);
			return 1;
		}
		sqlite3_finalize(st);
	}
	return 0;
}

static int run(int argc, char **argv)
{
	struct cli_opt opts[] = {
		{"db", 1, NULL}, {"csv", 0, NULL}, {"json", 0, NULL}, {"f", 1, NULL},
		{"stats", 0, NULL}, {"out", 1, NULL}, {NULL, 0, NULL}
	};
	int npos;
	if (cli_parse(VERB, argc, argv, opts, &npos))
		return 2;
	const char *dir = cli_get(opts, "db"), *file = cli_get(opts, "f"), *out = cli_get(opts, "out");
	if (!dir) {
		cli_err(VERB, "give --db DIR; see 'yoc help sql'");
		return 2;
	}
	if (npos > 1 || (npos == 1 && file)) {
		cli_err(VERB, "give one QUERY or -f FILE (quote the query); see 'yoc help sql'");
		return 2;
	}
	if (cli_get(opts, "csv") && cli_get(opts, "json")) {
		cli_err(VERB, "give --csv or --json, not both");
		return 2;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	struct run r;
	memset(&r, 0, sizeof r);
	r.json = cli_get(opts, "json") != NULL;
	char *text = NULL;
	yoc_store *s = NULL;
	struct yoc_afile af = {0};
	int rc = 1;
	/* The store's open names a missing dataset and rolls back a killed writer's journal. */
	if (yoc_store_open(&s, dir, 0, &e))
		goto fail;
	char dbpath[4200];
	snprintf(dbpath, sizeof dbpath, "%s/yoc.db", yoc_store_dir(s));
	yoc_store_close(s);
	s = NULL;
	if (npos == 1) {
		r.src = "query";
		r.sql = argv[1];
	} else {
		FILE *f = stdin;
		r.src = file ? file : "stdin";
		if (file) {
			int fd = yoc_open_regular(file, O_RDONLY, 0, &e);
			if (fd < 0)
				goto fail;
			if (!(f = fdopen(fd, "rb"))) {
				close(fd);
				yoc_error_set(&e, YOC_EIO, file, 0, 0, "cannot read the query file");
				goto fail;
			}
		}
		text = slurp(f, r.src, &e);
		if (f != stdin)
			fclose(f);
		if (!text)
			goto fail;
		r.sql = text;
	}
	if (sqlite3_open_v2(dbpath, &r.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		yoc_error_set(&e, YOC_EIO, dbpath, 0, 0, "sqlite: %s",
			      r.db ? sqlite3_errmsg(r.db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(r.db, 10000);
	if (yoc_sqlext_register(r.db, &r.stats) != SQLITE_OK) {
		yoc_error_set(&e, YOC_EIO, dbpath, 0, 0, "cannot register the activity tables: %s",
			      sqlite3_errmsg(r.db));
		goto fail;
	}
	r.out = stdout;
	if (out) {
		yoc_tmp_sweep(out, NULL); /* what killed runs left beside it */
		if (yoc_afile_open(&af, out, &e))
			goto fail;
		r.out = af.f;
	}
	yoc_csvw_init(&r.w, r.out, ',');
	yoc_progress_start(&r.prog, VERB, 0);
	sqlite3_progress_handler(r.db, 200000, on_progress, &r);
	rc = run_all(&r);
	yoc_progress_end(&r.prog);
	if (!rc && (yoc_csvw_status(&r.w) || ferror(r.out) || (!out && fflush(stdout) != 0))) {
		cli_err(VERB, "%s: write failed", out ? out : "stdout");
		rc = 1;
	}
	if (!rc && out && yoc_afile_commit(&af, &e)) {
		cli_err_rec(VERB, &e);
		rc = 1;
	}
	if (cli_get(opts, "stats") && r.stats)
		fprintf(stderr,
			"yoc %s: activity segments %llu (skipped whole %llu), person column scans %llu,"
			" person index lookups %llu, rows examined %llu, rows returned %llu\n",
			VERB, (unsigned long long)r.stats->segments,
			(unsigned long long)r.stats->skipped,
			(unsigned long long)r.stats->person_scans,
			(unsigned long long)r.stats->person_index,
			(unsigned long long)r.stats->rows, (unsigned long long)r.stats->returned);
	goto done;
fail:
	cli_err_rec(VERB, &e);
	rc = 1;
done:
	if (af.f)
		yoc_afile_abort(&af);
	if (r.db)
		sqlite3_close(r.db);
	yoc_store_close(s);
	yoc_free(text);
	return rc;
}

const struct cli_verb cli_verb_sql = {
	VERB, "run SQL on a dataset: catalog tables and every feed's activity", usage_text, run
};

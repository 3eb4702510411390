/*
** yoc quarantine: lists or exports the rows the loader refused, each with
** its file, line, field, value and reason code.
*/
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"
#include "yoc/csv.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc quarantine --db DIR [--out FILE] [--reason CODE] [--all]\n\n"
	"Writes the quarantined rows of current files as CSV (file, kind,\n"
	"provider, period, line, field, value, reason, raw) to FILE or stdout,\n"
	"and a summary: the rows counted per feed and reason, biggest first\n"
	"(on stderr when the rows go to stdout, so stdout stays CSV; on stdout\n"
	"with --out).\n\n"
	"  --reason CODE   only rows with this reason code\n"
	"  --all           include rows of superseded files\n";

/* The summary: rows per feed and reason, under the same filters as the rows. */
static int summary(sqlite3 *db, const char *reason, int all, FILE *f, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	const char *sql = "SELECT f.kind, q.reason, count(*), sum(count(*)) OVER () FROM quarantine q"
		" JOIN files f USING(file_id) WHERE (?1 IS NULL OR q.reason = ?1) AND"
		" (?2 OR f.superseded_by IS NULL) GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2";
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL))
		return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "sqlite: %s", sqlite3_errmsg(db));
	if (reason)
		sqlite3_bind_text(st, 1, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, all);
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (!n++)
			fprintf(f, "quarantine: %lld rows%s by feed and reason:\n",
				(long long)sqlite3_column_int64(st, 3),
				all ? " (with superseded files)" : "");
		fprintf(f, "  %-12s %-28s %lld\n", (const char *)sqlite3_column_text(st, 0),
			(const char *)sqlite3_column_text(st, 1),
			(long long)sqlite3_column_int64(st, 2));
	}
	if (!n)
		fprintf(f, "quarantine: no rows%s\n", reason ? " with this reason" : "");
	sqlite3_finalize(st);
	return 0;
}

static int run(int argc, char **argv)
{
	struct cli_opt opts[] = {
		{"db", 1, NULL}, {"out", 1, NULL}, {"reason", 1, NULL}, {"all", 0, NULL}, {NULL, 0, NULL}
	};
	int npos;
	if (cli_parse("quarantine", argc, argv, opts, &npos))
		return 2;
	const char *db = cli_get(opts, "db"), *out = cli_get(opts, "out");
	if (!db || npos) {
		cli_err("quarantine", "give --db DIR; see 'yoc help quarantine'");
		return 2;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_store *s = NULL;
	sqlite3_stmt *st = NULL;
	struct yoc_afile af = {0};
	FILE *f = stdout;
	int rc = 1;
	if (yoc_store_open(&s, db, 0, &e))
		goto fail;
	const char *sql = "SELECT f.path, f.kind, f.provider, f.period, q.line, q.field, q.value,"
		" q.reason, q.raw FROM quarantine q JOIN files f USING(file_id)"
		" WHERE (?1 IS NULL OR q.reason = ?1) AND (?2 OR f.superseded_by IS NULL)"
		" ORDER BY q.file_id, q.line";
	if (sqlite3_prepare_v2(yoc_store_db(s), sql, -1, &st, NULL)) {
		yoc_error_set(&e, YOC_EIO, db, 0, 0, "sqlite: %s", sqlite3_errmsg(yoc_store_db(s)));
		goto fail;
	}
	if (cli_get(opts, "reason"))
		sqlite3_bind_text(st, 1, cli_get(opts, "reason"), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, cli_get(opts, "all") != NULL);
	if (out) {
		yoc_tmp_sweep(out, NULL); /* what killed runs left beside it */
		if (yoc_afile_open(&af, out, &e))
			goto fail;
		f = af.f;
	}
	struct yoc_csvw w;
	yoc_csvw_init(&w, f, ',');
	static const char *const hdr[] = {"file", "kind", "provider", "period", "line", "field",
		"value", "reason", "raw"};
	for (int i = 0; i < 9; i++)
		yoc_csvw_str(&w, hdr[i]);
	yoc_csvw_end(&w);
	long n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int i = 0; i < 9; i++) {
			const char *z = (const char *)sqlite3_column_text(st, i);
			yoc_csvw_cell(&w, z ? z : "", z ? (size_t)sqlite3_column_bytes(st, i) : 0);
		}
		yoc_csvw_end(&w);
		n++;
	}
	if (yoc_csvw_status(&w)) {
		yoc_error_set(&e, YOC_EIO, out ? out : "stdout", 0, 0, "write failed");
		goto fail;
	}
	if (out) {
		if (yoc_afile_commit(&af, &e))
			goto fail;
		printf("%ld quarantined rows written to %s\n", n, out);
	}
	if (summary(yoc_store_db(s), cli_get(opts, "reason"), cli_get(opts, "all") != NULL,
		    out ? stdout : stderr, &e))
		goto fail;
	rc = 0;
	goto done;
fail:
	cli_err_rec("quarantine", &e);
	if (af.f)
		yoc_afile_abort(&af);
done:
	sqlite3_finalize(st);
	yoc_store_close(s);
	return rc;
}

const struct cli_verb cli_verb_quarantine = {
	"quarantine", "list or export quarantined rows with reasons", usage_text, run
};

/*
** yoc status: summarises a dataset: feeds, periods, rows, people, linkage
** and the last load. Read only.
*/
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"

static const char usage_text[] =
	"Usage: yoc status --db DIR [--json]\n\n"
	"Summarises the dataset: per feed kind the current files, periods, rows\n"
	"loaded and quarantined, and linkage rate; people in the person table;\n"
	"superseded files; the last load.\n";

static const char per_kind_sql[] =
	"SELECT f.kind, count(*), count(DISTINCT f.provider), min(f.period), max(f.period),"
	" sum(f.rows), sum(f.loaded), sum(f.quarantined),"
	" (SELECT sum(l.linked) FROM linkage l JOIN current_files c USING(file_id) WHERE c.kind = f.kind),"
	" (SELECT sum(l.rows) FROM linkage l JOIN current_files c USING(file_id) WHERE c.kind = f.kind)"
	" FROM current_files f GROUP BY f.kind ORDER BY f.kind";

static int run(int argc, char **argv)
{
	struct cli_opt opts[] = {{"db", 1, NULL}, {"json", 0, NULL}, {NULL, 0, NULL}};
	int npos;
	if (cli_parse("status", argc, argv, opts, &npos))
		return 2;
	const char *db = cli_get(opts, "db");
	if (!db || npos) {
		cli_err("status", "give --db DIR; see 'yoc help status'");
		return 2;
	}
	int json = cli_get(opts, "json") != NULL;
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_store *s = NULL;
	sqlite3_stmt *st = NULL;
	if (yoc_store_open(&s, db, 0, &e)) {
		cli_err_rec("status", &e);
		return 1;
	}
	sqlite3 *h = yoc_store_db(s);
	int rc = 1;
	long long persons = 0, superseded = 0, loads = 0;
	char last[128] = "never";
	if (sqlite3_prepare_v2(h, "SELECT (SELECT count(*) FROM person),"
			       " (SELECT count(*) FROM files WHERE superseded_by IS NOT NULL),"
			       " (SELECT count(*) FROM loads),"
			       " (SELECT finished || ' (load ' || load_id || ', ' || files || ' files, '"
			       " || rows || ' rows)' FROM loads ORDER BY load_id DESC LIMIT 1)",
			       -1, &st, NULL) || sqlite3_step(st) != SQLITE_ROW)
		goto sqlfail;
	persons = sqlite3_column_int64(st, 0);
	superseded = sqlite3_column_int64(st, 1);
	loads = sqlite3_column_int64(st, 2);
	if (sqlite3_column_text(st, 3))
		snprintf(last, sizeof last, "%s", (const char *)sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(h, per_kind_sql, -1, &st, NULL))
		goto sqlfail;
	if (json)
		printf("{\"dataset\":\"%s\",\"persons\":%lld,\"superseded_files\":%lld,\"loads\":%lld,"
		       "\"feeds\":[", db, persons, superseded, loads);
	else
		printf("dataset %s\n%-12s %6s %5s %-17s %10s %10s %10s %8s\n", db, "feed", "files",
		       "provs", "periods", "rows", "loaded", "quarant.", "linked");
	int first = 1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const char *p0 = (const char *)sqlite3_column_text(st, 3);
		const char *p1 = (const char *)sqlite3_column_text(st, 4);
		long long nf = sqlite3_column_int64(st, 1), np = sqlite3_column_int64(st, 2);
		long long rows = sqlite3_column_int64(st, 5), ld = sqlite3_column_int64(st, 6);
		long long q = sqlite3_column_int64(st, 7), lk = sqlite3_column_int64(st, 8);
		long long lr = sqlite3_column_int64(st, 9);
		double rate = lr ? 100.0 * (double)lk / (double)lr : 0.0;
		if (json)
			printf("%s{\"kind\":\"%s\",\"files\":%lld,\"providers\":%lld,\"first_period\":\"%s\","
			       "\"last_period\":\"%s\",\"rows\":%lld,\"loaded\":%lld,\"quarantined\":%lld,"
			       "\"linked\":%lld,\"linkage_rate\":%.4f}", first ? "" : ",", k, nf, np,
			       p0 ? p0 : "", p1 ? p1 : "", rows, ld, q, lk, lr ? (double)lk / (double)lr : 0.0);
		else {
			char per[40];
			snprintf(per, sizeof per, "%s..%s", p0 ? p0 : "", p1 ? p1 : "");
			printf("%-12s %6lld %5lld %-17s %10lld %10lld %10lld %7.1f%%\n", k, nf, np, per,
			       rows, ld, q, rate);
		}
		first = 0;
	}
	if (json)
		printf("],\"last_load\":\"%s\"}\n", last);
	else
		printf("people %lld; superseded files %lld; loads %lld; last load %s\n", persons,
		       superseded, loads, last);
	rc = 0;
	goto done;
sqlfail:
	cli_err("status", "%s: %s", db, sqlite3_errmsg(h));
done:
	sqlite3_finalize(st);
	yoc_store_close(s);
	return rc;
}

const struct cli_verb cli_verb_status = {
	"status", "summarise a dataset: feeds, periods, rows, people, linkage", usage_text, run
};

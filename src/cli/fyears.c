/*
** The financial years a dataset holds, for every verb taking a year option
** (report --fyear, quality --fyear, risk --year): one message for a year
** that is not there, naming the years that are. Reads only.
*/
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "cli/cli.h"
#include "yoc/date.h"

void cli_fyears_text(const int *years, int n, char *buf, size_t cap)
{
	size_t o = 0;
	buf[0] = 0;
	for (int i = 0; i < n && o + 12 < cap; i++) {
		char f[8];
		yoc_fyear_format(years[i], f);
		o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? ", " : "", f);
	}
	if (!n)
		snprintf(buf, cap, "none (run yoc analyse first)");
}

int cli_fyear_missing(const char *verb, const char *text, const int *years, int n)
{
	char list[512];
	cli_fyears_text(years, n, list, sizeof list);
	cli_err(verb, "%s is not in the dataset; years available: %s", text, list);
	return 1;
}

int cli_fyear_check(const char *verb, sqlite3 *db, const char *opt, const char *text)
{
	int fy, years[64], n = 0;
	if (!text)
		return 0;
	if (yoc_fyear_parse(text, strlen(text), &fy)) {
		cli_err(verb, "--%s '%s': want a financial year like 2023/24", opt, text);
		return 2;
	}
	sqlite3_stmt *st = NULL;
	/* the analysed years; a dataset never analysed has none */
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT fyear FROM person_year ORDER BY 1", -1, &st,
			       NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW && n < 64) {
			const char *z = (const char *)sqlite3_column_text(st, 0);
			if (z && yoc_fyear_parse(z, strlen(z), &years[n]) == 0)
				n++;
		}
	}
	sqlite3_finalize(st);
	for (int i = 0; i < n; i++)
		if (years[i] == fy)
			return 0;
	char f[8];
	yoc_fyear_format(fy, f);
	return cli_fyear_missing(verb, f, years, n);
}

int cli_fyear_check_path(const char *verb, const char *dbpath, const char *opt,
			 const char *text)
{
	sqlite3 *db = NULL;
	if (!text)
		return 0;
	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return 0; /* the verb reports the dataset's own error */
	}
	int rc = cli_fyear_check(verb, db, opt, text);
	sqlite3_close(db);
	return rc;
}

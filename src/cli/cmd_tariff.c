/*
** yoc tariff: build Year of Care tariffs per category from person_year of
** base years (src/budget, docs/budget.md), or show the stored ones. Exact
** pence figures: for the finance lead on the pseudonymised store, not for
** publication (the report passes them through disclosure control).
*/
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget/budget.h"
#include "cli/cli.h"
#include "cost/cost.h"
#include "store/store.h"
#include "yoc/date.h"

static const char usage_text[] =
	"Usage: yoc tariff build --db DIR --base-years FY[,FY...] [--categories FILE]\n"
	"                        [--service-map FILE] [--trim SPEC] [--uplift SPEC]\n"
	"                        [--min-person-years N] [--as-of DATE]\n"
	"       yoc tariff show --db DIR [--version N]\n\n"
	"build  per category (data/tariff_categories.txt: ordered rules by number and\n"
	"       type of long-term condition), the annual cost per person-year of\n"
	"       exposure over the settings the service map (data/service_map.csv)\n"
	"       puts inside the budget on --as-of (default: the day after the last\n"
	"       base year), after trimming outliers; categories with fewer than\n"
	"       --min-person-years (default 30) are merged into their parent. Writes\n"
	"       a new version of the tables tariff and tariff_build.\n"
	"show   prints a stored version (default: the latest).\n\n"
	"  --trim SPEC    pct:LO,HI (default pct:5,97: drop person-years below the\n"
	"                 5th and above the 97th percentile of annual cost in the\n"
	"                 category), winsor:LO,HI (cap them there instead), sd:K (drop\n"
	"                 those beyond mean +- K standard deviations), none\n"
	"  --uplift SPEC  inflation=P,efficiency=P,demography=P,scenario=P (percent;\n"
	"                 efficiency -1.1 is a 1.1%% saving), applied to the base tariff\n";

static int parse_years(const char *s, int *fy, size_t cap, size_t *n)
{
	*n = 0;
	while (*s) {
		const char *c = strchr(s, ',');
		size_t l = c ? (size_t)(c - s) : strlen(s);
		if (*n == cap || yoc_fyear_parse(s, l, &fy[*n]))
			return -1;
		(*n)++;
		s += l + (c != NULL);
	}
	return *n ? 0 : -1;
}

static void print_rows(FILE *f, sqlite3 *db, int version)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT category, pool, person_years, exposure, trim_low,"
				   " trim_high, trim_exposure, trim_cost, expected, base, tariff,"
				   " coalesce(note, '') FROM tariff WHERE version = ?1 ORDER BY ord",
			       -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int(st, 1, version);
	fprintf(f, "%-18s %8s %10s %13s %14s %12s %12s  %s\n", "category", "py", "exposure",
		"trimmed lo/hi", "trimmed £", "mean £", "tariff £", "note");
	while (sqlite3_step(st) == SQLITE_ROW) {
		char a[32], b[32], c[32];
		yoc_pence_format(sqlite3_column_int64(st, 7), a);
		yoc_pence_format(sqlite3_column_int64(st, 8), b);
		yoc_pence_format(sqlite3_column_int64(st, 10), c);
		char lh[32];
		snprintf(lh, sizeof lh, "%lld/%lld", (long long)sqlite3_column_int64(st, 4),
			 (long long)sqlite3_column_int64(st, 5));
		fprintf(f, "%-18s %8lld %10.1f %13s %14s %12s %12s  %s\n",
			(const char *)sqlite3_column_text(st, 0),
			(long long)sqlite3_column_int64(st, 2), sqlite3_column_double(st, 3), lh, a,
			b, c, (const char *)sqlite3_column_text(st, 11));
	}
	sqlite3_finalize(st);
}

static int run_build(int argc, char **argv)
{
	struct cli_opt opts[] = {
		{"db", 1, NULL}, {"base-years", 1, NULL}, {"categories", 1, NULL},
		{"service-map", 1, NULL}, {"trim", 1, NULL}, {"uplift", 1, NULL},
		{"min-person-years", 1, NULL}, {"as-of", 1, NULL}, {"data", 1, NULL},
		{NULL, 0, NULL}
	};
	int npos = 0;
	int rc = cli_parse("tariff", argc, argv, opts, &npos);
	if (rc)
		return rc;
	const char *dir = cli_get(opts, "db"), *by = cli_get(opts, "base-years");
	if (!dir || !by || npos) {
		cli_err("tariff", "build needs --db DIR and --base-years FY[,FY]; see 'yoc help tariff'");
		return 2;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	struct yoc_tariff_opts o;
	yoc_tariff_opts_init(&o);
	int years[16];
	size_t ny;
	if (parse_years(by, years, 16, &ny)) {
		cli_err("tariff", "--base-years '%s': want financial years like 2022/23,2023/24", by);
		return 2;
	}
	o.fyears = years;
	o.nyears = ny;
	const char *t = cli_get(opts, "trim"), *u = cli_get(opts, "uplift");
	if ((t && yoc_trim_parse(t, &o.trim, &e)) || (u && yoc_uplift_parse(u, &o.uplift, &e))) {
		cli_err_rec("tariff", &e);
		return 2;
	}
	o.spec_trim = t;
	o.spec_uplift = u;
	const char *mp = cli_get(opts, "min-person-years");
	if (mp) {
		char *end;
		o.min_py = strtod(mp, &end);
		if (end == mp || *end || o.min_py < 0) {
			cli_err("tariff", "--min-person-years '%s': want a number >= 0", mp);
			return 2;
		}
	}
	const char *asof = cli_get(opts, "as-of");
	if (asof && yoc_date_parse(asof, strlen(asof), &o.as_of) != 0) {
		cli_err("tariff", "--as-of '%s': want a date YYYY-MM-DD", asof);
		return 2;
	}
	char dbuf[PATH_MAX], cpath[PATH_MAX + 32], mpath[PATH_MAX + 32];
	const char *dd = cli_data_dir(cli_get(opts, "data"), dbuf, sizeof dbuf);
	if (!cli_get(opts, "categories") || !cli_get(opts, "service-map")) {
		if (!dd) {
			cli_err("tariff", "cannot find data/; give --categories and --service-map");
			return 1;
		}
	}
	snprintf(cpath, sizeof cpath, "%s", cli_get(opts, "categories") ? cli_get(opts, "categories") : "");
	if (!cpath[0])
		snprintf(cpath, sizeof cpath, "%s/tariff_categories.txt", dd);
	snprintf(mpath, sizeof mpath, "%s", cli_get(opts, "service-map") ? cli_get(opts, "service-map") : "");
	if (!mpath[0])
		snprintf(mpath, sizeof mpath, "%s/service_map.csv", dd);
	o.categories = cpath;
	o.service_map = mpath;
	yoc_store *s = NULL;
	struct yoc_tariff_result res;
	memset(&res, 0, sizeof res);
	rc = 1;
	if (yoc_store_open(&s, dir, YOC_STORE_WRITE, &e) ||
	    yoc_tariff_build(yoc_store_db(s), &o, &res, &e)) {
		cli_err_rec("tariff", &e);
		goto cleanup;
	}
	printf("tariff version %d from %s (%zu categories); settings inside the budget:", res.version,
	       by, res.nrows);
	for (int k = 0; k < YOC_BSET_COUNT; k++)
		if (res.in[k])
			printf(" %s", yoc_budget_setting_name(k));
	printf("\n");
	for (int k = 0; k < YOC_BSET_COUNT; k++)
		if (res.partial[k])
			printf("note: the service map has lines narrower than the setting %s;"
			       " tagging applies them, the tariff (costs by setting) cannot\n",
			       yoc_budget_setting_name(k));
	print_rows(stdout, yoc_store_db(s), res.version);
	rc = 0;
cleanup:
	yoc_tariff_result_free(&res);
	yoc_store_close(s);
	return rc;
}

static int run_show(int argc, char **argv)
{
	struct cli_opt opts[] = {{"db", 1, NULL}, {"version", 1, NULL}, {NULL, 0, NULL}};
	int npos = 0;
	int rc = cli_parse("tariff", argc, argv, opts, &npos);
	if (rc)
		return rc;
	long v = 0;
	if ((rc = cli_get_long("tariff", opts, "version", 0, &v)))
		return rc;
	if (!cli_get(opts, "db")) {
		cli_err("tariff", "show needs --db DIR");
		return 2;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_store *s = NULL;
	struct yoc_tariff_stored t;
	memset(&t, 0, sizeof t);
	rc = 1;
	if (yoc_store_open(&s, cli_get(opts, "db"), 0, &e) ||
	    yoc_tariff_load_stored(yoc_store_db(s), (int)v, &t, &e)) {
		cli_err_rec("tariff", &e);
		goto cleanup;
	}
	printf("tariff version %d\n", t.version);
	print_rows(stdout, yoc_store_db(s), t.version);
	rc = 0;
cleanup:
	yoc_tariff_stored_free(&t);
	yoc_store_close(s);
	return rc;
}

static int tariff_run(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (strcmp(argv[1], "build") == 0)
		return run_build(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return run_show(argc - 1, argv + 1);
	cli_err("tariff", "unknown subcommand '%s' (build, show)", argv[1]);
	return 2;
}

const struct cli_verb cli_verb_tariff = {
	"tariff", "Year of Care tariffs per category (build, show)", usage_text, tariff_run
};

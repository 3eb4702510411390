/*
** yoc tag: marks which activity rows of a cohort's members the capitated
** budget pays (src/budget/budget_tag.c, docs/budget.md): inside a member's
** days in the cohort and inside the service map. Everything else stays with
** its usual contract. Exact counts and pence, for the finance lead.
*/
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "budget/budget.h"
#include "cli/cli.h"
#include "cost/cost.h"
#include "store/store.h"

static const char usage_text[] =
	"Usage: yoc tag --db DIR --cohort NAME [--service-map FILE] [--tariff-version N]\n"
	"               [--summary-only] [--threads N] [--data DIR]\n\n"
	"Tags every activity row of the cohort's members: capitated (dated inside one\n"
	"of their register rows and inside the service map that day), outside_map or\n"
	"outside_membership. Rows are priced as yoc analyse prices them; a hospital\n"
	"spell is priced once, dated by its admission, its first episode carrying the\n"
	"price. The service map is the one the tariff was built with (the latest\n"
	"tariff, or --tariff-version), or --service-map FILE. Writes activity_tag\n"
	"(one row per member row: file_id, row, line, pseudo_id, kind, activity_date,\n"
	"setting, pod, hrg, provider, cost, tag) and tag_summary (month x setting x\n"
	"tag: rows, cost); --summary-only writes only tag_summary, reading the files\n"
	"with --threads N worker threads (default: the number of CPUs, at most 8;\n"
	"the summary is the same for any N).\n";

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int tag_run(int argc, char **argv)
{
	struct cli_opt opts[] = {
		{"db", 1, NULL}, {"cohort", 1, NULL}, {"service-map", 1, NULL},
		{"tariff-version", 1, NULL}, {"summary-only", 0, NULL}, {"data", 1, NULL},
		{"timing", 0, NULL}, {"threads", 1, NULL}, {NULL, 0, NULL}
	};
	int npos = 0, rc = cli_parse("tag", argc, argv, opts, &npos);
	if (rc)
		return rc;
	long tv = 0, threads = 0;
	if ((rc = cli_get_long("tag", opts, "tariff-version", 0, &tv)) ||
	    (rc = cli_get_long("tag", opts, "threads", 0, &threads)))
		return rc;
	if (threads < 0 || threads > 64) {
		cli_err("tag", "--threads must be 0 to 64 (0: the number of CPUs), not %ld", threads);
		return 2;
	}
	const char *dir = cli_get(opts, "db"), *cohort = cli_get(opts, "cohort");
	if (!dir || !cohort || npos) {
		cli_err("tag", "needs --db DIR --cohort NAME; see 'yoc help tag'");
		return 2;
	}
	char dbuf[PATH_MAX];
	const char *dd = cli_data_dir(cli_get(opts, "data"), dbuf, sizeof dbuf);
	if (!dd) {
		cli_err("tag", "cannot find data/ (prices); give --data DIR or set YOC_DATA");
		return 1;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_store *s = NULL;
	yoc_tariff *prices = NULL;
	yoc_smap *own = NULL;
	struct yoc_tariff_stored t;
	memset(&t, 0, sizeof t);
	rc = 1;
	if (yoc_tariff_load_dir(&prices, dd, &e) || yoc_store_open(&s, dir, YOC_STORE_WRITE, &e)) {
		cli_err_rec("tag", &e);
		goto cleanup;
	}
	const yoc_smap *map = NULL;
	if (cli_get(opts, "service-map")) {
		if (yoc_smap_load(cli_get(opts, "service-map"), &own, &e)) {
			cli_err_rec("tag", &e);
			goto cleanup;
		}
		map = own;
	} else {
		if (yoc_tariff_load_stored(yoc_store_db(s), (int)tv, &t, &e)) {
			cli_err_rec("tag", &e);
			goto cleanup;
		}
		map = t.map;
		if (!map) {
			cli_err("tag", "tariff version %d has no service map; give --service-map", t.version);
			goto cleanup;
		}
	}
	struct yoc_tag_opts o = {cohort, map, prices, !cli_get(opts, "summary-only"), (int)threads};
	struct yoc_tag_stats st;
	double t0 = now_s();
	if (yoc_budget_tag(s, &o, &st, &e)) {
		cli_err_rec("tag", &e);
		goto cleanup;
	}
	if (cli_get(opts, "timing"))
		fprintf(stderr, "tag: %.3f s (persons and register %.3f, files and spells %.3f,"
			" tables %.3f)\n", now_s() - t0, st.sec_setup, st.sec_files, st.sec_write);
	printf("%lld activity rows read; %lld of cohort %s's members (%lld hospital spells)\n",
	       (long long)st.rows, (long long)st.member_rows, cohort, (long long)st.spells);
	for (int k = 0; k < YOC_TAG_KINDS; k++) {
		char b[32];
		yoc_pence_format(st.cost[k], b);
		printf("  %-20s %10lld rows  £%14s\n", yoc_tag_kind_name(k), (long long)st.n[k], b);
	}
	rc = 0;
cleanup:
	yoc_tariff_stored_free(&t);
	yoc_smap_free(own);
	yoc_tariff_free(prices);
	yoc_store_close(s);
	return rc;
}

const struct cli_verb cli_verb_tag = {
	"tag", "tag cohort members' activity paid by the capitated budget", usage_text, tag_run
};

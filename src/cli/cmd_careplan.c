/*
** yoc careplan: care and support plans, unmet needs and patient activation
** (src/outcome/outcome_careplan.c, docs/outcomes.md "Care plans"). Writes
** the careplan_* and pam_* catalog tables and prints a summary under
** disclosure control (src/sdc); exact with --no-suppression.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "cli/cli.h"
#include "outcome/careplan.h"
#include "sdc/sdc.h"
#include "store/store.h"
#include "yoc/date.h"

static const char usage_text[] =
	"Usage: yoc careplan --db DIR [--asof YYYY-MM-DD] [--threshold N] [--round N]\n"
	"                    [--no-suppression]\n\n"
	"Care and support plans from the careplan feed and Patient Activation Measure\n"
	"results from the pam feed: plan coverage of the registered population, of\n"
	"each practice and of each cohort (its members on the reporting date), reviews\n"
	"overdue, goals by domain and status, actions and referrals by kind, needs by\n"
	"need and locality with the reasons needs are unmet (what commissioners should\n"
	"buy more of), the PAM level distribution and the change between each person's\n"
	"first and latest measure by their first level. Writes careplan_plan,\n"
	"careplan_cover, careplan_goal, careplan_action, careplan_need, careplan_unmet,\n"
	"pam_level and pam_change in the dataset (one transaction); the summary printed\n"
	"passes disclosure control. docs/outcomes.md states the definitions.\n\n"
	"  --asof DATE       the reporting date (default: the latest RECORD_DATE)\n"
	"  --threshold N     counts 1..N are shown as * (default 7)\n"
	"  --round N         other counts rounded to a multiple of N (default 5)\n"
	"  --no-suppression  exact figures (for the analyst; not for publication)\n";

static const char *cnt(const struct yoc_sdc *s, int64_t n, char *buf)
{
	return yoc_sdc_fmt(yoc_sdc_one(s, n), 1, buf);
}

static void pct(const struct yoc_sdc *s, int64_t num, int64_t den)
{
	int st = yoc_sdc_one(s, den) == YOC_SDC_HIDDEN ? YOC_SDC_PRIMARY : YOC_SDC_SHOWN;
	double v = yoc_sdc_rate(s, num, den, st, 100, 1);
	if (!isnan(v))
		printf(" (%.1f%%)", v);
}

static void pam_lines(sqlite3 *db, const struct yoc_sdc *s)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, "SELECT baseline_level, people, measured_twice, mean_first,"
				   " mean_latest, mean_change FROM pam_change ORDER BY baseline_level",
			       -1, &q, NULL) != SQLITE_OK)
		return;
	printf("PAM change by first level (people measured twice or more):\n");
	while (sqlite3_step(q) == SQLITE_ROW) {
		char a[32], b[32];
		int64_t twice = sqlite3_column_int64(q, 2);
		int64_t pub = yoc_sdc_one(s, twice);
		printf("  level %d  %8s people  %8s measured twice", sqlite3_column_int(q, 0),
		       cnt(s, sqlite3_column_int64(q, 1), a), yoc_sdc_fmt(pub, 1, b));
		if (yoc_sdc_stat_ok(s, twice, pub == YOC_SDC_HIDDEN ? YOC_SDC_PRIMARY : YOC_SDC_SHOWN))
			printf("  first %.1f  latest %.1f  change %+.1f", sqlite3_column_double(q, 3),
			       sqlite3_column_double(q, 4), sqlite3_column_double(q, 5));
		printf("\n");
	}
	sqlite3_finalize(q);
}

static int careplan_run(int argc, char **argv)
{
	struct cli_opt opts[] = {
		{"db", 1, NULL}, {"asof", 1, NULL}, {"threshold", 1, NULL}, {"round", 1, NULL},
		{"no-suppression", 0, NULL}, {NULL, 0, NULL}
	};
	int npos = 0, rc = cli_parse("careplan", argc, argv, opts, &npos);
	if (rc)
		return rc;
	struct yoc_sdc sdc;
	yoc_sdc_init(&sdc);
	long th = 0, rd = 0;
	if ((rc = cli_get_long("careplan", opts, "threshold", sdc.threshold, &th)) ||
	    (rc = cli_get_long("careplan", opts, "round", sdc.round_to, &rd)))
		return rc;
	if (rd < 1) {
		cli_err("careplan", "--round must be 1 or more, not %ld", rd);
		return 2;
	}
	sdc.threshold = th;
	sdc.round_to = rd;
	sdc.off = cli_get(opts, "no-suppression") != NULL;
	const char *dir = cli_get(opts, "db"), *asof = cli_get(opts, "asof");
	if (!dir || npos) {
		cli_err("careplan", "needs --db DIR; see 'yoc help careplan'");
		return 2;
	}
	struct yoc_careplan_opts o = {YOC_DATE_NONE};
	if (asof && yoc_date_parse(asof, strlen(asof), &o.asof)) {
		cli_err("careplan", "--asof: '%s' is not a date (YYYY-MM-DD)", asof);
		return 2;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_store *s = NULL;
	rc = 1;
	if (yoc_store_open(&s, dir, YOC_STORE_WRITE, &e)) {
		cli_err_rec("careplan", &e);
		goto cleanup;
	}
	struct yoc_careplan_stats st;
	if (yoc_careplan_run(s, &o, &st, &e)) {
		cli_err_rec("careplan", &e);
		goto cleanup;
	}
	char d[16], a[32], b[32], c[32], f[32], g[32];
	yoc_date_format(st.asof, d);
	printf("care plans on %s: %s plans; %s of %s registered people have one", d,
	       cnt(&sdc, st.plans, a), cnt(&sdc, st.people, b), cnt(&sdc, st.registered, c));
	pct(&sdc, st.people, st.registered);
	printf("\n%s plans for people not registered on that date\n",
	       cnt(&sdc, st.plans_unregistered, a));
	printf("%s reviews overdue", cnt(&sdc, st.overdue, a));
	pct(&sdc, st.overdue, st.plans - st.plans_unregistered);
	printf(" of the plans of registered people");
	printf("\n%s goals, %s actions, %s needs: %s partly met, %s unmet\n", cnt(&sdc, st.goals, a),
	       cnt(&sdc, st.actions, b), cnt(&sdc, st.needs, c), cnt(&sdc, st.needs_partly, f),
	       cnt(&sdc, st.needs_unmet, g));
	if (st.has_pam)
		pam_lines(yoc_store_db(s), &sdc);
	else
		printf("no PAM results in this dataset (feeds/pam/)\n");
	if (!sdc.off)
		printf("counts: 1-%lld shown as *, others rounded to %lld (--no-suppression: exact)\n",
		       (long long)sdc.threshold, (long long)sdc.round_to);
	printf("careplan: %s of %s registered people have a plan", cnt(&sdc, st.people, b),
	       cnt(&sdc, st.registered, c));
	pct(&sdc, st.people, st.registered);
	printf("; tables careplan_* and pam_* written\n");
	rc = 0;
cleanup:
	yoc_store_close(s);
	return rc;
}

const struct cli_verb cli_verb_careplan = {
	"careplan", "care plan coverage, unmet needs and patient activation", usage_text,
	careplan_run
};

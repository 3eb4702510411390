/*
** yoc kpi: the KPI dashboard (src/outcome/outcome_kpi.c, docs/outcomes.md):
** computes Table 4's KPIs month by month with their Making Data Count
** charts into the catalog (kpi_* tables, read by the report's KPI page)
** and prints the latest month of each. Exact counts: the report applies
** disclosure control.
*/
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "outcome/kpi.h"
#include "store/store.h"

static const char usage_text[] =
	"Usage: yoc kpi --db DIR [--cohort NAME] [--from YYYY-MM] [--to YYYY-MM]\n"
	"               [--steps KPI:YYYY-MM,...] [--shift-len N] [--trend-len N] [--data DIR]\n\n"
	"Computes the outcome KPIs month by month and over rolling 12 months, each\n"
	"with its numerator, denominator, definition, source and period: permanent\n"
	"admissions to residential and nursing care per 100,000 (65+, 18-64; ASCOF\n"
	"2A), non-elective admissions (all and targeted HRGs, data/kpi_targeted_hrg.csv)\n"
	"and their average length of stay, excess bed days beyond the HRG trim points,\n"
	"delayed transfers of care, weekend discharges, the share at home 91 days after\n"
	"reablement (ASCOF 2B(1), target 65%), care plan coverage and overdue reviews,\n"
	"PAM levels. Each KPI gets a Making Data Count chart (XmR, p or u) with the\n"
	"special-cause rules, the variation and assurance icons.\n\n"
	"  --cohort NAME      count the cohort's members only (on each event's date)\n"
	"  --from, --to       the months reported (default: the activity files' months)\n"
	"  --steps LIST       step changes: limits recalculated from KPI:YYYY-MM\n"
	"  --shift-len N      points on one side of the mean for a shift (default 7)\n"
	"  --trend-len N      points rising or falling for a trend (default 6)\n"
	"  --data DIR         reference data (trim points, targeted HRGs)\n\n"
	"A KPI whose fields the dataset does not carry is reported as not available\n"
	"in this dataset, with the reason. Writes kpi_def, kpi_month, kpi_spc,\n"
	"kpi_dow, kpi_pam and kpi_run in one transaction; yoc report shows them.\n";

static int kpi_run(int argc, char **argv)
{
	struct cli_opt opts[] = {
		{"db", 1, NULL}, {"cohort", 1, NULL}, {"from", 1, NULL}, {"to", 1, NULL},
		{"steps", 1, NULL}, {"shift-len", 1, NULL}, {"trend-len", 1, NULL},
		{"data", 1, NULL}, {NULL, 0, NULL}
	};
	int npos = 0, rc = cli_parse("kpi", argc, argv, opts, &npos);
	if (rc)
		return rc;
	long shift = 0, trend = 0;
	if ((rc = cli_get_long("kpi", opts, "shift-len", 0, &shift)) ||
	    (rc = cli_get_long("kpi", opts, "trend-len", 0, &trend)))
		return rc;
	if ((shift && (shift < 2 || shift > 100)) || (trend && (trend < 2 || trend > 100))) {
		cli_err("kpi", "--shift-len and --trend-len must be 2 to 100 points");
		return 2;
	}
	const char *dir = cli_get(opts, "db");
	if (!dir || npos) {
		cli_err("kpi", "needs --db DIR; see 'yoc help kpi'");
		return 2;
	}
	char dbuf[PATH_MAX];
	const char *dd = cli_data_dir(cli_get(opts, "data"), dbuf, sizeof dbuf);
	if (!dd) {
		cli_err("kpi", "cannot find data/ (trim points); give --data DIR or set YOC_DATA");
		return 1;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_store *s = NULL;
	if (yoc_store_open(&s, dir, YOC_STORE_WRITE, &e)) {
		cli_err_rec("kpi", &e);
		return 1;
	}
	struct yoc_kpi_opts o = {cli_get(opts, "cohort"), cli_get(opts, "from"), cli_get(opts, "to"),
				 dd, cli_get(opts, "steps"), (int)shift, (int)trend};
	struct yoc_kpi_stats st;
	rc = yoc_kpi_run(s, &o, &st, &e);
	if (rc) {
		cli_err_rec("kpi", &e);
		yoc_store_close(s);
		/* a bad option value is a usage error */
		return rc == YOC_EINVAL || (rc == YOC_ENOTFOUND && e.file[0] == '-') ? 2 : 1;
	}
	printf("KPIs %s to %s (%d months)%s%s: %d of %d available; %lld hospital spells\n",
	       st.from, st.to, st.nmonths, o.cohort ? ", cohort " : "", o.cohort ? o.cohort : "",
	       st.available, st.nkpi, (long long)st.spells);
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(yoc_store_db(s),
			       "SELECT d.kpi, d.unit, d.available, d.reason, m.month, m.numerator, "
			       "m.denominator, m.value, m.r12_value, p.icon, p.assurance FROM kpi_def d "
			       "LEFT JOIN kpi_month m ON m.kpi = d.kpi AND m.month = "
			       "(SELECT max(month) FROM kpi_month WHERE kpi = d.kpi) "
			       "LEFT JOIN kpi_spc p ON p.kpi = d.kpi ORDER BY d.ord", -1, &q,
			       NULL) == SQLITE_OK) {
		while (sqlite3_step(q) == SQLITE_ROW) {
			const char *id = (const char *)sqlite3_column_text(q, 0);
			if (!sqlite3_column_int(q, 2)) {
				printf("  %-24s %s\n", id, (const char *)sqlite3_column_text(q, 3));
				continue;
			}
			char v[32] = "-", r12[32] = "-";
			if (sqlite3_column_type(q, 7) != SQLITE_NULL)
				snprintf(v, sizeof v, "%.2f", sqlite3_column_double(q, 7));
			if (sqlite3_column_type(q, 8) != SQLITE_NULL)
				snprintf(r12, sizeof r12, "%.2f", sqlite3_column_double(q, 8));
			const char *as = (const char *)sqlite3_column_text(q, 10);
			printf("  %-24s %s %lld/%lld = %s %s (12 months %s); %s%s%s\n", id,
			       (const char *)sqlite3_column_text(q, 4),
			       (long long)sqlite3_column_int64(q, 5),
			       (long long)sqlite3_column_int64(q, 6), v,
			       (const char *)sqlite3_column_text(q, 1), r12,
			       (const char *)sqlite3_column_text(q, 9), as && *as ? "; " : "",
			       as ? as : "");
		}
	}
	sqlite3_finalize(q);
	yoc_store_close(s);
	return 0;
}

const struct cli_verb cli_verb_kpi = {
	"kpi", "outcome KPIs by month with Making Data Count charts", usage_text, kpi_run
};

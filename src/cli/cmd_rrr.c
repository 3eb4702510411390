/*
** yoc rrr: the RRR audit and the discharge model (src/outcome/outcome_rrr.c,
** docs/outcomes.md "RRR audit"). Writes the rrr_* catalog tables and prints
** a summary under disclosure control (src/sdc): counts through the count
** rule, bed days and beds as published figures; exact with
** --no-suppression.
*/
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cost/cost.h"
#include "outcome/rrr.h"
#include "sdc/sdc.h"
#include "store/store.h"
#include "yoc/date.h"

static const char usage_text[] =
	"Usage: yoc rrr --db DIR [--cut REASON=PCT]... [--threshold N] [--round N]\n"
	"               [--no-suppression] [--data DIR]\n\n"
	"The RRR audit of hospital discharges: spells whose discharge needed\n"
	"rehabilitation, recovery or reablement (APC RRR_NEED), the share discharged\n"
	"after their discharge ready date (DISREADYDATE), delayed bed days by reason\n"
	"(DELAY_REASON), by provider and month of discharge, and the destination\n"
	"after discharge; and the discharge model: if a reason's delays were cut by\n"
	"PCT%, the bed days released and the beds freed (the fall in the mean and\n"
	"95th percentile of the nightly occupancy of the spells that needed RRR or\n"
	"were delayed, replayed from their admissions and discharges).\n"
	"Writes rrr_spell, rrr_summary, rrr_reason, rrr_provider, rrr_destination and\n"
	"rrr_cut in the dataset (one transaction); the summary printed passes\n"
	"disclosure control. docs/outcomes.md states the definitions and the model.\n\n"
	"  --cut R=PCT       a cut to model (repeatable): R one of NO_SERVICE,\n"
	"                    ASSESSMENT, RESIDENTIAL, HOME, UNKNOWN, or ALL; PCT 0-100.\n"
	"                    Default: each of the four reasons at 50%\n"
	"  --threshold N     counts 1..N are shown as * (default 7)\n"
	"  --round N         other counts rounded to a multiple of N (default 5)\n"
	"  --no-suppression  exact figures (for the analyst; not for publication)\n"
	"  --data DIR        reference data (prices, for the spell rules)\n";

/* Takes every --cut out of argv (it may be given more than once). */
static int take_cuts(int *argc, char **argv, struct yoc_rrr_cut *cuts, int *ncuts)
{
	int out = 1;
	for (int i = 1; i < *argc; i++) {
		const char *v = NULL;
		if (strcmp(argv[i], "--") == 0) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "--cut") == 0) {
			if (i + 1 >= *argc) {
				cli_err("rrr", "--cut needs a value REASON=PCT");
				return 2;
			}
			v = argv[++i];
		} else if (strncmp(argv[i], "--cut=", 6) == 0) {
			v = argv[i] + 6;
		} else {
			argv[out++] = argv[i];
			continue;
		}
		if (*ncuts == YOC_RRR_MAXCUT) {
			cli_err("rrr", "at most %d --cut options", YOC_RRR_MAXCUT);
			return 2;
		}
		struct yoc_error e;
		yoc_error_clear(&e);
		if (yoc_rrr_cut_parse(v, strlen(v), &cuts[*ncuts], &e)) {
			cli_err_rec("rrr", &e);
			return 2;
		}
		(*ncuts)++;
	}
	argv[out] = NULL;
	*argc = out;
	return 0;
}

static const char *count_text(const struct yoc_sdc *s, int64_t n, char *buf)
{
	return yoc_sdc_fmt(yoc_sdc_one(s, n), 1, buf);
}

static int rrr_run(int argc, char **argv)
{
	struct yoc_rrr_cut cuts[YOC_RRR_MAXCUT];
	int ncuts = 0;
	int rc = take_cuts(&argc, argv, cuts, &ncuts);
	if (rc)
		return rc;
	struct cli_opt opts[] = {
		{"db", 1, NULL}, {"threshold", 1, NULL}, {"round", 1, NULL},
		{"no-suppression", 0, NULL}, {"data", 1, NULL}, {NULL, 0, NULL}
	};
	int npos = 0;
	if ((rc = cli_parse("rrr", argc, argv, opts, &npos)))
		return rc;
	struct yoc_sdc sdc;
	yoc_sdc_init(&sdc);
	long th = 0, rd = 0;
	if ((rc = cli_get_long("rrr", opts, "threshold", sdc.threshold, &th)) ||
	    (rc = cli_get_long("rrr", opts, "round", sdc.round_to, &rd)))
		return rc;
	if (rd < 1) {
		cli_err("rrr", "--round must be 1 or more, not %ld", rd);
		return 2;
	}
	sdc.threshold = th;
	sdc.round_to = rd;
	sdc.off = cli_get(opts, "no-suppression") != NULL;
	const char *dir = cli_get(opts, "db");
	if (!dir || npos) {
		cli_err("rrr", "needs --db DIR; see 'yoc help rrr'");
		return 2;
	}
	char dbuf[PATH_MAX];
	const char *dd = cli_data_dir(cli_get(opts, "data"), dbuf, sizeof dbuf);
	if (!dd) {
		cli_err("rrr", "cannot find data/ (prices); give --data DIR or set YOC_DATA");
		return 1;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_store *s = NULL;
	yoc_tariff *prices = NULL;
	rc = 1;
	if (yoc_tariff_load_dir(&prices, dd, &e) || yoc_store_open(&s, dir, YOC_STORE_WRITE, &e)) {
		cli_err_rec("rrr", &e);
		goto cleanup;
	}
	struct yoc_rrr_opts o = {prices, cuts, ncuts};
	struct yoc_rrr_stats st;
	if (yoc_rrr_run(s, &o, &st, &e)) {
		cli_err_rec("rrr", &e);
		goto cleanup;
	}
	char a[32], b[32], c[32];
	int64_t rrr_pub = yoc_sdc_one(&sdc, st.rrr), del_pub = yoc_sdc_one(&sdc, st.rrr_delayed);
	double share = yoc_sdc_rate(&sdc, st.rrr_delayed, st.rrr,
				    rrr_pub == YOC_SDC_HIDDEN ? YOC_SDC_PRIMARY : YOC_SDC_SHOWN, 100, 1);
	printf("%s hospital spells with a discharge ready date (%s ignored: ready after discharge)\n",
	       count_text(&sdc, st.ready, a), count_text(&sdc, st.ready_after, b));
	printf("%s needed rehabilitation, recovery or reablement (RRR); %s of them were delayed",
	       yoc_sdc_fmt(rrr_pub, 1, a), yoc_sdc_fmt(del_pub, 1, b));
	if (!isnan(share))
		printf(" (%.1f%%)", share);
	printf(", %s delayed bed days\n", count_text(&sdc, st.rrr_delayed_days, c));
	printf("%s delayed spells in all, %s delayed bed days\n", count_text(&sdc, st.delayed, a),
	       count_text(&sdc, st.delayed_days, b));
	printf("delayed bed days by reason:\n");
	for (int r = 0; r < YOC_RRR_NREASON; r++)
		if (st.reason_spells[r] || r < YOC_RRR_UNKNOWN)
			printf("  %-12s %8s spells %10s bed days\n", yoc_rrr_reason_name(r),
			       count_text(&sdc, st.reason_spells[r], a),
			       count_text(&sdc, st.reason_days[r], b));
	if (st.before.to > st.before.from) {
		char f[16], t[16];
		yoc_date_format(st.before.from, f);
		yoc_date_format(st.before.to, t);
		printf("discharge model: nights %s to %s, mean %.1f beds occupied, 95th percentile "
		       "%lld\n", f, t, st.before.mean, (long long)st.before.p95);
		for (int k = 0; k < st.ncuts; k++)
			printf("  cut %-11s by %3d%%: %10s bed days released, %.1f beds freed on "
			       "average, %lld at the 95th percentile\n",
			       yoc_rrr_reason_name(st.cut[k].reason), st.cut[k].pct,
			       count_text(&sdc, st.cut_released[k], a),
			       st.before.mean - st.after[k].mean,
			       (long long)(st.before.p95 - st.after[k].p95));
	}
	if (!sdc.off)
		printf("counts: 1-%lld shown as *, others rounded to %lld (--no-suppression: exact)\n",
		       (long long)sdc.threshold, (long long)sdc.round_to);
	printf("rrr: %s of %s RRR spells delayed", yoc_sdc_fmt(del_pub, 1, a),
	       yoc_sdc_fmt(rrr_pub, 1, b));
	if (!isnan(share))
		printf(" (%.1f%%)", share);
	printf("; tables rrr_* written\n");
	rc = 0;
cleanup:
	yoc_tariff_free(prices);
	yoc_store_close(s);
	return rc;
}

const struct cli_verb cli_verb_rrr = {
	"rrr", "RRR audit of delayed discharges and the discharge model", usage_text, rrr_run
};

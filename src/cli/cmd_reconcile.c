/*
** yoc reconcile: challenges providers' billing lines that the capitated
** budget already paid for, or that bill one activity twice
** (src/budget/budget_reconcile.c, docs/budget.md). Writes a folder
** atomically: one challenge file per provider and a summary.
*/
#include <stdio.h>
#include <string.h>

#include "budget/budget.h"
#include "cli/cli.h"
#include "cost/cost.h"
#include "store/store.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc reconcile --db DIR --cohort NAME --billing DIR --out DIR\n\n"
	"Reads every billing file (*.csv: LINE_ID, PROVIDER, CONTRACT, KIND, RECORD_KEY,\n"
	"ACTIVITY_DATE, VALUE; the synthetic economy writes them under billing/) and\n"
	"challenges each line that bills a record already billed (duplicate) or a\n"
	"record tagged capitated for the cohort by yoc tag (paid by the capitated\n"
	"budget). Writes OUT/challenges_PROVIDER.csv (line, reason, value, the first\n"
	"line of a duplicate) and OUT/summary.csv per provider, atomically.\n";

static int reconcile_run(int argc, char **argv)
{
	struct cli_opt opts[] = {{"db", 1, NULL}, {"cohort", 1, NULL}, {"billing", 1, NULL},
				 {"out", 1, NULL}, {NULL, 0, NULL}};
	int npos = 0, rc = cli_parse("reconcile", argc, argv, opts, &npos);
	if (rc)
		return rc;
	const char *dir = cli_get(opts, "db"), *cohort = cli_get(opts, "cohort");
	const char *billing = cli_get(opts, "billing"), *out = cli_get(opts, "out");
	if (!dir || !cohort || !billing || !out || npos) {
		cli_err("reconcile", "needs --db DIR --cohort NAME --billing DIR --out DIR");
		return 2;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_store *s = NULL;
	struct yoc_otree t = {0};
	int begun = 0;
	rc = 1;
	if (yoc_store_open(&s, dir, 0, &e) || yoc_otree_begin(&t, out, "reconcile", &e)) {
		cli_err_rec("reconcile", &e);
		goto cleanup;
	}
	begun = 1;
	struct yoc_recon_stats st;
	if (yoc_budget_reconcile(yoc_store_db(s), cohort, billing, t.tmp, &st, &e) ||
	    yoc_otree_commit(&t, &e)) {
		cli_err_rec("reconcile", &e);
		goto cleanup;
	}
	begun = 0;
	char a[32], b[32], c[32];
	yoc_pence_format(st.billed, a);
	yoc_pence_format(st.dup_v, b);
	yoc_pence_format(st.cap_v, c);
	printf("%lld billing lines (£%s) from %lld providers in %lld files",
	       (long long)st.lines, a, (long long)st.providers, (long long)st.files);
	if (st.bad_lines)
		printf("; %lld malformed lines skipped", (long long)st.bad_lines);
	printf("\nchallenged: %lld duplicates (£%s), %lld capitated (£%s) -> %s\n",
	       (long long)st.dup_n, b, (long long)st.cap_n, c, out);
	rc = 0;
cleanup:
	if (begun)
		yoc_otree_abort(&t);
	yoc_store_close(s);
	return rc;
}

const struct cli_verb cli_verb_reconcile = {
	"reconcile", "challenge billing paid by the capitated budget or billed twice", usage_text,
	reconcile_run
};

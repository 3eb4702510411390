/*
** yoc cohort simulate-review: the synthetic economy's clinicians (src/cohort
** cohort_sim.c) review a cohort's latest selection; their review and consent
** files per practice and truth.csv are written as one output tree.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cohort/cohort.h"
#include "yoc/date.h"
#include "yoc/io.h"

int cli_cohort_simulate(int argc, char **argv);

static int share(const char *verb, const struct cli_opt *opts, const char *name, double dflt,
		 double *out)
{
	const char *t = cli_get(opts, name);
	*out = dflt;
	if (!t)
		return 0;
	char *end;
	*out = strtod(t, &end);
	if (end == t || *end || !(*out >= 0 && *out <= 1)) {
		cli_err(verb, "--%s '%s': want a share between 0 and 1", name, t);
		return 2;
	}
	return 0;
}

int cli_cohort_simulate(int argc, char **argv)
{
	const char *verb = "cohort simulate-review";
	struct cli_opt opts[] = {{"db", 1, NULL}, {"out", 1, NULL}, {"date", 1, NULL},
				 {"seed", 1, NULL}, {"exclude-share", 1, NULL},
				 {"decline-share", 1, NULL}, {"add-per-practice", 1, NULL},
				 {NULL, 0, NULL}};
	int npos;
	if (cli_parse(verb, argc, argv, opts, &npos))
		return 2;
	if (npos != 1 || !yoc_cohort_name_ok(argv[1])) {
		cli_err(verb, "want the cohort's NAME; see 'yoc help cohort'");
		return 2;
	}
	const char *dir = cli_get(opts, "db"), *out = cli_get(opts, "out");
	if (!dir || !out) {
		cli_err(verb, "--db DIR and --out DIR are required");
		return 2;
	}
	struct yoc_cohort_sim_opts o = {.seed = 1, .exclude_share = 0.12, .defer_share = 0.03,
					.decline_share = 0.10, .secondary_share = 0.9,
					.end_of_life_months = 6, .add_per_practice = 1};
	long seed, add;
	if (cli_get_long(verb, opts, "seed", 1, &seed) ||
	    cli_get_long(verb, opts, "add-per-practice", 1, &add) ||
	    share(verb, opts, "exclude-share", 0.12, &o.exclude_share) ||
	    share(verb, opts, "decline-share", 0.10, &o.decline_share))
		return 2;
	o.seed = (uint64_t)seed;
	o.add_per_practice = (double)add;
	o.review_date = yoc_cohort_today();
	const char *dt = cli_get(opts, "date");
	if (dt && yoc_date_parse(dt, strlen(dt), &o.review_date)) {
		cli_err(verb, "--date '%s': want YYYY-MM-DD", dt);
		return 2;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_store *s = NULL;
	struct yoc_otree t;
	struct yoc_cohort_sim_stats st;
	if (yoc_store_open(&s, dir, 0, &e)) {
		cli_err_rec(verb, &e);
		return 1;
	}
	if (yoc_otree_begin(&t, out, "cohort simulate-review", &e)) {
		cli_err_rec(verb, &e);
		yoc_store_close(s);
		return 1;
	}
	if (yoc_cohort_simulate(s, argv[1], &o, t.tmp, &st, &e) || yoc_otree_commit(&t, &e)) {
		yoc_otree_abort(&t);
		cli_err_rec(verb, &e);
		yoc_store_close(s);
		return 1;
	}
	yoc_store_close(s);
	printf("cohort %s: simulated review of %zu candidates: %zu included, %zu excluded (%zu end"
	       " of life), %zu deferred, %zu added; %zu consented; files in %s\n", argv[1],
	       st.candidates, st.included, st.excluded, st.end_of_life, st.deferred, st.added,
	       st.consented, out);
	return 0;
}

/*
** yoc link: probabilistic linkage at source, before pseudonymise. Parses
** options and reports; the work is in src/link (docs/linkage.md).
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "link/link.h"

static const char usage_text[] =
	"Usage: yoc link --register FILE|DIR --in DIR --out DIR [--review FILE]\n"
	"                [--decisions FILE] [--previous DIR] [--upper P] [--lower P]\n"
	"                [--show-weights] [--u-em] [--no-tf] [--threads N] [--seed S]\n"
	"       yoc link --register FILE|DIR --in DIR --explain FILE:ROW\n\n"
	"Key holder, at source: for every feed row whose NHS number is missing or\n"
	"invalid, finds the person in the GP register from name, date of birth, sex\n"
	"and postcode (Fellegi-Sunter: blocking, comparison levels, m and u by EM,\n"
	"term frequencies of names from the whole register). Writes DIR again with\n"
	"the NHS number filled in above the upper threshold, and LINK_STATUS\n"
	"(linked, clerical, review, unlinked) and LINK_WEIGHT columns; pairs between\n"
	"the thresholds go to the review file. Then run yoc pseudonymise on --out:\n"
	"the output is identifiable source data like the input.\n\n"
	"  --register FILE|DIR  the GP register (a CSV or a folder of them) with\n"
	"                       NHS number, date of birth, sex, names, postcode\n"
	"  --in DIR             the feeds (as yoc synth --identifiers writes them)\n"
	"  --out DIR            linked feeds, same layout; DIR/.link/ keeps the\n"
	"                       ledger (links, changes, audit, model)\n"
	"  --review FILE        write the clerical review file: each pair side by\n"
	"                       side, blind to the weight unless --show-weights;\n"
	"                       fill in DECISION (MATCH or NON-MATCH) and REVIEWER\n"
	"  --decisions FILE     apply a filled-in review file (audited in the ledger)\n"
	"  --previous DIR       an earlier yoc link output whose ledger to continue\n"
	"                       (default: --out, when it is one); decisions stand\n"
	"                       and every row that changes person is logged\n"
	"  --upper P            match probability to link automatically (0.99)\n"
	"  --lower P            match probability to review (0.5)\n"
	"  --u-em               estimate u by EM too (default: from random pairs)\n"
	"  --no-tf              no term-frequency adjustment of names\n"
	"  --threads N          comparison threads (default 2)\n"
	"  --explain FILE:ROW   show the comparison vector and weights of a row\n"
	"                       (FILE relative to --in, ROW the data row number)\n\n"
	"See docs/linkage.md.\n";

static int get_prob(const struct cli_opt *opts, const char *name, double *out)
{
	const char *v = cli_get(opts, name);
	if (!v)
		return 0;
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (errno || end == v || *end || !(x > 0 && x < 1)) {
		cli_err("link", "--%s wants a probability between 0 and 1, not '%s'", name, v);
		return 2;
	}
	*out = x;
	return 0;
}

static int run(int argc, char **argv)
{
	struct cli_opt opts[] = {
		{"register", 1, NULL}, {"in", 1, NULL}, {"out", 1, NULL}, {"review", 1, NULL},
		{"decisions", 1, NULL}, {"previous", 1, NULL}, {"upper", 1, NULL},
		{"lower", 1, NULL}, {"show-weights", 0, NULL}, {"u-em", 0, NULL},
		{"no-tf", 0, NULL}, {"threads", 1, NULL}, {"seed", 1, NULL}, {"explain", 1, NULL},
		{NULL, 0, NULL}
	};
	int npos;
	if (cli_parse("link", argc, argv, opts, &npos))
		return 2;
	if (npos) {
		cli_err("link", "unexpected argument '%s'; see 'yoc help link'", argv[1]);
		return 2;
	}
	struct yoc_link_opts o;
	yoc_link_opts_init(&o);
	o.register_path = cli_get(opts, "register");
	o.in_dir = cli_get(opts, "in");
	o.out_dir = cli_get(opts, "out");
	o.review_path = cli_get(opts, "review");
	o.decisions_path = cli_get(opts, "decisions");
	o.previous_dir = cli_get(opts, "previous");
	o.explain = cli_get(opts, "explain");
	o.explain_out = stdout;
	o.show_weights = cli_get(opts, "show-weights") != NULL;
	o.u_from_em = cli_get(opts, "u-em") != NULL;
	o.tf = cli_get(opts, "no-tf") == NULL;
	if (!o.register_path || !o.in_dir || (!o.out_dir && !o.explain)) {
		cli_err("link", "--register, --in and --out (or --explain) are required; "
				"see 'yoc help link'");
		return 2;
	}
	long threads, seed;
	if (get_prob(opts, "upper", &o.upper) || get_prob(opts, "lower", &o.lower) ||
	    cli_get_long("link", opts, "threads", 2, &threads) ||
	    cli_get_long("link", opts, "seed", 1, &seed))
		return 2;
	if (o.lower > o.upper) {
		cli_err("link", "--lower must not be above --upper");
		return 2;
	}
	o.threads = (int)(threads < 1 ? 1 : threads > 16 ? 16 : threads);
	o.seed = (uint64_t)seed;
	struct yoc_link_stats st;
	struct yoc_error e;
	yoc_error_clear(&e);
	int rc = yoc_link_run(&o, &st, &e);
	if (rc) {
		cli_err_rec("link", &e);
		if (o.out_dir && !o.explain)
			cli_err("link", "nothing written; %s is as it was", o.out_dir);
		return rc == YOC_EINVAL ? 2 : 1;
	}
	if (o.explain)
		return 0;
	printf("yoc link: register %llu rows, %llu records; %llu rows in %llu files, %llu to "
	       "link: %llu linked, %llu by review, %llu for review, %llu unlinked; %llu pairs "
	       "compared (%llu on names too) in %.1fs, %.1fs of CPU (%.0f per second, %.0f per "
	       "CPU-second); %.1fs -> %s\n",
	       (unsigned long long)st.register_rows, (unsigned long long)st.register_people,
	       (unsigned long long)st.rows, (unsigned long long)st.files,
	       (unsigned long long)st.candidates_rows, (unsigned long long)st.linked,
	       (unsigned long long)st.decided_match, (unsigned long long)st.review,
	       (unsigned long long)st.unlinked, (unsigned long long)st.pairs,
	       (unsigned long long)st.pairs_full, st.seconds_compare, st.cpu_compare,
	       st.seconds_compare > 0 ? (double)st.pairs / st.seconds_compare : 0,
	       st.cpu_compare > 0 ? (double)st.pairs / st.cpu_compare : 0, st.seconds, o.out_dir);
	if (o.decisions_path)
		printf("yoc link: decisions: %llu MATCH, %llu NON-MATCH applied; %llu stale, %llu "
		       "malformed (not applied)\n",
		       (unsigned long long)st.decided_match, (unsigned long long)st.decided_nonmatch,
		       (unsigned long long)st.decisions_stale, (unsigned long long)st.decisions_bad);
	if (st.dup_checked)
		printf("yoc link: %llu rows carry a valid NHS number the register lacks; %llu of them "
		       "are a register person under another number (%s/.link/duplicates.csv)\n",
		       (unsigned long long)st.dup_checked, (unsigned long long)st.duplicates, o.out_dir);
	if (st.changes)
		printf("yoc link: %llu rows changed person since the previous run (logged in "
		       "%s/.link/changes.csv)\n",
		       (unsigned long long)st.changes, o.out_dir);
	if (o.review_path)
		printf("yoc link: review file %s\n", o.review_path);
	return 0;
}

const struct cli_verb cli_verb_link = {
	"link", "link rows without a valid NHS number to the register (at source)", usage_text,
	run
};

/*
** yoc synth: writes a synthetic care economy (provider feeds with defects,
** ground truth, manifest, contracts, opt-outs). Parses options, finds the
** data/ tables and reports; the work is in src/synth.
*/
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "synth/synth.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc synth [--persons N] [--years Y] [--first-year YYYY] [--seed S]\n"
	"                 [--clean | --defect-rate R] [--identifiers] [--data DIR]\n"
	"                 [--pilot FILE] [--force] --out DIR\n\n"
	"Writes a synthetic care economy: one CSV per provider per month under\n"
	"DIR/feeds/<kind>/ (apc, op, ae, community, mh, gp_appt, social_care,\n"
	"ambulance, deaths; careplan and pam per practice per month; gp_register\n"
	"one per practice per year), identifiable (NEWNHSNO, DOB) as providers\n"
	"send them, with realistic defects; and DIR/manifest.json (every file,\n"
	"its rows and per-defect row counts), DIR/truth/person_year.csv (the\n"
	"clean answer; discharge, reablement, careplan and pam truth beside it),\n"
	"DIR/contracts.csv and DIR/optout.csv. NHS numbers come from the 999\n"
	"test range, never issued.\n\n"
	"  --persons N       registered population on 1 April of the first year\n"
	"                    (default 100000)\n"
	"  --years Y         financial years, 1-10 (default 3)\n"
	"  --first-year YYYY first financial year (default 2021, i.e. 2021/22)\n"
	"  --seed S          random seed (default 1); same options, same bytes\n"
	"  --clean           write no defects (same truth as with defects)\n"
	"  --defect-rate R   multiply the default defect rates by R (default 1)\n"
	"  --identifiers     add GIVEN_NAME, FAMILY_NAME and POSTCODE to every feed,\n"
	"                    with realistic noise on rows whose NHS number is lost,\n"
	"                    and DIR/truth/link.csv (whose each such row is), for\n"
	"                    yoc link (docs/linkage.md)\n"
	"  --data DIR        reference tables (default: $YOC_DATA, ./data, or\n"
	"                    the data/ folder beside the yoc binary)\n"
	"  --pilot FILE      a pilot service with a known effect (key = value file,\n"
	"                    docs/synth.md \"A pilot\"; data/pilot_default.txt);\n"
	"                    writes DIR/truth/pilot.csv. The same seed without\n"
	"                    --pilot is the world without the service\n"
	"  --force           write into a non-empty folder that yoc synth did not\n"
	"                    make, in place (not as a whole)\n"
	"  --out DIR         output folder (required). It is written whole: built\n"
	"                    beside it and swapped in at the end; an earlier\n"
	"                    output of yoc synth there is replaced\n\n"
	"See docs/synth.md (model), docs/feeds.md (files), docs/costing.md (prices).\n";

static int run(int argc, char **argv)
{
	struct cli_opt opts[] = {
		{"persons", 1, NULL}, {"years", 1, NULL}, {"first-year", 1, NULL},
		{"seed", 1, NULL}, {"out", 1, NULL}, {"clean", 0, NULL},
		{"defect-rate", 1, NULL}, {"data", 1, NULL}, {"force", 0, NULL},
		{"pilot", 1, NULL}, {"identifiers", 0, NULL}, {NULL, 0, NULL}
	};
	int npos;
	if (cli_parse("synth", argc, argv, opts, &npos))
		return 2;
	if (npos) {
		cli_err("synth", "unexpected argument '%s'; see 'yoc help synth'", argv[1]);
		return 2;
	}
	struct yoc_synth_opts o;
	yoc_synth_opts_init(&o);
	long persons, years, first, seed;
	if (cli_get_long("synth", opts, "persons", 100000, &persons) ||
	    cli_get_long("synth", opts, "years", 3, &years) ||
	    cli_get_long("synth", opts, "first-year", 2021, &first) ||
	    cli_get_long("synth", opts, "seed", 1, &seed))
		return 2;
	o.persons = (uint64_t)persons;
	o.years = (int)(years > 100 ? 100 : years);
	o.first_year = (int)(first > 9999 ? 9999 : first);
	o.seed = (uint64_t)seed;
	o.out_dir = cli_get(opts, "out");
	o.identifiers = cli_get(opts, "identifiers") != NULL;
	if (!o.out_dir) {
		cli_err("synth", "--out DIR is required; see 'yoc help synth'");
		return 2;
	}
	const char *dr = cli_get(opts, "defect-rate");
	if (dr && cli_get(opts, "clean")) {
		cli_err("synth", "--clean and --defect-rate cannot be used together");
		return 2;
	}
	if (dr) {
		char *end;
		errno = 0;
		double v = strtod(dr, &end);
		if (errno || end == dr || *end || !(v >= 0)) {
			cli_err("synth", "--defect-rate wants a number >= 0, not '%s'", dr);
			return 2;
		}
		o.defect_rate = v;
	}
	if (cli_get(opts, "clean"))
		o.defect_rate = 0;
	char dbuf[PATH_MAX];
	o.data_dir = cli_data_dir(cli_get(opts, "data"), dbuf, sizeof dbuf);
	if (!o.data_dir)
		o.data_dir = "data";
	o.force = cli_get(opts, "force") != NULL;
	const char *quiet = getenv("YOC_QUIET");
	o.progress = !(quiet && *quiet && strcmp(quiet, "0") != 0);

	struct yoc_synth_stats st;
	struct yoc_error e;
	struct yoc_otree t = {0};
	const char *out = o.out_dir;
	yoc_error_clear(&e);
	static struct yoc_synth_pilot pilot;
	const char *pf = cli_get(opts, "pilot");
	if (pf) {
		if (yoc_synth_pilot_read(pf, &pilot, &e)) {
			cli_err_rec("synth", &e);
			return 2;
		}
		o.pilot = &pilot;
	}
	/*
	** Built in OUT.tmp.PID and swapped in whole. With --force, a non-empty
	** folder that yoc synth did not write is written into in place instead
	** (it is never removed), as before output trees.
	*/
	int rc = yoc_otree_begin(&t, out, "synth", &e);
	if (rc == YOC_EEXIST && o.force && yoc_is_dir(out)) {
		rc = 0;
	} else if (rc) {
		cli_err_rec("synth", &e);
		if (rc == YOC_EEXIST && yoc_is_dir(out))
			cli_err("synth", "or give --force to write into %s in place", out);
		return 1;
	} else {
		o.out_dir = t.tmp;
	}
	int whole = t.active;
	rc = yoc_synth_run(&o, &st, &e);
	if (!rc && whole)
		rc = yoc_otree_commit(&t, &e);
	if (rc) {
		yoc_otree_abort(&t);
		cli_err_rec("synth", &e);
		if (whole)
			cli_err("synth", "nothing written; %s is as it was", out);
		return rc == YOC_EINVAL ? 2 : 1;
	}
	if (st.nhs_overflow)
		fprintf(stderr,
			"yoc synth: note: %llu persons exceed the %llu valid NHS numbers of the 999 "
			"test range; they were numbered from 000 000 0000-009 999 9999 (outside every "
			"issued range; see docs/synth.md)\n",
			(unsigned long long)st.nhs_overflow,
			(unsigned long long)yoc_synth_nhs_capacity());
	printf("yoc synth: %llu persons, %llu person-years, %llu files, %llu rows "
	       "(%llu with a row defect), %.1f MB in %.1fs -> %s\n",
	       (unsigned long long)st.persons, (unsigned long long)st.person_years,
	       (unsigned long long)st.files, (unsigned long long)st.rows,
	       (unsigned long long)st.defect_rows, (double)st.bytes / 1e6, st.seconds, out);
	if (pf && st.pilot_missing_practices)
		fprintf(stderr, "yoc synth: note: %d of the pilot's practices are not in this "
			"economy (fewer people): left out of the pilot\n", st.pilot_missing_practices);
	if (pf)
		printf("yoc synth: pilot: %llu people eligible, %llu enrolled -> %s/truth/pilot.csv\n",
		       (unsigned long long)st.pilot_eligible, (unsigned long long)st.pilot_enrolled,
		       out);
	return 0;
}

const struct cli_verb cli_verb_synth = {
	"synth", "write a synthetic care economy (feeds, defects, ground truth)", usage_text, run
};

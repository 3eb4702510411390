/*
** yoc analyse: builds the person_year table (and analyse_run,
** unpriced_activity, costing_summary, provider_cost) in DIR/yoc.db from the
** loaded feeds. Option parsing, finding the shipped reference data, and a
** summary on stdout; the work is src/analyse.
*/
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyse/analyse.h"
#include "cli/cli.h"
#include "yoc/date.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc analyse --db DIR [--codelist FILE] [--lookback-years N]\n"
	"                   [--bands SPEC] [--data DIR] [--threads N]\n\n"
	"Builds the table person_year in DIR/yoc.db: one row per registered person\n"
	"per NHS financial year with age on 1 April, sex, practice, IMD decile, one\n"
	"0/1 column per long-term condition, ltc_count, mental_ltc_count, the\n"
	"currency band, emergency_admissions, other_nonelective_admissions,\n"
	"bed_days, emergency_bed_days, died, cost_total and one cost column per\n"
	"setting (money in pence; hospital stays per spell as commissioners pay),\n"
	"cost_emergency and cost_other_nonelective (splitting cost_nonelective) and\n"
	"cost_apc_provider (the NCC per-episode view). Also analyse_run (code-list\n"
	"version and parameters), unpriced_activity, costing_summary and\n"
	"provider_cost. Earlier results are replaced. See docs/analysis.md.\n\n"
	"  --codelist FILE       LTC code list (default data/ltc_codelist.csv)\n"
	"  --lookback-years N    years of hospital diagnoses counted (default 3)\n"
	"  --bands SPEC          currency bands (default A:0-1,B:2,C:3-5,D:6-8,E:9+)\n"
	"  --data DIR            folder of ncc_2023_24.csv, unit_costs.csv and\n"
	"                        apc_trim_points.csv\n"
	"                        (default: the shipped data/ folder)\n"
	"  --threads N           worker threads (default: number of CPUs)\n\n"
	"Sharded, under MPI: mpirun -n K yoc analyse --shards DIR1 .. DIRK [options]\n"
	"analyses each shard on its rank (docs/mpi.md).\n";

/*
** The options analyse shares with its sharded form (cmd_mpi.c): lookback
** years, threads, bands, the reference data folder and the code list, into
** o (dir and progress left to the caller). data and codelist are the
** caller's buffers o points into. Returns 0, or the exit status after a
** message: 2 usage, 1 no data folder.
*/
int cli_analyse_options(struct cli_opt *opts, struct yoc_analyse_opts *o, char *data,
			size_t dcap, char *codelist, size_t ccap)
{
	long lookback, threads;
	if (cli_get_long("analyse", opts, "lookback-years", 3, &lookback) ||
	    cli_get_long("analyse", opts, "threads", 0, &threads))
		return 2;
	if (lookback < 1 || lookback > 30) {
		cli_err("analyse", "--lookback-years must be 1 to 30");
		return 2;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	struct yoc_bands b;
	if (yoc_bands_parse(&b, cli_get(opts, "bands"), &e)) {
		cli_err_rec("analyse", &e);
		return 2;
	}
	char dbuf[PATH_MAX];
	const char *dd = cli_data_dir(cli_get(opts, "data"), dbuf, sizeof dbuf);
	if (!dd || snprintf(data, dcap, "%s", dd) >= (int)dcap) {
		cli_err("analyse", "cannot find the reference data folder (data/ with "
			"ncc_2023_24.csv); give --data DIR or set YOC_DATA");
		return 1;
	}
	char *abs = realpath(data, NULL); /* recorded in analyse_run: say it plainly */
	if (abs && strlen(abs) < dcap)
		memcpy(data, abs, strlen(abs) + 1);
	free(abs);
	if (cli_get(opts, "codelist"))
		snprintf(codelist, ccap, "%s", cli_get(opts, "codelist"));
	else
		snprintf(codelist, ccap, "%s/ltc_codelist.csv", data);
	yoc_analyse_opts_init(o);
	o->codelist = codelist;
	o->tariff_dir = data;
	o->lookback_years = (int)lookback;
	o->bands = cli_get(opts, "bands");
	o->threads = (int)threads;
	return 0;
}

static int run(int argc, char **argv)
{
	if (cli_mpi_wanted(argc, argv)) /* sharded, under mpirun */
		return cli_mpi_analyse(argc, argv);
	struct cli_opt opts[] = {
		{"db", 1, NULL}, {"codelist", 1, NULL}, {"lookback-years", 1, NULL},
		{"bands", 1, NULL}, {"data", 1, NULL}, {"threads", 1, NULL}, {NULL, 0, NULL}
	};
	int npos;
	if (cli_parse("analyse", argc, argv, opts, &npos))
		return 2;
	const char *dir = cli_get(opts, "db");
	if (npos || !dir) {
		cli_err("analyse", "--db DIR is required; see 'yoc help analyse'");
		return 2;
	}
	struct yoc_analyse_opts o;
	char data[PATH_MAX], codelist[PATH_MAX + 32];
	int rc = cli_analyse_options(opts, &o, data, sizeof data, codelist, sizeof codelist);
	if (rc)
		return rc;
	o.dir = dir;
	o.progress = 1;
	struct yoc_error e;
	yoc_error_clear(&e);
	struct yoc_analyse_stats st;
	if (yoc_analyse_run(&o, &st, &e)) {
		cli_err_rec("analyse", &e);
		return 1;
	}
	char f0[8], f1[8];
	yoc_fyear_format(st.first_year, f0);
	yoc_fyear_format(st.first_year + st.years - 1, f1);
	printf("  %llu activity rows in %llu files; total cost %lld.%02lld GBP\n",
	       (unsigned long long)st.rows, (unsigned long long)st.files,
	       (long long)(st.cost_total / 100), (long long)(st.cost_total % 100));
	printf("  %llu rows priced at a department average; %llu rows left out of costs "
	       "(see unpriced_activity); %llu rows dated outside the years\n",
	       (unsigned long long)st.priced_average, (unsigned long long)st.unpriced,
	       (unsigned long long)st.outside);
	if (st.practice_unknown)
		printf("  %llu person-years with practice unknown (NULL): the GP register's "
		       "practice code failed validation (see yoc quality)\n",
		       (unsigned long long)st.practice_unknown);
	if (st.gaps_bridged || st.gaps_lost)
		printf("  register gaps: %llu person-years carried over a missing or defective "
		       "register row; %llu persons lost (registered at the end of a year, no row "
		       "or evidence the next; see register_gaps)\n",
		       (unsigned long long)st.gaps_bridged, (unsigned long long)st.gaps_lost);
	printf("  time: setup %.2fs, registers %.2fs, activity %.2fs, writing %.2fs\n",
	       st.t_setup, st.t_register, st.t_activity, st.t_write);
	printf("analyse %s: %llu person-years (%llu people, %s to %s), code list %s, "
	       "lookback %ld years, in %.2fs\n", dir, (unsigned long long)st.person_years,
	       (unsigned long long)st.persons, f0, f1, st.codelist_version, (long)o.lookback_years, st.seconds);
	return 0;
}

const struct cli_verb cli_verb_analyse = {
	"analyse", "build the person_year table: LTCs, bands, use and cost of care", usage_text,
	run
};

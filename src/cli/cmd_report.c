/*
** yoc report: writes the published report of a dataset's person_year table
** (index.html, practice data packs, workbook, CSVs) through disclosure
** control. Reads the dataset; writes only under --out.
*/
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"
#include "report/report.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc report --db DIR --out DIR2 [--fyear YYYY/YY] [--threshold N]\n"
	"                  [--round N] [--no-suppression] [--pcn FILE]\n"
	"                  [--quality-url URL] [--data DIR]\n\n"
	"Writes the whole population report from the person_year table of the\n"
	"dataset DIR (DIR/yoc.db; built by 'yoc analyse'):\n"
	"  DIR2/index.html            population, multimorbidity, cost by LTC count\n"
	"                             (Figure 5), R squared, physical x mental, cost by\n"
	"                             provider and setting (Figure 7), currency bands\n"
	"  DIR2/practices.html        practices compared fairly: age-sex standardised\n"
	"                             ratios, funnel plots, primary care networks\n"
	"  DIR2/practices/CODE.html   one data pack per practice\n"
	"  DIR2/yoc-report.xlsx       every table, one sheet each\n"
	"  DIR2/csv/TABLE.csv         every table as CSV\n"
	"  DIR2/manifest.json         provenance: version, reference data and their\n"
	"                             SHA-256, parameters, dataset state hash, files\n\n"
	"Every count passes disclosure control, and so does every sum of money,\n"
	"mean and percentage beside one: sums to 3 significant figures, means\n"
	"and percentages of published figures (docs/disclosure.md). DIR2 is\n"
	"written whole: built beside it and swapped in at the end, so it holds\n"
	"one complete run; a DIR2 that is not empty and was not written by\n"
	"'yoc report' is refused.\n\n"
	"  --fyear Y          financial year to report (default: the latest)\n"
	"  --threshold N      counts 1..N are shown as * (default 7)\n"
	"  --round N          other counts are rounded to the nearest N (default 5)\n"
	"  --no-suppression   exact counts, for analysts inside the secure setting;\n"
	"                     every page, sheet and CSV says so in a banner\n"
	"  --pcn FILE         practice to primary care network mapping, CSV\n"
	"                     practice_code,pcn_code,pcn_name (default: the synthetic\n"
	"                     world's data/practice_pcn.csv when it names a practice)\n"
	"  --quality-url URL  the data-quality report, relative to DIR2\n"
	"                     (default ../quality/quality.html)\n"
	"  --data DIR         reference data folder (default: as 'yoc analyse')\n\n"
	"Sharded, under MPI: mpirun -n K yoc report --shards DIR1 .. DIRK --out DIR2\n"
	"gathers the shards' tables and writes one report of the whole population\n"
	"(docs/mpi.md).\n";

struct yoc_report_part *cli_report_part;

static int run(int argc, char **argv)
{
	if (cli_mpi_wanted(argc, argv)) /* sharded, under mpirun */
		return cli_mpi_report(argc, argv);
	struct cli_opt opts[] = {
		{"db", 1, NULL}, {"out", 1, NULL}, {"fyear", 1, NULL},
		{"threshold", 1, NULL}, {"round", 1, NULL}, {"no-suppression", 0, NULL},
		{"pcn", 1, NULL}, {"quality-url", 1, NULL}, {"data", 1, NULL},
		{NULL, 0, NULL}
	};
	int npos;
	if (cli_parse("report", argc, argv, opts, &npos))
		return 2;
	const char *dir = cli_get(opts, "db"), *out = cli_get(opts, "out");
	if (npos || !dir || !out) {
		cli_err("report", "--db DIR and --out DIR2 are required; see 'yoc help report'");
		return 2;
	}
	struct yoc_report_opts o;
	memset(&o, 0, sizeof o);
	yoc_sdc_init(&o.sdc);
	long thr, rnd;
	if (cli_get_long("report", opts, "threshold", 7, &thr) ||
	    cli_get_long("report", opts, "round", 5, &rnd))
		return 2;
	if (rnd < 1) {
		cli_err("report", "--round must be at least 1");
		return 2;
	}
	o.sdc.threshold = thr;
	o.sdc.round_to = rnd;
	o.sdc.off = cli_get(opts, "no-suppression") != NULL;
	o.fyear = cli_get(opts, "fyear");
	o.quality_url = cli_get(opts, "quality-url");
	if (!o.quality_url)
		o.quality_url = "../quality/quality.html";
	char pcn[4200], dbuf[4096], params[1024];
	o.pcn = cli_get(opts, "pcn");
	if (!o.pcn) {
		const char *dd = cli_data_dir(cli_get(opts, "data"), dbuf, sizeof dbuf);
		snprintf(pcn, sizeof pcn, "%s/practice_pcn.csv", dd ? dd : ".");
		struct yoc_error pe;
		if (dd && yoc_check_regular(pcn, &pe) == 0)
			o.pcn = pcn;
	}
	snprintf(params, sizeof params, "threshold %ld, round %ld%s%s%s", thr, rnd,
		 o.sdc.off ? ", no-suppression" : "", o.fyear ? ", fyear " : "",
		 o.fyear ? o.fyear : "");
	o.params = params;
	char db[4096];
	if (yoc_is_dir(dir))
		snprintf(db, sizeof db, "%s/yoc.db", dir);
	else
		snprintf(db, sizeof db, "%s", dir);
	o.db = db;
	struct yoc_error e;
	struct yoc_report_result r;
	struct yoc_otree t;
	yoc_error_clear(&e);
	/* a killed writer's journal is rolled back before the read-only open */
	if (yoc_store_recover(db, &e)) {
		cli_err_rec("report", &e);
		return 1;
	}
	/* sharded: the shards' partial (the year was checked when it was made) */
	int yrc = cli_report_part ? 0 : cli_fyear_check_path("report", db, "fyear", o.fyear);
	if (yrc)
		return yrc;
	double t0 = yoc_now();
	/* the report is built in OUT.tmp.PID and swapped in whole */
	if (yoc_check_regular(db, &e) || yoc_otree_begin(&t, out, "report", &e)) {
		cli_err_rec("report", &e);
		return 1;
	}
	o.out = t.tmp;
	o.part = cli_report_part; /* taken over by yoc_report_write */
	cli_report_part = NULL;
	if (yoc_report_write(&o, &r, &e) || yoc_otree_commit(&t, &e)) {
		yoc_otree_abort(&t);
		cli_err_rec("report", &e);
		cli_err("report", "nothing written; %s is as it was", out);
		return 1;
	}
	printf("report %s: %ld people, %ld practice data packs, %ld tables, %ld files in "
	       "%.2fs%s\n%s/index.html\n", r.fyear, r.persons, r.practices, r.tables, r.files,
	       yoc_now() - t0, o.sdc.off ? " (NOT DISCLOSURE CONTROLLED)" : "", out);
	return 0;
}

const struct cli_verb cli_verb_report = {
	"report", "write the report, practice data packs, workbook and CSVs", usage_text, run
};

/*
** yoc quality: writes the data-quality report of a dataset (read only).
*/
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "quality/quality.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc quality --db DIR --out DIR2 [--contracts FILE] [--data DIR]\n"
	"                   [--fyear YYYY/YY]\n\n"
	"Writes DIR2/quality.csv (one row per finding: section, check, kind,\n"
	"provider, period, field, value, expected, flag, detail), DIR2/quality.html,\n"
	"DIR2/issues.csv (every flagged check and caveat ranked by impact)\n"
	"and DIR2/feedback/PROVIDER.csv (each quarantined row and flagged value).\n"
	"Sections: linkage and standardisation; profiling and gap analysis;\n"
	"consistency over time; and section 0, every defect class counted per file.\n\n"
	"  --contracts FILE  contracts.csv (provider, setting, fyear, contract_value):\n"
	"                    costed activity is set against each contract\n"
	"  --fyear Y         the financial year whose caveats rank the issues\n"
	"                    (issues.csv; default: the latest analysed year)\n"
	"  --data DIR        the NCC tariff (default: $YOC_DATA, ./data, or the data/\n"
	"                    folder beside the yoc binary): HRG and currency codes are\n"
	"                    checked against it and activity is costed with it\n\n"
	"DIR2 is written whole: built beside it and swapped in at the end; a DIR2\n"
	"that is not empty and was not written by 'yoc quality' is refused.\n"
	"See docs/quality.md.\n"
	"Exit status: 0 written, 1 failed (nothing written), 2 usage or a --fyear\n"
	"that is not a year, 3 the dataset holds no data (nothing loaded; nothing\n"
	"written).\n";

/* 1 if no file was ever loaded into the dataset. */
static int empty(yoc_store *s)
{
	sqlite3_stmt *st = NULL;
	int n = 0;
	if (sqlite3_prepare_v2(yoc_store_db(s), "SELECT count(*) FROM current_files", -1, &st,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n == 0;
}

static int run(int argc, char **argv)
{
	struct cli_opt opts[] = {{"db", 1, NULL}, {"out", 1, NULL}, {"contracts", 1, NULL},
				 {"data", 1, NULL}, {"fyear", 1, NULL}, {NULL, 0, NULL}};
	int npos;
	if (cli_parse("quality", argc, argv, opts, &npos))
		return 2;
	const char *db = cli_get(opts, "db"), *out = cli_get(opts, "out");
	if (!db || !out || npos) {
		cli_err("quality", "give --db DIR and --out DIR2; see 'yoc help quality'");
		return 2;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_store *s = NULL;
	char dbuf[PATH_MAX];
	struct yoc_quality_opts o = {cli_get(opts, "contracts"), 1.5, 0.5, 0.2,
				     cli_data_dir(cli_get(opts, "data"), dbuf, sizeof dbuf), 0.10,
				     cli_get(opts, "fyear")};
	struct yoc_otree t = {0};
	const char *contracts = cli_get(opts, "contracts");
	int rc = contracts ? yoc_check_regular(contracts, &e) : 0, yrc;
	if (!rc)
		rc = yoc_store_open(&s, db, 0, &e);
	if (!rc && (yrc = cli_fyear_check("quality", yoc_store_db(s), "fyear", o.fyear))) {
		yoc_store_close(s);
		return yrc;
	}
	/* the report is built in OUT.tmp.PID and swapped in whole */
	if (!rc)
		rc = yoc_otree_begin(&t, out, "quality", &e);
	if (!rc && empty(s)) {
		yoc_otree_abort(&t);
		yoc_store_close(s);
		cli_err("quality", "%s holds no data: nothing has been loaded (yoc load --db %s "
			"FILE...); no report written", db, db);
		return 3;
	}
	if (!rc)
		rc = yoc_quality_write(s, t.tmp, &o, &e);
	yoc_store_close(s);
	if (!rc)
		rc = yoc_otree_commit(&t, &e);
	if (rc) {
		yoc_otree_abort(&t);
		cli_err_rec("quality", &e);
		cli_err("quality", "nothing written; %s is as it was", out);
		return 1;
	}
	printf("quality report written to %s\n", out);
	return 0;
}

const struct cli_verb cli_verb_quality = {
	"quality", "write the data-quality report and provider feedback", usage_text, run
};

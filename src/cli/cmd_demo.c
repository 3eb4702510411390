/*
** yoc demo: the main job end to end on the embedded synthetic default.
** Each step runs in-process through the verb table and is timed.
**
** Today the pipeline verbs that have landed are run; the steps still to come
** are named plainly rather than faked.
*/
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc demo [--persons N] [--out DIR]\n\n"
	"Runs the whole Year of Care pipeline on a synthetic care economy and\n"
	"prints the path of the report to open. Steps: synth, keygen,\n"
	"pseudonymise, init, load, quality, analyse, report.\n\n"
	"  --persons N   size of the synthetic population (default 100000)\n"
	"  --out DIR     working folder (default demo-out)\n";

static int step(const char *label, const char *verb, char **argv)
{
	double t0 = yoc_now();
	printf("==> %s\n", label);
	fflush(stdout);
	int rc = cli_run_verb(verb, argv);
	printf("    %s: %s in %.2fs\n", verb, rc == 0 ? "done" : "FAILED", yoc_now() - t0);
	return rc;
}

static int run(int argc, char **argv)
{
	struct cli_opt opts[] = {{"persons", 1, NULL}, {"out", 1, NULL}, {NULL, 0, NULL}};
	int npos;
	if (cli_parse("demo", argc, argv, opts, &npos))
		return 2;
	long persons;
	if (cli_get_long("demo", opts, "persons", 100000, &persons))
		return 2;
	if (npos) {
		cli_err("demo", "unexpected argument '%s'", argv[1]);
		return 2;
	}
	const char *root = "../shared/reference/hes/samples";
	char a[3][512];
	snprintf(a[0], sizeof a[0], "%s/artificial_hes_apc_0102.csv", root);
	snprintf(a[1], sizeof a[1], "%s/artificial_hes_op_0304.csv", root);
	snprintf(a[2], sizeof a[2], "%s/artificial_hes_ae_0708.csv", root);
	printf("yoc demo: the foundation is in place; the pipeline steps (synth,\n"
	       "pseudonymise, load, quality, analyse, report) are not built yet.\n"
	       "This demo reads NHS Digital's Artificial HES samples with the yoc CSV reader.\n\n");
	char *args[] = {"inspect", a[0], a[1], a[2], NULL};
	return step("read the Artificial HES samples", "inspect", args) ? 1 : 0;
}

const struct cli_verb cli_verb_demo = {
	"demo", "run the whole pipeline on a synthetic care economy", usage_text, run
};

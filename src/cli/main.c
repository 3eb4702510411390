/*
** Entry point of the yoc command-line tool: dispatches to one verb per file.
** Knows nothing of any verb's job beyond its table entry.
*/
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* Keep in the order shown by `yoc --help`: the pipeline, then tools. */
static const struct cli_verb *const verbs[] = {
	&cli_verb_demo,
	&cli_verb_synth,
	&cli_verb_keygen,
	&cli_verb_link,
	&cli_verb_pprl,
	&cli_verb_pseudonymise,
	&cli_verb_reidentify,
	&cli_verb_audit,
	&cli_verb_init,
	&cli_verb_load,
	&cli_verb_reshard,
	&cli_verb_status,
	&cli_verb_upgrade,
	&cli_verb_quarantine,
	&cli_verb_export,
	&cli_verb_sql,
	&cli_verb_quality,
	&cli_verb_analyse,
	&cli_verb_risk,
	&cli_verb_rule,
	&cli_verb_cohort,
	&cli_verb_simulate,
	&cli_verb_evaluate,
	&cli_verb_tariff,
	&cli_verb_budget,
	&cli_verb_tag,
	&cli_verb_reconcile,
	&cli_verb_kpi,
	&cli_verb_rrr,
	&cli_verb_careplan,
	&cli_verb_report,
	&cli_verb_serve,
	&cli_verb_user,
	&cli_verb_inspect,
	&cli_verb_help,
	NULL
};

const struct cli_verb *cli_find_verb(const char *name)
{
	for (int i = 0; verbs[i]; i++)
		if (strcmp(verbs[i]->name, name) == 0)
			return verbs[i];
	return NULL;
}

static void usage(FILE *f)
{
	fputs("yoc - Year of Care population health commissioning engine\n\n"
	      "Usage: yoc VERB [OPTIONS] [ARGS]\n"
	      "       yoc help VERB | yoc --help | yoc --version\n\nVerbs:\n",
	      f);
	for (int i = 0; verbs[i]; i++)
		fprintf(f, "  %-14s %s\n", verbs[i]->name, verbs[i]->summary);
	fputs("\nSee README.md and docs/ for the guide.\n", f);
}

static int unknown_verb(const char *name)
{
	const char *names[64];
	int n = 0;
	for (int i = 0; verbs[i] && n < 63; i++)
		names[n++] = verbs[i]->name;
	names[n] = NULL;
	const char *near = cli_nearest(name, names);
	if (near)
		fprintf(stderr, "yoc: unknown verb '%s'; did you mean '%s'?\n", name, near);
	else
		fprintf(stderr, "yoc: unknown verb '%s'; see 'yoc --help'\n", name);
	return 2;
}

int cli_run_verb(const char *name, char **argv)
{
	const struct cli_verb *v = cli_find_verb(name);
	if (!v)
		return unknown_verb(name);
	int argc = 0;
	while (argv[argc])
		argc++;
	/* `yoc VERB --help` (or -h) anywhere before "--": the verb's help,
	 * whatever else is on the line, for every verb alike. */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(v->usage, stdout);
			return 0;
		}
	return v->run(argc, argv);
}

static int help_run(int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	const struct cli_verb *v = cli_find_verb(argv[1]);
	if (!v)
		return unknown_verb(argv[1]);
	fputs(v->usage, stdout);
	return 0;
}

const struct cli_verb cli_verb_help = {
	"help", "show help for a verb",
	"Usage: yoc help [VERB]\n\nShows the list of verbs, or the full help of one verb.\n",
	help_run
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *a = argv[1];
	if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
		printf("yoc %s\n", YOC_VERSION);
		return 0;
	}
	if (a[0] == '-') {
		static const char *const top[] = {"--help", "--version", NULL};
		const char *near = cli_nearest(a, top);
		fprintf(stderr, "yoc: unknown option '%s'%s%s%s\n", a,
			near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
		return 2;
	}
	return cli_run_verb(a, argv + 1);
}

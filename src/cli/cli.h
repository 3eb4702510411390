/*
** Shared declarations of the command-line tool: the verb table, option
** parsing and message helpers. The CLI uses only the public headers in
** include/yoc/ and module headers; modules never call back into the CLI.
**
** Exit codes: 0 success, 1 failure of the job (bad data, I/O), 2 usage error.
*/
#ifndef YOC_CLI_H
#define YOC_CLI_H

#include <stdio.h>

#include "yoc/core.h"

struct cli_verb {
	const char *name;
	const char *summary; /* one line for `yoc --help` */
	const char *usage;   /* full text for `yoc help VERB` */
	int (*run)(int argc, char **argv); /* argv[0] is the verb */
};

/* An option: "--name" taking a value (has_arg 1) or a flag (has_arg 0). */
struct cli_opt {
	const char *name;   /* without the dashes */
	int has_arg;
	const char *value;  /* out: the value, "1" for a set flag, NULL if absent */
};

/*
** Parses argv[1..] of a verb against opts (terminated by name NULL).
** Positional arguments are moved to the front of argv and counted in *npos
** (argv[1..*npos]). "--name=value" and "--name value" both work; "--" ends
** options. An unknown option prints a short error naming the nearest valid
** one and returns 2; otherwise 0.
*/
int cli_parse(const char *verb, int argc, char **argv, struct cli_opt *opts,
	      int *npos);
/* Value of option name, or NULL. */
const char *cli_get(const struct cli_opt *opts, const char *name);
/* Parses a non-negative integer option; prints an error and returns 2 on bad text. */
int cli_get_long(const char *verb, const struct cli_opt *opts, const char *name,
		 long dflt, long *out);

/* Prints "yoc VERB: message" to stderr. */
void cli_err(const char *verb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prints the error record as "file:line:col: message" prefixed by the verb. */
void cli_err_rec(const char *verb, const struct yoc_error *e);

/* Writes s as a JSON string literal (quotes, escapes) to f. */
void cli_json_str(FILE *f, const char *s);

/* Nearest string to s among cands (NULL-terminated) within distance 3, or NULL. */
const char *cli_nearest(const char *s, const char *const *cands);

/*
** What a directory walk skipped, as text for a summary line:
** "1 named pipe, 2 symbolic links, 3 hidden files" ("nothing" if none).
*/
struct yoc_skipped;
void cli_skipped_text(const struct yoc_skipped *s, char *buf, size_t cap);

/*
** The shipped reference data folder: opt (--data) if given, $YOC_DATA, ./data,
** then data/ beside or above the executable (so build/yoc and ./yoc both find
** it in a source tree), recognised by its ncc_2023_24.csv. NULL if none; the
** result is opt, the environment's, a literal or buf.
*/
const char *cli_data_dir(const char *opt, char *buf, size_t cap);

/*
** A load's lines per file (load_lines.c), shared by load and its sharded
** form: the file's line on stdout, one line per quarantine reason on stderr.
*/
struct yoc_load_result;
void cli_put_escaped(FILE *f, const char *s); /* bytes outside printable ASCII as \xNN */
int cli_load_wanted(const char *path);        /* a .csv or .txt file */
void cli_load_line(const struct yoc_load_result *r);
void cli_load_reasons(const struct yoc_load_result *r);

/*
** Financial years (fyears.c), one message for all verbs. cli_fyears_text
** lists years ("2021/22, 2022/23"); cli_fyear_missing prints "VERB: TEXT is
** not in the dataset; years available: ..." and returns 1. cli_fyear_check
** checks the value of option --opt (NULL: nothing to check, 0) against the
** analysed years of db: 0 there, 1 not (message printed), 2 not a year.
** cli_fyear_check_path opens the dataset file read-only for it.
*/
struct sqlite3;
void cli_fyears_text(const int *years, int n, char *buf, size_t cap);
int cli_fyear_missing(const char *verb, const char *text, const int *years, int n);
int cli_fyear_check(const char *verb, struct sqlite3 *db, const char *opt, const char *text);
int cli_fyear_check_path(const char *verb, const char *dbpath, const char *opt,
			 const char *text);

const struct cli_verb *cli_find_verb(const char *name);
/* Runs a verb in-process with a NULL-terminated argv (used by `yoc demo`). */
int cli_run_verb(const char *name, char **argv);

/* The verbs, one file each (src/cli/cmd_NAME.c). */
extern const struct cli_verb cli_verb_help;
extern const struct cli_verb cli_verb_inspect;
extern const struct cli_verb cli_verb_demo;
extern const struct cli_verb cli_verb_synth;
extern const struct cli_verb cli_verb_link;
extern const struct cli_verb cli_verb_pprl;
extern const struct cli_verb cli_verb_analyse;
extern const struct cli_verb cli_verb_rule;
extern const struct cli_verb cli_verb_evaluate;
extern const struct cli_verb cli_verb_tariff;
extern const struct cli_verb cli_verb_budget;
extern const struct cli_verb cli_verb_tag;
extern const struct cli_verb cli_verb_reconcile;
extern const struct cli_verb cli_verb_rrr;
extern const struct cli_verb cli_verb_careplan;
extern const struct cli_verb cli_verb_risk;
extern const struct cli_verb cli_verb_cohort;
extern const struct cli_verb cli_verb_simulate;
extern const struct cli_verb cli_verb_report;
extern const struct cli_verb cli_verb_init;
extern const struct cli_verb cli_verb_load;
extern const struct cli_verb cli_verb_reshard;
/* cmd_mpi.c: load, analyse and report with --shards, under mpirun (docs/mpi.md) */
int cli_mpi_wanted(int argc, char **argv);
/* cmd_analyse.c: the options analyse shares with its sharded form */
struct yoc_analyse_opts;
int cli_analyse_options(struct cli_opt *opts, struct yoc_analyse_opts *o, char *data,
			size_t dcap, char *codelist, size_t ccap);
int cli_mpi_load(int argc, char **argv);
int cli_mpi_analyse(int argc, char **argv);
int cli_mpi_report(int argc, char **argv);
/* cmd_report.c: a sharded report's merged partial, set by cli_mpi_report
 * around its call of the report verb (taken over by the report) */
extern struct yoc_report_part *cli_report_part;
extern const struct cli_verb cli_verb_status;
extern const struct cli_verb cli_verb_upgrade;
extern const struct cli_verb cli_verb_quarantine;
extern const struct cli_verb cli_verb_export;
extern const struct cli_verb cli_verb_sql;
extern const struct cli_verb cli_verb_quality;
extern const struct cli_verb cli_verb_keygen;
extern const struct cli_verb cli_verb_pseudonymise;
extern const struct cli_verb cli_verb_reidentify;
extern const struct cli_verb cli_verb_audit;
extern const struct cli_verb cli_verb_serve;
extern const struct cli_verb cli_verb_user;
extern const struct cli_verb cli_verb_kpi;

#endif

/*
** yoc demo: the main job end to end on a synthetic care economy, each step
** run in-process through the verb table (cli_run_verb) and timed:
** synth -> keygen -> pseudonymise -> init -> load -> quality -> analyse ->
** report. A step whose verb is not built yet is named plainly, and the steps
** that need its output are reported as not run; nothing is faked.
*/
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc demo [--persons N] [--out DIR]\n\n"
	"Runs the whole Year of Care pipeline on a synthetic care economy and\n"
	"prints the path of the report to open. Steps: synth, keygen,\n"
	"pseudonymise, init, load, quality, analyse, report; each is shown with\n"
	"its timing. Files go under DIR: synth/, key.hex, pseudo/, dataset/,\n"
	"quality/, report/, logs/ (each step's output). A folder made by an\n"
	"earlier demo is replaced.\n\n"
	"  --persons N   size of the synthetic population (default 100000)\n"
	"  --out DIR     working folder (default demo-out)\n";

enum { NSTEP = 8 };

static char logdir[4096];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/*
** A fresh start for every run: the working folder holds only what an earlier
** demo made (marked by .yoc-demo), which is removed; any other non-empty
** folder is refused, so a mistyped --out never deletes anyone's files.
*/
static int fresh(const char *out)
{
	static const char *const parts[] = {"synth", "pseudo", "dataset", "quality", "report",
					    "logs", "key.hex", NULL};
	char path[4200];
	snprintf(path, sizeof path, "%s/.yoc-demo", out);
	if (access(path, F_OK) != 0) {
		for (int i = 0; parts[i]; i++) {
			char p2[4200];
			snprintf(p2, sizeof p2, "%s/%s", out, parts[i]);
			if (access(p2, F_OK) == 0) {
				cli_err("demo", "%s holds %s but was not made by yoc demo; choose another "
					"--out", out, parts[i]);
				return -1;
			}
		}
	}
	for (int i = 0; parts[i]; i++) {
		char p2[4200];
		snprintf(p2, sizeof p2, "%s/%s", out, parts[i]);
		if (access(p2, F_OK) == 0 && nftw(p2, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0) {
			cli_err("demo", "cannot remove %s from an earlier run", p2);
			return -1;
		}
	}
	FILE *f = fopen(path, "w");
	if (!f || fputs("made by yoc demo; the next run replaces this folder's contents\n", f) < 0 ||
	    fclose(f)) {
		cli_err("demo", "cannot write %s", path);
		return -1;
	}
	return 0;
}

/* The last non-empty line of a log (at most cap - 1 bytes) into buf. */
static void last_line(const char *path, char *buf, size_t cap)
{
	buf[0] = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char line[1024];
	while (fgets(line, sizeof line, f)) {
		size_t n = strlen(line);
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (n) {
			if (n >= cap)
				n = cap - 1;
			memcpy(buf, line, n);
			buf[n] = 0;
		}
	}
	fclose(f);
}

/*
** Runs one verb in-process with its stdout and stderr going to
** logs/NN-VERB.log (a load prints a line per file); shows the verb's last
** line and the time taken.
*/
static int step(int i, const char *label, char **argv)
{
	const char *verb = argv[0];
	printf("[%d/%d] %-13s %s\n", i, NSTEP, verb, label);
	fflush(stdout);
	if (!cli_find_verb(verb)) {
		printf("      %s: not available yet (the verb is not built in this tree)\n", verb);
		return -1;
	}
	char log[4200];
	snprintf(log, sizeof log, "%s/%02d-%s.log", logdir, i, verb);
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int out = fd >= 0 ? dup(1) : -1, err = fd >= 0 ? dup(2) : -1;
	fflush(stderr);
	if (fd >= 0 && out >= 0 && err >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	double t0 = yoc_now();
	int rc = cli_run_verb(verb, argv);
	double dt = yoc_now() - t0;
	fflush(stdout);
	fflush(stderr);
	if (out >= 0 && err >= 0) {
		dup2(out, 1);
		dup2(err, 2);
	}
	if (out >= 0)
		close(out);
	if (err >= 0)
		close(err);
	if (fd >= 0)
		close(fd);
	char last[300];
	last_line(log, last, sizeof last);
	if (last[0])
		printf("      %s\n", last);
	printf("      %s: %s in %.2fs (log: %s)\n", verb, rc == 0 ? "done" : "FAILED", dt, log);
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
	const char *out = cli_get(opts, "out") ? cli_get(opts, "out") : "demo-out";
	if (yoc_mkdirs(out, 0755)) {
		cli_err("demo", "cannot create %s", out);
		return 1;
	}
	char n[32], synth[4096], key[4096], feeds[4200], pseudo[4096], ds[4096],
		qual[4096], rep[4096], idx[8300], optout[4200];
	snprintf(n, sizeof n, "%ld", persons);
	snprintf(synth, sizeof synth, "%s/synth", out);
	snprintf(key, sizeof key, "%s/key.hex", out);
	snprintf(pseudo, sizeof pseudo, "%s/pseudo", out);
	snprintf(ds, sizeof ds, "%s/dataset", out);
	snprintf(qual, sizeof qual, "%s/quality", out);
	snprintf(rep, sizeof rep, "%s/report", out);
	snprintf(logdir, sizeof logdir, "%s/logs", out);
	if (fresh(out))
		return 1;
	if (yoc_mkdirs(logdir, 0755)) {
		cli_err("demo", "cannot create %s", logdir);
		return 1;
	}
	printf("yoc demo: %ld synthetic people, working folder %s\n", persons, out);
	double t0 = yoc_now();
	int i = 0, failed = 0, missing = 0;
	const char *stopped = NULL;
#define STEP(label, ...)                                                        \
	do {                                                                    \
		char *args_[] = {__VA_ARGS__, NULL};                            \
		i++;                                                            \
		if (stopped) {                                                  \
			printf("[%d/%d] %-13s not run: needs %s\n", i, NSTEP,   \
			       args_[0], stopped);                              \
			break;                                                  \
		}                                                               \
		int r_ = step(i, label, args_);                                 \
		if (r_ < 0) {                                                   \
			missing++;                                              \
			stopped = args_[0];                                     \
		} else if (r_ > 0) {                                            \
			failed++;                                               \
			stopped = args_[0];                                     \
		}                                                               \
	} while (0)
	STEP("make a synthetic care economy", "synth", "--persons", n, "--out", synth);
	snprintf(feeds, sizeof feeds, "%s/feeds", synth);
	if (!yoc_is_dir(feeds))
		snprintf(feeds, sizeof feeds, "%s", synth);
	STEP("make a pseudonymisation key", "keygen", "--out", key);
	snprintf(optout, sizeof optout, "%s/optout.csv", synth);
	if (access(optout, R_OK) == 0)
		STEP("pseudonymise the feeds at source, removing opt-outs", "pseudonymise", "--key",
		     key, "--in", feeds, "--out", pseudo, "--optout", optout);
	else
		STEP("pseudonymise the feeds at source", "pseudonymise", "--key", key, "--in",
		     feeds, "--out", pseudo);
	STEP("create the dataset", "init", ds);
	STEP("load the pseudonymised feeds", "load", "--db", ds, pseudo);
	STEP("data quality report", "quality", "--db", ds, "--out", qual);
	STEP("person-year analysis and costing", "analyse", "--db", ds);
	STEP("report, practice data packs, workbook, CSV", "report", "--db", ds, "--out", rep);
#undef STEP
	printf("\ntotal %.2fs\n", yoc_now() - t0);
	if (stopped) {
		printf("The pipeline stopped at '%s' (%s); later steps were not run.\n", stopped,
		       missing ? "not built yet" : "failed");
		return failed ? 1 : 0;
	}
	char *abs = realpath(rep, NULL);
	snprintf(idx, sizeof idx, "%s/index.html", abs ? abs : rep);
	free(abs);
	printf("Open the report: file://%s\n", idx);
	return 0;
}

const struct cli_verb cli_verb_demo = {
	"demo", "run the whole pipeline on a synthetic care economy", usage_text, run
};

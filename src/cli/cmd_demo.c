/*
** yoc demo: the main job end to end on a synthetic care economy, each step
** run in-process through the verb table (cli_run_verb) and timed:
** synth (with the default pilot service, data/pilot_default.txt, and
** identifiers) -> link -> keygen -> pseudonymise -> init -> load -> analyse -> quality ->
** risk fit, score, validate (with the synthetic truth as the oracle and the
** model card), summarise -> simulate -> evaluate (the pilot, against the synthetic truth)
** -> tariff build -> budget risk -> cohort (define, select, simulated
** review, consent, enrol, refresh) -> load of a later month -> cohort
** refresh -> analyse -> budget, tag, reconcile, budget workbook -> rrr ->
** careplan -> kpi -> report. The last month of the deaths feed is held back from the
** first load and loaded later, as the next month's data would arrive. A step
** whose verb is not built yet is named plainly, and the steps
** that need its output are reported as not run; nothing is faked.
*/
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cli/cli.h"
#include "server/server.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc demo [--persons N] [--out DIR]\n\n"
	"Runs the whole Year of Care pipeline on a synthetic care economy and\n"
	"prints the path of the report to open. Steps: synth (with the default\n"
	"pilot service of data/pilot_default.txt, and identifiers), link (rows\n"
	"without a valid NHS number found in the GP register, at source), keygen,\n"
	"pseudonymise, init, load, analyse, quality, risk (fit, score, validate,\n"
	"summarise; skipped below 6,000 people, too few events to fit), simulate\n"
	"(the shipped top-2% scenario, 20 runs; with the risk model), evaluate\n"
	"(the pilot), Year of Care tariffs (tariff build), overspend risk by\n"
	"cohort size (budget risk), a cohort (define, select with worklists,\n"
	"simulated clinician review, consent, enrol, refresh), the load of a later\n"
	"month (the deaths feed's last month, held back), cohort refresh, analyse,\n"
	"the cohort's capitated budget and payments (budget), activity tagging\n"
	"(tag), spend per member per month (budget view), reconciliation of the\n"
	"providers' billing (reconcile), the finance workbook, the RRR audit of\n"
	"delayed discharges (rrr), care plans and patient activation (careplan),\n"
	"the outcome KPIs (kpi), report; each is\n"
	"shown with its timing. Files go under DIR: synth/, linked/, key.hex,\n"
	"pseudo/, later/, dataset/, quality/, model-card.json and .md, worklists/,\n"
	"reviews/, finance/ (reconciliation), budget.xlsx, report/, logs/\n"
	"(each step's output). DIR is written whole:\n"
	"built beside it and swapped in at the end (also when a step failed, so\n"
	"its log can be read). A folder made by an earlier demo is replaced; any\n"
	"other folder that is not empty is refused.\n\n"
	"  --persons N   size of the synthetic population (default 100000)\n"
	"  --out DIR     working folder (default demo-out)\n";

enum { NSTEP = 36, MIN_RISK_PERSONS = 6000 };

static char logdir[4200];  /* where the logs are written (inside the tree) */
static char logshow[4200]; /* where they will be once the tree is swapped in */
static char workdir[4200]; /* the tree being built (OUT.tmp.PID) */
static char outdir[4200];  /* what it becomes */

/* A step's line with the working tree's path shown as the final one. */
static void show_final(char *s, size_t cap)
{
	size_t wn = strlen(workdir);
	char *at = wn ? strstr(s, workdir) : NULL;
	if (!at)
		return;
	char rest[600];
	snprintf(rest, sizeof rest, "%s", at + wn);
	snprintf(at, cap - (size_t)(at - s), "%s%s", outdir, rest);
}

/*
** A folder made by a demo before output trees carries .yoc-demo instead of
** the tree's marker; it is the demo's own, so it is marked as such and may
** be replaced like any earlier demo output.
*/
static void adopt_legacy(const char *out)
{
	char p[4200];
	snprintf(p, sizeof p, "%s/.yoc-demo", out);
	if (access(p, F_OK) != 0)
		return;
	snprintf(p, sizeof p, "%s/" YOC_OTREE_MARKER, out);
	if (access(p, F_OK) == 0)
		return;
	FILE *f = fopen(p, "w");
	if (f) {
		fputs("yoc demo\n", f);
		fclose(f);
	}
}

/*
** Holds back the latest month of the deaths feed: moves it from
** PSEUDO/deaths to LATER/deaths, with a copy of the source account, so that
** a second load brings it in as the next month's data would arrive. Prints
** what it held back; returns 0, or -1 when there is nothing to hold back.
*/
static int hold_back(const char *pseudo, const char *later)
{
	char dir[4300], from[4400], to[4400], acc[4400];
	char **files = NULL;
	size_t n = 0;
	struct yoc_error e;
	snprintf(dir, sizeof dir, "%s/deaths", pseudo);
	if (yoc_list_files(dir, &files, &n, &e) || n == 0) {
		yoc_paths_free(files);
		return -1;
	}
	const char *last = NULL;
	for (size_t i = 0; i < n; i++)
		if (strstr(files[i], ".csv") && !strstr(files[i], "account"))
			last = files[i];
	int rc = -1;
	const char *base = last ? strrchr(last, '/') : NULL;
	snprintf(to, sizeof to, "%s/deaths", later);
	if (base && yoc_mkdirs(to, 0755) == 0) {
		snprintf(from, sizeof from, "%s", last);
		snprintf(to, sizeof to, "%s/deaths%s", later, base);
		char *text = NULL;
		size_t tn = 0;
		snprintf(acc, sizeof acc, "%s/yoc-account.json", pseudo);
		if (rename(from, to) == 0) {
			rc = 0;
			if (yoc_read_file(acc, (size_t)1 << 28, &text, &tn, &e) == 0) {
				struct yoc_afile a;
				snprintf(acc, sizeof acc, "%s/yoc-account.json", later);
				if (yoc_afile_open(&a, acc, &e) == 0) {
					if (fwrite(text, 1, tn, a.f) == tn)
						yoc_afile_commit(&a, &e);
					else
						yoc_afile_abort(&a);
				}
			}
			yoc_free(text);
			printf("      held back %s: loaded later as the next month\n", base + 1);
		}
	}
	yoc_paths_free(files);
	return rc;
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
	char log[4400], shown[4400];
	snprintf(log, sizeof log, "%s/%02d-%s.log", logdir, i, verb);
	snprintf(shown, sizeof shown, "%s/%02d-%s.log", logshow, i, verb);
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
	show_final(last, sizeof last);
	if (last[0])
		printf("      %s\n", last);
	printf("      %s: %s in %.2fs (log: %s)\n", verb, rc == 0 ? "done" : "FAILED", dt, shown);
	return rc;
}

/*
** One selection-tool user per role on the demo dataset, with passwords
** printed: a synthetic dataset only, never a real one.
*/
static void demo_users(const char *ds)
{
	char path[4300], practice[16] = "";
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct yoc_error e;
	snprintf(path, sizeof path, "%s/yoc.db", ds);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT min(practice) FROM person_year", -1, &st, NULL) ==
		    SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(practice, sizeof practice, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	printf("\nThe selection tool on the demo dataset:\n  yoc serve --db %s\n"
	       "then open http://127.0.0.1:8080/ and log in as (demo passwords, this "
	       "synthetic dataset only):\n", ds);
	for (int r = 0; r < YOC_ROLE_COUNT; r++) {
		char name[32], pw[64];
		const char *role = yoc_role_name(r);
		if (r == YOC_ROLE_PRACTICE && !practice[0])
			continue;
		snprintf(name, sizeof name, "demo_%s", role);
		snprintf(pw, sizeof pw, "demo-%s-password", role);
		yoc_error_clear(&e);
		if (yoc_user_add(ds, name, r, r == YOC_ROLE_PRACTICE ? practice : NULL, pw, &e) &&
		    e.code != YOC_EEXIST) {
			cli_err_rec("demo", &e);
			continue;
		}
		printf("  %-20s %-28s %s%s%s\n", name, pw, role,
		       r == YOC_ROLE_PRACTICE ? " of " : "", r == YOC_ROLE_PRACTICE ? practice : "");
	}
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
	struct yoc_otree t;
	struct yoc_error e;
	yoc_error_clear(&e);
	adopt_legacy(out);
	if (yoc_otree_begin(&t, out, "demo", &e)) {
		cli_err_rec("demo", &e);
		return 1;
	}
	/* every step writes inside the tree; it is swapped in at the end */
	const char *work = t.tmp;
	char n[32], synth[4200], key[4200], feeds[4300], pseudo[4200], ds[4200],
		qual[4200], rep[4200], idx[8300], optout[4300], later[4200], wl[4200],
		rev[4200], scen[4200], dbuf[4096], linked[4200], reg[4400];
	const char *dd = cli_data_dir(NULL, dbuf, sizeof dbuf);
	snprintf(scen, sizeof scen, "%s/scenarios/top2_integrated.json", dd ? dd : "data");
	snprintf(n, sizeof n, "%ld", persons);
	snprintf(synth, sizeof synth, "%s/synth", work);
	snprintf(key, sizeof key, "%s/key.hex", work);
	snprintf(pseudo, sizeof pseudo, "%s/pseudo", work);
	snprintf(ds, sizeof ds, "%s/dataset", work);
	snprintf(qual, sizeof qual, "%s/quality", work);
	snprintf(rep, sizeof rep, "%s/report", work);
	snprintf(later, sizeof later, "%s/later", work);
	snprintf(linked, sizeof linked, "%s/linked", work);
	snprintf(wl, sizeof wl, "%s/worklists", work);
	snprintf(rev, sizeof rev, "%s/reviews", work);
	snprintf(logdir, sizeof logdir, "%s/logs", work);
	snprintf(logshow, sizeof logshow, "%s/logs", out);
	snprintf(workdir, sizeof workdir, "%s", work);
	snprintf(outdir, sizeof outdir, "%s", out);
	if (yoc_mkdirs(logdir, 0755)) {
		cli_err("demo", "cannot create %s", logdir);
		yoc_otree_abort(&t);
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
	char pilot[4300];
	snprintf(pilot, sizeof pilot, "%s/pilot_default.txt", dd ? dd : "data");
	int has_pilot = access(pilot, R_OK) == 0;
	if (has_pilot)
		STEP("make a synthetic care economy with a pilot service", "synth", "--persons", n,
		     "--identifiers", "--pilot", pilot, "--out", synth);
	else
		STEP("make a synthetic care economy", "synth", "--persons", n, "--identifiers",
		     "--out", synth);
	snprintf(feeds, sizeof feeds, "%s/feeds", synth);
	if (!yoc_is_dir(feeds))
		snprintf(feeds, sizeof feeds, "%s", synth);
	/* rows without a valid NHS number found in the register, at source */
	snprintf(reg, sizeof reg, "%s/gp_register", feeds);
	STEP("link rows without a valid NHS number", "link", "--register", reg, "--in", feeds,
	     "--out", linked);
	if (yoc_is_dir(linked))
		snprintf(feeds, sizeof feeds, "%s", linked);
	STEP("make a pseudonymisation key", "keygen", "--out", key);
	snprintf(optout, sizeof optout, "%s/optout.csv", synth);
	if (access(optout, R_OK) == 0)
		STEP("pseudonymise the feeds at source, removing opt-outs", "pseudonymise", "--key",
		     key, "--in", feeds, "--out", pseudo, "--optout", optout);
	else
		STEP("pseudonymise the feeds at source", "pseudonymise", "--key", key, "--in",
		     feeds, "--out", pseudo);
	int held = stopped ? -1 : hold_back(pseudo, later);
	STEP("create the dataset", "init", ds);
	STEP("load the pseudonymised feeds", "load", "--db", ds, pseudo);
	/* analyse before quality: the quality report shows the analysis's
	 * register gaps and practice-unknown person-years */
	STEP("person-year analysis and costing", "analyse", "--db", ds);
	STEP("data quality report", "quality", "--db", ds, "--out", qual);
	int risk_ok = 0;
	/* the risk model needs about 470 events (docs/risk.md), ~5,000 people with a
	 * row in two years: below 6,000 the steps are skipped. A risk step that
	 * fails stops the risk steps only; the report is made without its Risk page. */
	if (persons < MIN_RISK_PERSONS) {
		printf("[%d-%d/%d] risk       skipped: %ld people are too few to fit the risk "
		       "model (needs %d); the report has no Risk page\n", i + 1, i + 4, NSTEP,
		       persons, MIN_RISK_PERSONS);
		i += 4;
	} else if (!stopped) {
		char card[4300];
		snprintf(card, sizeof card, "%s/model-card", work);
		char *fit[] = {"risk", "fit", "--db", ds, NULL};
		char *score[] = {"risk", "score", "--db", ds, NULL};
		char *val[] = {"risk", "validate", "--db", ds, "--truth", synth, "--key", key,
			       "--card", card, NULL};
		char *sum[] = {"risk", "summarise", "--db", ds, NULL};
		char **rs[] = {fit, score, val, sum};
		static const char *const what[] = {
			"risk model: fit on the latest year with an outcome",
			"risk scores of the latest year",
			"temporal validation against the true risk; model card",
			"risk pyramid, crisis curve, rising risk, turnover"};
		int k;
		for (k = 0; k < 4; k++) {
			i++;
			if (step(i, what[k], rs[k]) != 0) {
				printf("      the risk steps stopped here; the report is made without "
				       "its Risk page\n");
				i += 3 - k;
				break;
			}
		}
		risk_ok = k == 4;
	}
	/* the cohort is selected on 2022/23 and reviewed in April 2023, so the refreshes
	 * have a year of deaths and moves to find; with no risk model, on conditions only */
	if (risk_ok) {
		STEP("risk scores of 2022/23, the cohort's selection year", "risk", "score", "--db",
		     ds, "--year", "2022/23");
	} else {
		i++;
		printf("[%d/%d] risk          skipped: no risk model; the cohort's rule uses"
		       " conditions only\n", i, NSTEP);
	}
	if (risk_ok) {
		STEP("simulate the integrated care team for the top 2% (3 years)", "simulate",
		     "--db", ds, "--scenario", scen, "--runs", "20");
	} else {
		i++;
		printf("[%d/%d] simulate      skipped: no risk model to form the cohorts\n", i,
		       NSTEP);
	}
	/* the evaluation needs enough enrolled people: a failure leaves the
	 * report without its Evaluation page, and the demo goes on */
	i++;
	if (has_pilot && !stopped) {
		char *ev[] = {"evaluate", "--db", ds, "--truth", synth, "--key", key, "--exact",
			      "emergency_admissions,ltc_count", "--other-practices", NULL};
		if (step(i, "evaluate the pilot: matched cohorts, difference in differences", ev) > 0)
			printf("      the report is made without the evaluation\n");
	} else if (stopped) {
		printf("[%d/%d] %-13s not run: needs %s\n", i, NSTEP, "evaluate", stopped);
	} else {
		printf("[%d/%d] evaluate      skipped: no pilot file %s\n", i, NSTEP, pilot);
	}
	STEP("Year of Care tariffs by category (base years 2021/22, 2022/23)", "tariff", "build",
	     "--db", ds, "--base-years", "2021/22,2022/23");
	STEP("overspend risk of capitated budgets by cohort size", "budget", "risk", "--db", ds,
	     "--reps", "200");
	char *rule = risk_ok ? "age >= 18 and died = 0 and (percentile >= 98 or ltc_count >= 4)"
			     : "age >= 18 and died = 0 and ltc_count >= 4";
	STEP("define a cohort by a rule", "cohort", "define", "complex", "--db", ds, "--rule",
	     rule, "--description",
	     risk_ok ? "Adults in the top 2% of risk or with four or more long-term conditions"
		     : "Adults with four or more long-term conditions",
	     "--service-model", "MDT case management", "--author", "demo");
	STEP("select candidates; review worklists per practice", "cohort", "select", "complex",
	     "--db", ds, "--year", "2022/23", "--month", "2023-04", "--out", wl);
	STEP("clinicians review the worklists (simulated)", "cohort", "simulate-review",
	     "complex", "--db", ds, "--out", rev, "--date", "2023-04-20");
	STEP("import the practices' review files", "cohort", "review", "complex", "--db", ds, rev);
	STEP("import consent after assessment", "cohort", "consent", "complex", "--db", ds, rev);
	STEP("enrol the included people who consented", "cohort", "enrol", "complex", "--db", ds);
	STEP("refresh the register from the data", "cohort", "refresh", "--db", ds);
	if (held == 0) {
		STEP("load a later month (the deaths held back)", "load", "--db", ds, later);
		STEP("refresh the register after the load", "cohort", "refresh", "--db", ds);
		STEP("person-year analysis with the later month", "analyse", "--db", ds);
	} else {
		i += 3;
	}
	char billing[4300], fin[4300], book[4400];
	snprintf(billing, sizeof billing, "%s/billing", synth);
	snprintf(fin, sizeof fin, "%s/finance", work);
	snprintf(book, sizeof book, "%s/budget.xlsx", work);
	STEP("the cohort's capitated budget and monthly payments, 2023/24", "budget", "--db", ds,
	     "--cohort", "complex", "--year", "2023/24");
	STEP("tag the members' activity paid by the budget", "tag", "--db", ds, "--cohort",
	     "complex");
	STEP("spend per member per month; shadow year", "budget", "view", "--db", ds, "--cohort",
	     "complex", "--year", "2023/24");
	STEP("reconcile the providers' billing: double billing challenged", "reconcile", "--db",
	     ds, "--cohort", "complex", "--billing", billing, "--out", fin);
	STEP("the finance workbook", "budget", "workbook", "--db", ds, "--cohort", "complex",
	     "--year", "2023/24", "--out", book, "--reconcile", fin);
	/* the outcome steps need the discharge and care plan feeds: a dataset
	 * without them says so in the step's log, and the report goes on */
	if (!stopped) {
		char *rr[] = {"rrr", "--db", ds, NULL}, *cp[] = {"careplan", "--db", ds, NULL};
		i++;
		step(i, "RRR audit of delayed discharges; the discharge model", rr);
		i++;
		step(i, "care plan coverage, unmet needs, patient activation", cp);
	} else {
		i += 2;
	}
	STEP("outcome KPIs by month, Making Data Count charts", "kpi", "--db", ds);
	STEP("report, practice data packs, workbook, CSV", "report", "--db", ds, "--out", rep);
#undef STEP
	printf("\ntotal %.2fs\n", yoc_now() - t0);
	if (yoc_otree_commit(&t, &e)) {
		cli_err_rec("demo", &e);
		cli_err("demo", "nothing written; %s is as it was", out);
		return 1;
	}
	if (stopped) {
		printf("The pipeline stopped at '%s' (%s); later steps were not run.\n", stopped,
		       missing ? "not built yet" : "failed");
		return failed ? 1 : 0;
	}
	snprintf(rep, sizeof rep, "%s/report", out);
	char *abs = realpath(rep, NULL);
	snprintf(idx, sizeof idx, "%s/index.html", abs ? abs : rep);
	free(abs);
	printf("Open the report: file://%s\n", idx);
	snprintf(rep, sizeof rep, "%s/quality", out);
	abs = realpath(rep, NULL);
	snprintf(idx, sizeof idx, "%s/quality.html", abs ? abs : rep);
	free(abs);
	printf("Data quality:    file://%s\n", idx);
	snprintf(ds, sizeof ds, "%s/dataset", out);
	demo_users(ds);
	return 0;
}

const struct cli_verb cli_verb_demo = {
	"demo", "run the whole pipeline on a synthetic care economy", usage_text, run
};

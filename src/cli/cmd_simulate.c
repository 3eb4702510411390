/*
** yoc simulate: three years of the current service (baseline) against a
** planned service change (a scenario), by risk cohort, as the handbook's
** Table 3 (docs/simulation.md). Reads person_year and risk_score, runs the
** Monte Carlo of src/sim, prints the tables, and stores them in the catalog
** (sim_* tables) for the report's Simulation page; --csv writes every
** figure. --compare runs two scenarios on the same draws.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "eval/eval.h"
#include "sim/sim.h"
#include "store/store.h"
#include "yoc/csv.h"
#include "yoc/date.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc simulate --db DIR --scenario FILE [options]\n"
	"       yoc simulate --db DIR --compare A B [options]\n"
	"       yoc simulate --db DIR --scenario FILE --truth SYNTHDIR --key KEY [options]\n"
	"       yoc simulate --db DIR --scenario FILE --enrolled FILE --base-year FY [options]\n"
	"       yoc simulate --check FILE\n\n"
	"Carries everyone alive at the end of the base year forward year by year\n"
	"(ageing, deaths, new conditions, each person's activity, moves out and\n"
	"in: all drawn from the dataset's own year-to-year transitions), under\n"
	"the current service and the scenario, with the same random numbers for\n"
	"both. Prints Table 3 (people, mean annual cost per person baseline and\n"
	"scenario, the difference, the budget), workforce WTE by staff group,\n"
	"the waterfall of the change and the break-even cohort, each as the mean\n"
	"over runs with its 90% interval. Needs yoc analyse and yoc risk score\n"
	"for the base year. Results go into the dataset (sim_* tables) for yoc\n"
	"report. docs/simulation.md describes the model and the scenario file\n"
	"(data/scenario.schema.json).\n\n"
	"  --scenario FILE   the scenario (data/scenarios/*.json)\n"
	"  --compare A B     two scenarios on the same draws, side by side\n"
	"  --check FILE      check a scenario file and stop\n"
	"  --base-year FY    base year (default the latest year with risk scores)\n"
	"  --years N         years simulated (default 3, at most 5)\n"
	"  --runs N          Monte Carlo runs (default 200)\n"
	"  --seed S          seed (default 1); the same inputs and seed give the same output\n"
	"  --cohorts CUTS    risk percentile cut points (default 0.5,2,5,10; the rest is the last cohort)\n"
	"  --threads N       worker threads (default: one per core; results do not depend on it)\n"
	"  --workforce FILE  workforce table (default data/workforce_default.csv)\n"
	"  --enrolled FILE   simulate only these people (a CSV with a pseudo_id column, else\n"
	"                    its first), one cohort named \"enrolled\"; needs --base-year\n"
	"  --truth DIR --key KEY  the enrolled people of a synthetic pilot (DIR/truth/pilot.csv,\n"
	"                    pseudonymised with KEY), base year the year before its start,\n"
	"                    and the simulated change set against the true one\n"
	"  --csv FILE        every figure as CSV (long format)\n"
	"  --no-store        do not write the results into the dataset\n";

static void money(double v, char *b, size_t cap)
{
	char t[64];
	snprintf(t, sizeof t, "%.0f", fabs(v));
	size_t n = strlen(t), o = 0;
	char out[96];
	if (v < 0 && strcmp(t, "0"))
		out[o++] = '-';
	for (size_t i = 0; i < n; i++) {
		out[o++] = t[i];
		if ((n - 1 - i) % 3 == 0 && i + 1 < n)
			out[o++] = ',';
	}
	out[o] = 0;
	snprintf(b, cap, "%s", out);
}

static int parse_cuts(const char *s, double *cuts, int *n)
{
	*n = 0;
	const char *p = s;
	double prev = 0;
	while (*p) {
		char *end;
		double v = strtod(p, &end);
		if (end == p || !(v > prev) || v >= 100 || *n >= YOC_SIM_MAX_COHORTS - 1)
			return -1;
		cuts[(*n)++] = prev = v;
		p = end;
		if (*p == ',')
			p++;
		else if (*p)
			return -1;
	}
	return *n ? 0 : -1;
}

static void print_table3(const struct yoc_sim_data *d, const struct yoc_scenario *s,
			 const struct yoc_sim_result *r)
{
	char a[48], b[48], c3[48], lo[48], hi[48], tb[48], ts[48];
	printf("\nTable 3: %s (mean annual cost per person over %d years; 90%% interval of the difference)\n",
	       s->name, r->years);
	printf("%-10s %8s %10s %10s %10s %23s %14s %14s  %s\n", "cohort %", "people", "baseline",
	       "scenario", "diff", "90% interval", "budget base", "budget scen", "offered");
	for (int c = 0; c < r->nc; c++) {
		struct yoc_sim_t3 t, t1;
		if (yoc_sim_table3(d, s, r, c, -1, &t) || yoc_sim_table3(d, s, r, c, 0, &t1))
			return;
		int off = yoc_sim_offered(d, s, c);
		money(t.base_mean.mean, a, sizeof a);
		money(t.scn_mean.mean, b, sizeof b);
		money(t.diff_mean.mean, c3, sizeof c3);
		money(t.diff_mean.p5, lo, sizeof lo);
		money(t.diff_mean.p95, hi, sizeof hi);
		money(t.base_total.mean, tb, sizeof tb);
		money(off ? t.scn_total.mean : t.base_total.mean, ts, sizeof ts);
		printf("%-10s %8.0f %10s %10s %10s %10s .. %-10s %14s %14s  %s\n", d->label[c],
		       t1.people.mean, a, c < d->ncohort ? b : "-", c < d->ncohort ? c3 : "-",
		       c < d->ncohort ? lo : "", c < d->ncohort ? hi : "", tb, ts,
		       c >= d->ncohort ? "-" : off ? "yes" : "no");
	}
}

static void print_details(const struct yoc_sim_data *d, const struct yoc_scenario *s,
			  const struct yoc_workforce *w, const struct yoc_sim_result *r)
{
	char a[48], b[48], c3[48];
	printf("\nBy year (enrolled cohorts%s): people, mean cost per person baseline / scenario\n",
	       s->rule ? ": the rule's cohort" : "");
	for (int y = 0; y < r->years; y++) {
		printf("  year %d:", y + 1);
		for (int c = 0; c < d->ncohort; c++) {
			if (!yoc_sim_offered(d, s, c))
				continue;
			struct yoc_sim_t3 t;
			if (yoc_sim_table3(d, s, r, c, y, &t))
				return;
			money(t.base_mean.mean, a, sizeof a);
			money(t.scn_mean.mean, b, sizeof b);
			printf("  %s: %.0f, %s / %s", d->label[c], t.people.mean, a, b);
		}
		printf("\n");
	}
	if (w && w->n) {
		printf("\nWorkforce, WTE in year %d (baseline -> scenario, 90%% interval of the scenario)\n",
		       r->years);
		for (int g = 0; g < w->n; g++) {
			struct yoc_sim_stat sb, ss;
			if (yoc_sim_wte(d, s, w, r, g, r->years - 1, &sb, &ss))
				return;
			printf("  %-20s %9.1f -> %9.1f  (%.1f .. %.1f)\n", w->s[g].group, sb.mean,
			       ss.mean, ss.p5, ss.p95);
		}
	}
	struct yoc_sim_stat wf[SE_N + 2];
	if (yoc_sim_waterfall(d, s, r, wf))
		return;
	printf("\nWaterfall: change in cost over %d years by factor (enrolled people)\n", r->years);
	double tot = 0;
	for (int k = 0; k < SE_N + 2; k++) {
		if (wf[k].mean == 0 && wf[k].p5 == 0 && wf[k].p95 == 0)
			continue;
		money(wf[k].mean, a, sizeof a);
		money(wf[k].p5, b, sizeof b);
		money(wf[k].p95, c3, sizeof c3);
		printf("  %-22s %14s  (%s .. %s)\n",
		       k < SE_N ? yoc_sim_eff_name[k] : k == SE_N ? "shifts" : "service_cost", a, b,
		       c3);
		tot += wf[k].mean;
	}
	money(tot, a, sizeof a);
	printf("  %-22s %14s\n", "total", a);
	int be = yoc_sim_break_even(d, r);
	if (be >= 0)
		printf("\nBreak-even: the scenario saves money (whole 90%% interval) down to cohort %s%%\n",
		       d->label[be]);
	else
		printf("\nBreak-even: the scenario saves money in no cohort\n");
	if (d->have_next) {
		printf("\nValidation: year-1 baseline mean cost per person vs the dataset's observed next year\n");
		for (int c = 0; c < d->ncohort; c++) {
			struct yoc_sim_t3 t;
			if (yoc_sim_table3(d, s, r, c, 0, &t))
				return;
			int in = d->obs_next_mean[c] >= t.base_mean.p5 &&
				 d->obs_next_mean[c] <= t.base_mean.p95;
			printf("  %-8s simulated %9.0f (%.0f .. %.0f)  observed %9.0f  %s\n", d->label[c],
			       t.base_mean.mean, t.base_mean.p5, t.base_mean.p95, d->obs_next_mean[c],
			       in ? "inside" : "OUTSIDE");
		}
	}
}

/* The pseudo_ids of an enrolled list: a CSV's pseudo_id column (else its first). */
static int read_enrolled(const char *path, char ***ids, size_t *n, struct yoc_error *e)
{
	yoc_csv *r = NULL;
	size_t cap = 0;
	*ids = NULL;
	*n = 0;
	int rc = yoc_csv_open(&r, path, NULL, e);
	if (rc)
		return rc;
	int col = yoc_csv_col(r, "pseudo_id");
	if (col < 0)
		col = 0;
	struct yoc_csv_row row;
	int got;
	while ((got = yoc_csv_next(r, &row, e)) > 0) {
		if ((size_t)col >= row.ncells || row.cells[col].n == 0)
			continue;
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 1024;
			char **ni = yoc_realloc(*ids, nc * sizeof *ni);
			if (!ni)
				break;
			*ids = ni;
			cap = nc;
		}
		char *c = yoc_malloc(row.cells[col].n + 1);
		if (!c)
			break;
		memcpy(c, row.cells[col].p, row.cells[col].n);
		c[row.cells[col].n] = 0;
		(*ids)[(*n)++] = c;
	}
	if (got > 0)
		rc = yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "out of memory");
	else if (got < 0)
		rc = got;
	else if (*n == 0)
		rc = yoc_error_set(e, YOC_EDATA, path, 0, 0, "no pseudo_ids in the enrolled list");
	yoc_csv_close(r);
	return rc;
}

/*
** The true change of the people simulated over the years compared, from
** the truth's rows (with minus without), per person-year, as the simulated
** one is counted (yoc_sim_truth_compare): rows of other years, and of people
** not simulated, are left out.
*/
static void truth_change(const struct yoc_pilot_truth *pt, const struct yoc_sim_data *d,
			 struct yoc_sim_truth *t)
{
	static const char *const col[ST_N] = {"emergency_admissions", "emergency_bed_days",
					      "cost_ae", "cost_community", "cost_gp", "cost_total",
					      NULL, NULL};
	int k_of[ST_N];
	for (int k = 0; k < ST_N; k++) {
		k_of[k] = -1;
		for (int j = 0; col[k] && j < YOC_EVAL_NOUT; j++)
			if (!strcmp(col[k], yoc_eval_outcomes[j]))
				k_of[k] = j;
	}
	double v[ST_N] = {0};
	for (size_t i = 0; i < pt->nrow; i++) {
		const struct yoc_pilot_truth_row *r = &pt->row[i];
		int y = r->fyear - d->base_year - 1;
		if (y < t->y0 || y >= t->y0 + t->ny ||
		    d->enrol_status[r->person] != YOC_SIM_ENROL_SIMULATED)
			continue;
		for (int k = 0; k < ST_N; k++)
			if (k_of[k] >= 0)
				v[k] += r->with[k_of[k]] - r->without[k_of[k]];
		v[ST_SERVICE] += r->service;
	}
	v[ST_TOTAL] = v[ST_CARE] + v[ST_SERVICE];
	double den = (double)d->n * t->ny;
	for (int k = 0; k < ST_N; k++)
		t->truth[k] = den > 0 ? v[k] / den : NAN;
}

/* The latest analysed year (start year), or 0. */
static int window_last(sqlite3 *db)
{
	sqlite3_stmt *q = NULL;
	int y = 0;
	if (sqlite3_prepare_v2(db, "SELECT max(fyear) FROM person_year", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
		y = (int)strtol((const char *)sqlite3_column_text(q, 0), NULL, 10);
	sqlite3_finalize(q);
	return y;
}

static void print_enrolled(const struct yoc_sim_data *d)
{
	size_t c[4] = {0};
	for (size_t i = 0; i < d->nenrol_id; i++)
		c[d->enrol_status[i] & 3]++;
	printf("  enrolled cohort: %zu listed, %zu simulated; %zu with no row in the base year, %zu died in it, %zu listed twice\n",
	       d->nenrol_id, c[YOC_SIM_ENROL_SIMULATED], c[YOC_SIM_ENROL_NOT_FOUND],
	       c[YOC_SIM_ENROL_DIED], c[YOC_SIM_ENROL_DUPLICATE]);
}

static void print_truth(const struct yoc_sim_data *d, const struct yoc_sim_truth *t)
{
	char a[16], b[16];
	yoc_fyear_format(d->base_year + 1 + t->y0, a);
	yoc_fyear_format(d->base_year + t->y0 + t->ny, b);
	printf("\nAgainst the truth: change per enrolled person-year, %s%s%s, %zu people\n"
	       "(truth: the pilot run minus the same seed without it; simulated: scenario minus baseline)\n",
	       a, t->ny > 1 ? " to " : "", t->ny > 1 ? b : "", t->people);
	printf("  %-22s %12s %12s %27s\n", "measure", "truth", "simulated", "90% interval");
	for (int k = 0; k < ST_N; k++) {
		const struct yoc_sim_stat *s = &t->sim[k];
		int in = t->truth[k] >= s->p5 && t->truth[k] <= s->p95;
		printf("  %-22s %12.4f %12.4f  (%10.4f .. %10.4f)  %s\n", yoc_sim_truth_name[k],
		       t->truth[k], s->mean, s->p5, s->p95, in ? "inside" : "OUTSIDE");
	}
}

static int run(int argc, char **argv)
{
	struct cli_opt opts[] = {{"db", 1, NULL},        {"scenario", 1, NULL}, {"compare", 1, NULL},
				 {"check", 1, NULL},     {"base-year", 1, NULL}, {"years", 1, NULL},
				 {"runs", 1, NULL},      {"seed", 1, NULL},     {"cohorts", 1, NULL},
				 {"threads", 1, NULL},   {"workforce", 1, NULL}, {"csv", 1, NULL},
				 {"no-store", 0, NULL},  {"enrolled", 1, NULL}, {"truth", 1, NULL},
				 {"key", 1, NULL},       {NULL, 0, NULL}};
	const char *verb = "simulate";
	int npos;
	if (cli_parse(verb, argc, argv, opts, &npos))
		return 2;
	struct yoc_error e;
	yoc_error_clear(&e);
	struct yoc_scenario sc[2];
	memset(sc, 0, sizeof sc);
	int nsc = 0, rc = 1;
	struct yoc_sim_data d;
	memset(&d, 0, sizeof d);
	struct yoc_sim_result res[2];
	memset(res, 0, sizeof res);
	yoc_store *st = NULL;
	struct yoc_pilot_truth pt;
	memset(&pt, 0, sizeof pt);
	char **eids = NULL;
	size_t neids = 0;
	struct yoc_sim_truth tt;
	memset(&tt, 0, sizeof tt);
	int have_truth = 0, truth_last = 0;
	const char *enrolled = cli_get(opts, "enrolled"), *truth = cli_get(opts, "truth");
	if (cli_get(opts, "check")) {
		if (yoc_scenario_read(cli_get(opts, "check"), &sc[0], &e)) {
			cli_err_rec(verb, &e);
			return 1;
		}
		printf("%s: scenario '%s' is valid (%s, sha256 %s)\n", cli_get(opts, "check"),
		       sc[0].name, YOC_SCENARIO_FORMAT, sc[0].sha256);
		yoc_scenario_free(&sc[0]);
		return 0;
	}
	const char *dir = cli_get(opts, "db");
	if (!dir || (!cli_get(opts, "scenario") == !cli_get(opts, "compare"))) {
		cli_err(verb, "give --db DIR and either --scenario FILE or --compare A B");
		return 2;
	}
	const char *files[2] = {cli_get(opts, "scenario"), NULL};
	if (cli_get(opts, "compare")) {
		if (npos != 1) {
			cli_err(verb, "--compare takes two scenario files: --compare A B");
			return 2;
		}
		files[0] = cli_get(opts, "compare");
		files[1] = argv[1];
	} else if (npos) {
		cli_err(verb, "unexpected argument '%s'", argv[1]);
		return 2;
	}
	long years, runs, seed, threads;
	if (cli_get_long(verb, opts, "years", 3, &years) || cli_get_long(verb, opts, "runs", 200, &runs) ||
	    cli_get_long(verb, opts, "seed", 1, &seed) ||
	    cli_get_long(verb, opts, "threads", 0, &threads))
		return 2;
	if (years < 1 || years > YOC_SIM_MAX_YEARS || runs < 1 || runs > YOC_SIM_MAX_RUNS) {
		cli_err(verb, "--years 1 to %d, --runs 1 to %d", YOC_SIM_MAX_YEARS, YOC_SIM_MAX_RUNS);
		return 2;
	}
	double cuts[YOC_SIM_MAX_COHORTS] = {0.5, 2, 5, 10};
	int ncut = 4;
	if (cli_get(opts, "cohorts") && parse_cuts(cli_get(opts, "cohorts"), cuts, &ncut)) {
		cli_err(verb, "--cohorts: increasing percents below 100, such as 0.5,2,5,10");
		return 2;
	}
	int base = 0;
	if (cli_get(opts, "base-year")) {
		const char *t = cli_get(opts, "base-year");
		if (yoc_fyear_parse(t, strlen(t), &base)) {
			cli_err(verb, "--base-year: '%s' is not a financial year such as 2022/23", t);
			return 2;
		}
	}
	if ((enrolled && truth) || (truth && !cli_get(opts, "key")) ||
	    (cli_get(opts, "key") && !truth)) {
		cli_err(verb, "give --enrolled FILE, or --truth DIR with --key KEY (not both)");
		return 2;
	}
	if (enrolled && !base) {
		cli_err(verb, "--enrolled needs --base-year: the year before the service starts");
		return 2;
	}
	if (truth) {
		if (yoc_pilot_truth_read(truth, cli_get(opts, "key"), &pt, &e)) {
			cli_err_rec(verb, &e);
			goto cleanup;
		}
		if (pt.n == 0 || pt.start == 0) {
			cli_err(verb, "%s/truth/pilot.csv: no one enrolled", truth);
			goto cleanup;
		}
		if (!base)
			base = yoc_fyear_of(pt.start) - 1;
		/* the years compared: the truth's years after the base year, in a row */
		int last = base;
		for (int more = 1; more;) {
			more = 0;
			for (size_t i = 0; i < pt.nrow && !more; i++)
				more = pt.row[i].fyear == last + 1;
			last += more;
		}
		tt.y0 = 0;
		tt.ny = last - base < (int)years ? last - base : (int)years;
		truth_last = last;
		if (tt.ny < 1) {
			cli_err(verb, "%s/truth/pilot.csv: no year after the base year %d/%02d", truth,
				base, (base + 1) % 100);
			goto cleanup;
		}
		eids = yoc_calloc(pt.n, sizeof *eids);
		if (!eids)
			goto cleanup;
		for (size_t i = 0; i < pt.n; i++)
			eids[i] = pt.id[i];
		neids = pt.n;
	} else if (enrolled && read_enrolled(enrolled, &eids, &neids, &e)) {
		cli_err_rec(verb, &e);
		goto cleanup;
	}
	for (nsc = 0; nsc < 2 && files[nsc]; nsc++)
		if (yoc_scenario_read(files[nsc], &sc[nsc], &e)) {
			cli_err_rec(verb, &e);
			goto cleanup;
		}
	if (nsc == 2 && ((sc[0].rule != NULL) != (sc[1].rule != NULL) ||
			 (sc[0].rule && strcmp(sc[0].rule, sc[1].rule)))) {
		cli_err(verb, "--compare: both scenarios must use risk cohorts, or the same rule");
		goto cleanup;
	}
	struct yoc_workforce w;
	char wpath[4200], dbuf[4096];
	const char *dd = NULL;
	if (cli_get(opts, "workforce"))
		snprintf(wpath, sizeof wpath, "%s", cli_get(opts, "workforce"));
	else if ((dd = cli_data_dir(NULL, dbuf, sizeof dbuf)))
		snprintf(wpath, sizeof wpath, "%s/workforce_default.csv", dd);
	else {
		cli_err(verb, "cannot find data/workforce_default.csv; give --workforce FILE or set YOC_DATA");
		goto cleanup;
	}
	if (yoc_workforce_read(wpath, &w, &e)) {
		cli_err_rec(verb, &e);
		goto cleanup;
	}
	if (yoc_store_open(&st, dir, YOC_STORE_WRITE, &e)) {
		cli_err_rec(verb, &e);
		goto cleanup;
	}
	sqlite3 *db = yoc_store_db(st);
	double t0 = yoc_now();
	if (eids && sc[0].rule) {
		cli_err(verb, "%s: a scenario by rule cannot run on an enrolled cohort; name the cohort \"enrolled\"",
			sc[0].path);
		goto cleanup;
	}
	if (eids ? yoc_sim_data_load_enrolled(db, base, (const char *const *)eids, neids, &d, &e)
		 : yoc_sim_data_load(db, base, cuts, ncut, sc[0].rule, &d, &e)) {
		cli_err_rec(verb, &e);
		goto cleanup;
	}
	double tload = yoc_now() - t0;
	if (truth) {
		/* The synthetic window's last year is cut at its end: a stay still
		 * open on its last day is cut there, in both arms, so that year's
		 * truth is short of a whole year, which the simulation (learned
		 * from whole years) describes. It is left out. */
		int wlast = window_last(db);
		if (truth_last == wlast && tt.y0 + tt.ny == wlast - base) {
			char fy[16];
			yoc_fyear_format(wlast, fy);
			if (tt.ny == 1) {
				cli_err(verb, "%s/truth/pilot.csv: its only year after the base year, %s, is the last of the dataset, cut at its end; synthesise a year more (yoc synth --years)",
					truth, fy);
				goto cleanup;
			}
			tt.ny--;
			printf("simulate: %s left out of the comparison with the truth: the last year of the dataset, cut at its end\n",
			       fy);
		}
	}
	struct yoc_sim_opts o = {(int)years, (int)runs, (uint64_t)seed, (int)threads};
	for (int i = 0; i < nsc; i++) {
		double t1 = yoc_now();
		if (yoc_sim_run(&d, &sc[i], &o, &res[i], &e)) {
			cli_err_rec(verb, &e);
			goto cleanup;
		}
		double secs = yoc_now() - t1;
		char fy[16];
		yoc_fyear_format(d.base_year, fy);
		printf("simulate %s: '%s', base year %s, %zu people (+ %.1f%% joiners a year), %d years x %ld runs, seed %ld\n",
		       dir, sc[i].name, fy, d.n, 100 * d.join_rate, o.years, runs, seed);
		printf("  learned from %zu transitions of %d pair(s) of years from %d/%02d; load %.2fs, runs %.2fs\n",
		       d.ndonor, d.npairs, d.first_pair, (d.first_pair + 1) % 100, tload, secs);
		printf("  period effect: sd %.4f of the log change in the level of cost a year\n",
		       d.period_sd);
		printf("  scenario sha256 %s\n  dataset sha256 %s\n", sc[i].sha256, d.dataset_sha256);
		if (sc[i].rule)
			printf("  cohort by rule: %zu people selected\n", d.nselected);
		if (eids)
			print_enrolled(&d);
		print_table3(&d, &sc[i], &res[i]);
		print_details(&d, &sc[i], &w, &res[i]);
		have_truth = 0;
		if (truth && d.n) {
			if (yoc_sim_truth_compare(&d, &res[i], &tt)) {
				cli_err(verb, "comparing with the truth: out of memory");
				goto cleanup;
			}
			truth_change(&pt, &d, &tt);
			print_truth(&d, &tt);
			have_truth = 1;
		}
		struct yoc_sim_meta m;
		memset(&m, 0, sizeof m);
		snprintf(m.run_id, sizeof m.run_id, "sim-%.12s-%.12s-%ld", sc[i].sha256, d.dataset_sha256,
			 seed);
		m.s = &sc[i];
		m.o = &o;
		m.w = &w;
		m.seconds = secs;
		m.truth = have_truth ? &tt : NULL;
		if (!opts[12].value && yoc_sim_store(db, &d, &res[i], &m, &e)) {
			cli_err_rec(verb, &e);
			goto cleanup;
		}
		if (cli_get(opts, "csv") && nsc == 1) {
			struct yoc_afile af;
			if (yoc_afile_open(&af, cli_get(opts, "csv"), &e)) {
				cli_err_rec(verb, &e);
				goto cleanup;
			}
			if (yoc_sim_write_csv(af.f, &d, &res[i], &m)) {
				yoc_afile_abort(&af);
				cli_err(verb, "%s: cannot write", cli_get(opts, "csv"));
				goto cleanup;
			}
			if (yoc_afile_commit(&af, &e)) {
				cli_err_rec(verb, &e);
				goto cleanup;
			}
		}
	}
	if (nsc == 2) {
		printf("\nCompare (same draws): total cost over %d years, scenario minus baseline\n", o.years);
		printf("%-10s %16s %16s %16s %25s\n", "cohort %", sc[0].name, sc[1].name, "B - A",
		       "90% interval of B - A");
		int n = o.runs;
		double *x = yoc_malloc((size_t)n * 3 * sizeof *x);
		if (!x)
			goto cleanup;
		for (int c = 0; c <= d.ncohort; c++) {
			for (int run = 0; run < n; run++) {
				double v[2] = {0, 0};
				for (int i = 0; i < 2; i++) {
					if (!yoc_sim_offered(&d, &sc[i], c))
						continue;
					for (int y = 0; y < o.years; y++) {
						const double *A = res[i].res +
								  (((size_t)run * (size_t)res[i].nc + (size_t)c) *
									   (size_t)o.years +
								   (size_t)y) * SM_N;
						for (int k = 0; k < SA_NCOST; k++)
							v[i] += A[SM_SCN + k] - A[SM_BASE + k];
						v[i] += A[SM_SERVICE_COST];
					}
				}
				x[run] = v[0];
				x[n + run] = v[1];
				x[2 * n + run] = v[1] - v[0];
			}
			struct yoc_sim_stat sa, sb, sd;
			yoc_sim_stat_of(x, n, &sa);
			yoc_sim_stat_of(x + n, n, &sb);
			yoc_sim_stat_of(x + 2 * n, n, &sd);
			char a[48], b[48], c3[48], lo[48], hi[48];
			money(sa.mean, a, sizeof a);
			money(sb.mean, b, sizeof b);
			money(sd.mean, c3, sizeof c3);
			money(sd.p5, lo, sizeof lo);
			money(sd.p95, hi, sizeof hi);
			printf("%-10s %16s %16s %16s %12s .. %-12s\n", d.label[c], a, b, c3, lo, hi);
		}
		yoc_free(x);
	}
	rc = 0;
cleanup:
	for (int i = 0; i < 2; i++) {
		yoc_sim_result_free(&res[i]);
		yoc_scenario_free(&sc[i]);
	}
	yoc_sim_data_free(&d);
	yoc_store_close(st);
	if (!truth)
		for (size_t i = 0; i < neids; i++)
			yoc_free(eids[i]);
	yoc_free(eids);
	yoc_pilot_truth_free(&pt);
	return rc;
}

const struct cli_verb cli_verb_simulate = {
	"simulate", "three years of baseline vs a scenario by risk cohort (Table 3)", usage_text, run
};

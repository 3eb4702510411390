/*
** yoc evaluate: the effect of a service by matched cohorts and difference
** in differences (src/eval, docs/evaluation.md). Two sources: a dataset
** (--db: treated people from a file or cohort, baseline characteristics
** and outcomes from person_year, results into the eval_* tables of yoc.db
** for the report) and any CSV an analyst brings (--csv: the same engine,
** results on stdout and in files), so results can be checked with other
** tools. Option parsing, reading and printing here; the methods in src/eval.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "eval/eval.h"
#include "yoc/csv.h"
#include "yoc/date.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc evaluate --db DIR --treated FILE|COHORT --start DATE [--pre-years N]\n"
	"                    [--post-years N] [--covariates A,B,...] [--exact VARS]\n"
	"                    [--other-practices] [--truth DIR --key FILE] [common options]\n"
	"       yoc evaluate --csv FILE --treat COL --covariates A,B,... --outcome COL\n"
	"                    [--pre COL] [--id COL] [--exact VARS] [--pairs FILE.csv]\n"
	"                    [--balance FILE.csv] [common options]\n"
	"Common options: [--method nearest] [--ratio K] [--caliper C] [--replace]\n"
	"                [--boot N] [--seed N] [--json]\n\n"
	"Matches each treated person to people outside the service with similar\n"
	"propensity scores (logistic regression on the covariates), checks balance,\n"
	"and estimates the effect as a difference in differences with a 95% CI from\n"
	"a cluster bootstrap over matched sets (docs/evaluation.md).\n\n"
	"--db       the dataset: treated people are the pseudo_ids of FILE (a CSV with\n"
	"           a pseudo_id column) or of a cohort; the baseline is the financial\n"
	"           year before the one containing --start, the outcomes the --post-years\n"
	"           years from it; controls are people never treated, in the treated\n"
	"           people's practices unless --other-practices. Results go to the\n"
	"           eval_* tables of yoc.db (the report's Evaluation page).\n"
	"           --truth DIR --key FILE: a yoc synth output with a pilot; its\n"
	"           truth/pilot.csv gives the true effect (and the treated people when\n"
	"           --treated is not given).\n"
	"--csv      any table: --treat is a 0/1 column, --covariates numeric columns,\n"
	"           --outcome the outcome (--pre its baseline for a difference in\n"
	"           differences). --id names a column of unique keys that breaks ties\n"
	"           (default: the row number). --pairs writes the matched sets,\n"
	"           --balance the balance table.\n"
	"--method   nearest (greedy, from the highest score down; the only method)\n"
	"--ratio K  controls per treated person (default 1)\n"
	"--caliper C  drop a match whose logits differ by more than C SD (default none)\n"
	"--exact VARS match only within equal values of these covariates\n"
	"--replace  controls may be reused\n"
	"--boot N   bootstrap replicates (default 1000); --seed N their seed (default 1)\n";

/* ---- options ------------------------------------------------------------------ */

static int ev_common(const struct cli_opt *opts, struct yoc_eval_opts *eo)
{
	long v;
	yoc_eval_opts_init(eo);
	const char *meth = cli_get(opts, "method");
	if (meth && strcmp(meth, "nearest") != 0) {
		if (strcmp(meth, "optimal") == 0 || strcmp(meth, "full") == 0)
			cli_err("evaluate", "--method %s is not available: use nearest (greedy "
				"nearest neighbour, docs/evaluation.md)", meth);
		else
			cli_err("evaluate", "--method must be nearest, not '%s'", meth);
		return 2;
	}
	if (cli_get_long("evaluate", opts, "ratio", 1, &v))
		return 2;
	if (v < 1 || v > 100) {
		cli_err("evaluate", "--ratio must be 1 to 100");
		return 2;
	}
	eo->ratio = (int)v;
	if (cli_get_long("evaluate", opts, "boot", 1000, &v))
		return 2;
	if (v < 2 || v > 1000000) {
		cli_err("evaluate", "--boot must be 2 to 1000000");
		return 2;
	}
	eo->nboot = (int)v;
	if (cli_get_long("evaluate", opts, "seed", 1, &v))
		return 2;
	eo->seed = (uint64_t)v;
	const char *cal = cli_get(opts, "caliper");
	if (cal) {
		char *end;
		double c = strtod(cal, &end);
		if (end == cal || *end || !(c > 0) || !isfinite(c)) {
			cli_err("evaluate", "--caliper must be a positive number of SDs, not '%s'", cal);
			return 2;
		}
		eo->caliper = c;
	}
	eo->replace = cli_get(opts, "replace") != NULL;
	return 0;
}

/* Splits a comma list into out (at most max names, copies in buf). Returns the count, -1 if too many. */
static int ev_split(const char *list, char *buf, size_t cap, char **out, int max)
{
	int n = 0;
	snprintf(buf, cap, "%s", list ? list : "");
	for (char *s = buf; *s;) {
		char *c = strchr(s, ',');
		if (c)
			*c = 0;
		while (*s == ' ')
			s++;
		size_t l = strlen(s);
		while (l && s[l - 1] == ' ')
			s[--l] = 0;
		if (*s) {
			if (n == max)
				return -1;
			out[n++] = s;
		}
		if (!c)
			break;
		s = c + 1;
	}
	return n;
}

static void print_est(FILE *f, const char *label, const struct yoc_eval_est *x)
{
	if (isnan(x->est))
		return;
	fprintf(f, "  %-34s %14.6f", label, x->est);
	if (!isnan(x->lo))
		fprintf(f, "   95%% CI %.6f to %.6f", x->lo, x->hi);
	fputc('\n', f);
}

static void ev_print_match(FILE *f, const struct yoc_eval_input *in,
			   const struct yoc_eval_match *m)
{
	fprintf(f, "people: %zu treated, %zu candidate controls\n", m->n_treated, m->n_controls);
	fprintf(f, "matched: %zu treated to %zu controls (%zu pairs)", m->nsets, m->n_controls_used,
		m->set_c0[m->nsets]);
	if (m->n_caliper || m->n_no_control)
		fprintf(f, "; dropped: %zu treated beyond the caliper, %zu with no control left",
			m->n_caliper, m->n_no_control);
	fputc('\n', f);
	if (m->notes[0])
		fprintf(f, "note: %s\n", m->notes);
	(void)in;
}

static void ev_print_balance(FILE *f, const struct yoc_eval_input *in,
			     const struct yoc_eval_balance *b)
{
	fprintf(f, "balance (standardised mean difference, variance ratio):\n");
	fprintf(f, "  %-28s %10s %10s %8s %8s\n", "covariate", "SMD before", "SMD after", "VR before",
		"VR after");
	for (int j = 0; j < in->p; j++)
		fprintf(f, "  %-28s %10.4f %10.4f %8.3f %8.3f%s\n", in->names[j], b[j].smd_before,
			b[j].smd_after, b[j].vr_before, b[j].vr_after,
			b[j].constant ? "  (constant)"
			: fabs(b[j].smd_after) > 0.1 ? "  |SMD| > 0.1" : "");
	double mx = yoc_eval_max_smd(b, in->p);
	if (mx > 0.1)
		fprintf(f, "warning: covariates still differ after matching (largest |SMD| %.3f > 0.1): "
			"the estimate is not for release\n", mx);
}

static void ev_print_effect(FILE *f, const char *outcome, const struct yoc_eval_effect *x,
			    int have_pre)
{
	fprintf(f, "effect on %s:\n", outcome);
	print_est(f, have_pre ? "matched difference in differences" : "matched difference (ATT)",
		  &x->did);
	if (have_pre)
		print_est(f, "naive before/after (treated only)", &x->naive);
	print_est(f, "unmatched treated vs rest", &x->unmatched);
}

/* ---- --csv ------------------------------------------------------------------ */

#define MAXCOV 256

static int parse_num(struct yoc_cell c, double *out)
{
	char buf[64];
	if (c.n == 0 || c.n >= sizeof buf)
		return -1;
	memcpy(buf, c.p, c.n);
	buf[c.n] = 0;
	char *end;
	double v = strtod(buf, &end);
	if (end == buf || *end || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

struct csvdata {
	size_t n, cap;
	int p;
	double *X, *y, *pre;
	unsigned char *treat;
	char **id;
	int64_t *stratum;
};

static void csvdata_free(struct csvdata *d)
{
	yoc_free(d->X);
	yoc_free(d->y);
	yoc_free(d->pre);
	yoc_free(d->treat);
	if (d->id)
		for (size_t i = 0; i < d->n; i++)
			yoc_free(d->id[i]);
	yoc_free(d->id);
	yoc_free(d->stratum);
}

static int grow(struct csvdata *d, int want_id)
{
	size_t cap = d->cap ? d->cap * 2 : 1024;
	double *X = yoc_realloc(d->X, cap * (size_t)(d->p ? d->p : 1) * sizeof *X);
	if (!X)
		return -1;
	d->X = X;
	double *y = yoc_realloc(d->y, cap * sizeof *y);
	if (!y)
		return -1;
	d->y = y;
	double *pre = yoc_realloc(d->pre, cap * sizeof *pre);
	if (!pre)
		return -1;
	d->pre = pre;
	unsigned char *t = yoc_realloc(d->treat, cap);
	if (!t)
		return -1;
	d->treat = t;
	if (want_id) {
		char **id = yoc_realloc(d->id, cap * sizeof *id);
		if (!id)
			return -1;
		d->id = id;
	}
	d->cap = cap;
	return 0;
}

static int write_pairs(const char *path, const struct csvdata *d, const struct yoc_eval_match *m,
		       struct yoc_error *e)
{
	struct yoc_afile af = {0};
	yoc_tmp_sweep(path, NULL);
	if (yoc_afile_open(&af, path, e))
		return 1;
	struct yoc_csvw w;
	yoc_csvw_init(&w, af.f, ',');
	const char *hdr[] = {"set", "treated", "control", "score_treated", "score_control"};
	for (int i = 0; i < 5; i++)
		yoc_csvw_str(&w, hdr[i]);
	yoc_csvw_end(&w);
	char buf[64], row[32];
	for (size_t s = 0; s < m->nsets; s++) {
		size_t t = m->set_t[s];
		for (size_t k = m->set_c0[s]; k < m->set_c0[s + 1]; k++) {
			size_t c = m->ctrl[k];
			yoc_csvw_int(&w, (int64_t)s + 1);
			if (d->id) {
				yoc_csvw_str(&w, d->id[t]);
				yoc_csvw_str(&w, d->id[c]);
			} else {
				snprintf(row, sizeof row, "%zu", t + 1);
				yoc_csvw_str(&w, row);
				snprintf(row, sizeof row, "%zu", c + 1);
				yoc_csvw_str(&w, row);
			}
			snprintf(buf, sizeof buf, "%.17g", m->ps[t]);
			yoc_csvw_str(&w, buf);
			snprintf(buf, sizeof buf, "%.17g", m->ps[c]);
			yoc_csvw_str(&w, buf);
			yoc_csvw_end(&w);
		}
	}
	if (yoc_csvw_status(&w)) {
		yoc_afile_abort(&af);
		yoc_error_set(e, YOC_EIO, path, 0, 0, "write failed");
		return 1;
	}
	return yoc_afile_commit(&af, e) ? 1 : 0;
}

static int write_balance(const char *path, const struct yoc_eval_input *in,
			 const struct yoc_eval_balance *b, struct yoc_error *e)
{
	struct yoc_afile af = {0};
	yoc_tmp_sweep(path, NULL);
	if (yoc_afile_open(&af, path, e))
		return 1;
	fprintf(af.f, "covariate,mean_treated,mean_control,mean_treated_matched,"
		      "mean_control_matched,smd_before,smd_after,vr_before,vr_after\n");
	for (int j = 0; j < in->p; j++)
		fprintf(af.f, "%s,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n", in->names[j],
			b[j].mean_t, b[j].mean_c, b[j].mean_t_m, b[j].mean_c_m, b[j].smd_before,
			b[j].smd_after, b[j].vr_before, b[j].vr_after);
	if (ferror(af.f)) {
		yoc_afile_abort(&af);
		yoc_error_set(e, YOC_EIO, path, 0, 0, "write failed");
		return 1;
	}
	return yoc_afile_commit(&af, e) ? 1 : 0;
}

static int run_csv(const struct cli_opt *opts)
{
	const char *path = cli_get(opts, "csv"), *tcol = cli_get(opts, "treat");
	const char *covs = cli_get(opts, "covariates"), *ocol = cli_get(opts, "outcome");
	const char *pcol = cli_get(opts, "pre"), *idcol = cli_get(opts, "id");
	const char *exact = cli_get(opts, "exact");
	if (!tcol || !covs || !ocol) {
		cli_err("evaluate", "--csv needs --treat COL, --covariates A,B,... and --outcome COL");
		return 2;
	}
	struct yoc_eval_opts eo;
	if (ev_common(opts, &eo))
		return 2;
	static char cbuf[8192], ebuf[2048];
	char *cov[MAXCOV], *ex[MAXCOV];
	int p = ev_split(covs, cbuf, sizeof cbuf, cov, MAXCOV);
	int nex = ev_split(exact, ebuf, sizeof ebuf, ex, MAXCOV);
	if (p <= 0 || nex < 0) {
		cli_err("evaluate", "--covariates needs 1 to %d column names", MAXCOV);
		return 2;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_csv *r = NULL;
	struct csvdata d = {0};
	struct yoc_eval_match m = {0};
	struct yoc_eval_balance *bal = NULL;
	int ci[MAXCOV], ei[MAXCOV], rc = 1;
	d.p = p;
	if (yoc_csv_open(&r, path, NULL, &e)) {
		cli_err_rec("evaluate", &e);
		return 1;
	}
	int it = yoc_csv_col(r, tcol), io = yoc_csv_col(r, ocol);
	int ip = pcol ? yoc_csv_col(r, pcol) : -2, iid = idcol ? yoc_csv_col(r, idcol) : -2;
	const char *missing = it < 0 ? tcol : io < 0 ? ocol : ip == -1 ? pcol : iid == -1 ? idcol : NULL;
	for (int j = 0; j < p && !missing; j++)
		if ((ci[j] = yoc_csv_col(r, cov[j])) < 0)
			missing = cov[j];
	for (int k = 0; k < nex && !missing; k++) {
		ei[k] = -1;
		for (int j = 0; j < p; j++)
			if (strcmp(cov[j], ex[k]) == 0)
				ei[k] = j;
		if (ei[k] < 0) {
			cli_err("evaluate", "--exact %s: not one of the covariates", ex[k]);
			goto done;
		}
	}
	if (missing) {
		cli_err("evaluate", "%s: no column '%s'", path, missing);
		goto done;
	}
	struct yoc_csv_row row;
	size_t bad = 0, badtreat = 0;
	long first_bad = 0;
	int got;
	while ((got = yoc_csv_next(r, &row, &e)) != 0) {
		if (got < 0) {
			if (row.fault == YOC_CSV_OK) {
				cli_err_rec("evaluate", &e);
				goto done;
			}
			if (!first_bad)
				first_bad = row.line;
			bad++;
			continue;
		}
		if (d.n == d.cap && grow(&d, iid >= 0)) {
			cli_err("evaluate", "out of memory");
			goto done;
		}
		double tv, yv, pv = 0, *x = d.X + d.n * (size_t)p;
		int ok = (size_t)it < row.ncells && parse_num(row.cells[it], &tv) == 0 &&
			 (size_t)io < row.ncells && parse_num(row.cells[io], &yv) == 0 &&
			 (ip < 0 || ((size_t)ip < row.ncells && parse_num(row.cells[ip], &pv) == 0)) &&
			 (iid < 0 || (size_t)iid < row.ncells);
		for (int j = 0; ok && j < p; j++)
			ok = (size_t)ci[j] < row.ncells && parse_num(row.cells[ci[j]], &x[j]) == 0;
		if (!ok) {
			if (!first_bad)
				first_bad = row.line;
			bad++;
			continue;
		}
		if (tv != 0 && tv != 1) {
			badtreat++;
			if (!first_bad)
				first_bad = row.line;
			continue;
		}
		if (iid >= 0) {
			const struct yoc_cell *c = &row.cells[iid];
			char *s = yoc_malloc(c->n + 1);
			if (!s) {
				cli_err("evaluate", "out of memory");
				goto done;
			}
			memcpy(s, c->p, c->n);
			s[c->n] = 0;
			d.id[d.n] = s;
		}
		d.treat[d.n] = (unsigned char)tv;
		d.y[d.n] = yv;
		d.pre[d.n] = pv;
		d.n++;
	}
	if (bad || badtreat)
		fprintf(stderr, "yoc evaluate: %s: %zu rows dropped (%zu with an empty or non-numeric "
			"value, %zu with %s not 0 or 1; first at line %ld)\n", path, bad + badtreat, bad,
			badtreat, tcol, first_bad);
	if (nex) {
		d.stratum = yoc_malloc((d.n ? d.n : 1) * sizeof *d.stratum);
		if (!d.stratum) {
			cli_err("evaluate", "out of memory");
			goto done;
		}
		for (size_t i = 0; i < d.n; i++) {
			uint64_t h = 1469598103934665603ULL;
			for (int k = 0; k < nex; k++) {
				double v = d.X[i * (size_t)p + ei[k]];
				uint64_t u;
				memcpy(&u, &v, sizeof u);
				h = (h ^ u) * 1099511628211ULL;
				h ^= h >> 29;
			}
			d.stratum[i] = (int64_t)(h >> 1);
		}
	}
	struct yoc_eval_input in = {d.n, p, (const char *const *)cov, d.X, d.treat,
				    (const char *const *)d.id, d.stratum};
	if (yoc_eval_match(&in, &eo, &m, &e)) {
		cli_err_rec("evaluate", &e);
		goto done;
	}
	bal = yoc_malloc((size_t)p * sizeof *bal);
	if (!bal) {
		cli_err("evaluate", "out of memory");
		goto done;
	}
	yoc_eval_balance(&in, &m, bal);
	struct yoc_eval_effect ef;
	if (yoc_eval_effect(&in, &m, pcol ? d.pre : NULL, d.y, &eo, &ef, &e)) {
		cli_err_rec("evaluate", &e);
		goto done;
	}
	const char *pairs = cli_get(opts, "pairs"), *bpath = cli_get(opts, "balance");
	if (pairs && write_pairs(pairs, &d, &m, &e)) {
		cli_err_rec("evaluate", &e);
		goto done;
	}
	if (bpath && write_balance(bpath, &in, bal, &e)) {
		cli_err_rec("evaluate", &e);
		goto done;
	}
	if (cli_get(opts, "json")) {
		printf("{\"treated\": %zu, \"controls\": %zu, \"matched_sets\": %zu, "
		       "\"controls_used\": %zu, \"dropped_caliper\": %zu, \"dropped_no_control\": %zu, "
		       "\"estimate\": %.17g, \"lo\": %.17g, \"hi\": %.17g, \"max_smd_after\": %.17g}\n",
		       m.n_treated, m.n_controls, m.nsets, m.n_controls_used, m.n_caliper,
		       m.n_no_control, ef.did.est, ef.did.lo, ef.did.hi, yoc_eval_max_smd(bal, p));
	} else {
		ev_print_match(stdout, &in, &m);
		ev_print_balance(stdout, &in, bal);
		ev_print_effect(stdout, ocol, &ef, pcol != NULL);
		printf("estimate %.17g\n", ef.did.est);
	}
	rc = 0;
done:
	yoc_free(bal);
	yoc_eval_match_free(&m);
	csvdata_free(&d);
	yoc_csv_close(r);
	return rc;
}

static int run_db(const struct cli_opt *opts)
{
	cli_err("evaluate", "--db: not yet");
	return 2;
}

static int run(int argc, char **argv)
{
	struct cli_opt opts[] = {
		{"csv", 1, NULL}, {"treat", 1, NULL}, {"covariates", 1, NULL},
		{"outcome", 1, NULL}, {"pre", 1, NULL}, {"id", 1, NULL}, {"pairs", 1, NULL},
		{"balance", 1, NULL}, {"db", 1, NULL}, {"treated", 1, NULL}, {"start", 1, NULL},
		{"pre-years", 1, NULL}, {"post-years", 1, NULL}, {"other-practices", 0, NULL},
		{"truth", 1, NULL}, {"key", 1, NULL}, {"method", 1, NULL}, {"ratio", 1, NULL},
		{"caliper", 1, NULL}, {"exact", 1, NULL}, {"replace", 0, NULL}, {"boot", 1, NULL},
		{"seed", 1, NULL}, {"json", 0, NULL}, {NULL, 0, NULL}};
	int npos = 0;
	if (cli_parse("evaluate", argc, argv, opts, &npos))
		return 2;
	if (npos) {
		cli_err("evaluate", "unexpected argument '%s'", argv[1]);
		return 2;
	}
	int has_csv = cli_get(opts, "csv") != NULL, has_db = cli_get(opts, "db") != NULL;
	if (has_csv == has_db) {
		cli_err("evaluate", "give one of --db DIR or --csv FILE (see yoc help evaluate)");
		return 2;
	}
	return has_csv ? run_csv(opts) : run_db(opts);
}

const struct cli_verb cli_verb_evaluate = {
	"evaluate", "effect of a service: matched cohorts, difference in differences", usage_text,
	run
};

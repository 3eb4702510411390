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
#include <sys/stat.h>

#include <sqlite3.h>

#include "cli/cli.h"
#include "eval/eval.h"
#include "pseudo/pseudo.h"
#include "store/store.h"
#include "yoc/csv.h"
#include "yoc/date.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc evaluate --db DIR --treated FILE|COHORT [--start DATE] [--pre-years N]\n"
	"                    [--post-years N] [--covariates A,B,...] [--exact VARS]\n"
	"                    [--other-practices] [--truth DIR --key FILE] [common options]\n"
	"       yoc evaluate --csv FILE --treat COL --covariates A,B,... --outcome COL\n"
	"                    [--pre COL] [--id COL] [--exact VARS] [--pairs FILE.csv]\n"
	"                    [--balance FILE.csv] [common options]\n"
	"Common options: [--method nearest|optimal] [--ratio K] [--caliper C] [--replace]\n"
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
	"--method   nearest (greedy, from the highest score down; the default) or\n"
	"           optimal (as many treated people, then pairs, as the caliper\n"
	"           allows, then the least total score distance; no replacement)\n"
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
	if (meth && strcmp(meth, "optimal") == 0) {
		eo->method = YOC_EVAL_OPTIMAL;
	} else if (meth && strcmp(meth, "nearest") != 0) {
		if (strcmp(meth, "full") == 0)
			cli_err("evaluate", "--method full is not available: use optimal (pair matching "
				"of least total distance) or nearest (docs/evaluation.md)");
		else
			cli_err("evaluate", "--method must be nearest or optimal, not '%s'", meth);
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
	if (eo->replace && eo->method == YOC_EVAL_OPTIMAL) {
		cli_err("evaluate", "--method optimal matches without replacement: with --replace "
			"the optimum gives each treated person its nearest controls, which is "
			"--method nearest --replace");
		return 2;
	}
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
	fprintf(f, "total distance: %.17g\n", m->distance);
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
		       "\"distance\": %.17g, \"estimate\": %.17g, \"lo\": %.17g, \"hi\": %.17g, "
		       "\"max_smd_after\": %.17g}\n",
		       m.n_treated, m.n_controls, m.nsets, m.n_controls_used, m.n_caliper,
		       m.n_no_control, m.distance, ef.did.est, ef.did.lo, ef.did.hi, yoc_eval_max_smd(bal, p));
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

/* ---- --db ------------------------------------------------------------------ */

/* The treated list and, from a synthetic pilot's truth, the true effects. */
struct tlist {
	size_t n, cap;
	char **id;
	struct yoc_map truth;        /* pseudo_id -> index into eff */
	double (*eff)[YOC_EVAL_NOUT]; /* per enrolled person: with - without, mean over post years */
	size_t neff;
	int32_t start;               /* the truth's enrolment day */
	double service;              /* service cost a year per enrolled person (pounds) */
};

static void tlist_free(struct tlist *t)
{
	for (size_t i = 0; i < t->n; i++)
		yoc_free(t->id[i]);
	yoc_free(t->id);
	yoc_free(t->eff);
	yoc_map_free(&t->truth);
}

static int tlist_add(struct tlist *t, const char *s, size_t len)
{
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 1024;
		char **id = yoc_realloc(t->id, nc * sizeof *id);
		if (!id)
			return -1;
		t->id = id;
		t->cap = nc;
	}
	char *c = yoc_malloc(len + 1);
	if (!c)
		return -1;
	memcpy(c, s, len);
	c[len] = 0;
	t->id[t->n++] = c;
	return 0;
}

/*
** The members of a cohort (everyone ever on its register, docs/cohorts.md);
** with *start 0, *start becomes the cohort's first join date.
*/
static int read_treated_cohort(sqlite3 *db, const char *name, struct tlist *t, int32_t *start,
			       struct yoc_error *e)
{
	sqlite3_stmt *q = NULL;
	int rc = 0;
	if (sqlite3_prepare_v2(db, "SELECT pseudo_id, min(join_date) FROM cohort_register"
				   " WHERE cohort = ?1 GROUP BY pseudo_id ORDER BY pseudo_id",
			       -1, &q, NULL) != SQLITE_OK) {
		sqlite3_finalize(q);
		return yoc_error_set(e, YOC_ENOTFOUND, name, 0, 0,
				     "not a file, and the dataset has no cohort register "
				     "(yoc cohort enrol makes one)");
	}
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	int32_t first = 0;
	int st;
	while (!rc && (st = sqlite3_step(q)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(q, 0);
		const char *j = (const char *)sqlite3_column_text(q, 1);
		int32_t d;
		if (id && tlist_add(t, id, strlen(id)))
			rc = yoc_error_set(e, YOC_ENOMEM, name, 0, 0, "out of memory");
		if (j && yoc_date_parse(j, strlen(j), &d) == YOC_DATE_VALID && (!first || d < first))
			first = d;
	}
	sqlite3_finalize(q);
	if (!rc && t->n == 0)
		rc = yoc_error_set(e, YOC_ENOTFOUND, name, 0, 0,
				   "not a file, and no cohort of that name has members "
				   "(yoc cohort list)");
	if (!rc && !*start)
		*start = first;
	return rc;
}

/* A CSV with a pseudo_id column (the first column when none is so named). */
static int read_treated_file(const char *path, struct tlist *t, struct yoc_error *e)
{
	yoc_csv *r = NULL;
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
		if (tlist_add(t, row.cells[col].p, row.cells[col].n)) {
			rc = yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "out of memory");
			break;
		}
	}
	if (got < 0 && !rc)
		rc = got;
	yoc_csv_close(r);
	if (!rc && t->n == 0)
		rc = yoc_error_set(e, YOC_EDATA, path, 0, 0, "no pseudo_ids in the treated list");
	return rc;
}

/* truth/pilot.csv of yoc synth: the enrolled, and their true effects over the post years. */
static int read_truth(const char *dir, const char *keypath, int start_fy, int post_years,
		      int want_list, struct tlist *t, struct yoc_error *e)
{
	struct yoc_pilot_truth pt;
	int rc = yoc_pilot_truth_read(dir, keypath, &pt, e);
	if (rc)
		return rc;
	t->start = pt.start;
	if (start_fy == 0)
		start_fy = yoc_fyear_of(t->start);
	if ((rc = yoc_map_init(&t->truth, pt.n ? pt.n : 1)) != 0) {
		rc = yoc_error_set(e, rc, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	t->eff = yoc_calloc(pt.n ? pt.n : 1, sizeof *t->eff);
	if (!t->eff) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < pt.n; i++)
		if (yoc_map_put(&t->truth, pt.id[i], strlen(pt.id[i]), i, NULL) ||
		    (want_list && tlist_add(t, pt.id[i], strlen(pt.id[i])))) {
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			goto cleanup;
		}
	t->neff = pt.n;
	for (size_t j = 0; j < pt.nrow; j++) {
		const struct yoc_pilot_truth_row *r = &pt.row[j];
		if (r->fyear < start_fy || r->fyear >= start_fy + post_years)
			continue;
		for (int k = 0; k < YOC_EVAL_NOUT; k++)
			if (pt.have[k])
				t->eff[r->person][k] += (r->with[k] - r->without[k]) / post_years;
		t->service += r->service;
	}
	if (t->neff)
		t->service /= (double)t->neff * post_years;
cleanup:
	yoc_pilot_truth_free(&pt);
	return rc;
}

static int exec_sql(sqlite3 *db, const char *sql, struct yoc_error *e)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", msg ? msg : "SQL failed");
		sqlite3_free(msg);
		return YOC_EIO;
	}
	return 0;
}

struct result {
	const struct yoc_eval_data *d;
	const struct yoc_eval_match *m;
	const struct yoc_eval_balance *bal;
	const struct yoc_eval_effect *ef;    /* YOC_EVAL_NOUT */
	const struct yoc_eval_trend *tr;     /* YOC_EVAL_NOUT, or NULL */
	const double *truth, *truth_all;     /* YOC_EVAL_NOUT, or NULL */
	double service;
	int release;
	char why[512];
	const struct yoc_eval_opts *eo;
	int32_t start;
	int start_fy;
};

static void bind_num(sqlite3_stmt *st, int i, double v)
{
	if (isnan(v))
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_double(st, i, v);
}

/* The eval_* tables of yoc.db, replaced in one transaction (docs/evaluation.md). */
static int write_tables(sqlite3 *db, const struct result *R, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc;
	if ((rc = exec_sql(db,
			   "BEGIN IMMEDIATE;"
			   "DROP TABLE IF EXISTS eval_run; DROP TABLE IF EXISTS eval_balance;"
			   "DROP TABLE IF EXISTS eval_outcome; DROP TABLE IF EXISTS eval_trend;"
			   "DROP TABLE IF EXISTS eval_pairs;"
			   "CREATE TABLE eval_run(key TEXT PRIMARY KEY, value TEXT);"
			   "CREATE TABLE eval_balance(ord INTEGER, covariate TEXT, mean_treated REAL,"
			   " mean_control REAL, mean_treated_matched REAL, mean_control_matched REAL,"
			   " smd_before REAL, smd_after REAL, vr_before REAL, vr_after REAL);"
			   "CREATE TABLE eval_outcome(ord INTEGER, outcome TEXT, treated_pre REAL,"
			   " treated_post REAL, control_pre REAL, control_post REAL, did REAL,"
			   " did_lo REAL, did_hi REAL, naive REAL, naive_lo REAL, naive_hi REAL,"
			   " unmatched REAL, unmatched_lo REAL, unmatched_hi REAL, placebo REAL,"
			   " placebo_lo REAL, placebo_hi REAL, trend_ok INTEGER, truth REAL,"
			   " truth_all REAL, sets INTEGER);"
			   "CREATE TABLE eval_trend(outcome TEXT, fyear TEXT, treated REAL, control REAL);"
			   "CREATE TABLE eval_pairs(set_id INTEGER, treated TEXT, control TEXT,"
			   " score_treated REAL, score_control REAL);", e)))
		return rc;
	const struct yoc_eval_data *d = R->d;
	const struct yoc_eval_match *m = R->m;
	char v[2048];
	if (sqlite3_prepare_v2(db, "INSERT INTO eval_run VALUES (?,?)", -1, &st, NULL) != SQLITE_OK)
		goto sqlfail;
	char sd[16];
	yoc_date_format(R->start, sd);
#define KV(k, ...)                                                      \
	do {                                                             \
		snprintf(v, sizeof v, __VA_ARGS__);                      \
		sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);          \
		sqlite3_bind_text(st, 2, v, -1, SQLITE_TRANSIENT);       \
		if (sqlite3_step(st) != SQLITE_DONE)                     \
			goto sqlfail;                                    \
		sqlite3_reset(st);                                       \
	} while (0)
	KV("start", "%s", sd);
	KV("pre_years", "%d", d->pre_years);
	KV("post_years", "%d", d->post_years);
	KV("method", "%s", R->eo->method == YOC_EVAL_OPTIMAL ? "optimal" : "nearest");
	KV("ratio", "%d", R->eo->ratio);
	KV("caliper", "%g", R->eo->caliper);
	KV("replace", "%d", R->eo->replace);
	KV("nboot", "%d", R->eo->nboot);
	KV("seed", "%llu", (unsigned long long)R->eo->seed);
	KV("listed", "%zu", d->cnt.listed);
	KV("not_found", "%zu", d->cnt.not_found);
	KV("no_baseline", "%zu", d->cnt.no_baseline);
	KV("died_before", "%zu", d->cnt.died_before);
	KV("missing_covariate", "%zu", d->cnt.missing_covariate);
	KV("treated", "%zu", d->cnt.treated);
	KV("controls", "%zu", d->cnt.controls);
	KV("other_practice", "%zu", d->cnt.other_practice);
	KV("matched_treated", "%zu", m->nsets);
	KV("matched_controls", "%zu", m->n_controls_used);
	KV("dropped_caliper", "%zu", m->n_caliper);
	KV("dropped_no_control", "%zu", m->n_no_control);
	KV("max_smd_after", "%.6f", yoc_eval_max_smd(R->bal, d->in.p));
	KV("release", "%d", R->release);
	KV("why", "%s", R->why);
	KV("notes", "%s", m->notes);
	KV("truth", "%d", R->truth != NULL);
	KV("service_cost", "%.2f", R->service);
#undef KV
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "INSERT INTO eval_balance VALUES (?,?,?,?,?,?,?,?,?,?)", -1, &st,
			       NULL) != SQLITE_OK)
		goto sqlfail;
	for (int j = 0; j < d->in.p; j++) {
		const struct yoc_eval_balance *b = &R->bal[j];
		sqlite3_bind_int(st, 1, j);
		sqlite3_bind_text(st, 2, d->in.names[j], -1, SQLITE_STATIC);
		double vals[8] = {b->mean_t, b->mean_c, b->mean_t_m, b->mean_c_m, b->smd_before,
				  b->smd_after, b->vr_before, b->vr_after};
		for (int k = 0; k < 8; k++)
			bind_num(st, 3 + k, vals[k]);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto sqlfail;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "INSERT INTO eval_outcome VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
			       "?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK)
		goto sqlfail;
	for (int k = 0; k < YOC_EVAL_NOUT; k++) {
		const struct yoc_eval_effect *x = &R->ef[k];
		sqlite3_bind_int(st, 1, k);
		sqlite3_bind_text(st, 2, yoc_eval_outcomes[k], -1, SQLITE_STATIC);
		double vals[16] = {x->t_pre, x->t_post, x->c_pre, x->c_post, x->did.est, x->did.lo,
				   x->did.hi, x->naive.est, x->naive.lo, x->naive.hi, x->unmatched.est,
				   x->unmatched.lo, x->unmatched.hi,
				   R->tr ? R->tr[k].placebo.est : NAN, R->tr ? R->tr[k].placebo.lo : NAN,
				   R->tr ? R->tr[k].placebo.hi : NAN};
		for (int i = 0; i < 16; i++)
			bind_num(st, 3 + i, vals[i]);
		if (R->tr)
			sqlite3_bind_int(st, 19, R->tr[k].ok);
		else
			sqlite3_bind_null(st, 19);
		bind_num(st, 20, R->truth ? R->truth[k] : NAN);
		bind_num(st, 21, R->truth_all ? R->truth_all[k] : NAN);
		sqlite3_bind_int64(st, 22, (sqlite3_int64)m->nsets);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto sqlfail;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	/* yearly means of treated and matched controls, pre and post (the trend chart) */
	if (sqlite3_prepare_v2(db, "INSERT INTO eval_trend VALUES (?,?,?,?)", -1, &st, NULL) !=
	    SQLITE_OK)
		goto sqlfail;
	for (int k = 0; k < YOC_EVAL_NOUT; k++) {
		for (int y = 0; y <= d->pre_years; y++) {
			const double *val = y < d->pre_years ? d->pre[y][k] : d->post[k];
			long double ts = 0, cs = 0, cw = 0;
			for (size_t s = 0; s < m->nsets; s++)
				ts += val[m->set_t[s]];
			for (size_t i = 0; i < d->in.n; i++)
				if (!d->treat[i] && m->w[i] > 0) {
					cs += m->w[i] * val[i];
					cw += m->w[i];
				}
			char fy[16];
			yoc_fyear_format(R->start_fy - d->pre_years + y, fy);
			if (y == d->pre_years && d->post_years > 1)
				snprintf(fy, sizeof fy, "post");
			sqlite3_bind_text(st, 1, yoc_eval_outcomes[k], -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, fy, -1, SQLITE_TRANSIENT);
			sqlite3_bind_double(st, 3, (double)(ts / m->nsets));
			sqlite3_bind_double(st, 4, (double)(cs / cw));
			if (sqlite3_step(st) != SQLITE_DONE)
				goto sqlfail;
			sqlite3_reset(st);
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "INSERT INTO eval_pairs VALUES (?,?,?,?,?)", -1, &st, NULL) !=
	    SQLITE_OK)
		goto sqlfail;
	for (size_t s = 0; s < m->nsets; s++) {
		size_t t = m->set_t[s];
		for (size_t k = m->set_c0[s]; k < m->set_c0[s + 1]; k++) {
			size_t c = m->ctrl[k];
			sqlite3_bind_int64(st, 1, (sqlite3_int64)s + 1);
			sqlite3_bind_text(st, 2, d->ids[t], -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, d->ids[c], -1, SQLITE_STATIC);
			sqlite3_bind_double(st, 4, m->ps[t]);
			sqlite3_bind_double(st, 5, m->ps[c]);
			if (sqlite3_step(st) != SQLITE_DONE)
				goto sqlfail;
			sqlite3_reset(st);
		}
	}
	sqlite3_finalize(st);
	return exec_sql(db, "COMMIT", e);
sqlfail:
	yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return YOC_EIO;
}

static int run_db(const struct cli_opt *opts)
{
	const char *dir = cli_get(opts, "db"), *tr = cli_get(opts, "treated");
	const char *truth = cli_get(opts, "truth"), *key = cli_get(opts, "key");
	const char *sstart = cli_get(opts, "start");
	struct yoc_eval_opts eo;
	if (ev_common(opts, &eo))
		return 2;
	long pre, post;
	if (cli_get_long("evaluate", opts, "pre-years", 2, &pre) ||
	    cli_get_long("evaluate", opts, "post-years", 1, &post))
		return 2;
	if (pre < 1 || pre > YOC_EVAL_MAXYEARS || post < 1 || post > YOC_EVAL_MAXYEARS) {
		cli_err("evaluate", "--pre-years and --post-years must be 1 to %d", YOC_EVAL_MAXYEARS);
		return 2;
	}
	if (!tr && !truth) {
		cli_err("evaluate", "--db needs --treated FILE (or --truth DIR of a synthetic pilot)");
		return 2;
	}
	int32_t start = 0;
	if (sstart && yoc_date_parse(sstart, strlen(sstart), &start) != YOC_DATE_VALID) {
		cli_err("evaluate", "--start wants a date (YYYY-MM-DD), not '%s'", sstart);
		return 2;
	}
	/* --treated names a file, or else a cohort of the dataset */
	struct stat tst;
	int tr_cohort = tr && stat(tr, &tst) != 0;
	if (!sstart && !truth && !tr_cohort) {
		cli_err("evaluate", "--db needs --start DATE, the first day of the service");
		return 2;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	struct tlist T;
	memset(&T, 0, sizeof T);
	yoc_store *s = NULL;
	struct yoc_eval_data d;
	struct yoc_eval_match m;
	struct yoc_eval_balance *bal = NULL;
	struct yoc_eval_effect ef[YOC_EVAL_NOUT];
	struct yoc_eval_trend trd[YOC_EVAL_NOUT];
	double tru[YOC_EVAL_NOUT], tall[YOC_EVAL_NOUT];
	memset(&d, 0, sizeof d);
	memset(&m, 0, sizeof m);
	int rc = 1;
	if (tr_cohort && (yoc_store_open(&s, dir, YOC_STORE_WRITE, &e) ||
			  read_treated_cohort(yoc_store_db(s), tr, &T, &start, &e))) {
		cli_err_rec("evaluate", &e);
		goto done;
	}
	if (tr && !tr_cohort && read_treated_file(tr, &T, &e)) {
		cli_err_rec("evaluate", &e);
		goto done;
	}
	if (truth && read_truth(truth, key, start ? yoc_fyear_of(start) : 0, (int)post, !tr, &T, &e)) {
		cli_err_rec("evaluate", &e);
		goto done;
	}
	if (!start)
		start = T.start;
	if (!start) {
		cli_err("evaluate", "%s: the truth names no enrolment date; give --start", truth);
		goto done;
	}
	if (!s && yoc_store_open(&s, dir, YOC_STORE_WRITE, &e)) {
		cli_err_rec("evaluate", &e);
		goto done;
	}
	struct yoc_eval_db_opts dbo = {yoc_fyear_of(start), start, (int)pre, (int)post,
				       cli_get(opts, "covariates"), cli_get(opts, "exact"),
				       cli_get(opts, "other-practices") != NULL};
	struct yoc_eval_treated tl = {T.n, (const char *const *)T.id};
	if (yoc_eval_data_load(yoc_store_db(s), &dbo, &tl, &d, &e)) {
		cli_err_rec("evaluate", &e);
		goto done;
	}
	const struct yoc_eval_counts *k = &d.cnt;
	printf("treated list: %zu people; left out: %zu not in the dataset, %zu with no baseline "
	       "year, %zu died in the baseline year, %zu with a covariate unknown; %zu treated "
	       "people evaluated\n", k->listed, k->not_found, k->no_baseline, k->died_before,
	       k->missing_covariate, k->treated);
	printf("controls: %zu people never treated%s (%zu left out in other practices, %zu with a "
	       "covariate unknown)\n", k->controls,
	       dbo.other_practices ? " in any practice" : " in the treated people's practices",
	       k->other_practice, k->missing_covariate_controls);
	if (k->treated == 0) {
		cli_err("evaluate", "no treated person can be evaluated (see the counts above)");
		goto done;
	}
	if (yoc_eval_match(&d.in, &eo, &m, &e)) {
		cli_err_rec("evaluate", &e);
		goto done;
	}
	ev_print_match(stdout, &d.in, &m);
	bal = yoc_malloc((size_t)d.in.p * sizeof *bal);
	if (!bal) {
		cli_err("evaluate", "out of memory");
		goto done;
	}
	yoc_eval_balance(&d.in, &m, bal);
	ev_print_balance(stdout, &d.in, bal);
	int trend_bad = 0;
	for (int o = 0; o < YOC_EVAL_NOUT; o++) {
		if (yoc_eval_effect(&d.in, &m, d.pre[pre - 1][o], d.post[o], &eo, &ef[o], &e) ||
		    (pre >= 2 && yoc_eval_trend(&d.in, &m, d.pre[0][o], d.pre[pre - 1][o], &eo, &trd[o], &e))) {
			cli_err_rec("evaluate", &e);
			goto done;
		}
		/* the gate looks at the headline outcomes */
		if (pre >= 2 && !trd[o].ok && (o == 0 || o == 8))
			trend_bad = 1;
	}
	if (truth) {
		for (int o = 0; o < YOC_EVAL_NOUT; o++) {
			long double sm = 0, sa = 0;
			for (size_t st = 0; st < m.nsets; st++) {
				const char *id = d.ids[m.set_t[st]];
				uint64_t *ix = yoc_map_get(&T.truth, id, strlen(id));
				sm += ix ? T.eff[*ix][o] : 0.0;
			}
			for (size_t i = 0; i < T.neff; i++)
				sa += T.eff[i][o];
			tru[o] = (double)(sm / m.nsets);
			tall[o] = T.neff ? (double)(sa / T.neff) : NAN;
		}
		tru[YOC_EVAL_NOUT - 1] = tall[YOC_EVAL_NOUT - 1] = 0; /* the pilot changes no deaths */
	}
	double mx = yoc_eval_max_smd(bal, d.in.p);
	struct result R = {&d, &m, bal, ef, pre >= 2 ? trd : NULL, truth ? tru : NULL,
			   truth ? tall : NULL, T.service, 1, "", &eo, start, yoc_fyear_of(start)};
	if (mx > 0.1) {
		R.release = 0;
		snprintf(R.why, sizeof R.why, "a covariate differs after matching (largest |SMD| %.3f > 0.1)",
			 mx);
	}
	if (trend_bad) {
		size_t l = strlen(R.why);
		R.release = 0;
		snprintf(R.why + l, sizeof R.why - l, "%sthe pre-period trends of treated and controls "
			 "differ", l ? "; " : "");
	}
	if (pre < 2) {
		size_t l = strlen(R.why);
		snprintf(R.why + l, sizeof R.why - l, "%strends not checked (one pre year)", l ? "; " : "");
	}
	for (int o = 0; o < YOC_EVAL_NOUT; o++) {
		ev_print_effect(stdout, yoc_eval_outcomes[o], &ef[o], 1);
		if (truth)
			printf("  %-34s %14.6f\n", "truth (matched treated)", tru[o]);
		if (pre >= 2)
			printf("  %-34s %14.6f   95%% CI %.6f to %.6f%s\n", "pre-period placebo",
			       trd[o].placebo.est, trd[o].placebo.lo, trd[o].placebo.hi,
			       trd[o].ok ? "" : "  trends differ");
	}
	printf("%s%s%s\n", R.release ? "result: for release" : "result: NOT FOR RELEASE",
	       R.why[0] ? ": " : "", R.why);
	if (write_tables(yoc_store_db(s), &R, &e)) {
		cli_err_rec("evaluate", &e);
		goto done;
	}
	rc = 0;
done:
	yoc_free(bal);
	yoc_eval_match_free(&m);
	yoc_eval_data_free(&d);
	yoc_store_close(s);
	tlist_free(&T);
	return rc;
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

/*
** yoc risk: fit, score and validate the emergency admission risk model
** (src/risk). Option parsing, the feature file's default location, the
** model file, and summaries on stdout; the work is src/risk.
*/
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "risk/risk.h"
#include "store/store.h"
#include "yoc/date.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc risk fit --db DIR [--year FY] [--ridge L] [--features FILE]\n"
	"                    [--min-events-per-term N] [--out MODEL.json]\n"
	"       yoc risk score --db DIR [--model MODEL.json] [--year FY] [--tiers CUTS]\n"
	"       yoc risk validate --db DIR [--ridge L] [--features FILE]\n"
	"                         [--min-events-per-term N] [--json]\n\n"
	"Risk of one or more emergency admissions, or death, in the next financial\n"
	"year, by logistic regression on features of person_year (docs/risk.md).\n\n"
	"fit       fits on the features of year FY (default: the second-latest analysed\n"
	"          year) and the outcome in FY+1; people who died in FY are left out, a\n"
	"          death in FY+1 counts as the outcome. Stores the model in the catalog\n"
	"          (table risk_model) and with --out writes it as JSON.\n"
	"score     scores every person-year of FY (default: the latest analysed year)\n"
	"          with the catalog's latest model or --model FILE; replaces that\n"
	"          year's rows of risk_score (probability, rank, percentile, tier, the\n"
	"          three largest contributions).\n"
	"validate  temporal validation: fits on the latest-but-two year, evaluates on\n"
	"          the latest-but-one (outcome in the latest) with cost_total and\n"
	"          ltc_count as comparators; stores risk_validation.\n\n"
	"  --year FY                financial year, 2022/23\n"
	"  --ridge L                ridge penalty (default 0)\n"
	"  --features FILE          feature list (default data/risk_features.txt)\n"
	"  --min-events-per-term N  events needed per term (default 10)\n"
	"  --tiers CUTS             tier cut points, percent of the year (default\n"
	"                           0.5,2,5,10,20: top0.5, 0.5-2, 2-5, 5-10, 10-20, rest)\n"
	"  --json                   validate: print the metrics as JSON\n";

struct common {
	const char *dir;
	double ridge, min_epv;
	struct yoc_risk_featlist fl;
	yoc_store *s;
	sqlite3 *db;
	int years[64], ny;
};

static int parse_double(const char *verb, const char *txt, double dflt, double *out)
{
	*out = dflt;
	if (!txt)
		return 0;
	char *end;
	*out = strtod(txt, &end);
	if (end == txt || *end || !(*out >= 0) || !isfinite(*out)) {
		cli_err(verb, "'%s': want a number >= 0", txt);
		return 2;
	}
	return 0;
}

static int open_common(const char *verb, struct cli_opt *opts, int need_feat, struct common *c)
{
	struct yoc_error e;
	yoc_error_clear(&e);
	memset(c, 0, sizeof *c);
	c->dir = cli_get(opts, "db");
	if (!c->dir) {
		cli_err(verb, "--db DIR is required; see 'yoc help risk'");
		return 2;
	}
	if (parse_double(verb, cli_get(opts, "ridge"), 0, &c->ridge) ||
	    parse_double(verb, cli_get(opts, "min-events-per-term"), 10, &c->min_epv))
		return 2;
	if (need_feat) {
		char path[PATH_MAX + 32], dbuf[PATH_MAX];
		const char *dd;
		if (cli_get(opts, "features"))
			snprintf(path, sizeof path, "%s", cli_get(opts, "features"));
		else if (!(dd = cli_data_dir(NULL, dbuf, sizeof dbuf)) ||
			 snprintf(path, sizeof path, "%s/risk_features.txt", dd) >= (int)sizeof path) {
			cli_err(verb, "cannot find data/risk_features.txt; give --features FILE "
				"or set YOC_DATA");
			return 1;
		}
		if (yoc_risk_features_read(path, &c->fl, &e)) {
			cli_err_rec(verb, &e);
			return 1;
		}
	}
	if (yoc_store_open(&c->s, c->dir, YOC_STORE_WRITE, &e)) {
		cli_err_rec(verb, &e);
		return 1;
	}
	c->db = yoc_store_db(c->s);
	if (yoc_risk_years(c->db, c->years, 64, &c->ny, &e)) {
		cli_err_rec(verb, &e);
		return 1;
	}
	if (c->ny == 0) {
		cli_err(verb, "%s: no analysed years: run yoc analyse first", c->dir);
		return 1;
	}
	return 0;
}

static int get_year(const char *verb, struct cli_opt *opts, const struct common *c, int dflt,
		    int *fy)
{
	const char *t = cli_get(opts, "year");
	*fy = dflt;
	if (t && yoc_fyear_parse(t, strlen(t), fy)) {
		cli_err(verb, "--year '%s': want a financial year like 2022/23", t);
		return 2;
	}
	for (int i = 0; i < c->ny; i++)
		if (c->years[i] == *fy)
			return 0;
	char f[8];
	yoc_fyear_format(*fy, f);
	return cli_fyear_missing(verb, f, c->years, c->ny);
}

static int run_fit(int argc, char **argv)
{
	const char *verb = "risk fit";
	struct cli_opt opts[] = {{"db", 1, NULL}, {"year", 1, NULL}, {"ridge", 1, NULL},
				 {"features", 1, NULL}, {"min-events-per-term", 1, NULL},
				 {"out", 1, NULL}, {NULL, 0, NULL}};
	int npos, rc;
	if (cli_parse(verb, argc, argv, opts, &npos))
		return 2;
	if (npos) {
		cli_err(verb, "unexpected argument '%s'", argv[1]);
		return 2;
	}
	struct common c;
	struct yoc_risk_model m;
	memset(&m, 0, sizeof m);
	struct yoc_error e;
	yoc_error_clear(&e);
	struct yoc_buf b;
	yoc_buf_init(&b, 1 << 22);
	if ((rc = open_common(verb, opts, 1, &c)))
		goto cleanup;
	if (c.ny < 2 && !cli_get(opts, "year")) {
		cli_err(verb, "needs two analysed years (features of one, outcome in the next)");
		rc = 1;
		goto cleanup;
	}
	int fy;
	if ((rc = get_year(verb, opts, &c, c.years[c.ny >= 2 ? c.ny - 2 : 0], &fy)))
		goto cleanup;
	if (fy == c.years[c.ny - 1]) {
		cli_err(verb, "the latest analysed year has no next year for the outcome");
		rc = 1;
		goto cleanup;
	}
	rc = 1;
	if (yoc_risk_fit(c.db, fy, &c.fl, c.ridge, c.min_epv, &m, &e) ||
	    yoc_risk_model_store(c.db, &m, &e)) {
		cli_err_rec(verb, &e);
		goto cleanup;
	}
	if (cli_get(opts, "out")) {
		struct yoc_afile a;
		yoc_tmp_sweep(cli_get(opts, "out"), NULL);
		if (yoc_risk_model_json(&m, &b) || yoc_afile_open(&a, cli_get(opts, "out"), &e)) {
			cli_err_rec(verb, &e);
			goto cleanup;
		}
		if (fwrite(b.data, 1, b.len, a.f) != b.len) {
			yoc_afile_abort(&a);
			cli_err(verb, "%s: write failed", cli_get(opts, "out"));
			goto cleanup;
		}
		if (yoc_afile_commit(&a, &e)) {
			cli_err_rec(verb, &e);
			goto cleanup;
		}
	}
	char f0[8], f1[8];
	yoc_fyear_format(fy, f0);
	yoc_fyear_format(fy + 1, f1);
	int kept = 0;
	for (int j = 1; j < m.p; j++)
		kept += !isnan(m.coef[j]);
	if (m.dropped[0])
		printf("  dropped terms: %s\n", m.dropped);
	if (m.warning[0])
		printf("  warning: %s\n", m.warning);
	printf("risk fit %s: model %s on %zu person-years of %s, %zu events in %s, %d terms "
	       "(features %s, code list %s)%s%s\n", c.dir, m.model_id, m.n, f0, m.events, f1, kept,
	       m.feat.version[0] ? m.feat.version : "?", m.codelist_version,
	       cli_get(opts, "out") ? "; written to " : "",
	       cli_get(opts, "out") ? cli_get(opts, "out") : "");
	rc = 0;
cleanup:
	yoc_buf_free(&b);
	yoc_risk_model_free(&m);
	yoc_store_close(c.s);
	return rc;
}

static int run_score(int argc, char **argv)
{
	const char *verb = "risk score";
	struct cli_opt opts[] = {{"db", 1, NULL}, {"year", 1, NULL}, {"model", 1, NULL},
				 {"tiers", 1, NULL}, {NULL, 0, NULL}};
	int npos, rc;
	if (cli_parse(verb, argc, argv, opts, &npos))
		return 2;
	if (npos) {
		cli_err(verb, "unexpected argument '%s'", argv[1]);
		return 2;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	struct yoc_risk_tiers t;
	if (yoc_risk_tiers_parse(cli_get(opts, "tiers"), &t, &e)) {
		cli_err_rec(verb, &e);
		return 2;
	}
	struct common c;
	struct yoc_risk_model m;
	memset(&m, 0, sizeof m);
	char *text = NULL;
	if ((rc = open_common(verb, opts, 0, &c)))
		goto cleanup;
	int fy;
	if ((rc = get_year(verb, opts, &c, c.years[c.ny - 1], &fy)))
		goto cleanup;
	rc = 1;
	if (cli_get(opts, "model")) {
		size_t tn;
		if (yoc_read_file(cli_get(opts, "model"), 64 << 20, &text, &tn, &e) ||
		    yoc_risk_model_parse(text, &m, &e)) {
			snprintf(e.file, sizeof e.file, "%s", cli_get(opts, "model"));
			cli_err_rec(verb, &e);
			goto cleanup;
		}
	} else if (yoc_risk_model_latest(c.db, &m, &e)) {
		cli_err_rec(verb, &e);
		goto cleanup;
	}
	struct yoc_risk_score_stats st;
	if (yoc_risk_score(c.db, &m, fy, &t, &st, &e)) {
		cli_err_rec(verb, &e);
		goto cleanup;
	}
	char f0[8];
	yoc_fyear_format(fy, f0);
	printf("  tiers:");
	for (int k = 0; k <= t.n; k++)
		printf(" %s %zu%s", st.tier_name[k], st.tier_n[k], k < t.n ? "," : "\n");
	printf("risk score %s: %zu person-years of %s scored with model %s; mean risk %.4f\n",
	       c.dir, st.n, f0, m.model_id, st.mean_prob);
	rc = 0;
cleanup:
	yoc_free(text);
	yoc_risk_model_free(&m);
	yoc_store_close(c.s);
	return rc;
}

static const char *const main_rows[] = {"auc", "brier", "scaled_brier", "calibration_slope",
					"calibration_intercept", "calibration_in_the_large",
					"sensitivity_top0.5", "sensitivity_top1", "sensitivity_top2",
					"sensitivity_top5", "sensitivity_top10", "ppv_top0.5",
					"ppv_top1", "ppv_top2", "ppv_top5", "ppv_top10", NULL};
static const char *const models[] = {"model", "cost_total", "ltc_count"};

static const struct yoc_risk_metric *find_metric(const struct yoc_risk_validation *v,
						 const char *metric, const char *model)
{
	for (size_t k = 0; k < v->nm; k++)
		if (strcmp(v->m[k].metric, metric) == 0 && strcmp(v->m[k].model, model) == 0)
			return &v->m[k];
	return NULL;
}

static void jnum(double x)
{
	if (isfinite(x))
		printf("%.17g", x);
	else
		printf("null");
}

static int run_validate(int argc, char **argv)
{
	const char *verb = "risk validate";
	struct cli_opt opts[] = {{"db", 1, NULL}, {"ridge", 1, NULL}, {"features", 1, NULL},
				 {"min-events-per-term", 1, NULL}, {"json", 0, NULL},
				 {NULL, 0, NULL}};
	int npos, rc;
	if (cli_parse(verb, argc, argv, opts, &npos))
		return 2;
	if (npos) {
		cli_err(verb, "unexpected argument '%s'", argv[1]);
		return 2;
	}
	struct common c;
	struct yoc_risk_validation v;
	memset(&v, 0, sizeof v);
	struct yoc_error e;
	yoc_error_clear(&e);
	if ((rc = open_common(verb, opts, 1, &c)))
		goto cleanup;
	if (yoc_risk_validate(c.db, &c.fl, c.ridge, c.min_epv, &v, &e)) {
		cli_err_rec(verb, &e);
		rc = 1;
		goto cleanup;
	}
	char ft[8], fe[8], fo[8];
	yoc_fyear_format(v.train_year, ft);
	yoc_fyear_format(v.eval_year, fe);
	yoc_fyear_format(v.eval_year + 1, fo);
	if (cli_get(opts, "json")) {
		printf("{\"train_year\": \"%s\", \"eval_year\": \"%s\", \"outcome_year\": \"%s\", "
		       "\"n_train\": %zu, \"events_train\": %zu, \"n\": %zu, \"events\": %zu, "
		       "\"dropped\": ", ft, fe, fo, v.n_train, v.events_train, v.n, v.events);
		cli_json_str(stdout, v.dropped);
		printf(", \"metrics\": [");
		for (size_t k = 0; k < v.nm; k++) {
			printf("%s\n  {\"metric\": \"%s\", \"model\": \"%s\", \"value\": ",
			       k ? "," : "", v.m[k].metric, v.m[k].model);
			jnum(v.m[k].value);
			printf(", \"lo\": ");
			jnum(v.m[k].lo);
			printf(", \"hi\": ");
			jnum(v.m[k].hi);
			printf("}");
		}
		printf("\n]}\n");
		rc = 0;
		goto cleanup;
	}
	printf("  %-26s %-26s %-26s %s\n", "metric", "model", "cost_total alone",
	       "ltc_count alone");
	for (int r = 0; main_rows[r]; r++) {
		printf("  %-26s", main_rows[r]);
		for (int k = 0; k < 3; k++) {
			const struct yoc_risk_metric *x = find_metric(&v, main_rows[r], models[k]);
			char cell[64] = "";
			if (x && isfinite(x->lo))
				snprintf(cell, sizeof cell, "%.4f (%.4f-%.4f)", x->value, x->lo, x->hi);
			else if (x)
				snprintf(cell, sizeof cell, "%.4f", x->value);
			printf(" %-26s", cell);
		}
		printf("\n");
	}
	printf("  calibration by decile of predicted risk (n, observed, expected events):\n");
	for (int k = 1; k <= 10; k++) {
		char nm[3][32];
		snprintf(nm[0], sizeof nm[0], "decile%02d_n", k);
		snprintf(nm[1], sizeof nm[1], "decile%02d_observed", k);
		snprintf(nm[2], sizeof nm[2], "decile%02d_expected", k);
		const struct yoc_risk_metric *a = find_metric(&v, nm[0], "model");
		const struct yoc_risk_metric *o = find_metric(&v, nm[1], "model");
		const struct yoc_risk_metric *x = find_metric(&v, nm[2], "model");
		if (a && o && x)
			printf("    %2d  %6.0f  %6.0f  %8.1f\n", k, a->value, o->value, x->value);
	}
	if (v.dropped[0])
		printf("  dropped terms: %s\n", v.dropped);
	printf("risk validate %s: fitted on %s -> %s (%zu person-years, %zu events), evaluated on "
	       "%s -> %s (%zu person-years, %zu events); stored in risk_validation\n", c.dir, ft,
	       fe, v.n_train, v.events_train, fe, fo, v.n, v.events);
	rc = 0;
cleanup:
	yoc_risk_validation_free(&v);
	yoc_store_close(c.s);
	return rc;
}

static int run(int argc, char **argv)
{
	if (argc < 2) {
		cli_err("risk", "want a subcommand: fit, score or validate; see 'yoc help risk'");
		return 2;
	}
	static const char *const subs[] = {"fit", "score", "validate", NULL};
	if (strcmp(argv[1], "fit") == 0)
		return run_fit(argc - 1, argv + 1);
	if (strcmp(argv[1], "score") == 0)
		return run_score(argc - 1, argv + 1);
	if (strcmp(argv[1], "validate") == 0)
		return run_validate(argc - 1, argv + 1);
	const char *near = cli_nearest(argv[1], subs);
	cli_err("risk", "unknown subcommand '%s'%s%s%s", argv[1], near ? "; did you mean '" : "",
		near ? near : "", near ? "'?" : "");
	return 2;
}

const struct cli_verb cli_verb_risk = {
	"risk", "emergency admission risk: fit, score and validate a model", usage_text, run
};

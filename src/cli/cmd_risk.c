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
#include "pseudo/pseudo.h"
#include "risk/risk.h"
#include "store/store.h"
#include "yoc/date.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc risk fit --db DIR [--year FY] [--ridge L] [--features FILE]\n"
	"                    [--min-events-per-term N] [--out MODEL.json]\n"
	"                    [--design-out FILE.csv]\n"
	"       yoc risk score --db DIR [--model MODEL.json] [--year FY] [--tiers CUTS]\n"
	"       yoc risk validate --db DIR [--ridge L] [--features FILE]\n"
	"                         [--min-events-per-term N] [--truth DIR [--key FILE]]\n"
	"                         [--card PREFIX] [--json]\n"
	"       yoc risk card --db DIR --out PREFIX\n"
	"       yoc risk summarise --db DIR [--model MODEL.json] [--tiers CUTS]\n"
	"                          [--rising-from P] [--rising-top K] [--crisis-top K]\n\n"
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
	"          ltc_count as comparators (and, with --truth, the synthetic economy's\n"
	"          true risk); stores risk_validation, risk_validation_rows, risk_roc,\n"
	"          risk_calibration.\n"
	"card      writes the model card of the last validation: PREFIX.json, PREFIX.md.\n"
	"summarise scores every analysed year that has no scores yet (catalog's latest\n"
	"          model or --model), then writes risk_pyramid, risk_crisis, risk_rising,\n"
	"          risk_turnover, risk_retention, risk_overlap, risk_practice.\n\n"
	"  --year FY                financial year, 2022/23\n"
	"  --ridge L                ridge penalty (default 0)\n"
	"  --features FILE          feature list (default data/risk_features.txt)\n"
	"  --min-events-per-term N  events needed per term (default 10)\n"
	"  --tiers CUTS             tier cut points, percent of the year (default\n"
	"                           0.5,2,5,10,20: top0.5, 0.5-2, 2-5, 5-10, 10-20, rest)\n"
	"  --json                   validate: print the metrics as JSON\n"
	"  --design-out FILE.csv    fit: the design matrix with the outcome first\n"
	"  --truth DIR              validate: a yoc synth output (or its truth folder)\n"
	"  --key FILE               the key the dataset was pseudonymised with (without\n"
	"                           it, pseudo_id is taken to be the NHS number)\n"
	"  --card PREFIX            validate: also write the model card\n"
	"  --rising-from P          summarise: rising risk from below percentile P (80)\n"
	"  --rising-top K           ... into the top K%% (10)\n"
	"  --crisis-top K           summarise: the crisis curve's cohorts, top K%% (5)\n";

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

/*
** The fit's design: header "outcome" and the model's terms but the intercept,
** one row per training row, numbers with 17 significant digits, so glm in R
** (outcome ~ .) fits the same model.
*/
static int write_design(sqlite3 *db, int fy, const struct yoc_risk_featlist *fl,
			const struct yoc_risk_model *m, const char *path, struct yoc_error *e)
{
	struct yoc_risk_data d;
	struct yoc_afile a;
	int *col = NULL, rc, open = 0;
	memset(&d, 0, sizeof d);
	if ((rc = yoc_risk_data_build(db, fy, fl, 1, m->imd_median, &d, e)))
		goto cleanup;
	if (!(col = yoc_malloc((size_t)m->p * sizeof *col))) {
		rc = yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "out of memory");
		goto cleanup;
	}
	for (int j = 0; j < m->p; j++) {
		col[j] = -1;
		for (int k = 0; k < d.p; k++)
			if (strcmp(d.terms[k], m->terms[j]) == 0)
				col[j] = k;
		if (col[j] < 0) {
			rc = yoc_error_set(e, YOC_EINTERNAL, path, 0, 0, "term %s not in the design",
					   m->terms[j]);
			goto cleanup;
		}
	}
	yoc_tmp_sweep(path, NULL);
	if ((rc = yoc_afile_open(&a, path, e)))
		goto cleanup;
	open = 1;
	fputs("outcome", a.f);
	for (int j = 1; j < m->p; j++)
		fprintf(a.f, ",%s", m->terms[j]);
	fputc('\n', a.f);
	for (size_t i = 0; i < d.n; i++) {
		fputc(d.y[i] > 0.5 ? '1' : '0', a.f);
		for (int j = 1; j < m->p; j++)
			fprintf(a.f, ",%.17g", d.X[i * (size_t)d.p + (size_t)col[j]]);
		fputc('\n', a.f);
	}
	open = 0;
	rc = yoc_afile_commit(&a, e);
cleanup:
	if (open)
		yoc_afile_abort(&a);
	yoc_free(col);
	yoc_risk_data_free(&d);
	return rc;
}

static int run_fit(int argc, char **argv)
{
	const char *verb = "risk fit";
	struct cli_opt opts[] = {{"db", 1, NULL}, {"year", 1, NULL}, {"ridge", 1, NULL},
				 {"features", 1, NULL}, {"min-events-per-term", 1, NULL},
				 {"out", 1, NULL}, {"design-out", 1, NULL}, {NULL, 0, NULL}};
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
	if (cli_get(opts, "design-out") &&
	    write_design(c.db, fy, &c.fl, &m, cli_get(opts, "design-out"), &e)) {
		cli_err_rec(verb, &e);
		goto cleanup;
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

static const char *const main_rows[] = {"auc", "auprc", "brier", "scaled_brier", "calibration_slope",
					"calibration_intercept", "calibration_in_the_large",
					"sensitivity_top0.5", "sensitivity_top1", "sensitivity_top2",
					"sensitivity_top5", "sensitivity_top10", "ppv_top0.5",
					"ppv_top1", "ppv_top2", "ppv_top5", "ppv_top10", NULL};
static const char *const models[] = {"model", "cost_total", "ltc_count", "oracle"};

/*
** The synthetic economy's true risk (truth/risk.csv of yoc synth) into the
** temp table risk_oracle, keyed by pseudonym: the NHS number's pseudonym
** under the key, or the NHS number itself without one.
*/
static int load_oracle(sqlite3 *db, const char *dir, const char *keypath, struct yoc_error *e)
{
	char path[PATH_MAX + 32], line[256], hex[65];
	struct yoc_key key;
	yoc_pseudo *ps = NULL;
	sqlite3_stmt *st = NULL;
	FILE *f = NULL;
	int rc = 0, lineno = 0;
	memset(&key, 0, sizeof key);
	snprintf(path, sizeof path, "%s/truth/risk.csv", dir);
	if (access(path, R_OK) != 0)
		snprintf(path, sizeof path, "%s/risk.csv", dir);
	if (!(f = fopen(path, "r")))
		return yoc_error_set(e, YOC_ENOTFOUND, path, 0, 0,
				     "cannot read the truth's risk (want DIR/truth/risk.csv "
				     "of yoc synth)");
	if (keypath) {
		if ((rc = yoc_key_load(&key, keypath, e)))
			goto cleanup;
		if ((rc = yoc_pseudo_create(&ps, &key, 0))) {
			rc = yoc_error_set(e, rc, keypath, 0, 0, "cannot use the key");
			goto cleanup;
		}
	}
	if (sqlite3_exec(db, "DROP TABLE IF EXISTS temp.risk_oracle; CREATE TEMP TABLE "
			 "risk_oracle(pseudo_id TEXT NOT NULL, fyear TEXT NOT NULL, p REAL NOT NULL,"
			 " PRIMARY KEY (pseudo_id, fyear)); BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO risk_oracle VALUES (?,?,?)", -1, &st,
			       NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
		goto cleanup;
	}
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (lineno == 1)
			continue; /* header */
		char nhs[16], fy[16];
		double p;
		if (sscanf(line, "%15[0-9],%15[0-9/],%lf", nhs, fy, &p) != 3 || strlen(nhs) != 10 ||
		    !(p >= 0 && p <= 1)) {
			rc = yoc_error_set(e, YOC_EPARSE, path, lineno, 1,
					   "want nhs_number,fyear,p_emergency");
			goto cleanup;
		}
		if (ps) {
			yoc_pseudo_hex(ps, nhs, hex);
			hex[64] = 0;
		}
		sqlite3_bind_text(st, 1, ps ? hex : nhs, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, fy, -1, SQLITE_TRANSIENT);
		sqlite3_bind_double(st, 3, p);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
			goto cleanup;
		}
		sqlite3_reset(st);
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
cleanup:
	if (rc)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_finalize(st);
	yoc_pseudo_free(ps);
	yoc_key_wipe(&key);
	fclose(f);
	return rc;
}

/* PREFIX.json and PREFIX.md, each written atomically. */
static int write_card(sqlite3 *db, const char *prefix, struct yoc_error *e)
{
	struct yoc_buf js, md;
	yoc_buf_init(&js, 1 << 22);
	yoc_buf_init(&md, 1 << 22);
	int rc = yoc_risk_card(db, &js, &md, e);
	for (int k = 0; k < 2 && !rc; k++) {
		char path[PATH_MAX + 8];
		struct yoc_afile a;
		const struct yoc_buf *b = k ? &md : &js;
		snprintf(path, sizeof path, "%s.%s", prefix, k ? "md" : "json");
		yoc_tmp_sweep(path, NULL);
		if ((rc = yoc_afile_open(&a, path, e)))
			break;
		if (fwrite(b->data, 1, b->len, a.f) != b->len) {
			yoc_afile_abort(&a);
			rc = yoc_error_set(e, YOC_EIO, path, 0, 0, "write failed");
			break;
		}
		rc = yoc_afile_commit(&a, e);
	}
	yoc_buf_free(&js);
	yoc_buf_free(&md);
	return rc;
}

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
				 {"truth", 1, NULL}, {"key", 1, NULL}, {"card", 1, NULL},
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
	if (cli_get(opts, "key") && !cli_get(opts, "truth")) {
		cli_err(verb, "--key goes with --truth DIR");
		rc = 2;
		goto cleanup;
	}
	rc = 1;
	if ((cli_get(opts, "truth") &&
	     load_oracle(c.db, cli_get(opts, "truth"), cli_get(opts, "key"), &e)) ||
	    yoc_risk_validate(c.db, &c.fl, c.ridge, c.min_epv, &v, &e) ||
	    (cli_get(opts, "card") && write_card(c.db, cli_get(opts, "card"), &e))) {
		cli_err_rec(verb, &e);
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
	int nmod = v.has_oracle ? 4 : 3;
	printf("  %-26s %-26s %-26s %-26s%s\n", "metric", "model", "cost_total alone",
	       "ltc_count alone", v.has_oracle ? " oracle (true risk)" : "");
	for (int r = 0; main_rows[r]; r++) {
		printf("  %-26s", main_rows[r]);
		for (int k = 0; k < nmod; k++) {
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
	printf("  published: QAdmissions AUC 0.76-0.78 (Hippisley-Cox and Coupland 2013)\n");
	printf("  calibration by group (observed / expected events, O/E and 95%% CI):\n");
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(c.db, "SELECT grouping, grp, n, observed, expected, oe, oe_lo, oe_hi "
			       "FROM risk_calibration WHERE model = 'model' AND grouping != 'decile' "
			       "ORDER BY grouping, grp", -1, &st, NULL) == SQLITE_OK)
		while (sqlite3_step(st) == SQLITE_ROW)
			printf("    %-13s %-8s %7d %7.0f %9.1f  %.2f (%.2f-%.2f)\n",
			       sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
			       sqlite3_column_int(st, 2), sqlite3_column_double(st, 3),
			       sqlite3_column_double(st, 4), sqlite3_column_double(st, 5),
			       sqlite3_column_double(st, 6), sqlite3_column_double(st, 7));
	sqlite3_finalize(st);
	if (v.dropped[0])
		printf("  dropped terms: %s\n", v.dropped);
	if (cli_get(opts, "card"))
		printf("  model card: %s.json, %s.md\n", cli_get(opts, "card"), cli_get(opts, "card"));
	printf("risk validate %s: fitted on %s -> %s (%zu person-years, %zu events), evaluated on "
	       "%s -> %s (%zu person-years, %zu events); stored in risk_validation\n", c.dir, ft,
	       fe, v.n_train, v.events_train, fe, fo, v.n, v.events);
	rc = 0;
cleanup:
	yoc_risk_validation_free(&v);
	yoc_store_close(c.s);
	return rc;
}

static int run_card(int argc, char **argv)
{
	const char *verb = "risk card";
	struct cli_opt opts[] = {{"db", 1, NULL}, {"out", 1, NULL}, {NULL, 0, NULL}};
	int npos, rc;
	if (cli_parse(verb, argc, argv, opts, &npos))
		return 2;
	if (npos || !cli_get(opts, "out")) {
		cli_err(verb, "want --db DIR --out PREFIX");
		return 2;
	}
	struct common c;
	struct yoc_error e;
	yoc_error_clear(&e);
	if ((rc = open_common(verb, opts, 0, &c)))
		goto cleanup;
	rc = 0;
	if (write_card(c.db, cli_get(opts, "out"), &e)) {
		cli_err_rec(verb, &e);
		rc = 1;
	} else {
		printf("risk card %s: %s.json, %s.md\n", c.dir, cli_get(opts, "out"),
		       cli_get(opts, "out"));
	}
cleanup:
	yoc_store_close(c.s);
	return rc;
}

static int parse_pct(const char *verb, struct cli_opt *opts, const char *name, double *v)
{
	const char *t = cli_get(opts, name);
	if (!t)
		return 0;
	char *end;
	double x = strtod(t, &end);
	if (end == t || *end || !(x > 0 && x < 100)) {
		cli_err(verb, "--%s '%s': want a number between 0 and 100", name, t);
		return 2;
	}
	*v = x;
	return 0;
}

static int run_summarise(int argc, char **argv)
{
	const char *verb = "risk summarise";
	struct cli_opt opts[] = {{"db", 1, NULL}, {"model", 1, NULL}, {"tiers", 1, NULL},
				 {"rising-from", 1, NULL}, {"rising-top", 1, NULL},
				 {"crisis-top", 1, NULL}, {NULL, 0, NULL}};
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
	struct yoc_risk_summary_opts so;
	yoc_risk_summary_opts_init(&so);
	if (yoc_risk_tiers_parse(cli_get(opts, "tiers"), &t, &e)) {
		cli_err_rec(verb, &e);
		return 2;
	}
	if (parse_pct(verb, opts, "rising-from", &so.rising_from) ||
	    parse_pct(verb, opts, "rising-top", &so.rising_top) ||
	    parse_pct(verb, opts, "crisis-top", &so.crisis_top))
		return 2;
	struct common c;
	struct yoc_risk_model m;
	memset(&m, 0, sizeof m);
	char *text = NULL;
	sqlite3_stmt *st = NULL;
	if ((rc = open_common(verb, opts, 0, &c)))
		goto cleanup;
	rc = 1;
	int have_model = 0;
	for (int i = 0; i < c.ny; i++) {
		char f0[8];
		yoc_fyear_format(c.years[i], f0);
		int scored = 0;
		if (sqlite3_prepare_v2(c.db, "SELECT 1 FROM risk_score WHERE fyear = ? LIMIT 1", -1,
				       &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, f0, -1, SQLITE_STATIC);
			scored = sqlite3_step(st) == SQLITE_ROW;
		}
		sqlite3_finalize(st);
		st = NULL;
		if (scored)
			continue;
		if (!have_model) {
			size_t tn;
			if (cli_get(opts, "model")
				    ? yoc_read_file(cli_get(opts, "model"), 64 << 20, &text, &tn, &e) ||
					      yoc_risk_model_parse(text, &m, &e)
				    : yoc_risk_model_latest(c.db, &m, &e)) {
				cli_err_rec(verb, &e);
				goto cleanup;
			}
			have_model = 1;
		}
		struct yoc_risk_score_stats ss;
		if (yoc_risk_score(c.db, &m, c.years[i], &t, &ss, &e)) {
			cli_err_rec(verb, &e);
			goto cleanup;
		}
		printf("  scored %s: %zu person-years with model %s\n", f0, ss.n, m.model_id);
	}
	if (yoc_risk_summarise(c.db, &so, &e)) {
		cli_err_rec(verb, &e);
		goto cleanup;
	}
	printf("risk summarise %s: risk_pyramid, risk_crisis, risk_rising, risk_turnover, "
	       "risk_retention, risk_overlap, risk_practice\n", c.dir);
	rc = 0;
cleanup:
	yoc_free(text);
	yoc_risk_model_free(&m);
	yoc_store_close(c.s);
	return rc;
}

static int run(int argc, char **argv)
{
	if (argc < 2) {
		cli_err("risk", "want a subcommand: fit, score, validate, card or summarise; see 'yoc help risk'");
		return 2;
	}
	static const char *const subs[] = {"fit", "score", "validate", "card", "summarise", NULL};
	if (strcmp(argv[1], "fit") == 0)
		return run_fit(argc - 1, argv + 1);
	if (strcmp(argv[1], "score") == 0)
		return run_score(argc - 1, argv + 1);
	if (strcmp(argv[1], "validate") == 0)
		return run_validate(argc - 1, argv + 1);
	if (strcmp(argv[1], "card") == 0)
		return run_card(argc - 1, argv + 1);
	if (strcmp(argv[1], "summarise") == 0)
		return run_summarise(argc - 1, argv + 1);
	const char *near = cli_nearest(argv[1], subs);
	cli_err("risk", "unknown subcommand '%s'%s%s%s", argv[1], near ? "; did you mean '" : "",
		near ? near : "", near ? "'?" : "");
	return 2;
}

const struct cli_verb cli_verb_risk = {
	"risk", "emergency admission risk: fit, score and validate a model", usage_text, run
};

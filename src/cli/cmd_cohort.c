/*
** yoc cohort: define a cohort by a rule, select its candidates with review
** worklists per practice, import the practices' review and consent files,
** enrol, refresh the register from the loaded data, and show, list or
** export it (docs/cohorts.md). Option parsing and summaries; the work is
** src/cohort, the rule language src/rule.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cohort/cohort.h"
#include "rule/rule.h"
#include "store/store.h"
#include "yoc/csv.h"
#include "yoc/date.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc cohort define NAME --db DIR --rule EXPR [--description TEXT]\n"
	"                         [--service-model TEXT] [--author WHO]\n"
	"       yoc cohort select NAME --db DIR [--year FY] [--month YYYY-MM] [--out DIR]\n"
	"       yoc cohort worklists NAME --db DIR --out DIR\n"
	"       yoc cohort review NAME --db DIR FILE|FOLDER...\n"
	"       yoc cohort consent NAME --db DIR FILE|FOLDER...\n"
	"       yoc cohort enrol NAME --db DIR [--date YYYY-MM-DD]\n"
	"       yoc cohort refresh [NAME] --db DIR\n"
	"       yoc cohort register NAME --db DIR [--as-of YYYY-MM-DD | --history]\n"
	"       yoc cohort list --db DIR\n"
	"       yoc cohort show NAME --db DIR\n"
	"       yoc cohort export NAME --db DIR --out FILE\n"
	"       yoc cohort simulate-review NAME --db DIR --out DIR [--date YYYY-MM-DD]\n"
	"                         [--seed N] [--exclude-share P] [--decline-share P]\n\n"
	"Rules-based case finding, clinician review, consent and the cohort register\n"
	"(docs/cohorts.md; the rule language: docs/rules.md).\n\n"
	"define    stores a new version of cohort NAME (old versions stay for audit);\n"
	"          the author is --author, else $USER.\n"
	"select    evaluates the rule over every person-year of FY (default: the latest\n"
	"          analysed year) and stores the candidates with the parts of the rule\n"
	"          they met; with --out writes one review worklist per practice (CSV and\n"
	"          a printable page; pseudonyms only).\n"
	"review    imports practices' decisions (include, exclude with a reason, defer,\n"
	"          add, discharge); consent imports consent given or withdrawn. Every\n"
	"          line is checked; any problem rejects the whole import, each named\n"
	"          file:line:col. Importing the same file again changes nothing.\n"
	"enrol     opens a membership for each person included (or added) with consent\n"
	"          for care.\n"
	"refresh   ends memberships from the loaded data: deaths, deregistration and\n"
	"          practice moves (run after each yoc load).\n"
	"register  prints the register (CSV) on a date (default today), or every row\n"
	"          ever (--history).\n"
	"show      the funnel (population, rule, reviewed, included, consented,\n"
	"          enrolled), exclusions by reason, leavers by reason, size by month.\n"
	"simulate-review  plays the clinicians on the synthetic economy: review and\n"
	"          consent files per practice and truth.csv into DIR.\n";

static const char *author_of(const struct cli_opt *opts)
{
	const char *a = cli_get(opts, "author");
	if (!a || !*a)
		a = getenv("USER");
	return a && *a ? a : "unknown";
}

static int open_db(const char *verb, const struct cli_opt *opts, int write, yoc_store **s)
{
	struct yoc_error e;
	yoc_error_clear(&e);
	const char *dir = cli_get(opts, "db");
	if (!dir) {
		cli_err(verb, "--db DIR is required; see 'yoc help cohort'");
		return 2;
	}
	if (yoc_store_open(s, dir, write ? YOC_STORE_WRITE : 0, &e) ||
	    (write && yoc_cohort_schema(yoc_store_db(*s), &e))) {
		cli_err_rec(verb, &e);
		return 1;
	}
	return 0;
}

static int want_name(const char *verb, int npos, char **argv, int more_ok)
{
	if (npos < 1) {
		cli_err(verb, "want the cohort's NAME; see 'yoc help cohort'");
		return 2;
	}
	if (!more_ok && npos > 1) {
		cli_err(verb, "unexpected argument '%s'", argv[2]);
		return 2;
	}
	if (!yoc_cohort_name_ok(argv[1])) {
		cli_err(verb, "cohort name '%s': want letters, digits, '_' or '-', starting with a"
			" letter", argv[1]);
		return 2;
	}
	return 0;
}

static int parse_date(const char *verb, const char *opt, const char *t, int32_t *d)
{
	if (yoc_date_parse(t, strlen(t), d)) {
		cli_err(verb, "--%s '%s': want a date YYYY-MM-DD", opt, t);
		return 2;
	}
	return 0;
}

/* ---- define ---------------------------------------------------------------------------- */

static void rule_error(const char *verb, const char *rule, const struct yoc_error *e)
{
	fprintf(stderr, "yoc %s: rule:%ld:%ld: %s\n", verb, e->line ? e->line : 1, e->col,
		e->msg);
	if (e->col > 0 && strlen(rule) < 200 && !strchr(rule, '\n')) {
		fprintf(stderr, "    %s\n    %*s^\n", rule, (int)e->col - 1, "");
	}
}

static int run_define(int argc, char **argv)
{
	const char *verb = "cohort define";
	struct cli_opt opts[] = {{"db", 1, NULL}, {"rule", 1, NULL}, {"description", 1, NULL},
				 {"service-model", 1, NULL}, {"author", 1, NULL},
				 {NULL, 0, NULL}};
	int npos, rc;
	if (cli_parse(verb, argc, argv, opts, &npos) || want_name(verb, npos, argv, 0))
		return 2;
	const char *rule = cli_get(opts, "rule");
	if (!rule) {
		cli_err(verb, "--rule EXPR is required");
		return 2;
	}
	yoc_store *s = NULL;
	if ((rc = open_db(verb, opts, 1, &s)))
		return rc;
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_rule_schema *sc = NULL;
	yoc_rule *r = NULL;
	int version = 0;
	sqlite3 *db = yoc_store_db(s);
	/* with analysed data the fields are checked; before, the syntax only */
	int have = yoc_rule_schema_load(db, &sc, &e);
	if (have && have != YOC_ENOTFOUND) {
		cli_err_rec(verb, &e);
		rc = 1;
		goto cleanup;
	}
	yoc_error_clear(&e);
	if (yoc_rule_compile(rule, have ? NULL : sc, &r, &e)) {
		rule_error(verb, rule, &e);
		rc = 1;
		goto cleanup;
	}
	if (yoc_cohort_define(db, argv[1], rule, cli_get(opts, "description"),
			      cli_get(opts, "service-model"), author_of(opts), &version, &e)) {
		cli_err_rec(verb, &e);
		rc = 1;
		goto cleanup;
	}
	printf("cohort %s: version %d defined by %s%s\n", argv[1], version, author_of(opts),
	       have ? " (fields not checked: no analysed data yet)" : "");
	rc = 0;
cleanup:
	yoc_rule_free(r);
	yoc_rule_schema_free(sc);
	yoc_store_close(s);
	return rc;
}

/* ---- select ------------------------------------------------------------------------------ */

/* The rule of d over fyear: who is selected and which clauses they met. */
static int pick_rule(sqlite3 *db, const struct yoc_cohort_def *d, const char *fy,
		     struct yoc_cohort_pick *pk, struct yoc_error *e)
{
	yoc_rule_schema *sc = NULL;
	yoc_rule *r = NULL;
	yoc_rule_frame *f = NULL;
	struct yoc_rule_result res;
	struct yoc_buf b;
	int rc;
	memset(&res, 0, sizeof res);
	memset(pk, 0, sizeof *pk);
	yoc_buf_init(&b, 1 << 16);
	if ((rc = yoc_rule_schema_load(db, &sc, e)) || (rc = yoc_rule_compile(d->rule, sc, &r, e)))
		goto cleanup;
	if ((rc = yoc_rule_frame_load(db, fy, &r, 1, &f, e)) || (rc = yoc_rule_eval(r, f, &res, e)))
		goto cleanup;
	pk->n = res.nrows;
	if (!(pk->pseudo = yoc_calloc(res.nselected ? res.nselected : 1, sizeof *pk->pseudo)) ||
	    !(pk->reasons = yoc_calloc(res.nselected ? res.nselected : 1, sizeof *pk->reasons))) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	size_t nc = yoc_rule_nclauses(r);
	for (size_t i = 0; i < res.nrows; i++) {
		if (!yoc_rule_bit(res.selected, i))
			continue;
		yoc_buf_reset(&b);
		for (size_t c = 0; c < nc; c++)
			if (yoc_rule_bit(res.clause + c * res.words, i)) {
				if (b.len)
					yoc_buf_puts(&b, "; ");
				yoc_buf_puts(&b, yoc_rule_clause_text(r, c));
			}
		const char *p = yoc_rule_frame_pseudo(f, i);
		size_t pn = strlen(p);
		char *ps = yoc_malloc(pn + 1), *rs = yoc_malloc(b.len + 1);
		if (!ps || !rs) {
			yoc_free(ps);
			yoc_free(rs);
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			goto cleanup;
		}
		memcpy(ps, p, pn + 1);
		if (b.len)
			memcpy(rs, b.data, b.len);
		rs[b.len] = 0;
		pk->pseudo[pk->nsel] = ps;
		pk->reasons[pk->nsel] = rs;
		pk->nsel++;
	}
cleanup:
	yoc_buf_free(&b);
	yoc_rule_result_free(&res);
	yoc_rule_frame_free(f);
	yoc_rule_free(r);
	yoc_rule_schema_free(sc);
	return rc;
}

static int latest_year(sqlite3 *db, int *fy)
{
	sqlite3_stmt *q = NULL;
	int ok = 0;
	if (sqlite3_prepare_v2(db, "SELECT max(fyear) FROM person_year", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0)) {
		const char *t = (const char *)sqlite3_column_text(q, 0);
		ok = yoc_fyear_parse(t, strlen(t), fy) == 0;
	}
	sqlite3_finalize(q);
	return ok;
}

static int write_worklists(const char *verb, sqlite3 *db, const char *name, const char *out)
{
	struct yoc_otree t;
	struct yoc_error e;
	size_t np = 0;
	yoc_error_clear(&e);
	if (yoc_otree_begin(&t, out, "cohort worklists", &e)) {
		cli_err_rec(verb, &e);
		return 1;
	}
	if (yoc_cohort_worklists(db, name, t.tmp, &np, &e) || yoc_otree_commit(&t, &e)) {
		yoc_otree_abort(&t);
		cli_err_rec(verb, &e);
		return 1;
	}
	printf("  worklists for %zu practices in %s (pseudonyms only)\n", np, out);
	return 0;
}

static int run_select(int argc, char **argv)
{
	const char *verb = "cohort select";
	struct cli_opt opts[] = {{"db", 1, NULL}, {"year", 1, NULL}, {"month", 1, NULL},
				 {"out", 1, NULL}, {"author", 1, NULL}, {NULL, 0, NULL}};
	int npos, rc;
	if (cli_parse(verb, argc, argv, opts, &npos) || want_name(verb, npos, argv, 0))
		return 2;
	const char *month = cli_get(opts, "month");
	int32_t md;
	if (month) {
		char full[16];
		snprintf(full, sizeof full, "%.7s-01", month);
		if (strlen(month) != 7 || yoc_date_parse(full, 10, &md)) {
			cli_err(verb, "--month '%s': want YYYY-MM", month);
			return 2;
		}
	}
	yoc_store *s = NULL;
	if ((rc = open_db(verb, opts, 1, &s)))
		return rc;
	sqlite3 *db = yoc_store_db(s);
	struct yoc_error e;
	yoc_error_clear(&e);
	struct yoc_cohort_def d;
	struct yoc_cohort_pick pk;
	memset(&d, 0, sizeof d);
	memset(&pk, 0, sizeof pk);
	int fy;
	rc = 1;
	const char *ft = cli_get(opts, "year");
	if (ft ? yoc_fyear_parse(ft, strlen(ft), &fy) != 0 : !latest_year(db, &fy)) {
		if (ft)
			cli_err(verb, "--year '%s': want a financial year like 2022/23", ft);
		else
			cli_err(verb, "%s: no analysed years: run yoc analyse first", cli_get(opts, "db"));
		rc = ft ? 2 : 1;
		goto cleanup;
	}
	char fys[8];
	yoc_fyear_format(fy, fys);
	struct yoc_cohort_sel_stats st;
	if (yoc_cohort_def_get(db, argv[1], 0, &d, &e) || pick_rule(db, &d, fys, &pk, &e) ||
	    yoc_cohort_select_store(db, &d, fy, month, &pk, author_of(opts), &st, &e)) {
		if (e.col > 0 && d.rule)
			rule_error(verb, d.rule, &e);
		else
			cli_err_rec(verb, &e);
		goto cleanup;
	}
	if (pk.n == 0) {
		cli_err(verb, "%s is not an analysed year of %s", fys, cli_get(opts, "db"));
		goto cleanup;
	}
	printf("cohort %s (version %d) on %s: %zu of %zu person-years selected (%.2f%%) in %zu"
	       " practices; selection %lld\n", d.name, d.version, fys, st.selected, st.population,
	       st.population ? 100.0 * (double)st.selected / (double)st.population : 0.0,
	       st.practices, (long long)st.selection_id);
	if (cli_get(opts, "out") && write_worklists(verb, db, d.name, cli_get(opts, "out")))
		goto cleanup;
	rc = 0;
cleanup:
	yoc_cohort_pick_free(&pk);
	yoc_cohort_def_free(&d);
	yoc_store_close(s);
	return rc;
}

static int run_worklists(int argc, char **argv)
{
	const char *verb = "cohort worklists";
	struct cli_opt opts[] = {{"db", 1, NULL}, {"out", 1, NULL}, {NULL, 0, NULL}};
	int npos, rc;
	if (cli_parse(verb, argc, argv, opts, &npos) || want_name(verb, npos, argv, 0))
		return 2;
	if (!cli_get(opts, "out")) {
		cli_err(verb, "--out DIR is required");
		return 2;
	}
	yoc_store *s = NULL;
	if ((rc = open_db(verb, opts, 0, &s)))
		return rc;
	rc = write_worklists(verb, yoc_store_db(s), argv[1], cli_get(opts, "out"));
	yoc_store_close(s);
	return rc;
}

/* ---- review and consent ---------------------------------------------------------------- */

static int run_import(int argc, char **argv, int kind)
{
	const char *verb = kind == YOC_COHORT_REVIEW ? "cohort review" : "cohort consent";
	struct cli_opt opts[] = {{"db", 1, NULL}, {"in", 1, NULL}, {"author", 1, NULL},
				 {NULL, 0, NULL}};
	int npos, rc;
	if (cli_parse(verb, argc, argv, opts, &npos) || want_name(verb, npos, argv, 1))
		return 2;
	const char *paths[1024];
	struct yoc_cohort_errors *errs = NULL;
	char **listed[8] = {NULL};
	size_t np = 0, nl = 0;
	struct yoc_error e;
	yoc_error_clear(&e);
	const char *prefix = kind == YOC_COHORT_REVIEW ? "review_" : "consent_";
	for (int i = cli_get(opts, "in") ? 1 : 2; i <= npos; i++) {
		const char *a = i == 1 ? cli_get(opts, "in") : argv[i];
		if (!yoc_is_dir(a)) {
			if (np < 1024)
				paths[np++] = a;
			continue;
		}
		/* a folder (yoc cohort simulate-review's): its review_*.csv or consent_*.csv */
		size_t nf = 0;
		if (nl == 8 || yoc_list_files(a, &listed[nl], &nf, &e)) {
			if (nl < 8)
				cli_err_rec(verb, &e);
			else
				cli_err(verb, "at most 8 folders");
			for (size_t k = 0; k < nl; k++)
				yoc_paths_free(listed[k]);
			return 1;
		}
		for (size_t k = 0; k < nf && np < 1024; k++) {
			const char *base = strrchr(listed[nl][k], '/');
			base = base ? base + 1 : listed[nl][k];
			if (strncmp(base, prefix, strlen(prefix)) == 0)
				paths[np++] = listed[nl][k];
		}
		nl++;
	}
	yoc_store *s = NULL;
	if (!np) {
		cli_err(verb, "want the files to import (FILE..., a folder of %s*.csv, or --in FILE)",
			prefix);
		rc = 2;
		goto cleanup;
	}
	if ((rc = open_db(verb, opts, 1, &s)))
		goto cleanup;
	struct yoc_cohort_import_stats st;
	errs = yoc_calloc(1, sizeof *errs);
	rc = 1;
	if (!errs) {
		cli_err(verb, "out of memory");
		goto cleanup;
	}
	if (yoc_cohort_import(yoc_store_db(s), argv[1], kind, paths, np, author_of(opts), &st,
			      errs, &e)) {
		size_t kept = errs->n < YOC_COHORT_MAXERR ? errs->n : YOC_COHORT_MAXERR;
		for (size_t i = 0; i < kept; i++)
			cli_err_rec(verb, &errs->err[i]);
		if (errs->n > kept)
			cli_err(verb, "... and %zu more", errs->n - kept);
		cli_err_rec(verb, &e);
		goto cleanup;
	}
	printf("cohort %s: %zu %s row%s from %zu file%s: %zu new, %zu unchanged%s", argv[1],
	       st.rows, kind == YOC_COHORT_REVIEW ? "review" : "consent", st.rows == 1 ? "" : "s",
	       st.files, st.files == 1 ? "" : "s", st.added, st.unchanged,
	       st.added ? "" : " (nothing changed)");
	if (st.left)
		printf("; %zu membership%s ended", st.left, st.left == 1 ? "" : "s");
	printf("\n");
	rc = 0;
cleanup:
	yoc_free(errs);
	yoc_store_close(s);
	for (size_t k = 0; k < nl; k++)
		yoc_paths_free(listed[k]);
	return rc;
}

/* ---- enrol, refresh ------------------------------------------------------------------------ */

static int run_enrol(int argc, char **argv)
{
	const char *verb = "cohort enrol";
	struct cli_opt opts[] = {{"db", 1, NULL}, {"date", 1, NULL}, {"author", 1, NULL},
				 {NULL, 0, NULL}};
	int npos, rc;
	if (cli_parse(verb, argc, argv, opts, &npos) || want_name(verb, npos, argv, 0))
		return 2;
	int32_t on = YOC_DATE_NONE;
	if (cli_get(opts, "date") && parse_date(verb, "date", cli_get(opts, "date"), &on))
		return 2;
	yoc_store *s = NULL;
	if ((rc = open_db(verb, opts, 1, &s)))
		return rc;
	struct yoc_error e;
	yoc_error_clear(&e);
	struct yoc_cohort_enrol_stats st;
	struct yoc_cohort_def d;
	rc = 1;
	if (yoc_cohort_def_get(yoc_store_db(s), argv[1], 0, &d, &e) ||
	    (yoc_cohort_def_free(&d), 0) ||
	    yoc_cohort_enrol(yoc_store_db(s), argv[1], on, author_of(opts), &st, &e)) {
		cli_err_rec(verb, &e);
		goto cleanup;
	}
	printf("cohort %s: %zu joined (%zu included or added with consent for care, %zu already"
	       " members)%s\n", argv[1], st.joined, st.eligible, st.already,
	       st.moved ? "; memberships of other cohorts ended" : "");
	rc = 0;
cleanup:
	yoc_store_close(s);
	return rc;
}

static int run_refresh(int argc, char **argv)
{
	const char *verb = "cohort refresh";
	struct cli_opt opts[] = {{"db", 1, NULL}, {NULL, 0, NULL}};
	int npos, rc;
	if (cli_parse(verb, argc, argv, opts, &npos))
		return 2;
	if (npos && want_name(verb, npos, argv, 0))
		return 2;
	yoc_store *s = NULL;
	if ((rc = open_db(verb, opts, 1, &s)))
		return rc;
	struct yoc_error e;
	yoc_error_clear(&e);
	struct yoc_cohort_refresh_stats st;
	rc = 1;
	if (yoc_cohort_refresh(s, npos ? argv[1] : NULL, "yoc cohort refresh (deaths, gp_register)",
			       &st, &e)) {
		cli_err_rec(verb, &e);
		goto cleanup;
	}
	printf("cohort refresh%s%s: %zu open memberships checked; ended %zu (died %zu, left the"
	       " practice %zu, deregistered %zu)", npos ? " " : "", npos ? argv[1] : "", st.open,
	       st.died + st.left_practice + st.deregistered, st.died, st.left_practice,
	       st.deregistered);
	if (st.pending)
		printf("; %zu registration end%s after the deaths feed's last month, decided when it"
		       " arrives", st.pending, st.pending == 1 ? "" : "s");
	printf("\n");
	rc = 0;
cleanup:
	yoc_store_close(s);
	return rc;
}

/* ---- register, list, show, export --------------------------------------------------------- */

static void member_csv(struct yoc_csvw *w, const struct yoc_cohort_member *m)
{
	char j[11], l[11] = "";
	yoc_date_format(m->join, j);
	if (m->leave != YOC_DATE_NONE)
		yoc_date_format(m->leave, l);
	yoc_csvw_str(w, m->pseudo);
	yoc_csvw_str(w, m->practice);
	yoc_csvw_str(w, j);
	yoc_csvw_str(w, l);
	yoc_csvw_str(w, m->leave_reason);
	yoc_csvw_str(w, m->tariff);
	yoc_csvw_int(w, m->secondary_use);
	yoc_csvw_end(w);
}

static void members_header(struct yoc_csvw *w)
{
	static const char *const h[] = {"pseudo_id", "practice", "join_date", "leave_date",
					"leave_reason", "tariff_category", "secondary_use", NULL};
	for (int i = 0; h[i]; i++)
		yoc_csvw_str(w, h[i]);
	yoc_csvw_end(w);
}

static int run_register(int argc, char **argv)
{
	const char *verb = "cohort register";
	struct cli_opt opts[] = {{"db", 1, NULL}, {"as-of", 1, NULL}, {"history", 0, NULL},
				 {NULL, 0, NULL}};
	int npos, rc;
	if (cli_parse(verb, argc, argv, opts, &npos) || want_name(verb, npos, argv, 0))
		return 2;
	int32_t asof = yoc_cohort_today();
	if (cli_get(opts, "as-of") && parse_date(verb, "as-of", cli_get(opts, "as-of"), &asof))
		return 2;
	yoc_store *s = NULL;
	if ((rc = open_db(verb, opts, 0, &s)))
		return rc;
	struct yoc_error e;
	yoc_error_clear(&e);
	struct yoc_cohort_member *m = NULL;
	size_t n = 0;
	struct yoc_cohort_def d;
	rc = 1;
	if (yoc_cohort_def_get(yoc_store_db(s), argv[1], 0, &d, &e) ||
	    (yoc_cohort_def_free(&d), 0) ||
	    (cli_get(opts, "history")
		     ? yoc_cohort_register_all(yoc_store_db(s), argv[1], &m, &n, &e)
		     : yoc_cohort_register_asof(yoc_store_db(s), argv[1], asof, &m, &n, &e))) {
		cli_err_rec(verb, &e);
		goto cleanup;
	}
	struct yoc_csvw w;
	yoc_csvw_init(&w, stdout, ',');
	members_header(&w);
	for (size_t i = 0; i < n; i++)
		member_csv(&w, &m[i]);
	rc = yoc_csvw_status(&w) ? 1 : 0;
cleanup:
	yoc_free(m);
	yoc_store_close(s);
	return rc;
}

static int run_list(int argc, char **argv)
{
	const char *verb = "cohort list";
	struct cli_opt opts[] = {{"db", 1, NULL}, {NULL, 0, NULL}};
	int npos, rc;
	if (cli_parse(verb, argc, argv, opts, &npos))
		return 2;
	if (npos) {
		cli_err(verb, "unexpected argument '%s'", argv[1]);
		return 2;
	}
	yoc_store *s = NULL;
	if ((rc = open_db(verb, opts, 0, &s)))
		return rc;
	struct yoc_error e;
	yoc_error_clear(&e);
	char **names = NULL;
	size_t n = 0;
	rc = 1;
	if (yoc_cohort_names(yoc_store_db(s), &names, &n, &e)) {
		cli_err_rec(verb, &e);
		goto cleanup;
	}
	printf("%-20s %7s  %-10s %-20s %9s %8s  %s\n", "cohort", "version", "author", "created",
	       "selected", "current", "rule");
	for (size_t i = 0; i < n; i++) {
		struct yoc_cohort_def d;
		struct yoc_cohort_funnel f;
		if (yoc_cohort_def_get(yoc_store_db(s), names[i], 0, &d, &e) ||
		    yoc_cohort_funnel(yoc_store_db(s), names[i], &f, &e)) {
			cli_err_rec(verb, &e);
			goto cleanup;
		}
		printf("%-20s %7d  %-10s %-20s %9zu %8zu  %s\n", d.name, d.version, d.author,
		       d.created, f.selected, f.current, d.rule);
		yoc_cohort_def_free(&d);
	}
	rc = 0;
cleanup:
	yoc_cohort_names_free(names, n);
	yoc_store_close(s);
	return rc;
}

static int run_show(int argc, char **argv)
{
	const char *verb = "cohort show";
	struct cli_opt opts[] = {{"db", 1, NULL}, {NULL, 0, NULL}};
	int npos, rc;
	if (cli_parse(verb, argc, argv, opts, &npos) || want_name(verb, npos, argv, 0))
		return 2;
	yoc_store *s = NULL;
	if ((rc = open_db(verb, opts, 0, &s)))
		return rc;
	sqlite3 *db = yoc_store_db(s);
	struct yoc_error e;
	yoc_error_clear(&e);
	struct yoc_cohort_def d;
	struct yoc_cohort_funnel f;
	struct yoc_cohort_month *mo = NULL;
	size_t nmo = 0;
	memset(&d, 0, sizeof d);
	rc = 1;
	/* month by month up to the end of the data (the latest analysed year) */
	int32_t until = yoc_cohort_today();
	int ly;
	if (latest_year(db, &ly) && yoc_fyear_end(ly) < until)
		until = yoc_fyear_end(ly);
	if (yoc_cohort_def_get(db, argv[1], 0, &d, &e) || yoc_cohort_funnel(db, argv[1], &f, &e) ||
	    yoc_cohort_months(db, argv[1], until, &mo, &nmo, &e)) {
		cli_err_rec(verb, &e);
		goto cleanup;
	}
	printf("cohort %s, version %d (%s, %s)\n  rule: %s\n", d.name, d.version, d.author,
	       d.created, d.rule);
	if (d.description[0])
		printf("  description: %s\n", d.description);
	if (d.service_model[0])
		printf("  service model: %s\n", d.service_model);
	if (f.fyear[0])
		printf("funnel (selection on %s):\n", f.fyear);
	else
		printf("funnel (no selection yet):\n");
	printf("  population  %8zu\n  rule        %8zu\n  reviewed    %8zu\n"
	       "  included    %8zu (+ %zu added by clinicians; %zu excluded, %zu deferred)\n"
	       "  consented   %8zu (%zu also to secondary use)\n  enrolled    %8zu\n"
	       "  current     %8zu\n",
	       f.population, f.selected, f.reviewed, f.included, f.added, f.excluded, f.deferred,
	       f.consented, f.secondary, f.enrolled, f.current);
	if (f.nreason) {
		printf("exclusions by reason:\n");
		for (size_t i = 0; i < f.nreason; i++)
			printf("  %-18s %6zu\n", f.reason[i], f.reason_n[i]);
	}
	if (f.nleave) {
		printf("left the cohort:\n");
		for (size_t i = 0; i < f.nleave; i++)
			printf("  %-24s %6zu\n", f.leave[i], f.leave_n[i]);
	}
	if (nmo) {
		printf("month     size  joined  left\n");
		for (size_t i = 0; i < nmo; i++)
			printf("%s %6zu %7zu %5zu\n", mo[i].month, mo[i].size, mo[i].joined,
			       mo[i].left);
	}
	rc = 0;
cleanup:
	yoc_free(mo);
	yoc_cohort_def_free(&d);
	yoc_store_close(s);
	return rc;
}

static int run_export(int argc, char **argv)
{
	const char *verb = "cohort export";
	struct cli_opt opts[] = {{"db", 1, NULL}, {"out", 1, NULL}, {NULL, 0, NULL}};
	int npos, rc;
	if (cli_parse(verb, argc, argv, opts, &npos) || want_name(verb, npos, argv, 0))
		return 2;
	const char *out = cli_get(opts, "out");
	if (!out) {
		cli_err(verb, "--out FILE is required");
		return 2;
	}
	yoc_store *s = NULL;
	if ((rc = open_db(verb, opts, 0, &s)))
		return rc;
	struct yoc_error e;
	yoc_error_clear(&e);
	struct yoc_cohort_member *m = NULL;
	size_t n = 0;
	struct yoc_afile a;
	struct yoc_cohort_def d;
	rc = 1;
	yoc_tmp_sweep(out, NULL);
	if (yoc_cohort_def_get(yoc_store_db(s), argv[1], 0, &d, &e) ||
	    (yoc_cohort_def_free(&d), 0) ||
	    yoc_cohort_register_all(yoc_store_db(s), argv[1], &m, &n, &e) ||
	    yoc_afile_open(&a, out, &e)) {
		cli_err_rec(verb, &e);
		goto cleanup;
	}
	struct yoc_csvw w;
	yoc_csvw_init(&w, a.f, ',');
	members_header(&w);
	for (size_t i = 0; i < n; i++)
		member_csv(&w, &m[i]);
	if (yoc_csvw_status(&w)) {
		yoc_afile_abort(&a);
		cli_err(verb, "%s: write failed", out);
		goto cleanup;
	}
	if (yoc_afile_commit(&a, &e)) {
		cli_err_rec(verb, &e);
		goto cleanup;
	}
	printf("cohort %s: %zu register rows (full history) written to %s\n", argv[1], n, out);
	rc = 0;
cleanup:
	yoc_free(m);
	yoc_store_close(s);
	return rc;
}

int cli_cohort_simulate(int argc, char **argv);

static int run(int argc, char **argv)
{
	static const char *const subs[] = {"define", "select", "worklists", "review", "consent",
					   "enrol", "refresh", "register", "list", "show",
					   "export", "simulate-review", NULL};
	if (argc < 2) {
		cli_err("cohort", "want a subcommand: define, select, review, consent, enrol,"
			" refresh, register, list, show, export, simulate-review");
		return 2;
	}
	const char *v = argv[1];
	if (strcmp(v, "define") == 0)
		return run_define(argc - 1, argv + 1);
	if (strcmp(v, "select") == 0)
		return run_select(argc - 1, argv + 1);
	if (strcmp(v, "worklists") == 0)
		return run_worklists(argc - 1, argv + 1);
	if (strcmp(v, "review") == 0)
		return run_import(argc - 1, argv + 1, YOC_COHORT_REVIEW);
	if (strcmp(v, "consent") == 0)
		return run_import(argc - 1, argv + 1, YOC_COHORT_CONSENT);
	if (strcmp(v, "enrol") == 0)
		return run_enrol(argc - 1, argv + 1);
	if (strcmp(v, "refresh") == 0)
		return run_refresh(argc - 1, argv + 1);
	if (strcmp(v, "register") == 0)
		return run_register(argc - 1, argv + 1);
	if (strcmp(v, "list") == 0)
		return run_list(argc - 1, argv + 1);
	if (strcmp(v, "show") == 0)
		return run_show(argc - 1, argv + 1);
	if (strcmp(v, "export") == 0)
		return run_export(argc - 1, argv + 1);
	if (strcmp(v, "simulate-review") == 0)
		return cli_cohort_simulate(argc - 1, argv + 1);
	const char *near = cli_nearest(v, subs);
	cli_err("cohort", "unknown subcommand '%s'%s%s%s", v, near ? "; did you mean '" : "",
		near ? near : "", near ? "'?" : "");
	return 2;
}

const struct cli_verb cli_verb_cohort = {
	"cohort", "cohorts: rule selection, clinician review, consent and the register",
	usage_text, run
};

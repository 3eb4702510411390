/*
** yoc rule: check a rule (parse, print the plan or the error with a caret
** under its column), list the fields a dataset offers, or evaluate a rule
** over one year of a dataset (counts, per-clause counts, a CSV of the
** selected pseudo_ids with the clauses each met). The language is
** src/rule (docs/rules.md). Counts are printed unrounded: they are for the
** analyst on the pseudonymised store, not for publication.
*/
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "rule/rule.h"
#include "store/store.h"
#include "yoc/csv.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc rule check 'RULE' [--db DIR]\n"
	"       yoc rule fields --db DIR\n"
	"       yoc rule eval --db DIR --year FY --rule 'RULE' [--out FILE.csv] [--json]\n"
	"                     [--timing] [--repeat N]\n\n"
	"The rule language (docs/rules.md): comparisons, and/or/not, sets\n"
	"(practice in (P90001, P90004)), conditions as truth values (copd and not\n"
	"dementia), count(copd, ckd) >= 2, look-backs emergency_admissions[t-1] >= 1,\n"
	"every column of person_year and of risk_score (probability, percentile, tier).\n\n"
	"check   parses RULE and prints its normalised form, clauses and plan; with\n"
	"        --db the fields are checked against the dataset's tables. An error\n"
	"        is shown with a caret under its column.\n"
	"fields  lists the fields of the dataset with their types and tables.\n"
	"eval    selects the person-years of FY (2023/24) for which RULE is true;\n"
	"        prints how many, and per clause how many met it. --out writes\n"
	"        pseudo_id, one 0/1 column per clause and the reasons (the clauses\n"
	"        met) for each selected person, atomically. The counts are exact:\n"
	"        for the analyst, not for publication (no disclosure control).\n\n"
	"  --json      eval: print the counts as JSON\n"
	"  --timing    eval: print load and evaluation times (ms) on stderr\n"
	"  --repeat N  eval: evaluate N times, report the fastest (benchmarks)\n";

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Prints the error and, for a rule error, the rule with a caret under the column. */
static void rule_error(const char *text, const struct yoc_error *e)
{
	cli_err_rec("rule", e);
	if (e->col <= 0 || strlen(text) > 400)
		return;
	fputs("  ", stderr);
	for (const char *s = text; *s; s++)
		fputc(*s == '\n' || *s == '\t' || *s == '\r' ? ' ' : *s, stderr);
	fputs("\n  ", stderr);
	for (long c = 1; c < e->col; c++)
		fputc(' ', stderr);
	fputs("^\n", stderr);
}

static void list_fields(FILE *f, const yoc_rule_schema *sc)
{
	for (size_t i = 0; i < yoc_rule_schema_count(sc); i++) {
		int t, tab;
		const char *name = yoc_rule_schema_name(sc, i, &t, &tab);
		fprintf(f, "  %-30s %-8s %s\n", name,
			t == YOC_RULE_INT ? "integer" : t == YOC_RULE_TEXT ? "text" : "number",
			tab == YOC_RULE_RISK_SCORE ? "risk_score" : "person_year");
	}
}

static int open_schema(const char *db, yoc_store **s, yoc_rule_schema **sc, struct yoc_error *e)
{
	if (yoc_store_open(s, db, 0, e))
		return 1;
	return yoc_rule_schema_load(yoc_store_db(*s), sc, e) ? 1 : 0;
}

static int cmd_check(const char *text, const char *db)
{
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_store *s = NULL;
	yoc_rule_schema *sc = NULL;
	yoc_rule *r = NULL;
	struct yoc_buf b;
	int rc = 1;
	yoc_buf_init(&b, 0);
	if (db && open_schema(db, &s, &sc, &e)) {
		cli_err_rec("rule", &e);
		goto done;
	}
	if (yoc_rule_compile(text, sc, &r, &e)) {
		rule_error(text, &e);
		if (e.code == YOC_ENOTFOUND && sc) {
			fputs("fields:\n", stderr);
			list_fields(stderr, sc);
		}
		goto done;
	}
	if (yoc_rule_explain(r, &b)) {
		cli_err("rule", "out of memory");
		goto done;
	}
	fputs(b.data, stdout);
	rc = 0;
done:
	yoc_buf_free(&b);
	yoc_rule_free(r);
	yoc_rule_schema_free(sc);
	yoc_store_close(s);
	return rc;
}

static int write_csv(const char *out, const yoc_rule *r, const yoc_rule_frame *f,
		     const struct yoc_rule_result *res, struct yoc_error *e)
{
	struct yoc_afile af = {0};
	struct yoc_buf reasons;
	yoc_buf_init(&reasons, 0);
	yoc_tmp_sweep(out, NULL);
	if (yoc_afile_open(&af, out, e))
		return 1;
	struct yoc_csvw w;
	yoc_csvw_init(&w, af.f, ',');
	yoc_csvw_str(&w, "pseudo_id");
	char name[32];
	for (size_t c = 0; c < res->nclauses; c++) {
		snprintf(name, sizeof name, "clause_%zu", c + 1);
		yoc_csvw_str(&w, name);
	}
	yoc_csvw_str(&w, "reasons");
	yoc_csvw_end(&w);
	for (size_t i = 0; i < res->nrows; i++) {
		if (!yoc_rule_bit(res->selected, i))
			continue;
		yoc_csvw_str(&w, yoc_rule_frame_pseudo(f, i));
		yoc_buf_reset(&reasons);
		for (size_t c = 0; c < res->nclauses; c++) {
			int met = yoc_rule_bit(res->clause + c * res->words, i);
			yoc_csvw_int(&w, met);
			if (met && ((reasons.len && yoc_buf_puts(&reasons, "; ")) ||
				    yoc_buf_puts(&reasons, yoc_rule_clause_text(r, c)))) {
				yoc_afile_abort(&af);
				yoc_buf_free(&reasons);
				return yoc_error_set(e, YOC_ENOMEM, out, 0, 0, "out of memory"), 1;
			}
		}
		yoc_csvw_cell(&w, reasons.len ? reasons.data : "", reasons.len);
		yoc_csvw_end(&w);
	}
	yoc_buf_free(&reasons);
	if (yoc_csvw_status(&w)) {
		yoc_afile_abort(&af);
		yoc_error_set(e, YOC_EIO, out, 0, 0, "write failed");
		return 1;
	}
	return yoc_afile_commit(&af, e) ? 1 : 0;
}

static int cmd_eval(const struct cli_opt *opts)
{
	const char *db = cli_get(opts, "db"), *year = cli_get(opts, "year");
	const char *text = cli_get(opts, "rule"), *out = cli_get(opts, "out");
	long repeat;
	if (!db || !year || !text) {
		cli_err("rule", "eval needs --db DIR, --year FY and --rule 'RULE'");
		return 2;
	}
	if (cli_get_long("rule", opts, "repeat", 1, &repeat))
		return 2;
	if (repeat < 1)
		repeat = 1;
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_store *s = NULL;
	yoc_rule_schema *sc = NULL;
	yoc_rule *r = NULL;
	yoc_rule_frame *f = NULL;
	struct yoc_rule_result res = {0};
	int rc = 1;
	if (open_schema(db, &s, &sc, &e)) {
		cli_err_rec("rule", &e);
		goto done;
	}
	if (yoc_rule_compile(text, sc, &r, &e)) {
		rule_error(text, &e);
		goto done;
	}
	double t0 = now_ms();
	if (yoc_rule_frame_load(yoc_store_db(s), year, &r, 1, &f, &e)) {
		cli_err_rec("rule", &e);
		goto done;
	}
	double t1 = now_ms(), best = 0;
	for (long k = 0; k < repeat; k++) {
		double a = now_ms();
		yoc_rule_result_free(&res);
		if (yoc_rule_eval(r, f, &res, &e)) {
			cli_err_rec("rule", &e);
			goto done;
		}
		double d = now_ms() - a;
		if (k == 0 || d < best)
			best = d;
	}
	if (yoc_rule_frame_rows(f) == 0) {
		cli_err("rule", "no person-years of %s in person_year", year);
		goto done;
	}
	if (cli_get(opts, "timing"))
		fprintf(stderr, "rows=%zu load_ms=%.1f eval_ms=%.2f\n", res.nrows, t1 - t0, best);
	if (out && write_csv(out, r, f, &res, &e)) {
		cli_err_rec("rule", &e);
		goto done;
	}
	if (cli_get(opts, "json")) {
		printf("{\"year\": ");
		cli_json_str(stdout, year);
		printf(", \"rows\": %zu, \"selected\": %zu, \"clauses\": [", res.nrows, res.nselected);
		for (size_t c = 0; c < res.nclauses; c++) {
			printf("%s{\"text\": ", c ? ", " : "");
			cli_json_str(stdout, yoc_rule_clause_text(r, c));
			printf(", \"true\": %zu, \"selected\": %zu}", res.clause_count[c],
			       res.clause_selected[c]);
		}
		printf("]}\n");
	} else {
		printf("rule eval %s %s: %zu of %zu person-years selected\n", db, year, res.nselected,
		       res.nrows);
		for (size_t c = 0; c < res.nclauses; c++)
			printf("  clause %zu: %zu true, %zu of them selected: %s\n", c + 1,
			       res.clause_count[c], res.clause_selected[c], yoc_rule_clause_text(r, c));
		if (out)
			printf("%zu rows written to %s\n", res.nselected, out);
	}
	rc = 0;
done:
	yoc_rule_result_free(&res);
	yoc_rule_frame_free(f);
	yoc_rule_free(r);
	yoc_rule_schema_free(sc);
	yoc_store_close(s);
	return rc;
}

static int run(int argc, char **argv)
{
	struct cli_opt opts[] = {{"db", 1, NULL},   {"year", 1, NULL},   {"rule", 1, NULL},
				 {"out", 1, NULL},  {"json", 0, NULL},   {"timing", 0, NULL},
				 {"repeat", 1, NULL}, {NULL, 0, NULL}};
	int npos = 0;
	int rc = cli_parse("rule", argc, argv, opts, &npos);
	if (rc)
		return rc;
	const char *sub = npos >= 1 ? argv[1] : NULL;
	if (sub && strcmp(sub, "check") == 0) {
		if (npos != 2) {
			cli_err("rule", "check takes one rule: yoc rule check 'RULE' [--db DIR]");
			return 2;
		}
		return cmd_check(argv[2], cli_get(opts, "db"));
	}
	if (sub && strcmp(sub, "fields") == 0 && npos == 1) {
		struct yoc_error e;
		yoc_error_clear(&e);
		yoc_store *s = NULL;
		yoc_rule_schema *sc = NULL;
		if (!cli_get(opts, "db")) {
			cli_err("rule", "fields needs --db DIR");
			return 2;
		}
		rc = open_schema(cli_get(opts, "db"), &s, &sc, &e);
		if (rc)
			cli_err_rec("rule", &e);
		else
			list_fields(stdout, sc);
		yoc_rule_schema_free(sc);
		yoc_store_close(s);
		return rc;
	}
	if (sub && strcmp(sub, "eval") == 0 && npos == 1)
		return cmd_eval(opts);
	cli_err("rule", "expected 'check', 'fields' or 'eval'; see 'yoc help rule'");
	return 2;
}

const struct cli_verb cli_verb_rule = {
	"rule", "check and evaluate rules over person_year and risk_score", usage_text, run};

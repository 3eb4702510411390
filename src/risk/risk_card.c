/*
** The model card of the last temporal validation, in the manner of OHDSI's
** PatientLevelPrediction: intended use, outcome, training and evaluation
** data, performance overall and by subgroup, comparators, known limits. Read
** from the catalog tables risk_validation, risk_calibration and risk_model,
** written as JSON and as Markdown. Nothing is computed here.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "risk/risk.h"

static const char intended_use[] =
	"Ranks a registered population by the risk of one or more emergency admissions, or "
	"death, in the next financial year, to choose people for proactive care (case "
	"management, care planning, medication review) and to describe risk by practice. "
	"Not for individual clinical decisions without clinical review, nor for rationing care.";

static const char outcome[] =
	"One or more emergency admissions in year t+1, or death in t+1, for people alive at "
	"the end of year t with a row in t+1 (people who left are not counted).";

static const char *const limits[] = {
	"Logistic regression on one year of features; no interactions or splines.",
	"Temporal validation on one later year of the same population, not an external one.",
	"People who move away are left out of the outcome, so risk among the mobile is not "
	"measured.",
	"Costs are yoc's commissioner prices, not local contract values.",
	"Condition flags come from the GP register and hospital diagnoses of the code list; "
	"undiagnosed conditions are invisible to the model.",
	"On a synthetic dataset the figures describe the generator, not a real population.",
};

static void jnum(struct yoc_buf *b, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		yoc_buf_puts(b, "null");
	else
		yoc_buf_printf(b, "%.6g", sqlite3_column_double(st, col));
}

static void mnum(struct yoc_buf *b, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		yoc_buf_puts(b, "-");
	else
		yoc_buf_printf(b, "%.4g", sqlite3_column_double(st, col));
}

static const char *txt(sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);
	return s ? s : "";
}

int yoc_risk_card(sqlite3 *db, struct yoc_buf *js, struct yoc_buf *md, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;
	double v[4] = {0, 0, 0, 0};
	char train[16] = "", eval[16] = "";
	static const char *const counts[4] = {"n_train", "events_train", "n", "events"};
	for (int k = 0; k < 4; k++) {
		if (sqlite3_prepare_v2(db, "SELECT value, train_year, eval_year FROM risk_validation "
				       "WHERE metric = ? AND model = 'model'", -1, &st, NULL) != SQLITE_OK)
			goto sqlfail;
		sqlite3_bind_text(st, 1, counts[k], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_finalize(st);
			return yoc_error_set(e, YOC_ENOTFOUND, "risk_validation", 0, 0,
					     "no validation: run yoc risk validate first");
		}
		v[k] = sqlite3_column_double(st, 0);
		snprintf(train, sizeof train, "%s", txt(st, 1));
		snprintf(eval, sizeof eval, "%s", txt(st, 2));
		sqlite3_finalize(st);
		st = NULL;
	}
	yoc_buf_printf(js, "{\n  \"card\": \"yoc risk model card\",\n  \"intended_use\": \"%s\",\n"
		       "  \"outcome\": \"%s\",\n", intended_use, outcome);
	yoc_buf_printf(js, "  \"training\": {\"features_year\": \"%s\", \"n\": %.0f, \"events\": "
		       "%.0f},\n  \"evaluation\": {\"design\": \"temporal: fitted on the features "
		       "of %s, evaluated on the features of %s with the outcome in the year "
		       "after\", \"features_year\": \"%s\", \"n\": %.0f, \"events\": %.0f},\n",
		       train, v[0], v[1], train, eval, eval, v[2], v[3]);
	yoc_buf_printf(md, "# Risk model card\n\n## Intended use\n\n%s\n\n## Outcome\n\n%s\n\n"
		       "## Data\n\n| | features year | person-years | events |\n|---|---|---|---|\n"
		       "| training | %s | %.0f | %.0f |\n| evaluation (temporal) | %s | %.0f | %.0f |\n\n",
		       intended_use, outcome, train, v[0], v[1], eval, v[2], v[3]);
	/* performance of every score: the model first, then comparators */
	if (sqlite3_prepare_v2(db, "SELECT model, metric, value, lo, hi FROM risk_validation "
			       "WHERE metric NOT LIKE 'decile%' AND metric NOT IN ('n', 'events', "
			       "'n_train', 'events_train') ORDER BY model != 'model', model, rowid",
			       -1, &st, NULL) != SQLITE_OK)
		goto sqlfail;
	yoc_buf_puts(js, "  \"performance\": [");
	yoc_buf_puts(md, "## Performance and comparators\n\nOn the same evaluation rows; "
			 "`qadmissions` is the published figure (Hippisley-Cox and Coupland 2013), "
			 "not computed here.\n\n| score | metric | value | 95% CI |\n|---|---|---|---|\n");
	int first = 1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		yoc_buf_printf(js, "%s\n    {\"model\": \"%s\", \"metric\": \"%s\", \"value\": ",
			       first ? "" : ",", txt(st, 0), txt(st, 1));
		jnum(js, st, 2);
		yoc_buf_puts(js, ", \"lo\": ");
		jnum(js, st, 3);
		yoc_buf_puts(js, ", \"hi\": ");
		jnum(js, st, 4);
		yoc_buf_puts(js, "}");
		yoc_buf_printf(md, "| %s | %s | ", txt(st, 0), txt(st, 1));
		mnum(md, st, 2);
		yoc_buf_puts(md, " | ");
		if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
			mnum(md, st, 3);
			yoc_buf_puts(md, "–");
			mnum(md, st, 4);
		}
		yoc_buf_puts(md, " |\n");
		first = 0;
	}
	sqlite3_finalize(st);
	st = NULL;
	yoc_buf_puts(js, "\n  ],\n  \"subgroups\": [");
	yoc_buf_puts(md, "\n## Calibration by subgroup\n\nObserved (O) and expected (E) events, "
			 "O/E with a 95% interval.\n\n| score | grouping | group | n | O | E | O/E "
			 "| 95% CI |\n|---|---|---|---|---|---|---|---|\n");
	if (sqlite3_prepare_v2(db, "SELECT model, grouping, grp, n, observed, expected, oe, oe_lo, "
			       "oe_hi FROM risk_calibration ORDER BY model, grouping = 'decile', "
			       "grouping, grp", -1, &st, NULL) != SQLITE_OK)
		goto sqlfail;
	first = 1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		yoc_buf_printf(js, "%s\n    {\"model\": \"%s\", \"grouping\": \"%s\", \"group\": "
			       "\"%s\", \"n\": %lld, \"observed\": ", first ? "" : ",", txt(st, 0),
			       txt(st, 1), txt(st, 2), (long long)sqlite3_column_int64(st, 3));
		jnum(js, st, 4);
		yoc_buf_puts(js, ", \"expected\": ");
		jnum(js, st, 5);
		yoc_buf_puts(js, ", \"oe\": ");
		jnum(js, st, 6);
		yoc_buf_puts(js, ", \"oe_lo\": ");
		jnum(js, st, 7);
		yoc_buf_puts(js, ", \"oe_hi\": ");
		jnum(js, st, 8);
		yoc_buf_puts(js, "}");
		yoc_buf_printf(md, "| %s | %s | %s | %lld | ", txt(st, 0), txt(st, 1), txt(st, 2),
			       (long long)sqlite3_column_int64(st, 3));
		for (int c = 4; c <= 6; c++) {
			mnum(md, st, c);
			yoc_buf_puts(md, " | ");
		}
		mnum(md, st, 7);
		yoc_buf_puts(md, "–");
		mnum(md, st, 8);
		yoc_buf_puts(md, " |\n");
		first = 0;
	}
	sqlite3_finalize(st);
	st = NULL;
	yoc_buf_puts(js, "\n  ],\n  \"limits\": [");
	yoc_buf_puts(md, "\n## Known limits\n\n");
	for (size_t k = 0; k < sizeof limits / sizeof limits[0]; k++) {
		yoc_buf_printf(js, "%s\n    \"%s\"", k ? "," : "", limits[k]);
		yoc_buf_printf(md, "- %s\n", limits[k]);
	}
	rc = yoc_buf_puts(js, "\n  ]\n}\n");
	if (!rc)
		rc = yoc_buf_puts(md, "");
	if (rc)
		return yoc_error_set(e, YOC_ENOMEM, "risk card", 0, 0, "out of memory");
	return 0;
sqlfail:
	rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

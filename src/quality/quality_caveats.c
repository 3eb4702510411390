/*
** Data-quality caveats of one reported financial year: what the published
** figures miss or estimate, each with its effect in people and pence, ranked
** biggest first. Read-only SQL over the catalog and the analysed tables;
** used by the quality report (caveats.csv) and by the main report. Must not
** print, exit or publish: counts here are exact (the report protects them).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quality/quality_int.h"
#include "yoc/io.h"

/* Appends one caveat; 0 or YOC_ENOMEM. */
static int push(struct yoc_caveat **a, size_t *n, size_t *cap, const char *kind,
		int64_t people, int64_t pence, int64_t rows, const char *anchor, const char *text)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct yoc_caveat *na = yoc_realloc(*a, nc * sizeof *na);
		if (!na)
			return YOC_ENOMEM;
		*a = na;
		*cap = nc;
	}
	struct yoc_caveat *c = &(*a)[(*n)++];
	memset(c, 0, sizeof *c);
	snprintf(c->kind, sizeof c->kind, "%s", kind);
	snprintf(c->text, sizeof c->text, "%s", text);
	snprintf(c->anchor, sizeof c->anchor, "%s", anchor);
	c->people = people;
	c->pence = pence;
	c->rows = rows;
	return 0;
}

static int cav_cmp(const void *a, const void *b)
{
	const struct yoc_caveat *x = a, *y = b;
	if (x->pence != y->pence)
		return x->pence > y->pence ? -1 : 1;
	if (x->people != y->people)
		return x->people > y->people ? -1 : 1;
	if (x->rows != y->rows)
		return x->rows > y->rows ? -1 : 1;
	int k = strcmp(x->kind, y->kind);
	return k ? k : strcmp(x->text, y->text);
}

/* "£1,234" of pence, whole pounds. */
static const char *pounds(int64_t pence, char *buf, size_t cap)
{
	char d[32];
	int64_t p = (pence + 50) / 100;
	snprintf(d, sizeof d, "%lld", (long long)(p < 0 ? -p : p));
	size_t l = strlen(d), o = 0;
	o += (size_t)snprintf(buf, cap, "%s\xc2\xa3", p < 0 ? "-" : "");
	for (size_t i = 0; i < l && o + 2 < cap; i++) {
		if (i && (l - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = d[i];
	}
	buf[o] = 0;
	return buf;
}

/* The six queries; each row: kind, people, pence, rows, anchor, text fields. */
static const char *const sql_missing =
	/* months of the year each provider sent; a provider with some but not
	 * all: the missing months' money estimated from its other months */
	"WITH m AS (SELECT DISTINCT f.provider, l.month FROM linkage l JOIN current_files f"
	" USING(file_id) WHERE l.month BETWEEN ?2 AND ?3),"
	" p AS (SELECT provider, count(*) AS n FROM m GROUP BY provider HAVING n < 12)"
	" SELECT p.provider, p.n,"
	" coalesce((SELECT sum(people) FROM provider_cost c WHERE c.fyear = ?1 AND"
	" c.provider = p.provider), 0),"
	" coalesce((SELECT sum(cost) FROM provider_cost c WHERE c.fyear = ?1 AND"
	" c.provider = p.provider), 0),"
	" (SELECT group_concat(month, ' ') FROM (SELECT DISTINCT month FROM m) a WHERE"
	" month NOT IN (SELECT month FROM m b WHERE b.provider = p.provider))"
	" FROM p ORDER BY p.provider";
static const char *const sql_renamed =
	"SELECT f.provider, c.name, c.source, count(DISTINCT f.file_id), sum(f.rows)"
	" FROM file_columns c JOIN current_files f USING(file_id)"
	" WHERE c.source <> c.name AND EXISTS (SELECT 1 FROM file_columns o JOIN current_files g"
	" USING(file_id) WHERE g.kind = f.kind AND g.provider = f.provider AND"
	" o.file_id <> f.file_id AND o.source = c.name)"
	" AND EXISTS (SELECT 1 FROM linkage l WHERE l.file_id = f.file_id AND l.month"
	" BETWEEN ?2 AND ?3)"
	" GROUP BY f.provider, c.name, c.source ORDER BY 1, 2, 3";
static const char *const sql_priced =
	"SELECT s.feed, s.how, s.records, CASE WHEN s.how = 'priced_at_average' THEN s.cost"
	" ELSE s.records * " "coalesce((SELECT sum(cost) / nullif(sum(records), 0) FROM"
	" costing_summary p WHERE p.fyear = ?1 AND p.feed = s.feed AND p.how = 'priced'), 0)"
	" END FROM costing_summary s WHERE s.fyear = ?1 AND s.how IN ('priced_at_average',"
	" 'unpriced') AND s.records > 0 ORDER BY 1, 2";
static const char *const sql_nopseudo =
	"SELECT u.feed, u.records, u.records * coalesce((SELECT sum(cost) /"
	" nullif(sum(records), 0) FROM costing_summary p WHERE p.fyear = ?1 AND p.feed = u.feed"
	" AND p.how = 'priced'), 0) FROM unpriced_activity u WHERE u.fyear = ?1 AND"
	" u.reason = 'no_pseudonym' AND u.records > 0 ORDER BY 1";
static const char *const sql_practice =
	"SELECT count(*), coalesce(sum(cost_total), 0) FROM person_year WHERE fyear = ?1 AND"
	" practice IS NULL";

int yoc_quality_caveats(sqlite3 *db, const char *fyear, struct yoc_caveat **out, size_t *n,
			struct yoc_error *e)
{
	return yoc_quality_caveats_with(db, fyear, NULL, out, n, e);
}

int yoc_quality_caveats_with(sqlite3 *db, const char *fyear, const int64_t *unknown,
			     struct yoc_caveat **out, size_t *n, struct yoc_error *e)
{
	struct yoc_caveat *a = NULL;
	size_t na = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	char fy[16], lo[16], hi[16], text[512], m1[40], m2[40];
	int rc = 0, y;
	*out = NULL;
	*n = 0;
	if (fyear)
		snprintf(fy, sizeof fy, "%s", fyear);
	else if (sqlite3_prepare_v2(db, "SELECT max(fyear) FROM person_year", -1, &st, NULL) ==
		 SQLITE_OK && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(fy, sizeof fy, "%s", (const char *)sqlite3_column_text(st, 0));
	else
		fy[0] = 0;
	sqlite3_finalize(st);
	st = NULL;
	if (!fy[0])
		return 0; /* nothing analysed: no figures to qualify */
	if (sscanf(fy, "%4d/", &y) != 1 || y < 1900 || y > 9000)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
				     "financial year '%s' is not YYYY/YY", fy);
	snprintf(lo, sizeof lo, "%04d-04", y);
	snprintf(hi, sizeof hi, "%04d-03", y + 1);
	const char *const q[5] = {sql_missing, sql_renamed, sql_priced, sql_nopseudo, sql_practice};
	for (int k = 0; k < 5 && !rc; k++) {
		if (k == 4 && unknown) {
			if (unknown[0] == 0)
				break;
			snprintf(text, sizeof text, "%lld people with no valid practice"
				 " (\"Practice unknown\"): %s of costs in no practice's figures",
				 (long long)unknown[0], pounds(unknown[1], m2, sizeof m2));
			if (push(&a, &na, &cap, "practice_unknown", unknown[0], unknown[1],
				 unknown[0], "quality.html#practice", text))
				rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			break;
		}
		if (sqlite3_prepare_v2(db, q[k], -1, &st, NULL)) {
			/* a dataset never analysed has no costing tables: no such caveats */
			sqlite3_finalize(st);
			st = NULL;
			continue;
		}
		sqlite3_bind_text(st, 1, fy, -1, SQLITE_STATIC);
		if (k < 2) {
			sqlite3_bind_text(st, 2, lo, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, hi, -1, SQLITE_STATIC);
		}
#define T(i) ((const char *)sqlite3_column_text(st, i) ? (const char *)sqlite3_column_text(st, i) : "")
#define I(i) sqlite3_column_int64(st, i)
		int s;
		while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
			switch (k) {
			case 0: {
				int64_t have = I(1), miss = 12 - have;
				int64_t est = have > 0 ? I(3) * miss / have : 0;
				snprintf(text, sizeof text, "%s sent %lld of the 12 months of %s (missing: %s);"
					 " about %s of its activity is not in the figures (estimated from"
					 " its other months)", T(0), (long long)have, fy,
					 *T(4) ? T(4) : "months no provider sent",
					 pounds(est, m1, sizeof m1));
				rc = push(&a, &na, &cap, "missing_month", I(2), est, 0,
					  "quality.html#monthly", text);
				break;
			}
			case 1:
				snprintf(text, sizeof text, "%s sent %s as %s in %lld file%s (%lld rows);"
					 " loaded under its usual name", T(0), T(1), T(2), (long long)I(3),
					 I(3) == 1 ? "" : "s", (long long)I(4));
				rc = push(&a, &na, &cap, "renamed_column", 0, 0, I(4),
					  "quality.html#renamed", text);
				break;
			case 2: {
				int avg = strcmp(T(1), "priced_at_average") == 0;
				snprintf(text, sizeof text, avg ? "%lld %s records priced at the average"
					 " price of their kind (%s)" : "%lld %s records without a price:"
					 " about %s missing from the costs (at the feed's mean price)",
					 (long long)I(2), T(0), pounds(I(3), m1, sizeof m1));
				rc = push(&a, &na, &cap, avg ? "average_priced" : "unpriced", 0, I(3),
					  I(2), "quality.html#caveats", text);
				break;
			}
			case 3:
				snprintf(text, sizeof text, "%lld %s records without a pseudonym: linked to"
					 " nobody, about %s not in anyone's costs (at the feed's mean price)",
					 (long long)I(1), T(0), pounds(I(2), m1, sizeof m1));
				rc = push(&a, &na, &cap, "no_pseudonym", 0, I(2), I(1),
					  "quality.html#unlinked", text);
				break;
			case 4:
				if (I(0) == 0)
					break;
				snprintf(text, sizeof text, "%lld people with no valid practice"
					 " (\"Practice unknown\"): %s of costs in no practice's figures",
					 (long long)I(0), pounds(I(1), m2, sizeof m2));
				rc = push(&a, &na, &cap, "practice_unknown", I(0), I(1), I(0),
					  "quality.html#practice", text);
				break;
			}
		}
#undef T
#undef I
		if (rc)
			rc = yoc_error_set(e, rc, NULL, 0, 0, "out of memory");
		else if (s != SQLITE_DONE)
			rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "sqlite: %s",
					   sqlite3_errmsg(db));
		sqlite3_finalize(st);
		st = NULL;
	}
	if (rc) {
		yoc_free(a);
		return rc;
	}
	if (na)
		qsort(a, na, sizeof *a, cav_cmp);
	for (size_t i = 0; i < na; i++)
		a[i].rank = (int)i + 1;
	*out = a;
	*n = na;
	return 0;
}

int yoc__quality_caveats_csv(sqlite3 *db, const char *fyear, const char *path,
			     struct yoc_error *e)
{
	struct yoc_caveat *c = NULL;
	size_t n = 0;
	struct yoc_afile af = {0};
	struct yoc_csvw w;
	int rc = yoc_quality_caveats(db, fyear, &c, &n, e);
	if (rc)
		return rc;
	if ((rc = yoc_afile_open(&af, path, e)))
		goto cleanup;
	yoc_csvw_init(&w, af.f, ',');
	static const char *const h[] = {"rank", "kind", "people", "pence", "rows", "anchor",
					"text"};
	for (size_t i = 0; i < 7; i++)
		yoc_csvw_str(&w, h[i]);
	yoc_csvw_end(&w);
	for (size_t i = 0; i < n; i++) {
		char num[4][32];
		snprintf(num[0], sizeof num[0], "%d", c[i].rank);
		snprintf(num[1], sizeof num[1], "%lld", (long long)c[i].people);
		snprintf(num[2], sizeof num[2], "%lld", (long long)c[i].pence);
		snprintf(num[3], sizeof num[3], "%lld", (long long)c[i].rows);
		yoc_csvw_str(&w, num[0]);
		yoc_csvw_str(&w, c[i].kind);
		yoc_csvw_str(&w, num[1]);
		yoc_csvw_str(&w, num[2]);
		yoc_csvw_str(&w, num[3]);
		yoc_csvw_str(&w, c[i].anchor);
		yoc_csvw_str(&w, c[i].text);
		yoc_csvw_end(&w);
	}
	if (yoc_csvw_status(&w)) {
		rc = yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot write");
		yoc_afile_abort(&af);
		goto cleanup;
	}
	rc = yoc_afile_commit(&af, e);
cleanup:
	yoc_free(c);
	return rc;
}

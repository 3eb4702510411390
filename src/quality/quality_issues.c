/*
** The quality report's issues ranked by impact: every flagged finding of
** quality.csv grouped by check and feed, and the caveats of the reported
** year (quality_caveats.c) with the people and pence they affect; biggest
** first (pence, then people, then rows, then findings). A check a caveat
** measures (a missing month, a renamed column, records with no pseudonym,
** people with no practice) is listed once, as the caveat. Writes
** DIR2/issues.csv and the "Issues by impact" table of quality.html. Reads
** temp.qrow only; must not print or publish (counts are exact).
*/
#include <stdio.h>
#include <string.h>

#include "quality/quality_int.h"
#include "yoc/io.h"

/* The check of quality.csv a caveat kind measures, or NULL. */
static const char *caveat_check(const char *kind)
{
	static const char *const map[][2] = {
		{"missing_month", "missing_month"}, {"renamed_column", "renamed_column"},
		{"no_pseudonym", "unlinked_no_pseudonym"}, {"practice_unknown", "practice_unknown"},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(kind, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

/* The quality.html section showing a check's detail. */
static const char *const anchor_sql =
	"CASE WHEN sec = 'defects' THEN 'quality.html#defects'"
	" WHEN chk = 'rows_quarantined' THEN 'quality.html#quarantine'"
	" WHEN chk = 'completeness' THEN 'quality.html#incomplete'"
	" WHEN chk = 'volume' THEN 'quality.html#monthly'"
	" WHEN chk = 'contract_triangulation' THEN 'quality.html#contracts'"
	" WHEN chk IN ('column_missing', 'column_added') THEN 'quality.html#renamed'"
	" WHEN chk = 'distribution_shift' THEN 'quality.html#shifts'"
	" WHEN sec = 'linkage' THEN 'quality.html#linkage'"
	" WHEN sec = 'consistency' THEN 'quality.html#consistency'"
	" ELSE 'quality.html#gaps' END";

int yoc__quality_issues(struct q *Q, const char *fyear, struct yoc_error *e)
{
	sqlite3 *db = yoc_store_db(Q->s);
	struct yoc_caveat *c = NULL;
	size_t n = 0;
	sqlite3_stmt *st = NULL;
	char sql[2048];
	int rc = yoc_quality_caveats(db, fyear, &c, &n, e);
	if (rc)
		return rc;
	if (sqlite3_exec(db, "DROP TABLE IF EXISTS temp.qissue; CREATE TEMP TABLE qissue(chk TEXT,"
			 " kind TEXT, providers TEXT, findings INTEGER, rows INTEGER, people INTEGER,"
			 " pence INTEGER, anchor TEXT, text TEXT)", NULL, NULL, NULL))
		goto sqlfail;
	/* rows affected where a finding's value counts rows; otherwise findings only */
	snprintf(sql, sizeof sql,
		 "INSERT INTO temp.qissue SELECT chk, kind, group_concat(DISTINCT prov), count(*),"
		 " CASE WHEN sec = 'defects' OR chk IN ('rows_quarantined', 'validity',"
		 " 'rows_rejected_at_source') THEN CAST(sum(value) AS INTEGER) ELSE 0 END, 0, 0, %s,"
		 " replace(chk, '_', ' ') || ' (' || flag || '): ' || count(*) || ' finding'"
		 " || CASE count(*) WHEN 1 THEN '' ELSE 's' END || CASE kind WHEN '' THEN '' ELSE"
		 " ' in ' || kind END FROM temp.qrow WHERE flag NOT IN ('', 'skipped', 'check')"
		 " GROUP BY sec, chk, kind, flag",
		 anchor_sql);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO temp.qissue VALUES(?1, '', '', 1, ?2, ?3, ?4, ?5,"
			       " ?6)", -1, &st, NULL))
		goto sqlfail;
	for (size_t i = 0; i < n; i++) {
		const char *chk = caveat_check(c[i].kind);
		if (chk) {
			char del[128];
			snprintf(del, sizeof del, "DELETE FROM temp.qissue WHERE chk = '%s'", chk);
			if (sqlite3_exec(db, del, NULL, NULL, NULL))
				goto sqlfail;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const char *chk = caveat_check(c[i].kind);
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, chk ? chk : c[i].kind, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, c[i].rows);
		sqlite3_bind_int64(st, 3, c[i].people);
		sqlite3_bind_int64(st, 4, c[i].pence);
		sqlite3_bind_text(st, 5, c[i].anchor, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 6, c[i].text, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto sqlfail;
	}
	rc = YOC_OK;
	goto cleanup;
sqlfail:
	rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "sqlite: issues: %s", sqlite3_errmsg(db));
cleanup:
	sqlite3_finalize(st);
	yoc_free(c);
	return rc;
}

const char *const yoc__quality_issue_order =
	"SELECT row_number() OVER (ORDER BY pence DESC, people DESC, rows DESC, findings DESC,"
	" chk, kind), chk, kind, providers, findings, rows, people, pence, anchor, text"
	" FROM temp.qissue ORDER BY 1";

int yoc__quality_issues_csv(struct q *Q, const char *path, struct yoc_error *e)
{
	sqlite3 *db = yoc_store_db(Q->s);
	sqlite3_stmt *st = NULL;
	struct yoc_afile af = {0};
	struct yoc_csvw w;
	int rc;
	if (sqlite3_prepare_v2(db, yoc__quality_issue_order, -1, &st, NULL))
		return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "sqlite: %s", sqlite3_errmsg(db));
	if ((rc = yoc_afile_open(&af, path, e)))
		goto cleanup;
	yoc_csvw_init(&w, af.f, ',');
	static const char *const h[] = {"rank", "check", "kind", "providers", "findings", "rows",
					"people", "pence", "anchor", "text"};
	for (size_t i = 0; i < 10; i++)
		yoc_csvw_str(&w, h[i]);
	yoc_csvw_end(&w);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int i = 0; i < 10; i++) {
			const char *z = (const char *)sqlite3_column_text(st, i);
			yoc_csvw_str(&w, z ? z : "");
		}
		yoc_csvw_end(&w);
	}
	if (yoc_csvw_status(&w)) {
		rc = yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot write");
		yoc_afile_abort(&af);
		goto cleanup;
	}
	rc = yoc_afile_commit(&af, e);
cleanup:
	sqlite3_finalize(st);
	return rc;
}

/*
** The small tables a report reads, from every shard into one catalog
** (shard.h). Each rank packs its catalog's tables into an SQLite image; the
** root attaches the images and writes one catalog in which every table the
** report reads is what a single dataset would hold: per-file and per-key
** counts and pence summed (integers, so exactly), and what every shard holds
** alike (file names, columns) taken from the first. The per-person tables
** (person_year, person) travel as their schema alone: the report's figures
** of them come from the shards' merged partials (src/report/report_part.c,
** docs/mpi.md); so do the tables the report never reads (quarantine, flags,
** file_stats, ...), so the merged catalog is not a dataset. No MPI here.
*/
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shard/shard.h"

enum { M_FIRST, M_APPEND, M_SUM, M_SCHEMA, M_RUN };

static const struct mtab {
	const char *name;
	int how;
	const char *keys;  /* M_SUM: grouped by; M_APPEND: the order */
	const char *sums;  /* M_SUM: summed (others: the first shard's value) */
} mtabs[] = {
	{"meta", M_FIRST, NULL, NULL},
	{"loads", M_SUM, "load_id", "rows,loaded,quarantined"},
	{"files", M_SUM, "file_id", "rows,loaded,quarantined,flagged"},
	{"file_columns", M_FIRST, NULL, NULL},
	{"quarantine", M_SCHEMA, NULL, NULL},
	{"flags", M_SCHEMA, NULL, NULL},
	{"file_stats", M_SCHEMA, NULL, NULL},
	{"nhsno_status", M_SCHEMA, NULL, NULL},
	{"person", M_SCHEMA, NULL, NULL},
	{"linkage", M_SUM, "file_id,month", "rows,linked,no_pseudonym,not_registered"},
	{"duplicate_files", M_FIRST, NULL, NULL},
	{"source_account", M_FIRST, NULL, NULL},
	{"source_rejected", M_FIRST, NULL, NULL},
	{"person_year", M_SCHEMA, NULL, NULL},
	{"analyse_run", M_RUN, NULL, NULL},
	{"unpriced_activity", M_SUM, "fyear,feed,reason", "records"},
	{"costing_summary", M_SUM, "fyear,feed,how", "records,cost"},
	{"provider_cost", M_SUM, "fyear,provider,setting", "people,activity,cost"},
	{"activity_month", M_SUM, "fyear,month,setting", "events,cost"},
	{"linkage_gain", M_SCHEMA, NULL, NULL},
	{"register_gaps", M_SCHEMA, NULL, NULL},
};
#define NMTAB (sizeof mtabs / sizeof mtabs[0])

static int sql_fail(sqlite3 *db, struct yoc_error *e, const char *what)
{
	return yoc_error_set(e, YOC_EIO, what, 0, 0, "sqlite: %s",
			     db ? sqlite3_errmsg(db) : "out of memory");
}

/* The CREATE statement of name in schema s (views too); NULL when absent. */
static char *create_sql(sqlite3 *db, const char *s, const char *name)
{
	sqlite3_stmt *q = NULL;
	char *out = NULL, *sql = sqlite3_mprintf(
		"SELECT sql FROM \"%w\".sqlite_master WHERE name = %Q AND type IN ('table','view')",
		s, name);
	if (sql && sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
		out = sqlite3_mprintf("%s", (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	sqlite3_free(sql);
	return out;
}

static int exec(sqlite3 *db, const char *sql, struct yoc_error *e, const char *what)
{
	if (!sql)
		return yoc_error_set(e, YOC_ENOMEM, what, 0, 0, "out of memory");
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? YOC_OK
								    : sql_fail(db, e, what);
}

/* Creates in main the indexes that table name has in schema sch (the
 * catalog's own: files_key, linkage_file, file_columns_file, ...), so the
 * report's joins over the merged catalog run as fast as over a dataset. */
static int copy_indexes(sqlite3 *db, const char *sch, const char *name, struct yoc_error *e,
			const char *what)
{
	sqlite3_stmt *q = NULL;
	int rc = YOC_OK;
	char *sql = sqlite3_mprintf("SELECT sql FROM \"%w\".sqlite_master WHERE type = 'index' "
				    "AND tbl_name = %Q AND sql IS NOT NULL ORDER BY name", sch, name);
	if (!sql || sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		rc = sql_fail(db, e, what);
		goto cleanup;
	}
	while (!rc && sqlite3_step(q) == SQLITE_ROW) {
		char *cs = sqlite3_mprintf("%s", (const char *)sqlite3_column_text(q, 0));
		rc = exec(db, cs, e, what);
		sqlite3_free(cs);
	}
cleanup:
	sqlite3_finalize(q);
	sqlite3_free(sql);
	return rc;
}

int yoc_shard_pack(const char *dbpath, void **out, size_t *n, struct yoc_error *e)
{
	return yoc_shard_pack_rank(dbpath, 0, out, n, e);
}

int yoc_shard_pack_rank(const char *dbpath, int rank, void **out, size_t *n,
			struct yoc_error *e)
{
	sqlite3 *db = NULL;
	int rc = YOC_OK;
	char *sql = NULL;
	*out = NULL;
	*n = 0;
	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
		rc = sql_fail(db, e, dbpath);
		goto cleanup;
	}
	sql = sqlite3_mprintf("ATTACH 'file:%q?mode=ro' AS s", dbpath);
	if ((rc = exec(db, sql, e, dbpath)))
		goto cleanup;
	for (size_t t = 0; t <= NMTAB; t++) {
		const char *name = t < NMTAB ? mtabs[t].name : "current_files";
		if (rank > 0 && (t == NMTAB || mtabs[t].how == M_FIRST))
			continue; /* the same in every shard: the first shard's is taken */
		char *cs = create_sql(db, "s", name);
		if (!cs)
			continue; /* a table an older dataset does not have */
		rc = exec(db, cs, e, dbpath);
		/* a table keyed by pseudonym (person) has no rowid: its key order */
		int keyed = strstr(cs, "WITHOUT ROWID") != NULL;
		sqlite3_free(cs);
		if (rc)
			goto cleanup;
		if (t == NMTAB)
			break; /* the view */
		if (mtabs[t].how == M_SCHEMA)
			continue;
		sqlite3_free(sql);
		sql = sqlite3_mprintf("INSERT INTO main.\"%w\" SELECT * FROM s.\"%w\"%s", name, name,
				      keyed ? "" : " ORDER BY rowid");
		if ((rc = exec(db, sql, e, dbpath)))
			goto cleanup;
		/* the first rank's image carries the indexes up the tree */
		if (rank == 0 && (rc = copy_indexes(db, "s", name, e, dbpath)))
			goto cleanup;
	}
	if ((rc = exec(db, "DETACH s", e, dbpath)))
		goto cleanup;
	sqlite3_int64 len = 0;
	unsigned char *img = sqlite3_serialize(db, "main", &len, 0);
	if (!img) {
		rc = yoc_error_set(e, YOC_ENOMEM, dbpath, 0, 0, "out of memory packing the tables");
		goto cleanup;
	}
	*out = img;
	*n = (size_t)len;
cleanup:
	sqlite3_free(sql);
	sqlite3_close(db);
	return rc;
}

/* 1 when col is one of the comma-separated names in list. */
static int in_list(const char *list, const char *col)
{
	size_t n = strlen(col);
	for (const char *p = list; p && *p;) {
		const char *c = strchr(p, ',');
		size_t m = c ? (size_t)(c - p) : strlen(p);
		if (m == n && memcmp(p, col, n) == 0)
			return 1;
		p = c ? c + 1 : NULL;
	}
	return 0;
}

/* Builds INSERT ... for table m from the union of the k shards. */
static char *merge_sql(sqlite3 *db, const struct mtab *m, int k)
{
	sqlite3_stmt *q = NULL;
	char *cols = sqlite3_mprintf(""), *sel = sqlite3_mprintf(""), *u = sqlite3_mprintf("");
	char *sql = NULL, *ti = sqlite3_mprintf("PRAGMA s0.table_info(\"%w\")", m->name);
	int first = 1;
	if (!cols || !sel || !u || !ti || sqlite3_prepare_v2(db, ti, -1, &q, NULL) != SQLITE_OK)
		goto cleanup;
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(q, 1);
		char *nc = sqlite3_mprintf("%s%s\"%w\"", cols, first ? "" : ",", c);
		char *ns;
		if (m->how == M_SUM && in_list(m->sums, c))
			ns = sqlite3_mprintf("%s%ssum(\"%w\")", sel, first ? "" : ",", c);
		else if (m->how == M_SUM && !in_list(m->keys, c))
			ns = sqlite3_mprintf("%s%smin(\"%w\")", sel, first ? "" : ",", c);
		else
			ns = sqlite3_mprintf("%s%s\"%w\"", sel, first ? "" : ",", c);
		sqlite3_free(cols);
		sqlite3_free(sel);
		cols = nc;
		sel = ns;
		if (!cols || !sel)
			goto cleanup;
		first = 0;
	}
	for (int s = 0; s < k; s++) {
		/* _o, each shard's own order, only where it is used (a table keyed
		 * by pseudonym has no rowid) */
		char *nu = sqlite3_mprintf("%s%sSELECT %d AS _r, %s AS _o, * FROM s%d.\"%w\"", u,
					   s ? " UNION ALL " : "", s,
					   m->how == M_APPEND ? "rowid" : "0", s, m->name);
		sqlite3_free(u);
		if (!(u = nu))
			goto cleanup;
	}
	if (m->how == M_SUM)
		sql = sqlite3_mprintf("INSERT INTO main.\"%w\"(%s) SELECT %s FROM (%s) GROUP BY %s "
				      "ORDER BY %s", m->name, cols, sel, u, m->keys, m->keys);
	else /* M_APPEND: in key order; within a key, each shard's own order */
		sql = sqlite3_mprintf("INSERT INTO main.\"%w\"(%s) SELECT %s FROM (%s) "
				      "ORDER BY %s, _r, _o", m->name, cols, sel, u, m->keys);
cleanup:
	sqlite3_finalize(q);
	sqlite3_free(cols);
	sqlite3_free(sel);
	sqlite3_free(u);
	sqlite3_free(ti);
	return sql;
}

/* The merge into outpath, or (outpath NULL) into an image *img. */
static int merge(const char *outpath, const struct yoc_buf *images, int k, void **img,
		 size_t *nimg, struct yoc_error *e)
{
	sqlite3 *db = NULL;
	int rc = YOC_OK;
	char *sql = NULL;
	if (outpath)
		unlink(outpath);
	else
		outpath = ":memory:";
	if (sqlite3_open_v2(outpath, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		rc = sql_fail(db, e, outpath);
		goto cleanup;
	}
	if ((rc = exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF", e, outpath)))
		goto cleanup;
	for (int s = 0; s < k; s++) {
		char name[32];
		snprintf(name, sizeof name, "s%d", s);
		sqlite3_free(sql);
		sql = sqlite3_mprintf("ATTACH ':memory:' AS %s", name);
		if ((rc = exec(db, sql, e, outpath)))
			goto cleanup;
		if (sqlite3_deserialize(db, name, (unsigned char *)images[s].data,
					(sqlite3_int64)images[s].len, (sqlite3_int64)images[s].len,
					SQLITE_DESERIALIZE_READONLY) != SQLITE_OK) {
			rc = sql_fail(db, e, "a shard's tables");
			goto cleanup;
		}
	}
	if ((rc = exec(db, "BEGIN", e, outpath)))
		goto cleanup;
	for (size_t t = 0; t <= NMTAB; t++) {
		const char *name = t < NMTAB ? mtabs[t].name : "current_files";
		char *cs = create_sql(db, "s0", name);
		if (!cs)
			continue;
		rc = exec(db, cs, e, outpath);
		sqlite3_free(cs);
		if (rc)
			goto cleanup;
		if (t == NMTAB)
			break;
		const struct mtab *m = &mtabs[t];
		if (m->how == M_SCHEMA)
			continue;
		sqlite3_free(sql);
		if (m->how == M_FIRST || m->how == M_RUN)
			sql = sqlite3_mprintf("INSERT INTO main.\"%w\" SELECT * FROM s0.\"%w\" "
					      "ORDER BY rowid", name, name);
		else
			sql = merge_sql(db, m, k);
		if ((rc = exec(db, sql, e, outpath)) || (rc = copy_indexes(db, "s0", name, e, outpath)))
			goto cleanup;
		if (m->how != M_RUN)
			continue;
		/* person-years: every shard's; the rest is the same in every shard */
		char *u = sqlite3_mprintf("");
		for (int s = 0; s < k && u; s++) {
			char *nu = sqlite3_mprintf("%s%s(SELECT CAST(value AS INTEGER) FROM s%d.analyse_run "
						   "WHERE key = 'person_years')", u, s ? " + " : "", s);
			sqlite3_free(u);
			u = nu;
		}
		sqlite3_free(sql);
		sql = u ? sqlite3_mprintf("UPDATE main.analyse_run SET value = CAST((%s) AS TEXT) "
					  "WHERE key = 'person_years'", u) : NULL;
		sqlite3_free(u);
		if ((rc = exec(db, sql, e, outpath)))
			goto cleanup;
	}
	if ((rc = exec(db, "COMMIT", e, outpath)))
		goto cleanup;
	for (int s = 0; s < k; s++) {
		sqlite3_free(sql);
		sql = sqlite3_mprintf("DETACH s%d", s);
		if ((rc = exec(db, sql, e, outpath)))
			goto cleanup;
	}
	if (img) {
		sqlite3_int64 len = 0;
		*img = sqlite3_serialize(db, "main", &len, 0);
		*nimg = (size_t)len;
		if (!*img)
			rc = yoc_error_set(e, YOC_ENOMEM, outpath, 0, 0,
					   "out of memory packing the tables");
	}
cleanup:
	sqlite3_free(sql);
	sqlite3_close(db);
	return rc;
}

int yoc_shard_merge(const char *outpath, const struct yoc_buf *images, int k,
		    struct yoc_error *e)
{
	return merge(outpath, images, k, NULL, NULL, e);
}

int yoc_shard_merge_image(const struct yoc_buf *images, int k, void **out, size_t *n,
			  struct yoc_error *e)
{
	*out = NULL;
	*n = 0;
	return merge(NULL, images, k, out, n, e);
}

int yoc_shard_mark(yoc_store *s, int r, int k, struct yoc_error *e)
{
	char v[32];
	snprintf(v, sizeof v, "%d/%d", r, k);
	return yoc_catalog_meta_set(s, "shard", v, e);
}

int yoc_shard_check(const char *dir, int r, int k, struct yoc_error *e)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	char path[4200], want[32], got[64] = "";
	int rc = YOC_OK, files = 0;
	snprintf(path, sizeof path, "%s/yoc.db", dir);
	snprintf(want, sizeof want, "%d/%d", r, k);
	if (access(path, F_OK) != 0)
		return YOC_OK; /* a new shard */
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		rc = sql_fail(db, e, path);
		goto cleanup;
	}
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'shard'", -1, &q, NULL) ==
		    SQLITE_OK && sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
		snprintf(got, sizeof got, "%s", (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	q = NULL;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM files", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		files = sqlite3_column_int(q, 0);
	if (*got && strcmp(got, want) != 0)
		rc = yoc_error_set(e, YOC_EINVAL, dir, 0, 0,
				   "this dataset is shard %s (rank/shards), not %s: give the shards "
				   "in order, as many as were loaded", got, want);
	else if (!*got && files && k > 1)
		rc = yoc_error_set(e, YOC_EINVAL, dir, 0, 0,
				   "a dataset loaded without --shards cannot be shard %s; split it "
				   "with yoc reshard", want);
cleanup:
	sqlite3_finalize(q);
	sqlite3_close(db);
	return rc;
}

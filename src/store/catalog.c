/*
** The catalog rows of a load: every statement `yoc load` runs against
** yoc.db, so the catalog's schema lives in the store alone (the table
** definitions are in store.c). The load module decides what to write; this
** file knows how it is written. Statements a load runs once per row are
** prepared once per load and kept on the store until the load ends.
** Must not: decide anything about a file (load does), or print.
*/
#include <string.h>
#include <time.h>

#include "store/store_int.h"

enum {
	ST_QUARANTINE,
	ST_FLAG,
	ST_COLUMN,
	ST_STATS,
	ST_NHSNO,
	ST_N
};

static const char *const cached_sql[ST_N] = {
	"INSERT INTO quarantine VALUES(?,?,?,?,?,?)",
	"INSERT INTO flags VALUES(?,?,?,?,?,?)",
	"INSERT INTO file_columns VALUES(?,?,?,?,?)",
	"INSERT INTO file_stats VALUES(?,?,?,?,?,?,?)",
	"INSERT INTO nhsno_status VALUES(?,?,?)",
};

static int sqlerr(yoc_store *s, struct yoc_error *e)
{
	return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "sqlite: %s", sqlite3_errmsg(s->db));
}

static void now_iso(char *buf, size_t cap)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The cached statement k, reset and cleared of bindings; NULL on failure. */
static sqlite3_stmt *cached(yoc_store *s, int k)
{
	if (!s->cat[k] && sqlite3_prepare_v2(s->db, cached_sql[k], -1, &s->cat[k], NULL))
		return NULL;
	sqlite3_reset(s->cat[k]);
	return s->cat[k];
}

void yoc__catalog_finalize(yoc_store *s)
{
	for (int k = 0; k < ST_N; k++) {
		sqlite3_finalize(s->cat[k]);
		s->cat[k] = NULL;
	}
}

/* Steps a statement that returns no row, and resets it. */
static int done(yoc_store *s, sqlite3_stmt *st, struct yoc_error *e)
{
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	return r == SQLITE_DONE ? YOC_OK : sqlerr(s, e);
}

static int once(yoc_store *s, const char *sql, sqlite3_stmt **st, struct yoc_error *e)
{
	*st = NULL;
	return sqlite3_prepare_v2(s->db, sql, -1, st, NULL) ? sqlerr(s, e) : YOC_OK;
}

int yoc_catalog_load_begin(yoc_store *s, int64_t *load_id, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc;
	*load_id = 0;
	/*
	** Each file commits inside a savepoint, whose journal of the pages it
	** changes SQLite keeps in a temporary file by default: written and
	** read back through the kernel for every file. In memory it holds one
	** file's catalog rows at a time; the database written is the same.
	*/
	if ((rc = yoc__store_exec(s, "PRAGMA temp_store = MEMORY; BEGIN IMMEDIATE", e)))
		return rc;
	/* Tables added since format 1 was first written: inside the load's
	 * transaction, so a killed load leaves no trace of them either. */
	if ((rc = yoc__store_exec(s, "CREATE TABLE IF NOT EXISTS duplicate_files(path TEXT"
				  " PRIMARY KEY, file_id INTEGER NOT NULL, hash TEXT,"
				  " load_id INTEGER);"
				  "CREATE INDEX IF NOT EXISTS file_columns_file ON file_columns(file_id);"
				  "CREATE INDEX IF NOT EXISTS nhsno_status_file ON nhsno_status(file_id);"
				  YOC_STORE_SOURCE_ACCOUNT_SQL,
				  e)))
		goto fail;
	char ts[32];
	now_iso(ts, sizeof ts);
	if ((rc = once(s, "INSERT INTO loads(started) VALUES(?)", &st, e)))
		goto fail;
	sqlite3_bind_text(st, 1, ts, -1, SQLITE_TRANSIENT);
	if ((rc = done(s, st, e)))
		goto fail;
	sqlite3_finalize(st);
	*load_id = sqlite3_last_insert_rowid(s->db);
	for (int k = 0; k < ST_N; k++)
		if (!cached(s, k)) {
			rc = sqlerr(s, e);
			goto fail;
		}
	return YOC_OK;
fail:
	sqlite3_finalize(st);
	yoc_catalog_load_abort(s);
	return rc;
}

void yoc_catalog_load_abort(yoc_store *s)
{
	if (!s)
		return;
	yoc__catalog_finalize(s);
	sqlite3_exec(s->db, "ROLLBACK; PRAGMA temp_store = DEFAULT", NULL, NULL, NULL);
	yoc_store_persons_reset(s);
}

int yoc_catalog_load_end(yoc_store *s, int64_t load_id, const struct yoc_catalog_load *c,
			 int persons_dirty, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc;
	yoc__catalog_finalize(s);
	if (persons_dirty) {
		/* every file's linkage again, against the new persons (left in the cache) */
		if ((rc = yoc_store_rebuild_all(s, e)))
			return rc;
	} else {
		yoc_store_persons_reset(s);
		if ((rc = yoc_store_rebuild_linkage(s, e)))
			return rc;
	}
	char ts[32];
	now_iso(ts, sizeof ts);
	if ((rc = once(s, "UPDATE loads SET finished = ?, files = ?, rows = ?, loaded = ?,"
		       " quarantined = ?, unchanged = ?, replaced = ? WHERE load_id = ?", &st, e)))
		return rc;
	sqlite3_bind_text(st, 1, ts, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, c->files);
	sqlite3_bind_int64(st, 3, c->rows);
	sqlite3_bind_int64(st, 4, c->loaded);
	sqlite3_bind_int64(st, 5, c->quarantined);
	sqlite3_bind_int64(st, 6, c->unchanged);
	sqlite3_bind_int64(st, 7, c->replaced);
	sqlite3_bind_int64(st, 8, load_id);
	rc = done(s, st, e);
	sqlite3_finalize(st);
	if (rc)
		return rc;
	/* A load that changed nothing leaves no trace, so loading twice changes nothing. */
	if (c->files == 0) {
		if ((rc = once(s, "DELETE FROM loads WHERE load_id = ?", &st, e)))
			return rc;
		sqlite3_bind_int64(st, 1, load_id);
		rc = done(s, st, e);
		sqlite3_finalize(st);
		if (rc)
			return rc;
	}
	/* Segments reach the disk before the catalog rows that name them. */
	if ((rc = yoc_store_sync(s, e)) || (rc = yoc__store_exec(s, "COMMIT", e)))
		return rc;
	sqlite3_exec(s->db, "PRAGMA temp_store = DEFAULT", NULL, NULL, NULL);
	return YOC_OK;
}

int yoc_catalog_hashes(yoc_store *s, struct yoc_map *m, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc = once(s, "SELECT hash FROM files WHERE hash IS NOT NULL", &st, e);
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		const void *h = sqlite3_column_text(st, 0);
		int n = sqlite3_column_bytes(st, 0);
		if (yoc_map_put(m, h, (size_t)n, 1, NULL))
			rc = yoc_error_set(e, YOC_ENOMEM, "yoc.db", 0, 0, "out of memory");
	}
	sqlite3_finalize(st);
	return rc;
}

int yoc_catalog_files_of(yoc_store *s, const char *kind, const char *provider,
			 const char *period,
			 void (*fn)(void *ctx, const struct yoc_catalog_file *f), void *ctx,
			 struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc = once(s, "SELECT file_id, hash, rows, loaded, quarantined, flagged, path,"
		      " superseded_by IS NULL FROM files WHERE kind = ? AND provider = ?"
		      " AND period = ? ORDER BY superseded_by IS NULL DESC, file_id DESC", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, provider, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, period, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct yoc_catalog_file f = {
			sqlite3_column_int64(st, 0),
			(const char *)sqlite3_column_text(st, 1),
			(const char *)sqlite3_column_text(st, 6),
			sqlite3_column_int64(st, 2),
			sqlite3_column_int64(st, 3),
			sqlite3_column_int64(st, 4),
			sqlite3_column_int64(st, 5),
			sqlite3_column_int(st, 7),
		};
		fn(ctx, &f);
	}
	sqlite3_finalize(st);
	return YOC_OK;
}

int yoc_catalog_duplicate_add(yoc_store *s, const char *path, int64_t file_id,
			      int64_t load_id, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc = once(s, "INSERT OR IGNORE INTO duplicate_files SELECT ?1, file_id, hash, ?3"
		      " FROM files WHERE file_id = ?2 AND path <> ?1", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, file_id);
	sqlite3_bind_int64(st, 3, load_id);
	rc = done(s, st, e);
	sqlite3_finalize(st);
	return rc;
}

int yoc_catalog_reasons(yoc_store *s, int64_t file_id,
			int (*fn)(void *ctx, const char *reason, int64_t rows), void *ctx,
			struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc = once(s, "SELECT reason, count(*) FROM quarantine WHERE file_id = ?"
		      " GROUP BY reason ORDER BY reason", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, file_id);
	while (sqlite3_step(st) == SQLITE_ROW)
		if (fn(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1)))
			break;
	sqlite3_finalize(st);
	return YOC_OK;
}

int yoc_catalog_quarantined(yoc_store *s, int64_t file_id,
			    void (*fn)(void *ctx, int64_t line, const char *field,
				       const char *reason),
			    void *ctx)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT line, field, reason FROM quarantine"
			       " WHERE file_id = ? ORDER BY line", -1, &st, NULL) != SQLITE_OK)
		return YOC_EIO;
	sqlite3_bind_int64(st, 1, file_id);
	while (sqlite3_step(st) == SQLITE_ROW)
		fn(ctx, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
		   (const char *)sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
	return YOC_OK;
}

int yoc_catalog_file_begin(yoc_store *s, struct yoc_error *e)
{
	return yoc__store_exec(s, "SAVEPOINT yoc_file", e);
}

int yoc_catalog_file_end(yoc_store *s, int keep, struct yoc_error *e)
{
	if (keep)
		return yoc__store_exec(s, "RELEASE yoc_file", e);
	if (!e) {
		sqlite3_exec(s->db, "ROLLBACK TO yoc_file; RELEASE yoc_file", NULL, NULL, NULL);
		return YOC_OK;
	}
	return yoc__store_exec(s, "ROLLBACK TO yoc_file; RELEASE yoc_file", e);
}

int yoc_catalog_file_add(yoc_store *s, const struct yoc_catalog_new_file *f, int64_t *file_id,
			 struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	char ts[32];
	now_iso(ts, sizeof ts);
	int rc = once(s, "INSERT INTO files(load_id, kind, provider, period, path, hash, bytes,"
		      " delimiter, segment, status, loaded_at) VALUES(?,?,?,?,?,?,?,?,'',?,?)", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, f->load_id);
	sqlite3_bind_text(st, 2, f->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, f->provider, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, f->period, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, f->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, f->hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, f->bytes);
	sqlite3_bind_text(st, 8, f->delimiter, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, f->replaces ? "replaced" : "loaded", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, ts, -1, SQLITE_STATIC);
	rc = done(s, st, e);
	sqlite3_finalize(st);
	*file_id = rc ? 0 : sqlite3_last_insert_rowid(s->db);
	return rc;
}

int yoc_catalog_file_counts(yoc_store *s, int64_t file_id, const char *segment, int64_t rows,
			    int64_t loaded, int64_t quarantined, int64_t flagged,
			    struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc = once(s, "UPDATE files SET segment = ?, rows = ?, loaded = ?, quarantined = ?,"
		      " flagged = ? WHERE file_id = ?", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, segment, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, rows);
	sqlite3_bind_int64(st, 3, loaded);
	sqlite3_bind_int64(st, 4, quarantined);
	sqlite3_bind_int64(st, 5, flagged);
	sqlite3_bind_int64(st, 6, file_id);
	rc = done(s, st, e);
	sqlite3_finalize(st);
	return rc;
}

int yoc_catalog_supersede(yoc_store *s, int64_t old_id, int64_t new_id, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc = once(s, "UPDATE files SET superseded_by = ?1 WHERE file_id = ?2", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, new_id);
	sqlite3_bind_int64(st, 2, old_id);
	rc = done(s, st, e);
	sqlite3_finalize(st);
	return rc;
}

/* A quarantine or flag row: the two tables have the same columns. */
static int row_add(yoc_store *s, int which, const struct yoc_catalog_row *r,
		   struct yoc_error *e)
{
	sqlite3_stmt *st = cached(s, which);
	if (!st)
		return sqlerr(s, e);
	sqlite3_bind_int64(st, 1, r->file_id);
	sqlite3_bind_int64(st, 2, r->line);
	sqlite3_bind_text(st, 3, r->field, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->value, (int)r->nvalue, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->extra, (int)r->nextra, SQLITE_STATIC);
	return done(s, st, e);
}

int yoc_catalog_quarantine_add(yoc_store *s, const struct yoc_catalog_row *r,
			       struct yoc_error *e)
{
	return row_add(s, ST_QUARANTINE, r, e);
}

int yoc_catalog_flag_add(yoc_store *s, const struct yoc_catalog_row *r, struct yoc_error *e)
{
	return row_add(s, ST_FLAG, r, e);
}

int yoc_catalog_column_add(yoc_store *s, int64_t file_id, int64_t idx, const char *name,
			   const char *source, const char *type, struct yoc_error *e)
{
	sqlite3_stmt *st = cached(s, ST_COLUMN);
	if (!st)
		return sqlerr(s, e);
	sqlite3_bind_int64(st, 1, file_id);
	sqlite3_bind_int64(st, 2, idx);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, type, -1, SQLITE_STATIC);
	return done(s, st, e);
}

int yoc_catalog_stats_add(yoc_store *s, int64_t file_id, const char *name, int64_t filled,
			  int64_t empty, int64_t invalid, int64_t ndistinct, const char *top,
			  size_t ntop, struct yoc_error *e)
{
	sqlite3_stmt *st = cached(s, ST_STATS);
	if (!st)
		return sqlerr(s, e);
	sqlite3_bind_int64(st, 1, file_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, filled);
	sqlite3_bind_int64(st, 4, empty);
	sqlite3_bind_int64(st, 5, invalid);
	if (ndistinct >= 0)
		sqlite3_bind_int64(st, 6, ndistinct);
	else
		sqlite3_bind_null(st, 6);
	sqlite3_bind_text(st, 7, ntop ? top : "", (int)ntop, SQLITE_STATIC);
	return done(s, st, e);
}

int yoc_catalog_nhsno_add(yoc_store *s, int64_t file_id, const char *status, size_t n,
			  int64_t count, struct yoc_error *e)
{
	sqlite3_stmt *st = cached(s, ST_NHSNO);
	if (!st)
		return sqlerr(s, e);
	sqlite3_bind_int64(st, 1, file_id);
	sqlite3_bind_text(st, 2, status, (int)n, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, count);
	return done(s, st, e);
}

int yoc_catalog_account_add(yoc_store *s, const struct yoc_catalog_account *a,
			    struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc = once(s, "INSERT INTO source_account(file_id, status, account, entry, sha256,"
		      " rows_read, rows_written, opted_out, rejected, rejected_reasons, key_id,"
		      " written, generator) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, a->file_id);
	sqlite3_bind_text(st, 2, a->status, -1, SQLITE_STATIC);
	if (a->account)
		sqlite3_bind_text(st, 3, a->account, -1, SQLITE_STATIC);
	if (a->entry)
		sqlite3_bind_text(st, 4, a->entry, -1, SQLITE_STATIC);
	if (a->sha256 && *a->sha256)
		sqlite3_bind_text(st, 5, a->sha256, -1, SQLITE_STATIC);
	if (a->counted) {
		sqlite3_bind_int64(st, 6, a->rows_read);
		sqlite3_bind_int64(st, 7, a->rows_written);
		sqlite3_bind_int64(st, 8, a->opted_out);
		sqlite3_bind_int64(st, 9, a->rejected);
		sqlite3_bind_text(st, 10, a->reasons, -1, SQLITE_STATIC);
	}
	if (a->key_id || a->written || a->generator) {
		sqlite3_bind_text(st, 11, a->key_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 12, a->written, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 13, a->generator, -1, SQLITE_STATIC);
	}
	rc = done(s, st, e);
	sqlite3_finalize(st);
	if (rc || !a->nrejected)
		return rc;
	if ((rc = once(s, "INSERT INTO source_rejected(file_id, line, reason) VALUES(?,?,?)", &st,
		       e)))
		return rc;
	for (size_t i = 0; i < a->nrejected && !rc; i++) {
		sqlite3_bind_int64(st, 1, a->file_id);
		sqlite3_bind_int64(st, 2, a->rejected_line(a->ctx, i));
		sqlite3_bind_text(st, 3, a->rejected_reason(a->ctx, i), -1, SQLITE_STATIC);
		rc = done(s, st, e);
	}
	sqlite3_finalize(st);
	return rc;
}

int yoc_catalog_meta_set(yoc_store *s, const char *key, const char *value, struct yoc_error *e)
{
	sqlite3_stmt *st;
	int rc = once(s, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = done(s, st, e);
	sqlite3_finalize(st);
	return rc;
}

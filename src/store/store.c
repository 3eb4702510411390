/*
** The dataset: catalog schema, open/create with locking and garbage
** removal, the person table cache and the file list. Segment files are in
** segment.c; the person and linkage rebuilds in person.c.
**
** Must not: print, exit, or change the catalog outside a transaction the
** caller controls (the loader's single commit is what makes loads atomic).
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_int.h"
#include "yoc/io.h"

static const char schema[] =
	"PRAGMA user_version = 1;\n"
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);\n"
	"CREATE TABLE loads(load_id INTEGER PRIMARY KEY, started TEXT, finished TEXT,"
	" files INTEGER, rows INTEGER, loaded INTEGER, quarantined INTEGER,"
	" unchanged INTEGER, replaced INTEGER);\n"
	"CREATE TABLE files(file_id INTEGER PRIMARY KEY, load_id INTEGER NOT NULL,"
	" kind TEXT NOT NULL, provider TEXT NOT NULL, period TEXT NOT NULL, path TEXT,"
	" hash TEXT NOT NULL, bytes INTEGER, delimiter TEXT, segment TEXT NOT NULL,"
	" rows INTEGER, loaded INTEGER, quarantined INTEGER, flagged INTEGER,"
	" status TEXT, superseded_by INTEGER, loaded_at TEXT);\n"
	"CREATE INDEX files_key ON files(kind, provider, period);\n"
	"CREATE INDEX files_hash ON files(hash);\n"
	"CREATE VIEW current_files AS SELECT * FROM files WHERE superseded_by IS NULL;\n"
	"CREATE TABLE file_columns(file_id INTEGER NOT NULL, position INTEGER,"
	" name TEXT, source TEXT, type TEXT);\n"
	"CREATE TABLE quarantine(file_id INTEGER NOT NULL, line INTEGER, field TEXT,"
	" value TEXT, reason TEXT, raw TEXT);\n"
	"CREATE INDEX quarantine_file ON quarantine(file_id);\n"
	"CREATE TABLE flags(file_id INTEGER NOT NULL, line INTEGER, field TEXT,"
	" value TEXT, reason TEXT, action TEXT);\n"
	"CREATE INDEX flags_file ON flags(file_id);\n"
	"CREATE TABLE file_stats(file_id INTEGER NOT NULL, field TEXT, filled INTEGER,"
	" empty INTEGER, invalid INTEGER, distinct_values INTEGER, top_values TEXT);\n"
	"CREATE TABLE nhsno_status(file_id INTEGER NOT NULL, status TEXT, rows INTEGER);\n"
	YOC_STORE_PERSON_SQL "\n"
	"CREATE TABLE linkage(file_id INTEGER NOT NULL, month TEXT, rows INTEGER,"
	" linked INTEGER, no_pseudonym INTEGER, not_registered INTEGER);\n"
	"CREATE INDEX linkage_file ON linkage(file_id);\n"
	"CREATE INDEX file_columns_file ON file_columns(file_id);\n"
	"CREATE INDEX nhsno_status_file ON nhsno_status(file_id);\n"
	"CREATE TABLE duplicate_files(path TEXT PRIMARY KEY, file_id INTEGER NOT NULL,"
	" hash TEXT, load_id INTEGER);\n"
	YOC_STORE_SOURCE_ACCOUNT_SQL "\n"
	"INSERT INTO meta VALUES('format', 'yoc-dataset-1');\n";

static int db_error(sqlite3 *db, struct yoc_error *e, const char *path)
{
	return yoc_error_set(e, YOC_EIO, path, 0, 0, "sqlite: %s",
			     db ? sqlite3_errmsg(db) : "out of memory");
}

int yoc__store_exec(yoc_store *s, const char *sql, struct yoc_error *e)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = yoc_error_set(e, YOC_EIO, s->dbpath, 0, 0, "sqlite: %s",
				       msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return rc;
	}
	return YOC_OK;
}

int yoc__store_person_keyed(yoc_store *s)
{
	sqlite3_stmt *st = NULL;
	int keyed = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT sql FROM sqlite_schema WHERE type = 'table'"
			       " AND name = 'person'", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		const char *sql = (const char *)sqlite3_column_text(st, 0);
		keyed = sql && strstr(sql, "WITHOUT ROWID") != NULL;
	}
	sqlite3_finalize(st);
	return keyed;
}

static int path_join(char *out, size_t cap, const char *a, const char *b)
{
	int n = snprintf(out, cap, "%s/%s", a, b);
	return n < 0 || (size_t)n >= cap ? YOC_ETOOBIG : YOC_OK;
}

int yoc_store_init(const char *dir, struct yoc_error *e)
{
	char dbp[4096], segp[4096];
	sqlite3 *db = NULL;
	int rc = YOC_OK;
	if (path_join(dbp, sizeof dbp, dir, "yoc.db") || path_join(segp, sizeof segp, dir, "segments"))
		return yoc_error_set(e, YOC_ETOOBIG, dir, 0, 0, "path too long");
	if (access(dbp, F_OK) == 0)
		return yoc_error_set(e, YOC_EEXIST, dir, 0, 0, "a dataset already exists here");
	if (yoc_mkdirs(segp, 0755))
		return yoc_error_set(e, YOC_EIO, segp, 0, 0, "cannot create: %s", strerror(errno));
	/* Build in a temporary file, then rename: a killed init leaves no half dataset. */
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.init.%ld", dbp, (long)getpid());
	unlink(tmp);
	if (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		rc = db_error(db, e, tmp);
		goto cleanup;
	}
	char *msg = NULL;
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EIO, dbp, 0, 0, "sqlite: %s", msg ? msg : "?");
		sqlite3_free(msg);
		goto cleanup;
	}
	sqlite3_close(db);
	db = NULL;
	if (rename(tmp, dbp) != 0) {
		rc = yoc_error_set(e, YOC_EIO, dbp, 0, 0, "rename: %s", strerror(errno));
		goto cleanup;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
cleanup:
	if (db)
		sqlite3_close(db);
	if (rc)
		unlink(tmp);
	return rc;
}

/*
** Removes segment files no committed catalog row names, and temporaries:
** what a killed load left. Runs under the writer's lock, so no load is in
** flight; the catalog query also rolls back a killed load's hot journal.
** The catalog's segment names are read once into a set (files has no index
** on segment: one query per file would scan it once per file).
*/
static int remove_garbage(yoc_store *s, struct yoc_error *e)
{
	char segdir[4096];
	if (path_join(segdir, sizeof segdir, s->dir, "segments"))
		return yoc_error_set(e, YOC_ETOOBIG, s->dir, 0, 0, "path too long");
	DIR *d = opendir(segdir);
	if (!d)
		return yoc_mkdirs(segdir, 0755) ? yoc_error_set(e, YOC_EIO, segdir, 0, 0,
			"cannot create segments directory") : YOC_OK;
	sqlite3_stmt *st = NULL;
	struct yoc_map named;
	int rc = YOC_OK, r;
	if (yoc_map_init(&named, 1024)) {
		closedir(d);
		return yoc_error_set(e, YOC_ENOMEM, s->dbpath, 0, 0, "out of memory");
	}
	if (sqlite3_prepare_v2(s->db, "SELECT segment FROM files", -1, &st, NULL)) {
		rc = db_error(s->db, e, s->dbpath);
		goto cleanup;
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const void *z = sqlite3_column_text(st, 0);
		if (z && yoc_map_put(&named, z, (size_t)sqlite3_column_bytes(st, 0), 1, NULL)) {
			rc = yoc_error_set(e, YOC_ENOMEM, s->dbpath, 0, 0, "out of memory");
			goto cleanup;
		}
	}
	/* Only a definite end of the rows makes a file garbage: a busy or
	 * failing catalog must never cost a committed segment. */
	if (r != SQLITE_DONE) {
		rc = db_error(s->db, e, s->dbpath);
		goto cleanup;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || yoc_map_get(&named, de->d_name, strlen(de->d_name)))
			continue;
		char p[4400];
		snprintf(p, sizeof p, "%s/%s", segdir, de->d_name);
		unlink(p);
	}
	/* Temporaries of a killed init: yoc.db.init.PID of a process that is gone. */
	DIR *top = opendir(s->dir);
	while (top && (de = readdir(top)) != NULL) {
		const char *q = de->d_name;
		if (strncmp(q, "yoc.db.init.", 12) != 0 || !q[12])
			continue;
		char *end = NULL;
		long pid = strtol(q + 12, &end, 10);
		if (*end || pid <= 0)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue; /* alive, or not ours to judge */
		char p[4400];
		snprintf(p, sizeof p, "%s/%s", s->dir, q);
		unlink(p);
	}
	if (top)
		closedir(top);
cleanup:
	sqlite3_finalize(st);
	yoc_map_free(&named);
	closedir(d);
	return rc;
}

int yoc_seg_open_file(yoc_store *s, const struct yoc_file_info *fi, yoc_seg **out,
		      struct yoc_error *e)
{
	return yoc__seg_open_named(s, fi->segment, out, e);
}

int yoc__store_write_error(struct yoc_error *e, const char *dir, const char *path,
			   int locking, int err)
{
	if (err == EACCES || err == EPERM || err == EROFS)
		return yoc_error_set(e, YOC_EPERM, dir, 0, 0,
				     "dataset not writable by this user: %s: %s", path,
				     strerror(err));
	if (locking && (err == EWOULDBLOCK || err == EAGAIN))
		return yoc_error_set(e, YOC_EPERM, dir, 0, 0,
				     "another yoc process is writing to this dataset");
	return yoc_error_set(e, YOC_EIO, dir, 0, 0, "cannot %s %s: %s",
			     locking ? "lock" : "open for writing", path, strerror(err));
}

int yoc_store_open(yoc_store **out, const char *dir, int flags, struct yoc_error *e)
{
	*out = NULL;
	yoc_store *s = yoc_calloc(1, sizeof *s);
	int rc = YOC_OK;
	if (!s)
		return yoc_error_set(e, YOC_ENOMEM, dir, 0, 0, "out of memory");
	s->lockfd = -1;
	if (snprintf(s->dir, sizeof s->dir, "%s", dir) >= (int)sizeof s->dir ||
	    path_join(s->dbpath, sizeof s->dbpath, dir, "yoc.db")) {
		rc = yoc_error_set(e, YOC_ETOOBIG, dir, 0, 0, "path too long");
		goto cleanup;
	}
	if (access(s->dbpath, F_OK) != 0) {
		rc = yoc_error_set(e, YOC_ENOTFOUND, dir, 0, 0,
				   "no dataset here; create one with 'yoc init %s'", dir);
		goto cleanup;
	}
	if (flags & YOC_STORE_WRITE) {
		char lp[4200];
		snprintf(lp, sizeof lp, "%s/lock", dir);
		/*
		** A writer creates files in dir and writes yoc.db: a dataset this
		** user may only read is said so, not taken for a locked one.
		*/
		const char *need[] = {dir, s->dbpath};
		for (int i = 0; i < 2; i++) {
			if (faccessat(AT_FDCWD, need[i], W_OK, AT_EACCESS) != 0) {
				rc = yoc__store_write_error(e, dir, need[i], 0, errno);
				goto cleanup;
			}
		}
		s->lockfd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (s->lockfd < 0) {
			rc = yoc__store_write_error(e, dir, lp, 0, errno);
			goto cleanup;
		}
		if (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
			rc = yoc__store_write_error(e, dir, lp, 1, errno);
			goto cleanup;
		}
	}
	if (!(flags & YOC_STORE_WRITE) && (rc = yoc_store_recover(s->dbpath, e)))
		goto cleanup;
	/*
	 * NOMUTEX: a store is used by one thread at a time (store.h), so the
	 * connection needs no mutex of its own; SQLite's default takes one on
	 * every call, each bind of the millions of rows analyse writes included.
	 */
	int of = (flags & YOC_STORE_WRITE) ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
	/* a writer's page writes go out on a helper thread (wbvfs.c) */
	const char *vfs = (flags & YOC_STORE_WRITE) ? yoc__wbvfs_name() : NULL;
	if (sqlite3_open_v2(s->dbpath, &s->db, of | SQLITE_OPEN_NOMUTEX, vfs) != SQLITE_OK) {
		rc = db_error(s->db, e, s->dbpath);
		goto cleanup;
	}
	sqlite3_busy_timeout(s->db, 10000);
	if ((rc = yoc__store_exec(s, "PRAGMA synchronous = FULL; PRAGMA cache_size = -65536;", e)))
		goto cleanup;
	if (flags & YOC_STORE_WRITE) {
		if ((rc = remove_garbage(s, e)))
			goto cleanup;
	}
	s->pool = yoc__pool_get(dir);
	if ((flags & YOC_STORE_WRITE) && yoc__pool_writer(s->pool)) {
		rc = yoc_error_set(e, YOC_EDATA, dir, 0, 0,
				   "pseudonyms.pool is damaged or unreadable (docs/store.md)");
		goto cleanup;
	}
	s->flags = flags;
	*out = s;
	s = NULL;
cleanup:
	yoc_store_close(s);
	return rc;
}

int yoc_store_recover(const char *dbpath, struct yoc_error *e)
{
	char journal[4300], lock[4300];
	struct stat st;
	if (snprintf(journal, sizeof journal, "%s-journal", dbpath) >= (int)sizeof journal)
		return yoc_error_set(e, YOC_ETOOBIG, dbpath, 0, 0, "path too long");
	if (stat(journal, &st) != 0 || st.st_size == 0)
		return YOC_OK; /* no journal: nothing to roll back */
	const char *slash = strrchr(dbpath, '/');
	if (slash)
		snprintf(lock, sizeof lock, "%.*s/lock", (int)(slash - dbpath), dbpath);
	else
		snprintf(lock, sizeof lock, "lock");
	/* Only with the writer's lock: a running writer's journal is live, not stale. */
	int fd = open(lock, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return YOC_OK; /* a user who may only read cannot recover; SQLite will say so */
	int rc = YOC_OK;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		sqlite3 *db = NULL;
		if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
		    sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) !=
			    SQLITE_OK)
			rc = yoc_error_set(e, YOC_EIO, dbpath, 0, 0,
					   "sqlite: rolling back the journal of a killed writer: %s",
					   db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
	}
	close(fd);
	return rc;
}

void yoc_store_close(yoc_store *s)
{
	if (!s)
		return;
	yoc_store_persons_reset(s);
	yoc__store_pending_free(s);
	yoc__catalog_finalize(s);
	if (s->db)
		sqlite3_close(s->db);
	if (s->lockfd >= 0)
		close(s->lockfd);
	yoc_free(s);
}

sqlite3 *yoc_store_db(yoc_store *s)
{
	return s->db;
}

const char *yoc_store_dir(const yoc_store *s)
{
	return s->dir;
}

static void copy_col(char *dst, size_t cap, sqlite3_stmt *st, int i)
{
	const char *z = (const char *)sqlite3_column_text(st, i);
	snprintf(dst, cap, "%s", z ? z : "");
}

int yoc_store_files(yoc_store *s, int kind, int with_superseded,
		    struct yoc_file_info **out, size_t *n, struct yoc_error *e)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st = NULL;
	struct yoc_file_info *a = NULL;
	size_t na = 0, cap = 0;
	int rc = YOC_OK;
	const char *sql = "SELECT file_id, kind, provider, period, path, hash, segment, rows,"
		" loaded, quarantined, load_id, superseded_by IS NOT NULL FROM files"
		" WHERE (?1 IS NULL OR kind = ?1) AND (?2 OR superseded_by IS NULL)"
		" ORDER BY kind, provider, period, file_id";
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL)) {
		rc = db_error(s->db, e, s->dbpath);
		goto cleanup;
	}
	if (kind >= 0)
		sqlite3_bind_text(st, 1, yoc_spec_kind_name(kind), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, with_superseded);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (na == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct yoc_file_info *na2 = yoc_realloc(a, nc * sizeof *a);
			if (!na2) {
				rc = yoc_error_set(e, YOC_ENOMEM, s->dbpath, 0, 0, "out of memory");
				goto cleanup;
			}
			a = na2;
			cap = nc;
		}
		struct yoc_file_info *f = &a[na++];
		memset(f, 0, sizeof *f);
		f->file_id = sqlite3_column_int64(st, 0);
		f->kind = yoc_spec_kind_by_name((const char *)sqlite3_column_text(st, 1));
		copy_col(f->provider, sizeof f->provider, st, 2);
		copy_col(f->period, sizeof f->period, st, 3);
		copy_col(f->path, sizeof f->path, st, 4);
		copy_col(f->hash, sizeof f->hash, st, 5);
		copy_col(f->segment, sizeof f->segment, st, 6);
		f->rows = sqlite3_column_int64(st, 7);
		f->loaded = sqlite3_column_int64(st, 8);
		f->quarantined = sqlite3_column_int64(st, 9);
		f->load_id = sqlite3_column_int64(st, 10);
		f->superseded = sqlite3_column_int(st, 11);
	}
	if (r != SQLITE_DONE) {
		rc = db_error(s->db, e, s->dbpath);
		goto cleanup;
	}
	*out = a;
	*n = na;
	a = NULL;
cleanup:
	sqlite3_finalize(st);
	yoc_free(a);
	return rc;
}

void yoc_store_files_free(struct yoc_file_info *f)
{
	yoc_free(f);
}

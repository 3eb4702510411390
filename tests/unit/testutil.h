/*
** Small helpers shared by the cmocka unit tests: temporary files and
** directories, finding the shared reference data beside the repository, and
** one integer from an SQL query.
** Header-only (static inline, so unused helpers cost nothing). Test support
** only: nothing in src/ may include this.
*/
#ifndef YOC_TESTUTIL_H
#define YOC_TESTUTIL_H

#include <ftw.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Directory for temporary test files: $TMPDIR or /tmp. */
static inline const char *tu_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	return t && *t ? t : "/tmp";
}

/*
** Creates a new temporary file "TMPDIR/yoc_<tag>_XXXXXX" holding n bytes of
** data and writes its path into path[cap]. Returns 0, or -1 on failure. The
** caller removes it (unlink) when done.
*/
static inline int tu_temp_file(char *path, size_t cap, const char *tag,
			       const void *data, size_t n)
{
	if (snprintf(path, cap, "%s/yoc_%s_XXXXXX", tu_tmpdir(), tag) >= (int)cap)
		return -1;
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	const char *p = data;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0) {
			close(fd);
			unlink(path);
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return close(fd);
}

/* Creates a new temporary directory "TMPDIR/yoc_<tag>_XXXXXX"; 0 or -1. */
static inline int tu_temp_dir(char *path, size_t cap, const char *tag)
{
	if (snprintf(path, cap, "%s/yoc_%s_XXXXXX", tu_tmpdir(), tag) >= (int)cap)
		return -1;
	return mkdtemp(path) ? 0 : -1;
}

static inline int tu_rm_one(const char *p, const struct stat *st, int flag,
			    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* Removes a file or a directory tree (for cleaning up tu_temp_dir). */
static inline int tu_rm_rf(const char *path)
{
	return nftw(path, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/*
** Path of REL inside the shared reference tree that sits beside the
** repository: "$YOC_ROOT/../shared/REL" (YOC_ROOT is set by tests/run.sh),
** else "../shared/REL" from the current directory. Returns buf, or NULL if
** neither exists (tests then skip()).
*/
static inline const char *tu_shared_path(char *buf, size_t cap, const char *rel)
{
	const char *root = getenv("YOC_ROOT");
	if (root && *root) {
		if (snprintf(buf, cap, "%s/../shared/%s", root, rel) < (int)cap &&
		    access(buf, F_OK) == 0)
			return buf;
	}
	if (snprintf(buf, cap, "../shared/%s", rel) < (int)cap && access(buf, F_OK) == 0)
		return buf;
	return NULL;
}

/* The first column of sql's first row on db as an integer; -1 if it fails. */
static inline int64_t tu_sql_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

#endif

/*
** yoc upgrade's work (docs/store.md, "Upgrading"): rewrites every format-1
** or format-2 segment of a dataset as format 3, and a person table of before as the
** table keyed by pseudonym (YOC_STORE_PERSON_SQL), in the same commit. The new files are written and made
** durable first, the catalog rows switched to them in one transaction, the
** old files removed after the commit. Killed at any point the dataset opens
** and answers the same: before the commit the catalog names the old files
** (the new ones are garbage, removed by the next writer), after it the new
** ones (the old ones are then the garbage). Values are copied through the
** read and write APIs, so the rewrite is exactly what a load would write.
*/
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_int.h"

struct useg {
	int64_t file_id;
	char old[64], neu[80];
	int rewrite;
};

static int db_err(yoc_store *s, struct yoc_error *e)
{
	return yoc_error_set(e, YOC_EIO, s->dbpath, 0, 0, "sqlite: %s", sqlite3_errmsg(s->db));
}

static uint64_t file_size(const yoc_store *s, const char *name)
{
	char p[4400];
	struct stat st;
	snprintf(p, sizeof p, "%s/segments/%s", s->dir, name);
	return stat(p, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static uint64_t file_size_path(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Copies segment g into a new format-3 segment NAME (not yet durable). */
static int rewrite(yoc_store *s, const yoc_seg *g, const char *name, struct yoc_error *e)
{
	size_t nc = yoc_seg_ncols(g), nr = yoc_seg_nrows(g);
	const char **names = yoc_calloc(nc + 1, sizeof *names);
	const char **sources = yoc_calloc(nc + 1, sizeof *sources);
	int *types = yoc_calloc(nc + 1, sizeof *types);
	struct yoc_segw *w = NULL;
	int rc = YOC_OK;
	if (!names || !sources || !types) {
		rc = yoc_error_set(e, YOC_ENOMEM, name, 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t c = 0; c < nc; c++) {
		names[c] = yoc_seg_col_name(g, (int)c);
		sources[c] = yoc_seg_col_source(g, (int)c);
		types[c] = yoc_seg_col_type(g, (int)c);
	}
	if ((rc = yoc_segw_create(&w, yoc_seg_kind(g), nc, names, sources, types)) ||
	    (rc = yoc_segw_reserve(w, nr))) {
		rc = yoc_error_set(e, YOC_ENOMEM, name, 0, 0, "out of memory");
		goto cleanup;
	}
	yoc__segw_set_version(w, 3);
	for (size_t r = 0; r < nr && !rc; r++) {
		for (size_t c = 0; c < nc && !rc; c++) {
			switch (types[c]) {
			case YOC_COL_TEXT: {
				struct yoc_cell v = yoc_seg_text(g, (int)c, r);
				rc = yoc_segw_text(w, c, v.p, v.n);
				break;
			}
			case YOC_COL_DATE:
				rc = yoc_segw_i32(w, c, yoc_seg_date(g, (int)c, r));
				break;
			default:
				rc = yoc_segw_i64(w, c, yoc_seg_int(g, (int)c, r));
				break;
			}
		}
		if (!rc)
			rc = yoc_segw_row_end(w);
	}
	if (rc) {
		rc = yoc_error_set(e, rc, name, 0, 0, "cannot copy the segment: out of memory");
		goto cleanup;
	}
	rc = yoc_segw_write(w, s, name, e);
cleanup:
	yoc_segw_free(w);
	yoc_free(names);
	yoc_free(sources);
	yoc_free(types);
	return rc;
}

int yoc_store_upgrade(yoc_store *s, struct yoc_store_upgrade *u,
		      void (*progress)(void *ctx, size_t done, size_t total), void *ctx,
		      struct yoc_error *e)
{
	memset(u, 0, sizeof *u);
	sqlite3_stmt *st = NULL;
	struct useg *a = NULL;
	size_t n = 0, cap = 0;
	int rc = YOC_OK, in_tx = 0;
	struct yoc_error scratch;
	if (sqlite3_prepare_v2(s->db, "SELECT file_id, segment FROM files ORDER BY file_id", -1,
			       &st, NULL))
		return db_err(s, e);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *seg = (const char *)sqlite3_column_text(st, 1);
		if (!seg || !*seg)
			continue;
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 64;
			struct useg *na = yoc_realloc(a, nc * sizeof *a);
			if (!na) {
				rc = yoc_error_set(e, YOC_ENOMEM, s->dir, 0, 0, "out of memory");
				goto cleanup;
			}
			a = na;
			cap = nc;
		}
		struct useg *x = &a[n++];
		memset(x, 0, sizeof *x);
		x->file_id = sqlite3_column_int64(st, 0);
		snprintf(x->old, sizeof x->old, "%s", seg);
		/* fN.seg -> fN.v2.seg: a name no committed row uses */
		size_t ln = strlen(x->old);
		int base = ln > 4 && strcmp(x->old + ln - 4, ".seg") == 0 ? (int)ln - 4 : (int)ln;
		snprintf(x->neu, sizeof x->neu, "%.*s.v2.seg", base, x->old);
	}
	if (r != SQLITE_DONE) {
		rc = db_err(s, e);
		goto cleanup;
	}
	sqlite3_finalize(st);
	st = NULL;

	/* 1. write the new segments, then make them durable */
	yoc_store_defer_sync(s, 1);
	for (size_t i = 0; i < n; i++) {
		struct useg *x = &a[i];
		yoc_seg *g = NULL;
		if ((rc = yoc__seg_open_named(s, x->old, &g, e)))
			goto cleanup;
		if (yoc__seg_version(g) < 3) {
			x->rewrite = 1;
			rc = rewrite(s, g, x->neu, e);
		} else {
			u->current++;
		}
		yoc_seg_close(g);
		if (rc)
			goto cleanup;
		if (progress)
			progress(ctx, i + 1, n);
	}
	if ((rc = yoc_store_sync(s, e)))
		goto cleanup;

	/* 2. switch the catalog rows in one transaction */
	if ((rc = yoc__store_exec(s, "BEGIN IMMEDIATE", e)))
		goto cleanup;
	in_tx = 1;
	if (sqlite3_prepare_v2(s->db, "UPDATE files SET segment = ? WHERE file_id = ?", -1, &st,
			       NULL)) {
		rc = db_err(s, e);
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		if (!a[i].rewrite)
			continue;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, a[i].neu, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, a[i].file_id);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = db_err(s, e);
			goto cleanup;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	/* a person table of before: the same rows, keyed by pseudonym */
	if (!yoc__store_person_keyed(s)) {
		u->catalog_before = file_size_path(s->dbpath);
		if ((rc = yoc__store_exec(s, "ALTER TABLE person RENAME TO person_rowid", e)) ||
		    (rc = yoc__store_exec(s, YOC_STORE_PERSON_SQL, e)) ||
		    (rc = yoc__store_exec(s, "INSERT INTO person SELECT * FROM person_rowid"
					  " ORDER BY pseudo_id; DROP TABLE person_rowid", e)))
			goto cleanup;
		u->person_rewritten = 1;
	}
	if ((rc = yoc__store_exec(s, "COMMIT", e)))
		goto cleanup;
	in_tx = 0;
	/* the old table's pages are free now: give them back (VACUUM is atomic) */
	if (u->person_rewritten) {
		if ((rc = yoc__store_exec(s, "VACUUM", e)))
			goto cleanup;
		u->catalog_after = file_size_path(s->dbpath);
	}

	/* 3. the old files are garbage now: remove them */
	char p[4400];
	for (size_t i = 0; i < n; i++) {
		if (!a[i].rewrite)
			continue;
		u->rewritten++;
		u->bytes_before += file_size(s, a[i].old);
		u->bytes_after += file_size(s, a[i].neu);
		snprintf(p, sizeof p, "%s/segments/%s", s->dir, a[i].old);
		unlink(p);
	}
	snprintf(p, sizeof p, "%s/segments", s->dir);
	int dfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
cleanup:
	sqlite3_finalize(st);
	if (in_tx)
		yoc__store_exec(s, "ROLLBACK", &scratch);
	yoc_store_defer_sync(s, 0);
	yoc_free(a);
	return rc;
}

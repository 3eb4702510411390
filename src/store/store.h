/*
** The dataset store: DIR/yoc.db (SQLite catalog, the single commit point)
** plus one columnar segment file per loaded feed file in DIR/segments/.
** docs/store.md describes the layout, tables and segment format.
**
** READ API (for analysis, quality, export). Typical use:
**
**     yoc_store *s;
**     if (yoc_store_open(&s, dir, 0, &e)) ...            // read only
**     const struct yoc_person *pp; size_t np;
**     yoc_store_persons(s, &pp, &np, &e);               // person table, index = person index
**     struct yoc_file_info *fi; size_t nf;
**     yoc_store_files(s, YOC_KIND_APC, 0, &fi, &nf, &e); // current (non-superseded) files
**     for (size_t i = 0; i < nf; i++) {
**         yoc_seg *g;
**         yoc_seg_open(s, fi[i].file_id, &g, &e);        // checksum verified
**         int c_meth = yoc_seg_col(g, "ADMIMETH");       // -1 when the file lacks it
**         int c_date = yoc_seg_col(g, "EPISTART");
**         for (size_t r = 0; r < yoc_seg_nrows(g); r++) {
**             int32_t who = yoc_seg_person(g, r);        // person index or -1 (unlinked)
**             int32_t d = yoc_seg_date(g, c_date, r);    // days since 1970, or YOC_DATE_NONE...
**             struct yoc_cell m = yoc_seg_text(g, c_meth, r);
**         }
**         yoc_seg_close(g);
**     }
**     yoc_store_files_free(fi);
**     yoc_store_close(s);
**
** Columns carry canonical spec names (src/spec/spec.h): PSEUDO_HESID is
** stored as PSEUDO_ID; its source name is kept for export. Every segment
** also has "_LINE" (source line number, int). Typed columns:
**   date   int32 days since 1970-01-01; YOC_DATE_NONE (empty or nulled bad
**          value), YOC_DATE_HES_NULL (1800-01-01), YOC_DATE_HES_INVALID (1801-01-01)
**   int    int64, YOC_INT_NONE for empty/nulled
**   money  int64 pence, YOC_INT_NONE for empty/nulled
**   text   cell view (pointer, length) into the segment, mapped or decoded
** Only rows that passed validation are in segments; quarantined rows are in
** the quarantine table.
**
** Lifetimes: cell views and arrays from a yoc_seg are valid until
** yoc_seg_close. The person array is valid until yoc_store_close. A
** yoc_store and its segments are used from one thread at a time; separate
** yoc_seg handles may be read from different threads once
** yoc_store_persons has been called. A handle decodes each column on its
** first use (segment format 2, docs/store.md), so even reading one handle
** is for one thread at a time.
**
** Per-person independence: nothing in a segment or in the person table
** depends on other people, so a dataset can be split by pseudonym hash.
**
** Writers (the loader) open with YOC_STORE_WRITE, which takes an exclusive
** lock on DIR/lock and removes segment files that no committed catalog row
** names (left by a killed load).
*/
#ifndef YOC_STORE_H
#define YOC_STORE_H

#include <limits.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/spec.h"
#include "yoc/core.h"
#include "yoc/csv.h"

#define YOC_DATE_NONE INT32_MIN
#define YOC_DATE_HES_NULL (INT32_MIN + 1)
#define YOC_DATE_HES_INVALID (INT32_MIN + 2)
#define YOC_INT_NONE INT64_MIN

typedef struct yoc_store yoc_store;
typedef struct yoc_seg yoc_seg;

enum yoc_store_flags {
	YOC_STORE_WRITE = 1   /* exclusive writer: lock, garbage removal */
};

/* Creates DIR (if needed), DIR/segments and DIR/yoc.db with the schema. YOC_EEXIST if a dataset is there. */
int yoc_store_init(const char *dir, struct yoc_error *e);
/*
** Opens an existing dataset. YOC_ENOTFOUND if DIR holds none. A read-only
** open first calls yoc_store_recover.
*/
int yoc_store_open(yoc_store **out, const char *dir, int flags, struct yoc_error *e);
/*
** A writer killed while committing leaves a hot rollback journal beside
** yoc.db, which a read-only connection cannot roll back ("attempt to write a
** readonly database"): readers would fail until the next writer. When the
** journal exists and no writer holds DIR/lock, opens dbpath for writing once
** so SQLite rolls it back (the dataset is then exactly its state before the
** killed write). No journal, or a writer running: nothing done.
*/
int yoc_store_recover(const char *dbpath, struct yoc_error *e);
void yoc_store_close(yoc_store *s);
/* The catalog connection (owned by the store). */
sqlite3 *yoc_store_db(yoc_store *s);
const char *yoc_store_dir(const yoc_store *s);

/* ---- person table ---- */
struct yoc_person {
	char pseudo[72];     /* PSEUDO_ID */
	char sex[4];
	int birth_month;     /* 1-12, 0 unknown */
	int birth_year;      /* 0 unknown */
	char practice[16];
	char lsoa[16];
	int imd_decile;      /* 1-10, 0 unknown */
	int32_t reg_start;   /* YOC_DATE_NONE if unknown */
	int32_t reg_end;     /* YOC_DATE_NONE while registered */
	int32_t dod;         /* date of death, YOC_DATE_NONE if alive */
};
/* Loads the person table (once; cached). Array sorted by pseudo; the index is the person index. */
int yoc_store_persons(yoc_store *s, const struct yoc_person **out, size_t *n,
		      struct yoc_error *e);
/* Person index of a pseudonym, or -1. Calls yoc_store_persons on first use. */
int32_t yoc_store_person_index(yoc_store *s, const char *pseudo, size_t n);
/*
** Person indexes of n pseudonyms at once (out[i] -1 when absent): the
** answers of yoc_store_person_index, many times faster for many keys (the
** lookups' cache misses overlap). Safe on any thread once
** yoc_store_persons has been called; calls it otherwise.
*/
void yoc_store_person_indexes(yoc_store *s, const struct yoc_map_key *keys, size_t n,
			      int32_t *out);

/* ---- files ---- */
struct yoc_file_info {
	int64_t file_id;
	int kind;              /* enum yoc_kind */
	char provider[64];
	char period[32];
	char path[512];        /* as given to yoc load */
	char hash[40];         /* content hash, hex */
	char segment[64];      /* segment file name under DIR/segments */
	int64_t rows, loaded, quarantined;
	int64_t load_id;
	int superseded;
};
/* Files of a kind (-1: all kinds), current only unless with_superseded. Free with yoc_store_files_free. */
int yoc_store_files(yoc_store *s, int kind, int with_superseded,
		    struct yoc_file_info **out, size_t *n, struct yoc_error *e);
void yoc_store_files_free(struct yoc_file_info *f);

/* ---- segments ---- */
enum yoc_col_type { YOC_COL_TEXT = 0, YOC_COL_DATE = 1, YOC_COL_INT = 2, YOC_COL_MONEY = 3 };

int yoc_seg_open(yoc_store *s, int64_t file_id, yoc_seg **out, struct yoc_error *e);
/*
** The same without verifying the checksums (every offset and bound is still
** checked): for a first look at segments that a verified open in the same
** run reads again before any result is kept (the analysis's register gaps).
*/
int yoc_seg_open_unverified(yoc_store *s, int64_t file_id, yoc_seg **out,
			    struct yoc_error *e);
/*
** Opens the segment of fi (from yoc_store_files) by its name, without a
** catalog query, checksums verified, with its person index: safe on any
** thread once yoc_store_persons has been called (one handle per thread).
*/
int yoc_seg_open_file(yoc_store *s, const struct yoc_file_info *fi, yoc_seg **out,
		      struct yoc_error *e);
/* Opens a segment file by path, without a store (person index then -1). */
int yoc_seg_open_path(const char *path, yoc_seg **out, struct yoc_error *e);
void yoc_seg_close(yoc_seg *g);
size_t yoc_seg_nrows(const yoc_seg *g);
size_t yoc_seg_ncols(const yoc_seg *g);
int yoc_seg_kind(const yoc_seg *g);
/* Column index by canonical name, -1 if absent. */
int yoc_seg_col(const yoc_seg *g, const char *name);
const char *yoc_seg_col_name(const yoc_seg *g, int col);
const char *yoc_seg_col_source(const yoc_seg *g, int col); /* name in the source file */
int yoc_seg_col_type(const yoc_seg *g, int col);
/* Typed access; col -1 gives the "none" value (empty cell, YOC_DATE_NONE, YOC_INT_NONE). */
struct yoc_cell yoc_seg_text(const yoc_seg *g, int col, size_t row);
int32_t yoc_seg_date(const yoc_seg *g, int col, size_t row);
int64_t yoc_seg_int(const yoc_seg *g, int col, size_t row);  /* int and money columns */
/* Whole-column arrays (NULL if col is not of that type). */
const int32_t *yoc_seg_dates(const yoc_seg *g, int col);
const int64_t *yoc_seg_ints(const yoc_seg *g, int col);
/* Writes the cell as CSV text into buf (cap >= 32 for typed values); returns length. */
size_t yoc_seg_format(const yoc_seg *g, int col, size_t row, char *buf, size_t cap,
		      const char **text);
/* Person index of a row (-1: no pseudonym or not registered). */
int32_t yoc_seg_person(const yoc_seg *g, size_t row);
/* Activity date of a row (the kind's ROLE_DATE field), or YOC_DATE_NONE. */
int32_t yoc_seg_activity_date(const yoc_seg *g, size_t row);

/* ---- segment writer (loader) ---- */
struct yoc_segw;
/* Column layout given up front: names (canonical), source names, types. */
int yoc_segw_create(struct yoc_segw **out, int kind, size_t ncols, const char *const *names,
		    const char *const *sources, const int *types);
void yoc_segw_free(struct yoc_segw *w);
/* Appends one value to column col of the current row (call for every column, in order, then yoc_segw_row_end). */
int yoc_segw_text(struct yoc_segw *w, size_t col, const char *p, size_t n);
int yoc_segw_i32(struct yoc_segw *w, size_t col, int32_t v);
int yoc_segw_i64(struct yoc_segw *w, size_t col, int64_t v);
int yoc_segw_row_end(struct yoc_segw *w);
size_t yoc_segw_nrows(const struct yoc_segw *w);
/*
** Room for nrows rows in all, so appending does not grow the columns step
** by step; text columns get as many bytes per row as the rows so far took.
** A hint: appending works without it. YOC_ENOMEM.
*/
int yoc_segw_reserve(struct yoc_segw *w, size_t nrows);
/* Writes DIR/segments/NAME (temp, fsync, rename). Not visible to readers until the catalog row commits. */
int yoc_segw_write(struct yoc_segw *w, yoc_store *s, const char *name, struct yoc_error *e);
/*
** The same in two steps, so that a segment can be written on another
** thread before its name is known: yoc_segw_write_tmp writes a temporary
** file under DIR/segments (its path into tmp; safe from any thread while
** the store is open, and removed by the next writer if never published);
** yoc_segw_publish renames it to NAME on the store's thread (removed on
** failure). Unlink tmp to drop it.
*/
int yoc_segw_write_tmp(struct yoc_segw *w, const yoc_store *s, char *tmp, size_t cap,
		       struct yoc_error *e);
int yoc_segw_publish(yoc_store *s, const char *tmp, const char *name, struct yoc_error *e);
/*
** Pseudonyms pooled in commit order (the loader): a format-3 segment's
** person column holds indexes into the dataset's pseudonym pool, given out
** in the order segments are pooled. With yoc_segw_pool_later(w) before
** yoc_segw_write_tmp, the indexes are left for yoc_segpool_apply, which
** the store's thread calls in commit order before yoc_segw_publish: so a
** load writes the same bytes whatever its number of workers.
** yoc_segw_take_pool hands over what apply needs (NULL: nothing to pool).
*/
struct yoc_segpool;
void yoc_segw_pool_later(struct yoc_segw *w);
struct yoc_segpool *yoc_segw_take_pool(struct yoc_segw *w);
int yoc_segpool_apply(struct yoc_segpool *p, yoc_store *s, const char *tmp, struct yoc_error *e);
void yoc_segpool_free(struct yoc_segpool *p);

/*
** Deferred sync (the loader): with on, yoc_segw_write skips its fsyncs;
** yoc_store_sync then makes every segment written since durable with one
** syncfs and one directory fsync. Call it before committing the catalog rows
** that name those segments.
*/
void yoc_store_defer_sync(yoc_store *s, int on);
int yoc_store_sync(yoc_store *s, struct yoc_error *e);

/*
** zstd level (1-19) for the segments this handle writes from now on; 0 or
** less: none. Default YOC_STORE_ZSTD_LEVEL. Readers need no setting.
*/
#define YOC_STORE_ZSTD_LEVEL 3
void yoc_store_compress(yoc_store *s, int level);

/*
** yoc upgrade: rewrites every format-1 or format-2 segment of a store opened with
** YOC_STORE_WRITE as format 3 (docs/store.md, "Upgrading"): new files
** written and synced, the catalog rows switched in one transaction, the old
** files removed after the commit. progress (may be NULL) is called after
** each segment. A person table written before it was keyed by pseudonym
** (YOC_STORE_PERSON_SQL) is converted in the same transaction and the
** catalog vacuumed after it. A dataset already current is left as it is.
*/
struct yoc_store_upgrade {
	size_t rewritten, current;             /* segments rewritten; already format 3 */
	uint64_t bytes_before, bytes_after;    /* of the rewritten ones */
	int person_rewritten;                  /* 1: the person table was converted */
	uint64_t catalog_before, catalog_after; /* yoc.db's bytes, when it was */
};
int yoc_store_upgrade(yoc_store *s, struct yoc_store_upgrade *u,
		      void (*progress)(void *ctx, size_t done, size_t total), void *ctx,
		      struct yoc_error *e);

/* Threads yoc_store_rebuild_linkage may use (default 1); the result is the same. */
void yoc_store_jobs(yoc_store *s, int n);
/* Rebuilds the person table and the linkage table inside the caller's transaction;
 * after yoc_store_rebuild_persons the person cache holds the new table. */
int yoc_store_rebuild_persons(yoc_store *s, struct yoc_error *e);
int yoc_store_rebuild_linkage(yoc_store *s, struct yoc_error *e);
/* Both, the linkage of every current file counted on yoc_store_jobs threads
 * while the person rows are written: the tables of yoc_store_rebuild_persons,
 * then "DELETE FROM linkage" and yoc_store_rebuild_linkage. */
int yoc_store_rebuild_all(yoc_store *s, struct yoc_error *e);
/* Drops the cached person array (after a rebuild). */
void yoc_store_persons_reset(yoc_store *s);

/*
** The source accounts of loaded files (docs/store.md): one source_account
** row per file loaded since accounts exist, the rejected rows the account
** lists in source_rejected. Created with the schema, and by the loader in
** datasets made before (IF NOT EXISTS); readers must allow for their absence
** in a dataset not loaded since.
*/
/*
** The person table: one row per registered person, keyed by pseudonym
** (WITHOUT ROWID: the rows are the index, so the pseudonym is stored once;
** person_idx is the row's place in pseudonym order, 0-based). Datasets
** written before keep a rowid table with a unique index on pseudo_id; both
** answer the same queries, and yoc upgrade converts the old one.
*/
#define YOC_STORE_PERSON_SQL \
	"CREATE TABLE person(person_idx INTEGER NOT NULL, pseudo_id TEXT PRIMARY KEY," \
	" sex TEXT, birth_month INTEGER, birth_year INTEGER, practice TEXT, lsoa TEXT," \
	" imd_decile INTEGER, reg_start TEXT, reg_end TEXT, date_of_death TEXT) WITHOUT ROWID;"

#define YOC_STORE_SOURCE_ACCOUNT_SQL \
	"CREATE TABLE IF NOT EXISTS source_account(file_id INTEGER PRIMARY KEY," \
	" status TEXT NOT NULL, account TEXT, entry TEXT, sha256 TEXT, rows_read INTEGER," \
	" rows_written INTEGER, opted_out INTEGER, rejected INTEGER, rejected_reasons TEXT," \
	" key_id TEXT, written TEXT, generator TEXT);" \
	"CREATE TABLE IF NOT EXISTS source_rejected(file_id INTEGER NOT NULL, line INTEGER," \
	" reason TEXT);" \
	"CREATE INDEX IF NOT EXISTS source_rejected_file ON source_rejected(file_id);"

/*
** ---- the catalog rows of a load (catalog.c) ----
** Every statement `yoc load` runs against the catalog. One load is one
** transaction: yoc_catalog_load_begin opens it on a store opened with
** YOC_STORE_WRITE, yoc_catalog_load_end commits it (after making the
** segments written since durable), yoc_catalog_load_abort rolls it back.
** Inside it, each file's rows sit in a savepoint (yoc_catalog_file_begin /
** yoc_catalog_file_end) so a refused file can be taken back whole. Strings
** passed in are copied by SQLite before the call returns. Errors: YOC_EIO
** with the SQLite message, file "yoc.db". The connection is the store's:
** one thread at a time.
*/
int yoc_catalog_load_begin(yoc_store *s, int64_t *load_id, struct yoc_error *e);
struct yoc_catalog_load {
	int64_t files, rows, loaded, quarantined, unchanged, replaced;
};
/* Rebuilds persons (when persons_dirty) and linkage, records the counts, commits. */
int yoc_catalog_load_end(yoc_store *s, int64_t load_id, const struct yoc_catalog_load *c,
			 int persons_dirty, struct yoc_error *e);
void yoc_catalog_load_abort(yoc_store *s); /* NULL is fine */

/* The content hashes of every stored file, as keys of m (initialised by the caller). */
int yoc_catalog_hashes(yoc_store *s, struct yoc_map *m, struct yoc_error *e);

/* A stored file of a kind, provider and period; strings valid during the callback. */
struct yoc_catalog_file {
	int64_t file_id;
	const char *hash, *path;
	int64_t rows, loaded, quarantined, flagged;
	int current;              /* not superseded */
};
/* Calls fn for each such file, current ones first, newest first. */
int yoc_catalog_files_of(yoc_store *s, const char *kind, const char *provider,
			 const char *period,
			 void (*fn)(void *ctx, const struct yoc_catalog_file *f), void *ctx,
			 struct yoc_error *e);
/* Remembers path as a copy of file_id when its path differs (duplicate_files). */
int yoc_catalog_duplicate_add(yoc_store *s, const char *path, int64_t file_id,
			      int64_t load_id, struct yoc_error *e);
/* Quarantined rows of a file per reason, in reason order; fn returns non-zero to stop. */
int yoc_catalog_reasons(yoc_store *s, int64_t file_id,
			int (*fn)(void *ctx, const char *reason, int64_t rows), void *ctx,
			struct yoc_error *e);
/* Every quarantined row of a file in line order (YOC_EIO when it cannot be read). */
int yoc_catalog_quarantined(yoc_store *s, int64_t file_id,
			    void (*fn)(void *ctx, int64_t line, const char *field,
				       const char *reason),
			    void *ctx);

int yoc_catalog_file_begin(yoc_store *s, struct yoc_error *e);
/* keep: release the file's rows into the load; else roll them back (e may be NULL). */
int yoc_catalog_file_end(yoc_store *s, int keep, struct yoc_error *e);

struct yoc_catalog_new_file {
	int64_t load_id;
	const char *kind, *provider, *period, *path, *hash, *delimiter;
	int64_t bytes;
	int replaces;             /* status "replaced" rather than "loaded" */
};
int yoc_catalog_file_add(yoc_store *s, const struct yoc_catalog_new_file *f, int64_t *file_id,
			 struct yoc_error *e);
int yoc_catalog_file_counts(yoc_store *s, int64_t file_id, const char *segment, int64_t rows,
			    int64_t loaded, int64_t quarantined, int64_t flagged,
			    struct yoc_error *e);
int yoc_catalog_supersede(yoc_store *s, int64_t old_id, int64_t new_id, struct yoc_error *e);
/* Sets one row of the catalog's meta table (key, value). */
int yoc_catalog_meta_set(yoc_store *s, const char *key, const char *value,
			 struct yoc_error *e);

/* A quarantined row (extra: the row as sent) or a flag (extra: the action taken). */
struct yoc_catalog_row {
	int64_t file_id;
	int64_t line;
	const char *field, *reason;
	const char *value, *extra;
	size_t nvalue, nextra;
};
int yoc_catalog_quarantine_add(yoc_store *s, const struct yoc_catalog_row *r,
			       struct yoc_error *e);
int yoc_catalog_flag_add(yoc_store *s, const struct yoc_catalog_row *r, struct yoc_error *e);
int yoc_catalog_column_add(yoc_store *s, int64_t file_id, int64_t idx, const char *name,
			   const char *source, const char *type, struct yoc_error *e);
/* ndistinct < 0: not counted (NULL). top: "value=count;..." of ntop bytes. */
int yoc_catalog_stats_add(yoc_store *s, int64_t file_id, const char *name, int64_t filled,
			  int64_t empty, int64_t invalid, int64_t ndistinct, const char *top,
			  size_t ntop, struct yoc_error *e);
int yoc_catalog_nhsno_add(yoc_store *s, int64_t file_id, const char *status, size_t n,
			  int64_t count, struct yoc_error *e);

/* A file's source account outcome (source_account) and the rows it lists as rejected. */
struct yoc_catalog_account {
	int64_t file_id;
	const char *status, *account, *entry, *sha256;
	int counted;              /* the entry's counts below are known */
	int64_t rows_read, rows_written, opted_out, rejected;
	const char *reasons;
	const char *key_id, *written, *generator;
	size_t nrejected;         /* source_rejected rows, read through the callbacks */
	const void *ctx;
	int64_t (*rejected_line)(const void *ctx, size_t i);
	const char *(*rejected_reason)(const void *ctx, size_t i);
};
int yoc_catalog_account_add(yoc_store *s, const struct yoc_catalog_account *a,
			    struct yoc_error *e);

/*
** Internal, exposed for tests: fills e for a dataset that cannot be opened
** for writing, from the errno of the step that failed on path: a write
** check or opening the lock file (locking 0), or taking the lock (locking
** 1). Permission (EACCES, EPERM, EROFS) says the dataset is not writable,
** with path and strerror; only a lock held elsewhere says another yoc
** process is writing. Returns the status set (YOC_EPERM or YOC_EIO).
*/
int yoc__store_write_error(struct yoc_error *e, const char *dir, const char *path,
			   int locking, int err);

/* Linkage reason of a row: "linked", "no_pseudonym", "not_registered". */
const char *yoc_seg_link_reason(const yoc_seg *g, size_t row);
/*
** The same for every row at once, as 0 (linked), 1 (no_pseudonym) or 2
** (not_registered) into why[0 .. nrows): found once per distinct pseudonym
** when the person column is a dictionary (format 2). YOC_ENOMEM.
*/
int yoc_seg_link_reasons(const yoc_seg *g, unsigned char *why);

/*
** A dictionary-encoded text column (format 2, docs/store.md): the number of
** distinct values, and each row's code (0 .. n-1) into out[0 .. nrows) when
** out is not NULL, so a caller can work once per distinct value; a code
** that is damaged (possible only after an unverified open) reads as n, for
** which yoc_seg_dict_entry gives the empty cell, as yoc_seg_text does for
** that row. -1 when col is not such a column: read it with yoc_seg_text.
*/
int64_t yoc_seg_dict_codes(const yoc_seg *g, int col, uint32_t *out);
/* Value k of a dictionary column (k < its count), valid until yoc_seg_close; else empty. */
struct yoc_cell yoc_seg_dict_entry(const yoc_seg *g, int col, uint32_t k);
/*
** A pooled person column (format 3, docs/store.md): each dictionary entry's
** pseudonym id in the dataset (its index in DIR/pseudonyms.pool, the same
** in every segment of the dataset), UINT32_MAX for "", into out[0 .. n)
** when out is not NULL; returns n, the entries' count, or -1 when col is
** not such a column. yoc_seg_pool_entry: the 32 raw bytes of pseudonym id
** (its hex text is the value), or NULL.
*/
int64_t yoc_seg_pool_ids(const yoc_seg *g, int col, uint32_t *out);
const unsigned char *yoc_seg_pool_entry(const yoc_seg *g, uint32_t id);
/*
** The person index of each of n pseudonym ids (UINT32_MAX: none) of s's
** dataset into out (-1: not registered): each id is looked up once per
** person cache, and remembered. Safe on any thread once yoc_store_persons
** has been called (as yoc_seg_person).
*/
void yoc_store_pool_persons(yoc_store *s, const uint32_t *ids, size_t n, int32_t *out);

#endif

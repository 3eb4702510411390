/*
** The load pipeline: recognise a feed file, refuse identifiable data,
** validate every row against the feed specification, quarantine what fails,
** write the rest to a segment, and commit everything for one `yoc load` in
** one catalog transaction (so a killed load leaves the dataset as it was).
**
** Row accounting: for every file, rows = loaded + quarantined, where rows
** counts every data row the CSV reader returned, malformed ones included.
** The identifier policy (src/ident) is the same as pseudonymise's: a header
** naming a direct identifier refuses the file, columns the spec does not
** know (nor the allow-list) are not loaded and are listed, and a value that
** looks like an identifier in any kept cell refuses the whole file (its
** catalog rows are rolled back to a savepoint; no segment is written).
** Must not print or exit; results go into struct yoc_load_result.
*/
#ifndef YOC_LOAD_H
#define YOC_LOAD_H

#include "store/store.h"

enum yoc_load_status {
	YOC_LOAD_LOADED = 0,
	YOC_LOAD_UNCHANGED,
	YOC_LOAD_REPLACED,
	YOC_LOAD_REJECTED   /* whole file refused: message says why */
};
const char *yoc_load_status_str(int status);

#define YOC_LOAD_MAX_REASONS 24

struct yoc_load_result {
	char file[1024];
	int kind;               /* -1 if not recognised */
	char provider[64];
	char period[32];
	int version;            /* 1, or N of a _vN resubmission (load/feedname.h) */
	int64_t file_id;
	int64_t rows, loaded, quarantined, flagged;
	int status;             /* enum yoc_load_status */
	size_t nreasons;
	/* rows quarantined per reason code; of a file read now (not unchanged),
	 * the first such row's field, line and column (0 when not known) */
	struct {
		char code[40];
		int64_t rows;
		char field[64];
		long line, col;
	} reasons[YOC_LOAD_MAX_REASONS];
	char message[600];
	size_t ndropped;        /* columns not loaded: not in the spec nor allowed */
	char dropped[512];      /* their names, ", "-separated, cut short with "..." */
	/*
	** The file's source account (yoc_loader_file; docs/store.md,
	** source_account), for a file loaded or replaced; status "" otherwise:
	**   matched      its entry (found by SHA-256 of the bytes loaded) says it
	**                wrote as many rows as load read
	**   rows_differ  found, but the entry's rows written differ from rows
	**   changed      an entry under the file's path, with other content
	**   no_entry     accounts found, none describes this file
	**   unreadable   the nearest account could not be read (message says why)
	**   no_account   none found
	** The counts are the entry's (matched, rows_differ), else 0.
	*/
	struct {
		char status[16];
		char path[512];        /* the account file */
		int64_t rows_read, opted_out, rejected;
		char reasons[200];     /* "stray_quote=2;truncated=1" */
		char message[300];
	} account;
};

struct yoc_loader;
/* Starts a load on a store opened with YOC_STORE_WRITE: opens the transaction. */
int yoc_loader_begin(struct yoc_loader **out, yoc_store *s, struct yoc_error *e);
/*
** The identifier policy for the files that follow (src/ident): columns on
** allow (may be NULL) are loaded besides the spec's fields; with strict a
** column that would be dropped refuses its file. allow must outlive L.
*/
struct yoc_allow;
void yoc_loader_policy(struct yoc_loader *L, const struct yoc_allow *allow, int strict);
/*
** Loads one file. kind -1 detects it from the header. Returns 0 when the file
** was handled (loaded, unchanged, replaced or rejected: see res->status), or
** a negative status on a failure that must abort the whole load.
** The file's source account is looked for (load_int.h, yoc__acct_lookup)
** beside it and, with yoc_loader_file_from, in the folders above it up to
** root, the path given to yoc load under which the file was found.
*/
int yoc_loader_file(struct yoc_loader *L, const char *path, int kind,
		    struct yoc_load_result *res, struct yoc_error *e);
int yoc_loader_file_from(struct yoc_loader *L, const char *path, const char *root, int kind,
			 struct yoc_load_result *res, struct yoc_error *e);
/* The 128-bit content identity of a file's bytes (files.hash), 32 hex digits. */
void yoc_load_content_hash(const void *data, size_t n, char out[40]);
/* 1 if path names a source account (yoc-account.json, *.account.json). */
int yoc_load_is_account(const char *path);
/* Same, from memory (name stands for the path; used by tests and the fuzzer). */
int yoc_loader_mem(struct yoc_loader *L, const char *name, const void *data, size_t n,
		   int kind, struct yoc_load_result *res, struct yoc_error *e);
/*
** Many files at once. Workers (yoc_loader_jobs; 1, the default: none, every
** file is read on the caller's thread) read, validate and encode files
** ahead of the commit; each file is committed in the order of jobs, on the
** caller's thread, and then handed to done(ctx, i, res) (res NULL for a job
** with skip set; res valid during the call). The catalog, the segments and
** the results are the same whatever the number of workers. Returns 0, a
** negative status on a failure that aborts the load (as yoc_loader_file),
** or what done returned when not 0 (which stops the load).
*/
#define YOC_LOAD_MAX_JOBS 64
void yoc_loader_jobs(struct yoc_loader *L, int n);
struct yoc_load_job {
	const char *path;
	const char *root;     /* the path given to yoc load it was found under */
	int kind;             /* -1: recognise it */
	int skip;             /* not loaded: done is called with res NULL */
	/*
	** A sharded load (src/shard, docs/mpi.md): data (ndata bytes, kept by
	** the caller until the call returns) is this shard's part of the file
	** at path, already read; hash, the whole file's content identity
	** (yoc_load_content_hash) and bytes its size; scanned, the whole file passed the
	** identifier scan where it was read, so its part is not judged alone.
	** NULL data: the file is read from path.
	*/
	const void *data;
	size_t ndata;
	const char *hash;
	int64_t bytes;
	int scanned;
};
int yoc_loader_files(struct yoc_loader *L, const struct yoc_load_job *jobs, size_t n,
		     int (*done)(void *ctx, size_t i, const struct yoc_load_result *res),
		     void *ctx, struct yoc_error *e);
/* Rebuilds person and linkage tables as needed and commits. */
int yoc_loader_commit(struct yoc_loader *L, struct yoc_error *e);
/* Rolls back if not committed; frees. NULL is fine. */
void yoc_loader_free(struct yoc_loader *L);

/*
** Internal, exposed for tests: reads the file open on fd, which should hold
** exactly size bytes, into a new NUL-terminated buffer (*out, yoc_malloc'd;
** the caller frees it). Loops on short reads. YOC_EDATA "file changed while
** being read" when it holds fewer or more bytes than size, YOC_EIO when
** read fails, YOC_ENOMEM; *out is then NULL and e says why (file is name).
*/
int yoc__load_read_fd(int fd, size_t size, const char *name, char **out,
		      struct yoc_error *e);

/*
** Plans one load before any file is loaded (docs/data-spec.md, "One load:
** one file per kind, provider, period and version"). Reads each file's name
** (load/feedname.h) and header (its kind; or kind, when >= 0) and
**   - puts the files of one kind, provider and period in version order, in
**     the places they held: the highest version loads last and is current,
**     whatever the order of the paths;
**   - refuses every file of a kind, provider, period and version sent more
**     than once with different content (compared byte for byte): neither is
**     loaded, and each message names the others. Identical copies are not
**     refused (the second loads as an unchanged duplicate).
** A file whose name, header or kind is not recognised stays where it was,
** for yoc_loader_file to reject. paths must outlive the plan.
*/
struct yoc_load_item {
	const char *path;     /* the caller's */
	int kind;             /* -1 if not recognised */
	char provider[16], period[8];
	int version;          /* 0 if the name is not a feed name */
	char *refuse;         /* NULL, or why the file is refused (owned by the plan) */
};

struct yoc_load_plan {
	size_t n;
	struct yoc_load_item *items; /* in the order to load */
};

/* Returns 0, or YOC_ENOMEM (with e set). Free with yoc_load_plan_free. */
int yoc_load_plan_make(struct yoc_load_plan *p, const char *const *paths, size_t n, int kind,
		       struct yoc_error *e);
/* Frees what the plan holds; a zeroed plan is fine. */
void yoc_load_plan_free(struct yoc_load_plan *p);
/* Fills res for an item the plan refused (status rejected, message why). */
void yoc_load_refused(const struct yoc_load_item *it, struct yoc_load_result *res);

#endif

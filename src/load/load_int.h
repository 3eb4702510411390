/*
** Internals shared by the load's files, one stage each:
**   load_read.c     read a file, check its header and name, validate rows
**   load_encode.c   encode the rows kept into a segment, count the values
**   load_commit.c   the load's transaction: a file's catalog rows (through
**                   the store's catalog API) and its segment, in load order
**   load.c          the driver: one file, or many on worker threads
**   load_account.c  the source accounts of the files being loaded
** Read and encode touch no catalog and no shared state but the loader's
** read-only settings, so any number of files go through them at once;
** commit runs on one thread, one file at a time, in load order.
** Not for use outside src/load/.
*/
#ifndef YOC_LOAD_INT_H
#define YOC_LOAD_INT_H

#include <pthread.h>

#include "account/account.h"
#include "ident/ident.h"
#include "load/load.h"

/* The accounts read so far in one load, by path (missing ones too). */
struct yoc__acct_cache;
struct yoc__acct_index;
void yoc__acct_cache_free(struct yoc__acct_cache *c);

/* The accounts that may describe one file, nearest first. */
#define YOC__ACCT_MAX 64
struct yoc__acct_lookup {
	size_t n;
	struct {
		const struct yoc_account *a;
		const struct yoc__acct_index *ix; /* a's entries by content and path */
		const char *path;     /* the account file (the cache's string) */
		char rel[1024];       /* the file's path relative to the account's folder */
	} c[YOC__ACCT_MAX];
	const char *unreadable;   /* the nearest account that could not be read, or NULL */
	const char *why;          /* and why */
};

/*
** The accounts of path, a file found under root (the path given to yoc load;
** root == path for a file given by itself): path + ".account.json", then
** "yoc-account.json" in path's folder and each folder above it up to root
** (for a file given by itself, its own folder only). Each account file is
** read once per load and cached in *c (created on first use). An account
** that cannot be read is remembered as such, never an error. Returns 0, or
** YOC_ENOMEM.
*/
int yoc__acct_lookup(struct yoc__acct_cache **c, const char *path, const char *root,
		     struct yoc__acct_lookup *lk, struct yoc_error *e);

/*
** Matches a loaded file to its entry (sha256: of the bytes loaded, or NULL
** when no account was found) and records the outcome in source_account and
** the listed rejected rows in source_rejected, inside the load's
** transaction. Fills res->account. res->file_id and res->rows must be set.
*/
int yoc__acct_record(yoc_store *s, const struct yoc__acct_lookup *lk, const char *sha256,
		     struct yoc_load_result *res, struct yoc_error *e);


struct yoc_loader {
	yoc_store *s;
	int64_t load_id;
	int in_txn;
	int persons_dirty;
	const yoc_allow *allow; /* extra columns allowed (may be NULL) */
	int strict;             /* a column that would be dropped refuses the file */
	int jobs;               /* worker threads (1: files read on the caller's thread) */
	struct yoc_catalog_load n; /* files, rows, ... of this load */
	int32_t today;       /* dates after it are in the future */
	int32_t day_min;     /* 1900-01-01: dates before it are out of range */
	int today_ym;        /* year * 12 + month - 1, for MYDOB */
	struct yoc_map stored;  /* content hashes of the files stored before this load */
	struct yoc__acct_cache *acct; /* source accounts read so far */
	pthread_mutex_t acct_mu;      /* guards acct while files are read in parallel */
};

/*
** Counts of a column's values, the first YOC__FREQ_MAX distinct ones (the
** rest counted in *other), kept in an open-addressing table with the keys'
** bytes in one buffer: cheaper per cell than a yoc_map. yoc__freq_map hands
** the counts on as a yoc_map filled in first-seen order, so its layout (and
** the statistics written from it) is what counting in the map directly
** gave.
*/
#define YOC__FREQ_MAX 200
struct yoc__freq_slot {
	uint64_t h;
	uint64_t count;
	uint32_t len, off;         /* the key: len bytes at keys.data + off */
};
struct yoc__freq {
	struct yoc__freq_slot *slots; /* 512: at most 200 used */
	uint16_t order[YOC__FREQ_MAX]; /* slots in first-seen order */
	size_t n;
	struct yoc_buf keys;
	struct yoc__freq_slot *last;   /* the slot counted last: runs of a value skip the hash */
};
int yoc__freq_init(struct yoc__freq *q);
void yoc__freq_free(struct yoc__freq *q);
int yoc__freq_count(struct yoc__freq *q, const char *p, size_t n, int64_t *other);
/* m: initialised by the caller (empty). */
int yoc__freq_map(const struct yoc__freq *q, struct yoc_map *m);

/*
** The rows of a file seen so far, by 128-bit content hash: an
** open-addressing set of the hashes themselves (a hash is its own slot).
*/
struct yoc__rowset {
	uint64_t (*v)[2];
	size_t n, cap;
	int has_zero;              /* the all-zero hash, which marks empty slots */
};

struct yoc__colinfo {
	const struct yoc_field *f; /* NULL: a column on the allow-list, kept as text */
	size_t src;                /* its position in the input row */
	const char *name;          /* canonical (or source); the source name follows its NUL */
	int segtype;
	int64_t filled, empty, invalid;
	struct yoc_map *freq;      /* code fields: value counts (capped), from count */
	struct yoc__freq *count;   /* counted here while the rows are read */
	int64_t freq_other;
	int check_pseudo;     /* source column is PSEUDO_ID: 64 hex */
};

/* A catalog row held until its file commits: offsets into the file's text. */
struct yoc__rec {
	long line;
	size_t field, reason, value, extra; /* NUL-terminated strings in text */
	size_t nvalue, nextra;
};
struct yoc__recs {
	struct yoc__rec *v;
	size_t n, cap;
};

enum yoc__lf_stage {
	YOC__LF_DONE = 0,      /* res is final (rejected before the catalog) */
	YOC__LF_STORED,        /* its content is stored: the catalog decides, not encoded yet */
	YOC__LF_ENCODED,       /* rows validated and encoded, catalog rows held */
	YOC__LF_REFUSED        /* identifiers in its values: refused (why) */
};

/*
** One file on its way through the stages. Read and encode fill it on any
** thread; commit consumes it on the loader's thread.
*/
struct yoc__lfile {
	const char *path, *root;   /* the caller's */
	int kind;                  /* asked for, -1 to recognise */
	struct yoc_load_result res;
	int stage;                 /* enum yoc__lf_stage */
	int rc;                    /* a failure that aborts the load (e says why) */
	struct yoc_error e;
	struct yoc_error why;      /* YOC__LF_REFUSED: the identifier scan's verdict */
	const char *data;          /* the file's bytes (cells usually point into them) */
	size_t ndata;
	char *owned;               /* data, when read here */
	char hash[40];
	const char *hash_given;    /* a sharded load's part: the whole file's hash */
	int64_t bytes_given;       /* and size */
	int scanned;               /* a sharded load's part: scanned whole where read */
	struct yoc__acct_lookup *lk; /* its source accounts (NULL: not looked for) */
	char sha256[65];           /* of data, when an account was found */
	char delim[2];
	yoc_csv *r;
	struct yoc_ident_plan plan;
	const struct yoc_cell *hdr;
	size_t nin;                /* columns in the input header */
	size_t ncols;              /* columns loaded */
	struct yoc__colinfo *cols;
	struct yoc_idscan scan;    /* identifier scan of every value kept */
	char *namebuf;             /* the columns' names */
	size_t namelen;
	struct yoc_map status_counts; /* from status */
	struct yoc__freq status;
	struct yoc__rowset seen;   /* row content hashes: exact duplicate rows */
	int c_status, c_person;
	struct yoc_segw *w;        /* the rows kept, until written to segtmp */
	char segtmp[4400];         /* the segment written, not yet named ("": none) */
	struct yoc_segpool *segpool; /* its pseudonyms, pooled when it commits (NULL: none) */
	struct yoc_buf text;       /* strings of the held rows */
	struct yoc__recs quar, flags;
};

/* A row's validated value for one column. */
struct yoc__val {
	const char *p;
	size_t n;
	int64_t i;
	const char *why;    /* reason for a flag, or NULL */
	const char *action;
};

/* load_read.c */
void yoc__lf_init(struct yoc__lfile *lf, const char *path, const char *root, int kind);
void yoc__lf_free(struct yoc__lfile *lf);
/* Reads the file at lf->path into lf (or, on failure, rejects it or sets lf->rc). */
void yoc__lf_read(struct yoc_loader *L, struct yoc__lfile *lf);
/* The read bytes (or data, n): header, identifier policy, name; then rows. */
void yoc__lf_prepare(struct yoc_loader *L, struct yoc__lfile *lf, const char *name,
		     const void *data, size_t n);
/* Validates and encodes every row (YOC__LF_STORED or a fresh file). */
int yoc__lf_rows(struct yoc_loader *L, struct yoc__lfile *lf, struct yoc_error *e);
int yoc__lf_reject(struct yoc_load_result *res, const char *fmt, const char *arg);

/* load_encode.c */
int yoc__lf_encode_begin(struct yoc__lfile *lf);
int yoc__lf_append(struct yoc__lfile *lf, const struct yoc__val *vals, long line,
		   struct yoc_error *e);
int yoc__lf_hold(struct yoc__lfile *lf, struct yoc__recs *rs, long line, const char *field,
		 const char *v, size_t vn, const char *reason, const char *extra, size_t nextra);

/* load_commit.c */
int yoc__lf_commit(struct yoc_loader *L, struct yoc__lfile *lf, struct yoc_error *e);

#endif

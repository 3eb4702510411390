/*
** Internals shared by the store's files (store.c, segment.c, person.c).
** Not for use outside src/store/.
*/
#ifndef YOC_STORE_INT_H
#define YOC_STORE_INT_H

#include "store/store.h"

/*
** Pseudonym -> person index: open addressing over an array of persons whose
** pseudo is the key. A slot holds (hash >> 32) << 32 | (index + 1); 0 is
** empty. A hit is confirmed against the person's pseudo, so it is exact.
*/
struct yoc__pindex {
	uint64_t *slot;
	size_t mask;
};

struct yoc_store {
	char dir[2048];
	char dbpath[2100];
	sqlite3 *db;
	int lockfd;
	int flags;
	int defer_sync;   /* segments written without fsync until yoc_store_sync */
	int zlevel;       /* zstd level of new segments: 0 the default, < 0 none */
	int sync_pending;
	char **pending;   /* paths of segments written since the last sync */
	size_t npending;
	struct yoc_map pending_set; /* the same paths, to look one up (slots NULL: none) */
	/* person cache */
	struct yoc_person *persons;
	size_t npersons;
	int persons_loaded;
	struct yoc__pindex pmap; /* pseudo -> index (person.c) */
	sqlite3_stmt *cat[8]; /* catalog.c: statements kept for one load */
	int jobs;             /* threads for rebuilding linkage (yoc_store_jobs) */
	struct yoc__pool *pool; /* the dataset's pseudonym pool (pool.c); NULL: out of memory */
	/* pool id -> person index, -2 not yet known (yoc_store_pool_persons); with the person cache */
	int32_t *pool_pidx;
	uint32_t npool_pidx;
};

/* The lowercase hex text of n bytes into out (2n characters); returns 2n. */
uint32_t yoc__hex_of(const unsigned char *raw, uint64_t n, char *out);

int yoc__store_exec(yoc_store *s, const char *sql, struct yoc_error *e);
/* The write-behind VFS's name (wbvfs.c), registered on first use; NULL: none. */
const char *yoc__wbvfs_name(void);
void yoc__store_pending_free(yoc_store *s);
/* 1: s's person table is keyed by pseudonym (YOC_STORE_PERSON_SQL); 0: a rowid table. */
int yoc__store_person_keyed(yoc_store *s);
void yoc__catalog_finalize(yoc_store *s);
/*
** Opens DIR/segments/SEGMENT (checksums verified unless this process wrote
** it in the load in progress) with its person index, without the catalog:
** safe on any thread once yoc_store_persons has been called.
*/
int yoc__seg_open_named(yoc_store *s, const char *segment, yoc_seg **out,
			struct yoc_error *e);
/* Format of an open segment: 1 or 2 (docs/store.md). */
int yoc__seg_version(const yoc_seg *g);
/* The format a writer writes (2; 1 only for tests of the upgrade). */
void yoc__segw_set_version(struct yoc_segw *w, int version);

/*
** segzstd.c: a block stored as one zstd frame. inflate replaces *p, *n by
** the decoded block (raw bytes, checked against the frame), in a buffer
** given to *owned; returns NULL, or why not ("out of memory" or damage).
** deflate writes the frame of p[0..n) at level into out (reset first).
** *dctx, *cctx: the caller's context, NULL before the first call (created
** then), kept for the next blocks and freed with yoc__seg_zctx_free; one
** thread at a time.
*/
int yoc__seg_frame_ok(const unsigned char *p, uint64_t n, uint64_t raw);
const char *yoc__seg_inflate(void **dctx, const unsigned char **p, uint64_t *n, uint64_t raw,
			     void **owned);
int yoc__seg_deflate(void **cctx, const void *p, size_t n, int level, struct yoc_buf *out);
void yoc__seg_zctx_free(void *cctx, void *dctx);

/*
** pool.c: the dataset's pseudonym pool, DIR/pseudonyms.pool (docs/store.md).
** One per dataset directory in the process, shared by its readers and its
** writer, never freed; every call is safe on any thread.
** get: the pool of dataset DIR (NULL: no such directory, or out of memory);
**   writer: called by a writer once it holds the dataset's lock.
** have: 1 when entries 0..need-1 can be read (read from the file if need
**   be); entry then gives entry i's YOC_POOL_ENTRY bytes, without a lock.
** intern: the index of each of n keys (YOC_POOL_ENTRY bytes each), added
**   when new; the caller holds the dataset's lock. flush: makes the entries
**   added durable; before a commit names a segment that uses them.
*/
#define YOC_POOL_ENTRY 32
struct yoc__pool;
struct yoc__pool *yoc__pool_get(const char *dir);
/* A writer of the pool's dataset has taken its lock: the pool agrees with the file. */
int yoc__pool_writer(struct yoc__pool *p);
int yoc__pool_have(struct yoc__pool *p, uint32_t need);
const unsigned char *yoc__pool_entry(const struct yoc__pool *p, uint32_t i);
int yoc__pool_intern(struct yoc__pool *p, const unsigned char *keys, size_t n, uint32_t *idx);
int yoc__pool_flush(struct yoc__pool *p, struct yoc_error *e);
/* Entries the pool holds in memory or in its file, whichever is more. */
uint32_t yoc__pool_size(struct yoc__pool *p);

#endif

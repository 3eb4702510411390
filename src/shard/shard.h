/*
** Sharded datasets across processes (MPI): the only module that calls MPI.
** A dataset split into K shards is K ordinary datasets; a person's rows all
** live in shard yoc_shard_of(pseudonym) (docs/mpi.md). Under `mpirun -n K`
** rank r owns shard r.
**
**   shard.c        the communicator: start, rank, size, exchange, reduce,
**                  gather (MPI_Init only when a verb is given --shards)
**   shard_route.c  a sharded load's routing: one file read by one rank,
**                  split into the K shards' parts, each part rebuilt as a
**                  file of the same lines (rows of other shards blank)
**   shard_merge.c  the tables a report reads, gathered from every shard
**                  into one catalog: person-level tables appended, count
**                  and pence tables summed
**   shard_split.c  resharding from the datasets: each file's rows and
**                  catalog rows split by person into k2 new shards
** Nothing here prints or exits; errors go into struct yoc_error.
*/
#ifndef YOC_SHARD_H
#define YOC_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "ident/ident.h"
#include "store/store.h"
#include "yoc/core.h"

/*
** The shard of a person: FNV-1a 64 of the pseudonym's bytes (as in the
** feed, unquoted) modulo k. Fixed and documented, so a dataset sharded
** today is sharded the same way by any later version.
*/
uint64_t yoc_shard_hash(const char *p, size_t n);
int yoc_shard_of(const char *p, size_t n, int k);

/* MPI_Init (threads: funneled); 0, or YOC_EIO with e set. */
int yoc_shard_start(int *argc, char ***argv, struct yoc_error *e);
/* MPI_Finalize, when started. */
void yoc_shard_stop(void);
/* Ends every rank at once (MPI_Abort): a rank that cannot go on. */
void yoc_shard_abort(int code);
int yoc_shard_rank(void);
int yoc_shard_size(void);
void yoc_shard_barrier(void);
/* In-place sum over all ranks of n int64 values (MPI_Allreduce). */
int yoc_shard_sum(int64_t *v, size_t n, struct yoc_error *e);
/* In-place minimum over all ranks. */
int yoc_shard_min(int64_t *v, size_t n, struct yoc_error *e);
/* Broadcast of n bytes from root. */
int yoc_shard_bcast(void *p, size_t n, int root, struct yoc_error *e);
/*
** All-to-all of byte buffers: send[d] goes to rank d; recv[s] (reset
** first) receives what rank s sent here. Counts are exchanged first; each
** buffer must stay under 2 GiB (callers batch). Bytes sent to other ranks
** are added to *sent (may be NULL).
*/
int yoc_shard_exchange(struct yoc_buf *send, struct yoc_buf *recv, uint64_t *sent,
		       struct yoc_error *e);
/*
** Gather of one buffer per rank at root: recv[s] (root only; reset first)
** gets rank s's n bytes, sent in pieces of at most 1 GiB.
*/
int yoc_shard_gather(const void *p, size_t n, struct yoc_buf *recv, int root,
		     struct yoc_error *e);

/*
** A sharded load's routing (shard_route.c). yoc_shard_split reads nothing:
** data (n bytes) is the file at path, read by the caller. It parses the
** file as yoc load does (the identifier policy allow/strict, kind or -1)
** and appends to part[d], for every shard d < k, one message: the file
** index, its content hash, and the shard's rows (the header, then each
** row's lines with its line number). A row goes to the shard of its person
** column; a row without one (empty, malformed) to shard self, the reader's.
** A file whose header, name or kind is not recognised goes whole to every
** shard (each rejects it alike); one whose values hold identifiers (the
** identifier scan of the whole file) is sent as refused, with why.
** Returns 0, or YOC_ENOMEM (e set).
*/
struct yoc_shard_split_stats {
	uint64_t rows;       /* data rows parsed */
	uint64_t routed;     /* of them sent to another shard */
};
int yoc_shard_split(const char *path, const char *data, size_t n, uint32_t index,
		    int kind, const yoc_allow *allow, int strict, int k, int self,
		    struct yoc_buf *part, struct yoc_shard_split_stats *st, struct yoc_error *e);

/* A file refused where it was read (it cannot be read: why), for every shard. */
int yoc_shard_refused(struct yoc_buf *part, int k, uint32_t index, const char *why,
		      uint64_t rows);

/*
** One message of yoc_shard_split, rebuilt: what the shard loads. file
** holds bytes to load (whole, or the header and this shard's rows on the
** lines they had, other lines empty: so every line number, quarantine row
** and flag is the file's own). Views into msg/file: valid while they are.
*/
struct yoc_shard_part {
	uint32_t index;
	int whole;           /* the file's bytes as they are: load them plainly */
	int refused;         /* identifiers in its values: why, rows */
	char hash[40];       /* content identity of the whole file */
	uint64_t bytes;      /* and its size */
	const char *why;
	uint64_t rows;
};
/*
** Reads the message at *pos of msg (n bytes), advancing *pos; appends the
** file's bytes to file (reset first). Returns 0, or YOC_EDATA for a broken
** message, YOC_ENOMEM.
*/
int yoc_shard_join(const char *msg, size_t n, size_t *pos, struct yoc_shard_part *part,
		   struct yoc_buf *file, struct yoc_error *e);

/*
** The tables a report reads (shard_merge.c). yoc_shard_pack copies them
** from the catalog dbpath into an SQLite image (*out: free with sqlite3_free). At
** root, yoc_shard_merge builds the catalog outpath (replaced) from the
** images of every shard, in rank order: the report's tables, counts and
** pence summed by their keys; the per-person tables (person_year, person)
** and those the report never reads (quarantine, flags, file_stats, ...) as
** their schema alone, without rows (docs/mpi.md lists each table). Returns
** 0 or a negative status (e set).
*/
int yoc_shard_pack(const char *dbpath, void **out, size_t *n, struct yoc_error *e);
/* The same for rank: ranks after the first leave out the tables the merge
 * takes from the first shard alone (meta, file_columns, ...). */
int yoc_shard_pack_rank(const char *dbpath, int rank, void **out, size_t *n,
			struct yoc_error *e);
int yoc_shard_merge(const char *outpath, const struct yoc_buf *images, int k,
		    struct yoc_error *e);
/* The same merge into an image (*out: free with sqlite3_free) that can be
 * merged again: the merge is associative, so ranks can merge in a tree. */
int yoc_shard_merge_image(const struct yoc_buf *images, int k, void **out, size_t *n,
			  struct yoc_error *e);

/*
** Which shard a dataset is: "r/K" in its meta table, written in the load's
** transaction (yoc_shard_mark). yoc_shard_check refuses a dataset marked as
** another shard, or one with files and no mark when k > 1 (a single
** dataset: split it with yoc reshard); a missing dataset is fine.
*/
int yoc_shard_mark(yoc_store *s, int r, int k, struct yoc_error *e);
int yoc_shard_check(const char *dir, int r, int k, struct yoc_error *e);

/*
** Resharding from the datasets, without the feeds (shard_split.c): src
** are shards 0..k-1 of one dataset (or the dataset, k = 1), open read-only;
** dst the k2 targets, open with YOC_STORE_WRITE. Target t gets the rows
** of the persons of shard t of k2 (a row without a person: shard file_id
** mod k2) with their catalog rows; only targets with pending[t] set are
** written, each of them holding no file, each in one transaction
** committed at the end (a failure rolls every uncommitted one back).
** progress (may be NULL) is called after each file with the rows done of
** the total. Returns 0 or a negative status (e set).
*/
struct yoc_shard_reshard {
	uint64_t files, loaded, quarantined, flags; /* of the sources */
	uint64_t unread;         /* quarantined rows whose person cell could not be found */
	uint64_t unmatched;      /* flags of no loaded row */
	uint64_t flagged_differ; /* files whose flagged rows do not add up to the catalog's */
	uint64_t unwritten;      /* int values counted in decimal: not in the sources' counts */
	int committed;           /* targets committed */
};
int yoc_shard_reshard(yoc_store *const *src, int k, yoc_store *const *dst, int k2,
		      const int *pending, void (*progress)(void *ctx, uint64_t done, uint64_t total),
		      void *ctx, struct yoc_shard_reshard *st, struct yoc_error *e);

#endif

/*
** Internals shared by load.c and load_account.c (the source accounts of the
** files being loaded). Not for use outside src/load/.
*/
#ifndef YOC_LOAD_INT_H
#define YOC_LOAD_INT_H

#include "account/account.h"
#include "load/load.h"

/* The accounts read so far in one load, by path (missing ones too). */
struct yoc__acct_cache;
void yoc__acct_cache_free(struct yoc__acct_cache *c);

/* The accounts that may describe one file, nearest first. */
#define YOC__ACCT_MAX 64
struct yoc__acct_lookup {
	size_t n;
	struct {
		const struct yoc_account *a;
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

#endif

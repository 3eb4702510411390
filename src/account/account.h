/*
** The source account: what `yoc pseudonymise` did to every feed file, kept
** beside its output so that rows which never reach a dataset (rejected at
** source as malformed CSV, removed as opted out) are still accounted for
** downstream. `yoc pseudonymise` writes it; `yoc load` reads it, matches each
** file it loads to its entry (by SHA-256 of the bytes) and records it; `yoc
** quality` reports, per file, rows in the provider's extract = loaded +
** quarantined + rejected at source + opted out. docs/pseudonymisation.md
** ("The source account") describes the file.
**
** account.c      the JSON file: build, write (atomically), read, look up
** account_sha.c  SHA-256 on a helper thread, fed while the caller works on
**
** The account holds counts, line numbers and fault reasons, the output's
** relative path, size and SHA-256, the yoc version, the time and the key id:
** never a key, an identifier or any value of any row. Nothing here prints or
** exits; failures go into a struct yoc_error.
*/
#ifndef YOC_ACCOUNT_H
#define YOC_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "yoc/core.h"
#include "yoc/csv.h"

#define YOC_ACCOUNT_FORMAT "yoc-source-account-1"
/* The account of an output tree: OUT/yoc-account.json. */
#define YOC_ACCOUNT_NAME "yoc-account.json"
/* The account of a single output file OUT: OUT.account.json. */
#define YOC_ACCOUNT_SUFFIX ".account.json"
/* Rejected rows listed by line per file (all are counted). */
#define YOC_ACCOUNT_MAX_LISTED 1000
/* Reasons: enum yoc_csv_fault; index 0 (YOC_CSV_OK) counts reasons this
** version does not know, read from a newer account. */
#define YOC_ACCOUNT_NREASONS (YOC_CSV_ROW_TOO_LONG + 1)

struct yoc_account_reject {
	long line;   /* 1-based line of the source file where the row starts */
	int reason;  /* enum yoc_csv_fault */
};

/* One output file. Strings are owned by the account. */
struct yoc_account_file {
	char *path;             /* relative to the account's folder, '/'-separated */
	uint64_t bytes;         /* size of the output file */
	char sha256[65];        /* of the output file, lowercase hex */
	char kind[24];          /* feed kind as recognised ("apc"), or "" */
	uint64_t rows_read;     /* data rows of the source file, malformed ones included */
	uint64_t rows_written;  /* = valid + missing + malformed + bad_check_digit */
	uint64_t valid, missing, malformed, bad_check_digit;
	uint64_t opted_out;
	uint64_t rejected;      /* = the sum of rejected_by */
	uint64_t rejected_by[YOC_ACCOUNT_NREASONS];
	uint64_t dob_unparsed;
	size_t nlisted;         /* at most YOC_ACCOUNT_MAX_LISTED, the first rejected rows */
	struct yoc_account_reject *listed;
};
/* rows_read == rows_written + opted_out + rejected holds for every file read. */

struct yoc_account {
	char generator[64];     /* "yoc 0.1.0" */
	char written[32];       /* UTC, ISO 8601 */
	char key_id[17];        /* yoc_key_id of the key used, or "" */
	size_t n, cap;
	struct yoc_account_file *files;
};

/* An empty account (caller owns the struct; free with yoc_account_free). */
void yoc_account_init(struct yoc_account *a);
void yoc_account_free(struct yoc_account *a);
/*
** Appends a copy of f (path and listed rows copied; f->listed may be NULL
** with nlisted 0). Returns 0 or YOC_ENOMEM.
*/
int yoc_account_add(struct yoc_account *a, const struct yoc_account_file *f);
/* Adds one rejected row to f's list if there is room (the caller counts). */
int yoc_account_list_reject(struct yoc_account_file *f, long line, int reason);

/* Writes the account as JSON to path atomically (yoc_afile). */
int yoc_account_write(const struct yoc_account *a, const char *path, struct yoc_error *e);
/*
** Reads an account (a regular file of at most 256 MiB). YOC_EPARSE (with the
** line in e) for JSON that is not an account of this format, or an entry
** whose counts do not balance; a is then empty. Unknown keys are skipped.
*/
int yoc_account_read(struct yoc_account *a, const char *path, struct yoc_error *e);
int yoc_account_parse(struct yoc_account *a, const char *text, size_t n, const char *name,
		      struct yoc_error *e);

/*
** The entry for a file: the one whose SHA-256 is sha256 (among several, the
** one whose path is rel), else NULL; *by_path is then the entry with path rel
** (whose content differs), or NULL. rel may be NULL.
*/
const struct yoc_account_file *yoc_account_match(const struct yoc_account *a, const char *rel,
						 const char *sha256,
						 const struct yoc_account_file **by_path);

/* "stray_quote=3;truncated=1": the non-zero reasons of f, in enum order. */
void yoc_account_reasons_text(const struct yoc_account_file *f, char *buf, size_t cap);
/* Name of a reason index: yoc_csv_fault_str, "other" for 0. */
const char *yoc_account_reason_name(int reason);

/* ---- SHA-256 on a helper thread ------------------------------------------ */

/*
** Hashes a stream of chunks on a helper thread while the caller goes on:
** yoc_sha256_bg_feed hands over a chunk, after waiting for the one before it
** to be hashed, and returns at once; the chunk must stay unchanged until the
** next feed or finish call. feed_sync hashes on the caller's thread (for a
** chunk that will not outlive the call). finish waits, writes the digest as
** 64 lowercase hex characters and a NUL, and frees. If no thread can be
** started, everything is hashed on the caller's thread: never wrong.
** create returns NULL only when out of memory; finish/abort accept NULL.
*/
struct yoc_sha256_bg;
struct yoc_sha256_bg *yoc_sha256_bg_create(void);
void yoc_sha256_bg_feed(struct yoc_sha256_bg *h, const void *p, size_t n);
void yoc_sha256_bg_feed_sync(struct yoc_sha256_bg *h, const void *p, size_t n);
void yoc_sha256_bg_finish(struct yoc_sha256_bg *h, char hex[65]);
void yoc_sha256_bg_abort(struct yoc_sha256_bg *h);

/* SHA-256 of a buffer, hex (on this thread). */
void yoc_sha256_hex(const void *p, size_t n, char hex[65]);

#endif

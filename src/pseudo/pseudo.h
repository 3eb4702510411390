/*
** Pseudonymisation at source, opt-outs and audited re-identification.
**
** The key holder's secret is a 32-byte key kept in a file of mode 0600. A
** person's pseudonym is the lowercase hex HMAC-SHA256 of their 10-digit ASCII
** NHS number under that key, exactly, so anyone holding the key can
** reproduce it with a standard tool (openssl dgst -sha256 -mac HMAC).
**
** pseudo.c    key generation and loading, HMAC, the per-number pseudonym
**             cache, sets of NHS numbers (opt-out lists, registers)
** rewrite.c   the column policy and the row transform of a feed file
** reident.c   adding NEWNHSNO back for the people on a register
** audit.c     the append-only, hash-chained re-identification log
**
** Nothing here prints or exits; faults go into a struct yoc_error and are
** returned as a negative enum yoc_status. Nothing here ever writes a raw NHS
** number, date of birth or dropped column into a pseudonymised output. Key
** bytes are wiped from memory (sodium_memzero) when they are no longer needed.
*/
#ifndef YOC_PSEUDO_H
#define YOC_PSEUDO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "yoc/core.h"
#include "yoc/csv.h"

#define YOC_KEY_BYTES 32
#define YOC_PSEUDO_HEXLEN 64    /* hex characters in a pseudonym */

/* ---- keys -------------------------------------------------------------- */

/* Caller owns; wipe with yoc_key_wipe. */
struct yoc_key {
	unsigned char k[YOC_KEY_BYTES];
};

/*
** Writes 32 bytes from the operating system's CSPRNG to path as 64 lowercase
** hex characters and a newline, mode 0600. Never replaces an existing file
** (YOC_EEXIST); the file appears whole or not at all.
*/
int yoc_key_generate(const char *path, struct yoc_error *e);

/*
** Loads a key file. Refused, with nothing loaded:
**   YOC_EPERM   the file is readable or writable by group or others
**   YOC_EPARSE  not exactly 64 hex characters (one trailing newline allowed)
**   YOC_EIO     cannot open or read; YOC_EINVAL not a regular file
*/
int yoc_key_load(struct yoc_key *key, const char *path, struct yoc_error *e);
/* Parses key text (the file's content); name is used in messages. */
int yoc_key_parse(struct yoc_key *key, const char *text, size_t n,
		  const char *name, struct yoc_error *e);
void yoc_key_wipe(struct yoc_key *key);
/*
** A short public identifier of a key for logs: the first 16 hex characters of
** SHA-256("yoc-key-id:" || key). Reveals nothing usable about the key.
*/
void yoc_key_id(const struct yoc_key *key, char out[17]);

/*
** yoc_nhsno_check (include/yoc/nhsno.h) with a fast path for the common
** plain ten-digit cell; the result is always the same as yoc_nhsno_check's.
*/
int yoc_pseudo_nhsno(const char *s, size_t n, char *out);

/* HMAC-SHA256 (RFC 2104) with a key of any length; 0 or YOC_EINTERNAL. */
int yoc_hmac_sha256(const void *key, size_t klen, const void *msg, size_t n,
		    unsigned char out[32]);

/* SHA-256 of a whole file as 64 lowercase hex characters and a NUL. */
int yoc_sha256_file(const char *path, char out[65], struct yoc_error *e);

/* ---- pseudonyms --------------------------------------------------------- */

/*
** A pseudonymiser: the key's HMAC state and a cache of pseudonyms by NHS
** number: at most max_cached distinct numbers (0 = the default, 2 million,
** a table of at most 256 MB); past the cap pseudonyms are computed each
** time, which is slower, never wrong.
** Keeps its own copy of the key state; the caller may wipe key afterwards.
*/
typedef struct yoc_pseudo yoc_pseudo;
int yoc_pseudo_create(yoc_pseudo **out, const struct yoc_key *key, size_t max_cached);
void yoc_pseudo_free(yoc_pseudo *p);
/*
** Writes the pseudonym of the ten ASCII digits at ten into out: exactly 64
** lowercase hex characters, no NUL. Never fails (a full cache or OOM only
** skips caching).
*/
void yoc_pseudo_hex(yoc_pseudo *p, const char *ten, char *out);
/* A hint: the pseudonym of ten will be asked for soon (starts memory loads). */
void yoc_pseudo_prefetch(const yoc_pseudo *p, const char *ten);
/* The 32 raw bytes of the pseudonym (uncached). */
void yoc_pseudo_raw(const yoc_pseudo *p, const char *ten, unsigned char out[32]);
/* Distinct numbers cached so far. */
size_t yoc_pseudo_cached(const yoc_pseudo *p);

/* ---- sets of NHS numbers ------------------------------------------------ */

/*
** A set of NHS numbers read from a CSV list (an opt-out list or a practice
** register). The list has a column nhs_number or NEWNHSNO (any case); a file
** of one column without such a header is read as a bare list of numbers.
** Entries are normalised (spaces and dashes removed). Entries of ten digits
** are kept, valid or not (an opt-out with a mistyped number still matches the
** same mistyped number at source); the rest are counted and ignored.
** Any malformed CSV row refuses the whole list (YOC_EPARSE, line and column
** in e): a list that is only partly read would let people through.
*/
typedef struct yoc_nhsset yoc_nhsset;
struct yoc_nhsset_stats {
	uint64_t rows;             /* data rows read */
	uint64_t valid;            /* kept, passing Modulus 11 */
	uint64_t bad_check_digit;  /* kept, ten digits failing the check */
	uint64_t malformed;        /* ignored */
	uint64_t missing;          /* ignored (empty) */
	uint64_t duplicates;       /* rows repeating a number already in the set */
};
int yoc_nhsset_load(yoc_nhsset **out, const char *path,
		    struct yoc_nhsset_stats *st, struct yoc_error *e);
/* An empty set, to fill with yoc_nhsset_add. */
int yoc_nhsset_create(yoc_nhsset **out);
/* Adds ten ASCII digits; 0, or YOC_ENOMEM / YOC_ETOOBIG (over 100 million). */
int yoc_nhsset_add(yoc_nhsset *s, const char *ten, int *isnew);
void yoc_nhsset_free(yoc_nhsset *s);
/* 1 if the ten ASCII digits are in the set. */
int yoc_nhsset_has(const yoc_nhsset *s, const char *ten);
size_t yoc_nhsset_count(const yoc_nhsset *s);
/* The i-th number (insertion order) as ten digits and a NUL into out. */
void yoc_nhsset_get(const yoc_nhsset *s, size_t i, char out[11]);

/* ---- the column policy and the pseudonymising rewrite ------------------- */

struct yoc_pseudo_stats {
	uint64_t rows_in;          /* data rows read, including malformed ones */
	uint64_t rows_out;         /* = valid + missing + malformed + bad_check_digit */
	uint64_t valid;
	uint64_t missing;
	uint64_t malformed;
	uint64_t bad_check_digit;
	uint64_t opted_out;        /* removed: on the opt-out list */
	uint64_t rejected;         /* malformed CSV rows, not written, each reported */
	uint64_t rejected_by[YOC_CSV_ROW_TOO_LONG + 1]; /* rejected by enum yoc_csv_fault (a
				    * row whose cells do not match the header: ragged_row) */
	uint64_t dob_unparsed;     /* DOB present but not a date: MYDOB left empty */
	uint64_t bytes_out;        /* bytes of the output file */
	char sha256[65];           /* of the output file, hex, when o->sha256; else "" */
	size_t cols_in, cols_out, cols_dropped;
	size_t cols_identifier;    /* dropped: a direct identifier by name */
	size_t cols_unknown;       /* dropped: not in the spec nor on the allow-list */
	int kind;                  /* enum yoc_kind, as recognised */
	char dropped[1024];        /* "NAME (why), ..." for the account; cut short with "..." */
};
/* rows_in == rows_out + opted_out + rejected always holds. */

/*
** Called for each rejected (malformed) CSV row; e holds file:line:col, fault
** the kind (enum yoc_csv_fault; YOC_CSV_RAGGED_ROW for a row whose number of
** cells differs from the header's).
*/
typedef void (*yoc_reject_fn)(void *ctx, const struct yoc_error *e, int fault);

struct yoc_allow;

struct yoc_pseudo_opts {
	const yoc_nhsset *optout;  /* may be NULL */
	yoc_reject_fn on_reject;   /* may be NULL */
	void *ctx;
	int strict;                /* 1: a malformed row fails the file (YOC_EPARSE),
				    * and so does a column that would be dropped (YOC_EPERM) */
	int kind;                  /* enum yoc_kind, when kind_set */
	int kind_set;              /* 1: kind is given */
	const struct yoc_allow *allow; /* the key holder's allow-list; may be NULL */
	int sha256;                /* 1: fill st->sha256 with the output's SHA-256 (hashed
				    * on a helper thread while the file is written) */
};

/* Internal: 1 if a header cell, trimmed of blanks, is want (any case). */
int yoc__pseudo_name_is(const struct yoc_cell *c, const char *want);

/*
** Internal to the module (rewrite.c, reident.c): reads the next row of a
** file being rewritten under the rejection policy of o. Returns 1 with a
** well-formed row of ncols cells, 0 at the end, 2 for a malformed row that
** was rejected (counted in *rejected and passed to o->on_reject; its kind
** is in row->fault, YOC_CSV_RAGGED_ROW for a wrong number of cells), or a
** negative status with e filled: an I/O error, or a malformed row when
** o->strict. Every row read is counted in *rows_in.
*/
int yoc__pseudo_next_row(yoc_csv *r, const char *in, size_t ncols,
			 const struct yoc_pseudo_opts *o, struct yoc_csv_row *row,
			 uint64_t *rows_in, uint64_t *rejected, struct yoc_error *e);

/*
** Checks that the file's header can be pseudonymised under the identifier
** policy (readable CSV, a recognised kind, an NHS number column, no
** refused header) without writing anything. o may be NULL.
*/
int yoc_pseudo_check_file(const char *in, const struct yoc_pseudo_opts *o,
			  struct yoc_error *e);

/*
** Pseudonymises one feed file into out, atomically (out.tmp.PID, then
** rename): on any failure out is left as it was and nothing is renamed.
** The output delimiter is the input's. st is filled (zeroed first).
** Refused with YOC_EPERM (e names the column and the first line) when a
** kept column holds values that look like identifiers (src/ident).
*/
int yoc_pseudo_file(yoc_pseudo *ps, const char *in, const char *out,
		    const struct yoc_pseudo_opts *o, struct yoc_pseudo_stats *st,
		    struct yoc_error *e);

/* ---- re-identification -------------------------------------------------- */

/*
** The re-identifier: the pseudonyms of every valid number on a register,
** computed with the key. Keeps its own copies; reg and key may be freed after.
*/
typedef struct yoc_reident yoc_reident;
int yoc_reident_create(yoc_reident **out, const struct yoc_key *key,
		       const yoc_nhsset *reg, struct yoc_error *e);
void yoc_reident_free(yoc_reident *r);

struct yoc_reident_stats {
	uint64_t rows_in;          /* data rows read */
	uint64_t rows_out;         /* rows written */
	uint64_t reidentified;     /* rows given their NEWNHSNO back */
	uint64_t persons;          /* distinct people re-identified */
	uint64_t rejected;         /* malformed CSV rows, not written */
};

/*
** Reads a pseudonymised file (with a PSEUDO_ID column and no NEWNHSNO) and
** writes it to f with a NEWNHSNO column inserted just before PSEUDO_ID,
** filled only for rows whose pseudonym is on the register. Writes to f only;
** the caller owns f and decides whether to keep the result.
*/
int yoc_reident_write(yoc_reident *r, const char *in, FILE *f,
		      const struct yoc_pseudo_opts *o, struct yoc_reident_stats *st,
		      struct yoc_error *e);

/* ---- the audit log ------------------------------------------------------ */

/*
** One JSON object per line, fields in a fixed order, each line ending with
** "prev" (the previous record's hash, 64 zeros for the first) and "hash",
** the SHA-256 of the line's bytes before ',"hash":'. See
** docs/pseudonymisation.md. Strings are caller-owned and only read.
*/
struct yoc_audit_rec {
	const char *user;
	const char *purpose;
	const char *input;
	const char *output;
	char input_sha256[65];
	char register_sha256[65];
	char key_id[17];
	uint64_t rows_total;
	uint64_t rows_reidentified;
	uint64_t persons;
};

#define YOC_AUDIT_MAX_USER 256
#define YOC_AUDIT_MAX_PURPOSE 2048

/*
** Appends one record under an exclusive lock (flock), after verifying the
** existing chain: a broken log is never extended (YOC_EDATA). Creates the
** log (mode 0600) if absent. O_APPEND, one write, fsync. On success the new
** record's hash is in hash_out (may be NULL).
*/
int yoc_audit_append(const char *log, const struct yoc_audit_rec *r,
		     char hash_out[65], struct yoc_error *e);

struct yoc_audit_result {
	uint64_t records;
	char head[65];     /* hash of the last record (64 zeros if none) */
};
/*
** Verifies every record: well formed, seq counting from 1, prev equal to the
** previous record's hash, hash equal to the SHA-256 of the record. Returns 0,
** or YOC_EDATA with e->line the first broken line; YOC_EIO if unreadable.
** An edit, deletion, insertion or reordering of records is detected; removing
** records from the end is detected only against a head recorded elsewhere.
*/
int yoc_audit_verify(const char *log, struct yoc_audit_result *res,
		     struct yoc_error *e);

#endif

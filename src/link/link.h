/*
** yoc link: probabilistic record linkage at source (Fellegi-Sunter), run by
** the key holder before pseudonymisation. Rows whose NHS number is missing
** or invalid are matched to the GP register from name, date of birth, sex
** and postcode; a link above the upper threshold fills in the NHS number,
** a pair between the thresholds goes to a clerical review file. The output
** is still identifiable source data: it goes to `yoc pseudonymise`, which
** drops every identifier column. docs/linkage.md describes the method.
**
** Files by job:
**   link_compare.c  string, date and postcode comparisons; comparison vectors
**   link_block.c    the register, its blocking indexes and term frequencies
**   link_em.c       m and u probabilities by EM, u from random pairs, weights
**   link_run.c      yoc_link_run: read feeds, score, decide, write, the ledger
**   link_review.c   the clerical review file and the decisions read back
**   link_pprl.c     linkage between organisations on encodings (yoc pprl):
**                   field-level filters and keyed blocking tokens, the
**                   encoding file, candidate pairs, similarity, assignment
**
** Nothing here prints or exits.
*/
#ifndef YOC_LINK_H
#define YOC_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "yoc/core.h"

/* ---- comparisons (link_compare.c) --------------------------------------- */

/* Jaro similarity of two byte strings, in [0, 1]; two empty strings give 1. */
double yoc_jaro(const char *a, size_t an, const char *b, size_t bn);
/*
** Jaro-Winkler: Jaro plus 0.1 x (common prefix, at most 4) x (1 - Jaro),
** as Winkler (1990) defines it, without his later adjustments for
** similar characters and long strings.
*/
double yoc_jaro_winkler(const char *a, size_t an, const char *b, size_t bn);

#define YOC_PHON_MAX 8
/*
** A sound-alike key of a name: letters only (upper-cased), the consonant
** sounds coded into classes (b/p, f/v/ph, hard c/k/q/g, s/z/soft c, d/t,
** l, m/n, r, j/soft g, ch/sh, th), silent initial letters dropped (KN, GN,
** PN, WR, PS, WH), runs of one class written once, at most YOC_PHON_MAX - 1
** codes. out holds YOC_PHON_MAX bytes, NUL-terminated; returns the length.
** SMITH = SMYTH, CATHERINE = KATHRYN, STEPHEN = STEVEN, PHILIP = FILIP.
*/
size_t yoc_phonetic(const char *s, size_t n, char *out);

/* 1 if a and b (upper-case given names) are a known nickname pair. */
int yoc_nickname_pair(const char *a, size_t an, const char *b, size_t bn);

/*
** Normalises a name or postcode: ASCII letters upper-cased, digits kept
** (postcodes), everything else dropped. Writes at most cap - 1 bytes and a
** NUL; returns the length written.
*/
size_t yoc_link_norm(const char *s, size_t n, char *out, size_t cap, int digits);

/* Comparison levels. YOC_LV_MISSING when either side is missing. */
#define YOC_LV_MISSING 255
/* Names: 0 differ, 1 sound alike or JW >= 0.80, 2 JW >= 0.92 or nickname, 3 exact. */
int yoc_link_cmp_name(const char *a, size_t an, const char *pa, const char *b, size_t bn,
		      const char *pb, int given);
/* Dates (days): 0 differ, 1 two of year/month/day agree, 2 day and month
   transposed, 3 exact. YOC_LINK_NODATE is missing. */
#define YOC_LINK_NODATE INT32_MIN
int yoc_link_cmp_date(int32_t a, int32_t b);
/* Normalised postcodes (no spaces): 0 differ, 1 district, 2 sector, 3 exact. */
int yoc_link_cmp_postcode(const char *a, size_t an, const char *b, size_t bn);
/* Sex 1/2 (else missing): 0 differ, 1 agree. */
int yoc_link_cmp_sex(int a, int b);

/* The fields compared, and their number of levels (missing aside). */
enum { YOC_LF_GIVEN = 0, YOC_LF_FAMILY, YOC_LF_DOB, YOC_LF_SEX, YOC_LF_POSTCODE, YOC_LF_COUNT };
extern const int yoc_link_nlevels[YOC_LF_COUNT];
extern const char *const yoc_link_field_names[YOC_LF_COUNT];
#define YOC_LINK_MAXLV 4

/* A person's identifiers as one side of a comparison. Strings normalised. */
struct yoc_link_rec {
	char given[24], family[32];
	char pgiven[YOC_PHON_MAX], pfamily[YOC_PHON_MAX];
	char postcode[8];
	uint8_t lgiven, lfamily, lpostcode;
	uint8_t sex;          /* 1, 2, or 0 missing */
	int32_t dob;          /* days; YOC_LINK_NODATE missing */
	uint16_t y;           /* dob as year, month, day (0 when missing) */
	uint8_t m, d;
};

/* Fills r from raw cells (any may be empty). */
void yoc_link_rec_make(struct yoc_link_rec *r, const char *given, size_t gn,
		       const char *family, size_t fn, int32_t dob, int sex,
		       const char *postcode, size_t pn);
/* yoc_link_cmp_date on the dates of two records (from their y, m, d). */
int yoc_link_cmp_dob(const struct yoc_link_rec *a, const struct yoc_link_rec *b);
/* The comparison vector of two records: one level per field. */
void yoc_link_compare(const struct yoc_link_rec *a, const struct yoc_link_rec *b,
		      uint8_t lv[YOC_LF_COUNT]);

/* ---- the model (link_em.c) ---------------------------------------------- */

struct yoc_link_model {
	double m[YOC_LF_COUNT][YOC_LINK_MAXLV];
	double u[YOC_LF_COUNT][YOC_LINK_MAXLV];
	double lambda;        /* share of candidate pairs that match */
	int iterations;
	int converged;
};

/*
** Comparison patterns and their counts: a pattern packs one level per
** field (missing included), so EM works on at most 5^5 distinct patterns
** however many pairs there are.
*/
#define YOC_LINK_NPAT 3125
uint32_t yoc_link_pattern(const uint8_t lv[YOC_LF_COUNT]);
void yoc_link_unpattern(uint32_t pat, uint8_t lv[YOC_LF_COUNT]);

/*
** Fellegi-Sunter EM under conditional independence. counts[YOC_LINK_NPAT]
** are pair counts by pattern; md holds the starting values and receives
** the estimates. In weights, m is taken as at least 0.001. fix_u: keep md->u (estimated from random pairs) and
** estimate m and lambda only. Stops when no parameter moves by more than
** tol, or after max_iter. Returns 0, or YOC_EINVAL for no pairs.
*/
int yoc_link_em(const uint64_t *counts, struct yoc_link_model *md, int fix_u, int max_iter,
		double tol);
/* Default starting values (m high on agreement, u low). */
void yoc_link_model_init(struct yoc_link_model *md);

/*
** Match weight log2(m/u) of one field at one level (0 for missing); the
** total weight of a pair adds the prior log2(lambda / (1 - lambda)).
** tf_u > 0 replaces u at exact agreement (term-frequency adjustment).
*/
double yoc_link_field_weight(const struct yoc_link_model *md, int f, int lv, double tf_u);
double yoc_link_prior(const struct yoc_link_model *md);
/* Probability from a total weight: 2^w / (1 + 2^w). */
double yoc_link_prob(double w);

/* ---- linkage between organisations on encodings (link_pprl.c) ----------- */

/*
** Each organisation's key holder encodes its records under a key shared by
** the key holders only; the encodings (never the key, never a clear
** identifier) are brought together and matched. A record's encoding is
** five field-level Bloom filters (given name, family name, date of birth,
** sex, postcode) of YOC_PPRL_FBITS bits, and YOC_PPRL_NTOK keyed blocking
** tokens; an empty filter or token means the field was missing.
*/
#define YOC_PPRL_FIELDS 5
#define YOC_PPRL_FBITS 512
#define YOC_PPRL_FBYTES (YOC_PPRL_FBITS / 8)
#define YOC_PPRL_BYTES (YOC_PPRL_FIELDS * YOC_PPRL_FBYTES)
#define YOC_PPRL_K 12                /* bits set per bigram */
#define YOC_PPRL_NTOK 6
#define YOC_PPRL_TOKBYTES 16
#define YOC_PPRL_ID_MAX 64           /* bytes of a record id */
#define YOC_PPRL_ISSUES 20           /* row issues kept with their place */

/*
** Keys derived from the key holders' secret (HMAC-SHA256 with a label per
** use, so the Bloom filters, the tokens and the key's public fingerprint
** never share a key, and the secret used for pseudonyms is never used as
** such). Caller owns; wipe with yoc_pprl_keys_wipe.
*/
struct yoc_pprl_keys {
	unsigned char bloom[32], block[32];
	char id[17];                 /* fingerprint: 16 hex characters, in the file */
};
int yoc_pprl_keys_derive(struct yoc_pprl_keys *k, const unsigned char *secret, size_t n);
void yoc_pprl_keys_wipe(struct yoc_pprl_keys *k);

struct yoc_pprl_enc {
	unsigned char f[YOC_PPRL_BYTES];                  /* field filters, in order */
	unsigned char tok[YOC_PPRL_NTOK][YOC_PPRL_TOKBYTES];
	uint8_t has_tok;                                  /* bit i: token i present */
};
/* Encodes one record. Returns 0 or YOC_EINTERNAL (libsodium). */
int yoc_pprl_encode_rec(const struct yoc_link_rec *r, const struct yoc_pprl_keys *k,
			struct yoc_pprl_enc *out);

/*
** Similarity of two encodings in [0, 1]: the weighted mean of the fields'
** Dice coefficients, a field missing on either side counting 0.5. w holds
** the field weights (NULL: given 2, family 3, date of birth 3, sex 1,
** postcode 2). fields, if not NULL, receives the Dice of each field (-1
** when missing).
*/
double yoc_pprl_similarity(const unsigned char *a, const unsigned char *b, const double *w,
			   double *fields);

/* A row that could not be read whole: where, and why. */
struct yoc_pprl_issue {
	long line, col;
	char what[96];
};
struct yoc_pprl_issues {
	struct yoc_pprl_issue first[YOC_PPRL_ISSUES];
	uint64_t n;                  /* all of them; the first YOC_PPRL_ISSUES kept */
};

struct yoc_pprl_encode_stats {
	uint64_t rows, encoded;
	uint64_t not_encoded;        /* no id, or a malformed row: not in the output */
	uint64_t fields_dropped;     /* rows encoded without a field that was unreadable */
	struct yoc_pprl_issues issues;
};
/*
** Reads the CSV at in (columns found as yoc link finds them: date of birth,
** sex, given and family name, postcode; the record id from column idcol, or
** the data row number when idcol is NULL) and writes out atomically:
** header "id,encoding.KEYID,block_1,...,block_6", then per row the id, the
** base64 of the filters and the tokens in hex. A cell that cannot be read
** (a date of birth that is not a date, a sex other than 0, 1, 2, 9) is
** left out of the encoding and reported; a row without an id or malformed
** (ragged, bad quoting) is not encoded and reported. Nothing is printed.
*/
int yoc_pprl_encode_file(const char *in, const char *out, const char *idcol,
			 const struct yoc_pprl_keys *k, struct yoc_pprl_encode_stats *st,
			 struct yoc_error *e);

/* A set of encodings read back; yoc_pprl_set_free frees it (NULL is fine). */
struct yoc_pprl_set {
	size_t n;
	unsigned char (*f)[YOC_PPRL_BYTES];
	uint64_t (*tok)[YOC_PPRL_NTOK];   /* first 8 bytes of each token; 0 none */
	uint32_t *idoff;                  /* id i is ids + idoff[i], NUL-terminated */
	char *ids;
	size_t idlen, idcap;
	char key_id[17];
	struct yoc_pprl_issues issues;    /* rows refused */
};
/*
** Parses an encoding file (text of n bytes; name for messages). Rows that
** are malformed are counted in s->issues with their line and column and
** left out; a bad header is an error (YOC_EPARSE, e filled).
*/
int yoc_pprl_parse(const char *text, size_t n, const char *name, struct yoc_pprl_set *s,
		   struct yoc_error *e);
int yoc_pprl_load(const char *path, struct yoc_pprl_set *s, struct yoc_error *e);
void yoc_pprl_set_free(struct yoc_pprl_set *s);

struct yoc_pprl_match_opts {
	double threshold;    /* link at or above (0.75) */
	double review;       /* review band from here to the threshold (0.60) */
	double margin;       /* a link beats every other candidate by this (0.05) */
	int many_to_one;     /* 1: a record of a may link to many of b */
	int block_max;       /* a larger block is skipped (1000) */
	int frequencies;     /* 1: names common in a weigh less (default) */
};
void yoc_pprl_match_opts_init(struct yoc_pprl_match_opts *o);
struct yoc_pprl_match_stats {
	uint64_t pairs;            /* candidate pairs compared */
	uint64_t blocks_skipped;
	uint64_t links, review;
	double seconds;            /* candidate pairs and similarity */
};
/*
** Matches b against a and writes out atomically: "a_id,b_id,similarity,
** second,status" with status link or review; second is the best
** similarity of any other candidate (of either record, in one-to-one).
** Candidates share a blocking token. Pairs are taken best first (ties by
** b's id, then a's); a link needs similarity >= threshold, a margin over
** the second, and (one-to-one) neither record linked already. Every b
** record left unlinked whose best candidate still open (one-to-one: its a
** record not linked) is >= review has that pair in the review band. Names
** common in a weigh less when o->frequencies is set. YOC_EINVAL if the two
** sets' keys differ; nothing is written on any failure.
*/
int yoc_pprl_match(const struct yoc_pprl_set *a, const struct yoc_pprl_set *b,
		   const struct yoc_pprl_match_opts *o, const char *out,
		   struct yoc_pprl_match_stats *st, struct yoc_error *e);

/* ---- the review file (link_review.c) ------------------------------------ */

/*
** A clerical decision read back from a review file: the pair's id (as the
** review file wrote it) and the reviewer's answer.
*/
enum { YOC_REVIEW_UNDECIDED = 0, YOC_REVIEW_MATCH, YOC_REVIEW_NONMATCH };
struct yoc_review_decision {
	char pair[24];        /* "R000001" */
	char nhs[11];         /* the register NHS number of the pair */
	int decision;
	char reviewer[32];
};
/*
** Reads the decisions of a review file (CSV, as yoc link wrote it, with
** the DECISION column filled in: MATCH, NON-MATCH or empty). Rows that are
** malformed are counted in *bad with their line in e (the first), never
** applied. *out is yoc_malloc'd (caller frees).
*/
int yoc_review_parse(const char *text, size_t n, const char *name,
		     struct yoc_review_decision **out, size_t *nout, size_t *bad,
		     struct yoc_error *e);

/* ---- the run (link_run.c) ----------------------------------------------- */

struct yoc_link_opts {
	const char *register_path;  /* a register file, or a folder of them */
	const char *in_dir;         /* feed folder */
	const char *out_dir;        /* linked feeds, same layout */
	const char *review_path;    /* clerical review file written (may be NULL) */
	const char *decisions_path; /* a filled-in review file to apply (may be NULL) */
	double upper, lower;        /* match probability thresholds */
	int show_weights;           /* review file shows the model's weight */
	int u_from_em;              /* 1: u by EM too (default: u from random pairs) */
	int tf;                     /* term-frequency adjustment of names (default 1) */
	int progress;
	uint64_t seed;              /* random pairs for u */
	int threads;                /* comparison threads (default 2) */
	const char *previous_dir;   /* an earlier output whose ledger to continue (may be NULL) */
	const char *explain;        /* FILE:ROW to explain instead of writing (may be NULL) */
	void *explain_out;          /* FILE * for the explanation */
};
void yoc_link_opts_init(struct yoc_link_opts *o);

struct yoc_link_stats {
	uint64_t register_rows, register_people, files, rows, candidates_rows;
	uint64_t linked, review, unlinked, ambiguous;
	uint64_t pairs;           /* candidate pairs compared (date of birth, sex, postcode) */
	uint64_t pairs_full;      /* of which names compared too (not pruned) */
	uint64_t decided_match, decided_nonmatch, decisions_bad, decisions_stale;
	uint64_t dup_checked;     /* rows with a valid NHS number the register lacks */
	uint64_t duplicates;      /* of which the register knows the person by another number */
	uint64_t changes;
	struct yoc_link_model model;   /* as used for the weights */
	double em_u_lambda;            /* EM's share of matches among the candidates */
	double seconds, seconds_compare;
	double cpu_compare;           /* CPU seconds of the scoring pass (all threads) */
};

/*
** Links the feeds under in_dir against the register and writes out_dir
** whole (yoc_otree): every feed file again, the NHS number filled in on
** rows linked automatically or by a reviewer's MATCH, and two columns
** appended, LINK_STATUS (linked, clerical, review, unlinked; empty where
** the row's own NHS number is valid) and LINK_WEIGHT; out_dir/.link/ keeps
** the ledger (links.csv, changes.csv, audit.csv, duplicates.csv,
** model.json), hidden from pseudonymise's walk. The previous ledger (from
** o->previous_dir, or out_dir when it is an earlier output) keeps
** identities stable across refreshes: every row that changes person is
** logged in changes.csv. With o->explain set nothing is written: the
** candidates of that row (FILE:ROW, FILE relative to in_dir, ROW the data
** row number) are described on o->explain_out.
*/
int yoc_link_run(const struct yoc_link_opts *o, struct yoc_link_stats *st,
		 struct yoc_error *e);

#endif

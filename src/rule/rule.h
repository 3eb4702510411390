/*
** The rule language: one small boolean language over the fields of a
** person-year (person_year, and risk_score when it exists), used for case
** finding, ordered categories and filters. docs/rules.md has the grammar.
**
**     yoc_rule_schema *sc;  yoc_rule *r;  yoc_rule_frame *f;
**     struct yoc_rule_result res;
**     yoc_rule_schema_load(db, &sc, &e);                  // fields found in the tables
**     yoc_rule_compile("copd and age >= 65", sc, &r, &e); // e.col: 1-based character
**     yoc_rule_frame_load(db, "2023/24", &r, 1, &f, &e);  // only the columns used
**     yoc_rule_eval(r, f, &res, &e);
**     for (size_t i = 0; i < res.nrows; i++)
**         if (yoc_rule_bit(res.selected, i)) ... yoc_rule_frame_pseudo(f, i) ...
**     yoc_rule_result_free(&res); yoc_rule_frame_free(f); yoc_rule_free(r);
**     yoc_rule_schema_free(sc);
**
** Semantics are SQL's (SQLite's): NULL propagates through arithmetic and
** comparisons, and/or/not use three-valued logic, a row is selected iff the
** rule is TRUE. A person absent from a look-back year reads NULL there.
**
** This module reads tables by SQL only: it knows nothing of the modules that
** write person_year or risk_score, and it prints nothing.
*/
#ifndef YOC_RULE_H
#define YOC_RULE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "yoc/core.h"

#define YOC_RULE_MAX_TEXT 65536 /* bytes of rule text */
#define YOC_RULE_MAX_NODES 4096
#define YOC_RULE_MAX_DEPTH 200  /* nesting of parentheses and operators */
#define YOC_RULE_MAX_LAG 50     /* t-50 */

/* Field types: declared SQL types INTEGER, REAL and TEXT (anything else is REAL). */
enum yoc_rule_ftype { YOC_RULE_INT = 1, YOC_RULE_REAL = 2, YOC_RULE_TEXT = 3 };
/* Tables a field comes from. */
enum yoc_rule_table { YOC_RULE_PERSON_YEAR = 0, YOC_RULE_RISK_SCORE = 1 };

/* ---- schema: the known fields ---- */
typedef struct yoc_rule_schema yoc_rule_schema;
/* An empty schema, filled with yoc_rule_schema_add. */
int yoc_rule_schema_create(yoc_rule_schema **out, struct yoc_error *e);
/* Adds a field (name copied). A name already present is ignored (first wins). */
int yoc_rule_schema_add(yoc_rule_schema *s, const char *name, int ftype, int table,
			struct yoc_error *e);
/*
** Every column of person_year except pseudo_id (fyear included), then the
** columns of risk_score except pseudo_id and fyear when that table exists,
** read with PRAGMA table_info. YOC_ENOTFOUND when person_year is missing.
*/
int yoc_rule_schema_load(sqlite3 *db, yoc_rule_schema **out, struct yoc_error *e);
void yoc_rule_schema_free(yoc_rule_schema *s);
size_t yoc_rule_schema_count(const yoc_rule_schema *s);
/* Name, type and table of field i; valid until yoc_rule_schema_free. */
const char *yoc_rule_schema_name(const yoc_rule_schema *s, size_t i, int *ftype,
				 int *table);

/* ---- compiling ---- */
typedef struct yoc_rule yoc_rule;
/*
** Parses and type-checks text. schema NULL: syntax only (every name is a
** field of unknown type; such a rule can be explained but not evaluated).
** On error: YOC_EPARSE (syntax, types), YOC_ENOTFOUND (unknown field: the
** message lists the nearest known names first, then the others as far as
** the message holds them), YOC_ETOOBIG (caps above) or YOC_ENOMEM; e->col
** is the 1-based character position of the problem (e->line 1). The rule
** keeps no pointer into text or schema.
*/
int yoc_rule_compile(const char *text, const yoc_rule_schema *schema, yoc_rule **out,
		     struct yoc_error *e);
void yoc_rule_free(yoc_rule *r);
/* Appends the normalised rule, its clauses and the plan (one step a line). */
int yoc_rule_explain(const yoc_rule *r, struct yoc_buf *out);
/* Normalised text: keywords lower case, fields as in the schema, full parentheses. */
int yoc_rule_normalised(const yoc_rule *r, struct yoc_buf *out);
/*
** Clauses: the top-level parts whose truth is reported per person. A rule
** A or B or ... has the disjuncts, A and B and ... the conjuncts, anything
** else one clause (the whole rule). Text is the clause's source, valid until
** yoc_rule_free.
*/
size_t yoc_rule_nclauses(const yoc_rule *r);
const char *yoc_rule_clause_text(const yoc_rule *r, size_t i);
/* 1 when the clauses are the rule's disjuncts (a person meets at least one). */
int yoc_rule_clauses_are_or(const yoc_rule *r);

/* ---- frame: typed columns of one year ---- */
typedef struct yoc_rule_frame yoc_rule_frame;
/*
** Reads the person-years of fyear ("2023/24") from person_year, in
** pseudo_id order, and for each column some rule uses (at year t or a
** look-back t-k) a typed array with a null mask: person_year of year t-k and
** risk_score of t-k joined on pseudo_id (absent: NULL). Text columns share
** one sorted dictionary. Rules must be compiled with a schema. An fyear
** that is not a financial year: YOC_EINVAL.
*/
int yoc_rule_frame_load(sqlite3 *db, const char *fyear, yoc_rule *const *rules,
			size_t nrules, yoc_rule_frame **out, struct yoc_error *e);
void yoc_rule_frame_free(yoc_rule_frame *f);
size_t yoc_rule_frame_rows(const yoc_rule_frame *f);
/* Pseudo_id of row i (NUL-terminated), valid until yoc_rule_frame_free. */
const char *yoc_rule_frame_pseudo(const yoc_rule_frame *f, size_t i);

/*
** The column name at look-back lag of f: its type and its values, nums for
** INT and REAL (codes NULL), codes into the frame's dictionary for TEXT
** (nums NULL), null bytes (1 = NULL) for both. YOC_ENOTFOUND when the frame
** did not load it. Arrays of yoc_rule_frame_rows entries, valid until
** yoc_rule_frame_free. Dictionary texts are sorted by byte order, so code
** order is text order.
*/
int yoc_rule_frame_column(const yoc_rule_frame *f, const char *name, int lag, int *ftype,
			  const double **nums, const int32_t **codes, const uint8_t **nulls);
size_t yoc_rule_frame_ndict(const yoc_rule_frame *f);
/* Text of dictionary code c (NUL-terminated), valid until yoc_rule_frame_free. */
const char *yoc_rule_frame_dict(const yoc_rule_frame *f, size_t c);

/* ---- evaluating ---- */
/*
** Bitmaps of nrows bits in words = ceil(nrows / 64) uint64 words, row i at
** bit i % 64 of word i / 64. clause holds nclauses bitmaps one after the
** other (clause c at clause + c * words): the clause was TRUE for the row.
** Owned by the caller's struct; yoc_rule_result_free frees the arrays.
*/
struct yoc_rule_result {
	size_t nrows, words;
	uint64_t *selected;
	size_t nselected;
	size_t nclauses;
	uint64_t *clause;
	size_t *clause_count;   /* TRUE rows per clause (selected or not) */
	size_t *clause_selected; /* TRUE rows per clause among the selected */
};
/* Evaluates r over every row of f, column by column in chunks. */
int yoc_rule_eval(const yoc_rule *r, const yoc_rule_frame *f, struct yoc_rule_result *res,
		  struct yoc_error *e);
void yoc_rule_result_free(struct yoc_rule_result *res);
static inline int yoc_rule_bit(const uint64_t *bm, size_t i)
{
	return (int)((bm[i >> 6] >> (i & 63)) & 1);
}

#endif

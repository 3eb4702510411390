/*
** Internal declarations shared by the files of the link module: the
** register (reference population) with its blocking indexes and term
** frequencies (link_block.c), and the feed columns that carry identifiers.
** Not a public header: nothing outside src/link includes it.
*/
#ifndef YOC_LINK_INT_H
#define YOC_LINK_INT_H

#include <string.h>

#include "link/link.h"
#include "yoc/csv.h"

/* Blocking rules: a candidate pair agrees on the key of at least one. */
enum {
	BR_DOB = 0,       /* date of birth (also queried with day and month swapped) */
	BR_SECTOR_YOB,    /* postcode sector and year of birth */
	BR_FAMILY_YM,     /* family name sound, year and month of birth */
	BR_FAMILY_MD,     /* family name sound and day and month of birth */
	BR_GIVEN_YM_SEX,  /* given name sound, year and month of birth, sex */
	BR_NAMES,         /* given and family name sounds (no date of birth) */
	BR_COUNT
};
extern const char *const link_rule_names[BR_COUNT];
/* Fields a rule's blocking makes agree: left out of that rule's EM session. */
extern const unsigned link_rule_fields[BR_COUNT];

#define REG_MAX ((size_t)1 << 24)   /* records in the register */
#define BLOCK_MAX 1000               /* a larger block is skipped (counted) */

/*
** What scoring looks at first, packed in 20 bytes so that the pairs
** dismissed on date of birth, sex and postcode touch one cache line for
** three records: year (0 missing), month, day, sex, postcode (at most 7
** characters once normalised, as UK postcodes are; longer ones are cut).
*/
struct link_hot {
	uint16_t y;
	uint8_t m, d, sex, lpc;
	char pc[8];
	float wmax;             /* best weight its names can give (set by the run) */
};

struct link_reg {
	struct yoc_link_rec *rec;
	struct link_hot *hot;
	char (*nhs)[10];
	float *tfg, *tff;           /* -log2 of the name's share of the register (0: none) */
	size_t n, cap;
	uint64_t rows, bad_nhs, dupes, files;
	uint64_t people;            /* distinct NHS numbers */
	uint64_t *nhsv;             /* the distinct NHS numbers as integers, sorted */
	uint64_t *idx[BR_COUNT];    /* key (40 bits) << 24 | record, sorted */
	size_t nidx[BR_COUNT];
};

void link_hot_make(struct link_hot *h, const struct yoc_link_rec *r);
/* Levels of date of birth, sex and postcode from packed fields. */
static inline int link_hot_dob(const struct link_hot *a, const struct link_hot *b)
{
	if (!a->y || !b->y)
		return YOC_LV_MISSING;
	if (a->y == b->y && a->m == b->m && a->d == b->d)
		return 3;
	if (a->y == b->y && a->m == b->d && a->d == b->m)
		return 2;
	return (a->y == b->y) + (a->m == b->m) + (a->d == b->d) >= 2 ? 1 : 0;
}

/* Blocking key of r under rule k (swap: day and month swapped); 0 if none. */
uint64_t link_block_key(const struct yoc_link_rec *r, int k, int swap);

/* Reads a register file or every CSV under a folder. */
int link_reg_load(struct link_reg *g, const char *path, struct yoc_error *e);
/* Drops repeated records, counts names, builds the indexes. */
int link_reg_index(struct link_reg *g, struct yoc_error *e);
void link_reg_free(struct link_reg *g);
/* 1 if the register holds the NHS number (ten digits). */
int link_reg_has(const struct link_reg *g, const char *nhs);
/* Records of block key under rule k: [*lo, *hi) of g->idx[k]. */
void link_reg_block(const struct link_reg *g, int k, uint64_t key, size_t *lo, size_t *hi);

/* Identifier columns of a feed header, -1 when absent. */
struct link_cols {
	int nhs, dob, sex, given, family, postcode;
};
void link_find_cols(const struct yoc_cell *h, size_t n, struct link_cols *c);
/* The record of a row's cells (any column may be absent). */
void link_row_rec(const struct yoc_cell *cells, size_t n, const struct link_cols *c,
		  struct yoc_link_rec *r);

#endif

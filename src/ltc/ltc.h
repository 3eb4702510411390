/*
** Long-term conditions: the code list that says which GP register flags and
** which ICD-10 codes count as which long-term condition (LTC). Shared by
** `yoc synth` (ground truth) and the analysis stage, so both count LTCs the
** same way. The list lives in data/ltc_codelist.csv (see data/README.md):
**
**   condition,label,kind,source,code,origin,version
**   diabetes,Diabetes mellitus,physical,register,DM,...,yoc-ltc-1
**   diabetes,Diabetes mellitus,physical,icd10,E119,charlson_shmi:diab,yoc-ltc-1
**
** source "register": code is the GP register flag (column name in the
** gp_register feed). source "icd10": code is an ICD-10 prefix; a diagnosis
** code matches when, after removing dots and spaces and upper-casing, it
** starts with the prefix ("I10X" matches "I10"). One diagnosis may match
** more than one condition (hypertensive heart disease with heart failure,
** I110, is both hypertension and heart failure).
**
** Conditions are numbered in file order of first appearance, at most
** YOC_LTC_MAX, so a set of conditions is a uint64_t bit mask.
*/
#ifndef YOC_LTC_H
#define YOC_LTC_H

#include <stddef.h>
#include <stdint.h>

#include "yoc/core.h"

#define YOC_LTC_MAX 64

struct yoc_ltc_cond {
	char id[32];      /* "diabetes" */
	char label[96];
	char flag[16];    /* register flag, "DM"; "" if none */
	int mental;       /* kind: 1 mental, 0 physical */
};

typedef struct yoc_ltc yoc_ltc;

/* Loads the code list. On failure *out is NULL and e says why. */
int yoc_ltc_load(yoc_ltc **out, const char *path, struct yoc_error *e);
void yoc_ltc_free(yoc_ltc *l);

size_t yoc_ltc_count(const yoc_ltc *l);
/* Condition i (0 <= i < count); valid until yoc_ltc_free. */
const struct yoc_ltc_cond *yoc_ltc_get(const yoc_ltc *l, size_t i);
/* The version column's value (the same on every row). */
const char *yoc_ltc_version(const yoc_ltc *l);
/* Index of a condition by id, or -1. */
int yoc_ltc_by_id(const yoc_ltc *l, const char *id, size_t n);
/* Index of the condition with register flag, or -1. */
int yoc_ltc_by_flag(const yoc_ltc *l, const char *flag, size_t n);
/* Bit mask of the conditions an ICD-10 diagnosis code maps to (0: none). */
uint64_t yoc_ltc_icd10(const yoc_ltc *l, const char *code, size_t n);
/* Bit mask of the mental-health conditions. */
uint64_t yoc_ltc_mental_mask(const yoc_ltc *l);

#endif

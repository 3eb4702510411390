/*
** Feed specification: the twelve feed kinds yoc loads, each kind's known fields
** (type, required, code set, what happens to a bad value) and recognition of
** a kind from a file's header. Pure data and pure functions: no I/O, no
** allocation. docs/data-spec.md is the readable form of these tables; keep
** the two in step.
**
** A field may have aliases: the published HES name PSEUDO_HESID is an alias
** of PSEUDO_ID, the person key. Columns a kind does not know are kept as text.
*/
#ifndef YOC_SPEC_H
#define YOC_SPEC_H

#include <stddef.h>
#include <stdint.h>

enum yoc_kind {
	YOC_KIND_APC = 0,
	YOC_KIND_OP,
	YOC_KIND_AE,
	YOC_KIND_COMMUNITY,
	YOC_KIND_MH,
	YOC_KIND_GP_APPT,
	YOC_KIND_GP_REGISTER,
	YOC_KIND_SOCIAL_CARE,
	YOC_KIND_AMBULANCE,
	YOC_KIND_DEATHS,
	YOC_KIND_CAREPLAN, /* care and support plans (GP systems): not activity */
	YOC_KIND_PAM,      /* Patient Activation Measure results: not activity */
	YOC_KIND_COUNT
};

enum yoc_ftype {
	YOC_FT_TEXT = 0,  /* free text, kept as is */
	YOC_FT_CODE,      /* text checked against a code set (if any) */
	YOC_FT_DATE,      /* YYYY-MM-DD or DD/MM/YYYY; HES 1800/1801 sentinels */
	YOC_FT_INT,       /* decimal integer */
	YOC_FT_MONEY,     /* pounds "123.45", stored as pence */
	YOC_FT_PSEUDO,    /* person key: PSEUDO_ID (64 lowercase hex) or PSEUDO_HESID */
	YOC_FT_MYDOB      /* month and year of birth MMYYYY */
};

/* What happens to a value that fails its check. */
enum yoc_onbad {
	YOC_BAD_QUARANTINE = 0, /* the whole row goes to quarantine */
	YOC_BAD_NULL,           /* value stored as null, flag recorded */
	YOC_BAD_KEEP            /* value kept as text, flag recorded */
};

/* Role of a field in linkage, costing and the person table. */
enum yoc_role {
	YOC_ROLE_NONE = 0,
	YOC_ROLE_PERSON,       /* person key */
	YOC_ROLE_NHSNO_STATUS, /* valid|missing|malformed|bad_check_digit */
	YOC_ROLE_DATE,         /* activity date: month of activity */
	YOC_ROLE_PROVIDER,     /* provider code on the row */
	YOC_ROLE_COST          /* cost carried by the feed */
};

struct yoc_field {
	const char *name;            /* canonical name */
	const char *const *aliases;  /* NULL-terminated or NULL */
	int type;                    /* enum yoc_ftype */
	int required;                /* 1: empty value quarantines the row */
	const char *const *codes;    /* NULL-terminated code set, or NULL */
	int onbad;                   /* enum yoc_onbad */
	int role;                    /* enum yoc_role */
	const char *doc;
	/* Optional rule for values no list can hold (ICD-10 shape, practice
	 * codes): returns 1 when v (length n) is acceptable. Checked after codes. */
	int (*check)(const char *v, size_t n);
};

struct yoc_kind_spec {
	int kind;
	const char *name;                /* "apc" */
	const char *title;
	const char *const *signature;    /* header columns that identify the kind */
	const struct yoc_field *fields;
	size_t nfields;
};

const struct yoc_kind_spec *yoc_spec_kind(int kind);
/* Kind by name ("apc"); -1 if unknown. */
int yoc_spec_kind_by_name(const char *name);
const char *yoc_spec_kind_name(int kind);
/*
** 1 if rows of the kind are activity: costed, counted and tagged by analyse,
** tag, risk and the rest. 0 for the GP register, deaths, care plans and PAM
** results, which describe people rather than their use of services.
*/
int yoc_spec_kind_activity(int kind);

/*
** Recognises a kind from a header (cells as pointer/length pairs). Returns
** the kind, or -1 when no kind's signature matches. Canonical names and
** aliases both count.
*/
struct yoc_cell;
int yoc_spec_detect(const struct yoc_cell *hdr, size_t n);
/*
** The kind named by the folder a file is in ("feeds/apc/RA1_2023-04.csv" is
** apc), the layout yoc synth writes; -1 if the folder is no kind's name.
** Used only when the header does not show the kind.
*/
int yoc_spec_kind_from_path(const char *path);

/*
** Field of a kind named name or one of its aliases; NULL if not known.
** Names compare normalised: case and everything but letters and digits are
** ignored ("diag 4 01" is DIAG_4_01). yoc_spec_match also gives the spelling
** matched (the field's name or an alias).
*/
const struct yoc_field *yoc_spec_field(const struct yoc_kind_spec *k,
				       const char *name, size_t n);
const struct yoc_field *yoc_spec_match(const struct yoc_kind_spec *k, const char *name,
				       size_t n, const char **spelling);
/*
** One character of a normalised name: an ASCII letter upper-cased, a digit
** as it is, anything else 0 (left out). src/ident normalises the same way.
*/
int yoc_spec_name_char(int c);
/* 1 if z (NUL-terminated) and p (length n) are the same name normalised. */
int yoc_spec_name_eq(const char *z, const char *p, size_t n);

/* 1 if v (length n) is in the NULL-terminated code set. */
int yoc_spec_code_ok(const char *const *codes, const char *v, size_t n);
/* 1 if v is 64 lowercase hex digits. */
int yoc_spec_pseudo_ok(const char *v, size_t n);

const char *yoc_ftype_name(int type);
const char *yoc_onbad_name(int onbad);

#endif

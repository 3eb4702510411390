/*
** The identifier policy: what may leave pseudonymisation and enter a
** dataset. One implementation, used by `yoc pseudonymise` (pseudo) and by
** `yoc load` (load), so nothing identifiable reaches a dataset by any path.
**
** Three parts:
**
** Names      A column name is normalised (letters upper-cased, everything
**            but letters and digits removed: "NHS Number", "nhs_number" and
**            "NHS-NUMBER" are all NHSNUMBER) and classed: a direct identifier
**            (NHS number, date of birth, name, address, contact, free text,
**            local patient id, next of kin), or not.
** The plan  Default deny. Per header, each column is kept (a field the feed
**            kind's spec knows, or one on the key holder's allow-list),
**            transformed (the NHS number, the date of birth) or dropped and
**            listed. Headers that cannot be a feed's (too many columns, a
**            name of digits, duplicate names) are refused outright.
** Values     Every kept value is looked at: an NHS number (Modulus 11), a
**            full date in a column that is not a date, a UK postcode, a
**            phone number, an e-mail address. Some shapes are certain
**            (formatted NHS numbers, e-mail addresses, spaced postcodes),
**            others are only likely (ten plain digits pass Modulus 11 one
**            time in eleven by chance), so a column is judged on all its
**            values at the end of the file; see docs/pseudonymisation.md.
**
** Messages never repeat a value, and repeat a header name only when it
** cannot be data (not all digits), cut short and with control bytes replaced.
*/
#ifndef YOC_IDENT_H
#define YOC_IDENT_H

#include <stddef.h>
#include <stdint.h>

#include "spec/spec.h"
#include "yoc/core.h"
#include "yoc/csv.h"

#define YOC_IDENT_MAX_COLS 1024   /* more columns than any feed: not a header */
#define YOC_IDENT_MAX_NAME 128    /* a longer column name is not a name */

/* ---- names -------------------------------------------------------------- */

/*
** The normalised form of a column name: ASCII letters upper-cased, digits
** kept, everything else removed. Writes at most cap - 1 bytes and a NUL;
** returns the full normalised length (may exceed cap - 1: then truncated).
*/
size_t yoc_ident_norm(const char *p, size_t n, char *out, size_t cap);

enum yoc_ident_class {
	YOC_IDC_NONE = 0,
	YOC_IDC_NHSNO,      /* an NHS number */
	YOC_IDC_DOB,        /* a full date of birth */
	YOC_IDC_NAME,       /* a person's name */
	YOC_IDC_ADDRESS,    /* address, postcode */
	YOC_IDC_CONTACT,    /* phone, mobile, e-mail */
	YOC_IDC_FREETEXT,   /* notes, comments, narrative */
	YOC_IDC_LOCALID,    /* hospital, CHI, national insurance or local patient number */
	YOC_IDC_NOK,        /* next of kin */
	YOC_IDC_COUNT
};
/* The class of a column name (any spelling); YOC_IDC_NONE if not an identifier. */
int yoc_ident_name_class(const char *p, size_t n);
const char *yoc_ident_class_str(int cls); /* "NHS number", "name", ... */

/* ---- the allow-list ----------------------------------------------------- */

/*
** The key holder's explicit allow-list of extra columns: a text file, one
** column name per line, optionally followed by ",date" (or whitespace and
** "date") when the column holds dates; '#' starts a comment. A name that is
** a direct identifier by its name cannot be allowed (YOC_EPERM naming it).
*/
typedef struct yoc_allow yoc_allow;
int yoc_allow_load(yoc_allow **out, const char *path, struct yoc_error *e);
/* From text in memory (tests, fuzzing); name is for messages. */
int yoc_allow_parse(yoc_allow **out, const char *text, size_t n, const char *name,
		    struct yoc_error *e);
void yoc_allow_free(yoc_allow *a);
/* 0 not allowed, 1 allowed, 2 allowed and holding dates. */
int yoc_allow_has(const yoc_allow *a, const char *p, size_t n);
size_t yoc_allow_count(const yoc_allow *a);

/* ---- the plan for one header -------------------------------------------- */

enum yoc_ident_act {
	YOC_IA_KEEP = 0,    /* a field of the kind, or allowed: kept, values scanned */
	YOC_IA_DROP,        /* not known to the spec or the allow-list: dropped, listed */
	YOC_IA_IDENT,       /* a direct identifier by name: dropped (pseudonymise), refused (load) */
	YOC_IA_NHSNO,       /* the NHS number: becomes PSEUDO_ID and NHSNO_STATUS */
	YOC_IA_DOB,         /* the date of birth: becomes MYDOB */
	YOC_IA_RESERVED     /* a name pseudonymise writes itself (PSEUDO_ID, ...): dropped */
};
const char *yoc_ident_act_str(int act);

enum yoc_ident_mode {
	YOC_IDENT_PSEUDO = 0,  /* identifiable extract at source */
	YOC_IDENT_LOAD         /* pseudonymised feed entering a dataset */
};

struct yoc_ident_col {
	unsigned char act;     /* enum yoc_ident_act */
	unsigned char cls;     /* enum yoc_ident_class, for YOC_IA_IDENT */
	unsigned char dates;   /* 1: dates are expected here (a date field, or allowed as dates) */
	unsigned char allowed; /* 1: kept because of the allow-list */
	const struct yoc_field *f;  /* the spec field, or NULL */
	const char *spelling;  /* the spec's name or alias as matched, or NULL (keep the input's) */
};

struct yoc_ident_plan {
	int kind;              /* enum yoc_kind */
	size_t ncols;
	struct yoc_ident_col *cols;
	long nhs_col, dob_col; /* -1 if none */
	size_t nkeep, ndrop, nident, nreserved;
};

struct yoc_ident_opts {
	int mode;              /* enum yoc_ident_mode */
	int kind;              /* -1: recognise from the header, else from the folder's
				* name (yoc_spec_kind_from_path) */
	const yoc_allow *allow;  /* may be NULL */
	int strict;            /* 1: a column that would be dropped refuses the file */
};

/*
** Makes the plan for a header. Refused (negative status, e says why, with
** the column; nothing is allocated):
**   YOC_EPARSE  more than YOC_IDENT_MAX_COLS columns, a name longer than
**               YOC_IDENT_MAX_NAME or all digits (a data row read as a
**               header), two columns with the same normalised name
**   YOC_EINVAL  the kind is not recognised; pseudonymise: no NHS number column
**   YOC_EPERM   load: a column named as a direct identifier;
**               strict: a column that would be dropped
**   YOC_ENOMEM
*/
int yoc_ident_plan_make(struct yoc_ident_plan *pl, const struct yoc_cell *hdr, size_t n,
			const struct yoc_ident_opts *o, const char *path,
			struct yoc_error *e);
void yoc_ident_plan_free(struct yoc_ident_plan *pl);

/*
** A column name made safe to print: at most max bytes (then "..."), control
** bytes and non-ASCII as '?'. out must hold max + 4 bytes.
*/
void yoc_ident_show(const char *p, size_t n, char *out, size_t max);

/* ---- values ------------------------------------------------------------- */

/* What a value looks like (bits). */
enum {
	YOC_IV_NHS_FMT = 1 << 0,    /* 3-3-4 digits, spaces or dashes, passing Modulus 11 */
	YOC_IV_NHS10 = 1 << 1,      /* ten plain digits (not all the same) */
	YOC_IV_NHS10_OK = 1 << 2,   /* ... passing Modulus 11 */
	YOC_IV_DATE = 1 << 3,       /* a full date with separators (time may follow) */
	YOC_IV_DIG8 = 1 << 4,       /* eight plain digits */
	YOC_IV_DATE8 = 1 << 5,      /* ... reading as a date YYYYMMDD, 1880-2100 */
	YOC_IV_POSTCODE = 1 << 6,   /* a full UK postcode with its space */
	YOC_IV_POSTCODE_C = 1 << 7, /* a full UK postcode of 6 or 7 characters without the space */
	YOC_IV_PHONE = 1 << 8,      /* a UK phone number written with spaces, dashes, brackets or +44 */
	YOC_IV_DIGLONG = 1 << 9,    /* ten to twelve plain digits */
	YOC_IV_PHONE_D = 1 << 10,   /* ... eleven digits 01/02/03/07...: a phone number */
	YOC_IV_EMAIL = 1 << 11      /* an e-mail address */
};
/* The shapes of one value (surrounding blanks ignored). */
unsigned yoc_ident_value(const char *p, size_t n);
/* The shapes found inside free text: words and runs of up to three words. */
unsigned yoc_ident_text(const char *p, size_t n);

/* Per-column tallies, judged at the end of the file. */
struct yoc_idscan_col {
	uint64_t nonempty;
	uint64_t n10, p10;     /* plain ten digits; passing Modulus 11 */
	uint64_t n8, d8;       /* plain eight digits; reading as dates */
	uint64_t nlong, phd;   /* plain 10-12 digits; phone-shaped */
	uint64_t pcc;          /* compact postcodes */
	uint64_t sure;         /* certain shapes */
	unsigned sure_bits;
	long line_sure, line_p10, line_d8, line_phd, line_pcc;
};

struct yoc_idscan {
	const struct yoc_ident_plan *pl;
	size_t ncols;          /* pl->ncols + 1: the last counts cells past the header */
	struct yoc_idscan_col *c;
};
int yoc_idscan_init(struct yoc_idscan *s, const struct yoc_ident_plan *pl);
void yoc_idscan_free(struct yoc_idscan *s);
/* One value of column col (>= ncols: a cell past the header's width). */
void yoc_idscan_cell(struct yoc_idscan *s, size_t col, const char *p, size_t n, long line);
/*
** A row: the kept columns of a well-formed row; every cell of a malformed
** one (any == 1), since its cells may not be in their columns.
*/
void yoc_idscan_row(struct yoc_idscan *s, const struct yoc_cell *c, size_t ncells,
		    long line, int any);
/*
** The verdict: 0, or YOC_EPERM with e naming the column (by name and
** position), what its values look like and the first line; never a value.
*/
int yoc_idscan_verdict(const struct yoc_idscan *s, const struct yoc_cell *hdr,
		       const char *path, struct yoc_error *e);

#endif

/*
** Dates and NHS financial years.
**
** A date is an int32 count of days since 1970-01-01 (proleptic Gregorian).
** HES uses two sentinel dates that are data, not errors: 1800-01-01 (null,
** nothing submitted) and 1801-01-01 (a value was submitted but was invalid).
** The parser keeps these distinct from each other, from an empty field and
** from a parse failure.
**
** An NHS financial year runs 1 April to 31 March. It is identified here by
** its starting calendar year: 2023 means 2023/24 (HES FYEAR "2324").
*/
#ifndef YOC_DATE_H
#define YOC_DATE_H

#include <stddef.h>
#include <stdint.h>

enum yoc_date_kind {
	YOC_DATE_VALID = 0,     /* *out holds the date */
	YOC_DATE_EMPTY = 1,     /* empty field (or only spaces) */
	YOC_DATE_NULL = 2,      /* HES 1800-01-01: not submitted */
	YOC_DATE_INVALID = 3    /* HES 1801-01-01: submitted but invalid */
};

/* Days since 1970-01-01 for a calendar date; no validation. */
int32_t yoc_date_from_ymd(int y, int m, int d);
void yoc_date_to_ymd(int32_t days, int *y, int *m, int *d);
int yoc_date_valid_ymd(int y, int m, int d);

/*
** Parses ISO "YYYY-MM-DD" or "DD/MM/YYYY". Returns a yoc_date_kind (>= 0) or
** YOC_EPARSE (< 0) for text that is not a real calendar date in either form.
** *out is set only for YOC_DATE_VALID.
*/
int yoc_date_parse(const char *s, size_t n, int32_t *out);
/* Writes "YYYY-MM-DD" and a NUL into buf (at least 11 bytes). */
void yoc_date_format(int32_t days, char *buf);

/* Today's date in UTC. */
int32_t yoc_date_today(void);

/* Financial year (starting calendar year) containing the date. */
int yoc_fyear_of(int32_t days);
int32_t yoc_fyear_start(int fyear);  /* 1 April */
int32_t yoc_fyear_end(int fyear);    /* 31 March, inclusive */
/* "2023/24" (buf at least 8 bytes). */
void yoc_fyear_format(int fyear, char *buf);
/* HES FYEAR "2324" (buf at least 5 bytes). */
void yoc_fyear_format_hes(int fyear, char *buf);
/*
** Parses "2023/24", "2023-24" or HES "2324" (HES form taken as 1950-2049).
** Returns 0 and sets *fyear, or YOC_EPARSE when the two halves are not
** consecutive years.
*/
int yoc_fyear_parse(const char *s, size_t n, int *fyear);

/* Whole years of age on date `on` for someone born on `dob`. */
int yoc_age_on(int32_t dob, int32_t on);

#endif

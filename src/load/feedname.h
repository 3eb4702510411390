/*
** Feed file names: "<PROVIDER>_<PERIOD>[_vN].csv" gives a feed file its
** provider and period, which with its kind are the refresh key of `yoc load`
** (docs/data-spec.md, "File names"). A pure parser: no allocation, no I/O,
** no printing; what it returns is copied into the caller's struct.
**
**   PROVIDER  2 to 10 upper-case letters and digits, an ODS-style code
**             (RA1, P90001, LA1, ONS, 406) or a 9-character ONS area code
**             (E09000001) for a local authority.
**   PERIOD    YYYY-MM, a month: year 1990 to 2100, month 01 to 12; or
**             YYYY-YY, a financial year (April YYYY to March YYYY+1) whose
**             YY is (YYYY + 1) mod 100: 2021-22; YYYY 1990 to 2099. Some
**             texts are both (2011-12 is December 2011 and the year 2011/12);
**             the period is a key and is stored as written, so that does not
**             matter to the load.
**   _vN       optional: the Nth submission of the same provider and period,
**             N from 2 to 999, no leading zero. No suffix is submission 1.
**   extension .csv or .txt, in any case.
**
** Anything else is refused, with a message saying which part is wrong.
*/
#ifndef YOC_FEEDNAME_H
#define YOC_FEEDNAME_H

#include <stddef.h>

#include "yoc/core.h"

#define YOC_FEEDNAME_PROVIDER_MIN 2
#define YOC_FEEDNAME_PROVIDER_MAX 10
#define YOC_FEEDNAME_YEAR_MIN 1990
#define YOC_FEEDNAME_YEAR_MAX 2100
#define YOC_FEEDNAME_VERSION_MAX 999

struct yoc_feedname {
	char provider[YOC_FEEDNAME_PROVIDER_MAX + 1]; /* NUL-terminated */
	char period[8];                               /* "YYYY-MM" or "YYYY-YY" */
	int version;                                  /* 1, or N of "_vN" */
};

/*
** Parses the last component of path (after the last '/'). Returns 0 with
** *out filled, or YOC_EPARSE with *out zeroed and, when e is not NULL,
** e->file set to the base name (bytes outside printable ASCII written as
** \xNN, long names cut) and e->msg to what is wrong, e.g.
** "period 2099-13: month must be 01-12".
*/
int yoc_feedname_parse(const char *path, struct yoc_feedname *out, struct yoc_error *e);

/* 1 if p[0..n) is a valid provider code, else 0. */
int yoc_feedname_provider_ok(const char *p, size_t n);
/* 1 if p[0..n) is a valid period (month or financial year), else 0. */
int yoc_feedname_period_ok(const char *p, size_t n);

#endif

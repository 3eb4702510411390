/*
** NHS numbers: ten digits, the tenth a Modulus 11 check digit (weights 10..2
** on digits 1-9; check = 11 - sum mod 11; 11 becomes 0; 10 is invalid).
** Spaces and dashes are formatting and are removed before checking.
*/
#ifndef YOC_NHSNO_H
#define YOC_NHSNO_H

#include <stddef.h>
#include <stdint.h>

enum yoc_nhsno_status {
	YOC_NHSNO_VALID = 0,
	YOC_NHSNO_MISSING = 1,         /* empty or only spaces */
	YOC_NHSNO_MALFORMED = 2,       /* not ten digits after normalising, or all
	                                  ten the same (placeholders such as
	                                  0000000000, which pass Modulus 11) */
	YOC_NHSNO_BAD_CHECK_DIGIT = 3  /* ten digits, check digit wrong (or 10) */
};

/* "valid", "missing", "malformed", "bad_check_digit". */
const char *yoc_nhsno_status_str(int status);

/*
** Normalises and checks. When the result is VALID or BAD_CHECK_DIGIT, out
** (at least 11 bytes) holds the ten digits and a NUL; otherwise out[0] = 0.
*/
int yoc_nhsno_check(const char *s, size_t n, char *out);

/* Check digit for the first nine digits, or 10 when no valid digit exists. */
int yoc_nhsno_check_digit(const char *nine);

#endif

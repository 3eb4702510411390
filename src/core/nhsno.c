/*
** NHS number normalisation and Modulus 11 validation (NHS Data Dictionary).
*/
#include "yoc/nhsno.h"

const char *yoc_nhsno_status_str(int status)
{
	switch (status) {
	case YOC_NHSNO_VALID: return "valid";
	case YOC_NHSNO_MISSING: return "missing";
	case YOC_NHSNO_MALFORMED: return "malformed";
	case YOC_NHSNO_BAD_CHECK_DIGIT: return "bad_check_digit";
	}
	return "unknown";
}

int yoc_nhsno_check_digit(const char *nine)
{
	int sum = 0;
	for (int i = 0; i < 9; i++)
		sum += (nine[i] - '0') * (10 - i);
	int c = 11 - sum % 11;
	return c == 11 ? 0 : c;
}

int yoc_nhsno_check(const char *s, size_t n, char *out)
{
	size_t nd = 0, other = 0;
	char d[11];
	out[0] = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == ' ' || c == '-' || c == '\t')
			continue;
		if (c >= '0' && c <= '9') {
			if (nd < 10)
				d[nd] = c;
			nd++;
		} else {
			other++;
		}
	}
	if (nd == 0 && other == 0)
		return YOC_NHSNO_MISSING;
	if (nd != 10 || other)
		return YOC_NHSNO_MALFORMED;
	d[10] = 0;
	/* All ten digits the same (0000000000, 1111111111, ...) pass the
	** arithmetic but are placeholders, never issued: malformed. */
	int same = 1;
	for (int i = 1; i < 10; i++)
		same &= d[i] == d[0];
	if (same)
		return YOC_NHSNO_MALFORMED;
	for (int i = 0; i < 11; i++)
		out[i] = d[i];
	int c = yoc_nhsno_check_digit(d);
	return c != 10 && c == d[9] - '0' ? YOC_NHSNO_VALID : YOC_NHSNO_BAD_CHECK_DIGIT;
}

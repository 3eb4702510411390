/*
** Calendar dates as days since 1970-01-01, the two HES sentinel dates, and
** NHS financial years. Pure functions; no locale, no time zone except
** yoc_date_today (UTC).
*/
#include <time.h>

#include "yoc/core.h"
#include "yoc/date.h"

/* Days from a civil date, counting 400-year eras of 146,097 days. */
int32_t yoc_date_from_ymd(int y, int m, int d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int32_t)(era * 146097 + doe - 719468);
}

void yoc_date_to_ymd(int32_t z, int *y, int *m, int *d)
{
	z += 719468;
	int era = (z >= 0 ? z : z - 146096) / 146097;
	int doe = z - era * 146097;
	int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int yoc_date_valid_ymd(int y, int m, int d)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
		return 0;
	return d <= mdays[m - 1] + (m == 2 && leap(y));
}

static int digits(const char *s, size_t n, int *out)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

int yoc_date_parse(const char *s, size_t n, int32_t *out)
{
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	if (n == 0)
		return YOC_DATE_EMPTY;
	int y, m, d;
	if (n == 10 && s[4] == '-' && s[7] == '-') {
		if (!digits(s, 4, &y) || !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d))
			return YOC_EPARSE;
	} else if (n == 10 && s[2] == '/' && s[5] == '/') {
		if (!digits(s, 2, &d) || !digits(s + 3, 2, &m) || !digits(s + 6, 4, &y))
			return YOC_EPARSE;
	} else {
		return YOC_EPARSE;
	}
	if (y == 1800 && m == 1 && d == 1)
		return YOC_DATE_NULL;
	if (y == 1801 && m == 1 && d == 1)
		return YOC_DATE_INVALID;
	if (!yoc_date_valid_ymd(y, m, d))
		return YOC_EPARSE;
	*out = yoc_date_from_ymd(y, m, d);
	return YOC_DATE_VALID;
}

void yoc_date_format(int32_t days, char *buf)
{
	int y, m, d;
	yoc_date_to_ymd(days, &y, &m, &d);
	buf[0] = (char)('0' + y / 1000 % 10);
	buf[1] = (char)('0' + y / 100 % 10);
	buf[2] = (char)('0' + y / 10 % 10);
	buf[3] = (char)('0' + y % 10);
	buf[4] = '-';
	buf[5] = (char)('0' + m / 10);
	buf[6] = (char)('0' + m % 10);
	buf[7] = '-';
	buf[8] = (char)('0' + d / 10);
	buf[9] = (char)('0' + d % 10);
	buf[10] = 0;
}

int32_t yoc_date_today(void)
{
	return (int32_t)(time(NULL) / 86400);
}

int yoc_fyear_of(int32_t days)
{
	int y, m, d;
	yoc_date_to_ymd(days, &y, &m, &d);
	return m >= 4 ? y : y - 1;
}

int32_t yoc_fyear_start(int fyear)
{
	return yoc_date_from_ymd(fyear, 4, 1);
}

int32_t yoc_fyear_end(int fyear)
{
	return yoc_date_from_ymd(fyear + 1, 3, 31);
}

void yoc_fyear_format(int fyear, char *buf)
{
	int n = (fyear + 1) % 100;
	buf[0] = (char)('0' + fyear / 1000 % 10);
	buf[1] = (char)('0' + fyear / 100 % 10);
	buf[2] = (char)('0' + fyear / 10 % 10);
	buf[3] = (char)('0' + fyear % 10);
	buf[4] = '/';
	buf[5] = (char)('0' + n / 10);
	buf[6] = (char)('0' + n % 10);
	buf[7] = 0;
}

void yoc_fyear_format_hes(int fyear, char *buf)
{
	int a = fyear % 100, b = (fyear + 1) % 100;
	buf[0] = (char)('0' + a / 10);
	buf[1] = (char)('0' + a % 10);
	buf[2] = (char)('0' + b / 10);
	buf[3] = (char)('0' + b % 10);
	buf[4] = 0;
}

int yoc_fyear_parse(const char *s, size_t n, int *fyear)
{
	int a, b;
	if (n == 7 && (s[4] == '/' || s[4] == '-')) {
		if (!digits(s, 4, &a) || !digits(s + 5, 2, &b))
			return YOC_EPARSE;
		if ((a + 1) % 100 != b)
			return YOC_EPARSE;
		*fyear = a;
		return YOC_OK;
	}
	if (n == 4) {
		if (!digits(s, 2, &a) || !digits(s + 2, 2, &b))
			return YOC_EPARSE;
		if ((a + 1) % 100 != b)
			return YOC_EPARSE;
		*fyear = a < 50 ? 2000 + a : 1900 + a;
		return YOC_OK;
	}
	return YOC_EPARSE;
}

int yoc_age_on(int32_t dob, int32_t on)
{
	int y1, m1, d1, y2, m2, d2;
	yoc_date_to_ymd(dob, &y1, &m1, &d1);
	yoc_date_to_ymd(on, &y2, &m2, &d2);
	int age = y2 - y1;
	if (m2 < m1 || (m2 == m1 && d2 < d1))
		age--;
	return age;
}

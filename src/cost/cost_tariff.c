/*
** Loading the cost tables: the National Cost Collection schedule, the
** unit-cost table and the spell trim points, into one read-only tariff. Lookups are hash-map reads.
** Parses decimal money as text (never through a double) so every price is
** exact. Must not print; faults go into the error record.
*/
#include <stdio.h>
#include <string.h>

#include "cost/cost.h"

#define SEP '\x1f' /* joins service and code in a map key */

struct unit_row {
	char code[32];
	char unit[16];
	int64_t pence;
};

struct trim_row {
	int32_t days;
	int64_t per_day;             /* pence */
};

struct yoc_tariff {
	struct yoc_map prices;       /* "service\x1fcode" -> pence */
	struct yoc_map trims;        /* "E|N\x1fhrg" -> index in trim */
	struct trim_row *trim;
	size_t ntrim;
	char trim_version[64];
	size_t nrows;
	/* department averages per POD: sums of Cost (1e-6 pounds) and Activity */
	__int128 cost_e6[YOC_POD_COUNT];
	int64_t activity[YOC_POD_COUNT];
	struct unit_row *units;
	size_t nunits;
};

static const char *const services[YOC_POD_COUNT] = {
	"Elective Inpatients",
	"Non-Elective Inpatient - Short Stay",
	"Non-Elective Inpatient - Long Stay",
	"Daycase",
	"Outpatient Procedures",
	"Consultant Led",
	"Emergency Care",
	"Community Health Service",
	"Mental Health Care Contact",
	"Mental Health Provider Spell",
	"NHS Talking Therapy Care Contact",
	"Ambulance",
};

static const char *const pod_names[YOC_POD_COUNT] = {
	"elective", "nonelective_short", "nonelective_long", "daycase",
	"outpatient_procedure", "outpatient_attendance", "ae", "community",
	"mh_contact", "mh_bedday", "talking_therapy", "ambulance",
};

const char *yoc_pod_service(int pod)
{
	return pod >= 0 && pod < YOC_POD_COUNT ? services[pod] : "";
}

const char *yoc_pod_name(int pod)
{
	return pod >= 0 && pod < YOC_POD_COUNT ? pod_names[pod] : "";
}

int yoc_pod_from_service(const char *s, size_t n)
{
	for (int i = 0; i < YOC_POD_COUNT; i++)
		if (strlen(services[i]) == n && memcmp(services[i], s, n) == 0)
			return i;
	return -1;
}

static void trim(const char **p, size_t *n)
{
	while (*n && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' || (*p)[*n - 1] == '\r'))
		(*n)--;
}

int yoc_pounds_parse(const char *s, size_t n, int64_t *pence)
{
	trim(&s, &n);
	struct yoc_cell c = {s, n};
	return yoc_cell_pence(c, pence) ? YOC_EPARSE : YOC_OK;
}

size_t yoc_pence_format(int64_t pence, char *buf)
{
	char tmp[24];
	size_t k = 0, n = 0;
	uint64_t v = pence < 0 ? (uint64_t)0 - (uint64_t)pence : (uint64_t)pence;
	uint64_t whole = v / 100, frac = v % 100;
	tmp[k++] = (char)('0' + frac % 10);
	tmp[k++] = (char)('0' + frac / 10);
	tmp[k++] = '.';
	do {
		tmp[k++] = (char)('0' + whole % 10);
		whole /= 10;
	} while (whole);
	if (pence < 0)
		buf[n++] = '-';
	while (k)
		buf[n++] = tmp[--k];
	buf[n] = 0;
	return n;
}

/* Non-negative decimal text in millionths of a pound (more decimals rounded). */
static int parse_e6(const char *s, size_t n, __int128 *out)
{
	trim(&s, &n);
	__int128 v = 0;
	size_t i = 0;
	int digits = 0, dec = -1, round = 0;
	for (; i < n; i++) {
		char c = s[i];
		if (c == '.' && dec < 0) {
			dec = 0;
			continue;
		}
		if (c < '0' || c > '9')
			return YOC_EPARSE;
		digits++;
		if (dec >= 0) {
			if (dec == 6) {
				round = c >= '5';
				dec++;
				continue;
			}
			if (dec > 6)
				continue;
			dec++;
		}
		if (v > ((__int128)1 << 100))
			return YOC_EPARSE;
		v = v * 10 + (c - '0');
	}
	if (!digits)
		return YOC_EPARSE;
	if (dec < 0)
		dec = 0;
	for (; dec < 6; dec++)
		v *= 10;
	*out = v + round;
	return YOC_OK;
}

static int key_of(char *buf, size_t cap, const char *svc, size_t sn, const char *code,
		  size_t cn)
{
	trim(&code, &cn);
	if (sn + cn + 1 > cap)
		return -1;
	memcpy(buf, svc, sn);
	buf[sn] = SEP;
	memcpy(buf + sn + 1, code, cn);
	return (int)(sn + cn + 1);
}

static int col_or_fail(yoc_csv *r, const char *name, const char *path, struct yoc_error *e)
{
	int c = yoc_csv_col(r, name);
	if (c < 0)
		yoc_error_set(e, YOC_EPARSE, path, 1, 0, "no column '%s'", name);
	return c;
}

int yoc_tariff_load(yoc_tariff **out, const char *path, struct yoc_error *e)
{
	int rc;
	yoc_csv *r = NULL;
	yoc_tariff *t = NULL;
	struct yoc_csv_opts o = {0};
	*out = NULL;
	o.delim = ',';
	t = yoc_calloc(1, sizeof *t);
	if (!t)
		return yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "out of memory");
	if ((rc = yoc_map_init(&t->prices, 16384)) != 0 || (rc = yoc_map_init(&t->trims, 1024))) {
		yoc_error_set(e, rc, path, 0, 0, "out of memory");
		goto cleanup;
	}
	if ((rc = yoc_csv_open(&r, path, &o, e)) != 0)
		goto cleanup;
	int c_svc = col_or_fail(r, "Service Code", path, e);
	int c_code = col_or_fail(r, "Dept or Currency Code", path, e);
	int c_act = col_or_fail(r, "Activity", path, e);
	int c_unit = col_or_fail(r, "Unit cost", path, e);
	int c_cost = col_or_fail(r, "Cost", path, e);
	if (c_svc < 0 || c_code < 0 || c_act < 0 || c_unit < 0 || c_cost < 0) {
		rc = YOC_EPARSE;
		goto cleanup;
	}
	struct yoc_csv_row row;
	for (;;) {
		rc = yoc_csv_next(r, &row, e);
		if (rc == 0)
			break;
		if (rc < 0)
			goto cleanup;
		const struct yoc_cell *c = row.cells;
		const char *svc = c[c_svc].p;
		size_t sn = c[c_svc].n;
		trim(&svc, &sn);
		int64_t pence, act;
		__int128 cost;
		const char *ap = c[c_act].p;
		size_t an = c[c_act].n;
		trim(&ap, &an);
		struct yoc_cell acell = {ap, an};
		if (yoc_pounds_parse(c[c_unit].p, c[c_unit].n, &pence) ||
		    yoc_cell_int(acell, &act) || parse_e6(c[c_cost].p, c[c_cost].n, &cost)) {
			rc = yoc_error_set(e, YOC_EPARSE, path, row.line, 0,
					   "bad number in Activity, Unit cost or Cost");
			goto cleanup;
		}
		char key[256];
		int kn = key_of(key, sizeof key, svc, sn, c[c_code].p, c[c_code].n);
		if (kn < 0) {
			rc = yoc_error_set(e, YOC_EPARSE, path, row.line, 0, "code too long");
			goto cleanup;
		}
		int isnew = 0;
		if ((rc = yoc_map_put(&t->prices, key, (size_t)kn, (uint64_t)pence, &isnew)) != 0) {
			yoc_error_set(e, rc, path, row.line, 0, "out of memory");
			goto cleanup;
		}
		if (!isnew) {
			rc = yoc_error_set(e, YOC_EPARSE, path, row.line, 0,
					   "duplicate service and currency code");
			goto cleanup;
		}
		int pod = yoc_pod_from_service(svc, sn);
		if (pod >= 0 && act > 0) {
			t->cost_e6[pod] += cost;
			t->activity[pod] += act;
		}
		t->nrows++;
	}
	if (t->nrows == 0) {
		rc = yoc_error_set(e, YOC_EPARSE, path, 0, 0, "no prices in the file");
		goto cleanup;
	}
	*out = t;
	t = NULL;
	rc = YOC_OK;
cleanup:
	yoc_csv_close(r);
	yoc_tariff_free(t);
	return rc;
}

int yoc_tariff_load_units(yoc_tariff *t, const char *path, struct yoc_error *e)
{
	int rc;
	yoc_csv *r = NULL;
	struct yoc_csv_opts o = {0};
	o.delim = ',';
	if ((rc = yoc_csv_open(&r, path, &o, e)) != 0)
		return rc;
	int c_code = col_or_fail(r, "code", path, e);
	int c_unit = col_or_fail(r, "unit", path, e);
	int c_cost = col_or_fail(r, "unit_cost", path, e);
	if (c_code < 0 || c_unit < 0 || c_cost < 0) {
		rc = YOC_EPARSE;
		goto cleanup;
	}
	struct yoc_csv_row row;
	for (;;) {
		rc = yoc_csv_next(r, &row, e);
		if (rc == 0)
			break;
		if (rc < 0)
			goto cleanup;
		const struct yoc_cell *c = row.cells;
		struct unit_row u;
		memset(&u, 0, sizeof u);
		const char *cp = c[c_code].p, *up = c[c_unit].p;
		size_t cn = c[c_code].n, un = c[c_unit].n;
		trim(&cp, &cn);
		trim(&up, &un);
		if (cn == 0 || cn >= sizeof u.code || un == 0 || un >= sizeof u.unit ||
		    yoc_pounds_parse(c[c_cost].p, c[c_cost].n, &u.pence)) {
			rc = yoc_error_set(e, YOC_EPARSE, path, row.line, 0,
					   "bad code, unit or unit_cost");
			goto cleanup;
		}
		memcpy(u.code, cp, cn);
		memcpy(u.unit, up, un);
		if (strcmp(u.unit, "minute") && strcmp(u.unit, "hour") && strcmp(u.unit, "day") &&
		    strcmp(u.unit, "week") && strcmp(u.unit, "item")) {
			rc = yoc_error_set(e, YOC_EPARSE, path, row.line, 0,
					   "unit must be minute, hour, day, week or item");
			goto cleanup;
		}
		for (size_t i = 0; i < t->nunits; i++)
			if (strcmp(t->units[i].code, u.code) == 0) {
				rc = yoc_error_set(e, YOC_EPARSE, path, row.line, 0,
						   "duplicate code '%s'", u.code);
				goto cleanup;
			}
		struct unit_row *nu = yoc_realloc(t->units, (t->nunits + 1) * sizeof *nu);
		if (!nu) {
			rc = yoc_error_set(e, YOC_ENOMEM, path, row.line, 0, "out of memory");
			goto cleanup;
		}
		t->units = nu;
		t->units[t->nunits++] = u;
	}
	rc = YOC_OK;
cleanup:
	yoc_csv_close(r);
	return rc;
}

static int trim_key(char *buf, size_t cap, int nonelective, const char *hrg, size_t n)
{
	trim(&hrg, &n);
	if (n + 2 > cap)
		return -1;
	buf[0] = nonelective ? 'N' : 'E';
	buf[1] = SEP;
	memcpy(buf + 2, hrg, n);
	return (int)(n + 2);
}

int yoc_tariff_load_trims(yoc_tariff *t, const char *path, struct yoc_error *e)
{
	int rc;
	yoc_csv *r = NULL;
	struct yoc_csv_opts o = {0};
	o.delim = ',';
	if ((rc = yoc_csv_open(&r, path, &o, e)) != 0)
		return rc;
	int c_hrg = col_or_fail(r, "hrg", path, e);
	int c_adm = col_or_fail(r, "admission", path, e);
	int c_days = col_or_fail(r, "trim_days", path, e);
	int c_cost = col_or_fail(r, "excess_bed_day", path, e);
	int c_ver = col_or_fail(r, "version", path, e);
	if (c_hrg < 0 || c_adm < 0 || c_days < 0 || c_cost < 0 || c_ver < 0) {
		rc = YOC_EPARSE;
		goto cleanup;
	}
	struct yoc_csv_row row;
	for (;;) {
		rc = yoc_csv_next(r, &row, e);
		if (rc == 0)
			break;
		if (rc < 0)
			goto cleanup;
		const struct yoc_cell *c = row.cells;
		const char *ap = c[c_adm].p, *vp = c[c_ver].p, *dp = c[c_days].p;
		size_t an = c[c_adm].n, vn = c[c_ver].n, dn = c[c_days].n;
		trim(&ap, &an);
		trim(&vp, &vn);
		trim(&dp, &dn);
		int ne = an == 11 && memcmp(ap, "nonelective", 11) == 0;
		struct trim_row tr;
		int64_t days;
		struct yoc_cell dc = {dp, dn};
		if ((!ne && !(an == 8 && memcmp(ap, "elective", 8) == 0)) || yoc_cell_int(dc, &days) ||
		    days < 0 || days > 100000 ||
		    yoc_pounds_parse(c[c_cost].p, c[c_cost].n, &tr.per_day) || tr.per_day < 0) {
			rc = yoc_error_set(e, YOC_EPARSE, path, row.line, 0,
					   "admission must be elective or nonelective, trim_days a "
					   "whole number of days, excess_bed_day pounds");
			goto cleanup;
		}
		tr.days = (int32_t)days;
		if (vn == 0 || vn >= sizeof t->trim_version ||
		    (t->ntrim && strlen(t->trim_version) != vn) ||
		    (t->ntrim && memcmp(t->trim_version, vp, vn) != 0)) {
			rc = yoc_error_set(e, YOC_EPARSE, path, row.line, 0,
					   "every row needs the same version (at most %d characters)",
					   (int)sizeof t->trim_version - 1);
			goto cleanup;
		}
		memcpy(t->trim_version, vp, vn);
		t->trim_version[vn] = 0;
		char key[64];
		int kn = trim_key(key, sizeof key, ne, c[c_hrg].p, c[c_hrg].n);
		if (kn <= 2) {
			rc = yoc_error_set(e, YOC_EPARSE, path, row.line, 0, "bad hrg");
			goto cleanup;
		}
		struct trim_row *nt = yoc_realloc(t->trim, (t->ntrim + 1) * sizeof *nt);
		if (!nt) {
			rc = yoc_error_set(e, YOC_ENOMEM, path, row.line, 0, "out of memory");
			goto cleanup;
		}
		t->trim = nt;
		int isnew = 0;
		if ((rc = yoc_map_put(&t->trims, key, (size_t)kn, t->ntrim, &isnew)) != 0) {
			yoc_error_set(e, rc, path, row.line, 0, "out of memory");
			goto cleanup;
		}
		if (!isnew) {
			rc = yoc_error_set(e, YOC_EPARSE, path, row.line, 0,
					   "duplicate hrg and admission");
			goto cleanup;
		}
		t->trim[t->ntrim++] = tr;
	}
	rc = YOC_OK;
cleanup:
	yoc_csv_close(r);
	return rc;
}

int yoc_tariff_load_dir(yoc_tariff **out, const char *dir, struct yoc_error *e)
{
	char p[4096];
	yoc_tariff *t = NULL;
	*out = NULL;
	if (snprintf(p, sizeof p, "%s/apc_trim_points.csv", dir) >= (int)sizeof p)
		return yoc_error_set(e, YOC_EINVAL, dir, 0, 0, "path too long");
	snprintf(p, sizeof p, "%s/ncc_2023_24.csv", dir);
	int rc = yoc_tariff_load(&t, p, e);
	if (rc)
		return rc;
	snprintf(p, sizeof p, "%s/unit_costs.csv", dir);
	if ((rc = yoc_tariff_load_units(t, p, e)) != 0) {
		yoc_tariff_free(t);
		return rc;
	}
	snprintf(p, sizeof p, "%s/apc_trim_points.csv", dir);
	if ((rc = yoc_tariff_load_trims(t, p, e)) != 0) {
		yoc_tariff_free(t);
		return rc;
	}
	*out = t;
	return YOC_OK;
}

int yoc_tariff_trim(const yoc_tariff *t, int nonelective, const char *hrg, size_t n,
		    int32_t *days, int64_t *per_day)
{
	char key[64];
	trim(&hrg, &n);
	/* the HRG, its chapter (two characters), any HRG */
	size_t lens[3] = {n, n > 2 ? 2 : 0, 1};
	for (int i = 0; i < 3; i++) {
		if (lens[i] == 0 || (i < 2 && lens[i] > sizeof key - 2))
			continue;
		int kn = trim_key(key, sizeof key, nonelective, i == 2 ? "*" : hrg, lens[i]);
		if (kn < 0)
			continue;
		const uint64_t *v = yoc_map_get(&t->trims, key, (size_t)kn);
		if (v) {
			*days = t->trim[*v].days;
			*per_day = t->trim[*v].per_day;
			return YOC_OK;
		}
	}
	return YOC_ENOTFOUND;
}

const char *yoc_tariff_trims_version(const yoc_tariff *t)
{
	return t->trim_version;
}

void yoc_tariff_free(yoc_tariff *t)
{
	if (!t)
		return;
	yoc_map_free(&t->prices);
	yoc_map_free(&t->trims);
	yoc_free(t->trim);
	yoc_free(t->units);
	yoc_free(t);
}

size_t yoc_tariff_rows(const yoc_tariff *t)
{
	return t->nrows;
}

int yoc_tariff_price_service(const yoc_tariff *t, const char *service, size_t sn,
			     const char *code, size_t n, int64_t *pence)
{
	char key[256];
	int kn = key_of(key, sizeof key, service, sn, code, n);
	if (kn < 0)
		return YOC_ENOTFOUND;
	const uint64_t *v = yoc_map_get(&t->prices, key, (size_t)kn);
	if (!v)
		return YOC_ENOTFOUND;
	*pence = (int64_t)*v;
	return YOC_OK;
}

int yoc_tariff_price(const yoc_tariff *t, int pod, const char *code, size_t n,
		     int64_t *pence)
{
	if (pod < 0 || pod >= YOC_POD_COUNT)
		return YOC_ENOTFOUND;
	return yoc_tariff_price_service(t, services[pod], strlen(services[pod]), code, n,
					pence);
}

int yoc_tariff_average(const yoc_tariff *t, int pod, int64_t *pence)
{
	if (pod < 0 || pod >= YOC_POD_COUNT || t->activity[pod] <= 0)
		return YOC_ENOTFOUND;
	/* pence = cost_e6 * 100 / 1e6 / activity = cost_e6 / (1e4 * activity) */
	__int128 den = (__int128)10000 * t->activity[pod];
	__int128 q = t->cost_e6[pod] / den, rem = t->cost_e6[pod] % den;
	if (rem * 2 >= den)
		q++;
	*pence = (int64_t)q;
	return YOC_OK;
}

int yoc_tariff_unit(const yoc_tariff *t, const char *code, size_t n, int64_t *pence,
		    const char **unit)
{
	trim(&code, &n);
	for (size_t i = 0; i < t->nunits; i++)
		if (strlen(t->units[i].code) == n && memcmp(t->units[i].code, code, n) == 0) {
			*pence = t->units[i].pence;
			if (unit)
				*unit = t->units[i].unit;
			return YOC_OK;
		}
	return YOC_ENOTFOUND;
}

static int upper_is(struct yoc_cell c, const char *s)
{
	size_t n = strlen(s);
	if (c.n != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char a = c.p[i];
		if (a >= 'a' && a <= 'z')
			a = (char)(a - 32);
		if (a != s[i])
			return 0;
	}
	return 1;
}

int yoc_price_social_units(const yoc_tariff *t, struct yoc_cell service_type,
			   struct yoc_cell unit_type, int64_t units, int64_t *pence)
{
	int64_t per;
	const char *unit = NULL;
	*pence = 0;
	/* a missing count is negative (the store's YOC_INT_NONE is INT64_MIN) */
	if (units < 0 || yoc_tariff_unit(t, service_type.p, service_type.n, &per, &unit) != 0)
		return YOC_UNPRICED;
	if ((strcmp(unit, "hour") == 0 && upper_is(unit_type, "HOURS")) ||
	    (strcmp(unit, "day") == 0 && upper_is(unit_type, "DAYS")) ||
	    (strcmp(unit, "week") == 0 && upper_is(unit_type, "WEEKS")))
		*pence = units * per;
	else if (strcmp(unit, "week") == 0 && upper_is(unit_type, "DAYS"))
		*pence = (units * per * 2 + 7) / 14;
	else
		return YOC_UNPRICED;
	return YOC_PRICED;
}

/*
** The pricing rules: which point of delivery a row belongs to and what it
** costs. Every function here is a pure function of one row's fields and the
** read-only tariff; docs/costing.md is the prose form. Must not allocate,
** print or keep state.
*/
#include <string.h>

#include "cost/cost.h"

static int eq(const char *s, size_t n, const char *z)
{
	return strlen(z) == n && memcmp(s, z, n) == 0;
}

static void trim(const char **p, size_t *n)
{
	while (*n && **p == ' ') {
		(*p)++;
		(*n)--;
	}
	while (*n && (*p)[*n - 1] == ' ')
		(*n)--;
}

int yoc_admimeth_emergency(const char *s, size_t n)
{
	trim(&s, &n);
	if (n != 2 || s[0] != '2')
		return 0;
	return (s[1] >= '1' && s[1] <= '5') || s[1] == '8' || (s[1] >= 'A' && s[1] <= 'D');
}

int yoc_admimeth_elective(const char *s, size_t n)
{
	trim(&s, &n);
	return n == 2 && s[0] == '1' && s[1] >= '1' && s[1] <= '3';
}

int yoc_pod_apc(const char *classpat, size_t cn, const char *admimeth, size_t an,
		int32_t epistart, int32_t epiend)
{
	trim(&classpat, &cn);
	if (eq(classpat, cn, "2"))
		return YOC_POD_DAYCASE;
	if (yoc_admimeth_elective(admimeth, an))
		return YOC_POD_ELECTIVE;
	return (int64_t)epiend - epistart <= 1 ? YOC_POD_NEL_SHORT : YOC_POD_NEL_LONG;
}

int yoc_attended(const char *s, size_t n)
{
	trim(&s, &n);
	return eq(s, n, "5") || eq(s, n, "6");
}

int yoc_pod_op(const char *hrg, size_t n)
{
	trim(&hrg, &n);
	return n >= 2 && hrg[0] == 'W' && hrg[1] == 'F' ? YOC_POD_OP_CONSULTANT
							: YOC_POD_OP_PROCEDURE;
}

int yoc_pod_mh(const char *code, size_t n)
{
	trim(&code, &n);
	if (eq(code, n, "MHCC"))
		return YOC_POD_MH_CONTACT;
	if (eq(code, n, "IAPT"))
		return YOC_POD_TALKING;
	if (eq(code, n, "MHPS"))
		return YOC_POD_MH_BEDDAY;
	return -1;
}

const char *yoc_price_how_str(int how)
{
	switch (how) {
	case YOC_PRICED: return "priced";
	case YOC_PRICED_AVERAGE: return "priced_at_average";
	case YOC_PRICED_ZERO: return "not_chargeable";
	case YOC_UNPRICED: return "unpriced";
	}
	return "unknown";
}

/* Tariff price of code under pod, else the pod's average. */
static int lookup(const yoc_tariff *t, int pod, struct yoc_cell code, int64_t *pence)
{
	if (yoc_tariff_price(t, pod, code.p, code.n, pence) == 0)
		return YOC_PRICED;
	if (yoc_tariff_average(t, pod, pence) == 0)
		return YOC_PRICED_AVERAGE;
	*pence = 0;
	return YOC_UNPRICED;
}

int yoc_price_apc(const yoc_tariff *t, struct yoc_cell classpat, struct yoc_cell admimeth,
		  int32_t epistart, int32_t epiend, struct yoc_cell sushrg,
		  int64_t *pence, int *pod)
{
	int p = yoc_pod_apc(classpat.p, classpat.n, admimeth.p, admimeth.n, epistart, epiend);
	if (pod)
		*pod = p;
	return lookup(t, p, sushrg, pence);
}

int yoc_price_op(const yoc_tariff *t, struct yoc_cell attended, struct yoc_cell sushrg,
		 int64_t *pence, int *pod)
{
	int p = yoc_pod_op(sushrg.p, sushrg.n);
	if (pod)
		*pod = p;
	if (!yoc_attended(attended.p, attended.n)) {
		*pence = 0;
		return YOC_PRICED_ZERO;
	}
	return lookup(t, p, sushrg, pence);
}

int yoc_price_ae(const yoc_tariff *t, struct yoc_cell sushrg, int64_t *pence)
{
	return lookup(t, YOC_POD_EMERGENCY, sushrg, pence);
}

int yoc_price_community(const yoc_tariff *t, struct yoc_cell attended,
			struct yoc_cell currency, int64_t *pence)
{
	if (!yoc_attended(attended.p, attended.n)) {
		*pence = 0;
		return YOC_PRICED_ZERO;
	}
	return lookup(t, YOC_POD_COMMUNITY, currency, pence);
}

int yoc_price_mh(const yoc_tariff *t, struct yoc_cell currency, struct yoc_cell attended,
		 int64_t bed_days, int64_t *pence, int *pod)
{
	int p = yoc_pod_mh(currency.p, currency.n);
	if (pod)
		*pod = p;
	*pence = 0;
	if (p < 0)
		return YOC_UNPRICED;
	if (p == YOC_POD_MH_BEDDAY) {
		int64_t unit;
		int how = lookup(t, p, currency, &unit);
		*pence = unit * (bed_days > 0 ? bed_days : 0);
		return how;
	}
	if (!yoc_attended(attended.p, attended.n))
		return YOC_PRICED_ZERO;
	return lookup(t, p, currency, pence);
}

int yoc_price_ambulance(const yoc_tariff *t, struct yoc_cell currency, int64_t *pence)
{
	return lookup(t, YOC_POD_AMBULANCE, currency, pence);
}

int yoc_price_gp(const yoc_tariff *t, struct yoc_cell hcp_type, struct yoc_cell status,
		 int64_t duration_min, int64_t *pence)
{
	*pence = 0;
	const char *s = status.p;
	size_t n = status.n;
	trim(&s, &n);
	if (!eq(s, n, "Attended"))
		return YOC_PRICED_ZERO;
	int64_t per;
	const char *unit = NULL;
	if (yoc_tariff_unit(t, hcp_type.p, hcp_type.n, &per, &unit) != 0 ||
	    strcmp(unit, "minute") != 0 || duration_min < 0)
		return YOC_UNPRICED;
	*pence = per * duration_min;
	return YOC_PRICED;
}

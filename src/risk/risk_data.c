/*
** Risk features: reads the feature list file and builds the design matrix of
** one year from person_year (with the previous year for past emergency
** admissions and the next year for the outcome). Reads the catalog only.
*/
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "risk/risk.h"
#include "yoc/date.h"

int yoc_risk_features_read(const char *path, struct yoc_risk_featlist *fl,
			   struct yoc_error *e)
{
	memset(fl, 0, sizeof *fl);
	FILE *f = fopen(path, "r");
	if (!f)
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
	char line[256];
	long ln = 0;
	int rc = 0;
	while (fgets(line, sizeof line, f)) {
		ln++;
		char *s = line;
		while (isspace((unsigned char)*s))
			s++;
		size_t k = strlen(s);
		while (k && isspace((unsigned char)s[k - 1]))
			s[--k] = 0;
		if (*s == '#') {
			const char *v = strstr(s, "version:");
			if (v && !fl->version[0]) {
				v += 8;
				while (*v == ' ')
					v++;
				snprintf(fl->version, sizeof fl->version, "%s", v);
			}
			continue;
		}
		if (!*s)
			continue;
		if (k >= sizeof fl->name[0] || fl->n >= YOC_RISK_MAXFEAT) {
			rc = yoc_error_set(e, YOC_EPARSE, path, ln, 1,
					   "feature name too long or too many features");
			break;
		}
		memcpy(fl->name[fl->n++], s, k + 1);
	}
	fclose(f);
	if (!rc && fl->n == 0)
		rc = yoc_error_set(e, YOC_EPARSE, path, 0, 0, "no feature names");
	return rc;
}

int yoc_risk_years(sqlite3 *db, int *years, int cap, int *n, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT fyear FROM person_year ORDER BY fyear", -1,
			       &st, NULL) != SQLITE_OK)
		return yoc_error_set(e, YOC_ENOTFOUND, "yoc.db", 0, 0,
				     "no person_year table: run yoc analyse first (%s)",
				     sqlite3_errmsg(db));
	int rc = 0;
	while (sqlite3_step(st) == SQLITE_ROW && *n < cap) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		int fy;
		if (!t || yoc_fyear_parse(t, strlen(t), &fy)) {
			rc = yoc_error_set(e, YOC_EDATA, "yoc.db", 0, 0, "person_year: bad fyear");
			break;
		}
		years[(*n)++] = fy;
	}
	sqlite3_finalize(st);
	return rc;
}

/* What one term computes from a row. */
enum kind { K_AGE, K_FEMALE, K_IMD, K_IMD_MISS, K_LTC, K_LTC_COUNT, K_EA, K_LOG_EBD,
	    K_LOG_COST, K_PREV_EA, K_PREV_MISS };

struct term {
	enum kind k;
	int arg;        /* age band, condition column, cost setting */
};

static const char *const settings[] = {"elective", "nonelective", "daycase", "outpatient",
				       "ae", "community", "mh", "gp", "social_care",
				       "ambulance"};
#define NSET 10
static const int age_lo[] = {0, 18, 65, 75, 85};
static const int age_hi[] = {17, 44, 74, 84, 999};
static const char *const age_name[] = {"age_0_17", "age_18_44", "age_65_74", "age_75_84",
				       "age_85plus"};

/* Fixed result columns of the query (conditions follow). */
enum { C_ID, C_AGE, C_SEX, C_IMD, C_LTC, C_EA, C_EBD, C_DIED, C_COST, C_PREV, C_HASNEXT,
       C_NEXT_EA, C_NEXT_DIED, C_SET0, C_COND0 = C_SET0 + NSET };

void yoc_risk_data_free(struct yoc_risk_data *d)
{
	if (!d)
		return;
	for (int j = 0; d->terms && j < d->p; j++)
		yoc_free(d->terms[j]);
	for (size_t i = 0; d->ids && i < d->n; i++)
		yoc_free(d->ids[i]);
	yoc_free(d->terms);
	yoc_free(d->ids);
	yoc_free(d->X);
	yoc_free(d->y);
	yoc_free(d->cost_total);
	yoc_free(d->ltc_count);
	memset(d, 0, sizeof *d);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int yoc_risk_data_build(sqlite3 *db, int fyear, const struct yoc_risk_featlist *fl,
			int with_outcome, double imd_median, struct yoc_risk_data *d,
			struct yoc_error *e)
{
	memset(d, 0, sizeof *d);
	int rc = 0;
	sqlite3_stmt *st = NULL;
	char (*cond)[64] = NULL;
	int ncond = 0;
	struct term *tv = NULL;
	struct yoc_buf sql, bad;
	yoc_buf_init(&sql, 1 << 20);
	yoc_buf_init(&bad, 4096);
	double *imdv = NULL;

	/* condition columns: between imd_decile and ltc_count (docs/analysis.md) */
	if (sqlite3_prepare_v2(db, "PRAGMA table_info(person_year)", -1, &st, NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
		goto cleanup;
	}
	cond = yoc_calloc(256, sizeof *cond);
	if (!cond) {
		rc = YOC_ENOMEM;
		goto cleanup;
	}
	int in = 0, seen = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(st, 1);
		seen = 1;
		if (!c)
			continue;
		if (strcmp(c, "ltc_count") == 0)
			in = 0;
		if (in && ncond < 256 && strlen(c) < 64 && !strchr(c, '"'))
			snprintf(cond[ncond++], 64, "%s", c);
		if (strcmp(c, "imd_decile") == 0)
			in = 1;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!seen) {
		rc = yoc_error_set(e, YOC_ENOTFOUND, "yoc.db", 0, 0,
				   "no person_year table: run yoc analyse first");
		goto cleanup;
	}

	/* terms from the feature names */
	int maxt = fl->n * 8 + ncond + 8, nt = 0;
	tv = yoc_calloc((size_t)maxt, sizeof *tv);
	d->terms = yoc_calloc((size_t)maxt + 1, sizeof *d->terms);
	if (!tv || !d->terms) {
		rc = YOC_ENOMEM;
		goto cleanup;
	}
	d->terms[0] = yoc_strdup("(Intercept)");
	d->p = 1;
	if (!d->terms[0]) {
		rc = YOC_ENOMEM;
		goto cleanup;
	}
#define ADD(kind, a, nm)                                                                   \
	do {                                                                               \
		tv[nt].k = (kind);                                                         \
		tv[nt].arg = (a);                                                          \
		nt++;                                                                      \
		if (!(d->terms[d->p++] = yoc_strdup(nm))) {                                \
			rc = YOC_ENOMEM;                                                   \
			goto cleanup;                                                      \
		}                                                                          \
	} while (0)
	for (int f = 0; f < fl->n; f++) {
		const char *nm = fl->name[f];
		int found = 1;
		if (nt + ncond + 8 > maxt)
			break;
		if (strcmp(nm, "age_bands") == 0) {
			for (int b = 0; b < 5; b++)
				ADD(K_AGE, b, age_name[b]);
		} else if (strcmp(nm, "female") == 0) {
			ADD(K_FEMALE, 0, nm);
		} else if (strcmp(nm, "imd_decile") == 0) {
			ADD(K_IMD, 0, nm);
		} else if (strcmp(nm, "imd_missing") == 0) {
			ADD(K_IMD_MISS, 0, nm);
		} else if (strcmp(nm, "ltc_flags") == 0) {
			for (int c = 0; c < ncond; c++)
				ADD(K_LTC, c, cond[c]);
		} else if (strcmp(nm, "ltc_count") == 0) {
			ADD(K_LTC_COUNT, 0, nm);
		} else if (strcmp(nm, "emergency_admissions") == 0) {
			ADD(K_EA, 0, nm);
		} else if (strcmp(nm, "log_emergency_bed_days") == 0) {
			ADD(K_LOG_EBD, 0, nm);
		} else if (strcmp(nm, "prev_emergency_admissions") == 0) {
			ADD(K_PREV_EA, 0, nm);
		} else if (strcmp(nm, "prev_missing") == 0) {
			ADD(K_PREV_MISS, 0, nm);
		} else {
			found = 0;
			for (int s = 0; s < NSET; s++)
				if (strncmp(nm, "log_cost_", 9) == 0 && strcmp(nm + 9, settings[s]) == 0) {
					ADD(K_LOG_COST, s, nm);
					found = 1;
				}
			for (int c = 0; c < ncond && !found; c++)
				if (strcmp(nm, cond[c]) == 0) {
					ADD(K_LTC, c, nm);
					found = 1;
				}
		}
		if (!found && yoc_buf_printf(&bad, "%s%s", bad.len ? ", " : "", nm)) {
			rc = YOC_ENOMEM;
			goto cleanup;
		}
	}
#undef ADD
	if (bad.len) {
		rc = yoc_error_set(e, YOC_EINVAL, "risk features", 0, 0,
				   "unknown feature name(s): %s (see docs/risk.md)", bad.data);
		goto cleanup;
	}
	for (int j = 1; j < d->p; j++)
		for (int k = 1; k < j; k++)
			if (strcmp(d->terms[j], d->terms[k]) == 0) {
				rc = yoc_error_set(e, YOC_EINVAL, "risk features", 0, 0,
						   "feature term '%s' listed twice", d->terms[j]);
				goto cleanup;
			}

	/* the query */
	char fy0[8], fyp[8], fyn[8];
	yoc_fyear_format(fyear, fy0);
	yoc_fyear_format(fyear - 1, fyp);
	yoc_fyear_format(fyear + 1, fyn);
	int brc = yoc_buf_printf(&sql,
		       "SELECT a.pseudo_id, a.age, a.sex, a.imd_decile, a.ltc_count, "
		       "a.emergency_admissions, a.emergency_bed_days, a.died, a.cost_total, "
		       "p.emergency_admissions, n.pseudo_id IS NOT NULL, n.emergency_admissions, "
		       "n.died");
	for (int s = 0; s < NSET; s++)
		brc |= yoc_buf_printf(&sql, ", a.cost_%s", settings[s]);
	for (int c = 0; c < ncond; c++)
		brc |= yoc_buf_printf(&sql, ", a.\"%s\"", cond[c]);
	if (brc || yoc_buf_printf(&sql, " FROM person_year a"
			   " LEFT JOIN person_year p ON p.fyear = '%s' AND p.pseudo_id = a.pseudo_id"
			   " LEFT JOIN person_year n ON n.fyear = '%s' AND n.pseudo_id = a.pseudo_id"
			   " WHERE a.fyear = '%s' ORDER BY a.pseudo_id", fyp, fyn, fy0)) {
		rc = YOC_ENOMEM;
		goto cleanup;
	}
	sqlite3_int64 cnt = 0;
	{
		char q[128];
		snprintf(q, sizeof q, "SELECT count(*) FROM person_year WHERE fyear = '%s'", fy0);
		if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_ROW) {
			rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
			goto cleanup;
		}
		cnt = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		st = NULL;
	}
	if (cnt == 0) {
		rc = yoc_error_set(e, YOC_ENOTFOUND, "person_year", 0, 0,
				   "no person-years in %s", fy0);
		goto cleanup;
	}
	size_t cap = (size_t)cnt, p = (size_t)d->p;
	d->X = yoc_calloc(cap * p, sizeof *d->X);
	d->ids = yoc_calloc(cap, sizeof *d->ids);
	d->cost_total = yoc_calloc(cap, sizeof(double));
	d->ltc_count = yoc_calloc(cap, sizeof(double));
	imdv = yoc_calloc(cap, sizeof(double));
	if (with_outcome)
		d->y = yoc_calloc(cap, sizeof(double));
	if (!d->X || !d->ids || !d->cost_total || !d->ltc_count || !imdv ||
	    (with_outcome && !d->y)) {
		rc = YOC_ENOMEM;
		goto cleanup;
	}
	if (sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
		goto cleanup;
	}
	size_t nimd = 0;
	int s_rc;
	while ((s_rc = sqlite3_step(st)) == SQLITE_ROW && d->n < cap) {
		d->n_year++;
		if (with_outcome) {
			if (sqlite3_column_int(st, C_DIED)) {
				d->n_died++;
				continue;
			}
			if (!sqlite3_column_int(st, C_HASNEXT)) {
				d->n_lost++;
				continue;
			}
			d->y[d->n] = (sqlite3_column_int64(st, C_NEXT_EA) > 0 ||
				      sqlite3_column_int(st, C_NEXT_DIED)) ? 1.0 : 0.0;
		}
		size_t i = d->n;
		double *x = d->X + i * p;
		const char *id = (const char *)sqlite3_column_text(st, C_ID);
		if (!(d->ids[i] = yoc_strdup(id ? id : ""))) {
			rc = YOC_ENOMEM;
			goto cleanup;
		}
		d->n++;
		int age_null = sqlite3_column_type(st, C_AGE) == SQLITE_NULL;
		int age = sqlite3_column_int(st, C_AGE);
		const char *sex = (const char *)sqlite3_column_text(st, C_SEX);
		int imd_null = sqlite3_column_type(st, C_IMD) == SQLITE_NULL;
		double imd = sqlite3_column_double(st, C_IMD);
		int prev_null = sqlite3_column_type(st, C_PREV) == SQLITE_NULL;
		double ea = (double)sqlite3_column_int64(st, C_EA);
		imdv[i] = imd_null ? NAN : imd;
		if (!imd_null)
			nimd++;
		d->cost_total[i] = (double)sqlite3_column_int64(st, C_COST) / 100.0;
		d->ltc_count[i] = (double)sqlite3_column_int64(st, C_LTC);
		x[0] = 1.0;
		for (int t = 0; t < nt; t++) {
			double v = 0;
			switch (tv[t].k) {
			case K_AGE:
				v = !age_null && age >= age_lo[tv[t].arg] && age <= age_hi[tv[t].arg];
				break;
			case K_FEMALE:
				v = sex && (strcmp(sex, "2") == 0 || strcmp(sex, "F") == 0);
				break;
			case K_IMD:
				v = imd_null ? NAN : imd; /* the median is filled in below */
				break;
			case K_IMD_MISS:
				v = imd_null;
				break;
			case K_LTC:
				v = sqlite3_column_int(st, C_COND0 + tv[t].arg) != 0;
				break;
			case K_LTC_COUNT:
				v = d->ltc_count[i];
				break;
			case K_EA:
				v = ea > 5 ? 5 : ea;
				break;
			case K_LOG_EBD:
				v = log1p((double)sqlite3_column_int64(st, C_EBD));
				break;
			case K_LOG_COST: {
				double pounds = (double)sqlite3_column_int64(st, C_SET0 + tv[t].arg) / 100.0;
				v = log1p(pounds > 0 ? pounds : 0);
				break;
			}
			case K_PREV_EA: {
				double pe = prev_null ? 0 : (double)sqlite3_column_int64(st, C_PREV);
				v = pe > 5 ? 5 : pe;
				break;
			}
			case K_PREV_MISS:
				v = prev_null;
				break;
			}
			x[1 + t] = v;
		}
	}
	if (s_rc != SQLITE_DONE && s_rc != SQLITE_ROW) {
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
		goto cleanup;
	}
	if (isnan(imd_median)) {
		double *tmp = yoc_malloc((nimd ? nimd : 1) * sizeof *tmp);
		if (!tmp) {
			rc = YOC_ENOMEM;
			goto cleanup;
		}
		size_t k = 0;
		for (size_t i = 0; i < d->n; i++)
			if (!isnan(imdv[i]))
				tmp[k++] = imdv[i];
		qsort(tmp, k, sizeof *tmp, cmp_double);
		imd_median = k == 0 ? 5.5 : (k % 2 ? tmp[k / 2] : (tmp[k / 2 - 1] + tmp[k / 2]) / 2);
		yoc_free(tmp);
	}
	d->imd_median = imd_median;
	for (int t = 0; t < nt; t++)
		if (tv[t].k == K_IMD)
			for (size_t i = 0; i < d->n; i++)
				if (isnan(d->X[i * p + 1 + (size_t)t]))
					d->X[i * p + 1 + (size_t)t] = imd_median;
cleanup:
	sqlite3_finalize(st);
	yoc_free(cond);
	yoc_free(tv);
	yoc_free(imdv);
	yoc_buf_free(&sql);
	yoc_buf_free(&bad);
	if (rc == YOC_ENOMEM)
		yoc_error_set(e, rc, "risk", 0, 0, "out of memory");
	return rc;
}

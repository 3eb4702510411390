/*
** The world every person lives in: the calendar of the run, the small areas
** (LSOAs) with their deprivation deciles, GP practices, providers, the NHS
** number permutation, the table of feed files and the data/ tables. Built
** once from the seed before the person loop; read-only during it (except
** the file buffers and counters). Must not print.
*/
#include <stdio.h>
#include <stdlib.h>

#include "synth/synth_int.h"
#include "yoc/nhsno.h"

/* Check digit of a 9-digit prefix given as a number; 10 means unusable. */
static int check_of(uint32_t prefix)
{
	char d[10];
	for (int i = 8; i >= 0; i--) {
		d[i] = (char)('0' + prefix % 10);
		prefix /= 10;
	}
	d[9] = 0;
	return yoc_nhsno_check_digit(d);
}

/* Valid 9-digit prefixes in [lo, hi], in order. */
static int valid_prefixes(uint32_t lo, uint32_t hi, uint32_t **out, uint32_t *n)
{
	uint32_t cap = hi - lo + 1, k = 0;
	uint32_t *a = yoc_malloc((size_t)cap * sizeof *a);
	if (!a)
		return YOC_ENOMEM;
	for (uint32_t p = lo; p <= hi; p++)
		if (check_of(p) != 10)
			a[k++] = p;
	*out = a;
	*n = k;
	return YOC_OK;
}

uint64_t yoc_synth_nhs_capacity(void)
{
	uint64_t k = 0;
	for (uint32_t p = 999000000u; p <= 999999999u; p++)
		k += check_of(p) != 10;
	return k;
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* Multiplier and offset of an affine permutation of [0, n). */
static void perm_params(struct rng *r, uint64_t n, uint64_t *a, uint64_t *b)
{
	if (n < 2) {
		*a = 1;
		*b = 0;
		return;
	}
	uint64_t x = n / 3 + rng_u64(r) % (n / 2 + 1);
	while (gcd64(x, n) != 1)
		x++;
	*a = x % n ? x % n : 1;
	*b = rng_u64(r) % n;
}

static uint32_t clampu(double v, uint32_t lo, uint32_t hi)
{
	long x = lround(v);
	if (x < (long)lo)
		return lo;
	if (x > (long)hi)
		return hi;
	return (uint32_t)x;
}

static int set_code(char (**codes)[8], uint32_t n, const char *prefix)
{
	*codes = yoc_calloc(n, sizeof **codes);
	if (!*codes)
		return YOC_ENOMEM;
	size_t pn = strlen(prefix);
	for (uint32_t i = 0; i < n; i++) {
		/* n <= 9: one digit after the prefix ("RA1") */
		memcpy((*codes)[i], prefix, pn < 6 ? pn : 6);
		(*codes)[i][pn < 6 ? pn : 6] = (char)('1' + i % 9);
	}
	return YOC_OK;
}

static int cmp_double_idx(const void *a, const void *b)
{
	const double *x = a, *y = b;
	return (x[0] > y[0]) - (x[0] < y[0]);
}

static int build_geography(struct world *w, struct rng *r)
{
	uint32_t n = w->nlsoa;
	w->lsoa_decile = yoc_malloc(n);
	w->lsoa_cum = yoc_malloc(n * sizeof(double));
	w->lsoa_prac = yoc_malloc(n * sizeof(uint16_t));
	double *field = yoc_malloc(2 * n * sizeof(double));
	if (!w->lsoa_decile || !w->lsoa_cum || !w->lsoa_prac || !field) {
		yoc_free(field);
		return YOC_ENOMEM;
	}
	/* A smooth random field along the area, so deprived areas sit together. */
	double ph1 = rng_unif(r) * 6.283, ph2 = rng_unif(r) * 6.283, sum = 0;
	double f1 = 1.0 + rng_unif(r) * 2.0, f2 = 3.0 + rng_unif(r) * 4.0;
	for (uint32_t j = 0; j < n; j++) {
		double x = (double)j / n * 6.283;
		field[2 * j] = sin(f1 * x + ph1) + 0.5 * sin(f2 * x + ph2) + 0.6 * rng_normal(r);
		field[2 * j + 1] = j;
		double wt = exp(0.3 * rng_normal(r));
		sum += wt;
		w->lsoa_cum[j] = sum;
		w->lsoa_prac[j] = (uint16_t)((j * (uint64_t)w->nprac + w->nprac / 2) / n);
		if (w->lsoa_prac[j] >= w->nprac)
			w->lsoa_prac[j] = (uint16_t)(w->nprac - 1);
	}
	for (uint32_t j = 0; j < n; j++)
		w->lsoa_cum[j] /= sum;
	/* Deciles by rank of the field: each decile holds a tenth of the areas. */
	qsort(field, n, 2 * sizeof(double), cmp_double_idx);
	for (uint32_t k = 0; k < n; k++)
		w->lsoa_decile[(uint32_t)field[2 * k + 1]] = (uint8_t)(1 + (k * 10) / n);
	yoc_free(field);
	return YOC_OK;
}

static int build_files(struct world *w)
{
	size_t total = 0;
	for (int k = 0; k < K_COUNT; k++) {
		w->nper[k] = synth_kinds[k].yearly ? (uint32_t)w->years : (uint32_t)w->nmonths;
		w->fbase[k] = total;
		total += (size_t)w->nprov[k] * w->nper[k];
	}
	w->files = yoc_calloc(total, sizeof *w->files);
	if (!w->files)
		return YOC_ENOMEM;
	w->nfiles = total;
	for (int k = 0; k < K_COUNT; k++)
		for (uint32_t p = 0; p < w->nprov[k]; p++)
			for (uint32_t t = 0; t < w->nper[k]; t++) {
				struct sfile *f = &w->files[w->fbase[k] + (size_t)p * w->nper[k] + t];
				f->kind = (uint8_t)k;
				f->prov = (uint16_t)p;
				f->per = (uint16_t)t;
				f->last_clean = 1;
				f->last_odef = OD_COUNT;
			}
	return YOC_OK;
}

static int build_register_spec(struct world *w)
{
	static const struct colspec head[8] = {
		{"NEWNHSNO", CT_NHS, NULL}, {"DOB", CT_DATE, NULL}, {"SEX", CT_CODE, NULL},
		{"GPPRAC", CT_CODE, "P00000"}, {"REG_START", CT_DATE, NULL},
		{"REG_END", CT_DATE, NULL}, {"LSOA11", CT_CODE, NULL}, {"IMD_DECILE", CT_INT, NULL},
	};
	int n = 0;
	for (int i = 0; i < 8; i++)
		w->reg_spec[n++] = head[i];
	size_t nc = yoc_ltc_count(w->ltc);
	for (size_t i = 0; i < nc && n < 8 + NCOND; i++) {
		const struct yoc_ltc_cond *c = yoc_ltc_get(w->ltc, i);
		if (!c->flag[0])
			continue;
		snprintf(w->regcols[n - 8], sizeof w->regcols[0], "%s", c->flag);
		w->reg_spec[n].name = w->regcols[n - 8];
		w->reg_spec[n].type = CT_DATE;
		w->reg_spec[n].unknown = NULL;
		w->regcol_ltc[n] = (int)i;
		n++;
	}
	w->reg_ncols = n;
	return YOC_OK;
}

int synth_world_init(struct world *w, const struct yoc_synth_opts *o, struct yoc_error *e)
{
	int rc;
	char path[4096];
	struct rng r;
	memset(w, 0, sizeof *w);
	w->o = o;
	w->years = o->years;
	w->first_year = o->first_year;
	if (o->years < 1 || o->years > MAX_YEARS)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0, "--years must be 1 to %d", MAX_YEARS);
	if (o->first_year < 1990 || o->first_year > 2090)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0, "--first-year must be 1990 to 2090");
	if (o->persons < 1 || o->persons > 20000000)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0, "--persons must be 1 to 20000000");
	if (!(o->defect_rate >= 0 && o->defect_rate <= 50))
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0, "--defect-rate must be 0 to 50");
	w->defect_scale = o->defect_rate;
	w->nmonths = 12 * o->years;
	w->w0 = yoc_fyear_start(o->first_year);
	w->w1 = yoc_fyear_end(o->first_year + o->years - 1);
	w->extract_date = w->w1 + 91;
	for (int m = 0; m <= w->nmonths; m++) {
		int mm = 4 + m, yy = o->first_year + (mm - 1) / 12;
		mm = (mm - 1) % 12 + 1;
		w->mstart[m] = yoc_date_from_ymd(yy, mm, 1);
	}
	for (int y = 0; y <= o->years; y++)
		w->fstart[y] = yoc_fyear_start(o->first_year + y);

	/* Date text table. */
	w->ds0 = yoc_date_from_ymd(1900, 1, 1);
	w->nds = (uint32_t)(w->w1 + 800 - w->ds0);
	w->ds = yoc_malloc((size_t)w->nds * sizeof *w->ds);
	if (!w->ds)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	for (uint32_t i = 0; i < w->nds; i++) {
		char buf[11];
		yoc_date_format(w->ds0 + (int32_t)i, buf);
		memcpy(w->ds[i], buf, 10);
	}

	/* Month of each day, from three years before the window to a year after. */
	w->tab0 = yoc_fyear_start(o->first_year - 3);
	w->ntab = (uint32_t)(yoc_fyear_end(o->first_year + o->years) - w->tab0 + 1);
	w->tab_month = yoc_malloc((size_t)w->ntab * sizeof *w->tab_month);
	w->tab_ymd = yoc_malloc((size_t)w->ntab * sizeof *w->tab_ymd);
	if (!w->tab_month || !w->tab_ymd)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	for (uint32_t i = 0; i < w->ntab; i++) {
		int y, m, dd;
		yoc_date_to_ymd(w->tab0 + (int32_t)i, &y, &m, &dd);
		w->tab_month[i] = (int16_t)((y - o->first_year) * 12 + (m - 4));
		w->tab_ymd[i] = (uint32_t)y << 16 | (uint32_t)m << 8 | (uint32_t)dd;
	}

	/* Reference tables from data/. */
	if ((rc = yoc_tariff_load_dir(&w->tariff, o->data_dir, e)) != 0)
		return rc;
	snprintf(path, sizeof path, "%s/ltc_codelist.csv", o->data_dir);
	if ((rc = yoc_ltc_load(&w->ltc, path, e)) != 0)
		return rc;
	for (int c = 0; c < NCOND; c++) {
		w->cond_ltc[c] = yoc_ltc_by_id(w->ltc, synth_conds[c].id, strlen(synth_conds[c].id));
		if (w->cond_ltc[c] < 0)
			return yoc_error_set(e, YOC_EDATA, path, 0, 0,
					     "condition '%s' is not in the code list", synth_conds[c].id);
	}
	w->mental_mask = yoc_ltc_mental_mask(w->ltc);
	build_register_spec(w);

	/* Sizes. */
	w->nbase = o->persons;
	w->nbirth = (uint64_t)llround((double)o->persons * 0.0105 * o->years);
	w->nmover = (uint64_t)llround((double)o->persons * 0.05 * o->years);
	w->ntotal = w->nbase + w->nbirth + w->nmover;
	w->nlsoa = clampu((double)o->persons / 1500.0, 4, 60000);
	w->nprac = clampu((double)o->persons / 8000.0, 1, 9999);

	rng_seed(&r, o->seed, STREAM_WORLD, 0);
	if ((rc = build_geography(w, &r)) != 0)
		return yoc_error_set(e, rc, NULL, 0, 0, "out of memory");

	uint32_t nacute = clampu((double)o->persons / 250000.0, 2, 9);
	uint32_t ncomm = clampu((double)o->persons / 500000.0, 1, 9);
	uint32_t nmh = clampu((double)o->persons / 1000000.0, 1, 9);
	uint32_t nla = clampu((double)o->persons / 400000.0, 1, 9);
	uint32_t n[K_COUNT] = {
		[K_APC] = nacute, [K_OP] = nacute, [K_AE] = nacute, [K_COMMUNITY] = ncomm,
		[K_MH] = nmh, [K_GP_APPT] = w->nprac, [K_SOCIAL] = nla, [K_AMBULANCE] = 1,
		[K_DEATHS] = 1, [K_REGISTER] = w->nprac, [K_CAREPLAN] = w->nprac, [K_PAM] = w->nprac,
	};
	memcpy(w->nprov, n, sizeof n);
	if (set_code(&w->prov_code[K_APC], nacute, "RA") || set_code(&w->prov_code[K_OP], nacute, "RA") ||
	    set_code(&w->prov_code[K_AE], nacute, "RA") ||
	    set_code(&w->prov_code[K_COMMUNITY], ncomm, "RC") ||
	    set_code(&w->prov_code[K_MH], nmh, "RM") || set_code(&w->prov_code[K_SOCIAL], nla, "LA") ||
	    set_code(&w->prov_code[K_AMBULANCE], 1, "RY") ||
	    set_code(&w->prov_code[K_DEATHS], 1, "ONS"))
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	memcpy(w->prov_code[K_DEATHS][0], "ONS", 4);
	w->prac_code = yoc_calloc(w->nprac, sizeof *w->prac_code);
	if (!w->prac_code)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	for (uint32_t i = 0; i < w->nprac; i++) {
		uint32_t v = 90001 + i % 9999; /* "P90001" ... "P99999" */
		w->prac_code[i][0] = 'P';
		for (int k = 5; k >= 1; k--, v /= 10)
			w->prac_code[i][k] = (char)('0' + v % 10);
	}
	w->prov_code[K_GP_APPT] = w->prac_code;
	w->prov_code[K_REGISTER] = w->prac_code;
	w->prov_code[K_CAREPLAN] = w->prac_code;
	w->prov_code[K_PAM] = w->prac_code;

	/* Data quality differs by provider: a factor on every row defect rate
	 * (the outcome feeds take no draw: they have no row defects). */
	for (int k = 0; k < K_COUNT; k++) {
		w->prov_quality[k] = yoc_malloc(w->nprov[k] * sizeof(double));
		if (!w->prov_quality[k])
			return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		for (uint32_t i = 0; i < w->nprov[k] && k >= K_CAREPLAN; i++)
			w->prov_quality[k][i] = 1.0;
		for (uint32_t i = 0; i < w->nprov[k] && k < K_CAREPLAN; i++) {
			double q = exp(0.6 * rng_normal(&r));
			w->prov_quality[k][i] = q < 0.3 ? 0.3 : q > 3.0 ? 3.0 : q;
		}
	}

	/* NHS numbers from the 999 test range, then (beyond its capacity) 000-009. */
	if (valid_prefixes(999000000u, 999999999u, &w->nhs999, &w->n999))
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	perm_params(&r, w->n999, &w->perm_a, &w->perm_b);
	if (w->ntotal > w->n999) {
		if (valid_prefixes(0u, 9999999u, &w->nhs000, &w->n000))
			return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		perm_params(&r, w->n000, &w->perm2_a, &w->perm2_b);
	}

	/* Contract providers: acute (APC, OP, A&E), community, mental health, ambulance. */
	w->ncprov = nacute + ncomm + nmh + 1;
	w->cprov = yoc_calloc(w->ncprov, sizeof *w->cprov);
	w->priced = yoc_calloc((size_t)w->ncprov * w->years, sizeof(int64_t));
	if (!w->cprov || !w->priced)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	for (int k = 0; k < K_COUNT; k++)
		w->cbase[k] = UINT32_MAX;
	uint32_t ci = 0;
	w->cbase[K_APC] = w->cbase[K_OP] = w->cbase[K_AE] = ci;
	for (uint32_t i = 0; i < nacute; i++, ci++) {
		memcpy(w->cprov[ci].code, w->prov_code[K_APC][i], 8);
		w->cprov[ci].setting = "acute";
	}
	w->cbase[K_COMMUNITY] = ci;
	for (uint32_t i = 0; i < ncomm; i++, ci++) {
		memcpy(w->cprov[ci].code, w->prov_code[K_COMMUNITY][i], 8);
		w->cprov[ci].setting = "community";
	}
	w->cbase[K_MH] = ci;
	for (uint32_t i = 0; i < nmh; i++, ci++) {
		memcpy(w->cprov[ci].code, w->prov_code[K_MH][i], 8);
		w->cprov[ci].setting = "mental_health";
	}
	w->cbase[K_AMBULANCE] = ci;
	memcpy(w->cprov[ci].code, w->prov_code[K_AMBULANCE][0], 8);
	w->cprov[ci].setting = "ambulance";

	if ((rc = build_files(w)) != 0)
		return yoc_error_set(e, rc, NULL, 0, 0, "out of memory");
	for (int k = 0; k < K_COUNT; k++) {
		w->defect_cum[k] = yoc_calloc((size_t)w->nprov[k] * D_ROW_COUNT, sizeof(double));
		if (!w->defect_cum[k])
			return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	}
	w->budget = o->buffer_bytes ? o->buffer_bytes : (size_t)512 << 20;
	w->scratch = yoc_malloc(8192);
	if (!w->scratch)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	synth_defect_files(w);
	return YOC_OK;
}

void synth_world_free(struct world *w)
{
	yoc_free(w->lsoa_decile);
	yoc_free(w->lsoa_cum);
	yoc_free(w->lsoa_prac);
	for (int k = 0; k < K_COUNT; k++) {
		if (k != K_GP_APPT && k != K_REGISTER && k != K_CAREPLAN && k != K_PAM)
			yoc_free(w->prov_code[k]);
		yoc_free(w->prov_quality[k]);
		yoc_free(w->defect_cum[k]);
	}
	yoc_free(w->prac_code);
	yoc_free(w->pilot_prac);
	yoc_free(w->tcf);
	yoc_free(w->nhs999);
	yoc_free(w->nhs000);
	yoc_free(w->ds);
	yoc_free(w->tab_month);
	yoc_free(w->tab_ymd);
	yoc_tariff_free(w->tariff);
	yoc_ltc_free(w->ltc);
	if (w->files)
		for (size_t i = 0; i < w->nfiles; i++)
			for (struct chunk *c = w->files[i].head, *n; c; c = n) {
				n = c->next;
				yoc_free(c);
			}
	yoc_free(w->files);
	for (struct chunk *c = w->pool, *n; c; c = n) {
		n = c->next;
		yoc_free(c);
	}
	yoc_free(w->scratch);
	yoc_free(w->act);
	yoc_free(w->tbuf);
	yoc_free(w->cprov);
	yoc_free(w->priced);
	synth_outcome_free(w);
	memset(w, 0, sizeof *w);
}

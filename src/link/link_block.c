/*
** The register side of the linkage: the GP register (the local equivalent
** of a PDS trace) read into records, repeated records dropped, name term
** frequencies counted over the whole register (the reference population,
** not only the rows being linked), and one sorted index per blocking rule.
** Also which columns of a feed carry the identifiers.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ident/ident.h"
#include "link/link_int.h"
#include "yoc/date.h"
#include "yoc/io.h"
#include "yoc/nhsno.h"

const char *const link_rule_names[BR_COUNT] = {"dob", "postcode_sector+birth_year",
						"family_sound+birth_month", "family_sound+birthday",
						"given_sound+birth_month+sex", "given_sound+family_sound"};
#define FB(f) (1u << (f))
const unsigned link_rule_fields[BR_COUNT] = {
	FB(YOC_LF_DOB), FB(YOC_LF_POSTCODE) | FB(YOC_LF_DOB), FB(YOC_LF_FAMILY) | FB(YOC_LF_DOB),
	FB(YOC_LF_FAMILY) | FB(YOC_LF_DOB), FB(YOC_LF_GIVEN) | FB(YOC_LF_DOB) | FB(YOC_LF_SEX),
	FB(YOC_LF_GIVEN) | FB(YOC_LF_FAMILY)};

static int has(const char *s, const char *w)
{
	return strstr(s, w) != NULL;
}

void link_find_cols(const struct yoc_cell *h, size_t n, struct link_cols *c)
{
	c->nhs = c->dob = c->sex = c->given = c->family = c->postcode = -1;
	for (size_t i = 0; i < n; i++) {
		char nm[YOC_IDENT_MAX_NAME + 1];
		yoc_ident_norm(h[i].p, h[i].n, nm, sizeof nm);
		int cls = yoc_ident_name_class(h[i].p, h[i].n);
		int k = (int)i;
		if (cls == YOC_IDC_NHSNO && c->nhs < 0)
			c->nhs = k;
		else if (cls == YOC_IDC_DOB && c->dob < 0)
			c->dob = k;
		else if ((!strcmp(nm, "SEX") || !strcmp(nm, "GENDER")) && c->sex < 0)
			c->sex = k;
		else if (cls == YOC_IDC_NAME && c->given < 0 &&
			 (has(nm, "GIVEN") || has(nm, "FORENAME") || has(nm, "FIRST")))
			c->given = k;
		else if (cls == YOC_IDC_NAME && c->family < 0 &&
			 (has(nm, "FAMILY") || has(nm, "SURNAME") || has(nm, "LAST")))
			c->family = k;
		else if (cls == YOC_IDC_ADDRESS && c->postcode < 0 && has(nm, "POSTCODE"))
			c->postcode = k;
	}
}

static struct yoc_cell cell(const struct yoc_cell *cells, size_t n, int k)
{
	struct yoc_cell z = {"", 0};
	return k >= 0 && (size_t)k < n ? cells[k] : z;
}

void link_row_rec(const struct yoc_cell *cells, size_t n, const struct link_cols *c,
		  struct yoc_link_rec *r)
{
	struct yoc_cell g = cell(cells, n, c->given), f = cell(cells, n, c->family),
			d = cell(cells, n, c->dob), s = cell(cells, n, c->sex),
			p = cell(cells, n, c->postcode);
	int32_t dob = YOC_LINK_NODATE, dd;
	if (d.n && yoc_date_parse(d.p, d.n, &dd) == YOC_DATE_VALID)
		dob = dd;
	int sex = s.n == 1 ? s.p[0] - '0' : 0;
	yoc_link_rec_make(r, g.p, g.n, f.p, f.n, dob, sex, p.p, p.n);
}

void link_hot_make(struct link_hot *h, const struct yoc_link_rec *r)
{
	memset(h, 0, sizeof *h);
	if (r->dob != YOC_LINK_NODATE) {
		h->y = r->y ? r->y : 1; /* year 0 would read as missing */
		h->m = r->m;
		h->d = r->d;
	}
	h->sex = r->sex;
	h->lpc = (uint8_t)(r->lpostcode < sizeof h->pc ? r->lpostcode : sizeof h->pc - 1);
	memcpy(h->pc, r->postcode, h->lpc);
}

/* ---- blocking keys ------------------------------------------------------- */

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h;
}

static uint64_t str_key(const char *s)
{
	return yoc_hash64(s, strlen(s), 7);
}

uint64_t link_block_key(const struct yoc_link_rec *r, int k, int swap)
{
	int y = 0, m = 0, d = 0;
	int hasd = r->dob != YOC_LINK_NODATE;
	if (hasd)
		yoc_date_to_ymd(r->dob, &y, &m, &d);
	if (swap) {
		if (!hasd || d > 12 || d == m)
			return 0;
		int t = m;
		m = d;
		d = t;
	}
	uint64_t h = (uint64_t)k + 1;
	switch (k) {
	case BR_DOB:
		if (!hasd)
			return 0;
		h = mix(h, (uint64_t)(y * 10000 + m * 100 + d));
		break;
	case BR_SECTOR_YOB:
		if (!hasd || r->lpostcode < 5)
			return 0;
		h = mix(mix(h, yoc_hash64(r->postcode, (size_t)r->lpostcode - 2, 3)), (uint64_t)y);
		break;
	case BR_FAMILY_YM:
		if (!hasd || !r->pfamily[0])
			return 0;
		h = mix(mix(h, str_key(r->pfamily)), (uint64_t)(y * 100 + m));
		break;
	case BR_FAMILY_MD:
		if (!hasd || !r->pfamily[0])
			return 0;
		h = mix(mix(h, str_key(r->pfamily)), (uint64_t)(m * 100 + d));
		break;
	case BR_GIVEN_YM_SEX:
		if (!hasd || !r->pgiven[0] || !r->sex)
			return 0;
		h = mix(mix(mix(h, str_key(r->pgiven)), (uint64_t)(y * 100 + m)), r->sex);
		break;
	case BR_NAMES:
		if (!r->pgiven[0] || !r->pfamily[0])
			return 0;
		h = mix(mix(h, str_key(r->pgiven)), str_key(r->pfamily));
		break;
	default:
		return 0;
	}
	h &= ((uint64_t)1 << 40) - 1;
	return h ? h : 1;
}

/* ---- loading --------------------------------------------------------------- */

static int reg_grow(struct link_reg *g, struct yoc_error *e)
{
	if (g->n < g->cap)
		return 0;
	if (g->cap >= REG_MAX)
		return yoc_error_set(e, YOC_ETOOBIG, NULL, 0, 0, "register: more than %zu records",
				     REG_MAX);
	size_t nc = g->cap ? g->cap * 2 : 65536;
	struct yoc_link_rec *r = yoc_realloc(g->rec, nc * sizeof *r);
	if (!r)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	g->rec = r;
	char(*nh)[10] = yoc_realloc(g->nhs, nc * sizeof *nh);
	if (!nh)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	g->nhs = nh;
	g->cap = nc;
	return 0;
}

static int load_file(struct link_reg *g, const char *path, struct yoc_error *e)
{
	int rc;
	yoc_csv *r = NULL;
	if ((rc = yoc_check_regular(path, e)) != 0)
		return rc;
	if ((rc = yoc_csv_open(&r, path, NULL, e)) != 0)
		return rc;
	struct link_cols c;
	link_find_cols(yoc_csv_header(r), yoc_csv_ncols(r), &c);
	if (c.nhs < 0) {
		rc = yoc_error_set(e, YOC_EINVAL, path, 1, 1, "register file has no NHS number column");
		goto cleanup;
	}
	g->files++;
	for (;;) {
		struct yoc_csv_row row;
		struct yoc_error re = {0};
		int k = yoc_csv_next(r, &row, &re);
		if (k == 0)
			break;
		if (k < 0 && row.fault == YOC_CSV_OK) {
			*e = re;
			rc = k;
			goto cleanup;
		}
		g->rows++;
		if (k < 0 || (size_t)c.nhs >= row.ncells) {
			g->bad_nhs++;
			continue;
		}
		char nhs[11];
		struct yoc_cell nc = row.cells[c.nhs];
		if (yoc_nhsno_check(nc.p, nc.n, nhs) != YOC_NHSNO_VALID) {
			g->bad_nhs++;
			continue;
		}
		if ((rc = reg_grow(g, e)) != 0)
			goto cleanup;
		link_row_rec(row.cells, row.ncells, &c, &g->rec[g->n]);
		memcpy(g->nhs[g->n], nhs, 10);
		g->n++;
	}
	rc = 0;
cleanup:
	yoc_csv_close(r);
	return rc;
}

int link_reg_load(struct link_reg *g, const char *path, struct yoc_error *e)
{
	int rc;
	if (!yoc_is_dir(path))
		return load_file(g, path, e);
	char **paths = NULL;
	size_t np = 0;
	if ((rc = yoc_list_files(path, &paths, &np, e)) != 0)
		return rc;
	for (size_t i = 0; i < np && rc == 0; i++) {
		size_t l = strlen(paths[i]);
		if (l > 4 && strcmp(paths[i] + l - 4, ".csv") == 0)
			rc = load_file(g, paths[i], e);
	}
	yoc_paths_free(paths);
	return rc;
}

/* ---- dropping repeats, term frequencies, indexes ------------------------------ */

struct hk {
	uint64_t h;
	uint32_t i;
};

static int cmp_hk(const void *a, const void *b)
{
	const struct hk *x = a, *y = b;
	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Least significant digit first, 16 bits a pass: 4 passes over a and tmp. */
static void radix_sort(uint64_t *a, uint64_t *tmp, size_t n)
{
	static const int bits = 16;
	size_t *cnt = yoc_calloc((size_t)1 << bits, sizeof *cnt);
	if (!cnt) {
		qsort(a, n, sizeof *a, cmp_u64);
		return;
	}
	uint64_t *src = a, *dst = tmp;
	for (int pass = 0; pass < 64 / bits; pass++) {
		int sh = pass * bits;
		memset(cnt, 0, ((size_t)1 << bits) * sizeof *cnt);
		for (size_t i = 0; i < n; i++)
			cnt[(src[i] >> sh) & 0xffff]++;
		size_t sum = 0;
		for (size_t d = 0; d < ((size_t)1 << bits); d++) {
			size_t c = cnt[d];
			cnt[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[cnt[(src[i] >> sh) & 0xffff]++] = src[i];
		uint64_t *t = src;
		src = dst;
		dst = t;
	}
	/* An even number of passes: the result is back in a. */
	yoc_free(cnt);
}

static int count_names(struct yoc_map *m, const struct link_reg *g, int family)
{
	for (size_t i = 0; i < g->n; i++) {
		const struct yoc_link_rec *r = &g->rec[i];
		const char *s = family ? r->family : r->given;
		size_t l = family ? r->lfamily : r->lgiven;
		if (!l)
			continue;
		uint64_t *v = yoc_map_get(m, s, l);
		if (v)
			(*v)++;
		else if (yoc_map_put(m, s, l, 1, NULL) != 0)
			return YOC_ENOMEM;
	}
	return 0;
}

int link_reg_index(struct link_reg *g, struct yoc_error *e)
{
	int rc = 0;
	struct hk *hk = NULL;
	uint64_t *tmp = NULL;
	struct yoc_map mg, mf;
	int maps = 0;
	if (g->n == 0)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
				     "the register holds no row with a valid NHS number");
	/* The same person's same details, once: a register has a row per practice and year. */
	hk = yoc_malloc(g->n * sizeof *hk);
	if (!hk)
		goto oom;
	for (size_t i = 0; i < g->n; i++) {
		uint64_t h = yoc_hash64(g->nhs[i], 10, 1);
		h = yoc_hash64(&g->rec[i], sizeof g->rec[i], h);
		hk[i].h = h;
		hk[i].i = (uint32_t)i;
	}
	qsort(hk, g->n, sizeof *hk, cmp_hk);
	size_t w = 0;
	{
		/* Mark survivors (first of each hash), then compact in record order. */
		uint8_t *dead = yoc_calloc(g->n, 1);
		if (!dead)
			goto oom;
		for (size_t i = 1; i < g->n; i++)
			if (hk[i].h == hk[i - 1].h)
				dead[hk[i].i] = 1;
		for (size_t i = 0; i < g->n; i++) {
			if (dead[i])
				continue;
			if (w != i) {
				g->rec[w] = g->rec[i];
				memcpy(g->nhs[w], g->nhs[i], 10);
			}
			w++;
		}
		yoc_free(dead);
	}
	g->dupes = g->n - w;
	g->n = w;
	/* Distinct people: NHS numbers sorted (reusing hk's memory as numbers). */
	{
		uint64_t *nv = (uint64_t *)hk;
		for (size_t i = 0; i < g->n; i++) {
			uint64_t v = 0;
			for (int k = 0; k < 10; k++)
				v = v * 10 + (uint64_t)(g->nhs[i][k] - '0');
			nv[i] = v;
		}
		qsort(nv, g->n, sizeof *nv, cmp_u64);
		g->people = 0;
		for (size_t i = 0; i < g->n; i++)
			if (i == 0 || nv[i] != nv[i - 1])
				nv[g->people++] = nv[i];
	}
	g->nhsv = (uint64_t *)hk; /* kept: hk's memory now holds the numbers */
	hk = NULL;

	/* The fields scoring looks at first, packed. */
	g->hot = yoc_calloc(g->n, sizeof *g->hot);
	if (!g->hot)
		goto oom;
	for (size_t i = 0; i < g->n; i++)
		link_hot_make(&g->hot[i], &g->rec[i]);

	/* Term frequencies over the register. */
	if (yoc_map_init(&mg, 4096) != 0)
		goto oom;
	if (yoc_map_init(&mf, 4096) != 0) {
		yoc_map_free(&mg);
		goto oom;
	}
	maps = 1;
	if (count_names(&mg, g, 0) || count_names(&mf, g, 1))
		goto oom;
	g->tfg = yoc_malloc(g->n * sizeof *g->tfg);
	g->tff = yoc_malloc(g->n * sizeof *g->tff);
	if (!g->tfg || !g->tff)
		goto oom;
	for (size_t i = 0; i < g->n; i++) {
		const struct yoc_link_rec *r = &g->rec[i];
		const uint64_t *vg = r->lgiven ? yoc_map_get(&mg, r->given, r->lgiven) : NULL;
		const uint64_t *vf = r->lfamily ? yoc_map_get(&mf, r->family, r->lfamily) : NULL;
		g->tfg[i] = vg ? (float)-log2((double)*vg / (double)g->n) : 0.0f;
		g->tff[i] = vf ? (float)-log2((double)*vf / (double)g->n) : 0.0f;
	}

	/* One sorted index per rule. */
	tmp = yoc_malloc(g->n * sizeof *tmp);
	if (!tmp)
		goto oom;
	for (int k = 0; k < BR_COUNT; k++) {
		g->idx[k] = yoc_malloc(g->n * sizeof **g->idx);
		if (!g->idx[k])
			goto oom;
		size_t m = 0;
		for (size_t i = 0; i < g->n; i++) {
			uint64_t key = link_block_key(&g->rec[i], k, 0);
			if (key)
				g->idx[k][m++] = key << 24 | (uint64_t)i;
		}
		g->nidx[k] = m;
		radix_sort(g->idx[k], tmp, m);
	}
	goto cleanup;
oom:
	rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory indexing the register");
cleanup:
	yoc_free(hk);
	yoc_free(tmp);
	if (maps) {
		yoc_map_free(&mg);
		yoc_map_free(&mf);
	}
	return rc;
}

static uint64_t nhs_num(const char *s)
{
	uint64_t v = 0;
	for (int k = 0; k < 10; k++)
		v = v * 10 + (uint64_t)(s[k] - '0');
	return v;
}

int link_reg_has(const struct link_reg *g, const char *nhs)
{
	uint64_t v = nhs_num(nhs);
	size_t lo = 0, hi = g->people;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->nhsv[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < g->people && g->nhsv[lo] == v;
}

void link_reg_block(const struct link_reg *g, int k, uint64_t key, size_t *lo, size_t *hi)
{
	const uint64_t *a = g->idx[k];
	size_t l = 0, h = g->nidx[k];
	uint64_t want = key << 24;
	while (l < h) {
		size_t mid = l + (h - l) / 2;
		if (a[mid] < want)
			l = mid + 1;
		else
			h = mid;
	}
	*lo = l;
	size_t r = l;
	while (r < g->nidx[k] && a[r] >> 24 == key)
		r++;
	*hi = r;
}

void link_reg_free(struct link_reg *g)
{
	if (!g)
		return;
	yoc_free(g->rec);
	yoc_free(g->nhs);
	yoc_free(g->hot);
	yoc_free(g->nhsv);
	yoc_free(g->tfg);
	yoc_free(g->tff);
	for (int k = 0; k < BR_COUNT; k++)
		yoc_free(g->idx[k]);
	memset(g, 0, sizeof *g);
}

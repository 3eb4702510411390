/*
** Loading the long-term condition code list and matching ICD-10 codes to
** conditions by prefix. Read-only after loading. Must not print.
*/
#include <string.h>

#include "ltc/ltc.h"
#include "yoc/csv.h"

#define MAX_PREFIX 8

struct yoc_ltc {
	struct yoc_ltc_cond cond[YOC_LTC_MAX];
	size_t ncond;
	char version[64];
	size_t npre;
	struct yoc_map bypre; /* prefix -> mask */
	size_t minlen, maxlen;
};

static int copy_cell(char *dst, size_t cap, struct yoc_cell c)
{
	while (c.n && c.p[0] == ' ') {
		c.p++;
		c.n--;
	}
	while (c.n && c.p[c.n - 1] == ' ')
		c.n--;
	if (c.n >= cap)
		return -1;
	memcpy(dst, c.p, c.n);
	dst[c.n] = 0;
	return (int)c.n;
}

/* Upper-cases and drops dots and spaces; returns the length written (<= cap). */
static size_t norm_code(const char *s, size_t n, char *out, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k < cap; i++) {
		char c = s[i];
		if (c == '.' || c == ' ' || c == '\t')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		out[k++] = c;
	}
	return k;
}

int yoc_ltc_load(yoc_ltc **out, const char *path, struct yoc_error *e)
{
	int rc;
	yoc_csv *r = NULL;
	struct yoc_csv_opts o = {0};
	yoc_ltc *l = yoc_calloc(1, sizeof *l);
	*out = NULL;
	if (!l)
		return yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "out of memory");
	l->minlen = 99;
	if ((rc = yoc_map_init(&l->bypre, 512)) != 0) {
		yoc_error_set(e, rc, path, 0, 0, "out of memory");
		goto cleanup;
	}
	o.delim = ',';
	if ((rc = yoc_csv_open(&r, path, &o, e)) != 0)
		goto cleanup;
	static const char *const names[] = {"condition", "label", "kind", "source", "code",
		"version"};
	int col[6];
	for (int i = 0; i < 6; i++)
		if ((col[i] = yoc_csv_col(r, names[i])) < 0) {
			rc = yoc_error_set(e, YOC_EPARSE, path, 1, 0, "no column '%s'", names[i]);
			goto cleanup;
		}
	struct yoc_csv_row row;
	for (;;) {
		rc = yoc_csv_next(r, &row, e);
		if (rc == 0)
			break;
		if (rc < 0)
			goto cleanup;
		char id[32], label[96], kind[16], source[16], code[16], version[64];
		if (copy_cell(id, sizeof id, row.cells[col[0]]) <= 0 ||
		    copy_cell(label, sizeof label, row.cells[col[1]]) < 0 ||
		    copy_cell(kind, sizeof kind, row.cells[col[2]]) <= 0 ||
		    copy_cell(source, sizeof source, row.cells[col[3]]) <= 0 ||
		    copy_cell(code, sizeof code, row.cells[col[4]]) <= 0 ||
		    copy_cell(version, sizeof version, row.cells[col[5]]) < 0) {
			rc = yoc_error_set(e, YOC_EPARSE, path, row.line, 0, "empty or over-long cell");
			goto cleanup;
		}
		int mental = strcmp(kind, "mental") == 0;
		if (!mental && strcmp(kind, "physical") != 0) {
			rc = yoc_error_set(e, YOC_EPARSE, path, row.line, 0,
					   "kind must be physical or mental, not '%s'", kind);
			goto cleanup;
		}
		if (!l->version[0])
			memcpy(l->version, version, sizeof version);
		else if (strcmp(l->version, version) != 0) {
			rc = yoc_error_set(e, YOC_EPARSE, path, row.line, 0,
					   "version '%s' differs from '%s'", version, l->version);
			goto cleanup;
		}
		int ci = yoc_ltc_by_id(l, id, strlen(id));
		if (ci < 0) {
			if (l->ncond == YOC_LTC_MAX) {
				rc = yoc_error_set(e, YOC_ETOOBIG, path, row.line, 0,
						   "more than %d conditions", YOC_LTC_MAX);
				goto cleanup;
			}
			ci = (int)l->ncond++;
			memcpy(l->cond[ci].id, id, sizeof id);
			memcpy(l->cond[ci].label, label, sizeof label);
			l->cond[ci].mental = mental;
		} else if (l->cond[ci].mental != mental) {
			rc = yoc_error_set(e, YOC_EPARSE, path, row.line, 0,
					   "condition '%s' has two kinds", id);
			goto cleanup;
		}
		if (strcmp(source, "register") == 0) {
			if (l->cond[ci].flag[0] || strlen(code) >= sizeof l->cond[ci].flag) {
				rc = yoc_error_set(e, YOC_EPARSE, path, row.line, 0,
						   "condition '%s' has two register flags", id);
				goto cleanup;
			}
			memcpy(l->cond[ci].flag, code, strlen(code) + 1); /* length checked above */
		} else if (strcmp(source, "icd10") == 0) {
			char p[MAX_PREFIX];
			size_t pn = norm_code(code, strlen(code), p, sizeof p);
			if (pn < 1 || pn >= MAX_PREFIX) {
				rc = yoc_error_set(e, YOC_EPARSE, path, row.line, 0,
						   "bad ICD-10 prefix '%s'", code);
				goto cleanup;
			}
			uint64_t *m = yoc_map_get(&l->bypre, p, pn);
			uint64_t v = (m ? *m : 0) | ((uint64_t)1 << ci);
			if ((rc = yoc_map_put(&l->bypre, p, pn, v, NULL)) != 0) {
				yoc_error_set(e, rc, path, row.line, 0, "out of memory");
				goto cleanup;
			}
			if (pn < l->minlen)
				l->minlen = pn;
			if (pn > l->maxlen)
				l->maxlen = pn;
			l->npre++;
		} else {
			rc = yoc_error_set(e, YOC_EPARSE, path, row.line, 0,
					   "source must be register or icd10, not '%s'", source);
			goto cleanup;
		}
	}
	if (l->ncond == 0) {
		rc = yoc_error_set(e, YOC_EPARSE, path, 0, 0, "no conditions in the code list");
		goto cleanup;
	}
	*out = l;
	l = NULL;
	rc = YOC_OK;
cleanup:
	yoc_csv_close(r);
	yoc_ltc_free(l);
	return rc;
}

void yoc_ltc_free(yoc_ltc *l)
{
	if (!l)
		return;
	yoc_map_free(&l->bypre);
	yoc_free(l);
}

size_t yoc_ltc_count(const yoc_ltc *l)
{
	return l->ncond;
}

const struct yoc_ltc_cond *yoc_ltc_get(const yoc_ltc *l, size_t i)
{
	return i < l->ncond ? &l->cond[i] : NULL;
}

const char *yoc_ltc_version(const yoc_ltc *l)
{
	return l->version;
}

int yoc_ltc_by_id(const yoc_ltc *l, const char *id, size_t n)
{
	for (size_t i = 0; i < l->ncond; i++)
		if (strlen(l->cond[i].id) == n && memcmp(l->cond[i].id, id, n) == 0)
			return (int)i;
	return -1;
}

int yoc_ltc_by_flag(const yoc_ltc *l, const char *flag, size_t n)
{
	for (size_t i = 0; i < l->ncond; i++)
		if (l->cond[i].flag[0] && strlen(l->cond[i].flag) == n &&
		    memcmp(l->cond[i].flag, flag, n) == 0)
			return (int)i;
	return -1;
}

uint64_t yoc_ltc_icd10(const yoc_ltc *l, const char *code, size_t n)
{
	char c[16];
	size_t cn = norm_code(code, n, c, sizeof c);
	uint64_t mask = 0;
	for (size_t k = l->minlen; k <= l->maxlen && k <= cn; k++) {
		const uint64_t *m = yoc_map_get(&l->bypre, c, k);
		if (m)
			mask |= *m;
	}
	return mask;
}

uint64_t yoc_ltc_mental_mask(const yoc_ltc *l)
{
	uint64_t m = 0;
	for (size_t i = 0; i < l->ncond; i++)
		if (l->cond[i].mental)
			m |= (uint64_t)1 << i;
	return m;
}

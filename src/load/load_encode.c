/*
** Load, second stage: encode the rows that passed validation into the
** file's segment (src/store segment writer, in memory until the commit
** writes it), count each column's values for the file's statistics, and
** hold the flags of values kept, nulled or standardised. Like reading,
** touches no catalog, so files are encoded on any thread.
*/
#include <string.h>

#include "load/load_int.h"

/* Appends a NUL-terminated copy of p (n bytes) to lf->text; its offset in *off. */
static int put(struct yoc__lfile *lf, const char *p, size_t n, size_t *off)
{
	*off = lf->text.len;
	if (yoc_buf_append(&lf->text, p ? p : "", n) || yoc_buf_putc(&lf->text, 0))
		return YOC_ENOMEM;
	return YOC_OK;
}

int yoc__lf_hold(struct yoc__lfile *lf, struct yoc__recs *rs, long line, const char *field,
		 const char *v, size_t vn, const char *reason, const char *extra, size_t nextra)
{
	if (rs->n == rs->cap) {
		size_t nc = rs->cap ? rs->cap * 2 : 64;
		struct yoc__rec *nv = yoc_realloc(rs->v, nc * sizeof *nv);
		if (!nv)
			return YOC_ENOMEM;
		rs->v = nv;
		rs->cap = nc;
	}
	struct yoc__rec *r = &rs->v[rs->n];
	r->line = line;
	r->nvalue = vn;
	r->nextra = nextra;
	if (put(lf, field, field ? strlen(field) : 0, &r->field) ||
	    put(lf, reason, strlen(reason), &r->reason) || put(lf, v, vn, &r->value) ||
	    put(lf, extra, nextra, &r->extra))
		return YOC_ENOMEM;
	rs->n++;
	return YOC_OK;
}

int yoc__lf_encode_begin(struct yoc__lfile *lf)
{
	const char **names = NULL, **sources = NULL;
	int *types = NULL;
	int rc = YOC_ENOMEM;
	size_t n = lf->ncols;
	names = yoc_calloc(n + 1, sizeof *names);
	sources = yoc_calloc(n + 1, sizeof *sources);
	types = yoc_calloc(n + 1, sizeof *types);
	if (!names || !sources || !types)
		goto cleanup;
	for (size_t c = 0; c < n; c++) {
		names[c] = lf->cols[c].name;
		sources[c] = lf->cols[c].name + strlen(lf->cols[c].name) + 1;
		types[c] = lf->cols[c].segtype;
	}
	names[n] = "_LINE";
	sources[n] = "_LINE";
	types[n] = YOC_COL_INT;
	rc = yoc_segw_create(&lf->w, lf->res.kind, n + 1, names, sources, types);
cleanup:
	yoc_free(names);
	yoc_free(sources);
	yoc_free(types);
	return rc;
}

static int count_value(struct yoc_map *m, const char *p, size_t n, int64_t *other)
{
	uint64_t *v = yoc_map_get(m, p, n);
	if (v) {
		(*v)++;
		return YOC_OK;
	}
	if (m->count >= 200) {
		(*other)++;
		return YOC_OK;
	}
	return yoc_map_put(m, p, n, 1, NULL);
}

int yoc__lf_append(struct yoc__lfile *lf, const struct yoc__val *vals, long line,
		   struct yoc_error *e)
{
	struct yoc_segw *w = lf->w;
	int rc = YOC_OK;
	for (size_t c = 0; c < lf->ncols && !rc; c++) {
		const struct yoc__val *v = &vals[c];
		struct yoc__colinfo *ci = &lf->cols[c];
		int nulled = v->action && v->action[0] == 'n';
		if (v->why) {
			ci->invalid++;
			if (yoc__lf_hold(lf, &lf->flags, line, ci->name, v->p, v->n > 2000 ? 2000 : v->n,
					 v->why, v->action, strlen(v->action)))
				return yoc_error_set(e, YOC_ENOMEM, lf->res.file, line, 0,
						     "out of memory");
		}
		if (v->n == 0 || nulled)
			ci->empty++;
		else
			ci->filled++;
		if (ci->freq && v->n && !nulled)
			if ((rc = count_value(ci->freq, v->p, v->n, &ci->freq_other)))
				break;
		switch (ci->segtype) {
		case YOC_COL_TEXT:
			rc = nulled ? yoc_segw_text(w, c, "", 0) : yoc_segw_text(w, c, v->p, v->n);
			break;
		case YOC_COL_DATE:
			rc = yoc_segw_i32(w, c, v->n == 0 ? YOC_DATE_NONE : (int32_t)v->i);
			break;
		default:
			rc = yoc_segw_i64(w, c, v->n == 0 ? YOC_INT_NONE : v->i);
			break;
		}
	}
	if (!rc)
		rc = yoc_segw_i64(w, lf->ncols, line);
	if (!rc)
		rc = yoc_segw_row_end(w);
	if (!rc && lf->c_status >= 0) {
		const struct yoc__val *v = &vals[lf->c_status];
		rc = count_value(&lf->status_counts, v->n ? v->p : "(empty)", v->n ? v->n : 7,
				 &lf->cols[lf->c_status].freq_other);
	} else if (!rc && lf->c_person >= 0) {
		int has = vals[lf->c_person].n && !(vals[lf->c_person].action &&
						    vals[lf->c_person].action[0] == 'n');
		rc = count_value(&lf->status_counts, has ? "pseudonym" : "missing",
				 has ? 9 : 7, &lf->cols[lf->c_person].freq_other);
	}
	if (rc == YOC_ENOMEM || rc == YOC_ETOOBIG)
		return yoc_error_set(e, rc, lf->res.file, line, 0, "out of memory building segment");
	return rc;
}

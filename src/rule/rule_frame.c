/*
** The fields a rule may name (read from the tables' declared columns) and
** the frame: the columns a set of rules uses, for every person-year of one
** year, read from SQLite into typed arrays with null masks.
**
** Look-back years and risk_score are read one query each, in pseudo_id
** order, and merged onto the year's rows (a person absent reads NULL). Text
** columns share one dictionary sorted by SQLite's BINARY order, so the
** evaluator compares codes, not strings. Reads only; never writes the db.
*/
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rule/rule_int.h"
#include "yoc/date.h"

static int sql_err(sqlite3 *db, struct yoc_error *e, const char *what)
{
	return yoc_error_set(e, YOC_EIO, "rule", 0, 0, "%s: %s", what, sqlite3_errmsg(db));
}

static int nomem(struct yoc_error *e)
{
	return yoc_error_set(e, YOC_ENOMEM, "rule", 0, 0, "out of memory");
}

int yoc_rule_schema_create(yoc_rule_schema **out, struct yoc_error *e)
{
	*out = yoc_calloc(1, sizeof **out);
	return *out ? 0 : nomem(e);
}

int yoc_rule_schema_add(yoc_rule_schema *s, const char *name, int ftype, int table,
			struct yoc_error *e)
{
	for (size_t k = 0; k < s->n; k++)
		if (strcasecmp(s->f[k].name, name) == 0)
			return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct schema_field *f = yoc_realloc(s->f, cap * sizeof *f);
		if (!f)
			return nomem(e);
		s->f = f;
		s->cap = cap;
	}
	char *c = yoc_strdup(name);
	if (!c)
		return nomem(e);
	s->f[s->n].name = c;
	s->f[s->n].ftype = ftype;
	s->f[s->n].table = table;
	s->n++;
	return 0;
}

void yoc_rule_schema_free(yoc_rule_schema *s)
{
	if (!s)
		return;
	for (size_t k = 0; k < s->n; k++)
		yoc_free(s->f[k].name);
	yoc_free(s->f);
	yoc_free(s);
}

size_t yoc_rule_schema_count(const yoc_rule_schema *s)
{
	return s->n;
}

const char *yoc_rule_schema_name(const yoc_rule_schema *s, size_t i, int *ftype, int *table)
{
	if (i >= s->n)
		return NULL;
	if (ftype)
		*ftype = s->f[i].ftype;
	if (table)
		*table = s->f[i].table;
	return s->f[i].name;
}

static int decl_type(const char *t)
{
	if (!t)
		return YOC_RULE_REAL;
	if (strcasestr(t, "INT"))
		return YOC_RULE_INT;
	if (strcasestr(t, "CHAR") || strcasestr(t, "TEXT") || strcasestr(t, "CLOB"))
		return YOC_RULE_TEXT;
	return YOC_RULE_REAL;
}

/* Adds the columns of table (skipping pseudo_id, and fyear when skip_fyear). 0 columns: *found 0. */
static int add_table(sqlite3 *db, yoc_rule_schema *s, const char *table, int tid, int skip_fyear,
		     int *found, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	char sql[96];
	int rc = 0;
	*found = 0;
	snprintf(sql, sizeof sql, "PRAGMA table_info(%s)", table);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = sql_err(db, e, table);
		goto cleanup;
	}
	int k;
	while ((k = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);
		const char *type = (const char *)sqlite3_column_text(st, 2);
		*found = 1;
		if (!name || strcasecmp(name, "pseudo_id") == 0 ||
		    (skip_fyear && strcasecmp(name, "fyear") == 0))
			continue;
		if ((rc = yoc_rule_schema_add(s, name, decl_type(type), tid, e)))
			goto cleanup;
	}
	if (k != SQLITE_DONE)
		rc = sql_err(db, e, table);
cleanup:
	sqlite3_finalize(st);
	return rc;
}

int yoc_rule_schema_load(sqlite3 *db, yoc_rule_schema **out, struct yoc_error *e)
{
	yoc_rule_schema *s = NULL;
	int rc, found;
	*out = NULL;
	if ((rc = yoc_rule_schema_create(&s, e)))
		goto cleanup;
	if ((rc = add_table(db, s, "person_year", YOC_RULE_PERSON_YEAR, 0, &found, e)))
		goto cleanup;
	if (!found) {
		rc = yoc_error_set(e, YOC_ENOTFOUND, "rule", 0, 0,
				   "no person_year table: run yoc analyse first");
		goto cleanup;
	}
	if ((rc = add_table(db, s, "risk_score", YOC_RULE_RISK_SCORE, 1, &found, e)))
		goto cleanup;
	*out = s;
	s = NULL;
cleanup:
	yoc_rule_schema_free(s);
	return rc;
}

/* ---- frame ---- */

void yoc_rule_frame_free(yoc_rule_frame *f)
{
	if (!f)
		return;
	for (size_t c = 0; c < f->ncol; c++) {
		yoc_free(f->col[c].name);
		yoc_free(f->col[c].num);
		yoc_free(f->col[c].code);
		yoc_free(f->col[c].null);
	}
	for (size_t d = 0; d < f->ndict; d++)
		yoc_free(f->dict[d]);
	yoc_free(f->dict);
	yoc_free(f->dict_len);
	yoc_free(f->col);
	yoc_free(f->ids);
	yoc_free(f->id_off);
	yoc_free(f);
}

size_t yoc_rule_frame_rows(const yoc_rule_frame *f)
{
	return f->n;
}

const char *yoc_rule_frame_pseudo(const yoc_rule_frame *f, size_t i)
{
	return f->ids + f->id_off[i];
}

struct loader {
	sqlite3 *db;
	yoc_rule_frame *f;
	struct yoc_map dict;     /* text -> provisional code */
	char **dtext;            /* provisional code -> text (owned until moved to f->dict) */
	size_t *dlen;
	size_t nd, capd;
	struct yoc_error *e;
};

static int intern(struct loader *L, const char *s, size_t n, int32_t *code)
{
	uint64_t *v = yoc_map_get(&L->dict, s, n);
	if (v) {
		*code = (int32_t)*v;
		return 0;
	}
	if (L->nd >= INT32_MAX - 1)
		return yoc_error_set(L->e, YOC_ETOOBIG, "rule", 0, 0, "too many distinct texts");
	if (L->nd == L->capd) {
		size_t cap = L->capd ? L->capd * 2 : 256;
		char **t = yoc_realloc(L->dtext, cap * sizeof *t);
		if (!t)
			return nomem(L->e);
		L->dtext = t;
		size_t *l = yoc_realloc(L->dlen, cap * sizeof *l);
		if (!l)
			return nomem(L->e);
		L->dlen = l;
		L->capd = cap;
	}
	char *c = yoc_strndup(s, n);
	if (!c)
		return nomem(L->e);
	if (yoc_map_put(&L->dict, s, n, L->nd, NULL)) {
		yoc_free(c);
		return nomem(L->e);
	}
	L->dtext[L->nd] = c;
	L->dlen[L->nd] = n;
	*code = (int32_t)L->nd++;
	return 0;
}

int yoc_rule_frame_column(const yoc_rule_frame *f, const char *name, int lag, int *ftype,
			  const double **nums, const int32_t **codes, const uint8_t **nulls)
{
	for (size_t c = 0; c < f->ncol; c++) {
		const struct frame_col *k = &f->col[c];
		if (k->lag != lag || strcmp(k->name, name) != 0)
			continue;
		*ftype = k->ftype;
		*nums = k->ftype == YOC_RULE_TEXT ? NULL : k->num;
		*codes = k->ftype == YOC_RULE_TEXT ? k->code : NULL;
		*nulls = k->null;
		return 0;
	}
	return YOC_ENOTFOUND;
}

size_t yoc_rule_frame_ndict(const yoc_rule_frame *f)
{
	return f->ndict;
}

const char *yoc_rule_frame_dict(const yoc_rule_frame *f, size_t c)
{
	return c < f->ndict ? f->dict[c] : NULL;
}

static int cmp_bytes(const char *a, size_t la, const char *b, size_t lb)
{
	int c = memcmp(a, b, la < lb ? la : lb);
	return c ? c : (la > lb) - (la < lb);
}

/* Stores the value of result column k of st into column c, row i. */
static int store_cell(struct loader *L, sqlite3_stmt *st, int k, struct frame_col *c, size_t i)
{
	if (sqlite3_column_type(st, k) == SQLITE_NULL) {
		c->null[i] = 1;
		return 0;
	}
	c->null[i] = 0;
	if (c->ftype == YOC_RULE_TEXT) {
		const char *s = (const char *)sqlite3_column_text(st, k);
		if (!s)
			return nomem(L->e);
		return intern(L, s, (size_t)sqlite3_column_bytes(st, k), &c->code[i]);
	}
	c->num[i] = sqlite3_column_double(st, k);
	return 0;
}

static int quote_ident(struct yoc_buf *b, const char *name)
{
	int rc = yoc_buf_putc(b, '"');
	for (const char *s = name; *s && !rc; s++)
		rc = *s == '"' ? yoc_buf_puts(b, "\"\"") : yoc_buf_putc(b, *s);
	return rc ? rc : yoc_buf_putc(b, '"');
}

/*
** Reads the columns of table at year fy for the frame columns cols[0..n)
** (all of that table and lag). base: the first query, which defines the rows;
** otherwise rows are merged on pseudo_id, absent ones left NULL.
*/
static int read_group(struct loader *L, const char *table, const char *fy, struct frame_col **cols,
		      int n, int base)
{
	yoc_rule_frame *f = L->f;
	struct yoc_buf sql, ids;
	sqlite3_stmt *st = NULL;
	size_t *off = NULL;
	size_t nrow = 0, caprow = 0;
	int rc = 0;
	yoc_buf_init(&sql, 1 << 20);
	yoc_buf_init(&ids, 0);
	rc = yoc_buf_puts(&sql, "SELECT pseudo_id");
	for (int k = 0; k < n && !rc; k++)
		if (!(rc = yoc_buf_puts(&sql, ", ")))
			rc = quote_ident(&sql, cols[k]->name);
	if (!rc)
		rc = yoc_buf_printf(&sql, " FROM %s WHERE fyear = ?1 ORDER BY pseudo_id", table);
	if (rc) {
		rc = nomem(L->e);
		goto cleanup;
	}
	if (sqlite3_prepare_v2(L->db, sql.data, -1, &st, NULL) != SQLITE_OK) {
		rc = sql_err(L->db, L->e, table);
		goto cleanup;
	}
	sqlite3_bind_text(st, 1, fy, -1, SQLITE_STATIC);
	size_t j = 0; /* base: next row to merge onto */
	int k;
	while ((k = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		size_t idn = (size_t)sqlite3_column_bytes(st, 0);
		if (!id)
			continue; /* pseudo_id is NOT NULL in both tables */
		size_t row;
		if (base) {
			if (nrow == caprow) {
				size_t cap = caprow ? caprow * 2 : 4096;
				size_t *o = yoc_realloc(off, cap * sizeof *o);
				if (!o) {
					rc = nomem(L->e);
					goto cleanup;
				}
				off = o;
				for (int c = 0; c < n; c++) {
					struct frame_col *fc = cols[c];
					void *v = fc->ftype == YOC_RULE_TEXT ?
						yoc_realloc(fc->code, cap * sizeof *fc->code) :
						yoc_realloc(fc->num, cap * sizeof *fc->num);
					if (!v) {
						rc = nomem(L->e);
						goto cleanup;
					}
					if (fc->ftype == YOC_RULE_TEXT)
						fc->code = v;
					else
						fc->num = v;
					uint8_t *nu = yoc_realloc(fc->null, cap);
					if (!nu) {
						rc = nomem(L->e);
						goto cleanup;
					}
					fc->null = nu;
				}
				caprow = cap;
			}
			off[nrow] = ids.len;
			if (yoc_buf_append(&ids, id, idn + 1)) { /* with its NUL */
				rc = nomem(L->e);
				goto cleanup;
			}
			row = nrow++;
			for (int c = 0; c < n; c++) {
				cols[c]->null[row] = 0;
				if (cols[c]->ftype == YOC_RULE_TEXT)
					cols[c]->code[row] = 0;
				else
					cols[c]->num[row] = 0;
			}
		} else {
			int cmp = -1;
			while (j < f->n) {
				const char *b = f->ids + f->id_off[j];
				cmp = cmp_bytes(b, strlen(b), id, idn);
				if (cmp >= 0)
					break;
				j++;
			}
			if (j >= f->n || cmp != 0)
				continue; /* not a person-year of year t */
			row = j++;
		}
		for (int c = 0; c < n; c++)
			if ((rc = store_cell(L, st, c + 1, cols[c], row)))
				goto cleanup;
	}
	if (k != SQLITE_DONE) {
		rc = sql_err(L->db, L->e, table);
		goto cleanup;
	}
	if (base) {
		f->n = nrow;
		f->ids = ids.data;
		ids.data = NULL;
		f->id_off = off;
		off = NULL;
		if (!f->ids) { /* no rows */
			f->ids = yoc_calloc(1, 1);
			if (!f->ids) {
				rc = nomem(L->e);
				goto cleanup;
			}
		}
	}
cleanup:
	sqlite3_finalize(st);
	yoc_buf_free(&sql);
	yoc_buf_free(&ids);
	yoc_free(off);
	return rc;
}

static int alloc_col(struct frame_col *c, size_t n)
{
	size_t m = n ? n : 1;
	c->null = yoc_malloc(m);
	if (!c->null)
		return YOC_ENOMEM;
	memset(c->null, 1, m); /* absent until read */
	if (c->ftype == YOC_RULE_TEXT)
		c->code = yoc_calloc(m, sizeof *c->code);
	else
		c->num = yoc_calloc(m, sizeof *c->num);
	return (c->code || c->num) ? 0 : YOC_ENOMEM;
}

static int cmp_code(const void *a, const void *b, void *ctx)
{
	const struct loader *L = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return cmp_bytes(L->dtext[x], L->dlen[x], L->dtext[y], L->dlen[y]);
}

/* Sorts the dictionary and renumbers every text column. */
static int sort_dict(struct loader *L)
{
	yoc_rule_frame *f = L->f;
	size_t *order = NULL;
	int32_t *rank = NULL;
	int rc = 0;
	size_t m = L->nd ? L->nd : 1;
	order = yoc_malloc(m * sizeof *order);
	rank = yoc_malloc(m * sizeof *rank);
	f->dict = yoc_calloc(m, sizeof *f->dict);
	f->dict_len = yoc_calloc(m, sizeof *f->dict_len);
	if (!order || !rank || !f->dict || !f->dict_len) {
		rc = nomem(L->e);
		goto cleanup;
	}
	for (size_t i = 0; i < L->nd; i++)
		order[i] = i;
	qsort_r(order, L->nd, sizeof *order, cmp_code, L);
	for (size_t i = 0; i < L->nd; i++) {
		rank[order[i]] = (int32_t)i;
		f->dict[i] = L->dtext[order[i]];
		f->dict_len[i] = L->dlen[order[i]];
	}
	f->ndict = L->nd;
	L->nd = 0; /* the texts now belong to f */
	for (size_t c = 0; c < f->ncol; c++) {
		struct frame_col *fc = &f->col[c];
		if (fc->ftype != YOC_RULE_TEXT)
			continue;
		for (size_t i = 0; i < f->n; i++)
			fc->code[i] = fc->null[i] ? 0 : rank[fc->code[i]];
	}
cleanup:
	yoc_free(order);
	yoc_free(rank);
	return rc;
}

static int table_exists(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = NULL;
	int yes = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		yes = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return yes;
}

int yoc_rule_frame_load(sqlite3 *db, const char *fyear, yoc_rule *const *rules, size_t nrules,
			yoc_rule_frame **out, struct yoc_error *e)
{
	struct loader L;
	struct frame_col **grp = NULL;
	int rc = 0, fy;
	memset(&L, 0, sizeof L);
	L.db = db;
	L.e = e;
	*out = NULL;
	if (yoc_fyear_parse(fyear, strlen(fyear), &fy))
		return yoc_error_set(e, YOC_EINVAL, "rule", 0, 0, "'%s' is not a financial year"
				     " (2023/24)", fyear);
	if (yoc_map_init(&L.dict, 1024))
		return nomem(e);
	L.f = yoc_calloc(1, sizeof *L.f);
	if (!L.f) {
		rc = nomem(e);
		goto cleanup;
	}
	yoc_rule_frame *f = L.f;
	/* the distinct (field, lag) columns of all rules; fyear-less tables are fine */
	size_t maxcol = 0;
	for (size_t r = 0; r < nrules; r++) {
		if (!rules[r]->has_schema) {
			rc = yoc_error_set(e, YOC_EINVAL, "rule", 0, 0,
					   "a rule compiled without fields cannot be evaluated");
			goto cleanup;
		}
		maxcol += (size_t)rules[r]->nref;
	}
	f->col = yoc_calloc(maxcol + 1, sizeof *f->col);
	grp = yoc_calloc(maxcol + 1, sizeof *grp);
	if (!f->col || !grp) {
		rc = nomem(e);
		goto cleanup;
	}
	for (size_t r = 0; r < nrules; r++)
		for (int k = 0; k < rules[r]->nref; k++) {
			const struct rule_field_ref *ref = &rules[r]->ref[k];
			size_t c;
			for (c = 0; c < f->ncol; c++)
				if (strcmp(f->col[c].name, ref->name) == 0 && f->col[c].lag == ref->lag)
					break;
			if (c < f->ncol)
				continue;
			struct frame_col *fc = &f->col[f->ncol];
			fc->name = yoc_strdup(ref->name);
			if (!fc->name) {
				rc = nomem(e);
				goto cleanup;
			}
			fc->ftype = ref->ftype;
			fc->table = ref->table;
			fc->lag = ref->lag;
			f->ncol++;
		}
	/* year t of person_year defines the rows */
	int n = 0;
	for (size_t c = 0; c < f->ncol; c++)
		if (f->col[c].table == YOC_RULE_PERSON_YEAR && f->col[c].lag == 0)
			grp[n++] = &f->col[c];
	if ((rc = read_group(&L, "person_year", fyear, grp, n, 1)))
		goto cleanup;
	for (size_t c = 0; c < f->ncol; c++) {
		struct frame_col *fc = &f->col[c];
		if (fc->table == YOC_RULE_PERSON_YEAR && fc->lag == 0)
			continue;
		if (alloc_col(fc, f->n)) {
			rc = nomem(e);
			goto cleanup;
		}
	}
	int have_risk = table_exists(db, "risk_score");
	for (int t = 0; t < 2; t++)
		for (int lag = 0; lag <= YOC_RULE_MAX_LAG; lag++) {
			if (t == YOC_RULE_PERSON_YEAR && lag == 0)
				continue;
			n = 0;
			for (size_t c = 0; c < f->ncol; c++)
				if (f->col[c].table == t && f->col[c].lag == lag)
					grp[n++] = &f->col[c];
			if (!n || (t == YOC_RULE_RISK_SCORE && !have_risk))
				continue;
			char fyb[16];
			yoc_fyear_format(fy - lag, fyb);
			if ((rc = read_group(&L, t ? "risk_score" : "person_year", fyb, grp, n, 0)))
				goto cleanup;
		}
	if ((rc = sort_dict(&L)))
		goto cleanup;
	*out = f;
	L.f = NULL;
cleanup:
	for (size_t i = 0; i < L.nd; i++)
		yoc_free(L.dtext[i]);
	yoc_free(L.dtext);
	yoc_free(L.dlen);
	yoc_map_free(&L.dict);
	yoc_free(grp);
	yoc_rule_frame_free(L.f);
	return rc;
}

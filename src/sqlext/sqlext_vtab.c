/*
** The activity tables: one eponymous, read-only SQLite virtual table per
** feed kind over the kind's current segments (sqlext.h says what the tables
** hold; docs/sql.md what is pushed down).
**
** A table keeps its segments open for the connection's life, each with the
** day range of its activity dates (to skip a segment a date range excludes)
** and, from its second person lookup on, its rows sorted by pseudonym hash
** (so a join probing person by person does not read the person column of
** every segment for every person). Every constraint used is also checked by
** SQLite (omit = 0): a constraint the module cannot read exactly (a value
** that is not text, a date not written YYYY-MM-DD) only costs the pruning.
**
** Must not: write anything, read segments other than through store.h, or
** call SQLite on the store's own connection (in the loadable extension the
** host's SQLite may be another copy than the one the store links).
*/
#ifdef YOC_SQLITE_EXTENSION
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1
#else
#include <sqlite3.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "sqlext/sqlext.h"
#include "store/store.h"
#include "yoc/date.h"

#define COL_FILE_ID 0
#define COL_LINE 1
#define NMETA 2           /* file_id, line: before the data columns */
#define MAX_DATE_CONS 8   /* date constraints used per scan */

/* One per connection, shared by its twelve tables. */
struct ctx {
	yoc_store *store;        /* opened on first use, read-only */
	int refs;                /* modules registered and not yet destroyed */
	int32_t day1800, day1801; /* day numbers of the HES null dates */
	struct yoc_sqlext_stats stats;
};

/* A row of a segment's person index: its pseudonym's hash. */
struct pkey {
	uint64_t h;
	uint32_t row;
};

/* A current file of the table's kind. */
struct seg {
	int64_t file_id;
	yoc_seg *g;              /* NULL until first needed */
	int *map;                /* data column -> segment column, -1 if absent */
	int line_col, date_col, person_col;
	int dated;               /* dmin/dmax describe date_col (else no pruning) */
	int32_t dmin, dmax;      /* day keys of the dated rows; dmin > dmax: none */
	int person_ok;           /* person_col is text (or absent): lookups hold */
	struct pkey *byperson;   /* rows by pseudonym hash, or NULL */
	int lookups;
};

struct tab {
	sqlite3_vtab base;
	struct ctx *cx;
	sqlite3 *db;
	int kind;
	int ncol;                /* data columns */
	char **names;            /* SQL names of the data columns */
	char **src;              /* their segment column names */
	int date_tcol, person_tcol; /* table column numbers, -1 if none */
	struct seg *segs;
	size_t nseg;
	int64_t nrows;           /* rows of the current files (planner's estimate) */
	int64_t version;         /* host's data_version when the list was read */
	int cursors;             /* open cursors: the list is not changed under them */
};

struct want {
	char *p;
	size_t n;
};

struct cur {
	sqlite3_vtab_cursor base;
	/* constraints of this scan */
	int none;                /* no row can match */
	int by_file;
	int64_t file_id;
	int by_date;
	int32_t lo, hi;          /* day keys, inclusive */
	struct want *want;       /* pseudonyms, sorted, distinct */
	size_t nwant;
	int by_person;
	/* position */
	size_t si;               /* next segment to start */
	struct seg *s;           /* segment being read, NULL between segments */
	size_t pos, end;         /* over rows, or over cand */
	size_t row;              /* current row of s */
	uint32_t *cand;          /* a person lookup's rows, ascending */
	size_t ncand, capcand;
	int use_cand;
	int eof;
	/* dates formatted lately (a month's file holds a few dozen days) */
	int32_t dday[64];
	char dtext[64][12];
};

static int cmp_text(const char *a, size_t na, const char *b, size_t nb)
{
	int c = memcmp(a, b, na < nb ? na : nb);
	return c ? c : (na > nb) - (na < nb);
}

/* Day key of a stored date: the HES null dates at the days they name. */
static int32_t day_key(const struct ctx *cx, int32_t d)
{
	return d == YOC_DATE_HES_NULL ? cx->day1800 : d == YOC_DATE_HES_INVALID ? cx->day1801 : d;
}

/* "YYYY-MM-DD" exactly, a real date: 1 and *out; else 0. */
static int iso_day(const unsigned char *z, int n, int32_t *out)
{
	static const char shape[] = "dddd-dd-dd";
	if (!z || n != 10)
		return 0;
	for (int i = 0; i < 10; i++)
		if (shape[i] == 'd' ? (z[i] < '0' || z[i] > '9') : z[i] != '-')
			return 0;
	int y = (z[0] - '0') * 1000 + (z[1] - '0') * 100 + (z[2] - '0') * 10 + (z[3] - '0');
	int m = (z[5] - '0') * 10 + (z[6] - '0'), d = (z[8] - '0') * 10 + (z[9] - '0');
	if (!yoc_date_valid_ymd(y, m, d))
		return 0;
	*out = yoc_date_from_ymd(y, m, d);
	return 1;
}

static void set_err(sqlite3_vtab *vt, const char *fmt, const char *a, const char *b)
{
	sqlite3_free(vt->zErrMsg);
	vt->zErrMsg = sqlite3_mprintf(fmt, a, b);
}

/* ---- segments ---- */

static void seg_release(struct seg *s)
{
	yoc_seg_close(s->g);
	yoc_free(s->map);
	yoc_free(s->byperson);
	s->g = NULL;
	s->map = NULL;
	s->byperson = NULL;
}

/* Column map and date range of an open segment, for the table's columns as they stand. */
static int seg_map(struct tab *t, struct seg *s)
{
	yoc_free(s->map);
	s->map = yoc_calloc((size_t)t->ncol + 1, sizeof *s->map);
	if (!s->map)
		return SQLITE_NOMEM;
	for (int c = 0; c < t->ncol; c++)
		s->map[c] = yoc_seg_col(s->g, t->src[c]);
	s->line_col = yoc_seg_col(s->g, "_LINE");
	s->date_col = t->date_tcol >= 0 ? s->map[t->date_tcol - NMETA] : -1;
	s->person_col = t->person_tcol >= 0 ? s->map[t->person_tcol - NMETA] : -1;
	s->person_ok = s->person_col < 0 || yoc_seg_col_type(s->g, s->person_col) == YOC_COL_TEXT;
	s->dmin = INT32_MAX;
	s->dmax = INT32_MIN;
	s->dated = 1; /* no date column: every row's date is NULL */
	if (s->date_col >= 0) {
		const int32_t *d = yoc_seg_dates(s->g, s->date_col);
		s->dated = d != NULL;
		for (size_t r = 0; d && r < yoc_seg_nrows(s->g); r++) {
			if (d[r] == YOC_DATE_NONE)
				continue;
			int32_t k = day_key(t->cx, d[r]);
			if (k < s->dmin)
				s->dmin = k;
			if (k > s->dmax)
				s->dmax = k;
		}
	}
	return SQLITE_OK;
}

static int seg_open(struct tab *t, struct seg *s)
{
	struct yoc_error e;
	yoc_error_clear(&e);
	if (yoc_seg_open(t->cx->store, s->file_id, &s->g, &e)) {
		set_err(&t->base, "yoc: %s: %s", e.file, e.msg);
		return SQLITE_ERROR;
	}
	if (seg_map(t, s)) {
		seg_release(s);
		return SQLITE_NOMEM;
	}
	return SQLITE_OK;
}

#define PSEUDO_SEED 0x79716c /* any fixed seed */

static int cmp_pkey(const void *a, const void *b)
{
	const struct pkey *x = a, *y = b;
	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return (x->row > y->row) - (x->row < y->row);
}

/*
** The person index: every row's pseudonym hash, sorted. A lookup finds the
** rows with the wanted hash and compares their text (one cell at a time:
** the reader's text may live in a buffer the next call reuses).
*/
static int seg_index(struct seg *s)
{
	size_t n = yoc_seg_nrows(s->g);
	s->byperson = yoc_malloc((n ? n : 1) * sizeof *s->byperson);
	if (!s->byperson)
		return SQLITE_NOMEM;
	for (size_t r = 0; r < n; r++) {
		struct yoc_cell m = yoc_seg_text(s->g, s->person_col, r);
		s->byperson[r].h = yoc_hash64(m.p, m.n, PSEUDO_SEED);
		s->byperson[r].row = (uint32_t)r;
	}
	qsort(s->byperson, n, sizeof *s->byperson, cmp_pkey);
	return SQLITE_OK;
}

/*
** Reads the kind's current files; segments already open stay open (a
** file_id names one immutable segment). Called with no cursor open.
*/
static int tab_sync(struct tab *t)
{
	struct yoc_error e;
	yoc_error_clear(&e);
	struct yoc_file_info *fi = NULL;
	size_t nf = 0;
	if (yoc_store_files(t->cx->store, t->kind, 0, &fi, &nf, &e)) {
		set_err(&t->base, "yoc: %s: %s", e.file, e.msg);
		return SQLITE_ERROR;
	}
	struct seg *ns = yoc_calloc(nf + 1, sizeof *ns);
	if (!ns) {
		yoc_store_files_free(fi);
		return SQLITE_NOMEM;
	}
	int64_t rows = 0;
	size_t hint = 0;
	for (size_t i = 0; i < nf; i++) {
		ns[i].file_id = fi[i].file_id;
		rows += fi[i].loaded;
		for (size_t k = 0; k < t->nseg; k++) {
			struct seg *o = &t->segs[(hint + k) % t->nseg];
			if (o->file_id == fi[i].file_id && o->g) {
				ns[i] = *o;
				o->g = NULL;
				o->map = NULL;
				o->byperson = NULL;
				hint = (hint + k + 1) % t->nseg;
				break;
			}
		}
	}
	for (size_t k = 0; k < t->nseg; k++)
		seg_release(&t->segs[k]);
	yoc_free(t->segs);
	t->segs = ns;
	t->nseg = nf;
	t->nrows = rows;
	yoc_store_files_free(fi);
	return SQLITE_OK;
}

/* The host connection's data_version: changes when another connection commits. */
static int64_t data_version(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA main.data_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* ---- connect ---- */

static int ctx_store(struct ctx *cx, sqlite3 *db, char **pzErr)
{
	if (cx->store)
		return SQLITE_OK;
	const char *path = sqlite3_db_filename(db, "main");
	if (!path || !*path) {
		*pzErr = sqlite3_mprintf("yoc: the activity tables need a dataset's catalog:"
					 " open DIR/yoc.db (this database has no file)");
		return SQLITE_ERROR;
	}
	const char *slash = strrchr(path, '/');
	char dir[4096];
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	struct yoc_error e;
	yoc_error_clear(&e);
	if (yoc_store_open(&cx->store, dir, 0, &e)) {
		*pzErr = sqlite3_mprintf("yoc: %s: %s", e.file, e.msg);
		return SQLITE_ERROR;
	}
	return SQLITE_OK;
}

static void tab_free(struct tab *t)
{
	if (!t)
		return;
	for (size_t k = 0; k < t->nseg; k++)
		seg_release(&t->segs[k]);
	yoc_free(t->segs);
	for (int c = 0; c < t->ncol; c++) {
		yoc_free(t->names ? t->names[c] : NULL);
		yoc_free(t->src ? t->src[c] : NULL);
	}
	yoc_free(t->names);
	yoc_free(t->src);
	sqlite3_free(t->base.zErrMsg);
	yoc_free(t);
}

/* Appends a data column (SQL name made distinct from those before, case ignored). */
static int add_col(struct tab *t, size_t cap, const char *src)
{
	if ((size_t)t->ncol >= cap)
		return SQLITE_NOMEM;
	char name[300];
	snprintf(name, sizeof name, "%s", src);
	for (int k = 2;; k++) {
		int clash = sqlite3_stricmp(name, "file_id") == 0 || sqlite3_stricmp(name, "line") == 0;
		for (int c = 0; c < t->ncol && !clash; c++)
			clash = sqlite3_stricmp(name, t->names[c]) == 0;
		if (!clash)
			break;
		snprintf(name, sizeof name, "%s_%d", src, k);
	}
	t->names[t->ncol] = yoc_strdup(name);
	t->src[t->ncol] = yoc_strdup(src);
	if (!t->names[t->ncol] || !t->src[t->ncol]) {
		yoc_free(t->names[t->ncol]);
		yoc_free(t->src[t->ncol]);
		return SQLITE_NOMEM;
	}
	t->ncol++;
	return SQLITE_OK;
}

static const char *decl_type(const struct yoc_field *f, int segtype)
{
	int ft = f ? f->type : -1;
	if (ft == YOC_FT_INT || ft == YOC_FT_MONEY || (!f && (segtype == YOC_COL_INT ||
							      segtype == YOC_COL_MONEY)))
		return "INTEGER";
	return "TEXT";
}

static int tab_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
		       sqlite3_vtab **out, char **pzErr)
{
	struct ctx *cx = aux;
	int kind = yoc_spec_kind_by_name(argv[0]);
	const struct yoc_kind_spec *ks = kind >= 0 ? yoc_spec_kind(kind) : NULL;
	struct tab *t = NULL;
	sqlite3_str *sql = NULL;
	int *types = NULL;
	int rc;
	if (!ks) {
		*pzErr = sqlite3_mprintf("yoc: no feed kind %s", argv[0]);
		return SQLITE_ERROR;
	}
	if ((rc = ctx_store(cx, db, pzErr)))
		return rc;
	t = yoc_calloc(1, sizeof *t);
	if (!t)
		return SQLITE_NOMEM;
	t->cx = cx;
	t->db = db;
	t->kind = kind;
	t->date_tcol = t->person_tcol = -1;
	t->version = data_version(db);
	if ((rc = tab_sync(t))) {
		*pzErr = sqlite3_mprintf("%s", t->base.zErrMsg);
		goto cleanup;
	}
	/* Columns: the kind's fields, then what the current files add. */
	size_t cap = ks->nfields;
	for (size_t i = 0; i < t->nseg; i++) {
		if ((rc = seg_open(t, &t->segs[i]))) {
			*pzErr = sqlite3_mprintf("%s", t->base.zErrMsg);
			goto cleanup;
		}
		cap += yoc_seg_ncols(t->segs[i].g);
	}
	t->names = yoc_calloc(cap + 1, sizeof *t->names);
	t->src = yoc_calloc(cap + 1, sizeof *t->src);
	types = yoc_calloc(cap + 1, sizeof *types);
	rc = SQLITE_NOMEM;
	if (!t->names || !t->src || !types)
		goto cleanup;
	for (size_t f = 0; f < ks->nfields; f++) {
		if ((rc = add_col(t, cap, ks->fields[f].name)))
			goto cleanup;
		if (ks->fields[f].role == YOC_ROLE_DATE && t->date_tcol < 0)
			t->date_tcol = t->ncol - 1 + NMETA;
		if (ks->fields[f].role == YOC_ROLE_PERSON && t->person_tcol < 0)
			t->person_tcol = t->ncol - 1 + NMETA;
	}
	for (size_t i = 0; i < t->nseg; i++) {
		yoc_seg *g = t->segs[i].g;
		for (size_t c = 0; c < yoc_seg_ncols(g); c++) {
			const char *n = yoc_seg_col_name(g, (int)c);
			int known = strcmp(n, "_LINE") == 0;
			for (int k = 0; k < t->ncol && !known; k++)
				known = strcmp(t->src[k], n) == 0;
			if (known)
				continue;
			types[t->ncol] = yoc_seg_col_type(g, (int)c);
			if ((rc = add_col(t, cap, n)))
				goto cleanup;
		}
	}
	/* The segments were opened before the columns were known: map them now. */
	for (size_t i = 0; i < t->nseg; i++)
		if ((rc = seg_map(t, &t->segs[i])))
			goto cleanup;
	sql = sqlite3_str_new(db);
	sqlite3_str_appendf(sql, "CREATE TABLE x(file_id INTEGER, line INTEGER");
	for (int c = 0; c < t->ncol; c++) {
		const struct yoc_field *f = (size_t)c < ks->nfields ? &ks->fields[c] : NULL;
		sqlite3_str_appendf(sql, ", \"%w\" %s", t->names[c], decl_type(f, types[c]));
	}
	sqlite3_str_appendf(sql, ")");
	char *z = sqlite3_str_finish(sql);
	sql = NULL;
	if (!z) {
		rc = SQLITE_NOMEM;
		goto cleanup;
	}
	rc = sqlite3_declare_vtab(db, z);
	sqlite3_free(z);
	if (rc)
		goto cleanup;
	*out = &t->base;
	t = NULL;
cleanup:
	if (sql)
		sqlite3_free(sqlite3_str_finish(sql));
	yoc_free(types);
	tab_free(t);
	return rc;
}

static int tab_disconnect(sqlite3_vtab *vt)
{
	tab_free((struct tab *)vt);
	return SQLITE_OK;
}

/* ---- planning ---- */

/*
** idxStr: one letter per argument of xFilter, in order: f file_id =,
** p PSEUDO_ID =, P PSEUDO_ID IN (all values at once), and for the activity
** date e =, g >, G >=, l <, L <=.
*/
static int tab_best_index(sqlite3_vtab *vt, sqlite3_index_info *info)
{
	struct tab *t = (struct tab *)vt;
	char plan[4 + MAX_DATE_CONS];
	int np = 0, person = 0, file = 0, ndate = 0, lower = 0, upper = 0, eq = 0;
	for (int i = 0; i < info->nConstraint; i++) {
		const struct sqlite3_index_constraint *c = &info->aConstraint[i];
		if (!c->usable)
			continue;
		const char *coll = sqlite3_vtab_collation(info, i);
		int binary = !coll || sqlite3_stricmp(coll, "BINARY") == 0;
		char code = 0;
		if (c->iColumn == t->person_tcol && c->op == SQLITE_INDEX_CONSTRAINT_EQ && binary &&
		    !person) {
			code = sqlite3_vtab_in(info, i, -1) && sqlite3_vtab_in(info, i, 1) ? 'P' : 'p';
			person = 1;
		} else if (c->iColumn == COL_FILE_ID && c->op == SQLITE_INDEX_CONSTRAINT_EQ && !file) {
			code = 'f';
			file = 1;
		} else if (c->iColumn == t->date_tcol && binary && ndate < MAX_DATE_CONS) {
			switch (c->op) {
			case SQLITE_INDEX_CONSTRAINT_EQ: code = 'e'; eq = 1; break;
			case SQLITE_INDEX_CONSTRAINT_GT: code = 'g'; lower = 1; break;
			case SQLITE_INDEX_CONSTRAINT_GE: code = 'G'; lower = 1; break;
			case SQLITE_INDEX_CONSTRAINT_LT: code = 'l'; upper = 1; break;
			case SQLITE_INDEX_CONSTRAINT_LE: code = 'L'; upper = 1; break;
			default: break;
			}
			ndate += code != 0;
		}
		if (!code)
			continue;
		plan[np++] = code;
		info->aConstraintUsage[i].argvIndex = np;
		info->aConstraintUsage[i].omit = 0;
	}
	/*
	 * Costs in rows read: a person lookup reads a column (or an index) of
	 * each segment, a date range the segments that overlap it.
	 */
	double n = t->nrows > 0 ? (double)t->nrows : 1.0, nseg = t->nseg ? (double)t->nseg : 1.0;
	double rows = n, cost = n;
	if (person) {
		rows = 10;
		cost = n / 20 + nseg * 10;
	}
	if (eq || (lower && upper)) {
		rows /= eq ? 365 : 12;
		cost = cost / (eq ? 365 : 12) + nseg;
	} else if (lower || upper) {
		rows /= 3;
		cost = cost / 3 + nseg;
	}
	if (file) {
		rows /= nseg;
		cost = cost / nseg + 1;
	}
	info->estimatedRows = rows < 1 ? 1 : (sqlite3_int64)rows;
	info->estimatedCost = cost < 1 ? 1 : cost;
	info->idxNum = np;
	if (np) {
		info->idxStr = sqlite3_mprintf("%.*s", np, plan);
		if (!info->idxStr)
			return SQLITE_NOMEM;
		info->needToFreeIdxStr = 1;
	}
	return SQLITE_OK;
}

/* ---- scanning ---- */

static int cur_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
	struct tab *t = (struct tab *)vt;
	if (t->cursors == 0) {
		int64_t v = data_version(t->db);
		if (v != t->version) {
			int rc = tab_sync(t);
			if (rc)
				return rc;
			t->version = v;
		}
	}
	struct cur *c = yoc_calloc(1, sizeof *c);
	if (!c)
		return SQLITE_NOMEM;
	for (int i = 0; i < 64; i++)
		c->dday[i] = YOC_DATE_NONE; /* never formatted */
	t->cursors++;
	*out = &c->base;
	return SQLITE_OK;
}

static void cur_reset(struct cur *c)
{
	for (size_t i = 0; i < c->nwant; i++)
		yoc_free(c->want[i].p);
	yoc_free(c->want);
	c->want = NULL;
	c->nwant = 0;
	c->none = c->by_file = c->by_date = c->by_person = c->eof = 0;
	c->lo = INT32_MIN;
	c->hi = INT32_MAX;
	c->si = 0;
	c->s = NULL;
	c->pos = c->end = c->ncand = 0;
}

static int cur_close(sqlite3_vtab_cursor *vc)
{
	struct cur *c = (struct cur *)vc;
	struct tab *t = (struct tab *)vc->pVtab;
	cur_reset(c);
	yoc_free(c->cand);
	yoc_free(c);
	t->cursors--;
	return SQLITE_OK;
}

static int cmp_want(const void *a, const void *b)
{
	const struct want *x = a, *y = b;
	return cmp_text(x->p, x->n, y->p, y->n);
}

/* A pseudonym to look up: 1 kept, 0 it can match nothing, -1 unreadable (no pruning). */
static int want_add(struct cur *c, sqlite3_value *v, size_t *cap)
{
	int type = sqlite3_value_type(v);
	if (type == SQLITE_NULL)
		return 0;
	if (type != SQLITE_TEXT)
		return -1;
	const char *z = (const char *)sqlite3_value_text(v);
	size_t n = (size_t)sqlite3_value_bytes(v);
	if (!z)
		return -2;
	if (n == 0)
		return 0; /* an empty cell reads as NULL */
	if (c->nwant == *cap) {
		size_t nc = *cap ? *cap * 2 : 4;
		struct want *w = yoc_realloc(c->want, nc * sizeof *w);
		if (!w)
			return -2;
		c->want = w;
		*cap = nc;
	}
	char *p = yoc_malloc(n);
	if (!p)
		return -2;
	memcpy(p, z, n);
	c->want[c->nwant].p = p;
	c->want[c->nwant].n = n;
	c->nwant++;
	return 1;
}

static int cand_add(struct cur *c, uint32_t r)
{
	if (c->ncand == c->capcand) {
		size_t nc = c->capcand ? c->capcand * 2 : 64;
		uint32_t *a = yoc_realloc(c->cand, nc * sizeof *a);
		if (!a)
			return SQLITE_NOMEM;
		c->cand = a;
		c->capcand = nc;
	}
	c->cand[c->ncand++] = r;
	return SQLITE_OK;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Rows of s whose pseudonym is wanted, ascending. */
static int person_rows(struct cur *c, struct seg *s, struct ctx *cx)
{
	c->ncand = 0;
	if (s->person_col < 0)
		return SQLITE_OK; /* no pseudonym in this file: NULL never matches */
	if (!s->byperson && s->lookups >= 1 && seg_index(s))
		return SQLITE_NOMEM;
	s->lookups++;
	size_t n = yoc_seg_nrows(s->g);
	if (s->byperson) {
		cx->stats.person_index++;
		for (size_t w = 0; w < c->nwant; w++) {
			uint64_t h = yoc_hash64(c->want[w].p, c->want[w].n, PSEUDO_SEED);
			size_t lo = 0, hi = n;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (s->byperson[mid].h < h)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (; lo < n && s->byperson[lo].h == h; lo++) {
				uint32_t r = s->byperson[lo].row;
				struct yoc_cell m = yoc_seg_text(s->g, s->person_col, r);
				if (cmp_text(m.p, m.n, c->want[w].p, c->want[w].n) == 0 && cand_add(c, r))
					return SQLITE_NOMEM;
			}
		}
		if (c->nwant > 1 && c->ncand > 1)
			qsort(c->cand, c->ncand, sizeof *c->cand, cmp_u32);
		return SQLITE_OK;
	}
	cx->stats.person_scans++;
	for (size_t r = 0; r < n; r++) {
		struct yoc_cell m = yoc_seg_text(s->g, s->person_col, r);
		if (m.n == 0)
			continue;
		struct want key = {(char *)m.p, m.n};
		int hit = c->nwant == 1 ? cmp_want(&key, &c->want[0]) == 0 :
			bsearch(&key, c->want, c->nwant, sizeof *c->want, cmp_want) != NULL;
		if (hit && cand_add(c, (uint32_t)r))
			return SQLITE_NOMEM;
	}
	return SQLITE_OK;
}

static int date_ok(const struct cur *c, const struct ctx *cx, const struct seg *s, size_t r)
{
	if (!s->dated)
		return 1;
	int32_t d = yoc_seg_date(s->g, s->date_col, r);
	if (d == YOC_DATE_NONE)
		return 0;
	int32_t k = day_key(cx, d);
	return k >= c->lo && k <= c->hi;
}

/* Moves to the next row that may match (or eof). */
static int cur_advance(struct cur *c)
{
	struct tab *t = (struct tab *)c->base.pVtab;
	struct ctx *cx = t->cx;
	for (;;) {
		if (c->s) {
			while (c->pos < c->end) {
				size_t r = c->use_cand ? c->cand[c->pos] : c->pos;
				c->pos++;
				cx->stats.rows++;
				if (c->by_date && !date_ok(c, cx, c->s, r))
					continue;
				c->row = r;
				cx->stats.returned++;
				return SQLITE_OK;
			}
			c->s = NULL;
		}
		if (c->none || c->si >= t->nseg) {
			c->eof = 1;
			return SQLITE_OK;
		}
		struct seg *s = &t->segs[c->si++];
		cx->stats.segments++;
		if (c->by_file && s->file_id != c->file_id) {
			cx->stats.skipped++;
			continue;
		}
		if (!s->g) {
			int rc = seg_open(t, s);
			if (rc)
				return rc;
		}
		if (c->by_date && s->dated && (s->dmin > c->hi || s->dmax < c->lo)) {
			cx->stats.skipped++;
			continue;
		}
		if (c->by_person && s->person_ok) {
			int rc = person_rows(c, s, cx);
			if (rc)
				return rc;
			c->use_cand = 1;
			c->end = c->ncand;
		} else {
			c->use_cand = 0;
			c->end = yoc_seg_nrows(s->g);
		}
		c->pos = 0;
		c->s = s;
	}
}

static int cur_filter(sqlite3_vtab_cursor *vc, int idxNum, const char *idxStr, int argc,
		      sqlite3_value **argv)
{
	struct cur *c = (struct cur *)vc;
	size_t cap = 0;
	int person_any = 0, person_seen = 0;
	cur_reset(c);
	for (int k = 0; k < argc && idxStr && idxStr[k]; k++) {
		sqlite3_value *v = argv[k];
		char code = idxStr[k];
		if (code == 'p' || code == 'P') {
			int r;
			person_seen = 1;
			if (code == 'p') {
				r = want_add(c, v, &cap);
				person_any |= r == -1;
			} else {
				sqlite3_value *x = NULL;
				int rc;
				r = 0;
				for (rc = sqlite3_vtab_in_first(v, &x); rc == SQLITE_OK && x && r != -2;
				     rc = sqlite3_vtab_in_next(v, &x)) {
					r = want_add(c, x, &cap);
					person_any |= r == -1;
				}
				if (rc != SQLITE_OK && rc != SQLITE_DONE)
					return rc;
			}
			if (r == -2)
				return SQLITE_NOMEM;
			continue;
		}
		if (sqlite3_value_type(v) == SQLITE_NULL) {
			c->none = 1; /* = NULL, < NULL: never true */
			continue;
		}
		if (code == 'f') {
			if (sqlite3_value_type(v) == SQLITE_INTEGER) {
				c->by_file = 1;
				c->file_id = sqlite3_value_int64(v);
			}
			continue;
		}
		int32_t d;
		if (sqlite3_value_type(v) != SQLITE_TEXT ||
		    !iso_day(sqlite3_value_text(v), sqlite3_value_bytes(v), &d))
			continue; /* SQLite compares it; nothing skipped */
		c->by_date = 1;
		if ((code == 'e' || code == 'G') && d > c->lo)
			c->lo = d;
		if (code == 'g' && d + 1 > c->lo)
			c->lo = d + 1;
		if ((code == 'e' || code == 'L') && d < c->hi)
			c->hi = d;
		if (code == 'l' && d - 1 < c->hi)
			c->hi = d - 1;
	}
	(void)idxNum;
	if (person_seen && !person_any) {
		if (c->nwant == 0)
			c->none = 1; /* only NULLs or empty strings to match */
		else
			qsort(c->want, c->nwant, sizeof *c->want, cmp_want);
		size_t o = 0;
		for (size_t i = 0; i < c->nwant; i++) {
			if (o && cmp_want(&c->want[o - 1], &c->want[i]) == 0)
				yoc_free(c->want[i].p);
			else
				c->want[o++] = c->want[i];
		}
		c->nwant = o;
		c->by_person = c->nwant > 0;
	}
	if (c->by_date && c->lo > c->hi)
		c->none = 1;
	return cur_advance(c);
}

static int cur_next(sqlite3_vtab_cursor *vc)
{
	return cur_advance((struct cur *)vc);
}

static int cur_eof(sqlite3_vtab_cursor *vc)
{
	return ((struct cur *)vc)->eof;
}

static int cur_column(sqlite3_vtab_cursor *vc, sqlite3_context *ctx, int i)
{
	struct cur *c = (struct cur *)vc;
	const struct seg *s = c->s;
	if (i == COL_FILE_ID) {
		sqlite3_result_int64(ctx, s->file_id);
		return SQLITE_OK;
	}
	int sc = i == COL_LINE ? s->line_col : s->map[i - NMETA];
	if (sc < 0)
		return SQLITE_OK; /* NULL */
	switch (yoc_seg_col_type(s->g, sc)) {
	case YOC_COL_TEXT: {
		struct yoc_cell v = yoc_seg_text(s->g, sc, c->row);
		if (v.n)
			sqlite3_result_text(ctx, v.p, (int)v.n, SQLITE_TRANSIENT);
		break;
	}
	case YOC_COL_DATE: {
		int32_t d = yoc_seg_date(s->g, sc, c->row);
		if (d == YOC_DATE_NONE)
			break;
		if (d == YOC_DATE_HES_NULL)
			sqlite3_result_text(ctx, "1800-01-01", 10, SQLITE_STATIC);
		else if (d == YOC_DATE_HES_INVALID)
			sqlite3_result_text(ctx, "1801-01-01", 10, SQLITE_STATIC);
		else {
			unsigned h = (unsigned)d & 63;
			if (c->dday[h] != d) {
				yoc_date_format(d, c->dtext[h]);
				c->dday[h] = d;
			}
			sqlite3_result_text(ctx, c->dtext[h], 10, SQLITE_TRANSIENT);
		}
		break;
	}
	default: {
		int64_t v = yoc_seg_int(s->g, sc, c->row);
		if (v != YOC_INT_NONE)
			sqlite3_result_int64(ctx, v);
		break;
	}
	}
	return SQLITE_OK;
}

static int cur_rowid(sqlite3_vtab_cursor *vc, sqlite3_int64 *out)
{
	struct cur *c = (struct cur *)vc;
	*out = (sqlite3_int64)((uint64_t)c->s->file_id << 32 | c->row);
	return SQLITE_OK;
}

static const sqlite3_module module = {
	.iVersion = 0,
	.xCreate = NULL, /* eponymous only: no CREATE VIRTUAL TABLE */
	.xConnect = tab_connect,
	.xBestIndex = tab_best_index,
	.xDisconnect = tab_disconnect,
	.xDestroy = tab_disconnect,
	.xOpen = cur_open,
	.xClose = cur_close,
	.xFilter = cur_filter,
	.xNext = cur_next,
	.xEof = cur_eof,
	.xColumn = cur_column,
	.xRowid = cur_rowid,
};

static void ctx_release(void *p)
{
	struct ctx *cx = p;
	if (--cx->refs > 0)
		return;
	yoc_store_close(cx->store);
	yoc_free(cx);
}

int yoc_sqlext_register(sqlite3 *db, const struct yoc_sqlext_stats **stats)
{
	struct ctx *cx = yoc_calloc(1, sizeof *cx);
	if (!cx)
		return SQLITE_NOMEM;
	cx->day1800 = yoc_date_from_ymd(1800, 1, 1);
	cx->day1801 = yoc_date_from_ymd(1801, 1, 1);
	cx->refs = 1; /* held until every module is registered */
	int rc = SQLITE_OK;
	for (int k = 0; k < YOC_KIND_COUNT && rc == SQLITE_OK; k++) {
		cx->refs++;
		rc = sqlite3_create_module_v2(db, yoc_spec_kind_name(k), &module, cx, ctx_release);
	}
	if (stats)
		*stats = rc == SQLITE_OK ? &cx->stats : NULL;
	ctx_release(cx);
	return rc;
}

#ifdef YOC_SQLITE_EXTENSION
/* Entry point SQLite derives from the file name yoc_sqlite.so. */
__attribute__((visibility("default"))) int
sqlite3_yocsqlite_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi)
{
	SQLITE_EXTENSION_INIT2(pApi);
	int rc = yoc_sqlext_register(db, NULL);
	if (rc != SQLITE_OK && pzErrMsg)
		*pzErrMsg = sqlite3_mprintf("yoc: cannot register the activity tables: %s",
					    sqlite3_errstr(rc));
	return rc;
}
#endif

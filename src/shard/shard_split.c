/*
** Resharding from the datasets themselves (shard.h, docs/mpi.md,
** "Resharding"): the k shards of a dataset (or the dataset alone) become
** k2 shards (or one dataset) without the feeds. Each file's rows are taken
** from the sources' segments in line order and written, by the ordinary
** segment writer, into the segment of the target that holds their person
** (shard FNV-1a-64(pseudonym) mod k2; a row without a person: file_id mod
** k2). The catalog rows of the loaded data follow their row (quarantine,
** flags), or go to every target whole (files with each target's own
** counts, loads, file_columns, duplicate_files, source accounts, meta);
** file_stats and nhsno_status are counted again from each target's rows as
** the loader counts them (load_encode.c); person and linkage are rebuilt
** from the target's segments, as a load rebuilds them. Every target is
** written in one transaction, committed at the end: a target is empty or
** whole. Must not: write a source, print, or call MPI.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shard/shard.h"
#include "spec/spec.h"

/* The loader's value counts: the first FREQ_MAX distinct values (load_int.h). */
#define FREQ_MAX 200
/* A quarantined row keeps at most this many bytes of its cells (load_read.c). */
#define RAW_MAX 4095

static int sqlerr(sqlite3 *db, struct yoc_error *e, const char *what)
{
	return yoc_error_set(e, YOC_EIO, what, 0, 0, "sqlite: %s", sqlite3_errmsg(db));
}

static int oom(struct yoc_error *e)
{
	return yoc_error_set(e, YOC_ENOMEM, "reshard", 0, 0, "out of memory");
}

/* ---- value counts, kept and handed on as the loader keeps them ---- */

struct fcount {
	struct yoc_map idx;    /* value -> its place in v */
	struct {
		size_t off, len;
		uint64_t n;
	} v[FREQ_MAX];
	size_t nv;
	int64_t other;         /* values past the first FREQ_MAX distinct ones */
	struct yoc_buf keys;
};

static int fc_init(struct fcount *c)
{
	c->nv = 0;
	c->other = 0;
	yoc_buf_init(&c->keys, 0);
	return yoc_map_init(&c->idx, 32);
}

static void fc_free(struct fcount *c)
{
	if (c->idx.slots)
		yoc_map_free(&c->idx);
	c->idx.slots = NULL;
	yoc_buf_free(&c->keys);
}

static int fc_add(struct fcount *c, const char *p, size_t n)
{
	uint64_t *k = yoc_map_get(&c->idx, p, n);
	if (k) {
		c->v[*k].n++;
		return YOC_OK;
	}
	if (c->nv >= FREQ_MAX) {
		c->other++;
		return YOC_OK;
	}
	c->v[c->nv].off = c->keys.len;
	c->v[c->nv].len = n;
	c->v[c->nv].n = 1;
	if (yoc_buf_append(&c->keys, p, n) || yoc_map_put(&c->idx, p, n, c->nv, NULL))
		return YOC_ENOMEM;
	c->nv++;
	return YOC_OK;
}

/*
** The counts in the order the loader writes them: put into a map of `init`
** expected keys in first-seen order, then walked slot by slot (the map's
** layout depends only on that sequence). *out: a map the caller frees.
*/
static int fc_map(const struct fcount *c, size_t init, struct yoc_map *out)
{
	if (yoc_map_init(out, init))
		return YOC_ENOMEM;
	for (size_t i = 0; i < c->nv; i++)
		if (yoc_map_put(out, c->keys.data + c->v[i].off, c->v[i].len, c->v[i].n, NULL))
			return YOC_ENOMEM;
	return YOC_OK;
}

/* ---- one source table read in file_id order, alongside the files ---- */

struct cur {
	sqlite3_stmt *st;
	int row;               /* a row is current */
};

static int cur_open(sqlite3 *db, const char *sql, struct cur *c, int optional,
		    struct yoc_error *e)
{
	c->row = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &c->st, NULL) != SQLITE_OK) {
		c->st = NULL;
		/* a table made since (duplicate_files, source accounts): none */
		if (optional && strstr(sqlite3_errmsg(db), "no such table"))
			return YOC_OK;
		return sqlerr(db, e, "yoc.db");
	}
	return YOC_OK;
}

static int cur_step(struct cur *c, struct yoc_error *e)
{
	if (!c->st)
		return YOC_OK;
	int r = sqlite3_step(c->st);
	c->row = r == SQLITE_ROW;
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return sqlerr(sqlite3_db_handle(c->st), e, "yoc.db");
	return YOC_OK;
}

static int64_t cur_fid(const struct cur *c)
{
	return c->row ? sqlite3_column_int64(c->st, 0) : INT64_MAX;
}

static const char *ctext(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	return s ? s : "";
}

/* ---- a quarantine or flag row of the file in hand ---- */

struct crow {
	int64_t line;
	size_t seq;            /* order read: sources in order, then rowid */
	int t;                 /* its target */
	int validate;          /* a quarantined value (not a malformed or repeated row) */
	size_t field, reason, value, extra; /* offsets into the file's text */
	int nvalue, nextra;    /* -1: NULL */
};

struct crows {
	struct crow *v;
	size_t n, cap;
};

static int crows_add(struct crows *r, struct yoc_buf *txt, sqlite3_stmt *st, size_t seq)
{
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 256;
		struct crow *nv = yoc_realloc(r->v, nc * sizeof *nv);
		if (!nv)
			return YOC_ENOMEM;
		r->v = nv;
		r->cap = nc;
	}
	struct crow *x = &r->v[r->n];
	memset(x, 0, sizeof *x);
	x->line = sqlite3_column_int64(st, 1);
	x->seq = seq;
	/* columns 2..5: field, value, reason, raw or action */
	size_t *off[4] = {&x->field, &x->value, &x->reason, &x->extra};
	int *len[4] = {NULL, &x->nvalue, NULL, &x->nextra};
	for (int i = 0; i < 4; i++) {
		const void *p = sqlite3_column_blob(st, 2 + i);
		int n = sqlite3_column_bytes(st, 2 + i);
		*off[i] = txt->len;
		if (len[i])
			*len[i] = sqlite3_column_type(st, 2 + i) == SQLITE_NULL ? -1 : n;
		if ((n && yoc_buf_append(txt, p, (size_t)n)) || yoc_buf_putc(txt, 0))
			return YOC_ENOMEM;
	}
	r->n++;
	return YOC_OK;
}

static int crow_cmp(const void *a, const void *b)
{
	const struct crow *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ---- per target ---- */

enum { T_FILE, T_COLUMN, T_QUAR, T_FLAG, T_STATS, T_NHSNO, T_N };
static const char *const tsql[T_N] = {
	"INSERT INTO files(file_id, load_id, kind, provider, period, path, hash, bytes,"
	" delimiter, segment, status, superseded_by, loaded_at, rows, loaded, quarantined,"
	" flagged) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	"INSERT INTO file_columns VALUES(?,?,?,?,?)",
	"INSERT INTO quarantine VALUES(?,?,?,?,?,?)",
	"INSERT INTO flags VALUES(?,?,?,?,?,?)",
	"INSERT INTO file_stats VALUES(?,?,?,?,?,?,?)",
	"INSERT INTO nhsno_status VALUES(?,?,?)",
};

struct target {
	yoc_store *s;
	sqlite3 *db;
	int pending, in_txn;
	sqlite3_stmt *st[T_N];
	/* the file in hand */
	struct yoc_segw *w;
	int64_t loaded, quarantined, flagged;
	int64_t *filled, *empty, *invalid; /* per statistics field */
	struct fcount *freq;               /* per statistics field (those counted) */
	struct fcount status;              /* nhsno_status */
};

static int step_done(sqlite3 *db, sqlite3_stmt *st, struct yoc_error *e)
{
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r == SQLITE_DONE ? YOC_OK : sqlerr(db, e, "yoc.db (target)");
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *p, int n)
{
	if (n < 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, p, n, SQLITE_STATIC);
}

/*
** Copies every row of table from source db into each target to do (the
** table is the same in every shard). A table the source lacks: none.
** skip_key: a meta key not copied.
*/
static int copy_table(sqlite3 *src, struct target *T, int k2, const char *table,
		      const char *skip_key, struct yoc_error *e)
{
	sqlite3_stmt *q = NULL, *ins = NULL;
	char sql[640];
	int rc = YOC_OK;
	snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY rowid", table);
	if (sqlite3_prepare_v2(src, sql, -1, &q, NULL) != SQLITE_OK)
		return strstr(sqlite3_errmsg(src), "no such table") ? YOC_OK
								   : sqlerr(src, e, "yoc.db");
	int nc = sqlite3_column_count(q);
	for (int t = 0; t < k2 && !rc; t++) {
		if (!T[t].pending)
			continue;
		char ph[256];
		size_t n = 0;
		for (int i = 0; i < nc && n + 3 < sizeof ph; i++)
			n += (size_t)snprintf(ph + n, sizeof ph - n, "%s?", i ? "," : "");
		snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO %s VALUES(%s)", table, ph);
		if (sqlite3_prepare_v2(T[t].db, sql, -1, &ins, NULL) != SQLITE_OK) {
			rc = sqlerr(T[t].db, e, "yoc.db (target)");
			break;
		}
		sqlite3_reset(q);
		int r;
		while (!rc && (r = sqlite3_step(q)) == SQLITE_ROW) {
			if (skip_key && strcmp(ctext(q, 0), skip_key) == 0)
				continue;
			for (int i = 0; i < nc; i++)
				sqlite3_bind_value(ins, i + 1, sqlite3_column_value(q, i));
			rc = step_done(T[t].db, ins, e);
		}
		if (!rc && r != SQLITE_DONE)
			rc = sqlerr(src, e, "yoc.db");
		sqlite3_finalize(ins);
		ins = NULL;
	}
	sqlite3_finalize(q);
	return rc;
}

/* The name of the kind's field with role (NULL: none). */
static const char *role_field(int kind, int role)
{
	const struct yoc_kind_spec *ks = kind >= 0 ? yoc_spec_kind(kind) : NULL;
	for (size_t i = 0; ks && i < ks->nfields; i++)
		if (ks->fields[i].role == role)
			return ks->fields[i].name;
	return NULL;
}

/*
** The person cell of a quarantined row, as a sharded load's routing reads
** it (shard_route.c: a well-formed row's person column, unless empty).
** The row keeps its loaded cells joined by commas, unescaped: when a cell
** holds a comma the person's cell is found only at either end (*unread
** set otherwise). Returns 1 with the cell in *p, *n, or 0: no person.
*/
static int quar_person(const struct crow *x, const char *txt, const char *pname, int pcol,
		       int ncols, const char **p, size_t *n, int *unread)
{
	const char *reason = txt + x->reason;
	*unread = 0;
	if (pcol < 0 || strncmp(reason, "csv_", 4) == 0)
		return 0; /* malformed or ragged: no person */
	if (pname && strcmp(txt + x->field, pname) == 0 && x->nvalue >= 0) {
		*p = txt + x->value; /* the cell as sent */
		*n = (size_t)x->nvalue;
		return *n > 0;
	}
	const char *raw = txt + x->extra;
	size_t nraw = x->nextra > 0 ? (size_t)x->nextra : 0;
	size_t commas = 0;
	for (size_t i = 0; i < nraw; i++)
		commas += raw[i] == ',';
	const char *a = raw, *b = raw + nraw;
	if (commas + 1 == (size_t)ncols && nraw < RAW_MAX) {
		for (int j = 0; j < pcol; j++)
			a = memchr(a, ',', (size_t)(b - a)) + 1;
		const char *c = memchr(a, ',', (size_t)(b - a));
		b = c ? c : b;
	} else if (pcol == 0) {
		const char *c = memchr(a, ',', (size_t)(b - a));
		b = c ? c : b;
	} else if (pcol == ncols - 1 && nraw < RAW_MAX) {
		while (b > a && b[-1] != ',')
			b--;
		a = b;
		b = raw + nraw;
	} else {
		*unread = 1;
		return 0;
	}
	*p = a;
	*n = (size_t)(b - a);
	return *n > 0;
}

/* A line's target among the rows of the file (sorted by line), or -1. */
static int line_target(const int64_t (*lt)[2], size_t n, int64_t line)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (lt[mid][0] < line)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && lt[lo][0] == line ? (int)lt[lo][1] : -1;
}

/* ---- the statistics of one file, as the loader writes them ---- */

struct sfield {
	char *name;
	int freq;              /* value counts kept (code and int fields) */
	int col;               /* in the segment, -1 if absent */
	/*
	** An int field's values as the feed wrote them ("01"), from the
	** sources' counts: int64 -> offset << 24 | length in the file's text,
	** UINT64_MAX when one value was written two ways.
	*/
	struct yoc_map written;
};

/* A source's value counts of a field ("code=n;..."), in the file's text. */
struct topref {
	size_t field, off, len;
};

static int write_stats(struct target *T, int64_t fid, const struct sfield *sf, size_t nsf,
		       int has_status, struct yoc_error *e)
{
	struct yoc_buf top;
	struct yoc_map m = {0};
	int rc = YOC_OK;
	yoc_buf_init(&top, 1 << 20);
	for (size_t i = 0; i < nsf && !rc; i++) {
		int64_t nd = -1;
		yoc_buf_reset(&top);
		if (sf[i].freq) {
			if (fc_map(&T->freq[i], 32, &m)) {
				rc = oom(e);
				break;
			}
			size_t pos = 0;
			const struct yoc_map_slot *sl;
			nd = 0;
			while ((sl = yoc_map_next(&m, &pos)) != NULL) {
				nd++;
				yoc_buf_printf(&top, "%s%.*s=%llu", top.len ? ";" : "", (int)sl->klen,
					       sl->key, (unsigned long long)sl->value);
			}
			if (T->freq[i].other)
				yoc_buf_printf(&top, "%s(other)=%lld", top.len ? ";" : "",
					       (long long)T->freq[i].other);
			yoc_map_free(&m);
			m.slots = NULL;
		}
		sqlite3_stmt *st = T->st[T_STATS];
		sqlite3_bind_int64(st, 1, fid);
		sqlite3_bind_text(st, 2, sf[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, T->filled[i]);
		sqlite3_bind_int64(st, 4, T->empty[i]);
		sqlite3_bind_int64(st, 5, T->invalid[i]);
		if (nd >= 0)
			sqlite3_bind_int64(st, 6, nd);
		sqlite3_bind_text(st, 7, top.len ? top.data : "", (int)top.len, SQLITE_STATIC);
		rc = step_done(T->db, st, e);
	}
	if (!rc && has_status) {
		if (fc_map(&T->status, 16, &m)) {
			rc = oom(e);
		} else {
			size_t pos = 0;
			const struct yoc_map_slot *sl;
			while (!rc && (sl = yoc_map_next(&m, &pos)) != NULL) {
				sqlite3_stmt *st = T->st[T_NHSNO];
				sqlite3_bind_int64(st, 1, fid);
				sqlite3_bind_text(st, 2, sl->key, (int)sl->klen, SQLITE_STATIC);
				sqlite3_bind_int64(st, 3, (int64_t)sl->value);
				rc = step_done(T->db, st, e);
			}
			yoc_map_free(&m);
		}
	}
	yoc_buf_free(&top);
	return rc;
}

/* ---- the work ---- */

/* The file in hand. */
struct file {
	int64_t fid;
	int64_t src_loaded, src_quar, src_flagged; /* summed over the sources */
	const char *pname, *sname; /* the kind's person and NHS number status fields */
	const yoc_seg *g0;         /* the first source segment: the layout */
	int pc, sc, ncols;         /* person, status columns; columns before _LINE */
	int has_status;            /* nhsno_status counted (a status or person column) */
};

struct job {
	struct file F;
	yoc_store *const *src;
	int k, k2;
	struct target *T;
	struct yoc_shard_reshard *st;
	struct cur files0, *files, *quar, *flags, *stats, cols;
	struct yoc_buf txt;
	struct crows q, f;
	int64_t (*lt)[2];      /* (line, target) of the file's loaded rows */
	size_t nlt, caplt;
	struct sfield *sf;
	size_t nsf, capsf;
	struct topref *top;
	size_t ntop, captop;
	yoc_seg **g;
};

static void file_reset(struct job *J)
{
	for (int t = 0; J->T && t < J->k2; t++) {
		struct target *T = &J->T[t];
		yoc_segw_free(T->w);
		T->w = NULL;
		for (size_t i = 0; T->freq && i < J->nsf; i++)
			fc_free(&T->freq[i]);
		fc_free(&T->status);
		yoc_free(T->filled);
		yoc_free(T->freq);
		T->filled = T->empty = T->invalid = NULL;
		T->freq = NULL;
		T->loaded = T->quarantined = T->flagged = 0;
	}
	for (int s = 0; J->g && s < J->k; s++) {
		yoc_seg_close(J->g[s]);
		J->g[s] = NULL;
	}
	for (size_t i = 0; i < J->nsf; i++) {
		yoc_free(J->sf[i].name);
		if (J->sf[i].written.slots)
			yoc_map_free(&J->sf[i].written);
	}
	J->nsf = 0;
	J->ntop = 0;
	J->nlt = 0;
	J->q.n = J->f.n = 0;
	yoc_buf_reset(&J->txt);
}

/* A loaded row of source s (row r): its target, and into it. */
static int take_row(struct job *J, int s, size_t r, const int64_t (*nulled)[2], size_t nnulled,
		    struct yoc_error *e)
{
	const yoc_seg *g = J->g[s];
	int64_t fid = J->F.fid;
	int pc = J->F.pc, sc = J->F.sc, has_status = J->F.has_status;
	int64_t line = yoc_seg_int(g, (int)yoc_seg_ncols(g) - 1, r);
	int t = (int)(fid % J->k2);
	struct yoc_cell p = pc >= 0 ? yoc_seg_text(g, pc, r) : (struct yoc_cell){NULL, 0};
	if (p.n) {
		t = yoc_shard_of(p.p, p.n, J->k2);
	} else if (nnulled) {
		/* a pseudonym nulled by the load: routed by the cell as sent */
		int v = line_target(nulled, nnulled, line);
		if (v >= 0) {
			const struct crow *x = &J->f.v[v];
			t = yoc_shard_of(J->txt.data + x->value, (size_t)x->nvalue, J->k2);
		}
	}
	if (J->nlt == J->caplt) {
		size_t nc = J->caplt ? J->caplt * 2 : 4096;
		int64_t(*nv)[2] = yoc_realloc(J->lt, nc * sizeof *nv);
		if (!nv)
			return oom(e);
		J->lt = nv;
		J->caplt = nc;
	}
	J->lt[J->nlt][0] = line;
	J->lt[J->nlt++][1] = t;
	struct target *T = &J->T[t];
	T->loaded++;
	if (!T->pending)
		return YOC_OK;
	size_t nc = yoc_seg_ncols(g);
	int rc = YOC_OK;
	for (size_t c = 0; c < nc && !rc; c++) {
		switch (yoc_seg_col_type(g, (int)c)) {
		case YOC_COL_TEXT: {
			struct yoc_cell v = yoc_seg_text(g, (int)c, r);
			rc = yoc_segw_text(T->w, c, v.p, v.n);
			break;
		}
		case YOC_COL_DATE:
			rc = yoc_segw_i32(T->w, c, yoc_seg_date(g, (int)c, r));
			break;
		default:
			rc = yoc_segw_i64(T->w, c, yoc_seg_int(g, (int)c, r));
			break;
		}
	}
	if (rc || (rc = yoc_segw_row_end(T->w)))
		return yoc_error_set(e, YOC_ENOMEM, "reshard", 0, 0, "out of memory building a segment");
	/* the statistics, as load_encode.c counts a loaded row */
	for (size_t i = 0; i < J->nsf; i++) {
		int c = J->sf[i].col;
		if (c < 0) {
			T->empty[i]++;
			continue;
		}
		char num[32];
		const char *vp = NULL;
		size_t vn = 0;
		switch (yoc_seg_col_type(g, c)) {
		case YOC_COL_TEXT: {
			struct yoc_cell v = yoc_seg_text(g, c, r);
			vp = v.p;
			vn = v.n;
			break;
		}
		case YOC_COL_DATE:
			vn = yoc_seg_date(g, c, r) != YOC_DATE_NONE;
			vp = "";
			break;
		default: {
			int64_t v = yoc_seg_int(g, c, r);
			if (v == YOC_INT_NONE)
				break;
			/* counted as the feed wrote it, when the sources' counts say how */
			const uint64_t *w = J->sf[i].freq && J->sf[i].written.slots
						    ? yoc_map_get(&J->sf[i].written, &v, sizeof v)
						    : NULL;
			if (w && *w != UINT64_MAX) {
				vp = J->txt.data + (*w >> 24);
				vn = (size_t)(*w & 0xffffff);
			} else {
				vn = (size_t)snprintf(num, sizeof num, "%lld", (long long)v);
				vp = num;
				J->st->unwritten += J->sf[i].freq;
			}
			break;
		}
		}
		if (!vn) {
			T->empty[i]++;
			continue;
		}
		T->filled[i]++;
		if (J->sf[i].freq && fc_add(&T->freq[i], vp, vn))
			return oom(e);
	}
	if (has_status) {
		struct yoc_cell v = yoc_seg_text(g, sc >= 0 ? sc : pc, r);
		if (sc >= 0)
			rc = v.n ? fc_add(&T->status, v.p, v.n) : fc_add(&T->status, "(empty)", 7);
		else
			rc = v.n ? fc_add(&T->status, "pseudonym", 9) : fc_add(&T->status, "missing", 7);
		if (rc)
			return oom(e);
	}
	return YOC_OK;
}

/* Every source's row of the file (the same file, its own counts), its segments, their layout. */
static int file_open(struct job *J, struct yoc_error *e)
{
	struct file *F = &J->F;
	sqlite3_stmt *f0 = J->files0.st;
	int rc;
	int kind = yoc_spec_kind_by_name(ctext(f0, 2));
	F->pname = role_field(kind, YOC_ROLE_PERSON);
	F->sname = role_field(kind, YOC_ROLE_NHSNO_STATUS);
	for (int s = 0; s < J->k; s++) {
		sqlite3_stmt *q = J->files[s].st;
		if (cur_fid(&J->files[s]) != F->fid || strcmp(ctext(q, 1), ctext(f0, 6)) != 0)
			return yoc_error_set(e, YOC_EDATA, yoc_store_dir(J->src[s]), 0, 0,
					     "file %lld is not the same file in every shard: not "
					     "shards of one dataset", (long long)F->fid);
		F->src_loaded += sqlite3_column_int64(q, 3);
		F->src_quar += sqlite3_column_int64(q, 4);
		F->src_flagged += sqlite3_column_int64(q, 5);
		if (*ctext(q, 2) && (rc = yoc_seg_open(J->src[s], F->fid, &J->g[s], e)))
			return rc;
	}
	/* the layout, from the first segment; every shard's must be the same */
	for (int s = 0; s < J->k; s++) {
		const yoc_seg *g = J->g[s], *g0 = F->g0;
		if (!g)
			continue;
		if (!g0) {
			F->g0 = g;
			continue;
		}
		int same = yoc_seg_ncols(g) == yoc_seg_ncols(g0);
		for (size_t c = 0; same && c < yoc_seg_ncols(g0); c++)
			same = strcmp(yoc_seg_col_name(g, (int)c), yoc_seg_col_name(g0, (int)c)) == 0 &&
			       yoc_seg_col_type(g, (int)c) == yoc_seg_col_type(g0, (int)c);
		if (!same)
			return yoc_error_set(e, YOC_EDATA, yoc_store_dir(J->src[s]), 0, 0,
					     "the segment of file %lld has other columns than in "
					     "shard 0", (long long)F->fid);
	}
	F->pc = F->sc = -1;
	F->ncols = 0;
	if (F->g0) {
		F->ncols = (int)yoc_seg_ncols(F->g0) - 1;
		if (F->ncols < 0 || strcmp(yoc_seg_col_name(F->g0, F->ncols), "_LINE") != 0)
			return yoc_error_set(e, YOC_EDATA, yoc_store_dir(J->src[0]), 0, 0,
					     "the segment of file %lld has no _LINE column",
					     (long long)F->fid);
		F->pc = F->pname ? yoc_seg_col(F->g0, F->pname) : -1;
		F->sc = F->sname ? yoc_seg_col(F->g0, F->sname) : -1;
	}
	F->has_status = F->sc >= 0 || F->pc >= 0;
	return YOC_OK;
}

/*
** The statistics fields, in the loader's order (shard 0's), and every
** shard's value counts ("01=5;02=1"), which say how an int field's values
** were written.
*/
static int file_fields(struct job *J, struct yoc_error *e)
{
	struct file *F = &J->F;
	int rc = YOC_OK;
	for (int s = 0; s < J->k; s++) {
		struct cur *c = &J->stats[s];
		while (c->row && cur_fid(c) < F->fid)
			if ((rc = cur_step(c, e)))
				return rc;
		for (; cur_fid(c) == F->fid; rc = cur_step(c, e)) {
			if (rc)
				return rc;
			const char *name = ctext(c->st, 1);
			size_t fi = J->nsf;
			for (size_t i = 0; s && i < J->nsf; i++)
				if (strcmp(J->sf[i].name, name) == 0)
					fi = i;
			if (fi == J->nsf && s)
				continue; /* a field shard 0 does not count */
			if (fi == J->nsf) {
				if (J->nsf == J->capsf) {
					size_t nc = J->capsf ? J->capsf * 2 : 32;
					struct sfield *nv = yoc_realloc(J->sf, nc * sizeof *nv);
					if (!nv)
						return oom(e);
					J->sf = nv;
					J->capsf = nc;
				}
				struct sfield *x = &J->sf[J->nsf];
				memset(x, 0, sizeof *x);
				if (!(x->name = yoc_strdup(name)))
					return oom(e);
				x->freq = sqlite3_column_int(c->st, 2);
				x->col = F->g0 ? yoc_seg_col(F->g0, name) : -1;
				J->nsf++;
			}
			int n = sqlite3_column_bytes(c->st, 3);
			if (!J->sf[fi].freq || !n)
				continue;
			if (J->ntop == J->captop) {
				size_t nc = J->captop ? J->captop * 2 : 64;
				struct topref *nv = yoc_realloc(J->top, nc * sizeof *nv);
				if (!nv)
					return oom(e);
				J->top = nv;
				J->captop = nc;
			}
			J->top[J->ntop].field = fi;
			J->top[J->ntop].off = J->txt.len;
			J->top[J->ntop++].len = (size_t)n;
			if (yoc_buf_append(&J->txt, sqlite3_column_text(c->st, 3), (size_t)n) ||
			    yoc_buf_putc(&J->txt, 0))
				return oom(e);
		}
		if (rc)
			return rc;
	}
	/* an int field's values as written: "01=5;02=1" says 1 is written "01" */
	for (size_t i = 0; i < J->ntop; i++) {
		struct sfield *x = &J->sf[J->top[i].field];
		if (x->col < 0 || yoc_seg_col_type(F->g0, x->col) != YOC_COL_INT)
			continue;
		if (!x->written.slots && yoc_map_init(&x->written, 64))
			return oom(e);
		const char *p = J->txt.data + J->top[i].off, *end = p + J->top[i].len;
		while (p < end) {
			const char *semi = memchr(p, ';', (size_t)(end - p));
			const char *q = semi ? semi : end;
			const char *eq = q;
			while (eq > p && eq[-1] != '=')
				eq--;
			int64_t v;
			struct yoc_cell key = {p, eq > p ? (size_t)(eq - 1 - p) : 0};
			if (eq > p && key.n < 0xffffff && !yoc_cell_int(key, &v)) {
				uint64_t at = (uint64_t)(p - J->txt.data) << 24 | key.n;
				uint64_t *w = yoc_map_get(&x->written, &v, sizeof v);
				if (w && *w != at &&
				    ((*w & 0xffffff) != key.n ||
				     memcmp(J->txt.data + (*w >> 24), p, key.n) != 0))
					*w = UINT64_MAX; /* written two ways */
				else if (!w && yoc_map_put(&x->written, &v, sizeof v, at, NULL))
					return oom(e);
			}
			p = q + 1;
		}
	}
	return YOC_OK;
}

/* Per target to write: the file's segment writer and counts. */
static int file_targets(struct job *J, struct yoc_error *e)
{
	const yoc_seg *g0 = J->F.g0;
	for (int t = 0; t < J->k2; t++) {
		struct target *T = &J->T[t];
		if (!T->pending)
			continue;
		size_t n = J->nsf ? J->nsf : 1;
		T->filled = yoc_calloc(3 * n, sizeof *T->filled);
		T->freq = yoc_calloc(n, sizeof *T->freq);
		if (!T->filled || !T->freq)
			return oom(e);
		T->empty = T->filled + n;
		T->invalid = T->filled + 2 * n;
		for (size_t i = 0; i < J->nsf; i++)
			if (fc_init(&T->freq[i]))
				return oom(e);
		if (fc_init(&T->status))
			return oom(e);
		if (!g0)
			continue;
		size_t nc = yoc_seg_ncols(g0);
		const char **names = yoc_calloc(2 * nc + 1, sizeof *names);
		int *types = yoc_calloc(nc + 1, sizeof *types);
		if (names && types) {
			for (size_t c = 0; c < nc; c++) {
				names[c] = yoc_seg_col_name(g0, (int)c);
				names[nc + c] = yoc_seg_col_source(g0, (int)c);
				types[c] = yoc_seg_col_type(g0, (int)c);
			}
			if (!yoc_segw_create(&T->w, yoc_seg_kind(g0), nc, names, names + nc, types))
				yoc_segw_reserve(T->w, (size_t)(J->F.src_loaded / J->k2) + 16);
		}
		yoc_free(names);
		yoc_free(types);
		if (!T->w)
			return oom(e);
	}
	return YOC_OK;
}

/* The file's rows of one table (quarantine or flags) from every source, in line order. */
static int collect(struct job *J, struct cur *cs, struct crows *R, struct yoc_error *e)
{
	size_t seq = 0;
	int rc = YOC_OK;
	for (int s = 0; s < J->k; s++) {
		struct cur *c = &cs[s];
		while (c->row && cur_fid(c) < J->F.fid)
			if ((rc = cur_step(c, e)))
				return rc;
		for (; !rc && cur_fid(c) == J->F.fid; rc = cur_step(c, e))
			if (crows_add(R, &J->txt, c->st, seq++))
				return oom(e);
		if (rc)
			return rc;
	}
	if (R->n > 1) /* a file no shard loaded a row of has none (and R->v may be NULL) */
		qsort(R->v, R->n, sizeof *R->v, crow_cmp);
	return YOC_OK;
}

/*
** The loaded rows, in line order over the shards, each to its target. A
** pseudonym the load nulled routes its row by the cell as sent, which the
** flag keeps (the flags are collected first).
*/
static int file_rows(struct job *J, struct yoc_error *e)
{
	struct file *F = &J->F;
	int rc = YOC_OK;
	int64_t(*nulled)[2] = NULL;
	size_t nnulled = 0;
	size_t *at = yoc_calloc((size_t)J->k, sizeof *at);
	if (!at)
		return oom(e);
	for (size_t i = 0; F->pname && i < J->f.n; i++) {
		const struct crow *x = &J->f.v[i];
		if (strcmp(J->txt.data + x->field, F->pname) != 0 || x->nvalue <= 0 ||
		    strcmp(J->txt.data + x->extra, "nulled") != 0)
			continue;
		if (!nulled && !(nulled = yoc_calloc(J->f.n, sizeof *nulled))) {
			rc = oom(e);
			goto cleanup;
		}
		nulled[nnulled][0] = x->line;
		nulled[nnulled++][1] = (int64_t)i;
	}
	for (;;) {
		int best = -1;
		int64_t bl = 0;
		for (int s = 0; s < J->k; s++) {
			const yoc_seg *g = J->g[s];
			if (!g || at[s] >= yoc_seg_nrows(g))
				continue;
			int64_t l = yoc_seg_int(g, F->ncols, at[s]);
			if (best < 0 || l < bl) {
				best = s;
				bl = l;
			}
		}
		if (best < 0)
			break;
		if ((rc = take_row(J, best, at[best]++, (const int64_t(*)[2])nulled, nnulled, e)))
			break;
	}
cleanup:
	yoc_free(at);
	yoc_free(nulled);
	return rc;
}

/* Each quarantined row to its person's target, each flag to its row's. */
static void file_place(struct job *J)
{
	struct file *F = &J->F;
	const char *txt = J->txt.data;
	int none = (int)(F->fid % J->k2); /* no person */
	for (size_t i = 0; i < J->q.n; i++) {
		struct crow *x = &J->q.v[i];
		const char *p = NULL, *reason = txt + x->reason;
		size_t n = 0;
		int unread = 0;
		x->t = none;
		if (quar_person(x, txt, F->pname, F->pc, F->ncols, &p, &n, &unread))
			x->t = yoc_shard_of(p, n, J->k2);
		J->st->unread += (uint64_t)unread;
		/* a value refused by validation, not a malformed or repeated row */
		x->validate = strncmp(reason, "csv_", 4) != 0 && strcmp(reason, "duplicate_row") != 0;
		J->T[x->t].quarantined++;
		J->T[x->t].flagged += x->validate;
	}
	for (size_t i = 0; i < J->f.n; i++) {
		struct crow *x = &J->f.v[i];
		int t = line_target((const int64_t(*)[2])J->lt, J->nlt, x->line);
		if (t < 0) {
			t = none; /* a flag of no loaded row */
			J->st->unmatched++;
		}
		x->t = t;
		J->T[t].flagged++;
	}
}

/* Into each target to write: the file's segment, then its catalog rows. */
static int file_write(struct job *J, struct yoc_error *e)
{
	struct file *F = &J->F;
	sqlite3_stmt *f0 = J->files0.st;
	const char *txt = J->txt.data;
	char segname[64] = "";
	int rc = YOC_OK;
	if (F->g0)
		snprintf(segname, sizeof segname, "f%lld.seg", (long long)F->fid);
	for (int t = 0; t < J->k2 && !rc; t++) {
		struct target *T = &J->T[t];
		if (!T->pending)
			continue;
		if (T->w && (rc = yoc_segw_write(T->w, T->s, segname, e)))
			break;
		sqlite3_stmt *st = T->st[T_FILE];
		for (int i = 0; i < 13; i++)
			sqlite3_bind_value(st, i + 1, sqlite3_column_value(f0, i));
		sqlite3_bind_text(st, 10, segname, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 14, T->loaded + T->quarantined);
		sqlite3_bind_int64(st, 15, T->loaded);
		sqlite3_bind_int64(st, 16, T->quarantined);
		sqlite3_bind_int64(st, 17, T->flagged);
		if ((rc = step_done(T->db, st, e)))
			break;
		/* quarantined and flagged rows in line order, as a load writes them */
		for (int which = 0; which < 2 && !rc; which++) {
			const struct crows *R = which ? &J->f : &J->q;
			st = T->st[which ? T_FLAG : T_QUAR];
			for (size_t i = 0; i < R->n && !rc; i++) {
				const struct crow *x = &R->v[i];
				if (x->t != t)
					continue;
				/* the loader's invalid count: flags and refused values */
				for (size_t j = 0; (x->validate || which) && j < J->nsf; j++)
					if (strcmp(J->sf[j].name, txt + x->field) == 0) {
						T->invalid[j]++;
						break;
					}
				sqlite3_bind_int64(st, 1, F->fid);
				sqlite3_bind_int64(st, 2, x->line);
				sqlite3_bind_text(st, 3, txt + x->field, -1, SQLITE_STATIC);
				bind_text_or_null(st, 4, txt + x->value, x->nvalue);
				sqlite3_bind_text(st, 5, txt + x->reason, -1, SQLITE_STATIC);
				bind_text_or_null(st, 6, txt + x->extra, x->nextra);
				rc = step_done(T->db, st, e);
			}
		}
		if (!rc)
			rc = write_stats(T, F->fid, J->sf, J->nsf, F->has_status, e);
	}
	if (rc)
		return rc;
	/* file_columns: the same in every target */
	while (J->cols.row && cur_fid(&J->cols) < F->fid)
		if ((rc = cur_step(&J->cols, e)))
			return rc;
	for (; cur_fid(&J->cols) == F->fid; rc = cur_step(&J->cols, e)) {
		if (rc)
			return rc;
		for (int t = 0; t < J->k2 && !rc; t++) {
			if (!J->T[t].pending)
				continue;
			sqlite3_stmt *st = J->T[t].st[T_COLUMN];
			for (int i = 0; i < 5; i++)
				sqlite3_bind_value(st, i + 1, sqlite3_column_value(J->cols.st, i));
			rc = step_done(J->T[t].db, st, e);
		}
		if (rc)
			return rc;
	}
	return rc;
}

/* One file, from every source into every target to write. */
static int one_file(struct job *J, int64_t fid, uint64_t *rows_done, struct yoc_error *e)
{
	struct file *F = &J->F;
	int rc;
	memset(F, 0, sizeof *F);
	F->fid = fid;
	if ((rc = file_open(J, e)) || (rc = file_fields(J, e)) || (rc = file_targets(J, e)) ||
	    (rc = collect(J, J->flags, &J->f, e)) || (rc = file_rows(J, e)) ||
	    (rc = collect(J, J->quar, &J->q, e)))
		return rc;
	file_place(J);
	/* the accounting must hold before anything is written */
	int64_t sum_l = 0, sum_q = 0, sum_f = 0;
	for (int t = 0; t < J->k2; t++) {
		sum_l += J->T[t].loaded;
		sum_q += J->T[t].quarantined;
		sum_f += J->T[t].flagged;
	}
	if (sum_l != F->src_loaded || sum_q != F->src_quar)
		return yoc_error_set(e, YOC_EDATA, yoc_store_dir(J->src[0]), 0, 0,
				     "file %lld: its segments hold %lld rows and its quarantine %lld, "
				     "but the catalog counts %lld loaded and %lld quarantined",
				     (long long)fid, (long long)sum_l, (long long)sum_q,
				     (long long)F->src_loaded, (long long)F->src_quar);
	if (sum_f != F->src_flagged)
		J->st->flagged_differ++;
	J->st->files++;
	J->st->loaded += (uint64_t)sum_l;
	J->st->quarantined += (uint64_t)sum_q;
	J->st->flags += J->f.n;
	*rows_done += (uint64_t)(sum_l + sum_q);
	return file_write(J, e);
}

int yoc_shard_reshard(yoc_store *const *src, int k, yoc_store *const *dst, int k2,
		      const int *pending, void (*progress)(void *ctx, uint64_t done, uint64_t total),
		      void *ctx, struct yoc_shard_reshard *st, struct yoc_error *e)
{
	struct job J;
	int rc = YOC_OK;
	uint64_t total = 0, done = 0;
	memset(&J, 0, sizeof J);
	memset(st, 0, sizeof *st);
	J.src = src;
	J.k = k;
	J.k2 = k2;
	J.st = st;
	yoc_buf_init(&J.txt, 0);
	J.T = yoc_calloc((size_t)k2, sizeof *J.T);
	J.files = yoc_calloc((size_t)k * 4, sizeof *J.files);
	J.g = yoc_calloc((size_t)k, sizeof *J.g);
	if (!J.T || !J.files || !J.g) {
		rc = oom(e);
		goto cleanup;
	}
	J.quar = J.files + k;
	J.flags = J.files + 2 * k;
	J.stats = J.files + 3 * k;
	sqlite3 *db0 = yoc_store_db(src[0]);
	/* the sources, read in file order */
	for (int s = 0; s < k; s++) {
		sqlite3 *db = yoc_store_db(src[s]);
		sqlite3_stmt *q = NULL;
		if (sqlite3_prepare_v2(db, "SELECT coalesce(sum(rows), 0) FROM files", -1, &q, NULL) ==
			    SQLITE_OK &&
		    sqlite3_step(q) == SQLITE_ROW)
			total += (uint64_t)sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
		if ((rc = cur_open(db, "SELECT file_id, hash, segment, loaded, quarantined, flagged"
				   " FROM files ORDER BY file_id", &J.files[s], 0, e)) ||
		    (rc = cur_open(db, "SELECT file_id, line, field, value, reason, raw FROM quarantine"
				   " ORDER BY file_id, rowid", &J.quar[s], 0, e)) ||
		    (rc = cur_open(db, "SELECT file_id, line, field, value, reason, action FROM flags"
				   " ORDER BY file_id, rowid", &J.flags[s], 0, e)) ||
		    (rc = cur_open(db, "SELECT file_id, field, distinct_values IS NOT NULL, top_values"
				   " FROM file_stats ORDER BY file_id, rowid", &J.stats[s], 0, e)) ||
		    (rc = cur_step(&J.stats[s], e)) ||
		    (rc = cur_step(&J.files[s], e)) || (rc = cur_step(&J.quar[s], e)) ||
		    (rc = cur_step(&J.flags[s], e)))
			goto cleanup;
	}
	if ((rc = cur_open(db0, "SELECT file_id, load_id, kind, provider, period, path, hash, bytes,"
			   " delimiter, segment, status, superseded_by, loaded_at FROM files"
			   " ORDER BY file_id", &J.files0, 0, e)) ||
	    (rc = cur_open(db0, "SELECT file_id, position, name, source, type FROM file_columns"
			   " ORDER BY file_id, rowid", &J.cols, 0, e)) ||
	    (rc = cur_step(&J.cols, e)))
		goto cleanup;
	/* the targets: one transaction each */
	for (int t = 0; t < k2; t++) {
		struct target *T = &J.T[t];
		T->s = dst[t];
		T->pending = pending[t];
		if (!T->pending)
			continue;
		T->db = yoc_store_db(dst[t]);
		yoc_store_defer_sync(dst[t], 1);
		if (sqlite3_exec(T->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
			rc = sqlerr(T->db, e, yoc_store_dir(dst[t]));
			goto cleanup;
		}
		T->in_txn = 1;
		for (int i = 0; i < T_N; i++)
			if (sqlite3_prepare_v2(T->db, tsql[i], -1, &T->st[i], NULL) != SQLITE_OK) {
				rc = sqlerr(T->db, e, yoc_store_dir(dst[t]));
				goto cleanup;
			}
	}
	/* what every shard holds alike */
	if ((rc = copy_table(db0, J.T, k2, "meta", "shard", e)) ||
	    (rc = copy_table(db0, J.T, k2, "loads", NULL, e)) ||
	    (rc = copy_table(db0, J.T, k2, "duplicate_files", NULL, e)) ||
	    (rc = copy_table(db0, J.T, k2, "source_account", NULL, e)) ||
	    (rc = copy_table(db0, J.T, k2, "source_rejected", NULL, e)))
		goto cleanup;
	/* file by file */
	if ((rc = cur_step(&J.files0, e)))
		goto cleanup;
	while (J.files0.row) {
		int64_t fid = cur_fid(&J.files0);
		if ((rc = one_file(&J, fid, &done, e)))
			goto cleanup;
		file_reset(&J);
		for (int s = 0; s < k; s++)
			if ((rc = cur_step(&J.files[s], e)))
				goto cleanup;
		if ((rc = cur_step(&J.files0, e)))
			goto cleanup;
		if (progress)
			progress(ctx, done, total);
	}
	for (int s = 0; s < k; s++)
		if (J.files[s].row)
			rc = yoc_error_set(e, YOC_EDATA, yoc_store_dir(src[s]), 0, 0,
					   "holds files shard 0 does not: not shards of one dataset");
	if (rc)
		goto cleanup;
	/* each target: its loads' own counts, persons and linkage, its mark; durable */
	for (int t = 0; t < k2; t++) {
		struct target *T = &J.T[t];
		if (!T->pending)
			continue;
		for (int i = 0; i < T_N; i++) {
			sqlite3_finalize(T->st[i]);
			T->st[i] = NULL;
		}
		if (sqlite3_exec(T->db, "UPDATE loads SET"
				 " rows = (SELECT coalesce(sum(rows), 0) FROM files f"
				 " WHERE f.load_id = loads.load_id),"
				 " loaded = (SELECT coalesce(sum(loaded), 0) FROM files f"
				 " WHERE f.load_id = loads.load_id),"
				 " quarantined = (SELECT coalesce(sum(quarantined), 0) FROM files f"
				 " WHERE f.load_id = loads.load_id); DELETE FROM person;"
				 " DELETE FROM linkage", NULL, NULL, NULL) != SQLITE_OK) {
			rc = sqlerr(T->db, e, yoc_store_dir(T->s));
			goto cleanup;
		}
		if ((rc = yoc_store_rebuild_persons(T->s, e)) ||
		    (rc = yoc_store_rebuild_linkage(T->s, e)) ||
		    (rc = yoc_shard_mark(T->s, t, k2, e)) || (rc = yoc_store_sync(T->s, e)))
			goto cleanup;
	}
	/* then the commits: a reshard killed among them leaves each target whole or empty */
	for (int t = 0; t < k2; t++) {
		struct target *T = &J.T[t];
		if (!T->pending)
			continue;
		if (sqlite3_exec(T->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			rc = sqlerr(T->db, e, yoc_store_dir(T->s));
			goto cleanup;
		}
		T->in_txn = 0;
		st->committed++;
	}
cleanup:
	file_reset(&J);
	for (int t = 0; J.T && t < k2; t++) {
		struct target *T = &J.T[t];
		for (int i = 0; i < T_N; i++)
			sqlite3_finalize(T->st[i]);
		if (T->in_txn) {
			sqlite3_exec(T->db, "ROLLBACK", NULL, NULL, NULL);
			yoc_store_persons_reset(T->s);
		}
		if (T->s)
			yoc_store_defer_sync(T->s, 0);
	}
	for (int s = 0; J.files && s < 4 * k; s++)
		sqlite3_finalize(J.files[s].st);
	sqlite3_finalize(J.files0.st);
	sqlite3_finalize(J.cols.st);
	for (size_t i = 0; i < J.nsf; i++)
		yoc_free(J.sf[i].name);
	yoc_free(J.sf);
	yoc_free(J.top);
	yoc_free(J.lt);
	yoc_free(J.q.v);
	yoc_free(J.f.v);
	yoc_buf_free(&J.txt);
	yoc_free(J.g);
	yoc_free(J.files);
	yoc_free(J.T);
	return rc;
}

/*
** Columnar segment files: one per loaded feed file, immutable once written.
**
** Layout (native little-endian; docs/store.md):
**   header   "YOCSEG01", u32 version, u32 kind, u64 nrows, u64 ncols,
**            u64 dir_off, u64 dir_len                         (48 bytes)
**   blocks   per column, 8-byte aligned: int32[nrows] (date),
**            int64[nrows] (int, money) or u32 offsets[nrows+1] + heap (text)
**   dir      per column: u32 type, u32 name_len, u32 src_len, u32 0,
**            u64 off, u64 len, u64 heap_off, u64 heap_len, u64 hash,
**            u64 heap_hash, name, source, padding to 8
**   trailer  u64 checksum = yoc_hash64(header | dir | block hashes)
** A reader checks the trailer, every block hash and every bound before use.
** Writers create "NAME.tmp", fsync, and rename to NAME; the catalog row that
** names the segment is committed afterwards, by the caller. A store in
** deferred-sync mode (the loader's) skips the per-file fsyncs and makes all
** its new segments durable at once in yoc_store_sync, before the commit.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_int.h"
#include "yoc/date.h"

#define SEG_MAGIC "YOCSEG01"
#define HDR_LEN 48
#define MAX_TEXT_HEAP 0xF0000000u

struct wcol {
	int type;
	char *name, *source;
	size_t n, cap;   /* elements (for text: offsets count) */
	void *a;         /* int32_t / int64_t / uint32_t offsets */
	struct yoc_buf heap;
};

struct yoc_segw {
	int kind;
	size_t ncols;
	size_t nrows;
	struct wcol *cols;
};

int yoc_segw_create(struct yoc_segw **out, int kind, size_t ncols, const char *const *names,
		    const char *const *sources, const int *types)
{
	*out = NULL;
	struct yoc_segw *w = yoc_calloc(1, sizeof *w);
	if (!w)
		return YOC_ENOMEM;
	w->kind = kind;
	w->cols = yoc_calloc(ncols ? ncols : 1, sizeof *w->cols);
	if (!w->cols)
		goto oom;
	w->ncols = ncols;
	for (size_t i = 0; i < ncols; i++) {
		struct wcol *c = &w->cols[i];
		c->type = types[i];
		yoc_buf_init(&c->heap, MAX_TEXT_HEAP);
		c->name = yoc_strdup(names[i]);
		c->source = yoc_strdup(sources && sources[i] ? sources[i] : names[i]);
		if (!c->name || !c->source)
			goto oom;
		if (c->type == YOC_COL_TEXT) {
			c->a = yoc_malloc(64 * sizeof(uint32_t));
			if (!c->a)
				goto oom;
			c->cap = 64;
			((uint32_t *)c->a)[0] = 0;
			c->n = 1;
		}
	}
	*out = w;
	return YOC_OK;
oom:
	yoc_segw_free(w);
	return YOC_ENOMEM;
}

void yoc_segw_free(struct yoc_segw *w)
{
	if (!w)
		return;
	for (size_t i = 0; w->cols && i < w->ncols; i++) {
		yoc_free(w->cols[i].name);
		yoc_free(w->cols[i].source);
		yoc_free(w->cols[i].a);
		yoc_buf_free(&w->cols[i].heap);
	}
	yoc_free(w->cols);
	yoc_free(w);
}

static int grow(struct wcol *c, size_t esz)
{
	if (c->n < c->cap)
		return YOC_OK;
	size_t nc = c->cap ? c->cap * 2 : 256;
	void *na = yoc_realloc(c->a, nc * esz);
	if (!na)
		return YOC_ENOMEM;
	c->a = na;
	c->cap = nc;
	return YOC_OK;
}

int yoc_segw_text(struct yoc_segw *w, size_t col, const char *p, size_t n)
{
	struct wcol *c = &w->cols[col];
	if (c->type != YOC_COL_TEXT)
		return YOC_EINVAL;
	int rc = grow(c, sizeof(uint32_t));
	if (rc)
		return rc;
	if (n && (rc = yoc_buf_append(&c->heap, p, n)))
		return rc;
	((uint32_t *)c->a)[c->n++] = (uint32_t)c->heap.len;
	return YOC_OK;
}

int yoc_segw_i32(struct yoc_segw *w, size_t col, int32_t v)
{
	struct wcol *c = &w->cols[col];
	if (c->type != YOC_COL_DATE)
		return YOC_EINVAL;
	int rc = grow(c, sizeof(int32_t));
	if (rc)
		return rc;
	((int32_t *)c->a)[c->n++] = v;
	return YOC_OK;
}

int yoc_segw_i64(struct yoc_segw *w, size_t col, int64_t v)
{
	struct wcol *c = &w->cols[col];
	if (c->type != YOC_COL_INT && c->type != YOC_COL_MONEY)
		return YOC_EINVAL;
	int rc = grow(c, sizeof(int64_t));
	if (rc)
		return rc;
	((int64_t *)c->a)[c->n++] = v;
	return YOC_OK;
}

int yoc_segw_reserve(struct yoc_segw *w, size_t nrows)
{
	if (nrows <= w->nrows)
		return YOC_OK;
	for (size_t i = 0; i < w->ncols; i++) {
		struct wcol *c = &w->cols[i];
		size_t esz = c->type == YOC_COL_TEXT ? sizeof(uint32_t) :
			     c->type == YOC_COL_DATE ? sizeof(int32_t) : sizeof(int64_t);
		size_t want = nrows + 1;
		if (want > c->cap) {
			void *na = yoc_realloc(c->a, want * esz);
			if (!na)
				return YOC_ENOMEM;
			c->a = na;
			c->cap = want;
		}
		/* text: as many bytes per row to come as per row so far */
		if (c->type == YOC_COL_TEXT && w->nrows && c->heap.len) {
			size_t per = c->heap.len / w->nrows + 1;
			size_t more = (nrows - w->nrows) < SIZE_MAX / per ? (nrows - w->nrows) * per : 0;
			if (more && more < MAX_TEXT_HEAP - c->heap.len)
				yoc_buf_reserve(&c->heap, more); /* a hint: failing is fine */
		}
	}
	return YOC_OK;
}

int yoc_segw_row_end(struct yoc_segw *w)
{
	w->nrows++;
	return YOC_OK;
}

size_t yoc_segw_nrows(const struct yoc_segw *w)
{
	return w->nrows;
}

static size_t col_bytes(const struct wcol *c, size_t nrows)
{
	switch (c->type) {
	case YOC_COL_DATE: return nrows * 4;
	case YOC_COL_TEXT: return (nrows + 1) * 4;
	default: return nrows * 8;
	}
}

static int wr(int fd, const void *p, size_t n, uint64_t *pos)
{
	const char *c = p;
	while (n) {
		ssize_t k = write(fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return YOC_EIO;
		c += k;
		n -= (size_t)k;
		*pos += (uint64_t)k;
	}
	return YOC_OK;
}

static int pad8(int fd, uint64_t *pos)
{
	static const char z[8];
	size_t p = (size_t)((8 - (*pos & 7)) & 7);
	return p ? wr(fd, z, p, pos) : YOC_OK;
}

/* Writes the segment to tmp (created; removed again on failure). */
static int write_tmp(struct yoc_segw *w, const yoc_store *s, const char *tmp,
		     struct yoc_error *e)
{
	int fd = -1, rc = YOC_OK;
	struct yoc_buf dir;
	yoc_buf_init(&dir, 0);
	for (size_t i = 0; i < w->ncols; i++)
		if (w->cols[i].n != (w->cols[i].type == YOC_COL_TEXT ? w->nrows + 1 : w->nrows))
			return yoc_error_set(e, YOC_EINTERNAL, tmp, 0, 0, "column %zu has %zu values for %zu rows",
					     i, w->cols[i].n, w->nrows);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = yoc_error_set(e, YOC_EIO, tmp, 0, 0, "cannot create: %s", strerror(errno));
		goto cleanup;
	}
	unsigned char hdr[HDR_LEN] = {0};
	uint64_t pos = 0;
	if ((rc = wr(fd, hdr, HDR_LEN, &pos)))
		goto ioerr;
	for (size_t i = 0; i < w->ncols; i++) {
		struct wcol *c = &w->cols[i];
		uint64_t off = pos, len = col_bytes(c, w->nrows);
		if ((rc = wr(fd, c->a ? c->a : "", (size_t)len, &pos)) || (rc = pad8(fd, &pos)))
			goto ioerr;
		uint64_t hoff = pos, hlen = c->heap.len;
		if (hlen && ((rc = wr(fd, c->heap.data, (size_t)hlen, &pos)) || (rc = pad8(fd, &pos))))
			goto ioerr;
		uint64_t h = yoc_hash64(c->a ? c->a : "", (size_t)len, 1);
		uint64_t hh = yoc_hash64(hlen ? c->heap.data : "", (size_t)hlen, 2);
		uint32_t d32[4] = {(uint32_t)c->type, (uint32_t)strlen(c->name),
				   (uint32_t)strlen(c->source), 0};
		uint64_t d64[6] = {off, len, hoff, hlen, h, hh};
		if ((rc = yoc_buf_append(&dir, d32, sizeof d32)) ||
		    (rc = yoc_buf_append(&dir, d64, sizeof d64)) ||
		    (rc = yoc_buf_append(&dir, c->name, d32[1])) ||
		    (rc = yoc_buf_append(&dir, c->source, d32[2])))
			goto oom;
		while (dir.len & 7)
			if ((rc = yoc_buf_putc(&dir, 0)))
				goto oom;
	}
	uint64_t dir_off = pos, dir_len = dir.len;
	if (dir_len && (rc = wr(fd, dir.data, dir.len, &pos)))
		goto ioerr;
	memcpy(hdr, SEG_MAGIC, 8);
	uint32_t ver = 1, kind = (uint32_t)w->kind;
	uint64_t nrows = w->nrows, ncols = w->ncols;
	memcpy(hdr + 8, &ver, 4);
	memcpy(hdr + 12, &kind, 4);
	memcpy(hdr + 16, &nrows, 8);
	memcpy(hdr + 24, &ncols, 8);
	memcpy(hdr + 32, &dir_off, 8);
	memcpy(hdr + 40, &dir_len, 8);
	uint64_t sum = yoc_hash64(hdr, HDR_LEN, 3) ^ yoc_hash64(dir_len ? dir.data : "", dir.len, 4);
	if ((rc = wr(fd, &sum, 8, &pos)))
		goto ioerr;
	if (pwrite(fd, hdr, HDR_LEN, 0) != HDR_LEN || (!s->defer_sync && fsync(fd) != 0))
		goto ioerr;
	/* deferred: start the write-back now, wait for it in yoc_store_sync */
	if (s->defer_sync)
		sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	if (close(fd) != 0) {
		fd = -1;
		goto ioerr;
	}
	fd = -1;
	goto cleanup;
oom:
	rc = yoc_error_set(e, YOC_ENOMEM, tmp, 0, 0, "out of memory");
	goto fail;
ioerr:
	rc = yoc_error_set(e, YOC_EIO, tmp, 0, 0, "write failed: %s", strerror(errno));
fail:
	if (fd >= 0)
		close(fd);
	fd = -1;
	unlink(tmp);
cleanup:
	yoc_buf_free(&dir);
	return rc;
}

int yoc_segw_publish(yoc_store *s, const char *tmp, const char *name, struct yoc_error *e)
{
	char path[4300];
	int rc = YOC_OK;
	snprintf(path, sizeof path, "%s/segments/%s", s->dir, name);
	if (rename(tmp, path) != 0) {
		rc = yoc_error_set(e, YOC_EIO, tmp, 0, 0, "write failed: %s", strerror(errno));
		unlink(tmp);
		return rc;
	}
	if (s->defer_sync) {
		char **np = yoc_realloc(s->pending, (s->npending + 1) * sizeof *np);
		char *dup = np ? yoc_strdup(path) : NULL;
		if (np)
			s->pending = np;
		if (!dup) {
			/* cannot defer: make this one durable now */
			int sfd = open(path, O_RDONLY | O_CLOEXEC);
			int bad2 = sfd < 0 || fsync(sfd) != 0;
			if (sfd >= 0)
				close(sfd);
			if (bad2)
				return yoc_error_set(e, YOC_EIO, path, 0, 0, "fsync failed: %s",
						     strerror(errno));
		} else {
			s->pending[s->npending++] = dup;
		}
		s->sync_pending = 1;
		return YOC_OK;
	}
	char segdir[4300];
	snprintf(segdir, sizeof segdir, "%s/segments", s->dir);
	int dfd = open(segdir, O_RDONLY | O_DIRECTORY);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return YOC_OK;
}

int yoc_segw_write_tmp(struct yoc_segw *w, const yoc_store *s, char *tmp, size_t cap,
		       struct yoc_error *e)
{
	static unsigned long seq;
	unsigned long k = __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED);
	int n = snprintf(tmp, cap, "%s/segments/w%ld-%lu.tmp", s->dir, (long)getpid(), k);
	if (n < 0 || (size_t)n >= cap)
		return yoc_error_set(e, YOC_ETOOBIG, s->dir, 0, 0, "path too long");
	return write_tmp(w, s, tmp, e);
}

int yoc_segw_write(struct yoc_segw *w, yoc_store *s, const char *name, struct yoc_error *e)
{
	char path[4300], tmp[4400];
	int rc;
	snprintf(path, sizeof path, "%s/segments/%s", s->dir, name);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if ((rc = write_tmp(w, s, tmp, e)))
		return rc;
	return yoc_segw_publish(s, tmp, name, e);
}

/* ---- reader ---- */

struct rcol {
	int type;
	const char *name, *source; /* NUL-terminated copies in names */
	const void *a;
	const char *heap;
	uint64_t heap_len;
};

struct yoc_seg {
	yoc_store *store;
	const unsigned char *map;
	size_t size;
	int kind;
	size_t nrows, ncols;
	struct rcol *cols;
	char *names;
	int date_col;
	int person_col;
	int32_t *pidx;     /* person index per row, lazily */
};

static int bad(struct yoc_error *e, const char *path, const char *what)
{
	return yoc_error_set(e, YOC_EDATA, path, 0, 0, "segment is damaged: %s", what);
}

/* verify 0: checksums skipped (a segment this process wrote in this load); bounds still checked */
static int seg_open(const char *path, int verify, yoc_seg **out, struct yoc_error *e)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot open segment: %s", strerror(errno));
	struct stat st;
	int rc = YOC_OK;
	yoc_seg *g = yoc_calloc(1, sizeof *g);
	if (!g) {
		close(fd);
		return yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "out of memory");
	}
	g->date_col = g->person_col = -1;
	if (fstat(fd, &st) != 0 || st.st_size < HDR_LEN + 8) {
		rc = bad(e, path, "too short");
		goto cleanup;
	}
	g->size = (size_t)st.st_size;
	g->map = mmap(NULL, g->size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (g->map == MAP_FAILED) {
		g->map = NULL;
		rc = yoc_error_set(e, YOC_EIO, path, 0, 0, "mmap: %s", strerror(errno));
		goto cleanup;
	}
	const unsigned char *h = g->map;
	uint32_t kind;
	uint64_t nrows, ncols, dir_off, dir_len, sum;
	if (memcmp(h, SEG_MAGIC, 8) != 0) {
		rc = bad(e, path, "bad magic");
		goto cleanup;
	}
	memcpy(&kind, h + 12, 4);
	memcpy(&nrows, h + 16, 8);
	memcpy(&ncols, h + 24, 8);
	memcpy(&dir_off, h + 32, 8);
	memcpy(&dir_len, h + 40, 8);
	memcpy(&sum, h + g->size - 8, 8);
	if (dir_off > g->size - 8 || dir_len > g->size - 8 - dir_off || ncols > 100000 ||
	    nrows > UINT32_MAX || kind >= YOC_KIND_COUNT) {
		rc = bad(e, path, "bad header");
		goto cleanup;
	}
	if (verify && (yoc_hash64(h, HDR_LEN, 3) ^ yoc_hash64(h + dir_off, (size_t)dir_len, 4)) != sum) {
		rc = bad(e, path, "checksum mismatch");
		goto cleanup;
	}
	g->kind = (int)kind;
	g->nrows = (size_t)nrows;
	g->ncols = (size_t)ncols;
	g->cols = yoc_calloc(ncols ? ncols : 1, sizeof *g->cols);
	g->names = yoc_malloc((size_t)dir_len + 2 * ncols + 1);
	if (!g->cols || !g->names) {
		rc = yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "out of memory");
		goto cleanup;
	}
	const unsigned char *d = h + dir_off, *dend = d + dir_len;
	char *np = g->names;
	const struct yoc_kind_spec *ks = yoc_spec_kind(g->kind);
	for (size_t i = 0; i < ncols; i++) {
		uint32_t d32[4];
		uint64_t d64[6];
		if ((size_t)(dend - d) < sizeof d32 + sizeof d64) {
			rc = bad(e, path, "short directory");
			goto cleanup;
		}
		memcpy(d32, d, sizeof d32);
		memcpy(d64, d + sizeof d32, sizeof d64);
		d += sizeof d32 + sizeof d64;
		if (d32[0] > YOC_COL_MONEY || d32[1] > (size_t)(dend - d) ||
		    d32[2] > (size_t)(dend - d) - d32[1]) {
			rc = bad(e, path, "bad directory entry");
			goto cleanup;
		}
		struct rcol *c = &g->cols[i];
		c->type = (int)d32[0];
		c->name = np;
		memcpy(np, d, d32[1]);
		np += d32[1];
		*np++ = 0;
		c->source = np;
		memcpy(np, d + d32[1], d32[2]);
		np += d32[2];
		*np++ = 0;
		d += ((size_t)d32[1] + d32[2] + 7) & ~(size_t)7;
		if (d > dend)
			d = dend;
		uint64_t want = c->type == YOC_COL_DATE ? nrows * 4 :
			c->type == YOC_COL_TEXT ? (nrows + 1) * 4 : nrows * 8;
		if (d64[1] != want || d64[0] > g->size || d64[1] > g->size - d64[0] || (d64[0] & 3) ||
		    d64[2] > g->size || d64[3] > g->size - d64[2]) {
			rc = bad(e, path, "column out of bounds");
			goto cleanup;
		}
		if (verify && (yoc_hash64(h + d64[0], (size_t)d64[1], 1) != d64[4] ||
			       yoc_hash64(h + d64[2], (size_t)d64[3], 2) != d64[5])) {
			rc = bad(e, path, "column checksum mismatch");
			goto cleanup;
		}
		c->a = h + d64[0];
		c->heap = (const char *)h + d64[2];
		c->heap_len = d64[3];
		if (c->type == YOC_COL_TEXT) {
			const uint32_t *o = c->a;
			if (o[0] != 0 || o[nrows] != d64[3]) {
				rc = bad(e, path, "text offsets");
				goto cleanup;
			}
			for (size_t r = 0; r < nrows; r++)
				if (o[r + 1] < o[r]) {
					rc = bad(e, path, "text offsets");
					goto cleanup;
				}
		}
		const struct yoc_field *f = ks ? yoc_spec_field(ks, c->name, strlen(c->name)) : NULL;
		if (f && f->role == YOC_ROLE_DATE && c->type == YOC_COL_DATE && g->date_col < 0)
			g->date_col = (int)i;
		if (f && f->role == YOC_ROLE_PERSON && c->type == YOC_COL_TEXT && g->person_col < 0)
			g->person_col = (int)i;
	}
	*out = g;
	g = NULL;
cleanup:
	close(fd);
	yoc_seg_close(g);
	return rc;
}

int yoc_seg_open_path(const char *path, yoc_seg **out, struct yoc_error *e)
{
	return seg_open(path, 1, out, e);
}

/* 1 if this process wrote path in the load still in progress. */
static int fresh(const yoc_store *s, const char *path)
{
	for (size_t i = 0; i < s->npending; i++)
		if (strcmp(s->pending[i], path) == 0)
			return 1;
	return 0;
}

static int open_by_id(yoc_store *s, int64_t file_id, int verify, yoc_seg **out,
		      struct yoc_error *e);

int yoc__seg_open_named(yoc_store *s, const char *segment, yoc_seg **out,
			struct yoc_error *e)
{
	char path[4400];
	snprintf(path, sizeof path, "%s/segments/%s", s->dir, segment);
	int rc = seg_open(path, !fresh(s, path), out, e);
	if (!rc)
		(*out)->store = s;
	return rc;
}

int yoc_seg_open(yoc_store *s, int64_t file_id, yoc_seg **out, struct yoc_error *e)
{
	return open_by_id(s, file_id, 1, out, e);
}

int yoc_seg_open_unverified(yoc_store *s, int64_t file_id, yoc_seg **out,
			    struct yoc_error *e)
{
	return open_by_id(s, file_id, 0, out, e);
}

static int open_by_id(yoc_store *s, int64_t file_id, int verify, yoc_seg **out,
		      struct yoc_error *e)
{
	*out = NULL;
	sqlite3_stmt *st = NULL;
	char path[4400];
	int rc = YOC_OK;
	if (sqlite3_prepare_v2(s->db, "SELECT segment FROM files WHERE file_id = ?", -1, &st, NULL))
		return yoc_error_set(e, YOC_EIO, s->dbpath, 0, 0, "sqlite: %s", sqlite3_errmsg(s->db));
	sqlite3_bind_int64(st, 1, file_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = yoc_error_set(e, YOC_ENOTFOUND, s->dbpath, 0, 0, "no file %lld", (long long)file_id);
		goto cleanup;
	}
	snprintf(path, sizeof path, "%s/segments/%s", s->dir, (const char *)sqlite3_column_text(st, 0));
	/* A segment written moments ago by this load is what it computed: its
	 * checksums are for readers that come after. */
	if ((rc = seg_open(path, verify && !fresh(s, path), out, e)))
		goto cleanup;
	(*out)->store = s;
cleanup:
	sqlite3_finalize(st);
	return rc;
}

void yoc_seg_close(yoc_seg *g)
{
	if (!g)
		return;
	if (g->map)
		munmap((void *)g->map, g->size);
	yoc_free(g->cols);
	yoc_free(g->names);
	yoc_free(g->pidx);
	yoc_free(g);
}

size_t yoc_seg_nrows(const yoc_seg *g) { return g->nrows; }
size_t yoc_seg_ncols(const yoc_seg *g) { return g->ncols; }
int yoc_seg_kind(const yoc_seg *g) { return g->kind; }

int yoc_seg_col(const yoc_seg *g, const char *name)
{
	for (size_t i = 0; i < g->ncols; i++)
		if (strcmp(g->cols[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *yoc_seg_col_name(const yoc_seg *g, int col) { return g->cols[col].name; }
const char *yoc_seg_col_source(const yoc_seg *g, int col) { return g->cols[col].source; }
int yoc_seg_col_type(const yoc_seg *g, int col) { return g->cols[col].type; }

struct yoc_cell yoc_seg_text(const yoc_seg *g, int col, size_t row)
{
	struct yoc_cell c = {"", 0};
	if (col < 0 || g->cols[col].type != YOC_COL_TEXT || row >= g->nrows)
		return c;
	const uint32_t *o = g->cols[col].a;
	c.p = g->cols[col].heap + o[row];
	c.n = o[row + 1] - o[row];
	return c;
}

int32_t yoc_seg_date(const yoc_seg *g, int col, size_t row)
{
	if (col < 0 || g->cols[col].type != YOC_COL_DATE || row >= g->nrows)
		return YOC_DATE_NONE;
	return ((const int32_t *)g->cols[col].a)[row];
}

int64_t yoc_seg_int(const yoc_seg *g, int col, size_t row)
{
	if (col < 0 || (g->cols[col].type != YOC_COL_INT && g->cols[col].type != YOC_COL_MONEY) ||
	    row >= g->nrows)
		return YOC_INT_NONE;
	int64_t v;
	memcpy(&v, (const char *)g->cols[col].a + row * 8, 8);
	return v;
}

const int32_t *yoc_seg_dates(const yoc_seg *g, int col)
{
	return col >= 0 && g->cols[col].type == YOC_COL_DATE ? g->cols[col].a : NULL;
}

const int64_t *yoc_seg_ints(const yoc_seg *g, int col)
{
	return col >= 0 && (g->cols[col].type == YOC_COL_INT || g->cols[col].type == YOC_COL_MONEY) ?
		g->cols[col].a : NULL;
}

size_t yoc_seg_format(const yoc_seg *g, int col, size_t row, char *buf, size_t cap,
		      const char **text)
{
	*text = buf;
	switch (g->cols[col].type) {
	case YOC_COL_TEXT: {
		struct yoc_cell c = yoc_seg_text(g, col, row);
		*text = c.p;
		return c.n;
	}
	case YOC_COL_DATE: {
		int32_t d = yoc_seg_date(g, col, row);
		if (d == YOC_DATE_NONE)
			return 0;
		if (d == YOC_DATE_HES_NULL)
			return (size_t)snprintf(buf, cap, "1800-01-01");
		if (d == YOC_DATE_HES_INVALID)
			return (size_t)snprintf(buf, cap, "1801-01-01");
		char tmp[16];
		yoc_date_format(d, tmp);
		return (size_t)snprintf(buf, cap, "%s", tmp);
	}
	case YOC_COL_INT: {
		int64_t v = yoc_seg_int(g, col, row);
		return v == YOC_INT_NONE ? 0 : (size_t)snprintf(buf, cap, "%lld", (long long)v);
	}
	default: {
		int64_t v = yoc_seg_int(g, col, row);
		if (v == YOC_INT_NONE)
			return 0;
		uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
		return (size_t)snprintf(buf, cap, "%s%llu.%02llu", v < 0 ? "-" : "",
					(unsigned long long)(a / 100), (unsigned long long)(a % 100));
	}
	}
}

int32_t yoc_seg_activity_date(const yoc_seg *g, size_t row)
{
	return yoc_seg_date(g, g->date_col, row);
}

static int fill_pidx(yoc_seg *g)
{
	yoc_seg *mg = g;
	mg->pidx = yoc_malloc((g->nrows ? g->nrows : 1) * sizeof(int32_t));
	if (!mg->pidx)
		return YOC_ENOMEM;
	for (size_t r = 0; r < g->nrows; r++) {
		struct yoc_cell c = yoc_seg_text(g, g->person_col, r);
		mg->pidx[r] = c.n && g->store ? yoc_store_person_index(g->store, c.p, c.n) : -1;
	}
	return YOC_OK;
}

int32_t yoc_seg_person(const yoc_seg *g, size_t row)
{
	yoc_seg *mg = (yoc_seg *)g; /* lazy cache; documented as single-threaded per handle */
	if (!g->pidx && fill_pidx(mg))
		return -1;
	return row < g->nrows ? g->pidx[row] : -1;
}

const char *yoc_seg_link_reason(const yoc_seg *g, size_t row)
{
	struct yoc_cell c = yoc_seg_text(g, g->person_col, row);
	if (c.n == 0)
		return "no_pseudonym";
	return yoc_seg_person(g, row) >= 0 ? "linked" : "not_registered";
}

void yoc__store_pending_free(yoc_store *s)
{
	for (size_t i = 0; i < s->npending; i++)
		yoc_free(s->pending[i]);
	yoc_free(s->pending);
	s->pending = NULL;
	s->npending = 0;
	s->sync_pending = 0;
}

void yoc_store_defer_sync(yoc_store *s, int on)
{
	s->defer_sync = on;
	if (!on)
		yoc__store_pending_free(s);
}

int yoc_store_sync(yoc_store *s, struct yoc_error *e)
{
	if (!s->sync_pending)
		return YOC_OK;
	char segdir[4300];
	snprintf(segdir, sizeof segdir, "%s/segments", s->dir);
	int dfd = open(segdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return yoc_error_set(e, YOC_EIO, segdir, 0, 0, "cannot open: %s", strerror(errno));
	/*
	 * Each new segment (its write-back started when written), then the
	 * directory. Past a few dozen files one syncfs is far cheaper than a
	 * journal commit per fdatasync; it also flushes other dirty data of the
	 * file system, which only costs time.
	 */
	int bad = 0, err = 0;
	if (s->npending > 32) {
		bad = syncfs(dfd) != 0;
		err = errno;
	}
	for (size_t i = 0; i < s->npending && !bad && s->npending <= 32; i++) {
		int fd = open(s->pending[i], O_RDONLY | O_CLOEXEC);
		bad = fd < 0 || fdatasync(fd) != 0;
		err = errno;
		if (fd >= 0)
			close(fd);
	}
	if (!bad) {
		bad = fsync(dfd) != 0;
		err = errno;
	}
	close(dfd);
	if (bad)
		return yoc_error_set(e, YOC_EIO, segdir, 0, 0, "sync failed: %s", strerror(err));
	yoc__store_pending_free(s);
	return YOC_OK;
}

/*
** Load, last stage: the load's one catalog transaction. Files commit one at
** a time, in load order, on the loader's thread: whether a file is
** unchanged, replaces one or is refused as an older submission is decided
** here against the catalog; a file's held quarantine and flag rows, its
** statistics and its segment are written inside a savepoint, so a refused
** file leaves nothing. Segments are written before the transaction
** commits, and a segment whose catalog row never committed is garbage that
** the next writer removes. Every statement goes through the store's catalog
** API (src/store/catalog.c). Nothing here prints.
*/
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "load/feedname.h"
#include "load/load_int.h"
#include "yoc/date.h"

int yoc_loader_begin(struct yoc_loader **out, yoc_store *s, struct yoc_error *e)
{
	*out = NULL;
	struct yoc_loader *L = yoc_calloc(1, sizeof *L);
	int rc = YOC_OK;
	if (!L)
		return yoc_error_set(e, YOC_ENOMEM, "load", 0, 0, "out of memory");
	L->s = s;
	L->jobs = 1;
#ifdef __GLIBC__
	/*
	** A load allocates and frees a file's worth of buffers per file. By
	** default glibc hands the freed top of each thread's heap back to the
	** kernel and maps the largest blocks anew each time, so every file
	** faults in and zeroes its pages again, and with several threads
	** every unmap interrupts the other CPUs to flush their TLBs. Kept
	** mapped, the pages of one file serve the next.
	*/
	mallopt(M_MMAP_THRESHOLD, 32 << 20); /* glibc's largest */
	mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
	pthread_mutex_init(&L->acct_mu, NULL);
	yoc_store_defer_sync(s, 1);
	L->today = yoc_date_today();
	L->day_min = yoc_date_from_ymd(1900, 1, 1);
	{
		int y, m, d;
		yoc_date_to_ymd(L->today, &y, &m, &d);
		L->today_ym = y * 12 + m - 1;
	}
	if (yoc_map_init(&L->stored, 256)) {
		rc = yoc_error_set(e, YOC_ENOMEM, "load", 0, 0, "out of memory");
		goto cleanup;
	}
	if ((rc = yoc_catalog_load_begin(s, &L->load_id, e)))
		goto cleanup;
	L->in_txn = 1;
	if ((rc = yoc_catalog_hashes(s, &L->stored, e)))
		goto cleanup;
	*out = L;
	L = NULL;
cleanup:
	yoc_loader_free(L);
	return rc;
}

void yoc_loader_free(struct yoc_loader *L)
{
	if (!L)
		return;
	if (L->in_txn)
		yoc_catalog_load_abort(L->s);
	yoc_store_defer_sync(L->s, 0);
	yoc__acct_cache_free(L->acct);
	if (L->stored.slots)
		yoc_map_free(&L->stored);
	pthread_mutex_destroy(&L->acct_mu);
	yoc_free(L);
}

int yoc_loader_commit(struct yoc_loader *L, struct yoc_error *e)
{
	int rc = yoc_catalog_load_end(L->s, L->load_id, &L->n, L->persons_dirty, e);
	if (rc)
		return rc;
	L->in_txn = 0;
	return YOC_OK;
}

/* The version of a stored file's name; 1 for a name this parser refuses
 * (a dataset loaded before names were checked). */
static int stored_version(const char *path)
{
	struct yoc_feedname fn;
	return path && yoc_feedname_parse(path, &fn, NULL) == 0 ? fn.version : 1;
}

struct current {
	struct yoc_load_result *res;
	const char *hash;
	int64_t same_id, cur;
	int cur_version;
	char cur_path[400];
};

static void each_stored(void *ctx, const struct yoc_catalog_file *f)
{
	struct current *c = ctx;
	if (f->current && !c->cur) { /* current rows come first */
		c->cur = f->file_id;
		c->cur_version = stored_version(f->path);
		snprintf(c->cur_path, sizeof c->cur_path, "%s", f->path ? f->path : "");
	}
	if (c->same_id || !f->hash || strcmp(f->hash, c->hash) != 0)
		return;
	if (!f->current && !(c->cur && c->res->version < c->cur_version))
		return;
	c->same_id = f->file_id;
	c->res->rows = f->rows;
	c->res->loaded = f->loaded;
	c->res->quarantined = f->quarantined;
	c->res->flagged = f->flagged;
}

/*
** Compares the file with what is loaded for its kind, provider and period.
** *same_id: a loaded file with the same content, so this one is unchanged:
** the current file, or a superseded one of a lower version than the current
** file's (an old submission seen before: reloading a tree that holds
** RA1_2023-05.csv and RA1_2023-05_v2.csv changes nothing). *old_id: the
** current file, which this one replaces. New content with a lower version
** than the current file's is refused (res rejected): submissions are ordered
** by version, and the older one must not undo the newer.
*/
static int find_current(struct yoc_loader *L, struct yoc_load_result *res, const char *hash,
			int64_t *same_id, int64_t *old_id, struct yoc_error *e)
{
	struct current c = {res, hash, 0, 0, 0, ""};
	int rc = yoc_catalog_files_of(L->s, yoc_spec_kind_name(res->kind), res->provider,
				      res->period, each_stored, &c, e);
	*same_id = c.same_id;
	*old_id = 0;
	if (rc)
		return rc;
	if (!c.same_id && c.cur && res->version < c.cur_version) {
		res->status = YOC_LOAD_REJECTED;
		snprintf(res->message, sizeof res->message, "submission %d of %s %.16s %.8s is older "
			 "than the current file %.250s (submission %d) and has other content: send a "
			 "correction as _v%d", res->version, yoc_spec_kind_name(res->kind),
			 res->provider, res->period, c.cur_path, c.cur_version, c.cur_version + 1);
	} else if (!c.same_id) {
		*old_id = c.cur;
	}
	return YOC_OK;
}

static int each_reason(void *ctx, const char *reason, int64_t rows)
{
	struct yoc_load_result *res = ctx;
	if (res->nreasons >= YOC_LOAD_MAX_REASONS)
		return 1;
	snprintf(res->reasons[res->nreasons].code, sizeof res->reasons[0].code, "%s", reason);
	res->reasons[res->nreasons++].rows = rows;
	return 0;
}

static int write_rows(struct yoc_loader *L, struct yoc__lfile *lf, const struct yoc__recs *rs,
		      int quar, struct yoc_error *e)
{
	const char *t = lf->text.data;
	int rc = YOC_OK;
	for (size_t i = 0; i < rs->n && !rc; i++) {
		const struct yoc__rec *r = &rs->v[i];
		struct yoc_catalog_row row = {lf->res.file_id, r->line, t + r->field, t + r->reason,
					      t + r->value, t + r->extra, r->nvalue, r->nextra};
		rc = quar ? yoc_catalog_quarantine_add(L->s, &row, e)
			  : yoc_catalog_flag_add(L->s, &row, e);
	}
	return rc;
}

static int write_stats(struct yoc_loader *L, struct yoc__lfile *lf, struct yoc_error *e)
{
	struct yoc_buf top;
	int rc = YOC_OK;
	int64_t file_id = lf->res.file_id;
	yoc_buf_init(&top, 1 << 20);
	static const char *const tn[] = {"text", "date", "int", "money"};
	for (size_t c = 0; c < lf->ncols; c++) {
		struct yoc__colinfo *ci = &lf->cols[c];
		if ((rc = yoc_catalog_column_add(L->s, file_id, (int64_t)c, ci->name,
						 ci->name + strlen(ci->name) + 1,
						 ci->f ? yoc_ftype_name(ci->f->type) : tn[ci->segtype],
						 e)))
			goto cleanup;
		if (!ci->f)
			continue;
		yoc_buf_reset(&top);
		int64_t ndistinct = 0;
		if (ci->freq) {
			size_t pos = 0;
			const struct yoc_map_slot *sl;
			while ((sl = yoc_map_next(ci->freq, &pos)) != NULL) {
				ndistinct++;
				yoc_buf_printf(&top, "%s%.*s=%llu", top.len ? ";" : "", (int)sl->klen,
					       sl->key, (unsigned long long)sl->value);
			}
			if (ci->freq_other)
				yoc_buf_printf(&top, "%s(other)=%lld", top.len ? ";" : "",
					       (long long)ci->freq_other);
		}
		if ((rc = yoc_catalog_stats_add(L->s, file_id, ci->name, ci->filled, ci->empty,
						ci->invalid, ci->freq ? ndistinct : -1, top.data,
						top.len, e)))
			goto cleanup;
	}
	size_t pos = 0;
	const struct yoc_map_slot *sl;
	while ((sl = yoc_map_next(&lf->status_counts, &pos)) != NULL)
		if ((rc = yoc_catalog_nhsno_add(L->s, file_id, sl->key, sl->klen,
						(int64_t)sl->value, e)))
			goto cleanup;
cleanup:
	yoc_buf_free(&top);
	return rc;
}

int yoc__lf_commit(struct yoc_loader *L, struct yoc__lfile *lf, struct yoc_error *e)
{
	struct yoc_load_result *res = &lf->res;
	int rc = YOC_OK, savepoint = 0;
	if (lf->stage == YOC__LF_DONE && !lf->rc)
		return YOC_OK; /* rejected before the catalog: res says why */
	if (lf->stage == YOC__LF_DONE) {
		*e = lf->e;
		return lf->rc;
	}
	int64_t same_id, old_id;
	/* what reading counted is the catalog's to say for a stored file */
	struct yoc_load_result read = *res;
	if ((rc = find_current(L, res, lf->hash, &same_id, &old_id, e)))
		return rc;
	if (res->status == YOC_LOAD_REJECTED) {
		/* refused before any row is read: nothing counted */
		res->rows = res->loaded = res->quarantined = res->flagged = 0;
		res->nreasons = 0;
		memset(res->reasons, 0, sizeof res->reasons);
		return YOC_OK;
	}
	if (same_id) {
		res->status = YOC_LOAD_UNCHANGED;
		res->file_id = same_id;
		res->nreasons = 0;
		memset(res->reasons, 0, sizeof res->reasons);
		/* The same content under another name (a month sent twice): remembered once. */
		if ((rc = yoc_catalog_duplicate_add(L->s, res->file, same_id, L->load_id, e)) ||
		    (rc = yoc_catalog_reasons(L->s, res->file_id, each_reason, res, e)))
			return rc;
		L->n.unchanged++;
		return YOC_OK;
	}
	*res = read;
	if (lf->rc) {
		*e = lf->e;
		return lf->rc;
	}
	if (lf->stage == YOC__LF_STORED) {
		/* stored content that the catalog does not take as unchanged */
		if ((rc = yoc__lf_rows(L, lf, e)))
			return rc;
		if (lf->stage == YOC__LF_STORED)
			return YOC_OK; /* refused by its header: res says why */
	}
	if (lf->stage == YOC__LF_REFUSED) {
		/* Identifiers in the values: nothing of the file stays. */
		int64_t rows = res->rows;
		res->loaded = res->quarantined = res->flagged = 0;
		res->nreasons = 0;
		res->file_id = 0;
		res->rows = rows;
		return yoc__lf_reject(res, "%s", lf->why.msg);
	}
	/* The file's catalog rows can be taken back whole if writing fails. */
	if ((rc = yoc_catalog_file_begin(L->s, e)))
		return rc;
	savepoint = 1;
	struct yoc_catalog_new_file nf = {
		L->load_id, yoc_spec_kind(res->kind)->name, res->provider, res->period, res->file,
		lf->hash, lf->delim, lf->hash_given ? lf->bytes_given : (int64_t)lf->ndata, old_id != 0,
	};
	if ((rc = yoc_catalog_file_add(L->s, &nf, &res->file_id, e)) ||
	    (rc = write_rows(L, lf, &lf->quar, 1, e)) || (rc = write_rows(L, lf, &lf->flags, 0, e)))
		goto cleanup;
	char segname[64];
	snprintf(segname, sizeof segname, "f%lld.seg", (long long)res->file_id);
	if ((rc = yoc_segpool_apply(lf->segpool, L->s, lf->segtmp, e)))
		goto cleanup; /* the temporary is removed with the file's state */
	rc = yoc_segw_publish(L->s, lf->segtmp, segname, e);
	lf->segtmp[0] = 0; /* renamed, or removed on failure */
	if (rc ||
	    (rc = yoc_catalog_file_counts(L->s, res->file_id, segname, res->rows, res->loaded,
					  res->quarantined, res->flagged, e)) ||
	    (rc = write_stats(L, lf, e)))
		goto cleanup;
	if (old_id) {
		if ((rc = yoc_catalog_supersede(L->s, old_id, res->file_id, e)))
			goto cleanup;
		res->status = YOC_LOAD_REPLACED;
		L->n.replaced++;
	} else {
		res->status = YOC_LOAD_LOADED;
	}
	if ((rc = yoc_catalog_file_end(L->s, 1, e)))
		goto cleanup;
	savepoint = 0;
	if (res->kind == YOC_KIND_GP_REGISTER || res->kind == YOC_KIND_DEATHS)
		L->persons_dirty = 1;
	L->n.files++;
	L->n.rows += res->rows;
	L->n.loaded += res->loaded;
	L->n.quarantined += res->quarantined;
	if (lf->lk)
		rc = yoc__acct_record(L->s, lf->lk, lf->lk->n ? lf->sha256 : NULL, res, e);
cleanup:
	if (savepoint)
		yoc_catalog_file_end(L->s, 0, NULL);
	return rc;
}

/*
** Source accounts at load (docs/store.md, source_account): finds the
** account `yoc pseudonymise` left beside the files being loaded, matches
** each loaded file to its entry by the SHA-256 of the bytes loaded (so a
** file that was moved or renamed inside the tree still matches, and one
** that was changed does not), and records the outcome with the load. A file
** without an account is recorded as such: that is not an error, since
** feeds may come from elsewhere. Must not: print, or fail a load because of
** an account (only running out of memory or a catalog error does).
*/
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "load/load_int.h"

/*
** An account's entries by SHA-256 (the first), by path (the last) and by
** both (the last), so a file finds its entry in constant time: a tree of
** many files has one account listing them all, and a scan of it per file
** would make the load quadratic in files. Same answer as
** yoc_account_match.
*/
struct yoc__acct_index {
	struct yoc_map sha, path, both;
};

struct acct {
	char *path;
	int state;              /* 0 no such file, 1 read, -1 cannot be read */
	struct yoc_account a;
	struct yoc__acct_index ix; /* when read */
	char why[300];
};

static void index_free(struct yoc__acct_index *ix)
{
	if (ix->sha.slots)
		yoc_map_free(&ix->sha);
	if (ix->path.slots)
		yoc_map_free(&ix->path);
	if (ix->both.slots)
		yoc_map_free(&ix->both);
}

/* The key of sha and path together into b (sha is 64 hex digits). */
static int both_key(struct yoc_buf *b, const char *sha, const char *path)
{
	yoc_buf_reset(b);
	return yoc_buf_append(b, sha, 64) || yoc_buf_append(b, path, strlen(path)) ? YOC_ENOMEM
										      : YOC_OK;
}

static int index_build(struct yoc__acct_index *ix, const struct yoc_account *a)
{
	struct yoc_buf b;
	int rc = YOC_ENOMEM;
	yoc_buf_init(&b, 0);
	if (yoc_map_init(&ix->sha, a->n + 1) || yoc_map_init(&ix->path, a->n + 1) ||
	    yoc_map_init(&ix->both, a->n + 1))
		goto cleanup;
	for (size_t i = 0; i < a->n; i++) {
		const struct yoc_account_file *f = &a->files[i];
		const char *p = f->path ? f->path : "";
		if (!yoc_map_get(&ix->sha, f->sha256, 64) &&
		    yoc_map_put(&ix->sha, f->sha256, 64, i, NULL))
			goto cleanup;
		if (yoc_map_put(&ix->path, p, strlen(p), i, NULL) || both_key(&b, f->sha256, p) ||
		    yoc_map_put(&ix->both, b.data, b.len, i, NULL))
			goto cleanup;
	}
	rc = YOC_OK;
cleanup:
	yoc_buf_free(&b);
	return rc;
}

/*
** The entry of a file (rel: its path relative to the account's folder,
** sha256: of its bytes, either may be NULL): the one with both, else the
** first with its content; with none, *by_path: the last entry under rel.
*/
static const struct yoc_account_file *index_match(const struct yoc__acct_index *ix,
						  const struct yoc_account *a, const char *rel,
						  const char *sha256,
						  const struct yoc_account_file **by_path)
{
	const uint64_t *v = NULL;
	*by_path = NULL;
	if (sha256 && strlen(sha256) == 64) {
		char k[64 + 1100];
		size_t rn = rel ? strlen(rel) : 0;
		if (rel && rn < sizeof k - 64) {
			memcpy(k, sha256, 64);
			memcpy(k + 64, rel, rn);
			v = yoc_map_get(&ix->both, k, 64 + rn);
		}
		if (!v)
			v = yoc_map_get(&ix->sha, sha256, 64);
		if (v)
			return &a->files[*v];
	}
	if (rel && (v = yoc_map_get(&ix->path, rel, strlen(rel))) != NULL)
		*by_path = &a->files[*v];
	return NULL;
}

struct yoc__acct_cache {
	struct yoc_map m;       /* path -> index */
	struct acct **v;
	size_t n, cap;
};

void yoc__acct_cache_free(struct yoc__acct_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		index_free(&c->v[i]->ix);
		yoc_account_free(&c->v[i]->a);
		yoc_free(c->v[i]->path);
		yoc_free(c->v[i]);
	}
	yoc_free(c->v);
	if (c->m.slots)
		yoc_map_free(&c->m);
	yoc_free(c);
}

int yoc_load_is_account(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(base), k = strlen(YOC_ACCOUNT_SUFFIX);
	return strcmp(base, YOC_ACCOUNT_NAME) == 0 ||
	       (n > k && strcmp(base + n - k, YOC_ACCOUNT_SUFFIX) == 0);
}

/* The cached account at path, read on first use; NULL when out of memory. */
static struct acct *get(struct yoc__acct_cache *c, const char *path)
{
	uint64_t *v = yoc_map_get(&c->m, path, strlen(path));
	if (v)
		return c->v[*v];
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		struct acct **nv = yoc_realloc(c->v, nc * sizeof *nv);
		if (!nv)
			return NULL;
		c->v = nv;
		c->cap = nc;
	}
	struct acct *x = yoc_calloc(1, sizeof *x);
	if (!x || !(x->path = yoc_strdup(path))) {
		yoc_free(x);
		return NULL;
	}
	struct stat sb;
	struct yoc_error ae;
	yoc_error_clear(&ae);
	if (stat(path, &sb) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
		x->state = 0;
	} else {
		int rc = yoc_account_read(&x->a, path, &ae);
		if (rc == YOC_ENOMEM) {
			yoc_free(x->path);
			yoc_free(x);
			return NULL;
		}
		x->state = rc ? -1 : 1;
		if (rc)
			snprintf(x->why, sizeof x->why, "%.280s", ae.msg);
	}
	if ((x->state == 1 && index_build(&x->ix, &x->a)) ||
	    yoc_map_put(&c->m, path, strlen(path), c->n, NULL)) {
		index_free(&x->ix);
		yoc_account_free(&x->a);
		yoc_free(x->path);
		yoc_free(x);
		return NULL;
	}
	c->v[c->n++] = x;
	return x;
}

/* Adds the account at dir/name (or at name when dir is NULL) with the file's rel. */
static int consider(struct yoc__acct_cache *c, const char *dir, size_t dlen, const char *name,
		    const char *rel, struct yoc__acct_lookup *lk)
{
	char p[4400];
	int k = dir ? snprintf(p, sizeof p, "%.*s/%s", (int)dlen, dir, name)
		    : snprintf(p, sizeof p, "%s", name);
	if (k < 0 || (size_t)k >= sizeof p || strlen(rel) >= sizeof lk->c[0].rel)
		return YOC_OK; /* a path this long cannot be an account's */
	struct acct *x = get(c, p);
	if (!x)
		return YOC_ENOMEM;
	if (x->state == 1 && lk->n < YOC__ACCT_MAX) {
		lk->c[lk->n].a = &x->a;
		lk->c[lk->n].ix = &x->ix;
		lk->c[lk->n].path = x->path;
		snprintf(lk->c[lk->n].rel, sizeof lk->c[0].rel, "%s", rel);
		lk->n++;
	} else if (x->state < 0 && !lk->unreadable) {
		lk->unreadable = x->path;
		lk->why = x->why;
	}
	return YOC_OK;
}

int yoc__acct_lookup(struct yoc__acct_cache **cp, const char *path, const char *root,
		     struct yoc__acct_lookup *lk, struct yoc_error *e)
{
	int rc;
	memset(lk, 0, sizeof *lk);
	if (!*cp) {
		struct yoc__acct_cache *c = yoc_calloc(1, sizeof *c);
		if (!c || yoc_map_init(&c->m, 64)) {
			yoc_free(c);
			return yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "out of memory");
		}
		*cp = c;
	}
	struct yoc__acct_cache *c = *cp;
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char single[4200];
	if (snprintf(single, sizeof single, "%s%s", path, YOC_ACCOUNT_SUFFIX) < (int)sizeof single &&
	    (rc = consider(c, NULL, 0, single, base, lk)))
		goto oom;
	size_t rl = root ? strlen(root) : 0;
	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	int under = root && strcmp(root, path) != 0 && rl && strncmp(path, root, rl) == 0 &&
		    path[rl] == '/';
	if (!under) {
		/* a file by itself: its own folder */
		if ((rc = consider(c, slash ? path : ".", slash ? (size_t)(slash - path) : 1,
				   YOC_ACCOUNT_NAME, base, lk)))
			goto oom;
		return YOC_OK;
	}
	const char *rest = path + rl;
	while (*rest == '/')
		rest++;
	/* each folder from the file's up to root, nearest first */
	for (const char *q = rest + strlen(rest); q > rest; q--) {
		if (q[-1] != '/' || q - 1 == rest || *q == '/')
			continue;
		size_t dl = (size_t)(q - 1 - path);
		while (dl > rl && path[dl - 1] == '/')
			dl--; /* "a//b" */
		if ((rc = consider(c, path, dl, YOC_ACCOUNT_NAME, q, lk)))
			goto oom;
	}
	if ((rc = consider(c, path, rl, YOC_ACCOUNT_NAME, rest, lk)))
		goto oom;
	return YOC_OK;
oom:
	return yoc_error_set(e, rc, path, 0, 0, "out of memory");
}

/* The rows an account entry lists as rejected at source, for the catalog. */
static int64_t listed_line(const void *ctx, size_t i)
{
	return (int64_t)((const struct yoc_account_file *)ctx)->listed[i].line;
}

static const char *listed_reason(const void *ctx, size_t i)
{
	return yoc_account_reason_name(((const struct yoc_account_file *)ctx)->listed[i].reason);
}

int yoc__acct_record(yoc_store *s, const struct yoc__acct_lookup *lk, const char *sha256,
		     struct yoc_load_result *res, struct yoc_error *e)
{
	const struct yoc_account_file *hit = NULL, *named = NULL;
	const struct yoc_account *from = NULL, *named_from = NULL;
	const char *apath = NULL, *named_path = NULL;
	for (size_t i = 0; i < lk->n && !hit; i++) {
		const struct yoc_account_file *bp = NULL;
		hit = index_match(lk->c[i].ix, lk->c[i].a, lk->c[i].rel, sha256, &bp);
		if (hit) {
			from = lk->c[i].a;
			apath = lk->c[i].path;
		} else if (bp && !named) {
			named = bp;
			named_from = lk->c[i].a;
			named_path = lk->c[i].path;
		}
	}
	const char *status;
	memset(&res->account, 0, sizeof res->account);
	if (hit) {
		status = (int64_t)hit->rows_written == res->rows ? "matched" : "rows_differ";
		res->account.rows_read = (int64_t)hit->rows_read;
		res->account.opted_out = (int64_t)hit->opted_out;
		res->account.rejected = (int64_t)hit->rejected;
		yoc_account_reasons_text(hit, res->account.reasons, sizeof res->account.reasons);
		if (strcmp(status, "rows_differ") == 0)
			snprintf(res->account.message, sizeof res->account.message,
				 "the account says %llu rows were written, load read %lld",
				 (unsigned long long)hit->rows_written, (long long)res->rows);
	} else if (named) {
		status = "changed";
		from = named_from;
		apath = named_path;
		snprintf(res->account.message, sizeof res->account.message,
			 "the account's entry %.120s has other content (SHA-256 %.16s..., here"
			 " %.16s...): changed since it was pseudonymised",
			 named->path, named->sha256, sha256 ? sha256 : "");
	} else if (lk->unreadable) {
		status = "unreadable";
		apath = lk->unreadable;
		snprintf(res->account.message, sizeof res->account.message, "%s", lk->why);
	} else if (lk->n) {
		status = "no_entry";
		from = lk->c[0].a;
		apath = lk->c[0].path;
		snprintf(res->account.message, sizeof res->account.message,
			 "not in the account (no entry with this content)");
	} else {
		status = "no_account";
	}
	snprintf(res->account.status, sizeof res->account.status, "%s", status);
	snprintf(res->account.path, sizeof res->account.path, "%s", apath ? apath : "");

	const struct yoc_account_file *x = hit ? hit : named;
	struct yoc_catalog_account ca = {
		.file_id = res->file_id,
		.status = status,
		.account = apath,
		.entry = x ? x->path : NULL,
		.sha256 = sha256,
		.counted = hit != NULL,
		.reasons = res->account.reasons,
		.nrejected = hit ? hit->nlisted : 0,
		.ctx = hit,
		.rejected_line = listed_line,
		.rejected_reason = listed_reason,
	};
	if (hit) {
		ca.rows_read = (int64_t)hit->rows_read;
		ca.rows_written = (int64_t)hit->rows_written;
		ca.opted_out = (int64_t)hit->opted_out;
		ca.rejected = (int64_t)hit->rejected;
	}
	if (from) {
		ca.key_id = from->key_id;
		ca.written = from->written;
		ca.generator = from->generator;
	}
	return yoc_catalog_account_add(s, &ca, e);
}


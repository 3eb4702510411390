/*
** The load driver (see load.h): takes each file through the stages in
** load_int.h (read and validate, encode, commit) and hands back its
** result. Nothing here prints or touches the catalog.
*/
#include <string.h>

#include "load/load_int.h"

const char *yoc_load_status_str(int status)
{
	static const char *const n[] = {"loaded", "unchanged", "replaced", "rejected"};
	return status >= 0 && status <= YOC_LOAD_REJECTED ? n[status] : "?";
}

void yoc_loader_policy(struct yoc_loader *L, const yoc_allow *allow, int strict)
{
	L->allow = allow;
	L->strict = strict;
}

int yoc_loader_mem(struct yoc_loader *L, const char *name, const void *data, size_t n,
		   int kind, struct yoc_load_result *res, struct yoc_error *e)
{
	struct yoc__lfile *lf = yoc_malloc(sizeof *lf);
	if (!lf)
		return yoc_error_set(e, YOC_ENOMEM, name, 0, 0, "out of memory");
	yoc__lf_init(lf, name, name, kind);
	yoc__lf_prepare(L, lf, name, data, n);
	int rc = yoc__lf_commit(L, lf, e);
	*res = lf->res;
	yoc__lf_free(lf);
	yoc_free(lf);
	return rc;
}

int yoc_loader_file(struct yoc_loader *L, const char *path, int kind,
		    struct yoc_load_result *res, struct yoc_error *e)
{
	return yoc_loader_file_from(L, path, path, kind, res, e);
}

int yoc_loader_file_from(struct yoc_loader *L, const char *path, const char *root, int kind,
			 struct yoc_load_result *res, struct yoc_error *e)
{
	struct yoc__lfile *lf = yoc_malloc(sizeof *lf);
	if (!lf)
		return yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "out of memory");
	yoc__lf_init(lf, path, root, kind);
	yoc__lf_read(L, lf);
	int rc = yoc__lf_commit(L, lf, e);
	*res = lf->res;
	yoc__lf_free(lf);
	yoc_free(lf);
	return rc;
}

void yoc_loader_jobs(struct yoc_loader *L, int n)
{
	L->jobs = n < 1 ? 1 : n > YOC_LOAD_MAX_JOBS ? YOC_LOAD_MAX_JOBS : n;
	yoc_store_jobs(L->s, L->jobs); /* the linkage counted at commit, too */
}

/*
** Many files: workers read, validate and encode files in any order, at
** most window files ahead of the commit, which takes them one at a time
** in load order on the caller's thread. So the catalog, the segments and
** every message are the same whatever the number of workers.
*/
struct pool {
	struct yoc_loader *L;
	const struct yoc_load_job *jobs;
	size_t n, next, committed, window;
	struct yoc__lfile **lf;
	unsigned char *ready;
	int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

/* Reads file i into P->lf[i] (left NULL when out of memory). */
static void read_one(struct pool *P, size_t i)
{
	const struct yoc_load_job *j = &P->jobs[i];
	if (j->skip)
		return;
	struct yoc__lfile *lf = yoc_malloc(sizeof *lf);
	if (!lf)
		return;
	yoc__lf_init(lf, j->path, j->root, j->kind);
	if (j->data) { /* a shard's part of a file read elsewhere (src/shard) */
		lf->hash_given = j->hash;
		lf->bytes_given = j->bytes;
		lf->scanned = j->scanned;
		yoc__lf_prepare(P->L, lf, j->path, j->data, j->ndata);
	} else {
		yoc__lf_read(P->L, lf);
	}
	P->lf[i] = lf;
}

static void *worker(void *arg)
{
	struct pool *P = arg;
	pthread_mutex_lock(&P->mu);
	for (;;) {
		while (!P->stop && P->next < P->n && P->next >= P->committed + P->window)
			pthread_cond_wait(&P->cv, &P->mu);
		if (P->stop || P->next >= P->n)
			break;
		size_t i = P->next++;
		pthread_mutex_unlock(&P->mu);
		read_one(P, i);
		pthread_mutex_lock(&P->mu);
		P->ready[i] = 1;
		pthread_cond_broadcast(&P->cv);
	}
	pthread_mutex_unlock(&P->mu);
	return NULL;
}

static void lf_drop(struct yoc__lfile *lf)
{
	yoc__lf_free(lf);
	yoc_free(lf);
}

int yoc_loader_files(struct yoc_loader *L, const struct yoc_load_job *jobs, size_t n,
		     int (*done)(void *ctx, size_t i, const struct yoc_load_result *res),
		     void *ctx, struct yoc_error *e)
{
	struct pool P;
	pthread_t th[YOC_LOAD_MAX_JOBS];
	int nth = 0, rc = YOC_OK;
	memset(&P, 0, sizeof P);
	P.L = L;
	P.jobs = jobs;
	P.n = n;
	P.window = L->jobs > 1 ? 2 * (size_t)L->jobs : 1;
	P.lf = yoc_calloc(n ? n : 1, sizeof *P.lf);
	P.ready = yoc_calloc(n ? n : 1, 1);
	pthread_mutex_init(&P.mu, NULL);
	pthread_cond_init(&P.cv, NULL);
	if (!P.lf || !P.ready) {
		rc = yoc_error_set(e, YOC_ENOMEM, "load", 0, 0, "out of memory");
		goto cleanup;
	}
	for (int t = 0; L->jobs > 1 && t < L->jobs && (size_t)t < n; t++) {
		if (pthread_create(&th[nth], NULL, worker, &P) != 0)
			break; /* fewer workers; the caller's thread reads what is left */
		nth++;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		int mine = 0;
		pthread_mutex_lock(&P.mu);
		if (!nth && P.next == i) { /* no workers: read it here */
			P.next++;
			mine = 1;
		}
		while (!mine && !P.ready[i])
			pthread_cond_wait(&P.cv, &P.mu);
		pthread_mutex_unlock(&P.mu);
		if (mine)
			read_one(&P, i);
		struct yoc__lfile *lf = P.lf[i];
		if (jobs[i].skip)
			rc = done(ctx, i, NULL);
		else if (!lf)
			rc = yoc_error_set(e, YOC_ENOMEM, jobs[i].path, 0, 0, "out of memory");
		else if (!(rc = yoc__lf_commit(L, lf, e)))
			rc = done(ctx, i, &lf->res);
		lf_drop(lf);
		P.lf[i] = NULL;
		pthread_mutex_lock(&P.mu);
		P.committed = i + 1;
		pthread_cond_broadcast(&P.cv);
		pthread_mutex_unlock(&P.mu);
	}
cleanup:
	pthread_mutex_lock(&P.mu);
	P.stop = 1;
	pthread_cond_broadcast(&P.cv);
	pthread_mutex_unlock(&P.mu);
	for (int t = 0; t < nth; t++)
		pthread_join(th[t], NULL);
	for (size_t i = 0; P.lf && i < n; i++)
		if (P.lf[i])
			lf_drop(P.lf[i]);
	yoc_free(P.lf);
	yoc_free(P.ready);
	pthread_mutex_destroy(&P.mu);
	pthread_cond_destroy(&P.cv);
	return rc;
}

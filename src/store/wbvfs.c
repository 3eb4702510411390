/*
** The write-behind VFS of a writing store ("yoc-wb", yoc__wbvfs_name):
** the page writes SQLite makes to the catalog's database file are copied
** into a queue and written by a helper thread, so that the kernel's cost of
** taking them (a copy into the page cache; on a virtual machine whose host
** lends memory on first touch, a fault per new page: half of analyse's
** writing time) runs beside SQLite's own work instead of after it.
**
** What SQLite sees is what it would see without the queue: before any other
** operation on the database file (a read of bytes still queued, a sync, a
** truncation, its size, a lock taken or given up, a file control, the
** close) and before any file is deleted, the queue is drained, so reads find every write, a commit's sync
** covers its pages, and the journal is removed only after the pages it
** guards are in the file. A write the helper fails is reported by the next
** of those operations. Queued writes are in order and at most QMAX bytes;
** when memory for the queue cannot be had, a write goes out at once.
** Journals and every other file go straight to the default VFS.
*/
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store_int.h"

/* Contiguous writes gather in chunks this large (the default VFS writes
 * less than 128 KiB in one call). */
#define CHUNK (64 * 1024)
#define QCHUNKS 256            /* chunks queued at most (their memory) */
#define QMAX (QCHUNKS * CHUNK) /* bytes queued at most */
/* The helper is woken for this much: a wake-up per page or per chunk of
 * scattered pages (a table dropped, a cache spilled) cost more on a
 * virtual machine than the writes it moved. */
#define WAKE_BYTES (1024 * 1024)
#define WAKE_CHUNKS 64

struct chunk {
	struct chunk *next;
	sqlite3_int64 off;
	int n;
	unsigned char data[CHUNK];
};

struct wbfile {
	sqlite3_file base;
	sqlite3_file *real; /* the default VFS's file, after this struct */
	int main_db;
	/* the queue (main_db only) */
	pthread_mutex_t mu;
	pthread_cond_t work;  /* the helper waits for a chunk to write */
	pthread_cond_t moved; /* writers and drains wait for the queue to move */
	pthread_t th;
	int started, stop;
	int flush;   /* drains under way: the helper takes the open tail chunk too */
	int waiting; /* threads waiting on moved */
	struct chunk *head, *tail, *spare; /* queued, in order; reusable */
	int nspare;
	int nq;        /* chunks queued (the tail, still filling, among them) */
	size_t queued; /* bytes queued or being written */
	struct chunk *cur; /* the chunk the helper is writing, or NULL */
	int err;       /* the first failed write's code, reported once drained */
	int delay_us;  /* test-only (YOC_WB_TEST_DELAY_US): the helper waits before each write */
	struct wbfile *nextf; /* open database files (draining before a delete) */
};

static sqlite3_vfs wb_vfs;
static sqlite3_vfs *orig;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t files_mu = PTHREAD_MUTEX_INITIALIZER;
static struct wbfile *files;

/*
** The helper starts writing once WAKE_BYTES or WAKE_CHUNKS are queued, or
** for a drain or the close, and then writes every closed chunk (all but
** the tail, which is only taken, still filling, for a drain or the close)
** before it sleeps again. Either amount means the head is not the tail.
*/
static int ready(const struct wbfile *f)
{
	return f->head && (f->flush || f->stop || f->queued >= WAKE_BYTES || f->nq > WAKE_CHUNKS);
}

static void *helper(void *arg)
{
	struct wbfile *f = arg;
	int going = 0; /* woken: every closed chunk goes out before the next sleep */
	pthread_mutex_lock(&f->mu);
	for (;;) {
		if (f->stop && !f->head)
			break;
		int closed = f->head && (f->head != f->tail || f->flush || f->stop);
		if (!going || !closed) {
			going = 0;
			if (!ready(f))
				pthread_cond_wait(&f->work, &f->mu);
			going = ready(f);
			continue;
		}
		struct chunk *c = f->head;
		f->head = c->next;
		f->nq--;
		if (!f->head)
			f->tail = NULL;
		f->cur = c;
		pthread_mutex_unlock(&f->mu);
		if (f->delay_us)
			usleep((useconds_t)f->delay_us);
		int rc = f->real->pMethods->xWrite(f->real, c->data, c->n, c->off);
		pthread_mutex_lock(&f->mu);
		f->cur = NULL;
		if (rc != SQLITE_OK && f->err == SQLITE_OK)
			f->err = rc;
		f->queued -= (size_t)c->n;
		if (f->nspare < QCHUNKS) {
			c->next = f->spare;
			f->spare = c;
			f->nspare++;
		} else {
			yoc_free(c);
		}
		if (f->waiting)
			pthread_cond_broadcast(&f->moved);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* Every queued write in the file; the first failure's code (reported once). */
static int drain(struct wbfile *f)
{
	if (!f->main_db)
		return SQLITE_OK;
	pthread_mutex_lock(&f->mu);
	if (f->head || f->cur) {
		f->flush++;
		f->waiting++;
		pthread_cond_signal(&f->work);
		while (f->head || f->cur)
			pthread_cond_wait(&f->moved, &f->mu);
		f->waiting--;
		f->flush--;
	}
	int rc = f->err;
	f->err = SQLITE_OK;
	pthread_mutex_unlock(&f->mu);
	return rc;
}

#define REAL(f) (((struct wbfile *)(f))->real)
#define DRAINED(f, call)                                                \
	do {                                                            \
		int rc_ = drain((struct wbfile *)(f));                  \
		return rc_ != SQLITE_OK ? rc_ : (call);                 \
	} while (0)

static int wb_close(sqlite3_file *pf)
{
	struct wbfile *f = (struct wbfile *)pf;
	int rc = drain(f);
	if (f->main_db) {
		pthread_mutex_lock(&files_mu);
		for (struct wbfile **p = &files; *p; p = &(*p)->nextf)
			if (*p == f) {
				*p = f->nextf;
				break;
			}
		pthread_mutex_unlock(&files_mu);
		if (f->started) {
			pthread_mutex_lock(&f->mu);
			f->stop = 1;
			pthread_cond_signal(&f->work);
			pthread_mutex_unlock(&f->mu);
			pthread_join(f->th, NULL);
		}
		while (f->spare) {
			struct chunk *c = f->spare;
			f->spare = c->next;
			yoc_free(c);
		}
		pthread_mutex_destroy(&f->mu);
		pthread_cond_destroy(&f->work);
		pthread_cond_destroy(&f->moved);
	}
	int rc2 = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
	return rc != SQLITE_OK ? rc : rc2;
}

static int overlaps(const struct chunk *c, sqlite3_int64 off, int n)
{
	return c && off < c->off + c->n && c->off < off + n;
}

/*
** A read of bytes no queued write touches goes straight to the file: only
** this connection adds to the queue, so none can arrive before it is done.
** Dropping a table reads every page of it between small writes to the
** freelist; draining before each of those reads woke the helper per page
** and made a second analyse of a dataset slower with the queue than without.
*/
static int wb_read(sqlite3_file *pf, void *p, int n, sqlite3_int64 off)
{
	struct wbfile *f = (struct wbfile *)pf;
	if (f->main_db) {
		pthread_mutex_lock(&f->mu);
		int pending = overlaps(f->cur, off, n);
		for (const struct chunk *c = f->head; c && !pending; c = c->next)
			pending = overlaps(c, off, n);
		int rc = pending ? SQLITE_OK : f->err;
		if (!pending)
			f->err = SQLITE_OK;
		pthread_mutex_unlock(&f->mu);
		if (rc != SQLITE_OK)
			return rc;
		if (!pending)
			return f->real->pMethods->xRead(f->real, p, n, off);
	}
	DRAINED(pf, REAL(pf)->pMethods->xRead(REAL(pf), p, n, off));
}

/* A chunk to fill: the tail when off continues it and there is room. */
static struct chunk *chunk_for(struct wbfile *f, sqlite3_int64 off, int n)
{
	struct chunk *t = f->tail;
	if (t && t->off + t->n == off && t->n + n <= CHUNK)
		return t;
	struct chunk *c = f->spare;
	if (c) {
		f->spare = c->next;
		f->nspare--;
	} else if (!(c = yoc_malloc(sizeof *c))) {
		return NULL;
	}
	c->next = NULL;
	c->off = off;
	c->n = 0;
	f->nq++;
	if (f->tail)
		f->tail->next = c;
	else
		f->head = c;
	f->tail = c;
	return c;
}

static int wb_write(sqlite3_file *pf, const void *p, int n, sqlite3_int64 off)
{
	struct wbfile *f = (struct wbfile *)pf;
	if (!f->main_db || n <= 0 || n > CHUNK)
		DRAINED(f, f->real->pMethods->xWrite(f->real, p, n, off));
	pthread_mutex_lock(&f->mu);
	if (!f->started) {
		f->started = pthread_create(&f->th, NULL, helper, f) == 0;
		if (!f->started) {
			pthread_mutex_unlock(&f->mu);
			DRAINED(f, f->real->pMethods->xWrite(f->real, p, n, off));
		}
	}
	if ((f->queued + (size_t)n > QMAX || f->nq >= QCHUNKS) && (f->head || f->cur)) {
		f->waiting++;
		pthread_cond_signal(&f->work);
		while ((f->queued + (size_t)n > QMAX || f->nq >= QCHUNKS) && (f->head || f->cur))
			pthread_cond_wait(&f->moved, &f->mu);
		f->waiting--;
	}
	struct chunk *c = chunk_for(f, off, n);
	if (!c) { /* no memory for the queue: this write goes out now */
		pthread_mutex_unlock(&f->mu);
		DRAINED(f, f->real->pMethods->xWrite(f->real, p, n, off));
	}
	memcpy(c->data + c->n, p, (size_t)n);
	c->n += n;
	f->queued += (size_t)n;
	if (ready(f))
		pthread_cond_signal(&f->work);
	pthread_mutex_unlock(&f->mu);
	return SQLITE_OK;
}

static int wb_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	DRAINED(f, REAL(f)->pMethods->xTruncate(REAL(f), size));
}

static int wb_sync(sqlite3_file *f, int flags)
{
	DRAINED(f, REAL(f)->pMethods->xSync(REAL(f), flags));
}

static int wb_size(sqlite3_file *f, sqlite3_int64 *size)
{
	DRAINED(f, REAL(f)->pMethods->xFileSize(REAL(f), size));
}

static int wb_lock(sqlite3_file *f, int level)
{
	DRAINED(f, REAL(f)->pMethods->xLock(REAL(f), level));
}

static int wb_unlock(sqlite3_file *f, int level)
{
	DRAINED(f, REAL(f)->pMethods->xUnlock(REAL(f), level));
}

static int wb_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int wb_fcntl(sqlite3_file *f, int op, void *arg)
{
	DRAINED(f, REAL(f)->pMethods->xFileControl(REAL(f), op, arg));
}

static int wb_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int wb_devchar(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int wb_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **pp)
{
	DRAINED(f, REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, extend, pp));
}

static int wb_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	DRAINED(f, REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags));
}

static void wb_shm_barrier(sqlite3_file *f)
{
	drain((struct wbfile *)f);
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int wb_shm_unmap(sqlite3_file *f, int del)
{
	DRAINED(f, REAL(f)->pMethods->xShmUnmap(REAL(f), del));
}

static int wb_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	DRAINED(f, REAL(f)->pMethods->xFetch(REAL(f), off, n, pp));
}

static int wb_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	DRAINED(f, REAL(f)->pMethods->xUnfetch(REAL(f), off, p));
}

static const sqlite3_io_methods wb_methods = {
	3,	     wb_close,	   wb_read,	   wb_write,	  wb_truncate,	  wb_sync,
	wb_size,     wb_lock,	   wb_unlock,	   wb_reserved,	  wb_fcntl,	  wb_sector,
	wb_devchar,  wb_shm_map,   wb_shm_lock,	   wb_shm_barrier, wb_shm_unmap, wb_fetch,
	wb_unfetch,
};

/* The same methods for a file whose own methods stop at version v. */
static sqlite3_io_methods wb_methods_v[3];

static int wb_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *pf, int flags, int *oflags)
{
	(void)vfs;
	struct wbfile *f = (struct wbfile *)pf;
	memset(f, 0, sizeof *f);
	f->real = (sqlite3_file *)(f + 1);
	int rc = orig->xOpen(orig, name, f->real, flags, oflags);
	if (rc != SQLITE_OK || !f->real->pMethods) {
		f->base.pMethods = NULL; /* SQLite calls no method of a failed open */
		return rc;
	}
	int v = f->real->pMethods->iVersion;
	f->base.pMethods = v >= 3 ? &wb_methods : &wb_methods_v[v < 1 ? 0 : v - 1];
	f->main_db = (flags & SQLITE_OPEN_MAIN_DB) != 0;
	if (f->main_db) {
		const char *d = getenv("YOC_WB_TEST_DELAY_US");
		f->delay_us = d ? (int)strtol(d, NULL, 10) : 0;
		pthread_mutex_init(&f->mu, NULL);
		pthread_cond_init(&f->work, NULL);
		pthread_cond_init(&f->moved, NULL);
		pthread_mutex_lock(&files_mu);
		f->nextf = files;
		files = f;
		pthread_mutex_unlock(&files_mu);
	}
	return SQLITE_OK;
}

/* A journal is removed only once the pages it guards are in their file. */
static int wb_delete(sqlite3_vfs *vfs, const char *name, int dirsync)
{
	(void)vfs;
	int rc = SQLITE_OK;
	pthread_mutex_lock(&files_mu);
	for (struct wbfile *f = files; f; f = f->nextf) {
		int r = drain(f);
		if (r != SQLITE_OK && rc == SQLITE_OK)
			rc = r;
	}
	pthread_mutex_unlock(&files_mu);
	return rc != SQLITE_OK ? rc : orig->xDelete(orig, name, dirsync);
}

static int wb_access(sqlite3_vfs *v, const char *n, int flags, int *out)
{
	(void)v;
	return orig->xAccess(orig, n, flags, out);
}

static int wb_fullpath(sqlite3_vfs *v, const char *n, int cap, char *out)
{
	(void)v;
	return orig->xFullPathname(orig, n, cap, out);
}

static void *wb_dlopen(sqlite3_vfs *v, const char *n)
{
	(void)v;
	return orig->xDlOpen(orig, n);
}

static void wb_dlerror(sqlite3_vfs *v, int n, char *msg)
{
	(void)v;
	orig->xDlError(orig, n, msg);
}

static void (*wb_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
	(void)v;
	return orig->xDlSym(orig, h, sym);
}

static void wb_dlclose(sqlite3_vfs *v, void *h)
{
	(void)v;
	orig->xDlClose(orig, h);
}

static int wb_random(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return orig->xRandomness(orig, n, out);
}

static int wb_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return orig->xSleep(orig, us);
}

static int wb_time(sqlite3_vfs *v, double *out)
{
	(void)v;
	return orig->xCurrentTime(orig, out);
}

static int wb_lasterr(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return orig->xGetLastError ? orig->xGetLastError(orig, n, out) : 0;
}

static int wb_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	(void)v;
	return orig->xCurrentTimeInt64(orig, out);
}

static void wb_register(void)
{
	if (!(orig = sqlite3_vfs_find(NULL)) || orig->iVersion < 2)
		return; /* yoc__wbvfs_name gives NULL: the default VFS is used */
	for (int v = 1; v <= 3; v++) {
		wb_methods_v[v - 1] = wb_methods;
		wb_methods_v[v - 1].iVersion = v;
	}
	wb_vfs.iVersion = 2;
	wb_vfs.szOsFile = (int)sizeof(struct wbfile) + orig->szOsFile;
	wb_vfs.mxPathname = orig->mxPathname;
	wb_vfs.zName = "yoc-wb";
	wb_vfs.xOpen = wb_open;
	wb_vfs.xDelete = wb_delete;
	wb_vfs.xAccess = wb_access;
	wb_vfs.xFullPathname = wb_fullpath;
	wb_vfs.xDlOpen = wb_dlopen;
	wb_vfs.xDlError = wb_dlerror;
	wb_vfs.xDlSym = wb_dlsym;
	wb_vfs.xDlClose = wb_dlclose;
	wb_vfs.xRandomness = wb_random;
	wb_vfs.xSleep = wb_sleep;
	wb_vfs.xCurrentTime = wb_time;
	wb_vfs.xGetLastError = wb_lasterr;
	wb_vfs.xCurrentTimeInt64 = wb_time64;
	if (sqlite3_vfs_register(&wb_vfs, 0) != SQLITE_OK)
		orig = NULL;
}

const char *yoc__wbvfs_name(void)
{
	const char *off = getenv("YOC_STORE_WB"); /* "0": the default VFS (measurements) */
	if (off && strcmp(off, "0") == 0)
		return NULL;
	pthread_once(&once, wb_register);
	return orig ? wb_vfs.zName : NULL;
}

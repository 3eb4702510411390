/*
** The pseudonym pool of a dataset (docs/store.md, "The pseudonym pool"):
** DIR/pseudonyms.pool holds each distinct pseudonym the dataset's segments
** name, once, as 32 raw bytes; a format-3 segment's person column holds pool
** indexes instead of its own copy of every pseudonym (24 million copies of a
** million pseudonyms at 1,000,000 persons x 3 years).
**
**   header   "YOCPOOL1", u32 entry size (32), u32 0                (16 bytes)
**   entries  32 bytes each; entry i at 16 + 32 i
**
** The file only grows, and an entry, once written, is never changed: a
** writer (who holds the dataset's lock) appends the entries it added and
** makes them durable (yoc__pool_flush) before any segment that names them
** is committed. Entries after a crash that no commit names are unused, and
** a torn last entry is written over. So the entries a committed segment
** names are always whole, whatever a reader finds after them.
**
** In memory, one pool per dataset directory for the whole process (a
** reader and a writer of the same dataset share it): entries in chunks that
** never move, so a reader reads an entry below the published count without
** a lock while a writer appends. A reader reads from the file only the
** entries up to the one it needs (those are whole); the writer all of them.
*/
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_int.h"

#define POOL_MAGIC "YOCPOOL1"
#define POOL_HDR 16
#define CHUNK_BITS 16
#define CHUNK (1u << CHUNK_BITS)     /* entries per chunk: 2 MiB */
#define MAX_CHUNKS (1u << 16)        /* 2^32 entries */

struct yoc__pool {
	struct yoc__pool *next;
	dev_t dev;                    /* the dataset directory */
	ino_t ino;
	char path[4200];              /* DIR/pseudonyms.pool */
	pthread_mutex_t lock;
	uint32_t count;               /* entries in memory; read with acquire */
	uint32_t nfile;               /* of which the file holds */
	dev_t fdev;                   /* the file they came from or went to */
	ino_t fino;
	int have_file;
	uint64_t *slot;               /* intern map: tag << 32 | index + 1 (0: empty) */
	size_t mask;
	unsigned char *chunk[MAX_CHUNKS];
};

static void reset(struct yoc__pool *p);
static int refresh(struct yoc__pool *p, uint64_t want);

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct yoc__pool *reg;

struct yoc__pool *yoc__pool_get(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) != 0)
		return NULL;
	pthread_mutex_lock(&reg_lock);
	struct yoc__pool *p = reg;
	while (p && !(p->dev == st.st_dev && p->ino == st.st_ino))
		p = p->next;
	if (!p && (p = yoc_calloc(1, sizeof *p)) != NULL) {
		p->dev = st.st_dev;
		p->ino = st.st_ino;
		pthread_mutex_init(&p->lock, NULL);
		p->next = reg;
		reg = p;
	}
	pthread_mutex_unlock(&reg_lock);
	if (p) {
		/* the name it was last reached by (a directory made again can reuse an inode) */
		pthread_mutex_lock(&p->lock);
		snprintf(p->path, sizeof p->path, "%s/pseudonyms.pool", dir);
		pthread_mutex_unlock(&p->lock);
	}
	return p;
}

int yoc__pool_writer(struct yoc__pool *p)
{
	if (!p)
		return YOC_OK;
	pthread_mutex_lock(&p->lock);
	if (p->count != p->nfile) {
		/* an earlier writer's entries it never made durable: no commit names them */
		yoc_free(p->slot);
		p->slot = NULL;
		p->mask = 0;
		__atomic_store_n(&p->count, p->nfile, __ATOMIC_RELEASE);
	}
	struct stat st;
	if (stat(p->path, &st) != 0 ? p->count > 0 || p->have_file :
	    p->have_file && (st.st_dev != p->fdev || st.st_ino != p->fino))
		reset(p); /* not the file the entries came from */
	int rc = refresh(p, UINT64_MAX);
	pthread_mutex_unlock(&p->lock);
	return rc;
}

static inline unsigned char *entry_at(const struct yoc__pool *p, uint32_t i)
{
	return p->chunk[i >> CHUNK_BITS] + (size_t)(i & (CHUNK - 1)) * YOC_POOL_ENTRY;
}

/* Forgets every entry (lock held): the file is not the one they came from. */
static void reset(struct yoc__pool *p)
{
	for (uint32_t c = 0; c < MAX_CHUNKS && p->chunk[c]; c++) {
		yoc_free(p->chunk[c]);
		p->chunk[c] = NULL;
	}
	yoc_free(p->slot);
	p->slot = NULL;
	p->mask = 0;
	__atomic_store_n(&p->count, 0, __ATOMIC_RELEASE);
	p->nfile = 0;
	p->have_file = 0;
}

/* Room for entry i (lock held). */
static int reserve(struct yoc__pool *p, uint32_t i)
{
	uint32_t c = i >> CHUNK_BITS;
	if (!p->chunk[c] && !(p->chunk[c] = yoc_malloc((size_t)CHUNK * YOC_POOL_ENTRY)))
		return YOC_ENOMEM;
	return YOC_OK;
}

/*
** Reads the file's entries from count up to want (lock held; only when
** every entry in memory is in the file). A file that is not the one read
** before (the dataset was made again) starts the pool afresh.
*/
static int refresh(struct yoc__pool *p, uint64_t want)
{
	if (p->count != p->nfile)
		return YOC_OK; /* a writer's entries not yet written: the file has no more */
	int fd = open(p->path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		int gone = errno == ENOENT;
		if (fd >= 0)
			close(fd);
		if (gone && p->count)
			reset(p);
		return gone ? YOC_OK : YOC_EIO;
	}
	int rc = YOC_OK;
	if (p->have_file && (st.st_dev != p->fdev || st.st_ino != p->fino))
		reset(p);
	p->fdev = st.st_dev;
	p->fino = st.st_ino;
	p->have_file = 1;
	unsigned char hdr[POOL_HDR];
	if (st.st_size < POOL_HDR)
		goto done; /* created, header not yet written: empty */
	if (pread(fd, hdr, POOL_HDR, 0) != POOL_HDR || memcmp(hdr, POOL_MAGIC, 8) != 0 ||
	    hdr[8] != YOC_POOL_ENTRY || hdr[9] || hdr[10] || hdr[11]) {
		rc = YOC_EDATA;
		goto done;
	}
	uint64_t avail = ((uint64_t)st.st_size - POOL_HDR) / YOC_POOL_ENTRY;
	if (avail > (uint64_t)MAX_CHUNKS * CHUNK)
		avail = (uint64_t)MAX_CHUNKS * CHUNK;
	if (want > avail)
		want = avail;
	uint32_t n = p->count;
	while (n < want) {
		if ((rc = reserve(p, n)))
			break;
		uint32_t k = CHUNK - (n & (CHUNK - 1));
		if (k > want - n)
			k = (uint32_t)(want - n);
		size_t bytes = (size_t)k * YOC_POOL_ENTRY;
		ssize_t got = pread(fd, entry_at(p, n), bytes, POOL_HDR + (off_t)n * YOC_POOL_ENTRY);
		if (got != (ssize_t)bytes) {
			rc = YOC_EIO;
			break;
		}
		n += k;
	}
	p->nfile = n;
	__atomic_store_n(&p->count, n, __ATOMIC_RELEASE);
done:
	close(fd);
	return rc;
}

int yoc__pool_have(struct yoc__pool *p, uint32_t need)
{
	if (!p)
		return 0;
	if (__atomic_load_n(&p->count, __ATOMIC_ACQUIRE) >= need)
		return 1;
	pthread_mutex_lock(&p->lock);
	refresh(p, need);
	int ok = p->count >= need;
	pthread_mutex_unlock(&p->lock);
	return ok;
}

const unsigned char *yoc__pool_entry(const struct yoc__pool *p, uint32_t i)
{
	return entry_at(p, i);
}

static uint64_t key_hash(const unsigned char *k)
{
	uint64_t h;
	memcpy(&h, k, 8); /* a keyed hash: its bytes are already uniform */
	return h;
}

/* A slot's tag: the key's hash bits above those that pick the slot. */
static inline uint64_t tag_of(uint64_t h)
{
	return h >> 32 << 32;
}

static void map_put(struct yoc__pool *p, uint32_t i)
{
	uint64_t h = key_hash(entry_at(p, i));
	size_t j = (size_t)h & p->mask;
	while (p->slot[j])
		j = (j + 1) & p->mask;
	p->slot[j] = tag_of(h) | ((uint64_t)i + 1);
}

/* The intern map with room for n entries (lock held). */
static int map_fit(struct yoc__pool *p, uint64_t n)
{
	if (p->slot && n * 2 <= p->mask + 1)
		return YOC_OK;
	size_t cap = 1024;
	while (cap < n * 2)
		cap *= 2;
	uint64_t *ns = yoc_calloc(cap, sizeof *ns);
	if (!ns)
		return YOC_ENOMEM;
	yoc_free(p->slot);
	p->slot = ns;
	p->mask = cap - 1;
	for (uint32_t i = 0; i < p->count; i++)
		map_put(p, i);
	return YOC_OK;
}

int yoc__pool_intern(struct yoc__pool *p, const unsigned char *keys, size_t n, uint32_t *idx)
{
	int rc = YOC_OK;
	pthread_mutex_lock(&p->lock);
	/* the dataset's lock is held: no other process is writing the file */
	uint32_t before = p->count;
	if ((rc = refresh(p, UINT64_MAX)))
		goto done;
	if (p->count != before) {
		/* another process's entries since the map was built: build it again */
		yoc_free(p->slot);
		p->slot = NULL;
	}
	if ((rc = map_fit(p, (uint64_t)p->count + n)))
		goto done;
	/*
	 * Three steps D keys apart, so the cache misses overlap (most keys are
	 * already in the pool, and each costs a miss on its slot and one on
	 * its entry): fetch key k's slot; fetch the entry the slot of key
	 * k - D names; look up key k - 2D.
	 */
	enum { D = 8 };
	uint32_t count = p->count;
	for (size_t k = 0; k < n + 2 * D; k++) {
		if (k < n)
			__builtin_prefetch(&p->slot[key_hash(keys + k * YOC_POOL_ENTRY) & p->mask]);
		if (k >= D && k - D < n) {
			uint64_t h = key_hash(keys + (k - D) * YOC_POOL_ENTRY);
			uint64_t v = p->slot[h & p->mask];
			if (v && tag_of(v) == tag_of(h))
				__builtin_prefetch(entry_at(p, (uint32_t)v - 1));
		}
		if (k < 2 * D)
			continue;
		size_t i = k - 2 * D;
		const unsigned char *key = keys + i * YOC_POOL_ENTRY;
		uint64_t h = key_hash(key);
		size_t j = (size_t)h & p->mask;
		for (; p->slot[j]; j = (j + 1) & p->mask)
			if (tag_of(p->slot[j]) == tag_of(h) &&
			    memcmp(entry_at(p, (uint32_t)p->slot[j] - 1), key, YOC_POOL_ENTRY) == 0)
				break;
		if (!p->slot[j]) {
			if (count == UINT32_MAX - 1 || (rc = reserve(p, count))) {
				rc = rc ? rc : YOC_ETOOBIG;
				break;
			}
			memcpy(entry_at(p, count), key, YOC_POOL_ENTRY);
			p->slot[j] = tag_of(h) | ((uint64_t)count + 1);
			count++;
		}
		idx[i] = (uint32_t)p->slot[j] - 1;
	}
	__atomic_store_n(&p->count, count, __ATOMIC_RELEASE);
done:
	pthread_mutex_unlock(&p->lock);
	return rc;
}

static int pw_all(int fd, const unsigned char *b, size_t n, off_t at)
{
	while (n) {
		ssize_t k = pwrite(fd, b, n, at);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		b += k;
		n -= (size_t)k;
		at += k;
	}
	return 0;
}

int yoc__pool_flush(struct yoc__pool *p, struct yoc_error *e)
{
	if (!p)
		return YOC_OK;
	struct stat st;
	int rc = YOC_OK, fd = -1, created;
	pthread_mutex_lock(&p->lock);
	if (p->count == p->nfile)
		goto done;
	created = access(p->path, F_OK) != 0;
	fd = open(p->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || fstat(fd, &st) != 0)
		goto ioerr;
	if (st.st_size < POOL_HDR) {
		unsigned char hdr[POOL_HDR] = POOL_MAGIC;
		hdr[8] = YOC_POOL_ENTRY;
		if (pw_all(fd, hdr, POOL_HDR, 0))
			goto ioerr;
	}
	for (uint32_t i = p->nfile; i < p->count;) {
		uint32_t k = CHUNK - (i & (CHUNK - 1));
		if (k > p->count - i)
			k = p->count - i;
		if (pw_all(fd, entry_at(p, i), (size_t)k * YOC_POOL_ENTRY,
			   POOL_HDR + (off_t)i * YOC_POOL_ENTRY))
			goto ioerr;
		i += k;
	}
	if (fdatasync(fd) != 0)
		goto ioerr;
	close(fd);
	fd = -1;
	if (created) {
		/* the new name, durable before a commit depends on it */
		char dir[4200];
		snprintf(dir, sizeof dir, "%s", p->path);
		char *slash = strrchr(dir, '/');
		if (slash)
			*slash = 0;
		int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		int bad = dfd < 0 || fsync(dfd) != 0;
		if (dfd >= 0)
			close(dfd);
		if (bad)
			goto ioerr;
	}
	p->fdev = st.st_dev;
	p->fino = st.st_ino;
	p->have_file = 1;
	p->nfile = p->count;
	goto done;
ioerr:
	rc = yoc_error_set(e, YOC_EIO, p->path, 0, 0, "write failed: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
done:
	pthread_mutex_unlock(&p->lock);
	return rc;
}

uint32_t yoc__pool_size(struct yoc__pool *p)
{
	if (!p)
		return 0;
	struct stat st;
	uint64_t n = __atomic_load_n(&p->count, __ATOMIC_ACQUIRE);
	pthread_mutex_lock(&p->lock);
	if (stat(p->path, &st) == 0 && st.st_size > POOL_HDR &&
	    ((uint64_t)st.st_size - POOL_HDR) / YOC_POOL_ENTRY > n)
		n = ((uint64_t)st.st_size - POOL_HDR) / YOC_POOL_ENTRY;
	pthread_mutex_unlock(&p->lock);
	return n > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)n;
}

/*
** The hash-chained log (alog.h): append and verify. Shared by the
** re-identification log and the server's access log.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "alog/alog.h"
#include "yoc/io.h"

#define MAX_LINE YOC_ALOG_MAX_LINE
#define HEAD "{\"seq\":"
#define PREV_TAG ",\"prev\":\""
#define HASH_TAG ",\"hash\":\""
/* ,"hash":"<64>"}  and  ,"prev":"<64>" */
#define HASH_TAIL (sizeof HASH_TAG - 1 + 64 + 2)
#define PREV_TAIL (sizeof PREV_TAG - 1 + 64 + 1)

static const char zeros[] =
	"0000000000000000000000000000000000000000000000000000000000000000";

static void sha256_hex(const void *p, size_t n, char out[65])
{
	static const char hx[] = "0123456789abcdef";
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, p, n);
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hx[h[i] >> 4];
		out[2 * i + 1] = hx[h[i] & 15];
	}
	out[64] = 0;
}

static int is_hex64(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* Checks one record line (without its newline) against the chain so far. */
static int check_line(const char *s, size_t n, uint64_t seq_want, const char *prev,
		      char hash_out[65], const char **why)
{
	char want[65];
	size_t hl = sizeof HEAD - 1;
	if (n < hl + 2 + HASH_TAIL + PREV_TAIL || memcmp(s, HEAD, hl) != 0) {
		*why = "not an audit record";
		return 0;
	}
	uint64_t seq = 0;
	size_t i = hl;
	while (i < n && s[i] >= '0' && s[i] <= '9' && i < hl + 19)
		seq = seq * 10 + (uint64_t)(s[i++] - '0');
	if (i == hl || s[i] != ',') {
		*why = "bad seq field";
		return 0;
	}
	if (seq != seq_want) {
		*why = "record out of sequence (a record was removed, added or moved)";
		return 0;
	}
	const char *tail = s + n - HASH_TAIL;
	if (memcmp(tail, HASH_TAG, sizeof HASH_TAG - 1) != 0 || s[n - 2] != '"' ||
	    s[n - 1] != '}' || !is_hex64(tail + sizeof HASH_TAG - 1)) {
		*why = "bad hash field";
		return 0;
	}
	size_t body = n - HASH_TAIL;
	const char *ptag = s + body - PREV_TAIL;
	if (memcmp(ptag, PREV_TAG, sizeof PREV_TAG - 1) != 0 || s[body - 1] != '"' ||
	    !is_hex64(ptag + sizeof PREV_TAG - 1)) {
		*why = "bad prev field";
		return 0;
	}
	if (memcmp(ptag + sizeof PREV_TAG - 1, prev, 64) != 0) {
		*why = "prev does not match the previous record's hash "
		       "(a record was removed, added or moved)";
		return 0;
	}
	sha256_hex(s, body, want);
	if (memcmp(want, tail + sizeof HASH_TAG - 1, 64) != 0) {
		*why = "hash does not match the record (the record was edited)";
		return 0;
	}
	memcpy(hash_out, want, 65);
	return 1;
}

/* Verifies the log open on fd (from its start). */
static int verify_fd(int fd, const char *log, struct yoc_alog_result *res,
		     struct yoc_error *e)
{
	struct yoc_buf line;
	char *chunk = NULL;
	long ln = 0;
	int rc = YOC_OK;

	res->records = 0;
	memcpy(res->head, zeros, 65);
	yoc_buf_init(&line, MAX_LINE);
	chunk = yoc_malloc(1 << 16);
	if (!chunk)
		return yoc_error_set(e, YOC_ENOMEM, log, 0, 0, "out of memory");
	for (;;) {
		ssize_t got = read(fd, chunk, 1 << 16);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = yoc_error_set(e, YOC_EIO, log, 0, 0, "read failed: %s",
					   strerror(errno));
			goto cleanup;
		}
		if (got == 0)
			break;
		size_t start = 0;
		for (size_t i = 0; i < (size_t)got; i++) {
			if (chunk[i] != '\n')
				continue;
			rc = yoc_buf_append(&line, chunk + start, i - start);
			start = i + 1;
			ln++;
			const char *why = "line too long";
			char h[65];
			if (rc || !check_line(line.data ? line.data : "", line.len,
					      res->records + 1, res->head, h, &why)) {
				rc = yoc_error_set(e, YOC_EDATA, log, ln, 0,
						   "audit chain broken: %s", why);
				goto cleanup;
			}
			memcpy(res->head, h, 65);
			res->records++;
			yoc_buf_reset(&line);
		}
		if (yoc_buf_append(&line, chunk + start, (size_t)got - start) != 0) {
			rc = yoc_error_set(e, YOC_EDATA, log, ln + 1, 0,
					   "audit chain broken: line too long");
			goto cleanup;
		}
	}
	if (line.len) {
		rc = yoc_error_set(e, YOC_EDATA, log, ln + 1, 0,
				   "audit chain broken: incomplete last record (no newline)");
		goto cleanup;
	}
cleanup:
	yoc_free(chunk);
	yoc_buf_free(&line);
	return rc;
}

int yoc_alog_verify(const char *log, struct yoc_alog_result *res, struct yoc_error *e)
{
	int fd = yoc_open_regular(log, O_RDONLY, 0, e); /* a named pipe is refused */
	if (fd < 0)
		return fd;
	if (sodium_init() < 0) {
		close(fd);
		return yoc_error_set(e, YOC_EINTERNAL, log, 0, 0, "libsodium failed to start");
	}
	int rc = verify_fd(fd, log, res, e);
	close(fd);
	return rc;
}

int yoc_alog_put_str(struct yoc_buf *b, const char *key, const char *s)
{
	int rc = yoc_buf_printf(b, ",\"%s\":\"", key);
	for (const unsigned char *p = (const unsigned char *)s; !rc && *p; p++) {
		if (*p == '"' || *p == '\\')
			rc = yoc_buf_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			rc = yoc_buf_printf(b, "\\u%04x", *p);
		else
			rc = yoc_buf_putc(b, (char)*p);
	}
	return rc ? rc : yoc_buf_putc(b, '"');
}

/* Writes one record after the chain res (fd open O_APPEND, lock held). */
static int emit(int fd, const char *log, struct yoc_alog_result *res, const char *fields,
		char hash_out[65], struct yoc_error *e)
{
	struct yoc_buf b;
	char stamp[32], hash[65];
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	yoc_buf_init(&b, MAX_LINE - 1);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	rc = yoc_buf_printf(&b, HEAD "%llu", (unsigned long long)res->records + 1);
	if (!rc)
		rc = yoc_alog_put_str(&b, "time", stamp);
	if (!rc)
		rc = yoc_buf_puts(&b, fields);
	if (!rc)
		rc = yoc_buf_printf(&b, PREV_TAG "%s\"", res->head);
	if (rc) {
		rc = yoc_error_set(e, rc, log, 0, 0, "audit record too long");
		goto cleanup;
	}
	sha256_hex(b.data, b.len, hash);
	rc = yoc_buf_printf(&b, HASH_TAG "%s\"}\n", hash);
	if (rc) {
		rc = yoc_error_set(e, rc, log, 0, 0, "audit record too long");
		goto cleanup;
	}
	size_t done = 0;
	while (done < b.len) {
		ssize_t w = write(fd, b.data + done, b.len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = yoc_error_set(e, YOC_EIO, log, 0, 0, "append failed: %s",
					   strerror(errno));
			goto cleanup;
		}
		done += (size_t)w;
	}
	if (fsync(fd) != 0) {
		rc = yoc_error_set(e, YOC_EIO, log, 0, 0, "fsync failed: %s", strerror(errno));
		goto cleanup;
	}
	res->records++;
	memcpy(res->head, hash, 65);
	if (hash_out)
		memcpy(hash_out, hash, 65);
cleanup:
	yoc_buf_free(&b);
	return rc;
}

static int lock_fd(int fd, int how, const char *log, struct yoc_error *e)
{
	while (flock(fd, how) != 0)
		if (errno != EINTR)
			return yoc_error_set(e, YOC_EIO, log, 0, 0, "cannot lock audit log: %s",
					     strerror(errno));
	return 0;
}

/* Verifies the whole log again (lock held) into res. */
static int reverify(const char *log, struct yoc_alog_result *res, struct yoc_error *e)
{
	int rfd = yoc_open_regular(log, O_RDONLY, 0, e);
	if (rfd < 0)
		return rfd;
	int rc = verify_fd(rfd, log, res, e);
	close(rfd);
	if (rc == YOC_EDATA && e) {
		char msg[sizeof e->msg];
		snprintf(msg, sizeof msg, "%.400s; refusing to append to a broken log", e->msg);
		snprintf(e->msg, sizeof e->msg, "%s", msg);
	}
	return rc;
}

int yoc_alog_append(const char *log, const char *fields, char hash_out[65],
		    struct yoc_error *e)
{
	struct yoc_alog_result res;
	int fd, rc;

	if (sodium_init() < 0)
		return yoc_error_set(e, YOC_EINTERNAL, log, 0, 0, "libsodium failed to start");
	/* a named pipe, socket or device is refused, never waited on */
	fd = yoc_open_regular(log, O_WRONLY | O_APPEND | O_CREAT, 0600, e);
	if (fd < 0)
		return fd;
	/* One writer at a time: the chain is read and extended under the lock. */
	rc = lock_fd(fd, LOCK_EX, log, e);
	if (!rc)
		rc = reverify(log, &res, e);
	if (!rc)
		rc = emit(fd, log, &res, fields, hash_out, e);
	close(fd); /* releases the lock */
	return rc;
}

struct yoc_alog {
	char *path;
	int fd;
	off_t size;                 /* the log's size after our last write */
	struct yoc_alog_result res; /* the chain up to size */
};

int yoc_alog_open(const char *log, yoc_alog **out, struct yoc_error *e)
{
	yoc_alog *a = NULL;
	struct stat st = {0};
	int rc = 0;

	*out = NULL;
	if (sodium_init() < 0)
		return yoc_error_set(e, YOC_EINTERNAL, log, 0, 0, "libsodium failed to start");
	a = yoc_calloc(1, sizeof *a);
	if (!a || !(a->path = yoc_malloc(strlen(log) + 1))) {
		yoc_free(a);
		return yoc_error_set(e, YOC_ENOMEM, log, 0, 0, "out of memory");
	}
	memcpy(a->path, log, strlen(log) + 1);
	a->fd = yoc_open_regular(log, O_WRONLY | O_APPEND | O_CREAT, 0600, e);
	if (a->fd < 0) {
		rc = a->fd;
		goto cleanup;
	}
	if ((rc = lock_fd(a->fd, LOCK_EX, log, e)))
		goto cleanup;
	rc = reverify(log, &a->res, e);
	if (!rc && fstat(a->fd, &st) != 0)
		rc = yoc_error_set(e, YOC_EIO, log, 0, 0, "stat failed: %s", strerror(errno));
	a->size = st.st_size;
	lock_fd(a->fd, LOCK_UN, log, NULL);
cleanup:
	if (rc)
		yoc_alog_close(a);
	else
		*out = a;
	return rc;
}

int yoc_alog_write(yoc_alog *a, const char *fields, char hash_out[65], struct yoc_error *e)
{
	struct stat st;
	int rc = lock_fd(a->fd, LOCK_EX, a->path, e);
	if (rc)
		return rc;
	/* another writer appended since our last record: read the chain again */
	if (fstat(a->fd, &st) != 0)
		rc = yoc_error_set(e, YOC_EIO, a->path, 0, 0, "stat failed: %s", strerror(errno));
	else if (st.st_size != a->size)
		rc = reverify(a->path, &a->res, e);
	if (!rc)
		rc = emit(a->fd, a->path, &a->res, fields, hash_out, e);
	if (!rc && fstat(a->fd, &st) == 0)
		a->size = st.st_size;
	lock_fd(a->fd, LOCK_UN, a->path, NULL);
	return rc;
}

void yoc_alog_close(yoc_alog *a)
{
	if (!a)
		return;
	if (a->fd >= 0)
		close(a->fd);
	yoc_free(a->path);
	yoc_free(a);
}

/*
** The re-identification audit log: append-only JSON lines, each carrying the
** hash of the previous record, so that an edit, insertion, deletion or
** reordering of records breaks the chain at a line `yoc audit verify` names.
**
** A record line is, in this field order,
**   {"seq":N,"time":"...","user":"...","purpose":"...","input":"...",
**    "input_sha256":"...","register_sha256":"...","key_id":"...",
**    "output":"...","rows_total":N,"rows_reidentified":N,
**    "persons_reidentified":N,"prev":"<64 hex>","hash":"<64 hex>"}
** where hash = SHA-256 of the line's bytes before ',"hash":' and prev is the
** previous record's hash (64 zeros for the first). Verification needs no
** JSON parser: the fixed tail gives prev and hash, the fixed head gives seq.
**
** Must not: rewrite or truncate the log (O_APPEND only), append to a log
** whose chain is already broken, or append without holding the lock.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "pseudo/pseudo.h"
#include "yoc/io.h"

#define MAX_LINE ((size_t)1 << 18)
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
static int verify_fd(int fd, const char *log, struct yoc_audit_result *res,
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

int yoc_audit_verify(const char *log, struct yoc_audit_result *res,
		     struct yoc_error *e)
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

static int put_json_str(struct yoc_buf *b, const char *key, const char *s)
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

int yoc_audit_append(const char *log, const struct yoc_audit_rec *r,
		     char hash_out[65], struct yoc_error *e)
{
	struct yoc_audit_result res;
	struct yoc_buf b;
	char stamp[32], hash[65];
	int fd = -1, rfd = -1, rc = YOC_OK;
	time_t now = time(NULL);
	struct tm tm;

	yoc_buf_init(&b, MAX_LINE - 1);
	if (!r->user || !*r->user || strlen(r->user) > YOC_AUDIT_MAX_USER)
		return yoc_error_set(e, YOC_EINVAL, log, 0, 0,
				     "user must be 1 to %d bytes", YOC_AUDIT_MAX_USER);
	if (!r->purpose || !*r->purpose || strlen(r->purpose) > YOC_AUDIT_MAX_PURPOSE)
		return yoc_error_set(e, YOC_EINVAL, log, 0, 0,
				     "purpose must be 1 to %d bytes", YOC_AUDIT_MAX_PURPOSE);
	if (sodium_init() < 0)
		return yoc_error_set(e, YOC_EINTERNAL, log, 0, 0, "libsodium failed to start");
	/* a named pipe, socket or device is refused, never waited on */
	fd = yoc_open_regular(log, O_WRONLY | O_APPEND | O_CREAT, 0600, e);
	if (fd < 0)
		return fd;
	/* One writer at a time: the chain is read and extended under the lock. */
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			rc = yoc_error_set(e, YOC_EIO, log, 0, 0, "cannot lock audit log: %s",
					   strerror(errno));
			goto cleanup;
		}
	}
	rfd = yoc_open_regular(log, O_RDONLY, 0, e);
	if (rfd < 0) {
		rc = rfd;
		goto cleanup;
	}
	rc = verify_fd(rfd, log, &res, e);
	if (rc) {
		if (rc == YOC_EDATA && e) {
			char msg[sizeof e->msg];
			snprintf(msg, sizeof msg, "%.400s; refusing to append to a broken log",
				 e->msg);
			snprintf(e->msg, sizeof e->msg, "%s", msg);
		}
		goto cleanup;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	rc = yoc_buf_printf(&b, HEAD "%llu", (unsigned long long)res.records + 1);
	if (!rc) rc = put_json_str(&b, "time", stamp);
	if (!rc) rc = put_json_str(&b, "user", r->user);
	if (!rc) rc = put_json_str(&b, "purpose", r->purpose);
	if (!rc) rc = put_json_str(&b, "input", r->input ? r->input : "");
	if (!rc) rc = put_json_str(&b, "input_sha256", r->input_sha256);
	if (!rc) rc = put_json_str(&b, "register_sha256", r->register_sha256);
	if (!rc) rc = put_json_str(&b, "key_id", r->key_id);
	if (!rc) rc = put_json_str(&b, "output", r->output ? r->output : "");
	if (!rc)
		rc = yoc_buf_printf(&b,
				    ",\"rows_total\":%llu,\"rows_reidentified\":%llu,"
				    "\"persons_reidentified\":%llu" PREV_TAG "%s\"",
				    (unsigned long long)r->rows_total,
				    (unsigned long long)r->rows_reidentified,
				    (unsigned long long)r->persons, res.head);
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
	if (hash_out)
		memcpy(hash_out, hash, 65);
cleanup:
	if (rfd >= 0)
		close(rfd);
	if (fd >= 0)
		close(fd); /* releases the lock */
	yoc_buf_free(&b);
	return rc;
}

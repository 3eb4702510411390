/*
** The hash-chained log: append-only JSON lines, each carrying the hash of
** the record before it, so that an edit, insertion, deletion or reordering
** of records breaks the chain at a line that verification names. Used by
** the re-identification log (src/pseudo) and the server's access log
** (src/server); `yoc audit verify` checks either.
**
** A record line is
**   {"seq":N,"time":"YYYY-MM-DDTHH:MM:SSZ"<fields>,"prev":"<64 hex>","hash":"<64 hex>"}
** where <fields> is the caller's text (",\"user\":\"...\",..."), hash is the
** SHA-256 (libsodium) of the line's bytes before ',"hash":' and prev the
** previous record's hash (64 zeros for the first). Verification needs no
** JSON parser: the fixed head gives seq, the fixed tail prev and hash.
**
** Must not: rewrite or truncate a log (O_APPEND only), append to a log whose
** chain is already broken, or append without holding the lock.
*/
#ifndef YOC_ALOG_H
#define YOC_ALOG_H

#include <stdint.h>

#include "yoc/core.h"

#define YOC_ALOG_MAX_LINE ((size_t)1 << 18)

struct yoc_alog_result {
	uint64_t records;
	char head[65];     /* hash of the last record (64 zeros if none) */
};

/*
** Appends one record whose fields (JSON members, each starting with a comma;
** caller-owned, only read) follow seq and time. Under an exclusive flock,
** after verifying the existing chain: a broken log is never extended
** (YOC_EDATA). Creates the log (mode 0600) if absent. O_APPEND, one write,
** fsync. On success the new record's hash is in hash_out (may be NULL).
*/
int yoc_alog_append(const char *log, const char *fields, char hash_out[65],
		    struct yoc_error *e);

/*
** Verifies every record: well formed, seq counting from 1, prev equal to the
** previous record's hash, hash equal to the SHA-256 of the record. Returns 0,
** or YOC_EDATA with e->line the first broken line; YOC_EIO if unreadable.
** Removing records from the end is detected only against a head kept elsewhere.
*/
int yoc_alog_verify(const char *log, struct yoc_alog_result *res, struct yoc_error *e);

/*
** A log kept open by a long-running writer (the server): open verifies the
** chain once; each write takes the lock, reads the chain again only if the
** file grew under another writer, and appends. Not thread-safe: one caller
** at a time (the server holds a mutex).
*/
typedef struct yoc_alog yoc_alog;
int yoc_alog_open(const char *log, yoc_alog **out, struct yoc_error *e);
int yoc_alog_write(yoc_alog *a, const char *fields, char hash_out[65], struct yoc_error *e);
void yoc_alog_close(yoc_alog *a);

/* Appends ,"key":"s" with JSON escapes (control bytes as \u00XX). */
int yoc_alog_put_str(struct yoc_buf *b, const char *key, const char *s);

#endif

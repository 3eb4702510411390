/*
** yoc core: status codes, error records, allocation, arena, capped buffer,
** open-addressing hash map and a fast non-cryptographic hash.
**
** Everything here is free of I/O policy: functions report failure through an
** int status (0 ok, negative enum yoc_status) and, where a caller passes one,
** a struct yoc_error carrying file, line, column and message. Nothing here
** prints or exits.
*/
#ifndef YOC_CORE_H
#define YOC_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define YOC_VERSION "0.1.0"

enum yoc_status {
	YOC_OK = 0,
	YOC_ENOMEM = -1,   /* allocation failed */
	YOC_EIO = -2,      /* read, write, open, rename failed */
	YOC_EINVAL = -3,   /* bad argument or option */
	YOC_EPARSE = -4,   /* malformed input */
	YOC_ETOOBIG = -5,  /* a cap was reached */
	YOC_ENOTFOUND = -6,
	YOC_EEXIST = -7,   /* would overwrite */
	YOC_EPERM = -8,    /* unsafe permissions or refused by policy */
	YOC_EDATA = -9,    /* data fails a check (checksum, schema) */
	YOC_EINTERNAL = -10
};

/* Short English name of a status, static storage. */
const char *yoc_status_str(int status);

/*
** An error record. Functions that take one fill it on failure and leave it
** alone on success. line and col are 1-based; 0 means "not applicable".
*/
struct yoc_error {
	int code;
	long line;
	long col;
	char file[512];
	char msg[512];
};

void yoc_error_clear(struct yoc_error *e);
/* Fills e (if not NULL) and returns code, so callers can `return yoc_error_set(...)`. */
int yoc_error_set(struct yoc_error *e, int code, const char *file, long line,
		  long col, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
int yoc_error_vset(struct yoc_error *e, int code, const char *file, long line,
		   long col, const char *fmt, va_list ap);
/* Writes "file:line:col: msg\n" (parts that are unset are left out). */
void yoc_error_print(FILE *f, const struct yoc_error *e);

/*
** Allocation. Every heap allocation in yoc goes through these, so tests can
** count calls and make the Nth one fail. yoc_free(NULL) is a no-op.
*/
void *yoc_malloc(size_t n);
void *yoc_calloc(size_t count, size_t size);
void *yoc_realloc(void *p, size_t n);
void yoc_free(void *p);
char *yoc_strndup(const char *s, size_t n);
char *yoc_strdup(const char *s);
/* Make the nth allocation call from now fail (1 = the next). 0 disables. */
void yoc_alloc_fail_at(unsigned long nth);
/* Number of allocation calls since start (successful or not). */
unsigned long yoc_alloc_count(void);

/*
** Arena: bump allocator for batch lifetimes. Memory from yoc_arena_alloc is
** valid until yoc_arena_reset or yoc_arena_free. Caller owns the struct.
*/
struct yoc_arena_block;
struct yoc_arena {
	struct yoc_arena_block *head;
	size_t block_size;
	size_t total;
};
void yoc_arena_init(struct yoc_arena *a, size_t block_size);
void *yoc_arena_alloc(struct yoc_arena *a, size_t n); /* 16-byte aligned; NULL on OOM */
char *yoc_arena_strndup(struct yoc_arena *a, const char *s, size_t n);
void yoc_arena_reset(struct yoc_arena *a); /* keeps the first block */
void yoc_arena_free(struct yoc_arena *a);

/*
** Growable byte buffer with a size cap. data is always NUL-terminated when
** len > 0 or after any append. Appending past max returns YOC_ETOOBIG and
** leaves the buffer unchanged. max 0 means no cap.
*/
struct yoc_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};
void yoc_buf_init(struct yoc_buf *b, size_t max);
int yoc_buf_reserve(struct yoc_buf *b, size_t extra);
int yoc_buf_append(struct yoc_buf *b, const void *p, size_t n);
int yoc_buf_puts(struct yoc_buf *b, const char *s);
int yoc_buf_putc(struct yoc_buf *b, char c);
int yoc_buf_printf(struct yoc_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void yoc_buf_reset(struct yoc_buf *b); /* len = 0, memory kept */
void yoc_buf_free(struct yoc_buf *b);

/* 64-bit non-cryptographic hash of a byte string (for hash tables). */
uint64_t yoc_hash64(const void *p, size_t n, uint64_t seed);

/*
** Open-addressing hash map from byte-string keys to uint64 values. Keys are
** copied into the map's own arena. Linear probing, power-of-two capacity,
** load factor at most 0.7. Pointers returned by yoc_map_get stay valid until
** the next yoc_map_put that inserts a new key.
*/
struct yoc_map_slot {
	uint64_t hash;
	const char *key; /* NULL: empty */
	size_t klen;
	uint64_t value;
};
struct yoc_map {
	struct yoc_map_slot *slots;
	size_t cap;
	size_t count;
	struct yoc_arena keys;
};
int yoc_map_init(struct yoc_map *m, size_t expected);
void yoc_map_free(struct yoc_map *m);
/* Returns a pointer to the value, or NULL if absent. */
uint64_t *yoc_map_get(const struct yoc_map *m, const void *key, size_t klen);
/* A key by pointer and length (yoc_store_person_indexes). */
struct yoc_map_key {
	const void *p;
	size_t n;
};
/* Inserts or overwrites. *isnew (may be NULL) is set to 1 if inserted. */
int yoc_map_put(struct yoc_map *m, const void *key, size_t klen, uint64_t value,
		int *isnew);
/* Iterate: start with *pos = 0; returns NULL at the end. */
const struct yoc_map_slot *yoc_map_next(const struct yoc_map *m, size_t *pos);

#endif

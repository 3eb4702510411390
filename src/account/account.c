/*
** The source account file (account.h): built in memory by the
** pseudonymiser's caller, written as JSON atomically, read back by the
** loader with a small JSON reader that knows this one shape. The reader
** skips keys it does not know (a newer writer may add some), caps what it
** holds, and refuses an entry whose counts do not balance, so that a
** damaged account is never taken for a true one. Must not: print, or ever
** hold a row's value.
*/
#include <limits.h>
#include <string.h>
#include <time.h>

#include "account/account.h"
#include "yoc/io.h"

#define MAX_BYTES ((size_t)256 << 20)
#define MAX_FILES 10000000u
#define MAX_DEPTH 64

void yoc_account_init(struct yoc_account *a)
{
	memset(a, 0, sizeof *a);
}

static void file_free(struct yoc_account_file *f)
{
	yoc_free(f->path);
	yoc_free(f->listed);
	f->path = NULL;
	f->listed = NULL;
}

void yoc_account_free(struct yoc_account *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		file_free(&a->files[i]);
	yoc_free(a->files);
	memset(a, 0, sizeof *a);
}

const char *yoc_account_reason_name(int reason)
{
	return reason > 0 && reason < YOC_ACCOUNT_NREASONS ? yoc_csv_fault_str(reason) : "other";
}

static int reason_of(const char *name)
{
	for (int r = 1; r < YOC_ACCOUNT_NREASONS; r++)
		if (strcmp(name, yoc_csv_fault_str(r)) == 0)
			return r;
	return 0;
}

int yoc_account_list_reject(struct yoc_account_file *f, long line, int reason)
{
	if (f->nlisted >= YOC_ACCOUNT_MAX_LISTED)
		return YOC_OK;
	if (!f->listed) {
		f->listed = yoc_malloc(YOC_ACCOUNT_MAX_LISTED * sizeof *f->listed);
		if (!f->listed)
			return YOC_ENOMEM;
	}
	f->listed[f->nlisted].line = line;
	f->listed[f->nlisted].reason = reason >= 0 && reason < YOC_ACCOUNT_NREASONS ? reason : 0;
	f->nlisted++;
	return YOC_OK;
}

/* Appends a zeroed entry; returns it or NULL. */
static struct yoc_account_file *push(struct yoc_account *a)
{
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 16;
		struct yoc_account_file *nf = yoc_realloc(a->files, nc * sizeof *nf);
		if (!nf)
			return NULL;
		a->files = nf;
		a->cap = nc;
	}
	struct yoc_account_file *f = &a->files[a->n++];
	memset(f, 0, sizeof *f);
	return f;
}

int yoc_account_add(struct yoc_account *a, const struct yoc_account_file *f)
{
	struct yoc_account_file *d = push(a);
	if (!d)
		return YOC_ENOMEM;
	*d = *f;
	d->path = yoc_strdup(f->path ? f->path : "");
	d->listed = NULL;
	d->nlisted = 0;
	if (!d->path) {
		a->n--;
		return YOC_ENOMEM;
	}
	if (f->nlisted) {
		d->listed = yoc_malloc(f->nlisted * sizeof *d->listed);
		if (!d->listed) {
			file_free(d);
			a->n--;
			return YOC_ENOMEM;
		}
		memcpy(d->listed, f->listed, f->nlisted * sizeof *d->listed);
		d->nlisted = f->nlisted;
	}
	return YOC_OK;
}

void yoc_account_reasons_text(const struct yoc_account_file *f, char *buf, size_t cap)
{
	size_t len = 0;
	if (cap)
		buf[0] = 0;
	for (int r = 1; r <= YOC_ACCOUNT_NREASONS; r++) {
		int i = r % YOC_ACCOUNT_NREASONS; /* "other" last */
		if (!f->rejected_by[i] || len >= cap)
			continue;
		int k = snprintf(buf + len, cap - len, "%s%s=%llu", len ? ";" : "",
				 yoc_account_reason_name(i), (unsigned long long)f->rejected_by[i]);
		len = k < 0 ? cap : len + (size_t)k;
	}
}

const struct yoc_account_file *yoc_account_match(const struct yoc_account *a, const char *rel,
						 const char *sha256,
						 const struct yoc_account_file **by_path)
{
	const struct yoc_account_file *hit = NULL, *named = NULL;
	for (size_t i = 0; i < a->n; i++) {
		const struct yoc_account_file *f = &a->files[i];
		int same_path = rel && strcmp(f->path, rel) == 0;
		if (sha256 && strcmp(f->sha256, sha256) == 0) {
			if (!hit || same_path)
				hit = f;
		} else if (same_path) {
			named = f;
		}
	}
	if (by_path)
		*by_path = hit ? NULL : named;
	return hit;
}

/* ---- writing -------------------------------------------------------------- */

static void jstr(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void reasons_obj(FILE *f, const uint64_t *by)
{
	int first = 1;
	fputc('{', f);
	for (int r = 1; r <= YOC_ACCOUNT_NREASONS; r++) {
		int i = r % YOC_ACCOUNT_NREASONS;
		if (!by[i])
			continue;
		fprintf(f, "%s\"%s\": %llu", first ? "" : ", ", yoc_account_reason_name(i),
			(unsigned long long)by[i]);
		first = 0;
	}
	fputc('}', f);
}

#define U(x) ((unsigned long long)(x))

int yoc_account_write(const struct yoc_account *a, const char *path, struct yoc_error *e)
{
	struct yoc_afile af = {0};
	int rc = yoc_afile_open(&af, path, e);
	if (rc)
		return rc;
	FILE *f = af.f;
	char now[32];
	if (a->written[0]) {
		snprintf(now, sizeof now, "%s", a->written);
	} else {
		time_t t = time(NULL);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	struct yoc_account_file tot;
	memset(&tot, 0, sizeof tot);
	fprintf(f, "{\n  \"format\": \"%s\",\n  \"generator\": ", YOC_ACCOUNT_FORMAT);
	jstr(f, a->generator[0] ? a->generator : "yoc " YOC_VERSION);
	fprintf(f, ",\n  \"written\": ");
	jstr(f, now);
	fprintf(f, ",\n  \"key_id\": ");
	jstr(f, a->key_id);
	fprintf(f, ",\n  \"files\": [");
	for (size_t i = 0; i < a->n; i++) {
		const struct yoc_account_file *x = &a->files[i];
		fprintf(f, "%s\n    {\"path\": ", i ? "," : "");
		jstr(f, x->path);
		fprintf(f, ", \"bytes\": %llu, \"sha256\": ", U(x->bytes));
		jstr(f, x->sha256);
		fprintf(f, ", \"kind\": ");
		jstr(f, x->kind);
		fprintf(f, ",\n     \"rows_read\": %llu, \"rows_written\": %llu, \"valid\": %llu,"
			" \"missing\": %llu, \"malformed\": %llu, \"bad_check_digit\": %llu,"
			" \"opted_out\": %llu, \"rejected\": %llu, \"dob_unparsed\": %llu,"
			"\n     \"rejected_reasons\": ",
			U(x->rows_read), U(x->rows_written), U(x->valid), U(x->missing),
			U(x->malformed), U(x->bad_check_digit), U(x->opted_out), U(x->rejected),
			U(x->dob_unparsed));
		reasons_obj(f, x->rejected_by);
		fprintf(f, ", \"rejected_rows\": [");
		for (size_t k = 0; k < x->nlisted; k++)
			fprintf(f, "%s{\"line\": %ld, \"reason\": \"%s\"}", k ? ", " : "",
				x->listed[k].line, yoc_account_reason_name(x->listed[k].reason));
		fprintf(f, "]}");
		tot.rows_read += x->rows_read;
		tot.rows_written += x->rows_written;
		tot.opted_out += x->opted_out;
		tot.rejected += x->rejected;
		for (int r = 0; r < YOC_ACCOUNT_NREASONS; r++)
			tot.rejected_by[r] += x->rejected_by[r];
	}
	fprintf(f, "%s],\n  \"totals\": {\"files\": %zu, \"rows_read\": %llu, \"rows_written\": %llu,"
		" \"opted_out\": %llu, \"rejected\": %llu, \"rejected_reasons\": ",
		a->n ? "\n  " : "", a->n, U(tot.rows_read), U(tot.rows_written), U(tot.opted_out),
		U(tot.rejected));
	reasons_obj(f, tot.rejected_by);
	fprintf(f, "}\n}\n");
	if (ferror(f)) {
		yoc_afile_abort(&af);
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "write failed");
	}
	return yoc_afile_commit(&af, e);
}

/* ---- reading -------------------------------------------------------------- */

struct rd {
	const char *p, *end, *start;
	const char *name;
	struct yoc_error *e;
	struct yoc_buf s; /* the last string read */
};

/* The line of to in the text: counted only for a message (a count per entry
** read would make reading an account of many files quadratic). */
static long line_at(const struct rd *r, const char *to)
{
	long n = 1;
	for (const char *q = r->start; q < to && q < r->end; q++)
		n += *q == '\n';
	return n;
}

static long line_of(const struct rd *r)
{
	return line_at(r, r->p);
}

static int fail(struct rd *r, const char *what)
{
	return yoc_error_set(r->e, YOC_EPARSE, r->name, line_of(r), 0,
			     "not a source account (%s): %s", YOC_ACCOUNT_FORMAT, what);
}

static void ws(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int lit(struct rd *r, char c)
{
	ws(r);
	if (r->p < r->end && *r->p == c) {
		r->p++;
		return 1;
	}
	return 0;
}

static int hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		*v = *v << 4 | (unsigned)d;
	}
	return 0;
}

static int put_utf8(struct yoc_buf *b, unsigned cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 63));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 63));
		u[2] = (char)(0x80 | (cp & 63));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 63));
		u[2] = (char)(0x80 | (cp >> 6 & 63));
		u[3] = (char)(0x80 | (cp & 63));
		n = 4;
	}
	return yoc_buf_append(b, u, n);
}

/* A string into r->s (NUL-terminated). */
static int str(struct rd *r)
{
	yoc_buf_reset(&r->s);
	if (!lit(r, '"'))
		return fail(r, "a string expected");
	while (r->p < r->end && *r->p != '"') {
		int rc;
		unsigned char c = (unsigned char)*r->p;
		if (c < 0x20)
			return fail(r, "control character in a string");
		if (c != '\\') {
			rc = yoc_buf_putc(&r->s, (char)c);
			r->p++;
		} else {
			if (r->end - r->p < 2)
				return fail(r, "unterminated string");
			char x = r->p[1];
			r->p += 2;
			const char *m = strchr("\"\\/bfnrt", x);
			if (x && m) {
				rc = yoc_buf_putc(&r->s, "\"\\/\b\f\n\r\t"[m - "\"\\/bfnrt"]);
			} else if (x == 'u') {
				unsigned cp, lo;
				if (r->end - r->p < 4 || hex4(r->p, &cp))
					return fail(r, "bad \\u escape");
				r->p += 4;
				if (cp >= 0xd800 && cp < 0xdc00 && r->end - r->p >= 6 && r->p[0] == '\\' &&
				    r->p[1] == 'u' && !hex4(r->p + 2, &lo) && lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					r->p += 6;
				}
				if (cp == 0)
					return fail(r, "NUL in a string");
				rc = put_utf8(&r->s, cp);
			} else {
				return fail(r, "bad escape");
			}
		}
		if (rc)
			return yoc_error_set(r->e, rc, r->name, line_of(r), 0, "string too long");
	}
	if (r->p >= r->end)
		return fail(r, "unterminated string");
	r->p++;
	if (!r->s.data && yoc_buf_reserve(&r->s, 1))
		return yoc_error_set(r->e, YOC_ENOMEM, r->name, 0, 0, "out of memory");
	r->s.data[r->s.len] = 0;
	return YOC_OK;
}

/* A non-negative integer (the only numbers an account's known keys hold). */
static int u64(struct rd *r, uint64_t *v)
{
	ws(r);
	*v = 0;
	const char *q = r->p;
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
		uint64_t d = (uint64_t)(*r->p - '0');
		if (*v > (UINT64_MAX - d) / 10)
			return fail(r, "number too large");
		*v = *v * 10 + d;
		r->p++;
	}
	if (r->p == q || (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E')))
		return fail(r, "a whole number expected");
	return YOC_OK;
}

/* Any JSON value, skipped. */
static int skip(struct rd *r, int depth)
{
	if (depth > MAX_DEPTH)
		return fail(r, "nested too deeply");
	ws(r);
	if (r->p >= r->end)
		return fail(r, "a value expected");
	char c = *r->p;
	if (c == '"')
		return str(r);
	if (c == '{' || c == '[') {
		char close = c == '{' ? '}' : ']';
		r->p++;
		if (lit(r, close))
			return YOC_OK;
		do {
			int rc;
			if (c == '{' && ((rc = str(r)) || (!lit(r, ':') && (rc = fail(r, "':' expected")))))
				return rc;
			if ((rc = skip(r, depth + 1)))
				return rc;
		} while (lit(r, ','));
		return lit(r, close) ? YOC_OK : fail(r, "',' or a closing bracket expected");
	}
	static const char *const words[] = {"true", "false", "null"};
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(words[i]);
		if ((size_t)(r->end - r->p) >= n && memcmp(r->p, words[i], n) == 0) {
			r->p += n;
			return YOC_OK;
		}
	}
	if (c == '-' || (c >= '0' && c <= '9')) {
		r->p++;
		while (r->p < r->end && strchr("0123456789+-.eE", *r->p))
			r->p++;
		return YOC_OK;
	}
	return fail(r, "a value expected");
}

/* Iterates the members of an object: call with *first 1; returns 1 with the
** key in r->s, 0 at the end, negative on error. */
static int member(struct rd *r, int *first)
{
	int rc;
	if (*first) {
		*first = 0;
		if (!lit(r, '{'))
			return fail(r, "an object expected");
		if (lit(r, '}'))
			return 0;
	} else if (!lit(r, ',')) {
		return lit(r, '}') ? 0 : fail(r, "',' or '}' expected");
	}
	if ((rc = str(r)))
		return rc;
	if (!lit(r, ':'))
		return fail(r, "':' expected");
	return 1;
}

/* Same for an array: 1 for an element to read, 0 at the end. */
static int element(struct rd *r, int *first)
{
	if (*first) {
		*first = 0;
		if (!lit(r, '['))
			return fail(r, "an array expected");
		return lit(r, ']') ? 0 : 1;
	}
	if (lit(r, ','))
		return 1;
	return lit(r, ']') ? 0 : fail(r, "',' or ']' expected");
}

static int reasons(struct rd *r, uint64_t *by)
{
	int first = 1, k;
	while ((k = member(r, &first)) == 1) {
		int reason = reason_of(r->s.data);
		uint64_t v;
		int rc = u64(r, &v);
		if (rc)
			return rc;
		if (by[reason] > UINT64_MAX - v)
			return fail(r, "number too large");
		by[reason] += v;
	}
	return k;
}

static int listed(struct rd *r, struct yoc_account_file *f)
{
	int first = 1, k, rc;
	while ((k = element(r, &first)) == 1) {
		int mf = 1, m;
		uint64_t line = 0;
		int reason = 0;
		while ((m = member(r, &mf)) == 1) {
			if (strcmp(r->s.data, "line") == 0) {
				rc = u64(r, &line);
			} else if (strcmp(r->s.data, "reason") == 0) {
				if ((rc = str(r)) == 0)
					reason = reason_of(r->s.data);
			} else {
				rc = skip(r, 1);
			}
			if (rc)
				return rc;
		}
		if (m < 0)
			return m;
		if (line > (uint64_t)LONG_MAX)
			return fail(r, "line number too large");
		if ((rc = yoc_account_list_reject(f, (long)line, reason)))
			return yoc_error_set(r->e, rc, r->name, 0, 0, "out of memory");
	}
	return k;
}

enum { HAVE_PATH = 1, HAVE_SHA = 2, HAVE_BYTES = 4, HAVE_READ = 8, HAVE_WRITTEN = 16,
       HAVE_OPTED = 32, HAVE_REJECTED = 64, HAVE_ALL = 127 };

static int one_file(struct rd *r, struct yoc_account *a)
{
	struct yoc_account_file *f = push(a);
	if (!f)
		return yoc_error_set(r->e, YOC_ENOMEM, r->name, 0, 0, "out of memory");
	int first = 1, k, rc = YOC_OK, have = 0;
	const char *at = r->p;
	struct { const char *key; uint64_t *v; int bit; } nums[] = {
		{"bytes", &f->bytes, HAVE_BYTES}, {"rows_read", &f->rows_read, HAVE_READ},
		{"rows_written", &f->rows_written, HAVE_WRITTEN}, {"valid", &f->valid, 0},
		{"missing", &f->missing, 0}, {"malformed", &f->malformed, 0},
		{"bad_check_digit", &f->bad_check_digit, 0}, {"opted_out", &f->opted_out, HAVE_OPTED},
		{"rejected", &f->rejected, HAVE_REJECTED}, {"dob_unparsed", &f->dob_unparsed, 0},
	};
	while ((k = member(r, &first)) == 1) {
		const char *key = r->s.data;
		size_t i = 0;
		while (i < sizeof nums / sizeof nums[0] && strcmp(key, nums[i].key) != 0)
			i++;
		if (i < sizeof nums / sizeof nums[0]) {
			rc = u64(r, nums[i].v);
			have |= nums[i].bit;
		} else if (strcmp(key, "path") == 0) {
			yoc_free(f->path);
			f->path = NULL;
			if ((rc = str(r)) == 0 && !(f->path = yoc_strdup(r->s.data)))
				rc = yoc_error_set(r->e, YOC_ENOMEM, r->name, 0, 0, "out of memory");
			have |= HAVE_PATH;
		} else if (strcmp(key, "sha256") == 0) {
			if ((rc = str(r)) == 0) {
				if (r->s.len != 64 || strspn(r->s.data, "0123456789abcdef") != 64)
					return fail(r, "sha256 is not 64 lowercase hex digits");
				memcpy(f->sha256, r->s.data, 65);
			}
			have |= HAVE_SHA;
		} else if (strcmp(key, "kind") == 0) {
			if ((rc = str(r)) == 0)
				snprintf(f->kind, sizeof f->kind, "%s", r->s.data);
		} else if (strcmp(key, "rejected_reasons") == 0) {
			rc = reasons(r, f->rejected_by);
		} else if (strcmp(key, "rejected_rows") == 0) {
			rc = listed(r, f);
		} else {
			rc = skip(r, 1);
		}
		if (rc)
			return rc;
	}
	if (k < 0)
		return k;
	uint64_t by = 0;
	for (int i = 0; i < YOC_ACCOUNT_NREASONS; i++)
		by += f->rejected_by[i];
	if ((have & HAVE_ALL) != HAVE_ALL)
		return yoc_error_set(r->e, YOC_EPARSE, r->name, line_at(r, at), 0,
				     "a file entry lacks path, sha256, bytes or a row count");
	if (f->rows_read != f->rows_written + f->opted_out + f->rejected || by != f->rejected)
		return yoc_error_set(r->e, YOC_EPARSE, r->name, line_at(r, at), 0,
				     "the entry for %.200s does not balance: rows read %llu, written"
				     " %llu, opted out %llu, rejected %llu (by reason %llu)",
				     f->path, U(f->rows_read), U(f->rows_written), U(f->opted_out),
				     U(f->rejected), U(by));
	return YOC_OK;
}

int yoc_account_parse(struct yoc_account *a, const char *text, size_t n, const char *name,
		      struct yoc_error *e)
{
	struct rd r = {text, text + n, text, name, e, {0}};
	int first = 1, k, rc = YOC_OK, format = 0;
	yoc_account_init(a);
	yoc_buf_init(&r.s, 64 * 1024);
	while ((k = member(&r, &first)) == 1) {
		const char *key = r.s.data;
		if (strcmp(key, "format") == 0) {
			if ((rc = str(&r)))
				break;
			if (strcmp(r.s.data, YOC_ACCOUNT_FORMAT) != 0) {
				rc = fail(&r, "unknown format");
				break;
			}
			format = 1;
		} else if (strcmp(key, "generator") == 0 || strcmp(key, "written") == 0 ||
			   strcmp(key, "key_id") == 0) {
			char *dst = key[0] == 'g' ? a->generator : key[0] == 'w' ? a->written : a->key_id;
			size_t cap = key[0] == 'g' ? sizeof a->generator : key[0] == 'w'
				? sizeof a->written : sizeof a->key_id;
			if ((rc = str(&r)))
				break;
			snprintf(dst, cap, "%s", r.s.data);
		} else if (strcmp(key, "files") == 0) {
			int ef = 1, el;
			while ((el = element(&r, &ef)) == 1) {
				if (a->n >= MAX_FILES) {
					rc = fail(&r, "too many files");
					break;
				}
				if ((rc = one_file(&r, a)))
					break;
			}
			if (!rc && el < 0)
				rc = el;
		} else {
			rc = skip(&r, 1);
		}
		if (rc)
			break;
	}
	if (!rc && k < 0)
		rc = k;
	if (!rc) {
		ws(&r);
		if (r.p != r.end)
			rc = fail(&r, "text after the end");
		else if (!format)
			rc = fail(&r, "no \"format\"");
	}
	yoc_buf_free(&r.s);
	if (rc)
		yoc_account_free(a);
	return rc;
}

int yoc_account_read(struct yoc_account *a, const char *path, struct yoc_error *e)
{
	char *text = NULL;
	size_t n = 0;
	yoc_account_init(a);
	int rc = yoc_check_regular(path, e);
	if (rc)
		return rc;
	if ((rc = yoc_read_file(path, MAX_BYTES, &text, &n, e)))
		return rc;
	rc = yoc_account_parse(a, text, n, path, e);
	yoc_free(text);
	return rc;
}

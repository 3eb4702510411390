/*
** Provenance of a report run (docs/report.md "Provenance"): the manifest
** every page's footer and the workbook cite, and OUT/manifest.json. The
** dataset state hash is SHA-256 (OpenSSL libcrypto) over, in this order,
** the load log (loads, then files: the store's commit log), analyse_run
** and every row of person_year, each table introduced by its name (or
** "NAME absent"), each value as a type letter (I, R, T, B, N), its length,
** ":" and its bytes (integers in decimal, reals with 17 significant digits,
** text and blobs as stored, NULL empty), each row ended by a newline,
** so that the same dataset always gives the same hash and any change to
** those tables gives another. No clock, path of the output or host enters
** it. Reads the database only.
*/
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "yoc/io.h"

static const char *const state_sql[][2] = {
	{"loads", "SELECT load_id, started, finished, files, rows, loaded, quarantined, "
		  "unchanged, replaced FROM loads ORDER BY load_id"},
	{"files", "SELECT file_id, load_id, kind, provider, period, hash, bytes, rows, loaded, "
		  "quarantined, flagged, status, superseded_by FROM files ORDER BY file_id"},
	{"analyse_run", "SELECT key, value FROM analyse_run ORDER BY key"},
	{"person_year", "SELECT * FROM person_year ORDER BY rowid"},
};

static void hex_of(const unsigned char *d, char hex[65])
{
	static const char x[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = x[d[i] >> 4];
		hex[2 * i + 1] = x[d[i] & 15];
	}
	hex[64] = 0;
}

/* The hash's input, gathered into a buffer so that libcrypto sees large
 * chunks rather than one call per value. */
struct feed {
	EVP_MD_CTX *h;
	int ok;
	size_t n;
	unsigned char buf[1 << 16];
};

static void feed_flush(struct feed *f)
{
	if (f->ok && f->n)
		f->ok = EVP_DigestUpdate(f->h, f->buf, f->n) == 1;
	f->n = 0;
}

static void feed(struct feed *f, const void *p, size_t n)
{
	if (n > sizeof f->buf - f->n) {
		feed_flush(f);
		if (n > sizeof f->buf) {
			f->ok = f->ok && EVP_DigestUpdate(f->h, p, n) == 1;
			return;
		}
	}
	memcpy(f->buf + f->n, p, n);
	f->n += n;
}

/* One value: its type letter, its length, ':' and its bytes; written
 * straight into the buffer (millions of values: no call per piece). */
static inline void feed_value(struct feed *f, char type, const void *p, size_t n)
{
	if (n + 24 > sizeof f->buf - f->n) {
		feed_flush(f);
		if (n + 24 > sizeof f->buf) { /* a long value: its tag, then the bytes as they are */
			char tag[32];
			char *t = tag + sizeof tag;
			*--t = ':';
			size_t m = n;
			do
				*--t = (char)('0' + m % 10);
			while ((m /= 10) > 0);
			*--t = type;
			feed(f, t, (size_t)(tag + sizeof tag - t));
			feed(f, p, n);
			return;
		}
	}
	unsigned char *o = f->buf + f->n;
	*o++ = (unsigned char)type;
	if (n < 10) {
		*o++ = (unsigned char)('0' + n);
	} else {
		char d[24];
		int k = 0;
		size_t m = n;
		do
			d[k++] = (char)('0' + m % 10);
		while ((m /= 10) > 0);
		while (k)
			*o++ = (unsigned char)d[--k];
	}
	*o++ = ':';
	if (n)
		memcpy(o, p, n);
	f->n = (size_t)(o - f->buf) + n;
}

int yoc__dataset_state(sqlite3 *db, char hex[65], struct yoc_error *e)
{
	struct feed *f = yoc_malloc(sizeof *f);
	sqlite3_stmt *q = NULL;
	int rc = 0;
	char tag[64];
	if (!f)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	f->h = EVP_MD_CTX_new();
	f->n = 0;
	f->ok = f->h && EVP_DigestInit_ex(f->h, EVP_sha256(), NULL) == 1;
	feed(f, "yoc-dataset-state-1\n", 20);
	for (size_t t = 0; f->ok && t < sizeof state_sql / sizeof state_sql[0]; t++) {
		int exists = yoc__report_has_table(db, state_sql[t][0]);
		int n = snprintf(tag, sizeof tag, "%s%s\n", state_sql[t][0], exists ? "" : " absent");
		feed(f, tag, (size_t)n);
		if (!exists)
			continue;
		if (sqlite3_prepare_v2(db, state_sql[t][1], -1, &q, NULL) != SQLITE_OK) {
			rc = yoc_error_set(e, YOC_EDATA, state_sql[t][0], 0, 0, "cannot read: %s",
					   sqlite3_errmsg(db));
			goto cleanup;
		}
		int s = SQLITE_DONE, nc = sqlite3_column_count(q);
		while (f->ok && (s = sqlite3_step(q)) == SQLITE_ROW) {
			for (int k = 0; k < nc; k++) {
				char num[40];
				/* the column's value once (this connection is this thread's) */
				sqlite3_value *x = sqlite3_column_value(q, k);
				switch (sqlite3_value_type(x)) {
				case SQLITE_INTEGER: {
					/* decimal, without the text conversion's allocation */
					long long v = sqlite3_value_int64(x);
					unsigned long long a = v < 0 ? 0ULL - (unsigned long long)v
								     : (unsigned long long)v;
					char *p = num + sizeof num;
					do
						*--p = (char)('0' + a % 10);
					while ((a /= 10) > 0);
					if (v < 0)
						*--p = '-';
					feed_value(f, 'I', p, (size_t)(num + sizeof num - p));
					break;
				}
				case SQLITE_FLOAT: /* every bit: 17 significant digits */
					n = snprintf(num, sizeof num, "%.17g", sqlite3_value_double(x));
					feed_value(f, 'R', num, (size_t)n);
					break;
				case SQLITE_TEXT: {
					const unsigned char *z = sqlite3_value_text(x);
					feed_value(f, 'T', z, (size_t)sqlite3_value_bytes(x));
					break;
				}
				case SQLITE_BLOB: {
					const void *z = sqlite3_value_blob(x);
					feed_value(f, 'B', z, (size_t)sqlite3_value_bytes(x));
					break;
				}
				default:
					feed_value(f, 'N', "", 0);
				}
			}
			feed(f, "\n", 1);
		}
		if (f->ok && s != SQLITE_DONE) {
			rc = yoc_error_set(e, YOC_EDATA, state_sql[t][0], 0, 0, "reading: %s",
					   sqlite3_errmsg(db));
			goto cleanup;
		}
		sqlite3_finalize(q);
		q = NULL;
	}
	feed_flush(f);
	unsigned char d[32];
	unsigned int dl = 0;
	if (!f->ok || EVP_DigestFinal_ex(f->h, d, &dl) != 1 || dl != 32) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "SHA-256 failed");
		goto cleanup;
	}
	hex_of(d, hex);
cleanup:
	sqlite3_finalize(q);
	EVP_MD_CTX_free(f->h);
	yoc_free(f);
	return rc;
}

/* SHA-256 of a file, hex; "" when it cannot be read. */
static void file_sha(const char *path, char hex[65])
{
	hex[0] = 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return;
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	int ok = h && EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1;
	unsigned char buf[65536], d[32];
	size_t n;
	while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
		ok = EVP_DigestUpdate(h, buf, n) == 1;
	unsigned int dl = 0;
	if (ok && !ferror(f) && EVP_DigestFinal_ex(h, d, &dl) == 1 && dl == 32)
		hex_of(d, hex);
	EVP_MD_CTX_free(h);
	fclose(f);
}

static int json_str(struct yoc_buf *b, const char *s)
{
	int rc = yoc_buf_putc(b, '"');
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			rc |= yoc_buf_printf(b, "\\%c", ch);
		else if (ch < 0x20)
			rc |= yoc_buf_printf(b, "\\u%04x", ch);
		else
			rc |= yoc_buf_putc(b, (char)ch);
	}
	return rc | yoc_buf_putc(b, '"');
}

/* analyse_run's value of key, into buf ("" when absent). */
static const char *run_get(sqlite3 *db, const char *key, char *buf, size_t n)
{
	sqlite3_stmt *q = NULL;
	buf[0] = 0;
	if (sqlite3_prepare_v2(db, "SELECT value FROM analyse_run WHERE key = ?1", -1, &q, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
			snprintf(buf, n, "%s", (const char *)sqlite3_column_text(q, 0));
	}
	sqlite3_finalize(q);
	return buf;
}

static int ref_item(struct yoc_buf *b, const char *name, const char *path, const char *version)
{
	char sha[65];
	file_sha(path, sha);
	int rc = yoc_buf_puts(b, b->len > 1 ? ",\n    {\"name\": " : "\n    {\"name\": ");
	rc |= json_str(b, name);
	rc |= yoc_buf_puts(b, ", \"path\": ");
	rc |= json_str(b, path);
	rc |= yoc_buf_puts(b, ", \"version\": ");
	rc |= json_str(b, version);
	rc |= yoc_buf_puts(b, ", \"sha256\": ");
	rc |= json_str(b, sha[0] ? sha : NULL);
	return rc | yoc_buf_puts(b, "}");
}

/* The end of the last load, "YYYY-MM-DDTHH:MM:SSZ" in the load log, as
 * Unix time; 0 when there is none. */
static int64_t last_load(sqlite3 *db)
{
	sqlite3_stmt *q = NULL;
	int64_t t = 0;
	if (yoc__report_has_table(db, "loads") &&
	    sqlite3_prepare_v2(db, "SELECT CAST(strftime('%s', max(finished)) AS INTEGER) FROM loads",
			       -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		t = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return t > 0 ? t : 0;
}

static void *state_thread(void *arg)
{
	struct yoc__manifest *m = arg;
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(m->db, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) /* this thread only: no locking per call */
		m->trc = yoc_error_set(&m->te, YOC_EIO, m->db, 0, 0, "cannot open: %s",
				       db ? sqlite3_errmsg(db) : "out of memory");
	else {
		/* read by mapping: one scan of the file without a call per page */
		sqlite3_exec(db, "PRAGMA mmap_size = 1073741824", NULL, NULL, NULL);
		m->trc = yoc__dataset_state(db, m->state, &m->te);
	}
	sqlite3_close(db);
	return NULL;
}

int yoc__manifest_start(struct ctx *c)
{
	struct yoc__manifest *m = yoc_calloc(1, sizeof *m);
	if (!m)
		return yoc_error_set(c->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	c->man = m;
	yoc_buf_init(&m->ref, 0);
	yoc_buf_init(&m->params, 0);
	yoc_error_clear(&m->te);
	m->db = c->o->db;
	if (c->o->part && c->o->part->state[0]) { /* a sharded report's: the shards' */
		memcpy(m->state, c->o->part->state, sizeof m->state);
		m->given = 1;
		return 0;
	}
	/* without a thread, yoc__manifest_build hashes in line */
	m->running = pthread_create(&m->th, NULL, state_thread, m) == 0;
	return 0;
}

/* Waits for the hashing thread; its status. */
static int state_join(struct yoc__manifest *m)
{
	if (!m->running)
		return -1;
	pthread_join(m->th, NULL);
	m->running = 0;
	return m->trc;
}

int yoc__manifest_build(struct ctx *c, sqlite3 *db, struct report *R)
{
	struct yoc__manifest *m = c->man;
	int rc;
	if (!m && (rc = yoc__manifest_start(c)))
		return rc;
	m = c->man;
	int was = m->running;
	rc = m->given ? 0 : state_join(m);
	if (was && rc) {
		*c->e = m->te;
		return rc;
	}
	if (!was && !m->given && (rc = yoc__dataset_state(db, m->state, c->e)))
		return rc;
	char path[1024], ver[256], cl[256];
	int bad = yoc_buf_puts(&m->ref, "[");
	static const char *const ref[][2] = {
		{"codelist", "codelist_version"}, {"ncc_tariff", NULL}, {"unit_costs", NULL},
		{"trim_points", "trim_points_version"}};
	for (int k = 0; k < 4; k++) {
		run_get(db, ref[k][0], path, sizeof path);
		if (!path[0])
			continue;
		if (ref[k][1])
			run_get(db, ref[k][1], ver, sizeof ver);
		else
			snprintf(ver, sizeof ver, "%s", k == 1 ? "2023/24" : "");
		bad |= ref_item(&m->ref, ref[k][0], path, ver);
	}
	if (c->o->pcn)
		bad |= ref_item(&m->ref, "practice_pcn", c->o->pcn, "");
	bad |= yoc_buf_puts(&m->ref, "\n  ]");
	const struct yoc_sdc *s = &c->o->sdc;
	bad |= yoc_buf_printf(&m->params, "{\"fyear\": \"%s\", \"suppression\": %s, "
			      "\"threshold\": %lld, \"round_to\": %lld, \"money_sf\": %d, "
			      "\"min_pctl\": %lld, \"pcn\": ", R->fyear, s->off ? "false" : "true",
			      (long long)s->threshold, (long long)s->round_to, s->money_sf,
			      (long long)s->min_pctl);
	bad |= json_str(&m->params, c->o->pcn);
	bad |= yoc_buf_puts(&m->params, ", \"quality_url\": ");
	bad |= json_str(&m->params, c->o->quality_url);
	bad |= yoc_buf_puts(&m->params, ", \"options\": ");
	bad |= json_str(&m->params, c->o->params);
	bad |= yoc_buf_puts(&m->params, "}");
	m->loaded = last_load(db);
	run_get(db, "codelist_version", cl, sizeof cl);
	snprintf(m->line, sizeof m->line, "yoc %s; dataset state SHA-256 %.16s; code list %s; "
		 "financial year %s; %s", YOC_VERSION, m->state, cl[0] ? cl : "not recorded",
		 R->fyear, s->off ? "NOT disclosure controlled"
				  : "disclosure control on");
	if (bad || !m->ref.data || !m->params.data)
		return yoc_error_set(c->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	return 0;
}

void yoc__manifest_free(struct ctx *c)
{
	if (!c->man)
		return;
	state_join(c->man);
	yoc_buf_free(&c->man->ref);
	yoc_buf_free(&c->man->params);
	yoc_free(c->man);
	c->man = NULL;
}

int yoc__manifest_write(struct ctx *c, const struct report *R)
{
	const struct yoc__manifest *m = c->man;
	char **files = NULL, path[4096], sha[65];
	size_t nf = 0;
	struct yoc_buf b;
	yoc_buf_init(&b, 0);
	int rc = yoc_list_files(c->o->out, &files, &nf, c->e);
	if (rc)
		goto cleanup;
	size_t ol = strlen(c->o->out);
	rc = yoc_buf_printf(&b, "{\n  \"manifest\": \"yoc-report-1\",\n  \"yoc_version\": \"%s\",\n"
			    "  \"fyear\": \"%s\",\n  \"dataset_state_sha256\": \"%s\",\n"
			    "  \"dataset_state\": \"SHA-256 over the load log (loads, files), "
			    "analyse_run and every row of person_year; docs/report.md\",\n"
			    "  \"reference_data\": %s,\n  \"parameters\": %s,\n  \"files\": [",
			    YOC_VERSION, R->fyear, m->state, m->ref.data, m->params.data);
	for (size_t i = 0, k = 0; i < nf; i++) {
		const char *rel = strncmp(files[i], c->o->out, ol) == 0 && files[i][ol] == '/'
				  ? files[i] + ol + 1 : files[i];
		if (strcmp(rel, "manifest.json") == 0)
			continue;
		file_sha(files[i], sha);
		rc |= yoc_buf_puts(&b, k++ ? ",\n    {\"path\": " : "\n    {\"path\": ");
		rc |= json_str(&b, rel);
		rc |= yoc_buf_printf(&b, ", \"sha256\": \"%s\"}", sha);
	}
	rc |= yoc_buf_puts(&b, "\n  ]\n}\n");
	if (rc || !b.data) {
		rc = yoc_error_set(c->e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	snprintf(path, sizeof path, "%s/manifest.json", c->o->out);
	rc = yoc__write_buf(c, path, &b);
cleanup:
	yoc_paths_free(files);
	yoc_buf_free(&b);
	return rc;
}

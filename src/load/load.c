/*
** The load pipeline (see load.h). One transaction per loader: files,
** quarantine, flags, statistics, person and linkage rows are all written
** inside it, segments are written (fsync, rename) before it commits, and a
** segment whose catalog row never committed is garbage that the next writer
** removes. Nothing here prints.
*/
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ident/ident.h"
#include "load/feedname.h"
#include "load/load.h"
#include "load/load_int.h"
#include "yoc/date.h"
#include "yoc/io.h"

struct yoc_loader {
	yoc_store *s;
	int64_t load_id;
	int in_txn;
	int persons_dirty;
	const yoc_allow *allow; /* extra columns allowed (may be NULL) */
	int strict;             /* a column that would be dropped refuses the file */
	int64_t files, rows, loaded, quarantined, unchanged, replaced;
	sqlite3_stmt *q_ins, *f_ins;
	int32_t today;       /* dates after it are in the future */
	int today_ym;        /* year * 12 + month - 1, for MYDOB */
	struct yoc__acct_cache *acct; /* source accounts read so far */
};

/*
** 128-bit content hash in one pass: four 64-bit lanes over 32-byte stripes
** (the xxHash64 round), two different finalisations of the lanes. Used for
** file identity (unchanged / replaced) and exact duplicate rows; the segment
** format's checksums are yoc_hash64's and stay so.
*/
#define H_P1 0x9e3779b185ebca87ULL
#define H_P2 0xc2b2ae3d27d4eb4fULL
#define H_P3 0x165667b19e3779f9ULL
static inline uint64_t h_rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t h_round(uint64_t acc, uint64_t w)
{
	return h_rotl(acc + w * H_P2, 31) * H_P1;
}

static inline uint64_t h_fmix(uint64_t h)
{
	h ^= h >> 33;
	h *= H_P2;
	h ^= h >> 29;
	h *= H_P3;
	h ^= h >> 32;
	return h;
}

static void hash128(const void *data, size_t n, uint64_t seed, uint64_t out[2])
{
	const unsigned char *p = data;
	uint64_t a = seed + H_P1 + H_P2, b = seed + H_P2, c = seed, d = seed - H_P1;
	size_t len = n;
	while (n >= 32) {
		uint64_t w[4];
		memcpy(w, p, 32);
		a = h_round(a, w[0]);
		b = h_round(b, w[1]);
		c = h_round(c, w[2]);
		d = h_round(d, w[3]);
		p += 32;
		n -= 32;
	}
	uint64_t t[4] = {0, 0, 0, 0};
	memcpy(t, p, n); /* the tail, zero padded; the length goes in below */
	a = h_round(a, t[0]);
	b = h_round(b, t[1]);
	c = h_round(c, t[2]);
	d = h_round(d, t[3] ^ len);
	out[0] = h_fmix(h_rotl(a, 1) + h_rotl(b, 7) + h_rotl(c, 12) + h_rotl(d, 18) + len);
	out[1] = h_fmix((a ^ h_rotl(b, 29)) * H_P3 + (c ^ h_rotl(d, 41)) * H_P1 + ~len);
}

const char *yoc_load_status_str(int status)
{
	static const char *const n[] = {"loaded", "unchanged", "replaced", "rejected"};
	return status >= 0 && status <= YOC_LOAD_REJECTED ? n[status] : "?";
}

static int sqlerr(struct yoc_loader *L, struct yoc_error *e)
{
	return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "sqlite: %s",
			     sqlite3_errmsg(yoc_store_db(L->s)));
}

static void now_iso(char *buf, size_t cap)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int yoc_loader_begin(struct yoc_loader **out, yoc_store *s, struct yoc_error *e)
{
	*out = NULL;
	struct yoc_loader *L = yoc_calloc(1, sizeof *L);
	sqlite3_stmt *st = NULL;
	int rc = YOC_OK;
	if (!L)
		return yoc_error_set(e, YOC_ENOMEM, "load", 0, 0, "out of memory");
	L->s = s;
	yoc_store_defer_sync(s, 1);
	L->today = yoc_date_today();
	{
		int y, m, d;
		yoc_date_to_ymd(L->today, &y, &m, &d);
		L->today_ym = y * 12 + m - 1;
	}
	if ((rc = yoc__store_exec_pub(s, "BEGIN IMMEDIATE", e)))
		goto cleanup;
	L->in_txn = 1;
	/* Tables added since format 1 was first written: inside the load's
	 * transaction, so a killed load leaves no trace of them either. */
	if ((rc = yoc__store_exec_pub(s, "CREATE TABLE IF NOT EXISTS duplicate_files(path TEXT"
				      " PRIMARY KEY, file_id INTEGER NOT NULL, hash TEXT,"
				      " load_id INTEGER);"
				      "CREATE INDEX IF NOT EXISTS file_columns_file ON file_columns(file_id);"
				      "CREATE INDEX IF NOT EXISTS nhsno_status_file ON nhsno_status(file_id);"
				      YOC_STORE_SOURCE_ACCOUNT_SQL,
				      e)))
		goto cleanup;
	char ts[32];
	now_iso(ts, sizeof ts);
	sqlite3 *db = yoc_store_db(s);
	if (sqlite3_prepare_v2(db, "INSERT INTO loads(started) VALUES(?)", -1, &st, NULL)) {
		rc = sqlerr(L, e);
		goto cleanup;
	}
	sqlite3_bind_text(st, 1, ts, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = sqlerr(L, e);
		goto cleanup;
	}
	L->load_id = sqlite3_last_insert_rowid(db);
	if (sqlite3_prepare_v2(db, "INSERT INTO quarantine VALUES(?,?,?,?,?,?)", -1, &L->q_ins, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO flags VALUES(?,?,?,?,?,?)", -1, &L->f_ins, NULL)) {
		rc = sqlerr(L, e);
		goto cleanup;
	}
	*out = L;
	L = NULL;
cleanup:
	sqlite3_finalize(st);
	yoc_loader_free(L);
	return rc;
}

void yoc_loader_free(struct yoc_loader *L)
{
	if (!L)
		return;
	sqlite3_finalize(L->q_ins);
	sqlite3_finalize(L->f_ins);
	if (L->in_txn) {
		sqlite3_exec(yoc_store_db(L->s), "ROLLBACK", NULL, NULL, NULL);
		yoc_store_persons_reset(L->s);
	}
	yoc_store_defer_sync(L->s, 0);
	yoc__acct_cache_free(L->acct);
	yoc_free(L);
}

/* ---- per-file work ---- */

struct colinfo {
	const struct yoc_field *f; /* NULL: a column on the allow-list, kept as text */
	size_t src;                /* its position in the input row */
	const char *name;          /* canonical (or source) */
	int segtype;
	int64_t filled, empty, invalid;
	struct yoc_map *freq;      /* code fields: value counts (capped) */
	int64_t freq_other;
	int check_pseudo;     /* source column is PSEUDO_ID: 64 hex */
};

struct fstate {
	struct yoc_loader *L;
	struct yoc_load_result *res;
	int64_t file_id;
	size_t ncols;              /* columns loaded */
	struct colinfo *cols;
	size_t nin;                /* columns in the input header */
	struct yoc_idscan scan;    /* identifier scan of every value kept */
	char namebuf[64 * 1024];
	size_t namelen;
	struct yoc_map status_counts;
	struct yoc_map seen;       /* row content hashes: exact duplicate rows */
	const char *data;          /* the file's bytes (cells usually point into them) */
	size_t ndata;
	int c_status, c_person;
	const struct yoc_cell *hdr;
};

static void add_reason(struct yoc_load_result *res, const char *code, const char *field,
		       long line, long col)
{
	for (size_t i = 0; i < res->nreasons; i++)
		if (strcmp(res->reasons[i].code, code) == 0) {
			res->reasons[i].rows++;
			return;
		}
	size_t i = res->nreasons < YOC_LOAD_MAX_REASONS ? res->nreasons++ : YOC_LOAD_MAX_REASONS - 1;
	snprintf(res->reasons[i].code, sizeof res->reasons[i].code, "%s", code);
	snprintf(res->reasons[i].field, sizeof res->reasons[i].field, "%s", field ? field : "");
	res->reasons[i].rows = 1;
	res->reasons[i].line = line;
	res->reasons[i].col = col;
}

static int quarantine(struct fstate *F, long line, const char *field, const char *v, size_t vn,
		      const char *reason, const struct yoc_csv_row *row, struct yoc_error *e)
{
	char raw[4096];
	size_t rn = 0;
	/* A well-formed row keeps only the columns loaded (a dropped column
	 * never enters the dataset); a malformed one keeps every cell, all of
	 * which the identifier scan has seen. */
	int whole = row && row->ncells == F->nin && !row->fault;
	size_t nraw = row ? (whole ? F->ncols : row->ncells) : 0;
	for (size_t j = 0; j < nraw && rn < sizeof raw - 1; j++) {
		const struct yoc_cell *cl = &row->cells[whole ? F->cols[j].src : j];
		size_t k = cl->n;
		if (j && rn < sizeof raw - 1)
			raw[rn++] = ',';
		if (k > sizeof raw - 1 - rn)
			k = sizeof raw - 1 - rn;
		memcpy(raw + rn, cl->p, k);
		rn += k;
	}
	sqlite3_stmt *st = F->L->q_ins;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, F->file_id);
	sqlite3_bind_int64(st, 2, line);
	sqlite3_bind_text(st, 3, field, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, v ? v : "", v ? (int)(vn > 2000 ? 2000 : vn) : 0, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, raw, (int)rn, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		return sqlerr(F->L, e);
	F->res->quarantined++;
	long col = 0; /* the field's column in the file, counted from 1 */
	for (size_t j = 0; field && *field && j < F->ncols && !col; j++)
		if (strcmp(F->cols[j].name, field) == 0)
			col = (long)F->cols[j].src + 1;
	add_reason(F->res, reason, field, line, col);
	return YOC_OK;
}

static int flag(struct fstate *F, long line, const char *field, const char *v, size_t vn,
		const char *reason, const char *action, struct yoc_error *e)
{
	sqlite3_stmt *st = F->L->f_ins;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, F->file_id);
	sqlite3_bind_int64(st, 2, line);
	sqlite3_bind_text(st, 3, field, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, v, (int)(vn > 2000 ? 2000 : vn), SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, action, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		return sqlerr(F->L, e);
	return YOC_OK;
}

static int count_value(struct yoc_map *m, const char *p, size_t n, int64_t *other)
{
	uint64_t *v = yoc_map_get(m, p, n);
	if (v) {
		(*v)++;
		return YOC_OK;
	}
	if (m->count >= 200) {
		(*other)++;
		return YOC_OK;
	}
	return yoc_map_put(m, p, n, 1, NULL);
}

/* Trim spaces and upper-case into buf; returns the new length. */
static size_t standardise(const char *p, size_t n, char *buf, size_t cap)
{
	while (n && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n > cap)
		n = cap;
	for (size_t i = 0; i < n; i++)
		buf[i] = (p[i] >= 'a' && p[i] <= 'z') ? (char)(p[i] - 32) : p[i];
	return n;
}

/* NULL when MMYYYY is a month of birth from 1900 to this month, else the reason. */
static const char *mydob_bad(const char *p, size_t n, int today_ym)
{
	if (n != 6)
		return "bad_mydob";
	for (size_t i = 0; i < 6; i++)
		if (p[i] < '0' || p[i] > '9')
			return "bad_mydob";
	int m = (p[0] - '0') * 10 + (p[1] - '0');
	int y = (p[2] - '0') * 1000 + (p[3] - '0') * 100 + (p[4] - '0') * 10 + (p[5] - '0');
	if (m < 1 || m > 12)
		return "bad_mydob";
	/* HES sentinels coarsened by yoc pseudonymise (1800-01-01, 1801-01-01) */
	if (m == 1 && (y == 1800 || y == 1801))
		return "bad_mydob";
	if (y < 1900)
		return "date_out_of_range";
	if (y * 12 + m - 1 > today_ym)
		return "date_in_future";
	return NULL;
}

/* 1 when the text is an ISO date YYYY-MM-DD (the form the specification asks for). */
static int iso_date(const char *p, size_t n)
{
	return n == 10 && p[4] == '-' && p[7] == '-';
}

/* Dates before this are out of range (HES sentinels 1800/1801 aside). */
#define DATE_MIN_Y 1900

/* Per-row validated value for one column. */
struct val {
	const char *p;
	size_t n;
	int64_t i;
	int flagged;        /* reason for a flag, or NULL */
	const char *why;
	const char *action;
};

/*
** Validates one well-formed row. Returns 1 if the row goes to quarantine
** (*qcol, *qwhy set), else 0 with vals filled.
*/
static int validate(struct fstate *F, const struct yoc_csv_row *row, struct val *vals,
		    char *stdbuf, size_t *qcol, const char **qwhy)
{
	char *sb = stdbuf;
	for (size_t c = 0; c < F->ncols; c++) {
		struct colinfo *ci = &F->cols[c];
		struct val *v = &vals[c];
		struct yoc_cell cell = row->cells[ci->src];
		v->p = cell.p;
		v->n = cell.n;
		v->why = NULL;
		v->action = NULL;
		v->i = YOC_INT_NONE;
		const struct yoc_field *f = ci->f;
		if (!f)
			continue;
		int empty = cell.n == 0;
		if (!empty) {
			empty = 1;
			for (size_t k = 0; k < cell.n && empty; k++)
				if (cell.p[k] != ' ')
					empty = 0;
		}
		if (empty) {
			if (f->required) {
				*qcol = c;
				*qwhy = "missing_required";
				return 1;
			}
			v->n = 0;
			continue;
		}
		const char *bad = NULL;
		switch (f->type) {
		case YOC_FT_DATE: {
			int32_t d;
			int k = yoc_date_parse(cell.p, cell.n, &d);
			if (k == YOC_DATE_VALID) {
				int y, mo, dd;
				yoc_date_to_ymd(d, &y, &mo, &dd);
				v->i = d;
				if (y < DATE_MIN_Y)
					bad = "date_out_of_range";
				else if (d > F->L->today)
					bad = "date_in_future";
				else if (!iso_date(cell.p, cell.n)) {
					/* DD/MM/YYYY: understood, kept as the date, flagged */
					v->why = "date_format";
					v->action = "standardised";
				}
			} else if (k == YOC_DATE_NULL || k == YOC_DATE_INVALID) {
				if (f->required) {
					*qcol = c;
					*qwhy = k == YOC_DATE_NULL ? "hes_null_date" : "hes_invalid_date";
					return 1;
				}
				v->i = k == YOC_DATE_NULL ? YOC_DATE_HES_NULL : YOC_DATE_HES_INVALID;
			} else if (k == YOC_DATE_EMPTY)
				v->i = YOC_DATE_NONE;
			else
				bad = "bad_date";
			break;
		}
		case YOC_FT_INT:
			if (yoc_cell_int(cell, &v->i))
				bad = "bad_number";
			break;
		case YOC_FT_MONEY:
			if (yoc_cell_pence(cell, &v->i))
				bad = "bad_money";
			break;
		case YOC_FT_MYDOB:
			bad = mydob_bad(cell.p, cell.n, F->L->today_ym);
			break;
		case YOC_FT_PSEUDO:
			/* The yoc pseudonym has a fixed form; HES pseudonyms are opaque. */
			if (ci->check_pseudo && !yoc_spec_pseudo_ok(cell.p, cell.n))
				bad = "bad_pseudo_id";
			break;
		case YOC_FT_CODE:
			if (f->codes && !yoc_spec_code_ok(f->codes, cell.p, cell.n)) {
				size_t sn = standardise(cell.p, cell.n, sb, 16);
				if (sn && sn <= 15 && yoc_spec_code_ok(f->codes, sb, sn)) {
					v->p = sb;
					v->n = sn;
					v->why = "code_standardised";
					v->action = "standardised";
					sb += 16;
				} else {
					bad = "bad_code";
				}
			}
			if (!bad && f->check && !v->why && !f->check(cell.p, cell.n))
				bad = "bad_code";
			break;
		case YOC_FT_TEXT:
			/* a measure kept as written, whose range a rule checks (PAM_SCORE) */
			if (f->check && !f->check(cell.p, cell.n))
				bad = "out_of_range";
			break;
		default:
			break;
		}
		if (bad) {
			if (f->onbad == YOC_BAD_QUARANTINE) {
				*qcol = c;
				*qwhy = bad;
				return 1;
			}
			v->why = bad;
			if (f->onbad == YOC_BAD_NULL) {
				v->action = "nulled";
				v->i = YOC_INT_NONE;
				if (f->type == YOC_FT_DATE)
					v->i = YOC_DATE_NONE;
			} else {
				v->action = "kept";
			}
		}
	}
	return 0;
}

static int segtype_of(const struct yoc_field *f)
{
	if (!f)
		return YOC_COL_TEXT;
	switch (f->type) {
	case YOC_FT_DATE: return YOC_COL_DATE;
	case YOC_FT_INT: return YOC_COL_INT;
	case YOC_FT_MONEY: return YOC_COL_MONEY;
	default: return YOC_COL_TEXT;
	}
}

/*
** Provider, period and version from the name "<PROVIDER>_<PERIOD>[_vN].csv"
** (load/feedname.h). Returns 1, with res rejected and saying why, when the
** name is not a feed name.
*/
static int name_parts(const char *path, struct yoc_load_result *res)
{
	struct yoc_feedname fn;
	struct yoc_error ne;
	yoc_error_clear(&ne);
	if (yoc_feedname_parse(path, &fn, &ne)) {
		res->status = YOC_LOAD_REJECTED;
		snprintf(res->message, sizeof res->message, "file name %.150s: %.400s", ne.file,
			 ne.msg);
		return 1;
	}
	snprintf(res->provider, sizeof res->provider, "%s", fn.provider);
	snprintf(res->period, sizeof res->period, "%s", fn.period);
	res->version = fn.version;
	return 0;
}

/* The version of a stored file's name; 1 for a name this parser refuses
 * (a dataset loaded before names were checked). */
static int stored_version(const char *path)
{
	struct yoc_feedname fn;
	return path && yoc_feedname_parse(path, &fn, NULL) == 0 ? fn.version : 1;
}

/*
** Compares the file with what is loaded for its kind, provider and period.
** *same_id: a loaded file with the same content, so this one is unchanged:
** the current file, or a superseded one of a lower version than the current
** file's (an old submission seen before: reloading a tree that holds
** RA1_2023-05.csv and RA1_2023-05_v2.csv changes nothing). *old_id: the
** current file, which this one replaces. New content with a lower version
** than the current file's is refused (res rejected): submissions are ordered
** by version, and the older one must not undo the newer.
*/
static int find_current(struct yoc_loader *L, struct yoc_load_result *res, const char *hash,
			int64_t *same_id, int64_t *old_id, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	*same_id = *old_id = 0;
	if (sqlite3_prepare_v2(yoc_store_db(L->s), "SELECT file_id, hash, rows, loaded, quarantined,"
			       " flagged, path, superseded_by IS NULL FROM files WHERE kind = ?"
			       " AND provider = ? AND period = ? ORDER BY superseded_by IS NULL DESC,"
			       " file_id DESC", -1, &st, NULL))
		return sqlerr(L, e);
	sqlite3_bind_text(st, 1, yoc_spec_kind_name(res->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, res->provider, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, res->period, -1, SQLITE_STATIC);
	int64_t cur = 0;
	int cur_version = 0;
	char cur_path[400] = "";
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(st, 1);
		const char *path = (const char *)sqlite3_column_text(st, 6);
		int current = sqlite3_column_int(st, 7);
		if (current && !cur) { /* current rows come first */
			cur = sqlite3_column_int64(st, 0);
			cur_version = stored_version(path);
			snprintf(cur_path, sizeof cur_path, "%s", path ? path : "");
		}
		if (*same_id || !h || strcmp(h, hash) != 0)
			continue;
		if (!current && !(cur && res->version < cur_version))
			continue;
		*same_id = sqlite3_column_int64(st, 0);
		res->rows = sqlite3_column_int64(st, 2);
		res->loaded = sqlite3_column_int64(st, 3);
		res->quarantined = sqlite3_column_int64(st, 4);
		res->flagged = sqlite3_column_int64(st, 5);
	}
	sqlite3_finalize(st);
	if (!*same_id && cur && res->version < cur_version) {
		res->status = YOC_LOAD_REJECTED;
		snprintf(res->message, sizeof res->message, "submission %d of %s %.16s %.8s is older "
			 "than the current file %.250s (submission %d) and has other content: send a "
			 "correction as _v%d", res->version, yoc_spec_kind_name(res->kind),
			 res->provider, res->period, cur_path, cur_version, cur_version + 1);
	} else if (!*same_id) {
		*old_id = cur;
	}
	return YOC_OK;
}

static int stored_reasons(struct yoc_loader *L, struct yoc_load_result *res, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(yoc_store_db(L->s), "SELECT reason, count(*) FROM quarantine"
			       " WHERE file_id = ? GROUP BY reason ORDER BY reason", -1, &st, NULL))
		return sqlerr(L, e);
	sqlite3_bind_int64(st, 1, res->file_id);
	while (sqlite3_step(st) == SQLITE_ROW && res->nreasons < YOC_LOAD_MAX_REASONS) {
		snprintf(res->reasons[res->nreasons].code, sizeof res->reasons[0].code, "%s",
			 (const char *)sqlite3_column_text(st, 0));
		res->reasons[res->nreasons++].rows = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return YOC_OK;
}

static int exec1(struct yoc_loader *L, const char *sql, int64_t a, int64_t b, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(yoc_store_db(L->s), sql, -1, &st, NULL))
		return sqlerr(L, e);
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	int r = sqlite3_step(st);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? YOC_OK : sqlerr(L, e);
}

static int write_stats(struct fstate *F, struct yoc_error *e)
{
	sqlite3 *db = yoc_store_db(F->L->s);
	sqlite3_stmt *fc = NULL, *fs = NULL, *ns = NULL;
	struct yoc_buf top;
	int rc = YOC_OK;
	yoc_buf_init(&top, 1 << 20);
	if (sqlite3_prepare_v2(db, "INSERT INTO file_columns VALUES(?,?,?,?,?)", -1, &fc, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO file_stats VALUES(?,?,?,?,?,?,?)", -1, &fs, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO nhsno_status VALUES(?,?,?)", -1, &ns, NULL)) {
		rc = sqlerr(F->L, e);
		goto cleanup;
	}
	static const char *const tn[] = {"text", "date", "int", "money"};
	for (size_t c = 0; c < F->ncols; c++) {
		struct colinfo *ci = &F->cols[c];
		sqlite3_reset(fc);
		sqlite3_bind_int64(fc, 1, F->file_id);
		sqlite3_bind_int64(fc, 2, (int64_t)c);
		sqlite3_bind_text(fc, 3, ci->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(fc, 4, ci->name + strlen(ci->name) + 1, -1, SQLITE_STATIC);
		sqlite3_bind_text(fc, 5, ci->f ? yoc_ftype_name(ci->f->type) : tn[ci->segtype], -1,
				  SQLITE_STATIC);
		if (sqlite3_step(fc) != SQLITE_DONE) {
			rc = sqlerr(F->L, e);
			goto cleanup;
		}
		if (!ci->f)
			continue;
		yoc_buf_reset(&top);
		int64_t ndistinct = 0;
		if (ci->freq) {
			size_t pos = 0;
			const struct yoc_map_slot *sl;
			while ((sl = yoc_map_next(ci->freq, &pos)) != NULL) {
				ndistinct++;
				yoc_buf_printf(&top, "%s%.*s=%llu", top.len ? ";" : "", (int)sl->klen,
					       sl->key, (unsigned long long)sl->value);
			}
			if (ci->freq_other)
				yoc_buf_printf(&top, "%s(other)=%lld", top.len ? ";" : "",
					       (long long)ci->freq_other);
		}
		sqlite3_reset(fs);
		sqlite3_bind_int64(fs, 1, F->file_id);
		sqlite3_bind_text(fs, 2, ci->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(fs, 3, ci->filled);
		sqlite3_bind_int64(fs, 4, ci->empty);
		sqlite3_bind_int64(fs, 5, ci->invalid);
		if (ci->freq)
			sqlite3_bind_int64(fs, 6, ndistinct);
		else
			sqlite3_bind_null(fs, 6);
		sqlite3_bind_text(fs, 7, top.len ? top.data : "", (int)top.len, SQLITE_STATIC);
		if (sqlite3_step(fs) != SQLITE_DONE) {
			rc = sqlerr(F->L, e);
			goto cleanup;
		}
	}
	size_t pos = 0;
	const struct yoc_map_slot *sl;
	while ((sl = yoc_map_next(&F->status_counts, &pos)) != NULL) {
		sqlite3_reset(ns);
		sqlite3_bind_int64(ns, 1, F->file_id);
		sqlite3_bind_text(ns, 2, sl->key, (int)sl->klen, SQLITE_STATIC);
		sqlite3_bind_int64(ns, 3, (int64_t)sl->value);
		if (sqlite3_step(ns) != SQLITE_DONE) {
			rc = sqlerr(F->L, e);
			goto cleanup;
		}
	}
cleanup:
	yoc_buf_free(&top);
	sqlite3_finalize(fc);
	sqlite3_finalize(fs);
	sqlite3_finalize(ns);
	return rc;
}

static int append_row(struct fstate *F, struct yoc_segw *w, const struct val *vals,
		      long line, struct yoc_error *e)
{
	int rc = YOC_OK;
	for (size_t c = 0; c < F->ncols && !rc; c++) {
		const struct val *v = &vals[c];
		struct colinfo *ci = &F->cols[c];
		int nulled = v->action && v->action[0] == 'n';
		if (v->why) {
			ci->invalid++;
			if ((rc = flag(F, line, ci->name, v->p, v->n, v->why, v->action, e)))
				return rc;
		}
		if (v->n == 0 || nulled)
			ci->empty++;
		else
			ci->filled++;
		if (ci->freq && v->n && !nulled)
			if ((rc = count_value(ci->freq, v->p, v->n, &ci->freq_other)))
				break;
		switch (ci->segtype) {
		case YOC_COL_TEXT:
			rc = nulled ? yoc_segw_text(w, c, "", 0) : yoc_segw_text(w, c, v->p, v->n);
			break;
		case YOC_COL_DATE:
			rc = yoc_segw_i32(w, c, v->n == 0 ? YOC_DATE_NONE : (int32_t)v->i);
			break;
		default:
			rc = yoc_segw_i64(w, c, v->n == 0 ? YOC_INT_NONE : v->i);
			break;
		}
	}
	if (!rc)
		rc = yoc_segw_i64(w, F->ncols, line);
	if (!rc)
		rc = yoc_segw_row_end(w);
	if (!rc && F->c_status >= 0) {
		const struct val *v = &vals[F->c_status];
		rc = count_value(&F->status_counts, v->n ? v->p : "(empty)", v->n ? v->n : 7,
				 &F->cols[F->c_status].freq_other);
	} else if (!rc && F->c_person >= 0) {
		int has = vals[F->c_person].n && !(vals[F->c_person].action &&
						   vals[F->c_person].action[0] == 'n');
		rc = count_value(&F->status_counts, has ? "pseudonym" : "missing",
				 has ? 9 : 7, &F->cols[F->c_person].freq_other);
	}
	if (rc == YOC_ENOMEM || rc == YOC_ETOOBIG)
		return yoc_error_set(e, rc, F->res->file, line, 0, "out of memory building segment");
	return rc;
}

/*
** Social care bills carry their own cost, which is used as sent; it is
** checked against its rule (docs/feeds.md): hours x hourly rate, or weekly
** cost x days / 7 rounded half away from zero. A cost that breaks the rule
** is kept and flagged cost_mismatch on COST.
*/
struct sc_cols {
	int units, unit_type, hourly, weekly, cost;
};

static int col_of(const struct fstate *F, const char *name)
{
	for (size_t c = 0; c < F->ncols; c++)
		if (strcmp(F->cols[c].name, name) == 0)
			return (int)c;
	return -1;
}

static void check_social_cost(const struct sc_cols *k, struct val *vals)
{
	if (k->cost < 0 || k->units < 0 || k->unit_type < 0)
		return;
	struct val *cost = &vals[k->cost];
	const struct val *units = &vals[k->units], *ut = &vals[k->unit_type];
	if (cost->why || units->why || ut->why || cost->n == 0 || units->n == 0)
		return;
	int64_t want;
	if (ut->n == 5 && memcmp(ut->p, "HOURS", 5) == 0) {
		if (k->hourly < 0 || vals[k->hourly].why || vals[k->hourly].n == 0)
			return;
		want = units->i * vals[k->hourly].i;
	} else if (ut->n == 4 && memcmp(ut->p, "DAYS", 4) == 0) {
		if (k->weekly < 0 || vals[k->weekly].why || vals[k->weekly].n == 0)
			return;
		int64_t x = vals[k->weekly].i * units->i;
		want = x >= 0 ? (2 * x + 7) / 14 : -((-2 * x + 7) / 14);
	} else {
		return;
	}
	if (want != cost->i) {
		cost->why = "cost_mismatch";
		cost->action = "kept";
	}
}

static int load_rows(struct fstate *F, yoc_csv *r, struct yoc_error *e)
{
	struct yoc_segw *w = NULL;
	struct val *vals = NULL;
	char *stdbuf = NULL;
	const char **names = NULL, **sources = NULL;
	int *types = NULL;
	int rc = YOC_OK;
	size_t n = F->ncols;
	vals = yoc_calloc(n + 1, sizeof *vals);
	stdbuf = yoc_malloc(16 * (n + 1));
	names = yoc_calloc(n + 1, sizeof *names);
	sources = yoc_calloc(n + 1, sizeof *sources);
	types = yoc_calloc(n + 1, sizeof *types);
	if (!vals || !stdbuf || !names || !sources || !types)
		goto oom;
	for (size_t c = 0; c < n; c++) {
		names[c] = F->cols[c].name;
		sources[c] = F->cols[c].name + strlen(F->cols[c].name) + 1;
		types[c] = F->cols[c].segtype;
	}
	names[n] = "_LINE";
	sources[n] = "_LINE";
	types[n] = YOC_COL_INT;
	if (yoc_segw_create(&w, F->res->kind, n + 1, names, sources, types))
		goto oom;
	struct sc_cols sc = {-1, -1, -1, -1, -1};
	if (F->res->kind == YOC_KIND_SOCIAL_CARE) {
		sc.units = col_of(F, "UNITS");
		sc.unit_type = col_of(F, "UNIT_TYPE");
		sc.hourly = col_of(F, "HOURLY_RATE");
		sc.weekly = col_of(F, "WEEKLY_COST");
		sc.cost = col_of(F, "COST");
	}
	struct yoc_csv_row row;
	struct yoc_error ce;
	for (;;) {
		yoc_error_clear(&ce);
		int k = yoc_csv_next(r, &row, &ce);
		if (k == 0)
			break;
		if (k < 0 && row.fault == YOC_CSV_OK) { /* YOC_EIO, YOC_ENOMEM: the reader stopped */
			rc = yoc_error_set(e, k, F->res->file, ce.line, 0, "%s", ce.msg);
			goto cleanup;
		}
		F->res->rows++;
		/* Every value that could enter the dataset (a loaded cell, or any
		 * cell of a row quarantined whole) passes the identifier scan. */
		yoc_idscan_row(&F->scan, row.cells, row.ncells, row.line,
			       k < 0 || row.ncells != F->nin);
		if (k < 0) {
			char why[48];
			snprintf(why, sizeof why, "csv_%s", yoc_csv_fault_str(row.fault));
			const char *field = "";
			if (ce.col > 0 && row.fault != YOC_CSV_RAGGED_ROW) {
				/* column of the fault, when the reader knows it: by cell count */
				size_t ci = row.ncells ? row.ncells - 1 : 0;
				for (size_t j = 0; j < n; j++)
					if (F->cols[j].src == ci)
						field = F->cols[j].name;
			}
			if ((rc = quarantine(F, row.line, field, "", 0, why, &row, e)))
				goto cleanup;
			continue;
		}
		size_t qcol = 0;
		const char *qwhy = NULL;
		if (row.ncells != F->nin) {
			if ((rc = quarantine(F, row.line, "", "", 0, "csv_ragged_row", &row, e)))
				goto cleanup;
			continue;
		}
		/* An exact repeat of an earlier row of the same file is held back:
		 * the row's bytes as sent when its cells lie in order in the input,
		 * else its cells one by one. */
		uint64_t hk[2] = {0, 0};
		size_t nin = F->nin;
		const char *r0 = nin ? row.cells[0].p : NULL;
		const char *r1 = nin ? row.cells[nin - 1].p + row.cells[nin - 1].n : NULL;
		if (nin && r0 >= F->data && r1 <= F->data + F->ndata && r1 >= r0) {
			hash128(r0, (size_t)(r1 - r0), 1, hk);
		} else {
			uint64_t h2[2];
			hk[0] = 2;
			hk[1] = nin;
			for (size_t c = 0; c < nin; c++) {
				hash128(row.cells[c].p, row.cells[c].n, hk[0] ^ h_rotl(hk[1], 17), h2);
				hk[0] = h2[0];
				hk[1] ^= h2[1];
			}
		}
		int isnew = 0;
		if (yoc_map_put(&F->seen, hk, sizeof hk, (uint64_t)row.line, &isnew))
			goto oom;
		if (!isnew) {
			if ((rc = quarantine(F, row.line, "", "", 0, "duplicate_row", &row, e)))
				goto cleanup;
			continue;
		}
		if (validate(F, &row, vals, stdbuf, &qcol, &qwhy)) {
			F->cols[qcol].invalid++;
			const struct yoc_cell *qc = &row.cells[F->cols[qcol].src];
			if ((rc = quarantine(F, row.line, F->cols[qcol].name, qc->p, qc->n, qwhy,
					     &row, e)))
				goto cleanup;
			continue;
		}
		check_social_cost(&sc, vals);
		if ((rc = append_row(F, w, vals, row.line, e)))
			goto cleanup;
		F->res->loaded++;
	}
	/* Identifiers in any value refuse the whole file before its segment is
	 * written; the caller rolls the catalog back to before the file. */
	if ((rc = yoc_idscan_verdict(&F->scan, F->hdr, F->res->file, e)))
		goto cleanup;
	char segname[64];
	snprintf(segname, sizeof segname, "f%lld.seg", (long long)F->file_id);
	if ((rc = yoc_segw_write(w, F->L->s, segname, e)))
		goto cleanup;
	goto cleanup;
oom:
	rc = yoc_error_set(e, YOC_ENOMEM, F->res->file, 0, 0, "out of memory");
cleanup:
	yoc_segw_free(w);
	yoc_free(vals);
	yoc_free(stdbuf);
	yoc_free(names);
	yoc_free(sources);
	yoc_free(types);
	return rc;
}

static void hash_hex(const void *data, size_t n, char *out)
{
	uint64_t h[2];
	hash128(data, n, 0x59c0ffee, h);
	snprintf(out, 40, "%016llx%016llx", (unsigned long long)h[0], (unsigned long long)h[1]);
}

static int reject(struct yoc_load_result *res, const char *fmt, const char *arg)
{
	res->status = YOC_LOAD_REJECTED;
	snprintf(res->message, sizeof res->message, fmt, arg);
	return YOC_OK;
}

/* A column the policy drops, into the result's account. */
static void note_dropped(struct yoc_load_result *res, const struct yoc_cell *c)
{
	char shown[64];
	yoc_ident_show(c->p, c->n, shown, 40);
	size_t len = strlen(res->dropped);
	int k = snprintf(res->dropped + len, sizeof res->dropped - len, "%s%s",
			 res->ndropped ? ", " : "", shown);
	if (k < 0 || (size_t)k >= sizeof res->dropped - len)
		snprintf(res->dropped + sizeof res->dropped - 4, 4, "...");
	res->ndropped++;
}

int yoc_loader_mem(struct yoc_loader *L, const char *name, const void *data, size_t n,
		   int kind, struct yoc_load_result *res, struct yoc_error *e)
{
	struct fstate F;
	struct yoc_ident_plan plan = {0};
	yoc_csv *r = NULL;
	sqlite3_stmt *st = NULL;
	int rc = YOC_OK, savepoint = 0;
	memset(&F, 0, sizeof F);
	memset(res, 0, sizeof *res);
	snprintf(res->file, sizeof res->file, "%s", name);
	res->kind = -1;
	F.L = L;
	F.res = res;
	F.data = data;
	F.ndata = n;
	F.c_status = F.c_person = -1;
	char hash[40];
	hash_hex(data, n, hash);
	struct yoc_csv_opts o = {0};
	struct yoc_error ce;
	yoc_error_clear(&ce);
	if (yoc_csv_open_mem(&r, data, n, name, &o, &ce)) {
		if (ce.code == YOC_ENOMEM) {
			rc = yoc_error_set(e, YOC_ENOMEM, name, 0, 0, "out of memory");
			goto cleanup;
		}
		rc = reject(res, "cannot read the header: %s", ce.msg);
		goto cleanup;
	}
	size_t nc = yoc_csv_ncols(r);
	const struct yoc_cell *hdr = yoc_csv_header(r);
	/* The identifier policy: refused headers, identifier names, default deny. */
	struct yoc_ident_opts io = {YOC_IDENT_LOAD, kind, L->allow, L->strict};
	yoc_error_clear(&ce);
	if (yoc_ident_plan_make(&plan, hdr, nc, &io, name, &ce)) {
		if (ce.code == YOC_ENOMEM) {
			rc = yoc_error_set(e, YOC_ENOMEM, name, 0, 0, "out of memory");
			goto cleanup;
		}
		res->kind = kind;
		rc = reject(res, "%s", ce.msg);
		goto cleanup;
	}
	res->kind = plan.kind;
	F.hdr = hdr;
	F.nin = nc;
	for (size_t i = 0; i < nc; i++)
		if (plan.cols[i].act == YOC_IA_DROP)
			note_dropped(res, &hdr[i]);
	if (name_parts(name, res))
		goto cleanup;
	int64_t same_id, old_id;
	if ((rc = find_current(L, res, hash, &same_id, &old_id, e)) ||
	    res->status == YOC_LOAD_REJECTED)
		goto cleanup;
	if (same_id) {
		res->status = YOC_LOAD_UNCHANGED;
		res->file_id = same_id;
		/* The same content under another name (a month sent twice): remembered once. */
		if (sqlite3_prepare_v2(yoc_store_db(L->s), "INSERT OR IGNORE INTO duplicate_files"
				       " SELECT ?1, file_id, hash, ?3 FROM files WHERE file_id = ?2"
				       " AND path <> ?1", -1, &st, NULL)) {
			rc = sqlerr(L, e);
			goto cleanup;
		}
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, same_id);
		sqlite3_bind_int64(st, 3, L->load_id);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = sqlerr(L, e);
			goto cleanup;
		}
		sqlite3_finalize(st);
		st = NULL;
		rc = stored_reasons(L, res, e);
		L->unchanged++;
		goto cleanup;
	}
	/* Column map: the columns the plan keeps, in order; canonical names
	 * first, then aliases for fields not yet taken. */
	const struct yoc_kind_spec *ks = yoc_spec_kind(res->kind);
	F.cols = yoc_calloc(nc + 1, sizeof *F.cols);
	if (!F.cols || yoc_map_init(&F.status_counts, 16) || yoc_map_init(&F.seen, 1024) ||
	    yoc_idscan_init(&F.scan, &plan))
		goto oom;
	for (size_t i = 0; i < nc; i++)
		if (plan.cols[i].act == YOC_IA_KEEP)
			F.cols[F.ncols++].src = i;
	for (int pass = 0; pass < 2; pass++)
		for (size_t k = 0; k < F.ncols; k++) {
			size_t i = F.cols[k].src;
			if (F.cols[k].f)
				continue;
			const struct yoc_field *f = plan.cols[i].f;
			if (!f)
				continue;
			int canon = yoc_spec_name_eq(f->name, hdr[i].p, hdr[i].n);
			if (pass == 0 && !canon)
				continue;
			int taken = 0;
			for (size_t j = 0; j < F.ncols; j++)
				if (F.cols[j].f == f)
					taken = 1;
			if (!taken)
				F.cols[k].f = f;
		}
	for (size_t k = 0; k < F.ncols; k++) {
		struct colinfo *ci = &F.cols[k];
		size_t i = ci->src;
		const char *cn = ci->f ? ci->f->name : NULL;
		size_t cl = cn ? strlen(cn) : hdr[i].n;
		if (F.namelen + cl + hdr[i].n + 2 > sizeof F.namebuf) {
			rc = reject(res, "%s", "header too long");
			goto cleanup;
		}
		ci->name = F.namebuf + F.namelen;
		memcpy(F.namebuf + F.namelen, cn ? cn : hdr[i].p, cl);
		F.namelen += cl;
		F.namebuf[F.namelen++] = 0;
		memcpy(F.namebuf + F.namelen, hdr[i].p, hdr[i].n);
		F.namelen += hdr[i].n;
		F.namebuf[F.namelen++] = 0;
		ci->segtype = segtype_of(ci->f);
		if (ci->f && ci->f->role == YOC_ROLE_PERSON) {
			F.c_person = (int)k;
			ci->check_pseudo = yoc_spec_name_eq("PSEUDO_ID", hdr[i].p, hdr[i].n);
		}
		if (ci->f && ci->f->role == YOC_ROLE_NHSNO_STATUS)
			F.c_status = (int)k;
		if (ci->f && (ci->f->type == YOC_FT_CODE || ci->f->type == YOC_FT_INT)) {
			ci->freq = yoc_calloc(1, sizeof *ci->freq);
			if (!ci->freq || yoc_map_init(ci->freq, 32)) {
				yoc_free(ci->freq);
				ci->freq = NULL;
				goto oom;
			}
		}
	}
	char ts[32];
	now_iso(ts, sizeof ts);
	char delim[2] = {yoc_csv_delim(r), 0};
	/* The file's catalog rows can be taken back whole if its values are refused. */
	if ((rc = yoc__store_exec_pub(L->s, "SAVEPOINT yoc_file", e)))
		goto cleanup;
	savepoint = 1;
	if (sqlite3_prepare_v2(yoc_store_db(L->s), "INSERT INTO files(load_id, kind, provider, period,"
			       " path, hash, bytes, delimiter, segment, status, loaded_at)"
			       " VALUES(?,?,?,?,?,?,?,?,'',?,?)", -1, &st, NULL)) {
		rc = sqlerr(L, e);
		goto cleanup;
	}
	sqlite3_bind_int64(st, 1, L->load_id);
	sqlite3_bind_text(st, 2, ks->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, res->provider, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, res->period, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, (int64_t)n);
	sqlite3_bind_text(st, 8, delim, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, old_id ? "replaced" : "loaded", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, ts, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = sqlerr(L, e);
		goto cleanup;
	}
	F.file_id = res->file_id = sqlite3_last_insert_rowid(yoc_store_db(L->s));
	if ((rc = load_rows(&F, r, &ce)) == YOC_EPERM) {
		/* Identifiers in the values: nothing of the file stays. */
		if ((rc = yoc__store_exec_pub(L->s, "ROLLBACK TO yoc_file; RELEASE yoc_file", e)))
			goto cleanup;
		savepoint = 0;
		int64_t rows = res->rows;
		res->loaded = res->quarantined = res->flagged = 0;
		res->nreasons = 0;
		res->file_id = 0;
		res->rows = rows;
		rc = reject(res, "%s", ce.msg);
		goto cleanup;
	} else if (rc) {
		*e = ce;
		goto cleanup;
	}
	for (size_t i = 0; i < nc; i++)
		res->flagged += F.cols[i].invalid;
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(yoc_store_db(L->s), "UPDATE files SET segment = ?, rows = ?, loaded = ?,"
			       " quarantined = ?, flagged = ? WHERE file_id = ?", -1, &st, NULL)) {
		rc = sqlerr(L, e);
		goto cleanup;
	}
	char segname[64];
	snprintf(segname, sizeof segname, "f%lld.seg", (long long)F.file_id);
	sqlite3_bind_text(st, 1, segname, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, res->rows);
	sqlite3_bind_int64(st, 3, res->loaded);
	sqlite3_bind_int64(st, 4, res->quarantined);
	sqlite3_bind_int64(st, 5, res->flagged);
	sqlite3_bind_int64(st, 6, F.file_id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = sqlerr(L, e);
		goto cleanup;
	}
	if ((rc = write_stats(&F, e)))
		goto cleanup;
	if (old_id) {
		if ((rc = exec1(L, "UPDATE files SET superseded_by = ?1 WHERE file_id = ?2",
				F.file_id, old_id, e)))
			goto cleanup;
		res->status = YOC_LOAD_REPLACED;
		L->replaced++;
	} else {
		res->status = YOC_LOAD_LOADED;
	}
	if ((rc = yoc__store_exec_pub(L->s, "RELEASE yoc_file", e)))
		goto cleanup;
	savepoint = 0;
	if (res->kind == YOC_KIND_GP_REGISTER || res->kind == YOC_KIND_DEATHS)
		L->persons_dirty = 1;
	L->files++;
	L->rows += res->rows;
	L->loaded += res->loaded;
	L->quarantined += res->quarantined;
	goto cleanup;
oom:
	rc = yoc_error_set(e, YOC_ENOMEM, name, 0, 0, "out of memory");
cleanup:
	sqlite3_finalize(st);
	if (savepoint)
		sqlite3_exec(yoc_store_db(L->s), "ROLLBACK TO yoc_file; RELEASE yoc_file", NULL,
			     NULL, NULL);
	yoc_csv_close(r);
	yoc_idscan_free(&F.scan);
	yoc_ident_plan_free(&plan);
	for (size_t i = 0; F.cols && i < F.ncols; i++)
		if (F.cols[i].freq) {
			yoc_map_free(F.cols[i].freq);
			yoc_free(F.cols[i].freq);
		}
	yoc_free(F.cols);
	if (F.status_counts.slots)
		yoc_map_free(&F.status_counts);
	if (F.seen.slots)
		yoc_map_free(&F.seen);
	return rc;
}

void yoc_loader_policy(struct yoc_loader *L, const yoc_allow *allow, int strict)
{
	L->allow = allow;
	L->strict = strict;
}

int yoc__load_read_fd(int fd, size_t size, const char *name, char **out,
		      struct yoc_error *e)
{
	char *buf = yoc_malloc(size + 1);
	size_t got = 0;
	int rc = YOC_OK;
	*out = NULL;
	if (!buf)
		return yoc_error_set(e, YOC_ENOMEM, name, 0, 0,
				     "out of memory reading the file (%zu bytes)", size);
	/* One byte more than fstat said: reading it means the file grew. */
	while (got <= size) {
		ssize_t k = read(fd, buf + got, size + 1 - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			rc = yoc_error_set(e, YOC_EIO, name, 0, 0, "read failed: %s",
					   strerror(errno));
			goto cleanup;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	if (got != size) {
		rc = yoc_error_set(e, YOC_EDATA, name, 0, 0,
				   "file changed while being read (%s: %zu bytes expected)",
				   got < size ? "shrank" : "grew", size);
		goto cleanup;
	}
	buf[size] = 0;
	*out = buf;
	buf = NULL;
cleanup:
	yoc_free(buf);
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
	struct yoc_error re;
	struct stat sb;
	char *data = NULL;
	int rc = YOC_OK;
	/*
	** Read into memory, not mapped: a file truncated while mapped would
	** kill the load with SIGBUS. O_NONBLOCK: a FIFO must not block the
	** open; it is refused below, as is anything but a regular file.
	*/
	yoc_error_clear(&re);
	int fd = yoc_open_regular(path, O_RDONLY, 0, &re);
	if (fd < 0)
		; /* re says why: cannot open, or a named pipe, socket, device, directory */
	else if (fstat(fd, &sb) != 0)
		yoc_error_set(&re, YOC_EIO, path, 0, 0, "cannot stat: %s", strerror(errno));
	else if (!S_ISREG(sb.st_mode))
		yoc_error_set(&re, YOC_EINVAL, path, 0, 0,
			      "not a regular file (a directory, pipe or device cannot be loaded)");
	else if ((uint64_t)sb.st_size >= SIZE_MAX)
		yoc_error_set(&re, YOC_ENOMEM, path, 0, 0, "out of memory reading the file");
	else
		yoc__load_read_fd(fd, (size_t)sb.st_size, path, &data, &re);
	if (fd >= 0)
		close(fd);
	if (!data) {
		memset(res, 0, sizeof *res);
		snprintf(res->file, sizeof res->file, "%s", path);
		res->kind = -1;
		if (re.code == YOC_ENOMEM) /* the machine, not the file: abort the load */
			return yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "%s", re.msg);
		return reject(res, "%s", re.msg);
	}
	/*
	** The source account: with one found, the bytes are hashed on a helper
	** thread while they are validated, then matched to its entries.
	*/
	struct yoc__acct_lookup *lk = yoc_malloc(sizeof *lk);
	struct yoc_sha256_bg *sha = NULL;
	char hex[65] = "";
	if (!lk) {
		rc = yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "out of memory");
		goto cleanup;
	}
	if ((rc = yoc__acct_lookup(&L->acct, path, root, lk, e)))
		goto cleanup;
	if (lk->n) {
		if (!(sha = yoc_sha256_bg_create())) {
			rc = yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "out of memory");
			goto cleanup;
		}
		yoc_sha256_bg_feed(sha, data, (size_t)sb.st_size);
	}
	rc = yoc_loader_mem(L, path, data, (size_t)sb.st_size, kind, res, e);
	yoc_sha256_bg_finish(sha, hex); /* before data is freed */
	sha = NULL;
	if (!rc && (res->status == YOC_LOAD_LOADED || res->status == YOC_LOAD_REPLACED))
		rc = yoc__acct_record(L->s, lk, lk->n ? hex : NULL, res, e);
cleanup:
	yoc_sha256_bg_abort(sha);
	yoc_free(lk);
	yoc_free(data);
	return rc;
}

int yoc_loader_commit(struct yoc_loader *L, struct yoc_error *e)
{
	int rc = YOC_OK;
	if (L->persons_dirty) {
		if ((rc = yoc_store_rebuild_persons(L->s, e)) ||
		    (rc = yoc__store_exec_pub(L->s, "DELETE FROM linkage", e)))
			return rc;
	}
	yoc_store_persons_reset(L->s);
	if ((rc = yoc_store_rebuild_linkage(L->s, e)))
		return rc;
	sqlite3_stmt *st = NULL;
	char ts[32];
	now_iso(ts, sizeof ts);
	if (sqlite3_prepare_v2(yoc_store_db(L->s), "UPDATE loads SET finished = ?, files = ?, rows = ?,"
			       " loaded = ?, quarantined = ?, unchanged = ?, replaced = ?"
			       " WHERE load_id = ?", -1, &st, NULL))
		return sqlerr(L, e);
	sqlite3_bind_text(st, 1, ts, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, L->files);
	sqlite3_bind_int64(st, 3, L->rows);
	sqlite3_bind_int64(st, 4, L->loaded);
	sqlite3_bind_int64(st, 5, L->quarantined);
	sqlite3_bind_int64(st, 6, L->unchanged);
	sqlite3_bind_int64(st, 7, L->replaced);
	sqlite3_bind_int64(st, 8, L->load_id);
	int r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return sqlerr(L, e);
	/* A load that changed nothing leaves no trace, so loading twice changes nothing. */
	if (L->files == 0 && (rc = exec1(L, "DELETE FROM loads WHERE load_id = ?1 OR ?2",
					 L->load_id, 0, e)))
		return rc;
	/* Segments reach the disk before the catalog rows that name them. */
	if ((rc = yoc_store_sync(L->s, e)) || (rc = yoc__store_exec_pub(L->s, "COMMIT", e)))
		return rc;
	L->in_txn = 0;
	return YOC_OK;
}

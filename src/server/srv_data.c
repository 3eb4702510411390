/*
** The selection engine: one year of person_year (and risk_score) held in
** memory as the rule module's frame, a cell key per person, and queries
** that build a group from filters (composed into rule text from checked
** values only) and an optional rule (compiled on its own), then publish the
** group's figures with the cell-key method and the report's rules.
**
** Must not: put request text into SQL (nothing here runs SQL after load),
** publish an unprotected count, or let a practice user's request reach
** another practice's rows (the practice mask is applied here, after every
** filter and rule, whatever the request says).
*/
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>

#include "rule/rule.h"
#include "sdc/sdc.h"
#include "server/server.h"
#include "server/srv_int.h"
#include "yoc/io.h"

#define MAX_RULE_TEXT 4096

static const char *const activity_fields[] = {
	"emergency_admissions", "other_nonelective_admissions", "bed_days",
	"emergency_bed_days", NULL
};

size_t yoc_sel_rows(const yoc_sel *s)
{
	return s->n;
}

const char *yoc_sel_signature_of(const yoc_sel *s)
{
	return s->sig;
}

int yoc_sel_signature(const char *dir, char *out, size_t cap)
{
	char path[4096];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = -1;
	snprintf(path, sizeof path, "%s/yoc.db", dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto cleanup;
	sqlite3_busy_timeout(db, 5000);
	/* the analysis, the risk scores and the cohort register (members join
	 * and leave): a change to any is a new signature */
	static const char *const qs[] = {
		"SELECT (SELECT group_concat(key || '=' || value, ';') FROM analyse_run)"
		" || '|' || coalesce((SELECT max(rowid) || ',' || min(rowid) FROM risk_score), '')"
		" || '|' || coalesce((SELECT max(row_id) || ',' || count(leave_date) FROM cohort_register), '')",
		"SELECT (SELECT group_concat(key || '=' || value, ';') FROM analyse_run)"
		" || '|' || coalesce((SELECT max(rowid) || ',' || min(rowid) FROM risk_score), '')",
		"SELECT (SELECT group_concat(key || '=' || value, ';') FROM analyse_run)"
		" || '|' || coalesce((SELECT max(row_id) || ',' || count(leave_date) FROM cohort_register), '')",
		"SELECT (SELECT group_concat(key || '=' || value, ';') FROM analyse_run)"
	};
	size_t qi = 0;
	while (qi < sizeof qs / sizeof qs[0] &&
	       sqlite3_prepare_v2(db, qs[qi], -1, &st, NULL) != SQLITE_OK)
		qi++;
	if (!st)
		goto cleanup;
	if (sqlite3_step(st) == SQLITE_ROW) {
		unsigned char h[16];
		const unsigned char *t = sqlite3_column_text(st, 0);
		crypto_generichash(h, sizeof h, t, t ? strlen((const char *)t) : 0, NULL, 0);
		if (cap >= 33) {
			sodium_bin2hex(out, cap, h, sizeof h);
			rc = 0;
		}
	}
cleanup:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

/* The dataset's cell-key secret: DIR/serve/cellkey.key, created once. */
static int secret_load(const char *dir, unsigned char key[32], struct yoc_error *e)
{
	char path[4096], *text = NULL;
	size_t n = 0;
	int rc;
	snprintf(path, sizeof path, "%s/serve", dir);
	if (yoc_mkdirs(path, 0700) != 0)
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot create: %s", strerror(errno));
	snprintf(path, sizeof path, "%s/serve/cellkey.key", dir);
	struct stat st;
	if (stat(path, &st) != 0) {
		char hex[65];
		struct yoc_afile a;
		randombytes_buf(key, 32);
		sodium_bin2hex(hex, sizeof hex, key, 32);
		if ((rc = yoc_afile_open(&a, path, e)))
			return rc;
		if (fchmod(fileno(a.f), 0600) != 0) {
			yoc_afile_abort(&a);
			return yoc_error_set(e, YOC_EIO, path, 0, 0, "chmod: %s", strerror(errno));
		}
		fprintf(a.f, "%s\n", hex);
		return yoc_afile_commit(&a, e);
	}
	if (st.st_mode & 077)
		return yoc_error_set(e, YOC_EPERM, path, 0, 0,
				     "the cell-key secret must be mode 0600 (chmod 600 it)");
	if ((rc = yoc_read_file(path, 256, &text, &n, e)))
		return rc;
	size_t got = 0;
	if (sodium_hex2bin(key, 32, text, n, "\n", &got, NULL) != 0 || got != 32)
		rc = yoc_error_set(e, YOC_EDATA, path, 1, 0, "not 64 hex digits");
	sodium_memzero(text, n);
	yoc_free(text);
	return rc;
}

static int latest_year(sqlite3 *db, char *out, size_t cap)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(db, "SELECT max(fyear) FROM person_year", -1, &st, NULL) ==
		    SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
		snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

static int getnum(yoc_sel *s, const char *name, struct numcol *c)
{
	int ft;
	const int32_t *codes;
	return yoc_rule_frame_column(s->frame, name, 0, &ft, &c->v, &codes, &c->null) == 0 &&
			       c->v ? 0 : YOC_ENOTFOUND;
}

static int gettxt(yoc_sel *s, const char *name, struct txtcol *c)
{
	int ft;
	const double *nums;
	return yoc_rule_frame_column(s->frame, name, 0, &ft, &nums, &c->v, &c->null) == 0 &&
			       c->v ? 0 : YOC_ENOTFOUND;
}

static int32_t dict_find(const yoc_rule_frame *f, const char *t)
{
	size_t lo = 0, hi = yoc_rule_frame_ndict(f);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(yoc_rule_frame_dict(f, mid), t);
		if (c == 0)
			return (int32_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Distinct non-NULL codes of a text column, in text order. */
static int distinct(const yoc_sel *s, const struct txtcol *c, int32_t *out, size_t cap,
		    size_t *n)
{
	size_t nd = yoc_rule_frame_ndict(s->frame);
	uint8_t *seen = yoc_calloc(nd ? nd : 1, 1);
	if (!seen)
		return YOC_ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		if (!c->null[i])
			seen[c->v[i]] = 1;
	*n = 0;
	for (size_t d = 0; d < nd; d++)
		if (seen[d] && *n < cap)
			out[(*n)++] = (int32_t)d;
	yoc_free(seen);
	return 0;
}

/* Row of pseudo_id p (the frame is in pseudo_id order), or -1. */
static long row_of(const yoc_sel *s, const char *p)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(yoc_rule_frame_pseudo(s->frame, mid), p);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int table_exists(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = NULL;
	int yes = sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
				     -1, &st, NULL) == SQLITE_OK &&
		  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK &&
		  sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

/*
** The cohorts and their members in the year: whoever the register holds on
** any day of it (joined by its last day, not left before its first). The
** first MAX_COHORT cohorts by name.
*/
static int load_cohorts(yoc_sel *s, sqlite3 *db, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	char d0[32], d1[32];
	int y = (int)strtol(s->fyear, NULL, 10), rc = 0;
	if (!table_exists(db, "cohort_register"))
		return 0;
	snprintf(d0, sizeof d0, "%04d-04-01", y);
	snprintf(d1, sizeof d1, "%04d-03-31", y + 1);
	if (sqlite3_prepare_v2(db, "SELECT cohort, pseudo_id FROM cohort_register WHERE join_date <= ?1"
				   " AND (leave_date IS NULL OR leave_date >= ?2) ORDER BY cohort",
			       -1, &st, NULL) != SQLITE_OK)
		return yoc_error_set(e, YOC_EIO, "cohort_register", 0, 0, "%s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, d1, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d0, -1, SQLITE_STATIC);
	s->cohort_bm = yoc_calloc(s->words * MAX_COHORT, 8);
	if (!s->cohort_bm) {
		rc = yoc_error_set(e, YOC_ENOMEM, "cohort_register", 0, 0, "out of memory");
		goto cleanup;
	}
	int r;
	long cur = -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(st, 0);
		const char *p = (const char *)sqlite3_column_text(st, 1);
		if (!c || !p || strlen(c) >= 64)
			continue;
		if (cur < 0 || strcmp(s->cohort_name[cur], c) != 0) {
			if (s->ncohort == MAX_COHORT)
				break;
			cur = (long)s->ncohort++;
			snprintf(s->cohort_name[cur], 64, "%s", c);
		}
		long f = row_of(s, p);
		if (f >= 0) {
			size_t i = s->inv[f]; /* the engine's row order */
			s->cohort_bm[s->words * (size_t)cur + i / 64] |= UINT64_C(1) << (i % 64);
		}
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = yoc_error_set(e, YOC_EIO, "cohort_register", 0, 0, "%s", sqlite3_errmsg(db));
cleanup:
	sqlite3_finalize(st);
	return rc;
}

/*
** The year's monthly figures of each person from person_month (written by
** yoc analyse, docs/analysis.md): none when the table is absent (a dataset
** analysed before it existed); the trend is then left out.
*/
static int load_months(yoc_sel *s, sqlite3 *db, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	size_t wcap = s->nwide;
	int rc = 0, y = (int)strtol(s->fyear, NULL, 10);
	if (!table_exists(db, "person_month"))
		return 0;
	for (int m = 0; m < NMONTH; m++)
		snprintf(s->months[m], sizeof s->months[m], "%04d-%02d", (m < 9 ? y : y + 1) % 10000,
			 (m + 3) % 12 + 1);
	if (yoc__sel_months_alloc(s))
		return yoc_error_set(e, YOC_ENOMEM, "person_month", 0, 0, "out of memory");
	if (sqlite3_prepare_v2(db, "SELECT pseudo_id, months FROM person_month WHERE fyear = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return yoc_error_set(e, YOC_EIO, "person_month", 0, 0, "%s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, s->fyear, -1, SQLITE_STATIC);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(st, 0);
		const unsigned char *b = sqlite3_column_blob(st, 1);
		size_t nb = (size_t)sqlite3_column_bytes(st, 1);
		long i = p ? row_of(s, p) : -1;
		if (i < 0)
			continue;
		if (nb % 13) {
			rc = yoc_error_set(e, YOC_EDATA, "person_month", 0, 0,
					   "months of %s: %zu bytes, not whole 13-byte records", p, nb);
			break;
		}
		int64_t cost[NMONTH] = {0}, em[NMONTH] = {0};
		for (size_t k = 0; k + 13 <= nb; k += 13) {
			uint64_t c = 0;
			uint32_t a = 0;
			for (int j = 7; j >= 0; j--)
				c = c << 8 | b[k + 1 + (size_t)j];
			for (int j = 3; j >= 0; j--)
				a = a << 8 | b[k + 9 + (size_t)j];
			if (b[k] >= NMONTH) {
				rc = yoc_error_set(e, YOC_EDATA, "person_month", 0, 0,
						   "months of %s: month %d out of 0-11", p, b[k]);
				goto cleanup;
			}
			cost[b[k]] += (int64_t)c;
			em[b[k]] += a;
		}
		if (yoc__sel_months_put(s, (size_t)i, cost, em, &wcap)) {
			rc = yoc_error_set(e, YOC_ENOMEM, "person_month", 0, 0, "out of memory");
			break;
		}
	}
	if (!rc && r != SQLITE_DONE)
		rc = yoc_error_set(e, YOC_EIO, "person_month", 0, 0, "%s", sqlite3_errmsg(db));
cleanup:
	sqlite3_finalize(st);
	return rc;
}

int yoc_sel_load(const char *dir, const char *fyear, yoc_sel **out, struct yoc_error *e)
{
	char path[4096];
	unsigned char secret[32];
	sqlite3 *db = NULL;
	yoc_rule *all = NULL;
	struct yoc_buf txt;
	yoc_sel *s = NULL;
	int rc;

	*out = NULL;
	yoc_buf_init(&txt, 1 << 20);
	if (sodium_init() < 0)
		return yoc_error_set(e, YOC_EINTERNAL, dir, 0, 0, "libsodium failed to start");
	if ((rc = secret_load(dir, secret, e)))
		return rc;
	s = yoc_calloc(1, sizeof *s);
	if (!s) {
		rc = yoc_error_set(e, YOC_ENOMEM, dir, 0, 0, "out of memory");
		goto cleanup;
	}
	yoc_sel_signature(dir, s->sig, sizeof s->sig);
	snprintf(path, sizeof path, "%s/yoc.db", dir);
	if ((rc = yoc_check_regular(path, e)))
		goto cleanup;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot open the dataset");
		goto cleanup;
	}
	sqlite3_busy_timeout(db, 10000);
	if (fyear)
		snprintf(s->fyear, sizeof s->fyear, "%s", fyear);
	else if (latest_year(db, s->fyear, sizeof s->fyear) != 0) {
		rc = yoc_error_set(e, YOC_ENOTFOUND, path, 0, 0,
				   "no person_year table: run yoc analyse first");
		goto cleanup;
	}
	if ((rc = yoc_rule_schema_load(db, &s->schema, e)))
		goto cleanup;
	/* the fields the tool shows: conditions lie between imd_decile and ltc_count */
	int in_ltc = 0;
	for (size_t i = 0; i < yoc_rule_schema_count(s->schema); i++) {
		int ft, tb;
		const char *nm = yoc_rule_schema_name(s->schema, i, &ft, &tb);
		if (tb != YOC_RULE_PERSON_YEAR)
			continue;
		if (strcmp(nm, "imd_decile") == 0) {
			in_ltc = 1;
			continue;
		}
		if (strcmp(nm, "ltc_count") == 0)
			in_ltc = 0;
		if (in_ltc && s->nltc < MAX_LTC && strlen(nm) < 64)
			snprintf(s->ltc_name[s->nltc++], 64, "%s", nm);
		if (strncmp(nm, "cost_", 5) == 0 && strcmp(nm, "cost_total") != 0 &&
		    strcmp(nm, "cost_emergency") != 0 && strcmp(nm, "cost_other_nonelective") != 0 &&
		    strcmp(nm, "cost_apc_provider") != 0 && s->nset < MAX_SET && strlen(nm) < 64)
			snprintf(s->set_name[s->nset++], 64, "%s", nm);
	}
	yoc_buf_puts(&txt, "age is null or sex is null or practice is null or imd_decile is null"
			   " or ltc_count is null or band is null or cost_total is null");
	for (int k = 0; k < NACT; k++)
		yoc_buf_printf(&txt, " or %s is null", activity_fields[k]);
	for (size_t k = 0; k < s->nltc; k++)
		yoc_buf_printf(&txt, " or %s is null", s->ltc_name[k]);
	for (size_t k = 0; k < s->nset; k++)
		yoc_buf_printf(&txt, " or %s is null", s->set_name[k]);
	struct yoc_error e2;
	yoc_rule *probe = NULL;
	if (yoc_rule_compile("tier is null", s->schema, &probe, &e2) == 0) {
		s->has_tier = 1;
		yoc_buf_puts(&txt, " or tier is null");
	}
	yoc_rule_free(probe);
	if (!txt.data) {
		rc = yoc_error_set(e, YOC_ENOMEM, dir, 0, 0, "out of memory");
		goto cleanup;
	}
	if ((rc = yoc_rule_compile(txt.data, s->schema, &all, e)) ||
	    (rc = yoc_rule_frame_load(db, s->fyear, &all, 1, &s->frame, e)))
		goto cleanup;
	s->n = yoc_rule_frame_rows(s->frame);
	s->key = yoc_malloc(s->n ? s->n : 1);
	if (!s->key) {
		rc = yoc_error_set(e, YOC_ENOMEM, dir, 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < s->n; i++)
		s->key[i] = (uint8_t)yoc_cellkey_person(secret, yoc_rule_frame_pseudo(s->frame, i));
	rc = getnum(s, "age", &s->age) || getnum(s, "imd_decile", &s->imd) ||
	     getnum(s, "ltc_count", &s->ltc_count) || getnum(s, "cost_total", &s->cost_total) ||
	     gettxt(s, "sex", &s->sex) || gettxt(s, "practice", &s->practice) ||
	     gettxt(s, "band", &s->band) || (s->has_tier && gettxt(s, "tier", &s->tier));
	for (int k = 0; !rc && k < NACT; k++)
		rc = getnum(s, activity_fields[k], &s->act_col[k]);
	for (size_t k = 0; !rc && k < s->nltc; k++)
		rc = getnum(s, s->ltc_name[k], &s->ltc[k]);
	for (size_t k = 0; !rc && k < s->nset; k++)
		rc = getnum(s, s->set_name[k], &s->set[k]);
	if (rc) {
		rc = yoc_error_set(e, YOC_EDATA, path, 0, 0, "person_year lacks a column the tool needs");
		goto cleanup;
	}
	s->male = dict_find(s->frame, "1");
	s->female = dict_find(s->frame, "2");
	if (s->nset > ROW_MONEY - 1) {
		rc = yoc_error_set(e, YOC_EDATA, path, 0, 0,
				   "person_year has more than %d cost settings", ROW_MONEY - 1);
		goto cleanup;
	}
	s->words = s->n / 64 + 1;
	s->practices = yoc_malloc(sizeof(int32_t) * (yoc_rule_frame_ndict(s->frame) + 1));
	if (!s->practices || distinct(s, &s->band, s->bands, MAX_CAT, &s->nbands) ||
	    (s->has_tier && distinct(s, &s->tier, s->tiers, MAX_CAT, &s->ntiers)) ||
	    distinct(s, &s->practice, s->practices, yoc_rule_frame_ndict(s->frame) + 1,
		     &s->npractices)) {
		rc = yoc_error_set(e, YOC_ENOMEM, dir, 0, 0, "out of memory");
		goto cleanup;
	}
	if ((rc = yoc__sel_engine_build(s, e)) || (rc = load_cohorts(s, db, e)) ||
	    (rc = load_months(s, db, e)) || (rc = yoc__sel_engine_population(s, e)))
		goto cleanup;
	if (yoc__sel_cache_create(s)) {
		rc = yoc_error_set(e, YOC_ENOMEM, dir, 0, 0, "out of memory");
		goto cleanup;
	}
	/* YOC_SERVE_CACHE=0: every answer computed (bench/serve.sh measures both) */
	const char *ce = getenv("YOC_SERVE_CACHE");
	if (ce && strcmp(ce, "0") == 0)
		yoc__sel_cache_enable(s, 0);
	*out = s;
	s = NULL;
cleanup:
	sodium_memzero(secret, sizeof secret);
	yoc_rule_free(all);
	yoc_buf_free(&txt);
	sqlite3_close(db);
	yoc_sel_free(s);
	return rc;
}

void yoc_sel_free(yoc_sel *s)
{
	if (!s)
		return;
	yoc_rule_frame_free(s->frame);
	yoc_rule_schema_free(s->schema);
	yoc_free(s->key);
	yoc_free(s->practices);
	yoc__sel_engine_free(s);
	yoc_free(s);
}

/* ---- requests ---- */

static int text_ok(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > 32)
		return 0;
	for (; *t; t++)
		if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
		      (*t >= '0' && *t <= '9') || *t == '.' || *t == '_' || *t == '-' || *t == '/'))
			return 0;
	return 1;
}

static int bad(struct yoc_error *e, const char *what, const char *fmt, const char *arg)
{
	return yoc_error_set(e, YOC_EINVAL, what, 0, 0, fmt, arg);
}

/* Appends " and " between parts. */
static void part(struct yoc_buf *b)
{
	if (b->len)
		yoc_buf_puts(b, " and ");
}

static int int_field(json_t *v, const char *name, long lo, long hi, long *out,
		     struct yoc_error *e)
{
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		char msg[128];
		snprintf(msg, sizeof msg, "must be a whole number from %ld to %ld", lo, hi);
		return bad(e, name, "%s", msg);
	}
	*out = (long)json_integer_value(v);
	return 0;
}

/*
** field in ('a', 'b'): each value a known text of the column. The values'
** category indexes go to mask (bit per index of cats) or, for practices, to
** f's list.
*/
static int text_set(const yoc_sel *s, const int32_t *cats, size_t ncat, uint32_t *mask,
		    struct sel_filter *f, const char *field, json_t *v, struct yoc_buf *b,
		    struct yoc_error *e)
{
	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > MAX_LIST)
		return bad(e, field, "%s", "must be a list of 1 to 1,000 values");
	part(b);
	yoc_buf_printf(b, "%s in (", field);
	for (size_t i = 0; i < json_array_size(v); i++) {
		json_t *x = json_array_get(v, i);
		const char *t = json_string_value(x);
		int32_t code;
		if (!t || !text_ok(t) || (code = dict_find(s->frame, t)) < 0)
			return bad(e, field, "%s", "has a value that is not in the data");
		yoc_buf_printf(b, "%s'%s'", i ? ", " : "", t);
		if (mask) {
			for (size_t k = 0; k < ncat; k++)
				if (cats[k] == code)
					*mask |= UINT32_C(1) << k;
		} else {
			f->prac[f->nprac++] = yoc__sel_practice_index(s, code);
		}
	}
	yoc_buf_putc(b, ')');
	return 0;
}

/*
** The filters of request object f: as rule text into b (every part but the
** cohorts, which no rule names) and as f2 for the engine; the cohorts'
** clause for the normalised filter into cohort_text.
*/
static int build_filter(const yoc_sel *s, json_t *f, struct yoc_buf *b, struct sel_filter *f2,
			struct yoc_buf *cohort_text, struct yoc_error *e)
{
	const char *k;
	json_t *v;
	long x;
	const char *mode = "and";
	json_t *ltc = NULL;
	if (!json_is_object(f))
		return bad(e, "filters", "%s", "must be an object");
	json_object_foreach(f, k, v) {
		int rc = 0;
		if (json_is_null(v))
			continue;
		if (strcmp(k, "age_min") == 0 || strcmp(k, "age_max") == 0) {
			if (!(rc = int_field(v, k, 0, 130, &x, e))) {
				part(b);
				yoc_buf_printf(b, "age %s %ld", strcmp(k, "age_min") == 0 ? ">=" : "<=", x);
				*(strcmp(k, "age_min") == 0 ? &f2->age_lo : &f2->age_hi) = (int)x;
			}
		} else if (strcmp(k, "ltc_count_min") == 0 || strcmp(k, "ltc_count_max") == 0) {
			if (!(rc = int_field(v, k, 0, 100, &x, e))) {
				part(b);
				yoc_buf_printf(b, "ltc_count %s %ld",
					       strcmp(k, "ltc_count_min") == 0 ? ">=" : "<=", x);
				*(strcmp(k, "ltc_count_min") == 0 ? &f2->lc_lo : &f2->lc_hi) = (int)x;
			}
		} else if (strcmp(k, "emergency_min") == 0) {
			if (!(rc = int_field(v, k, 0, 1000, &x, e))) {
				part(b);
				yoc_buf_printf(b, "emergency_admissions >= %ld", x);
				f2->emerg_min = x;
			}
		} else if (strcmp(k, "bed_days_min") == 0) {
			if (!(rc = int_field(v, k, 0, 100000, &x, e))) {
				part(b);
				yoc_buf_printf(b, "bed_days >= %ld", x);
				f2->bed_min = x;
			}
		} else if (strcmp(k, "cost_min") == 0) {
			if (!(rc = int_field(v, k, 0, 100000000, &x, e))) {
				part(b);
				yoc_buf_printf(b, "cost_total >= %ld", x * 100);
				f2->cost_min = (int64_t)x * 100;
			}
		} else if (strcmp(k, "sex") == 0) {
			f2->has_sex = 1;
			rc = text_set(s, s->sexes, s->nsexes, &f2->sex, f2, "sex", v, b, e);
		} else if (strcmp(k, "practice") == 0) {
			f2->has_prac = 1;
			rc = text_set(s, NULL, 0, NULL, f2, "practice", v, b, e);
		} else if (strcmp(k, "band") == 0) {
			f2->has_band = 1;
			rc = text_set(s, s->bands, s->nbands, &f2->band, f2, "band", v, b, e);
		} else if (strcmp(k, "tier") == 0) {
			f2->has_tier = 1;
			if (!s->has_tier)
				rc = bad(e, k, "%s", "no risk scores in this dataset");
			else
				rc = text_set(s, s->tiers, s->ntiers, &f2->tier, f2, "tier", v, b, e);
		} else if (strcmp(k, "imd") == 0) {
			if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 10)
				rc = bad(e, k, "%s", "must be a list of deciles 1-10");
			part(b);
			yoc_buf_puts(b, "imd_decile in (");
			for (size_t i = 0; !rc && i < json_array_size(v); i++)
				if (!(rc = int_field(json_array_get(v, i), k, 1, 10, &x, e))) {
					yoc_buf_printf(b, "%s%ld", i ? ", " : "", x);
					f2->imd |= UINT32_C(1) << x;
				}
			yoc_buf_putc(b, ')');
		} else if (strcmp(k, "ltc") == 0) {
			ltc = v;
		} else if (strcmp(k, "ltc_mode") == 0) {
			mode = json_string_value(v);
			if (!mode || (strcmp(mode, "and") != 0 && strcmp(mode, "or") != 0))
				rc = bad(e, k, "%s", "must be \"and\" or \"or\"");
		} else if (strcmp(k, "cohort") == 0) {
			/* members of any cohort listed, in the year (the register) */
			if (!json_is_array(v) || json_array_size(v) == 0 ||
			    json_array_size(v) > MAX_COHORT)
				rc = bad(e, k, "%s", "must be a list of cohorts");
			f2->has_cohort = 1;
			yoc_buf_puts(cohort_text, "(cohort in (");
			for (size_t i = 0; !rc && i < json_array_size(v); i++) {
				const char *t = json_string_value(json_array_get(v, i));
				size_t c = 0;
				while (t && c < s->ncohort && strcmp(s->cohort_name[c], t) != 0)
					c++;
				if (!t || c == s->ncohort) {
					rc = bad(e, k, "%s", "has an unknown cohort");
					break;
				}
				f2->cohort |= UINT64_C(1) << c;
				yoc_buf_printf(cohort_text, "%s'%s'", i ? ", " : "", s->cohort_name[c]);
			}
			yoc_buf_puts(cohort_text, "))");
		} else {
			rc = bad(e, k, "%s", "is not a filter (see docs/server.md)");
		}
		if (rc)
			return rc;
	}
	if (ltc) {
		if (!json_is_array(ltc) || json_array_size(ltc) == 0 ||
		    json_array_size(ltc) > s->nltc)
			return bad(e, "ltc", "%s", "must be a list of conditions");
		part(b);
		yoc_buf_putc(b, '(');
		f2->ltc_or = mode[0] == 'o';
		for (size_t i = 0; i < json_array_size(ltc); i++) {
			const char *t = json_string_value(json_array_get(ltc, i));
			size_t k2 = 0;
			while (t && k2 < s->nltc && strcmp(s->ltc_name[k2], t) != 0)
				k2++;
			if (!t || k2 == s->nltc)
				return bad(e, "ltc", "%s", "has an unknown condition");
			yoc_buf_printf(b, "%s%s", i ? (mode[0] == 'o' ? " or " : " and ") : "", t);
			f2->ltc |= UINT32_C(1) << k2;
		}
		yoc_buf_putc(b, ')');
	}
	if (!b->data && b->len == 0)
		return 0;
	return b->data ? 0 : yoc_error_set(e, YOC_ENOMEM, "filters", 0, 0, "out of memory");
}

/* 1 when every part of f has an index (else the rule text is evaluated). */
static int indexable(const yoc_sel *s, const struct sel_filter *f)
{
	return (f->age_lo < 0 && f->age_hi < 0 ? 1 : s->ix_age.ok) &&
	       (f->lc_lo < 0 && f->lc_hi < 0 ? 1 : s->ix_lc.ok) &&
	       (f->emerg_min < 0 || s->ix_emerg.ok) && (f->bed_min < 0 || s->ix_bed.ok) &&
	       (f->cost_min < 0 || s->ix_cost.ok) && (!f->imd || s->ix_imd.ok) &&
	       (!f->has_sex || s->sex_indexed) &&
	       (!(f->has_band || f->has_tier) || !s->cats_unindexed) && !s->rule_path;
}

/* ---- responses ---- */

static json_t *pub(int64_t v)
{
	return v == YOC_SDC_HIDDEN ? json_null() : json_integer(v);
}

static json_t *pct(int64_t num, int64_t den)
{
	if (num == YOC_SDC_HIDDEN || den == YOC_SDC_HIDDEN || den <= 0)
		return json_null();
	return json_real(round(1000.0 * (double)num / (double)den) / 10.0);
}

static json_t *money(const struct yoc_sdc *sd, int64_t pence, int64_t n_pub)
{
	if (n_pub == YOC_SDC_HIDDEN || n_pub <= 0)
		return json_null();
	return json_integer(yoc_sdc_money(sd, pence) / 100);
}

static json_t *mean(const struct yoc_sdc *sd, int64_t pence, int64_t n, int64_t n_pub)
{
	if (n_pub == YOC_SDC_HIDDEN || n_pub <= 0)
		return json_null();
	return json_integer(yoc_sdc_mean(sd, pence, n, n_pub) / 100);
}

static json_t *per1000(int64_t ev_pub, int64_t n_pub)
{
	if (ev_pub == YOC_SDC_HIDDEN || n_pub == YOC_SDC_HIDDEN || n_pub <= 0)
		return json_null();
	return json_real(round(10000.0 * (double)ev_pub / (double)n_pub) / 10.0);
}

static json_t *figures(const yoc_sel *s, const struct agg *a, const struct agg *p)
{
	struct yoc_sdc sd;
	yoc_sdc_init(&sd);
	json_t *o = json_object();
	int64_t n = yoc_cellkey_publish((unsigned)a->ck, a->n);
	int64_t pn = yoc_cellkey_publish((unsigned)p->ck, p->n);
	json_object_set_new(o, "count", pub(n));
	json_object_set_new(o, "population", pub(pn));
	json_object_set_new(o, "share_pct", pct(n, pn));
	json_t *cost = json_array();
	for (size_t k = 0; k < s->nset; k++) {
		json_t *c = json_object();
		json_object_set_new(c, "setting", json_string(s->set_name[k] + 5));
		json_object_set_new(c, "total", money(&sd, a->cost[k], n));
		json_object_set_new(c, "per_person", mean(&sd, a->cost[k], a->n, n));
		json_object_set_new(c, "population_per_person", mean(&sd, p->cost[k], p->n, pn));
		json_array_append_new(cost, c);
	}
	json_object_set_new(o, "cost", cost);
	json_object_set_new(o, "cost_total", money(&sd, a->cost_total, n));
	json_object_set_new(o, "cost_per_person", mean(&sd, a->cost_total, a->n, n));
	json_object_set_new(o, "population_cost_per_person", mean(&sd, p->cost_total, p->n, pn));
	json_t *act = json_array();
	for (int k = 0; k < NACT; k++) {
		json_t *c = json_object();
		int64_t ev = yoc_cellkey_publish((unsigned)a->ck, a->act[k]);
		int64_t pev = yoc_cellkey_publish((unsigned)p->ck, p->act[k]);
		json_object_set_new(c, "measure", json_string(activity_fields[k]));
		json_object_set_new(c, "total", n == YOC_SDC_HIDDEN ? json_null() : pub(ev));
		json_object_set_new(c, "per_1000", per1000(ev, n));
		json_object_set_new(c, "population_per_1000", per1000(pev, pn));
		json_array_append_new(act, c);
	}
	json_object_set_new(o, "activity", act);
	int64_t ep = yoc_cellkey_publish((unsigned)a->emerg_ck, a->emerg_people);
	int64_t pep = yoc_cellkey_publish((unsigned)p->emerg_ck, p->emerg_people);
	json_object_set_new(o, "people_with_emergency_admission", pub(ep));
	json_object_set_new(o, "people_with_emergency_admission_pct", pct(ep, n));
	json_object_set_new(o, "population_people_with_emergency_admission_pct", pct(pep, pn));
	json_t *pyr = json_array();
	for (int b = 0; b < NAGE; b++) {
		json_t *c = json_object();
		char lab[16];
		if (b == NAGE - 1)
			snprintf(lab, sizeof lab, "%d+", 5 * b);
		else
			snprintf(lab, sizeof lab, "%d-%d", 5 * b, 5 * b + 4);
		json_object_set_new(c, "age", json_string(lab));
		for (int sx = 0; sx < 2; sx++) {
			int64_t g = yoc_cellkey_publish((unsigned)a->pyr_ck[2 * b + sx], a->pyr[2 * b + sx]);
			int64_t q = yoc_cellkey_publish((unsigned)p->pyr_ck[2 * b + sx], p->pyr[2 * b + sx]);
			json_object_set_new(c, sx ? "female" : "male", pub(g));
			json_object_set_new(c, sx ? "female_pct" : "male_pct", pct(g, n));
			json_object_set_new(c, sx ? "population_female_pct" : "population_male_pct",
					    pct(q, pn));
		}
		json_array_append_new(pyr, c);
	}
	json_object_set_new(o, "pyramid", pyr);
	json_t *ltc = json_array();
	for (size_t k = 0; k < s->nltc; k++) {
		json_t *c = json_object();
		int64_t g = yoc_cellkey_publish((unsigned)a->ltc_ck[k], a->ltc[k]);
		int64_t q = yoc_cellkey_publish((unsigned)p->ltc_ck[k], p->ltc[k]);
		json_object_set_new(c, "condition", json_string(s->ltc_name[k]));
		json_object_set_new(c, "count", pub(g));
		json_object_set_new(c, "pct", pct(g, n));
		json_object_set_new(c, "population_pct", pct(q, pn));
		json_array_append_new(ltc, c);
	}
	json_object_set_new(o, "conditions", ltc);
	for (int t = 0; t < 2; t++) {
		json_t *arr = json_array();
		size_t nc = t ? s->ntiers : s->nbands;
		for (size_t k = 0; k < nc; k++) {
			json_t *c = json_object();
			int32_t code = t ? s->tiers[k] : s->bands[k];
			int64_t g = yoc_cellkey_publish((unsigned)(t ? a->tier_ck[k] : a->band_ck[k]),
							t ? a->tier[k] : a->band[k]);
			int64_t q = yoc_cellkey_publish((unsigned)(t ? p->tier_ck[k] : p->band_ck[k]),
							t ? p->tier[k] : p->band[k]);
			json_object_set_new(c, t ? "tier" : "band",
					    json_string(yoc_rule_frame_dict(s->frame, (size_t)code)));
			json_object_set_new(c, "count", pub(g));
			json_object_set_new(c, "pct", pct(g, n));
			json_object_set_new(c, "population_pct", pct(q, pn));
			json_array_append_new(arr, c);
		}
		json_object_set_new(o, t ? "tiers" : "bands", arr);
	}
	return o;
}

/*
** The group's months beside the population's (docs/server.md): money as
** the year's money is published, counts through the cell-key method (the
** admissions of a month with the group's cell key, as the year's event
** totals; the people with an emergency admission in a month as a cell of
** their own). NULL when the year has no monthly figures.
*/
static json_t *trend(const yoc_sel *s, const struct agg *a, const struct agg *p)
{
	if (!s->has_months)
		return json_null();
	struct yoc_sdc sd;
	yoc_sdc_init(&sd);
	int64_t n = yoc_cellkey_publish((unsigned)a->ck, a->n);
	int64_t pn = yoc_cellkey_publish((unsigned)p->ck, p->n);
	json_t *o = json_object(), *months = json_array(), *ms = json_array();
	for (int m = 0; m < NMONTH; m++)
		json_array_append_new(months, json_string(s->months[m]));
	json_object_set_new(o, "months", months);
	static const char *const names[] = {
		"cost_per_person", "cost_total", "emergency_admissions_per_1000",
		"emergency_admissions", "people_with_emergency_admission"
	};
	for (int k = 0; k < 5; k++) {
		json_t *c = json_object(), *g = json_array(), *q = json_array();
		for (int m = 0; m < NMONTH; m++)
			for (int side = 0; side < 2; side++) {
				const struct agg *x = side ? p : a;
				int64_t xn = side ? pn : n;
				json_t *v;
				int64_t ev = yoc_cellkey_publish((unsigned)x->ck, x->memerg[m]);
				switch (k) {
				case 0: v = mean(&sd, x->mcost[m], x->n, xn); break;
				case 1: v = money(&sd, x->mcost[m], xn); break;
				case 2: v = per1000(ev, xn); break;
				case 3: v = xn == YOC_SDC_HIDDEN ? json_null() : pub(ev); break;
				default:
					v = pub(yoc_cellkey_publish((unsigned)x->mpeople_ck[m], x->mpeople[m]));
				}
				json_array_append_new(side ? q : g, v);
			}
		json_object_set_new(c, "measure", json_string(names[k]));
		json_object_set_new(c, "group", g);
		json_object_set_new(c, "population", q);
		json_array_append_new(ms, c);
	}
	json_object_set_new(o, "measures", ms);
	return o;
}

static const char disclosure_note[] =
	"Counts are perturbed by the cell-key method (the same group always gets the same "
	"small noise), then counts of 1 to 7 are hidden and others rounded to 5; money is "
	"shown to 3 significant figures. Figures may not add up exactly.";

static int dump(json_t *o, struct yoc_buf *out)
{
	char *t = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
	int rc = t ? yoc_buf_puts(out, t) : YOC_ENOMEM;
	free(t);
	return rc;
}

/* A request, checked and compiled: what selects its rows. */
struct plan {
	yoc_rule *frule, *urule; /* the filters' rule text, the request's rule */
	struct sel_filter f;
	int use_index;           /* the filters by the engine's indexes */
	int limit;               /* the practice role's mask */
	int32_t pcode;           /* its practice's dictionary code (-1 none) */
};

static void plan_free(struct plan *p)
{
	yoc_rule_free(p->frule);
	yoc_rule_free(p->urule);
	p->frule = p->urule = NULL;
}

static int norm_part(struct yoc_buf *norm, const yoc_rule *r)
{
	int bad = 0;
	if (norm->len)
		bad |= yoc_buf_puts(norm, " and ");
	bad |= yoc_buf_putc(norm, '(');
	bad |= yoc_rule_normalised(r, norm);
	bad |= yoc_buf_putc(norm, ')');
	return bad;
}

/*
** Parses and checks a request into p, and writes its normalised filter to
** norm: the filters' rule, the cohorts, the request's rule, then the
** practice limit for the practice role. Nothing is evaluated yet.
*/
static int plan_make(const yoc_sel *s, const char *req, size_t len, int role,
		     const char *practice, struct plan *p, struct yoc_buf *norm,
		     struct yoc_error *e)
{
	json_error_t je;
	json_t *root = NULL;
	struct yoc_buf ftext, ctext;
	int rc = 0, nbad = 0; /* nbad: the normalised text is incomplete (it keys the cache) */

	memset(p, 0, sizeof *p);
	p->f.age_lo = p->f.age_hi = p->f.lc_lo = p->f.lc_hi = -1;
	p->f.emerg_min = p->f.bed_min = -1;
	p->f.cost_min = -1;
	yoc_buf_init(&ftext, 1 << 20);
	yoc_buf_init(&ctext, 1 << 16);
	root = json_loadb(req, len, JSON_REJECT_DUPLICATES, &je);
	if (!root || !json_is_object(root)) {
		rc = yoc_error_set(e, YOC_EPARSE, "request", je.line, je.column,
				   "malformed JSON: %s", root ? "not an object" : je.text);
		goto cleanup;
	}
	const char *k;
	json_t *v, *filters = NULL;
	const char *rule = NULL;
	json_object_foreach(root, k, v) {
		if (strcmp(k, "filters") == 0)
			filters = v;
		else if (strcmp(k, "rule") == 0 && (json_is_string(v) || json_is_null(v)))
			rule = json_string_value(v);
		else {
			rc = bad(e, k, "%s", "is not part of a selection request");
			goto cleanup;
		}
	}
	if (rule && strlen(rule) > MAX_RULE_TEXT) {
		rc = yoc_error_set(e, YOC_ETOOBIG, "rule", 0, 0, "a rule is at most %d bytes",
				   MAX_RULE_TEXT);
		goto cleanup;
	}
	if (filters && (rc = build_filter(s, filters, &ftext, &p->f, &ctext, e)))
		goto cleanup;
	if (ftext.len) {
		if ((rc = yoc_rule_compile(ftext.data, s->schema, &p->frule, e)))
			goto cleanup;
		nbad |= norm_part(norm, p->frule);
	}
	if (ctext.len) {
		if (norm->len)
			nbad |= yoc_buf_puts(norm, " and ");
		nbad |= yoc_buf_append(norm, ctext.data, ctext.len);
	}
	if (rule && *rule) {
		if ((rc = yoc_rule_compile(rule, s->schema, &p->urule, e)))
			goto cleanup;
		nbad |= norm_part(norm, p->urule);
	}
	p->use_index = indexable(s, &p->f);
	if (role == YOC_ROLE_PRACTICE) {
		/* the practice's own rows only, whatever the request asked */
		p->limit = 1;
		p->pcode = practice && *practice ? dict_find(s->frame, practice) : -1;
		if (norm->len)
			nbad |= yoc_buf_puts(norm, " and ");
		nbad |= yoc_buf_printf(norm, "(practice = '%s')", practice ? practice : "");
	}
	if (nbad)
		rc = yoc_error_set(e, YOC_ETOOBIG, "request", 0, 0, "the request is too large");
cleanup:
	if (rc)
		plan_free(p);
	json_decref(root);
	yoc_buf_free(&ftext);
	yoc_buf_free(&ctext);
	return rc;
}

/* ANDs the rows rule r selects (frame rows) into bm (engine rows). */
static int and_rule(const yoc_sel *s, const yoc_rule *r, uint64_t *bm, struct yoc_error *e)
{
	struct yoc_rule_result res;
	memset(&res, 0, sizeof res);
	int rc = yoc_rule_eval(r, s->frame, &res, e);
	if (!rc && yoc__sel_and_frame(s, res.selected, res.words, bm))
		rc = yoc_error_set(e, YOC_ENOMEM, "request", 0, 0, "out of memory");
	yoc_rule_result_free(&res);
	return rc;
}

/* The rows of plan p as a bitmap *bm_out (yoc_free it). */
static int plan_eval(const yoc_sel *s, const struct plan *p, uint64_t **bm_out,
		     struct yoc_error *e)
{
	uint64_t *bm = yoc_malloc(8 * s->words);
	int rc = 0;
	*bm_out = NULL;
	if (!bm)
		return yoc_error_set(e, YOC_ENOMEM, "request", 0, 0, "out of memory");
	memcpy(bm, s->valid, 8 * s->words);
	if (p->use_index) {
		yoc__sel_filter_eval(s, &p->f, bm);
	} else {
		if (p->frule && (rc = and_rule(s, p->frule, bm, e)))
			goto cleanup;
		if (p->f.has_cohort) {
			struct sel_filter only;
			memset(&only, 0, sizeof only);
			only.age_lo = only.age_hi = only.lc_lo = only.lc_hi = -1;
			only.emerg_min = only.bed_min = -1;
			only.cost_min = -1;
			only.has_cohort = 1;
			only.cohort = p->f.cohort;
			yoc__sel_filter_eval(s, &only, bm);
		}
	}
	if (p->urule && (rc = and_rule(s, p->urule, bm, e)))
		goto cleanup;
	if (p->limit)
		yoc__sel_practice_mask(s, p->pcode, bm);
	*bm_out = bm;
	bm = NULL;
cleanup:
	yoc_free(bm);
	return rc;
}

/* The rows a request selects (yoc_free *bm_out) and its normalised filter. */
static int select_rows(const yoc_sel *s, const char *req, size_t len, int role,
		       const char *practice, uint64_t **bm_out, struct yoc_buf *filter_out,
		       struct yoc_error *e)
{
	struct plan p;
	struct yoc_buf norm;
	yoc_buf_init(&norm, 1 << 20);
	int rc = plan_make(s, req, len, role, practice, &p, &norm, e);
	if (!rc)
		rc = plan_eval(s, &p, bm_out, e);
	if (!rc && filter_out && norm.len)
		yoc_buf_append(filter_out, norm.data, norm.len);
	plan_free(&p);
	yoc_buf_free(&norm);
	return rc;
}

int yoc_sel_query(const yoc_sel *s, const char *req, size_t len, int role,
		  const char *practice, struct yoc_buf *out, struct yoc_buf *filter_out,
		  struct yoc_error *e)
{
	json_t *resp = NULL;
	uint64_t *bm = NULL;
	struct agg *a = NULL;
	struct plan p;
	struct yoc_buf norm, key;
	yoc_buf_init(&norm, 1 << 20);
	yoc_buf_init(&key, 1 << 21);
	int rc = plan_make(s, req, len, role, practice, &p, &norm, e);
	if (rc)
		goto cleanup;
	if (filter_out && norm.len)
		yoc_buf_append(filter_out, norm.data, norm.len);
	/* the answer is a pure function of the group: the key is its normalised
	 * filter (and whether the response names it) */
	int kbad = yoc_buf_puts(&key, filter_out ? "F:" : "-:");
	if (norm.len)
		kbad |= yoc_buf_append(&key, norm.data, norm.len);
	if (!kbad && yoc__sel_cache_get(s, key.data, key.len, out) == 0)
		goto cleanup;
	if ((rc = plan_eval(s, &p, &bm, e)))
		goto cleanup;
	a = yoc_malloc(sizeof *a);
	if (!a || yoc__sel_aggregate(s, bm, a)) {
		rc = yoc_error_set(e, YOC_ENOMEM, "request", 0, 0, "out of memory");
		goto cleanup;
	}
	resp = figures(s, a, s->pop);
	json_object_set_new(resp, "trend", trend(s, a, s->pop));
	json_object_set_new(resp, "fyear", json_string(s->fyear));
	json_object_set_new(resp, "perturbed", json_true());
	json_object_set_new(resp, "disclosure", json_string(disclosure_note));
	if (filter_out)
		json_object_set_new(resp, "filter", json_string(norm.len ? norm.data : "(everyone)"));
	size_t at = out->len;
	rc = dump(resp, out);
	if (!rc && !kbad)
		yoc__sel_cache_put(s, key.data, key.len, out->data + at, out->len - at);
cleanup:
	plan_free(&p);
	yoc_buf_free(&norm);
	yoc_buf_free(&key);
	json_decref(resp);
	yoc_free(bm);
	yoc_free(a);
	return rc;
}

/* Appends a number cell (empty for NULL) of column c, row i. */
static void csv_num(struct yoc_buf *b, const struct numcol *c, size_t i)
{
	yoc_buf_putc(b, ',');
	if (!c->null[i])
		yoc_buf_printf(b, "%.0f", c->v[i]);
}

static void csv_txt(const yoc_sel *s, struct yoc_buf *b, const struct txtcol *c, size_t i)
{
	yoc_buf_putc(b, ',');
	if (!c->null[i])
		yoc_buf_puts(b, yoc_rule_frame_dict(s->frame, (size_t)c->v[i]));
}

int yoc_sel_extract(const yoc_sel *s, const char *req, size_t len, int role,
		    const char *practice, struct yoc_buf *out, struct yoc_buf *filter_out,
		    size_t *rows, struct yoc_error *e)
{
	uint64_t *bm = NULL, *fbm = NULL;
	int rc = select_rows(s, req, len, role, practice, &bm, filter_out, e);
	*rows = 0;
	if (rc)
		return rc;
	/* the frame's rows, in its (pseudo_id) order */
	if (!(fbm = yoc_malloc(8 * s->words))) {
		yoc_free(bm);
		return yoc_error_set(e, YOC_ENOMEM, "extract", 0, 0, "out of memory");
	}
	yoc__sel_to_frame(s, bm, fbm);
	yoc_free(bm);
	bm = fbm;
	yoc_buf_printf(out, "pseudo_id,fyear,age,sex,practice,imd_decile,ltc_count,band,%s"
			    "emergency_admissions,bed_days,cost_total_pence\n",
		       s->has_tier ? "tier," : "");
	for (size_t w = 0; w < (s->n + 63) / 64; w++)
		for (uint64_t b = bm[w]; b; b &= b - 1) {
			size_t i = w * 64 + (size_t)__builtin_ctzll(b);
			yoc_buf_printf(out, "%s,%s", yoc_rule_frame_pseudo(s->frame, i), s->fyear);
			csv_num(out, &s->age, i);
			csv_txt(s, out, &s->sex, i);
			csv_txt(s, out, &s->practice, i);
			csv_num(out, &s->imd, i);
			csv_num(out, &s->ltc_count, i);
			csv_txt(s, out, &s->band, i);
			if (s->has_tier)
				csv_txt(s, out, &s->tier, i);
			csv_num(out, &s->act_col[0], i);
			csv_num(out, &s->act_col[2], i);
			csv_num(out, &s->cost_total, i);
			if (yoc_buf_putc(out, '\n') != 0) {
				yoc_free(bm);
				return yoc_error_set(e, YOC_ETOOBIG, "extract", 0, 0,
						     "the extract is too large: narrow the group");
			}
			(*rows)++;
		}
	yoc_free(bm);
	return 0;
}

int yoc_sel_meta(const yoc_sel *s, int role, const char *practice, struct yoc_buf *out)
{
	json_t *o = json_object(), *arr;
	json_object_set_new(o, "fyear", json_string(s->fyear));
	arr = json_array();
	for (size_t k = 0; k < s->npractices; k++) {
		const char *c = yoc_rule_frame_dict(s->frame, (size_t)s->practices[k]);
		if (role != YOC_ROLE_PRACTICE || (practice && strcmp(c, practice) == 0))
			json_array_append_new(arr, json_string(c));
	}
	json_object_set_new(o, "practices", arr);
	arr = json_array();
	for (size_t k = 0; k < s->nltc; k++)
		json_array_append_new(arr, json_string(s->ltc_name[k]));
	json_object_set_new(o, "conditions", arr);
	arr = json_array();
	for (size_t k = 0; k < s->nbands; k++)
		json_array_append_new(arr, json_string(yoc_rule_frame_dict(s->frame, (size_t)s->bands[k])));
	json_object_set_new(o, "bands", arr);
	arr = json_array();
	for (size_t k = 0; k < s->ntiers; k++)
		json_array_append_new(arr, json_string(yoc_rule_frame_dict(s->frame, (size_t)s->tiers[k])));
	json_object_set_new(o, "tiers", arr);
	arr = json_array();
	for (size_t k = 0; k < s->ncohort; k++)
		json_array_append_new(arr, json_string(s->cohort_name[k]));
	json_object_set_new(o, "cohorts", arr);
	json_object_set_new(o, "trend_months", json_boolean(s->has_months));
	json_object_set_new(o, "disclosure", json_string(disclosure_note));
	int rc = dump(o, out);
	json_decref(o);
	return rc;
}

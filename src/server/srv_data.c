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
#include "yoc/io.h"

#define MAX_LTC 32
#define MAX_SET 24
#define MAX_CAT 32
#define NAGE 19 /* 0-4 ... 85-89, 90+ */
#define MAX_RULE_TEXT 4096

struct numcol { const double *v; const uint8_t *null; };
struct txtcol { const int32_t *v; const uint8_t *null; };

static const char *const activity_fields[] = {
	"emergency_admissions", "other_nonelective_admissions", "bed_days",
	"emergency_bed_days", NULL
};
#define NACT 4

struct yoc_sel {
	char fyear[16];
	char sig[256];
	yoc_rule_schema *schema;
	yoc_rule_frame *frame;
	size_t n;
	uint8_t *key;
	struct numcol age, imd, ltc_count, cost_total, act_col[NACT];
	struct txtcol sex, practice, band, tier;
	int has_tier;
	size_t nltc, nset;
	char ltc_name[MAX_LTC][64];
	struct numcol ltc[MAX_LTC];
	char set_name[MAX_SET][64];
	struct numcol set[MAX_SET];
	int32_t male, female; /* dictionary codes of "1" and "2" (-1 absent) */
	/* categories: dictionary codes present in band, tier, practice */
	int32_t bands[MAX_CAT], tiers[MAX_CAT];
	size_t nbands, ntiers;
	int32_t *practices;
	size_t npractices;
	struct agg *pop;
	/* per person, packed at load for the aggregation's one pass */
	uint32_t *ltcmask;  /* bit k: condition k */
	uint8_t *cat;       /* 4 bytes a row: pyramid cell (or 255), band, tier (or 255), emergency */
	int32_t *act;       /* NACT a row */
	int64_t *money;     /* cost_total then nset settings, a row */
};

struct agg {
	int64_t n, ck;
	int64_t pyr[NAGE][2], pyr_ck[NAGE][2];
	int64_t ltc[MAX_LTC], ltc_ck[MAX_LTC];
	int64_t band[MAX_CAT], band_ck[MAX_CAT];
	int64_t tier[MAX_CAT], tier_ck[MAX_CAT];
	int64_t act[NACT], emerg_people, emerg_ck;
	int64_t cost[MAX_SET], cost_total;
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
	const char *q = "SELECT (SELECT group_concat(key || '=' || value, ';') FROM analyse_run)"
			" || '|' || coalesce((SELECT max(rowid) || ',' || min(rowid) FROM risk_score), '')";
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) {
		/* no risk_score table */
		q = "SELECT (SELECT group_concat(key || '=' || value, ';') FROM analyse_run)";
		if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
			goto cleanup;
	}
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

static int aggregate(const yoc_sel *s, const uint64_t *bm, struct agg *a);
static int pack(yoc_sel *s);

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
	s->practices = yoc_malloc(sizeof(int32_t) * (yoc_rule_frame_ndict(s->frame) + 1));
	struct agg *pop = yoc_calloc(1, sizeof *pop); /* s->pop stays NULL until summed */
	uint64_t *ones = yoc_malloc(8 * (s->n / 64 + 1));
	if (!s->practices || !pop || !ones ||
	    distinct(s, &s->band, s->bands, MAX_CAT, &s->nbands) ||
	    (s->has_tier && distinct(s, &s->tier, s->tiers, MAX_CAT, &s->ntiers)) ||
	    distinct(s, &s->practice, s->practices, yoc_rule_frame_ndict(s->frame) + 1,
		     &s->npractices)) {
		yoc_free(ones);
		yoc_free(pop);
		rc = yoc_error_set(e, YOC_ENOMEM, dir, 0, 0, "out of memory");
		goto cleanup;
	}
	if (pack(s)) {
		yoc_free(ones);
		yoc_free(pop);
		rc = yoc_error_set(e, YOC_ENOMEM, dir, 0, 0, "out of memory");
		goto cleanup;
	}
	memset(ones, 0xff, 8 * (s->n / 64 + 1));
	if (s->n % 64)
		ones[s->n / 64] = (UINT64_C(1) << (s->n % 64)) - 1;
	else
		ones[s->n / 64] = 0;
	rc = aggregate(s, ones, pop);
	yoc_free(ones);
	s->pop = pop;
	if (rc) {
		rc = yoc_error_set(e, YOC_ENOMEM, dir, 0, 0, "out of memory");
		goto cleanup;
	}
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
	yoc_free(s->pop);
	yoc_free(s->ltcmask);
	yoc_free(s->cat);
	yoc_free(s->act);
	yoc_free(s->money);
	yoc_free(s);
}

static int age_band(double a)
{
	int b = (int)(a / 5);
	return b < 0 ? 0 : b >= NAGE ? NAGE - 1 : b;
}

static int cat_index(const int32_t *codes, size_t n, int32_t c)
{
	for (size_t i = 0; i < n; i++)
		if (codes[i] == c)
			return (int)i;
	return -1;
}

/*
** Sums over the selected rows: the bitmap is turned into a list of row
** numbers once, then each column is one gather loop over that list (cache
** friendly on millions of rows, and no bitmap walk per column).
*/
static void aggregate_rows(const yoc_sel *s, const uint32_t *idx, size_t m, struct agg *a)
{
	memset(a, 0, sizeof *a);
	const uint8_t *key = s->key;
	size_t stride = s->nset + 1;
	int64_t ltc[MAX_LTC] = {0}, ltc_ck[MAX_LTC] = {0};
	a->n = (int64_t)m;
	for (size_t j = 0; j < m; j++) {
		uint32_t i = idx[j];
		unsigned k = key[i];
		const uint8_t *c = s->cat + 4 * (size_t)i;
		a->ck += k;
		if (c[0] != 255) {
			a->pyr[c[0] >> 1][c[0] & 1]++;
			a->pyr_ck[c[0] >> 1][c[0] & 1] += k;
		}
		if (c[1] != 255) {
			a->band[c[1]]++;
			a->band_ck[c[1]] += k;
		}
		if (c[2] != 255) {
			a->tier[c[2]]++;
			a->tier_ck[c[2]] += k;
		}
		if (c[3]) {
			a->emerg_people++;
			a->emerg_ck += k;
		}
		for (uint32_t b = s->ltcmask[i]; b; b &= b - 1) {
			int l = __builtin_ctz(b);
			ltc[l]++;
			ltc_ck[l] += k;
		}
		const int32_t *ac = s->act + (size_t)NACT * i;
		for (int q = 0; q < NACT; q++)
			a->act[q] += ac[q];
		const int64_t *mo = s->money + stride * i;
		a->cost_total += mo[0];
		for (size_t q = 0; q < s->nset; q++)
			a->cost[q] += mo[1 + q];
	}
	memcpy(a->ltc, ltc, sizeof ltc);
	memcpy(a->ltc_ck, ltc_ck, sizeof ltc_ck);
}

/* Packs each person's figures into the row arrays the aggregation reads. */
static int pack(yoc_sel *s)
{
	size_t n = s->n, stride = s->nset + 1;
	s->ltcmask = yoc_calloc(n ? n : 1, sizeof *s->ltcmask);
	s->cat = yoc_malloc(4 * (n ? n : 1));
	s->act = yoc_malloc(sizeof *s->act * NACT * (n ? n : 1));
	s->money = yoc_malloc(sizeof *s->money * stride * (n ? n : 1));
	if (!s->ltcmask || !s->cat || !s->act || !s->money)
		return YOC_ENOMEM;
	for (size_t k = 0; k < s->nltc && k < 32; k++)
		for (size_t i = 0; i < n; i++)
			if (!s->ltc[k].null[i] && s->ltc[k].v[i] != 0)
				s->ltcmask[i] |= UINT32_C(1) << k;
	for (size_t i = 0; i < n; i++) {
		uint8_t *c = s->cat + 4 * i;
		int sx = s->sex.null[i] ? -1 : s->sex.v[i] == s->male ? 0 : s->sex.v[i] == s->female ? 1 : -1;
		c[0] = s->age.null[i] || sx < 0 ? 255 : (uint8_t)(age_band(s->age.v[i]) * 2 + sx);
		int b = s->band.null[i] ? -1 : cat_index(s->bands, s->nbands, s->band.v[i]);
		c[1] = b < 0 ? 255 : (uint8_t)b;
		b = !s->has_tier || s->tier.null[i] ? -1 : cat_index(s->tiers, s->ntiers, s->tier.v[i]);
		c[2] = b < 0 ? 255 : (uint8_t)b;
		c[3] = !s->act_col[0].null[i] && s->act_col[0].v[i] >= 1;
		for (int q = 0; q < NACT; q++)
			s->act[NACT * i + (size_t)q] = s->act_col[q].null[i] ? 0 : (int32_t)s->act_col[q].v[i];
		int64_t *mo = s->money + stride * i;
		mo[0] = s->cost_total.null[i] ? 0 : (int64_t)s->cost_total.v[i];
		for (size_t q = 0; q < s->nset; q++)
			mo[1 + q] = s->set[q].null[i] ? 0 : (int64_t)s->set[q].v[i];
	}
	return 0;
}

/* a -= b, field by field (struct agg is all int64_t) */
static void agg_sub(struct agg *a, const struct agg *b)
{
	int64_t *x = (int64_t *)a;
	const int64_t *y = (const int64_t *)b;
	for (size_t k = 0; k < sizeof *a / sizeof(int64_t); k++)
		x[k] -= y[k];
}

/*
** The rows of bitmap bm as a list, then their sums. A group of more than half
** the people is summed as the population minus the rest (every field is a
** sum, cell-key sums included), so no query walks more than half the rows.
** YOC_ENOMEM if no list.
*/
static int aggregate(const yoc_sel *s, const uint64_t *bm, struct agg *a)
{
	size_t m = 0, words = (s->n + 63) / 64;
	for (size_t w = 0; w < words; w++)
		m += (size_t)__builtin_popcountll(bm[w]);
	int comp = s->pop && m > s->n / 2;
	size_t want = comp ? s->n - m : m;
	uint32_t *idx = yoc_malloc(sizeof *idx * (want ? want : 1));
	if (!idx)
		return YOC_ENOMEM;
	size_t j = 0;
	for (size_t w = 0; w < words; w++) {
		uint64_t b = bm[w];
		if (comp) {
			b = ~b;
			if (w == words - 1 && s->n % 64)
				b &= (UINT64_C(1) << (s->n % 64)) - 1;
		}
		for (; b; b &= b - 1)
			idx[j++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(b));
	}
	aggregate_rows(s, idx, want, a);
	if (comp) {
		struct agg rest = *a;
		*a = *s->pop;
		agg_sub(a, &rest);
	}
	yoc_free(idx);
	return 0;
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

/* field in ('a', 'b'): each value a known text of the column. */
static int text_set(const yoc_sel *s, const struct txtcol *c, const char *field, json_t *v,
		    struct yoc_buf *b, struct yoc_error *e)
{
	(void)c;
	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 1000)
		return bad(e, field, "%s", "must be a list of 1 to 1,000 values");
	part(b);
	yoc_buf_printf(b, "%s in (", field);
	for (size_t i = 0; i < json_array_size(v); i++) {
		json_t *x = json_array_get(v, i);
		const char *t = json_string_value(x);
		if (!t || !text_ok(t) || dict_find(s->frame, t) < 0)
			return bad(e, field, "%s", "has a value that is not in the data");
		yoc_buf_printf(b, "%s'%s'", i ? ", " : "", t);
	}
	yoc_buf_putc(b, ')');
	return 0;
}

static int build_filter(const yoc_sel *s, json_t *f, struct yoc_buf *b, struct yoc_error *e)
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
			}
		} else if (strcmp(k, "ltc_count_min") == 0 || strcmp(k, "ltc_count_max") == 0) {
			if (!(rc = int_field(v, k, 0, 100, &x, e))) {
				part(b);
				yoc_buf_printf(b, "ltc_count %s %ld",
					       strcmp(k, "ltc_count_min") == 0 ? ">=" : "<=", x);
			}
		} else if (strcmp(k, "emergency_min") == 0) {
			if (!(rc = int_field(v, k, 0, 1000, &x, e))) {
				part(b);
				yoc_buf_printf(b, "emergency_admissions >= %ld", x);
			}
		} else if (strcmp(k, "bed_days_min") == 0) {
			if (!(rc = int_field(v, k, 0, 100000, &x, e))) {
				part(b);
				yoc_buf_printf(b, "bed_days >= %ld", x);
			}
		} else if (strcmp(k, "cost_min") == 0) {
			if (!(rc = int_field(v, k, 0, 100000000, &x, e))) {
				part(b);
				yoc_buf_printf(b, "cost_total >= %ld", x * 100);
			}
		} else if (strcmp(k, "sex") == 0) {
			rc = text_set(s, &s->sex, "sex", v, b, e);
		} else if (strcmp(k, "practice") == 0) {
			rc = text_set(s, &s->practice, "practice", v, b, e);
		} else if (strcmp(k, "band") == 0) {
			rc = text_set(s, &s->band, "band", v, b, e);
		} else if (strcmp(k, "tier") == 0) {
			if (!s->has_tier)
				rc = bad(e, k, "%s", "no risk scores in this dataset");
			else
				rc = text_set(s, &s->tier, "tier", v, b, e);
		} else if (strcmp(k, "imd") == 0) {
			if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 10)
				rc = bad(e, k, "%s", "must be a list of deciles 1-10");
			part(b);
			yoc_buf_puts(b, "imd_decile in (");
			for (size_t i = 0; !rc && i < json_array_size(v); i++)
				if (!(rc = int_field(json_array_get(v, i), k, 1, 10, &x, e)))
					yoc_buf_printf(b, "%s%ld", i ? ", " : "", x);
			yoc_buf_putc(b, ')');
		} else if (strcmp(k, "ltc") == 0) {
			ltc = v;
		} else if (strcmp(k, "ltc_mode") == 0) {
			mode = json_string_value(v);
			if (!mode || (strcmp(mode, "and") != 0 && strcmp(mode, "or") != 0))
				rc = bad(e, k, "%s", "must be \"and\" or \"or\"");
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
		for (size_t i = 0; i < json_array_size(ltc); i++) {
			const char *t = json_string_value(json_array_get(ltc, i));
			size_t k2 = 0;
			while (t && k2 < s->nltc && strcmp(s->ltc_name[k2], t) != 0)
				k2++;
			if (!t || k2 == s->nltc)
				return bad(e, "ltc", "%s", "has an unknown condition");
			yoc_buf_printf(b, "%s%s", i ? (mode[0] == 'o' ? " or " : " and ") : "", t);
		}
		yoc_buf_putc(b, ')');
	}
	if (!b->data && b->len == 0)
		return 0;
	return b->data ? 0 : yoc_error_set(e, YOC_ENOMEM, "filters", 0, 0, "out of memory");
}

/* Evaluates text and ANDs its selection into bm. */
static int apply_rule(const yoc_sel *s, const char *text, uint64_t *bm, struct yoc_buf *norm,
		      struct yoc_error *e)
{
	yoc_rule *r = NULL;
	struct yoc_rule_result res;
	memset(&res, 0, sizeof res);
	int rc = yoc_rule_compile(text, s->schema, &r, e);
	if (!rc)
		rc = yoc_rule_eval(r, s->frame, &res, e);
	if (!rc) {
		for (size_t w = 0; w < res.words; w++)
			bm[w] &= res.selected[w];
		if (norm) {
			if (norm->len)
				yoc_buf_puts(norm, " and ");
			yoc_buf_putc(norm, '(');
			yoc_rule_normalised(r, norm);
			yoc_buf_putc(norm, ')');
		}
	}
	yoc_rule_result_free(&res);
	yoc_rule_free(r);
	return rc;
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
			int64_t g = yoc_cellkey_publish((unsigned)a->pyr_ck[b][sx], a->pyr[b][sx]);
			int64_t q = yoc_cellkey_publish((unsigned)p->pyr_ck[b][sx], p->pyr[b][sx]);
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

/*
** The rows a request selects, as a bitmap *bm_out (yoc_free it): the
** filters' rule, the request's rule, then the practice mask for the
** practice role.
*/
static int select_rows(const yoc_sel *s, const char *req, size_t len, int role,
		       const char *practice, uint64_t **bm_out, struct yoc_buf *filter_out,
		       struct yoc_error *e)
{
	json_error_t je;
	json_t *root = NULL;
	struct yoc_buf ftext;
	uint64_t *bm = NULL;
	int rc = 0;
	size_t words = s->n / 64 + 1;

	*bm_out = NULL;
	yoc_buf_init(&ftext, 1 << 16);
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
	if (filters && (rc = build_filter(s, filters, &ftext, e)))
		goto cleanup;
	bm = yoc_malloc(8 * words);
	if (!bm) {
		rc = yoc_error_set(e, YOC_ENOMEM, "request", 0, 0, "out of memory");
		goto cleanup;
	}
	memset(bm, 0xff, 8 * words);
	bm[s->n / 64] = s->n % 64 ? (UINT64_C(1) << (s->n % 64)) - 1 : 0;
	if (ftext.len && (rc = apply_rule(s, ftext.data, bm, filter_out, e)))
		goto cleanup;
	if (rule && *rule && (rc = apply_rule(s, rule, bm, filter_out, e)))
		goto cleanup;
	if (role == YOC_ROLE_PRACTICE) {
		/* the practice's own rows only, whatever the request asked */
		int32_t code = practice && *practice ? dict_find(s->frame, practice) : -1;
		for (size_t i = 0; i < s->n; i++)
			if (s->practice.null[i] || s->practice.v[i] != code)
				bm[i >> 6] &= ~(UINT64_C(1) << (i & 63));
		if (filter_out) {
			if (filter_out->len)
				yoc_buf_puts(filter_out, " and ");
			yoc_buf_printf(filter_out, "(practice = '%s')", practice ? practice : "");
		}
	}
	*bm_out = bm;
	bm = NULL;
cleanup:
	json_decref(root);
	yoc_buf_free(&ftext);
	yoc_free(bm);
	return rc;
}

int yoc_sel_query(const yoc_sel *s, const char *req, size_t len, int role,
		  const char *practice, struct yoc_buf *out, struct yoc_buf *filter_out,
		  struct yoc_error *e)
{
	json_t *resp = NULL;
	uint64_t *bm = NULL;
	struct agg *a = NULL;
	int rc = select_rows(s, req, len, role, practice, &bm, filter_out, e);
	if (rc)
		return rc;
	a = yoc_malloc(sizeof *a);
	if (!a || aggregate(s, bm, a)) {
		rc = yoc_error_set(e, YOC_ENOMEM, "request", 0, 0, "out of memory");
		goto cleanup;
	}
	resp = figures(s, a, s->pop);
	json_object_set_new(resp, "fyear", json_string(s->fyear));
	json_object_set_new(resp, "perturbed", json_true());
	json_object_set_new(resp, "disclosure", json_string(disclosure_note));
	if (filter_out)
		json_object_set_new(resp, "filter",
				    json_string(filter_out->len ? filter_out->data : "(everyone)"));
	rc = dump(resp, out);
cleanup:
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
	uint64_t *bm = NULL;
	int rc = select_rows(s, req, len, role, practice, &bm, filter_out, e);
	*rows = 0;
	if (rc)
		return rc;
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
	json_object_set_new(o, "disclosure", json_string(disclosure_note));
	int rc = dump(o, out);
	json_decref(o);
	return rc;
}

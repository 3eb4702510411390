/*
** Two parts of the quality report that need more than SQL:
**
** Defects by file (section 0): for every current file, the rows carrying
** each defect class, counted once per row, from the load's own records
** (NHS number status, flags, quarantine), the tariff (HRG and currency codes
** the National Cost Collection does not know), the catalog (renamed columns,
** a month sent twice), the file periods (months missing) and the outcome
** fields (a discharge ready date after the discharge, a PAM level that does
** not match its score). These are the counts tests compare with `yoc
** synth`'s manifest.json.
**
** Contract triangulation (section 2): activity priced with the shared
** costing (src/cost/cost.h, the same rules `yoc synth` and the analysis use:
** admitted patient care per spell, in the year and at the provider of
** admission), summed per provider and financial year, set against
** contracts.csv. A month
** with no file is filled pro rata from the months present, so a missing
** month shows as a gap, not as a contract variance.
**
** Reads the dataset only.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quality/quality_int.h"
#include "yoc/date.h"

#define T(i) ((const char *)sqlite3_column_text(st, i))

enum dclass {
	D_NHS_BAD_CHECK = 0, D_NHS_MISSING, D_DATE_FORMAT, D_DATE_RANGE, D_DATE_FUTURE,
	D_UNKNOWN_CODE, D_DUPLICATE_ROW, D_STRAY_QUOTE, D_TRUNCATED, D_MALFORMED,
	D_RENAMED, D_DUPLICATE_FILE, D_COST_MISMATCH,
	/* outcome fields: reported only for the kinds that have them */
	D_READY_AFTER, D_PAM_RANGE, D_PAM_LEVEL, D_NCLASS
};

static const char *const dnames[D_NCLASS] = {
	"nhs_bad_check_digit", "nhs_missing", "date_wrong_format", "date_out_of_range",
	"date_in_future", "unknown_code", "duplicate_row", "stray_quote", "truncated_last_line",
	"malformed_row", "renamed_column", "duplicate_file", "cost_mismatch",
	"ready_after_discharge", "pam_score_out_of_range", "pam_level_mismatch"
};

/* 1 if class c is reported for files of kind k. */
static int class_applies(int c, int k)
{
	if (c == D_READY_AFTER)
		return k == YOC_KIND_APC;
	if (c == D_PAM_RANGE || c == D_PAM_LEVEL)
		return k == YOC_KIND_PAM;
	return 1;
}

/* Defect class of a flag or quarantine reason, or -1. */
static int class_of(const char *reason)
{
	static const struct { const char *r; int c; } m[] = {
		{"date_format", D_DATE_FORMAT}, {"bad_date", D_DATE_RANGE},
		{"date_out_of_range", D_DATE_RANGE}, {"bad_mydob", D_DATE_RANGE},
		{"date_in_future", D_DATE_FUTURE}, {"bad_code", D_UNKNOWN_CODE},
		{"duplicate_row", D_DUPLICATE_ROW}, {"csv_stray_quote", D_STRAY_QUOTE},
		{"csv_unterminated_quote", D_STRAY_QUOTE}, {"csv_truncated", D_TRUNCATED},
		{"csv_ragged_row", D_MALFORMED}, {"csv_nul_byte", D_MALFORMED},
		{"csv_field_too_long", D_MALFORMED}, {"csv_row_too_long", D_MALFORMED},
		{"cost_mismatch", D_COST_MISMATCH}, {"out_of_range", D_PAM_RANGE},
	};
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
		if (strcmp(m[i].r, reason) == 0)
			return m[i].c;
	return -1;
}

/* Defect class of a CSV fault (yoc_csv_fault_str) of a row rejected at source. */
static int class_of_fault(const char *fault)
{
	if (strcmp(fault, "stray_quote") == 0 || strcmp(fault, "unterminated_quote") == 0)
		return D_STRAY_QUOTE;
	if (strcmp(fault, "truncated") == 0)
		return D_TRUNCATED;
	return D_MALFORMED;
}

static int sqlfail(struct q *Q, struct yoc_error *e)
{
	return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "sqlite: %s",
			     sqlite3_errmsg(yoc_store_db(Q->s)));
}

/* Counts a row (class, line) once. */
static int mark(struct yoc_map *seen, int64_t *cnt, int cls, int64_t line)
{
	int64_t key[2] = {cls, line};
	int isnew = 0;
	if (yoc_map_put(seen, key, sizeof key, 1, &isnew))
		return YOC_ENOMEM;
	cnt[cls] += isnew;
	return YOC_OK;
}

/* 1 if the tariff prices code under any point of delivery (cached in known). */
static int tariff_knows(const yoc_tariff *t, struct yoc_map *known, struct yoc_cell c)
{
	uint64_t *v = yoc_map_get(known, c.p, c.n);
	if (v)
		return (int)*v;
	int ok = 0;
	for (int pod = 0; pod < YOC_POD_COUNT && !ok; pod++) {
		int64_t pence;
		ok = yoc_tariff_price(t, pod, c.p, c.n, &pence) == YOC_OK;
	}
	yoc_map_put(known, c.p, c.n, (uint64_t)ok, NULL);
	return ok;
}

/* Rows whose HRG or currency code the tariff does not know. */
static int unknown_currency(struct q *Q, const struct yoc_file_info *f, struct yoc_map *seen,
			    struct yoc_map *known, int64_t *cnt, struct yoc_error *e)
{
	static const char *const cols[] = {"SUSHRG", "CURRENCY_CODE"};
	yoc_seg *g = NULL;
	int rc = yoc_seg_open(Q->s, f->file_id, &g, e);
	if (rc)
		return rc;
	int cl = yoc_seg_col(g, "_LINE");
	for (int k = 0; k < 2 && !rc; k++) {
		int c = yoc_seg_col(g, cols[k]);
		if (c < 0)
			continue;
		for (size_t r = 0; r < yoc_seg_nrows(g) && !rc; r++) {
			struct yoc_cell v = yoc_seg_text(g, c, r);
			if (v.n == 0 || tariff_knows(Q->tariff, known, v))
				continue;
			rc = mark(seen, cnt, D_UNKNOWN_CODE, yoc_seg_int(g, cl, r));
		}
	}
	yoc_seg_close(g);
	if (rc == YOC_ENOMEM)
		rc = yoc_error_set(e, rc, "quality", 0, 0, "out of memory");
	return rc;
}

/* PAM level by the published cut-offs of a score "NN.N" (tenths), or 0. */
static int pam_level_of(struct yoc_cell v)
{
	int tenths = 0, nd = 0;
	size_t i = 0;
	for (; i < v.n && v.p[i] >= '0' && v.p[i] <= '9' && nd < 4; i++, nd++)
		tenths = tenths * 10 + (v.p[i] - '0');
	tenths *= 10;
	if (i + 2 == v.n && v.p[i] == '.' && v.p[i + 1] >= '0' && v.p[i + 1] <= '9')
		tenths += v.p[i + 1] - '0', i += 2;
	if (!nd || i != v.n || tenths > 1000)
		return 0;
	return tenths <= 470 ? 1 : tenths <= 551 ? 2 : tenths <= 670 ? 3 : 4;
}

/*
** Outcome fields checked row by row: in admitted patient care a discharge
** ready date after the discharge date (kept; analyses ignore that date), in
** PAM results a level that does not match the score.
*/
static int outcome_rows(struct q *Q, const struct yoc_file_info *f, struct yoc_map *seen,
			int64_t *cnt, struct yoc_error *e)
{
	if (f->kind != YOC_KIND_APC && f->kind != YOC_KIND_PAM)
		return YOC_OK;
	yoc_seg *g = NULL;
	int rc = yoc_seg_open(Q->s, f->file_id, &g, e);
	if (rc)
		return rc;
	int cl = yoc_seg_col(g, "_LINE");
	if (f->kind == YOC_KIND_APC) {
		int cr = yoc_seg_col(g, "DISREADYDATE"), cd = yoc_seg_col(g, "DISDATE");
		for (size_t r = 0; cr >= 0 && cd >= 0 && r < yoc_seg_nrows(g) && !rc; r++) {
			int32_t ready = yoc_seg_date(g, cr, r), dis = yoc_seg_date(g, cd, r);
			if (ready > YOC_DATE_HES_INVALID && dis > YOC_DATE_HES_INVALID && ready > dis)
				rc = mark(seen, cnt, D_READY_AFTER, yoc_seg_int(g, cl, r));
		}
	} else {
		int cs = yoc_seg_col(g, "PAM_SCORE"), cv = yoc_seg_col(g, "PAM_LEVEL");
		for (size_t r = 0; cs >= 0 && cv >= 0 && r < yoc_seg_nrows(g) && !rc; r++) {
			struct yoc_cell lv = yoc_seg_text(g, cv, r);
			int want = pam_level_of(yoc_seg_text(g, cs, r));
			if (want && lv.n && !(lv.n == 1 && lv.p[0] == '0' + want))
				rc = mark(seen, cnt, D_PAM_LEVEL, yoc_seg_int(g, cl, r));
		}
	}
	yoc_seg_close(g);
	if (rc == YOC_ENOMEM)
		rc = yoc_error_set(e, rc, "quality", 0, 0, "out of memory");
	return rc;
}

static int file_defects(struct q *Q, const struct yoc_file_info *f, struct yoc_map *known,
			struct yoc_error *e)
{
	sqlite3 *db = yoc_store_db(Q->s);
	sqlite3_stmt *st = NULL;
	struct yoc_map seen;
	int64_t cnt[D_NCLASS] = {0};
	int rc = YOC_OK;
	char detail[700];
	if (yoc_map_init(&seen, 64))
		return yoc_error_set(e, YOC_ENOMEM, "quality", 0, 0, "out of memory");
	if (sqlite3_prepare_v2(db, "SELECT status, rows FROM nhsno_status WHERE file_id = ?1",
			       -1, &st, NULL)) {
		rc = sqlfail(Q, e);
		goto cleanup;
	}
	sqlite3_bind_int64(st, 1, f->file_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (strcmp(T(0), "bad_check_digit") == 0)
			cnt[D_NHS_BAD_CHECK] += sqlite3_column_int64(st, 1);
		else if (strcmp(T(0), "missing") == 0)
			cnt[D_NHS_MISSING] += sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT line, reason FROM flags WHERE file_id = ?1 UNION ALL"
			       " SELECT line, reason FROM quarantine WHERE file_id = ?1", -1, &st, NULL)) {
		rc = sqlfail(Q, e);
		goto cleanup;
	}
	sqlite3_bind_int64(st, 1, f->file_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int c = class_of(T(1));
		if (c >= 0 && (rc = mark(&seen, cnt, c, sqlite3_column_int64(st, 0)))) {
			rc = yoc_error_set(e, rc, "quality", 0, 0, "out of memory");
			goto cleanup;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (Q->tariff && (rc = unknown_currency(Q, f, &seen, known, cnt, e)))
		goto cleanup;
	if ((rc = outcome_rows(Q, f, &seen, cnt, e)))
		goto cleanup;
	/* Rows rejected at source as malformed CSV (the file's source account). */
	if (sqlite3_prepare_v2(db, "SELECT rejected_reasons FROM source_account WHERE file_id = ?1"
			       " AND status IN ('matched', 'rows_differ')", -1, &st, NULL)) {
		rc = sqlfail(Q, e);
		goto cleanup;
	}
	sqlite3_bind_int64(st, 1, f->file_id);
	if (sqlite3_step(st) == SQLITE_ROW && T(0)) {
		const char *p = T(0);
		char name[40];
		int64_t n;
		while (yoc__quality_reason_next(&p, name, sizeof name, &n)) {
			int c = class_of_fault(name);
			cnt[c] += n;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	/* Renamed: a column under another name than the provider's other files use. */
	detail[0] = 0;
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT c.name, c.source FROM file_columns c"
			       " WHERE c.file_id = ?1 AND c.source <> c.name AND EXISTS (SELECT 1"
			       " FROM file_columns o JOIN current_files g USING(file_id) WHERE"
			       " g.kind = ?2 AND g.provider = ?3 AND o.file_id <> ?1 AND"
			       " o.source = c.name)", -1, &st, NULL)) {
		rc = sqlfail(Q, e);
		goto cleanup;
	}
	sqlite3_bind_int64(st, 1, f->file_id);
	sqlite3_bind_text(st, 2, yoc_spec_kind_name(f->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, f->provider, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t l = strlen(detail);
		snprintf(detail + l, sizeof detail - l, "%s%s sent as %s", l ? "; " : "", T(0), T(1));
		cnt[D_RENAMED] = f->rows;
	}
	sqlite3_finalize(st);
	st = NULL;
	for (int c = 0; c < D_NCLASS; c++) {
		if (c == D_DUPLICATE_FILE || !class_applies(c, f->kind))
			continue;
		yoc__quality_row(Q, "defects", dnames[c], yoc_spec_kind_name(f->kind), f->provider,
				 f->period, "", (double)cnt[c], NAN, cnt[c] ? "found" : "",
				 c == D_RENAMED && cnt[c] ? detail : f->path);
	}
cleanup:
	sqlite3_finalize(st);
	yoc_map_free(&seen);
	return rc;
}

/* Months (y*12+m-1) of a "YYYY-MM" period, or -1. */
static int month_of(const char *period)
{
	int y, m;
	char extra;
	if (strlen(period) != 7 || sscanf(period, "%4d-%2d%c", &y, &m, &extra) != 2 || m < 1 || m > 12)
		return -1;
	return y * 12 + m - 1;
}

/* Monthly periods with no file, per kind and provider, within the dataset's months. */
static int missing_months(struct q *Q, const struct yoc_file_info *fi, size_t nf)
{
	int lo = -1, hi = -1;
	for (size_t i = 0; i < nf; i++) {
		int m = month_of(fi[i].period);
		if (m < 0)
			continue;
		lo = lo < 0 || m < lo ? m : lo;
		hi = m > hi ? m : hi;
	}
	if (lo < 0)
		return YOC_OK;
	size_t span = (size_t)(hi - lo + 1);
	unsigned char *have = yoc_calloc(span, 1);
	if (!have)
		return YOC_ENOMEM;
	/* files are ordered by kind, provider, period */
	for (size_t i = 0; i < nf;) {
		size_t j = i;
		int monthly = 0;
		memset(have, 0, span);
		while (j < nf && fi[j].kind == fi[i].kind && strcmp(fi[j].provider, fi[i].provider) == 0) {
			int m = month_of(fi[j].period);
			if (m >= 0) {
				have[m - lo] = 1;
				monthly = 1;
			}
			j++;
		}
		for (size_t k = 0; monthly && k < span; k++) {
			if (have[k])
				continue;
			char per[16];
			int m = lo + (int)k;
			snprintf(per, sizeof per, "%04d-%02d", m / 12, m % 12 + 1);
			yoc__quality_row(Q, "defects", "missing_month", yoc_spec_kind_name(fi[i].kind),
					 fi[i].provider, per, "", 1, NAN, "found", "no file for this month");
		}
		i = j;
	}
	yoc_free(have);
	return YOC_OK;
}

int yoc__quality_defects(struct q *Q, struct yoc_error *e)
{
	struct yoc_file_info *fi = NULL;
	size_t nf = 0;
	struct yoc_map known;
	sqlite3_stmt *st = NULL;
	int rc;
	if (!Q->tariff)
		yoc__quality_row(Q, "defects", "unknown_code", "", "", "", "SUSHRG/CURRENCY_CODE", 0,
				 NAN, "skipped", "tariff not loaded: HRG and currency codes not checked");
	if ((rc = yoc_store_files(Q->s, -1, 0, &fi, &nf, e)))
		return rc;
	if (yoc_map_init(&known, 256)) {
		yoc_store_files_free(fi);
		return yoc_error_set(e, YOC_ENOMEM, "quality", 0, 0, "out of memory");
	}
	for (size_t i = 0; i < nf && !rc; i++)
		rc = file_defects(Q, &fi[i], &known, e);
	if (!rc && missing_months(Q, fi, nf))
		rc = yoc_error_set(e, YOC_ENOMEM, "quality", 0, 0, "out of memory");
	if (rc)
		goto cleanup;
	/* The same content sent twice under two names: counted against the copy. */
	if (sqlite3_prepare_v2(yoc_store_db(Q->s), "SELECT f.kind, f.provider, f.period, f.rows,"
			       " d.path, f.path FROM duplicate_files d JOIN files f USING(file_id)"
			       " ORDER BY 1, 2, 3, 5", -1, &st, NULL)) {
		/* a dataset from before the table existed has none */
		rc = YOC_OK;
		goto cleanup;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		char detail[1200];
		snprintf(detail, sizeof detail, "%s (same content as %s)", T(4), T(5));
		yoc__quality_row(Q, "defects", dnames[D_DUPLICATE_FILE], T(0), T(1), T(2), "",
				 sqlite3_column_double(st, 3), NAN, "found", detail);
	}
cleanup:
	sqlite3_finalize(st);
	yoc_map_free(&known);
	yoc_store_files_free(fi);
	return rc;
}

/* ---- contract triangulation -------------------------------------------------- */

struct cost_acc {
	char provider[64];
	int fyear;
	int kind;
	int64_t pence;
	uint32_t months;    /* bit per month of the financial year sent (April = bit 0) */
};

struct costs {
	struct cost_acc *a;
	size_t n, cap;
};

static struct cost_acc *acc_get(struct costs *c, const char *prov, int fyear, int kind)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->a[i].fyear == fyear && c->a[i].kind == kind && strcmp(c->a[i].provider, prov) == 0)
			return &c->a[i];
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 64;
		struct cost_acc *na = yoc_realloc(c->a, nc * sizeof *na);
		if (!na)
			return NULL;
		c->a = na;
		c->cap = nc;
	}
	struct cost_acc *p = &c->a[c->n++];
	memset(p, 0, sizeof *p);
	snprintf(p->provider, sizeof p->provider, "%s", prov);
	p->fyear = fyear;
	p->kind = kind;
	return p;
}

/* Price of row r of a segment of a priced kind; 0 for kinds not priced here
 * (APC: priced by spell, see add_episode). */
static int64_t price_row(const yoc_tariff *t, const yoc_seg *g, const int *c, size_t r)
{
	int64_t pence = 0;
#define CELL(i) yoc_seg_text(g, c[i], r)
	switch (yoc_seg_kind(g)) {
	case YOC_KIND_OP:
		yoc_price_op(t, CELL(5), CELL(4), &pence, NULL);
		break;
	case YOC_KIND_AE:
		yoc_price_ae(t, CELL(4), &pence);
		break;
	case YOC_KIND_COMMUNITY:
		yoc_price_community(t, CELL(5), CELL(6), &pence);
		break;
	case YOC_KIND_MH: {
		int64_t bd = yoc_seg_int(g, c[7], r);
		yoc_price_mh(t, CELL(6), CELL(5), bd == YOC_INT_NONE ? 0 : bd, &pence, NULL);
		break;
	}
	case YOC_KIND_AMBULANCE:
		yoc_price_ambulance(t, CELL(6), &pence);
		break;
	}
#undef CELL
	return pence;
}

/* APC columns read for spells. */
enum { A_PSEUDO, A_SPELL, A_ADMIDATE, A_DISDATE, A_EPIORDER, A_COUNT };

/* Adds APC row r (file i) to the spells: the person by a hash of the
 * pseudonym (rows without one are spells of their own). */
static int add_episode(yoc_spells *sp, const yoc_seg *g, const int *c, const int *a, size_t r,
		       uint32_t file, const char *provider, uint64_t *anon)
{
	struct yoc_apc_epi ep;
	ep.classpat = yoc_seg_text(g, c[0], r);
	ep.admimeth = yoc_seg_text(g, c[1], r);
	ep.sushrg = yoc_seg_text(g, c[4], r);
	ep.epistart = yoc_seg_date(g, c[2], r);
	ep.epiend = yoc_seg_date(g, c[3], r);
	ep.admidate = yoc_seg_date(g, a[A_ADMIDATE], r);
	ep.disdate = yoc_seg_date(g, a[A_DISDATE], r);
	int64_t order = a[A_EPIORDER] >= 0 && yoc_seg_col_type(g, a[A_EPIORDER]) == YOC_COL_INT
			? yoc_seg_int(g, a[A_EPIORDER], r) : YOC_INT_NONE;
	ep.epiorder = order > 0 && order < 100000 ? (int32_t)order : 0;
	ep.feed_cost = INT64_MIN;
	struct yoc_cell who = yoc_seg_text(g, a[A_PSEUDO], r);
	uint64_t owner = who.n ? yoc_hash64(who.p, who.n, 1) | 1 : (++*anon) << 1;
	struct yoc_cell pc = {provider, strlen(provider)};
	return yoc_spells_add(sp, owner, file, yoc_seg_text(g, a[A_SPELL], r), pc, &ep);
}

static int cost_files(struct q *Q, struct costs *C, struct yoc_error *e)
{
	struct yoc_file_info *fi = NULL;
	size_t nf = 0;
	uint64_t anon = 0;
	int rc = yoc_store_files(Q->s, -1, 0, &fi, &nf, e);
	if (rc)
		return rc;
	yoc_spells *sp = yoc_spells_create();
	if (!sp) {
		yoc_store_files_free(fi);
		return yoc_error_set(e, YOC_ENOMEM, "quality", 0, 0, "out of memory");
	}
	static const char *const names[8] = {"CLASSPAT", "ADMIMETH", "EPISTART", "EPIEND",
		"SUSHRG", "ATTENDED", "CURRENCY_CODE", "BED_DAYS"};
	static const char *const anames[A_COUNT] = {"PSEUDO_ID", "SUSSPELLID", "ADMIDATE",
		"DISDATE", "EPIORDER"};
	for (size_t i = 0; i < nf && !rc; i++) {
		int k = fi[i].kind;
		if (k != YOC_KIND_APC && k != YOC_KIND_OP && k != YOC_KIND_AE &&
		    k != YOC_KIND_COMMUNITY && k != YOC_KIND_MH && k != YOC_KIND_AMBULANCE)
			continue;
		yoc_seg *g = NULL;
		if ((rc = yoc_seg_open(Q->s, fi[i].file_id, &g, e)))
			break;
		int c[8], ac[A_COUNT];
		for (int j = 0; j < 8; j++)
			c[j] = yoc_seg_col(g, names[j]);
		for (int j = 0; j < A_COUNT; j++)
			ac[j] = yoc_seg_col(g, anames[j]);
		for (size_t r = 0; r < yoc_seg_nrows(g); r++) {
			int32_t d = yoc_seg_activity_date(g, r);
			if (d <= YOC_DATE_HES_INVALID)
				continue;
			if (k == YOC_KIND_APC) {
				if ((rc = add_episode(sp, g, c, ac, r, (uint32_t)i, fi[i].provider, &anon))) {
					yoc_error_set(e, rc, "quality", 0, 0, "out of memory");
					break;
				}
				continue;
			}
			struct cost_acc *a = acc_get(C, fi[i].provider, yoc_fyear_of(d), k);
			if (!a) {
				rc = yoc_error_set(e, YOC_ENOMEM, "quality", 0, 0, "out of memory");
				break;
			}
			a->pence += price_row(Q->tariff, g, c, r);
		}
		/* months of the financial year this provider sent a file for */
		int pm = month_of(fi[i].period);
		if (!rc && pm >= 0) {
			int fy = (pm % 12) >= 3 ? pm / 12 : pm / 12 - 1;
			struct cost_acc *a = acc_get(C, fi[i].provider, fy, k);
			if (!a)
				rc = yoc_error_set(e, YOC_ENOMEM, "quality", 0, 0, "out of memory");
			else
				a->months |= 1u << ((pm % 12 + 9) % 12);
		}
		yoc_seg_close(g);
	}
	/* each spell at the provider of its first episode's file, in the year of admission */
	struct yoc_spell_view v;
	int more = 0;
	if (!rc)
		yoc_spells_sort(sp);
	while (!rc && (more = yoc_spells_next(sp, &v)) > 0) {
		struct yoc_spell_price pr;
		yoc_price_spell(Q->tariff, v.epi, v.n, &pr);
		struct cost_acc *a = acc_get(C, fi[v.tag[0]].provider, yoc_fyear_of(pr.admitted),
					     YOC_KIND_APC);
		if (!a)
			rc = yoc_error_set(e, YOC_ENOMEM, "quality", 0, 0, "out of memory");
		else
			a->pence += pr.pence;
	}
	if (!rc && more < 0)
		rc = yoc_error_set(e, more, "quality", 0, 0, "out of memory");
	yoc_spells_free(sp);
	yoc_store_files_free(fi);
	return rc;
}

/* Months of financial year fy inside [lo, hi] (months as y*12+m-1). */
static int fy_months_in(int fy, int lo, int hi)
{
	int n = 0;
	for (int m = fy * 12 + 3; m < fy * 12 + 15; m++)
		n += m >= lo && m <= hi;
	return n;
}

int yoc__quality_contracts(struct q *Q, struct yoc_error *e)
{
	if (!Q->o->contracts) {
		yoc__quality_row(Q, "profiling", "contract_triangulation", "", "", "", "", 0, NAN,
				 "skipped", "no contracts.csv given (--contracts)");
		return YOC_OK;
	}
	if (!Q->tariff) {
		yoc__quality_row(Q, "profiling", "contract_triangulation", "", "", "", "", 0, NAN,
				 "skipped", "tariff not loaded (--data): activity cannot be costed");
		return YOC_OK;
	}
	struct costs C = {0};
	yoc_csv *r = NULL;
	struct yoc_csv_opts o = {0};
	int rc = cost_files(Q, &C, e);
	if (rc)
		goto cleanup;
	/* the dataset's months, for the months each financial year should have */
	int lo = -1, hi = -1;
	{
		struct yoc_file_info *fi = NULL;
		size_t nf = 0;
		if ((rc = yoc_store_files(Q->s, -1, 0, &fi, &nf, e)))
			goto cleanup;
		for (size_t i = 0; i < nf; i++) {
			int m = month_of(fi[i].period);
			if (m >= 0) {
				lo = lo < 0 || m < lo ? m : lo;
				hi = m > hi ? m : hi;
			}
		}
		yoc_store_files_free(fi);
	}
	if ((rc = yoc_csv_open(&r, Q->o->contracts, &o, e)))
		goto cleanup;
	int cp = yoc_csv_col(r, "provider"), cs = yoc_csv_col(r, "setting");
	int cf = yoc_csv_col(r, "fyear"), cv = yoc_csv_col(r, "contract_value");
	if (cp < 0 || cf < 0 || cv < 0) {
		rc = yoc_error_set(e, YOC_EPARSE, Q->o->contracts, 1, 0,
				   "contracts need columns provider, fyear, contract_value");
		goto cleanup;
	}
	struct yoc_csv_row row;
	struct yoc_error ce;
	int k;
	while ((k = yoc_csv_next(r, &row, &ce)) != 0) {
		if (k < 0 && row.fault == YOC_CSV_OK) { /* YOC_EIO, YOC_ENOMEM: the reader stopped */
			if (e)
				*e = ce;
			rc = k;
			goto cleanup;
		}
		if (k < 0 || row.ncells <= (size_t)cv)
			continue;
		char prov[64], setting[64] = "";
		int64_t contract;
		int fy;
		snprintf(prov, sizeof prov, "%.*s", (int)row.cells[cp].n, row.cells[cp].p);
		if (cs >= 0)
			snprintf(setting, sizeof setting, "%.*s", (int)row.cells[cs].n, row.cells[cs].p);
		if (yoc_fyear_parse(row.cells[cf].p, row.cells[cf].n, &fy) ||
		    yoc_cell_pence(row.cells[cv], &contract))
			continue;
		/* annualise each feed of the provider by the months it sent */
		double est = 0, raw = 0;
		int expect = fy_months_in(fy, lo, hi), present = 0, feeds = 0;
		for (size_t i = 0; i < C.n; i++) {
			struct cost_acc *a = &C.a[i];
			if (a->fyear != fy || strcmp(a->provider, prov) != 0)
				continue;
			int got = __builtin_popcount(a->months);
			raw += (double)a->pence;
			est += got > 0 && expect > 0 ? (double)a->pence * expect / got : (double)a->pence;
			present += got;
			feeds++;
		}
		char fys[16], detail[400];
		yoc_fyear_format(fy, fys);
		double var = contract ? (est - (double)contract) / (double)contract : NAN;
		snprintf(detail, sizeof detail, "%s: costed activity %.2f in %d feed-months of %d,"
			 " %.2f pro rata; contract %.2f; variance %+.1f%%", setting, raw / 100.0,
			 present, feeds * expect, est / 100.0, (double)contract / 100.0, var * 100);
		yoc__quality_row(Q, "profiling", "contract_triangulation", setting, prov, fys, "",
				 round(est) / 100.0, (double)contract / 100.0,
				 !isnan(var) && fabs(var) > Q->o->contract_tolerance ? "variance" : "",
				 detail);
	}
cleanup:
	yoc_csv_close(r);
	yoc_free(C.a);
	return rc;
}

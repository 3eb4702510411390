/*
** Activity tagging: which of a cohort member's activity rows the capitated
** budget pays. Reads every current activity segment once; a row of someone
** outside the cohort is only counted. A member's row is priced by the rules
** of src/cost (as the analysis prices it), dated, and tagged capitated when
** the date falls in one of the member's register rows and the service map
** puts the activity inside the budget that day. Hospital episodes are
** grouped into spells first: a spell is priced once, dated by its admission
** and decided by its type, POD, dominant HRG and provider; its first episode
** carries the price, the others 0, all with the spell's tag.
** Writes activity_tag (one row per member row) and tag_summary.
**
** With --summary-only the files are read by worker threads: hospital files
** by this thread in catalog order (a spell may span files), every other
** file by whichever worker is free. Each worker has its own memos, sums and
** counts, added together at the end; sums of integers do not depend on the
** order, so the summary is the same for any number of threads. Writing
** activity_tag keeps one thread, so its rows stay in catalog order.
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "budget/budget.h"
#include "spec/spec.h"
#include "yoc/date.h"

static const char *const tag_names[YOC_TAG_KINDS] = {
	"capitated", "outside_map", "outside_membership"
};

const char *yoc_tag_kind_name(int k)
{
	return k >= 0 && k < YOC_TAG_KINDS ? tag_names[k] : "";
}

struct span {
	int32_t join, leave;
};

/*
** A person's membership, by person index: the first register row inline,
** so that one load answers most rows, the others at more[more ..]. n 0: not
** a member of the cohort.
*/
struct member {
	int32_t join, leave;
	uint32_t n, more;
};

/* A member row waiting for its tag (hospital episodes until spells are priced). */
struct trow {
	int64_t file_id;
	uint32_t row;
	int32_t line;
	int32_t person;
	int32_t date;
	int kind, setting;
	int64_t cost;
	char pod[24];
	char hrg[12];
	char provider[64];
	char key[32];           /* the record's key (SUSSPELLID for a hospital episode) */
};

/*
** Memos of pure lookups (prices of a code, decisions of the map), direct
** mapped: a slot holds the last key that hashed to it. A hit gives exactly
** what the lookup would; only time is saved.
*/
#define MEMO_SLOTS 8192
struct pmemo {
	uint8_t used, kind, na, nb;
	char a[24], b[24];
	int64_t pence;   /* per unit for GP minutes and mental health bed days */
	int pod;
};
struct dmemo {
	uint8_t used, setting;
	int16_t epoch;
	char pod[24], hrg[12], provider[64];
	int in;
};

struct tagger {
	const struct yoc_tag_opts *o;
	struct pmemo *pm;
	struct dmemo *dm;
	int32_t *bound;         /* the map's date boundaries, sorted: decisions are
				 * constant between two */
	size_t nbound;
	int text_needed;        /* rows keep provider, HRG and key: the map names
				 * HRGs or providers, or rows are written */
	int map_pod;            /* the map names PODs */
	uint8_t *fast;          /* [setting * (nbound + 1) + epoch]: whole-setting decisions */
	yoc_store *s;
	const struct yoc_person *pp;
	size_t np;
	struct member *mem;     /* [np]: by person index (yoc_seg_person) */
	struct span *more;      /* members' second and later register rows */
	struct trow *apc;       /* members' hospital episodes */
	size_t napc, capc;
	sqlite3_stmt *ins;
	int64_t sum[12 * 40][YOC_BSET_COUNT][YOC_TAG_KINDS][2]; /* by month of 40 years */
	int fy0;
	struct yoc_tag_stats *st;
	struct yoc_tag_stats own;       /* a worker's counts (st points here) */
};

static int member_on(const struct tagger *T, int32_t person, int32_t date)
{
	const struct member *m = &T->mem[person];
	if (m->join <= date && date <= m->leave)
		return 1;
	for (uint32_t k = 1; k < m->n; k++)
		if (T->more[m->more + k - 1].join <= date && date <= T->more[m->more + k - 1].leave)
			return 1;
	return 0;
}

static void copy_cell(char *dst, size_t cap, struct yoc_cell c)
{
	size_t n = c.n < cap - 1 ? c.n : cap - 1;
	memcpy(dst, c.p, n);
	dst[n] = 0;
}

static uint64_t mix(const char *p, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001B3ULL;
	return h;
}

/* The map's decision for r, through the memo. */
static int decide(struct tagger *T, const struct trow *r)
{
	size_t lo = 0, hi = T->nbound;
	while (lo < hi) { /* epoch: how many boundaries are <= the date */
		size_t mid = (lo + hi) / 2;
		if (T->bound[mid] <= r->date)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* whole settings only: the setting and the date's epoch decide */
	if (!T->text_needed && !T->map_pod && r->setting >= 0 && r->setting < YOC_BSET_COUNT)
		return T->fast[(size_t)r->setting * (T->nbound + 1) + lo];
	int16_t epoch = (int16_t)(lo < 32767 ? lo : 32767);
	size_t np = strlen(r->pod), nh = strlen(r->hrg), nv = strlen(r->provider);
	uint64_t h = mix(r->pod, np, 0xcbf29ce484222325ULL ^ (uint64_t)r->setting);
	h = mix(r->hrg, nh, h * 31 + (uint64_t)epoch);
	h = mix(r->provider, nv, h);
	struct dmemo *m = &T->dm[h & (MEMO_SLOTS - 1)];
	if (lo < 32767 && m->used && m->epoch == epoch && m->setting == (uint8_t)r->setting &&
	    strcmp(m->pod, r->pod) == 0 && strcmp(m->hrg, r->hrg) == 0 &&
	    strcmp(m->provider, r->provider) == 0)
		return m->in;
	int in = yoc_smap_decide(T->o->map, r->setting, r->pod, r->hrg, r->provider, r->date, NULL);
	if (np < sizeof m->pod && nh < sizeof m->hrg && nv < sizeof m->provider) {
		m->used = 1;
		m->epoch = epoch;
		m->setting = (uint8_t)r->setting;
		memcpy(m->pod, r->pod, np + 1);
		memcpy(m->hrg, r->hrg, nh + 1);
		memcpy(m->provider, r->provider, nv + 1);
		m->in = in;
	}
	return in;
}

static int emit(struct tagger *T, const struct trow *r, struct yoc_error *e)
{
	int tag;
	if (r->date <= YOC_SPELL_NODATE || !member_on(T, r->person, r->date))
		tag = YOC_TAG_OUTSIDE_MEMBERSHIP;
	else if (!decide(T, r))
		tag = YOC_TAG_OUTSIDE_MAP;
	else
		tag = YOC_TAG_CAPITATED;
	T->st->n[tag]++;
	T->st->cost[tag] += r->cost;
	if (r->date > YOC_SPELL_NODATE && r->setting >= 0) {
		int y, m, d;
		yoc_date_to_ymd(r->date, &y, &m, &d);
		long mi = (long)(y - T->fy0) * 12 + (m - 1);
		if (mi >= 0 && mi < 12 * 40) {
			T->sum[mi][r->setting][tag][0]++;
			T->sum[mi][r->setting][tag][1] += r->cost;
		}
	}
	if (!T->ins)
		return 0;
	sqlite3_stmt *st = T->ins;
	char date[16];
	if (r->date > YOC_SPELL_NODATE)
		yoc_date_format(r->date, date);
	sqlite3_bind_text(st, 1, T->o->cohort, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->file_id);
	sqlite3_bind_int64(st, 3, r->row);
	sqlite3_bind_int64(st, 4, r->line);
	sqlite3_bind_text(st, 5, T->pp[r->person].pseudo, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, yoc_spec_kind_name(r->kind), -1, SQLITE_STATIC);
	if (r->date > YOC_SPELL_NODATE)
		sqlite3_bind_text(st, 7, date, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 7);
	sqlite3_bind_text(st, 8, yoc_budget_setting_name(r->setting), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, r->pod, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 10, r->hrg, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 11, r->provider, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 12, r->cost);
	sqlite3_bind_text(st, 13, tag_names[tag], -1, SQLITE_STATIC);
	if (r->key[0])
		sqlite3_bind_text(st, 14, r->key, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 14);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return yoc_error_set(e, YOC_EIO, "activity_tag", 0, 0, "%s",
				     sqlite3_errmsg(yoc_store_db(T->s)));
	return 0;
}

static int64_t int_of(const yoc_seg *g, int col, size_t r)
{
	if (col < 0)
		return YOC_INT_NONE;
	int t = yoc_seg_col_type(g, col);
	if (t == YOC_COL_INT || t == YOC_COL_MONEY)
		return yoc_seg_int(g, col, r);
	struct yoc_cell c = yoc_seg_text(g, col, r);
	int64_t v = 0;
	size_t i = 0;
	while (i < c.n && c.p[i] == ' ')
		i++;
	if (i == c.n)
		return YOC_INT_NONE;
	for (; i < c.n && c.p[i] != ' '; i++) {
		if (c.p[i] < '0' || c.p[i] > '9' || v > 100000000000LL)
			return YOC_INT_NONE;
		v = v * 10 + (c.p[i] - '0');
	}
	return v;
}

/* The column holding each kind's record key (the billing feed's RECORD_KEY). */
static const char *key_col(int kind)
{
	switch (kind) {
	case YOC_KIND_APC: return "SUSSPELLID";
	case YOC_KIND_OP: return "ATTENDKEY";
	case YOC_KIND_AE: return "AEKEY";
	case YOC_KIND_COMMUNITY: return "CONTACTKEY";
	case YOC_KIND_MH: return "MHKEY";
	case YOC_KIND_GP_APPT: return "APPTKEY";
	case YOC_KIND_AMBULANCE: return "INCIDENTKEY";
	case YOC_KIND_SOCIAL_CARE: return "SERVICEKEY";
	}
	return "";
}

struct cols {
	int key;
	int cost, provider, classpat, admimeth, epiend, admidate, disdate, epiorder, susspellid,
	    hrg, currency, attended, bed_days, hcp, status, duration, units, unit_type,
	    service_type;
};

static void resolve(const yoc_seg *g, int kind, struct cols *c)
{
	c->cost = c->provider = -1;
	const struct yoc_kind_spec *ks = yoc_spec_kind(kind);
	for (size_t i = 0; i < yoc_seg_ncols(g); i++) {
		const char *name = yoc_seg_col_name(g, (int)i);
		const struct yoc_field *f = ks ? yoc_spec_field(ks, name, strlen(name)) : NULL;
		if (f && f->role == YOC_ROLE_COST && c->cost < 0 &&
		    yoc_seg_col_type(g, (int)i) == YOC_COL_MONEY)
			c->cost = (int)i;
		if (f && f->role == YOC_ROLE_PROVIDER && c->provider < 0 &&
		    yoc_seg_col_type(g, (int)i) == YOC_COL_TEXT)
			c->provider = (int)i;
	}
	c->key = yoc_seg_col(g, key_col(kind));
	c->classpat = yoc_seg_col(g, "CLASSPAT");
	c->admimeth = yoc_seg_col(g, "ADMIMETH");
	c->epiend = yoc_seg_col(g, "EPIEND");
	c->admidate = yoc_seg_col(g, "ADMIDATE");
	c->disdate = yoc_seg_col(g, "DISDATE");
	c->epiorder = yoc_seg_col(g, "EPIORDER");
	c->susspellid = yoc_seg_col(g, "SUSSPELLID");
	c->hrg = yoc_seg_col(g, "SUSHRG");
	c->currency = yoc_seg_col(g, "CURRENCY_CODE");
	if (c->hrg < 0)
		c->hrg = c->currency;
	if (c->currency < 0)
		c->currency = c->hrg;
	c->attended = yoc_seg_col(g, "ATTENDED");
	c->bed_days = yoc_seg_col(g, "BED_DAYS");
	c->hcp = yoc_seg_col(g, "HCP_TYPE");
	c->status = yoc_seg_col(g, "APPT_STATUS");
	c->duration = yoc_seg_col(g, "DURATION_MIN");
	c->units = yoc_seg_col(g, "UNITS");
	c->unit_type = yoc_seg_col(g, "UNIT_TYPE");
	c->service_type = yoc_seg_col(g, "SERVICE_TYPE");
}

/* Prices a non-hospital row: setting, POD name and pence. */
static void price_row_raw(const yoc_tariff *t, const yoc_seg *g, int kind, const struct cols *c,
			  size_t r, struct trow *out)
{
	int64_t pence = 0;
	int pod = -1;
	struct yoc_cell none = {"", 0};
	switch (kind) {
	case YOC_KIND_OP:
		out->setting = YOC_BSET_OUTPATIENT;
		yoc_price_op(t, yoc_seg_text(g, c->attended, r), yoc_seg_text(g, c->hrg, r), &pence,
			     &pod);
		break;
	case YOC_KIND_AE:
		out->setting = YOC_BSET_AE;
		pod = YOC_POD_EMERGENCY;
		yoc_price_ae(t, yoc_seg_text(g, c->hrg, r), &pence);
		break;
	case YOC_KIND_COMMUNITY:
		out->setting = YOC_BSET_COMMUNITY;
		pod = YOC_POD_COMMUNITY;
		yoc_price_community(t, yoc_seg_text(g, c->attended, r),
				    yoc_seg_text(g, c->currency, r), &pence);
		break;
	case YOC_KIND_MH: {
		struct yoc_cell cu = yoc_seg_text(g, c->currency, r);
		out->setting = YOC_BSET_MH;
		if (yoc_pod_mh(cu.p, cu.n) == YOC_POD_MH_BEDDAY) {
			int64_t days = int_of(g, c->bed_days, r), unit = 0;
			yoc_price_mh(t, cu, none, 1, &unit, &pod);
			pence = days == YOC_INT_NONE || days < 0 ? 0 : unit * days;
		} else {
			yoc_price_mh(t, cu, yoc_seg_text(g, c->attended, r), 0, &pence, &pod);
		}
		break;
	}
	case YOC_KIND_GP_APPT: {
		int64_t dur = int_of(g, c->duration, r);
		out->setting = YOC_BSET_GP;
		yoc_price_gp(t, yoc_seg_text(g, c->hcp, r), yoc_seg_text(g, c->status, r),
			     dur == YOC_INT_NONE ? -1 : dur, &pence);
		break;
	}
	case YOC_KIND_AMBULANCE:
		out->setting = YOC_BSET_AMBULANCE;
		pod = YOC_POD_AMBULANCE;
		yoc_price_ambulance(t, yoc_seg_text(g, c->currency, r), &pence);
		break;
	case YOC_KIND_SOCIAL_CARE:
		out->setting = YOC_BSET_SOCIAL;
		yoc_price_social_units(t, yoc_seg_text(g, c->service_type, r),
				       yoc_seg_text(g, c->unit_type, r), int_of(g, c->units, r), &pence);
		break;
	default:
		out->setting = -1;
	}
	if (c->cost >= 0) {
		int64_t v = yoc_seg_int(g, c->cost, r);
		if (v != YOC_INT_NONE)
			pence = v;
	}
	out->cost = pence;
	snprintf(out->pod, sizeof out->pod, "%s", pod >= 0 ? yoc_pod_name(pod) : "");
}

/*
** The same through the memo: the price of a row depends only on two codes
** of it (and, for GP minutes and bed days, a quantity it is multiplied by),
** so the lookup is done once per pair of codes.
*/
static void price_row(struct tagger *T, const yoc_seg *g, int kind, const struct cols *c,
		      size_t r, struct trow *out)
{
	struct yoc_cell a = {"", 0}, b = {"", 0};
	int64_t qty = 1;
	int per_unit = 0;
	switch (kind) {
	case YOC_KIND_OP: a = yoc_seg_text(g, c->attended, r); b = yoc_seg_text(g, c->hrg, r); break;
	case YOC_KIND_AE: b = yoc_seg_text(g, c->hrg, r); break;
	case YOC_KIND_COMMUNITY:
		a = yoc_seg_text(g, c->attended, r);
		b = yoc_seg_text(g, c->currency, r);
		break;
	case YOC_KIND_MH:
		b = yoc_seg_text(g, c->currency, r);
		if (yoc_pod_mh(b.p, b.n) == YOC_POD_MH_BEDDAY) {
			per_unit = 1;
			qty = int_of(g, c->bed_days, r);
			if (qty == YOC_INT_NONE || qty < 0)
				qty = 0;
		} else {
			a = yoc_seg_text(g, c->attended, r);
		}
		break;
	case YOC_KIND_GP_APPT:
		a = yoc_seg_text(g, c->hcp, r);
		b = yoc_seg_text(g, c->status, r);
		qty = int_of(g, c->duration, r);
		if (qty == YOC_INT_NONE || qty < 0) {
			price_row_raw(T->o->prices, g, kind, c, r, out);
			return;
		}
		per_unit = 1;
		break;
	case YOC_KIND_AMBULANCE: b = yoc_seg_text(g, c->currency, r); break;
	default:
		price_row_raw(T->o->prices, g, kind, c, r, out);
		return;
	}
	int64_t feed = c->cost >= 0 ? yoc_seg_int(g, c->cost, r) : YOC_INT_NONE;
	if (a.n >= 24 || b.n >= 24) {
		price_row_raw(T->o->prices, g, kind, c, r, out);
		return;
	}
	uint64_t h = mix(a.p, a.n, 0xcbf29ce484222325ULL ^ (uint64_t)kind);
	h = mix(b.p, b.n, h * 31 + a.n);
	struct pmemo *m = &T->pm[h & (MEMO_SLOTS - 1)];
	if (!(m->used && m->kind == kind && m->na == a.n && m->nb == b.n &&
	      memcmp(m->a, a.p, a.n) == 0 && memcmp(m->b, b.p, b.n) == 0)) {
		struct trow x;
		memset(&x, 0, sizeof x);
		int64_t pence = 0;
		int pod = -1;
		switch (kind) {
		case YOC_KIND_OP: yoc_price_op(T->o->prices, a, b, &pence, &pod); break;
		case YOC_KIND_AE: pod = YOC_POD_EMERGENCY; yoc_price_ae(T->o->prices, b, &pence); break;
		case YOC_KIND_COMMUNITY:
			pod = YOC_POD_COMMUNITY;
			yoc_price_community(T->o->prices, a, b, &pence);
			break;
		case YOC_KIND_MH: yoc_price_mh(T->o->prices, b, a, per_unit, &pence, &pod); break;
		case YOC_KIND_GP_APPT: yoc_price_gp(T->o->prices, a, b, 1, &pence); break;
		default:
			pod = YOC_POD_AMBULANCE;
			yoc_price_ambulance(T->o->prices, b, &pence);
		}
		m->used = 1;
		m->kind = (uint8_t)kind;
		m->na = (uint8_t)a.n;
		m->nb = (uint8_t)b.n;
		memcpy(m->a, a.p, a.n);
		memcpy(m->b, b.p, b.n);
		m->pence = pence;
		m->pod = pod;
	}
	static const int set_of[YOC_KIND_COUNT] = {
		[YOC_KIND_OP] = YOC_BSET_OUTPATIENT, [YOC_KIND_AE] = YOC_BSET_AE,
		[YOC_KIND_COMMUNITY] = YOC_BSET_COMMUNITY, [YOC_KIND_MH] = YOC_BSET_MH,
		[YOC_KIND_GP_APPT] = YOC_BSET_GP, [YOC_KIND_AMBULANCE] = YOC_BSET_AMBULANCE,
	};
	out->setting = set_of[kind];
	out->cost = per_unit ? m->pence * qty : m->pence;
	if (feed != YOC_INT_NONE)
		out->cost = feed;
	const char *pn = m->pod >= 0 ? yoc_pod_name(m->pod) : "";
	size_t pl = strlen(pn);
	memcpy(out->pod, pn, pl < sizeof out->pod ? pl + 1 : 1);
}

/*
** The cohort's register rows, read on their own connection (so on another
** thread while this one loads the person table): the pseudonyms copied
** aside, the dates parsed. A row with a bad date is left out.
*/
struct reg_rows {
	const char *dbpath, *cohort;
	struct reg {
		size_t off, len;
		struct span sp;
	} *v;
	size_t n;
	char *txt;
	int rc;
	struct yoc_error e;
};

static void *read_register(void *arg)
{
	struct reg_rows *R = arg;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	size_t cap = 0, ntxt = 0, captxt = 0;
	R->rc = 0;
	if (sqlite3_open_v2(R->dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		R->rc = yoc_error_set(&R->e, YOC_EIO, R->dbpath, 0, 0, "%s",
				      db ? sqlite3_errmsg(db) : "cannot open");
		goto cleanup;
	}
	sqlite3_busy_timeout(db, 10000);
	if (sqlite3_prepare_v2(db, "SELECT pseudo_id, join_date, leave_date FROM cohort_register"
				   " WHERE cohort = ?1", -1, &st, NULL) != SQLITE_OK) {
		R->rc = yoc_error_set(&R->e, YOC_ENOTFOUND, "cohort_register", 0, 0,
				      "no cohort register in the dataset (%s)", sqlite3_errmsg(db));
		goto cleanup;
	}
	sqlite3_bind_text(st, 1, R->cohort, -1, SQLITE_STATIC);
	int sr;
	while ((sr = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		const char *jd = (const char *)sqlite3_column_text(st, 1);
		const char *ld = (const char *)sqlite3_column_text(st, 2);
		size_t len = (size_t)sqlite3_column_bytes(st, 0);
		struct span sp;
		if (!id || !jd || yoc_date_parse(jd, strlen(jd), &sp.join) != YOC_DATE_VALID)
			continue;
		if (!ld)
			sp.leave = INT32_MAX;
		else if (yoc_date_parse(ld, strlen(ld), &sp.leave) != YOC_DATE_VALID)
			continue;
		if (R->n == cap || captxt - ntxt < len) {
			size_t nc = R->n == cap ? (cap ? 2 * cap : 4096) : cap;
			size_t nt = captxt - ntxt < len ? 2 * captxt + len + 65536 : captxt;
			struct reg *nv = yoc_realloc(R->v, nc * sizeof *nv);
			if (nv)
				R->v = nv;
			char *ntx = nv ? yoc_realloc(R->txt, nt) : NULL;
			if (!ntx) {
				R->rc = yoc_error_set(&R->e, YOC_ENOMEM, "tag", 0, 0, "out of memory");
				goto cleanup;
			}
			R->txt = ntx;
			cap = nc;
			captxt = nt;
		}
		memcpy(R->txt + ntxt, id, len);
		R->v[R->n].off = ntxt;
		R->v[R->n].len = len;
		R->v[R->n++].sp = sp;
		ntxt += len;
	}
	if (sr != SQLITE_DONE)
		R->rc = yoc_error_set(&R->e, YOC_EIO, "cohort_register", 0, 0, "%s",
				      sqlite3_errmsg(db));
cleanup:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return NULL;
}

/*
** The register rows by person index: their persons looked up together
** (the lookups' cache misses overlap), then each person's first row inline
** and the others in T->more. Rows of people not in the person table are
** left out.
*/
static int place_members(struct tagger *T, const struct reg_rows *R, struct yoc_error *e)
{
	struct yoc_map_key *keys = NULL;
	int32_t *who = NULL;
	uint32_t *fill = NULL;
	size_t n = R->n, nmore = 0, nmem = 0;
	int rc = 0;
	T->mem = yoc_calloc(T->np ? T->np : 1, sizeof *T->mem);
	keys = yoc_malloc((n ? n : 1) * sizeof *keys);
	who = yoc_malloc((n ? n : 1) * sizeof *who);
	if (!T->mem || !keys || !who) {
		rc = yoc_error_set(e, YOC_ENOMEM, "tag", 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		keys[i].p = R->txt + R->v[i].off;
		keys[i].n = R->v[i].len;
	}
	yoc_store_person_indexes(T->s, keys, n, who);
	for (size_t i = 0; i < n; i++)
		if (who[i] >= 0) {
			T->mem[who[i]].n++;
			nmem++;
		}
	if (nmem == 0) {
		rc = yoc_error_set(e, YOC_ENOTFOUND, "cohort_register", 0, 0,
				   "cohort '%s' has no register rows of people in the dataset",
				   T->o->cohort);
		goto cleanup;
	}
	for (size_t p = 0; p < T->np; p++) {
		T->mem[p].more = (uint32_t)nmore;
		nmore += T->mem[p].n > 1 ? T->mem[p].n - 1 : 0;
	}
	T->more = yoc_malloc((nmore ? nmore : 1) * sizeof *T->more);
	fill = yoc_calloc(T->np ? T->np : 1, sizeof *fill);
	if (!T->more || !fill) {
		rc = yoc_error_set(e, YOC_ENOMEM, "tag", 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		if (who[i] < 0)
			continue;
		struct member *m = &T->mem[who[i]];
		uint32_t k = fill[who[i]]++;
		if (k == 0) {
			m->join = R->v[i].sp.join;
			m->leave = R->v[i].sp.leave;
		} else {
			T->more[m->more + k - 1] = R->v[i].sp;
		}
	}
cleanup:
	yoc_free(keys);
	yoc_free(who);
	yoc_free(fill);
	return rc;
}

/* The person table on this thread, the register rows on another, then the members. */
static int load_members(struct tagger *T, struct yoc_error *e)
{
	char dbpath[4200];
	struct reg_rows R;
	memset(&R, 0, sizeof R);
	snprintf(dbpath, sizeof dbpath, "%s/yoc.db", yoc_store_dir(T->s));
	R.dbpath = dbpath;
	R.cohort = T->o->cohort;
	yoc_error_clear(&R.e);
	pthread_t tid;
	int threaded = pthread_create(&tid, NULL, read_register, &R) == 0;
	int rc = yoc_store_persons(T->s, &T->pp, &T->np, e);
	if (threaded)
		pthread_join(tid, NULL);
	else
		read_register(&R);
	if (!rc && R.rc) {
		rc = R.rc;
		*e = R.e;
	}
	if (!rc)
		rc = place_members(T, &R, e);
	yoc_free(R.v);
	yoc_free(R.txt);
	return rc;
}

static int push_apc(struct tagger *T, const struct trow *r)
{
	if (T->napc == T->capc) {
		size_t nc = T->capc ? T->capc * 2 : 4096;
		struct trow *n = yoc_realloc(T->apc, nc * sizeof *n);
		if (!n)
			return YOC_ENOMEM;
		T->apc = n;
		T->capc = nc;
	}
	T->apc[T->napc++] = *r;
	return 0;
}

static int spell_setting(int type)
{
	return type == YOC_SPELL_DAYCASE    ? YOC_BSET_DAYCASE
	       : type == YOC_SPELL_ELECTIVE ? YOC_BSET_ELECTIVE
					    : YOC_BSET_NONELECTIVE;
}

static int read_file(struct tagger *T, const struct yoc_file_info *fi, const yoc_seg *g,
		     yoc_spells *sp, struct yoc_error *e)
{
	int rc = 0;
	int kind = yoc_seg_kind(g);
	struct cols c;
	resolve(g, kind, &c);
	int line_col = yoc_seg_col(g, "_LINE");
	int pcol = yoc_seg_col(g, "PSEUDO_ID");
	size_t n = yoc_seg_nrows(g);
	T->st->rows += (int64_t)n;
	/* a row's member entry is a cache miss: the entry of the row AHEAD rows
	 * on is loaded early, so the misses overlap */
	enum { AHEAD = 16 };
	for (size_t r = 0; r < n; r++) {
		if (pcol < 0)
			break;
		if (r + AHEAD < n) {
			int32_t q = yoc_seg_person(g, r + AHEAD);
			if (q >= 0)
				__builtin_prefetch(&T->mem[q]);
		}
		int32_t p = yoc_seg_person(g, r);
		if (p < 0 || T->mem[p].n == 0)
			continue;
		T->st->member_rows++;
		struct trow tr;
		tr.pod[0] = tr.hrg[0] = tr.provider[0] = tr.key[0] = 0;
		tr.cost = 0;
		tr.setting = -1;
		tr.file_id = fi->file_id;
		tr.row = (uint32_t)r;
		tr.line = (int32_t)yoc_seg_int(g, line_col, r);
		tr.person = p;
		tr.kind = kind;
		tr.date = yoc_seg_activity_date(g, r);
		struct yoc_cell pv = yoc_seg_text(g, c.provider, r);
		if (T->text_needed || kind == YOC_KIND_APC) {
			if (pv.n)
				copy_cell(tr.provider, sizeof tr.provider, pv);
			else
				snprintf(tr.provider, sizeof tr.provider, "%s", fi->provider);
			copy_cell(tr.hrg, sizeof tr.hrg, yoc_seg_text(g, c.hrg, r));
		}
		if (T->text_needed && c.key >= 0) {
			char kb[64];
			const char *kt = NULL;
			size_t kn = yoc_seg_format(g, c.key, r, kb, sizeof kb, &kt);
			struct yoc_cell kc = {kt ? kt : kb, kn};
			copy_cell(tr.key, sizeof tr.key, kc);
		}
		if (kind == YOC_KIND_APC) {
			struct yoc_apc_epi ep;
			ep.classpat = yoc_seg_text(g, c.classpat, r);
			ep.admimeth = yoc_seg_text(g, c.admimeth, r);
			ep.sushrg = yoc_seg_text(g, c.hrg, r);
			ep.admidate = yoc_seg_date(g, c.admidate, r);
			ep.disdate = yoc_seg_date(g, c.disdate, r);
			ep.epistart = tr.date;
			ep.epiend = yoc_seg_date(g, c.epiend, r);
			int64_t order = int_of(g, c.epiorder, r);
			ep.epiorder = order > 0 && order < 100000 ? (int32_t)order : 0;
			ep.feed_cost = c.cost >= 0 ? yoc_seg_int(g, c.cost, r) : INT64_MIN;
			if (ep.feed_cost == YOC_INT_NONE)
				ep.feed_cost = INT64_MIN;
			if (T->napc >= UINT32_MAX || push_apc(T, &tr) ||
			    yoc_spells_add(sp, (uint64_t)p, (uint32_t)(T->napc - 1),
					   yoc_seg_text(g, c.susspellid, r), pv, &ep)) {
				rc = yoc_error_set(e, YOC_ENOMEM, "tag", 0, 0, "out of memory");
				break;
			}
			continue;
		}
		price_row(T, g, kind, &c, r, &tr);
		if (tr.setting < 0)
			continue;
		if ((rc = emit(T, &tr, e)))
			break;
	}
	return rc;
}

/* Opens fi's segment (by its name: workers need no catalog) and tags its rows. */
static int tag_file(struct tagger *T, const struct yoc_file_info *fi, yoc_spells *sp,
		    struct yoc_error *e)
{
	yoc_seg *g = NULL;
	int rc = yoc_seg_open_file(T->s, fi, &g, e);
	if (rc == 0)
		rc = read_file(T, fi, g, sp, e);
	yoc_seg_close(g);
	return rc;
}

static int do_spells(struct tagger *T, yoc_spells *sp, struct yoc_error *e)
{
	if (yoc_spells_sort(sp))
		return yoc_error_set(e, YOC_ENOMEM, "tag", 0, 0, "out of memory");
	struct yoc_spell_view v;
	int got;
	while ((got = yoc_spells_next(sp, &v)) == 1) {
		struct yoc_spell_price pr;
		yoc_price_spell(T->o->prices, v.epi, v.n, &pr);
		T->st->spells++;
		const struct trow *dom = &T->apc[v.tag[pr.dominant]];
		for (size_t k = 0; k < v.n; k++) {
			struct trow r = T->apc[v.tag[k]];
			r.date = pr.admitted;
			r.setting = spell_setting(pr.type);
			r.cost = k == 0 ? pr.pence : 0;
			snprintf(r.pod, sizeof r.pod, "%s", yoc_pod_name(pr.pod));
			snprintf(r.hrg, sizeof r.hrg, "%s", dom->hrg);
			snprintf(r.provider, sizeof r.provider, "%s", T->apc[v.tag[0]].provider);
			int rc = emit(T, &r, e);
			if (rc)
				return rc;
		}
	}
	return got < 0 ? yoc_error_set(e, YOC_ENOMEM, "tag", 0, 0, "out of memory") : 0;
}

/* ---- workers ---------------------------------------------------------------- */

struct tag_run {
	pthread_mutex_t lock;
	const struct yoc_file_info *files; /* the files other than hospital ones */
	size_t nfiles, next;
	int failed;
	struct yoc_error err;
};

struct tag_worker {
	struct tag_run *R;
	struct tagger *T;
};

static void *tag_work(void *arg)
{
	struct tag_worker *w = arg;
	struct tag_run *R = w->R;
	for (;;) {
		pthread_mutex_lock(&R->lock);
		if (R->failed || R->next == R->nfiles) {
			pthread_mutex_unlock(&R->lock);
			break;
		}
		const struct yoc_file_info *f = &R->files[R->next++];
		pthread_mutex_unlock(&R->lock);
		struct yoc_error e;
		yoc_error_clear(&e);
		int rc = tag_file(w->T, f, NULL, &e);
		if (rc) {
			pthread_mutex_lock(&R->lock);
			if (!R->failed) {
				R->failed = rc;
				R->err = e;
			}
			pthread_mutex_unlock(&R->lock);
			break;
		}
	}
	return NULL;
}

/* A worker's tagger: T's shared tables, its own memos, sums and counts. */
static struct tagger *fork_tagger(const struct tagger *T)
{
	struct tagger *W = yoc_malloc(sizeof *W);
	if (!W)
		return NULL;
	memcpy(W, T, sizeof *W);
	memset(W->sum, 0, sizeof W->sum);
	memset(&W->own, 0, sizeof W->own);
	W->st = &W->own;
	W->apc = NULL;
	W->napc = W->capc = 0;
	W->ins = NULL;
	W->pm = yoc_calloc(MEMO_SLOTS, sizeof *W->pm);
	W->dm = yoc_calloc(MEMO_SLOTS, sizeof *W->dm);
	if (!W->pm || !W->dm) {
		yoc_free(W->pm);
		yoc_free(W->dm);
		yoc_free(W);
		return NULL;
	}
	return W;
}

static void join_tagger(struct tagger *T, struct tagger *W)
{
	T->st->rows += W->own.rows;
	T->st->member_rows += W->own.member_rows;
	for (int k = 0; k < YOC_TAG_KINDS; k++) {
		T->st->n[k] += W->own.n[k];
		T->st->cost[k] += W->own.cost[k];
	}
	for (int mi = 0; mi < 12 * 40; mi++)
		for (int s = 0; s < YOC_BSET_COUNT; s++)
			for (int k = 0; k < YOC_TAG_KINDS; k++) {
				T->sum[mi][s][k][0] += W->sum[mi][s][k][0];
				T->sum[mi][s][k][1] += W->sum[mi][s][k][1];
			}
}

/*
** Tags every activity file, then the hospital spells. One thread: catalog
** order. More: the others take non-hospital files from a queue while this
** thread reads the hospital files in order (their episodes become spells
** here), tags the spells and then joins them.
*/
static int tag_files(struct tagger *T, const struct yoc_file_info *fi, size_t nf, yoc_spells *sp,
		     int nt, struct yoc_error *e)
{
	struct yoc_file_info *rest = NULL;
	size_t nrest = 0;
	int rc = 0;
	if (nt > 1) {
		rest = yoc_malloc((nf ? nf : 1) * sizeof *rest);
		if (!rest)
			return yoc_error_set(e, YOC_ENOMEM, "tag", 0, 0, "out of memory");
		for (size_t i = 0; i < nf; i++)
			if (fi[i].kind != YOC_KIND_APC && yoc_spec_kind_activity(fi[i].kind))
				rest[nrest++] = fi[i];
		if ((size_t)nt > nrest + 1)
			nt = (int)nrest + 1;
	}
	if (nt <= 1) {
		for (size_t i = 0; i < nf && !rc; i++)
			if (yoc_spec_kind_activity(fi[i].kind))
				rc = tag_file(T, &fi[i], sp, e);
		yoc_free(rest);
		return rc ? rc : do_spells(T, sp, e);
	}
	struct tag_run R;
	memset(&R, 0, sizeof R);
	pthread_mutex_init(&R.lock, NULL);
	R.files = rest;
	R.nfiles = nrest;
	struct tag_worker *w = yoc_calloc((size_t)nt, sizeof *w);
	pthread_t *tid = yoc_calloc((size_t)nt, sizeof *tid);
	int started = 0;
	if (!w || !tid) {
		rc = yoc_error_set(e, YOC_ENOMEM, "tag", 0, 0, "out of memory");
		goto cleanup;
	}
	for (int i = 0; i < nt; i++) {
		w[i].R = &R;
		if (!(w[i].T = fork_tagger(T))) {
			rc = yoc_error_set(e, YOC_ENOMEM, "tag", 0, 0, "out of memory");
			goto cleanup;
		}
	}
	for (int i = 1; i < nt; i++) {
		if (pthread_create(&tid[i], NULL, tag_work, &w[i]) != 0)
			break;
		started = i;
	}
	/* this thread: the hospital files in catalog order, their spells, then the queue */
	for (size_t i = 0; i < nf && !rc; i++)
		if (fi[i].kind == YOC_KIND_APC)
			rc = tag_file(T, &fi[i], sp, e);
	if (!rc)
		rc = do_spells(T, sp, e);
	if (rc) {
		pthread_mutex_lock(&R.lock);
		if (!R.failed)
			R.failed = rc; /* the error is in *e already */
		pthread_mutex_unlock(&R.lock);
	} else {
		tag_work(&w[0]);
	}
	for (int i = 1; i <= started; i++)
		pthread_join(tid[i], NULL);
	if (!rc && R.failed) {
		rc = R.failed;
		*e = R.err;
	}
	if (!rc)
		for (int i = 0; i < nt; i++)
			join_tagger(T, w[i].T);
cleanup:
	for (int i = 0; w && i < nt; i++)
		if (w[i].T) {
			yoc_free(w[i].T->pm);
			yoc_free(w[i].T->dm);
			yoc_free(w[i].T);
		}
	yoc_free(w);
	yoc_free(tid);
	yoc_free(rest);
	pthread_mutex_destroy(&R.lock);
	return rc;
}

static int exec(sqlite3 *db, const char *sql, struct yoc_error *e)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return YOC_EIO;
	}
	return 0;
}

static int write_summary(struct tagger *T, sqlite3 *db, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "INSERT INTO tag_summary VALUES(?1, ?2, ?3, ?4, ?5, ?6)", -1,
			       &st, NULL) != SQLITE_OK)
		return yoc_error_set(e, YOC_EIO, "tag_summary", 0, 0, "%s", sqlite3_errmsg(db));
	int rc = 0;
	for (int mi = 0; mi < 12 * 40 && !rc; mi++)
		for (int s = 0; s < YOC_BSET_COUNT && !rc; s++)
			for (int k = 0; k < YOC_TAG_KINDS; k++) {
				if (!T->sum[mi][s][k][0])
					continue;
				char month[16];
				snprintf(month, sizeof month, "%04d-%02d", T->fy0 + mi / 12, mi % 12 + 1);
				sqlite3_bind_text(st, 1, T->o->cohort, -1, SQLITE_STATIC);
				sqlite3_bind_text(st, 2, month, -1, SQLITE_TRANSIENT);
				sqlite3_bind_text(st, 3, yoc_budget_setting_name(s), -1, SQLITE_STATIC);
				sqlite3_bind_text(st, 4, tag_names[k], -1, SQLITE_STATIC);
				sqlite3_bind_int64(st, 5, T->sum[mi][s][k][0]);
				sqlite3_bind_int64(st, 6, T->sum[mi][s][k][1]);
				if (sqlite3_step(st) != SQLITE_DONE) {
					rc = yoc_error_set(e, YOC_EIO, "tag_summary", 0, 0, "%s",
							   sqlite3_errmsg(db));
					break;
				}
				sqlite3_reset(st);
			}
	sqlite3_finalize(st);
	return rc;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_i32(const void *x, const void *y)
{
	int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
	return (a > b) - (a < b);
}

int yoc_budget_tag(yoc_store *s, const struct yoc_tag_opts *o, struct yoc_tag_stats *st,
		   struct yoc_error *e)
{
	memset(st, 0, sizeof *st);
	double t0 = now_s(), t1 = 0;
	struct tagger *T = yoc_calloc(1, sizeof *T);
	struct yoc_file_info *fi = NULL;
	yoc_spells *sp = NULL;
	size_t nf = 0;
	int rc = 0, began = 0;
	sqlite3 *db = yoc_store_db(s);
	if (!T)
		return yoc_error_set(e, YOC_ENOMEM, "tag", 0, 0, "out of memory");
	T->o = o;
	T->s = s;
	T->st = st;
	T->fy0 = 1990;
	size_t nl = yoc_smap_count(o->map);
	T->pm = yoc_calloc(MEMO_SLOTS, sizeof *T->pm);
	T->dm = yoc_calloc(MEMO_SLOTS, sizeof *T->dm);
	T->bound = yoc_malloc((2 * nl + 1) * sizeof *T->bound);
	if (!T->pm || !T->dm || !T->bound) {
		rc = yoc_error_set(e, YOC_ENOMEM, "tag", 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < nl; i++) {
		const struct yoc_smap_line *l = yoc_smap_line_at(o->map, i);
		T->bound[T->nbound++] = l->from;
		if (l->to != INT32_MAX)
			T->bound[T->nbound++] = l->to + 1;
	}
	qsort(T->bound, T->nbound, sizeof *T->bound, cmp_i32);
	T->fast = yoc_malloc((size_t)YOC_BSET_COUNT * (T->nbound + 1));
	if (!T->fast) {
		rc = yoc_error_set(e, YOC_ENOMEM, "tag", 0, 0, "out of memory");
		goto cleanup;
	}
	for (int set = 0; set < YOC_BSET_COUNT; set++)
		for (size_t k = 0; k <= T->nbound; k++)
			T->fast[(size_t)set * (T->nbound + 1) + k] = (uint8_t)yoc_smap_decide(
				o->map, set, "", "", "", k ? T->bound[k - 1] : INT32_MIN + 3, NULL);
	T->text_needed = o->write_rows;
	for (size_t i = 0; i < nl; i++) {
		const struct yoc_smap_line *l = yoc_smap_line_at(o->map, i);
		if (l->hrg[0] || l->provider[0])
			T->text_needed = 1;
		if (l->pod[0])
			T->map_pod = 1;
	}
	if ((rc = load_members(T, e)) ||
	    (rc = yoc_store_files(s, -1, 0, &fi, &nf, e)))
		goto cleanup;
	if (!(sp = yoc_spells_create())) {
		rc = yoc_error_set(e, YOC_ENOMEM, "tag", 0, 0, "out of memory");
		goto cleanup;
	}
	t1 = now_s();
	st->sec_setup = t1 - t0;
	if ((rc = exec(db, "BEGIN IMMEDIATE", e)))
		goto cleanup;
	began = 1;
	if ((rc = exec(db, "CREATE TABLE IF NOT EXISTS activity_tag(cohort TEXT NOT NULL,"
			   " file_id INTEGER NOT NULL, row INTEGER NOT NULL, line INTEGER,"
			   " pseudo_id TEXT NOT NULL, kind TEXT NOT NULL, activity_date TEXT,"
			   " setting TEXT NOT NULL, pod TEXT, hrg TEXT, provider TEXT,"
			   " cost INTEGER NOT NULL, tag TEXT NOT NULL, record_key TEXT);"
			   "CREATE TABLE IF NOT EXISTS tag_summary(cohort TEXT NOT NULL,"
			   " month TEXT NOT NULL, setting TEXT NOT NULL, tag TEXT NOT NULL,"
			   " rows INTEGER NOT NULL, cost INTEGER NOT NULL);", e)))
		goto cleanup;
	sqlite3_stmt *del = NULL;
	static const char *const dels[] = {"DELETE FROM activity_tag WHERE cohort = ?1",
					   "DELETE FROM tag_summary WHERE cohort = ?1"};
	for (int k = 0; k < 2; k++) {
		if (sqlite3_prepare_v2(db, dels[k], -1, &del, NULL) != SQLITE_OK) {
			rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
			goto cleanup;
		}
		sqlite3_bind_text(del, 1, o->cohort, -1, SQLITE_STATIC);
		int sr = sqlite3_step(del);
		sqlite3_finalize(del);
		if (sr != SQLITE_DONE) {
			rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
			goto cleanup;
		}
	}
	if (o->write_rows &&
	    sqlite3_prepare_v2(db, "INSERT INTO activity_tag VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7,"
				   " ?8, ?9, ?10, ?11, ?12, ?13, ?14)", -1, &T->ins, NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
		goto cleanup;
	}
	int nt = o->threads;
	if (nt <= 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		nt = c < 1 ? 1 : c > 8 ? 8 : (int)c;
	}
	if (T->ins)
		nt = 1; /* activity_tag rows in catalog order */
	if ((rc = tag_files(T, fi, nf, sp, nt, e)))
		goto cleanup;
	t0 = now_s();
	st->sec_files = t0 - t1;
	if ((rc = write_summary(T, db, e)))
		goto cleanup;
	sqlite3_finalize(T->ins);
	T->ins = NULL;
	if ((rc = exec(db, "COMMIT", e)))
		goto cleanup;
	began = 0;
	st->sec_write = now_s() - t0;
cleanup:
	if (T->ins)
		sqlite3_finalize(T->ins);
	if (began)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	yoc_spells_free(sp);
	yoc_store_files_free(fi);
	yoc_free(T->mem);
	yoc_free(T->more);
	yoc_free(T->pm);
	yoc_free(T->dm);
	yoc_free(T->fast);
	yoc_free(T->bound);
	yoc_free(T->apc);
	yoc_free(T);
	return rc;
}

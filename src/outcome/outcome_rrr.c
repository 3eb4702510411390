/*
** The RRR audit and the discharge model (rrr.h, docs/outcomes.md "RRR
** audit"). Reads the APC episodes of the store, groups them into spells with
** src/cost's grouping (yoc_spells_*) and dates them with its rules
** (yoc_price_spell), keeps one row per spell with a discharge ready date in
** rrr_spell, aggregates it in SQL into the audit tables, and replays the
** nightly occupancy of the spells that needed RRR or were delayed, before
** and after each cut of delays. Writes only its own rrr_* tables, in one
** transaction; never prints.
*/
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "outcome/rrr.h"
#include "yoc/date.h"

static const char *const reason_names[YOC_RRR_NREASON] = {"NO_SERVICE", "ASSESSMENT",
	"RESIDENTIAL", "HOME", "UNKNOWN"};

const char *yoc_rrr_reason_name(int reason)
{
	if (reason == YOC_RRR_ALL)
		return "ALL";
	return reason >= 0 && reason < YOC_RRR_NREASON ? reason_names[reason] : "?";
}

int yoc_rrr_reason_parse(const char *s, size_t n)
{
	if (n == 3 && memcmp(s, "ALL", 3) == 0)
		return YOC_RRR_ALL;
	for (int r = 0; r < YOC_RRR_NREASON; r++)
		if (strlen(reason_names[r]) == n && memcmp(reason_names[r], s, n) == 0)
			return r;
	return -1;
}

int yoc_rrr_cut_parse(const char *s, size_t n, struct yoc_rrr_cut *out, struct yoc_error *e)
{
	size_t i = 0;
	while (i < n && s[i] != '=')
		i++;
	if (i == 0)
		return yoc_error_set(e, YOC_EPARSE, "--cut", 1, 1,
				     "expected REASON=PERCENT (reasons: NO_SERVICE, ASSESSMENT, "
				     "RESIDENTIAL, HOME, UNKNOWN, ALL)");
	for (size_t k = 0; k < i; k++)
		if (!((s[k] >= 'A' && s[k] <= 'Z') || s[k] == '_'))
			return yoc_error_set(e, YOC_EPARSE, "--cut", 1, (long)k + 1,
					     "a reason is upper-case letters and '_' (NO_SERVICE, "
					     "ASSESSMENT, RESIDENTIAL, HOME, UNKNOWN, ALL)");
	int r = yoc_rrr_reason_parse(s, i);
	if (r == -1)
		return yoc_error_set(e, YOC_EPARSE, "--cut", 1, 1,
				     "'%.*s' is not a delay reason (NO_SERVICE, ASSESSMENT, "
				     "RESIDENTIAL, HOME, UNKNOWN, ALL)",
				     (int)(i > 40 ? 40 : i), s);
	int pct = 50;
	if (i < n) {
		size_t k = i + 1;
		if (k == n)
			return yoc_error_set(e, YOC_EPARSE, "--cut", 1, (long)k + 1,
					     "expected a percentage 0 to 100 after '='");
		long v = 0;
		for (; k < n; k++) {
			if (s[k] < '0' || s[k] > '9')
				return yoc_error_set(e, YOC_EPARSE, "--cut", 1, (long)k + 1,
						     "a percentage is a whole number 0 to 100");
			v = v * 10 + (s[k] - '0');
			if (v > 100)
				return yoc_error_set(e, YOC_EPARSE, "--cut", 1, (long)i + 2,
						     "a percentage is at most 100");
		}
		pct = (int)v;
	}
	out->reason = r;
	out->pct = pct;
	return 0;
}

int32_t yoc_rrr_cut_days(int32_t delay, int pct)
{
	if (delay <= 0 || pct <= 0)
		return 0;
	if (pct >= 100)
		return delay;
	return (int32_t)(((int64_t)delay * pct + 50) / 100);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

int yoc_rrr_occupancy(const struct yoc_rrr_stay *s, size_t n, int reason, int pct,
		      int32_t from, int32_t to, struct yoc_rrr_occ *out, struct yoc_error *e)
{
	memset(out, 0, sizeof *out);
	out->from = from;
	out->to = to;
	if (to <= from || (int64_t)to - from > 100000)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
				     "occupancy window of %lld days (1 to 100,000)",
				     (long long)to - from);
	size_t nd = (size_t)(to - from);
	/* arrivals +1 on the night of admission, departures -1 on the night of
	 * discharge: the running sum is the census at each midnight */
	int64_t *d = yoc_calloc(nd + 1, sizeof *d);
	if (!d)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int32_t a = s[i].admitted, b = s[i].discharged;
		if (s[i].delay > 0 && (reason == YOC_RRR_ALL || reason == s[i].reason))
			b -= yoc_rrr_cut_days(s[i].delay, pct);
		if (b < a)
			b = a;
		if (a < from)
			a = from;
		if (b > to)
			b = to;
		if (b <= a)
			continue;
		d[a - from]++;
		d[b - from]--;
	}
	int64_t run = 0;
	long double sum = 0;
	for (size_t k = 0; k < nd; k++) {
		run += d[k];
		d[k] = run;
		sum += run;
		if (run > out->max)
			out->max = run;
	}
	out->bed_days = (int64_t)sum;
	out->mean = (double)(sum / (long double)nd);
	qsort(d, nd, sizeof *d, cmp_i64);
	/* nearest rank: the smallest value with at least 95% of nights at or below it */
	size_t rank = (size_t)ceil(0.95 * (double)nd);
	if (rank < 1)
		rank = 1;
	out->p95 = d[rank - 1];
	yoc_free(d);
	return 0;
}

/* ---- reading the spells ---------------------------------------------------- */

static int known(int32_t d)
{
	return d > YOC_DATE_HES_INVALID;
}

/* What the spell rules do not read, per episode (the spell view's tag). */
struct epx {
	int32_t ready;
	char need;          /* 'Y', 'N' or 0 */
	signed char reason; /* enum yoc_rrr_reason, -1 none */
	char provider[16];
	char dest[4];
	char spellid[40];
	char pseudo[72];
};

struct spell {
	int32_t admitted, discharged, ready;
	int32_t delay;
	int type, need, reason, ready_after;
	uint32_t first;     /* epx of the first episode */
	char dest[4];
};

struct run {
	struct epx *x;
	size_t nx, cx;
	struct spell *sp;
	size_t nsp, csp;
};

static void copy_cell(char *dst, size_t cap, struct yoc_cell c)
{
	size_t n = c.n < cap - 1 ? c.n : cap - 1;
	memcpy(dst, c.p, n);
	dst[n] = 0;
}

static int read_apc(yoc_store *s, struct run *R, yoc_spells *sps, struct yoc_rrr_stats *st,
		    struct yoc_error *e)
{
	struct yoc_file_info *fi = NULL;
	size_t nf = 0;
	int rc = yoc_store_files(s, YOC_KIND_APC, 0, &fi, &nf, e);
	if (rc)
		return rc;
	const struct yoc_person *pp = NULL;
	size_t np = 0;
	if ((rc = yoc_store_persons(s, &pp, &np, e)))
		goto cleanup;
	for (size_t f = 0; f < nf && !rc; f++) {
		yoc_seg *g = NULL;
		if ((rc = yoc_seg_open(s, fi[f].file_id, &g, e)))
			break;
		int c_ready = yoc_seg_col(g, "DISREADYDATE"), c_need = yoc_seg_col(g, "RRR_NEED"),
		    c_reason = yoc_seg_col(g, "DELAY_REASON"), c_pro = yoc_seg_col(g, "PROCODE3"),
		    c_dest = yoc_seg_col(g, "DISDEST"), c_spell = yoc_seg_col(g, "SUSSPELLID"),
		    c_cp = yoc_seg_col(g, "CLASSPAT"), c_am = yoc_seg_col(g, "ADMIMETH"),
		    c_hrg = yoc_seg_col(g, "SUSHRG"), c_ad = yoc_seg_col(g, "ADMIDATE"),
		    c_dd = yoc_seg_col(g, "DISDATE"), c_es = yoc_seg_col(g, "EPISTART"),
		    c_ee = yoc_seg_col(g, "EPIEND"), c_eo = yoc_seg_col(g, "EPIORDER"),
		    c_pid = yoc_seg_col(g, "PSEUDO_ID");
		if (c_ready >= 0)
			st->has_fields = 1;
		size_t nr = yoc_seg_nrows(g);
		for (size_t r = 0; r < nr; r++) {
			if (R->nx == R->cx) {
				size_t nc = R->cx ? R->cx * 2 : 4096;
				struct epx *nx = nc <= UINT32_MAX ? yoc_realloc(R->x, nc * sizeof *nx)
								  : NULL;
				if (!nx) {
					rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
					break;
				}
				R->x = nx;
				R->cx = nc;
			}
			struct epx *x = &R->x[R->nx];
			memset(x, 0, sizeof *x);
			x->ready = yoc_seg_date(g, c_ready, r);
			struct yoc_cell c = yoc_seg_text(g, c_need, r);
			x->need = c.n == 1 ? c.p[0] : 0;
			c = yoc_seg_text(g, c_reason, r);
			x->reason = (signed char)(c.n ? yoc_rrr_reason_parse(c.p, c.n) : -1);
			if (x->reason == YOC_RRR_ALL)
				x->reason = -1;
			struct yoc_cell pv = yoc_seg_text(g, c_pro, r);
			if (pv.n)
				copy_cell(x->provider, sizeof x->provider, pv);
			else
				copy_cell(x->provider, sizeof x->provider,
					  (struct yoc_cell){fi[f].provider, strlen(fi[f].provider)});
			copy_cell(x->dest, sizeof x->dest, yoc_seg_text(g, c_dest, r));
			struct yoc_cell sid = yoc_seg_text(g, c_spell, r);
			copy_cell(x->spellid, sizeof x->spellid, sid);
			int32_t p = yoc_seg_person(g, r);
			struct yoc_cell pid = yoc_seg_text(g, c_pid, r);
			uint64_t owner;
			if (p >= 0 && (size_t)p < np) {
				owner = (uint64_t)p;
				copy_cell(x->pseudo, sizeof x->pseudo,
					  (struct yoc_cell){pp[p].pseudo, strlen(pp[p].pseudo)});
			} else if (pid.n) {
				/* a row of no registered person still belongs to its spell */
				owner = (1ull << 63) | (yoc_hash64(pid.p, pid.n, 0) >> 1);
				copy_cell(x->pseudo, sizeof x->pseudo, pid);
			} else {
				owner = (1ull << 62) | R->nx;
			}
			struct yoc_apc_epi ep;
			ep.classpat = yoc_seg_text(g, c_cp, r);
			ep.admimeth = yoc_seg_text(g, c_am, r);
			ep.sushrg = yoc_seg_text(g, c_hrg, r);
			ep.admidate = yoc_seg_date(g, c_ad, r);
			ep.disdate = yoc_seg_date(g, c_dd, r);
			ep.epistart = yoc_seg_date(g, c_es, r);
			ep.epiend = yoc_seg_date(g, c_ee, r);
			int64_t order = c_eo >= 0 ? yoc_seg_int(g, c_eo, r) : YOC_INT_NONE;
			ep.epiorder = order > 0 && order < 100000 ? (int32_t)order : 0;
			ep.feed_cost = INT64_MIN;
			if ((rc = yoc_spells_add(sps, owner, (uint32_t)R->nx, sid, pv, &ep))) {
				rc = yoc_error_set(e, rc, NULL, 0, 0, "out of memory grouping spells");
				break;
			}
			R->nx++;
			st->episodes++;
		}
		yoc_seg_close(g);
	}
cleanup:
	yoc_store_files_free(fi);
	return rc;
}

static int make_spells(struct run *R, yoc_spells *sps, const yoc_tariff *prices,
		       struct yoc_rrr_stats *st, struct yoc_error *e)
{
	if (yoc_spells_sort(sps))
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	struct yoc_spell_view v;
	int got;
	while ((got = yoc_spells_next(sps, &v)) == 1) {
		struct yoc_spell_price pr;
		yoc_price_spell(prices, v.epi, v.n, &pr);
		st->spells++;
		if (!known(pr.discharged) || !known(pr.admitted))
			continue;
		st->closed++;
		/* the spell's fields are the same on every episode; the last
		 * episode's (the discharge) are preferred, then any other's */
		int32_t ready = YOC_DATE_NONE;
		int need = 0, reason = -1;
		for (size_t k = v.n; k-- > 0;) {
			const struct epx *x = &R->x[v.tag[k]];
			if (!known(ready) && known(x->ready))
				ready = x->ready;
			if (x->need == 'Y')
				need = 1;
			if (reason < 0 && x->reason >= 0)
				reason = x->reason;
		}
		if (!known(ready))
			continue;
		if (R->nsp == R->csp) {
			size_t nc = R->csp ? R->csp * 2 : 1024;
			struct spell *ns = yoc_realloc(R->sp, nc * sizeof *ns);
			if (!ns)
				return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			R->sp = ns;
			R->csp = nc;
		}
		struct spell *p = &R->sp[R->nsp++];
		memset(p, 0, sizeof *p);
		p->admitted = pr.admitted;
		p->discharged = pr.discharged;
		p->type = pr.type;
		p->need = need;
		p->first = v.tag[0];
		memcpy(p->dest, R->x[v.tag[v.n - 1]].dest, sizeof p->dest);
		if (ready > pr.discharged) {
			/* a defect (quality: ready_after_discharge): the date is ignored */
			p->ready_after = 1;
			p->ready = YOC_DATE_NONE;
			st->ready_after++;
			continue;
		}
		st->ready++;
		p->ready = ready;
		p->delay = pr.discharged - ready;
		if (p->delay > 0)
			p->reason = reason >= 0 && reason < YOC_RRR_UNKNOWN ? reason : YOC_RRR_UNKNOWN;
		else
			p->reason = -1;
		int64_t los = (int64_t)pr.discharged - pr.admitted;
		if (need) {
			st->rrr++;
			st->rrr_bed_days += los;
			if (p->delay > 0) {
				st->rrr_delayed++;
				st->rrr_delayed_days += p->delay;
			}
		}
		if (p->delay > 0) {
			st->delayed++;
			st->delayed_days += p->delay;
			st->reason_spells[p->reason]++;
			st->reason_days[p->reason] += p->delay;
		}
	}
	return got < 0 ? yoc_error_set(e, got, NULL, 0, 0, "out of memory") : 0;
}

/* ---- writing ------------------------------------------------------------------ */

static int exec(sqlite3 *db, const char *sql, struct yoc_error *e)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", msg ? msg : "SQLite error");
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

static const char schema_sql[] =
	"DROP TABLE IF EXISTS rrr_spell; DROP TABLE IF EXISTS rrr_summary;"
	"DROP TABLE IF EXISTS rrr_reason; DROP TABLE IF EXISTS rrr_provider;"
	"DROP TABLE IF EXISTS rrr_destination; DROP TABLE IF EXISTS rrr_cut;"
	"CREATE TABLE rrr_spell(pseudo_id TEXT, susspellid TEXT, provider TEXT, kind TEXT,"
	" admitted TEXT, discharged TEXT, ready TEXT, month TEXT, rrr_need INTEGER,"
	" delay_reason TEXT, delayed_days INTEGER, destination TEXT, ready_after INTEGER);"
	"CREATE TABLE rrr_summary(ord INTEGER, measure TEXT PRIMARY KEY, value INTEGER);"
	"CREATE TABLE rrr_reason(ord INTEGER, reason TEXT, delayed_spells INTEGER,"
	" delayed_days INTEGER, rrr_delayed_spells INTEGER, rrr_delayed_days INTEGER,"
	" max_delay INTEGER);"
	"CREATE TABLE rrr_provider(provider TEXT, month TEXT, spells INTEGER, rrr_spells INTEGER,"
	" rrr_delayed_spells INTEGER, delayed_spells INTEGER, delayed_days INTEGER);"
	"CREATE TABLE rrr_destination(destination TEXT, rrr_spells INTEGER,"
	" rrr_delayed_spells INTEGER, rrr_delayed_days INTEGER);"
	"CREATE TABLE rrr_cut(ord INTEGER, reason TEXT, pct INTEGER, spells INTEGER,"
	" bed_days_released INTEGER, window_from TEXT, window_to TEXT, nights INTEGER,"
	" model_spells INTEGER, mean_before REAL, mean_after REAL, beds_freed_mean REAL,"
	" p95_before INTEGER, p95_after INTEGER, beds_freed_p95 INTEGER);";

static const char aggregate_sql[] =
	"INSERT INTO rrr_reason SELECT CASE delay_reason WHEN 'NO_SERVICE' THEN 0"
	" WHEN 'ASSESSMENT' THEN 1 WHEN 'RESIDENTIAL' THEN 2 WHEN 'HOME' THEN 3 ELSE 4 END,"
	" delay_reason, count(*), sum(delayed_days), sum(rrr_need), sum(rrr_need * delayed_days),"
	" max(delayed_days) FROM rrr_spell WHERE delayed_days > 0 GROUP BY delay_reason ORDER BY 1;"
	"INSERT INTO rrr_provider SELECT provider, month, count(*), sum(rrr_need),"
	" sum(rrr_need AND delayed_days > 0), sum(delayed_days > 0), sum(delayed_days)"
	" FROM rrr_spell WHERE ready_after = 0 GROUP BY provider, month ORDER BY provider, month;"
	"INSERT INTO rrr_destination SELECT destination, count(*), sum(delayed_days > 0),"
	" sum(delayed_days) FROM rrr_spell WHERE ready_after = 0 AND rrr_need = 1"
	" GROUP BY destination ORDER BY count(*) DESC, destination;";

static int put_spells(sqlite3 *db, const struct run *R, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "INSERT INTO rrr_spell VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,"
				   "?11,?12,?13)", -1, &st, NULL) != SQLITE_OK)
		return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
	int rc = 0;
	for (size_t i = 0; i < R->nsp && !rc; i++) {
		const struct spell *p = &R->sp[i];
		const struct epx *x = &R->x[p->first];
		char a[16], d[16], r[16], m[8];
		yoc_date_format(p->admitted, a);
		yoc_date_format(p->discharged, d);
		memcpy(m, d, 7);
		m[7] = 0;
		sqlite3_bind_text(st, 1, x->pseudo, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, x->spellid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, x->provider, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, yoc_spell_type_name(p->type), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, a, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, d, -1, SQLITE_STATIC);
		if (known(p->ready)) {
			yoc_date_format(p->ready, r);
			sqlite3_bind_text(st, 7, r, -1, SQLITE_STATIC);
		} else {
			sqlite3_bind_null(st, 7);
		}
		sqlite3_bind_text(st, 8, m, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 9, p->need);
		if (p->delay > 0)
			sqlite3_bind_text(st, 10, yoc_rrr_reason_name(p->reason), -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 10);
		sqlite3_bind_int64(st, 11, p->delay > 0 ? p->delay : 0);
		sqlite3_bind_text(st, 12, p->dest[0] ? p->dest : "unknown", -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 13, p->ready_after);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc;
}

static int put_summary(sqlite3 *db, const struct yoc_rrr_stats *st, struct yoc_error *e)
{
	const struct {
		const char *name;
		int64_t v;
	} m[] = {
		{"spells", st->closed},
		{"spells_with_ready_date", st->ready},
		{"ready_after_discharge", st->ready_after},
		{"rrr_spells", st->rrr},
		{"rrr_delayed_spells", st->rrr_delayed},
		{"rrr_delayed_days", st->rrr_delayed_days},
		{"rrr_bed_days", st->rrr_bed_days},
		{"delayed_spells", st->delayed},
		{"delayed_days", st->delayed_days},
		{"nonrrr_delayed_spells", st->delayed - st->rrr_delayed},
		{"nonrrr_delayed_days", st->delayed_days - st->rrr_delayed_days},
	};
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, "INSERT INTO rrr_summary VALUES(?1,?2,?3)", -1, &q, NULL) !=
	    SQLITE_OK)
		return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
	int rc = 0;
	for (size_t i = 0; i < sizeof m / sizeof m[0] && !rc; i++) {
		sqlite3_bind_int(q, 1, (int)i);
		sqlite3_bind_text(q, 2, m[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 3, m[i].v);
		if (sqlite3_step(q) != SQLITE_DONE)
			rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
		sqlite3_reset(q);
	}
	sqlite3_finalize(q);
	return rc;
}

/* The discharge model: the stays of spells that needed RRR or were delayed. */
static int model(const struct run *R, const struct yoc_rrr_opts *o, struct yoc_rrr_stats *st,
		 sqlite3 *db, struct yoc_error *e)
{
	size_t n = 0;
	int32_t from = INT32_MAX, to = INT32_MIN;
	struct yoc_rrr_stay *stay = yoc_malloc((R->nsp ? R->nsp : 1) * sizeof *stay);
	if (!stay)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	for (size_t i = 0; i < R->nsp; i++) {
		const struct spell *p = &R->sp[i];
		if (p->ready_after || !(p->need || p->delay > 0))
			continue;
		stay[n].admitted = p->admitted;
		stay[n].discharged = p->discharged;
		stay[n].delay = p->delay > 0 ? p->delay : 0;
		stay[n].reason = p->reason;
		n++;
		if (p->discharged < from)
			from = p->discharged;
		if (p->discharged > to)
			to = p->discharged;
	}
	int rc = 0;
	sqlite3_stmt *q = NULL;
	if (n == 0 || to <= from)
		goto cleanup; /* no night to model: rrr_cut stays empty */
	if ((rc = yoc_rrr_occupancy(stay, n, -1, 0, from, to, &st->before, e)))
		goto cleanup;
	if (sqlite3_prepare_v2(db, "INSERT INTO rrr_cut VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,"
				   "?12,?13,?14,?15)", -1, &q, NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
		goto cleanup;
	}
	char fd[16], td[16];
	yoc_date_format(from, fd);
	yoc_date_format(to, td);
	for (int c = 0; c < st->ncuts && !rc; c++) {
		const struct yoc_rrr_cut *k = &st->cut[c];
		int64_t spells = 0, released = 0;
		for (size_t i = 0; i < n; i++)
			if (stay[i].delay > 0 && (k->reason == YOC_RRR_ALL || k->reason == stay[i].reason)) {
				int32_t cut = yoc_rrr_cut_days(stay[i].delay, k->pct);
				spells += cut > 0;
				released += cut;
			}
		st->cut_spells[c] = spells;
		st->cut_released[c] = released;
		if ((rc = yoc_rrr_occupancy(stay, n, k->reason, k->pct, from, to, &st->after[c], e)))
			break;
		const struct yoc_rrr_occ *b = &st->before, *a = &st->after[c];
		sqlite3_bind_int(q, 1, c);
		sqlite3_bind_text(q, 2, yoc_rrr_reason_name(k->reason), -1, SQLITE_STATIC);
		sqlite3_bind_int(q, 3, k->pct);
		sqlite3_bind_int64(q, 4, spells);
		sqlite3_bind_int64(q, 5, released);
		sqlite3_bind_text(q, 6, fd, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 7, td, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 8, (int64_t)to - from);
		sqlite3_bind_int64(q, 9, (int64_t)n);
		sqlite3_bind_double(q, 10, b->mean);
		sqlite3_bind_double(q, 11, a->mean);
		sqlite3_bind_double(q, 12, b->mean - a->mean);
		sqlite3_bind_int64(q, 13, b->p95);
		sqlite3_bind_int64(q, 14, a->p95);
		sqlite3_bind_int64(q, 15, b->p95 - a->p95);
		if (sqlite3_step(q) != SQLITE_DONE)
			rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", sqlite3_errmsg(db));
		sqlite3_reset(q);
	}
cleanup:
	sqlite3_finalize(q);
	yoc_free(stay);
	return rc;
}

int yoc_rrr_run(yoc_store *s, const struct yoc_rrr_opts *o, struct yoc_rrr_stats *st,
		struct yoc_error *e)
{
	memset(st, 0, sizeof *st);
	if (o->ncuts > YOC_RRR_MAXCUT)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0, "at most %d cuts", YOC_RRR_MAXCUT);
	if (o->ncuts > 0) {
		memcpy(st->cut, o->cuts, (size_t)o->ncuts * sizeof *st->cut);
		st->ncuts = o->ncuts;
	} else {
		for (int r = 0; r < YOC_RRR_UNKNOWN; r++)
			st->cut[st->ncuts++] = (struct yoc_rrr_cut){r, 50};
	}
	struct run R;
	memset(&R, 0, sizeof R);
	sqlite3 *db = yoc_store_db(s);
	int rc = 0, began = 0;
	yoc_spells *sps = yoc_spells_create();
	if (!sps) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	if ((rc = read_apc(s, &R, sps, st, e)) || (rc = make_spells(&R, sps, o->prices, st, e)))
		goto cleanup;
	if (!st->has_fields || st->ready + st->ready_after == 0) {
		rc = yoc_error_set(e, YOC_ENOTFOUND, yoc_store_dir(s), 0, 0,
				   "no discharge ready dates in this dataset: %s (the APC feed's "
				   "DISREADYDATE, RRR_NEED and DELAY_REASON columns; docs/feeds.md)",
				   st->episodes == 0 ? "it has no hospital (APC) episodes"
				   : !st->has_fields ? "its APC files have no DISREADYDATE column"
						     : "every DISREADYDATE is empty");
		goto cleanup;
	}
	if ((rc = exec(db, "BEGIN IMMEDIATE", e)))
		goto cleanup;
	began = 1;
	if ((rc = exec(db, schema_sql, e)) || (rc = put_spells(db, &R, e)) ||
	    (rc = exec(db, aggregate_sql, e)) || (rc = put_summary(db, st, e)) ||
	    (rc = model(&R, o, st, db, e)) || (rc = exec(db, "COMMIT", e)))
		goto cleanup;
	began = 0;
cleanup:
	if (began)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	yoc_spells_free(sps);
	yoc_free(R.x);
	yoc_free(R.sp);
	return rc;
}

/*
** Data-quality report. Every finding is one row of quality.csv:
**   section, check, kind, provider, period, field, value, expected, flag, detail
** and each is also kept in a temporary table (temp.qrow, in SQLite's temp
** database, so the dataset is not touched) from which quality_html.c writes
** the summary page. Per-provider feedback files list each quarantined row and
** each flagged value with its reason. Must not change the dataset.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quality/quality_int.h"
#include "yoc/csv.h"
#include "yoc/io.h"

#define row yoc__quality_row

void yoc__quality_row(struct q *Q, const char *section, const char *check, const char *kind,
		const char *prov, const char *period, const char *field, double value,
		double expected, const char *flag, const char *detail)
{
	char v[64], x[64];
	snprintf(v, sizeof v, "%.15g", value);
	if (isnan(expected))
		x[0] = 0;
	else
		snprintf(x, sizeof x, "%.15g", expected);
	const char *cells[] = {section, check, kind, prov, period, field, v, x, flag, detail};
	for (int i = 0; i < 10; i++)
		yoc_csvw_str(&Q->w, cells[i] ? cells[i] : "");
	yoc_csvw_end(&Q->w);
	Q->findings++;
	if (!Q->ins || Q->ins_failed)
		return;
	for (int i = 0; i < 10; i++) {
		if (i == 6)
			sqlite3_bind_double(Q->ins, 7, value);
		else if (i == 7 && isnan(expected))
			sqlite3_bind_null(Q->ins, 8);
		else if (i == 7)
			sqlite3_bind_double(Q->ins, 8, expected);
		else
			sqlite3_bind_text(Q->ins, i + 1, cells[i] ? cells[i] : "", -1, SQLITE_TRANSIENT);
	}
	if (sqlite3_step(Q->ins) != SQLITE_DONE)
		Q->ins_failed = 1;
	sqlite3_reset(Q->ins);
}

#define T(i) ((const char *)sqlite3_column_text(st, i))

static int sql_rows(struct q *Q, const char *section, const char *check, const char *sql,
		    int nval, struct yoc_error *e)
{
	/* columns: kind, provider, period, field, value, expected(or NULL), flag, detail */
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(yoc_store_db(Q->s), sql, -1, &st, NULL))
		return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "sqlite: %s",
				     sqlite3_errmsg(yoc_store_db(Q->s)));
	while (sqlite3_step(st) == SQLITE_ROW)
		row(Q, section, check, T(0), T(1), T(2), T(3), sqlite3_column_double(st, 4),
		    sqlite3_column_type(st, 5) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 5),
		    T(6), T(7));
	sqlite3_finalize(st);
	(void)nval;
	return YOC_OK;
}

/*
** Practice unknown: GP registrations whose practice code fails validation
** (load flags GPPRAC bad_code and keeps it), and, once yoc analyse has run,
** the person-years it counted under "practice unknown" (practice NULL) for
** that reason: people who belong to no practice in the analysis and report.
*/
static int practice_unknown(struct q *Q, struct yoc_error *e)
{
	static const char why[] = "practice code fails validation (ODS: a letter and five digits,"
				  " not all zero); counted under practice unknown, never as a practice";
	char sql[1024];
	snprintf(sql, sizeof sql,
		 "SELECT f.kind, f.provider, f.period, g.field, count(*), NULL, 'practice_unknown',"
		 " 'registrations whose %s' FROM flags g JOIN current_files f USING(file_id)"
		 " WHERE f.kind = 'gp_register' AND g.field = 'GPPRAC' AND g.reason = 'bad_code'"
		 " GROUP BY 1,2,3 ORDER BY 1,2,3", why);
	int rc = sql_rows(Q, "linkage", "practice_unknown", sql, 0, e);
	sqlite3_stmt *st = NULL;
	int analysed = sqlite3_prepare_v2(yoc_store_db(Q->s), "SELECT 1 FROM person_year LIMIT 1",
					  -1, &st, NULL) == SQLITE_OK;
	sqlite3_finalize(st);
	if (rc || !analysed)
		return rc;
	snprintf(sql, sizeof sql,
		 "SELECT 'person_year', '', fyear, 'practice', sum(practice IS NULL), NULL,"
		 " CASE WHEN sum(practice IS NULL) > 0 THEN 'practice_unknown' ELSE '' END,"
		 " 'person-years (of ' || count(*) || ', from the last yoc analyse) whose GP register %s'"
		 " FROM person_year GROUP BY fyear ORDER BY fyear", why);
	return sql_rows(Q, "linkage", "practice_unknown_person_years", sql, 0, e);
}

/* 1 if the dataset has the table (one yoc analyse writes, say). */
static int table_exists(struct q *Q, const char *name)
{
	sqlite3_stmt *st = NULL;
	int yes = 0;
	if (sqlite3_prepare_v2(yoc_store_db(Q->s), "SELECT 1 FROM main.sqlite_master WHERE"
			       " type = 'table' AND name = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		yes = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return yes;
}

/* ---- section 1: linkage and standardisation ---- */
static int section1(struct q *Q, struct yoc_error *e)
{
	int rc;
	if ((rc = sql_rows(Q, "linkage", "nhs_number_status",
			   "SELECT f.kind, f.provider, f.period, n.status, sum(n.rows), NULL,"
			   " CASE WHEN n.status IN ('valid','pseudonym') THEN '' ELSE 'check' END, ''"
			   " FROM nhsno_status n JOIN current_files f USING(file_id)"
			   " GROUP BY 1,2,3,4 ORDER BY 1,2,3,4", 0, e)) ||
	    (rc = sql_rows(Q, "linkage", "linkage_rate",
			   "SELECT f.kind, f.provider, l.month, '', 1.0*sum(l.linked)/max(sum(l.rows),1), NULL,"
			   " CASE WHEN 1.0*sum(l.linked)/max(sum(l.rows),1) < 0.95 THEN 'low' ELSE '' END,"
			   " sum(l.rows) || ' rows: ' || sum(l.linked) || ' linked, ' || sum(l.no_pseudonym) ||"
			   " ' no pseudonym, ' || sum(l.not_registered) || ' not registered'"
			   " FROM linkage l JOIN current_files f USING(file_id) WHERE f.kind <> 'gp_register'"
			   " GROUP BY 1,2,3 ORDER BY 1,2,3", 0, e)) ||
	    (rc = sql_rows(Q, "linkage", "unlinked_no_pseudonym",
			   "SELECT f.kind, f.provider, '', '', sum(l.no_pseudonym), NULL, '', ''"
			   " FROM linkage l JOIN current_files f USING(file_id) GROUP BY 1,2 ORDER BY 1,2", 0, e)) ||
	    (rc = sql_rows(Q, "linkage", "unlinked_not_registered",
			   "SELECT f.kind, f.provider, '', '', sum(l.not_registered), NULL, '', ''"
			   " FROM linkage l JOIN current_files f USING(file_id) GROUP BY 1,2 ORDER BY 1,2", 0, e)) ||
	    (rc = sql_rows(Q, "standardisation", "code_standardised",
			   "SELECT f.kind, f.provider, f.period, g.field, count(*), NULL, 'fixed', ''"
			   " FROM flags g JOIN current_files f USING(file_id) WHERE g.reason = 'code_standardised'"
			   " GROUP BY 1,2,3,4 ORDER BY 1,2,3,4", 0, e)) ||
	    (rc = practice_unknown(Q, e)))
		return rc;
	/* gaps in the GP register, as the last yoc analyse carried or lost them */
	if (table_exists(Q, "register_gaps") &&
	    (rc = sql_rows(Q, "linkage", "register_gaps",
			   "SELECT 'gp_register', practice, fyear, outcome, persons, NULL,"
			   " CASE WHEN outcome = 'lost' THEN 'lost' ELSE '' END,"
			   " CASE outcome WHEN 'lost' THEN 'registered at the end of the year before"
			   " (register snapshot), no register row this year or later, no activity at"
			   " the practice: not in person_year' WHEN 'bridged_seen_after' THEN"
			   " 'no register row this year, registered before and after: carried'"
			   " ELSE 'no register row this year, activity at the practice: carried' END"
			   " FROM register_gaps ORDER BY 3, 2, 4", 0, e)))
		return rc;
	/* activity that reached its person through yoc link at source (LINK_STATUS),
	 * as the last yoc analyse priced it: what linkage added */
	if (table_exists(Q, "linkage_gain") &&
	    (rc = sql_rows(Q, "linkage", "linkage_gain",
			   "SELECT feed, '', fyear, status, records, NULL, '',"
			   " emergency_admissions || ' emergency admissions, ' ||"
			   " printf('%.2f', cost / 100.0) || ' pounds'"
			   " FROM linkage_gain ORDER BY 3, 1, 4", 0, e)))
		return rc;
	/* duplicates: identical rows (all columns but the line) within a kind and
	 * provider, across its files. GP register files are yearly snapshots in
	 * which an unchanged registration repeats by design, so they are left
	 * out; a repeat inside one file is quarantined at load for every kind. */
	struct yoc_file_info *fi = NULL;
	size_t nf = 0;
	if ((rc = yoc_store_files(Q->s, -1, 0, &fi, &nf, e)))
		return rc;
	struct yoc_map m;
	if (yoc_map_init(&m, 1024)) {
		yoc_store_files_free(fi);
		return yoc_error_set(e, YOC_ENOMEM, "quality", 0, 0, "out of memory");
	}
	for (size_t i = 0; i < nf && !rc; i++) {
		yoc_seg *g = NULL;
		if (fi[i].kind == YOC_KIND_GP_REGISTER)
			continue;
		if ((rc = yoc_seg_open(Q->s, fi[i].file_id, &g, e)))
			break;
		int64_t dups = 0;
		char buf[64];
		for (size_t r = 0; r < yoc_seg_nrows(g); r++) {
			uint64_t h = 0x9e37;
			for (size_t c = 0; c < yoc_seg_ncols(g); c++) {
				if (strcmp(yoc_seg_col_name(g, (int)c), "_LINE") == 0)
					continue;
				const char *t;
				size_t n = yoc_seg_format(g, (int)c, r, buf, sizeof buf, &t);
				h = yoc_hash64(t, n, h + c);
			}
			int isnew = 0;
			if (yoc_map_put(&m, &h, sizeof h, 1, &isnew)) {
				rc = yoc_error_set(e, YOC_ENOMEM, "quality", 0, 0, "out of memory");
				break;
			}
			dups += !isnew;
		}
		yoc_seg_close(g);
		int last = i + 1 == nf || fi[i + 1].kind != fi[i].kind ||
			strcmp(fi[i + 1].provider, fi[i].provider) != 0;
		row(Q, "linkage", "duplicate_rows", yoc_spec_kind_name(fi[i].kind), fi[i].provider,
		    fi[i].period, "", (double)dups, NAN, dups ? "duplicates" : "", "rows identical to an earlier row");
		if (last) {
			yoc_map_free(&m);
			if (yoc_map_init(&m, 1024)) {
				rc = yoc_error_set(e, YOC_ENOMEM, "quality", 0, 0, "out of memory");
				break;
			}
		}
	}
	yoc_map_free(&m);
	yoc_store_files_free(fi);
	return rc;
}

/* ---- section 2: profiling and gaps ---- */
static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int volumes(struct q *Q, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	const char *sql = "SELECT f.kind, f.provider, l.month, sum(l.rows) FROM linkage l"
		" JOIN current_files f USING(file_id) WHERE l.month <> ''"
		" GROUP BY 1,2,3 ORDER BY 1,2,3";
	if (sqlite3_prepare_v2(yoc_store_db(Q->s), sql, -1, &st, NULL))
		return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "sqlite: %s", sqlite3_errmsg(yoc_store_db(Q->s)));
	/* the window of the monthly files sent (all months when none): a month
	 * outside it is not expected to have activity, so not a gap (the same
	 * window as quality.html's month grids) */
	char lo[16] = "0000", hi[16] = "9999";
	sqlite3_stmt *w = NULL;
	if (sqlite3_prepare_v2(yoc_store_db(Q->s), "SELECT min(period), max(period) FROM"
			       " current_files WHERE period GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]'",
			       -1, &w, NULL) == SQLITE_OK &&
	    sqlite3_step(w) == SQLITE_ROW && sqlite3_column_text(w, 0)) {
		snprintf(lo, sizeof lo, "%s", (const char *)sqlite3_column_text(w, 0));
		snprintf(hi, sizeof hi, "%s", (const char *)sqlite3_column_text(w, 1));
	}
	sqlite3_finalize(w);
	char kind[64] = "", prov[64] = "";
	int64_t hist[6];
	int nh = 0, prevm = -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *k = T(0), *p = T(1), *mon = T(2);
		int64_t n = sqlite3_column_int64(st, 3);
		int y = 0, mo = 0;
		if (sscanf(mon, "%d-%d", &y, &mo) != 2)
			continue;
		int mi = y * 12 + mo - 1;
		if (strcmp(k, kind) || strcmp(p, prov)) {
			snprintf(kind, sizeof kind, "%s", k);
			snprintf(prov, sizeof prov, "%s", p);
			nh = 0;
			prevm = -1;
		}
		for (int gm = prevm + 1; prevm >= 0 && gm < mi; gm++) {
			char gp[16];
			snprintf(gp, sizeof gp, "%04d-%02d", gm / 12, gm % 12 + 1);
			int in = strcmp(gp, lo) >= 0 && strcmp(gp, hi) <= 0;
			row(Q, "profiling", "volume", kind, prov, gp, "", 0, NAN, in ? "gap" : "",
			    in ? "no activity this month"
			       : "no activity this month, outside the months of the files sent");
		}
		double med = NAN;
		if (nh >= 3) {
			int64_t t[6];
			memcpy(t, hist, sizeof t);
			qsort(t, (size_t)nh, sizeof t[0], cmp_i64);
			med = nh % 2 ? (double)t[nh / 2] : 0.5 * (double)(t[nh / 2 - 1] + t[nh / 2]);
		}
		const char *flag = "";
		if (!isnan(med) && (double)n > Q->o->spike_ratio * med)
			flag = "spike";
		else if (!isnan(med) && (double)n < Q->o->dip_ratio * med)
			flag = "dip";
		row(Q, "profiling", "volume", kind, prov, mon, "", (double)n, med, flag,
		    "rows in month; expected = trailing median of up to 6 months");
		if (nh == 6)
			memmove(hist, hist + 1, 5 * sizeof hist[0]), nh = 5;
		hist[nh++] = n;
		prevm = mi;
	}
	sqlite3_finalize(st);
	return YOC_OK;
}

static int section2(struct q *Q, struct yoc_error *e)
{
	int rc;
	if ((rc = sql_rows(Q, "profiling", "rows_quarantined",
			   "SELECT f.kind, f.provider, f.period, q.reason, count(*), NULL, 'quarantined', ''"
			   " FROM quarantine q JOIN current_files f USING(file_id) GROUP BY 1,2,3,4 ORDER BY 1,2,3,4", 0, e)) ||
	    (rc = sql_rows(Q, "profiling", "completeness",
			   "SELECT f.kind, f.provider, '', s.field, 1.0*sum(s.filled)/max(sum(s.filled+s.empty),1), NULL,"
			   " CASE WHEN 1.0*sum(s.filled)/max(sum(s.filled+s.empty),1) < 0.9 THEN 'incomplete' ELSE '' END,"
			   " sum(s.empty) || ' empty of ' || sum(s.filled+s.empty)"
			   " FROM file_stats s JOIN current_files f USING(file_id) GROUP BY 1,2,4 ORDER BY 1,2,4", 0, e)) ||
	    (rc = sql_rows(Q, "profiling", "validity",
			   "SELECT f.kind, f.provider, f.period, g.field || ':' || g.reason, count(*), NULL, g.action, ''"
			   " FROM flags g JOIN current_files f USING(file_id) WHERE g.reason <> 'code_standardised'"
			   " GROUP BY 1,2,3,4 ORDER BY 1,2,3,4", 0, e)) ||
	    (rc = sql_rows(Q, "profiling", "file_rows",
			   "SELECT kind, provider, period, '', rows, loaded + quarantined,"
			   " CASE WHEN rows <> loaded + quarantined THEN 'unbalanced' ELSE '' END,"
			   " loaded || ' loaded, ' || quarantined || ' quarantined'"
			   " FROM current_files ORDER BY 1,2,3", 0, e)) ||
	    (rc = yoc__quality_source(Q, e)) ||
	    (rc = volumes(Q, e)))
		return rc;
	return yoc__quality_contracts(Q, e);
}

/* ---- section 3: consistency over time ---- */
/*
** Total variation distance between two "code=n;code=n" lists, and in *sig
** whether the difference is beyond sampling noise: Pearson's chi-squared
** test of homogeneity of the 2 x k table at p < 0.001, its critical value by
** the Wilson-Hilferty approximation. A sparse column (a secondary diagnosis
** filled in a few rows, each code seen once or twice) has a large distance
** from any month to the next by chance alone, and no significance.
*/
static double tvd(const char *a, const char *b, int *sig)
{
	struct { char k[32]; double pa, pb; } v[256];
	int nv = 0;
	double ta = 0, tb = 0;
	for (int side = 0; side < 2; side++) {
		const char *p = side ? b : a;
		while (p && *p) {
			const char *eq = strchr(p, '='), *sc = strchr(p, ';');
			if (!eq || (sc && sc < eq))
				break;
			char k[32];
			snprintf(k, sizeof k, "%.*s", (int)(eq - p) > 31 ? 31 : (int)(eq - p), p);
			double n = strtod(eq + 1, NULL);
			int i = 0;
			while (i < nv && strcmp(v[i].k, k))
				i++;
			if (i == nv && nv < 256) {
				snprintf(v[nv].k, sizeof v[nv].k, "%s", k);
				v[nv].pa = v[nv].pb = 0;
				nv++;
			}
			if (i < nv) {
				if (side)
					v[i].pb += n;
				else
					v[i].pa += n;
			}
			if (side)
				tb += n;
			else
				ta += n;
			p = sc ? sc + 1 : NULL;
		}
	}
	*sig = 0;
	if (ta <= 0 || tb <= 0)
		return 0;
	double d = 0, chi = 0, n = ta + tb;
	for (int i = 0; i < nv; i++) {
		d += fabs(v[i].pa / ta - v[i].pb / tb);
		double row = v[i].pa + v[i].pb, ea = row * ta / n, eb = row * tb / n;
		if (ea > 0)
			chi += (v[i].pa - ea) * (v[i].pa - ea) / ea;
		if (eb > 0)
			chi += (v[i].pb - eb) * (v[i].pb - eb) / eb;
	}
	if (nv >= 2) {
		double df = nv - 1, h = 2.0 / (9.0 * df), z = 3.090232; /* upper 0.001 */
		double c = 1.0 - h + z * sqrt(h);
		*sig = chi > df * c * c * c;
	}
	return d / 2;
}

static int section3(struct q *Q, struct yoc_error *e)
{
	int rc;
	/* columns present in a provider's previous period but not this one, and new ones */
	if ((rc = sql_rows(Q, "consistency", "column_missing",
			   "WITH p AS (SELECT file_id, kind, provider, period, lag(file_id) OVER"
			   " (PARTITION BY kind, provider ORDER BY period) AS prev FROM current_files)"
			   " SELECT p.kind, p.provider, p.period, c.source, 1, NULL, 'missing', 'was in the previous period'"
			   " FROM p JOIN file_columns c ON c.file_id = p.prev WHERE c.source NOT IN"
			   " (SELECT source FROM file_columns WHERE file_id = p.file_id) ORDER BY 1,2,3,4", 0, e)) ||
	    (rc = sql_rows(Q, "consistency", "column_added",
			   "WITH p AS (SELECT file_id, kind, provider, period, lag(file_id) OVER"
			   " (PARTITION BY kind, provider ORDER BY period) AS prev FROM current_files)"
			   " SELECT p.kind, p.provider, p.period, c.source, 1, NULL, 'new', 'not in the previous period'"
			   " FROM p JOIN file_columns c ON c.file_id = p.file_id WHERE p.prev IS NOT NULL AND"
			   " c.source NOT IN (SELECT source FROM file_columns WHERE file_id = p.prev) ORDER BY 1,2,3,4", 0, e)))
		return rc;
	sqlite3_stmt *st = NULL;
	const char *sql = "WITH p AS (SELECT file_id, kind, provider, period, lag(file_id) OVER"
		" (PARTITION BY kind, provider ORDER BY period) AS prev FROM current_files)"
		" SELECT p.kind, p.provider, p.period, a.field, a.top_values, b.top_values"
		" FROM p JOIN file_stats a ON a.file_id = p.file_id JOIN file_stats b"
		" ON b.file_id = p.prev AND b.field = a.field WHERE a.distinct_values IS NOT NULL"
		" AND a.top_values <> '' AND b.top_values <> '' ORDER BY 1,2,3,4";
	if (sqlite3_prepare_v2(yoc_store_db(Q->s), sql, -1, &st, NULL))
		return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "sqlite: %s", sqlite3_errmsg(yoc_store_db(Q->s)));
	while (sqlite3_step(st) == SQLITE_ROW) {
		/* the financial year a record falls in changes with the period at
		 * every April: expected, not a shift */
		if (strcmp(T(3), "FYEAR") == 0)
			continue;
		int sig;
		double d = tvd(T(4), T(5), &sig);
		if (d > Q->o->shift_tvd && sig)
			row(Q, "consistency", "distribution_shift", T(0), T(1), T(2), T(3), d,
			    Q->o->shift_tvd, "shift", "total variation distance from the previous period");
	}
	sqlite3_finalize(st);
	return YOC_OK;
}

static int feedback(struct q *Q, const char *outdir, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc = YOC_OK;
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/feedback", outdir);
	if (yoc_mkdirs(dir, 0755))
		return yoc_error_set(e, YOC_EIO, dir, 0, 0, "cannot create");
	/* rows rejected at source: their line in the provider's extract, no value */
	const char *sql = "SELECT f.provider, f.path, f.kind, f.period, x.line, x.field, x.value,"
		" x.reason, x.action FROM (SELECT file_id, line, field, value, reason,"
		" 'quarantined' AS action FROM quarantine UNION ALL SELECT file_id, line, field,"
		" value, reason, action FROM flags UNION ALL SELECT file_id, line, '', '', reason,"
		" 'rejected_at_source' FROM source_rejected) x JOIN current_files f USING(file_id)"
		" ORDER BY f.provider, f.file_id, x.action = 'rejected_at_source', x.line";
	if (sqlite3_prepare_v2(yoc_store_db(Q->s), sql, -1, &st, NULL))
		return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "sqlite: %s", sqlite3_errmsg(yoc_store_db(Q->s)));
	struct yoc_afile af = {0};
	struct yoc_csvw w;
	char cur[128] = "";
	int open = 0;
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		if (!open || strcmp(cur, T(0))) {
			if (open && (rc = yoc_afile_commit(&af, e)))
				break;
			open = 0;
			snprintf(cur, sizeof cur, "%s", T(0));
			char p[4400];
			snprintf(p, sizeof p, "%s/%s.csv", dir, cur[0] ? cur : "unknown");
			if ((rc = yoc_afile_open(&af, p, e)))
				break;
			open = 1;
			yoc_csvw_init(&w, af.f, ',');
			static const char *const h[] = {"file", "kind", "period", "line", "field", "value",
				"reason", "action"};
			for (int i = 0; i < 8; i++)
				yoc_csvw_str(&w, h[i]);
			yoc_csvw_end(&w);
		}
		for (int i = 1; i < 9; i++)
			yoc_csvw_str(&w, T(i) ? T(i) : "");
		yoc_csvw_end(&w);
	}
	if (open) {
		if (rc)
			yoc_afile_abort(&af);
		else
			rc = yoc_afile_commit(&af, e);
	}
	sqlite3_finalize(st);
	if (!rc)
		rc = yoc__quality_source_feedback(Q, dir, e);
	return rc;
}

int yoc_quality_write(yoc_store *s, const char *outdir, const struct yoc_quality_opts *o,
		      struct yoc_error *e)
{
	struct q Q;
	struct yoc_afile af = {0}, ah = {0};
	struct yoc_quality_opts dflt = {NULL, 1.5, 0.5, 0.2, NULL, 0.10, NULL};
	sqlite3 *db = yoc_store_db(s);
	int rc;
	memset(&Q, 0, sizeof Q);
	Q.s = s;
	Q.o = o ? o : &dflt;
	if (Q.o->data_dir && yoc_tariff_load_dir(&Q.tariff, Q.o->data_dir, &Q.tariff_err))
		Q.tariff = NULL; /* reported as a skipped check */
	char p[4200];
	if (yoc_mkdirs(outdir, 0755)) {
		rc = yoc_error_set(e, YOC_EIO, outdir, 0, 0, "cannot create");
		goto cleanup;
	}
	/* temp.qrow lives in SQLite's temporary database (spilled to disk when
	 * large), so a read-only dataset stays untouched and memory stays bounded */
	if (sqlite3_exec(db, "DROP TABLE IF EXISTS temp.qrow; CREATE TEMP TABLE qrow(sec TEXT,"
			 " chk TEXT, kind TEXT, prov TEXT, period TEXT, field TEXT, value REAL,"
			 " expected REAL, flag TEXT, detail TEXT)", NULL, NULL, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO temp.qrow VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
			       -1, &Q.ins, NULL)) {
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "sqlite: %s", sqlite3_errmsg(db));
		goto cleanup;
	}
	if ((rc = yoc__quality_source_tables(&Q, e)))
		goto cleanup;
	snprintf(p, sizeof p, "%s/quality.csv", outdir);
	if ((rc = yoc_afile_open(&af, p, e)))
		goto cleanup;
	yoc_csvw_init(&Q.w, af.f, ',');
	static const char *const h[] = {"section", "check", "kind", "provider", "period", "field",
		"value", "expected", "flag", "detail"};
	for (int i = 0; i < 10; i++)
		yoc_csvw_str(&Q.w, h[i]);
	yoc_csvw_end(&Q.w);
	if ((rc = yoc__quality_defects(&Q, e)) || (rc = section1(&Q, e)) ||
	    (rc = section2(&Q, e)) || (rc = section3(&Q, e)))
		goto cleanup;
	if (yoc_csvw_status(&Q.w)) {
		rc = yoc_error_set(e, YOC_EIO, p, 0, 0, "write failed");
		goto cleanup;
	}
	if (Q.ins_failed) {
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "sqlite: temporary table: %s",
				   sqlite3_errmsg(db));
		goto cleanup;
	}
	if ((rc = yoc_afile_commit(&af, e)))
		goto cleanup;
	snprintf(p, sizeof p, "%s/caveats.csv", outdir);
	if ((rc = yoc__quality_caveats_csv(db, Q.o->fyear, p, e)))
		goto cleanup;
	snprintf(p, sizeof p, "%s/issues.csv", outdir);
	if ((rc = yoc__quality_issues(&Q, Q.o->fyear, e)) ||
	    (rc = yoc__quality_issues_csv(&Q, p, e)))
		goto cleanup;
	snprintf(p, sizeof p, "%s/quality.html", outdir);
	if ((rc = yoc_afile_open(&ah, p, e)) || (rc = yoc__quality_html(&Q, ah.f, e)))
		goto cleanup;
	if ((rc = yoc_afile_commit(&ah, e)))
		goto cleanup;
	rc = feedback(&Q, outdir, e);
cleanup:
	if (af.f)
		yoc_afile_abort(&af);
	if (ah.f)
		yoc_afile_abort(&ah);
	sqlite3_finalize(Q.ins);
	sqlite3_exec(db, "DROP TABLE IF EXISTS temp.qrow; DROP TABLE IF EXISTS temp.qissue", NULL,
		     NULL, NULL);
	yoc__quality_source_done(&Q);
	yoc_tariff_free(Q.tariff);
	return rc;
}

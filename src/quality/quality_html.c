/*
** quality.html: a page an ICS analyst can read. A summary box, then the three
** sections of the Kent strategy, each a short explanation and a few compact
** tables (pivots of feed and provider against defect class, month or status)
** built by aggregate queries over temp.qrow (every finding, as in
** quality.csv) and the catalog. Per-file detail is left to quality.csv.
** Streams to the file: memory does not grow with the dataset. Self-contained
** (no scripts, no external resources). Must not change the dataset.
*/
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "quality/quality_int.h"

#define MAXCOL 64    /* pivot columns shown; more are summed into "other" */
#define MAXROWS 400  /* table rows shown; the rest are in quality.csv */

static const char css[] =
	"body{font-family:'DejaVu Sans',Arial,sans-serif;color:#222;margin:0 auto;"
	"max-width:1200px;padding:0 24px 48px;line-height:1.4;font-size:14px}"
	"h1{font-size:24px;margin:24px 0 4px}h2{font-size:18px;margin:28px 0 8px;"
	"border-bottom:2px solid #1f4e79;padding-bottom:2px}h3{font-size:15px;margin:18px 0 4px}"
	"p.meta{color:#555;margin:0 0 12px}p.note{color:#555;font-size:12px;margin:4px 0 12px}"
	"p.intro{margin:4px 0 10px;max-width:900px}"
	".sum{background:#eef3f8;padding:8px 12px;margin:8px 0;display:flex;flex-wrap:wrap}"
	".sum div{margin:4px 22px 4px 0}.sum b{display:block;font-size:18px}"
	".sum span{font-size:12px;color:#555}"
	"table{border-collapse:collapse;font-size:12px;margin:6px 0}"
	"th,td{border-bottom:1px solid #ddd;padding:2px 6px;text-align:left}"
	"th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}"
	"table.grid td.n{padding:2px 3px;font-size:11px}table.grid th.m{font-size:10px;"
	"writing-mode:vertical-rl;transform:rotate(180deg);padding:3px 1px}"
	"td.bad{background:#f8c9c4}td.warn{background:#fde9b6}td.ok{color:#2b6b2b}"
	"td.zero{background:#d9534f;color:#fff;font-weight:bold}td.na{background:#ececec}"
	"td.miss{background:repeating-linear-gradient(45deg,#f8c9c4 0 3px,#fff 3px 6px);"
	"font-weight:bold}span.key{display:inline-block;width:14px;height:10px;margin:0 3px 0 10px;"
	"border:1px solid #bbb;vertical-align:middle}"
	".tw{overflow-x:auto}details{margin:8px 0}summary{cursor:pointer;font-weight:bold}"
	"@media print{body{max-width:none;padding:0;font-size:11px}.tw{overflow:visible}"
	"table{break-inside:auto}tr{break-inside:avoid}h2,h3{break-after:avoid;"
	"page-break-after:avoid}td.bad,td.warn,td.zero,td.na,td.miss,span.key{"
	"-webkit-print-color-adjust:exact;"
	"print-color-adjust:exact}@page{size:A4 landscape;margin:12mm}}";

/* Activity months inside the dataset's file periods: dates far outside them
** (bad dates that were kept) would otherwise stretch the month grids. */
#define MONTHLY "'[0-9][0-9][0-9][0-9]-[0-9][0-9]'"
#define IN_RANGE " period BETWEEN coalesce((SELECT min(period) FROM current_files WHERE" \
	" period GLOB " MONTHLY "), '0000') AND coalesce((SELECT max(period) FROM current_files" \
	" WHERE period GLOB " MONTHLY "), '9999')"

struct h {
	struct q *Q;
	FILE *f;
	sqlite3 *db;
	struct yoc_error *e;
	int rc;
	const char *blank; /* class of a pivot cell with no row, or NULL */
};

#define T(i) ((const char *)sqlite3_column_text(st, i))

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* Writes "<tag>text</tag>" with text escaped. */
static void el(FILE *f, const char *tag, const char *text)
{
	fprintf(f, "<%s>", tag);
	esc(f, text);
	fprintf(f, "</%s>", tag);
}

static sqlite3_stmt *prep(struct h *H, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (H->rc)
		return NULL;
	if (sqlite3_prepare_v2(H->db, sql, -1, &st, NULL)) {
		H->rc = yoc_error_set(H->e, YOC_EIO, "yoc.db", 0, 0, "sqlite: %s",
				      sqlite3_errmsg(H->db));
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* First column of a one-row query as a double (0 when none or on error). */
static double one(struct h *H, const char *sql)
{
	sqlite3_stmt *st = prep(H, sql);
	double v = 0;
	if (st && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void num(FILE *f, double v)
{
	/* thousands separators make row counts readable */
	char b[64], o[96];
	snprintf(b, sizeof b, "%.0f", v);
	size_t n = strlen(b), k = 0, lead = b[0] == '-';
	for (size_t i = 0; i < n && k + 2 < sizeof o; i++) {
		if (i > lead && (n - i) % 3 == 0)
			o[k++] = ',';
		o[k++] = b[i];
	}
	o[k] = 0;
	fputs(o, f);
}

/* Cell formats for table() and pivot(). */
enum fmt { F_TEXT, F_COUNT, F_BLANK0, F_PCT, F_PCT0, F_MONEY, F_FIX3 };

static void cellv(FILE *f, int has, double v, enum fmt fm, const char *cls)
{
	if (cls && *cls)
		fprintf(f, "<td class=\"n %s\">", cls);
	else
		fputs("<td class=n>", f);
	if (!has || (fm == F_BLANK0 && v == 0))
		;
	else if (fm == F_PCT)
		fprintf(f, "%.1f", v * 100);
	else if (fm == F_PCT0)
		fprintf(f, "%.0f", floor(v * 100));
	else if (fm == F_MONEY)
		num(f, round(v));
	else if (fm == F_FIX3)
		fprintf(f, "%.3f", v);
	else
		num(f, v);
	fputs("</td>", f);
}

static void cell(FILE *f, sqlite3_stmt *st, int i, enum fmt fm, const char *cls)
{
	if (fm != F_TEXT) {
		cellv(f, sqlite3_column_type(st, i) != SQLITE_NULL, sqlite3_column_double(st, i), fm, cls);
		return;
	}
	if (cls && *cls)
		fprintf(f, "<td class=%s>", cls);
	else
		fputs("<td>", f);
	esc(f, T(i));
	fputs("</td>", f);
}

/*
** A list table: one row per result row. fmts has one letter per shown column
** (t text, n count, b count blank when 0, p percent, m money, x 3 decimals);
** when the query has one more column than fmts, it is a class (bad, warn or
** NULL) for the whole row's last cell.
*/
static enum fmt fmt_of(char c)
{
	return c == 'n' ? F_COUNT : c == 'b' ? F_BLANK0 : c == 'p' ? F_PCT : c == 'm' ? F_MONEY
		: c == 'x' ? F_FIX3 : F_TEXT;
}

static void table(struct h *H, const char *const *hdr, const char *fmts, const char *sql,
		  const char *none)
{
	sqlite3_stmt *st = prep(H, sql);
	if (!st)
		return;
	int nc = (int)strlen(fmts), nrow = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (nrow == 0) {
			fputs("<div class=tw><table><tr>", H->f);
			for (int i = 0; i < nc; i++)
				fprintf(H->f, "<th%s>%s</th>", fmts[i] == 't' ? "" : " class=n", hdr[i]);
			fputs("</tr>\n", H->f);
		}
		if (++nrow > MAXROWS)
			continue;
		const char *cls = sqlite3_column_count(st) > nc ? T(nc) : NULL;
		fputs("<tr>", H->f);
		for (int i = 0; i < nc; i++)
			cell(H->f, st, i, fmt_of(fmts[i]), i == nc - 1 ? cls : NULL);
		fputs("</tr>\n", H->f);
	}
	sqlite3_finalize(st);
	if (nrow)
		fputs("</table></div>\n", H->f);
	else
		fprintf(H->f, "<p class=note>%s</p>\n", none);
	if (nrow > MAXROWS)
		fprintf(H->f, "<p class=note>First %d of %d rows shown; all rows: "
			"<a href=\"quality.csv\">quality.csv</a>.</p>\n", MAXROWS, nrow);
}

/*
** A pivot: colsql gives the column keys in order; cellsql gives nlab label
** columns, the column key, the value and a class (bad, warn or NULL), ordered
** by the labels. Columns past MAXCOL are not shown (noted).
*/
static void pivot(struct h *H, int grid, const char *const *labhdr, int nlab, const char *colsql,
		  const char *cellsql, enum fmt fm, const char *none)
{
	char cols[MAXCOL][64];
	int ncol = 0, more = 0;
	sqlite3_stmt *st = prep(H, colsql);
	if (!st)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (ncol < MAXCOL)
			snprintf(cols[ncol++], sizeof cols[0], "%s", T(0) ? T(0) : "");
		else
			more++;
	}
	sqlite3_finalize(st);
	if (!ncol) {
		fprintf(H->f, "<p class=note>%s</p>\n", none);
		return;
	}
	if (!(st = prep(H, cellsql)))
		return;
	fprintf(H->f, "<div class=tw><table%s><tr>", grid ? " class=grid" : "");
	for (int i = 0; i < nlab; i++)
		fprintf(H->f, "<th>%s</th>", labhdr[i]);
	for (int c = 0; c < ncol; c++) {
		fputs(grid ? "<th class=m>" : "<th class=n>", H->f);
		char hd[64];
		memcpy(hd, cols[c], sizeof hd);
		for (char *u = hd; *u; u++)
			*u = *u == '_' ? ' ' : *u; /* lets long names wrap */
		esc(H->f, hd);
		fputs("</th>", H->f);
	}
	fputs("</tr>\n", H->f);
	/* one row's cells, filled in any order, written when the labels change */
	double val[MAXCOL];
	char has[MAXCOL], cls[MAXCOL][8], lab[2][64] = {{0}};
	int open = 0, nrow = 0;
	assert(nlab <= 2);
	for (;;) {
		int step = sqlite3_step(st) == SQLITE_ROW, same = open && step;
		for (int i = 0; i < nlab && same; i++)
			same = strcmp(lab[i], T(i) ? T(i) : "") == 0;
		if (open && !same && ++nrow <= MAXROWS) {
			fputs("<tr>", H->f);
			for (int i = 0; i < nlab; i++)
				el(H->f, "td", lab[i]);
			for (int c = 0; c < ncol; c++)
				cellv(H->f, has[c], val[c], fm,
				      !has[c] && !cls[c][0] && H->blank ? H->blank : cls[c]);
			fputs("</tr>\n", H->f);
		}
		if (!step)
			break;
		if (!same) {
			memset(has, 0, sizeof has);
			memset(cls, 0, sizeof cls);
			for (int i = 0; i < nlab; i++)
				snprintf(lab[i], sizeof lab[i], "%s", T(i) ? T(i) : "");
			open = 1;
		}
		const char *key = T(nlab) ? T(nlab) : "";
		for (int c = 0; c < ncol; c++) {
			if (strcmp(cols[c], key) == 0) {
				has[c] = sqlite3_column_type(st, nlab + 1) != SQLITE_NULL;
				val[c] = sqlite3_column_double(st, nlab + 1);
				snprintf(cls[c], sizeof cls[c], "%s", T(nlab + 2) ? T(nlab + 2) : "");
				break;
			}
		}
	}
	sqlite3_finalize(st);
	fputs("</table></div>\n", H->f);
	if (more)
		fprintf(H->f, "<p class=note>%d more columns not shown; all rows: "
			"<a href=\"quality.csv\">quality.csv</a>.</p>\n", more);
	if (nrow > MAXROWS)
		fprintf(H->f, "<p class=note>First %d of %d rows shown; all rows: "
			"<a href=\"quality.csv\">quality.csv</a>.</p>\n", MAXROWS, nrow);
}

static void stat(FILE *f, const char *label, double v, const char *extra)
{
	fputs("<div><b>", f);
	num(f, v);
	if (extra)
		esc(f, extra);
	fputs("</b><span>", f);
	esc(f, label);
	fputs("</span></div>", f);
}

static void summary(struct h *H)
{
	FILE *f = H->f;
	sqlite3_stmt *st = prep(H, "SELECT count(*), coalesce(sum(rows),0), coalesce(sum(loaded),0),"
				" coalesce(sum(quarantined),0) FROM current_files");
	double files = 0, rows = 0, loaded = 0, quar = 0;
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		files = sqlite3_column_double(st, 0);
		rows = sqlite3_column_double(st, 1);
		loaded = sqlite3_column_double(st, 2);
		quar = sqlite3_column_double(st, 3);
	}
	sqlite3_finalize(st);
	char pct[64];
	fputs("<div class=sum>", f);
	stat(f, "current files", files, NULL);
	stat(f, "rows received", rows, NULL);
	stat(f, "rows loaded", loaded, NULL);
	snprintf(pct, sizeof pct, " (%.2f%%)", rows > 0 ? 100 * quar / rows : 0.0);
	stat(f, "rows quarantined", quar, pct);
	stat(f, "rows rejected at source", one(H, "SELECT coalesce(sum(a.rejected), 0) FROM"
		 " current_files f JOIN source_account a USING(file_id) WHERE a.status IN"
		 " ('matched', 'rows_differ')"), NULL);
	stat(f, "rows opted out at source", one(H, "SELECT coalesce(sum(a.opted_out), 0) FROM"
		 " current_files f JOIN source_account a USING(file_id) WHERE a.status IN"
		 " ('matched', 'rows_differ')"), NULL);
	double noacct = one(H, "SELECT count(*) FROM current_files f LEFT JOIN source_account a"
			    " USING(file_id) WHERE coalesce(a.status NOT IN ('matched', 'rows_differ'), 1)");
	if (noacct > 0)
		stat(f, "files without a source account", noacct, NULL);
	st = prep(H, "SELECT coalesce(sum(l.linked),0), coalesce(sum(l.rows),0) FROM linkage l"
		  " JOIN current_files f USING(file_id) WHERE f.kind <> 'gp_register'");
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		double lk = sqlite3_column_double(st, 0), lr = sqlite3_column_double(st, 1);
		snprintf(pct, sizeof pct, "%.1f%%", lr > 0 ? 100 * lk / lr : 0.0);
		fprintf(f, "<div><b>%s</b><span>activity rows linked to a registered person</span></div>",
			pct);
	}
	sqlite3_finalize(st);
	st = prep(H, "SELECT n.status, sum(n.rows) FROM nhsno_status n JOIN current_files f"
		  " USING(file_id) GROUP BY 1 ORDER BY 2 DESC");
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		char lab[96];
		snprintf(lab, sizeof lab, "NHS number %s", T(0) ? T(0) : "");
		stat(f, lab, sqlite3_column_double(st, 1), NULL);
	}
	sqlite3_finalize(st);
	if (one(H, "SELECT count(*) FROM temp.qrow WHERE chk = 'practice_unknown_person_years'") > 0)
		stat(f, "person-years with practice unknown (invalid practice code)",
		     one(H, "SELECT coalesce(sum(value), 0) FROM temp.qrow WHERE"
			 " chk = 'practice_unknown_person_years'"), NULL);
	stat(f, "contract variances flagged", one(H, "SELECT count(*) FROM temp.qrow WHERE"
		 " chk = 'contract_triangulation' AND flag = 'variance'"), NULL);
	stat(f, "volume gaps (months)", one(H, "SELECT count(*) FROM temp.qrow WHERE chk = 'volume'"
					   " AND flag = 'gap' AND" IN_RANGE), NULL);
	stat(f, "volume spikes / dips", one(H, "SELECT count(*) FROM temp.qrow WHERE chk = 'volume'"
					    " AND flag IN ('spike','dip') AND" IN_RANGE), NULL);
	stat(f, "missing monthly files", one(H, "SELECT count(*) FROM temp.qrow WHERE"
					     " chk = 'missing_month'"), NULL);
	stat(f, "column changes", one(H, "SELECT count(*) FROM temp.qrow WHERE chk IN"
				      " ('column_missing','column_added')"), NULL);
	stat(f, "distribution shifts", one(H, "SELECT count(*) FROM temp.qrow WHERE"
					   " chk = 'distribution_shift'"), NULL);
	fputs("</div>\n", f);
}

static void intro(FILE *f, const char *text)
{
	fputs("<p class=intro>", f);
	esc(f, text);
	fputs("</p>\n", f);
}

static const char *const L_FEED[] = {"feed"};
static const char *const L_FP[] = {"feed", "provider"};

/* Every flagged check and caveat, ranked by impact (quality_issues.c). */
static void issues(struct h *H)
{
	FILE *f = H->f;
	sqlite3_stmt *st = prep(H, yoc__quality_issue_order);
	if (!st)
		return;
	fputs("<h2 id=\"issues\">Issues by impact, biggest first</h2>\n", f);
	intro(f, "Every flagged check and every caveat of the figures, ranked by the money, then "
	      "the people, then the rows it affects in the reported year (people and money are "
	      "estimated where a caveat measures them; blank where not). All of them: "
	      "issues.csv.");
	fputs("<div class=tw><table id=\"issues-table\"><tr><th>rank</th><th>issue</th>"
	      "<th>providers</th><th>findings</th><th>rows</th><th>people</th>"
	      "<th>&pound;</th></tr>\n", f);
	int nrow = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (++nrow > MAXROWS)
			continue;
		fprintf(f, "<tr><td class=n>%d</td><td><a href=\"#%s\">", sqlite3_column_int(st, 0),
			strchr(T(8), '#') ? strchr(T(8), '#') + 1 : "");
		esc(f, T(9));
		fputs("</a></td>", f);
		el(f, "td", T(3) ? T(3) : "");
		cell(f, st, 4, F_BLANK0, NULL);
		cell(f, st, 5, F_BLANK0, NULL);
		cell(f, st, 6, F_BLANK0, NULL);
		cellv(f, sqlite3_column_int64(st, 7) != 0, (double)sqlite3_column_int64(st, 7) / 100,
		      F_MONEY, NULL);
		fputs("</tr>\n", f);
	}
	sqlite3_finalize(st);
	fputs("</table></div>\n", f);
	if (!nrow)
		fputs("<p class=note>No issues flagged.</p>\n", f);
	else if (nrow > MAXROWS)
		fprintf(f, "<p class=note>First %d of %d issues shown; all: "
			"<a href=\"issues.csv\">issues.csv</a>.</p>\n", MAXROWS, nrow);
}

/* The ranked caveats of the latest analysed year (yoc_quality_caveats). */
static void caveats(struct h *H)
{
	struct yoc_caveat *c = NULL;
	size_t n = 0;
	if (H->rc || (H->rc = yoc_quality_caveats(H->db, H->Q->o->fyear, &c, &n, H->e)))
		return;
	fputs("<h2 id=\"caveats\">Caveats of the figures, biggest first</h2>\n", H->f);
	/* the main report lists them too, with its published figures (beside
	 * this folder as yoc demo writes it: report/ next to quality/) */
	fputs("<p class=meta>Also in the main report: <a href=\"../report/index.html#caveats\">"
	      "report/index.html, data-quality caveats</a> (when it is written beside this "
	      "folder).</p>\n", H->f);
	if (!n)
		fputs("<p>None: every provider sent every month, every record was priced and "
		      "linked, and every person has a practice.</p>\n", H->f);
	else
		fputs("<ol>\n", H->f);
	for (size_t i = 0; i < n; i++) {
		fprintf(H->f, "<li id=\"caveat-%d\">", c[i].rank);
		esc(H->f, c[i].text);
		fprintf(H->f, " <a href=\"#%s\">detail</a></li>\n", strchr(c[i].anchor, '#') + 1);
	}
	if (n)
		fputs("</ol>\n", H->f);
	yoc_free(c);
}

static void section1(struct h *H)
{
	FILE *f = H->f;
	fputs("<h2 id=\"linkage\">1. Linkage and standardisation</h2>\n", f);
	intro(f, "Can each activity row be tied to a person on the GP register? A row links when its "
	      "NHS number was valid and pseudonymised and the pseudonym is registered with a "
	      "practice in the month of activity. Rows that do not link are lost to the person-level "
	      "analysis, so low rates bias costs and counts downward for that provider. This section "
	      "also shows exact duplicate rows and codes that were standardised on load (for example "
	      "case or padding fixed).");
	fputs("<h3>NHS number status by feed</h3>\n", f);
	pivot(H, 0, L_FEED, 1,
	      "SELECT field FROM temp.qrow WHERE chk = 'nhs_number_status' GROUP BY 1"
	      " ORDER BY sum(value) DESC",
	      "SELECT kind, field, sum(value), CASE WHEN field IN ('valid','pseudonym') THEN NULL"
	      " WHEN sum(value) > 0 THEN 'warn' END FROM temp.qrow WHERE chk = 'nhs_number_status'"
	      " GROUP BY 1, 2 ORDER BY 1",
	      F_BLANK0, "No NHS number status recorded.");
	fputs("<h3>Linkage rate (%) by feed, provider and month</h3>\n", f);
	fputs("<p class=note>Shaded red: under 95% of rows linked; amber: under 98%.</p>\n", f);
	pivot(H, 1, L_FP, 2,
	      "SELECT DISTINCT period FROM temp.qrow WHERE chk = 'linkage_rate' AND" IN_RANGE
	      " ORDER BY 1",
	      "SELECT kind, prov, period, value, CASE WHEN value < 0.95 THEN 'bad' WHEN value < 0.98"
	      " THEN 'warn' END FROM temp.qrow WHERE chk = 'linkage_rate' AND" IN_RANGE
	      " ORDER BY 1, 2, 3",
	      F_PCT0, "No activity to link.");
	fputs("<h3 id=\"unlinked\">Unlinked rows by feed and provider</h3>\n", f);
	static const char *const hu[] = {"feed", "provider", "rows", "linked %", "no pseudonym",
		"not registered"};
	table(H, hu, "ttnpbb",
	      "SELECT f.kind, f.provider, sum(l.rows), 1.0*sum(l.linked)/max(sum(l.rows),1),"
	      " sum(l.no_pseudonym), sum(l.not_registered), CASE WHEN 1.0*sum(l.linked)/"
	      "max(sum(l.rows),1) < 0.95 THEN 'bad' END FROM linkage l JOIN current_files f"
	      " USING(file_id) WHERE f.kind <> 'gp_register' GROUP BY 1, 2 ORDER BY 1, 2",
	      "No activity to link.");
	if (one(H, "SELECT count(*) FROM temp.qrow WHERE chk = 'linkage_gain'") > 0) {
		fputs("<h3 id=\"linkage-gain\">Found by linkage at source</h3>\n", f);
		fputs("<p class=note>Activity whose person <code>yoc link</code> found in the GP "
		      "register at source (no valid NHS number on the row), as the last yoc analyse "
		      "priced it in registered person-years: without linkage these rows would have no "
		      "person. A hospital spell counts when any episode was linked; its cost and "
		      "emergency admission are what linkage added over the spell its other episodes "
		      "make. docs/linkage.md.</p>\n", f);
		static const char *const hl[] = {"year", "feed", "how", "records",
			"emergency admissions", "cost (&pound;)", "share of the feed's cost"};
		table(H, hl, "tttnbmp",
		      "SELECT g.fyear, g.feed, g.status, g.records, g.emergency_admissions,"
		      " g.cost / 100.0, 1.0 * g.cost / max(c.cost, 1), NULL FROM linkage_gain g"
		      " LEFT JOIN (SELECT fyear, feed, sum(cost) AS cost FROM costing_summary"
		      " GROUP BY 1, 2) c USING(fyear, feed) ORDER BY 1, 2, 3", "");
		static const char *const ht[] = {"year", "records", "emergency admissions",
			"cost (&pound;)"};
		table(H, ht, "tnbm",
		      "SELECT fyear, sum(records), sum(emergency_admissions), sum(cost) / 100.0, NULL"
		      " FROM linkage_gain GROUP BY 1 ORDER BY 1", "");
	}
	if (one(H, "SELECT count(*) FROM temp.qrow WHERE chk = 'register_gaps'") > 0) {
		fputs("<h3>Gaps in the GP register (from the last yoc analyse)</h3>\n", f);
		fputs("<p class=note>People with no register row for a year although the snapshot "
		      "of the year before shows them still registered at its end (a row lost to a "
		      "defect): carried into the year when they are registered again later or have "
		      "activity at the practice in it; otherwise lost, that is not in person_year for "
		      "the year. docs/analysis.md, Population.</p>\n", f);
		static const char *const hg[] = {"year", "carried: registered later",
			"carried: activity at the practice", "lost"};
		table(H, hg, "tbbb",
		      "SELECT period, sum(CASE field WHEN 'bridged_seen_after' THEN value END),"
		      " sum(CASE field WHEN 'bridged_activity' THEN value END), sum(CASE field WHEN"
		      " 'lost' THEN value END), CASE WHEN sum(CASE field WHEN 'lost' THEN value END)"
		      " > 0 THEN 'warn' END FROM temp.qrow WHERE chk = 'register_gaps' GROUP BY 1"
		      " ORDER BY 1", "");
	}
	fputs("<h3>Duplicates</h3>\n", f);
	static const char *const hd[] = {"feed", "provider", "duplicate rows", "files sent twice"};
	table(H, hd, "ttbb",
	      "SELECT kind, prov, sum(CASE WHEN chk = 'duplicate_rows' THEN value ELSE 0 END),"
	      " sum(chk = 'duplicate_file') FROM temp.qrow WHERE chk IN ('duplicate_rows',"
	      " 'duplicate_file') GROUP BY 1, 2 HAVING sum(value) > 0 ORDER BY 1, 2",
	      "No duplicate rows or files.");
	fputs("<h3>Codes standardised on load (rows)</h3>\n", f);
	pivot(H, 0, L_FP, 2,
	      "SELECT DISTINCT field FROM temp.qrow WHERE chk = 'code_standardised' ORDER BY 1",
	      "SELECT kind, prov, field, sum(value), NULL FROM temp.qrow WHERE"
	      " chk = 'code_standardised' GROUP BY 1, 2, 3 ORDER BY 1, 2",
	      F_BLANK0, "No codes needed standardising.");
	fputs("<h3 id=\"practice\">Practice unknown</h3>\n", f);
	fputs("<p class=note>A GP registration whose practice code fails validation (an ODS code "
	      "is a letter and five digits, not all zero) names no organisation: the analysis "
	      "counts its person-years under <i>practice unknown</i>, in every whole-population "
	      "figure but in no practice, and the report gives it no data pack.</p>\n", f);
	static const char *const hp[] = {"provider", "period", "registrations with an invalid code"};
	table(H, hp, "ttb",
	      "SELECT prov, period, value, 'bad' FROM temp.qrow WHERE chk = 'practice_unknown'"
	      " ORDER BY 1, 2",
	      "Every GP registration has a valid practice code.");
	static const char *const hy[] = {"financial year", "person-years with practice unknown"};
	table(H, hy, "tb",
	      "SELECT period, value, CASE WHEN value > 0 THEN 'bad' END FROM temp.qrow"
	      " WHERE chk = 'practice_unknown_person_years' ORDER BY 1",
	      "No person_year table yet (run yoc analyse).");
}

/* From the providers' extracts to the dataset (quality_source.c). */
#define ACCT_OK "coalesce(a.status IN ('matched', 'rows_differ'), 0)"
static void source_rows(struct h *H)
{
	FILE *f = H->f;
	fputs("<h3>Rows from the providers' extracts to the dataset</h3>\n", f);
	fputs("<p class=note>Rows in a provider's extract = loaded + quarantined + rejected at "
	      "source (malformed CSV rows yoc pseudonymise could not read, so never sent) + opted "
	      "out (removed at source). The figures at source come from the source account yoc "
	      "pseudonymise writes beside its output, which yoc load matches to each file by its "
	      "SHA-256; for files without one they are not known, and those files are counted "
	      "apart. Red: a file whose rows do not balance or whose account does not match; "
	      "amber: files without an account.</p>\n", f);
	static const char *const hr[] = {"feed", "provider", "files", "rows in the extracts",
		"loaded", "quarantined", "rejected at source", "opted out",
		"files without an account (rows received)"};
	table(H, hr, "ttnnnbbbt",
	      "WITH x AS (SELECT f.kind, f.provider, f.rows, f.loaded, f.quarantined, a.status,"
	      " a.rows_read, a.rejected, a.opted_out, " ACCT_OK " AS ok FROM current_files f"
	      " LEFT JOIN source_account a USING(file_id)),"
	      " g AS (SELECT 0 AS o, kind, provider, count(*) AS n, sum(CASE WHEN ok THEN rows_read"
	      " END) AS ext, sum(CASE WHEN ok THEN loaded END) AS ld, sum(CASE WHEN ok THEN"
	      " quarantined END) AS qu, sum(CASE WHEN ok THEN rejected END) AS rj, sum(CASE WHEN ok"
	      " THEN opted_out END) AS op, sum(NOT ok) AS nn, sum(CASE WHEN NOT ok THEN rows END)"
	      " AS nr, sum(ok AND (rows_read <> loaded + quarantined + rejected + opted_out OR"
	      " status = 'rows_differ')) + sum(status IN ('changed', 'unreadable', 'no_entry'))"
	      " AS bad FROM x GROUP BY kind, provider UNION ALL SELECT 1, 'all feeds', '', count(*),"
	      " sum(CASE WHEN ok THEN rows_read END), sum(CASE WHEN ok THEN loaded END), sum(CASE"
	      " WHEN ok THEN quarantined END), sum(CASE WHEN ok THEN rejected END), sum(CASE WHEN ok"
	      " THEN opted_out END), sum(NOT ok), sum(CASE WHEN NOT ok THEN rows END), 0 FROM x"
	      " HAVING count(*) > 0)"
	      " SELECT kind, provider, n, ext, ld, qu, rj, op, CASE WHEN nn > 0 THEN nn || ' (' ||"
	      " nr || ')' ELSE '' END, CASE WHEN bad > 0 THEN 'bad' WHEN nn > 0 THEN 'warn' END"
	      " FROM g ORDER BY o, kind, provider",
	      "No files.");
	if (one(H, "SELECT count(*) FROM temp.qrow WHERE chk = 'rows_rejected_at_source'") > 0) {
		fputs("<h3>Rows rejected at source by reason</h3>\n", f);
		pivot(H, 0, L_FP, 2,
		      "SELECT field FROM temp.qrow WHERE chk = 'rows_rejected_at_source' GROUP BY 1"
		      " ORDER BY sum(value) DESC",
		      "SELECT kind, prov, field, sum(value), NULL FROM temp.qrow WHERE"
		      " chk = 'rows_rejected_at_source' GROUP BY 1, 2, 3 ORDER BY 1, 2",
		      F_BLANK0, "");
	}
}

static void section2(struct h *H)
{
	FILE *f = H->f;
	fputs("<h2 id=\"gaps\">2. Profiling and gap analysis</h2>\n", f);
	intro(f, "Is each feed complete and valid, and is all the expected activity there? Defects "
	      "are counted in rows (a row with two bad dates counts once per defect class). Fields "
	      "are listed only where they are less than 90% complete or carry invalid values. "
	      "Monthly volumes are compared with the trailing median of up to six months, so a "
	      "missing, partial or doubled submission stands out. Finally the costed activity of "
	      "each provider is set against its contract: a large variance means activity is "
	      "missing or extra, or the contract is out of date.");
	fputs("<h3 id=\"defects\">Defects by feed and provider (rows)</h3>\n", f);
	pivot(H, 0, L_FP, 2,
	      "SELECT chk FROM temp.qrow WHERE sec = 'defects' AND kind <> '' GROUP BY 1"
	      " HAVING sum(value) > 0 ORDER BY min(rowid)",
	      "SELECT kind, prov, chk, sum(value), NULL"
	      " FROM temp.qrow WHERE sec = 'defects' AND kind <> '' GROUP BY 1, 2, 3"
	      " ORDER BY 1, 2, min(rowid)",
	      F_BLANK0, "No defects found.");
	if (one(H, "SELECT count(*) FROM temp.qrow WHERE sec = 'defects' AND flag = 'skipped'") > 0)
		fputs("<p class=note>HRG and currency codes were not checked against the tariff "
		      "(no --data).</p>\n", f);
	fputs("<h3 id=\"quarantine\">Rows quarantined by reason</h3>\n", f);
	pivot(H, 0, L_FP, 2,
	      "SELECT field FROM temp.qrow WHERE chk = 'rows_quarantined' GROUP BY 1"
	      " ORDER BY sum(value) DESC",
	      "SELECT kind, prov, field, sum(value), NULL FROM temp.qrow WHERE"
	      " chk = 'rows_quarantined' GROUP BY 1, 2, 3 ORDER BY 1, 2",
	      F_BLANK0, "No rows quarantined.");
	source_rows(H);
	fputs("<h3 id=\"incomplete\">Incomplete fields</h3>\n", f);
	fputs("<p class=note>Fields under 90% filled for some providers of a feed but not "
	      "others: most likely an extract problem at those providers.</p>\n", f);
	static const char *const hc[] = {"feed", "field", "providers under 90% (filled %)",
		"providers at 90% or more"};
	table(H, hc, "tttn",
	      "SELECT kind, field, group_concat(CASE WHEN value < 0.9 THEN prov || ' ' ||"
	      " printf('%.1f', 100 * value) END, ', '), sum(value >= 0.9), 'warn' FROM temp.qrow"
	      " WHERE chk = 'completeness' AND kind IN (SELECT kind FROM temp.qrow WHERE"
	      " chk = 'completeness' AND flag <> '') GROUP BY 1, 2 HAVING sum(value < 0.9) > 0"
	      " AND sum(value >= 0.9) > 0 ORDER BY 1, 2",
	      "No field is incomplete at one provider only.");
	fputs("<p class=note>Fields under 90% filled at every provider of a feed (often optional "
	      "by design, such as secondary diagnoses), with the highest filled % of any "
	      "provider:</p>\n", f);
	static const char *const hs[] = {"feed", "fields"};
	table(H, hs, "tt",
	      "SELECT kind, group_concat(field || ' ' || printf('%.0f%%', 100 * hi), ', ') FROM"
	      " (SELECT kind, field, max(value) AS hi FROM temp.qrow WHERE chk = 'completeness'"
	      " GROUP BY 1, 2 HAVING max(value) < 0.9 ORDER BY 1, 2) GROUP BY 1 ORDER BY 1",
	      "None.");
	fputs("<h3>Invalid values by field (rows, all providers; action taken)</h3>\n", f);
	static const char *const L_FF[] = {"feed", "field"};
	pivot(H, 0, L_FF, 2,
	      "SELECT substr(field, instr(field, ':') + 1) || ' (' || flag || ')' FROM temp.qrow"
	      " WHERE chk = 'validity' GROUP BY 1 ORDER BY sum(value) DESC",
	      "SELECT kind, substr(field, 1, instr(field, ':') - 1), substr(field, instr(field, ':')"
	      " + 1) || ' (' || flag || ')', sum(value), NULL FROM temp.qrow WHERE chk = 'validity'"
	      " GROUP BY 1, 2, 3 ORDER BY 1, 2",
	      F_BLANK0, "No invalid values flagged.");
	if (one(H, "SELECT count(*) FROM temp.qrow WHERE chk = 'file_rows' AND flag <> ''") > 0) {
		static const char *const hb[] = {"feed", "provider", "period", "rows", "detail"};
		fputs("<h3>Files whose rows do not balance</h3>\n", f);
		table(H, hb, "tttnt",
		      "SELECT kind, prov, period, value, detail, 'bad' FROM temp.qrow WHERE"
		      " chk = 'file_rows' AND flag <> '' ORDER BY 1, 2, 3", "");
	}
	fputs("<h3 id=\"monthly\">Monthly volumes (rows by activity month)</h3>\n", f);
	/* one meaning per style: a month with no file of a monthly feed is
	 * "missing" whatever its rows; a gap with its file sent is "zero rows";
	 * a cell with no finding lies outside the feed's months */
	fputs("<p class=note id=\"monthly-legend\">"
	      "<span class=\"key\" style=\"background:repeating-linear-gradient(45deg,#f8c9c4 0 3px,"
	      "#fff 3px 6px)\"></span>missing month: no file was sent for it (the rows shown, if "
	      "any, are dated in it from other files)"
	      "<span class=\"key\" style=\"background:#d9534f\"></span>zero rows: no activity "
	      "dated in the month although the feed was sent"
	      "<span class=\"key\" style=\"background:#f8c9c4\"></span>dip: under half the "
	      "trailing median"
	      "<span class=\"key\" style=\"background:#fde9b6\"></span>spike: over 1.5 times it"
	      "<span class=\"key\" style=\"background:#ececec\"></span>no data expected: "
	      "before the feed's first month or after its last</p>\n", f);
	H->blank = "na";
	pivot(H, 1, L_FP, 2,
	      "SELECT DISTINCT period FROM temp.qrow WHERE chk IN ('volume', 'missing_month') AND"
	      IN_RANGE " ORDER BY 1",
	      "SELECT kind, prov, period, value, CASE WHEN EXISTS (SELECT 1 FROM temp.qrow m WHERE"
	      " m.chk = 'missing_month' AND m.kind = q.kind AND m.prov = q.prov AND m.period ="
	      " q.period) THEN 'miss' WHEN flag = 'gap' THEN 'zero' WHEN flag = 'dip' THEN 'bad'"
	      " WHEN flag = 'spike' THEN 'warn' END FROM temp.qrow q WHERE chk = 'volume' AND"
	      IN_RANGE " UNION ALL SELECT kind, prov, period, NULL, 'miss' FROM temp.qrow m WHERE"
	      " chk = 'missing_month' AND" IN_RANGE " AND NOT EXISTS (SELECT 1 FROM temp.qrow v"
	      " WHERE v.chk = 'volume' AND v.kind = m.kind AND v.prov = m.prov AND v.period ="
	      " m.period) ORDER BY 1, 2, 3",
	      F_COUNT, "No dated activity.");
	H->blank = NULL;
	double out = one(H, "SELECT coalesce(sum(value), 0) FROM temp.qrow WHERE chk = 'volume' AND"
			 " NOT" IN_RANGE);
	if (out > 0) {
		fputs("<p class=note>", f);
		num(f, out);
		fputs(" rows dated outside the months of the files sent are not shown (for the GP "
		      "register these are registrations that began earlier; for activity, dates "
		      "out of range).</p>\n", f);
	}
	fputs("<h3 id=\"contracts\">Contract triangulation</h3>\n", f);
	if (one(H, "SELECT count(*) FROM temp.qrow WHERE chk = 'contract_triangulation' AND"
		" flag <> 'skipped'") == 0) {
		sqlite3_stmt *st = prep(H, "SELECT detail FROM temp.qrow WHERE"
					" chk = 'contract_triangulation' LIMIT 1");
		fputs("<p class=note>Not done: ", f);
		if (st && sqlite3_step(st) == SQLITE_ROW)
			esc(f, T(0));
		sqlite3_finalize(st);
		fputs(".</p>\n", f);
		return;
	}
	static const char sql[] =
		 "SELECT prov, period, kind, expected, value, CASE WHEN expected > 0 THEN"
		 " (value - expected) / expected END, flag, CASE WHEN flag <> '' THEN 'bad' END"
		 " FROM temp.qrow WHERE chk = 'contract_triangulation' ORDER BY 1, 2, 3";
	static const char *const ht[] = {"provider", "year", "setting", "contract (&pound;)",
		"costed activity (&pound;)", "variance %", "flag"};
	fprintf(f, "<p class=note>Costed activity is filled pro rata for months with no file; "
		"flagged when it differs from the contract by more than %.0f%%.</p>\n",
		H->Q->o->contract_tolerance * 100);
	table(H, ht, "tttmmpt", sql, "");
}

static void section3(struct h *H)
{
	FILE *f = H->f;
	fputs("<h2 id=\"consistency\">3. Consistency over time</h2>\n", f);
	intro(f, "Does each provider send the same thing every period? A column that disappears or "
	      "appears between consecutive files usually means a changed extract (a rename shows as "
	      "one missing and one new column). A distribution shift means the mix of codes in a "
	      "field moved sharply from the previous period (total variation distance above the "
	      "threshold): a coding change or a partial extract rather than a real change in care.");
	fputs("<h3 id=\"renamed\">Column changes</h3>\n", f);
	static const char *const hc[] = {"feed", "provider", "period", "missing (was in the previous "
		"period)", "new"};
	table(H, hc, "ttttt",
	      "SELECT kind, prov, period, group_concat(CASE chk WHEN 'column_missing' THEN field END,"
	      " ', '), group_concat(CASE chk WHEN 'column_added' THEN field END, ', '), 'warn'"
	      " FROM temp.qrow WHERE chk IN ('column_missing','column_added') GROUP BY 1, 2, 3"
	      " ORDER BY 1, 2, 3",
	      "No columns changed between periods.");
	fputs("<h3 id=\"shifts\">Distribution shifts</h3>\n", f);
	static const char *const hs[] = {"feed", "field", "provider", "periods flagged", "largest shift",
		"in"};
	table(H, hs, "tttnxt",
	      "SELECT kind, field, prov, count(*), max(value), (SELECT q2.period FROM temp.qrow q2"
	      " WHERE q2.chk = 'distribution_shift' AND q2.kind = q.kind AND q2.prov = q.prov AND"
	      " q2.field = q.field ORDER BY q2.value DESC LIMIT 1) FROM temp.qrow q WHERE"
	      " chk = 'distribution_shift' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
	      "No code field shifted sharply between periods.");
}

int yoc__quality_html(struct q *Q, FILE *f, struct yoc_error *e)
{
	struct h H = {Q, f, yoc_store_db(Q->s), e, YOC_OK, NULL};
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<meta name=\"viewport\" content=\"width=device-width\"><title>Data quality report"
		"</title><style>%s</style></head><body>\n<h1>Data quality report</h1>"
		"<p class=meta>Dataset ", css);
	esc(f, yoc_store_dir(Q->s));
	sqlite3_stmt *st = prep(&H, "SELECT max(finished) FROM loads");
	if (st && sqlite3_step(st) == SQLITE_ROW && T(0)) {
		fputs(" &middot; last loaded ", f);
		esc(f, T(0));
	}
	sqlite3_finalize(st);
	fprintf(f, " &middot; %ld findings, all in <a href=\"quality.csv\">quality.csv</a>; "
		"per-provider feedback in <a href=\"feedback/\">feedback/</a></p>\n", Q->findings);
	summary(&H);
	issues(&H);
	caveats(&H);
	section1(&H);
	section2(&H);
	section3(&H);
	fputs("<h2 id=\"files\">Files</h2>\n<details><summary>Every current file</summary>\n", f);
	static const char *const hf[] = {"feed", "provider", "period", "path", "rows", "loaded",
		"quarantined", "rows in the extract", "rejected at source", "opted out",
		"source account"};
	table(&H, hf, "ttttnnbnbbt",
	      "SELECT f.kind, f.provider, f.period, f.path, f.rows, f.loaded, f.quarantined,"
	      " CASE WHEN " ACCT_OK " THEN a.rows_read END, CASE WHEN " ACCT_OK " THEN a.rejected"
	      " END, CASE WHEN " ACCT_OK " THEN a.opted_out END, coalesce(a.status, 'no_account'),"
	      " CASE WHEN " ACCT_OK " AND a.rows_read <> f.loaded + f.quarantined + a.rejected +"
	      " a.opted_out THEN 'bad' WHEN a.status IN ('changed', 'unreadable', 'no_entry',"
	      " 'rows_differ') THEN 'bad' WHEN NOT " ACCT_OK " THEN 'warn' END FROM current_files f"
	      " LEFT JOIN source_account a USING(file_id) ORDER BY 1, 2, 3", "No files.");
	fputs("</details>\n<p class=note>Made by yoc. Every finding, one per row: "
	      "<a href=\"quality.csv\">quality.csv</a>.</p>\n</body></html>\n", f);
	return H.rc;
}

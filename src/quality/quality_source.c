/*
** From the provider's extract to the dataset: for every current file, the
** rows of the source extract (from the source account `yoc pseudonymise`
** wrote and `yoc load` recorded, docs/store.md) against what became of
** them:
**
**     rows in the extract = loaded + quarantined + rejected at source + opted out
**
** with the reasons rows were rejected at source. A file loaded without an
** account is said to have none (its rows rejected or opted out at source are
** not known). Findings go to quality.csv (section profiling: source_rows,
** rows_rejected_at_source, rows_opted_out, source_rows_total) and, per
** provider, feedback/PROVIDER_files.csv. Reads the dataset only: in a
** dataset loaded before accounts existed, empty temporary tables stand in.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quality/quality_int.h"
#include "yoc/io.h"

#define T(i) ((const char *)sqlite3_column_text(st, i))

static int sqlfail(struct q *Q, struct yoc_error *e)
{
	return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "sqlite: %s",
			     sqlite3_errmsg(yoc_store_db(Q->s)));
}

int yoc__quality_source_tables(struct q *Q, struct yoc_error *e)
{
	sqlite3 *db = yoc_store_db(Q->s);
	sqlite3_stmt *st = NULL;
	int have = 0;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM main.sqlite_master WHERE type = 'table'"
			       " AND name IN ('source_account', 'source_rejected')", -1, &st, NULL))
		return sqlfail(Q, e);
	if (sqlite3_step(st) == SQLITE_ROW)
		have = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (have == 2)
		return YOC_OK;
	/* the same tables, empty, in SQLite's temporary database */
	if (sqlite3_exec(db, "DROP TABLE IF EXISTS temp.source_account;"
			 "DROP TABLE IF EXISTS temp.source_rejected;"
			 "CREATE TEMP TABLE source_account(file_id INTEGER PRIMARY KEY, status TEXT,"
			 " account TEXT, entry TEXT, sha256 TEXT, rows_read INTEGER, rows_written"
			 " INTEGER, opted_out INTEGER, rejected INTEGER, rejected_reasons TEXT,"
			 " key_id TEXT, written TEXT, generator TEXT);"
			 "CREATE TEMP TABLE source_rejected(file_id INTEGER, line INTEGER,"
			 " reason TEXT)", NULL, NULL, NULL))
		return sqlfail(Q, e);
	return YOC_OK;
}

void yoc__quality_source_done(struct q *Q)
{
	sqlite3_exec(yoc_store_db(Q->s), "DROP TABLE IF EXISTS temp.source_account;"
		     "DROP TABLE IF EXISTS temp.source_rejected", NULL, NULL, NULL);
}

int yoc__quality_reason_next(const char **p, char *name, size_t cap, int64_t *n)
{
	const char *s = *p;
	while (s && *s == ';')
		s++;
	if (!s || !*s)
		return 0;
	const char *eq = strchr(s, '='), *end = strchr(s, ';');
	if (!end)
		end = s + strlen(s);
	if (!eq || eq > end) {
		*p = end;
		return yoc__quality_reason_next(p, name, cap, n);
	}
	snprintf(name, cap, "%.*s", (int)(eq - s), s);
	*n = strtoll(eq + 1, NULL, 10);
	*p = end;
	return 1;
}

/*
** The row account of each current file. Columns: kind, provider, period,
** path, rows (read by load), loaded, quarantined, status (NULL: loaded
** before accounts existed), rows_read, opted_out, rejected, reasons.
*/
#define FILES_SQL \
	"SELECT f.kind, f.provider, f.period, f.path, f.rows, f.loaded, f.quarantined," \
	" a.status, a.rows_read, a.opted_out, a.rejected, a.rejected_reasons" \
	" FROM current_files f LEFT JOIN source_account a USING(file_id)"

/* Whether a file's account counts (its entry was found by content). */
static int counted(const char *status)
{
	return status && (strcmp(status, "matched") == 0 || strcmp(status, "rows_differ") == 0);
}

static const char *why_not(const char *status)
{
	if (!status || strcmp(status, "no_account") == 0)
		return "no source account: rows rejected or opted out at source are not known";
	if (strcmp(status, "changed") == 0)
		return "the source account's entry has other content: the file changed after it"
		       " was pseudonymised";
	if (strcmp(status, "no_entry") == 0)
		return "not in the source account found beside it";
	if (strcmp(status, "unreadable") == 0)
		return "the source account could not be read";
	return "";
}

int yoc__quality_source(struct q *Q, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(yoc_store_db(Q->s), FILES_SQL " ORDER BY 1, 2, 3", -1, &st, NULL))
		return sqlfail(Q, e);
	int64_t t_read = 0, t_loaded = 0, t_quar = 0, t_rej = 0, t_opt = 0, t_rows = 0;
	long nfiles = 0, nwith = 0, nbad = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *kind = T(0), *prov = T(1), *per = T(2), *status = T(7);
		int64_t rows = sqlite3_column_int64(st, 4), loaded = sqlite3_column_int64(st, 5),
			quar = sqlite3_column_int64(st, 6);
		char detail[700];
		nfiles++;
		if (!counted(status)) {
			snprintf(detail, sizeof detail, "%lld received = %lld loaded + %lld quarantined;"
				 " %s", (long long)rows, (long long)loaded, (long long)quar,
				 why_not(status));
			yoc__quality_row(Q, "profiling", "source_rows", kind, prov, per, "",
					 (double)rows, (double)(loaded + quar),
					 status && strcmp(status, "no_account") ? status : "no_account",
					 detail);
			t_rows += rows;
			continue;
		}
		int64_t read = sqlite3_column_int64(st, 8), opt = sqlite3_column_int64(st, 9),
			rej = sqlite3_column_int64(st, 10);
		const char *reasons = T(11) ? T(11) : "";
		int64_t sum = loaded + quar + rej + opt;
		const char *flag = strcmp(status, "rows_differ") == 0 ? "rows_differ"
				   : read != sum ? "unbalanced" : "";
		nwith++;
		nbad += *flag != 0;
		snprintf(detail, sizeof detail, "%lld in the extract = %lld loaded + %lld quarantined"
			 " + %lld rejected at source%s%s%s + %lld opted out%s", (long long)read,
			 (long long)loaded, (long long)quar, (long long)rej, *reasons ? " (" : "",
			 reasons, *reasons ? ")" : "", (long long)opt,
			 *flag ? "; does not balance" : "");
		yoc__quality_row(Q, "profiling", "source_rows", kind, prov, per, "", (double)read,
				 (double)sum, flag, detail);
		yoc__quality_row(Q, "profiling", "rows_opted_out", kind, prov, per, "", (double)opt,
				 NAN, "", "removed at source: on the opt-out list");
		const char *p = reasons;
		char name[40];
		int64_t n;
		while (yoc__quality_reason_next(&p, name, sizeof name, &n))
			yoc__quality_row(Q, "profiling", "rows_rejected_at_source", kind, prov, per, name,
					 (double)n, NAN, "rejected_at_source",
					 "malformed CSV row, not written by yoc pseudonymise");
		t_read += read;
		t_loaded += loaded;
		t_quar += quar;
		t_rej += rej;
		t_opt += opt;
	}
	sqlite3_finalize(st);
	char detail[600];
	snprintf(detail, sizeof detail, "%ld of %ld files with a source account: %lld in the"
		 " extracts = %lld loaded + %lld quarantined + %lld rejected at source + %lld opted"
		 " out%s; %ld files without (%lld rows received)", nwith, nfiles, (long long)t_read,
		 (long long)t_loaded, (long long)t_quar, (long long)t_rej, (long long)t_opt,
		 nbad ? "; some files do not balance" : "", nfiles - nwith, (long long)t_rows);
	yoc__quality_row(Q, "profiling", "source_rows_total", "", "", "", "", (double)t_read,
			 (double)(t_loaded + t_quar + t_rej + t_opt),
			 nbad || t_read != t_loaded + t_quar + t_rej + t_opt ? "unbalanced"
			 : nfiles > nwith ? "no_account" : "", detail);
	return YOC_OK;
}

int yoc__quality_source_feedback(struct q *Q, const char *dir, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc = YOC_OK, open = 0;
	struct yoc_afile af = {0};
	struct yoc_csvw w;
	char cur[128] = "";
	if (sqlite3_prepare_v2(yoc_store_db(Q->s), FILES_SQL " ORDER BY 2, 1, 3, 4", -1, &st, NULL))
		return sqlfail(Q, e);
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		if (!open || strcmp(cur, T(1))) {
			if (open && (rc = yoc_afile_commit(&af, e)))
				break;
			open = 0;
			snprintf(cur, sizeof cur, "%s", T(1));
			char p[4400];
			snprintf(p, sizeof p, "%s/%s_files.csv", dir, cur[0] ? cur : "unknown");
			if ((rc = yoc_afile_open(&af, p, e)))
				break;
			open = 1;
			yoc_csvw_init(&w, af.f, ',');
			static const char *const h[] = {"file", "kind", "period", "rows_in_extract",
				"loaded", "quarantined", "rejected_at_source", "opted_out", "balances",
				"rejected_reasons", "source_account"};
			for (int i = 0; i < 11; i++)
				yoc_csvw_str(&w, h[i]);
			yoc_csvw_end(&w);
		}
		const char *status = T(7);
		int64_t loaded = sqlite3_column_int64(st, 5), quar = sqlite3_column_int64(st, 6);
		yoc_csvw_str(&w, T(3) ? T(3) : "");
		yoc_csvw_str(&w, T(0));
		yoc_csvw_str(&w, T(2));
		if (counted(status)) {
			int64_t read = sqlite3_column_int64(st, 8), opt = sqlite3_column_int64(st, 9),
				rej = sqlite3_column_int64(st, 10);
			yoc_csvw_int(&w, read);
			yoc_csvw_int(&w, loaded);
			yoc_csvw_int(&w, quar);
			yoc_csvw_int(&w, rej);
			yoc_csvw_int(&w, opt);
			yoc_csvw_str(&w, read == loaded + quar + rej + opt &&
					 strcmp(status, "matched") == 0 ? "yes" : "no");
			yoc_csvw_str(&w, T(11) ? T(11) : "");
		} else {
			yoc_csvw_str(&w, "");
			yoc_csvw_int(&w, loaded);
			yoc_csvw_int(&w, quar);
			yoc_csvw_str(&w, "");
			yoc_csvw_str(&w, "");
			yoc_csvw_str(&w, "unknown");
			yoc_csvw_str(&w, "");
		}
		yoc_csvw_str(&w, status ? status : "no_account");
		yoc_csvw_end(&w);
	}
	if (open) {
		if (!rc && yoc_csvw_status(&w))
			rc = yoc_error_set(e, YOC_EIO, af.path, 0, 0, "write failed");
		if (rc)
			yoc_afile_abort(&af);
		else
			rc = yoc_afile_commit(&af, e);
	}
	sqlite3_finalize(st);
	return rc;
}

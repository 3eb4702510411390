/*
** yoc export: writes any catalog table, or the activity of one feed kind
** (current files; --all adds superseded ones), as CSV.
*/
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"
#include "yoc/csv.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc export --db DIR --table NAME [--out FILE] [--all]\n\n"
	"Writes a table as CSV to FILE (atomically) or stdout. NAME is a catalog\n"
	"table or view (loads, files, current_files, file_columns, quarantine,\n"
	"flags, file_stats, nhsno_status, person, linkage) or a feed kind (apc, op,\n"
	"ae, community, mh, gp_appt, gp_register, social_care, ambulance, deaths,\n"
	"careplan, pam) for its rows: _FILE_ID, _LINE, then the union of the files'\n"
	"columns under their canonical names, values as loaded.\n\n"
	"  --all   with a feed kind: include superseded files\n";

static int export_sql(yoc_store *s, const char *table, struct yoc_csvw *w, struct yoc_error *e)
{
	sqlite3 *db = yoc_store_db(s);
	sqlite3_stmt *st = NULL;
	int rc = YOC_OK;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE name = ? AND type IN"
			       " ('table','view') AND name NOT LIKE 'sqlite_%'", -1, &st, NULL))
		return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "sqlite: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	int found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	st = NULL;
	if (!found)
		return yoc_error_set(e, YOC_ENOTFOUND, table, 0, 0, "no such table; see 'yoc help export'");
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" ORDER BY 1", table);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL))
		return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "sqlite: %s", sqlite3_errmsg(db));
	int nc = sqlite3_column_count(st);
	for (int i = 0; i < nc; i++)
		yoc_csvw_str(w, sqlite3_column_name(st, i));
	yoc_csvw_end(w);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < nc; i++) {
			const char *z = (const char *)sqlite3_column_text(st, i);
			yoc_csvw_cell(w, z ? z : "", z ? (size_t)sqlite3_column_bytes(st, i) : 0);
		}
		yoc_csvw_end(w);
	}
	if (r != SQLITE_DONE)
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "sqlite: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

static int export_kind(yoc_store *s, int kind, int all, struct yoc_csvw *w, struct yoc_error *e)
{
	struct yoc_file_info *fi = NULL;
	size_t nf = 0;
	const char **names = NULL;
	size_t nn = 0;
	int rc = yoc_store_files(s, kind, all, &fi, &nf, e);
	if (rc)
		return rc;
	/* Union of columns in order of first appearance (bounded by total columns). */
	size_t capn = 0;
	yoc_seg **segs = yoc_calloc(nf + 1, sizeof *segs);
	if (!segs) {
		rc = yoc_error_set(e, YOC_ENOMEM, "export", 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < nf; i++) {
		if ((rc = yoc_seg_open(s, fi[i].file_id, &segs[i], e)))
			goto cleanup;
		capn += yoc_seg_ncols(segs[i]);
	}
	names = yoc_calloc(capn + 1, sizeof *names);
	if (!names) {
		rc = yoc_error_set(e, YOC_ENOMEM, "export", 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < nf; i++)
		for (size_t c = 0; c < yoc_seg_ncols(segs[i]); c++) {
			const char *n = yoc_seg_col_name(segs[i], (int)c);
			size_t k = 0;
			while (k < nn && strcmp(names[k], n) != 0)
				k++;
			if (k == nn && strcmp(n, "_LINE") != 0)
				names[nn++] = n;
		}
	yoc_csvw_str(w, "_FILE_ID");
	yoc_csvw_str(w, "_LINE");
	for (size_t k = 0; k < nn; k++)
		yoc_csvw_str(w, names[k]);
	yoc_csvw_end(w);
	int *map = yoc_calloc(nn + 1, sizeof *map);
	if (!map) {
		rc = yoc_error_set(e, YOC_ENOMEM, "export", 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < nf; i++) {
		yoc_seg *g = segs[i];
		for (size_t k = 0; k < nn; k++)
			map[k] = yoc_seg_col(g, names[k]);
		int cl = yoc_seg_col(g, "_LINE");
		char buf[64];
		for (size_t r = 0; r < yoc_seg_nrows(g); r++) {
			yoc_csvw_int(w, fi[i].file_id);
			yoc_csvw_int(w, yoc_seg_int(g, cl, r));
			for (size_t k = 0; k < nn; k++) {
				if (map[k] < 0) {
					yoc_csvw_cell(w, "", 0);
					continue;
				}
				const char *t;
				size_t len = yoc_seg_format(g, map[k], r, buf, sizeof buf, &t);
				yoc_csvw_cell(w, t, len);
			}
			yoc_csvw_end(w);
		}
	}
	yoc_free(map);
cleanup:
	for (size_t i = 0; segs && i < nf; i++)
		yoc_seg_close(segs[i]);
	yoc_free(segs);
	yoc_free(names);
	yoc_store_files_free(fi);
	return rc;
}

static int run(int argc, char **argv)
{
	struct cli_opt opts[] = {
		{"db", 1, NULL}, {"table", 1, NULL}, {"out", 1, NULL}, {"all", 0, NULL}, {NULL, 0, NULL}
	};
	int npos;
	if (cli_parse("export", argc, argv, opts, &npos))
		return 2;
	const char *db = cli_get(opts, "db"), *table = cli_get(opts, "table"), *out = cli_get(opts, "out");
	if (!db || !table || npos) {
		cli_err("export", "give --db DIR and --table NAME; see 'yoc help export'");
		return 2;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_store *s = NULL;
	struct yoc_afile af = {0};
	FILE *f = stdout;
	int rc = 1;
	if (yoc_store_open(&s, db, 0, &e))
		goto fail;
	if (out) {
		yoc_tmp_sweep(out, NULL); /* what killed runs left beside it */
		if (yoc_afile_open(&af, out, &e))
			goto fail;
		f = af.f;
	}
	struct yoc_csvw w;
	yoc_csvw_init(&w, f, ',');
	int kind = yoc_spec_kind_by_name(table);
	int r = kind >= 0 ? export_kind(s, kind, cli_get(opts, "all") != NULL, &w, &e) :
		export_sql(s, table, &w, &e);
	if (r)
		goto fail;
	if (yoc_csvw_status(&w) || (!out && fflush(stdout) != 0)) {
		yoc_error_set(&e, YOC_EIO, out ? out : "stdout", 0, 0, "write failed");
		goto fail;
	}
	if (out && yoc_afile_commit(&af, &e))
		goto fail;
	rc = 0;
	goto done;
fail:
	cli_err_rec("export", &e);
	if (af.f)
		yoc_afile_abort(&af);
done:
	yoc_store_close(s);
	return rc;
}

const struct cli_verb cli_verb_export = {
	"export", "write a dataset table or a feed's activity as CSV", usage_text, run
};

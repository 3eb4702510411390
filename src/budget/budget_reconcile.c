/*
** Reconciliation of providers' billing against the capitated budget: every
** line of a billing feed (contract monitoring, block activity) is checked
** against what was already billed and against the cohort's tags. A line
** billing a record a previous line billed is a duplicate; a line billing
** a record tagged capitated (a member's activity inside membership and the
** service map, already paid by the budget) is paid twice. Writes one
** challenge file per provider and a summary into a folder the caller
** commits. Lines are read in file-name order, then line order, so "the
** first line" is well defined.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget/budget.h"
#include "yoc/csv.h"
#include "yoc/io.h"

struct prov {
	char code[32];
	int64_t lines, billed, dup_n, dup_v, cap_n, cap_v;
	FILE *f;
};

static int key_of(char *buf, size_t cap, struct yoc_cell kind, struct yoc_cell key)
{
	return snprintf(buf, cap, "%.*s|%.*s", (int)kind.n, kind.p, (int)key.n, key.p);
}

static int load_capitated(sqlite3 *db, const char *cohort, struct yoc_map *m,
			  struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT kind, record_key FROM activity_tag WHERE cohort = ?1 AND"
				   " tag = 'capitated' AND record_key IS NOT NULL", -1, &st,
			       NULL) != SQLITE_OK)
		return yoc_error_set(e, YOC_ENOTFOUND, "activity_tag", 0, 0,
				     "no activity tags (run yoc tag --cohort %s first): %s", cohort,
				     sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, cohort, -1, SQLITE_STATIC);
	int rc = 0, s;
	size_t n = 0;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const char *v = (const char *)sqlite3_column_text(st, 1);
		struct yoc_cell kc = {k ? k : "", k ? strlen(k) : 0}, vc = {v ? v : "", v ? strlen(v) : 0};
		char buf[128];
		int l = key_of(buf, sizeof buf, kc, vc);
		if (l > 0 && (size_t)l < sizeof buf && yoc_map_put(m, buf, (size_t)l, 1, NULL)) {
			rc = yoc_error_set(e, YOC_ENOMEM, "reconcile", 0, 0, "out of memory");
			break;
		}
		n++;
	}
	if (!rc && s != SQLITE_DONE)
		rc = yoc_error_set(e, YOC_EIO, "activity_tag", 0, 0, "%s", sqlite3_errmsg(db));
	if (!rc && n == 0)
		rc = yoc_error_set(e, YOC_ENOTFOUND, "activity_tag", 0, 0,
				   "cohort '%s' has no capitated activity tagged (run yoc tag)", cohort);
	sqlite3_finalize(st);
	return rc;
}

static struct prov *prov_get(struct prov **pv, size_t *np, struct yoc_cell code, const char *out,
			     struct yoc_error *e)
{
	for (size_t i = 0; i < *np; i++)
		if (strlen((*pv)[i].code) == code.n && memcmp((*pv)[i].code, code.p, code.n) == 0)
			return &(*pv)[i];
	struct prov *n = yoc_realloc(*pv, (*np + 1) * sizeof *n);
	if (!n) {
		yoc_error_set(e, YOC_ENOMEM, "reconcile", 0, 0, "out of memory");
		return NULL;
	}
	*pv = n;
	struct prov *p = &n[(*np)++];
	memset(p, 0, sizeof *p);
	snprintf(p->code, sizeof p->code, "%.*s", (int)(code.n < 31 ? code.n : 31), code.p);
	/* a provider code names a file: letters and digits only */
	for (char *c = p->code; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')))
			*c = '_';
	char path[4096];
	snprintf(path, sizeof path, "%s/challenges_%s.csv", out, p->code[0] ? p->code : "unknown");
	if (!(p->f = fopen(path, "w"))) {
		yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot write");
		return NULL;
	}
	fputs("line_id,file,line,contract,kind,record_key,activity_date,reason,value,"
	      "first_line_id\n",
	      p->f);
	return p;
}

static void csv_cell(FILE *f, struct yoc_cell c)
{
	int q = 0;
	for (size_t i = 0; i < c.n; i++)
		if (c.p[i] == ',' || c.p[i] == '"' || c.p[i] == '\n' || c.p[i] == '\r')
			q = 1;
	if (!q) {
		fwrite(c.p, 1, c.n, f);
		return;
	}
	fputc('"', f);
	for (size_t i = 0; i < c.n; i++) {
		if (c.p[i] == '"')
			fputc('"', f);
		fputc(c.p[i], f);
	}
	fputc('"', f);
}

int yoc_budget_reconcile(sqlite3 *db, const char *cohort, const char *billing,
			 const char *out, struct yoc_recon_stats *st, struct yoc_error *e)
{
	memset(st, 0, sizeof *st);
	struct yoc_map cap, seen;
	char **paths = NULL;
	size_t np = 0, nprov = 0;
	struct prov *pv = NULL;
	yoc_csv *r = NULL;
	char (*ids)[64] = NULL;
	size_t nids = 0, cids = 0;
	int rc;
	int have_cap = 0, have_seen = 0;
	if (yoc_map_init(&cap, 1 << 12) || yoc_map_init(&seen, 1 << 16)) {
		rc = yoc_error_set(e, YOC_ENOMEM, "reconcile", 0, 0, "out of memory");
		goto cleanup;
	}
	have_cap = have_seen = 1;
	if ((rc = load_capitated(db, cohort, &cap, e)) ||
	    (rc = yoc_list_files(billing, &paths, &np, e)))
		goto cleanup;
	for (size_t i = 0; i < np; i++) {
		size_t pl = strlen(paths[i]);
		if (pl < 4 || strcmp(paths[i] + pl - 4, ".csv") != 0)
			continue;
		struct yoc_csv_opts o = {0};
		if ((rc = yoc_csv_open(&r, paths[i], &o, e)))
			goto cleanup;
		int c_id = yoc_csv_col(r, "LINE_ID"), c_prov = yoc_csv_col(r, "PROVIDER"),
		    c_con = yoc_csv_col(r, "CONTRACT"), c_kind = yoc_csv_col(r, "KIND"),
		    c_key = yoc_csv_col(r, "RECORD_KEY"), c_date = yoc_csv_col(r, "ACTIVITY_DATE"),
		    c_val = yoc_csv_col(r, "VALUE");
		if (c_id < 0 || c_prov < 0 || c_kind < 0 || c_key < 0 || c_val < 0) {
			rc = yoc_error_set(e, YOC_EPARSE, paths[i], 1, 0,
					   "not a billing file: needs LINE_ID, PROVIDER, KIND,"
					   " RECORD_KEY and VALUE");
			goto cleanup;
		}
		st->files++;
		struct yoc_csv_row row;
		int got;
		while ((got = yoc_csv_next(r, &row, e)) != 0) {
			if (got < 0) {
				if (row.fault == YOC_CSV_OK) {
					rc = got;
					goto cleanup;
				}
				st->bad_lines++;
				continue;
			}
			int maxc = c_id;
			int cols[] = {c_prov, c_kind, c_key, c_val, c_con, c_date};
			for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++)
				if (cols[k] > maxc)
					maxc = cols[k];
			int64_t value;
			const struct yoc_cell *c = row.cells;
			if ((size_t)maxc >= row.ncells ||
			    yoc_pounds_parse(c[c_val].p, c[c_val].n, &value)) {
				st->bad_lines++;
				continue;
			}
			struct prov *p = prov_get(&pv, &nprov, c[c_prov], out, e);
			if (!p) {
				rc = e->code ? e->code : YOC_ENOMEM;
				goto cleanup;
			}
			p->lines++;
			p->billed += value;
			st->lines++;
			st->billed += value;
			char kb[160];
			int kl = key_of(kb, sizeof kb, c[c_kind], c[c_key]);
			if (kl <= 0 || (size_t)kl >= sizeof kb || c[c_key].n == 0)
				continue;
			/* the first line billing the record: the map holds its index in ids */
			uint64_t *first = yoc_map_get(&seen, kb, (size_t)kl);
			const char *reason = NULL;
			char first_id[64] = "";
			if (first) {
				reason = "duplicate";
				snprintf(first_id, sizeof first_id, "%s", ids[*first]);
			} else {
				if (nids == cids) {
					size_t nc = cids ? cids * 2 : 4096;
					char(*ni)[64] = yoc_realloc(ids, nc * sizeof *ni);
					if (!ni) {
						rc = yoc_error_set(e, YOC_ENOMEM, "reconcile", 0, 0,
								   "out of memory");
						goto cleanup;
					}
					ids = ni;
					cids = nc;
				}
				snprintf(ids[nids], 64, "%.*s", (int)(c[c_id].n < 63 ? c[c_id].n : 63),
					 c[c_id].p);
				if (yoc_map_put(&seen, kb, (size_t)kl, nids++, NULL)) {
					rc = yoc_error_set(e, YOC_ENOMEM, "reconcile", 0, 0,
							   "out of memory");
					goto cleanup;
				}
				if (yoc_map_get(&cap, kb, (size_t)kl))
					reason = "capitated";
			}
			if (!reason)
				continue;
			int dup = first != NULL;
			if (dup) {
				p->dup_n++;
				p->dup_v += value;
				st->dup_n++;
				st->dup_v += value;
			} else {
				p->cap_n++;
				p->cap_v += value;
				st->cap_n++;
				st->cap_v += value;
			}
			struct yoc_cell fname = {paths[i], strlen(paths[i])};
			csv_cell(p->f, c[c_id]);
			fputc(',', p->f);
			csv_cell(p->f, fname);
			fprintf(p->f, ",%ld,", row.line);
			if (c_con >= 0)
				csv_cell(p->f, c[c_con]);
			fputc(',', p->f);
			csv_cell(p->f, c[c_kind]);
			fputc(',', p->f);
			csv_cell(p->f, c[c_key]);
			fputc(',', p->f);
			if (c_date >= 0)
				csv_cell(p->f, c[c_date]);
			char v[32];
			yoc_pence_format(value, v);
			fprintf(p->f, ",%s,%s,%s\n", reason, v, first_id);
		}
		yoc_csv_close(r);
		r = NULL;
	}
	if (st->files == 0) {
		rc = yoc_error_set(e, YOC_ENOTFOUND, billing, 0, 0, "no billing files (*.csv) found");
		goto cleanup;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/summary.csv", out);
	FILE *f = fopen(path, "w");
	if (!f) {
		rc = yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot write");
		goto cleanup;
	}
	fputs("provider,lines,billed,duplicate_lines,duplicate_value,capitated_lines,"
	      "capitated_value,challenged_value\n", f);
	for (size_t i = 0; i < nprov; i++) {
		const struct prov *p = &pv[i];
		char a[32], b[32], c2[32], d[32];
		yoc_pence_format(p->billed, a);
		yoc_pence_format(p->dup_v, b);
		yoc_pence_format(p->cap_v, c2);
		yoc_pence_format(p->dup_v + p->cap_v, d);
		fprintf(f, "%s,%lld,%s,%lld,%s,%lld,%s,%s\n", p->code, (long long)p->lines, a,
			(long long)p->dup_n, b, (long long)p->cap_n, c2, d);
	}
	st->providers = (int64_t)nprov;
	rc = fclose(f) ? yoc_error_set(e, YOC_EIO, path, 0, 0, "write failed") : 0;
cleanup:
	yoc_csv_close(r);
	for (size_t i = 0; i < nprov; i++)
		if (pv[i].f && fclose(pv[i].f) && !rc)
			rc = yoc_error_set(e, YOC_EIO, out, 0, 0, "write failed");
	yoc_free(pv);
	yoc_free(ids);
	yoc_paths_free(paths);
	if (have_cap)
		yoc_map_free(&cap);
	if (have_seen)
		yoc_map_free(&seen);
	return rc;
}

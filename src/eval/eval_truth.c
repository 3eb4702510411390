/*
** truth/pilot.csv of a synthetic pilot (docs/synth.md, "A pilot"): each
** enrolled person's financial years from the start with every outcome
** without and with the pilot, and the year's service cost. NHS numbers are
** pseudonymised with the key the dataset was made with, so the rows join
** person_year. Read by yoc evaluate (the true effect on the treated) and
** yoc simulate (the enrolled cohort and its true change). This file only
** reads; it does not aggregate.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"
#include "pseudo/pseudo.h"
#include "yoc/csv.h"
#include "yoc/date.h"

/* Maps a truth/pilot.csv column to an outcome index, or -1. */
static int outcome_of(const char *col, size_t n)
{
	for (int k = 0; k < YOC_EVAL_NOUT; k++)
		if (strlen(yoc_eval_outcomes[k]) == n && memcmp(yoc_eval_outcomes[k], col, n) == 0)
			return k;
	return -1;
}

static double cell_num(const struct yoc_csv_row *row, int c)
{
	char a[64];
	if (c < 0 || (size_t)c >= row->ncells)
		return 0;
	snprintf(a, sizeof a, "%.*s", (int)row->cells[c].n, row->cells[c].p);
	return strtod(a, NULL);
}

static int add_person(struct yoc_pilot_truth *t, const char *id, uint32_t *ix)
{
	uint64_t *v = yoc_map_get(&t->map, id, strlen(id));
	if (v) {
		*ix = (uint32_t)*v;
		return 0;
	}
	if (t->n % 1024 == 0) {
		char(*nid)[65] = yoc_realloc(t->id, (t->n + 1024) * sizeof *nid);
		if (!nid)
			return YOC_ENOMEM;
		t->id = nid;
	}
	snprintf(t->id[t->n], sizeof t->id[0], "%s", id);
	if (yoc_map_put(&t->map, id, strlen(id), t->n, NULL))
		return YOC_ENOMEM;
	*ix = (uint32_t)t->n++;
	return 0;
}

int yoc_pilot_truth_read(const char *dir, const char *keypath, struct yoc_pilot_truth *t,
			 struct yoc_error *e)
{
	char path[4096], hex[65];
	struct yoc_key key;
	yoc_pseudo *ps = NULL;
	yoc_csv *r = NULL;
	int rc;
	memset(t, 0, sizeof *t);
	memset(&key, 0, sizeof key);
	snprintf(path, sizeof path, "%s/truth/pilot.csv", dir);
	if ((rc = yoc_map_init(&t->map, 4096)) != 0)
		return yoc_error_set(e, rc, NULL, 0, 0, "out of memory");
	if ((rc = yoc_csv_open(&r, path, NULL, e)) != 0)
		goto cleanup;
	if (keypath) {
		if ((rc = yoc_key_load(&key, keypath, e)))
			goto cleanup;
		if ((rc = yoc_pseudo_create(&ps, &key, 0))) {
			rc = yoc_error_set(e, rc, keypath, 0, 0, "cannot use the key");
			goto cleanup;
		}
	}
	/* columns X_without, X_with of the outcomes */
	int cw[YOC_EVAL_NOUT], cx[YOC_EVAL_NOUT];
	for (int k = 0; k < YOC_EVAL_NOUT; k++)
		cw[k] = cx[k] = -1;
	const struct yoc_cell *h = yoc_csv_header(r);
	for (size_t c = 0; c < yoc_csv_ncols(r); c++) {
		const char *s = h[c].p;
		size_t n = h[c].n;
		if (n > 8 && memcmp(s + n - 8, "_without", 8) == 0 && outcome_of(s, n - 8) >= 0)
			cw[outcome_of(s, n - 8)] = (int)c;
		else if (n > 5 && memcmp(s + n - 5, "_with", 5) == 0 && outcome_of(s, n - 5) >= 0)
			cx[outcome_of(s, n - 5)] = (int)c;
	}
	for (int k = 0; k < YOC_EVAL_NOUT; k++)
		t->have[k] = cw[k] >= 0 && cx[k] >= 0;
	int cn = yoc_csv_col(r, "nhs_number"), cf = yoc_csv_col(r, "fyear");
	int cd = yoc_csv_col(r, "enrol_date"), cs = yoc_csv_col(r, "service_cost");
	if (cn < 0 || cf < 0 || cd < 0) {
		rc = yoc_error_set(e, YOC_EPARSE, path, 1, 1, "not a truth/pilot.csv of yoc synth");
		goto cleanup;
	}
	size_t cap = 0;
	struct yoc_csv_row row;
	int got;
	while ((got = yoc_csv_next(r, &row, e)) > 0) {
		if (row.ncells <= (size_t)cn || row.ncells <= (size_t)cf || row.cells[cn].n != 10)
			continue;
		int fy;
		if (yoc_fyear_parse(row.cells[cf].p, row.cells[cf].n, &fy))
			continue;
		if (t->start == 0 && (size_t)cd < row.ncells)
			yoc_date_parse(row.cells[cd].p, row.cells[cd].n, &t->start);
		char id[65];
		if (ps) {
			yoc_pseudo_hex(ps, row.cells[cn].p, hex);
			memcpy(id, hex, 64);
			id[64] = 0;
		} else {
			memcpy(id, row.cells[cn].p, 10);
			id[10] = 0;
		}
		uint32_t ix;
		if (add_person(t, id, &ix)) {
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			goto cleanup;
		}
		if (t->nrow == cap) {
			size_t nc = cap ? cap * 2 : 1024;
			struct yoc_pilot_truth_row *nr = yoc_realloc(t->row, nc * sizeof *nr);
			if (!nr) {
				rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
				goto cleanup;
			}
			t->row = nr;
			cap = nc;
		}
		struct yoc_pilot_truth_row *tr = &t->row[t->nrow++];
		memset(tr, 0, sizeof *tr);
		tr->person = ix;
		tr->fyear = fy;
		for (int k = 0; k < YOC_EVAL_NOUT; k++) {
			if (!t->have[k])
				continue;
			tr->without[k] = cell_num(&row, cw[k]);
			tr->with[k] = cell_num(&row, cx[k]);
		}
		tr->service = cell_num(&row, cs);
	}
	if (got < 0)
		rc = got;
cleanup:
	yoc_pseudo_free(ps);
	yoc_key_wipe(&key);
	yoc_csv_close(r);
	if (rc)
		yoc_pilot_truth_free(t);
	return rc;
}

void yoc_pilot_truth_free(struct yoc_pilot_truth *t)
{
	if (!t)
		return;
	yoc_free(t->id);
	yoc_free(t->row);
	yoc_map_free(&t->map);
	memset(t, 0, sizeof *t);
}

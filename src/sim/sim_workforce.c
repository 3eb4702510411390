/*
** The workforce table (data/workforce_default.csv, docs/simulation.md):
** per staff group, the activity its contacts come from (a setting's cost,
** emergency bed days, or the scenario's own service), the share of that
** setting's money the group delivers, the cost of one contact, and contacts
** (bed days) per whole-time equivalent a year. Lines starting with # are
** comments ("# version: NAME" names the table). Reads only.
*/
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "yoc/csv.h"
#include "yoc/io.h"

#define MAXWF (64 * 1024)

static int cell_num(struct yoc_cell c, double *out)
{
	char b[64];
	if (c.n == 0 || c.n >= sizeof b)
		return -1;
	memcpy(b, c.p, c.n);
	b[c.n] = 0;
	char *end;
	*out = strtod(b, &end);
	return *end ? -1 : 0;
}

int yoc_workforce_read(const char *path, struct yoc_workforce *w, struct yoc_error *e)
{
	memset(w, 0, sizeof *w);
	char *text = NULL, *body;
	size_t n = 0;
	yoc_csv *r = NULL;
	int rc = yoc_read_file(path, MAXWF, &text, &n, e);
	if (rc)
		return rc;
	/* leading comment lines; the version line names the table */
	body = text;
	long skipped = 0;
	while (body < text + n && *body == '#') {
		char *nl = memchr(body, '\n', (size_t)(text + n - body));
		const char *tag = "# version:";
		if (!strncmp(body, tag, strlen(tag))) {
			const char *v = body + strlen(tag);
			while (*v == ' ')
				v++;
			size_t l = nl ? (size_t)(nl - v) : strlen(v);
			if (l >= sizeof w->version)
				l = sizeof w->version - 1;
			memcpy(w->version, v, l);
			w->version[l] = 0;
		}
		skipped++;
		body = nl ? nl + 1 : text + n;
	}
	struct yoc_csv_opts o = {0};
	o.delim = ',';
	rc = yoc_csv_open_mem(&r, body, (size_t)(text + n - body), path, &o, e);
	if (rc)
		goto cleanup;
	const char *cols[] = {"staff_group", "activity", "share", "unit_cost", "contacts_per_wte"};
	int ci[5];
	for (int i = 0; i < 5; i++)
		if ((ci[i] = yoc_csv_col(r, cols[i])) < 0) {
			rc = yoc_error_set(e, YOC_EPARSE, path, skipped + 1, 0,
					   "missing column %s", cols[i]);
			goto cleanup;
		}
	struct yoc_csv_row row;
	int got;
	while ((got = yoc_csv_next(r, &row, e)) == 1) {
		long line = row.line + skipped;
		if (w->n >= YOC_SIM_MAX_STAFF) {
			rc = yoc_error_set(e, YOC_ETOOBIG, path, line, 0, "more than %d staff groups",
					   YOC_SIM_MAX_STAFF);
			goto cleanup;
		}
		struct yoc_staff *s = &w->s[w->n];
		struct yoc_cell g = row.cells[ci[0]], a = row.cells[ci[1]];
		if (g.n == 0 || g.n >= sizeof s->group) {
			rc = yoc_error_set(e, YOC_EPARSE, path, line, 0, "staff_group: empty or too long");
			goto cleanup;
		}
		memcpy(s->group, g.p, g.n);
		s->group[g.n] = 0;
		s->act = -1;
		if (yoc_cell_eq(a, "bed_days"))
			s->basis = YOC_WF_BED_DAYS;
		else if (yoc_cell_eq(a, "service"))
			s->basis = YOC_WF_SERVICE;
		else {
			s->basis = YOC_WF_SETTING;
			for (int k = 0; k < SA_NCOST; k++)
				if (yoc_cell_eq(a, yoc_sim_act_name[k]))
					s->act = k;
			if (s->act < 0) {
				rc = yoc_error_set(e, YOC_EPARSE, path, line, 0,
						   "activity: '%.*s' is not a setting, bed_days or service",
						   (int)a.n, a.p);
				goto cleanup;
			}
		}
		if (cell_num(row.cells[ci[2]], &s->share) || s->share < 0 || s->share > 1 ||
		    cell_num(row.cells[ci[3]], &s->unit_cost) || s->unit_cost < 0 ||
		    cell_num(row.cells[ci[4]], &s->per_wte) || s->per_wte <= 0 ||
		    (s->basis == YOC_WF_SETTING && s->unit_cost <= 0)) {
			rc = yoc_error_set(e, YOC_EPARSE, path, line, 0,
					   "share (0..1), unit_cost (> 0 for a setting) and contacts_per_wte (> 0) must be numbers");
			goto cleanup;
		}
		w->n++;
	}
	if (got < 0)
		rc = got;
cleanup:
	yoc_csv_close(r);
	yoc_free(text);
	return rc;
}

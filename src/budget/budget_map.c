/*
** The service map: which care is inside the capitated budget, by setting,
** point of delivery, HRG prefix (or treatment function), provider and
** effective dates (docs/budget.md). Parsing checks the file as a whole:
** every value known, no two lines with one scope on one day, no two
** equally specific lines that would decide one row differently. Deciding a
** row takes the most specific matching line; no line means outside.
*/
#include <stdio.h>
#include <string.h>

#include "budget/budget.h"
#include "cost/cost.h"
#include "yoc/csv.h"
#include "yoc/date.h"
#include "yoc/io.h"

struct yoc_smap {
	char version[64];
	struct yoc_smap_line *l;
	size_t n;
};

void yoc_smap_free(yoc_smap *m)
{
	if (!m)
		return;
	yoc_free(m->l);
	yoc_free(m);
}

static const char *const cols[] = {
	"version", "decision", "setting", "pod", "hrg", "provider",
	"effective_from", "effective_to", "note"
};
enum { C_VERSION, C_DECISION, C_SETTING, C_POD, C_HRG, C_PROVIDER, C_FROM, C_TO, C_NOTE, NCOLS };

static int is_any(struct yoc_cell c)
{
	return c.n == 0 || (c.n == 1 && c.p[0] == '*');
}

static int copy_cell(char *dst, size_t cap, struct yoc_cell c)
{
	if (c.n >= cap)
		return -1;
	memcpy(dst, c.p, c.n);
	dst[c.n] = 0;
	return 0;
}

static int specificity(const struct yoc_smap_line *a)
{
	return (a->setting >= 0) + (a->pod[0] != 0) + (a->hrg[0] != 0) + (a->provider[0] != 0);
}

static int prefix_compat(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	return !na || !nb || strncmp(a, b, na < nb ? na : nb) == 0;
}

/* Both lines can match one row. */
static int compatible(const struct yoc_smap_line *a, const struct yoc_smap_line *b)
{
	return (a->setting < 0 || b->setting < 0 || a->setting == b->setting) &&
	       (!a->pod[0] || !b->pod[0] || strcmp(a->pod, b->pod) == 0) &&
	       prefix_compat(a->hrg, b->hrg) &&
	       (!a->provider[0] || !b->provider[0] || strcmp(a->provider, b->provider) == 0);
}

static int same_scope(const struct yoc_smap_line *a, const struct yoc_smap_line *b)
{
	return a->setting == b->setting && strcmp(a->pod, b->pod) == 0 &&
	       strcmp(a->hrg, b->hrg) == 0 && strcmp(a->provider, b->provider) == 0;
}

static int pod_known(const char *s)
{
	for (int p = 0; p < YOC_POD_COUNT; p++)
		if (strcmp(yoc_pod_name(p), s) == 0)
			return 1;
	return 0;
}

static int parse_date(struct yoc_cell c, int32_t *out)
{
	return yoc_date_parse(c.p, c.n, out) == YOC_DATE_VALID ? 0 : -1;
}

int yoc_smap_parse(const char *text, size_t n, const char *name, yoc_smap **out,
		   struct yoc_error *e)
{
	*out = NULL;
	yoc_csv *r = NULL;
	yoc_smap *m = yoc_calloc(1, sizeof *m);
	int rc = 0, col[NCOLS];
	size_t cap = 0;
	if (!m)
		return yoc_error_set(e, YOC_ENOMEM, name, 0, 0, "out of memory");
	struct yoc_csv_opts o = {0};
	o.delim = ',';
	if ((rc = yoc_csv_open_mem(&r, text, n, name, &o, e)))
		goto cleanup;
	for (int k = 0; k < NCOLS; k++)
		if ((col[k] = yoc_csv_col(r, cols[k])) < 0 && k != C_NOTE) {
			rc = yoc_error_set(e, YOC_EPARSE, name, 1, 0,
					   "missing column '%s' (header: version,decision,setting,"
					   "pod,hrg,provider,effective_from,effective_to,note)", cols[k]);
			goto cleanup;
		}
	struct yoc_csv_row row;
	int got;
	while ((got = yoc_csv_next(r, &row, e)) == 1) {
		struct yoc_smap_line L;
		memset(&L, 0, sizeof L);
		L.line = row.line;
		L.setting = -1;
		L.to = INT32_MAX;
		const struct yoc_cell *c = row.cells;
		if (row.ncells == 1 && c[0].n == 0)
			continue;
		if (row.ncells < (size_t)NCOLS - (col[C_NOTE] < 0)) {
			rc = yoc_error_set(e, YOC_EPARSE, name, row.line, 0, "too few fields");
			goto cleanup;
		}
		struct yoc_cell v = c[col[C_VERSION]];
		if (!m->version[0]) {
			if (v.n == 0 || copy_cell(m->version, sizeof m->version, v)) {
				rc = yoc_error_set(e, YOC_EPARSE, name, row.line, 0,
						   "version must be given (at most 63 characters)");
				goto cleanup;
			}
		} else if (v.n != strlen(m->version) || memcmp(v.p, m->version, v.n) != 0) {
			rc = yoc_error_set(e, YOC_EPARSE, name, row.line, 0,
					   "version '%.*s' differs from the file's '%s'", (int)v.n,
					   v.p, m->version);
			goto cleanup;
		}
		struct yoc_cell d = c[col[C_DECISION]];
		if (d.n == 2 && memcmp(d.p, "in", 2) == 0)
			L.in = 1;
		else if (!(d.n == 3 && memcmp(d.p, "out", 3) == 0)) {
			rc = yoc_error_set(e, YOC_EPARSE, name, row.line, 0,
					   "decision '%.*s' must be 'in' or 'out'", (int)d.n, d.p);
			goto cleanup;
		}
		struct yoc_cell s = c[col[C_SETTING]];
		if (!is_any(s) && (L.setting = yoc_budget_setting_of(s.p, s.n)) < 0) {
			rc = yoc_error_set(e, YOC_EPARSE, name, row.line, 0,
					   "unknown setting '%.*s' (elective, nonelective, daycase,"
					   " outpatient, ae, community, mh, gp, social_care,"
					   " ambulance or *)", (int)s.n, s.p);
			goto cleanup;
		}
		struct yoc_cell pd = c[col[C_POD]];
		if (!is_any(pd) && (copy_cell(L.pod, sizeof L.pod, pd) || !pod_known(L.pod))) {
			rc = yoc_error_set(e, YOC_EPARSE, name, row.line, 0,
					   "unknown point of delivery '%.*s'", (int)pd.n, pd.p);
			goto cleanup;
		}
		if ((!is_any(c[col[C_HRG]]) && copy_cell(L.hrg, sizeof L.hrg, c[col[C_HRG]])) ||
		    (!is_any(c[col[C_PROVIDER]]) &&
		     copy_cell(L.provider, sizeof L.provider, c[col[C_PROVIDER]]))) {
			rc = yoc_error_set(e, YOC_EPARSE, name, row.line, 0,
					   "hrg or provider too long");
			goto cleanup;
		}
		if (parse_date(c[col[C_FROM]], &L.from) ||
		    (c[col[C_TO]].n && parse_date(c[col[C_TO]], &L.to))) {
			rc = yoc_error_set(e, YOC_EPARSE, name, row.line, 0,
					   "effective_from must be a date (YYYY-MM-DD) and"
					   " effective_to a date or empty");
			goto cleanup;
		}
		if (L.to < L.from) {
			rc = yoc_error_set(e, YOC_EPARSE, name, row.line, 0,
					   "effective_to is before effective_from");
			goto cleanup;
		}
		if (col[C_NOTE] >= 0 && (size_t)col[C_NOTE] < row.ncells) {
			struct yoc_cell nt = c[col[C_NOTE]];
			snprintf(L.note, sizeof L.note, "%.*s", (int)nt.n, nt.p);
		}
		for (size_t i = 0; i < m->n; i++) {
			const struct yoc_smap_line *a = &m->l[i];
			if (a->to < L.from || L.to < a->from)
				continue;
			if (same_scope(a, &L)) {
				rc = yoc_error_set(e, YOC_EDATA, name, row.line, 0,
						   "overlaps line %ld: the same scope with"
						   " overlapping effective dates", a->line);
				goto cleanup;
			}
			if (a->in != L.in && specificity(a) == specificity(&L) && compatible(a, &L)) {
				rc = yoc_error_set(e, YOC_EDATA, name, row.line, 0,
						   "contradicts line %ld: equally specific lines"
						   " decide the same activity 'in' and 'out' on the"
						   " same days (make one narrower)", a->line);
				goto cleanup;
			}
		}
		if (m->n == cap) {
			size_t nc = cap ? cap * 2 : 32;
			struct yoc_smap_line *nl = yoc_realloc(m->l, nc * sizeof *nl);
			if (!nl) {
				rc = yoc_error_set(e, YOC_ENOMEM, name, row.line, 0, "out of memory");
				goto cleanup;
			}
			m->l = nl;
			cap = nc;
		}
		m->l[m->n++] = L;
	}
	if (got < 0) {
		rc = got;
		goto cleanup;
	}
	if (m->n == 0) {
		rc = yoc_error_set(e, YOC_EPARSE, name, 1, 0, "the service map has no lines");
		goto cleanup;
	}
	*out = m;
	m = NULL;
cleanup:
	yoc_csv_close(r);
	yoc_smap_free(m);
	return rc;
}

int yoc_smap_load(const char *path, yoc_smap **out, struct yoc_error *e)
{
	*out = NULL;
	char *text = NULL;
	size_t n = 0;
	int rc = yoc_read_file(path, 16u << 20, &text, &n, e);
	if (rc)
		return rc;
	rc = yoc_smap_parse(text, n, path, out, e);
	yoc_free(text);
	return rc;
}

const char *yoc_smap_version(const yoc_smap *m) { return m->version; }
size_t yoc_smap_count(const yoc_smap *m) { return m->n; }
const struct yoc_smap_line *yoc_smap_line_at(const yoc_smap *m, size_t i) { return &m->l[i]; }

static int matches(const struct yoc_smap_line *a, int setting, const char *pod,
		   const char *hrg, const char *provider, int32_t date)
{
	if (date < a->from || date > a->to)
		return 0;
	if (a->setting >= 0 && a->setting != setting)
		return 0;
	if (a->pod[0] && strcmp(a->pod, pod) != 0)
		return 0;
	if (a->hrg[0] && strncmp(a->hrg, hrg, strlen(a->hrg)) != 0)
		return 0;
	if (a->provider[0] && strcmp(a->provider, provider) != 0)
		return 0;
	return 1;
}

int yoc_smap_decide(const yoc_smap *m, int setting, const char *pod, const char *hrg,
		    const char *provider, int32_t date, long *line)
{
	int best = -1;
	size_t at = 0;
	for (size_t i = 0; i < m->n; i++) {
		const struct yoc_smap_line *a = &m->l[i];
		if (!matches(a, setting, pod ? pod : "", hrg ? hrg : "", provider ? provider : "",
			     date))
			continue;
		int s = specificity(a);
		if (s > best) {
			best = s;
			at = i;
		}
	}
	if (line)
		*line = best < 0 ? -1 : (long)at;
	return best < 0 ? 0 : m->l[at].in;
}

void yoc_smap_settings(const yoc_smap *m, int32_t date, int in[YOC_BSET_COUNT],
		       int partial[YOC_BSET_COUNT])
{
	for (int s = 0; s < YOC_BSET_COUNT; s++) {
		in[s] = yoc_smap_decide(m, s, "", "", "", date, NULL);
		partial[s] = 0;
		for (size_t i = 0; i < m->n; i++) {
			const struct yoc_smap_line *a = &m->l[i];
			if (date >= a->from && date <= a->to &&
			    (a->setting < 0 || a->setting == s) &&
			    (a->pod[0] || a->hrg[0] || a->provider[0]))
				partial[s] = 1;
		}
	}
}

/*
** The report's table model (report_int.h): tables published through
** disclosure control, each written as HTML, CSV and a workbook sheet from
** the one model, so the three can never disagree.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/report_int.h"
#include "report/svg.h"
#include "yoc/csv.h"
#include "yoc/io.h"

const int yoc__kinds_count[13] = {K_TEXT, K_COUNT, K_COUNT, K_COUNT, K_COUNT, K_COUNT,
				  K_COUNT, K_COUNT, K_COUNT, K_COUNT, K_COUNT, K_COUNT,
				  K_COUNT};

struct ptable *yoc__pt_new(struct ctx *c, const char *id, const char *title,
			     const char *note, int ncols, const char *const *cols,
			     const int *kinds)
{
	struct ptable *t = yoc_arena_alloc(&c->ar, sizeof *t);
	if (!t) {
		c->oom = 1;
		return NULL;
	}
	memset(t, 0, sizeof *t);
	t->id = id;
	t->title = title;
	t->note = note;
	t->ncols = ncols;
	for (int k = 0; k < ncols; k++) {
		t->cols[k] = cols[k];
		t->kinds[k] = kinds[k];
	}
	return t;
}

struct pcell *yoc__pt_row(struct ctx *c, struct ptable *t)
{
	if (t->nrows == t->cap) {
		int nc = t->cap ? t->cap * 2 : 32;
		struct pcell *p = yoc_arena_alloc(&c->ar, sizeof *p * (size_t)nc * t->ncols);
		if (!p) {
			c->oom = 1;
			return NULL;
		}
		if (t->cells)
			memcpy(p, t->cells, sizeof *p * (size_t)t->nrows * t->ncols);
		t->cells = p;
		t->cap = nc;
	}
	struct pcell *r = &t->cells[(size_t)t->nrows++ * t->ncols];
	memset(r, 0, sizeof *r * t->ncols);
	return r;
}

const char *yoc__pt_str(struct ctx *c, const char *s)
{
	char *p = yoc_arena_strndup(&c->ar, s, strlen(s));
	if (!p)
		c->oom = 1;
	return p ? p : "";
}

void yoc__set_count(struct pcell *p, int64_t published)
{
	p->hidden = published == YOC_SDC_HIDDEN;
	p->i = published;
}

void yoc__set_pence(struct pcell *p, int64_t v, int ok)
{
	p->hidden = !ok;
	p->i = v;
}

void yoc__set_pct(struct pcell *p, double v, int ok)
{
	p->hidden = !ok || isnan(v);
	p->d = v;
}

/* ---- formatting --------------------------------------------------------- */

static void fmt_pence(int64_t v, int html, char *buf, size_t n)
{
	char t[32];
	if (html) {
		/* whole pounds, rounded half up, with separators */
		int64_t pounds = v >= 0 ? (v + 50) / 100 : -((-v + 50) / 100);
		snprintf(buf, n, "£%s", yoc_sdc_fmt(pounds, 1, t));
	} else {
		int64_t a = v < 0 ? -v : v;
		snprintf(buf, n, "%s%lld.%02lld", v < 0 ? "-" : "", (long long)(a / 100),
			 (long long)(a % 100));
	}
}

static void cell_text(const struct ptable *t, int col, const struct pcell *p, int html,
		      char *buf, size_t n)
{
	char tmp[32];
	int kind = yoc__cell_kind(t, col, p);
	if (kind != K_TEXT && p->hidden) {
		snprintf(buf, n, "*");
		return;
	}
	switch (kind) {
	case K_TEXT: snprintf(buf, n, "%s", p->s ? p->s : ""); break;
	case K_COUNT: snprintf(buf, n, "%s", yoc_sdc_fmt(p->i, html, tmp)); break;
	case K_PENCE: fmt_pence(p->i, html, buf, n); break;
	case K_PCT: snprintf(buf, n, html ? "%.1f%%" : "%.1f", p->d); break;
	case K_NUM:
		if (p->d == floor(p->d) && fabs(p->d) < 1e15)
			snprintf(buf, n, "%s", yoc_sdc_fmt((int64_t)p->d, html, tmp));
		else
			snprintf(buf, n, "%.1f", p->d);
		break;
	case K_RATIO: snprintf(buf, n, "%.2f", p->d); break;
	case K_R2: snprintf(buf, n, "%.3f", p->d); break;
	default: snprintf(buf, n, "%.4f", p->d); break;
	}
}

const char yoc__banner_text[] =
	"NOT DISCLOSURE CONTROLLED: produced with --no-suppression. Small counts "
	"are shown exactly. For analysts inside the secure setting only; do not "
	"publish or share.";

int yoc__html_table(struct ctx *c, struct yoc_buf *b, const struct ptable *t)
{
	char buf[128];
	/* more than 8 columns print on a landscape page (report_html.c) */
	int rc = yoc_buf_puts(b, t->ncols > 8 ? "<div class=\"tw wide\"><table><caption>"
					      : "<div class=\"tw\"><table><caption>");
	rc |= yoc__html_esc(b, t->title);
	rc |= yoc_buf_puts(b, "</caption><thead><tr>");
	for (int k = 0; k < t->ncols; k++) {
		rc |= yoc_buf_puts(b, t->kinds[k] == K_TEXT ? "<th>" : "<th class=\"n\">");
		rc |= yoc__html_esc(b, t->cols[k]);
		rc |= yoc_buf_puts(b, "</th>");
	}
	rc |= yoc_buf_puts(b, "</tr></thead><tbody>\n");
	for (int r = 0; r < t->nrows; r++) {
		const struct pcell *row = &t->cells[(size_t)r * t->ncols];
		int total = row[0].s && strncmp(row[0].s, "Total", 5) == 0;
		rc |= yoc_buf_puts(b, total ? "<tr class=\"tot\">" : "<tr>");
		for (int k = 0; k < t->ncols; k++) {
			cell_text(t, k, &row[k], 1, buf, sizeof buf);
			rc |= yoc_buf_puts(b, t->kinds[k] == K_TEXT ? "<td>" : "<td class=\"n\">");
			rc |= yoc__html_esc(b, buf);
			rc |= yoc_buf_puts(b, "</td>");
		}
		rc |= yoc_buf_puts(b, "</tr>\n");
	}
	rc |= yoc_buf_puts(b, "</tbody></table>");
	if (t->note) {
		rc |= yoc_buf_puts(b, "<p class=\"note\">");
		rc |= yoc__html_esc(b, t->note);
		rc |= yoc_buf_puts(b, "</p>");
	}
	rc |= yoc_buf_printf(b, "<p class=\"note\">Also as <a href=\"%scsv/%s.csv\">CSV</a>.</p></div>\n",
			     strchr(t->id, '/') ? "../" : "", t->id);
	if (rc)
		c->oom = 1;
	return rc;
}

int yoc__write_buf(struct ctx *c, const char *path, const struct yoc_buf *b)
{
	struct yoc_afile f;
	int rc = yoc_afile_open(&f, path, c->e);
	if (rc)
		return rc;
	if (b->len)
		fwrite(b->data, 1, b->len, f.f);
	rc = yoc_afile_commit(&f, c->e);
	if (!rc)
		c->files++;
	return rc;
}

int yoc__write_csv(struct ctx *c, const struct ptable *t)
{
	char path[4096], buf[128];
	snprintf(path, sizeof path, "%s/csv/%s.csv", c->o->out, t->id);
	struct yoc_afile f;
	int rc = yoc_afile_open(&f, path, c->e);
	if (rc)
		return rc;
	if (c->o->sdc.off)
		fprintf(f.f, "# %s\n", yoc__banner_text);
	struct yoc_csvw w;
	yoc_csvw_init(&w, f.f, ',');
	for (int k = 0; k < t->ncols; k++) {
		/* machine-friendly header: lower case, '_' for anything else */
		char h[96];
		size_t j = 0;
		for (const char *s = t->cols[k]; *s && j < sizeof h - 1; s++) {
			char ch = *s;
			if (ch >= 'A' && ch <= 'Z')
				ch = (char)(ch - 'A' + 'a');
			if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')))
				ch = '_';
			if (ch == '_' && (j == 0 || h[j - 1] == '_'))
				continue;
			h[j++] = ch;
		}
		while (j && h[j - 1] == '_')
			j--;
		h[j] = 0;
		yoc_csvw_str(&w, h);
	}
	yoc_csvw_end(&w);
	for (int r = 0; r < t->nrows; r++) {
		for (int k = 0; k < t->ncols; k++) {
			cell_text(t, k, &t->cells[(size_t)r * t->ncols + k], 0, buf, sizeof buf);
			yoc_csvw_str(&w, buf);
		}
		yoc_csvw_end(&w);
	}
	if (yoc_csvw_status(&w)) {
		yoc_afile_abort(&f);
		return yoc_error_set(c->e, YOC_EIO, path, 0, 0, "write failed");
	}
	rc = yoc_afile_commit(&f, c->e);
	if (!rc)
		c->files++;
	return rc;
}

void yoc__add_table(struct ctx *c, struct ptable *t)
{
	if (!t)
		return;
	if (c->last)
		c->last->next = t;
	else
		c->tables = t;
	c->last = t;
}


/* Publishes a table of counts through yoc_sdc_protect. */
int yoc__protect(struct ctx *c, int nr, int nc, int tr, int tc, const int64_t *v,
		   unsigned char *state, int64_t *out)
{
	int rc = yoc_sdc_protect(&c->o->sdc, nr, nc, tr, tc, v, state, out);
	if (rc)
		yoc_error_set(c->e, rc, NULL, 0, 0, "disclosure control failed (%s)",
			      yoc_status_str(rc));
	return rc;
}

/*
** Sums of money over groups published beside their total: hide further
** sums (smallest first) until no hidden sum can be had by subtraction.
*/
void yoc__protect_sums(int n, const int64_t *v, int *hidden)
{
	for (;;) {
		int nh = 0;
		for (int i = 0; i < n; i++)
			nh += hidden[i] != 0;
		if (nh != 1)
			return;
		int best = -1;
		for (int i = 0; i < n; i++)
			if (!hidden[i] && (best < 0 || v[i] < v[best]))
				best = i;
		if (best < 0)
			return;
		hidden[best] = 1; /* two hidden in one sum: one equation, two unknowns */
	}
}

double yoc__pub_pct(int64_t num, int64_t den)
{
	if (num == YOC_SDC_HIDDEN || den == YOC_SDC_HIDDEN || den <= 0)
		return NAN;
	return 100.0 * (double)num / (double)den;
}

double yoc__dv(int64_t published)
{
	return published == YOC_SDC_HIDDEN ? NAN : (double)published;
}

int yoc__report_has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *q = NULL;
	int yes = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view')"
			       " AND name = ?1", -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
		yes = sqlite3_step(q) == SQLITE_ROW;
	}
	sqlite3_finalize(q);
	return yes;
}

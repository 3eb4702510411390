/*
** The report (see report.h): one streaming pass over person_year for the
** year reported accumulates every aggregate; tables are then published
** through disclosure control into a small table model (struct ptable), and
** each table is written three ways (HTML, CSV, a workbook sheet) from that
** one model, so the three can never disagree. Reads the database only.
*/
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "report/report.h"
#include "report/svg.h"
#include "yoc/csv.h"
#include "yoc/io.h"

#define NSET 10
#define NAGE 19     /* 0-4 ... 85-89, 90+ */
#define NLTC 10     /* 0 ... 8, 9+ */
#define NMM 6       /* 0, 1, 2, 3-4, 5+ LTCs ... and the total */
#define MAXBAND 16
#define MAXCOL 24

static const char *const set_col[NSET] = {
	"cost_elective", "cost_nonelective", "cost_daycase", "cost_outpatient",
	"cost_ae", "cost_community", "cost_mh", "cost_gp", "cost_social_care",
	"cost_ambulance"};
static const char *const set_name[NSET] = {
	"Elective", "Non-elective", "Day case", "Outpatient", "A&E", "Community",
	"Mental health", "GP", "Social care", "Ambulance"};
static const char *const age_name[NAGE] = {
	"0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44",
	"45-49", "50-54", "55-59", "60-64", "65-69", "70-74", "75-79", "80-84",
	"85-89", "90+"};
static const char *const ltc_name[NLTC] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9+"};
static const char *const phys_name[5] = {"0", "1", "2", "3", "4+"};

/* ---- accumulation ---------------------------------------------------- */

struct grp {
	int64_t n, cost, emerg, mm, mental, age65;
	int64_t set[NSET];
};

struct prac {
	char code[32];
	int unknown;     /* the "practice unknown" group: no organisation, no pack */
	struct grp all;
	int64_t pop[NAGE][3];
	int64_t ltc[NLTC];
	int64_t band[MAXBAND];
};

struct acc {
	struct grp all;
	int64_t pop[NAGE][3];            /* female, male, other/unknown */
	int64_t mm[NAGE][NMM - 1];
	struct grp ltc[NLTC];
	int64_t pm[5][3];
	int64_t pm_cost[5][3];
	int64_t set_people[NSET];
	int nband;
	char band[MAXBAND][8];
	struct grp bandg[MAXBAND];
	int64_t *bcost[MAXBAND];         /* every person's cost, for percentiles */
	size_t bcap[MAXBAND];
	long double age_sum[NAGE], ltc_sum[NLTC], band_sum[MAXBAND], sum, sumsq;
	struct prac *prac;
	size_t nprac, cprac;
	struct yoc_map pmap;
};

static int age_band(int64_t age)
{
	if (age < 0)
		age = 0;
	return age >= 90 ? NAGE - 1 : (int)(age / 5);
}

static void grp_add(struct grp *g, int64_t cost, const int64_t *set, int64_t emerg,
		    int64_t ltc, int64_t mental, int64_t age)
{
	g->n++;
	g->cost += cost;
	g->emerg += emerg;
	g->mm += ltc >= 2;
	g->mental += mental > 0;
	g->age65 += age >= 65;
	for (int k = 0; k < NSET; k++)
		g->set[k] += set[k];
}

static int sex_index(const unsigned char *s)
{
	if (!s)
		return 2;
	if (s[0] == 'F' || s[0] == 'f' || (s[0] == '2' && !s[1]))
		return 0;
	if (s[0] == 'M' || s[0] == 'm' || (s[0] == '1' && !s[1]))
		return 1;
	return 2;
}

static int band_index(struct acc *a, const char *b)
{
	for (int i = 0; i < a->nband; i++)
		if (strcmp(a->band[i], b) == 0)
			return i;
	if (a->nband == MAXBAND)
		return -1;
	snprintf(a->band[a->nband], sizeof a->band[0], "%s", b);
	return a->nband++;
}

static struct prac *prac_get(struct acc *a, const char *code)
{
	size_t n = strlen(code);
	uint64_t *v = yoc_map_get(&a->pmap, code, n);
	if (v)
		return &a->prac[*v];
	if (a->nprac == a->cprac) {
		size_t c = a->cprac ? a->cprac * 2 : 64;
		struct prac *p = yoc_realloc(a->prac, c * sizeof *p);
		if (!p)
			return NULL;
		a->prac = p;
		a->cprac = c;
	}
	if (yoc_map_put(&a->pmap, code, n, a->nprac, NULL))
		return NULL;
	struct prac *p = &a->prac[a->nprac++];
	memset(p, 0, sizeof *p);
	snprintf(p->code, sizeof p->code, "%s", code);
	return p;
}

/*
** The group of a person-year's practice. analyse leaves practice NULL when
** the GP register's code failed validation (docs/analysis.md): such people
** are the "practice unknown" group, counted like a practice but never shown
** as an organisation (no code, no data pack).
*/
static const char unknown_label[] = "Practice unknown";

static struct prac *prac_of(struct acc *a, const char *code)
{
	int unknown = !code || !code[0];
	struct prac *p = prac_get(a, unknown ? "" : code);
	if (p && unknown)
		p->unknown = 1;
	return p;
}

static int prac_cmp(const void *x, const void *y)
{
	const struct prac *a = x, *b = y;
	if (a->unknown != b->unknown)
		return a->unknown - b->unknown; /* practice unknown last */
	return strcmp(a->code, b->code);
}

static int i64_cmp(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return a < b ? -1 : a > b;
}

static int accumulate(sqlite3 *db, const char *fyear, struct acc *a, struct yoc_error *e)
{
	struct yoc_buf q;
	yoc_buf_init(&q, 0);
	yoc_buf_puts(&q, "SELECT age, sex, practice, ltc_count, mental_ltc_count, band, "
			 "emergency_admissions, cost_total");
	for (int k = 0; k < NSET; k++)
		yoc_buf_printf(&q, ", %s", set_col[k]);
	yoc_buf_puts(&q, " FROM person_year WHERE fyear = ?1");
	sqlite3_stmt *st = NULL;
	int rc = 0;
	if (!q.data || sqlite3_prepare_v2(db, q.data, -1, &st, NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EDATA, "person_year", 0, 0,
				   "cannot read person_year: %s", sqlite3_errmsg(db));
		goto cleanup;
	}
	sqlite3_bind_text(st, 1, fyear, -1, SQLITE_STATIC);
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t age = sqlite3_column_int64(st, 0);
		int sx = sex_index(sqlite3_column_text(st, 1));
		const char *pr = (const char *)sqlite3_column_text(st, 2);
		int64_t ltc = sqlite3_column_int64(st, 3);
		int64_t ment = sqlite3_column_int64(st, 4);
		const char *bd = (const char *)sqlite3_column_text(st, 5);
		int64_t emerg = sqlite3_column_int64(st, 6);
		int64_t cost = sqlite3_column_int64(st, 7);
		int64_t set[NSET];
		for (int k = 0; k < NSET; k++) {
			set[k] = sqlite3_column_int64(st, 8 + k);
			a->set_people[k] += set[k] != 0;
		}
		int ab = age_band(age), lg = ltc >= 9 ? 9 : (int)(ltc < 0 ? 0 : ltc);
		int mg = ltc >= 5 ? 4 : ltc >= 3 ? 3 : (int)(ltc < 0 ? 0 : ltc);
		int64_t phys = ltc - ment;
		int pg = phys >= 4 ? 4 : (int)(phys < 0 ? 0 : phys);
		int mtg = ment >= 2 ? 2 : (int)(ment < 0 ? 0 : ment);
		int bi = band_index(a, bd ? bd : "?");
		if (bi < 0) {
			rc = yoc_error_set(e, YOC_EDATA, "person_year", 0, 0,
					   "more than %d currency bands", MAXBAND);
			goto cleanup;
		}
		grp_add(&a->all, cost, set, emerg, ltc, ment, age);
		grp_add(&a->ltc[lg], cost, set, emerg, ltc, ment, age);
		grp_add(&a->bandg[bi], cost, set, emerg, ltc, ment, age);
		a->pop[ab][sx]++;
		a->mm[ab][mg]++;
		a->pm[pg][mtg]++;
		a->pm_cost[pg][mtg] += cost;
		long double c = (long double)cost;
		a->age_sum[ab] += c;
		a->ltc_sum[lg] += c;
		a->band_sum[bi] += c;
		a->sum += c;
		a->sumsq += c * c;
		if (a->bandg[bi].n > (int64_t)a->bcap[bi]) {
			size_t nc = a->bcap[bi] ? a->bcap[bi] * 2 : 1024;
			int64_t *p = yoc_realloc(a->bcost[bi], nc * sizeof *p);
			if (!p) {
				rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
				goto cleanup;
			}
			a->bcost[bi] = p;
			a->bcap[bi] = nc;
		}
		a->bcost[bi][a->bandg[bi].n - 1] = cost;
		struct prac *p = prac_of(a, pr);
		if (!p) {
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			goto cleanup;
		}
		grp_add(&p->all, cost, set, emerg, ltc, ment, age);
		p->pop[ab][sx]++;
		p->ltc[lg]++;
		p->band[bi]++;
	}
	if (s != SQLITE_DONE)
		rc = yoc_error_set(e, YOC_EDATA, "person_year", 0, 0, "reading person_year: %s",
				   sqlite3_errmsg(db));
cleanup:
	sqlite3_finalize(st);
	yoc_buf_free(&q);
	return rc;
}

/* ---- the table model -------------------------------------------------- */

enum { K_TEXT, K_COUNT, K_PENCE, K_PCT, K_REAL, K_NUM };

struct pcell {
	int64_t i;
	double d;
	const char *s;
	int hidden;
};

struct ptable {
	const char *id, *title, *note;
	int ncols, nrows, cap;
	const char *cols[MAXCOL];
	int kinds[MAXCOL];
	struct pcell *cells;
	struct ptable *next;
};

struct ctx {
	const struct yoc_report_opts *o;
	struct yoc_arena ar;
	struct ptable *tables, *last;   /* index tables, in order */
	struct yoc_error *e;
	long files;
	int oom;
};

static struct ptable *pt_new(struct ctx *c, const char *id, const char *title,
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

static struct pcell *pt_row(struct ctx *c, struct ptable *t)
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

static const char *astr(struct ctx *c, const char *s)
{
	char *p = yoc_arena_strndup(&c->ar, s, strlen(s));
	if (!p)
		c->oom = 1;
	return p ? p : "";
}

static void set_count(struct pcell *p, int64_t published)
{
	p->hidden = published == YOC_SDC_HIDDEN;
	p->i = published;
}

static void set_pence(struct pcell *p, int64_t v, int ok)
{
	p->hidden = !ok;
	p->i = v;
}

static void set_pct(struct pcell *p, double v, int ok)
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
	if (t->kinds[col] != K_TEXT && p->hidden) {
		snprintf(buf, n, "*");
		return;
	}
	switch (t->kinds[col]) {
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
	default: snprintf(buf, n, "%.4f", p->d); break;
	}
}

static const char banner_text[] =
	"NOT DISCLOSURE CONTROLLED: produced with --no-suppression. Small counts "
	"are shown exactly. For analysts inside the secure setting only; do not "
	"publish or share.";

static int html_table(struct ctx *c, struct yoc_buf *b, const struct ptable *t)
{
	char buf[128];
	int rc = yoc_buf_puts(b, "<div class=\"tw\"><table><caption>");
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

static int write_buf(struct ctx *c, const char *path, const struct yoc_buf *b)
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

static int write_csv(struct ctx *c, const struct ptable *t)
{
	char path[4096], buf[128];
	snprintf(path, sizeof path, "%s/csv/%s.csv", c->o->out, t->id);
	struct yoc_afile f;
	int rc = yoc_afile_open(&f, path, c->e);
	if (rc)
		return rc;
	if (c->o->sdc.off)
		fprintf(f.f, "# %s\n", banner_text);
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

static void add_index_table(struct ctx *c, struct ptable *t)
{
	if (!t)
		return;
	if (c->last)
		c->last->next = t;
	else
		c->tables = t;
	c->last = t;
}

static int write_xlsx(struct ctx *c, const char *meta_note)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/yoc-report.xlsx", c->o->out);
	struct yoc_afile f;
	int rc = yoc_afile_open(&f, path, c->e);
	if (rc)
		return rc;
	fclose(f.f); /* libxlsxwriter writes the temporary by name */
	f.f = NULL;
	lxw_workbook *wb = workbook_new(f.tmp);
	if (!wb) {
		unlink(f.tmp);
		return yoc_error_set(c->e, YOC_EIO, path, 0, 0, "cannot create workbook");
	}
	lxw_format *bold = workbook_add_format(wb);
	format_set_bold(bold);
	lxw_format *warn = workbook_add_format(wb);
	format_set_bold(warn);
	format_set_font_color(warn, LXW_COLOR_RED);
	lxw_format *money = workbook_add_format(wb);
	format_set_num_format(money, "£#,##0.00");
	lxw_format *count = workbook_add_format(wb);
	format_set_num_format(count, "#,##0");
	lxw_format *pct = workbook_add_format(wb);
	format_set_num_format(pct, "0.0");
	lxw_format *real = workbook_add_format(wb);
	format_set_num_format(real, "0.0000");
	lxw_format *right = workbook_add_format(wb);
	format_set_align(right, LXW_ALIGN_RIGHT);
	lxw_worksheet *about = workbook_add_worksheet(wb, "about");
	int ar = 0;
	worksheet_set_column(about, 0, 0, 110, NULL);
	worksheet_write_string(about, ar++, 0, "Year of Care whole population report (yoc)", bold);
	char rule[320];
	snprintf(rule, sizeof rule, "Disclosure control applied: counts 1-%lld shown as *, others "
		 "rounded to %lld; sums of money to %d significant figures, means are published "
		 "sums over published counts; see docs/disclosure.md",
		 (long long)c->o->sdc.threshold, (long long)c->o->sdc.round_to, c->o->sdc.money_sf);
	worksheet_write_string(about, ar++, 0, c->o->sdc.off ? banner_text : rule,
			       c->o->sdc.off ? warn : NULL);
	worksheet_write_string(about, ar++, 0, meta_note, NULL);
	for (const struct ptable *t = c->tables; t; t = t->next) {
		char name[32];
		snprintf(name, sizeof name, "%.31s", t->id);
		lxw_worksheet *ws = workbook_add_worksheet(wb, name);
		if (!ws)
			continue;
		worksheet_write_string(about, ar++, 0, t->title, NULL);
		int r = 0;
		if (c->o->sdc.off)
			worksheet_write_string(ws, r++, 0, banner_text, warn);
		worksheet_write_string(ws, r++, 0, t->title, bold);
		worksheet_set_column(ws, 0, 0, 22, NULL);
		worksheet_set_column(ws, 1, (lxw_col_t)(t->ncols - 1), 14, NULL);
		for (int k = 0; k < t->ncols; k++)
			worksheet_write_string(ws, (lxw_row_t)r, (lxw_col_t)k, t->cols[k], bold);
		r++;
		for (int i = 0; i < t->nrows; i++, r++)
			for (int k = 0; k < t->ncols; k++) {
				const struct pcell *p = &t->cells[(size_t)i * t->ncols + k];
				lxw_row_t rr = (lxw_row_t)r;
				lxw_col_t cc = (lxw_col_t)k;
				if (t->kinds[k] == K_TEXT)
					worksheet_write_string(ws, rr, cc, p->s ? p->s : "", NULL);
				else if (p->hidden)
					worksheet_write_string(ws, rr, cc, "*", right);
				else if (t->kinds[k] == K_COUNT)
					worksheet_write_number(ws, rr, cc, (double)p->i, count);
				else if (t->kinds[k] == K_PENCE)
					worksheet_write_number(ws, rr, cc, (double)p->i / 100.0, money);
				else if (t->kinds[k] == K_REAL) /* as the CSV: no more digits */
					worksheet_write_number(ws, rr, cc, round(p->d * 1e4) / 1e4, real);
				else
					worksheet_write_number(ws, rr, cc, p->d, pct);
			}
		if (t->note)
			worksheet_write_string(ws, (lxw_row_t)(r + 1), 0, t->note, NULL);
	}
	lxw_error xe = workbook_close(wb);
	if (xe != LXW_NO_ERROR) {
		unlink(f.tmp);
		return yoc_error_set(c->e, YOC_EIO, path, 0, 0, "workbook: %s", lxw_strerror(xe));
	}
	if (rename(f.tmp, path) != 0) {
		unlink(f.tmp);
		return yoc_error_set(c->e, YOC_EIO, path, 0, 0, "rename failed");
	}
	c->files++;
	return 0;
}

/* ---- pages ---------------------------------------------------------------- */

static const char css[] =
	"body{font-family:'DejaVu Sans',Arial,sans-serif;color:#222;margin:0 auto;"
	"max-width:1000px;padding:0 24px 48px;line-height:1.4;font-size:14px}"
	"h1{font-size:24px;margin:24px 0 4px}h2{font-size:18px;margin:28px 0 8px;"
	"border-bottom:2px solid #1f4e79;padding-bottom:2px}"
	"p.meta{color:#555;margin:0 0 12px}p.note{color:#555;font-size:12px;margin:4px 0 12px}"
	".banner{background:#b00020;color:#fff;font-weight:bold;padding:10px 14px;margin:12px 0}"
	".sdc{background:#eef3f8;padding:8px 12px;font-size:12px;margin:8px 0}"
	".dq{background:#fff4e5;padding:8px 12px;font-size:12px;margin:8px 0}"
	"table{border-collapse:collapse;font-size:12px;margin:6px 0}"
	"caption{text-align:left;font-weight:bold;padding:4px 0}"
	"th,td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left}"
	"th{background:#f2f2f2}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
	"tr.tot td{font-weight:bold;border-top:2px solid #999}"
	".tw{overflow-x:auto}svg.chart{width:100%;max-width:900px;height:auto;display:block;margin:8px 0}"
	"svg .ct{font-size:14px;font-weight:bold;fill:#222}svg .ax{font-size:11px;fill:#333}"
	"svg .grid{stroke:#e4e4e4}svg .axis{stroke:#555}svg .mark{stroke:#000;stroke-width:2}"
	"nav a{margin-right:10px}ul.cols{columns:6;font-size:13px}"
	"@media print{body{max-width:none;padding:0;font-size:11px}nav,.tw p.note a{display:none}"
	"section,table,svg.chart{break-inside:avoid;page-break-inside:avoid}"
	"h2{break-after:avoid;page-break-after:avoid}.banner{border:3px solid #b00020;"
	"color:#b00020;background:none}@page{size:A4;margin:14mm}}";

static int page_start(struct ctx *c, struct yoc_buf *b, const char *title, const char *meta)
{
	int rc = yoc_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
				 "<meta name=\"viewport\" content=\"width=device-width\"><title>");
	rc |= yoc__html_esc(b, title);
	rc |= yoc_buf_printf(b, "</title><style>%s</style></head><body>\n", css);
	if (c->o->sdc.off) {
		rc |= yoc_buf_puts(b, "<div class=\"banner\">");
		rc |= yoc__html_esc(b, banner_text);
		rc |= yoc_buf_puts(b, "</div>\n");
	}
	rc |= yoc_buf_puts(b, "<h1>");
	rc |= yoc__html_esc(b, title);
	rc |= yoc_buf_puts(b, "</h1><p class=\"meta\">");
	rc |= yoc__html_esc(b, meta);
	rc |= yoc_buf_puts(b, "</p>\n");
	if (!c->o->sdc.off)
		rc |= yoc_buf_printf(b, "<p class=\"sdc\">Disclosure control: counts of 1 to %lld "
				     "are shown as *, other counts are rounded to the nearest %lld, "
				     "further cells are hidden where a hidden count could be worked "
				     "out from totals, and averages, percentiles and costs of hidden "
				     "groups are hidden too. Sums of money are rounded to %d "
				     "significant figures; a mean is the rounded sum divided by the "
				     "published count (whole pounds); percentages and rates are of "
				     "published counts.</p>\n",
				     (long long)c->o->sdc.threshold, (long long)c->o->sdc.round_to,
				     c->o->sdc.money_sf);
	return rc;
}

static int page_end(struct ctx *c, struct yoc_buf *b)
{
	int rc = 0;
	if (c->o->sdc.off) {
		rc |= yoc_buf_puts(b, "<div class=\"banner\">");
		rc |= yoc__html_esc(b, banner_text);
		rc |= yoc_buf_puts(b, "</div>\n");
	}
	rc |= yoc_buf_puts(b, "<p class=\"note\">Made by yoc " YOC_VERSION
			      " from the person_year table; see docs/report.md.</p></body></html>\n");
	return rc;
}

/* Publishes a table of counts through yoc_sdc_protect. */
static int protect(struct ctx *c, int nr, int nc, int tr, int tc, const int64_t *v,
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
static void protect_sums(int n, const int64_t *v, int *hidden)
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

static double pub_pct(int64_t num, int64_t den)
{
	if (num == YOC_SDC_HIDDEN || den == YOC_SDC_HIDDEN || den <= 0)
		return NAN;
	return 100.0 * (double)num / (double)den;
}

static double dv(int64_t published)
{
	return published == YOC_SDC_HIDDEN ? NAN : (double)published;
}

static const int KC[] = {K_TEXT, K_COUNT, K_COUNT, K_COUNT, K_COUNT, K_COUNT, K_COUNT,
			 K_COUNT, K_COUNT, K_COUNT, K_COUNT, K_COUNT, K_COUNT};

/* Age by sex (rows: bands + total; cols: F, M, other, total). */
static int age_sex_table(struct ctx *c, const int64_t (*pop)[3], const char *id,
			 const char *title, int64_t *pub)
{
	int64_t v[(NAGE + 1) * 4] = {0};
	unsigned char st[(NAGE + 1) * 4];
	for (int i = 0; i < NAGE; i++)
		for (int s = 0; s < 3; s++) {
			v[i * 4 + s] = pop[i][s];
			v[i * 4 + 3] += pop[i][s];
			v[NAGE * 4 + s] += pop[i][s];
			v[NAGE * 4 + 3] += pop[i][s];
		}
	int rc = protect(c, NAGE + 1, 4, 1, 1, v, st, pub);
	if (rc)
		return rc;
	static const char *const cols[] = {"Age band", "Female", "Male", "Other or unknown", "Total"};
	struct ptable *t = pt_new(c, id, title, NULL, 5, cols, KC);
	if (!t)
		return YOC_ENOMEM;
	for (int i = 0; i <= NAGE; i++) {
		struct pcell *r = pt_row(c, t);
		if (!r)
			return YOC_ENOMEM;
		r[0].s = i < NAGE ? age_name[i] : "Total";
		for (int k = 0; k < 4; k++)
			set_count(&r[1 + k], pub[i * 4 + k]);
	}
	add_index_table(c, t);
	return 0;
}

struct report {
	struct acc a;
	char fyear[16];
	char bands_spec[256];
	char meta[1024];
	int64_t band_lo[MAXBAND], band_hi[MAXBAND];
	/* published counts of the index tables whose cells the practice packs
	 * split by practice (YOC_SDC_HIDDEN where hidden) */
	int64_t pop_pub[(NAGE + 1) * 4], band_pub[MAXBAND + 1], ltc_pub[NLTC + 1];
};

static void band_range(const struct report *R, const char *band, char *buf, size_t n)
{
	/* from the bands parameter "A:0-1,B:2,...,E:9+" recorded by analyse */
	const char *p = R->bands_spec;
	size_t bl = strlen(band);
	buf[0] = 0;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > bl && strncmp(p, band, bl) == 0 && p[bl] == ':') {
			snprintf(buf, n, "%.*s", (int)(len - bl - 1), p + bl + 1);
			return;
		}
		p += len + (end ? 1 : 0);
	}
}

static int64_t pctl(const int64_t *sorted, int64_t n, int p)
{
	/* nearest rank: the value at rank ceil(p/100 * n), 1-based */
	if (n <= 0)
		return 0;
	int64_t rank = (p * n + 99) / 100;
	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

/*
** 9. How the cost was priced (analyse's costing_summary): the share of the
** year's cost from an exact price (tariff HRG, currency or unit cost), a
** department average (a code the schedule does not list) and the feed's own
** cost, with a warning when averages make most of it. Money and shares
** only: no counts of people.
*/
static int costing_basis(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b)
{
	static const char *const how[3] = {"priced", "priced_at_average", "feed_cost"};
	static const char *const label[3] = {"Exact price (HRG, currency or unit cost)",
		"Department average (code not in the price list)", "Cost given in the feed"};
	sqlite3_stmt *q = NULL;
	int64_t v[3] = {0, 0, 0}, all = 0;
	yoc_buf_puts(b, "<section id=\"costing\"><h2>How the cost was priced</h2>");
	if (sqlite3_prepare_v2(db, "SELECT how, sum(cost) FROM costing_summary WHERE fyear = ?1 "
			       "GROUP BY how", -1, &q, NULL) != SQLITE_OK) {
		sqlite3_finalize(q);
		yoc_buf_puts(b, "<p>Not recorded: the database has no costing_summary table.</p></section>\n");
		return YOC_OK;
	}
	sqlite3_bind_text(q, 1, R->fyear, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW)
		for (int k = 0; k < 3; k++)
			if (sqlite3_column_text(q, 0) && strcmp((const char *)sqlite3_column_text(q, 0), how[k]) == 0)
				v[k] += sqlite3_column_int64(q, 1);
	sqlite3_finalize(q);
	/* the disclosure rule for money (docs/disclosure.md): sums published
	 * rounded, shares computed from the published sums */
	for (int k = 0; k < 3; k++) {
		v[k] = yoc_sdc_money(&c->o->sdc, v[k]);
		all += v[k];
	}
	static const char *const cols[] = {"How priced", "Cost", "Share of cost"};
	int kinds[3] = {K_TEXT, K_PENCE, K_PCT};
	struct ptable *t = pt_new(c, "costing_basis", "How the cost was priced", NULL, 3, cols, kinds);
	for (int k = 0; t && k < 3; k++) {
		struct pcell *r = pt_row(c, t);
		if (!r)
			return YOC_ENOMEM;
		r[0].s = label[k];
		set_pence(&r[1], v[k], 1);
		set_pct(&r[2], all ? 100.0 * (double)v[k] / (double)all : NAN, all != 0);
	}
	if (!t)
		return YOC_ENOMEM;
	double avg = all ? 100.0 * (double)v[1] / (double)all : 0;
	yoc_buf_printf(b, "<p>Hospital stays are priced per spell as commissioners pay for them "
		       "(docs/costing.md). %.1f%% of the cost in %s was priced from an exact "
		       "price, %.1f%% at a department average and %.1f%% from the feed's own "
		       "cost.</p>", all ? 100.0 * (double)v[0] / (double)all : 0, R->fyear, avg,
		       all ? 100.0 * (double)v[2] / (double)all : 0);
	if (avg > 50.0)
		yoc_buf_printf(b, "<p style=\"border:2px solid #b36b00;padding:8px 12px\"><b>Warning:</b> "
			       "most of the cost (%.1f%%) is priced at department averages, because "
			       "the feeds' codes (HRGs, currencies) are not in the price list, for "
			       "example codes of another year's grouper. Costs by person, practice "
			       "and setting are indicative only.</p>", avg);
	add_index_table(c, t);
	html_table(c, b, t);
	yoc_buf_puts(b, "</section>\n");
	return YOC_OK;
}

static int build_index(struct ctx *c, sqlite3 *db, struct report *R, struct yoc_buf *b)
{
	struct acc *a = &R->a;
	const struct yoc_sdc *s = &c->o->sdc;
	int rc;
	char line[1200];
	snprintf(line, sizeof line, "Financial year %s. %s", R->fyear, R->meta);
	rc = page_start(c, b, "Whole population analysis", line);
	yoc_buf_puts(b, "<nav><a href=\"#pop\">Population</a><a href=\"#mm\">Multimorbidity</a>"
			"<a href=\"#fig5\">Cost by LTC count</a><a href=\"#r2\">Variation explained</a>"
			"<a href=\"#pm\">Physical and mental</a><a href=\"#fig7\">Providers and settings</a>"
			"<a href=\"#bands\">Currency bands</a><a href=\"#practices\">Practices</a>"
			"<a href=\"yoc-report.xlsx\">Workbook</a></nav>\n");
	/* 1. population pyramid */
	int64_t pub[(NAGE + 1) * 8];
	if ((rc = age_sex_table(c, (const int64_t (*)[3])a->pop, "population",
				"Registered population by age band and sex", pub)))
		return rc;
	memcpy(R->pop_pub, pub, sizeof R->pop_pub);
	double L[NAGE], Rr[NAGE];
	for (int i = 0; i < NAGE; i++) {
		L[i] = dv(pub[i * 4]);
		Rr[i] = dv(pub[i * 4 + 1]);
	}
	yoc_buf_puts(b, "<section id=\"pop\"><h2>Population</h2>");
	yoc__svg_pyramid(b, "Population pyramid (people)", NAGE, age_name, L, Rr, "Female",
			 "Male", NULL, NULL, NULL, 0);
	html_table(c, b, c->last);
	yoc_buf_puts(b, "</section>\n");
	/* 2. multimorbidity by age band */
	{
		int64_t v[(NAGE + 1) * NMM] = {0};
		unsigned char st[(NAGE + 1) * NMM];
		for (int i = 0; i < NAGE; i++)
			for (int k = 0; k < NMM - 1; k++) {
				v[i * NMM + k] = a->mm[i][k];
				v[i * NMM + NMM - 1] += a->mm[i][k];
				v[NAGE * NMM + k] += a->mm[i][k];
				v[NAGE * NMM + NMM - 1] += a->mm[i][k];
			}
		if ((rc = protect(c, NAGE + 1, NMM, 1, 1, v, st, pub)))
			return rc;
		static const char *const cols[] = {"Age band", "0 LTCs", "1 LTC", "2 LTCs",
						   "3-4 LTCs", "5+ LTCs", "Total",
						   "% with 2+ LTCs"};
		int kinds[8] = {K_TEXT, K_COUNT, K_COUNT, K_COUNT, K_COUNT, K_COUNT, K_COUNT, K_PCT};
		struct ptable *t = pt_new(c, "multimorbidity", "People by number of long-term "
					  "conditions and age band", NULL, 8, cols, kinds);
		double pc[NAGE];
		for (int i = 0; t && i <= NAGE; i++) {
			struct pcell *r = pt_row(c, t);
			if (!r)
				return YOC_ENOMEM;
			r[0].s = i < NAGE ? age_name[i] : "Total";
			for (int k = 0; k < NMM; k++)
				set_count(&r[1 + k], pub[i * NMM + k]);
			int64_t *p = &pub[i * NMM];
			double x = NAN;
			if (p[2] != YOC_SDC_HIDDEN && p[3] != YOC_SDC_HIDDEN && p[4] != YOC_SDC_HIDDEN)
				x = pub_pct(p[2] + p[3] + p[4], p[5]);
			set_pct(&r[7], round(x * 10) / 10, 1);
			if (i < NAGE)
				pc[i] = isnan(x) ? NAN : round(x * 10) / 10;
		}
		add_index_table(c, t);
		yoc_buf_puts(b, "<section id=\"mm\"><h2>Multimorbidity by age</h2>");
		static const char *const one[] = {"% with 2+ LTCs"};
		yoc__svg_stacked(b, "Percentage of people with two or more long-term conditions",
				 NAGE, age_name, 1, one, pc, 0);
		html_table(c, b, t);
		yoc_buf_puts(b, "</section>\n");
	}
	/* 3. Figure 5: cost by number of LTCs, stacked by setting */
	{
		int64_t v[NLTC + 1];
		unsigned char st[NLTC + 1];
		for (int i = 0; i < NLTC; i++)
			v[i] = a->ltc[i].n;
		v[NLTC] = a->all.n;
		if ((rc = protect(c, NLTC + 1, 1, 1, 0, v, st, pub)))
			return rc;
		memcpy(R->ltc_pub, pub, sizeof R->ltc_pub);
		const char *cols[3 + NSET + 1];
		int kinds[3 + NSET + 1];
		cols[0] = "LTCs";
		kinds[0] = K_TEXT;
		cols[1] = "People";
		kinds[1] = K_COUNT;
		for (int k = 0; k < NSET; k++) {
			char h[64];
			snprintf(h, sizeof h, "Mean %s", set_name[k]);
			cols[2 + k] = astr(c, h);
			kinds[2 + k] = K_PENCE;
		}
		cols[2 + NSET] = "Mean total cost";
		kinds[2 + NSET] = K_PENCE;
		cols[3 + NSET] = "Total cost";
		kinds[3 + NSET] = K_PENCE;
		struct ptable *t = pt_new(c, "cost_by_ltc_count", "Mean and total annual cost by "
					  "number of long-term conditions (Figure 5)",
					  "Mean cost per person per year in each setting; a group's "
					  "means and total are hidden when its count is.",
					  4 + NSET, cols, kinds);
		double mean[NLTC * NSET], tot[NLTC * NSET];
		for (int i = 0; t && i <= NLTC; i++) {
			const struct grp *g = i < NLTC ? &a->ltc[i] : &a->all;
			int ok = yoc_sdc_stat_ok(s, g->n, st[i]);
			struct pcell *r = pt_row(c, t);
			if (!r)
				return YOC_ENOMEM;
			r[0].s = i < NLTC ? ltc_name[i] : "Total";
			set_count(&r[1], pub[i]);
			/* money as published; the charts show the same figures */
			for (int k = 0; k < NSET; k++) {
				int64_t mk = yoc_sdc_mean(s, g->set[k], g->n, pub[i]);
				set_pence(&r[2 + k], mk, ok);
				if (i < NLTC) {
					mean[i * NSET + k] = ok ? (double)mk / 100 : NAN;
					tot[i * NSET + k] = ok ? (double)yoc_sdc_money(s, g->set[k]) / 100 : NAN;
				}
			}
			set_pence(&r[2 + NSET], yoc_sdc_mean(s, g->cost, g->n, pub[i]), ok);
			set_pence(&r[3 + NSET], yoc_sdc_money(s, g->cost), ok);
		}
		add_index_table(c, t);
		yoc_buf_puts(b, "<section id=\"fig5\"><h2>Annual cost by number of long-term "
				"conditions</h2><p>The handbook's Figure 5: mean annual cost per person "
				"by number of long-term conditions, stacked by setting of care.</p>");
		yoc__svg_stacked(b, "Mean annual cost per person by number of LTCs", NLTC,
				 ltc_name, NSET, set_name, mean, 1);
		yoc__svg_stacked(b, "Total annual cost by number of LTCs", NLTC, ltc_name,
				 NSET, set_name, tot, 1);
		html_table(c, b, t);
		yoc_buf_puts(b, "</section>\n");
	}
	/* 4. R squared */
	{
		long double N = (long double)a->all.n, mean2 = N > 0 ? a->sum * a->sum / N : 0;
		long double sst = a->sumsq - mean2;
		long double ssb[3] = {-mean2, -mean2, -mean2};
		int ng[3] = {0, 0, 0};
		for (int i = 0; i < NLTC; i++)
			if (a->ltc[i].n) {
				ssb[0] += a->ltc_sum[i] * a->ltc_sum[i] / a->ltc[i].n;
				ng[0]++;
			}
		int64_t agen[NAGE] = {0};
		for (int i = 0; i < NAGE; i++)
			agen[i] = a->pop[i][0] + a->pop[i][1] + a->pop[i][2];
		for (int i = 0; i < NAGE; i++)
			if (agen[i]) {
				ssb[1] += a->age_sum[i] * a->age_sum[i] / agen[i];
				ng[1]++;
			}
		for (int i = 0; i < a->nband; i++)
			if (a->bandg[i].n) {
				ssb[2] += a->band_sum[i] * a->band_sum[i] / a->bandg[i].n;
				ng[2]++;
			}
		static const char *const cols[] = {"Explanatory variable", "Groups", "R squared"};
		int kinds[3] = {K_TEXT, K_REAL, K_REAL};
		static const char *const nm[3] = {"Number of LTCs (0 to 9+)",
						  "Age (5-year bands)", "Currency band"};
		struct ptable *t = pt_new(c, "r_squared", "Share of the variation in annual cost "
					  "explained (one-way ANOVA R squared)",
					  "R squared = between-group sum of squares / total sum of "
					  "squares of annual cost per person, for each grouping.",
					  3, cols, kinds);
		yoc_buf_puts(b, "<section id=\"r2\"><h2>How much of the variation in cost is "
				"explained</h2>");
		for (int k = 0; t && k < 3; k++) {
			struct pcell *r = pt_row(c, t);
			if (!r)
				return YOC_ENOMEM;
			r[0].s = nm[k];
			r[1].d = ng[k];
			r[2].d = sst > 0 ? (double)(ssb[k] / sst) : NAN;
			r[2].hidden = !(sst > 0);
		}
		t->kinds[1] = K_COUNT;
		for (int k = 0; t && k < 3; k++)
			t->cells[k * 3 + 1].i = ng[k];
		add_index_table(c, t);
		if (t && sst > 0)
			yoc_buf_printf(b, "<p>The number of long-term conditions explains <b>%.1f%%</b> "
				       "of the variation in annual cost between people; age in 5-year "
				       "bands explains <b>%.1f%%</b>.</p>",
				       100 * (double)(ssb[0] / sst), 100 * (double)(ssb[1] / sst));
		html_table(c, b, t);
		yoc_buf_puts(b, "</section>\n");
	}
	/* 5. physical x mental */
	{
		int64_t v[6 * 4] = {0}, cs[6 * 4] = {0};
		unsigned char st[6 * 4];
		for (int i = 0; i < 5; i++)
			for (int j = 0; j < 3; j++) {
				int64_t x = a->pm[i][j], y = a->pm_cost[i][j];
				v[i * 4 + j] += x, v[i * 4 + 3] += x, v[5 * 4 + j] += x, v[23] += x;
				cs[i * 4 + j] += y, cs[i * 4 + 3] += y, cs[5 * 4 + j] += y, cs[23] += y;
			}
		if ((rc = protect(c, 6, 4, 1, 1, v, st, pub)))
			return rc;
		static const char *const cols[] = {"Physical LTCs", "No mental LTC", "1 mental LTC",
						   "2+ mental LTCs", "Total"};
		int kinds[5] = {K_TEXT, K_COUNT, K_COUNT, K_COUNT, K_COUNT};
		struct ptable *t = pt_new(c, "physical_mental", "People by physical and mental "
					  "health long-term conditions", NULL, 5, cols, kinds);
		int kinds2[5] = {K_TEXT, K_PENCE, K_PENCE, K_PENCE, K_PENCE};
		struct ptable *t2 = pt_new(c, "physical_mental_cost", "Mean annual cost by physical "
					   "and mental health long-term conditions", NULL, 5, cols,
					   kinds2);
		for (int i = 0; t && t2 && i < 6; i++) {
			struct pcell *r = pt_row(c, t), *r2 = pt_row(c, t2);
			if (!r || !r2)
				return YOC_ENOMEM;
			r[0].s = r2[0].s = i < 5 ? phys_name[i] : "Total";
			for (int j = 0; j < 4; j++) {
				set_count(&r[1 + j], pub[i * 4 + j]);
				set_pence(&r2[1 + j], yoc_sdc_mean(s, cs[i * 4 + j], v[i * 4 + j],
								   pub[i * 4 + j]),
					  yoc_sdc_stat_ok(s, v[i * 4 + j], st[i * 4 + j]));
			}
		}
		add_index_table(c, t);
		add_index_table(c, t2);
		yoc_buf_puts(b, "<section id=\"pm\"><h2>Physical and mental health conditions</h2>");
		html_table(c, b, t);
		html_table(c, b, t2);
		yoc_buf_puts(b, "</section>\n");
	}
	/* 6. settings and providers (Figure 7) */
	{
		int64_t pp[NSET + 1];
		int hid[NSET + 1] = {0};
		int64_t sv[NSET];
		for (int k = 0; k < NSET; k++) {
			pp[k] = yoc_sdc_one(s, a->set_people[k]);
			hid[k] = !yoc_sdc_stat_ok(s, a->set_people[k],
						  pp[k] == YOC_SDC_HIDDEN ? YOC_SDC_PRIMARY : 0);
			sv[k] = a->all.set[k];
		}
		protect_sums(NSET, sv, hid);
		pp[NSET] = yoc_sdc_one(s, a->all.n);
		static const char *const cols[] = {"Setting", "People with any cost", "Total cost",
						   "Share of cost", "Cost per head of population"};
		int kinds[5] = {K_TEXT, K_COUNT, K_PENCE, K_PCT, K_PENCE};
		struct ptable *t = pt_new(c, "cost_by_setting", "Annual cost by setting of care",
					  NULL, 5, cols, kinds);
		double sc[NSET];
		for (int k = 0; t && k <= NSET; k++) {
			struct pcell *r = pt_row(c, t);
			if (!r)
				return YOC_ENOMEM;
			int64_t cost = k < NSET ? a->all.set[k] : a->all.cost;
			int64_t pc = yoc_sdc_money(s, cost), ptot = yoc_sdc_money(s, a->all.cost);
			int ok = k < NSET ? !hid[k] : yoc_sdc_stat_ok(s, a->all.n, 0);
			r[0].s = k < NSET ? set_name[k] : "Total";
			set_count(&r[1], pp[k]);
			set_pence(&r[2], pc, ok);
			set_pct(&r[3], ptot ? round(1000.0 * pc / ptot) / 10 : NAN, ok);
			set_pence(&r[4], yoc_sdc_mean(s, cost, a->all.n, pp[NSET]), ok);
			if (k < NSET)
				sc[k] = ok ? (double)pc / 100 : NAN;
		}
		add_index_table(c, t);
		yoc_buf_puts(b, "<section id=\"fig7\"><h2>Cost across providers and settings</h2>");
		static const char *const one[] = {"Total cost"};
		yoc__svg_stacked(b, "Total annual cost by setting of care", NSET, set_name, 1, one,
				 sc, 1);
		html_table(c, b, t);
		/* providers, when analyse recorded them */
		sqlite3_stmt *q = NULL;
		if (sqlite3_prepare_v2(db, "SELECT provider, setting, sum(people), sum(activity), "
				       "sum(cost) FROM provider_cost WHERE fyear = ?1 "
				       "GROUP BY provider, setting ORDER BY sum(sum(cost)) OVER "
				       "(PARTITION BY provider) DESC, provider, setting",
				       -1, &q, NULL) == SQLITE_OK) {
			sqlite3_bind_text(q, 1, R->fyear, -1, SQLITE_STATIC);
			static const char *const pc[] = {"Provider", "Setting", "People", "Activity",
							 "Total cost"};
			int pk[5] = {K_TEXT, K_TEXT, K_COUNT, K_COUNT, K_PENCE};
			struct ptable *tp = pt_new(c, "provider_cost", "Annual cost by provider and "
						   "setting (Figure 7)", "Activity is the number of "
						   "priced records (attendances, spells, contacts).",
						   5, pc, pk);
			enum { MAXP = 16 };
			const char *pname[MAXP];
			double pv[MAXP * NSET];
			int np = 0;
			/* the exact costs decide what is hidden; published rounded below */
			while (tp && sqlite3_step(q) == SQLITE_ROW) {
				struct pcell *r = pt_row(c, tp);
				if (!r)
					return YOC_ENOMEM;
				const char *pv0 = (const char *)sqlite3_column_text(q, 0);
				const char *sv1 = (const char *)sqlite3_column_text(q, 1);
				r[0].s = astr(c, pv0 ? pv0 : "");
				int si = -1;
				for (int k = 0; k < NSET; k++)
					if (sv1 && (strcmp(sv1, set_col[k] + 5) == 0 ||
						    strcmp(sv1, set_name[k]) == 0))
						si = k;
				r[1].s = si >= 0 ? set_name[si] : astr(c, sv1 ? sv1 : "");
				int64_t people = sqlite3_column_int64(q, 2);
				int64_t pub_people = yoc_sdc_one(s, people);
				set_count(&r[2], pub_people);
				set_count(&r[3], yoc_sdc_one(s, sqlite3_column_int64(q, 3)));
				int ok = yoc_sdc_stat_ok(s, people, pub_people == YOC_SDC_HIDDEN);
				set_pence(&r[4], sqlite3_column_int64(q, 4), ok);
			}
			/* a provider-setting cost beside the setting's total: protect by
			 * setting, as with the setting sums above */
			for (int k = 0; tp && k < NSET; k++) {
				int idx[64], n = 0, hh[64];
				int64_t vv[64], sum = 0;
				for (int r = 0; r < tp->nrows && n < 64; r++)
					if (strcmp(tp->cells[r * 5 + 1].s, set_name[k]) == 0) {
						idx[n] = r;
						vv[n] = tp->cells[r * 5 + 4].i;
						hh[n] = tp->cells[r * 5 + 4].hidden;
						sum += vv[n++];
					}
				if (n == 0 || sum != a->all.set[k])
					continue;
				protect_sums(n, vv, hh);
				for (int q2 = 0; q2 < n; q2++)
					tp->cells[idx[q2] * 5 + 4].hidden = hh[q2];
			}
			/* the chart, from the table as published: providers by total
			 * cost, general practices as one bar (dozens of small bars
			 * would not read) */
			for (int i = 0; tp && i < tp->nrows; i++) {
				struct pcell *r = &tp->cells[(size_t)i * 5];
				r[4].i = yoc_sdc_money(s, r[4].i);
				int si = -1;
				for (int k = 0; k < NSET; k++)
					if (strcmp(r[1].s, set_name[k]) == 0)
						si = k;
				const char *cname = si >= 0 && strcmp(set_col[si], "cost_gp") == 0 ?
					"GP practices" : r[0].s;
				int pi = -1;
				for (int k = 0; k < np; k++)
					if (strcmp(pname[k], cname) == 0)
						pi = k;
				if (pi < 0 && np < MAXP) {
					pname[np] = cname;
					for (int k = 0; k < NSET; k++)
						pv[np * NSET + k] = 0;
					pi = np++;
				}
				if (pi >= 0 && si >= 0)
					pv[pi * NSET + si] += r[4].hidden ? NAN : (double)r[4].i / 100;
			}
			sqlite3_finalize(q);
			if (tp) {
				add_index_table(c, tp);
				if (np > 0)
					yoc__svg_stacked(b, "Total annual cost by provider, stacked by "
							 "setting (largest 16)", np, pname,
							 NSET, set_name, pv, 1);
				html_table(c, b, tp);
			}
		} else {
			sqlite3_finalize(q);
			yoc_buf_puts(b, "<p class=\"note\">No provider breakdown: the database has "
					"no provider_cost table (run yoc analyse).</p>");
		}
		yoc_buf_puts(b, "</section>\n");
	}
	/* 7. currency bands */
	{
		int nb = a->nband;
		int64_t v[MAXBAND + 1];
		unsigned char st[MAXBAND + 1];
		for (int i = 0; i < nb; i++)
			v[i] = a->bandg[i].n;
		v[nb] = a->all.n;
		if ((rc = protect(c, nb + 1, 1, 1, 0, v, st, pub)))
			return rc;
		memcpy(R->band_pub, pub, sizeof *pub * (size_t)(nb + 1));
		static const char *const cols[] = {"Band", "LTCs", "People", "% of people",
						   "Mean cost", "Median cost", "5th percentile",
						   "95th percentile", "Total cost"};
		int kinds[9] = {K_TEXT, K_TEXT, K_COUNT, K_PCT, K_PENCE, K_PENCE, K_PENCE,
				K_PENCE, K_PENCE};
		struct ptable *t = pt_new(c, "currency_bands", "Currency bands: people and annual "
					  "cost", "Percentiles by the nearest-rank method; 5th and "
					  "95th percentiles need at least the minimum group size.",
					  9, cols, kinds);
		int64_t *allc = yoc_malloc(sizeof *allc * (size_t)(a->all.n ? a->all.n : 1));
		if (!allc)
			return YOC_ENOMEM;
		int64_t off = 0;
		for (int i = 0; i < nb; i++) {
			qsort(a->bcost[i], (size_t)a->bandg[i].n, sizeof(int64_t), i64_cmp);
			memcpy(allc + off, a->bcost[i], sizeof *allc * (size_t)a->bandg[i].n);
			off += a->bandg[i].n;
		}
		qsort(allc, (size_t)off, sizeof *allc, i64_cmp);
		for (int i = 0; t && i <= nb; i++) {
			const struct grp *g = i < nb ? &a->bandg[i] : &a->all;
			const int64_t *sorted = i < nb ? a->bcost[i] : allc;
			struct pcell *r = pt_row(c, t);
			if (!r) {
				yoc_free(allc);
				return YOC_ENOMEM;
			}
			char range[64];
			if (i < nb)
				band_range(R, a->band[i], range, sizeof range);
			r[0].s = i < nb ? a->band[i] : "Total";
			r[1].s = i < nb ? astr(c, range) : "";
			set_count(&r[2], pub[i]);
			double x = pub_pct(pub[i], pub[nb]);
			set_pct(&r[3], round(x * 10) / 10, 1);
			int ok = yoc_sdc_stat_ok(s, g->n, st[i]);
			int okp = yoc_sdc_pctl_ok(s, g->n, st[i]);
			set_pence(&r[4], yoc_sdc_mean(s, g->cost, g->n, pub[i]), ok);
			set_pence(&r[5], pctl(sorted, g->n, 50), ok);
			set_pence(&r[6], pctl(sorted, g->n, 5), okp);
			set_pence(&r[7], pctl(sorted, g->n, 95), okp);
			set_pence(&r[8], yoc_sdc_money(s, g->cost), ok);
		}
		yoc_free(allc);
		add_index_table(c, t);
		yoc_buf_puts(b, "<section id=\"bands\"><h2>Currency bands</h2>");
		html_table(c, b, t);
		yoc_buf_puts(b, "</section>\n");
	}
	/* 8. unpriced activity */
	{
		sqlite3_stmt *q = NULL;
		yoc_buf_puts(b, "<section id=\"unpriced\"><h2>Activity left out of the costs</h2>");
		if (sqlite3_prepare_v2(db, "SELECT feed, reason, sum(records) FROM unpriced_activity "
				       "WHERE fyear = ?1 GROUP BY feed, reason ORDER BY feed, reason",
				       -1, &q, NULL) == SQLITE_OK) {
			sqlite3_bind_text(q, 1, R->fyear, -1, SQLITE_STATIC);
			static const char *const cols[] = {"Feed", "Reason", "Records"};
			int kinds[3] = {K_TEXT, K_TEXT, K_COUNT};
			struct ptable *t = pt_new(c, "unpriced_activity", "Activity records left out "
						  "of the costs, by reason", NULL, 3,
						  cols, kinds);
			/* the records with their total: one table through yoc_sdc_protect,
			 * so a hidden count is not the total minus the others */
			int64_t *v = NULL;
			int nv = 0, cv = 0;
			while (t && sqlite3_step(q) == SQLITE_ROW) {
				struct pcell *r = pt_row(c, t);
				if (nv + 1 >= cv) {
					int nc = cv ? cv * 2 : 32;
					int64_t *nvv = yoc_realloc(v, sizeof *v * (size_t)nc);
					if (!nvv)
						r = NULL;
					else
						v = nvv, cv = nc;
				}
				if (!r) {
					yoc_free(v);
					sqlite3_finalize(q);
					return YOC_ENOMEM;
				}
				const char *f0 = (const char *)sqlite3_column_text(q, 0);
				const char *f1 = (const char *)sqlite3_column_text(q, 1);
				r[0].s = astr(c, f0 ? f0 : "");
				r[1].s = astr(c, f1 ? f1 : "");
				v[nv++] = sqlite3_column_int64(q, 2);
			}
			sqlite3_finalize(q);
			int64_t total = 0, ptotal = 0;
			for (int i = 0; i < nv; i++)
				total += v[i];
			if (t && nv > 0) {
				unsigned char *ust = yoc_malloc((size_t)nv + 1);
				int64_t *upub = yoc_malloc(sizeof *upub * ((size_t)nv + 1));
				struct pcell *r = pt_row(c, t);
				v[nv] = total;
				if (!ust || !upub || !r)
					rc = YOC_ENOMEM;
				else if (!(rc = protect(c, nv + 1, 1, 1, 0, v, ust, upub))) {
					r[0].s = "Total";
					r[1].s = "";
					for (int i = 0; i <= nv; i++)
						set_count(&t->cells[(size_t)i * 3 + 2], upub[i]);
					ptotal = upub[nv];
				}
				yoc_free(ust);
				yoc_free(upub);
			}
			yoc_free(v);
			if (rc)
				return rc;
			char nb[32];
			yoc_buf_printf(b, "<p>%s activity records in %s are left out of every cost "
				       "above and counted here. Reasons: <i>no_price</i>, the costing "
				       "rules cannot price the record (unknown currency or clinician "
				       "type); <i>no_pseudonym</i>, no NHS number to link it to a "
				       "person; <i>not_registered</i>, the person is not on the GP "
				       "register; <i>outside_registration</i>, the person was not "
				       "registered in that year.</p>",
				       yoc_sdc_fmt(ptotal, 1, nb), R->fyear);
			if (t && t->nrows) {
				add_index_table(c, t);
				html_table(c, b, t);
			} else if (t) {
				add_index_table(c, t);
			}
		} else {
			sqlite3_finalize(q);
			yoc_buf_puts(b, "<p>Not recorded: the database has no unpriced_activity table.</p>");
		}
		yoc_buf_puts(b, "</section>\n");
	}
	return rc ? rc : costing_basis(c, db, R, b);
}

static void safe_name(const char *code, char *out, size_t n)
{
	size_t j = 0;
	for (const char *p = code; *p && j < n - 1; p++)
		out[j++] = ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			    (*p >= '0' && *p <= '9') || *p == '-') ? *p : '_';
	out[j] = 0;
	if (!j)
		snprintf(out, n, "_");
}

/*
** The practice packs' count tables, published together: age by sex with
** margins, currency bands and LTC counts, each with its total, one row of
** ncell cells per practice. Each goes through the disclosure engine with
** the practice's total hidden when the table of practices hides its count
** (else the pack would give away what that table's secondary suppression
** protects). The packs are also slices of practice x cell tables whose sums
** over practices the index publishes (population, currency bands, LTC
** counts): where a cell is hidden in one pack only beside a published index
** cell, it would be their difference, so the cheapest other pack's cell is
** hidden too, and that pack is protected again around it, until no such
** cell is left (link_packs).
*/
struct ltab {
	int nr, nc;              /* each practice's table: nr x nc with margins */
	int ncell;
	int64_t *v, *pub;        /* np x ncell */
	unsigned char *st;
	const int64_t *margin;   /* the index's published cells (sums over practices) */
};

static int ltab_init(struct ltab *t, size_t np, int nr, int nc, const int64_t *margin)
{
	memset(t, 0, sizeof *t);
	t->nr = nr;
	t->nc = nc;
	t->ncell = nr * nc;
	t->margin = margin;
	t->v = yoc_calloc(np * (size_t)t->ncell + 1, sizeof *t->v);
	t->pub = yoc_calloc(np * (size_t)t->ncell + 1, sizeof *t->pub);
	t->st = yoc_calloc(np * (size_t)t->ncell + 1, 1);
	return t->v && t->pub && t->st ? 0 : YOC_ENOMEM;
}

static void ltab_free(struct ltab *t)
{
	yoc_free(t->v);
	yoc_free(t->pub);
	yoc_free(t->st);
}

/* Protects practice p's table, keeping hidden every cell hide[] names. */
static int ltab_protect(struct ctx *c, struct ltab *t, size_t p, const unsigned char *hide)
{
	size_t o = p * (size_t)t->ncell;
	int rc = yoc_sdc_protect_hide(&c->o->sdc, t->nr, t->nc, 1, t->nc > 1, t->v + o, hide,
				      t->st + o, t->pub + o);
	if (rc)
		yoc_error_set(c->e, rc, NULL, 0, 0, "disclosure control failed (%s)",
			      yoc_status_str(rc));
	return rc;
}

/*
** One pass over the cells: where the packs and the index hide exactly one
** of cell x's terms (sum over practices = the index's cell), hide the
** cheapest other (non-zero before zero, smallest first) and protect that
** pack again with all its hidden cells kept hidden. Returns the number of
** cells hidden, or a negative status.
*/
static int link_packs(struct ctx *c, struct ltab *t, size_t np)
{
	int added = 0;
	unsigned char hide[(NAGE + 1) * 4 + MAXBAND + NLTC + 2];
	for (int x = 0; x < t->ncell; x++) {
		int nh = t->margin[x] == YOC_SDC_HIDDEN;
		size_t best = SIZE_MAX;
		for (size_t p = 0; p < np; p++) {
			size_t k = p * (size_t)t->ncell + (size_t)x;
			if (t->st[k]) {
				nh++;
				continue;
			}
			if (best == SIZE_MAX || (t->v[k] != 0 && t->v[best] == 0) ||
			    ((t->v[k] != 0) == (t->v[best] != 0) && t->v[k] < t->v[best]))
				best = k;
		}
		if (nh != 1 || best == SIZE_MAX)
			continue;
		size_t p = best / (size_t)t->ncell, o = p * (size_t)t->ncell;
		for (int k = 0; k < t->ncell; k++)
			hide[k] = t->st[o + (size_t)k] != 0;
		hide[x] = 1;
		int rc = ltab_protect(c, t, p, hide);
		if (rc)
			return rc;
		added++;
	}
	return added;
}

/* Fills and protects the three pack tables of every practice (pst[i]: the
 * practice's state in the table of practices). */
static int protect_packs(struct ctx *c, struct report *R, const unsigned char *pst,
			 struct ltab *lt)
{
	struct acc *a = &R->a;
	size_t np = a->nprac;
	int nb = a->nband, rc;
	if ((rc = ltab_init(&lt[0], np, NAGE + 1, 4, R->pop_pub)) ||
	    (rc = ltab_init(&lt[1], np, nb + 1, 1, R->band_pub)) ||
	    (rc = ltab_init(&lt[2], np, NLTC + 1, 1, R->ltc_pub)))
		return yoc_error_set(c->e, rc, NULL, 0, 0, "out of memory");
	unsigned char hide[(NAGE + 1) * 4];
	for (size_t i = 0; i < np; i++) {
		const struct prac *p = &a->prac[i];
		int64_t *v = lt[0].v + i * (size_t)lt[0].ncell;
		for (int r = 0; r < NAGE; r++)
			for (int k = 0; k < 3; k++) {
				v[r * 4 + k] = p->pop[r][k];
				v[r * 4 + 3] += p->pop[r][k];
				v[NAGE * 4 + k] += p->pop[r][k];
				v[NAGE * 4 + 3] += p->pop[r][k];
			}
		for (int part = 1; part <= 2; part++) {
			int n = part == 1 ? nb : NLTC;
			v = lt[part].v + i * (size_t)lt[part].ncell;
			for (int r = 0; r < n; r++) {
				v[r] = part == 1 ? p->band[r] : p->ltc[r];
				v[n] += v[r];
			}
		}
		for (int part = 0; part < 3; part++) {
			memset(hide, 0, sizeof hide);
			hide[lt[part].ncell - 1] = pst[i] != YOC_SDC_SHOWN; /* the practice's total */
			if ((rc = ltab_protect(c, &lt[part], i, hide)))
				return rc;
		}
	}
	for (int added = 1; added > 0;) {
		added = 0;
		for (int part = 0; part < 3; part++) {
			int k = link_packs(c, &lt[part], np);
			if (k < 0)
				return k;
			added += k;
		}
	}
	return 0;
}

static int practice_page(struct ctx *c, struct report *R, const struct prac *p,
			 int pstate, const struct ltab *lt, size_t pi)
{
	struct acc *a = &R->a;
	const struct yoc_sdc *s = &c->o->sdc;
	char name[64], id[128], title[128], path[4096];
	int rc = 0;
	safe_name(p->code, name, sizeof name);
	struct yoc_buf b;
	yoc_buf_init(&b, 0);
	snprintf(title, sizeof title, "Practice data pack: %s", p->code);
	char meta[256];
	snprintf(meta, sizeof meta, "Financial year %s. Compared with the whole population "
		 "of the dataset.", R->fyear);
	page_start(c, &b, title, meta);
	yoc_buf_puts(&b, "<nav><a href=\"../index.html\">Whole population report</a></nav>");
	/* key figures */
	static const char *const cols[] = {"Measure", "Practice", "Whole population"};
	int kinds[3] = {K_TEXT, K_NUM, K_NUM};
	snprintf(id, sizeof id, "practices/%s_key_figures", name);
	struct ptable *t = pt_new(c, astr(c, id), "Key figures", NULL, 3, cols, kinds);
	const struct grp *g[2] = {&p->all, &a->all};
	int st[2] = {pstate, 0};
	/* the published counts of the practice and of the population: means are
	 * published sums over them (docs/disclosure.md) */
	int64_t npub[2] = {pstate ? YOC_SDC_HIDDEN : yoc_sdc_one(s, p->all.n),
			   yoc_sdc_one(s, a->all.n)};
	for (int m = 0; t && m < 7; m++) {
		struct pcell *r = pt_row(c, t);
		if (!r)
			return YOC_ENOMEM;
		static const char *const mn[] = {
			"Registered people", "% aged 65 and over",
			"% with two or more LTCs", "% with a mental health LTC",
			"Emergency admissions per 1,000 people", "Mean annual cost per person (£)",
			"Total annual cost (£)"};
		r[0].s = mn[m];
		for (int k = 0; k < 2; k++) {
			const struct grp *x = g[k];
			int ok = yoc_sdc_stat_ok(s, x->n, st[k]);
			double d = NAN;
			switch (m) {
			case 0: d = dv(npub[k]); break;
			case 1: d = yoc_sdc_rate(s, x->age65, x->n, st[k], 100, 1); break;
			case 2: d = yoc_sdc_rate(s, x->mm, x->n, st[k], 100, 1); break;
			case 3: d = yoc_sdc_rate(s, x->mental, x->n, st[k], 100, 1); break;
			case 4: d = yoc_sdc_rate(s, x->emerg, x->n, st[k], 1000, 0); break;
			case 5:
				d = ok ? (double)yoc_sdc_mean(s, x->cost, x->n, npub[k]) / 100 : NAN;
				break;
			default:
				d = ok ? round((double)yoc_sdc_money(s, x->cost) / 100) : NAN;
				break;
			}
			set_pct(&r[1 + k], d, 1);
		}
	}
	if (t) {
		html_table(c, &b, t);
		if ((rc = write_csv(c, t)))
			goto cleanup;
	}
	/* pyramid: practice counts through disclosure control (protect_packs),
	 * as % of its total */
	{
		const int64_t *pub = lt[0].pub + pi * (size_t)lt[0].ncell;
		double L[NAGE], Rr[NAGE], ML[NAGE], MR[NAGE];
		int64_t tot = pub[NAGE * 4 + 3];
		/* the whole population's marks from its published counts too */
		const int64_t *ip = R->pop_pub;
		for (int i = 0; i < NAGE; i++) {
			L[i] = pub_pct(pub[i * 4], tot);
			Rr[i] = pub_pct(pub[i * 4 + 1], tot);
			ML[i] = pub_pct(ip[i * 4], ip[NAGE * 4 + 3]);
			MR[i] = pub_pct(ip[i * 4 + 1], ip[NAGE * 4 + 3]);
		}
		yoc_buf_puts(&b, "<h2>Population</h2>");
		yoc__svg_pyramid(&b, "Age and sex (% of the practice's people)", NAGE, age_name,
				 L, Rr, "Female", "Male", ML, MR,
				 "whole population (% of all people)", 1);
		static const char *const pc[] = {"Age band", "Female", "Male", "Other or unknown",
						 "Total"};
		snprintf(id, sizeof id, "practices/%s_population", name);
		struct ptable *tp = pt_new(c, astr(c, id), "People by age band and sex", NULL, 5,
					   pc, KC);
		for (int i = 0; tp && i <= NAGE; i++) {
			struct pcell *r = pt_row(c, tp);
			if (!r)
				return YOC_ENOMEM;
			r[0].s = i < NAGE ? age_name[i] : "Total";
			for (int k = 0; k < 4; k++)
				set_count(&r[1 + k], pub[i * 4 + k]);
		}
		if (tp && (rc = write_csv(c, tp)))
			goto cleanup;
	}
	/* currency bands and LTC counts: practice vs population */
	for (int part = 0; part < 2; part++) {
		int n = part ? NLTC : a->nband;
		const int64_t *pub = lt[1 + part].pub + pi * (size_t)lt[1 + part].ncell;
		static const char *const bc[] = {"Band", "Practice people", "Practice %",
						 "Whole population %"};
		static const char *const lc[] = {"LTCs", "Practice people", "Practice %",
						 "Whole population %"};
		int bk[4] = {K_TEXT, K_COUNT, K_PCT, K_PCT};
		snprintf(id, sizeof id, "practices/%s_%s", name, part ? "ltc_count" : "bands");
		struct ptable *tb = pt_new(c, astr(c, id), part ? "People by number of long-term "
					   "conditions" : "People by currency band", NULL, 4,
					   part ? lc : bc, bk);
		for (int i = 0; tb && i <= n; i++) {
			struct pcell *r = pt_row(c, tb);
			if (!r)
				return YOC_ENOMEM;
			r[0].s = i < n ? (part ? ltc_name[i] : a->band[i]) : "Total";
			set_count(&r[1], pub[i]);
			double x = pub_pct(pub[i], pub[n]);
			set_pct(&r[2], round(x * 10) / 10, 1);
			/* of the index's published counts, as its % of people */
			const int64_t *ip = part ? R->ltc_pub : R->band_pub;
			double y = pub_pct(ip[i], ip[n]);
			set_pct(&r[3], round(y * 10) / 10, 1);
		}
		if (tb) {
			yoc_buf_puts(&b, part ? "<h2>Multimorbidity</h2>" : "<h2>Currency bands</h2>");
			html_table(c, &b, tb);
			if ((rc = write_csv(c, tb)))
				goto cleanup;
		}
	}
	/* cost per person by setting */
	{
		static const char *const cc[] = {"Setting", "Practice", "Whole population"};
		int ck[3] = {K_TEXT, K_PENCE, K_PENCE};
		snprintf(id, sizeof id, "practices/%s_cost_by_setting", name);
		struct ptable *tc = pt_new(c, astr(c, id), "Mean annual cost per person by setting",
					   NULL, 3, cc, ck);
		int ok = yoc_sdc_stat_ok(s, p->all.n, pstate);
		int oka = yoc_sdc_stat_ok(s, a->all.n, 0);
		double v2[2 * NSET];
		for (int k = 0; tc && k <= NSET; k++) {
			struct pcell *r = pt_row(c, tc);
			if (!r)
				return YOC_ENOMEM;
			int64_t pc_ = k < NSET ? p->all.set[k] : p->all.cost;
			int64_t ac = k < NSET ? a->all.set[k] : a->all.cost;
			r[0].s = k < NSET ? set_name[k] : "Total";
			int64_t pm = yoc_sdc_mean(s, pc_, p->all.n, npub[0]);
			int64_t am = yoc_sdc_mean(s, ac, a->all.n, npub[1]);
			set_pence(&r[1], pm, ok);
			set_pence(&r[2], am, oka);
			if (k < NSET) {
				v2[k] = ok ? (double)pm / 100 : NAN;
				v2[NSET + k] = oka ? (double)am / 100 : NAN;
			}
		}
		if (tc) {
			const char *cats[2] = {p->code, "Whole population"};
			yoc_buf_puts(&b, "<h2>Care usage and cost</h2>");
			yoc__svg_stacked(&b, "Mean annual cost per person, by setting", 2, cats, NSET,
					 set_name, v2, 1);
			html_table(c, &b, tc);
			if ((rc = write_csv(c, tc)))
				goto cleanup;
		}
	}
	page_end(c, &b);
	if (!b.data) {
		rc = YOC_ENOMEM;
		goto cleanup;
	}
	snprintf(path, sizeof path, "%s/practices/%s.html", c->o->out, name);
	rc = write_buf(c, path, &b);
cleanup:
	yoc_buf_free(&b);
	return rc;
}

/* The data-quality note under the table of practices: who is in "practice
 * unknown" and why (n: the group's published count). */
static void unknown_note(struct yoc_buf *b, const struct report *R, int64_t n)
{
	char nb[32];
	yoc_buf_printf(b, "<p class=\"dq\">Data quality: %s people registered in %s are counted "
		       "under <i>%s</i>: the practice code of their GP registration failed "
		       "validation (an ODS practice code is a letter and five digits, not all "
		       "zero), so it names no organisation. They are in every whole-population "
		       "figure above but in no practice's, and have no data pack. The "
		       "data-quality report (yoc quality) lists the codes and who sent them.</p>",
		       yoc_sdc_fmt(n, 1, nb), R->fyear, unknown_label);
}

static int practices_section(struct ctx *c, struct report *R, struct yoc_buf *b)
{
	struct acc *a = &R->a;
	const struct yoc_sdc *s = &c->o->sdc;
	size_t np = a->nprac;
	qsort(a->prac, np, sizeof *a->prac, prac_cmp);
	int64_t *v = yoc_calloc(np + 1, sizeof *v), *pub = yoc_calloc(np + 1, sizeof *pub);
	unsigned char *st = yoc_calloc(np + 1, 1);
	struct ltab lt[3];
	int rc = 0;
	memset(lt, 0, sizeof lt);
	if (!v || !pub || !st) {
		rc = YOC_ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < np; i++) {
		v[i] = a->prac[i].all.n;
		v[np] += v[i];
	}
	/* a column of any length: yoc_sdc_protect needs no linear algebra here */
	if ((rc = protect(c, (int)np + 1, 1, 1, 0, v, st, pub)) ||
	    (rc = protect_packs(c, R, st, lt)))
		goto cleanup;
	int64_t unknown_pub = 0;
	static const char *const cols[] = {"Practice", "People", "% aged 65+",
					   "% with 2+ LTCs", "% with a mental health LTC",
					   "Emergency admissions per 1,000", "Mean annual cost"};
	int kinds[7] = {K_TEXT, K_COUNT, K_PCT, K_PCT, K_PCT, K_PCT, K_PENCE};
	struct ptable *t = pt_new(c, "practices", "Practices compared", NULL, 7, cols, kinds);
	yoc_buf_puts(b, "<section id=\"practices\"><h2>Practice data packs</h2><p>One page per "
			"practice comparing its population and care usage with the whole "
			"population:</p><ul class=\"cols\">");
	for (size_t i = 0; t && i <= np; i++) {
		const struct grp *g = i < np ? &a->prac[i].all : &a->all;
		struct pcell *r = pt_row(c, t);
		if (!r) {
			rc = YOC_ENOMEM;
			goto cleanup;
		}
		int ok = yoc_sdc_stat_ok(s, g->n, st[i]);
		int unknown = i < np && a->prac[i].unknown;
		r[0].s = i < np ? (unknown ? unknown_label : a->prac[i].code) : "Total";
		set_count(&r[1], pub[i]);
		set_pct(&r[2], yoc_sdc_rate(s, g->age65, g->n, st[i], 100, 1), 1);
		set_pct(&r[3], yoc_sdc_rate(s, g->mm, g->n, st[i], 100, 1), 1);
		set_pct(&r[4], yoc_sdc_rate(s, g->mental, g->n, st[i], 100, 1), 1);
		double e = yoc_sdc_rate(s, g->emerg, g->n, st[i], 1000, 0);
		set_pct(&r[5], e, 1);
		t->kinds[5] = K_NUM;
		r[5].d = isnan(e) ? 0 : e;
		r[5].hidden = isnan(e);
		set_pence(&r[6], yoc_sdc_mean(s, g->cost, g->n, pub[i]), ok);
		if (unknown) {
			unknown_pub = pub[i];
		} else if (i < np) {
			char nm[64];
			safe_name(a->prac[i].code, nm, sizeof nm);
			yoc_buf_printf(b, "<li><a href=\"practices/%s.html\">", nm);
			yoc__html_esc(b, a->prac[i].code);
			yoc_buf_puts(b, "</a></li>");
			if ((rc = practice_page(c, R, &a->prac[i], st[i], lt, i)))
				goto cleanup;
		}
	}
	yoc_buf_puts(b, "</ul>");
	add_index_table(c, t);
	html_table(c, b, t);
	if (unknown_pub != 0)
		unknown_note(b, R, unknown_pub);
	yoc_buf_puts(b, "</section>\n");
cleanup:
	yoc_free(v);
	yoc_free(pub);
	yoc_free(st);
	for (int k = 0; k < 3; k++)
		ltab_free(&lt[k]);
	return rc;
}

/*
** A value of analyse_run as published: counts of people (person_years: the
** whole population when one year is analysed) go through the rule like
** every other count; the rest (versions, parameters, file names) as they are.
*/
static const char *run_value(const struct yoc_sdc *s, const char *key, const char *v,
			     char *buf)
{
	if (strcmp(key, "person_years") != 0)
		return v;
	char *end;
	long long n = strtoll(v, &end, 10);
	if (end == v || *end)
		return "*";
	return yoc_sdc_fmt(yoc_sdc_one(s, n), 0, buf);
}

static void read_meta(sqlite3 *db, struct ctx *c, struct report *R)
{
	char nb[32];
	sqlite3_stmt *q = NULL;
	struct yoc_buf m;
	yoc_buf_init(&m, 900);
	static const char *const cols[] = {"Parameter", "Value"};
	int kinds[2] = {K_TEXT, K_TEXT};
	struct ptable *t = pt_new(c, "run", "How these results were made (analyse run)", NULL,
				  2, cols, kinds);
	if (sqlite3_prepare_v2(db, "SELECT key, value FROM analyse_run ORDER BY rowid", -1, &q,
			       NULL) == SQLITE_OK) {
		while (sqlite3_step(q) == SQLITE_ROW) {
			const char *k = (const char *)sqlite3_column_text(q, 0);
			const char *v = (const char *)sqlite3_column_text(q, 1);
			if (!k || !v)
				continue;
			if (strcmp(k, "bands") == 0)
				snprintf(R->bands_spec, sizeof R->bands_spec, "%s", v);
			if (strcmp(k, "codelist_version") == 0 || strcmp(k, "lookback_years") == 0 ||
			    strcmp(k, "bands") == 0)
				yoc_buf_printf(&m, "%s%s %s", m.len ? "; " : "", k, v);
			struct pcell *r = t ? pt_row(c, t) : NULL;
			if (r) {
				r[0].s = astr(c, k);
				r[1].s = astr(c, run_value(&c->o->sdc, k, v, nb));
			}
		}
	}
	sqlite3_finalize(q);
	if (t && t->nrows)
		add_index_table(c, t);
	snprintf(R->meta, sizeof R->meta, "%s", m.len ? m.data : "Run parameters not recorded.");
	yoc_buf_free(&m);
}

int yoc_report_write(const struct yoc_report_opts *o, struct yoc_report_result *res,
		     struct yoc_error *e)
{
	struct ctx c;
	memset(&c, 0, sizeof c);
	c.o = o;
	c.e = e;
	yoc_arena_init(&c.ar, 1 << 16);
	struct report *R = yoc_calloc(1, sizeof *R);
	sqlite3 *db = NULL;
	struct yoc_buf b;
	yoc_buf_init(&b, 0);
	int rc = 0;
	char path[4096];
	memset(res, 0, sizeof *res);
	if (!R || yoc_map_init(&R->a.pmap, 256)) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	if (sqlite3_open_v2(o->db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EIO, o->db, 0, 0, "cannot open: %s",
				   db ? sqlite3_errmsg(db) : "out of memory");
		goto cleanup;
	}
	if (o->fyear) {
		snprintf(R->fyear, sizeof R->fyear, "%s", o->fyear);
	} else {
		sqlite3_stmt *q = NULL;
		if (sqlite3_prepare_v2(db, "SELECT max(fyear) FROM person_year", -1, &q, NULL) !=
		    SQLITE_OK) {
			rc = yoc_error_set(e, YOC_EDATA, o->db, 0, 0, "no person_year table (run "
					   "yoc analyse first): %s", sqlite3_errmsg(db));
			sqlite3_finalize(q);
			goto cleanup;
		}
		if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
			snprintf(R->fyear, sizeof R->fyear, "%s", sqlite3_column_text(q, 0));
		sqlite3_finalize(q);
		if (!R->fyear[0]) {
			rc = yoc_error_set(e, YOC_EDATA, o->db, 0, 0, "person_year is empty");
			goto cleanup;
		}
	}
	{
		/* bands in name order, before any row decides it */
		sqlite3_stmt *q = NULL;
		if (sqlite3_prepare_v2(db, "SELECT DISTINCT band FROM person_year WHERE fyear = ?1 "
				       "ORDER BY band", -1, &q, NULL) == SQLITE_OK) {
			sqlite3_bind_text(q, 1, R->fyear, -1, SQLITE_STATIC);
			while (sqlite3_step(q) == SQLITE_ROW)
				band_index(&R->a, sqlite3_column_text(q, 0)
					   ? (const char *)sqlite3_column_text(q, 0) : "?");
		}
		sqlite3_finalize(q);
	}
	if ((rc = accumulate(db, R->fyear, &R->a, e)))
		goto cleanup;
	if (R->a.all.n == 0) {
		rc = yoc_error_set(e, YOC_EDATA, o->db, 0, 0, "no person_year rows for %s",
				   R->fyear);
		goto cleanup;
	}
	snprintf(path, sizeof path, "%s/practices", o->out);
	if (yoc_mkdirs(path, 0755)) {
		rc = yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot create the folder");
		goto cleanup;
	}
	snprintf(path, sizeof path, "%s/csv/practices", o->out);
	if (yoc_mkdirs(path, 0755)) {
		rc = yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot create the folder");
		goto cleanup;
	}
	read_meta(db, &c, R);
	if ((rc = build_index(&c, db, R, &b)))
		goto cleanup;
	if ((rc = practices_section(&c, R, &b)))
		goto cleanup;
	for (struct ptable *t = c.tables; t; t = t->next)
		if (strcmp(t->id, "run") == 0) {
			yoc_buf_puts(&b, "<section id=\"run\"><h2>About these results</h2>");
			html_table(&c, &b, t);
			yoc_buf_puts(&b, "</section>\n");
		}
	page_end(&c, &b);
	if (c.oom || !b.data) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	snprintf(path, sizeof path, "%s/index.html", o->out);
	if ((rc = write_buf(&c, path, &b)))
		goto cleanup;
	for (struct ptable *t = c.tables; t; t = t->next) {
		if ((rc = write_csv(&c, t)))
			goto cleanup;
		res->tables++;
	}
	if ((rc = write_xlsx(&c, R->meta)))
		goto cleanup;
	snprintf(res->fyear, sizeof res->fyear, "%s", R->fyear);
	res->persons = (long)R->a.all.n;
	res->practices = (long)R->a.nprac;
	for (size_t i = 0; i < R->a.nprac; i++)
		res->practices -= R->a.prac[i].unknown; /* no pack */
	res->files = c.files;
cleanup:
	if (R) {
		for (int i = 0; i < MAXBAND; i++)
			yoc_free(R->a.bcost[i]);
		yoc_free(R->a.prac);
		yoc_map_free(&R->a.pmap);
	}
	yoc_free(R);
	yoc_buf_free(&b);
	sqlite3_close(db);
	yoc_arena_free(&c.ar);
	return rc;
}

/*
** The report's workbook: an "about" sheet (title, disclosure control, the
** meaning of *, provenance, and a list of every sheet with a hyperlink),
** then one sheet per table of c->tables, in order, each one table with its
** header row at A1, frozen, filtered and set up to print. The workbook's
** properties carry the provenance (report_manifest.c).
*/
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "report/report_int.h"
#include "yoc/io.h"

/* Writes table t on its own sheet ws: the header row at A1, one row per
 * table row, frozen header, autofilter, printed landscape on A4 fitted to
 * the page width with the header repeated. */
static void write_sheet(struct ctx *c, lxw_worksheet *ws, const struct ptable *t,
			lxw_format **fm)
{
	enum { F_HEAD, F_RIGHT, F_COUNT, F_MONEY, F_PCT, F_DEC1, F_INT, F_RATIO, F_REAL, F_R2 };
	worksheet_set_column(ws, 0, 0, 24, NULL);
	if (t->ncols > 1)
		worksheet_set_column(ws, 1, (lxw_col_t)(t->ncols - 1), 15, NULL);
	for (int k = 0; k < t->ncols; k++)
		worksheet_write_string(ws, 0, (lxw_col_t)k, t->cols[k], fm[F_HEAD]);
	for (int i = 0; i < t->nrows; i++)
		for (int k = 0; k < t->ncols; k++) {
			const struct pcell *p = &t->cells[(size_t)i * t->ncols + k];
			lxw_row_t rr = (lxw_row_t)(i + 1);
			lxw_col_t cc = (lxw_col_t)k;
			int kind = yoc__cell_kind(t, k, p);
			switch (kind) {
			case K_TEXT:
				worksheet_write_string(ws, rr, cc, p->s ? p->s : "", NULL);
				break;
			case K_COUNT:
			case K_PENCE:
			case K_PCT:
			case K_REAL:
			case K_RATIO:
			case K_R2:
			case K_NUM:
				if (p->hidden) {
					worksheet_write_string(ws, rr, cc, "*", fm[F_RIGHT]);
				} else if (kind == K_COUNT) {
					worksheet_write_number(ws, rr, cc, (double)p->i, fm[F_COUNT]);
				} else if (kind == K_PENCE) {
					worksheet_write_number(ws, rr, cc, (double)p->i / 100.0, fm[F_MONEY]);
				} else if (kind == K_PCT) {
					/* a fraction shown as a percentage, to the digit published */
					worksheet_write_number(ws, rr, cc, round(p->d * 10) / 1000, fm[F_PCT]);
				} else if (kind == K_REAL) { /* as the CSV: no more digits */
					worksheet_write_number(ws, rr, cc, round(p->d * 1e4) / 1e4, fm[F_REAL]);
				} else if (kind == K_R2) {
					worksheet_write_number(ws, rr, cc, round(p->d * 1e3) / 1e3, fm[F_R2]);
				} else if (kind == K_RATIO) {
					worksheet_write_number(ws, rr, cc, round(p->d * 100) / 100, fm[F_RATIO]);
				} else {
					worksheet_write_number(ws, rr, cc, p->d,
							       p->d == floor(p->d) ? fm[F_INT] : fm[F_DEC1]);
				}
				break;
			}
		}
	worksheet_freeze_panes(ws, 1, 0);
	worksheet_autofilter(ws, 0, 0, (lxw_row_t)t->nrows, (lxw_col_t)(t->ncols - 1));
	worksheet_set_landscape(ws);
	worksheet_set_paper(ws, 9); /* A4 */
	worksheet_fit_to_pages(ws, 1, 0);
	worksheet_repeat_rows(ws, 0, 0);
	char hdr[300];
	int n = snprintf(hdr, sizeof hdr, "&L%s&R", c->o->sdc.off ? "NOT DISCLOSURE CONTROLLED"
			 : "yoc report");
	for (const char *q = t->title; *q && n < 200; q++) {
		if (*q == '&')
			hdr[n++] = '&'; /* && is a literal & in a header */
		hdr[n++] = *q;
	}
	hdr[n] = 0;
	worksheet_set_header(ws, hdr);
	worksheet_set_footer(ws, "&LSuppressed values are shown as *; see the about sheet&RPage &P of &N");
}

int yoc__write_xlsx(struct ctx *c, const char *meta_note)
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
	lxw_format *fm[10];
	static const char *const nf[10] = {NULL, NULL, "#,##0", "£#,##0.00", "0.0%", "#,##0.0",
					   "#,##0", "0.00", "0.0000", "0.000"};
	for (int k = 0; k < 10; k++) {
		fm[k] = workbook_add_format(wb);
		if (nf[k])
			format_set_num_format(fm[k], nf[k]);
	}
	format_set_bold(fm[0]);
	format_set_bg_color(fm[0], 0xF2F2F2);
	format_set_align(fm[1], LXW_ALIGN_RIGHT);
	lxw_format *bold = workbook_add_format(wb);
	format_set_bold(bold);
	lxw_format *title = workbook_add_format(wb);
	format_set_bold(title);
	format_set_font_size(title, 14);
	lxw_format *warn = workbook_add_format(wb);
	format_set_bold(warn);
	format_set_font_color(warn, LXW_COLOR_RED);
	lxw_format *wrap = workbook_add_format(wb);
	format_set_text_wrap(wrap);
	format_set_align(wrap, LXW_ALIGN_VERTICAL_TOP);
	lxw_format *link = workbook_add_format(wb);
	format_set_underline(link, LXW_UNDERLINE_SINGLE);
	format_set_font_color(link, LXW_COLOR_BLUE);

	/* the properties: provenance in the comments (report_manifest.c) */
	char ptitle[128], comments[800];
	snprintf(ptitle, sizeof ptitle, "Year of Care whole population report");
	snprintf(comments, sizeof comments, "Provenance: %s. Dataset state SHA-256 %s. "
		 "Full manifest: manifest.json beside this workbook.",
		 c->man ? c->man->line : "yoc " YOC_VERSION, c->man ? c->man->state : "");
	lxw_doc_properties props = {0};
	props.title = ptitle;
	props.subject = "Population, multimorbidity and cost of care (disclosure controlled "
			"unless stated)";
	props.author = "yoc";
	props.company = "";
	props.comments = comments;
	/* the data's time, not the clock's, so a rerun writes the same bytes:
	 * the last load's end, or 1 January 2000 without a load log */
	props.created = (time_t)(c->man && c->man->loaded > 0 ? c->man->loaded : 946684800);
	props.keywords = "year of care, population health, yoc";
	workbook_set_properties(wb, &props);
	if (c->man)
		workbook_set_custom_property_string(wb, "dataset_state_sha256", c->man->state);

	lxw_worksheet *about = workbook_add_worksheet(wb, "about");
	int ar = 0;
	worksheet_set_column(about, 0, 0, 30, NULL);
	worksheet_set_column(about, 1, 1, 70, wrap);
	worksheet_set_column(about, 2, 2, 60, wrap);
	worksheet_write_string(about, ar++, 0, "Year of Care whole population report (yoc)", title);
	char rule[400];
	snprintf(rule, sizeof rule, "Disclosure control applied: counts 1-%lld shown as *, others "
		 "rounded to %lld; sums of money to %d significant figures, means are published "
		 "sums over published counts; see docs/disclosure.md",
		 (long long)c->o->sdc.threshold, (long long)c->o->sdc.round_to, c->o->sdc.money_sf);
	worksheet_write_string(about, ar++, 0, c->o->sdc.off ? yoc__banner_text : rule,
			       c->o->sdc.off ? warn : NULL);
	worksheet_write_string(about, ar++, 0, "Suppressed values: a cell holding * is hidden by "
			       "disclosure control (a small count, or one that could be worked out "
			       "from the others). It is text, so sums and pivot tables leave it out; "
			       "never read it as zero.", NULL);
	worksheet_write_string(about, ar++, 0, "Percentages are stored as fractions (0.25 shown as "
			       "25.0%); money in pounds; rates per 1,000 people are labelled so.", NULL);
	worksheet_write_string(about, ar++, 0, meta_note, NULL);
	if (c->man) {
		char line[900];
		snprintf(line, sizeof line, "Provenance: %s. Dataset state SHA-256 %s; reference data "
			 "versions, their SHA-256 and the parameters are in manifest.json.",
			 c->man->line, c->man->state);
		worksheet_write_string(about, ar++, 0, line, NULL);
	}
	ar++;
	worksheet_write_string(about, ar, 0, "Sheet", bold);
	worksheet_write_string(about, ar, 1, "Table", bold);
	worksheet_write_string(about, ar++, 2, "Notes", bold);
	for (const struct ptable *t = c->tables; t; t = t->next) {
		char name[32], url[64];
		snprintf(name, sizeof name, "%.31s", t->id);
		lxw_worksheet *ws = workbook_add_worksheet(wb, name);
		if (!ws)
			continue;
		snprintf(url, sizeof url, "internal:'%s'!A1", name);
		worksheet_write_url_opt(about, (lxw_row_t)ar, 0, url, link, name, t->title);
		worksheet_write_string(about, (lxw_row_t)ar, 1, t->title, wrap);
		if (t->note)
			worksheet_write_string(about, (lxw_row_t)ar, 2, t->note, wrap);
		ar++;
		write_sheet(c, ws, t, fm);
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

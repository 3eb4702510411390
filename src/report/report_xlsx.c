/*
** The report's workbook: an "about" sheet, then one sheet per table of
** c->tables, in order.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "report/report_int.h"
#include "yoc/io.h"

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
	worksheet_write_string(about, ar++, 0, c->o->sdc.off ? yoc__banner_text : rule,
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
			worksheet_write_string(ws, r++, 0, yoc__banner_text, warn);
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

/*
** The frame shared by every page of the report: head and style, the
** --no-suppression banner, the disclosure note, the navigation built from
** the page registry, and the footer.
*/
#include <stdio.h>

#include "report/report_int.h"
#include "report/svg.h"

static const char css[] =
	"body{font-family:'DejaVu Sans',Arial,sans-serif;color:#222;margin:0 auto;"
	"max-width:1000px;padding:0 24px 48px;line-height:1.4;font-size:14px}"
	"h1{font-size:24px;margin:24px 0 4px}h2{font-size:18px;margin:28px 0 8px;"
	"border-bottom:2px solid #1f4e79;padding-bottom:2px}"
	"p.meta{color:#555;margin:0 0 12px}p.note{color:#555;font-size:12px;margin:4px 0 12px}"
	".banner{background:#b00020;color:#fff;font-weight:bold;padding:10px 14px;margin:12px 0}"
	".sdc{background:#eef3f8;padding:8px 12px;font-size:12px;margin:8px 0}"
	".dq{background:#fff4e5;padding:8px 12px;font-size:12px;margin:8px 0}"
	".summary{background:#f6f9fc;border-left:4px solid #1f4e79;padding:2px 16px 8px;margin:12px 0}"
	".summary h2{border:0;margin-top:12px}ol.caveats li{margin:3px 0}"
	"table{border-collapse:collapse;font-size:12px;margin:6px 0}"
	"caption{text-align:left;font-weight:bold;padding:4px 0}"
	"th,td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left}"
	"th{background:#f2f2f2}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
	"tr.tot td{font-weight:bold;border-top:2px solid #999}"
	".tw{overflow-x:auto;max-width:100%}"
	"svg.chart{width:100%;max-width:900px;height:auto;display:block;margin:8px 0}"
	"svg .ct{font-size:14px;font-weight:bold;fill:#222}svg .ax{font-size:11px;fill:#333}"
	"svg .grid{stroke:#e4e4e4}svg .axis{stroke:#555}svg .mark{stroke:#000;stroke-width:2}"
	"nav{display:flex;flex-wrap:wrap;gap:4px 12px;margin:6px 0}ul.cols{columns:6;font-size:13px}"
	"footer.prov{border-top:1px solid #ddd;margin-top:24px;overflow-wrap:anywhere}"
	/* narrow screens: the page is the width of the phone, tables scroll */
	"@media (max-width:600px){body{padding:0 10px 32px;font-size:13px}h1{font-size:20px}"
	"ul.cols{columns:3}th,td{padding:3px 5px;white-space:nowrap}caption{white-space:normal}svg .ax{font-size:15px}svg .ct{font-size:19px}}"
	/* A4: portrait, wide tables on landscape pages, a page per section, no
	 * navigation, no scroll boxes (they would clip), external links with their URL */
	"@media print{body{max-width:none;padding:0;font-size:10px}nav,.tw p.note a{display:none}"
	"@page{size:A4 portrait;margin:14mm}@page wide{size:A4 landscape;margin:12mm}"
	".tw{overflow:visible}.tw.wide{page:wide}table{font-size:9px;width:auto}"
	".tw.wide table{font-size:8px}.tw.wide th,.tw.wide td{padding:1px 3px}"
	"th,td{padding:2px 4px}section{break-before:page;page-break-before:always}"
	"section.summary,section:first-of-type{break-before:auto;page-break-before:auto}"
	"table,svg.chart,li{break-inside:avoid;page-break-inside:avoid}"
	"h2{break-after:avoid;page-break-after:avoid}.banner{border:3px solid #b00020;"
	"color:#b00020;background:none}a{color:#222;text-decoration:none}"
	"a[href^='http']::after{content:' (' attr(href) ')';font-size:90%;overflow-wrap:anywhere}"
	"svg.chart{max-width:100%}}";

int yoc__page_start(struct ctx *c, struct yoc_buf *b, const char *title, const char *meta)
{
	int rc = yoc_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
				 "<meta name=\"viewport\" content=\"width=device-width\"><title>");
	rc |= yoc__html_esc(b, title);
	rc |= yoc_buf_printf(b, "</title><style>%s</style></head><body>\n", css);
	if (c->o->sdc.off) {
		rc |= yoc_buf_puts(b, "<div class=\"banner\">");
		rc |= yoc__html_esc(b, yoc__banner_text);
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
	int shown = 0;
	for (int i = 0; i < c->npages; i++)
		shown += !(c->absent && c->absent[i]);
	if (shown > 1 && !c->in_pack) {
		/* the registry's pages; one page needs none (a pack has its own) */
		rc |= yoc_buf_puts(b, "<nav class=\"site\">");
		for (int i = 0; i < c->npages; i++) {
			if (c->absent && c->absent[i])
				continue;
			rc |= yoc_buf_printf(b, "<a href=\"%s\"%s>", c->pages[i].file,
					     i == c->page ? " aria-current=\"page\"" : "");
			rc |= yoc__html_esc(b, c->pages[i].label);
			rc |= yoc_buf_puts(b, "</a>");
		}
		rc |= yoc_buf_printf(b, "<a href=\"%s#practices\">Practice data packs</a></nav>\n",
				     c->pages[0].file);
	}
	return rc;
}

int yoc__pack_nav(struct ctx *c, struct yoc_buf *b)
{
	c->in_pack = 1;
	int rc = yoc_buf_printf(b, "<nav><a href=\"../%s\">Whole population report</a>",
				c->npages > 0 ? c->pages[0].file : "index.html");
	for (int i = 1; i < c->npages; i++) {
		if (c->absent && c->absent[i])
			continue;
		rc |= yoc_buf_printf(b, "<a href=\"../%s\">", c->pages[i].file);
		rc |= yoc__html_esc(b, c->pages[i].label);
		rc |= yoc_buf_puts(b, "</a>");
	}
	rc |= yoc_buf_puts(b, "</nav>");
	return rc;
}

int yoc__page_end(struct ctx *c, struct yoc_buf *b)
{
	int rc = 0;
	if (c->o->sdc.off) {
		rc |= yoc_buf_puts(b, "<div class=\"banner\">");
		rc |= yoc__html_esc(b, yoc__banner_text);
		rc |= yoc_buf_puts(b, "</div>\n");
	}
	/* provenance: the run manifest (report_manifest.c) */
	rc |= yoc_buf_puts(b, "<footer class=\"prov\"><p class=\"note\">Made by ");
	rc |= yoc__html_esc(b, c->man ? c->man->line : "yoc " YOC_VERSION);
	rc |= yoc_buf_printf(b, ". Everything needed to trace and reproduce these figures: "
			     "<a href=\"%smanifest.json\">manifest.json</a> (reference data "
			     "versions and SHA-256, parameters, the full dataset state hash); "
			     "see docs/report.md.</p></footer></body></html>\n",
			     c->in_pack ? "../" : "");
	return rc;
}


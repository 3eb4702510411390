/*
** Line charts (svg_line.h): XmR chart and Lorenz curve. Pure text generation.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/svg.h"
#include "report/svg_line.h"

const char *yoc__spc_colour(int variation)
{
	switch (variation) {
	case YOC_SPC_IMPROVEMENT: return "#289de0";
	case YOC_SPC_CONCERN: return "#fab428";
	case YOC_SPC_NEITHER: return "#361475";
	default: return "#7f7f7f";
	}
}

static double nice(double v)
{
	if (!(v > 0))
		return 1;
	double p = pow(10, floor(log10(v))), f = v / p;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

int yoc__svg_xmr(struct yoc_buf *b, const char *title, int n, const char *const *labels,
		 const double *x, const struct yoc_spc *s, const struct yoc_spc_point *pt)
{
	const double W = 760, L = 70, R = 120, T = 34, B = 56, H = 300;
	const double pw = W - L - R, ph = H - T - B;
	double lo = INFINITY, hi = -INFINITY;
	for (int i = 0; i < n; i++) {
		lo = fmin(lo, x[i]);
		hi = fmax(hi, x[i]);
	}
	if (s->valid) {
		lo = fmin(lo, s->lcl);
		hi = fmax(hi, s->ucl);
	}
	if (!(hi > lo)) {
		hi = lo + 1;
		lo = lo - 1;
	}
	double step = nice((hi - lo) / 5);
	lo = step * floor(lo / step);
	hi = step * ceil(hi / step);
	int rc = yoc_buf_printf(b, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
				"xmlns=\"http://www.w3.org/2000/svg\"><title>", W, H);
	rc |= yoc__html_esc(b, title);
	rc |= yoc_buf_printf(b, "</title><text x=\"%.0f\" y=\"20\" class=\"ct\">", L);
	rc |= yoc__html_esc(b, title);
	rc |= yoc_buf_puts(b, "</text>");
#define YV(v) (T + ph - ((v) - lo) / (hi - lo) * ph)
#define XV(i) (L + (n > 1 ? (double)(i) / (n - 1) * pw : pw / 2))
	for (double t = lo; t <= hi + step / 2; t += step)
		rc |= yoc_buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
				     "class=\"grid\"/><text x=\"%.1f\" y=\"%.1f\" class=\"ax\" "
				     "text-anchor=\"end\">%g</text>", L, L + pw, YV(t), YV(t),
				     L - 6, YV(t) + 4, t);
	if (s->valid) {
		const double v[3] = {s->mean, s->ucl, s->lcl};
		const char *nm[3] = {"Mean", "Upper limit", "Lower limit"};
		for (int k = 0; k < 3; k++)
			rc |= yoc_buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
					     "stroke=\"%s\" stroke-width=\"1.5\"%s/><text x=\"%.1f\" "
					     "y=\"%.1f\" class=\"ax\">%s %.1f</text>", L, L + pw,
					     YV(v[k]), YV(v[k]), k ? "#c0504d" : "#333",
					     k ? " stroke-dasharray=\"6 4\"" : "", L + pw + 6,
					     YV(v[k]) + 4, nm[k], v[k]);
	}
	rc |= yoc_buf_puts(b, "<polyline fill=\"none\" stroke=\"#7f7f7f\" stroke-width=\"1.5\" points=\"");
	for (int i = 0; i < n; i++)
		rc |= yoc_buf_printf(b, "%s%.1f,%.1f", i ? " " : "", XV(i), YV(x[i]));
	rc |= yoc_buf_puts(b, "\"/>");
	for (int i = 0; i < n; i++) {
		rc |= yoc_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"><title>",
				     XV(i), YV(x[i]), yoc__spc_colour(pt[i].variation));
		rc |= yoc__html_esc(b, labels[i]);
		rc |= yoc_buf_printf(b, ": %g (%s)</title></circle>", x[i],
				     yoc_spc_variation_name(pt[i].variation));
		if (n <= 12 || i % 3 == 0) {
			rc |= yoc_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"ax\" "
					     "text-anchor=\"end\" transform=\"rotate(-45 %.1f %.1f)\">",
					     XV(i), T + ph + 14, XV(i), T + ph + 14);
			rc |= yoc__html_esc(b, labels[i]);
			rc |= yoc_buf_puts(b, "</text>");
		}
	}
#undef YV
#undef XV
	rc |= yoc_buf_puts(b, "</svg>\n");
	return rc ? YOC_ENOMEM : 0;
}

int yoc__svg_lorenz(struct yoc_buf *b, const char *title, int n, const double *px,
		    const double *py)
{
	const double W = 520, L = 60, T = 34, S = 420, H = T + S + 40;
	int rc = yoc_buf_printf(b, "<svg class=\"chart\" style=\"max-width:560px\" viewBox=\"0 0 "
				"%.0f %.0f\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\"><title>",
				W, H);
	rc |= yoc__html_esc(b, title);
	rc |= yoc_buf_printf(b, "</title><text x=\"%.0f\" y=\"20\" class=\"ct\">", L);
	rc |= yoc__html_esc(b, title);
	rc |= yoc_buf_puts(b, "</text>");
	for (int t = 0; t <= 100; t += 20)
		rc |= yoc_buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
				     "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
				     "<text x=\"%.1f\" y=\"%.1f\" class=\"ax\" text-anchor=\"end\">%d%%</text>"
				     "<text x=\"%.1f\" y=\"%.1f\" class=\"ax\" text-anchor=\"middle\">%d%%</text>",
				     L, L + S, T + S - t * S / 100, T + S - t * S / 100,
				     L + t * S / 100, L + t * S / 100, T, T + S,
				     L - 6, T + S - t * S / 100 + 4, t, L + t * S / 100, T + S + 16, t);
	rc |= yoc_buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" "
			     "stroke-dasharray=\"6 4\"/>", L, L + S, T + S, T);
	rc |= yoc_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"ax\" text-anchor=\"middle\">"
			     "%% of people, lowest cost first</text>", L + S / 2, T + S + 34);
	rc |= yoc_buf_puts(b, "<polyline fill=\"none\" stroke=\"#1f4e79\" stroke-width=\"2.5\" points=\"");
	for (int i = 0; i < n; i++)
		rc |= yoc_buf_printf(b, "%s%.1f,%.1f", i ? " " : "", L + px[i] * S / 100,
				     T + S - py[i] * S / 100);
	rc |= yoc_buf_puts(b, "\"/></svg>\n");
	return rc ? YOC_ENOMEM : 0;
}

/* One line of the chart through the points' values v(i) (NaN: a gap). */
/* The SPC chart's geometry, shared by its paths and its points: width, left,
 * right, top and bottom margins, height. The top margin leaves the title row
 * to the icons, clear of a limit label at the top of the plot. */
#define SPC_W 760.0
#define SPC_L 70.0
#define SPC_R 120.0
#define SPC_T 48.0
#define SPC_B 56.0
#define SPC_H 310.0

static int spc_path(struct yoc_buf *b, int n, const struct yoc_spc_mpoint *pt, int which,
		    double scale, double lo, double hi, const char *style)
{
	const double L = SPC_L, R = SPC_R, T = SPC_T, B = SPC_B, W = SPC_W, H = SPC_H;
	const double pw = W - L - R, ph = H - T - B;
	int rc = 0, open = 0, phase = -1;
	for (int i = 0; i < n; i++) {
		const struct yoc_spc_mpoint *p = &pt[i];
		double v = which == 0 ? p->x : which == 1 ? p->centre : which == 2 ? p->ucl : p->lcl;
		if (!p->present || !isfinite(v) || (which && p->phase != phase && open)) {
			if (open)
				rc |= yoc_buf_puts(b, "\"/>");
			open = 0;
			if (!p->present || !isfinite(v))
				continue;
		}
		double x = L + (n > 1 ? (double)i / (n - 1) * pw : pw / 2);
		double y = T + ph - (v * scale - lo) / (hi - lo) * ph;
		if (!open)
			rc |= yoc_buf_printf(b, "<polyline fill=\"none\" %s points=\"", style);
		rc |= yoc_buf_printf(b, "%s%.1f,%.1f", open ? " " : "", x, y);
		open = 1;
		phase = p->phase;
	}
	if (open)
		rc |= yoc_buf_puts(b, "\"/>");
	return rc;
}

/* Making Data Count's icons, drawn as badges: variation (grey common cause;
 * blue improvement, orange concern, purple neither, lettered H or L) and
 * assurance (blue P passes, orange F fails, grey ? hit and miss). */
static int spc_icons(struct yoc_buf *b, double x, double y, int icon, int assurance)
{
	static const struct {
		int icon;
		int variation;
		const char *letter;
	} v[] = {
		{YOC_SPC_ICON_COMMON, YOC_SPC_COMMON, "~"},
		{YOC_SPC_ICON_IMPROVE_HIGH, YOC_SPC_IMPROVEMENT, "H"},
		{YOC_SPC_ICON_IMPROVE_LOW, YOC_SPC_IMPROVEMENT, "L"},
		{YOC_SPC_ICON_CONCERN_HIGH, YOC_SPC_CONCERN, "H"},
		{YOC_SPC_ICON_CONCERN_LOW, YOC_SPC_CONCERN, "L"},
		{YOC_SPC_ICON_NEITHER_HIGH, YOC_SPC_NEITHER, "H"},
		{YOC_SPC_ICON_NEITHER_LOW, YOC_SPC_NEITHER, "L"},
	};
	int rc = 0;
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		if (v[i].icon == icon) {
			rc |= yoc_buf_printf(b, "<g><title>Variation: %s</title><circle cx=\"%.1f\" "
					     "cy=\"%.1f\" r=\"13\" fill=\"#fff\" stroke=\"%s\" "
					     "stroke-width=\"3\"/><text x=\"%.1f\" y=\"%.1f\" "
					     "text-anchor=\"middle\" font-weight=\"bold\" fill=\"%s\">"
					     "%s</text></g>", yoc_spc_icon_name(icon), x, y,
					     yoc__spc_colour(v[i].variation), x, y + 5,
					     yoc__spc_colour(v[i].variation), v[i].letter);
		}
	if (assurance != YOC_SPC_ASSURE_NONE) {
		const char *col = assurance == YOC_SPC_ASSURE_PASS ? "#289de0"
				  : assurance == YOC_SPC_ASSURE_FAIL ? "#fab428" : "#7f7f7f";
		const char *l = assurance == YOC_SPC_ASSURE_PASS ? "P"
				: assurance == YOC_SPC_ASSURE_FAIL ? "F" : "?";
		rc |= yoc_buf_printf(b, "<g><title>Assurance: %s</title><circle cx=\"%.1f\" "
				     "cy=\"%.1f\" r=\"13\" fill=\"%s\"/><text x=\"%.1f\" "
				     "y=\"%.1f\" text-anchor=\"middle\" font-weight=\"bold\" "
				     "fill=\"#fff\">%s</text></g>", yoc_spc_assurance_name(assurance),
				     x + 32, y, col, x + 32, y + 5, l);
	}
	return rc;
}

/* Characters of a chart title that fit left of the variation and assurance icons. */
#define SPC_TITLE_MAX 68

int yoc__svg_spc(struct yoc_buf *b, const char *title, int n, const char *const *labels,
		 const struct yoc_spc_mpoint *pt, double scale, double target, int icon,
		 int assurance)
{
	const double W = SPC_W, L = SPC_L, R = SPC_R, T = SPC_T, B = SPC_B, H = SPC_H;
	const double pw = W - L - R, ph = H - T - B;
	double lo = INFINITY, hi = -INFINITY;
	for (int i = 0; i < n; i++) {
		if (!pt[i].present)
			continue;
		const double v[3] = {pt[i].x, pt[i].ucl, pt[i].lcl};
		for (int k = 0; k < 3; k++)
			if (isfinite(v[k])) {
				lo = fmin(lo, v[k] * scale);
				hi = fmax(hi, v[k] * scale);
			}
	}
	if (isfinite(target)) {
		lo = fmin(lo, target);
		hi = fmax(hi, target);
	}
	if (!isfinite(lo) || !(hi > lo)) {
		hi = (isfinite(lo) ? lo : 0) + 1;
		lo = hi - 2;
	}
	double step = nice((hi - lo) / 5);
	lo = step * floor(lo / step);
	hi = step * ceil(hi / step);
	int rc = yoc_buf_printf(b, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
				"xmlns=\"http://www.w3.org/2000/svg\"><title>", W, H);
	rc |= yoc__html_esc(b, title);
	rc |= yoc_buf_printf(b, "</title><text x=\"%.0f\" y=\"20\" class=\"ct\">", L);
	/* the visible title stops short of the icons (the whole of it is the
	 * tooltip); cut at a character boundary of the UTF-8 */
	if (strlen(title) > SPC_TITLE_MAX) {
		char cut[SPC_TITLE_MAX + 4];
		size_t k = SPC_TITLE_MAX;
		while (k > 0 && ((unsigned char)title[k] & 0xC0) == 0x80)
			k--;
		memcpy(cut, title, k);
		memcpy(cut + k, "\xE2\x80\xA6", 4); /* an ellipsis and the NUL */
		rc |= yoc__html_esc(b, cut);
	} else {
		rc |= yoc__html_esc(b, title);
	}
	rc |= yoc_buf_puts(b, "</text>");
#define YV(v) (T + ph - ((v) - lo) / (hi - lo) * ph)
#define XV(i) (L + (n > 1 ? (double)(i) / (n - 1) * pw : pw / 2))
	for (double t = lo; t <= hi + step / 2; t += step)
		rc |= yoc_buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
				     "class=\"grid\"/><text x=\"%.1f\" y=\"%.1f\" class=\"ax\" "
				     "text-anchor=\"end\">%g</text>", L, L + pw, YV(t), YV(t),
				     L - 6, YV(t) + 4, t);
	if (isfinite(target))
		rc |= yoc_buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
				     "stroke=\"#2e7d32\" stroke-width=\"1.5\" stroke-dasharray=\"2 3\"/>"
				     "<text x=\"%.1f\" y=\"%.1f\" class=\"ax\">Target %g</text>", L,
				     L + pw, YV(target), YV(target), L + pw + 6, YV(target) + 4, target);
	rc |= spc_path(b, n, pt, 1, scale, lo, hi, "stroke=\"#333\" stroke-width=\"1.5\"");
	rc |= spc_path(b, n, pt, 2, scale, lo, hi,
		       "stroke=\"#c0504d\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"");
	rc |= spc_path(b, n, pt, 3, scale, lo, hi,
		       "stroke=\"#c0504d\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"");
	rc |= spc_path(b, n, pt, 0, scale, lo, hi, "stroke=\"#7f7f7f\" stroke-width=\"1.5\"");
	/* the latest phase's lines named at the right */
	for (int i = n - 1; i >= 0; i--)
		if (pt[i].present && isfinite(pt[i].centre)) {
			const double v[3] = {pt[i].centre, pt[i].ucl, pt[i].lcl};
			const char *nm[3] = {"Centre", "Upper", "Lower"};
			for (int k = 0; k < 3; k++)
				if (isfinite(v[k]))
					rc |= yoc_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" "
							     "class=\"ax\">%s %.3g</text>", L + pw + 6,
							     YV(v[k] * scale) + 4 + (k == 2 ? 10 : k ? -6 : 0),
							     nm[k], v[k] * scale);
			break;
		}
	rc |= spc_icons(b, W - 60, 20, icon, assurance);
	for (int i = 0; i < n; i++) {
		if (pt[i].present) {
			rc |= yoc_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\">"
					     "<title>", XV(i), YV(pt[i].x * scale),
					     yoc__spc_colour(pt[i].variation));
			rc |= yoc__html_esc(b, labels[i]);
			rc |= yoc_buf_printf(b, ": %.4g (%s)</title></circle>", pt[i].x * scale,
					     yoc_spc_variation_name(pt[i].variation));
		}
		if (n <= 12 || i % 3 == 0) {
			rc |= yoc_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"ax\" "
					     "text-anchor=\"end\" transform=\"rotate(-45 %.1f %.1f)\">",
					     XV(i), T + ph + 14, XV(i), T + ph + 14);
			rc |= yoc__html_esc(b, labels[i]);
			rc |= yoc_buf_puts(b, "</text>");
		}
	}
#undef YV
#undef XV
	rc |= yoc_buf_puts(b, "</svg>\n");
	return rc ? YOC_ENOMEM : 0;
}

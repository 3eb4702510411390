/*
** Inline SVG charts for the report (see svg.h). Pure text generation.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/svg.h"

static const char *const palette[] = {
	"#1f4e79", "#c0504d", "#9bbb59", "#8064a2", "#4bacc6", "#f79646",
	"#2c7c5a", "#7f7f7f", "#d4a017", "#a63d6b", "#5b9bd5", "#333333",
};

const char *yoc__svg_colour(int i)
{
	return palette[(i < 0 ? 0 : i) % 12];
}

int yoc__html_esc(struct yoc_buf *b, const char *s)
{
	int rc = 0;
	for (; *s && !rc; s++) {
		switch (*s) {
		case '&': rc = yoc_buf_puts(b, "&amp;"); break;
		case '<': rc = yoc_buf_puts(b, "&lt;"); break;
		case '>': rc = yoc_buf_puts(b, "&gt;"); break;
		case '"': rc = yoc_buf_puts(b, "&quot;"); break;
		default: rc = yoc_buf_putc(b, *s);
		}
	}
	return rc;
}

/* A tick step of 1, 2 or 5 times a power of ten giving about 5 ticks. */
static double nice_step(double max)
{
	if (!(max > 0))
		return 1;
	double raw = max / 5, p = pow(10, floor(log10(raw)));
	double f = raw / p;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

static void axis_label(double v, int money, int pct, char *buf, size_t n)
{
	const char *cur = money ? "£" : "";
	double a = fabs(v);
	if (pct)
		snprintf(buf, n, "%g%%", v);
	else if (a >= 1e6)
		snprintf(buf, n, "%s%gm", cur, v / 1e6);
	else if (a >= 1e3)
		snprintf(buf, n, "%s%gk", cur, v / 1e3);
	else
		snprintf(buf, n, "%s%g", cur, v);
}

int yoc__svg_stacked(struct yoc_buf *b, const char *title, int ncat,
		     const char *const *cats, int nser, const char *const *sers,
		     const double *v, int money)
{
	const double W = 760, L = 70, R = nser > 1 ? 170 : 20, T = 34, B = 56;
	const double H = 330, pw = W - L - R, ph = H - T - B;
	double max = 0;
	for (int c = 0; c < ncat; c++) {
		double s = 0;
		for (int k = 0; k < nser; k++)
			if (!isnan(v[c * nser + k]) && v[c * nser + k] > 0)
				s += v[c * nser + k];
		if (s > max)
			max = s;
	}
	double step = nice_step(max), top = step * ceil(max / step);
	if (top <= 0)
		top = 1;
	int rc = yoc_buf_printf(b,
		"<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
		"xmlns=\"http://www.w3.org/2000/svg\"><title>", W, H);
	rc |= yoc__html_esc(b, title);
	rc |= yoc_buf_printf(b, "</title><text x=\"%.0f\" y=\"20\" class=\"ct\">", L);
	rc |= yoc__html_esc(b, title);
	rc |= yoc_buf_puts(b, "</text>");
	char lab[64];
	for (double t = 0; t <= top + step / 2; t += step) {
		double y = T + ph - t / top * ph;
		axis_label(t, money, 0, lab, sizeof lab);
		rc |= yoc_buf_printf(b,
			"<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" class=\"ax\" text-anchor=\"end\">%s</text>",
			L, L + pw, y, y, L - 6, y + 4, lab);
	}
	double slot = pw / (ncat ? ncat : 1), bw = slot * 0.7;
	for (int c = 0; c < ncat; c++) {
		double x = L + c * slot + (slot - bw) / 2, y = T + ph;
		int hidden = 0;
		for (int k = 0; k < nser; k++) {
			double val = v[c * nser + k];
			if (isnan(val)) {
				hidden = 1;
				continue;
			}
			if (val <= 0)
				continue;
			double h = val / top * ph;
			y -= h;
			rc |= yoc_buf_printf(b,
				"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				"fill=\"%s\"><title>", x, y, bw, h, yoc__svg_colour(k));
			rc |= yoc__html_esc(b, cats[c]);
			if (nser > 1) {
				rc |= yoc_buf_puts(b, " - ");
				rc |= yoc__html_esc(b, sers[k]);
			}
			rc |= yoc_buf_printf(b, ": %s%.0f</title></rect>", money ? "£" : "", val);
		}
		rc |= yoc_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"ax\" "
				     "text-anchor=\"middle\">", x + bw / 2, T + ph + 16);
		rc |= yoc__html_esc(b, cats[c]);
		rc |= yoc_buf_puts(b, "</text>");
		if (hidden)
			rc |= yoc_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"ax\" "
					     "text-anchor=\"middle\">*</text>",
					     x + bw / 2, y - 4);
	}
	rc |= yoc_buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
			     "class=\"axis\"/>", L, L + pw, T + ph, T + ph);
	if (nser > 1)
		for (int k = 0; k < nser; k++) {
			double ly = T + 4 + k * 18;
			rc |= yoc_buf_printf(b,
				"<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
				"<text x=\"%.1f\" y=\"%.1f\" class=\"ax\">",
				L + pw + 14, ly, yoc__svg_colour(k), L + pw + 30, ly + 10);
			rc |= yoc__html_esc(b, sers[k]);
			rc |= yoc_buf_puts(b, "</text>");
		}
	rc |= yoc_buf_puts(b, "</svg>\n");
	return rc ? YOC_ENOMEM : 0;
}

int yoc__svg_pyramid(struct yoc_buf *b, const char *title, int nb,
		     const char *const *bands, const double *left, const double *right,
		     const char *lname, const char *rname, const double *mleft,
		     const double *mright, const char *mname, int pct)
{
	const double W = 760, T = 40, B = 40, rowh = 15;
	const double H = T + B + nb * rowh, mid = W / 2, lab = 46, half = mid - lab / 2 - 30;
	double max = 0;
	for (int i = 0; i < nb; i++) {
		const double *vs[4] = {left, right, mleft, mright};
		for (int k = 0; k < 4; k++)
			if (vs[k] && !isnan(vs[k][i]) && vs[k][i] > max)
				max = vs[k][i];
	}
	double step = nice_step(max), top = step * ceil(max / step);
	if (top <= 0)
		top = 1;
	int rc = yoc_buf_printf(b,
		"<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
		"xmlns=\"http://www.w3.org/2000/svg\"><title>", W, H);
	rc |= yoc__html_esc(b, title);
	rc |= yoc_buf_puts(b, "</title><text x=\"30\" y=\"20\" class=\"ct\">");
	rc |= yoc__html_esc(b, title);
	rc |= yoc_buf_printf(b, "</text><text x=\"%.1f\" y=\"36\" class=\"ax\" "
			     "text-anchor=\"middle\">", mid - lab / 2 - half / 2);
	rc |= yoc__html_esc(b, lname);
	rc |= yoc_buf_printf(b, "</text><text x=\"%.1f\" y=\"36\" class=\"ax\" "
			     "text-anchor=\"middle\">", mid + lab / 2 + half / 2);
	rc |= yoc__html_esc(b, rname);
	rc |= yoc_buf_puts(b, "</text>");
	for (int i = 0; i < nb; i++) {
		double y = T + (nb - 1 - i) * rowh;
		for (int side = 0; side < 2; side++) {
			double val = side ? right[i] : left[i];
			const double *m = side ? mright : mleft;
			double x0 = side ? mid + lab / 2 : mid - lab / 2;
			double sgn = side ? 1 : -1;
			if (isnan(val)) {
				rc |= yoc_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"ax\" "
						     "text-anchor=\"middle\">*</text>",
						     x0 + sgn * 8, y + rowh - 4);
			} else if (val > 0) {
				double w = val / top * half;
				rc |= yoc_buf_printf(b,
					"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
					"fill=\"%s\"><title>%s %s: %.*f%s</title></rect>",
					side ? x0 : x0 - w, y + 1, w, rowh - 2,
					yoc__svg_colour(side ? 1 : 0), side ? rname : lname,
					bands[i], pct ? 1 : 0, val, pct ? "%" : "");
			}
			if (m && !isnan(m[i])) {
				double xm = x0 + sgn * (m[i] / top * half);
				rc |= yoc_buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
						     "y2=\"%.1f\" class=\"mark\"/>",
						     xm, xm, y, y + rowh);
			}
		}
		rc |= yoc_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"ax\" "
				     "text-anchor=\"middle\">", mid, y + rowh - 4);
		rc |= yoc__html_esc(b, bands[i]);
		rc |= yoc_buf_puts(b, "</text>");
	}
	char l[64];
	double yb = T + nb * rowh;
	for (double t = 0; t <= top + step / 2; t += step) {
		axis_label(t, 0, pct, l, sizeof l);
		for (int side = 0; side < 2; side++) {
			double x = side ? mid + lab / 2 + t / top * half
					: mid - lab / 2 - t / top * half;
			rc |= yoc_buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
					     "y2=\"%.1f\" class=\"grid\"/><text x=\"%.1f\" "
					     "y=\"%.1f\" class=\"ax\" text-anchor=\"middle\">%s</text>",
					     x, x, T, yb, x, yb + 14, l);
		}
	}
	if (mname && (mleft || mright)) {
		rc |= yoc_buf_printf(b, "<line x1=\"30\" x2=\"30\" y1=\"%.1f\" y2=\"%.1f\" "
				     "class=\"mark\"/><text x=\"36\" y=\"%.1f\" class=\"ax\">",
				     yb + 20, yb + 32, yb + 30);
		rc |= yoc__html_esc(b, mname);
		rc |= yoc_buf_puts(b, "</text>");
	}
	rc |= yoc_buf_puts(b, "</svg>\n");
	return rc ? YOC_ENOMEM : 0;
}

int yoc__svg_lines(struct yoc_buf *b, const char *title, int nser,
		   const char *const *sers, const int *n, const double *const *x,
		   const double *const *y, double xmax, double ymax, int ncat,
		   const char *const *xcats, int diag, const char *xlab, const char *ylab,
		   int money)
{
	const double W = 800, L = 70, R = 220, T = 34, B = 56, H = 360;
	const double pw = W - L - R, ph = H - T - B;
	double mx = 0, my = 0;
	for (int k = 0; k < nser; k++)
		for (int i = 0; i < n[k]; i++) {
			if (!isnan(x[k][i]) && x[k][i] > mx)
				mx = x[k][i];
			if (!isnan(y[k][i]) && y[k][i] > my)
				my = y[k][i];
		}
	if (xcats)
		xmax = ncat > 1 ? ncat - 1 : 1;
	else if (!(xmax > 0))
		xmax = nice_step(mx) * ceil(mx / nice_step(mx));
	double ystep = nice_step(ymax > 0 ? ymax : my);
	if (!(ymax > 0))
		ymax = ystep * ceil(my / ystep);
	if (!(xmax > 0))
		xmax = 1;
	if (!(ymax > 0))
		ymax = 1;
	int rc = yoc_buf_printf(b,
		"<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
		"xmlns=\"http://www.w3.org/2000/svg\"><title>", W, H);
	rc |= yoc__html_esc(b, title);
	rc |= yoc_buf_printf(b, "</title><text x=\"%.0f\" y=\"20\" class=\"ct\">", L);
	rc |= yoc__html_esc(b, title);
	rc |= yoc_buf_puts(b, "</text>");
	char lab[64];
	/* y grid and labels */
	for (double t = 0; t <= ymax + ystep / 2; t += ystep) {
		double py = T + ph - t / ymax * ph;
		axis_label(t, money, 0, lab, sizeof lab);
		rc |= yoc_buf_printf(b,
			"<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" class=\"ax\" text-anchor=\"end\">%s</text>",
			L, L + pw, py, py, L - 6, py + 4, lab);
	}
	/* x labels: categories or numeric ticks */
	if (xcats) {
		for (int c = 0; c < ncat; c++) {
			double px = L + c / xmax * pw;
			rc |= yoc_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"ax\" "
					     "text-anchor=\"middle\">", px, T + ph + 16);
			rc |= yoc__html_esc(b, xcats[c]);
			rc |= yoc_buf_puts(b, "</text>");
		}
	} else {
		double xstep = nice_step(xmax);
		for (double t = 0; t <= xmax + xstep / 2; t += xstep) {
			double px = L + t / xmax * pw;
			axis_label(t, 0, 0, lab, sizeof lab);
			rc |= yoc_buf_printf(b,
				"<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
				"<text x=\"%.1f\" y=\"%.1f\" class=\"ax\" text-anchor=\"middle\">%s"
				"</text>", px, px, T, T + ph, px, T + ph + 16, lab);
		}
	}
	if (xlab) {
		rc |= yoc_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"ax\" "
				     "text-anchor=\"middle\">", L + pw / 2, T + ph + 36);
		rc |= yoc__html_esc(b, xlab);
		rc |= yoc_buf_puts(b, "</text>");
	}
	if (ylab) {
		rc |= yoc_buf_printf(b, "<text x=\"14\" y=\"%.1f\" class=\"ax\" "
				     "text-anchor=\"middle\" transform=\"rotate(-90 14 %.1f)\">",
				     T + ph / 2, T + ph / 2);
		rc |= yoc__html_esc(b, ylab);
		rc |= yoc_buf_puts(b, "</text>");
	}
	rc |= yoc_buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
			     "class=\"axis\"/><line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
			     "y2=\"%.1f\" class=\"axis\"/>", L, L + pw, T + ph, T + ph, L, L, T,
			     T + ph);
	if (diag) {
		double m = xmax < ymax ? xmax : ymax;
		rc |= yoc_buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
				     "stroke=\"#999\" stroke-dasharray=\"4 3\"/>", L, L + m / xmax * pw,
				     T + ph, T + ph - m / ymax * ph);
	}
	for (int k = 0; k < nser; k++) {
		int open = 0;
		for (int i = 0; i < n[k]; i++) {
			if (isnan(x[k][i]) || isnan(y[k][i])) {
				if (open)
					rc |= yoc_buf_puts(b, "\"/>");
				open = 0;
				continue;
			}
			double px = L + x[k][i] / xmax * pw, py = T + ph - y[k][i] / ymax * ph;
			if (!open)
				rc |= yoc_buf_printf(b, "<polyline fill=\"none\" stroke=\"%s\" "
						     "stroke-width=\"2\" points=\"",
						     yoc__svg_colour(k));
			rc |= yoc_buf_printf(b, "%s%.1f,%.1f", open ? " " : "", px, py);
			open = 1;
		}
		if (open)
			rc |= yoc_buf_puts(b, "\"/>");
		if (n[k] <= 12) /* few points: mark each */
			for (int i = 0; i < n[k]; i++)
				if (!isnan(x[k][i]) && !isnan(y[k][i]))
					rc |= yoc_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" "
							     "r=\"3\" fill=\"%s\"/>",
							     L + x[k][i] / xmax * pw,
							     T + ph - y[k][i] / ymax * ph,
							     yoc__svg_colour(k));
		double ly = T + 4 + k * 18;
		rc |= yoc_buf_printf(b,
			"<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" class=\"ax\">",
			L + pw + 14, ly, yoc__svg_colour(k), L + pw + 30, ly + 10);
		rc |= yoc__html_esc(b, sers[k]);
		rc |= yoc_buf_puts(b, "</text>");
	}
	rc |= yoc_buf_puts(b, "</svg>\n");
	return rc ? YOC_ENOMEM : 0;
}

/*
** Love plot: one row per covariate, |SMD| before (open circle) and after
** (filled dot) matching, with the 0.1 line that balance must stay under.
*/
int yoc__svg_love(struct yoc_buf *b, const char *title, int n, const char *const *names,
		  const double *before, const double *after)
{
	const double W = 760, L = 210, R = 30, T = 44, row = 18;
	const double H = T + row * (n > 0 ? n : 1) + 40, pw = W - L - R;
	double max = 0.2;
	for (int i = 0; i < n; i++) {
		if (fabs(before[i]) > max)
			max = fabs(before[i]);
		if (fabs(after[i]) > max)
			max = fabs(after[i]);
	}
	double step = nice_step(max), top = step * ceil(max / step);
	int rc = yoc_buf_printf(b, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
				   "xmlns=\"http://www.w3.org/2000/svg\"><title>", W, H);
	rc |= yoc__html_esc(b, title);
	rc |= yoc_buf_printf(b, "</title><text x=\"%.0f\" y=\"20\" class=\"ct\">", 10.0);
	rc |= yoc__html_esc(b, title);
	rc |= yoc_buf_puts(b, "</text>");
	for (double t = 0; t <= top + step / 2; t += step) {
		double x = L + t / top * pw;
		rc |= yoc_buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
				     "class=\"grid\"/><text x=\"%.1f\" y=\"%.1f\" class=\"ax\" "
				     "text-anchor=\"middle\">%.2g</text>", x, x, T - 6, H - 34, x,
				     H - 20, t);
	}
	double x1 = L + 0.1 / top * pw;
	rc |= yoc_buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
			     "stroke=\"#c0504d\" stroke-dasharray=\"4 3\"/>", x1, x1, T - 6, H - 34);
	for (int i = 0; i < n; i++) {
		double y = T + row * i + row / 2;
		rc |= yoc_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"ax\" "
				     "text-anchor=\"end\">", L - 8, y + 4);
		rc |= yoc__html_esc(b, names[i]);
		rc |= yoc_buf_printf(b, "</text><circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"none\" "
				     "stroke=\"%s\"><title>before: %.3f</title></circle>"
				     "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"><title>after: "
				     "%.3f</title></circle>", L + fabs(before[i]) / top * pw, y,
				     yoc__svg_colour(0), before[i], L + fabs(after[i]) / top * pw, y,
				     yoc__svg_colour(0), after[i]);
	}
	rc |= yoc_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"ax\">|standardised mean "
			     "difference|: open before matching, filled after; dashed line 0.1"
			     "</text></svg>\n", L, H - 4);
	return rc;
}

/*
** Line charts for the report, beside svg.c's bars: an XmR (SPC) chart as
** NHS "Making Data Count" draws it, and a Lorenz curve. Inline SVG text
** appended to a yoc_buf, sized by its viewBox, with the classes of the
** report's stylesheet. Draws what it is given; deciding what may be shown
** (disclosure control) is the caller's job.
*/
#ifndef YOC_SVG_LINE_H
#define YOC_SVG_LINE_H

#include "stats/stats.h"
#include "yoc/core.h"

/* MDC's colours: common cause grey, improvement blue, concern orange,
 * neither purple. */
const char *yoc__spc_colour(int variation);

/*
** An XmR chart of n points x with labels (months), the mean and process
** limits of s (dashed), each point coloured by pt[i].variation. When
** !s->valid only the points are drawn. Returns 0 or YOC_ENOMEM.
*/
int yoc__svg_xmr(struct yoc_buf *b, const char *title, int n, const char *const *labels,
		 const double *x, const struct yoc_spc *s, const struct yoc_spc_point *pt);

/*
** A Making Data Count chart (yoc_spc_chart) of n points with labels: each
** point's centre line and limits (per phase; per point for p- and u-charts),
** values times scale (100 for a percentage), the target (NaN: none) dotted,
** points coloured by variation, missing points left out; the variation icon
** (YOC_SPC_ICON_*) and the assurance icon (YOC_SPC_ASSURE_*) as badges at
** the top right. 0 or YOC_ENOMEM.
*/
int yoc__svg_spc(struct yoc_buf *b, const char *title, int n, const char *const *labels,
		 const struct yoc_spc_mpoint *pt, double scale, double target, int icon,
		 int assurance);

/*
** A Lorenz curve through n points (px[i], py[i]) in percent, ascending
** from (0, 0) to (100, 100), with the line of equality. Returns 0 or
** YOC_ENOMEM.
*/
int yoc__svg_lorenz(struct yoc_buf *b, const char *title, int n, const double *px,
		    const double *py);

#endif

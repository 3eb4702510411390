/*
** A small SVG writer for the report's charts: stacked bars (one series is a
** plain bar chart) and a population pyramid. Output is inline SVG text
** appended to a yoc_buf, self-contained (no scripts, no external fonts),
** sized by its viewBox so it scales on screen and in print. A value that
** disclosure control hid is NAN: nothing is drawn for it and the category
** is marked "*". Must not decide what is shown; that is the caller's job.
*/
#ifndef YOC_SVG_H
#define YOC_SVG_H

#include "yoc/core.h"

/* Colour of series i (a fixed, print-safe palette; wraps after 12). */
const char *yoc__svg_colour(int i);

/*
** Stacked vertical bars: ncat categories, nser series, v[cat * nser + ser].
** money: axis values are pounds ("£1.2k"). Returns 0 or YOC_ETOOBIG/ENOMEM.
*/
int yoc__svg_stacked(struct yoc_buf *b, const char *title, int ncat,
		     const char *const *cats, int nser, const char *const *sers,
		     const double *v, int money);

/*
** Pyramid: nb bands (youngest first, drawn at the bottom), left[] and
** right[] values (people or percentages), optional marker values mleft[],
** mright[] (NULL for none; e.g. the whole population's shape behind a
** practice) drawn as ticks. pct: values are percentages.
*/
int yoc__svg_pyramid(struct yoc_buf *b, const char *title, int nb,
		     const char *const *bands, const double *left, const double *right,
		     const char *lname, const char *rname, const double *mleft,
		     const double *mright, const char *mname, int pct);

/* Love plot: |SMD| before and after matching for n covariates, line at 0.1. */
int yoc__svg_love(struct yoc_buf *b, const char *title, int n, const char *const *names,
		  const double *before, const double *after);

/*
** Lines through points: nser series, series k has n[k] points x[k][i],
** y[k][i] (a NAN point is skipped and the line broken there). Axes run from
** 0 to xmax and 0 to ymax (0: from the data); xcats, when not NULL, names
** the ncat integer x positions 0 .. ncat - 1 instead of numeric ticks.
** diag draws the line y = x (ROC and calibration plots). xlab, ylab name
** the axes; money: y values are pounds. Returns 0 or YOC_ENOMEM.
*/
int yoc__svg_lines(struct yoc_buf *b, const char *title, int nser,
		   const char *const *sers, const int *n, const double *const *x,
		   const double *const *y, double xmax, double ymax, int ncat,
		   const char *const *xcats, int diag, const char *xlab, const char *ylab,
		   int money);

/* Appends s with &, <, >, " escaped. */
int yoc__html_esc(struct yoc_buf *b, const char *s);

#endif

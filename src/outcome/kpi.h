/*
** The KPI dashboard of the outcomes capability (docs/outcomes.md, "KPI
** dashboard"): Table 4's key performance indicators month by month and
** over rolling 12 months, each with its numerator, denominator, definition,
** source and period, and its Making Data Count chart (src/stats,
** yoc_spc_chart). Reads the dataset (the person table, the current APC,
** social care, care plan and PAM segments, the cohort register) and writes
** the catalog tables kpi_def, kpi_month, kpi_spc, kpi_dow, kpi_pam and
** kpi_run, replaced whole in one transaction. Hospital spells are grouped
** and priced by src/cost (yoc_spells_*, yoc_price_spell), as yoc analyse
** does. Fields a dataset does not carry (a discharge ready date, the social
** care placement and reablement columns, the careplan and pam feeds) are
** read by name: their KPIs are written "not available in this dataset"
** with the reason, never an error. Publishes nothing itself: the report's
** KPI page passes every count through disclosure control.
*/
#ifndef YOC_KPI_H
#define YOC_KPI_H

#include <stdint.h>

#include "store/store.h"

#define YOC_KPI_MAX_MONTHS 240

struct yoc_kpi_opts {
	const char *cohort;     /* NULL: the registered population */
	const char *from, *to;  /* "YYYY-MM" or NULL: the months of the activity files */
	const char *data_dir;   /* prices, trim points, data/kpi_targeted_hrg.csv */
	const char *steps;      /* "KPI:YYYY-MM,...": step changes, or NULL */
	int shift_len, trend_len; /* 0: the Making Data Count defaults */
};

struct yoc_kpi_stats {
	char from[16], to[16];    /* the months reported */
	int nmonths, nkpi, available;
	int64_t spells, population_last; /* spells read, people in the last month */
};

/*
** How a KPI adds up over rolling 12 months: flows add numerators and
** denominators (events over events); rates of a population add the events
** over the mean monthly population (so a 12-month value is annual, as
** ASCOF's per 100,000); stocks (counted at each month) take the means of
** both. A mean is the 12 months' sum / 12, rounded half up.
*/
enum yoc_kpi_rolling { YOC_KPI_R12_SUM = 0, YOC_KPI_R12_POPULATION, YOC_KPI_R12_MEAN };

/* One KPI of the catalogue (static). */
struct yoc_kpi_def {
	const char *id, *title, *definition, *numerator, *denominator, *source;
	int chart;              /* enum yoc_spc_type */
	int better;             /* +1, -1, 0 */
	double scale;           /* value = numerator / denominator x scale */
	const char *unit;       /* "per 100,000", "%", "days" */
	double target;          /* in the value's unit; NaN: none */
	int rolling;            /* enum yoc_kpi_rolling */
};
/* "sum", "population", "mean". */
const char *yoc_kpi_rolling_name(int rolling);
/* The catalogue, in dashboard order; *n its length. */
const struct yoc_kpi_def *yoc_kpi_defs(size_t *n);

/*
** Computes every KPI and writes the kpi_* tables of s's catalog. Errors
** (bad --from/--to or steps, an unknown cohort, no activity) name the
** option or file, with YOC_EINVAL, YOC_ENOTFOUND or YOC_EDATA.
*/
int yoc_kpi_run(yoc_store *s, const struct yoc_kpi_opts *o, struct yoc_kpi_stats *st,
		struct yoc_error *e);

#endif

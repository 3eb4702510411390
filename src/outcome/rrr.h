/*
** The RRR audit and the discharge model (outcome_rrr.c, docs/outcomes.md
** "RRR audit"): hospital spells whose discharge needed rehabilitation,
** recovery or reablement (APC RRR_NEED), how many were discharged after
** their discharge ready date (DISREADYDATE) and why (DELAY_REASON), the
** delayed bed days by reason, provider, month and destination; and what
** cutting one reason's delays by X% would release, in bed days and in beds
** (the mean and 95th percentile of the daily occupancy of the same spells,
** replayed from their observed admissions and discharges).
**
** Spells are grouped and dated exactly as src/cost groups and dates them
** (yoc_spells_*, yoc_price_spell). The engine writes the catalog tables
** rrr_summary, rrr_reason, rrr_provider, rrr_destination and rrr_cut in one
** transaction; they hold exact counts (disclosure control is applied where
** figures are published: the CLI's summary and the report page).
**
** Functions return 0 or a negative enum yoc_status with e filled. Nothing
** here prints or exits.
*/
#ifndef YOC_RRR_H
#define YOC_RRR_H

#include <stddef.h>
#include <stdint.h>

#include "cost/cost.h"
#include "store/store.h"
#include "yoc/core.h"

/* Delay reasons in published order; YOC_RRR_UNKNOWN: delayed, no reason given. */
enum yoc_rrr_reason {
	YOC_RRR_NO_SERVICE = 0,
	YOC_RRR_ASSESSMENT,
	YOC_RRR_RESIDENTIAL,
	YOC_RRR_HOME,
	YOC_RRR_UNKNOWN,
	YOC_RRR_NREASON
};
#define YOC_RRR_ALL (-2)          /* a cut of every reason at once */
#define YOC_RRR_MAXCUT 16         /* cuts in one run */

/* "NO_SERVICE" ... "UNKNOWN"; "ALL" for YOC_RRR_ALL. */
const char *yoc_rrr_reason_name(int reason);
/* The reason named s (exact, upper case; "ALL" gives YOC_RRR_ALL), else -1. */
int yoc_rrr_reason_parse(const char *s, size_t n);

/* A cut: reason's delays shortened by pct percent (0..100). */
struct yoc_rrr_cut {
	int reason;   /* enum yoc_rrr_reason or YOC_RRR_ALL */
	int pct;
};

/*
** Parses "REASON=PCT" (REASON a delay reason or ALL, PCT a whole number
** 0..100; "REASON" alone means 50). On error fills e with file "--cut",
** line 1 and the column (1-based) of the first bad character, and returns
** YOC_EPARSE. s need not be NUL-terminated.
*/
int yoc_rrr_cut_parse(const char *s, size_t n, struct yoc_rrr_cut *out, struct yoc_error *e);

/* Days a delay of `delay` days is shortened by at pct percent: delay x pct
 * / 100 rounded half up (a whole number of days, never more than delay). */
int32_t yoc_rrr_cut_days(int32_t delay, int pct);

/* One stay of the discharge model. */
struct yoc_rrr_stay {
	int32_t admitted, discharged;   /* days since 1970; discharged >= admitted */
	int32_t delay;                  /* delayed days (0: not delayed) */
	int reason;                     /* enum yoc_rrr_reason of a delayed stay */
};

/* Daily occupancy over a window of days. */
struct yoc_rrr_occ {
	int32_t from, to;      /* the window [from, to), days since 1970 */
	int64_t bed_days;      /* nights of the stays inside the window */
	double mean;           /* mean beds occupied per day */
	int64_t p95;           /* 95th percentile (nearest rank) of beds per day */
	int64_t max;
};

/*
** The beds the stays occupy each night of [from, to) (a stay holds a bed
** the nights admitted .. discharged - 1, the midnight census), after
** shortening the delays of `reason` (YOC_RRR_ALL: every delayed stay; -1:
** none) by pct percent (yoc_rrr_cut_days): the stay then ends that many
** days earlier. Fills *out. 0, YOC_EINVAL (to <= from, or a window of more
** than 100,000 days) or YOC_ENOMEM.
*/
int yoc_rrr_occupancy(const struct yoc_rrr_stay *s, size_t n, int reason, int pct,
		      int32_t from, int32_t to, struct yoc_rrr_occ *out, struct yoc_error *e);

struct yoc_rrr_opts {
	const yoc_tariff *prices;              /* for yoc_price_spell (spell kind, dates) */
	const struct yoc_rrr_cut *cuts;        /* NULL/0: every reason at 50% */
	int ncuts;
};

/* What the run found (exact). */
struct yoc_rrr_stats {
	int64_t episodes, spells, closed;      /* closed: spells with a discharge date */
	int64_t ready;                         /* spells with a usable ready date */
	int64_t ready_after;                   /* ready date after discharge: ignored */
	int64_t rrr, rrr_delayed, rrr_delayed_days, rrr_bed_days;
	int64_t delayed, delayed_days;         /* every delayed spell, RRR or not */
	int64_t reason_spells[YOC_RRR_NREASON], reason_days[YOC_RRR_NREASON];
	int has_fields;                        /* some APC file has DISREADYDATE */
	int ncuts;
	struct yoc_rrr_cut cut[YOC_RRR_MAXCUT];
	int64_t cut_spells[YOC_RRR_MAXCUT], cut_released[YOC_RRR_MAXCUT];
	struct yoc_rrr_occ before, after[YOC_RRR_MAXCUT];
};

/*
** Reads every current APC file of the store, groups the episodes into
** spells, and writes the rrr_* tables (replacing earlier ones) in one
** transaction on the catalog (the store must be open for writing). A
** dataset whose APC files have no DISREADYDATE column, or no ready date in
** any spell, gives YOC_ENOTFOUND with a message saying so, and writes
** nothing.
*/
int yoc_rrr_run(yoc_store *s, const struct yoc_rrr_opts *o, struct yoc_rrr_stats *st,
		struct yoc_error *e);

#endif

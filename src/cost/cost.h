/*
** Costing: prices for activity, shared by `yoc synth` (which writes the
** ground truth) and the analysis stage (which must reproduce it to the
** penny). docs/costing.md states the same rules in prose; keep them in step.
**
** Three tables, loaded from data/:
**   ncc_2023_24.csv  National Cost Collection 2023/24 national schedule:
**                    (Service Code, currency code) -> unit cost. The
**                    Service Code is the point of delivery (POD).
**   unit_costs.csv   published unit costs for activity NCC does not price
**                    (GP appointments per minute of clinician time, social
**                    care rates used by the generator).
**   apc_trim_points.csv  trim point (days) and excess bed day price of each
**                    HRG, elective and non-elective, for pricing hospital
**                    spells as commissioners pay for them (cost_spell.c).
**
** Money is int64 pence everywhere. A unit cost in pounds becomes
** pence = round-half-away-from-zero(unit cost x 100), exactly (decimal text
** is parsed as text, never through a double).
**
** The rules (yoc_pod_apc, yoc_price_*) are pure functions of one row's
** fields: no state, no I/O. String arguments are (pointer, length) views as
** the CSV reader returns them (struct yoc_cell); they need not be
** NUL-terminated. The tariff is read-only after loading, so one tariff may
** be shared by threads.
*/
#ifndef YOC_COST_H
#define YOC_COST_H

#include <stddef.h>
#include <stdint.h>

#include "yoc/core.h"
#include "yoc/csv.h"

/* Points of delivery yoc prices. Each names one NCC Service Code. */
enum yoc_pod {
	YOC_POD_ELECTIVE = 0,   /* "Elective Inpatients" */
	YOC_POD_NEL_SHORT,      /* "Non-Elective Inpatient - Short Stay" */
	YOC_POD_NEL_LONG,       /* "Non-Elective Inpatient - Long Stay" */
	YOC_POD_DAYCASE,        /* "Daycase" */
	YOC_POD_OP_PROCEDURE,   /* "Outpatient Procedures" */
	YOC_POD_OP_CONSULTANT,  /* "Consultant Led" (outpatient attendances WF01*, WF02*) */
	YOC_POD_EMERGENCY,      /* "Emergency Care" (A&E, VB*) */
	YOC_POD_COMMUNITY,      /* "Community Health Service" */
	YOC_POD_MH_CONTACT,     /* "Mental Health Care Contact" (MHCC) */
	YOC_POD_MH_BEDDAY,      /* "Mental Health Provider Spell" (MHPS, per bed day) */
	YOC_POD_TALKING,        /* "NHS Talking Therapy Care Contact" (IAPT) */
	YOC_POD_AMBULANCE,      /* "Ambulance" (01 hear & treat, 02 see & treat, 03 see & convey) */
	YOC_POD_COUNT
};

/* The NCC Service Code of a POD ("Daycase"); "" for an unknown POD. */
const char *yoc_pod_service(int pod);
/* Short name used in reports and truth columns ("daycase"). */
const char *yoc_pod_name(int pod);
/* POD of an NCC Service Code, or -1. */
int yoc_pod_from_service(const char *s, size_t n);

typedef struct yoc_tariff yoc_tariff;

/*
** Loads the NCC schedule (CSV with header Service Code, Dept or Currency
** Code, Dept or Currency Desc, Activity, Unit cost, Cost; codes may carry
** stray spaces, which are trimmed). Every service in the file is kept, not
** only the PODs above. On failure *out is NULL and e says why.
*/
int yoc_tariff_load(yoc_tariff **out, const char *ncc_path, struct yoc_error *e);
/*
** Adds the unit-cost table (CSV: code,setting,description,unit,unit_cost,
** source). unit is one of minute, hour, day, week, item.
*/
int yoc_tariff_load_units(yoc_tariff *t, const char *path, struct yoc_error *e);
/*
** Adds the trim-point table (CSV: hrg,admission,trim_days,excess_bed_day,
** spells,basis,version). admission is elective or nonelective; hrg is an
** HRG, an HRG chapter (its first two characters, "DZ") or "*" (any HRG);
** trim_days a whole number of days >= 0; excess_bed_day pounds per day.
*/
int yoc_tariff_load_trims(yoc_tariff *t, const char *path, struct yoc_error *e);
/* Loads DIR/ncc_2023_24.csv, DIR/unit_costs.csv and DIR/apc_trim_points.csv. */
int yoc_tariff_load_dir(yoc_tariff **out, const char *dir, struct yoc_error *e);
void yoc_tariff_free(yoc_tariff *t);

/* Rows read from the NCC file. */
size_t yoc_tariff_rows(const yoc_tariff *t);

/*
** Trim point (days) and excess bed day price (pence per day) of an HRG for
** elective (nonelective 0) or non-elective spells: the HRG's own row, else
** its chapter's, else the "*" row. 0 or YOC_ENOTFOUND (no row applies).
*/
int yoc_tariff_trim(const yoc_tariff *t, int nonelective, const char *hrg, size_t n,
		    int32_t *days, int64_t *per_day);
/* The version of the trim-point table ("" when none is loaded). */
const char *yoc_tariff_trims_version(const yoc_tariff *t);

/* Unit cost in pence of a currency code under a POD; 0 or YOC_ENOTFOUND. */
int yoc_tariff_price(const yoc_tariff *t, int pod, const char *code, size_t n,
		     int64_t *pence);
/* Same, by NCC Service Code text (any service in the file). */
int yoc_tariff_price_service(const yoc_tariff *t, const char *service, size_t sn,
			     const char *code, size_t n, int64_t *pence);
/*
** Department average of a POD in pence:
** round-half-away(sum(Cost) x 100 / sum(Activity)) over the POD's rows.
** 0 or YOC_ENOTFOUND (no rows with activity).
*/
int yoc_tariff_average(const yoc_tariff *t, int pod, int64_t *pence);
/*
** A unit cost from unit_costs.csv: pence per unit and the unit text
** (static lifetime of the tariff). 0 or YOC_ENOTFOUND.
*/
int yoc_tariff_unit(const yoc_tariff *t, const char *code, size_t n, int64_t *pence,
		    const char **unit);

/* ---- rules: pure functions of one row ------------------------------------ */

/* ADMIMETH 21 22 23 24 25 28 2A 2B 2C 2D: an emergency admission. */
int yoc_admimeth_emergency(const char *s, size_t n);
/* ADMIMETH 11 12 13: an elective admission. */
int yoc_admimeth_elective(const char *s, size_t n);

/*
** POD of an APC episode (finished consultant episode):
**   CLASSPAT 2                      -> YOC_POD_DAYCASE
**   else ADMIMETH 11, 12, 13        -> YOC_POD_ELECTIVE
**   else EPIEND - EPISTART <= 1 day -> YOC_POD_NEL_SHORT
**   else                            -> YOC_POD_NEL_LONG
*/
int yoc_pod_apc(const char *classpat, size_t cn, const char *admimeth, size_t an,
		int32_t epistart, int32_t epiend);
/* Outpatient ATTENDED 5 (seen) or 6 (arrived late, seen): the visit is priced. */
int yoc_attended(const char *s, size_t n);
/* Outpatient POD from SUSHRG: WF* -> Consultant Led, else Outpatient Procedures. */
int yoc_pod_op(const char *hrg, size_t n);
/* Mental health POD from CURRENCY_CODE: MHCC, IAPT, MHPS; -1 otherwise. */
int yoc_pod_mh(const char *code, size_t n);

/* How a row was priced. */
enum yoc_price_how {
	YOC_PRICED = 0,       /* exact tariff or unit-cost match */
	YOC_PRICED_AVERAGE,   /* code not in the tariff: POD department average */
	YOC_PRICED_ZERO,      /* not chargeable (did not attend, cancelled): 0 */
	YOC_UNPRICED          /* cannot be priced (unknown POD or unit): 0 */
};
const char *yoc_price_how_str(int how);

/*
** Social care with no cost in the feed: UNITS priced by the unit cost of
** SERVICE_TYPE in unit_costs.csv. Hourly rates need UNIT_TYPE HOURS, daily
** rates DAYS, weekly rates DAYS (pro rata, units x rate / 7, rounded half
** away from zero) or WEEKS (UNIT_TYPE case-insensitive). YOC_PRICED with
** *pence, or YOC_UNPRICED with *pence 0 (units negative, which includes missing, unknown
** service type, or a unit that does not fit the rate).
*/
int yoc_price_social_units(const yoc_tariff *t, struct yoc_cell service_type,
			   struct yoc_cell unit_type, int64_t units, int64_t *pence);

/*
** Prices of single rows. Each returns an enum yoc_price_how (>= 0) and sets
** *pence (and *pod where asked, -1 when none). Codes not in the tariff fall
** back to the POD's department average.
*/
int yoc_price_apc(const yoc_tariff *t, struct yoc_cell classpat, struct yoc_cell admimeth,
		  int32_t epistart, int32_t epiend, struct yoc_cell sushrg,
		  int64_t *pence, int *pod);
int yoc_price_op(const yoc_tariff *t, struct yoc_cell attended, struct yoc_cell sushrg,
		 int64_t *pence, int *pod);
int yoc_price_ae(const yoc_tariff *t, struct yoc_cell sushrg, int64_t *pence);
/* Community contact: attended (5/6) contacts priced by CURRENCY_CODE. */
int yoc_price_community(const yoc_tariff *t, struct yoc_cell attended,
			struct yoc_cell currency, int64_t *pence);
/*
** Mental health row: MHCC/IAPT contacts priced when attended; MHPS rows
** priced bed_days x the MHPS unit cost (ATTENDED ignored).
*/
int yoc_price_mh(const yoc_tariff *t, struct yoc_cell currency, struct yoc_cell attended,
		 int64_t bed_days, int64_t *pence, int *pod);
int yoc_price_ambulance(const yoc_tariff *t, struct yoc_cell currency, int64_t *pence);
/*
** GP appointment: APPT_STATUS "Attended" priced at the per-minute unit cost
** of HCP_TYPE (GP, NURSE, OTHER) x DURATION_MIN; "DNA" and anything else 0.
*/
int yoc_price_gp(const yoc_tariff *t, struct yoc_cell hcp_type, struct yoc_cell status,
		 int64_t duration_min, int64_t *pence);

/* ---- hospital spells (cost_spell.c) ------------------------------------------ */

/*
** Admitted patient care is priced per SPELL (one hospital stay, one or more
** consultant episodes), as commissioners pay for it under the NHS Payment
** Scheme; the per-episode NCC price (yoc_price_apc) is kept as the "cost to
** provider" view. docs/costing.md states the rules.
*/

/* A date at or below this is unknown (the store's empty, HES null and invalid dates). */
#define YOC_SPELL_NODATE (INT32_MIN + 2)

/* Kind of a spell, from its first episode. */
enum yoc_spell_type {
	YOC_SPELL_ELECTIVE = 0,  /* ADMIMETH 11-13, not a day case */
	YOC_SPELL_DAYCASE,       /* CLASSPAT 2, not an emergency */
	YOC_SPELL_EMERGENCY,     /* ADMIMETH 21-25, 28, 2A-2D */
	YOC_SPELL_OTHER_NE,      /* other non-elective: maternity 31-32, births 82-83,
				  * transfers 81, 84, 89, 98, 99, unknown */
	YOC_SPELL_TYPES
};
/* "elective", "daycase", "emergency", "other_nonelective". */
const char *yoc_spell_type_name(int type);
int yoc_spell_type(struct yoc_cell classpat, struct yoc_cell admimeth);

/* One episode as the spell rules read it. Views need live only for the call. */
struct yoc_apc_epi {
	struct yoc_cell classpat, admimeth, sushrg;
	int32_t admidate, disdate;  /* the spell's dates as the row gives them */
	int32_t epistart, epiend;   /* epiend unknown: the episode is unfinished */
	int32_t epiorder;           /* EPIORDER, 0 when unknown */
	int64_t feed_cost;          /* a COST carried by the row (pence), else INT64_MIN */
};

struct yoc_spell_price {
	int type;             /* enum yoc_spell_type */
	int admission;        /* 1: the first episode is EPIORDER 1 (an admission) */
	int pod;              /* POD of the spell price */
	int dominant;         /* index of the episode whose HRG prices the spell */
	int how;              /* enum yoc_price_how of the base price */
	int32_t admitted;     /* ADMIDATE of the first episode, else its EPISTART */
	int32_t discharged;   /* DISDATE of the last episode; YOC_SPELL_NODATE: open */
	int32_t los;          /* length of stay, days (open: to the last date known) */
	int32_t trim;         /* trim point, days; -1 when none applies */
	int32_t excess_days;  /* days beyond the trim point */
	int64_t base;         /* the spell HRG's price under pod, pence */
	int64_t excess;       /* excess_days x the excess bed day price */
	int64_t pence;        /* base + excess: what the commissioner pays */
	int64_t provider;     /* sum of the episodes' NCC prices (cost to provider) */
};

/*
** Prices one spell. e[0..n-1] are its episodes IN SPELL ORDER (EPIORDER,
** then EPISTART; yoc_spells_next returns them so), n >= 1. Returns
** out->how (>= 0); see docs/costing.md for the rules.
*/
int yoc_price_spell(const yoc_tariff *t, const struct yoc_apc_epi *e, size_t n,
		    struct yoc_spell_price *out);

/*
** Nights of the stay [from, to) that fall in [lo, hi): bed days of an
** episode (EPISTART, EPIEND) within a financial year. 0 when either end is
** unknown.
*/
int32_t yoc_nights_between(int32_t from, int32_t to, int32_t lo, int32_t hi);

/*
** Grouping APC episodes into spells. Episodes are added one by one (text
** copied), then sorted; each spell is then returned with its episodes in
** spell order. Spell identity: the owner (person) and SUSSPELLID when the
** row has one; otherwise the owner, the provider and ADMIDATE; an episode
** with neither is a spell of its own. Not thread-safe: one per thread, then
** yoc_spells_merge. Memory grows with the episodes, capped at 4 GiB of text.
*/
typedef struct yoc_spells yoc_spells;

struct yoc_spell_view {
	uint64_t owner;
	size_t n;                        /* episodes */
	const struct yoc_apc_epi *epi;   /* in spell order */
	const uint32_t *tag;             /* the caller's tag of each episode */
};

yoc_spells *yoc_spells_create(void);
void yoc_spells_free(yoc_spells *s);
/* Adds an episode; 0, YOC_ENOMEM or YOC_ETOOBIG. */
int yoc_spells_add(yoc_spells *s, uint64_t owner, uint32_t tag, struct yoc_cell susspellid,
		   struct yoc_cell provider, const struct yoc_apc_epi *e);
/* Moves src's episodes into dst (src is left empty); 0 or YOC_ENOMEM/YOC_ETOOBIG. */
int yoc_spells_merge(yoc_spells *dst, yoc_spells *src);
size_t yoc_spells_count(const yoc_spells *s);
/*
** Sorts the episodes into spells (by owner, then spell), ready for
** yoc_spells_next. The order depends only on the episodes' content, never
** on the order they were added. 0 or YOC_ENOMEM.
*/
int yoc_spells_sort(yoc_spells *s);
/*
** The next spell: 1 and *v filled (valid until the next call or free), 0
** after the last, or YOC_ENOMEM. Adding after sorting is not allowed.
*/
int yoc_spells_next(yoc_spells *s, struct yoc_spell_view *v);

/* Exact pounds text ("326.9878") to pence, half away from zero; 0 or YOC_EPARSE. */
int yoc_pounds_parse(const char *s, size_t n, int64_t *pence);
/* Writes pence as pounds with exactly two decimals ("-12.05"); returns length. buf >= 24. */
size_t yoc_pence_format(int64_t pence, char *buf);

#endif

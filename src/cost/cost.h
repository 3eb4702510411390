/*
** Costing: prices for activity, shared by `yoc synth` (which writes the
** ground truth) and the analysis stage (which must reproduce it to the
** penny). docs/costing.md states the same rules in prose; keep them in step.
**
** Two tables, loaded from data/:
**   ncc_2023_24.csv  National Cost Collection 2023/24 national schedule:
**                    (Service Code, currency code) -> unit cost. The
**                    Service Code is the point of delivery (POD).
**   unit_costs.csv   published unit costs for activity NCC does not price
**                    (GP appointments per minute of clinician time, social
**                    care rates used by the generator).
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
/* Loads DIR/ncc_2023_24.csv and DIR/unit_costs.csv. */
int yoc_tariff_load_dir(yoc_tariff **out, const char *dir, struct yoc_error *e);
void yoc_tariff_free(yoc_tariff *t);

/* Rows read from the NCC file. */
size_t yoc_tariff_rows(const yoc_tariff *t);

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

/* Exact pounds text ("326.9878") to pence, half away from zero; 0 or YOC_EPARSE. */
int yoc_pounds_parse(const char *s, size_t n, int64_t *pence);
/* Writes pence as pounds with exactly two decimals ("-12.05"); returns length. buf >= 24. */
size_t yoc_pence_format(int64_t pence, char *buf);

#endif

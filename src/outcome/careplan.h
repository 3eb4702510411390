/*
** Care and support plans, unmet needs and patient activation
** (outcome_careplan.c, docs/outcomes.md "Care plans"): plan coverage of the
** registered population by practice and of each cohort (cohort_register,
** src/cohort), reviews overdue, goals by domain and status, actions and
** referrals by kind, needs by need and locality (what commissioners should
** buy more of), and the Patient Activation Measure: the level distribution
** and the change between each person's first and latest measure by their
** first level.
**
** The engine reads the careplan and pam feeds of the store and writes the
** catalog tables careplan_plan, careplan_cover, careplan_goal,
** careplan_action, careplan_need, careplan_unmet, pam_level and pam_change
** in one transaction. They hold exact counts; disclosure control is applied
** where figures are published (the CLI's summary and the report page).
** Functions return 0 or a negative enum yoc_status with e filled; nothing
** here prints or exits.
*/
#ifndef YOC_CAREPLAN_H
#define YOC_CAREPLAN_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "yoc/core.h"

/*
** A PAM score "63" or "63.4" (0.0 to 100.0, at most one decimal) in tenths:
** 0 and *tenths set, or YOC_EPARSE.
*/
int yoc_pam_score_parse(const char *s, size_t n, int *tenths);
/* The activation level 1-4 of a score in tenths, by the published cut-offs:
 * 1 up to 47.0, 2 up to 55.1, 3 up to 67.0, 4 above. */
int yoc_pam_level(int tenths);

struct yoc_careplan_opts {
	int32_t asof;   /* the reporting date; YOC_DATE_NONE: the latest RECORD_DATE */
};

struct yoc_careplan_stats {
	int32_t asof;
	int64_t rows, plans, plans_unregistered, people, registered, overdue;
	int64_t goals, actions, needs, needs_partly, needs_unmet;
	int64_t pam_rows, pam_people, pam_twice;
	int has_careplan, has_pam;
};

/*
** Reads every current careplan and pam file and writes the tables above
** (replacing earlier ones) in one transaction; the store must be open for
** writing. A dataset with neither feed (or a build whose data specification
** has no such kinds) gives YOC_ENOTFOUND with a message saying so.
*/
int yoc_careplan_run(yoc_store *s, const struct yoc_careplan_opts *o,
		     struct yoc_careplan_stats *st, struct yoc_error *e);

#endif

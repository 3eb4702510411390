/*
** The review simulator of the synthetic economy: it plays the practices'
** clinicians on a cohort's latest selection so that the whole loop (select,
** review, consent, enrol, refresh) runs in the demo and the tests. Clinicians
** know who is at the end of life: a candidate who dies within
** end_of_life_months of the review (deaths feed) or carries the palliative
** flag is excluded as end_of_life; of the others a share is excluded with a
** realistic reason, a few deferred, and each practice adds a few people the
** rule did not select (community referrals). Of those included, a share
** declines consent; the rest consent to care and mostly to secondary use.
** truth.csv says why each decision was made, for the tests.
**
** Draws are from a splitmix64 stream of (seed, pseudonym, purpose): a
** person's decisions do not depend on who else is reviewed.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cohort/cohort.h"
#include "yoc/date.h"
#include "yoc/io.h"

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* A uniform draw in [0, 1) for (seed, text, salt). */
static double draw(uint64_t seed, const char *text, uint64_t salt)
{
	uint64_t h = 1469598103934665603ULL;
	for (const char *p = text; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (double)(mix(mix(seed ^ h) ^ salt) >> 11) * (1.0 / 9007199254740992.0);
}

static int db_err(sqlite3 *db, struct yoc_error *e)
{
	int rc = sqlite3_errcode(db);
	return yoc_error_set(e, rc == SQLITE_NOMEM ? YOC_ENOMEM : YOC_EIO,
			     sqlite3_db_filename(db, "main"), 0, 0, "catalog: %s",
			     sqlite3_errmsg(db));
}

struct pfiles {
	char practice[16];
	struct yoc_afile rev, con;
	int open;
};

static int pf_open(struct pfiles *f, const char *dir, const char *practice, struct yoc_error *e)
{
	char p[4200];
	int rc;
	snprintf(f->practice, sizeof f->practice, "%s", practice);
	snprintf(p, sizeof p, "%s/review_%s.csv", dir, practice);
	if ((rc = yoc_afile_open(&f->rev, p, e)))
		return rc;
	snprintf(p, sizeof p, "%s/consent_%s.csv", dir, practice);
	if ((rc = yoc_afile_open(&f->con, p, e))) {
		yoc_afile_abort(&f->rev);
		return rc;
	}
	fputs("pseudo_id,practice,decision,reason,reason_text,reviewer_role,review_date\n",
	      f->rev.f);
	fputs("pseudo_id,practice,consent_date,status,purposes\n", f->con.f);
	f->open = 1;
	return YOC_OK;
}

static int pf_close(struct pfiles *f, struct yoc_error *e)
{
	f->open = 0;
	int rc = yoc_afile_commit(&f->rev, e);
	if (rc) {
		yoc_afile_abort(&f->con);
		return rc;
	}
	return yoc_afile_commit(&f->con, e);
}

struct sim {
	const struct yoc_cohort_sim_opts *o;
	struct yoc_cohort_sim_stats *st;
	FILE *truth;
	char rd[11];
};

/* Consent for someone included or added: declined, or given after assessment. */
static void consent(struct sim *s, struct pfiles *f, const char *pid, const char *prac,
		    int32_t dod, const char *decision, const char *reason, const char *why)
{
	const struct yoc_cohort_sim_opts *o = s->o;
	int32_t when = o->review_date + 7 + (int32_t)(draw(o->seed, pid, 11) * 28);
	char cd[11] = "", purposes[24] = "";
	if (draw(o->seed, pid, 12) < o->decline_share) {
		fprintf(s->truth, "%s,%s,%s,%s,%s; declined consent after assessment,,\n", pid,
			prac, decision, reason, why);
		return;
	}
	if (dod != YOC_DATE_NONE && dod < when) {
		fprintf(s->truth, "%s,%s,%s,%s,%s; died before assessment,,\n", pid, prac,
			decision, reason, why);
		return;
	}
	yoc_date_format(when, cd);
	snprintf(purposes, sizeof purposes, "%s",
		 draw(o->seed, pid, 13) < o->secondary_share ? "care;secondary" : "care");
	fprintf(f->con.f, "%s,%s,%s,given,%s\n", pid, prac, cd, purposes);
	fprintf(s->truth, "%s,%s,%s,%s,%s,%s,%s\n", pid, prac, decision, reason, why, cd,
		purposes);
	s->st->consented++;
}

static const char *role_of(uint64_t seed, const char *pid)
{
	double u = draw(seed, pid, 5);
	return u < 0.6 ? "GP" : u < 0.9 ? "MDT" : "community";
}

/* Adds the practice's referrals: people of the selection year with two or more
 * conditions whom the rule did not select. */
static int add_people(struct sim *s, yoc_store *st, sqlite3 *db, int64_t sel, const char *fy,
		      struct pfiles *f, struct yoc_error *e)
{
	const struct yoc_cohort_sim_opts *o = s->o;
	double u = draw(o->seed, f->practice, 21);
	int k = (int)floor(o->add_per_practice + u);
	if (k <= 0)
		return YOC_OK;
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT py.pseudo_id FROM person_year py WHERE py.fyear = ?1 AND"
			       " py.practice = ?2 AND py.ltc_count >= 2 AND py.died = 0 AND NOT EXISTS"
			       " (SELECT 1 FROM cohort_candidate c WHERE c.selection_id = ?3 AND"
			       " c.pseudo_id = py.pseudo_id) ORDER BY py.pseudo_id",
			       -1, &q, NULL) != SQLITE_OK)
		return db_err(db, e);
	sqlite3_bind_text(q, 1, fy, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, f->practice, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, sel);
	const struct yoc_person *pp;
	size_t np;
	int rc = yoc_store_persons(st, &pp, &np, e);
	/* every 1 in 40 by the draw: deterministic and spread over the list */
	int s3;
	while (rc == YOC_OK && k > 0 && (s3 = sqlite3_step(q)) == SQLITE_ROW) {
		const char *pid = (const char *)sqlite3_column_text(q, 0);
		if (draw(o->seed, pid, 22) >= 0.025)
			continue;
		int32_t ix = yoc_store_person_index(st, pid, strlen(pid));
		int32_t dod = ix >= 0 ? pp[ix].dod : YOC_DATE_NONE;
		if (dod != YOC_DATE_NONE && dod <= o->review_date)
			continue;
		fprintf(f->rev.f, "%s,%s,add,community_referral,,community,%s\n", pid, f->practice,
			s->rd);
		s->st->added++;
		k--;
		consent(s, f, pid, f->practice, dod, "add", "community_referral",
			"referral by the community team (2+ conditions; not selected by the rule)");
	}
	sqlite3_finalize(q);
	return rc;
}

int yoc_cohort_simulate(yoc_store *st, const char *cohort, const struct yoc_cohort_sim_opts *o,
			const char *dir, struct yoc_cohort_sim_stats *stats, struct yoc_error *e)
{
	sqlite3 *db = yoc_store_db(st);
	sqlite3_stmt *q = NULL;
	struct pfiles f = {0};
	struct yoc_afile truth = {0};
	int truth_open = 0, rc;
	int64_t sel = 0;
	char fy[8] = "", p[4200];
	const struct yoc_person *pp;
	size_t np;
	struct sim s = {.o = o, .st = stats};
	memset(stats, 0, sizeof *stats);
	yoc_date_format(o->review_date, s.rd);
	if (!yoc_cohort_ready(db))
		return yoc_error_set(e, YOC_ENOTFOUND, NULL, 0, 0, "no cohort named '%s'", cohort);
	if ((rc = yoc_store_persons(st, &pp, &np, e)))
		return rc;
	if (sqlite3_prepare_v2(db,
			       "SELECT selection_id, fyear FROM cohort_selection WHERE cohort = ?"
			       " ORDER BY selection_id DESC LIMIT 1",
			       -1, &q, NULL) != SQLITE_OK)
		return db_err(db, e);
	sqlite3_bind_text(q, 1, cohort, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW) {
		sel = sqlite3_column_int64(q, 0);
		snprintf(fy, sizeof fy, "%s", (const char *)sqlite3_column_text(q, 1));
	}
	sqlite3_finalize(q);
	q = NULL;
	if (!sel)
		return yoc_error_set(e, YOC_ENOTFOUND, NULL, 0, 0,
				     "cohort '%s' has no selection: run yoc cohort select first",
				     cohort);
	snprintf(p, sizeof p, "%s/truth.csv", dir);
	if ((rc = yoc_afile_open(&truth, p, e)))
		return rc;
	truth_open = 1;
	s.truth = truth.f;
	fputs("pseudo_id,practice,decision,reason,why,consent_date,purposes\n", truth.f);
	if (sqlite3_prepare_v2(db,
			       "SELECT pseudo_id, practice, coalesce(ltcs, '') FROM cohort_candidate"
			       " WHERE selection_id = ? AND practice IS NOT NULL"
			       " ORDER BY practice, pseudo_id",
			       -1, &q, NULL) != SQLITE_OK) {
		rc = db_err(db, e);
		goto cleanup;
	}
	sqlite3_bind_int64(q, 1, sel);
	int sq;
	int32_t eol = o->review_date + (int32_t)(o->end_of_life_months * 30.44);
	while ((sq = sqlite3_step(q)) == SQLITE_ROW) {
		const char *pid = (const char *)sqlite3_column_text(q, 0);
		const char *prac = (const char *)sqlite3_column_text(q, 1);
		const char *ltcs = (const char *)sqlite3_column_text(q, 2);
		if (!f.open || strcmp(prac, f.practice) != 0) {
			if (f.open) {
				if ((rc = add_people(&s, st, db, sel, fy, &f, e)) ||
				    (rc = pf_close(&f, e)))
					goto cleanup;
			}
			if (strspn(prac, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != strlen(prac))
				continue;
			if ((rc = pf_open(&f, dir, prac, e)))
				goto cleanup;
		}
		stats->candidates++;
		int32_t ix = yoc_store_person_index(st, pid, strlen(pid));
		int32_t dod = ix >= 0 ? pp[ix].dod : YOC_DATE_NONE;
		const char *role = role_of(o->seed, pid);
		char dd[11] = "";
		if (dod != YOC_DATE_NONE)
			yoc_date_format(dod, dd);
		if (dod != YOC_DATE_NONE && dod <= o->review_date) {
			fprintf(f.rev.f, "%s,%s,exclude,other,died before review,%s,%s\n", pid, prac,
				role, s.rd);
			fprintf(truth.f, "%s,%s,exclude,other,died %s before the review,,\n", pid,
				prac, dd);
			stats->excluded++;
			continue;
		}
		if ((dod != YOC_DATE_NONE && dod <= eol) || strstr(ltcs, "palliative")) {
			fprintf(f.rev.f, "%s,%s,exclude,end_of_life,,%s,%s\n", pid, prac, role, s.rd);
			if (dod != YOC_DATE_NONE && dod <= eol)
				fprintf(truth.f, "%s,%s,exclude,end_of_life,dies %s within %d months"
						 " of the review,,\n",
					pid, prac, dd, o->end_of_life_months);
			else
				fprintf(truth.f, "%s,%s,exclude,end_of_life,palliative care,,\n", pid,
					prac);
			stats->excluded++;
			stats->end_of_life++;
			continue;
		}
		double u = draw(o->seed, pid, 1);
		if (u < o->exclude_share) {
			double v = draw(o->seed, pid, 2);
			const char *why = v < 0.35 ? "case_managed" : v < 0.6 ? "declined"
					: v < 0.9 ? "not_appropriate" : "moved_away";
			fprintf(f.rev.f, "%s,%s,exclude,%s,,%s,%s\n", pid, prac, why, role, s.rd);
			fprintf(truth.f, "%s,%s,exclude,%s,random share (%.2f),,\n", pid, prac, why,
				o->exclude_share);
			stats->excluded++;
		} else if (u < o->exclude_share + o->defer_share) {
			fprintf(f.rev.f, "%s,%s,defer,,,%s,%s\n", pid, prac, role, s.rd);
			fprintf(truth.f, "%s,%s,defer,,random share (%.2f),,\n", pid, prac,
				o->defer_share);
			stats->deferred++;
		} else {
			fprintf(f.rev.f, "%s,%s,include,,,%s,%s\n", pid, prac, role, s.rd);
			stats->included++;
			consent(&s, &f, pid, prac, dod, "include", "", "selected and included");
		}
	}
	if (sq != SQLITE_DONE) {
		rc = db_err(db, e);
		goto cleanup;
	}
	if (f.open && ((rc = add_people(&s, st, db, sel, fy, &f, e)) || (rc = pf_close(&f, e))))
		goto cleanup;
	truth_open = 0;
	rc = yoc_afile_commit(&truth, e);
cleanup:
	sqlite3_finalize(q);
	if (f.open) {
		yoc_afile_abort(&f.rev);
		yoc_afile_abort(&f.con);
	}
	if (truth_open)
		yoc_afile_abort(&truth);
	return rc;
}

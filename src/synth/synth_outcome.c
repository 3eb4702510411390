/*
** Outcomes of the synthetic economy (docs/synth.md, "Outcomes"): the
** discharge ready date of hospital spells with the need for rehabilitation,
** recovery or reablement (RRR) and the reason for a delay; reablement
** packages in social care after such discharges, with where the person was
** 91 days on; care and support plans (feeds/careplan) and Patient Activation
** Measure results (feeds/pam); their truth files and defects.
**
** Every draw is from the person's outcome stream (seed, STREAM_OUTCOME,
** person), and the rows are written after all the person's other rows, so
** the other feeds are what they would be without this file, apart from the
** new columns and the reablement rows of social care. It never changes a
** spell, package or date drawn elsewhere.
*/
#include <stdio.h>

#include "synth/synth_int.h"
#include "yoc/nhsno.h"

const char *const synth_odefect_names[OD_COUNT] = {
	"ready_after_discharge", "pam_score_out_of_range", "pam_level_mismatch", "unregistered"
};

/* Outcome defect rates per spell, plan or measurement at --defect-rate 1. */
#define RATE_READY_AFTER 0.004
#define RATE_PAM_RANGE 0.004
#define RATE_PAM_LEVEL 0.006
#define RATE_UNREGISTERED 0.006

/* Key kinds of the outcome rows (synth_key): apart from every feed's. */
enum { KEY_PLAN = 110, KEY_PLAN_ITEM = 111, KEY_PAM = 112 };
/* Reablement packages number from here (a person's other packages from 0). */
#define REABLE_PACKAGE0 0x1000u

struct oc {
	struct yoc_afile discharge, reable, careplan, pam;
	uint64_t totals[OD_COUNT];
	uint64_t phantoms;          /* NHS numbers issued to no one, used so far */
};

/* ---- files -------------------------------------------------------------------- */

static int open_truth(struct yoc_afile *af, const char *dir, const char *name,
		      const char *header, struct yoc_error *e)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/truth/%s", dir, name);
	int rc = yoc_afile_open(af, path, e);
	if (rc == 0)
		fputs(header, af->f);
	return rc;
}

int synth_outcome_open(struct world *w, struct yoc_error *e)
{
	struct oc *o = yoc_calloc(1, sizeof *o);
	if (!o)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	w->oc = o;
	const char *dir = w->o->out_dir;
	int rc;
	if ((rc = open_truth(&o->discharge, dir, "discharge.csv",
			     "susspellid,nhs_number,procode,admidate,disdate,disready,rrr_need,"
			     "delay_reason,delayed_days\n", e)) ||
	    (rc = open_truth(&o->reable, dir, "reablement.csv",
			     "servicekey,nhs_number,hosp_discharge,place_91d\n", e)) ||
	    (rc = open_truth(&o->careplan, dir, "careplan.csv",
			     "plan_id,nhs_number,practice,created,last_review,next_review,goals,"
			     "actions,needs_unmet\n", e)) ||
	    (rc = open_truth(&o->pam, dir, "pam.csv", "pam_id,nhs_number,pam_date,score,level\n", e)))
		return rc;
	return YOC_OK;
}

int synth_outcome_finish(struct world *w, struct yoc_error *e)
{
	struct oc *o = w->oc;
	int rc;
	if (!o)
		return YOC_OK;
	if ((rc = yoc_afile_commit(&o->discharge, e)) || (rc = yoc_afile_commit(&o->reable, e)) ||
	    (rc = yoc_afile_commit(&o->careplan, e)) || (rc = yoc_afile_commit(&o->pam, e)))
		return rc;
	for (size_t i = 0; i < w->nfiles; i++)
		for (int d = 0; d < OD_COUNT; d++)
			o->totals[d] += w->files[i].withheld ? 0 : w->files[i].odef[d];
	return YOC_OK;
}

void synth_outcome_abort(struct world *w)
{
	struct oc *o = w->oc;
	if (!o)
		return;
	yoc_afile_abort(&o->discharge);
	yoc_afile_abort(&o->reable);
	yoc_afile_abort(&o->careplan);
	yoc_afile_abort(&o->pam);
}

void synth_outcome_free(struct world *w)
{
	yoc_free(w->oc);
	w->oc = NULL;
}

/* Which outcome defects a kind's files carry in the manifest. */
static unsigned odef_mask(int kind)
{
	switch (kind) {
	case K_APC: return 1u << OD_READY_AFTER;
	case K_CAREPLAN: return 1u << OD_UNREGISTERED;
	case K_PAM: return 1u << OD_PAM_RANGE | 1u << OD_PAM_LEVEL | 1u << OD_UNREGISTERED;
	default: return 0;
	}
}

void synth_outcome_manifest_file(const struct world *w, const struct sfile *f, char *buf,
				 size_t cap)
{
	(void)w;
	size_t n = 0;
	buf[0] = 0;
	unsigned m = odef_mask(f->kind);
	if (!m)
		return;
	n += (size_t)snprintf(buf + n, cap - n, ", \"outcome_defects\": {");
	for (int d = 0, first = 1; d < OD_COUNT && n < cap; d++)
		if (m & (1u << d)) {
			n += (size_t)snprintf(buf + n, cap - n, "%s\"%s\": %u", first ? "" : ", ",
					      synth_odefect_names[d], f->odef[d]);
			first = 0;
		}
	if (n < cap)
		snprintf(buf + n, cap - n, "}");
}

void synth_outcome_manifest_totals(const struct world *w, char *buf, size_t cap)
{
	const struct oc *o = w->oc;
	size_t n = (size_t)snprintf(buf, cap, "  \"outcome_defect_totals\": {");
	for (int d = 0; d < OD_COUNT && n < cap; d++)
		n += (size_t)snprintf(buf + n, cap - n, "%s\"%s\": %llu", d ? ", " : "",
				      synth_odefect_names[d],
				      (unsigned long long)(o ? o->totals[d] : 0));
	if (n < cap)
		snprintf(buf + n, cap - n, "},\n  \"outcome_truth\": [\"truth/discharge.csv\", "
			 "\"truth/reablement.csv\", \"truth/careplan.csv\", \"truth/pam.csv\"],\n");
}

/* ---- discharges ---------------------------------------------------------------- */

static int lognormal_int(struct rng *r, double mean, double sd, int lo, int hi)
{
	double mu = log(mean) - 0.5 * sd * sd;
	int v = (int)ceil(exp(mu + sd * rng_normal(r)));
	return v < lo ? lo : v > hi ? hi : v;
}

static int emergency_spell(const struct ev_spell *s)
{
	return s->kind == SP_NE || s->kind == SP_TRANSFER;
}

/* Care home type on day d: 0 none, 1 residential, 2 nursing. */
static int care_home(const struct oc_place *pl, int npl, int32_t d)
{
	for (int i = 0; i < npl; i++)
		if (pl[i].type > 0 && pl[i].start <= d && d <= pl[i].end)
			return pl[i].type;
	return 0;
}

/*
** Chance that a discharge needs rehabilitation, recovery or reablement:
** about 12% of emergency spells at 65+, rising with age and conditions;
** fewer under 65 and after planned care.
*/
static double p_rrr(const struct ev_spell *s, int age, int ncond)
{
	double p;
	if (emergency_spell(s))
		p = age >= 85 ? 0.19 : age >= 75 ? 0.12 : age >= 65 ? 0.07 : age >= 40 ? 0.02 : 0.005;
	else
		p = age >= 65 ? 0.03 : 0.005;
	double f = 1.0 + 0.08 * (ncond - 2);
	return p * (f < 0.6 ? 0.6 : f > 1.6 ? 1.6 : f);
}

void synth_outcome_spells(struct world *w, struct person *p, struct ev_spell *sp, int nsp,
			  const struct oc_place *pl, int npl)
{
	static const char *const rrr_reason[4] = {"NO_SERVICE", "ASSESSMENT", "RESIDENTIAL", "HOME"};
	static const double rrr_w[4] = {0.25, 0.35, 0.22, 0.18};
	double bad = RATE_READY_AFTER * w->defect_scale;
	for (int i = 0; i < nsp; i++) {
		struct ev_spell *s = &sp[i];
		s->ready = s->ready_bad = NEVER;
		s->rrr = 0;
		s->delay = NULL;
		if (s->kind == SP_DC || s->terminal)
			continue;
		/* the same draws for every spell with a ready date */
		double u_rrr = rng_unif(&p->o), u_delay = rng_unif(&p->o), u_bad = rng_unif(&p->o);
		int pick = rng_pick(&p->o, rrr_w, 4);
		int days = lognormal_int(&p->o, 5.0, 0.8, 1, 20);
		int late = 1 + (int)rng_below(&p->o, 10);
		int age = person_age(p, s->adm), ncond = person_ncond(p, s->adm);
		int los = s->dis - s->adm;
		s->ready = s->dis;
		s->rrr = (uint8_t)(los > 0 && u_rrr < p_rrr(s, age, ncond));
		double p_delay = s->rrr ? 0.5 : emergency_spell(s) && age >= 65 ? 0.025 : 0.004;
		if (los > 0 && u_delay < p_delay) {
			const char *why = s->rrr ? rrr_reason[pick] : pick % 2 ? "RESIDENTIAL" : "HOME";
			if (care_home(pl, npl, s->dis) && s->rrr)
				why = "RESIDENTIAL";
			s->delay = why;
			s->ready = s->dis - (days < los ? days : los);
		}
		if (u_bad < bad)
			s->ready_bad = s->dis + late;
	}
}

void synth_outcome_spell_truth(struct world *w, const struct person *p, uint64_t spell_key,
			       const struct ev_spell *s)
{
	struct oc *o = w->oc;
	char a[11], d[11], r[11];
	yoc_date_format(s->adm, a);
	yoc_date_format(s->dis, d);
	yoc_date_format(s->ready, r);
	fprintf(o->discharge.f, "%019llu,%.10s,%s,%s,%s,%s,%s,%s,%d\n",
		(unsigned long long)spell_key, p->nhs, w->prov_code[K_APC][s->prov], a, d, r,
		s->rrr ? "Y" : "N", s->delay ? s->delay : "", (int)(s->dis - s->ready));
}

const char *synth_outcome_placement(int type, int32_t start, int32_t end)
{
	if (type == 0)
		return NULL;
	/* a stay that ended within eight weeks was a short (respite) one */
	return end != NEVER && end - start < 56 ? "TEMPORARY" : "PERMANENT";
}

/* ---- reablement ------------------------------------------------------------------ */

/* Where the person was 91 days after discharge day dis. */
static const char *place_91d(const struct world *w, const struct person *p,
			     const struct ev_spell *sp, int nsp, const struct oc_place *pl,
			     int npl, int32_t dis, double u)
{
	int32_t d = dis + 91;
	if (p->death <= d)
		return "DIED";
	if (d > w->w1 || p->moved_out <= d)
		return "UNKNOWN"; /* not known by the end of the window */
	for (int i = 0; i < nsp; i++)
		if (sp[i].adm <= d && d <= sp[i].dis)
			return "HOSPITAL";
	int ch = care_home(pl, npl, d);
	if (ch)
		return ch == 2 ? "NURSING" : "RESIDENTIAL";
	return u < 0.03 ? "UNKNOWN" : "HOME";
}

/*
** Reablement after an RRR discharge home (not from a care home): about half
** of them, starting within two days, for one to six weeks of home care.
** Billed monthly like other home care, the rows numbered after the person's
** other packages.
*/
static void reablement(struct emit_ctx *c, const struct ev_spell *sp, int nsp,
		       const struct oc_place *pl, int npl)
{
	struct world *w = c->w;
	struct person *p = c->p;
	uint32_t n = 0;
	int64_t unit = 0;
	yoc_tariff_unit(w->tariff, "HOME_CARE", 9, &unit, NULL);
	int64_t hourly = (int64_t)llround(unit * (0.94 + 0.04 * (p->la % 4)));
	for (int i = 0; i < nsp; i++) {
		const struct ev_spell *s = &sp[i];
		if (!s->rrr || s->ready == NEVER)
			continue;
		double u = rng_unif(&p->o), u91 = rng_unif(&p->o);
		int32_t start = s->dis + (int32_t)rng_below(&p->o, 3);
		int len = lognormal_int(&p->o, 24.0, 0.5, 7, 42);
		int hours = lognormal_int(&p->o, 8.0, 0.5, 2, 25);
		if (u >= 0.5 || !s->disdest || strcmp(s->disdest, "19") != 0 ||
		    care_home(pl, npl, s->dis) || start > p->obs1 || start < p->obs0)
			continue;
		int32_t end = start + len - 1, pend = end;
		if (end > p->obs1)
			end = p->obs1;
		const char *where = place_91d(w, p, sp, nsp, pl, npl, s->dis, u91);
		uint32_t package = REABLE_PACKAGE0 + n++;
		char hd[11];
		yoc_date_format(s->dis, hd);
		fprintf(((struct oc *)w->oc)->reable.f, "%019llu,%.10s,%s,%s\n",
			(unsigned long long)synth_key(w, K_SOCIAL, p->idx, package), p->nhs, hd, where);
		for (int m = 0; m < w->nmonths; m++) {
			int32_t ms = w->mstart[m], me = w->mstart[m + 1] - 1;
			int32_t a = start > ms ? start : ms, b = end < me ? end : me;
			if (a > b)
				continue;
			struct ev_social ev;
			memset(&ev, 0, sizeof ev);
			int64_t days = b - a + 1;
			ev.la = p->la;
			ev.type = 0;
			ev.package = package;
			ev.pstart = start;
			ev.pend = pend <= b ? pend : NEVER;
			ev.start = a;
			ev.end = b;
			ev.hourly = hourly;
			ev.weekly = hourly * hours;
			ev.units = (hours * days * 2 + 7) / 14;
			ev.cost = ev.units * hourly;
			ev.cost_clean = ev.cost;
			ev.reable = 1;
			ev.hosp_dis = s->dis;
			ev.place91 = where;
			emit_social(c, &ev);
		}
	}
}

/* ---- care plans and PAM ------------------------------------------------------------ */

#define MAX_REVIEWS 16

struct plan {
	uint64_t id;
	char head[24];              /* NEWNHSNO,DOB,SEX of the rows */
	int phantom;                /* sent under an NHS number issued to no one */
	int prac;
	int32_t created;
	int32_t review[MAX_REVIEWS]; /* the reviews held */
	int32_t due[MAX_REVIEWS + 1]; /* due[i]: the review due after creation (i = 0) or review i */
	int nreview;
	uint32_t item_seq;
};

/* The cells of a careplan row after RECORD_DATE. */
struct item {
	int32_t created, last_review, next_review; /* NEVER: empty */
	const char *coordinator, *domain, *status, *action_kind, *need, *unmet, *consent;
};

static struct sfile *oc_file(struct world *w, int kind, int prac, int32_t day)
{
	int per = world_month(w, day);
	if (per < 0)
		per = 0;
	if ((uint32_t)per >= w->nper[kind])
		per = (int)w->nper[kind] - 1;
	return synth_file(w, kind, (uint32_t)prac, (uint32_t)per);
}

static void rb_lsoa11(struct rowb *b, uint32_t lsoa)
{
	rb_str(b, "E01");
	rb_uint_pad(b, 90001 + lsoa, 6);
}

/* Ends a row of an outcome feed; counts it if sent under an unissued number. */
static void oc_row_end(struct world *w, struct rowb *b, struct person *p, int phantom)
{
	row_end(w, b, p);
	if (phantom && b->f) {
		b->f->odef[OD_UNREGISTERED]++;
		b->f->last_odef = OD_UNREGISTERED;
	}
}

static void rb_odate(struct rowb *b, const struct world *w, int32_t d)
{
	rb_comma(b);
	if (d != NEVER)
		rb_date(b, w, d);
}

static void rb_ocode(struct rowb *b, const char *v)
{
	rb_comma(b);
	if (v)
		rb_str(b, v);
}

static void plan_row(struct emit_ctx *c, struct plan *pl, const char *type, int32_t day,
		     const struct item *it)
{
	struct world *w = c->w;
	struct person *p = c->p;
	struct rowb b;
	row_begin(w, &b, oc_file(w, K_CAREPLAN, pl->prac, day));
	rb_str(&b, pl->head);
	rb_comma(&b);
	rb_str(&b, w->prac_code[pl->prac]);
	rb_comma(&b);
	rb_uint_pad(&b, pl->id, 19);
	rb_comma(&b);
	rb_str(&b, type);
	rb_comma(&b);
	rb_uint_pad(&b, synth_key(w, KEY_PLAN_ITEM, p->idx, pl->item_seq++), 19);
	rb_comma(&b);
	rb_date(&b, w, day);
	rb_odate(&b, w, it->created);
	rb_odate(&b, w, it->last_review);
	rb_odate(&b, w, it->next_review);
	rb_ocode(&b, it->coordinator);
	rb_ocode(&b, it->domain);
	rb_ocode(&b, it->status);
	rb_ocode(&b, it->action_kind);
	rb_ocode(&b, it->need);
	rb_ocode(&b, it->unmet);
	rb_ocode(&b, it->consent);
	rb_comma(&b);
	rb_lsoa11(&b, p->lsoa);
	oc_row_end(w, &b, p, pl->phantom);
}

static const char *const coordinators[5] = {"GP", "PRACTICE_NURSE", "COMMUNITY_MATRON",
	"CARE_COORDINATOR", "SOCIAL_WORKER"};
static const double coord_w[5] = {0.30, 0.25, 0.15, 0.22, 0.08};
static const char *const domains[3] = {"CLINICAL", "CARE", "WELLBEING"};
static const char *const action_kinds[8] = {"REFERRAL_COMMUNITY", "REFERRAL_SOCIAL_CARE",
	"REFERRAL_MENTAL_HEALTH", "SOCIAL_PRESCRIBING", "VOLUNTARY_SECTOR", "MEDICATION_REVIEW",
	"SELF_MANAGEMENT", "TELEHEALTH"};
static const double action_w[8] = {0.16, 0.12, 0.06, 0.14, 0.10, 0.18, 0.16, 0.08};
static const char *const needs[10] = {"MOBILITY", "FALLS", "PERSONAL_CARE", "MEDICATION",
	"LONELINESS", "CARER_SUPPORT", "HOUSING", "FINANCE", "MENTAL_HEALTH", "TRANSPORT"};
static const char *const unmet_reasons[5] = {"NO_SERVICE", "WAITING_LIST", "DECLINED",
	"NOT_ELIGIBLE", "COST"};
static const double unmet_w[5] = {0.30, 0.30, 0.15, 0.15, 0.10};
static const char *const consents[4] = {"DIRECT_CARE", "SHARE_SOCIAL_CARE", "SHARE_VOLUNTARY",
	"RESEARCH"};

/*
** The plan's reviews: each due 6 to 12 months after the last, held within a
** fortnight either side of the due date or up to a month late; one in ten
** is missed, and the plan waits overdue from then on. Reviews stop
** when the person leaves the practice, dies or the window ends.
*/
static void plan_reviews(const struct world *w, struct person *p, struct plan *pl, int32_t last)
{
	int32_t t = pl->created;
	pl->nreview = 0;
	for (;;) {
		int32_t due = t + 182 + (int32_t)rng_below(&p->o, 184);
		double u = rng_unif(&p->o);
		int32_t rd = due - 14 + (int32_t)rng_below(&p->o, 45);
		pl->due[pl->nreview] = due;
		if (u < 0.10 || rd > last || rd > w->w1 || pl->nreview == MAX_REVIEWS ||
		    person_practice_on(p, rd) != pl->prac)
			return;
		pl->review[pl->nreview++] = rd;
		t = rd;
	}
}

/* PAM level of a score in tenths, by the published cut-offs. */
static int pam_level(int tenths)
{
	return tenths <= 470 ? 1 : tenths <= 551 ? 2 : tenths <= 670 ? 3 : 4;
}

static void rb_tenths(struct rowb *b, int v)
{
	if (v < 0) {
		*b->p++ = '-';
		v = -v;
	}
	rb_uint(b, (uint64_t)(v / 10));
	*b->p++ = '.';
	*b->p++ = (char)('0' + v % 10);
}

/*
** PAM at plan creation and then yearly while registered: the least activated
** gain most (levels 1-2 about 5 points a year, 3 about 2, 4 none), with
** noise. Defects: a score out of range, a level that does not match.
*/
static void pam_rows(struct emit_ctx *c, struct plan *pl, int32_t last, uint32_t *seq)
{
	struct world *w = c->w;
	struct person *p = c->p;
	int ncond = person_ncond(p, pl->created);
	double score = 55.0 + 10.0 * rng_normal(&p->o) - 1.5 * (ncond - 2) + 0.6 * (p->decile - 5.5);
	for (int k = 0;; k++) {
		int32_t day = pl->created + (int32_t)(365 * k);
		if (k)
			day += (int32_t)rng_below(&p->o, 29) - 14;
		double u = rng_unif(&p->o), noise = rng_normal(&p->o);
		int over = (int)rng_below(&p->o, 200);
		if (k) {
			int lv = pam_level((int)lround(score * 10));
			score += (lv <= 2 ? 5.0 : lv == 3 ? 2.0 : 0.0) + 2.5 * noise;
		}
		if (day > last || day > w->w1)
			return;
		int prac = pl->phantom ? pl->prac : person_practice_on(p, day);
		if (prac < 0)
			return;
		if (score < 0)
			score = 0;
		if (score > 100)
			score = 100;
		int tenths = (int)lround(score * 10), level = pam_level(tenths);
		int sent = tenths, sent_level = level, odef = -1;
		double r_range = RATE_PAM_RANGE * w->defect_scale;
		double r_level = RATE_PAM_LEVEL * w->defect_scale;
		if (!pl->phantom && u < r_range) {
			sent = over < 100 ? 1001 + over * 2 : -1 - (over - 100) / 2;
			odef = OD_PAM_RANGE;
		} else if (!pl->phantom && u < r_range + r_level) {
			sent_level = level % 4 + 1;
			odef = OD_PAM_LEVEL;
		}
		uint64_t id = synth_key(w, KEY_PAM, p->idx, (*seq)++);
		char d[11];
		yoc_date_format(day, d);
		fprintf(((struct oc *)w->oc)->pam.f, "%019llu,%.10s,%s,%d.%d,%d\n", (unsigned long long)id,
			pl->head, d, tenths / 10, tenths % 10, level);
		struct rowb b;
		row_begin(w, &b, oc_file(w, K_PAM, prac, day));
		rb_str(&b, pl->head);
		rb_comma(&b);
		rb_str(&b, w->prac_code[prac]);
		rb_comma(&b);
		rb_uint_pad(&b, id, 19);
		rb_comma(&b);
		rb_date(&b, w, day);
		rb_comma(&b);
		rb_tenths(&b, sent);
		rb_comma(&b);
		rb_uint(&b, (uint64_t)sent_level);
		rb_comma(&b);
		rb_lsoa11(&b, p->lsoa);
		oc_row_end(w, &b, p, pl->phantom);
		if (odef >= 0 && b.f) {
			b.f->odef[odef]++;
			b.f->last_odef = (uint8_t)odef;
		}
		if (pl->phantom)
			return; /* one measurement under the wrong number */
	}
}

/* One plan: its PLAN rows, items, truth row and PAM results. */
static void plan_emit(struct emit_ctx *c, struct plan *pl, int32_t last, uint32_t *pam_seq)
{
	struct world *w = c->w;
	struct person *p = c->p;
	struct rng *r = &p->o;
	const char *coord = coordinators[rng_pick(r, coord_w, 5)];
	plan_reviews(w, p, pl, last);
	int reviewed = pl->nreview > 0;
	int32_t latest = reviewed ? pl->review[pl->nreview - 1] : pl->created;
	/* PLAN rows: at creation, then at each review, with the dates as they stood */
	for (int i = 0; i <= pl->nreview; i++) {
		struct item it = {pl->created, i ? pl->review[i - 1] : NEVER, pl->due[i], coord,
			NULL, NULL, NULL, NULL, NULL, NULL};
		plan_row(c, pl, "PLAN", i ? pl->review[i - 1] : pl->created, &it);
	}
	/* Items as last recorded (at the latest review, else at creation). */
	int ngoal = 2 + (int)rng_below(r, 3), naction = 1 + (int)rng_below(r, 4);
	int nneed = 1 + (int)rng_below(r, 5), nconsent = 1 + (int)rng_below(r, 3), unmet = 0;
	uint32_t need0 = rng_below(r, 10), consent0 = rng_below(r, 3);
	for (int i = 0; i < ngoal; i++) {
		double u = rng_unif(r);
		struct item it = {NEVER, NEVER, NEVER, NULL, domains[rng_below(r, 3)], NULL, NULL,
			NULL, NULL, NULL};
		it.status = reviewed ? (u < 0.35 ? "ACHIEVED" : u < 0.75 ? "IN_PROGRESS"
					: u < 0.87 ? "NOT_STARTED" : "ABANDONED")
				     : (u < 0.45 ? "NOT_STARTED" : "IN_PROGRESS");
		plan_row(c, pl, "GOAL", latest, &it);
	}
	for (int i = 0; i < naction; i++) {
		struct item it = {NEVER, NEVER, NEVER, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
		it.status = rng_chance(r, reviewed ? 0.6 : 0.3) ? "DONE" : "OPEN";
		it.action_kind = action_kinds[rng_pick(r, action_w, 8)];
		plan_row(c, pl, "ACTION", latest, &it);
	}
	for (int i = 0; i < nneed; i++) {
		double u = rng_unif(r);
		int why = rng_pick(r, unmet_w, 5);
		struct item it = {NEVER, NEVER, NEVER, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
		it.status = u < 0.75 ? "MET" : u < 0.90 ? "PARTLY" : "UNMET";
		it.need = needs[(need0 + (uint32_t)i * 3) % 10]; /* five distinct at most */
		if (u >= 0.75) {
			it.unmet = unmet_reasons[why];
			unmet++;
		}
		plan_row(c, pl, "NEED", latest, &it);
	}
	for (int i = 0; i < nconsent; i++) {
		struct item it = {NEVER, NEVER, NEVER, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
		it.consent = consents[i ? 1 + (consent0 + (uint32_t)i - 1) % 3 : 0];
		plan_row(c, pl, "CONSENT", pl->created, &it);
	}
	char cd[11], lr[11] = "", nx[11];
	yoc_date_format(pl->created, cd);
	if (reviewed)
		yoc_date_format(latest, lr);
	yoc_date_format(pl->due[pl->nreview], nx);
	fprintf(((struct oc *)w->oc)->careplan.f, "%019llu,%.10s,%s,%s,%s,%s,%d,%d,%d\n",
		(unsigned long long)pl->id, pl->head, w->prac_code[pl->prac], cd, lr, nx, ngoal,
		naction, unmet);
	pam_rows(c, pl, last, pam_seq);
}

/*
** A plan for about 60% of adults with three or more conditions and 20% of
** those with one or two (counted on their last day in the window), created
** on a day between their first condition (or registration) and that day.
** Now and then a plan is also sent under an NHS number issued to no one: a
** plan for a person on no register.
*/
static void care_plans(struct emit_ctx *c)
{
	struct world *w = c->w;
	struct person *p = c->p;
	struct rng *r = &p->o;
	int32_t last = p->obs1 < w->w1 ? p->obs1 : w->w1;
	double u = rng_unif(r), v = rng_unif(r), ph = rng_unif(r);
	int n = person_ncond(p, last);
	if (last < p->obs0 || person_age(p, last) < 18 || n == 0 || u >= (n >= 3 ? 0.6 : 0.2))
		return;
	int32_t t1 = last;
	for (int k = 0; k < NCOND; k++)
		if (k != C_PC && p->onset[k] < t1)
			t1 = p->onset[k];
	if (t1 < p->obs0)
		t1 = p->obs0;
	int32_t created = t1 + (int32_t)(v * (last - t1 + 1));
	int prac = person_practice_on(p, created);
	if (prac < 0)
		return;
	uint32_t pam_seq = 0;
	struct plan pl;
	memset(&pl, 0, sizeof pl);
	pl.id = synth_key(w, KEY_PLAN, p->idx, 0);
	memcpy(pl.head, p->head, sizeof pl.head);
	pl.prac = prac;
	pl.created = created;
	plan_emit(c, &pl, last, &pam_seq);
	/* The phantom: another person, on no register, whose plan the practice
	 * records under an NHS number issued to no one (past every person's and,
	 * while yoc link uses them, below the temporary numbers); a name, date of
	 * birth and sex of their own, so nothing links them to this person. */
	uint64_t idx = w->ntotal + ((struct oc *)w->oc)->phantoms;
	int free_idx = idx < w->n999 && (w->ntotal >= w->n999 / 2 || idx < w->n999 / 2);
	int32_t older = 365 + (int32_t)rng_below(r, 3650);
	uint8_t sex = (uint8_t)(1 + rng_below(r, 2));
	if (ph >= RATE_UNREGISTERED * w->defect_scale || !free_idx)
		return;
	((struct oc *)w->oc)->phantoms++;
	struct person q = *p;
	q.idx = idx;
	q.dob = p->dob - older;
	q.sex = sex;
	int by, bm, bd;
	yoc_date_to_ymd(q.dob, &by, &bm, &bd);
	q.dob_y = by;
	q.dob_md = bm * 100 + bd;
	uint32_t prefix = w->nhs999[(w->perm_a * idx + w->perm_b) % w->n999];
	for (int i = 8; i >= 0; i--) {
		q.nhs[i] = (char)('0' + prefix % 10);
		prefix /= 10;
	}
	q.nhs[9] = (char)('0' + yoc_nhsno_check_digit(q.nhs));
	char dob[11];
	yoc_date_format(q.dob, dob);
	snprintf(q.head, sizeof q.head, "%.10s,%.10s,%c", q.nhs, dob, '0' + q.sex);
	memcpy(pl.head, q.head, sizeof pl.head);
	pl.id = synth_key(w, KEY_PLAN, p->idx, 1);
	pl.phantom = 1;
	pl.item_seq = 0;
	c->p = &q;
	plan_emit(c, &pl, last, &pam_seq);
	c->p = p;
}

void synth_outcome_rows(struct emit_ctx *c, const struct ev_spell *sp, int nsp,
			const struct oc_place *pl, int npl)
{
	uint8_t drop = c->drop, copy = c->copy;
	c->drop = c->copy = 0;
	reablement(c, sp, nsp, pl, npl);
	care_plans(c);
	c->drop = drop;
	c->copy = copy;
}

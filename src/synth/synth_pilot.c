/*
** A pilot service in the synthetic economy (docs/synth.md, "A pilot"): the
** pilot file, who enrols, and truth/pilot.csv. Enrolment looks only at the
** person's true state at the start (practice, age, conditions with onset by
** then, emergency admissions in the year before) and one uptake draw from
** the pilot's own stream (seed, STREAM_PILOT, person), so a run without the
** pilot draws exactly what a run with it draws, and differs only in the
** enrolled people's events from their enrolment on (synth_activity.c thins
** or adds those events from the pilot stream). Both sides of the truth come
** from the same run: every event counts toward the pilot world unless the
** pilot removed it, and toward the world without the pilot unless the pilot
** added it (T_ADD), so each enrolled person's effect is known exactly.
*/
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "synth/synth_int.h"

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	return s;
}

static int num(const char *v, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (end == v || *end || errno || !(x >= lo && x <= hi))
		return -1;
	*out = x;
	return 0;
}

int yoc_synth_pilot_parse(const char *text, size_t n, const char *name,
			  struct yoc_synth_pilot *p, struct yoc_error *e)
{
	memset(p, 0, sizeof *p);
	p->start = NEVER;
	p->uptake = 1.0;
	p->m_emergency = p->m_ae = p->m_community = p->m_gp = 1.0;
	char line[4096];
	long ln = 0;
	size_t at = 0;
	while (at < n) {
		const char *nl = memchr(text + at, '\n', n - at);
		size_t len = nl ? (size_t)(nl - (text + at)) : n - at;
		ln++;
		if (len >= sizeof line)
			return yoc_error_set(e, YOC_EPARSE, name, ln, 1, "line too long");
		memcpy(line, text + at, len);
		line[len] = 0;
		at += len + (nl != NULL);
		if (memchr(line, 0, len))
			return yoc_error_set(e, YOC_EPARSE, name, ln, 1, "NUL byte in the line");
		char *h = strchr(line, '#');
		if (h)
			*h = 0;
		char *s = trim(line);
		if (!*s)
			continue;
		char *eq = strchr(s, '=');
		if (!eq)
			return yoc_error_set(e, YOC_EPARSE, name, ln, 1, "expected key = value");
		*eq = 0;
		char *k = trim(s), *v = trim(eq + 1);
		double x = 0;
		int bad = 0;
		if (strcmp(k, "practices") == 0) {
			for (char *t = v; *t;) {
				char *c = strchr(t, ',');
				if (c)
					*c = 0;
				t = trim(t);
				if (*t) {
					if (p->npractices == YOC_PILOT_MAXPRAC || strlen(t) > 7) {
						bad = 1;
						break;
					}
					snprintf(p->practices[p->npractices++], 8, "%s", t);
				}
				if (!c)
					break;
				t = c + 1;
			}
		} else if (strcmp(k, "start") == 0) {
			bad = yoc_date_parse(v, strlen(v), &p->start) != YOC_DATE_VALID;
		} else if (strcmp(k, "min_age") == 0) {
			bad = num(v, 0, 150, &x) || x != (int)x;
			p->min_age = (int)x;
		} else if (strcmp(k, "min_ltc") == 0) {
			bad = num(v, 0, 30, &x) || x != (int)x;
			p->min_ltc = (int)x;
		} else if (strcmp(k, "min_prior_emergency") == 0) {
			bad = num(v, 0, 100, &x) || x != (int)x;
			p->min_prior_emergency = (int)x;
		} else if (strcmp(k, "uptake") == 0) {
			bad = num(v, 0, 1, &p->uptake);
		} else if (strcmp(k, "effect.emergency") == 0) {
			bad = num(v, 0, 1, &p->m_emergency);
		} else if (strcmp(k, "effect.ae") == 0) {
			bad = num(v, 0, 1, &p->m_ae);
		} else if (strcmp(k, "effect.community") == 0) {
			bad = num(v, 0, 20, &p->m_community);
		} else if (strcmp(k, "effect.gp") == 0) {
			bad = num(v, 0, 20, &p->m_gp);
		} else if (strcmp(k, "service_cost") == 0) {
			bad = num(v, 0, 1e6, &x);
			p->service_pence = (int64_t)(x * 100.0 + 0.5);
		} else {
			return yoc_error_set(e, YOC_EPARSE, name, ln, 1,
					     "unknown key '%.60s' (practices, start, min_age, min_ltc, "
					     "min_prior_emergency, uptake, effect.emergency, effect.ae, "
					     "effect.community, effect.gp, service_cost)", k);
		}
		if (bad)
			return yoc_error_set(e, YOC_EPARSE, name, ln, 1, "%.40s: bad value '%.60s'%s", k, v,
					     strncmp(k, "effect.", 7) == 0
					     ? " (emergency and ae at most 1, others 0 to 20)" : "");
	}
	if (p->start == NEVER)
		return yoc_error_set(e, YOC_EPARSE, name, 0, 0, "no start = YYYY-MM-DD");
	return 0;
}

int yoc_synth_pilot_read(const char *path, struct yoc_synth_pilot *p, struct yoc_error *e)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof buf, f);
	int err = ferror(f), more = !err && fgetc(f) != EOF;
	fclose(f);
	if (err)
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "read failed");
	if (more)
		return yoc_error_set(e, YOC_ETOOBIG, path, 0, 0, "a pilot file is at most 64 KiB");
	return yoc_synth_pilot_parse(buf, n, path, p, e);
}

int synth_pilot_init(struct world *w, struct yoc_error *e)
{
	const struct yoc_synth_pilot *pl = w->o->pilot;
	if (pl->start <= w->w0 + 365 || pl->start > w->w1)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
				     "pilot start must be in the window after its first year");
	w->pilot_prac = yoc_calloc(w->nprac ? w->nprac : 1, 1);
	w->tcf = yoc_malloc(sizeof *w->tcf);
	if (!w->pilot_prac || !w->tcf)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	for (uint32_t i = 0; i < w->nprac; i++)
		w->pilot_prac[i] = pl->npractices == 0;
	int found = 0;
	for (int k = 0; k < pl->npractices; k++) {
		uint32_t i = 0;
		while (i < w->nprac && strcmp(w->prac_code[i], pl->practices[k]) != 0)
			i++;
		if (i == w->nprac) {
			w->pilot_missing_prac++; /* a smaller economy: reported by the caller */
			continue;
		}
		w->pilot_prac[i] = 1;
		found++;
	}
	if (pl->npractices && !found)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
				     "none of the pilot's practices is in this economy (P90001..P9%04u)",
				     (unsigned)w->nprac);
	return 0;
}

static const char *const pilot_cols[] = {
	"emergency_admissions", "emergency_bed_days", "bed_days", "cost_total", "cost_nonelective",
	"cost_ae", "cost_community", "cost_gp", "cost_social_care"};
#define NPCOL 9

int synth_pilot_open(struct world *w, const char *dir, struct yoc_error *e)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/truth/pilot.csv", dir);
	int rc = yoc_afile_open(&w->pilotf, path, e);
	if (rc)
		return rc;
	fputs("nhs_number,practice,enrol_date,fyear", w->pilotf.f);
	for (int k = 0; k < NPCOL; k++)
		fprintf(w->pilotf.f, ",%s_without,%s_with", pilot_cols[k], pilot_cols[k]);
	fputs(",service_cost\n", w->pilotf.f);
	return 0;
}

void synth_pilot_enrol(struct world *w, struct person *p, struct emit_ctx *c, int nprior)
{
	const struct yoc_synth_pilot *pl = w->o->pilot;
	int32_t d = pl->start;
	if (d < p->obs0 || d > p->obs1)
		return;
	int prac = person_practice_on(p, d);
	if (prac < 0 || !w->pilot_prac[prac] || person_age(p, d) < pl->min_age ||
	    person_ncond(p, d) < pl->min_ltc || nprior < pl->min_prior_emergency)
		return;
	w->pilot_eligible++;
	rng_seed(&c->pr, w->o->seed, STREAM_PILOT, p->idx);
	if (!(rng_unif(&c->pr) < pl->uptake))
		return;
	w->pilot_enrolled++;
	c->enrol = d;
	memcpy(w->tcf, c->t, sizeof *w->tcf);  /* what has been counted so far: nothing yet */
	c->tcf = w->tcf;
	memset(c->cseq, 0, sizeof c->cseq);
}

static int64_t total(const struct truth_acc *t, int y)
{
	int64_t s = 0;
	for (int k = 0; k < NSETTING; k++)
		s += t->cost[y][k];
	return s;
}

static void money(FILE *f, int64_t pence)
{
	fprintf(f, ",%s%lld.%02lld", pence < 0 ? "-" : "", (long long)(llabs(pence) / 100),
		(long long)(llabs(pence) % 100));
}

int synth_pilot_write(struct world *w, const struct person *p, const struct emit_ctx *c,
		      struct yoc_error *e)
{
	const struct truth_acc *a = c->tcf, *b = c->t;
	char ds[16];
	yoc_date_format(c->enrol, ds);
	FILE *f = w->pilotf.f;
	for (int y = world_fyear(w, c->enrol); y >= 0 && y < w->years; y++) {
		int32_t fs = w->fstart[y], fe = w->fstart[y + 1] - 1;
		int32_t d0 = c->enrol > fs ? c->enrol : fs, d1 = p->obs1 < fe ? p->obs1 : fe;
		if (d1 < d0)
			break;
		int prac = person_practice_on(p, d0);
		fprintf(f, "%.10s,%s,%s,%d/%02d,%d,%d,%d,%d,%d,%d", p->nhs,
			prac >= 0 ? w->prac_code[prac] : "", ds, w->first_year + y,
			(w->first_year + y + 1) % 100, a->emergency[y], b->emergency[y],
			a->emergency_bed_days[y], b->emergency_bed_days[y], a->bed_days[y],
			b->bed_days[y]);
		money(f, total(a, y));
		money(f, total(b, y));
		static const int set[5] = {S_NONELECTIVE, S_AE, S_COMMUNITY, S_GP, S_SOCIAL};
		for (int k = 0; k < 5; k++) {
			money(f, a->cost[y][set[k]]);
			money(f, b->cost[y][set[k]]);
		}
		money(f, w->o->pilot->service_pence * (int64_t)(d1 - d0 + 1) / (fe - fs + 1));
		fputc('\n', f);
	}
	(void)e;
	return 0;
}

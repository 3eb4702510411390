/*
** The scenario file (docs/simulation.md, format yoc-scenario-1; JSON Schema
** data/scenario.schema.json). jansson parses the JSON and reports syntax
** errors by line and column; the checks here then name the field by its
** path and its line, found by a small scan of the text that records where
** each key starts (jansson keeps no positions once parsed). Every unknown
** key, setting and staff group is listed in one message. Nothing here runs
** the simulation or reads the dataset.
*/
#include <jansson.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "sim/sim.h"
#include "yoc/io.h"

const char *const yoc_sim_eff_name[SE_N] = {
	"emergency_admissions", "length_of_stay", "ae", "outpatients", "community",
	"mental_health", "gp", "social_care", "elective", "daycase", "ambulance",
	"other_nonelective"};

const char *const yoc_sim_staff_names[] = {
	"gp", "practice_nurse", "district_nurse", "community_matron", "care_coordinator",
	"social_worker", "consultant", "ward_nursing", "mental_health_nurse", NULL};

#define MAXKEYS 512
#define MAXSCENARIO (1 << 20)

/* Where each key of the text starts: "effects.gp" -> line. */
struct keypos {
	int n;
	char path[MAXKEYS][96];
	long line[MAXKEYS];
};

/*
** Scans JSON text (already known to parse) and records the line of every
** object key by its dotted path; array elements are "[i]". Paths longer
** than the buffer are cut (they only name a line).
*/
static void scan_keys(const char *t, size_t n, struct keypos *kp)
{
	struct {
		int arr;
		int idx;
		size_t len; /* path length before this container's part */
	} st[64];
	int depth = 0;
	char path[96] = "";
	size_t plen = 0;
	long line = 1;
	int expect_key = 0;
	kp->n = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = t[i];
		if (ch == '\n') {
			line++;
			continue;
		}
		if (ch == '{' || ch == '[') {
			if (depth < 64) {
				st[depth].arr = ch == '[';
				st[depth].idx = 0;
				st[depth].len = plen;
				if (ch == '[') {
					int w = snprintf(path + plen, sizeof path - plen, "[0]");
					if (w > 0 && plen + (size_t)w < sizeof path)
						plen += (size_t)w;
				}
			}
			depth++;
			expect_key = ch == '{';
			continue;
		}
		if (ch == '}' || ch == ']') {
			depth--;
			if (depth >= 0 && depth < 64) {
				plen = st[depth].len;
				path[plen] = 0;
			}
			continue;
		}
		if (ch == ',') {
			if (depth > 0 && depth <= 64) {
				int d = depth - 1;
				plen = st[d].len;
				path[plen] = 0;
				if (st[d].arr) {
					st[d].idx++;
					int w = snprintf(path + plen, sizeof path - plen, "[%d]",
							 st[d].idx);
					if (w > 0 && plen + (size_t)w < sizeof path)
						plen += (size_t)w;
				} else {
					expect_key = 1;
				}
			}
			continue;
		}
		if (ch == '"') {
			size_t j = i + 1;
			while (j < n && t[j] != '"') {
				if (t[j] == '\\')
					j++;
				j++;
			}
			if (expect_key && depth > 0 && depth <= 64 && !st[depth - 1].arr) {
				size_t base = st[depth - 1].len;
				size_t klen = j - i - 1;
				plen = base;
				if (plen && plen < sizeof path - 1)
					path[plen++] = '.';
				if (klen > sizeof path - 1 - plen)
					klen = sizeof path - 1 - plen;
				memcpy(path + plen, t + i + 1, klen);
				plen += klen;
				path[plen] = 0;
				if (kp->n < MAXKEYS) {
					snprintf(kp->path[kp->n], sizeof kp->path[0], "%s", path);
					kp->line[kp->n++] = line;
				}
				expect_key = 0;
			}
			i = j;
		}
	}
}

/* The line of path, else of its nearest parent; 1 if none. */
static long line_of(const struct keypos *kp, const char *path)
{
	char p[96];
	snprintf(p, sizeof p, "%s", path);
	for (;;) {
		for (int i = 0; i < kp->n; i++)
			if (!strcmp(kp->path[i], p))
				return kp->line[i];
		char *dot = strrchr(p, '.'), *br = strrchr(p, '[');
		char *cut = dot > br ? dot : br;
		if (!cut)
			return 1;
		*cut = 0;
	}
}

struct pctx {
	const char *name;
	struct keypos kp;
	struct yoc_error *e;
};

static int fail(struct pctx *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct pctx *c, const char *path, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return yoc_error_set(c->e, YOC_EPARSE, c->name, line_of(&c->kp, path), 0, "%s: %s",
			     path, msg);
}

static int index_of(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

/* Lists the keys of obj not among allowed into buf ("a, b"); their count. */
static int unknown_keys(json_t *obj, const char *const *allowed, int nallowed, char *buf,
			size_t cap, const char **first)
{
	const char *k;
	json_t *v;
	int nbad = 0;
	buf[0] = 0;
	json_object_foreach(obj, k, v)
	{
		if (index_of(k, allowed, nallowed) >= 0)
			continue;
		size_t l = strlen(buf);
		snprintf(buf + l, cap - l, "%s%s", nbad ? ", " : "", k);
		if (!nbad)
			*first = k;
		nbad++;
	}
	return nbad;
}

/* A number, {"low": a, "high": b} or {"mean": m, "sd": s}, within [lo, hi]. */
static int read_uval(struct pctx *c, json_t *v, const char *path, double lo, double hi,
		     struct yoc_uval *u)
{
	char sub[128];
	if (json_is_number(v)) {
		double x = json_number_value(v);
		if (!(x >= lo && x <= hi))
			return fail(c, path, "%g is outside %g .. %g", x, lo, hi);
		u->kind = YOC_UV_FIXED;
		u->a = u->b = x;
		return 0;
	}
	if (!json_is_object(v))
		return fail(c, path,
			    "expected a number, {\"low\": L, \"high\": H} or {\"mean\": M, \"sd\": S}");
	json_t *l = json_object_get(v, "low"), *h = json_object_get(v, "high");
	json_t *m = json_object_get(v, "mean"), *s = json_object_get(v, "sd");
	static const char *const keys[] = {"low", "high", "mean", "sd"};
	char bad[256];
	const char *first = NULL;
	if (unknown_keys(v, keys, 4, bad, sizeof bad, &first)) {
		snprintf(sub, sizeof sub, "%s.%s", path, first);
		return fail(c, sub, "unknown key(s) %s; expected low and high, or mean and sd", bad);
	}
	if (l || h) {
		if (!json_is_number(l) || !json_is_number(h) || m || s)
			return fail(c, path, "a range needs numbers low and high, nothing else");
		u->kind = YOC_UV_UNIFORM;
		u->a = json_number_value(l);
		u->b = json_number_value(h);
		if (!(u->a <= u->b))
			return fail(c, path, "low %g is above high %g", u->a, u->b);
		if (!(u->a >= lo && u->b <= hi))
			return fail(c, path, "range %g .. %g is outside %g .. %g", u->a, u->b, lo, hi);
		return 0;
	}
	if (!json_is_number(m) || !json_is_number(s))
		return fail(c, path, "a distribution needs numbers mean and sd");
	u->kind = YOC_UV_NORMAL;
	u->a = json_number_value(m);
	u->b = json_number_value(s);
	if (!(u->b >= 0))
		return fail(c, path, "sd %g is negative", u->b);
	if (!(u->a >= lo && u->a <= hi))
		return fail(c, path, "mean %g is outside %g .. %g", u->a, lo, hi);
	return 0;
}

static const char *const top_keys[] = {"format", "name", "description", "cohorts", "rule",
				       "uptake", "ramp", "effects", "shifts", "service_cost",
				       "bed_day_cost", "workforce"};
#define NTOP ((int)(sizeof top_keys / sizeof top_keys[0]))

static int check(struct pctx *c, json_t *root, struct yoc_scenario *s)
{
	char bad[400], path[128];
	const char *first = NULL;
	if (!json_is_object(root))
		return yoc_error_set(c->e, YOC_EPARSE, c->name, 1, 1,
				     "a scenario is a JSON object");
	if (unknown_keys(root, top_keys, NTOP, bad, sizeof bad, &first))
		return fail(c, first, "unknown setting(s): %s", bad);
	json_t *v = json_object_get(root, "format");
	if (!json_is_string(v))
		return yoc_error_set(c->e, YOC_EPARSE, c->name, 1, 0,
				     "format: missing; the first key is \"format\": \"%s\"",
				     YOC_SCENARIO_FORMAT);
	if (strcmp(json_string_value(v), YOC_SCENARIO_FORMAT))
		return fail(c, "format", "'%s' is not a format this yoc reads (%s)",
			    json_string_value(v), YOC_SCENARIO_FORMAT);
	v = json_object_get(root, "name");
	if (!json_is_string(v) || !json_string_value(v)[0])
		return yoc_error_set(c->e, YOC_EPARSE, c->name, 1, 0, "name: missing or empty");
	snprintf(s->name, sizeof s->name, "%s", json_string_value(v));
	json_t *co = json_object_get(root, "cohorts"), *ru = json_object_get(root, "rule");
	if ((co != NULL) == (ru != NULL))
		return fail(c, co ? "rule" : "name",
			    "give either cohorts (risk cohorts enrolled) or rule (a cohort by rule), one of them");
	if (co) {
		if (!json_is_array(co) || json_array_size(co) == 0 ||
		    json_array_size(co) > YOC_SIM_MAX_COHORTS)
			return fail(c, "cohorts", "expected a list of 1 to %d cohort labels",
				    YOC_SIM_MAX_COHORTS);
		size_t i;
		json_t *x;
		json_array_foreach(co, i, x)
		{
			snprintf(path, sizeof path, "cohorts[%zu]", i);
			if (!json_is_string(x) || strlen(json_string_value(x)) >= 32)
				return fail(c, path, "expected a cohort label such as \"0-0.5\"");
			snprintf(s->enrol[s->nenrol++], 32, "%s", json_string_value(x));
		}
	} else {
		if (!json_is_string(ru) || !json_string_value(ru)[0])
			return fail(c, "rule", "expected the text of a rule (docs/rules.md)");
		s->rule = yoc_malloc(strlen(json_string_value(ru)) + 1);
		if (!s->rule)
			return yoc_error_set(c->e, YOC_ENOMEM, c->name, 0, 0, "out of memory");
		memcpy(s->rule, json_string_value(ru), strlen(json_string_value(ru)) + 1);
	}
	int rc;
	s->uptake = (struct yoc_uval){YOC_UV_FIXED, 1, 1};
	if ((v = json_object_get(root, "uptake")) && (rc = read_uval(c, v, "uptake", 0, 1, &s->uptake)))
		return rc;
	s->nramp = YOC_SIM_MAX_YEARS;
	for (int y = 0; y < YOC_SIM_MAX_YEARS; y++)
		s->ramp[y] = 1;
	if ((v = json_object_get(root, "ramp"))) {
		if (!json_is_array(v) || json_array_size(v) == 0 ||
		    json_array_size(v) > YOC_SIM_MAX_YEARS)
			return fail(c, "ramp", "expected a list of 1 to %d shares (0 .. 1), one a year",
				    YOC_SIM_MAX_YEARS);
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
		{
			snprintf(path, sizeof path, "ramp[%zu]", i);
			if (!json_is_number(x) || json_number_value(x) < 0 || json_number_value(x) > 1)
				return fail(c, path, "expected a share between 0 and 1");
			s->ramp[i] = json_number_value(x);
		}
		/* later years keep the last share */
		for (size_t y = json_array_size(v); y < YOC_SIM_MAX_YEARS; y++)
			s->ramp[y] = s->ramp[json_array_size(v) - 1];
	}
	for (int k = 0; k < SE_N; k++)
		s->eff[k] = (struct yoc_uval){YOC_UV_FIXED, 1, 1};
	if ((v = json_object_get(root, "effects"))) {
		if (!json_is_object(v))
			return fail(c, "effects", "expected an object of setting: multiplier");
		if (unknown_keys(v, yoc_sim_eff_name, SE_N, bad, sizeof bad, &first)) {
			snprintf(path, sizeof path, "effects.%s", first);
			return fail(c, path, "unknown setting(s): %s (known: emergency_admissions, length_of_stay, ae, outpatients, community, mental_health, gp, social_care, elective, daycase, ambulance, other_nonelective)",
				    bad);
		}
		const char *k;
		json_t *x;
		json_object_foreach(v, k, x)
		{
			int i = index_of(k, yoc_sim_eff_name, SE_N);
			snprintf(path, sizeof path, "effects.%s", k);
			if ((rc = read_uval(c, x, path, 0, 100, &s->eff[i])))
				return rc;
			s->neff_set++;
		}
	}
	if ((v = json_object_get(root, "shifts"))) {
		if (!json_is_array(v) || json_array_size(v) > YOC_SIM_MAX_SHIFTS)
			return fail(c, "shifts", "expected a list of at most %d shifts",
				    YOC_SIM_MAX_SHIFTS);
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
		{
			snprintf(path, sizeof path, "shifts[%zu]", i);
			if (!json_is_object(x))
				return fail(c, path, "expected {\"from\": S, \"to\": T, \"share\": X}");
			static const char *const sk[] = {"from", "to", "share"};
			if (unknown_keys(x, sk, 3, bad, sizeof bad, &first)) {
				snprintf(path, sizeof path, "shifts[%zu].%s", i, first);
				return fail(c, path, "unknown key(s) %s; expected from, to, share", bad);
			}
			struct yoc_sim_shift *sh = &s->shift[s->nshift];
			const char *fk[2] = {"from", "to"};
			int *dst[2] = {&sh->from, &sh->to};
			for (int j = 0; j < 2; j++) {
				json_t *f = json_object_get(x, fk[j]);
				snprintf(path, sizeof path, "shifts[%zu].%s", i, fk[j]);
				int id = json_is_string(f)
						 ? index_of(json_string_value(f), yoc_sim_eff_name, SE_N)
						 : -1;
				if (id < 0 || id == SE_LENGTH_OF_STAY)
					return fail(c, path, "unknown setting '%s'",
						    json_is_string(f) ? json_string_value(f) : "(none)");
				*dst[j] = id;
			}
			json_t *sv = json_object_get(x, "share");
			snprintf(path, sizeof path, "shifts[%zu].share", i);
			if (!sv)
				return fail(c, path, "missing");
			if ((rc = read_uval(c, sv, path, 0, 10, &sh->share)))
				return rc;
			s->nshift++;
		}
	}
	s->service_cost = (struct yoc_uval){YOC_UV_FIXED, 0, 0};
	if ((v = json_object_get(root, "service_cost")) &&
	    (rc = read_uval(c, v, "service_cost", 0, 1e7, &s->service_cost)))
		return rc;
	s->bed_day_cost = 0;
	if ((v = json_object_get(root, "bed_day_cost"))) {
		if (!json_is_number(v) || json_number_value(v) < 0)
			return fail(c, "bed_day_cost", "expected pounds (a number >= 0)");
		s->bed_day_cost = json_number_value(v);
	}
	s->coordinator_contacts = 0;
	if ((v = json_object_get(root, "workforce"))) {
		if (!json_is_object(v))
			return fail(c, "workforce", "expected an object of staff group: settings");
		int nnames = 0;
		while (yoc_sim_staff_names[nnames])
			nnames++;
		if (unknown_keys(v, yoc_sim_staff_names, nnames, bad, sizeof bad, &first)) {
			snprintf(path, sizeof path, "workforce.%s", first);
			return fail(c, path, "unknown staff group(s): %s (known: gp, practice_nurse, district_nurse, community_matron, care_coordinator, social_worker, consultant, ward_nursing, mental_health_nurse)",
				    bad);
		}
		const char *k;
		json_t *x;
		json_object_foreach(v, k, x)
		{
			snprintf(path, sizeof path, "workforce.%s", k);
			json_t *cp = json_is_object(x) ? json_object_get(x, "contacts_per_person") : NULL;
			if (!json_is_object(x) || json_object_size(x) != 1 || !json_is_number(cp) ||
			    json_number_value(cp) < 0)
				return fail(c, path,
					    "expected {\"contacts_per_person\": N} (N >= 0: the service's own contacts per enrolled person-year)");
			if (strcmp(k, "care_coordinator"))
				return fail(c, path, "only care_coordinator has service contacts; other groups follow the activity");
			s->coordinator_contacts = json_number_value(cp);
		}
	}
	return 0;
}

int yoc_scenario_parse(const char *text, size_t n, const char *name, struct yoc_scenario *s,
		       struct yoc_error *e)
{
	memset(s, 0, sizeof *s);
	snprintf(s->path, sizeof s->path, "%s", name);
	struct pctx *c = yoc_calloc(1, sizeof *c);
	if (!c)
		return yoc_error_set(e, YOC_ENOMEM, name, 0, 0, "out of memory");
	c->name = name;
	c->e = e;
	int rc = 0;
	json_error_t je;
	json_t *root = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		rc = yoc_error_set(e, YOC_EPARSE, name, je.line > 0 ? je.line : 0,
				   je.column > 0 ? je.column : 0, "%s", je.text);
		goto cleanup;
	}
	scan_keys(text, n, &c->kp);
	rc = check(c, root, s);
	if (!rc) {
		unsigned char md[32];
		unsigned int mdlen = 0;
		if (EVP_Digest(text, n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
			rc = yoc_error_set(e, YOC_EINTERNAL, name, 0, 0, "SHA-256 failed");
			goto cleanup;
		}
		for (int i = 0; i < 32; i++)
			snprintf(s->sha256 + 2 * i, 3, "%02x", md[i]);
	}
cleanup:
	json_decref(root);
	yoc_free(c);
	if (rc)
		yoc_scenario_free(s);
	return rc;
}

int yoc_scenario_read(const char *path, struct yoc_scenario *s, struct yoc_error *e)
{
	memset(s, 0, sizeof *s);
	char *text = NULL;
	size_t n = 0;
	int rc = yoc_read_file(path, MAXSCENARIO, &text, &n, e);
	if (!rc)
		rc = yoc_scenario_parse(text ? text : "", n, path, s, e);
	yoc_free(text);
	return rc;
}

void yoc_scenario_free(struct yoc_scenario *s)
{
	if (!s)
		return;
	yoc_free(s->rule);
	s->rule = NULL;
}

int yoc_scenario_is_null(const struct yoc_scenario *s)
{
	for (int k = 0; k < SE_N; k++)
		if (s->eff[k].kind != YOC_UV_FIXED || s->eff[k].a != 1)
			return 0;
	return s->nshift == 0 && s->service_cost.kind == YOC_UV_FIXED && s->service_cost.a == 0;
}

/*
** What the simulation learns from the dataset (docs/simulation.md, "The
** model"): the base population with its risk cohorts, and the observed
** transitions of every person between consecutive analysed years up to the
** base year. A transition (a "donor") is what happened to one person from
** year s to s+1: stayed with next year's activity, died in s+1 (with the
** activity of the year of death), or moved away (no row in s+1), and the
** conditions gained. Donors are grouped by the cell of their year-s state
** (age band, sex, LTC band, cost state), at four levels of detail, so the
** engine can draw a similar person's next year. Joiners (a row in s+1 but
** not in s) give the rate and the first-year activity of people moving in.
**
** Years are read one at a time with SQL (person_year has no index; a scan
** per year), sorted by the 64-bit hash of the pseudonym and merged. The
** dataset hash is SHA-256 over every row read, in the table's order.
** Nothing here draws random numbers.
*/
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule/rule.h"
#include "sim/sim.h"

const char *const yoc_sim_act_name[SA_N] = {
	"elective", "emergency", "other_nonelective", "daycase", "outpatient", "ae",
	"community", "mh", "gp", "social_care", "ambulance",
	"emergency_admissions", "emergency_bed_days", "mh_bed_days"};

#define MIN_DONORS 30

struct row {
	uint64_t key;
	float act[SA_N];
	float cost;
	uint8_t age, sex, ltc, died;
	int32_t rank; /* risk_score rank of the base year, else 0 */
};

struct year {
	size_t n;
	struct row *r;
};

int yoc_sim_age_band(int age)
{
	return age < 18 ? 0 : age < 45 ? 1 : age < 65 ? 2 : age < 75 ? 3 : age < 85 ? 4 : 5;
}

int yoc_sim_ltc_band(int ltc)
{
	return ltc <= 0 ? 0 : ltc == 1 ? 1 : ltc == 2 ? 2 : ltc <= 4 ? 3 : 4;
}

int yoc_sim_cstate(const struct yoc_sim_data *d, double cost)
{
	if (!(cost > 0))
		return 0;
	int k = 1;
	for (int i = 0; i < YOC_SIM_NCST - 2; i++)
		k += cost >= d->cost_cut[i];
	return k;
}

static int cell_of(int level, int age, int sex, int ltc, int cst)
{
	int a = yoc_sim_age_band(age), l = yoc_sim_ltc_band(ltc);
	switch (level) {
	case 0:
		return ((a * 2 + sex) * YOC_SIM_NLTC + l) * YOC_SIM_NCST + cst;
	case 1:
		return (a * YOC_SIM_NLTC + l) * YOC_SIM_NCST + cst;
	case 2:
		return l * YOC_SIM_NCST + cst;
	default:
		return cst;
	}
}

static int key_cmp(const void *x, const void *y)
{
	uint64_t a = ((const struct row *)x)->key, b = ((const struct row *)y)->key;
	return a < b ? -1 : a > b;
}

static int u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static int flt_cmp(const void *x, const void *y)
{
	float a = *(const float *)x, b = *(const float *)y;
	return a < b ? -1 : a > b;
}

struct cuts {
	double c[YOC_SIM_NCST - 2];
};
struct level {
	double l[SA_N];
};

static int cstate_of(const double *cut, double cost)
{
	if (!(cost > 0))
		return 0;
	int k = 1;
	for (int i = 0; i < YOC_SIM_NCST - 2; i++)
		k += cost >= cut[i];
	return k;
}

/* The year's cost state boundaries: quantiles of the positive costs of the
 * people who did not die in it; buf holds y->n floats. Returns their count. */
static size_t year_cuts(const struct year *y, float *buf, double *cut)
{
	static const double q[YOC_SIM_NCST - 2] = {0.2, 0.4, 0.6, 0.8, 0.9, 0.95, 0.98, 0.995};
	size_t n = 0;
	for (size_t j = 0; j < y->n; j++)
		if (!y->r[j].died && y->r[j].cost > 0)
			buf[n++] = y->r[j].cost;
	if (n == 0) {
		for (int k = 0; k < YOC_SIM_NCST - 2; k++)
			cut[k] = 1e300;
		return 0;
	}
	qsort(buf, n, sizeof *buf, flt_cmp);
	for (int k = 0; k < YOC_SIM_NCST - 2; k++)
		cut[k] = buf[(size_t)(q[k] * (double)(n - 1))];
	return n;
}

/* The year's level: mean of each activity value per person-year. */
static void year_level(const struct year *y, double *l)
{
	for (int k = 0; k < SA_N; k++)
		l[k] = 0;
	for (size_t j = 0; j < y->n; j++)
		for (int k = 0; k < SA_N; k++)
			l[k] += y->r[j].act[k];
	for (int k = 0; k < SA_N; k++)
		l[k] = y->n ? l[k] / (double)y->n : 0;
}

/* Donor activity of year t brought to the base year's level, per value. */
static void to_level(struct yoc_sim_donor *dn, const double *lt, const double *lb)
{
	for (int k = 0; k < SA_N; k++)
		if (lt[k] > 0)
			dn->act[k] = (float)(dn->act[k] * (lb[k] / lt[k]));
}

static struct row *find(const struct year *y, uint64_t key)
{
	size_t lo = 0, hi = y->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (y->r[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < y->n && y->r[lo].key == key ? &y->r[lo] : NULL;
}

static const char sql_year[] =
	"SELECT pseudo_id, age, sex, ltc_count, died, cost_total, cost_elective, cost_emergency,"
	" cost_other_nonelective, cost_daycase, cost_outpatient, cost_ae, cost_community,"
	" cost_mh, cost_gp, cost_social_care, cost_ambulance, emergency_admissions,"
	" emergency_bed_days, mh_bed_days FROM person_year WHERE fyear = ?1";

static void fyear_text(int y, char *b, size_t cap)
{
	snprintf(b, cap, "%d/%02d", y, (y + 1) % 100);
}

static int read_year(sqlite3 *db, int fy, struct year *y, EVP_MD_CTX *md, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	char fyt[16];
	fyear_text(fy, fyt, sizeof fyt);
	size_t cap = 0;
	int rc = 0;
	y->n = 0;
	y->r = NULL;
	if (sqlite3_prepare_v2(db, sql_year, -1, &st, NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EDATA, "yoc.db", 0, 0, "person_year: %s (run yoc analyse)",
				   sqlite3_errmsg(db));
		goto cleanup;
	}
	sqlite3_bind_text(st, 1, fyt, -1, SQLITE_STATIC);
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (y->n == cap) {
			size_t nc = cap ? cap * 2 : 65536;
			struct row *nr = yoc_realloc(y->r, nc * sizeof *nr);
			if (!nr) {
				rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
				goto cleanup;
			}
			y->r = nr;
			cap = nc;
		}
		struct row *r = &y->r[y->n++];
		memset(r, 0, sizeof *r);
		const unsigned char *pid = sqlite3_column_text(st, 0);
		int plen = sqlite3_column_bytes(st, 0);
		r->key = yoc_hash64(pid, (size_t)plen, 0x73696d);
		int64_t v[20];
		for (int c = 1; c < 20; c++)
			v[c] = sqlite3_column_int64(st, c);
		const unsigned char *sx = sqlite3_column_text(st, 2);
		int female = sx && (sx[0] == '2' || sx[0] == 'F');
		r->age = (uint8_t)(sqlite3_column_type(st, 1) == SQLITE_NULL ? 50
				   : v[1] < 0 ? 0 : v[1] > 120 ? 120 : v[1]);
		r->sex = female ? 0 : 1;
		r->ltc = (uint8_t)(v[3] > 60 ? 60 : v[3] < 0 ? 0 : v[3]);
		r->died = v[4] != 0;
		r->cost = (float)(v[5] / 100.0);
		for (int k = 0; k < SA_NCOST; k++)
			r->act[k] = (float)(v[6 + k] / 100.0);
		r->act[SA_EM_ADM] = (float)v[17];
		r->act[SA_EM_BED_DAYS] = (float)v[18];
		r->act[SA_MH_BED_DAYS] = (float)v[19];
		if (md) {
			EVP_DigestUpdate(md, pid, (size_t)plen);
			EVP_DigestUpdate(md, fyt, strlen(fyt));
			EVP_DigestUpdate(md, v + 1, sizeof(int64_t) * 19);
		}
	}
	if (s != SQLITE_DONE) {
		rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "person_year: %s", sqlite3_errmsg(db));
		goto cleanup;
	}
	qsort(y->r, y->n, sizeof *y->r, key_cmp);
cleanup:
	sqlite3_finalize(st);
	return rc;
}

/* Analysed years (start years), ascending, into ys; their count. */
static int list_years(sqlite3 *db, int *ys, int cap, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int n = 0;
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT fyear FROM person_year ORDER BY fyear", -1, &st,
			       NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return yoc_error_set(e, YOC_ENOTFOUND, "yoc.db", 0, 0,
				     "no person_year table: run yoc analyse first");
	}
	while (sqlite3_step(st) == SQLITE_ROW && n < cap) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		if (t)
			ys[n++] = (int)strtol((const char *)t, NULL, 10); /* "2022/23" -> 2022 */
	}
	sqlite3_finalize(st);
	return n;
}

static int read_ranks(sqlite3 *db, int fy, struct year *y, size_t *nscored, struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	char fyt[16];
	fyear_text(fy, fyt, sizeof fyt);
	*nscored = 0;
	if (sqlite3_prepare_v2(db, "SELECT pseudo_id, rank FROM risk_score WHERE fyear = ?1", -1,
			       &st, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return yoc_error_set(e, YOC_ENOTFOUND, "yoc.db", 0, 0,
				     "no risk scores: run yoc risk fit and yoc risk score --year %s first",
				     fyt);
	}
	sqlite3_bind_text(st, 1, fyt, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *pid = sqlite3_column_text(st, 0);
		uint64_t k = yoc_hash64(pid, (size_t)sqlite3_column_bytes(st, 0), 0x73696d);
		struct row *r = find(y, k);
		if (r)
			r->rank = (int32_t)sqlite3_column_int64(st, 1);
		(*nscored)++;
	}
	sqlite3_finalize(st);
	if (*nscored == 0)
		return yoc_error_set(e, YOC_ENOTFOUND, "yoc.db", 0, 0,
				     "no risk scores for %s: run yoc risk score --year %s first", fyt,
				     fyt);
	return 0;
}

/* The keys of the people the rule selects in the base year, sorted. */
static int rule_keys(sqlite3 *db, int fy, const char *text, uint64_t **out, size_t *nout,
		     struct yoc_error *e)
{
	yoc_rule_schema *sc = NULL;
	yoc_rule *r = NULL;
	yoc_rule_frame *f = NULL;
	struct yoc_rule_result res;
	memset(&res, 0, sizeof res);
	char fyt[16];
	fyear_text(fy, fyt, sizeof fyt);
	*out = NULL;
	*nout = 0;
	int rc = yoc_rule_schema_load(db, &sc, e);
	if (!rc && (rc = yoc_rule_compile(text, sc, &r, e)))
		yoc_error_set(e, rc, "rule", 1, e->col, "scenario rule: %s", e->msg);
	if (!rc)
		rc = yoc_rule_frame_load(db, fyt, &r, 1, &f, e);
	if (!rc)
		rc = yoc_rule_eval(r, f, &res, e);
	if (rc)
		goto cleanup;
	*out = yoc_malloc((res.nselected ? res.nselected : 1) * sizeof **out);
	if (!*out) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < res.nrows; i++)
		if (yoc_rule_bit(res.selected, i)) {
			const char *p = yoc_rule_frame_pseudo(f, i);
			(*out)[(*nout)++] = yoc_hash64(p, strlen(p), 0x73696d);
		}
	qsort(*out, *nout, sizeof **out, u64_cmp);
cleanup:
	yoc_rule_result_free(&res);
	yoc_rule_frame_free(f);
	yoc_rule_free(r);
	yoc_rule_schema_free(sc);
	return rc;
}

static void donor_of(struct yoc_sim_donor *dn, const struct row *a, const struct row *b)
{
	memset(dn, 0, sizeof *dn);
	if (!b) {
		dn->outcome = 2;
		return;
	}
	memcpy(dn->act, b->act, sizeof dn->act);
	dn->outcome = b->died ? 1 : 0;
	int dl = (int)b->ltc - (int)(a ? a->ltc : 0);
	dn->dltc = (int8_t)(dl < -20 ? -20 : dl > 20 ? 20 : dl);
}

/* An enrolled person's key and their index in the caller's list. */
struct ekey {
	uint64_t key;
	size_t i;
};

static int ekey_cmp(const void *x, const void *y)
{
	const struct ekey *a = x, *b = y;
	return a->key < b->key ? -1 : a->key > b->key;
}

/* The enrolled list: each id's key, sorted; its copy and status in d. */
static int enrol_keys(const char *const *ids, size_t nids, struct ekey **out,
		      struct yoc_sim_data *d, struct yoc_error *e)
{
	*out = yoc_malloc((nids ? nids : 1) * sizeof **out);
	d->enrol_id = yoc_calloc(nids ? nids : 1, sizeof *d->enrol_id);
	d->enrol_status = yoc_calloc(nids ? nids : 1, 1);
	if (!*out || !d->enrol_id || !d->enrol_status)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	for (size_t i = 0; i < nids; i++) {
		snprintf(d->enrol_id[i], sizeof d->enrol_id[0], "%s", ids[i]);
		(*out)[i].key = yoc_hash64(ids[i], strlen(ids[i]), 0x73696d);
		(*out)[i].i = i;
		d->enrol_status[i] = YOC_SIM_ENROL_NOT_FOUND;
	}
	d->nenrol_id = nids;
	qsort(*out, nids, sizeof **out, ekey_cmp);
	return 0;
}

static int load(sqlite3 *db, int base_year, const double *cuts, int ncut, const char *rule,
		const char *const *ids, size_t nids, struct yoc_sim_data *d, struct yoc_error *e);

int yoc_sim_data_load(sqlite3 *db, int base_year, const double *cuts, int ncut,
		      const char *rule, struct yoc_sim_data *d, struct yoc_error *e)
{
	return load(db, base_year, cuts, ncut, rule, NULL, 0, d, e);
}

int yoc_sim_data_load_enrolled(sqlite3 *db, int base_year, const char *const *ids, size_t nids,
			       struct yoc_sim_data *d, struct yoc_error *e)
{
	static const double all[1] = {100};
	if (base_year == 0 || nids == 0) {
		memset(d, 0, sizeof *d);
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
				     "an enrolled cohort needs its base year and at least one person");
	}
	return load(db, base_year, all, 1, NULL, ids, nids, d, e);
}

static int load(sqlite3 *db, int base_year, const double *cuts, int ncut, const char *rule,
		const char *const *ids, size_t nids, struct yoc_sim_data *d, struct yoc_error *e)
{
	memset(d, 0, sizeof *d);
	struct ekey *ek = NULL;
	int ys[64];
	struct year yr[64];
	memset(yr, 0, sizeof yr);
	uint64_t *sel = NULL;
	size_t nsel = 0;
	float *pos = NULL;
	struct cuts *cuts_y = NULL;
	struct level *level = NULL;
	uint32_t *srcstate = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc = 0;
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		rc = yoc_error_set(e, YOC_EINTERNAL, NULL, 0, 0, "SHA-256 unavailable");
		goto cleanup;
	}
	if (ncut < 1 || ncut >= YOC_SIM_MAX_COHORTS) {
		rc = yoc_error_set(e, YOC_EINVAL, NULL, 0, 0, "1 to %d cohort cuts",
				   YOC_SIM_MAX_COHORTS - 1);
		goto cleanup;
	}
	int ny = list_years(db, ys, 64, e);
	if (ny < 0) {
		rc = ny;
		goto cleanup;
	}
	if (base_year == 0) {
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(db, "SELECT max(fyear) FROM risk_score", -1, &st, NULL) ==
			    SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
			base_year = (int)strtol((const char *)sqlite3_column_text(st, 0), NULL, 10);
		sqlite3_finalize(st);
		if (base_year == 0) {
			rc = yoc_error_set(e, YOC_ENOTFOUND, "yoc.db", 0, 0,
					   "no risk scores: run yoc risk fit and yoc risk score first");
			goto cleanup;
		}
	}
	int bi = -1;
	for (int i = 0; i < ny; i++)
		if (ys[i] == base_year)
			bi = i;
	if (bi < 0) {
		rc = yoc_error_set(e, YOC_ENOTFOUND, "yoc.db", 0, 0,
				   "%d/%02d is not an analysed year", base_year, (base_year + 1) % 100);
		goto cleanup;
	}
	if (bi == 0) {
		rc = yoc_error_set(e, YOC_EDATA, "yoc.db", 0, 0,
				   "the base year needs an analysed year before it: its transitions are what the model learns");
		goto cleanup;
	}
	d->base_year = base_year;
	int last = bi + 1 < ny && ys[bi + 1] == base_year + 1 ? bi + 1 : bi;
	for (int i = 0; i <= last; i++)
		if ((rc = read_year(db, ys[i], &yr[i], i <= bi ? md : NULL, e)))
			goto cleanup;
	size_t nscored = 0;
	if (ids && (rc = enrol_keys(ids, nids, &ek, d, e)))
		goto cleanup;
	if (!ids && (rc = read_ranks(db, base_year, &yr[bi], &nscored, e)))
		goto cleanup;
	if (rule && (rc = rule_keys(db, base_year, rule, &sel, &nsel, e)))
		goto cleanup;

	/* cost states: each year's own quantiles of its positive costs, so a
	 * state is a rank within the year and a change in the level of cost
	 * between years does not move people between states */
	size_t nmax = 0;
	for (int i = 0; i <= bi; i++)
		nmax = yr[i].n > nmax ? yr[i].n : nmax;
	pos = yoc_malloc((nmax ? nmax : 1) * sizeof *pos);
	cuts_y = yoc_calloc((size_t)bi + 1, sizeof *cuts_y);
	level = yoc_calloc((size_t)bi + 1, sizeof *level);
	if (!pos || !cuts_y || !level) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	size_t npos = 0;
	for (int i = 0; i <= bi; i++) {
		size_t np = year_cuts(&yr[i], pos, cuts_y[i].c);
		year_level(&yr[i], level[i].l);
		if (i < bi && ys[i + 1] == ys[i] + 1)
			npos += np;
	}
	d->first_pair = -1;
	for (int i = 0; i < bi; i++) {
		if (ys[i + 1] != ys[i] + 1)
			continue;
		if (d->first_pair < 0)
			d->first_pair = ys[i];
		d->npairs++;
	}
	if (d->npairs == 0 || npos < 100) {
		rc = yoc_error_set(e, YOC_EDATA, "yoc.db", 0, 0,
				   "too few people with activity in the years before the base year to learn from (%zu)",
				   npos);
		goto cleanup;
	}
	/* the period effect: year-on-year change in cost per person */
	double ss = 0;
	int nss = 0;
	for (int i = 0; i < bi; i++) {
		if (ys[i + 1] != ys[i] + 1)
			continue;
		double la = 0, lb = 0;
		for (int k = 0; k < SA_NCOST; k++) {
			la += level[i].l[k];
			lb += level[i + 1].l[k];
		}
		if (la > 0 && lb > 0) {
			ss += log(lb / la) * log(lb / la);
			nss++;
		}
	}
	d->period_sd = nss ? sqrt(ss / nss) : 0;
	memcpy(d->cost_cut, cuts_y[bi].c, sizeof d->cost_cut);
	memcpy(d->level, level[bi].l, sizeof d->level);

	/* donors and joiners */
	size_t nd = 0, nj = 0, njbase = 0;
	for (int i = 0; i < bi; i++) {
		if (ys[i + 1] != ys[i] + 1)
			continue;
		for (size_t j = 0; j < yr[i].n; j++)
			nd += !yr[i].r[j].died;
		nj += yr[i + 1].n; /* an upper bound */
	}
	d->donor = yoc_calloc(nd ? nd : 1, sizeof *d->donor);
	srcstate = yoc_calloc(nd ? nd : 1, sizeof *srcstate);
	d->join = yoc_calloc(nj ? nj : 1, sizeof *d->join);
	d->join_age = yoc_calloc(nj ? nj : 1, 1);
	d->join_sex = yoc_calloc(nj ? nj : 1, 1);
	d->join_ltc = yoc_calloc(nj ? nj : 1, 1);
	if (!d->donor || !srcstate || !d->join || !d->join_age || !d->join_sex || !d->join_ltc) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	for (int i = 0; i < bi; i++) {
		if (ys[i + 1] != ys[i] + 1)
			continue;
		struct year *a = &yr[i], *b = &yr[i + 1];
		for (size_t j = 0; j < a->n; j++) {
			const struct row *ra = &a->r[j];
			if (ra->died)
				continue;
			const struct row *rb = find(b, ra->key);
			struct yoc_sim_donor *dn = &d->donor[d->ndonor];
			donor_of(dn, ra, rb);
			dn->cstate = rb ? (uint8_t)cstate_of(cuts_y[i + 1].c, rb->cost) : 0;
			to_level(dn, level[i + 1].l, level[bi].l);
			int cst = cstate_of(cuts_y[i].c, ra->cost);
			/* source state packed: age, sex, ltc, cost state */
			srcstate[d->ndonor] = (uint32_t)ra->age << 24 | (uint32_t)ra->sex << 16 |
					      (uint32_t)ra->ltc << 8 | (uint32_t)cst;
			int rc3 = ((yoc_sim_age_band(ra->age) * 2 + ra->sex) * YOC_SIM_NLTC +
				   yoc_sim_ltc_band(ra->ltc));
			d->rate_n[rc3]++;
			d->rate_died[rc3] += dn->outcome == 1;
			d->rate_moved[rc3] += dn->outcome == 2;
			d->ndonor++;
		}
		njbase += a->n;
		for (size_t j = 0; j < b->n; j++) {
			const struct row *rb = &b->r[j];
			if (find(a, rb->key))
				continue;
			struct yoc_sim_donor *jn = &d->join[d->njoin];
			donor_of(jn, NULL, rb);
			jn->dltc = 0;
			jn->cstate = (uint8_t)cstate_of(cuts_y[i + 1].c, rb->cost);
			to_level(jn, level[i + 1].l, level[bi].l);
			d->join_age[d->njoin] = rb->age;
			d->join_sex[d->njoin] = rb->sex;
			d->join_ltc[d->njoin] = rb->ltc;
			d->njoin++;
		}
	}
	/* an enrolled cohort is carried alone: no one joins it */
	d->join_rate = njbase && !ids ? (double)d->njoin / (double)njbase : 0;

	/* cells at each level: counting sort of donor indices */
	for (int lv = 0; lv < YOC_SIM_LEVELS; lv++) {
		d->off[lv] = yoc_calloc(YOC_SIM_NCELL + 1, sizeof(uint32_t));
		d->idx[lv] = yoc_malloc((d->ndonor ? d->ndonor : 1) * sizeof(uint32_t));
		if (!d->off[lv] || !d->idx[lv]) {
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			goto cleanup;
		}
		for (size_t j = 0; j < d->ndonor; j++) {
			uint32_t s = srcstate[j];
			d->off[lv][cell_of(lv, (int)(s >> 24), (int)(s >> 16 & 255), (int)(s >> 8 & 255),
					   (int)(s & 255)) + 1]++;
		}
		for (int c = 0; c < YOC_SIM_NCELL; c++)
			d->off[lv][c + 1] += d->off[lv][c];
		uint32_t *fill = yoc_malloc(YOC_SIM_NCELL * sizeof *fill);
		if (!fill) {
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			goto cleanup;
		}
		memcpy(fill, d->off[lv], YOC_SIM_NCELL * sizeof *fill);
		for (size_t j = 0; j < d->ndonor; j++) {
			uint32_t s = srcstate[j];
			int c = cell_of(lv, (int)(s >> 24), (int)(s >> 16 & 255), (int)(s >> 8 & 255),
					(int)(s & 255));
			d->idx[lv][fill[c]++] = (uint32_t)j;
		}
		yoc_free(fill);
	}

	/* the base population: alive at the end of the base year */
	struct year *B = &yr[bi];
	d->p = yoc_calloc(B->n ? B->n : 1, sizeof *d->p);
	if (!d->p) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	d->ncohort = ncut + 1;
	double prev = 0;
	for (int c = 0; c < d->ncohort; c++) {
		d->cut[c] = c < ncut ? cuts[c] : 100;
		snprintf(d->label[c], sizeof d->label[c], "%g-%g", prev, d->cut[c]);
		prev = d->cut[c];
	}
	if (ids) {
		d->ncohort = 1;
		d->cut[0] = 100;
		snprintf(d->label[0], sizeof d->label[0], "enrolled");
	}
	snprintf(d->label[d->ncohort], sizeof d->label[0], "joiners");
	double csum[YOC_SIM_MAX_COHORTS] = {0}, nsum[YOC_SIM_MAX_COHORTS] = {0};
	struct year *N = last > bi ? &yr[last] : NULL;
	for (size_t j = 0; j < B->n; j++) {
		const struct row *r = &B->r[j];
		if (ids) {
			struct ekey k = {r->key, 0}, *f = bsearch(&k, ek, nids, sizeof *ek, ekey_cmp);
			if (!f)
				continue;
			/* the same pseudonym listed twice is one person */
			while (f > ek && f[-1].key == r->key)
				f--;
			for (struct ekey *g = f; g < ek + nids && g->key == r->key; g++)
				d->enrol_status[g->i] = r->died ? YOC_SIM_ENROL_DIED : YOC_SIM_ENROL_DUPLICATE;
			d->enrol_status[f->i] = r->died ? YOC_SIM_ENROL_DIED : YOC_SIM_ENROL_SIMULATED;
			if (r->died)
				continue;
		} else if (r->died || r->rank <= 0)
			continue;
		int c = 0;
		while (c < ncut && (double)r->rank > floor((double)nscored * cuts[c] / 100.0))
			c++;
		struct yoc_sim_person *p = &d->p[d->n++];
		p->key = r->key;
		p->age = r->age;
		p->sex = r->sex;
		p->ltc = r->ltc;
		p->cstate = (uint8_t)yoc_sim_cstate(d, r->cost);
		p->cohort = (uint8_t)c;
		p->eligible = 1;
		if (rule) {
			p->eligible = bsearch(&r->key, sel, nsel, sizeof *sel, u64_cmp) != NULL;
			d->nselected += p->eligible;
		}
		d->cohort_n[c]++;
		csum[c] += r->cost;
		if (N) {
			const struct row *rn = find(N, r->key);
			if (rn) {
				nsum[c] += rn->cost;
				d->obs_next_n[c]++;
			}
		}
	}
	/* an enrolled cohort's next year, where observed, is the service's own */
	d->have_next = N != NULL && !ids;
	for (int c = 0; c < d->ncohort; c++) {
		d->base_cost[c] = d->cohort_n[c] ? csum[c] / (double)d->cohort_n[c] : 0;
		d->obs_next_mean[c] = d->obs_next_n[c] ? nsum[c] / (double)d->obs_next_n[c] : 0;
	}
	unsigned char h[32];
	unsigned int hl = 0;
	EVP_DigestFinal_ex(md, h, &hl);
	for (int i = 0; i < 32; i++)
		snprintf(d->dataset_sha256 + 2 * i, 3, "%02x", h[i]);
cleanup:
	yoc_free(ek);
	for (int i = 0; i < 64; i++)
		yoc_free(yr[i].r);
	yoc_free(sel);
	yoc_free(pos);
	yoc_free(cuts_y);
	yoc_free(level);
	yoc_free(srcstate);
	EVP_MD_CTX_free(md);
	if (rc)
		yoc_sim_data_free(d);
	return rc;
}

void yoc_sim_data_free(struct yoc_sim_data *d)
{
	if (!d)
		return;
	yoc_free(d->p);
	yoc_free(d->donor);
	yoc_free(d->join);
	yoc_free(d->join_age);
	yoc_free(d->join_sex);
	yoc_free(d->join_ltc);
	yoc_free(d->enrol_id);
	yoc_free(d->enrol_status);
	for (int lv = 0; lv < YOC_SIM_LEVELS; lv++) {
		yoc_free(d->off[lv]);
		yoc_free(d->idx[lv]);
	}
	memset(d, 0, sizeof *d);
}

/* Internal to the module: the donor cell of a state, with fallback. */
int yoc__sim_cell(const struct yoc_sim_data *d, int age, int sex, int ltc, int cst,
		  uint32_t *lo, uint32_t *n)
{
	for (int lv = 0; lv < YOC_SIM_LEVELS; lv++) {
		int c = cell_of(lv, age, sex, ltc, cst);
		uint32_t a = d->off[lv][c], b = d->off[lv][c + 1];
		if (b - a >= MIN_DONORS || (lv == YOC_SIM_LEVELS - 1 && b > a)) {
			*lo = a;
			*n = b - a;
			return lv;
		}
	}
	*lo = 0;
	*n = 0;
	return -1;
}

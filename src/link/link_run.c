/*
** yoc_link_run: the whole linkage at source. Reads the register and the
** feeds, finds the rows whose NHS number is missing or invalid, gathers
** their candidate pairs by blocking, estimates the model (u from random
** register pairs, m and lambda by EM on a sample of the candidate pairs),
** scores every candidate, decides each row against the thresholds, applies
** the reviewers' decisions, compares with the previous ledger, and writes
** the linked feeds, the review file and the ledger. Comparison runs on
** o->threads threads over disjoint ranges of rows; everything else is in
** order, so the output is the same for any number of threads.
**
** It never writes an NHS number anywhere but the output tree, the review
** file and the ledger: all three are identifiable data of the key holder.
*/
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "link/link_int.h"
#include "yoc/date.h"
#include "yoc/io.h"
#include "yoc/nhsno.h"

/*
** ST_DUPCHECK: a row whose NHS number is valid but not in the register,
** scored only to see whether the register knows the person under another
** number (ST_DUPLICATE); its NHS number is never changed.
*/
enum { ST_NONE = 0, ST_LINKED, ST_CLERICAL, ST_REVIEW, ST_UNLINKED, ST_DUPCHECK, ST_DUPLICATE };
static const char *const status_names[] = {"", "linked", "clerical", "review", "unlinked", "", ""};

#define NONE UINT32_MAX
#define EM_SAMPLE 4000       /* rows whose candidate pairs train the model */
#define U_PAIRS 400000       /* random register pairs for u */
#define TOPN 4               /* distinct people kept per row */

struct lfile {
	char *path;
	const char *rel;        /* path relative to in_dir */
	struct link_cols c;
	size_t q0, q1;          /* its query rows */
};

struct top {
	uint32_t reg;           /* best record of this person */
	float w;
};

struct qrow {
	uint32_t file, row;
	struct yoc_link_rec rec;
	uint64_t h;             /* identity of the row's identifiers */
	struct top t[TOPN];     /* best people, highest weight first */
	uint8_t nt;
	uint8_t status;
	uint8_t rejected;       /* bit i: reviewer said NON-MATCH to t[i] */
	uint32_t chosen;        /* register record linked, or NONE */
	uint32_t pair0;         /* first review pair id, 0 if none */
	uint32_t ncand;
	uint32_t cluster;       /* cluster of an unlinked row */
	uint8_t dup;            /* 1: a valid NHS number the register lacks (own below) */
	char own[10];
};

struct run {
	const struct yoc_link_opts *o;
	struct yoc_link_stats *st;
	struct link_reg g;
	struct lfile *files;
	size_t nfiles;
	struct qrow *q;
	size_t nq, qcap;
	struct yoc_link_model md;
	double wt[YOC_LF_COUNT][YOC_LINK_MAXLV];
	double lm_exact[2];     /* log2 m at exact agreement: given, family */
	double prior;
	uint64_t counts[BR_COUNT + 1][YOC_LINK_NPAT];
	uint32_t npairs;        /* review pairs */
	size_t ndup;            /* rows checked for a second NHS number */
	uint32_t *pairq;        /* row of each pair id */
	struct yoc_link_model sessions[BR_COUNT]; /* EM of each blocking rule */
	double session_pairs[BR_COUNT];
	uint64_t blocks_skipped;
};

/* ---- candidates ----------------------------------------------------------- */

struct worker {
	struct run *r;
	size_t a, b, stride;    /* rows a, a + stride, ... below b */
	int score;              /* 0: count patterns (EM), 1: score */
	uint64_t *stamp;        /* per register record: (row + 1) << 8 | rules that found it */
	uint32_t *cand;
	size_t ncand, capcand;
	uint64_t *counts;       /* [BR_COUNT + 1][YOC_LINK_NPAT]: per rule, then all */
	uint64_t pairs, full, skipped;
	int rc;
};

static int add_block(struct worker *w, const struct link_reg *g, int k, uint64_t key,
		     uint64_t mark)
{
	if (!key)
		return 0;
	size_t lo, hi;
	link_reg_block(g, k, key, &lo, &hi);
	if (hi - lo > BLOCK_MAX) {
		w->skipped++;
		return 0;
	}
	uint64_t bit = (uint64_t)1 << k;
	for (size_t i = lo; i < hi; i++) {
		uint32_t ri = (uint32_t)(g->idx[k][i] & 0xffffff);
		if (w->stamp[ri] >> 8 == mark) {
			w->stamp[ri] |= bit;
			continue;
		}
		w->stamp[ri] = mark << 8 | bit;
		if (w->ncand == w->capcand) {
			size_t nc = w->capcand ? w->capcand * 2 : 4096;
			uint32_t *c = yoc_realloc(w->cand, nc * sizeof *c);
			if (!c)
				return YOC_ENOMEM;
			w->cand = c;
			w->capcand = nc;
		}
		w->cand[w->ncand++] = ri;
	}
	return 0;
}

/* The swapped date of birth finds pairs for no session (bit 7). */
#define SWAP_BIT 7

static int gather(struct worker *w, const struct yoc_link_rec *rec, uint64_t mark)
{
	const struct link_reg *g = &w->r->g;
	w->ncand = 0;
	int rc = 0;
	for (int k = 0; k < BR_COUNT && !rc; k++)
		rc = add_block(w, g, k, link_block_key(rec, k, 0), mark);
	/* Day and month swapped: looked up in the date-of-birth index. */
	uint64_t sk = link_block_key(rec, BR_DOB, 1);
	if (!rc && sk) {
		size_t before = w->ncand;
		uint64_t *st = w->stamp;
		rc = add_block(w, g, BR_DOB, sk, mark);
		/* Those pairs do not share the rule's key: not in the dob session. */
		for (size_t c = before; c < w->ncand; c++)
			st[w->cand[c]] = (st[w->cand[c]] & ~(uint64_t)0xff) | (uint64_t)1 << SWAP_BIT;
	}
	return rc;
}

static double pair_weight(const struct run *r, const uint8_t lv[YOC_LF_COUNT], uint32_t ri,
			  double *fw)
{
	double w = r->prior;
	for (int f = 0; f < YOC_LF_COUNT; f++) {
		double x = lv[f] == YOC_LV_MISSING ? 0.0 : r->wt[f][lv[f]];
		if (r->o->tf && f == YOC_LF_GIVEN && lv[f] == 3 && r->g.tfg[ri] > 0)
			x = r->lm_exact[0] + r->g.tfg[ri];
		if (r->o->tf && f == YOC_LF_FAMILY && lv[f] == 3 && r->g.tff[ri] > 0)
			x = r->lm_exact[1] + r->g.tff[ri];
		if (fw)
			fw[f] = x;
		w += x;
	}
	return w;
}

/* Keeps the TOPN best distinct people of a row. */
static void top_add(struct qrow *q, const struct link_reg *g, uint32_t ri, float w)
{
	if (q->nt == TOPN && w <= q->t[TOPN - 1].w)
		return;
	for (int i = 0; i < q->nt; i++) {
		if (memcmp(g->nhs[q->t[i].reg], g->nhs[ri], 10) == 0) {
			if (w <= q->t[i].w)
				return;
			/* Same person, better record: remove and re-insert. */
			memmove(&q->t[i], &q->t[i + 1], (size_t)(q->nt - i - 1) * sizeof q->t[0]);
			q->nt--;
			break;
		}
	}
	int pos = q->nt;
	while (pos > 0 && q->t[pos - 1].w < w)
		pos--;
	if (pos >= TOPN)
		return;
	int n = q->nt < TOPN ? q->nt + 1 : TOPN;
	memmove(&q->t[pos + 1], &q->t[pos], (size_t)(n - pos - 1) * sizeof q->t[0]);
	q->t[pos].reg = ri;
	q->t[pos].w = w;
	q->nt = (uint8_t)n;
}

static double lvw(const struct run *r, int f, int lv)
{
	return lv == YOC_LV_MISSING ? 0.0 : r->wt[f][lv];
}

/*
** Scoring compares date of birth, sex and postcode first; a pair that could
** not come within PRUNE bits of the lower threshold even with its names in
** the best agreement they can have (the register name's term frequency
** counted) is left there: its odds are below 1/2^PRUNE of the threshold's,
** too small to change a decision or a share.
*/
#define PRUNE 10.0

static void score_row(struct worker *w, struct qrow *q)
{
	struct run *r = w->r;
	const struct yoc_link_rec *a = &q->rec;
	struct link_hot ha;
	link_hot_make(&ha, a);
	double cutoff = log2(r->o->lower / (1 - r->o->lower)) - PRUNE;
	q->nt = 0;
	q->ncand = (uint32_t)w->ncand;
	for (size_t c = 0; c < w->ncand; c++) {
		uint32_t ri = w->cand[c];
		const struct link_hot *hb = &r->g.hot[ri];
		uint8_t lv[YOC_LF_COUNT];
		lv[YOC_LF_DOB] = (uint8_t)link_hot_dob(&ha, hb);
		lv[YOC_LF_SEX] = (uint8_t)yoc_link_cmp_sex(ha.sex, hb->sex);
		lv[YOC_LF_POSTCODE] = (uint8_t)yoc_link_cmp_postcode(ha.pc, ha.lpc, hb->pc, hb->lpc);
		double part = r->prior + lvw(r, YOC_LF_DOB, lv[YOC_LF_DOB]) +
			      lvw(r, YOC_LF_SEX, lv[YOC_LF_SEX]) +
			      lvw(r, YOC_LF_POSTCODE, lv[YOC_LF_POSTCODE]);
		if (part + hb->wmax < cutoff)
			continue;
		w->full++;
		const struct yoc_link_rec *b = &r->g.rec[ri];
		lv[YOC_LF_GIVEN] = (uint8_t)yoc_link_cmp_name(a->given, a->lgiven, a->pgiven, b->given,
							      b->lgiven, b->pgiven, 1);
		lv[YOC_LF_FAMILY] = (uint8_t)yoc_link_cmp_name(a->family, a->lfamily, a->pfamily,
							       b->family, b->lfamily, b->pfamily, 0);
		top_add(q, &r->g, ri, (float)pair_weight(r, lv, ri, NULL));
	}
}

static void count_row(struct worker *w, struct qrow *q)
{
	struct run *r = w->r;
	for (size_t c = 0; c < w->ncand; c++) {
		uint8_t lv[YOC_LF_COUNT];
		uint32_t ri = w->cand[c];
		yoc_link_compare(&q->rec, &r->g.rec[ri], lv);
		w->counts[(size_t)BR_COUNT * YOC_LINK_NPAT + yoc_link_pattern(lv)]++;
		/* Each rule that found the pair: its session, blocked fields left out. */
		unsigned rules = (unsigned)(w->stamp[ri] & 0xff);
		for (int k = 0; k < BR_COUNT; k++) {
			if (!(rules >> k & 1))
				continue;
			uint8_t lk[YOC_LF_COUNT];
			for (int f = 0; f < YOC_LF_COUNT; f++)
				lk[f] = (link_rule_fields[k] >> f & 1) ? YOC_LV_MISSING : lv[f];
			w->counts[(size_t)k * YOC_LINK_NPAT + yoc_link_pattern(lk)]++;
		}
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->r;
	for (size_t i = w->a; i < w->b; i += w->stride) {
		struct qrow *q = &r->q[i];
		if (!w->score && q->dup)
			continue; /* the model learns from the rows to link only */
		if ((w->rc = gather(w, &q->rec, (uint64_t)i + 1)) != 0)
			return NULL;
		if (w->score)
			score_row(w, q);
		else
			count_row(w, q);
		w->pairs += w->ncand;
	}
	return NULL;
}

/* Runs the comparison pass on o->threads threads. */
static int compare_pass(struct run *r, int score, size_t stride, struct yoc_error *e)
{
	int nt = r->o->threads < 1 ? 1 : r->o->threads > 16 ? 16 : r->o->threads;
	struct worker w[16];
	pthread_t th[16];
	int started[16] = {0};
	int rc = 0;
	memset(w, 0, sizeof w);
	size_t per = (r->nq + (size_t)nt - 1) / (size_t)nt;
	for (int t = 0; t < nt; t++) {
		w[t].r = r;
		w[t].score = score;
		w[t].stride = stride;
		/* Rows a..b of this thread, starting on the stride. */
		size_t a = per * (size_t)t, b = a + per < r->nq ? a + per : r->nq;
		w[t].a = (a + stride - 1) / stride * stride;
		w[t].b = b;
		w[t].stamp = yoc_calloc(r->g.n ? r->g.n : 1, sizeof *w[t].stamp);
		w[t].counts = score ? NULL : yoc_calloc((BR_COUNT + 1) * YOC_LINK_NPAT, sizeof *w[t].counts);
		if (!w[t].stamp || (!score && !w[t].counts)) {
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			goto cleanup;
		}
	}
	for (int t = 1; t < nt; t++) {
		if (pthread_create(&th[t], NULL, work, &w[t]) == 0)
			started[t] = 1;
		else
			work(&w[t]);
	}
	work(&w[0]);
	for (int t = 1; t < nt; t++)
		if (started[t])
			pthread_join(th[t], NULL);
	for (int t = 0; t < nt; t++) {
		if (w[t].rc) {
			rc = yoc_error_set(e, w[t].rc, NULL, 0, 0, "out of memory");
			goto cleanup;
		}
		if (!score)
			for (int k = 0; k <= BR_COUNT; k++)
				for (uint32_t p = 0; p < YOC_LINK_NPAT; p++)
					r->counts[k][p] += w[t].counts[(size_t)k * YOC_LINK_NPAT + p];
		if (score) {
			r->st->pairs += w[t].pairs;
			r->st->pairs_full += w[t].full;
			r->blocks_skipped += w[t].skipped;
		}
	}
cleanup:
	for (int t = 0; t < nt; t++) {
		yoc_free(w[t].stamp);
		yoc_free(w[t].cand);
		yoc_free(w[t].counts);
	}
	return rc;
}

/* ---- the model ---------------------------------------------------------------- */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* u from pairs of register records drawn at random: almost all non-matches. */
static void u_random(struct run *r)
{
	double cnt[YOC_LF_COUNT][YOC_LINK_MAXLV] = {{0}};
	uint64_t s = r->o->seed ^ 0x5eed;
	size_t n = r->g.n;
	for (int i = 0; i < U_PAIRS && n > 1; i++) {
		size_t a = splitmix(&s) % n, b = splitmix(&s) % n;
		if (a == b || memcmp(r->g.nhs[a], r->g.nhs[b], 10) == 0)
			continue;
		uint8_t lv[YOC_LF_COUNT];
		yoc_link_compare(&r->g.rec[a], &r->g.rec[b], lv);
		for (int f = 0; f < YOC_LF_COUNT; f++)
			if (lv[f] != YOC_LV_MISSING)
				cnt[f][lv[f]] += 1;
	}
	for (int f = 0; f < YOC_LF_COUNT; f++) {
		double t = 0;
		for (int l = 0; l < yoc_link_nlevels[f]; l++)
			t += cnt[f][l] + 0.5;
		for (int l = 0; l < yoc_link_nlevels[f]; l++)
			r->md.u[f][l] = (cnt[f][l] + 0.5) / t; /* never zero */
	}
}

/*
** m by EM, one session per blocking rule (as Splink does): the pairs a rule
** brings, with the fields that rule makes agree left out, and u held at its
** value among random register pairs, which is what u is among pairs that
** agree only by blocking. Each field's m is the average of the sessions
** that estimate it, weighted by the matches each session finds. The weights
** then use the prior of one true match among all the register's people, so
** a weight is the log odds that this register person, of everyone, is the
** row's. With --u-em instead: one classical EM over all candidate pairs,
** m, u and lambda free (kept for comparison; blocking biases it).
*/
static int fit(struct run *r, struct yoc_error *e)
{
	int rc;
	struct yoc_link_model urnd;
	yoc_link_model_init(&r->md);
	u_random(r);
	urnd = r->md;
	urnd.lambda = 1.0 / (r->g.people > 1 ? (double)r->g.people : 2.0);
	r->md = urnd;
	if (r->nq) {
		size_t stride = r->nq > EM_SAMPLE ? r->nq / EM_SAMPLE : 1;
		size_t sampled = (r->nq + stride - 1) / stride;
		memset(r->counts, 0, sizeof r->counts);
		if ((rc = compare_pass(r, 0, stride, e)) != 0)
			return rc;
		double msum[YOC_LF_COUNT][YOC_LINK_MAXLV] = {{0}}, wsum[YOC_LF_COUNT] = {0};
		for (int k = 0; k <= BR_COUNT; k++) {
			if (k == BR_COUNT && !r->o->u_from_em)
				break;
			double pairs = 0;
			for (uint32_t p = 0; p < YOC_LINK_NPAT; p++)
				pairs += (double)r->counts[k][p];
			if (pairs <= 0)
				continue;
			struct yoc_link_model s = urnd;
			yoc_link_model_init(&s);
			if (k < BR_COUNT)
				memcpy(s.u, urnd.u, sizeof s.u);
			s.lambda = fmin(0.5, (double)sampled / pairs);
			if (yoc_link_em(r->counts[k], &s, k < BR_COUNT, 500, 1e-7) != 0)
				continue;
			if (k == BR_COUNT) {
				r->md = s; /* --u-em: the classical estimate, used as it is */
				r->st->em_u_lambda = s.lambda;
				break;
			}
			r->md.iterations += s.iterations;
			r->md.converged = r->md.converged || s.converged;
			double matches = s.lambda * pairs;
			for (int f = 0; f < YOC_LF_COUNT; f++) {
				if (link_rule_fields[k] >> f & 1)
					continue;
				for (int l = 0; l < yoc_link_nlevels[f]; l++)
					msum[f][l] += matches * s.m[f][l];
				wsum[f] += matches;
			}
			r->sessions[k] = s;
			r->session_pairs[k] = pairs;
		}
		if (!r->o->u_from_em)
			for (int f = 0; f < YOC_LF_COUNT; f++)
				if (wsum[f] > 0)
					for (int l = 0; l < yoc_link_nlevels[f]; l++)
						r->md.m[f][l] = msum[f][l] / wsum[f];
	}
	for (int f = 0; f < YOC_LF_COUNT; f++)
		for (int l = 0; l < yoc_link_nlevels[f]; l++)
			r->wt[f][l] = yoc_link_field_weight(&r->md, f, l, 0);
	r->lm_exact[0] = log2(fmax(r->md.m[YOC_LF_GIVEN][3], 1e-3));
	r->lm_exact[1] = log2(fmax(r->md.m[YOC_LF_FAMILY][3], 1e-3));
	r->prior = yoc_link_prior(&r->md);
	r->st->model = r->md;
	/* The best weight each register record's names can give (for pruning). */
	for (size_t i = 0; i < r->g.n; i++)
		r->g.hot[i].wmax = 0.002f;
	for (int k = 0; k < 2; k++) {
		int f = k ? YOC_LF_FAMILY : YOC_LF_GIVEN;
		const float *tf = k ? r->g.tff : r->g.tfg;
		double best = 0;
		for (int l = 0; l < yoc_link_nlevels[f]; l++)
			best = fmax(best, r->wt[f][l]);
		for (size_t i = 0; i < r->g.n; i++) {
			double x = best;
			if (r->o->tf && tf[i] > 0)
				x = fmax(x, r->lm_exact[k] + tf[i]);
			r->g.hot[i].wmax += (float)x;
		}
	}
	(void)e;
	return 0;
}

/* ---- decisions ----------------------------------------------------------------- */

/*
** A row has at most one person in the register, so the chance that its best
** candidate is the one is that candidate's odds over one plus the odds of
** all (the others kept are the next TOPN - 1; further ones are negligible).
** Linked: that share at or above the upper threshold. Review: otherwise, when
** the best pair alone reaches the lower threshold. Else unlinked.
*/
static double share_best(const struct qrow *q)
{
	if (!q->nt)
		return 0;
	double w0 = q->t[0].w, sum = 0;
	for (int k = 0; k < q->nt; k++)
		sum += exp2(fmax(-200, q->t[k].w - w0));
	/* odds0 / (1 + sum of odds) with everything scaled by 2^-w0. */
	return 1.0 / (exp2(fmax(-200, fmin(200, -w0))) + sum);
}

static void decide(struct run *r)
{
	for (size_t i = 0; i < r->nq; i++) {
		struct qrow *q = &r->q[i];
		q->chosen = NONE;
		if (q->dup) {
			q->status = q->nt && share_best(q) >= r->o->upper &&
						    memcmp(r->g.nhs[q->t[0].reg], q->own, 10) != 0
					    ? ST_DUPLICATE : ST_DUPCHECK;
			continue;
		}
		double p1 = q->nt ? yoc_link_prob(q->t[0].w) : 0;
		if (q->nt && share_best(q) >= r->o->upper) {
			q->status = ST_LINKED;
			q->chosen = q->t[0].reg;
		} else if (p1 >= r->o->lower) {
			q->status = ST_REVIEW;
			if (p1 >= r->o->upper)
				r->st->ambiguous++;
		} else {
			q->status = ST_UNLINKED;
		}
	}
}

/* Review pairs of a row: its people at or above the lower threshold. */
static int review_pairs(const struct run *r, const struct qrow *q)
{
	int n = 0;
	while (n < q->nt && yoc_link_prob(q->t[n].w) >= r->o->lower)
		n++;
	return n;
}

/* Pair ids in row order; r->pairq[id] is the row of pair id. */
static int number_pairs(struct run *r, struct yoc_error *e)
{
	uint32_t id = 1;
	for (size_t i = 0; i < r->nq; i++) {
		struct qrow *q = &r->q[i];
		if (q->status != ST_REVIEW)
			continue;
		q->pair0 = id;
		id += (uint32_t)review_pairs(r, q);
	}
	r->npairs = id - 1;
	r->pairq = yoc_malloc(((size_t)r->npairs + 1) * sizeof *r->pairq);
	if (!r->pairq)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	for (size_t i = 0; i < r->nq; i++) {
		const struct qrow *q = &r->q[i];
		if (q->status != ST_REVIEW)
			continue;
		for (int k = 0; k < review_pairs(r, q); k++)
			r->pairq[q->pair0 + (uint32_t)k] = (uint32_t)i;
	}
	return 0;
}

/* Weight of the person a row is linked to (else its best candidate). */
static double chosen_weight(const struct qrow *q)
{
	for (int k = 0; k < q->nt; k++)
		if (q->t[k].reg == q->chosen)
			return q->t[k].w;
	return q->nt ? q->t[0].w : 0;
}

/* ---- small writers ------------------------------------------------------------- */

static void put_date(FILE *f, int32_t d)
{
	if (d == YOC_LINK_NODATE)
		return;
	char b[16];
	yoc_date_format(d, b);
	fputs(b, f);
}

static void put_sex(FILE *f, int s)
{
	if (s)
		fputc('0' + s, f);
}

/* ---- the reviewers' decisions ------------------------------------------------------ */

struct pairref {
	size_t q;
	int k;
};

static int find_pair(const struct run *r, uint32_t id, struct pairref *out)
{
	if (id == 0 || id > r->npairs)
		return 0;
	out->q = r->pairq[id];
	out->k = (int)(id - r->q[out->q].pair0);
	return 1;
}

static int apply_decisions(struct run *r, FILE *audit, struct yoc_error *e)
{
	int rc;
	char *text = NULL;
	size_t n = 0, nd = 0, bad = 0;
	struct yoc_review_decision *d = NULL;
	if ((rc = yoc_check_regular(r->o->decisions_path, e)) != 0)
		return rc;
	if ((rc = yoc_read_file(r->o->decisions_path, (size_t)1 << 30, &text, &n, e)) != 0)
		return rc;
	struct yoc_error pe = {0};
	if ((rc = yoc_review_parse(text, n, r->o->decisions_path, &d, &nd, &bad, &pe)) != 0) {
		*e = pe;
		goto cleanup;
	}
	r->st->decisions_bad = bad;
	for (size_t i = 0; i < nd; i++) {
		if (d[i].decision == YOC_REVIEW_UNDECIDED)
			continue;
		char *end;
		unsigned long id = strtoul(d[i].pair + 1, &end, 10);
		struct pairref pr;
		if (*end || id == 0 || id > UINT32_MAX || !find_pair(r, (uint32_t)id, &pr)) {
			r->st->decisions_stale++;
			continue;
		}
		struct qrow *q = &r->q[pr.q];
		uint32_t ri = q->t[pr.k].reg;
		if (memcmp(r->g.nhs[ri], d[i].nhs, 10) != 0) {
			r->st->decisions_stale++; /* the queue moved on: not this pair any more */
			continue;
		}
		if (d[i].decision == YOC_REVIEW_MATCH) {
			if (q->status == ST_CLERICAL && q->chosen != ri) {
				/* Two people accepted for one row: neither is applied. */
				q->status = ST_REVIEW;
				q->chosen = NONE;
				r->st->decisions_bad++;
				continue;
			}
			q->status = ST_CLERICAL;
			q->chosen = ri;
			r->st->decided_match++;
		} else {
			q->rejected |= (uint8_t)(1u << pr.k);
			r->st->decided_nonmatch++;
			if (q->status == ST_REVIEW &&
			    q->rejected == (1u << review_pairs(r, q)) - 1)
				q->status = ST_UNLINKED;
		}
		if (audit) {
			const struct lfile *lf = &r->files[q->file];
			fprintf(audit, "%s,%s,%" PRIu32 ",%.10s,%s,%s\n", d[i].pair, lf->rel, q->row,
				r->g.nhs[ri], d[i].decision == YOC_REVIEW_MATCH ? "MATCH" : "NON-MATCH",
				d[i].reviewer);
		}
	}
	rc = 0;
cleanup:
	yoc_free(text);
	yoc_free(d);
	return rc;
}

/* ---- reading the feeds ---------------------------------------------------------------- */

static int add_q(struct run *r, struct yoc_error *e)
{
	if (r->nq < r->qcap)
		return 0;
	size_t nc = r->qcap ? r->qcap * 2 : 4096;
	struct qrow *q = yoc_realloc(r->q, nc * sizeof *q);
	if (!q)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	r->q = q;
	r->qcap = nc;
	return 0;
}

static int scan_file(struct run *r, size_t fi, struct yoc_error *e)
{
	int rc;
	struct lfile *lf = &r->files[fi];
	yoc_csv *c = NULL;
	lf->q0 = lf->q1 = r->nq;
	lf->c.nhs = -1;
	if ((rc = yoc_csv_open(&c, lf->path, NULL, e)) != 0)
		return rc == YOC_EPARSE ? 0 : rc; /* not a feed: copied as it is */
	link_find_cols(yoc_csv_header(c), yoc_csv_ncols(c), &lf->c);
	if (lf->c.nhs < 0)
		goto done;
	r->st->files++;
	for (;;) {
		struct yoc_csv_row row;
		struct yoc_error re = {0};
		int k = yoc_csv_next(c, &row, &re);
		if (k == 0)
			break;
		if (k < 0 && row.fault == YOC_CSV_OK) {
			*e = re;
			rc = k;
			goto done;
		}
		r->st->rows++;
		if (k < 0 || (size_t)lf->c.nhs >= row.ncells)
			continue; /* malformed: pseudonymise will count it */
		struct yoc_cell nc = row.cells[lf->c.nhs];
		char nb[11];
		int dup = 0;
		if (yoc_nhsno_check(nc.p, nc.n, nb) == YOC_NHSNO_VALID) {
			/* In the register: nothing to do. Else: is it someone's second number? */
			if (link_reg_has(&r->g, nb) || (lf->c.given < 0 && lf->c.family < 0))
				continue;
			dup = 1;
		}
		if ((rc = add_q(r, e)) != 0)
			goto done;
		struct qrow *q = &r->q[r->nq++];
		memset(q, 0, sizeof *q);
		q->dup = (uint8_t)dup;
		if (dup) {
			memcpy(q->own, nb, 10);
			r->ndup++;
		}
		q->file = (uint32_t)fi;
		q->row = (uint32_t)(row.line - 1);
		link_row_rec(row.cells, row.ncells, &lf->c, &q->rec);
		q->h = yoc_hash64(&q->rec, sizeof q->rec, 11);
		q->chosen = NONE;
	}
	rc = 0;
done:
	lf->q1 = r->nq;
	yoc_csv_close(c);
	return rc;
}

/* ---- writing ----------------------------------------------------------------------------- */

/* A line reader over a file with its own capped buffer. */
struct lines {
	FILE *f;
	char *buf;
	size_t cap, len, pos;
	int eof;
};

#define LINE_MAX_BYTES ((size_t)16 << 20)

/* Next line (with its '\n' if any) as [*p, *p + *n); 0 at the end, <0 error. */
static int next_line(struct lines *L, const char **p, size_t *n)
{
	for (;;) {
		char *nl = L->pos < L->len ? memchr(L->buf + L->pos, '\n', L->len - L->pos) : NULL;
		if (nl) {
			*p = L->buf + L->pos;
			*n = (size_t)(nl - (L->buf + L->pos)) + 1;
			L->pos += *n;
			return 1;
		}
		if (L->eof) {
			if (L->pos < L->len) {
				*p = L->buf + L->pos;
				*n = L->len - L->pos;
				L->pos = L->len;
				return 1;
			}
			return 0;
		}
		if (L->pos) {
			memmove(L->buf, L->buf + L->pos, L->len - L->pos);
			L->len -= L->pos;
			L->pos = 0;
		}
		if (L->len == L->cap) {
			if (L->cap >= LINE_MAX_BYTES)
				return YOC_ETOOBIG;
			size_t nc = L->cap * 2;
			char *b = yoc_realloc(L->buf, nc);
			if (!b)
				return YOC_ENOMEM;
			L->buf = b;
			L->cap = nc;
		}
		size_t k = fread(L->buf + L->len, 1, L->cap - L->len, L->f);
		if (k == 0) {
			if (ferror(L->f))
				return YOC_EIO;
			L->eof = 1;
		}
		L->len += k;
	}
}

/* Byte range of field k of a line (quotes respected). */
static int line_field(const char *p, size_t n, int k, size_t *fs, size_t *fl)
{
	int col = 0, inq = 0;
	size_t s = 0;
	for (size_t i = 0; i <= n; i++) {
		char c = i < n ? p[i] : ',';
		if (c == '"')
			inq = !inq;
		if (!inq && (c == ',' || c == '\n' || c == '\r' || i == n)) {
			if (col == k) {
				*fs = s;
				*fl = i - s;
				return 1;
			}
			col++;
			s = i + 1;
			if (c == '\n')
				break;
		}
	}
	return 0;
}

static int write_file(struct run *r, const struct lfile *lf, const char *outpath,
		      struct yoc_error *e)
{
	int rc = 0;
	struct lines L = {0};
	FILE *out = NULL;
	int fd = yoc_open_regular(lf->path, O_RDONLY, 0, e);
	if (fd < 0)
		return fd;
	L.f = fdopen(fd, "rb");
	if (!L.f) {
		close(fd);
		return yoc_error_set(e, YOC_EIO, lf->path, 0, 0, "cannot open: %s", strerror(errno));
	}
	L.cap = (size_t)1 << 20;
	L.buf = yoc_malloc(L.cap);
	out = fopen(outpath, "wb");
	if (!L.buf || !out) {
		rc = yoc_error_set(e, L.buf ? YOC_EIO : YOC_ENOMEM, outpath, 0, 0, "cannot write");
		goto cleanup;
	}
	const char *p;
	size_t n, line = 0, qi = lf->q0;
	int k;
	while ((k = next_line(&L, &p, &n)) > 0) {
		line++;
		int has_nl = n && p[n - 1] == '\n';
		size_t body = n - (size_t)has_nl;
		if (body && p[body - 1] == '\r')
			body--;
		if (lf->c.nhs < 0 || !has_nl) {
			/* Not a feed, or a last line cut short: as it was. */
			fwrite(p, 1, n, out);
			continue;
		}
		if (line == 1) {
			fwrite(p, 1, body, out);
			fputs(",LINK_STATUS,LINK_WEIGHT", out);
			fwrite(p + body, 1, n - body, out);
			continue;
		}
		while (qi < lf->q1 && r->q[qi].row < line - 1)
			qi++;
		const struct qrow *q = qi < lf->q1 && r->q[qi].row == line - 1 && !r->q[qi].dup
					       ? &r->q[qi] : NULL;
		size_t fs, fl;
		if (q && q->chosen != NONE && line_field(p, body, lf->c.nhs, &fs, &fl)) {
			fwrite(p, 1, fs, out);
			fwrite(r->g.nhs[q->chosen], 1, 10, out);
			fwrite(p + fs + fl, 1, body - fs - fl, out);
		} else {
			fwrite(p, 1, body, out);
		}
		if (q) {
			fprintf(out, ",%s,", status_names[q->status]);
			if (q->nt && q->status != ST_UNLINKED)
				fprintf(out, "%.2f", chosen_weight(q));
		} else {
			fputs(",,", out);
		}
		fwrite(p + body, 1, n - body, out);
	}
	if (k < 0)
		rc = yoc_error_set(e, k, lf->path, (long)line + 1, 1,
				   k == YOC_ETOOBIG ? "line too long" : "read failed");
cleanup:
	if (out && fclose(out) != 0 && rc == 0)
		rc = yoc_error_set(e, YOC_EIO, outpath, 0, 0, "write failed: %s", strerror(errno));
	if (L.f)
		fclose(L.f);
	yoc_free(L.buf);
	return rc;
}

static void csv_text(FILE *f, const char *s)
{
	/* Names and postcodes are letters, digits and spaces once normalised. */
	fputs(s, f);
}

static int write_review(struct run *r, struct yoc_error *e)
{
	struct yoc_afile af;
	int rc;
	if ((rc = yoc_afile_open(&af, r->o->review_path, e)) != 0)
		return rc;
	FILE *f = af.f;
	fputs("PAIR,FILE,ROW,NHS_NUMBER,GIVEN_NAME_ROW,GIVEN_NAME_REGISTER,FAMILY_NAME_ROW,"
	      "FAMILY_NAME_REGISTER,DOB_ROW,DOB_REGISTER,SEX_ROW,SEX_REGISTER,POSTCODE_ROW,"
	      "POSTCODE_REGISTER,",
	      f);
	if (r->o->show_weights)
		fputs("WEIGHT,PROBABILITY,", f);
	fputs("DECISION,REVIEWER\n", f);
	for (size_t i = 0; i < r->nq; i++) {
		const struct qrow *q = &r->q[i];
		if (q->status != ST_REVIEW)
			continue;
		int np = review_pairs(r, q);
		for (int k = 0; k < np; k++) {
			if (q->rejected & (1u << k))
				continue;
			const struct yoc_link_rec *a = &q->rec, *b = &r->g.rec[q->t[k].reg];
			fprintf(f, "R%06" PRIu32 ",%s,%" PRIu32 ",%.10s,", q->pair0 + (uint32_t)k,
				r->files[q->file].rel, q->row, r->g.nhs[q->t[k].reg]);
			csv_text(f, a->given);
			fputc(',', f);
			csv_text(f, b->given);
			fputc(',', f);
			csv_text(f, a->family);
			fputc(',', f);
			csv_text(f, b->family);
			fputc(',', f);
			put_date(f, a->dob);
			fputc(',', f);
			put_date(f, b->dob);
			fputc(',', f);
			put_sex(f, a->sex);
			fputc(',', f);
			put_sex(f, b->sex);
			fputc(',', f);
			csv_text(f, a->postcode);
			fputc(',', f);
			csv_text(f, b->postcode);
			fputc(',', f);
			if (r->o->show_weights)
				fprintf(f, "%.2f,%.4f,", (double)q->t[k].w,
					yoc_link_prob(q->t[k].w));
			fputs(",\n", f);
		}
	}
	return yoc_afile_commit(&af, e);
}

/* ---- the ledger and refreshes -------------------------------------------------------------- */

struct prev {
	struct yoc_map m;       /* "file,row" -> index into arrays below */
	uint64_t *h;
	char (*nhs)[10];
	uint8_t *status;
	char (*rej)[48];        /* NHS numbers reviewers rejected for the row */
	size_t n, cap;
	uint32_t max_cluster;
	struct yoc_map clusters; /* identifiers hash (8 bytes) -> cluster */
	int have;
};

static int prev_load(struct prev *pv, const char *dir, struct yoc_error *e)
{
	char path[8400];
	snprintf(path, sizeof path, "%s/.link/links.csv", dir);
	if (yoc_check_regular(path, NULL) != 0)
		return 0;
	yoc_csv *c = NULL;
	int rc = yoc_csv_open(&c, path, NULL, e);
	if (rc)
		return rc;
	pv->have = 1;
	for (;;) {
		struct yoc_csv_row row;
		struct yoc_error re = {0};
		int k = yoc_csv_next(c, &row, &re);
		if (k == 0)
			break;
		if (k < 0 || row.ncells < 7)
			continue;
		if (pv->n == pv->cap) {
			size_t nc = pv->cap ? pv->cap * 2 : 4096;
			uint64_t *h = yoc_realloc(pv->h, nc * sizeof *h);
			if (h)
				pv->h = h;
			char(*nh)[10] = yoc_realloc(pv->nhs, nc * sizeof *nh);
			if (nh)
				pv->nhs = nh;
			uint8_t *s = yoc_realloc(pv->status, nc);
			if (s)
				pv->status = s;
			char(*rj)[48] = yoc_realloc(pv->rej, nc * sizeof *rj);
			if (rj)
				pv->rej = rj;
			if (!h || !nh || !s || !rj) {
				rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
				break;
			}
			pv->cap = nc;
		}
		char key[4200];
		int kn = snprintf(key, sizeof key, "%.*s,%.*s", (int)row.cells[0].n, row.cells[0].p,
				  (int)row.cells[1].n, row.cells[1].p);
		if (kn < 0 || (size_t)kn >= sizeof key)
			continue;
		char num[24];
		struct yoc_cell hc = row.cells[2];
		if (hc.n == 0 || hc.n >= sizeof num)
			continue;
		memcpy(num, hc.p, hc.n);
		num[hc.n] = 0;
		uint64_t hv = strtoull(num, NULL, 16);
		uint8_t s = ST_UNLINKED;
		for (uint8_t t = 1; t <= ST_UNLINKED; t++)
			if (yoc_cell_eq(row.cells[3], status_names[t]))
				s = t;
		pv->h[pv->n] = hv;
		memset(pv->nhs[pv->n], 0, 10);
		if (row.cells[4].n == 10)
			memcpy(pv->nhs[pv->n], row.cells[4].p, 10);
		pv->status[pv->n] = s;
		memset(pv->rej[pv->n], 0, sizeof pv->rej[0]);
		if (row.ncells > 7 && row.cells[7].n < sizeof pv->rej[0])
			memcpy(pv->rej[pv->n], row.cells[7].p, row.cells[7].n);
		if (yoc_map_put(&pv->m, key, (size_t)kn, pv->n, NULL) != 0) {
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			break;
		}
		struct yoc_cell cl = row.cells[6];
		if (cl.n > 1 && cl.n < sizeof num && cl.p[0] == 'U') {
			memcpy(num, cl.p + 1, cl.n - 1);
			num[cl.n - 1] = 0;
			uint32_t id = (uint32_t)strtoul(num, NULL, 10);
			uint64_t ih;
			if (id > pv->max_cluster)
				pv->max_cluster = id;
			ih = hv;
			if (yoc_map_put(&pv->clusters, &ih, sizeof ih, id, NULL) != 0) {
				rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
				break;
			}
		}
		pv->n++;
	}
	yoc_csv_close(c);
	return rc;
}

/*
** Carries the previous ledger forward: a reviewer's decision on an unchanged
** row stands; unlinked rows with the same identifiers keep their cluster;
** every row whose person changes is logged.
*/
static int reconcile(struct run *r, struct prev *pv, FILE *changes, struct yoc_error *e)
{
	uint32_t next = pv->max_cluster + 1;
	for (size_t i = 0; i < r->nq; i++) {
		struct qrow *q = &r->q[i];
		const struct lfile *lf = &r->files[q->file];
		if (q->dup)
			continue;
		char key[4200];
		int kn = snprintf(key, sizeof key, "%s,%" PRIu32, lf->rel, q->row);
		const uint64_t *pi = pv->have && kn > 0 ? yoc_map_get(&pv->m, key, (size_t)kn) : NULL;
		if (pi && pv->h[*pi] == q->h) {
			size_t j = *pi;
			/* A reviewer's NON-MATCH stands too. */
			for (int k = 0; k < q->nt && pv->rej[j][0]; k++) {
				char nh[11];
				memcpy(nh, r->g.nhs[q->t[k].reg], 10);
				nh[10] = 0;
				if (strstr(pv->rej[j], nh))
					q->rejected |= (uint8_t)(1u << k);
			}
			if (q->status == ST_REVIEW && q->rejected &&
			    (q->rejected & ((1u << review_pairs(r, q)) - 1)) == (1u << review_pairs(r, q)) - 1)
				q->status = ST_UNLINKED;
			if (pv->status[j] == ST_CLERICAL && q->status != ST_CLERICAL) {
				/* A reviewer's MATCH stands while the row is unchanged. */
				for (int k = 0; k < q->nt; k++)
					if (memcmp(r->g.nhs[q->t[k].reg], pv->nhs[j], 10) == 0) {
						q->status = ST_CLERICAL;
						q->chosen = q->t[k].reg;
					}
			}
			int was = pv->status[j] == ST_LINKED || pv->status[j] == ST_CLERICAL;
			int is = q->chosen != NONE;
			const char *what = NULL;
			if (was && is && memcmp(pv->nhs[j], r->g.nhs[q->chosen], 10) != 0)
				what = "moved";
			else if (was && !is)
				what = "split";
			else if (!was && is)
				what = "merged";
			if (what && changes) {
				fprintf(changes, "%s,%s,%.10s,%.10s\n", key, what, was ? pv->nhs[j] : "",
					is ? r->g.nhs[q->chosen] : "");
				r->st->changes++;
			}
		}
		if (q->chosen == NONE) {
			uint64_t ih = q->h;
			uint64_t *c = yoc_map_get(&pv->clusters, &ih, sizeof ih);
			if (c) {
				q->cluster = (uint32_t)*c;
			} else {
				q->cluster = next++;
				if (yoc_map_put(&pv->clusters, &ih, sizeof ih, q->cluster, NULL) != 0)
					return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			}
		}
	}
	return 0;
}

static int write_ledger(struct run *r, const char *dir, struct yoc_error *e)
{
	char path[8400];
	snprintf(path, sizeof path, "%s/.link/links.csv", dir);
	FILE *f = fopen(path, "wb");
	if (!f)
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot write: %s", strerror(errno));
	fputs("file,row,identifiers_hash,status,nhs_number,weight,cluster,rejected\n", f);
	for (size_t i = 0; i < r->nq; i++) {
		const struct qrow *q = &r->q[i];
		if (q->dup)
			continue;
		fprintf(f, "%s,%" PRIu32 ",%016" PRIx64 ",%s,", r->files[q->file].rel, q->row, q->h,
			status_names[q->status]);
		if (q->chosen != NONE)
			fprintf(f, "%.10s", r->g.nhs[q->chosen]);
		fputc(',', f);
		if (q->nt)
			fprintf(f, "%.2f", (double)q->t[0].w);
		if (q->chosen == NONE)
			fprintf(f, ",U%06" PRIu32 ",", q->cluster);
		else
			fprintf(f, ",%.10s,", r->g.nhs[q->chosen]);
		for (int k = 0, sep = 0; k < q->nt; k++)
			if (q->rejected >> k & 1) {
				fprintf(f, "%s%.10s", sep++ ? ";" : "", r->g.nhs[q->t[k].reg]);
			}
		fputc('\n', f);
	}
	if (fclose(f) != 0)
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "write failed");

	/* The same person under two NHS numbers: for the provider's feedback. */
	snprintf(path, sizeof path, "%s/.link/duplicates.csv", dir);
	f = fopen(path, "wb");
	if (!f)
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot write: %s", strerror(errno));
	fputs("file,row,nhs_number,register_nhs_number,weight\n", f);
	for (size_t i = 0; i < r->nq; i++) {
		const struct qrow *q = &r->q[i];
		if (q->status != ST_DUPLICATE)
			continue;
		fprintf(f, "%s,%" PRIu32 ",%.10s,%.10s,%.2f\n", r->files[q->file].rel, q->row, q->own,
			r->g.nhs[q->t[0].reg], (double)q->t[0].w);
		r->st->duplicates++;
	}
	if (fclose(f) != 0)
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "write failed");

	snprintf(path, sizeof path, "%s/.link/model.json", dir);
	f = fopen(path, "wb");
	if (!f)
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot write: %s", strerror(errno));
	const struct yoc_link_model *md = &r->md;
	fprintf(f, "{\n  \"prior_lambda\": %.6g,\n  \"em_iterations\": %d,\n",
		md->lambda, md->iterations);
	fputs("  \"em_sessions\": [", f);
	for (int k = 0; k < BR_COUNT; k++)
		fprintf(f, "%s\n    {\"rule\": \"%s\", \"pairs\": %.0f, \"lambda\": %.6g, "
			   "\"iterations\": %d, \"converged\": %s}",
			k ? "," : "", link_rule_names[k], r->session_pairs[k], r->sessions[k].lambda,
			r->sessions[k].iterations, r->sessions[k].converged ? "true" : "false");
	fputs("\n  ],\n", f);
	fprintf(f, "  \"u_from\": \"%s\",\n  \"term_frequency\": %s,\n",
		r->o->u_from_em ? "em" : "random_pairs", r->o->tf ? "true" : "false");
	fprintf(f, "  \"upper\": %g,\n  \"lower\": %g,\n  \"fields\": {\n", r->o->upper, r->o->lower);
	for (int fi = 0; fi < YOC_LF_COUNT; fi++) {
		fprintf(f, "    \"%s\": {\"m\": [", yoc_link_field_names[fi]);
		for (int l = 0; l < yoc_link_nlevels[fi]; l++)
			fprintf(f, "%s%.6g", l ? ", " : "", md->m[fi][l]);
		fputs("], \"u\": [", f);
		for (int l = 0; l < yoc_link_nlevels[fi]; l++)
			fprintf(f, "%s%.6g", l ? ", " : "", md->u[fi][l]);
		fprintf(f, "]}%s\n", fi + 1 < YOC_LF_COUNT ? "," : "");
	}
	const struct yoc_link_stats *st = r->st;
	fprintf(f, "  },\n  \"blocking\": [");
	for (int k = 0; k < BR_COUNT; k++)
		fprintf(f, "%s\"%s\"", k ? ", " : "", link_rule_names[k]);
	fprintf(f, "],\n  \"blocks_skipped\": %" PRIu64 ",\n", r->blocks_skipped);
	fprintf(f, "  \"register\": {\"rows\": %" PRIu64 ", \"records\": %" PRIu64 ", \"invalid_nhs\": %" PRIu64 "},\n",
		r->g.rows, (uint64_t)r->g.n, r->g.bad_nhs);
	fprintf(f, "  \"rows\": %" PRIu64 ", \"rows_to_link\": %" PRIu64 ", \"pairs\": %" PRIu64 ",\n",
		st->rows, st->candidates_rows, st->pairs);
	fprintf(f, "  \"linked\": %" PRIu64 ", \"clerical\": %" PRIu64 ", \"review\": %" PRIu64
		   ", \"unlinked\": %" PRIu64 ", \"changes\": %" PRIu64 ", \"duplicate_rows\": %" PRIu64
		   "\n}\n",
		st->linked, st->decided_match, st->review, st->unlinked, st->changes, st->duplicates);
	if (fclose(f) != 0)
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "write failed");
	return 0;
}

/* ---- explain -------------------------------------------------------------------------------- */

static const char *const level_names[YOC_LF_COUNT][YOC_LINK_MAXLV] = {
	{"differ", "sounds alike / JW>=0.80", "JW>=0.92 / nickname", "exact"},
	{"differ", "sounds alike / JW>=0.80", "JW>=0.92", "exact"},
	{"differ", "two of y/m/d", "day-month transposed", "exact"},
	{"differ", "agree"},
	{"differ", "district", "sector", "exact"}};

static int explain(struct run *r, struct yoc_error *e)
{
	FILE *f = r->o->explain_out ? r->o->explain_out : stdout;
	const char *spec = r->o->explain;
	const char *colon = strrchr(spec, ':');
	if (!colon)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0, "--explain wants FILE:ROW");
	size_t fl = (size_t)(colon - spec);
	char *end;
	unsigned long row = strtoul(colon + 1, &end, 10);
	if (*end || !row)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0, "--explain wants FILE:ROW");
	for (size_t i = 0; i < r->nq; i++) {
		struct qrow *q = &r->q[i];
		const char *rel = r->files[q->file].rel;
		if (q->row != row || strlen(rel) != fl || memcmp(rel, spec, fl) != 0)
			continue;
		fprintf(f, "%s row %lu: %s", rel, row, status_names[q->status]);
		if (q->chosen != NONE)
			fprintf(f, " to %.10s", r->g.nhs[q->chosen]);
		fprintf(f, "\n  thresholds: upper %g, lower %g (match probability); prior %.2f\n",
			r->o->upper, r->o->lower, r->prior);
		fprintf(f, "  row: given %s, family %s, dob ", q->rec.given, q->rec.family);
		put_date(f, q->rec.dob);
		fprintf(f, ", sex %d, postcode %s; %" PRIu32 " candidate records\n", q->rec.sex,
			q->rec.postcode, q->ncand);
		for (int k = 0; k < q->nt; k++) {
			uint32_t ri = q->t[k].reg;
			const struct yoc_link_rec *b = &r->g.rec[ri];
			uint8_t lv[YOC_LF_COUNT];
			double fw[YOC_LF_COUNT];
			yoc_link_compare(&q->rec, b, lv);
			double w = pair_weight(r, lv, ri, fw);
			fprintf(f, "  candidate %d: %.10s (%s %s, ", k + 1, r->g.nhs[ri], b->given,
				b->family);
			put_date(f, b->dob);
			fprintf(f, ", %d, %s): weight %.2f, probability %.6f\n", b->sex, b->postcode, w,
				yoc_link_prob(w));
			for (int fi = 0; fi < YOC_LF_COUNT; fi++)
				fprintf(f, "    %-12s %-26s %+7.2f\n", yoc_link_field_names[fi],
					lv[fi] == YOC_LV_MISSING ? "missing" : level_names[fi][lv[fi]],
					fw[fi]);
		}
		return 0;
	}
	return yoc_error_set(e, YOC_ENOTFOUND, NULL, 0, 0,
			     "%s: not a row to link (its NHS number is valid, or no such row)", spec);
}

/* ---- the run ---------------------------------------------------------------------------------- */

void yoc_link_opts_init(struct yoc_link_opts *o)
{
	memset(o, 0, sizeof *o);
	o->upper = 0.99;
	o->lower = 0.5;
	o->tf = 1;
	o->threads = 2;
	o->seed = 1;
}

static int mkdir_for(const char *path)
{
	char d[8400];
	snprintf(d, sizeof d, "%s", path);
	char *s = strrchr(d, '/');
	if (!s)
		return 0;
	*s = 0;
	return yoc_mkdirs(d, 0755);
}

int yoc_link_run(const struct yoc_link_opts *o, struct yoc_link_stats *st,
		 struct yoc_error *e)
{
	int rc;
	struct run r;
	struct yoc_link_stats dummy;
	struct yoc_otree t = {0};
	struct prev pv = {0};
	char **paths = NULL;
	size_t np = 0;
	FILE *audit = NULL, *changes = NULL;
	double t0 = yoc_now();
	memset(&r, 0, sizeof r);
	r.o = o;
	r.st = st ? st : &dummy;
	memset(r.st, 0, sizeof *r.st);
	if (yoc_map_init(&pv.m, 1024) || yoc_map_init(&pv.clusters, 1024))
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	if (!o->register_path || !o->in_dir || (!o->out_dir && !o->explain)) {
		rc = yoc_error_set(e, YOC_EINVAL, NULL, 0, 0, "register, input and output needed");
		goto cleanup;
	}
	if (!(o->lower > 0 && o->lower <= o->upper && o->upper < 1)) {
		rc = yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
				   "thresholds must satisfy 0 < lower <= upper < 1");
		goto cleanup;
	}
	if (!yoc_is_dir(o->in_dir)) {
		rc = yoc_error_set(e, YOC_EINVAL, o->in_dir, 0, 0, "not a folder");
		goto cleanup;
	}
	if (!o->explain && (rc = yoc_otree_begin(&t, o->out_dir, "link", e)) != 0)
		goto cleanup;
	if ((rc = link_reg_load(&r.g, o->register_path, e)) != 0)
		goto cleanup;
	if ((rc = link_reg_index(&r.g, e)) != 0)
		goto cleanup;
	r.st->register_rows = r.g.rows;
	r.st->register_people = r.g.n;
	if ((rc = yoc_list_files(o->in_dir, &paths, &np, e)) != 0)
		goto cleanup;
	r.files = yoc_calloc(np ? np : 1, sizeof *r.files);
	if (!r.files) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	size_t inl = strlen(o->in_dir);
	while (inl > 1 && o->in_dir[inl - 1] == '/')
		inl--;
	for (size_t i = 0; i < np; i++) {
		r.files[i].path = paths[i];
		r.files[i].rel = paths[i] + inl + (paths[i][inl] == '/');
		r.nfiles++;
		size_t l = strlen(paths[i]);
		if (l > 4 && strcmp(paths[i] + l - 4, ".csv") == 0) {
			if ((rc = scan_file(&r, i, e)) != 0)
				goto cleanup;
		} else {
			r.files[i].c.nhs = -1;
			r.files[i].q0 = r.files[i].q1 = r.nq;
		}
	}
	r.st->candidates_rows = r.nq - r.ndup;
	r.st->dup_checked = r.ndup;
	if ((rc = fit(&r, e)) != 0)
		goto cleanup;
	double tc = yoc_now();
	struct timespec c0, c1;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	if (r.nq && (rc = compare_pass(&r, 1, 1, e)) != 0)
		goto cleanup;
	r.st->seconds_compare = yoc_now() - tc;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	r.st->cpu_compare = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
	decide(&r);
	if ((rc = number_pairs(&r, e)) != 0)
		goto cleanup;
	if (o->explain) {
		rc = explain(&r, e);
		goto cleanup;
	}
	char path[8400];
	snprintf(path, sizeof path, "%s/.link", t.tmp);
	if (yoc_mkdirs(path, 0755)) {
		rc = yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot create folder");
		goto cleanup;
	}
	snprintf(path, sizeof path, "%s/.link/audit.csv", t.tmp);
	audit = fopen(path, "wb");
	snprintf(path, sizeof path, "%s/.link/changes.csv", t.tmp);
	changes = fopen(path, "wb");
	if (!audit || !changes) {
		rc = yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot write");
		goto cleanup;
	}
	fputs("pair,file,row,nhs_number,decision,reviewer\n", audit);
	fputs("file,row,change,from_nhs_number,to_nhs_number\n", changes);
	/* The previous ledger: carried forward from an earlier output. */
	const char *prevdir = o->previous_dir ? o->previous_dir : o->out_dir;
	char prevaudit[4096];
	snprintf(prevaudit, sizeof prevaudit, "%s/.link/audit.csv", prevdir);
	if (yoc_check_regular(prevaudit, NULL) == 0) {
		char *txt = NULL;
		size_t tn = 0;
		if (yoc_read_file(prevaudit, (size_t)1 << 30, &txt, &tn, NULL) == 0) {
			/* The audit trail is kept whole: earlier decisions first. */
			const char *nl = memchr(txt, '\n', tn);
			if (nl)
				fwrite(nl + 1, 1, tn - (size_t)(nl + 1 - txt), audit);
		}
		yoc_free(txt);
	}
	if ((rc = prev_load(&pv, prevdir, e)) != 0)
		goto cleanup;
	if (o->decisions_path && (rc = apply_decisions(&r, audit, e)) != 0)
		goto cleanup;
	if ((rc = reconcile(&r, &pv, changes, e)) != 0)
		goto cleanup;
	for (size_t i = 0; i < r.nq; i++) {
		switch (r.q[i].status) {
		case ST_LINKED: r.st->linked++; break;
		case ST_REVIEW: r.st->review++; break;
		case ST_UNLINKED: r.st->unlinked++; break;
		default: break;
		}
	}
	if (fclose(audit) != 0 || fclose(changes) != 0) {
		audit = changes = NULL;
		rc = yoc_error_set(e, YOC_EIO, path, 0, 0, "write failed");
		goto cleanup;
	}
	audit = changes = NULL;
	for (size_t i = 0; i < r.nfiles; i++) {
		snprintf(path, sizeof path, "%s/%s", t.tmp, r.files[i].rel);
		if (mkdir_for(path)) {
			rc = yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot create folder");
			goto cleanup;
		}
		if ((rc = write_file(&r, &r.files[i], path, e)) != 0)
			goto cleanup;
	}
	if ((rc = write_ledger(&r, t.tmp, e)) != 0)
		goto cleanup;
	if (o->review_path && (rc = write_review(&r, e)) != 0)
		goto cleanup;
	if ((rc = yoc_otree_commit(&t, e)) != 0)
		goto cleanup;
	r.st->seconds = yoc_now() - t0;
cleanup:
	if (audit)
		fclose(audit);
	if (changes)
		fclose(changes);
	yoc_otree_abort(&t);
	yoc_map_free(&pv.m);
	yoc_map_free(&pv.clusters);
	yoc_free(pv.h);
	yoc_free(pv.nhs);
	yoc_free(pv.status);
	yoc_free(pv.rej);
	link_reg_free(&r.g);
	yoc_free(r.q);
	yoc_free(r.pairq);
	yoc_free(r.files);
	yoc_paths_free(paths);
	return rc;
}

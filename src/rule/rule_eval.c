/*
** Evaluation of a compiled rule over a frame, column at a time: the rows are
** taken in chunks of CHUNK, and each plan step (node, in index order) runs
** as one tight loop over the chunk into its own register. Truth values are
** bytes 0 false, 1 unknown (NULL), 2 true, so and = min, or = max,
** not = 2 - x: SQL's three-valued logic without branches. Numbers are
** doubles with a null byte each (exact for integers below 2^53); integer
** division truncates, division by zero is NULL, as in SQLite.
**
** Nothing here reads the database or allocates per row.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rule/rule_int.h"

#define CHUNK 2048 /* a multiple of 64: chunks start on bitmap words */

struct reg {
	double *v;
	int32_t *c;
	uint8_t *b;    /* truth values */
	uint8_t *nul;  /* numbers and texts */
	double *vown;  /* owned buffers (non-field nodes) */
	uint8_t *bown, *nown;
};

struct bind {
	int col;        /* K_FIELD: frame column */
	int64_t lit;    /* K_CMP text with a literal: 2 * lower bound - (found ? 0 : 1) */
	uint8_t *member; /* K_IN over text: one byte per dictionary entry */
	double *set;    /* K_IN over numbers: sorted items */
	int nset;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static size_t lower_bound(const yoc_rule_frame *f, const char *s, size_t n, int *found)
{
	size_t lo = 0, hi = f->ndict;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		size_t l = f->dict_len[mid];
		int c = memcmp(f->dict[mid], s, l < n ? l : n);
		if (!c)
			c = (l > n) - (l < n);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < f->ndict && f->dict_len[lo] == n && memcmp(f->dict[lo], s, n) == 0;
	return lo;
}

#define CMP_LOOP(OPR, A, B, NUL)                                             \
	for (size_t i = 0; i < m; i++)                                           \
		o[i] = (NUL) ? 1 : (uint8_t)(((A) OPR (B)) << 1)

#define CMP_SWITCH(A, B, NUL)                                                \
	switch (n->op) {                                                     \
	case OP_EQ: CMP_LOOP(==, A, B, NUL); break;                          \
	case OP_NE: CMP_LOOP(!=, A, B, NUL); break;                          \
	case OP_LT: CMP_LOOP(<, A, B, NUL); break;                           \
	case OP_LE: CMP_LOOP(<=, A, B, NUL); break;                          \
	case OP_GT: CMP_LOOP(>, A, B, NUL); break;                           \
	default: CMP_LOOP(>=, A, B, NUL); break;                             \
	}

static void eval_cmp(const yoc_rule *r, int ni, struct reg *R, const struct bind *B, size_t m)
{
	const struct rule_node *n = &r->node[ni];
	const struct rule_node *nb = &r->node[n->b];
	uint8_t *o = R[ni].b;
	const struct reg *a = &R[n->a], *b = &R[n->b];
	const uint8_t *na = a->nul;
	if (r->node[n->a].type == T_TEXT) {
		const int32_t *ca = a->c;
		if (nb->kind == K_STR) {
			int64_t L = B[ni].lit;
			CMP_SWITCH(2 * (int64_t)ca[i], L, na[i]);
		} else {
			const int32_t *cb = b->c;
			const uint8_t *nbm = b->nul;
			CMP_SWITCH(ca[i], cb[i], na[i] | nbm[i]);
		}
		return;
	}
	const double *va = a->v;
	if (nb->kind == K_NUM) {
		double c = nb->num;
		CMP_SWITCH(va[i], c, na[i]);
	} else {
		const double *vb = b->v;
		const uint8_t *nbm = b->nul;
		CMP_SWITCH(va[i], vb[i], na[i] | nbm[i]);
	}
}

static void eval_arith(const struct rule_node *n, struct reg *R, int i, size_t m)
{
	const double *a = R[n->a].v, *b = R[n->b].v;
	const uint8_t *na = R[n->a].nul, *nb = R[n->b].nul;
	double *v = R[i].v;
	uint8_t *nu = R[i].nul;
	switch (n->op) {
	case OP_ADD:
		for (size_t k = 0; k < m; k++) { v[k] = a[k] + b[k]; nu[k] = na[k] | nb[k]; }
		break;
	case OP_SUB:
		for (size_t k = 0; k < m; k++) { v[k] = a[k] - b[k]; nu[k] = na[k] | nb[k]; }
		break;
	case OP_MUL:
		for (size_t k = 0; k < m; k++) { v[k] = a[k] * b[k]; nu[k] = na[k] | nb[k]; }
		break;
	default:
		for (size_t k = 0; k < m; k++) {
			int z = b[k] == 0;
			double q = z ? 0 : a[k] / b[k];
			v[k] = n->isint ? trunc(q) : q;
			nu[k] = na[k] | nb[k] | (uint8_t)z;
		}
		break;
	}
}

static void eval_in(const yoc_rule *r, const struct rule_node *n, struct reg *R, int i,
		    const struct bind *B, size_t m)
{
	uint8_t *o = R[i].b;
	uint8_t neg = (uint8_t)n->neg;
	if (n->n == 0) { /* SQL: x in () is false, x not in () true, even for NULL */
		memset(o, neg ? 2 : 0, m);
		return;
	}
	const struct reg *a = &R[n->a];
	if (r->node[n->a].type == T_TEXT) {
		const uint8_t *mem = B[i].member;
		for (size_t k = 0; k < m; k++)
			o[k] = a->nul[k] ? 1 : (uint8_t)((mem[a->c[k]] ^ neg) << 1);
		return;
	}
	const double *s = B[i].set;
	int ns = B[i].nset;
	for (size_t k = 0; k < m; k++) {
		double x = a->v[k];
		uint8_t hit = 0;
		if (ns <= 8) {
			for (int j = 0; j < ns; j++)
				hit |= x == s[j];
		} else {
			int lo = 0, hi = ns;
			while (lo < hi) {
				int mid = (lo + hi) / 2;
				if (s[mid] < x)
					lo = mid + 1;
				else
					hi = mid;
			}
			hit = lo < ns && s[lo] == x;
		}
		o[k] = a->nul[k] ? 1 : (uint8_t)((hit ^ neg) << 1);
	}
}

static void eval_node(const yoc_rule *r, const yoc_rule_frame *f, int i, struct reg *R,
		      const struct bind *B, size_t off, size_t m)
{
	const struct rule_node *n = &r->node[i];
	struct reg *o = &R[i];
	switch (n->kind) {
	case K_FIELD: {
		const struct frame_col *c = &f->col[B[i].col];
		o->nul = c->null + off;
		if (c->ftype == YOC_RULE_TEXT)
			o->c = c->code + off;
		else
			o->v = c->num + off;
		break;
	}
	case K_NUM: /* filled once at the start */
	case K_STR:
		break;
	case K_NEG:
		for (size_t k = 0; k < m; k++) {
			o->v[k] = -R[n->a].v[k];
			o->nul[k] = R[n->a].nul[k];
		}
		break;
	case K_ARITH: eval_arith(n, R, i, m); break;
	case K_CMP: eval_cmp(r, i, R, B, m); break;
	case K_IN: eval_in(r, n, R, i, B, m); break;
	case K_ISNULL: {
		uint8_t neg = (uint8_t)n->neg;
		if (r->node[n->a].type == T_BOOL) {
			const uint8_t *a = R[n->a].b;
			for (size_t k = 0; k < m; k++)
				o->b[k] = (uint8_t)(((a[k] == 1) ^ neg) << 1);
		} else {
			const uint8_t *a = R[n->a].nul;
			for (size_t k = 0; k < m; k++)
				o->b[k] = (uint8_t)((a[k] ^ neg) << 1);
		}
		break;
	}
	case K_NOT: {
		const uint8_t *a = R[n->a].b;
		for (size_t k = 0; k < m; k++)
			o->b[k] = (uint8_t)(2 - a[k]);
		break;
	}
	case K_AND: {
		const uint8_t *a = R[n->a].b, *b = R[n->b].b;
		for (size_t k = 0; k < m; k++)
			o->b[k] = a[k] < b[k] ? a[k] : b[k];
		break;
	}
	case K_OR: {
		const uint8_t *a = R[n->a].b, *b = R[n->b].b;
		for (size_t k = 0; k < m; k++)
			o->b[k] = a[k] > b[k] ? a[k] : b[k];
		break;
	}
	case K_TRUTH: {
		const double *a = R[n->a].v;
		const uint8_t *na = R[n->a].nul;
		for (size_t k = 0; k < m; k++)
			o->b[k] = na[k] ? 1 : (uint8_t)((a[k] != 0) << 1);
		break;
	}
	case K_TONUM: {
		const uint8_t *a = R[n->a].b;
		for (size_t k = 0; k < m; k++) {
			o->v[k] = a[k] == 2;
			o->nul[k] = a[k] == 1;
		}
		break;
	}
	case K_COUNT:
		memset(o->nul, 0, m);
		for (size_t k = 0; k < m; k++)
			o->v[k] = 0;
		for (int j = 0; j < n->n; j++) {
			const uint8_t *a = R[r->list[n->first + j]].b;
			for (size_t k = 0; k < m; k++) {
				o->v[k] += a[k] == 2;
				o->nul[k] |= a[k] == 1;
			}
		}
		break;
	}
}

static void put_bits(uint64_t *words, const uint8_t *t, size_t off, size_t m, size_t *count)
{
	size_t cnt = 0;
	for (size_t w = 0; w * 64 < m; w++) {
		uint64_t x = 0;
		size_t end = m - w * 64 < 64 ? m - w * 64 : 64;
		for (size_t k = 0; k < end; k++)
			x |= (uint64_t)(t[w * 64 + k] == 2) << k;
		words[off / 64 + w] = x;
		cnt += (size_t)__builtin_popcountll(x);
	}
	*count += cnt;
}

void yoc_rule_result_free(struct yoc_rule_result *res)
{
	if (!res)
		return;
	yoc_free(res->selected);
	yoc_free(res->clause);
	yoc_free(res->clause_count);
	yoc_free(res->clause_selected);
	memset(res, 0, sizeof *res);
}

static int nomem(struct yoc_error *e)
{
	return yoc_error_set(e, YOC_ENOMEM, "rule", 0, 0, "out of memory");
}

int yoc_rule_eval(const yoc_rule *r, const yoc_rule_frame *f, struct yoc_rule_result *res,
		  struct yoc_error *e)
{
	struct reg *R = NULL;
	struct bind *B = NULL;
	int rc = 0;
	memset(res, 0, sizeof *res);
	if (!r->has_schema)
		return yoc_error_set(e, YOC_EINVAL, "rule", 0, 0,
				     "a rule compiled without fields cannot be evaluated");
	size_t nn = (size_t)r->nnode;
	R = yoc_calloc(nn, sizeof *R);
	B = yoc_calloc(nn, sizeof *B);
	res->nrows = f->n;
	res->words = (f->n + 63) / 64;
	res->nclauses = (size_t)r->nclause;
	size_t w = res->words ? res->words : 1;
	res->selected = yoc_calloc(w, sizeof *res->selected);
	res->clause = yoc_calloc(w * res->nclauses, sizeof *res->clause);
	res->clause_count = yoc_calloc(res->nclauses, sizeof *res->clause_count);
	res->clause_selected = yoc_calloc(res->nclauses, sizeof *res->clause_selected);
	if (!R || !B || !res->selected || !res->clause || !res->clause_count || !res->clause_selected) {
		rc = nomem(e);
		goto cleanup;
	}
	/* bind: columns, text literals, sets; registers */
	for (size_t i = 0; i < nn; i++) {
		const struct rule_node *n = &r->node[i];
		B[i].col = -1;
		if (n->kind == K_FIELD) {
			const struct rule_field_ref *ref = &r->ref[r->node_ref[i]];
			for (size_t c = 0; c < f->ncol; c++)
				if (strcmp(f->col[c].name, ref->name) == 0 && f->col[c].lag == ref->lag)
					B[i].col = (int)c;
			if (B[i].col < 0) {
				rc = yoc_error_set(e, YOC_EINVAL, "rule", 1,
						   yoc__rule_charcol(r->text, n->pos),
						   "column %s[t-%d] is not in the frame", ref->name,
						   ref->lag);
				goto cleanup;
			}
			continue;
		}
		if (n->kind == K_STR)
			continue;
		if (n->kind == K_CMP && r->node[n->b].kind == K_STR) {
			int found;
			const struct rule_node *s = &r->node[n->b];
			size_t lb = lower_bound(f, s->str, s->slen, &found);
			B[i].lit = 2 * (int64_t)lb - (found ? 0 : 1);
		}
		if (n->kind == K_IN && n->n > 0) {
			if (r->node[n->a].type == T_TEXT) {
				B[i].member = yoc_calloc(f->ndict ? f->ndict : 1, 1);
				if (!B[i].member) {
					rc = nomem(e);
					goto cleanup;
				}
				for (int k = 0; k < n->n; k++) {
					const struct rule_node *s = &r->node[r->list[n->first + k]];
					int found;
					size_t lb = lower_bound(f, s->str, s->slen, &found);
					if (found)
						B[i].member[lb] = 1;
				}
			} else {
				B[i].set = yoc_malloc((size_t)n->n * sizeof *B[i].set);
				if (!B[i].set) {
					rc = nomem(e);
					goto cleanup;
				}
				for (int k = 0; k < n->n; k++)
					B[i].set[k] = r->node[r->list[n->first + k]].num;
				qsort(B[i].set, (size_t)n->n, sizeof *B[i].set, cmp_double);
				B[i].nset = n->n;
			}
		}
		if (n->type == T_BOOL) {
			R[i].bown = yoc_malloc(CHUNK);
			R[i].b = R[i].bown;
			if (!R[i].bown) {
				rc = nomem(e);
				goto cleanup;
			}
		} else {
			R[i].vown = yoc_malloc(CHUNK * sizeof(double));
			R[i].nown = yoc_calloc(CHUNK, 1);
			R[i].v = R[i].vown;
			R[i].nul = R[i].nown;
			if (!R[i].vown || !R[i].nown) {
				rc = nomem(e);
				goto cleanup;
			}
			if (n->kind == K_NUM)
				for (size_t k = 0; k < CHUNK; k++)
					R[i].v[k] = n->num;
		}
	}
	for (size_t off = 0; off < f->n; off += CHUNK) {
		size_t m = f->n - off < CHUNK ? f->n - off : CHUNK;
		for (size_t i = 0; i < nn; i++)
			eval_node(r, f, (int)i, R, B, off, m);
		put_bits(res->selected, R[r->root].b, off, m, &res->nselected);
		for (size_t c = 0; c < res->nclauses; c++)
			put_bits(res->clause + c * w, R[r->clause[c]].b, off, m, &res->clause_count[c]);
	}
	for (size_t c = 0; c < res->nclauses; c++) {
		const uint64_t *cb = res->clause + c * w;
		for (size_t k = 0; k < res->words; k++)
			res->clause_selected[c] += (size_t)__builtin_popcountll(cb[k] & res->selected[k]);
	}
cleanup:
	if (rc)
		yoc_rule_result_free(res);
	for (size_t i = 0; R && B && i < nn; i++) {
		yoc_free(R[i].vown);
		yoc_free(R[i].bown);
		yoc_free(R[i].nown);
		yoc_free(B[i].member);
		yoc_free(B[i].set);
	}
	yoc_free(R);
	yoc_free(B);
	return rc;
}

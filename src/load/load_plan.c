/*
** Plans one `yoc load` (see load.h): the kind, provider, period and version
** of every file, from its name and header, before anything is loaded, so
** that which file becomes current never depends on the order of the paths,
** and two different files claiming the same submission are both refused
** rather than one silently winning. Reads files; writes nothing; prints
** nothing.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load/feedname.h"
#include "ident/ident.h"
#include "load/load.h"
#include "yoc/csv.h"

#define REFUSE_CAP 600 /* as yoc_load_result.message */

/* *k = the kind from the header, as yoc_loader_mem decides it, or -1 if
 * the loader will refuse the file (unreadable, direct identifiers, kind not
 * recognised). Returns 0 or YOC_ENOMEM. */
static int kind_of(const char *path, int kind, int *k)
{
	struct yoc_csv_opts o = {0};
	o.buf_size = 4096; /* a header (one read per file); the reader grows it if need be */
	yoc_csv *r = NULL;
	struct yoc_error ce;
	yoc_error_clear(&ce);
	*k = -1;
	if (yoc_csv_open(&r, path, &o, &ce))
		return ce.code == YOC_ENOMEM ? YOC_ENOMEM : YOC_OK;
	/* The loader's own judgement of the header (src/ident): a header it
	 * would refuse gives no kind. */
	struct yoc_ident_plan pl;
	struct yoc_ident_opts io = {YOC_IDENT_LOAD, kind, NULL, 0};
	int rc = yoc_ident_plan_make(&pl, yoc_csv_header(r), yoc_csv_ncols(r), &io, path, &ce);
	if (rc == 0) {
		*k = pl.kind;
		yoc_ident_plan_free(&pl);
	}
	yoc_csv_close(r);
	return rc == YOC_ENOMEM ? YOC_ENOMEM : YOC_OK;
}

/* 1 if the two files hold the same bytes, 0 if not (or one cannot be read),
 * YOC_ENOMEM. */
static int same_content(const char *a, const char *b)
{
	enum { CHUNK = 1 << 16 };
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	char *ba = yoc_malloc(2 * CHUNK), *bb = ba + CHUNK;
	int same = fa && fb;
	if (!ba)
		same = YOC_ENOMEM;
	while (same == 1) {
		size_t na = fread(ba, 1, CHUNK, fa), nb = fread(bb, 1, CHUNK, fb);
		if (na != nb || memcmp(ba, bb, na) != 0 || ferror(fa) || ferror(fb))
			same = 0;
		else if (na == 0)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	yoc_free(ba);
	return same;
}

/* Submission order: kind, provider, period, then (with version) version. */
static int key_cmp(const struct yoc_load_item *x, const struct yoc_load_item *y, int version)
{
	int c;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if ((c = strcmp(x->provider, y->provider)) || (c = strcmp(x->period, y->period)))
		return c;
	if (version && x->version != y->version)
		return x->version < y->version ? -1 : 1;
	return 0;
}

/* qsort of pointers into one array: by submission, then place in the paths. */
static int item_cmp(const void *a, const void *b)
{
	const struct yoc_load_item *x = *(struct yoc_load_item *const *)a;
	const struct yoc_load_item *y = *(struct yoc_load_item *const *)b;
	int c = key_cmp(x, y, 1);
	return c ? c : (x < y ? -1 : x > y);
}

/* Refuses the files of g[0..k) (one submission) when their contents differ. */
static int refuse_ambiguous(struct yoc_load_item *const *g, size_t k, struct yoc_error *e)
{
	int *cls = yoc_calloc(k, sizeof *cls), ncls = 0, rc = YOC_OK;
	if (!cls)
		return yoc_error_set(e, YOC_ENOMEM, "load", 0, 0, "out of memory");
	for (size_t i = 0; i < k; i++) {
		cls[i] = -1;
		for (size_t j = 0; j < i && cls[i] < 0 && !rc; j++) {
			int same = same_content(g[j]->path, g[i]->path);
			if (same < 0)
				rc = yoc_error_set(e, YOC_ENOMEM, "load", 0, 0, "out of memory");
			else if (same)
				cls[i] = cls[j];
		}
		if (cls[i] < 0)
			cls[i] = ncls++;
	}
	for (size_t i = 0; !rc && ncls > 1 && i < k; i++) {
		struct yoc_load_item *it = g[i];
		char *m = yoc_malloc(REFUSE_CAP);
		if (!m) {
			rc = yoc_error_set(e, YOC_ENOMEM, "load", 0, 0, "out of memory");
			break;
		}
		int o = snprintf(m, REFUSE_CAP, "ambiguous: %s %.16s %.8s submission %d is also"
				 " sent, with other content, as", yoc_spec_kind_name(it->kind),
				 it->provider, it->period, it->version);
		for (size_t j = 0, nth = 0; j < k && o < REFUSE_CAP; j++)
			if (cls[j] != cls[i])
				o += snprintf(m + o, REFUSE_CAP - (size_t)o, "%s %s", nth++ ? "," : "",
					      g[j]->path);
		if (o < REFUSE_CAP)
			snprintf(m + o, REFUSE_CAP - (size_t)o, "; none of them is loaded (send one"
				 " file, or a correction as _v%d)", it->version + 1);
		it->refuse = m;
	}
	yoc_free(cls);
	return rc;
}

int yoc_load_plan_make(struct yoc_load_plan *p, const char *const *paths, size_t n, int kind,
		       struct yoc_error *e)
{
	struct yoc_load_item *items = NULL, **g = NULL;
	size_t *place = NULL;
	int rc = YOC_OK;
	memset(p, 0, sizeof *p);
	items = yoc_calloc(n + 1, sizeof *items);
	g = yoc_calloc(n + 1, sizeof *g);
	place = yoc_calloc(n + 1, sizeof *place);
	if (!items || !g || !place) {
		rc = yoc_error_set(e, YOC_ENOMEM, "load", 0, 0, "out of memory");
		goto cleanup;
	}
	size_t ng = 0;
	for (size_t i = 0; i < n; i++) {
		struct yoc_load_item *it = &items[i];
		struct yoc_feedname fn;
		it->path = paths[i];
		it->kind = -1;
		if (yoc_feedname_parse(paths[i], &fn, NULL) != 0)
			continue;
		snprintf(it->provider, sizeof it->provider, "%s", fn.provider);
		snprintf(it->period, sizeof it->period, "%s", fn.period);
		it->version = fn.version;
		if (kind_of(paths[i], kind, &it->kind)) {
			rc = yoc_error_set(e, YOC_ENOMEM, "load", 0, 0, "out of memory");
			goto cleanup;
		}
		if (it->kind >= 0)
			g[ng++] = it;
	}
	/* g: the recognised files by submission, then place in the paths */
	qsort(g, ng, sizeof *g, item_cmp);
	for (size_t a = 0, b; a < ng; a = b) {
		for (b = a + 1; b < ng && key_cmp(g[a], g[b], 1) == 0; b++)
			;
		if (b - a > 1 && (rc = refuse_ambiguous(g + a, b - a, e)))
			goto cleanup;
	}
	/* Each kind, provider and period keeps the places its files held in the
	 * paths, filled in version order: the highest version loads last. */
	p->items = yoc_calloc(n + 1, sizeof *p->items);
	if (!p->items) {
		rc = yoc_error_set(e, YOC_ENOMEM, "load", 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++)
		p->items[i] = items[i];
	for (size_t a = 0, b; a < ng; a = b) {
		for (b = a + 1; b < ng && key_cmp(g[a], g[b], 0) == 0; b++)
			;
		for (size_t j = a; j < b; j++)
			place[j - a] = (size_t)(g[j] - items);
		/* the group's places, ascending (insertion sort: groups are small) */
		for (size_t j = 1; j < b - a; j++)
			for (size_t q = j; q > 0 && place[q - 1] > place[q]; q--) {
				size_t t = place[q];
				place[q] = place[q - 1];
				place[q - 1] = t;
			}
		for (size_t j = a; j < b; j++)
			p->items[place[j - a]] = *g[j];
	}
	p->n = n;
	for (size_t i = 0; i < n; i++)
		items[i].refuse = NULL; /* owned by p->items now */
cleanup:
	for (size_t i = 0; items && i < n; i++)
		yoc_free(items[i].refuse);
	yoc_free(items);
	yoc_free(g);
	yoc_free(place);
	return rc;
}

void yoc_load_plan_free(struct yoc_load_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; p->items && i < p->n; i++)
		yoc_free(p->items[i].refuse);
	yoc_free(p->items);
	memset(p, 0, sizeof *p);
}

void yoc_load_refused(const struct yoc_load_item *it, struct yoc_load_result *res)
{
	memset(res, 0, sizeof *res);
	snprintf(res->file, sizeof res->file, "%s", it->path);
	res->kind = it->kind;
	snprintf(res->provider, sizeof res->provider, "%s", it->provider);
	snprintf(res->period, sizeof res->period, "%s", it->period);
	res->version = it->version;
	res->status = YOC_LOAD_REJECTED;
	snprintf(res->message, sizeof res->message, "%s", it->refuse ? it->refuse : "refused");
}

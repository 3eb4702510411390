/*
** The providers' billing feed of the synthetic economy (docs/synth.md,
** "Billing feed"): acute contract monitoring lines (hospital spells,
** outpatient attendances, A&E attendances) and community block activity
** lines, derived from the feed files already written, one line per
** activity record; then, from a stream of its own, about 1% of lines billed
** a second time under a new line id, listed in truth/billing_duplicates.csv.
** It writes only new files (billing/, that truth file) and reads nothing the
** rest of synth writes after it, so every other output is unchanged.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth/synth_int.h"

#define BILL_DUP_PER_MILLE 10

struct bline {
	char provider[16];
	char month[8];      /* YYYY-MM of the activity */
	int kind;           /* 0 apc, 1 op, 2 ae, 3 community */
	char key[32];
	char date[11];
	char pod[32];
	char code[16];
	int64_t value;
};

static const char *const bkind[] = {"apc", "op", "ae", "community"};

struct billing {
	struct bline *l;
	size_t n, cap;
	struct yoc_map seen; /* kind + key: billed once */
};

static int add_line(struct billing *b, const struct bline *l)
{
	char k[40];
	int kn = snprintf(k, sizeof k, "%d%s", l->kind, l->key);
	if (yoc_map_get(&b->seen, k, (size_t)kn))
		return 0;
	if (yoc_map_put(&b->seen, k, (size_t)kn, 1, NULL))
		return YOC_ENOMEM;
	if (b->n == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 4096;
		struct bline *nl = yoc_realloc(b->l, nc * sizeof *nl);
		if (!nl)
			return YOC_ENOMEM;
		b->l = nl;
		b->cap = nc;
	}
	b->l[b->n++] = *l;
	return 0;
}

static void cell_copy(char *dst, size_t cap, struct yoc_cell c)
{
	size_t n = c.n < cap - 1 ? c.n : cap - 1;
	memcpy(dst, c.p, n);
	dst[n] = 0;
}

static struct yoc_cell cell_at(const struct yoc_csv_row *row, int col)
{
	struct yoc_cell none = {"", 0};
	return col >= 0 && (size_t)col < row->ncells ? row->cells[col] : none;
}

static int32_t date_at(const struct yoc_csv_row *row, int col)
{
	struct yoc_cell c = cell_at(row, col);
	int32_t d;
	return yoc_date_parse(c.p, c.n, &d) == YOC_DATE_VALID ? d : YOC_SPELL_NODATE;
}

/* Reads one feed file; hospital episodes go to sp (spells priced later). */
/* Activity dated outside the economy's years (a defective date) is not billed. */
static int32_t g_lo, g_hi;

static int read_feed(const yoc_tariff *t, const char *path, int kind, struct billing *b,
		     yoc_spells *sp, struct bline **epi, size_t *nepi, size_t *cepi,
		     struct yoc_error *e)
{
	yoc_csv *r = NULL;
	struct yoc_csv_opts o = {0};
	int rc = yoc_csv_open(&r, path, &o, e);
	if (rc)
		return rc;
	int c_prov = yoc_csv_col(r, "PROCODE");
	int c_key = yoc_csv_col(r, kind == 0 ? "SUSSPELLID" : kind == 1 ? "ATTENDKEY"
							 : kind == 2 ? "AEKEY" : "CONTACTKEY");
	int c_date = yoc_csv_col(r, kind == 0 ? "EPISTART" : kind == 1 ? "APPTDATE"
							  : kind == 2 ? "ARRIVALDATE" : "CONTACT_DATE");
	int c_hrg = yoc_csv_col(r, kind == 3 ? "CURRENCY_CODE" : "SUSHRG");
	int c_att = yoc_csv_col(r, "ATTENDED");
	int c_nhs = yoc_csv_col(r, "NEWNHSNO");
	if (c_prov < 0 || c_key < 0 || c_date < 0 || c_hrg < 0)
		goto done; /* a file whose header a defect changed: not billed */
	struct yoc_csv_row row;
	int got;
	while ((got = yoc_csv_next(r, &row, e)) != 0) {
		if (got < 0) {
			if (row.fault == YOC_CSV_OK) {
				rc = got;
				break;
			}
			continue; /* a malformed row: the provider's system rejects it too */
		}
		struct bline l;
		memset(&l, 0, sizeof l);
		l.kind = kind;
		cell_copy(l.provider, sizeof l.provider, cell_at(&row, c_prov));
		cell_copy(l.key, sizeof l.key, cell_at(&row, c_key));
		cell_copy(l.code, sizeof l.code, cell_at(&row, c_hrg));
		int32_t d = date_at(&row, c_date);
		if (!l.key[0] || d <= YOC_SPELL_NODATE || (kind != 0 && (d < g_lo || d > g_hi)))
			continue;
		yoc_date_format(d, l.date);
		memcpy(l.month, l.date, 7);
		int pod = -1;
		if (kind == 0) {
			struct yoc_apc_epi ep;
			ep.classpat = cell_at(&row, yoc_csv_col(r, "CLASSPAT"));
			ep.admimeth = cell_at(&row, yoc_csv_col(r, "ADMIMETH"));
			ep.sushrg = cell_at(&row, c_hrg);
			ep.admidate = date_at(&row, yoc_csv_col(r, "ADMIDATE"));
			ep.disdate = date_at(&row, yoc_csv_col(r, "DISDATE"));
			ep.epistart = d;
			ep.epiend = date_at(&row, yoc_csv_col(r, "EPIEND"));
			struct yoc_cell oc = cell_at(&row, yoc_csv_col(r, "EPIORDER"));
			int32_t order = 0;
			for (size_t i = 0; i < oc.n && oc.p[i] >= '0' && oc.p[i] <= '9' && order < 100000; i++)
				order = order * 10 + (oc.p[i] - '0');
			ep.epiorder = order;
			ep.feed_cost = INT64_MIN;
			struct yoc_cell nhs = cell_at(&row, c_nhs);
			if (*nepi == *cepi) {
				size_t nc = *cepi ? *cepi * 2 : 4096;
				struct bline *ne = yoc_realloc(*epi, nc * sizeof *ne);
				if (!ne) {
					rc = YOC_ENOMEM;
					break;
				}
				*epi = ne;
				*cepi = nc;
			}
			(*epi)[*nepi] = l;
			if (*nepi >= UINT32_MAX ||
			    yoc_spells_add(sp, yoc_hash64(nhs.p, nhs.n, 7), (uint32_t)*nepi,
					   cell_at(&row, c_key), cell_at(&row, c_prov), &ep)) {
				rc = YOC_ENOMEM;
				break;
			}
			(*nepi)++;
			continue;
		}
		struct yoc_cell at = cell_at(&row, c_att);
		if (kind == 1) {
			if (!yoc_attended(at.p, at.n))
				continue; /* DNAs are not billed */
			yoc_price_op(t, at, cell_at(&row, c_hrg), &l.value, &pod);
		} else if (kind == 2) {
			pod = YOC_POD_EMERGENCY;
			yoc_price_ae(t, cell_at(&row, c_hrg), &l.value);
		} else {
			if (!yoc_attended(at.p, at.n))
				continue;
			pod = YOC_POD_COMMUNITY;
			yoc_price_community(t, at, cell_at(&row, c_hrg), &l.value);
		}
		snprintf(l.pod, sizeof l.pod, "%s", pod >= 0 ? yoc_pod_name(pod) : "");
		if ((rc = add_line(b, &l)))
			break;
	}
done:
	if (rc == YOC_ENOMEM)
		yoc_error_set(e, rc, path, 0, 0, "out of memory");
	yoc_csv_close(r);
	return rc;
}

static int cmp_line(const void *x, const void *y)
{
	const struct bline *a = x, *b = y;
	int c = strcmp(a->provider, b->provider);
	if (!c)
		c = strcmp(a->month, b->month);
	if (!c)
		c = (a->kind > b->kind) - (a->kind < b->kind);
	if (!c)
		c = strcmp(a->date, b->date);
	return c ? c : strcmp(a->key, b->key);
}

static int name_ok(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	const char *u = strchr(b, '_');
	return u && strlen(u) == 12 && strcmp(u + 8, ".csv") == 0 && u[5] == '-';
}

/* Writes the sorted lines of one provider, month by month, with the duplicates. */
static int write_lines(const char *dir, struct billing *b, struct rng *dup, FILE *truth,
		       struct yoc_error *e)
{
	char path[4096];
	FILE *af = NULL;
	int rc = 0;
	for (size_t i = 0; i < b->n;) {
		size_t j = i;
		while (j < b->n && strcmp(b->l[j].provider, b->l[i].provider) == 0 &&
		       strcmp(b->l[j].month, b->l[i].month) == 0)
			j++;
		const char *contract = b->l[i].kind == 3 ? "community" : "acute";
		snprintf(path, sizeof path, "%s/billing/%s", dir, contract);
		if (yoc_mkdirs(path, 0755))
			return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot create folder");
		snprintf(path, sizeof path, "%s/billing/%s/%s_%s.csv", dir, contract, b->l[i].provider,
			 b->l[i].month);
		/* the folder is an output tree, made durable and atomic as a whole */
		if (!(af = fopen(path, "w")))
			return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot write");
		fputs("LINE_ID,PROVIDER,CONTRACT,MONTH,KIND,RECORD_KEY,ACTIVITY_DATE,POD,CODE,VALUE\n",
		      af);
		long seq = 0;
		char ym[8];
		snprintf(ym, sizeof ym, "%.4s%.2s", b->l[i].month, b->l[i].month + 5);
		for (size_t k = i; k < j; k++) {
			const struct bline *l = &b->l[k];
			char v[32], id[64];
			yoc_pence_format(l->value, v);
			snprintf(id, sizeof id, "%s-%s-%06ld", l->provider, ym, ++seq);
			fprintf(af, "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", id, l->provider,
				l->kind == 3 ? "community_block" : "acute_pbr", l->month, bkind[l->kind],
				l->key, l->date, l->pod, l->code, v);
			if (rng_below(dup, 1000) < BILL_DUP_PER_MILLE) {
				char id2[64];
				snprintf(id2, sizeof id2, "%s-%s-%06ld", l->provider, ym, ++seq);
				fprintf(af, "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", id2, l->provider,
					l->kind == 3 ? "community_block" : "acute_pbr", l->month,
					bkind[l->kind], l->key, l->date, l->pod, l->code, v);
				fprintf(truth, "%s,%s,%s,%s,%s,%s\n", id2, id, l->provider, bkind[l->kind],
					l->key, v);
			}
		}
		int bad = ferror(af);
		if (fclose(af) != 0 || bad)
			return yoc_error_set(e, YOC_EIO, path, 0, 0, "write failed");
		i = j;
	}
	return rc;
}

struct bfile {
	char provider[16];
	int kind;
	char *path;
};

static int cmp_bfile(const void *x, const void *y)
{
	const struct bfile *a = x, *b = y;
	int c = strcmp(a->provider, b->provider);
	if (!c)
		c = (a->kind > b->kind) - (a->kind < b->kind);
	return c ? c : strcmp(a->path, b->path);
}

/* One provider's lines: its files read, spells priced, sorted. */
static int provider_lines(const yoc_tariff *t, const struct bfile *f, size_t n,
			  struct billing *b, struct yoc_error *e)
{
	yoc_spells *sp = yoc_spells_create();
	struct bline *epi = NULL;
	size_t nepi = 0, cepi = 0;
	int rc = 0;
	if (!sp) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++)
		if ((rc = read_feed(t, f[i].path, f[i].kind, b, sp, &epi, &nepi, &cepi, e)))
			goto cleanup;
	/* hospital spells: one line each, priced once, in the month of admission */
	if (yoc_spells_sort(sp)) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	struct yoc_spell_view v;
	int got;
	while ((got = yoc_spells_next(sp, &v)) == 1) {
		struct yoc_spell_price pr;
		yoc_price_spell(t, v.epi, v.n, &pr);
		struct bline l = epi[v.tag[0]];
		if (pr.admitted < g_lo || pr.admitted > g_hi)
			continue;
		yoc_date_format(pr.admitted, l.date);
		memcpy(l.month, l.date, 7);
		l.value = pr.pence;
		snprintf(l.pod, sizeof l.pod, "%s", yoc_pod_name(pr.pod));
		snprintf(l.code, sizeof l.code, "%s", epi[v.tag[pr.dominant]].code);
		if ((rc = add_line(b, &l))) {
			yoc_error_set(e, rc, NULL, 0, 0, "out of memory");
			goto cleanup;
		}
	}
	if (got < 0) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	qsort(b->l, b->n, sizeof *b->l, cmp_line);
cleanup:
	yoc_spells_free(sp);
	yoc_free(epi);
	return rc;
}

int synth_billing_write(struct world *w, struct yoc_error *e)
{
	struct billing b;
	memset(&b, 0, sizeof b);
	struct bfile *f = NULL;
	size_t nf = 0, cf = 0;
	char **paths = NULL;
	struct yoc_afile tf = {0};
	int rc = 0, have_map = 0;
	g_lo = yoc_fyear_start(w->o->first_year);
	g_hi = yoc_fyear_end(w->o->first_year + w->o->years - 1);
	for (int k = 0; k < 4; k++) {
		char dir[4096];
		size_t n = 0;
		snprintf(dir, sizeof dir, "%s/feeds/%s", w->o->out_dir, bkind[k]);
		if ((rc = yoc_list_files(dir, &paths, &n, e)))
			goto cleanup;
		for (size_t i = 0; i < n; i++) {
			if (!name_ok(paths[i]))
				continue;
			if (nf == cf) {
				size_t nc = cf ? cf * 2 : 256;
				struct bfile *nb = yoc_realloc(f, nc * sizeof *nb);
				if (!nb) {
					rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
					goto cleanup;
				}
				f = nb;
				cf = nc;
			}
			const char *base = strrchr(paths[i], '/');
			base = base ? base + 1 : paths[i];
			size_t pl = (size_t)(strchr(base, '_') - base);
			snprintf(f[nf].provider, sizeof f[nf].provider, "%.*s", (int)(pl < 15 ? pl : 15),
				 base);
			f[nf].kind = k;
			if (!(f[nf].path = yoc_strdup(paths[i]))) {
				rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
				goto cleanup;
			}
			nf++;
		}
		yoc_paths_free(paths);
		paths = NULL;
	}
	qsort(f, nf, sizeof *f, cmp_bfile);
	char path[4096];
	snprintf(path, sizeof path, "%s/truth/billing_duplicates.csv", w->o->out_dir);
	if ((rc = yoc_afile_open(&tf, path, e)))
		goto cleanup;
	fputs("line_id,original_line_id,provider,kind,record_key,value\n", tf.f);
	struct rng dup;
	rng_seed(&dup, w->o->seed, 0xB111B111ULL, 0);
	/* one provider at a time: memory follows the largest provider, not the economy */
	for (size_t i = 0; i < nf;) {
		size_t j = i;
		while (j < nf && strcmp(f[j].provider, f[i].provider) == 0)
			j++;
		b.n = 0;
		if (yoc_map_init(&b.seen, 1 << 16)) {
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
			goto cleanup;
		}
		have_map = 1;
		if ((rc = provider_lines(w->tariff, f + i, j - i, &b, e)) ||
		    (rc = write_lines(w->o->out_dir, &b, &dup, tf.f, e)))
			goto cleanup;
		yoc_map_free(&b.seen);
		have_map = 0;
		i = j;
	}
	rc = yoc_afile_commit(&tf, e);
cleanup:
	if (rc && tf.f)
		yoc_afile_abort(&tf);
	if (have_map)
		yoc_map_free(&b.seen);
	yoc_paths_free(paths);
	for (size_t i = 0; i < nf; i++)
		yoc_free(f[i].path);
	yoc_free(f);
	yoc_free(b.l);
	return rc;
}

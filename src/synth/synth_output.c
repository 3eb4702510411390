/*
** Where rows go: one growing buffer per feed file, appended to disk when the
** buffers together pass the memory budget (so memory stays bounded whatever
** the population), the truth and opt-out files written through atomic
** files, and at the end contracts.csv and manifest.json. A file's content
** depends only on the order rows reach it, never on when buffers flush, so
** the output is the same for any budget.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "synth/synth_int.h"

struct sfile *synth_file(struct world *w, int kind, uint32_t prov, uint32_t per)
{
	return &w->files[w->fbase[kind] + (size_t)prov * w->nper[kind] + per];
}

/* A chunk from the pool, or a new one; NULL when out of memory. */
struct chunk *synth_chunk(struct world *w)
{
	struct chunk *c = w->pool;
	if (c)
		w->pool = c->next;
	else if ((c = yoc_malloc(sizeof *c)) == NULL)
		return NULL;
	c->next = NULL;
	c->len = 0;
	return c;
}

int synth_file_grow(struct world *w, struct sfile *f)
{
	struct chunk *c = synth_chunk(w);
	if (!c)
		return -1;
	if (f->tail) {
		f->tail->len = (size_t)(f->wp - f->tail->data);
		f->tail->next = c;
	} else {
		f->head = c;
	}
	f->tail = c;
	f->wp = c->data;
	f->wend = c->data + CHUNK_SIZE;
	return 0;
}

void row_begin(struct world *w, struct rowb *b, struct sfile *f)
{
	if (!f) {
		/* a row the pilot removed: built (same draws) but written nowhere */
		b->f = NULL;
		b->start = b->p = w->scratch;
		return;
	}
	if (f->wend - f->wp < ROW_RESERVE && synth_file_grow(w, f) != 0) {
		/* Out of memory: write into scratch, and fail the run after this person. */
		w->oom = 1;
		b->f = NULL;
		b->start = b->p = w->scratch;
		return;
	}
	b->f = f;
	b->start = b->p = f->wp;
}

void row_end(struct world *w, struct rowb *b, struct person *p)
{
	if (w->idn)
		synth_idnoise_cells(w, b, p);
	*b->p++ = '\n';
	struct sfile *f = b->f;
	if (!f)
		return;
	size_t n = (size_t)(b->p - b->start);
	size_t before = f->len;
	f->wp += n;
	f->len += n;
	f->rows++;
	f->last_len = (uint32_t)n;
	f->last_clean = 1;
	f->last_odef = OD_COUNT;
	w->rows++;
	if (w->defect_scale > 0) {
		uint64_t lost = f->defects[D_NHS_BAD_CHECK] + f->defects[D_NHS_MISSING];
		uint64_t rows0 = f->rows, any = 0;
		for (int d = 0; d < D_COUNT; d++)
			any += f->defects[d];
		synth_defect_row(w, b, p);
		if (w->idn && f->defects[D_NHS_BAD_CHECK] + f->defects[D_NHS_MISSING] != lost) {
			size_t rn = f->last_len;
			synth_idnoise_row(w, f, b->start, &rn, p);
		} else if (w->idn && f->rows == rows0) {
			/* a row no defect touched (a copied row would have two lines) */
			for (int d = 0; d < D_COUNT; d++)
				any -= f->defects[d];
			if (any == 0)
				synth_idnoise_dup(w, f, b->start, p);
		}
	}
	w->buffered += f->len - before;
}

static void release_chunks(struct world *w, struct sfile *f)
{
	struct chunk *c = f->head;
	while (c) {
		struct chunk *next = c->next;
		c->next = w->pool;
		w->pool = c;
		c = next;
	}
	f->head = f->tail = NULL;
	f->wp = f->wend = NULL;
	f->len = 0;
}

static void period_label(const struct world *w, const struct sfile *f, char *buf, size_t cap)
{
	if (synth_kinds[f->kind].yearly) {
		int fy = w->first_year + f->per;
		snprintf(buf, cap, "%d-%02d", fy, (fy + 1) % 100);
	} else {
		int y, m, d;
		yoc_date_to_ymd(w->mstart[f->per], &y, &m, &d);
		snprintf(buf, cap, "%d-%02d", y, m);
	}
}

static void rel_path(const struct world *w, const struct sfile *f, int copy, char *buf,
		     size_t cap)
{
	char per[16];
	period_label(w, f, per, sizeof per);
	snprintf(buf, cap, "feeds/%s/%s_%s%s.csv", synth_kinds[f->kind].name,
		 w->prov_code[f->kind][f->prov], per, copy ? "_v2" : "");
}

void synth_file_path(const struct world *w, const struct sfile *f, int copy, char *buf,
		     size_t cap)
{
	char rel[512];
	rel_path(w, f, copy, rel, sizeof rel);
	snprintf(buf, cap, "%s/%s", w->o->out_dir, rel);
}

int synth_out_header(const struct world *w, const struct sfile *f, char *buf, size_t cap)
{
	int ncols;
	const struct colspec *cols;
	if (f->kind == K_REGISTER) {
		ncols = w->reg_ncols;
		cols = w->reg_spec;
	} else {
		ncols = synth_kinds[f->kind].ncols;
		cols = synth_kinds[f->kind].cols;
	}
	size_t n = 0;
	for (int k = 0; k < ncols; k++) {
		const char *name = f->renamed && k == synth_kinds[f->kind].rename_col
					   ? synth_kinds[f->kind].rename_to : cols[k].name;
		int wr = snprintf(buf + n, cap - n, "%s%s", k ? "," : "", name);
		if (wr < 0 || (size_t)wr >= cap - n)
			return -1;
		n += (size_t)wr;
	}
	if (w->idn) {
		int wr = snprintf(buf + n, cap - n, "%s", synth_idnoise_header());
		if (wr < 0 || (size_t)wr >= cap - n)
			return -1;
		n += (size_t)wr;
	}
	if (n + 1 >= cap)
		return -1;
	buf[n++] = '\n';
	return (int)n;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int synth_out_flush(struct world *w, int final, struct yoc_error *e)
{
	char path[4096], head[2048];
	for (size_t i = 0; i < w->nfiles; i++) {
		struct sfile *f = &w->files[i];
		if (f->withheld) {
			release_chunks(w, f);
			continue;
		}
		if (f->len == 0 && (f->created || !final))
			continue;
		synth_file_path(w, f, 0, path, sizeof path);
		int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (f->created ? O_APPEND : O_TRUNC),
			      0644);
		if (fd < 0)
			return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot write: %s", strerror(errno));
		int bad = 0;
		if (!f->created) {
			int hn = synth_out_header(w, f, head, sizeof head);
			bad = hn < 0 || write_all(fd, head, (size_t)hn);
			f->bytes += hn > 0 ? (uint64_t)hn : 0;
			f->created = 1;
		}
		if (f->tail)
			f->tail->len = (size_t)(f->wp - f->tail->data);
		for (struct chunk *c = f->head; c && !bad; c = c->next)
			bad = write_all(fd, c->data, c->len);
		f->bytes += f->len;
		release_chunks(w, f);
		if (close(fd) != 0)
			bad = 1;
		if (bad)
			return yoc_error_set(e, YOC_EIO, path, 0, 0, "write failed: %s", strerror(errno));
	}
	w->buffered = 0;
	return YOC_OK;
}

static const char truth_header[] =
	"nhs_number,fyear,age,sex,practice,lsoa11,imd_decile,ltc_count,mental_ltc_count,ltcs,"
	"emergency_admissions,other_nonelective_admissions,bed_days,emergency_bed_days,"
	"mh_bed_days,died,opted_out,cost_total,cost_elective,cost_nonelective,cost_daycase,"
	"cost_outpatient,cost_ae,cost_community,cost_mh,cost_gp,cost_social_care,cost_ambulance,"
	"cost_emergency,cost_other_nonelective,cost_apc_provider\n";

static int dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return 1;
	struct dirent *de;
	int empty = 1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}

int synth_out_open(struct world *w, struct yoc_error *e)
{
	int rc;
	char path[4096];
	const char *dir = w->o->out_dir;
	if (yoc_is_dir(dir) && !dir_is_empty(dir) && !w->o->force)
		return yoc_error_set(e, YOC_EEXIST, dir, 0, 0,
				     "folder is not empty (choose a new one, or --force)");
	for (int k = 0; k < K_COUNT; k++) {
		snprintf(path, sizeof path, "%s/feeds/%s", dir, synth_kinds[k].name);
		if (yoc_mkdirs(path, 0755))
			return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot create folder");
	}
	snprintf(path, sizeof path, "%s/truth", dir);
	if (yoc_mkdirs(path, 0755))
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot create folder");
	snprintf(path, sizeof path, "%s/truth/person_year.csv", dir);
	if ((rc = yoc_afile_open(&w->truth, path, e)) != 0)
		return rc;
	snprintf(path, sizeof path, "%s/optout.csv", dir);
	if ((rc = yoc_afile_open(&w->optout, path, e)) != 0)
		return rc;
	snprintf(path, sizeof path, "%s/truth/registrations.csv", dir);
	if ((rc = yoc_afile_open(&w->regtruth, path, e)) != 0)
		return rc;
	fputs("nhs_number,practice,reg_start,reg_end,end_reason,date_of_death\n", w->regtruth.f);
	fputs(truth_header, w->truth.f);
	fputs("nhs_number\n", w->optout.f);
	snprintf(path, sizeof path, "%s/truth/risk.csv", dir);
	if ((rc = yoc_afile_open(&w->risk, path, e)) != 0)
		return rc;
	fputs("nhs_number,fyear,p_emergency\n", w->risk.f);
	if (w->o->pilot && (rc = synth_pilot_open(w, dir, e)) != 0)
		return rc;
	if ((rc = synth_outcome_open(w, e)) != 0)
		return rc;
	w->tbuf = yoc_malloc((size_t)1 << 21);
	if (!w->tbuf)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	return YOC_OK;
}

void synth_out_abort(struct world *w)
{
	yoc_afile_abort(&w->truth);
	yoc_afile_abort(&w->optout);
	yoc_afile_abort(&w->regtruth);
	yoc_afile_abort(&w->risk);
	yoc_afile_abort(&w->pilotf);
	synth_outcome_abort(w);
}

/*
** One line per registration of the person: the practice, its first and last
** day (empty while registered at the end of the window) and why it ended:
** died, moved_out (left the area), changed_practice.
*/
static int regtruth_write(struct world *w, const struct person *p, struct yoc_error *e)
{
	char dod[11] = "";
	if (p->death != NEVER)
		yoc_date_format(p->death, dod);
	for (int i = 0; i < p->nreg; i++) {
		char rs[11], re[11] = "";
		const char *why = "";
		yoc_date_format(p->reg[i].start, rs);
		if (p->reg[i].end != NEVER && p->reg[i].end <= w->w1) {
			yoc_date_format(p->reg[i].end, re);
			why = p->reg[i].end == p->death ? "died"
				: i + 1 < p->nreg ? "changed_practice" : "moved_out";
		}
		if (fprintf(w->regtruth.f, "%.10s,%s,%s,%s,%s,%s\n", p->nhs, w->prac_code[p->reg[i].prac],
			    rs, re, why, dod) < 0)
			return yoc_error_set(e, YOC_EIO, w->regtruth.path, 0, 0, "write failed");
	}
	return YOC_OK;
}

/* ---- truth --------------------------------------------------------------------------- */

static int popcount64(uint64_t x)
{
	return __builtin_popcountll(x);
}

int synth_truth_write(struct world *w, const struct person *p, struct truth_acc *t,
		      struct yoc_error *e)
{
	for (int y = 0; y < w->years; y++) {
		int32_t fs = w->fstart[y], fe = w->fstart[y + 1] - 1;
		int first = -1;
		for (int i = 0; i < p->nreg; i++)
			if (p->reg[i].start <= fe && p->reg[i].end >= fs) {
				first = i;
				break;
			}
		if (first < 0)
			continue;
		int32_t on = p->reg[first].start > fs ? p->reg[first].start : fs;
		int prac = person_practice_on(p, on);
		if (prac < 0)
			prac = p->reg[first].prac;
		/* LTCs: register dates by the year end, or APC diagnoses in the 3-year window. */
		uint64_t mask = 0;
		size_t nc = yoc_ltc_count(w->ltc);
		for (size_t i = 0; i < nc; i++)
			if (t->reg_known[i] <= fe)
				mask |= (uint64_t)1 << i;
		int32_t lb = yoc_fyear_start(w->first_year + y - 2);
		for (int i = 0; i < t->nepi; i++)
			if (t->epi_start[i] >= lb && t->epi_start[i] <= fe)
				mask |= t->epi_mask[i];
		/* Age from month and year of birth only, as the pseudonymised
		** feeds carry (MYDOB): someone born in April is taken not yet to
		** have had the birthday on 1 April (docs/costing.md). */
		int by, bm, bd;
		yoc_date_to_ymd(p->dob, &by, &bm, &bd);
		int age = w->first_year + y - by - (bm >= 4);
		if (age < 0)
			age = 0;
		struct rowb b;
		b.f = NULL;
		b.start = b.p = w->tbuf + w->tlen;
		rb_mem(&b, p->nhs, 10);
		rb_comma(&b);
		rb_uint(&b, (uint64_t)(w->first_year + y));
		*b.p++ = '/';
		rb_uint_pad(&b, (uint64_t)((w->first_year + y + 1) % 100), 2);
		rb_comma(&b);
		rb_uint(&b, (uint64_t)age);
		rb_comma(&b);
		*b.p++ = (char)('0' + p->sex);
		rb_comma(&b);
		rb_str(&b, w->prac_code[prac]);
		rb_str(&b, ",E01");
		rb_uint_pad(&b, 90001 + p->lsoa, 6);
		rb_comma(&b);
		rb_uint(&b, p->decile);
		rb_comma(&b);
		rb_uint(&b, (uint64_t)popcount64(mask));
		rb_comma(&b);
		rb_uint(&b, (uint64_t)popcount64(mask & w->mental_mask));
		rb_comma(&b);
		int firstc = 1;
		for (size_t i = 0; i < nc; i++)
			if (mask & ((uint64_t)1 << i)) {
				if (!firstc)
					*b.p++ = ';';
				rb_str(&b, yoc_ltc_get(w->ltc, i)->id);
				firstc = 0;
			}
		rb_comma(&b);
		rb_uint(&b, (uint64_t)t->emergency[y]);
		rb_comma(&b);
		rb_uint(&b, (uint64_t)t->other_ne[y]);
		rb_comma(&b);
		rb_uint(&b, (uint64_t)t->bed_days[y]);
		rb_comma(&b);
		rb_uint(&b, (uint64_t)t->emergency_bed_days[y]);
		rb_comma(&b);
		rb_uint(&b, (uint64_t)t->mh_bed_days[y]);
		rb_comma(&b);
		*b.p++ = p->death >= fs && p->death <= fe ? '1' : '0';
		rb_comma(&b);
		*b.p++ = p->optout ? '1' : '0';
		int64_t total = 0;
		for (int s = 0; s < NSETTING; s++)
			total += t->cost[y][s];
		rb_comma(&b);
		rb_pence(&b, total);
		for (int s = 0; s < NSETTING; s++) {
			rb_comma(&b);
			rb_pence(&b, t->cost[y][s]);
		}
		rb_comma(&b);
		rb_pence(&b, t->cost_emergency[y]);
		rb_comma(&b);
		rb_pence(&b, t->cost_other_ne[y]);
		rb_comma(&b);
		rb_pence(&b, t->cost_apc_provider[y]);
		*b.p++ = '\n';
		fprintf(w->risk.f, "%.10s,%d/%02d,%.9g\n", p->nhs, w->first_year + y,
			(w->first_year + y + 1) % 100, t->p_emergency[y]);
		w->tlen = (size_t)(b.p - w->tbuf);
		w->person_years++;
	}
	int rc = regtruth_write(w, p, e);
	if (rc)
		return rc;
	if (p->optout && p->nreg > 0) {
		fwrite(p->nhs, 1, 10, w->optout.f);
		fputc('\n', w->optout.f);
	}
	if (w->tlen > ((size_t)1 << 21) - 32768) {
		if (fwrite(w->tbuf, 1, w->tlen, w->truth.f) != w->tlen)
			return yoc_error_set(e, YOC_EIO, w->truth.path, 0, 0, "write failed");
		w->tlen = 0;
	}
	return YOC_OK;
}

/* ---- contracts and manifest -------------------------------------------------------------- */

/* The manifest is built in memory; a failed append is remembered in bad. */
struct jbuf {
	struct yoc_buf b;
	int bad;
};

static void jputs(struct jbuf *j, const char *s)
{
	j->bad |= yoc_buf_puts(&j->b, s);
}

static void jprintf(struct jbuf *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jprintf(struct jbuf *j, const char *fmt, ...)
{
	char t[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(t, sizeof t, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof t)
		j->bad = 1;
	else
		j->bad |= yoc_buf_append(&j->b, t, (size_t)n);
}

static void json_str(struct jbuf *j, const char *s)
{
	j->bad |= yoc_buf_putc(&j->b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			j->bad |= yoc_buf_putc(&j->b, '\\');
		j->bad |= yoc_buf_putc(&j->b, *s);
	}
	j->bad |= yoc_buf_putc(&j->b, '"');
}

static void json_pence(struct jbuf *j, int64_t pence)
{
	char t[32];
	yoc_pence_format(pence, t);
	jputs(j, t);
}

struct contract {
	int64_t value;
	int off;
};

static int write_contracts(struct world *w, struct contract *ct, struct yoc_error *e)
{
	struct yoc_afile af;
	char path[4096];
	struct rng r;
	int rc;
	rng_seed(&r, w->o->seed, STREAM_FILES, 1);
	snprintf(path, sizeof path, "%s/contracts.csv", w->o->out_dir);
	if ((rc = yoc_afile_open(&af, path, e)) != 0)
		return rc;
	fputs("provider,setting,fyear,contract_value\n", af.f);
	int noff = 0;
	size_t n = (size_t)w->ncprov * w->years;
	for (size_t i = 0; i < n; i++) {
		int64_t priced = w->priced[i];
		double u = rng_unif(&r), v = rng_unif(&r), s = rng_unif(&r);
		double f = 1.0 + (u - 0.5) * 0.04; /* within 2% */
		int off = w->defect_scale > 0 && priced > 0 && v < 0.15 * (w->defect_scale < 1 ? w->defect_scale : 1);
		if (!off && w->defect_scale > 0 && priced > 0 && i == n - 1 && noff == 0)
			off = 1; /* at least one contract contradicts the activity */
		if (off) {
			double dev = 0.15 + 0.25 * u;
			f = s < 0.5 ? 1.0 - dev : 1.0 + dev;
			noff++;
		}
		/* Contracts are agreed in whole thousands of pounds. */
		int64_t value = (int64_t)llround((double)priced * f / 100000.0) * 100000;
		ct[i].value = value;
		ct[i].off = off;
		char fy[8], money[32];
		yoc_fyear_format(w->first_year + (int)(i % (size_t)w->years), fy);
		yoc_pence_format(value, money);
		fprintf(af.f, "%s,%s,%s,%s\n", w->cprov[i / (size_t)w->years].code,
			w->cprov[i / (size_t)w->years].setting, fy, money);
	}
	return yoc_afile_commit(&af, e);
}

static int write_manifest(struct world *w, const struct contract *ct, struct yoc_error *e)
{
	struct jbuf b;
	struct yoc_afile af;
	char path[4096], rel[512], per[16], d0[11], d1[11], dx[11];
	int rc;
	uint64_t total[D_COUNT] = {0};
	yoc_buf_init(&b.b, 0);
	b.bad = 0;
	yoc_date_format(w->w0, d0);
	yoc_date_format(w->w1, d1);
	yoc_date_format(w->extract_date, dx);
	jprintf(&b, "{\n  \"generator\": \"yoc synth %s\",\n", YOC_VERSION);
	jprintf(&b, "  \"options\": {\"persons\": %llu, \"years\": %d, \"first_year\": %d, "
			   "\"seed\": %llu, \"defect_rate\": %g},\n",
		       (unsigned long long)w->o->persons, w->years, w->first_year,
		       (unsigned long long)w->o->seed, w->o->defect_rate);
	jprintf(&b, "  \"window\": {\"start\": \"%s\", \"end\": \"%s\"},\n", d0, d1);
	jprintf(&b, "  \"extract_date\": \"%s\",\n", dx);
	jprintf(&b, "  \"ltc_codelist_version\": ");
	json_str(&b, yoc_ltc_version(w->ltc));
	jprintf(&b, ",\n  \"population\": {\"persons\": %llu, \"baseline\": %llu, "
			   "\"births\": %llu, \"movers_in\": %llu, \"person_years\": %llu, "
			   "\"nhs_numbers_outside_999_range\": %llu, \"practices\": %u, \"lsoas\": %u},\n",
		       (unsigned long long)w->ntotal, (unsigned long long)w->nbase,
		       (unsigned long long)w->nbirth, (unsigned long long)w->nmover,
		       (unsigned long long)w->person_years, (unsigned long long)w->nhs_overflow,
		       w->nprac, w->nlsoa);
	jputs(&b, "  \"defect_types\": [");
	for (int d = 0; d < D_COUNT; d++) {
		jputs(&b, d ? ", " : "");
		json_str(&b, synth_defect_names[d]);
	}
	jputs(&b, "],\n  \"files\": [\n");
	int firstf = 1;
	for (int copy = 0; copy < 2; copy++)
		for (size_t i = 0; i < w->nfiles; i++) {
			const struct sfile *f = &w->files[i];
			if (f->withheld || (copy && !f->dupfile))
				continue;
			rel_path(w, f, copy, rel, sizeof rel);
			period_label(w, f, per, sizeof per);
			jputs(&b, firstf ? "    {\"path\": " : ",\n    {\"path\": ");
			firstf = 0;
			json_str(&b, rel);
			jputs(&b, ", \"kind\": ");
			json_str(&b, synth_kinds[f->kind].name);
			jputs(&b, ", \"provider\": ");
			json_str(&b, w->prov_code[f->kind][f->prov]);
			jputs(&b, ", \"period\": ");
			json_str(&b, per);
			jprintf(&b, ", \"rows\": %llu, \"bytes\": %llu, \"defects\": {",
				       (unsigned long long)f->rows, (unsigned long long)f->bytes);
			for (int d = 0; d < D_COUNT; d++) {
				uint64_t v = f->defects[d];
				if (d == D_DUP_FILE)
					v = copy ? f->rows : 0;
				total[d] += v;
				jprintf(&b, "%s\"%s\": %llu", d ? ", " : "", synth_defect_names[d],
					       (unsigned long long)v);
			}
			jputs(&b, "}");
			char od[256];
			synth_outcome_manifest_file(w, f, od, sizeof od);
			jputs(&b, od);
			if (f->renamed) {
				int ncols = f->kind == K_REGISTER ? w->reg_ncols : synth_kinds[f->kind].ncols;
				const struct colspec *cols = f->kind == K_REGISTER ? w->reg_spec
										   : synth_kinds[f->kind].cols;
				int rcol = synth_kinds[f->kind].rename_col;
				if (rcol < ncols)
					jprintf(&b, ", \"renamed_column\": {\"from\": \"%s\", \"to\": \"%s\"}",
						       cols[rcol].name, synth_kinds[f->kind].rename_to);
			}
			if (copy) {
				rel_path(w, f, 0, rel, sizeof rel);
				jputs(&b, ", \"duplicate_of\": ");
				json_str(&b, rel);
			}
			jputs(&b, "}");
		}
	jputs(&b, "\n  ],\n  \"withheld\": [");
	int firstw = 1;
	for (size_t i = 0; i < w->nfiles; i++) {
		const struct sfile *f = &w->files[i];
		if (!f->withheld)
			continue;
		rel_path(w, f, 0, rel, sizeof rel);
		period_label(w, f, per, sizeof per);
		jputs(&b, firstw ? "\n    {\"path\": " : ",\n    {\"path\": ");
		firstw = 0;
		json_str(&b, rel);
		jputs(&b, ", \"kind\": ");
		json_str(&b, synth_kinds[f->kind].name);
		jputs(&b, ", \"provider\": ");
		json_str(&b, w->prov_code[f->kind][f->prov]);
		jputs(&b, ", \"period\": ");
		json_str(&b, per);
		jprintf(&b, ", \"rows_withheld\": %llu}", (unsigned long long)f->rows);
	}
	jputs(&b, firstw ? "],\n" : "\n  ],\n");
	jputs(&b, "  \"defect_totals\": {");
	for (int d = 0; d < D_COUNT; d++)
		jprintf(&b, "%s\"%s\": %llu", d ? ", " : "", synth_defect_names[d],
			       (unsigned long long)total[d]);
	jputs(&b, "},\n");
	char odt[512];
	synth_outcome_manifest_totals(w, odt, sizeof odt);
	jputs(&b, odt);
	jputs(&b, "  \"contracts\": [");
	size_t n = (size_t)w->ncprov * w->years;
	for (size_t i = 0; i < n; i++) {
		char fy[8];
		yoc_fyear_format(w->first_year + (int)(i % (size_t)w->years), fy);
		jputs(&b, i ? ",\n    {\"provider\": " : "\n    {\"provider\": ");
		json_str(&b, w->cprov[i / (size_t)w->years].code);
		jputs(&b, ", \"fyear\": ");
		json_str(&b, fy);
		jputs(&b, ", \"contract_value\": ");
		json_pence(&b, ct[i].value);
		jputs(&b, ", \"priced_activity\": ");
		json_pence(&b, w->priced[i]);
		jprintf(&b, ", \"off\": %s}", ct[i].off ? "true" : "false");
	}
	jprintf(&b, "\n  ],\n  \"truth\": {\"path\": \"truth/person_year.csv\", \"rows\": %llu},\n",
		       (unsigned long long)w->person_years);
	jputs(&b, "  \"contracts_path\": \"contracts.csv\",\n  \"optout_path\": \"optout.csv\"\n}\n");
	if (b.bad) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory for the manifest");
		goto cleanup;
	}
	snprintf(path, sizeof path, "%s/manifest.json", w->o->out_dir);
	if ((rc = yoc_afile_open(&af, path, e)) != 0)
		goto cleanup;
	if (b.b.len && fwrite(b.b.data, 1, b.b.len, af.f) != b.b.len) {
		yoc_afile_abort(&af);
		rc = yoc_error_set(e, YOC_EIO, path, 0, 0, "write failed");
		goto cleanup;
	}
	rc = yoc_afile_commit(&af, e);
cleanup:
	yoc_buf_free(&b.b);
	return rc;
}

int synth_out_finish(struct world *w, struct yoc_synth_stats *st, struct yoc_error *e)
{
	int rc;
	struct contract *ct = NULL;
	if ((rc = synth_out_flush(w, 1, e)) != 0)
		return rc;
	if ((rc = synth_defect_finish(w, e)) != 0)
		return rc;
	if (w->tlen && fwrite(w->tbuf, 1, w->tlen, w->truth.f) != w->tlen)
		return yoc_error_set(e, YOC_EIO, w->truth.path, 0, 0, "write failed");
	w->tlen = 0;
	if ((rc = yoc_afile_commit(&w->truth, e)) != 0)
		return rc;
	if ((rc = yoc_afile_commit(&w->optout, e)) != 0)
		return rc;
	if ((rc = yoc_afile_commit(&w->regtruth, e)) != 0)
		return rc;
	if ((rc = yoc_afile_commit(&w->risk, e)) != 0)
		return rc;
	if (w->o->pilot && (rc = yoc_afile_commit(&w->pilotf, e)) != 0)
		return rc;
	if ((rc = synth_outcome_finish(w, e)) != 0)
		return rc;
	ct = yoc_calloc((size_t)w->ncprov * w->years, sizeof *ct);
	if (!ct)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	if ((rc = write_contracts(w, ct, e)) == 0)
		rc = write_manifest(w, ct, e);
	yoc_free(ct);
	if (rc)
		return rc;
	if (st) {
		st->persons = w->ntotal;
		st->person_years = w->person_years;
		st->rows = w->rows;
		st->pilot_eligible = w->pilot_eligible;
		st->pilot_enrolled = w->pilot_enrolled;
		st->pilot_missing_practices = w->pilot_missing_prac;
		st->defect_rows = w->defect_rows;
		st->nhs_overflow = w->nhs_overflow;
		st->files = 0;
		st->bytes = 0;
		for (size_t i = 0; i < w->nfiles; i++)
			if (!w->files[i].withheld) {
				st->files += 1 + w->files[i].dupfile;
				st->bytes += w->files[i].bytes * (1 + w->files[i].dupfile);
			}
	}
	return YOC_OK;
}

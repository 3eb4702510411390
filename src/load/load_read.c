/*
** Load, first stage: read a file, recognise it (header, identifier policy,
** name), and validate every row: a row that fails goes to the file's held
** quarantine rows with its reason, one that passes goes on to the encoder
** (load_encode.c). Exact repeats of an earlier row are held back. Touches
** no catalog and nothing shared but the loader's read-only settings, so
** files are read on any thread. Nothing here prints.
*/
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "load/feedname.h"
#include "load/load_int.h"
#include "yoc/date.h"
#include "yoc/io.h"

/*
** 128-bit content hash in one pass: four 64-bit lanes over 32-byte stripes
** (the xxHash64 round), two different finalisations of the lanes. Used for
** file identity (unchanged / replaced) and exact duplicate rows; the segment
** format's checksums are yoc_hash64's and stay so.
*/
#define H_P1 0x9e3779b185ebca87ULL
#define H_P2 0xc2b2ae3d27d4eb4fULL
#define H_P3 0x165667b19e3779f9ULL
static inline uint64_t h_rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t h_round(uint64_t acc, uint64_t w)
{
	return h_rotl(acc + w * H_P2, 31) * H_P1;
}

static inline uint64_t h_fmix(uint64_t h)
{
	h ^= h >> 33;
	h *= H_P2;
	h ^= h >> 29;
	h *= H_P3;
	h ^= h >> 32;
	return h;
}

/*
** The r (1 to 7) bytes at p as the low bytes of a word, as memcpy into a
** zeroed word puts them on a little-endian machine, from fixed-size loads:
** a copy of a length known only at run time costs a call and a stalled load
** per row.
*/
static inline uint64_t tail_word(const unsigned char *p, size_t r)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (r >= 4) {
		uint32_t lo, hi;
		memcpy(&lo, p, 4);
		memcpy(&hi, p + r - 4, 4); /* overlaps lo: the same bytes in the same places */
		return (uint64_t)lo | (uint64_t)hi << (8 * (r - 4));
	}
	return (uint64_t)p[0] | (uint64_t)p[r / 2] << (8 * (r / 2)) |
	       (uint64_t)p[r - 1] << (8 * (r - 1));
#else
	uint64_t w = 0;
	memcpy(&w, p, r);
	return w;
#endif
}

static void hash128(const void *data, size_t n, uint64_t seed, uint64_t out[2])
{
	const unsigned char *p = data;
	uint64_t a = seed + H_P1 + H_P2, b = seed + H_P2, c = seed, d = seed - H_P1;
	size_t len = n;
	while (n >= 32) {
		uint64_t w[4];
		memcpy(w, p, 32);
		a = h_round(a, w[0]);
		b = h_round(b, w[1]);
		c = h_round(c, w[2]);
		d = h_round(d, w[3]);
		p += 32;
		n -= 32;
	}
	/* the tail, zero padded (the length goes in below) */
	uint64_t t[4] = {0, 0, 0, 0};
	size_t k = 0;
	for (; k + 8 <= n; k += 8)
		memcpy(&t[k / 8], p + k, 8);
	if (k < n)
		t[k / 8] = tail_word(p + k, n - k);
	a = h_round(a, t[0]);
	b = h_round(b, t[1]);
	c = h_round(c, t[2]);
	d = h_round(d, t[3] ^ len);
	out[0] = h_fmix(h_rotl(a, 1) + h_rotl(b, 7) + h_rotl(c, 12) + h_rotl(d, 18) + len);
	out[1] = h_fmix((a ^ h_rotl(b, 29)) * H_P3 + (c ^ h_rotl(d, 41)) * H_P1 + ~len);
}

static void hash_hex(const void *data, size_t n, char *out)
{
	uint64_t h[2];
	hash128(data, n, 0x59c0ffee, h);
	snprintf(out, 40, "%016llx%016llx", (unsigned long long)h[0], (unsigned long long)h[1]);
}

void yoc_load_content_hash(const void *data, size_t n, char out[40])
{
	hash_hex(data, n, out);
}

int yoc__lf_reject(struct yoc_load_result *res, const char *fmt, const char *arg)
{
	res->status = YOC_LOAD_REJECTED;
	snprintf(res->message, sizeof res->message, fmt, arg);
	return YOC_OK;
}

void yoc__lf_init(struct yoc__lfile *lf, const char *path, const char *root, int kind)
{
	memset(lf, 0, sizeof *lf);
	lf->path = path;
	lf->root = root ? root : path;
	lf->kind = kind;
	lf->c_status = lf->c_person = -1;
	lf->res.kind = -1;
	snprintf(lf->res.file, sizeof lf->res.file, "%s", path ? path : "");
	yoc_error_clear(&lf->e);
	yoc_error_clear(&lf->why);
	yoc_buf_init(&lf->text, 0);
}

void yoc__lf_free(struct yoc__lfile *lf)
{
	if (!lf)
		return;
	yoc_csv_close(lf->r);
	lf->r = NULL;
	yoc_idscan_free(&lf->scan);
	yoc_ident_plan_free(&lf->plan);
	for (size_t i = 0; lf->cols && i < lf->ncols; i++) {
		if (lf->cols[i].freq) {
			yoc_map_free(lf->cols[i].freq);
			yoc_free(lf->cols[i].freq);
		}
		yoc__freq_free(lf->cols[i].count);
		yoc_free(lf->cols[i].count);
	}
	yoc_free(lf->cols);
	lf->cols = NULL;
	yoc_free(lf->namebuf);
	lf->namebuf = NULL;
	if (lf->status_counts.slots)
		yoc_map_free(&lf->status_counts);
	yoc__freq_free(&lf->status);
	yoc_free(lf->seen.v);
	lf->seen.v = NULL;
	yoc_segw_free(lf->w);
	lf->w = NULL;
	yoc_segpool_free(lf->segpool);
	lf->segpool = NULL;
	if (lf->segtmp[0])
		unlink(lf->segtmp); /* never named: not part of the dataset */
	lf->segtmp[0] = 0;
	yoc_buf_free(&lf->text);
	yoc_free(lf->quar.v);
	yoc_free(lf->flags.v);
	lf->quar.v = lf->flags.v = NULL;
	yoc_free(lf->lk);
	lf->lk = NULL;
	yoc_free(lf->owned);
	lf->owned = NULL;
}

int yoc__load_read_fd(int fd, size_t size, const char *name, char **out,
		      struct yoc_error *e)
{
	char *buf = yoc_malloc(size + 1);
	size_t got = 0;
	int rc = YOC_OK;
	*out = NULL;
	if (!buf)
		return yoc_error_set(e, YOC_ENOMEM, name, 0, 0,
				     "out of memory reading the file (%zu bytes)", size);
	/* One byte more than fstat said: reading it means the file grew. */
	while (got <= size) {
		ssize_t k = read(fd, buf + got, size + 1 - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			rc = yoc_error_set(e, YOC_EIO, name, 0, 0, "read failed: %s",
					   strerror(errno));
			goto cleanup;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	if (got != size) {
		rc = yoc_error_set(e, YOC_EDATA, name, 0, 0,
				   "file changed while being read (%s: %zu bytes expected)",
				   got < size ? "shrank" : "grew", size);
		goto cleanup;
	}
	buf[size] = 0;
	*out = buf;
	buf = NULL;
cleanup:
	yoc_free(buf);
	return rc;
}

void yoc__lf_read(struct yoc_loader *L, struct yoc__lfile *lf)
{
	struct yoc_error re;
	struct stat sb;
	char *data = NULL;
	const char *path = lf->path;
	/*
	** Read into memory, not mapped: a file truncated while mapped would
	** kill the load with SIGBUS. O_NONBLOCK: a FIFO must not block the
	** open; it is refused below, as is anything but a regular file.
	*/
	yoc_error_clear(&re);
	int fd = yoc_open_regular(path, O_RDONLY, 0, &re);
	if (fd < 0)
		; /* re says why: cannot open, or a named pipe, socket, device, directory */
	else if (fstat(fd, &sb) != 0)
		yoc_error_set(&re, YOC_EIO, path, 0, 0, "cannot stat: %s", strerror(errno));
	else if (!S_ISREG(sb.st_mode))
		yoc_error_set(&re, YOC_EINVAL, path, 0, 0,
			      "not a regular file (a directory, pipe or device cannot be loaded)");
	else if ((uint64_t)sb.st_size >= SIZE_MAX)
		yoc_error_set(&re, YOC_ENOMEM, path, 0, 0, "out of memory reading the file");
	else
		yoc__load_read_fd(fd, (size_t)sb.st_size, path, &data, &re);
	if (fd >= 0)
		close(fd);
	if (!data) {
		if (re.code == YOC_ENOMEM) /* the machine, not the file: abort the load */
			lf->rc = yoc_error_set(&lf->e, YOC_ENOMEM, path, 0, 0, "%s", re.msg);
		else
			yoc__lf_reject(&lf->res, "%s", re.msg);
		return;
	}
	lf->owned = data;
	/*
	** The source account: with one found, the bytes are hashed on a helper
	** thread while they are validated, then matched to its entries.
	*/
	struct yoc_sha256_bg *sha = NULL;
	if (!(lf->lk = yoc_malloc(sizeof *lf->lk))) {
		lf->rc = yoc_error_set(&lf->e, YOC_ENOMEM, path, 0, 0, "out of memory");
		return;
	}
	pthread_mutex_lock(&L->acct_mu);
	lf->rc = yoc__acct_lookup(&L->acct, path, lf->root, lf->lk, &lf->e);
	pthread_mutex_unlock(&L->acct_mu);
	if (lf->rc)
		return;
	if (lf->lk->n) {
		if (!(sha = yoc_sha256_bg_create())) {
			lf->rc = yoc_error_set(&lf->e, YOC_ENOMEM, path, 0, 0, "out of memory");
			return;
		}
		yoc_sha256_bg_feed(sha, data, (size_t)sb.st_size);
	}
	yoc__lf_prepare(L, lf, path, data, (size_t)sb.st_size);
	yoc_sha256_bg_finish(sha, lf->sha256); /* before data is freed */
}

/* A column the policy drops, into the result's account. */
static void note_dropped(struct yoc_load_result *res, const struct yoc_cell *c)
{
	char shown[64];
	yoc_ident_show(c->p, c->n, shown, 40);
	size_t len = strlen(res->dropped);
	int k = snprintf(res->dropped + len, sizeof res->dropped - len, "%s%s",
			 res->ndropped ? ", " : "", shown);
	if (k < 0 || (size_t)k >= sizeof res->dropped - len)
		snprintf(res->dropped + sizeof res->dropped - 4, 4, "...");
	res->ndropped++;
}

/*
** Provider, period and version from the name "<PROVIDER>_<PERIOD>[_vN].csv"
** (load/feedname.h). Returns 1, with res rejected and saying why, when the
** name is not a feed name.
*/
static int name_parts(const char *path, struct yoc_load_result *res)
{
	struct yoc_feedname fn;
	struct yoc_error ne;
	yoc_error_clear(&ne);
	if (yoc_feedname_parse(path, &fn, &ne)) {
		res->status = YOC_LOAD_REJECTED;
		snprintf(res->message, sizeof res->message, "file name %.150s: %.400s", ne.file,
			 ne.msg);
		return 1;
	}
	snprintf(res->provider, sizeof res->provider, "%s", fn.provider);
	snprintf(res->period, sizeof res->period, "%s", fn.period);
	res->version = fn.version;
	return 0;
}

static int segtype_of(const struct yoc_field *f)
{
	if (!f)
		return YOC_COL_TEXT;
	switch (f->type) {
	case YOC_FT_DATE: return YOC_COL_DATE;
	case YOC_FT_INT: return YOC_COL_INT;
	case YOC_FT_MONEY: return YOC_COL_MONEY;
	default: return YOC_COL_TEXT;
	}
}

#define NAMEBUF_MAX (64 * 1024)

/*
** Column map: the columns the plan keeps, in order; canonical names first,
** then aliases for fields not yet taken. Returns 1 when the file is
** refused (res says why), YOC_ENOMEM, or 0.
*/
static int map_columns(struct yoc__lfile *lf)
{
	const struct yoc_cell *hdr = lf->hdr;
	size_t nc = lf->nin;
	lf->cols = yoc_calloc(nc + 1, sizeof *lf->cols);
	lf->namebuf = yoc_malloc(NAMEBUF_MAX);
	if (!lf->cols || !lf->namebuf || yoc_map_init(&lf->status_counts, 16) ||
	    yoc__freq_init(&lf->status) || yoc_idscan_init(&lf->scan, &lf->plan))
		return YOC_ENOMEM;
	for (size_t i = 0; i < nc; i++)
		if (lf->plan.cols[i].act == YOC_IA_KEEP)
			lf->cols[lf->ncols++].src = i;
	for (int pass = 0; pass < 2; pass++)
		for (size_t k = 0; k < lf->ncols; k++) {
			size_t i = lf->cols[k].src;
			if (lf->cols[k].f)
				continue;
			const struct yoc_field *f = lf->plan.cols[i].f;
			if (!f)
				continue;
			int canon = yoc_spec_name_eq(f->name, hdr[i].p, hdr[i].n);
			if (pass == 0 && !canon)
				continue;
			int taken = 0;
			for (size_t j = 0; j < lf->ncols; j++)
				if (lf->cols[j].f == f)
					taken = 1;
			if (!taken)
				lf->cols[k].f = f;
		}
	for (size_t k = 0; k < lf->ncols; k++) {
		struct yoc__colinfo *ci = &lf->cols[k];
		size_t i = ci->src;
		const char *cn = ci->f ? ci->f->name : NULL;
		size_t cl = cn ? strlen(cn) : hdr[i].n;
		if (lf->namelen + cl + hdr[i].n + 2 > NAMEBUF_MAX) {
			yoc__lf_reject(&lf->res, "%s", "header too long");
			return 1;
		}
		ci->name = lf->namebuf + lf->namelen;
		memcpy(lf->namebuf + lf->namelen, cn ? cn : hdr[i].p, cl);
		lf->namelen += cl;
		lf->namebuf[lf->namelen++] = 0;
		memcpy(lf->namebuf + lf->namelen, hdr[i].p, hdr[i].n);
		lf->namelen += hdr[i].n;
		lf->namebuf[lf->namelen++] = 0;
		ci->segtype = segtype_of(ci->f);
		if (ci->f && ci->f->role == YOC_ROLE_PERSON) {
			lf->c_person = (int)k;
			ci->check_pseudo = yoc_spec_name_eq("PSEUDO_ID", hdr[i].p, hdr[i].n);
		}
		if (ci->f && ci->f->role == YOC_ROLE_NHSNO_STATUS)
			lf->c_status = (int)k;
		if (ci->f && (ci->f->type == YOC_FT_CODE || ci->f->type == YOC_FT_INT)) {
			ci->freq = yoc_calloc(1, sizeof *ci->freq);
			if (!ci->freq || yoc_map_init(ci->freq, 32)) {
				yoc_free(ci->freq);
				ci->freq = NULL;
				return YOC_ENOMEM;
			}
			ci->count = yoc_calloc(1, sizeof *ci->count);
			if (!ci->count || yoc__freq_init(ci->count))
				return YOC_ENOMEM;
		}
	}
	return 0;
}

void yoc__lf_prepare(struct yoc_loader *L, struct yoc__lfile *lf, const char *name,
		     const void *data, size_t n)
{
	struct yoc_load_result *res = &lf->res;
	struct yoc_error ce;
	lf->data = data;
	lf->ndata = n;
	if (lf->hash_given)
		snprintf(lf->hash, sizeof lf->hash, "%s", lf->hash_given);
	else
		hash_hex(data, n, lf->hash);
	struct yoc_csv_opts o = {0};
	yoc_error_clear(&ce);
	if (yoc_csv_open_mem(&lf->r, data, n, name, &o, &ce)) {
		if (ce.code == YOC_ENOMEM)
			lf->rc = yoc_error_set(&lf->e, YOC_ENOMEM, name, 0, 0, "out of memory");
		else
			yoc__lf_reject(res, "cannot read the header: %s", ce.msg);
		return;
	}
	size_t nc = yoc_csv_ncols(lf->r);
	const struct yoc_cell *hdr = yoc_csv_header(lf->r);
	/* The identifier policy: refused headers, identifier names, default deny. */
	struct yoc_ident_opts io = {YOC_IDENT_LOAD, lf->kind, L->allow, L->strict};
	yoc_error_clear(&ce);
	if (yoc_ident_plan_make(&lf->plan, hdr, nc, &io, name, &ce)) {
		if (ce.code == YOC_ENOMEM) {
			lf->rc = yoc_error_set(&lf->e, YOC_ENOMEM, name, 0, 0, "out of memory");
			return;
		}
		res->kind = lf->kind;
		yoc__lf_reject(res, "%s", ce.msg);
		return;
	}
	res->kind = lf->plan.kind;
	lf->hdr = hdr;
	lf->nin = nc;
	lf->delim[0] = yoc_csv_delim(lf->r);
	for (size_t i = 0; i < nc; i++)
		if (lf->plan.cols[i].act == YOC_IA_DROP)
			note_dropped(res, &hdr[i]);
	if (name_parts(name, res))
		return;
	/* Content already stored: the catalog says whether it is unchanged
	 * before any row is read (load_commit.c reads the rows when not). */
	if (yoc_map_get(&L->stored, lf->hash, strlen(lf->hash))) {
		lf->stage = YOC__LF_STORED;
		return;
	}
	lf->rc = yoc__lf_rows(L, lf, &lf->e);
}

/* Trim spaces and upper-case into buf; returns the new length. */
static size_t standardise(const char *p, size_t n, char *buf, size_t cap)
{
	while (n && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n > cap)
		n = cap;
	for (size_t i = 0; i < n; i++)
		buf[i] = (p[i] >= 'a' && p[i] <= 'z') ? (char)(p[i] - 32) : p[i];
	return n;
}

/* NULL when MMYYYY is a month of birth from 1900 to this month, else the reason. */
static const char *mydob_bad(const char *p, size_t n, int today_ym)
{
	if (n != 6)
		return "bad_mydob";
	for (size_t i = 0; i < 6; i++)
		if (p[i] < '0' || p[i] > '9')
			return "bad_mydob";
	int m = (p[0] - '0') * 10 + (p[1] - '0');
	int y = (p[2] - '0') * 1000 + (p[3] - '0') * 100 + (p[4] - '0') * 10 + (p[5] - '0');
	if (m < 1 || m > 12)
		return "bad_mydob";
	/* HES sentinels coarsened by yoc pseudonymise (1800-01-01, 1801-01-01) */
	if (m == 1 && (y == 1800 || y == 1801))
		return "bad_mydob";
	if (y < 1900)
		return "date_out_of_range";
	if (y * 12 + m - 1 > today_ym)
		return "date_in_future";
	return NULL;
}

/* 1 when the text is an ISO date YYYY-MM-DD (the form the specification asks for). */
static int iso_date(const char *p, size_t n)
{
	return n == 10 && p[4] == '-' && p[7] == '-';
}

/*
** Validates one well-formed row. Returns 1 if the row goes to quarantine
** (*qcol, *qwhy set), else 0 with vals filled.
*/
static int validate(const struct yoc_loader *L, struct yoc__lfile *lf,
		    const struct yoc_csv_row *row, struct yoc__val *vals, char *stdbuf,
		    size_t *qcol, const char **qwhy)
{
	char *sb = stdbuf;
	for (size_t c = 0; c < lf->ncols; c++) {
		struct yoc__colinfo *ci = &lf->cols[c];
		struct yoc__val *v = &vals[c];
		struct yoc_cell cell = row->cells[ci->src];
		v->p = cell.p;
		v->n = cell.n;
		v->why = NULL;
		v->action = NULL;
		v->i = YOC_INT_NONE;
		const struct yoc_field *f = ci->f;
		if (!f)
			continue;
		int empty = cell.n == 0;
		if (!empty) {
			empty = 1;
			for (size_t k = 0; k < cell.n && empty; k++)
				if (cell.p[k] != ' ')
					empty = 0;
		}
		if (empty) {
			if (f->required) {
				*qcol = c;
				*qwhy = "missing_required";
				return 1;
			}
			v->n = 0;
			continue;
		}
		const char *bad = NULL;
		switch (f->type) {
		case YOC_FT_DATE: {
			int32_t d;
			int k = yoc_date_parse(cell.p, cell.n, &d);
			if (k == YOC_DATE_VALID) {
				v->i = d;
				if (d < L->day_min)
					bad = "date_out_of_range";
				else if (d > L->today)
					bad = "date_in_future";
				else if (!iso_date(cell.p, cell.n)) {
					/* DD/MM/YYYY: understood, kept as the date, flagged */
					v->why = "date_format";
					v->action = "standardised";
				}
			} else if (k == YOC_DATE_NULL || k == YOC_DATE_INVALID) {
				if (f->required) {
					*qcol = c;
					*qwhy = k == YOC_DATE_NULL ? "hes_null_date" : "hes_invalid_date";
					return 1;
				}
				v->i = k == YOC_DATE_NULL ? YOC_DATE_HES_NULL : YOC_DATE_HES_INVALID;
			} else if (k == YOC_DATE_EMPTY)
				v->i = YOC_DATE_NONE;
			else
				bad = "bad_date";
			break;
		}
		case YOC_FT_INT:
			if (yoc_cell_int(cell, &v->i))
				bad = "bad_number";
			break;
		case YOC_FT_MONEY:
			if (yoc_cell_pence(cell, &v->i))
				bad = "bad_money";
			break;
		case YOC_FT_MYDOB:
			bad = mydob_bad(cell.p, cell.n, L->today_ym);
			break;
		case YOC_FT_PSEUDO:
			/* The yoc pseudonym has a fixed form; HES pseudonyms are opaque. */
			if (ci->check_pseudo && !yoc_spec_pseudo_ok(cell.p, cell.n))
				bad = "bad_pseudo_id";
			break;
		case YOC_FT_CODE:
			if (f->codes && !yoc_spec_code_ok(f->codes, cell.p, cell.n)) {
				size_t sn = standardise(cell.p, cell.n, sb, 16);
				if (sn && sn <= 15 && yoc_spec_code_ok(f->codes, sb, sn)) {
					v->p = sb;
					v->n = sn;
					v->why = "code_standardised";
					v->action = "standardised";
					sb += 16;
				} else {
					bad = "bad_code";
				}
			}
			if (!bad && f->check && !v->why && !f->check(cell.p, cell.n))
				bad = "bad_code";
			break;
		case YOC_FT_TEXT:
			/* a measure kept as written, whose range a rule checks (PAM_SCORE) */
			if (f->check && !f->check(cell.p, cell.n))
				bad = "out_of_range";
			break;
		default:
			break;
		}
		if (bad) {
			if (f->onbad == YOC_BAD_QUARANTINE) {
				*qcol = c;
				*qwhy = bad;
				return 1;
			}
			v->why = bad;
			if (f->onbad == YOC_BAD_NULL) {
				v->action = "nulled";
				v->i = YOC_INT_NONE;
				if (f->type == YOC_FT_DATE)
					v->i = YOC_DATE_NONE;
			} else {
				v->action = "kept";
			}
		}
	}
	return 0;
}

/*
** Social care bills carry their own cost, which is used as sent; it is
** checked against its rule (docs/feeds.md): hours x hourly rate, or weekly
** cost x days / 7 rounded half away from zero. A cost that breaks the rule
** is kept and flagged cost_mismatch on COST.
*/
struct sc_cols {
	int units, unit_type, hourly, weekly, cost;
};

static int col_of(const struct yoc__lfile *lf, const char *name)
{
	for (size_t c = 0; c < lf->ncols; c++)
		if (strcmp(lf->cols[c].name, name) == 0)
			return (int)c;
	return -1;
}

static void check_social_cost(const struct sc_cols *k, struct yoc__val *vals)
{
	if (k->cost < 0 || k->units < 0 || k->unit_type < 0)
		return;
	struct yoc__val *cost = &vals[k->cost];
	const struct yoc__val *units = &vals[k->units], *ut = &vals[k->unit_type];
	if (cost->why || units->why || ut->why || cost->n == 0 || units->n == 0)
		return;
	int64_t want;
	if (ut->n == 5 && memcmp(ut->p, "HOURS", 5) == 0) {
		if (k->hourly < 0 || vals[k->hourly].why || vals[k->hourly].n == 0)
			return;
		want = units->i * vals[k->hourly].i;
	} else if (ut->n == 4 && memcmp(ut->p, "DAYS", 4) == 0) {
		if (k->weekly < 0 || vals[k->weekly].why || vals[k->weekly].n == 0)
			return;
		int64_t x = vals[k->weekly].i * units->i;
		want = x >= 0 ? (2 * x + 7) / 14 : -((-2 * x + 7) / 14);
	} else {
		return;
	}
	if (want != cost->i) {
		cost->why = "cost_mismatch";
		cost->action = "kept";
	}
}

/*
** Holds a quarantined row: a well-formed row keeps only the columns loaded
** (a dropped column never enters the dataset); a malformed one keeps every
** cell, all of which the identifier scan has seen.
*/
static int quarantine(struct yoc__lfile *lf, long line, const char *field, const char *v,
		      size_t vn, const char *reason, const struct yoc_csv_row *row,
		      struct yoc_error *e)
{
	char raw[4096];
	size_t rn = 0;
	int whole = row && row->ncells == lf->nin && !row->fault;
	size_t nraw = row ? (whole ? lf->ncols : row->ncells) : 0;
	for (size_t j = 0; j < nraw && rn < sizeof raw - 1; j++) {
		const struct yoc_cell *cl = &row->cells[whole ? lf->cols[j].src : j];
		size_t k = cl->n;
		if (j && rn < sizeof raw - 1)
			raw[rn++] = ',';
		if (k > sizeof raw - 1 - rn)
			k = sizeof raw - 1 - rn;
		memcpy(raw + rn, cl->p, k);
		rn += k;
	}
	if (yoc__lf_hold(lf, &lf->quar, line, field, v ? v : "", v ? (vn > 2000 ? 2000 : vn) : 0,
			 reason, raw, rn))
		return yoc_error_set(e, YOC_ENOMEM, lf->res.file, line, 0, "out of memory");
	struct yoc_load_result *res = &lf->res;
	res->quarantined++;
	long col = 0; /* the field's column in the file, counted from 1 */
	for (size_t j = 0; field && *field && j < lf->ncols && !col; j++)
		if (strcmp(lf->cols[j].name, field) == 0)
			col = (long)lf->cols[j].src + 1;
	for (size_t i = 0; i < res->nreasons; i++)
		if (strcmp(res->reasons[i].code, reason) == 0) {
			res->reasons[i].rows++;
			return YOC_OK;
		}
	size_t i = res->nreasons < YOC_LOAD_MAX_REASONS ? res->nreasons++ : YOC_LOAD_MAX_REASONS - 1;
	snprintf(res->reasons[i].code, sizeof res->reasons[i].code, "%s", reason);
	snprintf(res->reasons[i].field, sizeof res->reasons[i].field, "%s", field ? field : "");
	res->reasons[i].rows = 1;
	res->reasons[i].line = line;
	res->reasons[i].col = col;
	return YOC_OK;
}

/* The lines in the file: at least its rows, as the header is one. */
static size_t lines_in(const struct yoc__lfile *lf)
{
	size_t n = 0;
	const char *p = lf->data, *end = lf->data + lf->ndata;
	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	return n + 1;
}

/* Adds a row's hash to the set; *isnew says whether it was not there. */
static int rowset_add(struct yoc__rowset *rs, const uint64_t h[2], int *isnew)
{
	if (!h[0] && !h[1]) {
		*isnew = !rs->has_zero;
		rs->has_zero = 1;
		return YOC_OK;
	}
	if ((rs->n + 1) * 10 > rs->cap * 7) {
		size_t nc = rs->cap ? rs->cap * 2 : 4096;
		uint64_t(*nv)[2] = yoc_calloc(nc, sizeof *nv);
		if (!nv)
			return YOC_ENOMEM;
		for (size_t k = 0; k < rs->cap; k++) {
			if (!rs->v[k][0] && !rs->v[k][1])
				continue;
			size_t j = (size_t)rs->v[k][0] & (nc - 1);
			while (nv[j][0] || nv[j][1])
				j = (j + 1) & (nc - 1);
			nv[j][0] = rs->v[k][0];
			nv[j][1] = rs->v[k][1];
		}
		yoc_free(rs->v);
		rs->v = nv;
		rs->cap = nc;
	}
	size_t j = (size_t)h[0] & (rs->cap - 1);
	for (; rs->v[j][0] || rs->v[j][1]; j = (j + 1) & (rs->cap - 1))
		if (rs->v[j][0] == h[0] && rs->v[j][1] == h[1]) {
			*isnew = 0;
			return YOC_OK;
		}
	rs->v[j][0] = h[0];
	rs->v[j][1] = h[1];
	rs->n++;
	*isnew = 1;
	return YOC_OK;
}

/*
** The content hash of a well-formed row, by its cells: equal cells give
** equal hashes however they were quoted. The cells joined by the delimiter
** say exactly what they are when no cell holds the delimiter: hashed where
** they lie when they lie so in the reader's buffer (a row without quotes),
** else joined in *tmp first. A row with the delimiter inside a cell (quoted)
** is hashed cell by cell: no row of the other form has the same cells.
*/
static int row_hash(const struct yoc__lfile *lf, const struct yoc_csv_row *row,
		    struct yoc_buf *tmp, uint64_t hk[2])
{
	const struct yoc_cell *c = row->cells;
	size_t nin = lf->nin;
	char d = lf->delim[0];
	int in_place = nin > 0, plain = 1;
	for (size_t i = 0; i + 1 < nin && in_place; i++)
		in_place = c[i].p + c[i].n + 1 == c[i + 1].p && c[i].p[c[i].n] == d;
	for (size_t i = 0; i < nin && plain && row->quoted; i++)
		plain = !c[i].n || !memchr(c[i].p, d, c[i].n);
	if (in_place && plain) {
		hash128(c[0].p, (size_t)(c[nin - 1].p + c[nin - 1].n - c[0].p), 1, hk);
		return YOC_OK;
	}
	if (nin && plain) {
		yoc_buf_reset(tmp);
		for (size_t i = 0; i < nin; i++)
			if ((i && yoc_buf_putc(tmp, d)) || yoc_buf_append(tmp, c[i].p, c[i].n))
				return YOC_ENOMEM;
		hash128(tmp->len ? tmp->data : "", tmp->len, 1, hk);
		return YOC_OK;
	}
	uint64_t h2[2];
	hk[0] = 2;
	hk[1] = nin;
	for (size_t i = 0; i < nin; i++) {
		hash128(c[i].p, c[i].n, hk[0] ^ h_rotl(hk[1], 17), h2);
		hk[0] = h2[0];
		hk[1] ^= h2[1];
	}
	return YOC_OK;
}

/*
** Every row of the file, validated: quarantined (held with its reason) or
** encoded. An identifier in any value refuses the whole file
** (YOC__LF_REFUSED, lf->why says where). Returns 0, or a failure that
** aborts the load.
*/
int yoc__lf_rows(struct yoc_loader *L, struct yoc__lfile *lf, struct yoc_error *e)
{
	struct yoc__val *vals = NULL;
	char *stdbuf = NULL;
	int rc = YOC_OK;
	size_t n;
	struct yoc_buf joined; /* a quoted row's cells, joined for its hash */
	yoc_buf_init(&joined, 0);
	if ((rc = map_columns(lf)) == 1)
		return YOC_OK; /* refused: res says why */
	if (rc)
		goto oom;
	n = lf->ncols;
	vals = yoc_calloc(n + 1, sizeof *vals);
	stdbuf = yoc_malloc(16 * (n + 1));
	if (!vals || !stdbuf || yoc__lf_encode_begin(lf))
		goto oom;
	struct sc_cols sc = {-1, -1, -1, -1, -1};
	if (lf->res.kind == YOC_KIND_SOCIAL_CARE) {
		sc.units = col_of(lf, "UNITS");
		sc.unit_type = col_of(lf, "UNIT_TYPE");
		sc.hourly = col_of(lf, "HOURLY_RATE");
		sc.weekly = col_of(lf, "WEEKLY_COST");
		sc.cost = col_of(lf, "COST");
	}
	struct yoc_csv_row row;
	struct yoc_error ce;
	yoc_error_clear(&ce); /* and again after a row that set it: a clear costs 1 KiB */
	for (;;) {
		int k = yoc_csv_next(lf->r, &row, &ce);
		if (k == 0)
			break;
		if (k < 0 && row.fault == YOC_CSV_OK) { /* YOC_EIO, YOC_ENOMEM: the reader stopped */
			rc = yoc_error_set(e, k, lf->res.file, ce.line, 0, "%s", ce.msg);
			goto cleanup;
		}
		lf->res.rows++;
		/* Every value that could enter the dataset (a loaded cell, or any
		 * cell of a row quarantined whole) passes the identifier scan. */
		if (!lf->scanned)
			yoc_idscan_row(&lf->scan, row.cells, row.ncells, row.line,
				       k < 0 || row.ncells != lf->nin);
		if (k < 0) {
			char why[48];
			snprintf(why, sizeof why, "csv_%s", yoc_csv_fault_str(row.fault));
			const char *field = "";
			if (ce.col > 0 && row.fault != YOC_CSV_RAGGED_ROW) {
				/* column of the fault, when the reader knows it: by cell count */
				size_t ci = row.ncells ? row.ncells - 1 : 0;
				for (size_t j = 0; j < n; j++)
					if (lf->cols[j].src == ci)
						field = lf->cols[j].name;
			}
			if ((rc = quarantine(lf, row.line, field, "", 0, why, &row, e)))
				goto cleanup;
			yoc_error_clear(&ce);
			continue;
		}
		size_t qcol = 0;
		const char *qwhy = NULL;
		if (row.ncells != lf->nin) {
			if ((rc = quarantine(lf, row.line, "", "", 0, "csv_ragged_row", &row, e)))
				goto cleanup;
			continue;
		}
		/* An exact repeat of an earlier row of the same file is held back. */
		uint64_t hk[2];
		if (row_hash(lf, &row, &joined, hk))
			goto oom;
		int isnew = 0;
		if (rowset_add(&lf->seen, hk, &isnew))
			goto oom;
		if (!isnew) {
			if ((rc = quarantine(lf, row.line, "", "", 0, "duplicate_row", &row, e)))
				goto cleanup;
			continue;
		}
		if (validate(L, lf, &row, vals, stdbuf, &qcol, &qwhy)) {
			lf->cols[qcol].invalid++;
			const struct yoc_cell *qc = &row.cells[lf->cols[qcol].src];
			if ((rc = quarantine(lf, row.line, lf->cols[qcol].name, qc->p, qc->n, qwhy,
					     &row, e)))
				goto cleanup;
			continue;
		}
		check_social_cost(&sc, vals);
		if ((rc = yoc__lf_append(lf, vals, row.line, e)))
			goto cleanup;
		/* the segment's size, from the rows so far and the lines to come */
		if (++lf->res.loaded == 1024 && yoc_segw_reserve(lf->w, lines_in(lf)))
			goto oom;
	}
	for (size_t i = 0; i < lf->nin; i++)
		lf->res.flagged += lf->cols[i].invalid;
	/* the counts, into the maps the statistics are written from */
	for (size_t c = 0; c < n; c++)
		if (lf->cols[c].count && yoc__freq_map(lf->cols[c].count, lf->cols[c].freq))
			goto oom;
	if (yoc__freq_map(&lf->status, &lf->status_counts))
		goto oom;
	/* Identifiers in any value refuse the whole file before its segment is
	 * written. */
	yoc_error_clear(&lf->why);
	if (yoc_idscan_verdict(&lf->scan, lf->hdr, lf->res.file, &lf->why) == YOC_EPERM)
		lf->stage = YOC__LF_REFUSED;
	else if (lf->why.code)
		rc = yoc_error_set(e, lf->why.code, lf->why.file, lf->why.line, lf->why.col, "%s",
				   lf->why.msg);
	else if (!(rc = yoc_segw_write_tmp(lf->w, L->s, lf->segtmp, sizeof lf->segtmp, e))) {
		/* written here, on the file's thread; its pseudonyms pooled and the
		 * file named when it commits, in load order */
		lf->segpool = yoc_segw_take_pool(lf->w);
		lf->stage = YOC__LF_ENCODED;
		yoc_segw_free(lf->w);
		lf->w = NULL;
	} else {
		lf->segtmp[0] = 0;
	}
	goto cleanup;
oom:
	rc = yoc_error_set(e, YOC_ENOMEM, lf->res.file, 0, 0, "out of memory");
cleanup:
	yoc_free(vals);
	yoc_free(stdbuf);
	yoc_buf_free(&joined);
	return rc;
}

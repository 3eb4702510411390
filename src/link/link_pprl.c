/*
** Linkage between organisations on keyed encodings (yoc pprl;
** docs/linkage.md "Between organisations"). Each key holder encodes its
** own records: one Bloom filter per field (given name, family name, date
** of birth, sex, postcode), every padded bigram setting YOC_PPRL_K bits
** chosen by HMAC-SHA256 under a key derived from the shared secret, and six
** keyed blocking tokens. The matcher sees encodings only: it pairs records
** that share a token, scores them by the fields' Dice coefficients and
** assigns links best first with a margin over the second-best candidate.
**
** All hashing is libsodium's. Nothing here prints or exits, and nothing
** here ever writes a clear identifier out.
*/
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "link/link_int.h"
#include "yoc/csv.h"
#include "yoc/date.h"
#include "yoc/io.h"

enum { PF_GIVEN = 0, PF_FAMILY, PF_DOB, PF_SEX, PF_POSTCODE };
static const double field_weight[YOC_PPRL_FIELDS] = {2, 3, 3, 1, 2};
#define MISSING_SCORE 0.5

/* ---- keys --------------------------------------------------------------------------- */

static void hmac_label(unsigned char out[32], const unsigned char *key, size_t n,
		       const char *label)
{
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, key, n);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)label, strlen(label));
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof st);
}

int yoc_pprl_keys_derive(struct yoc_pprl_keys *k, const unsigned char *secret, size_t n)
{
	if (!secret || n < 16)
		return YOC_EINVAL;
	if (sodium_init() < 0)
		return YOC_EINTERNAL;
	unsigned char idmac[32];
	hmac_label(k->bloom, secret, n, "yoc pprl bloom 1");
	hmac_label(k->block, secret, n, "yoc pprl block 1");
	hmac_label(idmac, secret, n, "yoc pprl key id 1");
	sodium_bin2hex(k->id, sizeof k->id, idmac, 8);
	sodium_memzero(idmac, sizeof idmac);
	return 0;
}

void yoc_pprl_keys_wipe(struct yoc_pprl_keys *k)
{
	if (k)
		sodium_memzero(k, sizeof *k);
}

/* ---- encoding ----------------------------------------------------------------------- */

/* Sets YOC_PPRL_K bits of one field filter from the keyed MAC of tok. */
static void set_bits(const crypto_auth_hmacsha256_state *base, const char *tok, size_t n,
		     unsigned char *filter)
{
	crypto_auth_hmacsha256_state st = *base;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)tok, n);
	crypto_auth_hmacsha256_final(&st, mac);
	for (int i = 0; i < YOC_PPRL_K; i++) {
		unsigned idx = ((unsigned)mac[2 * i] << 8 | mac[2 * i + 1]) % YOC_PPRL_FBITS;
		filter[idx / 8] |= (unsigned char)(1u << (idx % 8));
	}
	sodium_memzero(&st, sizeof st);
	sodium_memzero(mac, sizeof mac);
}

/* Padded bigrams of s ("_S", ..., "S_"), tagged with the field. */
static void add_field(const crypto_auth_hmacsha256_state *base, char tag, const char *s,
		      size_t n, unsigned char *filter)
{
	if (n == 0)
		return;
	char pad[48];
	if (n > sizeof pad - 2)
		n = sizeof pad - 2;
	pad[0] = '_';
	memcpy(pad + 1, s, n);
	pad[n + 1] = '_';
	for (size_t i = 0; i + 1 < n + 2; i++) {
		char tok[3] = {tag, pad[i], pad[i + 1]};
		set_bits(base, tok, 3, filter);
	}
	sodium_memzero(pad, sizeof pad);
}

/*
** A date of birth as its parts rather than bigrams (bigrams of 20011126 and
** 20141126 share most of their bits): year, month, day, each pair of them,
** the decade, and the year with day and month in order of size. One digit
** mistyped in the year or the day leaves four of eight; day and month
** transposed leave three; two people born in the same year share two.
*/
static void add_dob(const crypto_auth_hmacsha256_state *base, const struct yoc_link_rec *r,
		    unsigned char *filter)
{
	int lo = r->m < r->d ? r->m : r->d, hi = r->m < r->d ? r->d : r->m;
	char t[32];
	int n;
	const int y = r->y, m = r->m, d = r->d;
	for (int i = 0; i < 8; i++) {
		switch (i) {
		case 0: n = snprintf(t, sizeof t, "DY%04d", y); break;
		case 1: n = snprintf(t, sizeof t, "DM%02d", m); break;
		case 2: n = snprintf(t, sizeof t, "DD%02d", d); break;
		case 3: n = snprintf(t, sizeof t, "DA%04d%02d", y, m); break;
		case 4: n = snprintf(t, sizeof t, "DB%02d%02d", m, d); break;
		case 5: n = snprintf(t, sizeof t, "DC%04d%02d", y, d); break;
		case 6: n = snprintf(t, sizeof t, "DE%03d", y / 10); break;
		default: n = snprintf(t, sizeof t, "DS%04d%02d%02d", y, lo, hi); break;
		}
		set_bits(base, t, (size_t)n, filter);
	}
	sodium_memzero(t, sizeof t);
}

/*
** A postcode as its nested parts: area (letters), district (outward code),
** sector, unit. Same unit 4 of 4, same sector 3, same district 2, same
** area 1. A postcode too short to split is encoded whole.
*/
static void add_postcode(const crypto_auth_hmacsha256_state *base,
			 const struct yoc_link_rec *r, unsigned char *filter)
{
	size_t n = r->lpostcode;
	if (n == 0)
		return;
	char t[16];
	if (n < 5) {
		t[0] = 'P';
		t[1] = 'U';
		memcpy(t + 2, r->postcode, n);
		set_bits(base, t, n + 2, filter);
		return;
	}
	size_t area = 0;
	while (area < n && r->postcode[area] >= 'A' && r->postcode[area] <= 'Z')
		area++;
	size_t cut[4] = {area, n - 3, n - 2, n};
	const char tag[4] = {'A', 'O', 'S', 'U'};
	for (int i = 0; i < 4; i++) {
		if (cut[i] == 0)
			continue;
		t[0] = 'P';
		t[1] = tag[i];
		memcpy(t + 2, r->postcode, cut[i]);
		set_bits(base, t, cut[i] + 2, filter);
	}
	sodium_memzero(t, sizeof t);
}

static void token(const unsigned char *key, const char *text, size_t n,
		  unsigned char out[YOC_PPRL_TOKBYTES])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256(mac, (const unsigned char *)text, n, key);
	memcpy(out, mac, YOC_PPRL_TOKBYTES);
	sodium_memzero(mac, sizeof mac);
}

int yoc_pprl_encode_rec(const struct yoc_link_rec *r, const struct yoc_pprl_keys *k,
			struct yoc_pprl_enc *out)
{
	if (sodium_init() < 0)
		return YOC_EINTERNAL;
	memset(out, 0, sizeof *out);
	crypto_auth_hmacsha256_state base;
	crypto_auth_hmacsha256_init(&base, k->bloom, sizeof k->bloom);
	int hasd = r->dob != YOC_LINK_NODATE;
	add_field(&base, 'G', r->given, r->lgiven, out->f + PF_GIVEN * YOC_PPRL_FBYTES);
	add_field(&base, 'F', r->family, r->lfamily, out->f + PF_FAMILY * YOC_PPRL_FBYTES);
	if (hasd)
		add_dob(&base, r, out->f + PF_DOB * YOC_PPRL_FBYTES);
	if (r->sex == 1 || r->sex == 2) {
		char s[2] = {'S', (char)('0' + r->sex)};
		set_bits(&base, s, 2, out->f + PF_SEX * YOC_PPRL_FBYTES);
	}
	add_postcode(&base, r, out->f + PF_POSTCODE * YOC_PPRL_FBYTES);
	sodium_memzero(&base, sizeof base);

	/*
	** Blocking tokens, each with its rule's number first so two rules never
	** collide. The date of birth is written with day and month in order of
	** size, so a transposed day and month still share the token.
	*/
	int sex = r->sex == 1 || r->sex == 2 ? r->sex : 0;
	int lo = r->m < r->d ? r->m : r->d, hi = r->m < r->d ? r->d : r->m;
	size_t ld = r->lpostcode > 3 ? (size_t)r->lpostcode - 3 : 0; /* outward code */
	char t[96];
	int n;
	for (int i = 0; i < YOC_PPRL_NTOK; i++) {
		n = 0;
		switch (i) {
		case 0:
			if (hasd)
				n = snprintf(t, sizeof t, "0|%04d%02d%02d", r->y, lo, hi);
			break;
		case 1:
			if (hasd && sex && ld >= 2)
				n = snprintf(t, sizeof t, "1|%.*s|%04d|%d", (int)ld, r->postcode, r->y,
					     sex);
			break;
		case 2:
			if (hasd && r->pfamily[0])
				n = snprintf(t, sizeof t, "2|%s|%04d%02d", r->pfamily, r->y, r->m);
			break;
		case 3:
			if (hasd && r->pfamily[0])
				n = snprintf(t, sizeof t, "3|%s|%02d%02d", r->pfamily, r->m, r->d);
			break;
		case 4:
			if (hasd && sex && r->pgiven[0])
				n = snprintf(t, sizeof t, "4|%s|%04d%02d|%d", r->pgiven, r->y, r->m,
					     sex);
			break;
		default:
			if (r->pgiven[0] && r->pfamily[0])
				n = snprintf(t, sizeof t, "5|%s|%s", r->pgiven, r->pfamily);
			break;
		}
		if (n > 0 && (size_t)n < sizeof t) {
			token(k->block, t, (size_t)n, out->tok[i]);
			out->has_tok |= (uint8_t)(1u << i);
		}
	}
	sodium_memzero(t, sizeof t);
	return 0;
}

/* ---- similarity --------------------------------------------------------------------- */

static int popcount64(const unsigned char *p, int *inter, const unsigned char *q, int *pb)
{
	int na = 0, nb = 0, nab = 0;
	for (int i = 0; i < YOC_PPRL_FBYTES; i += 8) {
		uint64_t x, y;
		memcpy(&x, p + i, 8);
		memcpy(&y, q + i, 8);
		na += __builtin_popcountll(x);
		nb += __builtin_popcountll(y);
		nab += __builtin_popcountll(x & y);
	}
	*inter = nab;
	*pb = nb;
	return na;
}

double yoc_pprl_similarity(const unsigned char *a, const unsigned char *b, const double *w,
			   double *fields)
{
	double num = 0, den = 0;
	if (!w)
		w = field_weight;
	for (int f = 0; f < YOC_PPRL_FIELDS; f++) {
		int nab, nb;
		int na = popcount64(a + f * YOC_PPRL_FBYTES, &nab, b + f * YOC_PPRL_FBYTES, &nb);
		double d = na && nb ? 2.0 * nab / (double)(na + nb) : -1;
		if (fields)
			fields[f] = d;
		num += w[f] * (d < 0 ? MISSING_SCORE : d);
		den += w[f];
	}
	return den > 0 ? num / den : 0;
}

/* ---- the encoding file -------------------------------------------------------------- */

static void issue(struct yoc_pprl_issues *is, long line, long col, const char *what)
{
	if (is->n < YOC_PPRL_ISSUES) {
		struct yoc_pprl_issue *x = &is->first[is->n];
		x->line = line;
		x->col = col;
		snprintf(x->what, sizeof x->what, "%s", what);
	}
	is->n++;
}

static const char *const tok_names[YOC_PPRL_NTOK] = {
	"block_dob", "block_district_yob_sex", "block_family_ym",
	"block_family_md", "block_given_ym_sex", "block_names"};

int yoc_pprl_encode_file(const char *in, const char *out, const char *idcol,
			 const struct yoc_pprl_keys *k, struct yoc_pprl_encode_stats *st,
			 struct yoc_error *e)
{
	int rc;
	yoc_csv *r = NULL;
	struct yoc_afile af = {0};
	int open_out = 0;
	memset(st, 0, sizeof *st);
	if ((rc = yoc_check_regular(in, e)) != 0)
		return rc;
	if ((rc = yoc_csv_open(&r, in, NULL, e)) != 0)
		return rc;
	struct link_cols c;
	const struct yoc_cell *h = yoc_csv_header(r);
	size_t nh = yoc_csv_ncols(r);
	link_find_cols(h, nh, &c);
	int idc = -1;
	if (idcol) {
		idc = yoc_csv_col(r, idcol);
		if (idc < 0) {
			rc = yoc_error_set(e, YOC_EINVAL, in, 1, 1, "no column '%s' for the record id",
					   idcol);
			goto cleanup;
		}
	}
	if (c.dob < 0 && c.given < 0 && c.family < 0 && c.postcode < 0) {
		rc = yoc_error_set(e, YOC_EINVAL, in, 1, 1,
				   "no identifier column (date of birth, names, postcode) found");
		goto cleanup;
	}
	if ((rc = yoc_afile_open(&af, out, e)) != 0)
		goto cleanup;
	open_out = 1;
	struct yoc_csvw w;
	yoc_csvw_init(&w, af.f, ',');
	char hdr[32];
	snprintf(hdr, sizeof hdr, "encoding.%s", k->id);
	yoc_csvw_str(&w, "id");
	yoc_csvw_str(&w, hdr);
	for (int i = 0; i < YOC_PPRL_NTOK; i++)
		yoc_csvw_str(&w, tok_names[i]);
	yoc_csvw_end(&w);
	for (;;) {
		struct yoc_csv_row row;
		struct yoc_error re = {0};
		int kr = yoc_csv_next(r, &row, &re);
		if (kr == 0)
			break;
		if (kr < 0 && row.fault == YOC_CSV_OK) {
			*e = re;
			rc = kr;
			goto cleanup;
		}
		st->rows++;
		char msg[96];
		if (kr < 0) {
			snprintf(msg, sizeof msg, "malformed row (%s): not encoded",
				 yoc_csv_fault_str(row.fault));
			issue(&st->issues, row.line, re.col > 0 ? re.col : 1, msg);
			st->not_encoded++;
			continue;
		}
		char idb[24];
		struct yoc_cell id;
		if (idc >= 0) {
			id = (size_t)idc < row.ncells ? row.cells[idc] : (struct yoc_cell){"", 0};
			if (id.n == 0 || id.n > YOC_PPRL_ID_MAX) {
				issue(&st->issues, row.line, idc + 1,
				      id.n ? "record id longer than 64 bytes: not encoded"
					   : "empty record id: not encoded");
				st->not_encoded++;
				continue;
			}
		} else {
			int m = snprintf(idb, sizeof idb, "%ld", (long)(st->rows));
			id = (struct yoc_cell){idb, (size_t)m};
		}
		struct yoc_link_rec rec;
		link_row_rec(row.cells, row.ncells, &c, &rec);
		/* Cells present but unreadable: encoded as missing, and said so. */
		int dropped = 0;
		if (c.dob >= 0 && (size_t)c.dob < row.ncells && row.cells[c.dob].n &&
		    rec.dob == YOC_LINK_NODATE) {
			issue(&st->issues, row.line, c.dob + 1,
			      "date of birth is not a date: encoded without it");
			dropped = 1;
		}
		if (c.sex >= 0 && (size_t)c.sex < row.ncells && row.cells[c.sex].n) {
			struct yoc_cell s = row.cells[c.sex];
			if (s.n != 1 || (s.p[0] != '0' && s.p[0] != '1' && s.p[0] != '2' &&
					 s.p[0] != '9')) {
				issue(&st->issues, row.line, c.sex + 1,
				      "sex is not 0, 1, 2 or 9: encoded without it");
				rec.sex = 0;
				dropped = 1;
			}
		}
		st->fields_dropped += (uint64_t)dropped;
		struct yoc_pprl_enc enc;
		if ((rc = yoc_pprl_encode_rec(&rec, k, &enc)) != 0) {
			yoc_error_set(e, rc, in, row.line, 1, "cannot encode (libsodium)");
			goto cleanup;
		}
		sodium_memzero(&rec, sizeof rec);
		char b64[sodium_base64_ENCODED_LEN(YOC_PPRL_BYTES, sodium_base64_VARIANT_ORIGINAL)];
		sodium_bin2base64(b64, sizeof b64, enc.f, sizeof enc.f,
				  sodium_base64_VARIANT_ORIGINAL);
		yoc_csvw_cell(&w, id.p, id.n);
		yoc_csvw_str(&w, b64);
		for (int i = 0; i < YOC_PPRL_NTOK; i++) {
			char hx[2 * YOC_PPRL_TOKBYTES + 1] = "";
			if (enc.has_tok & (1u << i))
				sodium_bin2hex(hx, sizeof hx, enc.tok[i], YOC_PPRL_TOKBYTES);
			yoc_csvw_str(&w, hx);
		}
		yoc_csvw_end(&w);
		st->encoded++;
	}
	if (yoc_csvw_status(&w) != 0) {
		rc = yoc_error_set(e, YOC_EIO, out, 0, 0, "cannot write");
		goto cleanup;
	}
	open_out = 0;
	rc = yoc_afile_commit(&af, e);
cleanup:
	if (open_out)
		yoc_afile_abort(&af);
	yoc_csv_close(r);
	return rc;
}

/* ---- reading encodings back --------------------------------------------------------- */

void yoc_pprl_set_free(struct yoc_pprl_set *s)
{
	if (!s)
		return;
	yoc_free(s->f);
	yoc_free(s->tok);
	yoc_free(s->idoff);
	yoc_free(s->ids);
	memset(s, 0, sizeof *s);
}

static int set_grow(struct yoc_pprl_set *s, size_t *cap, size_t idn, struct yoc_error *e)
{
	if (s->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 1024;
		if (nc > REG_MAX)
			return yoc_error_set(e, YOC_ETOOBIG, NULL, 0, 0,
					     "more than %zu encodings", (size_t)REG_MAX);
		void *f = yoc_realloc(s->f, nc * sizeof *s->f);
		if (!f)
			return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		s->f = f;
		void *t = yoc_realloc(s->tok, nc * sizeof *s->tok);
		if (!t)
			return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		s->tok = t;
		void *o = yoc_realloc(s->idoff, nc * sizeof *s->idoff);
		if (!o)
			return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		s->idoff = o;
		*cap = nc;
	}
	if (s->idlen + idn + 1 > s->idcap) {
		size_t nc = s->idcap ? s->idcap * 2 : 65536;
		while (nc < s->idlen + idn + 1)
			nc *= 2;
		char *p = yoc_realloc(s->ids, nc);
		if (!p)
			return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		s->ids = p;
		s->idcap = nc;
	}
	return 0;
}

static int cell_is(struct yoc_cell c, const char *s)
{
	return c.n == strlen(s) && memcmp(c.p, s, c.n) == 0;
}

int yoc_pprl_parse(const char *text, size_t n, const char *name, struct yoc_pprl_set *s,
		   struct yoc_error *e)
{
	int rc;
	yoc_csv *r = NULL;
	size_t cap = 0;
	memset(s, 0, sizeof *s);
	struct yoc_csv_opts co = {0};
	co.delim = ',';
	co.max_field = 4096;
	co.max_row = 8192;
	if ((rc = yoc_csv_open_mem(&r, text, n, name, &co, e)) != 0)
		return rc;
	const struct yoc_cell *h = yoc_csv_header(r);
	size_t nh = yoc_csv_ncols(r);
	if (nh != 2 + YOC_PPRL_NTOK || !cell_is(h[0], "id") || h[1].n != 9 + 16 ||
	    memcmp(h[1].p, "encoding.", 9) != 0) {
		rc = yoc_error_set(e, YOC_EPARSE, name, 1, 1,
				   "not a yoc pprl encoding file (header id,encoding.KEYID,block_...)");
		goto cleanup;
	}
	for (int i = 0; i < YOC_PPRL_NTOK; i++)
		if (!cell_is(h[2 + i], tok_names[i])) {
			rc = yoc_error_set(e, YOC_EPARSE, name, 1, 1,
					   "column %d should be %s", i + 3, tok_names[i]);
			goto cleanup;
		}
	for (size_t i = 0; i < 16; i++) {
		char ch = h[1].p[9 + i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
			rc = yoc_error_set(e, YOC_EPARSE, name, 1, (long)(4 + i),
					   "key id is not 16 hex characters");
			goto cleanup;
		}
		s->key_id[i] = ch;
	}
	s->key_id[16] = 0;
	for (;;) {
		struct yoc_csv_row row;
		struct yoc_error re = {0};
		int kr = yoc_csv_next(r, &row, &re);
		if (kr == 0)
			break;
		if (kr < 0 && row.fault == YOC_CSV_OK) {
			*e = re;
			rc = kr;
			goto cleanup;
		}
		if (kr < 0) {
			char msg[96];
			snprintf(msg, sizeof msg, "malformed row (%s)", yoc_csv_fault_str(row.fault));
			issue(&s->issues, row.line, re.col > 0 ? re.col : 1, msg);
			continue;
		}
		struct yoc_cell id = row.cells[0], enc = row.cells[1];
		if (id.n == 0 || id.n > YOC_PPRL_ID_MAX || memchr(id.p, 0, id.n)) {
			issue(&s->issues, row.line, 1, "record id empty, too long or with a NUL byte");
			continue;
		}
		if ((rc = set_grow(s, &cap, id.n, e)) != 0)
			goto cleanup;
		size_t bl = 0;
		const char *end = NULL;
		if (sodium_base642bin(s->f[s->n], YOC_PPRL_BYTES, enc.p, enc.n, NULL, &bl, &end,
				      sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    bl != YOC_PPRL_BYTES || end != enc.p + enc.n) {
			issue(&s->issues, row.line, 2, "encoding is not base64 of 320 bytes");
			continue;
		}
		int bad = 0;
		for (int i = 0; i < YOC_PPRL_NTOK && !bad; i++) {
			struct yoc_cell t = row.cells[2 + i];
			s->tok[s->n][i] = 0;
			if (t.n == 0)
				continue;
			unsigned char tb[YOC_PPRL_TOKBYTES];
			size_t tl = 0;
			if (t.n != 2 * YOC_PPRL_TOKBYTES ||
			    sodium_hex2bin(tb, sizeof tb, t.p, t.n, NULL, &tl, &end) != 0 ||
			    tl != YOC_PPRL_TOKBYTES) {
				issue(&s->issues, row.line, 3 + i, "blocking token is not 32 hex characters");
				bad = 1;
				break;
			}
			uint64_t v;
			memcpy(&v, tb, 8);
			s->tok[s->n][i] = v ? v : 1;
		}
		if (bad)
			continue;
		s->idoff[s->n] = (uint32_t)s->idlen;
		memcpy(s->ids + s->idlen, id.p, id.n);
		s->ids[s->idlen + id.n] = 0;
		s->idlen += id.n + 1;
		s->n++;
	}
	rc = 0;
cleanup:
	yoc_csv_close(r);
	if (rc)
		yoc_pprl_set_free(s);
	return rc;
}

#define ENC_FILE_MAX ((size_t)4 << 30)

int yoc_pprl_load(const char *path, struct yoc_pprl_set *s, struct yoc_error *e)
{
	char *text = NULL;
	size_t n = 0;
	int rc;
	memset(s, 0, sizeof *s);
	if ((rc = yoc_check_regular(path, e)) != 0)
		return rc;
	if ((rc = yoc_read_file(path, ENC_FILE_MAX, &text, &n, e)) != 0)
		return rc;
	rc = yoc_pprl_parse(text, n, path, s, e);
	yoc_free(text);
	return rc;
}

/* ---- matching ----------------------------------------------------------------------- */

void yoc_pprl_match_opts_init(struct yoc_pprl_match_opts *o)
{
	o->threshold = 0.75;
	o->review = 0.60;
	o->margin = 0.05;
	o->many_to_one = 0;
	o->block_max = 1000;
	o->frequencies = 1;
}

/* Entities: records with the same id are one; numbered in id order. */
static const char *sid(const struct yoc_pprl_set *s, uint32_t i)
{
	return s->ids + s->idoff[i];
}

static const struct yoc_pprl_set *sort_set;
static int cmp_by_id(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	int c = strcmp(sid(sort_set, a), sid(sort_set, b));
	return c ? c : (a > b) - (a < b);
}

static int entities(const struct yoc_pprl_set *s, uint32_t **ent, uint32_t *nent)
{
	uint32_t *ord = yoc_malloc((s->n ? s->n : 1) * sizeof *ord);
	*ent = yoc_malloc((s->n ? s->n : 1) * sizeof **ent);
	if (!ord || !*ent) {
		yoc_free(ord);
		return YOC_ENOMEM;
	}
	for (uint32_t i = 0; i < s->n; i++)
		ord[i] = i;
	sort_set = s;
	qsort(ord, s->n, sizeof *ord, cmp_by_id);
	uint32_t k = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (i && strcmp(sid(s, ord[i]), sid(s, ord[i - 1])) != 0)
			k++;
		(*ent)[ord[i]] = k;
	}
	*nent = s->n ? k + 1 : 0;
	yoc_free(ord);
	return 0;
}

struct tokent {
	uint64_t tok;   /* rule in the top 3 bits, token below */
	uint32_t idx;   /* record; top bit: side b */
};

static int cmp_tokent(const void *x, const void *y)
{
	const struct tokent *a = x, *b = y;
	if (a->tok != b->tok)
		return a->tok < b->tok ? -1 : 1;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return (a > b) - (a < b);
}

struct cand {
	uint32_t a, b;     /* records */
	int32_t s;         /* similarity x 10000 */
};

static const uint32_t *sort_ea, *sort_eb;
/* Best first; ties by b's id, then a's id, then record order. */
static int cmp_cand(const void *x, const void *y)
{
	const struct cand *p = x, *q = y;
	if (p->s != q->s)
		return p->s > q->s ? -1 : 1;
	if (sort_eb[p->b] != sort_eb[q->b])
		return sort_eb[p->b] < sort_eb[q->b] ? -1 : 1;
	if (sort_ea[p->a] != sort_ea[q->a])
		return sort_ea[p->a] < sort_ea[q->a] ? -1 : 1;
	if (p->b != q->b)
		return p->b < q->b ? -1 : 1;
	return (p->a > q->a) - (p->a < q->a);
}

/* Keeps the best and second-best scores of an entity against distinct others. */
struct top2 {
	int32_t s1, s2;
	uint32_t o1;       /* the other entity of s1 */
};
static void top_add(struct top2 *t, int32_t s, uint32_t other)
{
	if (other == t->o1) {
		if (s > t->s1)
			t->s1 = s;
		return;
	}
	if (s > t->s1) {
		t->s2 = t->s1;
		t->s1 = s;
		t->o1 = other;
	} else if (s > t->s2) {
		t->s2 = s;
	}
}

/*
** Frequency-aware name weights: a name that many records of a share (the
** same filter, so the same name under the key) says less about who a
** record is. Its field weight is scaled by its information, log2 of one
** over its share of a, over 10 bits (one in 1,024), between 0.25 and 1.
*/
struct fscale {
	float given, family;
};
static const struct yoc_pprl_set *fs_set;
static int fs_field;
static int cmp_field(const void *x, const void *y)
{
	uint32_t p = *(const uint32_t *)x, q = *(const uint32_t *)y;
	int c = memcmp(fs_set->f[p] + fs_field * YOC_PPRL_FBYTES,
		       fs_set->f[q] + fs_field * YOC_PPRL_FBYTES, YOC_PPRL_FBYTES);
	return c ? c : (p > q) - (p < q);
}

static int name_scales(const struct yoc_pprl_set *a, struct fscale *fa)
{
	uint32_t *ord = yoc_malloc((a->n ? a->n : 1) * sizeof *ord);
	if (!ord)
		return YOC_ENOMEM;
	fs_set = a;
	for (int f = PF_GIVEN; f <= PF_FAMILY; f++) {
		fs_field = f;
		for (uint32_t i = 0; i < a->n; i++)
			ord[i] = i;
		qsort(ord, a->n, sizeof *ord, cmp_field);
		for (size_t i = 0; i < a->n;) {
			size_t j = i + 1;
			while (j < a->n && memcmp(a->f[ord[i]] + f * YOC_PPRL_FBYTES,
						  a->f[ord[j]] + f * YOC_PPRL_FBYTES, YOC_PPRL_FBYTES) == 0)
				j++;
			double bits = log2((double)a->n / (double)(j - i)) / 10.0;
			float sc = (float)(bits < 0.25 ? 0.25 : bits > 1 ? 1 : bits);
			for (size_t k = i; k < j; k++) {
				if (f == PF_GIVEN)
					fa[ord[k]].given = sc;
				else
					fa[ord[k]].family = sc;
			}
			i = j;
		}
	}
	yoc_free(ord);
	return 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct outpair {
	uint32_t a, b;
	int32_t s, second;
	int link;
};

static int cmp_out(const void *x, const void *y)
{
	const struct outpair *p = x, *q = y;
	if (p->b != q->b)
		return p->b < q->b ? -1 : 1;
	return (p->a > q->a) - (p->a < q->a);
}

int yoc_pprl_match(const struct yoc_pprl_set *a, const struct yoc_pprl_set *b,
		   const struct yoc_pprl_match_opts *o, const char *out,
		   struct yoc_pprl_match_stats *st, struct yoc_error *e)
{
	int rc = 0;
	uint32_t *ea = NULL, *eb = NULL, nea = 0, neb = 0;
	struct tokent *te = NULL;
	uint64_t *pk = NULL;
	struct cand *cd = NULL;
	struct top2 *ta = NULL, *tb = NULL;
	uint8_t *useda = NULL, *usedb = NULL;
	struct outpair *op = NULL;
	struct fscale *fa = NULL;
	size_t npk = 0, cappk = 0, nop = 0;
	struct yoc_afile af = {0};
	int open_out = 0;
	memset(st, 0, sizeof *st);
	if (strcmp(a->key_id, b->key_id) != 0)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0,
				     "the two files were encoded under different keys (%s, %s)",
				     a->key_id, b->key_id);
	if (a->n >= ((size_t)1 << 31) || b->n >= ((size_t)1 << 31))
		return yoc_error_set(e, YOC_ETOOBIG, NULL, 0, 0, "too many encodings");
	double t0 = now();
	if (entities(a, &ea, &nea) || entities(b, &eb, &neb)) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}

	/* Candidate pairs: records of a and b that share a token, block by block. */
	size_t nte = 0, capte = (a->n + b->n) * YOC_PPRL_NTOK;
	te = yoc_malloc((capte ? capte : 1) * sizeof *te);
	if (!te) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	for (int side = 0; side < 2; side++) {
		const struct yoc_pprl_set *s = side ? b : a;
		for (uint32_t i = 0; i < s->n; i++)
			for (int k = 0; k < YOC_PPRL_NTOK; k++)
				if (s->tok[i][k]) {
					te[nte].tok = (uint64_t)k << 61 | (s->tok[i][k] >> 3);
					te[nte].idx = i | (side ? 0x80000000u : 0);
					nte++;
				}
	}
	qsort(te, nte, sizeof *te, cmp_tokent);
	for (size_t i = 0; i < nte;) {
		size_t j = i;
		while (j < nte && te[j].tok == te[i].tok)
			j++;
		size_t ja = i; /* a's records come first in a block (top bit clear) */
		while (ja < j && !(te[ja].idx & 0x80000000u))
			ja++;
		size_t na = ja - i, nb = j - ja;
		if (na && nb) {
			if (na > (size_t)o->block_max || nb > (size_t)o->block_max) {
				st->blocks_skipped++;
			} else {
				for (size_t x = ja; x < j; x++)
					for (size_t y = i; y < ja; y++) {
						if (npk == cappk) {
							size_t nc = cappk ? cappk * 2 : 65536;
							uint64_t *p = yoc_realloc(pk, nc * sizeof *p);
							if (!p) {
								rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0,
										   "out of memory");
								goto cleanup;
							}
							pk = p;
							cappk = nc;
						}
						pk[npk++] = (uint64_t)(te[x].idx & 0x7fffffffu) << 32 |
							    te[y].idx;
					}
			}
		}
		i = j;
	}
	yoc_free(te);
	te = NULL;
	qsort(pk, npk, sizeof *pk, cmp_u64);
	size_t nu = 0;
	for (size_t i = 0; i < npk; i++)
		if (!nu || pk[i] != pk[nu - 1])
			pk[nu++] = pk[i];
	npk = nu;

	/* Similarity of every candidate pair; each entity's best and second best. */
	cd = yoc_malloc((npk ? npk : 1) * sizeof *cd);
	ta = yoc_calloc(nea ? nea : 1, sizeof *ta);
	tb = yoc_calloc(neb ? neb : 1, sizeof *tb);
	useda = yoc_calloc(nea ? nea : 1, 1);
	usedb = yoc_calloc(neb ? neb : 1, 1);
	fa = yoc_malloc((a->n ? a->n : 1) * sizeof *fa);
	if (!cd || !ta || !tb || !useda || !usedb || !fa || name_scales(a, fa) != 0) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	for (uint32_t i = 0; i < nea; i++)
		ta[i] = (struct top2){-1, -1, UINT32_MAX};
	for (uint32_t i = 0; i < neb; i++)
		tb[i] = (struct top2){-1, -1, UINT32_MAX};
	for (size_t i = 0; i < npk; i++) {
		uint32_t bi = (uint32_t)(pk[i] >> 32), ai = (uint32_t)pk[i];
		double w[YOC_PPRL_FIELDS];
		memcpy(w, field_weight, sizeof w);
		if (o->frequencies) {
			w[PF_GIVEN] *= fa[ai].given;
			w[PF_FAMILY] *= fa[ai].family;
		}
		double sim = yoc_pprl_similarity(a->f[ai], b->f[bi], w, NULL);
		int32_t s = (int32_t)lround(sim * 10000);
		cd[i] = (struct cand){ai, bi, s};
		top_add(&tb[eb[bi]], s, ea[ai]);
		top_add(&ta[ea[ai]], s, eb[bi]);
	}
	st->pairs = npk;
	yoc_free(pk);
	pk = NULL;
	st->seconds = now() - t0;

	/* Assignment, best first. */
	sort_ea = ea;
	sort_eb = eb;
	qsort(cd, npk, sizeof *cd, cmp_cand);
	int32_t T = (int32_t)lround(o->threshold * 10000), R = (int32_t)lround(o->review * 10000),
		M = (int32_t)lround(o->margin * 10000);
	op = yoc_malloc((neb ? neb : 1) * sizeof *op);
	if (!op) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < npk; i++) {
		const struct cand *c = &cd[i];
		uint32_t xa = ea[c->a], xb = eb[c->b];
		if (c->s < R)
			break;
		if (usedb[xb])
			continue;
		int32_t second = tb[xb].s2;
		if (!o->many_to_one && ta[xa].o1 == xb && ta[xa].s2 > second)
			second = ta[xa].s2;
		else if (!o->many_to_one && ta[xa].o1 != xb && ta[xa].s1 > second)
			second = ta[xa].s1;
		int link = c->s >= T && c->s - (second < 0 ? 0 : second) >= M &&
			   tb[xb].s1 == c->s && (o->many_to_one || !useda[xa]);
		if (!link && !o->many_to_one && useda[xa])
			continue; /* a is taken: b may still have another candidate */
		usedb[xb] = 1;
		if (link && !o->many_to_one)
			useda[xa] = 1;
		op[nop++] = (struct outpair){c->a, c->b, c->s, second < 0 ? 0 : second, link};
		if (link)
			st->links++;
		else
			st->review++;
	}
	qsort(op, nop, sizeof *op, cmp_out);

	if ((rc = yoc_afile_open(&af, out, e)) != 0)
		goto cleanup;
	open_out = 1;
	struct yoc_csvw w;
	yoc_csvw_init(&w, af.f, ',');
	yoc_csvw_str(&w, "a_id");
	yoc_csvw_str(&w, "b_id");
	yoc_csvw_str(&w, "similarity");
	yoc_csvw_str(&w, "second");
	yoc_csvw_str(&w, "status");
	yoc_csvw_end(&w);
	for (size_t i = 0; i < nop; i++) {
		char v[16];
		yoc_csvw_str(&w, sid(a, op[i].a));
		yoc_csvw_str(&w, sid(b, op[i].b));
		snprintf(v, sizeof v, "%.4f", op[i].s / 10000.0);
		yoc_csvw_str(&w, v);
		snprintf(v, sizeof v, "%.4f", op[i].second / 10000.0);
		yoc_csvw_str(&w, v);
		yoc_csvw_str(&w, op[i].link ? "link" : "review");
		yoc_csvw_end(&w);
	}
	if (yoc_csvw_status(&w) != 0) {
		rc = yoc_error_set(e, YOC_EIO, out, 0, 0, "cannot write");
		goto cleanup;
	}
	open_out = 0;
	rc = yoc_afile_commit(&af, e);
cleanup:
	if (open_out)
		yoc_afile_abort(&af);
	yoc_free(ea);
	yoc_free(eb);
	yoc_free(te);
	yoc_free(pk);
	yoc_free(cd);
	yoc_free(ta);
	yoc_free(tb);
	yoc_free(useda);
	yoc_free(usedb);
	yoc_free(op);
	yoc_free(fa);
	return rc;
}

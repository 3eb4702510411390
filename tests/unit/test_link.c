/*
** Linkage: comparison functions against published values (the Jaro and
** Jaro-Winkler table of Winkler's papers), the sound-alike key, dates and
** postcodes; EM recovering known m and u from pairs drawn from them; weights
** and thresholds; Bloom filters; the review-file parser.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "link/link.h"
#include "yoc/date.h"
#include "yoc/io.h"

/*
** Winkler, "String comparator metrics and enhanced decision rules in the
** Fellegi-Sunter model of record linkage" (1990), table of comparator
** values, the Jaro and Jaro-Winkler columns (three decimals), and the
** DIXON/DICKSONX example of his later papers.
*/
static const struct {
	const char *a, *b;
	double jaro, jw;
} winkler[] = {
	{"SHACKLEFORD", "SHACKELFORD", 0.970, 0.982},
	{"DUNNINGHAM", "CUNNIGHAM", 0.896, 0.896},
	{"NICHLESON", "NICHULSON", 0.926, 0.956},
	{"JONES", "JOHNSON", 0.790, 0.832},
	{"MASSEY", "MASSIE", 0.889, 0.933},
	{"ABROMS", "ABRAMS", 0.889, 0.922},
	{"HARDIN", "MARTINEZ", 0.722, 0.722},
	{"ITMAN", "SMITH", 0.467, 0.467},
	{"JERALDINE", "GERALDINE", 0.926, 0.926},
	{"MARHTA", "MARTHA", 0.944, 0.961},
	{"MICHELLE", "MICHAEL", 0.869, 0.921},
	{"JULIES", "JULIUS", 0.889, 0.933},
	{"TANYA", "TONYA", 0.867, 0.880},
	{"DWAYNE", "DUANE", 0.822, 0.840},
	{"SEAN", "SUSAN", 0.783, 0.805},
	{"JON", "JOHN", 0.917, 0.933},
	{"DIXON", "DICKSONX", 0.767, 0.813},
};

static void test_jaro_winkler_published(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof winkler / sizeof *winkler; i++) {
		const char *a = winkler[i].a, *b = winkler[i].b;
		double j = yoc_jaro(a, strlen(a), b, strlen(b));
		double jw = yoc_jaro_winkler(a, strlen(a), b, strlen(b));
		if (fabs(j - winkler[i].jaro) > 0.0006 || fabs(jw - winkler[i].jw) > 0.0006)
			fail_msg("%s/%s: jaro %.4f (paper %.3f), jw %.4f (paper %.3f)", a, b, j,
				 winkler[i].jaro, jw, winkler[i].jw);
		/* Symmetric. */
		assert_true(fabs(jw - yoc_jaro_winkler(b, strlen(b), a, strlen(a))) < 1e-12);
	}
	assert_true(yoc_jaro_winkler("ABC", 3, "ABC", 3) == 1.0);
	assert_true(yoc_jaro_winkler("ABC", 3, "XYZ", 3) == 0.0);
	assert_true(yoc_jaro_winkler("", 0, "A", 1) == 0.0);
}

static int same_sound(const char *a, const char *b)
{
	char pa[YOC_PHON_MAX], pb[YOC_PHON_MAX];
	yoc_phonetic(a, strlen(a), pa);
	yoc_phonetic(b, strlen(b), pb);
	return strcmp(pa, pb) == 0;
}

static void test_phonetic(void **state)
{
	(void)state;
	assert_true(same_sound("SMITH", "SMYTH"));
	assert_true(same_sound("Catherine", "KATHRYN"));
	assert_true(same_sound("STEPHEN", "STEVEN"));
	assert_true(same_sound("PHILIP", "FILIP"));
	assert_true(same_sound("KNIGHT", "NIGHT"));
	assert_true(same_sound("MACDONALD", "MCDONALD"));
	assert_true(same_sound("JEFFREY", "GEOFFREY"));
	assert_true(same_sound("WRIGHT", "RIGHT"));
	assert_false(same_sound("SMITH", "JONES"));
	assert_false(same_sound("BROWN", "GREEN"));
	assert_false(same_sound("TAYLOR", "TURNER"));
	char p[YOC_PHON_MAX];
	assert_int_equal(yoc_phonetic("", 0, p), 0);
	assert_int_equal(p[0], 0);
	/* At most YOC_PHON_MAX - 1 codes, always terminated. */
	const char *longn = "BARTHOLOMEWSKIPLUNKETTWORTHINGTON";
	size_t n = yoc_phonetic(longn, strlen(longn), p);
	assert_true(n == YOC_PHON_MAX - 1 && strlen(p) == n);
}

static void test_name_levels(void **state)
{
	(void)state;
	struct yoc_link_rec a, b;
	uint8_t lv[YOC_LF_COUNT];
	int32_t d = yoc_date_from_ymd(1950, 3, 7);
	yoc_link_rec_make(&a, "William", 7, "Smith", 5, d, 1, "YC1 2AB", 7);
	yoc_link_rec_make(&b, "BILL", 4, "SMYTH", 5, d, 1, "yc12ab", 6);
	yoc_link_compare(&a, &b, lv);
	assert_int_equal(lv[YOC_LF_GIVEN], 2);   /* nickname */
	assert_int_equal(lv[YOC_LF_FAMILY], 1);  /* JW 0.84: sounds alike */
	assert_int_equal(lv[YOC_LF_DOB], 3);
	assert_int_equal(lv[YOC_LF_SEX], 1);
	assert_int_equal(lv[YOC_LF_POSTCODE], 3);
	yoc_link_rec_make(&b, "", 0, "JONES", 5, yoc_date_from_ymd(1950, 7, 3), 2, "YC1 2ZZ", 7);
	yoc_link_compare(&a, &b, lv);
	assert_int_equal(lv[YOC_LF_GIVEN], YOC_LV_MISSING);
	assert_int_equal(lv[YOC_LF_FAMILY], 0);
	assert_int_equal(lv[YOC_LF_DOB], 2);     /* day and month transposed */
	assert_int_equal(lv[YOC_LF_SEX], 0);
	assert_int_equal(lv[YOC_LF_POSTCODE], 2); /* same sector */
}

static void test_dates_postcodes(void **state)
{
	(void)state;
	int32_t a = yoc_date_from_ymd(1948, 11, 5);
	assert_int_equal(yoc_link_cmp_date(a, a), 3);
	assert_int_equal(yoc_link_cmp_date(a, yoc_date_from_ymd(1948, 5, 11)), 2);
	assert_int_equal(yoc_link_cmp_date(a, yoc_date_from_ymd(1949, 11, 5)), 1);
	assert_int_equal(yoc_link_cmp_date(a, yoc_date_from_ymd(1948, 11, 15)), 1);
	assert_int_equal(yoc_link_cmp_date(a, yoc_date_from_ymd(1958, 1, 15)), 0);
	assert_int_equal(yoc_link_cmp_date(a, YOC_LINK_NODATE), YOC_LV_MISSING);
	/* Day 0 (1970-01-01) is a date, not a missing one. */
	assert_int_equal(yoc_link_cmp_date(0, 0), 3);
	assert_int_equal(yoc_link_cmp_postcode("LS14AB", 6, "LS14AB", 6), 3);
	assert_int_equal(yoc_link_cmp_postcode("LS14AB", 6, "LS14ZZ", 6), 2);
	assert_int_equal(yoc_link_cmp_postcode("LS14AB", 6, "LS19ZZ", 6), 1);
	assert_int_equal(yoc_link_cmp_postcode("LS14AB", 6, "LS104AB", 7), 0);
	assert_int_equal(yoc_link_cmp_postcode("SW1A1AA", 7, "SW1A2AA", 7), 1);
	assert_int_equal(yoc_link_cmp_postcode("LS1", 3, "LS14AB", 6), YOC_LV_MISSING);
}

/* xorshift for the generated pairs: the test's own stream. */
static uint64_t rs = 88172645463325252ull;
static double unif(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (double)(rs >> 11) * 0x1.0p-53;
}
static int draw(const double *p, int n)
{
	double u = unif(), c = 0;
	for (int i = 0; i < n; i++) {
		c += p[i];
		if (u < c)
			return i;
	}
	return n - 1;
}

/* Pairs drawn from known m, u and lambda (5% missing); EM must recover them. */
static void test_em_recovers(void **state)
{
	(void)state;
	static const double m[YOC_LF_COUNT][YOC_LINK_MAXLV] = {
		{0.05, 0.07, 0.13, 0.75}, {0.04, 0.06, 0.10, 0.80}, {0.03, 0.05, 0.07, 0.85},
		{0.02, 0.98}, {0.10, 0.10, 0.20, 0.60}};
	static const double u[YOC_LF_COUNT][YOC_LINK_MAXLV] = {
		{0.85, 0.10, 0.03, 0.02}, {0.90, 0.07, 0.02, 0.01}, {0.70, 0.20, 0.02, 0.08},
		{0.50, 0.50}, {0.60, 0.25, 0.10, 0.05}};
	const double lambda = 0.2;
	static uint64_t counts[YOC_LINK_NPAT];
	memset(counts, 0, sizeof counts);
	for (int i = 0; i < 400000; i++) {
		int match = unif() < lambda;
		uint8_t lv[YOC_LF_COUNT];
		for (int f = 0; f < YOC_LF_COUNT; f++) {
			lv[f] = (uint8_t)draw(match ? m[f] : u[f], yoc_link_nlevels[f]);
			if (unif() < 0.05)
				lv[f] = YOC_LV_MISSING;
		}
		counts[yoc_link_pattern(lv)]++;
	}
	struct yoc_link_model md;
	yoc_link_model_init(&md);
	assert_int_equal(yoc_link_em(counts, &md, 0, 500, 1e-7), 0);
	assert_true(md.converged);
	assert_true(fabs(md.lambda - lambda) < 0.01);
	for (int f = 0; f < YOC_LF_COUNT; f++)
		for (int l = 0; l < yoc_link_nlevels[f]; l++) {
			if (fabs(md.m[f][l] - m[f][l]) > 0.015 || fabs(md.u[f][l] - u[f][l]) > 0.015)
				fail_msg("field %d level %d: m %.4f (true %.4f) u %.4f (true %.4f)", f, l,
					 md.m[f][l], m[f][l], md.u[f][l], u[f][l]);
		}
	/* With u given (from random pairs) EM estimates m and lambda alone. */
	struct yoc_link_model fx;
	yoc_link_model_init(&fx);
	memcpy(fx.u, u, sizeof fx.u);
	assert_int_equal(yoc_link_em(counts, &fx, 1, 500, 1e-7), 0);
	assert_memory_equal(fx.u, u, sizeof fx.u);
	for (int f = 0; f < YOC_LF_COUNT; f++)
		for (int l = 0; l < yoc_link_nlevels[f]; l++)
			assert_true(fabs(fx.m[f][l] - m[f][l]) < 0.015);
	/* No pairs: refused. */
	memset(counts, 0, sizeof counts);
	assert_int_equal(yoc_link_em(counts, &md, 0, 10, 1e-6), YOC_EINVAL);
}

static void test_patterns_weights(void **state)
{
	(void)state;
	for (uint32_t p = 0; p < YOC_LINK_NPAT; p++) {
		uint8_t lv[YOC_LF_COUNT];
		yoc_link_unpattern(p, lv);
		assert_int_equal(yoc_link_pattern(lv), p);
	}
	struct yoc_link_model md;
	yoc_link_model_init(&md);
	md.m[YOC_LF_FAMILY][3] = 0.8;
	md.u[YOC_LF_FAMILY][3] = 0.01;
	assert_true(fabs(yoc_link_field_weight(&md, YOC_LF_FAMILY, 3, 0) - log2(80.0)) < 1e-12);
	/* Term frequency: a common name (u = its frequency 5%) weighs less. */
	assert_true(fabs(yoc_link_field_weight(&md, YOC_LF_FAMILY, 3, 0.05) - log2(16.0)) < 1e-12);
	/* Only exact agreement is adjusted. */
	assert_true(yoc_link_field_weight(&md, YOC_LF_FAMILY, 2, 0.05) ==
		    yoc_link_field_weight(&md, YOC_LF_FAMILY, 2, 0));
	assert_true(yoc_link_field_weight(&md, YOC_LF_FAMILY, YOC_LV_MISSING, 0) == 0.0);
	md.lambda = 0.2;
	assert_true(fabs(yoc_link_prior(&md) - log2(0.25)) < 1e-12);
	assert_true(fabs(yoc_link_prob(0) - 0.5) < 1e-12);
	assert_true(fabs(yoc_link_prob(log2(99.0)) - 0.99) < 1e-12);
}

/* Dice of one field counted bit by bit, apart from the library's popcount. */
static double field_dice(const unsigned char *a, const unsigned char *b, int f)
{
	int na = 0, nb = 0, nab = 0;
	for (int i = 0; i < YOC_PPRL_FBITS; i++) {
		int x = a[f * YOC_PPRL_FBYTES + i / 8] >> (i % 8) & 1;
		int y = b[f * YOC_PPRL_FBYTES + i / 8] >> (i % 8) & 1;
		na += x, nb += y, nab += x & y;
	}
	return na + nb ? 2.0 * nab / (na + nb) : -1;
}

static void test_pprl_encode(void **state)
{
	(void)state;
	unsigned char s1[32], s2[32];
	for (int i = 0; i < 32; i++)
		s1[i] = (unsigned char)i, s2[i] = (unsigned char)(i + 7);
	struct yoc_pprl_keys k1, k2;
	assert_int_equal(yoc_pprl_keys_derive(&k1, s1, 32), 0);
	assert_int_equal(yoc_pprl_keys_derive(&k2, s2, 32), 0);
	assert_int_equal(yoc_pprl_keys_derive(&k2, s2, 8), YOC_EINVAL);
	assert_int_equal(yoc_pprl_keys_derive(&k2, s2, 32), 0);
	assert_int_equal(strlen(k1.id), 16);
	assert_string_not_equal(k1.id, k2.id);
	struct yoc_link_rec a, typo, swap, other, nodob;
	yoc_link_rec_make(&a, "MARTHA", 6, "SHACKLEFORD", 11, yoc_date_from_ymd(1950, 3, 7), 2,
			  "YC1 2AB", 7);
	yoc_link_rec_make(&typo, "MARTHA", 6, "SHACKLEFORD", 11, yoc_date_from_ymd(1950, 3, 8), 2,
			  "YC1 2AB", 7);
	yoc_link_rec_make(&swap, "MARTHA", 6, "SHACKLEFORD", 11, yoc_date_from_ymd(1950, 7, 3), 2,
			  "YC1 2XY", 7);
	yoc_link_rec_make(&other, "JOHN", 4, "JONES", 5, yoc_date_from_ymd(1981, 9, 22), 1,
			  "YD9 8ZZ", 7);
	yoc_link_rec_make(&nodob, "MARTHA", 6, "SHACKLEFORD", 11, YOC_LINK_NODATE, 2, "YC1 2AB", 7);
	struct yoc_pprl_enc ea, ea2, ek, et, es, eo, en;
	assert_int_equal(yoc_pprl_encode_rec(&a, &k1, &ea), 0);
	assert_int_equal(yoc_pprl_encode_rec(&a, &k1, &ea2), 0);
	assert_int_equal(yoc_pprl_encode_rec(&a, &k2, &ek), 0);
	assert_int_equal(yoc_pprl_encode_rec(&typo, &k1, &et), 0);
	assert_int_equal(yoc_pprl_encode_rec(&swap, &k1, &es), 0);
	assert_int_equal(yoc_pprl_encode_rec(&other, &k1, &eo), 0);
	assert_int_equal(yoc_pprl_encode_rec(&nodob, &k1, &en), 0);
	/* Same key, same encoding; another key, nothing in common but chance. */
	assert_memory_equal(&ea, &ea2, sizeof ea);
	assert_true(yoc_pprl_similarity(ea.f, ek.f, NULL, NULL) < 0.35);
	for (int i = 0; i < YOC_PPRL_NTOK; i++)
		assert_memory_not_equal(ea.tok[i], ek.tok[i], YOC_PPRL_TOKBYTES);
	assert_int_equal(ea.has_tok, 0x3f);
	double fd[YOC_PPRL_FIELDS];
	assert_true(yoc_pprl_similarity(ea.f, ea2.f, NULL, fd) == 1.0);
	/* A day mistyped: the date of birth keeps about half its bits. */
	double s = yoc_pprl_similarity(ea.f, et.f, NULL, fd);
	for (int f = 0; f < YOC_PPRL_FIELDS; f++)
		assert_true(fabs(fd[f] - field_dice(ea.f, et.f, f)) < 1e-12);
	assert_true(fd[2] > 0.35 && fd[2] < 0.65);
	assert_true(fd[0] == 1.0 && fd[1] == 1.0 && fd[3] == 1.0 && fd[4] == 1.0);
	assert_true(fabs(s - (2 + 3 + 3 * fd[2] + 1 + 2) / 11.0) < 1e-12);
	/* Day and month transposed share the date token; another unit of the same sector
	   keeps three parts of the postcode in four, and the district token. */
	assert_memory_equal(ea.tok[0], es.tok[0], YOC_PPRL_TOKBYTES);
	assert_memory_equal(ea.tok[1], es.tok[1], YOC_PPRL_TOKBYTES);
	yoc_pprl_similarity(ea.f, es.f, NULL, fd);
	assert_true(fd[4] > 0.6 && fd[4] < 0.9);
	/* Another person. */
	assert_true(yoc_pprl_similarity(ea.f, eo.f, NULL, NULL) < 0.3);
	/* A missing date of birth counts half, and has no date tokens. */
	s = yoc_pprl_similarity(ea.f, en.f, NULL, fd);
	assert_true(fd[2] == -1);
	assert_true(fabs(s - (2 + 3 + 1.5 + 1 + 2) / 11.0) < 1e-12);
	assert_int_equal(en.has_tok, 1u << 5);
	/* Weights: a name weighted 0 no longer counts. */
	double w[YOC_PPRL_FIELDS] = {0, 3, 3, 1, 2};
	struct yoc_link_rec g;
	yoc_link_rec_make(&g, "ZEBEDEE", 7, "SHACKLEFORD", 11, yoc_date_from_ymd(1950, 3, 7), 2,
			  "YC1 2AB", 7);
	struct yoc_pprl_enc eg;
	assert_int_equal(yoc_pprl_encode_rec(&g, &k1, &eg), 0);
	assert_true(yoc_pprl_similarity(ea.f, eg.f, w, NULL) == 1.0);
	assert_true(yoc_pprl_similarity(ea.f, eg.f, NULL, NULL) < 0.9);
	yoc_pprl_keys_wipe(&k1);
	yoc_pprl_keys_wipe(&k2);
}

static void test_pprl_parse(void **state)
{
	(void)state;
	unsigned char sec[32] = {1};
	struct yoc_pprl_keys k;
	assert_int_equal(yoc_pprl_keys_derive(&k, sec, 32), 0);
	char tmpl[] = "/tmp/yoc_pprl_XXXXXX";
	int fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("ID,DOB,SEX,GIVEN_NAME,FAMILY_NAME,POSTCODE\n"
	      "p1,1950-03-07,2,MARTHA,SHACKLEFORD,YC1 2AB\n"
	      "p2,1981-09-22,1,JOHN,JONES,YD9 8ZZ\n", f);
	fclose(f);
	char out[64];
	snprintf(out, sizeof out, "%s.enc", tmpl);
	struct yoc_pprl_encode_stats st;
	struct yoc_error e;
	yoc_error_clear(&e);
	assert_int_equal(yoc_pprl_encode_file(tmpl, out, "ID", &k, &st, &e), 0);
	assert_int_equal(st.encoded, 2);
	assert_int_equal(yoc_pprl_encode_file(tmpl, out, "NOPE", &k, &st, &e), YOC_EINVAL);
	assert_int_equal(e.line, 1);
	char *text = NULL;
	size_t n = 0;
	assert_int_equal(yoc_read_file(out, 1 << 20, &text, &n, &e), 0);
	struct yoc_pprl_set s;
	assert_int_equal(yoc_pprl_parse(text, n, "x.csv", &s, &e), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.issues.n, 0);
	assert_string_equal(s.key_id, k.id);
	assert_string_equal(s.ids + s.idoff[1], "p2");
	/* The first record against itself: similarity 1. */
	struct yoc_pprl_set s2;
	assert_int_equal(yoc_pprl_parse(text, n, "y.csv", &s2, &e), 0);
	char mout[64];
	snprintf(mout, sizeof mout, "%s.m", tmpl);
	struct yoc_pprl_match_opts o;
	yoc_pprl_match_opts_init(&o);
	struct yoc_pprl_match_stats ms;
	assert_int_equal(yoc_pprl_match(&s, &s2, &o, mout, &ms, &e), 0);
	assert_int_equal(ms.links, 2);
	char *mt = NULL;
	size_t mn = 0;
	assert_int_equal(yoc_read_file(mout, 1 << 20, &mt, &mn, &e), 0);
	assert_non_null(strstr(mt, "p1,p1,1.0000,0.0000,link\n"));
	assert_non_null(strstr(mt, "p2,p2,1.0000,0.0000,link\n"));
	yoc_free(mt);
	yoc_pprl_set_free(&s2);
	yoc_pprl_set_free(&s);
	/* Damaged rows: counted with their line and column, left out. */
	char *bad = yoc_malloc(n + 64);
	memcpy(bad, text, n);
	char *l2 = memchr(bad, '\n', n) + 1;
	char *c2 = memchr(l2, ',', n) + 1;
	*c2 = '!';
	assert_int_equal(yoc_pprl_parse(bad, n, "bad.csv", &s, &e), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.issues.n, 1);
	assert_int_equal(s.issues.first[0].line, 2);
	assert_int_equal(s.issues.first[0].col, 2);
	yoc_pprl_set_free(&s);
	assert_int_equal(yoc_pprl_parse("id,x\n1,2\n", 9, "h.csv", &s, &e), YOC_EPARSE);
	assert_int_equal(e.line, 1);
	yoc_pprl_set_free(NULL);
	yoc_free(bad);
	yoc_free(text);
	unlink(out);
	unlink(mout);
	unlink(tmpl);
	yoc_pprl_keys_wipe(&k);
}

/* The Nth allocation fails: the reader and the matcher fail cleanly, leak nothing. */
static void test_pprl_oom(void **state)
{
	(void)state;
	unsigned char sec[32] = {2};
	struct yoc_pprl_keys k;
	assert_int_equal(yoc_pprl_keys_derive(&k, sec, 32), 0);
	struct yoc_link_rec r;
	struct yoc_pprl_enc en;
	size_t cap = 64 * 1024, n = 0;
	char *t = yoc_malloc(cap);
	n += (size_t)snprintf(t, cap, "id,encoding.%s,block_dob,block_district_yob_sex,"
				     "block_family_ym,block_family_md,block_given_ym_sex,block_names\n",
			      k.id);
	for (int i = 0; i < 40; i++) {
		yoc_link_rec_make(&r, "ANN", 3, i % 2 ? "LEE" : "SMITH", i % 2 ? 3 : 5,
				  yoc_date_from_ymd(1950 + i % 5, 3, 7), 2, "YC1 2AB", 7);
		assert_int_equal(yoc_pprl_encode_rec(&r, &k, &en), 0);
		char b64[sodium_base64_ENCODED_LEN(YOC_PPRL_BYTES, sodium_base64_VARIANT_ORIGINAL)];
		sodium_bin2base64(b64, sizeof b64, en.f, sizeof en.f, sodium_base64_VARIANT_ORIGINAL);
		n += (size_t)snprintf(t + n, cap - n, "r%d,%s", i, b64);
		for (int j = 0; j < YOC_PPRL_NTOK; j++) {
			char hx[2 * YOC_PPRL_TOKBYTES + 1] = "";
			if (en.has_tok & (1u << j))
				sodium_bin2hex(hx, sizeof hx, en.tok[j], YOC_PPRL_TOKBYTES);
			n += (size_t)snprintf(t + n, cap - n, ",%s", hx);
		}
		n += (size_t)snprintf(t + n, cap - n, "\n");
	}
	char out[] = "/tmp/yoc_pprl_oom_XXXXXX";
	int fd = mkstemp(out);
	assert_true(fd >= 0);
	close(fd);
	int ok_parse = 0, ok_match = 0;
	for (unsigned long nth = 1; nth < 200 && !(ok_parse && ok_match); nth++) {
		struct yoc_pprl_set s, s2;
		struct yoc_error e = {0};
		yoc_alloc_fail_at(nth);
		int rc = yoc_pprl_parse(t, n, "a.csv", &s, &e);
		yoc_alloc_fail_at(0);
		if (rc) {
			assert_true(rc == YOC_ENOMEM || rc == YOC_ETOOBIG);
			assert_null(s.f);
			continue;
		}
		ok_parse = 1;
		assert_int_equal(s.n, 40);
		assert_int_equal(yoc_pprl_parse(t, n, "b.csv", &s2, &e), 0);
		struct yoc_pprl_match_opts o;
		yoc_pprl_match_opts_init(&o);
		struct yoc_pprl_match_stats ms;
		for (unsigned long m = 1; m < 60 && !ok_match; m++) {
			yoc_alloc_fail_at(m);
			rc = yoc_pprl_match(&s, &s2, &o, out, &ms, &e);
			yoc_alloc_fail_at(0);
			if (rc == 0)
				ok_match = 1;
			else
				assert_int_equal(rc, YOC_ENOMEM);
		}
		yoc_pprl_set_free(&s);
		yoc_pprl_set_free(&s2);
	}
	assert_true(ok_parse && ok_match);
	unlink(out);
	yoc_free(t);
	yoc_pprl_keys_wipe(&k);
}

static void test_review_parse(void **state)
{
	(void)state;
	const char *t =
		"PAIR,FILE,ROW,NHS_NUMBER,GIVEN_NAME_ROW,GIVEN_NAME_REGISTER,DECISION,REVIEWER\n"
		"R000001,apc/RA1_2021-04.csv,7,9990000018,JON,JOHN,MATCH,ab\n"
		"R000002,apc/RA1_2021-04.csv,9,9990000026,ANN,ANNE,non-match,cd\n"
		"R000003,apc/RA1_2021-04.csv,12,9990000034,X,Y,,\n"
		"R000004,apc/RA1_2021-04.csv,13,9990000042,X,Y,PERHAPS,ef\n"
		"R000005,apc/RA1_2021-04.csv,14,12345,X,Y,MATCH,ef\n";
	struct yoc_review_decision *d = NULL;
	size_t n = 0, bad = 0;
	struct yoc_error e = {0};
	assert_int_equal(yoc_review_parse(t, strlen(t), "r.csv", &d, &n, &bad, &e), 0);
	assert_int_equal(n, 3);
	assert_int_equal(bad, 2);
	assert_string_equal(d[0].pair, "R000001");
	assert_int_equal(d[0].decision, YOC_REVIEW_MATCH);
	assert_string_equal(d[0].nhs, "9990000018");
	assert_string_equal(d[0].reviewer, "ab");
	assert_int_equal(d[1].decision, YOC_REVIEW_NONMATCH);
	assert_string_equal(d[1].nhs, "9990000026");
	assert_int_equal(d[2].decision, YOC_REVIEW_UNDECIDED);
	yoc_free(d);
	/* Not a review file. */
	const char *u = "A,B\n1,2\n";
	assert_true(yoc_review_parse(u, strlen(u), "x.csv", &d, &n, &bad, &e) < 0);
}

/* Every allocation of the review reader failing in turn: refused cleanly, nothing leaks. */
static void test_review_parse_oom(void **state)
{
	(void)state;
	char t[8192];
	size_t n = (size_t)snprintf(t, sizeof t, "PAIR,NHS_NUMBER,DECISION,REVIEWER\n");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(t + n, sizeof t - n, "R%06d,9990000018,MATCH,x\n", i + 1);
	int ok_seen = 0;
	for (unsigned long k = 1; k < 64 && !ok_seen; k++) {
		struct yoc_review_decision *d = NULL;
		size_t nd = 0, bad = 0;
		struct yoc_error e = {0};
		yoc_alloc_fail_at(k);
		int rc = yoc_review_parse(t, n, "r.csv", &d, &nd, &bad, &e);
		yoc_alloc_fail_at(0);
		if (rc == 0) {
			assert_int_equal(nd, 100);
			ok_seen = 1;
		} else {
			assert_int_equal(rc, YOC_ENOMEM);
			assert_null(d);
		}
		yoc_free(d);
	}
	assert_true(ok_seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jaro_winkler_published),
		cmocka_unit_test(test_phonetic),
		cmocka_unit_test(test_name_levels),
		cmocka_unit_test(test_dates_postcodes),
		cmocka_unit_test(test_em_recovers),
		cmocka_unit_test(test_patterns_weights),
		cmocka_unit_test(test_pprl_encode),
		cmocka_unit_test(test_pprl_parse),
		cmocka_unit_test(test_pprl_oom),
		cmocka_unit_test(test_review_parse),
		cmocka_unit_test(test_review_parse_oom),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

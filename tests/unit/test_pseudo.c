/*
** Pseudonymisation: HMAC-SHA256 against the RFC 4231 vectors, the pseudonym
** and its cache against direct HMAC computation, NHS number checks, key
** files, the column policy, the row rewrite (counts, opt-outs, malformed
** rows, atomic output, allocation failures), re-identification and the
** audit chain.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ident/ident.h"
#include "pseudo/pseudo.h"
#include "spec/spec.h"
#include "testutil.h"
#include "yoc/nhsno.h"

static char dir[512];

static int setup(void **state)
{
	(void)state;
	return tu_temp_dir(dir, sizeof dir, "pseudo");
}

static int teardown(void **state)
{
	(void)state;
	return tu_rm_rf(dir);
}

static void path_in(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Whole file into a malloc'd NUL-terminated string (NULL if absent). */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap);
	assert_non_null(b);
	size_t got;
	while ((got = fread(b + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (n + 1 == cap) {
			cap *= 2;
			b = realloc(b, cap);
			assert_non_null(b);
		}
	}
	fclose(f);
	b[n] = 0;
	return b;
}

static void hex(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* ---- RFC 4231 ------------------------------------------------------------ */

static void test_rfc4231(void **state)
{
	(void)state;
	unsigned char k1[20], k3[20], k4[25], k5[20], k6[131], d3[50], d4[50], mac[32];
	char got[65];
	memset(k1, 0x0b, sizeof k1);
	memset(k3, 0xaa, sizeof k3);
	memset(d3, 0xdd, sizeof d3);
	for (int i = 0; i < 25; i++)
		k4[i] = (unsigned char)(i + 1);
	memset(d4, 0xcd, sizeof d4);
	memset(k5, 0x0c, sizeof k5);
	memset(k6, 0xaa, sizeof k6);
	static const char m6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
	static const char m7[] = "This is a test using a larger than block-size key and a larger "
				 "than block-size data. The key needs to be hashed before being "
				 "used by the HMAC algorithm.";
	struct {
		const void *key;
		size_t klen;
		const void *msg;
		size_t mlen;
		const char *want; /* RFC 4231 section 4, HMAC-SHA-256 */
	} tc[] = {
		{k1, 20, "Hi There", 8,
		 "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
		{"Jefe", 4, "what do ya want for nothing?", 28,
		 "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{k3, 20, d3, 50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
		{k4, 25, d4, 50, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
		/* test case 5 publishes the output truncated to 128 bits */
		{k5, 20, "Test With Truncation", 20, "a3b6167473100ee06e0c796c2955552b"},
		{k6, 131, m6, sizeof m6 - 1,
		 "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
		{k6, 131, m7, sizeof m7 - 1,
		 "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
	};
	for (size_t i = 0; i < sizeof tc / sizeof tc[0]; i++) {
		assert_int_equal(yoc_hmac_sha256(tc[i].key, tc[i].klen, tc[i].msg, tc[i].mlen, mac),
				 0);
		hex(mac, 32, got);
		size_t wl = strlen(tc[i].want);
		if (strncmp(got, tc[i].want, wl) != 0)
			fail_msg("RFC 4231 test case %zu: got %.*s want %s", i + 1, (int)wl, got,
				 tc[i].want);
	}
}

/* ---- pseudonyms and the cache -------------------------------------------- */

static void make_key(struct yoc_key *k, unsigned seed)
{
	for (int i = 0; i < YOC_KEY_BYTES; i++)
		k->k[i] = (unsigned char)(seed * 131 + (unsigned)i * 17);
}

/* Ten digits of a valid NHS number derived from i (skipping check digit 10). */
static int nth_valid(unsigned i, char out[11])
{
	snprintf(out, 11, "%09u", 400000000u + i);
	int c = yoc_nhsno_check_digit(out);
	if (c == 10)
		return 0;
	out[9] = (char)('0' + c);
	out[10] = 0;
	return 1;
}

static void test_pseudonym_is_hmac(void **state)
{
	(void)state;
	struct yoc_key key;
	yoc_pseudo *p = NULL, *small = NULL;
	unsigned char mac[32];
	char want[65], got[65];
	make_key(&key, 1);
	assert_int_equal(yoc_pseudo_create(&p, &key, 0), 0);
	assert_int_equal(yoc_pseudo_create(&small, &key, 10), 0); /* cache full at 10 */
	unsigned n = 0;
	/* Enough numbers to grow the table several times, each asked twice. */
	for (unsigned i = 0; n < 20000; i++) {
		char ten[11];
		if (!nth_valid(i, ten))
			continue;
		n++;
		assert_int_equal(yoc_hmac_sha256(key.k, sizeof key.k, ten, 10, mac), 0);
		hex(mac, 32, want);
		for (int round = 0; round < 2; round++) {
			yoc_pseudo *ps = round ? small : p;
			memset(got, 'x', sizeof got);
			yoc_pseudo_hex(ps, ten, got);
			assert_int_equal(got[64], 'x'); /* exactly 64 characters written */
			got[64] = 0;
			assert_string_equal(got, want);
		}
	}
	assert_int_equal(yoc_pseudo_cached(p), 20000);
	assert_int_equal(yoc_pseudo_cached(small), 10);
	/* Asked again after all the growth: still the same answers. */
	char ten[11];
	assert_true(nth_valid(0, ten));
	yoc_hmac_sha256(key.k, sizeof key.k, ten, 10, mac);
	hex(mac, 32, want);
	yoc_pseudo_hex(p, ten, got);
	got[64] = 0;
	assert_string_equal(got, want);
	/* A different key gives a different pseudonym. */
	struct yoc_key k2;
	yoc_pseudo *p2 = NULL;
	make_key(&k2, 2);
	assert_int_equal(yoc_pseudo_create(&p2, &k2, 0), 0);
	yoc_pseudo_hex(p2, ten, got);
	assert_memory_not_equal(got, want, 64);
	yoc_pseudo_free(p);
	yoc_pseudo_free(small);
	yoc_pseudo_free(p2);
	yoc_pseudo_free(NULL);
}

/* ---- NHS numbers ----------------------------------------------------------- */

static int nhs(const char *s, char *out)
{
	return yoc_pseudo_nhsno(s, strlen(s), out);
}

static void test_nhsno_cases(void **state)
{
	(void)state;
	char out[11];
	assert_int_equal(nhs("9434765919", out), YOC_NHSNO_VALID);
	assert_string_equal(out, "9434765919");
	assert_int_equal(nhs("943 476 5919", out), YOC_NHSNO_VALID);
	assert_string_equal(out, "9434765919");
	assert_int_equal(nhs("943-476-5919", out), YOC_NHSNO_VALID);
	assert_int_equal(nhs("9434765918", out), YOC_NHSNO_BAD_CHECK_DIGIT);
	assert_int_equal(nhs("", out), YOC_NHSNO_MISSING);
	assert_int_equal(nhs("  ", out), YOC_NHSNO_MISSING);
	assert_int_equal(nhs("943476591", out), YOC_NHSNO_MALFORMED);
	assert_int_equal(nhs("94347659190", out), YOC_NHSNO_MALFORMED);
	assert_int_equal(nhs("94347A5919", out), YOC_NHSNO_MALFORMED);
	assert_int_equal(nhs("NULL", out), YOC_NHSNO_MALFORMED);
	/* 123456789x: weighted sum 210, 11 - 210 mod 11 = 10: no digit is valid. */
	for (char c = '0'; c <= '9'; c++) {
		char s[11] = "123456789";
		s[9] = c;
		s[10] = 0;
		assert_int_equal(nhs(s, out), YOC_NHSNO_BAD_CHECK_DIGIT);
	}
	/* All ten the same: the check digit arithmetic passes (sum = 54d, which is
	** -d mod 11, so the check digit is d), but such numbers are never issued. */
	for (int d = 0; d <= 9; d++) {
		char s[11];
		memset(s, '0' + d, 10);
		s[10] = 0;
		assert_int_equal(yoc_nhsno_check_digit(s), d);
		assert_int_equal(nhs(s, out), YOC_NHSNO_MALFORMED);
		assert_int_equal(out[0], 0);
	}
}

/* The fast path must agree with yoc_nhsno_check on every input. */
static void test_nhsno_fast_path_agrees(void **state)
{
	(void)state;
	static const char alphabet[] = "0123456789012345678901234567890123456789 -A\t";
	uint32_t x = 12345;
	char s[16], a[11], b[11];
	for (int i = 0; i < 300000; i++) {
		x = x * 1664525u + 1013904223u;
		size_t n = (x >> 28) % 3 == 0 ? 8 + (x >> 24) % 5 : 10;
		for (size_t k = 0; k < n; k++) {
			x = x * 1664525u + 1013904223u;
			/* mostly digits, sometimes repeats of the first digit */
			s[k] = (x >> 27) == 0 && k ? s[0] : alphabet[(x >> 16) % (sizeof alphabet - 1)];
		}
		s[n] = 0;
		memset(a, 'x', sizeof a);
		memset(b, 'x', sizeof b);
		int ra = yoc_pseudo_nhsno(s, n, a), rb = yoc_nhsno_check(s, n, b);
		assert_int_equal(ra, rb);
		if (rb == YOC_NHSNO_VALID || rb == YOC_NHSNO_BAD_CHECK_DIGIT)
			assert_string_equal(a, b);
		else
			assert_int_equal(a[0], 0);
	}
	/* and on every valid number of a dense range */
	for (unsigned i = 0; i < 50000; i++) {
		char t[11];
		if (!nth_valid(i, t))
			continue;
		assert_int_equal(yoc_pseudo_nhsno(t, 10, a), YOC_NHSNO_VALID);
		t[9] = (char)('0' + (t[9] - '0' + 1) % 10);
		assert_int_equal(yoc_pseudo_nhsno(t, 10, a), yoc_nhsno_check(t, 10, b));
	}
}

/* ---- keys ---------------------------------------------------------------- */

static void test_key_files(void **state)
{
	(void)state;
	char p[600];
	struct yoc_key k;
	struct yoc_error e;
	static const char good[] =
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";

	path_in(p, sizeof p, "good.key");
	write_text(p, good, 0600);
	yoc_error_clear(&e);
	assert_int_equal(yoc_key_load(&k, p, &e), 0);
	for (int i = 0; i < 32; i++)
		assert_int_equal(k.k[i], i);

	/* readable by group or others: refused whatever the content */
	chmod(p, 0644);
	assert_int_equal(yoc_key_load(&k, p, &e), YOC_EPERM);
	assert_non_null(strstr(e.msg, "0644"));
	chmod(p, 0640);
	assert_int_equal(yoc_key_load(&k, p, &e), YOC_EPERM);
	chmod(p, 0604);
	assert_int_equal(yoc_key_load(&k, p, &e), YOC_EPERM);
	chmod(p, 0400);
	assert_int_equal(yoc_key_load(&k, p, &e), 0);

	/* text checks */
	assert_int_equal(yoc_key_parse(&k, good, 64, "k", &e), 0);       /* no newline */
	assert_int_equal(yoc_key_parse(&k, good, 63, "k", &e), YOC_EPARSE); /* short */
	char upper[80];
	snprintf(upper, sizeof upper, "%s", good);
	for (char *c = upper; *c; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 32);
	assert_int_equal(yoc_key_parse(&k, upper, strlen(upper), "k", &e), 0);
	assert_int_equal(k.k[31], 31);
	char bad[80];
	snprintf(bad, sizeof bad, "%s", good);
	bad[10] = 'g';
	assert_int_equal(yoc_key_parse(&k, bad, strlen(bad), "k", &e), YOC_EPARSE);
	assert_int_equal(e.col, 11);
	assert_int_equal(yoc_key_parse(&k, "00ff\n", 5, "k", &e), YOC_EPARSE);
	char longer[140];
	snprintf(longer, sizeof longer, "%.64s%.64s\n", good, good);
	assert_int_equal(yoc_key_parse(&k, longer, strlen(longer), "k", &e), YOC_EPARSE);
	assert_int_equal(yoc_key_parse(&k, "", 0, "k", &e), YOC_EPARSE);
	assert_int_equal(yoc_key_parse(&k, good, 65, "k", &e), 0); /* with its newline */
	char two_lines[140];
	snprintf(two_lines, sizeof two_lines, "%s\n", good);
	assert_int_equal(yoc_key_parse(&k, two_lines, strlen(two_lines), "k", &e), YOC_EPARSE);

	path_in(p, sizeof p, "missing.key");
	assert_int_equal(yoc_key_load(&k, p, &e), YOC_EIO);
	yoc_key_wipe(&k);
}

static void test_keygen(void **state)
{
	(void)state;
	char p1[600], p2[600];
	struct yoc_key a, b;
	struct yoc_error e;
	struct stat st;
	path_in(p1, sizeof p1, "gen1.key");
	path_in(p2, sizeof p2, "gen2.key");
	yoc_error_clear(&e);
	assert_int_equal(yoc_key_generate(p1, &e), 0);
	assert_int_equal(yoc_key_generate(p2, &e), 0);
	assert_int_equal(stat(p1, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 65);
	char *text = slurp(p1);
	assert_non_null(text);
	assert_int_equal(text[64], '\n');
	for (int i = 0; i < 64; i++)
		assert_non_null(strchr("0123456789abcdef", text[i]));
	free(text);
	assert_int_equal(yoc_key_load(&a, p1, &e), 0);
	assert_int_equal(yoc_key_load(&b, p2, &e), 0);
	assert_memory_not_equal(a.k, b.k, 32);
	/* never overwrites, and leaves the file as it was */
	assert_int_equal(yoc_key_generate(p1, &e), YOC_EEXIST);
	struct yoc_key again;
	assert_int_equal(yoc_key_load(&again, p1, &e), 0);
	assert_memory_equal(a.k, again.k, 32);
	/* no temporary left behind */
	char tmp[700];
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", p1, (long)getpid());
	assert_int_not_equal(access(tmp, F_OK), 0);
}

/* ---- the rewrite ------------------------------------------------------------- */

struct rejects {
	int n;
	long lines[8];
	int faults[8];
};

static void on_reject(void *ctx, const struct yoc_error *e, int fault)
{
	struct rejects *r = ctx;
	if (r->n < 8) {
		r->lines[r->n] = e->line;
		r->faults[r->n] = fault;
	}
	r->n++;
}

static void pseudo_of(const struct yoc_key *k, const char *ten, char out[65])
{
	unsigned char mac[32];
	assert_int_equal(yoc_hmac_sha256(k->k, sizeof k->k, ten, 10, mac), 0);
	hex(mac, 32, out);
}

static void test_rewrite(void **state)
{
	(void)state;
	char in[600], out[600], oo[600];
	struct yoc_key key;
	struct yoc_pseudo_stats st;
	struct yoc_error e;
	struct rejects rj = {0};
	yoc_pseudo *ps = NULL;
	yoc_nhsset *optout = NULL;
	make_key(&key, 7);
	path_in(in, sizeof in, "feed.csv");
	path_in(out, sizeof out, "feed.out.csv");
	path_in(oo, sizeof oo, "optout.csv");
	write_text(in,
		   "NEWNHSNO,DOB,Forename,SURNAME,POSTCODE,ADMIDATE,NOTE_TEXT,COST,NHS Number,MYDOB\n"
		   "943 476 5919,1970-03-15,Ann,Smith,LS1 4AP,2023-05-01,\"a, b\",1.50,9434765919,031970\n"
		   "9434765918,15/12/1980,Bob,Jones,LS2 1AA,2023-06-01,,2,x,\n"
		   ",1800-01-01,C,D,E,2023-07-01,,3,,\n"
		   "4010232137,not a date,E,F,G,\"2023-01-01\",\"say \"\"hi\"\"\",4,,\n"
		   "0000000000,1990-02-28,G,H,I,2023-02-02,,5,,\n"
		   "ragged,row\n"
		   "4010232137,1999-12-31,I,J,K,2023-03-03,,6,,\n"
		   "4505577104,2001-01-01,K,L,M,2023-04-04,,7,,\n",
		   0600);
	write_text(oo, "nhs_number\n450 557 7104\n", 0600);
	yoc_error_clear(&e);
	struct yoc_nhsset_stats ost;
	assert_int_equal(yoc_nhsset_load(&optout, oo, &ost, &e), 0);
	assert_int_equal(ost.valid, 1);
	assert_int_equal(yoc_pseudo_create(&ps, &key, 0), 0);
	struct yoc_pseudo_opts o = {.optout = optout, .on_reject = on_reject, .ctx = &rj,
				    .kind = YOC_KIND_APC, .kind_set = 1};
	assert_int_equal(yoc_pseudo_file(ps, in, out, &o, &st, &e), 0);

	assert_int_equal(st.rows_in, 8);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(rj.n, 1);
	assert_int_equal(rj.lines[0], 7);
	assert_int_equal(st.opted_out, 1);
	assert_int_equal(st.rows_out, 6);
	assert_int_equal(st.rows_in, st.rows_out + st.opted_out + st.rejected);
	assert_int_equal(st.valid, 3);
	assert_int_equal(st.bad_check_digit, 1);
	assert_int_equal(st.missing, 1);
	assert_int_equal(st.malformed, 1);
	assert_int_equal(st.dob_unparsed, 1);
	assert_int_equal(st.cols_dropped, 6); /* Forename SURNAME POSTCODE NOTE_TEXT NHS Number MYDOB */
	assert_int_equal(st.cols_identifier, 5);
	assert_non_null(strstr(st.dropped, "NHS Number (NHS number)"));

	char p1[65], p2[65], want[2048];
	pseudo_of(&key, "9434765919", p1);
	pseudo_of(&key, "4010232137", p2);
	snprintf(want, sizeof want,
		 "PSEUDO_ID,NHSNO_STATUS,MYDOB,ADMIDATE,COST\n"
		 "%s,valid,031970,2023-05-01,1.50\n"
		 ",bad_check_digit,121980,2023-06-01,2\n"
		 ",missing,011800,2023-07-01,3\n"
		 "%s,valid,,2023-01-01,4\n"
		 ",malformed,021990,2023-02-02,5\n"
		 "%s,valid,121999,2023-03-03,6\n",
		 p1, p2, p2);
	char *got = slurp(out);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);

	/* A second pass over the output: no NEWNHSNO, refused, nothing written. */
	char out2[600];
	path_in(out2, sizeof out2, "twice.csv");
	assert_int_equal(yoc_pseudo_check_file(out, &o, &e), YOC_EINVAL);
	assert_int_equal(yoc_pseudo_file(ps, out, out2, &o, &st, &e), YOC_EINVAL);
	assert_non_null(strstr(e.msg, "NEWNHSNO"));
	assert_int_not_equal(access(out2, F_OK), 0);

	/* strict: the first malformed row fails the file and leaves no output */
	char out3[600];
	path_in(out3, sizeof out3, "strict.csv");
	o.strict = 1;
	assert_int_equal(yoc_pseudo_file(ps, in, out3, &o, &st, &e), YOC_EPARSE);
	assert_int_equal(e.line, 7);
	assert_int_not_equal(access(out3, F_OK), 0);

	yoc_pseudo_free(ps);
	yoc_nhsset_free(optout);
}

/*
** What the source account needs from a rewrite: rejected rows by reason (the
** callback gets each one's kind), and the output's size and SHA-256, hashed
** while it is written: over several output buffers, and with a row larger
** than a buffer, which is written through.
*/
static void test_rewrite_account(void **state)
{
	(void)state;
	char in[600], out[600];
	struct yoc_key key;
	struct yoc_pseudo_stats st;
	struct yoc_error e;
	struct rejects rj = {0};
	yoc_pseudo *ps = NULL;
	make_key(&key, 11);
	assert_int_equal(yoc_pseudo_create(&ps, &key, 0), 0);
	path_in(in, sizeof in, "acct.csv");
	path_in(out, sizeof out, "acct.out.csv");
	FILE *f = fopen(in, "w");
	assert_non_null(f);
	fprintf(f, "NEWNHSNO,PROCODE,EPIKEY,EPISTART\n");
	for (int i = 0; i < 60000; i++) {
		if (i == 100)
			fprintf(f, "9434765919,R\"A1,%d,2023-04-01\n", i); /* stray quote */
		else if (i == 200)
			fprintf(f, "9434765919,RA1,%d\n", i);             /* ragged */
		else
			fprintf(f, "9434765919,RA1,%d,2023-04-01\n", i);
	}
	/* a quoted cell: the row may need twice its size, more than the output
	** buffer, so it is built alone and written through */
	fprintf(f, "9434765919,RA1,\"");
	for (int i = 0; i < 700000; i++)
		fputc('k', f);
	fprintf(f, "\",2023-04-01\n9434765919,RA1,x"); /* truncated last line */
	fclose(f);
	struct yoc_pseudo_opts o = {.on_reject = on_reject, .ctx = &rj, .kind = YOC_KIND_APC,
				    .kind_set = 1, .sha256 = 1};
	yoc_error_clear(&e);
	assert_int_equal(yoc_pseudo_file(ps, in, out, &o, &st, &e), 0);
	assert_int_equal(st.rejected, 3);
	assert_int_equal(st.rejected_by[YOC_CSV_STRAY_QUOTE], 1);
	assert_int_equal(st.rejected_by[YOC_CSV_RAGGED_ROW], 1);
	assert_int_equal(st.rejected_by[YOC_CSV_TRUNCATED], 1);
	uint64_t sum = 0;
	for (int i = 0; i <= YOC_CSV_ROW_TOO_LONG; i++)
		sum += st.rejected_by[i];
	assert_int_equal(sum, st.rejected);
	assert_int_equal(rj.n, 3);
	assert_int_equal(rj.lines[0], 102);
	assert_int_equal(rj.faults[0], YOC_CSV_STRAY_QUOTE);
	assert_int_equal(rj.lines[1], 202);
	assert_int_equal(rj.faults[1], YOC_CSV_RAGGED_ROW);
	assert_int_equal(rj.faults[2], YOC_CSV_TRUNCATED);
	assert_int_equal(st.rows_in, st.rows_out + st.rejected);
	struct stat sb;
	assert_int_equal(stat(out, &sb), 0);
	assert_int_equal(st.bytes_out, (uint64_t)sb.st_size);
	assert_true(sb.st_size > (2 << 20));
	char want[65];
	assert_int_equal(yoc_sha256_file(out, want, &e), 0);
	assert_string_equal(st.sha256, want);

	/* without the option: no checksum */
	o.sha256 = 0;
	assert_int_equal(yoc_pseudo_file(ps, in, out, &o, &st, &e), 0);
	assert_string_equal(st.sha256, "");
	assert_int_equal(st.bytes_out, (uint64_t)sb.st_size);
	yoc_pseudo_free(ps);
}

/* Quoting, another delimiter, CRLF, and a file with only a header. */
static void test_rewrite_format(void **state)
{
	(void)state;
	char in[600], out[600];
	struct yoc_key key;
	struct yoc_pseudo_stats st;
	struct yoc_error e;
	yoc_pseudo *ps = NULL;
	make_key(&key, 9);
	assert_int_equal(yoc_pseudo_create(&ps, &key, 0), 0);
	path_in(in, sizeof in, "pipe.csv");
	path_in(out, sizeof out, "pipe.out.csv");
	write_text(in,
		   "APPTDATE|NEWNHSNO|ATTENDKEY|DOB\r\n"
		   "2023-01-01|9434765919|\"a|b\"|1970-01-31\r\n"
		   "2023-01-02|9434765919|\"q\"\"q\"|\r\n"
		   "2023-01-03| 943 476 5919 |plain|1970-01-31\r\n",
		   0600);
	yoc_error_clear(&e);
	assert_int_equal(yoc_pseudo_file(ps, in, out, NULL, &st, &e), 0);
	char p1[65], want[512];
	pseudo_of(&key, "9434765919", p1);
	snprintf(want, sizeof want,
		 "APPTDATE|PSEUDO_ID|NHSNO_STATUS|ATTENDKEY|MYDOB\n"
		 "2023-01-01|%s|valid|\"a|b\"|011970\n"
		 "2023-01-02|%s|valid|\"q\"\"q\"|\n"
		 "2023-01-03|%s|valid|plain|011970\n",
		 p1, p1, p1);
	char *got = slurp(out);
	assert_string_equal(got, want);
	free(got);

	write_text(in, "NEWNHSNO,APPTDATE\n", 0600);
	assert_int_equal(yoc_pseudo_file(ps, in, out, NULL, &st, &e), 0);
	got = slurp(out);
	assert_string_equal(got, "PSEUDO_ID,NHSNO_STATUS,APPTDATE\n");
	free(got);
	assert_int_equal(st.rows_in, 0);
	yoc_pseudo_free(ps);
}

/* Every allocation failing in turn: an error or the right answer, no leak. */
static void test_rewrite_alloc_failures(void **state)
{
	(void)state;
	char in[600], out[600];
	struct yoc_key key;
	struct yoc_pseudo_stats st;
	struct yoc_error e;
	make_key(&key, 3);
	path_in(in, sizeof in, "oom.csv");
	path_in(out, sizeof out, "oom.out.csv");
	char buf[1 << 16];
	size_t n = (size_t)snprintf(buf, sizeof buf, "NEWNHSNO,DOB,NAME,APPTDATE\n");
	for (unsigned i = 0; i < 600; i++) {
		char t[11];
		if (nth_valid(i, t))
			n += (size_t)snprintf(buf + n, sizeof buf - n, "%s,2000-01-01,x,2023-01-01\n", t);
	}
	write_text(in, buf, 0600);
	yoc_pseudo *ref = NULL;
	assert_int_equal(yoc_pseudo_create(&ref, &key, 0), 0);
	assert_int_equal(yoc_pseudo_file(ref, in, out, NULL, &st, &e), 0);
	yoc_pseudo_free(ref);
	char *want = slurp(out);
	int failures = 0;
	for (unsigned long k = 1; k < 60; k++) {
		unlink(out);
		yoc_pseudo *ps = NULL;
		yoc_alloc_fail_at(k);
		int rc = yoc_pseudo_create(&ps, &key, 0);
		if (rc == 0)
			rc = yoc_pseudo_file(ps, in, out, NULL, &st, &e);
		yoc_alloc_fail_at(0);
		yoc_pseudo_free(ps);
		char *got = slurp(out);
		if (rc == 0) {
			assert_non_null(got);
			assert_string_equal(got, want); /* a failed cache only costs speed */
		} else {
			failures++;
			assert_null(got); /* never a partial output */
		}
		free(got);
	}
	assert_true(failures > 0);
	free(want);
}

/*
** The reader itself running out of memory mid-file (a row of 100 cells
** makes it grow): pseudonymise stops with "out of memory" and writes
** nothing, for every N until it completes. Before, the stopped reader's
** error was taken for a malformed row and rejected again and again, forever.
*/
static void test_rewrite_reader_oom(void **state)
{
	(void)state;
	char in[600], out[600];
	struct yoc_key key;
	struct yoc_pseudo_stats st;
	struct yoc_error e;
	make_key(&key, 4);
	path_in(in, sizeof in, "oomwide.csv");
	path_in(out, sizeof out, "oomwide.out.csv");
	char buf[4096], t[11];
	size_t n = (size_t)snprintf(buf, sizeof buf, "NEWNHSNO,DOB,CODE\r");
	assert_true(nth_valid(1, t));
	n += (size_t)snprintf(buf + n, sizeof buf - n, "%s,2000-01-01,A\r", t);
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%sx", i ? "," : "");
	n += (size_t)snprintf(buf + n, sizeof buf - n, "\r%s,2000-02-01,B\r", t);
	write_text(in, buf, 0600);
	int done = 0, saw_oom = 0;
	for (unsigned long k = 1; k < 200 && !done; k++) {
		unlink(out);
		yoc_pseudo *ps = NULL;
		yoc_error_clear(&e);
		unsigned long before = yoc_alloc_count();
		yoc_alloc_fail_at(k);
		int rc = yoc_pseudo_create(&ps, &key, 0), created = rc == 0;
		struct yoc_pseudo_opts po = {.kind = YOC_KIND_APC, .kind_set = 1};
		if (created)
			rc = yoc_pseudo_file(ps, in, out, &po, &st, &e);
		yoc_alloc_fail_at(0);
		unsigned long used = yoc_alloc_count() - before;
		yoc_pseudo_free(ps);
		char *got = slurp(out);
		if (rc == 0) {
			assert_non_null(got);
			assert_int_equal(st.rows_in, 3);
			assert_int_equal(st.rejected, 1);
			done = used < k;
		} else {
			assert_int_equal(rc, YOC_ENOMEM);
			if (created && !strstr(e.msg, "out of memory"))
				fail_msg("k=%lu: '%s'", k, e.msg);
			assert_null(got);
			saw_oom = 1;
		}
		free(got);
	}
	assert_true(done);
	assert_true(saw_oom);
}

/* ---- re-identification --------------------------------------------------------- */

static void test_reidentify(void **state)
{
	(void)state;
	char in[600], ps_out[600], re_out[600], regp[600];
	struct yoc_key key;
	struct yoc_pseudo_stats st;
	struct yoc_reident_stats rs;
	struct yoc_nhsset_stats rst;
	struct yoc_error e;
	yoc_pseudo *ps = NULL;
	yoc_nhsset *reg = NULL;
	yoc_reident *ri = NULL;
	make_key(&key, 5);
	path_in(in, sizeof in, "ri.csv");
	path_in(ps_out, sizeof ps_out, "ri.pseudo.csv");
	path_in(re_out, sizeof re_out, "ri.re.csv");
	path_in(regp, sizeof regp, "register.csv");
	char buf[1 << 15], nums[40][11];
	int nn = 0;
	size_t n = (size_t)snprintf(buf, sizeof buf, "NEWNHSNO,ACT\n");
	for (unsigned i = 0; nn < 40; i++)
		if (nth_valid(i * 7, nums[nn]))
			nn++;
	for (int r = 0; r < 120; r++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s,%d\n", nums[r % 40], r);
	write_text(in, buf, 0600);
	assert_int_equal(yoc_pseudo_create(&ps, &key, 0), 0);
	yoc_error_clear(&e);
	/* ACT is no field of any kind: kept because the key holder allows it. */
	yoc_allow *al = NULL;
	assert_int_equal(yoc_allow_parse(&al, "# extra\nACT\n", 12, "allow", &e), 0);
	struct yoc_pseudo_opts po = {.kind = YOC_KIND_OP, .kind_set = 1, .allow = al};
	assert_int_equal(yoc_pseudo_file(ps, in, ps_out, &po, &st, &e), 0);
	yoc_allow_free(al);
	/* register: the first 10 people, one invalid entry, one person not in the feed */
	n = (size_t)snprintf(buf, sizeof buf, "NHS_NUMBER\n");
	for (int i = 0; i < 10; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%.3s %.3s %.4s\n", nums[i],
				      nums[i] + 3, nums[i] + 6);
	n += (size_t)snprintf(buf + n, sizeof buf - n, "1234567890\n9434765919\n");
	write_text(regp, buf, 0600);
	assert_int_equal(yoc_nhsset_load(&reg, regp, &rst, &e), 0);
	assert_int_equal(rst.valid, 11);
	assert_int_equal(rst.bad_check_digit, 1);
	assert_int_equal(yoc_reident_create(&ri, &key, reg, &e), 0);
	FILE *f = fopen(re_out, "wb");
	assert_non_null(f);
	assert_int_equal(yoc_reident_write(ri, ps_out, f, NULL, &rs, &e), 0);
	fclose(f);
	assert_int_equal(rs.rows_in, 120);
	assert_int_equal(rs.rows_out, 120);
	assert_int_equal(rs.reidentified, 30);
	assert_int_equal(rs.persons, 10);
	/* every row: NEWNHSNO filled exactly when the person is registered, and right */
	char *got = slurp(re_out);
	char *line = strtok(got, "\n");
	assert_string_equal(line, "NEWNHSNO,PSEUDO_ID,NHSNO_STATUS,ACT");
	for (int r = 0; r < 120; r++) {
		line = strtok(NULL, "\n");
		assert_non_null(line);
		char want[200], p[65];
		pseudo_of(&key, nums[r % 40], p);
		snprintf(want, sizeof want, "%s,%s,valid,%d", r % 40 < 10 ? nums[r % 40] : "", p, r);
		assert_string_equal(line, want);
	}
	assert_null(strtok(NULL, "\n"));
	free(got);
	/* a file that is not pseudonymised is refused */
	f = fopen(re_out, "wb");
	assert_int_equal(yoc_reident_write(ri, in, f, NULL, &rs, &e), YOC_EINVAL);
	fclose(f);
	yoc_reident_free(ri);
	yoc_nhsset_free(reg);
	yoc_pseudo_free(ps);
}

/* ---- the audit chain ------------------------------------------------------------ */

static void append3(const char *log)
{
	struct yoc_audit_rec r = {0};
	struct yoc_error e;
	char h[65];
	r.user = "alice";
	r.purpose = "direct care \"review\"\nline two";
	r.input = "in.csv";
	r.output = "out.csv";
	memset(r.input_sha256, 'a', 64);
	memset(r.register_sha256, 'b', 64);
	memcpy(r.key_id, "0123456789abcdef", 17);
	for (int i = 0; i < 3; i++) {
		r.rows_total = 100 + (uint64_t)i;
		r.rows_reidentified = (uint64_t)i;
		yoc_error_clear(&e);
		assert_int_equal(yoc_audit_append(log, &r, h, &e), 0);
	}
}

static void set_lines(const char *path, char **lines, int n)
{
	FILE *f = fopen(path, "wb");
	for (int i = 0; i < n; i++)
		fprintf(f, "%s\n", lines[i]);
	fclose(f);
}

static void test_audit_chain(void **state)
{
	(void)state;
	char log[600];
	struct yoc_audit_result res;
	struct yoc_error e;
	path_in(log, sizeof log, "audit.log");
	append3(log);
	assert_int_equal(yoc_audit_verify(log, &res, &e), 0);
	assert_int_equal(res.records, 3);
	struct stat st;
	assert_int_equal(stat(log, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	char *text = slurp(log);
	char *orig = strdup(text);
	char *lines[3];
	lines[0] = strtok(text, "\n");
	lines[1] = strtok(NULL, "\n");
	lines[2] = strtok(NULL, "\n");
	assert_non_null(lines[2]);
	assert_non_null(strstr(lines[0], "\"prev\":\"0000000000000000"));
	assert_null(strstr(lines[1], res.head));
	assert_non_null(strstr(lines[2], res.head));

	/* every single-byte edit of every record is detected, at that record */
	size_t total = strlen(orig);
	int line = 1;
	for (size_t i = 0; i < total; i++) {
		if (orig[i] == '\n') {
			line++;
			continue;
		}
		char *t = strdup(orig);
		t[i] = t[i] == 'x' ? 'y' : 'x';
		FILE *f = fopen(log, "wb");
		fputs(t, f);
		fclose(f);
		free(t);
		yoc_error_clear(&e);
		assert_int_equal(yoc_audit_verify(log, &res, &e), YOC_EDATA);
		assert_int_equal(e.line, line);
	}
	char *del_first[] = {lines[1], lines[2]};
	set_lines(log, del_first, 2);
	assert_int_equal(yoc_audit_verify(log, &res, &e), YOC_EDATA);
	assert_int_equal(e.line, 1);
	char *del_mid[] = {lines[0], lines[2]};
	set_lines(log, del_mid, 2);
	assert_int_equal(yoc_audit_verify(log, &res, &e), YOC_EDATA);
	assert_int_equal(e.line, 2);
	char *swapped[] = {lines[0], lines[2], lines[1]};
	set_lines(log, swapped, 3);
	assert_int_equal(yoc_audit_verify(log, &res, &e), YOC_EDATA);
	char *dup[] = {lines[0], lines[1], lines[1], lines[2]};
	set_lines(log, dup, 4);
	assert_int_equal(yoc_audit_verify(log, &res, &e), YOC_EDATA);
	assert_int_equal(e.line, 3);

	/* a broken log is never extended */
	struct yoc_audit_rec r = {0};
	r.user = "bob";
	r.purpose = "care";
	assert_int_equal(yoc_audit_append(log, &r, NULL, &e), YOC_EDATA);
	char *after = slurp(log);
	set_lines(log, dup, 4);
	char *before = slurp(log);
	assert_string_equal(after, before);
	free(after);
	free(before);

	/* a truncated last record (no newline) is broken; an empty log is intact */
	FILE *f = fopen(log, "wb");
	fputs(orig, f);
	fputs("{\"seq\":4", f);
	fclose(f);
	assert_int_equal(yoc_audit_verify(log, &res, &e), YOC_EDATA);
	assert_int_equal(e.line, 4);
	f = fopen(log, "wb");
	fclose(f);
	assert_int_equal(yoc_audit_verify(log, &res, &e), 0);
	assert_int_equal(res.records, 0);
	/* empty user or purpose refused */
	r.user = "";
	assert_int_equal(yoc_audit_append(log, &r, NULL, &e), YOC_EINVAL);
	free(text);
	free(orig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4231),
		cmocka_unit_test(test_pseudonym_is_hmac),
		cmocka_unit_test(test_nhsno_cases),
		cmocka_unit_test(test_nhsno_fast_path_agrees),
		cmocka_unit_test(test_key_files),
		cmocka_unit_test(test_keygen),
		cmocka_unit_test(test_rewrite),
		cmocka_unit_test(test_rewrite_format),
		cmocka_unit_test(test_rewrite_account),
		cmocka_unit_test(test_rewrite_alloc_failures),
		cmocka_unit_test(test_rewrite_reader_oom),
		cmocka_unit_test(test_reidentify),
		cmocka_unit_test(test_audit_chain),
	};
	return cmocka_run_group_tests_name("pseudo", tests, setup, teardown);
}

/*
** Unit tests of src/server without HTTP: the cell-key perturbation table
** against its documented definition, person keys against libsodium's
** HMAC-SHA256 directly, the users file (add, check, passwd, remove, mode,
** no password stored), and the open access log (alog) extended by a second
** writer between two records; the selection engine's indexes against the
** rule module (and the sums on one and two threads, by pre-summed blocks
** against row by row) on random filters and free rules over a small
** dataset with NULLs, values too large for the packed rows, cohorts and
** monthly figures, and the answer cache against fresh answers; the
** pre-summed blocks of several sizes (over all rows, over a condition's
** rows, in pieces over two conditions' rows) against the plain sum of
** every row, field by field.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "alog/alog.h"
#include "server/server.h"
#include "server/srv_int.h"
#include "testutil.h"
#include "yoc/io.h"

static void test_table(void **st)
{
	(void)st;
	/* for a count far from zero each noise value takes its share of the 256 keys */
	int hist[5] = {0};
	for (unsigned c = 0; c < 256; c++) {
		int d = yoc_cellkey_noise(c, 1000);
		assert_true(d >= -2 && d <= 2);
		hist[d + 2]++;
	}
	assert_int_equal(hist[0], 26);
	assert_int_equal(hist[1], 51);
	assert_int_equal(hist[2], 102);
	assert_int_equal(hist[3], 51);
	assert_int_equal(hist[4], 26);
	/* the same (key, count) always gives the same noise; the row moves with n */
	int moved = 0;
	for (unsigned c = 0; c < 256; c++) {
		assert_int_equal(yoc_cellkey_noise(c, 500), yoc_cellkey_noise(c, 500));
		moved += yoc_cellkey_noise(c, 500) != yoc_cellkey_noise(c, 501);
	}
	assert_true(moved > 64);
	/* zero stays zero, a non-empty cell never becomes zero */
	for (unsigned c = 0; c < 256; c++) {
		assert_int_equal(yoc_cellkey_noise(c, 0), 0);
		assert_int_equal(yoc_cellkey_publish(c, 0), 0);
		for (int n = 1; n < 12; n++)
			assert_true(n + yoc_cellkey_noise(c, n) >= 1);
		/* 1..7 plus noise of at most 2 is hidden or a multiple of 5 above 7 */
		for (int n = 1; n < 100; n++) {
			int64_t p = yoc_cellkey_publish(c, n);
			assert_true(p == -1 || (p % 5 == 0 && p >= 10));
			if (n <= 5)
				assert_int_equal(p, -1);
		}
	}
	/* the documented formula, written out */
	for (unsigned c = 0; c < 256; c += 7)
		for (int n = 3; n < 400; n += 13) {
			unsigned r = (c + 167u * (unsigned)n) & 255u;
			int d = r < 26 ? -2 : r < 77 ? -1 : r < 179 ? 0 : r < 230 ? 1 : 2;
			assert_int_equal(yoc_cellkey_noise(c, n), d);
		}
}

static void test_person_key(void **st)
{
	(void)st;
	unsigned char secret[32], mac[32];
	assert_int_equal(sodium_init() >= 0, 1);
	for (int i = 0; i < 32; i++)
		secret[i] = (unsigned char)(i * 7 + 1);
	const char *id = "3f2a9c";
	crypto_auth_hmacsha256_state s;
	crypto_auth_hmacsha256_init(&s, secret, 32);
	crypto_auth_hmacsha256_update(&s, (const unsigned char *)id, strlen(id));
	crypto_auth_hmacsha256_final(&s, mac);
	assert_int_equal(yoc_cellkey_person(secret, id), mac[0]);
	/* keys spread over 0-255 */
	int seen[256] = {0}, distinct = 0;
	char buf[16];
	for (int i = 0; i < 4096; i++) {
		snprintf(buf, sizeof buf, "p%d", i);
		unsigned k = yoc_cellkey_person(secret, buf);
		assert_true(k < 256);
		distinct += !seen[k]++;
	}
	assert_true(distinct > 240);
}

static void test_users(void **st)
{
	(void)st;
	char dir[256], path[300], *text = NULL;
	struct yoc_user *u = NULL;
	size_t n = 0;
	struct yoc_error e;
	snprintf(dir, sizeof dir, "%s/yoc_users_XXXXXX", tu_tmpdir());
	assert_non_null(mkdtemp(dir));
	assert_int_equal(yoc_user_list(dir, &u, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(yoc_user_add(dir, "ann", YOC_ROLE_ANALYST, NULL, "secret-pass-1", &e), 0);
	assert_int_equal(yoc_user_add(dir, "pat", YOC_ROLE_PRACTICE, "P90001", "secret-pass-2", &e), 0);
	assert_int_equal(yoc_user_add(dir, "ann", YOC_ROLE_ADMIN, NULL, "secret-pass-3", &e), YOC_EEXIST);
	assert_int_equal(yoc_user_add(dir, "bob", YOC_ROLE_ADMIN, NULL, "short", &e), YOC_EINVAL);
	assert_int_equal(yoc_user_add(dir, "b:b", YOC_ROLE_ADMIN, NULL, "secret-pass-4", &e), YOC_EINVAL);
	assert_int_equal(yoc_user_add(dir, "bob", YOC_ROLE_PRACTICE, NULL, "secret-pass-4", &e), YOC_EINVAL);
	assert_int_equal(yoc_user_add(dir, "bob", YOC_ROLE_ADMIN, "P90001", "secret-pass-4", &e), YOC_EINVAL);
	snprintf(path, sizeof path, "%s/serve/users", dir);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	size_t len;
	assert_int_equal(yoc_read_file(path, 1 << 20, &text, &len, &e), 0);
	assert_null(strstr(text, "secret-pass"));
	assert_non_null(strstr(text, "$argon2id$"));
	yoc_free(text);
	assert_int_equal(yoc_user_list(dir, &u, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(u[1].practice, "P90001");
	assert_int_equal(u[1].role, YOC_ROLE_PRACTICE);
	assert_true(yoc_user_check(&u[0], "secret-pass-1"));
	assert_false(yoc_user_check(&u[0], "secret-pass-2"));
	yoc_free(u);
	assert_int_equal(yoc_user_passwd(dir, "ann", "another-pass-1", &e), 0);
	assert_int_equal(yoc_user_passwd(dir, "zed", "another-pass-1", &e), YOC_ENOTFOUND);
	assert_int_equal(yoc_user_list(dir, &u, &n, &e), 0);
	assert_true(yoc_user_check(&u[0], "another-pass-1"));
	assert_false(yoc_user_check(&u[0], "secret-pass-1"));
	yoc_free(u);
	assert_int_equal(yoc_user_remove(dir, "ann", &e), 0);
	assert_int_equal(yoc_user_remove(dir, "ann", &e), YOC_ENOTFOUND);
	assert_int_equal(yoc_user_list(dir, &u, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(u[0].name, "pat");
	yoc_free(u);
	assert_int_equal(yoc_role_parse("public_health"), YOC_ROLE_PUBLIC_HEALTH);
	assert_int_equal(yoc_role_parse("king"), -1);
	unlink(path);
	snprintf(path, sizeof path, "%s/serve", dir);
	rmdir(path);
	rmdir(dir);
}

static void test_alog_open(void **st)
{
	(void)st;
	char path[256];
	yoc_alog *a = NULL;
	struct yoc_alog_result r;
	struct yoc_error e;
	snprintf(path, sizeof path, "%s/yoc_alog_%d.log", tu_tmpdir(), (int)getpid());
	unlink(path);
	assert_int_equal(yoc_alog_open(path, &a, &e), 0);
	assert_int_equal(yoc_alog_write(a, ",\"event\":\"one\"", NULL, &e), 0);
	/* another writer appends between our records: the chain must stay whole */
	assert_int_equal(yoc_alog_append(path, ",\"event\":\"other\"", NULL, &e), 0);
	char h[65];
	assert_int_equal(yoc_alog_write(a, ",\"event\":\"two\"", h, &e), 0);
	yoc_alog_close(a);
	assert_int_equal(yoc_alog_verify(path, &r, &e), 0);
	assert_int_equal(r.records, 3);
	assert_string_equal(r.head, h);
	/* a log whose chain is broken is refused at open */
	FILE *f = fopen(path, "a");
	fputs("{\"seq\":9}\n", f);
	fclose(f);
	assert_int_equal(yoc_alog_open(path, &a, &e), YOC_EDATA);
	assert_null(a);
	unlink(path);
}

/* xorshift: the test's own reproducible stream */
static uint64_t rnd_state = 88172645463325252ULL;
static unsigned rnd(unsigned n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (unsigned)(rnd_state % n);
}

#define SEL_N 3000

/* A dataset of SEL_N person-years with every column the tool reads. */
static void make_dataset(const char *dir)
{
	char path[4200];
	sqlite3 *db;
	snprintf(path, sizeof path, "%s/yoc.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
		"CREATE TABLE person_year(pseudo_id TEXT NOT NULL, fyear TEXT NOT NULL, age INTEGER,"
		" sex TEXT, practice TEXT, imd_decile INTEGER, copd INTEGER, diabetes INTEGER,"
		" dementia INTEGER, ltc_count INTEGER, band TEXT, emergency_admissions INTEGER,"
		" other_nonelective_admissions INTEGER, bed_days INTEGER, emergency_bed_days INTEGER,"
		" cost_total INTEGER, cost_elective INTEGER, cost_gp INTEGER);"
		"CREATE TABLE risk_score(pseudo_id TEXT, fyear TEXT, probability REAL, tier TEXT);"
		"CREATE TABLE analyse_run(key TEXT, value TEXT);"
		"INSERT INTO analyse_run VALUES('t', '1');"
		"CREATE TABLE cohort_register(row_id INTEGER PRIMARY KEY, cohort TEXT, pseudo_id TEXT,"
		" practice TEXT, join_date TEXT, leave_date TEXT);"
		"CREATE TABLE person_month(pseudo_id TEXT, fyear TEXT, months BLOB);"
		"BEGIN", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_stmt *py, *rs, *cr, *pm;
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO person_year VALUES(?,'2023/24',?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
					    -1, &py, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO risk_score VALUES(?,'2023/24',0.5,?)", -1, &rs, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO cohort_register(cohort, pseudo_id, practice, join_date, leave_date) VALUES(?,?,'P1',?,?)", -1, &cr, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO person_month VALUES(?,'2023/24',?)", -1, &pm, NULL), SQLITE_OK);
	static const char *const sexes[] = {"1", "2", "9"}, *const bands[] = {"A", "B", "C"},
			  *const tiers[] = {"top0.5", "0.5-2", "rest"}, *const pracs[] = {"P1", "P2", "P3", "P4"};
	for (int i = 0; i < SEL_N; i++) {
		char id[32];
		snprintf(id, sizeof id, "%08d", i);
		int k = 1;
		sqlite3_bind_text(py, k++, id, -1, SQLITE_TRANSIENT);
#define MAYBE_NULL(expr) do { if (rnd(20) == 0) sqlite3_bind_null(py, k++); else expr; } while (0)
		MAYBE_NULL(sqlite3_bind_int(py, k++, (int)rnd(105)));
		MAYBE_NULL(sqlite3_bind_text(py, k++, sexes[rnd(3)], -1, SQLITE_STATIC));
		MAYBE_NULL(sqlite3_bind_text(py, k++, pracs[rnd(4)], -1, SQLITE_STATIC));
		MAYBE_NULL(sqlite3_bind_int(py, k++, 1 + (int)rnd(10)));
		for (int c = 0; c < 3; c++)
			MAYBE_NULL(sqlite3_bind_int(py, k++, rnd(3) == 0));
		MAYBE_NULL(sqlite3_bind_int(py, k++, (int)rnd(5)));
		MAYBE_NULL(sqlite3_bind_text(py, k++, bands[rnd(3)], -1, SQLITE_STATIC));
		int64_t em = rnd(4) == 0 ? rnd(5) : 0;
		MAYBE_NULL(sqlite3_bind_int64(py, k++, rnd(500) == 0 ? 70000 + em : em));
		MAYBE_NULL(sqlite3_bind_int(py, k++, (int)rnd(3)));
		MAYBE_NULL(sqlite3_bind_int64(py, k++, rnd(300) == 0 ? 80000 : rnd(120)));
		MAYBE_NULL(sqlite3_bind_int(py, k++, (int)rnd(30)));
		int64_t ce = rnd(400) == 0 ? INT64_C(5000000000) : rnd(200000), cg = rnd(30000);
		MAYBE_NULL(sqlite3_bind_int64(py, k++, ce + cg));
		MAYBE_NULL(sqlite3_bind_int64(py, k++, ce));
		MAYBE_NULL(sqlite3_bind_int64(py, k++, cg));
#undef MAYBE_NULL
		assert_int_equal(sqlite3_step(py), SQLITE_DONE);
		sqlite3_reset(py);
		sqlite3_bind_text(rs, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(rs, 2, tiers[rnd(3)], -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(rs), SQLITE_DONE);
		sqlite3_reset(rs);
		if (rnd(5) == 0) {
			static const char *const cos[] = {"frailty", "heart"};
			static const char *const joins[] = {"2022-01-01", "2023-06-01", "2024-05-01"};
			static const char *const leaves[] = {"2023-01-01", "2023-09-30", ""};
			sqlite3_bind_text(cr, 1, cos[rnd(2)], -1, SQLITE_STATIC);
			sqlite3_bind_text(cr, 2, id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(cr, 3, joins[rnd(3)], -1, SQLITE_STATIC);
			const char *l = leaves[rnd(3)];
			if (*l)
				sqlite3_bind_text(cr, 4, l, -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(cr, 4);
			assert_int_equal(sqlite3_step(cr), SQLITE_DONE);
			sqlite3_reset(cr);
		}
		if (rnd(3)) {
			unsigned char b[12 * 13];
			size_t nb = 0;
			for (int m = 0; m < 12; m++) {
				if (rnd(3))
					continue;
				uint64_t c = rnd(700) == 0 ? UINT64_C(6000000000) : rnd(50000);
				uint32_t a = rnd(600) == 0 ? 300 : rnd(3);
				b[nb] = (unsigned char)m;
				for (int j = 0; j < 8; j++)
					b[nb + 1 + (size_t)j] = (unsigned char)(c >> (8 * j));
				for (int j = 0; j < 4; j++)
					b[nb + 9 + (size_t)j] = (unsigned char)(a >> (8 * j));
				nb += 13;
			}
			sqlite3_bind_text(pm, 1, id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_blob(pm, 2, b, (int)nb, SQLITE_TRANSIENT);
			assert_int_equal(sqlite3_step(pm), SQLITE_DONE);
			sqlite3_reset(pm);
		}
	}
	sqlite3_finalize(py);
	sqlite3_finalize(rs);
	sqlite3_finalize(cr);
	sqlite3_finalize(pm);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* A random request of the tool's filters. */
static void random_request(char *out, size_t cap)
{
	static const char *const parts[] = {
		"\"age_min\":%u", "\"age_max\":%u", "\"ltc_count_min\":%u", "\"ltc_count_max\":%u",
		"\"emergency_min\":%u", "\"bed_days_min\":%u", "\"cost_min\":%u", "\"sex\":[\"2\"]",
		"\"sex\":[\"1\",\"9\"]", "\"practice\":[\"P2\",\"P4\"]", "\"band\":[\"A\",\"C\"]",
		"\"tier\":[\"top0.5\",\"rest\"]", "\"imd\":[1,2,7]", "\"ltc\":[\"copd\",\"dementia\"]",
		"\"ltc\":[\"diabetes\"]", "\"cohort\":[\"frailty\"]", "\"cohort\":[\"heart\",\"frailty\"]",
		"\"practice\":[\"P3\"]"
	};
	static const unsigned hi[] = {110, 110, 6, 6, 6, 130, 2200, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
	size_t n = (size_t)snprintf(out, cap, "{\"filters\":{");
	int used[18] = {0}, first = 1, np = 1 + (int)rnd(3);
	for (int k = 0; k < np; k++) {
		int q = (int)rnd(18);
		/* one key once (duplicates are refused); one list per field */
		if (used[q] || (q == 8 && used[7]) || (q == 7 && used[8]) || (q == 14 && used[13]) ||
		    (q == 13 && used[14]) || (q == 16 && used[15]) || (q == 15 && used[16]) ||
		    (q == 17 && used[9]) || (q == 9 && used[17]))
			continue;
		used[q] = 1;
		n += (size_t)snprintf(out + n, cap - n, "%s", first ? "" : ",");
		/* cost: pounds inside the costs' range (most are under 2,300 pounds), or past it */
		unsigned v = rnd(hi[q]);
		n += (size_t)snprintf(out + n, cap - n, parts[q], q == 6 && rnd(3) == 0 ? v * 1000 : v);
		first = 0;
	}
	if ((used[13] || used[14]) && rnd(2))
		n += (size_t)snprintf(out + n, cap - n, ",\"ltc_mode\":\"or\"");
	n += (size_t)snprintf(out + n, cap - n, "}");
	/* a free rule now and then (evaluated by the rule module in its own row order) */
	static const char *const rules[] = {
		"age >= 40 and copd", "sex = '2' or band = 'B'", "cost_total < 100000 and tier != 'rest'",
		"ltc_count >= 1"
	};
	if (rnd(4) == 0)
		n += (size_t)snprintf(out + n, cap - n, ",\"rule\":\"%s\"", rules[rnd(4)]);
	snprintf(out + n, cap - n, "}");
}

static void test_sel_index(void **st)
{
	(void)st;
	char dir[2048], req[1024];
	struct yoc_error e;
	yoc_sel *s = NULL;
	assert_int_equal(tu_temp_dir(dir, sizeof dir, "sel"), 0);
	make_dataset(dir);
	assert_int_equal(yoc_sel_load(dir, NULL, &s, &e), 0);
	assert_int_equal(yoc_sel_rows(s), SEL_N);
	assert_true(s->nwide > 0);      /* the large values are there */
	assert_int_equal(s->ncohort, 2);
	s->list_walk = 0; /* a group inside a condition's rows always summed there */
	struct yoc_buf a, b, c;
	yoc_buf_init(&a, 1 << 22);
	yoc_buf_init(&b, 1 << 22);
	yoc_buf_init(&c, 1 << 22);
	int nonempty = 0;
	for (int k = 0; k < 400; k++) {
		random_request(req, sizeof req);
		yoc_buf_reset(&a);
		yoc_buf_reset(&b);
		yoc_buf_reset(&c);
		yoc__sel_cache_enable(s, 0);
		yoc__sel_rule_path(s, 0);
		assert_int_equal(yoc_sel_query(s, req, strlen(req), YOC_ROLE_ANALYST, NULL, &a, NULL, &e), 0);
		/* the rules' answer summed row by row, the indexes' by the blocks */
		yoc__sel_rule_path(s, 1);
		s->blocks_off = 1;
		assert_int_equal(yoc_sel_query(s, req, strlen(req), YOC_ROLE_ANALYST, NULL, &b, NULL, &e), 0);
		s->blocks_off = 0;
		if (strcmp(a.data, b.data) != 0)
			fail_msg("indexes and rules differ on %s", req);
		/* the sums on two threads (a group of 50 rows or more) give the same */
		s->ncpu = 2;
		s->parallel_rows = 50;
		yoc__sel_rule_path(s, 0);
		yoc_buf_reset(&b);
		assert_int_equal(yoc_sel_query(s, req, strlen(req), YOC_ROLE_ANALYST, NULL, &b, NULL, &e), 0);
		if (strcmp(a.data, b.data) != 0)
			fail_msg("one and two threads differ on %s", req);
		s->parallel_rows = (size_t)-1;
		yoc_buf_reset(&a);
		yoc__sel_cache_enable(s, 1);
		assert_int_equal(yoc_sel_query(s, req, strlen(req), YOC_ROLE_PRACTICE, "P2", &a, NULL, &e), 0);
		assert_int_equal(yoc_sel_query(s, req, strlen(req), YOC_ROLE_PRACTICE, "P2", &c, NULL, &e), 0);
		yoc__sel_cache_enable(s, 0);
		yoc__sel_rule_path(s, 1);
		yoc_buf_reset(&b);
		assert_int_equal(yoc_sel_query(s, req, strlen(req), YOC_ROLE_PRACTICE, "P2", &b, NULL, &e), 0);
		if (strcmp(c.data, b.data) != 0)
			fail_msg("cached, indexed and rule answers differ for a practice on %s", req);
		nonempty += strstr(b.data, "\"count\":0,") == NULL;
	}
	assert_true(nonempty > 100);
	/* a group asked by filters and by the same rule gets the same answer */
	static const char *const same[][2] = {
		{"{\"filters\":{\"age_min\":40}}", "{\"rule\":\"age >= 40\"}"},
		{"{\"filters\":{\"sex\":[\"2\"]}}", "{\"rule\":\"sex in ('2')\"}"},
		{"{\"filters\":{\"ltc\":[\"copd\"],\"imd\":[1,2,7]}}", "{\"rule\":\"copd and imd_decile in (1, 2, 7)\"}"},
		{"{\"filters\":{\"ltc_count_max\":3,\"band\":[\"A\",\"C\"]}}", "{\"rule\":\"ltc_count <= 3 and band in ('A', 'C')\"}"},
	};
	yoc__sel_rule_path(s, 0);
	for (size_t k = 0; k < sizeof same / sizeof same[0]; k++) {
		yoc_buf_reset(&a);
		yoc_buf_reset(&b);
		assert_int_equal(yoc_sel_query(s, same[k][0], strlen(same[k][0]), YOC_ROLE_ANALYST, NULL, &a, NULL, &e), 0);
		assert_int_equal(yoc_sel_query(s, same[k][1], strlen(same[k][1]), YOC_ROLE_ANALYST, NULL, &b, NULL, &e), 0);
		if (strcmp(a.data, b.data) != 0)
			fail_msg("filters and rule differ: %s", same[k][0]);
	}
	yoc_buf_free(&a);
	yoc_buf_free(&b);
	yoc_buf_free(&c);
	yoc_sel_free(s);
	tu_rm_rf(dir);
}

/* A bitmap of the engine's rows in runs: whole words, empty, sparse and dense ones. */
static void random_bitmap(const yoc_sel *s, uint64_t *bm)
{
	unsigned mix = rnd(4); /* mostly empty, mostly whole, mixed, random */
	size_t w = 0;
	while (w < s->words) {
		size_t len = 1 + rnd(6);
		unsigned kind = mix == 3 ? 2 + rnd(2) : rnd(4);
		if (mix == 0 && rnd(3))
			kind = 0;
		if (mix == 1 && rnd(3))
			kind = 1;
		for (; len-- && w < s->words; w++) {
			uint64_t x = (uint64_t)rnd(1u << 31) << 33 ^ (uint64_t)rnd(1u << 31) << 2 ^ rnd(4);
			uint64_t y = (uint64_t)rnd(1u << 31) << 33 ^ (uint64_t)rnd(1u << 31) << 2 ^ rnd(4);
			bm[w] = kind == 0 ? 0 : kind == 1 ? ~UINT64_C(0) : kind == 2 ? x & y : x | y;
			bm[w] &= s->valid[w];
		}
	}
}

/*
** The pre-summed blocks against the plain sum of every row, field by field
** (every count, cell-key sum and pence sum), for blocks of 1, 2 and 3 words,
** on one and two threads, over bitmaps with runs of whole blocks, partial
** blocks, groups of more than half the people, wide rows; and the groups of
** the indexes' filters.
*/
/*
** The cost threshold by the cost buckets and the sorted costs against every
** row's cost, at the buckets' bounds, next to them and in between.
*/
static void test_sel_cost(void **st)
{
	(void)st;
	char dir[2048], path[2200];
	struct yoc_error e;
	yoc_sel *s = NULL;
	sqlite3 *db;
	assert_int_equal(tu_temp_dir(dir, sizeof dir, "cost"), 0);
	make_dataset(dir);
	/* costs an index can hold (the dataset's widest are past 2^31 pence) */
	snprintf(path, sizeof path, "%s/yoc.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE person_year SET cost_total = 250000 + cost_total % 977"
					  " WHERE cost_total >= 2147483648", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(yoc_sel_load(dir, NULL, &s, &e), 0);
	const struct numidx *b = &s->ix_costb;
	assert_true(s->ix_cost.ok && b->ok && b->nlev > 40);
	uint64_t *bm = test_malloc(8 * s->words);
	for (int k = 0; k < 400; k++) {
		struct sel_filter f;
		memset(&f, 0, sizeof f);
		f.age_lo = f.age_hi = f.lc_lo = f.lc_hi = -1;
		f.emerg_min = f.bed_min = -1;
		f.cost_min = k % 3 == 0 ? (int64_t)rnd(260000) :
			     (int64_t)b->bound[rnd((unsigned)b->nlev)] + (int64_t)(k % 3) - 1 + (k % 5 == 0);
		memcpy(bm, s->valid, 8 * s->words);
		yoc__sel_filter_eval(s, &f, bm);
		for (size_t r = 0; r < s->n; r++) {
			size_t fr = s->perm[r];
			int want = !s->cost_total.null[fr] && s->cost_total.v[fr] >= (double)f.cost_min;
			if ((int)(bm[r / 64] >> (r % 64) & 1) != want)
				fail_msg("cost >= %lld: row %zu", (long long)f.cost_min, r);
		}
	}
	test_free(bm);
	yoc_sel_free(s);
	tu_rm_rf(dir);
}

/* cb: nlev buckets of cost, increasing bounds, ge[l] the rows costing bound[l] or more */
static void check_buckets(const yoc_sel *s, const struct numidx *cb, int nlev)
{
	assert_true(cb->ok && cb->nlev == nlev);
	for (int l = 0; l < cb->nlev; l++) {
		assert_true(l == 0 || cb->bound[l] > cb->bound[l - 1]);
		for (size_t r = 0; r < s->n; r++) {
			size_t f = s->perm[r];
			int want = !s->cost_total.null[f] && s->cost_total.v[f] >= cb->bound[l];
			assert_int_equal((int)(cb->ge[s->words * (size_t)l + r / 64] >> (r % 64) & 1), want);
		}
	}
}

static void test_sel_blocks(void **st)
{
	(void)st;
	char dir[2048];
	struct yoc_error e;
	yoc_sel *s = NULL;
	assert_int_equal(tu_temp_dir(dir, sizeof dir, "blk"), 0);
	make_dataset(dir);
	assert_int_equal(yoc_sel_load(dir, NULL, &s, &e), 0);
	assert_non_null(s->pre);
	s->list_walk = 0;
	/* the order is a permutation */
	for (size_t r = 0; r < s->n; r++)
		assert_int_equal(s->inv[s->perm[r]], r);
	/* the cost buckets */
	check_buckets(s, &s->ix_costb, SMALL_LEVELS);
	uint64_t *bm = test_malloc(8 * s->words);
	struct agg *want = test_malloc(sizeof *want), *got = test_malloc(sizeof *got);
	int whole = 0, dense = 0, comp = 0, wide = 0, inlist = 0, inor = 0, inlevel = 0, nlevel = 0;
	for (size_t bw = 1; bw <= 3; bw++) {
		assert_int_equal(yoc__sel_blocks_build(s, bw), 0);
		for (int k = 0; k < 300; k++) {
			if (k % 3 == 0) {
				struct sel_filter f;
				memset(&f, 0, sizeof f);
				f.age_lo = rnd(2) ? (int)rnd(100) : -1;
				f.age_hi = -1;
				f.lc_lo = f.lc_hi = -1;
				f.emerg_min = rnd(4) == 0 ? (long)rnd(6) : -1;
				f.bed_min = rnd(3) == 0 ? (long)rnd(70) : -1;
				f.cost_min = rnd(4) == 0 ? (int64_t)rnd(250000) : -1;
				f.has_sex = rnd(2);
				f.sex = 1u + rnd(3);
				f.has_band = rnd(3) == 0;
				f.band = 1u + rnd(7);
				memcpy(bm, s->valid, 8 * s->words);
				yoc__sel_filter_eval(s, &f, bm);
			} else {
				random_bitmap(s, bm);
			}
			if (k % 3 == 1) {
				/* inside a condition's rows: summed over those rows' blocks */
				const uint64_t *c = s->ltc_bm + s->words * rnd((unsigned)s->nltc);
				for (size_t w = 0; w < s->words; w++)
					bm[w] &= c[w];
				inlist += yoc__sel_list_for(s, bm) >= 0;
			}
			if (k % 6 == 2) {
				/* inside two conditions (with "or"): one piece over each one's rows */
				const uint64_t *c = s->ltc_bm + s->words * rnd((unsigned)s->nltc);
				const uint64_t *d = s->ltc_bm + s->words * rnd((unsigned)s->nltc);
				for (size_t w = 0; w < s->words; w++)
					bm[w] &= c[w] | d[w];
				inor += yoc__sel_list_for(s, bm) < 0;
			}
			if (k % 5 == 3) {
				/* inside level t or above of emergency admissions, bed
				 * days or the cost buckets (fine, coarse): one piece per
				 * level from t */
				int c = (int)rnd(4);
				const struct numidx *xs[] = { &s->ix_emerg, &s->ix_bed, &s->ix_costb, &s->ix_costb };
				const struct numidx *x = xs[c];
				assert_true(x->ok && x->nlev > 2);
				int t = 1 + (int)rnd((unsigned)x->nlev - 1);
				const uint64_t *g = x->ge + s->words * (size_t)t;
				if (rnd(2)) {
					/* most of those levels: all of them less a few rows */
					memcpy(bm, g, 8 * s->words);
					for (int q = 0; q < 3; q++)
						bm[rnd((unsigned)s->words)] &= ~(UINT64_C(1) << rnd(64));
				}
				for (size_t w = 0; w < s->words; w++)
					bm[w] &= g[w];
				nlevel++;
				inlevel += yoc__sel_level_for(s, bm, c) >= t;
			}
			size_t m = 0;
			for (size_t w = 0; w < s->words; w++) {
				m += (size_t)__builtin_popcountll(bm[w]);
				whole += bm[w] && bm[w] == s->valid[w];
				dense += __builtin_popcountll(bm[w]) > 32 && bm[w] != s->valid[w];
			}
			comp += m > s->n / 2;
			for (size_t q = 0; q < s->nwide; q++)
				wide += (int)(bm[s->wide[q].row / 64] >> (s->wide[q].row % 64) & 1);
			yoc__sel_aggregate_plain(s, bm, want);
			s->ncpu = 1;
			assert_int_equal(yoc__sel_aggregate(s, bm, got), 0);
			if (memcmp(want, got, sizeof *want) != 0)
				fail_msg("blocks of %zu words differ from the rows (round %d)", bw, k);
			/* the candidate with the shortest walk, as when serving */
			s->list_walk = 1;
			assert_int_equal(yoc__sel_aggregate(s, bm, got), 0);
			s->list_walk = 0;
			if (memcmp(want, got, sizeof *want) != 0)
				fail_msg("the shortest walk differs from the rows (round %d)", k);
			s->ncpu = 2;
			s->parallel_rows = 1;
			assert_int_equal(yoc__sel_aggregate(s, bm, got), 0);
			s->parallel_rows = (size_t)-1;
			if (memcmp(want, got, sizeof *want) != 0)
				fail_msg("blocks of %zu words on two threads differ (round %d)", bw, k);
		}
	}
	/* each case was met many times */
	assert_true(whole > 1000 && dense > 1000 && comp > 50 && wide > 50 && inlist == 300 &&
		    inor > 50 && nlevel > 100 && inlevel == nlevel);
	test_free(bm);
	test_free(want);
	test_free(got);
	yoc_sel_free(s);
	tu_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_person_key),
		cmocka_unit_test(test_users),
		cmocka_unit_test(test_alog_open),
		cmocka_unit_test(test_sel_index),
		cmocka_unit_test(test_sel_blocks),
		cmocka_unit_test(test_sel_cost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

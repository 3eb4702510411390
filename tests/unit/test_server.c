/*
** Unit tests of src/server without HTTP: the cell-key perturbation table
** against its documented definition, person keys against libsodium's
** HMAC-SHA256 directly, the users file (add, check, passwd, remove, mode,
** no password stored), and the open access log (alog) extended by a second
** writer between two records.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <sodium.h>

#include "alog/alog.h"
#include "server/server.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_person_key),
		cmocka_unit_test(test_users),
		cmocka_unit_test(test_alog_open),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
** The users of a dataset's server: DIR/serve/users, one NAME:ROLE:PRACTICE:HASH
** line each, mode 0600, rewritten whole and atomically on every change.
** Passwords are hashed with argon2id (libsodium crypto_pwhash_str, the
** interactive limits); the file never holds a password.
*/
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "server/server.h"
#include "yoc/io.h"

static const char *const role_names[YOC_ROLE_COUNT] = {
	"public_health", "planner", "analyst", "practice", "finance", "admin"
};

const char *yoc_role_name(int role)
{
	return role >= 0 && role < YOC_ROLE_COUNT ? role_names[role] : NULL;
}

int yoc_role_parse(const char *name)
{
	for (int i = 0; i < YOC_ROLE_COUNT; i++)
		if (strcmp(name, role_names[i]) == 0)
			return i;
	return -1;
}

static int name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

static void users_path(const char *dir, char *p, size_t cap)
{
	snprintf(p, cap, "%s/serve/users", dir);
}

int yoc_user_list(const char *dir, struct yoc_user **out, size_t *n, struct yoc_error *e)
{
	char path[4096], *text = NULL;
	size_t len = 0, cap = 0;
	struct yoc_user *u = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	users_path(dir, path, sizeof path);
	struct stat st;
	if (stat(path, &st) != 0 && errno == ENOENT)
		return 0;
	if ((rc = yoc_read_file(path, 1 << 24, &text, &len, e)))
		return rc;
	long ln = 0;
	for (char *p = text, *nl; p < text + len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(text + len - p));
		if (!nl) {
			rc = yoc_error_set(e, YOC_EDATA, path, ln + 1, 0, "incomplete last line");
			goto cleanup;
		}
		*nl = 0;
		ln++;
		if (!*p)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			struct yoc_user *g = yoc_realloc(u, cap * sizeof *u);
			if (!g) {
				rc = yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "out of memory");
				goto cleanup;
			}
			u = g;
		}
		struct yoc_user *x = &u[*n];
		memset(x, 0, sizeof *x);
		char *f[4];
		f[0] = p;
		for (int k = 1; k < 4; k++) {
			f[k] = f[k - 1] ? strchr(f[k - 1], ':') : NULL;
			if (f[k])
				*f[k]++ = 0;
		}
		if (!f[3] || !name_ok(f[0], YOC_USER_MAX_NAME) || (x->role = yoc_role_parse(f[1])) < 0 ||
		    strlen(f[2]) >= sizeof x->practice || strlen(f[3]) >= sizeof x->hash) {
			rc = yoc_error_set(e, YOC_EDATA, path, ln, 0, "malformed user line");
			goto cleanup;
		}
		snprintf(x->name, sizeof x->name, "%s", f[0]);
		snprintf(x->practice, sizeof x->practice, "%s", f[2]);
		snprintf(x->hash, sizeof x->hash, "%s", f[3]);
		(*n)++;
	}
	*out = u;
	u = NULL;
cleanup:
	if (rc)
		*n = 0;
	yoc_free(u);
	yoc_free(text);
	return rc;
}

static int save(const char *dir, const struct yoc_user *u, size_t n, struct yoc_error *e)
{
	char path[4096];
	struct yoc_afile a;
	int rc;
	snprintf(path, sizeof path, "%s/serve", dir);
	if (yoc_mkdirs(path, 0700) != 0)
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot create: %s", strerror(errno));
	users_path(dir, path, sizeof path);
	if ((rc = yoc_afile_open(&a, path, e)))
		return rc;
	if (fchmod(fileno(a.f), 0600) != 0) {
		yoc_afile_abort(&a);
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "chmod: %s", strerror(errno));
	}
	for (size_t i = 0; i < n; i++)
		fprintf(a.f, "%s:%s:%s:%s\n", u[i].name, yoc_role_name(u[i].role), u[i].practice,
			u[i].hash);
	return yoc_afile_commit(&a, e);
}

static int hash_pw(const char *pw, char out[128], struct yoc_error *e)
{
	size_t n = strlen(pw);
	if (n < YOC_USER_MIN_PASSWORD || n > YOC_USER_MAX_PASSWORD)
		return yoc_error_set(e, YOC_EINVAL, "password", 0, 0,
				     "a password must be %d to %d bytes", YOC_USER_MIN_PASSWORD,
				     YOC_USER_MAX_PASSWORD);
	if (sodium_init() < 0)
		return yoc_error_set(e, YOC_EINTERNAL, "password", 0, 0, "libsodium failed to start");
	if (crypto_pwhash_str(out, pw, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return yoc_error_set(e, YOC_ENOMEM, "password", 0, 0, "argon2id ran out of memory");
	return 0;
}

int yoc_user_check(const struct yoc_user *u, const char *password)
{
	if (sodium_init() < 0)
		return 0;
	return crypto_pwhash_str_verify(u->hash, password, strlen(password)) == 0;
}

static long find(const struct yoc_user *u, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(u[i].name, name) == 0)
			return (long)i;
	return -1;
}

int yoc_user_add(const char *dir, const char *name, int role, const char *practice,
		 const char *password, struct yoc_error *e)
{
	struct yoc_user *u = NULL, x;
	size_t n = 0;
	int rc;
	if (!name_ok(name, YOC_USER_MAX_NAME))
		return yoc_error_set(e, YOC_EINVAL, name, 0, 0,
				     "a user name is 1 to %d letters, digits, '.', '_' or '-'",
				     YOC_USER_MAX_NAME);
	if (!yoc_role_name(role))
		return yoc_error_set(e, YOC_EINVAL, name, 0, 0, "unknown role");
	if ((role == YOC_ROLE_PRACTICE) != (practice && *practice))
		return yoc_error_set(e, YOC_EINVAL, name, 0, 0,
				     "the practice role, and only it, needs --practice CODE");
	if (practice && *practice && !name_ok(practice, 15))
		return yoc_error_set(e, YOC_EINVAL, practice, 0, 0, "not a practice code");
	memset(&x, 0, sizeof x);
	snprintf(x.name, sizeof x.name, "%s", name);
	x.role = role;
	snprintf(x.practice, sizeof x.practice, "%s", practice ? practice : "");
	if ((rc = hash_pw(password, x.hash, e)))
		return rc;
	if ((rc = yoc_user_list(dir, &u, &n, e)))
		return rc;
	if (find(u, n, name) >= 0) {
		rc = yoc_error_set(e, YOC_EEXIST, name, 0, 0, "user already exists");
		goto cleanup;
	}
	struct yoc_user *g = yoc_realloc(u, (n + 1) * sizeof *u);
	if (!g) {
		rc = yoc_error_set(e, YOC_ENOMEM, name, 0, 0, "out of memory");
		goto cleanup;
	}
	u = g;
	u[n++] = x;
	rc = save(dir, u, n, e);
cleanup:
	sodium_memzero(&x, sizeof x);
	yoc_free(u);
	return rc;
}

int yoc_user_passwd(const char *dir, const char *name, const char *password,
		    struct yoc_error *e)
{
	struct yoc_user *u = NULL;
	size_t n = 0;
	char h[128];
	int rc;
	if ((rc = hash_pw(password, h, e)))
		return rc;
	if ((rc = yoc_user_list(dir, &u, &n, e)))
		return rc;
	long i = find(u, n, name);
	if (i < 0)
		rc = yoc_error_set(e, YOC_ENOTFOUND, name, 0, 0, "no such user");
	else {
		memcpy(u[i].hash, h, sizeof h);
		rc = save(dir, u, n, e);
	}
	yoc_free(u);
	return rc;
}

int yoc_user_remove(const char *dir, const char *name, struct yoc_error *e)
{
	struct yoc_user *u = NULL;
	size_t n = 0;
	int rc;
	if ((rc = yoc_user_list(dir, &u, &n, e)))
		return rc;
	long i = find(u, n, name);
	if (i < 0)
		rc = yoc_error_set(e, YOC_ENOTFOUND, name, 0, 0, "no such user");
	else {
		memmove(&u[i], &u[i + 1], (n - (size_t)i - 1) * sizeof *u);
		rc = save(dir, u, n - 1, e);
	}
	yoc_free(u);
	return rc;
}

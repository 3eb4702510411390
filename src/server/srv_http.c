/*
** The HTTP side of yoc serve (libmicrohttpd, thread pool, optional TLS):
** static front end from one flat folder, JSON API, sessions, CSRF, login
** rate limiting and lockout, security headers, request limits, and one
** access-log record (src/alog) per API request.
**
** Routes (docs/server.md): POST /api/login, POST /api/logout, GET /api/session,
** GET /api/meta, POST /api/select, POST /api/extract (analyst), GET /api/users
** (admin), and the dashboards of srv_dash.c (GET /api/dash, /api/dash/NAME,
** POST /api/cohort), which decide their roles there. Everything under
** /api/ but login needs a live session; every POST but login needs the
** session's CSRF token in X-CSRF-Token.
**
** Must not: serve a file outside the web folder (names are one path
** component of [a-z0-9_-] and a known extension, no dot-dot can form), keep
** a password or a session token in memory longer than a request (sessions
** are found by the hash of their token), or answer before the access log
** holds the record of a data request.
*/
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "alog/alog.h"
#include "server/server.h"
#include "yoc/io.h"

#define MAX_SESSIONS 4096
#define MAX_FAIL 5             /* failed logins of a user name before a lockout */
#define MAX_FAIL_IP 20         /* failed logins from one address before a lockout */
#define LOCKOUT_SECONDS 900
#define MAX_THROTTLE 1024
#define STATIC_CAP (1 << 22)

struct session {
	int used;
	unsigned char tokhash[32];
	char csrf[33];
	char user[YOC_USER_MAX_NAME + 1];
	int role;
	char practice[16];
	time_t created, seen;
};

struct throttle { /* failed logins per user name, and per address ("@" + address) */
	char user[YOC_USER_MAX_NAME + 2];
	int fails;
	time_t first, locked_until;
};

struct srv {
	const struct yoc_serve_opts *o;
	int tls;
	pthread_mutex_t mu;     /* sessions, throttles, log */
	pthread_rwlock_t dlock; /* the dataset */
	yoc_sel *sel;
	struct session sess[MAX_SESSIONS];
	struct throttle thr[MAX_THROTTLE];
	yoc_alog *audit;
	char audit_path[4096];
};

struct req { /* per-connection upload */
	struct yoc_buf body;
	int too_big;
};

void yoc_serve_opts_init(struct yoc_serve_opts *o)
{
	memset(o, 0, sizeof *o);
	o->host = "127.0.0.1";
	o->port = 8080;
	o->threads = 4;
	o->idle_timeout = 900;
	o->abs_timeout = 8 * 3600;
	o->conn_timeout = 10;
	o->max_body = 65536;
	o->reload_every = 2;
}

static void logf_(struct srv *S, const char *fmt, const char *a, const char *b)
{
	if (!S->o->log)
		return;
	fprintf(S->o->log, fmt, a, b);
	fputc('\n', S->o->log);
	fflush(S->o->log);
}

/* One access-log record. Returns 0 or a status (the request then fails). */
static int audit(struct srv *S, const char *user, const char *ip, const char *event,
		 const char *path, int status, const char *detail)
{
	struct yoc_buf b;
	struct yoc_error e;
	int rc;
	yoc_buf_init(&b, YOC_ALOG_MAX_LINE - 1024);
	rc = yoc_alog_put_str(&b, "user", user ? user : "-");
	if (!rc) rc = yoc_alog_put_str(&b, "ip", ip ? ip : "-");
	if (!rc) rc = yoc_alog_put_str(&b, "event", event);
	if (!rc) rc = yoc_alog_put_str(&b, "path", path);
	if (!rc) rc = yoc_buf_printf(&b, ",\"status\":%d", status);
	if (!rc) rc = yoc_alog_put_str(&b, "detail", detail ? detail : "");
	if (!rc) {
		pthread_mutex_lock(&S->mu);
		rc = yoc_alog_write(S->audit, b.data, NULL, &e);
		pthread_mutex_unlock(&S->mu);
		if (rc)
			logf_(S, "yoc serve: access log: %s%s", e.msg, "");
	}
	yoc_buf_free(&b);
	return rc;
}

/* ---- responses ---- */

static void headers(struct srv *S, struct MHD_Response *r, const char *type)
{
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'none'; script-src 'self'; style-src 'self'; "
				"img-src 'self'; connect-src 'self'; form-action 'self'; "
				"frame-ancestors 'none'; base-uri 'none'");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
	MHD_add_response_header(r, "Permissions-Policy",
				"camera=(), microphone=(), geolocation=(), interest-cohort=()");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (S->tls)
		MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
}

static enum MHD_Result send_buf(struct srv *S, struct MHD_Connection *c, unsigned status,
				const char *type, const char *data, size_t n,
				const char *cookie)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(n, (void *)data, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	headers(S, r, type);
	if (cookie)
		MHD_add_response_header(r, "Set-Cookie", cookie);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_err(struct srv *S, struct MHD_Connection *c, unsigned status,
				const char *msg)
{
	json_t *o = json_pack("{s:s}", "error", msg);
	char *t = json_dumps(o, JSON_COMPACT);
	enum MHD_Result ret = send_buf(S, c, status, "application/json", t ? t : "{}",
				       t ? strlen(t) : 2, NULL);
	free(t);
	json_decref(o);
	return ret;
}

/* ---- sessions ---- */

static void tok_hash(const char *tok, unsigned char h[32])
{
	crypto_generichash(h, 32, (const unsigned char *)tok, strlen(tok), NULL, 0);
}

/* Copies the live session of the request's cookie into *out (lock held inside). */
static int session_get(struct srv *S, struct MHD_Connection *c, struct session *out)
{
	const char *tok = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "yoc_session");
	if (!tok || strlen(tok) != 32)
		return 0;
	unsigned char h[32];
	tok_hash(tok, h);
	time_t now = time(NULL);
	int found = 0;
	pthread_mutex_lock(&S->mu);
	for (int i = 0; i < MAX_SESSIONS; i++) {
		struct session *s = &S->sess[i];
		if (!s->used || sodium_memcmp(s->tokhash, h, 32) != 0)
			continue;
		if (now - s->seen > (time_t)S->o->idle_timeout ||
		    now - s->created > (time_t)S->o->abs_timeout) {
			sodium_memzero(s, sizeof *s);
			break;
		}
		s->seen = now;
		*out = *s;
		found = 1;
		break;
	}
	pthread_mutex_unlock(&S->mu);
	return found;
}

static void session_end(struct srv *S, struct MHD_Connection *c)
{
	const char *tok = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "yoc_session");
	if (!tok)
		return;
	unsigned char h[32];
	tok_hash(tok, h);
	pthread_mutex_lock(&S->mu);
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (S->sess[i].used && sodium_memcmp(S->sess[i].tokhash, h, 32) == 0)
			sodium_memzero(&S->sess[i], sizeof S->sess[i]);
	pthread_mutex_unlock(&S->mu);
}

/* A new session: the token goes into the cookie only; we keep its hash. */
static int session_new(struct srv *S, const struct yoc_user *u, char tok[33],
		       struct session *out)
{
	unsigned char raw[16];
	time_t now = time(NULL);
	int slot = -1;
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(tok, 33, raw, sizeof raw);
	randombytes_buf(raw, sizeof raw);
	pthread_mutex_lock(&S->mu);
	for (int i = 0; i < MAX_SESSIONS && slot < 0; i++) {
		struct session *s = &S->sess[i];
		if (!s->used || now - s->seen > (time_t)S->o->idle_timeout ||
		    now - s->created > (time_t)S->o->abs_timeout)
			slot = i;
	}
	if (slot >= 0) {
		struct session *s = &S->sess[slot];
		memset(s, 0, sizeof *s);
		s->used = 1;
		tok_hash(tok, s->tokhash);
		sodium_bin2hex(s->csrf, sizeof s->csrf, raw, sizeof raw);
		snprintf(s->user, sizeof s->user, "%s", u->name);
		s->role = u->role;
		snprintf(s->practice, sizeof s->practice, "%s", u->practice);
		s->created = s->seen = now;
		*out = *s;
	}
	pthread_mutex_unlock(&S->mu);
	return slot >= 0;
}

/* 1 if name may try to log in now (not locked out). */
static int throttle_ok(struct srv *S, const char *name)
{
	time_t now = time(NULL);
	int ok = 1;
	pthread_mutex_lock(&S->mu);
	for (int i = 0; i < MAX_THROTTLE; i++)
		if (S->thr[i].user[0] && strcmp(S->thr[i].user, name) == 0 &&
		    S->thr[i].locked_until > now)
			ok = 0;
	pthread_mutex_unlock(&S->mu);
	return ok;
}

static void throttle_note(struct srv *S, const char *name, int success, int max)
{
	time_t now = time(NULL);
	int slot = -1, oldest = 0;
	pthread_mutex_lock(&S->mu);
	for (int i = 0; i < MAX_THROTTLE; i++) {
		if (S->thr[i].user[0] && strcmp(S->thr[i].user, name) == 0) {
			slot = i;
			break;
		}
		if (S->thr[i].first < S->thr[oldest].first || !S->thr[i].user[0])
			oldest = i;
	}
	if (success) {
		if (slot >= 0)
			memset(&S->thr[slot], 0, sizeof S->thr[slot]);
	} else {
		if (slot < 0) {
			slot = oldest;
			memset(&S->thr[slot], 0, sizeof S->thr[slot]);
			snprintf(S->thr[slot].user, sizeof S->thr[slot].user, "%s", name);
			S->thr[slot].first = now;
		}
		struct throttle *t = &S->thr[slot];
		if (now - t->first > LOCKOUT_SECONDS) {
			t->first = now;
			t->fails = 0;
		}
		if (++t->fails >= max)
			t->locked_until = now + LOCKOUT_SECONDS;
	}
	pthread_mutex_unlock(&S->mu);
}

/* ---- static files ---- */

static const char *static_type(const char *name)
{
	const char *dot = strrchr(name, '.');
	if (!dot)
		return NULL;
	if (strcmp(dot, ".html") == 0)
		return "text/html; charset=utf-8";
	if (strcmp(dot, ".css") == 0)
		return "text/css; charset=utf-8";
	if (strcmp(dot, ".js") == 0)
		return "text/javascript; charset=utf-8";
	if (strcmp(dot, ".svg") == 0)
		return "image/svg+xml";
	return NULL;
}

static enum MHD_Result serve_static(struct srv *S, struct MHD_Connection *c, const char *url)
{
	const char *name = strcmp(url, "/") == 0 ? "index.html" : url + 1;
	size_t n = strlen(name);
	const char *dot = strrchr(name, '.');
	/* one path component: [a-z0-9_-]+ then a known extension */
	int ok = n > 0 && n < 64 && dot && dot > name && static_type(name) != NULL;
	for (const char *p = name; ok && p < dot; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			ok = 0;
	if (!ok)
		return send_err(S, c, MHD_HTTP_NOT_FOUND, "not found");
	char path[4096], *data = NULL;
	size_t len = 0;
	struct yoc_error e;
	snprintf(path, sizeof path, "%s/%s", S->o->web, name);
	if (yoc_read_file(path, STATIC_CAP, &data, &len, &e) != 0)
		return send_err(S, c, MHD_HTTP_NOT_FOUND, "not found");
	enum MHD_Result ret = send_buf(S, c, MHD_HTTP_OK, static_type(name), data, len, NULL);
	yoc_free(data);
	return ret;
}

/* ---- API ---- */

static json_t *session_json(const struct session *s, unsigned idle)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:i}", "user", s->user, "role", yoc_role_name(s->role),
			 "practice", s->practice, "csrf", s->csrf, "idle_timeout", (int)idle);
}

static enum MHD_Result send_json(struct srv *S, struct MHD_Connection *c, unsigned status,
				 json_t *o, const char *cookie)
{
	char *t = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!t)
		return send_err(S, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	enum MHD_Result ret = send_buf(S, c, status, "application/json", t, strlen(t), cookie);
	free(t);
	return ret;
}

static const char *client_ip(struct MHD_Connection *c, char *buf, size_t cap)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(buf, cap, "-");
	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET) {
		const unsigned char *a =
			(const unsigned char *)&((const struct sockaddr_in *)ci->client_addr)->sin_addr;
		snprintf(buf, cap, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
	}
	return buf;
}

static enum MHD_Result api_login(struct srv *S, struct MHD_Connection *c, const char *ip,
				 const char *body, size_t n)
{
	json_error_t je;
	json_t *o = json_loadb(body, n, JSON_REJECT_DUPLICATES, &je);
	const char *name = NULL, *pw = NULL;
	struct yoc_user *users = NULL, *u = NULL;
	size_t nu = 0;
	struct yoc_error e;
	enum MHD_Result ret;
	if (!o || json_unpack(o, "{s:s,s:s}", "user", &name, "password", &pw) != 0 ||
	    strlen(name) > YOC_USER_MAX_NAME || strlen(pw) > YOC_USER_MAX_PASSWORD) {
		json_decref(o);
		audit(S, NULL, ip, "login", "/api/login", 400, "malformed");
		return send_err(S, c, MHD_HTTP_BAD_REQUEST, "expected {\"user\":..,\"password\":..}");
	}
	char ipkey[72];
	snprintf(ipkey, sizeof ipkey, "@%s", ip);
	if (!throttle_ok(S, name) || !throttle_ok(S, ipkey)) {
		audit(S, name, ip, "login", "/api/login", 429, "locked out");
		ret = send_err(S, c, MHD_HTTP_TOO_MANY_REQUESTS,
			       "too many failed logins: try again in 15 minutes");
		goto cleanup;
	}
	if (yoc_user_list(S->o->db, &users, &nu, &e) == 0)
		for (size_t i = 0; i < nu; i++)
			if (strcmp(users[i].name, name) == 0)
				u = &users[i];
	if (!u || !yoc_user_check(u, pw)) {
		throttle_note(S, name, 0, MAX_FAIL);
		throttle_note(S, ipkey, 0, MAX_FAIL_IP);
		audit(S, name, ip, "login", "/api/login", 401, "failed");
		ret = send_err(S, c, MHD_HTTP_UNAUTHORIZED, "wrong user name or password");
		goto cleanup;
	}
	throttle_note(S, name, 1, MAX_FAIL);
	char tok[33], cookie[160];
	struct session s;
	if (!session_new(S, u, tok, &s)) {
		ret = send_err(S, c, MHD_HTTP_SERVICE_UNAVAILABLE, "too many sessions");
		goto cleanup;
	}
	snprintf(cookie, sizeof cookie, "yoc_session=%s; Path=/; HttpOnly; SameSite=Strict%s",
		 tok, S->tls ? "; Secure" : "");
	sodium_memzero(tok, sizeof tok);
	if (audit(S, name, ip, "login", "/api/login", 200, "ok") != 0) {
		ret = send_err(S, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "access log unavailable");
		goto cleanup;
	}
	ret = send_json(S, c, MHD_HTTP_OK, session_json(&s, S->o->idle_timeout), cookie);
	sodium_memzero(cookie, sizeof cookie);
cleanup:
	if (users)
		sodium_memzero(users, nu * sizeof *users);
	yoc_free(users);
	json_decref(o);
	return ret;
}

/* The dashboards (srv_dash.c): answered under the read lock, logged, then sent. */
static enum MHD_Result dash(struct srv *S, struct MHD_Connection *c, const struct session *s,
			    const char *ip, const char *url, int post, const char *body, size_t n)
{
	struct yoc_dash_reply r;
	enum MHD_Result ret;
	memset(&r, 0, sizeof r);
	yoc_buf_init(&r.body, (size_t)1 << 26);
	yoc_buf_init(&r.detail, 1 << 16);
	pthread_rwlock_rdlock(&S->dlock);
	int rc = yoc_dash_answer(S->o->db, S->sel, url, post, body, n, s->user, s->role,
				 s->practice, &r);
	pthread_rwlock_unlock(&S->dlock);
	if (rc || !r.status) {
		audit(S, s->user, ip, "refused", url, 500, "dashboard failed");
		ret = send_err(S, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "failed");
	} else if (audit(S, s->user, ip, r.event, url, (int)r.status,
			 r.detail.len ? r.detail.data : "")) {
		ret = send_err(S, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "access log unavailable");
	} else {
		struct MHD_Response *m = MHD_create_response_from_buffer(
			r.body.len, r.body.data ? r.body.data : (void *)"", MHD_RESPMEM_MUST_COPY);
		if (!m) {
			ret = MHD_NO;
		} else {
			headers(S, m, r.type ? r.type : "application/json");
			if (r.filename) {
				char cd[128];
				snprintf(cd, sizeof cd, "attachment; filename=\"%s\"", r.filename);
				MHD_add_response_header(m, "Content-Disposition", cd);
			}
			ret = MHD_queue_response(c, r.status, m);
			MHD_destroy_response(m);
		}
	}
	yoc_buf_free(&r.body);
	yoc_buf_free(&r.detail);
	return ret;
}

static enum MHD_Result api(struct srv *S, struct MHD_Connection *c, const char *url,
			   const char *method, const char *body, size_t n)
{
	char ip[64];
	struct session s;
	int post = strcmp(method, "POST") == 0;
	client_ip(c, ip, sizeof ip);
	if (strcmp(url, "/api/login") == 0) {
		if (!post) {
			audit(S, NULL, ip, "refused", url, 405, "use POST");
			return send_err(S, c, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST");
		}
		return api_login(S, c, ip, body, n);
	}
	if (!session_get(S, c, &s)) {
		audit(S, NULL, ip, "refused", url, 401, "no session");
		return send_err(S, c, MHD_HTTP_UNAUTHORIZED, "not logged in");
	}
	if (post) {
		const char *tok = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
		if (!tok || strlen(tok) != 32 || sodium_memcmp(tok, s.csrf, 32) != 0) {
			audit(S, s.user, ip, "refused", url, 403, "bad CSRF token");
			return send_err(S, c, MHD_HTTP_FORBIDDEN, "missing or wrong CSRF token");
		}
	} else if (strcmp(method, "GET") != 0) {
		audit(S, s.user, ip, "refused", url, 405, "use GET or POST");
		return send_err(S, c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET or POST");
	}
	if (strcmp(url, "/api/logout") == 0 && post) {
		session_end(S, c);
		audit(S, s.user, ip, "logout", url, 200, "");
		return send_json(S, c, MHD_HTTP_OK, json_pack("{s:b}", "ok", 1),
				 "yoc_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
	}
	if (strcmp(url, "/api/session") == 0 && !post) {
		audit(S, s.user, ip, "session", url, 200, "");
		return send_json(S, c, MHD_HTTP_OK, session_json(&s, S->o->idle_timeout), NULL);
	}
	if (strcmp(url, "/api/meta") == 0 && !post) {
		struct yoc_buf out;
		yoc_buf_init(&out, 1 << 22);
		pthread_rwlock_rdlock(&S->dlock);
		int rc = yoc_sel_meta(S->sel, s.role, s.practice, &out);
		pthread_rwlock_unlock(&S->dlock);
		enum MHD_Result ret;
		if (rc || audit(S, s.user, ip, "meta", url, 200, ""))
			ret = send_err(S, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "failed");
		else
			ret = send_buf(S, c, MHD_HTTP_OK, "application/json", out.data, out.len, NULL);
		yoc_buf_free(&out);
		return ret;
	}
	if (strcmp(url, "/api/select") == 0 && post) {
		struct yoc_buf out, filt;
		struct yoc_error e;
		yoc_error_clear(&e);
		yoc_buf_init(&out, 1 << 22);
		yoc_buf_init(&filt, 1 << 16);
		pthread_rwlock_rdlock(&S->dlock);
		int rc = yoc_sel_query(S->sel, body ? body : "", n, s.role, s.practice, &out, &filt, &e);
		pthread_rwlock_unlock(&S->dlock);
		enum MHD_Result ret;
		if (rc) {
			char msg[1200];
			if (e.line)
				snprintf(msg, sizeof msg, "%s:%ld:%ld: %s", e.file, e.line, e.col, e.msg);
			else
				snprintf(msg, sizeof msg, "%s: %s", e.file, e.msg);
			audit(S, s.user, ip, "query", url, rc == YOC_ENOMEM ? 500 : 400, msg);
			ret = send_err(S, c, rc == YOC_ENOMEM ? 500 : MHD_HTTP_BAD_REQUEST, msg);
		} else if (audit(S, s.user, ip, "query", url, 200, filt.len ? filt.data : "(everyone)")) {
			ret = send_err(S, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "access log unavailable");
		} else {
			ret = send_buf(S, c, MHD_HTTP_OK, "application/json", out.data, out.len, NULL);
		}
		yoc_buf_free(&out);
		yoc_buf_free(&filt);
		return ret;
	}
	if (strcmp(url, "/api/extract") == 0 && post) {
		if (s.role != YOC_ROLE_ANALYST) {
			audit(S, s.user, ip, "refused", url, 403, "extract: not analyst");
			return send_err(S, c, MHD_HTTP_FORBIDDEN,
					"pseudonymised extracts are for the analyst role only");
		}
		struct yoc_buf out, filt;
		struct yoc_error e;
		size_t rows = 0;
		char detail[80];
		yoc_error_clear(&e);
		yoc_buf_init(&out, (size_t)1 << 30);
		yoc_buf_init(&filt, 1 << 16);
		pthread_rwlock_rdlock(&S->dlock);
		int rc = yoc_sel_extract(S->sel, body ? body : "", n, s.role, s.practice, &out, &filt,
					 &rows, &e);
		pthread_rwlock_unlock(&S->dlock);
		enum MHD_Result ret;
		snprintf(detail, sizeof detail, "rows=%zu; ", rows);
		if (rc) {
			audit(S, s.user, ip, "download", url, 400, e.msg);
			ret = send_err(S, c, MHD_HTTP_BAD_REQUEST, e.msg);
		} else {
			struct yoc_buf d;
			yoc_buf_init(&d, 1 << 17);
			yoc_buf_puts(&d, detail);
			yoc_buf_puts(&d, filt.len ? filt.data : "(everyone)");
			if (audit(S, s.user, ip, "download", url, 200, d.data ? d.data : detail))
				ret = send_err(S, c, MHD_HTTP_INTERNAL_SERVER_ERROR,
					       "access log unavailable");
			else {
				struct MHD_Response *r = MHD_create_response_from_buffer(
					out.len, out.data, MHD_RESPMEM_MUST_COPY);
				if (!r)
					ret = MHD_NO;
				else {
					headers(S, r, "text/csv; charset=utf-8");
					MHD_add_response_header(r, "Content-Disposition",
								"attachment; filename=\"extract.csv\"");
					ret = MHD_queue_response(c, MHD_HTTP_OK, r);
					MHD_destroy_response(r);
				}
			}
			yoc_buf_free(&d);
		}
		yoc_buf_free(&out);
		yoc_buf_free(&filt);
		return ret;
	}
	if (strcmp(url, "/api/users") == 0 && !post) {
		if (s.role != YOC_ROLE_ADMIN) {
			audit(S, s.user, ip, "refused", url, 403, "not admin");
			return send_err(S, c, MHD_HTTP_FORBIDDEN, "for the admin role only");
		}
		struct yoc_user *u = NULL;
		size_t nu = 0;
		struct yoc_error e;
		json_t *arr = json_array();
		if (yoc_user_list(S->o->db, &u, &nu, &e) == 0)
			for (size_t i = 0; i < nu; i++)
				json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "user", u[i].name,
								     "role", yoc_role_name(u[i].role),
								     "practice", u[i].practice));
		yoc_free(u);
		audit(S, s.user, ip, "users", url, 200, "");
		return send_json(S, c, MHD_HTTP_OK, json_pack("{s:o}", "users", arr), NULL);
	}
	if (yoc_dash_route(url))
		return dash(S, c, &s, ip, url, post, body, n);
	audit(S, s.user, ip, "refused", url, 404, "no such route");
	return send_err(S, c, MHD_HTTP_NOT_FOUND, "no such route");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct srv *S = cls;
	struct req *r = *con_cls;
	if (!r) {
		r = yoc_calloc(1, sizeof *r);
		if (!r)
			return MHD_NO;
		yoc_buf_init(&r->body, S->o->max_body);
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!r->too_big && yoc_buf_append(&r->body, upload, *upload_size) != 0)
			r->too_big = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->too_big) {
		if (strncmp(url, "/api/", 5) == 0) { /* the API's refusals are all logged */
			char ip[64];
			audit(S, NULL, client_ip(c, ip, sizeof ip), "refused", url, 413,
			      "request body too large");
		}
		return send_err(S, c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
	}
	if (strncmp(url, "/api/", 5) == 0)
		return api(S, c, url, method, r->body.data, r->body.len);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return send_err(S, c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET");
	return serve_static(S, c, url);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;
	if (r) {
		yoc_buf_free(&r->body);
		yoc_free(r);
		*con_cls = NULL;
	}
}

/* Early refusal of a declared oversize body, before any of it is read. */
static void maybe_reload(struct srv *S)
{
	char sig[64];
	struct yoc_error e;
	if (yoc_sel_signature(S->o->db, sig, sizeof sig) != 0 ||
	    strcmp(sig, yoc_sel_signature_of(S->sel)) == 0)
		return;
	yoc_sel *fresh = NULL;
	if (yoc_sel_load(S->o->db, S->o->fyear, &fresh, &e) != 0) {
		logf_(S, "yoc serve: reload failed: %s%s", e.msg, "");
		return;
	}
	pthread_rwlock_wrlock(&S->dlock);
	yoc_sel *old = S->sel;
	S->sel = fresh;
	pthread_rwlock_unlock(&S->dlock);
	yoc_sel_free(old);
	logf_(S, "yoc serve: a new analysis was committed; reloaded%s%s", "", "");
}

int yoc_serve_run(const struct yoc_serve_opts *o, volatile sig_atomic_t *stop,
		  struct yoc_error *e)
{
	struct srv *S = NULL;
	struct MHD_Daemon *d = NULL;
	char *cert = NULL, *key = NULL;
	size_t nc = 0, nk = 0;
	int rc = 0;

	if (sodium_init() < 0)
		return yoc_error_set(e, YOC_EINTERNAL, o->db, 0, 0, "libsodium failed to start");
	S = yoc_calloc(1, sizeof *S);
	if (!S)
		return yoc_error_set(e, YOC_ENOMEM, o->db, 0, 0, "out of memory");
	S->o = o;
	pthread_mutex_init(&S->mu, NULL);
	pthread_rwlock_init(&S->dlock, NULL);
	if ((rc = yoc_sel_load(o->db, o->fyear, &S->sel, e)))
		goto cleanup;
	snprintf(S->audit_path, sizeof S->audit_path, "%s/serve/audit.log", o->db);
	if ((rc = yoc_alog_open(S->audit_path, &S->audit, e)))
		goto cleanup;
	if ((o->tls_cert != NULL) != (o->tls_key != NULL)) {
		rc = yoc_error_set(e, YOC_EINVAL, "tls", 0, 0, "give both --tls-cert and --tls-key");
		goto cleanup;
	}
	if (o->tls_cert) {
		if ((rc = yoc_read_file(o->tls_cert, 1 << 20, &cert, &nc, e)) ||
		    (rc = yoc_read_file(o->tls_key, 1 << 20, &key, &nk, e)))
			goto cleanup;
		S->tls = 1;
	}
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)o->port);
	if (inet_pton(AF_INET, o->host, &sa.sin_addr) != 1) {
		rc = yoc_error_set(e, YOC_EINVAL, o->host, 0, 0, "not an IPv4 address");
		goto cleanup;
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (S->tls)
		flags |= MHD_USE_TLS;
	struct MHD_OptionItem tlsopt[] = {
		{S->tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, cert},
		{S->tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, key},
		{MHD_OPTION_END, 0, NULL}};
	d = MHD_start_daemon(flags, 0, NULL, NULL, handler, S,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			     MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(o->threads ? o->threads : 4),
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->conn_timeout,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)512,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
			     MHD_OPTION_NOTIFY_COMPLETED, completed, S,
			     MHD_OPTION_ARRAY, tlsopt, MHD_OPTION_END);
	if (!d) {
		rc = yoc_error_set(e, YOC_EIO, o->host, 0, 0,
				   "cannot listen on %s:%u (in use, or TLS files bad)", o->host,
				   o->port);
		goto cleanup;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	unsigned port = di ? di->port : o->port;
	if (o->log) {
		fprintf(o->log, "yoc serve: %zu person-years%s; listening on %s://%s:%u/\n",
			yoc_sel_rows(S->sel), "", S->tls ? "https" : "http", o->host, port);
		fflush(o->log);
	}
	if (o->ready_file) {
		struct yoc_afile a;
		if (yoc_afile_open(&a, o->ready_file, e) == 0) {
			fprintf(a.f, "%u\n", port);
			yoc_afile_commit(&a, e);
		}
	}
	time_t last = time(NULL);
	while (!*stop) {
		usleep(100 * 1000);
		if (o->reload_every && time(NULL) - last >= (time_t)o->reload_every) {
			last = time(NULL);
			maybe_reload(S);
		}
	}
cleanup:
	if (d)
		MHD_stop_daemon(d);
	if (cert)
		sodium_memzero(cert, nc);
	if (key)
		sodium_memzero(key, nk);
	yoc_free(cert);
	yoc_free(key);
	if (S) {
		yoc_sel_free(S->sel);
		yoc_alog_close(S->audit);
		pthread_mutex_destroy(&S->mu);
		pthread_rwlock_destroy(&S->dlock);
		sodium_memzero(S->sess, sizeof S->sess);
		yoc_free(S);
	}
	return rc;
}

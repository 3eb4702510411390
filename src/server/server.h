/*
** yoc serve: the selection tool's HTTP server (libmicrohttpd), its users,
** sessions and access log, and the in-memory selection engine whose every
** count is protected by the cell-key method and the report's suppression
** and rounding (docs/server.md).
**
** Files of a dataset DIR it owns, all mode 0600 in DIR/serve/:
**   users         NAME:ROLE:PRACTICE:ARGON2ID-HASH lines (libsodium crypto_pwhash_str)
**   cellkey.key   the dataset's cell-key secret (64 hex digits)
**   audit.log     the hash-chained access log (src/alog)
**
** Uses module headers only (rule, sdc, alog); prints nothing except the
** server's one-line-per-event log to the FILE given; never exits.
*/
#ifndef YOC_SERVER_H
#define YOC_SERVER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "yoc/core.h"

/* ---- users ---- */
enum yoc_user_role {
	YOC_ROLE_PUBLIC_HEALTH = 0,
	YOC_ROLE_PLANNER,
	YOC_ROLE_ANALYST,
	YOC_ROLE_PRACTICE,
	YOC_ROLE_FINANCE,
	YOC_ROLE_ADMIN,
	YOC_ROLE_COUNT
};
/* "public_health", "planner", ...; NULL for a bad role. */
const char *yoc_role_name(int role);
/* Role of name, or -1. */
int yoc_role_parse(const char *name);

#define YOC_USER_MAX_NAME 64
#define YOC_USER_MIN_PASSWORD 10
#define YOC_USER_MAX_PASSWORD 1024

struct yoc_user {
	char name[YOC_USER_MAX_NAME + 1];
	int role;
	char practice[16]; /* "" unless role practice */
	char hash[128];    /* crypto_pwhash_str output */
};

/*
** The users file of dataset dir (DIR/serve/users). add: name is 1-64 of
** [A-Za-z0-9._-], a practice role needs a practice code, the password
** 10-1024 bytes; YOC_EEXIST if the name is taken. passwd: YOC_ENOTFOUND if
** absent. Each rewrites the file atomically with mode 0600.
*/
int yoc_user_add(const char *dir, const char *name, int role, const char *practice,
		 const char *password, struct yoc_error *e);
int yoc_user_passwd(const char *dir, const char *name, const char *password,
		    struct yoc_error *e);
int yoc_user_remove(const char *dir, const char *name, struct yoc_error *e);
/* All users (hash included) into *out (yoc_free it), *n of them. No file: 0 users. */
int yoc_user_list(const char *dir, struct yoc_user **out, size_t *n, struct yoc_error *e);
/* 1 if password matches u's hash (constant time inside libsodium). */
int yoc_user_check(const struct yoc_user *u, const char *password);

/* ---- the server ---- */
struct yoc_serve_opts {
	const char *db;          /* dataset folder */
	const char *web;         /* folder of the front end */
	const char *host;        /* listen address, "127.0.0.1" */
	unsigned port;           /* 8080; 0 any free port (printed) */
	const char *tls_cert, *tls_key; /* PEM files, both or neither */
	unsigned threads;        /* thread pool size (default 4) */
	unsigned idle_timeout;   /* seconds of session idleness (default 900) */
	unsigned abs_timeout;    /* seconds of a session's life (default 28800) */
	unsigned conn_timeout;   /* seconds a connection may stay idle (default 10) */
	size_t max_body;         /* bytes of a request body (default 65536) */
	unsigned reload_every;   /* seconds between checks for a new analysis (default 2) */
	const char *fyear;       /* year served (default the latest analysed) */
	FILE *log;               /* event lines; NULL quiet */
	const char *ready_file;  /* written with the port once listening (tests) */
};
void yoc_serve_opts_init(struct yoc_serve_opts *o);
/* Runs until *stop becomes nonzero. */
int yoc_serve_run(const struct yoc_serve_opts *o, volatile sig_atomic_t *stop,
		  struct yoc_error *e);

/* ---- the selection engine, usable without HTTP (bench, tests) ---- */
typedef struct yoc_sel yoc_sel;
/* Loads year fyear (NULL latest) of the dataset dir into memory. */
int yoc_sel_load(const char *dir, const char *fyear, yoc_sel **out, struct yoc_error *e);
void yoc_sel_free(yoc_sel *s);
size_t yoc_sel_rows(const yoc_sel *s);
/*
** Runs a selection request (JSON text, see docs/server.md) for a user of
** role with practice (NULL or "" none) and writes the JSON response to out.
** The filter's normalised rule text goes to filter_out (may be NULL) for
** the access log. A bad request: YOC_EPARSE/YOC_EINVAL/YOC_ENOTFOUND with
** the message in e (safe to show the user).
*/
int yoc_sel_query(const yoc_sel *s, const char *req, size_t len, int role,
		  const char *practice, struct yoc_buf *out, struct yoc_buf *filter_out,
		  struct yoc_error *e);
/*
** A pseudonymised extract of the group a request selects (the analyst role):
** CSV of pseudo_id, fyear and the group's main fields, one row a person,
** not perturbed (person-level rows for analysis, never for publication).
** *rows is the number of people. YOC_ETOOBIG when out's cap is reached.
*/
int yoc_sel_extract(const yoc_sel *s, const char *req, size_t len, int role,
		    const char *practice, struct yoc_buf *out, struct yoc_buf *filter_out,
		    size_t *rows, struct yoc_error *e);
/* The meta response (fields, practices, conditions) for a role. */
int yoc_sel_meta(const yoc_sel *s, int role, const char *practice, struct yoc_buf *out);
/* A signature of the analysis the dataset holds now (changes when a new one is committed). */
int yoc_sel_signature(const char *dir, char *out, size_t cap);
const char *yoc_sel_signature_of(const yoc_sel *s);

/*
** The dashboards (srv_dash.c, docs/server.md "Dashboards"): GET /api/dash
** (the list a role may see), GET /api/dash/NAME, GET /api/dash/practice.csv
** (the practice's data pack) and POST /api/cohort (the analyst saves a
** group as a cohort definition). yoc_dash_route says whether url is one of
** them; yoc_dash_answer decides the role's access and writes the reply,
** the access-log event and its detail (the caller logs it, then sends).
** Call with the dataset's read lock held (sel is read).
*/
struct yoc_dash_reply {
	unsigned status;
	const char *type;      /* content type (static) */
	const char *event;     /* access-log event (static) */
	const char *filename;  /* a download's name, or NULL */
	struct yoc_buf body;   /* caller's: yoc_buf_init before, yoc_buf_free after */
	struct yoc_buf detail; /* the access-log detail, same */
};
int yoc_dash_route(const char *url);
int yoc_dash_answer(const char *dir, const yoc_sel *sel, const char *url, int post,
		    const char *body, size_t n, const char *user, int role, const char *practice,
		    struct yoc_dash_reply *r);

/*
** The cell-key method (docs/server.md): the published value of a count n
** whose cell key is ckey (sum of its people's keys mod 256): 0 for 0, else
** n + noise(ckey, n) kept >= 1, then the report's suppression and rounding
** (YOC_SDC_HIDDEN for a hidden count).
*/
int yoc_cellkey_noise(unsigned ckey, int64_t n);
int64_t yoc_cellkey_publish(unsigned ckey, int64_t n);
/* A person's key: the first byte of HMAC-SHA256(secret, pseudo_id). */
unsigned yoc_cellkey_person(const unsigned char secret[32], const char *pseudo_id);

#endif

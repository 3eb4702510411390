/*
** libFuzzer target for the dashboards' routes (src/server/srv_dash.c,
** yoc_dash_answer): the input is a request line "URL\n" followed by the body
** of a POST (no body: a GET), answered for every role in turn.
**
** Checked, over a small dataset made once in a temporary folder (two
** practices, P1 and P2, and none of the tables the later verbs write): every
** request gets a status of 200, 400, 403, 404 or 405 and an access-log event;
** a JSON answer parses; a role's page outside its own list is refused with
** 403; a practice user's answer never names the other practice; only the
** analyst saves a cohort. A failed check aborts.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "server/server.h"

#define CHECK(x) do { if (!(x)) { \
	fprintf(stderr, "fuzz_dash: check failed: %s (line %d)\n", #x, __LINE__); \
	abort(); } } while (0)

static yoc_sel *sel;
static char dir[] = "/tmp/yoc_fuzz_dash_XXXXXX";

static void cleanup(void)
{
	static const char *const files[] = {"yoc.db", "yoc.db-wal", "yoc.db-shm",
					    "yoc.db-journal", "serve/cellkey.key", "serve", NULL};
	char p[96];
	yoc_sel_free(sel);
	for (int i = 0; files[i]; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		if (unlink(p) != 0)
			rmdir(p);
	}
	rmdir(dir);
}

static void setup(void)
{
	char path[64];
	struct yoc_error e;
	sqlite3 *db;
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/yoc.db", dir);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db,
		"CREATE TABLE person_year(pseudo_id TEXT, fyear TEXT, age INTEGER, sex TEXT,"
		" practice TEXT, imd_decile INTEGER, copd INTEGER, ckd INTEGER, ltc_count INTEGER,"
		" band TEXT, emergency_admissions INTEGER, other_nonelective_admissions INTEGER,"
		" bed_days INTEGER, emergency_bed_days INTEGER, cost_total INTEGER,"
		" cost_elective INTEGER, cost_nonelective INTEGER, cost_daycase INTEGER,"
		" cost_outpatient INTEGER, cost_ae INTEGER, cost_community INTEGER, cost_mh INTEGER,"
		" cost_gp INTEGER, cost_social_care INTEGER);"
		"CREATE TABLE analyse_run(key TEXT, value TEXT);"
		"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 59)"
		" INSERT INTO person_year SELECT printf('%04d', i), '2023/24', i * 2, CASE i % 3 WHEN 0"
		" THEN '1' WHEN 1 THEN '2' ELSE NULL END, CASE WHEN i < 30 THEN 'P1' ELSE 'P2' END,"
		" 1 + i % 10, i % 2, i % 3 = 0, i % 4, substr('ABCDE', 1 + i % 5, 1), i % 3, 0, i % 7,"
		" 0, i * 1000, i * 100, i * 100, 0, i * 100, 0, i * 100, 0, i * 500, i * 100 FROM n;",
		NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK(yoc_sel_load(dir, NULL, &sel, &e) == 0);
	atexit(cleanup);
}

/* The pages each role may read (docs/server.md, "Dashboards"). */
static int allowed(int role, const char *page)
{
	static const char *const pages[YOC_ROLE_COUNT] = {
		"population risk outcomes evaluation", "population risk outcomes evaluation",
		"population risk outcomes evaluation", "practice worklist",
		"finance evaluation", "admin"};
	const char *p = strstr(pages[role], page);
	size_t n = strlen(page);
	return n && p && (p[n] == ' ' || p[n] == 0) && (p == pages[role] || p[-1] == ' ');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!sel)
		setup();
	const uint8_t *nl = memchr(data, '\n', size);
	size_t ulen = nl ? (size_t)(nl - data) : size;
	if (ulen > 200 || memchr(data, 0, ulen))
		return 0;
	char url[201];
	memcpy(url, data, ulen);
	url[ulen] = 0;
	const char *body = nl ? (const char *)nl + 1 : NULL;
	size_t blen = nl ? size - ulen - 1 : 0;
	if (!yoc_dash_route(url))
		return 0;
	for (int role = 0; role < YOC_ROLE_COUNT; role++) {
		struct yoc_dash_reply r;
		memset(&r, 0, sizeof r);
		yoc_buf_init(&r.body, 1 << 24);
		yoc_buf_init(&r.detail, 1 << 16);
		int rc = yoc_dash_answer(dir, sel, url, body != NULL, body, blen, "fuzz", role,
					 role == YOC_ROLE_PRACTICE ? "P1" : "", &r);
		CHECK(rc == 0);
		CHECK(r.status == 200 || r.status == 400 || r.status == 403 || r.status == 404 ||
		      r.status == 405);
		CHECK(r.event != NULL && r.type != NULL);
		if (strcmp(r.type, "application/json") == 0) {
			json_t *o = json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, NULL);
			CHECK(o != NULL);
			json_decref(o);
		}
		if (r.status == 200 && strncmp(url, "/api/dash/", 10) == 0) {
			char page[32];
			snprintf(page, sizeof page, "%.31s", url + 10);
			char *dot = strchr(page, '.');
			if (dot)
				*dot = 0;
			CHECK(allowed(role, page));
		}
		if (role == YOC_ROLE_PRACTICE && r.body.data)
			CHECK(strstr(r.body.data, "P2") == NULL);
		if (strcmp(url, "/api/cohort") == 0 && r.status == 200)
			CHECK(role == YOC_ROLE_ANALYST);
		yoc_buf_free(&r.body);
		yoc_buf_free(&r.detail);
	}
	return 0;
}

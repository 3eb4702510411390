/*
** src/report's mergeable partial (report_part.c): a person_year cut into K
** shards and reported by K ranks (threads with a shared-memory stand-in for
** MPI) gives the partial of the whole table, exactly: every count and sum,
** the cost column, and the top groups of concentration.html with their
** ties broken by pseudonym, checked against SQL over the whole table.
** Costs come from a few values so that the cuts fall inside runs of equal
** costs; shards may be empty (K larger than the number of persons). Also: a
** partial packed and read back is the same; a cut-short one is refused.
*/
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "report/report_int.h"
#include "testutil.h"

static const char *const set_cols =
	"cost_elective INTEGER, cost_nonelective INTEGER, cost_daycase INTEGER, "
	"cost_outpatient INTEGER, cost_ae INTEGER, cost_community INTEGER, cost_mh INTEGER, "
	"cost_gp INTEGER, cost_social_care INTEGER, cost_ambulance INTEGER";

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Creates person_year in each of the k+1 databases paths[0..k]: paths[0]
 * the whole, paths[1 + s] shard s (a person's rows in one shard, by a hash
 * of its number). */
static void make_dbs(char paths[][256], int k, int persons, int years)
{
	sqlite3 *db[8];
	for (int s = 0; s <= k; s++) {
		snprintf(paths[s], 256, "%s/yoc_rpart_%d_%d_%d.db", tu_tmpdir(), (int)getpid(), k, s);
		unlink(paths[s]);
		assert_int_equal(sqlite3_open(paths[s], &db[s]), SQLITE_OK);
		char *sql = sqlite3_mprintf(
			"CREATE TABLE person_year (pseudo_id TEXT, fyear TEXT, age INTEGER, sex TEXT, "
			"practice TEXT, imd_decile INTEGER, ltc_count INTEGER, mental_ltc_count "
			"INTEGER, band TEXT, emergency_admissions INTEGER, cost_total INTEGER, %s, "
			"diabetes INTEGER, copd INTEGER, asthma INTEGER, PRIMARY KEY (fyear, pseudo_id))",
			set_cols);
		assert_int_equal(sqlite3_exec(db[s], sql, NULL, NULL, NULL), SQLITE_OK);
		sqlite3_free(sql);
		sqlite3_exec(db[s], "BEGIN", NULL, NULL, NULL);
	}
	static const int64_t costs[] = {0, 0, 0, 5000, 5000, 12000, 12000, 12000, 99000, 250000};
	static const char *const sexes[] = {"F", "M", "1", "2", "X", NULL};
	static const char *const bands[] = {"A", "B", "C", "ZZ"};
	static const char *const pracs[] = {"P1", "P2", "P3", NULL, "P4"};
	for (int y = 0; y < years; y++)
		for (int i = 0; i < persons; i++) {
			char pid[40], fy[16];
			snprintf(pid, sizeof pid, "%016llx", (unsigned long long)(i * 2654435761ULL));
			snprintf(fy, sizeof fy, "%d/%02d", 2020 + y, (21 + y) % 100);
			int64_t set[NSET], cost = 0;
			for (int j = 0; j < NSET; j++) {
				set[j] = next() % 3 == 0 ? costs[next() % 10] / 10 : 0;
				cost += set[j];
			}
			int64_t ltc = (int64_t)(next() % 12), ment = ltc ? (int64_t)(next() % 3) : 0;
			/* a person's rows in one shard, the shards uneven */
			int shard = (int)(((uint64_t)i * 2654435761ULL >> 9) % (uint64_t)k);
			int64_t dec = (int64_t)(next() % 12); /* 0, 11: unknown */
			int64_t age = (int64_t)(next() % 100), emerg = (int64_t)(next() % 3);
			int64_t cond[3] = {(int64_t)(next() % 2), (int64_t)(next() % 2),
					   (int64_t)(next() % 2)};
			for (int s = 0; s < 2; s++) { /* the same row in the whole and its shard */
				sqlite3 *d = db[s ? 1 + shard : 0];
				sqlite3_stmt *q = NULL;
				assert_int_equal(sqlite3_prepare_v2(d,
					"INSERT INTO person_year VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
					"?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, "
					"?23, ?24)", -1, &q, NULL), SQLITE_OK);
				sqlite3_bind_text(q, 1, pid, -1, SQLITE_STATIC);
				sqlite3_bind_text(q, 2, fy, -1, SQLITE_STATIC);
				sqlite3_bind_int64(q, 3, age);
				const char *sx = sexes[i % 6];
				if (sx)
					sqlite3_bind_text(q, 4, sx, -1, SQLITE_STATIC);
				const char *pr = pracs[i % 5];
				if (pr)
					sqlite3_bind_text(q, 5, pr, -1, SQLITE_STATIC);
				if (dec)
					sqlite3_bind_int64(q, 6, dec);
				sqlite3_bind_int64(q, 7, ltc);
				sqlite3_bind_int64(q, 8, ment);
				sqlite3_bind_text(q, 9, bands[(i / 3) % 4], -1, SQLITE_STATIC);
				sqlite3_bind_int64(q, 10, emerg);
				sqlite3_bind_int64(q, 11, cost);
				for (int j = 0; j < NSET; j++)
					sqlite3_bind_int64(q, 12 + j, set[j]);
				for (int j = 0; j < 3; j++)
					sqlite3_bind_int64(q, 22 + j, cond[j]);
				assert_int_equal(sqlite3_step(q), SQLITE_DONE);
				sqlite3_finalize(q);
			}
		}
	for (int s = 0; s <= k; s++) {
		sqlite3_exec(db[s], "COMMIT", NULL, NULL, NULL);
		sqlite3_close(db[s]);
	}
}

/* ---- K ranks as threads ------------------------------------------------- */

struct world {
	int k;
	pthread_barrier_t bar;
	int fail[8];
	struct yoc_buf slot[8];
	char bc[4096];
};

struct rank {
	struct world *w;
	int r;
	const char *db;
	struct yoc_report_part *out;
	int rc;
	struct yoc_error e;
};

static int w_gather(void *ud, int fail, const void *p, size_t n, struct yoc_buf *recv,
		    struct yoc_error *e)
{
	struct rank *me = ud;
	struct world *w = me->w;
	w->fail[me->r] = fail;
	yoc_buf_reset(&w->slot[me->r]);
	if (n)
		yoc_buf_append(&w->slot[me->r], p, n);
	pthread_barrier_wait(&w->bar);
	int any = 0;
	for (int r = 0; r < w->k; r++)
		any |= w->fail[r];
	if (!any && me->r == 0)
		for (int r = 0; r < w->k; r++) {
			yoc_buf_reset(&recv[r]);
			if (w->slot[r].len)
				yoc_buf_append(&recv[r], w->slot[r].data, w->slot[r].len);
		}
	pthread_barrier_wait(&w->bar);
	if (any && !fail)
		yoc_error_set(e, YOC_EDATA, NULL, 0, 0, "another rank failed");
	return any ? YOC_EDATA : 0;
}

static int w_bcast(void *ud, void *p, size_t n, struct yoc_error *e)
{
	struct rank *me = ud;
	struct world *w = me->w;
	(void)e;
	assert_true(n <= sizeof w->bc);
	if (me->r == 0)
		memcpy(w->bc, p, n);
	pthread_barrier_wait(&w->bar);
	if (me->r != 0)
		memcpy(p, w->bc, n);
	pthread_barrier_wait(&w->bar);
	return 0;
}

static void *rank_main(void *arg)
{
	struct rank *me = arg;
	struct yoc_report_comm cm = {me->r, me->w->k, me, w_gather, w_bcast};
	yoc_error_clear(&me->e);
	me->rc = yoc_report_part_make(me->db, NULL, &cm, &me->out, NULL, &me->e);
	return NULL;
}

/* The merged partial of k shards (paths[1..k]) made by k threads. */
static struct yoc_report_part *sharded(char paths[][256], int k)
{
	struct world w;
	memset(&w, 0, sizeof w);
	w.k = k;
	pthread_barrier_init(&w.bar, NULL, (unsigned)k);
	for (int r = 0; r < k; r++)
		yoc_buf_init(&w.slot[r], 0);
	struct rank rk[8];
	pthread_t th[8];
	for (int r = 0; r < k; r++) {
		rk[r] = (struct rank){&w, r, paths[1 + r], NULL, 0, {0}};
		assert_int_equal(pthread_create(&th[r], NULL, rank_main, &rk[r]), 0);
	}
	for (int r = 0; r < k; r++)
		pthread_join(th[r], NULL);
	for (int r = 0; r < k; r++) {
		if (rk[r].rc)
			fprintf(stderr, "rank %d: %s\n", r, rk[r].e.msg);
		assert_int_equal(rk[r].rc, 0);
		if (r)
			assert_null(rk[r].out);
		yoc_buf_free(&w.slot[r]);
	}
	pthread_barrier_destroy(&w.bar);
	assert_non_null(rk[0].out);
	return rk[0].out;
}

/* ---- comparing partials ------------------------------------------------- */

static void same_acc(const struct acc *a, const struct acc *b)
{
#define SAME(m) assert_memory_equal(&a->m, &b->m, sizeof a->m);
	SAME(all) SAME(pop) SAME(mm) SAME(ltc) SAME(pm) SAME(pm_cost) SAME(set_people)
	SAME(age_cost) SAME(sumsq) SAME(as_cost) SAME(as_emerg) SAME(as_mm) SAME(as_sq)
	SAME(dep) SAME(nband) SAME(nprac) SAME(ncond) SAME(nyear) SAME(top)
#undef SAME
	for (int i = 0; i < a->nband; i++) {
		assert_string_equal(a->band[i], b->band[i]);
		assert_memory_equal(&a->bandg[i], &b->bandg[i], sizeof a->bandg[i]);
		assert_memory_equal(a->bcost[i], b->bcost[i], sizeof(int64_t) * (size_t)a->bandg[i].n);
	}
	for (size_t i = 0; i < a->nprac; i++) {
		const struct prac *p = &a->prac[i], *q = &b->prac[i];
		assert_string_equal(p->code, q->code);
		assert_int_equal(p->unknown, q->unknown);
		assert_memory_equal(&p->all, &q->all, sizeof p->all);
		assert_memory_equal(p->pop, q->pop, sizeof p->pop);
		assert_memory_equal(p->ltc, q->ltc, sizeof p->ltc);
		assert_memory_equal(p->band, q->band, sizeof p->band);
	}
	size_t nc = (size_t)a->ncond;
	assert_memory_equal(a->cond, b->cond, sizeof a->cond[0] * nc);
	if (nc) {
		assert_memory_equal(a->cagg, b->cagg, sizeof *a->cagg * nc);
		assert_memory_equal(a->pair, b->pair, sizeof *a->pair * 2 * nc * nc);
		assert_memory_equal(a->tri, b->tri, sizeof *a->tri * 2 * nc * nc * nc);
	}
	assert_memory_equal(a->year, b->year, sizeof a->year[0] * (size_t)a->nyear);
	assert_memory_equal(a->allc, b->allc, sizeof(int64_t) * (size_t)a->all.n);
}

static int64_t one_i64(sqlite3 *db, const char *sql, const char *fy, int64_t k)
{
	sqlite3_stmt *q = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	sqlite3_bind_text(q, 1, fy, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, k);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

/* The partial against SQL over the whole table: totals, the cost column,
 * and each top group as the first ceil(p n / 100) of ORDER BY cost DESC,
 * pseudo_id. */
static void check_sql(const char *path, const struct yoc_report_part *P)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	const struct acc *a = &P->a;
	const char *fy = P->fyear;
	assert_int_equal(a->all.n, one_i64(db, "SELECT count(*) FROM person_year WHERE fyear = ?1", fy, 0));
	assert_int_equal(a->all.cost, one_i64(db, "SELECT sum(cost_total) FROM person_year "
					      "WHERE fyear = ?1", fy, 0));
	assert_true(a->sumsq == one_i64(db, "SELECT sum(cost_total * cost_total) FROM person_year "
					"WHERE fyear = ?1", fy, 0));
	assert_int_equal(a->nyear, one_i64(db, "SELECT count(DISTINCT fyear) FROM person_year", fy, 0));
	assert_int_equal(a->ncond, 3);
	assert_int_equal(a->cagg[0].n, one_i64(db, "SELECT sum(diabetes) FROM person_year WHERE "
					       "fyear = ?1", fy, 0));
	assert_int_equal(a->tri[2 * (0 * 9 + 1 * 3 + 2)],
			 one_i64(db, "SELECT count(*) FROM person_year WHERE fyear = ?1 AND "
				 "diabetes AND copd AND asthma", fy, 0));
	int64_t unknown = 0;
	for (size_t i = 0; i < a->nprac; i++)
		if (a->prac[i].unknown)
			unknown += a->prac[i].all.n;
	assert_int_equal(unknown, one_i64(db, "SELECT count(*) FROM person_year WHERE fyear = ?1 "
					  "AND practice IS NULL", fy, 0));
	/* the cost column, ascending */
	sqlite3_stmt *q = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT cost_total FROM person_year WHERE fyear = ?1 "
					    "ORDER BY cost_total", -1, &q, NULL), SQLITE_OK);
	sqlite3_bind_text(q, 1, fy, -1, SQLITE_STATIC);
	for (int64_t i = 0; sqlite3_step(q) == SQLITE_ROW; i++)
		assert_int_equal(a->allc[i], sqlite3_column_int64(q, 0));
	sqlite3_finalize(q);
	for (int t = 0; t < NTOP; t++) {
		int64_t k = (yoc__top_pct[t] * a->all.n + 99) / 100;
		static const char *const sub = "FROM (SELECT * FROM person_year WHERE fyear = ?1 "
					       "ORDER BY cost_total DESC, pseudo_id LIMIT ?2)";
		char sql[400];
		snprintf(sql, sizeof sql, "SELECT count(*) %s", sub);
		assert_int_equal(a->top[t].n, one_i64(db, sql, fy, k));
		snprintf(sql, sizeof sql, "SELECT coalesce(sum(cost_total), 0) %s", sub);
		assert_int_equal(a->top[t].cost, one_i64(db, sql, fy, k));
		snprintf(sql, sizeof sql, "SELECT coalesce(sum(ltc_count), 0) %s", sub);
		assert_int_equal(a->top[t].ltc, one_i64(db, sql, fy, k));
		snprintf(sql, sizeof sql, "SELECT coalesce(sum(emergency_admissions > 0), 0) %s", sub);
		assert_int_equal(a->top[t].emerg, one_i64(db, sql, fy, k));
		static const char *const age[NBROAD] = {
			"coalesce(age, 0) < 18", "coalesce(age, 0) BETWEEN 18 AND 64",
			"coalesce(age, 0) BETWEEN 65 AND 74", "coalesce(age, 0) BETWEEN 75 AND 84",
			"coalesce(age, 0) >= 85"};
		for (int g = 0; g < NBROAD; g++) {
			snprintf(sql, sizeof sql, "SELECT coalesce(sum(%s), 0) %s", age[g], sub);
			assert_int_equal(a->top[t].age[g], one_i64(db, sql, fy, k));
		}
		for (int s = 0; s < NSET; s++) {
			snprintf(sql, sizeof sql, "SELECT coalesce(sum(%s != 0), 0) %s", yoc__set_col[s],
				 sub);
			assert_int_equal(a->top[t].used[s], one_i64(db, sql, fy, k));
		}
	}
	/* every year, in year order, against SQL's grouping */
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT fyear, count(*), sum(ltc_count > 0), "
					    "sum(ltc_count >= 2), sum(cost_total), sum(cost_gp) FROM "
					    "person_year GROUP BY fyear ORDER BY fyear", -1, &q, NULL),
			 SQLITE_OK);
	int ny = 0;
	for (; sqlite3_step(q) == SQLITE_ROW; ny++) {
		assert_true(ny < a->nyear);
		const struct ygrp *y = &a->year[ny];
		assert_string_equal(y->fyear, (const char *)sqlite3_column_text(q, 0));
		assert_int_equal(y->n, sqlite3_column_int64(q, 1));
		assert_int_equal(y->ltc1, sqlite3_column_int64(q, 2));
		assert_int_equal(y->ltc2, sqlite3_column_int64(q, 3));
		assert_int_equal(y->cost, sqlite3_column_int64(q, 4));
		assert_int_equal(y->set[7], sqlite3_column_int64(q, 5));
	}
	assert_int_equal(ny, a->nyear);
	sqlite3_finalize(q);
	sqlite3_close(db);
}

static void run_case(int k, int persons, int years)
{
	char paths[9][256];
	make_dbs(paths, k, persons, years);
	struct yoc_report_part *one = NULL;
	struct yoc_error e;
	yoc_error_clear(&e);
	assert_int_equal(yoc_report_part_make(paths[0], NULL, NULL, &one, NULL, &e), 0);
	check_sql(paths[0], one);
	struct yoc_report_part *many = sharded(paths, k);
	assert_string_equal(one->fyear, many->fyear);
	same_acc(&one->a, &many->a);
	assert_int_equal(strlen(many->state), 64);  /* the shards' state hash */
	assert_int_equal(strlen(one->state), 0);    /* one process: the manifest's own */
	yoc_report_part_free(one);
	yoc_report_part_free(many);
	for (int s = 0; s <= k; s++)
		unlink(paths[s]);
}

static void test_shards_equal_whole(void **state)
{
	(void)state;
	for (int k = 1; k <= 4; k++)
		run_case(k, 700, 3);
}

static void test_empty_shards(void **state)
{
	(void)state;
	run_case(6, 3, 1);   /* more ranks than persons: some shards hold nothing */
	run_case(5, 1, 2);
}

/* A cut inside a run of equal costs: 100 people of one cost. */
static void test_all_tied(void **state)
{
	(void)state;
	char paths[5][256];
	make_dbs(paths, 3, 100, 1);
	for (int s = 0; s <= 3; s++) {
		sqlite3 *db = NULL;
		assert_int_equal(sqlite3_open(paths[s], &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "UPDATE person_year SET cost_total = 777", NULL, NULL,
					      NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	struct yoc_report_part *one = NULL;
	struct yoc_error e;
	yoc_error_clear(&e);
	assert_int_equal(yoc_report_part_make(paths[0], NULL, NULL, &one, NULL, &e), 0);
	int64_t v[NTOP], m[NTOP], ties[NTOP];
	yoc__part_top_cut(&one->a, v, m, ties);
	assert_int_equal(v[0], 777);
	assert_int_equal(m[0], 1);     /* ceil(1% of 100) */
	assert_int_equal(ties[0], 100);
	assert_int_equal(m[4], 100);   /* everyone: the whole run */
	check_sql(paths[0], one);
	struct yoc_report_part *many = sharded(paths, 3);
	same_acc(&one->a, &many->a);
	yoc_report_part_free(one);
	yoc_report_part_free(many);
	for (int s = 0; s <= 3; s++)
		unlink(paths[s]);
}

static void test_pack_roundtrip(void **state)
{
	(void)state;
	char paths[3][256];
	make_dbs(paths, 2, 50, 2);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(paths[0], &db), SQLITE_OK);
	struct acc a, b;
	struct yoc_error e;
	yoc_error_clear(&e);
	assert_int_equal(yoc__part_scan(db, "2021/22", &a, &e), 0);
	assert_int_equal(a.all.n, 50);
	struct yoc_buf buf;
	yoc_buf_init(&buf, 0);
	assert_int_equal(yoc__part_pack(&a, &buf), 0);
	assert_int_equal(yoc__part_unpack(buf.data, buf.len, &b, &e), 0);
	assert_int_equal(yoc__part_finish(&a, &e), 0);
	assert_int_equal(yoc__part_finish(&b, &e), 0);
	same_acc(&a, &b);
	yoc__acc_free(&b);
	/* cut short anywhere, or one byte too many: refused, never read past */
	for (size_t n = 0; n < buf.len; n += 1 + n / 7) {
		assert_int_not_equal(yoc__part_unpack(buf.data, n, &b, &e), 0);
		yoc__acc_free(&b);
	}
	yoc_buf_putc(&buf, 0);
	assert_int_not_equal(yoc__part_unpack(buf.data, buf.len, &b, &e), 0);
	yoc__acc_free(&b);
	/* merged into an empty partial: the same */
	memset(&b, 0, sizeof b);
	assert_int_equal(yoc_map_init(&b.pmap, 16), 0);
	struct acc c;
	buf.len--;
	assert_int_equal(yoc__part_unpack(buf.data, buf.len, &c, &e), 0);
	assert_int_equal(yoc__part_merge(&b, &c, &e), 0);
	assert_int_equal(yoc__part_finish(&b, &e), 0);
	same_acc(&a, &b);
	yoc__acc_free(&a);
	yoc__acc_free(&b);
	yoc__acc_free(&c);
	yoc_buf_free(&buf);
	sqlite3_close(db);
	for (int s = 0; s <= 2; s++)
		unlink(paths[s]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack_roundtrip),
		cmocka_unit_test(test_shards_equal_whole),
		cmocka_unit_test(test_empty_shards),
		cmocka_unit_test(test_all_tied),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

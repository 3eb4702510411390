/*
** Benchmark of the simulation engine (bench/simulate.sh): builds an
** in-memory person_year of N persons over three years with a risk_score
** for the base year (random activity, deaths and moves: only the shape of
** the data matters here), then times yoc_sim_data_load and yoc_sim_run of
** the shipped top-2% scenario: N persons x 3 years x RUNS runs on THREADS
** threads (0: one per core).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/sim.h"
#include "yoc/io.h"

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t lcg = 42;
static double rnd(void)
{
	lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(lcg >> 11) / 9007199254740992.0;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: sim_bench PERSONS RUNS THREADS SCENARIO\n");
		return 2;
	}
	long n = strtol(argv[1], NULL, 10), runs = strtol(argv[2], NULL, 10);
	int threads = (int)strtol(argv[3], NULL, 10);
	sqlite3 *db;
	sqlite3_open(":memory:", &db);
	sqlite3_exec(db,
		     "CREATE TABLE person_year(pseudo_id TEXT, fyear TEXT, age INTEGER, sex TEXT,"
		     " ltc_count INTEGER, died INTEGER, cost_total INTEGER, cost_elective INTEGER,"
		     " cost_emergency INTEGER, cost_other_nonelective INTEGER, cost_daycase INTEGER,"
		     " cost_outpatient INTEGER, cost_ae INTEGER, cost_community INTEGER, cost_mh INTEGER,"
		     " cost_gp INTEGER, cost_social_care INTEGER, cost_ambulance INTEGER,"
		     " emergency_admissions INTEGER, emergency_bed_days INTEGER, mh_bed_days INTEGER);"
		     "CREATE TABLE risk_score(pseudo_id TEXT, fyear TEXT, rank INTEGER);",
		     NULL, NULL, NULL);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "INSERT INTO person_year VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,"
			       "?12,?13,?14,?15,?16,?17,?18,?19,?20,?21)", -1, &st, NULL);
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	const char *fy[3] = {"2021/22", "2022/23", "2023/24"};
	double t0 = yoc_now();
	for (long i = 0; i < n; i++) {
		char pid[72]; /* 64 hex digits, as the pseudonyms */
		snprintf(pid, sizeof pid, "%064lx", (unsigned long)i * 2654435761UL);
		int age = (int)(rnd() * 95), ltc = (int)(rnd() * rnd() * 8);
		double frail = rnd() * rnd() * (1 + ltc);
		for (int y = 0; y < 3; y++) {
			if (y > 0 && rnd() < 0.03)
				break;
			int died = rnd() < 0.005 * (1 + ltc);
			int64_t c[11], tot = 0;
			for (int k = 0; k < 11; k++) {
				c[k] = rnd() < 0.2 + 0.1 * frail ? (int64_t)(rnd() * 40000 * (1 + frail)) : 0;
				tot += c[k];
			}
			sqlite3_bind_text(st, 1, pid, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 2, fy[y], -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 3, age + y);
			sqlite3_bind_text(st, 4, i % 2 ? "1" : "2", -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 5, ltc);
			sqlite3_bind_int(st, 6, died);
			sqlite3_bind_int64(st, 7, tot);
			for (int k = 0; k < 11; k++)
				sqlite3_bind_int64(st, 8 + k, c[k]);
			sqlite3_bind_int(st, 19, c[1] > 0);
			sqlite3_bind_int(st, 20, c[1] > 0 ? (int)(rnd() * 10) : 0);
			sqlite3_bind_int(st, 21, 0);
			sqlite3_step(st);
			sqlite3_reset(st);
			if (died)
				break;
		}
	}
	sqlite3_finalize(st);
	sqlite3_exec(db, "INSERT INTO risk_score SELECT pseudo_id, fyear, row_number() OVER"
			 " (ORDER BY cost_total DESC, pseudo_id) FROM person_year WHERE fyear = '2023/24';"
			 "COMMIT", NULL, NULL, NULL);
	double t1 = yoc_now();
	struct yoc_error e;
	yoc_error_clear(&e);
	struct yoc_scenario s;
	struct yoc_sim_data d;
	struct yoc_sim_result r;
	const double cuts[4] = {0.5, 2, 5, 10};
	if (yoc_scenario_read(argv[4], &s, &e) || yoc_sim_data_load(db, 0, cuts, 4, NULL, &d, &e)) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	double t2 = yoc_now(), c2 = cpu_now();
	struct yoc_sim_opts o = {3, (int)runs, 1, threads};
	if (yoc_sim_run(&d, &s, &o, &r, &e)) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	double t3 = yoc_now(), c3 = cpu_now();
	printf("sim_bench: %zu persons x 3 years x %ld runs (%d threads; 0 = one per core): "
	       "data %.1f s, learn %.2f s, runs %.2f s wall, %.2f s CPU (%.0f ns CPU a person-year-run)\n",
	       d.n, runs, threads, t1 - t0, t2 - t1, t3 - t2, c3 - c2,
	       1e9 * (c3 - c2) / ((double)d.n * 3 * (double)runs));
	yoc_sim_result_free(&r);
	yoc_sim_data_free(&d);
	yoc_scenario_free(&s);
	sqlite3_close(db);
	return 0;
}

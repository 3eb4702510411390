/*
** bench/serve.sh's timer: loads a dataset into the selection engine once
** (yoc_sel_load, as yoc serve does at start) and answers each query of a
** file (one JSON request a line) REPEAT times through yoc_sel_query, the
** whole server-side work of POST /api/select but the HTTP and the access
** log. Four passes: with the answer cache off (every answer computed: the
** filters, the sums, the disclosure control and the JSON), the same with
** every sum on one thread (a large group is otherwise summed on two), the
** same without the pre-summed blocks (every row of the group, or of the
** rest, summed one by one, as before the blocks), then the cache on (the
** first answer of each query computed, the others from the cache). Prints
** the load time, then per query and overall p50/p95/p99 in milliseconds,
** and the same percentiles of each answer's CPU time (all threads), and
** the process's CPU time.
**
** Usage: serve_bench DIR QUERIES REPEAT
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "server/server.h"
#include "server/srv_int.h"

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* CPU time of the process (every thread: large groups are summed on two) */
static double proc_cpu_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double cpu_s(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void pct(const char *what, double *lat, int n)
{
	qsort(lat, (size_t)n, sizeof *lat, cmp);
	printf("%s answers %d p50_ms %.2f p95_ms %.2f p99_ms %.2f\n", what, n, lat[n / 2],
	       lat[(int)(n * 0.95)], lat[(int)(n * 0.99)]);
}

/* a query's wall and CPU percentiles on one line */
static void pct2(const char *what, double *lat, double *cpu, int n)
{
	qsort(lat, (size_t)n, sizeof *lat, cmp);
	qsort(cpu, (size_t)n, sizeof *cpu, cmp);
	printf("%s answers %d p50_ms %.2f p95_ms %.2f p99_ms %.2f cpu_p50_ms %.2f cpu_p95_ms %.2f\n",
	       what, n, lat[n / 2], lat[(int)(n * 0.95)], lat[(int)(n * 0.99)], cpu[n / 2],
	       cpu[(int)(n * 0.95)]);
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	struct yoc_error e;
	yoc_sel *s = NULL;
	double t0 = now_ms(), c0 = cpu_s();
	if (yoc_sel_load(argv[1], NULL, &s, &e)) {
		fprintf(stderr, "load: %s\n", e.msg);
		return 1;
	}
	printf("load_ms %.0f cpu_s %.1f rows %zu\n", now_ms() - t0, cpu_s() - c0, yoc_sel_rows(s));
	FILE *f = fopen(argv[2], "r");
	if (!f)
		return 1;
	char line[4096];
	char *q[64];
	int nq = 0;
	while (nq < 64 && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		if (*line)
			q[nq++] = strdup(line);
	}
	fclose(f);
	int rep = (int)strtol(argv[3], NULL, 10);
	if (rep < 1 || nq == 0)
		return 2;
	double *lat = malloc(sizeof(double) * (size_t)(nq * rep));
	double *one = malloc(sizeof(double) * (size_t)rep);
	double *onec = malloc(sizeof(double) * (size_t)rep);
	double *cpu = malloc(sizeof(double) * (size_t)(nq * rep));
	struct yoc_buf out;
	yoc_buf_init(&out, 1 << 24);
	size_t par = s->parallel_rows;
	for (int pass = 0; pass < 4; pass++) {
		/* uncached as served; on one thread; without blocks; cached */
		int cached = pass == 3;
		const char *mode = pass == 0 ? "uncached" : pass == 1 ? "uncached_1thread" :
				   pass == 2 ? "uncached_noblocks" : "cached";
		yoc__sel_cache_enable(s, cached);
		s->parallel_rows = pass == 1 ? (size_t)-1 : par;
		s->blocks_off = pass == 2;
		int nl = 0;
		double c1 = cpu_s(), t1 = now_ms();
		for (int i = 0; i < nq; i++) {
			for (int r = 0; r < rep; r++) {
				yoc_buf_reset(&out);
				double a = now_ms(), ca = proc_cpu_ms();
				if (yoc_sel_query(s, q[i], strlen(q[i]), YOC_ROLE_ANALYST, NULL, &out, NULL,
						  &e)) {
					fprintf(stderr, "query %d: %s\n", i, e.msg);
					return 1;
				}
				one[r] = lat[nl] = now_ms() - a;
				onec[r] = cpu[nl++] = proc_cpu_ms() - ca;
				if (r == 0 && pass == 0) {
					const char *c = strstr(out.data, "\"count\":");
					printf("query %d count %.*s: %s\n", i + 1,
					       c ? (int)strcspn(c + 8, ",") : 1, c ? c + 8 : "?", q[i]);
				}
			}
			char what[64];
			snprintf(what, sizeof what, "%s query %d", mode, i + 1);
			pct2(what, one, onec, rep);
		}
		printf("%s all wall_s %.2f cpu_s %.2f\n", mode, (now_ms() - t1) / 1e3, cpu_s() - c1);
		char what[64];
		snprintf(what, sizeof what, "%s all", mode);
		pct(what, lat, nl);
		/* CPU time of each answer: a loaded machine's waiting left out */
		snprintf(what, sizeof what, "%s all cpu", mode);
		pct(what, cpu, nl);
	}
	yoc_buf_free(&out);
	yoc_sel_free(s);
	return 0;
}

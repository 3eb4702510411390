/*
** bench/serve.sh's timer: loads a dataset into the selection engine once
** (yoc_sel_load, as yoc serve does at start) and answers each query of a
** file (one JSON request a line) REPEAT times through yoc_sel_query, the
** whole server-side work of POST /api/select but the HTTP and the access
** log. Prints the load time, then p50/p95/p99 of all answers and each
** query's count, in milliseconds.
**
** Usage: serve_bench DIR QUERIES REPEAT
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/server.h"

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	struct yoc_error e;
	yoc_sel *s = NULL;
	double t0 = now_ms();
	if (yoc_sel_load(argv[1], NULL, &s, &e)) {
		fprintf(stderr, "load: %s\n", e.msg);
		return 1;
	}
	printf("load_ms %.0f rows %zu\n", now_ms() - t0, yoc_sel_rows(s));
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
	int rep = atoi(argv[3]);
	double *lat = malloc(sizeof(double) * (size_t)(nq * rep));
	int nl = 0;
	struct yoc_buf out;
	yoc_buf_init(&out, 1 << 24);
	for (int r = 0; r < rep; r++)
		for (int i = 0; i < nq; i++) {
			yoc_buf_reset(&out);
			double a = now_ms();
			if (yoc_sel_query(s, q[i], strlen(q[i]), YOC_ROLE_ANALYST, NULL, &out, NULL, &e)) {
				fprintf(stderr, "query %d: %s\n", i, e.msg);
				return 1;
			}
			lat[nl++] = now_ms() - a;
			if (r == 0) {
				const char *c = strstr(out.data, "\"count\":");
				printf("query %d count %.*s: %s\n", i + 1, c ? (int)strcspn(c + 8, ",") : 1,
				       c ? c + 8 : "?", q[i]);
			}
		}
	qsort(lat, (size_t)nl, sizeof *lat, cmp);
	printf("answers %d p50_ms %.2f p95_ms %.2f p99_ms %.2f\n", nl, lat[nl / 2],
	       lat[(int)(nl * 0.95)], lat[(int)(nl * 0.99)]);
	yoc_buf_free(&out);
	yoc_sel_free(s);
	return 0;
}

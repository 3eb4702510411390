/*
** libFuzzer target for the budget module's two input files: a tariff
** category file (yoc_budget_cats_parse) when the first byte is even, a
** service map (yoc_smap_parse) when it is odd; the rest of the input is the
** file. Checked: nothing crashes or leaks; a refused file gives an error
** with a line inside the file and leaves no object; an accepted category
** file has categories whose parents are categories (no loops), an accepted
** map decides every setting on a few dates without contradicting itself
** (yoc_smap_settings agrees with yoc_smap_decide).
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget/budget.h"
#include "yoc/date.h"

#define CHECK(x) do { if (!(x)) { \
	fprintf(stderr, "fuzz_budget: check failed: %s (line %d)\n", #x, __LINE__); \
	abort(); } } while (0)

static long lines_of(const char *p, size_t n)
{
	long k = 1;
	for (size_t i = 0; i < n; i++)
		k += p[i] == '\n';
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	const char *text = (const char *)data + 1;
	size_t n = size - 1;
	struct yoc_error e;
	yoc_error_clear(&e);
	if ((data[0] & 1) == 0) {
		yoc_budget_cats *c = NULL;
		int rc = yoc_budget_cats_parse(text, n, "fuzz", &c, &e);
		if (rc) {
			CHECK(c == NULL);
			CHECK(e.line >= 1 && e.line <= lines_of(text, n));
			return 0;
		}
		size_t k = yoc_budget_cats_count(c);
		CHECK(k >= 1);
		for (size_t i = 0; i < k; i++) {
			int p = yoc_budget_cats_parent(c, i), steps = 0;
			while (p >= 0 && steps++ <= (int)k)
				p = yoc_budget_cats_parent(c, (size_t)p);
			CHECK(p < 0);
			CHECK(yoc_budget_cats_find(c, yoc_budget_cats_name(c, i)) == (int)i);
		}
		yoc_budget_cats_free(c);
		return 0;
	}
	yoc_smap *m = NULL;
	int rc = yoc_smap_parse(text, n, "fuzz", &m, &e);
	if (rc) {
		CHECK(m == NULL);
		return 0;
	}
	static const int32_t days[] = {0, 18000, 19448, 20000, 30000};
	for (size_t d = 0; d < sizeof days / sizeof days[0]; d++) {
		int in[YOC_BSET_COUNT], part[YOC_BSET_COUNT];
		yoc_smap_settings(m, days[d], in, part);
		for (int s = 0; s < YOC_BSET_COUNT; s++) {
			long line;
			CHECK(yoc_smap_decide(m, s, "", "", "", days[d], &line) == in[s]);
			CHECK(line >= -1 && line < (long)yoc_smap_count(m));
		}
	}
	yoc_smap_free(m);
	return 0;
}

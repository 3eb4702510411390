/*
** src/shard without MPI: the shard of a pseudonym (FNV-1a 64 test vectors),
** and the routing of a sharded load: a file cut into K parts and each part
** rebuilt must keep every line where it was (rows of other shards as empty
** lines) with LF, CRLF and lone CR line ends, a quoted cell across lines,
** rows without a pseudonym on the reader's shard, and files that go whole
** (not a feed) or refused (identifiers in the values) to every shard.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "shard/shard.h"

#define P(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
	     c c c c c c c c c c c c c c c c c c c c c c c c

static void test_hash(void **state)
{
	(void)state;
	/* the published FNV-1a 64 vectors */
	assert_true(yoc_shard_hash("", 0) == 0xcbf29ce484222325ULL);
	assert_true(yoc_shard_hash("a", 1) == 0xaf63dc4c8601ec8cULL);
	assert_true(yoc_shard_hash("foobar", 6) == 0x85944171f73967e8ULL);
	assert_int_equal(yoc_shard_of("a", 1, 1), 0);
	assert_int_equal(yoc_shard_of("a", 1, 3), (int)(0xaf63dc4c8601ec8cULL % 3));
}

/* The lines of text split at LF, CRLF or a lone CR, without their ends. */
static size_t lines(const char *p, size_t n, const char **at, size_t *len, size_t cap)
{
	size_t k = 0, s = 0;
	for (size_t i = 0; i <= n && k < cap; i++) {
		if (i < n && p[i] != '\n' && p[i] != '\r')
			continue;
		at[k] = p + s;
		len[k++] = i - s;
		if (i < n && p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
			i++;
		s = i + 1;
	}
	return k;
}

/* Splits data into k parts (reader rank self) and checks each rebuilt file. */
static void roundtrip(const char *name, const char *data, int k, int self)
{
	struct yoc_buf part[4], file[4];
	struct yoc_error e;
	struct yoc_shard_split_stats st = {0, 0};
	size_t n = strlen(data);
	yoc_error_clear(&e);
	for (int s = 0; s < k; s++) {
		yoc_buf_init(&part[s], 0);
		yoc_buf_init(&file[s], 0);
	}
	assert_int_equal(yoc_shard_split(name, data, n, 7, -1, NULL, 0, k, self, part, &st, &e), 0);
	const char *ol[64], *pl[64];
	size_t on[64], pn[64];
	size_t no = lines(data, n, ol, on, 64);
	size_t seen[64] = {0};
	for (int s = 0; s < k; s++) {
		struct yoc_shard_part pt;
		size_t pos = 0;
		assert_int_equal(yoc_shard_join(part[s].data, part[s].len, &pos, &pt, &file[s], &e), 0);
		assert_int_equal(pos, part[s].len);
		assert_int_equal(pt.index, 7);
		assert_false(pt.whole);
		assert_false(pt.refused);
		assert_int_equal(pt.bytes, n);
		size_t np = lines(file[s].data, file[s].len, pl, pn, 64);
		assert_true(np <= no);
		/* the header in every part; every other line its own or empty */
		assert_int_equal(pn[0], on[0]);
		for (size_t i = 1; i < np; i++) {
			if (!pn[i])
				continue;
			assert_int_equal(pn[i], on[i]);
			assert_memory_equal(pl[i], ol[i], on[i]);
			seen[i]++;
		}
		/* the rows of a part are its shard's; rows without a pseudonym or
		 * of the wrong width (ragged: the reader's) are checked below */
		for (size_t i = 1; i < np; i++) {
			size_t commas = 0;
			for (size_t j = 0; j < pn[i]; j++)
				commas += pl[i][j] == ',';
			if (!pn[i] || pn[i] < 64 || pl[i][64] != ',' || commas != 5)
				continue;
			int want = yoc_shard_of(pl[i], 64, k);
			assert_int_equal(s, want);
		}
	}
	for (size_t i = 1; i < no; i++)
		if (on[i])
			assert_int_equal(seen[i], 1); /* each line in exactly one part */
	/* the row without a pseudonym and the ragged one: on the reader's shard */
	const char *marks[] = {",missing,", P("5")};
	for (size_t m = 0; m < 2; m++) {
		const char *miss = strstr(data, marks[m]);
		if (!miss)
			continue;
		size_t line = 0;
		for (const char *p = data; p < miss; p++)
			if (*p == '\n' || (*p == '\r' && p[1] != '\n'))
				line++;
		const char *a[64];
		size_t l[64];
		size_t np = lines(file[self].data, file[self].len, a, l, 64);
		assert_true(line < np);
		assert_true(l[line] > 0);
	}
	for (int s = 0; s < k; s++) {
		yoc_buf_free(&part[s]);
		yoc_buf_free(&file[s]);
	}
}

static char *with_eol(const char *lf, const char *eol)
{
	static char buf[8192];
	size_t n = 0;
	for (const char *p = lf; *p && n + 3 < sizeof buf; p++) {
		if (*p == '\n') {
			memcpy(buf + n, eol, strlen(eol));
			n += strlen(eol);
		} else {
			buf[n++] = *p;
		}
	}
	buf[n] = 0;
	return buf;
}

static const char apc[] =
	"PSEUDO_ID,NHSNO_STATUS,EPISTART,ADMIMETH,EPIORDER,COST\n"
	P("1") ",valid,2023-01-05,21,1,1234.50\n"
	P("2") ",valid,2023-01-05,21,1,1\n"
	"\n"
	P("3") ",valid,2023-01-06,11,1,10\n"
	",missing,2023-01-06,11,1,10\n"
	P("4") ",valid,\"2023-\n01-07\",21,1,1\n"
	P("1") ",valid,2023-02-05,21,1,2\n"
	P("5") ",valid,2023-02-05,21,1\n"
	P("6") ",valid,2023-02-06,21,1,3\n";

static void test_split_join(void **state)
{
	(void)state;
	const char *eols[] = {"\n", "\r\n", "\r"};
	for (int k = 1; k <= 4; k++)
		for (int self = 0; self < k; self++)
			for (size_t i = 0; i < 3; i++)
				roundtrip("RA1_2023-01.csv", with_eol(apc, eols[i]), k, self);
	/* no final line end */
	char nofinal[sizeof apc];
	memcpy(nofinal, apc, sizeof apc);
	nofinal[strlen(nofinal) - 1] = 0;
	roundtrip("RA1_2023-01.csv", nofinal, 3, 1);
}

static void test_whole_and_refused(void **state)
{
	(void)state;
	struct yoc_buf part[2], file;
	struct yoc_error e;
	struct yoc_shard_split_stats st = {0, 0};
	struct yoc_shard_part pt;
	yoc_error_clear(&e);
	yoc_buf_init(&file, 0);
	/* not a feed: the whole file to every shard */
	const char notfeed[] = "not,a,feed\n1,2,3\n";
	for (int s = 0; s < 2; s++)
		yoc_buf_init(&part[s], 0);
	assert_int_equal(yoc_shard_split("notes.csv", notfeed, strlen(notfeed), 1, -1, NULL, 0, 2, 0,
					 part, &st, &e), 0);
	for (int s = 0; s < 2; s++) {
		size_t pos = 0;
		assert_int_equal(yoc_shard_join(part[s].data, part[s].len, &pos, &pt, &file, &e), 0);
		assert_true(pt.whole);
		assert_int_equal(file.len, strlen(notfeed));
		assert_memory_equal(file.data, notfeed, file.len);
		yoc_buf_reset(&part[s]);
	}
	/* NHS numbers in a column: refused for every shard, with why */
	char ids[2048];
	size_t n = (size_t)snprintf(ids, sizeof ids, "PSEUDO_ID,APPTDATE,ATTENDED,ATTENDKEY\n");
	for (int i = 1; i <= 6; i++)
		n += (size_t)snprintf(ids + n, sizeof ids - n, "%064d,2023-01-0%d,5,9434765919\n", i, i);
	assert_int_equal(yoc_shard_split("OPP_2023-01.csv", ids, n, 2, -1, NULL, 0, 2, 1, part, &st,
					 &e), 0);
	for (int s = 0; s < 2; s++) {
		size_t pos = 0;
		assert_int_equal(yoc_shard_join(part[s].data, part[s].len, &pos, &pt, &file, &e), 0);
		assert_true(pt.refused);
		assert_int_equal(pt.rows, 6);
		assert_non_null(strstr(pt.why, "NHS numbers"));
		/* a message cut short is broken, never read past its end */
		pos = 0;
		assert_int_equal(yoc_shard_join(part[s].data, part[s].len - 3, &pos, &pt, &file, &e),
				 YOC_EDATA);
		yoc_buf_free(&part[s]);
	}
	yoc_buf_free(&file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_split_join),
		cmocka_unit_test(test_whole_and_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

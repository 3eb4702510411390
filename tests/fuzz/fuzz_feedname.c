/*
** libFuzzer target for feed file names (yoc_feedname_parse and the two
** validators, src/load/feedname.c). The input is the path to parse.
**
** Checked: nothing crashes; every output string is NUL-terminated inside its
** array; an accepted name gives a provider and a period that pass their
** validators, a version from 1 to 999, and the canonical name built from
** them parses back to the same three; a refused name leaves the output
** zeroed and a message with no control byte (a name cannot forge a line of
** output). A failed check aborts, which libFuzzer (or the replay) reports.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load/feedname.h"

#define CHECK(x) do { if (!(x)) { \
	fprintf(stderr, "fuzz_feedname: check failed: %s (line %d)\n", #x, __LINE__); \
	abort(); } } while (0)

static int terminated(const char *s, size_t cap)
{
	return memchr(s, 0, cap) != NULL;
}

static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || (unsigned char)*s > '~')
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[4097];
	size_t n = size < sizeof path - 1 ? size : sizeof path - 1;
	memcpy(path, data, n);
	path[n] = 0;
	struct yoc_feedname f;
	struct yoc_error e;
	yoc_error_clear(&e);
	memset(&f, 0x5a, sizeof f);
	int rc = yoc_feedname_parse(path, &f, &e);
	CHECK(rc == 0 || rc == YOC_EPARSE);
	CHECK(terminated(e.msg, sizeof e.msg) && terminated(e.file, sizeof e.file));
	if (rc == 0) {
		CHECK(terminated(f.provider, sizeof f.provider));
		CHECK(terminated(f.period, sizeof f.period));
		CHECK(yoc_feedname_provider_ok(f.provider, strlen(f.provider)));
		CHECK(yoc_feedname_period_ok(f.period, strlen(f.period)));
		CHECK(strlen(f.period) == 7);
		CHECK(f.version >= 1 && f.version <= YOC_FEEDNAME_VERSION_MAX);
		/* the parts come from the base name as written */
		const char *b = strrchr(path, '/');
		b = b ? b + 1 : path;
		CHECK(strncmp(b, f.provider, strlen(f.provider)) == 0);
		CHECK(strstr(b, f.period) != NULL);
		char again[64], ver[16] = "";
		if (f.version > 1)
			snprintf(ver, sizeof ver, "_v%d", f.version);
		snprintf(again, sizeof again, "%s_%s%s.csv", f.provider, f.period, ver);
		struct yoc_feedname g;
		CHECK(yoc_feedname_parse(again, &g, NULL) == 0);
		CHECK(strcmp(g.provider, f.provider) == 0 && strcmp(g.period, f.period) == 0 &&
		      g.version == f.version);
	} else {
		CHECK(e.code == YOC_EPARSE && e.msg[0]);
		CHECK(printable(e.msg) && printable(e.file));
		CHECK(f.provider[0] == 0 && f.period[0] == 0 && f.version == 0);
	}
	/* the validators on the raw bytes agree with the parser */
	const char *s = (const char *)data;
	if (size <= 64 && !memchr(s, 0, size)) {
		char name[128];
		struct yoc_feedname g;
		if (yoc_feedname_provider_ok(s, size)) {
			snprintf(name, sizeof name, "%.*s_2023-05.csv", (int)size, s);
			CHECK(yoc_feedname_parse(name, &g, NULL) == 0);
		}
		if (yoc_feedname_period_ok(s, size)) {
			snprintf(name, sizeof name, "RA1_%.*s.csv", (int)size, s);
			CHECK(yoc_feedname_parse(name, &g, NULL) == 0);
			CHECK(size == 7);
		}
	}
	return 0;
}

/*
** libFuzzer target for the pilot file of yoc synth --pilot
** (yoc_synth_pilot_parse, src/synth/synth_pilot.c): key = value lines a user
** writes, so outside input.
**
** Checked: nothing crashes or leaks; an accepted pilot has a start, at most
** YOC_PILOT_MAXPRAC practice codes of at most 7 characters, uptake in [0, 1],
** emergency and A&E multipliers in [0, 1] and the others in [0, 20]; a
** refused one has a message. A failed check aborts.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth/synth.h"

#define CHECK(x) do { if (!(x)) { \
	fprintf(stderr, "fuzz_pilot: check failed: %s (line %d)\n", #x, __LINE__); \
	abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct yoc_synth_pilot p;
	struct yoc_error e;
	yoc_error_clear(&e);
	int rc = yoc_synth_pilot_parse((const char *)data, size, "fuzz.txt", &p, &e);
	if (rc) {
		CHECK(rc == YOC_EPARSE);
		CHECK(e.msg[0] && memchr(e.msg, 0, sizeof e.msg));
		return 0;
	}
	CHECK(p.npractices >= 0 && p.npractices <= YOC_PILOT_MAXPRAC);
	for (int i = 0; i < p.npractices; i++)
		CHECK(strlen(p.practices[i]) >= 1 && strlen(p.practices[i]) <= 7);
	CHECK(p.uptake >= 0 && p.uptake <= 1);
	CHECK(p.m_emergency >= 0 && p.m_emergency <= 1 && p.m_ae >= 0 && p.m_ae <= 1);
	CHECK(p.m_community >= 0 && p.m_community <= 20 && p.m_gp >= 0 && p.m_gp <= 20);
	CHECK(p.service_pence >= 0);
	return 0;
}

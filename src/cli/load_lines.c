/*
** The lines a load prints per file, shared by `yoc load` and its sharded
** form under MPI (cmd_mpi.c), so both print the same: the file's line on
** stdout and one line per quarantine reason on stderr. Paths and messages
** are escaped: a byte outside printable ASCII (a newline in a file name) is
** written \xNN, so a name cannot forge a line of the output.
*/
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "load/load.h"
#include "spec/spec.h"

/* Runs of printable bytes in one call: stderr is unbuffered, a call per byte is a write per byte. */
void cli_put_escaped(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;
	for (;; p++) {
		if (*p >= ' ' && *p != 0x7f)
			continue;
		if (p > run)
			fwrite(run, 1, (size_t)(p - run), f);
		if (!*p)
			break;
		fprintf(f, "\\x%02x", *p);
		run = p + 1;
	}
}

int cli_load_wanted(const char *p)
{
	size_t n = strlen(p);
	return n > 4 && (strcmp(p + n - 4, ".csv") == 0 || strcmp(p + n - 4, ".txt") == 0);
}

void cli_load_line(const struct yoc_load_result *r)
{
	cli_put_escaped(stdout, r->file);
	if (r->status == YOC_LOAD_REJECTED) {
		fputs(": rejected: ", stdout);
		cli_put_escaped(stdout, r->message);
		fputc('\n', stdout);
		return;
	}
	printf(": %s %s %s: %lld rows, %lld loaded, %lld quarantined [%s]",
	       yoc_spec_kind_name(r->kind), r->provider, r->period, (long long)r->rows,
	       (long long)r->loaded, (long long)r->quarantined, yoc_load_status_str(r->status));
	if (r->ndropped)
		printf("; %zu column%s not loaded: %s", r->ndropped, r->ndropped == 1 ? "" : "s",
		       r->dropped);
	putchar('\n');
}

void cli_load_reasons(const struct yoc_load_result *r)
{
	for (size_t i = 0; i < r->nreasons; i++) {
		const char *f = r->reasons[i].field;
		if (!r->reasons[i].line)
			continue; /* an unchanged file: counted when it was loaded */
		fputs("yoc load: ", stderr);
		cli_put_escaped(stderr, r->file);
		fprintf(stderr, ": %lld row%s quarantined: %s%s", (long long)r->reasons[i].rows,
			r->reasons[i].rows == 1 ? "" : "s", r->reasons[i].code, *f ? " in " : "");
		cli_put_escaped(stderr, f);
		fputs(" (first at ", stderr);
		cli_put_escaped(stderr, r->file);
		fprintf(stderr, ":%ld", r->reasons[i].line);
		if (r->reasons[i].col)
			fprintf(stderr, ":%ld", r->reasons[i].col);
		fputs(")\n", stderr);
	}
}

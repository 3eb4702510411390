/*
** yoc upgrade: rewrites a dataset's segments in the current format
** (docs/store.md, "Upgrading"). The work is yoc_store_upgrade's; this file
** parses options, shows progress and prints the summary.
*/
#include <stdio.h>

#include "cli/cli.h"
#include "store/store.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc upgrade --db DIR\n\n"
	"Rewrites every segment of the dataset written in format 1 or 2 (by yoc\n"
	"before segment format 3) in format 3: dictionaries, packed numbers and\n"
	"zstd blocks, and each pseudonym stored once for the whole dataset in\n"
	"DIR/pseudonyms.pool. New files are written and synced, the catalog\n"
	"switched to them in one transaction, the old files removed\n"
	"after it. A person table of before (a rowid table with an index on the\n"
	"pseudonym) is rewritten keyed by pseudonym in the same transaction and\n"
	"the catalog vacuumed. Killed at any point, the dataset opens and answers\n"
	"the same,\n"
	"and running it again finishes the job. Readers need no upgrade: formats 1\n"
	"and 2 are still read. Takes the dataset's write lock, like yoc load.\n";

static void on_progress(void *ctx, size_t done, size_t total)
{
	struct yoc_progress *p = ctx;
	p->total = total;
	yoc_progress_update(p, done);
}

static int run(int argc, char **argv)
{
	struct cli_opt opts[] = {{"db", 1, NULL}, {NULL, 0, NULL}};
	int npos;
	if (cli_parse("upgrade", argc, argv, opts, &npos))
		return 2;
	const char *db = cli_get(opts, "db");
	if (!db || npos) {
		cli_err("upgrade", "give --db DIR; see 'yoc help upgrade'");
		return 2;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_store *s = NULL;
	if (yoc_store_open(&s, db, YOC_STORE_WRITE, &e)) {
		cli_err_rec("upgrade", &e);
		return 1;
	}
	struct yoc_progress prog;
	yoc_progress_start(&prog, "upgrade", 0);
	prog.unit = "segments";
	struct yoc_store_upgrade u;
	int rc = yoc_store_upgrade(s, &u, on_progress, &prog, &e);
	yoc_progress_end(&prog);
	yoc_store_close(s);
	if (rc) {
		cli_err_rec("upgrade", &e);
		return 1;
	}
	if (u.rewritten)
		printf("upgrade: %zu segment%s rewritten in format 3 (%.1f MB -> %.1f MB),"
		       " %zu already format 3\n", u.rewritten, u.rewritten == 1 ? "" : "s",
		       (double)u.bytes_before / 1e6, (double)u.bytes_after / 1e6, u.current);
	else if (!u.person_rewritten)
		printf("upgrade: nothing to do, all %zu segments are format 3\n", u.current);
	else
		printf("upgrade: all %zu segments are format 3\n", u.current);
	if (u.person_rewritten)
		printf("upgrade: person table keyed by pseudonym, catalog %.1f MB -> %.1f MB\n",
		       (double)u.catalog_before / 1e6, (double)u.catalog_after / 1e6);
	return 0;
}

const struct cli_verb cli_verb_upgrade = {
	"upgrade", "rewrite a dataset's segments in the current format", usage_text, run
};

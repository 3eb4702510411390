/*
** yoc init: creates an empty dataset (DIR/yoc.db and DIR/segments/).
*/
#include "cli/cli.h"
#include "store/store.h"

static const char usage_text[] =
	"Usage: yoc init DIR\n\n"
	"Creates an empty dataset in DIR: the SQLite catalog DIR/yoc.db and the\n"
	"activity segments directory DIR/segments/. See docs/store.md.\n";

static int run(int argc, char **argv)
{
	struct cli_opt opts[] = {{NULL, 0, NULL}};
	int npos;
	if (cli_parse("init", argc, argv, opts, &npos))
		return 2;
	if (npos != 1) {
		cli_err("init", "give one directory; see 'yoc help init'");
		return 2;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	if (yoc_store_init(argv[1], &e)) {
		cli_err_rec("init", &e);
		return 1;
	}
	printf("created dataset %s\n", argv[1]);
	return 0;
}

const struct cli_verb cli_verb_init = {
	"init", "create an empty dataset", usage_text, run
};

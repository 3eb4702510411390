/*
** yoc keygen: makes the key holder's pseudonymisation key, 32 bytes from the
** operating system's CSPRNG, as 64 hex characters in a new file of mode 0600.
** Never overwrites a file and never prints the key.
*/
#include <stdio.h>

#include "cli/cli.h"
#include "pseudo/pseudo.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc keygen --out FILE\n\n"
	"Writes a new pseudonymisation key: 32 random bytes from the operating\n"
	"system's CSPRNG, as 64 lowercase hex characters and a newline, in FILE\n"
	"with mode 0600. Refuses if FILE exists. The key belongs to the key holder\n"
	"(a data services body), never to the analytics team: anyone holding it\n"
	"can recompute every pseudonym. See docs/pseudonymisation.md.\n\n"
	"  --out FILE   the key file to create\n";

static int run(int argc, char **argv)
{
	struct cli_opt opts[] = {{"out", 1, NULL}, {NULL, 0, NULL}};
	int npos;
	if (cli_parse("keygen", argc, argv, opts, &npos))
		return 2;
	const char *out = cli_get(opts, "out");
	if (npos) {
		cli_err("keygen", "unexpected argument '%s'", argv[1]);
		return 2;
	}
	if (!out || !*out) {
		cli_err("keygen", "--out FILE is required; see 'yoc help keygen'");
		return 2;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	/* a key temporary left by a killed keygen holds a key: removed */
	yoc_tmp_sweep(out, NULL);
	if (yoc_key_generate(out, &e) != 0) {
		cli_err_rec("keygen", &e);
		return 1;
	}
	struct yoc_key key;
	char id[17] = "";
	if (yoc_key_load(&key, out, &e) == 0) {
		yoc_key_id(&key, id);
		yoc_key_wipe(&key);
	}
	printf("wrote key %s (mode 0600, key id %s)\n", out, id);
	return 0;
}

const struct cli_verb cli_verb_keygen = {
	"keygen", "make a pseudonymisation key (key holder only)", usage_text, run
};

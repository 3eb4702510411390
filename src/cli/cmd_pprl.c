/*
** yoc pprl: linkage between organisations on keyed Bloom-filter encodings.
** `encode` is run by each organisation's key holder on its own identifiers;
** `match` by whoever may see the encodings (never the key). Parses options
** and reports; the work is in src/link/link_pprl.c (docs/linkage.md).
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "link/link.h"
#include "pseudo/pseudo.h"
#include "yoc/io.h"

#define VERB "pprl"

static const char usage_text[] =
	"Usage: yoc pprl encode --key FILE --in FILE --out FILE [--id COL]\n"
	"       yoc pprl match --a FILE --b FILE --out FILE [--threshold T]\n"
	"                      [--review-threshold R] [--margin M] [--many-to-one]\n"
	"                      [--no-frequencies]\n\n"
	"Privacy-preserving record linkage between organisations that may not share\n"
	"identifiers. Each organisation's key holder encodes its records under a\n"
	"key the key holders share (never the matcher): one Bloom filter per field\n"
	"(given and family name, date of birth, sex, postcode; bigrams hashed by\n"
	"HMAC-SHA256 under the key) and six keyed blocking tokens. No clear\n"
	"identifier is in the encoding file. The matcher pairs records that share\n"
	"a token, scores them by the fields' Dice similarity (weighted mean) and\n"
	"links best pairs first, one to one, each beating its second-best\n"
	"candidate by the margin.\n\n"
	"encode:\n"
	"  --key FILE        the shared secret (mode 0600, 64 hex characters; see\n"
	"                    yoc keygen); use a key for linkage only\n"
	"  --in FILE         a CSV with date of birth, sex, given name, family name\n"
	"                    and postcode columns (found as yoc link finds them)\n"
	"  --out FILE        the encodings: id, encoding.KEYID, block_* tokens\n"
	"  --id COL          the column holding the record id (default: the data\n"
	"                    row number)\n"
	"  Unreadable cells (a date of birth that is not a date, an unknown sex)\n"
	"  are encoded as missing, rows without an id are not encoded; both are\n"
	"  reported as FILE:LINE:COL.\n\n"
	"match:\n"
	"  --a FILE, --b FILE  two encoding files made under the same key\n"
	"  --out FILE          pairs: a_id,b_id,similarity,second,status (link or\n"
	"                      review); second is the best other candidate's\n"
	"  --threshold T       similarity to link (0.75)\n"
	"  --review-threshold R  review band from R up to T (0.60)\n"
	"  --margin M          a link beats every other candidate by M (0.05)\n"
	"  --many-to-one       a record of --a may take many of --b (a register\n"
	"                      against activity rows); default one to one\n"
	"  --no-frequencies    names common in --a weigh as much as rare ones\n"
	"                      (default: a name's weight falls with its share of\n"
	"                      --a, down to a quarter)\n\n"
	"The encodings are personal data: never publish them (docs/linkage.md,\n"
	"\"Between organisations\", lists what an attacker can learn).\n";

static void print_issues(const char *file, const struct yoc_pprl_issues *is)
{
	size_t kept = is->n < YOC_PPRL_ISSUES ? (size_t)is->n : YOC_PPRL_ISSUES;
	for (size_t i = 0; i < kept; i++)
		fprintf(stderr, "%s:%ld:%ld: %s\n", file, is->first[i].line, is->first[i].col,
			is->first[i].what);
	if (is->n > kept)
		fprintf(stderr, "%s: ... and %llu more\n", file,
			(unsigned long long)(is->n - kept));
}

static int encode(int argc, char **argv)
{
	struct cli_opt opts[] = {{"key", 1, NULL}, {"in", 1, NULL}, {"out", 1, NULL},
				 {"id", 1, NULL},  {NULL, 0, NULL}};
	int npos;
	if (cli_parse(VERB " encode", argc, argv, opts, &npos))
		return 2;
	const char *kpath = cli_get(opts, "key"), *in = cli_get(opts, "in"),
		   *out = cli_get(opts, "out"), *id = cli_get(opts, "id");
	if (npos) {
		cli_err(VERB, "unexpected argument '%s'; see 'yoc help pprl'", argv[1]);
		return 2;
	}
	if (!kpath || !in || !out) {
		cli_err(VERB, "encode: --key, --in and --out are required; see 'yoc help pprl'");
		return 2;
	}
	if (strcmp(in, out) == 0 || strcmp(kpath, out) == 0) {
		cli_err(VERB, "encode: --out must not be --in or --key");
		return 2;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	struct yoc_key key;
	if (yoc_key_load(&key, kpath, &e) != 0) {
		cli_err_rec(VERB, &e);
		cli_err(VERB, "no key, no encoding: nothing written");
		return 1;
	}
	struct yoc_pprl_keys k;
	int rc = yoc_pprl_keys_derive(&k, key.k, sizeof key.k);
	yoc_key_wipe(&key);
	if (rc) {
		cli_err(VERB, "cannot derive the keys (libsodium)");
		return 1;
	}
	struct yoc_pprl_encode_stats st;
	yoc_tmp_sweep(out, NULL); /* temporaries of a killed run (best effort) */
	rc = yoc_pprl_encode_file(in, out, id, &k, &st, &e);
	yoc_pprl_keys_wipe(&k);
	if (rc) {
		cli_err_rec(VERB, &e);
		cli_err(VERB, "nothing written; %s is as it was", out);
		return rc == YOC_EINVAL ? 2 : 1;
	}
	print_issues(in, &st.issues);
	printf("yoc pprl encode: %llu rows, %llu encoded (%llu without an unreadable field), "
	       "%llu not encoded -> %s\n",
	       (unsigned long long)st.rows, (unsigned long long)st.encoded,
	       (unsigned long long)st.fields_dropped, (unsigned long long)st.not_encoded, out);
	return 0;
}

static int get_unit(const struct cli_opt *opts, const char *name, double *out)
{
	const char *v = cli_get(opts, name);
	if (!v)
		return 0;
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (errno || end == v || *end || !(x >= 0 && x <= 1)) {
		cli_err(VERB, "--%s wants a number between 0 and 1, not '%s'", name, v);
		return 2;
	}
	*out = x;
	return 0;
}

static int match(int argc, char **argv)
{
	struct cli_opt opts[] = {{"a", 1, NULL},         {"b", 1, NULL},
				 {"out", 1, NULL},       {"threshold", 1, NULL},
				 {"review-threshold", 1, NULL}, {"margin", 1, NULL},
				 {"many-to-one", 0, NULL}, {"no-frequencies", 0, NULL},
				 {NULL, 0, NULL}};
	int npos;
	if (cli_parse(VERB " match", argc, argv, opts, &npos))
		return 2;
	const char *pa = cli_get(opts, "a"), *pb = cli_get(opts, "b"), *out = cli_get(opts, "out");
	if (npos) {
		cli_err(VERB, "unexpected argument '%s'; see 'yoc help pprl'", argv[1]);
		return 2;
	}
	if (!pa || !pb || !out) {
		cli_err(VERB, "match: --a, --b and --out are required; see 'yoc help pprl'");
		return 2;
	}
	if (strcmp(out, pa) == 0 || strcmp(out, pb) == 0) {
		cli_err(VERB, "match: --out must not be --a or --b");
		return 2;
	}
	struct yoc_pprl_match_opts o;
	yoc_pprl_match_opts_init(&o);
	o.many_to_one = cli_get(opts, "many-to-one") != NULL;
	o.frequencies = cli_get(opts, "no-frequencies") == NULL;
	if (get_unit(opts, "threshold", &o.threshold) ||
	    get_unit(opts, "review-threshold", &o.review) || get_unit(opts, "margin", &o.margin))
		return 2;
	if (!cli_get(opts, "review-threshold") && o.review > o.threshold)
		o.review = o.threshold;
	if (o.review > o.threshold) {
		cli_err(VERB, "--review-threshold must not be above --threshold");
		return 2;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	struct yoc_pprl_set a, b;
	memset(&b, 0, sizeof b);
	int status = 1;
	if (yoc_pprl_load(pa, &a, &e) != 0) {
		cli_err_rec(VERB, &e);
		return 1;
	}
	if (yoc_pprl_load(pb, &b, &e) != 0) {
		cli_err_rec(VERB, &e);
		goto cleanup;
	}
	print_issues(pa, &a.issues);
	print_issues(pb, &b.issues);
	struct yoc_pprl_match_stats st;
	yoc_tmp_sweep(out, NULL);
	if (yoc_pprl_match(&a, &b, &o, out, &st, &e) != 0) {
		cli_err_rec(VERB, &e);
		cli_err(VERB, "nothing written; %s is as it was", out);
		goto cleanup;
	}
	printf("yoc pprl match: %zu records in a, %zu in b (%llu and %llu rows refused); "
	       "%llu candidate pairs compared in %.2fs (%.0f pairs per second; %llu blocks "
	       "too large skipped); %llu links, %llu for review -> %s\n",
	       a.n, b.n, (unsigned long long)a.issues.n, (unsigned long long)b.issues.n,
	       (unsigned long long)st.pairs, st.seconds,
	       st.seconds > 0 ? (double)st.pairs / st.seconds : 0,
	       (unsigned long long)st.blocks_skipped, (unsigned long long)st.links,
	       (unsigned long long)st.review, out);
	status = 0;
cleanup:
	yoc_pprl_set_free(&a);
	yoc_pprl_set_free(&b);
	return status;
}

static int run(int argc, char **argv)
{
	if (argc < 2) {
		cli_err(VERB, "encode or match? see 'yoc help pprl'");
		return 2;
	}
	if (strcmp(argv[1], "encode") == 0)
		return encode(argc - 1, argv + 1);
	if (strcmp(argv[1], "match") == 0)
		return match(argc - 1, argv + 1);
	cli_err(VERB, "unknown subcommand '%s' (encode, match); see 'yoc help pprl'", argv[1]);
	return 2;
}

const struct cli_verb cli_verb_pprl = {
	"pprl", "link between organisations on keyed Bloom-filter encodings", usage_text, run};

/*
** yoc pseudonymise: turns identifiable feeds into pseudonymised ones at
** source, a file or a whole directory tree (layout kept, *.csv only).
**
** Everything that can be refused is checked before the first byte is
** written: the key file, the option values, the output path against the
** input, the opt-out list, the allow-list, and every input's header under
** the identifier policy (src/ident). An output file is written atomically;
** an output directory is written whole (built in OUT.tmp.PID, swapped in
** only if every file succeeded). Must not: copy non-CSV files (they may hold
** identifiers), print any cell value, or write inside the input tree.
*/
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account/account.h"
#include "cli/cli.h"
#include "ident/ident.h"
#include "pseudo/pseudo.h"
#include "yoc/io.h"

#define VERB "pseudonymise"

static const char usage_text[] =
	"Usage: yoc pseudonymise --key FILE --in IN --out OUT [--optout LIST]\n"
	"                        [--allow FILE] [--kind KIND] [--strict] [--json]\n"
	"                        [--verbose]\n\n"
	"Pseudonymises identifiable feeds at source. IN and OUT are both files, or\n"
	"both directories (every *.csv under IN is written to the same relative\n"
	"path under OUT; other files are not copied).\n\n"
	"  NEWNHSNO   normalised, checked with Modulus 11, replaced by PSEUDO_ID:\n"
	"             the lowercase hex HMAC-SHA256 of the 10 digits under the key,\n"
	"             and NHSNO_STATUS: valid, missing, malformed, bad_check_digit\n"
	"             (PSEUDO_ID is empty unless valid; the row is kept)\n"
	"  DOB        replaced by MYDOB, month and year of birth (MMYYYY)\n"
	"  Default deny: only the fields of the feed kind (recognised from the\n"
	"  header; column names compare ignoring case, spaces and punctuation) and\n"
	"  the columns on the allow-list are kept; names, addresses, phone numbers,\n"
	"  free text and every other column are dropped and listed. Kept values are\n"
	"  scanned: NHS numbers, full dates in non-date columns, postcodes, phone\n"
	"  numbers or e-mail addresses refuse the file (column and line named,\n"
	"  nothing written). See docs/pseudonymisation.md.\n"
	"  The source account: OUT/yoc-account.json (a tree) or OUT.account.json (a\n"
	"  file) gives per output file the rows read, written, opted out and\n"
	"  rejected by reason and line, its size and SHA-256, the yoc version, the\n"
	"  time and the key id; never a value, an identifier or the key. yoc load\n"
	"  records it, so rows rejected or opted out here stay accounted for.\n\n"
	"  --key FILE     the key (mode 0600, 64 hex characters; see yoc keygen)\n"
	"  --in IN        a feed file or a directory of feeds\n"
	"  --out OUT      the output file or directory (never inside IN)\n"
	"  --optout LIST  CSV with column nhs_number: these people's rows are removed\n"
	"  --allow FILE   extra columns to keep, one name per line (\"NAME,date\" for\n"
	"                 a column of dates); a direct identifier cannot be allowed\n"
	"  --kind KIND    the feed kind of every input instead of recognising it\n"
	"                 from the header or the folder's name (apc, op, ae,\n"
	"                 community, mh, gp_appt, gp_register, social_care,\n"
	"                 ambulance, deaths, careplan, pam)\n"
	"  --strict       fail a file on its first malformed CSV row (default: the\n"
	"                 row is rejected, counted, and reported with line:col), and\n"
	"                 refuse a file with a column that would be dropped\n"
	"  --json         one JSON summary object per file on stdout\n"
	"  --verbose      every rejected row on stderr (by default one line per\n"
	"                 kind of fault and file: the count and the first row);\n"
	"                 on a terminal, also the line per file that is otherwise\n"
	"                 replaced by one progress line (rows, rate, ETA)\n\n"
	"Refused, with nothing written: a key readable by group or others, a key\n"
	"of the wrong length or not hex, an input with no NEWNHSNO column, a\n"
	"header that cannot be a feed's (digits as names, duplicate names, over\n"
	"1024 columns), an output that would overwrite or sit inside the input,\n"
	"an output directory that is not empty and was not written by yoc\n"
	"pseudonymise. An output directory is written whole: if any file fails\n"
	"(a value that looks like an identifier refuses its file), nothing is\n"
	"swapped in and the previous OUT stays as it was.\n"
	"Exit status: 0 done, 1 refused or failed, 2 usage.\n";

/*
** Rejected rows: one line per kind of fault after the file, with the count
** and the first row's place and message; every row under --verbose.
*/
struct reject_ctx {
	const char *file;
	unsigned long n;
	struct yoc_account_file *acct; /* the file's entry: rejected rows listed by line */
	int oom;
	int verbose;
	unsigned long count[YOC_ACCOUNT_NREASONS];
	struct yoc_error first[YOC_ACCOUNT_NREASONS];
};

static void on_reject(void *ctx, const struct yoc_error *e, int fault)
{
	struct reject_ctx *c = ctx;
	c->n++;
	if (yoc_account_list_reject(c->acct, e->line, fault))
		c->oom = 1;
	if (fault < 0 || fault >= YOC_ACCOUNT_NREASONS)
		fault = 0;
	if (!c->count[fault]++)
		c->first[fault] = *e;
	if (c->verbose) {
		fprintf(stderr, "yoc " VERB ": ");
		yoc_error_print(stderr, e);
	}
}

static void reject_summary(const struct reject_ctx *c)
{
	for (int i = 0; i < YOC_ACCOUNT_NREASONS; i++) {
		const struct yoc_error *e = &c->first[i];
		if (!c->count[i])
			continue;
		fprintf(stderr, "yoc " VERB ": %s: %lu row%s rejected (not written, counted): %s "
			"(first at %s:%ld:%ld: %s)\n", c->file, c->count[i], c->count[i] == 1 ? "" : "s",
			yoc_account_reason_name(i), e->file[0] ? e->file : c->file, e->line, e->col,
			e->msg);
	}
}

/*
** The absolute, symlink-free form of a path that need not exist yet: the
** longest existing prefix is resolved by realpath, the rest appended.
*/
static int abs_path(const char *p, char *out, size_t cap)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s", p) >= (int)sizeof tmp || !*tmp)
		return -1;
	size_t n = strlen(tmp);
	while (n > 1 && tmp[n - 1] == '/')
		tmp[--n] = 0;
	if (realpath(tmp, out))
		return strlen(out) < cap ? 0 : -1;
	if (errno != ENOENT)
		return -1;
	char *slash = strrchr(tmp, '/');
	const char *last = slash ? slash + 1 : tmp;
	char parent[PATH_MAX];
	if (!slash)
		snprintf(parent, sizeof parent, ".");
	else if (slash == tmp)
		snprintf(parent, sizeof parent, "/");
	else
		snprintf(parent, sizeof parent, "%.*s", (int)(slash - tmp), tmp);
	char base[PATH_MAX];
	if (abs_path(parent, base, sizeof base))
		return -1;
	if (strcmp(last, ".") == 0)
		return snprintf(out, cap, "%s", base) >= (int)cap ? -1 : 0;
	if (strcmp(last, "..") == 0) {
		char *s = strrchr(base, '/');
		if (s && s != base)
			*s = 0;
		else
			snprintf(base, sizeof base, "/");
		return snprintf(out, cap, "%s", base) >= (int)cap ? -1 : 0;
	}
	return snprintf(out, cap, "%s%s%s", base, strcmp(base, "/") ? "/" : "", last) >=
			       (int)cap
		       ? -1
		       : 0;
}

/* 1 if a is b or lies under b. */
static int path_within(const char *a, const char *b)
{
	size_t n = strlen(b);
	if (strcmp(b, "/") == 0)
		return 1;
	return strncmp(a, b, n) == 0 && (a[n] == 0 || a[n] == '/');
}

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return a && b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static int is_csv(const char *path)
{
	size_t n = strlen(path);
	return n > 4 && strcasecmp(path + n - 4, ".csv") == 0;
}

static void add_stats(struct yoc_pseudo_stats *t, const struct yoc_pseudo_stats *s)
{
	t->rows_in += s->rows_in;
	t->rows_out += s->rows_out;
	t->valid += s->valid;
	t->missing += s->missing;
	t->malformed += s->malformed;
	t->bad_check_digit += s->bad_check_digit;
	t->opted_out += s->opted_out;
	t->rejected += s->rejected;
	t->dob_unparsed += s->dob_unparsed;
}

static void report(const char *in, const char *out, const struct yoc_pseudo_stats *s,
		   int json)
{
	if (json) {
		printf("{\"file\":");
		cli_json_str(stdout, in);
		printf(",\"out\":");
		cli_json_str(stdout, out);
		printf(",\"rows_in\":%llu,\"rows_out\":%llu,\"valid\":%llu,\"missing\":%llu,"
		       "\"malformed\":%llu,\"bad_check_digit\":%llu,\"opted_out\":%llu,"
		       "\"rejected\":%llu,\"dob_unparsed\":%llu,\"columns_in\":%zu,"
		       "\"columns_out\":%zu,\"columns_dropped\":%zu,\"columns_identifier\":%zu,"
		       "\"columns_unknown\":%zu,\"kind\":\"%s\",\"dropped\":",
		       (unsigned long long)s->rows_in, (unsigned long long)s->rows_out,
		       (unsigned long long)s->valid, (unsigned long long)s->missing,
		       (unsigned long long)s->malformed, (unsigned long long)s->bad_check_digit,
		       (unsigned long long)s->opted_out, (unsigned long long)s->rejected,
		       (unsigned long long)s->dob_unparsed, s->cols_in, s->cols_out,
		       s->cols_dropped, s->cols_identifier, s->cols_unknown,
		       yoc_spec_kind_name(s->kind));
		cli_json_str(stdout, s->dropped);
		printf("}\n");
		return;
	}
	printf("%s -> %s: rows in %llu, rows out %llu (valid %llu, missing %llu, "
	       "malformed %llu, bad check digit %llu), opted out %llu, rejected %llu",
	       in, out, (unsigned long long)s->rows_in, (unsigned long long)s->rows_out,
	       (unsigned long long)s->valid, (unsigned long long)s->missing,
	       (unsigned long long)s->malformed, (unsigned long long)s->bad_check_digit,
	       (unsigned long long)s->opted_out, (unsigned long long)s->rejected);
	if (s->dob_unparsed)
		printf(", DOB not a date %llu", (unsigned long long)s->dob_unparsed);
	if (s->cols_dropped)
		printf("; %zu column%s dropped: %s", s->cols_dropped,
		       s->cols_dropped == 1 ? "" : "s", s->dropped);
	putchar('\n');
}

/*
** out is where the file is written, shown the path it will have for the
** user, rel its path in the account (relative to the account's folder).
** The file's counts, size and SHA-256 are added to acct.
*/
static int one_file(yoc_pseudo *ps, const char *in, const char *out, const char *shown,
		    const char *rel, const struct yoc_pseudo_opts *po, int json, int verbose,
		    struct yoc_pseudo_stats *total, struct yoc_account *acct,
		    struct yoc_progress *prog, int per_file)
{
	struct yoc_account_file af;
	memset(&af, 0, sizeof af);
	struct reject_ctx rc;
	memset(&rc, 0, sizeof rc);
	rc.file = in;
	rc.acct = &af;
	rc.verbose = verbose;
	struct yoc_pseudo_opts o = *po;
	o.on_reject = on_reject;
	o.ctx = &rc;
	o.sha256 = 1;
	struct yoc_pseudo_stats st;
	struct yoc_error e;
	int status = 1;
	yoc_error_clear(&e);
	int prc = yoc_pseudo_file(ps, in, out, &o, &st, &e);
	yoc_progress_clear(prog);
	reject_summary(&rc);
	if (prc != 0) {
		cli_err_rec(VERB, &e);
		cli_err(VERB, "%s: nothing written for this file", shown);
		goto cleanup;
	}
	af.path = (char *)rel;
	af.bytes = st.bytes_out;
	snprintf(af.sha256, sizeof af.sha256, "%s", st.sha256);
	snprintf(af.kind, sizeof af.kind, "%s", yoc_spec_kind_name(st.kind));
	af.rows_read = st.rows_in;
	af.rows_written = st.rows_out;
	af.valid = st.valid;
	af.missing = st.missing;
	af.malformed = st.malformed;
	af.bad_check_digit = st.bad_check_digit;
	af.opted_out = st.opted_out;
	af.rejected = st.rejected;
	for (int i = 0; i < YOC_ACCOUNT_NREASONS; i++)
		af.rejected_by[i] = st.rejected_by[i];
	af.dob_unparsed = st.dob_unparsed;
	if (rc.oom || yoc_account_add(acct, &af)) {
		cli_err(VERB, "%s: out of memory", shown);
		goto cleanup;
	}
	add_stats(total, &st);
	if (per_file)
		report(in, shown, &st, json);
	yoc_progress_rows(prog, total->rows_in);
	status = 0;
cleanup:
	yoc_free(af.listed);
	return status;
}

static int run(int argc, char **argv)
{
	struct cli_opt opts[] = {{"key", 1, NULL},    {"in", 1, NULL},   {"out", 1, NULL},
				 {"optout", 1, NULL}, {"json", 0, NULL}, {"strict", 0, NULL},
				 {"allow", 1, NULL},  {"kind", 1, NULL}, {"verbose", 0, NULL},
				 {NULL, 0, NULL}};
	struct yoc_pseudo_opts po = {0};
	yoc_allow *allow = NULL;
	struct yoc_key key;
	struct yoc_error e;
	struct yoc_pseudo_stats total = {0};
	yoc_pseudo *ps = NULL;
	yoc_nhsset *optout = NULL;
	char **files = NULL;
	size_t nfiles = 0;
	struct yoc_otree tree = {0};
	struct yoc_skipped left_out = {0};
	struct yoc_account acct;
	int npos, status = 1, have_key = 0;
	char rin[PATH_MAX], rout[PATH_MAX];

	yoc_account_init(&acct);
	if (cli_parse(VERB, argc, argv, opts, &npos))
		return 2;
	const char *kpath = cli_get(opts, "key"), *in = cli_get(opts, "in"),
		   *out = cli_get(opts, "out"), *opath = cli_get(opts, "optout");
	int json = cli_get(opts, "json") != NULL, strict = cli_get(opts, "strict") != NULL;
	int verbose = cli_get(opts, "verbose") != NULL;
	const char *apath = cli_get(opts, "allow"), *kname = cli_get(opts, "kind");
	if (npos) {
		cli_err(VERB, "unexpected argument '%s'", argv[1]);
		return 2;
	}
	po.strict = strict;
	if (kname) {
		po.kind = yoc_spec_kind_by_name(kname);
		po.kind_set = 1;
		if (po.kind < 0) {
			cli_err(VERB, "unknown --kind '%s'; see 'yoc help " VERB "'", kname);
			return 2;
		}
	}
	if (!kpath || !in || !out || !*kpath || !*in || !*out) {
		cli_err(VERB, "--key, --in and --out are required; see 'yoc help " VERB "'");
		return 2;
	}
	yoc_error_clear(&e);
	if (yoc_key_load(&key, kpath, &e) != 0) {
		cli_err_rec(VERB, &e);
		cli_err(VERB, "refused; nothing written");
		return 1;
	}
	have_key = 1;
	yoc_key_id(&key, acct.key_id);
	if (apath) {
		if (yoc_allow_load(&allow, apath, &e) != 0) {
			cli_err_rec(VERB, &e);
			cli_err(VERB, "allow-list refused; nothing written");
			goto cleanup;
		}
		po.allow = allow;
	}

	struct stat sin, sout;
	if (stat(in, &sin) != 0) {
		cli_err(VERB, "%s: cannot read input: %s", in, strerror(errno));
		goto cleanup;
	}
	int dir_mode = S_ISDIR(sin.st_mode);
	int out_exists = stat(out, &sout) == 0;
	if (abs_path(in, rin, sizeof rin) || abs_path(out, rout, sizeof rout)) {
		cli_err(VERB, "cannot resolve the paths of --in and --out");
		goto cleanup;
	}
	if (dir_mode) {
		if (out_exists && !S_ISDIR(sout.st_mode)) {
			cli_err(VERB, "%s is a directory but %s is not; refused, nothing written",
				in, out);
			goto cleanup;
		}
		if (path_within(rout, rin) || path_within(rin, rout)) {
			cli_err(VERB,
				"output %s %s input %s: refused, nothing written (the output "
				"would overwrite or mix with the identifiable input)",
				out, path_within(rout, rin) ? "is or lies inside" : "contains", in);
			goto cleanup;
		}
	} else {
		if (!S_ISREG(sin.st_mode)) {
			cli_err(VERB, "%s is %s, not a regular file or directory", in,
				yoc_file_kind(sin.st_mode));
			goto cleanup;
		}
		if (same_file(in, out) || strcmp(rin, rout) == 0) {
			cli_err(VERB, "output %s would overwrite the input; refused, nothing written",
				out);
			goto cleanup;
		}
		if (out_exists && S_ISDIR(sout.st_mode)) {
			cli_err(VERB, "%s is a file but output %s is a directory; give an output "
				"file name",
				in, out);
			goto cleanup;
		}
	}
	if (same_file(out, kpath) || (opath && same_file(out, opath))) {
		cli_err(VERB, "output %s would overwrite the key or the opt-out list; refused",
			out);
		goto cleanup;
	}
	/* The source account: OUT/yoc-account.json in the tree, or OUT.account.json. */
	char acct_path[PATH_MAX];
	if (!dir_mode) {
		if (snprintf(acct_path, sizeof acct_path, "%s%s", out, YOC_ACCOUNT_SUFFIX) >=
		    (int)sizeof acct_path) {
			cli_err(VERB, "%s: output path too long", out);
			goto cleanup;
		}
		if (same_file(acct_path, in) || same_file(acct_path, kpath) ||
		    (opath && same_file(acct_path, opath)) ||
		    (apath && same_file(acct_path, apath))) {
			cli_err(VERB, "the account %s would overwrite an input; refused", acct_path);
			goto cleanup;
		}
	}

	if (opath) {
		struct yoc_nhsset_stats ost;
		po.optout = NULL;
		if (yoc_nhsset_load(&optout, opath, &ost, &e) != 0) {
			cli_err_rec(VERB, &e);
			cli_err(VERB, "opt-out list refused; nothing written");
			goto cleanup;
		}
		if (ost.malformed || ost.missing)
			cli_err(VERB,
				"%s: %llu opt-out entr%s not ten digits and ignored "
				"(%llu malformed, %llu empty)",
				opath, (unsigned long long)(ost.malformed + ost.missing),
				ost.malformed + ost.missing == 1 ? "y is" : "ies are",
				(unsigned long long)ost.malformed, (unsigned long long)ost.missing);
	}

	/* The list of work, every input checked before anything is written. */
	if (dir_mode) {
		char **all = NULL;
		size_t nall = 0, skipped = 0;
		if (yoc_list_files_counting(in, &all, &nall, &left_out, &e) != 0) {
			cli_err_rec(VERB, &e);
			goto cleanup;
		}
		files = all;
		for (size_t i = 0; i < nall; i++) {
			if (is_csv(all[i])) {
				files[nfiles++] = all[i];
			} else {
				yoc_free(all[i]);
				skipped++;
			}
		}
		files[nfiles] = NULL;
		if (skipped)
			cli_err(VERB, "%zu non-CSV file%s under %s not copied (they may hold "
				"identifiers)",
				skipped, skipped == 1 ? "" : "s", in);
		if (!nfiles) {
			cli_err(VERB, "no *.csv files under %s", in);
			goto cleanup;
		}
	} else {
		files = yoc_calloc(2, sizeof *files);
		if (!files || !(files[0] = yoc_strdup(in))) {
			cli_err(VERB, "out of memory");
			goto cleanup;
		}
		nfiles = 1;
	}
	int bad = 0;
	for (size_t i = 0; i < nfiles; i++) {
		yoc_error_clear(&e);
		if (yoc_pseudo_check_file(files[i], &po, &e) != 0) {
			cli_err_rec(VERB, &e);
			bad++;
		}
	}
	if (bad) {
		cli_err(VERB, "%d input file%s refused; nothing written", bad, bad == 1 ? "" : "s");
		goto cleanup;
	}

	if (yoc_pseudo_create(&ps, &key, 0) != 0) {
		cli_err(VERB, "cannot set up the key (libsodium)");
		goto cleanup;
	}
	yoc_key_wipe(&key);
	have_key = 0;

	/*
	** A tree is written whole: into OUT.tmp.PID, swapped in only if every
	** file succeeded. A single file is atomic by itself; stale temporaries
	** that killed runs left beside it are removed first.
	*/
	yoc_error_clear(&e);
	if (!dir_mode) {
		yoc_tmp_sweep(out, NULL); /* best effort */
	} else if (yoc_otree_begin(&tree, out, VERB, &e) != 0) {
		cli_err_rec(VERB, &e);
		cli_err(VERB, "refused; nothing written");
		goto cleanup;
	}
	int failed = 0;
	size_t inlen = strlen(in);
	while (inlen > 1 && in[inlen - 1] == '/')
		inlen--;
	const char *out_base = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
	/* one progress line on a terminal over the input bytes; the per-file
	 * lines go to stdout when it is not a terminal, or under --verbose */
	struct yoc_progress prog;
	uint64_t bytes_total = 0, bytes_done = 0;
	for (size_t i = 0; i < nfiles; i++) {
		struct stat st;
		if (stat(files[i], &st) == 0)
			bytes_total += (uint64_t)st.st_size;
	}
	yoc_progress_start(&prog, VERB, bytes_total);
	if (json || !dir_mode)
		prog.enabled = 0;
	int per_file = json || verbose || !isatty(1) || !prog.enabled;
	for (size_t i = 0; i < nfiles; i++) {
		char opath_buf[PATH_MAX], shown[PATH_MAX];
		struct stat fst;
		uint64_t fbytes = stat(files[i], &fst) == 0 ? (uint64_t)fst.st_size : 0;
		const char *dst = out, *rel = out_base;
		if (dir_mode) {
			rel = files[i] + inlen;
			while (*rel == '/')
				rel++;
			if (snprintf(opath_buf, sizeof opath_buf, "%s/%s", tree.tmp, rel) >=
				    (int)sizeof opath_buf ||
			    snprintf(shown, sizeof shown, "%s/%s", out, rel) >= (int)sizeof shown) {
				cli_err(VERB, "%s: output path too long", files[i]);
				failed++;
				continue;
			}
			char dir[PATH_MAX];
			snprintf(dir, sizeof dir, "%s", opath_buf);
			char *slash = strrchr(dir, '/');
			if (slash)
				*slash = 0;
			if (yoc_mkdirs(dir, 0755) != 0) {
				cli_err(VERB, "%s: cannot create directory: %s", dir, strerror(errno));
				failed++;
				continue;
			}
			dst = opath_buf;
		}
		po.optout = optout;
		failed += one_file(ps, files[i], dst, dir_mode ? shown : out, rel, &po, json, verbose, &total,
				   &acct, &prog, per_file);
		bytes_done += fbytes;
		yoc_progress_update(&prog, bytes_done);
	}
	yoc_progress_end(&prog);
	/* The account goes into the tree, so it is swapped in with the files it
	** describes; beside a single file it is written after it (a crash between
	** the two leaves an account whose SHA-256 does not match: load says so). */
	if (!failed) {
		char tmp_acct[PATH_MAX + 32];
		const char *where = acct_path;
		if (dir_mode) {
			snprintf(tmp_acct, sizeof tmp_acct, "%s/%s", tree.tmp, YOC_ACCOUNT_NAME);
			where = tmp_acct;
		} else {
			yoc_tmp_sweep(acct_path, NULL); /* best effort */
		}
		yoc_error_clear(&e);
		if (yoc_account_write(&acct, where, &e) != 0) {
			cli_err_rec(VERB, &e);
			cli_err(VERB, "the source account could not be written");
			failed = 1;
		}
	}
	if (dir_mode && !json)
		printf("total: %zu file%s, rows in %llu, rows out %llu (valid %llu, missing "
		       "%llu, malformed %llu, bad check digit %llu), opted out %llu, "
		       "rejected %llu\n",
		       nfiles, nfiles == 1 ? "" : "s", (unsigned long long)total.rows_in,
		       (unsigned long long)total.rows_out, (unsigned long long)total.valid,
		       (unsigned long long)total.missing, (unsigned long long)total.malformed,
		       (unsigned long long)total.bad_check_digit,
		       (unsigned long long)total.opted_out, (unsigned long long)total.rejected);
	if (dir_mode && yoc_skipped_total(&left_out)) {
		char sk[512];
		cli_skipped_text(&left_out, sk, sizeof sk);
		fprintf(json ? stderr : stdout, "%sskipped under %s: %s\n", json ? "yoc " VERB ": " : "",
			in, sk);
	}
	if (total.rejected)
		cli_err(VERB, "%llu malformed row%s rejected (counted above per file and fault; "
			"--verbose lists each with line:col)",
			(unsigned long long)total.rejected, total.rejected == 1 ? "" : "s");
	if (dir_mode && failed) {
		cli_err(VERB, "%d file%s failed: nothing written; %s is as it was", failed,
			failed == 1 ? "" : "s", out);
	} else if (dir_mode && yoc_otree_commit(&tree, &e) != 0) {
		cli_err_rec(VERB, &e);
		cli_err(VERB, "nothing written; %s is as it was", out);
		failed = 1;
	}
	status = failed ? 1 : 0;
cleanup:
	yoc_otree_abort(&tree);
	yoc_account_free(&acct);
	if (have_key)
		yoc_key_wipe(&key);
	yoc_pseudo_free(ps);
	yoc_nhsset_free(optout);
	yoc_allow_free(allow);
	yoc_paths_free(files);
	return status;
}

const struct cli_verb cli_verb_pseudonymise = {
	"pseudonymise", "pseudonymise feeds at source (keyed hash, opt-outs removed)",
	usage_text, run
};

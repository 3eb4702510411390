/*
** yoc reidentify: for direct care, adds NEWNHSNO back to the rows of a
** pseudonymised file that belong to people on the practice's own register,
** and records the act in the hash-chained audit log.
**
** Order matters: the output is written to a temporary file, then the audit
** record is appended (fsync), and only then is the output renamed into
** place. A failure before the record leaves no output; a failure after it
** leaves a record of an attempt, never an unrecorded re-identification.
*/
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "pseudo/pseudo.h"
#include "yoc/io.h"

#define VERB "reidentify"

static const char usage_text[] =
	"Usage: yoc reidentify --key FILE --register LIST --in PSEUDO --out OUT\n"
	"                      --user NAME --purpose TEXT --audit LOG [--json]\n\n"
	"For direct care: writes PSEUDO to OUT with a NEWNHSNO column inserted just\n"
	"before PSEUDO_ID, filled only for rows whose pseudonym belongs to someone\n"
	"on LIST (the practice's own register: CSV with column nhs_number). All\n"
	"other rows keep an empty NEWNHSNO. OUT is created with mode 0600.\n"
	"Appends one record to LOG (time, user, purpose, input SHA-256, register\n"
	"SHA-256, key id, output, rows); each record holds the hash of the one\n"
	"before, so `yoc audit verify LOG` detects any edit.\n\n"
	"  --key FILE        the pseudonymisation key (mode 0600)\n"
	"  --register LIST   the practice register of NHS numbers\n"
	"  --in PSEUDO       a pseudonymised file (with PSEUDO_ID)\n"
	"  --out OUT         the re-identified file to write\n"
	"  --user NAME       who is re-identifying (recorded)\n"
	"  --purpose TEXT    why, for direct care (recorded)\n"
	"  --audit LOG       the audit log to append to (created if absent)\n"
	"  --json            print the summary as one JSON object\n\n"
	"Exit status: 0 done, 1 refused or failed, 2 usage.\n";

static void on_reject(void *ctx, const struct yoc_error *e, int fault)
{
	unsigned long *n = ctx;
	if (++*n <= 20) {
		fprintf(stderr, "yoc " VERB ": ");
		yoc_error_print(stderr, e);
	}
}

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static int run(int argc, char **argv)
{
	struct cli_opt opts[] = {{"key", 1, NULL},     {"register", 1, NULL},
				 {"in", 1, NULL},      {"out", 1, NULL},
				 {"user", 1, NULL},    {"purpose", 1, NULL},
				 {"audit", 1, NULL},   {"json", 0, NULL},
				 {NULL, 0, NULL}};
	static const char *const required[] = {"key", "register", "in", "out",
					       "user", "purpose", "audit", NULL};
	struct yoc_key key;
	struct yoc_error e;
	struct yoc_afile af = {0};
	struct yoc_audit_rec rec = {0};
	struct yoc_reident_stats st;
	struct yoc_nhsset_stats rst;
	yoc_nhsset *reg = NULL;
	yoc_reident *ri = NULL;
	unsigned long nrej = 0;
	int npos, status = 1, have_key = 0, opened = 0;
	char hash[65];

	if (cli_parse(VERB, argc, argv, opts, &npos))
		return 2;
	if (npos) {
		cli_err(VERB, "unexpected argument '%s'", argv[1]);
		return 2;
	}
	for (int i = 0; required[i]; i++) {
		const char *v = cli_get(opts, required[i]);
		if (!v || !*v) {
			cli_err(VERB, "--%s is required; see 'yoc help " VERB "'", required[i]);
			return 2;
		}
	}
	const char *kpath = cli_get(opts, "key"), *rpath = cli_get(opts, "register"),
		   *in = cli_get(opts, "in"), *out = cli_get(opts, "out"),
		   *log = cli_get(opts, "audit");
	rec.user = cli_get(opts, "user");
	rec.purpose = cli_get(opts, "purpose");
	rec.input = in;
	rec.output = out;
	if (strlen(rec.user) > YOC_AUDIT_MAX_USER || strlen(rec.purpose) > YOC_AUDIT_MAX_PURPOSE) {
		cli_err(VERB, "--user is limited to %d bytes and --purpose to %d",
			YOC_AUDIT_MAX_USER, YOC_AUDIT_MAX_PURPOSE);
		return 2;
	}
	const char *others[] = {in, kpath, rpath, log, NULL};
	for (int i = 0; others[i]; i++) {
		if (strcmp(out, others[i]) == 0 || same_file(out, others[i])) {
			cli_err(VERB, "output %s would overwrite %s; refused, nothing written", out,
				i == 0 ? "the input" : i == 1 ? "the key" : i == 2 ? "the register"
										: "the audit log");
			return 1;
		}
	}
	if (strcmp(log, in) == 0 || same_file(log, in)) {
		cli_err(VERB, "the audit log cannot be the input");
		return 1;
	}

	struct stat sin;
	if (stat(in, &sin) != 0 || !S_ISREG(sin.st_mode)) {
		if (stat(in, &sin) != 0)
			cli_err(VERB, "%s: not a readable file (reidentify takes one pseudonymised "
				"file)", in);
		else
			cli_err(VERB, "%s: is %s, not a regular file", in, yoc_file_kind(sin.st_mode));
		return 1;
	}
	yoc_error_clear(&e);
	if (yoc_key_load(&key, kpath, &e) != 0) {
		cli_err_rec(VERB, &e);
		cli_err(VERB, "refused; nothing written");
		return 1;
	}
	have_key = 1;
	yoc_key_id(&key, rec.key_id);
	if (yoc_nhsset_load(&reg, rpath, &rst, &e) != 0) {
		cli_err_rec(VERB, &e);
		cli_err(VERB, "register refused; nothing written");
		goto cleanup;
	}
	if (rst.bad_check_digit || rst.malformed || rst.missing)
		cli_err(VERB, "%s: ignored %llu register entr%s that %s not a valid NHS number",
			rpath,
			(unsigned long long)(rst.bad_check_digit + rst.malformed + rst.missing),
			rst.bad_check_digit + rst.malformed + rst.missing == 1 ? "y" : "ies",
			rst.bad_check_digit + rst.malformed + rst.missing == 1 ? "is" : "are");
	if (yoc_reident_create(&ri, &key, reg, &e) != 0) {
		cli_err_rec(VERB, &e);
		goto cleanup;
	}
	yoc_key_wipe(&key);
	have_key = 0;
	if (yoc_sha256_file(in, rec.input_sha256, &e) != 0 ||
	    yoc_sha256_file(rpath, rec.register_sha256, &e) != 0) {
		cli_err_rec(VERB, &e);
		goto cleanup;
	}

	yoc_tmp_sweep(out, NULL); /* what killed runs left beside it */
	if (yoc_afile_open(&af, out, &e) != 0) {
		cli_err_rec(VERB, &e);
		goto cleanup;
	}
	opened = 1;
	/* Identifiable again: owner only. */
	if (fchmod(fileno(af.f), 0600) != 0) {
		cli_err(VERB, "%s: cannot set mode 0600: %s", out, strerror(errno));
		goto cleanup;
	}
	struct yoc_pseudo_opts o = {.on_reject = on_reject, .ctx = &nrej};
	if (yoc_reident_write(ri, in, af.f, &o, &st, &e) != 0) {
		cli_err_rec(VERB, &e);
		cli_err(VERB, "nothing written, nothing recorded");
		goto cleanup;
	}
	rec.rows_total = st.rows_in;
	rec.rows_reidentified = st.reidentified;
	rec.persons = st.persons;
	if (yoc_audit_append(log, &rec, hash, &e) != 0) {
		cli_err_rec(VERB, &e);
		cli_err(VERB, "the audit record could not be written, so no output was kept");
		goto cleanup;
	}
	opened = 0;
	if (yoc_afile_commit(&af, &e) != 0) {
		cli_err_rec(VERB, &e);
		cli_err(VERB, "output not written; the audit log records the attempt (hash %s)",
			hash);
		goto cleanup;
	}
	if (cli_get(opts, "json"))
		printf("{\"rows_in\":%llu,\"rows_out\":%llu,\"rows_reidentified\":%llu,"
		       "\"persons_reidentified\":%llu,\"rejected\":%llu,\"register_valid\":%llu,"
		       "\"audit_hash\":\"%s\"}\n",
		       (unsigned long long)st.rows_in, (unsigned long long)st.rows_out,
		       (unsigned long long)st.reidentified, (unsigned long long)st.persons,
		       (unsigned long long)st.rejected, (unsigned long long)rst.valid, hash);
	else
		printf("%s -> %s: %llu of %llu rows re-identified, %llu distinct people (register: "
		       "%llu valid numbers)%s; audit record %.16s... appended to %s\n",
		       in, out, (unsigned long long)st.reidentified,
		       (unsigned long long)st.rows_in, (unsigned long long)st.persons,
		       (unsigned long long)rst.valid,
		       st.rejected ? ", malformed rows rejected" : "", hash, log);
	status = 0;
cleanup:
	if (opened)
		yoc_afile_abort(&af);
	if (have_key)
		yoc_key_wipe(&key);
	yoc_reident_free(ri);
	yoc_nhsset_free(reg);
	return status;
}

const struct cli_verb cli_verb_reidentify = {
	"reidentify", "re-identify a practice's own patients for direct care (audited)",
	usage_text, run
};

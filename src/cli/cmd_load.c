/*
** yoc load: loads pseudonymised feed files (or directories of them) into a
** dataset in one atomic transaction, printing per-file row accounting.
*/
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "ident/ident.h"
#include "load/load.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc load --db DIR [--kind KIND] [--allow FILE] [--strict] [--json]\n"
	"                [--verbose] [--jobs N] PATH...\n\n"
	"Loads pseudonymised feed files, or every .csv/.txt file under a directory\n"
	"(hidden files, symbolic links, named pipes, sockets and devices are skipped\n"
	"and counted),\n"
	"into the dataset DIR. Each file's kind is recognised from its header (or\n"
	"--kind: apc op ae community mh gp_appt gp_register social_care ambulance\n"
	"deaths); provider and period come from the file name PROVIDER_PERIOD.csv\n"
	"(RA1_2023-05.csv, a financial year P90001_2023-24.csv, a resubmission\n"
	"RA1_2023-05_v2.csv; see docs/data-spec.md); other names are refused.\n"
	"Rows failing validation go to quarantine with a reason; for every file\n"
	"rows = loaded + quarantined. A file loaded before (same content) is\n"
	"'unchanged'; a new file for the same kind, provider and period 'replaces'\n"
	"the old one, and of two versions (_vN) the higher is current whatever the\n"
	"order of the paths. Two different files for the same kind, provider,\n"
	"period and version in one load are both refused. The identifier policy\n"
	"is pseudonymise's: a column named as a direct identifier (NHS number,\n"
	"date of birth, name, address, ...) or values that look like identifiers\n"
	"in any column refuse the file; columns that are not fields of the kind\n"
	"(nor allowed) are not loaded and are listed. The whole load commits at\n"
	"once or not at all.\n\n"
	"Source accounts: the account yoc pseudonymise writes (FILE.account.json\n"
	"beside a file, or yoc-account.json in its folder or a folder above it, up\n"
	"to the PATH given) is matched to each file by the SHA-256 of its bytes and\n"
	"recorded, so that rows rejected or opted out at source stay accounted for\n"
	"(yoc quality). A file without an account is recorded as such.\n\n"
	"  --db DIR     the dataset (see 'yoc init')\n"
	"  --kind KIND  feed kind for every file instead of recognising it\n"
	"  --allow FILE extra columns to load, one name per line (\"NAME,date\")\n"
	"  --strict     refuse a file with a column that would not be loaded\n"
	"  --json       one JSON object per file on stdout\n"
	"  --jobs N     files read, validated and encoded by N threads at once\n"
	"               (default: the number of CPUs online; 1: one file at a time);\n"
	"               each file is committed in the same order whatever N, so the\n"
	"               dataset and the output are the same\n"
	"  --verbose    every quarantined row on stderr (file:line: reason in field);\n"
	"               by default one line per file and reason: the count and the\n"
	"               first row; on a terminal, also the line per file that is\n"
	"               otherwise replaced by one progress line (rows, rate, ETA)\n\n"
	"Sharded, under MPI: mpirun -n K yoc load --shards DIR1 .. DIRK PATH...\n"
	"(--kind, --allow, --strict, --jobs): one dataset per rank, rows routed by\n"
	"pseudonym; see docs/mpi.md.\n\n"
	"Exit status: 0 ok, 1 if a file was refused or the load failed, 2 usage.\n";

static void report(const struct yoc_load_result *r, int json)
{
	if (json) {
		printf("{\"file\":");
		cli_json_str(stdout, r->file);
		printf(",\"kind\":");
		cli_json_str(stdout, r->kind >= 0 ? yoc_spec_kind_name(r->kind) : "");
		printf(",\"provider\":");
		cli_json_str(stdout, r->provider);
		printf(",\"period\":");
		cli_json_str(stdout, r->period);
		printf(",\"rows\":%lld,\"loaded\":%lld,\"quarantined\":%lld,\"flagged\":%lld,\"reasons\":{",
		       (long long)r->rows, (long long)r->loaded, (long long)r->quarantined,
		       (long long)r->flagged);
		for (size_t i = 0; i < r->nreasons; i++) {
			printf("%s", i ? "," : "");
			cli_json_str(stdout, r->reasons[i].code);
			printf(":%lld", (long long)r->reasons[i].rows);
		}
		printf("},\"status\":\"%s\",\"columns_dropped\":%zu,\"dropped\":",
		       yoc_load_status_str(r->status), r->ndropped);
		cli_json_str(stdout, r->dropped);
		if (r->account.status[0]) {
			printf(",\"source_account\":{\"status\":\"%s\",\"account\":",
			       r->account.status);
			cli_json_str(stdout, r->account.path);
			printf(",\"rows_read\":%lld,\"opted_out\":%lld,\"rejected\":%lld,"
			       "\"rejected_reasons\":",
			       (long long)r->account.rows_read, (long long)r->account.opted_out,
			       (long long)r->account.rejected);
			cli_json_str(stdout, r->account.reasons);
			printf("}");
		}
		if (r->status == YOC_LOAD_REJECTED) {
			printf(",\"message\":");
			cli_json_str(stdout, r->message);
		}
		printf("}\n");
		return;
	}
	cli_load_line(r);
}

static void verbose_row(void *ctx, int64_t line, const char *field, const char *reason)
{
	const struct yoc_load_result *r = ctx;
	fputs("yoc load: ", stderr);
	cli_put_escaped(stderr, r->file);
	fprintf(stderr, ":%lld: quarantined: %s%s", (long long)line, reason,
		field && *field ? " in " : "");
	cli_put_escaped(stderr, field ? field : "");
	fputc('\n', stderr);
}

/*
** The file's quarantined rows on stderr: one line per reason with the count
** and the first row ("F: 312 rows quarantined: bad_date in ADMIDATE (first at
** F:17:5)"); under --verbose every row, read back from the load in progress.
*/
static void quarantined(yoc_store *s, const struct yoc_load_result *r, int verbose)
{
	if (!verbose)
		cli_load_reasons(r);
	if (!verbose || !r->quarantined || !r->nreasons || !r->reasons[0].line)
		return;
	yoc_catalog_quarantined(s, r->file_id, verbose_row, (void *)r);
}

/* A source account that does not match its file is worth a line on stderr. */
static void account_warning(const struct yoc_load_result *r)
{
	const char *st = r->account.status;
	if (!*st || strcmp(st, "matched") == 0 || strcmp(st, "no_account") == 0 ||
	    strcmp(st, "no_entry") == 0)
		return;
	fputs("yoc load: ", stderr);
	cli_put_escaped(stderr, r->file);
	fprintf(stderr, ": source account ");
	cli_put_escaped(stderr, r->account.path);
	fprintf(stderr, " %s: ", st);
	cli_put_escaped(stderr, r->account.message);
	fputc('\n', stderr);
}

static void add_skipped(struct yoc_skipped *t, const struct yoc_skipped *s)
{
	t->pipes += s->pipes;
	t->sockets += s->sockets;
	t->devices += s->devices;
	t->symlinks += s->symlinks;
	t->hidden_files += s->hidden_files;
	t->hidden_dirs += s->hidden_dirs;
	t->temporaries += s->temporaries;
	t->vanished += s->vanished;
}

/* What the load so far has printed and counted, for file_done. */
struct run_state {
	yoc_store *s;
	struct yoc_load_result *res; /* for a refused item */
	struct yoc_progress *prog;
	int json, verbose, per_file;
	const struct yoc_load_item *items;
	int status;
	long long nfiles, nrows, nloaded, nquar, nstat[8];
	long long nacct[4]; /* matched, no account, other, rows rejected */
	long long nopted;
	uint64_t bytes_done;
};

/* One file committed (res NULL: refused by the plan): its lines and counts. */
static int file_done(void *ctx, size_t i, const struct yoc_load_result *res)
{
	struct run_state *R = ctx;
	const struct yoc_load_item *it = &R->items[i];
	struct stat fst;
	uint64_t fbytes = stat(it->path, &fst) == 0 ? (uint64_t)fst.st_size : 0;
	if (!res) {
		yoc_load_refused(it, R->res);
		res = R->res;
	}
	account_warning(res);
	if (res->account.status[0]) {
		int m = strcmp(res->account.status, "matched") == 0;
		R->nacct[m ? 0 : strcmp(res->account.status, "no_account") == 0 ? 1 : 2]++;
		R->nacct[3] += res->account.rejected;
		R->nopted += res->account.opted_out;
	}
	if (res->status == YOC_LOAD_REJECTED) {
		R->status = 1;
		if (!R->json) {
			yoc_progress_clear(R->prog);
			fputs("yoc load: ", stderr);
			cli_put_escaped(stderr, res->file);
			fputs(": ", stderr);
			cli_put_escaped(stderr, res->message);
			fputc('\n', stderr);
		}
	}
	if (R->per_file)
		report(res, R->json);
	if (!R->json && res->nreasons) {
		yoc_progress_clear(R->prog);
		quarantined(R->s, res, R->verbose);
	}
	R->nfiles++;
	R->nrows += res->rows;
	R->bytes_done += fbytes;
	yoc_progress_rows(R->prog, (uint64_t)R->nrows);
	yoc_progress_update(R->prog, R->bytes_done);
	R->nloaded += res->loaded;
	R->nquar += res->quarantined;
	if (res->status >= 0 && res->status < 8)
		R->nstat[res->status]++;
	return 0;
}

static int run(int argc, char **argv)
{
	if (cli_mpi_wanted(argc, argv)) /* sharded, under mpirun */
		return cli_mpi_load(argc, argv);
	struct cli_opt opts[] = {
		{"db", 1, NULL}, {"kind", 1, NULL}, {"json", 0, NULL}, {"allow", 1, NULL},
		{"strict", 0, NULL}, {"verbose", 0, NULL}, {"jobs", 1, NULL}, {NULL, 0, NULL}
	};
	yoc_allow *allow = NULL;
	int npos;
	if (cli_parse("load", argc, argv, opts, &npos))
		return 2;
	const char *db = cli_get(opts, "db");
	if (!db || npos == 0) {
		cli_err("load", "give --db DIR and at least one PATH; see 'yoc help load'");
		return 2;
	}
	int kind = -1;
	const char *ks = cli_get(opts, "kind");
	if (ks && (kind = yoc_spec_kind_by_name(ks)) < 0) {
		cli_err("load", "unknown kind '%s'", ks);
		return 2;
	}
	int json = cli_get(opts, "json") != NULL, verbose = cli_get(opts, "verbose") != NULL;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN), jobs = 0;
	if (cli_get_long("load", opts, "jobs", 0, &jobs))
		return 2;
	if (cli_get(opts, "jobs") && (jobs < 1 || jobs > YOC_LOAD_MAX_JOBS)) {
		cli_err("load", "--jobs takes a number from 1 to %d", YOC_LOAD_MAX_JOBS);
		return 2;
	}
	if (!cli_get(opts, "jobs"))
		jobs = ncpu < 1 ? 1 : ncpu > YOC_LOAD_MAX_JOBS ? YOC_LOAD_MAX_JOBS : ncpu;
	/* every PATH must exist before the dataset is opened: a typing slip
	 * names the path and loads (and commits) nothing */
	int nmissing = 0;
	for (int i = 1; i <= npos; i++) {
		struct stat st;
		if (lstat(argv[i], &st) == 0)
			continue;
		int err = errno;
		fputs("yoc load: ", stderr);
		cli_put_escaped(stderr, argv[i]);
		fprintf(stderr, ": %s\n", err == ENOENT ? "no such file or directory" : strerror(err));
		nmissing++;
	}
	if (nmissing) {
		fprintf(stderr, "yoc load: nothing loaded: %d path%s not found\n", nmissing,
			nmissing == 1 ? "" : "s");
		return 1;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_store *s = NULL;
	struct yoc_loader *L = NULL;
	struct yoc_load_result *res = NULL;
	int status = 0, rc;
	char **all = NULL;
	const char **roots = NULL; /* the PATH each of all[] was found under */
	size_t nall = 0, call = 0;
	struct yoc_load_plan plan = {0, NULL};
	struct yoc_load_job *jobv = NULL;
	long long nfiles = 0, nrows = 0, nloaded = 0, nquar = 0, nstat[8] = {0};
	const char *apath = cli_get(opts, "allow");
	if (apath && (rc = yoc_allow_load(&allow, apath, &e)))
		goto fail;
	struct yoc_skipped skipped = {0}, sk; /* what directory walks left out */
	size_t nother = 0;                    /* files not .csv/.txt */
	size_t naccounts = 0;                 /* source accounts seen in walks */
	long long nacct[4] = {0};             /* matched, no account, other, rows rejected */
	long long nopted = 0;
	if ((rc = yoc_store_open(&s, db, YOC_STORE_WRITE, &e)) ||
	    (rc = yoc_loader_begin(&L, s, &e)))
		goto fail;
	yoc_loader_policy(L, allow, cli_get(opts, "strict") != NULL);
	res = yoc_malloc(sizeof *res);
	if (!res) {
		rc = yoc_error_set(&e, YOC_ENOMEM, "load", 0, 0, "out of memory");
		goto fail;
	}
	/* every file of the load first: the plan orders versions and refuses
	 * ambiguous submissions before anything is loaded */
	for (int i = 1; i <= npos; i++) {
		char **paths = NULL;
		size_t np = 0;
		if (yoc_is_dir(argv[i])) {
			if ((rc = yoc_list_files_counting(argv[i], &paths, &np, &sk, &e)))
				goto fail;
			add_skipped(&skipped, &sk);
		}
		for (size_t j = 0; j < (paths ? np : 1); j++) {
			const char *p = paths ? paths[j] : argv[i];
			if (yoc_load_is_account(p)) {
				/* read with the files it describes */
				naccounts += paths != NULL;
				if (!paths)
					fprintf(stderr, "yoc load: %s is a source account: it is read with "
						"the files it describes, not loaded\n", p);
				continue;
			}
			if (paths && !cli_load_wanted(p)) {
				nother++;
				continue;
			}
			if (nall == call) {
				size_t nc = call ? call * 2 : 64;
				char **na = yoc_realloc(all, nc * sizeof *na);
				const char **nr = na ? yoc_realloc(roots, nc * sizeof *nr) : NULL;
				if (na)
					all = na;
				if (!nr) {
					yoc_paths_free(paths);
					rc = yoc_error_set(&e, YOC_ENOMEM, "load", 0, 0, "out of memory");
					goto fail;
				}
				roots = nr;
				call = nc;
			}
			roots[nall] = argv[i];
			if (!(all[nall] = yoc_strdup(p))) {
				yoc_paths_free(paths);
				rc = yoc_error_set(&e, YOC_ENOMEM, "load", 0, 0, "out of memory");
				goto fail;
			}
			nall++;
		}
		yoc_paths_free(paths);
	}
	if ((rc = yoc_load_plan_make(&plan, (const char *const *)all, nall, kind, &e)))
		goto fail;
	/* one progress line on a terminal, over the bytes of the planned files;
	 * the per-file lines go to stdout when it is not a terminal (a log or a
	 * pipe keeps the whole record) or under --verbose */
	struct yoc_progress prog;
	uint64_t bytes_total = 0;
	for (size_t i = 0; i < plan.n; i++) {
		struct stat st;
		if (stat(plan.items[i].path, &st) == 0)
			bytes_total += (uint64_t)st.st_size;
	}
	yoc_progress_start(&prog, "load", bytes_total);
	if (json)
		prog.enabled = 0;
	struct run_state R = {.s = s, .res = res, .prog = &prog, .json = json,
			      .verbose = verbose, .items = plan.items};
	R.per_file = json || verbose || !isatty(1) || !prog.enabled;
	jobv = yoc_calloc(plan.n ? plan.n : 1, sizeof *jobv);
	if (!jobv) {
		rc = yoc_error_set(&e, YOC_ENOMEM, "load", 0, 0, "out of memory");
		goto fail;
	}
	size_t hint = 0;
	for (size_t i = 0; i < plan.n; i++) {
		const struct yoc_load_item *it = &plan.items[i];
		/* the PATH it was found under: the plan keeps our pointers, mostly in order */
		const char *root = it->path;
		for (size_t k = 0; k < nall; k++) {
			size_t j = (hint + k) % nall;
			if (all[j] == it->path) {
				root = roots[j];
				hint = j + 1;
				break;
			}
		}
		jobv[i] = (struct yoc_load_job){.path = it->path, .root = root, .kind = kind,
						 .skip = it->refuse != NULL};
	}
	yoc_loader_jobs(L, (int)jobs);
	if ((rc = yoc_loader_files(L, jobv, plan.n, file_done, &R, &e)))
		goto fail;
	status |= R.status;
	nfiles = R.nfiles;
	nrows = R.nrows;
	nloaded = R.nloaded;
	nquar = R.nquar;
	memcpy(nstat, R.nstat, sizeof nstat);
	memcpy(nacct, R.nacct, sizeof nacct);
	nopted = R.nopted;
	yoc_progress_end(&prog);
	if ((rc = yoc_loader_commit(L, &e)))
		goto fail;
	if (!json)
		printf("load committed: %lld files (%lld loaded, %lld replaced, %lld unchanged, "
		       "%lld rejected); %lld rows: %lld loaded, %lld quarantined\n",
		       nfiles, nstat[YOC_LOAD_LOADED], nstat[YOC_LOAD_REPLACED],
		       nstat[YOC_LOAD_UNCHANGED], nstat[YOC_LOAD_REJECTED], nrows, nloaded, nquar);
	if (!json && (nacct[0] || nacct[1] || nacct[2]))
		printf("source accounts: %lld file%s matched (%lld rows rejected at source, %lld opted"
		       " out), %lld without an account, %lld not matching (named above)\n",
		       nacct[0], nacct[0] == 1 ? "" : "s", nacct[3], nopted, nacct[1], nacct[2]);
	if (nother || yoc_skipped_total(&skipped)) {
		char text[512];
		size_t nsk = yoc_skipped_total(&skipped);
		FILE *f = json ? stderr : stdout;
		cli_skipped_text(&skipped, text, sizeof text);
		fprintf(f, "%sskipped in directories: ", json ? "yoc load: " : "");
		if (nother)
			fprintf(f, "%zu file%s not .csv or .txt", nother, nother == 1 ? "" : "s");
		fprintf(f, "%s%s\n", nother && nsk ? ", " : "", nsk ? text : "");
	}
	rc = 0;
fail:
	if (rc)
		cli_err_rec("load", &e);
	yoc_loader_free(L);
	yoc_store_close(s);
	yoc_free(res);
	yoc_allow_free(allow);
	yoc_load_plan_free(&plan);
	yoc_free(jobv);
	for (size_t i = 0; i < nall; i++)
		yoc_free(all[i]);
	yoc_free(all);
	yoc_free(roots);
	return rc ? 1 : status;
}

const struct cli_verb cli_verb_load = {
	"load", "load pseudonymised feeds into a dataset (atomic)", usage_text, run
};

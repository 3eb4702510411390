/*
** yoc load: loads pseudonymised feed files (or directories of them) into a
** dataset in one atomic transaction, printing per-file row accounting.
*/
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "load/load.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc load --db DIR [--kind KIND] [--json] PATH...\n\n"
	"Loads pseudonymised feed files, or every .csv/.txt file under a directory\n"
	"(hidden files, symbolic links, named pipes, sockets and devices are skipped\n"
	"and counted),\n"
	"into the dataset DIR. Each file's kind is recognised from its header (or\n"
	"--kind: apc op ae community mh gp_appt gp_register social_care ambulance\n"
	"deaths); provider and period come from the name PROVIDER_PERIOD.csv.\n"
	"Rows failing validation go to quarantine with a reason; for every file\n"
	"rows = loaded + quarantined. A file loaded before (same content) is\n"
	"'unchanged'; a new file for the same kind, provider and period 'replaces'\n"
	"the old one. Files with NHS numbers, dates of birth, names or postcodes\n"
	"are refused. The whole load commits at once or not at all.\n\n"
	"  --db DIR     the dataset (see 'yoc init')\n"
	"  --kind KIND  feed kind for every file instead of recognising it\n"
	"  --json       one JSON object per file on stdout\n\n"
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
		printf("},\"status\":\"%s\"", yoc_load_status_str(r->status));
		if (r->status == YOC_LOAD_REJECTED) {
			printf(",\"message\":");
			cli_json_str(stdout, r->message);
		}
		printf("}\n");
		return;
	}
	if (r->status == YOC_LOAD_REJECTED) {
		printf("%s: rejected: %s\n", r->file, r->message);
		return;
	}
	printf("%s: %s %s %s: %lld rows, %lld loaded, %lld quarantined [%s]\n", r->file,
	       yoc_spec_kind_name(r->kind), r->provider, r->period, (long long)r->rows,
	       (long long)r->loaded, (long long)r->quarantined, yoc_load_status_str(r->status));
}

static int wanted(const char *p)
{
	size_t n = strlen(p);
	return (n > 4 && (strcmp(p + n - 4, ".csv") == 0 || strcmp(p + n - 4, ".txt") == 0));
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

static int run(int argc, char **argv)
{
	struct cli_opt opts[] = {
		{"db", 1, NULL}, {"kind", 1, NULL}, {"json", 0, NULL}, {NULL, 0, NULL}
	};
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
	int json = cli_get(opts, "json") != NULL;
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_store *s = NULL;
	struct yoc_loader *L = NULL;
	struct yoc_load_result *res = NULL;
	int status = 0, rc;
	long long nfiles = 0, nrows = 0, nloaded = 0, nquar = 0, nstat[8] = {0};
	struct yoc_skipped skipped = {0}, sk; /* what directory walks left out */
	size_t nother = 0;                    /* files not .csv/.txt */
	if ((rc = yoc_store_open(&s, db, YOC_STORE_WRITE, &e)) ||
	    (rc = yoc_loader_begin(&L, s, &e)))
		goto fail;
	res = yoc_malloc(sizeof *res);
	if (!res) {
		rc = yoc_error_set(&e, YOC_ENOMEM, "load", 0, 0, "out of memory");
		goto fail;
	}
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
			if (paths && !wanted(p)) {
				nother++;
				continue;
			}
			rc = yoc_loader_file(L, p, kind, res, &e);
			if (rc) {
				yoc_paths_free(paths);
				goto fail;
			}
			if (res->status == YOC_LOAD_REJECTED) {
				status = 1;
				if (!json)
					fprintf(stderr, "yoc load: %s: %s\n", res->file, res->message);
			}
			report(res, json);
			nfiles++;
			nrows += res->rows;
			nloaded += res->loaded;
			nquar += res->quarantined;
			if (res->status >= 0 && res->status < 8)
				nstat[res->status]++;
		}
		yoc_paths_free(paths);
	}
	if ((rc = yoc_loader_commit(L, &e)))
		goto fail;
	if (!json)
		printf("load committed: %lld files (%lld loaded, %lld replaced, %lld unchanged, "
		       "%lld rejected); %lld rows: %lld loaded, %lld quarantined\n",
		       nfiles, nstat[YOC_LOAD_LOADED], nstat[YOC_LOAD_REPLACED],
		       nstat[YOC_LOAD_UNCHANGED], nstat[YOC_LOAD_REJECTED], nrows, nloaded, nquar);
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
	yoc_loader_free(L);
	yoc_store_close(s);
	yoc_free(res);
	return status;
fail:
	cli_err_rec("load", &e);
	yoc_loader_free(L);
	yoc_store_close(s);
	yoc_free(res);
	return 1;
}

const struct cli_verb cli_verb_load = {
	"load", "load pseudonymised feeds into a dataset (atomic)", usage_text, run
};

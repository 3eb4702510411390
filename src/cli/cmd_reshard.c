/*
** yoc reshard: makes K2 shards (or one dataset) from a dataset or its K
** shards. By default from the datasets themselves (src/shard/shard_split.c):
** each file's rows and catalog rows are split by person into the targets,
** no feed is read. With --replay it replays the load history instead: every
** loaded feed file, in the order and the loads it was loaded in, read again
** from the path the catalog recorded (and checked against its recorded
** content hash), cut by person as a sharded load cuts it (src/shard) and
** loaded into each target by the ordinary loader. One process, no MPI.
** docs/mpi.md, "Resharding".
*/
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "ident/ident.h"
#include "load/load.h"
#include "shard/shard.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc reshard --from DIR... --to DIR... [--jobs N]\n"
	"       yoc reshard --replay --from DIR... --to DIR... [--kind KIND]\n"
	"                   [--allow FILE] [--strict]\n\n"
	"Splits a dataset into shards, or joins shards into one dataset, or changes\n"
	"their number: the --to folders become shards 0..K-1 of K (one folder: a\n"
	"single dataset), each holding the persons FNV-1a-64(pseudonym) mod K names,\n"
	"as 'mpirun -n K yoc load --shards' would have made them. --from names the\n"
	"dataset, or all its shards in order. The sources are only read.\n\n"
	"By default the targets are made from the datasets alone; the feeds are not\n"
	"needed. Each file keeps its id; its rows go to the shard of their person\n"
	"(rows without one: shard file_id mod K) with their quarantined rows and\n"
	"flags; each shard's files rows count its own rows, and the file statistics\n"
	"and NHS number statuses are counted again from them; person and linkage are\n"
	"rebuilt. --jobs N: threads for the linkage (default: the CPUs).\n\n"
	"--replay reads every loaded feed again from the path the dataset recorded\n"
	"(relative paths: from the folder the load ran in; each must have the\n"
	"content it had) and loads the history again, load by load, every row\n"
	"through the loader: exact in the few cases the default cannot be\n"
	"(docs/mpi.md).\n"
	"Give --kind, --allow and --strict as the loads had them.\n\n"
	"A target must be new, empty, or a reshard of the same sources left\n"
	"unfinished (it is finished): killed, a reshard leaves each target empty or\n"
	"whole (--replay: with the loads done so far), and the same command run\n"
	"again finishes it. The analysis and the tables of later verbs are not\n"
	"carried: analyse the targets afterwards.\n";

#define MAXSH 256

struct entry {
	int64_t file_id, load_id;
	int dup;               /* a copy of a loaded file (duplicate_files) */
	char *path;
	char hash[40];
};

/* The load history of a catalog: files by file_id, then each load's copies. */
static int history(const char *dir, struct entry **out, size_t *n, struct yoc_error *e)
{
	char db[4200];
	sqlite3 *h = NULL;
	sqlite3_stmt *q = NULL;
	struct entry *v = NULL;
	size_t nv = 0, cap = 0;
	int rc = YOC_OK;
	snprintf(db, sizeof db, "%s/yoc.db", dir);
	if ((rc = yoc_store_recover(db, e)))
		return rc;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h, "SELECT file_id, load_id, path, hash, 0 AS o FROM files UNION ALL "
			       "SELECT file_id, load_id, path, hash, 1 FROM duplicate_files "
			       "ORDER BY 2, 5, 1, 3", -1, &q, NULL) != SQLITE_OK) {
		rc = yoc_error_set(e, YOC_EIO, db, 0, 0, "sqlite: %s", sqlite3_errmsg(h));
		goto cleanup;
	}
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (nv == cap) {
			size_t nc = cap ? cap * 2 : 256;
			struct entry *nn = yoc_realloc(v, nc * sizeof *nn);
			if (!nn)
				goto oom;
			v = nn;
			cap = nc;
		}
		struct entry *x = &v[nv];
		x->file_id = sqlite3_column_int64(q, 0);
		x->load_id = sqlite3_column_int64(q, 1);
		x->dup = sqlite3_column_int(q, 4);
		const char *p = (const char *)sqlite3_column_text(q, 2);
		const char *hh = (const char *)sqlite3_column_text(q, 3);
		snprintf(x->hash, sizeof x->hash, "%s", hh ? hh : "");
		if (!(x->path = yoc_strdup(p ? p : "")))
			goto oom;
		nv++;
	}
	*out = v;
	*n = nv;
	v = NULL;
	goto cleanup;
oom:
	rc = yoc_error_set(e, YOC_ENOMEM, dir, 0, 0, "out of memory");
cleanup:
	for (size_t i = 0; v && i < nv; i++)
		yoc_free(v[i].path);
	yoc_free(v);
	sqlite3_finalize(q);
	sqlite3_close(h);
	return rc;
}

static void history_free(struct entry *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		yoc_free(v[i].path);
	yoc_free(v);
}

/* The folders after option name, up to the next option. */
/*
** Target t of nto: refused if it is one of the sources or another split's
** shard, made a dataset if it is not one, and its load history read (both
** ways of resharding then decide whether it may be written).
*/
static int target_history(char **from, int nfrom, char **to, int t, int nto,
			  struct entry **h, size_t *nh, struct yoc_error *e)
{
	for (int s = 0; s < nfrom; s++) {
		char a[4096], b[4096];
		if (realpath(to[t], a) && realpath(from[s], b) && strcmp(a, b) == 0)
			return yoc_error_set(e, YOC_EINVAL, to[t], 0, 0, "a target is also a source");
	}
	char db[4200];
	snprintf(db, sizeof db, "%s/yoc.db", to[t]);
	int rc = yoc_shard_check(to[t], t, nto, e);
	if (!rc && access(db, F_OK) != 0)
		rc = yoc_store_init(to[t], e);
	return rc ? rc : history(to[t], h, nh, e);
}

static int take(int argc, char **argv, const char *name, char **dirs, int *n)
{
	*n = 0;
	for (int i = 1; i < argc; i++) {
		if (!argv[i] || strcmp(argv[i], name) != 0)
			continue;
		for (int j = i + 1; j < argc && argv[j] && strncmp(argv[j], "--", 2) != 0; j++) {
			if (*n == MAXSH)
				return 1;
			dirs[(*n)++] = argv[j];
			argv[j] = NULL;
		}
		argv[i] = NULL;
	}
	return 0;
}

struct rs_ctx {
	const struct entry *x;
	int status; /* the result's */
	int64_t file_id;
	char message[600];
};

static int rs_done(void *ctx, size_t i, const struct yoc_load_result *res)
{
	struct rs_ctx *c = ctx;
	c->status = res ? res->status : YOC_LOAD_REJECTED;
	c->file_id = res ? res->file_id : 0;
	snprintf(c->message, sizeof c->message, "%s", res ? res->message : "not loaded");
	return 0;
}

/* The replay of the load history (--replay). */
static int run_replay(char **from, int nfrom, char **to, int nto, const struct cli_opt *opts)
{
	int rc = 0;
	int kind = -1;
	const char *ks = cli_get(opts, "kind");
	if (ks && (kind = yoc_spec_kind_by_name(ks)) < 0) {
		cli_err("reshard", "unknown kind '%s'", ks);
		return 2;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	struct entry *h = NULL, *h2 = NULL;
	size_t nh = 0, nh2 = 0;
	yoc_allow *allow = NULL;
	yoc_store *st[MAXSH] = {NULL};
	struct yoc_loader *L[MAXSH] = {NULL};
	struct yoc_buf part[MAXSH], file;
	int strict = cli_get(opts, "strict") != NULL;
	char *data = NULL;
	long long nfiles = 0, nrows = 0;
	int begun = 0; /* a load of the history was started on the targets */
	for (int t = 0; t < MAXSH; t++)
		yoc_buf_init(&part[t], 0);
	yoc_buf_init(&file, 0);
	if (cli_get(opts, "allow") && (rc = yoc_allow_load(&allow, cli_get(opts, "allow"), &e)))
		goto fail;
	/* the sources: shards 0..K-1 of one history, in order */
	for (int s = 0; s < nfrom; s++) {
		struct stat sb;
		char db[4200];
		snprintf(db, sizeof db, "%s/yoc.db", from[s]);
		if (stat(db, &sb) != 0) {
			rc = yoc_error_set(&e, YOC_ENOTFOUND, from[s], 0, 0, "not a dataset (no yoc.db)");
			goto fail;
		}
		if ((rc = yoc_shard_check(from[s], s, nfrom, &e)))
			goto fail;
		struct entry **dst = s ? &h2 : &h;
		size_t *dn = s ? &nh2 : &nh;
		if ((rc = history(from[s], dst, dn, &e)))
			goto fail;
		if (!s)
			continue;
		int same = nh2 == nh;
		for (size_t i = 0; same && i < nh; i++)
			same = h[i].file_id == h2[i].file_id && strcmp(h[i].hash, h2[i].hash) == 0;
		history_free(h2, nh2);
		h2 = NULL;
		if (!same) {
			rc = yoc_error_set(&e, YOC_EINVAL, from[s], 0, 0,
					   "not a shard of the same history as %s", from[0]);
			goto fail;
		}
	}
	for (int t = 0; t < nto; t++) {
		/* new, empty or a prefix of this history (an unfinished reshard) */
		if ((rc = target_history(from, nfrom, to, t, nto, &h2, &nh2, &e)))
			goto fail;
		int prefix = nh2 <= nh;
		for (size_t i = 0; prefix && i < nh2; i++)
			prefix = h[i].file_id == h2[i].file_id && strcmp(h[i].hash, h2[i].hash) == 0;
		history_free(h2, nh2);
		h2 = NULL;
		if (!prefix) {
			rc = yoc_error_set(&e, YOC_EINVAL, to[t], 0, 0,
					   "holds other data: a target must be new, empty or an "
					   "unfinished reshard of the same history");
			goto fail;
		}
		if ((rc = yoc_store_open(&st[t], to[t], YOC_STORE_WRITE, &e)))
			goto fail;
	}
	/* each load of the history again, committed on every target */
	begun = 1;
	for (size_t a = 0; a < nh;) {
		size_t b = a;
		while (b < nh && h[b].load_id == h[a].load_id)
			b++;
		for (int t = 0; t < nto; t++) {
			if ((rc = yoc_loader_begin(&L[t], st[t], &e)))
				goto fail;
			yoc_loader_policy(L[t], allow, strict);
		}
		for (size_t i = a; i < b; i++) {
			const struct entry *x = &h[i];
			char got[40];
			size_t n = 0;
			struct stat sb;
			int fd = yoc_open_regular(x->path, O_RDONLY, 0, &e);
			if (fd < 0 || fstat(fd, &sb) != 0 ||
			    yoc__load_read_fd(fd, (size_t)sb.st_size, x->path, &data, &e)) {
				if (fd >= 0)
					close(fd);
				cli_err_rec("reshard", &e);
				rc = yoc_error_set(&e, YOC_ENOTFOUND, x->path, 0, 0,
						   "the feed loaded as file %lld cannot be read: reshard "
						   "replays the loaded feeds (run it from the folder the "
						   "load ran in)", (long long)x->file_id);
				goto fail;
			}
			close(fd);
			n = (size_t)sb.st_size;
			yoc_load_content_hash(data, n, got);
			if (strcmp(got, x->hash) != 0) {
				rc = yoc_error_set(&e, YOC_EDATA, x->path, 0, 0,
						   "has changed since it was loaded as file %lld (content "
						   "hash %s, loaded %s): reshard replays the loaded feeds",
						   (long long)x->file_id, got, x->hash);
				goto fail;
			}
			struct yoc_shard_split_stats sst = {0, 0};
			for (int t = 0; t < nto; t++)
				yoc_buf_reset(&part[t]);
			/* rows without a person: a shard fixed by the file */
			if ((rc = yoc_shard_split(x->path, data, n, (uint32_t)i, kind, allow, strict, nto,
						  (int)(x->file_id % nto), part, &sst, &e)))
				goto fail;
			for (int t = 0; t < nto; t++) {
				struct yoc_shard_part pt;
				size_t pos = 0;
				if ((rc = yoc_shard_join(part[t].data, part[t].len, &pos, &pt, &file, &e)))
					goto fail;
				struct yoc_load_job job = {
					.path = x->path, .root = x->path, .kind = kind, .skip = pt.refused,
					.data = file.data ? file.data : "", .ndata = file.len,
					.hash = pt.whole ? NULL : pt.hash, .bytes = (int64_t)pt.bytes,
					.scanned = !pt.whole,
				};
				struct rs_ctx c = {x, 0, 0, ""};
				if ((rc = yoc_loader_files(L[t], &job, 1, rs_done, &c, &e)))
					goto fail;
				/* the history again: the same file ids (a copy: unchanged) */
				if (c.status == YOC_LOAD_REJECTED || c.file_id != x->file_id ||
				    (x->dup && c.status != YOC_LOAD_UNCHANGED)) {
					rc = yoc_error_set(&e, YOC_EDATA, x->path, 0, 0,
							   "replayed as file %lld (%s%s%s), loaded as file %lld: "
							   "the history cannot be replayed as it was (give "
							   "--kind, --allow, --strict as the load had them)",
							   (long long)c.file_id, yoc_load_status_str(c.status),
							   *c.message ? ": " : "", c.message,
							   (long long)x->file_id);
					goto fail;
				}
			}
			nfiles++;
			nrows += (long long)sst.rows;
			yoc_free(data);
			data = NULL;
		}
		for (int t = 0; t < nto; t++) {
			if ((rc = yoc_shard_mark(st[t], t, nto, &e)) || (rc = yoc_loader_commit(L[t], &e)))
				goto fail;
			yoc_loader_free(L[t]);
			L[t] = NULL;
		}
		a = b;
	}
	printf("reshard: %lld files (%lld rows) from %d to %d %s\n", nfiles, nrows, nfrom, nto,
	       nto == 1 ? "dataset" : "shards");
	rc = 0;
	goto cleanup;
fail:
	cli_err_rec("reshard", &e);
	if (begun)
		fprintf(stderr, "yoc reshard: stopped; the targets hold the loads committed so far: "
			"run it again to finish\n");
	rc = 1;
cleanup:
	yoc_free(data);
	for (int t = 0; t < nto; t++) {
		yoc_loader_free(L[t]);
		yoc_store_close(st[t]);
	}
	for (int t = 0; t < MAXSH; t++)
		yoc_buf_free(&part[t]);
	yoc_buf_free(&file);
	history_free(h, nh);
	history_free(h2, nh2);
	yoc_allow_free(allow);
	return rc;
}

struct rs_progress {
	struct yoc_progress p;
	int started;
};

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct rs_progress *P = ctx;
	if (!P->started) {
		yoc_progress_start(&P->p, "reshard", total);
		P->started = 1;
	}
	yoc_progress_rows(&P->p, done);
	yoc_progress_update(&P->p, done);
}

/* A target's rows and persons, as committed. */
static void target_line(const char *dir, int t, int nto)
{
	char db[4200];
	sqlite3 *h = NULL;
	sqlite3_stmt *q = NULL;
	long long loaded = 0, quar = 0, persons = 0;
	snprintf(db, sizeof db, "%s/yoc.db", dir);
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, "SELECT coalesce(sum(loaded), 0), coalesce(sum(quarantined), 0),"
			       " (SELECT count(*) FROM person) FROM files", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW) {
		loaded = sqlite3_column_int64(q, 0);
		quar = sqlite3_column_int64(q, 1);
		persons = sqlite3_column_int64(q, 2);
	}
	sqlite3_finalize(q);
	sqlite3_close(h);
	if (nto > 1)
		printf("  shard %d/%d %s: %lld rows loaded, %lld quarantined, %lld persons\n", t, nto,
		       dir, loaded, quar, persons);
	else
		printf("  %s: %lld rows loaded, %lld quarantined, %lld persons\n", dir, loaded, quar,
		       persons);
}

/* From the datasets themselves (the default): src/shard/shard_split.c. */
static int run_split(char **from, int nfrom, char **to, int nto, int jobs)
{
	struct yoc_error e;
	yoc_error_clear(&e);
	struct entry *h = NULL, *h2 = NULL;
	size_t nh = 0, nh2 = 0;
	yoc_store *src[MAXSH] = {NULL}, *dst[MAXSH] = {NULL};
	int pending[MAXSH] = {0}, npending = 0, rc;
	struct rs_progress P;
	memset(&P, 0, sizeof P);
	/* the sources: shards 0..K-1 of one dataset, in order, read only */
	for (int s = 0; s < nfrom; s++) {
		struct stat sb;
		char db[4200];
		snprintf(db, sizeof db, "%s/yoc.db", from[s]);
		if (stat(db, &sb) != 0) {
			rc = yoc_error_set(&e, YOC_ENOTFOUND, from[s], 0, 0, "not a dataset (no yoc.db)");
			goto fail;
		}
		if ((rc = yoc_shard_check(from[s], s, nfrom, &e)) ||
		    (rc = yoc_store_open(&src[s], from[s], 0, &e)))
			goto fail;
		if (s == 0 && (rc = history(from[0], &h, &nh, &e)))
			goto fail;
	}
	/* the targets: new, empty, or already this reshard (skipped) */
	for (int t = 0; t < nto; t++) {
		if ((rc = target_history(from, nfrom, to, t, nto, &h2, &nh2, &e)))
			goto fail;
		int prefix = nh2 <= nh;
		for (size_t i = 0; prefix && i < nh2; i++)
			prefix = h[i].file_id == h2[i].file_id && strcmp(h[i].hash, h2[i].hash) == 0 &&
				 h[i].dup == h2[i].dup;
		int empty = nh2 == 0, same = prefix && nh2 == nh;
		history_free(h2, nh2);
		h2 = NULL;
		if (!empty && !(same && nh)) {
			/* a reshard from the datasets leaves a target empty or whole: a part
			 * of the history is what a killed --replay leaves */
			rc = yoc_error_set(&e, YOC_EINVAL, to[t], 0, 0,
					   prefix ? "holds the first loads of these sources (a --replay "
						    "left unfinished): finish it with --replay, or give "
						    "an empty target"
						  : "holds other data: a target must be new, empty or an "
						    "unfinished reshard of the same sources");
			goto fail;
		}
		if (!empty)
			continue; /* committed by an earlier run */
		pending[t] = 1;
		npending++;
		if ((rc = yoc_store_open(&dst[t], to[t], YOC_STORE_WRITE, &e)))
			goto fail;
		yoc_store_jobs(dst[t], jobs);
	}
	if (!npending) {
		printf("reshard: nothing to do: every target already holds this reshard\n");
		rc = 0;
		goto cleanup;
	}
	struct yoc_shard_reshard st;
	rc = yoc_shard_reshard(src, nfrom, dst, nto, pending, on_progress, &P, &st, &e);
	if (P.started)
		yoc_progress_end(&P.p);
	if (rc)
		goto fail;
	printf("reshard: %llu files from %d %s to %d %s, from the %s (no feed read): %llu rows "
	       "loaded, %llu quarantined, %llu flags\n", (unsigned long long)st.files, nfrom,
	       nfrom == 1 ? "dataset" : "shards", nto, nto == 1 ? "dataset" : "shards",
	       nfrom == 1 ? "dataset" : "shards", (unsigned long long)st.loaded,
	       (unsigned long long)st.quarantined, (unsigned long long)st.flags);
	for (int t = 0; t < nto; t++)
		if (pending[t])
			target_line(to[t], t, nto);
	if (npending < nto)
		printf("  %d %s already held this reshard: left as %s\n", nto - npending,
		       nto - npending == 1 ? "target" : "targets", nto - npending == 1 ? "it was" : "they were");
	if (st.unread)
		fprintf(stderr, "yoc reshard: %llu quarantined rows hold commas in their cells, so "
			"their person could not be read: each went to shard file_id mod %d\n",
			(unsigned long long)st.unread, nto);
	if (st.unmatched)
		fprintf(stderr, "yoc reshard: %llu flags name no loaded row: each went to shard "
			"file_id mod %d\n", (unsigned long long)st.unmatched, nto);
	if (st.unwritten)
		fprintf(stderr, "yoc reshard: %llu values of int fields are not known as written (a "
			"file wrote them two ways, as 1 and 01, or they were past the first %d values "
			"its statistics count): counted in their decimal form in the targets' file "
			"statistics\n", (unsigned long long)st.unwritten, 200);
	if (st.flagged_differ)
		fprintf(stderr, "yoc reshard: %llu files count flagged rows otherwise than their "
			"flags and quarantine show (loaded by an older version): their flagged "
			"counts are the flags and refused values each shard holds\n",
			(unsigned long long)st.flagged_differ);
	printf("reshard: not carried: the analysis (person_year and its companion tables) and the "
	       "tables of later verbs (risk, cohorts, budgets, ...): run yoc analyse on the "
	       "%s\n", nto == 1 ? "dataset" : "shards");
	rc = 0;
	goto cleanup;
fail:
	cli_err_rec("reshard", &e);
	if (npending)
		fprintf(stderr, "yoc reshard: stopped; each target is as it was, or whole: run it "
			"again to finish\n");
	rc = 1;
cleanup:
	for (int t = 0; t < nto; t++)
		yoc_store_close(dst[t]);
	for (int s = 0; s < nfrom; s++)
		yoc_store_close(src[s]);
	history_free(h, nh);
	history_free(h2, nh2);
	return rc;
}

static int run(int argc, char **argv)
{
	char *from[MAXSH], *to[MAXSH];
	int nfrom = 0, nto = 0;
	if (take(argc, argv, "--from", from, &nfrom) || take(argc, argv, "--to", to, &nto)) {
		cli_err("reshard", "at most %d folders each for --from and --to", MAXSH);
		return 2;
	}
	/* what is left: the other options */
	int ac = 1;
	for (int i = 1; i < argc; i++)
		if (argv[i])
			argv[ac++] = argv[i];
	argv[ac] = NULL;
	struct cli_opt opts[] = {
		{"kind", 1, NULL}, {"allow", 1, NULL}, {"strict", 0, NULL}, {"replay", 0, NULL},
		{"jobs", 1, NULL}, {NULL, 0, NULL}
	};
	int npos;
	if (cli_parse("reshard", ac, argv, opts, &npos))
		return 2;
	if (npos || !nfrom || !nto) {
		cli_err("reshard", "give --from DIR... and --to DIR...; see 'yoc help reshard'");
		return 2;
	}
	if (cli_get(opts, "replay"))
		return run_replay(from, nfrom, to, nto, opts);
	if (cli_get(opts, "kind") || cli_get(opts, "allow") || cli_get(opts, "strict")) {
		cli_err("reshard", "--kind, --allow and --strict go with --replay (the feeds' load); "
			"a reshard from the datasets reads no feed");
		return 2;
	}
	long jobs;
	if (cli_get_long("reshard", opts, "jobs", sysconf(_SC_NPROCESSORS_ONLN), &jobs))
		return 2;
	return run_split(from, nfrom, to, nto, (int)(jobs < 1 ? 1 : jobs > 64 ? 64 : jobs));
}

const struct cli_verb cli_verb_reshard = {
	"reshard", "split a dataset into shards or join them (from the dataset, or --replay)",
	usage_text, run
};

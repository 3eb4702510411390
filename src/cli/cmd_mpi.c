/*
** The sharded forms of load, analyse and report: `mpirun -n K yoc VERB
** --shards DIR1 .. DIRK ...` (docs/mpi.md). Each verb's run() hands over
** here when --shards is on its line, so MPI is started only then. Rank r
** works on shard DIRr; rank 0 prints. The work is src/shard and the
** ordinary modules; this file parses, drives and prints.
*/
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyse/analyse.h"
#include "cli/cli.h"
#include "ident/ident.h"
#include "load/load.h"
#include "report/report.h"
#include "shard/shard.h"
#include "yoc/date.h"
#include "yoc/io.h"

int cli_mpi_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--shards") == 0)
			return 1;
	return 0;
}

/*
** Starts MPI and takes "--shards DIR1 .. DIRK" (K = ranks) out of argv.
** Returns 0 with *dirs pointing into argv, else prints why and returns 2.
*/
static int shards_begin(const char *verb, int *argc, char ***argv, char ***dirs)
{
	struct yoc_error e;
	yoc_error_clear(&e);
	if (yoc_shard_start(argc, argv, &e)) {
		cli_err_rec(verb, &e);
		return 1;
	}
	int k = yoc_shard_size(), n = *argc, at = -1, got = 0;
	char **v = *argv;
	for (int i = 1; i < n && at < 0; i++)
		if (strcmp(v[i], "--shards") == 0)
			at = i;
	while (at + 1 + got < n && got < k && strncmp(v[at + 1 + got], "--", 2) != 0)
		got++;
	if (got < k || k > 256) {
		if (yoc_shard_rank() == 0)
			cli_err(verb, "--shards takes one folder per rank: %d rank%s (mpirun -n; at "
				"most 256), %d folder%s given", k, k == 1 ? "" : "s", got,
				got == 1 ? "" : "s");
		return 2;
	}
	char **d = yoc_calloc((size_t)k + 1, sizeof *d);
	if (!d) {
		cli_err(verb, "out of memory");
		return 1;
	}
	for (int i = 0; i < k; i++)
		d[i] = v[at + 1 + i];
	/* the rest of the line without --shards and its folders */
	memmove(&v[at], &v[at + 1 + k], (size_t)(n - at - 1 - k) * sizeof *v);
	*argc = n - 1 - k;
	v[*argc] = NULL;
	*dirs = d;
	return 0;
}

/* Every rank's status: the worst (largest) one, so all ranks exit alike. */
static int shards_end(int rc, char **dirs)
{
	int64_t v = rc;
	struct yoc_error e;
	yoc_error_clear(&e);
	int64_t neg = -v;
	yoc_shard_min(&neg, 1, &e);
	yoc_free(dirs);
	yoc_shard_stop();
	return (int)-neg;
}

/* ---- load ---- */

/*
** A batch: the files read by all ranks for one exchange, at most 64 MiB
** (the memory it holds) and 256 files (the results rank 0 gathers: 256 per
** rank, about 6 KiB each).
*/
#define BATCH_BYTES ((uint64_t)64 << 20)
#define BATCH_FILES 256

struct mload {
	const struct yoc_load_plan *plan;
	size_t first;                    /* the batch's first item */
	struct yoc_shard_part *parts;    /* per item of the batch */
	int k, me;
	struct yoc_load_result *all;     /* rank 0: every shard's result of a file */
	struct yoc_load_result *local;   /* this shard's results of the batch */
	struct yoc_buf *gat;
	struct yoc_progress *prog;
	long long nfiles, nrows, nloaded, nquar, nstat[8];
	uint64_t bytes_done;
	int status, failed;
	struct yoc_error e;
};

/* Every shard's result of one file, as one: counts added, reasons by first line. */
static void merge_results(struct yoc_load_result *out, const struct yoc_load_result *r, int k)
{
	*out = r[0];
	for (int s = 1; s < k; s++) {
		out->rows += r[s].rows;
		out->loaded += r[s].loaded;
		out->quarantined += r[s].quarantined;
		out->flagged += r[s].flagged;
		if (r[s].status == YOC_LOAD_REJECTED && out->status != YOC_LOAD_REJECTED) {
			out->status = YOC_LOAD_REJECTED;
			memcpy(out->message, r[s].message, sizeof out->message);
		}
		for (size_t i = 0; i < r[s].nreasons; i++) {
			size_t j = 0;
			while (j < out->nreasons && strcmp(out->reasons[j].code, r[s].reasons[i].code))
				j++;
			if (j == out->nreasons) {
				if (out->nreasons == YOC_LOAD_MAX_REASONS)
					continue;
				out->reasons[out->nreasons++] = r[s].reasons[i];
				continue;
			}
			out->reasons[j].rows += r[s].reasons[i].rows;
			if (r[s].reasons[i].line &&
			    (!out->reasons[j].line || r[s].reasons[i].line < out->reasons[j].line)) {
				out->reasons[j].line = r[s].reasons[i].line;
				out->reasons[j].col = r[s].reasons[i].col;
				memcpy(out->reasons[j].field, r[s].reasons[i].field,
				       sizeof out->reasons[j].field);
			}
		}
	}
	/* in the order the reader met them: by first line */
	for (size_t i = 1; i < out->nreasons; i++)
		for (size_t j = i; j > 0 && out->reasons[j].line < out->reasons[j - 1].line; j--) {
			__typeof__(out->reasons[0]) t = out->reasons[j];
			out->reasons[j] = out->reasons[j - 1];
			out->reasons[j - 1] = t;
		}
}

static void print_result(const struct yoc_load_result *r)
{
	cli_load_line(r);
	if (r->status == YOC_LOAD_REJECTED) {
		fputs("yoc load: ", stderr);
		cli_put_escaped(stderr, r->file);
		fputs(": ", stderr);
		cli_put_escaped(stderr, r->message);
		fputc('\n', stderr);
		return;
	}
	cli_load_reasons(r);
}

/* One file committed on this shard: its result, kept for the batch's gather. */
static int mload_done(void *ctx, size_t i, const struct yoc_load_result *res)
{
	struct mload *M = ctx;
	const struct yoc_load_item *it = &M->plan->items[M->first + i];
	const struct yoc_shard_part *pt = &M->parts[i];
	struct yoc_load_result *local = &M->local[i];
	if (res) {
		*local = *res;
	} else if (it->refuse) {
		yoc_load_refused(it, local);
	} else { /* refused where it was read */
		memset(local, 0, sizeof *local);
		local->kind = it->kind;
		snprintf(local->file, sizeof local->file, "%s", it->path);
		local->status = YOC_LOAD_REJECTED;
		snprintf(local->message, sizeof local->message, "%s", pt->why ? pt->why : "");
		local->rows = M->me == 0 ? (int64_t)pt->rows : 0;
	}
	return 0;
}

/*
** A batch committed on every shard: rank 0 gathers the shards' results
** (one exchange per batch, not per file: ranks wait for each other only
** there) and prints each file's, in load order.
*/
static int mload_batch(struct mload *M, size_t nb)
{
	if (yoc_shard_gather(M->local, nb * sizeof *M->local, M->gat, 0, &M->e))
		return M->e.code;
	if (M->me != 0)
		return 0;
	for (size_t i = 0; i < nb; i++) {
		const struct yoc_load_item *it = &M->plan->items[M->first + i];
		for (int s = 0; s < M->k; s++)
			memcpy(&M->all[s], M->gat[s].data + i * sizeof *M->all, sizeof *M->all);
		struct yoc_load_result m;
		merge_results(&m, M->all, M->k);
		struct stat st;
		yoc_progress_clear(M->prog);
		print_result(&m);
		if (m.status == YOC_LOAD_REJECTED)
			M->status = 1;
		M->nfiles++;
		M->nrows += m.rows;
		M->nloaded += m.loaded;
		M->nquar += m.quarantined;
		if (m.status >= 0 && m.status < 8)
			M->nstat[m.status]++;
		M->bytes_done += stat(it->path, &st) == 0 ? (uint64_t)st.st_size : 0;
	}
	yoc_progress_rows(M->prog, (uint64_t)M->nrows);
	yoc_progress_update(M->prog, M->bytes_done);
	return 0;
}

/* Reads the file at path into *data (yoc_malloc'd); on a refusal, why (0 returned). */
static int read_file(const char *path, char **data, size_t *n, char *why, size_t cap,
		     struct yoc_error *e)
{
	struct yoc_error re;
	struct stat sb;
	yoc_error_clear(&re);
	*data = NULL;
	*why = 0;
	int fd = yoc_open_regular(path, O_RDONLY, 0, &re);
	if (fd >= 0 && fstat(fd, &sb) != 0)
		yoc_error_set(&re, YOC_EIO, path, 0, 0, "cannot stat: %s", strerror(errno));
	else if (fd >= 0)
		yoc__load_read_fd(fd, (size_t)sb.st_size, path, data, &re);
	if (fd >= 0)
		close(fd);
	if (*data) {
		*n = (size_t)sb.st_size;
		return 0;
	}
	if (re.code == YOC_ENOMEM)
		return yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "%s", re.msg);
	snprintf(why, cap, "%s", re.msg);
	return 0;
}

static int mpi_load(int argc, char **argv, char **dirs)
{
	struct cli_opt opts[] = {
		{"kind", 1, NULL}, {"allow", 1, NULL}, {"strict", 0, NULL}, {"jobs", 1, NULL},
		{NULL, 0, NULL}
	};
	int npos, k = yoc_shard_size(), me = yoc_shard_rank(), rc = 0;
	if (cli_parse("load", argc, argv, opts, &npos))
		return 2;
	if (npos == 0) {
		cli_err("load", "give --shards DIR... and at least one PATH; see 'yoc help load'");
		return 2;
	}
	int kind = -1;
	const char *ks = cli_get(opts, "kind");
	if (ks && (kind = yoc_spec_kind_by_name(ks)) < 0) {
		cli_err("load", "unknown kind '%s'", ks);
		return 2;
	}
	long jobs = 1;
	if (cli_get_long("load", opts, "jobs", 1, &jobs))
		return 2;
	if (jobs < 1 || jobs > YOC_LOAD_MAX_JOBS) {
		cli_err("load", "--jobs takes a number from 1 to %d", YOC_LOAD_MAX_JOBS);
		return 2;
	}
	struct mload M;
	memset(&M, 0, sizeof M);
	M.k = k;
	M.me = me;
	yoc_error_clear(&M.e);
	struct yoc_error *e = &M.e;
	yoc_store *s = NULL;
	struct yoc_loader *L = NULL;
	yoc_allow *allow = NULL;
	char **all = NULL;
	const char **roots = NULL;
	size_t nall = 0, call = 0;
	struct yoc_load_plan plan = {0, NULL};
	struct yoc_buf *send = NULL, *recv = NULL, *files = NULL;
	struct yoc_load_job *jobv = NULL;
	uint64_t *size = NULL, sent = 0;
	int *owner = NULL;
	struct yoc_shard_split_stats sst = {0, 0};
	struct yoc_progress prog;
	double t0 = yoc_now();
	memset(&prog, 0, sizeof prog);
	M.prog = &prog;
	const char *apath = cli_get(opts, "allow");
	if (apath && (rc = yoc_allow_load(&allow, apath, e)))
		goto fail;
	/* every rank lists and plans the same files (the feeds are on a shared
	 * file system): the same order, the same versions, the same refusals */
	for (int i = 1; i <= npos; i++) {
		char **paths = NULL;
		size_t np = 0;
		struct yoc_skipped sk;
		struct stat st;
		if (lstat(argv[i], &st) != 0) {
			rc = yoc_error_set(e, YOC_ENOTFOUND, argv[i], 0, 0, "no such file or directory");
			goto fail;
		}
		if (yoc_is_dir(argv[i]) && (rc = yoc_list_files_counting(argv[i], &paths, &np, &sk, e)))
			goto fail;
		for (size_t j = 0; j < (paths ? np : 1); j++) {
			const char *p = paths ? paths[j] : argv[i];
			if (yoc_load_is_account(p) || (paths && !cli_load_wanted(p)))
				continue;
			if (nall == call) {
				size_t nc = call ? call * 2 : 64;
				char **na = yoc_realloc(all, nc * sizeof *na);
				const char **nr = na ? yoc_realloc(roots, nc * sizeof *nr) : NULL;
				if (na)
					all = na;
				if (!nr) {
					yoc_paths_free(paths);
					rc = yoc_error_set(e, YOC_ENOMEM, "load", 0, 0, "out of memory");
					goto fail;
				}
				roots = nr;
				call = nc;
			}
			roots[nall] = argv[i];
			if (!(all[nall] = yoc_strdup(p))) {
				yoc_paths_free(paths);
				rc = yoc_error_set(e, YOC_ENOMEM, "load", 0, 0, "out of memory");
				goto fail;
			}
			nall++;
		}
		yoc_paths_free(paths);
	}
	if ((rc = yoc_load_plan_make(&plan, (const char *const *)all, nall, kind, e)))
		goto fail;
	M.plan = &plan;
	/* a missing shard is made, as yoc init makes a dataset; an existing
	 * one must be this rank's shard of a split into k */
	if ((rc = yoc_shard_check(dirs[me], me, k, e)))
		goto fail;
	char dbp[4200];
	snprintf(dbp, sizeof dbp, "%s/yoc.db", dirs[me]);
	if (access(dbp, F_OK) != 0 && (rc = yoc_store_init(dirs[me], e)))
		goto fail;
	if ((rc = yoc_store_open(&s, dirs[me], YOC_STORE_WRITE, e)) ||
	    (rc = yoc_loader_begin(&L, s, e)))
		goto fail;
	yoc_loader_policy(L, allow, cli_get(opts, "strict") != NULL);
	yoc_loader_jobs(L, (int)jobs);
	send = yoc_calloc((size_t)k * 2, sizeof *send);
	M.gat = yoc_calloc((size_t)k, sizeof *M.gat);
	M.all = yoc_calloc((size_t)k, sizeof *M.all);
	size = yoc_calloc(plan.n + 1, sizeof *size);
	owner = yoc_calloc(plan.n + 1, sizeof *owner);
	files = yoc_calloc(plan.n + 1, sizeof *files);
	M.parts = yoc_calloc(plan.n + 1, sizeof *M.parts);
	M.local = yoc_calloc(BATCH_FILES, sizeof *M.local);
	jobv = yoc_calloc(plan.n + 1, sizeof *jobv);
	if (!send || !M.gat || !M.all || !size || !owner || !files || !M.parts || !M.local || !jobv) {
		rc = yoc_error_set(e, YOC_ENOMEM, "load", 0, 0, "out of memory");
		goto fail;
	}
	recv = send + k;
	uint64_t total = 0;
	for (size_t i = 0; i < plan.n; i++) {
		struct stat st;
		size[i] = stat(plan.items[i].path, &st) == 0 ? (uint64_t)st.st_size : 0;
		total += size[i];
	}
	if (me == 0)
		yoc_progress_start(&prog, "load", total);
	/* batches of files in load order: read, routed, loaded, then the next */
	for (size_t a = 0; a < plan.n;) {
		size_t b = a;
		uint64_t bytes = 0;
		while (b < plan.n && b - a < BATCH_FILES && (b == a || bytes + size[b] <= BATCH_BYTES))
			bytes += size[b++];
		/* the readers: largest file first to the rank with the fewest bytes */
		uint64_t load[256] = {0};
		for (size_t i = a; i < b; i++)
			owner[i] = -1;
		for (size_t done = a; done < b; done++) {
			size_t big = b;
			for (size_t i = a; i < b; i++)
				if (owner[i] < 0 && (big == b || size[i] > size[big]))
					big = i;
			int r = 0;
			for (int q = 1; q < k && q < 256; q++)
				if (load[q] < load[r])
					r = q;
			owner[big] = r;
			load[r] += size[big];
		}
		for (int d = 0; d < k; d++)
			yoc_buf_reset(&send[d]);
		for (size_t i = a; i < b; i++) {
			if (owner[i] != me || plan.items[i].refuse)
				continue;
			char *data = NULL, why[600];
			size_t n = 0;
			if ((rc = read_file(plan.items[i].path, &data, &n, why, sizeof why, e)))
				goto fail;
			if (!data)
				rc = yoc_shard_refused(send, k, (uint32_t)i, why, 0);
			else
				rc = yoc_shard_split(plan.items[i].path, data, n, (uint32_t)i, kind, allow,
						     cli_get(opts, "strict") != NULL, k, me, send, &sst, e);
			yoc_free(data);
			if (rc == YOC_ENOMEM && !e->code)
				yoc_error_set(e, rc, plan.items[i].path, 0, 0, "out of memory");
			if (rc)
				goto fail;
		}
		if ((rc = yoc_shard_exchange(send, recv, &sent, e)))
			goto fail;
		/* each file's part for this shard, in load order */
		for (size_t i = a; i < b; i++)
			memset(&M.parts[i - a], 0, sizeof M.parts[0]);
		for (int src = 0; src < k; src++) {
			size_t pos = 0;
			while (pos < recv[src].len) {
				struct yoc_shard_part pt;
				struct yoc_buf fb;
				yoc_buf_init(&fb, 0);
				if ((rc = yoc_shard_join(recv[src].data, recv[src].len, &pos, &pt, &fb, e))) {
					yoc_buf_free(&fb);
					goto fail;
				}
				if (pt.index < a || pt.index >= b) {
					yoc_buf_free(&fb);
					rc = yoc_error_set(e, YOC_EDATA, "mpi", 0, 0, "a part of another batch");
					goto fail;
				}
				yoc_buf_free(&files[pt.index]);
				files[pt.index] = fb;
				if (pt.refused)
					pt.why = files[pt.index].data;
				M.parts[pt.index - a] = pt;
			}
		}
		for (size_t i = a; i < b; i++) {
			const struct yoc_load_item *it = &plan.items[i];
			const struct yoc_shard_part *pt = &M.parts[i - a];
			const char *root = it->path;
			for (size_t j = 0; j < nall; j++)
				if (all[j] == it->path)
					root = roots[j];
			jobv[i - a] = (struct yoc_load_job){
				.path = it->path, .root = root, .kind = kind,
				.skip = it->refuse != NULL || pt->refused,
				.data = files[i].data ? files[i].data : "", .ndata = files[i].len,
				.hash = pt->whole ? NULL : pt->hash, .bytes = (int64_t)pt->bytes,
				.scanned = !pt->whole,
			};
		}
		M.first = a;
		rc = yoc_loader_files(L, jobv, b - a, mload_done, &M, e);
		for (size_t i = a; i < b; i++)
			yoc_buf_free(&files[i]);
		if (rc || (rc = mload_batch(&M, b - a)))
			goto fail;
		a = b;
	}
	if (me == 0)
		yoc_progress_end(&prog);
	/* every shard is ready: now each commits (docs/mpi.md, crash safety) */
	if ((rc = yoc_shard_mark(s, me, k, e)))
		goto fail;
	yoc_shard_barrier();
	if ((rc = yoc_loader_commit(L, e)))
		goto fail;
	yoc_shard_barrier();
	int64_t tot[3] = {(int64_t)sent, (int64_t)sst.rows, (int64_t)sst.routed};
	if ((rc = yoc_shard_sum(tot, 3, e)))
		goto fail;
	if (me == 0) {
		printf("load committed: %lld files (%lld loaded, %lld replaced, %lld unchanged, "
		       "%lld rejected); %lld rows: %lld loaded, %lld quarantined\n",
		       M.nfiles, M.nstat[YOC_LOAD_LOADED], M.nstat[YOC_LOAD_REPLACED],
		       M.nstat[YOC_LOAD_UNCHANGED], M.nstat[YOC_LOAD_REJECTED], M.nrows, M.nloaded,
		       M.nquar);
		printf("shards: %d; rows read %lld, routed to another rank %lld; %lld bytes sent "
		       "(%.1f per row read) in %.2fs\n", k, (long long)tot[1], (long long)tot[2],
		       (long long)tot[0], tot[1] ? (double)tot[0] / (double)tot[1] : 0.0,
		       yoc_now() - t0);
	}
	rc = M.status;
	goto cleanup;
fail:
	cli_err_rec("load", e);
	fprintf(stderr, "yoc load: rank %d of %d failed: the load is abandoned on every shard\n",
		me, k);
	fflush(NULL);
	yoc_shard_abort(1); /* the others are waiting on this rank: end them, uncommitted */
	rc = 1;
cleanup:
	yoc_loader_free(L);
	yoc_store_close(s);
	yoc_allow_free(allow);
	yoc_load_plan_free(&plan);
	for (int d = 0; send && d < 2 * k; d++)
		yoc_buf_free(&send[d]);
	for (int d = 0; M.gat && d < k; d++)
		yoc_buf_free(&M.gat[d]);
	for (size_t i = 0; files && i < plan.n; i++)
		yoc_buf_free(&files[i]);
	yoc_free(send);
	yoc_free(M.gat);
	yoc_free(M.all);
	yoc_free(size);
	yoc_free(owner);
	yoc_free(files);
	yoc_free(M.parts);
	yoc_free(M.local);
	yoc_free(jobv);
	for (size_t i = 0; i < nall; i++)
		yoc_free(all[i]);
	yoc_free(all);
	yoc_free(roots);
	return rc;
}

int cli_mpi_load(int argc, char **argv)
{
	char **dirs = NULL;
	int rc = shards_begin("load", &argc, &argv, &dirs);
	if (rc) {
		yoc_shard_stop();
		return rc;
	}
	return shards_end(mpi_load(argc, argv, dirs), dirs);
}

/* ---- analyse ---- */

static int mpi_analyse(int argc, char **argv, char **dirs)
{
	struct cli_opt opts[] = {
		{"codelist", 1, NULL}, {"lookback-years", 1, NULL}, {"bands", 1, NULL},
		{"data", 1, NULL}, {"threads", 1, NULL}, {NULL, 0, NULL}
	};
	int npos, k = yoc_shard_size(), me = yoc_shard_rank();
	if (cli_parse("analyse", argc, argv, opts, &npos))
		return 2;
	if (npos) {
		cli_err("analyse", "unexpected argument '%s'; see 'yoc help analyse'", argv[1]);
		return 2;
	}
	struct yoc_analyse_opts o;
	char data[4096], codelist[4200];
	int rc = cli_analyse_options(opts, &o, data, sizeof data, codelist, sizeof codelist);
	if (rc)
		return rc;
	o.dir = dirs[me];
	o.progress = 0;
	struct yoc_error e;
	yoc_error_clear(&e);
	struct yoc_analyse_stats st;
	memset(&st, 0, sizeof st);
	/* each shard alone: every figure of a person depends on that person's rows */
	rc = yoc_shard_check(dirs[me], me, k, &e);
	if (!rc)
		rc = yoc_analyse_run(&o, &st, &e);
	if (rc)
		cli_err_rec("analyse", &e);
	int64_t v[12] = {rc ? 1 : 0, (int64_t)st.persons, (int64_t)st.person_years,
			 (int64_t)st.practice_unknown, (int64_t)st.rows, (int64_t)st.unlinked,
			 (int64_t)st.outside, (int64_t)st.unpriced, (int64_t)st.priced_average,
			 st.cost_total, (int64_t)st.gaps_bridged, (int64_t)st.gaps_lost};
	yoc_error_clear(&e);
	if (yoc_shard_sum(v, 12, &e)) {
		cli_err_rec("analyse", &e);
		return 1;
	}
	if (v[0]) {
		if (me == 0)
			cli_err("analyse", "%lld of %d shards failed (named above); run again: a shard "
				"that succeeded holds the new tables, one that failed the old",
				(long long)v[0], k);
		return 1;
	}
	if (me != 0)
		return 0;
	char f0[8], f1[8];
	yoc_fyear_format(st.first_year, f0);
	yoc_fyear_format(st.first_year + st.years - 1, f1);
	printf("  %lld activity rows in %llu files; total cost %lld.%02lld GBP\n", (long long)v[4],
	       (unsigned long long)st.files, (long long)(v[9] / 100), (long long)(v[9] % 100));
	printf("  %lld rows priced at a department average; %lld rows left out of costs "
	       "(see unpriced_activity); %lld rows dated outside the years\n", (long long)v[8],
	       (long long)v[7], (long long)v[6]);
	if (v[3])
		printf("  %lld person-years with practice unknown (NULL): the GP register's "
		       "practice code failed validation (see yoc quality)\n", (long long)v[3]);
	if (v[10] || v[11])
		printf("  register gaps: %lld person-years carried over a missing or defective "
		       "register row; %lld persons lost (registered at the end of a year, no row "
		       "or evidence the next; see register_gaps)\n", (long long)v[10],
		       (long long)v[11]);
	printf("analyse %d shards: %lld person-years (%lld people, %s to %s), code list %s, "
	       "lookback %ld years, in %.2fs\n", k, (long long)v[2], (long long)v[1], f0, f1,
	       st.codelist_version, (long)o.lookback_years, st.seconds);
	return 0;
}

int cli_mpi_analyse(int argc, char **argv)
{
	char **dirs = NULL;
	int rc = shards_begin("analyse", &argc, &argv, &dirs);
	if (rc) {
		yoc_shard_stop();
		return rc;
	}
	return shards_end(mpi_analyse(argc, argv, dirs), dirs);
}

/* ---- report ---- */

/* The report's two collective steps (src/report/report.h) over MPI. */
static int comm_gather(void *ud, int fail, const void *p, size_t n, struct yoc_buf *recv,
		       struct yoc_error *e)
{
	struct yoc_error e2;
	int64_t bad = fail != 0;
	(void)ud;
	yoc_error_clear(&e2);
	if (yoc_shard_sum(&bad, 1, &e2)) {
		if (!fail)
			*e = e2;
		return YOC_EIO;
	}
	if (bad) {
		if (!fail)
			yoc_error_set(e, YOC_EDATA, NULL, 0, 0, "another rank failed");
		return YOC_EDATA;
	}
	return yoc_shard_gather(p, n, recv, 0, e);
}

static int comm_bcast(void *ud, void *p, size_t n, struct yoc_error *e)
{
	(void)ud;
	return yoc_shard_bcast(p, n, 0, e);
}

/*
** The ranks' small tables merged up a binary tree: in the round of step s
** (1, 2, 4, ...) rank r with r mod 2s = s sends its image to r - s, which
** merges the two (the merge is associative); after log2 K rounds rank 0
** holds them all, having received log2 K images rather than K - 1.
** *img is this rank's image (replaced; NULL once sent). *received: bytes
** rank 0 received.
*/
static int tables_tree(void **img, size_t *nimg, uint64_t *received, struct yoc_error *e)
{
	int k = yoc_shard_size(), me = yoc_shard_rank(), rc = 0;
	struct yoc_buf *snd = yoc_calloc((size_t)k * 2, sizeof *snd), *rcv = snd + k;
	if (!snd)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	for (int d = 0; d < 2 * k; d++)
		yoc_buf_init(&snd[d], 0);
	for (int step = 1; step < k; step *= 2) {
		int sender = me % (2 * step) == step;
		int receiver = me % (2 * step) == 0 && me + step < k;
		int64_t bad = 0;
		for (int d = 0; d < k; d++)
			yoc_buf_reset(&snd[d]);
		if (sender && *img && yoc_buf_append(&snd[me - step], *img, *nimg))
			bad = 1;
		struct yoc_error e2;
		yoc_error_clear(&e2);
		if (!bad && (rc = yoc_shard_exchange(snd, rcv, NULL, e)))
			goto cleanup; /* MPI itself failed: the ranks abort */
		if (sender) {
			sqlite3_free(*img);
			*img = NULL;
		}
		if (receiver && !bad) {
			struct yoc_buf two[2] = {{*img, *nimg, *nimg, 0}, rcv[me + step]};
			void *m = NULL;
			size_t nm = 0;
			if (me == 0)
				*received += rcv[me + step].len;
			if ((rc = yoc_shard_merge_image(two, 2, &m, &nm, e)))
				bad = 1;
			else {
				sqlite3_free(*img);
				*img = m;
				*nimg = nm;
			}
		}
		if (yoc_shard_sum(&bad, 1, &e2) || bad) {
			if (!rc)
				rc = yoc_error_set(e, YOC_EDATA, NULL, 0, 0, "another rank failed");
			goto cleanup;
		}
	}
cleanup:
	for (int d = 0; d < 2 * k; d++)
		yoc_buf_free(&snd[d]);
	yoc_free(snd);
	return rc;
}

/* CPU time (user + system) of this process so far, microseconds. */
static int64_t cpu_us(void)
{
	struct rusage u;
	if (getrusage(RUSAGE_SELF, &u))
		return 0;
	return (int64_t)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000000 + u.ru_utime.tv_usec +
	       u.ru_stime.tv_usec;
}

/*
** The report by reduction (docs/mpi.md "Report"): every rank computes the
** figures of its own shard's person_year as a mergeable partial
** (yoc_report_part_make), merged exactly at rank 0; the small tables
** (files, loads, linkage, costing, ...) are merged up a tree into one
** catalog beside --out, and rank 0 runs the ordinary report on the two.
*/
static int mpi_report(int argc, char **argv, char **dirs)
{
	int k = yoc_shard_size(), me = yoc_shard_rank(), rc = 0;
	struct yoc_error e;
	char db[4200], merged[4400];
	void *img = NULL;
	size_t nimg = 0;
	struct yoc_report_part *part = NULL;
	const char *out = NULL, *fyear = NULL;
	yoc_error_clear(&e);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[i + 1];
		else if (strncmp(argv[i], "--out=", 6) == 0)
			out = argv[i] + 6;
		else if (strcmp(argv[i], "--fyear") == 0 && i + 1 < argc)
			fyear = argv[i + 1];
		else if (strncmp(argv[i], "--fyear=", 8) == 0)
			fyear = argv[i] + 8;
	}
	snprintf(db, sizeof db, "%s/yoc.db", dirs[me]);
	/* a killed writer's journal is rolled back before the read-only open */
	if ((rc = yoc_shard_check(dirs[me], me, k, &e)) || (rc = yoc_store_recover(db, &e)) ||
	    (rc = yoc_shard_pack_rank(db, me, &img, &nimg, &e)))
		cli_err_rec("report", &e);
	int64_t bad = rc ? 1 : 0;
	yoc_error_clear(&e);
	if (yoc_shard_sum(&bad, 1, &e) || bad) {
		rc = 1;
		goto cleanup;
	}
	double t0 = yoc_now();
	uint64_t tables = 0, parts = 0;
	if ((rc = tables_tree(&img, &nimg, &tables, &e))) {
		if (strcmp(e.msg, "another rank failed") != 0)
			cli_err_rec("report", &e);
		goto cleanup;
	}
	double t1 = yoc_now();
	struct yoc_report_comm cm = {me, k, NULL, comm_gather, comm_bcast};
	if ((rc = yoc_report_part_make(db, fyear, &cm, &part, &parts, &e))) {
		if (strcmp(e.msg, "another rank failed") != 0 || me == 0)
			cli_err_rec("report", &e);
		rc = 1;
		goto cleanup;
	}
	double t2 = yoc_now();
	/* the busiest rank's CPU until the partials are merged (MPI start-up
	 * included): the critical path on cores of its own */
	int64_t busiest = -cpu_us();
	yoc_error_clear(&e);
	if (yoc_shard_min(&busiest, 1, &e)) {
		cli_err_rec("report", &e);
		rc = 1;
		goto cleanup;
	}
	if (me == 0) {
		snprintf(merged, sizeof merged, "%s.shards.%ld.db", out ? out : "report",
			 (long)getpid());
		struct yoc_buf all = {img, nimg, nimg, 0};
		if ((rc = yoc_shard_merge(merged, &all, 1, &e))) {
			cli_err_rec("report", &e);
			unlink(merged);
			goto cleanup;
		}
		sqlite3_free(img);
		img = NULL;
		/* the line as given, with --db naming the merged catalog */
		char **av = yoc_calloc((size_t)argc + 3, sizeof *av);
		if (!av) {
			unlink(merged);
			rc = 1;
			goto cleanup;
		}
		int n = 0;
		for (int i = 0; i < argc; i++)
			av[n++] = argv[i];
		av[n++] = "--db";
		av[n++] = merged;
		double t3 = yoc_now();
		cli_report_part = part; /* taken over by the report */
		part = NULL;
		rc = cli_verb_report.run(n, av);
		yoc_report_part_free(cli_report_part); /* not taken: the verb failed first */
		cli_report_part = NULL;
		yoc_free(av);
		unlink(merged);
		if (!rc)
			printf("shards: %d; rank 0 received %llu bytes of tables and %llu bytes of "
			       "partials; tables merged up the tree in %.2fs, partials made and "
			       "merged in %.2fs (the busiest rank's CPU until then %.2fs), catalog "
			       "written in %.2fs, report %.2fs CPU at rank 0 in all\n", k,
			       (unsigned long long)tables, (unsigned long long)parts, t1 - t0,
			       t2 - t1, -busiest / 1e6, t3 - t2, cpu_us() / 1e6);
	}
cleanup:
	yoc_report_part_free(part);
	sqlite3_free(img);
	return rc;
}

int cli_mpi_report(int argc, char **argv)
{
	char **dirs = NULL;
	int rc = shards_begin("report", &argc, &argv, &dirs);
	if (rc) {
		yoc_shard_stop();
		return rc;
	}
	return shards_end(mpi_report(argc, argv, dirs), dirs);
}

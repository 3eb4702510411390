/*
** Atomic file replacement, directory helpers and terminal progress.
** Progress is drawn only on a terminal; piped output stays clean.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "yoc/io.h"

static void fsync_dir_of(const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s", path);
	int fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int yoc_afile_open(struct yoc_afile *a, const char *path, struct yoc_error *e)
{
	a->f = NULL;
	if (snprintf(a->path, sizeof a->path, "%s", path) >= (int)sizeof a->path ||
	    snprintf(a->tmp, sizeof a->tmp, "%s.tmp.%ld", path, (long)getpid()) >=
		    (int)sizeof a->tmp)
		return yoc_error_set(e, YOC_EINVAL, path, 0, 0, "path too long");
	int fd = open(a->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot create %s: %s",
				     a->tmp, strerror(errno));
	a->f = fdopen(fd, "wb");
	if (!a->f) {
		close(fd);
		unlink(a->tmp);
		return yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "out of memory");
	}
	setvbuf(a->f, NULL, _IOFBF, 1 << 20);
	return YOC_OK;
}

int yoc_afile_commit(struct yoc_afile *a, struct yoc_error *e)
{
	if (!a->f)
		return yoc_error_set(e, YOC_EINVAL, a->path, 0, 0, "file not open");
	int bad = ferror(a->f) || fflush(a->f) != 0 || fsync(fileno(a->f)) != 0;
	int err = errno;
	if (fclose(a->f) != 0 && !bad) {
		bad = 1;
		err = errno;
	}
	a->f = NULL;
	if (bad) {
		unlink(a->tmp);
		return yoc_error_set(e, YOC_EIO, a->path, 0, 0, "write failed: %s",
				     strerror(err));
	}
	if (rename(a->tmp, a->path) != 0) {
		err = errno;
		unlink(a->tmp);
		return yoc_error_set(e, YOC_EIO, a->path, 0, 0, "rename failed: %s",
				     strerror(err));
	}
	fsync_dir_of(a->path);
	return YOC_OK;
}

void yoc_afile_abort(struct yoc_afile *a)
{
	if (a->f) {
		fclose(a->f);
		a->f = NULL;
		unlink(a->tmp);
	}
}

int yoc_mkdirs(const char *path, int mode)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
		return YOC_EINVAL;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST)
			return YOC_EIO;
		*p = '/';
	}
	if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST)
		return YOC_EIO;
	return yoc_is_dir(tmp) ? YOC_OK : YOC_EIO;
}

int yoc_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int yoc_read_file(const char *path, size_t cap, char **out, size_t *n,
		  struct yoc_error *e)
{
	*out = NULL;
	*n = 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot open: %s",
				     strerror(errno));
	struct yoc_buf b;
	yoc_buf_init(&b, cap);
	char chunk[65536];
	size_t got;
	int rc = YOC_OK;
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
		rc = yoc_buf_append(&b, chunk, got);
		if (rc)
			break;
	}
	if (!rc && ferror(f))
		rc = YOC_EIO;
	fclose(f);
	if (rc) {
		yoc_buf_free(&b);
		return yoc_error_set(e, rc, path, 0, 0, "cannot read: %s",
				     yoc_status_str(rc));
	}
	if (!b.data && yoc_buf_reserve(&b, 0) != 0)
		return yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "out of memory");
	b.data[b.len] = 0;
	*out = b.data;
	*n = b.len;
	return YOC_OK;
}

struct pathvec {
	char **v;
	size_t n, cap;
};

static int push(struct pathvec *pv, const char *p)
{
	if (pv->n + 1 >= pv->cap) {
		size_t cap = pv->cap ? pv->cap * 2 : 64;
		char **nv = yoc_realloc(pv->v, cap * sizeof *nv);
		if (!nv)
			return YOC_ENOMEM;
		pv->v = nv;
		pv->cap = cap;
	}
	pv->v[pv->n] = yoc_strdup(p);
	if (!pv->v[pv->n])
		return YOC_ENOMEM;
	pv->n++;
	pv->v[pv->n] = NULL;
	return YOC_OK;
}

static int walk(const char *dir, struct pathvec *pv, struct yoc_error *e)
{
	DIR *d = opendir(dir);
	if (!d)
		return yoc_error_set(e, YOC_EIO, dir, 0, 0, "cannot open directory: %s",
				     strerror(errno));
	struct dirent *de;
	int rc = YOC_OK;
	while (!rc && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue; /* hidden files and temporaries of atomic writes */
		char p[4096];
		if (snprintf(p, sizeof p, "%s/%s", dir, de->d_name) >= (int)sizeof p) {
			rc = yoc_error_set(e, YOC_EINVAL, dir, 0, 0, "path too long");
			break;
		}
		struct stat st;
		if (stat(p, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			rc = walk(p, pv, e);
		else if (S_ISREG(st.st_mode) && !strstr(de->d_name, ".tmp."))
			rc = push(pv, p);
	}
	closedir(d);
	return rc;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int yoc_list_files(const char *dir, char ***out, size_t *n, struct yoc_error *e)
{
	struct pathvec pv = {0};
	*out = NULL;
	*n = 0;
	int rc = walk(dir, &pv, e);
	if (!rc && !pv.v) {
		pv.v = yoc_calloc(1, sizeof *pv.v); /* empty, NULL-terminated */
		if (!pv.v)
			rc = YOC_ENOMEM;
	}
	if (rc) {
		yoc_paths_free(pv.v);
		if (rc == YOC_ENOMEM)
			yoc_error_set(e, rc, dir, 0, 0, "out of memory");
		return rc;
	}
	qsort(pv.v, pv.n, sizeof *pv.v, cmp_path);
	*out = pv.v;
	*n = pv.n;
	return YOC_OK;
}

void yoc_paths_free(char **paths)
{
	if (!paths)
		return;
	for (char **p = paths; *p; p++)
		yoc_free(*p);
	yoc_free(paths);
}

double yoc_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void yoc_progress_start(struct yoc_progress *p, const char *label, uint64_t total)
{
	const char *q = getenv("YOC_QUIET");
	p->label = label;
	p->total = total;
	p->done = 0;
	p->started = yoc_now();
	p->last_draw = 0;
	p->enabled = isatty(2) && !(q && *q && *q != '0');
}

static void draw(struct yoc_progress *p, int final)
{
	double el = yoc_now() - p->started;
	if (p->total)
		fprintf(stderr, "\r  %-28s %5.1f%%  %6.1fs", p->label,
			100.0 * (double)p->done / (double)p->total, el);
	else
		fprintf(stderr, "\r  %-28s %10llu  %6.1fs", p->label,
			(unsigned long long)p->done, el);
	fputs(final ? "\n" : "\033[K", stderr);
	fflush(stderr);
}

void yoc_progress_update(struct yoc_progress *p, uint64_t done)
{
	p->done = done;
	if (!p->enabled)
		return;
	double t = yoc_now();
	if (t - p->last_draw < 0.1)
		return;
	p->last_draw = t;
	draw(p, 0);
}

void yoc_progress_end(struct yoc_progress *p)
{
	if (p->enabled) {
		if (p->total)
			p->done = p->total;
		draw(p, 1);
	}
}

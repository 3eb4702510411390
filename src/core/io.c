/*
** Atomic file replacement, atomic output trees, the sweep of stale
** temporaries, regular-file checks, directory helpers and terminal
** progress. Progress is drawn only on a terminal; piped output stays clean.
** Must not: remove anything that is not a temporary of a dead process or
** an earlier output of the same verb (see io.h), or follow symbolic links
** while walking or removing a tree.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
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

/* ---- regular files ---------------------------------------------------- */

const char *yoc_file_kind(unsigned mode)
{
	mode_t m = (mode_t)mode;
	if (S_ISREG(m))
		return "a regular file";
	if (S_ISFIFO(m))
		return "a named pipe";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISLNK(m))
		return "a symbolic link";
	return "a special file";
}

static int not_regular(const char *path, mode_t mode, struct yoc_error *e)
{
	return yoc_error_set(e, YOC_EINVAL, path, 0, 0, "is %s, not a regular file",
			     yoc_file_kind(mode));
}

int yoc_check_regular(const char *path, struct yoc_error *e)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
	return S_ISREG(st.st_mode) ? YOC_OK : not_regular(path, st.st_mode, e);
}

int yoc_open_regular(const char *path, int flags, int mode, struct yoc_error *e)
{
	struct stat st;
	/* stat first, so that a device is never opened (opening one can act) */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return not_regular(path, st.st_mode, e);
	/* O_NONBLOCK: a named pipe swapped in since the stat still cannot block */
	int fd = open(path, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, (mode_t)mode);
	if (fd < 0) {
		int err = errno;
		if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
			return not_regular(path, st.st_mode, e);
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot open: %s", strerror(err));
	}
	if (fstat(fd, &st) != 0) {
		int err = errno;
		close(fd);
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot examine: %s", strerror(err));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return not_regular(path, st.st_mode, e);
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
		int err = errno;
		close(fd);
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot open: %s", strerror(err));
	}
	return fd;
}

/* ---- stale temporaries ------------------------------------------------- */

/*
** Splits path (trailing slashes ignored) into its directory and last name;
** -1 when there is no usable last name ("/", ".", "..").
*/
static int split_path(const char *path, char *dir, size_t dcap, char *base, size_t bcap)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp || !*tmp)
		return -1;
	size_t n = strlen(tmp);
	while (n > 1 && tmp[n - 1] == '/')
		tmp[--n] = 0;
	char *slash = strrchr(tmp, '/');
	const char *last = slash ? slash + 1 : tmp;
	if (!*last || strcmp(last, ".") == 0 || strcmp(last, "..") == 0)
		return -1;
	if (snprintf(base, bcap, "%s", last) >= (int)bcap)
		return -1;
	int w;
	if (!slash)
		w = snprintf(dir, dcap, ".");
	else if (slash == tmp)
		w = snprintf(dir, dcap, "/");
	else
		w = snprintf(dir, dcap, "%.*s", (int)(slash - tmp), tmp);
	return w >= (int)dcap ? -1 : 0;
}

/* The PID of a name "BASE" TAG "DIGITS" (no leading zero), else -1. */
static long temp_pid(const char *name, const char *base, const char *tag)
{
	size_t nb = strlen(base), nt = strlen(tag);
	if (strncmp(name, base, nb) != 0 || strncmp(name + nb, tag, nt) != 0)
		return -1;
	const char *d = name + nb + nt;
	if (*d < '1' || *d > '9')
		return -1;
	long pid = 0;
	for (; *d; d++) {
		if (*d < '0' || *d > '9' || pid > INT_MAX / 10)
			return -1;
		pid = pid * 10 + (*d - '0');
	}
	return pid <= INT_MAX ? pid : -1;
}

/* 1 if name ends in ".tmp.DIGITS", the form of every temporary yoc makes. */
static int is_temp_name(const char *name)
{
	const char *t = strstr(name, ".tmp.");
	for (; t; t = strstr(t + 1, ".tmp.")) {
		const char *d = t + 5;
		if (*d < '1' || *d > '9')
			continue;
		while (*d >= '0' && *d <= '9')
			d++;
		if (!*d)
			return 1;
	}
	return 0;
}

static int pid_dead(long pid)
{
	if (pid <= 0 || pid == (long)getpid())
		return 0;
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p) == 0 ? 0 : errno ? errno : EIO;
}

/* Removes a file, or a directory tree without following symbolic links. */
static int rm_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) == 0 ? 0 : -1;
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

int yoc_tmp_sweep(const char *path, struct yoc_error *e)
{
	char dir[4096], base[1024], p[5200], orig[5200];
	if (split_path(path, dir, sizeof dir, base, sizeof base))
		return yoc_error_set(e, YOC_EINVAL, path, 0, 0, "not a file or directory name");
	snprintf(orig, sizeof orig, "%s/%s", dir, base);
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0
				       : yoc_error_set(e, YOC_EIO, dir, 0, 0,
						       "cannot open directory: %s", strerror(errno));
	int done = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		long pid = temp_pid(de->d_name, base, ".tmp.");
		int old = 0;
		if (pid < 0) {
			pid = temp_pid(de->d_name, base, ".old.");
			old = 1;
		}
		if (pid < 0 || !pid_dead(pid))
			continue;
		if (snprintf(p, sizeof p, "%s/%s", dir, de->d_name) >= (int)sizeof p)
			continue;
		struct stat st;
		/* a commit that could not exchange died between its two renames */
		if (old && lstat(orig, &st) != 0 && errno == ENOENT && rename(p, orig) == 0) {
			done++;
			continue;
		}
		if (rm_tree(p) == 0)
			done++;
	}
	closedir(d);
	return done;
}

/* ---- atomic output trees ----------------------------------------------- */

int yoc__otree_no_exchange;

static int sync_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_SL || (flag == FTW_F && !S_ISREG(st->st_mode)))
		return 0; /* nothing of ours to sync */
	if (flag != FTW_F && flag != FTW_DP)
		return EIO; /* unreadable: the tree cannot be vouched for */
	int fd = open(p, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC |
				 (flag == FTW_DP ? O_DIRECTORY : 0));
	if (fd < 0)
		return errno ? errno : EIO;
	int rc = fsync(fd) == 0 ? 0 : errno ? errno : EIO;
	close(fd);
	return rc;
}

/* 0 if path may be replaced by the output of verb; else fills e. */
static int replaceable(const char *path, const char *verb, struct yoc_error *e)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? YOC_OK
				       : yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot examine: %s",
						       strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return yoc_error_set(e, YOC_EEXIST, path, 0, 0,
				     "exists and is %s, not a directory; refusing to replace it",
				     yoc_file_kind(st.st_mode));
	DIR *d = opendir(path);
	if (!d)
		return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot open directory: %s",
				     strerror(errno));
	int empty = 1;
	struct dirent *de;
	while (empty && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = 0;
	closedir(d);
	if (empty)
		return YOC_OK;
	char mp[4200], text[128];
	snprintf(mp, sizeof mp, "%s/%s", path, YOC_OTREE_MARKER);
	ssize_t n = -1;
	int fd = open(mp, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0) {
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			n = read(fd, text, sizeof text - 1);
		close(fd);
	}
	if (n <= 0)
		return yoc_error_set(e, YOC_EEXIST, path, 0, 0,
				     "is a directory that is not empty and was not written by "
				     "'yoc %s' (no %s marker); refusing to replace it: choose a "
				     "new directory, or empty this one",
				     verb, YOC_OTREE_MARKER);
	text[n] = 0;
	text[strcspn(text, "\n")] = 0;
	if (strncmp(text, "yoc ", 4) == 0 && strcmp(text + 4, verb) == 0)
		return YOC_OK;
	return yoc_error_set(e, YOC_EEXIST, path, 0, 0,
			     "holds the output of '%.60s', not of 'yoc %s'; refusing to "
			     "replace it: choose another directory",
			     strncmp(text, "yoc ", 4) == 0 ? text : "something else", verb);
}

int yoc_otree_begin(struct yoc_otree *t, const char *path, const char *verb,
		    struct yoc_error *e)
{
	char dir[4096], base[1024], real[PATH_MAX];
	struct stat st;
	memset(t, 0, sizeof *t);
	if (!verb || !*verb || strlen(verb) >= sizeof t->verb || strchr(verb, '\n'))
		return yoc_error_set(e, YOC_EINVAL, path, 0, 0, "bad verb name");
	snprintf(t->verb, sizeof t->verb, "%s", verb);
	if (split_path(path, dir, sizeof dir, base, sizeof base))
		return yoc_error_set(e, YOC_EINVAL, path, 0, 0,
				     "not usable as an output directory name");
	if (snprintf(t->path, sizeof t->path, "%s%s%s", strcmp(dir, "/") ? dir : "",
		     "/", base) >= (int)sizeof t->path)
		return yoc_error_set(e, YOC_EINVAL, path, 0, 0, "path too long");
	if (lstat(t->path, &st) == 0 && S_ISLNK(st.st_mode)) {
		if (stat(t->path, &st) != 0 || !S_ISDIR(st.st_mode) || !realpath(t->path, real))
			return yoc_error_set(e, YOC_EEXIST, path, 0, 0,
					     "is a symbolic link to something that is not a "
					     "directory; refusing to replace it");
		if (snprintf(t->path, sizeof t->path, "%s", real) >= (int)sizeof t->path ||
		    split_path(t->path, dir, sizeof dir, base, sizeof base))
			return yoc_error_set(e, YOC_EINVAL, path, 0, 0, "path too long");
	}
	if (snprintf(t->tmp, sizeof t->tmp, "%s.tmp.%ld", t->path, (long)getpid()) >=
	    (int)sizeof t->tmp)
		return yoc_error_set(e, YOC_EINVAL, path, 0, 0, "path too long");
	if (yoc_mkdirs(dir, 0755))
		return yoc_error_set(e, YOC_EIO, dir, 0, 0, "cannot create directory: %s",
				     strerror(errno));
	yoc_tmp_sweep(t->path, NULL);
	int rc = replaceable(t->path, t->verb, e);
	if (rc)
		return rc;
	/* a temporary with this process's PID can only be a dead one's */
	rm_tree(t->tmp);
	if (mkdir(t->tmp, 0755) != 0)
		return yoc_error_set(e, YOC_EIO, t->path, 0, 0,
				     "cannot create %s: %s (the output is built beside it and "
				     "swapped in whole, so its parent directory must be writable)",
				     t->tmp, strerror(errno));
	t->active = 1;
	return YOC_OK;
}

static int write_marker(const struct yoc_otree *t, struct yoc_error *e)
{
	char p[4200], text[256];
	snprintf(p, sizeof p, "%s/%s", t->tmp, YOC_OTREE_MARKER);
	int n = snprintf(text, sizeof text,
			 "yoc %s\n# written whole by 'yoc %s'; its next run replaces this "
			 "directory whole, and no other verb will\n",
			 t->verb, t->verb);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, (size_t)n) != n) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return yoc_error_set(e, YOC_EIO, p, 0, 0, "cannot write: %s", strerror(err));
	}
	return close(fd) == 0 ? YOC_OK
			      : yoc_error_set(e, YOC_EIO, p, 0, 0, "cannot write: %s",
					      strerror(errno));
}

/* Swaps a and b; -1 with errno EINVAL where the file system cannot. */
static int exchange(const char *a, const char *b)
{
	if (yoc__otree_no_exchange) {
		errno = EINVAL;
		return -1;
	}
	return renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
}

int yoc_otree_commit(struct yoc_otree *t, struct yoc_error *e)
{
	struct stat st;
	int rc, err;
	if (!t->active)
		return yoc_error_set(e, YOC_EINVAL, t->path, 0, 0, "output tree not begun");
	if ((rc = write_marker(t, e)))
		goto fail;
	err = nftw(t->tmp, sync_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (err) {
		rc = yoc_error_set(e, YOC_EIO, t->path, 0, 0, "cannot sync %s: %s", t->tmp,
				   strerror(err > 0 ? err : EIO));
		goto fail;
	}
	/* checked again: the directory may have changed since begin */
	if ((rc = replaceable(t->path, t->verb, e)))
		goto fail;
	if (lstat(t->path, &st) != 0) {
		if (rename(t->tmp, t->path) != 0) {
			rc = yoc_error_set(e, YOC_EIO, t->path, 0, 0, "cannot rename %s to it: %s",
					   t->tmp, strerror(errno));
			goto fail;
		}
	} else {
		chmod(t->tmp, st.st_mode & 07777);
		if (exchange(t->tmp, t->path) != 0) {
			if (errno != EINVAL && errno != ENOSYS) {
				rc = yoc_error_set(e, YOC_EIO, t->path, 0, 0,
						   "cannot swap %s in: %s (is it a mount point?)",
						   t->tmp, strerror(errno));
				goto fail;
			}
			/*
			** No exchange here: rename OUT aside, then the tree in. A
			** crash between the two leaves no OUT; yoc_tmp_sweep then
			** renames OUT.old.PID back.
			*/
			char old[4200];
			snprintf(old, sizeof old, "%s.old.%ld", t->path, (long)getpid());
			rm_tree(old);
			if (rename(t->path, old) != 0) {
				rc = yoc_error_set(e, YOC_EIO, t->path, 0, 0,
						   "cannot rename it aside: %s", strerror(errno));
				goto fail;
			}
			if (rename(t->tmp, t->path) != 0) {
				err = errno;
				rename(old, t->path);
				rc = yoc_error_set(e, YOC_EIO, t->path, 0, 0,
						   "cannot rename %s to it: %s", t->tmp,
						   strerror(err));
				goto fail;
			}
			fsync_dir_of(t->path);
			rm_tree(old);
		}
		/* after an exchange the old tree is at the temporary name; if it
		** cannot all be removed now, the next sweep removes the rest */
		rm_tree(t->tmp);
	}
	fsync_dir_of(t->path);
	t->active = 0;
	return YOC_OK;
fail:
	yoc_otree_abort(t);
	return rc;
}

void yoc_otree_abort(struct yoc_otree *t)
{
	if (!t || !t->active)
		return;
	rm_tree(t->tmp);
	t->active = 0;
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

static int walk(const char *dir, struct pathvec *pv, struct yoc_skipped *sk,
		struct yoc_error *e)
{
	DIR *d = opendir(dir);
	if (!d)
		return yoc_error_set(e, YOC_EIO, dir, 0, 0, "cannot open directory: %s",
				     strerror(errno));
	struct dirent *de;
	int rc = YOC_OK;
	while (!rc && (de = readdir(d)) != NULL) {
		const char *nm = de->d_name;
		if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0 ||
		    strcmp(nm, YOC_OTREE_MARKER) == 0)
			continue;
		char p[4096];
		if (snprintf(p, sizeof p, "%s/%s", dir, nm) >= (int)sizeof p) {
			rc = yoc_error_set(e, YOC_EINVAL, dir, 0, 0, "path too long");
			break;
		}
		struct stat st;
		if (lstat(p, &st) != 0)
			sk->vanished++;
		else if (nm[0] == '.' && S_ISDIR(st.st_mode))
			sk->hidden_dirs++;
		else if (nm[0] == '.')
			sk->hidden_files++;
		else if (S_ISLNK(st.st_mode))
			sk->symlinks++;
		else if (is_temp_name(nm))
			sk->temporaries++;
		else if (S_ISDIR(st.st_mode))
			rc = walk(p, pv, sk, e);
		else if (S_ISREG(st.st_mode))
			rc = push(pv, p);
		else if (S_ISFIFO(st.st_mode))
			sk->pipes++;
		else if (S_ISSOCK(st.st_mode))
			sk->sockets++;
		else
			sk->devices++;
	}
	closedir(d);
	return rc;
}

size_t yoc_skipped_total(const struct yoc_skipped *s)
{
	return s->pipes + s->sockets + s->devices + s->symlinks + s->hidden_files +
	       s->hidden_dirs + s->temporaries + s->vanished;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int yoc_list_files(const char *dir, char ***out, size_t *n, struct yoc_error *e)
{
	return yoc_list_files_counting(dir, out, n, NULL, e);
}

int yoc_list_files_counting(const char *dir, char ***out, size_t *n,
			    struct yoc_skipped *skipped, struct yoc_error *e)
{
	struct pathvec pv = {0};
	struct yoc_skipped none;
	*out = NULL;
	*n = 0;
	if (!skipped)
		skipped = &none;
	memset(skipped, 0, sizeof *skipped);
	int rc = walk(dir, &pv, skipped, e);
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
	p->rows = 0;
	p->unit = NULL;
	p->started = yoc_now();
	p->last_draw = 0;
	p->enabled = isatty(2) && !(q && *q && *q != '0');
}

/* 1234567 -> "1,234,567" */
static void fmt_thousands(uint64_t v, char *buf, size_t n)
{
	char d[32];
	int len = snprintf(d, sizeof d, "%llu", (unsigned long long)v);
	size_t o = 0;
	for (int i = 0; i < len && o + 1 < n; i++) {
		if (i && (len - i) % 3 == 0 && o + 2 < n)
			buf[o++] = ',';
		buf[o++] = d[i];
	}
	buf[o] = 0;
}

/* a rate per second, short: 950, 12.3k, 402k, 1.52M */
static void fmt_rate(double r, char *buf, size_t n)
{
	if (r < 1000)
		snprintf(buf, n, "%.0f", r);
	else if (r < 10e3)
		snprintf(buf, n, "%.2fk", r / 1e3);
	else if (r < 1e6)
		snprintf(buf, n, "%.0fk", r / 1e3);
	else
		snprintf(buf, n, "%.2fM", r / 1e6);
}

static void fmt_clock(double s, char *buf, size_t n)
{
	unsigned long t = s < 0 ? 0 : (unsigned long)(s + 0.5);
	if (t >= 3600)
		snprintf(buf, n, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, n, "%lu:%02lu", t / 60, t % 60);
}

void yoc_progress_format(const struct yoc_progress *p, double elapsed, char *buf, size_t n)
{
	char cnt[40], rate[24], clock[24];
	size_t o = 0;
	if (!n)
		return;
	buf[0] = 0;
#define PUT(...)                                                                               \
	do {                                                                                   \
		int w_ = snprintf(buf + o, n - o, __VA_ARGS__);                                \
		if (w_ < 0 || (size_t)w_ >= n - o)                                             \
			return;                                                                \
		o += (size_t)w_;                                                               \
	} while (0)
	PUT("  %-12s", p->label ? p->label : "");
	if (p->total)
		PUT(" %5.1f%%", 100.0 * (double)(p->done > p->total ? p->total : p->done) /
					(double)p->total);
	uint64_t shown = p->rows ? p->rows : p->done;
	const char *unit = p->rows ? "rows" : p->unit;
	if (p->rows || !p->total || p->unit) {
		fmt_thousands(shown, cnt, sizeof cnt);
		PUT("  %s%s%s", cnt, unit ? " " : "", unit ? unit : "");
		if (elapsed >= 1.0) {
			fmt_rate((double)shown / elapsed, rate, sizeof rate);
			PUT("  %s%s%s/s", rate, unit ? " " : "", unit ? unit : "");
		}
	}
	if (p->total && p->done < p->total && elapsed >= 1.0 &&
	    (double)p->done >= 0.01 * (double)p->total) {
		double eta = elapsed * (double)(p->total - p->done) / (double)p->done;
		fmt_clock(eta, clock, sizeof clock);
		PUT("  ETA %s", clock);
	} else {
		fmt_clock(elapsed, clock, sizeof clock);
		PUT("  %s", clock);
	}
#undef PUT
}

static void draw(struct yoc_progress *p, int final)
{
	char line[160];
	yoc_progress_format(p, yoc_now() - p->started, line, sizeof line);
	fprintf(stderr, "\r%s%s", line, final ? "\n" : "\033[K");
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

void yoc_progress_rows(struct yoc_progress *p, uint64_t rows)
{
	p->rows = rows;
}

void yoc_progress_clear(struct yoc_progress *p)
{
	if (p->enabled && p->last_draw > 0) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		p->last_draw = 0;
	}
}

void yoc_progress_end(struct yoc_progress *p)
{
	if (p->enabled) {
		if (p->total)
			p->done = p->total;
		draw(p, 1);
	}
}

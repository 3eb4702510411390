/*
** Files and terminals: atomic file replacement, directory walking and
** progress display.
**
** Atomic output: yoc_afile_open creates "PATH.tmp.PID" beside PATH;
** yoc_afile_commit flushes, fsyncs, renames over PATH and fsyncs the
** directory; yoc_afile_abort removes the temporary. A crash at any point
** leaves PATH as it was or wholly new, never half written.
*/
#ifndef YOC_IO_H
#define YOC_IO_H

#include <stdint.h>
#include <stdio.h>

#include "yoc/core.h"

struct yoc_afile {
	FILE *f;
	char path[4096];
	char tmp[4096];
};
int yoc_afile_open(struct yoc_afile *a, const char *path, struct yoc_error *e);
int yoc_afile_commit(struct yoc_afile *a, struct yoc_error *e);
void yoc_afile_abort(struct yoc_afile *a);

/* mkdir -p; 0 or YOC_EIO. */
int yoc_mkdirs(const char *path, int mode);
/* 1 if path is a directory, 0 if not (or missing). */
int yoc_is_dir(const char *path);
/* Reads a whole small file (cap bytes at most). Caller frees *out with yoc_free. */
int yoc_read_file(const char *path, size_t cap, char **out, size_t *n,
		  struct yoc_error *e);

/*
** Lists regular files under dir recursively, sorted by path (bytewise), into
** a NULL-terminated array of yoc_strdup'd paths. Free with yoc_paths_free.
*/
int yoc_list_files(const char *dir, char ***out, size_t *n, struct yoc_error *e);
void yoc_paths_free(char **paths);

/*
** Progress: drawn on stderr only when stderr is a terminal and YOC_QUIET is
** not set; otherwise every call is a no-op. total 0 means unknown.
*/
struct yoc_progress {
	const char *label;
	uint64_t total;
	uint64_t done;
	double started;
	double last_draw;
	int enabled;
};
void yoc_progress_start(struct yoc_progress *p, const char *label, uint64_t total);
void yoc_progress_update(struct yoc_progress *p, uint64_t done);
void yoc_progress_end(struct yoc_progress *p);
/* Monotonic seconds. */
double yoc_now(void);

#endif

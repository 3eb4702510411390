/*
** Files and terminals: atomic file replacement, atomic output trees, stale
** temporaries, regular-file checks, directory walking and progress display.
**
** Atomic output: yoc_afile_open creates "PATH.tmp.PID" beside PATH;
** yoc_afile_commit flushes, fsyncs, renames over PATH and fsyncs the
** directory; yoc_afile_abort removes the temporary. A crash at any point
** leaves PATH as it was or wholly new, never half written. A folder of
** outputs is written the same way, whole, with yoc_otree_* below.
**
** Nothing here prints or exits; failures fill the struct yoc_error given.
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

/*
** Atomic output trees: a verb that writes a folder OUT writes it whole.
**
**     struct yoc_otree t;
**     if (yoc_otree_begin(&t, "out", "report", &e)) ...  // makes out.tmp.PID
**     ... write every file under t.tmp ...
**     if (yoc_otree_commit(&t, &e)) ...                  // swaps it in
**     // on any failure: yoc_otree_abort(&t) -- out is untouched
**
** begin sweeps the stale temporaries of OUT (yoc_tmp_sweep), then refuses
** (YOC_EEXIST, nothing created) an OUT that is not a directory, or a
** non-empty directory whose marker file OUT/.yoc-output does not name the
** same verb: only an earlier output of the same verb, or an empty directory,
** is ever replaced. A symbolic link to a directory is resolved: the
** directory it points to is replaced, the link stays. Missing parents of
** OUT are created; the temporary is a sibling, on the same file system.
**
** commit writes the marker ("yoc VERB"), fsyncs every file and directory of
** the tree, checks OUT again, and swaps the tree in: rename() when OUT does
** not exist, else renameat2(RENAME_EXCHANGE) (the tree gets OUT's
** permission bits first), after which the old tree, now at the temporary
** name, is removed. Readers and crashes see OUT wholly old or wholly new.
** Where the file system cannot exchange (EINVAL), OUT is renamed to
** OUT.old.PID and the tree renamed in; a crash between those two renames
** leaves no OUT, and the next yoc_tmp_sweep renames OUT.old.PID back.
** On failure commit removes the temporary and leaves OUT as it was.
** abort removes the temporary; it accepts a tree never begun or done.
** OUT must not be a mount point (the exchange would cross file systems).
*/
#define YOC_OTREE_MARKER ".yoc-output"
struct yoc_otree {
	char path[4096]; /* OUT, trailing slashes removed, symbolic link resolved */
	char tmp[4096];  /* OUT.tmp.PID: where the caller writes */
	char verb[32];
	int active;      /* 1 between a successful begin and commit/abort */
};
int yoc_otree_begin(struct yoc_otree *t, const char *path, const char *verb,
		    struct yoc_error *e);
int yoc_otree_commit(struct yoc_otree *t, struct yoc_error *e);
void yoc_otree_abort(struct yoc_otree *t);
/* Tests only: nonzero makes commit take the rename-aside path. */
extern int yoc__otree_no_exchange;

/*
** Removes what dead processes left behind for PATH, in PATH's directory:
** PATH.tmp.PID (files of yoc_afile, trees of yoc_otree, key temporaries)
** and PATH.old.PID (renamed back to PATH if PATH is missing). Only a PID
** with no process (kill(PID, 0) fails with ESRCH) counts as dead: a
** temporary of a live process, or of this one, is kept. Only names made
** from PATH are touched, since "x.tmp.123" alone does not prove yoc made it.
** Best effort: returns the number removed or restored (>= 0), or a negative
** status if the directory cannot be read (a missing directory is 0).
*/
int yoc_tmp_sweep(const char *path, struct yoc_error *e);

/*
** Regular files only. yoc_open_regular opens path with flags (O_RDONLY,
** or O_WRONLY|O_APPEND|O_CREAT with mode, ...) plus O_CLOEXEC, refusing
** (YOC_EINVAL, "is a named pipe, not a regular file") anything that is not
** a regular file. The path is examined with stat before it is opened, and
** the open uses O_NONBLOCK|O_NOCTTY followed by fstat, so a named pipe never
** blocks and a device is never read. Returns the descriptor (>= 0, blocking
** mode restored; the caller closes it) or a negative status.
** yoc_check_regular is the same check without opening, for a path handed to
** code that opens it by name. yoc_file_kind names a st_mode ("a named pipe").
*/
int yoc_open_regular(const char *path, int flags, int mode, struct yoc_error *e);
int yoc_check_regular(const char *path, struct yoc_error *e);
const char *yoc_file_kind(unsigned mode);

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
** Left out, and counted in *skipped when it is not NULL: hidden entries
** (names starting with '.'; a hidden directory is not entered), symbolic
** links (never followed, so a walk cannot leave dir or loop), temporaries
** of atomic writes (NAME.tmp.DIGITS, files or directories), named pipes,
** sockets and devices, and entries that vanish while being examined. The
** marker YOC_OTREE_MARKER of an output tree is ours and not counted.
*/
struct yoc_skipped {
	size_t pipes, sockets, devices, symlinks, hidden_files, hidden_dirs,
		temporaries, vanished;
};
int yoc_list_files(const char *dir, char ***out, size_t *n, struct yoc_error *e);
int yoc_list_files_counting(const char *dir, char ***out, size_t *n,
			    struct yoc_skipped *skipped, struct yoc_error *e);
/* The sum of the counts of s. */
size_t yoc_skipped_total(const struct yoc_skipped *s);
void yoc_paths_free(char **paths);

/*
** Progress: one line, redrawn in place on stderr, only when stderr is a
** terminal and YOC_QUIET is not set; otherwise every call is a no-op (the
** counters are still kept). total 0 means unknown. done and total are in the
** step's own unit (bytes of input for load and pseudonymise, persons for
** synth and analyse); rows, when set, is shown beside them with its rate:
**   load      12.5%  1,204,311 rows  402k rows/s  ETA 0:07
** yoc_progress_format is the pure formatter behind the line (tested alone).
*/
struct yoc_progress {
	const char *label;
	uint64_t total;
	uint64_t done;
	uint64_t rows;         /* rows handled so far; 0 = not shown */
	const char *unit;      /* name of done/total when rows is not used (NULL: none) */
	double started;
	double last_draw;
	int enabled;
};
void yoc_progress_start(struct yoc_progress *p, const char *label, uint64_t total);
void yoc_progress_update(struct yoc_progress *p, uint64_t done);
/* Sets the row counter shown on the line (and its rate); does not draw. */
void yoc_progress_rows(struct yoc_progress *p, uint64_t rows);
void yoc_progress_end(struct yoc_progress *p);
/* Erases the line (if drawn) so a message can be printed on stderr; the next
** update draws it again. */
void yoc_progress_clear(struct yoc_progress *p);
/* Writes the line for p as it stands after elapsed seconds into buf (always
** NUL-terminated; truncated to n). The ETA is shown once 1% and one second
** have passed, from the average rate since the start. */
void yoc_progress_format(const struct yoc_progress *p, double elapsed, char *buf, size_t n);
/* Monotonic seconds. */
double yoc_now(void);

#endif

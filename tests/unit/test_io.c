/*
** Atomic file replacement, atomic output trees, the sweep of stale
** temporaries, regular-file checks, directory listing and whole-file reads.
*/
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "yoc/io.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/yoc_test_io_XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void slurp(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t n = fread(out, 1, cap - 1, f);
	out[n] = 0;
	fclose(f);
}

static void test_afile(void **state)
{
	(void)state;
	char p[300], got[64];
	snprintf(p, sizeof p, "%s/out.csv", dir);
	struct yoc_afile a;
	struct yoc_error e;
	yoc_error_clear(&e);
	assert_int_equal(yoc_afile_open(&a, p, &e), 0);
	fputs("first\n", a.f);
	assert_int_equal(access(p, F_OK), -1); /* not visible before commit */
	assert_int_equal(yoc_afile_commit(&a, &e), 0);
	slurp(p, got, sizeof got);
	assert_string_equal(got, "first\n");
	/* An aborted rewrite leaves the previous content and no temporary. */
	assert_int_equal(yoc_afile_open(&a, p, &e), 0);
	fputs("second\n", a.f);
	yoc_afile_abort(&a);
	slurp(p, got, sizeof got);
	assert_string_equal(got, "first\n");
	assert_int_equal(access(a.tmp, F_OK), -1);
	/* A committed rewrite replaces it whole. */
	assert_int_equal(yoc_afile_open(&a, p, &e), 0);
	fputs("second\n", a.f);
	assert_int_equal(yoc_afile_commit(&a, &e), 0);
	slurp(p, got, sizeof got);
	assert_string_equal(got, "second\n");
	/* A folder that does not exist: a clear error naming the path. */
	char q[300];
	snprintf(q, sizeof q, "%s/missing/x.csv", dir);
	assert_int_equal(yoc_afile_open(&a, q, &e), YOC_EIO);
	assert_string_equal(e.file, q);
}

static void test_list_files(void **state)
{
	(void)state;
	char p[300];
	snprintf(p, sizeof p, "%s/tree/b/c", dir);
	assert_int_equal(yoc_mkdirs(p, 0755), 0);
	assert_true(yoc_is_dir(p));
	const char *files[] = {"tree/z.csv", "tree/b/c/a.csv", "tree/a.csv", "tree/.hidden",
			       "tree/b/x.csv.tmp.123"};
	for (int i = 0; i < 5; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		FILE *f = fopen(p, "w");
		assert_non_null(f);
		fputs("x\n", f);
		fclose(f);
	}
	char **v;
	size_t n;
	snprintf(p, sizeof p, "%s/tree", dir);
	assert_int_equal(yoc_list_files(p, &v, &n, NULL), 0);
	assert_int_equal(n, 3);
	char want[300];
	snprintf(want, sizeof want, "%s/tree/a.csv", dir);
	assert_string_equal(v[0], want);
	snprintf(want, sizeof want, "%s/tree/b/c/a.csv", dir);
	assert_string_equal(v[1], want);
	snprintf(want, sizeof want, "%s/tree/z.csv", dir);
	assert_string_equal(v[2], want);
	assert_null(v[3]);
	yoc_paths_free(v);
	snprintf(p, sizeof p, "%s/tree/b/c", dir);
	char deep[300];
	snprintf(deep, sizeof deep, "%s/empty", dir);
	assert_int_equal(yoc_mkdirs(deep, 0755), 0);
	assert_int_equal(yoc_list_files(deep, &v, &n, NULL), 0);
	assert_int_equal(n, 0);
	assert_null(v[0]);
	yoc_paths_free(v);
	struct yoc_error e;
	snprintf(deep, sizeof deep, "%s/nope", dir);
	assert_int_equal(yoc_list_files(deep, &v, &n, &e), YOC_EIO);
}

static void put(const char *rel, const char *text)
{
	char p[8400];
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int exists(const char *rel)
{
	char p[8400];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	return lstat(p, &st) == 0;
}

static void mk(const char *rel)
{
	char p[8400];
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	assert_int_equal(yoc_mkdirs(p, 0755), 0);
}

/*
** What a walk leaves out is counted, kind by kind, and nothing it leaves
** out is followed: a named pipe, a socket, symbolic links (to a file and to
** a directory), hidden files and directories, temporaries of atomic writes.
** A name that merely contains ".tmp." is an ordinary file and is listed.
*/
static void test_list_files_counting(void **state)
{
	(void)state;
	char p[8400], q[8400];
	mk("w/sub");
	mk("w/.git");
	mk("w/out.tmp.77");
	put("w/a.csv", "x\n");
	put("w/sub/b.csv", "x\n");
	put("w/apc.tmp.2023.csv", "x\n");
	put("w/.hidden.csv", "x\n");
	put("w/.git/c.csv", "x\n");
	put("w/x.csv.tmp.123", "x\n");
	put("w/" YOC_OTREE_MARKER, "yoc pseudonymise\n");
	snprintf(p, sizeof p, "%s/w/fifo.csv", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	snprintf(p, sizeof p, "%s/w/link.csv", dir);
	snprintf(q, sizeof q, "%s/w/a.csv", dir);
	assert_int_equal(symlink(q, p), 0);
	snprintf(p, sizeof p, "%s/w/linkdir", dir);
	assert_int_equal(symlink("/etc", p), 0);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(s >= 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (snprintf(sa.sun_path, sizeof sa.sun_path, "%s/w/sock", dir) >= (int)sizeof sa.sun_path)
		fail_msg("temporary directory name too long for a socket");
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
	char **v;
	size_t n;
	struct yoc_skipped sk;
	snprintf(p, sizeof p, "%s/w", dir);
	assert_int_equal(yoc_list_files_counting(p, &v, &n, &sk, NULL), 0);
	close(s);
	assert_int_equal(n, 3);
	snprintf(q, sizeof q, "%s/w/a.csv", dir);
	assert_string_equal(v[0], q);
	snprintf(q, sizeof q, "%s/w/apc.tmp.2023.csv", dir);
	assert_string_equal(v[1], q);
	snprintf(q, sizeof q, "%s/w/sub/b.csv", dir);
	assert_string_equal(v[2], q);
	yoc_paths_free(v);
	assert_int_equal(sk.pipes, 1);
	assert_int_equal(sk.sockets, 1);
	assert_int_equal(sk.devices, 0);
	assert_int_equal(sk.symlinks, 2);
	assert_int_equal(sk.hidden_files, 1); /* the marker is not counted */
	assert_int_equal(sk.hidden_dirs, 1);
	assert_int_equal(sk.temporaries, 2);
	assert_int_equal(yoc_skipped_total(&sk), 8);
}

/* A named pipe, a directory and a device are refused by name, without blocking. */
static void test_open_regular(void **state)
{
	(void)state;
	char p[8400];
	struct yoc_error e;
	snprintf(p, sizeof p, "%s/pipe", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	yoc_error_clear(&e);
	assert_int_equal(yoc_open_regular(p, O_RDONLY, 0, &e), YOC_EINVAL);
	assert_string_equal(e.file, p);
	assert_string_equal(e.msg, "is a named pipe, not a regular file");
	assert_int_equal(yoc_open_regular(p, O_WRONLY | O_APPEND | O_CREAT, 0600, &e),
			 YOC_EINVAL);
	assert_string_equal(e.msg, "is a named pipe, not a regular file");
	assert_int_equal(yoc_check_regular(p, &e), YOC_EINVAL);
	assert_int_equal(yoc_check_regular(dir, &e), YOC_EINVAL);
	assert_string_equal(e.msg, "is a directory, not a regular file");
	assert_int_equal(yoc_open_regular("/dev/null", O_RDONLY, 0, &e), YOC_EINVAL);
	assert_string_equal(e.msg, "is a character device, not a regular file");
	snprintf(p, sizeof p, "%s/missing", dir);
	assert_int_equal(yoc_open_regular(p, O_RDONLY, 0, &e), YOC_EIO);
	put("plain", "abc");
	snprintf(p, sizeof p, "%s/plain", dir);
	int fd = yoc_open_regular(p, O_RDONLY, 0, &e);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	close(fd);
	assert_int_equal(yoc_check_regular(p, &e), 0);
}

/* A PID with no process: a child that has exited and been reaped. */
static long dead_pid(void)
{
	pid_t c = fork();
	assert_true(c >= 0);
	if (c == 0)
		_exit(0);
	assert_int_equal(waitpid(c, NULL, 0), c);
	return (long)c;
}

static void read_rel(const char *rel, char *out, size_t cap)
{
	char p[8400];
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	slurp(p, out, cap);
}

static void test_otree_new(void **state)
{
	(void)state;
	char p[8400], got[128];
	struct yoc_otree t;
	struct yoc_error e;
	yoc_error_clear(&e);
	snprintf(p, sizeof p, "%s/new/parent/out/", dir); /* parents made, slash ignored */
	assert_int_equal(yoc_otree_begin(&t, p, "report", &e), 0);
	assert_false(exists("new/parent/out"));
	snprintf(p, sizeof p, "%s/sub", t.tmp);
	assert_int_equal(yoc_mkdirs(p, 0755), 0);
	snprintf(p, sizeof p, "%s/sub/a.txt", t.tmp);
	FILE *f = fopen(p, "w");
	fputs("new\n", f);
	fclose(f);
	assert_false(exists("new/parent/out")); /* nothing visible before commit */
	assert_int_equal(yoc_otree_commit(&t, &e), 0);
	read_rel("new/parent/out/sub/a.txt", got, sizeof got);
	assert_string_equal(got, "new\n");
	read_rel("new/parent/out/" YOC_OTREE_MARKER, got, sizeof got);
	assert_memory_equal(got, "yoc report\n", 11);
	assert_int_equal(access(t.tmp, F_OK), -1);
	yoc_otree_abort(&t); /* after commit: a no-op */
	read_rel("new/parent/out/sub/a.txt", got, sizeof got);
	assert_string_equal(got, "new\n");
}

/* One committed run of verb into rel with one file name holding text. */
static void run_tree(const char *rel, const char *verb, const char *name, const char *text)
{
	char p[8400];
	struct yoc_otree t;
	struct yoc_error e;
	yoc_error_clear(&e);
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	assert_int_equal(yoc_otree_begin(&t, p, verb, &e), 0);
	snprintf(p, sizeof p, "%s/%s", t.tmp, name);
	FILE *f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
	assert_int_equal(yoc_otree_commit(&t, &e), 0);
}

/* Nothing named rel.tmp.* or rel.old.* beside rel, and no temporary inside it. */
static void assert_no_temporaries(const char *rel)
{
	char cmd[1000];
	snprintf(cmd, sizeof cmd,
		 "cd '%s' && test -z \"$(ls -d '%s'.tmp.* '%s'.old.* 2>/dev/null)\" && "
		 "test -z \"$(find '%s' -name '*.tmp.*')\"",
		 dir, rel, rel, rel);
	assert_int_equal(system(cmd), 0);
}

static void replace_over_existing(int no_exchange)
{
	char got[128], p[8400];
	struct stat st;
	yoc__otree_no_exchange = no_exchange;
	run_tree("rep", "quality", "old.csv", "old\n");
	snprintf(p, sizeof p, "%s/rep", dir);
	assert_int_equal(chmod(p, 0700), 0);
	run_tree("rep", "quality", "new.csv", "new\n");
	yoc__otree_no_exchange = 0;
	assert_false(exists("rep/old.csv")); /* replaced whole, not merged */
	read_rel("rep/new.csv", got, sizeof got);
	assert_string_equal(got, "new\n");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700); /* the directory's mode is kept */
	assert_no_temporaries("rep");
}

static void test_otree_replace(void **state)
{
	(void)state;
	replace_over_existing(0);
}

static void test_otree_replace_without_exchange(void **state)
{
	(void)state;
	replace_over_existing(1);
}

static void test_otree_abort(void **state)
{
	(void)state;
	char p[8400], got[128];
	struct yoc_otree t;
	struct yoc_error e;
	run_tree("ab", "report", "a.csv", "first\n");
	snprintf(p, sizeof p, "%s/ab", dir);
	assert_int_equal(yoc_otree_begin(&t, p, "report", &e), 0);
	snprintf(p, sizeof p, "%s/b.csv", t.tmp);
	FILE *f = fopen(p, "w");
	fputs("second\n", f);
	fclose(f);
	yoc_otree_abort(&t);
	assert_int_equal(access(t.tmp, F_OK), -1);
	read_rel("ab/a.csv", got, sizeof got);
	assert_string_equal(got, "first\n");
	assert_false(exists("ab/b.csv"));
}

/*
** Refused, with nothing created: a file, a symbolic link to a file, a
** non-empty directory without a marker, another verb's output. An empty
** directory and a link to a directory are fine (the link stays a link).
*/
static void test_otree_refuse(void **state)
{
	(void)state;
	char p[8400], q[8400], got[64];
	struct yoc_otree t;
	struct yoc_error e;
	put("file", "mine\n");
	snprintf(p, sizeof p, "%s/file", dir);
	assert_int_equal(yoc_otree_begin(&t, p, "report", &e), YOC_EEXIST);
	assert_non_null(strstr(e.msg, "is a regular file, not a directory"));
	assert_int_equal(access(t.tmp, F_OK), -1);
	snprintf(q, sizeof q, "%s/filelink", dir);
	assert_int_equal(symlink(p, q), 0);
	assert_int_equal(yoc_otree_begin(&t, q, "report", &e), YOC_EEXIST);
	mk("users");
	put("users/notes.txt", "precious\n");
	snprintf(p, sizeof p, "%s/users", dir);
	yoc_error_clear(&e);
	assert_int_equal(yoc_otree_begin(&t, p, "report", &e), YOC_EEXIST);
	assert_non_null(strstr(e.msg, "not written by 'yoc report'"));
	assert_string_equal(e.file, p);
	assert_int_equal(access(t.tmp, F_OK), -1);
	read_rel("users/notes.txt", got, sizeof got);
	assert_string_equal(got, "precious\n");
	run_tree("q", "quality", "quality.csv", "x\n");
	snprintf(p, sizeof p, "%s/q", dir);
	assert_int_equal(yoc_otree_begin(&t, p, "report", &e), YOC_EEXIST);
	assert_non_null(strstr(e.msg, "holds the output of 'yoc quality'"));
	assert_true(exists("q/quality.csv"));
	/* a non-empty directory can also become foreign between begin and commit */
	mk("late");
	snprintf(p, sizeof p, "%s/late", dir);
	assert_int_equal(yoc_otree_begin(&t, p, "report", &e), 0);
	put("late/mine.txt", "precious\n");
	assert_int_equal(yoc_otree_commit(&t, &e), YOC_EEXIST);
	assert_int_equal(access(t.tmp, F_OK), -1);
	assert_true(exists("late/mine.txt"));
	mk("empty");
	run_tree("empty", "report", "index.html", "r\n");
	assert_true(exists("empty/index.html"));
	mk("target");
	snprintf(p, sizeof p, "%s/target", dir);
	snprintf(q, sizeof q, "%s/dirlink", dir);
	assert_int_equal(symlink(p, q), 0);
	run_tree("dirlink", "report", "index.html", "r\n");
	struct stat st;
	assert_int_equal(lstat(q, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_true(exists("target/index.html"));
}

/*
** The sweep removes the temporaries of dead processes named after the
** output (files and trees), puts back an output renamed aside by a commit
** that died, and keeps a live process's temporaries and other names.
*/
static void test_tmp_sweep(void **state)
{
	(void)state;
	char p[8400], name[200];
	struct yoc_error e;
	long dead = dead_pid();
	mk("sw");
	snprintf(name, sizeof name, "sw/out.csv.tmp.%ld", dead);
	put(name, "half");
	snprintf(name, sizeof name, "sw/out.tmp.%ld/deep/er", dead);
	mk(name);
	snprintf(name, sizeof name, "sw/out.tmp.%ld/deep/er/x.csv", dead);
	put(name, "half");
	snprintf(name, sizeof name, "sw/out.tmp.%ld", (long)getpid());
	mk(name); /* ours: alive */
	snprintf(name, sizeof name, "sw/out.tmp.%ld", (long)getppid());
	mk(name); /* the test runner's: alive */
	snprintf(name, sizeof name, "sw/other.tmp.%ld", dead);
	put(name, "not ours to judge");
	snprintf(name, sizeof name, "sw/out.tmp.0%ld", dead);
	put(name, "not a name we make");
	snprintf(p, sizeof p, "%s/sw/out", dir);
	assert_int_equal(yoc_tmp_sweep(p, &e), 1);
	snprintf(p, sizeof p, "%s/sw/out.csv", dir);
	assert_int_equal(yoc_tmp_sweep(p, &e), 1);
	snprintf(name, sizeof name, "sw/out.csv.tmp.%ld", dead);
	assert_false(exists(name));
	snprintf(name, sizeof name, "sw/out.tmp.%ld", dead);
	assert_false(exists(name));
	snprintf(name, sizeof name, "sw/out.tmp.%ld", (long)getpid());
	assert_true(exists(name));
	snprintf(name, sizeof name, "sw/out.tmp.%ld", (long)getppid());
	assert_true(exists(name));
	snprintf(name, sizeof name, "sw/other.tmp.%ld", dead);
	assert_true(exists(name));
	snprintf(name, sizeof name, "sw/out.tmp.0%ld", dead);
	assert_true(exists(name));
	/* a commit without exchange died between its renames: no out, out.old.PID */
	snprintf(name, sizeof name, "sw/rep.old.%ld", dead);
	mk(name);
	snprintf(name, sizeof name, "sw/rep.old.%ld/index.html", dead);
	put(name, "old report");
	snprintf(p, sizeof p, "%s/sw/rep", dir);
	assert_int_equal(yoc_tmp_sweep(p, &e), 1);
	assert_true(exists("sw/rep/index.html"));
	/* and when out exists, the old copy is removed */
	snprintf(name, sizeof name, "sw/rep.old.%ld", dead);
	mk(name);
	assert_int_equal(yoc_tmp_sweep(p, &e), 1);
	assert_false(exists(name));
	assert_true(exists("sw/rep/index.html"));
	snprintf(p, sizeof p, "%s/nowhere/out", dir);
	assert_int_equal(yoc_tmp_sweep(p, &e), 0);
}

/* begin sweeps: a dead run's tree beside the output is gone after the next run. */
static void test_otree_begin_sweeps(void **state)
{
	(void)state;
	char name[200];
	long dead = dead_pid();
	snprintf(name, sizeof name, "bs.tmp.%ld/practices", dead);
	mk(name);
	run_tree("bs", "report", "index.html", "r\n");
	snprintf(name, sizeof name, "bs.tmp.%ld", dead);
	assert_false(exists(name));
	assert_true(exists("bs/index.html"));
}

static void test_read_file(void **state)
{
	(void)state;
	char p[300];
	snprintf(p, sizeof p, "%s/r.txt", dir);
	FILE *f = fopen(p, "w");
	for (int i = 0; i < 10000; i++)
		fputs("0123456789", f);
	fclose(f);
	char *d;
	size_t n;
	struct yoc_error e;
	assert_int_equal(yoc_read_file(p, 0, &d, &n, &e), 0);
	assert_int_equal(n, 100000);
	assert_int_equal(d[n], 0);
	assert_memory_equal(d + 99990, "0123456789", 10);
	yoc_free(d);
	assert_int_equal(yoc_read_file(p, 1000, &d, &n, &e), YOC_ETOOBIG);
	assert_null(d);
}

/* the progress line: percent, rows with thousands separators, rate, ETA */
static void test_progress_format(void **state)
{
	(void)state;
	struct yoc_progress p;
	char line[160];
	memset(&p, 0, sizeof p);
	p.label = "load";
	p.total = 1000;
	p.done = 125;
	p.rows = 1204311;
	yoc_progress_format(&p, 3.0, line, sizeof line);
	/* 1,204,311 rows in 3 s = 401,437/s; 125 of 1000 in 3 s leaves 875 at the
	 * same pace: 21 s */
	assert_string_equal(line, "  load          12.5%  1,204,311 rows  401k rows/s  ETA 0:21");
	/* under one second: no rate and no ETA yet, the elapsed clock instead */
	yoc_progress_format(&p, 0.4, line, sizeof line);
	assert_string_equal(line, "  load          12.5%  1,204,311 rows  0:00");
	/* unknown total: the count in its unit, the rate, the elapsed time */
	memset(&p, 0, sizeof p);
	p.label = "synth";
	p.done = 5000;
	p.unit = "persons";
	yoc_progress_format(&p, 2.0, line, sizeof line);
	assert_string_equal(line, "  synth         5,000 persons  2.50k persons/s  0:02");
	/* finished: no ETA; hours on long runs */
	memset(&p, 0, sizeof p);
	p.label = "analyse";
	p.total = 10;
	p.done = 10;
	yoc_progress_format(&p, 3725.0, line, sizeof line);
	assert_string_equal(line, "  analyse      100.0%  1:02:05");
	/* 0.5% done: too early for an ETA */
	p.done = 0;
	p.total = 1000;
	p.done = 5;
	yoc_progress_format(&p, 10.0, line, sizeof line);
	assert_string_equal(line, "  analyse        0.5%  0:10");
	/* a small buffer is truncated, never overrun, always terminated */
	char small[8];
	memset(small, 'x', sizeof small);
	yoc_progress_format(&p, 10.0, small, sizeof small);
	assert_true(strlen(small) < sizeof small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_afile), cmocka_unit_test(test_list_files),
		cmocka_unit_test(test_read_file), cmocka_unit_test(test_list_files_counting),
		cmocka_unit_test(test_open_regular), cmocka_unit_test(test_otree_new),
		cmocka_unit_test(test_otree_replace),
		cmocka_unit_test(test_otree_replace_without_exchange),
		cmocka_unit_test(test_otree_abort), cmocka_unit_test(test_otree_refuse),
		cmocka_unit_test(test_tmp_sweep), cmocka_unit_test(test_otree_begin_sweeps), cmocka_unit_test(test_progress_format),
	};
	return cmocka_run_group_tests_name("io", tests, setup, teardown);
}

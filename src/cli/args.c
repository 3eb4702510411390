/*
** Option parsing and messages shared by the verbs. Usage errors exit 2 with
** a one-line message that names the nearest valid option.
*/
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "yoc/io.h"

void cli_err(const char *verb, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "yoc %s: ", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_err_rec(const char *verb, const struct yoc_error *e)
{
	fprintf(stderr, "yoc %s: ", verb);
	yoc_error_print(stderr, e);
}

void cli_skipped_text(const struct yoc_skipped *s, char *buf, size_t cap)
{
	const struct {
		size_t n;
		const char *one, *many;
	} k[] = {
		{s->pipes, "named pipe", "named pipes"},
		{s->sockets, "socket", "sockets"},
		{s->devices, "device", "devices"},
		{s->symlinks, "symbolic link (not followed)", "symbolic links (not followed)"},
		{s->hidden_files, "hidden file", "hidden files"},
		{s->hidden_dirs, "hidden folder", "hidden folders"},
		{s->temporaries, "temporary file (NAME.tmp.PID)", "temporary files (NAME.tmp.PID)"},
		{s->vanished, "entry that vanished while listed", "entries that vanished while listed"},
	};
	size_t used = 0;
	buf[0] = 0;
	for (size_t i = 0; i < sizeof k / sizeof k[0] && used < cap; i++) {
		if (!k[i].n)
			continue;
		int w = snprintf(buf + used, cap - used, "%s%zu %s", used ? ", " : "", k[i].n,
				 k[i].n == 1 ? k[i].one : k[i].many);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	if (!buf[0])
		snprintf(buf, cap, "nothing");
}

void cli_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 62 || lb > 62)
		return 99;
	size_t row[64];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t sub = prev + (a[i - 1] != b[j - 1]);
			size_t del = row[j] + 1, ins = row[j - 1] + 1;
			row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
			prev = cur;
		}
	}
	return row[lb];
}

const char *cli_nearest(const char *s, const char *const *cands)
{
	const char *best = NULL;
	size_t bd = 4;
	for (int i = 0; cands[i]; i++) {
		size_t d = edit_distance(s, cands[i]);
		if (d < bd || (strncmp(s, cands[i], strlen(s)) == 0 && strlen(s) >= 3 && d < 8)) {
			bd = d < bd ? d : bd;
			best = cands[i];
		}
	}
	return best;
}

int cli_parse(const char *verb, int argc, char **argv, struct cli_opt *opts,
	      int *npos)
{
	int np = 0, only_pos = 0;
	for (int i = 0; opts[i].name; i++)
		opts[i].value = NULL;
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (only_pos || a[0] != '-' || a[1] == 0) {
			argv[1 + np++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		const char *name = a + (a[1] == '-' ? 2 : 1);
		const char *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		struct cli_opt *o = NULL;
		for (int k = 0; opts[k].name; k++)
			if (strlen(opts[k].name) == nlen && strncmp(opts[k].name, name, nlen) == 0)
				o = &opts[k];
		if (!o) {
			char want[128], cand[64][72];
			const char *cands[65];
			int n = 0;
			snprintf(want, sizeof want, "--%.*s", (int)(nlen < 100 ? nlen : 100), name);
			for (int k = 0; opts[k].name && n < 64; k++) {
				snprintf(cand[n], sizeof cand[n], "--%s", opts[k].name);
				cands[n] = cand[n];
				n++;
			}
			cands[n] = NULL;
			const char *near = cli_nearest(want, cands);
			if (near)
				cli_err(verb, "unknown option '%s'; did you mean '%s'?", want, near);
			else
				cli_err(verb, "unknown option '%s'; see 'yoc help %s'", want, verb);
			return 2;
		}
		if (o->has_arg) {
			if (eq) {
				o->value = eq + 1;
			} else if (i + 1 < argc) {
				o->value = argv[++i];
			} else {
				cli_err(verb, "option '--%s' needs a value", o->name);
				return 2;
			}
		} else {
			if (eq) {
				cli_err(verb, "option '--%s' takes no value", o->name);
				return 2;
			}
			o->value = "1";
		}
	}
	*npos = np;
	return 0;
}

const char *cli_get(const struct cli_opt *opts, const char *name)
{
	for (int i = 0; opts[i].name; i++)
		if (strcmp(opts[i].name, name) == 0)
			return opts[i].value;
	return NULL;
}

int cli_get_long(const char *verb, const struct cli_opt *opts, const char *name,
		 long dflt, long *out)
{
	const char *v = cli_get(opts, name);
	if (!v) {
		*out = dflt;
		return 0;
	}
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (errno || end == v || *end || x < 0) {
		cli_err(verb, "option '--%s' wants a non-negative whole number, not '%s'",
			name, v);
		return 2;
	}
	*out = x;
	return 0;
}

static int has_tariff(const char *dir)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof p, "%s/ncc_2023_24.csv", dir) >= (int)sizeof p)
		return 0;
	return access(p, R_OK) == 0;
}

const char *cli_data_dir(const char *opt, char *buf, size_t cap)
{
	if (opt)
		return opt;
	const char *env = getenv("YOC_DATA");
	if (env && *env)
		return env;
	if (has_tariff("data"))
		return "data";
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return NULL;
	exe[n] = 0;
	char *slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	static const char *const rel[] = {"data", "../data", "../share/yoc/data"};
	for (int i = 0; i < 3; i++)
		if (snprintf(buf, cap, "%s/%s", exe, rel[i]) < (int)cap && has_tariff(buf))
			return buf;
	return NULL;
}

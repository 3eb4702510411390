/*
** yoc serve: the selection tool over a dataset (src/server, docs/server.md).
** Runs until SIGINT or SIGTERM.
*/
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "server/server.h"
#include "yoc/io.h"

static const char usage_text[] =
	"Usage: yoc serve --db DIR [--listen HOST:PORT] [--tls-cert F --tls-key F]\n"
	"                 [--web DIR] [--year FY] [--threads N] [--idle-timeout S]\n"
	"                 [--conn-timeout S] [--ready-file F]\n\n"
	"Serves the selection tool: a group built by filters or a rule, its size,\n"
	"cost by setting, activity, age/sex pyramid, conditions, bands and risk\n"
	"tiers beside the whole population. Every count is protected by the\n"
	"cell-key method and the report's suppression and rounding. Users come\n"
	"from 'yoc user add'; every login, query and refusal is appended to the\n"
	"hash-chained log DIR/serve/audit.log ('yoc audit verify' checks it).\n"
	"A new analysis committed to the dataset is picked up within seconds.\n\n"
	"  --listen HOST:PORT  address (default 127.0.0.1:8080; port 0 picks a free one)\n"
	"  --tls-cert F        PEM certificate; with --tls-key serves HTTPS only\n"
	"  --tls-key F         PEM private key\n"
	"  --web DIR           the front end (default web/ beside or above the program)\n"
	"  --year FY           the financial year shown (default the latest analysed)\n"
	"  --threads N         worker threads (default 4)\n"
	"  --idle-timeout S    seconds before an idle session ends (default 900)\n"
	"  --conn-timeout S    seconds a connection may send nothing (default 10)\n"
	"  --ready-file F      write the port to F once listening\n\n"
	"See docs/server.md. Exit status: 0 stopped by a signal, 1 failed, 2 usage.\n";

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int has_index(const char *dir)
{
	char p[PATH_MAX];
	return snprintf(p, sizeof p, "%s/index.html", dir) < (int)sizeof p &&
	       access(p, R_OK) == 0;
}

static const char *web_dir(const char *opt, char *buf, size_t cap)
{
	if (opt)
		return opt;
	if (has_index("web"))
		return "web";
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return NULL;
	exe[n] = 0;
	char *slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	static const char *const rel[] = {"web", "../web", "../share/yoc/web"};
	for (int i = 0; i < 3; i++)
		if (snprintf(buf, cap, "%s/%s", exe, rel[i]) < (int)cap && has_index(buf))
			return buf;
	return NULL;
}

static int run(int argc, char **argv)
{
	struct cli_opt opts[] = {{"db", 1, NULL},	{"listen", 1, NULL},  {"tls-cert", 1, NULL},
				 {"tls-key", 1, NULL},	{"web", 1, NULL},     {"year", 1, NULL},
				 {"threads", 1, NULL},	{"idle-timeout", 1, NULL},
				 {"ready-file", 1, NULL}, {"conn-timeout", 1, NULL}, {NULL, 0, NULL}};
	int npos;
	char host[64], wbuf[PATH_MAX];
	long threads, idle, ctime;
	struct yoc_serve_opts o;
	struct yoc_error e;

	if (cli_parse("serve", argc, argv, opts, &npos))
		return 2;
	if (npos || !cli_get(opts, "db")) {
		cli_err("serve", "expected 'yoc serve --db DIR'; see 'yoc help serve'");
		return 2;
	}
	yoc_serve_opts_init(&o);
	o.db = cli_get(opts, "db");
	const char *listen = cli_get(opts, "listen");
	if (listen) {
		const char *colon = strrchr(listen, ':');
		char *end;
		long port = colon ? strtol(colon + 1, &end, 10) : -1;
		if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof host ||
		    port < 0 || port > 65535 || *end) {
			cli_err("serve", "--listen wants HOST:PORT, such as 127.0.0.1:8080");
			return 2;
		}
		memcpy(host, listen, (size_t)(colon - listen));
		host[colon - listen] = 0;
		o.host = host;
		o.port = (unsigned)port;
	}
	if (cli_get_long("serve", opts, "threads", 4, &threads) ||
	    cli_get_long("serve", opts, "idle-timeout", 900, &idle) ||
	    cli_get_long("serve", opts, "conn-timeout", 10, &ctime))
		return 2;
	if (threads < 1 || threads > 256 || idle < 1 || ctime < 1) {
		cli_err("serve", "--threads wants 1 to 256, --idle-timeout and --conn-timeout "
				 "at least 1 second");
		return 2;
	}
	o.threads = (unsigned)threads;
	o.idle_timeout = (unsigned)idle;
	o.conn_timeout = (unsigned)ctime;
	o.tls_cert = cli_get(opts, "tls-cert");
	o.tls_key = cli_get(opts, "tls-key");
	o.fyear = cli_get(opts, "year");
	o.ready_file = cli_get(opts, "ready-file");
	o.web = web_dir(cli_get(opts, "web"), wbuf, sizeof wbuf);
	if (!o.web) {
		cli_err("serve", "cannot find the front end folder (web/); give --web DIR");
		return 1;
	}
	o.log = stderr;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	yoc_error_clear(&e);
	if (yoc_serve_run(&o, &stop_flag, &e)) {
		cli_err_rec("serve", &e);
		return 1;
	}
	return 0;
}

const struct cli_verb cli_verb_serve = {
	"serve", "serve the selection tool (web) over a dataset", usage_text, run
};

/*
** yoc user: the users of a dataset's selection tool (src/server). The
** password is read from standard input (one line; echo off on a terminal).
*/
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"
#include "server/server.h"

static const char usage_text[] =
	"Usage: yoc user add NAME --db DIR --role ROLE [--practice CODE]\n"
	"       yoc user passwd NAME --db DIR\n"
	"       yoc user remove NAME --db DIR\n"
	"       yoc user list --db DIR\n\n"
	"Manages who may log in to 'yoc serve'. Roles: public_health and planner\n"
	"(aggregates for the whole population), analyst (aggregates, rules),\n"
	"practice (its own practice only: needs --practice), finance, admin (users,\n"
	"audit). add and passwd read the password (10 to 1024 bytes) from standard\n"
	"input, one line, without echo on a terminal. Passwords are stored only as\n"
	"argon2id hashes in DIR/serve/users (mode 0600).\n\n"
	"Exit status: 0 done, 1 failed, 2 usage.\n";

static int read_password(char *buf, size_t cap)
{
	struct termios old, t;
	int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	if (tty) {
		fputs("password: ", stderr);
		t = old;
		t.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
	}
	int ok = fgets(buf, (int)cap, stdin) != NULL;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (!ok)
		return -1;
	buf[strcspn(buf, "\r\n")] = 0;
	return 0;
}

static int run(int argc, char **argv)
{
	struct cli_opt opts[] = {{"db", 1, NULL}, {"role", 1, NULL}, {"practice", 1, NULL},
				 {NULL, 0, NULL}};
	int npos, rc = 0;
	char pw[YOC_USER_MAX_PASSWORD + 2];
	struct yoc_error e;
	if (cli_parse("user", argc, argv, opts, &npos))
		return 2;
	const char *db = cli_get(opts, "db"), *sub = npos >= 1 ? argv[1] : "";
	if (!db || npos < 1) {
		cli_err("user", "expected 'yoc user add|passwd|remove|list ... --db DIR'");
		return 2;
	}
	yoc_error_clear(&e);
	if (strcmp(sub, "list") == 0 && npos == 1) {
		struct yoc_user *u = NULL;
		size_t n = 0;
		if ((rc = yoc_user_list(db, &u, &n, &e)) == 0)
			for (size_t i = 0; i < n; i++)
				printf("%s\t%s\t%s\n", u[i].name, yoc_role_name(u[i].role),
				       u[i].practice[0] ? u[i].practice : "-");
		yoc_free(u);
	} else if (npos != 2) {
		cli_err("user", "%s takes one NAME; see 'yoc help user'", sub);
		return 2;
	} else if (strcmp(sub, "add") == 0) {
		const char *role = cli_get(opts, "role");
		int r = role ? yoc_role_parse(role) : -1;
		if (r < 0) {
			cli_err("user", "--role wants one of public_health, planner, analyst, "
					"practice, finance, admin");
			return 2;
		}
		if (read_password(pw, sizeof pw)) {
			cli_err("user", "no password on standard input");
			return 1;
		}
		rc = yoc_user_add(db, argv[2], r, cli_get(opts, "practice"), pw, &e);
		if (!rc)
			printf("user %s added (%s)\n", argv[2], role);
	} else if (strcmp(sub, "passwd") == 0) {
		if (read_password(pw, sizeof pw)) {
			cli_err("user", "no password on standard input");
			return 1;
		}
		rc = yoc_user_passwd(db, argv[2], pw, &e);
		if (!rc)
			printf("password of %s changed\n", argv[2]);
	} else if (strcmp(sub, "remove") == 0) {
		rc = yoc_user_remove(db, argv[2], &e);
		if (!rc)
			printf("user %s removed\n", argv[2]);
	} else {
		cli_err("user", "unknown subcommand '%s'; see 'yoc help user'", sub);
		return 2;
	}
	sodium_memzero(pw, sizeof pw);
	if (rc) {
		cli_err_rec("user", &e);
		return 1;
	}
	return 0;
}

const struct cli_verb cli_verb_user = {
	"user", "add, change, remove or list the users of yoc serve", usage_text, run
};

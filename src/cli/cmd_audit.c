/*
** yoc audit verify: checks the hash chain of a re-identification audit log.
** Read-only. Exit 0 with the record count and head hash when intact; exit 1
** naming the first broken line otherwise.
*/
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "pseudo/pseudo.h"

static const char usage_text[] =
	"Usage: yoc audit verify LOG [--head HASH] [--json]\n\n"
	"Verifies a hash-chained log: the re-identification audit log written by\n"
	"yoc reidentify, or the access log of yoc serve (DATASET/serve/audit.log): every\n"
	"record well formed, numbered in order, carrying the hash of the record\n"
	"before it, and hashing to the value it states. Any edited, inserted,\n"
	"deleted or reordered record breaks the chain at a line that is named.\n"
	"Removing records from the end can only be seen against a head hash kept\n"
	"elsewhere: give it with --head to check the log still ends there.\n\n"
	"  --head HASH   the hash of the last record, as printed by an earlier verify\n"
	"  --json        print the result as one JSON object\n\n"
	"Exit status: 0 intact, 1 broken or unreadable, 2 usage.\n";

static int run(int argc, char **argv)
{
	struct cli_opt opts[] = {{"head", 1, NULL}, {"json", 0, NULL}, {NULL, 0, NULL}};
	int npos;
	if (cli_parse("audit", argc, argv, opts, &npos))
		return 2;
	if (npos < 1 || strcmp(argv[1], "verify") != 0) {
		cli_err("audit", "expected 'yoc audit verify LOG'; see 'yoc help audit'");
		return 2;
	}
	if (npos != 2) {
		cli_err("audit", "verify takes one LOG file");
		return 2;
	}
	const char *log = argv[2], *head = cli_get(opts, "head");
	int json = cli_get(opts, "json") != NULL;
	struct yoc_audit_result res;
	struct yoc_error e;
	yoc_error_clear(&e);
	int rc = yoc_audit_verify(log, &res, &e);
	if (rc == 0 && head && strcmp(head, res.head) != 0) {
		rc = yoc_error_set(&e, YOC_EDATA, log, 0, 0,
				   "audit chain intact but ends at %s, not at the expected head "
				   "%.64s (records were removed from the end, or the head is wrong)",
				   res.head, head);
	}
	if (json) {
		printf("{\"log\":\"");
		for (const char *p = log; *p; p++)
			printf(*p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
		if (rc == 0)
			printf("\",\"intact\":true,\"records\":%llu,\"head\":\"%s\"}\n",
			       (unsigned long long)res.records, res.head);
		else
			printf("\",\"intact\":false,\"line\":%ld,\"error\":\"%s\"}\n", e.line,
			       yoc_status_str(rc));
	}
	if (rc) {
		cli_err_rec("audit", &e);
		return 1;
	}
	if (!json)
		printf("%s: %llu record%s, chain intact, head %s\n", log,
		       (unsigned long long)res.records, res.records == 1 ? "" : "s", res.head);
	return 0;
}

const struct cli_verb cli_verb_audit = {
	"audit", "verify the hash chain of an audit or access log", usage_text, run
};

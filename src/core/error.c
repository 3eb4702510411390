/*
** Status names and error records. Never prints except in yoc_error_print,
** which writes to the FILE it is given.
*/
#include <stdio.h>
#include <string.h>

#include "yoc/core.h"

const char *yoc_status_str(int status)
{
	switch (status) {
	case YOC_OK: return "ok";
	case YOC_ENOMEM: return "out of memory";
	case YOC_EIO: return "input/output error";
	case YOC_EINVAL: return "invalid argument";
	case YOC_EPARSE: return "malformed input";
	case YOC_ETOOBIG: return "too big";
	case YOC_ENOTFOUND: return "not found";
	case YOC_EEXIST: return "already exists";
	case YOC_EPERM: return "refused";
	case YOC_EDATA: return "data check failed";
	case YOC_EINTERNAL: return "internal error";
	}
	return "unknown status";
}

void yoc_error_clear(struct yoc_error *e)
{
	if (!e)
		return;
	memset(e, 0, sizeof *e);
}

int yoc_error_vset(struct yoc_error *e, int code, const char *file, long line,
		   long col, const char *fmt, va_list ap)
{
	if (!e)
		return code;
	e->code = code;
	e->line = line;
	e->col = col;
	snprintf(e->file, sizeof e->file, "%s", file ? file : "");
	if (fmt)
		vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	else
		snprintf(e->msg, sizeof e->msg, "%s", yoc_status_str(code));
	return code;
}

int yoc_error_set(struct yoc_error *e, int code, const char *file, long line,
		  long col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	yoc_error_vset(e, code, file, line, col, fmt, ap);
	va_end(ap);
	return code;
}

void yoc_error_print(FILE *f, const struct yoc_error *e)
{
	if (e->file[0]) {
		fputs(e->file, f);
		if (e->line > 0) {
			fprintf(f, ":%ld", e->line);
			if (e->col > 0)
				fprintf(f, ":%ld", e->col);
		}
		fputs(": ", f);
	}
	fprintf(f, "%s\n", e->msg[0] ? e->msg : yoc_status_str(e->code));
}

/*
** The load driver (see load.h): takes each file through the stages in
** load_int.h (read and validate, encode, commit) and hands back its
** result. Nothing here prints or touches the catalog.
*/
#include <string.h>

#include "load/load_int.h"

const char *yoc_load_status_str(int status)
{
	static const char *const n[] = {"loaded", "unchanged", "replaced", "rejected"};
	return status >= 0 && status <= YOC_LOAD_REJECTED ? n[status] : "?";
}

void yoc_loader_policy(struct yoc_loader *L, const yoc_allow *allow, int strict)
{
	L->allow = allow;
	L->strict = strict;
}

int yoc_loader_mem(struct yoc_loader *L, const char *name, const void *data, size_t n,
		   int kind, struct yoc_load_result *res, struct yoc_error *e)
{
	struct yoc__lfile *lf = yoc_malloc(sizeof *lf);
	if (!lf)
		return yoc_error_set(e, YOC_ENOMEM, name, 0, 0, "out of memory");
	yoc__lf_init(lf, name, name, kind);
	yoc__lf_prepare(L, lf, name, data, n);
	int rc = yoc__lf_commit(L, lf, e);
	*res = lf->res;
	yoc__lf_free(lf);
	yoc_free(lf);
	return rc;
}

int yoc_loader_file(struct yoc_loader *L, const char *path, int kind,
		    struct yoc_load_result *res, struct yoc_error *e)
{
	return yoc_loader_file_from(L, path, path, kind, res, e);
}

int yoc_loader_file_from(struct yoc_loader *L, const char *path, const char *root, int kind,
			 struct yoc_load_result *res, struct yoc_error *e)
{
	struct yoc__lfile *lf = yoc_malloc(sizeof *lf);
	if (!lf)
		return yoc_error_set(e, YOC_ENOMEM, path, 0, 0, "out of memory");
	yoc__lf_init(lf, path, root, kind);
	yoc__lf_read(L, lf);
	int rc = yoc__lf_commit(L, lf, e);
	*res = lf->res;
	yoc__lf_free(lf);
	yoc_free(lf);
	return rc;
}

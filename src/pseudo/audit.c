/*
** The re-identification audit log: one record of the hash-chained log
** (src/alog) per run of yoc reidentify. A record line is, in this field order,
**   {"seq":N,"time":"...","user":"...","purpose":"...","input":"...",
**    "input_sha256":"...","register_sha256":"...","key_id":"...",
**    "output":"...","rows_total":N,"rows_reidentified":N,
**    "persons_reidentified":N,"prev":"<64 hex>","hash":"<64 hex>"}
** The chain itself (locking, verification, hashing) is alog's.
*/
#include <stdio.h>
#include <string.h>

#include "alog/alog.h"
#include "pseudo/pseudo.h"

int yoc_audit_verify(const char *log, struct yoc_audit_result *res,
		     struct yoc_error *e)
{
	struct yoc_alog_result r;
	int rc = yoc_alog_verify(log, &r, e);
	res->records = r.records;
	memcpy(res->head, r.head, 65);
	return rc;
}

int yoc_audit_append(const char *log, const struct yoc_audit_rec *r,
		     char hash_out[65], struct yoc_error *e)
{
	struct yoc_buf b;
	int rc;

	if (!r->user || !*r->user || strlen(r->user) > YOC_AUDIT_MAX_USER)
		return yoc_error_set(e, YOC_EINVAL, log, 0, 0,
				     "user must be 1 to %d bytes", YOC_AUDIT_MAX_USER);
	if (!r->purpose || !*r->purpose || strlen(r->purpose) > YOC_AUDIT_MAX_PURPOSE)
		return yoc_error_set(e, YOC_EINVAL, log, 0, 0,
				     "purpose must be 1 to %d bytes", YOC_AUDIT_MAX_PURPOSE);
	yoc_buf_init(&b, YOC_ALOG_MAX_LINE - 512);
	rc = yoc_alog_put_str(&b, "user", r->user);
	if (!rc) rc = yoc_alog_put_str(&b, "purpose", r->purpose);
	if (!rc) rc = yoc_alog_put_str(&b, "input", r->input ? r->input : "");
	if (!rc) rc = yoc_alog_put_str(&b, "input_sha256", r->input_sha256);
	if (!rc) rc = yoc_alog_put_str(&b, "register_sha256", r->register_sha256);
	if (!rc) rc = yoc_alog_put_str(&b, "key_id", r->key_id);
	if (!rc) rc = yoc_alog_put_str(&b, "output", r->output ? r->output : "");
	if (!rc)
		rc = yoc_buf_printf(&b,
				    ",\"rows_total\":%llu,\"rows_reidentified\":%llu,"
				    "\"persons_reidentified\":%llu",
				    (unsigned long long)r->rows_total,
				    (unsigned long long)r->rows_reidentified,
				    (unsigned long long)r->persons);
	if (rc)
		rc = yoc_error_set(e, rc, log, 0, 0, "audit record too long");
	else
		rc = yoc_alog_append(log, b.data, hash_out, e);
	yoc_buf_free(&b);
	return rc;
}

/*
** zstd frames of segment blocks (libzstd): the optional compression of
** format 2 (segment.c). Only whole blocks, one frame each; nothing here
** knows the encodings inside.
*/
#include <zstd.h>

#include "store/store_int.h"

int yoc__seg_frame_ok(const unsigned char *p, uint64_t n, uint64_t raw)
{
	if (n == 0)
		return raw == 0;
	unsigned long long want = ZSTD_getFrameContentSize(p, (size_t)n);
	return want != ZSTD_CONTENTSIZE_ERROR && want != ZSTD_CONTENTSIZE_UNKNOWN && want == raw &&
	       raw <= ((uint64_t)1 << 40);
}

/*
** Contexts are kept by the caller from one block to the next: setting one
** up costs more than a small block's compression (on a virtual machine,
** where zstd's CPU feature check traps to the hypervisor, several times
** more). A kept context gives the same frames as a fresh one.
*/
void yoc__seg_zctx_free(void *cctx, void *dctx)
{
	ZSTD_freeCCtx(cctx);
	ZSTD_freeDCtx(dctx);
}

const char *yoc__seg_inflate(void **dctx, const unsigned char **p, uint64_t *n, uint64_t raw,
			     void **owned)
{
	if (!yoc__seg_frame_ok(*p, *n, raw))
		return "bad compressed block";
	if (*n == 0)
		return NULL;
	/* 8 bytes over, so the decoded block keeps the alignment of a plain one */
	unsigned char *buf = yoc_malloc((size_t)raw + 8);
	if (!buf)
		return "out of memory";
	if (!*dctx && !(*dctx = ZSTD_createDCtx())) {
		yoc_free(buf);
		return "out of memory";
	}
	size_t got = ZSTD_decompressDCtx(*dctx, buf, (size_t)raw + 8, *p, (size_t)*n);
	if (ZSTD_isError(got) || got != raw) {
		yoc_free(buf);
		return "bad compressed block";
	}
	*owned = buf;
	*p = buf;
	*n = raw;
	return NULL;
}

int yoc__seg_deflate(void **cctx, const void *p, size_t n, int level, struct yoc_buf *out)
{
	out->len = 0;
	if (!*cctx && !(*cctx = ZSTD_createCCtx()))
		return YOC_ENOMEM;
	size_t cap = ZSTD_compressBound(n);
	int rc = yoc_buf_reserve(out, cap);
	if (rc)
		return rc;
	size_t got = ZSTD_compressCCtx(*cctx, out->data, cap, p, n, level);
	if (ZSTD_isError(got))
		return YOC_EINTERNAL;
	out->len = got;
	return YOC_OK;
}

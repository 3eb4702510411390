/*
** The communicator of a sharded run (see shard.h): MPI_COMM_WORLD, one rank
** per shard. MPI is started only by a verb given --shards, so a plain run
** never touches it. Every call here is collective unless it says not.
*/
#include <mpi.h>
#include <string.h>
#include <time.h>

#include "shard/shard.h"

static int started;

/*
** Waits for a request by testing it and sleeping 0.2 ms between tests: a
** rank waiting for a slower one sleeps instead of spinning, so it leaves
** the core to the others and its CPU time is the work it did.
*/
static int wait_req(MPI_Request *r)
{
	int done = 0, rc;
	struct timespec ts = {0, 200000};
	while ((rc = MPI_Test(r, &done, MPI_STATUS_IGNORE)) == MPI_SUCCESS && !done)
		nanosleep(&ts, NULL);
	return rc;
}

uint64_t yoc_shard_hash(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64: offset basis, prime */
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

int yoc_shard_of(const char *p, size_t n, int k)
{
	return k > 1 ? (int)(yoc_shard_hash(p, n) % (uint64_t)k) : 0;
}

static int mpi_fail(struct yoc_error *e, int code, const char *what)
{
	char msg[MPI_MAX_ERROR_STRING];
	int len = 0;
	if (MPI_Error_string(code, msg, &len) != MPI_SUCCESS)
		snprintf(msg, sizeof msg, "error %d", code);
	return yoc_error_set(e, YOC_EIO, "mpi", 0, 0, "%s failed: %s", what, msg);
}

int yoc_shard_start(int *argc, char ***argv, struct yoc_error *e)
{
	int provided = 0, rc;
	if (started)
		return YOC_OK;
	/* the loader's and analyser's worker threads never call MPI */
	if ((rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided)) != MPI_SUCCESS)
		return mpi_fail(e, rc, "MPI_Init");
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	started = 1;
	return YOC_OK;
}

void yoc_shard_stop(void)
{
	if (started)
		MPI_Finalize();
	started = 0;
}

void yoc_shard_abort(int code)
{
	if (started)
		MPI_Abort(MPI_COMM_WORLD, code);
}

int yoc_shard_rank(void)
{
	int r = 0;
	if (started)
		MPI_Comm_rank(MPI_COMM_WORLD, &r);
	return r;
}

int yoc_shard_size(void)
{
	int k = 1;
	if (started)
		MPI_Comm_size(MPI_COMM_WORLD, &k);
	return k;
}

void yoc_shard_barrier(void)
{
	MPI_Request r;
	if (started && MPI_Ibarrier(MPI_COMM_WORLD, &r) == MPI_SUCCESS)
		wait_req(&r);
}

int yoc_shard_sum(int64_t *v, size_t n, struct yoc_error *e)
{
	int rc;
	if (!started || !n)
		return YOC_OK;
	MPI_Request r;
	rc = MPI_Iallreduce(MPI_IN_PLACE, v, (int)n, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD, &r);
	if (rc == MPI_SUCCESS)
		rc = wait_req(&r);
	return rc == MPI_SUCCESS ? YOC_OK : mpi_fail(e, rc, "MPI_Allreduce");
}

int yoc_shard_min(int64_t *v, size_t n, struct yoc_error *e)
{
	int rc;
	if (!started || !n)
		return YOC_OK;
	MPI_Request r;
	rc = MPI_Iallreduce(MPI_IN_PLACE, v, (int)n, MPI_INT64_T, MPI_MIN, MPI_COMM_WORLD, &r);
	if (rc == MPI_SUCCESS)
		rc = wait_req(&r);
	return rc == MPI_SUCCESS ? YOC_OK : mpi_fail(e, rc, "MPI_Allreduce");
}

int yoc_shard_bcast(void *p, size_t n, int root, struct yoc_error *e)
{
	int rc;
	if (!started || !n)
		return YOC_OK;
	MPI_Request r;
	rc = MPI_Ibcast(p, (int)n, MPI_BYTE, root, MPI_COMM_WORLD, &r);
	if (rc == MPI_SUCCESS)
		rc = wait_req(&r);
	return rc == MPI_SUCCESS ? YOC_OK : mpi_fail(e, rc, "MPI_Bcast");
}

#define PIECE_MAX ((size_t)1 << 30)

int yoc_shard_exchange(struct yoc_buf *send, struct yoc_buf *recv, uint64_t *sent,
		       struct yoc_error *e)
{
	int k = yoc_shard_size(), me = yoc_shard_rank(), rc = YOC_OK, mrc;
	int *sc = yoc_calloc((size_t)k * 4, sizeof *sc);
	if (!sc)
		return yoc_error_set(e, YOC_ENOMEM, "mpi", 0, 0, "out of memory");
	int *sd = sc + k, *rcn = sc + 2 * k, *rd = sc + 3 * k;
	char *sbuf = NULL, *rbuf = NULL;
	size_t stot = 0, rtot = 0;
	for (int d = 0; d < k; d++) {
		if (send[d].len >= PIECE_MAX * 2) {
			rc = yoc_error_set(e, YOC_ETOOBIG, "mpi", 0, 0,
					   "a batch for one rank is over 2 GiB");
			goto cleanup;
		}
		sc[d] = (int)send[d].len;
		sd[d] = (int)stot;
		stot += send[d].len;
		if (d != me && sent)
			*sent += send[d].len;
	}
	if (stot >= PIECE_MAX * 2) {
		rc = yoc_error_set(e, YOC_ETOOBIG, "mpi", 0, 0, "a batch is over 2 GiB");
		goto cleanup;
	}
	if (!started) { /* one process: its own part */
		yoc_buf_reset(&recv[0]);
		rc = yoc_buf_append(&recv[0], send[0].data, send[0].len) ? YOC_ENOMEM : YOC_OK;
		if (rc)
			yoc_error_set(e, rc, "mpi", 0, 0, "out of memory");
		goto cleanup;
	}
	MPI_Request req;
	if ((mrc = MPI_Ialltoall(sc, 1, MPI_INT, rcn, 1, MPI_INT, MPI_COMM_WORLD, &req)) !=
		    MPI_SUCCESS || (mrc = wait_req(&req)) != MPI_SUCCESS) {
		rc = mpi_fail(e, mrc, "MPI_Alltoall");
		goto cleanup;
	}
	for (int s = 0; s < k; s++) {
		rd[s] = (int)rtot;
		rtot += (size_t)rcn[s];
	}
	if (rtot >= PIECE_MAX * 2) {
		rc = yoc_error_set(e, YOC_ETOOBIG, "mpi", 0, 0, "a batch received is over 2 GiB");
		goto cleanup;
	}
	sbuf = yoc_malloc(stot + 1);
	rbuf = yoc_malloc(rtot + 1);
	if (!sbuf || !rbuf) {
		rc = yoc_error_set(e, YOC_ENOMEM, "mpi", 0, 0, "out of memory");
		goto cleanup;
	}
	for (int d = 0; d < k; d++)
		if (send[d].len)
			memcpy(sbuf + sd[d], send[d].data, send[d].len);
	if ((mrc = MPI_Ialltoallv(sbuf, sc, sd, MPI_BYTE, rbuf, rcn, rd, MPI_BYTE,
				  MPI_COMM_WORLD, &req)) != MPI_SUCCESS ||
	    (mrc = wait_req(&req)) != MPI_SUCCESS) {
		rc = mpi_fail(e, mrc, "MPI_Alltoallv");
		goto cleanup;
	}
	for (int s = 0; s < k && !rc; s++) {
		yoc_buf_reset(&recv[s]);
		if (rcn[s] && yoc_buf_append(&recv[s], rbuf + rd[s], (size_t)rcn[s]))
			rc = yoc_error_set(e, YOC_ENOMEM, "mpi", 0, 0, "out of memory");
	}
cleanup:
	yoc_free(sbuf);
	yoc_free(rbuf);
	yoc_free(sc);
	return rc;
}

int yoc_shard_gather(const void *p, size_t n, struct yoc_buf *recv, int root,
		     struct yoc_error *e)
{
	int k = yoc_shard_size(), me = yoc_shard_rank(), mrc;
	if (me == root) {
		yoc_buf_reset(&recv[me]);
		if (n && yoc_buf_append(&recv[me], p, n))
			return yoc_error_set(e, YOC_ENOMEM, "mpi", 0, 0, "out of memory");
	}
	if (!started)
		return YOC_OK;
	for (int s = 0; s < k; s++) {
		if (s == root)
			continue;
		if (me == s) {
			uint64_t len = n;
			MPI_Request r;
			if ((mrc = MPI_Isend(&len, 1, MPI_UINT64_T, root, 1, MPI_COMM_WORLD, &r)) ||
			    (mrc = wait_req(&r)))
				return mpi_fail(e, mrc, "MPI_Send");
			for (size_t off = 0; off < n; off += PIECE_MAX) {
				size_t m = n - off < PIECE_MAX ? n - off : PIECE_MAX;
				if ((mrc = MPI_Isend((const char *)p + off, (int)m, MPI_BYTE, root, 2,
						     MPI_COMM_WORLD, &r)) ||
				    (mrc = wait_req(&r)))
					return mpi_fail(e, mrc, "MPI_Send");
			}
		} else if (me == root) {
			uint64_t len = 0;
			MPI_Request r;
			if ((mrc = MPI_Irecv(&len, 1, MPI_UINT64_T, s, 1, MPI_COMM_WORLD, &r)) ||
			    (mrc = wait_req(&r)))
				return mpi_fail(e, mrc, "MPI_Recv");
			yoc_buf_reset(&recv[s]);
			if (yoc_buf_reserve(&recv[s], (size_t)len + 1))
				return yoc_error_set(e, YOC_ENOMEM, "mpi", 0, 0, "out of memory");
			for (size_t off = 0; off < len; off += PIECE_MAX) {
				size_t m = len - off < PIECE_MAX ? len - off : PIECE_MAX;
				if ((mrc = MPI_Irecv(recv[s].data + off, (int)m, MPI_BYTE, s, 2,
						     MPI_COMM_WORLD, &r)) ||
				    (mrc = wait_req(&r)))
					return mpi_fail(e, mrc, "MPI_Recv");
			}
			recv[s].len = (size_t)len;
			recv[s].data[len] = 0;
		}
	}
	return YOC_OK;
}

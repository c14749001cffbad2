/* dp_mpi.h: the few MPI operations dpipe needs, behind dp_status returns.
 *
 * dpipe distributes its scans over MPI ranks (pipeline/dp_dist.h). This file is the only place
 * that talks to MPI: dp_mpi.c when the build has MPI (DP_HAVE_MPI), dp_mpi_none.c otherwise (one
 * rank, every operation a no-op or DP_UNSUPPORTED). MPI is started only when the process was
 * launched by an MPI launcher (mpirun, mpiexec, srun: detected from the environment, or forced
 * with DPIPE_MPI=1 / disabled with DPIPE_MPI=0), so a plain `dpipe run` never touches MPI.
 *
 * Every call checks MPI's result (the communicator returns errors instead of aborting) and turns
 * a failure into DP_IO with MPI's error string, the operation and the peer rank. Messages larger
 * than 1 GiB travel in pieces (MPI counts are int).
 *
 * Failure protocol: a failure every rank learned through a collective exchange is "shared"
 * (dp__mpi_mark_shared); the CLI then ends every rank normally. Any other failure of a process
 * in a job of several ranks makes dp_mpi_finalize abort the whole job (MPI_Abort), since other
 * ranks may be waiting for it in a collective: no rank ever hangs.
 *
 * Thread safety: MPI is initialised with MPI_THREAD_FUNNELED; only the thread that called
 * dp_mpi_init may call these functions (dpipe's decode workers never do).
 */
#ifndef DP_BACKEND_MPI_H
#define DP_BACKEND_MPI_H

#include "util/dp_base.h"

/* Point-to-point tags used by the pipeline. */
enum {
    DP__MPI_TAG_PROGRESS = 101, /* follower -> rank 0: rows done (small, unsolicited) */
    DP__MPI_TAG_DONE = 102,     /* follower -> rank 0: its part of a scan ended (status) */
    DP__MPI_TAG_STOP = 103,     /* rank 0 -> follower: stop the scan, another rank failed */
    DP__MPI_TAG_STATE = 104     /* accumulator state (tree merge) */
};

/* This process's rank and the number of ranks (0 and 1 when MPI is not running). */
int dp__mpi_rank(void);
int dp__mpi_size(void);
/* Host name of this process ("" when MPI is not running). */
const char *dp__mpi_host(void);
/* The failure being returned was agreed by every rank (see above). */
void dp__mpi_mark_shared(void);

/* Broadcast n bytes from rank 0 into buf on every rank. */
dp_status dp__mpi_bcast(void *buf, size_t n, dp_error *err) DP_MUST_USE;
/* Every rank gives n bytes; all[rank * n ...] receives them on every rank. */
dp_status dp__mpi_allgather(const void *mine, size_t n, void *all, dp_error *err) DP_MUST_USE;
/* Blocking send / receive of exactly n bytes (in pieces of at most 1 GiB). */
dp_status dp__mpi_send(const void *buf, size_t n, int dst, int tag, dp_error *err) DP_MUST_USE;
dp_status dp__mpi_recv(void *buf, size_t n, int src, int tag, dp_error *err) DP_MUST_USE;
/* Is a message (from src, or any rank when src < 0, with tag, or any tag when tag < 0) waiting?
 * wait: block until one is. Gives its source, tag and size in bytes (messages probed this way are
 * small: below 1 GiB). */
dp_status dp__mpi_probe(int src, int tag, bool wait, bool *found, int *from, int *got_tag,
                        size_t *bytes, dp_error *err) DP_MUST_USE;
/* Send a small message (<= 256 bytes, copied) without waiting. One may be in flight at a time:
 * returns false (nothing sent) while the previous one has not completed. */
bool dp__mpi_post(const void *buf, size_t n, int dst, int tag);
/* Wait until the posted message (if any) has completed. */
dp_status dp__mpi_post_wait(dp_error *err) DP_MUST_USE;
/* Send a small message (<= 256 bytes, copied) without waiting; any number may be in flight until
 * dp__mpi_isend_wait_all. NOMEM, DP_IO. */
dp_status dp__mpi_isend(const void *buf, size_t n, int dst, int tag, dp_error *err) DP_MUST_USE;
dp_status dp__mpi_isend_wait_all(dp_error *err) DP_MUST_USE;
/* Seconds since an arbitrary origin (MPI_Wtime; dp_now() without MPI). */
double dp__mpi_wtime(void);

#endif

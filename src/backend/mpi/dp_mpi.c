/* MPI for dpipe (built with DP_HAVE_MPI). See dp_mpi.h and include/dpipe/dpipe.h. */
#include "backend/mpi/dp_mpi.h"
#include "dpipe/dpipe.h"
#include "util/dp_alloc.h"
#include "util/dp_log.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MPI counts are int: big messages go in pieces of this many bytes. */
#define DP__MPI_PIECE ((size_t) 1 << 30)

static struct {
    bool up;        /* dp_mpi_init started (or found) MPI */
    bool owns_init; /* and must finalize it */
    bool shared;    /* the failure being returned was agreed by every rank */
    int rank, size, local_rank;
    MPI_Comm comm;
    char host[MPI_MAX_PROCESSOR_NAME + 1];
    char prefix[MPI_MAX_PROCESSOR_NAME + 64];
    MPI_Request post_req;
    bool post_busy;
    unsigned char post_buf[256];
    /* dp__mpi_isend: requests and their copied messages */
    struct dp__isend {
        MPI_Request req;
        unsigned char buf[256];
    } * sends;
    int n_sends, cap_sends;
} dp__m = {.size = 1, .comm = MPI_COMM_NULL, .post_req = MPI_REQUEST_NULL};

static dp_status dp__mpi_fail(dp_error *err, int rc, const char *what, int peer) {
    char s[MPI_MAX_ERROR_STRING + 1];
    int len = 0;
    if (MPI_Error_string(rc, s, &len) != MPI_SUCCESS)
        len = snprintf(s, sizeof s, "MPI error %d", rc);
    s[len < 0 ? 0 : len] = '\0';
    if (peer >= 0)
        return dp_error_set(err, DP_IO, "rank %d (%s): %s with rank %d failed: %s", dp__m.rank,
                            dp__m.host, what, peer, s);
    return dp_error_set(err, DP_IO, "rank %d (%s): %s failed: %s", dp__m.rank, dp__m.host, what, s);
}

/* Was this process started by an MPI launcher? DPIPE_MPI=0/1 overrides the guess. */
static bool dp__launched(void) {
    const char *force = getenv("DPIPE_MPI");
    if (force != NULL && force[0] != '\0')
        return strcmp(force, "0") != 0;
    static const char *const vars[] = {
        "OMPI_COMM_WORLD_SIZE", "PMIX_RANK",       "PMI_RANK",        "PMI_SIZE",
        "MV2_COMM_WORLD_SIZE",  "MPI_LOCALNRANKS", "HYDRA_CONTROL_FD"};
    for (size_t i = 0; i < DP_ARRAY_LEN(vars); i++)
        if (getenv(vars[i]) != NULL)
            return true;
    return false;
}

dp_status dp_mpi_init(dp_error *err) {
    if (dp__m.up || !dp__launched())
        return DP_OK;
    int inited = 0, rc;
    MPI_Initialized(&inited);
    if (!inited) {
        int provided = 0;
        rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
        if (rc != MPI_SUCCESS)
            return dp_error_set(err, DP_IO, "MPI_Init_thread failed (error %d)", rc);
        dp__m.owns_init = true;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    rc = MPI_Comm_dup(MPI_COMM_WORLD, &dp__m.comm);
    if (rc != MPI_SUCCESS)
        return dp__mpi_fail(err, rc, "MPI_Comm_dup", -1);
    MPI_Comm_set_errhandler(dp__m.comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(dp__m.comm, &dp__m.rank);
    MPI_Comm_size(dp__m.comm, &dp__m.size);
    int len = 0;
    if (MPI_Get_processor_name(dp__m.host, &len) != MPI_SUCCESS || len <= 0)
        snprintf(dp__m.host, sizeof dp__m.host, "?");
    else
        dp__m.host[len] = '\0';
    MPI_Comm node;
    dp__m.local_rank = 0;
    if (MPI_Comm_split_type(dp__m.comm, MPI_COMM_TYPE_SHARED, dp__m.rank, MPI_INFO_NULL, &node) ==
        MPI_SUCCESS) {
        MPI_Comm_rank(node, &dp__m.local_rank);
        MPI_Comm_free(&node);
    }
    dp__m.up = true;
    snprintf(dp__m.prefix, sizeof dp__m.prefix, "rank %d (%s): ", dp__m.rank, dp__m.host);
    if (dp__m.rank > 0) {
        /* Rank 0 speaks for the job; the others only with -v, and then say who they are. */
        if (dp_log_get_level() <= DP_LOG_NORMAL) {
            dp_log_set_level(DP_LOG_QUIET);
        } else {
            char p[64];
            snprintf(p, sizeof p, "[rank %d] ", dp__m.rank);
            dp_log_set_prefix(p);
        }
    }
    if (dp__m.size > 1)
        dp_log_verbose("MPI: %d ranks; this is rank %d on %s (local rank %d)", dp__m.size,
                       dp__m.rank, dp__m.host, dp__m.local_rank);
    return DP_OK;
}

int dp_mpi_finalize(int exit_code) {
    if (!dp__m.up)
        return exit_code;
    if (exit_code != 0 && dp__m.size > 1 && !dp__m.shared) {
        fflush(stdout);
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, exit_code);
    }
    if (dp__m.post_busy)
        MPI_Wait(&dp__m.post_req, MPI_STATUS_IGNORE);
    dp__m.post_busy = false;
    dp_error e;
    if (dp__mpi_isend_wait_all(&e) != DP_OK)
        dp_log_verbose("%s", e.msg);
    dp_free(dp__m.sends);
    dp__m.sends = NULL;
    dp__m.cap_sends = 0;
    MPI_Comm_free(&dp__m.comm);
    if (dp__m.owns_init)
        MPI_Finalize();
    dp__m.up = false;
    dp__m.rank = 0;
    dp__m.size = 1;
    dp__m.shared = false;
    return exit_code;
}

int dp_mpi_rank(void) {
    return dp__m.rank;
}
int dp_mpi_size(void) {
    return dp__m.size;
}
int dp_mpi_local_rank(void) {
    return dp__m.local_rank;
}
int dp_mpi_local_device(int n_devices) {
    return n_devices > 0 ? dp__m.local_rank % n_devices : 0;
}
const char *dp_mpi_error_prefix(void) {
    return dp__m.up && dp__m.size > 1 && !dp__m.shared ? dp__m.prefix : "";
}
bool dp_mpi_reports_errors(void) {
    return !(dp__m.up && dp__m.size > 1 && dp__m.shared && dp__m.rank > 0);
}

int dp__mpi_rank(void) {
    return dp__m.rank;
}
int dp__mpi_size(void) {
    return dp__m.size;
}
const char *dp__mpi_host(void) {
    return dp__m.up ? dp__m.host : "";
}
void dp__mpi_mark_shared(void) {
    dp__m.shared = true;
}

dp_status dp__mpi_bcast(void *buf, size_t n, dp_error *err) {
    if (dp__m.size <= 1)
        return DP_OK;
    size_t off = 0;
    do {
        size_t piece = DP_MIN(DP__MPI_PIECE, n - off);
        int rc = MPI_Bcast((char *) buf + off, (int) piece, MPI_BYTE, 0, dp__m.comm);
        if (rc != MPI_SUCCESS)
            return dp__mpi_fail(err, rc, "MPI_Bcast", -1);
        off += piece;
    } while (off < n);
    return DP_OK;
}

dp_status dp__mpi_allgather(const void *mine, size_t n, void *all, dp_error *err) {
    if (dp__m.size <= 1) {
        memmove(all, mine, n);
        return DP_OK;
    }
    if (n > (size_t) INT32_MAX)
        return dp_error_set(err, DP_LIMIT, "allgather of %zu bytes per rank", n);
    int rc = MPI_Allgather(mine, (int) n, MPI_BYTE, all, (int) n, MPI_BYTE, dp__m.comm);
    if (rc != MPI_SUCCESS)
        return dp__mpi_fail(err, rc, "MPI_Allgather", -1);
    return DP_OK;
}

dp_status dp__mpi_send(const void *buf, size_t n, int dst, int tag, dp_error *err) {
    size_t off = 0;
    do {
        size_t piece = DP_MIN(DP__MPI_PIECE, n - off);
        int rc = MPI_Send((const char *) buf + off, (int) piece, MPI_BYTE, dst, tag, dp__m.comm);
        if (rc != MPI_SUCCESS)
            return dp__mpi_fail(err, rc, "MPI_Send", dst);
        off += piece;
    } while (off < n);
    return DP_OK;
}

dp_status dp__mpi_recv(void *buf, size_t n, int src, int tag, dp_error *err) {
    size_t off = 0;
    do {
        size_t piece = DP_MIN(DP__MPI_PIECE, n - off);
        MPI_Status ms;
        int rc = MPI_Recv((char *) buf + off, (int) piece, MPI_BYTE, src, tag, dp__m.comm, &ms);
        if (rc != MPI_SUCCESS)
            return dp__mpi_fail(err, rc, "MPI_Recv", src);
        int got = 0;
        MPI_Get_count(&ms, MPI_BYTE, &got);
        if (got != (int) piece)
            return dp_error_set(err, DP_IO,
                                "rank %d (%s): expected %zu bytes from rank %d, received %d",
                                dp__m.rank, dp__m.host, piece, src, got);
        off += piece;
    } while (off < n);
    return DP_OK;
}

dp_status dp__mpi_probe(int src, int tag, bool wait, bool *found, int *from, int *got_tag,
                        size_t *bytes, dp_error *err) {
    MPI_Status ms;
    int flag = 1, rc;
    int s = src < 0 ? MPI_ANY_SOURCE : src, t = tag < 0 ? MPI_ANY_TAG : tag;
    if (wait)
        rc = MPI_Probe(s, t, dp__m.comm, &ms);
    else
        rc = MPI_Iprobe(s, t, dp__m.comm, &flag, &ms);
    if (rc != MPI_SUCCESS)
        return dp__mpi_fail(err, rc, wait ? "MPI_Probe" : "MPI_Iprobe", src);
    *found = flag != 0;
    if (flag) {
        int count = 0;
        MPI_Get_count(&ms, MPI_BYTE, &count);
        *from = ms.MPI_SOURCE;
        *got_tag = ms.MPI_TAG;
        *bytes = (size_t) (count > 0 ? count : 0);
    }
    return DP_OK;
}

bool dp__mpi_post(const void *buf, size_t n, int dst, int tag) {
    if (n > sizeof dp__m.post_buf)
        return false;
    if (dp__m.post_busy) {
        int done = 0;
        if (MPI_Test(&dp__m.post_req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS || !done)
            return false;
        dp__m.post_busy = false;
    }
    memcpy(dp__m.post_buf, buf, n);
    if (MPI_Isend(dp__m.post_buf, (int) n, MPI_BYTE, dst, tag, dp__m.comm, &dp__m.post_req) !=
        MPI_SUCCESS)
        return false;
    dp__m.post_busy = true;
    return true;
}

dp_status dp__mpi_post_wait(dp_error *err) {
    if (!dp__m.post_busy)
        return DP_OK;
    dp__m.post_busy = false;
    int rc = MPI_Wait(&dp__m.post_req, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS)
        return dp__mpi_fail(err, rc, "MPI_Wait", 0);
    return DP_OK;
}

dp_status dp__mpi_isend(const void *buf, size_t n, int dst, int tag, dp_error *err) {
    if (n > sizeof dp__m.sends[0].buf)
        return dp_error_set(err, DP_LIMIT, "message of %zu bytes is too large to post", n);
    if (dp__m.n_sends == dp__m.cap_sends) {
        /* Requests live in this array until waited for: it only grows (realloc would move
         * buffers MPI is still reading), so wait for the old ones first. */
        DP_TRY(dp__mpi_isend_wait_all(err));
        if (dp__m.cap_sends == 0) {
            int cap = dp__m.size > 16 ? dp__m.size : 16;
            dp__m.sends = dp_mallocarray((size_t) cap, sizeof *dp__m.sends);
            if (dp__m.sends == NULL)
                return dp_error_set(err, DP_NOMEM, "out of memory for %d MPI requests", cap);
            dp__m.cap_sends = cap;
        }
    }
    struct dp__isend *s = &dp__m.sends[dp__m.n_sends];
    memcpy(s->buf, buf, n);
    int rc = MPI_Isend(s->buf, (int) n, MPI_BYTE, dst, tag, dp__m.comm, &s->req);
    if (rc != MPI_SUCCESS)
        return dp__mpi_fail(err, rc, "MPI_Isend", dst);
    dp__m.n_sends++;
    return DP_OK;
}

dp_status dp__mpi_isend_wait_all(dp_error *err) {
    dp_status st = DP_OK;
    for (int i = 0; i < dp__m.n_sends; i++) {
        int rc = MPI_Wait(&dp__m.sends[i].req, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS && st == DP_OK)
            st = dp__mpi_fail(err, rc, "MPI_Wait", -1);
    }
    dp__m.n_sends = 0;
    return st;
}

double dp__mpi_wtime(void) {
    return MPI_Wtime();
}

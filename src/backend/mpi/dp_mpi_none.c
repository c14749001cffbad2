/* MPI stand-ins for builds without MPI (DP_HAVE_MPI = 0): one rank, nothing to exchange. */
#include "backend/mpi/dp_mpi.h"
#include "dpipe/dpipe.h"
#include "util/dp_progress.h"

#include <stdlib.h>
#include <string.h>

/* A launcher's rank count, when one started this process (so that N copies of a build without
 * MPI do not each run the whole job into the same directory). */
static long dp__launcher_size(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE"};
    for (size_t i = 0; i < DP_ARRAY_LEN(vars); i++) {
        const char *v = getenv(vars[i]);
        if (v != NULL)
            return strtol(v, NULL, 10);
    }
    return 1;
}

dp_status dp_mpi_init(dp_error *err) {
    long n = dp__launcher_size();
    const char *force = getenv("DPIPE_MPI");
    if (n > 1 && !(force != NULL && strcmp(force, "0") == 0))
        return dp_error_set(err, DP_UNSUPPORTED,
                            "started as %ld MPI ranks, but this dpipe was built without MPI "
                            "(rebuild with libopenmpi-dev installed, or run it once without "
                            "mpirun)",
                            n);
    return DP_OK;
}

int dp_mpi_finalize(int exit_code) {
    return exit_code;
}
int dp_mpi_rank(void) {
    return 0;
}
int dp_mpi_size(void) {
    return 1;
}
int dp_mpi_local_rank(void) {
    return 0;
}
int dp_mpi_local_device(int n_devices) {
    (void) n_devices;
    return 0;
}
const char *dp_mpi_error_prefix(void) {
    return "";
}
bool dp_mpi_reports_errors(void) {
    return true;
}

int dp__mpi_rank(void) {
    return 0;
}
int dp__mpi_size(void) {
    return 1;
}
const char *dp__mpi_host(void) {
    return "";
}
void dp__mpi_mark_shared(void) {}

dp_status dp__mpi_bcast(void *buf, size_t n, dp_error *err) {
    (void) buf;
    (void) n;
    (void) err;
    return DP_OK;
}

dp_status dp__mpi_allgather(const void *mine, size_t n, void *all, dp_error *err) {
    (void) err;
    memmove(all, mine, n);
    return DP_OK;
}

dp_status dp__mpi_send(const void *buf, size_t n, int dst, int tag, dp_error *err) {
    (void) buf;
    (void) n;
    (void) tag;
    return dp_error_set(err, DP_UNSUPPORTED, "no MPI in this build: cannot send to rank %d", dst);
}

dp_status dp__mpi_recv(void *buf, size_t n, int src, int tag, dp_error *err) {
    (void) buf;
    (void) n;
    (void) tag;
    return dp_error_set(err, DP_UNSUPPORTED, "no MPI in this build: cannot receive from rank %d",
                        src);
}

dp_status dp__mpi_probe(int src, int tag, bool wait, bool *found, int *from, int *got_tag,
                        size_t *bytes, dp_error *err) {
    (void) src;
    (void) tag;
    (void) from;
    (void) got_tag;
    (void) bytes;
    *found = false;
    if (wait)
        return dp_error_set(err, DP_UNSUPPORTED, "no MPI in this build: nothing to wait for");
    return DP_OK;
}

bool dp__mpi_post(const void *buf, size_t n, int dst, int tag) {
    (void) buf;
    (void) n;
    (void) dst;
    (void) tag;
    return false;
}

dp_status dp__mpi_post_wait(dp_error *err) {
    (void) err;
    return DP_OK;
}

dp_status dp__mpi_isend(const void *buf, size_t n, int dst, int tag, dp_error *err) {
    (void) buf;
    (void) n;
    (void) tag;
    return dp_error_set(err, DP_UNSUPPORTED, "no MPI in this build: cannot send to rank %d", dst);
}

dp_status dp__mpi_isend_wait_all(dp_error *err) {
    (void) err;
    return DP_OK;
}

double dp__mpi_wtime(void) {
    return dp_now();
}

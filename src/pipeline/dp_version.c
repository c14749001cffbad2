#include "backend/dp_backend.h"
#include "dpipe/dpipe.h"
#include "util/dp_log.h"

#include <stdio.h>

const char *dp_version(void) {
    return DP_VERSION_STRING;
}

void dp_set_verbosity(int level) {
    dp_log_set_level(level <= 0   ? DP_LOG_QUIET
                     : level == 1 ? DP_LOG_NORMAL
                     : level == 2 ? DP_LOG_VERBOSE
                                  : DP_LOG_DEBUG);
}

void dp_set_log_json(bool json) {
    dp_log_set_json(json);
}

const char *dp_build_info(void) {
    static char buf[512];
    snprintf(buf, sizeof buf,
             "dpipe %s; codecs:%s%s%s%s%s; blas: %s; lapacke %s; igraph %s; png %s; cuda %s; "
             "mpi %s",
             DP_VERSION_STRING, DP_HAVE_ZSTD ? " zstd" : "", DP_HAVE_SNAPPY ? " snappy" : "",
             DP_HAVE_ZLIB ? " gzip" : "", DP_HAVE_LZ4 ? " lz4" : "",
             DP_HAVE_BROTLI ? " brotli" : "", dp_backend_cpu_describe(),
             DP_HAVE_LAPACKE ? "yes" : "no", DP_HAVE_IGRAPH ? "yes" : "no",
             DP_HAVE_PNG ? "yes" : "no", DP_HAVE_CUDA ? "yes" : "no", DP_HAVE_MPI ? "yes" : "no");
    return buf;
}

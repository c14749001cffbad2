/* dp_backend.h: the matrix work of dpipe behind one table of functions.
 *
 * Accumulators call these instead of BLAS directly, so a backend (CPU/CBLAS now; CUDA and
 * others later) can be swapped without touching the statistics. Matrices are column-major
 * doubles with explicit leading dimensions (in elements). Dimensions are int64_t; a backend
 * whose library takes `int` returns DP_LIMIT when they do not fit.
 *
 * Semantics (BLAS names, "T" = transposed A):
 *   syrk_tn: C[0..n, 0..n] = alpha * A^T A + beta * C, A is k x n. Only the UPPER triangle of C
 *            (i <= j) is referenced and written; callers mirror it when they need both halves.
 *   gemm_tn: C[0..m, 0..n] = alpha * A^T B + beta * C, A is k x m, B is k x n.
 * Results are deterministic: the same inputs give the same bits whatever the thread count.
 *
 * Ownership: a backend is created by its constructor (dp_backend_cpu_create, ...) and released
 * with dp_backend_free (accepts NULL). `private_data` belongs to the backend.
 * Thread safety: one thread calls a backend at a time (it may use threads inside).
 */
#ifndef DP_BACKEND_BACKEND_H
#define DP_BACKEND_BACKEND_H

#include "util/dp_base.h"

typedef struct dp_backend dp_backend;

struct dp_backend {
    const char *name; /* "cpu", "cuda" */
    void *private_data;
    dp_status (*syrk_tn)(dp_backend *b, int64_t n, int64_t k, double alpha, const double *A,
                         int64_t lda, double beta, double *C, int64_t ldc, dp_error *err);
    dp_status (*gemm_tn)(dp_backend *b, int64_t m, int64_t n, int64_t k, double alpha,
                         const double *A, int64_t lda, const double *B, int64_t ldb, double beta,
                         double *C, int64_t ldc, dp_error *err);
    void (*release)(dp_backend *b); /* frees private_data and the struct */
};

typedef struct dp_backend_cpu_options {
    int threads; /* worker threads (each runs single-threaded BLAS on fixed tiles); 0 = all cores */
} dp_backend_cpu_options;

/* CPU backend: OpenBLAS CBLAS when built with it (DP_HAVE_BLAS), else dpipe's own blocked
 * kernels. opts may be NULL (defaults). */
dp_status dp_backend_cpu_create(const dp_backend_cpu_options *opts, dp_backend **out,
                                dp_error *err) DP_MUST_USE;
/* Which implementation the CPU backend uses: "openblas <config>" or "builtin". */
const char *dp_backend_cpu_describe(void);

static inline void dp_backend_free(dp_backend *b) {
    if (b != NULL && b->release != NULL)
        b->release(b);
}

#endif

/* CPU backend: CBLAS (OpenBLAS) when available, else blocked C loops. The built-in kernels exist
 * so that a build without any optional dependency still computes every matrix (slowly). */
#include "backend/dp_backend.h"
#include "dpipe/dp_features.h"
#include "util/dp_alloc.h"

#include <limits.h>
#include <stdio.h>

#if DP_HAVE_BLAS
#include <cblas.h>
/* OpenBLAS extensions (declared in its cblas.h on Debian, repeated here for other layouts). */
void openblas_set_num_threads(int num_threads);
char *openblas_get_config(void);
char *openblas_get_corename(void);
#endif

#if DP_HAVE_BLAS
static bool dp__fits_int(int64_t v) {
    return v >= 0 && v <= INT_MAX;
}
#endif

#if DP_HAVE_BLAS
static dp_status dp__syrk(dp_backend *b, int64_t n, int64_t k, double alpha, const double *A,
                          int64_t lda, double beta, double *C, int64_t ldc, dp_error *err) {
    (void) b;
    if (!dp__fits_int(n) || !dp__fits_int(k) || !dp__fits_int(lda) || !dp__fits_int(ldc))
        return dp_error_set(err, DP_LIMIT, "syrk dimensions n=%lld k=%lld exceed BLAS int range",
                            (long long) n, (long long) k);
    if (n == 0)
        return DP_OK;
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, (int) n, (int) k, alpha, A,
                (int) (lda > 0 ? lda : 1), beta, C, (int) ldc);
    return DP_OK;
}

static dp_status dp__gemm(dp_backend *b, int64_t m, int64_t n, int64_t k, double alpha,
                          const double *A, int64_t lda, const double *B, int64_t ldb, double beta,
                          double *C, int64_t ldc, dp_error *err) {
    (void) b;
    if (!dp__fits_int(m) || !dp__fits_int(n) || !dp__fits_int(k) || !dp__fits_int(lda) ||
        !dp__fits_int(ldb) || !dp__fits_int(ldc))
        return dp_error_set(err, DP_LIMIT, "gemm dimensions m=%lld n=%lld k=%lld exceed BLAS int",
                            (long long) m, (long long) n, (long long) k);
    if (m == 0 || n == 0)
        return DP_OK;
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int) m, (int) n, (int) k, alpha, A,
                (int) (lda > 0 ? lda : 1), B, (int) (ldb > 0 ? ldb : 1), beta, C, (int) ldc);
    return DP_OK;
}
#else
/* Built-in kernels: dot products over k in a fixed order (deterministic). */
static dp_status dp__syrk(dp_backend *b, int64_t n, int64_t k, double alpha, const double *A,
                          int64_t lda, double beta, double *C, int64_t ldc, dp_error *err) {
    (void) b;
    (void) err;
    for (int64_t j = 0; j < n; j++) {
        const double *aj = A + j * lda;
        for (int64_t i = 0; i <= j; i++) {
            const double *ai = A + i * lda;
            double s = 0;
            for (int64_t t = 0; t < k; t++)
                s += ai[t] * aj[t];
            double *c = &C[j * ldc + i];
            *c = alpha * s + (beta == 0 ? 0 : beta * *c);
        }
    }
    return DP_OK;
}

static dp_status dp__gemm(dp_backend *b, int64_t m, int64_t n, int64_t k, double alpha,
                          const double *A, int64_t lda, const double *B, int64_t ldb, double beta,
                          double *C, int64_t ldc, dp_error *err) {
    (void) b;
    (void) err;
    for (int64_t j = 0; j < n; j++) {
        const double *bj = B + j * ldb;
        for (int64_t i = 0; i < m; i++) {
            const double *ai = A + i * lda;
            double s = 0;
            for (int64_t t = 0; t < k; t++)
                s += ai[t] * bj[t];
            double *c = &C[j * ldc + i];
            *c = alpha * s + (beta == 0 ? 0 : beta * *c);
        }
    }
    return DP_OK;
}
#endif

static void dp__release(dp_backend *b) {
    dp_free(b);
}

dp_status dp_backend_cpu_create(const dp_backend_cpu_options *opts, dp_backend **out,
                                dp_error *err) {
    *out = NULL;
    dp_backend *b = dp_calloc(1, sizeof *b);
    if (b == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory creating the CPU backend");
    b->name = "cpu";
    b->syrk_tn = dp__syrk;
    b->gemm_tn = dp__gemm;
    b->release = dp__release;
#if DP_HAVE_BLAS
    if (opts != NULL && opts->threads > 0)
        openblas_set_num_threads(opts->threads);
#else
    (void) opts;
#endif
    *out = b;
    return DP_OK;
}

const char *dp_backend_cpu_describe(void) {
#if DP_HAVE_BLAS
    static char buf[256];
    snprintf(buf, sizeof buf, "openblas %s (core %s)", openblas_get_config(),
             openblas_get_corename());
    return buf;
#else
    return "builtin";
#endif
}

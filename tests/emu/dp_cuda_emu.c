/* dp_cuda_emu.c: a host emulation of the part of the CUDA runtime and cuBLAS that the backend
 * calls, and of the backend's kernel launchers (backend/cuda/dp_cuda_kernels.h), so that the
 * orchestration code of the CUDA backend (dp_cuda_ctx.c, dp_cuda_gram.c, dp_cuda_featgram.c:
 * the ring, block structure, column lists, scatters, store / load, plans) runs and is tested on a
 * machine without a GPU. tests/CMakeLists.txt links it, with those sources, into
 * dp_cuda_emu_tests, which runs the tests of tests/gpu against it.
 *
 * What it does not check: the kernels' thread indexing and reductions (the launchers below state
 * each kernel's result element by element with the same per-value functions of dp_cuda_math.h),
 * streams and events (everything runs in order at once), and real cuBLAS. "Device" memory is
 * host memory filled with 0xff bytes (NaN) at allocation, so a read of memory that was never
 * written poisons the results. TF32 is emulated by rounding GEMM inputs to 10 mantissa bits.
 *
 * Test knobs: dp_emu_free_bytes (what cudaMemGetInfo reports as free, minus live allocations)
 * and dp_emu_fail_malloc (the n-th cudaMalloc from now fails with cudaErrorMemoryAllocation).
 */
#include "backend/cuda/dp_cuda_kernels.h"
#include "dpipe/dp_features.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if DP_HAVE_BLAS
#include <cblas.h>
#endif

int64_t dp_emu_free_bytes = (int64_t) 80 << 30;
int64_t dp_emu_fail_malloc = 0;
static int64_t dp_emu_live;
static cudaError_t dp_emu_last = cudaSuccess;

/* ---- runtime ------------------------------------------------------------------------------- */

struct CUstream_st {
    int dummy;
};
struct CUevent_st {
    double t;
};

static double emu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

cudaError_t cudaGetDeviceCount(int *count) {
    *count = 1;
    return cudaSuccess;
}

const char *cudaGetErrorName(cudaError_t e) {
    switch (e) {
    case cudaSuccess:
        return "cudaSuccess";
    case cudaErrorMemoryAllocation:
        return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidDevice:
        return "cudaErrorInvalidDevice";
    case cudaErrorInvalidConfiguration:
        return "cudaErrorInvalidConfiguration";
    default:
        return "cudaErrorUnknown";
    }
}

const char *cudaGetErrorString(cudaError_t e) {
    return e == cudaErrorMemoryAllocation ? "out of memory" : "emulated error";
}

cudaError_t cudaSetDevice(int device) {
    return device == 0 ? cudaSuccess : cudaErrorInvalidDevice;
}

cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *prop, int device) {
    if (device != 0)
        return cudaErrorInvalidDevice;
    memset(prop, 0, sizeof *prop);
    snprintf(prop->name, sizeof prop->name, "dpipe host emulation of a CUDA device");
    prop->major = 9;
    prop->minor = 0;
    prop->totalGlobalMem = (size_t) dp_emu_free_bytes;
    return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total) {
    *total = (size_t) dp_emu_free_bytes;
    *free_bytes = (size_t) (dp_emu_free_bytes - dp_emu_live);
    return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned int flags) {
    (void) flags;
    *s = calloc(1, sizeof(struct CUstream_st));
    return *s != NULL ? cudaSuccess : cudaErrorMemoryAllocation;
}

cudaError_t cudaStreamDestroy(cudaStream_t s) {
    free(s);
    return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t s) {
    (void) s;
    return cudaSuccess;
}

cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned int flags) {
    (void) s, (void) e, (void) flags;
    return cudaSuccess;
}

/* Allocations carry their size in front, for the live count. */
cudaError_t cudaMalloc(void **p, size_t n) {
    *p = NULL;
    if (dp_emu_fail_malloc > 0 && --dp_emu_fail_malloc == 0)
        return cudaErrorMemoryAllocation;
    if ((int64_t) n > dp_emu_free_bytes - dp_emu_live)
        return cudaErrorMemoryAllocation;
    size_t *b = malloc(n + 16);
    if (b == NULL)
        return cudaErrorMemoryAllocation;
    b[0] = n;
    memset(b + 2, 0xff, n); /* NaN everywhere: reading unwritten memory shows */
    dp_emu_live += (int64_t) n;
    *p = b + 2;
    return cudaSuccess;
}

cudaError_t cudaFree(void *p) {
    if (p != NULL) {
        size_t *b = (size_t *) p - 2;
        dp_emu_live -= (int64_t) b[0];
        free(b);
    }
    return cudaSuccess;
}

cudaError_t cudaHostAlloc(void **p, size_t n, unsigned int flags) {
    (void) flags;
    *p = malloc(n > 0 ? n : 1);
    if (*p == NULL)
        return cudaErrorMemoryAllocation;
    memset(*p, 0xab, n);
    return cudaSuccess;
}

cudaError_t cudaFreeHost(void *p) {
    free(p);
    return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t *e) {
    *e = calloc(1, sizeof(struct CUevent_st));
    return *e != NULL ? cudaSuccess : cudaErrorMemoryAllocation;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t *e, unsigned int flags) {
    (void) flags;
    return cudaEventCreate(e);
}

cudaError_t cudaEventDestroy(cudaEvent_t e) {
    free(e);
    return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
    (void) s;
    e->t = emu_now();
    return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t e) {
    (void) e;
    return cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t a, cudaEvent_t b) {
    *ms = (float) ((b->t - a->t) * 1e3);
    return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, enum cudaMemcpyKind kind,
                            cudaStream_t s) {
    (void) kind, (void) s;
    memcpy(dst, src, n);
    return cudaSuccess;
}

cudaError_t cudaMemcpy2DAsync(void *dst, size_t dpitch, const void *src, size_t spitch,
                              size_t width, size_t height, enum cudaMemcpyKind kind,
                              cudaStream_t s) {
    (void) kind, (void) s;
    if (width > dpitch || width > spitch)
        return cudaErrorInvalidValue;
    for (size_t r = 0; r < height; r++)
        memcpy((char *) dst + r * dpitch, (const char *) src + r * spitch, width);
    return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void *p, int value, size_t n, cudaStream_t s) {
    (void) s;
    memset(p, value, n);
    return cudaSuccess;
}

cudaError_t cudaGetLastError(void) {
    cudaError_t e = dp_emu_last;
    dp_emu_last = cudaSuccess;
    return e;
}

/* ---- cuBLAS (column-major, the operations the backend uses) --------------------------------- */

struct cublasContext {
    int dummy;
};

cublasStatus_t cublasCreate_v2(cublasHandle_t *h) {
    *h = calloc(1, sizeof(struct cublasContext));
    return *h != NULL ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_ALLOC_FAILED;
}

cublasStatus_t cublasDestroy_v2(cublasHandle_t h) {
    free(h);
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream_v2(cublasHandle_t h, cudaStream_t s) {
    (void) h, (void) s;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t h, void *w, size_t n) {
    (void) h, (void) w, (void) n;
    return CUBLAS_STATUS_SUCCESS;
}

const char *cublasGetStatusName(cublasStatus_t s) {
    return s == CUBLAS_STATUS_SUCCESS ? "CUBLAS_STATUS_SUCCESS" : "CUBLAS_STATUS_NOT_SUPPORTED";
}

const char *cublasGetStatusString(cublasStatus_t s) {
    return s == CUBLAS_STATUS_SUCCESS ? "success" : "not supported by the emulation";
}

/* A^T (k x n, ld lda) times B (k x m): C[i + j ldc] = alpha sum_t A[t + i lda] B[t + j ldb] +
 * beta C (C not read when beta == 0), for i < n, j < m; upper: only i <= j. */
static void emu_tn(int64_t n, int64_t m, int64_t k, double alpha, const double *A, int64_t lda,
                   const double *B, int64_t ldb, double beta, double *C, int64_t ldc, bool upper) {
    for (int64_t j = 0; j < m; j++)
        for (int64_t i = 0; i < (upper ? j + 1 : n); i++) {
            double s = 0;
            for (int64_t t = 0; t < k; t++)
                s += A[t + i * lda] * B[t + j * ldb];
            C[i + j * ldc] = beta == 0 ? alpha * s : alpha * s + beta * C[i + j * ldc];
        }
}

static void emu_tn_f(int64_t n, int64_t m, int64_t k, float alpha, const float *A, int64_t lda,
                     const float *B, int64_t ldb, float beta, float *C, int64_t ldc, bool upper) {
    for (int64_t j = 0; j < m; j++)
        for (int64_t i = 0; i < (upper ? j + 1 : n); i++) {
            float s = 0;
            for (int64_t t = 0; t < k; t++)
                s += A[t + i * lda] * B[t + j * ldb];
            C[i + j * ldc] = beta == 0 ? alpha * s : alpha * s + beta * C[i + j * ldc];
        }
}

cublasStatus_t cublasDsyrk_v2(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t trans,
                              int n, int k, const double *alpha, const double *A, int lda,
                              const double *beta, double *C, int ldc) {
    (void) h;
    if (uplo != CUBLAS_FILL_MODE_UPPER || trans != CUBLAS_OP_T || lda < k || ldc < n)
        return CUBLAS_STATUS_NOT_SUPPORTED;
#if DP_HAVE_BLAS
    if (*beta == 0) /* BLAS reads C with beta == 0 only to scale it: clear the garbage first */
        for (int j = 0; j < n; j++)
            memset(C + (size_t) j * (size_t) ldc, 0, (size_t) (j + 1) * sizeof(double));
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, n, k, *alpha, A, lda, *beta, C, ldc);
#else
    emu_tn(n, n, k, *alpha, A, lda, A, lda, *beta, C, ldc, true);
#endif
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSsyrk_v2(cublasHandle_t h, cublasFillMode_t uplo, cublasOperation_t trans,
                              int n, int k, const float *alpha, const float *A, int lda,
                              const float *beta, float *C, int ldc) {
    (void) h;
    if (uplo != CUBLAS_FILL_MODE_UPPER || trans != CUBLAS_OP_T || lda < k || ldc < n)
        return CUBLAS_STATUS_NOT_SUPPORTED;
#if DP_HAVE_BLAS
    if (*beta == 0)
        for (int j = 0; j < n; j++)
            memset(C + (size_t) j * (size_t) ldc, 0, (size_t) (j + 1) * sizeof(float));
    cblas_ssyrk(CblasColMajor, CblasUpper, CblasTrans, n, k, *alpha, A, lda, *beta, C, ldc);
#else
    emu_tn_f(n, n, k, *alpha, A, lda, A, lda, *beta, C, ldc, true);
#endif
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDgemm_v2(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,
                              int n, int k, const double *alpha, const double *A, int lda,
                              const double *B, int ldb, const double *beta, double *C, int ldc) {
    (void) h;
    if (ta != CUBLAS_OP_T || tb != CUBLAS_OP_N || lda < k || ldb < k || ldc < m)
        return CUBLAS_STATUS_NOT_SUPPORTED;
#if DP_HAVE_BLAS
    if (*beta == 0)
        for (int j = 0; j < n; j++)
            memset(C + (size_t) j * (size_t) ldc, 0, (size_t) m * sizeof(double));
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, m, n, k, *alpha, A, lda, B, ldb, *beta, C,
                ldc);
#else
    emu_tn(m, n, k, *alpha, A, lda, B, ldb, *beta, C, ldc, false);
#endif
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta,
                                         cublasOperation_t tb, int m, int n, int k,
                                         const double *alpha, const double *A, int lda,
                                         long long sa, const double *B, int ldb, long long sb,
                                         const double *beta, double *C, int ldc, long long sc,
                                         int batch) {
    for (int q = 0; q < batch; q++) {
        cublasStatus_t st = cublasDgemm_v2(h, ta, tb, m, n, k, alpha, A + q * sa, lda, B + q * sb,
                                           ldb, beta, C + q * sc, ldc);
        if (st != CUBLAS_STATUS_SUCCESS)
            return st;
    }
    return CUBLAS_STATUS_SUCCESS;
}

/* TF32: round to nearest (ties away) to 10 explicit mantissa bits. */
static float emu_tf32(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7f800000u) != 0x7f800000u)
        u = (u + 0x1000u) & 0xffffe000u;
    memcpy(&x, &u, 4);
    return x;
}

cublasStatus_t cublasGemmEx(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,
                            int n, int k, const void *alpha, const void *A, cudaDataType at,
                            int lda, const void *B, cudaDataType bt, int ldb, const void *beta,
                            void *C, cudaDataType ct, int ldc, cublasComputeType_t comp,
                            cublasGemmAlgo_t algo) {
    (void) h, (void) algo;
    if (ta != CUBLAS_OP_T || tb != CUBLAS_OP_N || at != CUDA_R_32F || bt != CUDA_R_32F ||
        ct != CUDA_R_32F || (comp != CUBLAS_COMPUTE_32F && comp != CUBLAS_COMPUTE_32F_FAST_TF32))
        return CUBLAS_STATUS_NOT_SUPPORTED;
    const bool tf = comp == CUBLAS_COMPUTE_32F_FAST_TF32;
    float *a = malloc((size_t) lda * (size_t) m * sizeof(float));
    float *b = malloc((size_t) ldb * (size_t) n * sizeof(float));
    if (a == NULL || b == NULL) {
        free(a);
        free(b);
        return CUBLAS_STATUS_ALLOC_FAILED;
    }
    for (int64_t e = 0; e < (int64_t) lda * m; e++)
        a[e] = tf ? emu_tf32(((const float *) A)[e]) : ((const float *) A)[e];
    for (int64_t e = 0; e < (int64_t) ldb * n; e++)
        b[e] = tf ? emu_tf32(((const float *) B)[e]) : ((const float *) B)[e];
    emu_tn_f(m, n, k, *(const float *) alpha, a, lda, b, ldb, *(const float *) beta, C, ldc, false);
    free(a);
    free(b);
    return CUBLAS_STATUS_SUCCESS;
}

/* ---- kernels: each result element as dp_cuda_kernels.h states it ----------------------------- */

cudaError_t dp__k_gram_transform(cudaStream_t s, const double *x, int64_t ldx, int64_t rows,
                                 int64_t p, const dp_cm_col *cols, const double *values,
                                 const double *u0, const double *slope, const double *kv,
                                 const double *K, const double *mv, double *Z, int64_t ldz) {
    (void) s;
    for (int64_t j = 0; j < p; j++)
        for (int64_t t = 0; t < rows; t++) {
            const double v = dp_cm_transform(&cols[j], values, u0, slope, kv, x[j * ldx + t]);
            Z[j * ldz + t] = dp_cm_isfinite(v) ? v - K[j] : (mv != NULL ? mv[j] : NAN);
        }
    return cudaSuccess;
}

cudaError_t dp__k_gram_colprep(cudaStream_t s, double *Z, int64_t ldz, int64_t rows, int64_t p,
                               const int32_t *loc, double *W, int64_t ldw, double *Z2, double *zs,
                               double *zq) {
    (void) s;
    for (int64_t j = 0; j < p; j++) {
        const int32_t lj = loc != NULL ? loc[j] : -1;
        double sum = 0, sq = 0;
        for (int64_t t = 0; t < rows; t++) {
            double v = Z[t + j * ldz];
            const bool miss = v != v;
            if (lj >= 0)
                W[t + (int64_t) lj * ldw] = miss ? 1.0 : 0.0;
            if (miss) {
                v = 0.0;
                Z[t + j * ldz] = 0.0;
            }
            if (Z2 != NULL)
                Z2[t + j * ldz] = v * v;
            sum += v;
            sq += v * v;
        }
        zs[j] += sum;
        zq[j] += sq;
    }
    return cudaSuccess;
}

cudaError_t dp__k_scatter_cols(cudaStream_t s, const double *tmp, int64_t ldt, int64_t n, int64_t m,
                               const int32_t *cols, double *dst, int64_t ldd) {
    (void) s;
    for (int64_t c = 0; c < m; c++)
        for (int64_t i = 0; i < n; i++)
            dst[i + (int64_t) cols[c] * ldd] += tmp[i + c * ldt];
    return cudaSuccess;
}

cudaError_t dp__k_scatter_upper(cudaStream_t s, const double *tmp, int64_t ldt, int64_t m,
                                const int32_t *cols, double *dst, int64_t ldd) {
    (void) s;
    for (int64_t b = 0; b < m; b++)
        for (int64_t a = 0; a <= b; a++)
            dst[cols[a] + (int64_t) cols[b] * ldd] += tmp[a + b * ldt];
    return cudaSuccess;
}

cudaError_t dp__k_to_float(cudaStream_t s, const double *src, int64_t lds, int64_t rows,
                           int64_t cols, float *dst, int64_t ldd) {
    (void) s;
    for (int64_t j = 0; j < cols; j++)
        for (int64_t t = 0; t < rows; t++)
            dst[t + j * ldd] = (float) src[t + j * lds];
    return cudaSuccess;
}

cudaError_t dp__k_fold_upper(cudaStream_t s, const float *acc32, int64_t ld32, int64_t n,
                             double *acc64, int64_t ld64) {
    (void) s;
    for (int64_t j = 0; j < n; j++)
        for (int64_t i = 0; i <= j; i++)
            acc64[i + j * ld64] += (double) acc32[i + j * ld32];
    return cudaSuccess;
}

cudaError_t dp__k_fg_features(cudaStream_t s, const double *x, int64_t ldx, int64_t rows, int64_t p,
                              const dp_cm_col *cz, const dp_cm_col *cu, const double *values,
                              const double *u0, const double *slope, const double *kvz,
                              const double *kvu, dp_cm_mercer mf, const double *rw,
                              const double *rb, const double *rpilot, int32_t k, double *Gh,
                              double *Gr, int64_t ldg, uint8_t *mh, uint8_t *mr) {
    (void) s;
    for (int64_t j = 0; j < p; j++)
        for (int64_t t = 0; t < rows; t++) {
            const double xv = x[j * ldx + t];
            if (mf.m > 0) {
                const double z = dp_cm_transform(&cz[j], values, u0, slope, kvz, xv);
                mh[t + j * ldg] = dp_cm_isnan(z) ? 1 : 0;
                dp_cm_mercer_row(&mf, z, mf.pilot, Gh + t + j * (int64_t) mf.m * ldg, ldg);
            }
            if (k > 0) {
                const double u = dp_cm_transform(&cu[j], values, u0, slope, kvu, xv);
                mr[t + j * ldg] = dp_cm_isnan(u) ? 1 : 0;
                const int64_t base = j * (int64_t) k;
                for (int32_t a = 0; a < k; a++)
                    Gr[t + (base + a) * ldg] = dp_cm_rdc_value(
                        rw[base + a], rb[base + a], rpilot[base + a], rpilot[base + a], u);
            }
        }
    return cudaSuccess;
}

cudaError_t dp__k_diag_blocks(cudaStream_t s, double *S, int64_t N, int32_t f, int64_t p,
                              double *Sd, int to_S) {
    (void) s;
    for (int64_t i = 0; i < p; i++)
        for (int64_t b = 0; b < f; b++)
            for (int64_t a = 0; a <= b; a++) {
                double *x = S + (i * f + a) + (i * f + b) * N, *d = Sd + i * f * f;
                if (to_S) {
                    *x = d[a + b * f];
                } else {
                    d[a + b * f] = *x;
                    d[b + a * f] = *x;
                }
            }
    return cudaSuccess;
}

cudaError_t dp__k_colsum(cudaStream_t s, const double *G, int64_t ldg, int64_t rows, int64_t n,
                         double *sums) {
    (void) s;
    for (int64_t a = 0; a < n; a++) {
        double acc = 0;
        for (int64_t t = 0; t < rows; t++)
            acc += G[t + a * ldg];
        sums[a] += acc;
    }
    return cudaSuccess;
}

cudaError_t dp__k_fg_mask(cudaStream_t s, const uint8_t *mis, int64_t ldm, int64_t rows,
                          const int32_t *J, int64_t nJ, double *Mi, int64_t ldmi) {
    (void) s;
    for (int64_t c = 0; c < nJ; c++)
        for (int64_t t = 0; t < rows; t++)
            Mi[t + c * ldmi] = mis[t + (int64_t) J[c] * ldm] ? 1.0 : 0.0;
    return cudaSuccess;
}

cudaError_t dp__k_shadow(cudaStream_t s, const double *G, int64_t ldg, int64_t r, int32_t f,
                         int64_t nq, const int32_t *col, const int32_t *partner, int64_t n_sh,
                         const uint8_t *mis, int64_t ldm, double *shS, int64_t *obs) {
    (void) s;
    if (nq <= 0 || r < 3 || f <= 0)
        return cudaSuccess;
    if (n_sh <= 0)
        return cudaErrorInvalidConfiguration;
    const int64_t L = r / 3;
    for (int64_t q = 0; q < nq; q++) {
        const int64_t i = col[q % n_sh], j = partner[q];
        const double *Gi = G + i * f * ldg, *Gj = G + j * f * ldg;
        double *X = shS + q * (int64_t) f * f;
        for (int64_t b = 0; b < f; b++)
            for (int64_t a = 0; a < f; a++) {
                double v = X[a + b * f];
                for (int64_t t = 0; t < r; t++) {
                    int64_t tj = t + L < r ? t + L : t + L - r;
                    v += Gi[t + a * ldg] * Gj[tj + b * ldg];
                }
                X[a + b * f] = v;
            }
        int64_t cnt = 0;
        for (int64_t t = 0; t < r; t++) {
            int64_t tj = t + L < r ? t + L : t + L - r;
            cnt += (!mis[t + i * ldm] && !mis[tj + j * ldm]) ? 1 : 0;
        }
        obs[q] += cnt;
    }
    return cudaSuccess;
}

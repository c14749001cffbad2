/* CPU backend: CBLAS (OpenBLAS) when available, else blocked C loops. The built-in kernels exist
 * so that a build without any optional dependency still computes every matrix (slowly).
 *
 * Determinism across thread counts. Every call is cut into tasks by a rule that depends only on
 * the matrix shapes, never on the number of threads; each task is one single-threaded BLAS call
 * (or one built-in kernel call), and our own threads only decide which thread runs which task.
 * The bits of an output element are therefore a function of the shapes and the data alone.
 * Two decompositions:
 * - large outputs (both sides > DP_CPU_KSPLIT_MAX_N): output tiles of <= 256 columns/rows
 *   (dp__tile_width); syrk runs on the upper-triangular tile pairs;
 * - small outputs with a long k (p ~ 200 Gram blocks): k is cut into up to DP_CPU_KSPLIT_MAX
 *   chunks of >= DP_CPU_KSPLIT_MIN_K rows, each chunk's product goes to its own buffer, and the
 *   buffers are added in chunk order (tiling a 200 x 200 output would give tiles too small for
 *   an efficient kernel). OpenBLAS is set to one thread for this reason (its own threading splits
 * work by thread count, and its edge kernels could then differ per element). The setting is
 * process-wide: other OpenBLAS/LAPACK calls in the process also run single-threaded.
 */
#include "backend/dp_backend.h"
#include "dpipe/dp_features.h"
#include "util/dp_alloc.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#if DP_HAVE_BLAS
#include <cblas.h>
/* OpenBLAS extensions (declared in its cblas.h on Debian, repeated here for other layouts). */
void openblas_set_num_threads(int num_threads);
char *openblas_get_config(void);
char *openblas_get_corename(void);
#endif

/* Upper bound on our worker threads (a sanity cap on the option, not a tuning knob). */
#define DP_CPU_MAX_THREADS 256
/* Widest output tile: 256 columns keep a tile's packed panels in L2 and give enough tiles to
 * balance p >= 1000 over 16 cores. */
#define DP_CPU_TILE_MAX 256
/* Small dimensions are still cut into up to 4 tiles (of >= 32) so that p ~ 200 uses 2-4 cores. */
#define DP_CPU_TILE_SPLIT 4
#define DP_CPU_TILE_MIN   32

/* k-split regime: outputs up to this size per side ... */
#define DP_CPU_KSPLIT_MAX_N 512
/* ... cut k into at most this many chunks of at least this many rows. */
#define DP_CPU_KSPLIT_MAX   16
#define DP_CPU_KSPLIT_MIN_K 256

typedef struct dp_cpu_priv {
    int threads;
    double *scratch; /* k-split partial products, grown on demand */
    size_t scratch_len;
} dp_cpu_priv;

static bool dp__fits_int(int64_t v) {
    return v >= 0 && v <= INT_MAX;
}

/* Tile width for a dimension of size n: a function of n only (see the file comment). */
static int64_t dp__tile_width(int64_t n) {
    int64_t nt = (n + DP_CPU_TILE_MAX - 1) / DP_CPU_TILE_MAX;
    int64_t nsplit = (n + DP_CPU_TILE_MIN - 1) / DP_CPU_TILE_MIN;
    if (nsplit > DP_CPU_TILE_SPLIT)
        nsplit = DP_CPU_TILE_SPLIT;
    if (nt < nsplit)
        nt = nsplit;
    if (nt < 1)
        nt = 1;
    int64_t w = (n + nt - 1) / nt;
    w = (w + 7) / 8 * 8; /* multiples of 8 keep tiles aligned to the kernels' unrolling */
    return w < 1 ? 1 : w;
}

/* ---- kernels on one tile ---------------------------------------------------------------- */

#if DP_HAVE_BLAS
static void dp__tile_syrk(int64_t n, int64_t k, double alpha, const double *A, int64_t lda,
                          double beta, double *C, int64_t ldc) {
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, (int) n, (int) k, alpha, A,
                (int) (lda > 0 ? lda : 1), beta, C, (int) ldc);
}

static void dp__tile_gemm(int64_t m, int64_t n, int64_t k, double alpha, const double *A,
                          int64_t lda, const double *B, int64_t ldb, double beta, double *C,
                          int64_t ldc) {
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int) m, (int) n, (int) k, alpha, A,
                (int) (lda > 0 ? lda : 1), B, (int) (ldb > 0 ? ldb : 1), beta, C, (int) ldc);
}
#else
/* Built-in kernel: C[i,j] = alpha * dot(A[:,i], B[:,j]) + beta * C[i,j] for i in [0,m), j in
 * [0,n), restricted to i <= j + diag_off when upper_only (syrk on a diagonal tile). Each dot
 * product is a plain sequential sum over t, whether the element falls in a 4x4 register block
 * or on an edge, so the result of an element never depends on the tiling. */
static void dp__dot_store(double s, double alpha, double beta, double *c) {
    *c = alpha * s + (beta == 0 ? 0 : beta * *c);
}

static void dp__builtin_tn(int64_t m, int64_t n, int64_t k, double alpha, const double *A,
                           int64_t lda, const double *B, int64_t ldb, double beta, double *C,
                           int64_t ldc, bool upper_only) {
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
        const double *b0 = B + j * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
        int64_t ilim = upper_only ? j + 4 : m;
        int64_t i = 0;
        for (; i + 4 <= ilim; i += 4) {
            const double *a0 = A + i * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
            double s[4][4] = {{0}};
            for (int64_t t = 0; t < k; t++) {
                double x0 = a0[t], x1 = a1[t], x2 = a2[t], x3 = a3[t];
                double y0 = b0[t], y1 = b1[t], y2 = b2[t], y3 = b3[t];
                s[0][0] += x0 * y0, s[0][1] += x0 * y1, s[0][2] += x0 * y2, s[0][3] += x0 * y3;
                s[1][0] += x1 * y0, s[1][1] += x1 * y1, s[1][2] += x1 * y2, s[1][3] += x1 * y3;
                s[2][0] += x2 * y0, s[2][1] += x2 * y1, s[2][2] += x2 * y2, s[2][3] += x2 * y3;
                s[3][0] += x3 * y0, s[3][1] += x3 * y1, s[3][2] += x3 * y2, s[3][3] += x3 * y3;
            }
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < 4; c++)
                    if (!upper_only || i + r <= j + c)
                        dp__dot_store(s[r][c], alpha, beta, &C[(j + c) * ldc + i + r]);
        }
        for (; i < ilim; i++)
            for (int c = 0; c < 4; c++) {
                if (upper_only && i > j + c)
                    continue;
                const double *a = A + i * lda, *bb = B + (j + c) * ldb;
                double s = 0;
                for (int64_t t = 0; t < k; t++)
                    s += a[t] * bb[t];
                dp__dot_store(s, alpha, beta, &C[(j + c) * ldc + i]);
            }
    }
    for (; j < n; j++) {
        int64_t ilim = upper_only ? j + 1 : m;
        for (int64_t i = 0; i < ilim; i++) {
            const double *a = A + i * lda, *bb = B + j * ldb;
            double s = 0;
            for (int64_t t = 0; t < k; t++)
                s += a[t] * bb[t];
            dp__dot_store(s, alpha, beta, &C[j * ldc + i]);
        }
    }
}

static void dp__tile_syrk(int64_t n, int64_t k, double alpha, const double *A, int64_t lda,
                          double beta, double *C, int64_t ldc) {
    dp__builtin_tn(n, n, k, alpha, A, lda, A, lda, beta, C, ldc, true);
}

static void dp__tile_gemm(int64_t m, int64_t n, int64_t k, double alpha, const double *A,
                          int64_t lda, const double *B, int64_t ldb, double beta, double *C,
                          int64_t ldc) {
    dp__builtin_tn(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, false);
}
#endif

/* ---- tiled, threaded driver ----------------------------------------------------------- */

typedef struct dp_tile_job {
    bool syrk;
    int64_t m, n, k; /* output m x n (syrk: n x n) */
    int64_t tm, tn;  /* tile widths along m and n */
    int64_t ntm, ntn;
    int64_t ntasks;
    int64_t kchunk;  /* k-split: rows per chunk (0 = tiled job) */
    double *partial; /* k-split: ntasks buffers of m x n (ld m) */
    double alpha, beta;
    const double *A, *B;
    int64_t lda, ldb;
    double *C;
    int64_t ldc;
    atomic_llong next;
} dp_tile_job;

/* Task index -> tile (I, J). syrk: the upper-triangular tile pairs I <= J in column order.
 * k-split jobs: task = chunk of k, product into its own partial buffer. */
static void dp__run_task(dp_tile_job *job, int64_t task) {
    if (job->kchunk > 0) {
        int64_t k0 = task * job->kchunk;
        int64_t kk = DP_MIN(job->kchunk, job->k - k0);
        double *P = job->partial + (size_t) task * (size_t) job->m * (size_t) job->n;
        if (job->syrk)
            dp__tile_syrk(job->n, kk, 1.0, job->A + k0, job->lda, 0.0, P, job->m);
        else
            dp__tile_gemm(job->m, job->n, kk, 1.0, job->A + k0, job->lda, job->B + k0, job->ldb,
                          0.0, P, job->m);
        return;
    }
    int64_t ti, tj;
    if (job->syrk) {
        tj = 0;
        while (task > tj) {
            task -= tj + 1;
            tj++;
        }
        ti = task;
    } else {
        ti = task % job->ntm;
        tj = task / job->ntm;
    }
    int64_t i0 = ti * job->tm, j0 = tj * job->tn;
    int64_t mi = DP_MIN(job->tm, job->m - i0), nj = DP_MIN(job->tn, job->n - j0);
    double *c = job->C + j0 * job->ldc + i0;
    if (job->syrk && ti == tj)
        dp__tile_syrk(nj, job->k, job->alpha, job->A + j0 * job->lda, job->lda, job->beta, c,
                      job->ldc);
    else
        dp__tile_gemm(mi, nj, job->k, job->alpha, job->A + i0 * job->lda, job->lda,
                      job->B + j0 * job->ldb, job->ldb, job->beta, c, job->ldc);
}

static void *dp__worker(void *arg) {
    dp_tile_job *job = arg;
    for (;;) {
        int64_t t = (int64_t) atomic_fetch_add(&job->next, 1);
        if (t >= job->ntasks)
            break;
        dp__run_task(job, t);
    }
    return NULL;
}

/* Decide the k-split for an m x n output (see the file comment); sets kchunk and ntasks. */
static void dp__plan_ksplit(dp_tile_job *job) {
    job->kchunk = 0;
    if (job->m > DP_CPU_KSPLIT_MAX_N || job->n > DP_CPU_KSPLIT_MAX_N)
        return;
    int64_t nch = job->k / DP_CPU_KSPLIT_MIN_K;
    if (nch > DP_CPU_KSPLIT_MAX)
        nch = DP_CPU_KSPLIT_MAX;
    if (nch < 2)
        return;
    job->kchunk = (job->k + nch - 1) / nch;
    job->ntasks = (job->k + job->kchunk - 1) / job->kchunk;
}

static dp_status dp__run_job(dp_cpu_priv *priv, dp_tile_job *job, dp_error *err) {
    if (job->kchunk > 0) {
        size_t need = (size_t) job->ntasks * (size_t) job->m * (size_t) job->n;
        if (need > priv->scratch_len) {
            double *s = dp_reallocarray(priv->scratch, need, sizeof(double));
            if (s == NULL)
                return dp_error_set(err, DP_NOMEM,
                                    "CPU backend: out of memory for %zu partial products", need);
            priv->scratch = s;
            priv->scratch_len = need;
        }
        job->partial = priv->scratch;
    }
    atomic_init(&job->next, 0);
    int64_t nthreads = DP_MIN((int64_t) priv->threads, job->ntasks);
    pthread_t tids[DP_CPU_MAX_THREADS];
    int64_t started = 0;
    for (int64_t t = 1; t < nthreads; t++) {
        if (pthread_create(&tids[started], NULL, dp__worker, job) != 0)
            break; /* fewer threads only changes who runs a task, never its result */
        started++;
    }
    dp__worker(job);
    for (int64_t t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    if (job->kchunk > 0) { /* C = alpha * (P_0 + P_1 + ...) + beta * C, chunks in order */
        size_t mn = (size_t) job->m * (size_t) job->n;
        for (int64_t j = 0; j < job->n; j++) {
            int64_t ilim = job->syrk ? j + 1 : job->m;
            double *c = job->C + j * job->ldc;
            for (int64_t i = 0; i < ilim; i++) {
                const double *q = job->partial + j * job->m + i;
                double s = q[0];
                for (int64_t t = 1; t < job->ntasks; t++)
                    s += q[(size_t) t * mn];
                c[i] = job->alpha * s + (job->beta == 0 ? 0 : job->beta * c[i]);
            }
        }
    }
    return DP_OK;
}

static dp_status dp__syrk(dp_backend *b, int64_t n, int64_t k, double alpha, const double *A,
                          int64_t lda, double beta, double *C, int64_t ldc, dp_error *err) {
    if (!dp__fits_int(n) || !dp__fits_int(k) || !dp__fits_int(lda) || !dp__fits_int(ldc))
        return dp_error_set(err, DP_LIMIT, "syrk dimensions n=%lld k=%lld exceed BLAS int range",
                            (long long) n, (long long) k);
    if (n == 0)
        return DP_OK;
    if (ldc < n || (k > 0 && lda < k))
        return dp_error_set(err, DP_INVALID_ARG, "syrk: ldc=%lld < n=%lld or lda=%lld < k=%lld",
                            (long long) ldc, (long long) n, (long long) lda, (long long) k);
    dp_tile_job job = {.syrk = true,
                       .m = n,
                       .n = n,
                       .k = k,
                       .alpha = alpha,
                       .beta = beta,
                       .A = A,
                       .B = A,
                       .lda = lda,
                       .ldb = lda,
                       .C = C,
                       .ldc = ldc};
    job.tm = job.tn = dp__tile_width(n);
    job.ntm = job.ntn = (n + job.tn - 1) / job.tn;
    job.ntasks = job.ntn * (job.ntn + 1) / 2;
    dp__plan_ksplit(&job);
    return dp__run_job(b->private_data, &job, err);
}

static dp_status dp__gemm(dp_backend *b, int64_t m, int64_t n, int64_t k, double alpha,
                          const double *A, int64_t lda, const double *B, int64_t ldb, double beta,
                          double *C, int64_t ldc, dp_error *err) {
    if (!dp__fits_int(m) || !dp__fits_int(n) || !dp__fits_int(k) || !dp__fits_int(lda) ||
        !dp__fits_int(ldb) || !dp__fits_int(ldc))
        return dp_error_set(err, DP_LIMIT, "gemm dimensions m=%lld n=%lld k=%lld exceed BLAS int",
                            (long long) m, (long long) n, (long long) k);
    if (m == 0 || n == 0)
        return DP_OK;
    if (ldc < m || (k > 0 && (lda < k || ldb < k)))
        return dp_error_set(
            err, DP_INVALID_ARG, "gemm: ldc=%lld < m=%lld or lda=%lld/ldb=%lld < k=%lld",
            (long long) ldc, (long long) m, (long long) lda, (long long) ldb, (long long) k);
    dp_tile_job job = {.syrk = false,
                       .m = m,
                       .n = n,
                       .k = k,
                       .alpha = alpha,
                       .beta = beta,
                       .A = A,
                       .B = B,
                       .lda = lda,
                       .ldb = ldb,
                       .C = C,
                       .ldc = ldc};
    job.tm = dp__tile_width(m);
    job.tn = dp__tile_width(n);
    job.ntm = (m + job.tm - 1) / job.tm;
    job.ntn = (n + job.tn - 1) / job.tn;
    job.ntasks = job.ntm * job.ntn;
    dp__plan_ksplit(&job);
    return dp__run_job(b->private_data, &job, err);
}

static void dp__release(dp_backend *b) {
    if (b == NULL)
        return;
    dp_cpu_priv *priv = b->private_data;
    if (priv != NULL)
        dp_free(priv->scratch);
    dp_free(b->private_data);
    dp_free(b);
}

dp_status dp_backend_cpu_create(const dp_backend_cpu_options *opts, dp_backend **out,
                                dp_error *err) {
    *out = NULL;
    int threads = opts != NULL ? opts->threads : 0;
    if (threads < 0 || threads > DP_CPU_MAX_THREADS)
        return dp_error_set(err, DP_INVALID_ARG, "CPU backend: threads=%d outside [0, %d]", threads,
                            DP_CPU_MAX_THREADS);
    if (threads == 0) {
        long nc = sysconf(_SC_NPROCESSORS_ONLN);
        threads = nc < 1 ? 1 : (nc > DP_CPU_MAX_THREADS ? DP_CPU_MAX_THREADS : (int) nc);
    }
    dp_backend *b = dp_calloc(1, sizeof *b);
    dp_cpu_priv *priv = dp_calloc(1, sizeof *priv);
    if (b == NULL || priv == NULL) {
        dp_free(b);
        dp_free(priv);
        return dp_error_set(err, DP_NOMEM, "out of memory creating the CPU backend");
    }
    priv->threads = threads;
    b->name = "cpu";
    b->private_data = priv;
    b->syrk_tn = dp__syrk;
    b->gemm_tn = dp__gemm;
    b->release = dp__release;
#if DP_HAVE_BLAS
    openblas_set_num_threads(1);
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

/* CUDA backend on a GPU: the device accumulators against the CPU ones on the same data.
 * Built only with CUDA (tests/CMakeLists.txt); every test skips (exit 77) with the reason when
 * cudaGetDeviceCount reports no device. GPU id: $DP_TEST_GPU_ID (default 0).
 *
 * Tolerances. float64: |r_gpu - r_cpu| <= 1e-12 on every correlation (|r| <= 1, so this is
 * relative to the matrix's scale): both sum the same products per block, in different orders
 * inside BLAS and the block reductions (~30 products of rounding 1.1e-16 each per entry, ~1e-15).
 * Feature co-moments: 1e-12 of the largest entry. RDC goes through (C_ii + lambda I)^(-1/2) with
 * lambda = 1e-6 tr/k (condition up to ~1e6), so 1e-15 in C can become ~1e-10 in RDC: 1e-9. The
 * precision options are held to dp_cuda_precision_abs_bound (docs/gpu.md), and every test prints
 * the largest difference it saw ("measured ..."), which bench/gpu_check.sh collects.
 */
#include "accum/dp_featgram.h"
#include "accum/dp_gram.h"
#include "backend/cuda/dp_cuda.h"
#include "dp_test.h"
#include "dpipe/dp_commands.h"
#include "dpipe/dp_config.h"
#include "passes/dp_cluster.h"
#include "passes/dp_nonlinear.h"
#include "pipeline/dp_outputs.h"
#include "transform/dp_copula.h"
#include "util/dp_alloc.h"
#include "util/dp_buf.h"
#include "util/dp_rng.h"

#include <cuda_runtime_api.h>

static int gpu_id(void) {
    const char *s = getenv("DP_TEST_GPU_ID");
    return s != NULL ? atoi(s) : 0;
}

static void gpu_require(void) {
    int n = 0;
    char why[256] = "";
    dp_error err;
    if (!dp_cuda_built())
        DP_SKIP("this build has no CUDA backend");
    if (dp_cuda_device_count(&n, why, sizeof why, &err) != DP_OK || n == 0)
        DP_SKIP("no CUDA device: %s", why);
    if (gpu_id() >= n)
        DP_SKIP("DP_TEST_GPU_ID=%d but %d devices", gpu_id(), n);
}

static dp_cuda_ctx *gpu_open(dp_cuda_precision prec, double max_gb) {
    dp_cuda_options o = {gpu_id(), max_gb, prec};
    dp_cuda_ctx *ctx = NULL;
    dp_error err;
    DP_ASSERT_OK(dp_cuda_open(&o, &ctx, &err), &err);
    return ctx;
}

/* ---- data --------------------------------------------------------------------------------- */

typedef struct gdata {
    int64_t n, p;
    double *x;            /* n x p column-major (ld n), NaN = missing (as scans deliver) */
    dp_marginal_fit *fit; /* p */
    char **names;
} gdata;

/* Columns: integer codes with ties (tables), correlated continuous columns (sketches), a heavy
 * tail, scattered / clustered / whole-row missing values, an all-missing column and a constant. */
static void gdata_make(gdata *d, int64_t n, int64_t p, uint64_t seed) {
    d->n = n;
    d->p = p;
    d->x = dp_mallocarray((size_t) (n * p), sizeof(double));
    d->fit = dp_calloc((size_t) p, sizeof(dp_marginal_fit));
    d->names = dp_calloc((size_t) p, sizeof(char *));
    DP_ASSERT_TRUE(d->x != NULL && d->fit != NULL && d->names != NULL);
    dp_rng r;
    dp_rng_seed(&r, seed);
    for (int64_t t = 0; t < n; t++) {
        double lat = dp_rng_normal(&r), lat2 = dp_rng_normal(&r);
        for (int64_t j = 0; j < p; j++) {
            double v;
            int64_t kind = j % 8;
            if (kind == 0)
                v = floor(lat * 3 + dp_rng_normal(&r));
            else if (kind == 1)
                v = lat + 0.5 * dp_rng_normal(&r);
            else if (kind == 2)
                v = exp(lat2 + 0.3 * dp_rng_normal(&r));
            else if (kind == 3)
                v = sin(3 * lat) + 0.2 * dp_rng_normal(&r);
            else if (kind == 4)
                v = dp_rng_normal(&r) / (fabs(dp_rng_normal(&r)) + 1e-3); /* heavy tail */
            else if (kind == 5)
                v = (double) dp_rng_below(&r, 5);
            else if (kind == 6)
                v = lat2 * lat2 + dp_rng_normal(&r);
            else
                v = lat * 100 + 1e4 + dp_rng_normal(&r);
            if (j == p - 2)
                v = 7.0; /* constant */
            if ((j == 3 && dp_rng_below(&r, 3) == 0) || (j == 6 && t >= n / 3 && t < n / 2) ||
                (j % 5 == 2 && dp_rng_below(&r, 50) == 0) || t % 211 == 0 || j == p - 1)
                v = NAN; /* scattered, a long run, whole rows, a column with no value */
            d->x[j * n + t] = v;
        }
    }
    dp_error err;
    for (int64_t j = 0; j < p; j++) {
        dp_marginal m;
        DP_ASSERT_OK(dp_marginal_init(&m, 4096, DP_KLL_K_DEFAULT, (uint64_t) j, &err), &err);
        DP_ASSERT_OK(dp_marginal_update(&m, d->x + j * n, (size_t) n, &err), &err);
        dp_marginal_fit_init(&d->fit[j]);
        DP_ASSERT_OK(dp_marginal_fit_build(&m, &d->fit[j], &err), &err);
        dp_marginal_reset(&m);
        char name[32];
        snprintf(name, sizeof name, "col_%03lld", (long long) j);
        d->names[j] = dp_strdup(name);
    }
}

static void gdata_free(gdata *d) {
    for (int64_t j = 0; j < d->p; j++) {
        dp_marginal_fit_reset(&d->fit[j]);
        dp_free(d->names[j]);
    }
    dp_free(d->fit);
    dp_free(d->names);
    dp_free(d->x);
}

/* A batch view of rows [r0, r0 + rows) of x (ld = n). */
static dp_batch gbatch(const double *x, int64_t n, int64_t p, int64_t r0, int64_t rows,
                       dp_batch_counts *counts) {
    dp_batch b;
    memset(&b, 0, sizeof b);
    b.n_rows = rows;
    b.n_cols = p;
    b.ld = n;
    b.cap_rows = n;
    b.values = (double *) x + r0;
    b.counts = counts;
    b.row_offset = r0;
    return b;
}

/* Irregular batch sizes (the scan cuts at row groups): k-th batch size. */
static int64_t gcut(int64_t k, int64_t step) {
    static const int64_t mult[] = {7, 1, 13, 3, 29, 2, 11};
    return step * mult[k % 7] / 5 + 1;
}

/* ---- pass 2 --------------------------------------------------------------------------------- */

typedef struct p2run {
    dp_copula_col *tr;
    double *centre, *impute;
    dp_gram_options go;
} p2run;

static void p2_prepare(const gdata *d, dp_copula_method m, bool impute, p2run *pr) {
    dp_error err;
    pr->tr = dp_calloc((size_t) d->p, sizeof(dp_copula_col));
    pr->centre = dp_calloc((size_t) d->p, sizeof(double));
    pr->impute = dp_calloc((size_t) d->p, sizeof(double));
    for (int64_t j = 0; j < d->p; j++) {
        dp_copula_col_init(&pr->tr[j]);
        DP_ASSERT_OK(dp_copula_col_prepare(&pr->tr[j], m, &d->fit[j], m == DP_COPULA_PEARSON,
                                           d->fit[j].min, d->fit[j].max * 0.5, &err),
                     &err);
        double mean = 0, cnt = 0; /* the pipeline's pilot centres: 1/2, 0, the pass-1 mean */
        for (int64_t t = 0; t < d->n; t++)
            if (!isnan(d->x[j * d->n + t])) {
                mean += d->x[j * d->n + t];
                cnt++;
            }
        mean = cnt > 0 ? mean / cnt : 0;
        pr->centre[j] = m == DP_COPULA_SPEARMAN ? 0.5 : m == DP_COPULA_GAUSSIAN ? 0.0 : mean;
        if (!isfinite(pr->centre[j]))
            pr->centre[j] = 0;
        pr->impute[j] = pr->centre[j];
    }
    pr->go = (dp_gram_options){impute ? DP_GRAM_IMPUTE : DP_GRAM_PAIRWISE, 1000, pr->impute};
}

static void p2_release(const gdata *d, p2run *pr) {
    for (int64_t j = 0; j < d->p; j++)
        dp_copula_col_reset(&pr->tr[j]);
    dp_free(pr->tr);
    dp_free(pr->centre);
    dp_free(pr->impute);
}

/* The CPU reference: transform, then dp_gram in batches. */
static void p2_cpu(const gdata *d, const p2run *pr, double *R) {
    dp_error err;
    dp_backend *be = NULL;
    DP_ASSERT_OK(dp_backend_cpu_create(NULL, &be, &err), &err);
    dp_gram *g = NULL;
    DP_ASSERT_OK(dp_gram_create(d->p, pr->centre, &pr->go, be, &g, &err), &err);
    double *tx = dp_mallocarray((size_t) (d->n * d->p), sizeof(double));
    for (int64_t j = 0; j < d->p; j++)
        dp_copula_apply(&pr->tr[j], d->x + j * d->n, d->n, tx + j * d->n);
    for (int64_t r0 = 0, k = 0; r0 < d->n; k++) {
        int64_t rows = DP_MIN(gcut(k, 3000), d->n - r0);
        DP_ASSERT_OK(dp_gram_update_rows(g, tx + r0, d->n, rows, r0, &err), &err);
        r0 += rows;
    }
    DP_ASSERT_OK(dp_gram_finalize(g, R, &err), &err);
    dp_free(tx);
    dp_gram_free(g);
    dp_backend_free(be);
}

/* The device: raw batches of `step`-ish rows; optionally a checkpoint (store, serialise,
 * deserialise, load into a fresh device accumulator) after row `ckpt_row`. */
static void p2_gpu(dp_cuda_ctx *ctx, const gdata *d, const p2run *pr, int64_t step,
                   int64_t ckpt_row, double *R) {
    dp_error err;
    dp_backend *be = NULL;
    DP_ASSERT_OK(dp_backend_cpu_create(NULL, &be, &err), &err);
    dp_gram *host = NULL;
    dp_cuda_gram *g = NULL;
    DP_ASSERT_OK(dp_gram_create(d->p, pr->centre, &pr->go, be, &host, &err), &err);
    DP_ASSERT_OK(dp_cuda_gram_create(ctx, host, pr->tr, 2048, NULL, &g, &err), &err);
    dp_batch_counts *counts = dp_calloc((size_t) d->p, sizeof *counts);
    bool ckpt_done = false;
    for (int64_t r0 = 0, k = 0; r0 < d->n; k++) {
        int64_t rows = DP_MIN(gcut(k, step), d->n - r0);
        dp_batch b = gbatch(d->x, d->n, d->p, r0, rows, counts);
        DP_ASSERT_OK(dp_cuda_gram_update(g, &b, &err), &err);
        r0 += rows;
        if (!ckpt_done && ckpt_row > 0 && r0 >= ckpt_row) {
            dp_buf buf;
            dp_buf_init(&buf);
            DP_ASSERT_OK(dp_cuda_gram_store(g, host, &err), &err);
            DP_ASSERT_OK(dp_gram_serialize(host, &buf, &err), &err);
            dp_cuda_gram_free(g);
            dp_gram_free(host);
            g = NULL;
            host = NULL;
            DP_ASSERT_OK(dp_gram_deserialize(buf.data, buf.size, be, &host, NULL, &err), &err);
            DP_ASSERT_OK(dp_cuda_gram_create(ctx, host, pr->tr, 2048, NULL, &g, &err), &err);
            dp_buf_reset(&buf);
            ckpt_done = true;
        }
    }
    DP_ASSERT_OK(dp_cuda_gram_flush(g, &err), &err);
    DP_ASSERT_OK(dp_cuda_gram_store(g, host, &err), &err);
    DP_ASSERT_OK(dp_gram_finalize(host, R, &err), &err);
    dp_cuda_stats st;
    dp_cuda_gram_get_stats(g, &st);
    DP_ASSERT_EQ_INT(st.rows, d->n); /* a resumed accumulator counts the restored rows */
    dp_free(counts);
    dp_cuda_gram_free(g);
    dp_gram_free(host);
    dp_backend_free(be);
}

/* max |a - b| over the matrix; NaN must match NaN. */
static double max_diff(const double *a, const double *b, int64_t n) {
    double m = 0;
    for (int64_t e = 0; e < n; e++) {
        if (isnan(a[e]) || isnan(b[e])) {
            if (isnan(a[e]) != isnan(b[e]))
                DP_FAILF("entry %lld: %.17g vs %.17g (NaN pattern differs)", (long long) e, a[e],
                         b[e]);
            continue;
        }
        m = fmax(m, fabs(a[e] - b[e]));
    }
    return m;
}

static void same_clusters(const double *A, const double *B, int64_t p, double threshold) {
    dp_clusters ca, cb;
    dp_clusters_init(&ca);
    dp_clusters_init(&cb);
    dp_error err;
    DP_ASSERT_OK(dp_cluster_threshold(A, p, threshold, NULL, DP_CLUSTER_GREEDY, &ca, &err), &err);
    DP_ASSERT_OK(dp_cluster_threshold(B, p, threshold, NULL, DP_CLUSTER_GREEDY, &cb, &err), &err);
    DP_ASSERT_EQ_INT(ca.n_clusters, cb.n_clusters);
    DP_ASSERT_MEMEQ(ca.membership, cb.membership, (size_t) p * sizeof(int64_t));
    DP_ASSERT_MEMEQ(ca.rep, cb.rep, (size_t) ca.n_clusters * sizeof(int64_t));
    dp_clusters_reset(&ca);
    dp_clusters_reset(&cb);
}

static void p2_compare(dp_copula_method m, bool impute) {
    gpu_require();
    gdata d;
    gdata_make(&d, 30011, 37, 5);
    p2run pr;
    p2_prepare(&d, m, impute, &pr);
    dp_cuda_ctx *ctx = gpu_open(DP_CUDA_FP64, 0);
    const int64_t pp = d.p * d.p;
    double *Rc = dp_mallocarray((size_t) pp, sizeof(double));
    double *Rg = dp_mallocarray((size_t) pp, sizeof(double));
    p2_cpu(&d, &pr, Rc);
    p2_gpu(ctx, &d, &pr, 5000, 0, Rg);
    double diff = max_diff(Rg, Rc, pp);
    printf("measured pass2 %s %s fp64: max |r_gpu - r_cpu| = %.3g\n", dp_copula_method_name(m),
           impute ? "impute" : "pairwise", diff);
    DP_ASSERT_TRUE(diff <= 1e-12);
    same_clusters(Rg, Rc, d.p, 0.5);
    same_clusters(Rg, Rc, d.p, 0.9);
    dp_free(Rc);
    dp_free(Rg);
    dp_cuda_close(ctx);
    p2_release(&d, &pr);
    gdata_free(&d);
}

DP_TEST(gpu_pass2_spearman_fp64_matches_cpu) {
    p2_compare(DP_COPULA_SPEARMAN, false);
}
DP_TEST(gpu_pass2_gaussian_fp64_matches_cpu) {
    p2_compare(DP_COPULA_GAUSSIAN, false);
}
DP_TEST(gpu_pass2_pearson_fp64_matches_cpu) {
    p2_compare(DP_COPULA_PEARSON, false);
}
DP_TEST(gpu_pass2_spearman_impute_fp64_matches_cpu) {
    p2_compare(DP_COPULA_SPEARMAN, true);
}

DP_TEST(gpu_pass2_batch_size_and_checkpoint_invariant) {
    /* The device blocks rows by global index, so the bits do not depend on the batch cuts; a
     * checkpoint (store -> CPU record -> load) mid-block resumes to the same bits. */
    gpu_require();
    gdata d;
    gdata_make(&d, 20011, 29, 8);
    p2run pr;
    p2_prepare(&d, DP_COPULA_GAUSSIAN, false, &pr);
    dp_cuda_ctx *ctx = gpu_open(DP_CUDA_FP64, 0);
    const int64_t pp = d.p * d.p;
    double *A = dp_mallocarray((size_t) pp, sizeof(double));
    double *B = dp_mallocarray((size_t) pp, sizeof(double));
    double *C = dp_mallocarray((size_t) pp, sizeof(double));
    p2_gpu(ctx, &d, &pr, 20011 * 5, 0, A); /* one batch */
    p2_gpu(ctx, &d, &pr, 333, 0, B);       /* many small ones */
    p2_gpu(ctx, &d, &pr, 4000, 7777, C);   /* with a checkpoint in the middle of a block */
    DP_ASSERT_MEMEQ(A, B, (size_t) pp * sizeof(double));
    DP_ASSERT_MEMEQ(A, C, (size_t) pp * sizeof(double));
    dp_free(A);
    dp_free(B);
    dp_free(C);
    dp_cuda_close(ctx);
    p2_release(&d, &pr);
    gdata_free(&d);
}

static void p2_precision(dp_cuda_precision prec) {
    gpu_require();
    gdata d;
    gdata_make(&d, 40009, 33, 9);
    dp_cuda_ctx *ctx = gpu_open(prec, 0);
    const int64_t pp = d.p * d.p;
    double *Rc = dp_mallocarray((size_t) pp, sizeof(double));
    double *Rg = dp_mallocarray((size_t) pp, sizeof(double));
    const dp_copula_method ms[] = {DP_COPULA_SPEARMAN, DP_COPULA_GAUSSIAN};
    for (size_t i = 0; i < DP_ARRAY_LEN(ms); i++) {
        p2run pr;
        p2_prepare(&d, ms[i], false, &pr);
        p2_cpu(&d, &pr, Rc);
        p2_gpu(ctx, &d, &pr, 6000, 0, Rg);
        double diff = max_diff(Rg, Rc, pp);
        printf("measured pass2 %s %s: max |r_gpu - r_cpu| = %.3g (stated bound %.1g)\n",
               dp_copula_method_name(ms[i]), dp_cuda_precision_name(prec), diff,
               dp_cuda_precision_abs_bound(prec));
        DP_ASSERT_TRUE(diff <= dp_cuda_precision_abs_bound(prec));
        p2_release(&d, &pr);
    }
    dp_free(Rc);
    dp_free(Rg);
    dp_cuda_close(ctx);
    gdata_free(&d);
}

DP_TEST(gpu_pass2_fp32_within_bound) {
    p2_precision(DP_CUDA_FP32);
}
DP_TEST(gpu_pass2_tf32_within_bound) {
    p2_precision(DP_CUDA_TF32);
}

DP_TEST(gpu_plan_refused_and_memory_flat) {
    /* A plan over --max-gpu-memory-gb is refused before anything is allocated, with the option
     * named; within budget, device memory does not change across the batch loop. */
    gpu_require();
    gdata d;
    gdata_make(&d, 20000, 24, 3);
    p2run pr;
    p2_prepare(&d, DP_COPULA_SPEARMAN, false, &pr);
    dp_error err;
    dp_backend *be = NULL;
    DP_ASSERT_OK(dp_backend_cpu_create(NULL, &be, &err), &err);
    dp_cuda_ctx *small = gpu_open(DP_CUDA_FP64, 0.04); /* 41 MiB: the 32 MiB workspace + 9 */
    dp_gram *host = NULL;
    dp_cuda_gram *g = NULL;
    DP_ASSERT_OK(dp_gram_create(d.p, pr.centre, &pr.go, be, &host, &err), &err);
    int64_t held = dp_cuda_bytes_held(small);
    DP_ASSERT_STATUS(dp_cuda_gram_create(small, host, pr.tr, 1 << 20, NULL, &g, &err), DP_LIMIT);
    DP_ASSERT_CONTAINS(err.msg, "--max-gpu-memory-gb");
    DP_ASSERT_EQ_INT(dp_cuda_bytes_held(small), held);
    dp_cuda_close(small);
    dp_cuda_ctx *ctx = gpu_open(DP_CUDA_FP64, 0);
    DP_ASSERT_OK(dp_cuda_gram_create(ctx, host, pr.tr, 1000, NULL, &g, &err), &err);
    dp_batch_counts *counts = dp_calloc((size_t) d.p, sizeof *counts);
    size_t free0 = 0, free1 = 0, tot = 0;
    for (int64_t r0 = 0; r0 < d.n; r0 += 1000) {
        dp_batch b = gbatch(d.x, d.n, d.p, r0, DP_MIN(1000, d.n - r0), counts);
        DP_ASSERT_OK(dp_cuda_gram_update(g, &b, &err), &err);
        if (r0 == 2000)
            DP_ASSERT_TRUE(cudaMemGetInfo(&free0, &tot) == cudaSuccess);
    }
    DP_ASSERT_TRUE(cudaMemGetInfo(&free1, &tot) == cudaSuccess);
    DP_ASSERT_EQ_INT(free1, free0);
    dp_free(counts);
    dp_cuda_gram_free(g);
    dp_cuda_close(ctx);
    dp_gram_free(host);
    dp_backend_free(be);
    p2_release(&d, &pr);
    gdata_free(&d);
}

/* ---- pass 4 --------------------------------------------------------------------------------- */

typedef struct p4run {
    dp_copula_col *tz, *tu;
    dp_featgram_config fc;
} p4run;

static void p4_prepare(const gdata *d, p4run *pr) {
    dp_error err;
    pr->tz = dp_calloc((size_t) d->p, sizeof(dp_copula_col));
    pr->tu = dp_calloc((size_t) d->p, sizeof(dp_copula_col));
    for (int64_t j = 0; j < d->p; j++) {
        DP_ASSERT_OK(
            dp_copula_col_prepare(&pr->tz[j], DP_COPULA_GAUSSIAN, &d->fit[j], false, 0, 0, &err),
            &err);
        DP_ASSERT_OK(
            dp_copula_col_prepare(&pr->tu[j], DP_COPULA_UNIFORM_RDC, &d->fit[j], false, 0, 0, &err),
            &err);
    }
    dp_featgram_config_default(&pr->fc);
    pr->fc.seed = 1557;
}

static void p4_release(const gdata *d, p4run *pr) {
    for (int64_t j = 0; j < d->p; j++) {
        dp_copula_col_reset(&pr->tz[j]);
        dp_copula_col_reset(&pr->tu[j]);
    }
    dp_free(pr->tz);
    dp_free(pr->tu);
}

static dp_featgram *p4_cpu(const gdata *d, const p4run *pr, dp_backend *be) {
    dp_error err;
    dp_featgram *g = NULL;
    DP_ASSERT_OK(dp_featgram_create(&pr->fc, d->p, (const char *const *) d->names, be, &g, &err),
                 &err);
    double *z = dp_mallocarray((size_t) (d->n * d->p), sizeof(double));
    double *u = dp_mallocarray((size_t) (d->n * d->p), sizeof(double));
    for (int64_t j = 0; j < d->p; j++) {
        dp_copula_apply(&pr->tz[j], d->x + j * d->n, d->n, z + j * d->n);
        dp_copula_apply(&pr->tu[j], d->x + j * d->n, d->n, u + j * d->n);
    }
    for (int64_t r0 = 0, k = 0; r0 < d->n; k++) {
        int64_t rows = DP_MIN(gcut(k, 2500), d->n - r0);
        DP_ASSERT_OK(dp_featgram_update(g, rows, z + r0, d->n, u + r0, d->n, &err), &err);
        r0 += rows;
    }
    DP_ASSERT_OK(dp_featgram_flush(g, &err), &err);
    dp_free(z);
    dp_free(u);
    return g;
}

static dp_featgram *p4_gpu(dp_cuda_ctx *ctx, const gdata *d, const p4run *pr, dp_backend *be,
                           int64_t step, int64_t ckpt_row) {
    dp_error err;
    dp_featgram *host = NULL;
    dp_cuda_featgram *g = NULL;
    DP_ASSERT_OK(dp_featgram_create(&pr->fc, d->p, (const char *const *) d->names, be, &host, &err),
                 &err);
    DP_ASSERT_OK(dp_cuda_featgram_create(ctx, host, pr->tz, pr->tu, 3000, NULL, &g, &err), &err);
    dp_batch_counts *counts = dp_calloc((size_t) d->p, sizeof *counts);
    bool ckpt_done = false;
    for (int64_t r0 = 0, k = 0; r0 < d->n; k++) {
        int64_t rows = DP_MIN(gcut(k, step), d->n - r0);
        dp_batch b = gbatch(d->x, d->n, d->p, r0, rows, counts);
        DP_ASSERT_OK(dp_cuda_featgram_update(g, &b, &err), &err);
        r0 += rows;
        if (!ckpt_done && ckpt_row > 0 && r0 >= ckpt_row) {
            dp_buf buf;
            dp_buf_init(&buf);
            DP_ASSERT_OK(dp_cuda_featgram_store(g, host, &err), &err);
            DP_ASSERT_OK(dp_featgram_serialize(host, &buf, &err), &err);
            dp_cuda_featgram_free(g);
            dp_featgram_free(host);
            DP_ASSERT_OK(dp_featgram_deserialize(buf.data, buf.size, be, &host, NULL, &err), &err);
            DP_ASSERT_OK(dp_cuda_featgram_create(ctx, host, pr->tz, pr->tu, 3000, NULL, &g, &err),
                         &err);
            dp_buf_reset(&buf);
            ckpt_done = true;
        }
    }
    DP_ASSERT_OK(dp_cuda_featgram_flush(g, &err), &err);
    DP_ASSERT_OK(dp_cuda_featgram_store(g, host, &err), &err);
    DP_ASSERT_OK(dp_featgram_flush(host, &err), &err);
    dp_free(counts);
    dp_cuda_featgram_free(g);
    return host;
}

/* max |a - b| / max |b| over n entries (0 when b is all 0). */
static double rel_diff(const double *a, const double *b, int64_t n) {
    double m = 0, s = 0;
    for (int64_t e = 0; e < n; e++) {
        m = fmax(m, fabs(a[e] - b[e]));
        s = fmax(s, fabs(b[e]));
    }
    return s > 0 ? m / s : m;
}

/* Upper-triangle entries of an N x N matrix compared as rel_diff. */
static double rel_diff_upper(const double *a, const double *b, int64_t N) {
    double m = 0, s = 0;
    for (int64_t c = 0; c < N; c++)
        for (int64_t r = 0; r <= c; r++) {
            m = fmax(m, fabs(a[r + c * N] - b[r + c * N]));
            s = fmax(s, fabs(b[r + c * N]));
        }
    return s > 0 ? m / s : m;
}

static void p4_compare_sums(const dp_featgram *gg, const dp_featgram *gc, double tol) {
    dp_error err;
    for (int pi = 0; pi < 2; pi++) {
        dp_featgram_view vg, vc;
        DP_ASSERT_OK(dp_featgram_view_get(gg, (dp_featgram_part) pi, &vg, &err), &err);
        DP_ASSERT_OK(dp_featgram_view_get(gc, (dp_featgram_part) pi, &vc, &err), &err);
        DP_ASSERT_EQ_INT(vg.n, vc.n);
        DP_ASSERT_MEMEQ(vg.miss, vc.miss, (size_t) vc.p * sizeof(int64_t));
        double dS = rel_diff_upper(vg.S, vc.S, vc.N);
        double ds = rel_diff(vg.s, vc.s, vc.N);
        double dM = rel_diff_upper(vg.MM, vc.MM, vc.p);
        DP_ASSERT_TRUE((vg.T == NULL) == (vc.T == NULL));
        double dT = vc.T != NULL ? rel_diff(vg.T, vc.T, vc.N * vc.p) : 0.0;
        const int64_t nq = vc.n_sets * vc.n_shadow;
        double dX = rel_diff(vg.shadow_S, vc.shadow_S, nq * vc.f * vc.f);
        DP_ASSERT_MEMEQ(vg.shadow_obs, vc.shadow_obs, (size_t) nq * sizeof(int64_t));
        DP_ASSERT_MEMEQ(vg.shadow_rows, vc.shadow_rows, (size_t) nq * sizeof(int64_t));
        printf("measured pass4 %s sums: S %.3g, s %.3g, T %.3g, MM %.3g, shadows %.3g (relative "
               "to the largest entry)\n",
               pi == 0 ? "HSIC" : "RDC", dS, ds, dT, dM, dX);
        DP_ASSERT_TRUE(dS <= tol && ds <= tol && dT <= tol && dM == 0 && dX <= tol);
    }
}

static void p4_measures(const dp_featgram *g, dp_nonlinear_result *res) {
    dp_nonlinear_options o;
    dp_nonlinear_options_default(&o);
    dp_error err;
    dp_nonlinear_result_init(res);
    DP_ASSERT_OK(dp_nonlinear_compute(g, &o, res, &err), &err);
}

DP_TEST(gpu_pass4_fp64_matches_cpu) {
    gpu_require();
    gdata d;
    gdata_make(&d, 20011, 23, 12);
    p4run pr;
    p4_prepare(&d, &pr);
    dp_error err;
    dp_backend *be = NULL;
    DP_ASSERT_OK(dp_backend_cpu_create(NULL, &be, &err), &err);
    dp_cuda_ctx *ctx = gpu_open(DP_CUDA_FP64, 0);
    dp_featgram *gc = p4_cpu(&d, &pr, be);
    dp_featgram *gg = p4_gpu(ctx, &d, &pr, be, 4000, 0);
    p4_compare_sums(gg, gc, 1e-12);
    dp_nonlinear_result rc, rg;
    p4_measures(gc, &rc);
    p4_measures(gg, &rg);
    const int64_t pp = d.p * d.p;
    double dh = max_diff(rg.hsic, rc.hsic, pp), dr = max_diff(rg.rdc, rc.rdc, pp);
    double ds = max_diff(rg.sim, rc.sim, pp);
    printf("measured pass4 fp64: max |HSIC diff| %.3g, |RDC diff| %.3g, |S diff| %.3g\n", dh, dr,
           ds);
    DP_ASSERT_TRUE(dh <= 1e-12);
    DP_ASSERT_TRUE(dr <= 1e-9);
    DP_ASSERT_NEAR(rg.null_sim.mean, rc.null_sim.mean, 1e-9);
    same_clusters(rg.sim, rc.sim, d.p, 0.7);
    same_clusters(rg.sim, rc.sim, d.p, 0.3);
    dp_nonlinear_result_reset(&rc);
    dp_nonlinear_result_reset(&rg);
    dp_featgram_free(gc);
    dp_featgram_free(gg);
    dp_cuda_close(ctx);
    dp_backend_free(be);
    p4_release(&d, &pr);
    gdata_free(&d);
}

DP_TEST(gpu_pass4_batch_size_and_checkpoint_invariant) {
    gpu_require();
    gdata d;
    gdata_make(&d, 9001, 11, 13);
    p4run pr;
    p4_prepare(&d, &pr);
    dp_error err;
    dp_backend *be = NULL;
    DP_ASSERT_OK(dp_backend_cpu_create(NULL, &be, &err), &err);
    dp_cuda_ctx *ctx = gpu_open(DP_CUDA_FP64, 0);
    dp_featgram *a = p4_gpu(ctx, &d, &pr, be, 9001 * 5, 0);
    dp_featgram *b = p4_gpu(ctx, &d, &pr, be, 257, 0);
    dp_featgram *c = p4_gpu(ctx, &d, &pr, be, 3000, 4100); /* mid-block checkpoint */
    p4_compare_sums(b, a, 0.0);
    p4_compare_sums(c, a, 0.0);
    dp_featgram_free(a);
    dp_featgram_free(b);
    dp_featgram_free(c);
    dp_cuda_close(ctx);
    dp_backend_free(be);
    p4_release(&d, &pr);
    gdata_free(&d);
}

static void p4_precision(dp_cuda_precision prec) {
    /* HSIC is held to the stated bound; the RDC part is accumulated in float64 whatever the
     * precision (its 1e-6 ridge makes it too sensitive to rounding), so it matches as in fp64. */
    gpu_require();
    gdata d;
    gdata_make(&d, 30011, 17, 21);
    p4run pr;
    p4_prepare(&d, &pr);
    dp_error err;
    dp_backend *be = NULL;
    DP_ASSERT_OK(dp_backend_cpu_create(NULL, &be, &err), &err);
    dp_cuda_ctx *ctx = gpu_open(prec, 0);
    dp_featgram *gc = p4_cpu(&d, &pr, be);
    dp_featgram *gg = p4_gpu(ctx, &d, &pr, be, 6000, 0);
    dp_nonlinear_result rc, rg;
    p4_measures(gc, &rc);
    p4_measures(gg, &rg);
    const int64_t pp = d.p * d.p;
    double dh = max_diff(rg.hsic, rc.hsic, pp), dr = max_diff(rg.rdc, rc.rdc, pp);
    printf("measured pass4 %s: max |HSIC diff| %.3g (stated bound %.1g), |RDC diff| %.3g (RDC "
           "part in float64)\n",
           dp_cuda_precision_name(prec), dh, dp_cuda_precision_abs_bound(prec), dr);
    DP_ASSERT_TRUE(dh <= dp_cuda_precision_abs_bound(prec));
    DP_ASSERT_TRUE(dr <= 1e-9);
    dp_nonlinear_result_reset(&rc);
    dp_nonlinear_result_reset(&rg);
    dp_featgram_free(gc);
    dp_featgram_free(gg);
    dp_cuda_close(ctx);
    dp_backend_free(be);
    p4_release(&d, &pr);
    gdata_free(&d);
}

DP_TEST(gpu_pass4_fp32_within_bound) {
    p4_precision(DP_CUDA_FP32);
}
DP_TEST(gpu_pass4_tf32_within_bound) {
    p4_precision(DP_CUDA_TF32);
}

/* ---- the whole pipeline ------------------------------------------------------------------- */

static void run_pipeline(const char *data, const char *out, bool gpu) {
    dp_config *cfg = NULL;
    dp_error err;
    DP_ASSERT_OK(dp_config_create(&cfg, &err), &err);
    DP_ASSERT_OK(dp_config_set(cfg, "output-dir", out, &err), &err);
    DP_ASSERT_OK(dp_config_set(cfg, "n-metadata", "1", &err), &err);
    DP_ASSERT_OK(dp_config_set(cfg, "threads", "4", &err), &err);
    DP_ASSERT_OK(dp_config_set(cfg, "batch-rows", "5000", &err), &err);
    DP_ASSERT_OK(dp_config_set(cfg, "rdc-seeds", "2", &err), &err); /* one extra RDC accumulator */
    if (gpu)
        DP_ASSERT_OK(dp_config_set(cfg, "gpu", "true", &err), &err);
    const char *inputs[1] = {data};
    DP_ASSERT_OK(dp_cmd_run(inputs, 1, cfg, &err), &err);
    dp_config_free(cfg);
}

static void same_file(const char *a, const char *b) {
    dp_buf x, y;
    dp_buf_init(&x);
    dp_buf_init(&y);
    dp_error err;
    DP_ASSERT_OK(dp__read_file(a, 1 << 26, &x, &err), &err);
    DP_ASSERT_OK(dp__read_file(b, 1 << 26, &y, &err), &err);
    DP_ASSERT_EQ_INT(x.size, y.size);
    DP_ASSERT_MEMEQ(x.data, y.data, x.size);
    dp_buf_reset(&x);
    dp_buf_reset(&y);
}

static double npy_diff(const char *a, const char *b) {
    double *x = NULL, *y = NULL;
    int64_t r1, c1, r2, c2;
    dp_error err;
    DP_ASSERT_OK(dp__read_npy(a, &x, &r1, &c1, &err), &err);
    DP_ASSERT_OK(dp__read_npy(b, &y, &r2, &c2, &err), &err);
    DP_ASSERT_EQ_INT(r1, r2);
    DP_ASSERT_EQ_INT(c1, c2);
    double d = max_diff(x, y, r1 * c1);
    dp_free(x);
    dp_free(y);
    return d;
}

DP_TEST(gpu_run_same_decisions_as_cpu) {
    /* `dpipe run` on a generated dataset with and without --gpu (and two RDC draws): the same
     * columns survive every pass and the same final descriptors, matrices equal to rounding. */
    gpu_require();
    char data[1024], cpu[1024], gpu[1024], a[1200], b[1200];
    snprintf(data, sizeof data, "%s/data", dp_test_tmp_dir());
    snprintf(cpu, sizeof cpu, "%s/cpu", dp_test_tmp_dir());
    snprintf(gpu, sizeof gpu, "%s/gpu", dp_test_tmp_dir());
    dp_gen_options go = {data, 40000, 60, 2, 42, 0.05, 7000, NULL, false};
    dp_error err;
    DP_ASSERT_OK(dp_cmd_gen(&go, &err), &err);
    run_pipeline(data, cpu, false);
    run_pipeline(data, gpu, true);
    const char *same[] = {"pass1_columns.txt", "pass2_columns.txt", "pass3_columns.txt",
                          "final_descriptors.txt"};
    for (size_t i = 0; i < DP_ARRAY_LEN(same); i++) {
        snprintf(a, sizeof a, "%s/%s", cpu, same[i]);
        snprintf(b, sizeof b, "%s/%s", gpu, same[i]);
        same_file(a, b);
    }
    snprintf(a, sizeof a, "%s/pass2_spearman_matrix.npy", cpu);
    snprintf(b, sizeof b, "%s/pass2_spearman_matrix.npy", gpu);
    double d2 = npy_diff(a, b);
    snprintf(a, sizeof a, "%s/pass4_hsic_matrix.npy", cpu);
    snprintf(b, sizeof b, "%s/pass4_hsic_matrix.npy", gpu);
    double dh = npy_diff(a, b);
    snprintf(a, sizeof a, "%s/pass4_rdc_matrix.npy", cpu);
    snprintf(b, sizeof b, "%s/pass4_rdc_matrix.npy", gpu);
    double dr = npy_diff(a, b);
    printf("measured dpipe run --gpu vs CPU: pass 2 %.3g, HSIC %.3g, RDC %.3g\n", d2, dh, dr);
    DP_ASSERT_TRUE(d2 <= 1e-12 && dh <= 1e-12 && dr <= 1e-9);
}

/* CUDA device context, error translation, device memory arenas and the pinned batch ring. */
#include "backend/cuda/dp_cuda_internal.h"
#include "util/dp_alloc.h"
#include "util/dp_log.h"
#include "util/dp_progress.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* The codes dp_cuda_status_of singles out must be the headers' values. */
_Static_assert(DP_CUDA_RT_MEMORY_ALLOCATION == (int) cudaErrorMemoryAllocation, "cuda codes");
_Static_assert(DP_CUDA_RT_INSUFFICIENT_DRIVER == (int) cudaErrorInsufficientDriver, "cuda codes");
_Static_assert(DP_CUDA_RT_NO_DEVICE == (int) cudaErrorNoDevice, "cuda codes");
_Static_assert(DP_CUDA_RT_INVALID_DEVICE == (int) cudaErrorInvalidDevice, "cuda codes");
_Static_assert(DP_CUDA_RT_NO_KERNEL_IMAGE == (int) cudaErrorNoKernelImageForDevice, "cuda codes");
_Static_assert(DP_CUBLAS_ALLOC_FAILED == (int) CUBLAS_STATUS_ALLOC_FAILED, "cublas codes");
_Static_assert(DP_CUBLAS_NOT_SUPPORTED == (int) CUBLAS_STATUS_NOT_SUPPORTED, "cublas codes");

/* cuBLAS workspace: what cuBLAS recommends for Hopper (32 MiB); smaller GPUs use less of it. */
#define DP_CUDA_WORKSPACE_BYTES ((int64_t) 32 << 20)

dp_status dp__cu_rt(cudaError_t e, const char *expr, const char *file, int line, dp_error *err) {
    if (e == cudaSuccess)
        return DP_OK;
    return dp_cuda_error(err, DP_CUDA_API_RUNTIME, (int) e, cudaGetErrorName(e),
                         cudaGetErrorString(e), expr, file, line);
}

dp_status dp__cu_blas(cublasStatus_t e, const char *expr, const char *file, int line,
                      dp_error *err) {
    if (e == CUBLAS_STATUS_SUCCESS)
        return DP_OK;
    return dp_cuda_error(err, DP_CUDA_API_CUBLAS, (int) e, cublasGetStatusName(e),
                         cublasGetStatusString(e), expr, file, line);
}

dp_status dp__cu_fits_int(int64_t a, int64_t b, int64_t c, const char *what, dp_error *err) {
    if (a < 0 || a > INT_MAX || b < 0 || b > INT_MAX || c < 0 || c > INT_MAX)
        return dp_error_set(err, DP_LIMIT,
                            "%s: dimensions %lld x %lld x %lld do not fit cuBLAS's int", what,
                            (long long) a, (long long) b, (long long) c);
    return DP_OK;
}

int dp_cuda_built(void) {
    return 1;
}

dp_status dp_cuda_device_count(int *count, char *why, size_t why_cap, dp_error *err) {
    (void) err;
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (why != NULL && why_cap > 0) {
        if (e == cudaSuccess)
            snprintf(why, why_cap, "cudaGetDeviceCount reported %d devices", n);
        else
            snprintf(why, why_cap, "cudaGetDeviceCount returned %s (%d): %s", cudaGetErrorName(e),
                     (int) e, cudaGetErrorString(e));
    }
    *count = e == cudaSuccess ? n : 0;
    /* The runtime reports "no device" and "no driver" as errors; both mean 0 usable devices. */
    return DP_OK;
}

dp_status dp_cuda_check_available(int gpu_id, dp_error *err) {
    int n = 0;
    char why[256];
    DP_TRY(dp_cuda_device_count(&n, why, sizeof why, err));
    if (n == 0)
        return dp_error_set(err, DP_UNSUPPORTED,
                            "--gpu: no CUDA device: %s; run without --gpu to use the CPU", why);
    if (gpu_id < 0 || gpu_id >= n)
        return dp_error_set(err, DP_INVALID_ARG,
                            "--gpu-id %d: this machine has %d CUDA device%s (ids 0..%d)", gpu_id, n,
                            n == 1 ? "" : "s", n - 1);
    return DP_OK;
}

dp_status dp_cuda_open(const dp_cuda_options *o, dp_cuda_ctx **out, dp_error *err) {
    dp_status st = DP_OK;
    *out = NULL;
    DP_TRY(dp_cuda_check_available(o->gpu_id, err));
    dp_cuda_ctx *c = dp_calloc(1, sizeof *c);
    if (c == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory");
    c->device = o->gpu_id;
    c->prec = o->precision;
    DP_CHECK(DP_CU(err, cudaSetDevice(c->device)));
    struct cudaDeviceProp prop;
    DP_CHECK(DP_CU(err, cudaGetDeviceProperties(&prop, c->device)));
    snprintf(c->name, sizeof c->name, "%s", prop.name);
    c->cc_major = prop.major;
    c->cc_minor = prop.minor;
    size_t fr = 0, tot = 0;
    DP_CHECK(DP_CU(err, cudaMemGetInfo(&fr, &tot)));
    c->total_bytes = (int64_t) tot;
    c->free_at_open = (int64_t) fr;
    c->budget = dp_cuda_budget_bytes(o->max_gpu_memory_gb, c->free_at_open);
    if (c->budget < DP_CUDA_WORKSPACE_BYTES)
        DP_FAIL(err, DP_LIMIT,
                "--max-gpu-memory-gb: the device memory budget of %.3f GiB cannot even hold the "
                "%lld MiB cuBLAS workspace",
                (double) c->budget / 1073741824.0, (long long) (DP_CUDA_WORKSPACE_BYTES >> 20));
    DP_CHECK(DP_CU(err, cudaStreamCreateWithFlags(&c->compute, cudaStreamNonBlocking)));
    DP_CHECK(DP_CU(err, cudaStreamCreateWithFlags(&c->copy, cudaStreamNonBlocking)));
    DP_CHECK(DP_CU(err, cublasCreate(&c->blas)));
    DP_CHECK(DP_CU(err, cublasSetStream(c->blas, c->compute)));
    DP_CHECK(DP_CU(err, cudaMalloc(&c->workspace, (size_t) DP_CUDA_WORKSPACE_BYTES)));
    c->held = DP_CUDA_WORKSPACE_BYTES;
    DP_CHECK(
        DP_CU(err, cublasSetWorkspace(c->blas, c->workspace, (size_t) DP_CUDA_WORKSPACE_BYTES)));
    snprintf(c->describe, sizeof c->describe,
             "%s (device %d, sm_%d%d, %.1f GiB, %.1f GiB free, budget %.1f GiB, %s)", c->name,
             c->device, c->cc_major, c->cc_minor, (double) c->total_bytes / 1073741824.0,
             (double) c->free_at_open / 1073741824.0, (double) c->budget / 1073741824.0,
             dp_cuda_precision_name(c->prec));
    dp_log_info("GPU: %s", c->describe);
    *out = c;
    return DP_OK;
cleanup:
    dp_cuda_close(c);
    return st;
}

void dp_cuda_close(dp_cuda_ctx *c) {
    if (c == NULL)
        return;
    if (c->blas != NULL)
        cublasDestroy(c->blas);
    if (c->workspace != NULL)
        cudaFree(c->workspace);
    if (c->compute != NULL)
        cudaStreamDestroy(c->compute);
    if (c->copy != NULL)
        cudaStreamDestroy(c->copy);
    dp_free(c);
}

const char *dp_cuda_describe(const dp_cuda_ctx *ctx) {
    return ctx->describe;
}

dp_cuda_precision dp_cuda_get_precision(const dp_cuda_ctx *ctx) {
    return ctx->prec;
}

int64_t dp_cuda_bytes_held(const dp_cuda_ctx *ctx) {
    return ctx->held;
}

void dp_cuda_progress_text(const dp_cuda_ctx *ctx, char *buf, int cap) {
    size_t fr = 0, tot = 0;
    if (cudaMemGetInfo(&fr, &tot) != cudaSuccess)
        fr = tot = 0;
    snprintf(buf, (size_t) cap, "gpu %.2f GiB (device %.1f/%.1f GiB used)",
             (double) ctx->held / 1073741824.0, (double) (tot - fr) / 1073741824.0,
             (double) tot / 1073741824.0);
}

void dp_cuda_log_stats(const char *what, const dp_cuda_stats *s) {
    double wait = s->span_s > 0 ? 1.0 - s->busy_s / s->span_s : 0.0;
    dp_log_info("%s on the GPU: %lld rows in %lld blocks; GPU busy %.2f s of %.2f s (waited for "
                "batches %.0f %%), %.1f GFLOP/s in the main products; host->device %.2f GB at "
                "%.1f GB/s; host blocked on the GPU %.2f s, staging copies %.2f s",
                what, (long long) s->rows, (long long) s->blocks, s->busy_s, s->span_s,
                100.0 * (wait < 0 ? 0 : wait), s->busy_s > 0 ? s->flops / s->busy_s / 1e9 : 0.0,
                (double) s->h2d_bytes / 1e9,
                s->h2d_s > 0 ? (double) s->h2d_bytes / s->h2d_s / 1e9 : 0.0, s->wait_s, s->stage_s);
}

dp_status dp__cu_h2d(dp_cuda_ctx *ctx, void *dst, const void *src, size_t bytes, dp_error *err) {
    if (bytes == 0)
        return DP_OK;
    DP_TRY(DP_CU(err, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, ctx->compute)));
    return DP_CU(err, cudaStreamSynchronize(ctx->compute));
}

dp_status dp__cu_d2h(dp_cuda_ctx *ctx, void *dst, const void *src, size_t bytes, dp_error *err) {
    if (bytes == 0)
        return DP_OK;
    DP_TRY(DP_CU(err, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, ctx->compute)));
    return DP_CU(err, cudaStreamSynchronize(ctx->compute));
}

dp_status dp__cu_copy2d(dp_cuda_ctx *ctx, void *dst, size_t dpitch, const void *src, size_t spitch,
                        size_t width, size_t height, bool to_device, dp_error *err) {
    if (width == 0 || height == 0)
        return DP_OK;
    DP_TRY(DP_CU(err, cudaMemcpy2DAsync(dst, dpitch, src, spitch, width, height,
                                        to_device ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost,
                                        ctx->compute)));
    return DP_CU(err, cudaStreamSynchronize(ctx->compute));
}

/* ---- arenas -----------------------------------------------------------------------------------
 */

dp_status dp__cu_arena_alloc(dp_cuda_ctx *ctx, const dp_cuda_plan *pl, const char *hint,
                             void **arena, dp_error *err) {
    *arena = NULL;
    char text[4096];
    dp_cuda_plan_format(pl, text, sizeof text);
    dp_log_info("%s: device memory plan on %s:\n%s", pl->what, ctx->name, text);
    size_t fr = 0, tot = 0;
    DP_TRY(DP_CU(err, cudaMemGetInfo(&fr, &tot)));
    /* the budget counts what this context already holds; free memory already excludes it */
    DP_TRY(dp_cuda_plan_check(pl, ctx->budget - ctx->held, (int64_t) fr, 0, hint, err));
    DP_TRY(DP_CU(err, cudaMalloc(arena, (size_t) (pl->device_bytes > 0 ? pl->device_bytes : 1))));
    ctx->held += pl->device_bytes;
    return DP_OK;
}

void dp__cu_arena_free(dp_cuda_ctx *ctx, const dp_cuda_plan *pl, void *arena) {
    if (arena == NULL)
        return;
    cudaFree(arena);
    ctx->held -= pl->device_bytes;
}

/* ---- the batch ring ---------------------------------------------------------------------------
 */

dp_status dp__cu_ring_init(dp__cu_ring *r, int64_t rows, int64_t p, double *dev, int64_t aux_cap,
                           dp_error *err) {
    memset(r, 0, sizeof *r);
    r->rows = rows;
    r->p = p;
    r->dev = dev;
    r->aux_cap = aux_cap > 0 ? aux_cap : 1;
    size_t bytes = (size_t) DP_CUDA_SLOTS * (size_t) rows * (size_t) p * sizeof(double);
    DP_TRY(DP_CU(err, cudaHostAlloc((void **) &r->host, bytes, cudaHostAllocDefault)));
    DP_TRY(DP_CU(err, cudaHostAlloc((void **) &r->aux,
                                    (size_t) DP_CUDA_AUX_SLOTS * (size_t) r->aux_cap * 4,
                                    cudaHostAllocDefault)));
    for (int i = 0; i < DP_CUDA_SLOTS; i++) {
        DP_TRY(DP_CU(err, cudaEventCreate(&r->up0[i])));
        DP_TRY(DP_CU(err, cudaEventCreate(&r->up1[i])));
        DP_TRY(DP_CU(err, cudaEventCreate(&r->w0[i])));
        DP_TRY(DP_CU(err, cudaEventCreate(&r->w1[i])));
    }
    for (int i = 0; i < DP_CUDA_AUX_SLOTS; i++)
        DP_TRY(DP_CU(err, cudaEventCreateWithFlags(&r->aux_done[i], cudaEventDisableTiming)));
    DP_TRY(DP_CU(err, cudaEventCreate(&r->first)));
    r->events = true;
    return DP_OK;
}

void dp__cu_ring_free(dp__cu_ring *r) {
    if (r->host != NULL)
        cudaFreeHost(r->host);
    if (r->aux != NULL)
        cudaFreeHost(r->aux);
    /* events are created in order; a failed init leaves the rest NULL, which we skip */
    for (int i = 0; i < DP_CUDA_SLOTS; i++) {
        cudaEvent_t ev[4] = {r->up0[i], r->up1[i], r->w0[i], r->w1[i]};
        for (int k = 0; k < 4; k++)
            if (ev[k] != NULL)
                cudaEventDestroy(ev[k]);
    }
    for (int i = 0; i < DP_CUDA_AUX_SLOTS; i++)
        if (r->aux_done[i] != NULL)
            cudaEventDestroy(r->aux_done[i]);
    if (r->first != NULL)
        cudaEventDestroy(r->first);
    memset(r, 0, sizeof *r);
}

/* Add the timing of slot i's finished work to the stats. */
static dp_status dp__ring_collect(dp__cu_ring *r, int i, dp_error *err) {
    if (!r->pending[i])
        return DP_OK;
    float up = 0, work = 0, span = 0;
    DP_TRY(DP_CU(err, cudaEventElapsedTime(&up, r->up0[i], r->up1[i])));
    DP_TRY(DP_CU(err, cudaEventElapsedTime(&work, r->w0[i], r->w1[i])));
    DP_TRY(DP_CU(err, cudaEventElapsedTime(&span, r->first, r->w1[i])));
    r->st.h2d_s += up / 1e3;
    r->st.h2d_bytes += r->up_bytes[i];
    r->st.busy_s += work / 1e3;
    if (span / 1e3 > r->st.span_s)
        r->st.span_s = span / 1e3;
    r->pending[i] = false;
    return DP_OK;
}

dp_status dp__cu_ring_acquire(dp__cu_ring *r, int32_t *slot, dp_error *err) {
    int32_t i = r->next;
    r->next = (r->next + 1) % DP_CUDA_SLOTS;
    if (r->pending[i]) {
        double t = dp_now();
        DP_TRY(DP_CU(err, cudaEventSynchronize(r->w1[i])));
        r->st.wait_s += dp_now() - t;
        DP_TRY(dp__ring_collect(r, i, err));
    }
    *slot = i;
    return DP_OK;
}

typedef struct dp__stage_task {
    const dp_batch *b;
    double *dst;
    int64_t t0, rows;
    const dp__cu_piece *pc;
    int64_t n_pieces;
    int64_t *cnt;
    int64_t p;
} dp__stage_task;

static void dp__stage_col(void *arg, int64_t j) {
    const dp__stage_task *k = arg;
    const double *src = dp_batch_col(k->b, j) + k->t0;
    double *dst = k->dst + j * k->rows;
    for (int64_t q = 0; q < k->n_pieces; q++) {
        const int64_t o = k->pc[q].off, n = k->pc[q].rows;
        int64_t nan = 0, nonfin = 0;
        for (int64_t t = o; t < o + n; t++) {
            const double v = src[t];
            dst[t] = v;
            nan += v != v;
            nonfin += !(v - v == 0.0);
        }
        k->cnt[(q * k->p + j) * 2] = nan;
        k->cnt[(q * k->p + j) * 2 + 1] = nonfin;
    }
}

void dp__cu_ring_stage(dp__cu_ring *r, int32_t slot, const dp_batch *b, int64_t t0, int64_t rows,
                       const dp__cu_piece *pc, int64_t n_pieces, int64_t *cnt, dp_pool *pool) {
    double t = dp_now();
    dp__stage_task k = {b,   r->host + (size_t) slot * (size_t) r->rows * (size_t) r->p,
                        t0,  rows,
                        pc,  n_pieces,
                        cnt, r->p};
    if (pool != NULL)
        dp_pool_for(pool, r->p, dp__stage_col, &k);
    else
        for (int64_t j = 0; j < r->p; j++)
            dp__stage_col(&k, j);
    r->st.stage_s += dp_now() - t;
}

dp_status dp__cu_ring_upload(dp__cu_ring *r, dp_cuda_ctx *ctx, int32_t slot, int64_t rows,
                             dp_error *err) {
    size_t off = (size_t) slot * (size_t) r->rows * (size_t) r->p;
    size_t bytes = (size_t) rows * (size_t) r->p * sizeof(double);
    DP_TRY(DP_CU(err, cudaEventRecord(r->up0[slot], ctx->copy)));
    DP_TRY(DP_CU(err, cudaMemcpyAsync(r->dev + off, r->host + off, bytes, cudaMemcpyHostToDevice,
                                      ctx->copy)));
    DP_TRY(DP_CU(err, cudaEventRecord(r->up1[slot], ctx->copy)));
    DP_TRY(DP_CU(err, cudaStreamWaitEvent(ctx->compute, r->up1[slot], 0)));
    DP_TRY(DP_CU(err, cudaEventRecord(r->w0[slot], ctx->compute)));
    if (!r->started) {
        DP_TRY(DP_CU(err, cudaEventRecord(r->first, ctx->compute)));
        r->started = true;
    }
    r->up_bytes[slot] = (int64_t) bytes;
    return DP_OK;
}

dp_status dp__cu_ring_release(dp__cu_ring *r, dp_cuda_ctx *ctx, int32_t slot, dp_error *err) {
    DP_TRY(DP_CU(err, cudaEventRecord(r->w1[slot], ctx->compute)));
    r->pending[slot] = true;
    return DP_OK;
}

dp_status dp__cu_ring_drain(dp__cu_ring *r, dp_cuda_ctx *ctx, dp_error *err) {
    DP_TRY(DP_CU(err, cudaStreamSynchronize(ctx->compute)));
    for (int i = 0; i < DP_CUDA_SLOTS; i++)
        DP_TRY(dp__ring_collect(r, i, err));
    return DP_OK;
}

dp_status dp__cu_ring_aux_get(dp__cu_ring *r, int32_t **list, int32_t *slot, dp_error *err) {
    int32_t i = r->aux_next;
    r->aux_next = (r->aux_next + 1) % DP_CUDA_AUX_SLOTS;
    if (r->aux_pending[i]) {
        DP_TRY(DP_CU(err, cudaEventSynchronize(r->aux_done[i])));
        r->aux_pending[i] = false;
    }
    *list = r->aux + (size_t) i * (size_t) r->aux_cap;
    *slot = i;
    return DP_OK;
}

dp_status dp__cu_ring_aux_send(dp__cu_ring *r, dp_cuda_ctx *ctx, int32_t slot, int32_t *dst,
                               int64_t n, dp_error *err) {
    if (n > 0)
        DP_TRY(DP_CU(err, cudaMemcpyAsync(dst, r->aux + (size_t) slot * (size_t) r->aux_cap,
                                          (size_t) n * 4, cudaMemcpyHostToDevice, ctx->compute)));
    DP_TRY(DP_CU(err, cudaEventRecord(r->aux_done[slot], ctx->compute)));
    r->aux_pending[slot] = true;
    return DP_OK;
}

/* ---- bench ------------------------------------------------------------------------------------
 */

void dp_cuda_last_stats(const dp_cuda_ctx *ctx, int pass, dp_cuda_stats *out) {
    *out = pass == 2 ? ctx->last[0] : pass == 4 ? ctx->last[1] : (dp_cuda_stats){0};
}

dp_status dp_cuda_bench_syrk(dp_cuda_ctx *ctx, int64_t n, int64_t k, dp_cuda_precision prec,
                             int reps, double *gflops, dp_error *err) {
    dp_status st = DP_OK;
    void *A = NULL, *C = NULL;
    cudaEvent_t e0 = NULL, e1 = NULL;
    *gflops = 0;
    const size_t es = prec == DP_CUDA_FP64 ? 8 : 4;
    DP_CHECK(dp__cu_fits_int(n, k, n * k, "cuBLAS benchmark", err));
    size_t fr = 0, tot = 0;
    DP_CHECK(DP_CU(err, cudaMemGetInfo(&fr, &tot)));
    size_t need = ((size_t) n * (size_t) k + (size_t) n * (size_t) n) * es;
    if (need > fr / 10 * 9)
        DP_FAIL(err, DP_LIMIT, "cuBLAS benchmark: %zu bytes do not fit %zu free", need, fr);
    DP_CHECK(DP_CU(err, cudaMalloc(&A, (size_t) n * (size_t) k * es)));
    DP_CHECK(DP_CU(err, cudaMalloc(&C, (size_t) n * (size_t) n * es)));
    /* 0x3c bytes: small normal numbers in both widths, no NaN / Inf */
    DP_CHECK(DP_CU(err, cudaMemsetAsync(A, 0x3c, (size_t) n * (size_t) k * es, ctx->compute)));
    DP_CHECK(DP_CU(err, cudaEventCreate(&e0)));
    DP_CHECK(DP_CU(err, cudaEventCreate(&e1)));
    const int in = (int) n, ik = (int) k;
    const double one = 1.0, zero = 0.0;
    const float onef = 1.0f, zerof = 0.0f;
    float best = 0;
    for (int r = 0; r <= reps; r++) { /* r = 0 warms up */
        DP_CHECK(DP_CU(err, cudaEventRecord(e0, ctx->compute)));
        if (prec == DP_CUDA_FP64)
            DP_CHECK(DP_CU(err, cublasDsyrk(ctx->blas, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_T, in, ik,
                                            &one, A, ik, &zero, C, in)));
        else if (prec == DP_CUDA_FP32)
            DP_CHECK(DP_CU(err, cublasSsyrk(ctx->blas, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_T, in, ik,
                                            &onef, A, ik, &zerof, C, in)));
        else
            DP_CHECK(
                DP_CU(err, cublasGemmEx(ctx->blas, CUBLAS_OP_T, CUBLAS_OP_N, in, in, ik, &onef, A,
                                        CUDA_R_32F, ik, A, CUDA_R_32F, ik, &zerof, C, CUDA_R_32F,
                                        in, CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT)));
        DP_CHECK(DP_CU(err, cudaEventRecord(e1, ctx->compute)));
        DP_CHECK(DP_CU(err, cudaEventSynchronize(e1)));
        float ms = 0;
        DP_CHECK(DP_CU(err, cudaEventElapsedTime(&ms, e0, e1)));
        if (r > 0 && (best == 0 || ms < best))
            best = ms;
    }
    if (best > 0)
        *gflops = (double) n * (double) (n + 1) * (double) k / ((double) best * 1e-3) / 1e9;
cleanup:
    if (e0 != NULL)
        cudaEventDestroy(e0);
    if (e1 != NULL)
        cudaEventDestroy(e1);
    cudaFree(A);
    cudaFree(C);
    return st;
}

dp_status dp_cuda_bench_h2d(dp_cuda_ctx *ctx, int64_t bytes, int reps, double *gbps,
                            dp_error *err) {
    dp_status st = DP_OK;
    void *h = NULL, *d = NULL;
    cudaEvent_t e0 = NULL, e1 = NULL;
    *gbps = 0;
    DP_CHECK(DP_CU(err, cudaHostAlloc(&h, (size_t) bytes, cudaHostAllocDefault)));
    DP_CHECK(DP_CU(err, cudaMalloc(&d, (size_t) bytes)));
    memset(h, 1, (size_t) bytes);
    DP_CHECK(DP_CU(err, cudaEventCreate(&e0)));
    DP_CHECK(DP_CU(err, cudaEventCreate(&e1)));
    float best = 0;
    for (int r = 0; r <= reps; r++) {
        DP_CHECK(DP_CU(err, cudaEventRecord(e0, ctx->copy)));
        DP_CHECK(
            DP_CU(err, cudaMemcpyAsync(d, h, (size_t) bytes, cudaMemcpyHostToDevice, ctx->copy)));
        DP_CHECK(DP_CU(err, cudaEventRecord(e1, ctx->copy)));
        DP_CHECK(DP_CU(err, cudaEventSynchronize(e1)));
        float ms = 0;
        DP_CHECK(DP_CU(err, cudaEventElapsedTime(&ms, e0, e1)));
        if (r > 0 && (best == 0 || ms < best))
            best = ms;
    }
    if (best > 0)
        *gbps = (double) bytes / ((double) best * 1e-3) / 1e9;
cleanup:
    if (e0 != NULL)
        cudaEventDestroy(e0);
    if (e1 != NULL)
        cudaEventDestroy(e1);
    cudaFree(d);
    if (h != NULL)
        cudaFreeHost(h);
    return st;
}

/* dp_cuda.h: the CUDA backend: a device context and device versions of the pass-2 and pass-4
 * accumulators (accum/dp_gram.h, accum/dp_featgram.h), used by `--gpu`.
 *
 * What runs on the device. The scan hands raw batches (column-major doubles, NaN = missing) to
 * dp_cuda_gram_update / dp_cuda_featgram_update. They are copied into a fixed ring of pinned
 * host buffers (DP_CUDA_SLOTS slots; the copy is split over the caller's thread pool and counts
 * the missing values per column), sent with cudaMemcpyAsync on a copy stream, and the compute
 * stream waits for each upload, so the CPU returns to decoding the next batches while the GPU
 * works; a slot is reused only when the GPU is done with it. Kernels then apply the copula
 * transform per value (mid-rank CDF lookup in the uploaded pass-1 models, normal scores, uniform
 * copula; backend/cuda/dp_cuda_math.h), the Mercer and RDC sine features and the missing-value
 * masks, and cuBLAS accumulates the products block by block with the same block structure as the
 * CPU accumulators: DSYRK for Z'Z / G'G, DGEMM and DSYRK for the pairwise-complete mask products
 * (only over the columns that have a missing value in the block), float64 by default.
 * --precision fp32 / tf32 computes each block's big product (pass 2: Z'Z; pass 4: G'G of the
 * HSIC part) in float32 (SSYRK) or TF32 tensor cores (GEMM) and adds it to the float64 sums every
 * <= 16384 rows; everything else stays float64, including the pass-4 RDC part (its whitening
 * with a 1e-6 ridge turns float32 rounding into RDC errors of 0.1 to 0.8) and the diagonal blocks
 * of the HSIC part (constant-column detection). docs/gpu.md states the errors.
 *
 * Same results. The device accumulators keep the CPU ones' sums in device memory and move them
 * into and out of a host accumulator of the same shape (dp_cuda_*_store / _load), so finalize,
 * the measures, merges and the checkpoint format are the CPU code's. In fp64 the matrices agree
 * with the CPU backend to rounding (~1e-15 relative; tests/gpu asserts 1e-12), and a scan resumed
 * from a checkpoint gives the same bits as an uninterrupted GPU scan. With fp32/tf32 a
 * checkpoint adds the pending float32 partial sums to the float64 ones early, so a resumed scan
 * equals an uninterrupted one only to the precision's error.
 *
 * Memory. Each accumulator makes its device memory plan (dp_cuda_host.h) at creation, logs it,
 * refuses it when it does not fit (DP_LIMIT naming what to change) and allocates it as one arena;
 * nothing is allocated in the batch loop. The context owns the streams, the cuBLAS handle and
 * its workspace.
 *
 * In a build without CUDA every function here exists and returns DP_UNSUPPORTED ("this build
 * has no CUDA backend") or does nothing.
 *
 * Ownership: open/close, create/free (free and close accept NULL). An accumulator borrows the
 * context (it must outlive it), the transforms passed to create (the pass-1 fits they reference
 * are copied to the device at create and not used afterwards) and the pool. The host
 * accumulators passed to store/load are borrowed for the call.
 * Thread safety: one thread at a time per context and everything created from it.
 */
#ifndef DP_BACKEND_CUDA_H
#define DP_BACKEND_CUDA_H

#include "accum/dp_featgram.h"
#include "accum/dp_gram.h"
#include "backend/cuda/dp_cuda_host.h"
#include "batch/dp_batch.h"
#include "transform/dp_copula.h"
#include "util/dp_pool.h"

typedef struct dp_cuda_ctx dp_cuda_ctx;
typedef struct dp_cuda_gram dp_cuda_gram;
typedef struct dp_cuda_featgram dp_cuda_featgram;

/* 1 when this build has the CUDA backend. */
int dp_cuda_built(void);

/* Devices cudaGetDeviceCount reports. No device is DP_OK with *count = 0 (the runtime's error
 * code and text, e.g. cudaErrorNoDevice, go to `why` when given). UNSUPPORTED without CUDA. */
dp_status dp_cuda_device_count(int *count, char *why, size_t why_cap, dp_error *err) DP_MUST_USE;
/* For --gpu: DP_OK when device gpu_id exists; else UNSUPPORTED ("this build has no CUDA
 * backend", or "no CUDA device: cudaGetDeviceCount returned ...") or INVALID_ARG (--gpu-id out
 * of range), with a message that says to run without --gpu. */
dp_status dp_cuda_check_available(int gpu_id, dp_error *err) DP_MUST_USE;

typedef struct dp_cuda_options {
    int gpu_id;
    double max_gpu_memory_gb; /* 0 = 90 % of the free memory at open */
    dp_cuda_precision precision;
} dp_cuda_options;

dp_status dp_cuda_open(const dp_cuda_options *o, dp_cuda_ctx **out, dp_error *err) DP_MUST_USE;
void dp_cuda_close(dp_cuda_ctx *ctx);
/* "NVIDIA H200 (device 0, sm_90, 139.8 GiB, 138.2 GiB free, budget 124.4 GiB, fp64)". */
const char *dp_cuda_describe(const dp_cuda_ctx *ctx);
dp_cuda_precision dp_cuda_get_precision(const dp_cuda_ctx *ctx);
/* Device bytes held by the context and its live accumulators. */
int64_t dp_cuda_bytes_held(const dp_cuda_ctx *ctx);
/* Progress-line text: "gpu 3.21 GiB (device 4.0/139.8 GiB used)". */
void dp_cuda_progress_text(const dp_cuda_ctx *ctx, char *buf, int cap);

/* Where the time went in a scan (for logs and bench/). */
typedef struct dp_cuda_stats {
    int64_t rows;      /* rows accumulated */
    int64_t blocks;    /* blocks processed */
    int64_t h2d_bytes; /* host-to-device bytes of the batch ring */
    double h2d_s;      /* time of those copies (copy stream) */
    double busy_s;     /* compute-stream time spent on the slots' work */
    double span_s;     /* from the first slot's work to the last one's end */
    double wait_s;     /* host time blocked waiting for a free slot (GPU-bound) */
    double stage_s;    /* host time copying batches into pinned memory */
    double flops;      /* floating-point operations of the main products (syrk: n(n+1)k) */
} dp_cuda_stats;

/* ---- pass 2 ------------------------------------------------------------------------------ */

/* A device gram of host's shape (p, mode, block rows, centres, impute values; host should be
 * fresh) for columns transformed by tr[0..p) (prepared; their fits are uploaded). batch_rows
 * sizes the ring slots; pool (may be NULL) splits the copies into pinned memory. Logs the
 * plan; LIMIT when it does not fit, NOMEM, BACKEND / UNSUPPORTED from CUDA. */
dp_status dp_cuda_gram_create(dp_cuda_ctx *ctx, dp_gram *host, const dp_copula_col *tr,
                              int64_t batch_rows, dp_pool *pool, dp_cuda_gram **out,
                              dp_error *err) DP_MUST_USE;
void dp_cuda_gram_free(dp_cuda_gram *g);
/* Add a raw batch (b->n_cols == p; rows in increasing global order, as dp_gram_update). */
dp_status dp_cuda_gram_update(dp_cuda_gram *g, const dp_batch *b, dp_error *err) DP_MUST_USE;
/* Process the pending partial block now (as dp_gram_flush). */
dp_status dp_cuda_gram_flush(dp_cuda_gram *g, dp_error *err) DP_MUST_USE;
/* Wait for the device and write its whole state (sums and pending rows) into host, which must
 * have the shape given at create: then dp_gram_serialize / dp_gram_finalize (host) give what a
 * host accumulator fed the same rows gives. */
dp_status dp_cuda_gram_store(dp_cuda_gram *g, dp_gram *host, dp_error *err) DP_MUST_USE;
/* Replace the device state by host's (a resumed checkpoint; same shape). */
dp_status dp_cuda_gram_load(dp_cuda_gram *g, dp_gram *host, dp_error *err) DP_MUST_USE;
void dp_cuda_gram_get_stats(const dp_cuda_gram *g, dp_cuda_stats *out);

/* ---- pass 4 ------------------------------------------------------------------------------ */

/* A device featgram with host's config and columns (host should be fresh: its Mercer map and
 * RDC draws are uploaded, so the device uses the CPU's features to the bit). tz / tu: the
 * prepared gaussian / uniform transforms of the p columns (NULL when the HSIC / RDC part is
 * off); both must reference the same fit per column. */
dp_status dp_cuda_featgram_create(dp_cuda_ctx *ctx, dp_featgram *host, const dp_copula_col *tz,
                                  const dp_copula_col *tu, int64_t batch_rows, dp_pool *pool,
                                  dp_cuda_featgram **out, dp_error *err) DP_MUST_USE;
void dp_cuda_featgram_free(dp_cuda_featgram *g);
/* Add the raw rows of a batch: the next rows of the sample (as dp_featgram_update). */
dp_status dp_cuda_featgram_update(dp_cuda_featgram *g, const dp_batch *b,
                                  dp_error *err) DP_MUST_USE;
/* Process the pending partial block now (as dp_featgram_flush). */
dp_status dp_cuda_featgram_flush(dp_cuda_featgram *g, dp_error *err) DP_MUST_USE;
dp_status dp_cuda_featgram_store(dp_cuda_featgram *g, dp_featgram *host, dp_error *err) DP_MUST_USE;
dp_status dp_cuda_featgram_load(dp_cuda_featgram *g, dp_featgram *host, dp_error *err) DP_MUST_USE;
void dp_cuda_featgram_get_stats(const dp_cuda_featgram *g, dp_cuda_stats *out);

/* One info line with the stats of a finished scan ("pass 2 on the GPU: ..."). */
void dp_cuda_log_stats(const char *what, const dp_cuda_stats *s);

/* ---- for bench/ ----------------------------------------------------------------------------- */

/* Stats of the last pass-2 (pass = 2) or pass-4 (pass = 4) device accumulator freed on ctx
 * (zeros when none). */
void dp_cuda_last_stats(const dp_cuda_ctx *ctx, int pass, dp_cuda_stats *out);
/* cuBLAS's rate on this device for the accumulators' main product C = A'A (n x n, upper, from
 * k rows): DSYRK (fp64), SSYRK (fp32) or a TF32 GEMM (tf32), counted as n(n+1)k flops per call
 * (the flops the accumulators count), best of `reps` timed calls after a warm-up. Temporary
 * device memory (k n + n^2 elements); LIMIT when it does not fit the free memory. */
dp_status dp_cuda_bench_syrk(dp_cuda_ctx *ctx, int64_t n, int64_t k, dp_cuda_precision prec,
                             int reps, double *gflops, dp_error *err) DP_MUST_USE;
/* Pinned host-to-device copy bandwidth (GB/s) for `bytes`, best of `reps`. */
dp_status dp_cuda_bench_h2d(dp_cuda_ctx *ctx, int64_t bytes, int reps, double *gbps,
                            dp_error *err) DP_MUST_USE;

#endif

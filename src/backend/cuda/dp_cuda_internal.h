/* dp_cuda_internal.h: what the CUDA backend's C files share (CUDA builds only): the context, the
 * error-translation macro, and the pinned batch ring with its streams and events.
 *
 * DP_CU(err, expr): expr is a CUDA runtime call (cudaError_t), a cuBLAS call (cublasStatus_t) or
 * a kernel launcher (which returns cudaGetLastError()); the macro evaluates it once and yields
 * DP_OK, or sets err to "<expr> failed at file:line: CUDA error <name> (<code>): <text>" with the
 * status of dp_cuda_status_of and yields that. Use it as DP_TRY(DP_CU(err, ...)) or
 * DP_CHECK(DP_CU(err, ...)).
 *
 * Ownership: the ring's pinned buffers and events belong to the ring (init/free); its device
 * buffers are part of the owner's arena. Thread safety: one thread at a time.
 */
#ifndef DP_BACKEND_CUDA_INTERNAL_H
#define DP_BACKEND_CUDA_INTERNAL_H

#include "backend/cuda/dp_cuda.h"
#include "backend/cuda/dp_cuda_kernels.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

dp_status dp__cu_rt(cudaError_t e, const char *expr, const char *file, int line, dp_error *err);
dp_status dp__cu_blas(cublasStatus_t e, const char *expr, const char *file, int line,
                      dp_error *err);

#define DP_CU(err, expr)                                                                           \
    _Generic((expr), cudaError_t                                                                   \
             : dp__cu_rt, cublasStatus_t                                                           \
             : dp__cu_blas)((expr), #expr, __FILE__, __LINE__, (err))

struct dp_cuda_ctx {
    int device;
    char name[256];
    int cc_major, cc_minor;
    int64_t total_bytes;
    int64_t free_at_open;
    int64_t budget;
    int64_t held; /* device bytes of the context and its live accumulators */
    dp_cuda_precision prec;
    cudaStream_t compute; /* kernels and cuBLAS */
    cudaStream_t copy;    /* host-to-device copies of the batch ring */
    cublasHandle_t blas;
    void *workspace; /* cuBLAS workspace (fixed, so it is in the budget) */
    char describe[512];
    dp_cuda_stats last[2]; /* of the last pass-2 / pass-4 accumulator freed (bench/) */
};

/* Reserve / release device memory against the budget: cudaMalloc of one arena after
 * dp_cuda_plan_check (LIMIT when it does not fit, with `hint`). The plan is logged first. */
dp_status dp__cu_arena_alloc(dp_cuda_ctx *ctx, const dp_cuda_plan *pl, const char *hint,
                             void **arena, dp_error *err) DP_MUST_USE;
void dp__cu_arena_free(dp_cuda_ctx *ctx, const dp_cuda_plan *pl, void *arena);

/* ---- the batch ring ------------------------------------------------------------------------- */

typedef struct dp__cu_ring {
    int64_t rows; /* rows per slot */
    int64_t p;    /* columns */
    double *host; /* pinned: DP_CUDA_SLOTS x rows x p */
    double *dev;  /* device (owner's arena): DP_CUDA_SLOTS x rows x p */
    cudaEvent_t up0[DP_CUDA_SLOTS], up1[DP_CUDA_SLOTS], w0[DP_CUDA_SLOTS], w1[DP_CUDA_SLOTS];
    int64_t up_bytes[DP_CUDA_SLOTS];
    bool pending[DP_CUDA_SLOTS]; /* work recorded, stats not yet collected */
    bool events;                 /* events created */
    int32_t next;
    cudaEvent_t first; /* start of the first slot's work */
    bool started;
    /* column lists for block processing (pinned, DP_CUDA_AUX_SLOTS x aux_cap int32) */
    int32_t *aux;
    int64_t aux_cap;
    cudaEvent_t aux_done[DP_CUDA_AUX_SLOTS];
    bool aux_pending[DP_CUDA_AUX_SLOTS];
    int32_t aux_next;
    dp_cuda_stats st;
} dp__cu_ring;

/* Pieces of one slot: runs of rows that belong to one accumulator block. */
typedef struct dp__cu_piece {
    int64_t off;   /* first row in the slot */
    int64_t rows;  /* rows */
    int64_t block; /* block index (global row / block rows, or row ordinal / block rows) */
} dp__cu_piece;

dp_status dp__cu_ring_init(dp__cu_ring *r, int64_t rows, int64_t p, double *dev, int64_t aux_cap,
                           dp_error *err) DP_MUST_USE;
void dp__cu_ring_free(dp__cu_ring *r);
/* The next slot, once the GPU is done with its previous use (time blocked -> st.wait_s). */
dp_status dp__cu_ring_acquire(dp__cu_ring *r, int32_t *slot, dp_error *err) DP_MUST_USE;
/* Copy rows [t0, t0 + rows) of the batch's p columns into the slot (ld rows), on the pool, and
 * count per piece and column the NaN and non-finite values: cnt[(k p + j) 2 + 0 / 1]. */
void dp__cu_ring_stage(dp__cu_ring *r, int32_t slot, const dp_batch *b, int64_t t0, int64_t rows,
                       const dp__cu_piece *pc, int64_t n_pieces, int64_t *cnt, dp_pool *pool);
/* Send the slot (rows x p) on the copy stream; the compute stream waits for it and then marks
 * the start of the slot's work. */
dp_status dp__cu_ring_upload(dp__cu_ring *r, dp_cuda_ctx *ctx, int32_t slot, int64_t rows,
                             dp_error *err) DP_MUST_USE;
/* Mark the end of the slot's work on the compute stream. */
dp_status dp__cu_ring_release(dp__cu_ring *r, dp_cuda_ctx *ctx, int32_t slot,
                              dp_error *err) DP_MUST_USE;
/* Wait for everything and collect the timing of the slots in flight. */
dp_status dp__cu_ring_drain(dp__cu_ring *r, dp_cuda_ctx *ctx, dp_error *err) DP_MUST_USE;
/* A pinned list of aux_cap int32 to fill and then send with dp__cu_ring_aux_send. */
dp_status dp__cu_ring_aux_get(dp__cu_ring *r, int32_t **list, int32_t *slot,
                              dp_error *err) DP_MUST_USE;
/* Copy n entries of list `slot` to dst (device) on the compute stream. */
dp_status dp__cu_ring_aux_send(dp__cu_ring *r, dp_cuda_ctx *ctx, int32_t slot, int32_t *dst,
                               int64_t n, dp_error *err) DP_MUST_USE;

/* Synchronous copies ordered on the compute stream (cudaMemcpy's legacy stream does not order
 * with non-blocking streams): enqueue, then wait for the stream. width/height: bytes per column
 * and columns of a pitched copy. */
dp_status dp__cu_h2d(dp_cuda_ctx *ctx, void *dst, const void *src, size_t bytes,
                     dp_error *err) DP_MUST_USE;
dp_status dp__cu_d2h(dp_cuda_ctx *ctx, void *dst, const void *src, size_t bytes,
                     dp_error *err) DP_MUST_USE;
dp_status dp__cu_copy2d(dp_cuda_ctx *ctx, void *dst, size_t dpitch, const void *src, size_t spitch,
                        size_t width, size_t height, bool to_device, dp_error *err) DP_MUST_USE;

/* Check that every dimension of a cuBLAS call fits in int (LIMIT otherwise). */
dp_status dp__cu_fits_int(int64_t a, int64_t b, int64_t c, const char *what,
                          dp_error *err) DP_MUST_USE;

#endif

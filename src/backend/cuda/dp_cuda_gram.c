/* Pass-2 device accumulator: dp_gram's sums, computed on the GPU (see dp_cuda.h, dp_gram.h).
 *
 * Block structure as dp_gram: rows are re-blocked into blocks of block_rows rows aligned to
 * global row offsets, and a block is processed when it is full or when a row of a later block
 * arrives, so the sums do not depend on how the scan cut its batches. Per block:
 *   colprep  - missing -> 0, indicators W of the columns with a missing value (compacted; the
 *              host knows which from its counts while staging), squares, column sums;
 *   Q       += Z'Z                   (DSYRK; or float32 / TF32 into a float partial, folded
 *                                     into Q every DP_CUDA_FOLD_ROWS rows);
 *   Sc, SSc += Z'W, (Z.Z)'W          (DGEMM on the compacted columns, scattered);
 *   Nc      += W'W                   (DSYRK, scattered to the upper triangle).
 * Rows missing in every column are not left out as on the CPU: they add 1 to n, every nmiss_i
 * and every Nc_ij, which leaves each pair count N_ij unchanged (dp_gram.h).
 */
#include "backend/cuda/dp_cuda_internal.h"
#include "util/dp_alloc.h"

#include <math.h>
#include <string.h>

/* Rows summed in float32 before the partial sums go into the float64 ones. */
#define DP_CUDA_FOLD_ROWS 16384

struct dp_cuda_gram {
    dp_cuda_ctx *ctx;
    dp_pool *pool;
    int64_t p, b;
    bool pairwise;
    dp_cuda_precision prec;
    dp_cuda_plan plan;
    void *arena;
    /* device */
    double *Q, *Sc, *SSc, *Nc, *tmp, *zs, *zq, *K, *mv, *Z, *Z2, *W;
    int32_t *idx; /* loc[p] then cidx[p] */
    dp_cm_col *cols;
    double *values, *u0, *slope, *kv;
    float *Zf, *Qf;
    /* host */
    dp_cm_col *hcols;
    int64_t *nmiss, *blk_cmiss;
    int64_t *cnt;
    dp__cu_piece *pieces;
    int64_t max_pieces;
    int64_t slot_rows;
    int64_t n, rows_seen, next_row, fill, blk_index;
    bool mask_used;
    int fold, fold_every;
    dp__cu_ring ring;
    int64_t blocks;
    double flops;
};

void dp_cuda_gram_free(dp_cuda_gram *g) {
    if (g == NULL)
        return;
    if (g->ctx != NULL) {
        (void) cudaStreamSynchronize(g->ctx->compute);
        dp_cuda_gram_get_stats(g, &g->ctx->last[0]);
    }
    dp__cu_ring_free(&g->ring);
    dp__cu_arena_free(g->ctx, &g->plan, g->arena);
    dp_free(g->hcols);
    dp_free(g->nmiss);
    dp_free(g->blk_cmiss);
    dp_free(g->cnt);
    dp_free(g->pieces);
    dp_free(g);
}

static void *dp__at(void *arena, const dp_cuda_plan *pl, int item) {
    return pl->item[item].bytes > 0 ? (char *) arena + pl->item[item].offset : NULL;
}

dp_status dp_cuda_gram_create(dp_cuda_ctx *ctx, dp_gram *host, const dp_copula_col *tr,
                              int64_t batch_rows, dp_pool *pool, dp_cuda_gram **out,
                              dp_error *err) {
    dp_status st = DP_OK;
    dp_cuda_flat flat;
    dp_cuda_flat_init(&flat);
    double *mv = NULL;
    *out = NULL;
    dp_cuda_gram *g = dp_calloc(1, sizeof *g);
    if (g == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory");
    g->ctx = ctx;
    g->pool = pool;
    g->p = dp_gram_cols(host);
    g->b = dp_gram_block_rows(host);
    g->pairwise = dp_gram_mode(host) == DP_GRAM_PAIRWISE;
    g->prec = dp_cuda_get_precision(ctx);
    g->blk_index = -1;
    const int64_t p = g->p, b = g->b;
    g->fold_every = (int) DP_MAX(1, DP_CUDA_FOLD_ROWS / b);
    DP_CHECK(dp__cu_fits_int(p, b, p * b, "pass 2 on the GPU", err));
    const dp_copula_col *trs[1] = {tr};
    DP_CHECK(dp_cuda_flat_build(&flat, p, 1, trs, err));
    g->slot_rows = dp_cuda_slot_rows(p, batch_rows, b);
    dp_cuda_gram_shape sh = {p, g->pairwise, b, g->prec, g->slot_rows, flat.n_knots};
    dp_cuda_plan_gram(&sh, &g->plan);
    DP_CHECK(dp__cu_arena_alloc(
        ctx, &g->plan,
        g->pairwise ? "use fewer columns in pass 2 (memory grows as p^2: 5 p x p float64 matrices "
                      "with --missing pairwise, 1 with --missing impute)"
                    : "use fewer columns in pass 2 (memory grows as p^2)",
        &g->arena, err));
    const dp_cuda_plan *pl = &g->plan;
    g->Q = dp__at(g->arena, pl, DP_CUDA_G_Q);
    g->Sc = dp__at(g->arena, pl, DP_CUDA_G_SC);
    g->SSc = dp__at(g->arena, pl, DP_CUDA_G_SSC);
    g->Nc = dp__at(g->arena, pl, DP_CUDA_G_NC);
    g->tmp = dp__at(g->arena, pl, DP_CUDA_G_TMP);
    double *vec = dp__at(g->arena, pl, DP_CUDA_G_VEC);
    g->zs = vec;
    g->zq = vec + p;
    g->K = vec + 2 * p;
    g->mv = vec + 3 * p;
    g->Z = dp__at(g->arena, pl, DP_CUDA_G_Z);
    g->Z2 = dp__at(g->arena, pl, DP_CUDA_G_Z2);
    g->W = dp__at(g->arena, pl, DP_CUDA_G_W);
    g->idx = dp__at(g->arena, pl, DP_CUDA_G_IDX);
    g->cols = dp__at(g->arena, pl, DP_CUDA_G_COLS);
    g->values = dp__at(g->arena, pl, DP_CUDA_G_KNOTS);
    g->u0 = g->values != NULL ? g->values + flat.n_knots : NULL;
    g->slope = g->values != NULL ? g->values + 2 * flat.n_knots : NULL;
    g->kv = g->values != NULL ? g->values + 3 * flat.n_knots : NULL;
    g->Zf = dp__at(g->arena, pl, DP_CUDA_G_ZF);
    g->Qf = dp__at(g->arena, pl, DP_CUDA_G_QF);
    DP_CHECK(dp__cu_ring_init(&g->ring, g->slot_rows, p, dp__at(g->arena, pl, DP_CUDA_G_RING),
                              2 * p, err));
    g->max_pieces = g->slot_rows / b + 2;
    g->hcols = dp_mallocarray((size_t) p, sizeof(dp_cm_col));
    g->nmiss = dp_calloc((size_t) p, sizeof(int64_t));
    g->blk_cmiss = dp_calloc((size_t) p, sizeof(int64_t));
    g->cnt = dp_calloc((size_t) (g->max_pieces * p * 2), sizeof(int64_t));
    g->pieces = dp_calloc((size_t) g->max_pieces, sizeof(dp__cu_piece));
    mv = dp_calloc((size_t) p, sizeof(double));
    if (g->hcols == NULL || g->nmiss == NULL || g->blk_cmiss == NULL || g->cnt == NULL ||
        g->pieces == NULL || mv == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory for the GPU accumulator's host state");
    memcpy(g->hcols, flat.cols, (size_t) p * sizeof(dp_cm_col));
    /* models and centres */
    dp__gram_raw raw;
    DP_CHECK(dp__gram_raw_get(host, false, &raw, err));
    if (!g->pairwise)
        for (int64_t j = 0; j < p; j++) /* as dp_gram: a missing entry becomes impute - K */
            mv[j] = (raw.impute != NULL ? raw.impute[j] : 0.0) - raw.K[j];
    DP_CHECK(dp__cu_h2d(ctx, g->cols, flat.cols, (size_t) p * sizeof(dp_cm_col), err));
    if (flat.n_knots > 0) {
        size_t kb = (size_t) flat.n_knots * sizeof(double);
        DP_CHECK(dp__cu_h2d(ctx, g->values, flat.values, kb, err));
        DP_CHECK(dp__cu_h2d(ctx, g->u0, flat.u0, kb, err));
        DP_CHECK(dp__cu_h2d(ctx, g->slope, flat.slope, kb, err));
        DP_CHECK(dp__cu_h2d(ctx, g->kv, flat.kv, kb, err));
    }
    DP_CHECK(dp__cu_h2d(ctx, g->K, raw.K, (size_t) p * sizeof(double), err));
    DP_CHECK(dp__cu_h2d(ctx, g->mv, mv, (size_t) p * sizeof(double), err));
    DP_CHECK(dp_cuda_gram_load(g, host, err));
    *out = g;
    g = NULL;
cleanup:
    dp_free(mv);
    dp_cuda_flat_reset(&flat);
    dp_cuda_gram_free(g);
    return st;
}

/* Fold the float32 partial sums into Q. */
static dp_status dp__gram_fold(dp_cuda_gram *g, dp_error *err) {
    if (g->fold == 0)
        return DP_OK;
    DP_TRY(DP_CU(err, dp__k_fold_upper(g->ctx->compute, g->Qf, g->p, g->p, g->Q, g->p)));
    g->fold = 0;
    return DP_OK;
}

static dp_status dp__gram_process(dp_cuda_gram *g, dp_error *err) {
    const int64_t rows = g->fill, p = g->p, b = g->b;
    if (rows == 0)
        return DP_OK;
    dp_cuda_ctx *ctx = g->ctx;
    cublasHandle_t h = ctx->blas;
    cudaStream_t s = ctx->compute;
    const double one = 1.0, zero = 0.0;
    int64_t m = 0;
    if (g->pairwise) {
        int32_t *list;
        int32_t slot;
        bool any = false;
        for (int64_t j = 0; j < p && !any; j++)
            any = g->blk_cmiss[j] > 0;
        if (any) {
            DP_TRY(dp__cu_ring_aux_get(&g->ring, &list, &slot, err));
            for (int64_t j = 0; j < p; j++) {
                list[j] = g->blk_cmiss[j] > 0 ? (int32_t) m : -1;
                if (g->blk_cmiss[j] > 0)
                    list[p + m++] = (int32_t) j;
            }
            DP_TRY(dp__cu_ring_aux_send(&g->ring, ctx, slot, g->idx, 2 * p, err));
        }
    }
    DP_TRY(DP_CU(err, dp__k_gram_colprep(s, g->Z, b, rows, p, m > 0 ? g->idx : NULL, g->W, b,
                                         m > 0 ? g->Z2 : NULL, g->zs, g->zq)));
    const int ip = (int) p, ir = (int) rows, ib = (int) b, im = (int) m;
    if (g->prec == DP_CUDA_FP64) {
        DP_TRY(DP_CU(err, cublasDsyrk(h, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_T, ip, ir, &one, g->Z,
                                      ib, &one, g->Q, ip)));
    } else {
        const float onef = 1.0f, betaf = g->fold == 0 ? 0.0f : 1.0f;
        DP_TRY(DP_CU(err, dp__k_to_float(s, g->Z, b, rows, p, g->Zf, b)));
        if (g->prec == DP_CUDA_FP32)
            DP_TRY(DP_CU(err, cublasSsyrk(h, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_T, ip, ir, &onef,
                                          g->Zf, ib, &betaf, g->Qf, ip)));
        else
            DP_TRY(DP_CU(err, cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, ip, ip, ir, &onef, g->Zf,
                                           CUDA_R_32F, ib, g->Zf, CUDA_R_32F, ib, &betaf, g->Qf,
                                           CUDA_R_32F, ip, CUBLAS_COMPUTE_32F_FAST_TF32,
                                           CUBLAS_GEMM_DEFAULT)));
        if (++g->fold >= g->fold_every)
            DP_TRY(dp__gram_fold(g, err));
    }
    g->flops += (double) p * (double) (p + 1) * (double) rows;
    if (m > 0) {
        g->mask_used = true;
        const int32_t *cidx = g->idx + p;
        if (m == p) { /* every column has a missing value: accumulate in place */
            DP_TRY(DP_CU(err, cublasDgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, ip, ip, ir, &one, g->Z, ib,
                                          g->W, ib, &one, g->Sc, ip)));
            DP_TRY(DP_CU(err, cublasDgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, ip, ip, ir, &one, g->Z2, ib,
                                          g->W, ib, &one, g->SSc, ip)));
            DP_TRY(DP_CU(err, cublasDsyrk(h, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_T, ip, ir, &one,
                                          g->W, ib, &one, g->Nc, ip)));
        } else {
            DP_TRY(DP_CU(err, cublasDgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, ip, im, ir, &one, g->Z, ib,
                                          g->W, ib, &zero, g->tmp, ip)));
            DP_TRY(DP_CU(err, dp__k_scatter_cols(s, g->tmp, p, p, m, cidx, g->Sc, p)));
            DP_TRY(DP_CU(err, cublasDgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, ip, im, ir, &one, g->Z2, ib,
                                          g->W, ib, &zero, g->tmp, ip)));
            DP_TRY(DP_CU(err, dp__k_scatter_cols(s, g->tmp, p, p, m, cidx, g->SSc, p)));
            DP_TRY(DP_CU(err, cublasDsyrk(h, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_T, im, ir, &one,
                                          g->W, ib, &zero, g->tmp, im)));
            DP_TRY(DP_CU(err, dp__k_scatter_upper(s, g->tmp, m, m, cidx, g->Nc, p)));
        }
        g->flops += (4.0 * (double) p + (double) (m + 1)) * (double) m * (double) rows;
        for (int64_t j = 0; j < p; j++) {
            g->nmiss[j] += g->blk_cmiss[j];
            g->blk_cmiss[j] = 0;
        }
    }
    g->n += rows;
    g->blocks++;
    g->fill = 0;
    g->blk_index = -1;
    return DP_OK;
}

dp_status dp_cuda_gram_flush(dp_cuda_gram *g, dp_error *err) {
    return dp__gram_process(g, err);
}

dp_status dp_cuda_gram_update(dp_cuda_gram *g, const dp_batch *bt, dp_error *err) {
    const int64_t p = g->p, b = g->b, n_rows = bt->n_rows, row0 = bt->row_offset;
    int64_t end;
    if (bt->n_cols != p)
        return dp_error_set(err, DP_INVALID_ARG,
                            "gram (GPU): batch has %lld columns, expected %lld",
                            (long long) bt->n_cols, (long long) p);
    if (n_rows < 0 || row0 < 0 || !dp_add_i64(row0, n_rows, &end))
        return dp_error_set(err, DP_INVALID_ARG, "gram (GPU): bad rows [%lld, +%lld)",
                            (long long) row0, (long long) n_rows);
    if (n_rows == 0)
        return DP_OK;
    if (row0 < g->next_row)
        return dp_error_set(err, DP_INVALID_ARG,
                            "gram (GPU): rows must arrive in increasing order: batch starts at row "
                            "%lld but rows up to %lld were already seen",
                            (long long) row0, (long long) g->next_row);
    for (int64_t t0 = 0; t0 < n_rows; t0 += g->slot_rows) {
        const int64_t r = DP_MIN(g->slot_rows, n_rows - t0);
        int64_t np = 0;
        for (int64_t o = 0; o < r;) { /* runs of rows of one global block */
            const int64_t row = row0 + t0 + o, bi = row / b;
            const int64_t c = DP_MIN(r - o, (bi + 1) * b - row);
            DP_ASSERT(np < g->max_pieces);
            g->pieces[np++] = (dp__cu_piece){o, c, bi};
            o += c;
        }
        int32_t slot;
        DP_TRY(dp__cu_ring_acquire(&g->ring, &slot, err));
        dp__cu_ring_stage(&g->ring, slot, bt, t0, r, g->pieces, np, g->cnt, g->pool);
        DP_TRY(dp__cu_ring_upload(&g->ring, g->ctx, slot, r, err));
        const double *x = g->ring.dev + (size_t) slot * (size_t) g->slot_rows * (size_t) p;
        for (int64_t k = 0; k < np; k++) {
            const dp__cu_piece *pc = &g->pieces[k];
            if (g->fill > 0 && pc->block != g->blk_index)
                DP_TRY(dp__gram_process(g, err));
            g->blk_index = pc->block;
            DP_ASSERT(g->fill + pc->rows <= b);
            DP_TRY(DP_CU(err, dp__k_gram_transform(g->ctx->compute, x + pc->off, r, pc->rows, p,
                                                   g->cols, g->values, g->u0, g->slope, g->kv, g->K,
                                                   g->pairwise ? NULL : g->mv, g->Z + g->fill, b)));
            if (g->pairwise)
                for (int64_t j = 0; j < p; j++) {
                    const int64_t *c = g->cnt + (k * p + j) * 2;
                    g->blk_cmiss[j] += dp_cm_missing_count(&g->hcols[j], pc->rows, c[0], c[1]);
                }
            g->fill += pc->rows;
            if (g->fill == b)
                DP_TRY(dp__gram_process(g, err));
        }
        DP_TRY(dp__cu_ring_release(&g->ring, g->ctx, slot, err));
    }
    g->next_row = end;
    g->rows_seen += n_rows;
    return DP_OK;
}

dp_status dp_cuda_gram_store(dp_cuda_gram *g, dp_gram *host, dp_error *err) {
    dp_cuda_ctx *ctx = g->ctx;
    const int64_t p = g->p, b = g->b;
    const size_t pp = (size_t) p * (size_t) p * sizeof(double), pv = (size_t) p * sizeof(double);
    if (dp_gram_cols(host) != p || dp_gram_block_rows(host) != b ||
        (dp_gram_mode(host) == DP_GRAM_PAIRWISE) != g->pairwise)
        return dp_error_set(err, DP_INVALID_ARG,
                            "gram (GPU): the host accumulator has another shape");
    DP_TRY(dp__cu_ring_drain(&g->ring, ctx, err));
    DP_TRY(dp__gram_fold(g, err));
    dp__gram_raw raw;
    DP_TRY(dp__gram_raw_get(host, g->mask_used, &raw, err));
    DP_TRY(dp__cu_d2h(ctx, raw.Q, g->Q, pp, err));
    DP_TRY(dp__cu_d2h(ctx, raw.zs, g->zs, pv, err));
    DP_TRY(dp__cu_d2h(ctx, raw.zq, g->zq, pv, err));
    if (g->pairwise)
        memcpy(raw.nmiss, g->nmiss, (size_t) p * sizeof(int64_t));
    if (raw.Sc != NULL) { /* present when the device used them, or the host had them */
        DP_TRY(dp__cu_d2h(ctx, raw.Sc, g->Sc, pp, err));
        DP_TRY(dp__cu_d2h(ctx, raw.SSc, g->SSc, pp, err));
        DP_TRY(dp__cu_d2h(ctx, raw.Nc, g->Nc, pp, err));
    }
    if (g->fill > 0)
        DP_TRY(dp__cu_copy2d(ctx, raw.blk, (size_t) b * 8, g->Z, (size_t) b * 8,
                             (size_t) g->fill * 8, (size_t) p, false, err));
    raw.n = g->n;
    raw.rows_seen = g->rows_seen;
    raw.next_row = g->next_row;
    raw.blk_rows = g->fill;
    raw.blk_index = g->fill > 0 ? g->blk_index : -1;
    return dp__gram_raw_commit(host, &raw, err);
}

dp_status dp_cuda_gram_load(dp_cuda_gram *g, dp_gram *host, dp_error *err) {
    dp_cuda_ctx *ctx = g->ctx;
    const int64_t p = g->p, b = g->b;
    const size_t pp = (size_t) p * (size_t) p * sizeof(double), pv = (size_t) p * sizeof(double);
    if (dp_gram_cols(host) != p || dp_gram_block_rows(host) != b ||
        (dp_gram_mode(host) == DP_GRAM_PAIRWISE) != g->pairwise)
        return dp_error_set(err, DP_INVALID_ARG,
                            "gram (GPU): the host accumulator has another shape");
    DP_TRY(dp__cu_ring_drain(&g->ring, ctx, err));
    dp__gram_raw raw;
    DP_TRY(dp__gram_raw_get(host, false, &raw, err));
    DP_TRY(dp__cu_h2d(ctx, g->Q, raw.Q, pp, err));
    DP_TRY(dp__cu_h2d(ctx, g->zs, raw.zs, pv, err));
    DP_TRY(dp__cu_h2d(ctx, g->zq, raw.zq, pv, err));
    g->mask_used = false;
    if (g->pairwise) {
        memcpy(g->nmiss, raw.nmiss, (size_t) p * sizeof(int64_t));
        if (raw.Sc != NULL) {
            DP_TRY(dp__cu_h2d(ctx, g->Sc, raw.Sc, pp, err));
            DP_TRY(dp__cu_h2d(ctx, g->SSc, raw.SSc, pp, err));
            DP_TRY(dp__cu_h2d(ctx, g->Nc, raw.Nc, pp, err));
            g->mask_used = true;
        } else {
            DP_TRY(DP_CU(err, cudaMemsetAsync(g->Sc, 0, pp, ctx->compute)));
            DP_TRY(DP_CU(err, cudaMemsetAsync(g->SSc, 0, pp, ctx->compute)));
            DP_TRY(DP_CU(err, cudaMemsetAsync(g->Nc, 0, pp, ctx->compute)));
        }
    }
    g->fold = 0;
    g->fill = raw.blk_rows;
    g->blk_index = raw.blk_rows > 0 ? raw.blk_index : -1;
    if (g->fill > 0)
        DP_TRY(dp__cu_copy2d(ctx, g->Z, (size_t) b * 8, raw.blk, (size_t) b * 8,
                             (size_t) g->fill * 8, (size_t) p, true, err));
    for (int64_t j = 0; g->pairwise && j < p; j++) {
        g->blk_cmiss[j] = 0;
        for (int64_t t = 0; t < g->fill; t++)
            g->blk_cmiss[j] += isnan(raw.blk[j * b + t]) ? 1 : 0;
    }
    g->n = raw.n;
    g->rows_seen = raw.rows_seen;
    g->next_row = raw.next_row;
    return DP_CU(err, cudaStreamSynchronize(ctx->compute));
}

void dp_cuda_gram_get_stats(const dp_cuda_gram *g, dp_cuda_stats *out) {
    *out = g->ring.st;
    out->rows = g->rows_seen;
    out->blocks = g->blocks;
    out->flops = g->flops;
}

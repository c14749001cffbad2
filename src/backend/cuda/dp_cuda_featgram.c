/* Pass-4 device accumulator: dp_featgram's sums, computed on the GPU (see dp_cuda.h and
 * dp_featgram.h for the arithmetic).
 *
 * Block structure as dp_featgram: rows are staged into blocks of block_rows rows counted from the
 * first row received; every block goes through the same steps as dp__flush_part on the CPU, per
 * part (HSIC: Mercer features of the normal score; RDC: sine features of the uniform copula):
 *   S  += G'G                       (DSYRK; with --precision fp32 / tf32 the HSIC part's S in
 *                                     float32 / TF32 as in pass 2, its diagonal blocks in
 *                                     float64; the RDC part always in float64: its whitening
 *                                     (C_ii + 1e-6 tr/k I)^(-1/2) turns float32 rounding of C
 *                                     into errors of 0.1 (fp32) to 0.8 (tf32) in RDC, measured
 *                                     with tests/emu)
 *   s  += column sums of G
 *   T[:, J] += G' M_J, MM[J, J] += M_J' M_J  for the columns J with a missing value in the block
 *   shadow pairs: X_q += G_i' G_j lagged by floor(r/3) rows (cyclic), and their observed rows.
 * The features are computed by one kernel per staged run of rows from the raw values: transform
 * (normal score / uniform copula from the uploaded pass-1 models), then the Mercer recurrence and
 * the sine features with the CPU's coefficients and draws (copied from the host accumulator).
 */
#include "backend/cuda/dp_cuda_internal.h"
#include "util/dp_alloc.h"

#include <string.h>

#define DP_CUDA_FOLD_ROWS 16384

typedef struct dp__cu_fgpart {
    int32_t f;
    int64_t N;
    double *S, *s, *T, *Ttmp, *MM, *MMtmp, *Mi, *G, *shS;
    int64_t *obs;
    uint8_t *mis;
    float *Gf, *Sf;
    double *Sd; /* fp32/tf32: the diagonal blocks of S, accumulated in float64 */
    bool low;   /* this part's big product in float32 / TF32 (HSIC only) */
    int32_t *J; /* device: columns with a missing value in the block */
    int64_t *miss, *blk_miss, *sh_rows; /* host */
    bool t_used;
    int fold;
} dp__cu_fgpart;

struct dp_cuda_featgram {
    dp_cuda_ctx *ctx;
    dp_pool *pool;
    int64_t p, R;
    dp_cuda_precision prec;
    int32_t n_sets;
    int64_t n_sh, nq;
    dp_cuda_plan plan;
    void *arena;
    dp__cu_fgpart part[2];
    dp_cm_col *cols; /* device: 2p (normal score, then uniform) */
    dp_cm_col *hcols;
    double *values, *u0, *slope, *kvz, *kvu;
    dp_cm_mercer mf; /* device pointers */
    double *rw, *rb, *rpilot;
    int32_t *sh_col, *sh_partner;
    int64_t n_rows, fill;
    int64_t *cnt;
    dp__cu_piece *pieces;
    int64_t max_pieces;
    int64_t slot_rows;
    int fold_every;
    dp__cu_ring ring;
    int64_t blocks;
    double flops;
};

void dp_cuda_featgram_free(dp_cuda_featgram *g) {
    if (g == NULL)
        return;
    if (g->ctx != NULL) {
        (void) cudaStreamSynchronize(g->ctx->compute);
        dp_cuda_featgram_get_stats(g, &g->ctx->last[1]);
    }
    dp__cu_ring_free(&g->ring);
    dp__cu_arena_free(g->ctx, &g->plan, g->arena);
    for (int i = 0; i < 2; i++) {
        dp_free(g->part[i].miss);
        dp_free(g->part[i].blk_miss);
        dp_free(g->part[i].sh_rows);
    }
    dp_free(g->hcols);
    dp_free(g->cnt);
    dp_free(g->pieces);
    dp_free(g);
}

static void *dp__at(void *arena, const dp_cuda_plan *pl, int item) {
    return pl->item[item].bytes > 0 ? (char *) arena + pl->item[item].offset : NULL;
}

dp_status dp_cuda_featgram_create(dp_cuda_ctx *ctx, dp_featgram *host, const dp_copula_col *tz,
                                  const dp_copula_col *tu, int64_t batch_rows, dp_pool *pool,
                                  dp_cuda_featgram **out, dp_error *err) {
    dp_status st = DP_OK;
    dp_cuda_flat flat;
    dp_cuda_flat_init(&flat);
    double *feat = NULL;
    int32_t *shl = NULL;
    *out = NULL;
    const dp_featgram_config *cfg = dp_featgram_get_config(host);
    const int64_t p = dp_featgram_columns(host);
    if ((cfg->m > 0) != (tz != NULL) || (cfg->k > 0) != (tu != NULL))
        return dp_error_set(err, DP_INVALID_ARG,
                            "pass 4 on the GPU: transforms do not match the parts (m = %d, k = %d)",
                            (int) cfg->m, (int) cfg->k);
    dp_cuda_featgram *g = dp_calloc(1, sizeof *g);
    if (g == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory");
    g->ctx = ctx;
    g->pool = pool;
    g->p = p;
    g->R = cfg->block_rows;
    g->prec = dp_cuda_get_precision(ctx);
    g->fold_every = (int) DP_MAX(1, DP_CUDA_FOLD_ROWS / g->R);
    const int64_t R = g->R;
    dp__featgram_raw raw;
    DP_CHECK(dp__featgram_raw_get(host, false, &raw, err));
    g->n_sets = raw.n_sets;
    g->n_sh = raw.n_shadow;
    g->nq = (int64_t) raw.n_sets * raw.n_shadow;
    for (int i = 0; i < 2; i++) {
        dp__cu_fgpart *pt = &g->part[i];
        pt->f = i == 0 ? cfg->m : cfg->k;
        pt->N = p * pt->f;
        DP_CHECK(dp__cu_fits_int(pt->N, R, p, "pass 4 on the GPU (features x columns)", err));
    }
    const dp_copula_col *trs[2];
    int32_t n_tr = 0, tz_i = -1, tu_i = -1;
    if (tz != NULL) {
        tz_i = n_tr;
        trs[n_tr++] = tz;
    }
    if (tu != NULL) {
        tu_i = n_tr;
        trs[n_tr++] = tu;
    }
    DP_CHECK(dp_cuda_flat_build(&flat, p, n_tr, trs, err));
    g->slot_rows = dp_cuda_slot_rows(p, batch_rows, R);
    dp_cuda_featgram_shape sh = {p, cfg->m, cfg->k, R, g->nq, g->prec, g->slot_rows, flat.n_knots};
    dp_cuda_plan_featgram(&sh, &g->plan);
    DP_CHECK(dp__cu_arena_alloc(ctx, &g->plan,
                                "use fewer columns in pass 4, or fewer features (--hsic-D, "
                                "--rdc-d; memory grows as (columns x features)^2)",
                                &g->arena, err));
    const dp_cuda_plan *pl = &g->plan;
    for (int i = 0; i < 2; i++) {
        dp__cu_fgpart *pt = &g->part[i];
        const int base = i * DP_CUDA_F_PART_ITEMS;
        if (pt->f == 0)
            continue;
        pt->S = dp__at(g->arena, pl, base + DP_CUDA_F_S);
        pt->s = dp__at(g->arena, pl, base + DP_CUDA_F_SVEC);
        pt->T = dp__at(g->arena, pl, base + DP_CUDA_F_T);
        pt->Ttmp = dp__at(g->arena, pl, base + DP_CUDA_F_TTMP);
        pt->MM = dp__at(g->arena, pl, base + DP_CUDA_F_MM);
        pt->MMtmp = pt->MM + p * p;
        pt->Mi = dp__at(g->arena, pl, base + DP_CUDA_F_MI);
        pt->G = dp__at(g->arena, pl, base + DP_CUDA_F_G);
        pt->mis = dp__at(g->arena, pl, base + DP_CUDA_F_MIS);
        pt->shS = dp__at(g->arena, pl, base + DP_CUDA_F_SH);
        pt->obs = pt->shS != NULL ? (int64_t *) (pt->shS + g->nq * pt->f * pt->f) : NULL;
        pt->Gf = dp__at(g->arena, pl, base + DP_CUDA_F_GF);
        pt->Sf = dp__at(g->arena, pl, base + DP_CUDA_F_SF);
        pt->Sd = dp__at(g->arena, pl, base + DP_CUDA_F_SD);
        pt->low = i == 0 && g->prec != DP_CUDA_FP64;
        pt->miss = dp_calloc((size_t) p, sizeof(int64_t));
        pt->blk_miss = dp_calloc((size_t) p, sizeof(int64_t));
        pt->sh_rows = dp_calloc((size_t) (g->nq > 0 ? g->nq : 1), sizeof(int64_t));
        if (pt->miss == NULL || pt->blk_miss == NULL || pt->sh_rows == NULL)
            DP_FAIL(err, DP_NOMEM, "out of memory for the GPU accumulator's host state");
    }
    g->cols = dp__at(g->arena, pl, DP_CUDA_F_COLS);
    g->values = dp__at(g->arena, pl, DP_CUDA_F_KNOTS);
    if (g->values != NULL) {
        g->u0 = g->values + flat.n_knots;
        g->slope = g->values + 2 * flat.n_knots;
        g->kvz = g->values + 3 * flat.n_knots;
        g->kvu = g->values + 4 * flat.n_knots;
    }
    int32_t *idx = dp__at(g->arena, pl, DP_CUDA_F_IDX);
    g->part[0].J = idx;
    g->part[1].J = idx + p;
    g->sh_col = idx + 2 * p;
    g->sh_partner = idx + 2 * p + g->n_sh;
    DP_CHECK(
        dp__cu_ring_init(&g->ring, g->slot_rows, p, dp__at(g->arena, pl, DP_CUDA_F_RING), p, err));
    g->max_pieces = g->slot_rows / R + 2;
    g->hcols = dp_calloc((size_t) (2 * p), sizeof(dp_cm_col));
    g->cnt = dp_calloc((size_t) (g->max_pieces * p * 2), sizeof(int64_t));
    g->pieces = dp_calloc((size_t) g->max_pieces, sizeof(dp__cu_piece));
    if (g->hcols == NULL || g->cnt == NULL || g->pieces == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory for the GPU accumulator's host state");
    /* transforms: normal scores in cols[0..p), uniform copula in cols[p..2p) */
    if (tz_i >= 0)
        memcpy(g->hcols, flat.cols + (size_t) tz_i * (size_t) p, (size_t) p * sizeof(dp_cm_col));
    if (tu_i >= 0)
        memcpy(g->hcols + p, flat.cols + (size_t) tu_i * (size_t) p,
               (size_t) p * sizeof(dp_cm_col));
    DP_CHECK(dp__cu_h2d(ctx, g->cols, g->hcols, (size_t) (2 * p) * sizeof(dp_cm_col), err));
    if (flat.n_knots > 0) {
        size_t kb = (size_t) flat.n_knots * sizeof(double);
        DP_CHECK(dp__cu_h2d(ctx, g->values, flat.values, kb, err));
        DP_CHECK(dp__cu_h2d(ctx, g->u0, flat.u0, kb, err));
        DP_CHECK(dp__cu_h2d(ctx, g->slope, flat.slope, kb, err));
        if (tz_i >= 0)
            DP_CHECK(
                dp__cu_h2d(ctx, g->kvz, flat.kv + (size_t) tz_i * (size_t) flat.n_knots, kb, err));
        if (tu_i >= 0)
            DP_CHECK(
                dp__cu_h2d(ctx, g->kvu, flat.kv + (size_t) tu_i * (size_t) flat.n_knots, kb, err));
    }
    /* feature maps: the host accumulator's Mercer coefficients and RDC draws, bit for bit */
    const int64_t m = cfg->m, k = cfg->k;
    const int64_t nfeat = 4 * m + 3 * p * k;
    feat = dp_calloc((size_t) (nfeat > 0 ? nfeat : 1), sizeof(double));
    if (feat == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory");
    double *dfeat = dp__at(g->arena, pl, DP_CUDA_F_FEAT);
    const dp_mercer *mer = dp_featgram_mercer(host);
    g->mf.m = 0;
    if (m > 0 && mer != NULL) {
        memcpy(feat, mer->coef, (size_t) m * sizeof(double));
        memcpy(feat + m, mer->rec_a, (size_t) m * sizeof(double));
        memcpy(feat + 2 * m, mer->rec_b, (size_t) m * sizeof(double));
        memcpy(feat + 3 * m, mer->pilot, (size_t) m * sizeof(double));
        g->mf.m = (int32_t) m;
        g->mf.c_minus_a = mer->c_minus_a;
        g->mf.sqrt_2c = mer->sqrt_2c;
        g->mf.coef = dfeat;
        g->mf.rec_a = dfeat + m;
        g->mf.rec_b = dfeat + 2 * m;
        g->mf.pilot = dfeat + 3 * m;
    }
    if (k > 0) {
        for (int64_t i = 0; i < p; i++) {
            const double *w, *b, *pil;
            if (!dp_featgram_rdc_draws(host, i, &w, &b, &pil))
                DP_FAIL(err, DP_STATE, "pass 4 on the GPU: no RDC draws for column %lld",
                        (long long) i);
            memcpy(feat + 4 * m + i * k, w, (size_t) k * sizeof(double));
            memcpy(feat + 4 * m + p * k + i * k, b, (size_t) k * sizeof(double));
            memcpy(feat + 4 * m + 2 * p * k + i * k, pil, (size_t) k * sizeof(double));
        }
        g->rw = dfeat + 4 * m;
        g->rb = dfeat + 4 * m + p * k;
        g->rpilot = dfeat + 4 * m + 2 * p * k;
    }
    if (nfeat > 0)
        DP_CHECK(dp__cu_h2d(ctx, dfeat, feat, (size_t) nfeat * sizeof(double), err));
    if (g->nq > 0) {
        shl = dp_calloc((size_t) (g->n_sh + g->nq), sizeof(int32_t));
        if (shl == NULL)
            DP_FAIL(err, DP_NOMEM, "out of memory");
        for (int64_t q = 0; q < g->n_sh; q++)
            shl[q] = (int32_t) raw.shadow_col[q];
        for (int64_t q = 0; q < g->nq; q++)
            shl[g->n_sh + q] = (int32_t) raw.shadow_partner[q];
        DP_CHECK(
            dp__cu_h2d(ctx, g->sh_col, shl, (size_t) (g->n_sh + g->nq) * sizeof(int32_t), err));
    }
    DP_CHECK(dp_cuda_featgram_load(g, host, err));
    *out = g;
    g = NULL;
cleanup:
    dp_free(feat);
    dp_free(shl);
    dp_cuda_flat_reset(&flat);
    dp_cuda_featgram_free(g);
    return st;
}

/* Add the float32 partial co-moments to S, then put the float64 diagonal blocks in place: each
 * column's own block C_ii decides whether it is constant (a trace below 1e-13 of its second
 * moment) and whitens RDC, which float32 rounding would spoil. */
static dp_status dp__fg_fold(dp_cuda_featgram *g, dp__cu_fgpart *pt, dp_error *err) {
    if (pt->fold == 0)
        return DP_OK;
    cudaStream_t s = g->ctx->compute;
    DP_TRY(DP_CU(err, dp__k_fold_upper(s, pt->Sf, pt->N, pt->N, pt->S, pt->N)));
    DP_TRY(DP_CU(err, dp__k_diag_blocks(s, pt->S, pt->N, pt->f, g->p, pt->Sd, 1)));
    pt->fold = 0;
    return DP_OK;
}

static dp_status dp__fg_process_part(dp_cuda_featgram *g, dp__cu_fgpart *pt, int64_t r,
                                     dp_error *err) {
    dp_cuda_ctx *ctx = g->ctx;
    cublasHandle_t h = ctx->blas;
    cudaStream_t s = ctx->compute;
    const int64_t p = g->p, R = g->R, N = pt->N;
    const int iN = (int) N, ir = (int) r, iR = (int) R, ip = (int) p;
    const double one = 1.0, zero = 0.0;
    if (!pt->low) {
        DP_TRY(DP_CU(err, cublasDsyrk(h, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_T, iN, ir, &one, pt->G,
                                      iR, &one, pt->S, iN)));
    } else {
        const float onef = 1.0f, betaf = pt->fold == 0 ? 0.0f : 1.0f;
        DP_TRY(DP_CU(err, dp__k_to_float(s, pt->G, R, r, N, pt->Gf, R)));
        if (g->prec == DP_CUDA_FP32)
            DP_TRY(DP_CU(err, cublasSsyrk(h, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_T, iN, ir, &onef,
                                          pt->Gf, iR, &betaf, pt->Sf, iN)));
        else
            DP_TRY(DP_CU(err, cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, iN, iN, ir, &onef, pt->Gf,
                                           CUDA_R_32F, iR, pt->Gf, CUDA_R_32F, iR, &betaf, pt->Sf,
                                           CUDA_R_32F, iN, CUBLAS_COMPUTE_32F_FAST_TF32,
                                           CUBLAS_GEMM_DEFAULT)));
        const long long fr = (long long) pt->f * R;
        DP_TRY(DP_CU(err, cublasDgemmStridedBatched(h, CUBLAS_OP_T, CUBLAS_OP_N, pt->f, pt->f, ir,
                                                    &one, pt->G, iR, fr, pt->G, iR, fr, &one,
                                                    pt->Sd, pt->f, (long long) pt->f * pt->f, ip)));
        if (++pt->fold >= g->fold_every)
            DP_TRY(dp__fg_fold(g, pt, err));
    }
    g->flops += (double) N * (double) (N + 1) * (double) r;
    DP_TRY(DP_CU(err, dp__k_colsum(s, pt->G, R, r, N, pt->s)));
    int64_t nJ = 0;
    for (int64_t i = 0; i < p; i++)
        nJ += pt->blk_miss[i] > 0 ? 1 : 0;
    if (nJ > 0) {
        int32_t *list, slot;
        DP_TRY(dp__cu_ring_aux_get(&g->ring, &list, &slot, err));
        nJ = 0;
        for (int64_t i = 0; i < p; i++)
            if (pt->blk_miss[i] > 0) {
                list[nJ++] = (int32_t) i;
                pt->miss[i] += pt->blk_miss[i];
            }
        DP_TRY(dp__cu_ring_aux_send(&g->ring, ctx, slot, pt->J, nJ, err));
        DP_TRY(DP_CU(err, dp__k_fg_mask(s, pt->mis, R, r, pt->J, nJ, pt->Mi, R)));
        const int inJ = (int) nJ;
        if (nJ == p) {
            DP_TRY(DP_CU(err, cublasDgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, iN, ip, ir, &one, pt->G, iR,
                                          pt->Mi, iR, &one, pt->T, iN)));
            DP_TRY(DP_CU(err, cublasDsyrk(h, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_T, ip, ir, &one,
                                          pt->Mi, iR, &one, pt->MM, ip)));
        } else {
            DP_TRY(DP_CU(err, cublasDgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, iN, inJ, ir, &one, pt->G, iR,
                                          pt->Mi, iR, &zero, pt->Ttmp, iN)));
            DP_TRY(DP_CU(err, dp__k_scatter_cols(s, pt->Ttmp, N, N, nJ, pt->J, pt->T, N)));
            DP_TRY(DP_CU(err, cublasDsyrk(h, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_T, inJ, ir, &one,
                                          pt->Mi, iR, &zero, pt->MMtmp, inJ)));
            DP_TRY(DP_CU(err, dp__k_scatter_upper(s, pt->MMtmp, nJ, nJ, pt->J, pt->MM, p)));
        }
        pt->t_used = true;
        memset(pt->blk_miss, 0, (size_t) p * sizeof(int64_t));
    }
    if (g->nq > 0 && r >= 3) {
        DP_TRY(DP_CU(err, dp__k_shadow(s, pt->G, R, r, pt->f, g->nq, g->sh_col, g->sh_partner,
                                       g->n_sh, pt->mis, R, pt->shS, pt->obs)));
        for (int64_t q = 0; q < g->nq; q++)
            pt->sh_rows[q] += r;
    }
    return DP_OK;
}

static dp_status dp__fg_process(dp_cuda_featgram *g, dp_error *err) {
    if (g->fill == 0)
        return DP_OK;
    for (int i = 0; i < 2; i++)
        if (g->part[i].f > 0)
            DP_TRY(dp__fg_process_part(g, &g->part[i], g->fill, err));
    g->fill = 0;
    g->blocks++;
    return DP_OK;
}

dp_status dp_cuda_featgram_flush(dp_cuda_featgram *g, dp_error *err) {
    return dp__fg_process(g, err);
}

dp_status dp_cuda_featgram_update(dp_cuda_featgram *g, const dp_batch *bt, dp_error *err) {
    const int64_t p = g->p, R = g->R, n_rows = bt->n_rows;
    if (bt->n_cols != p)
        return dp_error_set(err, DP_INVALID_ARG,
                            "pass-4 accumulator (GPU): batch has %lld columns, expected %lld",
                            (long long) bt->n_cols, (long long) p);
    if (n_rows <= 0)
        return n_rows == 0 ? DP_OK
                           : dp_error_set(err, DP_INVALID_ARG, "pass-4 accumulator: %lld rows",
                                          (long long) n_rows);
    if (g->n_rows > INT64_MAX - n_rows)
        return dp_error_set(err, DP_LIMIT, "feature accumulator: row count overflows");
    dp__cu_fgpart *ph = &g->part[0], *pr = &g->part[1];
    for (int64_t t0 = 0; t0 < n_rows; t0 += g->slot_rows) {
        const int64_t r = DP_MIN(g->slot_rows, n_rows - t0);
        int64_t np = 0, sim = g->fill;
        for (int64_t o = 0; o < r;) { /* runs of rows of one block (counted from the first row) */
            const int64_t c = DP_MIN(r - o, R - sim);
            DP_ASSERT(np < g->max_pieces);
            g->pieces[np++] = (dp__cu_piece){o, c, 0};
            o += c;
            sim = (sim + c) % R;
        }
        int32_t slot;
        DP_TRY(dp__cu_ring_acquire(&g->ring, &slot, err));
        dp__cu_ring_stage(&g->ring, slot, bt, t0, r, g->pieces, np, g->cnt, g->pool);
        DP_TRY(dp__cu_ring_upload(&g->ring, g->ctx, slot, r, err));
        const double *x = g->ring.dev + (size_t) slot * (size_t) g->slot_rows * (size_t) p;
        for (int64_t k = 0; k < np; k++) {
            const dp__cu_piece *pc = &g->pieces[k];
            const int64_t f0 = g->fill;
            DP_TRY(DP_CU(err, dp__k_fg_features(g->ctx->compute, x + pc->off, r, pc->rows, p,
                                                g->cols, g->cols + p, g->values, g->u0, g->slope,
                                                g->kvz, g->kvu, g->mf, g->rw, g->rb, g->rpilot,
                                                pr->f, ph->G != NULL ? ph->G + f0 : NULL,
                                                pr->G != NULL ? pr->G + f0 : NULL, R,
                                                ph->mis != NULL ? ph->mis + f0 : NULL,
                                                pr->mis != NULL ? pr->mis + f0 : NULL)));
            for (int i = 0; i < 2; i++) {
                dp__cu_fgpart *pt = &g->part[i];
                if (pt->f == 0)
                    continue;
                for (int64_t j = 0; j < p; j++) {
                    const int64_t *c = g->cnt + (k * p + j) * 2;
                    pt->blk_miss[j] +=
                        dp_cm_missing_count(&g->hcols[i * p + j], pc->rows, c[0], c[1]);
                }
            }
            g->fill += pc->rows;
            g->n_rows += pc->rows;
            if (g->fill == R)
                DP_TRY(dp__fg_process(g, err));
        }
        DP_TRY(dp__cu_ring_release(&g->ring, g->ctx, slot, err));
    }
    return DP_OK;
}

dp_status dp_cuda_featgram_store(dp_cuda_featgram *g, dp_featgram *host, dp_error *err) {
    dp_cuda_ctx *ctx = g->ctx;
    const int64_t p = g->p, R = g->R;
    if (dp_featgram_columns(host) != p || dp_featgram_get_config(host)->block_rows != R)
        return dp_error_set(err, DP_INVALID_ARG,
                            "pass-4 accumulator (GPU): the host accumulator has another shape");
    DP_TRY(dp__cu_ring_drain(&g->ring, ctx, err));
    for (int i = 0; i < 2; i++)
        if (g->part[i].f > 0)
            DP_TRY(dp__fg_fold(g, &g->part[i], err));
    dp__featgram_raw raw;
    DP_TRY(dp__featgram_raw_get(host, g->part[0].t_used || g->part[1].t_used, &raw, err));
    for (int i = 0; i < 2; i++) {
        dp__cu_fgpart *pt = &g->part[i];
        dp__featgram_raw_part *o = &raw.part[i];
        if (pt->f == 0)
            continue;
        const size_t N = (size_t) pt->N, pp = (size_t) p, f = (size_t) pt->f;
        DP_TRY(dp__cu_d2h(ctx, o->S, pt->S, N * N * sizeof(double), err));
        DP_TRY(dp__cu_d2h(ctx, o->s, pt->s, N * sizeof(double), err));
        if (o->T != NULL)
            DP_TRY(dp__cu_d2h(ctx, o->T, pt->T, N * pp * sizeof(double), err));
        DP_TRY(dp__cu_d2h(ctx, o->MM, pt->MM, pp * pp * sizeof(double), err));
        if (g->nq > 0) {
            DP_TRY(dp__cu_d2h(ctx, o->shS, pt->shS, (size_t) g->nq * f * f * sizeof(double), err));
            DP_TRY(dp__cu_d2h(ctx, o->sh_obs, pt->obs, (size_t) g->nq * sizeof(int64_t), err));
            memcpy(o->sh_rows, pt->sh_rows, (size_t) g->nq * sizeof(int64_t));
        }
        memcpy(o->miss, pt->miss, pp * sizeof(int64_t));
        memcpy(o->blk_miss, pt->blk_miss, pp * sizeof(int64_t));
        if (g->fill > 0) {
            DP_TRY(dp__cu_copy2d(ctx, o->G, (size_t) R * 8, pt->G, (size_t) R * 8,
                                 (size_t) g->fill * 8, N, false, err));
            DP_TRY(dp__cu_copy2d(ctx, o->mis, (size_t) R, pt->mis, (size_t) R, (size_t) g->fill, pp,
                                 false, err));
        }
    }
    raw.n_rows = g->n_rows;
    raw.fill = g->fill;
    return dp__featgram_raw_commit(host, &raw, err);
}

dp_status dp_cuda_featgram_load(dp_cuda_featgram *g, dp_featgram *host, dp_error *err) {
    dp_cuda_ctx *ctx = g->ctx;
    const int64_t p = g->p, R = g->R;
    if (dp_featgram_columns(host) != p || dp_featgram_get_config(host)->block_rows != R)
        return dp_error_set(err, DP_INVALID_ARG,
                            "pass-4 accumulator (GPU): the host accumulator has another shape");
    DP_TRY(dp__cu_ring_drain(&g->ring, ctx, err));
    dp__featgram_raw raw;
    DP_TRY(dp__featgram_raw_get(host, false, &raw, err));
    for (int i = 0; i < 2; i++) {
        dp__cu_fgpart *pt = &g->part[i];
        const dp__featgram_raw_part *o = &raw.part[i];
        if (pt->f == 0)
            continue;
        const size_t N = (size_t) pt->N, pp = (size_t) p, f = (size_t) pt->f;
        DP_TRY(dp__cu_h2d(ctx, pt->S, o->S, N * N * sizeof(double), err));
        if (pt->Sd != NULL)
            DP_TRY(DP_CU(err, dp__k_diag_blocks(ctx->compute, pt->S, pt->N, pt->f, p, pt->Sd, 0)));
        DP_TRY(dp__cu_h2d(ctx, pt->s, o->s, N * sizeof(double), err));
        if (o->T != NULL)
            DP_TRY(dp__cu_h2d(ctx, pt->T, o->T, N * pp * sizeof(double), err));
        else
            DP_TRY(DP_CU(err, cudaMemsetAsync(pt->T, 0, N * pp * sizeof(double), ctx->compute)));
        pt->t_used = o->T != NULL;
        DP_TRY(dp__cu_h2d(ctx, pt->MM, o->MM, pp * pp * sizeof(double), err));
        if (g->nq > 0) {
            DP_TRY(dp__cu_h2d(ctx, pt->shS, o->shS, (size_t) g->nq * f * f * sizeof(double), err));
            DP_TRY(dp__cu_h2d(ctx, pt->obs, o->sh_obs, (size_t) g->nq * sizeof(int64_t), err));
            memcpy(pt->sh_rows, o->sh_rows, (size_t) g->nq * sizeof(int64_t));
        }
        memcpy(pt->miss, o->miss, pp * sizeof(int64_t));
        memcpy(pt->blk_miss, o->blk_miss, pp * sizeof(int64_t));
        if (raw.fill > 0) {
            DP_TRY(dp__cu_copy2d(ctx, pt->G, (size_t) R * 8, o->G, (size_t) R * 8,
                                 (size_t) raw.fill * 8, N, true, err));
            DP_TRY(dp__cu_copy2d(ctx, pt->mis, (size_t) R, o->mis, (size_t) R, (size_t) raw.fill,
                                 pp, true, err));
        }
        pt->fold = 0;
    }
    g->n_rows = raw.n_rows;
    g->fill = raw.fill;
    return DP_CU(err, cudaStreamSynchronize(ctx->compute));
}

void dp_cuda_featgram_get_stats(const dp_cuda_featgram *g, dp_cuda_stats *out) {
    *out = g->ring.st;
    out->rows = g->n_rows;
    out->blocks = g->blocks;
    out->flops = g->flops;
}

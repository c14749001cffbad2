/* Pairwise-complete Gram accumulator; numerics and determinism rules in dp_gram.h. */
#include "accum/dp_gram.h"
#include "util/dp_alloc.h"
#include "util/dp_serial.h"

#include <math.h>
#include <string.h>

#define DP_GRAM_MAGIC   0x52475044u /* "DPGR" */
#define DP_GRAM_VERSION 1u
/* Largest block accepted from a serialised record (the default never exceeds 4096). */
#define DP_GRAM_MAX_BLOCK_ROWS ((int64_t) 1 << 20)
/* Narrowest chunk of missing columns handled per gemm when only some columns are missing. */
#define DP_GRAM_CHUNK_MIN 512
/* A block's missing-value products go the sparse way when at most this fraction of its W
 * (partial rows x missing columns) is 1: the sparse updates cost ~3 p vector-lane operations per
 * missing value, the dense gemms 4 k p m + k m^2 flops at BLAS speed. Measured crossover with
 * bench_gram --miss (CPU seconds, AVX-512 OpenBLAS, 2 cores): ~0.2-0.25 at p = 200, ~0.35-0.4 at
 * p = 1500. Overridable at compile time for such experiments only. */
#ifndef DP_GRAM_SPARSE_DENSITY
#define DP_GRAM_SPARSE_DENSITY 0.2
#endif
/* Bytes of one slice of the z rows in the sparse path (slice entries x block rows x 8): about
 * half an L2, so that the slice of every row stays cached while all columns sum from it. */
#define DP_GRAM_SPARSE_SLICE_BYTES (1 << 20)

struct dp_gram {
    int64_t p;
    dp_gram_missing mode;
    int64_t b; /* block rows */
    dp_backend *be;
    double *K;      /* p pilot centres */
    double *impute; /* p, IMPUTE mode only */

    int64_t n;      /* rows processed into the sums */
    int64_t *nmiss; /* p missing counts (pairwise) */
    double *zs;     /* p sums of z over valid rows */
    double *zq;     /* p sums of z^2 */
    double *Q;      /* p x p, upper triangle */
    double *Sc;     /* p x p: Sc[j*p+i] = sum of z_i over rows where j is missing (lazy) */
    double *SSc;    /* p x p: same for z_i^2 (lazy) */
    double *Nc;     /* p x p upper: rows where both are missing (lazy) */

    double *blk;        /* b x p (ld b): z of the pending rows, NaN = missing */
    int64_t blk_rows;   /* rows in the pending block */
    int64_t *blk_cmiss; /* p: missing values per column in the pending block (pairwise) */
    int64_t blk_miss;   /* their total */
    int64_t blk_index;  /* global block index of the pending rows; -1 = none */
    int64_t next_row;   /* rows must start at or after this global index */
    int64_t rows_seen;  /* rows passed to update (processed + pending) */
    dp_gram_stats stats;

    /* scratch for blocks with missing values (lazy) */
    int64_t chunk; /* columns per temporary chunk */
    double *zr;    /* k x p z of the partial rows (dense path; sparse path: row-major) */
    double *z2r;   /* k x p their squares (dense path) */
    double *wr;    /* k x m missing indicators of partial rows, missing columns (dense path) */
    double *tmp;   /* p x max(chunk, 2) */
    int64_t *ridx; /* b partial row indices (some but not all values missing) */
    int64_t *cidx; /* p missing column indices */
    int32_t *rcnt; /* b per-row missing counts in the block */
    /* sparse pattern of W (see dp__mask_products_sparse); nnz <= density * b * p < nnz_cap */
    int64_t nnz_cap;
    int32_t *colptr, *rowlist; /* CSC: p + 1, b * p (every missing value of a block) */
    int32_t *rowptr, *collist; /* CSR: b + 1, nnz_cap */
};

int64_t dp_gram_default_block_rows(int64_t p) {
    int64_t b = 4096;
    while (b > 512 && b * (p < 1 ? 1 : p) * 8 > ((int64_t) 16 << 20))
        b /= 2;
    return b;
}

static size_t dp__mat_bytes(int64_t p) {
    size_t out;
    if (!dp_mul_size((size_t) p, (size_t) p, &out) || !dp_mul_size(out, sizeof(double), &out))
        return SIZE_MAX;
    return out;
}

static int64_t dp__chunk_width(int64_t p, int64_t b) {
    int64_t c = DP_MAX(b, DP_GRAM_CHUNK_MIN);
    return DP_MIN(c, p);
}

size_t dp_gram_estimate(int64_t p, dp_gram_missing mode) {
    if (p < 1 || p > DP_GRAM_MAX_COLS)
        return SIZE_MAX;
    int64_t b = dp_gram_default_block_rows(p);
    size_t mat = dp__mat_bytes(p);
    size_t blk = (size_t) b * (size_t) p * sizeof(double);
    size_t vec = (size_t) p * 8 * 8 + (size_t) b * 9 + sizeof(struct dp_gram);
    size_t sparse = ((size_t) (DP_GRAM_SPARSE_DENSITY * (double) p * (double) b) + 1) * 4 +
                    (size_t) p * (size_t) b * 4 + ((size_t) p + (size_t) b + 2) * 4 +
                    (size_t) b * 4;
    size_t total = mat + blk + vec;
    if (mode == DP_GRAM_PAIRWISE) {
        size_t chunk = (size_t) p * (size_t) dp__chunk_width(p, b) * sizeof(double);
        total += 3 * mat + 3 * blk + chunk + sparse + (size_t) p * 2 * sizeof(double);
    }
    return total;
}

size_t dp_gram_sizeof(const dp_gram *g) {
    if (g == NULL)
        return 0;
    size_t mat = dp__mat_bytes(g->p);
    size_t blk = (size_t) g->b * (size_t) g->p * sizeof(double);
    size_t total = sizeof *g + mat + blk + (size_t) g->p * 8 * 6;
    if (g->Sc != NULL)
        total += 3 * mat;
    if (g->zr != NULL) /* buffers of dp__ensure_scratch */
        total += 3 * blk + (size_t) g->p * (size_t) DP_MAX(g->chunk, 2) * sizeof(double) +
                 (size_t) g->b * (8 + 4) + (size_t) g->p * 8 + (size_t) g->nnz_cap * 4 +
                 (size_t) g->p * (size_t) g->b * 4 + ((size_t) g->p + (size_t) g->b + 2) * 4;
    return total;
}

void dp_gram_free(dp_gram *g) {
    if (g == NULL)
        return;
    dp_free(g->K);
    dp_free(g->impute);
    dp_free(g->nmiss);
    dp_free(g->zs);
    dp_free(g->zq);
    dp_free(g->Q);
    dp_free(g->Sc);
    dp_free(g->SSc);
    dp_free(g->Nc);
    dp_free(g->blk);
    dp_free(g->blk_cmiss);
    dp_free(g->zr);
    dp_free(g->z2r);
    dp_free(g->wr);
    dp_free(g->tmp);
    dp_free(g->ridx);
    dp_free(g->cidx);
    dp_free(g->rcnt);
    dp_free(g->colptr);
    dp_free(g->rowlist);
    dp_free(g->rowptr);
    dp_free(g->collist);
    dp_free(g);
}

/* Allocate everything but the lazy matrices; values zeroed. */
static dp_status dp__gram_alloc(int64_t p, dp_gram_missing mode, int64_t b, dp_backend *be,
                                dp_gram **out, dp_error *err) {
    dp_status st = DP_OK;
    dp_gram *g = dp_calloc(1, sizeof *g);
    if (g == NULL)
        DP_FAIL(err, DP_NOMEM, "gram: out of memory");
    g->p = p;
    g->mode = mode;
    g->b = b;
    g->be = be;
    g->blk_index = -1;
    g->chunk = dp__chunk_width(p, b);
    size_t pp = (size_t) p, bb = (size_t) b;
    g->K = dp_calloc(pp, sizeof(double));
    g->zs = dp_calloc(pp, sizeof(double));
    g->zq = dp_calloc(pp, sizeof(double));
    g->Q = dp_calloc(pp * pp, sizeof(double));
    g->blk = dp_mallocarray(pp * bb, sizeof(double));
    if (g->K == NULL || g->zs == NULL || g->zq == NULL || g->Q == NULL || g->blk == NULL)
        DP_FAIL(err, DP_NOMEM, "gram: out of memory for p=%lld (%zu bytes per matrix)",
                (long long) p, dp__mat_bytes(p));
    if (mode == DP_GRAM_IMPUTE) {
        g->impute = dp_calloc(pp, sizeof(double));
        if (g->impute == NULL)
            DP_FAIL(err, DP_NOMEM, "gram: out of memory");
    } else {
        g->nmiss = dp_calloc(pp, sizeof(int64_t));
        g->blk_cmiss = dp_calloc(pp, sizeof(int64_t));
        if (g->nmiss == NULL || g->blk_cmiss == NULL)
            DP_FAIL(err, DP_NOMEM, "gram: out of memory");
    }
    *out = g;
    g = NULL;
cleanup:
    dp_gram_free(g);
    return st;
}

dp_status dp_gram_create(int64_t p, const double *centre, const dp_gram_options *opts,
                         dp_backend *backend, dp_gram **out, dp_error *err) {
    dp_status st = DP_OK;
    dp_gram *g = NULL;
    *out = NULL;
    dp_gram_options o = {DP_GRAM_PAIRWISE, 0, NULL};
    if (opts != NULL)
        o = *opts;
    if (p < 1 || p > DP_GRAM_MAX_COLS)
        DP_FAIL(err, DP_INVALID_ARG, "gram: p=%lld outside [1, %lld]", (long long) p,
                (long long) DP_GRAM_MAX_COLS);
    if (centre == NULL || backend == NULL)
        DP_FAIL(err, DP_INVALID_ARG, "gram: centre and backend are required");
    if (o.missing != DP_GRAM_PAIRWISE && o.missing != DP_GRAM_IMPUTE)
        DP_FAIL(err, DP_INVALID_ARG, "gram: unknown missing mode %d", (int) o.missing);
    if (o.block_rows == 0)
        o.block_rows = dp_gram_default_block_rows(p);
    if (o.block_rows < 1 || o.block_rows > DP_GRAM_MAX_BLOCK_ROWS || o.block_rows * p > INT32_MAX)
        DP_FAIL(err, DP_INVALID_ARG,
                "gram: block_rows=%lld outside [1, %lld] or block_rows * p > 2^31 - 1",
                (long long) o.block_rows, (long long) DP_GRAM_MAX_BLOCK_ROWS);
    for (int64_t j = 0; j < p; j++) {
        if (!isfinite(centre[j]))
            DP_FAIL(err, DP_INVALID_ARG, "gram: centre of column %lld is not finite (%g)",
                    (long long) j, centre[j]);
        if (o.missing == DP_GRAM_IMPUTE && o.impute != NULL && !isfinite(o.impute[j]))
            DP_FAIL(err, DP_INVALID_ARG, "gram: impute value of column %lld is not finite",
                    (long long) j);
    }
    DP_CHECK(dp__gram_alloc(p, o.missing, o.block_rows, backend, &g, err));
    memcpy(g->K, centre, (size_t) p * sizeof(double));
    if (o.missing == DP_GRAM_IMPUTE && o.impute != NULL)
        memcpy(g->impute, o.impute, (size_t) p * sizeof(double));
    *out = g;
    g = NULL;
cleanup:
    dp_gram_free(g);
    return st;
}

int64_t dp_gram_rows(const dp_gram *g) {
    return g->rows_seen;
}
int64_t dp_gram_cols(const dp_gram *g) {
    return g->p;
}
dp_gram_missing dp_gram_mode(const dp_gram *g) {
    return g->mode;
}
int64_t dp_gram_block_rows(const dp_gram *g) {
    return g->b;
}
void dp_gram_get_stats(const dp_gram *g, dp_gram_stats *out) {
    *out = g->stats;
}

/* ---- block processing ------------------------------------------------------------------ */

static dp_status dp__ensure_mask_mats(dp_gram *g, dp_error *err) {
    if (g->Sc != NULL)
        return DP_OK;
    size_t pp = (size_t) g->p;
    g->Sc = dp_calloc(pp * pp, sizeof(double));
    g->SSc = dp_calloc(pp * pp, sizeof(double));
    g->Nc = dp_calloc(pp * pp, sizeof(double));
    if (g->Sc == NULL || g->SSc == NULL || g->Nc == NULL) {
        dp_free(g->Sc);
        dp_free(g->SSc);
        dp_free(g->Nc);
        g->Sc = g->SSc = g->Nc = NULL;
        return dp_error_set(err, DP_NOMEM,
                            "gram: out of memory for the missing-value sums (3 x %zu bytes)",
                            dp__mat_bytes(g->p));
    }
    return DP_OK;
}

static dp_status dp__ensure_scratch(dp_gram *g, dp_error *err) {
    if (g->zr != NULL)
        return DP_OK;
    size_t pp = (size_t) g->p, bb = (size_t) g->b;
    size_t nnz = (size_t) (DP_GRAM_SPARSE_DENSITY * (double) pp * (double) bb) + 1;
    g->nnz_cap = (int64_t) nnz;
    g->zr = dp_mallocarray(pp * bb, sizeof(double));
    g->z2r = dp_mallocarray(pp * bb, sizeof(double));
    g->wr = dp_mallocarray(pp * bb, sizeof(double));
    g->tmp = dp_mallocarray(pp * (size_t) DP_MAX(g->chunk, 2), sizeof(double));
    g->ridx = dp_mallocarray(bb, sizeof(int64_t));
    g->cidx = dp_mallocarray(pp, sizeof(int64_t));
    g->rcnt = dp_mallocarray(bb, sizeof(int32_t));
    g->colptr = dp_mallocarray(pp + 1, sizeof(int32_t));
    g->rowlist = dp_mallocarray(pp * bb, sizeof(int32_t));
    g->rowptr = dp_mallocarray(bb + 1, sizeof(int32_t));
    g->collist = dp_mallocarray(nnz, sizeof(int32_t));
    if (g->zr == NULL || g->z2r == NULL || g->wr == NULL || g->tmp == NULL || g->ridx == NULL ||
        g->cidx == NULL || g->rcnt == NULL || g->colptr == NULL || g->rowlist == NULL ||
        g->rowptr == NULL || g->collist == NULL) {
        dp_free(g->zr), dp_free(g->z2r), dp_free(g->wr), dp_free(g->tmp);
        dp_free(g->ridx), dp_free(g->cidx), dp_free(g->rcnt);
        dp_free(g->colptr), dp_free(g->rowlist), dp_free(g->rowptr), dp_free(g->collist);
        g->zr = g->z2r = g->wr = g->tmp = NULL;
        g->ridx = g->cidx = NULL;
        g->rcnt = g->colptr = g->rowlist = g->rowptr = g->collist = NULL;
        return dp_error_set(err, DP_NOMEM, "gram: out of memory for block scratch");
    }
    return DP_OK;
}

/* Sc[:, cols] += Zr^T Wr and SSc likewise, through the backend, in column chunks. */
static dp_status dp__mask_products(dp_gram *g, int64_t k, int64_t m, dp_error *err) {
    dp_backend *be = g->be;
    int64_t p = g->p;
    if (m == p) { /* every column has a missing value: accumulate in place, no scatter */
        DP_TRY(be->gemm_tn(be, p, p, k, 1.0, g->zr, k, g->wr, k, 1.0, g->Sc, p, err));
        DP_TRY(be->gemm_tn(be, p, p, k, 1.0, g->z2r, k, g->wr, k, 1.0, g->SSc, p, err));
        DP_TRY(be->syrk_tn(be, p, k, 1.0, g->wr, k, 1.0, g->Nc, p, err));
        return DP_OK;
    }
    const int64_t *cidx = g->cidx;
    double *tmp = g->tmp;
    for (int64_t c0 = 0; c0 < m; c0 += g->chunk) {
        int64_t cw = DP_MIN(g->chunk, m - c0);
        const double *w = g->wr + c0 * k;
        DP_TRY(be->gemm_tn(be, p, cw, k, 1.0, g->zr, k, w, k, 0.0, tmp, p, err));
        for (int64_t c = 0; c < cw; c++) {
            double *dst = g->Sc + cidx[c0 + c] * p;
            const double *src = tmp + c * p;
            for (int64_t i = 0; i < p; i++)
                dst[i] += src[i];
        }
        DP_TRY(be->gemm_tn(be, p, cw, k, 1.0, g->z2r, k, w, k, 0.0, tmp, p, err));
        for (int64_t c = 0; c < cw; c++) {
            double *dst = g->SSc + cidx[c0 + c] * p;
            const double *src = tmp + c * p;
            for (int64_t i = 0; i < p; i++)
                dst[i] += src[i];
        }
    }
    /* Nc[M, M] upper: chunk pairs I <= J; cidx ascending, so chunk I's indices precede J's. */
    for (int64_t j0 = 0; j0 < m; j0 += g->chunk) {
        int64_t cj = DP_MIN(g->chunk, m - j0);
        for (int64_t i0 = 0; i0 <= j0; i0 += g->chunk) {
            int64_t ci = DP_MIN(g->chunk, m - i0);
            if (i0 == j0)
                DP_TRY(be->syrk_tn(be, cj, k, 1.0, g->wr + j0 * k, k, 0.0, tmp, cj, err));
            else
                DP_TRY(be->gemm_tn(be, ci, cj, k, 1.0, g->wr + i0 * k, k, g->wr + j0 * k, k, 0.0,
                                   tmp, ci, err));
            for (int64_t b = 0; b < cj; b++) {
                double *dst = g->Nc + cidx[j0 + b] * p;
                int64_t alim = (i0 == j0) ? b + 1 : ci;
                for (int64_t a = 0; a < alim; a++)
                    dst[cidx[i0 + a]] += tmp[b * ci + a];
            }
        }
    }
    return DP_OK;
}

/* dst_s[i] += sum over e of z[rows[e]][i], dst_q[i] += the same of squares, for i < iw, where
 * z[r] = base + r * ld: the inner loop of the sparse path. Each sum runs over the rows in list
 * order starting from 0, kept in registers for 8 entries at a time, then is added to dst.
 * Written with GCC vector types and cloned for AVX2 because the portable -O2 build does not
 * vectorise it; every lane does the same IEEE operations as the scalar tail (ISO C mode: no FMA
 * contraction), so every clone gives the same bits. */
typedef double dp_v4d __attribute__((vector_size(32), aligned(8), may_alias));

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target_clones("avx2", "default")))
#endif
static void
dp__sum_rows(int64_t iw, const double *base, int64_t ld, const int32_t *rows, int32_t nr,
             double *restrict dst_s, double *restrict dst_q) {
    int64_t i = 0;
    for (; i + 8 <= iw; i += 8) {
        dp_v4d s0 = {0, 0, 0, 0}, s1 = s0, q0 = s0, q1 = s0;
        for (int32_t e = 0; e < nr; e++) {
            const double *x = base + (int64_t) rows[e] * ld + i;
            dp_v4d v0 = *(const dp_v4d *) x, v1 = *(const dp_v4d *) (x + 4);
            s0 += v0;
            s1 += v1;
            q0 += v0 * v0;
            q1 += v1 * v1;
        }
        *(dp_v4d *) (dst_s + i) += s0;
        *(dp_v4d *) (dst_s + i + 4) += s1;
        *(dp_v4d *) (dst_q + i) += q0;
        *(dp_v4d *) (dst_q + i + 4) += q1;
    }
    for (; i < iw; i++) {
        double sv = 0, qv = 0;
        for (int32_t e = 0; e < nr; e++) {
            double v = base[(int64_t) rows[e] * ld + i];
            sv += v;
            qv += v * v;
        }
        dst_s[i] += sv;
        dst_q[i] += qv;
    }
}

/* dst[t] = src[t] - K for finite src[t], else miss; returns the number of non-finite values.
 * (v - v == 0 exactly when v is finite; the select is done on the bits.) Same bits as the
 * scalar form in every clone. */
typedef long long dp_v4i __attribute__((vector_size(32), aligned(8), may_alias));

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target_clones("avx2", "default")))
#endif
static int64_t
dp__copy_centred(int64_t n, const double *restrict src, double *restrict dst, double K,
                 double miss) {
    dp_v4d kv = {K, K, K, K}, mv = {miss, miss, miss, miss};
    dp_v4i fin_count = {0, 0, 0, 0};
    int64_t t = 0;
    for (; t + 4 <= n; t += 4) {
        dp_v4d v = *(const dp_v4d *) (src + t);
        dp_v4i fin = (v - v) == 0; /* lanes: -1 finite, 0 not */
        dp_v4i bits = ((dp_v4i) (v - kv) & fin) | ((dp_v4i) mv & ~fin);
        *(dp_v4d *) (dst + t) = (dp_v4d) bits;
        fin_count -= fin;
    }
    int64_t nm = t - (fin_count[0] + fin_count[1] + fin_count[2] + fin_count[3]);
    for (; t < n; t++) {
        double v = src[t];
        bool ok = isfinite(v);
        dst[t] = ok ? v - K : miss;
        nm += !ok;
    }
    return nm;
}

/* Sum and sum of squares of x[0..n) in four lanes by position (then lanes pairwise, then the
 * tail): faster than one dependent chain, and fixed by n alone. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target_clones("avx2", "default")))
#endif
static void
dp__col_sums(int64_t n, const double *restrict x, double *s, double *q) {
    dp_v4d s4 = {0, 0, 0, 0}, q4 = {0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        dp_v4d v = *(const dp_v4d *) (x + i);
        s4 += v;
        q4 += v * v;
    }
    double st = 0, qt = 0;
    for (; i < n; i++) {
        st += x[i];
        qt += x[i] * x[i];
    }
    *s = ((s4[0] + s4[1]) + (s4[2] + s4[3])) + st;
    *q = ((q4[0] + q4[1]) + (q4[2] + q4[3])) + qt;
}

/* Sparse form of the missing-value products, for blocks whose indicator W (partial rows x
 * missing columns) is at most DP_GRAM_SPARSE_DENSITY full: Sc[:, j] += sum of the z rows where j
 * is missing, SSc likewise with z^2, Nc[a, b] += 1 for each pair of columns missing in a row.
 * Cost p * nnz(W) instead of the dense gemms' k * p * m. g->zr holds the block's z row-major
 * (p per row); the pattern is in the CSC (colptr/rowlist over cidx) and CSR (rowptr/collist)
 * lists, both indexed by block row, built by the caller. */
static void dp__mask_products_sparse(dp_gram *g, int64_t k, int64_t m) {
    int64_t p = g->p;
    /* Slices of 8..128 entries of every z row: a slice of all the block's rows stays in L2
     * while every missing column sums its rows from it (each entry's sum is in the same order
     * as without slicing, so the slice width does not change any bit). */
    int64_t rows = g->blk_rows, slice = DP_GRAM_SPARSE_SLICE_BYTES / (8 * DP_MAX(rows, 1));
    slice = DP_MAX(8, DP_MIN(128, slice / 8 * 8));
    for (int64_t i0 = 0; i0 < p; i0 += slice) {
        int64_t iw = DP_MIN(slice, p - i0);
        for (int64_t c = 0; c < m; c++) {
            int64_t j = g->cidx[c];
            dp__sum_rows(iw, g->zr + i0, p, g->rowlist + g->colptr[c],
                         g->colptr[c + 1] - g->colptr[c], g->Sc + j * p + i0, g->SSc + j * p + i0);
        }
    }
    /* Nc[:, j] (one contiguous column, cache-resident) += the indicator rows where j is missing,
     * upper triangle only; counts are integers, so the order of the increments is immaterial */
    for (int64_t c = 0; c < m; c++) {
        int64_t j = g->cidx[c];
        double *dst = g->Nc + j * p;
        for (int32_t e = g->colptr[c]; e < g->colptr[c + 1]; e++) {
            int32_t r = g->rowlist[e];
            for (int32_t q = g->rowptr[r]; q < g->rowptr[r + 1]; q++) {
                int32_t a = g->collist[q];
                if (a > j)
                    break; /* columns ascend within a row */
                dst[a] += 1.0;
            }
        }
    }
    (void) k;
}

static dp_status dp__process_block(dp_gram *g, dp_error *err) {
    int64_t rows = g->blk_rows;
    if (rows == 0)
        return DP_OK;
    int64_t p = g->p, ld = g->b;
    double *blk = g->blk;
    int64_t k = 0, m = 0, nfull = 0, nnz = 0;
    bool sparse = false;
    if (g->mode == DP_GRAM_PAIRWISE && g->blk_miss > 0) {
        DP_TRY(dp__ensure_scratch(g, err));
        int32_t *rcnt = g->rcnt, *rowlist = g->rowlist, *colptr = g->colptr;
        int64_t *cidx = g->cidx;
        /* One pass over the columns that have missing values: the pattern W as CSC (block rows
         * per column), missing counts per row, and missing z -> 0. */
        memset(rcnt, 0, (size_t) rows * sizeof(int32_t));
        int32_t e = 0;
        for (int64_t j = 0; j < p; j++) {
            if (g->blk_cmiss[j] == 0)
                continue;
            double *col = blk + j * ld;
            cidx[m] = j;
            colptr[m++] = e;
            for (int64_t t = 0; t < rows; t++)
                if (isnan(col[t])) {
                    rowlist[e++] = (int32_t) t;
                    rcnt[t]++;
                    col[t] = 0.0;
                }
        }
        colptr[m] = e;
        /* A row missing in every column adds exactly 0 to every pair sum (to n, each nmiss and
         * each Nc alike): leave it out. Partial rows are the ones the mask products need. */
        for (int64_t t = 0; t < rows; t++) {
            if (rcnt[t] == p)
                nfull++;
            else if (rcnt[t] > 0) {
                g->ridx[k++] = t;
                nnz += rcnt[t];
            }
        }
        if (nfull > 0) { /* drop the full rows from the pattern (and columns left empty) */
            int64_t m2 = 0;
            int32_t e2 = 0;
            for (int64_t c = 0; c < m; c++) {
                int32_t start = e2;
                for (int32_t q = colptr[c]; q < colptr[c + 1]; q++)
                    if (rcnt[rowlist[q]] < p)
                        rowlist[e2++] = rowlist[q];
                if (e2 > start) {
                    cidx[m2] = cidx[c];
                    colptr[m2++] = start;
                }
            }
            m = m2;
            colptr[m] = e2;
        }
        for (int64_t j = 0; j < p; j++)
            if (g->blk_cmiss[j] > 0) {
                g->nmiss[j] += g->blk_cmiss[j] - nfull;
                g->blk_cmiss[j] = 0;
            }
        g->blk_miss = 0;
        if (k > 0) {
            DP_TRY(dp__ensure_mask_mats(g, err));
            sparse = (double) nnz <= DP_GRAM_SPARSE_DENSITY * (double) k * (double) m;
        }
        DP_ASSERT(!sparse || nnz < g->nnz_cap);
        if (k > 0 && sparse) {
            /* z of all block rows, row-major (16-column tiles keep the reads cache-friendly),
             * and W as CSR (columns per block row) by transposing the CSC */
            for (int64_t j0 = 0; j0 < p; j0 += 16) {
                int64_t j1 = DP_MIN(p, j0 + 16);
                for (int64_t t = 0; t < rows; t++) {
                    double *zt = g->zr + t * p;
                    for (int64_t j = j0; j < j1; j++)
                        zt[j] = blk[j * ld + t];
                }
            }
            int32_t *rowptr = g->rowptr, *fill = rcnt; /* row counts are no longer needed */
            memset(rowptr, 0, ((size_t) rows + 1) * sizeof(int32_t));
            for (int32_t q = 0; q < colptr[m]; q++)
                rowptr[rowlist[q] + 1]++;
            for (int64_t t = 0; t < rows; t++)
                rowptr[t + 1] += rowptr[t];
            memcpy(fill, rowptr, (size_t) rows * sizeof(int32_t));
            for (int64_t c = 0; c < m; c++)
                for (int32_t q = colptr[c]; q < colptr[c + 1]; q++)
                    g->collist[fill[rowlist[q]]++] = (int32_t) cidx[c];
        } else if (k > 0) {
            for (int64_t j = 0; j < p; j++) {
                const double *col = blk + j * ld;
                double *zr = g->zr + j * k, *z2r = g->z2r + j * k;
                for (int64_t r = 0; r < k; r++) {
                    double v = col[g->ridx[r]];
                    zr[r] = v;
                    z2r[r] = v * v;
                }
            }
            int32_t *rloc = rcnt; /* block row -> partial-row index */
            for (int64_t r = 0; r < k; r++)
                rloc[g->ridx[r]] = (int32_t) r;
            memset(g->wr, 0, (size_t) k * (size_t) m * sizeof(double));
            for (int64_t c = 0; c < m; c++)
                for (int32_t q = colptr[c]; q < colptr[c + 1]; q++)
                    g->wr[c * k + rloc[rowlist[q]]] = 1.0;
        }
    }
    for (int64_t j = 0; j < p; j++) {
        double s, q;
        dp__col_sums(rows, blk + j * ld, &s, &q);
        g->zs[j] += s;
        g->zq[j] += q;
    }
    g->n += rows - nfull;
    g->stats.blocks++;
    g->stats.blocks_with_missing += k > 0;
    g->stats.blocks_sparse += k > 0 && sparse;
    g->stats.rows_all_missing += nfull;
    dp_backend *be = g->be;
    DP_TRY(be->syrk_tn(be, p, rows, 1.0, blk, ld, 1.0, g->Q, p, err));
    if (k > 0 && sparse)
        dp__mask_products_sparse(g, k, m);
    else if (k > 0)
        DP_TRY(dp__mask_products(g, k, m, err));
    g->blk_rows = 0;
    g->blk_index = -1;
    return DP_OK;
}

dp_status dp_gram_flush(dp_gram *g, dp_error *err) {
    return dp__process_block(g, err);
}

dp_status dp_gram_update_rows(dp_gram *g, const double *x, int64_t ld, int64_t n_rows,
                              int64_t row_offset, dp_error *err) {
    int64_t end;
    if (n_rows < 0 || row_offset < 0 || !dp_add_i64(row_offset, n_rows, &end))
        return dp_error_set(err, DP_INVALID_ARG, "gram: bad rows [%lld, +%lld)",
                            (long long) row_offset, (long long) n_rows);
    if (n_rows == 0)
        return DP_OK;
    if (ld < n_rows || x == NULL)
        return dp_error_set(err, DP_INVALID_ARG, "gram: ld=%lld < n_rows=%lld", (long long) ld,
                            (long long) n_rows);
    if (row_offset < g->next_row)
        return dp_error_set(err, DP_INVALID_ARG,
                            "gram: rows must arrive in increasing order: batch starts at row %lld "
                            "but rows up to %lld were already seen",
                            (long long) row_offset, (long long) g->next_row);
    int64_t p = g->p, b = g->b;
    bool impute = g->mode == DP_GRAM_IMPUTE;
    for (int64_t t0 = 0; t0 < n_rows;) {
        int64_t r = row_offset + t0;
        int64_t bi = r / b;
        if (g->blk_rows > 0 && bi != g->blk_index)
            DP_TRY(dp__process_block(g, err));
        g->blk_index = bi;
        int64_t cnt = DP_MIN(n_rows - t0, (bi + 1) * b - r);
        DP_ASSERT(g->blk_rows + cnt <= b);
        for (int64_t j = 0; j < p; j++) {
            const double *src = x + j * ld + t0;
            double *dst = g->blk + j * b + g->blk_rows;
            double K = g->K[j];
            double miss = impute ? g->impute[j] - K : NAN;
            int64_t nm = dp__copy_centred(cnt, src, dst, K, miss);
            if (!impute && nm > 0) {
                g->blk_cmiss[j] += nm;
                g->blk_miss += nm;
            }
        }
        g->blk_rows += cnt;
        t0 += cnt;
        if (g->blk_rows == b) /* every row of the block is here: same as processing it later */
            DP_TRY(dp__process_block(g, err));
    }
    g->next_row = end;
    g->rows_seen += n_rows;
    return DP_OK;
}

dp_status dp_gram_update(dp_gram *g, const dp_batch *b, dp_error *err) {
    if (b->n_cols != g->p)
        return dp_error_set(err, DP_INVALID_ARG, "gram: batch has %lld columns, expected %lld",
                            (long long) b->n_cols, (long long) g->p);
    return dp_gram_update_rows(g, b->values, b->ld, b->n_rows, b->row_offset, err);
}

/* ---- raw state (device backends) ----------------------------------------------------------- */

dp_status dp__gram_raw_get(dp_gram *g, bool with_mask, dp__gram_raw *out, dp_error *err) {
    memset(out, 0, sizeof *out);
    if (with_mask && g->mode == DP_GRAM_PAIRWISE)
        DP_TRY(dp__ensure_mask_mats(g, err));
    out->n = g->n;
    out->rows_seen = g->rows_seen;
    out->next_row = g->next_row;
    out->blk_index = g->blk_rows > 0 ? g->blk_index : -1;
    out->blk_rows = g->blk_rows;
    out->K = g->K;
    out->impute = g->impute;
    out->nmiss = g->nmiss;
    out->zs = g->zs;
    out->zq = g->zq;
    out->Q = g->Q;
    out->Sc = g->Sc;
    out->SSc = g->SSc;
    out->Nc = g->Nc;
    out->blk = g->blk;
    return DP_OK;
}

dp_status dp__gram_raw_commit(dp_gram *g, const dp__gram_raw *in, dp_error *err) {
    size_t pp = (size_t) g->p, b = (size_t) g->b;
    bool pairwise = g->mode == DP_GRAM_PAIRWISE;
    if (in->n < 0 || in->rows_seen < in->n || in->next_row < 0 || in->blk_rows < 0 ||
        in->blk_rows >= g->b || in->blk_index < -1 || (in->blk_rows > 0 && in->blk_index < 0))
        return dp_error_set(err, DP_CORRUPT,
                            "gram state: inconsistent (n=%lld, %lld rows seen, pending %lld rows "
                            "of block %lld)",
                            (long long) in->n, (long long) in->rows_seen, (long long) in->blk_rows,
                            (long long) in->blk_index);
    for (size_t j = 0; pairwise && j < pp; j++)
        if (g->nmiss[j] < 0 || g->nmiss[j] > in->n)
            return dp_error_set(err, DP_CORRUPT,
                                "gram state: column %zu has %lld missing of %lld rows", j,
                                (long long) g->nmiss[j], (long long) in->n);
    g->n = in->n;
    g->rows_seen = in->rows_seen;
    g->next_row = in->next_row;
    g->blk_rows = in->blk_rows;
    g->blk_index = in->blk_rows > 0 ? in->blk_index : -1;
    g->blk_miss = 0;
    for (size_t j = 0; pairwise && j < pp; j++) {
        g->blk_cmiss[j] = 0;
        for (int64_t t = 0; t < in->blk_rows; t++)
            g->blk_cmiss[j] += isnan(g->blk[j * b + (size_t) t]) ? 1 : 0;
        g->blk_miss += g->blk_cmiss[j];
    }
    return DP_OK;
}

/* ---- merge, finalize --------------------------------------------------------------------- */

dp_status dp_gram_merge(dp_gram *dst, dp_gram *src, dp_error *err) {
    if (dst->p != src->p || dst->mode != src->mode || dst->b != src->b)
        return dp_error_set(err, DP_INVALID_ARG,
                            "gram merge: shapes differ (p %lld vs %lld, mode %d vs %d, block rows "
                            "%lld vs %lld)",
                            (long long) dst->p, (long long) src->p, (int) dst->mode,
                            (int) src->mode, (long long) dst->b, (long long) src->b);
    size_t pp = (size_t) dst->p;
    if (memcmp(dst->K, src->K, pp * sizeof(double)) != 0 ||
        (dst->mode == DP_GRAM_IMPUTE && memcmp(dst->impute, src->impute, pp * sizeof(double)) != 0))
        return dp_error_set(err, DP_INVALID_ARG,
                            "gram merge: the parts were created with different centres or "
                            "impute values");
    DP_TRY(dp__process_block(dst, err));
    DP_TRY(dp__process_block(src, err));
    if (src->Sc != NULL)
        DP_TRY(dp__ensure_mask_mats(dst, err));
    for (size_t j = 0; j < pp; j++) {
        dst->zs[j] += src->zs[j];
        dst->zq[j] += src->zq[j];
        if (dst->nmiss != NULL)
            dst->nmiss[j] += src->nmiss[j];
    }
    for (size_t e = 0; e < pp * pp; e++)
        dst->Q[e] += src->Q[e];
    if (src->Sc != NULL)
        for (size_t e = 0; e < pp * pp; e++) {
            dst->Sc[e] += src->Sc[e];
            dst->SSc[e] += src->SSc[e];
            dst->Nc[e] += src->Nc[e];
        }
    dst->n += src->n;
    dst->rows_seen += src->rows_seen;
    dst->stats.blocks += src->stats.blocks;
    dst->stats.blocks_with_missing += src->stats.blocks_with_missing;
    dst->stats.blocks_sparse += src->stats.blocks_sparse;
    dst->stats.rows_all_missing += src->stats.rows_all_missing;
    dst->next_row = DP_MAX(dst->next_row, src->next_row);
    return DP_OK;
}

/* The four pair sums of METHODS §1.4 for i != j (see the header). */
typedef struct dp_pair_sums {
    double N, Sij, Sji, SSij, SSji;
} dp_pair_sums;

static dp_pair_sums dp__pair(const dp_gram *g, int64_t i, int64_t j) {
    int64_t p = g->p;
    dp_pair_sums s;
    int64_t lo = DP_MIN(i, j), hi = DP_MAX(i, j);
    s.N = (double) g->n;
    s.Sij = g->zs[i];
    s.Sji = g->zs[j];
    s.SSij = g->zq[i];
    s.SSji = g->zq[j];
    if (g->nmiss != NULL)
        s.N -= (double) (g->nmiss[i] + g->nmiss[j]);
    if (g->Sc != NULL) {
        s.N += g->Nc[hi * p + lo];
        s.Sij -= g->Sc[j * p + i];
        s.Sji -= g->Sc[i * p + j];
        s.SSij -= g->SSc[j * p + i];
        s.SSji -= g->SSc[i * p + j];
    }
    return s;
}

dp_status dp_gram_pair_counts(const dp_gram *g, double *N, dp_error *err) {
    (void) err;
    int64_t p = g->p;
    for (int64_t j = 0; j < p; j++) {
        N[j * p + j] = (double) (g->n - (g->nmiss != NULL ? g->nmiss[j] : 0));
        for (int64_t i = 0; i < j; i++) {
            double v = dp__pair(g, i, j).N;
            N[j * p + i] = v;
            N[i * p + j] = v;
        }
    }
    return DP_OK;
}

dp_status dp_gram_finalize(dp_gram *g, double *R, dp_error *err) {
    DP_TRY(dp__process_block(g, err));
    int64_t p = g->p;
    for (int64_t j = 0; j < p; j++)
        if (!isfinite(g->zq[j]) || !isfinite(g->Q[j * p + j]))
            return dp_error_set(err, DP_NUMERIC,
                                "gram: column %lld: sum of squared deviations from the centre "
                                "%g overflowed (values too large for float64 products)",
                                (long long) j, g->K[j]);
    for (int64_t j = 0; j < p; j++) {
        double nj = (double) (g->n - (g->nmiss != NULL ? g->nmiss[j] : 0));
        double v = nj > 0 ? g->zq[j] - g->zs[j] * g->zs[j] / nj : 0.0;
        R[j * p + j] = (nj >= 3 && v > DP_GRAM_VAR_RTOL * g->zq[j]) ? 1.0 : NAN;
        for (int64_t i = 0; i < j; i++) {
            dp_pair_sums s = dp__pair(g, i, j);
            double r = NAN;
            if (s.N >= 3) {
                double cov = g->Q[j * p + i] - s.Sij * s.Sji / s.N;
                double vi = s.SSij - s.Sij * s.Sij / s.N;
                double vj = s.SSji - s.Sji * s.Sji / s.N;
                if (vi > DP_GRAM_VAR_RTOL * s.SSij && vj > DP_GRAM_VAR_RTOL * s.SSji) {
                    r = cov / sqrt(vi * vj);
                    r = r > 1.0 ? 1.0 : (r < -1.0 ? -1.0 : r);
                }
            }
            R[j * p + i] = r;
            R[i * p + j] = r;
        }
    }
    /* A NaN diagonal makes the whole row and column undefined. */
    for (int64_t j = 0; j < p; j++)
        if (isnan(R[j * p + j]))
            for (int64_t i = 0; i < p; i++)
                R[j * p + i] = R[i * p + j] = NAN;
    return DP_OK;
}

/* ---- serialisation ----------------------------------------------------------------------- */

static void dp__sw_upper(dp_serial_writer *w, const double *A, int64_t p) {
    for (int64_t j = 0; j < p; j++)
        dp_sw_f64_array(w, A + j * p, (size_t) j + 1);
}

static bool dp__sr_upper(dp_serial_reader *r, double *A, int64_t p) {
    for (int64_t j = 0; j < p; j++)
        if (!dp_sr_f64_array(r, A + j * p, (size_t) j + 1))
            return false;
    return true;
}

dp_status dp_gram_serialize(const dp_gram *g, dp_buf *out, dp_error *err) {
    dp_serial_writer w;
    size_t pp = (size_t) g->p;
    dp_sw_begin(&w, out, DP_GRAM_MAGIC, DP_GRAM_VERSION);
    dp_sw_i64(&w, g->p);
    dp_sw_u32(&w, (uint32_t) g->mode);
    dp_sw_i64(&w, g->b);
    dp_sw_i64(&w, g->n);
    dp_sw_i64(&w, g->next_row);
    dp_sw_i64(&w, g->rows_seen);
    dp_sw_i64(&w, g->stats.blocks);
    dp_sw_i64(&w, g->stats.blocks_with_missing);
    dp_sw_i64(&w, g->stats.blocks_sparse);
    dp_sw_i64(&w, g->stats.rows_all_missing);
    dp_sw_f64_array(&w, g->K, pp);
    if (g->mode == DP_GRAM_IMPUTE)
        dp_sw_f64_array(&w, g->impute, pp);
    else
        dp_sw_i64_array(&w, g->nmiss, pp);
    dp_sw_f64_array(&w, g->zs, pp);
    dp_sw_f64_array(&w, g->zq, pp);
    dp__sw_upper(&w, g->Q, g->p);
    dp_sw_u8(&w, g->Sc != NULL ? 1 : 0);
    if (g->Sc != NULL) {
        dp_sw_f64_array(&w, g->Sc, pp * pp);
        dp_sw_f64_array(&w, g->SSc, pp * pp);
        dp__sw_upper(&w, g->Nc, g->p);
    }
    dp_sw_i64(&w, g->blk_index);
    dp_sw_i64(&w, g->blk_rows);
    for (int64_t j = 0; j < g->p; j++)
        dp_sw_f64_array(&w, g->blk + j * g->b, (size_t) g->blk_rows);
    return dp_sw_end(&w, err);
}

dp_status dp_gram_deserialize(const void *data, size_t len, dp_backend *backend, dp_gram **out,
                              size_t *consumed, dp_error *err) {
    dp_status st = DP_OK;
    dp_gram *g = NULL;
    dp_serial_reader r;
    *out = NULL;
    if (backend == NULL)
        DP_FAIL(err, DP_INVALID_ARG, "gram deserialize: backend is required");
    DP_CHECK(dp_sr_begin(&r, data, len, DP_GRAM_MAGIC, DP_GRAM_VERSION, "gram accumulator",
                         consumed, err));
    int64_t p = 0, b = 0, n = 0, next_row = 0, rows_seen = 0;
    uint32_t mode = 0;
    if (!dp_sr_i64(&r, &p) || !dp_sr_u32(&r, &mode) || !dp_sr_i64(&r, &b) || !dp_sr_i64(&r, &n) ||
        !dp_sr_i64(&r, &next_row) || !dp_sr_i64(&r, &rows_seen))
        DP_FAIL(err, DP_CORRUPT, "gram accumulator: truncated header");
    if (p < 1 || p > DP_GRAM_MAX_COLS || mode > DP_GRAM_IMPUTE || b < 1 ||
        b > DP_GRAM_MAX_BLOCK_ROWS || b * p > INT32_MAX || n < 0 || next_row < 0 || rows_seen < n)
        DP_FAIL(err, DP_CORRUPT,
                "gram accumulator: bad header (p=%lld mode=%u block_rows=%lld n=%lld)",
                (long long) p, mode, (long long) b, (long long) n);
    /* Everything below is at least p vectors and the packed upper Q: check before allocating. */
    size_t pp = (size_t) p;
    size_t need = (4 * pp + pp * (pp + 1) / 2) * 8 + 1 + 16 + 32;
    if (dp_sr_remaining(&r) < need)
        DP_FAIL(err, DP_CORRUPT, "gram accumulator: %zu payload bytes left, p=%lld needs >= %zu",
                dp_sr_remaining(&r), (long long) p, need);
    DP_CHECK(dp__gram_alloc(p, (dp_gram_missing) mode, b, backend, &g, err));
    g->n = n;
    g->next_row = next_row;
    g->rows_seen = rows_seen;
    bool ok = dp_sr_i64(&r, &g->stats.blocks) && dp_sr_i64(&r, &g->stats.blocks_with_missing) &&
              dp_sr_i64(&r, &g->stats.blocks_sparse) && dp_sr_i64(&r, &g->stats.rows_all_missing);
    ok = ok && dp_sr_f64_array(&r, g->K, pp);
    if (g->mode == DP_GRAM_IMPUTE)
        ok = ok && dp_sr_f64_array(&r, g->impute, pp);
    else
        ok = ok && dp_sr_i64_array(&r, g->nmiss, pp);
    ok = ok && dp_sr_f64_array(&r, g->zs, pp) && dp_sr_f64_array(&r, g->zq, pp) &&
         dp__sr_upper(&r, g->Q, p);
    uint8_t has_mask = 0;
    ok = ok && dp_sr_u8(&r, &has_mask);
    if (!ok || has_mask > 1)
        DP_FAIL(err, DP_CORRUPT, "gram accumulator: truncated or bad sums");
    for (size_t j = 0; j < pp; j++) {
        if (!isfinite(g->K[j]) || (g->impute != NULL && !isfinite(g->impute[j])))
            DP_FAIL(err, DP_CORRUPT, "gram accumulator: centre of column %zu is not finite", j);
        if (g->nmiss != NULL && (g->nmiss[j] < 0 || g->nmiss[j] > n))
            DP_FAIL(err, DP_CORRUPT, "gram accumulator: column %zu has %lld missing of %lld rows",
                    j, (long long) g->nmiss[j], (long long) n);
    }
    if (has_mask) {
        if (g->mode == DP_GRAM_IMPUTE)
            DP_FAIL(err, DP_CORRUPT, "gram accumulator: impute mode with missing-value sums");
        size_t mneed = (2 * pp * pp + pp * (pp + 1) / 2) * 8;
        if (dp_sr_remaining(&r) < mneed)
            DP_FAIL(err, DP_CORRUPT, "gram accumulator: missing-value sums truncated");
        DP_CHECK(dp__ensure_mask_mats(g, err));
        if (!dp_sr_f64_array(&r, g->Sc, pp * pp) || !dp_sr_f64_array(&r, g->SSc, pp * pp) ||
            !dp__sr_upper(&r, g->Nc, p))
            DP_FAIL(err, DP_CORRUPT, "gram accumulator: missing-value sums truncated");
    }
    int64_t blk_index = 0, blk_rows = 0;
    if (!dp_sr_i64(&r, &blk_index) || !dp_sr_i64(&r, &blk_rows))
        DP_FAIL(err, DP_CORRUPT, "gram accumulator: truncated pending block");
    if (blk_rows < 0 || blk_rows >= b || (blk_rows > 0 && blk_index < 0) || blk_index < -1 ||
        (blk_rows > 0 && (blk_index > next_row / b || rows_seen - n != blk_rows)))
        DP_FAIL(err, DP_CORRUPT, "gram accumulator: bad pending block (index %lld, %lld rows)",
                (long long) blk_index, (long long) blk_rows);
    g->blk_index = blk_rows > 0 ? blk_index : -1;
    g->blk_rows = blk_rows;
    for (int64_t j = 0; j < p; j++) {
        if (!dp_sr_f64_array(&r, g->blk + j * b, (size_t) blk_rows))
            DP_FAIL(err, DP_CORRUPT, "gram accumulator: pending block truncated");
        for (int64_t t = 0; t < blk_rows; t++) {
            double v = g->blk[j * b + t];
            if (!isfinite(v) && (g->mode == DP_GRAM_IMPUTE || !isnan(v)))
                DP_FAIL(err, DP_CORRUPT, "gram accumulator: pending value %g in column %lld", v,
                        (long long) j);
            if (isnan(v)) {
                g->blk_cmiss[j]++;
                g->blk_miss++;
            }
        }
    }
    DP_CHECK(dp_sr_end(&r, err));
    *out = g;
    g = NULL;
cleanup:
    dp_gram_free(g);
    return st;
}

/* dp_gram.h: pairwise-complete co-moment (Gram) accumulator -> p x p correlation matrix.
 *
 * Numerics (METHODS.md §1.4). Each column j has a pilot centre K_j fixed at creation (~0.5 for
 * mid-CDF values, the Pass-1 mean for raw values). With z = x - K (missing -> 0) and w = 1 for a
 * missing entry (0 otherwise) the accumulator keeps
 *   Q  = Z^T Z                         (upper triangle; always)
 *   zs_i = sum z_i, zq_i = sum z_i^2, nmiss_i, n      (per column / rows)
 *   Sc = Z^T W,  SSc = (Z.Z)^T W,  Nc = W^T W   (pairwise mode, only once a row is missing)
 * and from them the four sums of METHODS §1.4 over the rows where both i and j are present:
 *   S_ij = zs_i - Sc_ij,  SS_ij = zq_i - SSc_ij,  N_ij = n - nmiss_i - nmiss_j + Nc_ij.
 * This complement form lets a block touch only its rows that have a missing value and its
 * columns that have one (W is zero elsewhere): a block without missing values costs one syrk, a
 * block where few columns are missing a syrk plus thin gemms, and a block whose W is at most 20 %
 * full (scattered missing values) a syrk plus sparse updates costing p per missing value. A row
 * missing in every column adds nothing to any pair and is skipped. Then
 *   cov_ij = Q_ij - S_ij S_ji / N_ij,  var_i|j = SS_ij - S_ij^2 / N_ij,
 *   r_ij = cov_ij / sqrt(var_i|j var_j|i), clamped to [-1, 1].
 * r_ij is NaN when N_ij < 3 or a variance on the pair's rows is <= DP_GRAM_VAR_RTOL * SS (zero up
 * to the rounding of the shifted sums: a column constant on the pair's rows). The diagonal is
 * exactly 1, or NaN for a column with < 3 valid rows or zero variance; the matrix is exactly
 * symmetric. This equals the oracle's `marginal` policy when values are transformed per column
 * (pearson_shifted_sums / spearman_exact(nan_policy='marginal')). Rounding: the complement form
 * subtracts a sum over the rows where j is missing from a sum over all valid rows of i, so the
 * relative error of var_i|j grows like (valid rows of i) / N_ij; it stays ~1e-14 unless a pair
 * shares a tiny fraction of its rows (where r is statistically meaningless anyway).
 * IMPUTE mode (the original's behaviour): a missing value becomes `impute[j]` (default 0) in the
 * transformed scale, every row counts, and only Q, zs, zq, n are kept.
 *
 * Determinism. Rows are re-blocked internally into blocks of `block_rows` rows aligned to global
 * row offsets (block b = rows [b*block_rows, (b+1)*block_rows)); a block is processed when a row
 * of a later block arrives, or at flush/finalize/merge. The summation order therefore does not
 * depend on how the scan cut its batches, and the backend's tiling does not depend on its thread
 * count: the result is bit-identical for any batch size and thread count. Merging partial
 * accumulators (threads, ranks, resumed files) adds their sums; it equals the single-stream result
 * to rounding. Serialisation keeps the pending partial block, so save/restore mid-scan is exact.
 *
 * Rows must arrive in increasing global order within one accumulator (gaps are allowed: an
 * accumulator may see only a subset of the rows). Several accumulators (one per method) may be
 * fed from the same scan.
 *
 * Ownership: dp_gram_create allocates; dp_gram_free (accepts NULL) releases. The backend is
 * borrowed and must outlive the accumulator. Thread safety: one thread at a time per accumulator
 * (the backend may use threads inside a call).
 */
#ifndef DP_ACCUM_GRAM_H
#define DP_ACCUM_GRAM_H

#include "backend/dp_backend.h"
#include "batch/dp_batch.h"
#include "util/dp_buf.h"

/* Relative threshold under which a pair variance counts as zero (see above): the worst-case
 * rounding of the blocked sums is ~(block_rows + n/block_rows) * 1.1e-16, < 3e-11 for n <= 1e9
 * (block_rows 4096). Below it a variance cannot be told from rounding; above it a real one needs
 * the pilot centre within ~1e5 standard deviations of the pair's mean. */
#define DP_GRAM_VAR_RTOL 1e-10
/* Largest p accepted (p^2 doubles per matrix; 4 matrices at 2^16 columns are 128 GiB). */
#define DP_GRAM_MAX_COLS ((int64_t) 1 << 16)

typedef struct dp_gram dp_gram;

typedef enum dp_gram_missing {
    DP_GRAM_PAIRWISE = 0, /* pairwise-complete (default) */
    DP_GRAM_IMPUTE = 1    /* missing -> impute value, all rows count (the original's behaviour) */
} dp_gram_missing;

typedef struct dp_gram_options {
    dp_gram_missing missing;
    /* Rows per internal block; 0 = dp_gram_default_block_rows(p). Fixed for the accumulator's
     * life; accumulators can only be merged when equal. */
    int64_t block_rows;
    /* IMPUTE mode: the transformed value a missing entry takes, per column (copied); NULL = 0. */
    const double *impute;
} dp_gram_options;

/* Default block rows for p columns: a power of two in [512, 4096] with block_rows * p * 8 about
 * 16 MiB (one block buffer stays in L3 / memory budget stays small next to the p x p matrices). */
int64_t dp_gram_default_block_rows(int64_t p);

/* Create an accumulator over p columns (1 <= p <= DP_GRAM_MAX_COLS) with pilot centres
 * centre[p] (copied; must be finite). opts may be NULL (pairwise, default block).
 * INVALID_ARG for bad arguments, NOMEM. */
dp_status dp_gram_create(int64_t p, const double *centre, const dp_gram_options *opts,
                         dp_backend *backend, dp_gram **out, dp_error *err) DP_MUST_USE;
void dp_gram_free(dp_gram *g);

/* Add the rows of a batch (b->n_cols must equal p; NaN = missing). */
dp_status dp_gram_update(dp_gram *g, const dp_batch *b, dp_error *err) DP_MUST_USE;
/* Same from a raw column-major array: value of row t of column j at x[j * ld + t], rows
 * [row_offset, row_offset + n_rows) of the global row order. INVALID_ARG when rows go
 * backwards (row_offset < rows already seen). Non-finite values count as missing. */
dp_status dp_gram_update_rows(dp_gram *g, const double *x, int64_t ld, int64_t n_rows,
                              int64_t row_offset, dp_error *err) DP_MUST_USE;
/* Process the pending partial block now (merge and finalize do this themselves). Changes the
 * summation order compared with an uninterrupted stream: use only when a part ends. */
dp_status dp_gram_flush(dp_gram *g, dp_error *err) DP_MUST_USE;

/* dst += src (both flushed first). Same p, mode, block_rows and centres, else INVALID_ARG.
 * src is left flushed but otherwise unchanged. Rows seen by dst afterwards must come after
 * every row either part saw. */
dp_status dp_gram_merge(dp_gram *dst, dp_gram *src, dp_error *err) DP_MUST_USE;

/* Flush, then write the p x p correlation matrix (column-major = row-major, it is symmetric) to
 * R[p*p]. The accumulator stays usable (more rows may follow). */
dp_status dp_gram_finalize(dp_gram *g, double *R, dp_error *err) DP_MUST_USE;
/* Pairwise row counts N_ij (p*p, symmetric) of the rows processed so far (after a flush or
 * finalize; the pending block is not included). */
dp_status dp_gram_pair_counts(const dp_gram *g, double *N, dp_error *err) DP_MUST_USE;

/* Diagnostics: how the processed blocks were handled. */
typedef struct dp_gram_stats {
    int64_t blocks;              /* blocks processed */
    int64_t blocks_with_missing; /* ... that needed the missing-value products */
    int64_t blocks_sparse;       /* ... computed the sparse way (W at most 20 % full) */
    int64_t rows_all_missing;    /* rows missing in every column (they add nothing) */
} dp_gram_stats;
void dp_gram_get_stats(const dp_gram *g, dp_gram_stats *out);

/* Rows seen (including the pending block), columns, mode, block rows. */
int64_t dp_gram_rows(const dp_gram *g);
int64_t dp_gram_cols(const dp_gram *g);
dp_gram_missing dp_gram_mode(const dp_gram *g);
int64_t dp_gram_block_rows(const dp_gram *g);

/* Append the state (one dp_serial record) to out. */
dp_status dp_gram_serialize(const dp_gram *g, dp_buf *out, dp_error *err) DP_MUST_USE;
/* Rebuild an accumulator from a record at data[0..len). *consumed (optional) gets the record
 * size. CORRUPT / TRUNCATED / LIMIT on bad input; never allocates more than the record implies. */
dp_status dp_gram_deserialize(const void *data, size_t len, dp_backend *backend, dp_gram **out,
                              size_t *consumed, dp_error *err) DP_MUST_USE;

/* Upper bound of the bytes an accumulator over p columns with the default block rows uses in the
 * given mode (matrices, block buffers, temporaries), for refusing a run before it starts; add
 * the backend's scratch (CPU: up to 16 x 512^2 doubles for p <= 512); SIZE_MAX on overflow. */
size_t dp_gram_estimate(int64_t p, dp_gram_missing mode);
/* Bytes currently held by g. */
size_t dp_gram_sizeof(const dp_gram *g);

/* ---- Raw state, for device backends (backend/cuda) -------------------------------------------
 * A device accumulator keeps these sums in device memory and copies them straight into and out
 * of the arrays of a host dp_gram of the same shape, so that finalize, merge and the serialised
 * format stay this file's. Sums written by a device may count rows missing in every column (they
 * add 1 to n, to every nmiss_i and to every Nc_ij, so each N_ij is unchanged). */
typedef struct dp__gram_raw {
    int64_t n;             /* rows counted in the sums */
    int64_t rows_seen;     /* rows passed to update (processed + pending) */
    int64_t next_row;      /* rows must start at or after this global index */
    int64_t blk_index;     /* pending block: global index (-1 = none) */
    int64_t blk_rows;      /* ... and its rows (< block_rows) */
    const double *K;       /* p pilot centres (read only) */
    const double *impute;  /* p impute values in IMPUTE mode, else NULL (read only) */
    int64_t *nmiss;        /* p missing counts (PAIRWISE), else NULL */
    double *zs, *zq;       /* p */
    double *Q;             /* p x p (ld p), upper triangle */
    double *Sc, *SSc, *Nc; /* p x p each (Nc upper); NULL while g has none */
    double *blk;           /* pending z (centred, NaN = missing), ld block_rows */
} dp__gram_raw;

/* Pointers into g's arrays and its scalars. with_mask allocates the (zeroed) missing-value sums
 * when g has none yet (PAIRWISE only; NOMEM). */
dp_status dp__gram_raw_get(dp_gram *g, bool with_mask, dp__gram_raw *out,
                           dp_error *err) DP_MUST_USE;
/* After writing into the arrays of out (from dp__gram_raw_get): take the scalars of *in and
 * recount the pending block's missing values. CORRUPT when the counts are inconsistent (the
 * checks of dp_gram_deserialize). */
dp_status dp__gram_raw_commit(dp_gram *g, const dp__gram_raw *in, dp_error *err) DP_MUST_USE;

#endif

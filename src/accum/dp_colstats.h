/* dp_colstats.h: the Pass-1 accumulator — for every column of a dp_batch stream, its moments
 * (dp_moments.h: counts of NULL/NaN/+Inf/-Inf/valid, min, max, mean, M2) and its marginal model
 * (dp_marginal.h: exact value table, or a KLL sketch past --exact-distinct distinct values).
 *
 * Columns are identified by position (0 .. n_cols-1); the caller keeps the names. The KLL coins
 * of column j are addressed by hash(seed, j), so every partial accumulator of one run (threads,
 * files, MPI ranks, checkpoint resume) uses the same coins for the same column.
 *
 * Determinism: for one ordered row stream the result is bit-identical for any batch size and
 * any split of the columns between threads (dp_colstats_update_cols). merge() of accumulators
 * over separate row ranges gives exact counts, extremes and tables in any order; means and
 * variances within rounding; sketches within their rank error (bit-identical for a fixed merge
 * order).
 *
 * Ownership: dp_colstats_create returns an accumulator owned by the caller (dp_colstats_free
 * accepts NULL). dp_colstats_result is a caller-allocated value whose reset frees the fits.
 * Thread safety: one thread per accumulator, except that dp_colstats_update_cols may run
 * concurrently on disjoint column ranges of the same accumulator and batch.
 */
#ifndef DP_ACCUM_COLSTATS_H
#define DP_ACCUM_COLSTATS_H

#include "accum/dp_moments.h"
#include "batch/dp_batch.h"
#include "transform/dp_marginal.h"
#include "util/dp_buf.h"

typedef struct dp_colstats_opts {
    int32_t exact_distinct; /* DP_MARGINAL_EXACT_DISTINCT_DEFAULT (4096) */
    int32_t kll_k;          /* DP_KLL_K_DEFAULT */
    uint64_t seed;          /* addresses the sketches' coins */
} dp_colstats_opts;

void dp_colstats_opts_default(dp_colstats_opts *o);

typedef struct dp_colstats dp_colstats;

/* n_cols >= 0. INVALID_ARG for bad options, NOMEM. */
dp_status dp_colstats_create(dp_colstats **out, int64_t n_cols, const dp_colstats_opts *o,
                             dp_error *err) DP_MUST_USE;
void dp_colstats_free(dp_colstats *cs);
int64_t dp_colstats_n_cols(const dp_colstats *cs);
const dp_colstats_opts *dp_colstats_options(const dp_colstats *cs);

/* Add a batch (b->n_cols must equal the accumulator's). Batches of one accumulator must come in
 * increasing row order (row_offset). INVALID_ARG on a mismatch or inconsistent missing counts;
 * NOMEM. The message names the column. */
dp_status dp_colstats_update(dp_colstats *cs, const dp_batch *b, dp_error *err) DP_MUST_USE;
/* Columns [c0, c1) only, so threads can share one batch by column ranges. */
dp_status dp_colstats_update_cols(dp_colstats *cs, const dp_batch *b, int64_t c0, int64_t c1,
                                  dp_error *err) DP_MUST_USE;
/* dst := statistics of both row sets. Same n_cols and options required (INVALID_ARG). */
dp_status dp_colstats_merge(dp_colstats *dst, const dp_colstats *src, dp_error *err) DP_MUST_USE;

typedef struct dp_colstats_column {
    dp_moments_result mom; /* counts, min, max, mean, var (ddof 1), std */
    dp_marginal_fit fit;   /* marginal model; fit.distinct / distinct_exact / kind */
} dp_colstats_column;

typedef struct dp_colstats_result {
    int64_t n_cols;
    dp_colstats_column *cols;
} dp_colstats_result;

void dp_colstats_result_init(dp_colstats_result *r);
void dp_colstats_result_reset(dp_colstats_result *r);
/* Final statistics (the accumulator is not changed and may keep accumulating). NOMEM. */
dp_status dp_colstats_finalize(const dp_colstats *cs, dp_colstats_result *out,
                               dp_error *err) DP_MUST_USE;

/* One record (magic "CST1", version, CRC): options, n_cols, every column's moments (including
 * the open block, so a resumed run continues bit-identically) and marginal model. Tables are
 * written sorted, so equal accumulators give equal bytes. Deserialize refuses other versions
 * (UNSUPPORTED), bad checksums and inconsistent contents (CORRUPT), short input (TRUNCATED). */
dp_status dp_colstats_serialize(const dp_colstats *cs, dp_buf *out, dp_error *err) DP_MUST_USE;
dp_status dp_colstats_deserialize(const void *data, size_t len, dp_colstats **out,
                                  dp_error *err) DP_MUST_USE;

/* Bytes held now / an upper bound for n_cols columns over `rows` rows (tables at their limit
 * and sketches at their largest), for the memory budget check before a run. */
size_t dp_colstats_sizeof(const dp_colstats *cs);
size_t dp_colstats_estimate(int64_t n_cols, int64_t rows, const dp_colstats_opts *o);

#endif

/* dp_moments.h: per-column counts, extremes, mean and centred sum of squares, streaming and
 * mergeable (METHODS.md §1.2), in float64.
 *
 * Numerics. Rows are grouped into fixed blocks of global rows (block b = rows
 * [b*DP_MOMENTS_BLOCK, (b+1)*DP_MOMENTS_BLOCK), from dp_batch.row_offset), so the result does
 * not depend on how rows are cut into batches: bit-identical for any batch size. Inside a block
 * the finite values are shifted by a pilot K (the running mean of the completed blocks, or the
 * block's first finite value when there is none yet) and accumulated as sums of z = x - K and
 * z^2 in four lanes chosen by global row mod 4 (independent dependency chains; same bits for any
 * batching). A closing block gives mean_b = K + S1/n_b and M2_b = S2 - S1^2/n_b, which is
 * well-conditioned because K is within about one block standard error of the block mean; blocks
 * are folded into the running total in order with the Chan, Golub & LeVeque (1979) update
 *   delta = mean_b - mean, n' = n + n_b, mean' = mean + delta n_b / n',
 *   M2' = M2 + M2_b + delta^2 n n_b / n'.
 * The running mean is kept as an unevaluated sum shift + mean_lo (renormalised with an exact
 * TwoSum after every fold), so delta is computed without cancellation even when the mean is
 * 1e9 times the standard deviation (a plain float64 mean would lose ~1e-7 sd per block and give
 * a relative M2 error of ~1e-9; this form keeps it near 1e-15, tests/unit/test_moments.c).
 * Block size 256: the very first block has no running mean, so its pilot is its first finite
 * value, and an outlier there (1e6 sd away) costs a relative M2 error of about u * B * 4 (u the
 * unit round-off); with B = 4096 that reached 1.4e-12, with 256 it is ~1e-13. A fold costs a
 * few nanoseconds, i.e. ~0.02 ns per value at B = 256.
 *
 * merge(a, b) folds b's blocks (and the open partial blocks of both) into a: counts, min and
 * max are exact and order-independent; mean and M2 equal the one-pass result within rounding.
 *
 * Missing values: the batch stores NULL, NaN and +-Inf as NaN and counts the kinds per column
 * (dp_batch_counts); the accumulator adds those counts and checks that they agree with the
 * number of non-finite values it sees (on a mismatch the state is partly updated: the caller
 * is expected to abandon the run). n_valid counts finite values only. A zero minimum or
 * maximum is +0.0 (so extremes do not depend on the order of -0.0 and +0.0).
 *
 * Ownership: dp_moments is a plain value (no heap); init/reset. Thread safety: one thread per
 * object.
 */
#ifndef DP_ACCUM_MOMENTS_H
#define DP_ACCUM_MOMENTS_H

#include "batch/dp_batch.h"
#include "util/dp_base.h"
#include "util/dp_serial.h"

#define DP_MOMENTS_BLOCK 256
#define DP_MOMENTS_LANES 4

typedef struct dp_moments {
    int64_t rows, n_null, n_nan, n_posinf, n_neginf, n_valid;
    double min, max; /* +inf / -inf while n_valid = 0 */
    /* completed blocks: n values, mean = shift + mean_lo, centred sum of squares m2 */
    int64_t n;
    double shift, mean_lo, m2;
    /* open block */
    int64_t blk;   /* its index; -1 when none is open */
    int64_t bn;    /* finite values in it */
    double bshift; /* its pilot; NaN until known */
    double s1[DP_MOMENTS_LANES], s2[DP_MOMENTS_LANES];
    int64_t next_row; /* first global row after the last one seen (rows arrive in order) */
} dp_moments;

typedef struct dp_moments_result {
    int64_t rows, n_null, n_nan, n_posinf, n_neginf, n_valid;
    double min, max; /* NaN when n_valid = 0 */
    double mean;     /* NaN when n_valid = 0 */
    double m2;       /* centred sum of squares, >= 0 */
    double var;      /* m2 / (n_valid - 1) (ddof = 1); NaN when n_valid < 2 */
    double var_pop;  /* m2 / n_valid (ddof = 0); NaN when n_valid = 0 */
    double std;      /* sqrt(var) */
} dp_moments_result;

void dp_moments_init(dp_moments *m);
void dp_moments_reset(dp_moments *m);
/* Add rows [row_offset, row_offset + n_rows) of one column: x holds the values (missing = NaN),
 * counts the kinds of missing values among them. Rows must come in increasing order
 * (row_offset >= the end of the previous call; gaps allowed): INVALID_ARG otherwise, and when
 * counts disagree with the non-finite values in x. */
dp_status dp_moments_update(dp_moments *m, const double *x, int64_t n_rows, int64_t row_offset,
                            const dp_batch_counts *counts, dp_error *err) DP_MUST_USE;
/* dst := statistics of both row sets (src is not changed). */
void dp_moments_merge(dp_moments *dst, const dp_moments *src);
void dp_moments_finalize(const dp_moments *m, dp_moments_result *r);

void dp__moments_write(const dp_moments *m, dp_serial_writer *w);
/* Validates counts (non-negative, consistent), extremes and sums: CORRUPT / TRUNCATED. */
dp_status dp__moments_read(dp_serial_reader *r, dp_moments *m, dp_error *err) DP_MUST_USE;

#endif

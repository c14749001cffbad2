/* dp_batch.h: a block of rows x selected columns as column-major doubles — what scans produce
 * and what transforms and accumulators consume.
 *
 * Value of row i (0-based within the batch) of column j: values[j * ld + i]. Every missing value
 * (NULL, NaN, +Inf, -Inf) is stored as NaN; the kinds are counted per column in `counts`, so
 * consumers never need to look at raw values to know why something is missing.
 * `row_offset` is the global index (over the whole dataset, in scan order) of row 0.
 *
 * Ownership: dp_batch_init allocates values and counts once for a capacity of rows x cols; scans
 * refill the same batch (dp_batch_reset frees; safe on zeroed structs and twice). Consumers
 * borrow a batch for the duration of one call. Thread safety: a batch is used by one thread at
 * a time.
 */
#ifndef DP_BATCH_BATCH_H
#define DP_BATCH_BATCH_H

#include "util/dp_base.h"

typedef struct dp_batch_counts {
    int64_t n_null;
    int64_t n_nan;
    int64_t n_posinf;
    int64_t n_neginf;
} dp_batch_counts;

typedef struct dp_batch {
    int64_t n_rows;          /* rows filled */
    int64_t n_cols;          /* columns */
    int64_t ld;              /* leading dimension (>= n_rows; = row capacity) */
    int64_t cap_rows;        /* row capacity */
    double *values;          /* ld * n_cols */
    dp_batch_counts *counts; /* n_cols */
    int64_t row_offset;      /* global index of row 0 */
    int32_t file_index;      /* file holding row 0 (per-file and sample scans: all rows) */
} dp_batch;

/* Allocate a batch for up to cap_rows x n_cols (values uninitialised, n_rows = 0). */
dp_status dp_batch_init(dp_batch *b, int64_t cap_rows, int64_t n_cols, dp_error *err) DP_MUST_USE;
void dp_batch_reset(dp_batch *b);
/* Missing values (all kinds) of column j in this batch. */
static inline int64_t dp_batch_n_missing(const dp_batch *b, int64_t j) {
    const dp_batch_counts *c = &b->counts[j];
    return c->n_null + c->n_nan + c->n_posinf + c->n_neginf;
}
/* Pointer to column j. */
static inline double *dp_batch_col(const dp_batch *b, int64_t j) {
    return b->values + j * b->ld;
}
/* Recount the kinds of missing values of column j from raw (pre-NaN) values: convenience for
 * producers and tests that fill `values` with NaN/Inf directly. Converts +-Inf to NaN. Nulls
 * must already be counted in counts[j].n_null and stored as NaN; NaNs found beyond n_null are
 * counted as NaN. */
void dp_batch_normalize_column(dp_batch *b, int64_t j);

#endif

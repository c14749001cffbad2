#include "batch/dp_batch.h"
#include "util/dp_alloc.h"
#include "util/dp_limits.h"

#include <math.h>
#include <string.h>

dp_status dp_batch_init(dp_batch *b, int64_t cap_rows, int64_t n_cols, dp_error *err) {
    memset(b, 0, sizeof *b);
    if (cap_rows < 1 || cap_rows > DP_LIMIT_BATCH_ROWS_MAX || n_cols < 0)
        return dp_error_set(err, DP_INVALID_ARG, "batch of %lld rows x %lld columns not allowed",
                            (long long) cap_rows, (long long) n_cols);
    size_t cells;
    if (!dp_mul_size((size_t) cap_rows, (size_t) (n_cols > 0 ? n_cols : 1), &cells))
        return dp_error_set(err, DP_LIMIT, "batch too large");
    b->values = dp_mallocarray(cells, sizeof(double));
    b->counts = dp_calloc((size_t) (n_cols > 0 ? n_cols : 1), sizeof(dp_batch_counts));
    if (b->values == NULL || b->counts == NULL) {
        dp_batch_reset(b);
        return dp_error_set(err, DP_NOMEM, "cannot allocate a batch of %lld rows x %lld columns",
                            (long long) cap_rows, (long long) n_cols);
    }
    b->cap_rows = b->ld = cap_rows;
    b->n_cols = n_cols;
    return DP_OK;
}

void dp_batch_reset(dp_batch *b) {
    dp_free(b->values);
    dp_free(b->counts);
    memset(b, 0, sizeof *b);
}

void dp_batch_normalize_column(dp_batch *b, int64_t j) {
    double *x = dp_batch_col(b, j);
    dp_batch_counts *c = &b->counts[j];
    int64_t nan = 0, pinf = 0, ninf = 0;
    for (int64_t i = 0; i < b->n_rows; i++) {
        double v = x[i];
        if (isnan(v)) {
            nan++;
        } else if (isinf(v)) {
            if (v > 0)
                pinf++;
            else
                ninf++;
            x[i] = NAN;
        }
    }
    c->n_nan = nan - c->n_null;
    if (c->n_nan < 0)
        c->n_nan = 0;
    c->n_posinf = pinf;
    c->n_neginf = ninf;
}

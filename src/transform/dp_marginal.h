/* dp_marginal.h: the marginal model of one column — its distribution over the finite values —
 * built in Pass 1 and read by the copula transforms of later passes (METHODS.md §2–3).
 *
 * Accumulation (dp_marginal): an exact value -> count table while the column has at most
 * `exact_distinct` distinct finite values (default 4096); the first value past that converts
 * the table into a KLL sketch (dp_kll.h) by inserting each table entry with its count as an
 * exact weight, and later values go to the sketch. -0.0 counts as +0.0; NaN and +-Inf are
 * skipped (the caller counts them as missing). Tables are order-independent: the same multiset
 * gives the same table (and the same serialised bytes, whose entries are sorted) whatever the
 * order, batching or merge tree. Sketches depend on the order (see dp_kll.h).
 *
 * Fitted model (dp_marginal_fit): read-only and flat, so later passes can upload it as arrays.
 * Knots values[0..m) ascending and distinct; lo[i] and hi[i] are the (estimated) number of
 * values < values[i] and <= values[i], in count units (exact integers or half-integers); n is
 * the number of values described. Between two knots the count of values < v (= the count of
 * values <= v) is the straight line from hi[i] at values[i] to lo[i+1] at values[i+1]; below
 * min it is 0 and above max it is n (min and max are exact).
 *   - Table: knots are the distinct values, lo/hi the exact cumulative counts, lo[i+1] = hi[i]
 *     (a step function): F(v-), F(v) and the mid-rank CDF u(v) = (F(v-) + F(v)) / 2 are exact
 *     (u(x_t) = (R_t - 1/2) / n with R_t the average rank of x_t, computed as one division).
 *   - Sketch: knots are the distinct retained items. A value held by one retained item of
 *     weight w (a continuous stretch of the data) is a knot with lo = hi = (weight below) +
 *     w/2, so the CDF is continuous and piecewise linear through the items' mid-ranks. A value
 *     held by >= 2 retained items is a point mass (ties) and keeps its jump: lo = weight below,
 *     hi = lo + its weight. The exact extremes are knots with lo(min) = 0, hi(min) = 1 and
 *     lo(max) = n - 1, hi(max) = n (or the tie group's jump), so u(min) = 1/(2n) and
 *     u(max) = 1 - 1/(2n) for a continuous column — never 0 or 1 (METHODS §3 pitfalls). A final
 *     pass makes lo/hi monotone. Rank error: that of the sketch (dp_kll.h, <= 0.5 % of n).
 * Quantiles:
 *   - Table: numpy's default ("linear", Hyndman & Fan type 7) on the exact data: h = (n-1) q,
 *     x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]), with numpy's lerp formula
 *     (b - (b-a)(1-g) when g >= 0.5), so results equal numpy.quantile bit for bit.
 *   - Sketch: the inverse of the mid-rank CDF at rank (n-1) q + 1/2 — the same target as type 7
 *     (the (1 + (n-1)q)-th smallest value has mid-rank (n-1)q + 1/2); a value inside a jump
 *     returns the knot, one on a ramp interpolates linearly. q = 0 gives min, q = 1 max.
 *
 * Ownership: dp_marginal and dp_marginal_fit are caller-allocated values with init/reset
 * (reset frees, safe on zeroed structs and twice). Thread safety: one thread per object; the
 * query functions on a fit are pure and may run concurrently.
 */
#ifndef DP_TRANSFORM_MARGINAL_H
#define DP_TRANSFORM_MARGINAL_H

#include "transform/dp_kll.h"
#include "util/dp_base.h"
#include "util/dp_buf.h"
#include "util/dp_serial.h"

#define DP_MARGINAL_EXACT_DISTINCT_DEFAULT 4096
/* Above this a table would be a memory hazard per column (slots are 16 bytes). */
#define DP_MARGINAL_EXACT_DISTINCT_MAX (1 << 22)

typedef enum dp_marginal_kind {
    DP_MARGINAL_EMPTY = 0, /* no finite values (fit only) */
    DP_MARGINAL_TABLE = 1,
    DP_MARGINAL_SKETCH = 2,
} dp_marginal_kind;

/* "table" / "sketch" / "empty". */
const char *dp_marginal_kind_name(dp_marginal_kind k);

typedef struct dp__mtab_slot {
    uint64_t key;  /* bits of the value */
    int64_t count; /* 0 = empty slot */
} dp__mtab_slot;

typedef struct dp_marginal {
    dp_marginal_kind kind; /* TABLE or SKETCH (never EMPTY) */
    int32_t exact_distinct;
    int32_t kll_k;
    uint64_t seed;
    int64_t n; /* finite values added */
    /* table: open addressing, power-of-two capacity, load <= 1/2 */
    dp__mtab_slot *slots;
    size_t cap;
    size_t count;
    uint64_t last_key; /* one-entry cache (runs of equal values); a NaN pattern when unset */
    size_t last_idx;
    /* sketch */
    dp_kll *kll;
} dp_marginal;

/* exact_distinct in [0, DP_MARGINAL_EXACT_DISTINCT_MAX] (0: sketch from the start); kll_k as
 * for dp_kll_create; seed addresses the sketch's coins (use one per column). */
dp_status dp_marginal_init(dp_marginal *m, int32_t exact_distinct, int32_t kll_k, uint64_t seed,
                           dp_error *err) DP_MUST_USE;
void dp_marginal_reset(dp_marginal *m);
/* Add the finite values of x[0..n) in order. NOMEM, LIMIT. */
dp_status dp_marginal_update(dp_marginal *m, const double *x, size_t n, dp_error *err) DP_MUST_USE;
/* dst := model of both inputs. Both must have the same exact_distinct and kll_k. Two tables whose
 * union has too many distinct values become one sketch built from the union (symmetric). */
dp_status dp_marginal_merge(dp_marginal *dst, const dp_marginal *src, dp_error *err) DP_MUST_USE;
/* Distinct finite values: exact for a table (*exact = true); for a sketch the lower bound
 * exact_distinct + 1 (*exact = false). */
int64_t dp_marginal_distinct(const dp_marginal *m, bool *exact);
size_t dp_marginal_sizeof(const dp_marginal *m);
/* Upper bound of the bytes one column's model can hold (table at its limit or sketch of n). */
size_t dp_marginal_estimate(int32_t exact_distinct, int32_t kll_k, int64_t n);

void dp__marginal_write(const dp_marginal *m, dp_serial_writer *w);
/* Reads into an uninitialised *m (reset on failure). Tables must be canonical: entries strictly
 * ascending, no -0.0, counts >= 1 summing to n, at most exact_distinct of them. */
dp_status dp__marginal_read(dp_serial_reader *r, dp_marginal *m, dp_error *err) DP_MUST_USE;
dp_status dp_marginal_serialize(const dp_marginal *m, dp_buf *out, dp_error *err) DP_MUST_USE;
dp_status dp_marginal_deserialize(const void *data, size_t len, dp_marginal *m,
                                  dp_error *err) DP_MUST_USE;

/* ---- fitted model ---------------------------------------------------------------------- */

typedef struct dp_marginal_fit {
    dp_marginal_kind kind;
    int64_t n;       /* values described */
    int64_t n_knots; /* m */
    double *values;  /* m knots, ascending, distinct (one allocation holds all three arrays) */
    double *lo;      /* m: count of values < knot */
    double *hi;      /* m: count of values <= knot */
    double min, max; /* exact; NaN when empty */
    int64_t distinct;
    bool distinct_exact;
} dp_marginal_fit;

void dp_marginal_fit_init(dp_marginal_fit *f);
void dp_marginal_fit_reset(dp_marginal_fit *f);
/* Build the fitted model of m (m is not changed). NOMEM. */
dp_status dp_marginal_fit_build(const dp_marginal *m, dp_marginal_fit *out,
                                dp_error *err) DP_MUST_USE;
dp_status dp_marginal_fit_copy(const dp_marginal_fit *src, dp_marginal_fit *dst,
                               dp_error *err) DP_MUST_USE;

/* Queries; NaN for a NaN argument or an empty model. Fractions in [0, 1]. */
double dp_marginal_fit_cdf_lt(const dp_marginal_fit *f, double v); /* F(v-) */
double dp_marginal_fit_cdf_le(const dp_marginal_fit *f, double v); /* F(v) */
double dp_marginal_fit_midcdf(const dp_marginal_fit *f, double v); /* (F(v-) + F(v)) / 2 */
/* q in [0, 1] (NaN outside); definitions above. */
double dp_marginal_fit_quantile(const dp_marginal_fit *f, double q);

#endif

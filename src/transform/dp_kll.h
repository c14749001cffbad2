/* dp_kll.h: KLL quantile sketch over finite doubles (Karnin, Lang & Liberty, "Optimal Quantile
 * Approximation in Streams", FOCS 2016, arXiv 1603.05346), the marginal model of columns with
 * too many distinct values for an exact table (dp_marginal.h).
 *
 * Structure. A hierarchy of compactors ("levels"); an item at level h stands for 2^h input
 * values, so the retained items with their weights always sum to n exactly. Level capacities
 * shrink geometrically downwards: with H levels, level h holds about k * c^(H-1-h) items
 * (c = 2/3, at least DP_KLL_MIN_CAP), so the top level holds k. A compaction sorts a level,
 * keeps one item aside when the count is odd, and promotes every second item of the sorted
 * rest (offset 0 or 1, a fair coin) to the level above. Level 0 (the unsorted input buffer) has
 * a capacity of at least 512 whatever its place in the geometric schedule: larger capacities
 * only lower the error, and batching level-0 compactions avoids many tiny sorts and merges
 * (measured 10-20 % faster updates). Compaction is lazy, as in the practical variants of
 * Ivkin, Liberty, Lang, Karnin & Braverman 2019 [recalled]: the sketch compacts only when its
 * total size reaches the total capacity, and then only the lowest level that is at or over its
 * own capacity. Consecutive compactions of one level use opposite offsets after a random first
 * one: each compaction stays unbiased, and the two errors of a pair cancel when both move the
 * query's rank, so the variance is never above that of independent coins [derived].
 *
 * Guarantee. One compaction at level h changes the rank of any query by 0 or +-2^h with mean 0
 * (the paper's compactor lemma [recalled]). With level capacities k*c^(H-1-h), level h is
 * compacted at most n / (2^h k c^(H-1-h)) times, so the rank error of a fixed query is a sum
 * of bounded zero-mean terms (independent across coin draws) with variance O(n^2 / k^2), the
 * top levels dominating because of the geometric capacities; Hoeffding then gives
 *     P(|rank_est(x) - rank(x)| > eps n) <= 2 exp(-C eps^2 k^2)
 * for a constant C, i.e. space O((1/eps) sqrt(log(1/delta))) for one query [derived, following
 * the paper's argument]. The paper's abstract [verified] states the optimal
 * O((1/eps) log log(1/delta)) for its full algorithm and O((1/eps) log^2 log(1/delta)) for the
 * fully mergeable form; this implementation is the mergeable compactor hierarchy without the
 * paper's bottom sampler (which only matters once n >> k 2^14). The constant C is not tight
 * enough to choose k, so k was calibrated empirically: the default k = 500 keeps the largest
 * normalised rank error over the whole CDF below 0.3 % in every measured stream (numbers at
 * DP_KLL_K_DEFAULT), inside the 0.5 % the issue asks for; tests/unit/test_kll.c checks the
 * 0.5 % bound on fixed seeds, also after merges of up to 50 parts.
 *
 * Exactness: n, min and max are exact. Items are finite; -0.0 is stored as +0.0 so that equal
 * values are bit-identical. Non-finite input is skipped (the caller counts it as missing).
 *
 * Determinism. The coin of the c-th compaction is a hash of (seed, c), with c counted over the
 * sketch's life (merges add the other sketch's count), so results are a function of the seed,
 * the input order and the merge order only.
 *
 * Ownership: dp_kll_create returns a sketch owned by the caller (dp_kll_free accepts NULL).
 * Thread safety: a sketch is used by one thread at a time; const functions may run
 * concurrently on the same sketch.
 */
#ifndef DP_TRANSFORM_KLL_H
#define DP_TRANSFORM_KLL_H

#include "util/dp_base.h"
#include "util/dp_buf.h"
#include "util/dp_serial.h"

/* Default k. Calibration (random-order streams of normal / lognormal / sorted data, fixed seeds;
 * error = max over all data values v of |F_sketch(v) - F(v)|, i.e. over the whole CDF, not one
 * query): 150 streams of n = 2e5, 100 of 1e4, 20 of 1e6, 5 of 3e6: median 0.23 %, 99th
 * percentile 0.28 %, maximum 0.29 % at k = 500 (k = 400: max 0.44 %; k = 300: 0.48 %;
 * k = 200: 0.70 %; random order is the worst case, sorted input stays below 0.13 %). The error
 * scales like 1/k and barely with n. Size: one buffer of the capacity budget, about 3k + 512
 * doubles, plus a scratch of up to half of that: ~21 KB per column at k = 500. */
#define DP_KLL_K_DEFAULT 500
#define DP_KLL_K_MIN     8
#define DP_KLL_K_MAX     65535
/* Smallest capacity of a level (the paper requires capacity >= 2; 8 keeps compactions from
 * being too frequent at the bottom). */
#define DP_KLL_MIN_CAP 8
/* Levels: level h carries weight 2^h and n < 2^62. */
#define DP_KLL_MAX_LEVELS 62

typedef struct dp_kll dp_kll;

/* k in [DP_KLL_K_MIN, DP_KLL_K_MAX]. INVALID_ARG otherwise, NOMEM. */
dp_status dp_kll_create(dp_kll **out, int32_t k, uint64_t seed, dp_error *err) DP_MUST_USE;
void dp_kll_free(dp_kll *s);
/* Deep copy. */
dp_status dp_kll_clone(const dp_kll *s, dp_kll **out, dp_error *err) DP_MUST_USE;

/* Add the finite values of x[0..n) in order (NaN and +-Inf are skipped). NOMEM, LIMIT. */
dp_status dp_kll_update(dp_kll *s, const double *x, size_t n, dp_error *err) DP_MUST_USE;
/* Add values with integer weights (>= 1): values ascending and finite, e.g. the entries of an
 * exact table. Exact: each weight is split into its binary digits, item at level h for bit h. */
dp_status dp_kll_update_weighted(dp_kll *s, const double *v, const int64_t *w, size_t n,
                                 dp_error *err) DP_MUST_USE;
/* dst := sketch of both streams. src must have the same k. dst's seed is kept. */
dp_status dp_kll_merge(dp_kll *dst, const dp_kll *src, dp_error *err) DP_MUST_USE;

int64_t dp_kll_n(const dp_kll *s);
int32_t dp_kll_k(const dp_kll *s);
uint64_t dp_kll_seed(const dp_kll *s);
/* Exact extremes; NaN when n = 0. */
double dp_kll_min(const dp_kll *s);
double dp_kll_max(const dp_kll *s);
/* Items retained. */
size_t dp_kll_retained(const dp_kll *s);
/* The retained items in ascending order with their weights; values and weights have room for
 * dp_kll_retained(s) entries. */
void dp_kll_items(const dp_kll *s, double *values, int64_t *weights);
/* Bytes held by the sketch / an upper bound for a sketch of k over n values (for budgets). */
size_t dp_kll_sizeof(const dp_kll *s);
size_t dp_kll_estimate(int32_t k, int64_t n);

/* Serialisation: a record of its own (magic "KLL1"), or the same fields inside an enclosing
 * record (dp__kll_write / dp__kll_read, used by dp_marginal). Reading validates everything
 * (k, level count, sizes against the bytes present, weights summing to n, sorted levels,
 * items within [min, max]): CORRUPT / TRUNCATED / UNSUPPORTED with a message. */
dp_status dp_kll_serialize(const dp_kll *s, dp_buf *out, dp_error *err) DP_MUST_USE;
dp_status dp_kll_deserialize(const void *data, size_t len, dp_kll **out, dp_error *err) DP_MUST_USE;
void dp__kll_write(const dp_kll *s, dp_serial_writer *w);
dp_status dp__kll_read(dp_serial_reader *r, dp_kll **out, dp_error *err) DP_MUST_USE;

/* Sort doubles ascending (finite values, no NaN): the sketch's sort, exposed for dp_marginal
 * and tests. */
void dp__sort_doubles(double *x, size_t n);

#endif

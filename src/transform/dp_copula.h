/* dp_copula.h: the per-value transforms of passes 2 and 4, from the pass-1 marginal models.
 *
 *   spearman: u = mid-rank CDF (F(v-) + F(v)) / 2 — the Pearson correlation of u is Spearman's
 *             rho, exactly when the model is an exact table (METHODS §2.1);
 *   gaussian: z = Phi^-1(R / (n + 1)), R = average rank = n u + 1/2 (n = valid values), clipped
 *             to [1/(2n), 1 - 1/(2n)]: van der Waerden normal scores, whose Pearson correlation
 *             is the Gaussian-rank correlation (§2.4; the oracle's `gaussian_rank`);
 *   pearson:  the raw value, optionally winsorised to the clip bounds.
 * Missing values (NaN) stay NaN. Values outside the model's range map to the extreme knots
 * (never to u = 0 or 1).
 *
 * Speed: a prepared column (dp_copula_col) precomputes the transformed value of every knot, so a
 * value equal to a knot (every value of a table column) costs one branch-free binary search and
 * one load; between knots of a sketch the mid-rank CDF is interpolated and, for `gaussian`,
 * Phi^-1 is evaluated with Acklam's approximation (relative error < 1.2e-9, far below the
 * sketch's rank error). Exactness for table columns is therefore kept bit for bit.
 *
 * Ownership: dp_copula_col is a caller value (prepare/reset) that references the fit (the fit must
 * outlive it) and owns its precomputed arrays. Thread safety: a prepared column is read-only and
 * may be used by several threads.
 */
#ifndef DP_TRANSFORM_COPULA_H
#define DP_TRANSFORM_COPULA_H

#include "transform/dp_marginal.h"

typedef enum dp_copula_method {
    DP_COPULA_SPEARMAN = 0,
    DP_COPULA_GAUSSIAN = 1,
    DP_COPULA_PEARSON = 2,
    DP_COPULA_UNIFORM_RDC = 3 /* u = F(v) as a fraction (rank / n): RDC's copula, R-code style */
} dp_copula_method;

const char *dp_copula_method_name(dp_copula_method m);
dp_status dp_copula_method_parse(const char *s, dp_copula_method *out, dp_error *err) DP_MUST_USE;

#define DP_COPULA_PAD 4

typedef struct dp_copula_col {
    dp_copula_method method;
    const dp_marginal_fit *fit;
    bool clip;
    double clip_lo, clip_hi;
    double *knot_value; /* transformed value at each knot (spearman/gaussian/uniform) */
    /* Between knots i-1 and i the mid-rank CDF is u0[i] + (x - values[i-1]) * slope[i]
     * (precomputed so a lookup costs a multiply, not two divisions). */
    double *u0, *slope;
    double u_lo, u_hi; /* gaussian clip range of u */
    /* Lookup index: bucket b of n_buckets equal-width buckets over [lo, lo + n_buckets / scale)
     * holds the knots first[b] .. first[b + 1]: a lookup searches only those. */
    int32_t *first;
    /* The knots again, followed by DP_COPULA_PAD copies of +Inf, so that a lookup in a bucket
     * of <= DP_COPULA_PAD knots reads a fixed number of them (no data-dependent branch). */
    double *knots_padded;
    int32_t n_buckets;
    double lo, scale;
} dp_copula_col;

void dp_copula_col_init(dp_copula_col *c);
/* Prepare column transforms. fit may be EMPTY (every output is then NaN). */
dp_status dp_copula_col_prepare(dp_copula_col *c, dp_copula_method m, const dp_marginal_fit *fit,
                                bool clip, double clip_lo, double clip_hi,
                                dp_error *err) DP_MUST_USE;
void dp_copula_col_reset(dp_copula_col *c);

/* y[i] = transform(x[i]) for i < n; x and y may be the same array. */
void dp_copula_apply(const dp_copula_col *c, const double *x, int64_t n, double *y);
/* One value (tests, slow paths). */
double dp_copula_value(const dp_copula_col *c, double x);

#endif

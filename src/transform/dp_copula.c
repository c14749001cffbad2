#include "transform/dp_copula.h"
#include "transform/dp_normal.h"
#include "util/dp_alloc.h"

#include <math.h>
#include <string.h>

const char *dp_copula_method_name(dp_copula_method m) {
    switch (m) {
    case DP_COPULA_SPEARMAN:
        return "spearman";
    case DP_COPULA_GAUSSIAN:
        return "gaussian";
    case DP_COPULA_PEARSON:
        return "pearson";
    case DP_COPULA_UNIFORM_RDC:
        return "uniform";
    }
    return "?";
}

dp_status dp_copula_method_parse(const char *s, dp_copula_method *out, dp_error *err) {
    for (int m = 0; m <= DP_COPULA_UNIFORM_RDC; m++)
        if (strcmp(s, dp_copula_method_name((dp_copula_method) m)) == 0) {
            *out = (dp_copula_method) m;
            return DP_OK;
        }
    return dp_error_set(err, DP_INVALID_ARG, "unknown method '%s' (spearman, gaussian, pearson)",
                        s);
}

void dp_copula_col_init(dp_copula_col *c) {
    memset(c, 0, sizeof *c);
}

void dp_copula_col_reset(dp_copula_col *c) {
    dp_free(c->knot_value);
    dp_free(c->u0);
    dp_free(c->slope);
    dp_free(c->first);
    dp_free(c->knots_padded);
    memset(c, 0, sizeof *c);
}

/* From a fraction of rank u (the mid-rank CDF) to the method's value. */
static double dp__from_u(const dp_copula_col *c, double u, bool exact) {
    switch (c->method) {
    case DP_COPULA_SPEARMAN:
        return u;
    case DP_COPULA_UNIFORM_RDC:
        return u + 0.5 / (double) c->fit->n; /* average rank / n */
    case DP_COPULA_GAUSSIAN:
        /* van der Waerden scores Phi^-1(R / (n + 1)) with R the average rank = n u + 1/2
         * (METHODS §2.4); the clip only matters for sketch values interpolated past the data. */
        u = (u * (double) c->fit->n + 0.5) / ((double) c->fit->n + 1.0);
        u = u < c->u_lo ? c->u_lo : u > c->u_hi ? c->u_hi : u;
        return exact ? dp_norm_ppf(u) : dp_norm_ppf_fast(u);
    case DP_COPULA_PEARSON:
        break;
    }
    return NAN;
}

dp_status dp_copula_col_prepare(dp_copula_col *c, dp_copula_method m, const dp_marginal_fit *fit,
                                bool clip, double clip_lo, double clip_hi, dp_error *err) {
    dp_copula_col_reset(c);
    c->method = m;
    c->fit = fit;
    c->clip = clip;
    c->clip_lo = clip_lo;
    c->clip_hi = clip_hi;
    if (m == DP_COPULA_PEARSON || fit->kind == DP_MARGINAL_EMPTY || fit->n_knots == 0)
        return DP_OK;
    double n = (double) fit->n;
    c->u_lo = 0.5 / n;
    c->u_hi = 1.0 - 0.5 / n;
    c->knot_value = dp_mallocarray((size_t) fit->n_knots, sizeof(double));
    if (c->knot_value == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory preparing a %lld-knot transform",
                            (long long) fit->n_knots);
    for (int64_t i = 0; i < fit->n_knots; i++)
        c->knot_value[i] = dp__from_u(c, 0.5 * (fit->lo[i] + fit->hi[i]) / n, true);
    c->u0 = dp_mallocarray((size_t) fit->n_knots, sizeof(double));
    c->slope = dp_mallocarray((size_t) fit->n_knots, sizeof(double));
    if (c->u0 == NULL || c->slope == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory preparing a %lld-knot transform",
                            (long long) fit->n_knots);
    c->u0[0] = c->slope[0] = 0;
    for (int64_t i = 1; i < fit->n_knots; i++) {
        double x0 = fit->values[i - 1], x1 = fit->values[i];
        c->u0[i] = fit->hi[i - 1] / n;
        c->slope[i] = (fit->lo[i] - fit->hi[i - 1]) / n / (x1 - x0);
    }
    /* Bucket index over [first knot, last knot]: about two buckets per knot (a power of two,
     * at most 2^14), each recording the first knot >= its lower edge. */
    int64_t nk = fit->n_knots;
    double a = fit->values[0], b = fit->values[nk - 1];
    if (nk >= 16 && b > a && isfinite(b - a)) {
        int32_t nb = 16;
        while (nb < 2 * nk && nb < (1 << 14))
            nb *= 2;
        c->first = dp_mallocarray((size_t) nb + 2, sizeof *c->first);
        c->knots_padded = dp_mallocarray((size_t) nk + DP_COPULA_PAD, sizeof(double));
        if (c->first == NULL || c->knots_padded == NULL)
            return dp_error_set(err, DP_NOMEM, "out of memory preparing a transform");
        c->n_buckets = nb;
        c->lo = a;
        c->scale = (double) nb / (b - a);
        int64_t k = 0;
        for (int32_t j = 0; j <= nb; j++) {
            /* First knot whose bucket is >= j, by the same arithmetic the lookup uses. */
            while (k < nk && (int64_t) ((fit->values[k] - a) * c->scale) < j)
                k++;
            c->first[j] = (int32_t) k;
        }
        c->first[nb + 1] = (int32_t) nk;
        memcpy(c->knots_padded, fit->values, (size_t) nk * sizeof(double));
        for (int32_t t = 0; t < DP_COPULA_PAD; t++)
            c->knots_padded[nk + t] = INFINITY;
    }
    return DP_OK;
}

/* Index of the first knot >= v (n_knots when none), branch-free. */
static inline int64_t dp__lower_bound(const double *a, int64_t n, double v) {
    const double *base = a;
    int64_t len = n;
    while (len > 1) {
        int64_t half = len / 2;
        base = base[half - 1] < v ? base + half : base;
        len -= half;
    }
    return (base - a) + (len == 1 && *base < v);
}

static inline double dp__transform(const dp_copula_col *c, double x) {
    const dp_marginal_fit *f = c->fit;
    if (c->method == DP_COPULA_PEARSON) {
        if (c->clip && !isnan(x))
            x = x < c->clip_lo ? c->clip_lo : x > c->clip_hi ? c->clip_hi : x;
        return x;
    }
    if (isnan(x) || c->knot_value == NULL)
        return NAN;
    int64_t m = f->n_knots;
    int64_t i;
    if (c->first != NULL) {
        /* x's bucket holds the knots that can be the first >= x, plus the first knot of the next
         * bucket; values below/above the range use the end buckets. */
        double pos = (x - c->lo) * c->scale;
        int32_t bk = pos < 0 ? 0 : pos >= c->n_buckets ? c->n_buckets : (int32_t) pos;
        int64_t lo = c->first[bk], hi = c->first[bk + 1];
        if (DP_LIKELY(hi - lo <= DP_COPULA_PAD)) {
            /* Knots past the bucket are > x (buckets are monotone in the value) and the padding
             * is +Inf, so counting the knots < x among the next DP_COPULA_PAD gives the first
             * knot >= x. Most buckets hold 0-2 knots; a search over them mispredicts. */
            const double *k = c->knots_padded + lo;
            i = lo + (int64_t) (k[0] < x) + (int64_t) (k[1] < x) + (int64_t) (k[2] < x) +
                (int64_t) (k[3] < x);
        } else {
            i = lo + dp__lower_bound(f->values + lo, hi - lo, x);
        }
    } else {
        i = dp__lower_bound(f->values, m, x);
    }
    if (i < m && f->values[i] == x)
        return c->knot_value[i];
    /* Between knots (sketch columns, or values unseen in pass 1): below the first / above the
     * last knot take the extreme knot's value; else interpolate the count of values < x on the
     * straight line from hi[i-1] to lo[i]. */
    if (i == 0)
        return c->knot_value[0];
    if (i == m)
        return c->knot_value[m - 1];
    double u = c->u0[i] + (x - f->values[i - 1]) * c->slope[i];
    if (c->method == DP_COPULA_SPEARMAN)
        return u;
    return dp__from_u(c, u, false);
}

double dp_copula_value(const dp_copula_col *c, double x) {
    return dp__transform(c, x);
}

void dp_copula_apply(const dp_copula_col *c, const double *x, int64_t n, double *y) {
    if (c->method == DP_COPULA_PEARSON && !c->clip) {
        if (x != y)
            memcpy(y, x, (size_t) n * sizeof *y);
        return;
    }
    for (int64_t i = 0; i < n; i++)
        y[i] = dp__transform(c, x[i]);
}

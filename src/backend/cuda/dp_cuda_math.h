/* dp_cuda_math.h: the per-value math of the CUDA backend, written once for host and device.
 *
 * Every function is `static inline DP_HD`. Under nvcc DP_HD is __host__ __device__, so the
 * kernels (dp_cuda_kernels.cu) run exactly this code; in a C build DP_HD is empty and the unit
 * tests (tests/unit/test_cuda_host.c) compare this same code with the CPU implementations it
 * restates: transform/dp_copula.c (mid-rank CDF lookup and interpolation between the knots of the
 * pass-1 marginal models), transform/dp_normal.c (the fast inverse normal CDF, Acklam's
 * approximation), transform/dp_nlfeatures.c (Mercer recurrence, RDC sine features).
 *
 * Same numerics. The operations are the CPU code's, in the same order. Floating-point
 * contraction is off on both sides (nvcc -fmad=false, set in src/backend/CMakeLists.txt; ISO C
 * mode on the host), so the device computes the same bits as the CPU except where a libm
 * function differs in its last place: log() in the normal-score tails (p < 0.02425), exp() in the
 * Mercer envelope, sin() for RDC arguments beyond 1e5 (never with the default s = 6). Those
 * differ by at most a few units in the last place; the unit tests bound the host side exactly.
 * Values that hit a knot (every value of a table column) are looked up in `kv`, which the host
 * computed with the exact inverse normal (dp_norm_ppf), so they are bit-identical everywhere.
 *
 * Normal scores. The CPU uses Acklam's approximation (relative error < 1.2e-9) for values
 * between sketch knots, and so does the device: CUDA's normcdfinv would be more accurate but
 * would then differ from the CPU by up to 1.2e-9 on those values, breaking the 1e-12 agreement of
 * the float64 matrices. Building with -DDP_CUDA_USE_NORMCDFINV=1 makes the kernels call
 * normcdfinv instead (the host build is unchanged).
 *
 * Layout of the uploaded models ("flat" models, built by dp_cuda_flat_build): the knots of every
 * column, one after the other, in four arrays values / u0 / slope / kv indexed by the column's
 * `off`; kv holds the transformed value of each knot for one transform (pass 4 uploads two kv
 * arrays, normal scores and uniform copula, over the same knots).
 *
 * Ownership: plain data and pure functions. Thread safety: pure functions.
 */
#ifndef DP_BACKEND_CUDA_MATH_H
#define DP_BACKEND_CUDA_MATH_H

#include <math.h>
#include <stdint.h>

#if defined(__CUDACC__)
#define DP_HD __host__ __device__
#else
#define DP_HD
#endif

#ifndef DP_CUDA_USE_NORMCDFINV
#define DP_CUDA_USE_NORMCDFINV 0
#endif

/* Transform methods: the values of dp_copula_method (checked by a static assertion in
 * dp_cuda_host.c; this header stays free of dpipe headers so that nvcc can include it). */
#define DP_CM_SPEARMAN 0
#define DP_CM_GAUSSIAN 1
#define DP_CM_PEARSON  2
#define DP_CM_UNIFORM  3

/* One column of one transform, as uploaded. */
typedef struct dp_cm_col {
    int64_t off;             /* first knot of the column in the flat arrays */
    int64_t m;               /* knots; 0 = no model (every value is missing, as the CPU does) */
    double n;                /* values the model describes (fit->n) */
    double u_lo, u_hi;       /* gaussian: clip range of u */
    double clip_lo, clip_hi; /* pearson with clip: winsorising bounds */
    int32_t method;          /* DP_CM_* */
    int32_t clip;            /* pearson: winsorise */
} dp_cm_col;

/* The Mercer feature map (a view of a dp_mercer: pointers to host or device copies). */
typedef struct dp_cm_mercer {
    int32_t m;
    double c_minus_a;
    double sqrt_2c;
    const double *coef, *rec_a, *rec_b, *pilot; /* m each */
} dp_cm_mercer;

static inline DP_HD int dp_cm_isnan(double x) {
    return x != x;
}

/* x - x is 0 exactly for finite x and NaN for +-Inf and NaN. */
static inline DP_HD int dp_cm_isfinite(double x) {
    return x - x == 0.0;
}

/* ---- inverse normal CDF (dp_norm_ppf_fast) ------------------------------------------------ */

static inline DP_HD double dp_cm_acklam(double p) {
    /* Acklam's coefficients, in the CPU's Horner order (no arrays: device code has no static
     * local tables). */
    const double p_low = 0.02425;
    if (p < p_low) {
        double q = sqrt(-2 * log(p));
        return (((((-7.784894002430293e-03 * q + -3.223964580411365e-01) * q +
                   -2.400758277161838e+00) *
                      q +
                  -2.549732539343734e+00) *
                     q +
                 4.374664141464968e+00) *
                    q +
                2.938163982698783e+00) /
               ((((7.784695709041462e-03 * q + 3.224671290700398e-01) * q + 2.445134137142996e+00) *
                     q +
                 3.754408661907416e+00) *
                    q +
                1);
    }
    double q = p - 0.5;
    double r = q * q;
    return (((((-3.969683028665376e+01 * r + 2.209460984245205e+02) * r + -2.759285104469687e+02) *
                  r +
              1.383577518672690e+02) *
                 r +
             -3.066479806614716e+01) *
                r +
            2.506628277459239e+00) *
           q /
           (((((-5.447609879822406e+01 * r + 1.615858368580409e+02) * r + -1.556989798598866e+02) *
                  r +
              6.680131188771972e+01) *
                 r +
             -1.328068155288572e+01) *
                r +
            1);
}

static inline DP_HD double dp_cm_ppf_fast(double p) {
#if defined(__CUDA_ARCH__) && DP_CUDA_USE_NORMCDFINV
    return normcdfinv(p);
#else
    if (dp_cm_isnan(p) || p < 0 || p > 1)
        return NAN;
    if (p == 0)
        return -INFINITY;
    if (p == 1)
        return INFINITY;
    if (p <= 0.5)
        return dp_cm_acklam(p);
    return -dp_cm_acklam(1.0 - p);
#endif
}

/* ---- copula transforms (dp_copula_value) -------------------------------------------------- */

/* Index of the first of a[0..n) >= v (n when none), branch-free (as dp_copula.c). */
static inline DP_HD int64_t dp_cm_lower_bound(const double *a, int64_t n, double v) {
    const double *base = a;
    int64_t len = n;
    while (len > 1) {
        int64_t half = len / 2;
        base = base[half - 1] < v ? base + half : base;
        len -= half;
    }
    return (base - a) + (len == 1 && *base < v);
}

/* From a fraction of rank between knots to the method's value (the inexact path). */
static inline DP_HD double dp_cm_from_u(const dp_cm_col *c, double u) {
    switch (c->method) {
    case DP_CM_SPEARMAN:
        return u;
    case DP_CM_UNIFORM:
        return u + 0.5 / c->n;
    case DP_CM_GAUSSIAN:
        u = (u * c->n + 0.5) / (c->n + 1.0);
        u = u < c->u_lo ? c->u_lo : u > c->u_hi ? c->u_hi : u;
        return dp_cm_ppf_fast(u);
    default:
        break;
    }
    return NAN;
}

/* The transformed value of x for column c; values/u0/slope/kv are the flat arrays (kv of this
 * transform). NaN for a missing value. */
static inline DP_HD double dp_cm_transform(const dp_cm_col *c, const double *values,
                                           const double *u0, const double *slope, const double *kv,
                                           double x) {
    if (c->method == DP_CM_PEARSON) {
        if (c->clip && !dp_cm_isnan(x))
            x = x < c->clip_lo ? c->clip_lo : x > c->clip_hi ? c->clip_hi : x;
        return x;
    }
    if (dp_cm_isnan(x) || c->m == 0)
        return NAN;
    const double *v = values + c->off;
    const int64_t m = c->m;
    int64_t i = dp_cm_lower_bound(v, m, x);
    if (i < m && v[i] == x)
        return kv[c->off + i];
    if (i == 0)
        return kv[c->off];
    if (i == m)
        return kv[c->off + m - 1];
    /* the mid-rank CDF between knots i-1 and i: u0[i] + (x - values[i-1]) slope[i], with u0
     * and slope precomputed by the host (dp_copula_col_prepare) */
    double u = u0[c->off + i] + (x - v[i - 1]) * slope[c->off + i];
    if (c->method == DP_CM_SPEARMAN)
        return u;
    return dp_cm_from_u(c, u);
}

/* Missing values of a column among `rows` raw values of which n_nan are NaN and n_nonfinite
 * are NaN or +-Inf: the count of non-finite transformed values (what the accumulators treat as
 * missing). Copula methods map +-Inf to the extreme knots; a clipped Pearson column clips them. */
static inline DP_HD int64_t dp_cm_missing_count(const dp_cm_col *c, int64_t rows, int64_t n_nan,
                                                int64_t n_nonfinite) {
    if (c->method == DP_CM_PEARSON)
        return c->clip ? n_nan : n_nonfinite;
    return c->m == 0 ? rows : n_nan;
}

/* ---- Mercer features (dp_mercer_fill) ------------------------------------------------------ */

/* out[k * stride] = psi_k(z) - shift[k] for k < m; a NaN z gives pilot[k] - shift[k]. */
static inline DP_HD void dp_cm_mercer_row(const dp_cm_mercer *mf, double z, const double *shift,
                                          double *out, int64_t stride) {
    const int32_t m = mf->m;
    if (dp_cm_isnan(z)) {
        for (int32_t k = 0; k < m; k++)
            out[k * stride] = mf->pilot[k] - shift[k];
        return;
    }
    /* beyond |z| = 40 every feature is below 1e-200 (dp_nlfeatures.c) */
    if (z > 40.0)
        z = 40.0;
    else if (z < -40.0)
        z = -40.0;
    const double y = mf->sqrt_2c * z;
    const double env = exp(-mf->c_minus_a * z * z);
    double hm1 = 0, hk = 1;
    out[0] = mf->coef[0] * env - shift[0];
    if (m > 1) {
        double h1 = 1.4142135623730951 * y; /* M_SQRT2 */
        out[stride] = mf->coef[1] * env * h1 - shift[1];
        hm1 = hk;
        hk = h1;
    }
    for (int32_t k = 1; k + 1 < m; k++) {
        double hn = mf->rec_a[k] * y * hk - mf->rec_b[k] * hm1;
        hm1 = hk;
        hk = hn;
        out[(k + 1) * stride] = mf->coef[k + 1] * env * hn - shift[k + 1];
    }
}

/* ---- RDC sine features (dp_rdc_fill) ------------------------------------------------------- */

/* sin(x) for |x| <= 1e5 without branches: Cody-Waite reduction by pi/2 (fdlibm's split) and
 * Taylor polynomials, as dp__sin_fast. */
static inline DP_HD double dp_cm_sin_kernel(double x) {
    const double pio2_1 = 1.57079632673412561417e+00;
    const double pio2_2 = 6.07710050630396597660e-11;
    const double pio2_2t = 2.02226624879595063154e-21;
    const double two_over_pi = 6.36619772367581382433e-01;
    const double magic = 6755399441055744.0;
    double nf = (x * two_over_pi + magic) - magic;
    double r = ((x - nf * pio2_1) - nf * pio2_2) - nf * pio2_2t;
    int64_t q = (int64_t) nf;
    double r2 = r * r;
    double sp = -1.0 / 1307674368000.0;
    sp = sp * r2 + 1.0 / 6227020800.0;
    sp = sp * r2 - 1.0 / 39916800.0;
    sp = sp * r2 + 1.0 / 362880.0;
    sp = sp * r2 - 1.0 / 5040.0;
    sp = sp * r2 + 1.0 / 120.0;
    sp = sp * r2 - 1.0 / 6.0;
    double sv = r + r * r2 * sp;
    double cp = 1.0 / 20922789888000.0;
    cp = cp * r2 - 1.0 / 87178291200.0;
    cp = cp * r2 + 1.0 / 479001600.0;
    cp = cp * r2 - 1.0 / 3628800.0;
    cp = cp * r2 + 1.0 / 40320.0;
    cp = cp * r2 - 1.0 / 720.0;
    cp = cp * r2 + 1.0 / 24.0;
    double cv = 1.0 - 0.5 * r2 + r2 * r2 * cp;
    double v = (q & 1) ? cv : sv;
    return (q & 2) ? -v : v;
}

/* sin(w u + b) - shift for one feature; a NaN u gives pilot - shift; u is clamped to [0, 1]. */
static inline DP_HD double dp_cm_rdc_value(double w, double b, double pilot, double shift,
                                           double u) {
    if (dp_cm_isnan(u))
        return pilot - shift;
    u = u < 0 ? 0 : (u > 1 ? 1 : u);
    double x = w * u + b;
    return (fabs(w) + fabs(b) <= 1e5 ? dp_cm_sin_kernel(x) : sin(x)) - shift;
}

#endif

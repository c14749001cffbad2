/* Mercer (Hermite-function) and random-sine feature maps of Pass 4; see dp_features.h. */
#include "transform/dp_nlfeatures.h"
#include "util/dp_rng.h"

#include <math.h>

/* Beyond |z| = 40 every Mercer feature is below 1e-200; clamping keeps exp() * h_k() finite
 * (h_k grows like y^k, the envelope underflows to 0, and 0 * inf would be NaN). */
#define DP__Z_CLAMP 40.0

dp_status dp_mercer_init(dp_mercer *mf, int32_t m, double sigma, dp_error *err) {
    if (m < 1 || m > DP_FEATURES_MAX)
        return dp_error_set(err, DP_INVALID_ARG, "Mercer features: m = %d is outside [1, %d]",
                            (int) m, DP_FEATURES_MAX);
    if (!(sigma > 0) || !isfinite(sigma))
        return dp_error_set(err, DP_INVALID_ARG,
                            "Mercer features: kernel width sigma = %g must be finite and > 0",
                            sigma);
    const double a = 0.25;
    const double b = 1.0 / (2.0 * sigma * sigma);
    const double c = sqrt(a * a + 2.0 * a * b);
    const double A = a + b + c;
    const double B = b / A;
    const double lam0 = sqrt(2.0 * a / A);
    const double env = sqrt(2.0 * sqrt(c));
    mf->m = m;
    mf->sigma = sigma;
    mf->c_minus_a = c - a;
    mf->sqrt_2c = sqrt(2.0 * c);
    for (int32_t k = 0; k < m; k++) {
        /* Same operation order as the oracle: sqrt(lam0 * B**k) * env. */
        mf->lambda[k] = lam0 * pow(B, (double) k);
        mf->coef[k] = sqrt(mf->lambda[k]) * env;
        mf->rec_a[k] = sqrt(2.0 / (double) (k + 1));
        mf->rec_b[k] = sqrt((double) k / (double) (k + 1));
        mf->pilot[k] = 0;
    }
    /* Pilot E[psi_k(Z)] by the trapezoid rule on [-16, 16] with step 1/64. The integrand is
     * analytic with Gaussian decay (exp(-(c - a + 1/2) z^2)), for which the trapezoid rule
     * converges geometrically: this step and range are accurate to the last bits. The sum is
     * taken symmetrically from the tails inwards so that odd k give exactly 0. */
    double feat[DP_FEATURES_MAX];
    const double h = 1.0 / 64.0;
    const int n_half = 16 * 64;
    const double inv_sqrt_2pi = 0.3989422804014327;
    double acc[DP_FEATURES_MAX];
    for (int32_t k = 0; k < m; k++)
        acc[k] = 0;
    for (int i = n_half; i >= 1; i--) {
        double z = h * i;
        double w = h * inv_sqrt_2pi * exp(-0.5 * z * z);
        double fneg[DP_FEATURES_MAX];
        dp_mercer_eval(mf, z, feat);
        dp_mercer_eval(mf, -z, fneg);
        for (int32_t k = 0; k < m; k++)
            acc[k] += w * (feat[k] + fneg[k]);
    }
    dp_mercer_eval(mf, 0.0, feat);
    for (int32_t k = 0; k < m; k++)
        mf->pilot[k] = acc[k] + h * inv_sqrt_2pi * feat[k];
    return DP_OK;
}

static inline void dp__mercer_row(const dp_mercer *mf, double z, double *out, int64_t stride) {
    if (z > DP__Z_CLAMP)
        z = DP__Z_CLAMP;
    else if (z < -DP__Z_CLAMP)
        z = -DP__Z_CLAMP;
    const double y = mf->sqrt_2c * z;
    const double env = exp(-mf->c_minus_a * z * z);
    double hm1 = 0, hk = 1;
    out[0] = mf->coef[0] * env;
    if (mf->m > 1) {
        double h1 = M_SQRT2 * y;
        out[stride] = mf->coef[1] * env * h1;
        hm1 = hk;
        hk = h1;
    }
    for (int32_t k = 1; k + 1 < mf->m; k++) {
        double hn = mf->rec_a[k] * y * hk - mf->rec_b[k] * hm1;
        hm1 = hk;
        hk = hn;
        out[(k + 1) * stride] = mf->coef[k + 1] * env * hn;
    }
}

void dp_mercer_eval(const dp_mercer *mf, double z, double *out) {
    if (isnan(z)) {
        for (int32_t k = 0; k < mf->m; k++)
            out[k] = mf->pilot[k];
        return;
    }
    dp__mercer_row(mf, z, out, 1);
}

int64_t dp_mercer_fill(const dp_mercer *mf, const double *z, int64_t n, const double *shift,
                       double *out, int64_t ldo) {
    int64_t n_missing = 0;
    for (int64_t t = 0; t < n; t++) {
        if (isnan(z[t])) {
            for (int32_t k = 0; k < mf->m; k++)
                out[t + k * ldo] = mf->pilot[k];
            n_missing++;
        } else {
            dp__mercer_row(mf, z[t], out + t, ldo);
        }
    }
    if (shift != NULL) {
        for (int32_t k = 0; k < mf->m; k++) {
            double *o = out + k * ldo;
            const double sk = shift[k];
            for (int64_t t = 0; t < n; t++)
                o[t] -= sk;
        }
    }
    return n_missing;
}

dp_status dp_rdc_check_params(int32_t k, double s, dp_error *err) {
    if (k < 1 || k > DP_FEATURES_MAX)
        return dp_error_set(err, DP_INVALID_ARG, "RDC features: k = %d is outside [1, %d]", (int) k,
                            DP_FEATURES_MAX);
    if (!(s > 0) || !isfinite(s) || s > 1e3)
        return dp_error_set(err, DP_INVALID_ARG,
                            "RDC features: scale s = %g must be finite and in (0, 1000]", s);
    return DP_OK;
}

void dp_rdc_draw(uint64_t seed, const char *column_name, int32_t k, double s, double *w,
                 double *b) {
    dp_rng r;
    dp_rng_seed_key(&r, seed, column_name, DP_RDC_SALT);
    const double scale = s / 2.0;
    for (int32_t j = 0; j < k; j++)
        w[j] = dp_rng_normal(&r) * scale;
    for (int32_t j = 0; j < k; j++)
        b[j] = dp_rng_normal(&r) * scale;
}

void dp_rdc_pilot(const double *w, const double *b, int32_t k, double *pilot) {
    for (int32_t j = 0; j < k; j++) {
        /* int_0^1 sin(w u + b) du = (cos b - cos(w + b)) / w = 2 sin(w/2) sin(b + w/2) / w; the
         * product form has no cancellation for small w. */
        double hw = 0.5 * w[j];
        if (fabs(hw) < 1e-300)
            pilot[j] = sin(b[j]);
        else
            pilot[j] = sin(hw) / hw * sin(b[j] + hw);
    }
}

/* Cody-Waite split of pi/2 (fdlibm's pio2_1, pio2_2, pio2_2t): n * pio2_1 and n * pio2_2 are
 * exact for |n| < 2^20, so the reduced argument carries only rounding of its own size. */
static const double dp__pio2_1 = 1.57079632673412561417e+00;
static const double dp__pio2_2 = 6.07710050630396597660e-11;
static const double dp__pio2_2t = 2.02226624879595063154e-21;
static const double dp__2_over_pi = 6.36619772367581382433e-01;

static inline double dp__sin_kernel(double x) {
    /* Round to nearest with the 1.5 * 2^52 trick (no branch, no libm call). */
    const double magic = 6755399441055744.0;
    double nf = (x * dp__2_over_pi + magic) - magic;
    double r = ((x - nf * dp__pio2_1) - nf * dp__pio2_2) - nf * dp__pio2_2t;
    int64_t q = (int64_t) nf;
    double r2 = r * r;
    /* Taylor series on |r| <= pi/4: the first omitted terms are below 5e-17 (sin) and 2e-18
     * (cos). */
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

double dp__sin_fast(double x) {
    if (!(fabs(x) <= 1e5))
        return sin(x);
    return dp__sin_kernel(x);
}

int64_t dp_rdc_fill(const double *w, const double *b, const double *pilot, int32_t k,
                    const double *u, int64_t n, const double *shift, double *out, int64_t ldo) {
    int64_t n_missing = 0;
    for (int64_t t = 0; t < n; t++)
        n_missing += isnan(u[t]) ? 1 : 0;
    for (int32_t j = 0; j < k; j++) {
        const double wj = w[j], bj = b[j];
        const double sj = shift != NULL ? shift[j] : 0.0;
        const double mj = pilot[j] - sj;
        double *o = out + j * ldo;
        /* u is clamped to [0, 1], so |w u + b| <= |w| + |b| bounds every argument. */
        const bool fast = fabs(wj) + fabs(bj) <= 1e5;
        for (int64_t t = 0; t < n; t++) {
            double ut = u[t];
            if (isnan(ut)) {
                o[t] = mj;
                continue;
            }
            ut = ut < 0 ? 0 : (ut > 1 ? 1 : ut);
            double x = wj * ut + bj;
            o[t] = (fast ? dp__sin_kernel(x) : sin(x)) - sj;
        }
    }
    return n_missing;
}

/* ---- HSIC sketch ---------------------------------------------------------------------------- */

dp_status dp_sketch_check_params(int32_t D, int32_t m, int32_t r, double sigma, dp_error *err) {
    if (D < 1 || D > DP_SKETCH_D_MAX)
        return dp_error_set(err, DP_INVALID_ARG,
                            "HSIC sketch: --hsic-D %d random features is outside [1, %d]", (int) D,
                            DP_SKETCH_D_MAX);
    if (m < 2 || m > DP_SKETCH_M_MAX)
        return dp_error_set(
            err, DP_INVALID_ARG,
            "HSIC sketch: --m %d CountSketch buckets is outside [2, %d] (one bucket "
            "cannot separate a column's own variance from the sketch noise; more "
            "than %d make the (p*m)^2 co-moments larger than the Mercer path's)",
            (int) m, DP_SKETCH_M_MAX, DP_SKETCH_M_MAX);
    if (m > D)
        return dp_error_set(err, DP_INVALID_ARG,
                            "HSIC sketch: --m %d buckets for --hsic-D %d features: a CountSketch "
                            "with more buckets than inputs only adds empty buckets (use m <= D)",
                            (int) m, (int) D);
    if (r < 1 || r > DP_SKETCH_R_MAX)
        return dp_error_set(err, DP_INVALID_ARG,
                            "HSIC sketch: --r %d repetitions is outside [1, %d]", (int) r,
                            DP_SKETCH_R_MAX);
    if (!(sigma > 0) || !isfinite(sigma))
        return dp_error_set(err, DP_INVALID_ARG,
                            "HSIC sketch: kernel width sigma = %g must be finite and > 0", sigma);
    return DP_OK;
}

void dp_sketch_draw(uint64_t seed, const char *column_name, int32_t rep, int32_t D, int32_t m,
                    double sigma, double *w, double *b, int32_t *h, double *a) {
    dp_rng r;
    dp_rng_seed_key(&r, seed, column_name, DP_SKETCH_SALT + (uint64_t) rep);
    const double inv_sigma = 1.0 / sigma, scale = sqrt(2.0 / (double) D);
    for (int32_t d = 0; d < D; d++)
        w[d] = dp_rng_normal(&r) * inv_sigma;
    for (int32_t d = 0; d < D; d++)
        b[d] = 2.0 * M_PI * dp_rng_uniform(&r);
    for (int32_t d = 0; d < D; d++)
        h[d] = (int32_t) dp_rng_below(&r, (uint64_t) m);
    for (int32_t d = 0; d < D; d++)
        a[d] = (dp_rng_next(&r) >> 63) ? -scale : scale;
}

void dp_sketch_pilot(int32_t D, int32_t m, const double *w, const double *b, const int32_t *h,
                     const double *a, double *pilot) {
    for (int32_t c = 0; c < m; c++)
        pilot[c] = 0;
    /* E[cos(wZ + b)] = Re E[e^{i(wZ + b)}] = exp(-w^2/2) cos b for Z ~ N(0, 1). */
    for (int32_t d = 0; d < D; d++)
        pilot[h[d]] += a[d] * exp(-0.5 * w[d] * w[d]) * cos(b[d]);
}

/* Rows per chunk of dp_sketch_fill: the cleaned values live on the stack. */
#define DP__SK_CHUNK 256

int64_t dp_sketch_fill(const dp_sketch_map *map, const double *z, int64_t n, const double *shift,
                       double *out, int64_t ldo) {
    const int32_t D = map->D, m = map->m;
    int64_t n_missing = 0;
    double zc[DP__SK_CHUNK];
    for (int64_t t0 = 0; t0 < n; t0 += DP__SK_CHUNK) {
        const int64_t len = DP_MIN((int64_t) DP__SK_CHUNK, n - t0);
        /* NaN rows get z = 0 here (no NaN reaches the sine kernel's integer conversion) and are
         * overwritten below. */
        for (int64_t t = 0; t < len; t++) {
            double v = z[t0 + t];
            zc[t] = isnan(v)
                        ? 0.0
                        : (v > DP__Z_CLAMP ? DP__Z_CLAMP : (v < -DP__Z_CLAMP ? -DP__Z_CLAMP : v));
        }
        for (int32_t c = 0; c < m; c++)
            for (int64_t t = 0; t < len; t++)
                out[t0 + t + c * ldo] = 0;
        for (int32_t d = 0; d < D; d++) {
            const double wd = map->w[d], ad = map->a[d];
            /* cos(x) = sin(x + pi/2): the branch-free sine kernel vectorises the row loop. */
            const double bd = map->b[d] + M_PI_2;
            double *o = out + t0 + (int64_t) map->h[d] * ldo;
            if (fabs(wd) * DP__Z_CLAMP + fabs(bd) <= 1e5) {
                for (int64_t t = 0; t < len; t++)
                    o[t] += ad * dp__sin_kernel(wd * zc[t] + bd);
            } else {
                for (int64_t t = 0; t < len; t++)
                    o[t] += ad * sin(wd * zc[t] + bd);
            }
        }
        for (int32_t c = 0; c < m; c++) {
            const double sc = shift != NULL ? shift[c] : 0.0, mc = map->pilot[c] - sc;
            double *o = out + t0 + c * ldo;
            for (int64_t t = 0; t < len; t++)
                o[t] = isnan(z[t0 + t]) ? mc : o[t] - sc;
        }
        for (int64_t t = 0; t < len; t++)
            n_missing += isnan(z[t0 + t]) ? 1 : 0;
    }
    return n_missing;
}

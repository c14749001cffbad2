/* dp_nlfeatures.h: per-column feature maps of Pass 4 (nonlinear dependence).
 *
 * Two maps, both applied to a column's copula values computed by the caller from the Pass-1
 * marginal model (METHODS.md §4.5, §5.4):
 *
 *   HSIC - m deterministic Mercer (Hermite-function) features of the normal score z for the
 *          Gaussian kernel exp(-(z - z')^2 / (2 sigma^2)), sigma = sqrt(2) Phi^-1(3/4) = 0.9539
 *          (the median heuristic's population value for normal scores):
 *              psi_k(z) = sqrt(lambda_k) e_k(z),  k = 0..m-1,
 *          lambda_k = sqrt(2a/A) B^k and e_k(z) = (2 sqrt c)^(1/2) exp(-(c - a) z^2)
 *          h_k(sqrt(2c) z), a = 1/4, b = 1/(2 sigma^2), c = sqrt(a^2 + 2ab), A = a + b + c,
 *          B = b/A, with normalised Hermite polynomials h_k from the stable three-term recurrence
 *          h_{k+1} = sqrt(2/(k+1)) y h_k - sqrt(k/(k+1)) h_{k-1}. Same definition as the oracle's
 *          mercer_features; no random draws.
 *   RDC  - k random features sin(w u + b) of the uniform copula u, in the R reference code's
 *          convention: w, b ~ N(0, (s/2)^2) (the code scales N(0,1) draws by s/ncol with
 *          ncol = 2 after appending the constant column), production s = 6. The oracle's
 *          rdc(..., convention='code', weights=W) takes W[i, 0, :] = w and W[i, 1, :] = b.
 *          Draws are addressed by (seed, column name) through dp_rng_seed_key with salt
 *          DP_RDC_SALT: k normals for w, then k normals for b, each multiplied by s/2. A column
 *          therefore keeps its features whatever else is selected.
 *
 * Missing values (NaN in z or u): the feature row is set to the column's pilot mean, the
 * analytic expectation of the features under the copula's target law (E[psi_k(Z)], Z ~ N(0,1),
 * by a fixed trapezoid quadrature; E[sin(wU + b)] = (cos b - cos(w + b))/w, U ~ U(0,1)). The pilot
 * is a constant of the feature map: it does not depend on data, batch size or row order. The
 * accumulators shift every feature by its pilot, so a missing row contributes exactly zero to
 * the shifted sums (dp_featgram.h explains what that means for the covariance).
 * Non-NaN infinities are not missing: z is clamped to [-40, 40] (every feature is below 1e-200
 * there) and u to [0, 1].
 *
 * Ownership: dp_mercer is a small caller-owned value (no heap). The RDC functions write into
 * caller-provided arrays. Thread safety: pure functions of their arguments.
 */
#ifndef DP_TRANSFORM_NLFEATURES_H
#define DP_TRANSFORM_NLFEATURES_H

#include "util/dp_base.h"

/* Largest number of features per column either map accepts (memory grows as (p*m)^2). */
#define DP_FEATURES_MAX 256

/* sqrt(2) * Phi^-1(3/4): the oracle's SIGMA_NORMAL_SCORES_MEDIAN to the last bit. */
#define DP_MERCER_SIGMA_DEFAULT 0.9538725524089398
#define DP_MERCER_M_DEFAULT     10
#define DP_RDC_K_DEFAULT        20
#define DP_RDC_S_DEFAULT        6.0
/* Salt of the RDC draw stream ("RDCW" in ASCII): keeps these draws apart from any other stream
 * keyed by the same column name. Part of the file formats' meaning: never change it. */
#define DP_RDC_SALT 0x52444357ull

typedef struct dp_mercer {
    int32_t m;
    double sigma;
    double c_minus_a;              /* envelope exp(-(c - a) z^2) */
    double sqrt_2c;                /* y = sqrt(2c) z */
    double coef[DP_FEATURES_MAX];  /* sqrt(lambda_k) * (2 sqrt c)^(1/2) */
    double rec_a[DP_FEATURES_MAX]; /* sqrt(2/(k+1)) */
    double rec_b[DP_FEATURES_MAX]; /* sqrt(k/(k+1)) */
    double pilot[DP_FEATURES_MAX]; /* E[psi_k(Z)], Z ~ N(0, 1) */
    double lambda[DP_FEATURES_MAX];
} dp_mercer;

/* m in [1, DP_FEATURES_MAX], sigma finite and > 0; INVALID_ARG otherwise. */
dp_status dp_mercer_init(dp_mercer *mf, int32_t m, double sigma, dp_error *err) DP_MUST_USE;
/* The m features of one value (out[0..m)); NaN gives the pilot. */
void dp_mercer_eval(const dp_mercer *mf, double z, double *out);
/* Feature block of a column: out[t + k*ldo] = psi_k(z[t]) - shift[k] for t < n, k < m
 * (ldo >= n). shift NULL means zero; shift = mf->pilot gives the centred block in which missing
 * rows are exactly 0. Returns the number of missing (NaN) rows. */
int64_t dp_mercer_fill(const dp_mercer *mf, const double *z, int64_t n, const double *shift,
                       double *out, int64_t ldo);

/* Draw w[0..k), b[0..k) for a column (s > 0, 1 <= k <= DP_FEATURES_MAX are the caller's to
 * check; dp_rdc_check_params does it). */
void dp_rdc_draw(uint64_t seed, const char *column_name, int32_t k, double s, double *w, double *b);
dp_status dp_rdc_check_params(int32_t k, double s, dp_error *err) DP_MUST_USE;
/* pilot[j] = E[sin(w_j U + b_j)] for U ~ U(0, 1). */
void dp_rdc_pilot(const double *w, const double *b, int32_t k, double *pilot);
/* out[t + j*ldo] = sin(w_j u[t] + b_j) - shift[j]; NaN u gives pilot[j] - shift[j] (0 when
 * shift == pilot). shift NULL means zero. Returns the number of missing rows. */
int64_t dp_rdc_fill(const double *w, const double *b, const double *pilot, int32_t k,
                    const double *u, int64_t n, const double *shift, double *out, int64_t ldo);

/* sin(x) for |x| <= 1e5 by Cody-Waite reduction and Taylor polynomials, written without
 * branches so the compiler can vectorise the feature loop; absolute error below 4e-16 (the
 * tests compare it with libm). Larger |x| falls back to libm. Exposed for the tests. */
double dp__sin_fast(double x);

#endif

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
 *   HSIC sketch (--hsic-estimator sketch; METHODS.md §4.2, §6) - D random Fourier features of the
 *          normal score for the same Gaussian kernel, phi_d(z) = sqrt(2/D) cos(w_d z + b_d),
 *          w_d ~ N(0, 1/sigma^2), b_d ~ U[0, 2 pi), compressed by a CountSketch S: R^D -> R^m,
 *          (S x)_c = sum_{d: h_d = c} s_d x_d, h_d uniform on [0, m), s_d = +-1, all independent.
 *          The m sketched values are the column's features. A repetition has its own draws:
 *          dp_rng_seed_key(seed, column name, DP_SKETCH_SALT + rep) gives D normals (w), D uniforms
 *          (b), D buckets (dp_rng_below(m)) and D signs (top bit of one draw each), in that order.
 *          The coefficient a_d = s_d sqrt(2/D) is stored instead of s_d.
 *
 * Missing values (NaN in z or u): the feature row is set to the column's pilot mean, the
 * analytic expectation of the features under the copula's target law (E[psi_k(Z)], Z ~ N(0,1),
 * by a fixed trapezoid quadrature; E[sin(wU + b)] = (cos b - cos(w + b))/w, U ~ U(0,1);
 * E[cos(wZ + b)] = exp(-w^2/2) cos b, pushed through the sketch). The pilot
 * is a constant of the feature map: it does not depend on data, batch size or row order. The
 * accumulators shift every feature by its pilot, so a missing row contributes exactly zero to
 * the shifted sums (dp_featgram.h explains what that means for the covariance).
 * Non-NaN infinities are not missing: z is clamped to [-40, 40] (every Mercer feature is below
 * 1e-200 there; normal scores of a copula never exceed about 9) and u to [0, 1].
 *
 * Ownership: dp_mercer is a small caller-owned value (no heap). The RDC and sketch functions
 * write into caller-provided arrays. Thread safety: pure functions of their arguments.
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

/* ---- HSIC sketch ---------------------------------------------------------------------------- */

#define DP_SKETCH_D_DEFAULT 256
#define DP_SKETCH_M_DEFAULT 16
#define DP_SKETCH_R_DEFAULT 8
/* Caps: D costs D cosines per value and repetition (and 28 bytes of draws per column); m gives
 * (p m)^2 co-moments per repetition (m >= 2: one bucket cannot tell a column's own variance from
 * the sketch noise, see dp_nonlinear.h); r is the option's range. */
#define DP_SKETCH_D_MAX 65536
#define DP_SKETCH_M_MAX DP_FEATURES_MAX
#define DP_SKETCH_R_MAX 1024
/* Salt of the sketch draw stream ("HSKC"); repetition rep uses DP_SKETCH_SALT + rep. Part of the
 * file formats' meaning: never change it. */
#define DP_SKETCH_SALT 0x48534b43ull

/* The draws of one column and repetition (caller-owned arrays of D values each). */
typedef struct dp_sketch_map {
    int32_t D, m;
    const double *w;     /* frequencies, N(0, 1/sigma^2) */
    const double *b;     /* phases, U[0, 2 pi) */
    const int32_t *h;    /* buckets in [0, m) */
    const double *a;     /* s_d sqrt(2/D) */
    const double *pilot; /* m: E[(S phi(Z))_c], Z ~ N(0, 1) */
} dp_sketch_map;

/* 1 <= D <= DP_SKETCH_D_MAX, 2 <= m <= DP_SKETCH_M_MAX, 1 <= r <= DP_SKETCH_R_MAX, sigma finite
 * and > 0; INVALID_ARG (naming --hsic-D, --m, --r) otherwise. */
dp_status dp_sketch_check_params(int32_t D, int32_t m, int32_t r, double sigma,
                                 dp_error *err) DP_MUST_USE;
/* Draw w, b, h, a (D values each) of repetition rep of a column. */
void dp_sketch_draw(uint64_t seed, const char *column_name, int32_t rep, int32_t D, int32_t m,
                    double sigma, double *w, double *b, int32_t *h, double *a);
/* pilot[c] = sum_{d: h_d = c} a_d exp(-w_d^2 / 2) cos b_d (c < m). */
void dp_sketch_pilot(int32_t D, int32_t m, const double *w, const double *b, const int32_t *h,
                     const double *a, double *pilot);
/* out[t + c*ldo] = (S phi(z_t))_c - shift[c] for t < n, c < m (ldo >= n); NaN z gives
 * pilot[c] - shift[c] (exactly 0 when shift == pilot). shift NULL means zero. Sums within a
 * bucket run over d in increasing order, so the bits do not depend on n. Returns the number of
 * missing rows. */
int64_t dp_sketch_fill(const dp_sketch_map *map, const double *z, int64_t n, const double *shift,
                       double *out, int64_t ldo);

/* sin(x) for |x| <= 1e5 by Cody-Waite reduction and Taylor polynomials, written without
 * branches so the compiler can vectorise the feature loop; absolute error below 4e-16 (the
 * tests compare it with libm). Larger |x| falls back to libm. Exposed for the tests. */
double dp__sin_fast(double x);

#endif

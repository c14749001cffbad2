/* dp_nonlinear.h: Pass-4 dependence measures from the feature co-moments (accum/dp_featgram.h).
 *
 * For every pair of columns (METHODS.md §4.1, §5.2):
 *   HSIC_ij = CKA = ||C_ij||_F^2 / (||C_ii||_F ||C_jj||_F)            in [0, 1]
 *   RDC_ij  = sigma_max(W_i C_ij W_j),  W_i = (C_ii + lambda_i I)^(-1/2),
 *             lambda_i = ridge * tr(C_ii) / k  (ridge = 1e-6)          in [0, 1]
 *   S_ij    = w_hsic HSIC_ij + w_rdc RDC_ij, weights normalised to sum 1; a zero weight skips
 *             that measure (its matrix is NULL and the accumulator needs no such part).
 * C_ij are the centred covariance blocks of the features (dp_featgram_cov_block; missing values
 * handled pairwise by default).
 *
 * HSIC estimators (opt->hsic_estimator, --hsic-estimator):
 *   mercer (default) - the CKA above from the Mercer part.
 *   sketch - from the accumulator's r sketch repetitions (B_ij = S_i C^phi_ij S_j^T, the m x m
 *            blocks of CountSketch-compressed random Fourier features): per repetition
 *              CKA_ij = ||B_ij||_F^2 / (d_i d_j),  clamped to [0, 1],
 *            and the estimate is the median over the repetitions (for even r the mean of the two
 *            middle values; repetitions that are NaN are left out). Because S_i and S_j are drawn
 *            independently, E_S ||B_ij||^2 = ||C^phi_ij||^2 exactly, but the diagonal block uses
 *            the same S twice: with h uniform and s = +-1,
 *              E_S ||B_ii||^2 = (1 + 1/m) ||C||^2 + ((tr C)^2 - 2 sum_d C_dd^2) / m,
 *            and E_S tr B_ii = tr C. For normal scores (tr C)^2 ~ 2.3 ||C||^2, so the plain
 *            ||B_ii|| makes identical columns score ~0.88 at m = 16. With sketch_debias (default)
 *              d_i^2 = (||B_ii||^2 - (tr B_ii)^2 / m) / (1 + 1/m)
 *            (>= 0 by Cauchy-Schwarz on B's eigenvalues; NaN for the repetition when it is 0),
 *            which removes the bias up to O(sum_d C_dd^2 / m + ||C||^2 / m^2); without it
 *            d_i = ||B_ii||_F, the CKA of the sketched features as they are.
 *            The null level is computed the same way on the shadow pairs of every repetition. W_i
 * is computed once per column: LAPACKE dsyevd when the build has LAPACKE, else a cyclic Jacobi
 * eigensolver. sigma_max per pair is the square root of the largest eigenvalue of M^T M (M = W_i
 * C_ij W_j, k x k), found by Householder tridiagonalisation and Sturm bisection to full precision.
 * Diagonal: 1 for a column with variance, NaN for a (numerically) constant column, i.e. when the
 * trace of C_ii is below 1e-13 of its raw second moment; a constant column's pairs are NaN, as
 * are pairs with fewer than min_pair_rows rows observed in both columns. NaN never makes an edge.
 *
 * Null level: the measures of the accumulator's shadow pairs (row-misaligned partners, see
 * dp_featgram.h) are draws from each measure's distribution under independence at the working n;
 * their mean, sd, 95th percentile and maximum are reported. Under independence a pair exceeds
 * 3x the mean with small probability (CKA's null is roughly a weighted chi-square with about 5
 * effective degrees of freedom for m = 10: P(> 3 x mean) ~ 1 %; RDC's is concentrated), so a
 * threshold below 3x the null mean is flagged by dp_nonlinear_null_warning.
 *
 * Ownership: dp_nonlinear_result is a caller-owned value whose matrices are allocated by
 * dp_nonlinear_compute and freed by dp_nonlinear_result_reset (safe on a zeroed struct, twice).
 * Thread safety: dp_nonlinear_compute may use opt->threads worker threads internally; the
 * results do not depend on their number (every pair is computed the same way by one thread).
 */
#ifndef DP_PASSES_NONLINEAR_H
#define DP_PASSES_NONLINEAR_H

#include "accum/dp_featgram.h"

#include <stddef.h>

#define DP_NONLINEAR_RIDGE_DEFAULT         1e-6
#define DP_NONLINEAR_MIN_PAIR_ROWS_DEFAULT 100

typedef struct dp_nonlinear_options {
    double w_hsic;                    /* >= 0 (default 0.5) */
    double w_rdc;                     /* >= 0 (default 0.5); w_hsic + w_rdc > 0 */
    double ridge;                     /* relative ridge of W_i (default 1e-6) */
    dp_featgram_missing missing;      /* default pairwise */
    int64_t min_pair_rows;            /* fewer rows observed in both columns -> NaN (100) */
    int threads;                      /* worker threads for the pair loop (<= 1: none) */
    dp_hsic_estimator hsic_estimator; /* HSIC from the Mercer part (default) or the sketch */
    bool sketch_debias;               /* sketch: debiased diagonal norms (default true) */
} dp_nonlinear_options;

void dp_nonlinear_options_default(dp_nonlinear_options *o);

typedef struct dp_nonlinear_null {
    int64_t n_samples; /* finite shadow values */
    double mean, sd, q95, max;
} dp_nonlinear_null;

typedef struct dp_nonlinear_result {
    int64_t p;
    int64_t n_rows;
    double w_hsic, w_rdc; /* normalised weights used */
    double *hsic;         /* p x p (column-major, symmetric), NULL when w_hsic == 0 */
    double *rdc;          /* p x p, NULL when w_rdc == 0 */
    double *sim;          /* p x p combined S */
    dp_nonlinear_null null_hsic, null_rdc, null_sim;
} dp_nonlinear_result;

void dp_nonlinear_result_init(dp_nonlinear_result *r);
void dp_nonlinear_result_reset(dp_nonlinear_result *r);

/* Measures for all pairs. The accumulator must be flushed (dp_featgram_flush; STATE otherwise)
 * and hold the parts the nonzero weights and the HSIC estimator need (NOT_FOUND otherwise: the
 * Mercer part, or sketch_r > 0, for w_hsic > 0; the RDC part for w_rdc > 0). With w_rdc = 0 and
 * the sketch estimator this is the p x p sketch-HSIC matrix with its null level. */
dp_status dp_nonlinear_compute(const dp_featgram *g, const dp_nonlinear_options *opt,
                               dp_nonlinear_result *res, dp_error *err) DP_MUST_USE;

/* When threshold < 3 x null_sim.mean, write a warning into msg and return true. */
bool dp_nonlinear_null_warning(const dp_nonlinear_result *r, double threshold, char *msg,
                               size_t msg_size);

/* ---- Internal numerics, exposed for the tests -------------------------------------------- */

/* Eigen-decomposition of a symmetric n x n matrix A (lower and upper both read; destroyed):
 * eigenvalues ascending in w, eigenvectors as the columns of V (ld n) when V != NULL.
 * dp__sym_eig uses LAPACKE dsyevd when built with it, else dp__sym_eig_jacobi. */
dp_status dp__sym_eig(int64_t n, double *A, double *w, double *V, dp_error *err) DP_MUST_USE;
dp_status dp__sym_eig_jacobi(int64_t n, double *A, double *w, double *V, dp_error *err) DP_MUST_USE;
/* Largest eigenvalue of a symmetric n x n matrix A (ld n; destroyed). work: 3n doubles. */
double dp__sym_max_eig(int64_t n, double *A, double *work);
/* W = (C + lambda I)^(-1/2), lambda = ridge * tr(C)/k, C symmetric k x k (ld k). Eigenvalues
 * <= 0 after the ridge are dropped (pseudo-inverse), as the oracle's _inv_sqrt_psd does.
 * work: 2 k^2 + k doubles. */
dp_status dp__inv_sqrt_psd(int64_t k, const double *C, double ridge, double *W, double *work,
                           dp_error *err) DP_MUST_USE;
/* Largest singular value of the k x k matrix M (ld k). work: 4 k^2 doubles. */
double dp__sigma_max(int64_t k, const double *M, double *work);
/* Median of the finite values among x[0..n) (x is reordered); the mean of the two middle values
 * for an even count; NaN when none is finite. */
double dp__median_finite(double *x, int64_t n);

#endif

/* dp_normal.h: the standard normal CDF and its inverse, to full double precision.
 * Thread safety: pure functions.
 */
#ifndef DP_TRANSFORM_NORMAL_H
#define DP_TRANSFORM_NORMAL_H

/* Phi(x) = P(Z <= x). */
double dp_norm_cdf(double x);
/* Phi^-1(p) for p in (0, 1); -inf at 0, +inf at 1, NaN outside [0, 1] or for NaN.
 * Relative error below 1e-15 over (1e-300, 1 - 1e-16). */
double dp_norm_ppf(double p);
/* Acklam's rational approximation alone: relative error below 1.2e-9, about 10x faster. For
 * values whose own error is far larger (sketch-interpolated ranks). */
double dp_norm_ppf_fast(double p);

#endif

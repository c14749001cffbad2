/* Inverse normal CDF: Acklam's rational approximation (relative error ~1e-9) refined by two
 * Halley steps on Phi(x) - p, with Phi computed from erfc, which gives full double precision.
 * For p > 1/2 we use Phi^-1(p) = -Phi^-1(1 - p); 1 - p is exact there (Sterbenz). */
#include "transform/dp_normal.h"

#include <math.h>

double dp_norm_cdf(double x) {
    return 0.5 * erfc(-x * M_SQRT1_2);
}

static double dp__acklam(double p) {
    static const double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                -2.759285104469687e+02, 1.383577518672690e+02,
                                -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                -1.556989798598866e+02, 6.680131188771972e+01,
                                -1.328068155288572e+01};
    static const double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                -2.400758277161838e+00, -2.549732539343734e+00,
                                4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[4] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                3.754408661907416e+00};
    const double p_low = 0.02425;
    if (p < p_low) {
        double q = sqrt(-2 * log(p));
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
               ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    double q = p - 0.5;
    double r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/* Lower half only: p in (0, 0.5]. */
static double dp__ppf_lower(double p) {
    double x = dp__acklam(p);
    for (int it = 0; it < 2; it++) {
        double e = dp_norm_cdf(x) - p;
        double u = e * sqrt(2 * M_PI) * exp(0.5 * x * x);
        x = x - u / (1 + 0.5 * x * u);
    }
    return x;
}

double dp_norm_ppf_fast(double p) {
    if (isnan(p) || p < 0 || p > 1)
        return NAN;
    if (p == 0)
        return -INFINITY;
    if (p == 1)
        return INFINITY;
    if (p <= 0.5)
        return dp__acklam(p);
    return -dp__acklam(1.0 - p);
}

double dp_norm_ppf(double p) {
    if (isnan(p) || p < 0 || p > 1)
        return NAN;
    if (p == 0)
        return -INFINITY;
    if (p == 1)
        return INFINITY;
    if (p <= 0.5)
        return dp__ppf_lower(p);
    return -dp__ppf_lower(1.0 - p);
}

#include "passes/dp_psd.h"
#include "passes/dp_nonlinear.h"
#include "util/dp_alloc.h"

#include <math.h>
#include <string.h>

dp_status dp_corr_make_psd(double *R, int64_t p, double eps, double *min_eig, bool *changed,
                           dp_error *err) {
    *changed = false;
    *min_eig = NAN;
    if (p <= 0)
        return DP_OK;
    dp_status st = DP_OK;
    size_t pp;
    if (!dp_mul_size((size_t) p, (size_t) p, &pp))
        return dp_error_set(err, DP_LIMIT, "matrix of %lld columns too large", (long long) p);
    double *A = dp_mallocarray(pp, sizeof *A);
    double *V = dp_mallocarray(pp, sizeof *V);
    double *w = dp_mallocarray((size_t) p, sizeof *w);
    if (A == NULL || V == NULL || w == NULL)
        DP_FAIL(err, DP_NOMEM,
                "out of memory for the eigen-decomposition of a %lld x %lld "
                "matrix",
                (long long) p, (long long) p);
    memcpy(A, R, pp * sizeof *A);
    DP_CHECK(dp__sym_eig(p, A, w, V, err));
    *min_eig = w[0];
    if (w[0] >= eps)
        goto cleanup;
    /* V max(L, eps) V^T = R + sum over the clipped eigenpairs of (eps - l_k) v_k v_k^T: only the
     * few clipped directions cost anything (O(p^2) each). Eigenvalues ascend, so they come
     * first. */
    for (int64_t k = 0; k < p && w[k] < eps; k++) {
        const double *v = V + k * p;
        double d = eps - w[k];
        for (int64_t j = 0; j < p; j++) {
            double a = d * v[j];
            for (int64_t i = 0; i < p; i++)
                R[j * p + i] += a * v[i];
        }
    }
    /* Exact symmetry despite rounding, then unit diagonal. */
    for (int64_t j = 0; j < p; j++)
        for (int64_t i = 0; i < j; i++)
            R[j * p + i] = R[i * p + j] = 0.5 * (R[j * p + i] + R[i * p + j]);
    for (int64_t i = 0; i < p; i++)
        w[i] = 1.0 / sqrt(R[i * p + i]);
    for (int64_t j = 0; j < p; j++)
        for (int64_t i = 0; i < p; i++)
            R[j * p + i] = i == j ? 1.0 : R[j * p + i] * w[i] * w[j];
    *changed = true;
cleanup:
    dp_free(A);
    dp_free(V);
    dp_free(w);
    return st;
}

/* dp_psd.h: making a pairwise-complete correlation matrix usable for VIF.
 *
 * A correlation matrix computed pairwise-complete (each pair on its own rows) need not be
 * positive semidefinite (METHODS.md §1.4, §7); VIF on an indefinite matrix declares every column
 * touching the negative direction "indefinite". dp_corr_make_psd clips the eigenvalues below
 * `eps` to `eps` (R = V max(L, eps) V^T) and rescales to a unit diagonal — the eigenvalue-clipping
 * approximation of the nearest correlation matrix (Higham 2002 gives the exact one by
 * alternating projections). Matrices that are already PSD are left untouched, bit for bit.
 * Thread safety: pure function of its inputs.
 */
#ifndef DP_PASSES_PSD_H
#define DP_PASSES_PSD_H

#include "util/dp_base.h"

/* R: p x p symmetric, finite, column-major; modified in place when its smallest eigenvalue is
 * below eps. *min_eig receives the smallest eigenvalue before any change, *changed whether R was
 * modified. */
dp_status dp_corr_make_psd(double *R, int64_t p, double eps, double *min_eig, bool *changed,
                           dp_error *err) DP_MUST_USE;

#endif

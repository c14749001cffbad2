/* dp_vif.h: Pass 3, variance inflation factors from the Pass-2 correlation matrix of the
 * survivors, with iterative elimination.
 *
 * VIF_j = [R^-1]_jj = 1 / (1 - R_j^2) (METHODS.md §7). Never a pseudo-inverse, never a ridge.
 * dp_vif_eliminate removes columns in three phases, recording each removal with its reason:
 *
 * 1. UNDEFINED: a pairwise-complete R may hold NaN (pairs with < 3 common rows, constant
 *    columns). While any remaining column has a NaN in its row (diagonal included), remove the
 *    column with the most NaN entries among the remaining columns (ties: lower index).
 *    VIF = NaN, no heir.
 * 2. COLLINEAR / INDEFINITE: a Cholesky sweep in column order over the remaining columns. The
 *    pivot of column j is d_j = 1 - R^2(j | earlier kept columns). If |d_j| <= tol (default
 *    1e-10, the oracle's vif_from_corr tolerance) column j is an exact linear combination of
 *    earlier kept columns (COLLINEAR); if d_j < -tol the matrix is not positive semidefinite
 *    there (INDEFINITE: possible for pairwise-complete R). Either way VIF = +inf and the column
 *    is removed, in ascending index, so within a collinear set the highest-index member goes and
 *    the earlier ones stay. Heir: the remaining column with the largest |R_jk| (R^2 drops are
 *    undefined next to an infinite VIF). With LAPACKE a blocked dpotrf runs first and the sweep
 *    only when some pivot is <= tol.
 * 3. THRESHOLD: A = R^-1 of the remaining (now positive definite) matrix; while at least two
 *    columns remain and max VIF >= threshold (default 10), remove the argmax (ties: lower index).
 *    Heir: the remaining column whose R^2 drops most, R^2_k - R^2_k' = 1/VIF_k' - 1/VIF_k
 *    (ties: lower index; none when no R^2 drops). The inverse is updated in O(m^2) per removal by
 *    the Schur complement A' = A_{-j,-j} - A_{-j,j} A_{j,-j} / A_jj. Its rounding error per step
 *    is ~u * VIF_j relative to the updated entries, so A is refactored from scratch (Cholesky +
 *    inverse of the remaining submatrix of R) after a removal whose VIF exceeded
 *    DP_VIF_REFACTOR_VIF, after `refactor_every` updates, or when an updated VIF comes out
 *    non-finite or below 1 - 1e-9 (impossible in exact arithmetic).
 *
 * Ownership: dp_vif_result is caller-allocated (init/reset; reset frees, safe twice and on a
 * zeroed struct). Thread safety: pure function of its inputs (LAPACK runs in the caller thread).
 */
#ifndef DP_PASSES_VIF_H
#define DP_PASSES_VIF_H

#include "util/dp_base.h"

#define DP_VIF_REFACTOR_VIF 1e6

typedef enum dp_vif_reason {
    DP_VIF_UNDEFINED = 1,  /* NaN in the correlation row */
    DP_VIF_COLLINEAR = 2,  /* |1 - R^2(j | earlier)| <= tol */
    DP_VIF_INDEFINITE = 3, /* 1 - R^2(j | earlier) < -tol: R not positive semidefinite */
    DP_VIF_THRESHOLD = 4   /* max VIF >= threshold */
} dp_vif_reason;

typedef struct dp_vif_options {
    double threshold;       /* remove while max VIF >= threshold; 0 = default 10; inf = never */
    double tol;             /* collinearity tolerance on 1 - R^2; 0 = default 1e-10 */
    int64_t refactor_every; /* Schur updates between refactorisations; 0 = default 64 */
    bool record_steps;      /* keep the VIF vector before every threshold removal (on when
                               dp_vif_eliminate gets NULL options) */
} dp_vif_options;

typedef struct dp_vif_result {
    int64_t p;
    int64_t n_removed;
    int64_t *order;      /* n_removed: removed columns, in removal order */
    uint8_t *reason;     /* n_removed: dp_vif_reason */
    double *vif_removed; /* n_removed: VIF when removed (NaN undefined, inf collinear) */
    int64_t *heir;       /* n_removed: heir column or -1 */
    double *heir_score;  /* n_removed: the heir's R^2 drop (THRESHOLD) or |R_jk| (others) */
    uint8_t *kept;       /* p: 1 for survivors */
    double *vif;         /* p: final VIF of survivors, NaN for removed columns */
    int64_t n_steps;     /* rows of step_vif (record_steps): threshold removals + 1 */
    double *step_vif;    /* n_steps x p (row s at [s*p]): VIF of the columns remaining before
                            threshold removal s (NaN for removed); the last row is the final */
    int64_t n_refactor;  /* factorisations from scratch (the first one included) */
    int64_t n_undefined, n_collinear, n_indefinite;
} dp_vif_result;

void dp_vif_result_init(dp_vif_result *r);
void dp_vif_result_reset(dp_vif_result *r);

/* Run the three phases on R[p*p] (column-major correlation matrix; diagonal 1 or NaN; read
 * from the upper triangle). opts may be NULL. INVALID_ARG for p < 1, a diagonal entry that is
 * neither 1 nor NaN, |R_ij| > 1 + 1e-12, or bad options; NOMEM; NUMERIC if a refactorisation of
 * a positive definite submatrix fails (message with the column and pivot). */
dp_status dp_vif_eliminate(const double *R, int64_t p, const dp_vif_options *opts,
                           dp_vif_result *out, dp_error *err) DP_MUST_USE;

/* VIF of every column of a correlation matrix without elimination: [R^-1]_jj when R is
 * positive definite with every Cholesky pivot > tol (0 = 1e-10); NUMERIC otherwise (use
 * dp_vif_eliminate for singular, indefinite or NaN matrices). */
dp_status dp_vif_compute(const double *R, int64_t p, double tol, double *vif,
                         dp_error *err) DP_MUST_USE;

#endif

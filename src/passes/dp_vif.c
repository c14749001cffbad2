/* Pass 3: VIF and iterative elimination; the rules are in dp_vif.h. */
#include "passes/dp_vif.h"
#include "dpipe/dp_features.h"
#include "util/dp_alloc.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#if DP_HAVE_LAPACKE
#include <lapacke.h>
#endif

void dp_vif_result_init(dp_vif_result *r) {
    memset(r, 0, sizeof *r);
}

void dp_vif_result_reset(dp_vif_result *r) {
    dp_free(r->order);
    dp_free(r->reason);
    dp_free(r->vif_removed);
    dp_free(r->heir);
    dp_free(r->heir_score);
    dp_free(r->kept);
    dp_free(r->vif);
    dp_free(r->step_vif);
    memset(r, 0, sizeof *r);
}

/* ---- dense kernels (column-major, m x m, ld m) ------------------------------------------- */

/* Left-looking Cholesky in place on the lower triangle of L (which holds S on entry). A pivot
 * d_j = 1 - R^2(j | earlier kept) <= tol either stops the factorisation (skip = false: returns
 * j) or, with skip, marks column j dropped (its column of L is zeroed so later columns ignore
 * it) and records the pivot. Returns -1 when every column was factored or skipped. */
static int64_t chol_lower(double *L, int64_t m, double tol, bool skip, uint8_t *drop, double *piv) {
    for (int64_t j = 0; j < m; j++) {
        double *lj = L + j * m;
        for (int64_t k = 0; k < j; k++) {
            const double *lk = L + k * m;
            double f = lk[j];
            if (f == 0.0)
                continue;
            for (int64_t i = j; i < m; i++)
                lj[i] -= lk[i] * f;
        }
        double d = lj[j];
        if (piv != NULL)
            piv[j] = d;
        if (!(d > tol)) {
            if (!skip)
                return j;
            drop[j] = 1;
            for (int64_t i = j; i < m; i++)
                lj[i] = 0.0;
            continue;
        }
        if (drop != NULL)
            drop[j] = 0;
        double s = sqrt(d);
        lj[j] = s;
        for (int64_t i = j + 1; i < m; i++)
            lj[i] /= s;
    }
    return -1;
}

/* A = S^-1 from the Cholesky factor in the lower triangle of L: X = L^-1 (column-oriented
 * forward substitution), then A = X^T X. Writes the full symmetric A. */
static dp_status inverse_from_chol(const double *L, int64_t m, double *A, dp_error *err) {
    double *X = dp_calloc((size_t) m * (size_t) m, sizeof(double));
    if (X == NULL)
        return dp_error_set(err, DP_NOMEM, "vif: out of memory for a %lld x %lld inverse",
                            (long long) m, (long long) m);
    for (int64_t j = 0; j < m; j++) {
        double *x = X + j * m;
        x[j] = 1.0;
        for (int64_t k = j; k < m; k++) {
            x[k] /= L[k * m + k];
            double f = x[k];
            const double *lk = L + k * m;
            for (int64_t i = k + 1; i < m; i++)
                x[i] -= lk[i] * f;
        }
    }
    for (int64_t j = 0; j < m; j++)
        for (int64_t i = j; i < m; i++) {
            const double *xi = X + i * m, *xj = X + j * m;
            double s = 0;
            for (int64_t k = i; k < m; k++)
                s += xi[k] * xj[k];
            A[j * m + i] = s;
            A[i * m + j] = s;
        }
    dp_free(X);
    return DP_OK;
}

/* A = S^-1 by our own Cholesky; NUMERIC when a pivot is <= tol. */
static dp_status own_inverse(const double *S, int64_t m, double tol, double *A, dp_error *err) {
    double *L = dp_mallocarray((size_t) m * (size_t) m, sizeof(double));
    if (L == NULL)
        return dp_error_set(err, DP_NOMEM, "vif: out of memory for a %lld x %lld factor",
                            (long long) m, (long long) m);
    memcpy(L, S, (size_t) m * (size_t) m * sizeof(double));
    dp_status st;
    int64_t bad = chol_lower(L, m, tol, false, NULL, NULL);
    if (bad >= 0)
        st = dp_error_set(err, DP_NUMERIC,
                          "vif: Cholesky pivot 1 - R^2 of column %lld (of %lld) is %.3g <= %.3g",
                          (long long) bad, (long long) m, L[bad * m + bad], tol);
    else
        st = inverse_from_chol(L, m, A, err);
    dp_free(L);
    return st;
}

#if DP_HAVE_LAPACKE
/* A = S^-1 by LAPACK dpotrf/dpotri; NUMERIC when a pivot is <= tol. */
static dp_status lapack_inverse(const double *S, int64_t m, double tol, double *A, dp_error *err) {
    if (m > INT_MAX)
        return dp_error_set(err, DP_LIMIT, "vif: %lld columns exceed LAPACK's int", (long long) m);
    memcpy(A, S, (size_t) m * (size_t) m * sizeof(double));
    lapack_int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int) m, A, (lapack_int) m);
    if (info > 0)
        return dp_error_set(err, DP_NUMERIC, "vif: Cholesky pivot of column %lld is <= 0",
                            (long long) info - 1);
    if (info < 0)
        return dp_error_set(err, DP_BACKEND, "vif: LAPACKE_dpotrf argument %d invalid",
                            (int) -info);
    for (int64_t j = 0; j < m; j++) {
        double d = A[j * m + j] * A[j * m + j];
        if (!(d > tol))
            return dp_error_set(err, DP_NUMERIC,
                                "vif: Cholesky pivot of column %lld is %.3g <= tol %.3g",
                                (long long) j, d, tol);
    }
    info = LAPACKE_dpotri(LAPACK_COL_MAJOR, 'L', (lapack_int) m, A, (lapack_int) m);
    if (info != 0)
        return dp_error_set(err, DP_NUMERIC, "vif: LAPACKE_dpotri failed (info %d)", (int) info);
    for (int64_t j = 0; j < m; j++)
        for (int64_t i = j + 1; i < m; i++)
            A[i * m + j] = A[j * m + i];
    return DP_OK;
}
#endif

/* A = S^-1 (full symmetric) for a positive definite S with every Cholesky pivot > tol: LAPACK
 * when built with it, our own factorisation otherwise or when LAPACK's pivots land on the other
 * side of tol by rounding. NUMERIC when S is not positive definite to tol. */
static dp_status spd_inverse(const double *S, int64_t m, double tol, double *A, dp_error *err) {
    if (m == 0)
        return DP_OK;
#if DP_HAVE_LAPACKE
    dp_error e2;
    dp_status st = lapack_inverse(S, m, tol, A, &e2);
    if (st != DP_NUMERIC) {
        if (st != DP_OK && err != NULL)
            *err = e2;
        return st;
    }
#endif
    return own_inverse(S, m, tol, A, err);
}

/* S = W[idx, idx] (W is p x p, S is m x m). */
static void gather(const double *W, int64_t p, const int64_t *idx, int64_t m, double *S) {
    for (int64_t b = 0; b < m; b++)
        for (int64_t a = 0; a < m; a++)
            S[b * m + a] = W[idx[b] * p + idx[a]];
}

/* ---- options, input checks --------------------------------------------------------------- */

static dp_status check_input(const double *R, int64_t p, double *W, dp_error *err) {
    for (int64_t j = 0; j < p; j++) {
        double d = R[j * p + j];
        if (!isnan(d) && fabs(d - 1.0) > 1e-12)
            return dp_error_set(err, DP_INVALID_ARG,
                                "vif: diagonal entry %lld is %.17g, expected 1 (a correlation "
                                "matrix) or NaN",
                                (long long) j, d);
        W[j * p + j] = isnan(d) ? NAN : 1.0;
        for (int64_t i = 0; i < j; i++) {
            double v = R[j * p + i];
            if (isinf(v) || fabs(v) > 1.0 + 1e-12)
                return dp_error_set(err, DP_INVALID_ARG,
                                    "vif: entry (%lld, %lld) = %.17g is not a correlation",
                                    (long long) i, (long long) j, v);
            W[j * p + i] = W[i * p + j] = v;
        }
    }
    return DP_OK;
}

dp_status dp_vif_compute(const double *R, int64_t p, double tol, double *vif, dp_error *err) {
    dp_status st = DP_OK;
    double *W = NULL, *A = NULL;
    if (p < 1 || R == NULL || vif == NULL)
        DP_FAIL(err, DP_INVALID_ARG, "vif: p=%lld (need >= 1 and a matrix)", (long long) p);
    if (tol == 0)
        tol = 1e-10;
    if (!(tol > 0 && tol < 1))
        DP_FAIL(err, DP_INVALID_ARG, "vif: tol=%g outside (0, 1)", tol);
    W = dp_mallocarray((size_t) p * (size_t) p, sizeof(double));
    A = dp_mallocarray((size_t) p * (size_t) p, sizeof(double));
    if (W == NULL || A == NULL)
        DP_FAIL(err, DP_NOMEM, "vif: out of memory for p=%lld", (long long) p);
    DP_CHECK(check_input(R, p, W, err));
    for (int64_t e = 0; e < p * p; e++)
        if (isnan(W[e]))
            DP_FAIL(err, DP_NUMERIC, "vif: the matrix holds NaN at (%lld, %lld)",
                    (long long) (e % p), (long long) (e / p));
    DP_CHECK(spd_inverse(W, p, tol, A, err));
    for (int64_t j = 0; j < p; j++)
        vif[j] = A[j * p + j];
cleanup:
    dp_free(W);
    dp_free(A);
    return st;
}

/* ---- elimination ------------------------------------------------------------------------- */

typedef struct vif_state {
    dp_vif_result *res;
    int64_t p;
    int64_t steps_cap;
} vif_state;

static void record_removal(dp_vif_result *r, int64_t col, dp_vif_reason why, double v, int64_t heir,
                           double score) {
    int64_t s = r->n_removed++;
    r->order[s] = col;
    r->reason[s] = (uint8_t) why;
    r->vif_removed[s] = v;
    r->heir[s] = heir;
    r->heir_score[s] = score;
    r->kept[col] = 0;
}

static dp_status record_step(vif_state *vs, const int64_t *idx, const double *A, int64_t m,
                             dp_error *err) {
    dp_vif_result *r = vs->res;
    int64_t p = vs->p;
    if (r->n_steps == vs->steps_cap) {
        int64_t cap = vs->steps_cap == 0 ? 16 : 2 * vs->steps_cap;
        if (cap > p + 1)
            cap = p + 1;
        double *nv = dp_reallocarray(r->step_vif, (size_t) cap * (size_t) p, sizeof(double));
        if (nv == NULL)
            return dp_error_set(err, DP_NOMEM, "vif: out of memory for %lld recorded steps",
                                (long long) cap);
        r->step_vif = nv;
        vs->steps_cap = cap;
    }
    double *row = r->step_vif + r->n_steps * p;
    for (int64_t c = 0; c < p; c++)
        row[c] = NAN;
    for (int64_t a = 0; a < m; a++)
        row[idx[a]] = A[a * m + a];
    r->n_steps++;
    return DP_OK;
}

dp_status dp_vif_eliminate(const double *R, int64_t p, const dp_vif_options *opts,
                           dp_vif_result *out, dp_error *err) {
    dp_status st = DP_OK;
    double *W = NULL, *S = NULL, *A = NULL, *piv = NULL, *aj = NULL;
    int64_t *idx = NULL, *nan_cnt = NULL;
    uint8_t *drop = NULL;
    dp_vif_result_reset(out);
    dp_vif_options o = {10.0, 1e-10, 64, true};
    if (opts != NULL) {
        o = *opts;
        if (o.threshold == 0)
            o.threshold = 10.0;
        if (o.tol == 0)
            o.tol = 1e-10;
        if (o.refactor_every == 0)
            o.refactor_every = 64;
    }
    if (p < 1 || R == NULL)
        DP_FAIL(err, DP_INVALID_ARG, "vif: p=%lld (need >= 1 and a matrix)", (long long) p);
    if (!(o.threshold > 0) || !(o.tol > 0 && o.tol < 1) || o.refactor_every < 1)
        DP_FAIL(err, DP_INVALID_ARG,
                "vif: threshold=%g (> 0), tol=%g (in (0,1)), "
                "refactor_every=%lld (>= 1)",
                o.threshold, o.tol, (long long) o.refactor_every);
    size_t pp = (size_t) p, p2;
    if (!dp_mul_size(pp, pp, &p2))
        DP_FAIL(err, DP_LIMIT, "vif: p=%lld too large", (long long) p);
    W = dp_mallocarray(p2, sizeof(double));
    S = dp_mallocarray(p2, sizeof(double));
    A = dp_mallocarray(p2, sizeof(double));
    piv = dp_mallocarray(pp, sizeof(double));
    aj = dp_mallocarray(pp, sizeof(double));
    idx = dp_mallocarray(pp, sizeof(int64_t));
    nan_cnt = dp_calloc(pp, sizeof(int64_t));
    drop = dp_calloc(pp, 1);
    out->p = p;
    out->order = dp_mallocarray(pp, sizeof(int64_t));
    out->reason = dp_mallocarray(pp, 1);
    out->vif_removed = dp_mallocarray(pp, sizeof(double));
    out->heir = dp_mallocarray(pp, sizeof(int64_t));
    out->heir_score = dp_mallocarray(pp, sizeof(double));
    out->kept = dp_mallocarray(pp, 1);
    out->vif = dp_mallocarray(pp, sizeof(double));
    if (W == NULL || S == NULL || A == NULL || piv == NULL || aj == NULL || idx == NULL ||
        nan_cnt == NULL || drop == NULL || out->order == NULL || out->reason == NULL ||
        out->vif_removed == NULL || out->heir == NULL || out->heir_score == NULL ||
        out->kept == NULL || out->vif == NULL)
        DP_FAIL(err, DP_NOMEM, "vif: out of memory for p=%lld (%zu bytes per matrix)",
                (long long) p, p2 * sizeof(double));
    DP_CHECK(check_input(R, p, W, err));
    memset(out->kept, 1, pp);
    vif_state vs = {out, p, 0};

    /* Phase 1: NaN rows. */
    for (int64_t j = 0; j < p; j++)
        for (int64_t i = 0; i < p; i++)
            nan_cnt[j] += isnan(W[j * p + i]);
    for (;;) {
        int64_t worst = -1;
        for (int64_t c = 0; c < p; c++)
            if (out->kept[c] && nan_cnt[c] > 0 && (worst < 0 || nan_cnt[c] > nan_cnt[worst]))
                worst = c;
        if (worst < 0)
            break;
        record_removal(out, worst, DP_VIF_UNDEFINED, NAN, -1, NAN);
        out->n_undefined++;
        for (int64_t x = 0; x < p; x++)
            if (out->kept[x] && isnan(W[worst * p + x]))
                nan_cnt[x]--;
    }
    int64_t m = 0;
    for (int64_t c = 0; c < p; c++)
        if (out->kept[c])
            idx[m++] = c;

    /* Phase 2: collinear / indefinite columns by a Cholesky sweep in column order. */
    gather(W, p, idx, m, S);
    dp_error scratch;
    st = spd_inverse(S, m, o.tol, A, &scratch);
    if (st != DP_OK && st != DP_NUMERIC) {
        if (err != NULL)
            *err = scratch;
        goto cleanup;
    }
    out->n_refactor = 1;
    if (st == DP_NUMERIC) {
        st = DP_OK;
        memcpy(A, S, (size_t) m * (size_t) m * sizeof(double));
        chol_lower(A, m, o.tol, true, drop, piv);
        int64_t first_removed = out->n_removed, m2 = 0;
        for (int64_t a = 0; a < m; a++) {
            if (!drop[a]) {
                idx[m2++] = idx[a];
                continue;
            }
            bool indef = piv[a] < -o.tol;
            record_removal(out, idx[a], indef ? DP_VIF_INDEFINITE : DP_VIF_COLLINEAR, INFINITY, -1,
                           NAN);
            if (indef)
                out->n_indefinite++;
            else
                out->n_collinear++;
        }
        m = m2;
        for (int64_t s = first_removed; s < out->n_removed; s++) { /* heir: max |R_jk| */
            int64_t j = out->order[s], best = -1;
            for (int64_t a = 0; a < m; a++)
                if (best < 0 || fabs(W[j * p + idx[a]]) > fabs(W[j * p + best]))
                    best = idx[a];
            out->heir[s] = best;
            out->heir_score[s] = best >= 0 ? fabs(W[j * p + best]) : NAN;
        }
        gather(W, p, idx, m, S);
        DP_CHECK(spd_inverse(S, m, o.tol, A, err));
        out->n_refactor++;
    }

    /* Phase 3: threshold elimination with Schur-complement updates of A = R^-1. */
    int64_t since = 0;
    for (;;) {
        if (o.record_steps)
            DP_CHECK(record_step(&vs, idx, A, m, err));
        int64_t j = -1;
        for (int64_t a = 0; a < m; a++)
            if (j < 0 || A[a * m + a] > A[j * m + j])
                j = a;
        if (m < 2 || !(A[j * m + j] >= o.threshold))
            break;
        double ajj = A[j * m + j];
        for (int64_t a = 0; a < m; a++)
            aj[a] = A[j * m + a];
        /* heir: the largest R^2 drop 1/VIF' - 1/VIF over the others */
        int64_t heir = -1;
        double best = 0;
        for (int64_t a = 0; a < m; a++) {
            if (a == j)
                continue;
            double akk = A[a * m + a];
            double drop_r2 = 1.0 / (akk - aj[a] * aj[a] / ajj) - 1.0 / akk;
            if (drop_r2 > best) {
                best = drop_r2;
                heir = idx[a];
            }
        }
        record_removal(out, idx[j], DP_VIF_THRESHOLD, ajj, heir, heir >= 0 ? best : NAN);
        /* A' = A_{-j,-j} - a_j a_j^T / A_jj, compacted in place (see the write-order argument:
         * every write lands at or before the position read for it, column j is saved in aj) */
        bool need_refactor = ajj > DP_VIF_REFACTOR_VIF || ++since >= o.refactor_every;
        int64_t m1 = m - 1;
        for (int64_t b = 0; b < m1; b++) {
            int64_t cb = b < j ? b : b + 1;
            double fb = aj[cb] / ajj;
            for (int64_t a = 0; a < m1; a++) {
                int64_t ca = a < j ? a : a + 1;
                A[b * m1 + a] = A[cb * m + ca] - aj[ca] * fb;
            }
        }
        for (int64_t a = j; a < m1; a++)
            idx[a] = idx[a + 1];
        m = m1;
        for (int64_t a = 0; a < m; a++) {
            double d = A[a * m + a];
            if (!isfinite(d) || d < 1.0 - 1e-9)
                need_refactor = true;
        }
        if (need_refactor && m > 0) {
            gather(W, p, idx, m, S);
            DP_CHECK(spd_inverse(S, m, o.tol, A, err));
            out->n_refactor++;
            since = 0;
        }
    }
    for (int64_t c = 0; c < p; c++)
        out->vif[c] = NAN;
    for (int64_t a = 0; a < m; a++)
        out->vif[idx[a]] = A[a * m + a];
cleanup:
    if (st != DP_OK)
        dp_vif_result_reset(out);
    dp_free(W);
    dp_free(S);
    dp_free(A);
    dp_free(piv);
    dp_free(aj);
    dp_free(idx);
    dp_free(nan_cnt);
    dp_free(drop);
    return st;
}

/* Pass 3 VIF (src/passes/dp_vif) against explicit long-double Gauss-Jordan inversion written
 * here, and the elimination order against the numpy oracle's vif_elimination. */
#include "dp_test.h"
#include "passes/dp_vif.h"
#include "util/dp_alloc.h"
#include "util/dp_rng.h"

/* Inverse of the m x m matrix A (column-major) by Gauss-Jordan with partial pivoting in long
 * double; returns false when singular. */
static bool gj_inverse(const double *A, int64_t m, long double *X) {
    long double *M = dp_mallocarray((size_t) (m * 2 * m), sizeof(long double));
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < 2 * m; j++)
            M[i * 2 * m + j] = j < m ? (long double) A[j * m + i] : (j - m == i ? 1.0L : 0.0L);
    bool ok = true;
    for (int64_t c = 0; c < m && ok; c++) {
        int64_t piv = c;
        for (int64_t r = c + 1; r < m; r++)
            if (fabsl(M[r * 2 * m + c]) > fabsl(M[piv * 2 * m + c]))
                piv = r;
        if (M[piv * 2 * m + c] == 0) {
            ok = false;
            break;
        }
        for (int64_t j = 0; j < 2 * m; j++) {
            long double t = M[c * 2 * m + j];
            M[c * 2 * m + j] = M[piv * 2 * m + j];
            M[piv * 2 * m + j] = t;
        }
        long double d = M[c * 2 * m + c];
        for (int64_t j = 0; j < 2 * m; j++)
            M[c * 2 * m + j] /= d;
        for (int64_t r = 0; r < m; r++) {
            if (r == c)
                continue;
            long double f = M[r * 2 * m + c];
            if (f != 0)
                for (int64_t j = 0; j < 2 * m; j++)
                    M[r * 2 * m + j] -= f * M[c * 2 * m + j];
        }
    }
    for (int64_t i = 0; i < m && ok; i++)
        for (int64_t j = 0; j < m; j++)
            X[j * m + i] = M[i * 2 * m + m + j];
    dp_free(M);
    return ok;
}

/* VIFs of the submatrix R[idx, idx] by explicit inversion. */
static void ref_vif(const double *R, int64_t p, const int64_t *idx, int64_t m, double *vif) {
    double *S = dp_mallocarray((size_t) (m * m), sizeof(double));
    long double *X = dp_mallocarray((size_t) (m * m), sizeof(long double));
    for (int64_t b = 0; b < m; b++)
        for (int64_t a = 0; a < m; a++)
            S[b * m + a] = R[idx[b] * p + idx[a]];
    DP_ASSERT_TRUE(gj_inverse(S, m, X));
    for (int64_t a = 0; a < m; a++)
        vif[a] = (double) X[a * m + a];
    dp_free(S);
    dp_free(X);
}

/* Correlation matrix (long double two-pass) of n x p data with k latent factors; loadings up to
 * `strength` make some VIFs large. Extra columns may be exact linear combinations. */
static double *corr_of(const double *Y, int64_t n, int64_t p) {
    double *R = dp_mallocarray((size_t) (p * p), sizeof(double));
    long double *mu = dp_calloc((size_t) p, sizeof(long double));
    for (int64_t j = 0; j < p; j++) {
        for (int64_t t = 0; t < n; t++)
            mu[j] += Y[j * n + t];
        mu[j] /= n;
    }
    for (int64_t j = 0; j < p; j++)
        for (int64_t i = 0; i <= j; i++) {
            long double xy = 0, xx = 0, yy = 0;
            for (int64_t t = 0; t < n; t++) {
                long double a = Y[i * n + t] - mu[i], b = Y[j * n + t] - mu[j];
                xy += a * b;
                xx += a * a;
                yy += b * b;
            }
            double r = i == j ? 1.0 : (double) (xy / sqrtl(xx * yy));
            R[j * p + i] = R[i * p + j] = r;
        }
    dp_free(mu);
    return R;
}

static double *factor_data(int64_t n, int64_t p, int64_t k, double strength, dp_rng *rng) {
    double *Y = dp_mallocarray((size_t) (n * p), sizeof(double));
    double *F = dp_mallocarray((size_t) (n * k), sizeof(double));
    for (int64_t e = 0; e < n * k; e++)
        F[e] = dp_rng_normal(rng);
    for (int64_t j = 0; j < p; j++) {
        int64_t f = (int64_t) dp_rng_below(rng, (uint64_t) k);
        double load = strength * dp_rng_uniform(rng);
        for (int64_t t = 0; t < n; t++)
            Y[j * n + t] = load * F[f * n + t] + dp_rng_normal(rng);
    }
    dp_free(F);
    return Y;
}

/* dp_vif_compute = diag of the explicit inverse. Tolerance: relative 1e-9 covers u * cond(R)
 * for these matrices (cond < 1e5). */
DP_TEST(vif_matches_explicit_inversion_on_random_spd) {
    dp_rng rng;
    dp_rng_seed(&rng, 13);
    dp_error err_, *err = &err_;
    for (int rep = 0; rep < 6; rep++) {
        int64_t p = 5 + (int64_t) dp_rng_below(&rng, 60), n = 3 * p + 20;
        double *Y = factor_data(n, p, 1 + p / 6, 1.0 + 9.0 * rep / 5.0, &rng);
        double *R = corr_of(Y, n, p);
        int64_t *idx = dp_mallocarray((size_t) p, sizeof(int64_t));
        for (int64_t j = 0; j < p; j++)
            idx[j] = j;
        double *v = dp_mallocarray((size_t) p, sizeof(double));
        double *vr = dp_mallocarray((size_t) p, sizeof(double));
        DP_ASSERT_OK(dp_vif_compute(R, p, 0, v, err), err);
        ref_vif(R, p, idx, p, vr);
        for (int64_t j = 0; j < p; j++) {
            DP_ASSERT_REL(v[j], vr[j], 1e-9, 1.0);
            DP_ASSERT_TRUE(v[j] >= 1.0 - 1e-12);
        }
        dp_free(Y), dp_free(R), dp_free(idx), dp_free(v), dp_free(vr);
    }
    /* orthogonal columns: VIF 1 exactly enough */
    double I3[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, v3[3];
    DP_ASSERT_OK(dp_vif_compute(I3, 3, 0, v3, err), err);
    DP_ASSERT_NEAR(v3[0], 1.0, 1e-15);
    DP_ASSERT_NEAR(v3[2], 1.0, 1e-15);
}

/* The O(m^2) Schur-complement updates (no refactorisation: refactor_every huge, VIFs < 1e6)
 * equal the VIFs recomputed from scratch on the remaining columns at every step (1e-9
 * relative), and each heir is the column whose R^2 drops most by the recomputed VIFs. */
DP_TEST(vif_schur_updates_equal_recomputation) {
    dp_rng rng;
    dp_rng_seed(&rng, 17);
    dp_error err_, *err = &err_;
    for (int rep = 0; rep < 4; rep++) {
        const int64_t p = 40 + 10 * rep, n = 200;
        double *Y = factor_data(n, p, 4, 8.0, &rng);
        double *R = corr_of(Y, n, p);
        dp_vif_options o = {2.0, 0, (int64_t) 1 << 40, true};
        dp_vif_result res;
        dp_vif_result_init(&res);
        DP_ASSERT_OK(dp_vif_eliminate(R, p, &o, &res, err), err);
        DP_ASSERT_EQ_INT(res.n_refactor, 1);
        DP_ASSERT_CMP_INT(res.n_removed, >, 10);
        DP_ASSERT_EQ_INT(res.n_steps, res.n_removed + 1);
        int64_t *idx = dp_mallocarray((size_t) p, sizeof(int64_t));
        uint8_t *alive = dp_mallocarray((size_t) p, 1);
        memset(alive, 1, (size_t) p);
        double *vr = dp_mallocarray((size_t) p, sizeof(double));
        double *prev = dp_mallocarray((size_t) p, sizeof(double));
        for (int64_t s = 0; s < res.n_steps; s++) {
            int64_t m = 0;
            for (int64_t c = 0; c < p; c++)
                if (alive[c])
                    idx[m++] = c;
            ref_vif(R, p, idx, m, vr);
            const double *row = res.step_vif + s * p;
            int64_t argmax = 0;
            for (int64_t a = 0; a < m; a++) {
                DP_ASSERT_REL(row[idx[a]], vr[a], 1e-9, 1.0);
                if (vr[a] > vr[argmax])
                    argmax = a;
            }
            if (s > 0) { /* heir of removal s-1: max R^2 drop prev -> now */
                int64_t h = -1;
                double best = 0;
                for (int64_t a = 0; a < m; a++) {
                    double d = 1.0 / vr[a] - 1.0 / prev[idx[a]];
                    if (d > best) {
                        best = d;
                        h = idx[a];
                    }
                }
                DP_ASSERT_EQ_INT(res.heir[s - 1], h);
                DP_ASSERT_REL(res.heir_score[s - 1], best, 1e-6, 1e-12);
            }
            for (int64_t a = 0; a < m; a++)
                prev[idx[a]] = vr[a];
            if (s < res.n_removed) {
                DP_ASSERT_EQ_INT(res.order[s], idx[argmax]);
                DP_ASSERT_EQ_INT(res.reason[s], DP_VIF_THRESHOLD);
                DP_ASSERT_TRUE(vr[argmax] >= 2.0);
                alive[res.order[s]] = 0;
            } else {
                DP_ASSERT_TRUE(vr[argmax] < 2.0); /* stopped for the right reason */
            }
        }
        dp_vif_result_reset(&res);
        dp_vif_result_reset(&res);
        dp_free(Y), dp_free(R), dp_free(idx), dp_free(alive), dp_free(vr), dp_free(prev);
    }
}

/* Exact collinearity: x9 = x1 + x3 and x7 = 2 x2 (r = 1). Those get VIF = inf and go first,
 * highest index of each set in ascending order (7, then 9); no pseudo-inverse: the survivors'
 * VIFs are finite and equal explicit inversion. dp_vif_compute refuses the singular matrix. */
DP_TEST(vif_collinear_sets_are_infinite_and_removed_first) {
    dp_rng rng;
    dp_rng_seed(&rng, 23);
    dp_error err_, *err = &err_;
    const int64_t n = 300, p = 12;
    double *Y = factor_data(n, p, 3, 2.0, &rng);
    for (int64_t t = 0; t < n; t++) {
        Y[9 * n + t] = Y[1 * n + t] + Y[3 * n + t];
        Y[7 * n + t] = 2.0 * Y[2 * n + t];
    }
    double *R = corr_of(Y, n, p);
    double v[12];
    DP_ASSERT_STATUS(dp_vif_compute(R, p, 0, v, err), DP_NUMERIC);
    dp_vif_result res;
    dp_vif_result_init(&res);
    DP_ASSERT_OK(dp_vif_eliminate(R, p, NULL, &res, err), err);
    DP_ASSERT_CMP_INT(res.n_removed, >=, 2);
    DP_ASSERT_EQ_INT(res.n_collinear, 2);
    DP_ASSERT_EQ_INT(res.order[0], 7);
    DP_ASSERT_EQ_INT(res.order[1], 9);
    DP_ASSERT_EQ_INT(res.reason[0], DP_VIF_COLLINEAR);
    DP_ASSERT_TRUE(isinf(res.vif_removed[0]) && isinf(res.vif_removed[1]));
    DP_ASSERT_EQ_INT(res.heir[0], 2); /* |r(7, 2)| = 1 */
    int64_t idx[12], m = 0;
    for (int64_t c = 0; c < p; c++)
        if (res.kept[c])
            idx[m++] = c;
    double vr[12];
    ref_vif(R, p, idx, m, vr);
    for (int64_t a = 0; a < m; a++) {
        DP_ASSERT_TRUE(isfinite(res.vif[idx[a]]) && res.vif[idx[a]] < 10.0);
        DP_ASSERT_REL(res.vif[idx[a]], vr[a], 1e-9, 1.0);
    }
    dp_vif_result_reset(&res);
    dp_free(Y), dp_free(R);
}

/* Pairwise-complete R can be indefinite or hold NaN: reported, not an obscure failure. */
DP_TEST(vif_indefinite_and_nan_matrices_are_handled) {
    dp_error err_, *err = &err_;
    /* r01 = r02 = 0.9, r12 = -0.9: not PSD; the sweep finds 1 - R^2(2 | 0, 1) = -15.2 */
    double R[9] = {1, 0.9, 0.9, 0.9, 1, -0.9, 0.9, -0.9, 1};
    dp_vif_result res;
    dp_vif_result_init(&res);
    DP_ASSERT_OK(dp_vif_eliminate(R, 3, NULL, &res, err), err);
    DP_ASSERT_EQ_INT(res.n_indefinite, 1);
    DP_ASSERT_EQ_INT(res.order[0], 2);
    DP_ASSERT_EQ_INT(res.reason[0], DP_VIF_INDEFINITE);
    /* left: {0, 1} with r = 0.9 -> VIF 1/(1-0.81) = 5.26 < 10 */
    DP_ASSERT_EQ_INT(res.n_removed, 1);
    DP_ASSERT_NEAR(res.vif[0], 1.0 / 0.19, 1e-12);
    /* NaN: column 1 has two NaN entries, column 3 and 4 one each -> 1 goes, nothing else */
    const int64_t p = 5;
    double S[25];
    for (int64_t j = 0; j < p; j++)
        for (int64_t i = 0; i < p; i++)
            S[j * p + i] = i == j ? 1.0 : 0.1;
    S[1 * p + 3] = S[3 * p + 1] = NAN;
    S[1 * p + 4] = S[4 * p + 1] = NAN;
    DP_ASSERT_OK(dp_vif_eliminate(S, p, NULL, &res, err), err);
    DP_ASSERT_EQ_INT(res.n_undefined, 1);
    DP_ASSERT_EQ_INT(res.order[0], 1);
    DP_ASSERT_TRUE(isnan(res.vif_removed[0]));
    DP_ASSERT_EQ_INT(res.heir[0], -1);
    DP_ASSERT_TRUE(isnan(res.vif[1]) && isfinite(res.vif[3]));
    /* a NaN diagonal (constant column) removes that column */
    S[1 * p + 3] = S[3 * p + 1] = 0.1;
    S[1 * p + 4] = S[4 * p + 1] = 0.1;
    for (int64_t i = 0; i < p; i++)
        S[2 * p + i] = S[i * p + 2] = NAN;
    DP_ASSERT_OK(dp_vif_eliminate(S, p, NULL, &res, err), err);
    DP_ASSERT_EQ_INT(res.n_removed, 1);
    DP_ASSERT_EQ_INT(res.order[0], 2);
    /* bad input is refused with a message */
    S[2 * p + 2] = 0.5;
    DP_ASSERT_STATUS(dp_vif_eliminate(S, p, NULL, &res, err), DP_INVALID_ARG);
    DP_ASSERT_CONTAINS(err->msg, "diagonal");
    DP_ASSERT_TRUE(res.order == NULL);
    dp_vif_options bad = {-1, 0, 0, false};
    DP_ASSERT_STATUS(dp_vif_eliminate(R, 3, &bad, &res, err), DP_INVALID_ARG);
    double big[4] = {1, 1.5, 1.5, 1};
    DP_ASSERT_STATUS(dp_vif_eliminate(big, 2, NULL, &res, err), DP_INVALID_ARG);
    dp_vif_result_reset(&res);
}

/* Refactorisation: a removal with VIF > 1e6 (near-collinear pair) triggers a fresh
 * factorisation, and the result still equals explicit inversion. */
DP_TEST(vif_refactors_after_huge_vif_and_stays_accurate) {
    dp_rng rng;
    dp_rng_seed(&rng, 29);
    dp_error err_, *err = &err_;
    const int64_t n = 400, p = 15;
    double *Y = factor_data(n, p, 3, 3.0, &rng);
    for (int64_t t = 0; t < n; t++) /* x4 = x0 + 1e-4 noise: VIF ~ 1e8 */
        Y[4 * n + t] = Y[0 * n + t] + 1e-4 * dp_rng_normal(&rng);
    double *R = corr_of(Y, n, p);
    dp_vif_options o = {10.0, 0, 0, true};
    dp_vif_result res;
    dp_vif_result_init(&res);
    DP_ASSERT_OK(dp_vif_eliminate(R, p, &o, &res, err), err);
    DP_ASSERT_EQ_INT(res.n_collinear, 0);
    DP_ASSERT_TRUE(res.vif_removed[0] > 1e6);
    DP_ASSERT_TRUE(res.order[0] == 0 || res.order[0] == 4);
    DP_ASSERT_EQ_INT(res.heir[0], res.order[0] == 0 ? 4 : 0);
    DP_ASSERT_CMP_INT(res.n_refactor, >=, 2);
    int64_t idx[15], m = 0;
    for (int64_t c = 0; c < p; c++)
        if (res.kept[c])
            idx[m++] = c;
    double vr[15];
    ref_vif(R, p, idx, m, vr);
    for (int64_t a = 0; a < m; a++)
        DP_ASSERT_REL(res.vif[idx[a]], vr[a], 1e-9, 1.0);
    dp_vif_result_reset(&res);
    dp_free(Y), dp_free(R);
}

/* Elimination order equals the oracle's vif_elimination (which drops while VIF > threshold;
 * ours drops while >= threshold: the same unless a VIF is exactly 10). */
DP_TEST(vif_elimination_order_matches_oracle) {
    if (system("/usr/bin/python3 -c 'import numpy, scipy' >/dev/null 2>&1") != 0)
        DP_SKIP("python3 with numpy/scipy not available");
    dp_rng rng;
    dp_rng_seed(&rng, 31);
    dp_error err_, *err = &err_;
    const int64_t n = 250, p = 30;
    double *Y = factor_data(n, p, 4, 6.0, &rng);
    double *R = corr_of(Y, n, p);
    char rpath[1024], opath[1024], cmd[4096];
    snprintf(rpath, sizeof rpath, "%s/R.bin", dp_test_tmp_dir());
    snprintf(opath, sizeof opath, "%s/order.txt", dp_test_tmp_dir());
    FILE *f = fopen(rpath, "wb");
    DP_ASSERT_TRUE(f != NULL);
    DP_ASSERT_EQ_INT(fwrite(R, sizeof(double), (size_t) (p * p), f), p * p);
    fclose(f);
    char oracle_dir[1024];
    snprintf(oracle_dir, sizeof oracle_dir, "%s", dp_test_path("tests/oracle"));
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import sys; sys.path.insert(0, '%s'); import numpy as np, "
             "oracle; R = np.fromfile('%s').reshape(%lld, %lld); r, k = "
             "oracle.vif_elimination(R, 10.0); open('%s', 'w').write(' '.join(map(str, r)))\"",
             oracle_dir, rpath, (long long) p, (long long) p, opath);
    DP_ASSERT_EQ_INT(system(cmd), 0);
    f = fopen(opath, "r");
    DP_ASSERT_TRUE(f != NULL);
    int64_t expect[30], ne = 0;
    long long v;
    while (ne < 30 && fscanf(f, "%lld", &v) == 1)
        expect[ne++] = v;
    fclose(f);
    dp_vif_result res;
    dp_vif_result_init(&res);
    DP_ASSERT_OK(dp_vif_eliminate(R, p, NULL, &res, err), err);
    DP_ASSERT_CMP_INT(ne, >, 2); /* the data do need eliminations */
    DP_ASSERT_EQ_INT(res.n_removed, ne);
    for (int64_t s = 0; s < ne; s++)
        DP_ASSERT_EQ_INT(res.order[s], expect[s]);
    dp_vif_result_reset(&res);
    dp_free(Y), dp_free(R);
}

/* Pass-4 measures (passes/dp_nonlinear.h): eigen/SVD kernels, HSIC (CKA) and RDC against the
 * numpy oracle (complete data: oracle.mercer_hsic_cka and oracle.rdc(method='cov', ridge 1e-6,
 * weights = our draws); missing data: the oracle's block statistics / CCA applied to our
 * features on the rows our definition uses), planted relations at n = 20,000 with the null
 * level, determinism, thread independence, zero weights, constant columns. */
#include "dp_test.h"
#include "dp_test_py.h"
#include "passes/dp_nonlinear.h"
#include "transform/dp_normal.h"
#include "util/dp_rng.h"

/* ---- helpers ------------------------------------------------------------------------------- */

typedef struct nl_run {
    dp_backend *be;
    dp_featgram *g;
    dp_nonlinear_result res;
    double *z, *u;
} nl_run;

/* Accumulate X (n x p, column-major) through the exact copula and compute the measures. */
static void nl_compute(nl_run *r, const double *X, int64_t n, int64_t p, const char *const *names,
                       const dp_featgram_config *cfg, const dp_nonlinear_options *opt,
                       int64_t batch) {
    dp_error err, *ep = &err;
    memset(r, 0, sizeof *r);
    r->z = malloc(sizeof(double) * (size_t) (n * p));
    r->u = malloc(sizeof(double) * (size_t) (n * p));
    for (int64_t i = 0; i < p; i++)
        dp_test_copula(X + i * n, n, r->z + i * n, r->u + i * n);
    DP_ASSERT_OK(dp_backend_cpu_create(NULL, &r->be, ep), ep);
    DP_ASSERT_OK(dp_featgram_create(cfg, p, names, r->be, &r->g, ep), ep);
    for (int64_t t = 0; t < n; t += batch) {
        int64_t nr = DP_MIN(batch, n - t);
        DP_ASSERT_OK(dp_featgram_update(r->g, nr, cfg->m ? r->z + t : NULL, n,
                                        cfg->k ? r->u + t : NULL, n, ep),
                     ep);
    }
    DP_ASSERT_OK(dp_featgram_flush(r->g, ep), ep);
    dp_nonlinear_result_init(&r->res);
    DP_ASSERT_OK(dp_nonlinear_compute(r->g, opt, &r->res, ep), ep);
}

static void nl_free(nl_run *r) {
    dp_nonlinear_result_reset(&r->res);
    dp_featgram_free(r->g);
    dp_backend_free(r->be);
    free(r->z);
    free(r->u);
}

/* The draws in the oracle's layout: weights (p, 2, k), row 0 = w, row 1 = b. */
static void nl_write_draws(const dp_featgram *g, int64_t p, int64_t k, const char *name) {
    double *W = malloc(sizeof(double) * (size_t) (p * 2 * k));
    for (int64_t i = 0; i < p; i++) {
        const double *w, *b, *pl;
        DP_ASSERT_TRUE(dp_featgram_rdc_draws(g, i, &w, &b, &pl));
        memcpy(W + i * 2 * k, w, sizeof(double) * (size_t) k);
        memcpy(W + i * 2 * k + k, b, sizeof(double) * (size_t) k);
    }
    dp_test_py_write(name, W, (size_t) (p * 2 * k));
    free(W);
}

static const char *const nl_names[8] = {"x",     "x_copy", "x_sq",    "sin3x",
                                        "cos_t", "sin_t",  "indep_a", "indep_b"};

/* Planted relations (x ~ N(0, 1), t ~ U(0, 2 pi)); column 1 is exp(x): the same ranks as x. */
static double *nl_planted(int64_t n, uint64_t seed, double missing) {
    double *X = malloc(sizeof(double) * (size_t) (n * 8));
    dp_rng r;
    dp_rng_seed(&r, seed);
    for (int64_t t = 0; t < n; t++) {
        double x = dp_rng_normal(&r), th = 2 * M_PI * dp_rng_uniform(&r);
        double v[8] = {
            x, exp(x), x * x, sin(3 * x), cos(th), sin(th), dp_rng_normal(&r), dp_rng_normal(&r)};
        for (int i = 0; i < 8; i++) {
            bool miss = missing > 0 && i >= 2 && dp_rng_uniform(&r) < missing;
            X[t + i * n] = miss ? NAN : v[i];
        }
    }
    return X;
}

/* ---- linear algebra ------------------------------------------------------------------------ */

static void nl_random_sym(dp_rng *r, int64_t n, double *A, int kind) {
    for (int64_t c = 0; c < n; c++)
        for (int64_t a = 0; a <= c; a++) {
            double x = dp_rng_normal(r);
            if (kind == 1) /* clustered spectrum: identity plus a tiny perturbation */
                x = (a == c ? 1.0 : 0.0) + 1e-9 * x;
            if (kind == 2) /* graded: entries spanning 12 orders of magnitude */
                x *= pow(10.0, -(double) (a + c) * 12.0 / (2.0 * (double) n));
            A[a + c * n] = A[c + a * n] = x;
        }
}

DP_TEST(nonlinear_eigensolvers_residuals) {
    dp_rng r;
    dp_rng_seed(&r, 3);
    dp_error err, *ep = &err;
    enum { N = 20 };
    double A[N * N], A0[N * N], V[N * N], w[N], wj[N], Vj[N * N], work[3 * N];
    for (int kind = 0; kind < 3; kind++)
        for (int rep = 0; rep < 5; rep++) {
            nl_random_sym(&r, N, A0, kind);
            double nrm = 0;
            for (int x = 0; x < N * N; x++)
                nrm = fmax(nrm, fabs(A0[x]));
            for (int solver = 0; solver < 2; solver++) {
                memcpy(A, A0, sizeof A);
                if (solver == 0)
                    DP_ASSERT_OK(dp__sym_eig(N, A, w, V, ep), ep);
                else
                    DP_ASSERT_OK(dp__sym_eig_jacobi(N, A, wj, Vj, ep), ep);
                const double *ww = solver ? wj : w, *VV = solver ? Vj : V;
                for (int e = 1; e < N; e++)
                    DP_ASSERT_TRUE(ww[e - 1] <= ww[e]);
                /* residual ||A v - w v|| and orthonormality, scaled by ||A||: backward-stable
                 * solvers give a small multiple of n * eps. */
                for (int e = 0; e < N; e++)
                    for (int a = 0; a < N; a++) {
                        double s = 0;
                        for (int b = 0; b < N; b++)
                            s += A0[a + b * N] * VV[b + e * N];
                        DP_ASSERT_NEAR(s, ww[e] * VV[a + e * N], 1e-13 * nrm * N);
                    }
                for (int e = 0; e < N; e++)
                    for (int f = 0; f < N; f++) {
                        double s = 0;
                        for (int a = 0; a < N; a++)
                            s += VV[a + e * N] * VV[a + f * N];
                        DP_ASSERT_NEAR(s, e == f ? 1.0 : 0.0, 1e-13 * N);
                    }
            }
            for (int e = 0; e < N; e++)
                DP_ASSERT_NEAR(w[e], wj[e], 1e-13 * nrm * N);
            memcpy(A, A0, sizeof A);
            DP_ASSERT_NEAR(dp__sym_max_eig(N, A, work), w[N - 1], 4e-15 * nrm * N);
        }
    /* 1 x 1, 2 x 2 and zero matrices */
    double one = -2.5, z4[4] = {0, 0, 0, 0}, t2[4] = {2, 1, 1, 2};
    DP_ASSERT_NEAR(dp__sym_max_eig(1, &one, work), -2.5, 1e-15);
    DP_ASSERT_NEAR(dp__sym_max_eig(2, z4, work), 0.0, 0.0);
    DP_ASSERT_NEAR(dp__sym_max_eig(2, t2, work), 3.0, 1e-15);
}

DP_TEST(nonlinear_sigma_max_and_whitening) {
    dp_rng r;
    dp_rng_seed(&r, 4);
    dp_error err, *ep = &err;
    enum { K = 20 };
    double M[K * K], work[7 * K * K + 8 * K];
    /* Orthogonal matrix (from the eigenvectors of a random symmetric one): all sigma = 1. */
    double A[K * K], V[K * K], w[K];
    nl_random_sym(&r, K, A, 0);
    DP_ASSERT_OK(dp__sym_eig(K, A, w, V, ep), ep);
    DP_ASSERT_NEAR(dp__sigma_max(K, V, work), 1.0, 1e-14);
    /* Rank one u v^T: sigma_max = |u| |v|. */
    double u[K], v[K], nu = 0, nv = 0;
    for (int a = 0; a < K; a++) {
        u[a] = dp_rng_normal(&r);
        v[a] = dp_rng_normal(&r);
        nu += u[a] * u[a];
        nv += v[a] * v[a];
    }
    for (int c = 0; c < K; c++)
        for (int a = 0; a < K; a++)
            M[a + c * K] = u[a] * v[c];
    DP_ASSERT_NEAR(dp__sigma_max(K, M, work), sqrt(nu * nv), 1e-13 * sqrt(nu * nv));
    for (int x = 0; x < K * K; x++)
        M[x] = 0;
    DP_ASSERT_NEAR(dp__sigma_max(K, M, work), 0.0, 0.0);
    /* (C + lambda I)^(-1/2): W (C + lambda I) W = I for a covariance with a 1e-9 eigenvalue. */
    double C[K * K], G[K * 30], Wm[K * K];
    for (int x = 0; x < K * 30; x++)
        G[x] = dp_rng_normal(&r);
    for (int c = 0; c < K; c++)
        for (int a = 0; a < K; a++) {
            double s = 0;
            for (int t = 0; t < 30; t++)
                s += G[a + t * K] * G[c + t * K] * (a == 3 || c == 3 ? 3e-5 : 1.0);
            C[a + c * K] = s / 30;
        }
    DP_ASSERT_OK(dp__inv_sqrt_psd(K, C, 1e-6, Wm, work, ep), ep);
    double tr = 0;
    for (int a = 0; a < K; a++)
        tr += C[a + a * K];
    for (int a = 0; a < K; a++)
        C[a + a * K] += 1e-6 * tr / K;
    for (int c = 0; c < K; c++)
        for (int a = 0; a < K; a++) {
            double s = 0;
            for (int b = 0; b < K; b++)
                for (int d = 0; d < K; d++)
                    s += Wm[a + b * K] * C[b + d * K] * Wm[d + c * K];
            /* condition number of C + lambda I is ~1e6: rounding grows to ~1e-10 */
            DP_ASSERT_NEAR(s, a == c ? 1.0 : 0.0, 1e-9);
        }
    if (!dp_test_py_have_numpy())
        return;
    /* Random general matrices against numpy's SVD. */
    enum { R = 30 };
    static double Ms[R * K * K], got[R], ref[R];
    for (int x = 0; x < R * K * K; x++)
        Ms[x] = dp_rng_normal(&r) * (x < K * K ? 1e-8 : 1.0);
    for (int q = 0; q < R; q++)
        got[q] = dp__sigma_max(K, Ms + q * K * K, work);
    dp_test_py_write("M.bin", Ms, R * K * K);
    dp_test_py_run("M = rd('M.bin', (30, 20, 20))\n"
                   "wr('s.bin', [np.linalg.svd(m.T, compute_uv=False)[0] for m in M])\n");
    dp_test_py_read("s.bin", ref, R);
    for (int q = 0; q < R; q++)
        DP_ASSERT_REL(got[q], ref[q], 1e-13, 0.0);
}

/* ---- against the oracle --------------------------------------------------------------------- */

DP_TEST(nonlinear_matches_oracle_complete_data) {
    if (!dp_test_py_have_numpy())
        DP_SKIP("python3-numpy/scipy not available");
    const int64_t n = 2000, p = 8;
    double *X = nl_planted(n, 21, 0.0);
    dp_featgram_config cfg;
    dp_featgram_config_default(&cfg);
    cfg.seed = 77;
    dp_nonlinear_options opt;
    dp_nonlinear_options_default(&opt);
    nl_run r;
    nl_compute(&r, X, n, p, nl_names, &cfg, &opt, 500);
    dp_test_py_write("X.bin", X, (size_t) (n * p));
    nl_write_draws(r.g, p, cfg.k, "W.bin");
    dp_test_py_run("X = rd('X.bin', (8, 2000)).T\n"
                   "W = rd('W.bin', (8, 2, 20))\n"
                   "wr('H.bin', O.mercer_hsic_cka(X, m=10))\n"
                   "wr('R.bin', O.rdc(X, k=20, s=6.0, method='cov', ridge=1e-6, weights=W))\n");
    double H[64], R[64];
    dp_test_py_read("H.bin", H, 64);
    dp_test_py_read("R.bin", R, 64);
    /* Issue 6 asks for 1e-6; the two computations differ only by rounding (one-pass shifted
     * float64 sums vs numpy's two-pass), so 1e-9 holds with a wide margin. */
    for (int64_t x = 0; x < p * p; x++) {
        DP_ASSERT_NEAR(r.res.hsic[x], H[x], 1e-9);
        DP_ASSERT_NEAR(r.res.rdc[x], R[x], 1e-9);
        DP_ASSERT_NEAR(r.res.sim[x], 0.5 * H[x] + 0.5 * R[x], 1e-9);
    }
    nl_free(&r);
    free(X);
}

DP_TEST(nonlinear_matches_oracle_missing_data) {
    if (!dp_test_py_have_numpy())
        DP_SKIP("python3-numpy/scipy not available");
    /* What is compared. Our features of a column are fixed by its own marginal (z, u of the
     * observed values); a missing value's feature row is the pilot. The oracle cannot recompute
     * the copula per pair here, so python receives our z, u, draws and pilots and applies the
     * oracle's own statistics to the rows each definition uses:
     *   impute:   all n rows of the pilot-imputed features -> O._rff_block_stats (HSIC, CKA =
     *             H_ij / sqrt(H_ii H_jj)) and O.cca_top(method='cov', ridge=1e-6) (RDC);
     *   pairwise: C_ij over the rows where both are observed (means over those rows), C_ii over
     *             the rows where i is observed -> CKA from these blocks, RDC =
     *             O._cca_from_cov(C_ii, C_jj, C_ij, ridge=1e-6). */
    const int64_t n = 1500, p = 8;
    double *X = nl_planted(n, 22, 0.15);
    dp_featgram_config cfg;
    dp_featgram_config_default(&cfg);
    cfg.seed = 5;
    cfg.block_rows = 256;
    dp_test_py_write("X.bin", X, (size_t) (n * p));
    for (int mode = 0; mode < 2; mode++) {
        dp_nonlinear_options opt;
        dp_nonlinear_options_default(&opt);
        opt.missing = (dp_featgram_missing) mode;
        nl_run r;
        nl_compute(&r, X, n, p, nl_names, &cfg, &opt, 111);
        if (mode == 0) {
            dp_test_py_write("z.bin", r.z, (size_t) (n * p));
            dp_test_py_write("u.bin", r.u, (size_t) (n * p));
            dp_test_py_write("mp.bin", dp_featgram_mercer(r.g)->pilot, 10);
            nl_write_draws(r.g, p, cfg.k, "W.bin");
            dp_test_py_run(
                "n, p = 1500, 8\n"
                "z = rd('z.bin', (p, n)).T; u = rd('u.bin', (p, n)).T\n"
                "mp = rd('mp.bin', (10,)); W = rd('W.bin', (p, 2, 20))\n"
                "def hfeat(i):\n"
                "    F = np.tile(mp, (n, 1)); ok = np.isfinite(z[:, i])\n"
                "    F[ok] = O.mercer_features(z[ok, i], 10); return F\n"
                "def rfeat(i):\n"
                "    w, b = W[i, 0], W[i, 1]; pil = (np.cos(b) - np.cos(w + b)) / w\n"
                "    F = np.tile(pil, (n, 1)); ok = np.isfinite(u[:, i])\n"
                "    F[ok] = O.rdc_features(u[ok, i], W[i]); return F\n"
                "Fh = [hfeat(i) for i in range(p)]; Fr = [rfeat(i) for i in range(p)]\n"
                "obs = np.isfinite(z)\n"
                "Hb = O._rff_block_stats(Fh)\n"
                "d = np.sqrt(np.diag(Hb)); HI = Hb / np.outer(d, d)\n"
                "RI = np.eye(p)\n"
                "for i in range(p):\n"
                "    for j in range(i + 1, p):\n"
                "        RI[i, j] = RI[j, i] = O.cca_top(Fr[i], Fr[j], method='cov', ridge=1e-6)\n"
                "def cov(A, B):\n"
                "    A = A - A.mean(0); B = B - B.mean(0); return A.T @ B / A.shape[0]\n"
                "HP = np.eye(p); RP = np.eye(p)\n"
                "for i in range(p):\n"
                "    for j in range(i + 1, p):\n"
                "        m = obs[:, i] & obs[:, j]; mi = obs[:, i]; mj = obs[:, j]\n"
                "        Cij = cov(Fh[i][m], Fh[j][m]); Cii = cov(Fh[i][mi], Fh[i][mi])\n"
                "        Cjj = cov(Fh[j][mj], Fh[j][mj])\n"
                "        HP[i, j] = HP[j, i] = np.sum(Cij**2) / np.sqrt(np.sum(Cii**2) * "
                "np.sum(Cjj**2))\n"
                "        Cij = cov(Fr[i][m], Fr[j][m]); Cii = cov(Fr[i][mi], Fr[i][mi])\n"
                "        Cjj = cov(Fr[j][mj], Fr[j][mj])\n"
                "        RP[i, j] = RP[j, i] = O._cca_from_cov(Cii, Cjj, Cij, ridge=1e-6)\n"
                "wr('HI.bin', HI.T); wr('RI.bin', RI.T); wr('HP.bin', HP.T); wr('RP.bin', RP.T)\n");
        }
        double H[64], R[64];
        dp_test_py_read(mode == 0 ? "HP.bin" : "HI.bin", H, 64);
        dp_test_py_read(mode == 0 ? "RP.bin" : "RI.bin", R, 64);
        /* Rounding only (see the complete-data test); issue 6 asks for 1e-6. */
        for (int64_t x = 0; x < p * p; x++) {
            DP_ASSERT_NEAR(r.res.hsic[x], H[x], 1e-9);
            DP_ASSERT_NEAR(r.res.rdc[x], R[x], 1e-9);
        }
        nl_free(&r);
    }
    free(X);
}

/* ---- planted relations --------------------------------------------------------------------- */

DP_TEST(nonlinear_planted_relations_n20000) {
    const int64_t n = 20000, p = 8;
    double *X = nl_planted(n, 2024, 0.0);
    dp_featgram_config cfg;
    dp_featgram_config_default(&cfg);
    cfg.seed = 1;
    dp_nonlinear_options opt;
    dp_nonlinear_options_default(&opt);
    nl_run r;
    nl_compute(&r, X, n, p, nl_names, &cfg, &opt, 4096);
    const double *H = r.res.hsic, *R = r.res.rdc;
#define NL_AT(M, i, j) (M)[(i) + (j) *p]
    const double hnull = r.res.null_hsic.mean, rnull = r.res.null_rdc.mean;
    printf("null level (%lld shadow pairs): HSIC mean %.3g q95 %.3g max %.3g; RDC mean %.4f "
           "q95 %.4f max %.4f\n",
           (long long) r.res.null_rdc.n_samples, hnull, r.res.null_hsic.q95, r.res.null_hsic.max,
           rnull, r.res.null_rdc.q95, r.res.null_rdc.max);
    const struct {
        const char *rel;
        int i, j;
    } rows[] = {{"y = x (exp x)", 0, 1}, {"y = x^2", 0, 2},     {"circle", 4, 5},
                {"y = sin 3x", 0, 3},    {"independent", 0, 6}, {"independent", 6, 7},
                {"independent", 4, 7},   {"independent", 2, 6}};
    for (size_t q = 0; q < DP_ARRAY_LEN(rows); q++)
        printf("%-14s %-8s %-8s HSIC %.3g RDC %.4f\n", rows[q].rel, nl_names[rows[q].i],
               nl_names[rows[q].j], NL_AT(H, rows[q].i, rows[q].j), NL_AT(R, rows[q].i, rows[q].j));
    /* Identical ranks: identical features, CKA = 1 up to rounding; RDC = lambda_max /
     * (lambda_max + ridge) < 1 by ~1e-6 relative. */
    DP_ASSERT_NEAR(NL_AT(H, 0, 1), 1.0, 1e-12);
    DP_ASSERT_NEAR(NL_AT(R, 0, 1), 1.0, 1e-4);
    /* Issue 6 thresholds (METHODS §5.4 measured 1.000, 1.000, 0.942 with these settings). */
    DP_ASSERT_TRUE(NL_AT(R, 0, 2) > 0.9);
    DP_ASSERT_TRUE(NL_AT(R, 4, 5) > 0.9);
    DP_ASSERT_TRUE(NL_AT(R, 0, 3) > 0.85);
    /* The null level at n = 2e4: RDC ~ 0.02 (METHODS §5.4), CKA a few 1e-4. */
    DP_ASSERT_TRUE(rnull > 0.005 && rnull < 0.06);
    DP_ASSERT_TRUE(hnull > 1e-5 && hnull < 5e-3);
    for (size_t q = 4; q < DP_ARRAY_LEN(rows); q++) {
        DP_ASSERT_TRUE(NL_AT(H, rows[q].i, rows[q].j) < 3 * hnull);
        DP_ASSERT_TRUE(NL_AT(R, rows[q].i, rows[q].j) < 3 * rnull);
    }
    /* Dump for original_emulation.py when asked (the report's comparison table). */
    const char *dump = getenv("DP_NONLIN_DUMP");
    if (dump != NULL) {
        FILE *f = fopen(dump, "wb");
        DP_ASSERT_TRUE(f != NULL);
        fwrite(X, sizeof(double), (size_t) (n * p), f);
        fclose(f);
    }
#undef NL_AT
    nl_free(&r);
    free(X);
}

DP_TEST(nonlinear_null_level_is_calibrated) {
    /* 12 independent columns of mixed marginals: the mean of the 66 real pairs must match the
     * shadow-pair estimate. Both are means of ~60-130 draws from the same null law, whose
     * relative sd is ~60 % (CKA) and ~15 % (RDC): a factor 1.6 / 1.25 is > 4 standard errors. */
    const int64_t n = 4000, p = 12;
    double *X = malloc(sizeof(double) * (size_t) (n * p));
    dp_rng r;
    dp_rng_seed(&r, 99);
    for (int64_t i = 0; i < p; i++)
        for (int64_t t = 0; t < n; t++) {
            double v = dp_rng_normal(&r);
            /* every third column discrete (5 levels): ties, lower effective rank */
            X[t + i * n] = i % 3 == 2 ? floor(2.5 * dp_rng_uniform(&r) * 2) : v * v * v;
        }
    char *names[12];
    for (int i = 0; i < 12; i++) {
        names[i] = malloc(8);
        snprintf(names[i], 8, "c%d", i);
    }
    dp_featgram_config cfg;
    dp_featgram_config_default(&cfg);
    dp_nonlinear_options opt;
    dp_nonlinear_options_default(&opt);
    nl_run run;
    nl_compute(&run, X, n, p, (const char *const *) names, &cfg, &opt, 4000);
    double sh = 0, sr = 0;
    int cnt = 0;
    for (int64_t i = 0; i < p; i++)
        for (int64_t j = i + 1; j < p; j++) {
            sh += run.res.hsic[i + j * p];
            sr += run.res.rdc[i + j * p];
            cnt++;
        }
    sh /= cnt;
    sr /= cnt;
    printf("real pairs: HSIC %.3g RDC %.4f; shadow: HSIC %.3g RDC %.4f (%lld)\n", sh, sr,
           run.res.null_hsic.mean, run.res.null_rdc.mean, (long long) run.res.null_rdc.n_samples);
    DP_ASSERT_EQ_INT(run.res.null_rdc.n_samples, 24);
    DP_ASSERT_TRUE(run.res.null_hsic.mean < 1.6 * sh && sh < 1.6 * run.res.null_hsic.mean);
    DP_ASSERT_TRUE(run.res.null_rdc.mean < 1.25 * sr && sr < 1.25 * run.res.null_rdc.mean);
    char msg[512];
    DP_ASSERT_TRUE(
        dp_nonlinear_null_warning(&run.res, 1.0 * run.res.null_sim.mean, msg, sizeof msg));
    DP_ASSERT_CONTAINS(msg, "--nonlinear-threshold");
    DP_ASSERT_TRUE(!dp_nonlinear_null_warning(&run.res, 0.3, msg, sizeof msg));
    nl_free(&run);
    for (int i = 0; i < 12; i++)
        free(names[i]);
    free(X);
}

/* ---- determinism and options ----------------------------------------------------------------- */

DP_TEST(nonlinear_deterministic_threads_and_batches) {
    const int64_t n = 3000, p = 8;
    double *X = nl_planted(n, 8, 0.05);
    dp_featgram_config cfg;
    dp_featgram_config_default(&cfg);
    cfg.seed = 3;
    cfg.block_rows = 512;
    dp_nonlinear_options opt;
    dp_nonlinear_options_default(&opt);
    nl_run a, b;
    nl_compute(&a, X, n, p, nl_names, &cfg, &opt, 3000);
    opt.threads = 3;
    nl_compute(&b, X, n, p, nl_names, &cfg, &opt, 77);
    DP_ASSERT_MEMEQ(a.res.hsic, b.res.hsic, sizeof(double) * (size_t) (p * p));
    DP_ASSERT_MEMEQ(a.res.rdc, b.res.rdc, sizeof(double) * (size_t) (p * p));
    DP_ASSERT_MEMEQ(a.res.sim, b.res.sim, sizeof(double) * (size_t) (p * p));
    DP_ASSERT_BITS_EQ(a.res.null_rdc.mean, b.res.null_rdc.mean);
    nl_free(&b);
    /* Another seed: other RDC draws, other values (HSIC has no draws: identical). */
    cfg.seed = 4;
    nl_compute(&b, X, n, p, nl_names, &cfg, &opt, 3000);
    DP_ASSERT_MEMEQ(a.res.hsic, b.res.hsic, sizeof(double) * (size_t) (p * p));
    DP_ASSERT_TRUE(memcmp(a.res.rdc, b.res.rdc, sizeof(double) * (size_t) (p * p)) != 0);
    nl_free(&a);
    nl_free(&b);
    free(X);
}

DP_TEST(nonlinear_zero_weight_skips_part_and_constant_columns) {
    const int64_t n = 1000, p = 3;
    double *X = malloc(sizeof(double) * (size_t) (n * p));
    dp_rng r;
    dp_rng_seed(&r, 1);
    for (int64_t t = 0; t < n; t++) {
        X[t] = dp_rng_normal(&r);
        X[t + n] = 4.0; /* constant */
        X[t + 2 * n] = X[t] * X[t];
    }
    const char *const names[3] = {"a", "const", "a2"};
    dp_featgram_config cfg;
    dp_featgram_config_default(&cfg);
    cfg.m = 0; /* w_hsic = 0: no HSIC part at all */
    dp_nonlinear_options opt;
    dp_nonlinear_options_default(&opt);
    opt.w_hsic = 0;
    opt.w_rdc = 2;
    nl_run a;
    nl_compute(&a, X, n, p, names, &cfg, &opt, 1000);
    DP_ASSERT_TRUE(a.res.hsic == NULL);
    DP_ASSERT_NEAR(a.res.w_rdc, 1.0, 0.0);
    for (int64_t x = 0; x < p * p; x++)
        DP_ASSERT_BITS_EQ(a.res.sim[x], a.res.rdc[x]);
    DP_ASSERT_TRUE(isnan(a.res.rdc[1 + 1 * p]));
    DP_ASSERT_TRUE(isnan(a.res.rdc[0 + 1 * p]) && isnan(a.res.rdc[1 + 2 * p]));
    DP_ASSERT_NEAR(a.res.rdc[0], 1.0, 0.0);
    DP_ASSERT_TRUE(a.res.rdc[0 + 2 * p] > 0.9);
    /* Asking for HSIC from an accumulator without its part is refused. */
    dp_error err, *ep = &err;
    dp_nonlinear_result res;
    dp_nonlinear_result_init(&res);
    opt.w_hsic = 0.5;
    DP_ASSERT_TRUE(dp_nonlinear_compute(a.g, &opt, &res, ep) != DP_OK);
    DP_ASSERT_CONTAINS(err.msg, "HSIC");
    opt.w_hsic = -1;
    DP_ASSERT_STATUS(dp_nonlinear_compute(a.g, &opt, &res, ep), DP_INVALID_ARG);
    opt.w_hsic = 0;
    opt.w_rdc = 0;
    DP_ASSERT_STATUS(dp_nonlinear_compute(a.g, &opt, &res, ep), DP_INVALID_ARG);
    DP_ASSERT_TRUE(res.sim == NULL);
    nl_free(&a);
    /* Pairs with too few common rows are NaN. */
    for (int64_t t = 0; t < n; t++)
        X[t + n] = t < 500 ? NAN : X[t];
    for (int64_t t = 500; t < n; t++)
        X[t + 2 * n] = NAN;
    dp_featgram_config_default(&cfg);
    dp_nonlinear_options_default(&opt);
    nl_compute(&a, X, n, p, names, &cfg, &opt, 1000);
    DP_ASSERT_TRUE(isnan(a.res.hsic[1 + 2 * p]) && isnan(a.res.rdc[1 + 2 * p]));
    DP_ASSERT_TRUE(isfinite(a.res.hsic[0 + 2 * p]) && a.res.rdc[0 + 2 * p] > 0.9);
    nl_free(&a);
    free(X);
}

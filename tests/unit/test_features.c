/* Pass-4 feature maps: Mercer (Hermite-function) features of normal scores and random sine
 * features of the uniform copula (transform/dp_features.h). References: the numpy oracle
 * (tests/oracle/oracle.py), explicit Hermite polynomials, libm, and numerical integrals. */
#include "dp_test.h"
#include "transform/dp_nlfeatures.h"
#include "transform/dp_normal.h"
#include "util/dp_rng.h"

#include <float.h>

static bool feat_have_numpy(void) {
    return system("/usr/bin/python3 -c 'import numpy, scipy' >/dev/null 2>&1") == 0;
}

static void feat_write(const char *path, const double *x, size_t n) {
    FILE *f = fopen(path, "wb");
    DP_ASSERT_TRUE(f != NULL);
    DP_ASSERT_EQ_INT(fwrite(x, sizeof(double), n, f), n);
    fclose(f);
}

static void feat_read(const char *path, double *x, size_t n) {
    FILE *f = fopen(path, "rb");
    DP_ASSERT_TRUE(f != NULL);
    DP_ASSERT_EQ_INT(fread(x, sizeof(double), n, f), n);
    fclose(f);
}

/* Run a python script (oracle directory on sys.path as ORACLE_DIR). */
static void feat_python(const char *body) {
    char path[4096], cmd[8300];
    snprintf(path, sizeof path, "%s/script.py", dp_test_tmp_dir());
    FILE *f = fopen(path, "w");
    DP_ASSERT_TRUE(f != NULL);
    fprintf(f, "import sys\nimport numpy as np\nsys.path.insert(0, %s%s%s)\nimport oracle as O\n",
            "'", dp_test_path("tests/oracle"), "'");
    fprintf(f, "TMP = '%s'\n%s\n", dp_test_tmp_dir(), body);
    fclose(f);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s", path);
    DP_ASSERT_EQ_INT(system(cmd), 0);
}

DP_TEST(features_mercer_matches_oracle) {
    if (!feat_have_numpy())
        DP_SKIP("python3-numpy/scipy not available");
    enum { N = 131 };
    double z[N];
    for (int i = 0; i < 121; i++)
        z[i] = -6.0 + 0.1 * i;
    const double extra[10] = {-39.5, -12.0, -7.5, 7.5, 9.0, 12.0, 20.0, 39.0, 1e-300, -0.0};
    for (int i = 0; i < 10; i++)
        z[121 + i] = extra[i];
    char pin[4096], pout[4096];
    snprintf(pin, sizeof pin, "%s/z.bin", dp_test_tmp_dir());
    snprintf(pout, sizeof pout, "%s/f.bin", dp_test_tmp_dir());
    feat_write(pin, z, N);
    feat_python("z = np.fromfile(TMP + '/z.bin', dtype='<f8')\n"
                "F = O.mercer_features(z, 10)\n"
                "np.ascontiguousarray(F.T).astype('<f8').tofile(TMP + '/f.bin')\n");
    static double ref[N * 10], got[N * 10];
    feat_read(pout, ref, N * 10);
    dp_mercer mf;
    dp_error err, *ep = &err;
    DP_ASSERT_OK(dp_mercer_init(&mf, 10, DP_MERCER_SIGMA_DEFAULT, ep), ep);
    DP_ASSERT_EQ_INT(dp_mercer_fill(&mf, z, N, NULL, got, N), 0);
    /* Same formula, different association of the products: a few ulps of features <= 1. */
    for (int k = 0; k < 10; k++)
        for (int t = 0; t < N; t++)
            DP_ASSERT_NEAR(got[t + k * N], ref[t + k * N], 1e-14);
}

/* Physicists' Hermite polynomial by its explicit sum, normalised: H_k / sqrt(2^k k!). */
static long double feat_hermite_norm(int k, long double y) {
    long double s = 0, fact_k = 1;
    for (int i = 2; i <= k; i++)
        fact_k *= i;
    for (int m = 0; 2 * m <= k; m++) {
        long double fm = 1, fkm = 1;
        for (int i = 2; i <= m; i++)
            fm *= i;
        for (int i = 2; i <= k - 2 * m; i++)
            fkm *= i;
        s += ((m % 2) ? -1.0L : 1.0L) * powl(2.0L * y, (long double) (k - 2 * m)) / (fm * fkm);
    }
    return fact_k * s / sqrtl(powl(2.0L, (long double) k) * fact_k);
}

DP_TEST(features_mercer_closed_form_orthogonality_and_kernel) {
    dp_mercer mf;
    dp_error err, *ep = &err;
    DP_ASSERT_OK(dp_mercer_init(&mf, 10, DP_MERCER_SIGMA_DEFAULT, ep), ep);
    /* sigma is sqrt(2) Phi^-1(3/4), the population median heuristic for normal scores. */
    DP_ASSERT_NEAR(DP_MERCER_SIGMA_DEFAULT, M_SQRT2 * dp_norm_ppf(0.75), 2e-16);
    const long double a = 0.25L, b = 1.0L / (2.0L * DP_MERCER_SIGMA_DEFAULT *
                                             (long double) DP_MERCER_SIGMA_DEFAULT);
    const long double c = sqrtl(a * a + 2 * a * b), A = a + b + c, B = b / A;
    double f[10];
    for (double z = -3.0; z <= 3.0; z += 0.25) {
        dp_mercer_eval(&mf, z, f);
        for (int k = 0; k < 10; k++) {
            long double lam = sqrtl(2 * a / A) * powl(B, (long double) k);
            long double e = sqrtl(2 * sqrtl(c)) * expl(-(c - a) * z * z) *
                            feat_hermite_norm(k, sqrtl(2 * c) * z);
            /* The recurrence and the explicit sum agree to rounding for |z| <= 3. */
            DP_ASSERT_NEAR(f[k], (double) (sqrtl(lam) * e), 1e-13);
        }
    }
    /* Orthogonality under N(0, 1): E[psi_k psi_l] = lambda_k delta_kl (eigenfunctions are
     * orthonormal), by a fine midpoint sum in long double on [-14, 14]. */
    long double G[10][10] = {{0}};
    const long double h = 1.0L / 256;
    for (long double z = -14 + h / 2; z < 14; z += h) {
        dp_mercer_eval(&mf, (double) z, f);
        long double w = h * expl(-z * z / 2) / sqrtl(2 * M_PI);
        for (int k = 0; k < 10; k++)
            for (int l = 0; l < 10; l++)
                G[k][l] += w * f[k] * f[l];
    }
    for (int k = 0; k < 10; k++)
        for (int l = 0; l < 10; l++)
            DP_ASSERT_NEAR((double) G[k][l], k == l ? mf.lambda[k] : 0.0, 1e-12);
    /* Kernel reproduction: sum_k psi_k(z) psi_k(z') -> exp(-(z - z')^2 / (2 sigma^2)); the
     * omitted terms are O(B^10) = 1e-4 (METHODS §4.5). */
    double f2[10];
    for (double z = -2; z <= 2; z += 0.5)
        for (double z2 = -2; z2 <= 2; z2 += 0.5) {
            dp_mercer_eval(&mf, z, f);
            dp_mercer_eval(&mf, z2, f2);
            double kk = 0;
            for (int k = 0; k < 10; k++)
                kk += f[k] * f2[k];
            double s = DP_MERCER_SIGMA_DEFAULT;
            DP_ASSERT_NEAR(kk, exp(-(z - z2) * (z - z2) / (2 * s * s)), 1e-3);
        }
}

DP_TEST(features_mercer_pilot_and_missing) {
    dp_mercer mf;
    dp_error err, *ep = &err;
    DP_ASSERT_OK(dp_mercer_init(&mf, 10, DP_MERCER_SIGMA_DEFAULT, ep), ep);
    /* Independent reference: Simpson's rule in long double with 40000 panels on [-20, 20]. */
    for (int k = 0; k < 10; k++) {
        const int n = 40000;
        const long double lo = -20, hi = 20, h = (hi - lo) / n;
        long double s = 0;
        double f[10];
        for (int i = 0; i <= n; i++) {
            long double z = lo + h * i;
            dp_mercer_eval(&mf, (double) z, f);
            long double w = (i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2);
            s += w * f[k] * expl(-z * z / 2) / sqrtl(2 * M_PI);
        }
        s *= h / 3;
        if (k % 2 == 1)
            DP_ASSERT_TRUE(mf.pilot[k] == 0.0); /* exactly, by symmetry of the quadrature */
        else
            DP_ASSERT_NEAR(mf.pilot[k], (double) s, 1e-14);
    }
    /* NaN rows get the pilot; shifted by the pilot they are exactly 0. */
    double z[4] = {0.3, NAN, -1.0, NAN}, out[4 * 10];
    DP_ASSERT_EQ_INT(dp_mercer_fill(&mf, z, 4, mf.pilot, out, 4), 2);
    for (int k = 0; k < 10; k++) {
        DP_ASSERT_BITS_EQ(out[1 + 4 * k], 0.0);
        DP_ASSERT_BITS_EQ(out[3 + 4 * k], 0.0);
    }
    double e[10];
    dp_mercer_eval(&mf, 0.3, e);
    for (int k = 0; k < 10; k++)
        DP_ASSERT_BITS_EQ(out[0 + 4 * k], e[k] - mf.pilot[k]);
    /* Infinite scores are extreme values, not missing: features ~0, finite. */
    dp_mercer_eval(&mf, INFINITY, e);
    for (int k = 0; k < 10; k++)
        DP_ASSERT_TRUE(isfinite(e[k]) && fabs(e[k]) < 1e-150);
}

DP_TEST(features_invalid_parameters) {
    dp_mercer mf;
    dp_error err, *ep = &err;
    DP_ASSERT_STATUS(dp_mercer_init(&mf, 0, 1.0, &err), DP_INVALID_ARG);
    DP_ASSERT_STATUS(dp_mercer_init(&mf, DP_FEATURES_MAX + 1, 1.0, &err), DP_INVALID_ARG);
    DP_ASSERT_STATUS(dp_mercer_init(&mf, 10, 0.0, &err), DP_INVALID_ARG);
    DP_ASSERT_STATUS(dp_mercer_init(&mf, 10, NAN, &err), DP_INVALID_ARG);
    DP_ASSERT_CONTAINS(err.msg, "sigma");
    DP_ASSERT_STATUS(dp_rdc_check_params(0, 6.0, &err), DP_INVALID_ARG);
    DP_ASSERT_STATUS(dp_rdc_check_params(20, -1.0, &err), DP_INVALID_ARG);
    DP_ASSERT_STATUS(dp_rdc_check_params(20, INFINITY, &err), DP_INVALID_ARG);
    DP_ASSERT_OK(dp_rdc_check_params(20, 6.0, ep), ep);
}

DP_TEST(features_rdc_draws_keyed_by_name) {
    double w1[20], b1[20], w2[20], b2[20];
    dp_rdc_draw(7, "MolWt", 20, 6.0, w1, b1);
    dp_rdc_draw(7, "MolWt", 20, 6.0, w2, b2);
    DP_ASSERT_MEMEQ(w1, w2, sizeof w1);
    DP_ASSERT_MEMEQ(b1, b2, sizeof b1);
    /* The stream is the documented one: k normals for w, then k for b, scaled by s/2. */
    dp_rng r;
    dp_rng_seed_key(&r, 7, "MolWt", DP_RDC_SALT);
    for (int j = 0; j < 20; j++)
        DP_ASSERT_BITS_EQ(w1[j], dp_rng_normal(&r) * 3.0);
    for (int j = 0; j < 20; j++)
        DP_ASSERT_BITS_EQ(b1[j], dp_rng_normal(&r) * 3.0);
    dp_rdc_draw(7, "MolLogP", 20, 6.0, w2, b2);
    DP_ASSERT_TRUE(memcmp(w1, w2, sizeof w1) != 0);
    dp_rdc_draw(8, "MolWt", 20, 6.0, w2, b2);
    DP_ASSERT_TRUE(memcmp(w1, w2, sizeof w1) != 0);
    /* Scale: sd of w and b is s/2 = 3 (40000 draws: the sample sd is within 1.5 % with
     * probability > 0.999). */
    double sw = 0, sb = 0;
    char name[32];
    for (int c = 0; c < 2000; c++) {
        snprintf(name, sizeof name, "col%d", c);
        dp_rdc_draw(1, name, 20, 6.0, w2, b2);
        for (int j = 0; j < 20; j++) {
            sw += w2[j] * w2[j];
            sb += b2[j] * b2[j];
        }
    }
    DP_ASSERT_NEAR(sqrt(sw / 40000), 3.0, 0.045);
    DP_ASSERT_NEAR(sqrt(sb / 40000), 3.0, 0.045);
}

DP_TEST(features_rdc_fill_pilot_and_missing) {
    double w[20], b[20], pilot[20];
    dp_rdc_draw(3, "x", 20, 6.0, w, b);
    dp_rdc_pilot(w, b, 20, pilot);
    for (int j = 0; j < 20; j++) {
        /* E[sin(wU + b)] by Simpson in long double on [0, 1], 20000 panels. */
        const int n = 20000;
        long double s = 0, h = 1.0L / n;
        for (int i = 0; i <= n; i++) {
            long double wt = (i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2);
            s += wt * sinl(w[j] * (h * i) + b[j]);
        }
        DP_ASSERT_NEAR(pilot[j], (double) (s * h / 3), 1e-13);
    }
    /* tiny frequency: the limit sin(b) */
    double w0 = 0.0, b0 = 0.7, p0;
    dp_rdc_pilot(&w0, &b0, 1, &p0);
    DP_ASSERT_NEAR(p0, sin(0.7), 1e-16);
    enum { N = 1000 };
    static double u[N], out[N * 20];
    dp_rng r;
    dp_rng_seed(&r, 5);
    for (int t = 0; t < N; t++)
        u[t] = (t % 17 == 3) ? NAN : dp_rng_uniform(&r);
    u[0] = 0.0;
    u[1] = 1.0;
    u[2] = 1.5; /* clamped to 1 */
    int64_t nm = dp_rdc_fill(w, b, pilot, 20, u, N, NULL, out, N);
    int64_t expect_missing = 0;
    for (int t = 0; t < N; t++)
        expect_missing += isnan(u[t]);
    DP_ASSERT_EQ_INT(nm, expect_missing);
    for (int j = 0; j < 20; j++)
        for (int t = 0; t < N; t++) {
            double ref = isnan(u[t]) ? pilot[j] : sin(w[j] * fmin(u[t], 1.0) + b[j]);
            /* dp__sin_fast vs libm: both within a few ulps of the true sine. */
            DP_ASSERT_NEAR(out[t + j * N], ref, 5e-16);
        }
    /* Shifted by the pilot, missing rows are exactly zero. */
    dp_rdc_fill(w, b, pilot, 20, u, N, pilot, out, N);
    for (int j = 0; j < 20; j++)
        for (int t = 0; t < N; t++)
            if (isnan(u[t]))
                DP_ASSERT_BITS_EQ(out[t + j * N], 0.0);
}

DP_TEST(features_sin_fast_matches_libm) {
    dp_rng r;
    dp_rng_seed(&r, 11);
    double worst = 0;
    for (int i = 0; i < 2000000; i++) {
        double x = (dp_rng_uniform(&r) - 0.5) * (i % 2 ? 200.0 : 2e5);
        worst = fmax(worst, fabs(dp__sin_fast(x) - sin(x)));
    }
    /* Near multiples of pi/2, where the reduction cancels. */
    for (int q = -2000; q <= 2000; q++) {
        double x0 = q * 1.5707963267948966;
        for (int d = -3; d <= 3; d++) {
            double x = nextafter(x0, d < 0 ? -INFINITY : INFINITY);
            for (int s = 0; s < abs(d); s++)
                x = nextafter(x, d < 0 ? -INFINITY : INFINITY);
            worst = fmax(worst, fabs(dp__sin_fast(x) - sin(x)));
        }
    }
    /* Reduction exact to ~1e-16 absolute (|x| <= 1e5), polynomial error < 5e-17, plus the
     * rounding of both results (<= 1.1e-16 each for values <= 1). */
    DP_ASSERT_TRUE(worst < 4e-16);
    DP_ASSERT_NEAR(dp__sin_fast(1e7), sin(1e7), 0.0);
    DP_ASSERT_TRUE(isnan(dp__sin_fast(NAN)));
    DP_ASSERT_TRUE(isnan(dp__sin_fast(INFINITY)));
}

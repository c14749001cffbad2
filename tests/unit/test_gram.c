/* Pairwise-complete Gram accumulator (src/accum/dp_gram) and the CPU backend behind it.
 * References: a naive long-double two-pass pairwise-complete Pearson written here, and the
 * numpy oracle (tests/oracle/oracle.py, `marginal` NaN policy) for Spearman on pre-ranked data. */
#include "dp_test.h"
#include "accum/dp_gram.h"
#include "backend/dp_backend.h"
#include "util/dp_alloc.h"
#include "util/dp_buf.h"
#include "util/dp_rng.h"

#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers --------------------------------------------------------------------------- */

static dp_backend *make_backend(int threads) {
    dp_backend *be = NULL;
    dp_error err_, *err = &err_;
    dp_backend_cpu_options o = {threads};
    DP_ASSERT_OK(dp_backend_cpu_create(&o, &be, err), err);
    return be;
}

/* Naive reference: pairwise-complete two-pass Pearson in long double. NaN when the pair has < 3
 * rows or a column is constant on them; diagonal 1 or NaN (< 3 valid rows or constant). */
static void ref_pearson(const double *X, int64_t n, int64_t p, double *R) {
    for (int64_t i = 0; i < p; i++)
        for (int64_t j = i; j < p; j++) {
            const double *a = X + i * n, *b = X + j * n;
            long double sa = 0, sb = 0;
            int64_t c = 0;
            for (int64_t t = 0; t < n; t++)
                if (isfinite(a[t]) && isfinite(b[t])) {
                    sa += a[t];
                    sb += b[t];
                    c++;
                }
            double r = NAN;
            if (c >= 3) {
                long double ma = sa / c, mb = sb / c, xx = 0, yy = 0, xy = 0;
                for (int64_t t = 0; t < n; t++)
                    if (isfinite(a[t]) && isfinite(b[t])) {
                        long double da = a[t] - ma, db = b[t] - mb;
                        xx += da * da;
                        yy += db * db;
                        xy += da * db;
                    }
                if (xx > 0 && yy > 0) {
                    r = (double) (xy / sqrtl(xx * yy));
                    if (i == j)
                        r = 1.0;
                }
            }
            R[j * p + i] = R[i * p + j] = r;
        }
    for (int64_t j = 0; j < p; j++)
        if (isnan(R[j * p + j]))
            for (int64_t i = 0; i < p; i++)
                R[j * p + i] = R[i * p + j] = NAN;
}

/* Mean of the finite values of each column (a Pass-1 style pilot centre). */
static void col_means(const double *X, int64_t n, int64_t p, double *K) {
    for (int64_t j = 0; j < p; j++) {
        long double s = 0;
        int64_t c = 0;
        for (int64_t t = 0; t < n; t++)
            if (isfinite(X[j * n + t])) {
                s += X[j * n + t];
                c++;
            }
        K[j] = c > 0 ? (double) (s / c) : 0.0;
    }
}

/* Adversarial data: a latent factor gives real correlations; ties (rounded columns), heavy tails
 * (Cauchy), a constant column, a column with mean 1e9 x its sd, a column with 2 valid rows, a
 * column constant on the rows where another is present, random and blocky missing values. */
static double *gen_data(int64_t n, int64_t p, uint64_t seed) {
    double *X = dp_mallocarray((size_t) (n * p), sizeof(double));
    DP_ASSERT_TRUE(X != NULL);
    dp_rng rng;
    dp_rng_seed(&rng, seed);
    double *f = dp_mallocarray((size_t) n, sizeof(double));
    DP_ASSERT_TRUE(f != NULL);
    for (int64_t t = 0; t < n; t++)
        f[t] = dp_rng_normal(&rng);
    for (int64_t j = 0; j < p; j++) {
        double load = 0.95 * dp_rng_uniform(&rng);
        int kind = (int) (j % 8);
        double *c = X + j * n;
        for (int64_t t = 0; t < n; t++) {
            double z = load * f[t] + sqrt(1 - load * load) * dp_rng_normal(&rng);
            switch (kind) {
            case 1: /* ties */
                z = round(z * 2.0);
                break;
            case 2: /* heavy tails: Cauchy plus the factor */
                z = z + tan(3.14159265358979 * (dp_rng_uniform(&rng) - 0.5));
                break;
            case 3: /* mean 1e9 x sd */
                z = 1e9 + z;
                break;
            case 4: /* small-integer counts with many ties */
                z = floor(fabs(z) * 1.5);
                break;
            default:
                break;
            }
            c[t] = z;
        }
        /* missing: random in odd columns, blocky in columns = 2 mod 3 */
        if (j % 2 == 1)
            for (int64_t t = 0; t < n; t++)
                if (dp_rng_uniform(&rng) < 0.07)
                    c[t] = NAN;
        if (j % 3 == 2) {
            int64_t a = (int64_t) (dp_rng_uniform(&rng) * (double) n), len = n / 5;
            for (int64_t t = a; t < a + len && t < n; t++)
                c[t] = NAN;
        }
    }
    if (p > 5) { /* constant column */
        for (int64_t t = 0; t < n; t++)
            X[5 * n + t] = 3.25;
    }
    if (p > 6) { /* 2 valid rows only */
        for (int64_t t = 0; t < n; t++)
            X[6 * n + t] = t < 2 ? (double) t : NAN;
    }
    if (p > 9) { /* column 9 constant wherever column 7 is present, varies elsewhere */
        for (int64_t t = 0; t < n; t++) {
            X[7 * n + t] = (t % 2 == 0) ? X[7 * n + t] : NAN;
            X[9 * n + t] = (t % 2 == 0) ? 7.0 : dp_rng_normal(&rng);
        }
    }
    dp_free(f);
    return X;
}

/* Feed X (column-major, n rows) in batches of `batch` rows starting at global row `off`. */
static void feed(dp_gram *g, const double *X, int64_t n, int64_t t0, int64_t t1, int64_t batch) {
    dp_error err_, *err = &err_;
    for (int64_t t = t0; t < t1; t += batch) {
        int64_t cnt = DP_MIN(batch, t1 - t);
        DP_ASSERT_OK(dp_gram_update_rows(g, X + t, n, cnt, t, err), err);
    }
}

static double *run_gram_stats(const double *X, int64_t n, int64_t p, const double *K,
                              const dp_gram_options *o, int threads, int64_t batch,
                              dp_gram_stats *stats) {
    dp_error err_, *err = &err_;
    dp_backend *be = make_backend(threads);
    dp_gram *g = NULL;
    DP_ASSERT_OK(dp_gram_create(p, K, o, be, &g, err), err);
    feed(g, X, n, 0, n, batch);
    double *R = dp_mallocarray((size_t) (p * p), sizeof(double));
    DP_ASSERT_OK(dp_gram_finalize(g, R, err), err);
    DP_ASSERT_EQ_INT(dp_gram_rows(g), n);
    if (stats != NULL)
        dp_gram_get_stats(g, stats);
    dp_gram_free(g);
    dp_backend_free(be);
    return R;
}

static double *run_gram(const double *X, int64_t n, int64_t p, const double *K,
                        const dp_gram_options *o, int threads, int64_t batch) {
    return run_gram_stats(X, n, p, K, o, threads, batch, NULL);
}

static void assert_matrix_near(const double *A, const double *B, int64_t p, double tol) {
    for (int64_t e = 0; e < p * p; e++) {
        if (isnan(A[e]) != isnan(B[e]))
            DP_FAILF("entry (%lld, %lld): %.17g vs %.17g (NaN pattern differs)",
                     (long long) (e % p), (long long) (e / p), A[e], B[e]);
        if (!isnan(A[e]) && fabs(A[e] - B[e]) > tol)
            DP_FAILF("entry (%lld, %lld): %.17g vs %.17g, diff %.3g > %.3g", (long long) (e % p),
                     (long long) (e / p), A[e], B[e], fabs(A[e] - B[e]), tol);
    }
}

static void assert_symmetric_unit_diag(const double *R, int64_t p) {
    for (int64_t i = 0; i < p; i++) {
        double d = R[i * p + i];
        DP_ASSERT_TRUE(isnan(d) || d == 1.0);
        for (int64_t j = 0; j < p; j++) {
            DP_ASSERT_BITS_EQ(R[i * p + j], R[j * p + i]);
            DP_ASSERT_TRUE(isnan(R[i * p + j]) || fabs(R[i * p + j]) <= 1.0);
        }
    }
}

/* ---- backend --------------------------------------------------------------------------- */

/* syrk/gemm against naive long-double products on shapes that cut into several uneven tiles. */
DP_TEST(backend_cpu_matches_naive_products) {
    dp_error err_, *err = &err_;
    dp_rng rng;
    dp_rng_seed(&rng, 5);
    const int64_t k = 37, n = 301, m = 45;
    double *A = dp_mallocarray((size_t) (k * n), sizeof(double));
    double *B = dp_mallocarray((size_t) (k * m), sizeof(double));
    double *C = dp_calloc((size_t) (n * n), sizeof(double));
    double *G = dp_calloc((size_t) (n * m), sizeof(double));
    for (int64_t e = 0; e < k * n; e++)
        A[e] = dp_rng_normal(&rng);
    for (int64_t e = 0; e < k * m; e++)
        B[e] = dp_rng_normal(&rng);
    for (int64_t e = 0; e < n * n; e++)
        C[e] = 1.0;
    for (int64_t e = 0; e < n * m; e++)
        G[e] = 2.0;
    dp_backend *be = make_backend(3);
    DP_ASSERT_OK(be->syrk_tn(be, n, k, 2.0, A, k, 0.5, C, n, err), err);
    DP_ASSERT_OK(be->gemm_tn(be, n, m, k, -1.0, A, k, B, k, 1.0, G, n, err), err);
    /* |error| of a 37-term dot product of N(0,1) values: ~k * eps * sum|a b|; 1e-12 is ~100x */
    for (int64_t j = 0; j < n; j++)
        for (int64_t i = 0; i < n; i++) {
            long double s = 0;
            for (int64_t t = 0; t < k; t++)
                s += (long double) A[i * k + t] * A[j * k + t];
            if (i <= j)
                DP_ASSERT_NEAR(C[j * n + i], (double) (2 * s + 0.5L), 1e-12);
            else
                DP_ASSERT_BITS_EQ(C[j * n + i], 1.0); /* lower triangle untouched */
        }
    for (int64_t j = 0; j < m; j++)
        for (int64_t i = 0; i < n; i++) {
            long double s = 0;
            for (int64_t t = 0; t < k; t++)
                s += (long double) A[i * k + t] * B[j * k + t];
            DP_ASSERT_NEAR(G[j * n + i], (double) (2.0L - s), 1e-12);
        }
    dp_free(A), dp_free(B), dp_free(C), dp_free(G);
    /* Small outputs with a long k take the k-split path (chunks reduced in order): still the
     * naive products, and the same bits for 1 and 3 threads. */
    const int64_t k2 = 1000, n2 = 50, m2 = 30;
    A = dp_mallocarray((size_t) (k2 * n2), sizeof(double));
    B = dp_mallocarray((size_t) (k2 * m2), sizeof(double));
    C = dp_calloc((size_t) (n2 * n2), sizeof(double));
    G = dp_calloc((size_t) (n2 * m2), sizeof(double));
    double *C1 = dp_calloc((size_t) (n2 * n2), sizeof(double));
    double *G1 = dp_calloc((size_t) (n2 * m2), sizeof(double));
    for (int64_t e = 0; e < k2 * n2; e++)
        A[e] = dp_rng_normal(&rng);
    for (int64_t e = 0; e < k2 * m2; e++)
        B[e] = dp_rng_normal(&rng);
    dp_backend *be1 = make_backend(1);
    for (int64_t e = 0; e < n2 * n2; e++)
        C[e] = C1[e] = 3.0;
    DP_ASSERT_OK(be->syrk_tn(be, n2, k2, 1.0, A, k2, 1.0, C, n2, err), err);
    DP_ASSERT_OK(be1->syrk_tn(be1, n2, k2, 1.0, A, k2, 1.0, C1, n2, err), err);
    DP_ASSERT_OK(be->gemm_tn(be, n2, m2, k2, 0.5, A, k2, B, k2, 0.0, G, n2, err), err);
    DP_ASSERT_OK(be1->gemm_tn(be1, n2, m2, k2, 0.5, A, k2, B, k2, 0.0, G1, n2, err), err);
    DP_ASSERT_MEMEQ(C, C1, (size_t) (n2 * n2) * sizeof(double));
    DP_ASSERT_MEMEQ(G, G1, (size_t) (n2 * m2) * sizeof(double));
    /* 1000-term sums of N(0,1) products: |error| ~ sqrt(k) * eps * |terms| << 1e-11 */
    for (int64_t j = 0; j < n2; j++)
        for (int64_t i = 0; i <= j; i++) {
            long double s = 0;
            for (int64_t t = 0; t < k2; t++)
                s += (long double) A[i * k2 + t] * A[j * k2 + t];
            DP_ASSERT_NEAR(C[j * n2 + i], (double) (s + 3.0L), 1e-11);
        }
    for (int64_t j = 0; j < m2; j++)
        for (int64_t i = 0; i < n2; i++) {
            long double s = 0;
            for (int64_t t = 0; t < k2; t++)
                s += (long double) A[i * k2 + t] * B[j * k2 + t];
            DP_ASSERT_NEAR(G[j * n2 + i], (double) (0.5L * s), 1e-11);
        }
    dp_backend_free(be1);
    dp_free(C1), dp_free(G1);
    /* Dimensions beyond int are refused, not truncated. */
    DP_ASSERT_STATUS(be->syrk_tn(be, (int64_t) 1 << 32, 1, 1.0, A, 1, 0.0, C, 1, err), DP_LIMIT);
    dp_backend_free(be);
    dp_free(A), dp_free(B), dp_free(C), dp_free(G);
}

/* ---- Gram numerics --------------------------------------------------------------------- */

/* Pairwise-complete Pearson with Pass-1 mean centres vs the long-double reference.
 * Tolerance 1e-10 (the bound): the centred sums lose ~u * (1 + (mean - K)^2 / var) per
 * entry, ~1e-13 here, even for the column whose mean is 1e9 x its sd. */
DP_TEST(gram_pairwise_pearson_matches_long_double_reference) {
    const int64_t n = 9000, p = 40;
    double *X = gen_data(n, p, 11);
    double K[40], *Rref = dp_mallocarray((size_t) (p * p), sizeof(double));
    col_means(X, n, p, K);
    ref_pearson(X, n, p, Rref);
    dp_gram_options o = {DP_GRAM_PAIRWISE, 0, NULL};
    double *R = run_gram(X, n, p, K, &o, 2, 1000);
    assert_matrix_near(R, Rref, p, 1e-10);
    assert_symmetric_unit_diag(R, p);
    /* The planted undefined cases really are NaN and the defined ones are numbers. */
    DP_ASSERT_TRUE(isnan(R[5 * p + 5]) && isnan(R[6 * p + 6]) && isnan(R[5 * p + 0]));
    DP_ASSERT_TRUE(isnan(R[7 * p + 9]));
    DP_ASSERT_TRUE(R[9 * p + 9] == 1.0 && R[7 * p + 7] == 1.0 && isfinite(R[3 * p + 0]));
    dp_free(R);
    /* A crude pilot (0 for every column) still meets 1e-10 except where the offset is huge:
     * the 1e9 column loses ~u * 1e18 relative, which is what the pilot centre is for. */
    double K0[40] = {0};
    R = run_gram(X, n, p, K0, &o, 1, 4096);
    for (int64_t i = 0; i < p; i++)
        for (int64_t j = 0; j < p; j++)
            if (i % 8 != 3 && j % 8 != 3 && !isnan(Rref[j * p + i]))
                DP_ASSERT_NEAR(R[j * p + i], Rref[j * p + i], 1e-10);
    dp_free(R);
    dp_free(Rref);
    dp_free(X);
}

/* IMPUTE mode = the original's behaviour: missing -> the impute value, every row counts. */
DP_TEST(gram_impute_mode_matches_reference_on_imputed_data) {
    const int64_t n = 5000, p = 24;
    double *X = gen_data(n, p, 12);
    double imp[24], K[24];
    for (int64_t j = 0; j < p; j++)
        imp[j] = 0.25 * (double) (j % 3);
    double *Xi = dp_mallocarray((size_t) (n * p), sizeof(double));
    for (int64_t j = 0; j < p; j++)
        for (int64_t t = 0; t < n; t++)
            Xi[j * n + t] = isfinite(X[j * n + t]) ? X[j * n + t] : imp[j];
    col_means(Xi, n, p, K);
    double *Rref = dp_mallocarray((size_t) (p * p), sizeof(double));
    ref_pearson(Xi, n, p, Rref);
    dp_gram_options o = {DP_GRAM_IMPUTE, 0, imp};
    double *R = run_gram(X, n, p, K, &o, 2, 777);
    assert_matrix_near(R, Rref, p, 1e-10);
    assert_symmetric_unit_diag(R, p);
    dp_free(R);
    /* impute = NULL means 0 */
    o.impute = NULL;
    for (int64_t j = 0; j < p; j++)
        for (int64_t t = 0; t < n; t++)
            Xi[j * n + t] = isfinite(X[j * n + t]) ? X[j * n + t] : 0.0;
    ref_pearson(Xi, n, p, Rref);
    R = run_gram(X, n, p, K, &o, 1, 5000);
    assert_matrix_near(R, Rref, p, 1e-10);
    /* impute mode saved mid-block and restored: the same bits */
    dp_error err_, *err = &err_;
    dp_backend *be = make_backend(2);
    dp_gram *g = NULL, *h = NULL;
    DP_ASSERT_OK(dp_gram_create(p, K, &o, be, &g, err), err);
    feed(g, X, n, 0, 1234, 100);
    dp_buf buf;
    dp_buf_init(&buf);
    DP_ASSERT_OK(dp_gram_serialize(g, &buf, err), err);
    DP_ASSERT_OK(dp_gram_deserialize(buf.data, buf.size, be, &h, NULL, err), err);
    DP_ASSERT_EQ_INT(dp_gram_mode(h), DP_GRAM_IMPUTE);
    feed(h, X, n, 1234, n, 4000);
    double *R2 = dp_mallocarray((size_t) (p * p), sizeof(double));
    DP_ASSERT_OK(dp_gram_finalize(h, R2, err), err);
    DP_ASSERT_MEMEQ(R, R2, (size_t) (p * p) * sizeof(double));
    dp_buf_reset(&buf);
    dp_gram_free(g), dp_gram_free(h);
    dp_backend_free(be);
    dp_free(R2);
    dp_free(R), dp_free(Rref), dp_free(Xi), dp_free(X);
}

/* Wide case: p > the 512-column chunk, with only some columns missing in a block and W dense
 * enough (30 %) for the gemm path: exercises the chunked scatter of the missing-value products
 * (several chunks, diagonal and off-diagonal chunk pairs of W^T W). */
DP_TEST(gram_wide_partial_missing_chunks_match_reference) {
    const int64_t n = 600, p = 700;
    dp_rng rng;
    dp_rng_seed(&rng, 77);
    double *X = dp_mallocarray((size_t) (n * p), sizeof(double));
    for (int64_t t = 0; t < n; t++) {
        double f = dp_rng_normal(&rng);
        for (int64_t j = 0; j < p; j++)
            X[j * n + t] = 0.6 * f + 0.8 * dp_rng_normal(&rng);
    }
    /* columns 100..699 (not 0..99) have missing values; rows 0..299 are complete */
    for (int64_t j = 100; j < p; j++)
        for (int64_t t = 300; t < n; t++)
            if (dp_rng_uniform(&rng) < 0.3)
                X[j * n + t] = NAN;
    double *K = dp_mallocarray((size_t) p, sizeof(double));
    col_means(X, n, p, K);
    double *Rref = dp_mallocarray((size_t) (p * p), sizeof(double));
    ref_pearson(X, n, p, Rref);
    dp_gram_options o = {DP_GRAM_PAIRWISE, 256, NULL};
    dp_gram_stats st;
    double *R = run_gram_stats(X, n, p, K, &o, 2, 333, &st);
    assert_matrix_near(R, Rref, p, 1e-10);
    DP_ASSERT_EQ_INT(st.blocks, 3);
    DP_ASSERT_EQ_INT(st.blocks_with_missing, 2);
    DP_ASSERT_EQ_INT(st.blocks_sparse, 0);
    dp_free(R), dp_free(Rref), dp_free(K), dp_free(X);
}

/* Bit-identical results for batch sizes 1,000 and 65,536 and 1 vs 4 backend threads, on data
 * with complete blocks, blocks where some columns are densely missing (gemm path), blocks with
 * scattered missing values (sparse path) and rows missing in every column. */
DP_TEST(gram_bits_independent_of_batch_size_and_threads) {
    const int64_t n = 70000, p = 48;
    dp_rng rng;
    dp_rng_seed(&rng, 3);
    double *X = dp_mallocarray((size_t) (n * p), sizeof(double));
    for (int64_t t = 0; t < n; t++) {
        double f = dp_rng_normal(&rng);
        for (int64_t j = 0; j < p; j++) {
            double u = 0.5 * f + dp_rng_normal(&rng);
            X[j * n + t] = 0.5 + 0.1 * u; /* spearman-like scale */
            if (t >= 20000 && t < 40000 && j < 10 && dp_rng_uniform(&rng) < 0.3)
                X[j * n + t] = NAN;
            if (t >= 40000 && dp_rng_uniform(&rng) < 0.03)
                X[j * n + t] = NAN;
            if (t % 997 == 5)
                X[j * n + t] = NAN;
        }
    }
    double K[48];
    for (int64_t j = 0; j < p; j++)
        K[j] = 0.5;
    dp_gram_options o = {DP_GRAM_PAIRWISE, 0, NULL};
    dp_gram_stats st;
    double *R1 = run_gram_stats(X, n, p, K, &o, 1, 1000, &st);
    DP_ASSERT_CMP_INT(st.blocks_sparse, >, 0);
    DP_ASSERT_CMP_INT(st.blocks_with_missing - st.blocks_sparse, >, 0);
    DP_ASSERT_EQ_INT(st.rows_all_missing, 71);
    double *R2 = run_gram(X, n, p, K, &o, 4, 65536);
    double *R3 = run_gram(X, n, p, K, &o, 3, 4097);
    DP_ASSERT_MEMEQ(R1, R2, (size_t) (p * p) * sizeof(double));
    DP_ASSERT_MEMEQ(R1, R3, (size_t) (p * p) * sizeof(double));
    /* and the value is right (the determinism is not of a wrong answer) */
    double *Rref = dp_mallocarray((size_t) (p * p), sizeof(double));
    ref_pearson(X, n, p, Rref);
    assert_matrix_near(R1, Rref, p, 1e-10);
    dp_free(R1), dp_free(R2), dp_free(R3), dp_free(Rref), dp_free(X);
}

/* Random splits of the rows, each part fed to its own accumulator (random batch sizes, parts
 * not aligned to blocks), merged in random order: equal to the single stream to rounding
 * (1e-13: the parts only change where block sums are added) and always equal NaN patterns. */
DP_TEST(gram_random_splits_merge_to_the_whole) {
    const int64_t n = 6000, p = 30;
    double *X = gen_data(n, p, 21);
    double K[30];
    col_means(X, n, p, K);
    dp_gram_options o = {DP_GRAM_PAIRWISE, 512, NULL};
    double *Rw = run_gram(X, n, p, K, &o, 2, 1000);
    dp_error err_, *err = &err_;
    dp_backend *be = make_backend(2);
    dp_rng rng;
    dp_rng_seed(&rng, 99);
    for (int rep = 0; rep < 5; rep++) {
        int64_t cut[5] = {0, 0, 0, 0, n};
        for (int c = 1; c < 4; c++)
            cut[c] = (int64_t) dp_rng_below(&rng, (uint64_t) n);
        for (int a = 1; a < 4; a++) /* sort the three cuts */
            for (int b = a + 1; b < 4; b++)
                if (cut[b] < cut[a]) {
                    int64_t tmp = cut[a];
                    cut[a] = cut[b];
                    cut[b] = tmp;
                }
        dp_gram *parts[4] = {NULL};
        for (int c = 0; c < 4; c++) {
            DP_ASSERT_OK(dp_gram_create(p, K, &o, be, &parts[c], err), err);
            feed(parts[c], X, n, cut[c], cut[c + 1], 1 + (int64_t) dp_rng_below(&rng, 900));
        }
        /* merge order 3 <- 1, 0 <- 2, 0 <- 3 */
        DP_ASSERT_OK(dp_gram_merge(parts[3], parts[1], err), err);
        DP_ASSERT_OK(dp_gram_merge(parts[0], parts[2], err), err);
        DP_ASSERT_OK(dp_gram_merge(parts[0], parts[3], err), err);
        double *R = dp_mallocarray((size_t) (p * p), sizeof(double));
        DP_ASSERT_OK(dp_gram_finalize(parts[0], R, err), err);
        DP_ASSERT_EQ_INT(dp_gram_rows(parts[0]), n);
        assert_matrix_near(R, Rw, p, 1e-13);
        /* pair counts are exact integers and match a direct count */
        double *N = dp_mallocarray((size_t) (p * p), sizeof(double));
        DP_ASSERT_OK(dp_gram_pair_counts(parts[0], N, err), err);
        for (int64_t i = 0; i < p; i += 3)
            for (int64_t j = 0; j < p; j += 2) {
                int64_t c = 0;
                for (int64_t t = 0; t < n; t++)
                    c += isfinite(X[i * n + t]) && isfinite(X[j * n + t]);
                DP_ASSERT_EQ_INT((int64_t) N[j * p + i], c);
            }
        dp_free(N);
        dp_free(R);
        for (int c = 0; c < 4; c++)
            dp_gram_free(parts[c]);
    }
    /* incompatible parts are refused */
    dp_gram *a = NULL, *b = NULL;
    dp_gram_options o2 = {DP_GRAM_PAIRWISE, 1024, NULL};
    DP_ASSERT_OK(dp_gram_create(p, K, &o, be, &a, err), err);
    DP_ASSERT_OK(dp_gram_create(p, K, &o2, be, &b, err), err);
    DP_ASSERT_STATUS(dp_gram_merge(a, b, err), DP_INVALID_ARG);
    dp_gram_free(a), dp_gram_free(b);
    dp_backend_free(be);
    dp_free(Rw), dp_free(X);
}

/* Serialise mid-scan (with a pending partial block and the missing-value sums), restore, go on:
 * identical bits to the uninterrupted run. Corrupt and truncated records are refused. */
DP_TEST(gram_serialize_round_trip_mid_scan_is_exact) {
    const int64_t n = 5000, p = 20;
    double *X = gen_data(n, p, 31);
    double K[20];
    col_means(X, n, p, K);
    dp_gram_options o = {DP_GRAM_PAIRWISE, 512, NULL};
    double *Rw = run_gram(X, n, p, K, &o, 2, 700);
    dp_error err_, *err = &err_;
    dp_backend *be = make_backend(2);
    dp_gram *g = NULL, *h = NULL;
    DP_ASSERT_OK(dp_gram_create(p, K, &o, be, &g, err), err);
    feed(g, X, n, 0, 2800, 700); /* 2800 = 5 blocks + 240 pending rows */
    dp_buf buf;
    dp_buf_init(&buf);
    DP_ASSERT_OK(dp_gram_serialize(g, &buf, err), err);
    size_t used = 0;
    DP_ASSERT_OK(dp_gram_deserialize(buf.data, buf.size, be, &h, &used, err), err);
    DP_ASSERT_EQ_INT(used, buf.size);
    DP_ASSERT_EQ_INT(dp_gram_rows(h), 2800);
    feed(h, X, n, 2800, n, 700);
    double *R = dp_mallocarray((size_t) (p * p), sizeof(double));
    DP_ASSERT_OK(dp_gram_finalize(h, R, err), err);
    DP_ASSERT_MEMEQ(R, Rw, (size_t) (p * p) * sizeof(double));
    /* every truncation and a flipped byte anywhere fail cleanly */
    for (size_t cut = 0; cut < buf.size; cut += 97) {
        dp_gram *bad = NULL;
        DP_ASSERT_TRUE(dp_gram_deserialize(buf.data, cut, be, &bad, NULL, err) != DP_OK);
        DP_ASSERT_TRUE(bad == NULL);
    }
    buf.data[buf.size / 2] ^= 0x40;
    dp_gram *bad = NULL;
    DP_ASSERT_TRUE(dp_gram_deserialize(buf.data, buf.size, be, &bad, NULL, err) != DP_OK);
    DP_ASSERT_TRUE(bad == NULL);
    /* rows going backwards are refused */
    DP_ASSERT_STATUS(dp_gram_update_rows(h, X, n, 10, 100, err), DP_INVALID_ARG);
    dp_buf_reset(&buf);
    dp_gram_free(g), dp_gram_free(h);
    dp_backend_free(be);
    dp_free(R), dp_free(Rw), dp_free(X);
}

/* dp_batch input, argument checks, and the memory estimate bounding what a run really holds. */
DP_TEST(gram_batch_input_arguments_and_estimate) {
    dp_error err_, *err = &err_;
    dp_backend *be = make_backend(1);
    const int64_t n = 3000, p = 12;
    double *X = gen_data(n, p, 41);
    double K[12];
    col_means(X, n, p, K);
    dp_gram *g = NULL;
    DP_ASSERT_OK(dp_gram_create(p, K, NULL, be, &g, err), err);
    dp_batch b;
    memset(&b, 0, sizeof b);
    DP_ASSERT_OK(dp_batch_init(&b, 1024, p, err), err);
    for (int64_t t = 0; t < n; t += 1024) {
        b.n_rows = DP_MIN(1024, n - t);
        b.row_offset = t;
        for (int64_t j = 0; j < p; j++)
            memcpy(dp_batch_col(&b, j), X + j * n + t, (size_t) b.n_rows * sizeof(double));
        DP_ASSERT_OK(dp_gram_update(g, &b, err), err);
    }
    double R[144], Rref[144];
    DP_ASSERT_OK(dp_gram_finalize(g, R, err), err);
    ref_pearson(X, n, p, Rref);
    assert_matrix_near(R, Rref, p, 1e-10);
    DP_ASSERT_TRUE(dp_gram_sizeof(g) <= dp_gram_estimate(p, DP_GRAM_PAIRWISE));
    DP_ASSERT_TRUE(dp_gram_estimate(p, DP_GRAM_IMPUTE) < dp_gram_estimate(p, DP_GRAM_PAIRWISE));
    DP_ASSERT_TRUE(dp_gram_estimate(0, DP_GRAM_PAIRWISE) == SIZE_MAX);
    b.n_cols = p - 1;
    DP_ASSERT_STATUS(dp_gram_update(g, &b, err), DP_INVALID_ARG);
    b.n_cols = p;
    dp_batch_reset(&b);
    dp_gram_free(g);
    g = NULL;
    K[3] = NAN;
    DP_ASSERT_STATUS(dp_gram_create(p, K, NULL, be, &g, err), DP_INVALID_ARG);
    DP_ASSERT_STATUS(dp_gram_create(0, K, NULL, be, &g, err), DP_INVALID_ARG);
    DP_ASSERT_TRUE(g == NULL);
    dp_backend_free(be);
    dp_free(X);
}

/* Out-of-memory at every allocation of a run with missing values: a status, never a crash or
 * a leak. */
DP_TEST(gram_allocation_failures_are_reported) {
    const int64_t n = 1200, p = 9;
    double *X = gen_data(n, p, 51);
    double K[9];
    col_means(X, n, p, K);
    int64_t live0 = dp_alloc_live_bytes();
    for (int64_t fail = 1; fail < 40; fail++) {
        dp_error err_, *err = &err_;
        dp_gram *g = NULL;
        double R[81];
        dp_backend *be = make_backend(1); /* its scratch is freed with it */
        dp_alloc_fail_after(fail);
        dp_status st = dp_gram_create(p, K, NULL, be, &g, err);
        if (st == DP_OK) {
            st = dp_gram_update_rows(g, X, n, n, 0, err);
            if (st == DP_OK)
                st = dp_gram_finalize(g, R, err);
        }
        dp_alloc_fail_after(0);
        DP_ASSERT_TRUE(st == DP_OK || st == DP_NOMEM);
        dp_gram_free(g);
        dp_backend_free(be);
        DP_ASSERT_EQ_INT(dp_alloc_live_bytes(), live0);
    }
    dp_free(X);
}

/* ---- Spearman on pre-ranked data vs the numpy oracle ----------------------------------- */

/* Mid-CDF (R - 1/2) / n_valid of each column over its own finite values (average ranks): the
 * transform Pass 2 applies with an exact marginal model. */
static void midcdf_columns(const double *X, int64_t n, int64_t p, double *U) {
    int64_t *idx = dp_mallocarray((size_t) n, sizeof(int64_t));
    for (int64_t j = 0; j < p; j++) {
        const double *c = X + j * n;
        int64_t m = 0;
        for (int64_t t = 0; t < n; t++) {
            U[j * n + t] = NAN;
            if (isfinite(c[t]))
                idx[m++] = t;
        }
        for (int64_t a = 1; a < m; a++) { /* insertion sort by value (small n in tests) */
            int64_t v = idx[a], b = a;
            while (b > 0 && c[idx[b - 1]] > c[v]) {
                idx[b] = idx[b - 1];
                b--;
            }
            idx[b] = v;
        }
        for (int64_t a = 0; a < m;) {
            int64_t e = a;
            while (e < m && c[idx[e]] == c[idx[a]])
                e++;
            double rank = 0.5 * (double) (a + 1 + e); /* average of 1-based ranks a+1..e */
            for (int64_t q = a; q < e; q++)
                U[j * n + idx[q]] = (rank - 0.5) / (double) m;
            a = e;
        }
    }
    dp_free(idx);
}

static bool have_numpy(void) {
    return system("/usr/bin/python3 -c 'import numpy, scipy' >/dev/null 2>&1") == 0;
}

/* Read a float64 C-order .npy of `count` values (header length from the v1/v2 preamble). */
static void read_npy(const char *path, double *out, size_t count) {
    FILE *f = fopen(path, "rb");
    DP_ASSERT_TRUE(f != NULL);
    unsigned char pre[12];
    DP_ASSERT_EQ_INT(fread(pre, 1, 10, f), 10);
    DP_ASSERT_TRUE(memcmp(pre, "\x93NUMPY", 6) == 0);
    size_t hlen;
    if (pre[6] == 1) {
        hlen = (size_t) pre[8] | ((size_t) pre[9] << 8);
    } else {
        DP_ASSERT_EQ_INT(fread(pre + 10, 1, 2, f), 2);
        hlen = (size_t) pre[8] | ((size_t) pre[9] << 8) | ((size_t) pre[10] << 16) |
               ((size_t) pre[11] << 24);
    }
    char hdr[4096];
    DP_ASSERT_TRUE(hlen < sizeof hdr);
    DP_ASSERT_EQ_INT(fread(hdr, 1, hlen, f), hlen);
    hdr[hlen] = 0;
    DP_ASSERT_CONTAINS(hdr, "<f8");
    DP_ASSERT_CONTAINS(hdr, "'fortran_order': False");
    DP_ASSERT_EQ_INT(fread(out, sizeof(double), count, f), count);
    fclose(f);
}

/* Spearman with missing values, marginal policy: each column ranked over its own values, then
 * pairwise-complete Pearson of the mid-CDF values (centre 0.5) = oracle spearman_exact(X,
 * 'marginal'). 1e-12: both sides are float64 two-pass-quality sums of values in (0, 1). */
DP_TEST(gram_spearman_marginal_matches_oracle) {
    if (!have_numpy())
        DP_SKIP("python3 with numpy/scipy not available");
    const int64_t n = 1500, p = 16;
    double *X = gen_data(n, p, 61);
    double *U = dp_mallocarray((size_t) (n * p), sizeof(double));
    midcdf_columns(X, n, p, U);
    double K[16];
    for (int64_t j = 0; j < p; j++)
        K[j] = 0.5;
    dp_gram_options o = {DP_GRAM_PAIRWISE, 0, NULL};
    double *R = run_gram(U, n, p, K, &o, 2, 1000);
    /* oracle input: raw row-major float64 */
    char in[1024], outp[1024], cmd[4096];
    snprintf(in, sizeof in, "%s/x.bin", dp_test_tmp_dir());
    snprintf(outp, sizeof outp, "%s/rho.npy", dp_test_tmp_dir());
    FILE *f = fopen(in, "wb");
    DP_ASSERT_TRUE(f != NULL);
    for (int64_t t = 0; t < n; t++)
        for (int64_t j = 0; j < p; j++)
            DP_ASSERT_EQ_INT(fwrite(&X[j * n + t], sizeof(double), 1, f), 1);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 %s spearman %s %s --raw %lld,%lld --nan-policy marginal",
             dp_test_path("tests/oracle/oracle.py"), in, outp, (long long) n, (long long) p);
    DP_ASSERT_EQ_INT(system(cmd), 0);
    double *Ro = dp_mallocarray((size_t) (p * p), sizeof(double));
    read_npy(outp, Ro, (size_t) (p * p));
    assert_matrix_near(R, Ro, p, 1e-12);
    dp_free(Ro), dp_free(R), dp_free(U), dp_free(X);
}

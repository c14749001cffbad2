/* Moments: counts, mean and variance against a two-pass long-double reference (including a
 * column whose mean is 1e9 times its standard deviation), bit-identical results for any batch
 * size, merges of random splits, and refusal of inconsistent input. */
#include "dp_test.h"
#include "accum/dp_moments.h"
#include "util/dp_rng.h"

#define MT_COLS 8

/* Column kinds: 0 N(0,1); 1 1e9 + N(0,1) (mean = 1e9 sd); 2 -3e12 + 1000 N(0,1); 3 lognormal
 * with NaN / +-Inf / NULL mixed in; 4 small counts 0..5; 5 ascending (i / 7); 6 an outlier
 * first value 1e6 then N(0,1); 7 1e-300 scale N. Missing markers: kind[i] 0 valid, 1 null,
 * 2 NaN, 3 +Inf, 4 -Inf (the values hold NaN / Inf as a producer would before normalising). */
static void mt_gen(double *x, uint8_t *kind, size_t n, int col, uint64_t seed) {
    dp_rng r;
    dp_rng_seed(&r, seed * 31 + (uint64_t) col);
    for (size_t i = 0; i < n; i++) {
        double z = dp_rng_normal(&r);
        kind[i] = 0;
        switch (col) {
        case 0:
            x[i] = z;
            break;
        case 1:
            x[i] = 1e9 + z;
            break;
        case 2:
            x[i] = -3e12 + 1000 * z;
            break;
        case 3: {
            double u = dp_rng_uniform(&r);
            x[i] = exp(z);
            if (u < 0.05) {
                kind[i] = 1;
                x[i] = NAN;
            } else if (u < 0.1) {
                kind[i] = 2;
                x[i] = NAN;
            } else if (u < 0.11) {
                kind[i] = 3;
                x[i] = INFINITY;
            } else if (u < 0.115) {
                kind[i] = 4;
                x[i] = -INFINITY;
            }
            break;
        }
        case 4:
            x[i] = (double) dp_rng_below(&r, 6);
            break;
        case 5:
            x[i] = (double) i / 7.0;
            break;
        case 6:
            x[i] = i == 0 ? 1e6 : z;
            break;
        default:
            x[i] = 1e-300 * z;
            break;
        }
    }
}

typedef struct mt_ref {
    int64_t n_null, n_nan, n_posinf, n_neginf, n_valid;
    double min, max, mean, var;
} mt_ref;

/* Independent reference: two passes in long double over the finite values. */
static mt_ref mt_reference(const double *x, const uint8_t *kind, size_t n) {
    mt_ref r = {0, 0, 0, 0, 0, INFINITY, -INFINITY, NAN, NAN};
    long double s = 0;
    for (size_t i = 0; i < n; i++) {
        r.n_null += kind[i] == 1;
        r.n_nan += kind[i] == 2;
        r.n_posinf += kind[i] == 3;
        r.n_neginf += kind[i] == 4;
        if (kind[i] == 0) {
            r.n_valid++;
            s += x[i];
            r.min = fmin(r.min, x[i]);
            r.max = fmax(r.max, x[i]);
        }
    }
    long double mean = s / r.n_valid, ss = 0;
    for (size_t i = 0; i < n; i++)
        if (kind[i] == 0)
            ss += (x[i] - mean) * (x[i] - mean);
    r.mean = (double) mean;
    r.var = (double) (ss / (r.n_valid - 1));
    return r;
}

/* Feed rows [lo, hi) (global rows row0 + lo ..) in batches of the given sizes (cycled). Inf is
 * turned into NaN first, as dp_batch producers do. */
static void mt_feed(dp_moments *m, const double *x, const uint8_t *kind, size_t lo, size_t hi,
                    int64_t row0, const size_t *sizes, size_t n_sizes) {
    double *buf = malloc((hi - lo + 1) * sizeof *buf);
    size_t k = 0;
    for (size_t i = lo; i < hi; k++) {
        size_t b = sizes[k % n_sizes];
        if (b > hi - i)
            b = hi - i;
        dp_batch_counts c = {0, 0, 0, 0};
        for (size_t j = 0; j < b; j++) {
            uint8_t t = kind[i + j];
            c.n_null += t == 1;
            c.n_nan += t == 2;
            c.n_posinf += t == 3;
            c.n_neginf += t == 4;
            buf[j] = t == 0 ? x[i + j] : NAN;
        }
        dp_error eb, *err = &eb;
        DP_ASSERT_OK(dp_moments_update(m, buf, (int64_t) b, row0 + (int64_t) i, &c, err), err);
        i += b;
    }
    free(buf);
}

static double mt_worst_mean, mt_worst_var;

static void mt_check(const dp_moments_result *r, const mt_ref *ref, int col) {
    DP_ASSERT_EQ_INT(r->n_null, ref->n_null);
    DP_ASSERT_EQ_INT(r->n_nan, ref->n_nan);
    DP_ASSERT_EQ_INT(r->n_posinf, ref->n_posinf);
    DP_ASSERT_EQ_INT(r->n_neginf, ref->n_neginf);
    DP_ASSERT_EQ_INT(r->n_valid, ref->n_valid);
    DP_ASSERT_BITS_EQ(r->min, ref->min);
    DP_ASSERT_BITS_EQ(r->max, ref->max);
    /* 1e-12 relative (the bar). The mean is judged relative to max(|mean|, sd): a mean
     * near 0 has no relative precision of its own, its natural scale is the spread. Expected
     * errors are ~1e-15 (shifted sums, Chan merges), so 1e-12 leaves room without hiding a
     * cancellation bug (a plain float64 mean gives ~1e-9 on column 1). */
    double sd = sqrt(ref->var);
    mt_worst_mean = fmax(mt_worst_mean, fabs(r->mean - ref->mean) / fmax(fabs(ref->mean), sd));
    mt_worst_var = fmax(mt_worst_var, fabs(r->var - ref->var) / ref->var);
    if (fabs(r->mean - ref->mean) > 1e-12 * fmax(fabs(ref->mean), sd))
        DP_FAILF("column %d: mean %.17g vs %.17g (rel %.3g)", col, r->mean, ref->mean,
                 fabs(r->mean - ref->mean) / fmax(fabs(ref->mean), sd));
    if (fabs(r->var - ref->var) > 1e-12 * ref->var)
        DP_FAILF("column %d: var %.17g vs %.17g (rel %.3g)", col, r->var, ref->var,
                 fabs(r->var - ref->var) / ref->var);
}

DP_TEST(moments_match_two_pass_long_double) {
    size_t n = 100003;
    double *x = malloc(n * sizeof *x);
    uint8_t *kind = malloc(n);
    size_t sizes[] = {1000, 4096, 17, 65536, 3};
    for (int col = 0; col < MT_COLS; col++) {
        for (int off = 0; off < 2; off++) {
            mt_gen(x, kind, n, col, 1);
            mt_ref ref = mt_reference(x, kind, n);
            dp_moments m;
            dp_moments_init(&m);
            mt_feed(&m, x, kind, 0, n, off ? 1234567 : 0, sizes, DP_ARRAY_LEN(sizes));
            dp_moments_result r;
            dp_moments_finalize(&m, &r);
            DP_ASSERT_EQ_INT(r.rows, (int64_t) n);
            mt_check(&r, &ref, col);
            DP_ASSERT_NEAR(r.std, sqrt(ref.var), 1e-12 * sqrt(ref.var));
            DP_ASSERT_REL(r.var_pop, ref.var * (double) (ref.n_valid - 1) / (double) ref.n_valid,
                          1e-12, 0);
        }
    }
    printf("largest relative error: mean %.3g, variance %.3g\n", mt_worst_mean, mt_worst_var);
    free(x);
    free(kind);
}

DP_TEST(moments_bitwise_same_for_any_batch_size) {
    /* Blocks are aligned to global rows and lanes to row mod 4: every batching gives the same
     * bits, including unaligned starting offsets. */
    size_t n = 50001;
    double *x = malloc(n * sizeof *x);
    uint8_t *kind = malloc(n);
    size_t plans[][3] = {{1, 1, 1}, {7, 7, 7}, {4096, 4096, 4096}, {100000, 1, 1}, {3, 4093, 9999}};
    for (int col = 0; col < MT_COLS; col++) {
        mt_gen(x, kind, n, col, 2);
        for (int off = 0; off < 2; off++) {
            dp_moments_result ref;
            for (size_t p = 0; p < DP_ARRAY_LEN(plans); p++) {
                dp_moments m;
                dp_moments_init(&m);
                mt_feed(&m, x, kind, 0, n, off ? 4095 : 0, plans[p], 3);
                dp_moments_result r;
                dp_moments_finalize(&m, &r);
                if (p == 0) {
                    ref = r;
                    continue;
                }
                DP_ASSERT_EQ_INT(r.n_valid, ref.n_valid);
                DP_ASSERT_BITS_EQ(r.mean, ref.mean);
                DP_ASSERT_BITS_EQ(r.m2, ref.m2);
                DP_ASSERT_BITS_EQ(r.min, ref.min);
                DP_ASSERT_BITS_EQ(r.max, ref.max);
            }
        }
    }
    free(x);
    free(kind);
}

DP_TEST(moments_merge_random_splits) {
    /* Split the rows into 1..50 contiguous ranges, accumulate each separately (with its own
     * batching), merge in a random order: counts and extremes exact, mean and variance within
     * 1e-12 of the reference. */
    size_t n = 80000;
    double *x = malloc(n * sizeof *x);
    uint8_t *kind = malloc(n);
    dp_rng r;
    dp_rng_seed(&r, 17);
    for (int trial = 0; trial < 30; trial++) {
        int col = trial % MT_COLS;
        mt_gen(x, kind, n, col, 3 + (uint64_t) trial);
        mt_ref ref = mt_reference(x, kind, n);
        size_t parts = 1 + (size_t) dp_rng_below(&r, 50), cut[51];
        cut[0] = 0;
        cut[parts] = n;
        for (size_t p = 1; p < parts; p++)
            cut[p] = (size_t) dp_rng_below(&r, n + 1);
        for (size_t a = 1; a < parts; a++)
            for (size_t b = a; b > 1 && cut[b - 1] > cut[b]; b--) {
                size_t t = cut[b];
                cut[b] = cut[b - 1];
                cut[b - 1] = t;
            }
        dp_moments m[50];
        size_t sizes[] = {1 + (size_t) dp_rng_below(&r, 9000)};
        for (size_t p = 0; p < parts; p++) {
            dp_moments_init(&m[p]);
            mt_feed(&m[p], x, kind, cut[p], cut[p + 1], 0, sizes, 1);
        }
        size_t order[50];
        for (size_t p = 0; p < parts; p++)
            order[p] = p;
        for (size_t p = parts; p > 1; p--) {
            size_t q = (size_t) dp_rng_below(&r, p), t = order[p - 1];
            order[p - 1] = order[q];
            order[q] = t;
        }
        for (size_t p = 1; p < parts; p++)
            dp_moments_merge(&m[order[0]], &m[order[p]]);
        dp_moments_result res;
        dp_moments_finalize(&m[order[0]], &res);
        DP_ASSERT_EQ_INT(res.rows, (int64_t) n);
        mt_check(&res, &ref, col);
    }
    printf("largest relative error: mean %.3g, variance %.3g\n", mt_worst_mean, mt_worst_var);
    free(x);
    free(kind);
}

DP_TEST(moments_edge_cases) {
    dp_error eb, *err = &eb;
    dp_moments m;
    dp_moments_result r;
    /* Nothing, then only missing values: counts, NaN statistics. */
    dp_moments_init(&m);
    dp_moments_finalize(&m, &r);
    DP_ASSERT_EQ_INT(r.rows, 0);
    DP_ASSERT_TRUE(isnan(r.mean) && isnan(r.var) && isnan(r.min));
    double nan3[3] = {NAN, NAN, NAN};
    dp_batch_counts c = {1, 2, 0, 0};
    DP_ASSERT_OK(dp_moments_update(&m, nan3, 3, 0, &c, err), err);
    dp_moments_finalize(&m, &r);
    DP_ASSERT_EQ_INT(r.rows, 3);
    DP_ASSERT_EQ_INT(r.n_valid, 0);
    DP_ASSERT_TRUE(isnan(r.mean) && isnan(r.std) && isnan(r.max));
    /* One value: mean exact, variance undefined (ddof = 1), population variance 0. */
    double one[1] = {2.5};
    dp_batch_counts c0 = {0, 0, 0, 0};
    DP_ASSERT_OK(dp_moments_update(&m, one, 1, 9000, &c0, err), err);
    dp_moments_finalize(&m, &r);
    DP_ASSERT_BITS_EQ(r.mean, 2.5);
    DP_ASSERT_TRUE(isnan(r.var));
    DP_ASSERT_BITS_EQ(r.var_pop, 0.0);
    /* A constant column over many blocks: mean exact, variance exactly 0. */
    dp_moments_init(&m);
    double *k = malloc(20000 * sizeof *k);
    for (int i = 0; i < 20000; i++)
        k[i] = 0.1;
    for (int b = 0; b < 10; b++)
        DP_ASSERT_OK(dp_moments_update(&m, k, 20000, 20000 * b, &c0, err), err);
    dp_moments_finalize(&m, &r);
    DP_ASSERT_BITS_EQ(r.mean, 0.1);
    DP_ASSERT_BITS_EQ(r.var, 0.0);
    free(k);
}

DP_TEST(moments_rejects_inconsistent_input) {
    dp_error eb, *err = &eb;
    dp_moments m;
    dp_moments_init(&m);
    double x[4] = {1, 2, NAN, 4};
    dp_batch_counts ok = {0, 1, 0, 0}, wrong = {0, 0, 0, 0}, neg = {-1, 2, 0, 0};
    DP_ASSERT_STATUS(dp_moments_update(&m, x, 4, 0, &wrong, err), DP_INVALID_ARG);
    DP_ASSERT_CONTAINS(err->msg, "1 are not finite");
    dp_moments_init(&m);
    DP_ASSERT_STATUS(dp_moments_update(&m, x, 4, 0, &neg, err), DP_INVALID_ARG);
    DP_ASSERT_OK(dp_moments_update(&m, x, 4, 100, &ok, err), err);
    /* Rows going backwards (overlap) are refused; a gap is fine. */
    DP_ASSERT_STATUS(dp_moments_update(&m, x, 4, 102, &ok, err), DP_INVALID_ARG);
    DP_ASSERT_CONTAINS(err->msg, "in order");
    DP_ASSERT_OK(dp_moments_update(&m, x, 4, 5000, &ok, err), err);
    DP_ASSERT_STATUS(dp_moments_update(&m, x, 4, -1, &ok, err), DP_INVALID_ARG);
}

DP_TEST(moments_shifted_sums_beat_naive_float64) {
    /* Guard on the reason for the shifted form: on 1e9 + N(0,1) the textbook one-pass float64
     * formula is visibly wrong while the accumulator is within 1e-12 (checks the test data is
     * really hard, so moments_match_two_pass_long_double means something). */
    size_t n = 100000;
    double *x = malloc(n * sizeof *x);
    uint8_t *kind = malloc(n);
    mt_gen(x, kind, n, 1, 4);
    mt_ref ref = mt_reference(x, kind, n);
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++) {
        s += x[i];
        ss += x[i] * x[i];
    }
    double naive = (ss - s * s / (double) n) / (double) (n - 1);
    DP_ASSERT_TRUE(fabs(naive - ref.var) > 1e-3 * ref.var);
    dp_moments m;
    dp_moments_init(&m);
    size_t sizes[] = {8192};
    mt_feed(&m, x, kind, 0, n, 0, sizes, 1);
    dp_moments_result r;
    dp_moments_finalize(&m, &r);
    mt_check(&r, &ref, 1);
    free(x);
    free(kind);
}

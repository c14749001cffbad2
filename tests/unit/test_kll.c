/* KLL sketch: the sort, exactness while small, the rank-error bound on many seeds (checked
 * against the sorted data), determinism, merging and serialisation. */
#include "dp_test.h"
#include "transform/dp_kll.h"
#include "transform/dp_marginal.h"
#include "util/dp_alloc.h"
#include "util/dp_rng.h"
#include "util/dp_serial.h"

#include <float.h>
#include <math.h>

static int kll_cmp_double(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/* Data generators: 0 normal, 1 lognormal, 2 ascending, 3 descending, 4 heavy ties (half zeros,
 * rest normal), 5 uniform integers 0..9999 (many ties, > 4096 distinct). */
static void kll_gen(double *x, size_t n, int kind, uint64_t seed) {
    dp_rng r;
    dp_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        double z = dp_rng_normal(&r);
        switch (kind) {
        case 0:
            x[i] = z;
            break;
        case 1:
            x[i] = exp(2 * z);
            break;
        case 2:
            x[i] = (double) i * 0.5;
            break;
        case 3:
            x[i] = (double) (n - i);
            break;
        case 4:
            x[i] = dp_rng_uniform(&r) < 0.5 ? 0.0 : z;
            break;
        default:
            x[i] = (double) dp_rng_below(&r, 10000);
            break;
        }
    }
}

/* Count of sorted values < v and <= v (binary searches). */
static void kll_ranks(const double *s, size_t n, double v, size_t *lt, size_t *le) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (s[m] < v)
            lo = m + 1;
        else
            hi = m;
    }
    *lt = lo;
    hi = n;
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (s[m] <= v)
            lo = m + 1;
        else
            hi = m;
    }
    *le = lo;
}

/* Largest normalised rank error of the fitted sketch model against sorted data s:
 *  - quantiles: for q on a grid of 1001 points, the true ranks [count(<x), count(<=x)] of the
 *    returned x must contain the target mid-rank (n-1) q + 1/2 up to the error;
 *  - CDF: F(v-) and F(v) at every distinct data value v against the exact counts. */
static double kll_max_error(const dp_marginal_fit *f, const double *s, size_t n) {
    double worst = 0;
    for (int i = 0; i <= 1000; i++) {
        double q = i / 1000.0;
        double x = dp_marginal_fit_quantile(f, q);
        size_t lt, le;
        kll_ranks(s, n, x, &lt, &le);
        double t = (double) (n - 1) * q + 0.5;
        double d = t < (double) lt ? (double) lt - t : (t > (double) le ? t - (double) le : 0);
        worst = fmax(worst, d / (double) n);
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[j] == s[i])
            j++;
        double elt = fabs(dp_marginal_fit_cdf_lt(f, s[i]) - (double) i / (double) n);
        double ele = fabs(dp_marginal_fit_cdf_le(f, s[i]) - (double) j / (double) n);
        worst = fmax(worst, fmax(elt, ele));
        i = j;
    }
    return worst;
}

static double kll_sketch_error(const double *x, size_t n, int32_t k, uint64_t seed, size_t chunk) {
    dp_marginal m;
    dp_marginal_fit f;
    dp_error eb, *err = &eb;
    DP_ASSERT_OK(dp_marginal_init(&m, 0, k, seed, err), err);
    for (size_t i = 0; i < n; i += chunk)
        DP_ASSERT_OK(dp_marginal_update(&m, x + i, n - i < chunk ? n - i : chunk, err), err);
    DP_ASSERT_OK(dp_marginal_fit_build(&m, &f, err), err);
    DP_ASSERT_EQ_INT(f.kind, DP_MARGINAL_SKETCH);
    DP_ASSERT_EQ_INT(f.n, (int64_t) n);
    double *s = malloc(n * sizeof *s);
    memcpy(s, x, n * sizeof *s);
    qsort(s, n, sizeof *s, kll_cmp_double);
    DP_ASSERT_BITS_EQ(f.min, s[0]);
    DP_ASSERT_BITS_EQ(f.max, s[n - 1]);
    double e = kll_max_error(&f, s, n);
    free(s);
    dp_marginal_fit_reset(&f);
    dp_marginal_reset(&m);
    return e;
}

DP_TEST(kll_sort_matches_qsort) {
    dp_rng r;
    dp_rng_seed(&r, 5);
    /* 64..1024 take the radix sort, the others the comparison sort. */
    size_t sizes[] = {0, 1, 2, 3, 12, 13, 63, 64, 100, 511, 512, 1000, 1024, 1025, 5000};
    for (size_t si = 0; si < DP_ARRAY_LEN(sizes); si++) {
        size_t n = sizes[si];
        for (int pattern = 0; pattern < 10; pattern++) {
            double *a = malloc((n ? n : 1) * sizeof *a), *b = malloc((n ? n : 1) * sizeof *b);
            for (size_t i = 0; i < n; i++) {
                switch (pattern) {
                case 0:
                    a[i] = dp_rng_normal(&r);
                    break;
                case 1:
                    a[i] = (double) i;
                    break;
                case 2:
                    a[i] = (double) (n - i);
                    break;
                case 3:
                    a[i] = 7.0;
                    break;
                case 4:
                    a[i] = (double) dp_rng_below(&r, 3);
                    break;
                case 5:
                    a[i] = (double) (i < n / 2 ? i : n - i);
                    break; /* organ pipe */
                case 6:
                    a[i] = (i % 2) ? -1e300 : 1e-300 * (double) i;
                    break;
                case 8: /* one long run of equal high halves (the radix sort's second stage) */
                    a[i] = 1.0 + (double) dp_rng_below(&r, 1u << 20) * 0x1p-50;
                    break;
                case 9: /* runs of ~n/13 equal high halves, with exact ties, both signs */
                    a[i] = ((double) (i % 13) - 6.0) + 1e-12 * (double) dp_rng_below(&r, 100);
                    break;
                default: /* both signs, every exponent, subnormals and the extremes */
                    a[i] = ldexp(dp_rng_normal(&r), (int) dp_rng_below(&r, 2150) - 1075);
                    if (i % 97 == 0)
                        a[i] = (i % 2) ? -DBL_MAX : DBL_MAX;
                    break;
                }
            }
            memcpy(b, a, n * sizeof *a);
            dp__sort_doubles(a, n);
            qsort(b, n, sizeof *b, kll_cmp_double);
            for (size_t i = 0; i < n; i++)
                if (a[i] != b[i])
                    DP_FAILF("n %zu pattern %d: position %zu: %g vs %g", n, pattern, i, a[i], b[i]);
            free(a);
            free(b);
        }
    }
}

DP_TEST(kll_exact_while_small) {
    /* Below the first compaction (a sketch of one level holds k items) every value is an item of
     * weight 1: the sketch is exact. */
    dp_kll *s = NULL;
    dp_error eb, *err = &eb;
    DP_ASSERT_OK(dp_kll_create(&s, 200, 1, err), err);
    double x[150];
    for (int i = 0; i < 150; i++)
        x[i] = (double) ((i * 37) % 150);
    DP_ASSERT_OK(dp_kll_update(s, x, 150, err), err);
    DP_ASSERT_EQ_INT(dp_kll_n(s), 150);
    DP_ASSERT_EQ_INT(dp_kll_retained(s), 150);
    double v[150];
    int64_t w[150];
    dp_kll_items(s, v, w);
    for (int i = 0; i < 150; i++) {
        DP_ASSERT_BITS_EQ(v[i], (double) i);
        DP_ASSERT_EQ_INT(w[i], 1);
    }
    DP_ASSERT_BITS_EQ(dp_kll_min(s), 0.0);
    DP_ASSERT_BITS_EQ(dp_kll_max(s), 149.0);
    dp_kll_free(s);
}

DP_TEST(kll_weights_conserved_and_nonfinite_skipped) {
    /* Compaction moves weight exactly: the items' weights always sum to n, and NaN / Inf are
     * not counted; -0.0 is stored as +0.0. */
    dp_kll *s = NULL;
    dp_error eb, *err = &eb;
    DP_ASSERT_OK(dp_kll_create(&s, 16, 3, err), err);
    dp_rng r;
    dp_rng_seed(&r, 9);
    int64_t n = 0;
    for (int b = 0; b < 200; b++) {
        double x[97];
        for (int i = 0; i < 97; i++) {
            double u = dp_rng_uniform(&r);
            x[i] = u < 0.05 ? NAN : u < 0.07 ? INFINITY : u < 0.09 ? -INFINITY : u < 0.1 ? -0.0 : u;
            n += fabs(x[i]) <= 1.0;
        }
        DP_ASSERT_OK(dp_kll_update(s, x, 97, err), err);
        size_t m = dp_kll_retained(s);
        double *v = malloc(m * sizeof *v);
        int64_t *w = malloc(m * sizeof *w), sum = 0;
        dp_kll_items(s, v, w);
        for (size_t i = 0; i < m; i++) {
            sum += w[i];
            DP_ASSERT_TRUE(!signbit(v[i]));
            DP_ASSERT_TRUE(i == 0 || v[i - 1] <= v[i]);
        }
        DP_ASSERT_EQ_INT(sum, n);
        DP_ASSERT_EQ_INT(dp_kll_n(s), n);
        free(v);
        free(w);
    }
    DP_ASSERT_BITS_EQ(dp_kll_min(s), 0.0);
    dp_kll_free(s);
}

DP_TEST(kll_rank_error_within_bound_many_seeds) {
    /* The stated bound (dp_kll.h): normalised rank error <= 0.5 % with high probability at the
     * default k. Checked here over the whole CDF and a 1001-point quantile grid, for 30 streams
     * (6 distributions x 5 seeds, n = 2e5) and 2 streams of n = 1e6. Deterministic (fixed
     * seeds), so not flaky; the measured maxima are ~0.3 %, so a regression that doubles the
     * error fails. */
    size_t n = 200000;
    double *x = malloc(1000000 * sizeof *x);
    double worst = 0;
    for (int kind = 0; kind < 6; kind++) {
        for (uint64_t seed = 0; seed < 5; seed++) {
            kll_gen(x, n, kind, 100 * (uint64_t) kind + seed);
            double e = kll_sketch_error(x, n, DP_KLL_K_DEFAULT, seed, 65536);
            if (e > 0.005)
                DP_FAILF("distribution %d seed %llu: rank error %.4f %% > 0.5 %%", kind,
                         (unsigned long long) seed, 100 * e);
            worst = fmax(worst, e);
        }
    }
    for (uint64_t seed = 0; seed < 2; seed++) {
        kll_gen(x, 1000000, (int) seed, 7000 + seed);
        double e = kll_sketch_error(x, 1000000, DP_KLL_K_DEFAULT, seed, 100000);
        if (e > 0.005)
            DP_FAILF("n = 1e6 seed %llu: rank error %.4f %% > 0.5 %%", (unsigned long long) seed,
                     100 * e);
        worst = fmax(worst, e);
    }
    printf("largest normalised rank error: %.4f %%\n", 100 * worst);
    free(x);
}

DP_TEST(kll_error_shrinks_with_k) {
    /* The error scales like 1/k: a small sketch must be visibly worse than a large one (guards
     * against a sketch that accidentally keeps everything or ignores k). */
    size_t n = 100000;
    double *x = malloc(n * sizeof *x);
    double e_small = 0, e_large = 0;
    for (uint64_t seed = 0; seed < 4; seed++) {
        kll_gen(x, n, 0, 55 + seed);
        e_small = fmax(e_small, kll_sketch_error(x, n, 32, seed, n));
        e_large = fmax(e_large, kll_sketch_error(x, n, 1024, seed, n));
    }
    DP_ASSERT_TRUE(e_small > 0.01);
    DP_ASSERT_TRUE(e_large < 0.003);
    DP_ASSERT_TRUE(e_small > 5 * e_large);
    free(x);
}

static void kll_bytes(const dp_kll *s, dp_buf *b) {
    dp_error eb, *err = &eb;
    dp_buf_init(b);
    DP_ASSERT_OK(dp_kll_serialize(s, b, err), err);
}

DP_TEST(kll_deterministic_for_any_chunking) {
    /* Same seed and stream, different update chunks: bit-identical sketches. */
    size_t n = 300000;
    double *x = malloc(n * sizeof *x);
    kll_gen(x, n, 1, 77);
    size_t chunks[] = {1, 7, 1000, 65536, 300000};
    dp_buf ref;
    dp_buf_init(&ref);
    for (size_t c = 0; c < DP_ARRAY_LEN(chunks); c++) {
        dp_kll *s = NULL;
        dp_error eb, *err = &eb;
        DP_ASSERT_OK(dp_kll_create(&s, 200, 42, err), err);
        for (size_t i = 0; i < n; i += chunks[c])
            DP_ASSERT_OK(dp_kll_update(s, x + i, n - i < chunks[c] ? n - i : chunks[c], err), err);
        dp_buf b;
        kll_bytes(s, &b);
        if (c == 0) {
            ref = b;
        } else {
            DP_ASSERT_EQ_INT(b.size, ref.size);
            DP_ASSERT_MEMEQ(b.data, ref.data, b.size);
            dp_buf_reset(&b);
        }
        dp_kll_free(s);
    }
    dp_buf_reset(&ref);
    free(x);
}

DP_TEST(kll_merge_random_splits_within_bound) {
    /* Split a stream into 1..50 contiguous parts, sketch each, merge in a random order: the
     * result stays within the rank-error bound; the same merge order twice gives the same
     * bytes. */
    size_t n = 200000;
    double *x = malloc(n * sizeof *x), *s = malloc(n * sizeof *s);
    dp_rng r;
    dp_rng_seed(&r, 123);
    for (int trial = 0; trial < 12; trial++) {
        kll_gen(x, n, trial % 6, 900 + (uint64_t) trial);
        memcpy(s, x, n * sizeof *s);
        qsort(s, n, sizeof *s, kll_cmp_double);
        size_t parts = 1 + (size_t) dp_rng_below(&r, 50);
        size_t cut[52];
        cut[0] = 0;
        for (size_t p = 1; p < parts; p++)
            cut[p] = (size_t) dp_rng_below(&r, n + 1);
        cut[parts] = n;
        /* Sort the cut points. */
        for (size_t a = 1; a <= parts; a++)
            for (size_t b = a; b > 0 && cut[b - 1] > cut[b]; b--) {
                size_t t = cut[b];
                cut[b] = cut[b - 1];
                cut[b - 1] = t;
            }
        size_t order[50];
        for (size_t p = 0; p < parts; p++)
            order[p] = p;
        for (size_t p = parts; p > 1; p--) {
            size_t q = (size_t) dp_rng_below(&r, p), t = order[p - 1];
            order[p - 1] = order[q];
            order[q] = t;
        }
        dp_buf bytes[2];
        for (int rep = 0; rep < 2; rep++) {
            dp_marginal m[50];
            dp_error eb, *err = &eb;
            for (size_t p = 0; p < parts; p++) {
                DP_ASSERT_OK(dp_marginal_init(&m[p], 0, DP_KLL_K_DEFAULT, 5, err), err);
                DP_ASSERT_OK(dp_marginal_update(&m[p], x + cut[p], cut[p + 1] - cut[p], err), err);
            }
            for (size_t p = 1; p < parts; p++)
                DP_ASSERT_OK(dp_marginal_merge(&m[order[0]], &m[order[p]], err), err);
            dp_marginal_fit f;
            DP_ASSERT_OK(dp_marginal_fit_build(&m[order[0]], &f, err), err);
            DP_ASSERT_EQ_INT(f.n, (int64_t) n);
            double e = kll_max_error(&f, s, n);
            if (e > 0.005)
                DP_FAILF("trial %d (%zu parts): rank error %.4f %% > 0.5 %%", trial, parts,
                         100 * e);
            dp_buf_init(&bytes[rep]);
            DP_ASSERT_OK(dp_marginal_serialize(&m[order[0]], &bytes[rep], err), err);
            dp_marginal_fit_reset(&f);
            for (size_t p = 0; p < parts; p++)
                dp_marginal_reset(&m[p]);
        }
        DP_ASSERT_EQ_INT(bytes[0].size, bytes[1].size);
        DP_ASSERT_MEMEQ(bytes[0].data, bytes[1].data, bytes[0].size);
        dp_buf_reset(&bytes[0]);
        dp_buf_reset(&bytes[1]);
    }
    free(x);
    free(s);
}

DP_TEST(kll_weighted_update_is_exact) {
    /* Weighted inserts split weights into binary digits: the items reproduce the weighted
     * counts exactly (no compaction has happened when the result is small). */
    double v[5] = {-2, 0, 1.5, 3, 1e6};
    int64_t w[5] = {1, 6, 13, 2, 1};
    dp_kll *s = NULL;
    dp_error eb, *err = &eb;
    DP_ASSERT_OK(dp_kll_create(&s, 100, 1, err), err);
    DP_ASSERT_OK(dp_kll_update_weighted(s, v, w, 5, err), err);
    DP_ASSERT_EQ_INT(dp_kll_n(s), 23);
    size_t m = dp_kll_retained(s);
    double iv[32];
    int64_t iw[32];
    DP_ASSERT_TRUE(m <= 32);
    dp_kll_items(s, iv, iw);
    for (int e = 0; e < 5; e++) {
        int64_t sum = 0;
        for (size_t i = 0; i < m; i++)
            if (iv[i] == v[e])
                sum += iw[i];
        DP_ASSERT_EQ_INT(sum, w[e]);
    }
    /* Unsorted or non-positive input is refused. */
    double bad[2] = {2, 1};
    int64_t bw[2] = {1, 1};
    DP_ASSERT_STATUS(dp_kll_update_weighted(s, bad, bw, 2, err), DP_INVALID_ARG);
    bw[0] = 0;
    DP_ASSERT_STATUS(dp_kll_update_weighted(s, v, bw, 2, err), DP_INVALID_ARG);
    dp_kll_free(s);
}

DP_TEST(kll_serial_roundtrip_and_corruption) {
    dp_kll *s = NULL, *t = NULL;
    dp_error eb, *err = &eb;
    size_t n = 50000;
    double *x = malloc(n * sizeof *x);
    kll_gen(x, n, 0, 3);
    DP_ASSERT_OK(dp_kll_create(&s, 64, 11, err), err);
    DP_ASSERT_OK(dp_kll_update(s, x, n, err), err);
    dp_buf a, b;
    kll_bytes(s, &a);
    DP_ASSERT_OK(dp_kll_deserialize(a.data, a.size, &t, err), err);
    kll_bytes(t, &b);
    DP_ASSERT_EQ_INT(a.size, b.size);
    DP_ASSERT_MEMEQ(a.data, b.data, a.size);
    /* The copy keeps working identically. */
    DP_ASSERT_OK(dp_kll_update(s, x, 1000, err), err);
    DP_ASSERT_OK(dp_kll_update(t, x, 1000, err), err);
    dp_buf_reset(&a);
    dp_buf_reset(&b);
    kll_bytes(s, &a);
    kll_bytes(t, &b);
    DP_ASSERT_MEMEQ(a.data, b.data, a.size);
    dp_kll_free(t);
    t = NULL;
    /* Any flipped byte: refused (CRC, or the header checks); truncation: TRUNCATED. */
    for (size_t i = 0; i < a.size; i += 1 + a.size / 97) {
        a.data[i] ^= 0x20;
        dp_status st = dp_kll_deserialize(a.data, a.size, &t, err);
        DP_ASSERT_TRUE(st == DP_CORRUPT || st == DP_UNSUPPORTED || st == DP_TRUNCATED);
        DP_ASSERT_TRUE(t == NULL);
        a.data[i] ^= 0x20;
    }
    DP_ASSERT_STATUS(dp_kll_deserialize(a.data, a.size - 1, &t, err), DP_TRUNCATED);
    DP_ASSERT_STATUS(dp_kll_deserialize(a.data, 10, &t, err), DP_TRUNCATED);
    dp_buf_reset(&a);
    dp_buf_reset(&b);
    dp_kll_free(s);
    free(x);
}

DP_TEST(kll_rejects_inconsistent_records) {
    /* Records with a valid checksum but impossible contents: CORRUPT, never a crash. */
    dp_error eb, *err = &eb;
    dp_kll *t = NULL;
    struct {
        uint32_t k, levels;
        int64_t n;
        double mn, mx, item0;
        uint64_t size0;
        dp_status want;
    } cases[] = {
        {100, 1, 2, 0, 1, 0.5, 2, DP_OK},               /* valid: two items 0.5 0.5 */
        {100, 1, 3, 0, 1, 0.5, 2, DP_CORRUPT},          /* weights 2 != n 3 */
        {4, 1, 2, 0, 1, 0.5, 2, DP_CORRUPT},            /* k below the minimum */
        {100, 0, 2, 0, 1, 0.5, 2, DP_CORRUPT},          /* no level */
        {100, 1, 2, 0, 1, 5.0, 2, DP_CORRUPT},          /* item above max */
        {100, 1, 2, 1, 0, 0.5, 2, DP_CORRUPT},          /* min > max */
        {100, 1, 2, 0, 1, 0.5, 1u << 30, DP_TRUNCATED}, /* size beyond the bytes */
    };
    for (size_t c = 0; c < DP_ARRAY_LEN(cases); c++) {
        dp_buf b;
        dp_buf_init(&b);
        dp_serial_writer w;
        dp_sw_begin(&w, &b, 0x314c4c4bu, 1);
        dp_sw_u32(&w, cases[c].k);
        dp_sw_u32(&w, cases[c].levels);
        dp_sw_u64(&w, 1);
        dp_sw_u64(&w, 0);
        dp_sw_i64(&w, cases[c].n);
        dp_sw_f64(&w, cases[c].mn);
        dp_sw_f64(&w, cases[c].mx);
        for (uint32_t h = 0; h < cases[c].levels; h++)
            dp_sw_u8(&w, 0);
        if (cases[c].levels > 0) {
            dp_sw_u64(&w, cases[c].size0);
            dp_sw_f64(&w, cases[c].item0);
            dp_sw_f64(&w, cases[c].item0);
        }
        DP_ASSERT_OK(dp_sw_end(&w, err), err);
        dp_status st = dp_kll_deserialize(b.data, b.size, &t, err);
        if (st != cases[c].want)
            DP_FAILF("case %zu: %s, expected %s (%s)", c, dp_status_name(st),
                     dp_status_name(cases[c].want), err->msg);
        dp_kll_free(t);
        t = NULL;
        dp_buf_reset(&b);
    }
    /* A newer version is refused with UNSUPPORTED. */
    dp_buf b;
    dp_buf_init(&b);
    dp_serial_writer w;
    dp_sw_begin(&w, &b, 0x314c4c4bu, 2);
    DP_ASSERT_OK(dp_sw_end(&w, err), err);
    DP_ASSERT_STATUS(dp_kll_deserialize(b.data, b.size, &t, err), DP_UNSUPPORTED);
    DP_ASSERT_CONTAINS(err->msg, "version 2");
    dp_buf_reset(&b);
}

DP_TEST(kll_allocation_failures_are_clean) {
    /* Every allocation of a run that compacts, merges and serialises fails once in turn: the
     * call reports NOMEM and nothing leaks (the sanitizer build checks leaks). */
    size_t n = 5000;
    double *x = malloc(n * sizeof *x);
    kll_gen(x, n, 0, 8);
    for (int64_t fail = 1; fail < 200; fail++) {
        dp_kll *a = NULL, *b = NULL;
        dp_buf buf;
        dp_buf_init(&buf);
        dp_alloc_fail_after(fail);
        dp_status st = dp_kll_create(&a, 16, 1, NULL);
        if (st == DP_OK)
            st = dp_kll_update(a, x, n, NULL);
        if (st == DP_OK)
            st = dp_kll_create(&b, 16, 2, NULL);
        if (st == DP_OK)
            st = dp_kll_update(b, x, n / 2, NULL);
        if (st == DP_OK)
            st = dp_kll_merge(a, b, NULL);
        if (st == DP_OK)
            st = dp_kll_serialize(a, &buf, NULL);
        dp_alloc_fail_after(0);
        DP_ASSERT_TRUE(st == DP_OK || st == DP_NOMEM);
        dp_kll_free(a);
        dp_kll_free(b);
        dp_buf_reset(&buf);
    }
    free(x);
}

DP_TEST(kll_clone_continues_identically) {
    /* A deep copy of a many-level sketch behaves exactly like the original afterwards (the
     * level capacities are derived state and must be rebuilt by the copy). */
    size_t n = 200000;
    double *x = malloc(n * sizeof *x);
    kll_gen(x, n, 0, 12);
    dp_kll *s = NULL, *c = NULL;
    dp_error eb, *err = &eb;
    DP_ASSERT_OK(dp_kll_create(&s, 32, 4, err), err);
    DP_ASSERT_OK(dp_kll_update(s, x, n / 2, err), err);
    DP_ASSERT_OK(dp_kll_clone(s, &c, err), err);
    DP_ASSERT_OK(dp_kll_update(s, x + n / 2, n / 2, err), err);
    DP_ASSERT_OK(dp_kll_update(c, x + n / 2, n / 2, err), err);
    dp_buf a, b;
    kll_bytes(s, &a);
    kll_bytes(c, &b);
    DP_ASSERT_EQ_INT(a.size, b.size);
    DP_ASSERT_MEMEQ(a.data, b.data, a.size);
    DP_ASSERT_CMP_INT(dp_kll_retained(c), <, 2000);
    dp_buf_reset(&a);
    dp_buf_reset(&b);
    dp_kll_free(s);
    dp_kll_free(c);
    free(x);
}

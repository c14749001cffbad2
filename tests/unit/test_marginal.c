/* Marginal models: exact tables (quantiles = numpy type 7 on the sorted data, exact mid-ranks
 * of ties), the table -> sketch switch, the sketch CDF's shape, merges and serialisation. */
#include "dp_test.h"
#include "transform/dp_marginal.h"
#include "util/dp_rng.h"

#include <unistd.h>

static int mg_cmp(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/* Independent reference: numpy.quantile(method="linear") on the sorted array, written from
 * numpy's definition (virtual index (n-1) q, lerp with the g >= 0.5 branch). */
static double mg_type7(const double *s, size_t n, double q) {
    double h = (double) (n - 1) * q;
    double fl = floor(h);
    size_t i = (size_t) fl;
    if (i >= n - 1)
        return s[n - 1];
    double g = h - fl, a = s[i], b = s[i + 1], d = b - a;
    return g >= 0.5 ? b - d * (1.0 - g) : a + d * g;
}

static void mg_build(dp_marginal *m, const double *x, size_t n, int32_t ed, size_t chunk) {
    dp_error eb, *err = &eb;
    DP_ASSERT_OK(dp_marginal_init(m, ed, DP_KLL_K_DEFAULT, 99, err), err);
    for (size_t i = 0; i < n; i += chunk)
        DP_ASSERT_OK(dp_marginal_update(m, x + i, n - i < chunk ? n - i : chunk, err), err);
}

static void mg_bytes(const dp_marginal *m, dp_buf *b) {
    dp_error eb, *err = &eb;
    dp_buf_init(b);
    DP_ASSERT_OK(dp_marginal_serialize(m, b, err), err);
}

/* Low-cardinality data with NaN / Inf mixed in; the finite values are copied to fin. */
static size_t mg_lowcard(double *x, double *fin, size_t n, int levels, uint64_t seed) {
    dp_rng r;
    dp_rng_seed(&r, seed);
    size_t nf = 0;
    for (size_t i = 0; i < n; i++) {
        double u = dp_rng_uniform(&r);
        if (u < 0.03)
            x[i] = NAN;
        else if (u < 0.04)
            x[i] = u < 0.035 ? INFINITY : -INFINITY;
        else
            x[i] = fin[nf++] = 0.25 * (double) dp_rng_below(&r, (uint64_t) levels) - 3.0;
    }
    return nf;
}

DP_TEST(marginal_table_quantiles_equal_type7) {
    size_t n = 20011;
    double *x = malloc(n * sizeof *x), *s = malloc(n * sizeof *s);
    for (int levels = 1; levels <= 2000; levels *= 7) {
        size_t nf = mg_lowcard(x, s, n, levels, (uint64_t) levels);
        qsort(s, nf, sizeof *s, mg_cmp);
        dp_marginal m;
        dp_marginal_fit f;
        dp_error eb, *err = &eb;
        mg_build(&m, x, n, 4096, 1000);
        DP_ASSERT_OK(dp_marginal_fit_build(&m, &f, err), err);
        DP_ASSERT_EQ_INT(f.kind, DP_MARGINAL_TABLE);
        DP_ASSERT_EQ_INT(f.n, (int64_t) nf);
        DP_ASSERT_TRUE(f.distinct_exact);
        size_t distinct = 1;
        for (size_t i = 1; i < nf; i++)
            distinct += s[i] != s[i - 1];
        DP_ASSERT_EQ_INT(f.distinct, (int64_t) distinct);
        for (int i = 0; i <= 2000; i++) {
            double q = i / 2000.0;
            DP_ASSERT_BITS_EQ(dp_marginal_fit_quantile(&f, q), mg_type7(s, nf, q));
        }
        double qs[] = {0.025, 0.975, 0.25, 0.75, 1e-9, 1 - 1e-9};
        for (size_t i = 0; i < DP_ARRAY_LEN(qs); i++)
            DP_ASSERT_BITS_EQ(dp_marginal_fit_quantile(&f, qs[i]), mg_type7(s, nf, qs[i]));
        DP_ASSERT_TRUE(isnan(dp_marginal_fit_quantile(&f, -0.1)));
        DP_ASSERT_TRUE(isnan(dp_marginal_fit_quantile(&f, NAN)));
        DP_ASSERT_BITS_EQ(f.min, s[0]);
        DP_ASSERT_BITS_EQ(f.max, s[nf - 1]);
        dp_marginal_fit_reset(&f);
        dp_marginal_reset(&m);
    }
    free(x);
    free(s);
}

DP_TEST(marginal_table_quantiles_match_numpy) {
    /* Second opinion from numpy itself (skipped without it). */
    if (system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") != 0)
        DP_SKIP("/usr/bin/python3 with numpy is not available");
    size_t n = 1001;
    double x[1001], s[1001];
    size_t nf = mg_lowcard(x, s, n, 37, 4);
    char path[4200], cmd[9000];
    snprintf(path, sizeof path, "%s/data.txt", dp_test_tmp_dir());
    FILE *fp = fopen(path, "w");
    DP_ASSERT_TRUE(fp != NULL);
    for (size_t i = 0; i < nf; i++)
        fprintf(fp, "%.17g\n", s[i]);
    fclose(fp);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import numpy as np; x = np.loadtxt(\"%s\"); "
             "q = np.arange(0, 1001) / 1000.0; "
             "print(\"\\n\".join(repr(float(v)) for v in np.quantile(x, q)))'",
             path);
    FILE *pp = popen(cmd, "r");
    DP_ASSERT_TRUE(pp != NULL);
    dp_marginal m;
    dp_marginal_fit f;
    dp_error eb, *err = &eb;
    mg_build(&m, x, n, 4096, 100);
    DP_ASSERT_OK(dp_marginal_fit_build(&m, &f, err), err);
    int got = 0;
    double v;
    while (got <= 1000 && fscanf(pp, "%lf", &v) == 1) {
        DP_ASSERT_BITS_EQ(dp_marginal_fit_quantile(&f, got / 1000.0), v);
        got++;
    }
    DP_ASSERT_EQ_INT(pclose(pp), 0);
    DP_ASSERT_EQ_INT(got, 1001);
    dp_marginal_fit_reset(&f);
    dp_marginal_reset(&m);
}

DP_TEST(marginal_midrank_cdf_of_ties_exact) {
    /* u(v) = (F(v-) + F(v)) / 2 must equal (R - 1/2) / n with R the average rank of v among the
     * finite values (scipy rankdata 'average'), for every value present; F(v-) and F(v) the exact
     * fractions < v and <= v. Reference: naive counting over the data. */
    size_t n = 3000;
    double x[3000], s[3000];
    size_t nf = mg_lowcard(x, s, n, 23, 77);
    dp_marginal m;
    dp_marginal_fit f;
    dp_error eb, *err = &eb;
    mg_build(&m, x, n, 4096, 333);
    DP_ASSERT_OK(dp_marginal_fit_build(&m, &f, err), err);
    for (size_t i = 0; i < nf; i += 7) {
        double v = s[i];
        int64_t below = 0, equal = 0;
        for (size_t j = 0; j < nf; j++) {
            below += s[j] < v;
            equal += s[j] == v;
        }
        /* Average of the 1-based positions below+1 .. below+equal. */
        double avg_rank = (double) below + (double) (equal + 1) / 2.0;
        double want = (avg_rank - 0.5) / (double) nf;
        DP_ASSERT_BITS_EQ(dp_marginal_fit_midcdf(&f, v), want);
        DP_ASSERT_BITS_EQ(dp_marginal_fit_cdf_lt(&f, v), (double) below / (double) nf);
        DP_ASSERT_BITS_EQ(dp_marginal_fit_cdf_le(&f, v), (double) (below + equal) / (double) nf);
    }
    /* Between values the table CDF is flat; outside [min, max] it is 0 / 1. */
    DP_ASSERT_BITS_EQ(dp_marginal_fit_cdf_le(&f, -1e9), 0.0);
    DP_ASSERT_BITS_EQ(dp_marginal_fit_cdf_lt(&f, 1e9), 1.0);
    DP_ASSERT_BITS_EQ(dp_marginal_fit_cdf_le(&f, -2.9), dp_marginal_fit_cdf_le(&f, -3.0));
    DP_ASSERT_TRUE(isnan(dp_marginal_fit_midcdf(&f, NAN)));
    dp_marginal_fit_reset(&f);
    dp_marginal_reset(&m);
}

DP_TEST(marginal_negative_zero_and_nonfinite) {
    double x[] = {0.0, -0.0, NAN, INFINITY, -INFINITY, 1.0, -0.0};
    dp_marginal m;
    dp_marginal_fit f;
    dp_error eb, *err = &eb;
    mg_build(&m, x, DP_ARRAY_LEN(x), 4096, 1);
    DP_ASSERT_EQ_INT(m.n, 4);
    DP_ASSERT_OK(dp_marginal_fit_build(&m, &f, err), err);
    DP_ASSERT_EQ_INT(f.n_knots, 2);
    DP_ASSERT_EQ_INT(f.distinct, 2);
    DP_ASSERT_BITS_EQ(f.values[0], 0.0);
    DP_ASSERT_BITS_EQ(f.hi[0], 3.0);
    DP_ASSERT_BITS_EQ(dp_marginal_fit_cdf_le(&f, -0.0), 0.75);
    dp_marginal_fit_reset(&f);
    dp_marginal_reset(&m);
    /* No finite value: an empty model answering NaN. */
    double y[] = {NAN, INFINITY};
    mg_build(&m, y, 2, 4096, 2);
    DP_ASSERT_OK(dp_marginal_fit_build(&m, &f, err), err);
    DP_ASSERT_EQ_INT(f.kind, DP_MARGINAL_EMPTY);
    DP_ASSERT_EQ_INT(f.distinct, 0);
    DP_ASSERT_TRUE(isnan(dp_marginal_fit_quantile(&f, 0.5)));
    DP_ASSERT_TRUE(isnan(dp_marginal_fit_cdf_le(&f, 0.0)));
    dp_marginal_fit_reset(&f);
    dp_marginal_reset(&m);
}

DP_TEST(marginal_switches_to_sketch_past_limit) {
    /* exact_distinct = D: D distinct values stay a table, D + 1 become a sketch that still
     * counts every value, keeps the exact extremes and answers within the rank bound. */
    size_t n = 100000;
    double *x = malloc(n * sizeof *x), *s = malloc(n * sizeof *s);
    for (int extra = 0; extra <= 1; extra++) {
        int32_t d = 300;
        for (size_t i = 0; i < n; i++)
            x[i] = (double) ((i * 7919) % (size_t) (d + extra));
        dp_marginal m;
        dp_marginal_fit f;
        dp_error eb, *err = &eb;
        mg_build(&m, x, n, d, 4096);
        DP_ASSERT_EQ_INT(m.kind, extra ? DP_MARGINAL_SKETCH : DP_MARGINAL_TABLE);
        DP_ASSERT_OK(dp_marginal_fit_build(&m, &f, err), err);
        DP_ASSERT_EQ_INT(f.n, (int64_t) n);
        DP_ASSERT_EQ_INT(f.distinct, extra ? d + 1 : d);
        DP_ASSERT_TRUE(f.distinct_exact == !extra);
        DP_ASSERT_BITS_EQ(f.min, 0.0);
        DP_ASSERT_BITS_EQ(f.max, (double) (d - 1 + extra));
        memcpy(s, x, n * sizeof *s);
        qsort(s, n, sizeof *s, mg_cmp);
        for (int i = 0; i <= 100; i++) {
            double v = s[(size_t) i * (n - 1) / 100];
            size_t lt = 0, le = 0;
            for (size_t j = 0; j < n; j++) {
                lt += s[j] < v;
                le += s[j] <= v;
            }
            /* Table: exact. Sketch: within the 0.5 % bound (dp_kll.h). */
            double tol = extra ? 0.005 : 0.0;
            DP_ASSERT_NEAR(dp_marginal_fit_cdf_lt(&f, v), (double) lt / (double) n, tol);
            DP_ASSERT_NEAR(dp_marginal_fit_cdf_le(&f, v), (double) le / (double) n, tol);
        }
        dp_marginal_fit_reset(&f);
        dp_marginal_reset(&m);
    }
    free(x);
    free(s);
}

DP_TEST(marginal_sketch_cdf_shape) {
    /* Continuous data: the sketch CDF is monotone and continuous between knots, u(min) =
     * 1/(2n), u(max) = 1 - 1/(2n), 0 below min and 1 above max. A point mass (40 % zeros) keeps
     * its jump, so u(0) is the mid-rank of the zeros (within the rank bound). */
    size_t n = 200000;
    double *x = malloc(n * sizeof *x);
    dp_rng r;
    dp_rng_seed(&r, 31);
    size_t zeros = 0, neg = 0;
    for (size_t i = 0; i < n; i++) {
        x[i] = dp_rng_uniform(&r) < 0.4 ? 0.0 : dp_rng_normal(&r);
        zeros += x[i] == 0.0;
        neg += x[i] < 0.0;
    }
    dp_marginal m;
    dp_marginal_fit f;
    dp_error eb, *err = &eb;
    mg_build(&m, x, n, 4096, 50000);
    DP_ASSERT_EQ_INT(m.kind, DP_MARGINAL_SKETCH);
    DP_ASSERT_OK(dp_marginal_fit_build(&m, &f, err), err);
    double nn = (double) n;
    DP_ASSERT_BITS_EQ(dp_marginal_fit_midcdf(&f, f.min), 0.5 / nn);
    DP_ASSERT_BITS_EQ(dp_marginal_fit_midcdf(&f, f.max), (nn - 0.5) / nn);
    DP_ASSERT_BITS_EQ(dp_marginal_fit_cdf_le(&f, f.min - 1), 0.0);
    DP_ASSERT_BITS_EQ(dp_marginal_fit_cdf_lt(&f, f.max + 1), 1.0);
    DP_ASSERT_BITS_EQ(dp_marginal_fit_quantile(&f, 0.0), f.min);
    DP_ASSERT_BITS_EQ(dp_marginal_fit_quantile(&f, 1.0), f.max);
    /* Jump at 0 of about 40 %. */
    double jump = dp_marginal_fit_cdf_le(&f, 0.0) - dp_marginal_fit_cdf_lt(&f, 0.0);
    DP_ASSERT_NEAR(jump, (double) zeros / nn, 0.01);
    DP_ASSERT_NEAR(dp_marginal_fit_midcdf(&f, 0.0), ((double) neg + zeros / 2.0) / nn, 0.005);
    /* Monotone on a fine grid; continuous away from 0 (no step bigger than the grid's share of
     * mass plus the sketch's top-level item weight). */
    double prev = 0;
    for (int i = 0; i <= 20000; i++) {
        double v = f.min + (f.max - f.min) * i / 20000.0;
        double lt = dp_marginal_fit_cdf_lt(&f, v), le = dp_marginal_fit_cdf_le(&f, v);
        DP_ASSERT_TRUE(lt <= le);
        DP_ASSERT_TRUE(lt >= prev);
        if (fabs(v) > 0.01 && i > 0)
            DP_ASSERT_TRUE(le - prev < 0.01);
        prev = le;
    }
    /* Quantiles are monotone and the midcdf of a quantile returns near q. */
    double last = -INFINITY;
    for (int i = 0; i <= 1000; i++) {
        double q = i / 1000.0, v = dp_marginal_fit_quantile(&f, q);
        DP_ASSERT_TRUE(v >= last);
        last = v;
        if (v != 0.0)
            DP_ASSERT_NEAR(dp_marginal_fit_midcdf(&f, v), ((nn - 1) * q + 0.5) / nn, 1e-9);
    }
    dp_marginal_fit_reset(&f);
    dp_marginal_reset(&m);
    free(x);
}

DP_TEST(marginal_merge_tables_bit_identical) {
    /* Random contiguous splits into 1..50 parts merged in random orders: the same table (same
     * serialised bytes) as one pass over everything. */
    size_t n = 60000;
    double *x = malloc(n * sizeof *x), *s = malloc(n * sizeof *s);
    mg_lowcard(x, s, n, 500, 5);
    dp_marginal whole;
    mg_build(&whole, x, n, 4096, 4096);
    dp_buf ref;
    mg_bytes(&whole, &ref);
    dp_rng r;
    dp_rng_seed(&r, 8);
    for (int trial = 0; trial < 20; trial++) {
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
        dp_marginal m[50];
        for (size_t p = 0; p < parts; p++)
            mg_build(&m[p], x + cut[p], cut[p + 1] - cut[p], 4096, 977);
        /* Merge in a random order into a random root. */
        size_t root = (size_t) dp_rng_below(&r, parts);
        dp_error eb, *err = &eb;
        size_t order[50];
        for (size_t p = 0; p < parts; p++)
            order[p] = p;
        for (size_t p = parts; p > 1; p--) {
            size_t q = (size_t) dp_rng_below(&r, p), t = order[p - 1];
            order[p - 1] = order[q];
            order[q] = t;
        }
        for (size_t p = 0; p < parts; p++)
            if (order[p] != root)
                DP_ASSERT_OK(dp_marginal_merge(&m[root], &m[order[p]], err), err);
        dp_buf b;
        mg_bytes(&m[root], &b);
        DP_ASSERT_EQ_INT(b.size, ref.size);
        DP_ASSERT_MEMEQ(b.data, ref.data, b.size);
        dp_buf_reset(&b);
        for (size_t p = 0; p < parts; p++)
            dp_marginal_reset(&m[p]);
    }
    dp_buf_reset(&ref);
    dp_marginal_reset(&whole);
    free(x);
    free(s);
}

DP_TEST(marginal_merge_table_overflow_is_symmetric) {
    /* Two tables whose union exceeds exact_distinct become one sketch built from the union:
     * merge(A, B) and merge(B, A) give the same bytes, and every value is counted. */
    double a[400], b[400];
    for (int i = 0; i < 400; i++) {
        a[i] = (double) (i % 150);
        b[i] = (double) (100 + i % 150);
    }
    dp_marginal ab1, ab2, ba1, ba2;
    dp_error eb, *err = &eb;
    mg_build(&ab1, a, 400, 200, 400);
    mg_build(&ab2, b, 400, 200, 400);
    mg_build(&ba1, b, 400, 200, 400);
    mg_build(&ba2, a, 400, 200, 400);
    DP_ASSERT_OK(dp_marginal_merge(&ab1, &ab2, err), err);
    DP_ASSERT_OK(dp_marginal_merge(&ba1, &ba2, err), err);
    DP_ASSERT_EQ_INT(ab1.kind, DP_MARGINAL_SKETCH);
    DP_ASSERT_EQ_INT(ab1.n, 800);
    dp_buf x, y;
    mg_bytes(&ab1, &x);
    mg_bytes(&ba1, &y);
    DP_ASSERT_EQ_INT(x.size, y.size);
    DP_ASSERT_MEMEQ(x.data, y.data, x.size);
    /* Table into sketch and sketch into table agree on the count. */
    DP_ASSERT_OK(dp_marginal_merge(&ab2, &ab1, err), err);
    DP_ASSERT_EQ_INT(ab2.kind, DP_MARGINAL_SKETCH);
    DP_ASSERT_EQ_INT(ab2.n, 1200);
    DP_ASSERT_OK(dp_marginal_merge(&ba1, &ba2, err), err);
    DP_ASSERT_EQ_INT(ba1.n, 1200);
    dp_buf_reset(&x);
    dp_buf_reset(&y);
    dp_marginal_reset(&ab1);
    dp_marginal_reset(&ab2);
    dp_marginal_reset(&ba1);
    dp_marginal_reset(&ba2);
}

DP_TEST(marginal_serial_roundtrip_and_corruption) {
    dp_error eb, *err = &eb;
    size_t n = 20000;
    double *x = malloc(n * sizeof *x), *s = malloc(n * sizeof *s);
    for (int ed = 0; ed <= 1; ed++) {
        mg_lowcard(x, s, n, ed ? 100 : 1000000, 3);
        dp_marginal m, t;
        mg_build(&m, x, n, ed ? 4096 : 100, 1000);
        DP_ASSERT_EQ_INT(m.kind, ed ? DP_MARGINAL_TABLE : DP_MARGINAL_SKETCH);
        dp_buf a, b;
        mg_bytes(&m, &a);
        DP_ASSERT_OK(dp_marginal_deserialize(a.data, a.size, &t, err), err);
        mg_bytes(&t, &b);
        DP_ASSERT_EQ_INT(a.size, b.size);
        DP_ASSERT_MEMEQ(a.data, b.data, a.size);
        /* The copy continues identically. */
        DP_ASSERT_OK(dp_marginal_update(&m, x, 5000, err), err);
        DP_ASSERT_OK(dp_marginal_update(&t, x, 5000, err), err);
        dp_buf_reset(&a);
        dp_buf_reset(&b);
        mg_bytes(&m, &a);
        mg_bytes(&t, &b);
        DP_ASSERT_MEMEQ(a.data, b.data, a.size);
        dp_marginal_reset(&t);
        for (size_t i = 0; i < a.size; i += 1 + a.size / 61) {
            a.data[i] ^= 1;
            dp_status st = dp_marginal_deserialize(a.data, a.size, &t, err);
            DP_ASSERT_TRUE(st == DP_CORRUPT || st == DP_UNSUPPORTED || st == DP_TRUNCATED);
            a.data[i] ^= 1;
        }
        dp_buf_reset(&a);
        dp_buf_reset(&b);
        dp_marginal_reset(&m);
    }
    /* A table record with a valid checksum but unsorted entries: CORRUPT. */
    dp_buf b;
    dp_buf_init(&b);
    dp_serial_writer w;
    dp_sw_begin(&w, &b, 0x4c47524du, 1);
    dp_sw_u8(&w, DP_MARGINAL_TABLE);
    dp_sw_u32(&w, 4096);
    dp_sw_u32(&w, 200);
    dp_sw_u64(&w, 0);
    dp_sw_i64(&w, 2);
    dp_sw_u64(&w, 2);
    dp_sw_f64(&w, 2.0);
    dp_sw_f64(&w, 1.0);
    dp_sw_i64(&w, 1);
    dp_sw_i64(&w, 1);
    DP_ASSERT_OK(dp_sw_end(&w, err), err);
    dp_marginal t;
    DP_ASSERT_STATUS(dp_marginal_deserialize(b.data, b.size, &t, err), DP_CORRUPT);
    DP_ASSERT_CONTAINS(err->msg, "not canonical");
    dp_buf_reset(&b);
    free(x);
    free(s);
}

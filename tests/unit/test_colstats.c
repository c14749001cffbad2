/* Pass-1 accumulator over dp_batch streams: counts and statistics against naive references,
 * bit-identical results for any batch size and column split, merges of random row splits,
 * serialisation (round trip, resume mid-block, corruption) and memory accounting. */
#include "dp_test.h"
#include "accum/dp_colstats.h"
#include "util/dp_alloc.h"
#include "util/dp_rng.h"

#include <pthread.h>

#define CT_COLS 12

/* Column-major test data: x[j * n + i]; kind as in dp_batch (0 valid, 1 null, 2 NaN, 3 +Inf,
 * 4 -Inf). Columns: 0 N(0,1); 1 1e9 + N(0,1); 2 ints 0..9 with 5 % NaN; 3 rare ones (1 %);
 * 4 lognormal with NULL / +-Inf; 5 constant; 6 all NaN; 7 ints 0..4999 (table until > 4096
 * distinct, then sketch); 8 ints 0..3999 (table); 9 40 % zeros + N(0,1); 10 ascending;
 * 11 {-0.0, 0.0, 1.0}. */
typedef struct ct_data {
    size_t n;
    double *x;
    uint8_t *kind;
} ct_data;

static ct_data ct_make(size_t n, uint64_t seed) {
    ct_data d = {n, malloc(n * CT_COLS * sizeof(double)), malloc(n * CT_COLS)};
    dp_rng r;
    dp_rng_seed(&r, seed);
    for (int j = 0; j < CT_COLS; j++) {
        for (size_t i = 0; i < n; i++) {
            double z = dp_rng_normal(&r), u = dp_rng_uniform(&r), v = 0;
            uint8_t k = 0;
            switch (j) {
            case 0:
                v = z;
                break;
            case 1:
                v = 1e9 + z;
                break;
            case 2:
                v = (double) dp_rng_below(&r, 10);
                k = u < 0.05 ? 2 : 0;
                break;
            case 3:
                v = u < 0.01 ? 1.0 : 0.0;
                break;
            case 4:
                v = exp(z);
                k = u < 0.1 ? 1 : u < 0.11 ? 3 : u < 0.12 ? 4 : 0;
                break;
            case 5:
                v = 3.0;
                break;
            case 6:
                k = 2;
                break;
            case 7:
                v = (double) dp_rng_below(&r, 5000);
                break;
            case 8:
                v = (double) dp_rng_below(&r, 4000);
                break;
            case 9:
                v = u < 0.4 ? 0.0 : z;
                break;
            case 10:
                v = (double) i * 0.25;
                break;
            default:
                v = u < 0.3 ? -0.0 : u < 0.6 ? 0.0 : 1.0;
                break;
            }
            d.kind[j * n + i] = k;
            d.x[j * n + i] = k == 0 ? v : k == 3 ? INFINITY : k == 4 ? -INFINITY : NAN;
        }
    }
    return d;
}

static void ct_free(ct_data *d) {
    free(d->x);
    free(d->kind);
}

/* Rows [lo, hi) of d into batch b as a producer would: NULLs counted, values normalised. */
static void ct_fill(dp_batch *b, const ct_data *d, size_t lo, size_t hi, int64_t row0) {
    b->n_rows = (int64_t) (hi - lo);
    b->row_offset = row0 + (int64_t) lo;
    for (int j = 0; j < CT_COLS; j++) {
        double *col = dp_batch_col(b, j);
        int64_t nulls = 0;
        for (size_t i = lo; i < hi; i++) {
            col[i - lo] = d->x[j * d->n + i];
            nulls += d->kind[j * d->n + i] == 1;
        }
        b->counts[j] = (dp_batch_counts){nulls, 0, 0, 0};
        dp_batch_normalize_column(b, j);
    }
}

/* Accumulate rows [lo, hi) in batches of `step` rows (column ranges split at `split`). */
static void ct_run(dp_colstats *cs, const ct_data *d, size_t lo, size_t hi, size_t step,
                   int64_t split) {
    dp_batch b;
    dp_error eb, *err = &eb;
    DP_ASSERT_OK(dp_batch_init(&b, (int64_t) step, CT_COLS, err), err);
    for (size_t i = lo; i < hi; i += step) {
        size_t e = hi - i < step ? hi : i + step;
        ct_fill(&b, d, i, e, 0);
        if (split <= 0) {
            DP_ASSERT_OK(dp_colstats_update(cs, &b, err), err);
        } else {
            DP_ASSERT_OK(dp_colstats_update_cols(cs, &b, split, CT_COLS, err), err);
            DP_ASSERT_OK(dp_colstats_update_cols(cs, &b, 0, split, err), err);
        }
    }
    dp_batch_reset(&b);
}

static dp_colstats *ct_new(void) {
    dp_colstats *cs = NULL;
    dp_error eb, *err = &eb;
    dp_colstats_opts o;
    dp_colstats_opts_default(&o);
    o.seed = 2024;
    DP_ASSERT_OK(dp_colstats_create(&cs, CT_COLS, &o, err), err);
    return cs;
}

static void ct_bytes(const dp_colstats *cs, dp_buf *b) {
    dp_error eb, *err = &eb;
    dp_buf_init(b);
    DP_ASSERT_OK(dp_colstats_serialize(cs, b, err), err);
}

static int ct_cmp(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

DP_TEST(colstats_bitwise_same_for_batch_sizes_and_column_splits) {
    ct_data d = ct_make(30000, 1);
    dp_buf ref;
    size_t steps[] = {30000, 1000, 4096, 7777, 1};
    int64_t splits[] = {0, 5, 0, 11, 1};
    for (size_t s = 0; s < DP_ARRAY_LEN(steps); s++) {
        dp_colstats *cs = ct_new();
        ct_run(cs, &d, 0, d.n, steps[s], splits[s]);
        dp_buf b;
        ct_bytes(cs, &b);
        if (s == 0) {
            ref = b;
        } else {
            DP_ASSERT_EQ_INT(b.size, ref.size);
            DP_ASSERT_MEMEQ(b.data, ref.data, b.size);
            dp_buf_reset(&b);
        }
        dp_colstats_free(cs);
    }
    dp_buf_reset(&ref);
    ct_free(&d);
}

DP_TEST(colstats_statistics_vs_naive_reference) {
    ct_data d = ct_make(40000, 2);
    dp_colstats *cs = ct_new();
    ct_run(cs, &d, 0, d.n, 6000, 0);
    dp_colstats_result res;
    dp_error eb, *err = &eb;
    DP_ASSERT_OK(dp_colstats_finalize(cs, &res, err), err);
    DP_ASSERT_EQ_INT(res.n_cols, CT_COLS);
    const dp_marginal_kind want_kind[CT_COLS] = {
        DP_MARGINAL_SKETCH, DP_MARGINAL_SKETCH, DP_MARGINAL_TABLE,  DP_MARGINAL_TABLE,
        DP_MARGINAL_SKETCH, DP_MARGINAL_TABLE,  DP_MARGINAL_EMPTY,  DP_MARGINAL_SKETCH,
        DP_MARGINAL_TABLE,  DP_MARGINAL_SKETCH, DP_MARGINAL_SKETCH, DP_MARGINAL_TABLE};
    double *s = malloc(d.n * sizeof *s);
    for (int j = 0; j < CT_COLS; j++) {
        const dp_colstats_column *c = &res.cols[j];
        int64_t k[5] = {0, 0, 0, 0, 0};
        size_t nf = 0;
        long double sum = 0;
        for (size_t i = 0; i < d.n; i++) {
            k[d.kind[j * d.n + i]]++;
            if (d.kind[j * d.n + i] == 0) {
                s[nf++] = d.x[j * d.n + i] + 0.0;
                sum += d.x[j * d.n + i];
            }
        }
        DP_ASSERT_EQ_INT(c->mom.rows, (int64_t) d.n);
        DP_ASSERT_EQ_INT(c->mom.n_null, k[1]);
        DP_ASSERT_EQ_INT(c->mom.n_nan, k[2]);
        DP_ASSERT_EQ_INT(c->mom.n_posinf, k[3]);
        DP_ASSERT_EQ_INT(c->mom.n_neginf, k[4]);
        DP_ASSERT_EQ_INT(c->mom.n_valid, k[0]);
        DP_ASSERT_EQ_INT(c->fit.n, k[0]);
        DP_ASSERT_EQ_INT(c->fit.kind, want_kind[j]);
        if (nf == 0)
            continue;
        qsort(s, nf, sizeof *s, ct_cmp);
        long double mean = sum / nf, ss = 0;
        for (size_t i = 0; i < nf; i++)
            ss += (s[i] - mean) * (s[i] - mean);
        double var = nf > 1 ? (double) (ss / (nf - 1)) : NAN;
        DP_ASSERT_BITS_EQ(c->mom.min, s[0]);
        DP_ASSERT_BITS_EQ(c->mom.max, s[nf - 1]);
        DP_ASSERT_BITS_EQ(c->fit.min, s[0]);
        DP_ASSERT_BITS_EQ(c->fit.max, s[nf - 1]);
        /* 1e-12 relative, see test_moments.c. */
        DP_ASSERT_NEAR(c->mom.mean, (double) mean, 1e-12 * fmax(fabs((double) mean), sqrt(var)));
        if (var > 0)
            DP_ASSERT_REL(c->mom.var, var, 1e-12, 0);
        else
            DP_ASSERT_BITS_EQ(c->mom.var, 0.0);
        size_t distinct = 1;
        for (size_t i = 1; i < nf; i++)
            distinct += s[i] != s[i - 1];
        if (c->fit.kind == DP_MARGINAL_TABLE) {
            DP_ASSERT_EQ_INT(c->fit.distinct, (int64_t) distinct);
            for (int q = 0; q <= 40; q++) {
                double h = (double) (nf - 1) * (q / 40.0), fl = floor(h), g = h - fl;
                size_t i = (size_t) fl;
                double a = s[i], b = s[i + 1 < nf ? i + 1 : i], want;
                want = g >= 0.5 ? b - (b - a) * (1 - g) : a + (b - a) * g;
                if (i >= nf - 1)
                    want = s[nf - 1];
                DP_ASSERT_BITS_EQ(dp_marginal_fit_quantile(&c->fit, q / 40.0), want);
            }
        } else {
            DP_ASSERT_TRUE(!c->fit.distinct_exact);
            DP_ASSERT_EQ_INT(c->fit.distinct, 4097);
            for (int q = 1; q < 40; q++) {
                double v = dp_marginal_fit_quantile(&c->fit, q / 40.0);
                size_t le = 0;
                while (le < nf && s[le] <= v)
                    le++;
                size_t lt = 0;
                while (lt < nf && s[lt] < v)
                    lt++;
                double t = (double) (nf - 1) * q / 40.0 + 0.5;
                double e = t < (double) lt   ? (double) lt - t
                           : t > (double) le ? t - (double) le
                                             : 0;
                DP_ASSERT_TRUE(e / (double) nf <= 0.005);
            }
        }
    }
    free(s);
    dp_colstats_result_reset(&res);
    dp_colstats_free(cs);
    ct_free(&d);
}

DP_TEST(colstats_merge_random_splits) {
    /* Rows split into 1..50 contiguous ranges, one accumulator each, merged in a random order:
     * counts, extremes and tables (the whole fitted model) bit-identical to one pass; mean and
     * variance within 1e-12; sketches within their rank bound. */
    ct_data d = ct_make(20000, 3);
    dp_colstats *whole = ct_new();
    ct_run(whole, &d, 0, d.n, 20000, 0);
    dp_colstats_result ref;
    dp_error eb, *err = &eb;
    DP_ASSERT_OK(dp_colstats_finalize(whole, &ref, err), err);
    dp_rng r;
    dp_rng_seed(&r, 99);
    for (int trial = 0; trial < 8; trial++) {
        size_t parts = trial == 0 ? 50 : 1 + (size_t) dp_rng_below(&r, 50), cut[51];
        cut[0] = 0;
        cut[parts] = d.n;
        for (size_t p = 1; p < parts; p++)
            cut[p] = (size_t) dp_rng_below(&r, d.n + 1);
        for (size_t a = 1; a < parts; a++)
            for (size_t b = a; b > 1 && cut[b - 1] > cut[b]; b--) {
                size_t t = cut[b];
                cut[b] = cut[b - 1];
                cut[b - 1] = t;
            }
        dp_colstats *cs[50];
        for (size_t p = 0; p < parts; p++) {
            cs[p] = ct_new();
            if (cut[p + 1] > cut[p])
                ct_run(cs[p], &d, cut[p], cut[p + 1], 1 + (size_t) dp_rng_below(&r, 5000), 0);
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
            DP_ASSERT_OK(dp_colstats_merge(cs[order[0]], cs[order[p]], err), err);
        dp_colstats_result res;
        DP_ASSERT_OK(dp_colstats_finalize(cs[order[0]], &res, err), err);
        for (int j = 0; j < CT_COLS; j++) {
            const dp_colstats_column *a = &res.cols[j], *b = &ref.cols[j];
            DP_ASSERT_EQ_INT(a->mom.rows, b->mom.rows);
            DP_ASSERT_EQ_INT(a->mom.n_null, b->mom.n_null);
            DP_ASSERT_EQ_INT(a->mom.n_nan, b->mom.n_nan);
            DP_ASSERT_EQ_INT(a->mom.n_posinf, b->mom.n_posinf);
            DP_ASSERT_EQ_INT(a->mom.n_neginf, b->mom.n_neginf);
            DP_ASSERT_EQ_INT(a->mom.n_valid, b->mom.n_valid);
            DP_ASSERT_BITS_EQ(a->mom.min, b->mom.min);
            DP_ASSERT_BITS_EQ(a->mom.max, b->mom.max);
            if (b->mom.n_valid > 1) {
                DP_ASSERT_NEAR(a->mom.mean, b->mom.mean,
                               1e-12 * fmax(fabs(b->mom.mean), b->mom.std));
                DP_ASSERT_NEAR(a->mom.var, b->mom.var, 1e-12 * b->mom.var);
            }
            DP_ASSERT_EQ_INT(a->fit.kind, b->fit.kind);
            DP_ASSERT_EQ_INT(a->fit.n, b->fit.n);
            if (b->fit.kind == DP_MARGINAL_TABLE) {
                DP_ASSERT_EQ_INT(a->fit.n_knots, b->fit.n_knots);
                size_t m = (size_t) b->fit.n_knots * sizeof(double);
                DP_ASSERT_MEMEQ(a->fit.values, b->fit.values, m);
                DP_ASSERT_MEMEQ(a->fit.lo, b->fit.lo, m);
                DP_ASSERT_MEMEQ(a->fit.hi, b->fit.hi, m);
            } else if (b->fit.kind == DP_MARGINAL_SKETCH) {
                for (int q = 0; q <= 20; q++) {
                    double v = dp_marginal_fit_quantile(&b->fit, q / 20.0);
                    DP_ASSERT_NEAR(dp_marginal_fit_cdf_le(&a->fit, v),
                                   dp_marginal_fit_cdf_le(&b->fit, v), 0.01);
                }
            }
        }
        dp_colstats_result_reset(&res);
        for (size_t p = 0; p < parts; p++)
            dp_colstats_free(cs[p]);
    }
    dp_colstats_result_reset(&ref);
    dp_colstats_free(whole);
    ct_free(&d);
}

DP_TEST(colstats_serial_roundtrip_and_resume) {
    /* Checkpoint mid-stream (mid-block): the restored accumulator continues to exactly the
     * bytes of an uninterrupted run. */
    ct_data d = ct_make(25000, 4);
    dp_colstats *full = ct_new(), *half = ct_new(), *back = NULL;
    ct_run(full, &d, 0, d.n, 3000, 0);
    ct_run(half, &d, 0, 12345, 3000, 0);
    dp_buf a, b, c;
    ct_bytes(half, &a);
    dp_error eb, *err = &eb;
    DP_ASSERT_OK(dp_colstats_deserialize(a.data, a.size, &back, err), err);
    ct_bytes(back, &b);
    DP_ASSERT_EQ_INT(a.size, b.size);
    DP_ASSERT_MEMEQ(a.data, b.data, a.size);
    /* Continue from row 12345 in other batch sizes. */
    dp_batch bt;
    DP_ASSERT_OK(dp_batch_init(&bt, 5000, CT_COLS, err), err);
    for (size_t i = 12345; i < d.n; i += 5000) {
        ct_fill(&bt, &d, i, i + 5000 < d.n ? i + 5000 : d.n, 0);
        DP_ASSERT_OK(dp_colstats_update(back, &bt, err), err);
    }
    dp_batch_reset(&bt);
    dp_buf_reset(&b);
    ct_bytes(back, &b);
    ct_bytes(full, &c);
    DP_ASSERT_EQ_INT(b.size, c.size);
    DP_ASSERT_MEMEQ(b.data, c.data, b.size);
    dp_colstats_free(back);
    back = NULL;
    /* Corruption: every sampled flipped byte is refused; version and truncation are named. */
    for (size_t i = 0; i < a.size; i += 1 + a.size / 211) {
        a.data[i] ^= 0x08;
        dp_status st = dp_colstats_deserialize(a.data, a.size, &back, err);
        DP_ASSERT_TRUE(st == DP_CORRUPT || st == DP_UNSUPPORTED || st == DP_TRUNCATED);
        DP_ASSERT_TRUE(back == NULL);
        a.data[i] ^= 0x08;
    }
    DP_ASSERT_STATUS(dp_colstats_deserialize(a.data, a.size - 3, &back, err), DP_TRUNCATED);
    a.data[4] = 9; /* version field */
    DP_ASSERT_STATUS(dp_colstats_deserialize(a.data, a.size, &back, err), DP_UNSUPPORTED);
    DP_ASSERT_CONTAINS(err->msg, "version 9");
    a.data[4] = 1;
    a.data[a.size - 1] ^= 0xff; /* CRC */
    DP_ASSERT_STATUS(dp_colstats_deserialize(a.data, a.size, &back, err), DP_CORRUPT);
    DP_ASSERT_CONTAINS(err->msg, "checksum");
    dp_buf_reset(&a);
    dp_buf_reset(&b);
    dp_buf_reset(&c);
    dp_colstats_free(full);
    dp_colstats_free(half);
    ct_free(&d);
}

DP_TEST(colstats_rejects_mismatched_batches) {
    dp_colstats *cs = ct_new();
    dp_batch b;
    dp_error eb, *err = &eb;
    DP_ASSERT_OK(dp_batch_init(&b, 10, CT_COLS - 1, err), err);
    b.n_rows = 10;
    DP_ASSERT_STATUS(dp_colstats_update(cs, &b, err), DP_INVALID_ARG);
    dp_batch_reset(&b);
    ct_data d = ct_make(10, 5);
    DP_ASSERT_OK(dp_batch_init(&b, 10, CT_COLS, err), err);
    ct_fill(&b, &d, 0, 10, 0);
    b.counts[3].n_nan = 4; /* column 3 has no NaN */
    DP_ASSERT_STATUS(dp_colstats_update(cs, &b, err), DP_INVALID_ARG);
    DP_ASSERT_CONTAINS(err->msg, "column 3: ");
    DP_ASSERT_STATUS(dp_colstats_update_cols(cs, &b, 5, 13, err), DP_INVALID_ARG);
    dp_colstats *other = NULL;
    dp_colstats_opts o;
    dp_colstats_opts_default(&o);
    o.kll_k = 64;
    DP_ASSERT_OK(dp_colstats_create(&other, CT_COLS, &o, err), err);
    DP_ASSERT_STATUS(dp_colstats_merge(cs, other, err), DP_INVALID_ARG);
    o.kll_k = 2;
    dp_colstats *bad = NULL;
    DP_ASSERT_STATUS(dp_colstats_create(&bad, 3, &o, err), DP_INVALID_ARG);
    DP_ASSERT_TRUE(bad == NULL);
    dp_colstats_free(other);
    dp_batch_reset(&b);
    dp_colstats_free(cs);
    ct_free(&d);
}

DP_TEST(colstats_memory_estimate_covers_use) {
    /* The estimate is an upper bound of what the accumulator holds after a stream that drives
     * every table to its limit and every sketch to its size. */
    ct_data d = ct_make(50000, 6);
    dp_colstats_opts o;
    dp_colstats_opts_default(&o);
    int64_t live0 = dp_alloc_live_bytes();
    dp_colstats *cs = ct_new();
    ct_run(cs, &d, 0, d.n, 10000, 0);
    size_t used = dp_colstats_sizeof(cs);
    size_t est = dp_colstats_estimate(CT_COLS, (int64_t) d.n, &o);
    DP_ASSERT_CMP_INT((int64_t) used, <=, (int64_t) est);
    DP_ASSERT_CMP_INT(dp_alloc_live_bytes() - live0, <=, (int64_t) est);
    DP_ASSERT_CMP_INT((int64_t) used, >, 0);
    dp_colstats_free(cs);
    DP_ASSERT_EQ_INT(dp_alloc_live_bytes(), live0);
    ct_free(&d);
}

DP_TEST(colstats_allocation_failures_are_clean) {
    /* Each allocation of create / update / merge / finalize / serialize fails once in turn:
     * NOMEM (or success), no crash, no leak. */
    ct_data d = ct_make(6000, 7);
    dp_batch b;
    dp_error eb, *err = &eb;
    DP_ASSERT_OK(dp_batch_init(&b, 6000, CT_COLS, err), err);
    ct_fill(&b, &d, 0, 6000, 0);
    int64_t live0 = dp_alloc_live_bytes();
    for (int64_t fail = 1; fail < 400; fail += 3) {
        dp_colstats *a = NULL, *c = NULL, *back = NULL;
        dp_colstats_result res;
        dp_colstats_result_init(&res);
        dp_buf buf;
        dp_buf_init(&buf);
        dp_alloc_fail_after(fail);
        dp_status st = dp_colstats_create(&a, CT_COLS, NULL, NULL);
        if (st == DP_OK)
            st = dp_colstats_update(a, &b, NULL);
        if (st == DP_OK)
            st = dp_colstats_create(&c, CT_COLS, NULL, NULL);
        if (st == DP_OK)
            st = dp_colstats_merge(c, a, NULL);
        if (st == DP_OK)
            st = dp_colstats_finalize(c, &res, NULL);
        if (st == DP_OK)
            st = dp_colstats_serialize(c, &buf, NULL);
        if (st == DP_OK)
            st = dp_colstats_deserialize(buf.data, buf.size, &back, NULL);
        dp_alloc_fail_after(0);
        DP_ASSERT_TRUE(st == DP_OK || st == DP_NOMEM);
        dp_colstats_result_reset(&res);
        dp_buf_reset(&buf);
        dp_colstats_free(a);
        dp_colstats_free(c);
        dp_colstats_free(back);
        DP_ASSERT_EQ_INT(dp_alloc_live_bytes(), live0);
    }
    dp_batch_reset(&b);
    ct_free(&d);
}

typedef struct ct_job {
    dp_colstats *cs;
    const dp_batch *b;
    int64_t c0, c1;
    dp_status st;
} ct_job;

static void *ct_thread(void *arg) {
    ct_job *j = arg;
    j->st = dp_colstats_update_cols(j->cs, j->b, j->c0, j->c1, NULL);
    return NULL;
}

DP_TEST(colstats_threads_on_column_ranges_match_one_thread) {
    /* Threads updating disjoint column ranges of the same batches give the same bytes as one
     * thread: each column's state is touched by one thread in row order. */
    ct_data d = ct_make(20000, 8);
    dp_colstats *one = ct_new(), *many = ct_new();
    ct_run(one, &d, 0, d.n, 2500, 0);
    dp_batch b;
    dp_error eb, *err = &eb;
    DP_ASSERT_OK(dp_batch_init(&b, 2500, CT_COLS, err), err);
    for (size_t i = 0; i < d.n; i += 2500) {
        ct_fill(&b, &d, i, i + 2500, 0);
        ct_job jobs[3] = {
            {many, &b, 0, 3, DP_OK}, {many, &b, 3, 8, DP_OK}, {many, &b, 8, CT_COLS, DP_OK}};
        pthread_t th[3];
        for (int t = 0; t < 3; t++)
            DP_ASSERT_EQ_INT(pthread_create(&th[t], NULL, ct_thread, &jobs[t]), 0);
        for (int t = 0; t < 3; t++) {
            pthread_join(th[t], NULL);
            DP_ASSERT_OK(jobs[t].st, (dp_error *) NULL);
        }
    }
    dp_batch_reset(&b);
    dp_buf x, y;
    ct_bytes(one, &x);
    ct_bytes(many, &y);
    DP_ASSERT_EQ_INT(x.size, y.size);
    DP_ASSERT_MEMEQ(x.data, y.data, x.size);
    dp_buf_reset(&x);
    dp_buf_reset(&y);
    dp_colstats_free(one);
    dp_colstats_free(many);
    ct_free(&d);
}

/* Pass-4 feature-block accumulator (accum/dp_featgram.h): covariance blocks against a naive
 * two-pass long-double reference, batch-size invariance (bit-identical state), merge,
 * serialisation and resume, corrupt records, shadow pairs, memory plan, row sample. */
#include "dp_test.h"
#include "accum/dp_featgram.h"
#include "transform/dp_normal.h"
#include "util/dp_alloc.h"
#include "util/dp_rng.h"
#include "util/dp_serial.h"

typedef struct fg_data {
    int64_t n, p;
    double *z, *u; /* column-major n x p */
} fg_data;

/* Columns: 0 = x, 1 = x^2 + noise, 2 = independent, 3 = sin(3x) + noise; missing values at
 * random (10 %) in columns 1 and 3, a run of 300 missing rows in column 2, column 0 complete. */
static fg_data fg_make(int64_t n, uint64_t seed) {
    fg_data d = {n, 4, NULL, NULL};
    d.z = calloc((size_t) (n * 4), sizeof(double));
    d.u = calloc((size_t) (n * 4), sizeof(double));
    DP_ASSERT_TRUE(d.z != NULL && d.u != NULL);
    dp_rng r;
    dp_rng_seed(&r, seed);
    for (int64_t t = 0; t < n; t++) {
        double x = dp_rng_normal(&r);
        double v[4] = {x, (x * x - 1) / 1.4 + 0.3 * dp_rng_normal(&r), dp_rng_normal(&r),
                       sin(3 * x) + 0.2 * dp_rng_normal(&r)};
        for (int i = 0; i < 4; i++) {
            bool miss = (i == 1 || i == 3) ? dp_rng_uniform(&r) < 0.1 : false;
            if (i == 2 && t >= n / 3 && t < n / 3 + 300)
                miss = true;
            d.z[t + i * n] = miss ? NAN : v[i];
            d.u[t + i * n] = miss ? NAN : dp_norm_cdf(v[i]);
        }
    }
    return d;
}

static void fg_free_data(fg_data *d) {
    free(d->z);
    free(d->u);
}

static const char *const fg_names[4] = {"x", "x2", "indep", "sin3x"};

static dp_featgram_config fg_config(void) {
    dp_featgram_config c;
    dp_featgram_config_default(&c);
    c.m = 5;
    c.k = 6;
    c.seed = 42;
    c.block_rows = 256;
    c.shadow_columns = 3;
    return c;
}

static dp_featgram *fg_build(const dp_featgram_config *c, const fg_data *d, int64_t batch,
                             dp_backend *be) {
    dp_featgram *g = NULL;
    dp_error err, *ep = &err;
    DP_ASSERT_OK(dp_featgram_create(c, d->p, fg_names, be, &g, ep), ep);
    for (int64_t t = 0; t < d->n; t += batch) {
        int64_t nr = DP_MIN(batch, d->n - t);
        DP_ASSERT_OK(dp_featgram_update(g, nr, d->z + t, d->n, d->u + t, d->n, ep), ep);
    }
    return g;
}

/* Naive covariance block of (i, j) from explicit features (pilot-imputed rows kept or dropped
 * according to mode), two-pass in long double. */
static void fg_naive_block(const dp_featgram *g, const fg_data *d, dp_featgram_part part, int64_t i,
                           int64_t j, dp_featgram_missing mode, double *out, int64_t *rows) {
    const dp_featgram_config *c = dp_featgram_get_config(g);
    const int64_t n = d->n, f = part == DP_FG_HSIC ? c->m : c->k;
    double *Fi = malloc(sizeof(double) * (size_t) (n * f));
    double *Fj = malloc(sizeof(double) * (size_t) (n * f));
    DP_ASSERT_TRUE(Fi && Fj);
    const double *src = part == DP_FG_HSIC ? d->z : d->u;
    for (int side = 0; side < 2; side++) {
        int64_t col = side ? j : i;
        double *F = side ? Fj : Fi;
        if (part == DP_FG_HSIC) {
            dp_mercer_fill(dp_featgram_mercer(g), src + col * n, n, NULL, F, n);
        } else {
            const double *w, *b, *pl;
            DP_ASSERT_TRUE(dp_featgram_rdc_draws(g, col, &w, &b, &pl));
            for (int64_t a = 0; a < f; a++)
                for (int64_t t = 0; t < n; t++) {
                    double uu = src[t + col * n];
                    F[t + a * n] = isnan(uu) ? pl[a] : sin(w[a] * uu + b[a]);
                }
        }
    }
    bool *use = malloc((size_t) n);
    int64_t cnt = 0;
    for (int64_t t = 0; t < n; t++) {
        bool oi = !isnan(src[t + i * n]), oj = !isnan(src[t + j * n]);
        use[t] = mode == DP_FG_MISSING_IMPUTE ? true : (oi && oj);
        cnt += use[t];
    }
    long double mi[64] = {0}, mj[64] = {0};
    for (int64_t a = 0; a < f; a++)
        for (int64_t t = 0; t < n; t++)
            if (use[t]) {
                mi[a] += Fi[t + a * n];
                mj[a] += Fj[t + a * n];
            }
    for (int64_t a = 0; a < f; a++) {
        mi[a] /= cnt;
        mj[a] /= cnt;
    }
    for (int64_t b = 0; b < f; b++)
        for (int64_t a = 0; a < f; a++) {
            long double s = 0;
            for (int64_t t = 0; t < n; t++)
                if (use[t])
                    s += (Fi[t + a * n] - mi[a]) * (Fj[t + b * n] - mj[b]);
            out[a + b * f] = (double) (s / cnt);
        }
    *rows = cnt;
    free(use);
    free(Fi);
    free(Fj);
}

DP_TEST(featgram_cov_blocks_match_naive) {
    dp_backend *be = NULL;
    dp_error err, *ep = &err;
    DP_ASSERT_OK(dp_backend_cpu_create(NULL, &be, ep), ep);
    fg_data d = fg_make(3000, 1);
    dp_featgram_config c = fg_config();
    dp_featgram *g = fg_build(&c, &d, 333, be);
    DP_ASSERT_EQ_INT(dp_featgram_rows(g), 3000);
    dp_featgram_view v;
    DP_ASSERT_STATUS(dp_featgram_view_get(g, DP_FG_HSIC, &v, ep), DP_STATE); /* pending rows */
    DP_ASSERT_OK(dp_featgram_flush(g, ep), ep);
    double got[64], ref[64];
    for (int part = 0; part < 2; part++) {
        DP_ASSERT_OK(dp_featgram_view_get(g, (dp_featgram_part) part, &v, ep), ep);
        for (int mode = 0; mode < 2; mode++)
            for (int64_t i = 0; i < 4; i++)
                for (int64_t j = 0; j < 4; j++) {
                    int64_t nref, ngot;
                    ngot = dp_featgram_cov_block(&v, i, j, (dp_featgram_missing) mode, got);
                    fg_naive_block(g, &d, (dp_featgram_part) part, i, j, (dp_featgram_missing) mode,
                                   ref, &nref);
                    DP_ASSERT_EQ_INT(ngot, nref);
                    /* Shifted one-pass sums vs two-pass long double over 3000 rows of features
                     * <= 1: both are within ~1e-15 of the exact covariance. */
                    for (int a = 0; a < v.f * v.f; a++)
                        DP_ASSERT_NEAR(got[a], ref[a], 1e-13);
                }
    }
    dp_featgram_free(g);
    dp_backend_free(be);
    fg_free_data(&d);
}

static void fg_serialize(const dp_featgram *g, dp_buf *b) {
    dp_error err, *ep = &err;
    dp_buf_init(b);
    DP_ASSERT_OK(dp_featgram_serialize(g, b, ep), ep);
}

DP_TEST(featgram_batch_size_invariance_bits) {
    dp_backend *be = NULL;
    dp_error err, *ep = &err;
    DP_ASSERT_OK(dp_backend_cpu_create(NULL, &be, ep), ep);
    fg_data d = fg_make(1500, 2);
    dp_featgram_config c = fg_config();
    dp_buf ref;
    dp_featgram *g0 = fg_build(&c, &d, 1500, be);
    DP_ASSERT_OK(dp_featgram_flush(g0, ep), ep);
    fg_serialize(g0, &ref);
    const int64_t sizes[] = {1, 7, 255, 256, 257, 1000};
    for (size_t s = 0; s < DP_ARRAY_LEN(sizes); s++) {
        dp_featgram *g = fg_build(&c, &d, sizes[s], be);
        DP_ASSERT_OK(dp_featgram_flush(g, ep), ep);
        dp_buf b;
        fg_serialize(g, &b);
        DP_ASSERT_EQ_INT(b.size, ref.size);
        DP_ASSERT_MEMEQ(b.data, ref.data, b.size);
        dp_buf_reset(&b);
        dp_featgram_free(g);
    }
    dp_buf_reset(&ref);
    dp_featgram_free(g0);
    dp_backend_free(be);
    fg_free_data(&d);
}

DP_TEST(featgram_merge_serialize_and_resume) {
    dp_backend *be = NULL;
    dp_error err, *ep = &err;
    DP_ASSERT_OK(dp_backend_cpu_create(NULL, &be, ep), ep);
    fg_data d = fg_make(2000, 3);
    dp_featgram_config c = fg_config();
    /* Uninterrupted reference. */
    dp_featgram *full = fg_build(&c, &d, 100, be);
    /* Resume: 700 rows (a partial block pending), serialise, restore, continue. */
    dp_featgram *a = NULL;
    DP_ASSERT_OK(dp_featgram_create(&c, 4, fg_names, be, &a, ep), ep);
    DP_ASSERT_OK(dp_featgram_update(a, 700, d.z, d.n, d.u, d.n, ep), ep);
    dp_buf rec;
    fg_serialize(a, &rec);
    dp_featgram *b = NULL;
    size_t used = 0;
    DP_ASSERT_OK(dp_featgram_deserialize(rec.data, rec.size, be, &b, &used, ep), ep);
    DP_ASSERT_EQ_INT(used, rec.size);
    DP_ASSERT_OK(dp_featgram_update(b, 1300, d.z + 700, d.n, d.u + 700, d.n, ep), ep);
    dp_buf x, y;
    fg_serialize(full, &x);
    fg_serialize(b, &y);
    DP_ASSERT_EQ_INT(x.size, y.size);
    DP_ASSERT_MEMEQ(x.data, y.data, x.size); /* resumed == uninterrupted, bit for bit */
    dp_buf_reset(&x);
    dp_buf_reset(&y);
    /* Merge: rows [0, 700) in a, [700, 2000) in a fresh accumulator. */
    dp_featgram *rest = NULL;
    DP_ASSERT_OK(dp_featgram_create(&c, 4, fg_names, be, &rest, ep), ep);
    DP_ASSERT_OK(dp_featgram_update(rest, 1300, d.z + 700, d.n, d.u + 700, d.n, ep), ep);
    DP_ASSERT_OK(dp_featgram_merge(a, rest, ep), ep);
    DP_ASSERT_OK(dp_featgram_flush(full, ep), ep);
    DP_ASSERT_EQ_INT(dp_featgram_rows(a), 2000);
    double g1[64], g2[64];
    for (int part = 0; part < 2; part++) {
        dp_featgram_view v1, v2;
        DP_ASSERT_OK(dp_featgram_view_get(full, (dp_featgram_part) part, &v1, ep), ep);
        DP_ASSERT_OK(dp_featgram_view_get(a, (dp_featgram_part) part, &v2, ep), ep);
        for (int64_t i = 0; i < 4; i++)
            for (int64_t j = 0; j < 4; j++) {
                DP_ASSERT_EQ_INT(dp_featgram_cov_block(&v1, i, j, DP_FG_MISSING_PAIRWISE, g1),
                                 dp_featgram_cov_block(&v2, i, j, DP_FG_MISSING_PAIRWISE, g2));
                /* different block boundaries: equal to rounding */
                for (int e = 0; e < v1.f * v1.f; e++)
                    DP_ASSERT_NEAR(g1[e], g2[e], 1e-14);
            }
        /* Shadow pairs are per block: the merged accumulator has the same number of rows in
         * them up to the blocks cut at the merge point. */
        for (int64_t q = 0; q < v1.n_sets * v1.n_shadow; q++)
            DP_ASSERT_NEAR((double) v1.shadow_rows[q], (double) v2.shadow_rows[q], 0.0);
    }
    /* Different settings cannot merge. */
    dp_featgram_config c2 = c;
    c2.seed = 43;
    dp_featgram *other = NULL;
    DP_ASSERT_OK(dp_featgram_create(&c2, 4, fg_names, be, &other, ep), ep);
    DP_ASSERT_STATUS(dp_featgram_merge(a, other, ep), DP_STATE);
    dp_featgram_free(other);
    dp_buf_reset(&rec);
    dp_featgram_free(rest);
    dp_featgram_free(a);
    dp_featgram_free(b);
    dp_featgram_free(full);
    dp_backend_free(be);
    fg_free_data(&d);
}

DP_TEST(featgram_corrupt_records_refused) {
    dp_backend *be = NULL;
    dp_error err, *ep = &err;
    DP_ASSERT_OK(dp_backend_cpu_create(NULL, &be, ep), ep);
    fg_data d = fg_make(300, 4);
    dp_featgram_config c = fg_config();
    dp_featgram *g = fg_build(&c, &d, 300, be), *h = NULL;
    dp_buf rec;
    fg_serialize(g, &rec);
    int64_t live = dp_alloc_live_bytes();
    /* every byte flipped somewhere in the record is caught (CRC or a check), never a crash */
    for (size_t pos = 0; pos < rec.size; pos += 97) {
        rec.data[pos] ^= 0x5a;
        dp_status st = dp_featgram_deserialize(rec.data, rec.size, be, &h, NULL, ep);
        DP_ASSERT_TRUE(st != DP_OK);
        DP_ASSERT_TRUE(h == NULL);
        rec.data[pos] ^= 0x5a;
    }
    for (size_t cut = 0; cut < rec.size; cut += 211)
        DP_ASSERT_TRUE(dp_featgram_deserialize(rec.data, cut, be, &h, NULL, ep) != DP_OK);
    DP_ASSERT_EQ_INT(dp_alloc_live_bytes(), live);
    /* A well-formed record (valid CRC) that claims huge sizes is refused before allocating. */
    dp_buf bad;
    dp_buf_init(&bad);
    dp_serial_writer w;
    dp_sw_begin(&w, &bad, 0x47465044u, 2);
    dp_sw_u32(&w, 256);
    dp_sw_u32(&w, 256);
    dp_sw_f64(&w, 0.95);
    dp_sw_f64(&w, 6.0);
    dp_sw_u64(&w, 0);
    dp_sw_u32(&w, 1024);
    dp_sw_u32(&w, 64);
    dp_sw_u32(&w, 256); /* sketch D, m, r (off) */
    dp_sw_u32(&w, 16);
    dp_sw_u32(&w, 0);
    dp_sw_i64(&w, 3);
    for (int i = 0; i < 3; i++)
        dp_sw_str(&w, "c");
    dp_sw_u64(&w, 0);
    dp_sw_i64(&w, 10);
    dp_sw_i64(&w, 0);
    DP_ASSERT_OK(dp_sw_end(&w, ep), ep);
    int64_t peak0 = dp_alloc_live_bytes();
    dp_alloc_reset_peak();
    DP_ASSERT_STATUS(dp_featgram_deserialize(bad.data, bad.size, be, &h, NULL, ep), DP_CORRUPT);
    DP_ASSERT_CONTAINS(err.msg, "need more");
    DP_ASSERT_TRUE(dp_alloc_peak_bytes() - peak0 < 1 << 20);
    dp_buf_reset(&bad);
    dp_buf_reset(&rec);
    dp_featgram_free(g);
    dp_backend_free(be);
    fg_free_data(&d);
}

DP_TEST(featgram_shadow_pairs_match_naive) {
    dp_backend *be = NULL;
    dp_error err, *ep = &err;
    DP_ASSERT_OK(dp_backend_cpu_create(NULL, &be, ep), ep);
    const int64_t n = 700; /* blocks of 256, 256, 188 */
    fg_data d = fg_make(n, 5);
    dp_featgram_config c = fg_config();
    c.shadow_columns = 4;
    dp_featgram *g = fg_build(&c, &d, 50, be);
    DP_ASSERT_OK(dp_featgram_flush(g, ep), ep);
    dp_featgram_view v;
    DP_ASSERT_OK(dp_featgram_view_get(g, DP_FG_HSIC, &v, ep), ep);
    DP_ASSERT_EQ_INT(v.n_sets, 2);
    DP_ASSERT_EQ_INT(v.n_shadow, 4);
    const int64_t f = v.f;
    double *F = malloc(sizeof(double) * (size_t) (n * f * 4));
    for (int64_t i = 0; i < 4; i++)
        dp_mercer_fill(dp_featgram_mercer(g), d.z + i * n, n, dp_featgram_mercer(g)->pilot,
                       F + i * f * n, n);
    for (int64_t q = 0; q < 8; q++) {
        const int64_t i = v.shadow_col[q % 4], j = v.shadow_partner[q];
        DP_ASSERT_EQ_INT(i, q % 4);
        DP_ASSERT_EQ_INT(j, q < 4 ? i : (i + 1) % 4);
        long double X[64] = {0};
        int64_t rows = 0, obs = 0;
        for (int64_t start = 0; start < n; start += 256) {
            const int64_t r = DP_MIN(256, n - start), L = r / 3;
            for (int64_t t = 0; t < r; t++) {
                int64_t tj = (t + L) % r;
                for (int64_t b = 0; b < f; b++)
                    for (int64_t a = 0; a < f; a++)
                        X[a + b * f] += (long double) F[start + t + (i * f + a) * n] *
                                        F[start + tj + (j * f + b) * n];
                obs += !isnan(d.z[start + t + i * n]) && !isnan(d.z[start + tj + j * n]);
            }
            rows += r;
        }
        DP_ASSERT_EQ_INT(v.shadow_rows[q], rows);
        DP_ASSERT_EQ_INT(v.shadow_obs[q], obs);
        for (int64_t e = 0; e < f * f; e++)
            DP_ASSERT_NEAR(v.shadow_S[q * f * f + e], (double) X[e], 1e-12);
    }
    free(F);
    dp_featgram_free(g);
    dp_backend_free(be);
    fg_free_data(&d);
}

DP_TEST(featgram_memory_plan_and_budget) {
    dp_featgram_config c;
    dp_featgram_config_default(&c);
    dp_featgram_plan plan;
    dp_error err, *ep = &err;
    DP_ASSERT_OK(dp_featgram_estimate(300, &c, &plan, ep), ep);
    DP_ASSERT_EQ_INT(plan.matrix_bytes, 8LL * (3000LL * 3000 + 6000LL * 6000));
    DP_ASSERT_TRUE(plan.buffer_bytes > 8LL * 1024 * 9000); /* at least the staging blocks */
    DP_ASSERT_EQ_INT(plan.total_bytes, plan.matrix_bytes + plan.buffer_bytes);
    DP_ASSERT_OK(dp_featgram_check_budget(&plan, 0, 1000000, ep), ep);
    DP_ASSERT_OK(dp_featgram_check_budget(&plan, plan.total_bytes, 1000000, ep), ep);
    DP_ASSERT_STATUS(dp_featgram_check_budget(&plan, plan.total_bytes - 1, 1000000, ep), DP_LIMIT);
    DP_ASSERT_CONTAINS(err.msg, "--nonlinear-rows");
    DP_ASSERT_CONTAINS(err.msg, "--max-memory-gb");
    DP_ASSERT_CONTAINS(err.msg, "300 columns");
    /* A zero weight removes that part from the plan. */
    c.m = 0;
    DP_ASSERT_OK(dp_featgram_estimate(300, &c, &plan, ep), ep);
    DP_ASSERT_EQ_INT(plan.matrix_bytes, 8LL * 6000 * 6000);
    c.k = 0;
    DP_ASSERT_STATUS(dp_featgram_estimate(300, &c, &plan, ep), DP_INVALID_ARG);
    /* The accumulator's own size agrees with the plan (without the p x p result matrices and
     * the lazily allocated missing-value buffers). */
    dp_featgram_config_default(&c);
    dp_backend *be = NULL;
    DP_ASSERT_OK(dp_backend_cpu_create(NULL, &be, ep), ep);
    char *names[20];
    for (int i = 0; i < 20; i++) {
        names[i] = malloc(16);
        snprintf(names[i], 16, "c%d", i);
    }
    dp_featgram *g = NULL;
    DP_ASSERT_OK(dp_featgram_create(&c, 20, (const char *const *) names, be, &g, ep), ep);
    DP_ASSERT_OK(dp_featgram_estimate(20, &c, &plan, ep), ep);
    DP_ASSERT_TRUE(dp_featgram_sizeof(g) >= plan.matrix_bytes);
    DP_ASSERT_TRUE(dp_featgram_sizeof(g) <= plan.total_bytes);
    /* A checkpoint record holds the serialised accumulator; pass 4 plans its size with
     * dp_featgram_record_bound, which must cover it, here empty... */
    dp_buf rec;
    dp_buf_init(&rec);
    DP_ASSERT_OK(dp_featgram_serialize(g, &rec, ep), ep);
    DP_ASSERT_TRUE((int64_t) rec.size >= plan.matrix_bytes / 2);
    DP_ASSERT_TRUE((int64_t) rec.size <= dp_featgram_record_bound(&plan, 20 * 3));
    /* ... and bounded by half the matrices plus the buffers, not the whole plan again. */
    DP_ASSERT_TRUE(dp_featgram_record_bound(&plan, 60) <
                   plan.matrix_bytes / 2 + plan.buffer_bytes + (1 << 20));
    /* ... and with missing values (T), shadows and pending rows of a partial staging block. */
    fg_data d = fg_make(700, 5);
    dp_featgram_config c2 = fg_config();
    dp_featgram *g2 = fg_build(&c2, &d, 333, be);
    dp_featgram_plan plan2;
    DP_ASSERT_OK(dp_featgram_estimate(4, &c2, &plan2, ep), ep);
    rec.size = 0;
    DP_ASSERT_OK(dp_featgram_serialize(g2, &rec, ep), ep);
    DP_ASSERT_TRUE((int64_t) rec.size <= dp_featgram_record_bound(&plan2, 2 + 2 + 5 + 5));
    dp_featgram_free(g2);
    fg_free_data(&d);
    dp_buf_reset(&rec);
    plan.checkpoint_bytes = dp_featgram_record_bound(&plan, 60);
    plan.total_bytes += plan.checkpoint_bytes;
    DP_ASSERT_STATUS(dp_featgram_check_budget(&plan, plan.total_bytes - 1, 1000000, ep), DP_LIMIT);
    DP_ASSERT_CONTAINS(err.msg, "checkpoint record");
    DP_ASSERT_CONTAINS(err.msg, "--no-checkpoint");
    dp_featgram_free(g);
    for (int i = 0; i < 20; i++)
        free(names[i]);
    dp_backend_free(be);
}

DP_TEST(featgram_row_sample_rule) {
    dp_rowsel s;
    dp_rowsel_init(&s, 9, 1000000, 100000);
    int64_t cnt = 0;
    for (int64_t r = 0; r < 1000000; r++)
        cnt += dp_rowsel_keep(&s, r);
    /* Binomial(1e6, 0.1): sd 300; 5 sd */
    DP_ASSERT_NEAR((double) cnt, 100000.0, 1500.0);
    /* stateless: the same decision in any order, another seed gives another sample */
    dp_rowsel s2;
    dp_rowsel_init(&s2, 10, 1000000, 100000);
    int64_t same = 0;
    for (int64_t r = 999999; r >= 0; r -= 7) {
        DP_ASSERT_EQ_INT(dp_rowsel_keep(&s, r), dp_rowsel_keep(&s, r));
        same += dp_rowsel_keep(&s, r) && dp_rowsel_keep(&s2, r);
    }
    DP_ASSERT_TRUE(same < 3000); /* independent samples overlap in ~1 % of the rows visited */
    dp_rowsel_init(&s, 9, 1000, 1000);
    DP_ASSERT_TRUE(s.all && dp_rowsel_keep(&s, 999));
    dp_rowsel_init(&s, 9, 1000, 0);
    for (int64_t r = 0; r < 1000; r++)
        DP_ASSERT_TRUE(!dp_rowsel_keep(&s, r));
}

DP_TEST(featgram_invalid_inputs_and_alloc_failures) {
    dp_backend *be = NULL;
    dp_error err, *ep = &err;
    DP_ASSERT_OK(dp_backend_cpu_create(NULL, &be, ep), ep);
    dp_featgram_config c = fg_config();
    dp_featgram *g = NULL;
    DP_ASSERT_STATUS(dp_featgram_create(&c, 0, fg_names, be, &g, ep), DP_INVALID_ARG);
    DP_ASSERT_STATUS(dp_featgram_create(&c, 4, NULL, be, &g, ep), DP_INVALID_ARG);
    DP_ASSERT_STATUS(dp_featgram_create(&c, 4, fg_names, NULL, &g, ep), DP_INVALID_ARG);
    c.block_rows = 0;
    DP_ASSERT_STATUS(dp_featgram_create(&c, 4, fg_names, be, &g, ep), DP_INVALID_ARG);
    c = fg_config();
    c.s = -1;
    DP_ASSERT_STATUS(dp_featgram_create(&c, 4, fg_names, be, &g, ep), DP_INVALID_ARG);
    c = fg_config();
    DP_ASSERT_OK(dp_featgram_create(&c, 4, fg_names, be, &g, ep), ep);
    double z[8] = {0};
    DP_ASSERT_STATUS(dp_featgram_update(g, 8, NULL, 8, z, 8, ep), DP_INVALID_ARG);
    DP_ASSERT_STATUS(dp_featgram_update(g, 8, z, 4, z, 8, ep), DP_INVALID_ARG);
    DP_ASSERT_STATUS(dp_featgram_update(g, -1, z, 8, z, 8, ep), DP_INVALID_ARG);
    dp_featgram_free(g);
    /* Allocation failures at every point of create and of the first missing-value block. */
    fg_data d = fg_make(600, 6);
    int64_t live = dp_alloc_live_bytes(), n_nomem = 0;
    for (int64_t k = 1; k < 60; k++) {
        g = NULL;
        dp_alloc_fail_after(k);
        dp_status st = dp_featgram_create(&c, 4, fg_names, be, &g, ep);
        if (st == DP_OK)
            st = dp_featgram_update(g, 600, d.z, d.n, d.u, d.n, ep);
        dp_alloc_fail_after(0);
        DP_ASSERT_TRUE(st == DP_OK || st == DP_NOMEM);
        n_nomem += st == DP_NOMEM;
        dp_featgram_free(g);
        DP_ASSERT_EQ_INT(dp_alloc_live_bytes(), live);
    }
    DP_ASSERT_CMP_INT(n_nomem, >=, 20); /* create alone makes more than 20 allocations */
    fg_free_data(&d);
    dp_backend_free(be);
}

DP_TEST(featgram_column_draws_do_not_depend_on_selection) {
    dp_backend *be = NULL;
    dp_error err, *ep = &err;
    DP_ASSERT_OK(dp_backend_cpu_create(NULL, &be, ep), ep);
    fg_data d = fg_make(1000, 7);
    dp_featgram_config c = fg_config();
    dp_featgram *g4 = fg_build(&c, &d, 1000, be);
    /* Columns {sin3x, x} only, in that order. */
    const char *const names2[2] = {"sin3x", "x"};
    double *z2 = malloc(sizeof(double) * 2000), *u2 = malloc(sizeof(double) * 2000);
    memcpy(z2, d.z + 3 * 1000, sizeof(double) * 1000);
    memcpy(z2 + 1000, d.z, sizeof(double) * 1000);
    memcpy(u2, d.u + 3 * 1000, sizeof(double) * 1000);
    memcpy(u2 + 1000, d.u, sizeof(double) * 1000);
    dp_featgram *g2 = NULL;
    DP_ASSERT_OK(dp_featgram_create(&c, 2, names2, be, &g2, ep), ep);
    DP_ASSERT_OK(dp_featgram_update(g2, 1000, z2, 1000, u2, 1000, ep), ep);
    const double *w4, *b4, *p4, *w2, *b2, *p2;
    DP_ASSERT_TRUE(dp_featgram_rdc_draws(g4, 3, &w4, &b4, &p4));
    DP_ASSERT_TRUE(dp_featgram_rdc_draws(g2, 0, &w2, &b2, &p2));
    DP_ASSERT_MEMEQ(w4, w2, sizeof(double) * (size_t) c.k);
    DP_ASSERT_MEMEQ(b4, b2, sizeof(double) * (size_t) c.k);
    DP_ASSERT_OK(dp_featgram_flush(g4, ep), ep);
    DP_ASSERT_OK(dp_featgram_flush(g2, ep), ep);
    dp_featgram_view v4, v2;
    DP_ASSERT_OK(dp_featgram_view_get(g4, DP_FG_RDC, &v4, ep), ep);
    DP_ASSERT_OK(dp_featgram_view_get(g2, DP_FG_RDC, &v2, ep), ep);
    double a[64], b[64];
    dp_featgram_cov_block(&v4, 3, 0, DP_FG_MISSING_PAIRWISE, a);
    dp_featgram_cov_block(&v2, 0, 1, DP_FG_MISSING_PAIRWISE, b);
    /* Same features and rows; BLAS may sum in another order for another matrix shape. */
    for (int e = 0; e < c.k * c.k; e++)
        DP_ASSERT_NEAR(a[e], b[e], 1e-14);
    free(z2);
    free(u2);
    dp_featgram_free(g4);
    dp_featgram_free(g2);
    dp_backend_free(be);
    fg_free_data(&d);
}

/* The CUDA backend's host-side parts, in every build (no GPU needed): the per-value math the
 * kernels run (backend/cuda/dp_cuda_math.h) against the CPU implementations it restates, the flat
 * layout of the uploaded models, the device memory plan and its refusal, error translation, the
 * --gpu refusal, and the raw-state access of dp_gram / dp_featgram through which device sums reach
 * the host accumulators (including the device's convention for rows missing in every column). */
#include "accum/dp_featgram.h"
#include "accum/dp_gram.h"
#include "backend/cuda/dp_cuda.h"
#include "backend/cuda/dp_cuda_host.h"
#include "backend/cuda/dp_cuda_math.h"
#include "dp_test.h"
#include "transform/dp_copula.h"
#include "transform/dp_nlfeatures.h"
#include "transform/dp_normal.h"
#include "util/dp_alloc.h"
#include "util/dp_rng.h"

static void chf_fit(const double *x, int64_t n, int32_t exact_distinct, dp_marginal_fit *fit) {
    dp_marginal m;
    dp_error err;
    DP_ASSERT_OK(dp_marginal_init(&m, exact_distinct, DP_KLL_K_DEFAULT, 7, &err), &err);
    DP_ASSERT_OK(dp_marginal_update(&m, x, (size_t) n, &err), &err);
    dp_marginal_fit_init(fit);
    DP_ASSERT_OK(dp_marginal_fit_build(&m, fit, &err), &err);
    dp_marginal_reset(&m);
}

/* Three columns: a table (ties), a sketch (continuous), an empty model (all missing). */
enum { CH_N = 4000, CH_P = 3 };
typedef struct ch_models {
    double x[CH_P][CH_N];
    dp_marginal_fit fit[CH_P];
} ch_models;

static void ch_models_make(ch_models *d) {
    dp_rng r;
    dp_rng_seed(&r, 11);
    for (int i = 0; i < CH_N; i++) {
        d->x[0][i] = i % 13 == 0 ? NAN : (double) dp_rng_below(&r, 30) - 7.0;
        d->x[1][i] = i % 29 == 0 ? NAN : dp_rng_normal(&r) * 3.0 + 1e3;
        d->x[2][i] = NAN;
    }
    chf_fit(d->x[0], CH_N, 4096, &d->fit[0]);
    chf_fit(d->x[1], CH_N, 64, &d->fit[1]); /* > 64 distinct values: a KLL sketch */
    chf_fit(d->x[2], CH_N, 4096, &d->fit[2]);
    DP_ASSERT_EQ_INT(d->fit[0].kind, DP_MARGINAL_TABLE);
    DP_ASSERT_EQ_INT(d->fit[1].kind, DP_MARGINAL_SKETCH);
    DP_ASSERT_EQ_INT(d->fit[2].kind, DP_MARGINAL_EMPTY);
}

static void ch_models_free(ch_models *d) {
    for (int j = 0; j < CH_P; j++)
        dp_marginal_fit_reset(&d->fit[j]);
}

/* Probe values for column j: every data value, midpoints, beyond both ends, NaN, +-Inf, 0. */
static int64_t ch_probes(const ch_models *d, int j, double *out, int64_t cap) {
    int64_t n = 0;
    for (int i = 0; i < CH_N && n + 4 < cap; i += 3) {
        out[n++] = d->x[j][i];
        if (i + 1 < CH_N && !isnan(d->x[j][i]) && !isnan(d->x[j][i + 1]))
            out[n++] = 0.5 * (d->x[j][i] + d->x[j][i + 1]);
    }
    const double extra[] = {-1e300, 1e300, NAN, INFINITY, -INFINITY, 0.0, -0.0, 1e3, -7.0};
    for (size_t e = 0; e < DP_ARRAY_LEN(extra) && n < cap; e++)
        out[n++] = extra[e];
    const dp_marginal_fit *f = &d->fit[j];
    for (int64_t i = 0; i < f->n_knots && n + 2 < cap; i += 5) {
        out[n++] = f->values[i];
        out[n++] = nextafter(f->values[i], INFINITY);
    }
    return n;
}

DP_TEST(cuda_host_transform_matches_cpu) {
    /* dp_cm_transform on the flat models must give dp_copula_value's bits for every method and
     * model kind: it is the same arithmetic (knot lookup, interpolation, Acklam's inverse). */
    ch_models *d = dp_malloc(sizeof *d);
    ch_models_make(d);
    double *probe = dp_mallocarray(8192, sizeof(double));
    const struct {
        dp_copula_method m;
        bool clip;
    } cases[] = {{DP_COPULA_SPEARMAN, false},
                 {DP_COPULA_GAUSSIAN, false},
                 {DP_COPULA_UNIFORM_RDC, false},
                 {DP_COPULA_PEARSON, false},
                 {DP_COPULA_PEARSON, true}};
    dp_error err;
    int64_t compared = 0;
    for (size_t c = 0; c < DP_ARRAY_LEN(cases); c++) {
        dp_copula_col tr[CH_P];
        for (int j = 0; j < CH_P; j++) {
            dp_copula_col_init(&tr[j]);
            DP_ASSERT_OK(dp_copula_col_prepare(&tr[j], cases[c].m, &d->fit[j], cases[c].clip,
                                               -3.0 + j, 12.0 + 1000 * j, &err),
                         &err);
        }
        const dp_copula_col *trs[1] = {tr};
        dp_cuda_flat fl;
        dp_cuda_flat_init(&fl);
        DP_ASSERT_OK(dp_cuda_flat_build(&fl, CH_P, 1, trs, &err), &err);
        for (int j = 0; j < CH_P; j++) {
            int64_t n = ch_probes(d, j, probe, 8192);
            for (int64_t i = 0; i < n; i++) {
                double cpu = dp_copula_value(&tr[j], probe[i]);
                double dev =
                    dp_cm_transform(&fl.cols[j], fl.values, fl.u0, fl.slope, fl.kv, probe[i]);
                DP_ASSERT_BITS_EQ(dev, cpu);
                compared++;
            }
        }
        dp_cuda_flat_reset(&fl);
        for (int j = 0; j < CH_P; j++)
            dp_copula_col_reset(&tr[j]);
    }
    DP_ASSERT_CMP_INT(compared, >, 10000);
    dp_free(probe);
    ch_models_free(d);
    dp_free(d);
}

DP_TEST(cuda_host_missing_count_matches_cpu) {
    /* The host counts the device's missing values while staging a batch: per column, the
     * non-finite transformed values, from the raw NaN / non-finite counts. */
    ch_models *d = dp_malloc(sizeof *d);
    ch_models_make(d);
    double v[64];
    dp_rng r;
    dp_rng_seed(&r, 5);
    for (int i = 0; i < 64; i++) {
        int kind = (int) dp_rng_below(&r, 5);
        v[i] = kind == 0 ? NAN : kind == 1 ? INFINITY : kind == 2 ? -INFINITY : dp_rng_normal(&r);
    }
    int64_t nan = 0, nonfin = 0;
    for (int i = 0; i < 64; i++) {
        nan += isnan(v[i]);
        nonfin += !isfinite(v[i]);
    }
    const dp_copula_method ms[] = {DP_COPULA_SPEARMAN, DP_COPULA_GAUSSIAN, DP_COPULA_UNIFORM_RDC,
                                   DP_COPULA_PEARSON};
    dp_error err;
    for (size_t mi = 0; mi < DP_ARRAY_LEN(ms); mi++)
        for (int clip = 0; clip < 2; clip++)
            for (int j = 0; j < CH_P; j++) {
                dp_copula_col tr;
                dp_copula_col_init(&tr);
                DP_ASSERT_OK(dp_copula_col_prepare(&tr, ms[mi], &d->fit[j], clip, -1, 1, &err),
                             &err);
                const dp_copula_col *trs[1] = {&tr};
                dp_cuda_flat fl;
                dp_cuda_flat_init(&fl);
                DP_ASSERT_OK(dp_cuda_flat_build(&fl, 1, 1, trs, &err), &err);
                int64_t expect = 0;
                for (int i = 0; i < 64; i++)
                    expect += !isfinite(dp_copula_value(&tr, v[i]));
                DP_ASSERT_EQ_INT(dp_cm_missing_count(&fl.cols[0], 64, nan, nonfin), expect);
                dp_cuda_flat_reset(&fl);
                dp_copula_col_reset(&tr);
            }
    ch_models_free(d);
    dp_free(d);
}

DP_TEST(cuda_host_ppf_fast_matches_cpu) {
    /* Acklam's approximation restated for the device: the same bits as dp_norm_ppf_fast over
     * both tails, the centre and the edge cases. */
    int64_t n = 0;
    for (double e = -300; e <= -1; e += 0.25) {
        double p = pow(10.0, e);
        DP_ASSERT_BITS_EQ(dp_cm_ppf_fast(p), dp_norm_ppf_fast(p));
        DP_ASSERT_BITS_EQ(dp_cm_ppf_fast(1.0 - p), dp_norm_ppf_fast(1.0 - p));
        n += 2;
    }
    for (int i = 0; i <= 100000; i++) {
        double p = (double) i / 100000.0;
        DP_ASSERT_BITS_EQ(dp_cm_ppf_fast(p), dp_norm_ppf_fast(p));
        n++;
    }
    const double edge[] = {0.02425, nextafter(0.02425, 0), 0.5, nextafter(0.5, 1), -0.1, 1.1, NAN};
    for (size_t i = 0; i < DP_ARRAY_LEN(edge); i++)
        DP_ASSERT_BITS_EQ(dp_cm_ppf_fast(edge[i]), dp_norm_ppf_fast(edge[i]));
    DP_ASSERT_CMP_INT(n, >, 100000);
}

DP_TEST(cuda_host_mercer_matches_cpu) {
    /* The device's Mercer row (recurrence, envelope, pilot shift, NaN -> 0) against
     * dp_mercer_fill with shift = pilot, bit for bit, for several m. */
    const int32_t ms[] = {1, 2, 3, 10, 40};
    dp_error err;
    enum { NZ = 2001 };
    double *z = dp_mallocarray(NZ, sizeof(double));
    for (int t = 0; t < NZ; t++)
        z[t] = t == 0 ? NAN : t == 1 ? 60.0 : t == 2 ? -1e300 : -10.0 + 20.0 * t / (NZ - 1);
    for (size_t c = 0; c < DP_ARRAY_LEN(ms); c++) {
        dp_mercer mf;
        DP_ASSERT_OK(dp_mercer_init(&mf, ms[c], DP_MERCER_SIGMA_DEFAULT, &err), &err);
        const int32_t m = ms[c];
        double *cpu = dp_mallocarray((size_t) (NZ * m), sizeof(double));
        double *dev = dp_mallocarray((size_t) (NZ * m), sizeof(double));
        dp_mercer_fill(&mf, z, NZ, mf.pilot, cpu, NZ);
        dp_cm_mercer cm = {m, mf.c_minus_a, mf.sqrt_2c, mf.coef, mf.rec_a, mf.rec_b, mf.pilot};
        for (int t = 0; t < NZ; t++)
            dp_cm_mercer_row(&cm, z[t], mf.pilot, dev + t, NZ);
        for (int64_t e = 0; e < (int64_t) NZ * m; e++)
            DP_ASSERT_BITS_EQ(dev[e], cpu[e]);
        for (int32_t k = 0; k < m; k++) /* a missing row is exactly 0 after the shift */
            DP_ASSERT_BITS_EQ(dev[0 + k * NZ], 0.0);
        dp_free(cpu);
        dp_free(dev);
    }
    dp_free(z);
}

DP_TEST(cuda_host_rdc_matches_cpu) {
    /* The device's sine features against dp_rdc_fill (same draws from dp_rdc_draw), bit for
     * bit: the branch-free sine, the clamp of u, NaN -> pilot - shift, and libm's sin for
     * arguments beyond 1e5 (a huge scale s). */
    enum { K = 20, NU = 3001 };
    const double scales[] = {DP_RDC_S_DEFAULT, 0.3, 900.0};
    double *u = dp_mallocarray(NU, sizeof(double));
    for (int t = 0; t < NU; t++)
        u[t] = t == 0 ? NAN : t == 1 ? -0.5 : t == 2 ? 1.5 : (double) (t - 3) / (NU - 4);
    double w[K], b[K], pil[K];
    double *cpu = dp_mallocarray((size_t) NU * K, sizeof(double));
    for (size_t c = 0; c < DP_ARRAY_LEN(scales); c++) {
        dp_rdc_draw(42, "SlogP_VSA1", K, scales[c], w, b);
        if (scales[c] > 100)
            w[0] = 2e5; /* |w| + |b| > 1e5: the libm path */
        dp_rdc_pilot(w, b, K, pil);
        dp_rdc_fill(w, b, pil, K, u, NU, pil, cpu, NU);
        for (int j = 0; j < K; j++)
            for (int t = 0; t < NU; t++)
                DP_ASSERT_BITS_EQ(dp_cm_rdc_value(w[j], b[j], pil[j], pil[j], u[t]),
                                  cpu[t + j * NU]);
    }
    for (double x = -1e5; x <= 1e5; x += 97.3) /* the kernel alone, as dp__sin_fast */
        DP_ASSERT_BITS_EQ(dp_cm_sin_kernel(x), dp__sin_fast(x));
    dp_free(cpu);
    dp_free(u);
}

DP_TEST(cuda_host_flat_layout) {
    /* The models of all columns one after another: offsets are the running knot counts, the
     * knots and counts are the fits', each transform has its own knot values over the same
     * knots, an empty model has no knots. */
    ch_models *d = dp_malloc(sizeof *d);
    ch_models_make(d);
    dp_error err;
    dp_copula_col ga[CH_P], un[CH_P];
    for (int j = 0; j < CH_P; j++) {
        dp_copula_col_init(&ga[j]);
        dp_copula_col_init(&un[j]);
        DP_ASSERT_OK(
            dp_copula_col_prepare(&ga[j], DP_COPULA_GAUSSIAN, &d->fit[j], false, 0, 0, &err), &err);
        DP_ASSERT_OK(
            dp_copula_col_prepare(&un[j], DP_COPULA_UNIFORM_RDC, &d->fit[j], false, 0, 0, &err),
            &err);
    }
    const dp_copula_col *trs[2] = {ga, un};
    dp_cuda_flat fl;
    dp_cuda_flat_init(&fl);
    DP_ASSERT_OK(dp_cuda_flat_build(&fl, CH_P, 2, trs, &err), &err);
    int64_t off = 0;
    for (int j = 0; j < CH_P; j++) {
        const dp_marginal_fit *f = &d->fit[j];
        int64_t m = f->kind == DP_MARGINAL_EMPTY ? 0 : f->n_knots;
        for (int t = 0; t < 2; t++) {
            const dp_cm_col *c = &fl.cols[t * CH_P + j];
            DP_ASSERT_EQ_INT(c->off, off);
            DP_ASSERT_EQ_INT(c->m, m);
            DP_ASSERT_EQ_INT(c->method, t == 0 ? DP_CM_GAUSSIAN : DP_CM_UNIFORM);
            DP_ASSERT_BITS_EQ(c->n, (double) f->n);
        }
        for (int64_t i = 0; i < m; i++) {
            DP_ASSERT_BITS_EQ(fl.values[off + i], f->values[i]);
            DP_ASSERT_BITS_EQ(fl.u0[off + i], ga[j].u0[i]);
            DP_ASSERT_BITS_EQ(fl.slope[off + i], un[j].slope[i]); /* per fit, not per method */
            DP_ASSERT_BITS_EQ(fl.kv[off + i], ga[j].knot_value[i]);
            DP_ASSERT_BITS_EQ(fl.kv[fl.n_knots + off + i], un[j].knot_value[i]);
        }
        off += m;
    }
    DP_ASSERT_EQ_INT(fl.n_knots, off);
    DP_ASSERT_CMP_INT(fl.n_knots, >, 30);
    /* transforms of one column on different fits are refused */
    const dp_copula_col *bad[2] = {ga, un};
    dp_copula_col swapped[CH_P];
    for (int j = 0; j < CH_P; j++)
        swapped[j] = un[(j + 1) % 2];
    bad[1] = swapped;
    dp_cuda_flat fl2;
    dp_cuda_flat_init(&fl2);
    DP_ASSERT_STATUS(dp_cuda_flat_build(&fl2, 2, 2, bad, &err), DP_INVALID_ARG);
    DP_ASSERT_CONTAINS(err.msg, "different pass-1 fits");
    dp_cuda_flat_reset(&fl2);
    dp_cuda_flat_reset(&fl);
    for (int j = 0; j < CH_P; j++) {
        dp_copula_col_reset(&ga[j]);
        dp_copula_col_reset(&un[j]);
    }
    ch_models_free(d);
    dp_free(d);
}

/* Items of a plan must tile the arena: aligned, in order, not overlapping. */
static void ch_check_tiling(const dp_cuda_plan *pl) {
    int64_t end = 0;
    for (int i = 0; i < pl->n_items; i++) {
        DP_ASSERT_EQ_INT(pl->item[i].offset % DP_CUDA_ALIGN, 0);
        DP_ASSERT_CMP_INT(pl->item[i].offset, >=, end);
        end = pl->item[i].offset + pl->item[i].bytes;
    }
    DP_ASSERT_CMP_INT(pl->device_bytes, >=, end);
    DP_ASSERT_CMP_INT(pl->device_bytes - end, <, DP_CUDA_ALIGN);
}

DP_TEST(cuda_host_plan_gram) {
    /* Pass 2 at p = 1000, 2048-row blocks, 8192-row slots, 50,000 knots: a naive sum of what the
     * accumulator allocates (five p x p float64 matrices with pairwise missing values; one with
     * impute; plus float32 copies for fp32). */
    const int64_t p = 1000, b = 2048, slot = 8192, knots = 50000;
    dp_cuda_gram_shape s = {p, true, b, DP_CUDA_FP64, slot, knots};
    dp_cuda_plan pl;
    dp_cuda_plan_gram(&s, &pl);
    DP_ASSERT_EQ_INT(pl.n_items, DP_CUDA_G_N_ITEMS);
    DP_ASSERT_TRUE(!pl.overflow);
    ch_check_tiling(&pl);
    int64_t naive = 5 * p * p * 8 + 4 * p * 8 + 3 * b * p * 8 + 2 * p * 4 + 3 * slot * p * 8 +
                    p * (int64_t) sizeof(dp_cm_col) + 4 * knots * 8;
    int64_t sum = 0;
    for (int i = 0; i < pl.n_items; i++)
        sum += pl.item[i].bytes;
    DP_ASSERT_EQ_INT(sum, naive);
    DP_ASSERT_EQ_INT(pl.item[DP_CUDA_G_Q].bytes, p * p * 8);
    DP_ASSERT_EQ_INT(pl.item[DP_CUDA_G_ZF].bytes, 0);
    DP_ASSERT_EQ_INT(pl.pinned_bytes, 3 * slot * p * 8 + DP_CUDA_AUX_SLOTS * 2 * p * 4);
    s.pairwise = false;
    s.prec = DP_CUDA_TF32;
    dp_cuda_plan_gram(&s, &pl);
    ch_check_tiling(&pl);
    sum = 0;
    for (int i = 0; i < pl.n_items; i++)
        sum += pl.item[i].bytes;
    DP_ASSERT_EQ_INT(sum, p * p * 8 + 4 * p * 8 + b * p * 8 + 2 * p * 4 + 3 * slot * p * 8 +
                              p * (int64_t) sizeof(dp_cm_col) + 4 * knots * 8 + b * p * 4 +
                              p * p * 4);
    DP_ASSERT_EQ_INT(pl.item[DP_CUDA_G_SC].bytes, 0);
}

DP_TEST(cuda_host_plan_featgram) {
    /* Pass 4 at p = 300, m = 10, k = 20 (N = 3000 and 6000 features), 1024-row blocks, 128
     * shadow pairs: the co-moment matrices are 8 (N_h^2 + N_r^2) bytes = 360 MB. */
    const int64_t p = 300, R = 1024, slot = 16384, knots = 10000, nq = 128;
    dp_cuda_featgram_shape s = {p, 10, 20, R, nq, DP_CUDA_FP64, slot, knots};
    dp_cuda_plan pl;
    dp_cuda_plan_featgram(&s, &pl);
    DP_ASSERT_EQ_INT(pl.n_items, DP_CUDA_F_N_ITEMS);
    ch_check_tiling(&pl);
    DP_ASSERT_EQ_INT(pl.item[DP_CUDA_F_S].bytes, 3000ll * 3000 * 8);
    DP_ASSERT_EQ_INT(pl.item[DP_CUDA_F_PART_ITEMS + DP_CUDA_F_S].bytes, 6000ll * 6000 * 8);
    int64_t naive = 0;
    for (int part = 0; part < 2; part++) {
        int64_t f = part == 0 ? 10 : 20, N = p * f;
        naive += N * N * 8 + 2 * N * 8 + 2 * N * p * 8 + 2 * p * p * 8 + R * p * 8 + R * N * 8 +
                 R * p + nq * (f * f + 1) * 8;
    }
    naive += 3 * slot * p * 8 + 2 * p * (int64_t) sizeof(dp_cm_col) + 5 * knots * 8 +
             (4 * 10 + 3 * p * 20) * 8 + (4 * p + 2 * nq) * 4;
    int64_t sum = 0;
    for (int i = 0; i < pl.n_items; i++)
        sum += pl.item[i].bytes;
    DP_ASSERT_EQ_INT(sum, naive);
    /* a part that is off takes nothing */
    s.m = 0;
    dp_cuda_plan_featgram(&s, &pl);
    for (int i = 0; i < DP_CUDA_F_PART_ITEMS; i++)
        DP_ASSERT_EQ_INT(pl.item[i].bytes, 0);
}

DP_TEST(cuda_host_plan_refused_up_front) {
    /* Over the budget: LIMIT naming the need, the largest item, the option and the hint; within
     * it: OK; what earlier accumulators hold counts; free memory caps an explicit budget; an
     * overflowing shape is LIMIT too. p = 20000: each p x p matrix is 2.98 GiB, five of them plus
     * blocks and the ring ~17 GiB. */
    dp_cuda_gram_shape s = {20000, true, 512, DP_CUDA_FP64, 4096, 1000};
    dp_cuda_plan pl;
    dp_cuda_plan_gram(&s, &pl);
    const int64_t GiB = 1ll << 30;
    DP_ASSERT_CMP_INT(pl.device_bytes, >, 16 * GiB);
    DP_ASSERT_CMP_INT(pl.device_bytes, <, 18 * GiB);
    char need[64];
    snprintf(need, sizeof need, "needs %.2f GiB", (double) pl.device_bytes / (double) GiB);
    dp_error err;
    DP_ASSERT_STATUS(dp_cuda_plan_check(&pl, 10 * GiB, 80 * GiB, 0, "use fewer columns", &err),
                     DP_LIMIT);
    DP_ASSERT_CONTAINS(err.msg, "pass 2 (correlation) on the GPU");
    DP_ASSERT_CONTAINS(err.msg, need);
    DP_ASSERT_CONTAINS(err.msg, "correlation sums Z'Z 2.98 GiB");
    DP_ASSERT_CONTAINS(err.msg, "--max-gpu-memory-gb");
    DP_ASSERT_CONTAINS(err.msg, "use fewer columns");
    DP_ASSERT_OK(dp_cuda_plan_check(&pl, 20 * GiB, 80 * GiB, 0, NULL, &err), &err);
    DP_ASSERT_STATUS(dp_cuda_plan_check(&pl, 20 * GiB, 80 * GiB, 4 * GiB, NULL, &err), DP_LIMIT);
    DP_ASSERT_CONTAINS(err.msg, "what earlier accumulators hold");
    DP_ASSERT_STATUS(dp_cuda_plan_check(&pl, 100 * GiB, 15 * GiB, 0, NULL, &err), DP_LIMIT);
    DP_ASSERT_CONTAINS(err.msg, "the free device memory");
    dp_cuda_featgram_shape fs = {(int64_t) 1 << 40, 256, 256, 1024, 128, DP_CUDA_FP64, 1, 1};
    dp_cuda_plan_featgram(&fs, &pl);
    DP_ASSERT_TRUE(pl.overflow);
    DP_ASSERT_STATUS(dp_cuda_plan_check(&pl, 100 * GiB, 100 * GiB, 0, NULL, &err), DP_LIMIT);
    char text[4096];
    dp_cuda_plan_gram(&s, &pl);
    dp_cuda_plan_format(&pl, text, sizeof text);
    DP_ASSERT_CONTAINS(text, "missing pair counts W'W");
    snprintf(need, sizeof need, "device total %.2f GiB", (double) pl.device_bytes / (double) GiB);
    DP_ASSERT_CONTAINS(text, need);
}

DP_TEST(cuda_host_budget_and_slots) {
    const int64_t GiB = 1ll << 30;
    DP_ASSERT_EQ_INT(dp_cuda_budget_bytes(0, 100 * GiB), 90 * GiB);
    DP_ASSERT_EQ_INT(dp_cuda_budget_bytes(2.5, 100 * GiB), 5 * GiB / 2);
    DP_ASSERT_EQ_INT(dp_cuda_budget_bytes(0, -1), 0);
    /* 64 MiB slots: 8192 rows at p = 1000, capped by the batch, never below one block */
    DP_ASSERT_EQ_INT(dp_cuda_slot_rows(1000, 65536, 2048), 8388);
    DP_ASSERT_EQ_INT(dp_cuda_slot_rows(10, 65536, 1024), 65536);
    DP_ASSERT_EQ_INT(dp_cuda_slot_rows(100000, 65536, 512), 512);
    DP_ASSERT_EQ_INT(dp_cuda_slot_rows(10, 0, 1024), 65536);
    dp_cuda_precision pr;
    dp_error err;
    DP_ASSERT_OK(dp_cuda_precision_parse("tf32", &pr, &err), &err);
    DP_ASSERT_EQ_INT(pr, DP_CUDA_TF32);
    DP_ASSERT_STREQ(dp_cuda_precision_name(DP_CUDA_FP32), "fp32");
    DP_ASSERT_STATUS(dp_cuda_precision_parse("fp16", &pr, &err), DP_INVALID_ARG);
    DP_ASSERT_TRUE(dp_cuda_precision_abs_bound(DP_CUDA_FP64) == 0);
    DP_ASSERT_TRUE(dp_cuda_precision_abs_bound(DP_CUDA_FP32) <
                   dp_cuda_precision_abs_bound(DP_CUDA_TF32));
}

DP_TEST(cuda_host_error_translation) {
    /* The codes are the CUDA / cuBLAS enum values (asserted against the headers in CUDA
     * builds): out of memory -> NOMEM, no device / driver / kernel image -> UNSUPPORTED, the
     * rest -> BACKEND; the message names the call, the place, the code and the text. */
    dp_error err;
    dp_error_init(&err);
    DP_ASSERT_STATUS(dp_cuda_error(&err, DP_CUDA_API_RUNTIME, 2, "cudaErrorMemoryAllocation",
                                   "out of memory", "cudaMalloc(&p, n)", "/src/dp_cuda_ctx.c", 12),
                     DP_NOMEM);
    DP_ASSERT_STREQ(err.msg, "cudaMalloc(&p, n) failed at dp_cuda_ctx.c:12: CUDA error "
                             "cudaErrorMemoryAllocation (2): out of memory");
    DP_ASSERT_EQ_INT(err.status, DP_NOMEM);
    DP_ASSERT_EQ_INT(dp_cuda_status_of(DP_CUDA_API_RUNTIME, 100), DP_UNSUPPORTED);
    DP_ASSERT_EQ_INT(dp_cuda_status_of(DP_CUDA_API_RUNTIME, 35), DP_UNSUPPORTED);
    DP_ASSERT_EQ_INT(dp_cuda_status_of(DP_CUDA_API_RUNTIME, 209), DP_UNSUPPORTED);
    DP_ASSERT_EQ_INT(dp_cuda_status_of(DP_CUDA_API_RUNTIME, 700), DP_BACKEND);
    DP_ASSERT_EQ_INT(dp_cuda_status_of(DP_CUDA_API_CUBLAS, 3), DP_NOMEM);
    DP_ASSERT_EQ_INT(dp_cuda_status_of(DP_CUDA_API_CUBLAS, 15), DP_UNSUPPORTED);
    DP_ASSERT_EQ_INT(dp_cuda_status_of(DP_CUDA_API_CUBLAS, 13), DP_BACKEND);
    DP_ASSERT_STATUS(dp_cuda_error(&err, DP_CUDA_API_CUBLAS, 13, "CUBLAS_STATUS_EXECUTION_FAILED",
                                   "the GPU program failed to execute", "cublasDsyrk(...)",
                                   "dp_cuda_gram.c", 99),
                     DP_BACKEND);
    DP_ASSERT_CONTAINS(err.msg, "cuBLAS error CUBLAS_STATUS_EXECUTION_FAILED (13)");
    /* success leaves err alone */
    DP_ASSERT_STATUS(
        dp_cuda_error(&err, DP_CUDA_API_RUNTIME, 0, "cudaSuccess", "no error", "x", "y", 1), DP_OK);
    DP_ASSERT_CONTAINS(err.msg, "CUBLAS_STATUS_EXECUTION_FAILED");
}

DP_TEST(cuda_host_gpu_refusal) {
    /* --gpu without CUDA built, or with CUDA and no device: UNSUPPORTED with a message that says
     * which, and to run without --gpu. With a device (a GPU machine) device 0 is available. */
    dp_error err;
    dp_error_init(&err);
    dp_status st = dp_cuda_check_available(0, &err);
    if (!dp_cuda_built()) {
        DP_ASSERT_EQ_INT(st, DP_UNSUPPORTED);
        DP_ASSERT_CONTAINS(err.msg, "this build has no CUDA backend");
        return;
    }
    int n = 0;
    char why[256];
    DP_ASSERT_OK(dp_cuda_device_count(&n, why, sizeof why, &err), &err);
    DP_ASSERT_CONTAINS(why, "cudaGetDeviceCount");
    if (n == 0) {
        DP_ASSERT_EQ_INT(st, DP_UNSUPPORTED);
        DP_ASSERT_CONTAINS(err.msg, "no CUDA device: cudaGetDeviceCount");
        DP_ASSERT_CONTAINS(err.msg, "run without --gpu");
    } else {
        DP_ASSERT_OK(st, &err);
        DP_ASSERT_STATUS(dp_cuda_check_available(n, &err), DP_INVALID_ARG);
        DP_ASSERT_CONTAINS(err.msg, "--gpu-id");
    }
}

/* ---- raw state: what the device accumulators write into host accumulators ------------------ */

enum { RG_P = 6, RG_N = 3000 };

/* Column-major data with scattered, clustered and whole-row missing values. */
static void rg_data(double *x) {
    dp_rng r;
    dp_rng_seed(&r, 99);
    for (int i = 0; i < RG_N; i++) {
        double lat = dp_rng_normal(&r);
        for (int j = 0; j < RG_P; j++) {
            double v = lat * (0.3 + 0.1 * j) + dp_rng_normal(&r) + (j == 5 ? 50.0 : 0.0);
            if ((j == 1 && dp_rng_below(&r, 20) == 0) || (j == 2 && i >= 700 && i < 900) ||
                (j == 4 && dp_rng_below(&r, 10) < 4) || i % 97 == 0)
                v = NAN;
            x[j * RG_N + i] = j == 3 ? floor(v * 2) : v;
        }
    }
}

DP_TEST(cuda_host_gram_device_convention) {
    /* The device accumulates per block the dense sums of dp_gram.h (Z'Z, z and z^2 sums, Z'W,
     * (Z.Z)'W, W'W) over ALL rows, rows missing in every column included. Restated naively here
     * block by block and written into a host gram through dp__gram_raw_*, the correlation must
     * equal the CPU accumulator's: the all-missing rows cancel in every pair count. Tolerance:
     * both sum ~3000 products in different orders (relative ~1e-15); 1e-12 as tests/gpu. */
    double *x = dp_mallocarray(RG_P * RG_N, sizeof(double));
    rg_data(x);
    double K[RG_P] = {0, 0, 0, 0, 0, 50};
    dp_backend *be = NULL;
    dp_error err;
    DP_ASSERT_OK(dp_backend_cpu_create(NULL, &be, &err), &err);
    dp_gram_options go = {.missing = DP_GRAM_PAIRWISE, .block_rows = 512};
    dp_gram *cpu = NULL, *dev = NULL;
    DP_ASSERT_OK(dp_gram_create(RG_P, K, &go, be, &cpu, &err), &err);
    DP_ASSERT_OK(dp_gram_create(RG_P, K, &go, be, &dev, &err), &err);
    DP_ASSERT_OK(dp_gram_update_rows(cpu, x, RG_N, RG_N, 0, &err), &err);
    double Rc[RG_P * RG_P], Rd[RG_P * RG_P];
    DP_ASSERT_OK(dp_gram_finalize(cpu, Rc, &err), &err);
    dp_gram_stats gs;
    dp_gram_get_stats(cpu, &gs);
    DP_ASSERT_CMP_INT(gs.rows_all_missing, >, 0);
    dp__gram_raw raw;
    DP_ASSERT_OK(dp__gram_raw_get(dev, true, &raw, &err), &err);
    const int p = RG_P;
    for (int b0 = 0; b0 < RG_N; b0 += 512) {
        int rows = DP_MIN(512, RG_N - b0);
        for (int t = b0; t < b0 + rows; t++) {
            double z[RG_P], w[RG_P];
            for (int j = 0; j < p; j++) {
                double v = x[j * RG_N + t];
                w[j] = isnan(v) ? 1.0 : 0.0;
                z[j] = isnan(v) ? 0.0 : v - K[j];
                raw.nmiss[j] += isnan(v) ? 1 : 0;
                raw.zs[j] += z[j];
                raw.zq[j] += z[j] * z[j];
            }
            for (int j = 0; j < p; j++)
                for (int i = 0; i < p; i++) {
                    if (i <= j) {
                        raw.Q[j * p + i] += z[i] * z[j];
                        raw.Nc[j * p + i] += w[i] * w[j];
                    }
                    raw.Sc[j * p + i] += z[i] * w[j];
                    raw.SSc[j * p + i] += z[i] * z[i] * w[j];
                }
        }
        raw.n += rows;
    }
    raw.rows_seen = RG_N;
    raw.next_row = RG_N;
    DP_ASSERT_OK(dp__gram_raw_commit(dev, &raw, &err), &err);
    DP_ASSERT_OK(dp_gram_finalize(dev, Rd, &err), &err);
    for (int e = 0; e < p * p; e++)
        DP_ASSERT_REL(Rd[e], Rc[e], 1e-12, 1.0);
    /* inconsistent counts are refused */
    raw.blk_rows = 600;
    DP_ASSERT_STATUS(dp__gram_raw_commit(dev, &raw, &err), DP_CORRUPT);
    dp_gram_free(cpu);
    dp_gram_free(dev);
    dp_backend_free(be);
    dp_free(x);
}

DP_TEST(cuda_host_gram_raw_roundtrip) {
    /* Store / load through the raw state, pending block included: a copy of A's state into a
     * fresh B (as a device's store would) continues bit for bit like A. */
    double *x = dp_mallocarray(RG_P * RG_N, sizeof(double));
    rg_data(x);
    double K[RG_P] = {0, 0, 0, 0, 0, 50};
    dp_backend *be = NULL;
    dp_error err;
    DP_ASSERT_OK(dp_backend_cpu_create(NULL, &be, &err), &err);
    dp_gram_options go = {.missing = DP_GRAM_PAIRWISE, .block_rows = 512};
    dp_gram *a = NULL, *b = NULL;
    DP_ASSERT_OK(dp_gram_create(RG_P, K, &go, be, &a, &err), &err);
    DP_ASSERT_OK(dp_gram_create(RG_P, K, &go, be, &b, &err), &err);
    const int64_t half = 1300; /* not a block boundary: 276 rows pending */
    DP_ASSERT_OK(dp_gram_update_rows(a, x, RG_N, half, 0, &err), &err);
    dp__gram_raw ra, rb;
    DP_ASSERT_OK(dp__gram_raw_get(a, false, &ra, &err), &err);
    DP_ASSERT_TRUE(ra.Sc != NULL);
    DP_ASSERT_EQ_INT(ra.blk_rows, half - 1024);
    DP_ASSERT_OK(dp__gram_raw_get(b, true, &rb, &err), &err);
    const size_t pp = RG_P * RG_P;
    memcpy(rb.Q, ra.Q, pp * 8);
    memcpy(rb.Sc, ra.Sc, pp * 8);
    memcpy(rb.SSc, ra.SSc, pp * 8);
    memcpy(rb.Nc, ra.Nc, pp * 8);
    memcpy(rb.zs, ra.zs, RG_P * 8);
    memcpy(rb.zq, ra.zq, RG_P * 8);
    memcpy(rb.nmiss, ra.nmiss, RG_P * 8);
    for (int j = 0; j < RG_P; j++)
        memcpy(rb.blk + j * 512, ra.blk + j * 512, (size_t) ra.blk_rows * 8);
    rb.n = ra.n;
    rb.rows_seen = ra.rows_seen;
    rb.next_row = ra.next_row;
    rb.blk_index = ra.blk_index;
    rb.blk_rows = ra.blk_rows;
    DP_ASSERT_OK(dp__gram_raw_commit(b, &rb, &err), &err);
    DP_ASSERT_OK(dp_gram_update_rows(a, x + half, RG_N, RG_N - half, half, &err), &err);
    DP_ASSERT_OK(dp_gram_update_rows(b, x + half, RG_N, RG_N - half, half, &err), &err);
    double Ra[RG_P * RG_P], Rb[RG_P * RG_P];
    DP_ASSERT_OK(dp_gram_finalize(a, Ra, &err), &err);
    DP_ASSERT_OK(dp_gram_finalize(b, Rb, &err), &err);
    for (size_t e = 0; e < pp; e++)
        DP_ASSERT_BITS_EQ(Rb[e], Ra[e]);
    dp_gram_free(a);
    dp_gram_free(b);
    dp_backend_free(be);
    dp_free(x);
}

DP_TEST(cuda_host_featgram_raw_roundtrip) {
    /* The same for the pass-4 accumulator: every array (co-moments, sums, missing-value sums,
     * shadow pairs, pending feature rows and flags) copied into a fresh accumulator through the
     * raw state continues bit for bit like the original. */
    enum { P = 5, N = 700 };
    double *z = dp_mallocarray(P * N, sizeof(double)), *u = dp_mallocarray(P * N, sizeof(double));
    dp_rng r;
    dp_rng_seed(&r, 4);
    for (int i = 0; i < P * N; i++) {
        bool miss = dp_rng_below(&r, 9) == 0;
        z[i] = miss ? NAN : dp_rng_normal(&r);
        u[i] = miss ? NAN : dp_rng_uniform(&r);
    }
    const char *names[P] = {"a", "b", "c", "d", "e"};
    dp_featgram_config c;
    dp_featgram_config_default(&c);
    c.m = 3;
    c.k = 4;
    c.block_rows = 64;
    c.shadow_columns = 4;
    dp_backend *be = NULL;
    dp_error err;
    DP_ASSERT_OK(dp_backend_cpu_create(NULL, &be, &err), &err);
    dp_featgram *a = NULL, *b = NULL;
    DP_ASSERT_OK(dp_featgram_create(&c, P, names, be, &a, &err), &err);
    DP_ASSERT_OK(dp_featgram_create(&c, P, names, be, &b, &err), &err);
    const int64_t half = 300; /* 44 rows pending */
    DP_ASSERT_OK(dp_featgram_update(a, half, z, N, u, N, &err), &err);
    dp__featgram_raw ra, rb;
    DP_ASSERT_OK(dp__featgram_raw_get(a, false, &ra, &err), &err);
    DP_ASSERT_EQ_INT(ra.fill, half % 64);
    DP_ASSERT_OK(dp__featgram_raw_get(b, true, &rb, &err), &err);
    const int64_t nq = (int64_t) ra.n_sets * ra.n_shadow;
    DP_ASSERT_CMP_INT(nq, >, 0);
    for (int pi = 0; pi < 2; pi++) {
        const int64_t f = pi == 0 ? c.m : c.k, Nf = P * f;
        dp__featgram_raw_part *s = &ra.part[pi], *d = &rb.part[pi];
        DP_ASSERT_TRUE(s->T != NULL);
        memcpy(d->S, s->S, (size_t) (Nf * Nf) * 8);
        memcpy(d->s, s->s, (size_t) Nf * 8);
        memcpy(d->T, s->T, (size_t) (Nf * P) * 8);
        memcpy(d->MM, s->MM, P * P * 8);
        memcpy(d->miss, s->miss, P * 8);
        memcpy(d->shS, s->shS, (size_t) (nq * f * f) * 8);
        memcpy(d->sh_rows, s->sh_rows, (size_t) nq * 8);
        memcpy(d->sh_obs, s->sh_obs, (size_t) nq * 8);
        memcpy(d->G, s->G, (size_t) (64 * Nf) * 8);
        memcpy(d->mis, s->mis, 64 * P);
        memcpy(d->blk_miss, s->blk_miss, P * 8);
    }
    rb.n_rows = ra.n_rows;
    rb.fill = ra.fill;
    DP_ASSERT_OK(dp__featgram_raw_commit(b, &rb, &err), &err);
    DP_ASSERT_OK(dp_featgram_update(a, N - half, z + half, N, u + half, N, &err), &err);
    DP_ASSERT_OK(dp_featgram_update(b, N - half, z + half, N, u + half, N, &err), &err);
    DP_ASSERT_OK(dp_featgram_flush(a, &err), &err);
    DP_ASSERT_OK(dp_featgram_flush(b, &err), &err);
    for (int pi = 0; pi < 2; pi++) {
        dp_featgram_view va, vb;
        DP_ASSERT_OK(dp_featgram_view_get(a, (dp_featgram_part) pi, &va, &err), &err);
        DP_ASSERT_OK(dp_featgram_view_get(b, (dp_featgram_part) pi, &vb, &err), &err);
        DP_ASSERT_EQ_INT(vb.n, va.n);
        DP_ASSERT_MEMEQ(vb.S, va.S, (size_t) (va.N * va.N) * 8);
        DP_ASSERT_MEMEQ(vb.s, va.s, (size_t) va.N * 8);
        DP_ASSERT_MEMEQ(vb.T, va.T, (size_t) (va.N * P) * 8);
        DP_ASSERT_MEMEQ(vb.MM, va.MM, P * P * 8);
        DP_ASSERT_MEMEQ(vb.miss, va.miss, P * 8);
        DP_ASSERT_MEMEQ(vb.shadow_S, va.shadow_S, (size_t) (nq * va.f * va.f) * 8);
        DP_ASSERT_MEMEQ(vb.shadow_obs, va.shadow_obs, (size_t) nq * 8);
        DP_ASSERT_MEMEQ(vb.shadow_rows, va.shadow_rows, (size_t) nq * 8);
    }
    rb.fill = 64;
    DP_ASSERT_STATUS(dp__featgram_raw_commit(b, &rb, &err), DP_CORRUPT);
    dp_featgram_free(a);
    dp_featgram_free(b);
    dp_backend_free(be);
    dp_free(z);
    dp_free(u);
}

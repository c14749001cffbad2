/* bench_nonlinear: throughput of the Pass-4 accumulation (features + feature-block co-moments)
 * and of the per-pair measures, against a plain syrk on the same shapes.
 *
 *   bench_nonlinear [--rows N] [--cols P] [--threads T] [--quick]
 *
 * Defaults: 1,000,000 rows x 300 columns, m = 10 Mercer and k = 20 sine features, i.e.
 * (3000)^2 + (6000)^2 co-moment matrices (--quick: 100,000 rows). The data are synthetic and in
 * memory: one 16,384-row batch of normal scores z and copula values u (every fifth column a
 * function of its neighbour), fed repeatedly; generating it is not timed.
 * Cases:
 *   syrk-peak   the backend's syrk_tn on the accumulator's own shapes (N = p*m and p*k, 1024
 *               rows per call, beta = 1), the machine's attainable rate for this work
 *   features    dp_mercer_fill + dp_rdc_fill of every row (no accumulation)
 *   accumulate  dp_featgram_update over all rows + flush: everything the scan does per row
 *   measures    dp_nonlinear_compute: HSIC, RDC (W_i once per column, sigma_max per pair), S and
 *               the null level, with --threads worker threads
 * Columns: wall seconds, CPU seconds (all threads), rows/s (pairs/s for measures), GFLOP/s of
 * the syrk work (rows x ((p m)^2 + (p k)^2)) per wall second and per CPU second, and the
 * latter as a share of syrk-peak's (on a shared machine wall time includes other processes).
 */
#include "accum/dp_featgram.h"
#include "backend/dp_backend.h"
#include "passes/dp_nonlinear.h"
#include "transform/dp_normal.h"
#include "util/dp_alloc.h"
#include "util/dp_rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

/* flops: the syrk work of the case (0 = none). Rates per wall second and per CPU second (the
 * latter is the fairer one on a shared machine); peak_cpu: syrk-peak's rate per CPU second. */
static double row(const char *name, double wall, double cpu, double rate, const char *unit,
                  double flops, double peak_cpu) {
    printf("%-12s %9.2f s wall %9.2f s cpu %12.0f %-7s", name, wall, cpu, rate, unit);
    double per_cpu = flops > 0 && cpu > 0 ? flops / cpu * 1e-9 : 0;
    if (flops > 0)
        printf(" %8.1f GFLOP/s %8.1f GFLOP/cpu-s", flops / wall * 1e-9, per_cpu);
    if (flops > 0 && peak_cpu > 0)
        printf(" %5.1f %% of syrk-peak", 100.0 * per_cpu / peak_cpu);
    printf("\n");
    fflush(stdout);
    return per_cpu;
}

static int fail(const char *what, const dp_error *err) {
    fprintf(stderr, "bench_nonlinear: %s: %s\n", what, err->msg);
    return 1;
}

int main(int argc, char **argv) {
    int64_t rows = 1000000, p = 300;
    int threads = 2;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--rows") == 0 && a + 1 < argc)
            rows = atoll(argv[++a]);
        else if (strcmp(argv[a], "--cols") == 0 && a + 1 < argc)
            p = atoll(argv[++a]);
        else if (strcmp(argv[a], "--threads") == 0 && a + 1 < argc)
            threads = atoi(argv[++a]);
        else if (strcmp(argv[a], "--quick") == 0)
            rows = 100000;
        else {
            fprintf(stderr, "usage: bench_nonlinear [--rows N] [--cols P] [--threads T] "
                            "[--quick]\n");
            return 2;
        }
    }
    if (rows < 1 || p < 2 || p > 100000) {
        fprintf(stderr, "bench_nonlinear: bad sizes\n");
        return 2;
    }
    dp_error err;
    dp_backend *be = NULL;
    if (dp_backend_cpu_create(NULL, &be, &err) != DP_OK)
        return fail("backend", &err);
    dp_featgram_config cfg;
    dp_featgram_config_default(&cfg);
    const int64_t B = 16384, R = cfg.block_rows;
    const int64_t Nh = p * cfg.m, Nr = p * cfg.k;
    printf("bench_nonlinear: %lld rows x %lld columns, m = %d, k = %d: co-moments %lld^2 + "
           "%lld^2 doubles (%.2f GB), %lld-row blocks, backend %s (%s)\n",
           (long long) rows, (long long) p, (int) cfg.m, (int) cfg.k, (long long) Nh,
           (long long) Nr, 8.0 * (double) (Nh * Nh + Nr * Nr) / 1073741824.0, (long long) R,
           be->name, dp_backend_cpu_describe());

    /* synthetic batch */
    double *z = dp_mallocarray((size_t) (B * p), sizeof(double));
    double *u = dp_mallocarray((size_t) (B * p), sizeof(double));
    char **names = dp_calloc((size_t) p, sizeof(char *));
    if (z == NULL || u == NULL || names == NULL) {
        fprintf(stderr, "bench_nonlinear: out of memory\n");
        return 1;
    }
    dp_rng rng;
    dp_rng_seed(&rng, 1);
    for (int64_t i = 0; i < p; i++) {
        names[i] = dp_malloc(24);
        snprintf(names[i], 24, "desc_%lld", (long long) i);
        for (int64_t t = 0; t < B; t++) {
            double v = i % 5 == 4 ? sin(3 * z[t + (i - 1) * B]) * 1.2 + 0.3 * dp_rng_normal(&rng)
                                  : dp_rng_normal(&rng);
            z[t + i * B] = v;
            u[t + i * B] = dp_norm_cdf(v);
        }
    }

    /* syrk-peak: the accumulator's shapes, beta = 1, 1024 rows per call */
    double peak = 0;
    {
        double *A = dp_calloc((size_t) (R * Nr), sizeof(double));
        double *C = dp_calloc((size_t) (Nr * Nr), sizeof(double));
        if (A == NULL || C == NULL) {
            fprintf(stderr, "bench_nonlinear: out of memory\n");
            return 1;
        }
        for (int64_t x = 0; x < R * Nr; x++)
            A[x] = sin((double) x);
        const int reps = 6;
        double flops = 0, t0 = now(), c0 = cpu_now();
        for (int r = 0; r < reps; r++) {
            if (be->syrk_tn(be, Nh, R, 1.0, A, R, 1.0, C, Nh, &err) != DP_OK ||
                be->syrk_tn(be, Nr, R, 1.0, A, R, 1.0, C, Nr, &err) != DP_OK)
                return fail("syrk", &err);
            flops += (double) R * (double) (Nh * Nh + Nr * Nr);
        }
        double wall = now() - t0;
        peak = row("syrk-peak", wall, cpu_now() - c0, reps * R / wall, "rows/s", flops, 0);
        dp_free(A);
        dp_free(C);
    }

    /* features only */
    {
        dp_mercer mf;
        if (dp_mercer_init(&mf, cfg.m, cfg.sigma, &err) != DP_OK)
            return fail("mercer", &err);
        double *F = dp_mallocarray((size_t) (B * DP_MAX(cfg.m, cfg.k)), sizeof(double));
        double *w = dp_mallocarray((size_t) (p * cfg.k), sizeof(double));
        double *b = dp_mallocarray((size_t) (p * cfg.k), sizeof(double));
        double *pl = dp_mallocarray((size_t) (p * cfg.k), sizeof(double));
        if (F == NULL || w == NULL || b == NULL || pl == NULL)
            return 1;
        for (int64_t i = 0; i < p; i++) {
            dp_rdc_draw(cfg.seed, names[i], cfg.k, cfg.s, w + i * cfg.k, b + i * cfg.k);
            dp_rdc_pilot(w + i * cfg.k, b + i * cfg.k, cfg.k, pl + i * cfg.k);
        }
        double t0 = now(), c0 = cpu_now(), sink = 0;
        for (int64_t done = 0; done < rows; done += B) {
            int64_t nr = DP_MIN(B, rows - done);
            for (int64_t i = 0; i < p; i++) {
                dp_mercer_fill(&mf, z + i * B, nr, mf.pilot, F, B);
                sink += F[0];
                dp_rdc_fill(w + i * cfg.k, b + i * cfg.k, pl + i * cfg.k, cfg.k, u + i * B, nr,
                            pl + i * cfg.k, F, B);
                sink += F[1];
            }
        }
        double wall = now() - t0;
        row("features", wall, cpu_now() - c0, (double) rows / wall, "rows/s", 0, 0);
        if (sink == 12345.678)
            printf("(sink)\n");
        dp_free(F);
        dp_free(w);
        dp_free(b);
        dp_free(pl);
    }

    /* accumulate */
    dp_featgram *g = NULL;
    dp_featgram_plan plan;
    if (dp_featgram_estimate(p, &cfg, &plan, &err) != DP_OK)
        return fail("plan", &err);
    if (dp_featgram_create(&cfg, p, (const char *const *) names, be, &g, &err) != DP_OK)
        return fail("create", &err);
    {
        double t0 = now(), c0 = cpu_now();
        for (int64_t done = 0; done < rows; done += B) {
            int64_t nr = DP_MIN(B, rows - done);
            if (dp_featgram_update(g, nr, z, B, u, B, &err) != DP_OK)
                return fail("update", &err);
        }
        if (dp_featgram_flush(g, &err) != DP_OK)
            return fail("flush", &err);
        double wall = now() - t0;
        double fl = (double) rows * (double) (Nh * Nh + Nr * Nr);
        row("accumulate", wall, cpu_now() - c0, (double) rows / wall, "rows/s", fl, peak);
        printf("             accumulator %.2f GB (plan %.2f GB: %.2f matrices + %.2f buffers)\n",
               (double) dp_featgram_sizeof(g) / 1073741824.0,
               (double) plan.total_bytes / 1073741824.0, (double) plan.matrix_bytes / 1073741824.0,
               (double) plan.buffer_bytes / 1073741824.0);
    }

    /* measures */
    {
        dp_nonlinear_options opt;
        dp_nonlinear_options_default(&opt);
        opt.threads = threads;
        dp_nonlinear_result res;
        dp_nonlinear_result_init(&res);
        double t0 = now(), c0 = cpu_now();
        if (dp_nonlinear_compute(g, &opt, &res, &err) != DP_OK)
            return fail("measures", &err);
        double wall = now() - t0;
        double pairs = 0.5 * (double) p * (double) (p - 1);
        row("measures", wall, cpu_now() - c0, pairs / wall, "pairs/s", 0, 0);
        printf("             null level: HSIC %.3g, RDC %.4f (%lld shadow pairs); "
               "S(0,4) = %.3f, S(0,1) = %.4f\n",
               res.null_hsic.mean, res.null_rdc.mean, (long long) res.null_rdc.n_samples,
               res.sim[3 + 4 * p], res.sim[0 + 1 * p]);
        dp_nonlinear_result_reset(&res);
    }
    dp_featgram_free(g);
    for (int64_t i = 0; i < p; i++)
        dp_free(names[i]);
    dp_free(names);
    dp_free(z);
    dp_free(u);
    dp_backend_free(be);
    return 0;
}

/* Pass-1 accumulator throughput on an in-memory batch stream (no Parquet decoding): rows/s and
 * GB/s of dp_colstats_update, single thread, and where the time goes (moments vs marginal
 * models, then finalize).
 *
 *   bench_colstats [rows=1000000] [cols=200] [batch_rows=50000]   (rows: a multiple of
 *   batch_rows)
 *
 * Mixes: "continuous" (every column N(mu_j, sd_j): > 4096 distinct values, KLL sketches),
 * "table" (every column small integers 0..(1 + j % 40): exact tables), "mixed" (half each, plus
 * 5 % NaN in every fourth column). Two distinct batches are generated and cycled with increasing
 * row offsets, so the stream is `rows` rows long without holding it all in memory.
 */
#include "accum/dp_colstats.h"
#include "util/dp_rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Thread CPU time: the machine this was written on is shared, and wall time there measures the
 * other tenants (the wall time of the whole update is printed too). */
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double) t.tv_sec + 1e-9 * (double) t.tv_nsec;
}

static double wall(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double) t.tv_sec + 1e-9 * (double) t.tv_nsec;
}

static void fill(dp_batch *b, int mix, uint64_t seed) {
    dp_rng r;
    dp_rng_seed(&r, seed);
    for (int64_t j = 0; j < b->n_cols; j++) {
        double *x = dp_batch_col(b, j);
        int table = mix == 1 || (mix == 2 && j % 2 == 1);
        double mu = (double) (j % 13) * 100.0, sd = 1.0 + (double) (j % 7);
        for (int64_t i = 0; i < b->n_rows; i++) {
            if (table)
                x[i] = (double) dp_rng_below(&r, (uint64_t) (2 + j % 40));
            else
                x[i] = mu + sd * dp_rng_normal(&r);
            if (mix == 2 && j % 4 == 0 && dp_rng_uniform(&r) < 0.05)
                x[i] = NAN;
        }
        b->counts[j] = (dp_batch_counts){0, 0, 0, 0};
        dp_batch_normalize_column(b, j);
    }
}

int main(int argc, char **argv) {
    int64_t rows = argc > 1 ? atoll(argv[1]) : 1000000;
    int64_t cols = argc > 2 ? atoll(argv[2]) : 200;
    int64_t brows = argc > 3 ? atoll(argv[3]) : 50000;
    if (brows < 1 || rows < brows)
        return 2;
    rows -= rows % brows;
    const char *names[] = {"continuous", "table", "mixed"};
    dp_error err;
    printf("rows %lld, cols %lld, batch %lld rows, single thread\n", (long long) rows,
           (long long) cols, (long long) brows);
    for (int mix = 0; mix < 3; mix++) {
        dp_batch b[2];
        for (int k = 0; k < 2; k++) {
            if (dp_batch_init(&b[k], brows, cols, &err) != DP_OK) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            b[k].n_rows = brows;
            fill(&b[k], mix, 10 + (uint64_t) k);
        }
        /* 1. the accumulator as Pass 1 uses it */
        dp_colstats *cs = NULL;
        if (dp_colstats_create(&cs, cols, NULL, &err) != DP_OK)
            return 1;
        double t0 = now(), w0 = wall();
        for (int64_t r0 = 0, k = 0; r0 < rows; r0 += brows, k++) {
            dp_batch *bt = &b[k % 2];
            bt->row_offset = r0;
            if (dp_colstats_update(cs, bt, &err) != DP_OK) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
        }
        double t_all = now() - t0, w_all = wall() - w0;
        dp_colstats_result res;
        t0 = now();
        if (dp_colstats_finalize(cs, &res, &err) != DP_OK)
            return 1;
        double t_fin = now() - t0;
        size_t mem = dp_colstats_sizeof(cs);
        dp_colstats_result_reset(&res);
        dp_colstats_free(cs);
        /* 2. moments alone, 3. marginal models alone, over the same stream */
        dp_moments *m = calloc((size_t) cols, sizeof *m);
        dp_marginal *mg = calloc((size_t) cols, sizeof *mg);
        for (int64_t j = 0; j < cols; j++) {
            dp_moments_init(&m[j]);
            if (dp_marginal_init(&mg[j], DP_MARGINAL_EXACT_DISTINCT_DEFAULT, DP_KLL_K_DEFAULT,
                                 (uint64_t) j, &err) != DP_OK)
                return 1;
        }
        double t_mom = 0, t_marg = 0;
        for (int64_t r0 = 0, k = 0; r0 < rows; r0 += brows, k++) {
            dp_batch *bt = &b[k % 2];
            bt->row_offset = r0;
            t0 = now();
            for (int64_t j = 0; j < cols; j++)
                if (dp_moments_update(&m[j], dp_batch_col(bt, j), bt->n_rows, r0, &bt->counts[j],
                                      &err) != DP_OK)
                    return 1;
            double t1 = now();
            for (int64_t j = 0; j < cols; j++)
                if (dp_marginal_update(&mg[j], dp_batch_col(bt, j), (size_t) bt->n_rows, &err) !=
                    DP_OK)
                    return 1;
            t_mom += t1 - t0;
            t_marg += now() - t1;
        }
        for (int64_t j = 0; j < cols; j++)
            dp_marginal_reset(&mg[j]);
        free(m);
        free(mg);
        double cells = (double) rows * (double) cols;
        /* 4. reference: one plain read of every value (4-lane sum), the least any consumer of
         * the batches does; ratios to it are comparable across machines and loads. */
        double sink = 0;
        t0 = now();
        for (int64_t r0 = 0, k = 0; r0 < rows; r0 += brows, k++) {
            const dp_batch *bt = &b[k % 2];
            for (int64_t j = 0; j < cols; j++) {
                const double *x = dp_batch_col(bt, j);
                double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                for (int64_t i = 0; i + 4 <= bt->n_rows; i += 4) {
                    a0 += x[i];
                    a1 += x[i + 1];
                    a2 += x[i + 2];
                    a3 += x[i + 3];
                }
                sink += (a0 + a1) + (a2 + a3);
            }
        }
        double t_read = now() - t0;
        printf("%-10s update %.3f s CPU (%.3f s wall), %.3g rows/s, %.2f GB/s, %.2f ns/value "
               "[moments %.2f, marginal %.2f, plain read %.2f ns/value%s] finalize %.3f s, state "
               "%.1f MB\n",
               names[mix], t_all, w_all, (double) rows / t_all, 8 * cells / t_all / 1e9,
               1e9 * t_all / cells, 1e9 * t_mom / cells, 1e9 * t_marg / cells, 1e9 * t_read / cells,
               sink == 0.5 ? "!" : "", t_fin, (double) mem / 1e6);
        dp_batch_reset(&b[0]);
        dp_batch_reset(&b[1]);
    }
    return 0;
}

/* bench_gpu: the pass-2 and pass-4 scans of `dpipe run` (dp__p2_matrix, dp__p4_measures: the
 * production code) on the CPU and on the GPU backend, on the same Parquet data, plus the decode
 * rate and cuBLAS / transfer peaks measured in the same process. bench/gpu_check.sh drives it.
 *
 *   bench_gpu [--cases LIST] [--threads T] [--gpu-id N] [--cpu-rows N] [--gpu-rows N] INPUT...
 *
 * Pass 1 runs once (CPU) for the marginal models; its kept columns are the columns of every case.
 * Cases (comma-separated, in this order; default "decode,p2-cpu,p2-gpu,peak2"):
 *   decode       a scan that only decodes (the host's Parquet decode rate)
 *   p2-cpu       pass 2 (Spearman, pairwise) on the CPU backend
 *   p2-gpu, p2-gpu-fp32, p2-gpu-tf32   pass 2 on the GPU (--precision), compared with p2-cpu
 *   p4-cpu       pass 4 (HSIC + RDC) on the CPU with --nonlinear-rows = --cpu-rows
 *   p4-check     pass 4 on the GPU with the same rows as p4-cpu, compared with it
 *   p4-gpu, p4-gpu-fp32   pass 4 on the GPU with --nonlinear-rows = --gpu-rows
 *   peak2, peak4 cuBLAS DSYRK / SSYRK / TF32 GEMM on the accumulators' shapes, and pinned H2D
 * Output: one line per case, `key=value` pairs: case, rows, cols, seconds, rows_per_s, gflops
 * (the main products' flops n(n+1)k per second of wall time), for GPU cases busy_s, span_s,
 * gpu_wait_pct (share of the scan the GPU waited for batches), h2d_gbps, host_wait_s, stage_s,
 * gflops_busy (per second of GPU busy time), and max_diff against the CPU case when both ran.
 * Seconds of the pass-4 cases include the measures (dp_nonlinear_compute, same work on both).
 */
#include "accum/dp_gram.h"
#include "backend/cuda/dp_cuda.h"
#include "pipeline/dp_passes_run.h"
#include "util/dp_alloc.h"
#include "util/dp_log.h"
#include "util/dp_progress.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct bench {
    const char *const *inputs;
    int n_inputs;
    int threads, gpu_id;
    int64_t cpu_rows, gpu_rows;
    dp__inputs in;
    dp__models models;
    char **names;
    int64_t p;
    int64_t total_rows;
    double *R_cpu; /* p2-cpu result */
    dp_nonlinear_result nl_cpu;
    bool have_nl_cpu;
} bench;

static int fail(const char *what, dp_error *err) {
    fprintf(stderr, "bench_gpu: %s: %s\n", what, err->msg);
    return 1;
}

static dp_status make_cfg(const bench *b, bool gpu, const char *prec, int64_t nl_rows,
                          dp_config **out, dp_error *err) {
    char buf[64];
    DP_TRY(dp_config_create(out, err));
    dp_config *c = *out;
    snprintf(buf, sizeof buf, "%d", b->threads);
    DP_TRY(dp_config_set(c, "threads", buf, err));
    DP_TRY(dp_config_set(c, "n-metadata", "1", err));
    if (gpu) {
        DP_TRY(dp_config_set(c, "gpu", "true", err));
        snprintf(buf, sizeof buf, "%d", b->gpu_id);
        DP_TRY(dp_config_set(c, "gpu-id", buf, err));
        DP_TRY(dp_config_set(c, "precision", prec, err));
    }
    if (nl_rows > 0) {
        snprintf(buf, sizeof buf, "%lld", (long long) nl_rows);
        DP_TRY(dp_config_set(c, "nonlinear-rows", buf, err));
    }
    return DP_OK;
}

static void print_stats(const dp_cuda_stats *s) {
    double wait = s->span_s > 0 ? 100.0 * (1.0 - s->busy_s / s->span_s) : 0;
    printf(" busy_s=%.3f span_s=%.3f gpu_wait_pct=%.1f h2d_gbps=%.2f host_wait_s=%.3f "
           "stage_s=%.3f gflops_busy=%.1f",
           s->busy_s, s->span_s, wait < 0 ? 0 : wait,
           s->h2d_s > 0 ? (double) s->h2d_bytes / s->h2d_s / 1e9 : 0.0, s->wait_s, s->stage_s,
           s->busy_s > 0 ? s->flops / s->busy_s / 1e9 : 0.0);
}

static double max_abs_diff(const double *a, const double *b, int64_t n) {
    double m = 0;
    for (int64_t e = 0; e < n; e++) {
        if (isnan(a[e]) != isnan(b[e]))
            return INFINITY;
        if (!isnan(a[e]))
            m = fmax(m, fabs(a[e] - b[e]));
    }
    return m;
}

static int case_decode(bench *b) {
    dp_error err;
    dp_config *cfg = NULL;
    dp_scan *scan = NULL;
    if (make_cfg(b, false, NULL, 0, &cfg, &err) != DP_OK)
        return fail("decode", &err);
    int32_t *cols = NULL;
    if (dp__cols_by_name(b->in.ds, (const char *const *) b->names, b->p, &cols, &err) != DP_OK)
        return fail("decode", &err);
    dp_scan_options so;
    dp__scan_options(cfg, &so);
    double t0 = dp_now(), sum = 0;
    int64_t rows = 0;
    dp_status st = dp_scan_open(b->in.ds, cols, (int32_t) b->p, &so, &scan, &err);
    while (st == DP_OK) {
        const dp_batch *bt;
        st = dp_scan_next(scan, &bt, &err);
        if (st != DP_OK || bt == NULL)
            break;
        rows += bt->n_rows;
        sum += bt->values[0];
    }
    double sec = dp_now() - t0;
    dp_scan_free(scan);
    dp_free(cols);
    dp_config_free(cfg);
    if (st != DP_OK)
        return fail("decode", &err);
    printf("case=decode rows=%lld cols=%lld seconds=%.3f rows_per_s=%.0f values_per_s=%.3g "
           "checksum=%g\n",
           (long long) rows, (long long) b->p, sec, rows / sec, (double) rows * b->p / sec, sum);
    return 0;
}

static int case_p2(bench *b, const char *name, bool gpu, const char *prec) {
    dp_error err;
    dp_config *cfg = NULL;
    dp__env env;
    if (make_cfg(b, gpu, prec, 0, &cfg, &err) != DP_OK || dp__env_open(&env, cfg, &err) != DP_OK)
        return fail(name, &err);
    double *R = dp_mallocarray((size_t) (b->p * b->p), sizeof(double));
    double t0 = dp_now();
    dp_status st = dp__p2_matrix(&env, b->in.ds, (const char *const *) b->names, b->p, &b->models,
                                 DP_COPULA_SPEARMAN, NULL, R, &err);
    double sec = dp_now() - t0;
    if (st != DP_OK) {
        dp__env_close(&env);
        return fail(name, &err);
    }
    double flops = (double) b->p * (double) (b->p + 1) * (double) b->total_rows;
    printf("case=%s prec=%s rows=%lld cols=%lld seconds=%.3f rows_per_s=%.0f gflops=%.1f", name,
           gpu ? prec : "fp64", (long long) b->total_rows, (long long) b->p, sec,
           b->total_rows / sec, flops / sec / 1e9);
    if (gpu) {
        dp_cuda_stats s;
        dp_cuda_last_stats(env.cuda, 2, &s);
        print_stats(&s);
    }
    if (!gpu) {
        dp_free(b->R_cpu);
        b->R_cpu = R;
        R = NULL;
    } else if (b->R_cpu != NULL) {
        printf(" max_diff=%.3g", max_abs_diff(R, b->R_cpu, b->p * b->p));
    }
    printf("\n");
    fflush(stdout);
    dp_free(R);
    dp__env_close(&env);
    dp_config_free(cfg);
    return 0;
}

static int case_p4(bench *b, const char *name, bool gpu, const char *prec, int64_t nl_rows) {
    dp_error err;
    dp_config *cfg = NULL;
    dp__env env;
    if (make_cfg(b, gpu, prec, nl_rows, &cfg, &err) != DP_OK ||
        dp__env_open(&env, cfg, &err) != DP_OK)
        return fail(name, &err);
    dp_nonlinear_result res;
    dp_nonlinear_result_init(&res);
    int64_t used = 0;
    double t0 = dp_now();
    dp_status st = dp__p4_measures(&env, b->in.ds, (const char *const *) b->names, b->p, &b->models,
                                   dp__hsic_estimator(cfg), dp_config_double(cfg, "w-hsic"),
                                   dp_config_double(cfg, "w-rdc"), NULL, &res, &used, &err);
    double sec = dp_now() - t0;
    if (st != DP_OK) {
        dp__env_close(&env);
        return fail(name, &err);
    }
    const double Nh = (double) b->p * 10, Nr = (double) b->p * 20;
    double flops = (Nh * (Nh + 1) + Nr * (Nr + 1)) * (double) used;
    printf("case=%s prec=%s rows=%lld cols=%lld seconds=%.3f rows_per_s=%.0f gflops=%.1f", name,
           gpu ? prec : "fp64", (long long) used, (long long) b->p, sec, used / sec,
           flops / sec / 1e9);
    if (gpu) {
        dp_cuda_stats s;
        dp_cuda_last_stats(env.cuda, 4, &s);
        print_stats(&s);
    }
    if (!gpu) {
        if (b->have_nl_cpu)
            dp_nonlinear_result_reset(&b->nl_cpu);
        b->nl_cpu = res;
        b->have_nl_cpu = true;
        dp_nonlinear_result_init(&res);
    } else if (b->have_nl_cpu && b->nl_cpu.n_rows == res.n_rows && res.hsic && res.rdc) {
        printf(" max_diff_hsic=%.3g max_diff_rdc=%.3g",
               max_abs_diff(res.hsic, b->nl_cpu.hsic, b->p * b->p),
               max_abs_diff(res.rdc, b->nl_cpu.rdc, b->p * b->p));
    }
    printf("\n");
    fflush(stdout);
    dp_nonlinear_result_reset(&res);
    dp__env_close(&env);
    dp_config_free(cfg);
    return 0;
}

static int case_peak(bench *b, int pass) {
    dp_error err;
    dp_config *cfg = NULL;
    dp__env env;
    if (make_cfg(b, true, "fp64", 0, &cfg, &err) != DP_OK || dp__env_open(&env, cfg, &err) != DP_OK)
        return fail("peak", &err);
    typedef struct shape {
        int64_t n, k;
        dp_cuda_precision prec;
        const char *what;
    } shape;
    shape shapes[4];
    int ns = 0;
    if (pass == 2) {
        int64_t k = dp_gram_default_block_rows(b->p);
        shapes[ns++] = (shape){b->p, k, DP_CUDA_FP64, "dsyrk"};
        shapes[ns++] = (shape){b->p, k, DP_CUDA_FP32, "ssyrk"};
        shapes[ns++] = (shape){b->p, k, DP_CUDA_TF32, "tf32-gemm"};
    } else {
        shapes[ns++] = (shape){b->p * 20, 1024, DP_CUDA_FP64, "dsyrk-rdc"};
        shapes[ns++] = (shape){b->p * 10, 1024, DP_CUDA_FP64, "dsyrk-hsic"};
        shapes[ns++] = (shape){b->p * 10, 1024, DP_CUDA_TF32, "tf32-gemm-hsic"};
    }
    for (int i = 0; i < ns; i++) {
        double gf = 0;
        if (dp_cuda_bench_syrk(env.cuda, shapes[i].n, shapes[i].k, shapes[i].prec, 5, &gf, &err) !=
            DP_OK)
            fprintf(stderr, "bench_gpu: peak %s: %s\n", shapes[i].what, err.msg);
        printf("case=peak%d op=%s n=%lld k=%lld gflops=%.1f\n", pass, shapes[i].what,
               (long long) shapes[i].n, (long long) shapes[i].k, gf);
    }
    double gbps = 0;
    if (dp_cuda_bench_h2d(env.cuda, (int64_t) 256 << 20, 5, &gbps, &err) != DP_OK)
        fprintf(stderr, "bench_gpu: h2d: %s\n", err.msg);
    printf("case=peak%d op=h2d-pinned bytes=%lld gbps=%.2f\n", pass, 256ll << 20, gbps);
    fflush(stdout);
    dp__env_close(&env);
    dp_config_free(cfg);
    return 0;
}

int main(int argc, char **argv) {
    bench b;
    memset(&b, 0, sizeof b);
    b.threads = 0;
    b.cpu_rows = 200000;
    b.gpu_rows = 1000000000000000ll; /* the option's maximum: every row */
    const char *cases = "decode,p2-cpu,p2-gpu,peak2";
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (i + 1 >= argc) {
            fprintf(stderr, "bench_gpu: %s needs a value\n", argv[i]);
            return 2;
        }
        if (strcmp(argv[i], "--cases") == 0)
            cases = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0)
            b.threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--gpu-id") == 0)
            b.gpu_id = atoi(argv[++i]);
        else if (strcmp(argv[i], "--cpu-rows") == 0)
            b.cpu_rows = atoll(argv[++i]);
        else if (strcmp(argv[i], "--gpu-rows") == 0)
            b.gpu_rows = atoll(argv[++i]);
        else {
            fprintf(stderr, "bench_gpu: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "usage: bench_gpu [--cases LIST] [--threads T] [--gpu-id N] "
                        "[--cpu-rows N] [--gpu-rows N] INPUT...\n");
        return 2;
    }
    b.inputs = (const char *const *) argv + i;
    b.n_inputs = argc - i;
    dp_log_set_level(DP_LOG_QUIET);
    dp_error err;
    dp_config *cfg = NULL;
    dp__env env;
    if (make_cfg(&b, false, NULL, 0, &cfg, &err) != DP_OK ||
        dp__inputs_open(cfg, b.inputs, b.n_inputs, &b.in, &err) != DP_OK ||
        dp__env_open(&env, cfg, &err) != DP_OK)
        return fail("setup", &err);
    /* pass 1 once: models and the kept columns */
    int32_t n = b.in.sel.n;
    const char **all = dp_calloc((size_t) n, sizeof *all);
    dp_pass1_column *out = dp_calloc((size_t) n, sizeof *out);
    dp_colstats_result res;
    dp_colstats_result_init(&res);
    for (int32_t k = 0; k < n; k++)
        all[k] = dp__col_name(&b.in, k);
    double t0 = dp_now();
    if (dp__p1_run(&env, b.in.ds, b.in.sel.cols, n, all, NULL, &res, out, &b.models, &err) != DP_OK)
        return fail("pass 1", &err);
    b.names = dp_calloc((size_t) n, sizeof *b.names);
    for (int32_t k = 0; k < n; k++)
        if (out[k].kept)
            b.names[b.p++] = (char *) all[k];
    b.total_rows = dp_dataset_n_rows(b.in.ds);
    printf("case=pass1 rows=%lld cols=%d kept=%lld seconds=%.3f\n", (long long) b.total_rows, n,
           (long long) b.p, dp_now() - t0);
    fflush(stdout);
    dp__env_close(&env);
    int rc = 0;
    char *list = dp_strdup(cases);
    for (char *save = NULL, *c = strtok_r(list, ",", &save); c != NULL;
         c = strtok_r(NULL, ",", &save)) {
        int r = 0; /* a failed case is reported and the others still run */
        if (strcmp(c, "decode") == 0)
            r = case_decode(&b);
        else if (strcmp(c, "p2-cpu") == 0)
            r = case_p2(&b, c, false, NULL);
        else if (strcmp(c, "p2-gpu") == 0)
            r = case_p2(&b, c, true, "fp64");
        else if (strcmp(c, "p2-gpu-fp32") == 0)
            r = case_p2(&b, c, true, "fp32");
        else if (strcmp(c, "p2-gpu-tf32") == 0)
            r = case_p2(&b, c, true, "tf32");
        else if (strcmp(c, "p4-cpu") == 0)
            r = case_p4(&b, c, false, NULL, b.cpu_rows);
        else if (strcmp(c, "p4-check") == 0)
            r = case_p4(&b, c, true, "fp64", b.cpu_rows);
        else if (strcmp(c, "p4-gpu") == 0)
            r = case_p4(&b, c, true, "fp64", b.gpu_rows);
        else if (strcmp(c, "p4-gpu-fp32") == 0)
            r = case_p4(&b, c, true, "fp32", b.gpu_rows);
        else if (strcmp(c, "peak2") == 0)
            r = case_peak(&b, 2);
        else if (strcmp(c, "peak4") == 0)
            r = case_peak(&b, 4);
        else {
            fprintf(stderr, "bench_gpu: unknown case %s\n", c);
            r = 2;
        }
        if (r != 0)
            rc = r;
    }
    dp_free(list);
    if (b.have_nl_cpu)
        dp_nonlinear_result_reset(&b.nl_cpu);
    dp_free(b.R_cpu);
    dp_free(b.names);
    dp_free(all);
    dp_free(out);
    dp_colstats_result_reset(&res);
    dp__models_reset(&b.models);
    dp__inputs_reset(&b.in);
    dp_config_free(cfg);
    return rc;
}

/* bench_gram: throughput of the pairwise-complete Gram accumulator (the Pass-2 Spearman scan
 * without I/O and transforms) against a plain dsyrk on the same shapes.
 *
 *   bench_gram [--quick] [--shape 0|1] [--miss FRAC] [--reps N] [--threads N]
 *              [--blis PATH/libblis.so.4] [--coretypes A,B,...]
 *
 * Cases per shape (rows x cols; default 1,000,000 x 200 and 200,000 x 1,500; --quick: / 10):
 *   dsyrk-openblas  one cblas_dsyrk over all rows, OpenBLAS threaded (the machine's peak)
 *   dsyrk-blis      the same through Debian's BLIS (dlopen'ed with RTLD_DEEPBIND), if --blis
 *   backend-syrk    one call of dpipe's CPU backend (fixed tiles, our threads, 1-thread BLAS)
 *   gram-complete   dp_gram fed 65,536-row batches of mid-CDF-like values in (0, 1), finalize
 *   gram-miss5%     the same with 5 % of the values missing at random (--miss FRAC)
 * Each case runs --reps times (default 1); rows show the best wall and the best CPU time.
 * Columns: wall seconds, CPU seconds (all threads; on a shared machine the fairer comparison),
 * rows/s, GFLOP/s of the backend work (counted by a wrapping backend: syrk n*p^2, gemm 2*m*n*k;
 * the sparse missing-value updates done inside dp_gram are not counted), that work / (n p^2),
 * and the wall time relative to dsyrk-openblas.
 * --coretypes re-runs the dsyrk-openblas case in child processes with OPENBLAS_CORETYPE set
 * (OpenBLAS reads it when it loads), to compare kernels on this CPU.
 */
#include "accum/dp_gram.h"
#include "backend/dp_backend.h"
#include "dpipe/dp_features.h"
#include "util/dp_alloc.h"
#include "util/dp_rng.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if DP_HAVE_BLAS
#include <cblas.h>
void openblas_set_num_threads(int num_threads);
char *openblas_get_corename(void);
char *openblas_get_config(void);
#endif

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

/* CPU seconds of the whole process (all threads): on a shared machine the wall time of a case
 * includes waiting for other processes; CPU time does not. */
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

/* Each case runs g_reps times; rows report the fastest wall time and the smallest CPU time. */
static int g_reps = 1;
static double g_best_wall, g_best_cpu, g_t0, g_c0;

static void rep_start(void) {
    g_c0 = cpu_now();
    g_t0 = now();
}

static void rep_stop(int rep) {
    double t = now() - g_t0, c = cpu_now() - g_c0;
    if (rep == 0 || t < g_best_wall)
        g_best_wall = t;
    if (rep == 0 || c < g_best_cpu)
        g_best_cpu = c;
}

static double peak_rss_gib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double) ru.ru_maxrss / (1024.0 * 1024.0);
}

/* ---- a backend wrapper that counts flops ------------------------------------------------ */

typedef struct counting {
    dp_backend *inner;
    double flops;
} counting;

static dp_status count_syrk(dp_backend *b, int64_t n, int64_t k, double alpha, const double *A,
                            int64_t lda, double beta, double *C, int64_t ldc, dp_error *err) {
    counting *c = b->private_data;
    c->flops += (double) n * (double) (n + 1) * (double) k;
    return c->inner->syrk_tn(c->inner, n, k, alpha, A, lda, beta, C, ldc, err);
}

static dp_status count_gemm(dp_backend *b, int64_t m, int64_t n, int64_t k, double alpha,
                            const double *A, int64_t lda, const double *B, int64_t ldb, double beta,
                            double *C, int64_t ldc, dp_error *err) {
    counting *c = b->private_data;
    c->flops += 2.0 * (double) m * (double) n * (double) k;
    return c->inner->gemm_tn(c->inner, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, err);
}

/* ---- data ---------------------------------------------------------------------------------- */

/* Mid-CDF-like values in (0, 1): a shared factor plus uniform noise, so columns correlate. */
static double *gen(int64_t n, int64_t p, uint64_t seed) {
    double *X = dp_mallocarray((size_t) n * (size_t) p, sizeof(double));
    double *f = dp_mallocarray((size_t) n, sizeof(double));
    if (X == NULL || f == NULL) {
        fprintf(stderr, "bench_gram: cannot allocate %lld x %lld doubles\n", (long long) n,
                (long long) p);
        exit(1);
    }
    dp_rng r;
    dp_rng_seed(&r, seed);
    for (int64_t t = 0; t < n; t++)
        f[t] = dp_rng_uniform(&r);
    for (int64_t j = 0; j < p; j++) {
        double w = 0.2 + 0.6 * dp_rng_uniform(&r);
        double *c = X + (size_t) j * (size_t) n;
        for (int64_t t = 0; t < n; t++)
            c[t] = w * f[t] + (1 - w) * dp_rng_uniform(&r);
    }
    dp_free(f);
    return X;
}

static void row(const char *name, int64_t n, int64_t p, int threads, double sec, double flops,
                double ref_sec) {
    double work = flops / ((double) n * (double) p * (double) p);
    double cpu = g_best_cpu;
    printf("%-26s %9lld x %-5lld %3d %9.3f %8.3f %12.0f %9.1f %6.2f", name, (long long) n,
           (long long) p, threads, sec, cpu, (double) n / sec, flops / sec * 1e-9, work);
    if (ref_sec > 0)
        printf(" %8.2fx", sec / ref_sec);
    else
        printf(" %9s", "-");
    printf("\n");
    fflush(stdout);
}

#if DP_HAVE_BLAS
static double time_openblas_syrk(const double *X, int64_t n, int64_t p, int threads, double *C) {
    openblas_set_num_threads(threads);
    for (int rep = 0; rep < g_reps; rep++) {
        rep_start();
        cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, (int) p, (int) n, 1.0, X, (int) n, 0.0,
                    C, (int) p);
        rep_stop(rep);
    }
    openblas_set_num_threads(1);
    return g_best_wall;
}
#endif

typedef void (*cblas_dsyrk_fn)(int, int, int, int, int, double, const double *, int, double,
                               double *, int);

static double time_blis_syrk(const char *path, const double *X, int64_t n, int64_t p, int threads,
                             double *C, char *arch, size_t arch_len) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (h == NULL) {
        fprintf(stderr, "bench_gram: cannot load %s: %s\n", path, dlerror());
        return -1;
    }
    /* POSIX: dlsym's object pointer is converted through its storage (ISO C forbids a cast) */
    cblas_dsyrk_fn syrk = NULL;
    void (*set_threads)(long) = NULL;
    int (*arch_id)(void) = NULL;
    const char *(*arch_str)(int) = NULL;
    *(void **) &syrk = dlsym(h, "cblas_dsyrk");
    *(void **) &set_threads = dlsym(h, "bli_thread_set_num_threads");
    *(void **) &arch_id = dlsym(h, "bli_arch_query_id");
    *(void **) &arch_str = dlsym(h, "bli_arch_string");
    if (syrk == NULL) {
        fprintf(stderr, "bench_gram: %s has no cblas_dsyrk\n", path);
        return -1;
    }
    if (set_threads != NULL)
        set_threads(threads);
    snprintf(arch, arch_len, "%s", arch_id && arch_str ? arch_str(arch_id()) : "?");
    /* CBLAS enum values: ColMajor 102, Upper 121, Trans 112 (identical in every CBLAS) */
    for (int rep = 0; rep < g_reps; rep++) {
        rep_start();
        syrk(102, 121, 112, (int) p, (int) n, 1.0, X, (int) n, 0.0, C, (int) p);
        rep_stop(rep);
    }
    return g_best_wall;
}

static double run_gram(const double *X, int64_t n, int64_t p, int threads, double *flops, double *R,
                       size_t *bytes) {
    dp_error err;
    dp_backend *inner = NULL;
    dp_backend_cpu_options o = {threads};
    if (dp_backend_cpu_create(&o, &inner, &err) != DP_OK) {
        fprintf(stderr, "bench_gram: %s\n", err.msg);
        exit(1);
    }
    counting cnt = {inner, 0};
    dp_backend wrap = {"counting", &cnt, count_syrk, count_gemm, NULL};
    double *K = dp_mallocarray((size_t) p, sizeof(double));
    for (int64_t j = 0; j < p; j++)
        K[j] = 0.5;
    for (int rep = 0; rep < g_reps; rep++) {
        dp_gram *g = NULL;
        cnt.flops = 0;
        rep_start();
        if (dp_gram_create(p, K, NULL, &wrap, &g, &err) != DP_OK) {
            fprintf(stderr, "bench_gram: %s\n", err.msg);
            exit(1);
        }
        const int64_t batch = 65536;
        for (int64_t t = 0; t < n; t += batch) {
            int64_t c = n - t < batch ? n - t : batch;
            if (dp_gram_update_rows(g, X + t, n, c, t, &err) != DP_OK) {
                fprintf(stderr, "bench_gram: %s\n", err.msg);
                exit(1);
            }
        }
        if (dp_gram_finalize(g, R, &err) != DP_OK) {
            fprintf(stderr, "bench_gram: %s\n", err.msg);
            exit(1);
        }
        rep_stop(rep);
        *flops = cnt.flops;
        *bytes = dp_gram_sizeof(g);
        dp_gram_free(g);
    }
    dp_free(K);
    dp_backend_free(inner);
    return g_best_wall;
}

static double time_backend_syrk(const double *X, int64_t n, int64_t p, int threads, double *C) {
    dp_error err;
    dp_backend *be = NULL;
    dp_backend_cpu_options o = {threads};
    if (dp_backend_cpu_create(&o, &be, &err) != DP_OK)
        exit(1);
    for (int rep = 0; rep < g_reps; rep++) {
        rep_start();
        if (be->syrk_tn(be, p, n, 1.0, X, n, 0.0, C, p, &err) != DP_OK) {
            fprintf(stderr, "bench_gram: %s\n", err.msg);
            exit(1);
        }
        rep_stop(rep);
    }
    dp_backend_free(be);
    return g_best_wall;
}

int main(int argc, char **argv) {
    int threads = (int) sysconf(_SC_NPROCESSORS_ONLN);
    bool quick = false, peak_only = false;
    const char *blis = NULL, *coretypes = NULL;
    int64_t only_n = 0, only_p = 0;
    int only_shape = -1;
    double miss = 0.05;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--quick") == 0)
            quick = true;
        else if (strcmp(argv[a], "--threads") == 0 && a + 1 < argc)
            threads = atoi(argv[++a]);
        else if (strcmp(argv[a], "--reps") == 0 && a + 1 < argc)
            g_reps = atoi(argv[++a]) < 1 ? 1 : atoi(argv[a]);
        else if (strcmp(argv[a], "--miss") == 0 && a + 1 < argc)
            miss = atof(argv[++a]);
        else if (strcmp(argv[a], "--shape") == 0 && a + 1 < argc)
            only_shape = atoi(argv[++a]);
        else if (strcmp(argv[a], "--blis") == 0 && a + 1 < argc)
            blis = argv[++a];
        else if (strcmp(argv[a], "--coretypes") == 0 && a + 1 < argc)
            coretypes = argv[++a];
        else if (strcmp(argv[a], "--peak-only") == 0 && a + 2 < argc) {
            peak_only = true;
            only_n = atoll(argv[++a]);
            only_p = atoll(argv[++a]);
        } else {
            fprintf(
                stderr,
                "usage: %s [--quick] [--shape 0|1] [--threads N] [--blis LIB] [--coretypes A,B]\n",
                argv[0]);
            return 2;
        }
    }
    if (threads < 1)
        threads = 1;
#if DP_HAVE_BLAS
    if (peak_only) { /* child of --coretypes: one dsyrk-openblas row */
        double *X = gen(only_n, only_p, 1);
        double *C = dp_calloc((size_t) (only_p * only_p), sizeof(double));
        double t = time_openblas_syrk(X, only_n, only_p, threads, C);
        char name[64];
        snprintf(name, sizeof name, "dsyrk-openblas(%s)", openblas_get_corename());
        row(name, only_n, only_p, threads, t, (double) only_n * only_p * (only_p + 1), 0);
        return 0;
    }
    printf("# CPU backend: %s\n", dp_backend_cpu_describe());
#else
    (void) only_n, (void) only_p, (void) coretypes;
    if (peak_only)
        return 0;
    printf("# CPU backend: %s (no BLAS: reference dsyrk rows are skipped)\n",
           dp_backend_cpu_describe());
#endif
    printf("# threads %d; best of %d; batches of 65,536 rows; gram block rows %lld (p=200) / %lld "
           "(p=1500)\n",
           threads, g_reps, (long long) dp_gram_default_block_rows(200),
           (long long) dp_gram_default_block_rows(1500));
    printf("%-26s %17s %3s %9s %8s %12s %9s %6s %9s\n", "case", "rows x cols", "thr", "seconds",
           "cpu s", "rows/s", "GFLOP/s", "work", "vs dsyrk");
    int64_t shapes[2][2] = {{1000000, 200}, {200000, 1500}};
    for (int s = 0; s < 2; s++) {
        if (only_shape >= 0 && s != only_shape)
            continue;
        int64_t n = shapes[s][0] / (quick ? 10 : 1), p = shapes[s][1];
        double *X = gen(n, p, 1 + (uint64_t) s);
        double *C = dp_calloc((size_t) (p * p), sizeof(double));
        double syrk_flops = (double) n * (double) p * (double) (p + 1), ref = 0;
#if DP_HAVE_BLAS
        ref = time_openblas_syrk(X, n, p, threads, C);
        char name[64];
        snprintf(name, sizeof name, "dsyrk-openblas(%s)", openblas_get_corename());
        row(name, n, p, threads, ref, syrk_flops, ref);
        if (coretypes != NULL) {
            char list[256];
            snprintf(list, sizeof list, "%s", coretypes);
            for (char *ct = strtok(list, ","); ct != NULL; ct = strtok(NULL, ",")) {
                fflush(stdout);
                pid_t pid = fork();
                if (pid == 0) {
                    char sn[32], sp[32], st[32];
                    snprintf(sn, sizeof sn, "%lld", (long long) n);
                    snprintf(sp, sizeof sp, "%lld", (long long) p);
                    snprintf(st, sizeof st, "%d", threads);
                    setenv("OPENBLAS_CORETYPE", ct, 1);
                    char sr[32];
                    snprintf(sr, sizeof sr, "%d", g_reps);
                    execl("/proc/self/exe", argv[0], "--threads", st, "--reps", sr, "--peak-only",
                          sn, sp, (char *) NULL);
                    _exit(127);
                }
                int status;
                waitpid(pid, &status, 0);
            }
        }
#endif
        if (blis != NULL) {
            char arch[64];
            double t = time_blis_syrk(blis, X, n, p, threads, C, arch, sizeof arch);
            if (t > 0) {
                char bname[96];
                snprintf(bname, sizeof bname, "dsyrk-blis(%s)", arch);
                row(bname, n, p, threads, t, syrk_flops, ref);
            }
        }
        double t = time_backend_syrk(X, n, p, threads, C);
        row("backend-syrk", n, p, threads, t, syrk_flops, ref);
        double flops;
        size_t bytes;
        t = run_gram(X, n, p, threads, &flops, C, &bytes);
        row("gram-complete", n, p, threads, t, flops, ref);
        dp_rng r;
        dp_rng_seed(&r, 99);
        for (size_t e = 0; e < (size_t) n * (size_t) p; e++)
            if (dp_rng_uniform(&r) < miss)
                X[e] = NAN;
        t = run_gram(X, n, p, threads, &flops, C, &bytes);
        char mname[64];
        snprintf(mname, sizeof mname, "gram-miss%g%%", 100 * miss);
        row(mname, n, p, threads, t, flops, ref);
        printf("# %lld x %lld: accumulator %.1f MiB (estimate %.1f MiB), r(0,1) = %.6f, "
               "peak RSS so far %.2f GiB\n",
               (long long) n, (long long) p, (double) bytes / 1048576.0,
               (double) dp_gram_estimate(p, DP_GRAM_PAIRWISE) / 1048576.0, C[p], peak_rss_gib());
        dp_free(C);
        dp_free(X);
    }
    return 0;
}

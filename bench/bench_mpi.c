/* bench_mpi: what distributing dpipe's scans over MPI ranks costs and gains (issue 9).
 *
 *   bench_mpi [--p 200,1500,2000,5000] [--cells N] [--threads T] [--dir DIR]
 *             [--rows-total 1e8] [--p-run 2000] [--p4 200] [--nonlinear-rows 1e6]
 *             [--node-speedup 16]
 *
 * Measured on this machine, per column count p (a dpipe-generated dataset of about N cells,
 * default 8e6, i.e. cells/p rows, 3 files):
 *   pass1 rows/s, pass2 rows/s   one rank's end-to-end scan rate (decode + transform +
 *                                accumulate) through the production functions, T threads
 *   state MiB                    the serialised accumulator one rank sends in the merge
 *                                (pass 1: statistics + sketches/tables; pass 2: pairwise Gram
 *                                with the missing-value products; pass 4, p <= 300: features)
 *   ser s, merge s               serialise on the sender; deserialise + merge on the receiver
 * Transfer is not measured (two ranks on one machine would only measure memory copies): it is
 * bytes / effective bandwidth, with 100 Gb/s InfiniBand taken as 10 GB/s and 10 Gb/s Ethernet as
 * 1.1 GB/s (about 80-90 % of the line rate for large messages).
 *
 * Projection of a --rows-total x --p-run run (default 1e8 x 2,000) on k nodes, one rank per node
 * whose speed is this machine's (measured rates at p-run; scale the scan columns by the ratio of
 * cores for bigger nodes), tree merge of depth ceil(log2 k):
 *   pass 1, pass 2:  rows / (k rate) + depth (ser + bytes / bandwidth + merge)
 *   pass 4:          a full decode of p4 survivor columns (at the pass-1 rate of p4 columns,
 *                    an upper bound of the decode cost) + nonlinear-rows rows of features at the
 *                    measured pass-4 rate, / k, + the featgram merge tree
 * The projection is printed for nodes as fast as this machine and for nodes --node-speedup
 * times faster at scanning (e.g. 32 dedicated cores against 2 shared vCPUs), whose merge steps
 * (single-threaded serialisation, memory-bound) are taken as measured. Rank 0's serial work
 * (VIF, clustering, the HSIC/RDC measures) does not depend on rows or nodes and is left out.
 * Nothing is asserted.
 */
#include "accum/dp_colstats.h"
#include "accum/dp_featgram.h"
#include "accum/dp_gram.h"
#include "batch/dp_scan.h"
#include "dpipe/dp_commands.h"
#include "dpipe/dp_config.h"
#include "dpipe/dpipe.h"
#include "pipeline/dp_passes_run.h"
#include "util/dp_alloc.h"
#include "util/dp_progress.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_P 16

typedef struct {
    int64_t p, rows;
    double r1, r2, r4; /* rows/s */
    double b1, b2, b4; /* state bytes */
    double s1, s2, s4; /* serialise s */
    double m1, m2, m4; /* deserialise + merge s */
} meas;

static void die(const char *what, const dp_error *e) {
    fprintf(stderr, "bench_mpi: %s: %s\n", what, e->msg);
    exit(1);
}

static dp_config *make_cfg(int threads) {
    dp_config *c = NULL;
    dp_error e;
    if (dp_config_create(&c, &e) != DP_OK)
        die("config", &e);
    char t[32];
    snprintf(t, sizeof t, "%d", threads);
    if (dp_config_set(c, "threads", t, &e) != DP_OK ||
        dp_config_set(c, "nonlinear-rows", "1000000000", &e) != DP_OK)
        die("config", &e);
    return c;
}

/* Serialise `a`'s twin b, then deserialise it and merge it into a: the work of one tree step. */
typedef dp_status (*ser_fn)(void *acc, dp_buf *out, dp_error *err);
typedef dp_status (*merge_fn)(void *dst, const dp_buf *in, dp_backend *be, dp_error *err);

static dp_status ser_cs(void *a, dp_buf *o, dp_error *e) {
    return dp_colstats_serialize(a, o, e);
}
static dp_status merge_cs(void *dst, const dp_buf *in, dp_backend *be, dp_error *e) {
    (void) be;
    dp_colstats *x = NULL;
    DP_TRY(dp_colstats_deserialize(in->data, in->size, &x, e));
    dp_status st = dp_colstats_merge(dst, x, e);
    dp_colstats_free(x);
    return st;
}
static dp_status ser_gram(void *a, dp_buf *o, dp_error *e) {
    return dp_gram_serialize(a, o, e);
}
static dp_status merge_gram(void *dst, const dp_buf *in, dp_backend *be, dp_error *e) {
    dp_gram *x = NULL;
    DP_TRY(dp_gram_deserialize(in->data, in->size, be, &x, NULL, e));
    dp_status st = dp_gram_merge(dst, x, e);
    dp_gram_free(x);
    return st;
}
static dp_status ser_fg(void *a, dp_buf *o, dp_error *e) {
    return dp_featgram_serialize(a, o, e);
}
static dp_status merge_fg(void *dst, const dp_buf *in, dp_backend *be, dp_error *e) {
    dp_featgram *x = NULL;
    DP_TRY(dp_featgram_deserialize(in->data, in->size, be, &x, NULL, e));
    dp_status st = dp_featgram_merge(dst, x, e);
    dp_featgram_free(x);
    return st;
}

static void time_merge(void *dst, void *src, ser_fn ser, merge_fn mg, dp_backend *be, double *bytes,
                       double *ser_s, double *merge_s) {
    dp_buf b;
    dp_buf_init(&b);
    dp_error e;
    double t0 = dp_now();
    if (ser(src, &b, &e) != DP_OK)
        die("serialise", &e);
    double t1 = dp_now();
    if (mg(dst, &b, be, &e) != DP_OK)
        die("merge", &e);
    double t2 = dp_now();
    *bytes = (double) b.size;
    *ser_s = t1 - t0;
    *merge_s = t2 - t1;
    dp_buf_reset(&b);
}

/* Two accumulators of each kind fed from the two halves of the dataset (row-group ranges). */
static void merge_costs(const dp_dataset *ds, const dp_selection *sel, dp_backend *be, meas *m) {
    dp_error e;
    int32_t n_rg = dp_dataset_n_row_groups(ds), half = n_rg / 2;
    dp_colstats *cs[2] = {0};
    dp_gram *g[2] = {0};
    dp_colstats_opts co;
    dp_colstats_opts_default(&co);
    double *centre = dp_calloc((size_t) sel->n, sizeof *centre);
    for (int h = 0; h < 2; h++) {
        if (dp_colstats_create(&cs[h], sel->n, &co, &e) != DP_OK ||
            dp_gram_create(sel->n, centre, NULL, be, &g[h], &e) != DP_OK)
            die("create", &e);
        dp_scan_options so = {.threads = 2, .start_rg = h ? half : 0, .end_rg = h ? 0 : half};
        if (dp_scan_row_offset_at(ds, &so, so.start_rg, &so.start_row_offset, &e) != DP_OK)
            die("offset", &e);
        dp_scan *s = NULL;
        if (dp_scan_open(ds, sel->cols, sel->n, &so, &s, &e) != DP_OK)
            die("scan", &e);
        const dp_batch *b;
        for (;;) {
            if (dp_scan_next(s, &b, &e) != DP_OK)
                die("scan", &e);
            if (b == NULL)
                break;
            if (dp_colstats_update(cs[h], b, &e) != DP_OK || dp_gram_update(g[h], b, &e) != DP_OK)
                die("update", &e);
        }
        dp_scan_free(s);
    }
    time_merge(cs[0], cs[1], ser_cs, merge_cs, be, &m->b1, &m->s1, &m->m1);
    time_merge(g[0], g[1], ser_gram, merge_gram, be, &m->b2, &m->s2, &m->m2);
    for (int h = 0; h < 2; h++) {
        dp_colstats_free(cs[h]);
        dp_gram_free(g[h]);
    }
    dp_free(centre);
    /* Pass 4 (only where its (30 p)^2 matrices fit comfortably). */
    if (sel->n <= 300) {
        dp_featgram_config fc;
        dp_featgram_config_default(&fc);
        const char **names = dp_calloc((size_t) sel->n, sizeof *names);
        for (int32_t k = 0; k < sel->n; k++)
            names[k] = dp_dataset_column_at(ds, sel->cols[k])->name;
        dp_featgram *f[2] = {0};
        int64_t R = 2048;
        double *z = dp_mallocarray((size_t) (R * sel->n), sizeof *z);
        double *u = dp_mallocarray((size_t) (R * sel->n), sizeof *u);
        for (int64_t i = 0; i < R * sel->n; i++) {
            u[i] = (double) ((i * 2654435761u) % 1000003) / 1000003.0 + 1e-7;
            z[i] = (u[i] - 0.5) * 3;
        }
        for (int h = 0; h < 2; h++)
            if (dp_featgram_create(&fc, sel->n, names, be, &f[h], &e) != DP_OK ||
                dp_featgram_update(f[h], R, z, R, u, R, &e) != DP_OK)
                die("featgram", &e);
        time_merge(f[0], f[1], ser_fg, merge_fg, be, &m->b4, &m->s4, &m->m4);
        dp_featgram_free(f[0]);
        dp_featgram_free(f[1]);
        dp_free(z);
        dp_free(u);
        dp_free(names);
    }
}

static void measure(int64_t p, int64_t cells, int threads, const char *dir, meas *m) {
    memset(m, 0, sizeof *m);
    m->p = p;
    m->rows = cells / p;
    if (m->rows < 1000)
        m->rows = 1000;
    char path[1024];
    snprintf(path, sizeof path, "%s/p%lld_r%lld", dir, (long long) p, (long long) m->rows);
    dp_error e = {0};
    if (access(path, F_OK) != 0) {
        dp_gen_options go = {.out_dir = path,
                             .rows = m->rows,
                             .cols = (int32_t) p,
                             .files = 3,
                             .seed = 1,
                             .missing = 0.05,
                             .row_group_rows = (m->rows + 11) / 12,
                             .codec = "zstd"};
        if (dp_cmd_gen(&go, &e) != DP_OK) {
            go.codec = "none";
            if (dp_cmd_gen(&go, &e) != DP_OK)
                die("gen", &e);
        }
    }
    dp_config *cfg = make_cfg(threads);
    dp__env env;
    if (dp__env_open(&env, cfg, &e) != DP_OK)
        die("env", &e);
    const char *in[] = {path};
    dp_dataset *ds = NULL;
    if (dp_dataset_open(in, 1, &ds, &e) != DP_OK)
        die("open", &e);
    dp_selection sel;
    dp_select_options so = {.n_metadata = 1};
    if (dp_dataset_select(ds, &so, &sel, &e) != DP_OK)
        die("select", &e);
    const char **names = dp_calloc((size_t) sel.n, sizeof *names);
    for (int32_t k = 0; k < sel.n; k++)
        names[k] = dp_dataset_column_at(ds, sel.cols[k])->name;
    dp_colstats_result res;
    dp_colstats_result_init(&res);
    dp_pass1_column *out = dp_calloc((size_t) sel.n, sizeof *out);
    dp__models models = {0};
    double t0 = dp_now();
    if (dp__p1_run(&env, ds, sel.cols, sel.n, names, NULL, &res, out, &models, &e) != DP_OK)
        die("pass 1", &e);
    m->r1 = (double) dp_dataset_n_rows(ds) / (dp_now() - t0);
    /* Pass 2 on every column with a model that can be transformed (constant ones included: the
     * cost does not depend on the decisions). */
    double *R = dp_mallocarray((size_t) (sel.n * sel.n), sizeof *R);
    t0 = dp_now();
    if (dp__p2_matrix(&env, ds, names, sel.n, &models, DP_COPULA_SPEARMAN, NULL, R, &e) != DP_OK)
        die("pass 2", &e);
    m->r2 = (double) dp_dataset_n_rows(ds) / (dp_now() - t0);
    dp_free(R);
    if (sel.n <= 300) {
        dp_nonlinear_result nr;
        dp_nonlinear_result_init(&nr);
        int64_t used = 0;
        t0 = dp_now();
        if (dp__p4_measures(&env, ds, names, sel.n, &models, DP_HSIC_MERCER, 0.5, 0.5, NULL, &nr,
                            &used, &e) != DP_OK)
            die("pass 4", &e);
        m->r4 = (double) used / (dp_now() - t0);
        dp_nonlinear_result_reset(&nr);
    }
    merge_costs(ds, &sel, env.backend, m);
    dp__models_reset(&models);
    dp_colstats_result_reset(&res);
    dp_free(out);
    dp_free(names);
    dp_selection_reset(&sel);
    dp_dataset_free(ds);
    dp__env_close(&env);
    dp_config_free(cfg);
}

/* Tree merge along ceil(log2 k) steps. */
static double merge_time(int k, double bytes, double ser, double mrg, double bw) {
    int depth = 0;
    while ((1 << depth) < k)
        depth++;
    return depth * (ser + bytes / bw + mrg);
}

int main(int argc, char **argv) {
    int64_t ps[MAX_P] = {200, 1500, 2000, 5000};
    int np = 4, threads = 2;
    int64_t cells = 8000000, p_run = 2000, p4 = 200;
    double total_rows = 1e8, nl_rows = 1e6, speedup = 16;
    const char *dir = "/tmp/dpipe-bench-mpi";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--p") == 0 && v != NULL) {
            np = 0;
            for (char *s = argv[++i]; *s && np < MAX_P;) {
                ps[np++] = strtoll(s, &s, 10);
                if (*s == ',')
                    s++;
            }
        } else if (strcmp(a, "--cells") == 0 && v != NULL) {
            cells = (int64_t) strtod(argv[++i], NULL);
        } else if (strcmp(a, "--threads") == 0 && v != NULL) {
            threads = atoi(argv[++i]);
        } else if (strcmp(a, "--dir") == 0 && v != NULL) {
            dir = argv[++i];
        } else if (strcmp(a, "--rows-total") == 0 && v != NULL) {
            total_rows = strtod(argv[++i], NULL);
        } else if (strcmp(a, "--p-run") == 0 && v != NULL) {
            p_run = strtoll(argv[++i], NULL, 10);
        } else if (strcmp(a, "--p4") == 0 && v != NULL) {
            p4 = strtoll(argv[++i], NULL, 10);
        } else if (strcmp(a, "--nonlinear-rows") == 0 && v != NULL) {
            nl_rows = strtod(argv[++i], NULL);
        } else if (strcmp(a, "--node-speedup") == 0 && v != NULL) {
            speedup = strtod(argv[++i], NULL);
        } else {
            fprintf(stderr, "usage: see the comment at the top of bench/bench_mpi.c\n");
            return 2;
        }
    }
    dp_set_verbosity(0);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    meas m[MAX_P];
    printf(
        "# one rank, %d threads, %ld online CPUs; rows/s through the production scan functions\n",
        threads, sysconf(_SC_NPROCESSORS_ONLN));
    printf("%6s %7s %11s %11s %11s | %9s %7s %7s | %9s %7s %7s | %9s %7s %7s\n", "p", "rows",
           "pass1 r/s", "pass2 r/s", "pass4 r/s", "p1 MiB", "ser s", "merge s", "p2 MiB", "ser s",
           "merge s", "p4 MiB", "ser s", "merge s");
    for (int i = 0; i < np; i++) {
        measure(ps[i], cells, threads, dir, &m[i]);
        printf("%6lld %7lld %11.0f %11.0f %11.0f | %9.1f %7.3f %7.3f | %9.1f %7.3f %7.3f | %9.1f "
               "%7.3f %7.3f\n",
               (long long) m[i].p, (long long) m[i].rows, m[i].r1, m[i].r2, m[i].r4,
               m[i].b1 / (1 << 20), m[i].s1, m[i].m1, m[i].b2 / (1 << 20), m[i].s2, m[i].m2,
               m[i].b4 / (1 << 20), m[i].s4, m[i].m4);
        fflush(stdout);
    }
    const meas *R = NULL, *Q = NULL;
    for (int i = 0; i < np; i++) {
        if (m[i].p == p_run)
            R = &m[i];
        if (m[i].p == p4 && m[i].r4 > 0)
            Q = &m[i];
    }
    if (R == NULL || Q == NULL) {
        printf("# no projection: --p must include --p-run %lld and --p4 %lld (<= 300)\n",
               (long long) p_run, (long long) p4);
        return 0;
    }
    const double bws[2] = {10e9, 1.1e9};
    const char *bw_names[2] = {"100 Gb/s InfiniBand (10 GB/s effective)",
                               "10 Gb/s Ethernet (1.1 GB/s effective)"};
    for (int q = 0; q < 4; q++) {
        int b = q % 2;
        double f = q < 2 ? 1 : speedup;
        printf("\n# projection: %.0e rows x %lld columns (pass 4 on %lld survivors, %.0e rows), "
               "one rank per node scanning %g x as fast as this machine, %s\n",
               total_rows, (long long) p_run, (long long) p4, nl_rows, f, bw_names[b]);
        printf("%6s %10s %10s %10s %10s %10s %10s %10s %8s\n", "nodes", "pass1 s", "merge1 s",
               "pass2 s", "merge2 s", "pass4 s", "merge4 s", "total s", "speedup");
        double t1node = 0;
        for (int k = 1; k <= 64; k *= 2) {
            double p1 = total_rows / (k * f * R->r1), p2 = total_rows / (k * f * R->r2);
            double p4s = total_rows / (k * f * Q->r1) + nl_rows / (k * f * Q->r4);
            double g1 = merge_time(k, R->b1, R->s1, R->m1, bws[b]);
            double g2 = merge_time(k, R->b2, R->s2, R->m2, bws[b]);
            double g4 = merge_time(k, Q->b4, Q->s4, Q->m4, bws[b]);
            double tot = p1 + g1 + p2 + g2 + p4s + g4;
            if (k == 1)
                t1node = tot;
            printf("%6d %10.0f %10.2f %10.0f %10.2f %10.0f %10.2f %10.0f %8.1f\n", k, p1, g1, p2,
                   g2, p4s, g4, tot, t1node / tot);
        }
    }
    return 0;
}

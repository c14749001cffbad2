/* Scans of passes 1, 2 and 4 and the clustering step, for `run`, `stats` and `corr`. */
#include "pipeline/dp_passes_run.h"
#include "accum/dp_gram.h"
#include "passes/dp_leiden.h"
#include "pipeline/dp_dist.h"
#include "pipeline/dp_scanjob.h"
#include "util/dp_alloc.h"
#include "util/dp_checksum.h"
#include "util/dp_log.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

dp_status dp__env_open(dp__env *env, const dp_config *cfg, dp_error *err) {
    memset(env, 0, sizeof *env);
    env->cfg = cfg;
    int threads = (int) dp_config_int(cfg, "threads");
    DP_TRY(dp_pool_create(threads, &env->pool, err));
    dp_backend_cpu_options bo = {.threads = threads};
    dp_status st = dp_backend_cpu_create(&bo, &env->backend, err);
    if (st == DP_OK && dp_config_bool(cfg, "gpu")) {
        dp_cuda_options co = {.gpu_id = (int) dp_config_int(cfg, "gpu-id"),
                              .max_gpu_memory_gb = dp_config_double(cfg, "max-gpu-memory-gb")};
        st = dp_cuda_precision_parse(dp_config_text(cfg, "precision"), &co.precision, err);
        if (st == DP_OK)
            st = dp_cuda_open(&co, &env->cuda, err);
    }
    if (st != DP_OK)
        dp__env_close(env);
    return st;
}

dp_status dp__open_inputs_env(dp_status st, const dp_config *cfg, const char *const *inputs,
                              int n_inputs, dp__inputs *in, dp__env *env, dp_error *err) {
    if (st == DP_OK)
        st = dp__inputs_open(cfg, inputs, n_inputs, in, err);
    if (st == DP_OK)
        st = dp__env_open(env, cfg, err);
    return dp__dist_agree(st, in->ds != NULL ? dp_dataset_fingerprint(in->ds) : 0, "input files",
                          err);
}

void dp__env_close(dp__env *env) {
    dp_cuda_close(env->cuda);
    dp_backend_free(env->backend);
    dp_pool_free(env->pool);
    memset(env, 0, sizeof *env);
}

dp_status dp__cols_by_name(const dp_dataset *ds, const char *const *names, int64_t n,
                           int32_t **cols, dp_error *err) {
    *cols = dp_mallocarray((size_t) (n > 0 ? n : 1), sizeof **cols);
    if (*cols == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory");
    for (int64_t k = 0; k < n; k++) {
        (*cols)[k] = dp_dataset_find_column(ds, names[k]);
        if ((*cols)[k] < 0) {
            dp_free(*cols);
            *cols = NULL;
            return dp_error_set(err, DP_INVALID_ARG, "column '%s' is not in the input", names[k]);
        }
    }
    return DP_OK;
}

static void dp__gpu_progress(void *ctx, char *buf, int cap) {
    dp_cuda_progress_text(ctx, buf, cap);
}

static void dp__job_from(dp__scan_job *job, const dp__env *env, const dp_dataset *ds,
                         const int32_t *cols, int32_t n, const dp__ckpt *ck, const char *label) {
    memset(job, 0, sizeof *job);
    job->label = label;
    job->ds = ds;
    job->cols = cols;
    job->n_cols = n;
    dp__scan_options(env->cfg, &job->so);
    if (env->input_is_sample)
        job->so.mode = DP_SCAN_UNIFIED;
    if (env->cuda != NULL) {
        job->so.progress_extra = dp__gpu_progress;
        job->so.progress_extra_ctx = env->cuda;
    }
    if (ck != NULL && ck->path != NULL) {
        job->ckpt_path = ck->path;
        job->key = ck->key;
        job->interval = ck->interval;
    }
}

/* ---- pass 1 ------------------------------------------------------------------------------ */

typedef struct {
    dp_colstats *cs;
    dp_pool *pool;
    const dp_batch *b;
    int64_t n_cols, n_tasks;
    dp_status st;
    dp_error err;
    pthread_mutex_t mu;
} dp__p1ctx;

static void dp__p1_task(void *arg, int64_t t) {
    dp__p1ctx *k = arg;
    int64_t c0 = k->n_cols * t / k->n_tasks, c1 = k->n_cols * (t + 1) / k->n_tasks;
    dp_error err;
    dp_status st = dp_colstats_update_cols(k->cs, k->b, c0, c1, &err);
    if (st != DP_OK) {
        pthread_mutex_lock(&k->mu);
        if (k->st == DP_OK) {
            k->st = st;
            k->err = err;
        }
        pthread_mutex_unlock(&k->mu);
    }
}

static dp_status dp__p1_consume(void *ctx, const dp_batch *b, dp_error *err) {
    dp__p1ctx *k = ctx;
    k->b = b;
    dp_pool_for(k->pool, k->n_tasks, dp__p1_task, k);
    if (k->st != DP_OK && err != NULL)
        *err = k->err;
    return k->st;
}

static dp_status dp__p1_save(void *ctx, dp_buf *out, dp_error *err) {
    return dp_colstats_serialize(((dp__p1ctx *) ctx)->cs, out, err);
}

static dp_status dp__p1_load(void *ctx, const uint8_t *data, size_t len, dp_error *err) {
    dp__p1ctx *k = ctx;
    dp_colstats *cs = NULL;
    DP_TRY(dp_colstats_deserialize(data, len, &cs, err));
    if (dp_colstats_n_cols(cs) != k->n_cols) {
        dp_colstats_free(cs);
        return dp_error_set(err, DP_STATE, "checkpoint holds %lld columns, expected %lld",
                            (long long) dp_colstats_n_cols(cs), (long long) k->n_cols);
    }
    dp_colstats_free(k->cs);
    k->cs = cs;
    return DP_OK;
}

static dp_status dp__p1_merge(void *ctx, const uint8_t *data, size_t len, dp_error *err) {
    dp__p1ctx *k = ctx;
    dp_colstats *cs = NULL;
    DP_TRY(dp_colstats_deserialize(data, len, &cs, err));
    dp_status st = dp_colstats_merge(k->cs, cs, err);
    dp_colstats_free(cs);
    return st;
}

dp_status dp__p1_run(const dp__env *env, const dp_dataset *ds, const int32_t *cols, int32_t n,
                     const char *const *names, const dp__ckpt *ck, dp_colstats_result *res,
                     dp_pass1_column *out, dp__models *models, dp_error *err) {
    dp_status st = DP_OK;
    dp__p1ctx k = {0};
    pthread_mutex_init(&k.mu, NULL);
    dp_pass1_opts p1;
    dp_colstats_opts co;
    DP_CHECK(dp__pass1_options(env->cfg, &p1, err));
    dp__colstats_options(env->cfg, &co);
    DP_CHECK(dp_colstats_create(&k.cs, n, &co, err));
    k.pool = env->pool;
    k.n_cols = n;
    k.n_tasks = DP_MIN((int64_t) n, 4 * (int64_t) dp_pool_threads(env->pool));
    dp__scan_job job;
    dp__job_from(&job, env, ds, cols, n, ck, "pass 1 scan");
    job.consume = dp__p1_consume;
    job.save = dp__p1_save;
    job.load = dp__p1_load;
    job.merge = dp__p1_merge;
    job.ctx = &k;
    DP_CHECK(dp__scan_job_run(&job, err));
    if (dp__dist_follower())
        goto cleanup; /* rank 0 holds the merged statistics and decides */
    DP_CHECK(dp_colstats_finalize(k.cs, res, err));
    int64_t kept = 0;
    DP_CHECK(dp_pass1_decide_all(res, &p1, out, &kept, err));
    if (models != NULL) {
        DP_CHECK(dp__models_alloc(models, n, err));
        for (int32_t j = 0; j < n; j++) {
            dp__model *m = &models->m[j];
            m->name = dp_strdup(names[j]);
            if (m->name == NULL)
                DP_FAIL(err, DP_NOMEM, "out of memory");
            DP_CHECK(dp_marginal_fit_copy(&res->cols[j].fit, &m->fit, err));
            m->mean = out[j].mean;
            m->clip_lo = out[j].clip_low;
            m->clip_hi = out[j].clip_high;
            m->rows = out[j].rows;
            m->n_missing = out[j].rows - out[j].n_valid;
        }
    }
cleanup:
    pthread_mutex_destroy(&k.mu);
    dp_colstats_free(k.cs);
    return st;
}

/* ---- pass 2 ------------------------------------------------------------------------------ */

typedef struct {
    const dp__env *env;
    dp_gram *gram;
    dp_copula_col *tr; /* n transforms */
    int64_t n;
    dp_batch tb; /* transformed batch */
    const dp_batch *b;
    dp_cuda_gram *dg; /* --gpu: the device accumulator; gram mirrors it at saves and the end */
    bool dg_stored;   /* its final sums are in gram already (MPI merge on rank 0) */
} dp__p2ctx;

static void dp__p2_task(void *arg, int64_t j) {
    dp__p2ctx *k = arg;
    dp_copula_apply(&k->tr[j], dp_batch_col(k->b, j), k->b->n_rows, dp_batch_col(&k->tb, j));
}

static dp_status dp__p2_consume(void *ctx, const dp_batch *b, dp_error *err) {
    dp__p2ctx *k = ctx;
    if (k->dg != NULL)
        return dp_cuda_gram_update(k->dg, b, err);
    k->b = b;
    k->tb.n_rows = b->n_rows;
    k->tb.row_offset = b->row_offset;
    k->tb.file_index = b->file_index;
    memcpy(k->tb.counts, b->counts, (size_t) k->n * sizeof *b->counts);
    dp_pool_for(k->env->pool, k->n, dp__p2_task, k);
    return dp_gram_update(k->gram, &k->tb, err);
}

static dp_status dp__p2_save(void *ctx, dp_buf *out, dp_error *err) {
    dp__p2ctx *k = ctx;
    if (k->dg != NULL)
        DP_TRY(dp_cuda_gram_store(k->dg, k->gram, err));
    return dp_gram_serialize(k->gram, out, err);
}

static dp_status dp__p2_load(void *ctx, const uint8_t *data, size_t len, dp_error *err) {
    dp__p2ctx *k = ctx;
    dp_gram *g = NULL;
    DP_TRY(dp_gram_deserialize(data, len, k->env->backend, &g, NULL, err));
    if (dp_gram_cols(g) != k->n) {
        dp_gram_free(g);
        return dp_error_set(err, DP_STATE, "checkpoint of another column set");
    }
    dp_status st = k->dg != NULL ? dp_cuda_gram_load(k->dg, g, err) : DP_OK;
    if (st != DP_OK) {
        dp_gram_free(g);
        return st;
    }
    dp_gram_free(k->gram);
    k->gram = g;
    return DP_OK;
}

static dp_status dp__p2_merge(void *ctx, const uint8_t *data, size_t len, dp_error *err) {
    dp__p2ctx *k = ctx;
    dp_gram *g = NULL;
    /* Rank 0 on a GPU: its own device sums go to the host accumulator before the other ranks'
     * parts are added (and not again after the scan). */
    if (k->dg != NULL && !k->dg_stored) {
        DP_TRY(dp_cuda_gram_flush(k->dg, err));
        DP_TRY(dp_cuda_gram_store(k->dg, k->gram, err));
        k->dg_stored = true;
    }
    DP_TRY(dp_gram_deserialize(data, len, k->env->backend, &g, NULL, err));
    dp_status st = dp_gram_merge(k->gram, g, err);
    dp_gram_free(g);
    return st;
}

dp_status dp__p2_matrix(const dp__env *env, const dp_dataset *ds, const char *const *names,
                        int64_t n, const dp__models *models, dp_copula_method method,
                        const dp__ckpt *ck, double *R, dp_error *err) {
    dp_status st = DP_OK;
    dp__p2ctx k = {0};
    int32_t *cols = NULL;
    double *centre = NULL, *impute = NULL;
    k.env = env;
    k.n = n;
    const dp_config *cfg = env->cfg;
    bool clip = dp_config_bool(cfg, "clip");
    bool imp = strcmp(dp_config_text(cfg, "missing"), "impute") == 0;
    DP_CHECK(dp__cols_by_name(ds, names, n, &cols, err));
    k.tr = dp_calloc((size_t) n, sizeof *k.tr);
    centre = dp_calloc((size_t) n, sizeof *centre);
    impute = dp_calloc((size_t) n, sizeof *impute);
    if (k.tr == NULL || centre == NULL || impute == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory");
    for (int64_t j = 0; j < n; j++) {
        const dp__model *m = dp__models_find(models, names[j]);
        if (m == NULL)
            DP_FAIL(err, DP_STATE, "no pass-1 model for column '%s'", names[j]);
        dp_copula_col_init(&k.tr[j]);
        DP_CHECK(
            dp_copula_col_prepare(&k.tr[j], method, &m->fit, clip, m->clip_lo, m->clip_hi, err));
        /* Pilot centres: the known mean of each transformed column (1/2 for mid-ranks, 0 for
         * normal scores, the pass-1 mean for raw values), which keeps the shifted sums exact. */
        centre[j] = method == DP_COPULA_SPEARMAN   ? 0.5
                    : method == DP_COPULA_GAUSSIAN ? 0.0
                    : isfinite(m->mean)            ? m->mean
                                                   : 0.0;
        /* Impute mode (the original's behaviour): a missing value takes the median transformed
         * value: 1/2, 0, or the column mean for Pearson. */
        impute[j] = centre[j];
    }
    size_t est = dp_gram_estimate(n, imp ? DP_GRAM_IMPUTE : DP_GRAM_PAIRWISE);
    dp_log_verbose("pass 2: %lld columns, correlation accumulator %.1f MiB", (long long) n,
                   (double) est / (1 << 20));
    dp_gram_options go = {.missing = imp ? DP_GRAM_IMPUTE : DP_GRAM_PAIRWISE, .impute = impute};
    DP_CHECK(dp_gram_create(n, centre, &go, env->backend, &k.gram, err));
    dp__scan_job job;
    dp__job_from(&job, env, ds, cols, (int32_t) n, ck, "pass 2 scan");
    if (env->cuda != NULL) /* the device transforms the raw batches itself */
        DP_CHECK(
            dp_cuda_gram_create(env->cuda, k.gram, k.tr, job.so.batch_rows, env->pool, &k.dg, err));
    else
        DP_CHECK(dp_batch_init(&k.tb, job.so.batch_rows > 0 ? job.so.batch_rows : 65536, n, err));
    job.consume = dp__p2_consume;
    job.save = dp__p2_save;
    job.load = dp__p2_load;
    job.merge = dp__p2_merge;
    job.ctx = &k;
    DP_CHECK(dp__scan_job_run(&job, err));
    if (dp__dist_follower())
        goto cleanup; /* rank 0 holds the merged matrix */
    if (k.dg != NULL && !k.dg_stored) {
        dp_cuda_stats cs;
        DP_CHECK(dp_cuda_gram_flush(k.dg, err));
        DP_CHECK(dp_cuda_gram_store(k.dg, k.gram, err));
        dp_cuda_gram_get_stats(k.dg, &cs);
        dp_cuda_log_stats("pass 2", &cs);
    }
    DP_CHECK(dp_gram_finalize(k.gram, R, err));
cleanup:
    if (k.tr != NULL)
        for (int64_t j = 0; j < n; j++)
            dp_copula_col_reset(&k.tr[j]);
    dp_free(k.tr);
    dp_free(centre);
    dp_free(impute);
    dp_free(cols);
    dp_batch_reset(&k.tb);
    dp_cuda_gram_free(k.dg);
    dp_gram_free(k.gram);
    return st;
}

/* ---- pass 4 ------------------------------------------------------------------------------ */

#define DP__MAX_RDC_SEEDS 64

typedef struct {
    const dp__env *env;
    dp_featgram *fg;
    /* --rdc-seeds > 1: RDC-only accumulators with further independent draws; their RDC matrices
     * are averaged with the main one's. */
    dp_featgram *extra[DP__MAX_RDC_SEEDS];
    int n_extra;
    dp_copula_col *tz, *tu; /* n each (NULL parts when the measure is off) */
    int64_t n;
    double *z, *u; /* cap x n */
    int64_t cap;
    const dp_batch *b;
    /* --gpu: the device accumulators; fg and extra[] mirror them at saves and at the end */
    dp_cuda_featgram *dfg, *dextra[DP__MAX_RDC_SEEDS];
    bool dfg_stored; /* their final sums are in fg / extra already (MPI merge on rank 0) */
} dp__p4ctx;

static void dp__p4_task(void *arg, int64_t j) {
    dp__p4ctx *k = arg;
    const double *x = dp_batch_col(k->b, j);
    if (k->tz != NULL)
        dp_copula_apply(&k->tz[j], x, k->b->n_rows, k->z + j * k->cap);
    if (k->tu != NULL)
        dp_copula_apply(&k->tu[j], x, k->b->n_rows, k->u + j * k->cap);
}

static dp_status dp__p4_consume(void *ctx, const dp_batch *b, dp_error *err) {
    dp__p4ctx *k = ctx;
    if (k->dfg != NULL) {
        DP_TRY(dp_cuda_featgram_update(k->dfg, b, err));
        for (int s = 0; s < k->n_extra; s++)
            DP_TRY(dp_cuda_featgram_update(k->dextra[s], b, err));
        return DP_OK;
    }
    if (b->n_rows > k->cap)
        return dp_error_set(err, DP_STATE, "batch of %lld rows exceeds %lld", (long long) b->n_rows,
                            (long long) k->cap);
    k->b = b;
    dp_pool_for(k->env->pool, k->n, dp__p4_task, k);
    DP_TRY(dp_featgram_update(k->fg, b->n_rows, k->z, k->cap, k->u, k->cap, err));
    for (int s = 0; s < k->n_extra; s++)
        DP_TRY(dp_featgram_update(k->extra[s], b->n_rows, NULL, k->cap, k->u, k->cap, err));
    return DP_OK;
}

/* State: the main accumulator then the extra ones, each a self-delimiting record. */
static dp_status dp__p4_save(void *ctx, dp_buf *out, dp_error *err) {
    dp__p4ctx *k = ctx;
    if (k->dfg != NULL) {
        DP_TRY(dp_cuda_featgram_store(k->dfg, k->fg, err));
        for (int s = 0; s < k->n_extra; s++)
            DP_TRY(dp_cuda_featgram_store(k->dextra[s], k->extra[s], err));
    }
    DP_TRY(dp_featgram_serialize(k->fg, out, err));
    for (int s = 0; s < k->n_extra; s++)
        DP_TRY(dp_featgram_serialize(k->extra[s], out, err));
    return DP_OK;
}

static dp_status dp__p4_load(void *ctx, const uint8_t *data, size_t len, dp_error *err) {
    dp__p4ctx *k = ctx;
    dp_featgram *g[1 + DP__MAX_RDC_SEEDS] = {0};
    size_t off = 0;
    dp_status st = DP_OK;
    for (int s = 0; s <= k->n_extra; s++) {
        size_t used = 0;
        DP_CHECK(
            dp_featgram_deserialize(data + off, len - off, k->env->backend, &g[s], &used, err));
        if (dp_featgram_columns(g[s]) != k->n)
            DP_FAIL(err, DP_STATE, "checkpoint of another column set");
        off += used;
    }
    if (off != len)
        DP_FAIL(err, DP_CORRUPT, "checkpoint holds %zu unexpected bytes", len - off);
    if (k->dfg != NULL) {
        DP_CHECK(dp_cuda_featgram_load(k->dfg, g[0], err));
        for (int s = 0; s < k->n_extra; s++)
            DP_CHECK(dp_cuda_featgram_load(k->dextra[s], g[1 + s], err));
    }
    dp_featgram_free(k->fg);
    k->fg = g[0];
    for (int s = 0; s < k->n_extra; s++) {
        dp_featgram_free(k->extra[s]);
        k->extra[s] = g[1 + s];
    }
    return DP_OK;
cleanup:
    for (int s = 0; s <= k->n_extra; s++)
        dp_featgram_free(g[s]);
    return st;
}

/* Another rank's state: its main and extra accumulators, merged after ours. */
static dp_status dp__p4_merge(void *ctx, const uint8_t *data, size_t len, dp_error *err) {
    dp__p4ctx *k = ctx;
    size_t off = 0;
    dp_status st = DP_OK;
    if (k->dfg != NULL && !k->dfg_stored) {
        DP_TRY(dp_cuda_featgram_flush(k->dfg, err));
        DP_TRY(dp_cuda_featgram_store(k->dfg, k->fg, err));
        for (int s = 0; s < k->n_extra; s++) {
            DP_TRY(dp_cuda_featgram_flush(k->dextra[s], err));
            DP_TRY(dp_cuda_featgram_store(k->dextra[s], k->extra[s], err));
        }
        k->dfg_stored = true;
    }
    for (int s = 0; s <= k->n_extra && st == DP_OK; s++) {
        dp_featgram *g = NULL;
        size_t used = 0;
        st = dp_featgram_deserialize(data + off, len - off, k->env->backend, &g, &used, err);
        if (st == DP_OK)
            st = dp_featgram_merge(s == 0 ? k->fg : k->extra[s - 1], g, err);
        dp_featgram_free(g);
        off += used;
    }
    if (st == DP_OK && off != len)
        st = dp_error_set(err, DP_CORRUPT, "state holds %zu unexpected bytes", len - off);
    return st;
}

dp_hsic_estimator dp__hsic_estimator(const dp_config *cfg) {
    return strcmp(dp_config_text(cfg, "hsic-estimator"), "sketch") == 0 ? DP_HSIC_SKETCH
                                                                        : DP_HSIC_MERCER;
}

dp_status dp__p4_measures(const dp__env *env, const dp_dataset *ds, const char *const *names,
                          int64_t n, const dp__models *models, dp_hsic_estimator est, double w_hsic,
                          double w_rdc, const dp__ckpt *ck, dp_nonlinear_result *res,
                          int64_t *rows_used, dp_error *err) {
    dp_status st = DP_OK;
    const dp_config *cfg = env->cfg;
    dp__p4ctx k = {0};
    int32_t *cols = NULL;
    k.env = env;
    k.n = n;
    if (!(w_hsic + w_rdc > 0))
        return dp_error_set(err, DP_INVALID_ARG, "--w-hsic and --w-rdc are both 0");
    dp_featgram_config fc;
    dp_featgram_config_default(&fc);
    DP_CHECK(dp_featgram_config_set_hsic(
        &fc, est, dp_config_is_set(cfg, "hsic-D") ? (int32_t) dp_config_int(cfg, "hsic-D") : 0,
        (int32_t) dp_config_int(cfg, "m"), (int32_t) dp_config_int(cfg, "r"), err));
    fc.k = (int32_t) dp_config_int(cfg, "rdc-d");
    if (w_hsic == 0) {
        fc.m = 0;
        fc.sketch_r = 0;
    }
    if (est == DP_HSIC_SKETCH && env->cuda != NULL && fc.sketch_r > 0)
        return dp_error_set(err, DP_UNSUPPORTED,
                            "--hsic-estimator sketch runs on the CPU only; drop --gpu for pass 4 "
                            "or use the default Mercer estimator");
    if (w_rdc == 0)
        fc.k = 0;
    fc.seed = (uint64_t) dp_config_int(cfg, "random-seed");
    dp_featgram_plan plan;
    DP_CHECK(dp_featgram_estimate(n, &fc, &plan, err));
    double gb = dp_config_double(cfg, "max-memory-gb");
    int64_t budget = gb > 0 ? (int64_t) (gb * (double) (1ll << 30)) : 0;
    int64_t nl_rows = dp_config_int(cfg, "nonlinear-rows");
    int64_t n_seeds = fc.k > 0 ? dp_config_int(cfg, "rdc-seeds") : 1;
    if (n_seeds > 1) {
        /* Each further RDC draw is one more (p k)^2 accumulator. */
        dp_featgram_config xc = fc;
        xc.m = 0;
        xc.sketch_r = 0;
        xc.shadow_columns = 0;
        dp_featgram_plan xp;
        DP_CHECK(dp_featgram_estimate(n, &xc, &xp, err));
        plan.matrix_bytes += (n_seeds - 1) * xp.matrix_bytes;
        plan.total_bytes += (n_seeds - 1) * xp.total_bytes;
    }
    if (ck != NULL && ck->path != NULL) {
        /* A checkpoint serialises the accumulators into one record (dp_scanjob.c). */
        int64_t names_bytes = 0;
        for (int64_t i = 0; i < n; i++)
            names_bytes += (int64_t) strlen(names[i]);
        plan.checkpoint_bytes = dp_featgram_record_bound(&plan, names_bytes);
        plan.total_bytes += plan.checkpoint_bytes;
    }
    DP_CHECK(dp_featgram_check_budget(&plan, budget, nl_rows, err));
    char plan_txt[128];
    double mib = 1024.0 * 1024.0;
    if (plan.checkpoint_bytes > 0)
        snprintf(plan_txt, sizeof plan_txt,
                 "planned memory %.1f MiB (accumulators %.1f, checkpoint record %.1f)",
                 (double) plan.total_bytes / mib,
                 (double) (plan.total_bytes - plan.checkpoint_bytes) / mib,
                 (double) plan.checkpoint_bytes / mib);
    else
        snprintf(plan_txt, sizeof plan_txt, "planned memory %.1f MiB",
                 (double) plan.total_bytes / mib);
    if (fc.sketch_r > 0)
        dp_log_info("pass 4: %lld columns, HSIC from %d random features sketched to %d buckets x "
                    "%d repetitions + %d RDC features each%s: %s",
                    (long long) n, fc.sketch_D, fc.sketch_m, fc.sketch_r, fc.k,
                    n_seeds > 1 ? " (RDC averaged over draws)" : "", plan_txt);
    else
        dp_log_info("pass 4: %lld columns, %d HSIC + %d RDC features each%s: %s", (long long) n,
                    fc.m, fc.k, n_seeds > 1 ? " (RDC averaged over draws)" : "", plan_txt);
    DP_CHECK(dp__cols_by_name(ds, names, n, &cols, err));
    DP_CHECK(dp_featgram_create(&fc, n, names, env->backend, &k.fg, err));
    int64_t seeds = fc.k > 0 ? dp_config_int(cfg, "rdc-seeds") : 1;
    if (seeds > 1 + DP__MAX_RDC_SEEDS)
        DP_FAIL(err, DP_INVALID_ARG, "--rdc-seeds %lld is above %d", (long long) seeds,
                1 + DP__MAX_RDC_SEEDS);
    for (int64_t s = 1; s < seeds; s++) {
        dp_featgram_config xc = fc;
        xc.m = 0;
        xc.sketch_r = 0;
        xc.shadow_columns = 0;
        xc.seed = dp_hash64_combine(fc.seed, (uint64_t) s);
        DP_CHECK(dp_featgram_create(&xc, n, names, env->backend, &k.extra[k.n_extra], err));
        k.n_extra++;
    }
    dp__scan_job job;
    dp__job_from(&job, env, ds, cols, (int32_t) n, ck, "pass 4 scan");
    int64_t total = dp_dataset_n_rows(ds);
    if (nl_rows < total) {
        job.so.keep_fraction = (double) nl_rows / (double) total;
        job.so.keep_seed = (uint64_t) dp_config_int(cfg, "random-seed") ^ 0x6e6f6e6c696eull;
    }
    k.cap = job.so.batch_rows > 0 ? job.so.batch_rows : 65536;
    if (dp_dataset_max_rg_rows(ds) > 0 && k.cap > dp_dataset_max_rg_rows(ds))
        k.cap = dp_dataset_max_rg_rows(ds);
    if (fc.m > 0 || fc.sketch_r > 0) {
        k.tz = dp_calloc((size_t) n, sizeof *k.tz);
        k.z = dp_mallocarray((size_t) (k.cap * n), sizeof(double));
        if (k.tz == NULL || k.z == NULL)
            DP_FAIL(err, DP_NOMEM, "out of memory");
    }
    if (fc.k > 0) {
        k.tu = dp_calloc((size_t) n, sizeof *k.tu);
        k.u = dp_mallocarray((size_t) (k.cap * n), sizeof(double));
        if (k.tu == NULL || k.u == NULL)
            DP_FAIL(err, DP_NOMEM, "out of memory");
    }
    for (int64_t j = 0; j < n; j++) {
        const dp__model *m = dp__models_find(models, names[j]);
        if (m == NULL)
            DP_FAIL(err, DP_STATE, "no pass-1 model for column '%s'", names[j]);
        if (k.tz != NULL)
            DP_CHECK(
                dp_copula_col_prepare(&k.tz[j], DP_COPULA_GAUSSIAN, &m->fit, false, 0, 0, err));
        if (k.tu != NULL)
            DP_CHECK(
                dp_copula_col_prepare(&k.tu[j], DP_COPULA_UNIFORM_RDC, &m->fit, false, 0, 0, err));
    }
    if (env->cuda != NULL) {
        DP_CHECK(dp_cuda_featgram_create(env->cuda, k.fg, k.tz, k.tu, job.so.batch_rows, env->pool,
                                         &k.dfg, err));
        for (int s = 0; s < k.n_extra; s++)
            DP_CHECK(dp_cuda_featgram_create(env->cuda, k.extra[s], NULL, k.tu, job.so.batch_rows,
                                             env->pool, &k.dextra[s], err));
    }
    job.consume = dp__p4_consume;
    job.save = dp__p4_save;
    job.load = dp__p4_load;
    job.merge = dp__p4_merge;
    job.ctx = &k;
    DP_CHECK(dp__scan_job_run(&job, err));
    if (dp__dist_follower())
        goto cleanup; /* rank 0 holds the merged accumulators */
    if (k.dfg != NULL && !k.dfg_stored) {
        dp_cuda_stats cs;
        DP_CHECK(dp_cuda_featgram_flush(k.dfg, err));
        DP_CHECK(dp_cuda_featgram_store(k.dfg, k.fg, err));
        for (int s = 0; s < k.n_extra; s++) {
            DP_CHECK(dp_cuda_featgram_flush(k.dextra[s], err));
            DP_CHECK(dp_cuda_featgram_store(k.dextra[s], k.extra[s], err));
        }
        dp_cuda_featgram_get_stats(k.dfg, &cs);
        dp_cuda_log_stats("pass 4", &cs);
    }
    DP_CHECK(dp_featgram_flush(k.fg, err));
    *rows_used = dp_featgram_rows(k.fg);
    dp_nonlinear_options no;
    dp_nonlinear_options_default(&no);
    no.w_hsic = w_hsic;
    no.w_rdc = w_rdc;
    no.hsic_estimator = est;
    no.threads = dp_pool_threads(env->pool);
    DP_CHECK(dp_nonlinear_compute(k.fg, &no, res, err));
    if (k.n_extra > 0 && res->rdc != NULL) {
        /* RDC averaged over the independent draws; S recomputed from the average. */
        dp_nonlinear_options xo = no;
        xo.w_hsic = 0;
        xo.w_rdc = 1;
        for (int s = 0; s < k.n_extra; s++) {
            dp_nonlinear_result xr;
            dp_nonlinear_result_init(&xr);
            DP_CHECK(dp_featgram_flush(k.extra[s], err));
            st = dp_nonlinear_compute(k.extra[s], &xo, &xr, err);
            if (st == DP_OK)
                for (int64_t i = 0; i < n * n; i++)
                    res->rdc[i] += xr.rdc[i];
            dp_nonlinear_result_reset(&xr);
            DP_CHECK(st);
        }
        double wh = res->w_hsic, wr = res->w_rdc;
        for (int64_t i = 0; i < n * n; i++) {
            res->rdc[i] /= (double) (1 + k.n_extra);
            res->sim[i] = (res->hsic != NULL ? wh * res->hsic[i] : 0) + wr * res->rdc[i];
        }
        dp_log_verbose("pass 4: RDC averaged over %d independent feature draws", 1 + k.n_extra);
    }
cleanup:
    for (int64_t j = 0; j < n; j++) {
        if (k.tz != NULL)
            dp_copula_col_reset(&k.tz[j]);
        if (k.tu != NULL)
            dp_copula_col_reset(&k.tu[j]);
    }
    dp_free(k.tz);
    dp_free(k.tu);
    dp_free(k.z);
    dp_free(k.u);
    dp_free(cols);
    dp_cuda_featgram_free(k.dfg);
    dp_featgram_free(k.fg);
    for (int s = 0; s < k.n_extra; s++) {
        dp_cuda_featgram_free(k.dextra[s]);
        dp_featgram_free(k.extra[s]);
    }
    return st;
}

/* ---- clustering -------------------------------------------------------------------------- */

dp_status dp__cluster(const dp_config *cfg, const double *sim, int64_t p, double threshold,
                      const int64_t *n_missing, dp_clusters *out, dp_error *err) {
    const char *mode = dp_config_text(cfg, "cluster");
    if (strcmp(mode, "leiden") != 0)
        return dp_cluster_threshold(
            sim, p, threshold, n_missing,
            strcmp(mode, "components") == 0 ? DP_CLUSTER_COMPONENTS : DP_CLUSTER_GREEDY, out, err);
    dp_leiden_options lo;
    dp_leiden_options_default(&lo);
    lo.threshold = threshold;
    lo.resolution = dp_config_double(cfg, "leiden-resolution");
    lo.objective = strcmp(dp_config_text(cfg, "leiden-objective"), "modularity") == 0
                       ? DP_LEIDEN_MODULARITY
                       : DP_LEIDEN_CPM;
    lo.n_consensus = (int32_t) dp_config_int(cfg, "n-consensus");
    lo.topk = (int32_t) dp_config_int(cfg, "topk");
    lo.seed = (uint64_t) dp_config_int(cfg, "random-seed");
    /* Leiden works on similarities in [0, 1]: use |sim| (NaN -> 0). */
    double *a = dp_mallocarray((size_t) (p * p), sizeof *a);
    int64_t *mem = dp_mallocarray((size_t) p, sizeof *mem);
    dp_status st = DP_OK;
    if (a == NULL || mem == NULL) {
        st = dp_error_set(err, DP_NOMEM, "out of memory");
        goto cleanup;
    }
    for (int64_t i = 0; i < p * p; i++)
        a[i] = isnan(sim[i]) ? 0 : fabs(sim[i]);
    int64_t nc = 0;
    DP_CHECK(dp_leiden_cluster(a, p, p, &lo, mem, &nc, err));
    DP_CHECK(dp_cluster_from_membership(sim, p, mem, n_missing, out, err));
cleanup:
    dp_free(a);
    dp_free(mem);
    return st;
}

/* dp_passes_run.h: the scans and decisions of passes 1, 2 and 4 as functions of (settings,
 * dataset, columns by name, pass-1 models), shared by `dpipe run` (with checkpoints) and the
 * single-pass commands `stats` and `corr` (without). Internal to the pipeline layer.
 */
#ifndef DP_PIPELINE_PASSES_RUN_H
#define DP_PIPELINE_PASSES_RUN_H

#include "backend/cuda/dp_cuda.h"
#include "passes/dp_cluster.h"
#include "passes/dp_nonlinear.h"
#include "pipeline/dp_models.h"
#include "pipeline/dp_run_internal.h"
#include "transform/dp_copula.h"

/* Where a scan checkpoints (NULL path: it does not). */
typedef struct dp__ckpt {
    const char *path;
    uint64_t key;
    double interval;
} dp__ckpt;

/* Resources shared by the passes of one command. */
typedef struct dp__env {
    const dp_config *cfg;
    dp_pool *pool;
    dp_backend *backend;
    /* The dataset the passes read is already pass 0's sample (`dpipe run`): scan it whole
     * instead of sampling it again. */
    bool input_is_sample;
    dp_cuda_ctx *cuda; /* --gpu: the device of passes 2 and 4; NULL = CPU only */
} dp__env;

dp_status dp__env_open(dp__env *env, const dp_config *cfg, dp_error *err) DP_MUST_USE;
void dp__env_close(dp__env *env);

/* The start of stats and corr: unless st already failed (a settings check), open the inputs
 * and the environment; then every MPI rank agrees that all started and see the same inputs
 * (the status of every rank, as dp__dist_agree). */
dp_status dp__open_inputs_env(dp_status st, const dp_config *cfg, const char *const *inputs,
                              int n_inputs, dp__inputs *in, dp__env *env,
                              dp_error *err) DP_MUST_USE;

/* Pass 1 over cols[0..n) of ds: statistics, decisions (out[n]) and the models of every column
 * (models->m[k] for column k). */
dp_status dp__p1_run(const dp__env *env, const dp_dataset *ds, const int32_t *cols, int32_t n,
                     const char *const *names, const dp__ckpt *ck, dp_colstats_result *res,
                     dp_pass1_column *out, dp__models *models, dp_error *err) DP_MUST_USE;

/* Resolve names to dataset columns (DP_INVALID_ARG naming a missing one). cols is dp_malloc'ed. */
dp_status dp__cols_by_name(const dp_dataset *ds, const char *const *names, int64_t n,
                           int32_t **cols, dp_error *err) DP_MUST_USE;

/* Pass 2 scan: the correlation matrix R[n*n] (column-major, symmetric) of the named columns with
 * the copula `method`, missing values per --missing. */
dp_status dp__p2_matrix(const dp__env *env, const dp_dataset *ds, const char *const *names,
                        int64_t n, const dp__models *models, dp_copula_method method,
                        const dp__ckpt *ck, double *R, dp_error *err) DP_MUST_USE;

/* The HSIC estimator --hsic-estimator selects. */
dp_hsic_estimator dp__hsic_estimator(const dp_config *cfg);

/* Pass 4 scan and measures for the named columns (HSIC from estimator est, RDC, combined S, null
 * levels), with the weights given (normalised; a zero weight skips that measure). */
dp_status dp__p4_measures(const dp__env *env, const dp_dataset *ds, const char *const *names,
                          int64_t n, const dp__models *models, dp_hsic_estimator est, double w_hsic,
                          double w_rdc, const dp__ckpt *ck, dp_nonlinear_result *res,
                          int64_t *rows_used, dp_error *err) DP_MUST_USE;

/* Redundancy clustering of sim[p*p] at threshold with --cluster (greedy, components, leiden). */
dp_status dp__cluster(const dp_config *cfg, const double *sim, int64_t p, double threshold,
                      const int64_t *n_missing, dp_clusters *out, dp_error *err) DP_MUST_USE;

#endif

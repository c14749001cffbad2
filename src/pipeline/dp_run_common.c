/* Inputs, scan options and the pass-1 scan, shared by stats, corr and run. */
#include "pipeline/dp_run_internal.h"
#include "util/dp_alloc.h"
#include "util/dp_log.h"

#include <pthread.h>
#include <string.h>

dp_status dp__inputs_open(const dp_config *cfg, const char *const *inputs, int n_inputs,
                          dp__inputs *out, dp_error *err) {
    memset(out, 0, sizeof *out);
    const char *const *globs;
    int n_globs = dp_config_list(cfg, "parquet-glob", &globs);
    int n_all = n_inputs + n_globs;
    if (n_all == 0)
        return dp_error_set(err, DP_INVALID_ARG,
                            "no input: give Parquet files, directories or glob patterns");
    const char **all = dp_calloc((size_t) n_all, sizeof *all);
    if (all == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory");
    for (int i = 0; i < n_inputs; i++)
        all[i] = inputs[i];
    for (int i = 0; i < n_globs; i++)
        all[n_inputs + i] = globs[i];
    dp_status st = dp_dataset_open(all, n_all, &out->ds, err);
    dp_free(all);
    if (st != DP_OK)
        return st;
    dp_select_options so = {0};
    so.n_metadata = (int) dp_config_int(cfg, "n-metadata");
    so.n_include = dp_config_list(cfg, "columns", &so.include);
    so.n_exclude = dp_config_list(cfg, "exclude", &so.exclude);
    so.n_names = dp_config_list(cfg, "descriptor-columns", &so.names);
    st = dp_dataset_select(out->ds, &so, &out->sel, err);
    if (st != DP_OK) {
        dp__inputs_reset(out);
        return st;
    }
    dp_log_info("input: %d file%s, %lld rows, %d columns: %d descriptors, %d skipped",
                dp_dataset_n_files(out->ds), dp_dataset_n_files(out->ds) == 1 ? "" : "s",
                (long long) dp_dataset_n_rows(out->ds), dp_dataset_n_columns(out->ds), out->sel.n,
                out->sel.n_skipped);
    for (int32_t k = 0; k < out->sel.n_skipped; k++)
        dp_log_verbose("  skipped column '%s': %s",
                       dp_dataset_column_at(out->ds, out->sel.skipped[k].col)->name,
                       out->sel.skipped[k].why);
    if (out->sel.n == 0) {
        dp__inputs_reset(out);
        return dp_error_set(err, DP_INVALID_ARG,
                            "no descriptor column: every column is metadata, excluded or not "
                            "numeric");
    }
    return DP_OK;
}

void dp__inputs_reset(dp__inputs *in) {
    dp_selection_reset(&in->sel);
    dp_dataset_free(in->ds);
    memset(in, 0, sizeof *in);
}

const char *dp__col_name(const dp__inputs *in, int32_t k) {
    return dp_dataset_column_at(in->ds, in->sel.cols[k])->name;
}

void dp__scan_options(const dp_config *cfg, dp_scan_options *so) {
    memset(so, 0, sizeof *so);
    so->batch_rows = dp_config_int(cfg, "batch-rows");
    so->threads = (int) dp_config_int(cfg, "threads");
    so->no_verify_crc = !dp_config_bool(cfg, "verify-crc");
    int64_t k = dp_config_int(cfg, "sample-per-file");
    if (k > 0) {
        so->mode = DP_SCAN_SAMPLE;
        so->sample_per_file = k;
        so->seed = (uint64_t) dp_config_int(cfg, "random-seed");
    }
}

dp_status dp__pass1_options(const dp_config *cfg, dp_pass1_opts *o, dp_error *err) {
    dp_pass1_opts_default(o);
    o->max_missing_ratio = dp_config_double(cfg, "max-missing-ratio");
    o->min_effective_n = dp_config_int(cfg, "min-effective-n");
    o->variance_threshold = dp_config_double(cfg, "variance-threshold");
    DP_TRY(dp_range_mode_parse(dp_config_text(cfg, "range-mode"), &o->range_mode, err));
    o->trim_low = dp_config_double(cfg, "trim-lower");
    o->trim_high = dp_config_double(cfg, "trim-upper");
    o->clip_low = dp_config_double(cfg, "clip-lower");
    o->clip_high = dp_config_double(cfg, "clip-upper");
    return dp_pass1_opts_check(o, err);
}

void dp__colstats_options(const dp_config *cfg, dp_colstats_opts *o) {
    dp_colstats_opts_default(o);
    o->exact_distinct = (int32_t) dp_config_int(cfg, "exact-distinct");
    o->seed = (uint64_t) dp_config_int(cfg, "random-seed");
}

typedef struct {
    dp_colstats *cs;
    const dp_batch *b;
    int64_t n_cols, n_tasks;
    dp_status st;
    dp_error err;
    pthread_mutex_t mu;
} dp__p1_task;

static void dp__p1_update(void *arg, int64_t t) {
    dp__p1_task *k = arg;
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

dp_status dp__pass1_scan(const dp_config *cfg, const dp_dataset *ds, const int32_t *cols, int32_t n,
                         dp_pool *pool, dp_colstats_result *out, dp_error *err) {
    dp_status st = DP_OK;
    dp_colstats *cs = NULL;
    dp_scan *scan = NULL;
    dp_colstats_opts co;
    dp__colstats_options(cfg, &co);
    dp__p1_task task = {0};
    pthread_mutex_init(&task.mu, NULL);
    DP_CHECK(dp_colstats_create(&cs, n, &co, err));
    dp_scan_options so;
    dp__scan_options(cfg, &so);
    so.progress_label = "pass 1 scan";
    DP_CHECK(dp_scan_open(ds, cols, n, &so, &scan, err));
    task.cs = cs;
    task.n_cols = n;
    /* A few column ranges per thread balance tables (cheap) and sketches (dearer). */
    task.n_tasks = DP_MIN((int64_t) n, 4 * (int64_t) dp_pool_threads(pool));
    for (;;) {
        const dp_batch *b;
        DP_CHECK(dp_scan_next(scan, &b, err));
        if (b == NULL)
            break;
        task.b = b;
        dp_pool_for(pool, task.n_tasks, dp__p1_update, &task);
        if (task.st != DP_OK) {
            st = task.st;
            if (err != NULL)
                *err = task.err;
            goto cleanup;
        }
    }
    DP_CHECK(dp_colstats_finalize(cs, out, err));
cleanup:
    pthread_mutex_destroy(&task.mu);
    dp_scan_free(scan);
    dp_colstats_free(cs);
    return st;
}

/* Settings given on the command line or in a config file that the other settings make moot are
 * reported, never silently ignored. */
dp_status dp__check_settings(const dp_config *cfg, unsigned mask, dp_error *err) {
    bool sketch = strcmp(dp_config_text(cfg, "hsic-estimator"), "sketch") == 0;
    bool leiden = strcmp(dp_config_text(cfg, "cluster"), "leiden") == 0;
    if ((mask & DP_PASS4) && !sketch && (dp_config_is_set(cfg, "m") || dp_config_is_set(cfg, "r")))
        dp_log_warn("--m and --r set the CountSketch of --hsic-estimator sketch; with the default "
                    "Mercer estimator they have no effect");
    if (!leiden &&
        (dp_config_is_set(cfg, "topk") || dp_config_is_set(cfg, "leiden-resolution") ||
         dp_config_is_set(cfg, "leiden-objective") || dp_config_is_set(cfg, "n-consensus")))
        dp_log_warn("--topk, --leiden-resolution, --leiden-objective and --n-consensus apply to "
                    "--cluster leiden; with --cluster %s they have no effect",
                    dp_config_text(cfg, "cluster"));
    if ((mask & DP_PASS2) && dp_config_bool(cfg, "clip") &&
        strcmp(dp_config_text(cfg, "method"), "pearson") != 0)
        dp_log_warn("--clip winsorises raw values for --method pearson; rank methods do not need "
                    "it");
    if ((mask & DP_PASS4) && dp_config_is_set(cfg, "rdc-seeds") &&
        dp_config_double(cfg, "w-rdc") == 0)
        dp_log_warn("--rdc-seeds has no effect with --w-rdc 0");
    (void) err;
    return DP_OK;
}

/* `dpipe corr`: one similarity matrix (pass 1 for the marginal models, then one scan). */
#include "dpipe/dp_commands.h"
#include "passes/dp_psd.h"
#include "passes/dp_vif.h"
#include "pipeline/dp_dist.h"
#include "pipeline/dp_outputs.h"
#include "pipeline/dp_passes_run.h"
#include "util/dp_alloc.h"
#include "util/dp_log.h"

#include <math.h>
#include <string.h>

static void dp__print_clusters(FILE *out, const char *const *names, const dp_clusters *cl,
                               double threshold) {
    int64_t multi = 0;
    for (int64_t c = 0; c < cl->n_clusters; c++)
        multi += cl->start[c + 1] - cl->start[c] > 1;
    fprintf(out,
            "# %lld clusters of redundant columns at similarity >= %g (%lld columns, %lld "
            "representatives)\n",
            (long long) multi, threshold, (long long) cl->n_cols, (long long) cl->n_clusters);
    for (int64_t c = 0; c < cl->n_clusters; c++) {
        if (cl->start[c + 1] - cl->start[c] < 2)
            continue;
        fprintf(out, "%s:", names[cl->rep[c]]);
        for (int64_t k = cl->start[c] + 1; k < cl->start[c + 1]; k++)
            fprintf(out, " %s (%.4f)", names[cl->member[k]], cl->sim_to_rep[k]);
        fputc('\n', out);
    }
}

static void dp__print_vif(FILE *out, const char *const *names, const dp_vif_result *vr,
                          double threshold) {
    fprintf(out, "# VIF elimination at threshold %g: %lld of %lld columns removed\n", threshold,
            (long long) vr->n_removed, (long long) vr->p);
    for (int64_t k = 0; k < vr->n_removed; k++)
        fprintf(out, "removed %s  VIF %.6g  heir %s\n", names[vr->order[k]], vr->vif_removed[k],
                vr->heir[k] >= 0 ? names[vr->heir[k]] : "-");
    for (int64_t j = 0; j < vr->p; j++)
        if (vr->kept[j])
            fprintf(out, "kept %s  VIF %.6g\n", names[j], vr->vif[j]);
}

/* MPI: rank 0 alone finishes pass 1; the others receive which columns it keeps and their models,
 * which the second scan needs (one broadcast: column count, kept flags, the models record). */
static dp_status dp__share_pass1(int32_t n, dp_pass1_column *p1, dp__models *models,
                                 dp_error *err) {
    if (dp__dist_size() <= 1)
        return DP_OK;
    dp_status st = DP_OK;
    dp_buf b;
    dp_buf_init(&b);
    if (!dp__dist_follower()) {
        for (int32_t k = 0; k < n; k++)
            DP_CHECK(dp_buf_append_u8(&b, p1[k].kept ? 1 : 0));
        DP_CHECK(dp__models_serialize(models, &b, err));
    }
    DP_CHECK(dp__dist_bcast_buf(&b, err));
    if (dp__dist_follower()) {
        dp__models_reset(models);
        if (b.size < (size_t) n)
            DP_FAIL(err, DP_CORRUPT, "rank 0 sent %zu bytes of pass-1 results for %d columns",
                    b.size, n);
        DP_CHECK(dp__models_parse(b.data + n, b.size - (size_t) n, "pass-1 models from rank 0",
                                  models, err));
        if (models->n != n)
            DP_FAIL(err, DP_CORRUPT, "rank 0 sent %lld models for %d columns",
                    (long long) models->n, n);
        for (int32_t k = 0; k < n; k++) {
            p1[k].kept = b.data[k] != 0;
            p1[k].rows = models->m[k].rows;
            p1[k].n_valid = models->m[k].rows - models->m[k].n_missing;
        }
    }
cleanup:
    if (st == DP_NOMEM && err != NULL && err->msg[0] == '\0')
        dp_error_set(err, DP_NOMEM, "out of memory");
    dp_buf_reset(&b);
    return st;
}

dp_status dp_cmd_corr(const char *const *inputs, int n_inputs, const struct dp_config *cfg,
                      const dp_corr_options *opts, FILE *out, dp_error *err) {
    dp_status st = DP_OK;
    dp__inputs in = {0};
    dp__env env = {0};
    dp_colstats_result res1;
    dp_colstats_result_init(&res1);
    dp_pass1_column *p1 = NULL;
    dp__models models = {0};
    const char **names = NULL;
    double *M = NULL;
    int64_t *missing = NULL;
    dp_nonlinear_result nres;
    dp_nonlinear_result_init(&nres);
    dp_clusters cl;
    dp_clusters_init(&cl);
    dp_vif_result vr;
    dp_vif_result_init(&vr);
    const char *method = opts->method != NULL ? opts->method : "spearman";
    /* hsic-sketch: the HSIC matrix from the CountSketch estimator, whatever --hsic-estimator. */
    bool sketch = strcmp(method, "hsic-sketch") == 0;
    bool nonlinear = strcmp(method, "hsic") == 0 || strcmp(method, "rdc") == 0 || sketch;
    dp_copula_method cm = DP_COPULA_SPEARMAN;
    if (!nonlinear)
        DP_CHECK(dp_copula_method_parse(method, &cm, err));
    if (opts->vif && nonlinear)
        DP_FAIL(err, DP_INVALID_ARG,
                "--vif needs a correlation method (pearson, spearman, "
                "gaussian), not %s",
                method);
    st = dp__check_settings(cfg, nonlinear ? DP_PASS4 : DP_PASS2, err);
    DP_CHECK(dp__open_inputs_env(st, cfg, inputs, n_inputs, &in, &env, err));
    p1 = dp_calloc((size_t) in.sel.n, sizeof *p1);
    const char **all = dp_calloc((size_t) in.sel.n, sizeof *all);
    if (p1 == NULL || all == NULL) {
        dp_free(all);
        DP_FAIL(err, DP_NOMEM, "out of memory");
    }
    for (int32_t k = 0; k < in.sel.n; k++)
        all[k] = dp__col_name(&in, k);
    st = dp__p1_run(&env, in.ds, in.sel.cols, in.sel.n, all, NULL, &res1, p1, &models, err);
    if (st == DP_OK)
        st = dp__share_pass1(in.sel.n, p1, &models, err);
    if (st != DP_OK) {
        dp_free(all);
        goto cleanup;
    }
    /* The matrix covers the columns pass 1 keeps. */
    names = dp_calloc((size_t) in.sel.n, sizeof *names);
    missing = dp_calloc((size_t) in.sel.n, sizeof *missing);
    if (names == NULL || missing == NULL) {
        dp_free(all);
        DP_FAIL(err, DP_NOMEM, "out of memory");
    }
    int64_t n = 0;
    for (int32_t k = 0; k < in.sel.n; k++)
        if (p1[k].kept) {
            missing[n] = p1[k].rows - p1[k].n_valid;
            names[n++] = all[k];
        }
    dp_free(all);
    dp_log_info("corr: %s matrix of the %lld columns pass 1 keeps", method, (long long) n);
    if (n == 0) {
        dp__dist_mark_shared(); /* every rank knows the same pass-1 outcome */
        DP_FAIL(err, DP_INVALID_ARG, "pass 1 keeps no column: nothing to correlate");
    }
    M = dp_mallocarray((size_t) (n * n), sizeof *M);
    if (M == NULL)
        DP_FAIL(err, DP_NOMEM, "cannot allocate a %lld x %lld matrix", (long long) n,
                (long long) n);
    double threshold;
    if (!nonlinear) {
        if (n >= 2)
            DP_CHECK(dp__p2_matrix(&env, in.ds, names, n, &models, cm, NULL, M, err));
        else
            M[0] = 1;
        if (dp__dist_follower())
            goto cleanup;
        threshold = dp_config_double(cfg, "spearman-threshold");
    } else {
        bool hsic = strcmp(method, "hsic") == 0 || sketch;
        int64_t rows_used = 0;
        if (n >= 2) {
            DP_CHECK(dp__p4_measures(&env, in.ds, names, n, &models,
                                     sketch ? DP_HSIC_SKETCH : dp__hsic_estimator(cfg),
                                     hsic ? 1 : 0, hsic ? 0 : 1, NULL, &nres, &rows_used, err));
            if (dp__dist_follower())
                goto cleanup;
            memcpy(M, hsic ? nres.hsic : nres.rdc, (size_t) (n * n) * sizeof *M);
        } else {
            M[0] = 1;
        }
        if (dp__dist_follower())
            goto cleanup;
        threshold = dp_config_double(cfg, "nonlinear-threshold");
        if (opts->null_level && n >= 2) {
            const dp_nonlinear_null *z = hsic ? &nres.null_hsic : &nres.null_rdc;
            fprintf(out,
                    "# null level of %s at n = %lld rows (%lld shadow pairs): mean %.4g, sd "
                    "%.4g, 95%% %.4g, max %.4g; threshold %g is %s 3x the mean\n",
                    method, (long long) rows_used, (long long) z->n_samples, z->mean, z->sd, z->q95,
                    z->max, threshold, threshold >= 3 * z->mean ? "above" : "BELOW");
        }
    }
    char cols_path[4096];
    char def[64];
    const char *path = opts->output;
    if (path == NULL) {
        snprintf(def, sizeof def, "%s_matrix.npy", method);
        path = def;
    }
    /* The npy is symmetric, so column-major and C order agree. */
    DP_CHECK(dp__write_npy(path, M, n, n, NULL, err));
    snprintf(cols_path, sizeof cols_path, "%s.columns.txt", path);
    DP_CHECK(dp__write_lines(cols_path, names, n, NULL, err));
    dp_log_info("corr: wrote %s and %s", path, cols_path);
    if (opts->clusters) {
        DP_CHECK(dp__cluster(cfg, M, n, threshold, missing, &cl, err));
        dp__print_clusters(out, names, &cl, threshold);
    }
    if (opts->vif) {
        bool finite = true;
        for (int64_t i = 0; i < n * n && finite; i++)
            finite = isfinite(M[i]);
        double min_eig = NAN;
        bool projected = false;
        if (n > 1 && finite)
            DP_CHECK(dp_corr_make_psd(M, n, 1e-6, &min_eig, &projected, err));
        if (projected)
            fprintf(out,
                    "# the matrix is not positive semidefinite (smallest eigenvalue %.3g); "
                    "VIF uses it with eigenvalues clipped at 1e-6\n",
                    min_eig);
        dp_vif_options vo = {.threshold = dp_config_double(cfg, "vif-threshold")};
        DP_CHECK(dp_vif_eliminate(M, n, &vo, &vr, err));
        dp__print_vif(out, names, &vr, vo.threshold);
    }
cleanup:
    if (st == DP_NOMEM && err != NULL && err->msg[0] == '\0')
        dp_error_set(err, DP_NOMEM, "out of memory");
    dp_vif_result_reset(&vr);
    dp_clusters_reset(&cl);
    dp_nonlinear_result_reset(&nres);
    dp_free(M);
    dp_free(missing);
    dp_free(names);
    dp__models_reset(&models);
    dp_free(p1);
    dp_colstats_result_reset(&res1);
    dp__env_close(&env);
    dp__inputs_reset(&in);
    return st;
}

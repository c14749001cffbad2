/* dp_run_final.h: the JSON outputs of the passes and the final step of `dpipe run` (the
 * alternatives map clusters.json, columns.json, summary.json). Formats: docs/formats.md.
 * Internal to the pipeline layer.
 */
#ifndef DP_PIPELINE_RUN_FINAL_H
#define DP_PIPELINE_RUN_FINAL_H

#include "dpipe/dp_config.h"
#include "passes/dp_cluster.h"
#include "passes/dp_nonlinear.h"
#include "passes/dp_vif.h"

dp_status dp__write_cluster_json(const dp_config *cfg, const char *path, const char *pass,
                                 const char *method, double threshold, const char *const *names,
                                 int64_t n, const dp_clusters *cl, dp_error *err) DP_MUST_USE;
/* The representatives (one per cluster, singletons included), in column order. */
dp_status dp__write_cluster_survivors(const char *path, const char *const *names, int64_t n,
                                      const dp_clusters *cl, dp_error *err) DP_MUST_USE;
/* min_eig: smallest eigenvalue of the pass-2 matrix of the columns (NaN when not computed);
 * projected: VIF ran on its PSD projection (passes/dp_psd.h). */
dp_status dp__write_vif_json(const char *path, double threshold, const char *const *names,
                             int64_t n, const dp_vif_result *vr, double min_eig, bool projected,
                             dp_error *err) DP_MUST_USE;
dp_status dp__write_nonlinear_json(const dp_config *cfg, const char *path, const char *const *names,
                                   int64_t n, const dp_nonlinear_result *res, int64_t rows_used,
                                   double threshold, const dp_clusters *cl,
                                   dp_error *err) DP_MUST_USE;

typedef struct dp__final_inputs {
    const char *dir;
    const char *pass2_matrix;
    const char **descriptor_names; /* pass-1 input columns */
    int64_t n_descriptors;
    int64_t counts[5]; /* [0] initial, [1..4] after pass k */
    double seconds[5];
    bool reused[5];
    bool sampled;
} dp__final_inputs;

/* clusters.json, columns.json and summary.json from the pass outputs in dir. */
dp_status dp__write_final(const dp_config *cfg, const dp__final_inputs *fi,
                          dp_error *err) DP_MUST_USE;

#endif

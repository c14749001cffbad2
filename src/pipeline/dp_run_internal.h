/* dp_run_internal.h: pieces shared by the commands that run passes (stats, corr, run): opening
 * the inputs named by the settings, scan options from the settings, and the pass-1 scan.
 * Internal to the pipeline layer.
 */
#ifndef DP_PIPELINE_RUN_INTERNAL_H
#define DP_PIPELINE_RUN_INTERNAL_H

#include "accum/dp_colstats.h"
#include "batch/dp_scan.h"
#include "dpipe/dp_config.h"
#include "passes/dp_pass1.h"
#include "util/dp_pool.h"

typedef struct dp__inputs {
    dp_dataset *ds;
    dp_selection sel; /* descriptor columns */
} dp__inputs;

/* Inputs = positional arguments plus --parquet-glob; descriptors from --n-metadata, --columns,
 * --exclude, --descriptor-columns. Logs the skipped columns (verbose: each one). */
dp_status dp__inputs_open(const dp_config *cfg, const char *const *inputs, int n_inputs,
                          dp__inputs *out, dp_error *err) DP_MUST_USE;
void dp__inputs_reset(dp__inputs *in);
const char *dp__col_name(const dp__inputs *in, int32_t k);

/* Scan options from the settings (mode SAMPLE when --sample-per-file > 0). */
void dp__scan_options(const dp_config *cfg, dp_scan_options *so);
dp_status dp__pass1_options(const dp_config *cfg, dp_pass1_opts *o, dp_error *err) DP_MUST_USE;
void dp__colstats_options(const dp_config *cfg, dp_colstats_opts *o);

/* Warn about settings that other settings make moot; refuse combinations dpipe cannot do. */
dp_status dp__check_settings(const dp_config *cfg, unsigned mask, dp_error *err) DP_MUST_USE;

/* One scan accumulating the pass-1 statistics of cols[0..n), columns split over the pool. */
dp_status dp__pass1_scan(const dp_config *cfg, const dp_dataset *ds, const int32_t *cols, int32_t n,
                         dp_pool *pool, dp_colstats_result *out, dp_error *err) DP_MUST_USE;

#endif

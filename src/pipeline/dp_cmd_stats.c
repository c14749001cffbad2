/* `dpipe stats`: pass 1 as a command, writing the per-column table. */
#include "dpipe/dp_commands.h"
#include "pipeline/dp_dist.h"
#include "pipeline/dp_passes_run.h"
#include "util/dp_alloc.h"
#include "util/dp_log.h"

#include <errno.h>
#include <string.h>

dp_status dp_cmd_stats(const char *const *inputs, int n_inputs, const struct dp_config *cfg,
                       const dp_stats_options *opts, FILE *out, dp_error *err) {
    dp_status st = DP_OK;
    dp__inputs in = {0};
    dp__env env = {0};
    const char **names = NULL;
    dp_colstats_result res;
    dp_colstats_result_init(&res);
    dp_pass1_column *cols = NULL;
    dp_buf buf;
    dp_buf_init(&buf);
    FILE *f = out;
    dp_pass1_opts p1;
    st = dp__pass1_options(cfg, &p1, err);
    DP_CHECK(dp__open_inputs_env(st, cfg, inputs, n_inputs, &in, &env, err));
    cols = dp_calloc((size_t) in.sel.n, sizeof *cols);
    names = dp_calloc((size_t) in.sel.n, sizeof *names);
    if (cols == NULL || names == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory");
    for (int32_t k = 0; k < in.sel.n; k++)
        names[k] = dp__col_name(&in, k);
    DP_CHECK(dp__p1_run(&env, in.ds, in.sel.cols, in.sel.n, names, NULL, &res, cols, NULL, err));
    if (dp__dist_follower())
        goto cleanup; /* rank 0 prints the table */
    int64_t kept = 0;
    for (int32_t k = 0; k < in.sel.n; k++)
        kept += cols[k].kept;

    int64_t by_reason[5] = {0};
    for (int32_t k = 0; k < in.sel.n; k++)
        by_reason[cols[k].reason]++;
    dp_log_info("pass 1: %d descriptors, %lld kept, %lld removed (constant %lld, missing %lld, "
                "effective-n %lld, variance %lld)",
                in.sel.n, (long long) kept, (long long) (in.sel.n - kept),
                (long long) by_reason[DP_PASS1_CONSTANT], (long long) by_reason[DP_PASS1_MISSING],
                (long long) by_reason[DP_PASS1_EFFECTIVE_N],
                (long long) by_reason[DP_PASS1_VARIANCE]);

    if (opts->json) {
        DP_CHECK(dp_buf_append(&buf, "[\n", 2));
        for (int32_t k = 0; k < in.sel.n; k++) {
            DP_CHECK(dp_buf_append(&buf, "  ", 2));
            DP_CHECK(dp_pass1_json_object(&buf, dp__col_name(&in, k), &cols[k], err));
            DP_CHECK(dp_buf_append(&buf, k + 1 < in.sel.n ? ",\n" : "\n", 2 - (k + 1 == in.sel.n)));
        }
        DP_CHECK(dp_buf_append(&buf, "]\n", 2));
    } else {
        DP_CHECK(dp_pass1_tsv_header(&buf, err));
        for (int32_t k = 0; k < in.sel.n; k++)
            DP_CHECK(dp_pass1_tsv_row(&buf, dp__col_name(&in, k), &cols[k], err));
    }
    if (opts->output != NULL) {
        f = fopen(opts->output, "w");
        if (f == NULL)
            DP_FAIL(err, DP_IO, "%s: cannot create: %s", opts->output, strerror(errno));
    }
    if (fwrite(buf.data, 1, buf.size, f) != buf.size || fflush(f) != 0)
        DP_FAIL(err, DP_IO, "%s: write error", opts->output ? opts->output : "stdout");
cleanup:
    if (st == DP_NOMEM && err != NULL && err->msg[0] == '\0')
        dp_error_set(err, DP_NOMEM, "out of memory");
    if (f != out && f != NULL && fclose(f) != 0 && st == DP_OK)
        st = dp_error_set(err, DP_IO, "%s: write error", opts->output);
    dp_buf_reset(&buf);
    dp_free(cols);
    dp_free(names);
    dp_colstats_result_reset(&res);
    dp__env_close(&env);
    dp__inputs_reset(&in);
    return st;
}

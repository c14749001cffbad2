/* `dpipe bench scan`: raw decode throughput of a dataset through the same scan every pass uses. */
#include "batch/dp_scan.h"
#include "dpipe/dp_commands.h"
#include "util/dp_progress.h"

#include <math.h>

dp_status dp_cmd_bench_scan(const char *const *inputs, int n_inputs,
                            const dp_bench_scan_options *opts, FILE *out, dp_error *err) {
    dp_status st = DP_OK;
    dp_dataset *ds = NULL;
    dp_scan *scan = NULL;
    dp_selection sel = {0};
    DP_CHECK(dp_dataset_open(inputs, n_inputs, &ds, err));
    dp_select_options so = {.include = opts->columns, .n_include = opts->n_columns};
    DP_CHECK(dp_dataset_select(ds, &so, &sel, err));
    dp_scan_options o = {.batch_rows = opts->batch_rows, .threads = opts->threads};
    double t0 = dp_now();
    DP_CHECK(dp_scan_open(ds, sel.cols, sel.n, &o, &scan, err));
    int64_t rows = 0, missing = 0;
    double checksum = 0;
    const dp_batch *b;
    for (;;) {
        DP_CHECK(dp_scan_next(scan, &b, err));
        if (b == NULL)
            break;
        rows += b->n_rows;
        for (int64_t j = 0; j < b->n_cols; j++) {
            const double *x = dp_batch_col(b, j);
            double s = 0;
            for (int64_t i = 0; i < b->n_rows; i++)
                s += isnan(x[i]) ? 0 : x[i];
            checksum += s;
            missing += dp_batch_n_missing(b, j);
        }
    }
    double secs = dp_now() - t0;
    double mb = (double) dp_scan_bytes_read(scan) / 1e6;
    double decoded = (double) rows * sel.n * 8 / 1e6;
    if (opts->json)
        fprintf(out,
                "{\"files\":%d,\"rows\":%lld,\"columns\":%d,\"seconds\":%.4f,\"rows_per_s\":%.0f,"
                "\"compressed_mb_per_s\":%.1f,\"decoded_mb_per_s\":%.1f,\"peak_rss_bytes\":%lld,"
                "\"missing\":%lld,\"checksum\":%.17g}\n",
                dp_dataset_n_files(ds), (long long) rows, sel.n, secs, rows / secs, mb / secs,
                decoded / secs, (long long) dp_peak_rss_bytes(), (long long) missing, checksum);
    else
        fprintf(out,
                "files %d  rows %lld  columns %d  seconds %.3f  rows/s %.0f  compressed MB/s %.1f  "
                "decoded MB/s %.1f  peak RSS %.1f MiB  missing %lld  checksum %.17g\n",
                dp_dataset_n_files(ds), (long long) rows, sel.n, secs, rows / secs, mb / secs,
                decoded / secs, (double) dp_peak_rss_bytes() / (1 << 20), (long long) missing,
                checksum);
cleanup:
    dp_scan_free(scan);
    dp_selection_reset(&sel);
    dp_dataset_free(ds);
    return st;
}

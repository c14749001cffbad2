/* `dpipe cat`: a Parquet file's values as TSV, row group by row group (memory is bounded by the
 * selected columns of one row group). */
#include "dpipe/dp_commands.h"
#include "parquet/pq_reader.h"
#include "util/dp_alloc.h"

#include <string.h>

dp_status dp_cmd_cat(const char *path, const dp_cat_options *opts, FILE *out, dp_error *err) {
    dp_status st = DP_OK;
    dp_pq_file *f = NULL;
    dp_pq_decoder *dec = NULL;
    int32_t *sel = NULL;
    dp_pq_values *vals = NULL;
    int32_t n_sel = 0;
    dp_buf line;
    dp_buf_init(&line);

    DP_CHECK(dp_pq_file_open(path, &f, err));
    dp_pq_decoder_options dopts = {.verify_crc = !opts->no_verify_crc};
    DP_CHECK(dp_pq_decoder_create(&dopts, &dec, err));

    int32_t n_cols = dp_pq_file_n_columns(f);
    n_sel = opts->columns != NULL ? opts->n_columns : n_cols;
    sel = dp_calloc((size_t) (n_sel > 0 ? n_sel : 1), sizeof *sel);
    vals = dp_calloc((size_t) (n_sel > 0 ? n_sel : 1), sizeof *vals);
    if (sel == NULL || vals == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory");
    for (int32_t k = 0; k < n_sel; k++) {
        if (opts->columns != NULL) {
            sel[k] = dp_pq_file_find_column(f, opts->columns[k]);
            if (sel[k] < 0)
                DP_FAIL(err, DP_INVALID_ARG, "%s: no column named '%s' (the file has %d columns)",
                        path, opts->columns[k], n_cols);
        } else {
            sel[k] = k;
        }
        const dp_pq_column_desc *c = dp_pq_file_column(f, sel[k]);
        if (c->nested)
            DP_FAIL(err, DP_UNSUPPORTED,
                    "%s: column '%s' is nested; dpipe reads flat columns only (choose others "
                    "with --columns)",
                    path, c->path);
        dp_pq_values_init(&vals[k]);
    }
    for (int32_t k = 0; k < n_sel; k++) {
        const char *name = dp_pq_file_column(f, sel[k])->path;
        if (k > 0)
            DP_CHECK(dp_buf_append_u8(&line, '\t'));
        DP_CHECK(dp_buf_append(&line, name, strlen(name)));
    }
    DP_CHECK(dp_buf_append_u8(&line, '\n'));
    fwrite(line.data, 1, line.size, out);

    int64_t first = opts->offset > 0 ? opts->offset : 0;
    int64_t end = opts->limit >= 0 ? first + opts->limit : INT64_MAX;
    if (end < first)
        end = INT64_MAX; /* overflow of first + limit */
    int64_t rg_start = 0;
    for (int32_t rg = 0; rg < dp_pq_file_n_row_groups(f) && rg_start < end; rg++) {
        int64_t rows = dp_pq_file_row_group_rows(f, rg);
        int64_t lo = first > rg_start ? first - rg_start : 0;
        int64_t hi = end - rg_start < rows ? end - rg_start : rows;
        if (lo < hi) {
            for (int32_t k = 0; k < n_sel; k++)
                DP_CHECK(dp_pq_read_values(dec, f, rg, sel[k], &vals[k], err));
            for (int64_t i = lo; i < hi; i++) {
                line.size = 0;
                for (int32_t k = 0; k < n_sel; k++) {
                    if (k > 0)
                        DP_CHECK(dp_buf_append_u8(&line, '\t'));
                    DP_CHECK(dp_pq_value_format(&vals[k], dp_pq_file_column(f, sel[k]), i, &line));
                }
                DP_CHECK(dp_buf_append_u8(&line, '\n'));
                if (fwrite(line.data, 1, line.size, out) != line.size)
                    DP_FAIL(err, DP_IO, "write error on output");
            }
        }
        rg_start += rows;
    }
    if (fflush(out) != 0)
        DP_FAIL(err, DP_IO, "write error on output");
cleanup:
    if (st == DP_NOMEM && err != NULL && err->msg[0] == '\0')
        dp_error_set(err, DP_NOMEM, "out of memory");
    if (vals != NULL)
        for (int32_t k = 0; k < n_sel; k++)
            dp_pq_values_reset(&vals[k]);
    dp_free(vals);
    dp_free(sel);
    dp_buf_reset(&line);
    dp_pq_decoder_free(dec);
    dp_pq_file_free(f);
    return st;
}

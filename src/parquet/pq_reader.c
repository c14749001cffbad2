/* Opened Parquet files: the source, the footer bytes and their decoded metadata and schema. */
#include "parquet/pq_internal.h"
#include "util/dp_alloc.h"
#include "util/dp_checksum.h"

#include <string.h>

struct dp_pq_file {
    dp_source *src;
    dp_buf footer;
    dp_pq_file_meta meta;
    dp_pq_column_desc *cols;
    int32_t n_cols;
    uint64_t footer_hash;
};

static dp_status dp__file_from_source(dp_source *src, dp_pq_file **out, dp_error *err) {
    dp_status st = DP_OK;
    dp_pq_file *f = dp_calloc(1, sizeof *f);
    if (f == NULL) {
        dp_source_free(src);
        return dp_error_set(err, DP_NOMEM, "%s: out of memory", dp_source_name(src));
    }
    f->src = src;
    dp_buf_init(&f->footer);
    DP_CHECK(dp_pq_footer_read(src, &f->footer, &f->meta, &f->cols, &f->n_cols, err));
    f->footer_hash = dp_hash64(f->footer.data, f->footer.size, dp_source_size(src));
    *out = f;
    return DP_OK;
cleanup:
    dp_pq_file_free(f);
    return st;
}

dp_status dp_pq_file_open(const char *path, dp_pq_file **out, dp_error *err) {
    *out = NULL;
    dp_source *src = NULL;
    DP_TRY(dp_source_open_file(path, &src, err));
    return dp__file_from_source(src, out, err);
}

dp_status dp_pq_file_open_memory(const void *data, size_t len, const char *name, dp_pq_file **out,
                                 dp_error *err) {
    *out = NULL;
    dp_source *src = NULL;
    DP_TRY(dp_source_open_memory(data, len, name, &src, err));
    return dp__file_from_source(src, out, err);
}

void dp_pq_file_free(dp_pq_file *f) {
    if (f == NULL)
        return;
    dp_pq_columns_free(f->cols, f->n_cols);
    dp_pq_file_meta_reset(&f->meta);
    dp_buf_reset(&f->footer);
    dp_source_free(f->src);
    dp_free(f);
}

const char *dp_pq_file_name(const dp_pq_file *f) {
    return dp_source_name(f->src);
}
uint64_t dp_pq_file_size(const dp_pq_file *f) {
    return dp_source_size(f->src);
}
const dp_source *dp__pq_file_source(const dp_pq_file *f) {
    return f->src;
}
const dp_pq_file_meta *dp_pq_file_metadata(const dp_pq_file *f) {
    return &f->meta;
}
uint64_t dp_pq_file_footer_hash(const dp_pq_file *f) {
    return f->footer_hash;
}
int32_t dp_pq_file_n_columns(const dp_pq_file *f) {
    return f->n_cols;
}
const dp_pq_column_desc *dp_pq_file_column(const dp_pq_file *f, int32_t i) {
    return &f->cols[i];
}
int32_t dp_pq_file_find_column(const dp_pq_file *f, const char *path) {
    for (int32_t i = 0; i < f->n_cols; i++)
        if (strcmp(f->cols[i].path, path) == 0)
            return i;
    return -1;
}
int64_t dp_pq_file_n_rows(const dp_pq_file *f) {
    return f->meta.num_rows;
}
int32_t dp_pq_file_n_row_groups(const dp_pq_file *f) {
    return f->meta.n_row_groups;
}
int64_t dp_pq_file_row_group_rows(const dp_pq_file *f, int32_t rg) {
    return f->meta.row_groups[rg].num_rows;
}

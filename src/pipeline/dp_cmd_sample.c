/* `dpipe sample`: K rows per file (the original's Pass 0) with every column, into one Parquet
 * file. Rows are chosen by dp_scan_sample_rows, exactly as SAMPLE scans choose them; only row
 * groups that hold chosen rows are decoded, one column chunk at a time, and the chosen rows of
 * each row group are appended to the writer (which holds at most one output row group). */
#include "batch/dp_dataset.h"
#include "batch/dp_scan.h"
#include "dpipe/dp_commands.h"
#include "parquet/pq_writer.h"
#include "pipeline/dp_gen.h"
#include "util/dp_alloc.h"
#include "util/dp_buf.h"
#include "util/dp_log.h"
#include "util/dp_progress.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* What an output column holds, decided over every file that has the column. */
typedef enum dp__out {
    OUT_BOOL,   /* BOOLEAN in every file */
    OUT_INT64,  /* integral in every file */
    OUT_DOUBLE, /* other numbers */
    OUT_STRING, /* STRING in every file */
    OUT_BINARY, /* strings and binary mixed, or binary */
    OUT_TEXT    /* temporal values as their ISO text (STRING) */
} dp__out;

typedef struct dp__scol {
    int32_t ucol; /* unified column */
    const char *name;
    dp__out out;
    bool seen; /* some file has it with a non-NULL type */
    /* staging of the chosen rows of one row group */
    dp_buf values; /* 8 bytes per row (double / int64) or 1 (bool); BYTE_ARRAY: the bytes */
    dp_buf offsets;
    dp_buf valid;
} dp__scol;

static bool dp__integral(const dp_pq_column_desc *c) {
    return c->kind == DP_PQ_KIND_BOOL || c->kind == DP_PQ_KIND_INT ||
           (c->kind == DP_PQ_KIND_UINT && c->type == DP_PQ_INT32);
}

/* Merge the kind of a column in one more file into the output choice. */
static void dp__merge_kind(dp__scol *s, const dp_pq_column_desc *c) {
    if (c->kind == DP_PQ_KIND_NULL)
        return; /* only NULLs: says nothing about the type */
    dp__out o;
    switch (c->kind) {
    case DP_PQ_KIND_BOOL:
        o = OUT_BOOL;
        break;
    case DP_PQ_KIND_STRING:
        o = OUT_STRING;
        break;
    case DP_PQ_KIND_BINARY:
        o = OUT_BINARY;
        break;
    case DP_PQ_KIND_TEMPORAL:
        o = OUT_TEXT;
        break;
    default:
        o = dp__integral(c) ? OUT_INT64 : OUT_DOUBLE;
        break;
    }
    if (!s->seen) {
        s->out = o;
        s->seen = true;
        return;
    }
    if (s->out == o)
        return;
    bool s_num = s->out <= OUT_DOUBLE, o_num = o <= OUT_DOUBLE;
    if (s_num && o_num)
        s->out = (s->out == OUT_DOUBLE || o == OUT_DOUBLE) ? OUT_DOUBLE : OUT_INT64;
    else if ((s->out == OUT_STRING || s->out == OUT_BINARY) && (o == OUT_STRING || o == OUT_BINARY))
        s->out = OUT_BINARY;
    /* other mixes are refused by the dataset (numeric vs text) or keep the first choice */
}

static dp_status dp__nomem(dp_error *err) {
    return dp_error_set(err, DP_NOMEM, "sample: out of memory");
}

/* Append the chosen rows rel[0..m) of decoded values v (column desc c) to s. */
static dp_status dp__gather(dp__scol *s, const dp_pq_values *v, const dp_pq_column_desc *c,
                            const int64_t *rel, int64_t m, dp_buf *text, dp_error *err) {
    const uint8_t *valid = v->valid.data;
    size_t at_valid = s->valid.size;
    if (dp_buf_resize(&s->valid, at_valid + (size_t) m) != DP_OK)
        return dp__nomem(err);
    for (int64_t i = 0; i < m; i++)
        s->valid.data[at_valid + (size_t) i] = valid[rel[i]];
    switch (s->out) {
    case OUT_BOOL: {
        size_t at = s->values.size;
        if (dp_buf_resize(&s->values, at + (size_t) m) != DP_OK)
            return dp__nomem(err);
        for (int64_t i = 0; i < m; i++)
            s->values.data[at + (size_t) i] = valid[rel[i]] ? v->fixed.data[rel[i]] != 0 : 0;
        return DP_OK;
    }
    case OUT_INT64:
    case OUT_DOUBLE: {
        size_t at = s->values.size;
        if (dp_buf_resize(&s->values, at + (size_t) m * 8) != DP_OK)
            return dp__nomem(err);
        uint8_t *dst = s->values.data + at;
        for (int64_t i = 0; i < m; i++, dst += 8) {
            int64_t r = rel[i];
            if (s->out == OUT_DOUBLE) {
                double x = valid[r] ? dp_pq_value_to_double(v, c, r) : 0.0;
                memcpy(dst, &x, 8);
                continue;
            }
            int64_t x = 0;
            if (valid[r]) {
                const uint8_t *p = v->fixed.data + (size_t) r * (size_t) v->width;
                if (c->kind == DP_PQ_KIND_BOOL) {
                    x = p[0] != 0;
                } else if (c->type == DP_PQ_INT32) {
                    int32_t y;
                    uint32_t u;
                    memcpy(&y, p, 4);
                    memcpy(&u, p, 4);
                    x = c->kind == DP_PQ_KIND_UINT ? (int64_t) u : (int64_t) y;
                } else {
                    memcpy(&x, p, 8);
                }
            }
            memcpy(dst, &x, 8);
        }
        return DP_OK;
    }
    default:
        break;
    }
    /* Byte strings: from BYTE_ARRAY values, fixed-width bytes, or formatted text. */
    if (s->offsets.size == 0) {
        int64_t zero = 0;
        if (dp_buf_append(&s->offsets, &zero, 8) != DP_OK)
            return dp__nomem(err);
    }
    for (int64_t i = 0; i < m; i++) {
        int64_t r = rel[i];
        dp_status st = DP_OK;
        if (valid[r]) {
            if (s->out == OUT_TEXT) {
                text->size = 0;
                st = dp_pq_value_format(v, c, r, text);
                if (st == DP_OK)
                    st = dp_buf_append(&s->values, text->data, text->size);
            } else if (v->width > 0) {
                st = dp_buf_append(&s->values, v->fixed.data + (size_t) r * (size_t) v->width,
                                   (size_t) v->width);
            } else {
                const int64_t *o = (const int64_t *) v->offsets.data;
                if (o[r + 1] > o[r])
                    st = dp_buf_append(&s->values, v->heap.data + o[r], (size_t) (o[r + 1] - o[r]));
            }
        }
        int64_t end = (int64_t) s->values.size;
        if (st == DP_OK)
            st = dp_buf_append(&s->offsets, &end, 8);
        if (st != DP_OK)
            return dp__nomem(err);
    }
    return DP_OK;
}

/* m NULL rows. */
static dp_status dp__nulls(dp__scol *s, int64_t m, dp_error *err) {
    size_t at = s->valid.size;
    if (dp_buf_resize(&s->valid, at + (size_t) m) != DP_OK)
        return dp__nomem(err);
    memset(s->valid.data + at, 0, (size_t) m);
    if (s->out <= OUT_DOUBLE) {
        size_t w = s->out == OUT_BOOL ? 1 : 8;
        size_t vat = s->values.size;
        if (dp_buf_resize(&s->values, vat + (size_t) m * w) != DP_OK)
            return dp__nomem(err);
        memset(s->values.data + vat, 0, (size_t) m * w);
        return DP_OK;
    }
    if (s->offsets.size == 0) {
        int64_t zero = 0;
        if (dp_buf_append(&s->offsets, &zero, 8) != DP_OK)
            return dp__nomem(err);
    }
    int64_t end = (int64_t) s->values.size;
    for (int64_t i = 0; i < m; i++)
        if (dp_buf_append(&s->offsets, &end, 8) != DP_OK)
            return dp__nomem(err);
    return DP_OK;
}

/* Is `out` (which may not exist yet) one of the dataset's files? */
static bool dp__is_input(const dp_dataset *ds, const char *out) {
    char *ro = realpath(out, NULL);
    if (ro == NULL)
        return false;
    bool same = false;
    for (int32_t f = 0; f < dp_dataset_n_files(ds) && !same; f++) {
        char *rf = realpath(dp_dataset_file_at(ds, f)->path, NULL);
        same = rf != NULL && strcmp(rf, ro) == 0;
        free(rf);
    }
    free(ro);
    return same;
}

dp_status dp_cmd_sample(const char *const *inputs, int n_inputs, const dp_sample_options *o,
                        dp_error *err) {
    dp_status st = DP_OK;
    dp_dataset *ds = NULL;
    dp__scol *sc = NULL;
    dp_pq_write_column *specs = NULL;
    dp_pq_column_data *views = NULL;
    int32_t *fcol = NULL;
    int64_t *rows_sel = NULL;
    int64_t *rel = NULL;
    dp_pq_file *pf = NULL;
    dp_pq_decoder *dec = NULL;
    dp_pq_writer *w = NULL;
    dp_progress *prog = NULL;
    dp_pq_values vals;
    dp_pq_values_init(&vals);
    dp_buf text;
    dp_buf_init(&text);
    int32_t n_out = 0;

    if (o->output == NULL || o->output[0] == '\0')
        return dp_error_set(err, DP_INVALID_ARG, "sample: no output file (-o FILE)");
    if (o->sample_per_file < 1)
        return dp_error_set(err, DP_INVALID_ARG, "sample: --sample-per-file must be >= 1, got %lld",
                            (long long) o->sample_per_file);
    int codec = 0;
    DP_TRY(dp__output_codec(o->codec, &codec, err));
    DP_CHECK(dp_dataset_open(inputs, n_inputs, &ds, err));
    if (dp__is_input(ds, o->output))
        DP_FAIL(err, DP_INVALID_ARG, "sample: the output %s is also an input", o->output);
    int32_t n_files = dp_dataset_n_files(ds);
    int32_t n_ucols = dp_dataset_n_columns(ds);

    /* Output columns: every flat column of the unified schema, in its order. */
    sc = dp_calloc((size_t) (n_ucols > 0 ? n_ucols : 1), sizeof *sc);
    fcol = dp_calloc((size_t) (n_ucols > 0 ? n_ucols : 1), sizeof *fcol);
    if (sc == NULL || fcol == NULL)
        DP_FAIL(err, DP_NOMEM, "sample: out of memory");
    for (int32_t u = 0; u < n_ucols; u++) {
        const dp_dataset_column *dc = dp_dataset_column_at(ds, u);
        if (dc->nested || dc->kind == DP_PQ_KIND_OTHER) {
            dp_log_warn("sample: column '%s' is %s; it is not written", dc->name,
                        dc->nested ? "nested" : "of a type dpipe cannot read");
            continue;
        }
        dp__scol *s = &sc[n_out++];
        s->ucol = u;
        s->name = dc->name;
        s->out = OUT_DOUBLE; /* for columns that are NULL-only everywhere */
        dp_buf_init(&s->values);
        dp_buf_init(&s->offsets);
        dp_buf_init(&s->valid);
    }
    if (n_out == 0)
        DP_FAIL(err, DP_INVALID_ARG, "sample: the inputs have no flat column to write");
    /* Types: one more look at every footer (the dataset keeps only the first file's kind). */
    int64_t total_out = 0;
    for (int32_t f = 0; f < n_files; f++) {
        const dp_dataset_file *df = dp_dataset_file_at(ds, f);
        DP_CHECK(dp_pq_file_open(df->path, &pf, err));
        for (int32_t k = 0; k < n_out; k++) {
            int32_t c = dp_pq_file_find_column(pf, sc[k].name);
            if (c >= 0)
                dp__merge_kind(&sc[k], dp_pq_file_column(pf, c));
        }
        dp_pq_file_free(pf);
        pf = NULL;
        total_out += DP_MIN(df->rows, o->sample_per_file);
    }
    specs = dp_calloc((size_t) n_out, sizeof *specs);
    views = dp_calloc((size_t) n_out, sizeof *views);
    if (specs == NULL || views == NULL)
        DP_FAIL(err, DP_NOMEM, "sample: out of memory");
    for (int32_t k = 0; k < n_out; k++) {
        static const dp_pq_physical phys[] = {DP_PQ_BOOLEAN,    DP_PQ_INT64,      DP_PQ_DOUBLE,
                                              DP_PQ_BYTE_ARRAY, DP_PQ_BYTE_ARRAY, DP_PQ_BYTE_ARRAY};
        dp__out out = sc[k].out;
        bool str = out == OUT_STRING || out == OUT_TEXT;
        specs[k] = (dp_pq_write_column){sc[k].name, phys[out], str, true, out >= OUT_STRING};
    }
    dp_pq_writer_options wo = {.codec = codec, .row_group_rows = o->row_group_rows};
    DP_CHECK(dp_pq_writer_create(o->output, specs, n_out, &wo, &w, err));
    dp_pq_decoder_options dopts = {.verify_crc = !o->no_verify_crc};
    DP_CHECK(dp_pq_decoder_create(&dopts, &dec, err));
    if (o->progress)
        prog = dp_progress_create("sample", total_out, dp_dataset_bytes(ds));
    double t0 = dp_now();

    int64_t done = 0;
    uint64_t bytes_in = 0;
    int32_t n_whole = 0;
    for (int32_t f = 0; f < n_files; f++) {
        const dp_dataset_file *df = dp_dataset_file_at(ds, f);
        int64_t k = DP_MIN(df->rows, o->sample_per_file);
        if (k == 0)
            continue;
        if (k == df->rows)
            n_whole++;
        int64_t *nr = dp_reallocarray(rows_sel, (size_t) k, sizeof *nr);
        int64_t *nl = dp_reallocarray(rel, (size_t) k, sizeof *nl);
        if (nr != NULL)
            rows_sel = nr;
        if (nl != NULL)
            rel = nl;
        if (nr == NULL || nl == NULL)
            DP_FAIL(err, DP_NOMEM, "sample: out of memory for %lld row indices", (long long) k);
        dp_scan_sample_rows(o->seed, df->base_name, df->rows, k, rows_sel);
        DP_CHECK(dp_pq_file_open(df->path, &pf, err));
        if (dp_pq_file_footer_hash(pf) != df->footer_hash)
            DP_FAIL(err, DP_IO, "%s: the file changed while dpipe was reading it", df->path);
        for (int32_t q = 0; q < n_out; q++)
            fcol[q] = dp_pq_file_find_column(pf, sc[q].name);
        int64_t lo = 0, next = 0;
        for (int32_t rg = 0; rg < dp_pq_file_n_row_groups(pf) && next < k; rg++) {
            int64_t hi = lo + dp_pq_file_row_group_rows(pf, rg);
            int64_t m = 0;
            while (next < k && rows_sel[next] < hi)
                rel[m++] = rows_sel[next++] - lo;
            if (m > 0) {
                for (int32_t q = 0; q < n_out; q++) {
                    dp__scol *s = &sc[q];
                    s->values.size = s->offsets.size = s->valid.size = 0;
                    const dp_pq_column_desc *c =
                        fcol[q] >= 0 ? dp_pq_file_column(pf, fcol[q]) : NULL;
                    if (c == NULL || c->kind == DP_PQ_KIND_NULL || c->nested) {
                        DP_CHECK(dp__nulls(s, m, err));
                    } else {
                        DP_CHECK(dp_pq_read_values(dec, pf, rg, fcol[q], &vals, err));
                        DP_CHECK(dp__gather(s, &vals, c, rel, m, &text, err));
                    }
                    views[q] =
                        (dp_pq_column_data){s->values.data, (const int64_t *) s->offsets.data,
                                            s->values.data, s->valid.data};
                }
                st = dp_pq_writer_append(w, views, m, err);
                if (st != DP_OK) {
                    /* Bad values (e.g. invalid UTF-8 in a STRING column) come from the input. */
                    if (st == DP_INVALID_ARG)
                        st = DP_CORRUPT;
                    if (err != NULL)
                        err->status = st;
                    dp_error_prefix(err, "%s: row group %d: ", df->path, rg);
                    goto cleanup;
                }
                done += m;
                dp_progress_update(prog, done, bytes_in);
            }
            lo = hi;
        }
        if (next != k)
            DP_FAIL(err, DP_CORRUPT, "%s: row groups hold fewer rows than the footer's %lld",
                    df->path, (long long) df->rows);
        bytes_in += df->size;
        dp_pq_file_free(pf);
        pf = NULL;
    }
    DP_CHECK(dp_pq_writer_close(w, err));
    dp_progress_finish(prog);
    if (o->progress) {
        char size[32];
        dp_format_bytes(size, sizeof size, (double) dp_pq_writer_bytes(w));
        double dt = dp_now() - t0;
        dp_log_info("sample: %lld rows from %d files (%d taken whole; %.1f rows per file) x %d "
                    "columns -> %s (%s) in %.1f s",
                    (long long) done, n_files, n_whole, n_files > 0 ? (double) done / n_files : 0.0,
                    n_out, o->output, size, dt);
    }
cleanup:
    dp_pq_writer_free(w);
    dp_pq_decoder_free(dec);
    dp_pq_file_free(pf);
    dp_progress_free(prog);
    if (sc != NULL)
        for (int32_t q = 0; q < n_out; q++) {
            dp_buf_reset(&sc[q].values);
            dp_buf_reset(&sc[q].offsets);
            dp_buf_reset(&sc[q].valid);
        }
    dp_free(sc);
    dp_free(specs);
    dp_free(views);
    dp_free(fcol);
    dp_free(rows_sel);
    dp_free(rel);
    dp_pq_values_reset(&vals);
    dp_buf_reset(&text);
    dp_dataset_free(ds);
    return st;
}

/* The Parquet writer: row-group buffering, page encoding (PLAIN / dictionary), statistics, page
 * and footer serialisation with the Thrift compact encoder. Field ids follow parquet.thrift
 * (PageHeader, DataPageHeader, DictionaryPageHeader, ColumnMetaData, Statistics, RowGroup,
 * SchemaElement, FileMetaData, ColumnOrder). */
#include "parquet/pq_writer.h"
#include "dpipe/dp_features.h"
#include "io/dp_sink.h"
#include "parquet/pq_codec.h"
#include "parquet/pq_encoding.h"
#include "parquet/thrift_compact.h"
#include "util/dp_alloc.h"
#include "util/dp_buf.h"
#include "util/dp_checksum.h"
#include "util/dp_limits.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DP__RG_TARGET_BYTES ((int64_t) 64 << 20)
#define DP__RG_MIN_ROWS     1024
#define DP__RG_MAX_ROWS     ((int64_t) 1 << 20)
#define DP__PAGE_DEFAULT    ((int64_t) 1 << 20)
#define DP__PAGE_MAX        ((int64_t) 256 << 20)
#define DP__PAGE_ROWS_MAX   ((int64_t) 1 << 20)
#define DP__DICT_DEFAULT    ((int64_t) 1 << 20)
#define DP__STAT_MAX        64 /* longest string min/max written */

typedef struct dp__wcol {
    char *name;
    dp_pq_physical type;
    bool string, optional, dictionary;
    int32_t width; /* bytes per value in buffers; 0 = BYTE_ARRAY */
    /* buffered rows of the current row group */
    dp_buf values;  /* fixed: rows * width; BYTE_ARRAY: the bytes */
    dp_buf offsets; /* BYTE_ARRAY: (rows + 1) int64 */
    dp_buf valid;   /* OPTIONAL: rows bytes */
} dp__wcol;

/* What the footer needs of one column chunk of the row group being written. */
typedef struct dp__chunk {
    int64_t start, data_page_offset, dict_page_offset; /* dict -1 = none */
    int64_t compressed, uncompressed, num_values, null_count;
    bool dict_used;
    bool has_min, has_max;
    int32_t min_len, max_len;
    uint8_t min[DP__STAT_MAX], max[DP__STAT_MAX];
} dp__chunk;

struct dp_pq_writer {
    dp_sink *sink;
    char *path;
    dp__wcol *cols;
    int32_t n_cols;
    int codec, level;
    int64_t rg_rows_max, page_bytes, dict_max_bytes;
    bool crc;
    char *created_by;
    char **kv_keys, **kv_values;
    int n_kv;

    int64_t buffered;     /* rows in the column buffers */
    int64_t rows_written; /* rows in row groups on disk */
    int64_t rows_seen;    /* rows passed in (for messages) */
    int32_t n_row_groups;
    dp_buf footer_rgs; /* serialised RowGroup structs, in order */
    dp__chunk *chunks; /* n_cols, for the row group being written */

    dp_pq_codec_ctx *codec_ctx;
    dp_buf page, comp, hdr; /* page body, compressed body, page header */
    dp_buf lv;              /* uint32 scratch: levels or dictionary indices */
    dp_buf dict_slots;      /* uint32 hash slots */
    dp_buf dict_first;      /* int64: row of each dictionary entry's first appearance */
    dp_buf dict_idx;        /* uint32: entry of each row (rows of the chunk) */

    dp_status status; /* sticky */
    dp_error error;
    bool closed;
};

/* ---- small helpers ------------------------------------------------------------------------- */

int dp_pq_codec_from_name(const char *name) {
    if (name == NULL)
        return -1;
    if (strcasecmp(name, "none") == 0 || strcasecmp(name, "uncompressed") == 0)
        return DP_PQ_CODEC_UNCOMPRESSED;
    if (strcasecmp(name, "snappy") == 0)
        return DP_PQ_CODEC_SNAPPY;
    if (strcasecmp(name, "zstd") == 0)
        return DP_PQ_CODEC_ZSTD;
    if (strcasecmp(name, "gzip") == 0)
        return DP_PQ_CODEC_GZIP;
    if (strcasecmp(name, "lz4_raw") == 0 || strcasecmp(name, "lz4raw") == 0)
        return DP_PQ_CODEC_LZ4_RAW;
    return -1;
}

static int32_t dp__width(dp_pq_physical t) {
    switch (t) {
    case DP_PQ_BOOLEAN:
        return 1;
    case DP_PQ_INT32:
    case DP_PQ_FLOAT:
        return 4;
    case DP_PQ_INT64:
    case DP_PQ_DOUBLE:
        return 8;
    default:
        return 0;
    }
}

/* Record the first failure; later calls return it. */
static dp_status dp__stick(dp_pq_writer *w, dp_status st, const dp_error *e, dp_error *err) {
    if (st == DP_OK)
        return st;
    if (w->status == DP_OK) {
        w->status = st;
        if (e != NULL && e != &w->error)
            w->error = *e;
        if (w->error.msg[0] == '\0')
            dp_error_set(&w->error, st, "%s: %s", w->path, dp_status_text(st));
    }
    if (err != NULL && err != &w->error)
        *err = w->error;
    return w->status;
}

static dp_status dp__refuse(const dp_pq_writer *w, dp_error *err) {
    if (w->status != DP_OK) {
        if (err != NULL)
            *err = w->error;
        return w->status;
    }
    if (w->closed)
        return dp_error_set(err, DP_STATE, "%s: the writer is closed", w->path);
    return DP_OK;
}

/* Strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF); returns the offset of the first
 * bad byte or len when valid. */
static size_t dp__utf8_bad(const uint8_t *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) {
            n = 2, cp = c & 0x1fu, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 3, cp = c & 0x0fu, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 4, cp = c & 0x07u, min = 0x10000;
        } else {
            return i;
        }
        if (len - i < n)
            return i;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return i;
            cp = cp << 6 | (s[i + k] & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return i;
        i += n;
    }
    return len;
}

/* ---- create / free ------------------------------------------------------------------------- */

static int dp__cmp_name(const void *a, const void *b) {
    return strcmp(*(char *const *) a, *(char *const *) b);
}

dp_status dp_pq_writer_create(const char *path, const dp_pq_write_column *cols, int32_t n_cols,
                              const dp_pq_writer_options *opts, dp_pq_writer **out, dp_error *err) {
    dp_status st = DP_OK;
    dp_pq_writer *w = NULL;
    char **sorted = NULL;
    *out = NULL;
    dp_pq_writer_options o = {0};
    if (opts != NULL)
        o = *opts;
    if (path == NULL || path[0] == '\0')
        return dp_error_set(err, DP_INVALID_ARG, "parquet writer: empty output path");
    if (n_cols < 1 || n_cols >= DP_LIMIT_SCHEMA_MAX)
        return dp_error_set(err, DP_INVALID_ARG, "%s: %d columns (allowed 1..%d)", path, n_cols,
                            DP_LIMIT_SCHEMA_MAX - 1);
    if (o.codec < 0 || !dp_pq_codec_can_compress(o.codec))
        return dp_error_set(err, DP_UNSUPPORTED, "%s: this build cannot write codec %s (id %d)",
                            path, dp_pq_codec_name(o.codec) ? dp_pq_codec_name(o.codec) : "unknown",
                            o.codec);
    if (o.row_group_rows < 0 || o.row_group_rows > DP_LIMIT_ROWS_PER_GROUP_MAX ||
        o.page_bytes < 0 || o.page_bytes > DP__PAGE_MAX || o.dict_max_bytes < 0 ||
        o.dict_max_bytes > DP__PAGE_MAX || o.n_kv < 0)
        return dp_error_set(err, DP_INVALID_ARG,
                            "%s: writer options out of range (row_group_rows %lld, page_bytes "
                            "%lld, dict_max_bytes %lld; pages at most %lld bytes)",
                            path, (long long) o.row_group_rows, (long long) o.page_bytes,
                            (long long) o.dict_max_bytes, (long long) DP__PAGE_MAX);

    w = dp_calloc(1, sizeof *w);
    if (w == NULL)
        return dp_error_set(err, DP_NOMEM, "%s: out of memory", path);
    w->path = dp_strdup(path);
    w->cols = dp_calloc((size_t) n_cols, sizeof *w->cols);
    w->chunks = dp_calloc((size_t) n_cols, sizeof *w->chunks);
    sorted = dp_calloc((size_t) n_cols, sizeof *sorted);
    const char *cb = o.created_by != NULL ? o.created_by : "dpipe " DP_VERSION_STRING;
    w->created_by = dp_strdup(cb);
    if (w->path == NULL || w->cols == NULL || w->chunks == NULL || sorted == NULL ||
        w->created_by == NULL)
        DP_FAIL(err, DP_NOMEM, "%s: out of memory", path);
    w->n_cols = n_cols;
    int64_t row_bytes = 0;
    for (int32_t k = 0; k < n_cols; k++) {
        const dp_pq_write_column *c = &cols[k];
        dp__wcol *wc = &w->cols[k];
        if (c->name == NULL || c->name[0] == '\0')
            DP_FAIL(err, DP_INVALID_ARG, "%s: column %d has an empty name", path, k);
        if (c->type != DP_PQ_BOOLEAN && c->type != DP_PQ_INT32 && c->type != DP_PQ_INT64 &&
            c->type != DP_PQ_FLOAT && c->type != DP_PQ_DOUBLE && c->type != DP_PQ_BYTE_ARRAY)
            DP_FAIL(err, DP_INVALID_ARG, "%s: column '%s': the writer does not support type %d",
                    path, c->name, (int) c->type);
        if ((c->string || c->dictionary) && c->type != DP_PQ_BYTE_ARRAY)
            DP_FAIL(err, DP_INVALID_ARG,
                    "%s: column '%s': string/dictionary options need BYTE_ARRAY, not %s", path,
                    c->name, dp_pq_physical_name(c->type));
        wc->name = dp_strdup(c->name);
        if (wc->name == NULL)
            DP_FAIL(err, DP_NOMEM, "%s: out of memory", path);
        sorted[k] = wc->name;
        wc->type = c->type;
        wc->string = c->string;
        wc->optional = c->optional;
        wc->dictionary = c->dictionary;
        wc->width = dp__width(c->type);
        row_bytes += (wc->width > 0 ? wc->width : 16) + (wc->optional ? 1 : 0);
        dp_buf_init(&wc->values);
        dp_buf_init(&wc->offsets);
        dp_buf_init(&wc->valid);
    }
    qsort(sorted, (size_t) n_cols, sizeof *sorted, dp__cmp_name);
    for (int32_t k = 1; k < n_cols; k++)
        if (strcmp(sorted[k - 1], sorted[k]) == 0)
            DP_FAIL(err, DP_INVALID_ARG, "%s: two columns are named '%s'", path, sorted[k]);
    if (o.n_kv > 0) {
        w->kv_keys = dp_calloc((size_t) o.n_kv, sizeof *w->kv_keys);
        w->kv_values = dp_calloc((size_t) o.n_kv, sizeof *w->kv_values);
        if (w->kv_keys == NULL || w->kv_values == NULL)
            DP_FAIL(err, DP_NOMEM, "%s: out of memory", path);
        w->n_kv = o.n_kv;
        for (int i = 0; i < o.n_kv; i++) {
            w->kv_keys[i] = dp_strdup(o.kv_keys[i] != NULL ? o.kv_keys[i] : "");
            w->kv_values[i] = o.kv_values[i] != NULL ? dp_strdup(o.kv_values[i]) : NULL;
            if (w->kv_keys[i] == NULL || (o.kv_values[i] != NULL && w->kv_values[i] == NULL))
                DP_FAIL(err, DP_NOMEM, "%s: out of memory", path);
        }
    }

    w->codec = o.codec;
    w->level = o.level;
    if (o.row_group_rows > 0) {
        w->rg_rows_max = o.row_group_rows;
    } else {
        int64_t r = DP__RG_TARGET_BYTES / (row_bytes > 0 ? row_bytes : 1);
        r = r / DP__RG_MIN_ROWS * DP__RG_MIN_ROWS;
        w->rg_rows_max = DP_MAX(DP__RG_MIN_ROWS, DP_MIN(DP__RG_MAX_ROWS, r));
    }
    w->page_bytes = o.page_bytes > 0 ? o.page_bytes : DP__PAGE_DEFAULT;
    w->dict_max_bytes = o.dict_max_bytes > 0 ? o.dict_max_bytes : DP__DICT_DEFAULT;
    w->crc = !o.no_crc;
    dp_buf_init(&w->footer_rgs);
    dp_buf_init(&w->page);
    dp_buf_init(&w->comp);
    dp_buf_init(&w->hdr);
    dp_buf_init(&w->lv);
    dp_buf_init(&w->dict_slots);
    dp_buf_init(&w->dict_first);
    dp_buf_init(&w->dict_idx);
    DP_CHECK(dp_pq_codec_ctx_create(&w->codec_ctx, err));
    DP_CHECK(dp_sink_open(path, &w->sink, err));
    static const uint8_t magic[4] = {'P', 'A', 'R', '1'};
    DP_CHECK(dp_sink_write(w->sink, magic, 4, err));
    dp_free(sorted);
    *out = w;
    return DP_OK;
cleanup:
    dp_free(sorted);
    dp_pq_writer_free(w);
    return st;
}

void dp_pq_writer_free(dp_pq_writer *w) {
    if (w == NULL)
        return;
    dp_sink_free(w->sink);
    if (w->cols != NULL)
        for (int32_t k = 0; k < w->n_cols; k++) {
            dp_free(w->cols[k].name);
            dp_buf_reset(&w->cols[k].values);
            dp_buf_reset(&w->cols[k].offsets);
            dp_buf_reset(&w->cols[k].valid);
        }
    for (int i = 0; i < w->n_kv; i++) {
        dp_free(w->kv_keys[i]);
        dp_free(w->kv_values[i]);
    }
    dp_free(w->kv_keys);
    dp_free(w->kv_values);
    dp_free(w->cols);
    dp_free(w->chunks);
    dp_free(w->path);
    dp_free(w->created_by);
    dp_pq_codec_ctx_free(w->codec_ctx);
    dp_buf_reset(&w->footer_rgs);
    dp_buf_reset(&w->page);
    dp_buf_reset(&w->comp);
    dp_buf_reset(&w->hdr);
    dp_buf_reset(&w->lv);
    dp_buf_reset(&w->dict_slots);
    dp_buf_reset(&w->dict_first);
    dp_buf_reset(&w->dict_idx);
    dp_free(w);
}

int64_t dp_pq_writer_rows(const dp_pq_writer *w) {
    return w->rows_written;
}

uint64_t dp_pq_writer_bytes(const dp_pq_writer *w) {
    return w->sink != NULL ? dp_sink_offset(w->sink) : 0;
}

int64_t dp_pq_writer_row_group_rows(const dp_pq_writer *w) {
    return w->rg_rows_max;
}

/* ---- input checks -------------------------------------------------------------------------- */

/* Rows [0, n) of one column: NULLs only where allowed, offsets sane, strings valid UTF-8. `row0`
 * is the file row of the first one (for messages). */
static dp_status dp__check_column(const dp_pq_writer *w, const dp__wcol *c,
                                  const dp_pq_column_data *d, int64_t n, int64_t row0,
                                  dp_error *err) {
    if (n == 0)
        return DP_OK;
    if (c->width > 0 && d->values == NULL)
        return dp_error_set(err, DP_INVALID_ARG, "%s: column '%s': no values given", w->path,
                            c->name);
    if (d->valid != NULL && !c->optional)
        for (int64_t i = 0; i < n; i++)
            if (!d->valid[i])
                return dp_error_set(err, DP_INVALID_ARG,
                                    "%s: column '%s' is REQUIRED but row %lld is NULL", w->path,
                                    c->name, (long long) (row0 + i));
    if (c->width > 0)
        return DP_OK;
    if (d->offsets == NULL || (d->bytes == NULL && d->offsets[n] != d->offsets[0]))
        return dp_error_set(err, DP_INVALID_ARG, "%s: column '%s': no offsets/bytes given", w->path,
                            c->name);
    if (d->offsets[0] < 0)
        return dp_error_set(err, DP_INVALID_ARG, "%s: column '%s': negative offset", w->path,
                            c->name);
    for (int64_t i = 0; i < n; i++) {
        int64_t len = d->offsets[i + 1] - d->offsets[i];
        if (len < 0)
            return dp_error_set(err, DP_INVALID_ARG,
                                "%s: column '%s', row %lld: offsets decrease (%lld -> %lld)",
                                w->path, c->name, (long long) (row0 + i), (long long) d->offsets[i],
                                (long long) d->offsets[i + 1]);
        if (d->valid != NULL && !d->valid[i])
            continue;
        if (len > DP_LIMIT_STRING_MAX)
            return dp_error_set(err, DP_LIMIT,
                                "%s: column '%s', row %lld: value of %lld bytes exceeds the limit "
                                "of %lld",
                                w->path, c->name, (long long) (row0 + i), (long long) len,
                                (long long) DP_LIMIT_STRING_MAX);
        if (c->string && len > 0) {
            const uint8_t *s = d->bytes + d->offsets[i];
            size_t bad = dp__utf8_bad(s, (size_t) len);
            if (bad < (size_t) len)
                return dp_error_set(err, DP_INVALID_ARG,
                                    "%s: column '%s', row %lld: invalid UTF-8 at byte %zu of a "
                                    "STRING value",
                                    w->path, c->name, (long long) (row0 + i), bad);
        }
    }
    return DP_OK;
}

/* ---- pages --------------------------------------------------------------------------------- */

/* Compress w->page and write header + body. type: DATA or DICTIONARY. */
static dp_status dp__write_page(dp_pq_writer *w, dp__chunk *ch, int32_t type, int64_t num_values,
                                int32_t encoding, dp_error *err) {
    if (w->page.size > (size_t) INT32_MAX)
        return dp_error_set(err, DP_LIMIT, "page of %zu bytes exceeds the format's 2 GiB",
                            w->page.size);
    const uint8_t *body = w->page.data;
    size_t body_len = w->page.size;
    if (w->codec != DP_PQ_CODEC_UNCOMPRESSED) {
        DP_TRY(dp_pq_compress(w->codec_ctx, w->codec, w->level, w->page.data, w->page.size,
                              &w->comp, err));
        body = w->comp.data;
        body_len = w->comp.size;
        if (body_len > (size_t) INT32_MAX)
            return dp_error_set(err, DP_LIMIT, "compressed page of %zu bytes exceeds 2 GiB",
                                body_len);
    }
    w->hdr.size = 0;
    dp_thrift_writer tw;
    dp_thrift_writer_init(&tw, &w->hdr);
    dp_thrift_write_struct_begin(&tw);
    dp_thrift_write_field_i32(&tw, 1, type);
    dp_thrift_write_field_i32(&tw, 2, (int32_t) w->page.size);
    dp_thrift_write_field_i32(&tw, 3, (int32_t) body_len);
    if (w->crc)
        dp_thrift_write_field_i32(&tw, 4, (int32_t) dp_crc32(0, body, body_len));
    if (type == DP_PQ_PAGE_DATA) {
        dp_thrift_write_field_struct_begin(&tw, 5);
        dp_thrift_write_field_i32(&tw, 1, (int32_t) num_values);
        dp_thrift_write_field_i32(&tw, 2, encoding);
        dp_thrift_write_field_i32(&tw, 3, DP_PQ_ENC_RLE);
        dp_thrift_write_field_i32(&tw, 4, DP_PQ_ENC_RLE);
        dp_thrift_write_struct_end(&tw);
    } else {
        dp_thrift_write_field_struct_begin(&tw, 7);
        dp_thrift_write_field_i32(&tw, 1, (int32_t) num_values);
        dp_thrift_write_field_i32(&tw, 2, encoding);
        dp_thrift_write_struct_end(&tw);
    }
    dp_thrift_write_struct_end(&tw);
    DP_TRY(dp_thrift_writer_finish(&tw, err));
    int64_t at = (int64_t) dp_sink_offset(w->sink);
    if (type == DP_PQ_PAGE_DICTIONARY)
        ch->dict_page_offset = at;
    else if (ch->data_page_offset < 0)
        ch->data_page_offset = at;
    DP_TRY(dp_sink_write(w->sink, w->hdr.data, w->hdr.size, err));
    DP_TRY(dp_sink_write(w->sink, body, body_len, err));
    ch->compressed += (int64_t) (w->hdr.size + body_len);
    ch->uncompressed += (int64_t) (w->hdr.size + w->page.size);
    return DP_OK;
}

/* Definition levels of rows [r0, r1) (v1: 4-byte length + RLE hybrid, bit width 1) into w->page;
 * returns the non-null count. */
static dp_status dp__put_levels(dp_pq_writer *w, const uint8_t *valid, int64_t r0, int64_t r1,
                                int64_t *nn, dp_error *err) {
    int64_t n = r1 - r0;
    if (dp_buf_resize(&w->lv, (size_t) n * sizeof(uint32_t)) != DP_OK)
        return dp_error_set(err, DP_NOMEM, "out of memory for definition levels");
    uint32_t *lv = (uint32_t *) w->lv.data;
    int64_t count = 0;
    for (int64_t i = 0; i < n; i++) {
        lv[i] = valid == NULL || valid[r0 + i] ? 1u : 0u;
        count += lv[i];
    }
    size_t at = w->page.size;
    uint8_t zero[4] = {0};
    if (dp_buf_append(&w->page, zero, 4) != DP_OK || dp_pq_rle_encode(lv, n, 1, &w->page) != DP_OK)
        return dp_error_set(err, DP_NOMEM, "out of memory for definition levels");
    uint32_t len = (uint32_t) (w->page.size - at - 4);
    for (int b = 0; b < 4; b++)
        w->page.data[at + (size_t) b] = (uint8_t) (len >> (8 * b));
    *nn = count;
    return DP_OK;
}

static bool dp__is_valid(const dp_pq_column_data *d, int64_t i) {
    return d->valid == NULL || d->valid[i];
}

/* PLAIN values of the non-null rows in [r0, r1). */
static dp_status dp__put_plain(dp_pq_writer *w, const dp__wcol *c, const dp_pq_column_data *d,
                               int64_t r0, int64_t r1, int64_t nn, dp_error *err) {
    size_t at = w->page.size;
    if (c->type == DP_PQ_BOOLEAN) {
        size_t nb = (size_t) (nn + 7) / 8;
        if (dp_buf_resize(&w->page, at + nb) != DP_OK)
            return dp_error_set(err, DP_NOMEM, "out of memory for a page");
        uint8_t *p = w->page.data + at;
        memset(p, 0, nb);
        const uint8_t *v = d->values;
        int64_t j = 0;
        for (int64_t i = r0; i < r1; i++)
            if (dp__is_valid(d, i)) {
                if (v[i])
                    p[j >> 3] |= (uint8_t) (1u << (j & 7));
                j++;
            }
        return DP_OK;
    }
    if (c->width > 0) {
        size_t wd = (size_t) c->width;
        if (dp_buf_resize(&w->page, at + (size_t) nn * wd) != DP_OK)
            return dp_error_set(err, DP_NOMEM, "out of memory for a page");
        const uint8_t *v = d->values;
        uint8_t *p = w->page.data + at;
        if (nn == r1 - r0) {
            memcpy(p, v + (size_t) r0 * wd, (size_t) nn * wd);
        } else {
            for (int64_t i = r0; i < r1; i++)
                if (dp__is_valid(d, i)) {
                    memcpy(p, v + (size_t) i * wd, wd);
                    p += wd;
                }
        }
        return DP_OK;
    }
    size_t total = 0;
    for (int64_t i = r0; i < r1; i++)
        if (dp__is_valid(d, i))
            total += 4 + (size_t) (d->offsets[i + 1] - d->offsets[i]);
    if (dp_buf_resize(&w->page, at + total) != DP_OK)
        return dp_error_set(err, DP_NOMEM, "out of memory for a page of %zu bytes", at + total);
    uint8_t *p = w->page.data + at;
    for (int64_t i = r0; i < r1; i++)
        if (dp__is_valid(d, i)) {
            uint32_t len = (uint32_t) (d->offsets[i + 1] - d->offsets[i]);
            for (int b = 0; b < 4; b++)
                p[b] = (uint8_t) (len >> (8 * b));
            if (len > 0)
                memcpy(p + 4, d->bytes + d->offsets[i], len);
            p += 4 + len;
        }
    return DP_OK;
}

/* ---- statistics ---------------------------------------------------------------------------- */

static void dp__stat_set(uint8_t *dst, int32_t *len, bool *has, const void *src, size_t n) {
    if (n > DP__STAT_MAX) {
        *has = false;
        return;
    }
    if (n > 0)
        memcpy(dst, src, n);
    *len = (int32_t) n;
    *has = true;
}

static int dp__bytes_cmp(const uint8_t *a, size_t la, const uint8_t *b, size_t lb) {
    size_t m = la < lb ? la : lb;
    int c = m > 0 ? memcmp(a, b, m) : 0;
    if (c != 0)
        return c;
    return la < lb ? -1 : la > lb ? 1 : 0;
}

/* min_value / max_value of rows [0, n) (PLAIN encoding of the value, no length for strings). */
static void dp__stats(dp__chunk *ch, const dp__wcol *c, const dp_pq_column_data *d, int64_t n) {
    ch->has_min = ch->has_max = false;
    switch (c->type) {
    case DP_PQ_DOUBLE: {
        const double *v = d->values;
        double lo = INFINITY, hi = -INFINITY;
        bool any = false;
        for (int64_t i = 0; i < n; i++)
            if (dp__is_valid(d, i) && !isnan(v[i])) {
                lo = v[i] < lo ? v[i] : lo;
                hi = v[i] > hi ? v[i] : hi;
                any = true;
            }
        if (!any)
            break;
        /* The spec: a zero minimum is written as -0.0 and a zero maximum as +0.0, since the
         * comparison above does not tell the two zeros apart. */
        if (lo == 0)
            lo = -0.0;
        if (hi == 0)
            hi = 0.0;
        dp__stat_set(ch->min, &ch->min_len, &ch->has_min, &lo, 8);
        dp__stat_set(ch->max, &ch->max_len, &ch->has_max, &hi, 8);
        break;
    }
    case DP_PQ_FLOAT: {
        const float *v = d->values;
        float lo = INFINITY, hi = -INFINITY;
        bool any = false;
        for (int64_t i = 0; i < n; i++)
            if (dp__is_valid(d, i) && !isnan(v[i])) {
                lo = v[i] < lo ? v[i] : lo;
                hi = v[i] > hi ? v[i] : hi;
                any = true;
            }
        if (!any)
            break;
        if (lo == 0)
            lo = -0.0f;
        if (hi == 0)
            hi = 0.0f;
        dp__stat_set(ch->min, &ch->min_len, &ch->has_min, &lo, 4);
        dp__stat_set(ch->max, &ch->max_len, &ch->has_max, &hi, 4);
        break;
    }
    case DP_PQ_INT32: {
        const int32_t *v = d->values;
        int32_t lo = INT32_MAX, hi = INT32_MIN;
        bool any = false;
        for (int64_t i = 0; i < n; i++)
            if (dp__is_valid(d, i)) {
                lo = v[i] < lo ? v[i] : lo;
                hi = v[i] > hi ? v[i] : hi;
                any = true;
            }
        if (any) {
            dp__stat_set(ch->min, &ch->min_len, &ch->has_min, &lo, 4);
            dp__stat_set(ch->max, &ch->max_len, &ch->has_max, &hi, 4);
        }
        break;
    }
    case DP_PQ_INT64: {
        const int64_t *v = d->values;
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        bool any = false;
        for (int64_t i = 0; i < n; i++)
            if (dp__is_valid(d, i)) {
                lo = v[i] < lo ? v[i] : lo;
                hi = v[i] > hi ? v[i] : hi;
                any = true;
            }
        if (any) {
            dp__stat_set(ch->min, &ch->min_len, &ch->has_min, &lo, 8);
            dp__stat_set(ch->max, &ch->max_len, &ch->has_max, &hi, 8);
        }
        break;
    }
    case DP_PQ_BOOLEAN: {
        const uint8_t *v = d->values;
        bool any_f = false, any_t = false;
        for (int64_t i = 0; i < n; i++)
            if (dp__is_valid(d, i)) {
                if (v[i])
                    any_t = true;
                else
                    any_f = true;
            }
        if (any_f || any_t) {
            uint8_t lo = any_f ? 0 : 1, hi = any_t ? 1 : 0;
            dp__stat_set(ch->min, &ch->min_len, &ch->has_min, &lo, 1);
            dp__stat_set(ch->max, &ch->max_len, &ch->has_max, &hi, 1);
        }
        break;
    }
    default: {
        int64_t lo = -1, hi = -1;
        for (int64_t i = 0; i < n; i++) {
            if (!dp__is_valid(d, i))
                continue;
            const uint8_t *s = d->bytes + d->offsets[i];
            size_t l = (size_t) (d->offsets[i + 1] - d->offsets[i]);
            if (lo < 0 || dp__bytes_cmp(s, l, d->bytes + d->offsets[lo],
                                        (size_t) (d->offsets[lo + 1] - d->offsets[lo])) < 0)
                lo = i;
            if (hi < 0 || dp__bytes_cmp(s, l, d->bytes + d->offsets[hi],
                                        (size_t) (d->offsets[hi + 1] - d->offsets[hi])) > 0)
                hi = i;
        }
        if (lo >= 0) {
            dp__stat_set(ch->min, &ch->min_len, &ch->has_min, d->bytes + d->offsets[lo],
                         (size_t) (d->offsets[lo + 1] - d->offsets[lo]));
            dp__stat_set(ch->max, &ch->max_len, &ch->has_max, d->bytes + d->offsets[hi],
                         (size_t) (d->offsets[hi + 1] - d->offsets[hi]));
        }
        break;
    }
    }
}

/* ---- dictionary ---------------------------------------------------------------------------- */

/* Try to build the dictionary of rows [0, n): entries in order of first appearance
 * (w->dict_first) and each non-null row's entry (w->dict_idx). False when it does not fit the
 * limits (then the chunk is written PLAIN). */
static dp_status dp__build_dict(dp_pq_writer *w, const dp_pq_column_data *d, int64_t n, int64_t nn,
                                int64_t *n_entries, bool *ok, dp_error *err) {
    *ok = false;
    *n_entries = 0;
    if (nn == 0)
        return DP_OK;
    int64_t max_entries = nn / 2;
    if (max_entries > w->dict_max_bytes / 4)
        max_entries = w->dict_max_bytes / 4;
    if (max_entries < 1)
        return DP_OK;
    size_t slots = 16;
    while ((int64_t) slots < 2 * max_entries + 2)
        slots *= 2;
    if (dp_buf_resize(&w->dict_slots, slots * sizeof(uint32_t)) != DP_OK ||
        dp_buf_resize(&w->dict_first, (size_t) (max_entries + 1) * sizeof(int64_t)) != DP_OK ||
        dp_buf_resize(&w->dict_idx, (size_t) n * sizeof(uint32_t)) != DP_OK)
        return dp_error_set(err, DP_NOMEM, "out of memory for a dictionary of %lld entries",
                            (long long) max_entries);
    uint32_t *slot = (uint32_t *) w->dict_slots.data;
    int64_t *first = (int64_t *) w->dict_first.data;
    uint32_t *idx = (uint32_t *) w->dict_idx.data;
    memset(slot, 0, slots * sizeof *slot);
    int64_t entries = 0, bytes = 0;
    size_t mask = slots - 1;
    for (int64_t i = 0; i < n; i++) {
        if (!dp__is_valid(d, i)) {
            idx[i] = 0;
            continue;
        }
        const uint8_t *s = d->bytes + d->offsets[i];
        size_t l = (size_t) (d->offsets[i + 1] - d->offsets[i]);
        size_t h = (size_t) dp_hash64(s, l, 0x7061727175657421ull) & mask;
        for (;;) {
            uint32_t e = slot[h];
            if (e == 0) {
                if (entries >= max_entries || bytes + 4 + (int64_t) l > w->dict_max_bytes)
                    return DP_OK; /* too large: PLAIN */
                first[entries] = i;
                slot[h] = (uint32_t) (++entries);
                bytes += 4 + (int64_t) l;
                idx[i] = (uint32_t) (entries - 1);
                break;
            }
            int64_t r = first[e - 1];
            size_t rl = (size_t) (d->offsets[r + 1] - d->offsets[r]);
            if (rl == l && (l == 0 || memcmp(d->bytes + d->offsets[r], s, l) == 0)) {
                idx[i] = e - 1;
                break;
            }
            h = (h + 1) & mask;
        }
    }
    *n_entries = entries;
    *ok = true;
    return DP_OK;
}

static int dp__bits_for(int64_t max_value) {
    int b = 0;
    while (max_value > 0) {
        b++;
        max_value >>= 1;
    }
    return b < 1 ? 1 : b;
}

/* ---- column chunks and row groups ---------------------------------------------------------- */

static dp_status dp__write_chunk(dp_pq_writer *w, int32_t k, const dp_pq_column_data *data,
                                 int64_t n, dp_error *err) {
    /* A column of only empty strings may come without a byte pointer. */
    dp_pq_column_data dd = *data;
    if (dd.bytes == NULL)
        dd.bytes = (const uint8_t *) "";
    const dp_pq_column_data *d = &dd;
    const dp__wcol *c = &w->cols[k];
    dp__chunk *ch = &w->chunks[k];
    memset(ch, 0, sizeof *ch);
    ch->start = (int64_t) dp_sink_offset(w->sink);
    ch->data_page_offset = -1;
    ch->dict_page_offset = -1;
    ch->num_values = n;
    int64_t nn = n;
    if (d->valid != NULL) {
        nn = 0;
        for (int64_t i = 0; i < n; i++)
            nn += d->valid[i] != 0;
    }
    ch->null_count = n - nn;
    dp__stats(ch, c, d, n);

    bool use_dict = false;
    int64_t n_dict = 0;
    if (c->dictionary)
        DP_TRY(dp__build_dict(w, d, n, nn, &n_dict, &use_dict, err));
    ch->dict_used = use_dict;
    int bw = 0;
    if (use_dict) {
        /* Dictionary page: the entries, PLAIN. */
        const int64_t *first = (const int64_t *) w->dict_first.data;
        w->page.size = 0;
        for (int64_t e = 0; e < n_dict; e++) {
            int64_t r = first[e];
            uint32_t len = (uint32_t) (d->offsets[r + 1] - d->offsets[r]);
            uint8_t l4[4] = {(uint8_t) len, (uint8_t) (len >> 8), (uint8_t) (len >> 16),
                             (uint8_t) (len >> 24)};
            if (dp_buf_append(&w->page, l4, 4) != DP_OK ||
                dp_buf_append(&w->page, d->bytes + d->offsets[r], len) != DP_OK)
                return dp_error_set(err, DP_NOMEM, "out of memory for a dictionary page");
        }
        DP_TRY(dp__write_page(w, ch, DP_PQ_PAGE_DICTIONARY, n_dict, DP_PQ_ENC_PLAIN, err));
        bw = dp__bits_for(n_dict - 1);
    }

    int64_t r0 = 0;
    while (r0 < n) {
        /* Rows of this page: by bytes for strings, by count otherwise. */
        int64_t r1;
        if (use_dict) {
            int64_t per = w->page_bytes * 8 / bw;
            r1 = r0 + DP_MAX(1, DP_MIN(per, DP__PAGE_ROWS_MAX));
        } else if (c->width == 0) {
            int64_t bytes = 0;
            r1 = r0;
            while (r1 < n && r1 - r0 < DP__PAGE_ROWS_MAX && (r1 == r0 || bytes < w->page_bytes)) {
                if (dp__is_valid(d, r1))
                    bytes += 4 + (d->offsets[r1 + 1] - d->offsets[r1]);
                r1++;
            }
        } else {
            int64_t per = c->type == DP_PQ_BOOLEAN ? w->page_bytes * 8 : w->page_bytes / c->width;
            r1 = r0 + DP_MAX(1, DP_MIN(per, DP__PAGE_ROWS_MAX));
        }
        if (r1 > n)
            r1 = n;
        w->page.size = 0;
        int64_t pnn = r1 - r0;
        if (c->optional)
            DP_TRY(dp__put_levels(w, d->valid, r0, r1, &pnn, err));
        if (use_dict) {
            /* Indices of the non-null rows: bit width byte + RLE hybrid. */
            if (dp_buf_resize(&w->lv, (size_t) pnn * sizeof(uint32_t)) != DP_OK)
                return dp_error_set(err, DP_NOMEM, "out of memory for dictionary indices");
            uint32_t *ix = (uint32_t *) w->lv.data;
            const uint32_t *all = (const uint32_t *) w->dict_idx.data;
            int64_t j = 0;
            for (int64_t i = r0; i < r1; i++)
                if (dp__is_valid(d, i))
                    ix[j++] = all[i];
            if (dp_buf_append_u8(&w->page, (uint8_t) bw) != DP_OK ||
                dp_pq_rle_encode(ix, j, bw, &w->page) != DP_OK)
                return dp_error_set(err, DP_NOMEM, "out of memory for a page");
            DP_TRY(dp__write_page(w, ch, DP_PQ_PAGE_DATA, r1 - r0, DP_PQ_ENC_RLE_DICTIONARY, err));
        } else {
            DP_TRY(dp__put_plain(w, c, d, r0, r1, pnn, err));
            DP_TRY(dp__write_page(w, ch, DP_PQ_PAGE_DATA, r1 - r0, DP_PQ_ENC_PLAIN, err));
        }
        r0 = r1;
    }
    return DP_OK;
}

/* Serialise the RowGroup struct of the chunks just written into footer_rgs. */
static dp_status dp__finish_row_group(dp_pq_writer *w, int64_t n, dp_error *err) {
    dp_thrift_writer tw;
    dp_thrift_writer_init(&tw, &w->footer_rgs);
    int64_t total_unc = 0, total_comp = 0;
    dp_thrift_write_struct_begin(&tw);
    dp_thrift_write_field_list_begin(&tw, 1, DP_THRIFT_STRUCT, w->n_cols);
    for (int32_t k = 0; k < w->n_cols; k++) {
        const dp__wcol *c = &w->cols[k];
        const dp__chunk *ch = &w->chunks[k];
        total_unc += ch->uncompressed;
        total_comp += ch->compressed;
        dp_thrift_write_struct_begin(&tw); /* ColumnChunk */
        dp_thrift_write_field_i64(&tw, 2, ch->start);
        dp_thrift_write_field_struct_begin(&tw, 3); /* ColumnMetaData */
        dp_thrift_write_field_i32(&tw, 1, (int32_t) c->type);
        int32_t enc[3];
        int32_t ne = 0;
        enc[ne++] = DP_PQ_ENC_PLAIN;
        if (c->optional)
            enc[ne++] = DP_PQ_ENC_RLE;
        if (ch->dict_used)
            enc[ne++] = DP_PQ_ENC_RLE_DICTIONARY;
        dp_thrift_write_field_list_begin(&tw, 2, DP_THRIFT_I32, ne);
        for (int32_t e = 0; e < ne; e++)
            dp_thrift_write_i32(&tw, enc[e]);
        dp_thrift_write_field_list_begin(&tw, 3, DP_THRIFT_BINARY, 1);
        dp_thrift_write_binary(&tw, c->name, strlen(c->name));
        dp_thrift_write_field_i32(&tw, 4, w->codec);
        dp_thrift_write_field_i64(&tw, 5, ch->num_values);
        dp_thrift_write_field_i64(&tw, 6, ch->uncompressed);
        dp_thrift_write_field_i64(&tw, 7, ch->compressed);
        dp_thrift_write_field_i64(&tw, 9, ch->data_page_offset);
        if (ch->dict_page_offset >= 0)
            dp_thrift_write_field_i64(&tw, 11, ch->dict_page_offset);
        dp_thrift_write_field_struct_begin(&tw, 12); /* Statistics */
        dp_thrift_write_field_i64(&tw, 3, ch->null_count);
        if (ch->has_max)
            dp_thrift_write_field_binary(&tw, 5, ch->max, (size_t) ch->max_len);
        if (ch->has_min)
            dp_thrift_write_field_binary(&tw, 6, ch->min, (size_t) ch->min_len);
        dp_thrift_write_struct_end(&tw);
        dp_thrift_write_struct_end(&tw); /* ColumnMetaData */
        dp_thrift_write_struct_end(&tw); /* ColumnChunk */
    }
    dp_thrift_write_field_i64(&tw, 2, total_unc);
    dp_thrift_write_field_i64(&tw, 3, n);
    dp_thrift_write_field_i64(&tw, 5, w->chunks[0].start);
    dp_thrift_write_field_i64(&tw, 6, total_comp);
    if (w->n_row_groups <= INT16_MAX)
        dp_thrift_write_field_i16(&tw, 7, (int16_t) w->n_row_groups);
    dp_thrift_write_struct_end(&tw);
    DP_TRY(dp_thrift_writer_finish(&tw, err));
    if (w->footer_rgs.size > DP_LIMIT_FOOTER_MAX / 2)
        return dp_error_set(err, DP_LIMIT,
                            "footer grows past %llu bytes (%d row groups of %d columns): use "
                            "larger row groups",
                            (unsigned long long) (DP_LIMIT_FOOTER_MAX / 2), w->n_row_groups + 1,
                            w->n_cols);
    return DP_OK;
}

/* Write rows [0, n) of every column as one row group. */
static dp_status dp__write_row_group(dp_pq_writer *w, const dp_pq_column_data *cols, int64_t n,
                                     dp_error *err) {
    if (n <= 0)
        return DP_OK;
    if (w->n_row_groups >= DP_LIMIT_ROW_GROUPS_MAX)
        return dp_error_set(err, DP_LIMIT, "more than %d row groups", DP_LIMIT_ROW_GROUPS_MAX);
    for (int32_t k = 0; k < w->n_cols; k++) {
        dp_status st = dp__write_chunk(w, k, &cols[k], n, err);
        if (st != DP_OK) {
            dp_error_prefix(err, "%s: row group %d, column '%s': ", w->path, w->n_row_groups,
                            w->cols[k].name);
            return st;
        }
    }
    DP_TRY(dp__finish_row_group(w, n, err));
    w->n_row_groups++;
    w->rows_written += n;
    return DP_OK;
}

/* The buffered rows as column views. */
static void dp__buffered_views(dp_pq_writer *w, dp_pq_column_data *v) {
    for (int32_t k = 0; k < w->n_cols; k++) {
        dp__wcol *c = &w->cols[k];
        v[k].values = c->values.data;
        v[k].bytes = c->values.data;
        v[k].offsets = (const int64_t *) c->offsets.data;
        v[k].valid = c->optional ? c->valid.data : NULL;
    }
}

static dp_status dp__flush(dp_pq_writer *w, dp_error *err) {
    if (w->buffered == 0)
        return DP_OK;
    dp_status st = DP_OK;
    dp_pq_column_data *v = dp_calloc((size_t) w->n_cols, sizeof *v);
    if (v == NULL)
        return dp_error_set(err, DP_NOMEM, "%s: out of memory", w->path);
    dp__buffered_views(w, v);
    st = dp__write_row_group(w, v, w->buffered, err);
    dp_free(v);
    if (st != DP_OK)
        return st;
    for (int32_t k = 0; k < w->n_cols; k++) {
        w->cols[k].values.size = 0;
        w->cols[k].valid.size = 0;
        w->cols[k].offsets.size = 0;
    }
    w->buffered = 0;
    return DP_OK;
}

/* Copy rows [i0, i0 + m) of d into column k's buffer. */
static dp_status dp__buffer_rows(dp_pq_writer *w, int32_t k, const dp_pq_column_data *d, int64_t i0,
                                 int64_t m, dp_error *err) {
    dp__wcol *c = &w->cols[k];
    dp_status st = DP_OK;
    if (m == 0)
        return DP_OK;
    if (c->width > 0) {
        st =
            dp_buf_append(&c->values, (const uint8_t *) d->values + (size_t) i0 * (size_t) c->width,
                          (size_t) m * (size_t) c->width);
    } else {
        if (c->offsets.size == 0) {
            int64_t zero = 0;
            st = dp_buf_append(&c->offsets, &zero, sizeof zero);
        }
        int64_t base = (int64_t) c->values.size - d->offsets[i0];
        size_t at = c->offsets.size;
        if (st == DP_OK)
            st = dp_buf_resize(&c->offsets, at + (size_t) m * sizeof(int64_t));
        if (st == DP_OK) {
            int64_t *o = (int64_t *) (c->offsets.data + at);
            for (int64_t i = 0; i < m; i++)
                o[i] = d->offsets[i0 + i + 1] + base;
            size_t nbytes = (size_t) (d->offsets[i0 + m] - d->offsets[i0]);
            if (nbytes > 0)
                st = dp_buf_append(&c->values, d->bytes + d->offsets[i0], nbytes);
        }
    }
    if (st == DP_OK && c->optional) {
        size_t at = c->valid.size;
        st = dp_buf_resize(&c->valid, at + (size_t) m);
        if (st == DP_OK) {
            if (d->valid != NULL)
                memcpy(c->valid.data + at, d->valid + i0, (size_t) m);
            else
                memset(c->valid.data + at, 1, (size_t) m);
        }
    }
    if (st != DP_OK)
        return dp_error_set(err, st, "%s: out of memory buffering column '%s' (%lld rows)", w->path,
                            c->name, (long long) (w->buffered + m));
    return DP_OK;
}

dp_status dp_pq_writer_append(dp_pq_writer *w, const dp_pq_column_data *cols, int64_t n,
                              dp_error *err) {
    DP_TRY(dp__refuse(w, err));
    dp_error e = {0};
    dp_status st = DP_OK;
    if (n < 0)
        return dp_error_set(err, DP_INVALID_ARG, "%s: negative row count %lld", w->path,
                            (long long) n);
    for (int32_t k = 0; k < w->n_cols && st == DP_OK; k++)
        st = dp__check_column(w, &w->cols[k], &cols[k], n, w->rows_seen, &e);
    int64_t i0 = 0;
    while (st == DP_OK && i0 < n) {
        int64_t m = DP_MIN(n - i0, w->rg_rows_max - w->buffered);
        for (int32_t k = 0; k < w->n_cols && st == DP_OK; k++)
            st = dp__buffer_rows(w, k, &cols[k], i0, m, &e);
        if (st != DP_OK)
            break;
        w->buffered += m;
        i0 += m;
        if (w->buffered >= w->rg_rows_max)
            st = dp__flush(w, &e);
    }
    if (st == DP_OK)
        w->rows_seen += n;
    return dp__stick(w, st, &e, err);
}

dp_status dp_pq_writer_flush(dp_pq_writer *w, dp_error *err) {
    DP_TRY(dp__refuse(w, err));
    dp_error e = {0};
    return dp__stick(w, dp__flush(w, &e), &e, err);
}

dp_status dp_pq_writer_write_row_group(dp_pq_writer *w, const dp_pq_column_data *cols, int64_t n,
                                       dp_error *err) {
    DP_TRY(dp__refuse(w, err));
    dp_error e = {0};
    dp_status st = DP_OK;
    if (n < 1 || n > DP_LIMIT_ROWS_PER_GROUP_MAX)
        return dp_error_set(err, DP_INVALID_ARG, "%s: row group of %lld rows (allowed 1..%lld)",
                            w->path, (long long) n, (long long) DP_LIMIT_ROWS_PER_GROUP_MAX);
    for (int32_t k = 0; k < w->n_cols && st == DP_OK; k++)
        st = dp__check_column(w, &w->cols[k], &cols[k], n, w->rows_seen, &e);
    if (st == DP_OK)
        st = dp__flush(w, &e);
    if (st == DP_OK)
        st = dp__write_row_group(w, cols, n, &e);
    if (st == DP_OK)
        w->rows_seen += n;
    return dp__stick(w, st, &e, err);
}

/* ---- footer -------------------------------------------------------------------------------- */

static dp_status dp__write_footer(dp_pq_writer *w, dp_error *err) {
    dp_status st = DP_OK;
    dp_buf meta;
    dp_buf_init(&meta);
    dp_thrift_writer tw;
    dp_thrift_writer_init(&tw, &meta);
    dp_thrift_write_struct_begin(&tw);
    dp_thrift_write_field_i32(&tw, 1, 2);
    dp_thrift_write_field_list_begin(&tw, 2, DP_THRIFT_STRUCT, w->n_cols + 1);
    dp_thrift_write_struct_begin(&tw); /* root */
    dp_thrift_write_field_string(&tw, 4, "schema");
    dp_thrift_write_field_i32(&tw, 5, w->n_cols);
    dp_thrift_write_struct_end(&tw);
    for (int32_t k = 0; k < w->n_cols; k++) {
        const dp__wcol *c = &w->cols[k];
        dp_thrift_write_struct_begin(&tw);
        dp_thrift_write_field_i32(&tw, 1, (int32_t) c->type);
        dp_thrift_write_field_i32(&tw, 3, c->optional ? DP_PQ_OPTIONAL : DP_PQ_REQUIRED);
        dp_thrift_write_field_string(&tw, 4, c->name);
        if (c->string) {
            dp_thrift_write_field_i32(&tw, 6, DP_PQ_CT_UTF8);
            dp_thrift_write_field_struct_begin(&tw, 10); /* LogicalType */
            dp_thrift_write_field_struct_begin(&tw, 1);  /* STRING: StringType {} */
            dp_thrift_write_struct_end(&tw);
            dp_thrift_write_struct_end(&tw);
        }
        dp_thrift_write_struct_end(&tw);
    }
    dp_thrift_write_field_i64(&tw, 3, w->rows_written);
    dp_thrift_write_field_list_begin(&tw, 4, DP_THRIFT_STRUCT, w->n_row_groups);
    /* The RowGroup structs were serialised as each row group was written; a struct is encoded
     * the same way at any nesting level, so the bytes go in as they are. */
    DP_CHECK(dp_buf_append(&meta, w->footer_rgs.data, w->footer_rgs.size));
    if (w->n_kv > 0) {
        dp_thrift_write_field_list_begin(&tw, 5, DP_THRIFT_STRUCT, w->n_kv);
        for (int i = 0; i < w->n_kv; i++) {
            dp_thrift_write_struct_begin(&tw);
            dp_thrift_write_field_string(&tw, 1, w->kv_keys[i]);
            if (w->kv_values[i] != NULL)
                dp_thrift_write_field_string(&tw, 2, w->kv_values[i]);
            dp_thrift_write_struct_end(&tw);
        }
    }
    dp_thrift_write_field_string(&tw, 6, w->created_by);
    dp_thrift_write_field_list_begin(&tw, 7, DP_THRIFT_STRUCT, w->n_cols);
    for (int32_t k = 0; k < w->n_cols; k++) {
        dp_thrift_write_struct_begin(&tw);          /* ColumnOrder */
        dp_thrift_write_field_struct_begin(&tw, 1); /* TYPE_ORDER: TypeDefinedOrder {} */
        dp_thrift_write_struct_end(&tw);
        dp_thrift_write_struct_end(&tw);
    }
    dp_thrift_write_struct_end(&tw);
    DP_CHECK(dp_thrift_writer_finish(&tw, err));
    if (meta.size > DP_LIMIT_FOOTER_MAX)
        DP_FAIL(err, DP_LIMIT, "footer of %zu bytes exceeds the limit of %llu", meta.size,
                (unsigned long long) DP_LIMIT_FOOTER_MAX);
    uint32_t len = (uint32_t) meta.size;
    uint8_t tail[8] = {(uint8_t) len,
                       (uint8_t) (len >> 8),
                       (uint8_t) (len >> 16),
                       (uint8_t) (len >> 24),
                       'P',
                       'A',
                       'R',
                       '1'};
    DP_CHECK(dp_sink_write(w->sink, meta.data, meta.size, err));
    DP_CHECK(dp_sink_write(w->sink, tail, 8, err));
cleanup:
    if (st == DP_NOMEM && err != NULL && err->msg[0] == '\0')
        dp_error_set(err, st, "out of memory for the footer");
    dp_buf_reset(&meta);
    return st;
}

dp_status dp_pq_writer_close(dp_pq_writer *w, dp_error *err) {
    DP_TRY(dp__refuse(w, err));
    dp_error e = {0};
    dp_status st = dp__flush(w, &e);
    if (st == DP_OK) {
        st = dp__write_footer(w, &e);
        if (st != DP_OK)
            dp_error_prefix(&e, "%s: footer: ", w->path);
    }
    if (st == DP_OK)
        st = dp_sink_commit(w->sink, &e);
    if (st == DP_OK) {
        w->closed = true;
        return DP_OK;
    }
    return dp__stick(w, st, &e, err);
}

/* Column chunk decoding: read one chunk with one pread, walk its pages, decompress each, decode
 * definition levels and values, and spread the non-null values to their rows.
 *
 * Values are decoded straight into the row-dense destination and then moved backwards into
 * their row slots, so a page costs one decode and at most one in-place pass (no scratch copy).
 * read_doubles decodes DOUBLE columns directly into the caller's array.
 */
#include "parquet/pq_codec.h"
#include "parquet/pq_encoding.h"
#include "parquet/pq_internal.h"
#include "util/dp_alloc.h"
#include "util/dp_checksum.h"
#include "util/dp_limits.h"

#include <math.h>
#include <string.h>

struct dp_pq_decoder {
    dp_pq_decoder_options opts;
    dp_pq_codec_ctx *codec;
    dp_buf chunk;  /* compressed column chunk */
    dp_buf page;   /* decompressed page */
    dp_buf levels; /* uint32 definition levels of one page */
    dp_buf idx;    /* uint32 dictionary indices of one page */
    dp_buf pofs;   /* int64 offsets of one page's byte arrays */
    dp_buf pheap;  /* bytes of one page's byte arrays */
    /* dictionary of the current chunk */
    bool has_dict;
    int64_t dict_n;
    dp_buf dict_fixed;
    dp_buf dict_ofs;
    dp_buf dict_heap;
    dp_pq_values tmp; /* numeric conversion scratch for read_doubles */
};

/* Where decoded values go. */
typedef struct dp__target {
    int64_t rows;
    int32_t width;   /* fixed width; 0 = byte arrays */
    uint8_t *fixed;  /* rows * width */
    uint8_t *valid;  /* rows */
    dp_buf *offsets; /* byte arrays: (rows + 1) int64 */
    dp_buf *heap;
    int64_t n_null;
} dp__target;

typedef struct dp__ctx {
    const dp_pq_file *f;
    const dp_pq_column_desc *c;
    int32_t rg;
    int64_t page_offset; /* file offset of the current page header */
} dp__ctx;

int32_t dp__pq_value_width(dp_pq_physical type, int32_t type_length) {
    switch (type) {
    case DP_PQ_BOOLEAN:
        return 1;
    case DP_PQ_INT32:
    case DP_PQ_FLOAT:
        return 4;
    case DP_PQ_INT64:
    case DP_PQ_DOUBLE:
        return 8;
    case DP_PQ_INT96:
        return 12;
    case DP_PQ_FIXED_LEN_BYTE_ARRAY:
        return type_length;
    case DP_PQ_BYTE_ARRAY:
        return 0;
    }
    return 0;
}

void dp_pq_values_init(dp_pq_values *v) {
    memset(v, 0, sizeof *v);
}

void dp_pq_values_reset(dp_pq_values *v) {
    dp_buf_reset(&v->valid);
    dp_buf_reset(&v->fixed);
    dp_buf_reset(&v->offsets);
    dp_buf_reset(&v->heap);
    memset(v, 0, sizeof *v);
}

dp_status dp_pq_decoder_create(const dp_pq_decoder_options *opts, dp_pq_decoder **out,
                               dp_error *err) {
    *out = NULL;
    dp_pq_decoder *d = dp_calloc(1, sizeof *d);
    if (d == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory creating a Parquet decoder");
    d->opts.verify_crc = opts != NULL ? opts->verify_crc : true;
    dp_status st = dp_pq_codec_ctx_create(&d->codec, err);
    if (st != DP_OK) {
        dp_free(d);
        return st;
    }
    *out = d;
    return DP_OK;
}

void dp_pq_decoder_free(dp_pq_decoder *d) {
    if (d == NULL)
        return;
    dp_pq_codec_ctx_free(d->codec);
    dp_buf *bufs[] = {&d->chunk, &d->page,       &d->levels,   &d->idx,      &d->pofs,
                      &d->pheap, &d->dict_fixed, &d->dict_ofs, &d->dict_heap};
    for (size_t i = 0; i < DP_ARRAY_LEN(bufs); i++)
        dp_buf_reset(bufs[i]);
    dp_pq_values_reset(&d->tmp);
    dp_free(d);
}

size_t dp_pq_decoder_bytes(const dp_pq_decoder *d) {
    return d->chunk.capacity + d->page.capacity + d->levels.capacity + d->idx.capacity +
           d->pofs.capacity + d->pheap.capacity + d->dict_fixed.capacity + d->dict_ofs.capacity +
           d->dict_heap.capacity + d->tmp.valid.capacity + d->tmp.fixed.capacity +
           d->tmp.offsets.capacity + d->tmp.heap.capacity;
}

static dp_status dp__nomem(dp_error *err, const char *what, size_t bytes) {
    return dp_error_set(err, DP_NOMEM, "out of memory allocating %zu bytes for %s", bytes, what);
}

static int dp__bit_width(int64_t max_value) {
    int bw = 0;
    while (max_value > 0) {
        bw++;
        max_value >>= 1;
    }
    return bw;
}

/* ---- dictionary pages ---------------------------------------------------------------------- */

static dp_status dp__decode_dictionary(dp_pq_decoder *d, const dp__ctx *cx,
                                       const dp_pq_page_header *h, const uint8_t *data, size_t len,
                                       dp_error *err) {
    const dp_pq_column_desc *c = cx->c;
    int64_t n = h->dict_num_values;
    if (n < 0 || n > DP_LIMIT_DICT_MAX)
        return dp_error_set(err, n < 0 ? DP_CORRUPT : DP_LIMIT,
                            "dictionary page declares %lld values (limit %lld)", (long long) n,
                            (long long) DP_LIMIT_DICT_MAX);
    if (h->dict_encoding != DP_PQ_ENC_PLAIN && h->dict_encoding != DP_PQ_ENC_PLAIN_DICTIONARY)
        return dp_error_set(err, DP_UNSUPPORTED, "dictionary page encoding %d is not supported",
                            h->dict_encoding);
    size_t consumed = 0;
    int32_t w = dp__pq_value_width(c->type, c->type_length);
    d->has_dict = false;
    if (c->type == DP_PQ_BYTE_ARRAY) {
        /* Every value needs at least its 4-byte length: bound n by the bytes before allocating. */
        if ((uint64_t) n > len / 4)
            return dp_error_set(err, DP_CORRUPT,
                                "dictionary page declares %lld values but holds only %zu bytes",
                                (long long) n, len);
        d->dict_heap.size = 0;
        DP_TRY(dp_buf_resize(&d->dict_ofs, ((size_t) n + 1) * sizeof(int64_t)) == DP_OK
                   ? DP_OK
                   : dp__nomem(err, "dictionary offsets", ((size_t) n + 1) * 8));
        DP_TRY(dp_pq_plain_byte_array_decode(data, len, n, (int64_t *) d->dict_ofs.data,
                                             &d->dict_heap, &consumed, err));
    } else {
        if (c->type == DP_PQ_BOOLEAN) {
            if ((uint64_t) n > (uint64_t) len * 8)
                return dp_error_set(err, DP_CORRUPT,
                                    "boolean dictionary of %lld values in %zu bytes", (long long) n,
                                    len);
            DP_TRY(dp_buf_resize(&d->dict_fixed, (size_t) n) == DP_OK
                       ? DP_OK
                       : dp__nomem(err, "dictionary", (size_t) n));
            DP_TRY(dp_pq_plain_bool_decode(data, len, n, d->dict_fixed.data, &consumed, err));
        } else {
            if ((uint64_t) n * (uint64_t) w > len)
                return dp_error_set(
                    err, DP_TRUNCATED,
                    "dictionary page declares %lld values of %d bytes but holds %zu "
                    "bytes",
                    (long long) n, w, len);
            DP_TRY(dp_buf_resize(&d->dict_fixed, (size_t) n * (size_t) w) == DP_OK
                       ? DP_OK
                       : dp__nomem(err, "dictionary", (size_t) n * (size_t) w));
            DP_TRY(dp_pq_plain_fixed_decode(data, len, (size_t) w, n, d->dict_fixed.data, &consumed,
                                            err));
        }
    }
    d->dict_n = n;
    d->has_dict = true;
    return DP_OK;
}

/* ---- values of one data page --------------------------------------------------------------- */

static dp_status dp__ensure(dp_buf *b, size_t bytes, dp_error *err, const char *what) {
    if (dp_buf_resize(b, bytes) != DP_OK)
        return dp__nomem(err, what, bytes);
    return DP_OK;
}

/* Decode `nn` non-null values of a page (encoding `enc`) from data[0..len) into the target:
 * fixed widths go to t->fixed + row0 * width contiguously; byte arrays into d->pofs/pheap. */
static dp_status dp__decode_values(dp_pq_decoder *d, const dp__ctx *cx, int32_t enc,
                                   const uint8_t *data, size_t len, int64_t nn, int64_t row0,
                                   dp__target *t, dp_error *err) {
    const dp_pq_column_desc *c = cx->c;
    int32_t w = t->width;
    size_t consumed = 0;
    uint8_t *dst = t->fixed != NULL ? t->fixed + (size_t) row0 * (size_t) w : NULL;
    bool is_ba = c->type == DP_PQ_BYTE_ARRAY;

    if (is_ba) {
        DP_TRY(dp__ensure(&d->pofs, ((size_t) nn + 1) * sizeof(int64_t), err, "page offsets"));
        d->pheap.size = 0;
    }
    switch (enc) {
    case DP_PQ_ENC_PLAIN:
        if (is_ba) {
            if ((uint64_t) nn > len / 4)
                return dp_error_set(err, DP_TRUNCATED,
                                    "PLAIN page holds %zu bytes, too few for %lld byte arrays", len,
                                    (long long) nn);
            return dp_pq_plain_byte_array_decode(data, len, nn, (int64_t *) d->pofs.data, &d->pheap,
                                                 &consumed, err);
        }
        if (c->type == DP_PQ_BOOLEAN)
            return dp_pq_plain_bool_decode(data, len, nn, dst, &consumed, err);
        return dp_pq_plain_fixed_decode(data, len, (size_t) w, nn, dst, &consumed, err);

    case DP_PQ_ENC_PLAIN_DICTIONARY:
    case DP_PQ_ENC_RLE_DICTIONARY: {
        if (!d->has_dict)
            return dp_error_set(err, DP_CORRUPT,
                                "dictionary-encoded page without a dictionary page");
        DP_TRY(dp__ensure(&d->idx, (size_t) nn * sizeof(uint32_t), err, "dictionary indices"));
        uint32_t *idx = (uint32_t *) d->idx.data;
        if (nn > 0 && len == 0)
            return dp_error_set(err, DP_TRUNCATED, "empty dictionary-index page for %lld values",
                                (long long) nn);
        DP_TRY(dp_pq_dict_indices_decode(data, len, idx, nn, err));
        uint64_t dn = (uint64_t) d->dict_n;
        for (int64_t i = 0; i < nn; i++)
            if (idx[i] >= dn)
                return dp_error_set(err, DP_CORRUPT,
                                    "dictionary index %u at value %lld is out of range (dictionary "
                                    "has %lld entries)",
                                    idx[i], (long long) i, (long long) d->dict_n);
        if (is_ba) {
            const int64_t *dofs = (const int64_t *) d->dict_ofs.data;
            int64_t *pofs = (int64_t *) d->pofs.data;
            pofs[0] = 0;
            for (int64_t i = 0; i < nn; i++) {
                int64_t a = dofs[idx[i]], b = dofs[idx[i] + 1];
                if (b > a &&
                    dp_buf_append(&d->pheap, d->dict_heap.data + a, (size_t) (b - a)) != DP_OK)
                    return dp__nomem(err, "page strings", d->pheap.size + (size_t) (b - a));
                pofs[i + 1] = (int64_t) d->pheap.size;
            }
            return DP_OK;
        }
        const uint8_t *dict = d->dict_fixed.data;
        if (w == 8) {
            uint64_t *o = (uint64_t *) (void *) dst;
            const uint64_t *dv = (const uint64_t *) (const void *) dict;
            for (int64_t i = 0; i < nn; i++)
                memcpy(&o[i], &dv[idx[i]], 8);
        } else if (w == 4) {
            for (int64_t i = 0; i < nn; i++)
                memcpy(dst + (size_t) i * 4, dict + (size_t) idx[i] * 4, 4);
        } else {
            for (int64_t i = 0; i < nn; i++)
                memcpy(dst + (size_t) i * (size_t) w, dict + (size_t) idx[i] * (size_t) w,
                       (size_t) w);
        }
        return DP_OK;
    }

    case DP_PQ_ENC_RLE: {
        if (c->type != DP_PQ_BOOLEAN)
            break;
        /* Data-page RLE booleans carry a 4-byte length prefix, then the hybrid stream. */
        dp_cursor cur;
        dp_cursor_init(&cur, data, len);
        uint32_t rl = 0;
        if (!dp_cursor_u32le(&cur, &rl) || rl > dp_cursor_remaining(&cur))
            return dp_error_set(err, DP_TRUNCATED,
                                "RLE boolean page: length prefix %u exceeds %zu "
                                "bytes",
                                rl, len);
        DP_TRY(dp__ensure(&d->idx, (size_t) nn * sizeof(uint32_t), err, "boolean values"));
        uint32_t *tmp = (uint32_t *) d->idx.data;
        DP_TRY(dp_pq_rle_decode(cur.p, rl, 1, tmp, nn, &consumed, err));
        for (int64_t i = 0; i < nn; i++)
            dst[i] = (uint8_t) (tmp[i] & 1);
        return DP_OK;
    }

    case DP_PQ_ENC_DELTA_BINARY_PACKED:
        if (c->type == DP_PQ_INT32)
            return dp_pq_delta_binary_decode_i32(data, len, nn, (int32_t *) (void *) dst, &consumed,
                                                 err);
        if (c->type == DP_PQ_INT64)
            return dp_pq_delta_binary_decode_i64(data, len, nn, (int64_t *) (void *) dst, &consumed,
                                                 err);
        break;

    case DP_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
        if (is_ba)
            return dp_pq_delta_length_byte_array_decode(data, len, nn, (int64_t *) d->pofs.data,
                                                        &d->pheap, &consumed, err);
        break;

    case DP_PQ_ENC_DELTA_BYTE_ARRAY:
        if (is_ba)
            return dp_pq_delta_byte_array_decode(data, len, nn, (int64_t *) d->pofs.data, &d->pheap,
                                                 &consumed, err);
        if (c->type == DP_PQ_FIXED_LEN_BYTE_ARRAY) {
            DP_TRY(dp__ensure(&d->pofs, ((size_t) nn + 1) * sizeof(int64_t), err, "page offsets"));
            d->pheap.size = 0;
            DP_TRY(dp_pq_delta_byte_array_decode(data, len, nn, (int64_t *) d->pofs.data, &d->pheap,
                                                 &consumed, err));
            const int64_t *o = (const int64_t *) d->pofs.data;
            for (int64_t i = 0; i < nn; i++) {
                if (o[i + 1] - o[i] != w)
                    return dp_error_set(err, DP_CORRUPT,
                                        "DELTA_BYTE_ARRAY value %lld has %lld bytes in a "
                                        "FIXED_LEN_BYTE_ARRAY(%d) column",
                                        (long long) i, (long long) (o[i + 1] - o[i]), w);
                memcpy(dst + (size_t) i * (size_t) w, d->pheap.data + o[i], (size_t) w);
            }
            return DP_OK;
        }
        break;

    case DP_PQ_ENC_BYTE_STREAM_SPLIT:
        if (!is_ba && c->type != DP_PQ_BOOLEAN && c->type != DP_PQ_INT96)
            return dp_pq_bss_decode(data, len, (size_t) w, nn, nn, dst, err);
        break;

    default:
        break;
    }
    const char *en = dp_pq_encoding_name(enc);
    if (en == NULL)
        return dp_error_set(err, DP_UNSUPPORTED, "unknown encoding id %d", enc);
    return dp_error_set(err, DP_UNSUPPORTED, "encoding %s is not supported for %s values", en,
                        dp_pq_physical_name(c->type));
}

/* Spread nn contiguous values at rows [row0, row0+nn) to the rows whose level is max_def within
 * [row0, row0+n); other rows become null (zeroed). Moves backwards so it works in place. */
static void dp__spread_fixed(uint8_t *base, int32_t w, int64_t row0, int64_t n, int64_t nn,
                             const uint32_t *levels, uint32_t max_def) {
    int64_t j = nn - 1;
    for (int64_t i = n - 1; i >= 0; i--) {
        uint8_t *to = base + (size_t) (row0 + i) * (size_t) w;
        if (levels[i] == max_def) {
            if (j != i)
                memmove(to, base + (size_t) (row0 + j) * (size_t) w, (size_t) w);
            j--;
        } else {
            memset(to, 0, (size_t) w);
        }
    }
}

static dp_status dp__append_byte_arrays(dp_pq_decoder *d, dp__target *t, int64_t row0, int64_t n,
                                        int64_t nn, const uint32_t *levels, uint32_t max_def,
                                        dp_error *err) {
    int64_t *ofs = (int64_t *) t->offsets->data;
    const int64_t *pofs = (const int64_t *) d->pofs.data;
    int64_t j = 0;
    for (int64_t i = 0; i < n; i++) {
        bool present = levels == NULL || levels[i] == max_def;
        if (present) {
            if (j >= nn)
                return dp_error_set(err, DP_CORRUPT, "fewer values than non-null levels");
            size_t a = (size_t) pofs[j], b = (size_t) pofs[j + 1];
            if (b > a && dp_buf_append(t->heap, d->pheap.data + a, b - a) != DP_OK)
                return dp__nomem(err, "string values", t->heap->size + (b - a));
            j++;
        }
        ofs[row0 + i + 1] = (int64_t) t->heap->size;
    }
    return DP_OK;
}

/* Definition levels of a page into d->levels; returns the non-null count in *nn. */
static dp_status dp__decode_levels(dp_pq_decoder *d, const dp__ctx *cx, int32_t enc,
                                   const uint8_t *data, size_t len, bool v1_prefixed, int64_t n,
                                   size_t *used, int64_t *nn, dp_error *err) {
    const dp_pq_column_desc *c = cx->c;
    DP_TRY(dp__ensure(&d->levels, (size_t) n * sizeof(uint32_t), err, "definition levels"));
    uint32_t *lv = (uint32_t *) d->levels.data;
    int bw = dp__bit_width(c->max_def);
    size_t consumed = 0;
    if (enc == DP_PQ_ENC_RLE) {
        const uint8_t *p = data;
        size_t plen = len;
        size_t pre = 0;
        if (v1_prefixed) {
            dp_cursor cur;
            dp_cursor_init(&cur, data, len);
            uint32_t l;
            if (!dp_cursor_u32le(&cur, &l))
                return dp_error_set(err, DP_TRUNCATED, "page too short for its level length");
            if (l > dp_cursor_remaining(&cur))
                return dp_error_set(err, DP_TRUNCATED,
                                    "definition levels claim %u bytes, page has %zu left", l,
                                    dp_cursor_remaining(&cur));
            p = cur.p;
            plen = l;
            pre = 4;
        }
        DP_TRY(dp_pq_rle_decode(p, plen, bw, lv, n, &consumed, err));
        *used = v1_prefixed ? pre + plen : len;
    } else if (enc == DP_PQ_ENC_BIT_PACKED) {
        DP_TRY(dp_pq_bitpacked_legacy_decode(data, len, bw, lv, n, &consumed, err));
        *used = consumed;
    } else {
        return dp_error_set(err, DP_UNSUPPORTED, "definition level encoding %d is not supported",
                            enc);
    }
    int64_t count = 0;
    uint32_t max_def = (uint32_t) c->max_def;
    for (int64_t i = 0; i < n; i++) {
        if (lv[i] > max_def)
            return dp_error_set(err, DP_CORRUPT, "definition level %u above the maximum %u", lv[i],
                                max_def);
        count += lv[i] == max_def;
    }
    *nn = count;
    return DP_OK;
}

static dp_status dp__data_page(dp_pq_decoder *d, const dp__ctx *cx, const dp_pq_page_header *h,
                               const uint8_t *raw, size_t raw_len, int32_t codec, int64_t row0,
                               dp__target *t, dp_error *err) {
    const dp_pq_column_desc *c = cx->c;
    bool v2 = h->type == DP_PQ_PAGE_DATA_V2;
    int64_t n = h->num_values;
    if (n < 0 || n > t->rows - row0)
        return dp_error_set(err, DP_CORRUPT,
                            "page declares %lld values but only %lld rows of the row group remain",
                            (long long) n, (long long) (t->rows - row0));
    if (h->uncompressed_size < 0)
        return dp_error_set(err, DP_CORRUPT, "negative uncompressed page size %d",
                            h->uncompressed_size);

    const uint8_t *levels_data = NULL;
    size_t levels_len = 0;
    const uint8_t *body = NULL;
    size_t body_len = 0;
    size_t body_uncompressed = (size_t) h->uncompressed_size;
    if (v2) {
        int64_t rl = h->rep_levels_byte_length, dl = h->def_levels_byte_length;
        if (rl < 0 || dl < 0 || (uint64_t) (rl + dl) > raw_len ||
            rl + dl > (int64_t) h->uncompressed_size)
            return dp_error_set(err, DP_CORRUPT,
                                "v2 level lengths (%lld + %lld) exceed the page (%zu bytes)",
                                (long long) rl, (long long) dl, raw_len);
        levels_data = raw + rl;
        levels_len = (size_t) dl;
        body = raw + rl + dl;
        body_len = raw_len - (size_t) (rl + dl);
        body_uncompressed = (size_t) h->uncompressed_size - (size_t) (rl + dl);
        if (!h->is_compressed)
            codec = DP_PQ_CODEC_UNCOMPRESSED;
    } else {
        body = raw;
        body_len = raw_len;
    }
    /* Decompress the body (v1: the whole page; v2: after the levels). */
    if (codec != DP_PQ_CODEC_UNCOMPRESSED) {
        DP_TRY(dp__ensure(&d->page, body_uncompressed, err, "a decompressed page"));
        DP_TRY(dp_pq_decompress(d->codec, codec, body, body_len, d->page.data, body_uncompressed,
                                err));
        body = d->page.data;
        body_len = body_uncompressed;
    } else if (body_len != body_uncompressed) {
        return dp_error_set(err, DP_CORRUPT,
                            "uncompressed page has %zu bytes but its header says %zu", body_len,
                            body_uncompressed);
    }

    int64_t nn = n;
    const uint32_t *levels = NULL;
    if (c->max_def > 0) {
        size_t used = 0;
        if (v2) {
            DP_TRY(dp__decode_levels(d, cx, DP_PQ_ENC_RLE, levels_data, levels_len, false, n, &used,
                                     &nn, err));
        } else {
            DP_TRY(dp__decode_levels(d, cx, h->def_encoding, body, body_len, true, n, &used, &nn,
                                     err));
            body += used;
            body_len -= used;
        }
        levels = (const uint32_t *) d->levels.data;
    }
    DP_TRY(dp__decode_values(d, cx, h->encoding, body, body_len, nn, row0, t, err));

    uint32_t max_def = (uint32_t) c->max_def;
    if (t->width > 0) {
        if (nn < n)
            dp__spread_fixed(t->fixed, t->width, row0, n, nn, levels, max_def);
    } else {
        DP_TRY(dp__append_byte_arrays(d, t, row0, n, nn, levels, max_def, err));
    }
    if (levels != NULL) {
        for (int64_t i = 0; i < n; i++)
            t->valid[row0 + i] = levels[i] == max_def;
    } else {
        memset(t->valid + row0, 1, (size_t) n);
    }
    t->n_null += n - nn;
    return DP_OK;
}

/* ---- the chunk ----------------------------------------------------------------------------- */

static dp_status dp__read_chunk(dp_pq_decoder *d, const dp_pq_file *f, int32_t rg, int32_t col,
                                dp__target *t, dp_error *err) {
    const dp_pq_file_meta *m = dp_pq_file_metadata(f);
    dp__ctx cx = {f, dp_pq_file_column(f, col), rg, -1};
    const dp_pq_column_desc *c = cx.c;
    const dp_pq_column_chunk *cc = &m->row_groups[rg].columns[col];
    const dp_pq_column_meta *cm = &cc->meta;
    dp_status st = DP_OK;

    if (c->nested || c->max_rep > 0)
        return dp_error_set(err, DP_UNSUPPORTED,
                            "%s: column '%s' is nested (repetition level %d); nested columns are "
                            "not supported",
                            dp_pq_file_name(f), c->path, c->max_rep);
    if (cc->encrypted)
        return dp_error_set(err, DP_ENCRYPTED,
                            "%s: column '%s' is encrypted; encrypted files are not supported",
                            dp_pq_file_name(f), c->path);
    if (cc->has_file_path)
        return dp_error_set(err, DP_UNSUPPORTED,
                            "%s: column '%s' of row group %d is stored in another file",
                            dp_pq_file_name(f), c->path, rg);
    if (!cc->has_meta_data)
        return dp_error_set(err, DP_CORRUPT, "%s: column '%s' of row group %d has no metadata",
                            dp_pq_file_name(f), c->path, rg);

    int64_t start = cm->data_page_offset;
    if (cm->has_dictionary_page_offset && cm->dictionary_page_offset > 0 &&
        cm->dictionary_page_offset < start)
        start = cm->dictionary_page_offset;
    int64_t len = cm->total_compressed_size;
    uint64_t fsize = dp_pq_file_size(f);
    if (start < 0 || len < 0 || (uint64_t) start > fsize ||
        (uint64_t) len > fsize - (uint64_t) start)
        return dp_error_set(err, DP_CORRUPT,
                            "%s: column '%s' of row group %d: chunk [%lld, +%lld) is outside the "
                            "file (%llu bytes)",
                            dp_pq_file_name(f), c->path, rg, (long long) start, (long long) len,
                            (unsigned long long) fsize);
    if (len > DP_LIMIT_CHUNK_MAX)
        return dp_error_set(
            err, DP_LIMIT,
            "%s: column '%s' of row group %d: chunk of %lld bytes exceeds the limit "
            "of %lld",
            dp_pq_file_name(f), c->path, rg, (long long) len, (long long) DP_LIMIT_CHUNK_MAX);
    if (dp_buf_resize(&d->chunk, (size_t) len) != DP_OK)
        return dp__nomem(err, "a column chunk", (size_t) len);
    DP_TRY(
        dp_source_read(dp__pq_file_source(f), (uint64_t) start, d->chunk.data, (size_t) len, err));
    d->has_dict = false;

    dp_cursor cur;
    dp_cursor_init(&cur, d->chunk.data, (size_t) len);
    int64_t row = 0;
    int64_t pages = 0;
    while (row < t->rows) {
        cx.page_offset = start + (int64_t) dp_cursor_offset(&cur);
        if (dp_cursor_remaining(&cur) == 0)
            DP_FAIL(err, DP_TRUNCATED, "column chunk ends after %lld of %lld values",
                    (long long) row, (long long) t->rows);
        if (++pages > DP_LIMIT_PAGES_PER_CHUNK_MAX)
            DP_FAIL(err, DP_LIMIT, "more than %lld pages in one column chunk",
                    (long long) DP_LIMIT_PAGES_PER_CHUNK_MAX);
        dp_pq_page_header h;
        DP_CHECK(dp_pq_page_header_decode(&cur, &h, err));
        if (h.compressed_size < 0 || h.compressed_size > DP_LIMIT_PAGE_MAX ||
            h.uncompressed_size > DP_LIMIT_PAGE_MAX)
            DP_FAIL(err, h.compressed_size < 0 ? DP_CORRUPT : DP_LIMIT,
                    "page sizes %d / %d (compressed / uncompressed) are invalid or over the limit "
                    "of %lld",
                    h.compressed_size, h.uncompressed_size, (long long) DP_LIMIT_PAGE_MAX);
        const uint8_t *raw;
        if (!dp_cursor_bytes(&cur, (size_t) h.compressed_size, &raw))
            DP_FAIL(err, DP_TRUNCATED, "page of %d bytes runs past the end of the column chunk",
                    h.compressed_size);
        if (h.has_crc && d->opts.verify_crc) {
            uint32_t crc = dp_crc32(0, raw, (size_t) h.compressed_size);
            if (crc != h.crc)
                DP_FAIL(err, DP_CORRUPT, "page CRC mismatch (stored 0x%08x, computed 0x%08x)",
                        h.crc, crc);
        }
        if (h.type == DP_PQ_PAGE_DICTIONARY) {
            const uint8_t *data = raw;
            size_t dlen = (size_t) h.compressed_size;
            if (cm->codec != DP_PQ_CODEC_UNCOMPRESSED) {
                if (h.uncompressed_size < 0)
                    DP_FAIL(err, DP_CORRUPT, "negative dictionary page size");
                if (dp_buf_resize(&d->page, (size_t) h.uncompressed_size) != DP_OK)
                    DP_FAIL(err, DP_NOMEM, "out of memory for a dictionary page of %d bytes",
                            h.uncompressed_size);
                DP_CHECK(dp_pq_decompress(d->codec, cm->codec, raw, dlen, d->page.data,
                                          (size_t) h.uncompressed_size, err));
                data = d->page.data;
                dlen = (size_t) h.uncompressed_size;
            }
            DP_CHECK(dp__decode_dictionary(d, &cx, &h, data, dlen, err));
        } else if (h.type == DP_PQ_PAGE_DATA || h.type == DP_PQ_PAGE_DATA_V2) {
            if ((h.type == DP_PQ_PAGE_DATA && !h.has_data_v1) ||
                (h.type == DP_PQ_PAGE_DATA_V2 && !h.has_data_v2))
                DP_FAIL(err, DP_CORRUPT, "data page without its data page header");
            DP_CHECK(
                dp__data_page(d, &cx, &h, raw, (size_t) h.compressed_size, cm->codec, row, t, err));
            row += h.num_values;
        }
        /* Index pages and unknown page types carry no values: skipped. */
    }
    return DP_OK;
cleanup:
    dp_error_prefix(err, "%s: row group %d, column '%s', page at offset %lld: ", dp_pq_file_name(f),
                    rg, c->path, (long long) cx.page_offset);
    return st;
}

static dp_status dp__check_args(const dp_pq_file *f, int32_t rg, int32_t col, dp_error *err) {
    if (rg < 0 || rg >= dp_pq_file_n_row_groups(f) || col < 0 || col >= dp_pq_file_n_columns(f))
        return dp_error_set(err, DP_INVALID_ARG,
                            "%s: row group %d / column %d out of range (%d row groups, %d columns)",
                            dp_pq_file_name(f), rg, col, dp_pq_file_n_row_groups(f),
                            dp_pq_file_n_columns(f));
    return DP_OK;
}

dp_status dp_pq_read_values(dp_pq_decoder *d, const dp_pq_file *f, int32_t rg, int32_t col,
                            dp_pq_values *out, dp_error *err) {
    DP_TRY(dp__check_args(f, rg, col, err));
    const dp_pq_column_desc *c = dp_pq_file_column(f, col);
    int64_t rows = dp_pq_file_row_group_rows(f, rg);
    int32_t w = dp__pq_value_width(c->type, c->type_length);
    if (c->type == DP_PQ_FIXED_LEN_BYTE_ARRAY && (w <= 0 || w > DP_LIMIT_FLBA_MAX))
        return dp_error_set(err, DP_CORRUPT, "%s: column '%s': FIXED_LEN_BYTE_ARRAY width %d",
                            dp_pq_file_name(f), c->path, w);
    out->n = rows;
    out->n_null = 0;
    out->type = c->type;
    out->width = w;
    size_t cells = (size_t) rows;
    dp_status st = dp_buf_resize(&out->valid, cells);
    if (st == DP_OK && w > 0)
        st = dp_buf_resize(&out->fixed, cells * (size_t) w);
    if (st == DP_OK && w == 0) {
        st = dp_buf_resize(&out->offsets, (cells + 1) * sizeof(int64_t));
        out->heap.size = 0;
    }
    if (st != DP_OK)
        return dp__nomem(err, "column values", cells * (size_t) (w > 0 ? w : 8));
    if (w == 0)
        ((int64_t *) out->offsets.data)[0] = 0;
    dp__target t = {rows,       w, w > 0 ? out->fixed.data : NULL, out->valid.data, &out->offsets,
                    &out->heap, 0};
    DP_TRY(dp__read_chunk(d, f, rg, col, &t, err));
    out->n_null = t.n_null;
    return DP_OK;
}

dp_status dp_pq_read_doubles(dp_pq_decoder *d, const dp_pq_file *f, int32_t rg, int32_t col,
                             double *dst, int64_t *n_null, dp_error *err) {
    DP_TRY(dp__check_args(f, rg, col, err));
    const dp_pq_column_desc *c = dp_pq_file_column(f, col);
    if (!c->numeric)
        return dp_error_set(err, DP_INVALID_ARG, "%s: column '%s' is not numeric",
                            dp_pq_file_name(f), c->path);
    int64_t rows = dp_pq_file_row_group_rows(f, rg);
    if (c->type == DP_PQ_DOUBLE && c->kind == DP_PQ_KIND_FLOAT) {
        /* Fast path: decode into the caller's array, then mark nulls. */
        if (dp_buf_resize(&d->tmp.valid, (size_t) rows) != DP_OK)
            return dp__nomem(err, "validity", (size_t) rows);
        dp__target t = {rows, 8, (uint8_t *) dst, d->tmp.valid.data, NULL, NULL, 0};
        DP_TRY(dp__read_chunk(d, f, rg, col, &t, err));
        if (t.n_null > 0) {
            const uint8_t *v = d->tmp.valid.data;
            const uint64_t null_bits = DP_PQ_NULL_BITS;
            for (int64_t i = 0; i < rows; i++)
                if (!v[i])
                    memcpy(&dst[i], &null_bits, 8);
        }
        *n_null = t.n_null;
        return DP_OK;
    }
    DP_TRY(dp_pq_read_values(d, f, rg, col, &d->tmp, err));
    const uint64_t null_bits = DP_PQ_NULL_BITS;
    const uint8_t *valid = d->tmp.valid.data;
    for (int64_t i = 0; i < rows; i++) {
        if (valid[i])
            dst[i] = dp_pq_value_to_double(&d->tmp, c, i);
        else
            memcpy(&dst[i], &null_bits, 8);
    }
    *n_null = d->tmp.n_null;
    return DP_OK;
}

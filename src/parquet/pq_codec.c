/* pq_codec.c: the codec table, the UNCOMPRESSED codec and the dispatching entry points. */
#include "parquet/pq_codec_impl.h"
#include "parquet/pq_types.h"
#include "util/dp_alloc.h"

#include "dpipe/dp_features.h"

#include <string.h>

void *dp__pq_codec_alloc(void *opaque, size_t size) {
    (void) opaque;
    return dp_malloc(size);
}

void dp__pq_codec_free(void *opaque, void *ptr) {
    (void) opaque;
    dp_free(ptr);
}

dp_status dp__pq_codec_size_mismatch(const char *codec, size_t produced, size_t dst_len,
                                     dp_error *err) {
    return dp_error_set(err, DP_CORRUPT,
                        "%s: decompressed to %zu bytes but the page header says %zu", codec,
                        produced, dst_len);
}

static dp_status dp__pq_copy_decompress(dp_pq_codec_ctx *ctx, const uint8_t *src, size_t src_len,
                                        uint8_t *dst, size_t dst_len, dp_error *err) {
    (void) ctx;
    if (src_len != dst_len)
        return dp_error_set(err, DP_CORRUPT,
                            "uncompressed page: compressed size %zu differs from uncompressed "
                            "size %zu",
                            src_len, dst_len);
    if (dst_len > 0)
        memcpy(dst, src, dst_len);
    return DP_OK;
}

static dp_status dp__pq_copy_compress(dp_pq_codec_ctx *ctx, int level, const uint8_t *src,
                                      size_t src_len, dp_buf *out, dp_error *err) {
    (void) ctx;
    (void) level;
    if (dp_buf_resize(out, src_len) != DP_OK)
        return dp_error_set(err, DP_NOMEM, "uncompressed: cannot allocate %zu bytes", src_len);
    if (src_len > 0)
        memcpy(out->data, src, src_len);
    return DP_OK;
}

static const dp__pq_codec dp__pq_codec_uncompressed = {
    .name = "uncompressed",
    .decompress = dp__pq_copy_decompress,
    .compress = dp__pq_copy_compress,
};

/* Indexed by the parquet.thrift CompressionCodec value. */
static const dp__pq_codec *const dp__pq_codec_table[] = {
    [DP_PQ_CODEC_UNCOMPRESSED] = &dp__pq_codec_uncompressed,
#if DP_HAVE_SNAPPY
    [DP_PQ_CODEC_SNAPPY] = &dp__pq_codec_snappy,
#endif
#if DP_HAVE_ZLIB
    [DP_PQ_CODEC_GZIP] = &dp__pq_codec_gzip,
#endif
    [DP_PQ_CODEC_LZO] = NULL, /* no LZO library is used, in any build */
#if DP_HAVE_BROTLI
    [DP_PQ_CODEC_BROTLI] = &dp__pq_codec_brotli,
#endif
#if DP_HAVE_LZ4
    [DP_PQ_CODEC_LZ4] = &dp__pq_codec_lz4_hadoop,
    [DP_PQ_CODEC_LZ4_RAW] = &dp__pq_codec_lz4_raw,
#endif
#if DP_HAVE_ZSTD
    [DP_PQ_CODEC_ZSTD] = &dp__pq_codec_zstd,
#endif
};

/* Codecs a build may lack, and the library each one needs, for the "this build lacks ..."
 * message. */
static const struct {
    int id;
    const char *name, *lib;
} dp__pq_codec_optional[] = {
    {DP_PQ_CODEC_SNAPPY, "snappy", "libsnappy"}, {DP_PQ_CODEC_GZIP, "gzip", "zlib"},
    {DP_PQ_CODEC_BROTLI, "brotli", "libbrotli"}, {DP_PQ_CODEC_LZ4, "lz4", "liblz4"},
    {DP_PQ_CODEC_ZSTD, "zstd", "libzstd"},       {DP_PQ_CODEC_LZ4_RAW, "lz4_raw", "liblz4"},
};

const dp__pq_codec *dp__pq_codec_lookup(int codec) {
    if (codec < 0 || (size_t) codec >= DP_ARRAY_LEN(dp__pq_codec_table))
        return NULL;
    return dp__pq_codec_table[codec];
}

static dp_status dp__pq_codec_unavailable(int codec, dp_error *err) {
    for (size_t i = 0; i < DP_ARRAY_LEN(dp__pq_codec_optional); i++)
        if (dp__pq_codec_optional[i].id == codec)
            return dp_error_set(err, DP_UNSUPPORTED,
                                "this build lacks %s support (codec id %d; rebuild with %s)",
                                dp__pq_codec_optional[i].name, codec, dp__pq_codec_optional[i].lib);
    if (codec == DP_PQ_CODEC_LZO)
        return dp_error_set(err, DP_UNSUPPORTED, "compression codec LZO (id %d) is not supported",
                            codec);
    return dp_error_set(err, DP_UNSUPPORTED, "unknown compression codec id %d", codec);
}

bool dp_pq_codec_available(int codec) {
    return dp__pq_codec_lookup(codec) != NULL;
}

bool dp_pq_codec_can_compress(int codec) {
    const dp__pq_codec *c = dp__pq_codec_lookup(codec);
    return c != NULL && c->compress != NULL;
}

dp_status dp_pq_codec_ctx_create(dp_pq_codec_ctx **out, dp_error *err) {
    /* Library contexts are made on first use, so a reader that only meets snappy pages never
     * pays for a zstd context. */
    dp_pq_codec_ctx *ctx = dp_calloc(1, sizeof *ctx);
    *out = ctx;
    if (ctx == NULL)
        return dp_error_set(err, DP_NOMEM, "cannot allocate a codec context (%zu bytes)",
                            sizeof *ctx);
    return DP_OK;
}

void dp_pq_codec_ctx_free(dp_pq_codec_ctx *ctx) {
    if (ctx == NULL)
        return;
    for (size_t i = 0; i < DP_ARRAY_LEN(dp__pq_codec_table); i++)
        if (dp__pq_codec_table[i] != NULL && dp__pq_codec_table[i]->release != NULL)
            dp__pq_codec_table[i]->release(ctx);
    dp_free(ctx);
}

dp_status dp_pq_decompress(dp_pq_codec_ctx *ctx, int codec, const uint8_t *src, size_t src_len,
                           uint8_t *dst, size_t dst_len, dp_error *err) {
    const dp__pq_codec *c = dp__pq_codec_lookup(codec);
    if (c == NULL)
        return dp__pq_codec_unavailable(codec, err);
    if (ctx == NULL || (src == NULL && src_len > 0) || (dst == NULL && dst_len > 0))
        return dp_error_set(err, DP_INVALID_ARG, "%s: NULL context or buffer", c->name);
    /* An empty page with an empty payload is accepted whatever the codec: it is what a writer
     * that skips compressing empty pages produces, and there is nothing it could mean else. */
    if (src_len == 0 && dst_len == 0)
        return DP_OK;
    return c->decompress(ctx, src, src_len, dst, dst_len, err);
}

dp_status dp_pq_compress(dp_pq_codec_ctx *ctx, int codec, int level, const uint8_t *src,
                         size_t src_len, dp_buf *out, dp_error *err) {
    const dp__pq_codec *c = dp__pq_codec_lookup(codec);
    if (c == NULL)
        return dp__pq_codec_unavailable(codec, err);
    if (c->compress == NULL)
        return dp_error_set(err, DP_UNSUPPORTED, "%s: compression is not supported (codec id %d)",
                            c->name, codec);
    if (ctx == NULL || out == NULL || (src == NULL && src_len > 0))
        return dp_error_set(err, DP_INVALID_ARG, "%s: NULL context or buffer", c->name);
    if (level != 0 && (c->min_level != 0 || c->max_level != 0) &&
        (level < c->min_level || level > c->max_level))
        return dp_error_set(err, DP_INVALID_ARG, "%s: compression level %d outside [%d, %d]",
                            c->name, level, c->min_level, c->max_level);
    out->size = 0;
    return c->compress(ctx, level, src, src_len, out, err);
}

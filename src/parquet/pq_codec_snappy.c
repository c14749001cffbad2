/* pq_codec_snappy.c: SNAPPY pages (compiled only when DP_HAVE_SNAPPY), through libsnappy's C
 * interface. Snappy needs no context. Parquet stores one raw snappy block per page (not the
 * framed "snappy stream" format).
 */
#include "parquet/pq_codec_impl.h"

#include <snappy-c.h>

static dp_status dp__pq_snappy_decompress(dp_pq_codec_ctx *ctx, const uint8_t *src, size_t src_len,
                                          uint8_t *dst, size_t dst_len, dp_error *err) {
    (void) ctx;
    /* The block starts with its decompressed length: checking it against the page header first
     * rejects a mismatch before any byte is written. */
    size_t n = 0;
    if (snappy_uncompressed_length((const char *) src, src_len, &n) != SNAPPY_OK)
        return dp_error_set(err, DP_CORRUPT,
                            "snappy: invalid length prefix in %zu bytes of compressed data",
                            src_len);
    if (n != dst_len)
        return dp_error_set(err, DP_CORRUPT,
                            "snappy: block says it decompresses to %zu bytes but the page header "
                            "says %zu",
                            n, dst_len);
    /* snappy_uncompress writes nothing through a NULL/short buffer when dst_len is 0, but
     * needs a valid pointer. */
    char dummy;
    char *out = dst_len > 0 ? (char *) dst : &dummy;
    size_t out_len = dst_len;
    snappy_status s = snappy_uncompress((const char *) src, src_len, out, &out_len);
    if (s != SNAPPY_OK)
        return dp_error_set(err, DP_CORRUPT, "snappy: malformed compressed data (%zu bytes)",
                            src_len);
    if (out_len != dst_len)
        return dp__pq_codec_size_mismatch("snappy", out_len, dst_len, err);
    return DP_OK;
}

static dp_status dp__pq_snappy_compress(dp_pq_codec_ctx *ctx, int level, const uint8_t *src,
                                        size_t src_len, dp_buf *out, dp_error *err) {
    (void) ctx;
    (void) level;
    /* snappy's format stores the length as a 32-bit varint */
    if (src_len > UINT32_MAX)
        return dp_error_set(err, DP_LIMIT, "snappy: input of %zu bytes is above 4 GiB", src_len);
    size_t bound = snappy_max_compressed_length(src_len);
    if (dp_buf_resize(out, bound) != DP_OK)
        return dp_error_set(err, DP_NOMEM, "snappy: cannot allocate %zu bytes for the output",
                            bound);
    char dummy = 0;
    const char *in = src_len > 0 ? (const char *) src : &dummy;
    size_t n = bound;
    if (snappy_compress(in, src_len, (char *) out->data, &n) != SNAPPY_OK) {
        out->size = 0;
        return dp_error_set(err, DP_STATE, "snappy: compression of %zu bytes failed", src_len);
    }
    out->size = n;
    return DP_OK;
}

const dp__pq_codec dp__pq_codec_snappy = {
    .name = "snappy",
    .decompress = dp__pq_snappy_decompress,
    .compress = dp__pq_snappy_compress,
};

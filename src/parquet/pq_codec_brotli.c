/* pq_codec_brotli.c: BROTLI pages (compiled only when DP_HAVE_BROTLI; libbrotlidec and
 * libbrotlienc).
 *
 * libbrotli 1.0 has no way to reset a decoder or encoder, so each page gets a fresh instance
 * (a decoder allocates through dp_malloc); its cost is small next to decoding a page. Hence no
 * state in the codec context. Data after the end of the brotli stream is an error: a page holds one
 * stream.
 */
#include "parquet/pq_codec_impl.h"

#include <brotli/decode.h>
#include <brotli/encode.h>

/* Quality when the caller asks for the default: 11 (brotli's own default) is about ten times
 * slower than 8 for a few percent; Arrow also writes 8 by default. */
#define DP__PQ_BROTLI_DEFAULT_QUALITY 8

static dp_status dp__pq_brotli_decompress(dp_pq_codec_ctx *ctx, const uint8_t *src, size_t src_len,
                                          uint8_t *dst, size_t dst_len, dp_error *err) {
    (void) ctx;
    BrotliDecoderState *bs =
        BrotliDecoderCreateInstance(dp__pq_codec_alloc, dp__pq_codec_free, NULL);
    if (bs == NULL)
        return dp_error_set(err, DP_NOMEM, "brotli: cannot create a decoder");
    static const uint8_t dp__empty_in = 0;
    uint8_t dummy_out;
    size_t avail_in = src_len, avail_out = dst_len;
    const uint8_t *next_in = src_len > 0 ? src : &dp__empty_in;
    uint8_t *next_out = dst_len > 0 ? dst : &dummy_out;
    dp_status st = DP_OK;
    BrotliDecoderResult r =
        BrotliDecoderDecompressStream(bs, &avail_in, &next_in, &avail_out, &next_out, NULL);
    size_t produced = dst_len - avail_out;
    switch (r) {
    case BROTLI_DECODER_RESULT_SUCCESS:
        if (avail_in != 0)
            st = dp_error_set(err, DP_CORRUPT,
                              "brotli: %zu bytes follow the end of the stream (compressed size "
                              "%zu)",
                              avail_in, src_len);
        else if (produced != dst_len)
            st = dp__pq_codec_size_mismatch("brotli", produced, dst_len, err);
        break;
    case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
        st = dp_error_set(err, DP_TRUNCATED,
                          "brotli: compressed data (%zu bytes) ends early after %zu of %zu "
                          "decompressed bytes",
                          src_len, produced, dst_len);
        break;
    case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
        st = dp_error_set(err, DP_CORRUPT,
                          "brotli: data decompresses to more than the page header's %zu bytes "
                          "(compressed size %zu)",
                          dst_len, src_len);
        break;
    default: {
        BrotliDecoderErrorCode code = BrotliDecoderGetErrorCode(bs);
        bool nomem = code == BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MODES ||
                     code == BROTLI_DECODER_ERROR_ALLOC_TREE_GROUPS ||
                     code == BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MAP ||
                     code == BROTLI_DECODER_ERROR_ALLOC_RING_BUFFER_1 ||
                     code == BROTLI_DECODER_ERROR_ALLOC_RING_BUFFER_2 ||
                     code == BROTLI_DECODER_ERROR_ALLOC_BLOCK_TYPE_TREES;
        st = dp_error_set(err, nomem ? DP_NOMEM : DP_CORRUPT,
                          "brotli: malformed data near compressed byte %zu of %zu: %s",
                          src_len - avail_in, src_len, BrotliDecoderErrorString(code));
        break;
    }
    }
    BrotliDecoderDestroyInstance(bs);
    return st;
}

static dp_status dp__pq_brotli_compress(dp_pq_codec_ctx *ctx, int level, const uint8_t *src,
                                        size_t src_len, dp_buf *out, dp_error *err) {
    (void) ctx;
    dp_status st = DP_OK;
    BrotliEncoderState *bs = NULL;
    size_t bound = BrotliEncoderMaxCompressedSize(src_len);
    if (bound == 0)
        DP_FAIL(err, DP_LIMIT, "brotli: input of %zu bytes is too large", src_len);
    if (dp_buf_resize(out, bound) != DP_OK)
        DP_FAIL(err, DP_NOMEM, "brotli: cannot allocate %zu bytes for the output", bound);
    /* The encoder gets libbrotli's own allocator: libbrotlienc 1.0 calls exit() when an
     * allocation fails, so handing it dp_malloc (which fails on purpose in tests, or at the cap)
     * would turn a NOMEM into a process exit. The decoder reports allocation failures. */
    bs = BrotliEncoderCreateInstance(NULL, NULL, NULL);
    if (bs == NULL)
        DP_FAIL(err, DP_NOMEM, "brotli: cannot create an encoder");
    uint32_t quality = (uint32_t) (level == 0 ? DP__PQ_BROTLI_DEFAULT_QUALITY : level);
    uint32_t hint = (uint32_t) DP_MIN(src_len, (size_t) 1 << 30);
    if (!BrotliEncoderSetParameter(bs, BROTLI_PARAM_QUALITY, quality) ||
        !BrotliEncoderSetParameter(bs, BROTLI_PARAM_SIZE_HINT, hint))
        DP_FAIL(err, DP_STATE, "brotli: cannot set quality %u", quality);
    static const uint8_t dp__empty_in = 0;
    size_t avail_in = src_len, avail_out = bound;
    const uint8_t *next_in = src_len > 0 ? src : &dp__empty_in;
    uint8_t *next_out = out->data;
    /* With FINISH and an output of the bound's size the encoder completes; the HasMoreOutput
     * check only guards against looping forever should the bound ever be wrong. */
    while (!BrotliEncoderIsFinished(bs)) {
        if (!BrotliEncoderCompressStream(bs, BROTLI_OPERATION_FINISH, &avail_in, &next_in,
                                         &avail_out, &next_out, NULL))
            DP_FAIL(err, DP_STATE, "brotli: compression of %zu bytes failed", src_len);
        if (avail_out == 0 && BrotliEncoderHasMoreOutput(bs))
            DP_FAIL(err, DP_STATE, "brotli: output exceeds the bound of %zu bytes", bound);
    }
    out->size = bound - avail_out;
cleanup:
    if (st != DP_OK)
        out->size = 0;
    BrotliEncoderDestroyInstance(bs);
    return st;
}

const dp__pq_codec dp__pq_codec_brotli = {
    .name = "brotli",
    .decompress = dp__pq_brotli_decompress,
    .compress = dp__pq_brotli_compress,
    .min_level = 1,
    .max_level = 11,
};

/* pq_codec_lz4.c: LZ4_RAW and the deprecated LZ4 codec (compiled only when DP_HAVE_LZ4).
 *
 * LZ4_RAW (id 7) is one raw LZ4 block per page.
 * LZ4 (id 5) was never specified precisely, and writers disagree:
 *   - parquet-mr, arrow-rs and Arrow C++ >= 0.17 write Hadoop's framing: one or more chunks of
 *     [u32 big-endian decompressed size][u32 big-endian compressed size][raw LZ4 block];
 *   - Arrow C++ < 0.17 wrote a bare raw LZ4 block (parquet-testing
 *     non_hadoop_lz4_compressed.parquet);
 *   - the LZ4 frame format (magic 04 22 4D 18) is what "LZ4" means elsewhere; no Parquet writer we
 *     know uses it, but it costs little to accept.
 * We try them in that order, as Arrow does for the first two: the Hadoop parse must account for
 * every input byte and produce exactly the page's size, which raw or framed data practically never
 * does by accident; then the frame format when the magic is there; then a raw block.
 * Only LZ4_RAW is offered for compression.
 *
 * State per codec context: the LZ4 compression state (LZ4_sizeofState() bytes, from dp_malloc)
 * and an LZ4F decompression context (made with liblz4's own allocator), both made on first use.
 */
#include "parquet/pq_codec_impl.h"
#include "util/dp_alloc.h"

#include <limits.h>
#include <lz4.h>
#include <lz4frame.h>

struct dp__pq_lz4_state {
    void *cstate;
    LZ4F_dctx *fdctx;
};

static dp_status dp__pq_lz4_state_get(dp_pq_codec_ctx *ctx, dp_error *err) {
    if (ctx->lz4 == NULL) {
        ctx->lz4 = dp_calloc(1, sizeof *ctx->lz4);
        if (ctx->lz4 == NULL)
            return dp_error_set(err, DP_NOMEM, "lz4: cannot allocate the codec state");
    }
    return DP_OK;
}

static void dp__pq_lz4_release(dp_pq_codec_ctx *ctx) {
    if (ctx->lz4 == NULL)
        return;
    dp_free(ctx->lz4->cstate);
    if (ctx->lz4->fdctx != NULL)
        LZ4F_freeDecompressionContext(ctx->lz4->fdctx);
    dp_free(ctx->lz4);
    ctx->lz4 = NULL;
}

static uint32_t dp__pq_be32(const uint8_t *p) {
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | (uint32_t) p[3];
}

/* LZ4 block functions take int sizes. */
static dp_status dp__pq_lz4_check_int(const char *codec, size_t src_len, size_t dst_len,
                                      dp_error *err) {
    if (src_len > (size_t) LZ4_MAX_INPUT_SIZE || dst_len > (size_t) INT_MAX)
        return dp_error_set(err, DP_LIMIT,
                            "%s: page of %zu compressed / %zu decompressed bytes is beyond LZ4's "
                            "block size limit",
                            codec, src_len, dst_len);
    return DP_OK;
}

/* One raw block that must fill dst exactly. */
static dp_status dp__pq_lz4_block(const char *codec, const uint8_t *src, size_t src_len,
                                  uint8_t *dst, size_t dst_len, dp_error *err) {
    DP_TRY(dp__pq_lz4_check_int(codec, src_len, dst_len, err));
    char dummy;
    char *out = dst_len > 0 ? (char *) dst : &dummy;
    int n = LZ4_decompress_safe((const char *) src, out, (int) src_len, (int) dst_len);
    if (n < 0)
        return dp_error_set(err, DP_CORRUPT,
                            "%s: malformed block, or one that decompresses to more than %zu bytes "
                            "(compressed size %zu, error near input byte %d)",
                            codec, dst_len, src_len, -n - 1);
    if ((size_t) n != dst_len)
        return dp__pq_codec_size_mismatch(codec, (size_t) n, dst_len, err);
    return DP_OK;
}

static dp_status dp__pq_lz4_raw_decompress(dp_pq_codec_ctx *ctx, const uint8_t *src, size_t src_len,
                                           uint8_t *dst, size_t dst_len, dp_error *err) {
    (void) ctx;
    return dp__pq_lz4_block("lz4_raw", src, src_len, dst, dst_len, err);
}

static dp_status dp__pq_lz4_hadoop(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len,
                                   dp_error *err) {
    size_t in = 0, out = 0;
    int chunk = 0;
    while (in < src_len) {
        if (src_len - in < 8)
            return dp_error_set(err, DP_CORRUPT,
                                "%zu bytes left after chunk %d, less than a chunk header",
                                src_len - in, chunk);
        uint32_t dsz = dp__pq_be32(src + in), csz = dp__pq_be32(src + in + 4);
        in += 8;
        if (csz > src_len - in)
            return dp_error_set(err, DP_CORRUPT,
                                "chunk %d: compressed size %u exceeds the %zu bytes left", chunk,
                                csz, src_len - in);
        if (dsz > dst_len - out)
            return dp_error_set(err, DP_CORRUPT,
                                "chunk %d: decompressed size %u exceeds the %zu bytes left of the "
                                "page",
                                chunk, dsz, dst_len - out);
        dp_error sub;
        if (dp__pq_lz4_block("lz4", src + in, csz, dsz > 0 ? dst + out : NULL, dsz, &sub) != DP_OK)
            return dp_error_set(err, DP_CORRUPT, "chunk %d at byte %zu: %s", chunk, in - 8,
                                sub.msg);
        in += csz;
        out += dsz;
        chunk++;
    }
    if (out != dst_len)
        return dp_error_set(err, DP_CORRUPT, "%d chunks hold %zu bytes, the page %zu", chunk, out,
                            dst_len);
    return DP_OK;
}

static dp_status dp__pq_lz4_frame(dp_pq_codec_ctx *ctx, const uint8_t *src, size_t src_len,
                                  uint8_t *dst, size_t dst_len, dp_error *err) {
    struct dp__pq_lz4_state *s = ctx->lz4;
    if (s->fdctx == NULL) {
        if (LZ4F_isError(LZ4F_createDecompressionContext(&s->fdctx, LZ4F_VERSION))) {
            s->fdctx = NULL;
            return dp_error_set(err, DP_NOMEM, "cannot create an LZ4 frame decoder");
        }
    } else {
        LZ4F_resetDecompressionContext(s->fdctx);
    }
    uint8_t dummy;
    size_t in = 0, out = 0, hint = 1;
    int frame = 1;
    while (in < src_len) {
        size_t isz = src_len - in, osz = dst_len - out;
        hint =
            LZ4F_decompress(s->fdctx, dst_len > 0 ? dst + out : &dummy, &osz, src + in, &isz, NULL);
        if (LZ4F_isError(hint)) {
            LZ4F_resetDecompressionContext(s->fdctx);
            return dp_error_set(err, DP_CORRUPT, "frame %d near byte %zu: %s", frame, in,
                                LZ4F_getErrorName(hint));
        }
        in += isz;
        out += osz;
        if (hint == 0) {
            frame++; /* the decoder is ready for a next frame by itself */
        } else if (isz == 0 && osz == 0) {
            LZ4F_resetDecompressionContext(s->fdctx);
            return dp_error_set(err, DP_CORRUPT,
                                "frame %d decompresses to more than the page's %zu bytes", frame,
                                dst_len);
        }
    }
    if (hint != 0) {
        LZ4F_resetDecompressionContext(s->fdctx);
        return dp_error_set(err, DP_TRUNCATED, "frame %d ends early after %zu bytes", frame,
                            src_len);
    }
    if (out != dst_len)
        return dp_error_set(err, DP_CORRUPT, "frames hold %zu bytes, the page %zu", out, dst_len);
    return DP_OK;
}

static dp_status dp__pq_lz4_hadoop_decompress(dp_pq_codec_ctx *ctx, const uint8_t *src,
                                              size_t src_len, uint8_t *dst, size_t dst_len,
                                              dp_error *err) {
    DP_TRY(dp__pq_lz4_state_get(ctx, err));
    dp_error why_hadoop, why_frame, why_raw;
    dp_error_init(&why_frame);
    if (dp__pq_lz4_hadoop(src, src_len, dst, dst_len, &why_hadoop) == DP_OK)
        return DP_OK;
    static const uint8_t magic[4] = {0x04, 0x22, 0x4d, 0x18}; /* 0x184D2204 little-endian */
    if (src_len >= 4 && src[0] == magic[0] && src[1] == magic[1] && src[2] == magic[2] &&
        src[3] == magic[3]) {
        dp_status st = dp__pq_lz4_frame(ctx, src, src_len, dst, dst_len, &why_frame);
        if (st == DP_OK)
            return DP_OK;
        if (st == DP_NOMEM)
            return dp_error_set(err, st, "lz4: %s", why_frame.msg);
    }
    dp_status st = dp__pq_lz4_block("raw block", src, src_len, dst, dst_len, &why_raw);
    if (st == DP_OK)
        return DP_OK;
    return dp_error_set(err, st == DP_LIMIT ? DP_LIMIT : DP_CORRUPT,
                        "lz4: %zu bytes are neither Hadoop-framed LZ4 (%s)%s%s nor a raw LZ4 block "
                        "(%s)",
                        src_len, why_hadoop.msg, why_frame.msg[0] ? ", an LZ4 frame (" : "",
                        why_frame.msg[0] ? why_frame.msg : "", why_raw.msg);
}

static dp_status dp__pq_lz4_raw_compress(dp_pq_codec_ctx *ctx, int level, const uint8_t *src,
                                         size_t src_len, dp_buf *out, dp_error *err) {
    (void) level;
    if (src_len > (size_t) LZ4_MAX_INPUT_SIZE)
        return dp_error_set(err, DP_LIMIT, "lz4_raw: input of %zu bytes exceeds LZ4's limit %d",
                            src_len, LZ4_MAX_INPUT_SIZE);
    DP_TRY(dp__pq_lz4_state_get(ctx, err));
    if (ctx->lz4->cstate == NULL) {
        ctx->lz4->cstate = dp_malloc((size_t) LZ4_sizeofState());
        if (ctx->lz4->cstate == NULL)
            return dp_error_set(err, DP_NOMEM, "lz4_raw: cannot allocate the compression state");
    }
    int bound = LZ4_compressBound((int) src_len);
    if (dp_buf_resize(out, (size_t) bound) != DP_OK)
        return dp_error_set(err, DP_NOMEM, "lz4_raw: cannot allocate %d bytes for the output",
                            bound);
    char dummy = 0;
    const char *in = src_len > 0 ? (const char *) src : &dummy;
    int n = LZ4_compress_fast_extState(ctx->lz4->cstate, in, (char *) out->data, (int) src_len,
                                       bound, 1);
    if (n <= 0) {
        out->size = 0;
        return dp_error_set(err, DP_STATE, "lz4_raw: compression of %zu bytes failed", src_len);
    }
    out->size = (size_t) n;
    return DP_OK;
}

const dp__pq_codec dp__pq_codec_lz4_raw = {
    .name = "lz4_raw",
    .decompress = dp__pq_lz4_raw_decompress,
    .compress = dp__pq_lz4_raw_compress,
    .release = dp__pq_lz4_release,
};

const dp__pq_codec dp__pq_codec_lz4_hadoop = {
    .name = "lz4",
    .decompress = dp__pq_lz4_hadoop_decompress,
    .release = dp__pq_lz4_release,
};

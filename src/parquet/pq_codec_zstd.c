/* pq_codec_zstd.c: ZSTD pages (compiled only when DP_HAVE_ZSTD).
 *
 * One ZSTD_DCtx and one ZSTD_CCtx per codec context, made on first use with dp_malloc as their
 * allocator and reused for every page (ZSTD_decompressDCtx resets the session itself). A page
 * may hold several frames (and skippable frames); ZSTD_decompressDCtx decodes them all.
 */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_createDCtx_advanced: our allocator (stable since 1.0) */
#include "parquet/pq_codec_impl.h"
#include "util/dp_alloc.h"

#include <zstd.h>
#include <zstd_errors.h>

struct dp__pq_zstd_state {
    ZSTD_DCtx *dctx;
    ZSTD_CCtx *cctx;
};

static const ZSTD_customMem dp__pq_zstd_mem = {dp__pq_codec_alloc, dp__pq_codec_free, NULL};

static dp_status dp__pq_zstd_state_get(dp_pq_codec_ctx *ctx, dp_error *err) {
    if (ctx->zstd == NULL) {
        ctx->zstd = dp_calloc(1, sizeof *ctx->zstd);
        if (ctx->zstd == NULL)
            return dp_error_set(err, DP_NOMEM, "zstd: cannot allocate the codec state");
    }
    return DP_OK;
}

static void dp__pq_zstd_release(dp_pq_codec_ctx *ctx) {
    if (ctx->zstd == NULL)
        return;
    ZSTD_freeDCtx(ctx->zstd->dctx);
    ZSTD_freeCCtx(ctx->zstd->cctx);
    dp_free(ctx->zstd);
    ctx->zstd = NULL;
}

static dp_status dp__pq_zstd_error(size_t code, const char *what, dp_error *err) {
    dp_status st;
    switch (ZSTD_getErrorCode(code)) {
    case ZSTD_error_memory_allocation:
        st = DP_NOMEM;
        break;
    case ZSTD_error_srcSize_wrong:
        /* one-shot decoding reports a frame cut short this way */
        st = DP_TRUNCATED;
        break;
    case ZSTD_error_frameParameter_windowTooLarge:
        st = DP_LIMIT;
        break;
    default:
        st = DP_CORRUPT;
        break;
    }
    return dp_error_set(err, st, "zstd: %s: %s", what, ZSTD_getErrorName(code));
}

static dp_status dp__pq_zstd_decompress(dp_pq_codec_ctx *ctx, const uint8_t *src, size_t src_len,
                                        uint8_t *dst, size_t dst_len, dp_error *err) {
    DP_TRY(dp__pq_zstd_state_get(ctx, err));
    if (ctx->zstd->dctx == NULL) {
        ctx->zstd->dctx = ZSTD_createDCtx_advanced(dp__pq_zstd_mem);
        if (ctx->zstd->dctx == NULL)
            return dp_error_set(err, DP_NOMEM, "zstd: cannot create a decompression context");
    }
    size_t n = ZSTD_decompressDCtx(ctx->zstd->dctx, dst, dst_len, src, src_len);
    if (ZSTD_isError(n)) {
        if (ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall) {
            /* The frame headers usually state the size: name it when they all do. */
            unsigned long long said = ZSTD_findDecompressedSize(src, src_len);
            if (said != ZSTD_CONTENTSIZE_UNKNOWN && said != ZSTD_CONTENTSIZE_ERROR)
                return dp_error_set(err, DP_CORRUPT,
                                    "zstd: frames hold %llu bytes but the page header says %zu",
                                    said, dst_len);
            return dp_error_set(err, DP_CORRUPT,
                                "zstd: data decompresses to more than the page header's %zu "
                                "bytes (compressed size %zu)",
                                dst_len, src_len);
        }
        return dp__pq_zstd_error(n, "decompression failed", err);
    }
    if (n != dst_len)
        return dp__pq_codec_size_mismatch("zstd", n, dst_len, err);
    return DP_OK;
}

static dp_status dp__pq_zstd_compress(dp_pq_codec_ctx *ctx, int level, const uint8_t *src,
                                      size_t src_len, dp_buf *out, dp_error *err) {
    if (level != 0 && (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()))
        return dp_error_set(err, DP_INVALID_ARG, "zstd: compression level %d outside [%d, %d]",
                            level, ZSTD_minCLevel(), ZSTD_maxCLevel());
    DP_TRY(dp__pq_zstd_state_get(ctx, err));
    if (ctx->zstd->cctx == NULL) {
        ctx->zstd->cctx = ZSTD_createCCtx_advanced(dp__pq_zstd_mem);
        if (ctx->zstd->cctx == NULL)
            return dp_error_set(err, DP_NOMEM, "zstd: cannot create a compression context");
    }
    size_t bound = ZSTD_compressBound(src_len);
    if (ZSTD_isError(bound))
        return dp_error_set(err, DP_LIMIT, "zstd: input of %zu bytes is too large", src_len);
    if (dp_buf_resize(out, bound) != DP_OK)
        return dp_error_set(err, DP_NOMEM, "zstd: cannot allocate %zu bytes for the output", bound);
    /* Level 0 means "zstd's default" to the library as well (ZSTD_CLEVEL_DEFAULT, 3). */
    size_t n = ZSTD_compressCCtx(ctx->zstd->cctx, out->data, bound, src, src_len, level);
    if (ZSTD_isError(n)) {
        out->size = 0;
        return dp__pq_zstd_error(n, "compression failed", err);
    }
    out->size = n;
    return DP_OK;
}

const dp__pq_codec dp__pq_codec_zstd = {
    .name = "zstd",
    .decompress = dp__pq_zstd_decompress,
    .compress = dp__pq_zstd_compress,
    /* the exact bounds are ZSTD_minCLevel()/ZSTD_maxCLevel(), checked in compress */
    .min_level = INT32_MIN,
    .max_level = INT32_MAX,
    .release = dp__pq_zstd_release,
};

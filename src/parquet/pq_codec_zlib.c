/* pq_codec_zlib.c: GZIP pages (compiled only when DP_HAVE_ZLIB).
 *
 * Decoding accepts a gzip stream of one or more members (parquet-testing's
 * concatenated_gzip_members.parquet has two per page; gzip(1) treats such a file as the
 * concatenation of the members' contents) and, because zlib detects the header, zlib-wrapped
 * deflate data too (some early writers used it). Every member's CRC and length are checked by
 * zlib. Encoding writes one gzip member with a zero timestamp, so output is deterministic.
 * One inflate and one deflate stream per codec context, made on first use with dp_malloc as
 * their allocator, reset per page.
 */
#include "parquet/pq_codec_impl.h"
#include "util/dp_alloc.h"

#include <limits.h>
#include <string.h>
#include <zlib.h>

struct dp__pq_zlib_state {
    z_stream inf;
    z_stream def;
    bool inf_ready, def_ready;
    int def_level;
};

static voidpf dp__pq_zlib_alloc(voidpf opaque, uInt items, uInt size) {
    (void) opaque;
    return dp_mallocarray(items, size);
}

static void dp__pq_zlib_free(voidpf opaque, voidpf ptr) {
    (void) opaque;
    dp_free(ptr);
}

static dp_status dp__pq_zlib_state_get(dp_pq_codec_ctx *ctx, dp_error *err) {
    if (ctx->zlib == NULL) {
        ctx->zlib = dp_calloc(1, sizeof *ctx->zlib);
        if (ctx->zlib == NULL)
            return dp_error_set(err, DP_NOMEM, "gzip: cannot allocate the codec state");
    }
    return DP_OK;
}

static void dp__pq_zlib_release(dp_pq_codec_ctx *ctx) {
    if (ctx->zlib == NULL)
        return;
    if (ctx->zlib->inf_ready)
        inflateEnd(&ctx->zlib->inf);
    if (ctx->zlib->def_ready)
        deflateEnd(&ctx->zlib->def);
    dp_free(ctx->zlib);
    ctx->zlib = NULL;
}

static void dp__pq_zlib_stream_init(z_stream *zs) {
    memset(zs, 0, sizeof *zs);
    zs->zalloc = dp__pq_zlib_alloc;
    zs->zfree = dp__pq_zlib_free;
}

/* zlib counts in uInt (32 bits): hand it at most UINT_MAX bytes of each buffer at a time, so
 * pages above 4 GiB (if the limits are ever raised) still work. */
static void dp__pq_zlib_window(z_stream *zs, const uint8_t *src, size_t src_len, size_t in_pos,
                               uint8_t *dst, size_t dst_len, size_t out_pos) {
    static uint8_t dp__empty; /* never written: avail_out is 0 whenever it is used */
    zs->next_in = (Bytef *) (uintptr_t) (src_len > 0 ? src + in_pos : &dp__empty);
    zs->avail_in = (uInt) DP_MIN(src_len - in_pos, (size_t) UINT_MAX);
    zs->next_out = dst_len > 0 ? dst + out_pos : &dp__empty;
    zs->avail_out = (uInt) DP_MIN(dst_len - out_pos, (size_t) UINT_MAX);
}

static dp_status dp__pq_gzip_decompress(dp_pq_codec_ctx *ctx, const uint8_t *src, size_t src_len,
                                        uint8_t *dst, size_t dst_len, dp_error *err) {
    DP_TRY(dp__pq_zlib_state_get(ctx, err));
    struct dp__pq_zlib_state *s = ctx->zlib;
    z_stream *zs = &s->inf;
    if (!s->inf_ready) {
        dp__pq_zlib_stream_init(zs);
        /* 15 + 32: the largest window, and detect a gzip or zlib header */
        int rc = inflateInit2(zs, 15 + 32);
        if (rc != Z_OK)
            return dp_error_set(err, rc == Z_MEM_ERROR ? DP_NOMEM : DP_STATE,
                                "gzip: cannot create an inflate stream (zlib error %d)", rc);
        s->inf_ready = true;
    } else if (inflateReset(zs) != Z_OK) {
        return dp_error_set(err, DP_STATE, "gzip: cannot reset the inflate stream");
    }
    size_t in_pos = 0, out_pos = 0;
    int member = 1;
    for (;;) {
        dp__pq_zlib_window(zs, src, src_len, in_pos, dst, dst_len, out_pos);
        uInt in0 = zs->avail_in, out0 = zs->avail_out;
        int rc = inflate(zs, Z_NO_FLUSH);
        in_pos += in0 - zs->avail_in;
        out_pos += out0 - zs->avail_out;
        if (rc == Z_OK)
            continue; /* zlib returns Z_OK only after progress, so this loop ends */
        if (rc == Z_STREAM_END) {
            if (in_pos == src_len)
                break;
            /* More bytes: the next gzip member. */
            if (inflateReset(zs) != Z_OK)
                return dp_error_set(err, DP_STATE, "gzip: cannot reset the inflate stream");
            member++;
            continue;
        }
        if (rc == Z_BUF_ERROR) {
            if (out_pos == dst_len && in_pos < src_len)
                return dp_error_set(err, DP_CORRUPT,
                                    "gzip: data decompresses to more than the page header's %zu "
                                    "bytes (member %d, compressed byte %zu of %zu)",
                                    dst_len, member, in_pos, src_len);
            return dp_error_set(err, DP_TRUNCATED,
                                "gzip: compressed data (%zu bytes) ends inside member %d after "
                                "%zu of %zu decompressed bytes",
                                src_len, member, out_pos, dst_len);
        }
        if (rc == Z_MEM_ERROR)
            return dp_error_set(err, DP_NOMEM, "gzip: out of memory while inflating");
        if (rc == Z_NEED_DICT)
            return dp_error_set(err, DP_CORRUPT,
                                "gzip: member %d needs a preset dictionary (not allowed in "
                                "Parquet)",
                                member);
        return dp_error_set(err, DP_CORRUPT,
                            "gzip: malformed data in member %d near compressed byte %zu of %zu: %s",
                            member, in_pos, src_len, zs->msg ? zs->msg : "zlib error");
    }
    if (out_pos != dst_len)
        return dp__pq_codec_size_mismatch("gzip", out_pos, dst_len, err);
    return DP_OK;
}

static dp_status dp__pq_gzip_compress(dp_pq_codec_ctx *ctx, int level, const uint8_t *src,
                                      size_t src_len, dp_buf *out, dp_error *err) {
    DP_TRY(dp__pq_zlib_state_get(ctx, err));
    struct dp__pq_zlib_state *s = ctx->zlib;
    z_stream *zs = &s->def;
    int zlevel = level == 0 ? Z_DEFAULT_COMPRESSION : level;
    if (s->def_ready && s->def_level != zlevel) {
        deflateEnd(zs);
        s->def_ready = false;
    }
    if (!s->def_ready) {
        dp__pq_zlib_stream_init(zs);
        /* 15 + 16: the largest window, with a gzip header (the Parquet GZIP codec) */
        int rc = deflateInit2(zs, zlevel, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
        if (rc != Z_OK)
            return dp_error_set(err, rc == Z_MEM_ERROR ? DP_NOMEM : DP_STATE,
                                "gzip: cannot create a deflate stream (zlib error %d)", rc);
        s->def_ready = true;
        s->def_level = zlevel;
    } else if (deflateReset(zs) != Z_OK) {
        return dp_error_set(err, DP_STATE, "gzip: cannot reset the deflate stream");
    }
    size_t bound = deflateBound(zs, src_len);
    if (dp_buf_resize(out, bound) != DP_OK)
        return dp_error_set(err, DP_NOMEM, "gzip: cannot allocate %zu bytes for the output", bound);
    size_t in_pos = 0, out_pos = 0;
    for (;;) {
        dp__pq_zlib_window(zs, src, src_len, in_pos, out->data, bound, out_pos);
        uInt in0 = zs->avail_in, out0 = zs->avail_out;
        int flush = in_pos + in0 == src_len ? Z_FINISH : Z_NO_FLUSH;
        int rc = deflate(zs, flush);
        in_pos += in0 - zs->avail_in;
        out_pos += out0 - zs->avail_out;
        if (rc == Z_STREAM_END)
            break;
        if (rc != Z_OK) {
            out->size = 0;
            return dp_error_set(err, DP_STATE, "gzip: deflate failed (zlib error %d)", rc);
        }
    }
    out->size = out_pos;
    return DP_OK;
}

const dp__pq_codec dp__pq_codec_gzip = {
    .name = "gzip",
    .decompress = dp__pq_gzip_decompress,
    .compress = dp__pq_gzip_compress,
    .min_level = 1,
    .max_level = 9,
    .release = dp__pq_zlib_release,
};

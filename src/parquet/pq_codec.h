/* pq_codec.h: page (de)compression through a table of codecs.
 *
 * Each codec lives in its own file (pq_codec_zstd.c, ...) compiled only when its library is
 * enabled (DP_WITH_ZSTD, ...). A codec id that is known but not built gives DP_UNSUPPORTED with
 * "this build lacks <codec> support"; an unknown id gives DP_UNSUPPORTED naming the id.
 * Decompression must produce exactly the size the page header states, else DP_CORRUPT.
 *
 * Ownership/threads: a dp_pq_codec_ctx holds reusable per-library contexts (ZSTD_DCtx, zlib
 * stream, ...). Create one per worker thread; it is not thread-safe. dp_pq_codec_available and
 * the name functions are thread-safe.
 */
#ifndef DP_PARQUET_CODEC_H
#define DP_PARQUET_CODEC_H

#include "util/dp_base.h"
#include "util/dp_buf.h"

typedef struct dp_pq_codec_ctx dp_pq_codec_ctx;

dp_status dp_pq_codec_ctx_create(dp_pq_codec_ctx **out, dp_error *err) DP_MUST_USE;
void dp_pq_codec_ctx_free(dp_pq_codec_ctx *ctx);

/* True when this build can decompress codec id `codec` (UNCOMPRESSED is always available). */
bool dp_pq_codec_available(int codec);
/* True when this build can compress with it (writer: UNCOMPRESSED, SNAPPY, ZSTD, GZIP...). */
bool dp_pq_codec_can_compress(int codec);

/* Decompress src[0..src_len) into exactly dst_len bytes. Never writes past dst + dst_len.
 * Errors: CORRUPT (malformed data, or a size other than dst_len: the message names the codec and
 * both sizes where known), TRUNCATED (data ends early), UNSUPPORTED (codec unknown or not built),
 * LIMIT (sizes LZ4 cannot express), NOMEM. An empty payload for an empty page
 * (src_len == dst_len == 0) is accepted whatever the codec. GZIP accepts concatenated members
 * and zlib-wrapped data; LZ4 (id 5) accepts Hadoop framing, a bare LZ4 block or LZ4 frames. */
dp_status dp_pq_decompress(dp_pq_codec_ctx *ctx, int codec, const uint8_t *src, size_t src_len,
                           uint8_t *dst, size_t dst_len, dp_error *err) DP_MUST_USE;

/* Compress src into out (out is overwritten: out->size = compressed length). `level` 0 = the
 * codec's default. */
dp_status dp_pq_compress(dp_pq_codec_ctx *ctx, int codec, int level, const uint8_t *src,
                         size_t src_len, dp_buf *out, dp_error *err) DP_MUST_USE;

#endif

/* pq_codec_impl.h: private to the codec files (pq_codec.c and pq_codec_<lib>.c).
 *
 * Each codec is a dp__pq_codec entry (a table of function pointers). pq_codec_<lib>.c is compiled
 * only when DP_HAVE_<LIB> is 1, and defines the entries of its library; pq_codec.c puts them in
 * the table under the same #if, so a codec that was not built has no entry (lookup yields NULL).
 *
 * Ownership: the per-library state in dp_pq_codec_ctx (decoder/encoder contexts) is created on
 * first use by the codec that needs it and released by that codec's `release` function, which
 * must be idempotent (two entries may share one library state, e.g. LZ4 and LZ4_RAW).
 * Thread safety: a ctx is used by one thread at a time; the entries themselves are constant.
 *
 * Contract of `decompress`: called with dst_len/src_len as given by the page (src may be NULL only
 * when src_len is 0, dst likewise); must write at most dst_len bytes into dst, return DP_OK only
 * when exactly dst_len bytes were produced and all of src consumed, and otherwise return
 * CORRUPT/TRUNCATED/LIMIT/NOMEM with a message that starts with the codec's name.
 * Contract of `compress` (NULL when the codec cannot compress): overwrite out with the compressed
 * bytes; `level` was already checked against [min_level, max_level] (0 = default).
 */
#ifndef DP_PARQUET_CODEC_IMPL_H
#define DP_PARQUET_CODEC_IMPL_H

#include "parquet/pq_codec.h"

struct dp__pq_zstd_state;
struct dp__pq_zlib_state;
struct dp__pq_lz4_state;

struct dp_pq_codec_ctx {
    struct dp__pq_zstd_state *zstd;
    struct dp__pq_zlib_state *zlib;
    struct dp__pq_lz4_state *lz4;
    /* Brotli keeps no state across pages: its 1.0 decoder has no reset, so each page gets a
     * fresh decoder instance (a few KB; small next to a page). Snappy needs none. */
};

typedef struct dp__pq_codec {
    const char *name; /* lower case, for messages: "this build lacks <name> support" */
    dp_status (*decompress)(dp_pq_codec_ctx *ctx, const uint8_t *src, size_t src_len, uint8_t *dst,
                            size_t dst_len, dp_error *err);
    dp_status (*compress)(dp_pq_codec_ctx *ctx, int level, const uint8_t *src, size_t src_len,
                          dp_buf *out, dp_error *err);
    int min_level, max_level; /* accepted `level` values besides 0; both 0 = level ignored */
    void (*release)(dp_pq_codec_ctx *ctx); /* NULL when the codec keeps no state */
} dp__pq_codec;

/* The entries each library file defines (declared unconditionally; referenced only under the
 * matching DP_HAVE_<LIB>). */
extern const dp__pq_codec dp__pq_codec_zstd;
extern const dp__pq_codec dp__pq_codec_snappy;
extern const dp__pq_codec dp__pq_codec_gzip;
extern const dp__pq_codec dp__pq_codec_lz4_raw;
extern const dp__pq_codec dp__pq_codec_lz4_hadoop;
extern const dp__pq_codec dp__pq_codec_brotli;

/* The table: NULL for a codec id that is unknown or not built. */
const dp__pq_codec *dp__pq_codec_lookup(int codec);

/* Allocation callbacks with the (opaque, size) shape zstd and brotli take, routed through
 * dp_malloc so that library memory is accounted and capped like ours. */
void *dp__pq_codec_alloc(void *opaque, size_t size);
void dp__pq_codec_free(void *opaque, void *ptr);

/* Shared message for "the codec produced n bytes but the page says dst_len". */
dp_status dp__pq_codec_size_mismatch(const char *codec, size_t produced, size_t dst_len,
                                     dp_error *err);

#endif

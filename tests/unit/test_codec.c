/* parquet layer: page codecs (src/parquet/pq_codec*.c).
 *
 * References that do not go through the code under test: the build flags (dp_features.h), the
 * original bytes of every round trip, gzip/zlib framing rebuilt byte by byte here with a naive
 * CRC-32/Adler-32, Hadoop LZ4 framing assembled here, and real pages of the shared Parquet test
 * files whose decompressed CRC-32 was computed by independent decoders (Python zlib, brotli and
 * lz4 modules, the zstd CLI, a naive Python snappy decoder).
 */
#include "dp_test.h"
#include "parquet/pq_codec.h"
#include "parquet/pq_types.h"
#include "util/dp_alloc.h"
#include "util/dp_buf.h"
#include "util/dp_checksum.h"
#include "util/dp_rng.h"

#include "dpipe/dp_features.h"

#include <errno.h>
#include <stdbool.h>

#define CODEC_CANARY     0xA5
#define CODEC_CANARY_LEN 64

/* What the build says each codec id should be. */
static bool codec_built(int id) {
    switch (id) {
    case DP_PQ_CODEC_UNCOMPRESSED:
        return true;
    case DP_PQ_CODEC_SNAPPY:
        return DP_HAVE_SNAPPY;
    case DP_PQ_CODEC_GZIP:
        return DP_HAVE_ZLIB;
    case DP_PQ_CODEC_BROTLI:
        return DP_HAVE_BROTLI;
    case DP_PQ_CODEC_LZ4:
    case DP_PQ_CODEC_LZ4_RAW:
        return DP_HAVE_LZ4;
    case DP_PQ_CODEC_ZSTD:
        return DP_HAVE_ZSTD;
    default:
        return false;
    }
}

static const char *codec_lc_name(int id) {
    static const char *names[] = {"uncompressed", "snappy", "gzip", "lzo",
                                  "brotli",       "lz4",    "zstd", "lz4_raw"};
    return id >= 0 && id < 8 ? names[id] : "?";
}

/* Codecs dpipe compresses with, whenever built (LZ4 with Hadoop framing is read-only). */
static const int codec_writable[] = {DP_PQ_CODEC_UNCOMPRESSED, DP_PQ_CODEC_SNAPPY,
                                     DP_PQ_CODEC_GZIP,         DP_PQ_CODEC_BROTLI,
                                     DP_PQ_CODEC_ZSTD,         DP_PQ_CODEC_LZ4_RAW};

/* Descriptor-like bytes: doubles with 3 decimals and small integer counts (compressible), or
 * uniformly random bytes (incompressible). */
static uint8_t *codec_make_data(size_t n, bool random_bytes, uint64_t seed) {
    uint8_t *p = dp_malloc(n);
    DP_ASSERT_TRUE(p != NULL);
    dp_rng r;
    dp_rng_seed(&r, seed);
    size_t i = 0;
    while (i < n) {
        uint8_t v[8];
        if (random_bytes) {
            uint64_t x = dp_rng_next(&r);
            memcpy(v, &x, 8);
        } else {
            double d = (i / 8) % 2 ? (double) dp_rng_below(&r, 12)
                                   : round(dp_rng_normal(&r) * 1000.0) / 1000.0;
            memcpy(v, &d, 8);
        }
        size_t k = DP_MIN((size_t) 8, n - i);
        memcpy(p + i, v, k);
        i += k;
    }
    return p;
}

/* dst_len bytes followed by canaries: decompress must never touch them. */
static uint8_t *codec_dst_alloc(size_t dst_len) {
    uint8_t *p = dp_malloc(dst_len + CODEC_CANARY_LEN);
    DP_ASSERT_TRUE(p != NULL);
    memset(p, 0, dst_len);
    memset(p + dst_len, CODEC_CANARY, CODEC_CANARY_LEN);
    return p;
}

static void codec_assert_canaries(const uint8_t *p, size_t dst_len) {
    for (size_t i = 0; i < CODEC_CANARY_LEN; i++)
        if (p[dst_len + i] != CODEC_CANARY)
            DP_FAILF("byte %zu past the %zu-byte output was written", i, dst_len);
}

/* A clean data error: CORRUPT or TRUNCATED (LIMIT only for sizes LZ4 cannot express), with a
 * message that names the codec. */
static void codec_assert_data_error(dp_status st, const dp_error *err, int codec) {
    if (st != DP_CORRUPT && st != DP_TRUNCATED)
        DP_FAILF("codec %s: expected CORRUPT or TRUNCATED, got %s (%s)", codec_lc_name(codec),
                 dp_status_name(st), err->msg);
    const char *name = codec_lc_name(codec);
    if (codec == DP_PQ_CODEC_UNCOMPRESSED)
        name = "uncompressed";
    DP_ASSERT_CONTAINS(err->msg, name);
}

static void codec_compress_ok(dp_pq_codec_ctx *ctx, int codec, int level, const uint8_t *src,
                              size_t n, dp_buf *out) {
    dp_error err, *e = &err;
    dp_error_init(&err);
    DP_ASSERT_OK(dp_pq_compress(ctx, codec, level, src, n, out, &err), e);
}

DP_TEST(codec_build_matches_runtime) {
    dp_pq_codec_ctx *ctx = NULL;
    dp_error err, *e = &err;
    dp_error_init(&err);
    DP_ASSERT_OK(dp_pq_codec_ctx_create(&ctx, &err), e);
    uint8_t src[4] = {1, 2, 3, 4}, dst[4];
    dp_buf out;
    dp_buf_init(&out);
    for (int id = 0; id <= 7; id++) {
        if (id == DP_PQ_CODEC_LZO)
            continue;
        bool built = codec_built(id);
        DP_ASSERT_EQ_INT(dp_pq_codec_available(id), built);
        bool writable = built && id != DP_PQ_CODEC_LZ4;
        DP_ASSERT_EQ_INT(dp_pq_codec_can_compress(id), writable);
        if (built)
            continue;
        char want[64];
        snprintf(want, sizeof want, "this build lacks %s support", codec_lc_name(id));
        dp_error_init(&err);
        DP_ASSERT_STATUS(dp_pq_decompress(ctx, id, src, 4, dst, 4, &err), DP_UNSUPPORTED);
        DP_ASSERT_CONTAINS(err.msg, want);
        dp_error_init(&err);
        DP_ASSERT_STATUS(dp_pq_compress(ctx, id, 0, src, 4, &out, &err), DP_UNSUPPORTED);
        DP_ASSERT_CONTAINS(err.msg, want);
    }
    /* LZO and ids the format does not define: never supported, the id is named. */
    const int unknown[] = {DP_PQ_CODEC_LZO, 8, 99, -1};
    for (size_t i = 0; i < DP_ARRAY_LEN(unknown); i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", unknown[i]);
        DP_ASSERT_TRUE(!dp_pq_codec_available(unknown[i]));
        DP_ASSERT_TRUE(!dp_pq_codec_can_compress(unknown[i]));
        dp_error_init(&err);
        DP_ASSERT_STATUS(dp_pq_decompress(ctx, unknown[i], src, 4, dst, 4, &err), DP_UNSUPPORTED);
        DP_ASSERT_CONTAINS(err.msg, id);
        dp_error_init(&err);
        DP_ASSERT_STATUS(dp_pq_compress(ctx, unknown[i], 0, src, 4, &out, &err), DP_UNSUPPORTED);
        DP_ASSERT_CONTAINS(err.msg, id);
    }
    dp_error_init(&err);
    DP_ASSERT_STATUS(dp_pq_decompress(ctx, DP_PQ_CODEC_LZO, src, 4, dst, 4, &err), DP_UNSUPPORTED);
    DP_ASSERT_CONTAINS(err.msg, "LZO");
    dp_buf_reset(&out);
    dp_pq_codec_ctx_free(ctx);
    dp_pq_codec_ctx_free(NULL);
}

DP_TEST(codec_round_trips) {
    dp_pq_codec_ctx *ctx = NULL;
    dp_error err, *e = &err;
    dp_error_init(&err);
    DP_ASSERT_OK(dp_pq_codec_ctx_create(&ctx, &err), e);
    const size_t sizes[] = {0, 1, 1000, (size_t) 1 << 20};
    dp_buf comp;
    dp_buf_init(&comp);
    int tested = 0;
    /* One context for every codec and size: contexts are reused across pages. */
    for (size_t c = 0; c < DP_ARRAY_LEN(codec_writable); c++) {
        int codec = codec_writable[c];
        if (!dp_pq_codec_available(codec))
            continue;
        for (size_t s = 0; s < DP_ARRAY_LEN(sizes); s++) {
            for (int rnd = 0; rnd <= 1; rnd++) {
                size_t n = sizes[s];
                uint8_t *src = codec_make_data(n, rnd, 1000 + s * 2 + (size_t) rnd);
                codec_compress_ok(ctx, codec, 0, src, n, &comp);
                /* Descriptor-like megabytes must shrink by a third at least with any real
                 * codec (zstd and gzip get 2-3x, snappy/lz4 about 1.5x on this data). */
                if (!rnd && n == sizes[3] && codec != DP_PQ_CODEC_UNCOMPRESSED)
                    DP_ASSERT_CMP_INT(comp.size * 3, <, n * 2);
                uint8_t *dst = codec_dst_alloc(n);
                DP_ASSERT_OK(dp_pq_decompress(ctx, codec, comp.data, comp.size, dst, n, &err), e);
                DP_ASSERT_MEMEQ(dst, src, n);
                codec_assert_canaries(dst, n);
                dp_free(dst);
                dp_free(src);
                tested++;
            }
        }
    }
    DP_ASSERT_CMP_INT(tested, >=, 8); /* UNCOMPRESSED always */
    dp_buf_reset(&comp);
    dp_pq_codec_ctx_free(ctx);
}

DP_TEST(codec_levels) {
    dp_pq_codec_ctx *ctx = NULL;
    dp_error err, *e = &err;
    dp_error_init(&err);
    DP_ASSERT_OK(dp_pq_codec_ctx_create(&ctx, &err), e);
    const struct {
        int codec, level;
    } ok[] = {{DP_PQ_CODEC_ZSTD, -5},  {DP_PQ_CODEC_ZSTD, 1},   {DP_PQ_CODEC_ZSTD, 9},
              {DP_PQ_CODEC_GZIP, 1},   {DP_PQ_CODEC_GZIP, 9},   {DP_PQ_CODEC_GZIP, 1},
              {DP_PQ_CODEC_BROTLI, 1}, {DP_PQ_CODEC_BROTLI, 5}, {DP_PQ_CODEC_SNAPPY, 7},
              {DP_PQ_CODEC_LZ4_RAW, 3}};
    const struct {
        int codec, level;
    } bad[] = {{DP_PQ_CODEC_ZSTD, 23},
               {DP_PQ_CODEC_GZIP, 10},
               {DP_PQ_CODEC_GZIP, -2},
               {DP_PQ_CODEC_BROTLI, 12}};
    size_t n = 200000;
    uint8_t *src = codec_make_data(n, false, 7);
    uint8_t *dst = codec_dst_alloc(n);
    dp_buf comp;
    dp_buf_init(&comp);
    for (size_t i = 0; i < DP_ARRAY_LEN(ok); i++) {
        if (!dp_pq_codec_available(ok[i].codec))
            continue;
        codec_compress_ok(ctx, ok[i].codec, ok[i].level, src, n, &comp);
        memset(dst, 0, n);
        DP_ASSERT_OK(dp_pq_decompress(ctx, ok[i].codec, comp.data, comp.size, dst, n, &err), e);
        DP_ASSERT_MEMEQ(dst, src, n);
    }
    /* Levels outside the codec's range are the caller's mistake, not data errors. */
    for (size_t i = 0; i < DP_ARRAY_LEN(bad); i++) {
        if (!dp_pq_codec_available(bad[i].codec))
            continue;
        dp_error_init(&err);
        DP_ASSERT_STATUS(dp_pq_compress(ctx, bad[i].codec, bad[i].level, src, n, &comp, &err),
                         DP_INVALID_ARG);
        char lv[16];
        snprintf(lv, sizeof lv, "%d", bad[i].level);
        DP_ASSERT_CONTAINS(err.msg, lv);
    }
    /* gzip at level 1 and 9 differ in size on this data: the level reaches zlib. */
    if (dp_pq_codec_available(DP_PQ_CODEC_GZIP)) {
        codec_compress_ok(ctx, DP_PQ_CODEC_GZIP, 1, src, n, &comp);
        size_t fast = comp.size;
        codec_compress_ok(ctx, DP_PQ_CODEC_GZIP, 9, src, n, &comp);
        DP_ASSERT_CMP_INT(comp.size, <, fast);
    }
    dp_free(src);
    dp_free(dst);
    dp_buf_reset(&comp);
    dp_pq_codec_ctx_free(ctx);
}

DP_TEST(codec_wrong_dst_len_is_corrupt) {
    dp_pq_codec_ctx *ctx = NULL;
    dp_error err, *e = &err;
    dp_error_init(&err);
    DP_ASSERT_OK(dp_pq_codec_ctx_create(&ctx, &err), e);
    size_t n = 1000;
    uint8_t *src = codec_make_data(n, false, 11);
    dp_buf comp;
    dp_buf_init(&comp);
    for (size_t c = 0; c < DP_ARRAY_LEN(codec_writable); c++) {
        int codec = codec_writable[c];
        if (!dp_pq_codec_available(codec))
            continue;
        codec_compress_ok(ctx, codec, 0, src, n, &comp);
        /* The page claims one byte more than the data holds: both sizes in the message. */
        uint8_t *dst = codec_dst_alloc(n + 1);
        dp_error_init(&err);
        dp_status st = dp_pq_decompress(ctx, codec, comp.data, comp.size, dst, n + 1, &err);
        DP_ASSERT_STATUS(st, DP_CORRUPT);
        DP_ASSERT_CONTAINS(err.msg, codec_lc_name(codec));
        DP_ASSERT_CONTAINS(err.msg, "1001");
        DP_ASSERT_CONTAINS(err.msg, "1000");
        codec_assert_canaries(dst, n + 1);
        dp_free(dst);
        /* One byte less: nothing may be written past the 999 bytes. */
        dst = codec_dst_alloc(n - 1);
        dp_error_init(&err);
        st = dp_pq_decompress(ctx, codec, comp.data, comp.size, dst, n - 1, &err);
        DP_ASSERT_STATUS(st, DP_CORRUPT);
        DP_ASSERT_CONTAINS(err.msg, codec_lc_name(codec));
        DP_ASSERT_CONTAINS(err.msg, "999");
        codec_assert_canaries(dst, n - 1);
        dp_free(dst);
    }
    dp_free(src);
    dp_buf_reset(&comp);
    dp_pq_codec_ctx_free(ctx);
}

/* Corrupt input: every truncation and many single-bit flips give a clean status, never a crash
 * (the test runs under ASan in CI) nor a write past the output. A flip may still decode (e.g.
 * inside a literal of a codec without a checksum); then the output size is still exact. */
static void codec_mangle_one(dp_pq_codec_ctx *ctx, int codec, const uint8_t *comp, size_t clen,
                             size_t n) {
    dp_error err;
    uint8_t *dst = codec_dst_alloc(n);
    uint8_t *buf = dp_malloc(clen);
    DP_ASSERT_TRUE(buf != NULL);
    /* Truncations: all short prefixes, then a stride through the rest. */
    for (size_t cut = 0; cut < clen; cut += cut < 64 ? 1 : DP_MAX((size_t) 1, clen / 97)) {
        memcpy(buf, comp, cut);
        dp_error_init(&err);
        dp_status st = dp_pq_decompress(ctx, codec, buf, cut, dst, n, &err);
        /* Snappy/LZ4 blocks may end with literals, so a cut can't always be seen as such, but
         * the output size then differs: no truncation decodes OK. */
        if (st == DP_OK)
            DP_FAILF("codec %s: %zu of %zu compressed bytes decoded OK", codec_lc_name(codec), cut,
                     clen);
        codec_assert_data_error(st, &err, codec);
        codec_assert_canaries(dst, n);
    }
    dp_rng r;
    dp_rng_seed(&r, 99 + (uint64_t) codec);
    for (int k = 0; k < 400; k++) {
        memcpy(buf, comp, clen);
        size_t bit = (size_t) dp_rng_below(&r, clen * 8);
        buf[bit / 8] ^= (uint8_t) (1u << (bit % 8));
        dp_error_init(&err);
        dp_status st = dp_pq_decompress(ctx, codec, buf, clen, dst, n, &err);
        if (st != DP_OK)
            codec_assert_data_error(st, &err, codec);
        codec_assert_canaries(dst, n);
    }
    dp_free(buf);
    dp_free(dst);
}

DP_TEST(codec_truncated_and_bit_flipped_input) {
    dp_pq_codec_ctx *ctx = NULL;
    dp_error err, *e = &err;
    dp_error_init(&err);
    DP_ASSERT_OK(dp_pq_codec_ctx_create(&ctx, &err), e);
    /* Half compressible, half random, so that both matches and literals get damaged. */
    size_t n = 65536;
    uint8_t *src = codec_make_data(n, false, 5);
    uint8_t *rnd = codec_make_data(n / 2, true, 6);
    memcpy(src + n / 2, rnd, n / 2);
    dp_free(rnd);
    dp_buf comp;
    dp_buf_init(&comp);
    for (size_t c = 0; c < DP_ARRAY_LEN(codec_writable); c++) {
        int codec = codec_writable[c];
        if (!dp_pq_codec_available(codec) || codec == DP_PQ_CODEC_UNCOMPRESSED)
            continue;
        codec_compress_ok(ctx, codec, 0, src, n, &comp);
        codec_mangle_one(ctx, codec, comp.data, comp.size, n);
        /* Hadoop LZ4 framing around the same LZ4 block, and the raw block alone (fallback). */
        if (codec == DP_PQ_CODEC_LZ4_RAW) {
            codec_mangle_one(ctx, DP_PQ_CODEC_LZ4, comp.data, comp.size, n);
        }
        /* The context still works after all those errors. */
        uint8_t *dst = codec_dst_alloc(n);
        DP_ASSERT_OK(dp_pq_decompress(ctx, codec, comp.data, comp.size, dst, n, &err), e);
        DP_ASSERT_MEMEQ(dst, src, n);
        dp_free(dst);
    }
    /* UNCOMPRESSED: only the sizes can be wrong. */
    dp_error_init(&err);
    uint8_t *dst = codec_dst_alloc(n);
    DP_ASSERT_STATUS(dp_pq_decompress(ctx, DP_PQ_CODEC_UNCOMPRESSED, src, n - 1, dst, n, &err),
                     DP_CORRUPT);
    DP_ASSERT_CONTAINS(err.msg, "65535");
    DP_ASSERT_CONTAINS(err.msg, "65536");
    codec_assert_canaries(dst, n);
    dp_free(dst);
    dp_free(src);
    dp_buf_reset(&comp);
    dp_pq_codec_ctx_free(ctx);
}

/* Naive CRC-32 (reflected 0xEDB88320) and Adler-32, bit by bit, as references for the gzip and
 * zlib trailers. */
static uint32_t codec_naive_crc32(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static uint32_t codec_naive_adler32(const uint8_t *p, size_t n) {
    uint32_t a = 1, b = 0;
    for (size_t i = 0; i < n; i++) {
        a = (a + p[i]) % 65521u;
        b = (b + a) % 65521u;
    }
    return b << 16 | a;
}

static uint32_t codec_le32(const uint8_t *p) {
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void codec_put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}

DP_TEST(codec_gzip_members_and_zlib_wrapper) {
    if (!dp_pq_codec_available(DP_PQ_CODEC_GZIP)) {
        dp_error err;
        uint8_t b[1] = {0}, d[1];
        DP_ASSERT_STATUS(dp_pq_decompress(NULL, DP_PQ_CODEC_GZIP, b, 1, d, 1, &err),
                         DP_UNSUPPORTED);
        DP_ASSERT_CONTAINS(err.msg, "this build lacks gzip support");
        DP_SKIP("gzip (zlib) not built");
    }
    dp_pq_codec_ctx *ctx = NULL;
    dp_error err, *e = &err;
    dp_error_init(&err);
    DP_ASSERT_OK(dp_pq_codec_ctx_create(&ctx, &err), e);
    size_t na = 30000, nb = 12345;
    uint8_t *a = codec_make_data(na, false, 21), *b = codec_make_data(nb, true, 22);
    dp_buf ga, gb, gz, all;
    dp_buf_init(&ga);
    dp_buf_init(&gb);
    dp_buf_init(&gz);
    dp_buf_init(&all);
    codec_compress_ok(ctx, DP_PQ_CODEC_GZIP, 0, a, na, &ga);
    codec_compress_ok(ctx, DP_PQ_CODEC_GZIP, 0, b, nb, &gb);
    codec_compress_ok(ctx, DP_PQ_CODEC_GZIP, 0, NULL, 0, &gz);
    /* RFC 1952 framing checked by hand: magic, deflate, no flags, zero mtime; trailer = CRC-32
     * and length of the member's data. */
    DP_ASSERT_CMP_INT(ga.size, >, 18);
    DP_ASSERT_EQ_INT(ga.data[0], 0x1f);
    DP_ASSERT_EQ_INT(ga.data[1], 0x8b);
    DP_ASSERT_EQ_INT(ga.data[2], 8);
    DP_ASSERT_EQ_INT(ga.data[3], 0);
    DP_ASSERT_EQ_U64(codec_le32(ga.data + 4), 0);
    DP_ASSERT_EQ_U64(codec_le32(ga.data + ga.size - 8), codec_naive_crc32(a, na));
    DP_ASSERT_EQ_U64(codec_le32(ga.data + ga.size - 4), na);

    /* Members a, empty, b, a: the page is their concatenation. */
    DP_ASSERT_OK(dp_buf_append(&all, ga.data, ga.size), (dp_error *) NULL);
    DP_ASSERT_OK(dp_buf_append(&all, gz.data, gz.size), (dp_error *) NULL);
    DP_ASSERT_OK(dp_buf_append(&all, gb.data, gb.size), (dp_error *) NULL);
    DP_ASSERT_OK(dp_buf_append(&all, ga.data, ga.size), (dp_error *) NULL);
    size_t total = na + nb + na;
    uint8_t *want = dp_malloc(total), *dst = codec_dst_alloc(total);
    memcpy(want, a, na);
    memcpy(want + na, b, nb);
    memcpy(want + na + nb, a, na);
    DP_ASSERT_OK(dp_pq_decompress(ctx, DP_PQ_CODEC_GZIP, all.data, all.size, dst, total, &err), e);
    DP_ASSERT_MEMEQ(dst, want, total);
    codec_assert_canaries(dst, total);
    /* Only the first member's size declared: the rest is more data than the page holds. */
    dp_error_init(&err);
    DP_ASSERT_STATUS(dp_pq_decompress(ctx, DP_PQ_CODEC_GZIP, all.data, all.size, dst, na, &err),
                     DP_CORRUPT);
    DP_ASSERT_CONTAINS(err.msg, "gzip");
    /* Trailing garbage after the last member is not a member. */
    DP_ASSERT_OK(dp_buf_append(&all, "xyz", 3), (dp_error *) NULL);
    dp_error_init(&err);
    DP_ASSERT_STATUS(dp_pq_decompress(ctx, DP_PQ_CODEC_GZIP, all.data, all.size, dst, total, &err),
                     DP_CORRUPT);
    DP_ASSERT_CONTAINS(err.msg, "member 5");
    /* A second member cut short is truncated. */
    dp_buf_reset(&all);
    DP_ASSERT_OK(dp_buf_append(&all, ga.data, ga.size), (dp_error *) NULL);
    DP_ASSERT_OK(dp_buf_append(&all, gb.data, gb.size / 2), (dp_error *) NULL);
    dp_error_init(&err);
    DP_ASSERT_STATUS(
        dp_pq_decompress(ctx, DP_PQ_CODEC_GZIP, all.data, all.size, dst, na + nb, &err),
        DP_TRUNCATED);
    DP_ASSERT_CONTAINS(err.msg, "member 2");

    /* The same deflate data in a zlib wrapper (RFC 1950: 78 9C, deflate, Adler-32 big-endian).
     * The gzip header is exactly 10 bytes since no optional fields are set (flags byte 0). */
    dp_buf_reset(&all);
    const uint8_t zhdr[2] = {0x78, 0x9c};
    uint8_t adler[4];
    codec_put_be32(adler, codec_naive_adler32(a, na));
    DP_ASSERT_OK(dp_buf_append(&all, zhdr, 2), (dp_error *) NULL);
    DP_ASSERT_OK(dp_buf_append(&all, ga.data + 10, ga.size - 18), (dp_error *) NULL);
    DP_ASSERT_OK(dp_buf_append(&all, adler, 4), (dp_error *) NULL);
    memset(dst, 0, na);
    DP_ASSERT_OK(dp_pq_decompress(ctx, DP_PQ_CODEC_GZIP, all.data, all.size, dst, na, &err), e);
    DP_ASSERT_MEMEQ(dst, a, na);
    /* A wrong Adler-32 is caught. */
    all.data[all.size - 1] ^= 1;
    dp_error_init(&err);
    DP_ASSERT_STATUS(dp_pq_decompress(ctx, DP_PQ_CODEC_GZIP, all.data, all.size, dst, na, &err),
                     DP_CORRUPT);

    dp_free(a);
    dp_free(b);
    dp_free(want);
    dp_free(dst);
    dp_buf_reset(&ga);
    dp_buf_reset(&gb);
    dp_buf_reset(&gz);
    dp_buf_reset(&all);
    dp_pq_codec_ctx_free(ctx);
}

/* Hadoop framing built here: [BE u32 decompressed][BE u32 compressed][LZ4 block] per chunk. */
static void codec_hadoop_append(dp_pq_codec_ctx *ctx, dp_buf *page, const uint8_t *src, size_t n) {
    dp_buf blk;
    dp_buf_init(&blk);
    codec_compress_ok(ctx, DP_PQ_CODEC_LZ4_RAW, 0, src, n, &blk);
    uint8_t hdr[8];
    codec_put_be32(hdr, (uint32_t) n);
    codec_put_be32(hdr + 4, (uint32_t) blk.size);
    DP_ASSERT_OK(dp_buf_append(page, hdr, 8), (dp_error *) NULL);
    DP_ASSERT_OK(dp_buf_append(page, blk.data, blk.size), (dp_error *) NULL);
    dp_buf_reset(&blk);
}

DP_TEST(codec_lz4_hadoop_raw_and_frame) {
    if (!dp_pq_codec_available(DP_PQ_CODEC_LZ4)) {
        dp_error err;
        uint8_t b[1] = {0}, d[1];
        DP_ASSERT_STATUS(dp_pq_decompress(NULL, DP_PQ_CODEC_LZ4, b, 1, d, 1, &err), DP_UNSUPPORTED);
        DP_ASSERT_CONTAINS(err.msg, "this build lacks lz4 support");
        DP_ASSERT_STATUS(dp_pq_decompress(NULL, DP_PQ_CODEC_LZ4_RAW, b, 1, d, 1, &err),
                         DP_UNSUPPORTED);
        DP_ASSERT_CONTAINS(err.msg, "this build lacks lz4_raw support");
        DP_SKIP("lz4 not built");
    }
    dp_pq_codec_ctx *ctx = NULL;
    dp_error err, *e = &err;
    dp_error_init(&err);
    DP_ASSERT_OK(dp_pq_codec_ctx_create(&ctx, &err), e);
    size_t n = 300000;
    uint8_t *src = codec_make_data(n, false, 31);
    uint8_t *dst = codec_dst_alloc(n);
    /* Several chunks of unequal sizes, one of them empty (arrow-rs writes empty pages so). */
    const size_t cuts[] = {0, 131072, 131073, 131073, 262144, 300000};
    dp_buf page;
    dp_buf_init(&page);
    for (size_t i = 0; i + 1 < DP_ARRAY_LEN(cuts); i++)
        codec_hadoop_append(ctx, &page, src + cuts[i], cuts[i + 1] - cuts[i]);
    DP_ASSERT_OK(dp_pq_decompress(ctx, DP_PQ_CODEC_LZ4, page.data, page.size, dst, n, &err), e);
    DP_ASSERT_MEMEQ(dst, src, n);
    codec_assert_canaries(dst, n);
    /* A chunk header claiming more than the page holds, and a chunk cut short: neither Hadoop
     * nor a raw block. */
    uint8_t *short_dst = codec_dst_alloc(n - 1);
    dp_error_init(&err);
    DP_ASSERT_STATUS(
        dp_pq_decompress(ctx, DP_PQ_CODEC_LZ4, page.data, page.size, short_dst, n - 1, &err),
        DP_CORRUPT);
    DP_ASSERT_CONTAINS(err.msg, "Hadoop");
    DP_ASSERT_CONTAINS(err.msg, "raw LZ4 block");
    codec_assert_canaries(short_dst, n - 1);
    dp_free(short_dst);
    dp_error_init(&err);
    DP_ASSERT_STATUS(dp_pq_decompress(ctx, DP_PQ_CODEC_LZ4, page.data, page.size - 3, dst, n, &err),
                     DP_CORRUPT);
    /* An empty page in Hadoop framing: one chunk holding LZ4's one-byte empty block. */
    const uint8_t empty[9] = {0, 0, 0, 0, 0, 0, 0, 1, 0};
    DP_ASSERT_OK(dp_pq_decompress(ctx, DP_PQ_CODEC_LZ4, empty, 9, dst, 0, &err), e);

    /* Raw-LZ4-under-LZ4 (old Arrow C++): the bare block decodes through the fallback. */
    dp_buf blk;
    dp_buf_init(&blk);
    codec_compress_ok(ctx, DP_PQ_CODEC_LZ4_RAW, 0, src, n, &blk);
    memset(dst, 0, n);
    DP_ASSERT_OK(dp_pq_decompress(ctx, DP_PQ_CODEC_LZ4, blk.data, blk.size, dst, n, &err), e);
    DP_ASSERT_MEMEQ(dst, src, n);
    /* LZ4_RAW itself does not take Hadoop framing. */
    dp_error_init(&err);
    DP_ASSERT_STATUS(dp_pq_decompress(ctx, DP_PQ_CODEC_LZ4_RAW, page.data, page.size, dst, n, &err),
                     DP_CORRUPT);

    /* LZ4 frame format: `printf hello | lz4 -c` and `printf ' world' | lz4 -c` (lz4 1.9.4 CLI:
     * 4 MB blocks, content checksum), concatenated. */
    static const uint8_t frames[] = {
        0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7, 0x05, 0x00, 0x00, 0x80, 0x68, 0x65,
        0x6c, 0x6c, 0x6f, 0x00, 0x00, 0x00, 0x00, 0xf9, 0x77, 0x00, 0xfb, /* "hello" */
        0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7, 0x06, 0x00, 0x00, 0x80, 0x20, 0x77,
        0x6f, 0x72, 0x6c, 0x64, 0x00, 0x00, 0x00, 0x00, 0xb6, 0xa8, 0x0c, 0x66 /* " world" */
    };
    memset(dst, 0, 16);
    DP_ASSERT_OK(dp_pq_decompress(ctx, DP_PQ_CODEC_LZ4, frames, sizeof frames, dst, 11, &err), e);
    DP_ASSERT_MEMEQ(dst, "hello world", 11);
    dp_error_init(&err);
    DP_ASSERT_STATUS(dp_pq_decompress(ctx, DP_PQ_CODEC_LZ4, frames, 24, dst, 11, &err), DP_CORRUPT);
    DP_ASSERT_CONTAINS(err.msg, "frame");
    /* A frame cut inside its checksum. */
    dp_error_init(&err);
    DP_ASSERT_STATUS(dp_pq_decompress(ctx, DP_PQ_CODEC_LZ4, frames, 22, dst, 5, &err), DP_CORRUPT);
    DP_ASSERT_CONTAINS(err.msg, "ends early");

    dp_free(src);
    dp_free(dst);
    dp_buf_reset(&page);
    dp_buf_reset(&blk);
    dp_pq_codec_ctx_free(ctx);
}

DP_TEST(codec_zstd_multiple_frames) {
    if (!dp_pq_codec_available(DP_PQ_CODEC_ZSTD)) {
        dp_error err;
        uint8_t b[1] = {0}, d[1];
        DP_ASSERT_STATUS(dp_pq_decompress(NULL, DP_PQ_CODEC_ZSTD, b, 1, d, 1, &err),
                         DP_UNSUPPORTED);
        DP_ASSERT_CONTAINS(err.msg, "this build lacks zstd support");
        DP_SKIP("zstd not built");
    }
    dp_pq_codec_ctx *ctx = NULL;
    dp_error err, *e = &err;
    dp_error_init(&err);
    DP_ASSERT_OK(dp_pq_codec_ctx_create(&ctx, &err), e);
    size_t na = 5000, nb = 7000;
    uint8_t *a = codec_make_data(na, false, 41), *b = codec_make_data(nb, true, 42);
    dp_buf fa, fb, all;
    dp_buf_init(&fa);
    dp_buf_init(&fb);
    dp_buf_init(&all);
    codec_compress_ok(ctx, DP_PQ_CODEC_ZSTD, 1, a, na, &fa);
    codec_compress_ok(ctx, DP_PQ_CODEC_ZSTD, 3, b, nb, &fb);
    DP_ASSERT_OK(dp_buf_append(&all, fa.data, fa.size), (dp_error *) NULL);
    /* A skippable frame (magic 0x184D2A50, 4-byte LE length, payload) between the two. */
    const uint8_t skip[12] = {0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4};
    DP_ASSERT_OK(dp_buf_append(&all, skip, sizeof skip), (dp_error *) NULL);
    DP_ASSERT_OK(dp_buf_append(&all, fb.data, fb.size), (dp_error *) NULL);
    uint8_t *dst = codec_dst_alloc(na + nb);
    DP_ASSERT_OK(dp_pq_decompress(ctx, DP_PQ_CODEC_ZSTD, all.data, all.size, dst, na + nb, &err),
                 e);
    DP_ASSERT_MEMEQ(dst, a, na);
    DP_ASSERT_MEMEQ(dst + na, b, nb);
    codec_assert_canaries(dst, na + nb);
    /* Zstd frames start with 28 B5 2F FD (RFC 8878). */
    DP_ASSERT_EQ_U64(codec_le32(fa.data), 0xFD2FB528u);
    dp_free(a);
    dp_free(b);
    dp_free(dst);
    dp_buf_reset(&fa);
    dp_buf_reset(&fb);
    dp_buf_reset(&all);
    dp_pq_codec_ctx_free(ctx);
}

/* Allocation failures inside a codec (its state, the library's contexts) give NOMEM and leave
 * the context usable; LeakSanitizer checks that nothing leaks on those paths. */
DP_TEST(codec_allocation_failures) {
    size_t n = 100000;
    uint8_t *src = codec_make_data(n, false, 51);
    uint8_t *dst = codec_dst_alloc(n);
    for (size_t c = 0; c < DP_ARRAY_LEN(codec_writable); c++) {
        int codec = codec_writable[c];
        if (!dp_pq_codec_available(codec))
            continue;
        dp_buf comp;
        dp_buf_init(&comp);
        for (int64_t k = 1; k <= 12; k++) {
            dp_pq_codec_ctx *ctx = NULL;
            dp_error err, *e = &err;
            dp_error_init(&err);
            DP_ASSERT_OK(dp_pq_codec_ctx_create(&ctx, &err), e);
            dp_alloc_fail_after(k);
            dp_status st = dp_pq_compress(ctx, codec, 0, src, n, &comp, &err);
            dp_alloc_fail_after(0);
            if (st != DP_OK) {
                DP_ASSERT_STATUS(st, DP_NOMEM);
                codec_compress_ok(ctx, codec, 0, src, n, &comp);
            }
            dp_pq_codec_ctx_free(ctx);
            DP_ASSERT_OK(dp_pq_codec_ctx_create(&ctx, &err), e);
            dp_alloc_fail_after(k);
            st = dp_pq_decompress(ctx, codec, comp.data, comp.size, dst, n, &err);
            dp_alloc_fail_after(0);
            if (st != DP_OK) {
                DP_ASSERT_STATUS(st, DP_NOMEM);
                DP_ASSERT_OK(dp_pq_decompress(ctx, codec, comp.data, comp.size, dst, n, &err), e);
            }
            DP_ASSERT_MEMEQ(dst, src, n);
            dp_pq_codec_ctx_free(ctx);
        }
        dp_buf_reset(&comp);
    }
    dp_free(src);
    dp_free(dst);
}

/* Real pages of the shared Parquet test files (offset and sizes of the compressed payload; for
 * DATA_PAGE_V2 the levels are left out). The CRC-32 of each decompressed page was computed by
 * decoders independent of this code (see the file comment). Several writers' pages of the same
 * dataset decode to the same bytes (e.g. 0xe3b38910 for the 69000-byte mol_id dictionary in
 * four codecs). */
static const struct {
    const char *file;
    int codec;
    long offset;
    size_t csize, usize;
    uint32_t crc;
} codec_real_pages[] = {
    {"parquet-testing/data/hadoop_lz4_compressed.parquet", 5, 17, 26, 16, 0x548961aeu},
    {"parquet-testing/data/hadoop_lz4_compressed.parquet", 5, 104, 12, 3, 0xdc18accdu},
    {"parquet-testing/data/hadoop_lz4_compressed.parquet", 5, 208, 30, 24, 0x8bce8185u},
    {"parquet-testing/data/hadoop_lz4_compressed_larger.parquet", 5, 33, 358322, 400000,
     0x1a4a4a70u}, /* 4 Hadoop chunks */
    {"parquet-testing/data/non_hadoop_lz4_compressed.parquet", 5, 18, 18, 16, 0x548961aeu},
    {"parquet-testing/data/non_hadoop_lz4_compressed.parquet", 5, 97, 10, 9, 0x636a6553u},
    {"parquet-testing/data/non_hadoop_lz4_compressed.parquet", 5, 347, 22, 24, 0x8bce8185u},
    {"parquet-testing/data/lz4_raw_compressed.parquet", 7, 65, 24, 32, 0x0f572674u},
    {"parquet-testing/data/lz4_raw_compressed.parquet", 7, 341, 34, 38, 0x932c5b96u},
    {"parquet-testing/data/lz4_raw_compressed_larger.parquet", 7, 107, 380377, 400000, 0x1a4a4a70u},
    {"parquet-testing/data/concatenated_gzip_members.parquet", 2, 55, 1416, 4104,
     0xe4eef25fu}, /* two gzip members */
    {"parquet-testing/data/alltypes_plain.snappy.parquet", 1, 17, 10, 8, 0x3e9aee57u},
    {"parquet-testing/data/alltypes_plain.snappy.parquet", 1, 912, 22, 24, 0x515a6176u},
    {"parquet-testing/data/datapage_v1-snappy-compressed-checksum.parquet", 1, 30, 735, 10240,
     0xbbce3b9du},
    {"parquet-testing/data/byte_stream_split.zstd.parquet", 6, 52, 1110, 1207, 0xbf2cc98fu},
    {"parquet-testing/data/byte_stream_split.zstd.parquet", 6, 1294, 2219, 2407, 0x0e32e0cfu},
    {"parquet-testing/data/large_string_map.brotli.parquet", 4, 1671, 16, 15, 0xeaf2b06fu},
    {"parquet-testing/data/large_string_map.brotli.parquet", 4, 3443, 8, 4, 0x99f8b879u},
    {"generated/arrowrs_mixed_lz4hadoop_v1.parquet", 5, 23, 15255, 69000, 0xe3b38910u},
    {"generated/arrowrs_mixed_lz4hadoop_v1.parquet", 5, 19851, 75901, 80550, 0x5638511du},
    {"generated/arrowrs_mixed_lz4hadoop_v1.parquet", 5, 390052, 9, 0, 0x00000000u},
    {"generated/arrowrs_mixed_brotli_v1.parquet", 4, 22, 3808, 69000, 0xe3b38910u},
    {"generated/arrowrs_mixed_brotli_v1.parquet", 4, 8367, 46009, 80550, 0x5638511du},
    {"generated/arrowrs_mixed_gzip_v1_nodict_rg1000_tinypages.parquet", 2, 23, 94, 529,
     0x57385321u},
    {"generated/arrowrs_mixed_gzip_v1_nodict_rg1000_tinypages.parquet", 2, 243531, 730, 1156,
     0x8b6355bcu},
    {"generated/arrowrs_mixed_zstd_v1_rg777_bss.parquet", 6, 22, 409, 17871, 0x5369fb3eu},
    {"generated/arrowrs_mixed_zstd_v1_rg777_bss.parquet", 6, 83381, 12075, 21077, 0x34218de7u},
    {"generated/arrowrs_mixed_snappy_v2.parquet", 1, 23, 15040, 69000, 0xe3b38910u},
    {"generated/arrowrs_mixed_snappy_v2.parquet", 1, 19615, 79818, 80550, 0x5638511du},
    {"generated/arrowrs_mixed_lz4raw_v2.parquet", 7, 23, 15247, 69000, 0xe3b38910u},
    {"generated/arrowrs_mixed_lz4raw_v2.parquet", 7, 96058, 4345, 4327, 0xe0b85ed0u},
};

DP_TEST(codec_real_pages_of_shared_files) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/../shared/testdata", dp_test_source_dir());
    dp_pq_codec_ctx *ctx = NULL;
    dp_error err, *e = &err;
    dp_error_init(&err);
    DP_ASSERT_OK(dp_pq_codec_ctx_create(&ctx, &err), e);
    int checked = 0, missing = 0;
    for (size_t i = 0; i < DP_ARRAY_LEN(codec_real_pages); i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, codec_real_pages[i].file);
        FILE *f = fopen(path, "rb");
        if (f == NULL) {
            missing++;
            continue;
        }
        size_t cs = codec_real_pages[i].csize, us = codec_real_pages[i].usize;
        uint8_t *comp = dp_malloc(cs), *dst = codec_dst_alloc(us);
        DP_ASSERT_TRUE(comp != NULL);
        DP_ASSERT_EQ_INT(fseek(f, codec_real_pages[i].offset, SEEK_SET), 0);
        DP_ASSERT_EQ_INT(fread(comp, 1, cs, f), cs);
        fclose(f);
        int codec = codec_real_pages[i].codec;
        dp_status st = dp_pq_decompress(ctx, codec, comp, cs, dst, us, &err);
        if (!dp_pq_codec_available(codec)) {
            DP_ASSERT_STATUS(st, DP_UNSUPPORTED);
            DP_ASSERT_CONTAINS(err.msg, "this build lacks");
        } else {
            if (st != DP_OK)
                DP_FAILF("%s at %ld: %s", path, codec_real_pages[i].offset, err.msg);
            DP_ASSERT_EQ_U64(codec_naive_crc32(dst, us), codec_real_pages[i].crc);
            DP_ASSERT_EQ_U64(dp_crc32(0, dst, us), codec_real_pages[i].crc);
            codec_assert_canaries(dst, us);
            checked++;
        }
        dp_free(comp);
        dp_free(dst);
    }
    dp_pq_codec_ctx_free(ctx);
    if (missing == (int) DP_ARRAY_LEN(codec_real_pages))
        DP_SKIP("shared test files not found under %s", dir);
    DP_ASSERT_EQ_INT(missing, 0);
    printf("checked %d real pages\n", checked);
}

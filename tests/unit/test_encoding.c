/* Parquet value and level encodings (src/parquet/pq_encoding.h).
 *
 * References are independent of the library: every encoding is re-implemented here the naive way
 * (one bit at a time, straight from Encodings.md), with the freedoms the spec gives writers made
 * random (run splits, RLE vs bit-packed, garbage in padding bits and unused miniblock widths,
 * block sizes). The worked examples of Encodings.md are checked byte for byte. Inputs are copied
 * into exact-size heap blocks and outputs carry sentinels, so the sanitizer build catches any read
 * past the input and the tests catch any write past `count`. */
#include "dp_test.h"
#include "parquet/pq_encoding.h"
#include "util/dp_alloc.h"
#include "util/dp_buf.h"
#include "util/dp_rng.h"

#include <stdbool.h>

/* ---------------------------------------------------------------- helpers */

#define T_OK(expr) DP_ASSERT_EQ_INT((expr), DP_OK)
/* DP_ASSERT_OK with `&err` or a bare NULL does not compile warning-free (-Waddress, NULL->msg):
 * route the error pointer through a variable. */
#define ASSERT_OK(expr, errp)                                                                      \
    do {                                                                                           \
        dp_error *ok_errp_ = (errp);                                                               \
        DP_ASSERT_OK(expr, ok_errp_);                                                              \
    } while (0)

static void put_byte(dp_buf *b, uint8_t v) {
    T_OK(dp_buf_append_u8(b, v));
}

static void put_uleb(dp_buf *b, uint64_t v) {
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        put_byte(b, (uint8_t) (byte | (v ? 0x80 : 0)));
    } while (v);
}

static uint64_t zz(int64_t v) {
    return v < 0 ? ((uint64_t) (-(v + 1)) << 1) | 1 : (uint64_t) v << 1;
}

/* LSB-first bit writer: bits are appended one at a time. */
typedef struct bitw {
    dp_buf *b;
    size_t start; /* byte where this bit stream began */
    uint64_t nbits;
} bitw;

static void bitw_init(bitw *w, dp_buf *b) {
    w->b = b;
    w->start = b->size;
    w->nbits = 0;
}

static void bitw_put(bitw *w, uint64_t v, int bw) {
    for (int j = 0; j < bw; j++) {
        size_t byte = w->start + (size_t) (w->nbits / 8);
        while (w->b->size <= byte)
            put_byte(w->b, 0);
        if ((v >> j) & 1)
            w->b->data[byte] |= (uint8_t) (1u << (w->nbits % 8));
        w->nbits++;
    }
}

/* Copy into an exact-size heap block (so an over-read is a sanitizer error). */
static uint8_t *exact_copy(const uint8_t *src, size_t n) {
    uint8_t *p = dp_malloc(n);
    DP_ASSERT_TRUE(p != NULL);
    if (n)
        memcpy(p, src, n);
    return p;
}

#define SENT 8
static const uint8_t sentinel_byte = 0xA5;

static void *alloc_out(size_t count, size_t elem) {
    uint8_t *p = dp_malloc((count + SENT) * elem);
    DP_ASSERT_TRUE(p != NULL);
    memset(p, sentinel_byte, (count + SENT) * elem);
    return p;
}

static void check_sentinel(const void *out, size_t count, size_t elem) {
    const uint8_t *p = (const uint8_t *) out + count * elem;
    for (size_t i = 0; i < SENT * elem; i++)
        if (p[i] != sentinel_byte)
            DP_FAILF("write past count %zu (element size %zu) at byte %zu", count, elem, i);
}

static bool is_data_error(dp_status st) {
    return st == DP_TRUNCATED || st == DP_CORRUPT;
}

static uint32_t mask32(int bw) {
    return bw >= 32 ? UINT32_MAX : (uint32_t) ((1ull << bw) - 1);
}

/* Values with runs: each value repeats the previous one with probability ~p_rep/8. */
static void gen_levels(dp_rng *r, uint32_t *v, size_t n, int bw, int p_rep) {
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (int) dp_rng_below(r, 8) < p_rep)
            v[i] = v[i - 1];
        else
            v[i] = (uint32_t) dp_rng_next(r) & mask32(bw);
    }
}

/* ---------------------------------------------------------------- naive hybrid coder */

/* A random legal hybrid stream for v[0..n): RLE runs over (parts of) repeats, bit-packed runs of
 * 1..4 groups (padding values random), and possibly a final run holding more values than n. */
static void naive_hybrid_encode(dp_rng *r, const uint32_t *v, size_t n, int bw, dp_buf *out) {
    size_t vbytes = ((size_t) bw + 7) / 8;
    size_t i = 0;
    while (i < n) {
        size_t rep = 1;
        while (i + rep < n && v[i + rep] == v[i])
            rep++;
        if (rep >= 2 && dp_rng_below(r, 3) != 0) {
            size_t k = 1 + (size_t) dp_rng_below(r, rep);
            size_t run = k;
            if (i + k == n && dp_rng_below(r, 3) == 0)
                run += (size_t) dp_rng_below(r, 20); /* a final run may hold extra values */
            put_uleb(out, (uint64_t) run << 1);
            for (size_t j = 0; j < vbytes; j++)
                put_byte(out, (uint8_t) (v[i] >> (8 * j)));
            i += k;
        } else {
            size_t g = 1 + (size_t) dp_rng_below(r, 4);
            if (g * 8 > n - i)
                g = (n - i + 7) / 8;
            put_uleb(out, (uint64_t) g << 1 | 1);
            bitw w;
            bitw_init(&w, out);
            for (size_t j = 0; j < g * 8; j++)
                bitw_put(&w, i + j < n ? v[i + j] : (uint32_t) dp_rng_next(r) & mask32(bw), bw);
            i += g * 8 < n - i ? g * 8 : n - i;
        }
    }
}

/* Naive decoder used to check the library's encoder. Returns false on malformed input. */
static bool naive_hybrid_decode(const uint8_t *d, size_t len, int bw, uint32_t *out, size_t n) {
    size_t pos = 0, done = 0;
    while (done < n) {
        uint64_t h = 0;
        int shift = 0;
        for (;;) {
            if (pos >= len || shift > 63)
                return false;
            h |= (uint64_t) (d[pos] & 0x7f) << shift;
            shift += 7;
            if (!(d[pos++] & 0x80))
                break;
        }
        if (h & 1) {
            uint64_t nv = (h >> 1) * 8;
            uint64_t bitpos = (uint64_t) pos * 8;
            for (uint64_t j = 0; j < nv && done < n; j++, done++) {
                uint32_t x = 0;
                for (int b = 0; b < bw; b++, bitpos++) {
                    if (bitpos / 8 >= len)
                        return false;
                    x |= (uint32_t) ((d[bitpos / 8] >> (bitpos % 8)) & 1) << b;
                }
                out[done] = x;
            }
            pos += (size_t) ((h >> 1) * (uint64_t) bw);
        } else {
            uint32_t x = 0;
            for (int j = 0; j < (bw + 7) / 8; j++) {
                if (pos >= len)
                    return false;
                x |= (uint32_t) d[pos++] << (8 * j);
            }
            for (uint64_t j = 0; j < (h >> 1) && done < n; j++)
                out[done++] = x;
        }
    }
    return true;
}

static void check_hybrid(const uint8_t *enc, size_t len, int bw, const uint32_t *want, size_t n) {
    uint8_t *in = exact_copy(enc, len);
    uint32_t *out = alloc_out(n, 4);
    dp_error err;
    size_t used = 0;
    ASSERT_OK(dp_pq_rle_decode(in, len, bw, out, (int64_t) n, &used, &err), &err);
    DP_ASSERT_CMP_INT(used, <=, len);
    for (size_t i = 0; i < n; i++)
        if (out[i] != want[i])
            DP_FAILF("bw %d n %zu: value %zu is %u, expected %u", bw, n, i, out[i], want[i]);
    check_sentinel(out, n, 4);
    dp_free(out);
    dp_free(in);
}

/* ---------------------------------------------------------------- RLE / bit-packed hybrid */

DP_TEST(enc_rle_spec_examples) {
    /* Encodings.md: 0..7 with bit width 3, bit-packed = 10001000 11000110 11111010. */
    const uint8_t hybrid[] = {0x03, 0x88, 0xC6, 0xFA};
    uint32_t want[8] = {0, 1, 2, 3, 4, 5, 6, 7}, out[8];
    size_t used = 0;
    ASSERT_OK(dp_pq_rle_decode(hybrid, sizeof hybrid, 3, out, 8, &used, NULL), NULL);
    DP_ASSERT_MEMEQ(out, want, sizeof want);
    DP_ASSERT_EQ_INT(used, 4);
    /* Deprecated BIT_PACKED of the same values = 00000101 00111001 01110111. */
    const uint8_t legacy[] = {0x05, 0x39, 0x77};
    memset(out, 0, sizeof out);
    ASSERT_OK(dp_pq_bitpacked_legacy_decode(legacy, 3, 3, out, 8, &used, NULL), NULL);
    DP_ASSERT_MEMEQ(out, want, sizeof want);
    DP_ASSERT_EQ_INT(used, 3);
    /* The library encoder reproduces the spec's bytes (no repeats: one bit-packed group). */
    dp_buf b;
    dp_buf_init(&b);
    T_OK(dp_pq_rle_encode(want, 8, 3, &b));
    DP_ASSERT_EQ_INT(b.size, sizeof hybrid);
    DP_ASSERT_MEMEQ(b.data, hybrid, sizeof hybrid);
    dp_buf_reset(&b);
    /* An RLE run: 300 copies of 0x1234 with bit width 13 = header 600 (0xd8 0x04), 2 bytes. */
    const uint8_t rle[] = {0xd8, 0x04, 0x34, 0x12};
    uint32_t *o = alloc_out(300, 4);
    ASSERT_OK(dp_pq_rle_decode(rle, sizeof rle, 13, o, 300, &used, NULL), NULL);
    for (int i = 0; i < 300; i++)
        DP_ASSERT_EQ_INT(o[i], 0x1234);
    DP_ASSERT_EQ_INT(used, 4);
    check_sentinel(o, 300, 4);
    dp_free(o);
}

DP_TEST(enc_rle_random_roundtrip_all_widths) {
    dp_rng r;
    dp_rng_seed(&r, 12345);
    for (int bw = 0; bw <= 32; bw++) {
        for (int iter = 0; iter < 40; iter++) {
            size_t n = (size_t) dp_rng_below(&r, iter < 20 ? 70 : 3000);
            uint32_t *v = dp_mallocarray(n + 1, 4);
            gen_levels(&r, v, n, bw, (int) dp_rng_below(&r, 9));
            dp_buf b;
            dp_buf_init(&b);
            naive_hybrid_encode(&r, v, n, bw, &b);
            check_hybrid(b.data, b.size, bw, v, n);
            /* Trailing bytes after the stream are not ours: same result. */
            put_byte(&b, 0xff);
            put_byte(&b, 0x01);
            check_hybrid(b.data, b.size, bw, v, n);
            /* The library encoder, checked by the naive decoder and by the library decoder. */
            dp_buf_reset(&b);
            T_OK(dp_pq_rle_encode(v, (int64_t) n, bw, &b));
            uint32_t *back = dp_mallocarray(n + 1, 4);
            DP_ASSERT_TRUE(naive_hybrid_decode(b.data, b.size, bw, back, n));
            DP_ASSERT_MEMEQ(back, v, n * 4);
            check_hybrid(b.data, b.size, bw, v, n);
            size_t used = 0;
            uint32_t *o = alloc_out(n, 4);
            ASSERT_OK(dp_pq_rle_decode(b.data, b.size, bw, o, (int64_t) n, &used, NULL), NULL);
            DP_ASSERT_EQ_INT(used, b.size); /* the encoder writes nothing superfluous */
            dp_free(o);
            dp_free(back);
            dp_buf_reset(&b);
            dp_free(v);
        }
    }
}

DP_TEST(enc_rle_encoder_compresses_runs) {
    /* 10,000 equal values: one RLE run (header 20000 takes 3 bytes, the value 2), and a mixed
     * sequence with a bit-packed prefix that is not a multiple of 8 still decodes. */
    uint32_t *v = dp_mallocarray(10000, 4);
    for (int i = 0; i < 10000; i++)
        v[i] = 777;
    dp_buf b;
    dp_buf_init(&b);
    T_OK(dp_pq_rle_encode(v, 10000, 10, &b));
    DP_ASSERT_EQ_INT(b.size, 5);
    for (int i = 0; i < 13; i++)
        v[i] = (uint32_t) i;
    dp_buf_reset(&b);
    T_OK(dp_pq_rle_encode(v, 10000, 10, &b));
    DP_ASSERT_CMP_INT(b.size, <, 40);
    check_hybrid(b.data, b.size, 10, v, 10000);
    /* Values wider than the bit width are refused. */
    v[5] = 1024;
    DP_ASSERT_STATUS(dp_pq_rle_encode(v, 10000, 10, &b), DP_INVALID_ARG);
    DP_ASSERT_STATUS(dp_pq_rle_encode(v, 10, 33, &b), DP_INVALID_ARG);
    dp_buf_reset(&b);
    dp_free(v);
}

DP_TEST(enc_rle_edge_cases) {
    uint32_t out[64 + SENT];
    size_t used = 99;
    dp_error err;
    /* count 0 on empty input. */
    ASSERT_OK(dp_pq_rle_decode(NULL, 0, 5, out, 0, &used, &err), &err);
    DP_ASSERT_EQ_INT(used, 0);
    /* Empty input with values wanted. */
    const uint8_t one[1] = {0};
    DP_ASSERT_STATUS(dp_pq_rle_decode(one, 0, 5, out, 1, &used, &err), DP_TRUNCATED);
    DP_ASSERT_CONTAINS(err.msg, "data ends");
    /* Bit width 0: RLE run with no value bytes, and bit-packed groups with no bytes. */
    const uint8_t bw0[] = {0x0a, 0x05};
    memset(out, 0xff, sizeof out);
    ASSERT_OK(dp_pq_rle_decode(bw0, sizeof bw0, 0, out, 21, &used, &err), &err);
    for (int i = 0; i < 21; i++)
        DP_ASSERT_EQ_INT(out[i], 0);
    DP_ASSERT_EQ_INT(used, 2);
    /* Bit width 32: value bytes little-endian. */
    const uint8_t bw32[] = {0x04, 0xff, 0xff, 0xff, 0xff, 0x03, 0x78, 0x56, 0x34, 0x12, 0, 0, 0,
                            0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0, 0, 0,
                            0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0, 0};
    ASSERT_OK(dp_pq_rle_decode(bw32, sizeof bw32, 32, out, 10, &used, &err), &err);
    DP_ASSERT_EQ_U64(out[0], UINT32_MAX);
    DP_ASSERT_EQ_U64(out[1], UINT32_MAX);
    DP_ASSERT_EQ_U64(out[2], 0x12345678u);
    DP_ASSERT_EQ_U64(out[3], 0);
    DP_ASSERT_EQ_INT(used, sizeof bw32);
    /* Bit widths outside 0..32. */
    DP_ASSERT_STATUS(dp_pq_rle_decode(bw0, 2, 33, out, 1, &used, &err), DP_CORRUPT);
    DP_ASSERT_STATUS(dp_pq_rle_decode(bw0, 2, -1, out, 1, &used, &err), DP_CORRUPT);
    /* Zero-length runs of either kind. */
    const uint8_t zero_rle[] = {0x00, 0x01}, zero_packed[] = {0x01, 0x00};
    DP_ASSERT_STATUS(dp_pq_rle_decode(zero_rle, 2, 1, out, 1, &used, &err), DP_CORRUPT);
    DP_ASSERT_STATUS(dp_pq_rle_decode(zero_packed, 2, 1, out, 1, &used, &err), DP_CORRUPT);
    /* Run lengths past 2^31 - 1: RLE of 2^31 values, bit-packed of 2^28 groups. */
    dp_buf b;
    dp_buf_init(&b);
    put_uleb(&b, (uint64_t) 1 << 32);
    put_byte(&b, 1);
    DP_ASSERT_STATUS(dp_pq_rle_decode(b.data, b.size, 1, out, 1, &used, &err), DP_CORRUPT);
    b.size = 0;
    put_uleb(&b, (uint64_t) 1 << 29 | 1);
    put_byte(&b, 1);
    DP_ASSERT_STATUS(dp_pq_rle_decode(b.data, b.size, 1, out, 1, &used, &err), DP_CORRUPT);
    /* The largest legal RLE run is fine, and only `count` values come out of it. */
    b.size = 0;
    put_uleb(&b, (uint64_t) INT32_MAX << 1);
    put_byte(&b, 1);
    memset(out, sentinel_byte, sizeof out);
    ASSERT_OK(dp_pq_rle_decode(b.data, b.size, 1, out, 64, &used, &err), &err);
    DP_ASSERT_EQ_INT(out[63], 1);
    check_sentinel(out, 64, 4);
    /* Over-long varint header (11 bytes). */
    const uint8_t longv[12] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0};
    DP_ASSERT_STATUS(dp_pq_rle_decode(longv, sizeof longv, 1, out, 1, &used, &err), DP_CORRUPT);
    /* Header cut off inside the varint. */
    DP_ASSERT_STATUS(dp_pq_rle_decode(longv, 3, 1, out, 1, &used, &err), DP_TRUNCATED);
    /* RLE value that does not fit the bit width. */
    const uint8_t wide[] = {0x02, 0x08};
    DP_ASSERT_STATUS(dp_pq_rle_decode(wide, 2, 3, out, 1, &used, &err), DP_CORRUPT);
    DP_ASSERT_CONTAINS(err.msg, "value 8");
    dp_buf_reset(&b);
}

DP_TEST(enc_rle_partial_last_group) {
    /* 2 groups announced (16 values of 5 bits = 10 bytes), 11 values wanted: ceil(55/8) = 7 bytes
     * suffice. Cutting the stream to 7..9 bytes is accepted (writers that drop padding), 6 is
     * not. */
    dp_rng r;
    dp_rng_seed(&r, 7);
    uint32_t v[16];
    gen_levels(&r, v, 16, 5, 0);
    dp_buf b;
    dp_buf_init(&b);
    put_uleb(&b, 2 << 1 | 1);
    bitw w;
    bitw_init(&w, &b);
    for (int i = 0; i < 16; i++)
        bitw_put(&w, v[i], 5);
    DP_ASSERT_EQ_INT(b.size, 11);
    for (size_t cut = 1 + 7; cut <= 11; cut++)
        check_hybrid(b.data, cut, 5, v, 11);
    uint32_t out[11 + SENT];
    uint8_t *in = exact_copy(b.data, 1 + 6);
    DP_ASSERT_STATUS(dp_pq_rle_decode(in, 7, 5, out, 11, NULL, NULL), DP_TRUNCATED);
    dp_free(in);
    dp_buf_reset(&b);
}

/* Every strict prefix of a valid stream fails cleanly, or (hybrid only: padding cut off) decodes
 * the same values. Buffers are exact-size heap copies. */
DP_TEST(enc_rle_truncation_every_byte) {
    dp_rng r;
    dp_rng_seed(&r, 99);
    for (int iter = 0; iter < 60; iter++) {
        int bw = (int) dp_rng_below(&r, 33);
        size_t n = 1 + (size_t) dp_rng_below(&r, 100);
        uint32_t v[100];
        gen_levels(&r, v, n, bw, 4);
        dp_buf b;
        dp_buf_init(&b);
        naive_hybrid_encode(&r, v, n, bw, &b);
        for (size_t cut = 0; cut < b.size; cut++) {
            uint8_t *in = exact_copy(b.data, cut);
            uint32_t *out = alloc_out(n, 4);
            dp_status st = dp_pq_rle_decode(in, cut, bw, out, (int64_t) n, NULL, NULL);
            if (st == DP_OK)
                DP_ASSERT_MEMEQ(out, v, n * 4);
            else
                DP_ASSERT_TRUE(is_data_error(st));
            check_sentinel(out, n, 4);
            dp_free(out);
            dp_free(in);
        }
        dp_buf_reset(&b);
    }
}

DP_TEST(enc_rle_lying_count) {
    /* The stream holds 20 values; asking for 1000 is TRUNCATED and writes nothing past 1000
     * (the output is exactly 1000 + sentinels). */
    uint32_t v[20];
    dp_rng r;
    dp_rng_seed(&r, 3);
    gen_levels(&r, v, 20, 7, 3);
    dp_buf b;
    dp_buf_init(&b);
    T_OK(dp_pq_rle_encode(v, 20, 7, &b));
    uint32_t *out = alloc_out(1000, 4);
    dp_error err;
    DP_ASSERT_STATUS(dp_pq_rle_decode(b.data, b.size, 7, out, 1000, NULL, &err), DP_TRUNCATED);
    check_sentinel(out, 1000, 4);
    DP_ASSERT_STATUS(dp_pq_rle_decode(b.data, b.size, 7, out, -1, NULL, &err), DP_INVALID_ARG);
    dp_free(out);
    dp_buf_reset(&b);
}

DP_TEST(enc_dict_indices) {
    dp_rng r;
    dp_rng_seed(&r, 5);
    uint32_t v[500];
    gen_levels(&r, v, 500, 10, 5);
    dp_buf b;
    dp_buf_init(&b);
    put_byte(&b, 10);
    naive_hybrid_encode(&r, v, 500, 10, &b);
    uint32_t *out = alloc_out(500, 4);
    dp_error err;
    ASSERT_OK(dp_pq_dict_indices_decode(b.data, b.size, out, 500, &err), &err);
    DP_ASSERT_MEMEQ(out, v, sizeof v);
    check_sentinel(out, 500, 4);
    /* Bit width byte above 32, missing bit width byte, and no values at all. */
    b.data[0] = 33;
    DP_ASSERT_STATUS(dp_pq_dict_indices_decode(b.data, b.size, out, 500, &err), DP_CORRUPT);
    DP_ASSERT_STATUS(dp_pq_dict_indices_decode(b.data, 0, out, 500, &err), DP_TRUNCATED);
    ASSERT_OK(dp_pq_dict_indices_decode(NULL, 0, out, 0, &err), &err);
    /* Bit width 0 (a one-entry dictionary): RLE run of zeros without value bytes. */
    const uint8_t bw0[] = {0, 0x20};
    ASSERT_OK(dp_pq_dict_indices_decode(bw0, 2, out, 16, &err), &err);
    DP_ASSERT_EQ_INT(out[15], 0);
    dp_free(out);
    dp_buf_reset(&b);
}

/* ---------------------------------------------------------------- deprecated BIT_PACKED */

static void naive_legacy_encode(const uint32_t *v, size_t n, int bw, dp_buf *out) {
    size_t start = out->size;
    uint64_t bit = 0;
    for (size_t i = 0; i < n; i++)
        for (int j = bw - 1; j >= 0; j--, bit++) {
            while (out->size <= start + bit / 8)
                put_byte(out, 0);
            if ((v[i] >> j) & 1)
                out->data[start + bit / 8] |= (uint8_t) (0x80 >> (bit % 8));
        }
}

DP_TEST(enc_legacy_bitpacked_roundtrip) {
    dp_rng r;
    dp_rng_seed(&r, 21);
    for (int bw = 0; bw <= 32; bw++) {
        for (int iter = 0; iter < 12; iter++) {
            size_t n = (size_t) dp_rng_below(&r, 200);
            uint32_t v[200];
            gen_levels(&r, v, n, bw, 2);
            dp_buf b;
            dp_buf_init(&b);
            naive_legacy_encode(v, n, bw, &b);
            size_t need = (n * (size_t) bw + 7) / 8;
            DP_ASSERT_EQ_INT(b.size, need);
            uint8_t *in = exact_copy(b.data, b.size);
            uint32_t *out = alloc_out(n, 4);
            size_t used = 0;
            ASSERT_OK(dp_pq_bitpacked_legacy_decode(in, b.size, bw, out, (int64_t) n, &used, NULL),
                      NULL);
            DP_ASSERT_MEMEQ(out, v, n * 4);
            DP_ASSERT_EQ_INT(used, need);
            check_sentinel(out, n, 4);
            dp_free(in);
            for (size_t cut = 0; cut < b.size; cut++) {
                in = exact_copy(b.data, cut);
                DP_ASSERT_STATUS(
                    dp_pq_bitpacked_legacy_decode(in, cut, bw, out, (int64_t) n, &used, NULL),
                    DP_TRUNCATED);
                dp_free(in);
            }
            check_sentinel(out, n, 4);
            dp_free(out);
            dp_buf_reset(&b);
        }
    }
    uint32_t o[1];
    DP_ASSERT_STATUS(dp_pq_bitpacked_legacy_decode(NULL, 0, 33, o, 1, NULL, NULL), DP_CORRUPT);
    /* A huge lying count fails before writing. */
    const uint8_t d[4] = {0};
    DP_ASSERT_STATUS(dp_pq_bitpacked_legacy_decode(d, 4, 3, o, INT64_MAX / 2, NULL, NULL),
                     DP_TRUNCATED);
}

/* ---------------------------------------------------------------- PLAIN */

DP_TEST(enc_plain_fixed) {
    dp_rng r;
    dp_rng_seed(&r, 31);
    const size_t widths[] = {1, 2, 3, 4, 8, 12, 16, 33};
    for (size_t wi = 0; wi < DP_ARRAY_LEN(widths); wi++) {
        size_t w = widths[wi], n = 1 + (size_t) dp_rng_below(&r, 300);
        uint8_t *src = dp_malloc(n * w + 5);
        for (size_t i = 0; i < n * w + 5; i++)
            src[i] = (uint8_t) dp_rng_next(&r);
        uint8_t *out = alloc_out(n, w);
        size_t used = 0;
        ASSERT_OK(dp_pq_plain_fixed_decode(src, n * w + 5, w, (int64_t) n, out, &used, NULL), NULL);
        DP_ASSERT_MEMEQ(out, src, n * w);
        DP_ASSERT_EQ_INT(used, n * w);
        check_sentinel(out, n, w);
        DP_ASSERT_STATUS(dp_pq_plain_fixed_decode(src, n * w - 1, w, (int64_t) n, out, &used, NULL),
                         DP_TRUNCATED);
        /* count * width overflows size_t: refused before writing. */
        DP_ASSERT_STATUS(dp_pq_plain_fixed_decode(src, n * w, w, INT64_MAX / 2, out, &used, NULL),
                         DP_TRUNCATED);
        check_sentinel(out, n, w);
        dp_free(out);
        dp_free(src);
    }
    /* Doubles come out as their IEEE bits. */
    const double d[3] = {1.5, -0.0, 1e300};
    double o[3];
    ASSERT_OK(dp_pq_plain_fixed_decode((const uint8_t *) d, sizeof d, 8, 3, o, NULL, NULL), NULL);
    DP_ASSERT_BITS_EQ(o[1], -0.0);
    DP_ASSERT_BITS_EQ(o[2], 1e300);
    ASSERT_OK(dp_pq_plain_fixed_decode(NULL, 0, 8, 0, o, NULL, NULL), NULL);
}

DP_TEST(enc_plain_bool) {
    dp_rng r;
    dp_rng_seed(&r, 41);
    for (size_t n = 0; n < 200; n++) {
        uint8_t bits[32] = {0};
        uint8_t want[200];
        for (size_t i = 0; i < n; i++) {
            want[i] = (uint8_t) (dp_rng_next(&r) & 1);
            bits[i / 8] |= (uint8_t) (want[i] << (i % 8));
        }
        size_t nbytes = (n + 7) / 8;
        uint8_t *in = exact_copy(bits, nbytes);
        uint8_t *out = alloc_out(n, 1);
        size_t used = 0;
        ASSERT_OK(dp_pq_plain_bool_decode(in, nbytes, (int64_t) n, out, &used, NULL), NULL);
        DP_ASSERT_MEMEQ(out, want, n);
        DP_ASSERT_EQ_INT(used, nbytes);
        check_sentinel(out, n, 1);
        if (n > 0)
            DP_ASSERT_STATUS(dp_pq_plain_bool_decode(in, nbytes - 1, (int64_t) n, out, &used, NULL),
                             DP_TRUNCATED);
        dp_free(out);
        dp_free(in);
    }
}

static void naive_plain_ba_encode(uint8_t **vals, const size_t *lens, size_t n, dp_buf *out) {
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < 4; j++)
            put_byte(out, (uint8_t) (lens[i] >> (8 * j)));
        T_OK(dp_buf_append(out, vals[i], lens[i]));
    }
}

/* Random strings; with `share`, values often start with a piece of the previous one. */
static void gen_strings(dp_rng *r, size_t n, uint8_t ***vals, size_t **lens, bool share) {
    *vals = dp_calloc(n + 1, sizeof **vals);
    *lens = dp_calloc(n + 1, sizeof **lens);
    for (size_t i = 0; i < n; i++) {
        size_t len = dp_rng_below(r, 4) == 0 ? 0 : (size_t) dp_rng_below(r, 40);
        (*vals)[i] = dp_malloc(len + 1);
        (*lens)[i] = len;
        size_t keep = 0;
        if (share && i > 0 && dp_rng_below(r, 3) != 0)
            keep = (size_t) dp_rng_below(r, DP_MIN((*lens)[i - 1], len) + 1);
        if (keep)
            memcpy((*vals)[i], (*vals)[i - 1], keep);
        for (size_t j = keep; j < len; j++)
            (*vals)[i][j] = (uint8_t) ('a' + dp_rng_below(r, 3));
    }
}

static void free_strings(uint8_t **vals, size_t *lens, size_t n) {
    for (size_t i = 0; i < n; i++)
        dp_free(vals[i]);
    dp_free(vals);
    dp_free(lens);
}

static void check_strings(const int64_t *off, const dp_buf *heap, size_t base, uint8_t **vals,
                          const size_t *lens, size_t n) {
    DP_ASSERT_EQ_INT(off[0], base);
    for (size_t i = 0; i < n; i++) {
        DP_ASSERT_EQ_INT(off[i + 1] - off[i], lens[i]);
        DP_ASSERT_MEMEQ(heap->data + off[i], vals[i], lens[i]);
    }
    DP_ASSERT_EQ_INT(heap->size, off[n]);
}

typedef dp_status (*ba_decode_fn)(const uint8_t *, size_t, int64_t, int64_t *, dp_buf *, size_t *,
                                  dp_error *);

/* Decode enc as n strings with a heap that already holds 3 bytes; check values, consumed and
 * that every strict prefix fails cleanly without touching the heap's contents. */
static void check_byte_arrays(ba_decode_fn fn, const dp_buf *enc, size_t enc_len, uint8_t **vals,
                              const size_t *lens, size_t n, bool prefixes) {
    dp_buf heap;
    dp_buf_init(&heap);
    T_OK(dp_buf_append(&heap, "xyz", 3));
    int64_t *off = alloc_out(n + 1, 8);
    uint8_t *in = exact_copy(enc->data, enc->size);
    size_t used = 0;
    dp_error err;
    ASSERT_OK(fn(in, enc->size, (int64_t) n, off, &heap, &used, &err), &err);
    check_strings(off, &heap, 3, vals, lens, n);
    DP_ASSERT_EQ_INT(used, enc_len);
    DP_ASSERT_MEMEQ(heap.data, "xyz", 3);
    check_sentinel(off, n + 1, 8);
    dp_free(in);
    if (prefixes) {
        for (size_t cut = 0; cut < enc_len; cut++) {
            in = exact_copy(enc->data, cut);
            heap.size = 3;
            dp_status st = fn(in, cut, (int64_t) n, off, &heap, &used, &err);
            DP_ASSERT_TRUE(is_data_error(st));
            DP_ASSERT_EQ_INT(heap.size, 3);
            check_sentinel(off, n + 1, 8);
            dp_free(in);
        }
    }
    dp_free(off);
    dp_buf_reset(&heap);
}

DP_TEST(enc_plain_byte_array) {
    dp_rng r;
    dp_rng_seed(&r, 51);
    for (int iter = 0; iter < 100; iter++) {
        size_t n = (size_t) dp_rng_below(&r, iter < 50 ? 12 : 400);
        uint8_t **vals;
        size_t *lens;
        gen_strings(&r, n, &vals, &lens, false);
        dp_buf b;
        dp_buf_init(&b);
        naive_plain_ba_encode(vals, lens, n, &b);
        size_t len = b.size;
        put_byte(&b, 0x77); /* trailing byte not consumed */
        check_byte_arrays(dp_pq_plain_byte_array_decode, &b, len, vals, lens, n, iter < 50);
        dp_buf_reset(&b);
        free_strings(vals, lens, n);
    }
    /* A length of 0xffffffff, and a count the bytes cannot hold. */
    const uint8_t bad[8] = {0xff, 0xff, 0xff, 0xff, 'a', 'b', 'c', 'd'};
    int64_t off[3 + SENT], off2[31];
    dp_buf heap;
    dp_buf_init(&heap);
    DP_ASSERT_STATUS(dp_pq_plain_byte_array_decode(bad, 8, 1, off, &heap, NULL, NULL),
                     DP_TRUNCATED);
    DP_ASSERT_STATUS(dp_pq_plain_byte_array_decode(bad, 8, 3, off, &heap, NULL, NULL),
                     DP_TRUNCATED);
    DP_ASSERT_EQ_INT(heap.size, 0);
    /* 30 values announced, the first 120 bytes long and no room left for the other 29 lengths
     * (found by fuzzing: the heap is sized for len - 4 * count bytes of strings). */
    uint8_t lying[124] = {120};
    DP_ASSERT_STATUS(
        dp_pq_plain_byte_array_decode(lying, sizeof lying, 30, off2, &heap, NULL, NULL),
        DP_TRUNCATED);
    DP_ASSERT_EQ_INT(heap.size, 0);
    dp_buf_reset(&heap);
}

/* ---------------------------------------------------------------- DELTA_BINARY_PACKED */

typedef struct dbp_opts {
    uint64_t block, n_mb;
    bool garbage; /* random padding bits and unused miniblock widths */
    bool is32;
} dbp_opts;

/* Straight from the spec; values are given as uint64 (for INT32, the low 32 bits). */
static void naive_dbp_encode(dp_rng *r, const uint64_t *v, size_t n, dbp_opts o, dp_buf *out) {
    put_uleb(out, o.block);
    put_uleb(out, o.n_mb);
    put_uleb(out, n);
    int64_t first = n == 0 ? 0 : o.is32 ? (int64_t) (int32_t) (uint32_t) v[0] : (int64_t) v[0];
    put_uleb(out, zz(first));
    uint64_t mb = o.block / o.n_mb;
    for (size_t start = 1; start < n; start += o.block) {
        size_t cnt = n - start < o.block ? n - start : (size_t) o.block;
        int64_t *delta = dp_mallocarray(cnt, 8);
        int64_t mind = INT64_MAX;
        for (size_t k = 0; k < cnt; k++) {
            uint64_t d = v[start + k] - v[start + k - 1];
            delta[k] = o.is32 ? (int64_t) (int32_t) (uint32_t) d : (int64_t) d;
            if (delta[k] < mind)
                mind = delta[k];
        }
        put_uleb(out, zz(mind));
        uint64_t *rel = dp_calloc(o.block, 8);
        for (size_t k = 0; k < cnt; k++) {
            uint64_t x = (uint64_t) delta[k] - (uint64_t) mind;
            rel[k] = o.is32 ? (uint32_t) x : x;
        }
        size_t used_mb = (cnt + mb - 1) / mb;
        uint8_t *widths = dp_calloc(o.n_mb, 1);
        for (size_t m = 0; m < o.n_mb; m++) {
            if (m < used_mb) {
                for (size_t k = m * mb; k < (m + 1) * mb && k < cnt; k++)
                    while (widths[m] < 64 && (rel[k] >> widths[m]) != 0)
                        widths[m]++;
            } else if (o.garbage) {
                widths[m] = (uint8_t) dp_rng_next(r);
            }
            put_byte(out, widths[m]);
        }
        bitw w;
        bitw_init(&w, out);
        for (size_t m = 0; m < used_mb; m++)
            for (size_t k = m * mb; k < (m + 1) * mb; k++) {
                uint64_t x = k < cnt ? rel[k] : o.garbage ? dp_rng_next(r) : 0;
                bitw_put(&w, x, widths[m]);
            }
        dp_free(widths);
        dp_free(rel);
        dp_free(delta);
    }
}

/* Naive decoder (checks the library's encoder). Returns the end offset, or 0 on failure. */
static size_t naive_dbp_decode(const uint8_t *d, size_t len, uint64_t *out, size_t n) {
    size_t pos = 0;
    uint64_t h[5];
    for (int i = 0; i < 4; i++) {
        h[i] = 0;
        for (int shift = 0;; shift += 7) {
            if (pos >= len)
                return 0;
            h[i] |= (uint64_t) (d[pos] & 0x7f) << shift;
            if (!(d[pos++] & 0x80))
                break;
        }
    }
    uint64_t block = h[0], n_mb = h[1], total = h[2], mb = block / n_mb;
    if (total < n)
        return 0;
    uint64_t last = (h[3] >> 1) ^ (0 - (h[3] & 1));
    size_t produced = 0;
    if (total > 0)
        out[produced++] = last;
    while (produced < total) {
        uint64_t m = 0;
        for (int shift = 0;; shift += 7) {
            if (pos >= len)
                return 0;
            m |= (uint64_t) (d[pos] & 0x7f) << shift;
            if (!(d[pos++] & 0x80))
                break;
        }
        uint64_t mind = (m >> 1) ^ (0 - (m & 1));
        const uint8_t *widths = d + pos;
        pos += n_mb;
        for (uint64_t j = 0; j < n_mb && produced < total; j++) {
            uint64_t bit = (uint64_t) pos * 8;
            for (uint64_t k = 0; k < mb; k++) {
                uint64_t x = 0;
                for (int b = 0; b < widths[j]; b++, bit++) {
                    if (bit / 8 >= len)
                        return 0;
                    x |= (uint64_t) ((d[bit / 8] >> (bit % 8)) & 1) << b;
                }
                if (produced < total) {
                    last += mind + x;
                    if (produced < n)
                        out[produced] = last;
                    produced++;
                }
            }
            pos += (size_t) (mb * widths[j] / 8);
        }
    }
    return pos;
}

/* Random INT64 (or INT32 in the low bits) sequences of several shapes. */
static void gen_ints(dp_rng *r, uint64_t *v, size_t n, bool is32) {
    int kind = (int) dp_rng_below(r, 6);
    uint64_t x = dp_rng_next(r);
    for (size_t i = 0; i < n; i++) {
        switch (kind) {
        case 0: /* small random walk */
            x += (uint64_t) ((int64_t) dp_rng_below(r, 11) - 5);
            break;
        case 1: /* full range: deltas need 64 (33 for INT32) bits */
            x = dp_rng_next(r);
            break;
        case 2: /* constant: width 0 */
            break;
        case 3: { /* extremes */
            static const uint64_t ext[] = {0,
                                           1,
                                           (uint64_t) INT64_MAX,
                                           (uint64_t) INT64_MIN,
                                           (uint64_t) INT32_MAX,
                                           (uint64_t) (int64_t) INT32_MIN,
                                           UINT64_MAX};
            x = ext[dp_rng_below(r, DP_ARRAY_LEN(ext))];
            break;
        }
        case 4: /* increasing with occasional jumps */
            x += dp_rng_below(r, 20) == 0 ? dp_rng_next(r) >> (dp_rng_below(r, 64)) : 1;
            break;
        default: /* varying widths per miniblock */
            x += dp_rng_next(r) >> (i / 32 % 64);
            break;
        }
        v[i] = is32 ? (uint64_t) (int64_t) (int32_t) (uint32_t) x : x;
    }
}

static dbp_opts random_opts(dp_rng *r, bool is32) {
    static const uint64_t blocks[] = {128, 256, 512, 1024};
    dbp_opts o;
    o.block = blocks[dp_rng_below(r, 4)];
    do
        o.n_mb = (uint64_t) 1 << dp_rng_below(r, 6);
    while ((o.block / o.n_mb) % 32 != 0);
    o.garbage = dp_rng_below(r, 2) != 0;
    o.is32 = is32;
    return o;
}

static void check_dbp(const uint8_t *enc, size_t len, size_t enc_len, const uint64_t *v, size_t n,
                      size_t want, bool is32) {
    uint8_t *in = exact_copy(enc, len);
    size_t used = 0;
    dp_error err;
    if (is32) {
        int32_t *out = alloc_out(want, 4);
        ASSERT_OK(dp_pq_delta_binary_decode_i32(in, len, (int64_t) want, out, &used, &err), &err);
        for (size_t i = 0; i < want; i++)
            if (out[i] != (int32_t) (uint32_t) v[i])
                DP_FAILF("INT32 n %zu: value %zu is %d, expected %d", n, i, out[i],
                         (int32_t) (uint32_t) v[i]);
        check_sentinel(out, want, 4);
        dp_free(out);
    } else {
        int64_t *out = alloc_out(want, 8);
        ASSERT_OK(dp_pq_delta_binary_decode_i64(in, len, (int64_t) want, out, &used, &err), &err);
        for (size_t i = 0; i < want; i++)
            if ((uint64_t) out[i] != v[i])
                DP_FAILF("INT64 n %zu: value %zu is %lld, expected %lld", n, i, (long long) out[i],
                         (long long) v[i]);
        check_sentinel(out, want, 8);
        dp_free(out);
    }
    DP_ASSERT_EQ_INT(used, enc_len);
    dp_free(in);
}

DP_TEST(enc_delta_spec_examples) {
    /* Encodings.md's examples use block size 8, which the spec itself calls invalid (blocks are
     * multiples of 128): that form is refused, and the same data with block 128 and one
     * miniblock decodes. Example 1: 1..5, min delta 1, width 0, no miniblock body. */
    const uint8_t ex1_b8[] = {8, 1, 5, 2, 2, 0};
    int64_t out[8 + SENT];
    size_t used = 0;
    dp_error err;
    DP_ASSERT_STATUS(dp_pq_delta_binary_decode_i64(ex1_b8, sizeof ex1_b8, 5, out, &used, &err),
                     DP_CORRUPT);
    DP_ASSERT_CONTAINS(err.msg, "multiple of 128");
    const uint8_t ex1[] = {0x80, 0x01, 1, 5, 2, 2, 0};
    ASSERT_OK(dp_pq_delta_binary_decode_i64(ex1, sizeof ex1, 5, out, &used, &err), &err);
    for (int i = 0; i < 5; i++)
        DP_ASSERT_EQ_INT(out[i], i + 1);
    DP_ASSERT_EQ_INT(used, sizeof ex1);
    /* Example 2: 7 5 3 1 2 3 4 5, min delta -2 (zigzag 3), width 2, relative deltas
     * 0 0 0 3 3 3 3 packed LSB first = 0xC0 0x3F, padded to 128 values * 2 bits = 32 bytes. */
    uint8_t ex2[5 + 2 + 32] = {0x80, 0x01, 1, 8, 14, 3, 2, 0xC0, 0x3F};
    const int64_t want2[8] = {7, 5, 3, 1, 2, 3, 4, 5};
    ASSERT_OK(dp_pq_delta_binary_decode_i64(ex2, sizeof ex2, 8, out, &used, &err), &err);
    DP_ASSERT_MEMEQ(out, want2, sizeof want2);
    DP_ASSERT_EQ_INT(used, sizeof ex2);
    int32_t out32[8];
    ASSERT_OK(dp_pq_delta_binary_decode_i32(ex2, sizeof ex2, 8, out32, &used, &err), &err);
    for (int i = 0; i < 8; i++)
        DP_ASSERT_EQ_INT(out32[i], want2[i]);
    /* The naive encoder agrees byte for byte. */
    uint64_t v2[8];
    for (int i = 0; i < 8; i++)
        v2[i] = (uint64_t) want2[i];
    dp_buf b;
    dp_buf_init(&b);
    naive_dbp_encode(NULL, v2, 8, (dbp_opts){128, 1, false, false}, &b);
    DP_ASSERT_EQ_INT(b.size, sizeof ex2);
    DP_ASSERT_MEMEQ(b.data, ex2, sizeof ex2);
    dp_buf_reset(&b);
}

DP_TEST(enc_delta_random_roundtrip) {
    dp_rng r;
    dp_rng_seed(&r, 61);
    for (int iter = 0; iter < 400; iter++) {
        bool is32 = iter % 2 == 1;
        size_t n = (size_t) dp_rng_below(&r, iter < 200 ? 300 : 5000);
        uint64_t *v = dp_mallocarray(n + 1, 8);
        gen_ints(&r, v, n, is32);
        dbp_opts o = random_opts(&r, is32);
        dp_buf b;
        dp_buf_init(&b);
        naive_dbp_encode(&r, v, n, o, &b);
        size_t len = b.size;
        check_dbp(b.data, len, len, v, n, n, is32);
        /* Bytes after the encoding (the next stream) do not change the result or its end. */
        put_byte(&b, 0x81);
        put_byte(&b, 0x00);
        check_dbp(b.data, b.size, len, v, n, n, is32);
        /* Fewer values wanted than announced: `consumed` is still the end of the encoding. */
        if (n > 0)
            check_dbp(b.data, b.size, len, v, n, (size_t) dp_rng_below(&r, n), is32);
        dp_buf_reset(&b);
        dp_free(v);
    }
}

DP_TEST(enc_delta_encoder_i64) {
    /* The library encoder, checked by the naive decoder and by the library decoder; INT32 data
     * encoded with 64-bit deltas (widths up to 33) must decode as INT32 too. */
    dp_rng r;
    dp_rng_seed(&r, 71);
    for (int iter = 0; iter < 200; iter++) {
        bool is32 = iter % 3 == 0;
        size_t n = (size_t) dp_rng_below(&r, iter < 100 ? 300 : 3000);
        uint64_t *v = dp_mallocarray(n + 1, 8), *back = dp_mallocarray(n + 1, 8);
        gen_ints(&r, v, n, is32);
        dp_buf b;
        dp_buf_init(&b);
        T_OK(dp_pq_delta_binary_encode_i64((const int64_t *) v, (int64_t) n, &b));
        size_t end = naive_dbp_decode(b.data, b.size, back, n);
        DP_ASSERT_EQ_INT(end, b.size);
        DP_ASSERT_MEMEQ(back, v, n * 8);
        check_dbp(b.data, b.size, b.size, v, n, n, is32);
        dp_buf_reset(&b);
        dp_free(back);
        dp_free(v);
    }
}

DP_TEST(enc_delta_int32_wraparound) {
    /* INT32_MIN, INT32_MAX alternating: the 32-bit deltas wrap (+/- 2^32 - 1 become -1 / +1 mod
     * 2^32), so a writer doing 32-bit arithmetic needs only small widths. */
    uint64_t v[300];
    for (int i = 0; i < 300; i++)
        v[i] = (uint64_t) (int64_t) (i % 2 ? INT32_MAX : INT32_MIN);
    dp_buf b;
    dp_buf_init(&b);
    naive_dbp_encode(NULL, v, 300, (dbp_opts){128, 4, false, true}, &b);
    check_dbp(b.data, b.size, b.size, v, 300, 300, true);
    /* Min delta -1 (as int32): relative deltas 0 and 2, width 2. The header is 10 bytes (300 and
     * zigzag(INT32_MIN) take 2 and 5), the min delta 1, so the first width is byte 11. */
    DP_ASSERT_EQ_INT(b.data[10], 1);
    DP_ASSERT_EQ_INT(b.data[11], 2);
    dp_buf_reset(&b);
    /* The 64-bit encoder needs width 33 for the same data (min delta -(2^32 - 1) takes 5 bytes);
     * the INT32 decoder takes the low bits. */
    T_OK(dp_pq_delta_binary_encode_i64((const int64_t *) v, 300, &b));
    DP_ASSERT_EQ_INT(b.data[15], 33);
    check_dbp(b.data, b.size, b.size, v, 300, 300, true);
    dp_buf_reset(&b);
}

DP_TEST(enc_delta_edge_cases) {
    int64_t out[4 + SENT];
    int32_t o32[4];
    size_t used = 99;
    dp_error err;
    /* count 0: header only, first value 0. */
    const uint8_t empty[] = {0x80, 0x01, 4, 0, 0};
    ASSERT_OK(dp_pq_delta_binary_decode_i64(empty, sizeof empty, 0, out, &used, &err), &err);
    DP_ASSERT_EQ_INT(used, 5);
    /* count 1: header only, no block. */
    const uint8_t single[] = {0x80, 0x01, 4, 1, 0x83, 0x01};
    ASSERT_OK(dp_pq_delta_binary_decode_i64(single, sizeof single, 1, out, &used, &err), &err);
    DP_ASSERT_EQ_INT(out[0], -66);
    DP_ASSERT_EQ_INT(used, 6);
    /* Wanting more than announced. */
    DP_ASSERT_STATUS(dp_pq_delta_binary_decode_i64(single, sizeof single, 2, out, &used, &err),
                     DP_TRUNCATED);
    DP_ASSERT_CONTAINS(err.msg, "announces 1");
    DP_ASSERT_STATUS(dp_pq_delta_binary_decode_i64(single, sizeof single, -1, out, &used, &err),
                     DP_INVALID_ARG);
    /* Bad block / miniblock geometry. */
    const uint8_t geo[][6] = {
        {0, 1, 1, 0, 0, 0},             /* block 0 */
        {100, 1, 1, 0, 0, 0},           /* not a multiple of 128 */
        {0x80, 0x01, 0, 1, 0, 0},       /* 0 miniblocks */
        {0x80, 0x01, 3, 1, 0, 0},       /* 128 / 3 */
        {0x80, 0x01, 8, 1, 0, 0},       /* 16 values per miniblock */
        {0x80, 0x01, 0x81, 0x01, 1, 0}, /* 129 miniblocks */
    };
    for (size_t i = 0; i < DP_ARRAY_LEN(geo); i++)
        DP_ASSERT_STATUS(dp_pq_delta_binary_decode_i64(geo[i], 6, 1, out, &used, &err), DP_CORRUPT);
    /* Block size 2^32 (above the cap). */
    const uint8_t huge[] = {0x80, 0x80, 0x80, 0x80, 0x10, 1, 2, 0};
    DP_ASSERT_STATUS(dp_pq_delta_binary_decode_i64(huge, sizeof huge, 1, out, &used, &err),
                     DP_CORRUPT);
    /* Width 65 in a needed miniblock; width 64 is fine. */
    uint8_t w[5 + 1 + 4 + 32 * 8] = {0x80, 0x01, 4, 2, 0, 0, 64, 0, 0, 0};
    w[10] = 7; /* first delta 7 */
    ASSERT_OK(dp_pq_delta_binary_decode_i64(w, sizeof w, 2, out, &used, &err), &err);
    DP_ASSERT_EQ_INT(out[1], 7);
    DP_ASSERT_EQ_INT(used, sizeof w);
    ASSERT_OK(dp_pq_delta_binary_decode_i32(w, sizeof w, 2, o32, &used, &err), &err);
    DP_ASSERT_EQ_INT(o32[1], 7);
    w[6] = 65;
    DP_ASSERT_STATUS(dp_pq_delta_binary_decode_i64(w, sizeof w, 2, out, &used, &err), DP_CORRUPT);
    DP_ASSERT_CONTAINS(err.msg, "65");
    /* ...but an unused miniblock's width is not checked (the spec says: arbitrary). */
    w[6] = 0;
    w[7] = 200;
    ASSERT_OK(dp_pq_delta_binary_decode_i64(w, sizeof w, 2, out, &used, &err), &err);
    DP_ASSERT_EQ_INT(out[1], 0);
    DP_ASSERT_EQ_INT(used, 10);
    /* min delta varint over-long. */
    const uint8_t longv[] = {0x80, 0x01, 4,    2,    0,    0xff, 0xff, 0xff, 0xff, 0xff,
                             0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0,    0,    0,    0};
    DP_ASSERT_STATUS(dp_pq_delta_binary_decode_i64(longv, sizeof longv, 2, out, &used, &err),
                     DP_CORRUPT);
    /* Overflow wraps: INT64_MAX then +1 gives INT64_MIN. */
    const uint64_t vv[2] = {(uint64_t) INT64_MAX, (uint64_t) INT64_MIN};
    dp_buf b;
    dp_buf_init(&b);
    naive_dbp_encode(NULL, vv, 2, (dbp_opts){128, 4, false, false}, &b);
    check_dbp(b.data, b.size, b.size, vv, 2, 2, false);
    dp_buf_reset(&b);
    /* A header announcing 2^62 values in a few bytes (width 0 blocks would make it "valid") must
     * fail when asked for the end, in time proportional to the input. */
    dp_buf_init(&b);
    put_uleb(&b, (uint64_t) 1 << 31);
    put_uleb(&b, 1);
    put_uleb(&b, (uint64_t) 1 << 62);
    put_uleb(&b, 0);
    for (int i = 0; i < 100; i++) {
        put_byte(&b, 0);
        put_byte(&b, 0);
    }
    ASSERT_OK(dp_pq_delta_binary_decode_i64(b.data, b.size, 4, out, NULL, &err), &err);
    DP_ASSERT_STATUS(dp_pq_delta_binary_decode_i64(b.data, b.size, 4, out, &used, &err),
                     DP_TRUNCATED);
    dp_buf_reset(&b);
}

DP_TEST(enc_delta_truncation_every_byte) {
    dp_rng r;
    dp_rng_seed(&r, 81);
    for (int iter = 0; iter < 40; iter++) {
        bool is32 = iter % 2 == 0;
        size_t n = (size_t) dp_rng_below(&r, 400);
        uint64_t v[400];
        gen_ints(&r, v, n, is32);
        dp_buf b;
        dp_buf_init(&b);
        naive_dbp_encode(&r, v, n, random_opts(&r, is32), &b);
        for (size_t cut = 0; cut < b.size; cut++) {
            uint8_t *in = exact_copy(b.data, cut);
            void *out = alloc_out(n, 8);
            size_t used;
            dp_status st =
                is32 ? dp_pq_delta_binary_decode_i32(in, cut, (int64_t) n, out, &used, NULL)
                     : dp_pq_delta_binary_decode_i64(in, cut, (int64_t) n, out, &used, NULL);
            if (!is_data_error(st))
                DP_FAILF("n %zu cut %zu of %zu: %s", n, cut, b.size, dp_status_name(st));
            check_sentinel(out, n, is32 ? 4 : 8);
            dp_free(out);
            dp_free(in);
        }
        dp_buf_reset(&b);
    }
}

/* ---------------------------------------------------------------- DELTA byte arrays */

static void naive_dlba_encode(dp_rng *r, uint8_t **vals, const size_t *lens, size_t n,
                              dp_buf *out) {
    uint64_t *l = dp_mallocarray(n + 1, 8);
    for (size_t i = 0; i < n; i++)
        l[i] = lens[i];
    naive_dbp_encode(r, l, n, random_opts(r, true), out);
    for (size_t i = 0; i < n; i++)
        T_OK(dp_buf_append(out, vals[i], lens[i]));
    dp_free(l);
}

static void naive_dba_encode(dp_rng *r, uint8_t **vals, const size_t *lens, size_t n, dp_buf *out) {
    uint64_t *pre = dp_mallocarray(n + 1, 8), *suf = dp_mallocarray(n + 1, 8);
    for (size_t i = 0; i < n; i++) {
        size_t p = 0;
        while (i > 0 && p < lens[i] && p < lens[i - 1] && vals[i][p] == vals[i - 1][p])
            p++;
        pre[i] = p;
        suf[i] = lens[i] - p;
    }
    naive_dbp_encode(r, pre, n, random_opts(r, true), out);
    naive_dbp_encode(r, suf, n, random_opts(r, true), out);
    for (size_t i = 0; i < n; i++)
        T_OK(dp_buf_append(out, vals[i] + pre[i], (size_t) suf[i]));
    dp_free(pre);
    dp_free(suf);
}

DP_TEST(enc_delta_length_byte_array_spec_example) {
    /* "Hello", "World", "Foobar", "ABCDEF": lengths 5 5 6 6 (block 128, 4 miniblocks), deltas
     * 0 1 0, min 0, width 1, relative 0 1 0 = 0x02 then 3 padding bytes; then the bytes. */
    dp_buf b;
    dp_buf_init(&b);
    const uint8_t hdr[] = {0x80, 0x01, 4, 4, 10, 0, 1, 0, 0, 0, 0x02, 0, 0, 0};
    T_OK(dp_buf_append(&b, hdr, sizeof hdr));
    T_OK(dp_buf_append(&b, "HelloWorldFoobarABCDEF", 22));
    uint8_t *vals[4] = {(uint8_t *) "Hello", (uint8_t *) "World", (uint8_t *) "Foobar",
                        (uint8_t *) "ABCDEF"};
    size_t lens[4] = {5, 5, 6, 6};
    check_byte_arrays(dp_pq_delta_length_byte_array_decode, &b, b.size, vals, lens, 4, true);
    dp_buf_reset(&b);
}

DP_TEST(enc_delta_byte_array_spec_example) {
    /* "axis", "axle", "babble", "babyhood": prefixes 0 2 0 3 (first 0; deltas 2 -2 3; min -2;
     * relative 4 0 5 at width 3 = 0x44 0x01), suffix lengths 4 2 6 5 (first 4; deltas -2 4 -1;
     * relative 0 6 1 at width 3 = 0x70 0x00), then "axislebabbleyhood". */
    dp_buf b;
    dp_buf_init(&b);
    uint8_t pre[5 + 1 + 4 + 12] = {0x80, 0x01, 4, 4, 0, 3, 3, 0, 0, 0, 0x44, 0x01};
    uint8_t suf[5 + 1 + 4 + 12] = {0x80, 0x01, 4, 4, 8, 3, 3, 0, 0, 0, 0x70, 0x00};
    T_OK(dp_buf_append(&b, pre, sizeof pre));
    T_OK(dp_buf_append(&b, suf, sizeof suf));
    T_OK(dp_buf_append(&b, "axislebabbleyhood", 17));
    uint8_t *vals[4] = {(uint8_t *) "axis", (uint8_t *) "axle", (uint8_t *) "babble",
                        (uint8_t *) "babyhood"};
    size_t lens[4] = {4, 4, 6, 8};
    check_byte_arrays(dp_pq_delta_byte_array_decode, &b, b.size, vals, lens, 4, true);
    /* Prefix longer than the previous value: relative prefix deltas 7 0 5 give prefix lengths
     * 0 5 3 6, and "axle" cannot take 5 bytes of the 4-byte "axis". */
    b.data[10] = 0x47;
    dp_buf heap;
    dp_buf_init(&heap);
    int64_t off[5];
    dp_error err;
    DP_ASSERT_STATUS(dp_pq_delta_byte_array_decode(b.data, b.size, 4, off, &heap, NULL, &err),
                     DP_CORRUPT);
    DP_ASSERT_CONTAINS(err.msg, "value 1 has prefix length 5, the previous value is 4 bytes");
    /* Direct: first value with a non-zero prefix. */
    dp_buf_reset(&b);
    dp_buf_init(&b);
    uint8_t bad[] = {0x80, 0x01, 4, 1, 2, 0x80, 0x01, 4, 1, 2, 'a'};
    DP_ASSERT_STATUS(dp_pq_delta_byte_array_decode(bad, sizeof bad, 1, off, &heap, NULL, &err),
                     DP_CORRUPT);
    DP_ASSERT_CONTAINS(err.msg, "prefix length 1");
    DP_ASSERT_EQ_INT(heap.size, 0);
    dp_buf_reset(&heap);
}

DP_TEST(enc_delta_byte_arrays_random) {
    dp_rng r;
    dp_rng_seed(&r, 91);
    for (int iter = 0; iter < 120; iter++) {
        size_t n = (size_t) dp_rng_below(&r, iter < 60 ? 10 : 700);
        uint8_t **vals;
        size_t *lens;
        gen_strings(&r, n, &vals, &lens, true);
        dp_buf b;
        dp_buf_init(&b);
        naive_dlba_encode(&r, vals, lens, n, &b);
        size_t len = b.size;
        put_byte(&b, 0x33);
        check_byte_arrays(dp_pq_delta_length_byte_array_decode, &b, len, vals, lens, n, iter < 60);
        dp_buf_reset(&b);
        naive_dba_encode(&r, vals, lens, n, &b);
        len = b.size;
        put_byte(&b, 0x33);
        check_byte_arrays(dp_pq_delta_byte_array_decode, &b, len, vals, lens, n, iter < 60);
        dp_buf_reset(&b);
        free_strings(vals, lens, n);
    }
}

DP_TEST(enc_delta_byte_array_errors) {
    dp_buf b, heap;
    dp_buf_init(&b);
    dp_buf_init(&heap);
    int64_t off[4];
    dp_error err;
    /* DLBA: a negative length (INT32 -1 as first value). */
    const uint8_t neg[] = {0x80, 0x01, 4, 1, 1};
    DP_ASSERT_STATUS(
        dp_pq_delta_length_byte_array_decode(neg, sizeof neg, 1, off, &heap, NULL, &err),
        DP_CORRUPT);
    /* DLBA: lengths fine, bytes missing. */
    const uint8_t shortb[] = {0x80, 0x01, 4, 1, 10, 'a', 'b'};
    DP_ASSERT_STATUS(
        dp_pq_delta_length_byte_array_decode(shortb, sizeof shortb, 1, off, &heap, NULL, &err),
        DP_TRUNCATED);
    /* DBA: a legal expansion past the page limit: one 1 MiB value, then 1099 values that repeat
     * it whole (prefix 2^20, empty suffix), described by < 1 KiB of lengths. Refused before
     * allocating, with the heap untouched. */
    const size_t big = (size_t) 1 << 20, nv = 1100;
    uint64_t *pre = dp_calloc(nv, 8), *suf = dp_calloc(nv, 8);
    for (size_t i = 1; i < nv; i++)
        pre[i] = big;
    suf[0] = big;
    naive_dbp_encode(NULL, pre, nv, (dbp_opts){128, 4, false, true}, &b);
    naive_dbp_encode(NULL, suf, nv, (dbp_opts){128, 4, false, true}, &b);
    DP_ASSERT_CMP_INT(b.size, <, 1024);
    dp_free(pre);
    dp_free(suf);
    size_t at = b.size;
    T_OK(dp_buf_resize(&b, at + big));
    memset(b.data + at, 'q', big);
    int64_t *offs = dp_mallocarray(nv + 1, 8);
    DP_ASSERT_STATUS(
        dp_pq_delta_byte_array_decode(b.data, b.size, (int64_t) nv, offs, &heap, NULL, &err),
        DP_LIMIT);
    DP_ASSERT_CONTAINS(err.msg, "page limit");
    DP_ASSERT_EQ_INT(heap.size, 0);
    DP_ASSERT_EQ_INT(heap.capacity, 0);
    /* The first 40 of them are fine (40 MiB). */
    ASSERT_OK(dp_pq_delta_byte_array_decode(b.data, b.size, 40, offs, &heap, NULL, &err), &err);
    DP_ASSERT_EQ_INT(heap.size, 40 * big);
    DP_ASSERT_EQ_INT(heap.data[39 * big + 12345], 'q');
    dp_free(offs);
    dp_buf_reset(&b);
    dp_buf_reset(&heap);
}

/* ---------------------------------------------------------------- BYTE_STREAM_SPLIT */

DP_TEST(enc_bss_spec_example) {
    const uint8_t enc[] = {0xAA, 0x00, 0xA3, 0xBB, 0x11, 0xB4, 0xCC, 0x22, 0xC5, 0xDD, 0x33, 0xD6};
    const uint8_t want[] = {0xAA, 0xBB, 0xCC, 0xDD, 0x00, 0x11, 0x22, 0x33, 0xA3, 0xB4, 0xC5, 0xD6};
    uint8_t out[12];
    ASSERT_OK(dp_pq_bss_decode(enc, 12, 4, 3, 3, out, NULL), NULL);
    DP_ASSERT_MEMEQ(out, want, 12);
}

DP_TEST(enc_bss_all_widths) {
    dp_rng r;
    dp_rng_seed(&r, 101);
    const size_t widths[] = {1, 2, 3, 4, 5, 7, 8, 12, 16, 32, 100};
    for (size_t wi = 0; wi < DP_ARRAY_LEN(widths); wi++) {
        for (int iter = 0; iter < 12; iter++) {
            size_t w = widths[wi];
            size_t n = (size_t) dp_rng_below(&r, iter < 6 ? 40 : 3000);
            size_t count = n == 0 ? 0 : (iter % 3 == 0 ? (size_t) dp_rng_below(&r, n + 1) : n);
            uint8_t *vals = dp_malloc(n * w + 1), *enc = dp_malloc(n * w + 1);
            for (size_t i = 0; i < n * w; i++)
                vals[i] = (uint8_t) dp_rng_next(&r);
            for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < w; k++)
                    enc[k * n + i] = vals[i * w + k];
            uint8_t *in = exact_copy(enc, n * w);
            uint8_t *out = alloc_out(count, w);
            dp_error err;
            ASSERT_OK(dp_pq_bss_decode(in, n * w, w, (int64_t) n, (int64_t) count, out, &err),
                      &err);
            DP_ASSERT_MEMEQ(out, vals, count * w);
            check_sentinel(out, count, w);
            if (n > 0) {
                DP_ASSERT_STATUS(
                    dp_pq_bss_decode(in, n * w - 1, w, (int64_t) n, (int64_t) count, out, &err),
                    DP_TRUNCATED);
                DP_ASSERT_STATUS(
                    dp_pq_bss_decode(in, n * w, w, (int64_t) n - 1, (int64_t) n - 1, out, &err),
                    DP_CORRUPT);
            }
            DP_ASSERT_STATUS(
                dp_pq_bss_decode(in, n * w, w, (int64_t) n, (int64_t) n + 1, out, &err),
                DP_INVALID_ARG);
            check_sentinel(out, count, w);
            dp_free(out);
            dp_free(in);
            dp_free(enc);
            dp_free(vals);
        }
    }
    /* n_total * width overflowing. */
    uint8_t o[8];
    DP_ASSERT_STATUS(dp_pq_bss_decode(o, 8, 1u << 20, INT64_MAX / 4, 1, o, NULL), DP_TRUNCATED);
}

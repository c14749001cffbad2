/* BYTE_STREAM_SPLIT: `width` byte streams of n_total bytes each; value i is byte i of every
 * stream. Decoding is a transpose. Widths 4 and 8 (FLOAT/INT32, DOUBLE/INT64) use SSE2 byte
 * interleaves where available (16 values per step, every load and store a full vector); other
 * widths transpose in blocks small enough that the scattered writes stay in L1.
 * Spec: parquet-format Encodings.md "Byte Stream Split". */
#include "parquet/pq_encoding.h"

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static void bss_generic(const uint8_t *in, size_t width, size_t stride, size_t count,
                        uint8_t *out) {
    size_t block = width <= 64 ? 256 : 16;
    for (size_t base = 0; base < count; base += block) {
        size_t nb = count - base < block ? count - base : block;
        for (size_t k = 0; k < width; k++) {
            const uint8_t *s = in + k * stride + base;
            uint8_t *o = out + base * width + k;
            for (size_t i = 0; i < nb; i++)
                o[i * width] = s[i];
        }
    }
}

static void bss4(const uint8_t *in, size_t stride, size_t count, uint8_t *out) {
    const uint8_t *s0 = in, *s1 = in + stride, *s2 = in + 2 * stride, *s3 = in + 3 * stride;
    size_t i = 0;
#if defined(__SSE2__)
    for (; i + 16 <= count; i += 16) {
        __m128i a0 = _mm_loadu_si128((const __m128i *) (s0 + i));
        __m128i a1 = _mm_loadu_si128((const __m128i *) (s1 + i));
        __m128i a2 = _mm_loadu_si128((const __m128i *) (s2 + i));
        __m128i a3 = _mm_loadu_si128((const __m128i *) (s3 + i));
        __m128i t0 = _mm_unpacklo_epi8(a0, a1), t1 = _mm_unpackhi_epi8(a0, a1);
        __m128i t2 = _mm_unpacklo_epi8(a2, a3), t3 = _mm_unpackhi_epi8(a2, a3);
        __m128i *o = (__m128i *) (out + 4 * i);
        _mm_storeu_si128(o + 0, _mm_unpacklo_epi16(t0, t2));
        _mm_storeu_si128(o + 1, _mm_unpackhi_epi16(t0, t2));
        _mm_storeu_si128(o + 2, _mm_unpacklo_epi16(t1, t3));
        _mm_storeu_si128(o + 3, _mm_unpackhi_epi16(t1, t3));
    }
#endif
    for (; i < count; i++) {
        uint8_t v[4] = {s0[i], s1[i], s2[i], s3[i]};
        memcpy(out + 4 * i, v, 4);
    }
}

static void bss8(const uint8_t *in, size_t stride, size_t count, uint8_t *out) {
    const uint8_t *s[8];
    for (int k = 0; k < 8; k++)
        s[k] = in + (size_t) k * stride;
    size_t i = 0;
#if defined(__SSE2__)
    for (; i + 16 <= count; i += 16) {
        __m128i a0 = _mm_loadu_si128((const __m128i *) (s[0] + i));
        __m128i a1 = _mm_loadu_si128((const __m128i *) (s[1] + i));
        __m128i a2 = _mm_loadu_si128((const __m128i *) (s[2] + i));
        __m128i a3 = _mm_loadu_si128((const __m128i *) (s[3] + i));
        __m128i a4 = _mm_loadu_si128((const __m128i *) (s[4] + i));
        __m128i a5 = _mm_loadu_si128((const __m128i *) (s[5] + i));
        __m128i a6 = _mm_loadu_si128((const __m128i *) (s[6] + i));
        __m128i a7 = _mm_loadu_si128((const __m128i *) (s[7] + i));
        /* bytes (0,1), (2,3), (4,5), (6,7) paired, for values 0..7 (lo) and 8..15 (hi) */
        __m128i t0 = _mm_unpacklo_epi8(a0, a1), t1 = _mm_unpackhi_epi8(a0, a1);
        __m128i t2 = _mm_unpacklo_epi8(a2, a3), t3 = _mm_unpackhi_epi8(a2, a3);
        __m128i t4 = _mm_unpacklo_epi8(a4, a5), t5 = _mm_unpackhi_epi8(a4, a5);
        __m128i t6 = _mm_unpacklo_epi8(a6, a7), t7 = _mm_unpackhi_epi8(a6, a7);
        /* bytes 0..3 and 4..7, four values per register */
        __m128i u0 = _mm_unpacklo_epi16(t0, t2), u1 = _mm_unpackhi_epi16(t0, t2);
        __m128i u2 = _mm_unpacklo_epi16(t1, t3), u3 = _mm_unpackhi_epi16(t1, t3);
        __m128i u4 = _mm_unpacklo_epi16(t4, t6), u5 = _mm_unpackhi_epi16(t4, t6);
        __m128i u6 = _mm_unpacklo_epi16(t5, t7), u7 = _mm_unpackhi_epi16(t5, t7);
        __m128i *o = (__m128i *) (out + 8 * i);
        _mm_storeu_si128(o + 0, _mm_unpacklo_epi32(u0, u4));
        _mm_storeu_si128(o + 1, _mm_unpackhi_epi32(u0, u4));
        _mm_storeu_si128(o + 2, _mm_unpacklo_epi32(u1, u5));
        _mm_storeu_si128(o + 3, _mm_unpackhi_epi32(u1, u5));
        _mm_storeu_si128(o + 4, _mm_unpacklo_epi32(u2, u6));
        _mm_storeu_si128(o + 5, _mm_unpackhi_epi32(u2, u6));
        _mm_storeu_si128(o + 6, _mm_unpacklo_epi32(u3, u7));
        _mm_storeu_si128(o + 7, _mm_unpackhi_epi32(u3, u7));
    }
#endif
    for (; i < count; i++) {
        uint8_t v[8];
        for (int k = 0; k < 8; k++)
            v[k] = s[k][i];
        memcpy(out + 8 * i, v, 8);
    }
}

dp_status dp_pq_bss_decode(const uint8_t *data, size_t len, size_t width, int64_t n_total,
                           int64_t count, void *out, dp_error *err) {
    if (width == 0 || n_total < 0 || count < 0 || count > n_total)
        return dp_error_set(err, DP_INVALID_ARG,
                            "BYTE_STREAM_SPLIT: width %zu, %lld values wanted of %lld", width,
                            (long long) count, (long long) n_total);
    size_t need;
    if (!dp_mul_size(width, (size_t) n_total, &need) || need > len)
        return dp_error_set(err, DP_TRUNCATED,
                            "BYTE_STREAM_SPLIT: %lld values of %zu bytes need more than the %zu "
                            "bytes present",
                            (long long) n_total, width, len);
    /* The streams' length is inferred from the page size by other readers: a mismatch would
     * make them disagree with us about where each stream starts. */
    if (need != len)
        return dp_error_set(err, DP_CORRUPT,
                            "BYTE_STREAM_SPLIT: %zu bytes for %lld values of %zu bytes (expected "
                            "%zu)",
                            len, (long long) n_total, width, need);
    size_t n = (size_t) n_total, c = (size_t) count;
    if (c == 0)
        return DP_OK;
    if (width == 4)
        bss4(data, n, c, out);
    else if (width == 8)
        bss8(data, n, c, out);
    else if (width == 1)
        memcpy(out, data, c);
    else
        bss_generic(data, width, n, c, out);
    return DP_OK;
}

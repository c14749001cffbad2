/* PLAIN decoding: fixed-width values (a bounds-checked memcpy), BOOLEAN (bit-packed LSB first)
 * and BYTE_ARRAY (u32 little-endian length + bytes). Spec: parquet-format Encodings.md "Plain". */
#include "parquet/pq_encoding.h"
#include "util/dp_cursor.h"
#include "util/dp_limits.h"

#include <string.h>

dp_status dp_pq_plain_fixed_decode(const uint8_t *data, size_t len, size_t width, int64_t count,
                                   void *out, size_t *consumed, dp_error *err) {
    if (count < 0)
        return dp_error_set(err, DP_INVALID_ARG, "PLAIN: negative count %lld", (long long) count);
    size_t need;
    if (!dp_mul_size(width, (size_t) count, &need) || need > len)
        return dp_error_set(err, DP_TRUNCATED,
                            "PLAIN: %lld values of %zu bytes need more than the %zu bytes left",
                            (long long) count, width, len);
    if (need > 0)
        memcpy(out, data, need);
    if (consumed)
        *consumed = need;
    return DP_OK;
}

/* Byte b's bits 0..7 become bytes 0..7 (value 0 or 1) of the result, by spreading the bits in
 * three halving steps. */
static uint64_t spread_bits(uint8_t b) {
    uint64_t t = b;
    t = (t | t << 28) & 0x0000000F0000000FULL;
    t = (t | t << 14) & 0x0003000300030003ULL;
    t = (t | t << 7) & 0x0101010101010101ULL;
    return t;
}

dp_status dp_pq_plain_bool_decode(const uint8_t *data, size_t len, int64_t count, uint8_t *out,
                                  size_t *consumed, dp_error *err) {
    if (count < 0)
        return dp_error_set(err, DP_INVALID_ARG, "PLAIN BOOLEAN: negative count %lld",
                            (long long) count);
    uint64_t need = (uint64_t) count / 8 + ((uint64_t) count % 8 != 0);
    if (need > len)
        return dp_error_set(err, DP_TRUNCATED,
                            "PLAIN BOOLEAN: %lld values need %llu bytes, %zu left",
                            (long long) count, (unsigned long long) need, len);
    size_t full = (size_t) count / 8;
    for (size_t i = 0; i < full; i++) {
        uint64_t t = spread_bits(data[i]);
        memcpy(out + 8 * i, &t, 8);
    }
    size_t rest = (size_t) count % 8;
    if (rest) {
        uint64_t t = spread_bits(data[full]);
        memcpy(out + 8 * full, &t, rest); /* little-endian: byte k holds bit k */
    }
    if (consumed)
        *consumed = (size_t) need;
    return DP_OK;
}

dp_status dp_pq_plain_byte_array_decode(const uint8_t *data, size_t len, int64_t count,
                                        int64_t *offsets, dp_buf *heap, size_t *consumed,
                                        dp_error *err) {
    if (count < 0)
        return dp_error_set(err, DP_INVALID_ARG, "PLAIN BYTE_ARRAY: negative count %lld",
                            (long long) count);
    /* Every value costs at least its 4-byte length: refuse a count the bytes cannot hold before
     * writing anything. */
    if ((uint64_t) count > len / 4)
        return dp_error_set(err, DP_TRUNCATED,
                            "PLAIN BYTE_ARRAY: %lld values need at least %llu bytes, %zu left",
                            (long long) count, (unsigned long long) count * 4, len);
    const size_t entry = heap->size;
    /* The strings total at most len - 4*count bytes: one reservation, then a single pass. */
    size_t room;
    if (!dp_add_size(entry, len - (size_t) count * 4, &room))
        return dp_error_set(err, DP_LIMIT, "PLAIN BYTE_ARRAY: heap size overflows");
    if (dp_buf_reserve(heap, room) != DP_OK)
        return dp_error_set(err, DP_NOMEM, "PLAIN BYTE_ARRAY: cannot grow string heap to %zu bytes",
                            room);
    size_t pos = 0, h = entry;
    size_t n = (size_t) count;
    for (size_t i = 0; i < n; i++) {
        offsets[i] = (int64_t) h;
        /* Invariant: len - pos >= 4 * (n - i), so the length is readable. The value must also
         * leave 4 bytes for each later length, or the heap reservation would not hold it. */
        uint32_t l = dp_load_u32le(data + pos);
        if (l > len - pos - 4 * (n - i))
            return dp_error_set(err, DP_TRUNCATED,
                                "PLAIN BYTE_ARRAY: value %zu of %lld at byte %zu runs past the end "
                                "(%zu bytes)",
                                i, (long long) count, pos, len);
        if ((int64_t) l > DP_LIMIT_STRING_MAX)
            return dp_error_set(err, DP_LIMIT,
                                "PLAIN BYTE_ARRAY: value %zu is %u bytes, above the limit of %lld",
                                i, l, (long long) DP_LIMIT_STRING_MAX);
        if (l > 0)
            memcpy(heap->data + h, data + pos + 4, l);
        h += l;
        pos += 4 + (size_t) l;
    }
    offsets[n] = (int64_t) h;
    heap->size = h;
    if (consumed)
        *consumed = pos;
    return DP_OK;
}

/* RLE / bit-packed hybrid (levels, dictionary indices, RLE booleans), the deprecated MSB-first
 * BIT_PACKED level encoding, dictionary index pages and the hybrid encoder.
 * Spec: parquet-format Encodings.md, "Run Length Encoding / Bit-Packing Hybrid" and "Bit-packed
 * (Deprecated)". */
#include "parquet/pq_bitpack.h"
#include "parquet/pq_encoding.h"
#include "util/dp_alloc.h"
#include "util/dp_cursor.h"

#include <string.h>

/* Spec: run lengths lie in [1, 2^31 - 1]; a bit-packed header counts groups of 8. */
#define DP__RUN_MAX           ((uint64_t) INT32_MAX)
#define DP__PACKED_GROUPS_MAX (DP__RUN_MAX / 8)

/* Filling a run: gcc -O2 does not vectorise a plain store loop (its "very cheap" cost model
 * refuses loops that need an epilogue), so store 32-byte blocks through fixed-size memcpy, which
 * compiles to vector stores; zero runs (the common null/level case) become memset. */
static void fill_u32(uint32_t *out, size_t n, uint32_t v) {
    if (v == 0) {
        memset(out, 0, n * sizeof *out);
        return;
    }
    const uint32_t blk[8] = {v, v, v, v, v, v, v, v};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        memcpy(out + i, blk, sizeof blk);
    for (; i < n; i++)
        out[i] = v;
}

dp_status dp_pq_rle_decode(const uint8_t *data, size_t len, int bit_width, uint32_t *out,
                           int64_t count, size_t *consumed, dp_error *err) {
    if (bit_width < 0 || bit_width > 32)
        return dp_error_set(err, DP_CORRUPT, "RLE/bit-packed hybrid: bit width %d outside 0..32",
                            bit_width);
    if (count < 0)
        return dp_error_set(err, DP_INVALID_ARG, "RLE/bit-packed hybrid: negative count %lld",
                            (long long) count);
    const size_t bw = (size_t) bit_width;
    const size_t vbytes = (bw + 7) / 8;
    const uint64_t vmax = bw == 32 ? UINT32_MAX : ((uint64_t) 1 << bw) - 1;
    size_t pos = 0;
    uint64_t done = 0, want = (uint64_t) count;
    while (done < want) {
        size_t hdr_at = pos;
        uint64_t h;
        int rc = dp__pq_read_uleb(data, len, &pos, &h);
        if (rc != 0)
            return dp_error_set(err, rc == 1 ? DP_TRUNCATED : DP_CORRUPT,
                                "RLE/bit-packed hybrid (bit width %d): %s at byte %zu of %zu after "
                                "%llu of %lld values",
                                bit_width,
                                rc == 2         ? "over-long run header"
                                : hdr_at == len ? "data ends"
                                                : "run header cut off",
                                hdr_at, len, (unsigned long long) done, (long long) count);
        uint64_t left = want - done;
        if (h & 1) {
            uint64_t groups = h >> 1;
            if (groups == 0 || groups > DP__PACKED_GROUPS_MAX)
                return dp_error_set(err, DP_CORRUPT,
                                    "RLE/bit-packed hybrid (bit width %d): bit-packed run of %llu "
                                    "groups at byte %zu (allowed 1..%llu)",
                                    bit_width, (unsigned long long) groups, hdr_at,
                                    (unsigned long long) DP__PACKED_GROUPS_MAX);
            uint64_t nvals = groups * 8;
            uint64_t take = nvals < left ? nvals : left;
            uint64_t run_bytes = groups * bw;
            size_t avail = len - pos;
            if (run_bytes > avail) {
                /* Some writers cut the padding of the last group; accept it only when the values
                 * actually needed are all there. */
                uint64_t need_bytes = (take * bw + 7) / 8;
                if (need_bytes > avail)
                    return dp_error_set(err, DP_TRUNCATED,
                                        "RLE/bit-packed hybrid (bit width %d): bit-packed run at "
                                        "byte %zu needs %llu bytes for %llu values, %zu left",
                                        bit_width, hdr_at, (unsigned long long) need_bytes,
                                        (unsigned long long) take, avail);
                run_bytes = avail;
            }
            dp__pq_unpack32(data + pos, avail, bit_width, out + done, (size_t) take);
            pos += (size_t) run_bytes;
            done += take;
        } else {
            uint64_t n = h >> 1;
            if (n == 0 || n > DP__RUN_MAX)
                return dp_error_set(err, DP_CORRUPT,
                                    "RLE/bit-packed hybrid (bit width %d): RLE run of %llu values "
                                    "at byte %zu (allowed 1..%llu)",
                                    bit_width, (unsigned long long) n, hdr_at,
                                    (unsigned long long) DP__RUN_MAX);
            if (len - pos < vbytes)
                return dp_error_set(err, DP_TRUNCATED,
                                    "RLE/bit-packed hybrid (bit width %d): RLE run value at byte "
                                    "%zu needs %zu bytes, %zu left",
                                    bit_width, pos, vbytes, len - pos);
            uint64_t v = 0;
            for (size_t i = 0; i < vbytes; i++)
                v |= (uint64_t) data[pos + i] << (8 * i);
            if (v > vmax)
                return dp_error_set(err, DP_CORRUPT,
                                    "RLE/bit-packed hybrid (bit width %d): RLE run value %llu at "
                                    "byte %zu does not fit the bit width",
                                    bit_width, (unsigned long long) v, pos);
            pos += vbytes;
            uint64_t take = n < left ? n : left;
            fill_u32(out + done, (size_t) take, (uint32_t) v);
            done += take;
        }
    }
    if (consumed)
        *consumed = pos;
    return DP_OK;
}

static uint64_t load_be64(const uint8_t *p) {
    uint64_t v = dp_load_u64le(p);
    return __builtin_bswap64(v);
}

dp_status dp_pq_bitpacked_legacy_decode(const uint8_t *data, size_t len, int bit_width,
                                        uint32_t *out, int64_t count, size_t *consumed,
                                        dp_error *err) {
    if (bit_width < 0 || bit_width > 32)
        return dp_error_set(err, DP_CORRUPT, "BIT_PACKED levels: bit width %d outside 0..32",
                            bit_width);
    if (count < 0)
        return dp_error_set(err, DP_INVALID_ARG, "BIT_PACKED levels: negative count %lld",
                            (long long) count);
    const unsigned bw = (unsigned) bit_width;
    /* count < 2^63 and bw <= 32: the product fits in 64 bits only below 2^58 values. */
    uint64_t bits;
    if (__builtin_mul_overflow((uint64_t) count, (uint64_t) bw, &bits) || bits > UINT64_MAX - 7)
        return dp_error_set(err, DP_TRUNCATED, "BIT_PACKED levels: %lld values of %d bits",
                            (long long) count, bit_width);
    uint64_t need = (bits + 7) / 8;
    if (need > len)
        return dp_error_set(err, DP_TRUNCATED,
                            "BIT_PACKED levels: %lld values of %d bits need %llu bytes, %zu left",
                            (long long) count, bit_width, (unsigned long long) need, len);
    if (bw == 0) {
        memset(out, 0, (size_t) count * sizeof *out);
    } else {
        /* Values are packed from the most significant bit: a big-endian 64-bit window at the
         * value's first byte holds it whole (shift <= 7, bw <= 32). The tail, where fewer than 8
         * bytes remain, reads through a zero-padded copy. */
        size_t n = (size_t) count, i = 0;
        uint64_t bit = 0;
        for (; i < n; i++, bit += bw) {
            size_t byte = (size_t) (bit >> 3);
            if (byte + 8 > len)
                break;
            out[i] = (uint32_t) ((load_be64(data + byte) << (bit & 7)) >> (64 - bw));
        }
        if (i < n) {
            size_t base = (size_t) (bit >> 3);
            uint8_t buf[16] = {0};
            /* Every remaining value starts in the last (< 8) bytes, so its window fits. */
            memcpy(buf, data + base, len - base);
            for (; i < n; i++, bit += bw) {
                size_t byte = (size_t) (bit >> 3) - base;
                out[i] = (uint32_t) ((load_be64(buf + byte) << (bit & 7)) >> (64 - bw));
            }
        }
    }
    if (consumed)
        *consumed = (size_t) need;
    return DP_OK;
}

dp_status dp_pq_dict_indices_decode(const uint8_t *data, size_t len, uint32_t *out, int64_t count,
                                    dp_error *err) {
    if (count == 0)
        return DP_OK;
    if (len < 1)
        return dp_error_set(err, DP_TRUNCATED,
                            "dictionary indices: empty data for %lld values (no bit width byte)",
                            (long long) count);
    if (data[0] > 32)
        return dp_error_set(err, DP_CORRUPT, "dictionary indices: bit width %d above 32", data[0]);
    return dp_pq_rle_decode(data + 1, len - 1, data[0], out, count, NULL, err);
}

/* ---- encoder ---- */

static dp_status put_rle_run(dp_buf *out, uint32_t value, uint64_t n, int bw) {
    while (n > 0) {
        uint64_t take = n < DP__RUN_MAX ? n : DP__RUN_MAX;
        DP_TRY(dp__pq_put_uleb(out, take << 1));
        uint8_t v[4];
        size_t vbytes = ((size_t) bw + 7) / 8;
        for (size_t i = 0; i < vbytes; i++)
            v[i] = (uint8_t) (value >> (8 * i));
        DP_TRY(dp_buf_append(out, v, vbytes));
        n -= take;
    }
    return DP_OK;
}

/* n values as bit-packed runs; only the last run of the stream may be a partial group (the
 * caller passes multiples of 8 elsewhere), padded with zeros. */
static dp_status put_packed(dp_buf *out, const uint32_t *values, uint64_t n, int bw) {
    while (n > 0) {
        uint64_t groups = (n + 7) / 8;
        if (groups > DP__PACKED_GROUPS_MAX)
            groups = DP__PACKED_GROUPS_MAX;
        uint64_t take = groups * 8 < n ? groups * 8 : n;
        DP_TRY(dp__pq_put_uleb(out, groups << 1 | 1));
        size_t at = out->size;
        DP_TRY(dp_buf_resize(out, at + (size_t) (groups * (uint64_t) bw)));
        uint64_t full = take / 8 * 8;
        dp__pq_pack32(values, (size_t) full, bw, out->data + at);
        if (full < take) {
            uint32_t last[8] = {0};
            memcpy(last, values + full, (size_t) (take - full) * sizeof *last);
            dp__pq_pack32(last, 8, bw, out->data + at + full / 8 * (uint64_t) bw);
        }
        values += take;
        n -= take;
    }
    return DP_OK;
}

dp_status dp_pq_rle_encode(const uint32_t *values, int64_t count, int bit_width, dp_buf *out) {
    if (bit_width < 0 || bit_width > 32 || count < 0)
        return DP_INVALID_ARG;
    uint64_t vmax = bit_width == 32 ? UINT32_MAX : ((uint64_t) 1 << bit_width) - 1;
    for (int64_t i = 0; i < count; i++)
        if (values[i] > vmax)
            return DP_INVALID_ARG;
    int64_t i = 0, lit = 0;
    while (i < count) {
        int64_t r = 1;
        while (i + r < count && values[i + r] == values[i])
            r++;
        /* A bit-packed run must hold a multiple of 8 values unless it ends the stream: borrow
         * the first values of this repeat to round the pending literals up. */
        int64_t pend = i - lit, pad = (8 - pend % 8) % 8;
        if (r - pad >= 8) {
            if (pend + pad > 0)
                DP_TRY(put_packed(out, values + lit, (uint64_t) (pend + pad), bit_width));
            DP_TRY(put_rle_run(out, values[i], (uint64_t) (r - pad), bit_width));
            lit = i + r;
        }
        i += r;
    }
    if (lit < count)
        DP_TRY(put_packed(out, values + lit, (uint64_t) (count - lit), bit_width));
    return DP_OK;
}

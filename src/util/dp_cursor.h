/* dp_cursor.h: bounds-checked little-endian reading of untrusted bytes.
 *
 * A cursor borrows [p, end); it never reads outside it. Every read returns false when not enough
 * bytes remain (the caller maps that to DP_TRUNCATED/DP_CORRUPT with context) and leaves the
 * cursor unchanged in that case. Values are little-endian as in Parquet.
 * Thread safety: a cursor is a plain value; one thread at a time.
 */
#ifndef DP_UTIL_CURSOR_H
#define DP_UTIL_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct dp_cursor {
    const uint8_t *p;
    const uint8_t *end;
    const uint8_t *start; /* for offsets in messages */
} dp_cursor;

static inline void dp_cursor_init(dp_cursor *c, const void *data, size_t len) {
    c->start = c->p = (const uint8_t *) data;
    /* An empty range may come as (NULL, 0); NULL + 0 is undefined behaviour in C. */
    c->end = len > 0 ? c->p + len : c->p;
}

static inline size_t dp_cursor_remaining(const dp_cursor *c) {
    return (size_t) (c->end - c->p);
}

static inline size_t dp_cursor_offset(const dp_cursor *c) {
    return (size_t) (c->p - c->start);
}

static inline bool dp_cursor_skip(dp_cursor *c, size_t n) {
    if (dp_cursor_remaining(c) < n)
        return false;
    c->p += n;
    return true;
}

/* Borrow n bytes: *out points into the cursor's buffer. */
static inline bool dp_cursor_bytes(dp_cursor *c, size_t n, const uint8_t **out) {
    if (dp_cursor_remaining(c) < n)
        return false;
    *out = c->p;
    c->p += n;
    return true;
}

static inline bool dp_cursor_u8(dp_cursor *c, uint8_t *out) {
    if (c->p >= c->end)
        return false;
    *out = *c->p++;
    return true;
}

static inline bool dp_cursor_u32le(dp_cursor *c, uint32_t *out) {
    if (dp_cursor_remaining(c) < 4)
        return false;
    *out = (uint32_t) c->p[0] | (uint32_t) c->p[1] << 8 | (uint32_t) c->p[2] << 16 |
           (uint32_t) c->p[3] << 24;
    c->p += 4;
    return true;
}

static inline bool dp_cursor_u64le(dp_cursor *c, uint64_t *out) {
    if (dp_cursor_remaining(c) < 8)
        return false;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | c->p[i];
    *out = v;
    c->p += 8;
    return true;
}

/* Unsigned LEB128 (Thrift compact varint, Parquet RLE headers): at most 10 bytes; a 10th byte
 * with bits beyond 64 is rejected. */
static inline bool dp_cursor_uleb128(dp_cursor *c, uint64_t *out) {
    uint64_t v = 0;
    const uint8_t *p = c->p;
    for (int shift = 0; shift < 64; shift += 7) {
        if (p >= c->end)
            return false;
        uint8_t b = *p++;
        if (shift == 63 && (b & 0x7e) != 0)
            return false;
        v |= (uint64_t) (b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            c->p = p;
            *out = v;
            return true;
        }
    }
    return false;
}

static inline int64_t dp_zigzag_decode(uint64_t v) {
    return (int64_t) (v >> 1) ^ -(int64_t) (v & 1);
}

static inline uint64_t dp_zigzag_encode(int64_t v) {
    return ((uint64_t) v << 1) ^ (uint64_t) (v >> 63);
}

/* Unaligned little-endian loads from memory already known to be in bounds. */
static inline uint32_t dp_load_u32le(const void *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v; /* dpipe targets little-endian hosts; see CMake check */
}
static inline uint64_t dp_load_u64le(const void *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

#endif

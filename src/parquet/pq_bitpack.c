/* Bit-unpacking kernels: one function per width, each unpacking whole groups of 8 values with
 * compile-time shifts and masks (the width is a literal in every expansion of the macros below),
 * so the hot loops have no per-value branch and no variable shift. Widths that are whole bytes
 * get plain widening loops the compiler vectorises. */
#include "parquet/pq_bitpack.h"
#include "util/dp_base.h"
#include "util/dp_cursor.h"

#include <string.h>

#define DP__MASK64(bw) ((bw) >= 64 ? ~(uint64_t) 0 : (((uint64_t) 1 << ((bw) &63)) - 1))

/* Value i of a group: bit offset i*bw, loaded with one unaligned 64-bit read. For bw <= 32 the
 * value spans at most 7 + 32 bits, so one load always suffices. */
#define DP__V32(in, bw, i)                                                                         \
    (uint32_t)((dp_load_u64le((in) + (i) * (bw) / 8) >> ((i) * (bw) % 8)) & DP__MASK64(bw))

/* For bw up to 64 a value may straddle 9 bytes; the ninth is read only for those (i, bw) pairs
 * where the condition (a constant) is true, and that byte lies inside the group. */
#define DP__V64(in, bw, i)                                                                         \
    (((dp_load_u64le((in) + (i) * (bw) / 8) >> ((i) * (bw) % 8)) |                                 \
      (((i) * (bw) % 8 + (bw) > 64)                                                                \
           ? (uint64_t) (in)[(i) * (bw) / 8 + 8] << ((64 - (i) * (bw) % 8) & 63)                   \
           : 0)) &                                                                                 \
     DP__MASK64(bw))

#define DP__UNPACK_FN(name, T, V, bw)                                                              \
    static void name##bw(const uint8_t *restrict in, T *restrict out, size_t ngroups) {            \
        for (size_t g = 0; g < ngroups; g++, in += (bw), out += 8) {                               \
            out[0] = V(in, bw, 0);                                                                 \
            out[1] = V(in, bw, 1);                                                                 \
            out[2] = V(in, bw, 2);                                                                 \
            out[3] = V(in, bw, 3);                                                                 \
            out[4] = V(in, bw, 4);                                                                 \
            out[5] = V(in, bw, 5);                                                                 \
            out[6] = V(in, bw, 6);                                                                 \
            out[7] = V(in, bw, 7);                                                                 \
        }                                                                                          \
    }

#define DP__GEN32(bw) DP__UNPACK_FN(unpack32_w, uint32_t, DP__V32, bw)
#define DP__GEN64(bw) DP__UNPACK_FN(unpack64_w, uint64_t, DP__V64, bw)

/* Widths that are not whole bytes (or are 24/40/48/56, which still need shifts). The lists
 * are kept out of clang-format, which does not settle on one layout for them. */
// clang-format off
#define DP__GENERIC32(X) \
    X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(9) X(10) X(11) X(12) X(13) \
    X(14) X(15) X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24) X(25) X(26) \
    X(27) X(28) X(29) X(30) X(31)
#define DP__GENERIC64(X) \
    DP__GENERIC32(X) \
    X(33) X(34) X(35) X(36) X(37) X(38) X(39) X(40) X(41) X(42) X(43) X(44) \
    X(45) X(46) X(47) X(48) X(49) X(50) X(51) X(52) X(53) X(54) X(55) X(56) \
    X(57) X(58) X(59) X(60) X(61) X(62) X(63)
// clang-format on

DP__GENERIC32(DP__GEN32)
DP__GENERIC64(DP__GEN64)

static void unpack32_w0(const uint8_t *restrict in, uint32_t *restrict out, size_t ngroups) {
    (void) in;
    memset(out, 0, ngroups * 8 * sizeof *out);
}
static void unpack32_w8(const uint8_t *restrict in, uint32_t *restrict out, size_t ngroups) {
    for (size_t i = 0; i < ngroups * 8; i++)
        out[i] = in[i];
}
static void unpack32_w16(const uint8_t *restrict in, uint32_t *restrict out, size_t ngroups) {
    for (size_t i = 0; i < ngroups * 8; i++)
        out[i] = (uint32_t) in[2 * i] | (uint32_t) in[2 * i + 1] << 8;
}
static void unpack32_w32(const uint8_t *restrict in, uint32_t *restrict out, size_t ngroups) {
    memcpy(out, in, ngroups * 8 * sizeof *out);
}
static void unpack64_w0(const uint8_t *restrict in, uint64_t *restrict out, size_t ngroups) {
    (void) in;
    memset(out, 0, ngroups * 8 * sizeof *out);
}
static void unpack64_w8(const uint8_t *restrict in, uint64_t *restrict out, size_t ngroups) {
    for (size_t i = 0; i < ngroups * 8; i++)
        out[i] = in[i];
}
static void unpack64_w16(const uint8_t *restrict in, uint64_t *restrict out, size_t ngroups) {
    for (size_t i = 0; i < ngroups * 8; i++)
        out[i] = (uint64_t) in[2 * i] | (uint64_t) in[2 * i + 1] << 8;
}
static void unpack64_w32(const uint8_t *restrict in, uint64_t *restrict out, size_t ngroups) {
    for (size_t i = 0; i < ngroups * 8; i++)
        out[i] = dp_load_u32le(in + 4 * i);
}
static void unpack64_w64(const uint8_t *restrict in, uint64_t *restrict out, size_t ngroups) {
    memcpy(out, in, ngroups * 8 * sizeof *out);
}

typedef void (*unpack32_fn)(const uint8_t *restrict, uint32_t *restrict, size_t);
typedef void (*unpack64_fn)(const uint8_t *restrict, uint64_t *restrict, size_t);

#define DP__TAB32(bw) unpack32_w##bw,
#define DP__TAB64(bw) unpack64_w##bw,
// clang-format off
#define DP__ALL32(X) \
    X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) \
    X(12) X(13) X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) \
    X(24) X(25) X(26) X(27) X(28) X(29) X(30) X(31) X(32)
#define DP__ALL64(X) \
    DP__ALL32(X) \
    X(33) X(34) X(35) X(36) X(37) X(38) X(39) X(40) X(41) X(42) X(43) X(44) \
    X(45) X(46) X(47) X(48) X(49) X(50) X(51) X(52) X(53) X(54) X(55) X(56) \
    X(57) X(58) X(59) X(60) X(61) X(62) X(63) X(64)
// clang-format on

static const unpack32_fn unpack32_tab[33] = {DP__ALL32(DP__TAB32)};
static const unpack64_fn unpack64_tab[65] = {DP__ALL64(DP__TAB64)};

/* Whole-byte widths read exactly their group; the others may load up to 8 bytes past it. */
static bool needs_slack(int bw) {
    return (bw & 7) != 0 || bw == 24 || bw == 40 || bw == 48 || bw == 56;
}

/* Number of leading groups that can use the direct kernels without reading past src + avail. */
static size_t fast_groups(size_t avail, int bw, size_t groups) {
    if (!needs_slack(bw))
        return groups;
    size_t lim = avail >= 8 ? (avail - 8) / (size_t) bw : 0;
    return lim < groups ? lim : groups;
}

void dp__pq_unpack32(const uint8_t *src, size_t avail, int bw, uint32_t *out, size_t n) {
    DP_ASSERT(bw >= 0 && bw <= 32);
    size_t fast = fast_groups(avail, bw, n / 8);
    unpack32_tab[bw](src, out, fast);
    size_t done = fast * 8, off = fast * (size_t) bw;
    while (done < n) {
        uint8_t buf[32 + 8] = {0};
        size_t have = avail - off < (size_t) bw ? avail - off : (size_t) bw;
        memcpy(buf, src + off, have);
        uint32_t tmp[8];
        unpack32_tab[bw](buf, tmp, 1);
        size_t k = n - done < 8 ? n - done : 8;
        memcpy(out + done, tmp, k * sizeof *tmp);
        done += k;
        off += (size_t) bw;
    }
}

void dp__pq_unpack64(const uint8_t *src, size_t avail, int bw, uint64_t *out, size_t n) {
    DP_ASSERT(bw >= 0 && bw <= 64);
    size_t fast = fast_groups(avail, bw, n / 8);
    unpack64_tab[bw](src, out, fast);
    size_t done = fast * 8, off = fast * (size_t) bw;
    while (done < n) {
        uint8_t buf[64 + 8] = {0};
        size_t have = avail - off < (size_t) bw ? avail - off : (size_t) bw;
        memcpy(buf, src + off, have);
        uint64_t tmp[8];
        unpack64_tab[bw](buf, tmp, 1);
        size_t k = n - done < 8 ? n - done : 8;
        memcpy(out + done, tmp, k * sizeof *tmp);
        done += k;
        off += (size_t) bw;
    }
}

void dp__pq_pack64(const uint64_t *values, size_t n, int bw, uint8_t *dst) {
    DP_ASSERT(n % 8 == 0 && bw >= 0 && bw <= 64);
    memset(dst, 0, n / 8 * (size_t) bw);
    size_t bit = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t v = values[i];
        for (int b = 0; b < bw;) {
            int s = (int) (bit & 7);
            int take = 8 - s < bw - b ? 8 - s : bw - b;
            dst[bit >> 3] |= (uint8_t) (((v >> b) & ((1u << take) - 1)) << s);
            b += take;
            bit += (size_t) take;
        }
    }
}

void dp__pq_pack32(const uint32_t *values, size_t n, int bw, uint8_t *dst) {
    DP_ASSERT(n % 8 == 0 && bw >= 0 && bw <= 32);
    memset(dst, 0, n / 8 * (size_t) bw);
    size_t bit = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t v = values[i];
        for (int b = 0; b < bw;) {
            int s = (int) (bit & 7);
            int take = 8 - s < bw - b ? 8 - s : bw - b;
            dst[bit >> 3] |= (uint8_t) (((v >> b) & ((1u << take) - 1)) << s);
            b += take;
            bit += (size_t) take;
        }
    }
}

dp_status dp__pq_put_uleb(dp_buf *out, uint64_t v) {
    uint8_t tmp[10];
    size_t n = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        tmp[n++] = (uint8_t) (b | (v ? 0x80 : 0));
    } while (v);
    return dp_buf_append(out, tmp, n);
}

int dp__pq_read_uleb(const uint8_t *data, size_t len, size_t *pos, uint64_t *out) {
    if (*pos >= len)
        return 1;
    dp_cursor c;
    dp_cursor_init(&c, data + *pos, len - *pos);
    if (dp_cursor_uleb128(&c, out)) {
        *pos += dp_cursor_offset(&c);
        return 0;
    }
    /* The cursor refuses both; a varint is truncated when every remaining byte continues it and
     * fewer than 10 bytes remain. */
    size_t rem = len - *pos;
    if (rem >= 10)
        return 2;
    for (size_t i = 0; i < rem; i++)
        if ((data[*pos + i] & 0x80) == 0)
            return 2;
    return 1;
}

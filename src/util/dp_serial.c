#include "util/dp_serial.h"
#include "util/dp_checksum.h"

#include <string.h>

static void dp__put(dp_serial_writer *w, const void *p, size_t n) {
    if (w->failed)
        return;
    if (dp_buf_append(w->out, p, n) != DP_OK)
        w->failed = true;
}

static void dp__put_le(dp_serial_writer *w, uint64_t v, int bytes) {
    uint8_t b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (uint8_t) (v >> (8 * i));
    dp__put(w, b, (size_t) bytes);
}

void dp_sw_begin(dp_serial_writer *w, dp_buf *out, uint32_t magic, uint32_t version) {
    w->out = out;
    w->start = out->size;
    w->failed = false;
    dp__put_le(w, magic, 4);
    dp__put_le(w, version, 4);
    dp__put_le(w, 0, 8); /* length, patched in dp_sw_end */
}

void dp_sw_u8(dp_serial_writer *w, uint8_t v) {
    dp__put(w, &v, 1);
}
void dp_sw_u32(dp_serial_writer *w, uint32_t v) {
    dp__put_le(w, v, 4);
}
void dp_sw_u64(dp_serial_writer *w, uint64_t v) {
    dp__put_le(w, v, 8);
}
void dp_sw_i64(dp_serial_writer *w, int64_t v) {
    dp__put_le(w, (uint64_t) v, 8);
}
void dp_sw_f64(dp_serial_writer *w, double v) {
    uint64_t u;
    memcpy(&u, &v, 8);
    dp__put_le(w, u, 8);
}
void dp_sw_bytes(dp_serial_writer *w, const void *p, size_t n) {
    dp__put(w, p, n);
}
void dp_sw_f64_array(dp_serial_writer *w, const double *p, size_t n) {
    /* Host is little-endian (checked at configure time), so the bytes are the encoding. */
    size_t bytes;
    if (!dp_mul_size(n, 8, &bytes)) {
        w->failed = true;
        return;
    }
    dp__put(w, p, bytes);
}
void dp_sw_i64_array(dp_serial_writer *w, const int64_t *p, size_t n) {
    size_t bytes;
    if (!dp_mul_size(n, 8, &bytes)) {
        w->failed = true;
        return;
    }
    dp__put(w, p, bytes);
}
void dp_sw_str(dp_serial_writer *w, const char *s) {
    size_t n = strlen(s);
    if (n > UINT32_MAX) {
        w->failed = true;
        return;
    }
    dp__put_le(w, n, 4);
    dp__put(w, s, n);
}

dp_status dp_sw_end(dp_serial_writer *w, dp_error *err) {
    if (!w->failed) {
        uint64_t payload = w->out->size - w->start - 16;
        for (int i = 0; i < 8; i++)
            w->out->data[w->start + 8 + i] = (uint8_t) (payload >> (8 * i));
        uint32_t crc = dp_crc32(0, w->out->data + w->start, w->out->size - w->start);
        dp__put_le(w, crc, 4);
    }
    if (w->failed)
        return dp_error_set(err, DP_NOMEM, "out of memory while serialising state");
    return DP_OK;
}

dp_status dp_sr_begin(dp_serial_reader *r, const void *data, size_t len, uint32_t magic,
                      uint32_t max_version, const char *what, size_t *consumed_total,
                      dp_error *err) {
    memset(r, 0, sizeof *r);
    r->what = what;
    dp_cursor c;
    dp_cursor_init(&c, data, len);
    uint32_t m, v;
    uint64_t plen;
    if (!dp_cursor_u32le(&c, &m) || !dp_cursor_u32le(&c, &v) || !dp_cursor_u64le(&c, &plen))
        return dp_error_set(err, DP_TRUNCATED, "%s: record shorter than its 16-byte header (%zu)",
                            what, len);
    if (m != magic)
        return dp_error_set(err, DP_CORRUPT, "%s: bad magic 0x%08x (expected 0x%08x)", what, m,
                            magic);
    if (v == 0 || v > max_version)
        return dp_error_set(err, DP_UNSUPPORTED,
                            "%s: format version %u is not supported (this dpipe reads up to %u)",
                            what, v, max_version);
    if (plen > dp_cursor_remaining(&c) || dp_cursor_remaining(&c) - plen < 4)
        return dp_error_set(err, DP_TRUNCATED,
                            "%s: payload of %llu bytes plus checksum exceeds the %zu bytes left",
                            what, (unsigned long long) plen, dp_cursor_remaining(&c));
    const uint8_t *payload = c.p;
    uint32_t want = dp_crc32(0, data, 16 + (size_t) plen);
    uint32_t got = dp_load_u32le(payload + plen);
    if (want != got)
        return dp_error_set(err, DP_CORRUPT,
                            "%s: checksum mismatch (stored 0x%08x, computed 0x%08x)", what, got,
                            want);
    dp_cursor_init(&r->c, payload, (size_t) plen);
    r->version = v;
    if (consumed_total != NULL)
        *consumed_total = 16 + (size_t) plen + 4;
    return DP_OK;
}

#define DP__SR_LE(name, type, bytes)                                                               \
    bool name(dp_serial_reader *r, type *v) {                                                      \
        const uint8_t *p;                                                                          \
        if (r->failed || !dp_cursor_bytes(&r->c, bytes, &p)) {                                     \
            r->failed = true;                                                                      \
            return false;                                                                          \
        }                                                                                          \
        uint64_t x = 0;                                                                            \
        for (int i = (bytes) -1; i >= 0; i--)                                                      \
            x = x << 8 | p[i];                                                                     \
        *v = (type) x;                                                                             \
        return true;                                                                               \
    }
DP__SR_LE(dp_sr_u8, uint8_t, 1)
DP__SR_LE(dp_sr_u32, uint32_t, 4)
DP__SR_LE(dp_sr_u64, uint64_t, 8)
DP__SR_LE(dp_sr_i64, int64_t, 8)

bool dp_sr_f64(dp_serial_reader *r, double *v) {
    uint64_t u;
    if (!dp_sr_u64(r, &u))
        return false;
    memcpy(v, &u, 8);
    return true;
}

bool dp_sr_bytes(dp_serial_reader *r, void *dst, size_t n) {
    const uint8_t *p;
    if (r->failed || !dp_cursor_bytes(&r->c, n, &p)) {
        r->failed = true;
        return false;
    }
    if (n > 0)
        memcpy(dst, p, n);
    return true;
}

bool dp_sr_f64_array(dp_serial_reader *r, double *dst, size_t n) {
    size_t bytes;
    if (!dp_mul_size(n, 8, &bytes)) {
        r->failed = true;
        return false;
    }
    return dp_sr_bytes(r, dst, bytes);
}

bool dp_sr_i64_array(dp_serial_reader *r, int64_t *dst, size_t n) {
    size_t bytes;
    if (!dp_mul_size(n, 8, &bytes)) {
        r->failed = true;
        return false;
    }
    return dp_sr_bytes(r, dst, bytes);
}

bool dp_sr_str(dp_serial_reader *r, const char **s, size_t *n) {
    uint32_t len;
    const uint8_t *p;
    if (!dp_sr_u32(r, &len) || !dp_cursor_bytes(&r->c, len, &p)) {
        r->failed = true;
        return false;
    }
    *s = (const char *) p;
    *n = len;
    return true;
}

size_t dp_sr_remaining(const dp_serial_reader *r) {
    return dp_cursor_remaining(&r->c);
}

dp_status dp_sr_end(dp_serial_reader *r, dp_error *err) {
    if (r->failed)
        return dp_error_set(err, DP_CORRUPT, "%s: record ends before its fields do", r->what);
    if (dp_cursor_remaining(&r->c) != 0)
        return dp_error_set(err, DP_CORRUPT, "%s: %zu unexpected bytes after the fields", r->what,
                            dp_cursor_remaining(&r->c));
    return DP_OK;
}

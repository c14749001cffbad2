/* DELTA_BINARY_PACKED (int32 / int64), DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and the
 * DELTA_BINARY_PACKED int64 encoder. Spec: parquet-format Encodings.md "Delta Encoding",
 * "Delta-length byte array", "Delta Strings".
 *
 * The decoder is a small resumable state machine (struct dbp) so that the byte-array encodings
 * can stream their length arrays in chunks, and so that the exact end of an encoded run can be
 * found (the byte data of DELTA_LENGTH_BYTE_ARRAY follows it). Layout facts it relies on:
 * - values 1..total-1 live in blocks; a block exists only if it holds at least one value, so
 *   total <= 1 means a header and nothing else;
 * - the miniblock holding the last value is padded to its full size (mb_size * width / 8 bytes);
 * - the later miniblocks of the last block keep their width bytes but have no body at all,
 *   whatever those width bytes say (and their widths are not checked).
 * All arithmetic on values is unsigned, so overflow wraps like the writers' two's complement. */
#include "parquet/pq_bitpack.h"
#include "parquet/pq_encoding.h"
#include "util/dp_cursor.h"
#include "util/dp_limits.h"

#include <string.h>

/* Upper bound on the block size: real writers use 128..4096; the cap keeps every size product
 * (block size x 64 bits) far from overflow. */
#define DP__DBP_BLOCK_MAX ((uint64_t) 1 << 31)

typedef struct dbp {
    const uint8_t *data;
    size_t len;
    const char *what; /* encoding/stream name for messages */
    uint64_t block_size, n_mb, mb_size;
    uint64_t total;    /* values announced by the header */
    uint64_t produced; /* values handed out (or skipped), the header's first value included */
    uint64_t last;     /* previous value, as unsigned */
    uint64_t min_delta;
    size_t pos;       /* next block header (valid when !in_block) */
    size_t widths_at; /* the current block's width bytes */
    size_t mb_at;     /* the current miniblock's body */
    uint64_t mb;      /* index of the current miniblock in its block */
    uint64_t mb_done; /* values of the current miniblock already handed out */
    size_t mb_bytes;  /* body size of the current miniblock (valid when mb_ready) */
    int w;            /* bit width of the current miniblock (valid when mb_ready) */
    bool in_block, mb_ready;
} dbp;

static dp_status varint_error(const dbp *d, int rc, const char *field, size_t at, dp_error *err) {
    return dp_error_set(err, rc == 1 ? DP_TRUNCATED : DP_CORRUPT, "%s: %s %s at byte %zu of %zu",
                        d->what, field, rc == 1 ? "cut off" : "is an over-long varint", at, d->len);
}

static dp_status dbp_init(dbp *d, const uint8_t *data, size_t len, const char *what,
                          dp_error *err) {
    memset(d, 0, sizeof *d);
    d->data = data;
    d->len = len;
    d->what = what;
    static const char *const names[4] = {"block size", "miniblock count", "value count",
                                         "first value"};
    uint64_t h[4];
    size_t pos = 0;
    for (int i = 0; i < 4; i++) {
        size_t at = pos;
        int rc = dp__pq_read_uleb(data, len, &pos, &h[i]);
        if (rc != 0)
            return varint_error(d, rc, names[i], at, err);
    }
    if (h[0] == 0 || h[0] % 128 != 0 || h[0] > DP__DBP_BLOCK_MAX)
        return dp_error_set(err, DP_CORRUPT,
                            "%s: block size %llu is not a positive multiple of 128 up to 2^31",
                            what, (unsigned long long) h[0]);
    if (h[1] == 0 || h[1] > h[0] || h[0] % h[1] != 0 || (h[0] / h[1]) % 32 != 0)
        return dp_error_set(err, DP_CORRUPT,
                            "%s: %llu miniblocks per block of %llu values (a miniblock must hold "
                            "a multiple of 32 values)",
                            what, (unsigned long long) h[1], (unsigned long long) h[0]);
    d->block_size = h[0];
    d->n_mb = h[1];
    d->mb_size = h[0] / h[1];
    d->total = h[2];
    d->last = (uint64_t) dp_zigzag_decode(h[3]);
    d->pos = pos;
    return DP_OK;
}

/* Make the miniblock holding the next value current: parse a block header when needed, check
 * the width and that the whole (padded) body is present. */
static dp_status dbp_begin_mb(dbp *d, dp_error *err) {
    if (!d->in_block) {
        size_t at = d->pos;
        uint64_t zz;
        int rc = dp__pq_read_uleb(d->data, d->len, &d->pos, &zz);
        if (rc != 0)
            return varint_error(d, rc, "block min delta", at, err);
        if (d->len - d->pos < d->n_mb)
            return dp_error_set(err, DP_TRUNCATED,
                                "%s: block at byte %zu needs %llu bit-width bytes, %zu left",
                                d->what, at, (unsigned long long) d->n_mb, d->len - d->pos);
        d->min_delta = (uint64_t) dp_zigzag_decode(zz);
        d->widths_at = d->pos;
        d->mb_at = d->pos + (size_t) d->n_mb;
        d->mb = 0;
        d->mb_done = 0;
        d->in_block = true;
        d->mb_ready = false;
    }
    if (!d->mb_ready) {
        int w = d->data[d->widths_at + d->mb];
        if (w > 64)
            return dp_error_set(err, DP_CORRUPT, "%s: miniblock bit width %d at byte %zu above 64",
                                d->what, w, d->widths_at + (size_t) d->mb);
        size_t bytes = (size_t) (d->mb_size / 8 * (uint64_t) w);
        if (bytes > d->len - d->mb_at)
            return dp_error_set(err, DP_TRUNCATED,
                                "%s: miniblock at byte %zu (%llu values of %d bits) needs %zu "
                                "bytes, %zu left",
                                d->what, d->mb_at, (unsigned long long) d->mb_size, w, bytes,
                                d->len - d->mb_at);
        d->w = w;
        d->mb_bytes = bytes;
        d->mb_ready = true;
    }
    return DP_OK;
}

static void dbp_advance(dbp *d, uint64_t take) {
    d->mb_done += take;
    d->produced += take;
    if (d->mb_done == d->mb_size) {
        d->mb_at += d->mb_bytes;
        d->mb++;
        d->mb_done = 0;
        d->mb_ready = false;
        if (d->mb == d->n_mb) {
            d->in_block = false;
            d->pos = d->mb_at;
        }
    }
}

/* Unpack n values starting at value index `start` of a miniblock body (all of it present). */
static void unpack_from64(const uint8_t *body, size_t avail, int w, uint64_t start, uint64_t *out,
                          size_t n) {
    size_t skip = (size_t) (start / 8) * (size_t) w;
    body += skip;
    avail -= skip;
    size_t off = (size_t) (start % 8);
    if (off != 0) {
        uint64_t tmp[8];
        dp__pq_unpack64(body, avail, w, tmp, 8);
        size_t k = 8 - off < n ? 8 - off : n;
        memcpy(out, tmp + off, k * sizeof *tmp);
        out += k;
        n -= k;
        body += w;
        avail -= (size_t) w;
    }
    dp__pq_unpack64(body, avail, w, out, n);
}

static void unpack_from32(const uint8_t *body, size_t avail, int w, uint64_t start, uint32_t *out,
                          size_t n) {
    if (w > 32) {
        /* Wider than the type: legal only as a wrap-around of the deltas; take the low bits. */
        uint64_t tmp[64];
        while (n > 0) {
            size_t k = n < 64 ? n : 64;
            unpack_from64(body, avail, w, start, tmp, k);
            for (size_t i = 0; i < k; i++)
                out[i] = (uint32_t) tmp[i];
            out += k;
            n -= k;
            start += k;
        }
        return;
    }
    size_t skip = (size_t) (start / 8) * (size_t) w;
    body += skip;
    avail -= skip;
    size_t off = (size_t) (start % 8);
    if (off != 0) {
        uint32_t tmp[8];
        dp__pq_unpack32(body, avail, w, tmp, 8);
        size_t k = 8 - off < n ? 8 - off : n;
        memcpy(out, tmp + off, k * sizeof *tmp);
        out += k;
        n -= k;
        body += w;
        avail -= (size_t) w;
    }
    dp__pq_unpack32(body, avail, w, out, n);
}

/* The next n values (n <= total - produced, checked by the callers). */
static dp_status dbp_read64(dbp *d, uint64_t *out, size_t n, dp_error *err) {
    size_t i = 0;
    if (n > 0 && d->produced == 0) {
        out[0] = d->last;
        d->produced = 1;
        i = 1;
    }
    while (i < n) {
        DP_TRY(dbp_begin_mb(d, err));
        uint64_t room = d->mb_size - d->mb_done;
        size_t take = n - i < room ? n - i : (size_t) room;
        unpack_from64(d->data + d->mb_at, d->len - d->mb_at, d->w, d->mb_done, out + i, take);
        uint64_t acc = d->last, md = d->min_delta;
        for (size_t k = i; k < i + take; k++) {
            acc += md + out[k];
            out[k] = acc;
        }
        d->last = acc;
        dbp_advance(d, take);
        i += take;
    }
    return DP_OK;
}

static dp_status dbp_read32(dbp *d, uint32_t *out, size_t n, dp_error *err) {
    size_t i = 0;
    if (n > 0 && d->produced == 0) {
        out[0] = (uint32_t) d->last;
        d->produced = 1;
        i = 1;
    }
    while (i < n) {
        DP_TRY(dbp_begin_mb(d, err));
        uint64_t room = d->mb_size - d->mb_done;
        size_t take = n - i < room ? n - i : (size_t) room;
        unpack_from32(d->data + d->mb_at, d->len - d->mb_at, d->w, d->mb_done, out + i, take);
        uint32_t acc = (uint32_t) d->last, md = (uint32_t) d->min_delta;
        for (size_t k = i; k < i + take; k++) {
            acc += md + out[k];
            out[k] = acc;
        }
        d->last = acc;
        dbp_advance(d, take);
        i += take;
    }
    return DP_OK;
}

/* Skip the values not handed out (checking that their miniblocks are present) and report where
 * the encoded data ends. */
static dp_status dbp_finish(dbp *d, size_t *end, dp_error *err) {
    if (d->produced == 0 && d->total > 0)
        d->produced = 1;
    while (d->produced < d->total) {
        DP_TRY(dbp_begin_mb(d, err));
        uint64_t room = d->mb_size - d->mb_done, left = d->total - d->produced;
        dbp_advance(d, left < room ? left : room);
    }
    if (!d->in_block)
        *end = d->pos;
    else
        *end = d->mb_done > 0 ? d->mb_at + d->mb_bytes : d->mb_at;
    return DP_OK;
}

static dp_status check_count(const dbp *d, int64_t count, dp_error *err) {
    if (count < 0)
        return dp_error_set(err, DP_INVALID_ARG, "%s: negative count %lld", d->what,
                            (long long) count);
    if ((uint64_t) count > d->total)
        return dp_error_set(err, DP_TRUNCATED, "%s: header announces %llu values, %lld wanted",
                            d->what, (unsigned long long) d->total, (long long) count);
    return DP_OK;
}

dp_status dp_pq_delta_binary_decode_i32(const uint8_t *data, size_t len, int64_t count,
                                        int32_t *out, size_t *consumed, dp_error *err) {
    dbp d;
    DP_TRY(dbp_init(&d, data, len, "DELTA_BINARY_PACKED (INT32)", err));
    DP_TRY(check_count(&d, count, err));
    DP_TRY(dbp_read32(&d, (uint32_t *) out, (size_t) count, err));
    if (consumed)
        DP_TRY(dbp_finish(&d, consumed, err));
    return DP_OK;
}

dp_status dp_pq_delta_binary_decode_i64(const uint8_t *data, size_t len, int64_t count,
                                        int64_t *out, size_t *consumed, dp_error *err) {
    dbp d;
    DP_TRY(dbp_init(&d, data, len, "DELTA_BINARY_PACKED (INT64)", err));
    DP_TRY(check_count(&d, count, err));
    DP_TRY(dbp_read64(&d, (uint64_t *) out, (size_t) count, err));
    if (consumed)
        DP_TRY(dbp_finish(&d, consumed, err));
    return DP_OK;
}

/* Lengths are INT32 delta streams; chunks keep the scratch on the stack. */
#define DP__LEN_CHUNK 1024

dp_status dp_pq_delta_length_byte_array_decode(const uint8_t *data, size_t len, int64_t count,
                                               int64_t *offsets, dp_buf *heap, size_t *consumed,
                                               dp_error *err) {
    static const char what[] = "DELTA_LENGTH_BYTE_ARRAY lengths";
    dbp d;
    DP_TRY(dbp_init(&d, data, len, what, err));
    DP_TRY(check_count(&d, count, err));
    /* Offsets relative to the start of this page's bytes first; the bytes follow the lengths. */
    const size_t entry = heap->size;
    uint32_t chunk[DP__LEN_CHUNK];
    uint64_t total = 0;
    size_t n = (size_t) count;
    offsets[0] = 0;
    for (size_t i = 0; i < n;) {
        size_t k = n - i < DP__LEN_CHUNK ? n - i : DP__LEN_CHUNK;
        DP_TRY(dbp_read32(&d, chunk, k, err));
        for (size_t j = 0; j < k; j++) {
            int32_t l = (int32_t) chunk[j];
            if (l < 0)
                return dp_error_set(err, DP_CORRUPT, "%s: value %zu has length %d", what, i + j, l);
            if ((int64_t) l > DP_LIMIT_STRING_MAX)
                return dp_error_set(err, DP_LIMIT,
                                    "%s: value %zu is %d bytes, above the limit of %lld", what,
                                    i + j, l, (long long) DP_LIMIT_STRING_MAX);
            total += (uint64_t) l; /* < 2^31 * 2^31: no overflow */
            offsets[i + j + 1] = (int64_t) total;
        }
        i += k;
    }
    size_t start;
    DP_TRY(dbp_finish(&d, &start, err));
    if (total > len - start)
        return dp_error_set(err, DP_TRUNCATED,
                            "DELTA_LENGTH_BYTE_ARRAY: %lld values need %llu bytes of data at byte "
                            "%zu, %zu left",
                            (long long) count, (unsigned long long) total, start, len - start);
    if (dp_buf_append(heap, data + start, (size_t) total) != DP_OK)
        return dp_error_set(err, DP_NOMEM,
                            "DELTA_LENGTH_BYTE_ARRAY: cannot grow string heap by %llu bytes",
                            (unsigned long long) total);
    for (size_t i = 0; i <= n; i++)
        offsets[i] += (int64_t) entry;
    if (consumed)
        *consumed = start + (size_t) total;
    return DP_OK;
}

dp_status dp_pq_delta_byte_array_decode(const uint8_t *data, size_t len, int64_t count,
                                        int64_t *offsets, dp_buf *heap, size_t *consumed,
                                        dp_error *err) {
    static const char what[] = "DELTA_BYTE_ARRAY";
    dp_status st = DP_OK;
    const size_t entry = heap->size;
    size_t n = (size_t) count;
    /* 1. Prefix lengths into offsets[1..n] (scratch until step 4 overwrites them in order). */
    dbp p;
    DP_CHECK(dbp_init(&p, data, len, "DELTA_BYTE_ARRAY prefix lengths", err));
    DP_CHECK(check_count(&p, count, err));
    uint32_t chunk[DP__LEN_CHUNK];
    for (size_t i = 0; i < n;) {
        size_t k = n - i < DP__LEN_CHUNK ? n - i : DP__LEN_CHUNK;
        DP_CHECK(dbp_read32(&p, chunk, k, err));
        for (size_t j = 0; j < k; j++)
            offsets[i + j + 1] = (int32_t) chunk[j];
        i += k;
    }
    size_t s_at;
    DP_CHECK(dbp_finish(&p, &s_at, err));
    /* 2. Suffixes: a DELTA_LENGTH_BYTE_ARRAY. Find where its bytes start by skipping a copy of
     * the length stream (no unpacking). */
    dbp s, s_pass;
    DP_CHECK(dbp_init(&s, data + s_at, len - s_at, "DELTA_BYTE_ARRAY suffix lengths", err));
    DP_CHECK(check_count(&s, count, err));
    s_pass = s;
    size_t bytes_at;
    DP_CHECK(dbp_finish(&s_pass, &bytes_at, err));
    bytes_at += s_at;
    /* 3. Validate every length and size the output exactly before allocating: a few bytes of
     * lengths can describe a large expansion, and a bad one must not cost an allocation. */
    s_pass = s;
    uint64_t total = 0, suffix_total = 0, prev_len = 0;
    for (size_t i = 0; i < n;) {
        size_t k = n - i < DP__LEN_CHUNK ? n - i : DP__LEN_CHUNK;
        DP_CHECK(dbp_read32(&s_pass, chunk, k, err));
        for (size_t j = 0; j < k; j++) {
            size_t v = i + j;
            int64_t sl = (int32_t) chunk[j], pl = offsets[v + 1];
            if (pl < 0 || sl < 0)
                DP_FAIL(err, DP_CORRUPT, "%s: value %zu has prefix length %lld, suffix length %lld",
                        what, v, (long long) pl, (long long) sl);
            if ((uint64_t) pl > prev_len)
                DP_FAIL(err, DP_CORRUPT,
                        "%s: value %zu has prefix length %lld, the previous value is %llu bytes",
                        what, v, (long long) pl, (unsigned long long) prev_len);
            suffix_total += (uint64_t) sl;
            if (suffix_total > len - bytes_at)
                DP_FAIL(err, DP_TRUNCATED,
                        "%s: the suffixes of the first %zu values need %llu bytes at byte %zu, %zu "
                        "left",
                        what, v + 1, (unsigned long long) suffix_total, bytes_at, len - bytes_at);
            prev_len = (uint64_t) pl + (uint64_t) sl;
            if (prev_len > (uint64_t) DP_LIMIT_STRING_MAX)
                DP_FAIL(err, DP_LIMIT, "%s: value %zu is %llu bytes, above the limit of %lld", what,
                        v, (unsigned long long) prev_len, (long long) DP_LIMIT_STRING_MAX);
            total += prev_len;
            if (total > (uint64_t) DP_LIMIT_PAGE_MAX)
                DP_FAIL(err, DP_LIMIT,
                        "%s: the first %zu values expand to %llu bytes, above the page limit of "
                        "%lld",
                        what, v + 1, (unsigned long long) total, (long long) DP_LIMIT_PAGE_MAX);
        }
        i += k;
    }
    size_t room;
    if (!dp_add_size(entry, (size_t) total, &room) || dp_buf_reserve(heap, room) != DP_OK)
        DP_FAIL(err, DP_NOMEM, "%s: cannot grow string heap to %llu bytes", what,
                (unsigned long long) entry + total);
    /* 4. Rebuild each value from the previous one's prefix (already in the heap) and its suffix;
     * everything was checked in step 3. */
    size_t src = bytes_at, h = entry, prev = 0;
    offsets[0] = (int64_t) entry;
    for (size_t i = 0; i < n;) {
        size_t k = n - i < DP__LEN_CHUNK ? n - i : DP__LEN_CHUNK;
        DP_CHECK(dbp_read32(&s, chunk, k, err));
        for (size_t j = 0; j < k; j++) {
            size_t v = i + j, sl = chunk[j], pl = (size_t) offsets[v + 1];
            if (pl > 0)
                memcpy(heap->data + h, heap->data + h - prev, pl);
            if (sl > 0)
                memcpy(heap->data + h + pl, data + src, sl);
            src += sl;
            h += pl + sl;
            prev = pl + sl;
            offsets[v + 1] = (int64_t) h;
        }
        i += k;
    }
    heap->size = h;
    /* Exact when the headers announce `count` values; if they announce more, the suffix bytes
     * of the extra values are not measured (that would mean decoding lengths the caller did not
     * ask for, unbounded work for a lying header). */
    if (consumed)
        *consumed = src;
cleanup:
    return st;
}

/* ---- encoder: block 128, 4 miniblocks of 32 (what parquet-java and Arrow write) ---- */

static int bits_needed(uint64_t v) {
    return v == 0 ? 0 : 64 - __builtin_clzll(v);
}

dp_status dp_pq_delta_binary_encode_i64(const int64_t *values, int64_t count, dp_buf *out) {
    if (count < 0)
        return DP_INVALID_ARG;
    enum { BLOCK = 128, NMB = 4, MB = 32 };
    DP_TRY(dp__pq_put_uleb(out, BLOCK));
    DP_TRY(dp__pq_put_uleb(out, NMB));
    DP_TRY(dp__pq_put_uleb(out, (uint64_t) count));
    DP_TRY(dp__pq_put_uleb(out, dp_zigzag_encode(count > 0 ? values[0] : 0)));
    for (int64_t start = 1; start < count; start += BLOCK) {
        size_t n = (size_t) (count - start < BLOCK ? count - start : BLOCK);
        uint64_t d[BLOCK] = {0};
        int64_t min = INT64_MAX;
        for (size_t k = 0; k < n; k++) {
            d[k] =
                (uint64_t) values[start + (int64_t) k] - (uint64_t) values[start + (int64_t) k - 1];
            if ((int64_t) d[k] < min)
                min = (int64_t) d[k];
        }
        DP_TRY(dp__pq_put_uleb(out, dp_zigzag_encode(min)));
        uint8_t widths[NMB] = {0};
        for (size_t k = 0; k < n; k++) {
            d[k] -= (uint64_t) min;
            int b = bits_needed(d[k]);
            if (b > widths[k / MB])
                widths[k / MB] = (uint8_t) b;
        }
        DP_TRY(dp_buf_append(out, widths, NMB));
        for (size_t m = 0; m * MB < n; m++) {
            size_t at = out->size;
            DP_TRY(dp_buf_resize(out, at + (size_t) MB / 8 * widths[m]));
            /* d[] past n is zero: the padding of the last miniblock. */
            dp__pq_pack64(d + m * MB, MB, widths[m], out->data + at);
        }
    }
    return DP_OK;
}

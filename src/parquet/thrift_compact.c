/* Thrift compact protocol decoder and encoder (see thrift_compact.h).
 *
 * Wire format reminders (Apache Thrift "compact protocol" specification):
 * - field header: one byte, high nibble = id delta (1..15) from the previous field of the same
 *   struct, low nibble = type; delta 0 = long form, the id follows as a zigzag varint i16.
 * - bool fields carry their value in the type nibble (1 true, 2 false); bool list elements are
 *   one byte (1 true; 2, or 0 from older writers, false).
 * - i8 is one raw byte; i16/i32/i64 are zigzag LEB128 varints; double is 8 bytes little-endian.
 * - binary: varint length, bytes. list/set: one byte (size << 4 | elem type), size 15 = the size
 *   follows as a varint. map: varint size, then (size > 0) one byte (key type << 4 | value type).
 */
#include "parquet/thrift_compact.h"

#include <stdio.h>
#include <string.h>

/* ---- Decoder ---------------------------------------------------------------------------- */

void dp_thrift_reader_init(dp_thrift_reader *r, const void *data, size_t len) {
    dp_cursor_init(&r->c, data, len);
    r->depth = 0;
    r->last_id[0] = 0;
}

const char *dp_thrift_type_name(uint8_t type, char *buf, size_t n) {
    static const char *const names[] = {"stop", "bool(true)", "bool(false)", "i8",     "i16",
                                        "i32",  "i64",        "double",      "binary", "list",
                                        "set",  "map",        "struct",      "uuid"};
    if (type < DP_ARRAY_LEN(names))
        return names[type];
    snprintf(buf, n, "type %u", (unsigned) type);
    return buf;
}

static dp_status truncated(dp_thrift_reader *r, dp_error *err, const char *what) {
    return dp_error_set(err, DP_TRUNCATED, "thrift: input ends inside %s at byte offset %zu", what,
                        dp_thrift_offset(r));
}

static dp_status push(dp_thrift_reader *r, dp_error *err) {
    if (r->depth >= DP_LIMIT_THRIFT_DEPTH)
        return dp_error_set(err, DP_LIMIT,
                            "thrift: nesting deeper than %d levels at byte offset %zu",
                            DP_LIMIT_THRIFT_DEPTH, dp_thrift_offset(r));
    r->depth++;
    r->last_id[r->depth] = 0;
    return DP_OK;
}

static void pop(dp_thrift_reader *r) {
    DP_ASSERT(r->depth > 0);
    if (r->depth > 0)
        r->depth--;
}

static dp_status read_varint(dp_thrift_reader *r, uint64_t *v, dp_error *err, const char *what) {
    size_t off = dp_thrift_offset(r);
    if (dp_cursor_uleb128(&r->c, v))
        return DP_OK;
    /* Distinguish running out of bytes from an over-long (11+ byte) varint. */
    size_t left = dp_cursor_remaining(&r->c);
    size_t n = left < 10 ? left : 10;
    for (size_t i = 0; i < n; i++)
        if ((r->c.p[i] & 0x80) == 0)
            return dp_error_set(err, DP_CORRUPT, "thrift: varint (%s) too large at byte offset %zu",
                                what, off);
    if (left < 10)
        return truncated(r, err, what);
    return dp_error_set(err, DP_CORRUPT,
                        "thrift: varint (%s) longer than 10 bytes at byte offset %zu", what, off);
}

/* A zigzag varint that must fit in [min, max]. */
static dp_status read_zigzag(dp_thrift_reader *r, int64_t min, int64_t max, int64_t *out,
                             dp_error *err, const char *what) {
    size_t off = dp_thrift_offset(r);
    uint64_t u;
    DP_TRY(read_varint(r, &u, err, what));
    int64_t v = dp_zigzag_decode(u);
    if (v < min || v > max)
        return dp_error_set(err, DP_CORRUPT,
                            "thrift: %s value %lld out of range [%lld, %lld] at byte offset %zu",
                            what, (long long) v, (long long) min, (long long) max, off);
    *out = v;
    return DP_OK;
}

dp_status dp_thrift_struct_begin(dp_thrift_reader *r, dp_error *err) {
    return push(r, err);
}

void dp_thrift_struct_end(dp_thrift_reader *r) {
    pop(r);
}

void dp_thrift_list_end(dp_thrift_reader *r) {
    pop(r);
}

void dp_thrift_map_end(dp_thrift_reader *r) {
    pop(r);
}

dp_status dp_thrift_field_next(dp_thrift_reader *r, dp_thrift_field *f, dp_error *err) {
    f->offset = dp_thrift_offset(r);
    f->bool_value = false;
    uint8_t b;
    if (!dp_cursor_u8(&r->c, &b))
        return truncated(r, err, "a struct (field header)");
    if (b == 0) {
        f->type = DP_THRIFT_STOP;
        f->id = 0;
        return DP_OK;
    }
    uint8_t type = b & 0x0f;
    int delta = b >> 4;
    if (type == DP_THRIFT_STOP || type > DP_THRIFT_UUID)
        return dp_error_set(err, DP_CORRUPT, "thrift: invalid field type %u at byte offset %zu",
                            (unsigned) type, f->offset);
    int16_t *last = &r->last_id[r->depth];
    if (delta != 0) {
        int id = *last + delta;
        if (id > INT16_MAX)
            return dp_error_set(err, DP_CORRUPT,
                                "thrift: field id %d out of range at byte offset %zu", id,
                                f->offset);
        f->id = (int16_t) id;
    } else {
        int64_t id;
        DP_TRY(read_zigzag(r, INT16_MIN, INT16_MAX, &id, err, "field id"));
        f->id = (int16_t) id;
    }
    *last = f->id;
    f->type = type;
    if (type == DP_THRIFT_TRUE || type == DP_THRIFT_FALSE)
        f->bool_value = type == DP_THRIFT_TRUE;
    return DP_OK;
}

static dp_status wrong_type(const dp_thrift_field *f, const char *expected, dp_error *err) {
    char buf[16];
    return dp_error_set(
        err, DP_CORRUPT, "thrift: field %d at byte offset %zu has wire type %s, expected %s",
        (int) f->id, f->offset, dp_thrift_type_name(f->type, buf, sizeof buf), expected);
}

static dp_status read_int_value(dp_thrift_reader *r, uint8_t type, int64_t min, int64_t max,
                                int64_t *out, dp_error *err) {
    switch (type) {
    case DP_THRIFT_I8: {
        size_t off = dp_thrift_offset(r);
        uint8_t b;
        if (!dp_cursor_u8(&r->c, &b))
            return truncated(r, err, "an i8");
        int64_t v = (int8_t) b;
        if (v < min || v > max)
            return dp_error_set(err, DP_CORRUPT,
                                "thrift: i8 value %lld out of range [%lld, %lld] at byte offset "
                                "%zu",
                                (long long) v, (long long) min, (long long) max, off);
        *out = v;
        return DP_OK;
    }
    case DP_THRIFT_I16:
        return read_zigzag(r, DP_MAX(min, INT16_MIN), DP_MIN(max, INT16_MAX), out, err, "i16");
    case DP_THRIFT_I32:
        return read_zigzag(r, DP_MAX(min, INT32_MIN), DP_MIN(max, INT32_MAX), out, err, "i32");
    case DP_THRIFT_I64:
        return read_zigzag(r, min, max, out, err, "i64");
    default: {
        char buf[16];
        return dp_error_set(err, DP_CORRUPT,
                            "thrift: value at byte offset %zu has wire type %s, expected an "
                            "integer",
                            dp_thrift_offset(r), dp_thrift_type_name(type, buf, sizeof buf));
    }
    }
}

static bool is_int_type(uint8_t t) {
    return t == DP_THRIFT_I8 || t == DP_THRIFT_I16 || t == DP_THRIFT_I32 || t == DP_THRIFT_I64;
}

dp_status dp_thrift_read_bool(dp_thrift_reader *r, const dp_thrift_field *f, bool *out,
                              dp_error *err) {
    (void) r;
    if (f->type != DP_THRIFT_TRUE && f->type != DP_THRIFT_FALSE)
        return wrong_type(f, "bool", err);
    *out = f->bool_value;
    return DP_OK;
}

#define DP__READ_INT_FIELD(fn, T, lo, hi, tname)                                                   \
    dp_status fn(dp_thrift_reader *r, const dp_thrift_field *f, T *out, dp_error *err) {           \
        if (!is_int_type(f->type))                                                                 \
            return wrong_type(f, tname, err);                                                      \
        int64_t v;                                                                                 \
        DP_TRY(read_int_value(r, f->type, lo, hi, &v, err));                                       \
        *out = (T) v;                                                                              \
        return DP_OK;                                                                              \
    }

DP__READ_INT_FIELD(dp_thrift_read_i8, int8_t, INT8_MIN, INT8_MAX, "i8")
DP__READ_INT_FIELD(dp_thrift_read_i16, int16_t, INT16_MIN, INT16_MAX, "i16")
DP__READ_INT_FIELD(dp_thrift_read_i32, int32_t, INT32_MIN, INT32_MAX, "i32")
DP__READ_INT_FIELD(dp_thrift_read_i64, int64_t, INT64_MIN, INT64_MAX, "i64")

dp_status dp_thrift_elem_double(dp_thrift_reader *r, double *out, dp_error *err) {
    uint64_t u;
    if (!dp_cursor_u64le(&r->c, &u))
        return truncated(r, err, "a double");
    memcpy(out, &u, sizeof *out);
    return DP_OK;
}

dp_status dp_thrift_read_double(dp_thrift_reader *r, const dp_thrift_field *f, double *out,
                                dp_error *err) {
    if (f->type != DP_THRIFT_DOUBLE)
        return wrong_type(f, "double", err);
    return dp_thrift_elem_double(r, out, err);
}

dp_status dp_thrift_elem_binary(dp_thrift_reader *r, dp_view *out, dp_error *err) {
    size_t off = dp_thrift_offset(r);
    uint64_t len;
    DP_TRY(read_varint(r, &len, err, "binary length"));
    if (len > (uint64_t) DP_LIMIT_THRIFT_BINARY_MAX)
        return dp_error_set(err, DP_LIMIT,
                            "thrift: binary of %llu bytes at byte offset %zu exceeds the limit of "
                            "%lld bytes",
                            (unsigned long long) len, off, (long long) DP_LIMIT_THRIFT_BINARY_MAX);
    if (len > dp_cursor_remaining(&r->c))
        return dp_error_set(err, DP_TRUNCATED,
                            "thrift: binary of %llu bytes at byte offset %zu but only %zu bytes "
                            "left",
                            (unsigned long long) len, off, dp_cursor_remaining(&r->c));
    const uint8_t *p = NULL;
    (void) dp_cursor_bytes(&r->c, (size_t) len, &p);
    out->data = p;
    out->len = (size_t) len;
    return DP_OK;
}

dp_status dp_thrift_read_binary(dp_thrift_reader *r, const dp_thrift_field *f, dp_view *out,
                                dp_error *err) {
    if (f->type != DP_THRIFT_BINARY)
        return wrong_type(f, "binary", err);
    return dp_thrift_elem_binary(r, out, err);
}

dp_status dp_thrift_elem_bool(dp_thrift_reader *r, bool *out, dp_error *err) {
    size_t off = dp_thrift_offset(r);
    uint8_t b;
    if (!dp_cursor_u8(&r->c, &b))
        return truncated(r, err, "a bool");
    if (b > 2)
        return dp_error_set(err, DP_CORRUPT, "thrift: bool byte %u at byte offset %zu",
                            (unsigned) b, off);
    *out = b == 1;
    return DP_OK;
}

dp_status dp_thrift_elem_int(dp_thrift_reader *r, uint8_t type, int64_t min, int64_t max,
                             int64_t *out, dp_error *err) {
    return read_int_value(r, type, min, max, out, err);
}

/* Every element (and every map key or value) takes at least one byte, so a size above the bytes
 * left cannot be right: it is checked before any caller allocates for it. */
static dp_status check_size(dp_thrift_reader *r, uint64_t size, uint64_t bytes_per_elem, size_t off,
                            const char *what, dp_error *err) {
    if (size > (uint64_t) DP_LIMIT_THRIFT_LIST_MAX)
        return dp_error_set(err, DP_LIMIT,
                            "thrift: %s of %llu elements at byte offset %zu exceeds the limit of "
                            "%lld",
                            what, (unsigned long long) size, off,
                            (long long) DP_LIMIT_THRIFT_LIST_MAX);
    uint64_t need = size * bytes_per_elem; /* <= 2^27, no overflow */
    if (need > dp_cursor_remaining(&r->c))
        return dp_error_set(err, DP_TRUNCATED,
                            "thrift: %s of %llu elements at byte offset %zu but only %zu bytes "
                            "left",
                            what, (unsigned long long) size, off, dp_cursor_remaining(&r->c));
    return DP_OK;
}

static bool valid_elem_type(uint8_t t) {
    return t >= DP_THRIFT_TRUE && t <= DP_THRIFT_UUID;
}

dp_status dp_thrift_elem_list_begin(dp_thrift_reader *r, uint8_t *elem_type, int32_t *size,
                                    dp_error *err) {
    size_t off = dp_thrift_offset(r);
    uint8_t b;
    if (!dp_cursor_u8(&r->c, &b))
        return truncated(r, err, "a list header");
    uint8_t t = b & 0x0f;
    uint64_t n = b >> 4;
    if (n == 15)
        DP_TRY(read_varint(r, &n, err, "list size"));
    if (!valid_elem_type(t))
        return dp_error_set(err, DP_CORRUPT,
                            "thrift: invalid list element type %u at byte offset %zu", (unsigned) t,
                            off);
    DP_TRY(check_size(r, n, 1, off, "list", err));
    DP_TRY(push(r, err));
    *elem_type = t;
    *size = (int32_t) n;
    return DP_OK;
}

dp_status dp_thrift_list_begin(dp_thrift_reader *r, const dp_thrift_field *f, uint8_t *elem_type,
                               int32_t *size, dp_error *err) {
    if (f->type != DP_THRIFT_LIST && f->type != DP_THRIFT_SET)
        return wrong_type(f, "list", err);
    return dp_thrift_elem_list_begin(r, elem_type, size, err);
}

static dp_status map_header(dp_thrift_reader *r, uint8_t *key_type, uint8_t *val_type,
                            int32_t *size, dp_error *err) {
    size_t off = dp_thrift_offset(r);
    uint64_t n;
    DP_TRY(read_varint(r, &n, err, "map size"));
    uint8_t kt = 0, vt = 0;
    if (n > 0) {
        uint8_t b;
        if (!dp_cursor_u8(&r->c, &b))
            return truncated(r, err, "a map header");
        kt = b >> 4;
        vt = b & 0x0f;
        if (!valid_elem_type(kt) || !valid_elem_type(vt))
            return dp_error_set(err, DP_CORRUPT,
                                "thrift: invalid map key/value types %u/%u at byte offset %zu",
                                (unsigned) kt, (unsigned) vt, off);
    }
    DP_TRY(check_size(r, n, 2, off, "map", err));
    DP_TRY(push(r, err));
    *key_type = kt;
    *val_type = vt;
    *size = (int32_t) n;
    return DP_OK;
}

dp_status dp_thrift_map_begin(dp_thrift_reader *r, const dp_thrift_field *f, uint8_t *key_type,
                              uint8_t *val_type, int32_t *size, dp_error *err) {
    if (f->type != DP_THRIFT_MAP)
        return wrong_type(f, "map", err);
    return map_header(r, key_type, val_type, size, err);
}

static dp_status skip_struct(dp_thrift_reader *r, dp_error *err) {
    DP_TRY(dp_thrift_struct_begin(r, err));
    for (;;) {
        dp_thrift_field f;
        DP_TRY(dp_thrift_field_next(r, &f, err));
        if (f.type == DP_THRIFT_STOP)
            break;
        DP_TRY(dp_thrift_skip_field(r, &f, err));
    }
    dp_thrift_struct_end(r);
    return DP_OK;
}

/* Recursion depth is bounded by push() (DP_LIMIT_THRIFT_DEPTH). */
dp_status dp_thrift_skip(dp_thrift_reader *r, uint8_t type, dp_error *err) {
    switch (type) {
    case DP_THRIFT_TRUE:
    case DP_THRIFT_FALSE: {
        bool b;
        return dp_thrift_elem_bool(r, &b, err);
    }
    case DP_THRIFT_I8:
        if (!dp_cursor_skip(&r->c, 1))
            return truncated(r, err, "an i8");
        return DP_OK;
    case DP_THRIFT_I16:
    case DP_THRIFT_I32:
    case DP_THRIFT_I64: {
        uint64_t v;
        return read_varint(r, &v, err, "integer");
    }
    case DP_THRIFT_DOUBLE:
        if (!dp_cursor_skip(&r->c, 8))
            return truncated(r, err, "a double");
        return DP_OK;
    case DP_THRIFT_UUID:
        if (!dp_cursor_skip(&r->c, 16))
            return truncated(r, err, "a uuid");
        return DP_OK;
    case DP_THRIFT_BINARY: {
        dp_view v;
        return dp_thrift_elem_binary(r, &v, err);
    }
    case DP_THRIFT_LIST:
    case DP_THRIFT_SET: {
        uint8_t et;
        int32_t n;
        DP_TRY(dp_thrift_elem_list_begin(r, &et, &n, err));
        for (int32_t i = 0; i < n; i++)
            DP_TRY(dp_thrift_skip(r, et, err));
        dp_thrift_list_end(r);
        return DP_OK;
    }
    case DP_THRIFT_MAP: {
        uint8_t kt, vt;
        int32_t n;
        DP_TRY(map_header(r, &kt, &vt, &n, err));
        for (int32_t i = 0; i < n; i++) {
            DP_TRY(dp_thrift_skip(r, kt, err));
            DP_TRY(dp_thrift_skip(r, vt, err));
        }
        dp_thrift_map_end(r);
        return DP_OK;
    }
    case DP_THRIFT_STRUCT:
        return skip_struct(r, err);
    default:
        return dp_error_set(err, DP_CORRUPT,
                            "thrift: cannot skip a value of type %u at byte offset %zu",
                            (unsigned) type, dp_thrift_offset(r));
    }
}

dp_status dp_thrift_skip_field(dp_thrift_reader *r, const dp_thrift_field *f, dp_error *err) {
    if (f->type == DP_THRIFT_TRUE || f->type == DP_THRIFT_FALSE)
        return DP_OK; /* the value was in the header */
    return dp_thrift_skip(r, f->type, err);
}

/* ---- Encoder ---------------------------------------------------------------------------- */

void dp_thrift_writer_init(dp_thrift_writer *w, dp_buf *out) {
    w->out = out;
    w->depth = 0;
    w->last_id[0] = 0;
    w->status = DP_OK;
}

dp_status dp_thrift_writer_finish(dp_thrift_writer *w, dp_error *err) {
    if (w->status == DP_OK && w->depth != 0)
        w->status = DP_STATE;
    switch (w->status) {
    case DP_OK:
        return DP_OK;
    case DP_NOMEM:
        return dp_error_set(err, DP_NOMEM, "thrift writer: out of memory after %zu bytes",
                            w->out->size);
    case DP_LIMIT:
        return dp_error_set(err, DP_LIMIT, "thrift writer: structs nested deeper than %d",
                            DP_LIMIT_THRIFT_DEPTH);
    default:
        return dp_error_set(err, w->status,
                            "thrift writer: unbalanced struct begin/end (depth %d at the end)",
                            w->depth);
    }
}

static void put(dp_thrift_writer *w, const void *p, size_t n) {
    if (w->status != DP_OK)
        return;
    if (dp_buf_append(w->out, p, n) != DP_OK)
        w->status = DP_NOMEM;
}

static void put_u8(dp_thrift_writer *w, uint8_t b) {
    put(w, &b, 1);
}

static void put_varint(dp_thrift_writer *w, uint64_t v) {
    uint8_t tmp[10];
    size_t n = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        tmp[n++] = (uint8_t) (b | (v != 0 ? 0x80 : 0));
    } while (v != 0);
    put(w, tmp, n);
}

void dp_thrift_write_struct_begin(dp_thrift_writer *w) {
    if (w->depth >= DP_LIMIT_THRIFT_DEPTH) {
        if (w->status == DP_OK)
            w->status = DP_LIMIT;
        w->depth++; /* keep begin/end balanced for the caller */
        return;
    }
    w->depth++;
    w->last_id[w->depth] = 0;
}

void dp_thrift_write_struct_end(dp_thrift_writer *w) {
    if (w->depth <= 0) {
        if (w->status == DP_OK)
            w->status = DP_STATE;
        return;
    }
    put_u8(w, DP_THRIFT_STOP);
    w->depth--;
}

void dp_thrift_write_field_header(dp_thrift_writer *w, int16_t id, uint8_t type) {
    if (w->depth <= 0 || w->depth > DP_LIMIT_THRIFT_DEPTH) {
        if (w->status == DP_OK)
            w->status = w->depth <= 0 ? DP_STATE : DP_LIMIT;
        return;
    }
    int16_t *last = &w->last_id[w->depth];
    int delta = (int) id - (int) *last;
    if (delta > 0 && delta <= 15) {
        put_u8(w, (uint8_t) (delta << 4 | type));
    } else {
        put_u8(w, type);
        put_varint(w, dp_zigzag_encode(id));
    }
    *last = id;
}

void dp_thrift_write_field_bool(dp_thrift_writer *w, int16_t id, bool v) {
    dp_thrift_write_field_header(w, id, v ? DP_THRIFT_TRUE : DP_THRIFT_FALSE);
}

void dp_thrift_write_field_i8(dp_thrift_writer *w, int16_t id, int8_t v) {
    dp_thrift_write_field_header(w, id, DP_THRIFT_I8);
    dp_thrift_write_i8(w, v);
}

void dp_thrift_write_field_i16(dp_thrift_writer *w, int16_t id, int16_t v) {
    dp_thrift_write_field_header(w, id, DP_THRIFT_I16);
    dp_thrift_write_i16(w, v);
}

void dp_thrift_write_field_i32(dp_thrift_writer *w, int16_t id, int32_t v) {
    dp_thrift_write_field_header(w, id, DP_THRIFT_I32);
    dp_thrift_write_i32(w, v);
}

void dp_thrift_write_field_i64(dp_thrift_writer *w, int16_t id, int64_t v) {
    dp_thrift_write_field_header(w, id, DP_THRIFT_I64);
    dp_thrift_write_i64(w, v);
}

void dp_thrift_write_field_double(dp_thrift_writer *w, int16_t id, double v) {
    dp_thrift_write_field_header(w, id, DP_THRIFT_DOUBLE);
    dp_thrift_write_double(w, v);
}

void dp_thrift_write_field_binary(dp_thrift_writer *w, int16_t id, const void *p, size_t n) {
    dp_thrift_write_field_header(w, id, DP_THRIFT_BINARY);
    dp_thrift_write_binary(w, p, n);
}

void dp_thrift_write_field_string(dp_thrift_writer *w, int16_t id, const char *s) {
    dp_thrift_write_field_binary(w, id, s, strlen(s));
}

void dp_thrift_write_field_struct_begin(dp_thrift_writer *w, int16_t id) {
    dp_thrift_write_field_header(w, id, DP_THRIFT_STRUCT);
    dp_thrift_write_struct_begin(w);
}

void dp_thrift_write_field_list_begin(dp_thrift_writer *w, int16_t id, uint8_t elem_type,
                                      int32_t size) {
    dp_thrift_write_field_header(w, id, DP_THRIFT_LIST);
    dp_thrift_write_list_header(w, elem_type, size);
}

void dp_thrift_write_bool(dp_thrift_writer *w, bool v) {
    put_u8(w, v ? 1 : 2);
}

void dp_thrift_write_i8(dp_thrift_writer *w, int8_t v) {
    put_u8(w, (uint8_t) v);
}

void dp_thrift_write_i16(dp_thrift_writer *w, int16_t v) {
    put_varint(w, dp_zigzag_encode(v));
}

void dp_thrift_write_i32(dp_thrift_writer *w, int32_t v) {
    put_varint(w, dp_zigzag_encode(v));
}

void dp_thrift_write_i64(dp_thrift_writer *w, int64_t v) {
    put_varint(w, dp_zigzag_encode(v));
}

void dp_thrift_write_double(dp_thrift_writer *w, double v) {
    uint8_t b[8];
    uint64_t u;
    memcpy(&u, &v, 8);
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t) (u >> (8 * i));
    put(w, b, 8);
}

void dp_thrift_write_binary(dp_thrift_writer *w, const void *p, size_t n) {
    put_varint(w, n);
    if (n > 0)
        put(w, p, n);
}

void dp_thrift_write_list_header(dp_thrift_writer *w, uint8_t elem_type, int32_t size) {
    if (size < 0) {
        if (w->status == DP_OK)
            w->status = DP_STATE;
        return;
    }
    if (size < 15) {
        put_u8(w, (uint8_t) (size << 4 | elem_type));
    } else {
        put_u8(w, (uint8_t) (0xf0 | elem_type));
        put_varint(w, (uint64_t) size);
    }
}

void dp_thrift_write_map_header(dp_thrift_writer *w, uint8_t key_type, uint8_t val_type,
                                int32_t size) {
    if (size < 0) {
        if (w->status == DP_OK)
            w->status = DP_STATE;
        return;
    }
    put_varint(w, (uint64_t) size);
    if (size > 0)
        put_u8(w, (uint8_t) (key_type << 4 | val_type));
}

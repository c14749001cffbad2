/* thrift_compact.h: the Thrift compact protocol, as Parquet uses it for FileMetaData and page
 * headers: a decoder over untrusted bytes and an encoder into a dp_buf.
 *
 * Decoder: a dp_thrift_reader borrows [data, data + len) and never reads outside it. Structs,
 * lists, sets and maps count towards a nesting depth capped at DP_LIMIT_THRIFT_DEPTH (LIMIT when
 * exceeded, so recursion is bounded). Running out of bytes is DP_TRUNCATED (a page reader may
 * retry with a larger window); impossible values (bad type nibble, integer out of range, bad
 * bool byte) are DP_CORRUPT; a binary length or list size above dp_limits.h is DP_LIMIT. Binary
 * values are returned as views into the input. Every error message carries the byte offset.
 * Unknown fields of any type are skipped with dp_thrift_skip_field.
 *
 * Typical decode loop:
 *     DP_CHECK(dp_thrift_struct_begin(r, err));
 *     for (;;) {
 *         dp_thrift_field f;
 *         DP_CHECK(dp_thrift_field_next(r, &f, err));
 *         if (f.type == DP_THRIFT_STOP) break;
 *         switch (f.id) { case 1: DP_CHECK(dp_thrift_read_i32(r, &f, &x, err)); break;
 *                         default: DP_CHECK(dp_thrift_skip_field(r, &f, err)); }
 *     }
 *     dp_thrift_struct_end(r);
 *
 * Encoder: a dp_thrift_writer appends to a caller-owned dp_buf. Appends never fail individually;
 * the writer keeps a sticky error flag (out of memory, nesting too deep, unbalanced begin/end)
 * that dp_thrift_writer_finish reports once, so a FileMetaData or PageHeader writer can emit all
 * its fields and check one status at the end.
 *
 * Thread safety: readers and writers are plain values; one thread at a time each.
 */
#ifndef DP_PARQUET_THRIFT_COMPACT_H
#define DP_PARQUET_THRIFT_COMPACT_H

#include "util/dp_base.h"
#include "util/dp_buf.h"
#include "util/dp_cursor.h"
#include "util/dp_limits.h"

/* Compact-protocol wire types (the low nibble of a field header or a list header). */
typedef enum dp_thrift_type {
    DP_THRIFT_STOP = 0,
    DP_THRIFT_TRUE = 1, /* as a field type: a bool field whose value is true */
    DP_THRIFT_FALSE = 2,
    DP_THRIFT_I8 = 3,
    DP_THRIFT_I16 = 4,
    DP_THRIFT_I32 = 5,
    DP_THRIFT_I64 = 6,
    DP_THRIFT_DOUBLE = 7,
    DP_THRIFT_BINARY = 8,
    DP_THRIFT_LIST = 9,
    DP_THRIFT_SET = 10,
    DP_THRIFT_MAP = 11,
    DP_THRIFT_STRUCT = 12,
    DP_THRIFT_UUID = 13 /* 16 raw bytes; newer Thrift only, never in Parquet, skipped */
} dp_thrift_type;

/* Element type to use for lists of bool (both 1 and 2 are accepted when reading). */
#define DP_THRIFT_BOOL DP_THRIFT_TRUE

/* ---- Decoder ---------------------------------------------------------------------------- */

typedef struct dp_thrift_reader {
    dp_cursor c;
    int depth;                                  /* open structs + containers */
    int16_t last_id[DP_LIMIT_THRIFT_DEPTH + 1]; /* previous field id per open struct */
} dp_thrift_reader;

/* A field header. For bool fields the value travels in the header: type is DP_THRIFT_TRUE or
 * DP_THRIFT_FALSE and bool_value holds it. */
typedef struct dp_thrift_field {
    int16_t id;
    uint8_t type; /* dp_thrift_type */
    bool bool_value;
    size_t offset; /* byte offset of the header, for messages */
} dp_thrift_field;

void dp_thrift_reader_init(dp_thrift_reader *r, const void *data, size_t len);
/* Bytes consumed so far. */
static inline size_t dp_thrift_offset(const dp_thrift_reader *r) {
    return dp_cursor_offset(&r->c);
}

/* Enter a struct (top level, field value or list element). LIMIT when too deep. */
dp_status dp_thrift_struct_begin(dp_thrift_reader *r, dp_error *err) DP_MUST_USE;
/* Read the next field header of the current struct. f->type == DP_THRIFT_STOP at its end. Field
 * ids are reconstructed from deltas (short form) or read in full (long form). */
dp_status dp_thrift_field_next(dp_thrift_reader *r, dp_thrift_field *f, dp_error *err) DP_MUST_USE;
/* Leave the struct after its STOP has been read. */
void dp_thrift_struct_end(dp_thrift_reader *r);

/* Skip the value of field f (whatever its type, nested structures included). */
dp_status dp_thrift_skip_field(dp_thrift_reader *r, const dp_thrift_field *f,
                               dp_error *err) DP_MUST_USE;
/* Skip one value of the given wire type in value position (list element, map key or value);
 * bool values are one byte there. */
dp_status dp_thrift_skip(dp_thrift_reader *r, uint8_t type, dp_error *err) DP_MUST_USE;

/* Field value readers. Each checks that the field's wire type fits (CORRUPT otherwise, naming the
 * field id and offset): integer readers accept any integer wire type whose value fits the target
 * (i8 is one raw byte, i16/i32/i64 zigzag varints, range-checked). */
dp_status dp_thrift_read_bool(dp_thrift_reader *r, const dp_thrift_field *f, bool *out,
                              dp_error *err) DP_MUST_USE;
dp_status dp_thrift_read_i8(dp_thrift_reader *r, const dp_thrift_field *f, int8_t *out,
                            dp_error *err) DP_MUST_USE;
dp_status dp_thrift_read_i16(dp_thrift_reader *r, const dp_thrift_field *f, int16_t *out,
                             dp_error *err) DP_MUST_USE;
dp_status dp_thrift_read_i32(dp_thrift_reader *r, const dp_thrift_field *f, int32_t *out,
                             dp_error *err) DP_MUST_USE;
dp_status dp_thrift_read_i64(dp_thrift_reader *r, const dp_thrift_field *f, int64_t *out,
                             dp_error *err) DP_MUST_USE;
dp_status dp_thrift_read_double(dp_thrift_reader *r, const dp_thrift_field *f, double *out,
                                dp_error *err) DP_MUST_USE;
/* Binary/string: *out points into the input. Length checked against DP_LIMIT_THRIFT_BINARY_MAX
 * (LIMIT) and the bytes left (TRUNCATED). */
dp_status dp_thrift_read_binary(dp_thrift_reader *r, const dp_thrift_field *f, dp_view *out,
                                dp_error *err) DP_MUST_USE;

/* Element readers: the same values in value position (list elements, map keys and values). */
dp_status dp_thrift_elem_bool(dp_thrift_reader *r, bool *out, dp_error *err) DP_MUST_USE;
dp_status dp_thrift_elem_int(dp_thrift_reader *r, uint8_t type, int64_t min, int64_t max,
                             int64_t *out, dp_error *err) DP_MUST_USE;
dp_status dp_thrift_elem_double(dp_thrift_reader *r, double *out, dp_error *err) DP_MUST_USE;
dp_status dp_thrift_elem_binary(dp_thrift_reader *r, dp_view *out, dp_error *err) DP_MUST_USE;

/* Container headers. list_begin is for a field of type LIST or SET (CORRUPT otherwise); the size
 * is checked against DP_LIMIT_THRIFT_LIST_MAX (LIMIT) and against the bytes left (TRUNCATED:
 * every element takes at least one byte). Call list_end after the elements. elem_list_begin
 * reads a list header in value position (lists of lists). */
dp_status dp_thrift_list_begin(dp_thrift_reader *r, const dp_thrift_field *f, uint8_t *elem_type,
                               int32_t *size, dp_error *err) DP_MUST_USE;
dp_status dp_thrift_elem_list_begin(dp_thrift_reader *r, uint8_t *elem_type, int32_t *size,
                                    dp_error *err) DP_MUST_USE;
void dp_thrift_list_end(dp_thrift_reader *r);
/* Map header: size, then (when size > 0) one byte with the key and value types. Each entry takes
 * at least two bytes. Call map_end after the entries. */
dp_status dp_thrift_map_begin(dp_thrift_reader *r, const dp_thrift_field *f, uint8_t *key_type,
                              uint8_t *val_type, int32_t *size, dp_error *err) DP_MUST_USE;
void dp_thrift_map_end(dp_thrift_reader *r);

/* Short English name of a wire type ("i32", "struct", "type 14"), for messages. The returned
 * pointer is to a static string or to buf (at least 16 bytes). */
const char *dp_thrift_type_name(uint8_t type, char *buf, size_t n);

/* ---- Encoder ---------------------------------------------------------------------------- */

typedef struct dp_thrift_writer {
    dp_buf *out;
    int depth;
    int16_t last_id[DP_LIMIT_THRIFT_DEPTH + 1];
    dp_status status; /* sticky: first failure */
} dp_thrift_writer;

/* Appends to out (which keeps its current contents). */
void dp_thrift_writer_init(dp_thrift_writer *w, dp_buf *out);
/* DP_OK, or the first failure (NOMEM, LIMIT when nested too deep, STATE when begin/end are
 * unbalanced). */
dp_status dp_thrift_writer_finish(dp_thrift_writer *w, dp_error *err) DP_MUST_USE;

/* Structs: begin a top-level struct or a struct list element; end writes the STOP byte. */
void dp_thrift_write_struct_begin(dp_thrift_writer *w);
void dp_thrift_write_struct_end(dp_thrift_writer *w);
/* A raw field header (short form for deltas 1..15, else the long form). For bool fields use
 * dp_thrift_write_field_bool. */
void dp_thrift_write_field_header(dp_thrift_writer *w, int16_t id, uint8_t type);

/* Fields of the current struct. */
void dp_thrift_write_field_bool(dp_thrift_writer *w, int16_t id, bool v);
void dp_thrift_write_field_i8(dp_thrift_writer *w, int16_t id, int8_t v);
void dp_thrift_write_field_i16(dp_thrift_writer *w, int16_t id, int16_t v);
void dp_thrift_write_field_i32(dp_thrift_writer *w, int16_t id, int32_t v);
void dp_thrift_write_field_i64(dp_thrift_writer *w, int16_t id, int64_t v);
void dp_thrift_write_field_double(dp_thrift_writer *w, int16_t id, double v);
void dp_thrift_write_field_binary(dp_thrift_writer *w, int16_t id, const void *p, size_t n);
void dp_thrift_write_field_string(dp_thrift_writer *w, int16_t id, const char *s);
/* Field header + begin of a nested struct; close it with dp_thrift_write_struct_end. */
void dp_thrift_write_field_struct_begin(dp_thrift_writer *w, int16_t id);
/* Field header + list header; write `size` elements next (no end call needed). */
void dp_thrift_write_field_list_begin(dp_thrift_writer *w, int16_t id, uint8_t elem_type,
                                      int32_t size);

/* Values in value position (list elements, map entries). */
void dp_thrift_write_bool(dp_thrift_writer *w, bool v);
void dp_thrift_write_i8(dp_thrift_writer *w, int8_t v);
void dp_thrift_write_i16(dp_thrift_writer *w, int16_t v);
void dp_thrift_write_i32(dp_thrift_writer *w, int32_t v);
void dp_thrift_write_i64(dp_thrift_writer *w, int64_t v);
void dp_thrift_write_double(dp_thrift_writer *w, double v);
void dp_thrift_write_binary(dp_thrift_writer *w, const void *p, size_t n);
void dp_thrift_write_list_header(dp_thrift_writer *w, uint8_t elem_type, int32_t size);
void dp_thrift_write_map_header(dp_thrift_writer *w, uint8_t key_type, uint8_t val_type,
                                int32_t size);

#endif

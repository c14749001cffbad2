/* Parquet metadata: FileMetaData and PageHeader decoding (field ids from the official
 * parquet.thrift, apache/parquet-format), the schema tree -> leaf columns, and the consistency
 * checks that make the metadata safe to use (see pq_meta.h).
 *
 * Decoding is strict about wire types of known fields (a known field with the wrong type is
 * CORRUPT, not silently skipped), requires the fields parquet.thrift marks required (except
 * ColumnChunk.file_offset, which is deprecated), rejects duplicated list fields (which would
 * otherwise leak the first list) and skips every unknown field.
 *
 * Memory: a list size is checked against the bytes left before allocating, and the arrays
 * decoded from one footer share a budget proportional to the footer size, so a small footer
 * full of empty structs cannot make us allocate gigabytes (each decoded element is ~100-250
 * bytes, its wire form can be 1 byte).
 */
#include "parquet/pq_meta.h"
#include "parquet/thrift_compact.h"
#include "util/dp_alloc.h"
#include "util/dp_limits.h"

#include <stdio.h>
#include <string.h>

/* Budget for arrays decoded from a footer of len bytes. Real footers need 2-6x their size
 * (measured on the test corpus: the wide 1500-column files need about 4x). */
#define DP__META_BUDGET_FACTOR 16
#define DP__META_BUDGET_BASE   ((size_t) 1 << 20)

typedef struct meta_dec {
    dp_thrift_reader r;
    dp_error *err;
    size_t budget; /* bytes the decoded arrays may still take */
} meta_dec;

typedef dp_status (*field_fn)(meta_dec *d, const dp_thrift_field *f, void *obj, uint32_t *seen);

static dp_status dec_alloc(meta_dec *d, void **out, int32_t n, size_t elem, const char *what) {
    size_t bytes;
    if (!dp_mul_size((size_t) n, elem, &bytes) || bytes > d->budget)
        return dp_error_set(d->err, DP_LIMIT,
                            "%s: %d elements need more memory than a footer of this size may "
                            "(%zu bytes left of the metadata budget)",
                            what, (int) n, d->budget);
    void *p = dp_calloc(n > 0 ? (size_t) n : 1, elem);
    if (p == NULL)
        return dp_error_set(d->err, DP_NOMEM, "%s: cannot allocate %d elements", what, (int) n);
    d->budget -= bytes;
    *out = p;
    return DP_OK;
}

/* Decode a struct: calls fn for every field; fn returns DP_OK after consuming the value, or
 * DP_NOT_FOUND to have the field skipped. */
static dp_status dec_struct(meta_dec *d, void *obj, field_fn fn, uint32_t *seen) {
    DP_TRY(dp_thrift_struct_begin(&d->r, d->err));
    for (;;) {
        dp_thrift_field f;
        DP_TRY(dp_thrift_field_next(&d->r, &f, d->err));
        if (f.type == DP_THRIFT_STOP)
            break;
        dp_status st = fn(d, &f, obj, seen);
        if (st == DP_NOT_FOUND)
            st = dp_thrift_skip_field(&d->r, &f, d->err);
        if (st != DP_OK)
            return st;
    }
    dp_thrift_struct_end(&d->r);
    return DP_OK;
}

static dp_status need_struct(meta_dec *d, const dp_thrift_field *f, const char *what) {
    if (f->type == DP_THRIFT_STRUCT)
        return DP_OK;
    char buf[16];
    return dp_error_set(d->err, DP_CORRUPT,
                        "%s (field %d at byte offset %zu) has wire type %s, expected struct", what,
                        (int) f->id, f->offset, dp_thrift_type_name(f->type, buf, sizeof buf));
}

/* All bits of `required` must be in `seen`; names[i] names field id i. */
static dp_status check_required(meta_dec *d, uint32_t seen, uint32_t required, const char *what,
                                size_t offset, const char *const *names) {
    uint32_t missing = required & ~seen;
    if (missing == 0)
        return DP_OK;
    int id = __builtin_ctz(missing);
    return dp_error_set(d->err, DP_CORRUPT,
                        "%s at byte offset %zu: required field %d (%s) is missing", what, offset,
                        id, names[id]);
}

static dp_status dup_list(meta_dec *d, const dp_thrift_field *f, const char *what) {
    return dp_error_set(d->err, DP_CORRUPT, "%s: list field %d appears twice (byte offset %zu)",
                        what, (int) f->id, f->offset);
}

#define BIT(i) ((uint32_t) 1 << (i))

/* ---- Empty structs and unions ---------------------------------------------------------- */

/* The id of the (single) member of a union whose members are all empty structs. */
static dp_status union_member_fn(meta_dec *d, const dp_thrift_field *f, void *obj, uint32_t *seen) {
    (void) seen;
    DP_TRY(need_struct(d, f, "union member"));
    *(int32_t *) obj = f->id;
    return DP_NOT_FOUND; /* skip the member's contents */
}

/* ---- Statistics ------------------------------------------------------------------------ */

static dp_status statistics_fn(meta_dec *d, const dp_thrift_field *f, void *obj, uint32_t *seen) {
    dp_pq_statistics *s = obj;
    (void) seen;
    switch (f->id) {
    case 1:
        s->has_max = true;
        return dp_thrift_read_binary(&d->r, f, &s->max, d->err);
    case 2:
        s->has_min = true;
        return dp_thrift_read_binary(&d->r, f, &s->min, d->err);
    case 3:
        s->has_null_count = true;
        return dp_thrift_read_i64(&d->r, f, &s->null_count, d->err);
    case 4:
        s->has_distinct_count = true;
        return dp_thrift_read_i64(&d->r, f, &s->distinct_count, d->err);
    case 5:
        s->has_max_value = true;
        return dp_thrift_read_binary(&d->r, f, &s->max_value, d->err);
    case 6:
        s->has_min_value = true;
        return dp_thrift_read_binary(&d->r, f, &s->min_value, d->err);
    case 9:
        s->has_nan_count = true;
        return dp_thrift_read_i64(&d->r, f, &s->nan_count, d->err);
    default:
        return DP_NOT_FOUND;
    }
}

static dp_status dec_statistics(meta_dec *d, dp_pq_statistics *s) {
    uint32_t seen = 0;
    memset(s, 0, sizeof *s);
    s->present = true;
    return dec_struct(d, s, statistics_fn, &seen);
}

/* ---- LogicalType ----------------------------------------------------------------------- */

static dp_status decimal_fn(meta_dec *d, const dp_thrift_field *f, void *obj, uint32_t *seen) {
    dp_pq_logical *lt = obj;
    switch (f->id) {
    case 1:
        *seen |= BIT(1);
        return dp_thrift_read_i32(&d->r, f, &lt->decimal_scale, d->err);
    case 2:
        *seen |= BIT(2);
        return dp_thrift_read_i32(&d->r, f, &lt->decimal_precision, d->err);
    default:
        return DP_NOT_FOUND;
    }
}

static dp_status int_type_fn(meta_dec *d, const dp_thrift_field *f, void *obj, uint32_t *seen) {
    dp_pq_logical *lt = obj;
    switch (f->id) {
    case 1: {
        int8_t w;
        *seen |= BIT(1);
        DP_TRY(dp_thrift_read_i8(&d->r, f, &w, d->err));
        lt->int_bit_width = w;
        return DP_OK;
    }
    case 2:
        *seen |= BIT(2);
        return dp_thrift_read_bool(&d->r, f, &lt->int_signed, d->err);
    default:
        return DP_NOT_FOUND;
    }
}

static dp_status time_fn(meta_dec *d, const dp_thrift_field *f, void *obj, uint32_t *seen) {
    dp_pq_logical *lt = obj;
    switch (f->id) {
    case 1:
        *seen |= BIT(1);
        return dp_thrift_read_bool(&d->r, f, &lt->time_utc, d->err);
    case 2: {
        *seen |= BIT(2);
        DP_TRY(need_struct(d, f, "TimeUnit"));
        int32_t member = 0;
        uint32_t s2 = 0;
        DP_TRY(dec_struct(d, &member, union_member_fn, &s2));
        lt->time_unit = member >= 1 && member <= 3 ? member - 1 : -1;
        return DP_OK;
    }
    default:
        return DP_NOT_FOUND;
    }
}

static const char *const decimal_names[] = {"", "scale", "precision"};
static const char *const int_names[] = {"", "bitWidth", "isSigned"};
static const char *const time_names[] = {"", "isAdjustedToUTC", "unit"};

static dp_status logical_fn(meta_dec *d, const dp_thrift_field *f, void *obj, uint32_t *seen) {
    dp_pq_logical *lt = obj;
    (void) seen;
    DP_TRY(need_struct(d, f, "LogicalType member"));
    size_t off = f->offset;
    uint32_t s = 0;
    switch (f->id) {
    case DP_PQ_LT_DECIMAL:
        lt->kind = DP_PQ_LT_DECIMAL;
        DP_TRY(dec_struct(d, lt, decimal_fn, &s));
        return check_required(d, s, BIT(1) | BIT(2), "DecimalType", off, decimal_names);
    case DP_PQ_LT_INTEGER:
        lt->kind = DP_PQ_LT_INTEGER;
        DP_TRY(dec_struct(d, lt, int_type_fn, &s));
        return check_required(d, s, BIT(1) | BIT(2), "IntType", off, int_names);
    case DP_PQ_LT_TIME:
    case DP_PQ_LT_TIMESTAMP:
        lt->kind = (dp_pq_logical_kind) f->id;
        DP_TRY(dec_struct(d, lt, time_fn, &s));
        return check_required(d, s, BIT(1) | BIT(2),
                              f->id == DP_PQ_LT_TIME ? "TimeType" : "TimestampType", off,
                              time_names);
    case DP_PQ_LT_STRING:
    case DP_PQ_LT_MAP:
    case DP_PQ_LT_LIST:
    case DP_PQ_LT_ENUM:
    case DP_PQ_LT_DATE:
    case DP_PQ_LT_UNKNOWN:
    case DP_PQ_LT_JSON:
    case DP_PQ_LT_BSON:
    case DP_PQ_LT_UUID:
    case DP_PQ_LT_FLOAT16:
    case DP_PQ_LT_VARIANT:
    case DP_PQ_LT_GEOMETRY:
    case DP_PQ_LT_GEOGRAPHY:
        lt->kind = (dp_pq_logical_kind) f->id;
        return DP_NOT_FOUND; /* contents (crs, algorithm, version) not needed */
    default:
        lt->kind = DP_PQ_LT_OTHER;
        lt->other_id = f->id;
        return DP_NOT_FOUND;
    }
}

static dp_status dec_logical(meta_dec *d, dp_pq_logical *lt) {
    uint32_t seen = 0;
    memset(lt, 0, sizeof *lt);
    lt->kind = DP_PQ_LT_OTHER; /* an empty union is not a type we know */
    lt->other_id = 0;
    return dec_struct(d, lt, logical_fn, &seen);
}

/* ---- SchemaElement --------------------------------------------------------------------- */

static dp_status schema_fn(meta_dec *d, const dp_thrift_field *f, void *obj, uint32_t *seen) {
    dp_pq_schema_element *e = obj;
    int32_t v;
    switch (f->id) {
    case 1:
        DP_TRY(dp_thrift_read_i32(&d->r, f, &v, d->err));
        e->has_type = true;
        e->type = (dp_pq_physical) v;
        return DP_OK;
    case 2:
        return dp_thrift_read_i32(&d->r, f, &e->type_length, d->err);
    case 3:
        DP_TRY(dp_thrift_read_i32(&d->r, f, &v, d->err));
        e->has_repetition = true;
        e->repetition = (dp_pq_repetition) v;
        return DP_OK;
    case 4:
        *seen |= BIT(4);
        return dp_thrift_read_binary(&d->r, f, &e->name, d->err);
    case 5:
        return dp_thrift_read_i32(&d->r, f, &e->num_children, d->err);
    case 6:
        return dp_thrift_read_i32(&d->r, f, &e->converted_type, d->err);
    case 7:
        e->has_scale = true;
        return dp_thrift_read_i32(&d->r, f, &e->scale, d->err);
    case 8:
        e->has_precision = true;
        return dp_thrift_read_i32(&d->r, f, &e->precision, d->err);
    case 9:
        e->has_field_id = true;
        return dp_thrift_read_i32(&d->r, f, &e->field_id, d->err);
    case 10:
        DP_TRY(need_struct(d, f, "SchemaElement.logicalType"));
        return dec_logical(d, &e->logical);
    default:
        return DP_NOT_FOUND;
    }
}

static const char *const schema_names[] = {"", "type", "type_length", "repetition_type", "name"};

static dp_status dec_schema_element(meta_dec *d, dp_pq_schema_element *e) {
    size_t off = dp_thrift_offset(&d->r);
    uint32_t seen = 0;
    e->converted_type = DP_PQ_CT_NONE;
    e->logical.kind = DP_PQ_LT_NONE;
    DP_TRY(dec_struct(d, e, schema_fn, &seen));
    return check_required(d, seen, BIT(4), "SchemaElement", off, schema_names);
}

/* ---- KeyValue, PageEncodingStats --------------------------------------------------------- */

static dp_status kv_fn(meta_dec *d, const dp_thrift_field *f, void *obj, uint32_t *seen) {
    dp_pq_key_value *kv = obj;
    switch (f->id) {
    case 1:
        *seen |= BIT(1);
        return dp_thrift_read_binary(&d->r, f, &kv->key, d->err);
    case 2:
        kv->has_value = true;
        return dp_thrift_read_binary(&d->r, f, &kv->value, d->err);
    default:
        return DP_NOT_FOUND;
    }
}

static const char *const kv_names[] = {"", "key"};

static dp_status enc_stats_fn(meta_dec *d, const dp_thrift_field *f, void *obj, uint32_t *seen) {
    dp_pq_page_encoding_stats *s = obj;
    switch (f->id) {
    case 1:
        *seen |= BIT(1);
        return dp_thrift_read_i32(&d->r, f, &s->page_type, d->err);
    case 2:
        *seen |= BIT(2);
        return dp_thrift_read_i32(&d->r, f, &s->encoding, d->err);
    case 3:
        *seen |= BIT(3);
        return dp_thrift_read_i32(&d->r, f, &s->count, d->err);
    default:
        return DP_NOT_FOUND;
    }
}

static const char *const enc_stats_names[] = {"", "page_type", "encoding", "count"};

/* A list<struct> field decoded into a freshly allocated array of n elements of `elem` bytes. */
typedef dp_status (*elem_fn)(meta_dec *d, void *elem, int32_t index);

static dp_status dec_struct_list(meta_dec *d, const dp_thrift_field *f, void **arr, int32_t *n,
                                 size_t elem, int32_t max_n, const char *what, elem_fn fn) {
    uint8_t et;
    int32_t size;
    if (*arr != NULL)
        return dup_list(d, f, what);
    DP_TRY(dp_thrift_list_begin(&d->r, f, &et, &size, d->err));
    if (et != DP_THRIFT_STRUCT) {
        char buf[16];
        return dp_error_set(d->err, DP_CORRUPT,
                            "%s: list at byte offset %zu holds %s elements, expected structs", what,
                            f->offset, dp_thrift_type_name(et, buf, sizeof buf));
    }
    if (size > max_n)
        return dp_error_set(d->err, DP_LIMIT, "%s: %d elements exceed the limit of %d", what,
                            (int) size, (int) max_n);
    DP_TRY(dec_alloc(d, arr, size, elem, what));
    *n = size;
    for (int32_t i = 0; i < size; i++) {
        dp_status st = fn(d, (char *) *arr + (size_t) i * elem, i);
        if (st != DP_OK) {
            dp_error_prefix(d->err, "%s[%d]: ", what, (int) i);
            return st;
        }
    }
    dp_thrift_list_end(&d->r);
    return DP_OK;
}

static dp_status kv_elem(meta_dec *d, void *elem, int32_t i) {
    (void) i;
    size_t off = dp_thrift_offset(&d->r);
    uint32_t seen = 0;
    DP_TRY(dec_struct(d, elem, kv_fn, &seen));
    return check_required(d, seen, BIT(1), "KeyValue", off, kv_names);
}

static dp_status enc_stats_elem(meta_dec *d, void *elem, int32_t i) {
    (void) i;
    size_t off = dp_thrift_offset(&d->r);
    uint32_t seen = 0;
    DP_TRY(dec_struct(d, elem, enc_stats_fn, &seen));
    return check_required(d, seen, BIT(1) | BIT(2) | BIT(3), "PageEncodingStats", off,
                          enc_stats_names);
}

static dp_status schema_elem(meta_dec *d, void *elem, int32_t i) {
    (void) i;
    return dec_schema_element(d, elem);
}

static dp_status column_order_elem(meta_dec *d, void *elem, int32_t i) {
    (void) i;
    uint32_t seen = 0;
    return dec_struct(d, elem, union_member_fn, &seen);
}

/* ---- ColumnMetaData, ColumnChunk, RowGroup --------------------------------------------- */

static dp_status column_meta_fn(meta_dec *d, const dp_thrift_field *f, void *obj, uint32_t *seen) {
    dp_pq_column_meta *cm = obj;
    int32_t v;
    uint8_t et;
    int32_t size;
    if (f->id >= 1 && f->id <= 9 && f->id != 8)
        *seen |= BIT(f->id);
    switch (f->id) {
    case 1:
        DP_TRY(dp_thrift_read_i32(&d->r, f, &v, d->err));
        cm->type = (dp_pq_physical) v;
        return DP_OK;
    case 2: {
        if (cm->encodings != NULL)
            return dup_list(d, f, "ColumnMetaData.encodings");
        DP_TRY(dp_thrift_list_begin(&d->r, f, &et, &size, d->err));
        DP_TRY(dec_alloc(d, (void **) &cm->encodings, size, sizeof(int32_t),
                         "ColumnMetaData.encodings"));
        cm->n_encodings = size;
        for (int32_t i = 0; i < size; i++) {
            int64_t e;
            DP_TRY(dp_thrift_elem_int(&d->r, et, INT32_MIN, INT32_MAX, &e, d->err));
            cm->encodings[i] = (int32_t) e;
        }
        dp_thrift_list_end(&d->r);
        return DP_OK;
    }
    case 3: {
        if (cm->path != NULL)
            return dup_list(d, f, "ColumnMetaData.path_in_schema");
        DP_TRY(dp_thrift_list_begin(&d->r, f, &et, &size, d->err));
        if (et != DP_THRIFT_BINARY)
            return dp_error_set(d->err, DP_CORRUPT,
                                "ColumnMetaData.path_in_schema at byte offset %zu is not a list "
                                "of strings (element type %u)",
                                f->offset, (unsigned) et);
        DP_TRY(dec_alloc(d, (void **) &cm->path, size, sizeof(dp_view),
                         "ColumnMetaData.path_in_schema"));
        cm->n_path = size;
        for (int32_t i = 0; i < size; i++)
            DP_TRY(dp_thrift_elem_binary(&d->r, &cm->path[i], d->err));
        dp_thrift_list_end(&d->r);
        return DP_OK;
    }
    case 4:
        return dp_thrift_read_i32(&d->r, f, &cm->codec, d->err);
    case 5:
        return dp_thrift_read_i64(&d->r, f, &cm->num_values, d->err);
    case 6:
        return dp_thrift_read_i64(&d->r, f, &cm->total_uncompressed_size, d->err);
    case 7:
        return dp_thrift_read_i64(&d->r, f, &cm->total_compressed_size, d->err);
    case 9:
        return dp_thrift_read_i64(&d->r, f, &cm->data_page_offset, d->err);
    case 10:
        cm->has_index_page_offset = true;
        return dp_thrift_read_i64(&d->r, f, &cm->index_page_offset, d->err);
    case 11:
        cm->has_dictionary_page_offset = true;
        return dp_thrift_read_i64(&d->r, f, &cm->dictionary_page_offset, d->err);
    case 12:
        DP_TRY(need_struct(d, f, "ColumnMetaData.statistics"));
        if (cm->statistics.present)
            return dup_list(d, f, "ColumnMetaData.statistics");
        return dec_statistics(d, &cm->statistics);
    case 13:
        return dec_struct_list(d, f, (void **) &cm->encoding_stats, &cm->n_encoding_stats,
                               sizeof(dp_pq_page_encoding_stats), INT32_MAX,
                               "ColumnMetaData.encoding_stats", enc_stats_elem);
    default:
        return DP_NOT_FOUND;
    }
}

static const char *const column_meta_names[] = {"",
                                                "type",
                                                "encodings",
                                                "path_in_schema",
                                                "codec",
                                                "num_values",
                                                "total_uncompressed_size",
                                                "total_compressed_size",
                                                "",
                                                "data_page_offset"};

static dp_status column_chunk_fn(meta_dec *d, const dp_thrift_field *f, void *obj, uint32_t *seen) {
    dp_pq_column_chunk *cc = obj;
    (void) seen;
    switch (f->id) {
    case 1:
        cc->has_file_path = true;
        return dp_thrift_read_binary(&d->r, f, &cc->file_path, d->err);
    case 2:
        return dp_thrift_read_i64(&d->r, f, &cc->file_offset, d->err);
    case 3: {
        DP_TRY(need_struct(d, f, "ColumnChunk.meta_data"));
        if (cc->has_meta_data)
            return dup_list(d, f, "ColumnChunk.meta_data");
        cc->has_meta_data = true;
        size_t off = dp_thrift_offset(&d->r);
        uint32_t s = 0;
        DP_TRY(dec_struct(d, &cc->meta, column_meta_fn, &s));
        return check_required(d, s,
                              BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(7) | BIT(9),
                              "ColumnMetaData", off, column_meta_names);
    }
    case 8:
    case 9:
        cc->encrypted = true;
        return DP_NOT_FOUND;
    default:
        return DP_NOT_FOUND;
    }
}

static dp_status column_chunk_elem(meta_dec *d, void *elem, int32_t i) {
    (void) i;
    uint32_t seen = 0;
    return dec_struct(d, elem, column_chunk_fn, &seen);
}

static dp_status row_group_fn(meta_dec *d, const dp_thrift_field *f, void *obj, uint32_t *seen) {
    dp_pq_row_group *rg = obj;
    switch (f->id) {
    case 1:
        *seen |= BIT(1);
        return dec_struct_list(d, f, (void **) &rg->columns, &rg->n_columns,
                               sizeof(dp_pq_column_chunk), DP_LIMIT_SCHEMA_MAX, "columns",
                               column_chunk_elem);
    case 2:
        *seen |= BIT(2);
        return dp_thrift_read_i64(&d->r, f, &rg->total_byte_size, d->err);
    case 3:
        *seen |= BIT(3);
        return dp_thrift_read_i64(&d->r, f, &rg->num_rows, d->err);
    case 5:
        rg->has_file_offset = true;
        return dp_thrift_read_i64(&d->r, f, &rg->file_offset, d->err);
    case 6:
        rg->has_total_compressed_size = true;
        return dp_thrift_read_i64(&d->r, f, &rg->total_compressed_size, d->err);
    case 7: {
        int16_t o;
        DP_TRY(dp_thrift_read_i16(&d->r, f, &o, d->err));
        rg->has_ordinal = true;
        rg->ordinal = o;
        return DP_OK;
    }
    default:
        return DP_NOT_FOUND;
    }
}

static const char *const row_group_names[] = {"", "columns", "total_byte_size", "num_rows"};

static dp_status row_group_elem(meta_dec *d, void *elem, int32_t i) {
    (void) i;
    size_t off = dp_thrift_offset(&d->r);
    uint32_t seen = 0;
    DP_TRY(dec_struct(d, elem, row_group_fn, &seen));
    return check_required(d, seen, BIT(1) | BIT(2) | BIT(3), "RowGroup", off, row_group_names);
}

/* ---- FileMetaData ---------------------------------------------------------------------- */

static dp_status file_meta_fn(meta_dec *d, const dp_thrift_field *f, void *obj, uint32_t *seen) {
    dp_pq_file_meta *m = obj;
    switch (f->id) {
    case 1:
        *seen |= BIT(1);
        return dp_thrift_read_i32(&d->r, f, &m->version, d->err);
    case 2:
        *seen |= BIT(2);
        return dec_struct_list(d, f, (void **) &m->schema, &m->n_schema,
                               sizeof(dp_pq_schema_element), DP_LIMIT_SCHEMA_MAX, "schema",
                               schema_elem);
    case 3:
        *seen |= BIT(3);
        return dp_thrift_read_i64(&d->r, f, &m->num_rows, d->err);
    case 4:
        *seen |= BIT(4);
        return dec_struct_list(d, f, (void **) &m->row_groups, &m->n_row_groups,
                               sizeof(dp_pq_row_group), DP_LIMIT_ROW_GROUPS_MAX, "row group",
                               row_group_elem);
    case 5:
        return dec_struct_list(d, f, (void **) &m->kv, &m->n_kv, sizeof(dp_pq_key_value), INT32_MAX,
                               "key_value_metadata", kv_elem);
    case 6:
        m->has_created_by = true;
        return dp_thrift_read_binary(&d->r, f, &m->created_by, d->err);
    case 7:
        return dec_struct_list(d, f, (void **) &m->column_orders, &m->n_column_orders,
                               sizeof(int32_t), DP_LIMIT_SCHEMA_MAX, "column_orders",
                               column_order_elem);
    case 8:
        DP_TRY(need_struct(d, f, "FileMetaData.encryption_algorithm"));
        m->has_encryption_algorithm = true;
        return DP_NOT_FOUND;
    default:
        return DP_NOT_FOUND;
    }
}

static const char *const file_meta_names[] = {"", "version", "schema", "num_rows", "row_groups"};

dp_status dp_pq_file_meta_decode(const uint8_t *buf, size_t len, dp_pq_file_meta *out,
                                 dp_error *err) {
    meta_dec d;
    memset(out, 0, sizeof *out);
    dp_thrift_reader_init(&d.r, buf, len);
    d.err = err;
    d.budget = DP__META_BUDGET_BASE;
    if (len <= (SIZE_MAX - d.budget) / DP__META_BUDGET_FACTOR)
        d.budget += len * DP__META_BUDGET_FACTOR;
    else
        d.budget = SIZE_MAX;
    uint32_t seen = 0;
    dp_status st = dec_struct(&d, out, file_meta_fn, &seen);
    if (st == DP_OK)
        st = check_required(&d, seen, BIT(1) | BIT(2) | BIT(3) | BIT(4), "FileMetaData", 0,
                            file_meta_names);
    if (st != DP_OK) {
        dp_error_prefix(err, "FileMetaData: ");
        dp_pq_file_meta_reset(out);
    }
    return st;
}

void dp_pq_file_meta_reset(dp_pq_file_meta *m) {
    if (m == NULL)
        return;
    if (m->row_groups != NULL) {
        for (int32_t i = 0; i < m->n_row_groups; i++) {
            dp_pq_row_group *rg = &m->row_groups[i];
            if (rg->columns == NULL)
                continue;
            for (int32_t j = 0; j < rg->n_columns; j++) {
                dp_pq_column_meta *cm = &rg->columns[j].meta;
                dp_free(cm->encodings);
                dp_free(cm->path);
                dp_free(cm->encoding_stats);
            }
            dp_free(rg->columns);
        }
    }
    dp_free(m->row_groups);
    dp_free(m->schema);
    dp_free(m->kv);
    dp_free(m->column_orders);
    memset(m, 0, sizeof *m);
}

/* ---- PageHeader ------------------------------------------------------------------------ */

typedef struct page_dec {
    dp_pq_page_header *h;
    uint32_t sub_seen;
} page_dec;

static dp_status data_v1_fn(meta_dec *d, const dp_thrift_field *f, void *obj, uint32_t *seen) {
    dp_pq_page_header *h = obj;
    switch (f->id) {
    case 1:
        *seen |= BIT(1);
        return dp_thrift_read_i32(&d->r, f, &h->num_values, d->err);
    case 2:
        *seen |= BIT(2);
        return dp_thrift_read_i32(&d->r, f, &h->encoding, d->err);
    case 3:
        *seen |= BIT(3);
        return dp_thrift_read_i32(&d->r, f, &h->def_encoding, d->err);
    case 4:
        *seen |= BIT(4);
        return dp_thrift_read_i32(&d->r, f, &h->rep_encoding, d->err);
    default:
        return DP_NOT_FOUND;
    }
}

static const char *const data_v1_names[] = {
    "", "num_values", "encoding", "definition_level_encoding", "repetition_level_encoding"};

static dp_status dict_fn(meta_dec *d, const dp_thrift_field *f, void *obj, uint32_t *seen) {
    dp_pq_page_header *h = obj;
    switch (f->id) {
    case 1:
        *seen |= BIT(1);
        return dp_thrift_read_i32(&d->r, f, &h->dict_num_values, d->err);
    case 2:
        *seen |= BIT(2);
        return dp_thrift_read_i32(&d->r, f, &h->dict_encoding, d->err);
    case 3:
        return dp_thrift_read_bool(&d->r, f, &h->dict_is_sorted, d->err);
    default:
        return DP_NOT_FOUND;
    }
}

static const char *const dict_names[] = {"", "num_values", "encoding"};

static dp_status data_v2_fn(meta_dec *d, const dp_thrift_field *f, void *obj, uint32_t *seen) {
    dp_pq_page_header *h = obj;
    if (f->id >= 1 && f->id <= 6)
        *seen |= BIT(f->id);
    switch (f->id) {
    case 1:
        return dp_thrift_read_i32(&d->r, f, &h->num_values, d->err);
    case 2:
        return dp_thrift_read_i32(&d->r, f, &h->num_nulls, d->err);
    case 3:
        return dp_thrift_read_i32(&d->r, f, &h->num_rows, d->err);
    case 4:
        return dp_thrift_read_i32(&d->r, f, &h->encoding, d->err);
    case 5:
        return dp_thrift_read_i32(&d->r, f, &h->def_levels_byte_length, d->err);
    case 6:
        return dp_thrift_read_i32(&d->r, f, &h->rep_levels_byte_length, d->err);
    case 7:
        return dp_thrift_read_bool(&d->r, f, &h->is_compressed, d->err);
    default:
        return DP_NOT_FOUND;
    }
}

static const char *const data_v2_names[] = {"",
                                            "num_values",
                                            "num_nulls",
                                            "num_rows",
                                            "encoding",
                                            "definition_levels_byte_length",
                                            "repetition_levels_byte_length"};

static dp_status page_fn(meta_dec *d, const dp_thrift_field *f, void *obj, uint32_t *seen) {
    dp_pq_page_header *h = obj;
    int32_t v;
    size_t off = f->offset;
    uint32_t s = 0;
    switch (f->id) {
    case 1:
        *seen |= BIT(1);
        return dp_thrift_read_i32(&d->r, f, &h->type, d->err);
    case 2:
        *seen |= BIT(2);
        return dp_thrift_read_i32(&d->r, f, &h->uncompressed_size, d->err);
    case 3:
        *seen |= BIT(3);
        return dp_thrift_read_i32(&d->r, f, &h->compressed_size, d->err);
    case 4:
        DP_TRY(dp_thrift_read_i32(&d->r, f, &v, d->err));
        h->has_crc = true;
        h->crc = (uint32_t) v;
        return DP_OK;
    case 5:
        DP_TRY(need_struct(d, f, "PageHeader.data_page_header"));
        if (h->has_data_v1)
            return dup_list(d, f, "PageHeader.data_page_header");
        h->has_data_v1 = true;
        DP_TRY(dec_struct(d, h, data_v1_fn, &s));
        return check_required(d, s, BIT(1) | BIT(2) | BIT(3) | BIT(4), "DataPageHeader", off,
                              data_v1_names);
    case 7:
        DP_TRY(need_struct(d, f, "PageHeader.dictionary_page_header"));
        if (h->has_dict)
            return dup_list(d, f, "PageHeader.dictionary_page_header");
        h->has_dict = true;
        DP_TRY(dec_struct(d, h, dict_fn, &s));
        return check_required(d, s, BIT(1) | BIT(2), "DictionaryPageHeader", off, dict_names);
    case 8:
        DP_TRY(need_struct(d, f, "PageHeader.data_page_header_v2"));
        if (h->has_data_v2)
            return dup_list(d, f, "PageHeader.data_page_header_v2");
        h->has_data_v2 = true;
        DP_TRY(dec_struct(d, h, data_v2_fn, &s));
        return check_required(d, s, 0x7e, "DataPageHeaderV2", off, data_v2_names);
    default:
        return DP_NOT_FOUND;
    }
}

static const char *const page_names[] = {"", "type", "uncompressed_page_size",
                                         "compressed_page_size"};

static dp_status page_check(const dp_pq_page_header *h, dp_error *err) {
    if (h->compressed_size < 0 || h->uncompressed_size < 0)
        return dp_error_set(err, DP_CORRUPT,
                            "page sizes %d (compressed) / %d (uncompressed) are "
                            "negative",
                            (int) h->compressed_size, (int) h->uncompressed_size);
    if (h->compressed_size > DP_LIMIT_PAGE_MAX || h->uncompressed_size > DP_LIMIT_PAGE_MAX)
        return dp_error_set(err, DP_LIMIT,
                            "page sizes %d (compressed) / %d (uncompressed) exceed the limit of "
                            "%lld bytes",
                            (int) h->compressed_size, (int) h->uncompressed_size,
                            (long long) DP_LIMIT_PAGE_MAX);
    if ((h->type == DP_PQ_PAGE_DATA && !h->has_data_v1) ||
        (h->type == DP_PQ_PAGE_DATA_V2 && !h->has_data_v2) ||
        (h->type == DP_PQ_PAGE_DICTIONARY && !h->has_dict))
        return dp_error_set(err, DP_CORRUPT, "page of type %s has no %s header",
                            dp_pq_page_type_name(h->type), dp_pq_page_type_name(h->type));
    if ((h->has_data_v1 || h->has_data_v2) && h->num_values < 0)
        return dp_error_set(err, DP_CORRUPT, "data page header: num_values %d is negative",
                            (int) h->num_values);
    if (h->has_dict && h->dict_num_values < 0)
        return dp_error_set(err, DP_CORRUPT, "dictionary page header: num_values %d is negative",
                            (int) h->dict_num_values);
    if (h->has_data_v2) {
        if (h->num_nulls < 0 || h->num_rows < 0 || h->def_levels_byte_length < 0 ||
            h->rep_levels_byte_length < 0)
            return dp_error_set(err, DP_CORRUPT,
                                "data page v2 header: negative count (num_nulls %d, num_rows %d, "
                                "definition levels %d bytes, repetition levels %d bytes)",
                                (int) h->num_nulls, (int) h->num_rows,
                                (int) h->def_levels_byte_length, (int) h->rep_levels_byte_length);
        if (h->num_nulls > h->num_values)
            return dp_error_set(err, DP_CORRUPT,
                                "data page v2 header: num_nulls %d > num_values %d",
                                (int) h->num_nulls, (int) h->num_values);
        int64_t lv = (int64_t) h->def_levels_byte_length + h->rep_levels_byte_length;
        if (lv > h->compressed_size)
            return dp_error_set(err, DP_CORRUPT,
                                "data page v2 header: levels take %lld bytes but the page has %d",
                                (long long) lv, (int) h->compressed_size);
    }
    return DP_OK;
}

dp_status dp_pq_page_header_decode(dp_cursor *c, dp_pq_page_header *out, dp_error *err) {
    meta_dec d;
    memset(out, 0, sizeof *out);
    out->is_compressed = true;
    d.r.c = *c;
    d.r.c.start = c->p; /* offsets in messages relative to the header */
    d.r.depth = 0;
    d.r.last_id[0] = 0;
    d.err = err;
    d.budget = 0; /* page headers allocate nothing */
    uint32_t seen = 0;
    dp_status st = dec_struct(&d, out, page_fn, &seen);
    if (st == DP_OK)
        st = check_required(&d, seen, BIT(1) | BIT(2) | BIT(3), "PageHeader", 0, page_names);
    if (st == DP_OK)
        st = page_check(out, err);
    if (st != DP_OK)
        return st;
    c->p = d.r.c.p;
    return DP_OK;
}

void dp_pq_chunk_range(const dp_pq_column_meta *cm, int64_t *start, int64_t *len) {
    int64_t s = cm->data_page_offset;
    if (cm->has_dictionary_page_offset && cm->dictionary_page_offset > 0 &&
        cm->dictionary_page_offset < s)
        s = cm->dictionary_page_offset;
    *start = s;
    *len = cm->total_compressed_size;
}

/* ---- Schema -> leaf columns ------------------------------------------------------------ */

void dp_pq_columns_free(dp_pq_column_desc *cols, int32_t n_cols) {
    if (cols == NULL)
        return;
    for (int32_t i = 0; i < n_cols; i++) {
        dp_free(cols[i].path);
        dp_free(cols[i].name);
    }
    dp_free(cols);
}

static bool is_binaryish(dp_pq_physical t) {
    return t == DP_PQ_BYTE_ARRAY || t == DP_PQ_FIXED_LEN_BYTE_ARRAY;
}

static bool is_intish(dp_pq_physical t) {
    return t == DP_PQ_INT32 || t == DP_PQ_INT64;
}

static bool decimal_ok(dp_pq_physical t, int32_t scale, int32_t precision) {
    if (precision < 1 || scale < 0 || scale > precision)
        return false;
    return t == DP_PQ_INT32 || t == DP_PQ_INT64 || is_binaryish(t);
}

static dp_pq_value_kind kind_from_physical(dp_pq_physical t) {
    switch (t) {
    case DP_PQ_BOOLEAN:
        return DP_PQ_KIND_BOOL;
    case DP_PQ_INT32:
    case DP_PQ_INT64:
        return DP_PQ_KIND_INT;
    case DP_PQ_INT96:
        return DP_PQ_KIND_TEMPORAL;
    case DP_PQ_FLOAT:
    case DP_PQ_DOUBLE:
        return DP_PQ_KIND_FLOAT;
    default:
        return DP_PQ_KIND_BINARY;
    }
}

static dp_pq_value_kind kind_from_converted(dp_pq_column_desc *c, const dp_pq_schema_element *e) {
    dp_pq_physical t = c->type;
    switch (c->converted_type) {
    case DP_PQ_CT_UTF8:
    case DP_PQ_CT_ENUM:
    case DP_PQ_CT_JSON:
        return is_binaryish(t) ? DP_PQ_KIND_STRING : DP_PQ_KIND_OTHER;
    case DP_PQ_CT_BSON:
        return is_binaryish(t) ? DP_PQ_KIND_BINARY : DP_PQ_KIND_OTHER;
    case DP_PQ_CT_DECIMAL:
        c->scale = e->has_scale ? e->scale : 0;
        c->precision = e->has_precision ? e->precision : 0;
        return decimal_ok(t, c->scale, c->precision) ? DP_PQ_KIND_DECIMAL : DP_PQ_KIND_OTHER;
    case DP_PQ_CT_DATE:
    case DP_PQ_CT_TIME_MILLIS:
    case DP_PQ_CT_TIME_MICROS:
    case DP_PQ_CT_TIMESTAMP_MILLIS:
    case DP_PQ_CT_TIMESTAMP_MICROS:
    case DP_PQ_CT_INTERVAL:
        return DP_PQ_KIND_TEMPORAL;
    case DP_PQ_CT_INT_8:
    case DP_PQ_CT_INT_16:
    case DP_PQ_CT_INT_32:
    case DP_PQ_CT_INT_64:
        return is_intish(t) ? DP_PQ_KIND_INT : DP_PQ_KIND_OTHER;
    case DP_PQ_CT_UINT_8:
    case DP_PQ_CT_UINT_16:
    case DP_PQ_CT_UINT_32:
    case DP_PQ_CT_UINT_64:
        return is_intish(t) ? DP_PQ_KIND_UINT : DP_PQ_KIND_OTHER;
    case DP_PQ_CT_MAP:
    case DP_PQ_CT_MAP_KEY_VALUE:
    case DP_PQ_CT_LIST:
        return DP_PQ_KIND_OTHER;
    default: /* none, or a value newer than this reader: the physical type decides */
        return kind_from_physical(t);
    }
}

static dp_pq_value_kind kind_of(dp_pq_column_desc *c, const dp_pq_schema_element *e) {
    const dp_pq_logical *lt = &c->logical;
    dp_pq_physical t = c->type;
    switch (lt->kind) {
    case DP_PQ_LT_STRING:
    case DP_PQ_LT_ENUM:
    case DP_PQ_LT_JSON:
        return is_binaryish(t) ? DP_PQ_KIND_STRING : DP_PQ_KIND_OTHER;
    case DP_PQ_LT_BSON:
    case DP_PQ_LT_UUID:
    case DP_PQ_LT_GEOMETRY:
    case DP_PQ_LT_GEOGRAPHY:
        return is_binaryish(t) ? DP_PQ_KIND_BINARY : DP_PQ_KIND_OTHER;
    case DP_PQ_LT_DECIMAL:
        c->scale = lt->decimal_scale;
        c->precision = lt->decimal_precision;
        return decimal_ok(t, c->scale, c->precision) ? DP_PQ_KIND_DECIMAL : DP_PQ_KIND_OTHER;
    case DP_PQ_LT_DATE:
    case DP_PQ_LT_TIME:
    case DP_PQ_LT_TIMESTAMP:
        return DP_PQ_KIND_TEMPORAL;
    case DP_PQ_LT_INTEGER: {
        int w = lt->int_bit_width;
        bool ok =
            (t == DP_PQ_INT32 && (w == 8 || w == 16 || w == 32)) || (t == DP_PQ_INT64 && w == 64);
        if (!ok)
            return DP_PQ_KIND_OTHER;
        return lt->int_signed ? DP_PQ_KIND_INT : DP_PQ_KIND_UINT;
    }
    case DP_PQ_LT_UNKNOWN:
        return DP_PQ_KIND_NULL;
    case DP_PQ_LT_FLOAT16:
        return t == DP_PQ_FIXED_LEN_BYTE_ARRAY && c->type_length == 2 ? DP_PQ_KIND_FLOAT16
                                                                      : DP_PQ_KIND_OTHER;
    case DP_PQ_LT_MAP:
    case DP_PQ_LT_LIST:
    case DP_PQ_LT_VARIANT:
        return DP_PQ_KIND_OTHER;
    default: /* none, or a type newer than this reader: legacy annotation, then physical */
        return kind_from_converted(c, e);
    }
}

static dp_status fill_leaf(dp_pq_column_desc *c, const dp_pq_file_meta *m, int32_t idx,
                           const int32_t *stack, int depth, dp_error *err) {
    const dp_pq_schema_element *e = &m->schema[idx];
    dp_status st = DP_OK;
    /* Path: names of the ancestors below the root, then the leaf's. */
    size_t plen = 0;
    for (int k = 1; k <= depth; k++)
        plen += m->schema[stack[k]].name.len + 1;
    plen += e->name.len;
    c->path = dp_malloc(plen + 1);
    c->name =
        dp_strndup((const char *) e->name.data ? (const char *) e->name.data : "", e->name.len);
    if (c->path == NULL || c->name == NULL)
        DP_FAIL(err, DP_NOMEM, "schema: cannot allocate the path of column %d", (int) idx);
    size_t pos = 0;
    for (int k = 1; k <= depth; k++) {
        const dp_view *nv = &m->schema[stack[k]].name;
        if (nv->len > 0)
            memcpy(c->path + pos, nv->data, nv->len);
        pos += nv->len;
        c->path[pos++] = '.';
    }
    if (e->name.len > 0)
        memcpy(c->path + pos, e->name.data, e->name.len);
    pos += e->name.len;
    c->path[pos] = '\0';

    c->schema_index = idx;
    if ((unsigned) e->type > DP_PQ_FIXED_LEN_BYTE_ARRAY)
        DP_FAIL(err, DP_CORRUPT, "schema: column %s has physical type %d, not a Parquet type",
                c->path, (int) e->type);
    c->type = e->type;
    c->type_length = e->type_length;
    if (c->type == DP_PQ_FIXED_LEN_BYTE_ARRAY) {
        if (e->type_length <= 0)
            DP_FAIL(err, DP_CORRUPT,
                    "schema: column %s is FIXED_LEN_BYTE_ARRAY with type_length %d", c->path,
                    (int) e->type_length);
        if (e->type_length > DP_LIMIT_FLBA_MAX)
            DP_FAIL(err, DP_LIMIT,
                    "schema: column %s is FIXED_LEN_BYTE_ARRAY(%d), above the limit of %d", c->path,
                    (int) e->type_length, DP_LIMIT_FLBA_MAX);
    }
    c->repetition = e->has_repetition ? e->repetition : DP_PQ_REQUIRED;
    c->converted_type = e->converted_type;
    c->logical = e->logical;
    c->scale = 0;
    c->precision = 0;

    /* Levels: every OPTIONAL or REPEATED element on the path (the root does not count). */
    int def = 0, rep = 0;
    bool nested = depth > 0;
    for (int k = 1; k <= depth + 1; k++) {
        const dp_pq_schema_element *a = k <= depth ? &m->schema[stack[k]] : e;
        dp_pq_repetition r = a->has_repetition ? a->repetition : DP_PQ_REQUIRED;
        if (r == DP_PQ_OPTIONAL) {
            def++;
        } else if (r == DP_PQ_REPEATED) {
            def++;
            rep++;
            nested = true;
        }
    }
    if (def > INT16_MAX)
        DP_FAIL(err, DP_LIMIT, "schema: column %s is nested %d levels deep", c->path, def);
    c->max_def = (int16_t) def;
    c->max_rep = (int16_t) rep;
    c->nested = nested;
    c->kind = nested ? DP_PQ_KIND_OTHER : kind_of(c, e);
    if (nested && (c->logical.kind == DP_PQ_LT_DECIMAL || c->converted_type == DP_PQ_CT_DECIMAL))
        (void) kind_of(c, e); /* keep scale/precision for display */
    c->numeric = c->kind == DP_PQ_KIND_FLOAT || c->kind == DP_PQ_KIND_FLOAT16 ||
                 c->kind == DP_PQ_KIND_INT || c->kind == DP_PQ_KIND_UINT ||
                 c->kind == DP_PQ_KIND_DECIMAL || c->kind == DP_PQ_KIND_BOOL;
cleanup:
    return st;
}

static dp_status check_repetition(const dp_pq_file_meta *m, int32_t i, dp_error *err) {
    const dp_pq_schema_element *e = &m->schema[i];
    if (e->has_repetition && (unsigned) e->repetition > DP_PQ_REPEATED)
        return dp_error_set(err, DP_CORRUPT,
                            "schema: element %d (%.*s) has repetition type %d, not a Parquet "
                            "repetition",
                            (int) i, (int) DP_MIN(e->name.len, 200), (const char *) e->name.data,
                            (int) e->repetition);
    return DP_OK;
}

dp_status dp_pq_schema_build(const dp_pq_file_meta *m, dp_pq_column_desc **cols, int32_t *n_cols,
                             dp_error *err) {
    dp_status st = DP_OK;
    int32_t *stack = NULL;     /* schema indices of the open groups; [0] = root */
    int32_t *remaining = NULL; /* children still expected per open group */
    dp_pq_column_desc *out = NULL;
    int32_t n_out = 0;
    *cols = NULL;
    *n_cols = 0;
    int32_t n = m->n_schema;
    if (n <= 0 || m->schema == NULL)
        DP_FAIL(err, DP_CORRUPT, "schema: no elements");
    if (n > DP_LIMIT_SCHEMA_MAX)
        DP_FAIL(err, DP_LIMIT, "schema: %d elements exceed the limit of %d", (int) n,
                DP_LIMIT_SCHEMA_MAX);
    const dp_pq_schema_element *root = &m->schema[0];
    if (root->num_children < 0 || root->num_children > n - 1)
        DP_FAIL(err, DP_CORRUPT, "schema: root has %d children but only %d elements follow",
                (int) root->num_children, (int) (n - 1));
    if (root->num_children == 0 && n > 1)
        DP_FAIL(err, DP_CORRUPT, "schema: root has no children but %d elements follow",
                (int) (n - 1));

    /* Leaves are at most n - 1; the path budget bounds the bytes of all dotted paths (a deep
     * chain of long names shared by many leaves would otherwise multiply). */
    size_t name_bytes = 0;
    for (int32_t i = 0; i < n; i++)
        name_bytes += m->schema[i].name.len + 1;
    size_t path_budget = ((size_t) 1 << 20) + 64 * name_bytes;

    stack = dp_mallocarray((size_t) n, sizeof *stack);
    remaining = dp_mallocarray((size_t) n, sizeof *remaining);
    out = dp_calloc(n > 1 ? (size_t) (n - 1) : 1, sizeof *out);
    if (stack == NULL || remaining == NULL || out == NULL)
        DP_FAIL(err, DP_NOMEM, "schema: cannot allocate for %d elements", (int) n);
    int depth = 0;
    stack[0] = 0;
    remaining[0] = root->num_children;
    int32_t i = 1;
    while (depth >= 0 && i < n) {
        if (remaining[depth] == 0) {
            depth--;
            continue;
        }
        remaining[depth]--;
        const dp_pq_schema_element *e = &m->schema[i];
        DP_CHECK(check_repetition(m, i, err));
        if (e->num_children < 0)
            DP_FAIL(err, DP_CORRUPT, "schema: element %d (%.*s) has %d children", (int) i,
                    (int) DP_MIN(e->name.len, 200), (const char *) e->name.data,
                    (int) e->num_children);
        if (e->num_children > 0) {
            if (e->num_children > n - 1 - i)
                DP_FAIL(err, DP_CORRUPT,
                        "schema: element %d (%.*s) has %d children but only %d elements follow",
                        (int) i, (int) DP_MIN(e->name.len, 200), (const char *) e->name.data,
                        (int) e->num_children, (int) (n - 1 - i));
            depth++;
            stack[depth] = i;
            remaining[depth] = e->num_children;
        } else if (e->has_type) {
            dp_pq_column_desc *c = &out[n_out++];
            DP_CHECK(fill_leaf(c, m, i, stack, depth, err));
            size_t pl = strlen(c->path) + 1;
            if (pl > path_budget)
                DP_FAIL(err, DP_LIMIT, "schema: column paths take more than %zu bytes",
                        ((size_t) 1 << 20) + 64 * name_bytes);
            path_budget -= pl;
        }
        /* else: an empty group (no type, no children) holds no column. */
        i++;
    }
    /* Pop the groups that are complete. */
    while (depth >= 0 && remaining[depth] == 0)
        depth--;
    if (i < n)
        DP_FAIL(err, DP_CORRUPT,
                "schema: the tree ends after element %d but the schema has %d elements",
                (int) (i - 1), (int) n);
    if (depth >= 0)
        DP_FAIL(err, DP_CORRUPT,
                "schema: element %d expects %d more children but the schema ends after %d "
                "elements",
                (int) stack[depth], (int) remaining[depth], (int) n);
    *cols = out;
    *n_cols = n_out;
    out = NULL;
    n_out = 0;
cleanup:
    dp_free(stack);
    dp_free(remaining);
    dp_pq_columns_free(out, n_out);
    return st;
}

/* ---- Validation ------------------------------------------------------------------------ */

static bool path_matches(const dp_pq_column_meta *cm, const dp_pq_column_desc *c) {
    const char *p = c->path;
    size_t plen = strlen(p);
    size_t pos = 0;
    for (int32_t k = 0; k < cm->n_path; k++) {
        const dp_view *v = &cm->path[k];
        if (k > 0) {
            if (pos >= plen || p[pos] != '.')
                return false;
            pos++;
        }
        if (v->len > plen - pos || (v->len > 0 && memcmp(p + pos, v->data, v->len) != 0))
            return false;
        pos += v->len;
    }
    return pos == plen;
}

dp_status dp_pq_meta_validate(const dp_pq_file_meta *m, const dp_pq_column_desc *cols,
                              int32_t n_cols, uint64_t file_size, dp_error *err) {
    if (m->num_rows < 0)
        return dp_error_set(err, DP_CORRUPT, "num_rows %lld is negative", (long long) m->num_rows);
    if (m->n_row_groups > DP_LIMIT_ROW_GROUPS_MAX)
        return dp_error_set(err, DP_LIMIT, "%d row groups exceed the limit of %d",
                            (int) m->n_row_groups, DP_LIMIT_ROW_GROUPS_MAX);
    if (m->n_column_orders != 0 && m->n_column_orders != n_cols)
        return dp_error_set(err, DP_CORRUPT, "%d column orders for %d leaf columns",
                            (int) m->n_column_orders, (int) n_cols);
    /* Column data lies between the leading magic and the footer (length + magic). */
    int64_t data_end = file_size >= 12 ? (int64_t) file_size - 8 : 4;
    int64_t total_rows = 0;
    for (int32_t g = 0; g < m->n_row_groups; g++) {
        const dp_pq_row_group *rg = &m->row_groups[g];
        if (rg->n_columns != n_cols)
            return dp_error_set(err, DP_CORRUPT,
                                "row group %d has %d column chunks but the schema has %d leaf "
                                "columns",
                                (int) g, (int) rg->n_columns, (int) n_cols);
        if (rg->num_rows < 0)
            return dp_error_set(err, DP_CORRUPT, "row group %d: num_rows %lld is negative", (int) g,
                                (long long) rg->num_rows);
        if (rg->num_rows > DP_LIMIT_ROWS_PER_GROUP_MAX)
            return dp_error_set(
                err, DP_LIMIT, "row group %d: %lld rows exceed the limit of %lld per row group",
                (int) g, (long long) rg->num_rows, (long long) DP_LIMIT_ROWS_PER_GROUP_MAX);
        if (rg->total_byte_size < 0)
            return dp_error_set(err, DP_CORRUPT, "row group %d: total_byte_size %lld is negative",
                                (int) g, (long long) rg->total_byte_size);
        if (!dp_add_i64(total_rows, rg->num_rows, &total_rows))
            return dp_error_set(err, DP_CORRUPT, "row group %d: row count overflows", (int) g);
        for (int32_t j = 0; j < n_cols; j++) {
            const dp_pq_column_chunk *cc = &rg->columns[j];
            const dp_pq_column_meta *cm = &cc->meta;
            const char *path = cols[j].path;
            if (cc->encrypted && !cc->has_meta_data)
                return dp_error_set(err, DP_ENCRYPTED,
                                    "row group %d, column %s: encrypted column chunk (encrypted "
                                    "files are not supported)",
                                    (int) g, path);
            if (!cc->has_meta_data)
                return dp_error_set(err, DP_CORRUPT,
                                    "row group %d, column %s: column chunk without metadata",
                                    (int) g, path);
            if (cc->has_file_path)
                return dp_error_set(err, DP_UNSUPPORTED,
                                    "row group %d, column %s: data stored in another file "
                                    "(\"%.*s\") is not supported",
                                    (int) g, path, (int) DP_MIN(cc->file_path.len, 200),
                                    (const char *) cc->file_path.data);
            if (cm->type != cols[j].type)
                return dp_error_set(err, DP_CORRUPT,
                                    "row group %d, column %s: chunk physical type %d differs from "
                                    "the schema's %s",
                                    (int) g, path, (int) cm->type,
                                    dp_pq_physical_name(cols[j].type));
            if (!path_matches(cm, &cols[j]))
                return dp_error_set(err, DP_CORRUPT,
                                    "row group %d, column %d (%s): path_in_schema does not name "
                                    "this column",
                                    (int) g, (int) j, path);
            if (dp_pq_codec_name(cm->codec) == NULL)
                return dp_error_set(err, DP_UNSUPPORTED,
                                    "row group %d, column %s: unknown compression codec id %d",
                                    (int) g, path, (int) cm->codec);
            if (cm->num_values < 0 || cm->total_compressed_size < 0 ||
                cm->total_uncompressed_size < 0)
                return dp_error_set(err, DP_CORRUPT,
                                    "row group %d, column %s: negative count (num_values %lld, "
                                    "compressed %lld bytes, uncompressed %lld bytes)",
                                    (int) g, path, (long long) cm->num_values,
                                    (long long) cm->total_compressed_size,
                                    (long long) cm->total_uncompressed_size);
            if (cm->total_compressed_size > DP_LIMIT_CHUNK_MAX)
                return dp_error_set(err, DP_LIMIT,
                                    "row group %d, column %s: chunk of %lld bytes exceeds the "
                                    "limit of %lld",
                                    (int) g, path, (long long) cm->total_compressed_size,
                                    (long long) DP_LIMIT_CHUNK_MAX);
            if (cm->n_encoding_stats > 0) {
                for (int32_t k = 0; k < cm->n_encoding_stats; k++)
                    if (cm->encoding_stats[k].count < 0)
                        return dp_error_set(err, DP_CORRUPT,
                                            "row group %d, column %s: encoding_stats count %d is "
                                            "negative",
                                            (int) g, path, (int) cm->encoding_stats[k].count);
            }
            if (cm->statistics.has_null_count && cm->statistics.null_count < 0)
                return dp_error_set(err, DP_CORRUPT,
                                    "row group %d, column %s: statistics null_count %lld is "
                                    "negative",
                                    (int) g, path, (long long) cm->statistics.null_count);
            /* An empty chunk has no page a reader may read; writers store placeholder
             * offsets for it (Arrow writes data_page_offset 0 for zero-row files). */
            if (cm->num_values == 0)
                continue;
            int64_t start, len, end;
            dp_pq_chunk_range(cm, &start, &len);
            if (start < 4 || !dp_add_i64(start, len, &end) || end > data_end)
                return dp_error_set(err, DP_CORRUPT,
                                    "row group %d, column %s: chunk at offset %lld of %lld bytes "
                                    "lies outside the data area [4, %lld) of the file",
                                    (int) g, path, (long long) start, (long long) len,
                                    (long long) data_end);
        }
    }
    if (total_rows != m->num_rows)
        return dp_error_set(err, DP_CORRUPT,
                            "num_rows %lld differs from the sum of the row groups' rows %lld",
                            (long long) m->num_rows, (long long) total_rows);
    return DP_OK;
}

/* pq_meta.h: Parquet file metadata (FileMetaData, row groups, column chunks, schema) and page
 * headers, decoded from the Thrift compact protocol, plus the checks that make them safe to use.
 *
 * Decoding follows "peek, verify, decode": dp_pq_file_meta_decode only decodes (bounded cursor,
 * depth limit, unknown fields skipped, list sizes checked against the bytes left and
 * dp_limits.h); dp_pq_schema_build derives the leaf columns; dp_pq_meta_validate checks every
 * offset, size and count against the file size and the schema before anything is read.
 *
 * Ownership: byte fields (names, statistics, created_by) are dp_views INTO the footer buffer
 * passed to dp_pq_file_meta_decode, which must outlive the metadata. Arrays are allocated with
 * dp_malloc and released by dp_pq_file_meta_reset (safe on a zeroed struct, safe twice).
 * Thread safety: decoded metadata is immutable and may be shared by threads.
 */
#ifndef DP_PARQUET_META_H
#define DP_PARQUET_META_H

#include "parquet/pq_types.h"
#include "util/dp_base.h"
#include "util/dp_buf.h"
#include "util/dp_cursor.h"
#include "io/dp_source.h"

typedef struct dp_pq_statistics {
    bool present;
    bool has_min, has_max; /* deprecated fields 2 (min), 1 (max) */
    dp_view min, max;
    bool has_min_value, has_max_value; /* fields 6 (min_value), 5 (max_value) */
    dp_view min_value, max_value;
    bool has_null_count;
    int64_t null_count;
    bool has_distinct_count;
    int64_t distinct_count;
    bool has_nan_count; /* field 9 */
    int64_t nan_count;
} dp_pq_statistics;

typedef struct dp_pq_logical {
    dp_pq_logical_kind kind; /* DP_PQ_LT_NONE when absent */
    int32_t decimal_scale, decimal_precision;
    int32_t int_bit_width; /* INTEGER: 8, 16, 32, 64 */
    bool int_signed;
    bool time_utc;     /* TIME / TIMESTAMP isAdjustedToUTC */
    int32_t time_unit; /* 0 = millis, 1 = micros, 2 = nanos, -1 = unknown unit */
    int32_t other_id;  /* DP_PQ_LT_OTHER: the union member's field id */
} dp_pq_logical;

typedef struct dp_pq_schema_element {
    dp_view name;
    bool has_type;
    dp_pq_physical type;
    int32_t type_length; /* FIXED_LEN_BYTE_ARRAY width; 0 when absent */
    bool has_repetition;
    dp_pq_repetition repetition;
    int32_t num_children;   /* 0 = leaf */
    int32_t converted_type; /* DP_PQ_CT_NONE when absent */
    bool has_scale, has_precision;
    int32_t scale, precision;
    bool has_field_id;
    int32_t field_id;
    dp_pq_logical logical;
} dp_pq_schema_element;

typedef struct dp_pq_page_encoding_stats {
    int32_t page_type;
    int32_t encoding;
    int32_t count;
} dp_pq_page_encoding_stats;

typedef struct dp_pq_column_meta {
    dp_pq_physical type;
    int32_t *encodings;
    int32_t n_encodings;
    dp_view *path;
    int32_t n_path;
    int32_t codec;
    int64_t num_values;
    int64_t total_uncompressed_size;
    int64_t total_compressed_size;
    int64_t data_page_offset;
    bool has_index_page_offset;
    int64_t index_page_offset;
    bool has_dictionary_page_offset;
    int64_t dictionary_page_offset;
    dp_pq_statistics statistics;
    dp_pq_page_encoding_stats *encoding_stats;
    int32_t n_encoding_stats;
} dp_pq_column_meta;

typedef struct dp_pq_column_chunk {
    bool has_file_path; /* data in another file: not supported */
    dp_view file_path;
    int64_t file_offset;
    bool has_meta_data;
    dp_pq_column_meta meta;
    bool encrypted; /* crypto_metadata or encrypted_column_metadata present */
} dp_pq_column_chunk;

typedef struct dp_pq_row_group {
    dp_pq_column_chunk *columns;
    int32_t n_columns;
    int64_t total_byte_size;
    int64_t num_rows;
    bool has_file_offset;
    int64_t file_offset;
    bool has_total_compressed_size;
    int64_t total_compressed_size;
    bool has_ordinal;
    int32_t ordinal;
} dp_pq_row_group;

typedef struct dp_pq_key_value {
    dp_view key;
    bool has_value;
    dp_view value;
} dp_pq_key_value;

typedef struct dp_pq_file_meta {
    int32_t version;
    dp_pq_schema_element *schema;
    int32_t n_schema;
    int64_t num_rows;
    dp_pq_row_group *row_groups;
    int32_t n_row_groups;
    dp_pq_key_value *kv;
    int32_t n_kv;
    bool has_created_by;
    dp_view created_by;
    bool has_encryption_algorithm; /* plaintext-footer encrypted file */
    /* column_orders (field 7), one per leaf when present: the ColumnOrder union member
     * (1 TYPE_ORDER, 2 IEEE_754_TOTAL_ORDER, 3 INT96_TIMESTAMP_ORDER, other ids kept as read). */
    int32_t *column_orders;
    int32_t n_column_orders;
} dp_pq_file_meta;

/* What a leaf column reads as. */
typedef enum dp_pq_value_kind {
    DP_PQ_KIND_FLOAT,    /* FLOAT / DOUBLE -> double */
    DP_PQ_KIND_FLOAT16,  /* FLBA(2) FLOAT16 -> double */
    DP_PQ_KIND_INT,      /* signed INT32/INT64 (INT(8..64, true) or none) */
    DP_PQ_KIND_UINT,     /* INT(bits, false) / UINT_x */
    DP_PQ_KIND_DECIMAL,  /* DECIMAL on INT32/INT64/FLBA/BYTE_ARRAY -> double (exact text for cat) */
    DP_PQ_KIND_BOOL,     /* BOOLEAN -> 0/1 */
    DP_PQ_KIND_STRING,   /* BYTE_ARRAY/FLBA with STRING/UTF8/ENUM/JSON */
    DP_PQ_KIND_BINARY,   /* other BYTE_ARRAY/FLBA */
    DP_PQ_KIND_TEMPORAL, /* INT96, DATE, TIME, TIMESTAMP: shown by inspect, refused for statistics
                          */
    DP_PQ_KIND_NULL,     /* UNKNOWN logical type: every value null */
    DP_PQ_KIND_OTHER     /* nested or not readable as a flat value */
} dp_pq_value_kind;

/* A leaf column derived from the flattened schema tree. */
typedef struct dp_pq_column_desc {
    int32_t schema_index; /* into dp_pq_file_meta.schema */
    char *path;           /* "a.b.c" (dp_malloc'ed, owned by the descriptor array) */
    char *name;           /* last path component (dp_malloc'ed) */
    dp_pq_physical type;
    int32_t type_length;
    dp_pq_repetition repetition;
    int16_t max_def, max_rep;
    bool nested; /* inside a group or repeated: listed by inspect, refused by readers */
    int32_t converted_type;
    dp_pq_logical logical;
    int32_t scale, precision; /* decimal, from the logical type or the legacy fields */
    dp_pq_value_kind kind;
    bool numeric; /* kind is FLOAT, FLOAT16, INT, UINT, DECIMAL or BOOL */
} dp_pq_column_desc;

typedef struct dp_pq_page_header {
    int32_t type; /* dp_pq_page_type */
    int32_t uncompressed_size;
    int32_t compressed_size;
    bool has_crc;
    uint32_t crc;
    bool has_data_v1, has_data_v2, has_dict;
    /* DataPageHeader (v1) */
    int32_t num_values;
    int32_t encoding;
    int32_t def_encoding;
    int32_t rep_encoding;
    /* DataPageHeaderV2 (num_values and encoding above are shared) */
    int32_t num_nulls;
    int32_t num_rows;
    int32_t def_levels_byte_length;
    int32_t rep_levels_byte_length;
    bool is_compressed; /* default true */
    /* DictionaryPageHeader */
    int32_t dict_num_values;
    int32_t dict_encoding;
    bool dict_is_sorted;
} dp_pq_page_header;

/* Decode FileMetaData from buf[0..len). */
dp_status dp_pq_file_meta_decode(const uint8_t *buf, size_t len, dp_pq_file_meta *out,
                                 dp_error *err) DP_MUST_USE;
void dp_pq_file_meta_reset(dp_pq_file_meta *m);

/* Derive the leaf columns (depth-first order of the schema tree). *cols is dp_malloc'ed; free
 * it with dp_pq_columns_free. CORRUPT when num_children does not describe a tree. */
dp_status dp_pq_schema_build(const dp_pq_file_meta *m, dp_pq_column_desc **cols, int32_t *n_cols,
                             dp_error *err) DP_MUST_USE;
void dp_pq_columns_free(dp_pq_column_desc *cols, int32_t n_cols);

/* Check row groups and column chunks against the schema and the file size: one chunk per leaf
 * per row group, physical types agree, path_in_schema names the leaf, codec id known (else
 * UNSUPPORTED), chunk byte range (dp_pq_chunk_range) inside [4, file_size - 8) unless the chunk
 * has no values (readers must not read pages of an empty chunk), counts not negative and within
 * dp_limits.h, the sum of the row groups' rows == num_rows (exactly; no tolerance), column_orders
 * (when present) one per leaf. Chunks stored in another file (file_path) are UNSUPPORTED;
 * chunks without metadata are ENCRYPTED when they carry crypto metadata, else CORRUPT. */
dp_status dp_pq_meta_validate(const dp_pq_file_meta *m, const dp_pq_column_desc *cols,
                              int32_t n_cols, uint64_t file_size, dp_error *err) DP_MUST_USE;

/* Decode one PageHeader at the cursor; on success the cursor is just past it (on failure it is
 * unchanged). TRUNCATED when the header runs past the cursor's end (a reader holding only a
 * window of the chunk may retry with more bytes). Also checks what every reader relies on:
 * sizes and counts not negative (CORRUPT), sizes within DP_LIMIT_PAGE_MAX (LIMIT), the sub-header
 * matching the page type present, v2 level lengths within the compressed size. */
dp_status dp_pq_page_header_decode(dp_cursor *c, dp_pq_page_header *out, dp_error *err) DP_MUST_USE;

/* Encode FileMetaData / a PageHeader (Thrift compact protocol), appending to out: every field
 * the decoders above read, in parquet.thrift field order, so decode(encode(x)) == x for what
 * they decode. Optional fields are written when their has_ flag is set (type_length when not 0,
 * num_children for groups, converted_type when not DP_PQ_CT_NONE, LogicalType when not
 * DP_PQ_LT_NONE, dictionary is_sorted when true, v2 is_compressed when false). Encryption
 * fields are never written. DP_NOMEM on allocation failure (out keeps what was appended). */
dp_status dp_pq_file_meta_encode(const dp_pq_file_meta *m, dp_buf *out, dp_error *err) DP_MUST_USE;
dp_status dp_pq_page_header_encode(const dp_pq_page_header *h, dp_buf *out,
                                   dp_error *err) DP_MUST_USE;

/* Byte range of a column chunk in its file: it starts at the dictionary page when there is one
 * (dictionary_page_offset present, > 0 and below data_page_offset; some writers store 0 for
 * "absent"), else at data_page_offset, and is total_compressed_size bytes long. */
void dp_pq_chunk_range(const dp_pq_column_meta *cm, int64_t *start, int64_t *len);

/* Read and decode the footer of a file: checks "PAR1" at both ends ("PARE" = encrypted footer
 * -> DP_ENCRYPTED), the footer length against the file size and DP_LIMIT_FOOTER_MAX, then
 * decodes, refuses FileMetaData.encryption_algorithm (plaintext footer, encrypted columns ->
 * DP_ENCRYPTED), builds the schema and validates (column chunks must end before the footer).
 * A file that starts with "PAR1" but lacks the trailing magic (or is under 12 bytes) is
 * TRUNCATED; a FileMetaData running past the stated footer length is CORRUPT. `footer` receives
 * the footer bytes (the views in *meta point into it). Messages start with the source's name.
 * On failure everything is released (footer reset, *cols NULL, *meta zeroed). */
dp_status dp_pq_footer_read(const dp_source *src, dp_buf *footer, dp_pq_file_meta *meta,
                            dp_pq_column_desc **cols, int32_t *n_cols, dp_error *err) DP_MUST_USE;

#endif
